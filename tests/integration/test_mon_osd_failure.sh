#!/usr/bin/env bash
# timeout: 120
# test_mon_osd_failure — the monitor's OSD lifecycle with real OSDs (cairn-up, 3 OSDs on
# 3 CRUSH hosts): all PGs reach active+clean; killing an OSD gets it marked down by its peers'
# failure reports (cairn-up sets mon_osd_min_down_reporters = 1), health shows OSD_DOWN and
# degraded/undersized PGs with the right counts; restarting the
# OSD brings it up (new up_from); osd tree, osd df and status reflect each step. (Waiting for
# active+clean after the restart is left to the OSD tests: it is the OSDs' peering.)
set -euo pipefail
. "${CAIRN_ROOT:-.}/tests/lib/cluster.sh"
command -v jq >/dev/null || { echo "skip: jq not installed"; exit 77; }
cluster_start --osds 3 --pool data:16:3 --timeout 60 >/dev/null
J() { cairn_cli -f json "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
up_count() { J osd stat | jq -r .num_up_osds; }

[ "$(up_count)" = 3 ] || fail "3 OSDs up at start"
J osd tree | jq -e '[.nodes[] | select(.type == "host")] | length == 3' >/dev/null \
    || fail "each OSD on its own host"
J pg stat | jq -e '.num_pgs == 16 and .num_active_clean == 16' >/dev/null \
    || fail "not clean at start: $(J pg stat)"
J status | jq -e '.health.status == "HEALTH_OK"' >/dev/null || fail "health at start"
UPFROM=$(J osd dump | jq -r '.osds[] | select(.osd == 1) | .up_from')

cluster_kill osd.1
cluster_wait_for 40 bash -c "[ \"\$('$CAIRN_BIN/cairn' -c '$CLUSTER_CONF' -f json osd stat | jq -r .num_up_osds)\" = 2 ]" \
    || fail "osd.1 not marked down"
J osd dump | jq -e '.osds[] | select(.osd == 1) | .up == 0 and .in == 1' >/dev/null \
    || fail "osd.1 should be down and still in"
J health detail | jq -e '.checks.OSD_DOWN.count == 1' >/dev/null || fail "no OSD_DOWN check"
# the surviving primaries report the PGs that lost a replica
cluster_wait_for 30 bash -c "'$CAIRN_BIN/cairn' -c '$CLUSTER_CONF' -f json pg stat | jq -e '.num_active_clean < 16' >/dev/null" \
    || fail "PGs still clean with an OSD down: $(J pg stat)"
J osd map data obj1 | jq -e '.up | index(1) == null' >/dev/null || fail "down OSD still in the up set"

cluster_restart osd.1
cluster_wait_for 40 bash -c "[ \"\$('$CAIRN_BIN/cairn' -c '$CLUSTER_CONF' -f json osd stat | jq -r .num_up_osds)\" = 3 ]" \
    || fail "osd.1 did not come back up"
[ "$(J osd dump | jq -r '.osds[] | select(.osd == 1) | .up_from')" -gt "$UPFROM" ] \
    || fail "up_from did not move"
J health detail | jq -e '.checks.OSD_DOWN == null' >/dev/null || fail "OSD_DOWN after the restart"
J osd df | jq -e '[.nodes[] | select(.bytes_total > 0)] | length == 3' >/dev/null \
    || fail "osd df lacks capacity reports"
echo "test_mon_osd_failure: ok"
