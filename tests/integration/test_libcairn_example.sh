#!/usr/bin/env bash
# test_libcairn_example — the example program of docs/libcairn.md, extracted, compiled against
# build/lib/libcairn.so exactly as the doc says, and run against a fresh 3-OSD cluster.
# timeout: 120
set -euo pipefail
ROOT=${CAIRN_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${CAIRN_BIN:-$ROOT/build/bin}
LIB=$(cd "$BIN/../lib" && pwd)
[ -x "$BIN/cairn-up" ] || { echo "cairn-up not built"; exit 77; }
[ -f "$LIB/libcairn.so" ] || { echo "libcairn.so not built"; exit 77; }

T=$(mktemp -d /tmp/cairn-example.XXXXXX)
cleanup() { "$BIN/cairn-up" stop --dir "$T/c" >/dev/null 2>&1 || true; rm -rf "$T"; }
trap cleanup EXIT
trap "exit 143" TERM INT

awk '/^## Example/ { f = 1 } f && /^```c$/ { p = 1; next } p && /^```$/ { exit } p' \
    "$ROOT/docs/libcairn.md" > "$T/example.c"
[ -s "$T/example.c" ] || { echo "no example in docs/libcairn.md"; exit 1; }
# a program linked against an ASan-built libcairn.so must be built with ASan too
SANFLAGS=; [ "${CAIRN_ASAN:-}" = 1 ] && SANFLAGS="-fsanitize=address,undefined"
cc $SANFLAGS -std=gnu11 -Wall -Wextra -Werror -I"$ROOT/include" "$T/example.c" -L"$LIB" -lcairn \
   -Wl,-rpath,"$LIB" -o "$T/example"
echo "example compiled"

"$BIN/cairn-up" start --dir "$T/c" --osds 3 --pool rbd:16:3 > "$T/up.log" 2>&1 ||
    { tail -n 30 "$T/up.log"; exit 1; }
"$T/example" "$T/c/cairn.conf" rbd | tee "$T/out.txt"
grep -q '^example: ok$' "$T/out.txt"
grep -q '^omap: 2 keys, color=blue$' "$T/out.txt"
# a bad pool name is a clear error, not a crash
if "$T/example" "$T/c/cairn.conf" no-such-pool 2> "$T/err.txt"; then
    echo "example with a bad pool succeeded"; exit 1
fi
grep -q 'pool no-such-pool: No such file or directory' "$T/err.txt"
echo "test_libcairn_example: ok"
