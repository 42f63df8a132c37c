#!/usr/bin/env bash
# tools/bench-vs-ceph.sh BUILD — `make bench-vs-ceph`: the same workloads on cairn and on a
# local Ceph (../shared/peers/ceph-local.sh) in one run, one after the other, and the ratios.
#
#   cluster   3 OSDs, one pool of 32 PGs, size 3 (both systems), all on 127.0.0.1
#   4m-write  4 MiB objects, 16 in flight, kept for the reads     (target: cairn >= 2x MB/s)
#   4m-seq / 4m-rand  reads of them, 16 in flight
#   4k-write  4 KiB objects, 16 in flight, kept                   (target: cairn >= 3x IOPS)
#   4k-rand   random 4 KiB reads of them, 16 in flight            (target: cairn >= 3x IOPS)
# Reads start with the page cache dropped (when permitted), as ceph-local.sh does.
# Disk: before and after the runs, 3 parallel `dd oflag=direct` streams (2000 MiB each)
# measure what the disk under BENCH_OUT writes (the ceiling of a size-3 pool is a third of it
# when all OSDs share that disk); during the runs a sampler reads the disk's sectors-written
# counter every 0.5 s, and the write phases report the disk's MB/s and disk bytes per client
# byte for both systems, and what disk rate the 4 MiB target (2x Ceph) would take.
#
# Settle: BENCH_SETTLE seconds (default 30) of idle before each system's 4 KiB write phase.
# The 4 MiB phases write 9-12 GB to this VM's disk; for tens of seconds afterwards the disk's
# syncs are slower (the guest idle: no CPU, no disk I/O of its own), and a 4 KiB write phase
# run at once measures that (docs/perf.md, fifth session). Both systems get the same pause:
# with BENCH_SETTLE > 0 this script runs Ceph's rados bench phases itself, the same
# commands, order and cache drops as `ceph-local.sh bench`, with the pause inserted;
# BENCH_SETTLE=0 calls `ceph-local.sh bench` unchanged and pauses neither system.
#
# Environment: BENCH_SECONDS (default 20) per phase; BENCH_OUT (results directory, default
# /tmp/cairn-bench-vs-ceph-DATE); BENCH_SET="opt = v": one --set for the cairn cluster (e.g.
# "osd_inline_ops = true"); CEPH_PEER_* are passed to ceph-local.sh. Without Ceph
# (command -v ceph-osd fails) only cairn runs and the script says how to install Ceph.
set -euo pipefail
BUILD=${1:-build}
BIN=$(cd "$BUILD/bin" && pwd)
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECS=${BENCH_SECONDS:-20}
SETTLE=${BENCH_SETTLE:-30}
[[ $SETTLE =~ ^[0-9]+$ ]] || { echo "BENCH_SETTLE must be a number of seconds" >&2; exit 2; }
OUT=${BENCH_OUT:-/tmp/cairn-bench-vs-ceph-$(date +%Y%m%d-%H%M%S)}
PEER=${CEPH_PEER_SCRIPT:-$ROOT/../shared/peers/ceph-local.sh}
mkdir -p "$OUT"
log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

CDIR=$(mktemp -d /tmp/cairn-bvc.XXXXXX)
CEPH_UP=0
SAMPLER=
cleanup() {
    [ -n "$SAMPLER" ] && kill "$SAMPLER" 2>/dev/null || true
    "$BIN/cairn-up" stop --dir "$CDIR" >/dev/null 2>&1 || true
    rm -rf "$CDIR"
    if [ $CEPH_UP = 1 ]; then "$PEER" down >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true; }

# ---- the disk: its ceiling, and a sampler of what it writes (bounded: at most ~1 h)
DISK_STAT=
dev=$(findmnt -no SOURCE -T "$OUT" 2>/dev/null || true)
[ -n "$dev" ] && [ -r "/sys/class/block/$(basename "$dev")/stat" ] &&
    DISK_STAT=/sys/class/block/$(basename "$dev")/stat
