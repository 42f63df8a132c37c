#!/usr/bin/env bash
# test_store_bitrot — bit rot on disk, found by the store's own checksums: one byte flipped
# in a RocksDB SST (an object kept inline) and one in the slot data file (an object written
# with a large write) both read back as an error (never as data), and `cairn-store fsck`
# names exactly those two objects and exits 1; an untouched object still reads back intact.
# RocksDB compression is off in the store, so the bytes can be found on disk by content.
# timeout: 60
set -eu
BIN=${CAIRN_BIN:-build/bin}
T=$(mktemp -d /tmp/test_store_bitrot.XXXXXX)
trap 'rm -rf "$T"' EXIT
S=$T/store
cs() { "$BIN/cairn-store" --path "$S" "$@"; }

# flip FILE OFFSET: xor one byte with 0x01, in place
flip() {
    local b nb
    b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
    nb=$((b ^ 1))
    printf "\\$(printf '%03o' "$nb")" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
# first byte offset of the text $2 in file $1
offset_of() { grep -obUa -- "$2" "$1" | head -n1 | cut -d: -f1; }

cs mkfs
cs create-coll c
yes 'SMALL-ROT-MARKER-7' | head -c 3000 >"$T/small"         # inline (below 64K)
seq 1 300000 | head -c 1048576 >"$T/big"                    # 1 MiB: slots
yes 'intact' | head -c 200000 >"$T/ok"
cs put c small <"$T/small"
cs put c big <"$T/big"
cs put c ok <"$T/ok"
cs fsck
cs get c big | cmp - "$T/big"

# closing the store flushed the memtable: the small object now lives in an SST
sst=$(grep -laU -- 'SMALL-ROT-MARKER-7' "$S"/db/*.sst | head -n1)
[ -n "$sst" ] || { echo "FAIL: small object not found in any SST"; exit 1; }
off=$(offset_of "$sst" 'SMALL-ROT-MARKER-7')
flip "$sst" $((off + 5))
off=$(offset_of "$S/data" $'\n123456\n')
[ -n "$off" ] || { echo "FAIL: big object not found in the data file"; exit 1; }
flip "$S/data" $((off + 2))

rc=0; cs get c small >/dev/null 2>"$T/err" || rc=$?
[ $rc -eq 1 ] && grep -q 'Input/output error' "$T/err" || { echo "FAIL: read of rotten inline object: rc=$rc"; cat "$T/err"; exit 1; }
rc=0; cs get c big >/dev/null 2>"$T/err" || rc=$?
[ $rc -eq 1 ] || { echo "FAIL: read of rotten slot object: rc=$rc"; cat "$T/err"; exit 1; }
cs get c ok | cmp - "$T/ok"

rc=0; cs fsck >"$T/fsck" || rc=$?
cat "$T/fsck"
[ $rc -eq 1 ] || { echo "FAIL: fsck exit $rc, want 1"; exit 1; }
grep -q '^damaged: c small: checksum mismatch' "$T/fsck" || { echo "FAIL: fsck did not name small"; exit 1; }
grep -q '^damaged: c big: checksum mismatch' "$T/fsck" || { echo "FAIL: fsck did not name big"; exit 1; }
[ "$(grep -c '^damaged:' "$T/fsck")" -eq 2 ] || { echo "FAIL: fsck named other objects"; exit 1; }
echo "ok: both flipped bytes detected, fsck named c/small and c/big"
