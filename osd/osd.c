/*
 * osd — the daemon: boot, message dispatch, map distribution to the shards, the tick
 * thread (heartbeats, PG stats, boot retries). PG logic is in pg.c.
 *
 * Boot (osd_start):
 *   open store -> read superblock (id, uuid) -> start shards (op_queue) -> bind messenger
 *   -> monc: subscribe to osdmaps, send MON_OSD_BOOT -> tick thread.
 * Every new map (monc callback, messenger thread) is pushed to every shard as OQ_MAP; each
 * shard walks the PGs it owns (op_queue_shard_of), creates the ones that map to this OSD
 * (collections in one store transaction) and updates them (pg_handle_map), then re-runs the
 * items that were waiting for that epoch.
 *
 * Epochs on client ops (osd_shard_requeue -> dispatch_client_op):
 *   op epoch > shard's map epoch  -> wait for the map (and ask monc for it)
 *   pool/PG does not exist        -> -ENOENT
 *   this OSD is not the acting primary in its map -> -ESTALE + OSD_REPLY_MISDIRECTED + epoch
 *   else -> the PG (pg_do_client_op)
 */
#include "osd/osd.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "common/config.h"
#include "common/log.h"
#include "common/monc.h"
#include "common/msg.h"
#include "common/msg_types.h"
#include "common/util.h"
#include "osd/op_exec.h"
#include "osd/osd_int.h"
#include "osd/recovery.h"
#include "osd/store.h"

#define SUPERBLOCK_OID "osd_superblock"
#define SUPERBLOCK_ATTR "sb"

/* ---- superblock ----------------------------------------------------------------------- */

static void sb_encode(struct cbuf *b, int32_t id, const uint8_t uuid[16])
{
	size_t env = enc_start(b, 1, 1);

	enc_i32(b, id);
	enc_raw(b, uuid, 16);
	enc_finish(b, env);
}

static int sb_decode(const void *p, size_t n, int32_t *id, uint8_t uuid[16])
{
	struct cdec d, body;

	cdec_init(&d, p, n);
	if (dec_start(&d, 1, &body, NULL))
		return d.err;
	dec_i32(&body, id);
	dec_raw(&body, uuid, 16);
	return dec_finish(&d, &body);
}

int osd_mkfs(const struct cairn_conf *conf, int32_t id)
{
	const char *path = conf_str(conf, "osd_data");
	struct store *s = NULL;
	struct store_txn *t;
	uint8_t uuid[16];
	struct cbuf b;
	int r;

	if (!path || !path[0])
		return -EINVAL;
	r = store_mkfs(path, conf);
	if (r)
		return r;
	r = store_open(&s, path, conf);
	if (r)
		return r;
	randombytes_buf(uuid, sizeof(uuid));
	cbuf_init(&b);
	sb_encode(&b, id, uuid);
	t = store_txn_new();
	if (!t || b.err) {
		r = -ENOMEM;
		store_txn_free(t);
		goto out;
	}
	store_txn_coll_create(t, PG_META_COLL);
	store_txn_setattr(t, PG_META_COLL, SUPERBLOCK_OID, strlen(SUPERBLOCK_OID),
			  SUPERBLOCK_ATTR, b.data, b.len);
	r = store_apply_txn(s, t);
out:
	cbuf_free(&b);
	store_close(s);
	return r;
}

/* ---- items and replies ------------------------------------------------------------------ */

void osd_item_free(struct osd_item *it)
{
	if (!it)
		return;
	if (it->conn)
		msg_conn_put(it->conn);
	if (it->m)
		msg_free(it->m);
	free(it->req);
	osd_repop_clear(&it->repop);
	if (it->map)
		osdmap_put(it->map);
	free(it);
}

void osd_push_from_callback(struct osd *o, unsigned shard, struct osd_item *it)
{
	pthread_mutex_lock(&o->cb_lock);
	if (o->oq_gone)
		osd_item_free(it);
	else
		op_queue_push(o->oq, shard, &it->q);
	pthread_mutex_unlock(&o->cb_lock);
}

struct osdmap *osd_get_map(struct osd *o)
{
	struct osdmap *m;

	pthread_mutex_lock(&o->map_lock);
	m = o->map ? osdmap_get(o->map) : NULL;
	pthread_mutex_unlock(&o->map_lock);
	return m;
}

static void free_data(void *p)
{
	free(p);
}

