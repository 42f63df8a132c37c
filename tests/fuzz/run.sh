#!/usr/bin/env bash
# tests/fuzz/run.sh BUILD SECONDS — run every BUILD/fuzz/fuzz_* libFuzzer target for SECONDS
# each (-max_total_time). Corpora live in BUILD/corpus/NAME (kept between runs, so fuzzing
# accumulates); seeds from tests/fuzz/seeds/NAME/ are added when that folder exists. Crash
# inputs are written to BUILD/artifacts/. Prints one line per target and exits non-zero if
# any target crashed, leaked, timed out or ran out of memory.
set -u
BUILD=${1:-build-fuzz}
SECONDS_EACH=${2:-20}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
mkdir -p "$BUILD/corpus" "$BUILD/artifacts" "$BUILD/fuzz-logs"
targets=("$BUILD"/fuzz/fuzz_*)
if [ ! -e "${targets[0]}" ]; then
    echo "no fuzz targets in $BUILD/fuzz (build them with: make fuzz)" >&2
    exit 1
fi
failed=()
ran=0
for t in "${targets[@]}"; do
    [ -x "$t" ] && [ -f "$t" ] || continue
    case $t in *.d|*.o) continue ;; esac
    name=$(basename "$t")
    ran=$((ran + 1))
    corpus=$BUILD/corpus/$name
    mkdir -p "$corpus"
    dirs=("$corpus")
    [ -d "tests/fuzz/seeds/$name" ] && dirs+=("tests/fuzz/seeds/$name")
    log=$BUILD/fuzz-logs/$name.log
    # -timeout: one input taking longer is a bug (hang); the outer timeout is a safety net
    timeout -k 10 $((SECONDS_EACH + 120)) "$t" -max_total_time="$SECONDS_EACH" -timeout=10 \
        -rss_limit_mb=2048 -max_len=4096 -print_final_stats=1 \
        -artifact_prefix="$BUILD/artifacts/$name-" "${dirs[@]}" >"$log" 2>&1
    rc=$?
    runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || true)
    files=$(find "$corpus" -type f | wc -l)
    if [ $rc -eq 0 ]; then
        printf 'PASS  %-28s %8s runs in %ss, corpus %s\n' "$name" "${runs:-?}" "$SECONDS_EACH" "$files"
    else
        failed+=("$name")
        printf 'FAIL  %-28s exit %s (log %s)\n' "$name" "$rc" "$log"
        grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$log" | head -n 8 | sed 's/^/      | /'
    fi
done
echo "fuzz: $ran targets, ${#failed[@]} failed${failed:+: ${failed[*]}}"
[ ${#failed[@]} -eq 0 ]
