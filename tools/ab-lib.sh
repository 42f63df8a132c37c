# tools/ab-lib.sh — sourced by tools/ab-4k.sh and tools/ab-4m.sh: a fresh local cluster for
# one config of an A/B run.
#
# ab_up BINDIR PREFIX POOL CFG: starts a mon and 3 OSDs with --pool POOL and --set CFG ("-"
# for none) in a new directory /tmp/PREFIX.XXXXXX, which it puts in AB_DIR (not printed: a
# command substitution would wait for the daemons). On failure says so with cairn-up's
# output, removes the directory and returns 1.
ab_up() {
	local b=$1 prefix=$2 pool=$3 cfg=$4
	local args=()

	AB_DIR=$(mktemp -d "/tmp/$prefix.XXXXXX")
	[ "$cfg" != "-" ] && args=(--set "$cfg")
	if ! "$b"/cairn-up start --dir "$AB_DIR" --osds 3 --pool "$pool" "${args[@]}" \
		>"$AB_DIR/up.txt"; then
		echo "cairn-up failed for [$cfg]:"
		cat "$AB_DIR/up.txt"
		rm -rf "$AB_DIR"
		return 1
	fi
}