void osd_send_reply(struct osd *o, struct msg_conn *c, const struct osd_op_req *req,
		    int32_t result, uint32_t flags, uint32_t epoch, struct osd_eversion ver,
		    const struct osd_op_result *res, uint32_t nops, struct cbuf *out)
{
	struct osd_op_reply rep;
	struct msg_out mo;
	struct iovec iov;
	struct cbuf front;
	size_t dlen = 0;
	uint8_t *data;
	int r;

	(void)o;
	data = cbuf_steal(out, &dlen);
	if (!c)
		goto drop;
	memset(&rep, 0, sizeof(rep));
	rep.reqid = req->reqid;
	rep.pgid = req->pgid;
	rep.result = result;
	rep.flags = flags;
	rep.epoch = epoch;
	rep.version = ver;
	rep.nops = nops;
	if (res)
		memcpy(rep.ops, res, sizeof(*res) * nops);
	cbuf_init(&front);
	osd_op_reply_encode(&front, &rep);
	if (front.err) {
		cbuf_free(&front);
		goto drop;
	}
	memset(&mo, 0, sizeof(mo));
	mo.type = MSG_OSD_OPREPLY;
	mo.tid = req->reqid.tid;
	mo.front = front.data;
	mo.front_len = (uint32_t)front.len;
	if (dlen) {
		iov.iov_base = data;
		iov.iov_len = dlen;
		mo.data = &iov;
		mo.data_iovcnt = 1;
		mo.release = free_data;
		mo.release_arg = data;
		data = NULL;
	}
	r = msg_send(c, &mo);
	if (r)
		CLOG_DEBUG("osd", "reply to tid %" PRIu64 ": %s", req->reqid.tid, cairn_strerror(r));
	cbuf_free(&front);
drop:
	free(data);
}

void osd_reply_misdirected(struct osd_shard *sh, struct osd_item *it)
{
	struct cbuf none;

	cbuf_init(&none);
	atomic_fetch_add(&sh->osd->ops_misdirected, 1);
	osd_send_reply(sh->osd, it->conn, it->req, -ESTALE, OSD_REPLY_MISDIRECTED,
		       sh->map ? sh->map->epoch : 0, (struct osd_eversion){ 0, 0 }, NULL, 0, &none);
	osd_item_free(it);
}

static void reply_error(struct osd_shard *sh, struct osd_item *it, int err)
{
	struct cbuf none;

	cbuf_init(&none);
	osd_send_reply(sh->osd, it->conn, it->req, err, 0, sh->map ? sh->map->epoch : 0,
		       (struct osd_eversion){ 0, 0 }, NULL, 0, &none);
	osd_item_free(it);
}

/* ---- shard work ------------------------------------------------------------------------- */

static void wait_for_map(struct osd_shard *sh, struct osd_item *it, uint32_t epoch)
{
	it->q.next = NULL;
	if (sh->wait_map_tail)
		sh->wait_map_tail->q.next = &it->q;
	else
		sh->wait_map_head = it;
	sh->wait_map_tail = it;
	pthread_rwlock_rdlock(&sh->osd->monc_lock);
	if (sh->osd->monc)
		monc_note_epoch(sh->osd->monc, epoch);
	pthread_rwlock_unlock(&sh->osd->monc_lock);
}

static void dispatch_client_op(struct osd_shard *sh, struct osd_item *it)
{
	struct osd_op_req *req = it->req;
	struct pg *pg;

	if (!sh->map || req->epoch > sh->map->epoch) {
		wait_for_map(sh, it, req->epoch);
		return;
	}
	if (!osdmap_pg_exists(sh->map, req->pgid)) {
		reply_error(sh, it, -ENOENT);
		return;
	}
	pg = pg_lookup(sh, req->pgid);
	if (!pg || pg->primary != sh->osd->id) {
		osd_reply_misdirected(sh, it);
		return;
	}
	pg_do_client_op(pg, it);
}

static void dispatch_repop(struct osd_shard *sh, struct osd_item *it)
{
	struct pg *pg;

	if (!sh->map || it->repop.map_epoch > sh->map->epoch) {
		wait_for_map(sh, it, it->repop.map_epoch);
		return;
	}
	pg = pg_lookup(sh, it->pgid);
	if (!pg) {
		struct osd_item *x = it;
		struct osd_repop_reply rr = { it->pgid, sh->map->epoch, sh->osd->id,
					      it->repop.entry.version, -ENOENT, { 0, 0 } };
		struct cbuf b;
		struct msg_out mo;

		CLOG_WARN("osd", "repop for a PG this OSD does not hold (from osd.%d)",
			  it->repop.from);
		cbuf_init(&b);
		osd_repop_reply_encode(&b, &rr);
		memset(&mo, 0, sizeof(mo));
		mo.type = MSG_OSD_REPOPREPLY;
		mo.front = b.data;
		mo.front_len = (uint32_t)b.len;
		if (!b.err)
			msg_send(x->conn, &mo);
		cbuf_free(&b);
		osd_item_free(x);
		return;
	}
	pg_do_repop(pg, it);
}

