#!/usr/bin/env bash
# tests/run.sh BUILD [soak|PATTERN] — run every unit and integration test, one line per test,
# ending with "N passed, N failed, N skipped". Exit status 77 from a test means "skipped";
# its last output line says why. Each test runs under a timeout and gets its own log in
# BUILD/test-logs/. A test file may say "# timeout: SECONDS" (sh) or "// timeout: SECONDS" (C).
set -u
BUILD=${1:-build}
FILTER=${2:-}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "$ROOT" && realpath -m "$BUILD")
export CAIRN_BUILD=$BUILD CAIRN_BIN=$BUILD/bin CAIRN_ROOT=$ROOT
LOGS=$BUILD/test-logs
mkdir -p "$LOGS"

tests=()
if [ "$FILTER" = soak ]; then
    for t in "$ROOT"/tests/soak/*.sh; do [ -e "$t" ] && tests+=("$t"); done
else
    for t in "$BUILD"/tests/unit/test_*; do [ -x "$t" ] && tests+=("$t"); done
    for t in "$BUILD"/tests/integration/test_* "$ROOT"/tests/integration/test_*.sh; do
        [ -x "$t" ] && [ -f "$t" ] && tests+=("$t")
    done
fi

timeout_of() {
    local src=$1 t
    case $src in
        "$BUILD"/tests/*) src=$ROOT/tests/${src#"$BUILD"/tests/}.c ;;
    esac
    t=$(grep -m1 -oE '(#|//) timeout: [0-9]+' "$src" 2>/dev/null | grep -oE '[0-9]+$')
    echo "${t:-300}"
}

pass=0 fail=0 skip=0 failed=()
for t in "${tests[@]}"; do
    name=$(basename "$t"); name=${name%.sh}
    if [ -n "$FILTER" ] && [ "$FILTER" != soak ] && [[ $name != *$FILTER* ]]; then continue; fi
    log=$LOGS/$name.log
    to=$(timeout_of "$t")
    start=$(date +%s.%N)
    ( cd "$ROOT" && timeout -k 10 "$to" "$t" ) >"$log" 2>&1 </dev/null
    rc=$?
    secs=$(printf '%.1f' "$(echo "$(date +%s.%N) - $start" | bc)")
    if [ $rc -eq 0 ]; then
        pass=$((pass + 1)); printf 'PASS  %-40s %6ss\n' "$name" "$secs"
    elif [ $rc -eq 77 ]; then
        skip=$((skip + 1)); printf 'SKIP  %-40s %s\n' "$name" "$(tail -n1 "$log")"
    else
        fail=$((fail + 1)); failed+=("$name")
        [ $rc -eq 124 ] && why="timed out after ${to}s" || why="exit $rc"
        printf 'FAIL  %-40s %6ss (%s; log %s)\n' "$name" "$secs" "$why" "$log"
        tail -n 25 "$log" | sed 's/^/      | /'
    fi
done
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
