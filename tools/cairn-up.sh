#!/usr/bin/env bash
# cairn-up — start, inspect and stop a local cairn cluster (one mon, N OSDs, M MDS) on 127.0.0.1.
#
#   cairn-up start   --dir DIR --osds N [--mds M] [--pool NAME:PG_NUM:SIZE]... [--timeout S]
#                    [--set 'option = value']...      (extra [global] lines for cairn.conf)
#   cairn-up stop    --dir DIR                         stop exactly the daemons it started
#   cairn-up status  --dir DIR                         which daemons run; cluster status
#   cairn-up kill    --dir DIR NAME [--signal SIG]     stop one daemon (osd.1, mon, mds.0)
#   cairn-up restart --dir DIR NAME                    (re)start one daemon of the cluster
#   cairn-up wait    --dir DIR [--timeout S]           wait until every PG is active+clean
#
# Each daemon is its own process with its own data dir, log file (DIR/NAME.log) and pid file
# (DIR/NAME.pid, written by cairn-up from $!). Ports are chosen by the daemons (port 0) and
# written back into DIR/cairn.conf, so restarts reuse them. Every OSD gets its own CRUSH host
# (host-N), so size-3 pools work on one machine. Default pool: "data", 32 PGs, size min(3, N).
# Exit status: 0 on success; 1 with one line on stderr naming the daemon that failed (and the
# tail of its log) otherwise.
set -euo pipefail

BIN=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
die() { echo "cairn-up: $*" >&2; exit 1; }
usage() { sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

cmd=${1:-}; [ $# -gt 0 ] && shift
DIR= OSDS=1 MDS=0 TIMEOUT=90 SIG=TERM NAME=
POOLS=() SETS=()
while [ $# -gt 0 ]; do
    case $1 in
        --dir) DIR=$2; shift 2 ;;
        --osds) OSDS=$2; shift 2 ;;
        --mds) MDS=$2; shift 2 ;;
        --pool) POOLS+=("$2"); shift 2 ;;
        --timeout) TIMEOUT=$2; shift 2 ;;
        --set) SETS+=("$2"); shift 2 ;;
        --signal) SIG=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        -*) die "unknown option '$1'" ;;
        *) NAME=$1; shift ;;
    esac
done
[ -n "$cmd" ] || { usage >&2; exit 2; }
[ -n "$DIR" ] || die "--dir DIR is required"
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
CONF=$DIR/cairn.conf

# ---- daemons ------------------------------------------------------------------------------

# prog_of NAME -> binary name; args_of NAME -> its arguments
prog_of() { case $1 in mon) echo cairn-mon ;; osd.*) echo cairn-osd ;; mds.*) echo cairn-mds ;; esac; }
args_of() {
    case $1 in
        mon) echo "-c $CONF" ;;
        osd.*) echo "--id ${1#osd.} -c $CONF" ;;
        mds.*) echo "--id ${1#mds.} -c $CONF" ;;
    esac
}

# is_ours NAME PID: the pid runs the daemon we started (binary and its conf path)
is_ours() {
    local name=$1 pid=$2 cl
    [ -r /proc/"$pid"/cmdline ] || return 1
    cl=$(tr '\0' ' ' < /proc/"$pid"/cmdline 2>/dev/null) || return 1
    [[ $cl == *"$(prog_of "$name")"* && $cl == *"$CONF"* ]] || return 1
    case $name in osd.*|mds.*) [[ $cl == *"--id ${name#*.} "* ]] || return 1 ;; esac
    return 0
}

pid_of() { [ -f "$DIR/$1.pid" ] && cat "$DIR/$1.pid" 2>/dev/null || true; }

running() {
    local pid; pid=$(pid_of "$1")
    [ -n "$pid" ] && is_ours "$1" "$pid"
}

log_tail() {
    echo "---- last lines of $DIR/$1.log ----" >&2
    tail -n 20 "$DIR/$1.log" >&2 2>/dev/null || true
}

launch() {
    local name=$1 prog
    prog=$(prog_of "$name")
    [ -x "$BIN/$prog" ] || die "$name: $BIN/$prog not found (build it first)"
    running "$name" && return 0
    # shellcheck disable=SC2046
    setsid "$BIN/$prog" $(args_of "$name") --log_file "$DIR/$name.log" </dev/null \
        >>"$DIR/$name.out" 2>&1 &
    echo $! > "$DIR/$name.pid"
}

