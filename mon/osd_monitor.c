/*
 * osd_monitor — OSD lifecycle decisions of the monitor.
 *
 *            boot                    failure reports >= min_down_reporters
 *   (new) ---------> up+in  <---------------------------------------------+
 *                      |  ^                 (within mon_osd_report_grace)  |
 *                      |  |  boot (restart)                                |
 *                      v  |                                                |
 *                     down+in  --- down for mon_osd_down_out_interval ---> down+out (AUTOOUT)
 *                                  (unless noout)                          | boot: up+in again
 * Transitions: osdmon_handle_boot (-> up), osdmon_handle_failure / beacon timeout in
 * osdmon_tick (-> down), osdmon_tick (-> out). Each is one mon_commit (one epoch). Flags:
 * noup holds boots, nodown ignores failures, noout keeps down OSDs in, noin keeps new OSDs
 * out.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/log.h"
#include "common/util.h"
#include "crush/crush.h"
#include "mon/mon.h"

#define TYPE_OSD 0
#define TYPE_HOST 1
#define TYPE_RACK 2
#define TYPE_ROOT 3

int osdmon_create_initial(struct mon *mon, const uint8_t fsid[16], struct osdmap **out)
{
	struct crush_map *c = crush_create();
	struct osdmap *m = NULL;
	int err = -ENOMEM, root, rule;

	(void)mon;
	*out = NULL;
	if (!c)
		return -ENOMEM;
	if ((err = crush_set_type_name(c, TYPE_OSD, "osd")) ||
	    (err = crush_set_type_name(c, TYPE_HOST, "host")) ||
	    (err = crush_set_type_name(c, TYPE_RACK, "rack")) ||
	    (err = crush_set_type_name(c, TYPE_ROOT, "root")))
		goto fail;
	err = crush_add_bucket(c, 0, CRUSH_BUCKET_STRAW2, CRUSH_HASH_RJENKINS1, TYPE_ROOT,
			       "default", &root);
	if (err)
		goto fail;
	err = crush_rule_create_replicated(c, "replicated_rule", "default", "host", NULL, &rule);
	if (err)
		goto fail;
	m = osdmap_new(fsid, c);
	if (!m)
		goto fail; /* c freed below */
	c = NULL;
	m->epoch = 1;
	m->created = m->modified = now_wall_ns();
	m->pool_max = 0; /* first pool gets id 1, as in Ceph */
	err = osdmap_finalize(m);
	if (err)
		goto fail;
	*out = m;
	return 0;
fail:
	osdmap_put(m);
	if (c)
		crush_destroy(c);
	return err;
}

uint32_t osdmon_weight_from_bytes(uint64_t bytes)
{
	/* 1.0 per TiB, like Ceph; at least 1/65536 so a small store still gets data */
	uint64_t w;

	if (!bytes)
		return 0x10000;
	w = (bytes >> 24); /* bytes * 65536 / 2^40 */
	if (w < 1)
		w = 1;
	if (w > 0xffffffffULL)
		w = 0xffffffffULL;
	return (uint32_t)w;
}

static void clear_failures(struct mon *mon, int32_t target)
{
	if (target >= 0 && target < mon->failures_len)
		mon->failures[target].nreports = 0;
}

void osdmon_note_seen(struct mon *mon, int32_t osd)
{
	if (osd < 0 || osd >= OSDMAP_MAX_OSD)
		return;
	if (osd >= mon->osd_last_seen_len) {
		int32_t n = osd + 16;
		uint64_t *p = realloc(mon->osd_last_seen, (size_t)n * sizeof(*p));
		uint64_t *q;

		if (!p)
			return;
		mon->osd_last_seen = p;
		q = realloc(mon->osd_up_since, (size_t)n * sizeof(*q));
		if (!q)
			return;
		mon->osd_up_since = q;
		memset(p + mon->osd_last_seen_len, 0,
		       (size_t)(n - mon->osd_last_seen_len) * sizeof(*p));
		memset(q + mon->osd_last_seen_len, 0,
		       (size_t)(n - mon->osd_last_seen_len) * sizeof(*q));
		mon->osd_last_seen_len = n;
	}
	mon->osd_last_seen[osd] = now_mono_ns();
}

