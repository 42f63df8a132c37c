#!/usr/bin/env bash
# test_config_doc — docs/config.md is exactly what `cairn-config --doc` prints from the option
# table (common/options/*.def). After adding an option: build/bin/cairn-config --doc > docs/config.md
# timeout: 30
set -euo pipefail
BIN=${CAIRN_BIN:-build/bin}
ROOT=${CAIRN_ROOT:-.}
if [ ! -x "$BIN/cairn-config" ]; then echo "cairn-config not built"; exit 77; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$BIN/cairn-config" --doc >"$tmp/config.md"
if ! diff -u "$ROOT/docs/config.md" "$tmp/config.md"; then
    echo "docs/config.md is stale: run '$BIN/cairn-config --doc > docs/config.md'"
    exit 1
fi
# every option of every .def file appears in the doc, once
n_def=$(cat "$ROOT"/common/options/*.def | grep -cE '^[[:space:]]*OPT\(' || true)
n_doc=$(grep -cE '^\| `[a-z0-9_]+` \|' "$tmp/config.md" || true)
if [ "$n_def" != "$n_doc" ]; then
    echo "table has $n_def OPT lines but the doc lists $n_doc options"
    exit 1
fi
# --show prints one line per option, --get agrees with it
n_show=$("$BIN/cairn-config" --show | wc -l)
[ "$n_show" = "$n_doc" ] || { echo "--show printed $n_show lines, want $n_doc"; exit 1; }
printf '[global]\nlog_level = 1\n[osd]\nlog_level = 3\n[osd.2]\nlog_level = 4\n' >"$tmp/c.conf"
[ "$("$BIN/cairn-config" -c "$tmp/c.conf" --type osd --id 2 --get log_level)" = 4 ]
[ "$("$BIN/cairn-config" -c "$tmp/c.conf" --type osd --id 1 --get log_level)" = 3 ]
[ "$("$BIN/cairn-config" -c "$tmp/c.conf" --type mon --get log_level)" = 1 ]
[ "$("$BIN/cairn-config" -c "$tmp/c.conf" --type osd --id 2 --log-level 0 --get log_level)" = 0 ]
# a bad file is one clear line naming file, line and option, and a non-zero exit
printf '[global]\nlog_level = 9\n' >"$tmp/bad.conf"
if "$BIN/cairn-config" -c "$tmp/bad.conf" --show >/dev/null 2>"$tmp/err"; then
    echo "bad value accepted"; exit 1
fi
grep -qF "$tmp/bad.conf:2: option 'log_level': '9' is out of range [0, 4]" "$tmp/err" ||
    { cat "$tmp/err"; exit 1; }
echo "config doc OK ($n_doc options)"