daemons() {
    local f
    for f in "$DIR"/*.pid; do [ -e "$f" ] && basename "$f" .pid; done
}

stop_one() {
    local name=$1 pid i
    pid=$(pid_of "$name")
    if [ -z "$pid" ]; then return 0; fi
    if ! is_ours "$name" "$pid"; then rm -f "$DIR/$name.pid"; return 0; fi
    kill -s "$SIG" "$pid" 2>/dev/null || true
    for i in $(seq 1 100); do
        is_ours "$name" "$pid" || break
        sleep 0.1
    done
    if is_ours "$name" "$pid"; then
        kill -KILL "$pid" 2>/dev/null || true
        for i in $(seq 1 50); do is_ours "$name" "$pid" || break; sleep 0.1; done
    fi
    rm -f "$DIR/$name.pid"
}

# alive_child NAME: the pid this shell just launched is still alive (not a zombie). Between
# fork and exec its cmdline is still this script's, so is_ours cannot recognise it yet; an
# unreaped child's pid cannot be reused, so this check is safe without is_ours.
alive_child() {
    local pid st
    pid=$(pid_of "$1")
    [ -n "$pid" ] && [ -r /proc/"$pid"/stat ] || return 1
    st=$(sed 's/^.*) //' /proc/"$pid"/stat 2>/dev/null | cut -d' ' -f1)
    [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# exit_status NAME: how a daemon this shell started ended ("status N" or "killed by SIGX")
exit_status() {
    local pid rc
    pid=$(pid_of "$1")
    [ -n "$pid" ] || { echo "no pid"; return; }
    wait "$pid" 2>/dev/null && rc=0 || rc=$?
    if [ "$rc" -eq 127 ] && ! kill -0 "$pid" 2>/dev/null; then echo "exit status unknown"
    elif [ "$rc" -gt 128 ]; then echo "killed by SIG$(kill -l $((rc - 128)) 2>/dev/null || echo $((rc - 128)))"
    else echo "exit status $rc"; fi
}

# wait_file NAME FILE SECONDS: the daemon writes FILE; fail if it dies first
wait_file() {
    local name=$1 file=$2 t=$3 i
    for i in $(seq 1 $((t * 10))); do
        [ -s "$file" ] && return 0
        running "$name" || alive_child "$name" || { echo "cairn-up: $name exited during start ($(exit_status "$name"))" >&2; log_tail "$name"; cat "$DIR/$name.out" >&2 2>/dev/null; exit 1; }
        sleep 0.1
    done
    echo "cairn-up: $name did not come up within ${t}s" >&2; log_tail "$name"; exit 1
}

conf_get() { # conf_get SECTION KEY
    awk -v s="[$1]" -v k="$2" '
        /^\[/ { in_s = ($0 == s) }
        in_s && $1 == k { sub(/^[^=]*=[ \t]*/, ""); print; exit }' "$CONF"
}

write_conf() { # write_conf MON_ADDR
    local i tmp=$CONF.tmp
    {
        echo "# written by cairn-up; every daemon and tool of this cluster reads it"
        echo "[global]"
        echo "fsid = $FSID"
        echo "mon_host = $1"
        echo "mon_osd_min_down_reporters = 1"
        echo "mon_osd_beacon_grace = 10"
        echo "mon_osd_down_out_interval = 600"
        local s
        for s in "${SETS[@]+"${SETS[@]}"}"; do echo "$s"; done
        echo
        echo "[mon]"
        echo "mon_data = $DIR/mon"
        echo "mon_addr = $1"
        for i in $(seq 0 $((OSDS - 1))); do
            echo
            echo "[osd.$i]"
            echo "osd_data = $DIR/osd.$i"
            local a=127.0.0.1:0
            [ -s "$DIR/osd.$i.addr" ] && a=$(cat "$DIR/osd.$i.addr")
            echo "osd_addr = $a"
            echo "osd_addr_file = $DIR/osd.$i.addr"
            echo "osd_host = host-$i"
        done
        for i in $(seq 0 $((MDS - 1))); do
            echo
            echo "[mds.$i]"
            echo "mds_data = $DIR/mds.$i"
        done
    } > "$tmp"
    mv "$tmp" "$CONF"
}

cli() { "$BIN/cairn" -c "$CONF" "$@"; }

