/*
 * heartbeat — liveness of the OSDs this OSD shares PGs with, and failure reports.
 *
 * Pings go out on a messenger of their own (o->hb_msgr, one loop thread, lossy
 * connections), separate from client and replication traffic; a peer answers a ping on its
 * messenger's loop thread at once (osd.c handle_ping: no queue, no disk), so a busy op queue
 * never delays a reply. Every osd_heartbeat_interval the tick thread pings each peer (the
 * union of the acting sets of this OSD's PGs, recomputed per map epoch). A peer that has
 * not answered for osd_heartbeat_grace while the map shows it up is reported to the mon
 * (MON_OSD_FAILURE), once per grace period; an answer after a report cancels it
 * (MON_FAILURE_ALIVE).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/config.h"
#include "common/log.h"
#include "common/monc.h"
#include "common/msg.h"
#include "common/msg_types.h"
#include "common/util.h"
#include "osd/osd_int.h"

struct hb_peer {
	int32_t id;
	char addr[OSDMAP_ADDR_MAX];
	struct msg_conn *conn;
	uint64_t last_rx;       /* mono ns of the last reply (or of when pinging began) */
	uint64_t last_report;   /* mono ns of the last failure report; 0 = none */
	bool active;            /* still a peer at the current epoch */
};

struct osd_hb {
	pthread_mutex_t lock; /* protects peers (tick thread vs hb loop thread) */
	struct hb_peer *peers;
	int npeers, cap;
	uint32_t epoch;       /* peers computed at this epoch */
};

static void hb_dispatch(struct msg_conn *c, struct msg *m, void *arg)
{
	struct osd *o = arg;
	struct osd_ping p;
	struct cdec d;

	(void)c;
	if (m->type == MSG_OSD_PING_REPLY) {
		cdec_init(&d, m->front, m->front_len);
		if (!osd_ping_decode(&d, &p))
			osd_hb_handle_reply(o, &p);
	}
	msg_free(m);
}

static const struct msgr_ops hb_ops = { .dispatch = hb_dispatch };

int osd_hb_init(struct osd *o)
{
	struct msgr_opts mo;
	struct osd_hb *hb = calloc(1, sizeof(*hb));
	int r;

	if (!hb)
		return -ENOMEM;
	pthread_mutex_init(&hb->lock, NULL);
	memset(&mo, 0, sizeof(mo));
	mo.me.type = MSG_ENTITY_OSD;
	mo.me.num = o->id;
	mo.nworkers = 1;
	mo.conf = o->conf;
	mo.ops = &hb_ops;
	mo.arg = o;
	o->hb_msgr = msgr_create(&mo);
	if (!o->hb_msgr) {
		free(hb);
		return -ENOMEM;
	}
	r = msgr_start(o->hb_msgr);
	if (r) {
		msgr_destroy(o->hb_msgr);
		o->hb_msgr = NULL;
		free(hb);
		return r;
	}
	o->hb = hb;
	return 0;
}

void osd_hb_destroy(struct osd *o)
{
	struct osd_hb *hb = o->hb;

	if (!hb)
		return;
	if (o->hb_msgr)
		msgr_destroy(o->hb_msgr);
	o->hb_msgr = NULL;
	for (int i = 0; i < hb->npeers; i++)
		if (hb->peers[i].conn)
			msg_conn_put(hb->peers[i].conn);
	free(hb->peers);
	free(hb);
	o->hb = NULL;
}

static struct hb_peer *find_peer(struct osd_hb *hb, int32_t id)
{
	for (int i = 0; i < hb->npeers; i++)
		if (hb->peers[i].id == id)
			return &hb->peers[i];
	return NULL;
}

static void add_peer(struct osd_hb *hb, int32_t id, uint64_t now)
{
	struct hb_peer *p = find_peer(hb, id);

	if (p) {
		p->active = true;
		return;
	}
	if (hb->npeers == hb->cap) {
		int cap = hb->cap ? hb->cap * 2 : 16;
		struct hb_peer *n = realloc(hb->peers, sizeof(*n) * (size_t)cap);

		if (!n)
			return;
		hb->peers = n;
		hb->cap = cap;
	}
	p = &hb->peers[hb->npeers++];
	memset(p, 0, sizeof(*p));
	p->id = id;
	p->last_rx = now;
	p->active = true;
}

