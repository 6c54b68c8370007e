#!/usr/bin/env bash
# Builds the control-plane binaries the tests run against, from the Go module
# proxy with this machine's Go toolchain, and caches them outside the checkout.
#
#   tests/cluster/binaries.sh          build what is missing, print the bin dir
#
# Each wrapper module under gomod/ pins one component's version in its go.mod
# (the single place a version is named). The cache key is a hash of the
# module's go.mod, go.sum and sources plus the Go version, so a warm cache skips
# the build and a version bump rebuilds exactly that component.
#
# Environment:
#   RELOPS_CACHE_DIR  cache root (default ${XDG_CACHE_HOME:-~/.cache}/relops)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${RELOPS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/relops}"
export GOTOOLCHAIN=local GOFLAGS=-mod=readonly

log() { echo "binaries: $*" >&2; }

# The Go build cache of a cold build is about 4 GB and useless once the binaries
# are cached, so builds use a private one that is removed on exit. The module
# cache stays: module_version reads go.mod files from it on every run.
gocache="$cache/go-build.$$"
trap 'rm -rf "$gocache"' EXIT

module_version() { # module-dir go-module-path
  (cd "$1" && go list -m -f '{{.Version}}' "$2")
}

cache_key() { # module-dir
  (cd "$1" && cat go.mod go.sum ./*.go && go version) | sha256sum | cut -c1-12
}

# build NAME MODULE-PATH -- go build arguments...
# Builds into $cache/NAME-<version>-<key>/ unless that directory is complete.
build() {
  local name="$1" module="$2"
  shift 3
  local dir="$here/gomod/$name" version key out
  version="$(module_version "$dir" "$module")"
  key="$(cache_key "$dir")"
  out="$cache/$name-$version-$key"
  if [[ -f "$out/.complete" ]]; then
    echo "$out"
    return
  fi
  log "building $name $version (cold cache; this takes minutes)"
  local start=$SECONDS
  rm -rf "$out.tmp" && mkdir -p "$out.tmp"
  (cd "$dir" && GOCACHE="$gocache" go build -trimpath -o "$out.tmp/" "$@")
  touch "$out.tmp/.complete"
  rm -rf "$out" && mv "$out.tmp" "$out"
  log "built $name $version in $((SECONDS - start)) s"
  echo "$out"
}

kube_ldflags() {
  local version minor
  version="$(module_version "$here/gomod/kube" k8s.io/kubernetes)"
  minor="${version#v1.}"
  minor="${minor%%.*}"
  local flags="-s -w"
  for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
    flags+=" -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    flags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  echo "$flags"
}

helm_version="$(module_version "$here/gomod/helm" helm.sh/helm/v3)"

# As helm's Makefile does: the Kubernetes version `helm template` and `helm lint` assume
# without a cluster is the one its client-go module implements (client-go v0.N is 1.N), so a
# chart's kubeVersion constraint is checked against a current version, not helm's fallback 1.20.
helm_ldflags() {
  local client_go minor flags
  client_go="$(module_version "$here/gomod/helm" k8s.io/client-go)"
  minor="$(echo "$client_go" | cut -d. -f2)"
  flags="-s -w -X helm.sh/helm/v3/internal/version.version=$helm_version"
  for pkg in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
    flags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$minor"
  done
  echo "$flags"
}

kube_dir="$(build kube k8s.io/kubernetes -- -ldflags "$(kube_ldflags)" .)"
etcd_dir="$(build etcd go.etcd.io/etcd/server/v3 -- -ldflags "-s -w" .)"
kwok_dir="$(build kwok sigs.k8s.io/kwok -- -ldflags "-s -w" sigs.k8s.io/kwok/cmd/kwok)"
helm_dir="$(build helm helm.sh/helm/v3 -- -ldflags "$(helm_ldflags)" helm.sh/helm/v3/cmd/helm)"
# The Prometheus Operator renders relops's AlertmanagerConfigs for a real Alertmanager
# (tests/e2e/test_oncall_routing.py).
prometheus_operator_dir="$(build prometheus-operator \
  github.com/prometheus-operator/prometheus-operator -- -ldflags "-s -w" \
  github.com/prometheus-operator/prometheus-operator/cmd/operator)"

# kwok simulates nothing without Stage definitions. Take kwok's own "fast"
# node and pod stages (plus node heartbeats with leases) from the kwok module
# at the pinned version, as kwokctl does, into a config beside the binary.
kwok_config="$kwok_dir/kwok.yaml"
if [[ ! -s "$kwok_config" ]]; then
  kwok_src="$(cd "$here/gomod/kwok" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)"
  for stage in node/fast node/heartbeat-with-lease pod/fast; do
    for file in "$kwok_src/kustomize/stage/$stage"/*.yaml; do
      [[ "$(basename "$file")" == kustomization.yaml ]] && continue
      cat "$file"
      echo "---"
    done
  done >"$kwok_config.tmp"
  mv "$kwok_config.tmp" "$kwok_config"
fi

# One directory of links to put on PATH, named after the set it links.
set_key="$(echo "$kube_dir $etcd_dir $kwok_dir $helm_dir $prometheus_operator_dir" \
  | sha256sum | cut -c1-12)"
bin="$cache/bin-$set_key"
if [[ ! -f "$bin/.complete" ]]; then
  rm -rf "$bin" && mkdir -p "$bin"
  for component in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
    ln -s "$kube_dir/kube" "$bin/$component"
  done
  ln -s "$etcd_dir/etcd" "$bin/etcd"
  ln -s "$kwok_dir/kwok" "$bin/kwok"
  ln -s "$kwok_config" "$bin/kwok.yaml"
  ln -s "$helm_dir/helm" "$bin/helm"
  ln -s "$prometheus_operator_dir/operator" "$bin/prometheus-operator"
  touch "$bin/.complete"
fi
echo "$bin"
