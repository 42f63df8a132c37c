#!/usr/bin/env bash
# test_recovery_hold — a PG whose acting set holds no complete copy serves nothing until
# its primary is complete (docs/recovery.md, peering: "no complete acting copy").
# Pool size 2 / min_size 1, one PG on [a, b], 3 OSDs, recovery throttled to 1 MiB/s.
# Run w1 on [a, b]; a fails, run w2 on [b] alone; b is marked out and a returns: the acting
# set is a and the third OSD c, both behind b (a stray now, the only complete copy). The
# primary pulls from b; run w3 is written meanwhile. Then the primary is killed at once.
# Checked: w3's writes were not acknowledged before the primary was complete; once every
# OSD is back, w1, w2 and w3 all read back. (Before: w3 was acknowledged by the two
# incomplete copies, the next peering took b's older log, and w3's objects were lost.)
# timeout: 240
set -euo pipefail
. "$CAIRN_ROOT/tests/lib/cluster.sh"
. "$CAIRN_ROOT/tests/integration/test_recovery_lib.inc"
cluster_require cairn-up cairn-mon cairn-osd cairn cairn-bench

cluster_start --osds 3 --pool data:1:2 --set "osd_heartbeat_grace = 3" \
    --set "osd_heartbeat_interval = 0.5" --set "osd_recovery_max_bytes_per_sec = 1M" \
    --set "mon_osd_down_out_interval = 600"
cairn_cli osd pool set data min_size 1 >/dev/null
rec_wait_state 30 '.all_active_clean and .num_pgs == 1'

read -r a b < <(acting | jq -r 'join(" ")')
c=$(( 3 - a - b ))
echo "pg acting [$a,$b], third osd.$c"

rec_bench_write 1 w1 4K 2 >/dev/null
cluster_kill "osd.$a" --signal KILL
cairn_cli osd down "$a" >/dev/null
cluster_wait_for 30 bash -c "[ \"\$(\"$CAIRN_BIN/cairn\" -c $CLUSTER_CONF pg dump -f json |
    jq -c '.pg_stats[0].acting')\" = '[$b]' ]" ||
    { echo "acting never became [$b]: $(acting)"; exit 1; }
rec_wait_state 30 '.num_pgs_by_state | keys | map(select(test("active"))) | length > 0'
rec_bench_write 1 w2 4K 2 >/dev/null
echo "w1 on [$a,$b], w2 on [$b] alone"

cairn_cli osd out "$b" >/dev/null
cluster_restart "osd.$a"
end=$(( $(date +%s) + 30 ))
until acting | jq -e "length == 2 and index($a) != null and index($c) != null" >/dev/null; do
    [ "$(date +%s)" -ge "$end" ] && { echo "acting never became {$a,$c}: $(acting)"; exit 1; }
    sleep 0.3
done
p=$(cairn_cli pg dump -f json | jq -r '.pg_stats[0].acting_primary')
echo "acting $(acting), primary osd.$p; b=osd.$b is a stray"

# w3 while the primary pulls (throttled); then the primary dies at once
t0=$(date +%s.%N)
rec_bench_write 1 w3 4K 2 > "$CLUSTER_DIR/w3.out"
t1=$(date +%s.%N)
held=yes
grep -q "pg 1.0: primary complete: serving" "$CLUSTER_DIR/osd.$p.log" || {
    echo "w3 was acknowledged before osd.$p's copy was complete"; held=no; }
echo "w3: $(cat "$CLUSTER_DIR/w3.out") (took $(echo "$t1 - $t0" | bc) s: held while osd.$p pulled)"
cluster_kill "osd.$p" --signal KILL
cairn_cli osd down "$p" >/dev/null
sleep 3
echo "osd.$p killed: pg $(pg_state) on $(acting)"

cairn_cli osd in "$b" >/dev/null
cluster_restart "osd.$p"
cluster_wait_clean 120
fail=0
for run in w1 w2 w3; do rec_verify "$run" || fail=1; done
[ "$fail" = 0 ] || { echo "FAIL: acknowledged writes lost"; exit 1; }
[ "$held" = yes ] || { echo "FAIL: the PG served without a complete acting copy"; exit 1; }
