#!/usr/bin/env bash
# test_recovery_logpath — an OSD that comes back after a short gap (down, not out) is brought
# up to date by log-based recovery (objects named by the PG log), not by a backfill; the test
# reads which path ran from the primaries' "recovery done" lines, then checks every write.
# timeout: 120
set -euo pipefail
. "$CAIRN_ROOT/tests/lib/cluster.sh"
. "$CAIRN_ROOT/tests/integration/test_recovery_lib.inc"
cluster_require cairn-up cairn-mon cairn-osd cairn cairn-bench

cluster_start --osds 3 --pool data:8:3 --set "osd_heartbeat_grace = 3" \
    --set "osd_heartbeat_interval = 0.5"
rec_bench_write 2 before 16K 8 >/dev/null

cluster_kill osd.2 --signal KILL
# wait until the mon has marked it down (PGs undersized, still active with 2 of 3)
rec_wait_state 30 '.num_pgs_by_state | to_entries | map(select(.key | test("undersized")))
    | length > 0'
rec_bench_write 3 during 16K 8
cluster_restart osd.2
rec_wait_state 60 '.all_active_clean and .num_pgs == 8'

log=$(rec_done_objects log) bf=$(rec_done_objects backfill)
echo "recovery paths: log-based $log objects, backfill $bf objects"
[ "$log" -gt 0 ] && [ "$bf" = 0 ]
rec_verify before
rec_verify during
