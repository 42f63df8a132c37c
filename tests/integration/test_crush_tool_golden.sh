#!/usr/bin/env bash
# test_crush_tool_golden — replays crushtool's recorded outputs (tests/data/crush, made by gen.py
# with Ceph's crushtool) through cairn-crush: every map compiles, decompiles to exactly what
# crushtool -d printed, recompiles to the same text, and every --test case prints exactly
# crushtool's stdout, both from cairn's binary and from Ceph's binary (ceph-bin/, as
# `ceph osd getcrushmap` writes it). --build maps decompile to crushtool's. No Ceph needed.
# timeout: 240
set -u
BIN=${CAIRN_BIN:-build/bin}
DATA=${CAIRN_ROOT:-.}/tests/data/crush
C=$BIN/cairn-crush
[ -x "$C" ] || { echo "missing $C"; exit 1; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail=0 n=0

for txt in "$DATA"/maps/*.txt; do
    name=$(basename "$txt" .txt)
    if ! "$C" -c "$txt" -o "$TMP/$name.bin" 2>"$TMP/err"; then
        echo "FAIL compile $name: $(cat "$TMP/err")"; fail=$((fail + 1)); continue
    fi
    "$C" -d "$TMP/$name.bin" -o "$TMP/$name.d"
    if ! cmp -s "$TMP/$name.d" "$DATA/maps/$name.decompiled"; then
        echo "FAIL decompile $name"; diff "$DATA/maps/$name.decompiled" "$TMP/$name.d" | head -10
        fail=$((fail + 1))
    fi
    # text -> binary -> text is stable
    "$C" -c "$TMP/$name.d" -o "$TMP/$name.2.bin" && "$C" -d "$TMP/$name.2.bin" -o "$TMP/$name.2.d"
    if ! cmp -s "$TMP/$name.d" "$TMP/$name.2.d"; then
        echo "FAIL round trip $name"; fail=$((fail + 1))
    fi
    # Ceph's binary map reads to the same map
    if ! "$C" -d "$DATA/ceph-bin/$name.bin" -o "$TMP/$name.ceph.d" 2>"$TMP/err" ||
       ! cmp -s "$TMP/$name.ceph.d" "$DATA/maps/$name.decompiled"; then
        echo "FAIL ceph binary $name: $(cat "$TMP/err")"; fail=$((fail + 1))
    fi
    n=$((n + 1))
done

cases=0
while IFS=$'\t' read -r name args expected; do
    case $name in '#'*|'') continue ;; esac
    cases=$((cases + 1))
    # shellcheck disable=SC2086
    "$C" -i "$TMP/$name.bin" $args >"$TMP/out" 2>/dev/null
    if ! cmp -s "$TMP/out" "$DATA/$expected"; then
        echo "FAIL case $expected: $name $args"
        diff "$DATA/$expected" "$TMP/out" | head -6
        fail=$((fail + 1))
    fi
    # shellcheck disable=SC2086
    "$C" -i "$DATA/ceph-bin/$name.bin" $args >"$TMP/out" 2>/dev/null
    cmp -s "$TMP/out" "$DATA/$expected" || { echo "FAIL case $expected from Ceph binary"; fail=$((fail + 1)); }
done <"$DATA/cases.tsv"

while IFS=$'\t' read -r name args; do
    case $name in '#'*|'') continue ;; esac
    # shellcheck disable=SC2086
    "$C" --build $args -o "$TMP/build.bin" 2>/dev/null && "$C" -d "$TMP/build.bin" -o "$TMP/build.d"
    if ! cmp -s "$TMP/build.d" "$DATA/maps/$name.decompiled"; then
        echo "FAIL build $name"; diff "$DATA/maps/$name.decompiled" "$TMP/build.d" | head -6
        fail=$((fail + 1))
    fi
done <"$DATA/builds.tsv"

echo "$n maps, $cases cases, $fail failures"
[ "$fail" -eq 0 ]
