#!/usr/bin/env bash
# test_recovery_kill — kill -9 an OSD under a write load: every acknowledged write reads back
# with the right bytes; once the mon marks it out (short mon_osd_down_out_interval) its PGs
# are re-peered onto the 4th OSD, recovered, and return to active+clean with 3 copies. When
# it restarts (still out), the copies it kept are removed.
# timeout: 120
set -euo pipefail
. "$CAIRN_ROOT/tests/lib/cluster.sh"
. "$CAIRN_ROOT/tests/integration/test_recovery_lib.inc"
cluster_require cairn-up cairn-mon cairn-osd cairn cairn-bench

cluster_start --osds 4 --pool data:16:3 --set "mon_osd_down_out_interval = 4" \
    --set "osd_heartbeat_grace = 3" --set "osd_heartbeat_interval = 0.5"

# a write load, with osd.1 killed in the middle of it
rec_bench_write 8 kill 64K 8 > "$CLUSTER_DIR/bench.out" &
bench=$!
cluster_on_exit "kill $bench 2>/dev/null || true"
sleep 3
cluster_kill osd.1 --signal KILL
wait "$bench"
cat "$CLUSTER_DIR/bench.out"
[ "$(rec_summary_field "$(cat "$CLUSTER_DIR/bench.out")" errors)" = 0 ]

# marked down, then out: every PG active+clean again, 3 OSDs in every acting set, no osd.1
rec_wait_state 60 '.all_active_clean and .num_pgs == 16'
cairn_cli pg dump -f json | jq -e '[.pg_stats[] | select((.acting | length) != 3
    or (.acting | index(1)) != null or .state != "active+clean")] | length == 0' >/dev/null
rec_verify kill
echo "recovered objects: log-based $(rec_done_objects log), backfill $(rec_done_objects backfill)"
[ "$(rec_done_objects log)" -gt 0 ]
# osd.1 comes back, still out: the copies it kept are strays its PGs' primaries never heard
# of while peering; it tells them, and they have it remove them (the PGs are clean)
cairn_cli osd out 1 >/dev/null   # an explicit out: not marked in again when it boots
cluster_restart osd.1
cluster_wait_for 30 sh -c "'$CAIRN_BIN/cairn' -c '$CLUSTER_CONF' osd dump -f json |
    jq -e '.osds[] | select(.osd == 1) | .up == 1 and .in == 0'"
rec_wait_state 30 '.all_active_clean and .num_pgs == 16'
# (its first stats may predate loading its copies: wait for a removal before counting)
cluster_wait_for 30 grep -q "stray copy removed (" "$CLUSTER_DIR/osd.1.log"
rec_wait_no_strays 30
dump=$(cairn_cli pg dump -f json)
rec_check_acting_copies
rec_check_no_strays "$dump"