/* Peers = every other OSD in the up or acting set of a PG that maps to this OSD. */
static void recompute_peers(struct osd *o, struct osd_hb *hb, const struct osdmap *m)
{
	const struct pool_info *pool;
	uint64_t now = now_mono_ns();
	int i;

	for (i = 0; i < hb->npeers; i++)
		hb->peers[i].active = false;
	osdmap_for_each_pool(m, pool) {
		for (uint32_t ps = 0; ps < pool->pg_num; ps++) {
			struct pg_id id = { pool->id, ps };
			int32_t up[CAIRN_MAX_REPLICAS], act[CAIRN_MAX_REPLICAS], upp, actp;
			int nup = 0, nact = 0;
			bool mine = false;

			if (osdmap_pg_to_up_acting(m, id, up, &nup, &upp, act, &nact, &actp))
				continue;
			for (i = 0; i < nup; i++)
				mine |= up[i] == o->id;
			for (i = 0; i < nact; i++)
				mine |= act[i] == o->id;
			if (!mine)
				continue;
			for (i = 0; i < nup; i++)
				if (up[i] != o->id && up[i] != OSDMAP_NONE)
					add_peer(hb, up[i], now);
			for (i = 0; i < nact; i++)
				if (act[i] != o->id && act[i] != OSDMAP_NONE)
					add_peer(hb, act[i], now);
		}
	}
	/* drop peers that are no longer peers */
	for (i = 0; i < hb->npeers;) {
		if (!hb->peers[i].active) {
			if (hb->peers[i].conn)
				msg_conn_put(hb->peers[i].conn);
			hb->peers[i] = hb->peers[--hb->npeers];
			continue;
		}
		i++;
	}
	hb->epoch = m->epoch;
}

void osd_hb_tick(struct osd *o, const struct osdmap *m)
{
	struct osd_hb *hb = o->hb;
	double grace = conf_double(o->conf, "osd_heartbeat_grace");
	uint64_t now = now_mono_ns(), grace_ns = (uint64_t)(grace * 1e9);
	struct cbuf b;

	if (!hb)
		return;
	cbuf_init(&b);
	pthread_mutex_lock(&hb->lock);
	if (hb->epoch != m->epoch)
		recompute_peers(o, hb, m);
	for (int i = 0; i < hb->npeers; i++) {
		struct hb_peer *p = &hb->peers[i];
		const struct osd_info *oi = osdmap_osd(m, p->id);
		struct osd_ping ping = { o->id, m->epoch, now };
		struct msg_out mo;
		uint64_t age;

		if (!oi || !osd_info_up(oi)) {
			/* down in the map: nothing to report; start fresh when it returns */
			p->last_rx = now;
			p->last_report = 0;
			continue;
		}
		if (p->conn && (strcmp(p->addr, oi->addr) || !msg_conn_is_open(p->conn))) {
			msg_conn_put(p->conn);
			p->conn = NULL;
		}
		if (!p->conn) {
			snprintf(p->addr, sizeof(p->addr), "%s", oi->addr);
			p->conn = msgr_connect(o->hb_msgr, p->addr, MSG_LOSSY);
		}
		if (p->conn) {
			cbuf_reset(&b);
			osd_ping_encode(&b, &ping);
			memset(&mo, 0, sizeof(mo));
			mo.type = MSG_OSD_PING;
			mo.prio = MSG_PRIO_HIGH;
			mo.front = b.data;
			mo.front_len = (uint32_t)b.len;
			if (!b.err)
				msg_send(p->conn, &mo);
		}
		age = now > p->last_rx ? now - p->last_rx : 0;
		if (age > grace_ns && (!p->last_report || now - p->last_report > grace_ns)) {
			struct mon_osd_failure f = { o->id, p->id, (uint32_t)(age / 1000000000ull),
						     m->epoch, MON_FAILURE_FAILED };

			CLOG_WARN("osd", "osd.%d has not answered heartbeats for %.1fs: reporting it",
				  p->id, (double)age / 1e9);
			monc_send_failure(o->monc, &f);
			p->last_report = now;
		}
	}
	pthread_mutex_unlock(&hb->lock);
	cbuf_free(&b);
}

void osd_hb_handle_reply(struct osd *o, const struct osd_ping *ping)
{
	struct osd_hb *hb = o->hb;
	struct hb_peer *p;

	if (!hb)
		return;
	pthread_mutex_lock(&hb->lock);
	p = find_peer(hb, ping->from);
	if (p) {
		p->last_rx = now_mono_ns();
		if (p->last_report) {
			struct mon_osd_failure f = { o->id, p->id, 0, ping->epoch, MON_FAILURE_ALIVE };

			monc_send_failure(o->monc, &f);
			p->last_report = 0;
		}
	}
	pthread_mutex_unlock(&hb->lock);
}
