#!/usr/bin/env bash
# bench_libceph.sh [COUNT] — builds bench_libceph.c against cairn's crush/ sources and runs
# it: cairn's crush_do_rule vs Ceph's (libceph-common, dlopen) in one process on the same
# 1000-OSD straw2 map; needs Debian's ceph-base. Not run by make check.
set -eu
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
cc -std=gnu11 -O2 -D_GNU_SOURCE -I"$ROOT" -o "$OUT/bench_libceph" \
    "$ROOT/tests/data/crush/bench_libceph.c" "$ROOT"/crush/*.c "$ROOT/common/encode.c" -lm -ldl
"$OUT/bench_libceph" "${1:-1000000}"
