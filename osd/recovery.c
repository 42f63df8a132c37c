/*
 * recovery — issue 8: peering, log-based recovery and backfill of a placement group.
 *
 * Peering (primary, on a new interval; rec_peering_start):
 *   state PEERING; MSG_REC_QUERY to every up OSD (the acting set and any OSD that may hold
 *   the PG from a past interval: strays answer from their store). Each answers MSG_REC_NOTIFY
 *   with its pg_info, its whole log, its persisted missing set, its backfill position and
 *   its last-active record (the complete members of the newest interval that went active).
 *   The mon's last-active record of the PG is read at the same time (MSG_MON_PG_LA).
 *   With every acting OSD answered (others: 3 s grace) and the mon's record in:
 *     - the newest last-active record among the answers, ours and the mon's names who must
 *       hold every acknowledged write (a write is acked only when all acting OSDs committed
 *       it, in an interval whose record the mon holds); if none of them answered complete
 *       -> DOWN (nothing is served; re-peered every 2 s);
 *     - auth = the complete OSD with the newest last_update;
 *     - the primary adopts auth's log when behind: objects of the entries it lacks (and of
 *       its own divergent entries) are pulled; beyond auth's log (trimmed) it asks auth for
 *       its object list (REC_F_SCAN) and pulls everything (primary backfill);
 *     - every other acting OSD gets MSG_REC_ACTIVATE: the authoritative log, its missing
 *       objects (log-based recovery), or a backfill position;
 *     - the new record goes to the mon (LA_WAIT, resent every second); once the mon's reply
 *       shows it stored: ACTIVE (+recovering / backfilling / degraded), waiting client ops
 *       released, in-flight writes answered.
 * Recovery (primary; rec_kick): at most osd_recovery_max_active objects at once and
 *   osd_recovery_max_bytes_per_sec; pulls first, pushes of whole objects (data, xattrs, omap,
 *   or removal) to the OSDs missing them. A client op on a missing object waits for it (and
 *   moves it to the front of the queue).
 * Backfill (primary -> targets whose log cannot be caught up): the primary's objects in
 *   (hash, name) order, osd_backfill_batch at a time; each batch = pushes + MSG_REC_BACKFILL
 *   {range, keep list, new boundary}; the target drops what it holds in the range that is not
 *   kept and persists the boundary. Writes to objects above a target's boundary reach it as
 *   log entries only (rec_repop_skip_data). A restart of either side resumes at the target's
 *   persisted boundary (reported in its notify).
 * In-flight writes of the previous interval reach a member new to the acting set only after
 *   its activation (activate -> pg_resend_inflight): it acks them from the adopted log.
 * Strays (primary; strays_kick): OSDs outside up and acting that answered the query with a
 *   copy get MSG_REC_REMOVE once the PG is active+clean; the stray deletes its copy
 *   (remove_stray) unless its map is older, maps the PG to it, or a newer round queried it.
 * Per-OSD persistent state: meta object "pgrec.<pgid>": "s" = last-active record and
 * backfill position, "m.<oid>" = objects this OSD misses.
 * Everything runs on the PG's shard thread; messages arrive as OQ_RECOVERY items.
 */
#include "osd/recovery.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/config.h"
#include "common/log.h"
#include "common/mon_proto.h"
#include "common/monc.h"
#include "common/msg.h"
#include "common/msg_types.h"
#include "common/pg_state.h"
#include "common/util.h"
#include "osd/osd_int.h"
#include "osd/rec_msgs.h"
#include "osd/store.h"

#define REC_BUCKETS 256
#define REC_MAX_PEERS 64
#define REC_QUERY_RESEND_NS 1000000000ull
#define REC_STRAY_GRACE_NS 3000000000ull
#define REC_DOWN_RETRY_NS 2000000000ull
#define REC_OP_RETRY_NS 10000000000ull
#define REC_STRAY_RESEND_NS 5000000000ull
#define REC_STATE_KEY "s"

/* REC_LA_WAIT: peering decided and the acting OSDs were activated; the new last-active
 * record is on its way to the mon: client ops keep waiting until the mon acknowledged it */
enum rec_phase { REC_IDLE = 0, REC_PEERING, REC_SCAN, REC_ACTIVE, REC_DOWN, REC_LA_WAIT };
enum rec_ev { REC_EV_MSG = 0, REC_EV_PULLED = 2, REC_EV_MON_LA = 3 };

struct rec_obj {
	struct rec_obj *next, *prev, *hnext;
	char *oid;
	bool pull;                 /* the primary lacks it: pull from pull_from */
	bool backfill;             /* counted as backfill (else log-based) */
	int32_t pull_from;
	int32_t peers[CAIRN_MAX_REPLICAS]; /* replicas lacking it */
	int npeers;
	unsigned inflight;
	uint64_t started_ns;
	struct osd_item *wait_head, *wait_tail;
};

struct rec_peer {
	int32_t osd;
	bool acting, answered;
	struct rec_msg n; /* its notify */
};

struct rec_strset {
	char **v;
	uint32_t n, cap;
};

struct pg_rec {
	/* persisted (this OSD's copy of the PG) */
	bool loaded;
	uint32_t la_epoch, nla;
	int32_t la[CAIRN_MAX_REPLICAS];
	bool bf_active;               /* this OSD is a backfill target */
	struct store_cursor bf;       /* ... current below this */
	struct rec_strset missing;    /* objects this OSD lacks */
	uint64_t act_token;           /* replica: the peering round that activated us */
	uint32_t query_epoch;         /* newest epoch of a peering query this copy answered */
	uint64_t stray_note_ns;       /* stray: when its primary was last told of this copy */
	char rec_oid[64];

	/* primary */
	enum rec_phase phase;
	uint64_t token;
	uint64_t peer_start_ns, query_ns, down_ns;
	struct rec_peer *peers;
	int npeers;
	/* the mon's last-active record of the PG (read each peering round) */
	bool mon_have;
	uint32_t mon_la_epoch, mon_nla;
	int32_t mon_la[CAIRN_MAX_REPLICAS];
	uint64_t mon_ns;              /* last request to the mon (resent every second) */
	int32_t scan_from;
	struct rec_obj *head, *tail;
	struct rec_obj *hash[REC_BUCKETS];
	uint64_t nobj;
	unsigned inflight;
	struct osd_item *list_wait_head, *list_wait_tail; /* LIST ops while pulls remain */
	uint64_t npull;
	/* backfill */
	int32_t bft[CAIRN_MAX_REPLICAS];
	int nbft;
	struct store_cursor bfpos;
	bool bf_busy;
	unsigned bf_wait;             /* replies outstanding for the current batch */
	uint64_t bf_sent_ns;
	struct store_cursor bf_next;
	/* throttle */
	uint32_t max_active, batch;
	uint64_t rate, win_start_ns, win_bytes;
	/* copies on OSDs outside up and acting (answered this round's query): removed once the
	 * PG is clean (strays_kick) */
	int32_t strays[REC_MAX_PEERS];
	int nstrays;
	uint64_t stray_ns;
	/* progress */
	uint64_t obj_done, bytes_done, log_objs, bf_objs, bf_left_est;
	bool recovering, kicking;
	uint64_t started_ns;
	/* activated with no complete acting copy: ops wait until the primary is complete */
	bool hold;
};

/* ---- small helpers ------------------------------------------------------------------------ */

static bool in_set(const int32_t *s, int n, int32_t id)
{
	for (int i = 0; i < n; i++)
		if (s[i] == id)
			return true;
	return false;
}

static bool is_primary(const struct pg *pg)
{
	return pg->primary == pg->osd->id;
}

static int strset_find(const struct rec_strset *s, const char *v)
{
	for (uint32_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], v))
			return (int)i;
	return -1;
}

