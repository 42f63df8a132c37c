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
#   readdirCalled          readdir() is thread-safe per DIR* in glibc; readdir_r is deprecated
#   varFuncNullUB          NULL as a variadic sentinel (execl style) is fine on the only
#                          targets (Linux, gcc/clang: NULL is (void *)0)
#   memleak, memleakOnRealloc, resourceLeak in tests/ and tools/: early returns of one-shot programs
#                          and test fixtures; tests run under LeakSanitizer in make asan.
#                          Daemons and libraries (common crush mon osd mds client) stay checked.
# jansson's json_object_foreach / json_array_foreach are described to cppcheck by a small
# library file (cppcheck ships none for jansson).
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
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out=$tmp/out
cat >"$tmp/jansson.cfg" <<'CFG'
<?xml version="1.0"?>
<def format="2">
  <define name="json_object_foreach(object, key, value)" value="for (key = json_object_iter_key(json_object_iter(object)); key &amp;&amp; (value = json_object_iter_value(json_object_key_to_iter(key))); key = json_object_iter_key(json_object_iter_next(object, json_object_key_to_iter(key))))"/>
  <define name="json_array_foreach(array, index, value)" value="for (index = 0; index &lt; json_array_size(array) &amp;&amp; (value = json_array_get(array, index)); index++)"/>
</def>
CFG
cppcheck -q -j "${TIDY_JOBS:-2}" --std=c11 --language=c --cppcheck-build-dir="$cache" \
    --enable=warning,portability,performance --inline-suppr \
    --suppress=missingIncludeSystem --suppress=unmatchedSuppression --suppress=checkersReport \
    --suppress=arrayIndexThenCheck --suppress=varFuncNullUB --suppress=readdirCalled \
    --suppress='memleak:tests/*' --suppress='memleak:tools/*' \
    --suppress='memleakOnRealloc:tests/*' --suppress='memleakOnRealloc:tools/*' \
    --suppress='resourceLeak:tests/*' --suppress='resourceLeak:tools/*' \
    --library=posix --library="$tmp/jansson.cfg" \
    -D_GNU_SOURCE -D__GNUC__ -D__linux__ -DCAIRN_ASSERTS=1 -I. -Iinclude \
    --template='{file}:{line}: {severity} ({id}): {message}' \
    "${files[@]}" 2>"$out" || true
if [ -s "$out" ]; then
    cat "$out"
    echo "tidy: $(grep -c ': ' "$out") finding(s) in ${#files[@]} files"
    exit 1
fi
echo "tidy: ${#files[@]} files clean"
