/*
 * pg — a placement group on one OSD: its mapping and state, the primary's op path and
 * primary-first replication, and the replica's apply path.
 *
 * State (computed on every map, pg_handle_map; drawn for the primary):
 *
 *     (no primary role) --map: acting_primary == me--> nacting >= min_size ? ACTIVE : PEERED
 *     ACTIVE  + nacting == size  -> active+clean
 *     ACTIVE  + nacting <  size  -> active+undersized+degraded
 *     PEERED  (nacting < min_size): undersized+degraded+peered; ops wait in pg->waiting
 *     any --map: acting_primary != me--> replica (ops answered -ESTALE, in-flight dropped)
 *
 * Primary op path (pg_do_client_op, all on the PG's shard thread):
 *   1. not active -> waiting list (released by pg_handle_map)
 *   2. a write whose reqid is in the PG log -> answered from the log (OSD_REPLY_DUP), or
 *      attached to the still in-flight repop of that reqid; never applied twice
 *   3. the object has an earlier write in flight (or an earlier op blocked) -> blocked list,
 *      so ops on one object complete in arrival order
 *   4. op_exec_run: results, outputs, store transaction
 *   5. read-only or failed -> reply now
 *   6. write: version (map epoch, last_update.v + 1); log entry + info into the same
 *      transaction; encode it for the replicas; queue it locally; send MSG_OSD_REPOP to
 *      every other acting OSD in parallel; the reply waits until the local commit and every
 *      replica's MSG_OSD_REPOPREPLY are in (repop_check), completing repops in version order.
 * On a new interval (acting set change) in-flight repops are re-sent to acting OSDs that have
 * not acked (replicas drop versions they already have) and no longer wait for OSDs that left;
 * an OSD new to the acting set gets them only after peering activated it (pg_resend_inflight).
 * If peering adopts another copy's log, in-flight writes that log lacks are dropped and their
 * clients told to resend (pg_drop_divergent).
 *
 * Replica path (pg_do_repop): repops arrive in order on one lossless connection and are
 * applied in that order on the PG's thread (or inline on the messenger thread that received
 * them while that thread is idle, osd_inline_repops); a version <= last_update is a resend
 * and is only acknowledged; the reply is sent from the store's commit callback (durable).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/log.h"
#include "common/monc.h"
#include "common/msg.h"
#include "common/msg_types.h"
#include "common/pg_state.h"
#include "common/util.h"
#include "osd/op_exec.h"
#include "osd/op_queue.h"
#include "osd/osd_int.h"
#include "osd/recovery.h"
#include "osd/store.h"

/* The encoded transaction, hdr then data, shared by the sends to the replicas and by the
 * local store transaction whose op bytes data is (store_txn_share: no copy); freed by the
 * last user. */
struct sbuf {
	atomic_int refs;
	uint8_t hdr[STORE_TXN_WIRE_HDR];
	uint8_t *data;
	size_t len;
};

static struct sbuf *sbuf_get(struct sbuf *b)
{
	atomic_fetch_add(&b->refs, 1);
	return b;
}

static void sbuf_put(void *p)
{
	struct sbuf *b = p;

	if (b && atomic_fetch_sub(&b->refs, 1) == 1) {
		free(b->data);
		free(b);
	}
}

struct repop {
	struct repop *next;
	struct osd_eversion v;
	struct osd_eversion prior; /* the PG's last_update before this write */
	struct osd_reqid reqid;
	char *oid;
	struct msg_conn *client;   /* reference */
	struct osd_op_req *req;    /* the request (owned) */
	struct osd_op_result res[OSD_OPS_MAX];
	struct cbuf out;           /* reply data */
	struct sbuf *txn;          /* encoded transaction, for (re)sends */
	struct cbuf front;         /* encoded MSG_OSD_REPOP front */
	int32_t acked[CAIRN_MAX_REPLICAS];
	int nacked;
	bool local_done;
	int err;
	struct osd_item *dups;     /* resends of this reqid waiting for it (linked by q.next) */
};

static void list_push(struct osd_item **head, struct osd_item **tail, struct osd_item *it)
{
	it->q.next = NULL;
	if (*tail)
		(*tail)->q.next = &it->q;
	else
		*head = it;
	*tail = it;
}

/* A resend of a request already waiting in the list takes its place: the reply goes to the
 * newest connection, and the request runs once. Returns true if it was absorbed. */
static bool absorb_resend(struct osd_item *head, struct osd_item *it)
{
	for (struct osd_item *w = head; w; w = (struct osd_item *)w->q.next)
		if (osd_reqid_eq(&w->req->reqid, &it->req->reqid)) {
			struct msg_conn *c = w->conn;

			w->conn = it->conn;
			it->conn = c;
			osd_item_free(it);
			return true;
		}
	return false;
}

static struct osd_item *list_take(struct osd_item **head, struct osd_item **tail)
{
	struct osd_item *l = *head;

	*head = *tail = NULL;
	return l;
}

static struct osd_item *item_next(struct osd_item *it)
{
	return (struct osd_item *)it->q.next;
}

static bool in_set(const int32_t *set, int n, int32_t id)
{
	for (int i = 0; i < n; i++)
		if (set[i] == id)
			return true;
	return false;
}

static bool is_primary(const struct pg *pg)
{
	return pg->primary == pg->osd->id;
}

static void repop_free(struct repop *rp)
{
	struct osd_item *d, *n;

	for (d = rp->dups; d; d = n) {
		n = item_next(d);
		osd_item_free(d);
	}
	if (rp->client)
		msg_conn_put(rp->client);
	free(rp->req);
	free(rp->oid);
	cbuf_free(&rp->out);
	cbuf_free(&rp->front);
	sbuf_put(rp->txn);
	free(rp);
}

