#!/usr/bin/env bash
# tools/demo.sh BUILD — `make demo`: start a 3-OSD cluster in a temporary directory, run
# cairn-bench write (kept with --no-cleanup) and rand for a few seconds each, print their
# summaries and `cairn status`, stop the cluster. Leaves nothing running, also on failure or
# Ctrl-C. DEMO_SECONDS (default 5) sets the length of each run.
set -euo pipefail
BUILD=${1:-build}
BIN=$(cd "$BUILD/bin" && pwd)
SECS=${DEMO_SECONDS:-5}
for p in cairn-up cairn-bench; do
    [ -x "$BIN/$p" ] || { echo "demo: $BIN/$p is not built (run make)" >&2; exit 1; }
done

DIR=$(mktemp -d /tmp/cairn-demo.XXXXXX)
stop() {
    "$BIN/cairn-up" stop --dir "$DIR" >/dev/null 2>&1 || true
    rm -rf "$DIR"
}
trap stop EXIT
trap 'exit 130' INT TERM

echo "== starting a cluster: 1 mon, 3 OSDs, pool 'demo' (32 PGs, 3 replicas) in $DIR"
"$BIN/cairn-up" start --dir "$DIR" --osds 3 --pool demo:32:3
CONF=$DIR/cairn.conf

echo
echo "== cairn-bench write: 4 MiB objects, 16 in flight, ${SECS}s"
"$BIN/cairn-bench" -c "$CONF" -p demo "$SECS" write -t 16 -b 4M --no-cleanup --run-name demo |
    tee "$DIR/write.txt"
echo
echo "== cairn-bench rand: random 4 MiB reads of those objects, 16 in flight, ${SECS}s"
"$BIN/cairn-bench" -c "$CONF" -p demo "$SECS" rand -t 16 --run-name demo | tee "$DIR/rand.txt"

echo
echo "== cluster status"
if [ -x "$BIN/cairn" ]; then
    "$BIN/cairn" -c "$CONF" status || true
else
    "$BIN/cairn-up" status --dir "$DIR" || true
fi
"$BIN/cairn-bench" -c "$CONF" -p demo cleanup --run-name demo > /dev/null || true

echo
echo "== summaries"
grep -h '^summary:' "$DIR/write.txt" "$DIR/rand.txt"
echo "== stopping the cluster"
