#!/usr/bin/env bash
# tools/ab-4m.sh BINDIR ROUNDS SECS CFG... — A/B of cluster options on 4 MiB writes,
# alternating the configs round by round (so that the disk's drift hits all of them alike).
#
# Per config and round: a fresh 3-OSD cluster (pool bench:32:3) started with `--set CFG`
# ("-" for none), SECS s of 4 MiB writes (16 in flight), the disk's sectors-written counter
# read before and after (the disk under /tmp); with AB4M_READS=1 then SECS s of sequential
# and SECS s of random reads of those objects, the page cache dropped before each (when
# permitted). One line per run:
#   round=R cfg=[CFG] bw_MBps=N disk_MB=N (x client bytes) [seq MB/s rand MB/s]
# Used for docs/store.md "Slot writes in flight".
set -u
. "$(dirname "$0")/ab-lib.sh"
B=$1 R=$2 S=$3
shift 3
dev=$(findmnt -no SOURCE -T /tmp 2>/dev/null || true)
STAT=/sys/class/block/$(basename "${dev:-none}")/stat
sectors() { [ -r "$STAT" ] && awk '{print $7}' "$STAT" || echo 0; }
for ((r = 1; r <= R; r++)); do
	for cfg in "$@"; do
		ab_up "$B" ab-4m bench:32:3 "$cfg" || exit 1
		D=$AB_DIR
		sleep 2
		sync
		s0=$(sectors)
		bw=$("$B"/cairn-bench -c "$D/cairn.conf" -p bench "$S" write -t 16 -b 4M --no-cleanup \
			2>&1 | grep -o "bw_MBps=[0-9.]*")
		s1=$(sectors)
		mb=$(( (s1 - s0) * 512 / 1000000 ))
		x=$(awk -v d="$mb" -v b="${bw#bw_MBps=}" -v s="$S" \
			'BEGIN { if (b > 0) printf "%.2f", d / (b * 1.048576 * s); else print "-" }')
		rd=
		if [ "${AB4M_READS:-0}" = 1 ]; then
			for m in seq rand; do
				sync
				echo 3 2>/dev/null >/proc/sys/vm/drop_caches || true
				rd="$rd $m $("$B"/cairn-bench -c "$D/cairn.conf" -p bench "$S" $m -t 16 2>&1 |
					grep -o "bw_MBps=[0-9.]*")"
			done
		fi
		echo "round=$r cfg=[$cfg] ${bw:-bw_MBps=failed} disk_MB=$mb (${x}x client bytes)$rd"
		"$B"/cairn-up stop --dir "$D" >/dev/null
		rm -rf "$D"
	done
done