void osd_shard_requeue(struct osd_shard *sh, struct osd_item *it)
{
	struct pg *pg;

	switch (it->q.type) {
	case OQ_CLIENT_OP:
		dispatch_client_op(sh, it);
		return;
	case OQ_REPOP:
		dispatch_repop(sh, it);
		return;
	case OQ_PG_QUERY:
	case OQ_PG_NOTIFY:
	case OQ_PG_PULL:
		if (!sh->map || it->peer.epoch > sh->map->epoch) {
			wait_for_map(sh, it, it->peer.epoch);
			return;
		}
		pg = pg_lookup(sh, it->pgid);
		if (!pg) {
			osd_item_free(it);
			return;
		}
		pg_do_peer_msg(pg, it);
		return;
	case OQ_PUSH_APPLIED:
		pg = pg_lookup(sh, it->pgid);
		if (pg)
			pg_push_applied(pg, it);
		else
			osd_item_free(it);
		return;
	case OQ_REPOP_REPLY:
	case OQ_LOCAL_COMMIT:
		pg = pg_lookup(sh, it->pgid);
		if (!pg) {
			osd_item_free(it);
			return;
		}
		if (it->q.type == OQ_REPOP_REPLY)
			pg_do_repop_reply(pg, it);
		else
			pg_do_local_commit(pg, it);
		return;
	default:
		osd_item_free(it);
	}
}

static void shard_handle_map(struct osd_shard *sh, struct osdmap *map)
{
	struct osd *o = sh->osd;
	struct store_txn *batch = NULL;
	const struct pool_info *pool;
	struct osd_item *l, *n;
	int r;

	if (sh->map && map->epoch <= sh->map->epoch) {
		osdmap_put(map);
		return;
	}
	/* first pass: create the PGs that now map here */
	osdmap_for_each_pool(map, pool) {
		for (uint32_t ps = 0; ps < pool->pg_num; ps++) {
			struct pg_id id = { pool->id, ps };
			int32_t up[CAIRN_MAX_REPLICAS], acting[CAIRN_MAX_REPLICAS];
			int nup = 0, nacting = 0;
			int32_t upp, actp;

			if (op_queue_shard_of(o->oq, id) != sh->idx || pg_lookup(sh, id))
				continue;
			if (osdmap_pg_to_up_acting(map, id, up, &nup, &upp, acting, &nacting, &actp))
				continue;
			bool mine = false;
			for (int i = 0; i < nup; i++)
				mine |= up[i] == o->id;
			for (int i = 0; i < nacting; i++)
				mine |= acting[i] == o->id;
			if (!mine && !sh->map) {
				/* first map after boot: a copy kept from an earlier interval is
				 * loaded too, so that its primary learns of it (recovery.c strays) */
				char coll[PG_ID_STR_MAX];

				pg_id_str(&id, coll, sizeof(coll));
				mine = store_coll_exists(o->store, coll) == 1;
			}
			if (mine && !pg_create(sh, id, map->epoch, &batch))
				CLOG_ERR("osd", "cannot create pg %" PRId64 ".%x", id.pool, id.ps);
		}
	}
	if (batch) {
		r = store_apply_txn(o->store, batch);
		if (r)
			CLOG_ERR("osd", "creating PG collections failed: %s", cairn_strerror(r));
	}
	if (sh->map)
		osdmap_put(sh->map);
	sh->map = map;
	/* second pass: every PG of the shard sees the map */
	for (struct pg *pg = sh->pg_list; pg; pg = pg->next) {
		int32_t up[CAIRN_MAX_REPLICAS], acting[CAIRN_MAX_REPLICAS];
		int nup = 0, nacting = 0;
		int32_t upp = -1, actp = -1;

		pool = osdmap_pool(map, pg->id.pool);
		if (!pool || osdmap_pg_to_up_acting(map, pg->id, up, &nup, &upp, acting, &nacting,
						    &actp)) {
			pool = NULL;
			nup = nacting = 0;
			upp = actp = -1;
		}
		pg_handle_map(pg, map, pool, up, nup, upp, acting, nacting, actp);
	}
	/* items that waited for this epoch, in arrival order */
	l = sh->wait_map_head;
	sh->wait_map_head = sh->wait_map_tail = NULL;
	for (; l; l = n) {
		n = (struct osd_item *)l->q.next;
		l->q.next = NULL;
		osd_shard_requeue(sh, l);
	}
}

