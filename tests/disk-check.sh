#!/usr/bin/env bash
# Says, before `make test` starts, whether the disk has room for it, so a full disk is
# reported in the first second instead of as a failed link half an hour later.
#
#   tests/disk-check.sh NEED_GIB
#
# NEED_GIB is what a run from a fresh clone on a fresh machine writes at its peak
# (build trees, ccache, the Go module cache and the cached control-plane binaries,
# cluster state); README's "Measured" table gives the figure. Less free space is a
# warning, not an error: warm caches need less.
set -euo pipefail

need_gib="$1"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
free_kib="$(df -Pk "$here" | awk 'NR == 2 {print $4}')"
free_gib="$((free_kib / 1024 / 1024))"
if ((free_gib < need_gib)); then
  echo "disk-check: WARNING: ${free_gib} GiB free on the filesystem of $here;" \
    "a run from a fresh clone on a fresh machine writes up to ${need_gib} GiB" >&2
else
  echo "disk-check: ${free_gib} GiB free (a run from a fresh machine needs up to ${need_gib} GiB)" >&2
fi