void pg_publish(struct pg *pg)
{
	struct mon_pg_stat *s = &pg->pub;

	pthread_mutex_lock(&pg->shard->stat_lock);
	memset(s, 0, sizeof(*s));
	s->pg = pg->id;
	s->state = pg->state;
	s->nup = (uint8_t)pg->nup;
	s->nacting = (uint8_t)pg->nacting;
	memcpy(s->up, pg->up, sizeof(s->up));
	memcpy(s->acting, pg->acting, sizeof(s->acting));
	s->up_primary = pg->up_primary;
	s->acting_primary = pg->primary;
	s->reported_epoch = pg->map_epoch;
	s->num_objects = pg->info.num_objects;
	s->num_bytes = pg->info.num_bytes;
	s->last_update_epoch = pg->info.last_update.epoch;
	s->last_update_version = pg->info.last_update.v;
	s->log_size = pg->log.count;
	if (pg->nacting < pg->pool_size)
		s->objects_degraded = pg->info.num_objects * (uint64_t)(pg->pool_size - pg->nacting);
	rec_pg_stats(pg, s);
	pthread_mutex_unlock(&pg->shard->stat_lock);
}

/* ---- creation ------------------------------------------------------------------------- */

struct pg *pg_lookup(struct osd_shard *sh, struct pg_id id)
{
	struct pg *pg;

	for (pg = sh->pg_buckets[(id.pool * 31 + id.ps) % OSD_PG_BUCKETS]; pg; pg = pg->hnext)
		if (!pg_id_cmp(&pg->id, &id))
			return pg;
	return NULL;
}

struct pg *pg_create(struct osd_shard *sh, struct pg_id id, uint32_t epoch,
		     struct store_txn **batch)
{
	struct osd *o = sh->osd;
	struct pg *pg = calloc(1, sizeof(*pg));
	unsigned b;
	int r;

	if (!pg)
		return NULL;
	pg->shard = sh;
	pg->osd = o;
	pg->id = id;
	pg->primary = pg->up_primary = -1;
	pg_id_str(&id, pg->coll, sizeof(pg->coll));
	pg_log_meta_oid(&id, pg->meta_oid, sizeof(pg->meta_oid));
	if (pg_log_init(&pg->log, o->log_max))
		goto e_free;
	r = store_coll_exists(o->store, pg->coll);
	if (r < 0)
		goto e_log;
	if (r == 1) {
		r = pg_log_load(&pg->log, o->store, pg->meta_oid, &pg->info);
		if (r) {
			CLOG_ERR("osd", "pg %s: cannot load its log: %s", pg->coll, cairn_strerror(r));
			goto e_log;
		}
	} else {
		pg->info.pgid = id;
		pg->info.epoch_created = epoch;
		if (!*batch && !(*batch = store_txn_new()))
			goto e_log;
		if (store_txn_coll_create(*batch, pg->coll) ||
		    store_txn_touch(*batch, PG_META_COLL, pg->meta_oid, strlen(pg->meta_oid)) ||
		    pg_log_txn_info(*batch, pg->meta_oid, &pg->info))
			goto e_log;
	}
	pthread_mutex_lock(&sh->stat_lock);
	b = (unsigned)((id.pool * 31 + id.ps) % OSD_PG_BUCKETS);
	pg->hnext = sh->pg_buckets[b];
	sh->pg_buckets[b] = pg;
	pg->next = sh->pg_list;
	sh->pg_list = pg;
	pthread_mutex_unlock(&sh->stat_lock);
	return pg;
e_log:
	pg_log_destroy(&pg->log);
e_free:
	free(pg);
	return NULL;
}

void pg_unlink(struct pg *pg)
{
	struct osd_shard *sh = pg->shard;
	struct pg **pp;

	pthread_mutex_lock(&sh->stat_lock);
	for (pp = &sh->pg_buckets[(pg->id.pool * 31 + pg->id.ps) % OSD_PG_BUCKETS]; *pp;
	     pp = &(*pp)->hnext)
		if (*pp == pg) {
			*pp = pg->hnext;
			break;
		}
	for (pp = &sh->pg_list; *pp; pp = &(*pp)->next)
		if (*pp == pg) {
			*pp = pg->next;
			break;
		}
	pthread_mutex_unlock(&sh->stat_lock);
}

void pg_destroy(struct pg *pg)
{
	struct repop *rp, *n;
	struct osd_item *it, *in;

	for (rp = pg->inflight_head; rp; rp = n) {
		n = rp->next;
		repop_free(rp);
	}
	for (it = pg->waiting_head; it; it = in) {
		in = item_next(it);
		osd_item_free(it);
	}
	for (it = pg->blocked_head; it; it = in) {
		in = item_next(it);
		osd_item_free(it);
	}
	rec_pg_free(pg);
	pg_log_destroy(&pg->log);
	free(pg);
}

/* ---- replication: sending and completing ------------------------------------------------- */

static void repop_send(struct pg *pg, struct repop *rp, int32_t to, const struct osdmap *map,
		       bool force)
{
	const struct osd_info *oi = osdmap_osd(map, to);
	struct msg_conn *c;
	struct iovec iov[2];
	struct msg_out mo;
	struct cbuf forced;
	int r;

	if (!oi || !oi->addr[0])
		return;
	cbuf_init(&forced);
	if (force) {
		/* the front with OSD_REPOP_FORCE set: re-decode ours and flip the flag */
		struct osd_repop h;
		struct cdec d;

		cdec_init(&d, rp->front.data, rp->front.len);
		if (osd_repop_decode(&d, &h))
			return;
		h.flags |= OSD_REPOP_FORCE;
		osd_repop_encode(&forced, &h);
		osd_repop_clear(&h);
		if (forced.err) {
			cbuf_free(&forced);
			return;
		}
	}
	c = msgr_connect(pg->osd->msgr, oi->addr, MSG_LOSSLESS);
	if (!c) {
		CLOG_WARN("osd", "pg %s: cannot connect to osd.%d at %s", pg->coll, to, oi->addr);
		return;
	}
	iov[0].iov_base = rp->txn->hdr;
	iov[0].iov_len = sizeof(rp->txn->hdr);
	iov[1].iov_base = rp->txn->data;
	iov[1].iov_len = rp->txn->len;
	memset(&mo, 0, sizeof(mo));
	mo.type = MSG_OSD_REPOP;
	mo.tid = rp->v.v;
	mo.front = force ? forced.data : rp->front.data;
	mo.front_len = (uint32_t)(force ? forced.len : rp->front.len);
	mo.data = iov;
	mo.data_iovcnt = 2;
	mo.release = sbuf_put;
	mo.release_arg = sbuf_get(rp->txn);
	r = msg_send(c, &mo);
	if (r)
		CLOG_WARN("osd", "pg %s: repop %u'%" PRIu64 " to osd.%d: %s", pg->coll, rp->v.epoch,
			  rp->v.v, to, cairn_strerror(r));
	atomic_fetch_add(&pg->osd->repops, 1);
	msg_conn_put(c);
	cbuf_free(&forced);
}

