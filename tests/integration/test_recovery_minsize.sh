#!/usr/bin/env bash
# test_recovery_minsize — pool size 3, min_size 2: with two of the three OSDs down, writes wait
# (neither acknowledged nor failed); one OSD back -> peering, log-based recovery, and the
# waiting writes complete; every write reads back.
# timeout: 120
set -euo pipefail
. "$CAIRN_ROOT/tests/lib/cluster.sh"
. "$CAIRN_ROOT/tests/integration/test_recovery_lib.inc"
cluster_require cairn-up cairn-mon cairn-osd cairn cairn-bench

cluster_start --osds 3 --pool data:8:3 --set "osd_heartbeat_grace = 3" \
    --set "osd_heartbeat_interval = 0.5"
rec_bench_write 2 before 16K 4 >/dev/null

cluster_kill osd.1 --signal KILL
cluster_kill osd.2 --signal KILL
rec_wait_state 30 '.num_active_clean == 0 and ((.num_pgs_by_state | keys | map(select(test("active")))
    | length) == 0)'

# writes now wait
rec_bench_write 2 blocked 16K 4 > "$CLUSTER_DIR/blocked.out" &
bench=$!
cluster_on_exit "kill $bench 2>/dev/null || true"
for _ in $(seq 20); do sleep 0.25; kill -0 "$bench" 2>/dev/null || break; done
kill -0 "$bench" || { echo "writes did not wait with 1 of 3 OSDs up"; cat "$CLUSTER_DIR/blocked.out"; exit 1; }

cluster_restart osd.1
wait "$bench"
cat "$CLUSTER_DIR/blocked.out"
[ "$(rec_summary_field "$(cat "$CLUSTER_DIR/blocked.out")" errors)" = 0 ]
[ "$(rec_summary_field "$(cat "$CLUSTER_DIR/blocked.out")" ops)" -gt 0 ]
rec_verify before
rec_verify blocked
cluster_restart osd.2
rec_wait_state 60 '.all_active_clean and .num_pgs == 8'
rec_verify blocked
