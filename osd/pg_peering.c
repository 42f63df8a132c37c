/*
 * pg_peering — a minimal peering step before a primary serves a new interval, so that an
 * OSD returning with an old log never serves (or extends) stale data. Issue 8 replaces it
 * with full peering (past intervals, authoritative log merge, missing sets, backfill).
 *
 *   pg_handle_map: new interval, this OSD primary, nacting >= min_size
 *        |  pg_start_peering: state PEERING, MSG_OSD_PG_QUERY to every other acting OSD
 *        v
 *   PEERING --all MSG_OSD_PG_NOTIFY in--> newest last_update among them is newer than ours?
 *        |  yes: MSG_OSD_PG_PULL to that OSD; it pushes the missing objects and log
 *        |       (pg_push.c) as a repop; applying it (pg_do_repop) re-runs the check
 *        |  no:  push to every acting OSD that is behind (pg_push.c), then
 *        v
 *   ACTIVE (pg_activate: compute_state, waiting ops released)
 *
 * A map change during peering starts over (pg_handle_map). A query that is never answered
 * keeps the PG peering until the silent OSD is marked down (a new interval).
 * All on the PG's shard thread.
 */
#include <inttypes.h>
#include <stdlib.h>

#include "common/log.h"
#include "common/msg.h"
#include "common/msg_types.h"
#include "common/pg_state.h"
#include "common/util.h"
#include "osd/osd_int.h"
#include "osd/recovery.h"
#include "osd/store.h"

static void send_peer(struct pg *pg, int32_t to, uint16_t type, struct osd_eversion since)
{
	const struct osd_info *oi = osdmap_osd(pg->shard->map, to);
	struct osd_pg_peer p;
	struct msg_conn *c;
	struct msg_out mo;
	struct cbuf b;

	if (!oi || !oi->addr[0])
		return;
	memset(&p, 0, sizeof(p));
	p.pgid = pg->id;
	p.epoch = pg->map_epoch;
	p.from = pg->osd->id;
	p.info = pg->info;
	p.since = since;
	cbuf_init(&b);
	osd_pg_peer_encode(&b, &p);
	c = msgr_connect(pg->osd->msgr, oi->addr, MSG_LOSSLESS);
	pg->peer_sent_ns = now_mono_ns();
	if (c && !b.err) {
		memset(&mo, 0, sizeof(mo));
		mo.type = type;
		mo.prio = MSG_PRIO_HIGH;
		mo.front = b.data;
		mo.front_len = (uint32_t)b.len;
		msg_send(c, &mo);
	}
	if (c)
		msg_conn_put(c);
	cbuf_free(&b);
}

void pg_start_peering(struct pg *pg)
{
	if (rec_peering_start(pg))
		return; /* issue 8's peering (recovery.c) */
	pg->peering = true;
	pg->peer_pulling = -1;
	pg->npeer_info = 0;
	pg->state = PG_STATE_PEERING;
	if (pg->nacting < pg->pool_size)
		pg->state |= PG_STATE_UNDERSIZED | PG_STATE_DEGRADED;
	for (int i = 0; i < pg->nacting; i++)
		if (pg->acting[i] != pg->osd->id && pg->acting[i] != OSDMAP_NONE)
			send_peer(pg, pg->acting[i], MSG_OSD_PG_QUERY, (struct osd_eversion){ 0, 0 });
	pg_peering_check(pg);
}

static int peer_slot(struct pg *pg, int32_t osd)
{
	for (int i = 0; i < pg->npeer_info; i++)
		if (pg->peer_osd[i] == osd)
			return i;
	return -1;
}

