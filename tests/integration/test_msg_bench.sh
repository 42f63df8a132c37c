#!/usr/bin/env bash
# test_msg_bench — cairn-msgbench runs and prints its one summary line (every key, numeric
# values) for small and large messages, lossy and lossless, and with the blocking baseline.
# Short runs: this checks the tool, not the numbers (docs/perf.md has those).
# timeout: 60
set -euo pipefail
BIN=${CAIRN_BIN:-build/bin}
if [ ! -x "$BIN/cairn-msgbench" ]; then echo "cairn-msgbench not built"; exit 77; fi
num='[0-9]+(\.[0-9]+)?'
line_re="^size=$num inflight=$num MBps=$num msgps=$num p50_us=$num p99_us=$num\$"
check() {
    local out last
    out=$("$BIN/cairn-msgbench" "$@")
    last=$(printf '%s\n' "$out" | tail -n1)
    if ! [[ $last =~ $line_re ]]; then
        echo "bad summary for cairn-msgbench $*: '$last'"; exit 1
    fi
    if [[ $last =~ msgps=0(\.0+)?\  ]]; then
        echo "no messages for cairn-msgbench $*: '$last'"; exit 1
    fi
    printf '%s\n' "$out"
}
check --size 4K --inflight 8 --seconds 0.5
check --size 1M --inflight 2 --seconds 0.5 --lossless
check --size 0 --inflight 64 --seconds 0.5 --no-crc
out=$(check --size 4K --inflight 1 --seconds 0.5 --baseline)
printf '%s\n' "$out" | head -n1 | grep -Eq "^mode=blocking size=4096 inflight=1 MBps=$num" \
    || { echo "no baseline line"; exit 1; }
# bad arguments: usage on stderr, exit 2
if "$BIN/cairn-msgbench" --size nonsense 2>/dev/null; then echo "accepted a bad size"; exit 1; fi
echo "ok"
