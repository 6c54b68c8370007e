#!/usr/bin/env bash
# Fails when a tracked C++ file differs from what .clang-format makes of it.
#   tests/check-format.sh [CLANG-FORMAT]
set -euo pipefail
clang_format="${1:-clang-format}"
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mapfile -t files < <(git ls-files -- '*.cpp' '*.h' '*.h.in' 2>/dev/null | grep -v '\.in$' || true)
if ((${#files[@]} == 0)); then
  mapfile -t files < <(find operator controllers tests -name '*.cpp' -o -name '*.h')
fi
"$clang_format" --dry-run --Werror "${files[@]}"
echo "clang-format: ${#files[@]} files clean"