/* Re-sends, in version order, every in-flight repop newer than after that osd has not
 * acked; the first one forced when the replica's log cannot continue at it. */
static void repop_resend_after(struct pg *pg, int32_t osd, struct osd_eversion after,
			       bool force_first)
{
	bool first = true;

	for (struct repop *rp = pg->inflight_head; rp; rp = rp->next) {
		if (osd_eversion_cmp(rp->v, after) <= 0 || in_set(rp->acked, rp->nacked, osd))
			continue;
		repop_send(pg, rp, osd, pg->shard->map, force_first && first);
		first = false;
	}
}

void pg_peer_reset(struct pg *pg, int32_t osd)
{
	if (pg->primary != pg->osd->id || !in_set(pg->acting, pg->nacting, osd) || pg->peering)
		return; /* while peering: pg_resend_inflight once it activates */
	for (int i = 0; i < CAIRN_MAX_REPLICAS; i++)
		if (pg->gap_osd[i] == osd + 1)
			pg->gap_osd[i] = 0;
	repop_resend_after(pg, osd, (struct osd_eversion){ 0, 0 }, false);
}

static bool repop_done(const struct pg *pg, const struct repop *rp)
{
	if (!rp->local_done)
		return false;
	for (int i = 0; i < pg->nacting; i++) {
		int32_t id = pg->acting[i];

		if (id != pg->osd->id && id != OSDMAP_NONE && !in_set(rp->acked, rp->nacked, id))
			return false;
	}
	return true;
}

static void reply_dup(struct pg *pg, struct osd_item *it, struct osd_eversion v, int32_t result)
{
	struct osd_op_result res[OSD_OPS_MAX];
	struct cbuf none;

	memset(res, 0, sizeof(res));
	cbuf_init(&none);
	atomic_fetch_add(&pg->osd->ops_dup, 1);
	osd_send_reply(pg->osd, it->conn, it->req, result, OSD_REPLY_DUP, pg->map_epoch, v, res,
		       it->req->nops, &none);
	osd_item_free(it);
}

static void release_blocked(struct pg *pg);

/* Completes finished repops in version order. */
static void repop_check(struct pg *pg)
{
	struct repop *rp;
	bool any = false;

	/* no reply while peering or below min_size: a write is acknowledged only in an
	 * interval that went active (its last-active record is at the mon, recovery.c);
	 * pg_resend_inflight runs this again once the PG is active */
	if (pg->peering || pg->nacting < pg->pool_min_size)
		return;

	while ((rp = pg->inflight_head) && repop_done(pg, rp)) {
		struct osd_item *d, *n;

		pg->inflight_head = rp->next;
		if (!pg->inflight_head)
			pg->inflight_tail = NULL;
		pg->ninflight--;
		osd_send_reply(pg->osd, rp->client, rp->req, rp->err, 0, pg->map_epoch, rp->v,
			       rp->res, rp->req->nops, &rp->out);
		for (d = rp->dups; d; d = n) {
			n = item_next(d);
			reply_dup(pg, d, rp->v, rp->err);
		}
		rp->dups = NULL;
		repop_free(rp);
		any = true;
	}
	if (any) {
		pg_publish(pg);
		release_blocked(pg);
	}
}

/* ---- the primary's op path -------------------------------------------------------------- */

bool pg_inflight_any(struct pg *pg, bool (*match)(void *arg, const char *oid), void *arg)
{
	for (struct repop *rp = pg->inflight_head; rp; rp = rp->next)
		if (match(arg, rp->oid))
			return true;
	return false;
}

static bool object_busy(struct pg *pg, const char *oid)
{
	struct osd_item *b;

	for (struct repop *rp = pg->inflight_head; rp; rp = rp->next)
		if (!strcmp(rp->oid, oid))
			return true;
	for (b = pg->blocked_head; b; b = item_next(b))
		if (!strcmp(b->req->oid, oid))
			return true;
	return false;
}

static void release_blocked(struct pg *pg)
{
	struct osd_item *l = list_take(&pg->blocked_head, &pg->blocked_tail), *n;

	if (l && op_queue_inline()) {
		/* run inline on a messenger thread (a repop reply): the writes this releases
		 * may wait for the store, so the shard runs them, first and in their order
		 * (nothing else of the shard runs until this returns) */
		struct osd_item *rev = NULL;

		for (; l; l = n) {
			n = item_next(l);
			l->q.next = rev ? &rev->q : NULL;
			rev = l;
		}
		for (; rev; rev = n) {
			n = item_next(rev);
			rev->q.next = NULL;
			op_queue_push_front(pg->osd->oq, pg->shard->idx, &rev->q);
		}
		return;
	}
	for (; l; l = n) {
		n = item_next(l);
		l->q.next = NULL;
		pg_do_client_op(pg, l);
	}
}

struct list_ctx {
	struct cbuf *out;
	struct osd_kvenc *e;
	const uint8_t *skip;
	uint32_t skiplen;
	uint32_t n, max;
	bool more;
};

