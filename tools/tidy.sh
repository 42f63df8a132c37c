#!/usr/bin/env bash
# tools/tidy.sh [PATH...] — static analysis of cairn's C sources with cppcheck (make tidy).
# Exits non-zero on any finding. Not part of make check (slow, and cppcheck versions differ).
# Checks: warning, portability, performance (style is left to .clang-format and review).
# Suppressions, each for a reason:
#   missingIncludeSystem   system headers are not analysed (we do not pass -I/usr/include)
#   unmatchedSuppression   an inline suppression may outlive the code it was for
#   checkersReport         informational summary, not a finding (newer cppcheck)
#   arrayIndexThenCheck    syntactic heuristic: fires on `a[k] == x && k < other_len`, where
#                          the later check bounds a different array (crush/map.c)
# A real false positive is silenced at the line: // cppcheck-suppress <id>
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
if ! command -v cppcheck >/dev/null; then
    echo "tidy: cppcheck is not installed (tools/deps.sh installs it)" >&2
    exit 1
fi
if [ $# -gt 0 ]; then
    paths=("$@")
else
    paths=()
    for d in common crush mon osd mds client tools tests; do [ -d "$d" ] && paths+=("$d"); done
fi
mapfile -t files < <(find "${paths[@]}" -name '*.c' -not -path '*/build*' | sort)
[ ${#files[@]} -gt 0 ] || { echo "tidy: no C files"; exit 0; }
cache=${TIDY_BUILD:-build}/cppcheck
mkdir -p "$cache"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
cppcheck -q -j "${TIDY_JOBS:-2}" --std=c11 --language=c --cppcheck-build-dir="$cache" \
    --enable=warning,portability,performance --inline-suppr \
    --suppress=missingIncludeSystem --suppress=unmatchedSuppression --suppress=checkersReport \
    --suppress=arrayIndexThenCheck \
    -D_GNU_SOURCE -D__GNUC__ -D__linux__ -DCAIRN_ASSERTS=1 -I. -Iinclude \
    --template='{file}:{line}: {severity} ({id}): {message}' \
    "${files[@]}" 2>"$out" || true
if [ -s "$out" ]; then
    cat "$out"
    echo "tidy: $(grep -c ': ' "$out") finding(s) in ${#files[@]} files"
    exit 1
fi
echo "tidy: ${#files[@]} files clean"