static int strset_add(struct rec_strset *s, const char *v)
{
	char **nv;

	if (strset_find(s, v) >= 0)
		return 0;
	if (s->n == s->cap) {
		uint32_t cap = s->cap ? s->cap * 2 : 16;

		nv = realloc(s->v, cap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		s->v = nv;
		s->cap = cap;
	}
	if (!(s->v[s->n] = strdup(v)))
		return -ENOMEM;
	s->n++;
	return 0;
}

static void strset_del(struct rec_strset *s, const char *v)
{
	int i = strset_find(s, v);

	if (i < 0)
		return;
	free(s->v[i]);
	s->v[i] = s->v[--s->n];
}

static void strset_clear(struct rec_strset *s)
{
	for (uint32_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static uint32_t oid_bucket(const char *oid)
{
	return (uint32_t)(store_name_hash(oid, strlen(oid)) % REC_BUCKETS);
}

static void item_list_push(struct osd_item **h, struct osd_item **t, struct osd_item *it)
{
	it->q.next = NULL;
	if (*t)
		(*t)->q.next = &it->q;
	else
		*h = it;
	*t = it;
}

/* Re-runs waiting client ops (they re-check everything). */
static void release_items(struct pg *pg, struct osd_item **h, struct osd_item **t)
{
	struct osd_item *l = *h, *n;

	*h = *t = NULL;
	for (; l; l = n) {
		n = (struct osd_item *)l->q.next;
		l->q.next = NULL;
		pg_do_client_op(pg, l);
	}
}

/* A cursor from its wire form (hash, name). */
static void cur_set(struct store_cursor *c, uint64_t hash, const char *name)
{
	size_t l = name ? strlen(name) : 0;

	if (l > STORE_NAME_MAX)
		l = STORE_NAME_MAX;
	c->hash = hash;
	c->name_len = (uint32_t)l;
	c->at_end = 0;
	if (l)
		memcpy(c->name, name, l);
}

/* ---- persistent state --------------------------------------------------------------------- */

static void state_encode(struct cbuf *b, const struct pg_rec *r)
{
	size_t env = enc_start(b, 1, 1);

	enc_u32(b, r->la_epoch);
	enc_u32(b, r->nla);
	for (uint32_t i = 0; i < r->nla; i++)
		enc_i32(b, r->la[i]);
	enc_u8(b, r->bf_active);
	store_cursor_encode(&r->bf, b);
	enc_finish(b, env);
}

static int state_decode(struct pg_rec *r, const void *p, size_t n)
{
	struct cdec d, body;
	uint8_t bf = 0;

	cdec_init(&d, p, n);
	if (dec_start(&d, 1, &body, NULL))
		return d.err;
	dec_u32(&body, &r->la_epoch);
	dec_u32(&body, &r->nla);
	if (!body.err && r->nla > CAIRN_MAX_REPLICAS)
		dec_fail(&body, -EBADMSG);
	for (uint32_t i = 0; !body.err && i < r->nla; i++)
		dec_i32(&body, &r->la[i]);
	dec_u8(&body, &bf);
	store_cursor_decode(&r->bf, &body);
	r->bf_active = bf;
	return dec_finish(&d, &body);
}

static int load_cb(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct pg_rec *r = arg;
	char oid[OSD_OID_MAX + 1];

	if (klen == 1 && !memcmp(key, REC_STATE_KEY, 1)) {
		if (state_decode(r, val, vlen))
			CLOG_ERR("osd", "%s: bad recovery state record", r->rec_oid);
		return 0;
	}
	if (klen > 2 && klen - 2 <= OSD_OID_MAX && !memcmp(key, "m.", 2)) {
		memcpy(oid, (const char *)key + 2, klen - 2);
		oid[klen - 2] = 0;
		strset_add(&r->missing, oid);
	}
	return 0;
}

static struct pg_rec *rec_get(struct pg *pg)
{
	struct pg_rec *r = pg->rec;
	struct cairn_conf *conf = pg->osd->conf;

	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r)
			return NULL;
		pg->rec = r;
		store_cursor_begin(&r->bf);
		r->scan_from = -1;
		r->max_active = (uint32_t)conf_int(conf, "osd_recovery_max_active");
		r->rate = (uint64_t)conf_int(conf, "osd_recovery_max_bytes_per_sec");
		r->batch = (uint32_t)conf_int(conf, "osd_backfill_batch");
		if (!r->max_active)
			r->max_active = 1;
		if (!r->batch)
			r->batch = 1;
		snprintf(r->rec_oid, sizeof(r->rec_oid), "pgrec.%s", pg->coll);
	}
	if (!r->loaded) {
		int e = store_omap_iterate(pg->osd->store, PG_META_COLL, r->rec_oid,
					   strlen(r->rec_oid), NULL, 0, NULL, 0, 0, load_cb, r);

		if (e < 0 && e != -ENOENT)
			CLOG_WARN("osd", "pg %s: cannot load recovery state: %s", pg->coll,
				  cairn_strerror(e));
		r->loaded = true;
	}
	return r;
}

static int txn_state(struct store_txn *t, struct pg_rec *r)
{
	struct store_kv kv;
	struct cbuf b;
	int e;

	cbuf_init(&b);
	state_encode(&b, r);
	if (b.err) {
		e = b.err;
		goto out;
	}
	kv = (struct store_kv){ REC_STATE_KEY, 1, b.data, b.len };
	e = store_txn_omap_setkeys(t, PG_META_COLL, r->rec_oid, strlen(r->rec_oid), &kv, 1);
out:
	cbuf_free(&b);
	return e;
}

static int txn_missing(struct store_txn *t, struct pg_rec *r, const char *oid, bool add)
{
	size_t l = strlen(oid);
	char *k = malloc(l + 3);
	int e;

	if (!k)
		return -ENOMEM;
	memcpy(k, "m.", 2);
	memcpy(k + 2, oid, l + 1);
	if (add) {
		struct store_kv kv = { k, l + 2, "", 0 };

		e = store_txn_omap_setkeys(t, PG_META_COLL, r->rec_oid, strlen(r->rec_oid), &kv, 1);
	} else {
		const void *keys[1] = { k };
		size_t kl[1] = { l + 2 };

		/* the record object may not exist yet: an op on it would fail the transaction */
		e = store_txn_touch(t, PG_META_COLL, r->rec_oid, strlen(r->rec_oid));
		if (!e)
			e = store_txn_omap_rmkeys(t, PG_META_COLL, r->rec_oid, strlen(r->rec_oid), keys, kl,
					  1);
	}
	free(k);
	return e;
}

/* Replaces this OSD's log and info by the given ones (in t and in memory). */
static int adopt_log(struct pg *pg, struct store_txn *t, const struct pg_info *info,
		     const struct pg_log_entry *ents, uint32_t n)
{
	struct pg_info ni = *info;
	struct cbuf b;
	int e = 0;

	ni.pgid = pg->id;
	ni.epoch_created = pg->info.epoch_created;
	ni.same_interval_since = pg->info.same_interval_since;
	cbuf_init(&b);
	e = store_txn_omap_clear(t, PG_META_COLL, pg->meta_oid, strlen(pg->meta_oid));
	for (uint32_t i = 0; !e && i < n; i++) {
		char key[PG_LOG_KEY_MAX];
		struct store_kv kv;

		cbuf_reset(&b);
		pg_log_entry_encode(&b, &ents[i]);
		if (b.err) {
			e = b.err;
			break;
		}
		kv = (struct store_kv){ key, pg_log_entry_key(ents[i].version, key, sizeof(key)),
					b.data, b.len };
		e = store_txn_omap_setkeys(t, PG_META_COLL, pg->meta_oid, strlen(pg->meta_oid), &kv,
					   1);
	}
	if (!e)
		e = pg_log_txn_info(t, pg->meta_oid, &ni);
	cbuf_free(&b);
	if (e)
		return e;
	pg_log_destroy(&pg->log);
	if (pg_log_init(&pg->log, pg->osd->log_max))
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		struct pg_log_entry c = ents[i];

		c.oid = strdup(ents[i].oid);
		if (!c.oid)
			return -ENOMEM;
		pg_log_append(&pg->log, &c);
	}
	pg->log.persisted_tail = ni.log_tail;
	pg->info = ni;
	return 0;
}

static void txn_done_cb(void *arg, int rc)
{
	if (rc)
		CLOG_ERR("osd", "pg %s: recovery state transaction failed: %s", (char *)arg,
			 cairn_strerror(rc));
	free(arg);
}

/* Queues a transaction nobody waits for; a failure is logged. */
static void queue_txn(struct pg *pg, struct store_txn *t)
{
	char *coll = strdup(pg->coll);
	int e = store_queue_txn(pg->osd->store, t, NULL, txn_done_cb, coll);

	if (e) {
		CLOG_ERR("osd", "pg %s: cannot queue a recovery transaction: %s", pg->coll,
			 cairn_strerror(e));
		free(coll);
	}
}

/* ---- sending ------------------------------------------------------------------------------ */

static void free_data(void *p)
{
	free(p);
}

static int send_on(struct msg_conn *c, uint16_t type, const struct rec_msg *m, void *data,
		   size_t dlen, uint8_t prio)
{
	struct msg_out mo;
	struct iovec iov;
	struct cbuf b;
	int e;

	cbuf_init(&b);
	rec_msg_encode(&b, m);
	if (b.err) {
		free(data);
		e = b.err;
		goto out;
	}
	memset(&mo, 0, sizeof(mo));
	mo.type = type;
	mo.prio = prio;
	mo.front = b.data;
	mo.front_len = (uint32_t)b.len;
	if (data && dlen) {
		iov.iov_base = data;
		iov.iov_len = dlen;
		mo.data = &iov;
		mo.data_iovcnt = 1;
		mo.release = free_data;
		mo.release_arg = data;
	} else {
		free(data);
	}
	e = msg_send(c, &mo);
out:
	cbuf_free(&b);
	return e;
}

/* To an OSD by id, on the shared lossless connection (the one repops use: same order). */
static int send_to(struct pg *pg, int32_t to, uint16_t type, struct rec_msg *m, void *data,
		   size_t dlen)
{
	const struct osd_info *oi = pg->shard->map ? osdmap_osd(pg->shard->map, to) : NULL;
	struct msg_conn *c;
	int e;

	m->pgid = pg->id;
	m->epoch = pg->map_epoch;
	m->from = pg->osd->id;
	if (!oi || !oi->addr[0]) {
		free(data);
		return -ENOTCONN;
	}
	c = msgr_connect(pg->osd->msgr, oi->addr, MSG_LOSSLESS);
	if (!c) {
		free(data);
		return -ENOTCONN;
	}
	e = send_on(c, type, m, data, dlen, 0);
	msg_conn_put(c);
	return e;
}

/* ---- reading and applying whole objects --------------------------------------------------- */

struct kv_acc {
	struct rec_kv *v;
	uint32_t n, cap;
	int err;
};

static int kv_acc_add(struct kv_acc *a, const void *k, size_t kl, const void *v, size_t vl)
{
	if (a->n == a->cap) {
		uint32_t cap = a->cap ? a->cap * 2 : 8;
		struct rec_kv *nv = realloc(a->v, cap * sizeof(*nv));

		if (!nv)
			return a->err = -ENOMEM;
		a->v = nv;
		a->cap = cap;
	}
	a->v[a->n].key = malloc(kl + 1);
	a->v[a->n].val = malloc(vl + 1);
	if (!a->v[a->n].key || !a->v[a->n].val) {
		free(a->v[a->n].key);
		free(a->v[a->n].val);
		return a->err = -ENOMEM;
	}
	memcpy(a->v[a->n].key, k, kl);
	a->v[a->n].key[kl] = 0;
	memcpy(a->v[a->n].val, v, vl);
	a->v[a->n].klen = (uint32_t)kl;
	a->v[a->n].vlen = (uint32_t)vl;
	a->n++;
	return 0;
}

static int attr_cb(void *arg, const char *name, const void *val, size_t vlen)
{
	return kv_acc_add(arg, name, strlen(name), val, vlen);
}

static int omap_cb(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	return kv_acc_add(arg, key, klen, val, vlen);
}

/* Fills m (oid, flags EXISTS, size, attrs, omap) and *data from the local store. */
static int read_object(struct pg *pg, const char *oid, struct rec_msg *m, void **data,
		       size_t *dlen)
{
	struct store *s = pg->osd->store;
	size_t ol = strlen(oid);
	struct kv_acc at = { 0 }, om = { 0 };
	struct store_stat st;
	ssize_t n;
	int e;

	*data = NULL;
	*dlen = 0;
	m->oid = strdup(oid);
	if (!m->oid)
		return -ENOMEM;
	e = store_stat(s, pg->coll, oid, ol, &st);
	if (e == -ENOENT)
		return 0;
	if (e)
		return e;
	m->flags |= REC_F_EXISTS;
	m->size = st.size;
	if (st.size) {
		*data = malloc(st.size);
		if (!*data)
			return -ENOMEM;
		n = store_read(s, pg->coll, oid, ol, 0, st.size, *data);
		if (n < 0) {
			free(*data);
			*data = NULL;
			return (int)n;
		}
		*dlen = (size_t)n;
	}
	e = store_getattrs(s, pg->coll, oid, ol, attr_cb, &at);
	m->attrs = at.v;
	m->nattrs = at.n;
	if (e < 0 || at.err)
		return at.err ? at.err : e;
	e = store_omap_iterate(s, pg->coll, oid, ol, NULL, 0, NULL, 0, 0, omap_cb, &om);
	m->omap = om.v;
	m->nomap = om.n;
	if (e < 0 || om.err)
		return om.err ? om.err : e;
	return 0;
}

/* Adds to t: the object becomes exactly what m (+ data) describes. */
static int txn_object(struct pg *pg, struct store_txn *t, const struct rec_msg *m,
		      const void *data, size_t dlen)
{
	const char *oid = m->oid;
	size_t ol = strlen(oid);
	int e;

	e = store_txn_touch(t, pg->coll, oid, ol);
	if (!e)
		e = store_txn_remove(t, pg->coll, oid, ol);
	if (e || !(m->flags & REC_F_EXISTS))
		return e;
	if (dlen)
		e = store_txn_write(t, pg->coll, oid, ol, 0, dlen, data);
	else
		e = store_txn_touch(t, pg->coll, oid, ol);
	if (!e && m->size > dlen)
		e = store_txn_truncate(t, pg->coll, oid, ol, m->size);
	for (uint32_t i = 0; !e && i < m->nattrs; i++)
		e = store_txn_setattr(t, pg->coll, oid, ol, (const char *)m->attrs[i].key,
				      m->attrs[i].val, m->attrs[i].vlen);
	for (uint32_t i = 0; !e && i < m->nomap; i++) {
		struct store_kv kv = { m->omap[i].key, m->omap[i].klen, m->omap[i].val,
				       m->omap[i].vlen };

		e = store_txn_omap_setkeys(t, pg->coll, oid, ol, &kv, 1);
	}
	return e;
}

/* ---- the primary's object queue ------------------------------------------------------------ */