static int list_cb(void *arg, const void *oid, size_t oidlen, uint64_t hash)
{
	struct list_ctx *c = arg;

	(void)hash;
	if (c->skiplen && oidlen == c->skiplen && !memcmp(oid, c->skip, oidlen))
		return 0;
	if (c->n == c->max) {
		c->more = true;
		return 1;
	}
	osd_kv_enc_add(c->out, c->e, oid, (uint32_t)oidlen, NULL, 0);
	c->n++;
	return 0;
}

static void do_list(struct pg *pg, struct osd_item *it)
{
	const struct osd_op *op = &it->req->ops[0];
	struct store_cursor *cur = malloc(sizeof(*cur));
	struct osd_op_result res = { 0 };
	struct osd_kvenc e;
	struct cbuf out;
	struct list_ctx c;
	int r;

	cbuf_init(&out);
	if (!cur) {
		res.rc = -ENOMEM;
		goto reply;
	}
	c = (struct list_ctx){ &out, &e, op->name, op->name_len, 0, 0, false };
	c.max = op->len && op->len < pg->osd->list_max ? (uint32_t)op->len : pg->osd->list_max;
	if (op->name_len)
		store_cursor_at(cur, op->name, op->name_len);
	else
		store_cursor_begin(cur);
	osd_kv_enc_start(&out, &e, false);
	r = store_list(pg->osd->store, pg->coll, cur, NULL, c.max + 2, list_cb, &c, NULL);
	if (r < 0) {
		res.rc = r;
		cbuf_reset(&out);
		goto reply;
	}
	if (r >= (int)c.max + 2)
		c.more = true;
	osd_kv_enc_finish(&out, &e, c.more);
	res.outdata_len = out.len;
reply:
	free(cur);
	osd_send_reply(pg->osd, it->conn, it->req, res.rc, 0, pg->map_epoch,
		       (struct osd_eversion){ 0, 0 }, &res, 1, &out);
	osd_item_free(it);
}

struct commit_arg {
	struct osd *osd;
	unsigned shard;
	struct osd_item *it; /* preallocated OQ_LOCAL_COMMIT item */
};

static void local_commit_cb(void *arg, int rc)
{
	struct commit_arg *ca = arg;

	ca->it->rc = rc;
	osd_push_from_callback(ca->osd, ca->shard, ca->it);
	free(ca);
}

static int start_write(struct pg *pg, struct osd_item *it, struct op_exec *ex)
{
	struct osd *o = pg->osd;
	struct pg_log_entry e;
	struct repop *rp;
	struct commit_arg *ca = NULL;
	struct osd_repop hdr;
	struct pg_info info = pg->info;
	int r = -ENOMEM;

	rp = calloc(1, sizeof(*rp));
	ca = calloc(1, sizeof(*ca));
	if (!rp || !ca)
		goto e_free;
	ca->it = calloc(1, sizeof(*ca->it));
	rp->txn = calloc(1, sizeof(*rp->txn));
	rp->oid = strdup(it->req->oid);
	if (!ca->it || !rp->txn || !rp->oid)
		goto e_free;
	atomic_init(&rp->txn->refs, 1);
	cbuf_init(&rp->out);
	cbuf_init(&rp->front);

	rp->v.epoch = pg->map_epoch;
	rp->v.v = pg->info.last_update.v + 1;
	rp->prior = pg->info.last_update;
	rp->reqid = it->req->reqid;
	e = (struct pg_log_entry){ rp->v, rp->reqid,
				   ex->exists ? PG_LOG_MODIFY : PG_LOG_DELETE, now_wall_ns(),
				   rp->oid };
	info.last_update = rp->v;
	if (ex->exists && !ex->existed)
		info.num_objects++;
	if (!ex->exists && ex->existed && info.num_objects)
		info.num_objects--;
	info.num_bytes += (ex->exists ? ex->size : 0);
	info.num_bytes -= (ex->existed ? ex->old_size : 0) > info.num_bytes
				  ? info.num_bytes
				  : (ex->existed ? ex->old_size : 0);
	r = pg_log_txn_add(&pg->log, ex->txn, pg->meta_oid, &e, &info);
	if (r)
		goto e_free;
	/* the replicas get the transaction's own op bytes (a 4 MiB write is not copied): the
	 * local transaction holds a reference on rp->txn until the store frees it */
	r = store_txn_share(ex->txn, rp->txn->hdr, (void **)&rp->txn->data, &rp->txn->len,
			    sbuf_put, rp->txn);
	if (r)
		goto e_free;
	sbuf_get(rp->txn);
	hdr = (struct osd_repop){ pg->id, pg->map_epoch, o->id, 0, rp->prior, e, info };
	osd_repop_encode(&rp->front, &hdr);
	if (rp->front.err) {
		r = rp->front.err;
		goto e_free;
	}
	/* queue locally; the store frees the transaction whatever happens */
	ca->osd = o;
	ca->shard = pg->shard->idx;
	ca->it->q.type = OQ_LOCAL_COMMIT;
	ca->it->pgid = pg->id;
	ca->it->v = rp->v;
	r = store_queue_txn(o->store, ex->txn, NULL, local_commit_cb, ca);
	ex->txn = NULL;
	if (r) {
		CLOG_ERR("osd", "pg %s: store refused a write: %s", pg->coll, cairn_strerror(r));
		goto e_free;
	}
	ca = NULL; /* the callback owns it now */

	/* the entry is now part of the PG's history */
	e.oid = strdup(rp->oid);
	if (e.oid)
		pg_log_append(&pg->log, &e);
	pg->info = info;

	rp->client = it->conn;
	it->conn = NULL;
	rp->req = it->req;
	it->req = NULL;
	memcpy(rp->res, ex->res, sizeof(rp->res));
	rp->out = ex->out;
	cbuf_init(&ex->out);
	if (pg->inflight_tail)
		pg->inflight_tail->next = rp;
	else
		pg->inflight_head = rp;
	pg->inflight_tail = rp;
	pg->ninflight++;
	{
		struct osdmap *map = pg->shard->map;

		for (int i = 0; i < pg->nacting; i++)
			if (pg->acting[i] != o->id && pg->acting[i] != OSDMAP_NONE)
				repop_send(pg, rp, pg->acting[i], map, false);
	}
	osd_item_free(it);
	return 0;
e_free:
	if (ca) {
		free(ca->it);
		free(ca);
	}
	if (rp) {
		rp->client = NULL;
		rp->req = NULL;
		repop_free(rp);
	}
	return r;
}

