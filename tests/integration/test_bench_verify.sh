#!/usr/bin/env bash
# test_bench_verify — cairn-bench end to end on a 3-OSD cluster: a --verify write run kept
# with --no-cleanup, seq and rand --verify reads of it, the summary line's keys, -f json, two
# concurrent runs with distinct run names, cleanup; and clear one-line errors for a bad conf
# file, a malformed conf, a bad pool name and a read run with no write run before it.
# timeout: 150
set -euo pipefail
ROOT=${CAIRN_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${CAIRN_BIN:-$ROOT/build/bin}
[ -x "$BIN/cairn-up" ] || { echo "cairn-up not built"; exit 77; }
[ -x "$BIN/cairn-bench" ] || { echo "cairn-bench not built"; exit 77; }
B=$BIN/cairn-bench

T=$(mktemp -d /tmp/cairn-benchtest.XXXXXX)
cleanup() { "$BIN/cairn-up" stop --dir "$T/c" >/dev/null 2>&1 || true; rm -rf "$T"; }
trap cleanup EXIT
trap "exit 143" TERM INT
fail() { echo "FAIL: $*" >&2; exit 1; }

# expect_err WANT_REGEX CMD...: CMD fails (exit 1) with a one-line error matching WANT_REGEX
expect_err() {
    local want=$1; shift
    local rc=0
    "$@" > "$T/out" 2> "$T/err" || rc=$?
    [ $rc -eq 1 ] || { cat "$T/out" "$T/err"; fail "'$*' exit $rc, want 1"; }
    grep -Eq "$want" "$T/err" || { cat "$T/err"; fail "'$*': no '$want' on stderr"; }
    echo "ok: $(head -n1 "$T/err")"
}

# --- errors that need no cluster
expect_err "cannot read conf file $T/nope.conf" $B -c "$T/nope.conf" -p rbd 1 write
printf '[global]\nmon_host = 127.0.0.1:1\nbogus_option = 1\n' > "$T/bad.conf"
expect_err "bogus_option" $B -c "$T/bad.conf" -p rbd 1 write
rc=0; $B -p rbd 1 write > /dev/null 2>&1 || rc=$?; [ $rc -eq 2 ] || fail "missing -c: exit $rc"
rc=0; $B -c "$T/bad.conf" -p rbd 1 frobnicate > /dev/null 2>&1 || rc=$?
[ $rc -eq 2 ] || fail "bad mode: exit $rc"

"$BIN/cairn-up" start --dir "$T/c" --osds 3 --pool rbd:16:3 --set "osd_inline_ops = true" \
    > "$T/up.log" 2>&1 ||
    { tail -n 30 "$T/up.log"; fail "cairn-up start"; }
C=$T/c/cairn.conf

expect_err "pool 'nosuchpool': no such pool" $B -c "$C" -p nosuchpool 1 write
expect_err "no write run" $B -c "$C" -p rbd 1 seq --run-name never-written

# summary: KEY=VALUE fields of the last summary line of FILE
field() { grep '^summary:' "$1" | tail -n1 | tr ' ' '\n' | sed -n "s/^$2=//p"; }
check_summary() {
    local f=$1 mode=$2 k
    grep -q '^summary:' "$f" || fail "no summary line in $f"
    for k in mode size inflight seconds ops errors bw_MBps iops lat_avg_ms lat_p50_ms \
             lat_p99_ms lat_p999_ms lat_max_ms; do
        [ -n "$(field "$f" $k)" ] || fail "summary has no $k= ($f)"
    done
    [ "$(field "$f" mode)" = "$mode" ] || fail "mode=$(field "$f" mode), want $mode"
    [ "$(field "$f" errors)" = 0 ] || { cat "$f"; fail "$mode run had errors"; }
    [ "$(field "$f" ops)" -gt 0 ] || fail "$mode run did no ops"
    [ "$(field "$f" verify_errors)" = 0 ] || fail "$mode run had verify errors"
}

# --- write with verification, kept for the read runs
$B -c "$C" -p rbd 3 write -t 8 -b 64K --no-cleanup --verify --run-name vt > "$T/w.txt"
cat "$T/w.txt"
check_summary "$T/w.txt" write
grep -Eq '^ +1 ' "$T/w.txt" || fail "no per-second progress line"
nobj=$(field "$T/w.txt" ops)
[ "$(field "$T/w.txt" size)" = 65536 ] || fail "size"

$B -c "$C" -p rbd 3 seq -t 8 --verify --run-name vt > "$T/s.txt"
check_summary "$T/s.txt" seq
[ "$(field "$T/s.txt" ops)" -le "$nobj" ] || fail "seq read more objects than were written"
$B -c "$C" -p rbd 2 rand -t 8 --verify --run-name vt -f json > "$T/r.json" 2> "$T/r.err"
jq -e '.mode == "rand" and .errors == 0 and .verify_errors == 0 and .ops > 0 and
       .latency_ms.p99 >= .latency_ms.p50' "$T/r.json" > /dev/null ||
    { cat "$T/r.json"; fail "json output"; }
check_summary "$T/r.err" rand
echo "ok: write/seq/rand --verify, json"

# --- a corrupted object is caught by --verify (overwritten through libcairn)
$B -c "$C" -p rbd 1 write -t 2 -b 4K --no-cleanup --run-name vc > /dev/null
LIB=$(cd "$BIN/../lib" && pwd)
cat > "$T/corrupt.c" <<'C'
#include <cairn/libcairn.h>
int main(int argc, char **argv)
{
	cairn_t *cl; cairn_ioctx_t *io;
	(void)argc;
	if (cairn_create(&cl, argv[1]) || cairn_connect(cl) || cairn_ioctx_create(cl, "rbd", &io))
		return 1;
	return cairn_write(io, argv[2], "CORRUPT", 7, 1000) ? 1 : 0;
}
C
# a program linked against an ASan-built libcairn.so must be built with ASan too
SANFLAGS=; [ "${CAIRN_ASAN:-}" = 1 ] && SANFLAGS="-fsanitize=address,undefined"
cc $SANFLAGS -I"$ROOT/include" "$T/corrupt.c" -L"$LIB" -lcairn -Wl,-rpath,"$LIB" -o "$T/corrupt"
"$T/corrupt" "$C" benchmark_data_vc_object0 || fail "corrupt tool"
rc=0; $B -c "$C" -p rbd 2 seq -t 1 --verify --run-name vc > "$T/vc.txt" 2> "$T/vc.err" || rc=$?
[ $rc -eq 1 ] || { cat "$T/vc.txt" "$T/vc.err"; fail "seq --verify of a corrupted object: exit $rc"; }
grep -q 'verify: object benchmark_data_vc_object0 has wrong content' "$T/vc.err" ||
    fail "no verify message"
[ "$(field "$T/vc.txt" verify_errors)" = 1 ] || fail "verify_errors != 1"
echo "ok: --verify catches a corrupted object"

# --- two concurrent runs with distinct run names, then cleanup of both
$B -c "$C" -p rbd 2 write -t 4 -b 4K --no-cleanup --run-name r1 > "$T/c1.txt" &
p1=$!
$B -c "$C" -p rbd 2 write -t 4 -b 4K --no-cleanup --run-name r2 > "$T/c2.txt" &
p2=$!
wait $p1 || fail "concurrent run r1"
wait $p2 || fail "concurrent run r2"
check_summary "$T/c1.txt" write
check_summary "$T/c2.txt" write
$B -c "$C" -p rbd 1 seq --verify --run-name r1 > "$T/c1r.txt"
check_summary "$T/c1r.txt" seq
for rn in r1 r2 vt vc; do
    $B -c "$C" -p rbd cleanup --run-name $rn > "$T/cl.txt" || fail "cleanup $rn"
    grep -q 'cleanup: removed' "$T/cl.txt" || fail "cleanup output"
done
expect_err "no write run" $B -c "$C" -p rbd 1 rand --run-name r1
echo "ok: concurrent run names, cleanup"

# --- default write run cleans up after itself
$B -c "$C" -p rbd 1 write -t 4 -b 4K > "$T/d.txt"
check_summary "$T/d.txt" write
grep -q 'cleanup: removed' "$T/d.txt" || fail "write without --no-cleanup did not clean up"

# --- reads of small objects ran inline on the messenger thread (osd_inline_ops); reads of
# 64K objects (data in slots, on disk) were handed back to an op shard: both paths ran;
"$BIN/cairn-up" stop --dir "$T/c" > /dev/null 2>&1 || fail "cairn-up stop"
# and replicas applied small repops inline too (osd_inline_repops), primaries ran small
# client writes inline (osd_inline_writes), with every --verify read above intact
inl=0 back=0 rinl=0 winl=0
for l in "$T"/c/osd.*.log; do
    n=$(sed -n 's/.*reads run inline \([0-9]*\), reads handed back to a shard \([0-9]*\).*/\1 \2/p' "$l" | tail -n1)
    [ -n "$n" ] || fail "no stop summary in $l"
    inl=$((inl + ${n% *})) back=$((back + ${n#* }))
    n=$(sed -n 's/.*repops run inline \([0-9]*\),.*/\1/p' "$l" | tail -n1)
    [ -n "$n" ] || fail "no repop counts in the stop summary of $l"
    rinl=$((rinl + n))
    n=$(sed -n 's/.*writes run inline \([0-9]*\),.*/\1/p' "$l" | tail -n1)
    [ -n "$n" ] || fail "no write counts in the stop summary of $l"
    winl=$((winl + n))
done
echo "reads run inline: $inl, handed back: $back; repops run inline: $rinl; writes run inline: $winl"
[ "$inl" -gt 0 ] || fail "no read ran inline"
[ "$back" -gt 0 ] || fail "no read of slot data was handed back to a shard"
[ "$rinl" -gt 0 ] || fail "no repop ran inline on a replica"
[ "$winl" -gt 0 ] || fail "no client write ran inline on a primary"
echo "test_bench_verify: ok"
