# tests/lib/cluster.sh — sourceable helpers for integration tests that need a live cluster.
#
#   . "$CAIRN_ROOT/tests/lib/cluster.sh"
#   cluster_require cairn-mon cairn-osd cairn     # exit 77 (skip) if a binary is missing
#   cluster_start --osds 3 --pool data:16:3       # mktemp dir; trap on EXIT always stops it
#   cairn_cli osd tree                            # build/bin/cairn -c $CLUSTER_CONF ...
#   cluster_kill osd.1; cluster_restart osd.1; cluster_wait_clean 60
#
# Sets CLUSTER_DIR and CLUSTER_CONF. On failure the cleanup prints the tail of every daemon
# log. CAIRN_KEEP=1 keeps the directory for inspection.

: "${CAIRN_BIN:=${CAIRN_BUILD:-build}/bin}"
CLUSTER_DIR=
CLUSTER_CONF=
_cluster_extra_traps=()

cluster_require() {
    local b
    for b in "$@"; do
        [ -x "$CAIRN_BIN/$b" ] || { echo "skip: $CAIRN_BIN/$b is not built"; exit 77; }
    done
}

cluster_dump_logs() {
    local f
    [ -n "$CLUSTER_DIR" ] || return 0
    for f in "$CLUSTER_DIR"/*.log; do
        [ -e "$f" ] || continue
        echo "==== tail of $f"
        tail -n 30 "$f"
    done
}

# Register an extra command to run at exit (before the cluster stops).
cluster_on_exit() { _cluster_extra_traps+=("$1"); }

cluster_cleanup() {
    local rc=$? c
    trap - EXIT
    for c in "${_cluster_extra_traps[@]+"${_cluster_extra_traps[@]}"}"; do eval "$c" || true; done
    if [ -n "$CLUSTER_DIR" ] && [ -d "$CLUSTER_DIR" ]; then
        [ $rc -ne 0 ] && [ $rc -ne 77 ] && cluster_dump_logs
        "$CAIRN_BIN/cairn-up" stop --dir "$CLUSTER_DIR" >/dev/null 2>&1 || true
        if [ "${CAIRN_KEEP:-0}" = 1 ]; then echo "kept $CLUSTER_DIR"; else rm -rf "$CLUSTER_DIR"; fi
    fi
    exit $rc
}

cluster_start() {
    cluster_require cairn-up cairn-mon cairn-osd cairn
    CLUSTER_DIR=$(mktemp -d "${TMPDIR:-/tmp}/cairn-test.XXXXXX")
    CLUSTER_CONF=$CLUSTER_DIR/cairn.conf
    trap cluster_cleanup EXIT
    trap 'exit 130' INT TERM
    # CLUSTER_SET="opt = v": one more --set for every test cluster (A/B runs of an option)
    "$CAIRN_BIN/cairn-up" start --dir "$CLUSTER_DIR" "$@" ${CLUSTER_SET:+--set "$CLUSTER_SET"}
}

cairn_cli() { "$CAIRN_BIN/cairn" -c "$CLUSTER_CONF" "$@"; }
cluster_kill() { "$CAIRN_BIN/cairn-up" kill --dir "$CLUSTER_DIR" "$@"; }
cluster_restart() { "$CAIRN_BIN/cairn-up" restart --dir "$CLUSTER_DIR" "$@"; }
cluster_wait_clean() { "$CAIRN_BIN/cairn-up" wait --dir "$CLUSTER_DIR" --timeout "${1:-60}"; }

# cluster_wait_for SECONDS CMD...: retry CMD until it succeeds (0) or time runs out (1)
cluster_wait_for() {
    local t=$1 end; shift
    end=$(( $(date +%s) + t ))
    until "$@" >/dev/null 2>&1; do
        [ "$(date +%s)" -ge "$end" ] && return 1
        sleep 0.2
    done
}

# cluster_compare_replicas DIR NOSDS: with every OSD stopped, checks with cairn-store that each
# PG collection holds the same objects with the same size, data checksum, xattrs and omap on
# every OSD that has it (mtime may differ: each store stamps its own clock). Prints the first
# difference and returns 1; prints "replicas identical: N objects" and returns 0.
cluster_compare_replicas() {
    local d=$1 n=$2 S="$CAIRN_BIN/cairn-store" i c o ref out count=0
    for c in $("$S" --path "$d/osd.0" list-colls; echo); do
        [ "$c" = meta ] && continue
        for i in $(seq 1 $((n - 1))); do
            if ! diff <("$S" --path "$d/osd.0" list "$c") <("$S" --path "$d/osd.$i" list "$c") >/dev/null; then
                echo "pg $c: object lists differ between osd.0 and osd.$i"; return 1
            fi
        done
        for o in $("$S" --path "$d/osd.0" list "$c" | awk '{print $2}'); do
            ref=$("$S" --path "$d/osd.0" dump "$c" "$o" | grep -v '^mtime_ns')
            for i in $(seq 1 $((n - 1))); do
                out=$("$S" --path "$d/osd.$i" dump "$c" "$o" | grep -v '^mtime_ns')
                [ "$out" = "$ref" ] || { echo "pg $c object $o differs on osd.$i"; return 1; }
            done
            count=$((count + 1))
        done
    done
    echo "replicas identical: $count objects"
}