# 3 parallel streams of 2000 MiB each (the disk's rate drifts by tens of percent within
# minutes, so it is measured before and after all phases)
disk_ceiling() {
    local t0 t1 i
    t0=$(date +%s.%N)
    for i in 1 2 3; do
        dd if=/dev/zero of="$OUT/dd.$i" bs=4M count=500 oflag=direct 2>/dev/null &
    done
    wait
    t1=$(date +%s.%N)
    rm -f "$OUT"/dd.?
    echo "scale=1; 3 * 2000 / ($t1 - $t0)" | bc
}
if [ -n "$DISK_STAT" ]; then
    log "disk $(basename "$dev"): 3 x dd oflag=direct bs=4M count=500"
    DISK_MAX=$(disk_ceiling)
    for ((i = 0; i < 7200; i++)); do
        printf '%s %s\n' "$(date +%s.%N)" "$(awk '{print $7}' "$DISK_STAT")"
        sleep 0.5
    done > "$OUT/disk-samples.txt" &
    SAMPLER=$!
fi

# ---- cairn
log "cairn: starting 3 OSDs, pool bench (32 PGs, size 3)"
"$BIN/cairn-up" start --dir "$CDIR" --osds 3 --pool bench:32:3 ${BENCH_SET:+--set "$BENCH_SET"} \
    > "$OUT/cairn-up.txt" 2>&1 ||
    { tail -n 30 "$OUT/cairn-up.txt" >&2; exit 1; }
CONF=$CDIR/cairn.conf
cb() { local name=$1 t0; shift
       log "cairn: $name"
       t0=$(date +%s.%N)
       "$BIN/cairn-bench" -c "$CONF" -p bench "$SECS" "$@" > "$OUT/cairn-$name.txt" 2>&1 ||
           log "cairn: $name exited non-zero (see $OUT/cairn-$name.txt)"
       echo "cairn-$name $t0 $(date +%s.%N)" >> "$OUT/phases.txt"; }
cb 4m-write write -t 16 -b 4M --no-cleanup --run-name bvc4m
drop_caches; cb 4m-seq seq -t 16 --run-name bvc4m
drop_caches; cb 4m-rand rand -t 16 --run-name bvc4m
"$BIN/cairn-bench" -c "$CONF" -p bench cleanup --run-name bvc4m > /dev/null 2>&1 || true
settle() { [ "$SETTLE" = 0 ] || { log "$1: ${SETTLE}s idle before the 4 KiB writes"; sleep "$SETTLE"; }; }
settle cairn
cb 4k-write write -t 16 -b 4K --no-cleanup --run-name bvc4k
drop_caches; cb 4k-rand rand -t 16 --run-name bvc4k
"$BIN/cairn-bench" -c "$CONF" -p bench cleanup --run-name bvc4k > /dev/null 2>&1 || true
"$BIN/cairn-up" stop --dir "$CDIR" > /dev/null 2>&1 || true

# "bw iops lat" of a cairn-bench output file
cairn_nums() {
    grep '^summary:' "$1" | tail -n1 | tr ' ' '\n' |
        awk -F= '$1=="bw_MBps"{b=$2} $1=="iops"{i=$2} $1=="lat_avg_ms"{l=$2}
                 END{printf "%s %s %s\n", b+0, i+0, l+0}'
}

