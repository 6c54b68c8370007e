#!/usr/bin/env bash
# Names a Python file uses but never defines (a missing import, a typo) fail here, before an
# e2e test trips over them minutes into a run. pyflakes reads every tracked .py file; its
# other findings (a fixture imported for pytest looks unused to it) are not errors.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.py' 2>/dev/null || find . -name '*.py' -not -path './build/*')
problems="$(python3 -m pyflakes "${files[@]}" 2>&1 |
  grep -E "undefined name|syntax error|invalid syntax|unexpected indent|is not defined" || true)"
if [[ -n "$problems" ]]; then
  echo "$problems"
  exit 1
fi
echo "python: ${#files[@]} files, no undefined names"