static struct rec_obj *obj_find(struct pg_rec *r, const char *oid)
{
	for (struct rec_obj *o = r->hash[oid_bucket(oid)]; o; o = o->hnext)
		if (!strcmp(o->oid, oid))
			return o;
	return NULL;
}

static struct rec_obj *obj_get(struct pg_rec *r, const char *oid, bool backfill)
{
	struct rec_obj *o = obj_find(r, oid);
	uint32_t b;

	if (o)
		return o;
	o = calloc(1, sizeof(*o));
	if (!o || !(o->oid = strdup(oid))) {
		free(o);
		return NULL;
	}
	o->backfill = backfill;
	o->pull_from = -1;
	b = oid_bucket(oid);
	o->hnext = r->hash[b];
	r->hash[b] = o;
	o->prev = r->tail;
	if (r->tail)
		r->tail->next = o;
	else
		r->head = o;
	r->tail = o;
	r->nobj++;
	return o;
}

static void obj_unlink(struct pg_rec *r, struct rec_obj *o)
{
	struct rec_obj **pp = &r->hash[oid_bucket(o->oid)];

	while (*pp && *pp != o)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = o->hnext;
	if (o->prev)
		o->prev->next = o->next;
	else
		r->head = o->next;
	if (o->next)
		o->next->prev = o->prev;
	else
		r->tail = o->prev;
	r->nobj--;
}

static void obj_to_front(struct pg_rec *r, struct rec_obj *o)
{
	if (r->head == o)
		return;
	o->prev->next = o->next;
	if (o->next)
		o->next->prev = o->prev;
	else
		r->tail = o->prev;
	o->prev = NULL;
	o->next = r->head;
	r->head->prev = o;
	r->head = o;
}

static void obj_add_peer(struct rec_obj *o, int32_t osd)
{
	if (!in_set(o->peers, o->npeers, osd) && o->npeers < CAIRN_MAX_REPLICAS)
		o->peers[o->npeers++] = osd;
}

static void obj_del_peer(struct rec_obj *o, int32_t osd)
{
	for (int i = 0; i < o->npeers; i++)
		if (o->peers[i] == osd) {
			o->peers[i] = o->peers[--o->npeers];
			return;
		}
}

/* Drops the primary-side state: objects (their waiters re-run), peers, backfill. */
static void primary_reset(struct pg *pg, struct pg_rec *r)
{
	struct rec_obj *o, *n;
	struct osd_item *wh = NULL, *wt = NULL;

	for (o = r->head; o; o = n) {
		n = o->next;
		if (o->wait_head) {
			if (wt)
				wt->q.next = &o->wait_head->q;
			else
				wh = o->wait_head;
			wt = o->wait_tail;
		}
		free(o->oid);
		free(o);
	}
	r->head = r->tail = NULL;
	memset(r->hash, 0, sizeof(r->hash));
	r->nobj = r->npull = 0;
	r->inflight = 0;
	for (int i = 0; i < r->npeers; i++)
		rec_msg_clear(&r->peers[i].n);
	free(r->peers);
	r->peers = NULL;
	r->npeers = 0;
	r->nbft = 0;
	r->bf_busy = false;
	r->bf_wait = 0;
	r->scan_from = -1;
	r->recovering = false;
	r->hold = false;
	r->nstrays = 0;
	r->stray_ns = 0;
	if (r->list_wait_head) {
		if (wt)
			wt->q.next = &r->list_wait_head->q;
		else
			wh = r->list_wait_head;
		wt = r->list_wait_tail;
		r->list_wait_head = r->list_wait_tail = NULL;
	}
	r->phase = REC_IDLE;
	/* ops re-run: they wait in pg->waiting (not active) or go misdirected */
	release_items(pg, &wh, &wt);
}

/* ---- states ------------------------------------------------------------------------------- */

static void set_state(struct pg *pg, struct pg_rec *r)
{
	uint64_t st;

	if (r->phase == REC_PEERING || r->phase == REC_SCAN || r->phase == REC_LA_WAIT) {
		st = PG_STATE_PEERING;
	} else if (r->hold) {
		/* recovering, but serving nothing yet (activate) */
		st = PG_STATE_PEERING | PG_STATE_DEGRADED |
		     (r->inflight ? PG_STATE_RECOVERING : PG_STATE_RECOVERY_WAIT);
	} else if (r->phase == REC_DOWN) {
		st = PG_STATE_DOWN | PG_STATE_PEERING;
	} else {
		st = PG_STATE_ACTIVE;
		if (r->nobj) {
			st |= PG_STATE_DEGRADED |
			      (r->inflight ? PG_STATE_RECOVERING : PG_STATE_RECOVERY_WAIT);
		}
		if (r->nbft)
			st |= PG_STATE_DEGRADED |
			      (r->bf_busy ? PG_STATE_BACKFILLING : PG_STATE_BACKFILL_WAIT);
		if (pg->nacting < pg->pool_size)
			st |= PG_STATE_UNDERSIZED | PG_STATE_DEGRADED;
		if (pg->nup != pg->nacting || memcmp(pg->up, pg->acting, sizeof(int32_t) *
								  (size_t)pg->nacting))
			st |= PG_STATE_REMAPPED;
		if (!(st & (PG_STATE_DEGRADED | PG_STATE_UNDERSIZED)))
			st |= PG_STATE_CLEAN;
	}
	if (pg->nacting < pg->pool_size)
		st |= PG_STATE_UNDERSIZED | PG_STATE_DEGRADED;
	pg->state = st;
	pg_publish(pg);
}

void rec_state_refresh(struct pg *pg)
{
	struct pg_rec *r = pg->rec;

	if (r && r->phase == REC_ACTIVE && is_primary(pg) && (pg->state & PG_STATE_ACTIVE) &&
	    (r->nobj || r->nbft))
		set_state(pg, r);
}

void rec_pg_stats(struct pg *pg, struct mon_pg_stat *s)
{
	struct pg_rec *r = pg->rec;
	uint64_t avg;

	if (!r || !is_primary(pg) || r->phase != REC_ACTIVE)
		return;
	avg = pg->info.num_objects ? pg->info.num_bytes / pg->info.num_objects : 0;
	s->objects_missing = r->nobj;
	s->recovery_objects_left = r->nobj + r->bf_left_est;
	s->recovery_bytes_left = s->recovery_objects_left * avg;
	s->recovery_objects_done = r->obj_done;
	s->recovery_bytes_done = r->bytes_done;
	if (r->nobj || r->nbft)
		s->objects_degraded += r->nobj + r->bf_left_est;
}

/* ---- peering ------------------------------------------------------------------------------ */

/* Record (e1, n1) is newer than (e2, n2): a later epoch, or the same epoch with more members
 * (within one epoch, the primary's refresh after recovery names a superset). */
static bool la_newer(uint32_t e1, uint32_t n1, uint32_t e2, uint32_t n2)
{
	return e1 > e2 || (e1 == e2 && n1 > n2);
}

/* To the mon: our last-active record (set) or a request for the mon's (!set). Lossy: the
 * tick resends while we wait (REC_QUERY_RESEND_NS). */
static void mon_la_send(struct pg *pg, struct pg_rec *r, bool set, uint64_t token)
{
	struct mon_pg_la rec;
	struct mon_pg_la_msg m;
	struct osd *o = pg->osd;

	memset(&rec, 0, sizeof(rec));
	rec.pg = pg->id;
	rec.token = token;
	if (set) {
		rec.epoch = r->la_epoch;
		rec.n = r->nla;
		memcpy(rec.osds, r->la, sizeof(int32_t) * r->nla);
	}
	m.osd = o->id;
	m.n = 1;
	m.recs = &rec;
	pthread_rwlock_rdlock(&o->monc_lock);
	if (o->monc)
		monc_send_pg_la(o->monc, &m);
	pthread_rwlock_unlock(&o->monc_lock);
	r->mon_ns = now_mono_ns();
}

/* A new last-active record (ids: the complete members now): kept in memory, told to every
 * other acting member (each persists it), persisted here (txn) and sent to the mon (token:
 * the peering round the reply ends, 0 for a refresh nobody waits for). */
static void la_set(struct pg *pg, struct pg_rec *r, const int32_t *ids, int n,
		   struct store_txn *t, uint64_t token)
{
	struct rec_msg a;
	int e;

	r->la_epoch = pg->map_epoch;
	r->nla = (uint32_t)n;
	memset(r->la, 0, sizeof(r->la));
	memcpy(r->la, ids, sizeof(int32_t) * (size_t)n);
	memset(&a, 0, sizeof(a));
	a.flags = REC_F_LA_ONLY;
	a.token = token ? token : r->token;
	a.la_epoch = r->la_epoch;
	a.nla = r->nla;
	memcpy(a.la, r->la, sizeof(a.la));
	for (int i = 0; i < pg->nacting; i++)
		if (pg->acting[i] != pg->osd->id && pg->acting[i] != OSDMAP_NONE)
			send_to(pg, pg->acting[i], MSG_REC_ACTIVATE, &a, NULL, 0);
	if (!t)
		t = store_txn_new();
	e = t ? txn_state(t, r) : -ENOMEM;
	if (!e)
		queue_txn(pg, t);
	else
		store_txn_free(t);
	mon_la_send(pg, r, true, token);
}

/* Every acting OSD answered (the others had their grace) and the mon's record is in. */
static bool peering_ready(struct pg_rec *r, uint64_t now)
{
	if (!r->mon_have)
		return false;
	for (int i = 0; i < r->npeers; i++)
		if (!r->peers[i].answered &&
		    (r->peers[i].acting || now - r->peer_start_ns < REC_STRAY_GRACE_NS))
			return false;
	return true;
}

static void send_queries(struct pg *pg, struct pg_rec *r)
{
	struct rec_msg q;

	for (int i = 0; i < r->npeers; i++) {
		if (r->peers[i].answered)
			continue;
		memset(&q, 0, sizeof(q));
		q.token = r->token;
		send_to(pg, r->peers[i].osd, MSG_REC_QUERY, &q, NULL, 0);
	}
	if (!r->mon_have)
		mon_la_send(pg, r, false, r->token);
	r->query_ns = now_mono_ns();
}

bool rec_peering_start(struct pg *pg)
{
	struct pg_rec *r = rec_get(pg);
	const struct osdmap *map = pg->shard->map;
	const struct osd_info *oi;

	if (!r || !map)
		return false;
	pg->state = PG_STATE_PEERING;
	if (r->phase != REC_IDLE)
		primary_reset(pg, r);
	r->peers = calloc(REC_MAX_PEERS, sizeof(*r->peers));
	if (!r->peers)
		return false;
	r->token = ((uint64_t)pg->map_epoch << 32) | (uint32_t)(r->token + 1);
	r->phase = REC_PEERING;
	r->mon_have = false;
	pg->peering = true; /* pg.c leaves the state to us */
	r->peer_start_ns = now_mono_ns();
	osdmap_for_each_osd(map, oi) {
		int32_t id = (int32_t)(oi - map->osds);

		if (id == pg->osd->id || !osd_info_up(oi) || r->npeers == REC_MAX_PEERS)
			continue;
		r->peers[r->npeers].osd = id;
		r->peers[r->npeers].acting = in_set(pg->acting, pg->nacting, id);
		r->npeers++;
	}
	CLOG_INFO("osd", "pg %s: peering epoch %u: querying %d OSDs", pg->coll, pg->map_epoch,
		  r->npeers);
	set_state(pg, r);
	send_queries(pg, r);
	return true;
}

