#!/usr/bin/env bash
# `make demo`: a local cluster (tests/cluster/up) with relops running on it.
#
#   tests/demo.sh [CLUSTER] [RELOPS-BINARY]
#
# relops keeps running after the demo; `make cluster-down` stops it with the
# cluster.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
cluster="${1:-relops}"
relops="$(cd "$(dirname "${2:-$repo/build/dev/operator/relops}")" && pwd)/$(basename "${2:-relops}")"

kubeconfig="$("$here/cluster/up" "$cluster")"
state="$(dirname "$kubeconfig")"
bin="$("$here/cluster/binaries.sh")"
export KUBECONFIG="$kubeconfig" PATH="$bin:$PATH"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "A real control plane on loopback, with kwok nodes"
kubectl get nodes

step "relops $("$relops" version | cut -d' ' -f2): CRDs, then the operator"
kubectl apply --server-side -f "$repo/crds/" >/dev/null
kubectl wait --for=condition=Established crd --all --timeout=60s >/dev/null
kubectl get crd -o custom-columns=CRD:.metadata.name | grep relops.dev
if [[ -f "$state/run/relops.pid" ]] && kill -0 "$(cat "$state/run/relops.pid")" 2>/dev/null; then
  echo "relops already running (pid $(cat "$state/run/relops.pid"))"
else
  metrics_port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  setsid "$relops" run --kubeconfig "$kubeconfig" --enable-calendars \
    --metrics-bind-address "127.0.0.1:$metrics_port" --health-probe-bind-address 0 \
    </dev/null >"$state/logs/relops.log" 2>&1 &
  echo $! >"$state/run/relops.pid"
  echo "$metrics_port" >"$state/relops-metrics-port"
  echo "relops run: pid $(cat "$state/run/relops.pid"), logs in $state/logs/relops.log"
fi
metrics_port="$(cat "$state/relops-metrics-port")"

step "An OnCallRotation: who is on call now, and the next handoff (computed by relops)"
kubectl apply -f "$repo/crds/examples/oncallrotation-minimal.yaml"
for _ in $(seq 1 50); do
  [[ "$(kubectl get oncallrotation minimal -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" == True ]] && break
  sleep 0.2
done
kubectl get relops
kubectl get oncallrotation minimal -o jsonpath='{range .status.conditions[*]}{.type}={.status} ({.reason}){"\n"}{end}'

step "Its calendar feed (first event), served by relops"
feed="$(curl -fsS "127.0.0.1:$metrics_port/calendars/default/minimal.ics")"
awk '/BEGIN:VEVENT/ {show = 1} show {print} /END:VEVENT/ {exit}' <<<"$feed"

step "relops's own metrics"
metrics="$(curl -fsS "127.0.0.1:$metrics_port/metrics")"
grep -E '^controller_runtime_reconcile_total|^rest_client_requests_total' <<<"$metrics" || true

cat <<EOF

The cluster and relops keep running. Use them with:
  export KUBECONFIG=$kubeconfig PATH=$bin:\$PATH
Stop both and remove their files with:
  make cluster-down CLUSTER=$cluster
EOF
