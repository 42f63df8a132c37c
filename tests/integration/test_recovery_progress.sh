#!/usr/bin/env bash
# test_recovery_progress — `cairn status` during a recovery shows progress: objects and bytes
# left, a non-zero rate and an ETA. An OSD misses a few seconds of writes and comes back;
# recovery is throttled (osd_recovery_max_bytes_per_sec) so that it lasts several seconds,
# while the test samples `cairn status -f json` (and the text form) until active+clean.
# timeout: 120
set -euo pipefail
. "$CAIRN_ROOT/tests/lib/cluster.sh"
. "$CAIRN_ROOT/tests/integration/test_recovery_lib.inc"
cluster_require cairn-up cairn-mon cairn-osd cairn cairn-bench

cluster_start --osds 3 --pool data:8:3 --set "osd_heartbeat_grace = 3" \
    --set "osd_heartbeat_interval = 0.5" --set "osd_pg_stats_interval = 0.5" \
    --set "osd_recovery_max_bytes_per_sec = 1M"

cluster_kill osd.2 --signal KILL
rec_wait_state 30 '.num_pgs_by_state | to_entries | map(select(.key | test("undersized")))
    | length > 0'
w=$(rec_bench_write 2 during 16K 8); echo "$w"
cluster_restart osd.2

# sample until clean: seen = a sample with objects left, a rate > 0 and a finite ETA
seen=0 n=0 end=$(( $(date +%s) + 90 ))
while [ "$(date +%s)" -lt "$end" ]; do
    s=$(cairn_cli status -f json 2>/dev/null) || { sleep 0.5; continue; }
    n=$((n + 1))
    r=$(jq -c '.pgmap.recovery' <<< "$s")
    if jq -e '.objects_left > 0 and .bytes_left > 0 and .objects_per_sec > 0 and
              .bytes_per_sec > 0 and .eta_seconds > 0' <<< "$r" >/dev/null; then
        [ $seen = 0 ] && { echo "during recovery: $r"; cairn_cli status | sed -n '/progress:/,$p'; }
        seen=$((seen + 1))
    fi
    jq -e '.pgmap.all_active_clean and .pgmap.num_pgs == 8' <<< "$s" >/dev/null && break
    sleep 0.5
done
echo "status samples: $n, with objects left, rate and ETA: $seen"
echo "after recovery: $(cairn_cli status -f json | jq -c '.pgmap.recovery')"
cairn_cli status -f json | jq -e '.pgmap.all_active_clean and .pgmap.recovery.objects_left == 0
    and .pgmap.recovery.eta_seconds == 0' >/dev/null
[ $seen -ge 2 ]
cairn_cli status | grep -q 'ETA' && { echo "text status still shows progress after recovery"; exit 1; }
rec_verify during
