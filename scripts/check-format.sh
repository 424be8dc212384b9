#!/usr/bin/env bash
# Checks that every C++ file of the repository keeps the layout of .clang-format; --fix rewrites those that do not.
# Usage: scripts/check-format.sh [clang-format binary] [--fix]
set -euo pipefail
cd "$(dirname "$0")/.."
tool="clang-format-14"
fix=0
for arg in "$@"; do
  case "$arg" in
    --fix) fix=1 ;;
    *) tool="$arg" ;;
  esac
done
command -v "$tool" >/dev/null || { echo "check-format: $tool not found (scripts/install-deps.sh installs it)" >&2; exit 2; }

mapfile -t files < <(git ls-files '*.cpp' '*.hpp' '*.h' 2>/dev/null || find . -name '*.[ch]pp' -not -path './build*')
if [ "$fix" -eq 1 ]; then
  "$tool" -i "${files[@]}"
  echo "check-format: ${#files[@]} files formatted"
  exit 0
fi
if ! "$tool" --dry-run --Werror "${files[@]}" 2>/tmp/check-format.$$; then
  grep -o '^[^:]*:[0-9]*' /tmp/check-format.$$ | sort -u -t: -k1,1 | head -20
  rm -f /tmp/check-format.$$
  echo "check-format: the files above differ from .clang-format; scripts/check-format.sh --fix rewrites them" >&2
  exit 1
fi
rm -f /tmp/check-format.$$
echo "check-format: ${#files[@]} files follow .clang-format"
