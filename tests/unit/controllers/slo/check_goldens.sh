#!/usr/bin/env bash
# Runs `promtool check rules` on every golden rule file.
#   check_goldens.sh PROMTOOL GOLDEN_DIR
# *.rules.yaml are plain rule files. *.prometheusrule.yaml are PrometheusRule objects:
# their `spec:` (written by relops's deterministic emitter at the top level, its body
# indented by two spaces) is a rule file once de-indented. *.configmap.yaml hold a rule
# file as a literal block under data (indented by four spaces).
set -euo pipefail
promtool="$1"
golden_dir="$2"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

checked=0
for file in "$golden_dir"/*.rules.yaml "$golden_dir"/*.prometheusrule.yaml \
  "$golden_dir"/*.configmap.yaml; do
  [[ -e "$file" ]] || continue
  target="$file"
  if [[ "$file" == *.prometheusrule.yaml ]]; then
    target="$work/$(basename "$file" .prometheusrule.yaml).rules.yaml"
    awk '/^spec:/ {in_spec = 1; next} /^[^ ]/ {in_spec = 0} in_spec {sub(/^  /, ""); print}' \
      "$file" >"$target"
  elif [[ "$file" == *.configmap.yaml ]]; then
    target="$work/$(basename "$file" .configmap.yaml).rules.yaml"
    awk '/^  [^ ].*: \|-?$/ {in_block = 1; next} /^([^ ]| [^ ]|  [^ ]|   [^ ])/ {in_block = 0}
         in_block {sub(/^    /, ""); print}' "$file" >"$target"
  fi
  if [[ ! -s "$target" ]]; then
    echo "check_goldens: $file holds no rule file" >&2
    exit 1
  fi
  "$promtool" check rules "$target"
  checked=$((checked + 1))
done
if ((checked == 0)); then
  echo "check_goldens: no golden rule files in $golden_dir" >&2
  exit 1
fi
echo "check_goldens: $checked rule files valid"
