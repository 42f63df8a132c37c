#!/usr/bin/env bash
# test_recovery_interval_single — a single-member acting set (min_size 1) peers like any
# other (docs/recovery.md "Past intervals"): pool size 2 / min_size 1, one PG on [a, b].
# b goes down; [a] alone goes active and acknowledges writes (run "r" rewritten); then a
# fails (down + out) and b returns alone: acting [b], whose copy is older. Checked: the PG is
# reported down and b does not serve run "r"; once a is back, run "r" reads back with the
# newest bytes.
# timeout: 120
set -euo pipefail
. "$CAIRN_ROOT/tests/lib/cluster.sh"
. "$CAIRN_ROOT/tests/integration/test_recovery_lib.inc"
cluster_require cairn-up cairn-mon cairn-osd cairn cairn-bench

cluster_start --osds 2 --pool data:1:2 --set "osd_heartbeat_grace = 3" \
    --set "osd_heartbeat_interval = 0.5"
cairn_cli osd pool set data min_size 1 >/dev/null
rec_wait_state 30 '.all_active_clean and .num_pgs == 1'

read -r a b < <(acting | jq -r 'join(" ")')
echo "pg acting [$a,$b]"

n1=$(rec_summary_field "$(rec_bench_write 1 r 4K 2)" ops)
cluster_kill "osd.$b" --signal KILL
cairn_cli osd down "$b" >/dev/null
cluster_wait_for 30 bash -c "[ \"\$(\"$CAIRN_BIN/cairn\" -c $CLUSTER_CONF pg dump -f json |
    jq -r '.pg_stats[0] | \"\(.acting)\(.state)\"')\" = '[$a]active+degraded+undersized' ]" ||
    { echo "pg never went active on [$a]: $(acting) $(pg_state)"; exit 1; }
n2=$(rec_summary_field "$(rec_bench_write 1 r 4K 2)" ops)
echo "run r: $n1 objects on [$a,$b], rewritten ($n2 objects) by [$a] alone"

cluster_kill "osd.$a" --signal KILL
cairn_cli osd down "$a" >/dev/null
cairn_cli osd out "$a" >/dev/null
cluster_restart "osd.$b"
end=$(( $(date +%s) + 30 ))
until [ "$(acting)" = "[$b]" ]; do
    [ "$(date +%s)" -ge "$end" ] && { echo "acting never became [$b]: $(acting)"; exit 1; }
    sleep 0.3
done
end=$(( $(date +%s) + 20 ))
until [[ $(pg_state) == *down* ]]; do
    st=$(pg_state)
    [[ $st == *active* && $st != *stale* ]] &&
        { echo "FAIL: pg went $st on [$b] without the interval [$a]"; exit 1; }
    [ "$(date +%s)" -ge "$end" ] && { echo "FAIL: pg never reported down (state $st)"; exit 1; }
    sleep 0.3
done
echo "pg on [$b]: $(pg_state)"
out=$("$CAIRN_BIN/cairn-bench" -c "$CLUSTER_CONF" -p data 5 seq -t 2 --verify --run-name r \
    --client_op_timeout 4 2>&1) && rc=0 || rc=$?
sum=$(grep '^summary:' <<< "$out" || true)
echo "read while down: rc=$rc ${sum:-$(tail -n 1 <<< "$out")}"
if [ "$rc" = 0 ] && [ "$(rec_summary_field "$sum" errors)" = 0 ]; then
    echo "FAIL: run r was read back from [$b] while [$a]'s interval is absent"
    exit 1
fi

cluster_restart "osd.$a"
rec_wait_state 60 '.num_pgs_by_state | keys | map(select(test("active") and
    (test("stale") | not))) | length > 0'
echo "after osd.$a returned: $(pg_state), acting $(acting)"
v=$(rec_verify r)
echo "$v"
[ "$(sed -n 's/.* ops=\([0-9]*\).*/\1/p' <<< "$v")" = "$n2" ] ||
    { echo "FAIL: run r read back $v, want $n2 objects"; exit 1; }
echo "run r reads back with [$a]'s bytes ($n2 objects)"