/* Objects of my log entries that auth's log does not have (same version, same request). */
static void add_divergent(const struct pg_log_entry *mine, uint32_t nmine,
			  const struct pg_log_entry *auth, uint32_t nauth, struct osd_eversion tail,
			  struct rec_strset *out)
{
	uint32_t j = 0;

	for (uint32_t i = 0; i < nmine; i++) {
		const struct pg_log_entry *e = &mine[i];

		if (osd_eversion_cmp(e->version, tail) <= 0)
			continue;
		while (j < nauth && osd_eversion_cmp(auth[j].version, e->version) < 0)
			j++;
		if (j < nauth && !osd_eversion_cmp(auth[j].version, e->version) &&
		    osd_reqid_eq(&auth[j].reqid, &e->reqid))
			continue;
		strset_add(out, e->oid);
	}
}

/* Objects of the entries of log newer than since. */
static void add_newer(const struct pg_log_entry *log, uint32_t n, struct osd_eversion since,
		      struct rec_strset *out)
{
	for (uint32_t i = 0; i < n; i++)
		if (osd_eversion_cmp(log[i].version, since) > 0)
			strset_add(out, log[i].oid);
}

/* My log as an array (borrowed oids). */
static struct pg_log_entry *my_log(struct pg *pg)
{
	struct pg_log_entry *v = calloc(pg->log.count + 1, sizeof(*v));

	for (uint32_t i = 0; v && i < pg->log.count; i++)
		v[i] = *pg_log_at(&pg->log, i);
	return v;
}

static bool peer_complete(const struct rec_msg *n)
{
	/* oids: its missing set, or (scan answer) its object list */
	return (n->flags & REC_F_HAS_PG) && !(n->flags & REC_F_BACKFILL) &&
	       ((n->flags & REC_F_SCAN) || !n->noids);
}

static void go_down(struct pg *pg, struct pg_rec *r, const char *why)
{
	CLOG_WARN("osd", "pg %s: down: %s", pg->coll, why);
	r->phase = REC_DOWN;
	r->down_ns = now_mono_ns();
	set_state(pg, r);
}

static void rec_kick(struct pg *pg, struct pg_rec *r);
static void strays_kick(struct pg *pg, struct pg_rec *r);
static void activate(struct pg *pg, struct pg_rec *r);
static void activate_finish(struct pg *pg, struct pg_rec *r);
static int scan_cb(void *arg, const void *oid, size_t oidlen, uint64_t hash);

/* Every answer is in: decide authority, adopt, hand out missing sets, activate. */
static void peering_decide(struct pg *pg, struct pg_rec *r)
{
	struct rec_peer *auth = NULL;
	uint32_t la_epoch = r->la_epoch, nla = r->nla;
	int32_t la[CAIRN_MAX_REPLICAS];
	bool self_complete = !r->bf_active && !r->missing.n && pg->info.last_update.v;
	bool any_la_present = false;
	struct osd_eversion best = self_complete ? pg->info.last_update : (struct osd_eversion){ 0, 0 };

	memcpy(la, r->la, sizeof(la));
	for (int i = 0; i < r->npeers; i++) {
		struct rec_msg *n = &r->peers[i].n;

		if (!r->peers[i].answered || !(n->flags & REC_F_HAS_PG))
			continue;
		if (la_newer(n->la_epoch, n->nla, la_epoch, nla)) {
			la_epoch = n->la_epoch;
			nla = n->nla;
			memcpy(la, n->la, sizeof(la));
		}
		if (peer_complete(n) && osd_eversion_cmp(n->info.last_update, best) > 0) {
			best = n->info.last_update;
			auth = &r->peers[i];
		}
	}
	/* the mon's record: an interval that went active on OSDs all absent now is known there
	 * even when none of the OSDs present heard of it */
	if (r->mon_have && la_newer(r->mon_la_epoch, r->mon_nla, la_epoch, nla)) {
		la_epoch = r->mon_la_epoch;
		nla = r->mon_nla;
		memcpy(la, r->mon_la, sizeof(la));
	}
	/* someone of the last active interval must be here, complete */
	if (nla) {
		if (in_set(la, (int)nla, pg->osd->id) && !r->bf_active && !r->missing.n)
			any_la_present = true;
		for (int i = 0; i < r->npeers; i++)
			if (r->peers[i].answered && peer_complete(&r->peers[i].n) &&
			    in_set(la, (int)nla, r->peers[i].osd))
				any_la_present = true;
		if (!any_la_present) {
			char why[160];
			size_t k = 0;

			for (uint32_t i = 0; i < nla && k < sizeof(why) - 16; i++)
				k += (size_t)snprintf(why + k, sizeof(why) - k, "%sosd.%d", i ? "," : "",
						      la[i]);
			snprintf(why + k, sizeof(why) - k, " (epoch %u) all absent", la_epoch);
			go_down(pg, r, why);
			return;
		}
	}
	if (!auth && !self_complete) {
		/* nobody complete: if any copy has a history, serving an empty or partial PG
		 * would lose it */
		bool history = pg->info.last_update.v != 0;

		for (int i = 0; i < r->npeers; i++)
			if (r->peers[i].answered && (r->peers[i].n.flags & REC_F_HAS_PG) &&
			    r->peers[i].n.info.last_update.v)
				history = true;
		if (history) {
			go_down(pg, r, "no complete copy answered");
			return;
		}
	}
	if (auth) {
		/* behind: adopt auth's log, pull what we lack */
		struct rec_msg *an = &auth->n;
		struct pg_log_entry *mine = my_log(pg);
		struct rec_strset need = { 0 };
		bool covered = !r->bf_active &&
			       osd_eversion_cmp(pg->info.last_update, an->info.log_tail) >= 0;
		struct store_txn *t = store_txn_new();
		int e;

		if (!t || !mine) {
			free(mine);
			store_txn_free(t);
			return;
		}
		if (!covered && r->scan_from != auth->osd) {
			/* primary backfill: list auth's objects first */
			struct rec_msg q;

			free(mine);
			store_txn_free(t);
			r->scan_from = auth->osd;
			r->phase = REC_SCAN;
			memset(&q, 0, sizeof(q));
			q.token = r->token;
			q.flags = REC_F_SCAN;
			CLOG_INFO("osd", "pg %s: primary is behind the log of osd.%d: backfilling "
				  "from it", pg->coll, auth->osd);
			send_to(pg, auth->osd, MSG_REC_QUERY, &q, NULL, 0);
			return;
		}
		if (covered) {
			add_newer(an->entries, an->nentries, pg->info.last_update, &need);
			add_divergent(mine, pg->log.count, an->entries, an->nentries,
				      an->info.log_tail, &need);
		} else {
			/* scan answer: everything auth holds, and everything we hold */
			for (uint32_t i = 0; i < r->missing.n; i++)
				strset_add(&need, r->missing.v[i]);
			for (uint32_t i = 0; i < auth->n.noids; i++)
				strset_add(&need, auth->n.oids[i]);
			{
				/* what we hold that auth does not: removed by its pull */
				struct store_cursor *c = malloc(sizeof(*c));

				if (c) {
					store_cursor_begin(c);
					store_list(pg->osd->store, pg->coll, c, NULL, 0, scan_cb, &need,
						   NULL);
					free(c);
				}
			}
		}
		for (uint32_t i = 0; i < r->missing.n; i++)
			strset_add(&need, r->missing.v[i]);
		free(mine);
		e = adopt_log(pg, t, &an->info, an->entries, an->nentries);
		if (!e)
			pg_drop_divergent(pg, an->entries, an->nentries);
		r->bf_active = false;
		store_cursor_begin(&r->bf);
		for (uint32_t i = 0; !e && i < need.n; i++) {
			struct rec_obj *o = obj_get(r, need.v[i], !covered);

			if (!o) {
				e = -ENOMEM;
				break;
			}
			if (!o->pull) {
				o->pull = true;
				r->npull++;
			}
			o->pull_from = auth->osd;
			strset_add(&r->missing, need.v[i]);
			e = txn_missing(t, r, need.v[i], true);
		}
		if (!e)
			e = txn_state(t, r);
		if (e) {
			CLOG_ERR("osd", "pg %s: adopting the log of osd.%d failed: %s", pg->coll,
				 auth->osd, cairn_strerror(e));
			store_txn_free(t);
			strset_clear(&need);
			return;
		}
		e = store_apply_txn(pg->osd->store, t);
		if (e)
			CLOG_ERR("osd", "pg %s: persisting the adopted log: %s", pg->coll,
				 cairn_strerror(e));
		CLOG_INFO("osd", "pg %s: adopted the log of osd.%d (%u'%" PRIu64 "), %u objects to "
			  "pull (%s)", pg->coll, auth->osd, pg->info.last_update.epoch,
			  pg->info.last_update.v, need.n, covered ? "log" : "backfill");
		strset_clear(&need);
	}
	activate(pg, r);
}