static void shard_handler(void *arg, unsigned shard, struct oq_item *q)
{
	struct osd *o = arg;
	struct osd_shard *sh = &o->shards[shard];
	struct osd_item *it = (struct osd_item *)q;

	if (atomic_load(&o->stopping) && q->type != OQ_LOCAL_COMMIT && q->type != OQ_REPOP_REPLY &&
	    q->type != OQ_PUSH_APPLIED) {
		osd_item_free(it);
		return;
	}

	if (q->type == OQ_RECOVERY) {
		rec_shard_item(sh, it);
		return;
	}
	if (q->type == OQ_TICK) {
		uint64_t now = now_mono_ns();

		for (struct pg *pg = sh->pg_list; pg; pg = pg->next)
			pg_peering_tick(pg, now);
		osd_item_free(it);
		return;
	}
	if (q->type == OQ_PEER_RESET) {
		for (struct pg *pg = sh->pg_list; pg; pg = pg->next)
			pg_peer_reset(pg, it->rc);
		osd_item_free(it);
		return;
	}
	if (q->type == OQ_MAP) {
		struct osdmap *m = it->map;

		it->map = NULL;
		osd_item_free(it);
		shard_handle_map(sh, m);
		return;
	}
	osd_shard_requeue(sh, it);
}

/* ---- messenger dispatch (loop threads: decode and push, nothing else) --------------------- */

static void push_item(struct osd *o, struct osd_item *it)
{
	op_queue_push(o->oq, op_queue_shard_of(o->oq, it->pgid), &it->q);
}

static void handle_ping(struct osd *o, struct msg_conn *c, struct msg *m)
{
	struct osd_ping p;
	struct cdec d;
	struct cbuf b;
	struct msg_out mo;

	cdec_init(&d, m->front, m->front_len);
	if (osd_ping_decode(&d, &p)) {
		msg_conn_close(c);
		return;
	}
	p.from = o->id;
	cbuf_init(&b);
	osd_ping_encode(&b, &p);
	memset(&mo, 0, sizeof(mo));
	mo.type = MSG_OSD_PING_REPLY;
	mo.prio = MSG_PRIO_HIGH;
	mo.tid = m->tid;
	mo.front = b.data;
	mo.front_len = (uint32_t)b.len;
	if (!b.err)
		msg_send(c, &mo);
	cbuf_free(&b);
}

/*
 * What a messenger thread may run itself when the PG's shard is idle (osd_inline_ops; docs/
 * osd.md "Inline reads"): a request that is a single READ. It is served from memory or
 * handed back to the shard; it never waits for the disk.
 */
/* Work a messenger thread may run itself when the shard is idle (op_queue_run_or_push):
 * a client request that is one READ (it hands itself back to the shard if it would read the
 * disk), a replica's successful repop reply (marks the ack, completes writes and sends
 * their replies; ops they unblock go back to the shard, pg.c release_blocked), and, on a
 * replica, a repop of at most INLINE_REPOP_MAX payload bytes (osd_inline_repops: queues its
 * store transaction; handed back if its PG recovers or the store queue is full, pg.c
 * pg_do_repop), and a client request that is one WRITE or WRITEFULL of at most that many
 * bytes (osd_inline_writes: stats the object from memory, queues the transaction, sends the
 * repops; handed back if any of that would wait, pg.c pg_do_client_op). An error reply may
 * push objects (pg_push.c reads the disk): the shard runs those. */
#define INLINE_REPOP_MAX (64u << 10)

static bool inline_ok(const struct osd *o, const struct osd_item *it)
{
	if (!o->inline_ops)
		return false;
	if (it->q.type == OQ_REPOP_REPLY)
		return it->rr.result == 0;
	if (it->q.type == OQ_REPOP)
		return o->inline_repops && (!it->m->data || it->m->data_len <= INLINE_REPOP_MAX);
	if (it->q.type != OQ_CLIENT_OP)
		return false;
	if (o->inline_writes && op_exec_inline_write(it->req))
		return !it->m->data || it->m->data_len <= INLINE_REPOP_MAX;
	return it->req->nops == 1 && it->req->ops[0].op == OSD_OP_READ;
}

