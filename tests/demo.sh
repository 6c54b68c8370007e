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
relops="$(cd "$(dirname "${2:-$repo/build/dev/app/relops}")" && pwd)/$(basename "${2:-relops}")"

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
  free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
  metrics_port="$(free_port)"
  calendar_port="$(free_port)"
  # The demo is local: plain-HTTP metrics, and a feed key of its own (a Secret in a cluster).
  [[ -f "$state/calendar-key" ]] || (umask 077 && python3 -c "import secrets; print(secrets.token_hex(32))" >"$state/calendar-key")
  setsid "$relops" run --kubeconfig "$kubeconfig" --metrics-secure=false \
    --calendar-bind-address "127.0.0.1:$calendar_port" --calendar-key-file "$state/calendar-key" \
    --metrics-bind-address "127.0.0.1:$metrics_port" --health-probe-bind-address 0 \
    </dev/null >"$state/logs/relops.log" 2>&1 &
  echo $! >"$state/run/relops.pid"
  echo "$metrics_port" >"$state/relops-metrics-port"
  echo "$calendar_port" >"$state/relops-calendar-port"
  echo "relops run: pid $(cat "$state/run/relops.pid"), logs in $state/logs/relops.log"
fi
metrics_port="$(cat "$state/relops-metrics-port")"
calendar_port="$(cat "$state/relops-calendar-port")"

step "An OnCallRotation: who is on call now, and the next handoff (computed by relops)"
kubectl apply -f "$repo/crds/examples/oncallrotation-minimal.yaml"
for _ in $(seq 1 50); do
  [[ "$(kubectl get oncallrotation minimal -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" == True ]] && break
  sleep 0.2
done
kubectl get relops
kubectl get oncallrotation minimal -o jsonpath='{range .status.conditions[*]}{.type}={.status} ({.reason}){"\n"}{end}'

step "Its calendar feed (first event), at the tokened path relops put in its status"
feed_path="$(kubectl get oncallrotation minimal -o jsonpath='{.status.calendarPath}')"
feed="$(curl -fsS "127.0.0.1:$calendar_port$feed_path")"
awk '/BEGIN:VEVENT/ {show = 1} show {print} /END:VEVENT/ {exit}' <<<"$feed"

step "A ServiceLevelObjective measured from cluster state, and an ErrorBudgetPolicy"
kubectl create namespace demo --dry-run=client -o yaml | kubectl apply -f - >/dev/null
kubectl apply -f - <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: demo}
spec:
  replicas: 2
  strategy: {type: Recreate}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: app, image: "nginx:1"}]
---
# 98.5% of the minutes of the last hour: 0.9 bad minutes allowed.
apiVersion: relops.dev/v1alpha1
kind: ServiceLevelObjective
metadata: {name: web-availability, namespace: demo, labels: {tier: "1"}}
spec:
  service: web
  objective: "98.5"
  window: 1h
  budgetingMethod: Timeslices
  indicator: {workload: {kind: Deployment, name: web}}
---
# The same Deployment as an SLA reads it: each calendar month in Berlin, budget reset on the 1st.
apiVersion: relops.dev/v1alpha1
kind: ServiceLevelObjective
metadata: {name: web-monthly, namespace: demo}
spec:
  service: web
  objective: "99.9"
  window: month
  timeZone: Europe/Berlin
  budgetingMethod: Timeslices
  indicator: {workload: {kind: Deployment, name: web}}
---
apiVersion: relops.dev/v1alpha1
kind: ErrorBudgetPolicy
metadata: {name: tier1-freeze, namespace: demo}
spec:
  sloSelector: {matchLabels: {tier: "1"}}
  rules:
  - {name: budget-exhausted, budgetRemainingBelow: "0", hysteresis: "5", freeze: true}
YAML
kubectl -n demo rollout status deployment/web --timeout=90s >/dev/null
if [[ "$(kubectl -n demo get errorbudgetpolicy tier1-freeze -o jsonpath='{.status.frozenCount}')" != 1 ]]; then
  step "An outage: web's new pods cannot be scheduled (relops counts bad minutes)"
  kubectl -n demo patch deployment web --type=merge \
    -p '{"spec":{"template":{"spec":{"nodeSelector":{"relops.dev/demo":"nowhere"}}}}}'
  echo "waiting for a whole bad minute to be counted (up to 2 minutes)..."
  for _ in $(seq 1 150); do
    [[ "$(kubectl -n demo get errorbudgetpolicy tier1-freeze -o jsonpath='{.status.frozenCount}')" == 1 ]] && break
    sleep 1
  done
fi
kubectl -n demo get servicelevelobjective,errorbudgetpolicy
kubectl get validatingadmissionpolicybinding

step "The API server enforces the freeze: a rollout is denied, scaling is not"
for _ in $(seq 1 20); do  # the API server sees a new binding within a second or two
  if out="$(kubectl -n demo set image deployment/web app=nginx:2 2>&1)"; then
    kubectl -n demo set image deployment/web app=nginx:1 >/dev/null; sleep 1
  else
    echo "\$ kubectl -n demo set image deployment/web app=nginx:2"; echo "$out"; break
  fi
done
echo "\$ kubectl -n demo scale deployment/web --replicas=3"
kubectl -n demo scale deployment/web --replicas=3
echo "(a hotfix passes for whoever may exempt errorbudgetpolicies in demo, a cluster admin here:"
echo " kubectl -n demo annotate deployment/web relops.dev/freeze-exempt=<ticket>)"

step "A DRDrill: a restore check run now, its RTO measured against the objective"
kubectl apply -f - <<'YAML'
apiVersion: relops.dev/v1alpha1
kind: DRDrill
metadata: {name: orders-restore, namespace: demo}
spec:
  schedule: "30 2 * * *"
  timeZone: Europe/Berlin
  objectives: {rto: 5m}
  job:
    template:
      spec:
        backoffLimit: 0
        template:
          spec:
            restartPolicy: Never
            containers: [{name: restore, image: "restore-check:1", args: [--verify-rows]}]
YAML
kubectl -n demo annotate drdrill orders-restore --overwrite "relops.dev/run-now=demo-$(date +%s)" >/dev/null
for _ in $(seq 1 60); do
  phase="$(kubectl -n demo get drdrillruns -o jsonpath='{.items[-1:].status.phase}' 2>/dev/null || true)"
  [[ "$phase" == Succeeded || "$phase" == Failed || "$phase" == Error ]] && break
  sleep 1
done
kubectl -n demo get drdrill,drdrillrun

step "What a manager reads: this month's reliability report (relops report, Markdown)"
kubectl -n demo get servicelevelobjective web-monthly \
  -o jsonpath='{.status.period.label}: {.status.period.start} to {.status.period.end}{"\n"}'
"$relops" report --kubeconfig "$kubeconfig" -n demo --format md | sed -n '1,40p'
echo "(--format html -o report.html writes the page with its charts)"

step "relops's own metrics"
metrics="$(curl -fsS "127.0.0.1:$metrics_port/metrics")"
grep -E '^controller_runtime_reconcile_total|^rest_client_requests_total|^relops_slo|^relops_drdrill' <<<"$metrics" || true

cat <<EOF

The cluster and relops keep running. Use them with:
  export KUBECONFIG=$kubeconfig PATH=$bin:\$PATH
Stop both and remove their files with:
  make cluster-down CLUSTER=$cluster
EOF
