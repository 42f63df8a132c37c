#!/usr/bin/env bash
# timeout: 120
# test_mon_cli — the cairn admin CLI against a real cairn-mon on 127.0.0.1 (port 0):
# pools create/ls/get/set/rm; every change raises the epoch by exactly one (no-ops and errors
# by none); CRUSH edits through the CLI give the same map as cairn-crush's offline edits, and
# maps round-trip through text (getcrushmap -> decompile -> compile -> setcrushmap); every
# command's JSON parses and has the documented fields (docs/cli.md); errors are one stderr
# line and a non-zero exit; `cairn watch` sees every epoch; a restart keeps every map; an
# unreachable monitor times out.
set -euo pipefail
B=${CAIRN_BIN:-build/bin}
for b in cairn-mon cairn cairn-crush; do
    [ -x "$B/$b" ] || { echo "skip: $B/$b is not built"; exit 77; }
done
command -v jq >/dev/null || { echo "skip: jq not installed"; exit 77; }

D=$(mktemp -d /tmp/test_mon_cli.XXXXXX)
MP=
WP=
cleanup() {
    local rc=$?
    [ -n "$WP" ] && kill "$WP" 2>/dev/null && wait "$WP" 2>/dev/null || true
    [ -n "$MP" ] && kill "$MP" 2>/dev/null && wait "$MP" 2>/dev/null || true
    if [ $rc -ne 0 ] && [ -f "$D/mon.log" ]; then echo "--- mon.log"; tail -n 30 "$D/mon.log"; fi
    [ -n "${KEEP:-}" ] || rm -rf "$D"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

start_mon() {
    rm -f "$D/addr"
    "$B/cairn-mon" --mon_data "$D/mon" --mon_addr 127.0.0.1:0 --mon_addr_file "$D/addr" \
        --log_file "$D/mon.log" --mon_tick_interval 0.2 &
    MP=$!
    for _ in $(seq 100); do [ -s "$D/addr" ] && break; sleep 0.05; done
    [ -s "$D/addr" ] || fail "mon did not start"
    printf '[global]\nmon_host = %s\n' "$(cat "$D/addr")" > "$D/cairn.conf"
}
stop_mon() { kill "$MP"; wait "$MP" || true; MP=; LAST=; }

C() { timeout 20 "$B/cairn" -c "$D/cairn.conf" --connect-timeout 5 "$@"; }
J() { C -f json "$@"; }
epoch() { J osd stat | jq -er .epoch; }
# LAST: the epoch after the previous change (every change command answers {"epoch": E})
LAST=
# bump N CMD...: runs CMD (must succeed) and checks the epoch rose by exactly N
bump() {
    local n=$1 before after out; shift
    before=${LAST:-$(epoch)}
    out=$(J "$@" 2>/dev/null) || fail "'$*' failed"
    after=$(echo "$out" | jq -er .epoch) || fail "'$*': no epoch in '$out'"
    [ "$after" -eq $((before + n)) ] || fail "'$*': epoch $before -> $after, expected +$n"
    LAST=$after
}
# err CODE CMD...: CMD must fail with exit CODE and exactly one line on stderr
err() {
    local code=$1 rc=0 lines before; shift
    before=${LAST:-$(epoch)}
    C "$@" >"$D/out" 2>"$D/err" || rc=$?
    [ "$rc" -eq "$code" ] || fail "'$*': exit $rc, expected $code ($(cat "$D/err"))"
    lines=$(wc -l < "$D/err")
    [ "$lines" -eq 1 ] || fail "'$*': $lines stderr lines"
    LAST=$(epoch)
    [ "$LAST" -eq "$before" ] || fail "'$*': a failed command changed the epoch"
}
# fields JSON FIELD...: each jq path exists (not null)
fields() {
    local j=$1 f; shift
    echo "$j" | jq -e . >/dev/null || fail "not JSON: $j"
    for f in "$@"; do
        echo "$j" | jq -e "$f != null" >/dev/null || fail "field $f missing in: ${j:0:300}"
    done
}

start_mon
[ "$(epoch)" -eq 1 ] || fail "a new cluster starts at epoch 1"

# ---- JSON of read-only commands ----
fields "$(J status)" .fsid .epoch .health.status .health.checks .osdmap.num_osds \
    .osdmap.num_up_osds .osdmap.num_in_osds .osdmap.flags .num_pools .pools .pgmap.num_pgs \
    .pgmap.num_pgs_by_state .pgmap.num_objects .pgmap.num_bytes .pgmap.recovery.objects_left \
    .pgmap.recovery.bytes_left .pgmap.recovery.eta_seconds
fields "$(J -s)" .fsid
fields "$(J health)" .status .checks
fields "$(J health detail)" .status
fields "$(J osd stat)" .epoch .num_osds .num_up_osds .num_in_osds .flags
fields "$(J osd df)" .nodes .summary.bytes_total .summary.bytes_used .summary.utilization
fields "$(J osd dump)" .epoch .fsid .created .modified .flags .max_osd .pool_max .pools .osds \
    .pg_temp .primary_temp
fields "$(J osd tree)" .nodes .stray '.nodes[0].id' '.nodes[0].name' '.nodes[0].type' \
    '.nodes[0].type_id' '.nodes[0].children'
J osd tree | jq -e '.nodes[] | select(.name == "default" and .type == "root")' >/dev/null \
    || fail "no root default"
fields "$(J osd crush tree)" .nodes
fields "$(J osd crush rule ls)" '.[0]'
J osd crush rule ls | jq -e 'index("replicated_rule") == 0' >/dev/null || fail "rule 0"
fields "$(J osd crush rule dump)" '.[0].rule_id' '.[0].rule_name' '.[0].type' '.[0].steps'
fields "$(J osd crush rule dump replicated_rule)" .rule_id .steps '.steps[1].op' '.steps[1].type'
[ "$(J osd crush rule dump replicated_rule | jq -r '.steps[1].op + " " + .steps[1].type')" = \
  "chooseleaf_firstn host" ] || fail "default rule is not chooseleaf firstn host"
fields "$(J mon stat)" .fsid .epoch .num_mons .mons '.mons[0].addr' .quorum .leader \
    .osdmap_first_committed .osdmap_last_committed
fields "$(J pg stat)" .epoch .num_pgs .num_pgs_by_state .num_active_clean .all_active_clean \
    .num_objects .num_bytes .degraded_objects .misplaced_objects .unfound_objects .recovery
fields "$(J pg dump)" .epoch .pg_stats .osd_stats
J osd pool ls | jq -e 'length == 0' >/dev/null || fail "pools on a new cluster"

# ---- pools ----
bump 1 osd pool create rbd 16 2
bump 0 osd pool create rbd 16 2                       # exists: no new epoch
bump 1 osd pool create data 8 --rule replicated_rule --min-size 1 --hash rjenkins
J osd pool ls | jq -e '. == ["rbd","data"]' >/dev/null || fail "pool ls: $(J osd pool ls)"
P=$(J osd pool get rbd)
fields "$P" .pool_id .pool_name .type .size .min_size .pg_num .pgp_num .crush_rule \
    .crush_rule_name .object_hash .last_change
[ "$(echo "$P" | jq -r '[.pool_id,.size,.min_size,.pg_num,.type,.object_hash]|join(" ")')" = \
  "1 2 1 16 replicated xxh3" ] || fail "pool get rbd: $P"
[ "$(J osd pool get data object_hash | jq -r .object_hash)" = rjenkins ] || fail "hash"
[ "$(J osd pool get data pg_num | jq -r .pg_num)" = 8 ] || fail "pool get KEY"
fields "$(J osd pool ls detail)" '.[1].pool_name'
bump 1 osd pool set rbd size 3
bump 1 osd pool set rbd min_size 2
bump 1 osd pool set rbd pg_num 32
bump 1 osd pool set rbd pgp_num 32
bump 0 osd pool set rbd pgp_num 32                    # same value: no-op
[ "$(J osd pool get rbd | jq -r '[.size,.min_size,.pg_num,.pgp_num]|join(" ")')" = "3 2 32 32" ] \
    || fail "pool set"
err 34 osd pool set rbd size 0
err 34 osd pool set rbd size 17
err 34 osd pool set rbd min_size 4
err 22 osd pool set rbd pg_num 8                      # no PG merge
err 22 osd pool set rbd nosuchkey 1
err 22 osd pool set rbd size abc
err 2 osd pool set nosuchpool size 2
err 2 osd pool get nosuchpool
err 2 osd pool rm nosuchpool
err 2 osd pool create x 8 --rule nosuchrule
err 34 osd pool create x 0
err 22 osd pool create x abc
err 22 osd pool create
bump 1 osd pool rm data
bump 1 osd pool create data2 4
[ "$(J osd pool get data2 | jq -r .pool_id)" = 3 ] || fail "pool ids are never reused"
M=$(J osd map rbd someobject)
fields "$M" .epoch .pool .pool_id .objname .raw_pgid .pgid .up .up_primary .acting .acting_primary
[ "$(echo "$M" | jq -r .pgid)" = "$(J osd map rbd someobject | jq -r .pgid)" ] || fail "stable"
PG=$(echo "$M" | jq -r .pgid)
fields "$(J pg map "$PG")" .epoch .pgid .up .acting .up_primary .acting_primary .state
err 2 pg map 99.0
err 2 pg map 1.ff
err 22 pg map garbage
[ "$(J pg stat | jq -r .num_pgs)" = 36 ] || fail "pg stat counts 32 + 4 pgs"
# an erasure pool gets an indep rule over hosts (created once, like Ceph's default profile)
bump 1 osd pool create ecp 8 --erasure 2 1
J osd pool get ecp | jq -e '.type == "erasure" and .size == 3 and .ec_k == 2 and .ec_m == 1
    and .crush_rule_name == "erasure_rule"' >/dev/null || fail "ec pool: $(J osd pool get ecp)"
J osd crush rule dump erasure_rule | jq -e '.steps | map(.op) | index("chooseleaf_indep") != null' \
    >/dev/null || fail "erasure_rule is not indep"
err 16 osd crush rule rm erasure_rule
bump 1 osd pool rm ecp
bump 1 osd crush rule rm erasure_rule

# ---- OSD commands without OSDs, flags ----
err 2 osd out 0
err 2 osd in 7
err 22 osd down x
err 2 osd reweight 3 0.5
bump 1 osd set noout
bump 0 osd set noout
J health | jq -e '.checks.OSDMAP_FLAGS.severity == "HEALTH_WARN"' >/dev/null || fail "flag check"
[ "$(J osd stat | jq -r .flags)" = noout ] || fail "flags"
bump 1 osd set pause
bump 1 osd unset noout
bump 1 osd unset pause
err 22 osd set nosuchflag

# ---- CRUSH: CLI edits == cairn-crush offline edits ----
# Ceph's own binary format (crushtool -c) is accepted too, when crushtool is installed
if command -v crushtool >/dev/null; then
    crushtool -c "${CAIRN_ROOT:-.}/tests/data/osdmap/crush6.txt" -o "$D/ceph.bin"
    C osd getcrushmap -o "$D/before.bin" 2>/dev/null
    bump 1 osd setcrushmap -i "$D/ceph.bin"
    C osd getcrushmap -o "$D/imported.bin" 2>/dev/null
    diff <("$B/cairn-crush" -d "$D/imported.bin") <(crushtool -d "$D/ceph.bin") \
        || fail "Ceph binary import differs from crushtool's view"
    bump 1 osd setcrushmap -i "$D/before.bin"
fi
C osd getcrushmap -o "$D/c0.bin" 2>/dev/null
bump 1 osd crush add-bucket h1 host
bump 1 osd crush move h1 root=default
bump 1 osd crush add osd.0 1.0 host=h1 root=default
bump 1 osd crush add 1 2.0 host=h2 root=default
bump 1 osd crush reweight osd.0 0.5
err 17 osd crush add-bucket h1 host
err 22 osd crush add-bucket h9 nosuchtype
err 2 osd crush move nosuchbucket root=default
err 22 osd crush add 5 1.0 nosuchtype=x
err 17 osd crush add 0 1.0 host=h1 root=default
err 2 osd crush reweight osd.9 1.0
C osd getcrushmap -o "$D/cli.bin" 2>/dev/null
"$B/cairn-crush" -i "$D/c0.bin" --add-item 0 1.0 osd.0 --loc host h1 --loc root default \
    -o "$D/t1.bin" >/dev/null
"$B/cairn-crush" -i "$D/t1.bin" --add-item 1 2.0 osd.1 --loc host h2 --loc root default \
    -o "$D/t2.bin" >/dev/null
"$B/cairn-crush" -i "$D/t2.bin" --reweight-item osd.0 0.5 -o "$D/off.bin" >/dev/null
"$B/cairn-crush" -d "$D/cli.bin" -o "$D/cli.txt"
"$B/cairn-crush" -d "$D/off.bin" -o "$D/off.txt"
diff -u "$D/off.txt" "$D/cli.txt" || fail "CLI crush edits differ from cairn-crush's"
"$B/cairn-crush" -i "$D/cli.bin" --test --rule 0 --num-rep 2 --min-x 0 --max-x 99 \
    --show-mappings > "$D/m1.txt"
"$B/cairn-crush" -i "$D/off.bin" --test --rule 0 --num-rep 2 --min-x 0 --max-x 99 \
    --show-mappings > "$D/m2.txt"
cmp -s "$D/m1.txt" "$D/m2.txt" || fail "mappings differ"
grep -q 'osd.0' "$D/cli.txt" || fail "osd.0 not in decompiled map"
# text round trip through setcrushmap
bump 1 osd crush rule create-replicated byosd default osd
bump 0 osd crush rule create-replicated byosd default osd
J osd crush rule ls | jq -e 'index("byosd") == 1' >/dev/null || fail "rule ls"
bump 1 osd pool set data2 crush_rule byosd
err 16 osd crush rule rm byosd
C osd getcrushmap -o "$D/a.bin" 2>/dev/null
"$B/cairn-crush" -d "$D/a.bin" -o "$D/a.txt"
"$B/cairn-crush" -c "$D/a.txt" -o "$D/b.bin"
bump 0 osd setcrushmap -i "$D/b.bin"                  # same map: no new epoch
sed 's/item osd.0 weight 0.500/item osd.0 weight 0.750/' "$D/a.txt" > "$D/a2.txt"
grep -q 'osd.0 weight 0.75' "$D/a2.txt" || fail "sed did not edit the decompiled map"
"$B/cairn-crush" -c "$D/a2.txt" -o "$D/b2.bin"
bump 1 osd setcrushmap -i "$D/b2.bin"
C osd getcrushmap -o "$D/c.bin" 2>/dev/null
"$B/cairn-crush" -d "$D/c.bin" -o "$D/c.txt"
"$B/cairn-crush" -d "$D/b2.bin" -o "$D/b2.txt"
diff -u "$D/b2.txt" "$D/c.txt" || fail "setcrushmap/getcrushmap round trip"
cmp -s "$D/b2.bin" "$D/c.bin" || fail "setcrushmap/getcrushmap binary round trip"
grep -q 'item osd.0 weight 0.750' "$D/c.txt" || fail "edited weight lost"
printf '\001\001\377\377\377\177junk' > "$D/junk.bin"
err 74 osd setcrushmap -i "$D/junk.bin"
# device classes and a class rule
bump 1 osd crush set-device-class ssd 0
J osd crush class ls | jq -e '. == ["ssd"]' >/dev/null || fail "class ls: $(J osd crush class ls)"
J osd tree | jq -e '.nodes[] | select(.id == 0) | .device_class == "ssd"' >/dev/null \
    || fail "device_class in tree"
bump 1 osd crush rule create-replicated fast default host ssd
err 2 osd crush set-device-class ssd 42
bump 1 osd crush rule rm fast
bump 1 osd crush rm-device-class 0
bump 1 osd crush rm osd.1
bump 1 osd crush rm h2
err 2 osd crush rm h2
J osd crush tree | jq -e '[.nodes[].name] | index("h1") != null' >/dev/null || fail "tree h1"

# ---- plain text renders without errors ----
for c in "status" "health detail" "osd tree" "osd dump" "osd stat" "osd df" "osd pool ls" \
         "osd pool ls detail" "osd pool get rbd" "osd map rbd x" "pg stat" "pg dump" \
         "pg map $PG" "mon stat" "osd crush rule ls" "osd crush rule dump" "osd crush tree" \
         "osd crush class ls"; do
    # shellcheck disable=SC2086
    C $c > "$D/plain" 2>&1 || fail "plain '$c' failed"
    [ -s "$D/plain" ] || fail "plain '$c' printed nothing"
done

# ---- watch: a subscriber sees every epoch ----
E0=$(epoch)
timeout 30 "$B/cairn" -c "$D/cairn.conf" -f json watch --count 4 --timeout 25 > "$D/watch" &
WP=$!
for _ in $(seq 100); do [ -s "$D/watch" ] && break; sleep 0.05; done
C osd set noin >/dev/null 2>&1
C osd unset noin >/dev/null 2>&1
C osd pool set rbd size 2 >/dev/null 2>&1
wait "$WP" || fail "watch failed"
WP=
LAST=
[ "$(jq -r .epoch "$D/watch" | tr '\n' ' ')" = "$E0 $((E0 + 1)) $((E0 + 2)) $((E0 + 3)) " ] \
    || fail "watch saw: $(jq -r .epoch "$D/watch" | tr '\n' ' ') from $E0"

# ---- restart keeps every map ----
E=$(epoch)
FSID=$(J status | jq -r .fsid)
stop_mon
start_mon
[ "$(epoch)" -eq "$E" ] || fail "epoch after restart"
[ "$(J status | jq -r .fsid)" = "$FSID" ] || fail "fsid after restart"
J osd pool ls | jq -e '. == ["rbd","data2"]' >/dev/null || fail "pools after restart"
for e in 1 $((E / 2)) "$E"; do
    C osd getmap "$e" -o "$D/map.$e" 2>/dev/null || fail "getmap $e"
    [ -s "$D/map.$e" ] || fail "empty map $e"
done
err 2 osd getmap $((E + 5))
[ "$(J mon stat | jq -r .osdmap_last_committed)" -eq "$E" ] || fail "mon stat"

# ---- unreachable monitor: a timeout, one line, non-zero ----
stop_mon
rc=0
start=$(date +%s)
timeout 20 "$B/cairn" -c "$D/cairn.conf" --connect-timeout 1 status >"$D/out" 2>"$D/err" || rc=$?
[ "$rc" -ne 0 ] || fail "unreachable mon: exit 0"
[ "$(wc -l < "$D/err")" -eq 1 ] || fail "unreachable: $(cat "$D/err")"
grep -q unreachable "$D/err" || fail "unreachable message: $(cat "$D/err")"
[ $(($(date +%s) - start)) -le 5 ] || fail "timeout not honoured"
echo "test_mon_cli: ok"
