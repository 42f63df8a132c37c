#!/usr/bin/env bash
# test_recovery_add_osd — a 4th OSD joins a 3-OSD cluster whose PG logs are short (so the new
# OSD cannot be caught up from the log): the PGs that CRUSH moves to it are backfilled (new
# primary: pulled in full from the old copies; new replica: copied in hash order with a moving
# boundary) while a reader verifies every object throughout; about a quarter of the data moves.
# Prints moved/expected, where expected = sum over PGs of (new members x objects of the PG).
# Then the stray copies (on OSDs no longer acting) are gone, and the acting copies agree.
# timeout: 150
set -euo pipefail
. "$CAIRN_ROOT/tests/lib/cluster.sh"
. "$CAIRN_ROOT/tests/integration/test_recovery_lib.inc"
cluster_require cairn-up cairn-mon cairn-osd cairn cairn-bench

cluster_start --osds 3 --pool data:16:3 --set "osd_pg_log_max_entries = 8" \
    --set "osd_backfill_batch = 4"
w=$(rec_bench_write 3 base 16K 8); echo "$w"
nobj=$(rec_summary_field "$w" ops)
cairn_cli pg dump -f json > "$CLUSTER_DIR/before.json"

# read every object back, in full passes, from before the OSD joins until the PGs are clean
# again: any error (an object the new primary does not have yet) fails the test
rec_reader_start base
sleep 1
rec_add_osd 3
rec_wait_state 30 '.num_pgs == 16 and .all_active_clean == false' || true
cluster_wait_clean 90
rec_reader_stop "$nobj"
cairn_cli pg dump -f json > "$CLUSTER_DIR/after.json"

expected=$(jq -n --slurpfile b "$CLUSTER_DIR/before.json" --slurpfile a "$CLUSTER_DIR/after.json" '
    ($b[0].pg_stats | map({key: .pgid, value: .}) | from_entries) as $old
    | [$a[0].pg_stats[] | . as $p | ($old[$p.pgid]) as $o
       | (($p.acting - $o.acting) | length) * $p.num_objects] | add')
total=$(jq '[.pg_stats[].num_objects] | add' "$CLUSTER_DIR/after.json")
moved=$(( $(rec_done_objects log) + $(rec_done_objects backfill) ))
echo "objects: total $total (x3 copies), expected to move $expected, moved $moved" \
     "(log-based $(rec_done_objects log), backfill $(rec_done_objects backfill))"
echo "moved/expected ratio: $(echo "scale=3; $moved / $expected" | bc)"
[ "$expected" -gt 0 ] && [ "$moved" -ge "$expected" ] && [ "$moved" -le $(( expected * 3 / 2 + 8 )) ]
[ "$(rec_done_objects backfill)" -gt 0 ]
rec_verify base
# the copies left on the OSDs that left a PG are deleted once it is clean
rec_wait_no_strays 30
dump=$(cairn_cli pg dump -f json)
rec_check_acting_copies
rec_check_no_strays "$dump"