/* Peering adopted another copy's log (recovery.c, before it activates): an in-flight write
 * whose entry that log lacks (same version and request id; older than the log: kept) is not
 * part of the PG's history,
 * and its object is pulled back from that copy. It was never acknowledged (repop_check
 * answers nothing while the PG peers); re-sending it under its old version would put it on
 * replicas behind the primary's back. Its client is told to resend (-ESTALE + MISDIRECTED:
 * the objecter retries with the same reqid), and the write runs again as a new version. */
void pg_drop_divergent(struct pg *pg, const struct pg_log_entry *ents, uint32_t n)
{
	struct repop **pp = &pg->inflight_head, *rp;
	struct osd_op_result res[OSD_OPS_MAX];
	int dropped = 0;

	memset(res, 0, sizeof(res));
	pg->inflight_tail = NULL;
	while ((rp = *pp)) {
		/* older than the adopted log: within the history it summarises */
		bool kept = n && osd_eversion_cmp(rp->v, ents[0].version) < 0;
		struct osd_item *d, *dn;
		struct cbuf none;

		for (uint32_t i = n; i-- > 0;) {
			int c = osd_eversion_cmp(ents[i].version, rp->v);

			if (c < 0)
				break;
			if (!c) {
				kept = osd_reqid_eq(&ents[i].reqid, &rp->reqid);
				break;
			}
		}
		if (kept) {
			pg->inflight_tail = rp;
			pp = &rp->next;
			continue;
		}
		*pp = rp->next;
		pg->ninflight--;
		dropped++;
		cbuf_init(&none);
		osd_send_reply(pg->osd, rp->client, rp->req, -ESTALE, OSD_REPLY_MISDIRECTED,
			       pg->map_epoch, (struct osd_eversion){ 0, 0 }, res, rp->req->nops,
			       &none);
		for (d = rp->dups; d; d = dn) {
			dn = item_next(d);
			cbuf_init(&none);
			osd_send_reply(pg->osd, d->conn, d->req, -ESTALE, OSD_REPLY_MISDIRECTED,
				       pg->map_epoch, (struct osd_eversion){ 0, 0 }, res,
				       d->req->nops, &none);
			osd_item_free(d);
		}
		rp->dups = NULL;
		repop_free(rp);
	}
	if (dropped) {
		CLOG_INFO("osd", "pg %s: %d in-flight writes not in the adopted log: their clients "
			  "resend", pg->coll, dropped);
		release_blocked(pg);
	}
}

void pg_note_active(struct pg *pg)
{
	memcpy(pg->active_acting, pg->acting, sizeof(pg->active_acting));
	pg->active_nacting = pg->nacting;
}

void pg_resend_inflight(struct pg *pg)
{
	for (int i = 0; i < pg->nacting; i++)
		if (pg->acting[i] != pg->osd->id && pg->acting[i] != OSDMAP_NONE)
			repop_resend_after(pg, pg->acting[i], (struct osd_eversion){ 0, 0 }, false);
	repop_check(pg); /* writes every member acked while peering */
}

