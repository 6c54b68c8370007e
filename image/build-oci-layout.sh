#!/usr/bin/env bash
# Builds the relops container image without a container engine: an OCI image layout made with
# Debian's umoci from the binary, its shared libraries, tzdata and the CA bundle
# (image/rootfs.sh, the same root filesystem the Dockerfile's final stage holds).
#
#   image/build-oci-layout.sh BINARY LAYOUT [TAG]     TAG defaults to the binary's version
#
# Then, for example:
#   skopeo inspect --config oci:LAYOUT:TAG
#   skopeo copy oci:LAYOUT:TAG docker://<your registry>/relops:TAG
set -euo pipefail

if (($# < 2 || $# > 3)); then
  echo "usage: $0 BINARY LAYOUT [TAG]" >&2
  exit 64
fi
binary="$(realpath "$1")"
layout="$2"
for tool in umoci strip ldd; do
  if ! command -v "$tool" >/dev/null; then
    echo "build-oci-layout: $tool is missing (Debian packages umoci, binutils; tests/install-deps.sh)" >&2
    exit 1
  fi
done
version="$("$binary" version | awk '{print $2}')"
tag="${3:-$version}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

rm -rf "$layout"
umoci init --layout "$layout"
umoci new --image "$layout:$tag"
# --rootless: files are recorded as owned by root whoever builds, and no privilege is needed.
umoci unpack --rootless --image "$layout:$tag" "$work/bundle" >/dev/null
"$here/rootfs.sh" "$binary" "$work/bundle/rootfs"
umoci repack --image "$layout:$tag" --history.comment "relops $version: binary, libraries, tzdata, CA bundle" "$work/bundle"

# The config a Dockerfile's USER, ENTRYPOINT and EXPOSE would write (OCI image-spec).
umoci config --image "$layout:$tag" \
  --os linux --architecture "$(dpkg --print-architecture)" \
  --config.user 65532:65532 \
  --config.workingdir /home/nonroot \
  --config.entrypoint /usr/local/bin/relops --config.entrypoint run \
  --config.env PATH=/usr/local/bin \
  --config.exposedports 8080/tcp --config.exposedports 8081/tcp \
  --config.label org.opencontainers.image.title=relops \
  --config.label org.opencontainers.image.version="$version" \
  --config.label org.opencontainers.image.description="relops, a Kubernetes operator for reliability policy" \
  --history.comment "USER 65532:65532, ENTRYPOINT relops run"
umoci gc --layout "$layout"
echo "$layout:$tag"