# all_clean: 0 when every PG is active+clean (and there is at least one), prints a summary
pg_summary() {
    local js
    js=$(cli pg stat -f json 2>/dev/null) || return 2
    echo "$js" | jq -r '
        (.num_pgs // 0) as $n | (.num_active_clean // 0) as $c
        | "\($n) \($c) " + ((.num_pgs_by_state // {}) | if type == "object"
            then to_entries | map("\(.value) \(.key)") | join(", ") else tostring end)' 2>/dev/null
}

wait_clean() {
    local t=$1 end s n c last=
    end=$(( $(date +%s) + t ))
    while :; do
        for d in $(daemons); do
            running "$d" || { echo "cairn-up: $d is not running" >&2; log_tail "$d"; return 1; }
        done
        s=$(pg_summary || true)
        if [ -n "$s" ]; then
            read -r n c _ <<< "$s"
            last=${s#* * }
            if [ "$n" -gt 0 ] && [ "$n" = "$c" ]; then return 0; fi
        fi
        if [ "$(date +%s)" -ge "$end" ]; then
            echo "cairn-up: PGs not all active+clean after ${t}s (${last:-no pg stats})" >&2
            cli pg dump 2>/dev/null | awk 'NR == 1 || $4 != "active+clean"' | head -20 >&2
            return 1
        fi
        sleep 0.3
    done
}

# ---- commands --------------------------------------------------------------------------------

case $cmd in
start)
    for d in $(daemons); do running "$d" && die "$DIR already runs $d (cairn-up stop --dir $DIR)"; done
    [ "$OSDS" -ge 1 ] 2>/dev/null || die "--osds must be >= 1"
    [ ${#POOLS[@]} -gt 0 ] || POOLS=("data:32:$(( OSDS < 3 ? OSDS : 3 ))")
    FSID=$(cat /proc/sys/kernel/random/uuid)
    rm -f "$DIR"/*.addr
    # mon first, on a free port it picks itself
    write_conf 127.0.0.1:0
    "$BIN/cairn-mon" --help >/dev/null 2>&1 || true
    setsid "$BIN/cairn-mon" -c "$CONF" --mon_addr 127.0.0.1:0 --mon_addr_file "$DIR/mon.addr" \
        --log_file "$DIR/mon.log" </dev/null >>"$DIR/mon.out" 2>&1 &
    echo $! > "$DIR/mon.pid"
    wait_file mon "$DIR/mon.addr" 20
    MON=$(cat "$DIR/mon.addr")
    write_conf "$MON"
    for i in $(seq 0 $((OSDS - 1))); do
        if [ ! -d "$DIR/osd.$i/db" ]; then
            "$BIN/cairn-osd" --id "$i" -c "$CONF" --mkfs >>"$DIR/osd.$i.out" 2>&1 \
                || { echo "cairn-up: mkfs of osd.$i failed" >&2; cat "$DIR/osd.$i.out" >&2; exit 1; }
        fi
        launch "osd.$i"
    done
    for i in $(seq 0 $((OSDS - 1))); do wait_file "osd.$i" "$DIR/osd.$i.addr" 20; done
    write_conf "$MON" # records the OSDs' ports for restarts
    for i in $(seq 0 $((MDS - 1))); do launch "mds.$i"; done
    for p in "${POOLS[@]}"; do
        IFS=: read -r pname pgn psize <<< "$p"
        [ -n "$pname" ] && [ -n "${pgn:-}" ] || die "bad --pool '$p' (NAME:PG_NUM:SIZE)"
        out=$(cli osd pool create "$pname" "$pgn" ${psize:+"$psize"} 2>&1) \
            || die "creating pool $pname failed: $out"
    done
    wait_clean "$TIMEOUT" || exit 1
    echo "cairn-up: cluster up in $DIR: mon $MON, $OSDS osds, $MDS mds; conf $CONF"
    ;;
stop)
    # OSDs and MDS first, the mon last
    for d in $(daemons); do [ "$d" != mon ] && stop_one "$d"; done
    stop_one mon
    ;;
kill)
    [ -n "$NAME" ] || die "kill: which daemon? (osd.N, mds.N, mon)"
    stop_one "$NAME"
    ;;
restart)
    [ -n "$NAME" ] || die "restart: which daemon? (osd.N, mds.N, mon)"
    [ -f "$CONF" ] || die "no $CONF"
    stop_one "$NAME"
    launch "$NAME"
    sleep 0.2
    running "$NAME" || alive_child "$NAME" || { echo "cairn-up: $NAME exited at start ($(exit_status "$NAME"))" >&2; log_tail "$NAME"; exit 1; }
    ;;
wait)
    wait_clean "$TIMEOUT" || exit 1
    ;;
status)
    [ -f "$CONF" ] || die "no cluster in $DIR"
    for d in $(daemons); do
        if running "$d"; then echo "$d running pid $(pid_of "$d")"; else echo "$d stopped"; fi
    done
    cli status 2>/dev/null || true
    ;;
*)
    usage >&2; exit 2 ;;
esac
