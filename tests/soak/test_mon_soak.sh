#!/usr/bin/env bash
# timeout: 900
# test_mon_soak — the monitor under a long run of changes (make soak): ROUNDS rounds of
# CHANGES map changes each, a `cairn watch` subscriber that must see every epoch exactly once
# in order across the whole run, and a monitor restart (SIGTERM) or crash (SIGKILL) after
# every round; afterwards every epoch's full map must still be served.
set -euo pipefail
B=${CAIRN_BIN:-build/bin}
ROUNDS=${ROUNDS:-6}
CHANGES=${CHANGES:-150}
for b in cairn-mon cairn; do [ -x "$B/$b" ] || { echo "skip: $B/$b is not built"; exit 77; }; done
command -v jq >/dev/null || { echo "skip: jq not installed"; exit 77; }
D=$(mktemp -d /tmp/test_mon_soak.XXXXXX)
MP=
WP=
cleanup() {
    [ -n "$WP" ] && kill "$WP" 2>/dev/null || true
    [ -n "$MP" ] && kill "$MP" 2>/dev/null && wait "$MP" 2>/dev/null || true
    rm -rf "$D"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; tail -n 20 "$D/mon.log" >&2 || true; exit 1; }
PORT=
start_mon() {
    rm -f "$D/addr"
    "$B/cairn-mon" --mon_data "$D/mon" --mon_addr "127.0.0.1:${PORT:-0}" \
        --mon_addr_file "$D/addr" --log_file "$D/mon.log" &
    MP=$!
    for _ in $(seq 200); do [ -s "$D/addr" ] && break; sleep 0.05; done
    [ -s "$D/addr" ] || fail "mon did not start"
    PORT=$(cut -d: -f2 "$D/addr") # restarts reuse the port, so the watcher reconnects
    printf '[global]\nmon_host = %s\nmon_client_tick_ms = 100\n' "$(cat "$D/addr")" > "$D/cairn.conf"
}
C() { "$B/cairn" -c "$D/cairn.conf" --connect-timeout 20 "$@"; }

start_mon
C osd pool create soak 8 >/dev/null
E0=$(C -f json osd stat | jq -r .epoch)
TOTAL=$((ROUNDS * CHANGES * 2))
"$B/cairn" -c "$D/cairn.conf" -f json watch --count $((TOTAL + 1)) --timeout 800 > "$D/watch" &
WP=$!
sleep 0.5
for r in $(seq "$ROUNDS"); do
    for i in $(seq "$CHANGES"); do
        C osd set noout >/dev/null 2>&1 || fail "set in round $r"
        C osd unset noout >/dev/null 2>&1 || fail "unset in round $r"
    done
    if [ $((r % 2)) -eq 0 ]; then kill -9 "$MP"; else kill "$MP"; fi
    wait "$MP" 2>/dev/null || true
    start_mon
    echo "round $r: epoch $(C -f json osd stat | jq -r .epoch)"
done
E=$(C -f json osd stat | jq -r .epoch)
[ "$E" -eq $((E0 + TOTAL)) ] || fail "epoch $E, expected $((E0 + TOTAL))"
wait "$WP" || fail "watch did not see $((TOTAL + 1)) maps"
WP=
seq "$E0" "$E" > "$D/want"
jq -r .epoch "$D/watch" > "$D/got"
cmp -s "$D/want" "$D/got" || fail "the subscriber missed or repeated epochs"
for e in 1 $((E / 3)) $((E / 2)) "$E"; do
    C osd getmap "$e" -o "$D/m" 2>/dev/null || fail "getmap $e"
done
echo "test_mon_soak: ok ($((E - E0)) epochs, $ROUNDS restarts)"
