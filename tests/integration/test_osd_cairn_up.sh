#!/usr/bin/env bash
# test_osd_cairn_up — cairn-up starts a cluster that reaches active+clean, reports its daemons,
# restarts one, names a daemon that fails to start (with its log), and stops exactly the
# processes it started.
# timeout: 150
set -euo pipefail
. "$CAIRN_ROOT/tests/lib/cluster.sh"
cluster_require cairn-up cairn-mon cairn-osd cairn

cluster_start --osds 3 --pool small:8:2 --pool data:16:3
cairn_cli pg stat -f json | jq -e '.num_pgs == 24 and .all_active_clean' >/dev/null
cairn_cli osd tree -f json | jq -e '[.nodes[] | select(.type == "host")] | length == 3' >/dev/null
"$CAIRN_BIN/cairn-up" status --dir "$CLUSTER_DIR" | grep -c running | grep -qx 4

# restart one OSD: it comes back (same port) and the PGs return to active+clean
old=$(cat "$CLUSTER_DIR/osd.1.pid")
cluster_restart osd.1
new=$(cat "$CLUSTER_DIR/osd.1.pid")
[ "$old" != "$new" ] && ! kill -0 "$old" 2>/dev/null
cluster_wait_clean 60

# stop: exactly the recorded pids go away, and the pid files with them
pids=$(cat "$CLUSTER_DIR"/*.pid)
"$CAIRN_BIN/cairn-up" stop --dir "$CLUSTER_DIR"
for p in $pids; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    ! kill -0 "$p" 2>/dev/null || { echo "pid $p still alive after stop"; exit 1; }
done
! ls "$CLUSTER_DIR"/*.pid 2>/dev/null

# a daemon that cannot start is named, with its log, and start fails
bad=$(mktemp -d "${TMPDIR:-/tmp}/cairn-test-bad.XXXXXX")
cluster_on_exit "'$CAIRN_BIN/cairn-up' stop --dir '$bad' >/dev/null 2>&1; rm -rf '$bad'"
mkdir -p "$bad/osd.0/db" && echo garbage > "$bad/osd.0/db/CURRENT"   # a store that cannot open
if "$CAIRN_BIN/cairn-up" start --dir "$bad" --osds 1 --timeout 20 >"$bad/err" 2>&1; then
    echo "start with a broken OSD option succeeded"; exit 1
fi
grep -q 'osd.0 exited during start' "$bad/err"
grep -q 'last lines of .*osd.0.log' "$bad/err"
"$CAIRN_BIN/cairn-up" stop --dir "$bad"
echo ok
