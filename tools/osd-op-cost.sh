#!/bin/bash
# osd-op-cost.sh BINDIR TAG [SECONDS] — OSD CPU and context switches per client op, by thread.
#
# Starts a 3-OSD cluster (pool data:32:3) from BINDIR, runs a 4 KiB write phase then a
# 4 KiB random-read phase (cairn-bench, 16 in flight, SECONDS each, default 8) and prints,
# per client op, the utime+stime (us) and voluntary context switches of every OSD thread,
# summed over the 3 OSDs by thread name (/proc/PID/task/*/{stat,status}), then the totals.
# CPU per op is robust to other load on the machine, unlike IOPS: use it for A/B runs
# (alternate the two builds). Used for docs/perf.md "Where the time goes".
# OSD_COST_SET="opt = v" passes --set to cairn-up (e.g. "ms_workers = 1").
# OSD_COST_W4M=1 runs one 4 MiB write phase (16 in flight) instead of the two 4 KiB ones.
# OSD_COST_AFTER4M=1 first runs, unmeasured, what tools/bench-vs-ceph.sh runs before its 4 KiB
# writes: 4 MiB write, seq and rand reads (SECONDS each, page cache dropped before each read),
# cleanup; then the 4 KiB phases (docs/perf.md, fourth session). OSD_COST_FIRST4K=1 runs an
# unmeasured 4 KiB write phase (other objects) first, before the 4 MiB ones if both are set.
set -u
B=$1 TAG=$2 S=${3:-8}
D=$(mktemp -d /tmp/osd-op-cost.XXXXXX)
trap '"$B"/cairn-up stop --dir "$D" >/dev/null 2>&1; rm -rf "$D"' EXIT
set_args=()
[ -n "${OSD_COST_SET:-}" ] && set_args=(--set "$OSD_COST_SET")
"$B"/cairn-up start --dir "$D" --osds 3 --pool data:32:3 "${set_args[@]}" >/dev/null || exit 1
sleep 2
snap() {
	for f in "$D"/osd*.pid; do
		p=$(cat "$f")
		for t in /proc/"$p"/task/*; do
			echo "$(cat "$t"/comm) $(awk '{print $14+$15}' "$t"/stat) \
$(awk '/^voluntary_ctxt/{print $2}' "$t"/status)"
		done
	done | awk '{gsub(/[0-9]+$/, "", $1); c[$1] += $2; v[$1] += $3}
		END {for (k in c) print k, c[k], v[k]}' | sort
}
phase() {
	local name=$1 a b out ops
	shift
	a=$(snap)
	out=$("$B"/cairn-bench -c "$D"/cairn.conf -p data "$S" "$@" 2>&1)
	b=$(snap)
	ops=$(echo "$out" | grep -o ' ops=[0-9]*' | tail -1 | cut -d= -f2)
	[ -n "$ops" ] || { echo "$TAG $name: bench failed: $out" >&2; return 1; }
	echo "$TAG $name ops=$ops iops=$((ops / S)) load=$(cut -d' ' -f1 /proc/loadavg)"
	join <(echo "$a") <(echo "$b") | awk -v ops="$ops" -v tk="$(getconf CLK_TCK)" '
		{ d = ($4 - $2) * 1e6 / tk / ops; v = ($5 - $3) / ops; tc += d; tv += v
		  if (d > 1 || v > 0.05) printf "  %-14s %7.1f us/op %6.2f vcs/op\n", $1, d, v }
		END { printf "  %-14s %7.1f us/op %6.2f vcs/op\n", "total", tc, tv }'
}
if [ -n "${OSD_COST_W4M:-}" ]; then
	phase w4m write -t 16 -b 4M
	exit
fi
cb() { "$B"/cairn-bench -c "$D"/cairn.conf -p data "$S" "$@" > /dev/null 2>&1; }
[ -n "${OSD_COST_FIRST4K:-}" ] && cb write -t 16 -b 4K --no-cleanup --run-name f
if [ -n "${OSD_COST_AFTER4M:-}" ]; then
	dc() { sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true; }
	cb write -t 16 -b 4M --no-cleanup --run-name m; dc
	cb seq -t 16 --run-name m; dc
	cb rand -t 16 --run-name m
	"$B"/cairn-bench -c "$D"/cairn.conf -p data cleanup --run-name m > /dev/null 2>&1
fi
phase w4k write -t 16 -b 4K --no-cleanup --run-name s
phase r4k rand -t 16 --run-name s