# ---- Ceph
# ceph-local.sh bench's phases (same rados bench commands, order, cache drops and summary
# format) with the settle pause before the 4 KiB writes
ceph_bench_settled() {
    local conf=$CEPH_PEER_DIR/ceph.conf lim=$((SECS * 4 + 120)) out w
    local rb=(timeout "$lim" rados --conf "$conf" -p bench bench "$SECS")
    out=$CEPH_PEER_RESULTS/bench-$(date +%Y%m%d-%H%M%S)
    mkdir -p "$out"
    dropc() { timeout 60 ceph --conf "$conf" --connect-timeout 30 tell 'osd.*' cache drop \
                  > /dev/null 2>&1 || true; drop_caches; }
    timeout "$lim" rados --conf "$conf" -p bench cleanup > /dev/null 2>&1 || true
    "${rb[@]}" write -b 4194304 -t 16 --no-cleanup > "$out/4m-write.txt" 2>&1 || return 1
    dropc
    "${rb[@]}" seq -t 16 > "$out/4m-seq.txt" 2>&1 || return 1
    dropc
    "${rb[@]}" rand -t 16 > "$out/4m-rand.txt" 2>&1 || return 1
    timeout "$lim" rados --conf "$conf" -p bench cleanup > "$out/4m-cleanup.txt" 2>&1
    settle ceph
    "${rb[@]}" write -b 4096 -t 16 --no-cleanup > "$out/4k-write.txt" 2>&1 || return 1
    dropc
    "${rb[@]}" rand -t 16 > "$out/4k-rand.txt" 2>&1 || return 1
    timeout "$lim" rados --conf "$conf" -p bench cleanup > "$out/4k-cleanup.txt" 2>&1
    {
        echo "# rados bench, pool bench (size 3), $SECS s per phase, 16 ops in flight;" \
             "${SETTLE}s idle before 4k-write"
        printf '%-16s %10s %8s %12s %8s\n' workload MB/s IOPS avg_lat_ms secs
        for w in 4m-write 4m-seq 4m-rand 4k-write 4k-rand; do
            awk -F: -v w="$w" '
                /^Bandwidth \(MB\/sec\)/ { bw = $2 + 0 }
                /^Average IOPS/          { iops = $2 + 0 }
                /^Average Latency\(s\)/  { lat = $2 * 1000 }
                /^Total time run/        { t = $2 + 0 }
                END { printf "%-16s %10.2f %8d %12.2f %8.1f\n", w, bw, iops, lat, t }' \
                "$out/$w.txt"
        done
    } > "$out/summary.txt"
    cat "$out/summary.txt"
}

HAVE_CEPH=0
if command -v ceph-osd > /dev/null 2>&1 && [ -x "$PEER" ]; then
    HAVE_CEPH=1
    export CEPH_PEER_RESULTS=$OUT/ceph
    # our own directory and ports, so a Ceph peer someone else runs on this machine is safe
    export CEPH_PEER_DIR=${CEPH_PEER_DIR:-$OUT/ceph-cluster}
    base=$((20000 + ($$ % 200) * 200))
    export CEPH_PEER_MON_PORT=${CEPH_PEER_MON_PORT:-$base}
    export CEPH_PEER_PORT_MIN=${CEPH_PEER_PORT_MIN:-$((base + 1))}
    export CEPH_PEER_PORT_MAX=${CEPH_PEER_PORT_MAX:-$((base + 199))}
    log "ceph: up (3 OSDs, pool bench 32 PGs size 3)"
    CEPH_UP=1
    "$PEER" up 3 > "$OUT/ceph-up.txt" 2>&1 || { tail -n 30 "$OUT/ceph-up.txt" >&2; exit 1; }
    log "ceph: rados bench, ${SECS}s per phase"
    if [ "$SETTLE" = 0 ]; then
        "$PEER" bench "$SECS" > "$OUT/ceph-bench.txt" 2>&1 ||
            { tail -n 30 "$OUT/ceph-bench.txt" >&2; exit 1; }
    else
        ceph_bench_settled > "$OUT/ceph-bench.txt" 2>&1 ||
            { tail -n 30 "$OUT/ceph-bench.txt" >&2; exit 1; }
    fi
    "$PEER" down > /dev/null 2>&1 || true
    CEPH_UP=0
    CEPH_SUMMARY=$(ls -d "$OUT"/ceph/bench-*/summary.txt | tail -n1)
    for w in 4m-write 4k-write; do # rados bench's output file: created at start, last written at end
        f=$(dirname "$CEPH_SUMMARY")/$w.txt
        echo "ceph-$w $(stat -c '%W %Y' "$f")" >> "$OUT/phases.txt"
    done
else
    log "ceph-osd is not installed (or $PEER is missing): cairn numbers only."
    log "install Ceph with: apt-get install -y ceph ceph-mon ceph-osd ceph-mgr ceph-base ceph-common"
fi

if [ -n "$DISK_STAT" ]; then
    log "disk $(basename "$dev"): 3 x dd oflag=direct bs=4M count=500, again"
    DISK_MAX_AFTER=$(disk_ceiling)
fi

ceph_nums() { awk -v w="$1" '$1 == w { printf "%s %s %s\n", $2, $3, $4 }' "$CEPH_SUMMARY"; }