/* Hands every other acting OSD the log, its missing objects or a backfill position. */
static void activate(struct pg *pg, struct pg_rec *r)
{
	struct pg_log_entry *mine = my_log(pg);
	int32_t complete[CAIRN_MAX_REPLICAS];
	int ncomplete = 0;
	struct store_txn *t;

	if (!mine)
		return;
	if (!r->missing.n && !r->bf_active)
		complete[ncomplete++] = pg->osd->id;
	for (int i = 0; i < pg->nacting; i++) {
		int32_t id = pg->acting[i];
		struct rec_peer *p = NULL;
		struct rec_strset miss = { 0 };
		struct rec_msg a;
		bool backfill;

		if (id == pg->osd->id || id == OSDMAP_NONE)
			continue;
		for (int k = 0; k < r->npeers; k++)
			if (r->peers[k].osd == id)
				p = &r->peers[k];
		if (!p || !p->answered)
			continue;
		backfill = !(p->n.flags & REC_F_HAS_PG) || (p->n.flags & REC_F_BACKFILL) ||
			   osd_eversion_cmp(p->n.info.last_update, pg->info.log_tail) < 0;
		if (!(p->n.flags & REC_F_HAS_PG) &&
		    !osd_eversion_cmp(pg->info.log_tail, (struct osd_eversion){ 0, 0 }))
			backfill = false; /* the whole history is in the log */
		memset(&a, 0, sizeof(a));
		a.token = r->token;
		a.info = pg->info;
		a.entries = mine;
		a.nentries = pg->log.count;
		if (backfill) {
			/* an interrupted backfill resumes at its boundary only if the log covers
			 * what the target missed meanwhile (those objects are pushed as well) */
			bool resume = (p->n.flags & REC_F_BACKFILL) &&
				      osd_eversion_cmp(p->n.info.last_update, pg->info.log_tail) >= 0;

			a.flags |= REC_F_BACKFILL;
			if (resume) {
				a.bf_hash = p->n.bf_hash;
				a.bf_name = p->n.bf_name;
				add_newer(mine, pg->log.count, p->n.info.last_update, &miss);
				add_divergent(p->n.entries, p->n.nentries, mine, pg->log.count,
					      pg->info.log_tail, &miss);
				for (uint32_t k = 0; k < miss.n; k++) {
					struct rec_obj *o = obj_get(r, miss.v[k], true);

					if (o)
						obj_add_peer(o, id);
				}
			}
			if (r->nbft < CAIRN_MAX_REPLICAS)
				r->bft[r->nbft++] = id;
			if (resume) {
				struct store_cursor *c = malloc(sizeof(*c));

				if (c) {
					cur_set(c, p->n.bf_hash, p->n.bf_name);
					if (r->nbft == 1 || store_cursor_cmp(c, &r->bfpos) < 0)
						r->bfpos = *c;
					free(c);
				}
			} else {
				store_cursor_begin(&r->bfpos);
			}
			r->bf_left_est = pg->info.num_objects;
		} else {
			if (p->n.flags & REC_F_HAS_PG) {
				add_newer(mine, pg->log.count, p->n.info.last_update, &miss);
				add_divergent(p->n.entries, p->n.nentries, mine, pg->log.count,
					      pg->info.log_tail, &miss);
				for (uint32_t k = 0; !(p->n.flags & REC_F_SCAN) && k < p->n.noids; k++)
					strset_add(&miss, p->n.oids[k]); /* its missing set, not a scan */
			} else {
				add_newer(mine, pg->log.count, (struct osd_eversion){ 0, 0 }, &miss);
			}
			for (uint32_t k = 0; k < miss.n; k++) {
				struct rec_obj *o = obj_get(r, miss.v[k], false);

				if (o)
					obj_add_peer(o, id);
			}
			if (!miss.n && ncomplete < CAIRN_MAX_REPLICAS)
				complete[ncomplete++] = id;
		}
		a.oids = miss.v;
		a.noids = miss.n;
		send_to(pg, id, MSG_REC_ACTIVATE, &a, NULL, 0);
		a.entries = NULL;
		a.bf_name = NULL;
		a.oids = NULL;
		strset_clear(&miss);
	}
	free(mine);
	r->nstrays = 0;
	r->stray_ns = 0;
	for (int i = 0; i < r->npeers; i++)
		if (r->peers[i].answered && (r->peers[i].n.flags & REC_F_HAS_PG) &&
		    !in_set(pg->acting, pg->nacting, r->peers[i].osd) &&
		    !in_set(pg->up, pg->nup, r->peers[i].osd))
			r->strays[r->nstrays++] = r->peers[i].osd;
	for (int i = 0; i < r->npeers; i++)
		rec_msg_clear(&r->peers[i].n);
	free(r->peers);
	r->peers = NULL;
	r->npeers = 0;
	if (!ncomplete) {
		/* no acting copy is complete (the primary itself still pulls what it lacks):
		 * writes acknowledged now would be held only by incomplete copies, which peering
		 * never takes as authoritative (an older complete copy would win and they would
		 * be lost). Recover first; serve once the primary is complete (rec_kick ->
		 * hold_end). Client ops wait meanwhile (pg->peering stays set). */
		t = store_txn_new();
		if (t && !txn_state(t, r))
			queue_txn(pg, t);
		else
			store_txn_free(t);
		r->hold = true;
		r->phase = REC_ACTIVE;
		r->obj_done = r->bytes_done = 0;
		r->recovering = true;
		r->started_ns = now_mono_ns();
		CLOG_INFO("osd", "pg %s: no complete copy in the acting set: recovering %" PRIu64
			  " objects before serving", pg->coll, r->nobj);
		set_state(pg, r);
		rec_kick(pg, r);
		return;
	}
	/* the new last-active record: the complete members now, known to every member; the
	 * mon learns of this interval before it accepts writes (resent by the tick) */
	r->phase = REC_LA_WAIT;
	la_set(pg, r, complete, ncomplete, NULL, r->token);
}

/* The primary of a held PG (activate) is complete now: it becomes the last-active record,
 * and the PG serves once the mon stored it (REC_LA_WAIT, as after peering). */
static void hold_end(struct pg *pg, struct pg_rec *r)
{
	r->hold = false;
	CLOG_INFO("osd", "pg %s: primary complete: serving once the mon has the record",
		  pg->coll);
	r->phase = REC_LA_WAIT;
	la_set(pg, r, &pg->osd->id, 1, NULL, r->token);
	set_state(pg, r);
}

/* The mon holds this interval's last-active record: serve. */
static void activate_finish(struct pg *pg, struct pg_rec *r)
{
	/* the done counters count this interval's recovery (the mon sums their growth) */
	r->obj_done = r->bytes_done = 0;
	if (r->nobj || r->nbft) {
		r->recovering = true;
		r->started_ns = now_mono_ns();
		CLOG_INFO("osd", "pg %s: active, recovering: %" PRIu64 " objects from the log, %d "
			  "backfill targets", pg->coll, r->nobj, r->nbft);
	}
	r->phase = REC_ACTIVE;
	pg->peering = false;
	pg_note_active(pg);
	/* writes in flight since the last interval: after the activations, on the same
	 * connections (a new member holds the PG now, and their entries in its log); their
	 * clients get the replies from now on (pg.c holds them while peering) */
	pg_resend_inflight(pg);
	set_state(pg, r);
	{
		struct osd_item *h = pg->waiting_head, *tl = pg->waiting_tail;

		pg->waiting_head = pg->waiting_tail = NULL;
		release_items(pg, &h, &tl);
	}
	rec_kick(pg, r);
}

static void handle_notify(struct pg *pg, struct rec_msg *m)
{
	struct pg_rec *r = rec_get(pg);

	if (r && is_primary(pg) && (m->flags & REC_F_STRAY) && r->phase == REC_ACTIVE &&
	    !in_set(pg->acting, pg->nacting, m->from) && !in_set(pg->up, pg->nup, m->from) &&
	    !in_set(r->strays, r->nstrays, m->from) && r->nstrays < REC_MAX_PEERS) {
		/* a copy peering did not hear of (its OSD was down then): removed once clean */
		r->strays[r->nstrays++] = m->from;
		r->stray_ns = 0;
		strays_kick(pg, r);
		return;
	}
	if (!r || !is_primary(pg) || m->token != r->token)
		return;
	if (r->phase == REC_SCAN && (m->flags & REC_F_SCAN) && m->from == r->scan_from) {
		for (int i = 0; i < r->npeers; i++)
			if (r->peers[i].osd == m->from) {
				rec_msg_clear(&r->peers[i].n);
				r->peers[i].n = *m;
				memset(m, 0, sizeof(*m));
			}
		r->phase = REC_PEERING;
		peering_decide(pg, r);
		return;
	}
	if (r->phase != REC_PEERING)
		return;
	for (int i = 0; i < r->npeers; i++) {
		if (r->peers[i].osd == m->from && !r->peers[i].answered) {
			r->peers[i].n = *m;
			memset(m, 0, sizeof(*m));
			r->peers[i].answered = true;
		}
	}
	if (peering_ready(r, now_mono_ns()))
		peering_decide(pg, r);
}

/* The mon's answer to mon_la_send (token: the peering round). */
static void handle_mon_la(struct pg *pg, struct pg_rec *r, const struct mon_pg_la *m)
{
	if (m->token != r->token || m->n > CAIRN_MAX_REPLICAS)
		return;
	if (r->phase == REC_PEERING && !r->mon_have) {
		r->mon_have = true;
		r->mon_la_epoch = m->epoch;
		r->mon_nla = m->n;
		memset(r->mon_la, 0, sizeof(r->mon_la));
		memcpy(r->mon_la, m->osds, sizeof(int32_t) * m->n);
		if (peering_ready(r, now_mono_ns()))
			peering_decide(pg, r);
		return;
	}
	if (r->phase != REC_LA_WAIT)
		return;
	if (m->epoch > r->la_epoch) {
		/* a newer interval went active elsewhere: our map is behind */
		go_down(pg, r, "the mon holds a newer last-active record");
		return;
	}
	if (la_newer(r->la_epoch, r->nla, m->epoch, m->n))
		return; /* not stored (yet): the tick resends */
	activate_finish(pg, r);
}

/* ---- replica side: query, activate, push, backfill ---------------------------------------- */

static int scan_cb(void *arg, const void *oid, size_t oidlen, uint64_t hash)
{
	struct rec_strset *s = arg;
	char buf[OSD_OID_MAX + 1];

	(void)hash;
	if (oidlen > OSD_OID_MAX)
		return 0;
	memcpy(buf, oid, oidlen);
	buf[oidlen] = 0;
	return strset_add(s, buf) ? 1 : 0;
}

static void handle_query(struct osd_shard *sh, struct pg *pg, struct osd_item *it,
			 struct rec_msg *q)
{
	struct rec_msg n;
	struct pg_rec *r = pg ? rec_get(pg) : NULL;
	struct pg_log_entry *log = NULL;
	struct rec_strset scan = { 0 };

	memset(&n, 0, sizeof(n));
	n.pgid = q->pgid;
	n.epoch = sh->map ? sh->map->epoch : 0;
	n.from = sh->osd->id;
	n.token = q->token;
	if (pg && r) {
		if (q->epoch > r->query_epoch)
			r->query_epoch = q->epoch; /* a removal from an older round must not win */
		n.flags |= REC_F_HAS_PG;
		n.info = pg->info;
		n.la_epoch = r->la_epoch;
		n.nla = r->nla;
		memcpy(n.la, r->la, sizeof(n.la));
		if (r->bf_active) {
			n.flags |= REC_F_BACKFILL;
			n.bf_hash = r->bf.hash;
			n.bf_name = strndup((const char *)r->bf.name, r->bf.name_len);
		}
		log = my_log(pg);
		n.entries = log;
		n.nentries = log ? pg->log.count : 0;
		if (q->flags & REC_F_SCAN) {
			struct store_cursor *c = malloc(sizeof(*c));

			if (c) {
				store_cursor_begin(c);
				store_list(sh->osd->store, pg->coll, c, NULL, 0, scan_cb, &scan, NULL);
				free(c);
			}
			n.flags |= REC_F_SCAN;
			n.oids = scan.v;
			n.noids = scan.n;
		} else {
			n.oids = r->missing.v;
			n.noids = r->missing.n;
		}
	}
	send_on(it->conn, MSG_REC_NOTIFY, &n, NULL, 0, MSG_PRIO_HIGH);
	free(log);
	free(n.bf_name);
	strset_clear(&scan);
}

static void handle_activate(struct pg *pg, struct rec_msg *a)
{
	struct pg_rec *r = rec_get(pg);
	struct store_txn *t;
	int e;

	if (!r)
		return;
	if (a->flags & REC_F_LA_ONLY) {
		if (la_newer(r->la_epoch, r->nla, a->la_epoch, a->nla))
			return; /* a late one of an older interval */
		r->la_epoch = a->la_epoch;
		r->nla = a->nla;
		memcpy(r->la, a->la, sizeof(r->la));
		goto persist_state;
	}
	t = store_txn_new();
	if (!t)
		return;
	r->act_token = a->token;
	e = adopt_log(pg, t, &a->info, a->entries, a->nentries);
	if (!e)
		e = store_txn_touch(t, PG_META_COLL, r->rec_oid, strlen(r->rec_oid));
	if (!e)
		e = store_txn_omap_clear(t, PG_META_COLL, r->rec_oid, strlen(r->rec_oid));
	strset_clear(&r->missing);
	for (uint32_t i = 0; !e && i < a->noids; i++) {
		strset_add(&r->missing, a->oids[i]);
		e = txn_missing(t, r, a->oids[i], true);
	}
	r->bf_active = (a->flags & REC_F_BACKFILL) != 0;
	if (r->bf_active) {
		cur_set(&r->bf, a->bf_hash, a->bf_name);
	}
	if (!e)
		e = txn_state(t, r);
	if (e) {
		CLOG_ERR("osd", "pg %s: activation from osd.%d failed: %s", pg->coll, a->from,
			 cairn_strerror(e));
		store_txn_free(t);
		return;
	}
	queue_txn(pg, t);
	CLOG_INFO("osd", "pg %s: activated by osd.%d at %u'%" PRIu64 ": %u missing%s", pg->coll,
		  a->from, pg->info.last_update.epoch, pg->info.last_update.v, a->noids,
		  r->bf_active ? ", backfill target" : "");
	return;
persist_state:
	t = store_txn_new();
	if (t && !txn_state(t, r))
		queue_txn(pg, t);
	else
		store_txn_free(t);
}