void pg_do_client_op(struct pg *pg, struct osd_item *it)
{
	struct osd *o = pg->osd;
	struct osd_op_req *req = it->req;
	struct op_exec ex;
	bool write;
	int r;

	if (atomic_load(&o->stopping)) {
		osd_item_free(it);
		return;
	}
	if (!is_primary(pg)) {
		osd_reply_misdirected(pg->shard, it);
		return;
	}
	if (!(pg->state & PG_STATE_ACTIVE)) {
		if (absorb_resend(pg->waiting_head, it))
			return;
		list_push(&pg->waiting_head, &pg->waiting_tail, it);
		return;
	}
	if (op_queue_inline() && rec_client_op_may_wait(pg)) {
		/* run inline on a messenger thread: waiting for recovery kicks recovery work,
		 * which may read the disk and release waiting ops; the shard runs it */
		atomic_fetch_add(op_req_is_write(req) ? &o->writes_handed_back : &o->reads_handed_back,
				 1);
		op_queue_push_front(o->oq, pg->shard->idx, &it->q);
		return;
	}
	if (rec_client_op_wait(pg, it))
		return; /* its object is still being recovered (recovery.c) */
	if (req->ops[0].op == OSD_OP_LIST) {
		if (req->nops != 1 || req->oid[0]) {
			struct osd_op_result res[OSD_OPS_MAX] = { 0 };
			struct cbuf none;

			cbuf_init(&none);
			res[0].rc = -EINVAL;
			osd_send_reply(o, it->conn, req, -EINVAL, 0, pg->map_epoch,
				       (struct osd_eversion){ 0, 0 }, res, req->nops, &none);
			osd_item_free(it);
			return;
		}
		do_list(pg, it);
		return;
	}
	if (!req->oid[0]) {
		struct osd_op_result res[OSD_OPS_MAX] = { 0 };
		struct cbuf none;

		cbuf_init(&none);
		for (uint32_t i = 0; i < req->nops; i++)
			res[i].rc = i ? -ECANCELED : -EINVAL;
		osd_send_reply(o, it->conn, req, -EINVAL, 0, pg->map_epoch,
			       (struct osd_eversion){ 0, 0 }, res, req->nops, &none);
		osd_item_free(it);
		return;
	}
	write = op_req_is_write(req);
	if (write) {
		const struct pg_log_entry *e = pg_log_find_reqid(&pg->log, &req->reqid);

		if (e) {
			for (struct repop *rp = pg->inflight_head; rp; rp = rp->next)
				if (osd_reqid_eq(&rp->reqid, &req->reqid)) {
					it->q.next = &rp->dups->q;
					rp->dups = it;
					return;
				}
			reply_dup(pg, it, e->version, 0);
			return;
		}
	}
	if (object_busy(pg, req->oid) || (write && pg->ninflight >= pg->osd->inflight_max)) {
		if (absorb_resend(pg->blocked_head, it))
			return;
		list_push(&pg->blocked_head, &pg->blocked_tail, it);
		return;
	}
	atomic_fetch_add(&o->ops, 1);
	memset(&ex, 0, sizeof(ex));
	ex.store = o->store;
	ex.coll = pg->coll;
	ex.req = req;
	ex.indata = it->m ? it->m->data : NULL;
	ex.indata_len = it->m ? it->m->data_len : 0;
	ex.max_write = o->max_write;
	ex.list_max = o->list_max;
	ex.nowait = op_queue_inline();
	r = op_exec_run(&ex);
	if (ex.nowait && ex.txn && !ex.result && !r &&
	    !store_has_room(o->store, it->m && it->m->data ? it->m->data_len : 0))
		r = -EWOULDBLOCK; /* queueing the transaction would wait for room */
	if (r == -EWOULDBLOCK && ex.nowait) {
		/* run inline on a messenger thread and it needs the disk: the shard runs it */
		atomic_fetch_sub(&o->ops, 1);
		atomic_fetch_add(write ? &o->writes_handed_back : &o->reads_handed_back, 1);
		op_exec_clear(&ex);
		op_queue_push_front(o->oq, pg->shard->idx, &it->q);
		return;
	}
	if (ex.nowait)
		atomic_fetch_add(write ? &o->writes_inline : &o->reads_inline, 1);
	if (r) {
		ex.result = r;
		for (uint32_t i = 0; i < req->nops; i++)
			ex.res[i] = (struct osd_op_result){ i ? -ECANCELED : r, 0, 0 };
		cbuf_reset(&ex.out);
	}
	if (ex.txn && !ex.result) {
		atomic_fetch_add(&o->ops_write, 1);
		r = start_write(pg, it, &ex);
		if (!r) {
			op_exec_clear(&ex);
			return;
		}
		ex.result = r;
		cbuf_reset(&ex.out);
		for (uint32_t i = 0; i < req->nops; i++)
			ex.res[i].outdata_off = ex.res[i].outdata_len = 0;
	}
	osd_send_reply(o, it->conn, req, ex.result, 0, pg->map_epoch,
		       (struct osd_eversion){ 0, 0 }, ex.res, req->nops, &ex.out);
	op_exec_clear(&ex);
	osd_item_free(it);
}

void pg_push_applied(struct pg *pg, struct osd_item *it)
{
	if (pg->peer_pending > 0)
		pg->peer_pending--;
	osd_item_free(it);
	pg_peering_check(pg);
}

void pg_do_local_commit(struct pg *pg, struct osd_item *it)
{
	for (struct repop *rp = pg->inflight_head; rp; rp = rp->next)
		if (!osd_eversion_cmp(rp->v, it->v)) {
			rp->local_done = true;
			if (it->rc) {
				CLOG_ERR("osd", "pg %s: local commit of %u'%" PRIu64 " failed: %s",
					 pg->coll, rp->v.epoch, rp->v.v, cairn_strerror(it->rc));
				rp->err = -EIO;
			}
			break;
		}
	osd_item_free(it);
	repop_check(pg);
}

/* A replica's log ends at last before the prior of a repop it got: the versions it misses
 * are either still in flight (re-send them, in order) or were completed while it was away
 * (push the objects from the log, pg_push.c, then re-send; if the log no longer reaches back
 * that far, the next repop is forced onto it until issue 8's backfill exists). One re-send
 * per (replica, gap position). */
static void repop_gap(struct pg *pg, int32_t osd, struct osd_eversion last)
{
	int slot = -1;
	bool in_flight = false;

	if (!in_set(pg->acting, pg->nacting, osd))
		return;
	for (int i = 0; i < CAIRN_MAX_REPLICAS; i++) {
		if (pg->gap_osd[i] == osd + 1) {
			if (!osd_eversion_cmp(pg->gap_at[i], last))
				return; /* already re-sent from there */
			slot = i;
			break;
		}
		if (!pg->gap_osd[i] && slot < 0)
			slot = i;
	}
	if (slot < 0)
		slot = 0;
	pg->gap_osd[slot] = osd + 1;
	pg->gap_at[slot] = last;
	for (struct repop *rp = pg->inflight_head; rp; rp = rp->next)
		if (!osd_eversion_cmp(rp->prior, last))
			in_flight = true;
	if (!in_flight) {
		/* it missed completed writes: push them from the log, then the in-flight ones */
		struct osd_eversion upto, stop = pg->inflight_head ? pg->inflight_head->v
								   : (struct osd_eversion){ UINT32_MAX,
											    UINT64_MAX };
		int r = pg_push_missing(pg, osd, last, stop, &upto);

		if (r == 1) {
			repop_resend_after(pg, osd, upto, false);
			return;
		}
		CLOG_WARN("osd", "pg %s: osd.%d is behind (log ends at %u'%" PRIu64 ") and cannot be"
			  " caught up from the log (%s): needs a backfill (issue 8); continuing with "
			  "a gap", pg->coll, osd, last.epoch, last.v, r ? cairn_strerror(r) : "nothing to push");
	}
	repop_resend_after(pg, osd, last, !in_flight);
}

