#!/usr/bin/env bash
# test_recovery_rebalance — map changes other than an OSD joining or dying move data online:
# `osd reweight` of one OSD, a CRUSH edit (`osd crush reweight`), then `osd pool set data size
# 3` (from 2), each under a write load (kept, verified at the end) and a reader that verifies
# every base object in full passes throughout. After each change the PGs return to
# active+clean; the data moved is compared with what the mapping change implies: expected =
# sum over PGs of (new acting members x the PG's objects before the change; and after it,
# counting the objects written meanwhile), moved = objects of the primaries' "recovery done"
# lines during that change. At the end every acting OSD of every PG holds the same objects
# and no OSD keeps a copy of a PG it is not acting for (strays are removed once clean).
# timeout: 180
set -euo pipefail
. "$CAIRN_ROOT/tests/lib/cluster.sh"
. "$CAIRN_ROOT/tests/integration/test_recovery_lib.inc"
cluster_require cairn-up cairn-mon cairn-osd cairn cairn-bench

cluster_start --osds 4 --pool data:16:2 --set "osd_pg_log_max_entries = 8" \
    --set "osd_backfill_batch = 8"
w=$(rec_bench_write 3 base 16K 8); echo "$w"
nobj=$(rec_summary_field "$w" ops)
rec_reader_start base

# rec_expected_moves BEFORE AFTER OBJS: sum over PGs of (new acting members x OBJS), OBJS a jq
# expression of $o (the PG before) or $p (after)
rec_expected_moves() {
    jq -n --argjson b "$1" --argjson a "$2" "
        (\$b.pg_stats | map({key: .pgid, value: .}) | from_entries) as \$old
        | [\$a.pg_stats[] | . as \$p | (\$old[\$p.pgid]) as \$o
           | ((\$p.acting - \$o.acting) | length) * $3] | add"
}

# rec_change NAME CMD...: runs the map change under a write load, waits for active+clean,
# prints moved/expected and checks it is close to 1
rec_change() {
    local name=$1 before after expected exp_after done0 moved; shift
    before=$(cairn_cli pg dump -f json)
    done0=$(( $(rec_done_objects log) + $(rec_done_objects backfill) ))
    rec_bench_write 5 "load-$name" 16K 2 > "$CLUSTER_DIR/load-$name.out" &
    local writer=$!
    sleep 1
    cairn_cli "$@"
    rec_wait_state 5 '.all_active_clean == false' || true
    cluster_wait_clean 90
    wait "$writer"
    cat "$CLUSTER_DIR/load-$name.out"
    [ "$(rec_summary_field "$(cat "$CLUSTER_DIR/load-$name.out")" errors)" = 0 ]
    cluster_wait_clean 60
    after=$(cairn_cli pg dump -f json)
    expected=$(rec_expected_moves "$before" "$after" '$o.num_objects')
    exp_after=$(rec_expected_moves "$before" "$after" '$p.num_objects')
    moved=$(( $(rec_done_objects log) + $(rec_done_objects backfill) - done0 ))
    echo "$name: expected to move $expected objects ($exp_after counting the objects written" \
         "meanwhile), moved $moved; moved/expected ratio: $(echo "scale=3; $moved / $expected" | bc)" \
         "($(echo "scale=3; $moved / $exp_after" | bc))"
    # objects written during the move are copied too when they land above a backfill
    # boundary or in a PG that has not peered yet: moved lies between the two
    [ "$expected" -gt 0 ] && [ "$moved" -ge $(( expected * 9 / 10 )) ] &&
        [ "$moved" -le $(( exp_after * 6 / 5 + 64 )) ]
}

rec_change reweight osd reweight 2 0.5
rec_change crush osd crush reweight osd.1 3
rec_change size osd pool set data size 3
cairn_cli pg dump -f json | jq -e '[.pg_stats[] | select((.acting | length) != 3)] | length == 0' \
    >/dev/null
rec_reader_stop "$nobj"
rec_verify base
rec_verify load-reweight
rec_verify load-crush
rec_verify load-size
rec_wait_no_strays 30
dump=$(cairn_cli pg dump -f json)
rec_check_acting_copies
rec_check_no_strays "$dump"