static void osd_dispatch(struct msg_conn *c, struct msg *m, void *arg)
{
	struct osd *o = arg;
	struct osd_item *it;
	struct cdec d;
	int r = 0;

	pthread_rwlock_rdlock(&o->monc_lock);
	if (o->monc && monc_handle(o->monc, c, m)) {
		pthread_rwlock_unlock(&o->monc_lock);
		return;
	}
	pthread_rwlock_unlock(&o->monc_lock);
	if (atomic_load(&o->stopping)) {
		msg_free(m);
		return;
	}
	if (rec_dispatch(o, c, m))
		return; /* issue 8: peering / recovery messages (recovery.c) */
	switch (m->type) {
	case MSG_OSD_PING:
		handle_ping(o, c, m);
		msg_free(m);
		return;
	case MSG_OSD_OP:
	case MSG_OSD_REPOP:
	case MSG_OSD_REPOPREPLY:
	case MSG_OSD_PG_QUERY:
	case MSG_OSD_PG_NOTIFY:
	case MSG_OSD_PG_PULL:
		break;
	default:
		CLOG_DEBUG("osd", "ignoring message type %u", m->type);
		msg_free(m);
		return;
	}
	it = calloc(1, sizeof(*it));
	if (!it) {
		msg_free(m);
		return;
	}
	cdec_init(&d, m->front, m->front_len);
	if (m->type == MSG_OSD_OP) {
		it->q.type = OQ_CLIENT_OP;
		it->req = malloc(sizeof(*it->req));
		if (!it->req)
			r = -ENOMEM;
		else if (!(r = osd_op_req_decode(&d, it->req)))
			r = osd_op_req_check_data(it->req, m->data ? m->data_len : 0);
		if (!r)
			it->pgid = it->req->pgid;
	} else if (m->type == MSG_OSD_REPOP) {
		it->q.type = OQ_REPOP;
		r = osd_repop_decode(&d, &it->repop);
		it->pgid = it->repop.pgid;
	} else if (m->type == MSG_OSD_REPOPREPLY) {
		it->q.type = OQ_REPOP_REPLY;
		r = osd_repop_reply_decode(&d, &it->rr);
		it->pgid = it->rr.pgid;
	} else {
		it->q.type = m->type == MSG_OSD_PG_QUERY	  ? OQ_PG_QUERY
			     : m->type == MSG_OSD_PG_NOTIFY ? OQ_PG_NOTIFY
							    : OQ_PG_PULL;
		r = osd_pg_peer_decode(&d, &it->peer);
		it->pgid = it->peer.pgid;
	}
	if (r) {
		char ent[64];
		const struct msg_entity *pe = msg_conn_peer(c);

		CLOG_WARN("osd", "malformed message type %u from %s: %s; closing the connection",
			  m->type, pe ? msg_entity_str(pe, ent, sizeof(ent)) : "?",
			  cairn_strerror(r));
		it->m = m;
		osd_item_free(it);
		msg_conn_close(c);
		return;
	}
	if (m->type == MSG_OSD_OP) {
		pthread_rwlock_rdlock(&o->monc_lock);
		if (o->monc)
			monc_note_epoch(o->monc, it->req->epoch);
		pthread_rwlock_unlock(&o->monc_lock);
	}
	it->m = m;
	it->conn = msg_conn_get(c);
	if (inline_ok(o, it))
		/* cheap work that cannot wait on the disk: run here if the shard is idle */
		op_queue_run_or_push(o->oq, op_queue_shard_of(o->oq, it->pgid), &it->q);
	else
		push_item(o, it);
}

static void osd_reset(struct msg_conn *c, void *arg)
{
	struct osd *o = arg;

	pthread_rwlock_rdlock(&o->monc_lock);
	if (o->monc)
		monc_handle_reset(o->monc, c);
	pthread_rwlock_unlock(&o->monc_lock);
}

/* A peer OSD restarted: messages queued on the old session were dropped. */
static void osd_remote_reset(struct msg_conn *c, void *arg)
{
	struct osd *o = arg;
	const struct msg_entity *pe = msg_conn_peer(c);

	if (!pe || pe->type != MSG_ENTITY_OSD || atomic_load(&o->stopping))
		return;
	CLOG_INFO("osd", "session with osd.%" PRId64 " reset: re-sending unacked repops", pe->num);
	for (unsigned i = 0; i < o->nshards; i++) {
		struct osd_item *it = calloc(1, sizeof(*it));

		if (!it)
			continue;
		it->q.type = OQ_PEER_RESET;
		it->rc = (int)pe->num;
		op_queue_push(o->oq, i, &it->q);
	}
}

static const struct msgr_ops osd_msgr_ops = {
	.dispatch = osd_dispatch,
	.reset = osd_reset,
	.remote_reset = osd_remote_reset,
};