void pg_do_repop_reply(struct pg *pg, struct osd_item *it)
{
	const struct osd_repop_reply *rr = &it->rr;

	for (struct repop *rp = pg->inflight_head; rp; rp = rp->next) {
		if (osd_eversion_cmp(rp->v, rr->version))
			continue;
		if (rr->result == -EAGAIN) {
			repop_gap(pg, rr->from, rr->last_update);
			break;
		}
		if (rr->result) {
			CLOG_WARN("osd", "pg %s: osd.%d failed repop %u'%" PRIu64 ": %s", pg->coll,
				  rr->from, rr->version.epoch, rr->version.v,
				  cairn_strerror(rr->result));
			if (in_set(pg->acting, pg->nacting, rr->from))
				rp->err = -EIO;
		}
		if (!in_set(rp->acked, rp->nacked, rr->from) && rp->nacked < CAIRN_MAX_REPLICAS)
			rp->acked[rp->nacked++] = rr->from;
		break;
	}
	osd_item_free(it);
	repop_check(pg);
}

/* ---- replica ------------------------------------------------------------------------------ */

struct replica_ctx {
	struct msg_conn *conn;
	struct osd_repop_reply rr;
	struct osd *osd;
	unsigned shard;
	struct osd_item *notify; /* OQ_LOCAL_COMMIT to our own shard (a push while peering) */
};

static void replica_commit_cb(void *arg, int rc)
{
	struct replica_ctx *rc_ = arg;
	struct msg_out mo;
	struct cbuf b;

	if (rc)
		rc_->rr.result = rc;
	cbuf_init(&b);
	osd_repop_reply_encode(&b, &rc_->rr);
	if (!b.err) {
		memset(&mo, 0, sizeof(mo));
		mo.type = MSG_OSD_REPOPREPLY;
		mo.prio = MSG_PRIO_HIGH;
		mo.tid = rc_->rr.version.v;
		mo.front = b.data;
		mo.front_len = (uint32_t)b.len;
		msg_send(rc_->conn, &mo);
	}
	cbuf_free(&b);
	msg_conn_put(rc_->conn);
	if (rc_->notify) {
		rc_->notify->rc = rc;
		osd_push_from_callback(rc_->osd, rc_->shard, rc_->notify);
	}
	free(rc_);
}

void pg_do_repop(struct pg *pg, struct osd_item *it)
{
	struct osd *o = pg->osd;
	struct osd_repop *rp = &it->repop;
	struct replica_ctx *ctx;
	struct store_txn *t;
	int r;

	if (op_queue_inline()) {
		/* on a messenger thread (osd_inline_repops): what may wait (a PG that peers or
		 * recovers, a full store queue) goes to the shard, ahead of what came after it */
		if (pg->peering || rec_repop_may_wait(pg, rp) ||
		    !store_has_room(o->store, it->m->data ? it->m->data_len : 0)) {
			atomic_fetch_add(&o->repops_handed_back, 1);
			op_queue_push_front(o->oq, pg->shard->idx, &it->q);
			return;
		}
		atomic_fetch_add(&o->repops_inline, 1);
	}
	ctx = calloc(1, sizeof(*ctx));
	t = store_txn_new();
	if (!ctx || !t) {
		free(ctx);
		store_txn_free(t);
		osd_item_free(it);
		return;
	}
	ctx->conn = msg_conn_get(it->conn);
	ctx->rr = (struct osd_repop_reply){ pg->id, pg->map_epoch, o->id, rp->entry.version, 0,
					    pg->info.last_update };
	if (osd_eversion_cmp(rp->entry.version, pg->info.last_update) <= 0) {
		/* a resend: already applied; ack once everything before it is durable. A
		 * different request under that version means the primary's history diverged
		 * from ours (it missed writes): refuse rather than ack what we never applied. */
		for (uint32_t i = pg->log.count; i-- > 0;) {
			const struct pg_log_entry *le = pg_log_at(&pg->log, i);

			if (osd_eversion_cmp(le->version, rp->entry.version) < 0)
				break;
			if (!osd_eversion_cmp(le->version, rp->entry.version) &&
			    !osd_reqid_eq(&le->reqid, &rp->entry.reqid)) {
				CLOG_ERR("osd", "pg %s: osd.%d sent %u'%" PRIu64 " for another request:"
					 " divergent history (needs peering, issue 8)", pg->coll,
					 rp->from, rp->entry.version.epoch, rp->entry.version.v);
				store_txn_free(t);
				replica_commit_cb(ctx, -ESTALE);
				osd_item_free(it);
				return;
			}
		}
		r = store_queue_txn(o->store, t, NULL, replica_commit_cb, ctx);
		if (r)
			replica_commit_cb(ctx, r);
		osd_item_free(it);
		return;
	}
	if (osd_eversion_cmp(rp->prior, pg->info.last_update) && !(rp->flags & OSD_REPOP_FORCE)) {
		/* a gap: an earlier repop was lost (peer reset); the primary re-sends */
		CLOG_DEBUG("osd", "pg %s: repop %u'%" PRIu64 " after %u'%" PRIu64
			   " but log ends at %u'%" PRIu64, pg->coll, rp->entry.version.epoch,
			   rp->entry.version.v, rp->prior.epoch, rp->prior.v,
			   pg->info.last_update.epoch, pg->info.last_update.v);
		store_txn_free(t);
		replica_commit_cb(ctx, -EAGAIN);
		osd_item_free(it);
		return;
	}
	/* issue 8: an object this replica does not hold yet gets only the log entry */
	if (rec_repop_skip_data(pg, rp, t)) {
		r = 0;
	} else {
		/* the transaction uses the message's payload in place (no copy of the data) */
		uint64_t n;
		void *buf = msg_steal_data(it->m, &n);

		r = store_txn_decode_owned(t, buf, n);
		if (r)
			free(buf);
	}
	if (r) {
		CLOG_ERR("osd", "pg %s: bad transaction from osd.%d: %s", pg->coll, rp->from,
			 cairn_strerror(r));
		store_txn_free(t);
		replica_commit_cb(ctx, r);
		osd_item_free(it);
		return;
	}
	if (pg->peering && (ctx->notify = calloc(1, sizeof(*ctx->notify)))) {
		/* a push we pulled: re-check peering once it is durable */
		ctx->osd = o;
		ctx->shard = pg->shard->idx;
		ctx->notify->q.type = OQ_PUSH_APPLIED;
		ctx->notify->pgid = pg->id;
		ctx->notify->v = rp->entry.version;
		pg->peer_pending++;
	}
	r = store_queue_txn(o->store, t, NULL, replica_commit_cb, ctx);
	if (r) {
		replica_commit_cb(ctx, r);
		osd_item_free(it);
		return;
	}
	pg_log_append(&pg->log, &rp->entry);
	pg->info.last_update = rp->entry.version;
	pg->info.log_tail = rp->info.log_tail;
	pg->info.num_objects = rp->info.num_objects;
	pg->info.num_bytes = rp->info.num_bytes;
	osd_item_free(it);
}

