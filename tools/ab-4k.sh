#!/usr/bin/env bash
# tools/ab-4k.sh BINDIR ROUNDS WSECS RSECS CFG... — A/B of cluster options on 4 KiB writes and
# the random 4 KiB reads right after them, alternating the configs round by round (so that
# the machine's drift hits all of them alike).
#
# Per config and round: a fresh 3-OSD cluster (pool data:32:3) started with `--set CFG`
# ("-" for none; options that act at mkfs, such as store_journal_size, take effect),
# WSECS s of 4 KiB writes (16 in flight, objects kept), the number of SST files osd.0 has
# then, the page cache dropped (when permitted), RSECS s of random 4 KiB reads of those
# objects, then the per-second read MB/s (the warm-up). One line per run:
#   round=R cfg=[CFG] write iops=N sst0=N read iops=N [MB/s per second]
# Used for docs/store.md "The journal".
set -u
. "$(dirname "$0")/ab-lib.sh"
B=$1 R=$2 W=$3 RS=$4
shift 4
for ((r = 1; r <= R; r++)); do
	for cfg in "$@"; do
		ab_up "$B" ab-4k data:32:3 "$cfg" || exit 1
		D=$AB_DIR
		sleep 1
		w=$("$B"/cairn-bench -c "$D/cairn.conf" -p data "$W" write -t 16 -b 4K --no-cleanup \
			--run-name s 2>&1 | grep -o "iops=[0-9]*")
		sst=$(find "$D/osd.0/db" -name "*.sst" | wc -l)
		sync
		echo 3 2>/dev/null >/proc/sys/vm/drop_caches || true
		out=$("$B"/cairn-bench -c "$D/cairn.conf" -p data "$RS" rand -t 16 --run-name s 2>&1)
		rd=$(echo "$out" | grep -o "iops=[0-9]*")
		ps=$(echo "$out" | awk 'NR > 2 && $1 ~ /^[0-9]+$/ {printf "%d ", $6}')
		echo "round=$r cfg=[$cfg] write $w sst0=$sst read $rd [${ps% }]"
		"$B"/cairn-up stop --dir "$D" >/dev/null
		rm -rf "$D"
	done
done