{
    echo "# bench-vs-ceph $(date -u '+%F %T UTC'); ${SECS}s per phase, 16 in flight, 3 OSDs, size 3"
    echo "# MB/s = MiB/s (2^20) for both; ratio = cairn / ceph (MB/s for 4m-*, IOPS for 4k-*);" \
         "${SETTLE}s idle before each system's 4k-write (BENCH_SETTLE)"
    printf '%-10s %10s %8s %9s | %10s %8s %9s | %7s %s\n' workload cairn_MBps iops lat_ms \
        ceph_MBps iops lat_ms ratio target
    for w in 4m-write 4m-seq 4m-rand 4k-write 4k-rand; do
        read -r cb ci cl < <(cairn_nums "$OUT/cairn-$w.txt")
        if [ $HAVE_CEPH = 1 ]; then
            read -r eb ei el < <(ceph_nums "$w")
        else
            eb=- ei=- el=-
        fi
        ratio=- target=
        case $w in
            4m-write) target=">=2x"; [ $HAVE_CEPH = 1 ] && ratio=$(echo "scale=2; $cb / $eb" | bc) ;;
            4k-write|4k-rand) target=">=3x"; [ $HAVE_CEPH = 1 ] && ratio=$(echo "scale=2; $ci / $ei" | bc) ;;
            *) [ $HAVE_CEPH = 1 ] && ratio=$(echo "scale=2; $cb / $eb" | bc) ;;
        esac
        printf '%-10s %10s %8s %9s | %10s %8s %9s | %7s %s\n' "$w" "$cb" "$ci" "$cl" "$eb" \
            "$ei" "$el" "$ratio" "$target"
    done
    [ -n "$DISK_STAT" ] || exit 0
    # disk MB/s over a phase (the samples inside its window) and disk bytes per client byte
    kill "$SAMPLER" 2>/dev/null || true
    echo "# disk $(basename "$dev"): ceiling $DISK_MAX MB/s before the runs, $DISK_MAX_AFTER after" \
         "(3 parallel dd oflag=direct); during the write phases:"
    for sys in cairn ceph; do
        for w in 4m-write 4k-write; do
            read -r _ a b < <(grep "^$sys-$w " "$OUT/phases.txt" || echo "- 0 0")
            [ "${a%.*}" -gt 0 ] 2>/dev/null || continue
            if [ $sys = cairn ]; then read -r cbw _ _ < <(cairn_nums "$OUT/cairn-$w.txt")
            else read -r cbw _ _ < <(ceph_nums "$w"); fi
            awk -v a="$a" -v b="$b" -v c="$cbw" -v n="$sys $w" '
                $1 >= a && $1 <= b { if (!t0) { t0 = $1; s0 = $2 } t1 = $1; s1 = $2 }
                END { if (t1 <= t0) exit
                      d = (s1 - s0) * 512 / 1048576 / (t1 - t0)
                      printf "#   %-15s disk %7.1f MB/s = %5.2f x client bytes\n", n, d,
                             (c > 0 ? d / c : 0) }' "$OUT/disk-samples.txt"
        done
    done
    # what the 4 MiB target asks of the disk: 2x Ceph's MB/s at cairn's disk bytes per byte
    read -r _ a b < <(grep "^cairn-4m-write " "$OUT/phases.txt" || echo "- 0 0")
    read -r cbw _ _ < <(cairn_nums "$OUT/cairn-4m-write.txt")
    if [ $HAVE_CEPH = 1 ] && [ "${a%.*}" -gt 0 ] 2>/dev/null; then
        read -r ebw _ _ < <(ceph_nums 4m-write)
        awk -v a="$a" -v b="$b" -v c="$cbw" -v e="$ebw" -v m1="$DISK_MAX" -v m2="$DISK_MAX_AFTER" '
            $1 >= a && $1 <= b { if (!t0) { t0 = $1; s0 = $2 } t1 = $1; s1 = $2 }
            END { if (t1 <= t0 || c <= 0) exit
                  x = (s1 - s0) * 512 / 1048576 / (t1 - t0) / c
                  printf "#   4m-write >= 2x ceph needs %.1f MB/s of client writes = %.1f MB/s of disk" \
                         " at %.2f x (ceiling %s / %s)\n", 2 * e, 2 * e * x, x, m1, m2 }' \
            "$OUT/disk-samples.txt"
    fi
} | tee "$OUT/summary.txt"
log "raw outputs in $OUT"