struct reply_ctx {
	struct msg_conn *conn;
	uint16_t type;
	struct rec_msg m;
	struct osd *osd;
	unsigned shard;
	struct pg_id pgid;
	bool local; /* the primary's own pull: requeue instead of replying */
};

static void reply_cb(void *arg, int rc)
{
	struct reply_ctx *c = arg;

	if (c->local) {
		size_t l = strlen(c->m.oid ? c->m.oid : "");
		struct osd_item *it = calloc(1, sizeof(*it) + l + 1);

		if (it) {
			it->q.type = OQ_RECOVERY;
			it->rc = REC_EV_PULLED;
			it->pgid = c->pgid;
			it->v.v = (uint64_t)(rc ? 1 : 0);
			memcpy((char *)(it + 1), c->m.oid ? c->m.oid : "", l + 1);
			osd_push_from_callback(c->osd, c->shard, it);
		}
	} else {
		c->m.result = rc;
		send_on(c->conn, c->type, &c->m, NULL, 0, MSG_PRIO_HIGH);
	}
	rec_msg_clear(&c->m);
	if (c->conn)
		msg_conn_put(c->conn);
	free(c);
}

static void handle_push(struct pg *pg, struct osd_item *it, struct rec_msg *m)
{
	struct pg_rec *r = rec_get(pg);
	struct store_txn *t = store_txn_new();
	struct reply_ctx *c = calloc(1, sizeof(*c));
	bool local = is_primary(pg);
	int e;

	if (!r || !t || !c || !m->oid) {
		store_txn_free(t);
		free(c);
		return;
	}
	if (local) {
		/* only the answer to a pull of this peering round (a late one could be stale) */
		struct rec_obj *o = obj_find(r, m->oid);

		if (!o || !o->pull || m->token != r->token || r->phase != REC_ACTIVE) {
			store_txn_free(t);
			free(c);
			return;
		}
	} else if (m->token != r->act_token) {
		/* from a primary of an earlier round: its copy may be older than ours */
		store_txn_free(t);
		c->type = MSG_REC_PUSH_REPLY;
		c->conn = msg_conn_get(it->conn);
		c->m.pgid = pg->id;
		c->m.from = pg->osd->id;
		c->m.token = m->token;
		c->m.oid = strdup(m->oid);
		reply_cb(c, -ESTALE);
		return;
	}
	e = txn_object(pg, t, m, it->m->data, it->m->data ? it->m->data_len : 0);
	if (!e && strset_find(&r->missing, m->oid) >= 0)
		e = txn_missing(t, r, m->oid, false);
	c->osd = pg->osd;
	c->shard = pg->shard->idx;
	c->pgid = pg->id;
	c->local = local;
	c->type = MSG_REC_PUSH_REPLY;
	c->conn = local ? NULL : msg_conn_get(it->conn);
	c->m.pgid = pg->id;
	c->m.from = pg->osd->id;
	c->m.epoch = pg->map_epoch;
	c->m.token = m->token;
	c->m.oid = strdup(m->oid);
	if (e) {
		CLOG_ERR("osd", "pg %s: applying pushed %s: %s", pg->coll, m->oid, cairn_strerror(e));
		store_txn_free(t);
		reply_cb(c, e);
		return;
	}
	strset_del(&r->missing, m->oid);
	if (local) {
		r->bytes_done += it->m->data ? it->m->data_len : 0;
		r->win_bytes += it->m->data ? it->m->data_len : 0;
	}
	if (local)
		e = store_queue_txn(pg->osd->store, t, reply_cb, NULL, c);
	else
		e = store_queue_txn(pg->osd->store, t, NULL, reply_cb, c);
	if (e)
		reply_cb(c, e);
}

static void handle_pull(struct pg *pg, struct osd_item *it, struct rec_msg *m)
{
	struct rec_msg p;
	void *data = NULL;
	size_t dlen = 0;
	int e;

	memset(&p, 0, sizeof(p));
	p.pgid = pg->id;
	p.from = pg->osd->id;
	p.epoch = pg->map_epoch;
	p.token = m->token;
	e = m->oid ? read_object(pg, m->oid, &p, &data, &dlen) : -EINVAL;
	if (e) {
		CLOG_WARN("osd", "pg %s: cannot read %s for a pull: %s", pg->coll,
			  m->oid ? m->oid : "?", cairn_strerror(e));
		free(data);
		rec_msg_clear(&p);
		return;
	}
	send_on(it->conn, MSG_REC_PUSH, &p, data, dlen, 0);
	rec_msg_clear(&p);
}

struct prune_ctx {
	struct rec_msg *m;
	struct store_txn *t;
	const char *coll;
	int err;
};

static int prune_cb(void *arg, const void *oid, size_t oidlen, uint64_t hash)
{
	struct prune_ctx *c = arg;

	(void)hash;
	for (uint32_t i = 0; i < c->m->noids; i++)
		if (strlen(c->m->oids[i]) == oidlen && !memcmp(c->m->oids[i], oid, oidlen))
			return 0;
	c->err = store_txn_touch(c->t, c->coll, oid, oidlen);
	if (!c->err)
		c->err = store_txn_remove(c->t, c->coll, oid, oidlen);
	return c->err ? 1 : 0;
}

static void handle_backfill(struct pg *pg, struct osd_item *it, struct rec_msg *m)
{
	struct pg_rec *r = rec_get(pg);
	struct store_txn *t = store_txn_new();
	struct reply_ctx *c = calloc(1, sizeof(*c));
	struct store_cursor *lo = malloc(sizeof(*lo)), *hi = malloc(sizeof(*hi));
	struct prune_ctx pc = { m, t, pg->coll, 0 };
	int e = 0;

	if (!r || !t || !c || !lo || !hi || m->token != r->act_token) {
		store_txn_free(t);
		free(c);
		free(lo);
		free(hi);
		return; /* a stale one is not answered: its sender re-peers or retries */
	}
	cur_set(lo, m->lo_hash, m->lo_name);
	if (m->bf_end)
		store_cursor_end(hi);
	else
		cur_set(hi, m->bf_hash, m->bf_name);
	e = store_list(pg->osd->store, pg->coll, lo, m->bf_end ? NULL : hi, 0, prune_cb, &pc,
		       NULL);
	if (e > 0 || e == -ENOENT)
		e = 0;
	if (!e)
		e = pc.err;
	r->bf = *hi;
	r->bf_active = !(m->flags & REC_F_BF_DONE);
	if (!r->bf_active)
		store_cursor_begin(&r->bf);
	if (!e)
		e = txn_state(t, r);
	c->type = MSG_REC_BACKFILL_REPLY;
	c->conn = msg_conn_get(it->conn);
	c->m.pgid = pg->id;
	c->m.from = pg->osd->id;
	c->m.epoch = pg->map_epoch;
	c->m.token = m->token;
	free(lo);
	free(hi);
	if (e) {
		store_txn_free(t);
		reply_cb(c, e);
		return;
	}
	e = store_queue_txn(pg->osd->store, t, NULL, reply_cb, c);
	if (e)
		reply_cb(c, e);
}

bool rec_repop_may_wait(const struct pg *pg, const struct osd_repop *rp)
{
	const struct pg_rec *r = pg->rec;

	return (rp->flags & OSD_REPOP_FORCE) || (r && (r->missing.n || r->bf_active));
}

bool rec_repop_skip_data(struct pg *pg, const struct osd_repop *rp, struct store_txn *t)
{
	struct pg_rec *r = rec_get(pg);
	struct pg_info info;
	bool skip = false;

	if (!r || !rp->entry.oid)
		return false;
	if (rp->flags & OSD_REPOP_FORCE) {
		/* pg.c forces a repop over a gap in our log (it could not catch us up): our log
		 * then claims writes whose data we never got. This copy is incomplete until a
		 * backfill: say so in a transaction queued before the repop's (the store applies
		 * them in order; the repop's own transaction carries the primary's op bytes and
		 * takes no further ops). A crash between the two leaves a backfill target with
		 * its old log: conservative. */
		/* (also when already a backfill target: the entries jumped over may concern
		 * objects below its boundary, which then would never be pushed) */
		if (osd_eversion_cmp(rp->prior, pg->info.last_update)) {
			struct store_txn *st = store_txn_new();

			CLOG_WARN("osd", "pg %s: forced over a log gap (%u'%" PRIu64 " -> %u'%" PRIu64
				  "): this copy needs a backfill", pg->coll, pg->info.last_update.epoch,
				  pg->info.last_update.v, rp->prior.epoch, rp->prior.v);
			r->bf_active = true;
			store_cursor_begin(&r->bf);
			if (st && !txn_state(st, r)) {
				queue_txn(pg, st);
			} else {
				store_txn_free(st);
				CLOG_ERR("osd", "pg %s: cannot record the backfill need", pg->coll);
			}
		}
		(void)t;
		return false;
	}
	if (r->missing.n && strset_find(&r->missing, rp->entry.oid) >= 0)
		skip = true;
	if (!skip && r->bf_active) {
		struct store_cursor *c = malloc(sizeof(*c));

		if (c) {
			store_cursor_at(c, rp->entry.oid, strlen(rp->entry.oid));
			skip = store_cursor_cmp(c, &r->bf) >= 0;
			free(c);
		}
	}
	if (!skip)
		return false;
	info = rp->info;
	if (pg_log_txn_add(&pg->log, t, pg->meta_oid, &rp->entry, &info))
		return false;
	return true;
}

/* ---- the primary's recovery engine --------------------------------------------------------- */

static bool oid_busy_cb(void *arg, const char *oid)
{
	return !strcmp(arg, oid);
}

struct range_arg {
	const struct store_cursor *lo, *hi;
	struct store_cursor tmp;
};

static bool oid_in_range_cb(void *arg, const char *oid)
{
	struct range_arg *a = arg;

	store_cursor_at(&a->tmp, oid, strlen(oid));
	return store_cursor_cmp(&a->tmp, a->lo) >= 0 &&
	       (a->hi->at_end || store_cursor_cmp(&a->tmp, a->hi) < 0);
}

static bool rate_ok(struct pg_rec *r)
{
	uint64_t now = now_mono_ns();

	if (!r->rate)
		return true;
	if (now - r->win_start_ns >= 1000000000ull) {
		r->win_start_ns = now;
		r->win_bytes = 0;
	}
	return r->win_bytes < r->rate;
}

static void obj_done(struct pg *pg, struct pg_rec *r, struct rec_obj *o)
{
	struct osd_item *h = o->wait_head, *t = o->wait_tail;

	obj_unlink(r, o);
	r->obj_done++;
	if (o->backfill)
		r->bf_objs++;
	else
		r->log_objs++;
	free(o->oid);
	free(o);
	release_items(pg, &h, &t);
}