/* ---- maps ------------------------------------------------------------------------------- */

static void osd_on_map(void *arg, struct osdmap *map)
{
	struct osd *o = arg;

	pthread_mutex_lock(&o->map_lock);
	if (o->map && o->map->epoch >= map->epoch) {
		pthread_mutex_unlock(&o->map_lock);
		return;
	}
	if (o->map)
		osdmap_put(o->map);
	o->map = osdmap_get(map);
	pthread_mutex_unlock(&o->map_lock);
	CLOG_DEBUG("osd", "osdmap epoch %u", map->epoch);
	for (unsigned i = 0; i < o->nshards; i++) {
		struct osd_item *it = calloc(1, sizeof(*it));

		if (!it) {
			CLOG_ERR("osd", "out of memory distributing map %u", map->epoch);
			continue;
		}
		it->q.type = OQ_MAP;
		it->map = osdmap_get(map);
		op_queue_push(o->oq, i, &it->q);
	}
	pthread_mutex_lock(&o->tick_lock);
	pthread_cond_signal(&o->tick_cond);
	pthread_mutex_unlock(&o->tick_lock);
}

/* ---- tick: boot retries, PG stats, heartbeats ------------------------------------------------ */

static void send_boot(struct osd *o, uint32_t epoch)
{
	struct mon_osd_boot b;
	struct store_statfs sf = { 0 };

	memset(&b, 0, sizeof(b));
	b.id = o->id;
	memcpy(b.uuid, o->uuid, 16);
	snprintf(b.addr, sizeof(b.addr), "%s", o->addr);
	snprintf(b.host, sizeof(b.host), "%s", conf_str(o->conf, "osd_host"));
	store_statfs(o->store, &sf);
	b.store_bytes = sf.total;
	b.weight = (uint32_t)(conf_double(o->conf, "osd_crush_weight") * 0x10000);
	if (!b.weight)
		b.weight = 1;
	b.epoch = epoch;
	monc_send_boot(o->monc, &b);
	CLOG_INFO("osd", "boot: osd.%d at %s (map epoch %u)", o->id, o->addr, epoch);
}

static void send_pg_stats(struct osd *o, uint32_t epoch)
{
	struct mon_pg_stats s;
	struct store_statfs sf = { 0 };
	uint32_t n = 0, cap = 0;

	memset(&s, 0, sizeof(s));
	for (unsigned i = 0; i < o->nshards; i++) {
		struct osd_shard *sh = &o->shards[i];

		pthread_mutex_lock(&sh->stat_lock);
		for (struct pg *pg = sh->pg_list; pg; pg = pg->next)
			cap++;
		pthread_mutex_unlock(&sh->stat_lock);
	}
	s.pgs = cap ? calloc(cap, sizeof(*s.pgs)) : NULL;
	for (unsigned i = 0; s.pgs && i < o->nshards; i++) {
		struct osd_shard *sh = &o->shards[i];

		pthread_mutex_lock(&sh->stat_lock);
		for (struct pg *pg = sh->pg_list; pg && n < cap; pg = pg->next)
			if (pg->pub.acting_primary == o->id && pg->pub.state)
				s.pgs[n++] = pg->pub;
		pthread_mutex_unlock(&sh->stat_lock);
	}
	store_statfs(o->store, &sf);
	s.osd = o->id;
	s.epoch = epoch;
	s.osd_stat.bytes_total = sf.total;
	s.osd_stat.bytes_used = sf.used;
	s.osd_stat.num_pgs = cap;
	s.num_pgs = n;
	monc_send_pg_stats(o->monc, &s);
	free(s.pgs);
}

static bool map_shows_me_up(struct osd *o, const struct osdmap *m)
{
	const struct osd_info *oi = osdmap_osd(m, o->id);

	return oi && osd_info_up(oi) && !strcmp(oi->addr, o->addr);
}