void pg_peering_check(struct pg *pg)
{
	struct osd_eversion best = pg->info.last_update;
	int32_t best_osd = -1;

	if (!pg->peering || pg->peer_pending > 0)
		return;
	for (int i = 0; i < pg->nacting; i++) {
		int32_t id = pg->acting[i];
		int s;

		if (id == pg->osd->id || id == OSDMAP_NONE)
			continue;
		s = peer_slot(pg, id);
		if (s < 0)
			return; /* still waiting for its answer */
		if (osd_eversion_cmp(pg->peer_lu[s], best) > 0) {
			best = pg->peer_lu[s];
			best_osd = id;
		}
	}
	if (best_osd >= 0) {
		/* we are behind: pull (once per position; the push re-runs this check) */
		if (pg->peer_pulling != best_osd ||
		    osd_eversion_cmp(pg->peer_pull_from, pg->info.last_update)) {
			CLOG_INFO("osd", "pg %s: peering: osd.%d is ahead (%u'%" PRIu64 " > %u'%" PRIu64
				  "), pulling", pg->coll, best_osd, best.epoch, best.v,
				  pg->info.last_update.epoch, pg->info.last_update.v);
			pg->peer_pulling = best_osd;
			pg->peer_pull_from = pg->info.last_update;
			send_peer(pg, best_osd, MSG_OSD_PG_PULL, pg->info.last_update);
		}
		return;
	}
	/* we are the newest: bring the others up to date, then serve */
	for (int i = 0; i < pg->npeer_info; i++) {
		struct osd_eversion upto;

		if (!in_set_i32(pg->acting, pg->nacting, pg->peer_osd[i]) ||
		    osd_eversion_cmp(pg->peer_lu[i], pg->info.last_update) >= 0)
			continue;
		if (pg_push_missing(pg, pg->peer_osd[i], pg->peer_lu[i],
				    (struct osd_eversion){ UINT32_MAX, UINT64_MAX }, &upto) < 0)
			CLOG_WARN("osd", "pg %s: osd.%d is behind beyond the log: needs a backfill "
				  "(issue 8)", pg->coll, pg->peer_osd[i]);
	}
	pg_activate(pg);
}

void pg_do_peer_msg(struct pg *pg, struct osd_item *it)
{
	const struct osd_pg_peer *p = &it->peer;
	struct osd_eversion upto;
	int s;

	switch (it->q.type) {
	case OQ_PG_QUERY:
		send_peer(pg, p->from, MSG_OSD_PG_NOTIFY, (struct osd_eversion){ 0, 0 });
		break;
	case OQ_PG_NOTIFY:
		if (!pg->peering || p->epoch < pg->info.same_interval_since)
			break;
		s = peer_slot(pg, p->from);
		if (s < 0 && pg->npeer_info < CAIRN_MAX_REPLICAS)
			s = pg->npeer_info++;
		if (s < 0)
			break;
		pg->peer_osd[s] = p->from;
		pg->peer_lu[s] = p->info.last_update;
		pg_peering_check(pg);
		break;
	case OQ_PG_PULL:
		if (pg_push_missing(pg, p->from, p->since,
				    (struct osd_eversion){ UINT32_MAX, UINT64_MAX }, &upto) < 0)
			CLOG_WARN("osd", "pg %s: cannot push to osd.%d from %u'%" PRIu64, pg->coll,
				  p->from, p->since.epoch, p->since.v);
		break;
	}
	osd_item_free(it);
}

void pg_peering_tick(struct pg *pg, uint64_t now)
{
	if (rec_pg_tick(pg, now))
		return; /* issue 8's peering and recovery (recovery.c) */
	if (!pg->peering || now - pg->peer_sent_ns < 1000000000ull)
		return;
	/* a query, answer, pull or push was lost (e.g. dropped with a reset session) */
	for (int i = 0; i < pg->nacting; i++)
		if (pg->acting[i] != pg->osd->id && pg->acting[i] != OSDMAP_NONE &&
		    peer_slot(pg, pg->acting[i]) < 0)
			send_peer(pg, pg->acting[i], MSG_OSD_PG_QUERY, (struct osd_eversion){ 0, 0 });
	if (pg->peer_pulling >= 0 && !pg->peer_pending)
		send_peer(pg, pg->peer_pulling, MSG_OSD_PG_PULL, pg->info.last_update);
	pg->peer_sent_ns = now;
}