static void start_obj(struct pg *pg, struct pg_rec *r, struct rec_obj *o)
{
	struct rec_msg m;
	void *data = NULL;
	size_t dlen = 0;
	int e;

	o->started_ns = now_mono_ns();
	memset(&m, 0, sizeof(m));
	m.token = r->token;
	if (o->pull) {
		m.oid = o->oid;
		if (!send_to(pg, o->pull_from, MSG_REC_PULL, &m, NULL, 0)) {
			o->inflight = 1;
			r->inflight++;
		}
		return;
	}
	e = read_object(pg, o->oid, &m, &data, &dlen);
	if (e) {
		CLOG_WARN("osd", "pg %s: cannot read %s to push: %s", pg->coll, o->oid,
			  cairn_strerror(e));
		free(data);
		rec_msg_clear(&m);
		return;
	}
	for (int i = 0; i < o->npeers; i++) {
		void *copy = NULL;

		if (dlen) {
			copy = malloc(dlen);
			if (!copy)
				break;
			memcpy(copy, data, dlen);
		}
		if (!send_to(pg, o->peers[i], MSG_REC_PUSH, &m, copy, dlen)) {
			o->inflight++;
			r->inflight++;
		}
	}
	r->win_bytes += dlen * (uint64_t)o->npeers;
	r->bytes_done += dlen * (uint64_t)o->npeers;
	free(data);
	rec_msg_clear(&m);
}

static void bf_step(struct pg *pg, struct pg_rec *r)
{
	struct store_cursor *next = malloc(sizeof(*next));
	struct rec_strset keep = { 0 };
	struct range_arg ra;
	int n;

	if (!next)
		return;
	n = store_list(pg->osd->store, pg->coll, &r->bfpos, NULL, r->batch, scan_cb, &keep, next);
	if (n < 0) {
		free(next);
		strset_clear(&keep);
		return;
	}
	ra.lo = &r->bfpos;
	ra.hi = next;
	if (pg_inflight_any(pg, oid_in_range_cb, &ra)) {
		/* a write in that range is in flight: wait for it (retried on its completion) */
		free(next);
		strset_clear(&keep);
		return;
	}
	for (uint32_t i = 0; i < keep.n; i++) {
		struct rec_msg m;
		void *data = NULL;
		size_t dlen = 0;

		memset(&m, 0, sizeof(m));
		m.token = r->token;
		if (read_object(pg, keep.v[i], &m, &data, &dlen)) {
			free(data);
			rec_msg_clear(&m);
			continue;
		}
		for (int k = 0; k < r->nbft; k++) {
			void *copy = dlen ? malloc(dlen) : NULL;

			if (dlen && !copy)
				break;
			if (copy)
				memcpy(copy, data, dlen);
			send_to(pg, r->bft[k], MSG_REC_PUSH, &m, copy, dlen);
			r->win_bytes += dlen;
			r->bytes_done += dlen;
		}
		free(data);
		rec_msg_clear(&m);
		r->bf_objs++;
		r->obj_done++;
		if (r->bf_left_est)
			r->bf_left_est--;
	}
	{
		struct rec_msg b;

		memset(&b, 0, sizeof(b));
		b.token = r->token;
		b.lo_hash = r->bfpos.hash;
		b.lo_name = strndup((const char *)r->bfpos.name, r->bfpos.name_len);
		b.bf_end = next->at_end;
		b.bf_hash = next->hash;
		b.bf_name = strndup((const char *)next->name, next->name_len);
		b.oids = keep.v;
		b.noids = keep.n;
		if (next->at_end)
			b.flags |= REC_F_BF_DONE;
		r->bf_wait = 0;
		for (int k = 0; k < r->nbft; k++)
			if (!send_to(pg, r->bft[k], MSG_REC_BACKFILL, &b, NULL, 0))
				r->bf_wait++;
		b.oids = NULL;
		b.noids = 0;
		rec_msg_clear(&b);
	}
	strset_clear(&keep);
	r->bf_next = *next;
	r->bf_busy = r->bf_wait > 0;
	r->bf_sent_ns = now_mono_ns();
	free(next);
}

static void finish_recovery(struct pg *pg, struct pg_rec *r)
{
	int32_t ids[CAIRN_MAX_REPLICAS];
	int n = 0;
	double secs = (double)(now_mono_ns() - r->started_ns) / 1e9;

	r->recovering = false;
	for (int i = 0; i < pg->nacting; i++)
		if (pg->acting[i] != OSDMAP_NONE)
			ids[n++] = pg->acting[i];
	la_set(pg, r, ids, n, NULL, 0); /* the refresh: no need to wait for the mon */
	CLOG_INFO("osd", "pg %s: recovery done: log-based %" PRIu64 " objects, backfill %" PRIu64
		  " objects, %" PRIu64 " bytes in %.2fs", pg->coll, r->log_objs, r->bf_objs,
		  r->bytes_done, secs);
	r->log_objs = r->bf_objs = 0;
}

/* Once the PG is active+clean with every acting copy complete, the copies outside it are
 * no longer needed: ask each stray to delete its copy (again every REC_STRAY_RESEND_NS
 * until it says removed or absent). Never before clean: a stray may be the only complete
 * copy of objects still being recovered. */
static void strays_kick(struct pg *pg, struct pg_rec *r)
{
	uint64_t now = now_mono_ns();
	struct rec_msg m;

	if (!r->nstrays || r->phase != REC_ACTIVE || !is_primary(pg) || r->nobj || r->nbft ||
	    !(pg->state & PG_STATE_CLEAN) || pg->nacting < pg->pool_size ||
	    (r->stray_ns && now - r->stray_ns < REC_STRAY_RESEND_NS))
		return;
	r->stray_ns = now;
	for (int i = 0; i < r->nstrays; i++) {
		memset(&m, 0, sizeof(m));
		m.token = r->token;
		send_to(pg, r->strays[i], MSG_REC_REMOVE, &m, NULL, 0);
	}
}

static void handle_remove_reply(struct pg *pg, struct pg_rec *r, const struct rec_msg *m)
{
	if (m->token != r->token || (m->result && m->result != -ENOENT))
		return; /* kept for now (e.g. its map is older): asked again later */
	for (int i = 0; i < r->nstrays; i++)
		if (r->strays[i] == m->from) {
			r->strays[i] = r->strays[--r->nstrays];
			CLOG_INFO("osd", "pg %s: stray copy on osd.%d removed", pg->coll, m->from);
			break;
		}
}

/* Stray side: deletes this OSD's copy of the PG (objects, collection, log, recovery record)
 * in one transaction, then the PG itself. Refused (-EBUSY / -EAGAIN) while this OSD's map
 * is older than the sender's, maps the PG here, or a newer peering round consulted it. */
static int remove_stray(struct osd_shard *sh, struct pg *pg, const struct rec_msg *m)
{
	struct pg_rec *r = rec_get(pg);
	int32_t up[CAIRN_MAX_REPLICAS], acting[CAIRN_MAX_REPLICAS];
	int nup = 0, nacting = 0;
	struct rec_strset objs = { 0 };
	struct store_cursor *c;
	struct store_txn *t;
	int e;

	if (!r || !sh->map)
		return -ENOMEM;
	if (sh->map->epoch < m->epoch)
		return -EAGAIN;
	if (osdmap_pg_to_up_acting(sh->map, pg->id, up, &nup, NULL, acting, &nacting, NULL) ||
	    in_set(up, nup, sh->osd->id) || in_set(acting, nacting, sh->osd->id) ||
	    r->query_epoch > m->epoch)
		return -EBUSY;
	c = malloc(sizeof(*c));
	t = store_txn_new();
	if (!c || !t) {
		e = -ENOMEM;
		goto out;
	}
	store_cursor_begin(c);
	e = store_list(sh->osd->store, pg->coll, c, NULL, 0, scan_cb, &objs, NULL);
	if (e == -ENOENT)
		e = 0;
	if (e < 0)
		goto out;
	e = 0;
	for (uint32_t i = 0; !e && i < objs.n; i++)
		e = store_txn_remove(t, pg->coll, objs.v[i], strlen(objs.v[i]));
	if (!e && store_coll_exists(sh->osd->store, pg->coll) == 1)
		e = store_txn_coll_remove(t, pg->coll);
	if (!e)
		e = store_txn_touch(t, PG_META_COLL, pg->meta_oid, strlen(pg->meta_oid));
	if (!e)
		e = store_txn_remove(t, PG_META_COLL, pg->meta_oid, strlen(pg->meta_oid));
	if (!e)
		e = store_txn_touch(t, PG_META_COLL, r->rec_oid, strlen(r->rec_oid));
	if (!e)
		e = store_txn_remove(t, PG_META_COLL, r->rec_oid, strlen(r->rec_oid));
	if (!e) {
		/* synchronous: a message for this PG arriving next must find nothing */
		e = store_apply_txn(sh->osd->store, t);
		t = NULL;
	}
	if (e)
		goto out;
	CLOG_INFO("osd", "pg %s: stray copy removed (%u objects), asked by osd.%d at epoch %u",
		  pg->coll, objs.n, m->from, m->epoch);
	pg_unlink(pg);
	pg_destroy(pg);
out:
	if (e)
		CLOG_WARN("osd", "pg %s: cannot remove the stray copy: %s", pg->coll,
			  cairn_strerror(e));
	store_txn_free(t);
	free(c);
	strset_clear(&objs);
	return e;
}

static void rec_kick(struct pg *pg, struct pg_rec *r)
{
	uint64_t before = r->nobj + (uint64_t)r->nbft;

	if (r->phase != REC_ACTIVE || !is_primary(pg) || r->kicking)
		return;
	r->kicking = true;
	for (struct rec_obj *o = r->head, *n; o && r->inflight < r->max_active && rate_ok(r);
	     o = n) {
		n = o->next;
		if (o->inflight || (!o->pull && pg_inflight_any(pg, oid_busy_cb, o->oid)))
			continue;
		if (!o->pull && !o->npeers) {
			obj_done(pg, r, o);
			continue;
		}
		start_obj(pg, r, o);
	}
	if (r->nbft && !r->bf_busy && !r->npull && r->inflight < r->max_active && rate_ok(r))
		bf_step(pg, r);
	if (r->hold && !r->npull && !r->missing.n) {
		hold_end(pg, r);
		r->kicking = false;
		return;
	}
	if (r->recovering && !r->nobj && !r->nbft) {
		finish_recovery(pg, r);
		before = 1;
	}
	r->kicking = false;
	if (before || r->nobj || r->nbft)
		set_state(pg, r);
	strays_kick(pg, r);
}

static void handle_push_reply(struct pg *pg, struct pg_rec *r, struct rec_msg *m)
{
	struct rec_obj *o = m->oid ? obj_find(r, m->oid) : NULL;

	if (!o || !o->inflight || m->token != r->token)
		return; /* a backfill push: accounted by the batch's reply */
	o->inflight--;
	if (r->inflight)
		r->inflight--;
	if (!m->result)
		obj_del_peer(o, m->from);
	if (!o->inflight && !o->pull && !o->npeers)
		obj_done(pg, r, o);
}

static void handle_pulled(struct pg *pg, struct pg_rec *r, const char *oid, bool failed)
{
	struct rec_obj *o = obj_find(r, oid);

	if (!o)
		return;
	if (o->inflight) {
		o->inflight--;
		if (r->inflight)
			r->inflight--;
	}
	if (failed)
		return;
	if (o->pull) {
		o->pull = false;
		if (r->npull)
			r->npull--;
	}
	if (!r->npull && r->list_wait_head)
		release_items(pg, &r->list_wait_head, &r->list_wait_tail);
	if (!o->npeers)
		obj_done(pg, r, o);
}

