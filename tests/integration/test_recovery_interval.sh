#!/usr/bin/env bash
# test_recovery_interval — the mon's last-active record closes the "up_thru" gap of peering
# (docs/recovery.md "Past intervals"): pool size 3 / min_size 2, one PG on OSDs [a, b, c].
# c goes down; the interval [a, b] goes active and acknowledges writes (run "r" rewritten
# with new bytes); then a and b fail (down + out) and c returns together with a new OSD d.
# None of the OSDs present heard of the interval [a, b]: without the mon's record c would
# serve its older copy. Checked: the PG is reported down, reads of run "r" do not complete
# (nor return the old bytes); once a comes back, run "r" reads back with the newest bytes.
# timeout: 150
set -euo pipefail
. "$CAIRN_ROOT/tests/lib/cluster.sh"
. "$CAIRN_ROOT/tests/integration/test_recovery_lib.inc"
cluster_require cairn-up cairn-mon cairn-osd cairn cairn-bench

cluster_start --osds 3 --pool data:1:3 --set "osd_heartbeat_grace = 3" \
    --set "osd_heartbeat_interval = 0.5"
cairn_cli osd pool set data min_size 2 >/dev/null
rec_wait_state 30 '.all_active_clean and .num_pgs == 1'

read -r a b c < <(acting | jq -r 'join(" ")')
echo "pg acting [$a,$b,$c]"

# v1: written with every OSD up
n1=$(rec_summary_field "$(rec_bench_write 1 r 4K 2)" ops)

# c down: the interval [a, b] goes active and acknowledges v2 (same objects, new bytes)
cluster_kill "osd.$c" --signal KILL
cairn_cli osd down "$c" >/dev/null
cluster_wait_for 30 bash -c "[ \"\$(\"$CAIRN_BIN/cairn\" -c $CLUSTER_CONF pg dump -f json |
    jq -c '.pg_stats[0].acting')\" = '[$a,$b]' ]" || { echo "acting never became [$a,$b]"; exit 1; }
sleep 1
n2=$(rec_summary_field "$(rec_bench_write 1 r 4K 2)" ops)
echo "run r: $n1 objects with every OSD up, rewritten ($n2 objects) by the interval [$a,$b]"

# a and b fail; c returns with a new OSD d: acting [c, d], neither heard of [a, b]
cluster_kill "osd.$a" --signal KILL
cluster_kill "osd.$b" --signal KILL
cairn_cli osd down "$a" "$b" >/dev/null
cairn_cli osd out "$a" "$b" >/dev/null
rec_add_osd 3
cluster_restart "osd.$c"
end=$(( $(date +%s) + 40 ))
until [ "$(acting)" = "[$c,3]" ] || [ "$(acting)" = "[3,$c]" ]; do
    [ "$(date +%s)" -ge "$end" ] && { echo "acting never became [$c,3]: $(acting)"; exit 1; }
    sleep 0.3
done
# the PG must say down (and never go active on the older copy); a stale state is the last
# report of the old primary
end=$(( $(date +%s) + 20 ))
until [[ $(pg_state) == *down* ]]; do
    st=$(pg_state)
    [[ $st == *active* && $st != *stale* ]] &&
        { echo "FAIL: pg went $st on [$c,3] without the interval [$a,$b]"; exit 1; }
    [ "$(date +%s)" -ge "$end" ] && { echo "FAIL: pg never reported down (state $st)"; exit 1; }
    sleep 0.3
done
echo "pg on [$c,3]: $(pg_state)"
cairn_cli status | grep -i down || true
# reads must not be answered from c's older copy: they wait (time out here)
out=$("$CAIRN_BIN/cairn-bench" -c "$CLUSTER_CONF" -p data 5 seq -t 2 --verify --run-name r \
    --client_op_timeout 4 2>&1) && rc=0 || rc=$?
sum=$(grep '^summary:' <<< "$out" || true)
echo "read while down: rc=$rc ${sum:-$(tail -n 1 <<< "$out")}"
if [ "$rc" = 0 ] && [ "$(rec_summary_field "$sum" errors)" = 0 ]; then
    echo "FAIL: run r was read back from [$c,3] while the newest interval's OSDs are absent"
    exit 1
fi
st=$(pg_state)
[[ $st == *peering* && $st != *active* ]] || { echo "FAIL: pg state $st after the reads"; exit 1; }

# the record survives a mon restart: the PG stays down
cluster_restart mon
cluster_wait_for 10 grep -q "loaded 1 PG last-active records" "$CLUSTER_DIR/mon.log" ||
    { echo "FAIL: the restarted mon did not load the record"; exit 1; }
end=$(( $(date +%s) + 5 ))
while [ "$(date +%s)" -lt "$end" ]; do
    st=$(pg_state 2>/dev/null || true)
    [[ $st == *active* && $st != *stale* ]] &&
        { echo "FAIL: pg went $st on [$c,3] after a mon restart"; exit 1; }
    sleep 0.5
done
echo "after a mon restart: $(pg_state 2>/dev/null || true)"

# a returns (up, still out: it only answers peering as a stray): the PG recovers from it
cluster_restart "osd.$a"
rec_wait_state 60 '.num_pgs_by_state | keys | map(select(test("active") and
    (test("stale") | not))) | length > 0'
echo "after osd.$a returned: $(pg_state), acting $(acting)"
v=$(rec_verify r)
echo "$v"
[ "$(sed -n 's/.* ops=\([0-9]*\).*/\1/p' <<< "$v")" = "$n2" ] ||
    { echo "FAIL: run r read back $v, want $n2 objects"; exit 1; }
echo "run r reads back with the interval [$a,$b]'s bytes ($n2 objects)"

# the records of a deleted pool are dropped
cairn_cli osd pool rm data >/dev/null
cluster_wait_for 10 grep -q "dropped the last-active records of 1 PGs" "$CLUSTER_DIR/mon.log" ||
    { echo "FAIL: the mon kept the record of the deleted pool"; exit 1; }
echo "pool deleted: its PG's record dropped"