void osdmon_handle_boot(struct mon *mon, struct msg_conn *c, const struct mon_osd_boot *b)
{
	const struct osd_info *cur = osdmap_osd(mon->map, b->id);
	struct osdmap *p;
	struct osd_info *o;
	static const uint8_t zero[16];
	int err;

	(void)c;
	if (b->id < 0 || b->id >= OSDMAP_MAX_OSD || !b->addr[0]) {
		CLOG_WARN("mon", "refusing boot of osd.%d addr '%s'", b->id, b->addr);
		return;
	}
	if (cur && memcmp(cur->uuid, zero, 16) && memcmp(b->uuid, zero, 16) &&
	    memcmp(cur->uuid, b->uuid, 16)) {
		CLOG_WARN("mon", "refusing boot of osd.%d: uuid differs from the registered one",
			  b->id);
		return;
	}
	if (cur && osd_info_up(cur) && !strcmp(cur->addr, b->addr)) {
		osdmon_note_seen(mon, b->id);
		return; /* already up at this address (a resent boot) */
	}
	if (mon->map->flags & OSDMAP_FLAG_NOUP) {
		CLOG_INFO("mon", "noup set: holding boot of osd.%d", b->id);
		return;
	}
	p = mon_pending(mon);
	if (!p)
		return;
	if (b->id >= p->max_osd && (err = osdmap_set_max_osd(p, b->id + 1)))
		goto fail;
	o = &p->osds[b->id];
	if (!osd_info_exists(o)) {
		o->state = OSD_STATE_EXISTS;
		o->reweight = (p->flags & OSDMAP_FLAG_NOIN) ? OSD_WEIGHT_OUT : OSD_WEIGHT_IN;
		o->up_thru = 0;
		o->down_at = 0;
	}
	if (o->state & OSD_STATE_AUTOOUT) {
		o->state &= ~(uint32_t)OSD_STATE_AUTOOUT;
		o->reweight = OSD_WEIGHT_IN;
	}
	o->state |= OSD_STATE_UP;
	o->up_from = p->epoch;
	o->down_stamp = 0;
	if (memcmp(b->uuid, zero, 16))
		memcpy(o->uuid, b->uuid, 16);
	snprintf(o->addr, sizeof(o->addr), "%s", b->addr);
	if (!crush_item_in_tree(p->crush, b->id)) {
		char host[MON_HOST_MAX + 16], name[32];
		const char *types[2] = {"host", "root"};
		const char *names[2];
		uint32_t w = b->weight ? b->weight : osdmon_weight_from_bytes(b->store_bytes);

		if (b->host[0])
			snprintf(host, sizeof(host), "%s", b->host);
		else
			snprintf(host, sizeof(host), "%s%d",
				 conf_str(mon->conf, "mon_osd_default_host_prefix"), b->id);
		snprintf(name, sizeof(name), "osd.%d", b->id);
		names[0] = host;
		names[1] = "default";
		err = crush_insert_item(p->crush, b->id, w, name, types, names, 2);
		if (err) {
			CLOG_WARN("mon", "cannot place osd.%d under host %s: %s", b->id, host,
				  cairn_strerror(err));
			goto fail;
		}
	}
	clear_failures(mon, b->id);
	osdmon_note_seen(mon, b->id);
	CLOG_INFO("mon", "osd.%d boot at %s -> up (e%u)", b->id, b->addr, p->epoch);
	if (mon_commit(mon, p) == 0 && b->id < mon->osd_last_seen_len)
		mon->osd_up_since[b->id] = now_mono_ns();
	return;
fail:
	osdmap_put(p);
}

static void mark_down(struct mon *mon, int32_t target, const char *why)
{
	struct osdmap *p;
	struct osd_info *o;

	if (!osdmap_is_up(mon->map, target))
		return;
	if (mon->map->flags & OSDMAP_FLAG_NODOWN) {
		CLOG_INFO("mon", "nodown set: not marking osd.%d down (%s)", target, why);
		return;
	}
	p = mon_pending(mon);
	if (!p)
		return;
	o = &p->osds[target];
	o->state &= ~(uint32_t)OSD_STATE_UP;
	o->down_at = p->epoch;
	o->down_stamp = now_wall_ns();
	CLOG_INFO("mon", "osd.%d marked down (%s) e%u", target, why, p->epoch);
	clear_failures(mon, target);
	mon_commit(mon, p);
}

