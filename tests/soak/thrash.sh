#!/usr/bin/env bash
# thrash — for THRASH_SECONDS (default 300 under make soak), randomly kill -9 and restart OSDs
# and mark them out and in, under a write load whose every acknowledged write is read back
# and checked at the end; the cluster must then return to active+clean. Bounded: every wait
# has a deadline. THRASH_SEED fixes the random sequence (printed, for a rerun).
# timeout: 900
set -euo pipefail
. "$CAIRN_ROOT/tests/lib/cluster.sh"
. "$CAIRN_ROOT/tests/integration/test_recovery_lib.inc"
cluster_require cairn-up cairn-mon cairn-osd cairn cairn-bench

SECS=${THRASH_SECONDS:-300}
SEED=${THRASH_SEED:-$RANDOM}
RANDOM=$SEED
NOSD=4
echo "thrash: ${SECS}s, seed $SEED"
cluster_start --osds $NOSD --pool data:16:3 --set "mon_osd_down_out_interval = 8" \
    --set "osd_heartbeat_grace = 3" --set "osd_heartbeat_interval = 0.5" \
    --set "osd_pg_log_max_entries = 64"

# writer: back-to-back bench runs, each its own run name; a run must end without errors
writer() {
    local i=0 end=$(( $(date +%s) + SECS ))
    while [ "$(date +%s)" -lt "$end" ]; do
        i=$((i + 1))
        # a run with failed (never acknowledged) writes is counted, not verified: the
        # objects it failed on may legitimately be absent
        # every third run writes 256 KiB objects: the store's slot path (O_DIRECT writes
        # in flight, direct reads), the others 16 KiB objects inline in RocksDB
        if rec_bench_write 2 "thrash$i" "$( ((i % 3)) && echo 16K || echo 256K)" 4 \
            > "$CLUSTER_DIR/w$i.out" 2>&1; then
            echo "thrash$i" >> "$CLUSTER_DIR/runs"
        else
            echo "thrash$i" >> "$CLUSTER_DIR/failed_runs"
        fi
    done
}
writer > "$CLUSTER_DIR/writer.log" 2>&1 &
wpid=$!
cluster_on_exit "kill $wpid 2>/dev/null || true"

down=() out=()
end=$(( $(date +%s) + SECS ))
while [ "$(date +%s)" -lt "$end" ]; do
    osd=$(( RANDOM % NOSD ))
    case $(( RANDOM % 4 )) in
        0|1) # kill one (only one down at a time: min_size 2 keeps writes flowing)
            if [ ${#down[@]} -eq 0 ]; then
                echo "$(date +%T) kill -9 osd.$osd"; cluster_kill "osd.$osd" --signal KILL; down=("$osd")
            else
                echo "$(date +%T) restart osd.${down[0]}"; cluster_restart "osd.${down[0]}"; down=()
            fi ;;
        2) if [ ${#out[@]} -eq 0 ]; then
               echo "$(date +%T) out osd.$osd"; cairn_cli osd out "$osd" >/dev/null; out=("$osd")
           fi ;;
        3) if [ ${#out[@]} -gt 0 ]; then
               echo "$(date +%T) in osd.${out[0]}"; cairn_cli osd in "${out[0]}" >/dev/null; out=()
           fi ;;
    esac
    sleep $(( 2 + RANDOM % 4 ))
done
[ ${#down[@]} -eq 0 ] || cluster_restart "osd.${down[0]}"
for i in $(seq 0 $((NOSD - 1))); do cairn_cli osd in "$i" >/dev/null 2>&1 || true; done
wait "$wpid" || { cat "$CLUSTER_DIR/writer.log"; exit 1; }
cluster_wait_clean 120
n=0
for run in $(cat "$CLUSTER_DIR/runs"); do rec_verify "$run" > /dev/null; n=$((n + 1)); done
nf=0
[ -f "$CLUSTER_DIR/failed_runs" ] && nf=$(wc -l < "$CLUSTER_DIR/failed_runs")
echo "thrash: $n write runs verified, $nf runs had failed writes (not verified);" \
     "recovered objects: log-based $(rec_done_objects log), backfill $(rec_done_objects backfill)"
[ "$n" -gt 0 ]
rec_check_acting_copies