/* ---- maps --------------------------------------------------------------------------------- */

static uint64_t compute_state(const struct pg *pg)
{
	uint64_t st;

	if (!is_primary(pg))
		return 0;
	if (pg->nacting < pg->pool_min_size)
		st = PG_STATE_PEERED;
	else
		st = PG_STATE_ACTIVE;
	if (pg->nacting < pg->pool_size)
		st |= PG_STATE_UNDERSIZED | PG_STATE_DEGRADED;
	else if (st & PG_STATE_ACTIVE)
		st |= PG_STATE_CLEAN;
	return st;
}

/* Waiting ops run again, in arrival order (they re-check everything). */
static void release_waiting(struct pg *pg)
{
	struct osd_item *l = list_take(&pg->waiting_head, &pg->waiting_tail), *n;

	for (; l; l = n) {
		n = item_next(l);
		l->q.next = NULL;
		pg_do_client_op(pg, l);
	}
}

void pg_activate(struct pg *pg)
{
	pg->peering = false;
	pg->state = compute_state(pg);
	pg_note_active(pg);
	CLOG_DEBUG("osd", "pg %s: active at %u'%" PRIu64, pg->coll, pg->info.last_update.epoch,
		   pg->info.last_update.v);
	pg_publish(pg);
	repop_check(pg);
	if (pg->state & PG_STATE_ACTIVE)
		release_waiting(pg);
}

void pg_handle_map(struct pg *pg, const struct osdmap *map, const struct pool_info *pool,
		   const int32_t *up, int nup, int32_t up_primary, const int32_t *acting,
		   int nacting, int32_t primary)
{
	bool was_primary = is_primary(pg);
	bool changed = nacting != pg->nacting || primary != pg->primary ||
		       memcmp(acting, pg->acting, sizeof(int32_t) * (size_t)nacting);
	struct osd_item *l, *n;

	(void)n;
	memset(pg->up, 0, sizeof(pg->up));
	memset(pg->acting, 0, sizeof(pg->acting));
	memcpy(pg->up, up, sizeof(int32_t) * (size_t)nup);
	memcpy(pg->acting, acting, sizeof(int32_t) * (size_t)nacting);
	pg->nup = nup;
	pg->nacting = nacting;
	pg->up_primary = up_primary;
	pg->primary = primary;
	pg->map_epoch = map->epoch;
	if (pool) {
		pg->pool_size = pool->size;
		pg->pool_min_size = pool->min_size ? pool->min_size : 1;
	}
	if (changed) {
		pg->info.same_interval_since = map->epoch;
		char set[96];
		size_t n = 0;

		set[0] = 0;
		for (int i = 0; i < nacting && n < sizeof(set) - 12; i++)
			n += (size_t)snprintf(set + n, sizeof(set) - n, "%s%d", i ? "," : "",
					      acting[i]);
		CLOG_INFO("osd", "pg %s: epoch %u acting [%s] primary osd.%d", pg->coll, map->epoch,
			  set, primary);
	}
	if (!pool || !is_primary(pg)) {
		pg->peering = false;
		pg->state = pool ? compute_state(pg) : 0;
	} else if (changed && pg->nacting >= pg->pool_min_size) {
		pg_start_peering(pg); /* may activate at once */
	} else if (!pg->peering) {
		pg->state = compute_state(pg);
		rec_state_refresh(pg); /* issue 8: recovering / backfilling bits */
	}

	if (was_primary && !is_primary(pg)) {
		/* no longer ours: clients resend to the new primary */
		struct repop *rp, *rn;

		for (rp = pg->inflight_head; rp; rp = rn) {
			rn = rp->next;
			repop_free(rp);
		}
		pg->inflight_head = pg->inflight_tail = NULL;
		pg->ninflight = 0;
	} else if (is_primary(pg) && changed) {
		/* a member new to the acting set may not hold the PG yet (it would refuse the
		 * repop and fail the write): while peering, it gets the in-flight writes after
		 * its activation (pg_resend_inflight); the members of the last active acting set
		 * get them now (not the previous acting set: after two changes during one
		 * peering, that may hold a member that was never activated) */
		for (struct repop *rp = pg->inflight_head; rp; rp = rp->next)
			for (int i = 0; i < nacting; i++)
				if (acting[i] != pg->osd->id && acting[i] != OSDMAP_NONE &&
				    !in_set(rp->acked, rp->nacked, acting[i]) &&
				    (!pg->peering ||
				     in_set(pg->active_acting, pg->active_nacting, acting[i])))
					repop_send(pg, rp, acting[i], map, false);
	}
	pg_publish(pg);
	if (is_primary(pg))
		repop_check(pg);
	if (!is_primary(pg) || (pg->state & PG_STATE_ACTIVE)) {
		release_waiting(pg);
		if (!is_primary(pg)) {
			l = list_take(&pg->blocked_head, &pg->blocked_tail);
			for (; l; l = n) {
				n = item_next(l);
				l->q.next = NULL;
				osd_reply_misdirected(pg->shard, l);
			}
		}
	}
}