bool rec_client_op_may_wait(const struct pg *pg)
{
	const struct pg_rec *r = pg->rec;

	return r && r->phase == REC_ACTIVE && r->nobj;
}

bool rec_client_op_wait(struct pg *pg, struct osd_item *it)
{
	struct pg_rec *r = pg->rec;
	struct rec_obj *o;

	if (!r || r->phase != REC_ACTIVE || !r->nobj)
		return false;
	if (it->req->ops[0].op == OSD_OP_LIST) {
		if (!r->npull)
			return false;
		item_list_push(&r->list_wait_head, &r->list_wait_tail, it);
		return true;
	}
	o = obj_find(r, it->req->oid);
	if (!o)
		return false;
	item_list_push(&o->wait_head, &o->wait_tail, it);
	obj_to_front(r, o);
	rec_kick(pg, r);
	return true;
}

/* ---- ticks, dispatch ------------------------------------------------------------------------ */

/* A copy outside up and acting (e.g. kept on an OSD that was down when its PG last peered):
 * tells the PG's primary every REC_STRAY_RESEND_NS, which removes it once the PG is clean. */
static void stray_tick(struct pg *pg, uint64_t now)
{
	const struct osdmap *map = pg->shard->map;
	struct pg_rec *r;
	struct rec_msg n;

	if (!map || !pg->nacting || pg->primary < 0 || in_set(pg->up, pg->nup, pg->osd->id) ||
	    in_set(pg->acting, pg->nacting, pg->osd->id) || !osdmap_is_up(map, pg->primary))
		return;
	r = rec_get(pg);
	if (!r || (r->stray_note_ns && now - r->stray_note_ns < REC_STRAY_RESEND_NS))
		return;
	r->stray_note_ns = now;
	memset(&n, 0, sizeof(n));
	n.flags = REC_F_HAS_PG | REC_F_STRAY;
	n.info = pg->info;
	send_to(pg, pg->primary, MSG_REC_NOTIFY, &n, NULL, 0);
}

bool rec_pg_tick(struct pg *pg, uint64_t now)
{
	struct pg_rec *r = pg->rec;

	if (!is_primary(pg))
		stray_tick(pg, now);
	if (!r)
		return false;
	if (!is_primary(pg) || pg->nacting < pg->pool_min_size) {
		if (r->phase != REC_IDLE) {
			pg->peering = false;
			primary_reset(pg, r);
		}
		return false;
	}
	switch (r->phase) {
	case REC_PEERING:
		if (peering_ready(r, now)) {
			peering_decide(pg, r);
			break;
		}
		if (now - r->query_ns > REC_QUERY_RESEND_NS)
			send_queries(pg, r);
		break;
	case REC_LA_WAIT:
		if (now - r->mon_ns > REC_QUERY_RESEND_NS)
			mon_la_send(pg, r, true, r->token);
		break;
	case REC_SCAN:
		if (now - r->query_ns > 5 * REC_QUERY_RESEND_NS) {
			r->scan_from = -1;
			rec_peering_start(pg);
		}
		break;
	case REC_DOWN:
		if (now - r->down_ns > REC_DOWN_RETRY_NS)
			rec_peering_start(pg);
		break;
	case REC_ACTIVE:
		for (struct rec_obj *o = r->head; o; o = o->next)
			if (o->pull && pg->shard->map && !osdmap_is_up(pg->shard->map, o->pull_from)) {
				/* that copy is gone: another may have the object (or the PG is down) */
				CLOG_INFO("osd", "pg %s: pull source osd.%d is down: peering again",
					  pg->coll, o->pull_from);
				rec_peering_start(pg);
				return true;
			}
		for (struct rec_obj *o = r->head; o; o = o->next)
			if (o->inflight && now - o->started_ns > REC_OP_RETRY_NS) {
				r->inflight -= o->inflight < r->inflight ? o->inflight : r->inflight;
				o->inflight = 0;
			}
		if (r->bf_busy && now - r->bf_sent_ns > REC_OP_RETRY_NS) {
			r->bf_busy = false; /* resend the batch (idempotent) */
			r->bf_wait = 0;
		}
		rec_kick(pg, r);
		if (r->nobj || r->nbft)
			set_state(pg, r); /* pg.c may have recomputed it on a map */
		break;
	default:
		break;
	}
	return r->phase != REC_IDLE;
}

void rec_pg_free(struct pg *pg)
{
	struct pg_rec *r = pg->rec;
	struct rec_obj *o, *n;

	if (!r)
		return;
	for (o = r->head; o; o = n) {
		struct osd_item *w, *wn;

		n = o->next;
		for (w = o->wait_head; w; w = wn) {
			wn = (struct osd_item *)w->q.next;
			osd_item_free(w);
		}
		free(o->oid);
		free(o);
	}
	for (struct osd_item *w = r->list_wait_head, *wn; w; w = wn) {
		wn = (struct osd_item *)w->q.next;
		osd_item_free(w);
	}
	for (int i = 0; i < r->npeers; i++)
		rec_msg_clear(&r->peers[i].n);
	free(r->peers);
	strset_clear(&r->missing);
	free(r);
	pg->rec = NULL;
}

/* Messenger thread: the mon's records -> one item per PG to its shard. */
static void mon_la_dispatch(struct osd *o, struct msg *m)
{
	struct mon_pg_la_msg l;

	if (mon_pg_la_msg_decode(&l, m->front, m->front_len)) {
		CLOG_WARN("osd", "malformed PG last-active reply from the mon");
		msg_free(m);
		return;
	}
	for (uint32_t i = 0; i < l.n; i++) {
		struct osd_item *it = calloc(1, sizeof(*it) + sizeof(struct mon_pg_la));

		if (!it)
			break;
		it->q.type = OQ_RECOVERY;
		it->rc = REC_EV_MON_LA;
		it->pgid = l.recs[i].pg;
		memcpy(it + 1, &l.recs[i], sizeof(struct mon_pg_la));
		op_queue_push(o->oq, op_queue_shard_of(o->oq, it->pgid), &it->q);
	}
	mon_pg_la_msg_free(&l);
	msg_free(m);
}

bool rec_dispatch(struct osd *o, struct msg_conn *c, struct msg *m)
{
	struct osd_item *it;
	struct pg_id id;

	if (m->type == MSG_MON_PG_LA_REPLY) {
		mon_la_dispatch(o, m);
		return true;
	}
	if (m->type < MSG_REC_QUERY || m->type > MSG_PG_REC_LAST_)
		return false;
	if (rec_msg_peek_pgid(m->front, m->front_len, &id)) {
		CLOG_WARN("osd", "malformed recovery message type %u; closing the connection",
			  m->type);
		msg_free(m);
		msg_conn_close(c);
		return true;
	}
	it = calloc(1, sizeof(*it));
	if (!it) {
		msg_free(m);
		return true;
	}
	it->q.type = OQ_RECOVERY;
	it->rc = REC_EV_MSG;
	it->pgid = id;
	it->m = m;
	it->conn = msg_conn_get(c);
	op_queue_push(o->oq, op_queue_shard_of(o->oq, id), &it->q);
	return true;
}

/* The PG a message is for, loading it from the store or creating it when asked to. */
static struct pg *pg_for(struct osd_shard *sh, struct pg_id id, bool create)
{
	struct pg *pg = pg_lookup(sh, id);
	struct store_txn *batch = NULL;
	char coll[PG_ID_STR_MAX];
	int e;

	if (pg || !sh->map)
		return pg;
	pg_id_str(&id, coll, sizeof(coll));
	e = store_coll_exists(sh->osd->store, coll);
	if (e < 0 || (!e && !create) || !osdmap_pg_exists(sh->map, id))
		return NULL;
	pg = pg_create(sh, id, sh->map->epoch, &batch);
	if (batch) {
		e = store_apply_txn(sh->osd->store, batch);
		if (e)
			CLOG_ERR("osd", "creating pg %s: %s", coll, cairn_strerror(e));
	}
	return pg;
}

void rec_shard_item(struct osd_shard *sh, struct osd_item *it)
{
	struct rec_msg m;
	struct cdec d;
	struct pg *pg;

	if (it->rc == REC_EV_MON_LA) {
		struct mon_pg_la la;

		memcpy(&la, it + 1, sizeof(la));
		pg = pg_lookup(sh, it->pgid);
		if (pg && pg->rec && is_primary(pg))
			handle_mon_la(pg, pg->rec, &la);
		osd_item_free(it);
		return;
	}
	if (it->rc == REC_EV_PULLED) {
		pg = pg_lookup(sh, it->pgid);
		if (pg && pg->rec && is_primary(pg))
			handle_pulled(pg, pg->rec, (const char *)(it + 1), it->v.v != 0);
		if (pg && pg->rec)
			rec_kick(pg, pg->rec);
		osd_item_free(it);
		return;
	}
	cdec_init(&d, it->m->front, it->m->front_len);
	if (rec_msg_decode(&d, &m)) {
		CLOG_WARN("osd", "malformed recovery message type %u; closing the connection",
			  it->m->type);
		msg_conn_close(it->conn);
		osd_item_free(it);
		return;
	}
	pg = pg_for(sh, m.pgid, it->m->type == MSG_REC_ACTIVATE);
	switch (it->m->type) {
	case MSG_REC_QUERY:
		handle_query(sh, pg, it, &m);
		break;
	case MSG_REC_NOTIFY:
		if (pg)
			handle_notify(pg, &m);
		break;
	case MSG_REC_ACTIVATE:
		if (pg)
			handle_activate(pg, &m);
		break;
	case MSG_REC_PUSH:
		if (pg)
			handle_push(pg, it, &m);
		break;
	case MSG_REC_PULL:
		if (pg)
			handle_pull(pg, it, &m);
		break;
	case MSG_REC_BACKFILL:
		if (pg)
			handle_backfill(pg, it, &m);
		break;
	case MSG_REC_REMOVE: {
		struct rec_msg rep;

		memset(&rep, 0, sizeof(rep));
		rep.pgid = m.pgid;
		rep.from = sh->osd->id;
		rep.epoch = sh->map ? sh->map->epoch : 0;
		rep.token = m.token;
		rep.result = pg ? remove_stray(sh, pg, &m) : -ENOENT;
		pg = NULL; /* may be gone */
		send_on(it->conn, MSG_REC_REMOVE_REPLY, &rep, NULL, 0, MSG_PRIO_HIGH);
		break;
	}
	case MSG_REC_REMOVE_REPLY:
		if (pg && pg->rec && is_primary(pg))
			handle_remove_reply(pg, pg->rec, &m);
		break;
	case MSG_REC_PUSH_REPLY:
		if (pg && pg->rec && is_primary(pg)) {
			handle_push_reply(pg, pg->rec, &m);
			rec_kick(pg, pg->rec);
		}
		break;
	case MSG_REC_BACKFILL_REPLY:
		if (pg && pg->rec && is_primary(pg) && pg->rec->bf_busy &&
		    m.token == pg->rec->token) {
			struct pg_rec *r = pg->rec;

			if (m.result) {
				r->bf_busy = false; /* resend this batch */
			} else if (r->bf_wait && !--r->bf_wait) {
				r->bf_busy = false;
				r->bfpos = r->bf_next;
				if (r->bfpos.at_end) {
					r->nbft = 0;
					r->bf_left_est = 0;
				}
			}
			rec_kick(pg, r);
		}
		break;
	default:
		break;
	}
	rec_msg_clear(&m);
	osd_item_free(it);
}