static void *tick_main(void *arg)
{
	struct osd *o = arg;
	double hb = conf_double(o->conf, "osd_heartbeat_interval");
	double st = conf_double(o->conf, "osd_pg_stats_interval");
	double bt = conf_double(o->conf, "osd_boot_retry_interval");
	uint64_t next_hb = 0, next_st = 0, next_boot = 0, next_tick = 0;
	double step = hb < st ? hb : st;

	if (step > 0.2)
		step = 0.2;
	while (!atomic_load(&o->stopping)) {
		uint64_t now = now_mono_ns();
		struct osdmap *m = osd_get_map(o);
		uint32_t epoch = m ? m->epoch : 0;

		if ((!m || !map_shows_me_up(o, m)) && now >= next_boot) {
			send_boot(o, epoch);
			next_boot = now + (uint64_t)(bt * 1e9);
		}
		if (m && now >= next_hb) {
			osd_hb_tick(o, m);
			next_hb = now + (uint64_t)(hb * 1e9);
		}
		if (now >= next_tick) {
			for (unsigned i = 0; i < o->nshards; i++) {
				struct osd_item *it = calloc(1, sizeof(*it));

				if (it) {
					it->q.type = OQ_TICK;
					op_queue_push(o->oq, i, &it->q);
				}
			}
			next_tick = now + 1000000000ull;
		}
		if (now >= next_st) {
			send_pg_stats(o, epoch);
			next_st = now + (uint64_t)(st * 1e9);
		}
		osdmap_put(m);
		pthread_mutex_lock(&o->tick_lock);
		if (!atomic_load(&o->stopping)) {
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += (long)(step * 1e9);
			ts.tv_sec += ts.tv_nsec / 1000000000L;
			ts.tv_nsec %= 1000000000L;
			pthread_cond_timedwait(&o->tick_cond, &o->tick_lock, &ts);
		}
		pthread_mutex_unlock(&o->tick_lock);
	}
	return NULL;
}

/* ---- start / stop ------------------------------------------------------------------------ */

static int load_superblock(struct osd *o, int32_t id)
{
	struct cbuf b;
	int32_t sbid = -1;
	int r;

	cbuf_init(&b);
	r = store_getattr(o->store, PG_META_COLL, SUPERBLOCK_OID, strlen(SUPERBLOCK_OID),
			  SUPERBLOCK_ATTR, &b);
	if (!r)
		r = sb_decode(b.data, b.len, &sbid, o->uuid);
	cbuf_free(&b);
	if (r)
		return r;
	if (sbid != id) {
		CLOG_ERR("osd", "store belongs to osd.%d, not osd.%d", sbid, id);
		return -EINVAL;
	}
	return 0;
}

const char *osd_addr(const struct osd *o)
{
	return o->addr;
}

int osd_start(struct osd **out, struct cairn_conf *conf, int32_t id)
{
	const char *path = conf_str(conf, "osd_data");
	const char *addr_file = conf_str(conf, "osd_addr_file");
	struct msgr_opts mo;
	struct monc_opts mco;
	struct osd *o;
	int r;

	if (sodium_init() < 0)
		return -EIO;
	o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	o->id = id;
	o->conf = conf;
	o->log_max = (uint32_t)conf_int(conf, "osd_pg_log_max_entries");
	o->max_write = (uint64_t)conf_int(conf, "osd_max_write_size");
	o->list_max = (uint32_t)conf_int(conf, "osd_list_max");
	o->inflight_max = (uint32_t)conf_int(conf, "osd_inflight_writes_max");
	o->inline_ops = conf_bool(conf, "osd_inline_ops");
	o->inline_repops = conf_bool(conf, "osd_inline_repops");
	o->inline_writes = conf_bool(conf, "osd_inline_writes");
	pthread_mutex_init(&o->map_lock, NULL);
	pthread_mutex_init(&o->cb_lock, NULL);
	pthread_rwlock_init(&o->monc_lock, NULL);
	pthread_mutex_init(&o->tick_lock, NULL);
	pthread_cond_init(&o->tick_cond, NULL);

	r = store_open(&o->store, path, conf);
	if (r) {
		CLOG_ERR("osd", "cannot open the store in '%s': %s", path, cairn_strerror(r));
		goto e_free;
	}
	r = load_superblock(o, id);
	if (r) {
		CLOG_ERR("osd", "no valid superblock in '%s' (run cairn-osd --mkfs): %s", path,
			 cairn_strerror(r));
		goto e_store;
	}
	o->nshards = (unsigned)conf_int(conf, "osd_op_threads");
	o->shards = calloc(o->nshards, sizeof(*o->shards));
	if (!o->shards) {
		r = -ENOMEM;
		goto e_store;
	}
	for (unsigned i = 0; i < o->nshards; i++) {
		o->shards[i].osd = o;
		o->shards[i].idx = i;
		pthread_mutex_init(&o->shards[i].stat_lock, NULL);
	}
	o->oq = op_queue_create(o->nshards, shard_handler, o);
	if (!o->oq) {
		r = -ENOMEM;
		goto e_shards;
	}

	memset(&mo, 0, sizeof(mo));
	mo.me.type = MSG_ENTITY_OSD;
	mo.me.num = id;
	mo.conf = conf;
	mo.ops = &osd_msgr_ops;
	mo.arg = o;
	o->msgr = msgr_create(&mo);
	if (!o->msgr) {
		r = -errno ? -errno : -ENOMEM;
		goto e_oq;
	}
	r = msgr_bind(o->msgr, conf_str(conf, "osd_addr"));
	if (r) {
		CLOG_ERR("osd", "cannot bind %s: %s", conf_str(conf, "osd_addr"), cairn_strerror(r));
		goto e_msgr;
	}
	snprintf(o->addr, sizeof(o->addr), "%s", msgr_addr(o->msgr));
	memset(&mco, 0, sizeof(mco));
	mco.msgr = o->msgr;
	mco.conf = conf;
	mco.on_osdmap = osd_on_map;
	mco.arg = o;
	o->monc = monc_create(&mco);
	if (!o->monc) {
		r = -EINVAL;
		CLOG_ERR("osd", "cannot create the mon client (mon_host?)");
		goto e_msgr;
	}
	r = msgr_start(o->msgr);
	if (r)
		goto e_monc;
	r = osd_hb_init(o);
	if (r)
		goto e_monc;
	if (addr_file && addr_file[0]) {
		FILE *f = fopen(addr_file, "w");

		if (f) {
			fprintf(f, "%s\n", o->addr);
			fclose(f);
		}
	}
	monc_sub_osdmap(o->monc, 0);
	if (pthread_create(&o->tick, NULL, tick_main, o)) {
		r = -EAGAIN;
		goto e_hb;
	}
	CLOG_INFO("osd", "osd.%d listening on %s, %u op threads", id, o->addr, o->nshards);
	*out = o;
	return 0;
e_hb:
	osd_hb_destroy(o);
e_monc:
	monc_destroy(o->monc);
e_msgr:
	msgr_destroy(o->msgr);
e_oq:
	op_queue_destroy(o->oq);
e_shards:
	free(o->shards);
e_store:
	store_close(o->store);
e_free:
	free(o);
	return r;
}