void osdmon_handle_failure(struct mon *mon, const struct mon_osd_failure *f)
{
	struct failure_info *fi;
	uint64_t now = now_mono_ns();
	uint64_t grace = (uint64_t)(conf_double(mon->conf, "mon_osd_report_grace") * 1e9);
	int64_t need = conf_int(mon->conf, "mon_osd_min_down_reporters");
	int count = 0, i;

	if (f->target < 0 || f->target >= mon->map->max_osd || f->reporter == f->target)
		return;
	if (!osdmap_is_up(mon->map, f->target))
		return;
	if (f->epoch < mon->map->osds[f->target].up_from) {
		/* about an earlier life of the target (it rebooted since): Ceph's rule too */
		CLOG_DEBUG("mon", "ignoring old failure report of osd.%d (e%u < up_from %u)",
			   f->target, f->epoch, mon->map->osds[f->target].up_from);
		return;
	}
	if (f->target < mon->osd_last_seen_len && mon->osd_up_since[f->target] &&
	    (uint64_t)f->failed_for * 1000000000ULL >
		    now - mon->osd_up_since[f->target] + 1000000000ULL) {
		/* silent for longer than it has been up: the reporter's clock for it started in
		 * the target's previous life (it missed the down/up epochs in between) */
		CLOG_DEBUG("mon", "ignoring failure report of osd.%d: silent %us > up for %.1fs",
			   f->target, f->failed_for,
			   (double)(now - mon->osd_up_since[f->target]) / 1e9);
		return;
	}
	if (f->reporter >= 0 && !osdmap_is_up(mon->map, f->reporter))
		return; /* a down reporter's view is stale */
	if (f->target >= mon->failures_len) {
		int32_t n = mon->map->max_osd;
		struct failure_info *p = realloc(mon->failures, (size_t)n * sizeof(*p));
		if (!p)
			return;
		memset(p + mon->failures_len, 0, (size_t)(n - mon->failures_len) * sizeof(*p));
		mon->failures = p;
		mon->failures_len = n;
	}
	fi = &mon->failures[f->target];
	for (i = 0; i < fi->nreports; i++)
		if (fi->reports[i].reporter == f->reporter)
			break;
	if (f->flags & MON_FAILURE_ALIVE) {
		if (i < fi->nreports)
			fi->reports[i] = fi->reports[--fi->nreports];
		return;
	}
	if (i == fi->nreports) {
		if (fi->nreports == (int)(sizeof(fi->reports) / sizeof(fi->reports[0])))
			i = 0; /* full: overwrite the first (only counts matter) */
		else
			fi->nreports++;
	}
	fi->reports[i].reporter = f->reporter;
	fi->reports[i].stamp_ns = now;
	for (i = 0; i < fi->nreports; i++)
		if (now - fi->reports[i].stamp_ns <= grace)
			count++;
	CLOG_DEBUG("mon", "osd.%d reports osd.%d failed (%d/%lld reporters)", f->reporter,
		   f->target, count, (long long)need);
	if (count >= need) {
		char why[64];
		snprintf(why, sizeof(why), "%d reporters", count);
		mark_down(mon, f->target, why);
	}
}

void osdmon_handle_alive(struct mon *mon, const struct mon_osd_alive *a)
{
	const struct osd_info *o = osdmap_osd(mon->map, a->id);
	struct osdmap *p;

	osdmon_note_seen(mon, a->id);
	if (!o || !osd_info_up(o) || !a->want_up_thru || a->want_up_thru <= o->up_thru)
		return;
	p = mon_pending(mon);
	if (!p)
		return;
	p->osds[a->id].up_thru = a->want_up_thru > mon->map->epoch ? mon->map->epoch
								    : a->want_up_thru;
	mon_commit(mon, p);
}

void osdmon_tick(struct mon *mon)
{
	double out_s = conf_double(mon->conf, "mon_osd_down_out_interval");
	double beacon_s = conf_double(mon->conf, "mon_osd_beacon_grace");
	uint64_t wall = now_wall_ns(), mono = now_mono_ns();
	struct osdmap *p = NULL;
	const struct osd_info *o;
	int32_t *silent = NULL;
	int nsilent = 0;

	/* beacons: an up OSD silent for too long is marked down */
	if (beacon_s > 0 && !(mon->map->flags & OSDMAP_FLAG_NODOWN) &&
	    mono - mon->start_ns > (uint64_t)(beacon_s * 1e9) && mon->map->max_osd > 0 &&
	    (silent = calloc((size_t)mon->map->max_osd, sizeof(*silent)))) {
		osdmap_for_each_osd(mon->map, o) {
			uint64_t seen = o->id < mon->osd_last_seen_len ? mon->osd_last_seen[o->id] : 0;
			if (!osd_info_up(o))
				continue;
			if (!seen) {
				osdmon_note_seen(mon, o->id); /* start its clock now */
				continue;
			}
			if (mono - seen > (uint64_t)(beacon_s * 1e9))
				silent[nsilent++] = o->id;
		}
		/* mark_down() commits a new map and frees mon->map: never inside the walk */
		for (int i = 0; i < nsilent; i++)
			mark_down(mon, silent[i], "no beacon");
	}
	free(silent);
	silent = NULL;
	/* down -> out */
	if (out_s <= 0 || (mon->map->flags & OSDMAP_FLAG_NOOUT))
		return;
	osdmap_for_each_osd(mon->map, o) {
		if (osd_info_up(o) || !osd_info_in(o) || !o->down_stamp)
			continue;
		if (wall < o->down_stamp || wall - o->down_stamp < (uint64_t)(out_s * 1e9))
			continue;
		if (!p && !(p = mon_pending(mon)))
			return;
		p->osds[o->id].reweight = OSD_WEIGHT_OUT;
		p->osds[o->id].state |= OSD_STATE_AUTOOUT;
		CLOG_INFO("mon", "osd.%d down for %.0fs: marked out", o->id, out_s);
	}
	if (p)
		mon_commit(mon, p);
}
