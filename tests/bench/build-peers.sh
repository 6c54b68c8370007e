#!/usr/bin/env bash
# Builds the peer SLO operators the scale benchmark measures beside relops
# (scale_bench.py --peer), from local bare clones of their repositories, with
# their Go dependencies from the Go module proxy.
#
#   MIRROR_ROOT=DIR tests/bench/build-peers.sh [pyrra] [sloth]    (default: both)
#
# DIR holds one bare clone per peer, in DIR/<owner>+<name>/repo:
#   git clone --bare https://github.com/pyrra-dev/pyrra DIR/pyrra-dev+pyrra/repo
#   git clone --bare https://github.com/slok/sloth      DIR/slok+sloth/repo
#
# Output, under PEERS_DIR (default ${TMPDIR:-/tmp}/relops-peers):
#   bin/pyrra, bin/sloth        the binaries to pass as --peer pyrra=... / --peer sloth=...
#   bin/<peer>.version          the ref, the commit and `go version -m` of the binary
#   src/<peer>                  a work tree at the commit built; scale_bench.py reads each
#                               peer's CRD from here (beside bin/, or --peer-src)
#
# What is built (the version each peer's benchmark column is for):
#   pyrra  v0.10.1  `pyrra kubernetes`: pyrra.dev/v1alpha1 ServiceLevelObjective ->
#          PrometheusRule. Its web UI is embedded at build time (go:embed ui/build) and
#          built with npm upstream; the operator never serves it, so a one-line page stands in.
#   sloth  v0.16.0  `sloth kubernetes-controller`: sloth.slok.dev/v1 PrometheusServiceLevel ->
#          PrometheusRule. Its go.mod asks for Go 1.26 or newer.
#
# Environment: MIRROR_ROOT (required); PEERS_DIR; PYRRA_REF, SLOTH_REF (another tag or
# commit); GOMAXPROCS (default 1, so a build leaves the other core free: about 4 minutes
# each on two cores with the modules downloaded); GOCACHE (default PEERS_DIR/gocache, about
# 1.7 GB once both are built; delete it afterwards if space matters). GOPROXY and
# GOTOOLCHAIN are used as set.
set -euo pipefail

die() {
  echo "build-peers: $*" >&2
  exit 1
}
say() { echo "build-peers: $*" >&2; }

[[ -n "${MIRROR_ROOT:-}" ]] || die "MIRROR_ROOT is not set (the folder of <owner>+<name>/repo bare clones)"
out="${PEERS_DIR:-${TMPDIR:-/tmp}/relops-peers}"
export GOMAXPROCS="${GOMAXPROCS:-1}" GOCACHE="${GOCACHE:-$out/gocache}"
export CGO_ENABLED=0 GOFLAGS="-mod=mod -buildvcs=false"
mkdir -p "$out/bin" "$out/src"

# worktree PEER REPO REF: $out/src/PEER holds exactly REF from the bare clone REPO.
# Prints the commit.
worktree() {
  local peer="$1" repo="$2" ref="$3" tree="$out/src/$1" commit
  [[ -d "$repo" ]] || die "$peer: no bare clone at $repo"
  commit="$(git --git-dir="$repo" rev-parse --verify --quiet "$ref^{commit}")" ||
    die "$peer: $repo has no $ref"
  if [[ ! -d "$tree/.git" ]]; then
    [[ ! -e "$tree" ]] || die "$peer: $tree is in the way (not a git work tree)"
    git clone --quiet --no-checkout "$repo" "$tree"
  else
    git -C "$tree" fetch --quiet --tags "$repo"
  fi
  git -C "$tree" checkout --quiet --force --detach "$commit"
  git -C "$tree" clean --quiet -ffdx
  echo "$commit"
}

# gobuild PEER PACKAGE LDFLAGS REF COMMIT: builds $out/bin/PEER from $out/src/PEER.
gobuild() {
  local peer="$1" tree="$out/src/$1" started=$SECONDS
  say "$peer: modules"
  (cd "$tree" && go mod download) || die "$peer: a module could not be downloaded (see above)"
  say "$peer: compiling with GOMAXPROCS=$GOMAXPROCS"
  (cd "$tree" && go build -trimpath -ldflags "$3" -o "$out/bin/$peer" "$2")
  { echo "ref $4" && echo "commit $5" && go version -m "$out/bin/$peer"; } >"$out/bin/$peer.version"
  say "$peer: $out/bin/$peer ($4, $5) in $((SECONDS - started)) s"
}

pyrra() {
  local ref="${PYRRA_REF:-v0.10.1}" commit
  commit="$(worktree pyrra "$MIRROR_ROOT/pyrra-dev+pyrra/repo" "$ref")"
  mkdir -p "$out/src/pyrra/ui/build"
  echo '<!doctype html><title>Pyrra</title><p>Operator-only build: no UI.' \
    >"$out/src/pyrra/ui/build/index.html"
  gobuild pyrra . "-s -w -X main.version=$ref -X main.commit=$commit" "$ref" "$commit"
}

sloth() {
  local ref="${SLOTH_REF:-v0.16.0}" commit
  commit="$(worktree sloth "$MIRROR_ROOT/slok+sloth/repo" "$ref")"
  gobuild sloth ./cmd/sloth "-s -w -X github.com/slok/sloth/internal/info.Version=$ref" \
    "$ref" "$commit"
}

(($#)) || set -- pyrra sloth
for peer in "$@"; do
  case "$peer" in
    pyrra | sloth) "$peer" ;;
    *) die "no peer called \"$peer\" (pyrra, sloth)" ;;
  esac
done