void osd_stop(struct osd *o)
{
	if (!o)
		return;
	atomic_store(&o->stopping, true);
	CLOG_INFO("osd", "osd.%d stopping: client ops %" PRIu64 " (writes %" PRIu64
		  "), reads run inline %" PRIu64 ", reads handed back to a shard %" PRIu64
		  ", repops run inline %" PRIu64 ", repops handed back to a shard %" PRIu64
		  ", writes run inline %" PRIu64 ", writes handed back to a shard %" PRIu64,
		  o->id, (uint64_t)atomic_load(&o->ops), (uint64_t)atomic_load(&o->ops_write),
		  (uint64_t)atomic_load(&o->reads_inline),
		  (uint64_t)atomic_load(&o->reads_handed_back),
		  (uint64_t)atomic_load(&o->repops_inline),
		  (uint64_t)atomic_load(&o->repops_handed_back),
		  (uint64_t)atomic_load(&o->writes_inline),
		  (uint64_t)atomic_load(&o->writes_handed_back));
	pthread_mutex_lock(&o->cb_lock);
	o->oq_gone = true;
	pthread_mutex_unlock(&o->cb_lock);
	pthread_mutex_lock(&o->tick_lock);
	pthread_cond_signal(&o->tick_cond);
	pthread_mutex_unlock(&o->tick_lock);
	pthread_join(o->tick, NULL);
	{
		struct monc *mc;

		pthread_rwlock_wrlock(&o->monc_lock);
		mc = o->monc;
		o->monc = NULL;
		pthread_rwlock_unlock(&o->monc_lock);
		monc_destroy(mc);
	}
	/* drain queued work while the messengers still exist (replies may go out); with
	 * stopping set the shards drop new ops and repops and no longer touch the store, so
	 * the store can close after them (late commit callbacks see oq_gone) */
	op_queue_destroy(o->oq);
	store_close(o->store);
	o->store = NULL;
	osd_hb_destroy(o);
	msgr_destroy(o->msgr);
	for (unsigned i = 0; i < o->nshards; i++) {
		struct osd_shard *sh = &o->shards[i];
		struct pg *pg, *n;
		struct osd_item *it, *in;

		for (pg = sh->pg_list; pg; pg = n) {
			n = pg->next;
			pg_destroy(pg);
		}
		for (it = sh->wait_map_head; it; it = in) {
			in = (struct osd_item *)it->q.next;
			osd_item_free(it);
		}
		osdmap_put(sh->map);
	}
	free(o->shards);
	osdmap_put(o->map);
	free(o);
}
