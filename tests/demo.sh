#!/usr/bin/env bash
# `make demo`: a local cluster (tests/cluster/up) with relops shown working on it.
#
#   tests/demo.sh [CLUSTER] [RELOPS-BINARY]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cluster="${1:-relops}"
relops="${2:-$here/../build/dev/operator/relops}"

kubeconfig="$("$here/cluster/up" "$cluster")"
bin="$("$here/cluster/binaries.sh")"
export KUBECONFIG="$kubeconfig" PATH="$bin:$PATH"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "A real control plane on loopback, with kwok nodes"
kubectl version
kubectl get nodes -o wide

step "relops"
"$relops" version

cat <<EOF

The cluster keeps running. Use it with:
  export KUBECONFIG=$kubeconfig PATH=$bin:\$PATH
Stop it and remove its files with:
  make cluster-down CLUSTER=$cluster
EOF
