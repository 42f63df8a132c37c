#!/usr/bin/env bash
# test_crush_cli — cairn-crush's crushtool-compatible edges: map edits (--add-item,
# --update-item, --reweight-item, --remove-item) decompile to exactly what crushtool printed
# (tests/data/crush/edits), --compare, and bad input: a malformed text map gives
# "FILE:LINE: message" and exit 1; truncated or garbage binary maps are refused (exit 1,
# "Bad message"), never a crash.
# timeout: 120
set -u
BIN=${CAIRN_BIN:-build/bin}
DATA=${CAIRN_ROOT:-.}/tests/data/crush
C=$BIN/cairn-crush
[ -x "$C" ] || { echo "missing $C"; exit 1; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }

# --- edits, against crushtool's results
while IFS=$'\t' read -r name args expected; do
    case $name in '#'*|'') continue ;; esac
    "$C" -c "$DATA/maps/$name.txt" -o "$TMP/in.bin" || { bad "compile $name"; continue; }
    # shellcheck disable=SC2086
    if ! "$C" -i "$TMP/in.bin" $args -o "$TMP/out.bin" 2>"$TMP/err"; then
        bad "edit $name $args: $(cat "$TMP/err")"; continue
    fi
    "$C" -d "$TMP/out.bin" -o "$TMP/out.txt"
    cmp -s "$TMP/out.txt" "$DATA/$expected" || { bad "edit $name $args"; diff "$DATA/$expected" "$TMP/out.txt" | head -8; }
done <"$DATA/edits.tsv"

# --- compare
"$C" -c "$DATA/maps/alg_straw2.txt" -o "$TMP/a.bin"
"$C" -c "$DATA/maps/alg_straw2.txt" -o "$TMP/b.bin"
out=$("$C" -i "$TMP/a.bin" --compare "$TMP/b.bin" --num-rep 3 --min-x 0 --max-x 99 2>&1) || bad "compare equal maps: $out"
echo "$out" | grep -q "maps appear equivalent" || bad "compare output: $out"
"$C" -i "$TMP/a.bin" --reweight-item osd.3 0.1 -o "$TMP/c.bin"
if out=$("$C" -i "$TMP/a.bin" --compare "$TMP/c.bin" --num-rep 3 --min-x 0 --max-x 999 --rule 0 2>&1); then
    bad "compare of different maps succeeded: $out"
fi
echo "$out" | grep -qE "^rule 0 had [1-9][0-9]*/1000 mismatched mappings" || bad "compare mismatch line: $out"

# --- malformed text: FILE:LINE: message, exit 1
printf 'device 0 osd.0\ntype 0 osd\ntype 1 host\nhost h {\n\talg straw2\n\titem osd.9 weight 1\n}\n' >"$TMP/bad1.txt"
printf 'device 0 osd.0\ntype 0 osd\n}\n' >"$TMP/bad2.txt"
printf 'tunable choose_total_tries fifty\n' >"$TMP/bad3.txt"
for f in bad1:6 bad2:3 bad3:1; do
    name=${f%%:*} line=${f##*:}
    "$C" -c "$TMP/$name.txt" -o "$TMP/x.bin" 2>"$TMP/err"
    rc=$?
    [ $rc -eq 1 ] || bad "$name: exit $rc"
    grep -qE "^$TMP/$name.txt:$line: " "$TMP/err" || bad "$name: stderr '$(cat "$TMP/err")'"
done
"$C" -c "$TMP/nonexistent.txt" -o "$TMP/x.bin" 2>/dev/null && bad "missing input accepted"

# --- garbage and truncated binary maps: refused, exit 1, never a crash
head -c 3000 /dev/urandom >"$TMP/garbage.bin"
printf '\001\001\377\377\377\377' >"$TMP/short.bin"
: >"$TMP/empty.bin"
sz=$(stat -c %s "$TMP/a.bin")
for cut in 1 5 6 20 $((sz / 2)) $((sz - 1)); do
    head -c "$cut" "$TMP/a.bin" >"$TMP/trunc$cut.bin"
done
for f in "$TMP"/garbage.bin "$TMP"/short.bin "$TMP"/empty.bin "$TMP"/trunc*.bin; do
    for mode in "-d $f" "-i $f --test --show-statistics"; do
        # shellcheck disable=SC2086
        "$C" $mode >/dev/null 2>"$TMP/err"
        rc=$?
        [ $rc -eq 1 ] || bad "$mode: exit $rc"
        grep -q "Bad message" "$TMP/err" || bad "$mode: stderr '$(cat "$TMP/err")'"
    done
done

# --- a rule that cannot be satisfied: short firstn, holey indep, exit 0
"$C" -c "$DATA/maps/unsatisfiable.txt" -o "$TMP/u.bin"
"$C" -i "$TMP/u.bin" --test --rule 0 --num-rep 5 --min-x 0 --max-x 9 --show-mappings >"$TMP/u.out" || bad "unsatisfiable test failed"
grep -q '^CRUSH rule 0 x 0 \[[0-9]*,[0-9]*\]$' "$TMP/u.out" || bad "short mapping: $(head -1 "$TMP/u.out")"
"$C" -i "$TMP/u.bin" --test --rule 1 --num-rep 5 --min-x 0 --max-x 9 --show-mappings >"$TMP/u.out" || bad "unsatisfiable ec failed"
grep -q '2147483647' "$TMP/u.out" || bad "indep holes missing"

# --- usage errors
"$C" --frobnicate 2>/dev/null && bad "unknown option accepted"
"$C" -i "$TMP/a.bin" --test --num-rep 2>/dev/null && bad "missing argument accepted"

echo "$fail failures"
[ "$fail" -eq 0 ]
