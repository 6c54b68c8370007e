#!/usr/bin/env bash
# The informer benchmark for each kind relops caches in bulk: small ConfigMaps, and the
# converged ServiceLevelObjective and OnCallRotation in tests/bench/objects/ (their status
# as relops wrote it). Installs the CRDs first. One Markdown table per kind.
#
#   tests/bench/informer_bench.sh INFORMER_BENCH KUBECONFIG [OBJECTS]
set -euo pipefail
bench=$1 kubeconfig=$2 objects=${3:-10000}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
kubectl="$("$repo/tests/cluster/binaries.sh")/kubectl --kubeconfig $kubeconfig"
$kubectl apply --server-side -f "$repo/crds/" >/dev/null
$kubectl wait --for=condition=Established crd --all --timeout=120s >/dev/null
"$bench" --objects "$objects" --changes 500 --kubeconfig "$kubeconfig"
for kind in servicelevelobjective oncallrotation; do
  echo
  "$bench" --objects "$objects" --changes 500 --kubeconfig "$kubeconfig" \
    --object "$here/objects/$kind.json"
done
