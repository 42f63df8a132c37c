/*
 * objecter — placement, send, resend and completion of client ops (see objecter.h).
 *
 * Locking: one mutex (o->lock) protects the map, the op list, the tid hash, the sessions and
 * the send queue. msg_send() is never called with o->lock held (it may block on a full
 * connection, and the messenger thread that would drain it may be waiting for o->lock in
 * a reply). Instead every send goes through the send queue: whoever queues an op calls
 * flush_sends(), and one thread at a time (o->flushing) pops ops, prepares them under the
 * lock (target, session, encoded front in the flusher's buffer) and sends them unlocked.
 *
 * Completion: op->pending counts 1 for "not yet ended" plus 1 per send the messenger has not
 * released. Ending an op (end_op_locked) drops the first; each release drops one; whoever
 * drops it to zero calls op->finish, never under o->lock. So the caller's input buffers stay
 * referenced exactly as long as the messenger may read them.
 */
#include "client/objecter.h"

#include <cairn/libcairn.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/log.h"
#include "common/monc.h"
#include "common/msg.h"
#include "common/msg_types.h"
#include "common/osdmap.h"
#include "common/util.h"

enum op_state {
	OP_NEW = 0,
	OP_QUEUED,  /* in the send queue */
	OP_WAIT,    /* no usable target yet, or backing off; timer / map change re-queue it */
	OP_SENT,
	OP_DONE,
};

#define TID_HASH_BITS 12
#define TID_HASH_SIZE (1u << TID_HASH_BITS)

struct osd_session {
	int osd;
	char addr[OSDMAP_ADDR_MAX];
	struct msg_conn *conn; /* NULL until the next send connects */
};

#define PCACHE_SIZE 1024 /* PG -> primary cache entries */

struct objecter {
	pthread_mutex_t lock;
	pthread_cond_t cond;      /* throttle and flush waiters: an op ended */
	pthread_cond_t timer_cond; /* the timer thread sleeps on it (stop wakes it) */
	struct msgr *msgr;
	struct monc *monc;
	const struct cairn_conf *conf;
	int64_t client_num;

	struct osdmap *map;       /* newest map; ref held */
	struct osdmap *pending_map; /* client_debug_delay_maps_ms: next map to apply, ref held */
	uint64_t pending_due_ns;
	uint64_t last_tid;
	struct objecter_op *ops_head, *ops_tail; /* live ops, tid order */
	struct objecter_op *hash[TID_HASH_SIZE];
	int nops;                 /* linked (not yet ended) */
	int outstanding;          /* submitted and not yet delivered (throttle, flush) */
	uint64_t outstanding_bytes; /* their input data */

	struct objecter_op *sq_head, *sq_tail;   /* send queue */
	bool flushing;

	struct osd_session **sessions;           /* by OSD id */
	int nsessions;

	pthread_t timer;
	bool timer_started;
	bool stopping;            /* no new ops; timer exits */

	struct cairn_stats stats;  /* counters; osdmap_epoch/inflight filled on read */

	/* PG -> primary under the map of epoch pc_epoch (CRUSH runs once per PG and map, not
	 * once per op); direct-mapped, emptied when the map changes */
	struct pcache_ent {
		int64_t pool;
		uint32_t ps;
		int32_t primary;
		bool valid;
	} pcache[PCACHE_SIZE];
	uint32_t pc_epoch;

	/* options (read once) */
	uint64_t op_timeout_ns;
	uint64_t backoff_ns, backoff_max_ns, tick_ns;
	int max_inflight;
	uint64_t max_inflight_bytes;
	uint64_t delay_maps_ns;
};

static __thread int in_callback;

bool objecter_in_callback(void) { return in_callback > 0; }

/* ---- op bookkeeping ------------------------------------------------------------------------ */

static unsigned tid_bucket(uint64_t tid) { return (unsigned)(tid & (TID_HASH_SIZE - 1)); }

static void link_op_locked(struct objecter *o, struct objecter_op *op)
{
	unsigned b = tid_bucket(op->tid);

	op->prev = o->ops_tail;
	op->next = NULL;
	if (o->ops_tail)
		o->ops_tail->next = op;
	else
		o->ops_head = op;
	o->ops_tail = op;
	op->hnext = o->hash[b];
	o->hash[b] = op;
	o->nops++;
}

static void unlink_op_locked(struct objecter *o, struct objecter_op *op)
{
	struct objecter_op **pp = &o->hash[tid_bucket(op->tid)];

	while (*pp && *pp != op)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = op->hnext;
	if (op->prev)
		op->prev->next = op->next;
	else
		o->ops_head = op->next;
	if (op->next)
		op->next->prev = op->prev;
	else
		o->ops_tail = op->prev;
	op->prev = op->next = op->hnext = NULL;
	o->nops--;
}

static struct objecter_op *lookup_op_locked(struct objecter *o, uint64_t tid)
{
	struct objecter_op *op = o->hash[tid_bucket(tid)];

	while (op && op->tid != tid)
		op = op->hnext;
	return op;
}

static void deliver(struct objecter_op *op)
{
	struct msg *m = op->reply_msg;
	struct objecter *o = op->o;
	uint64_t bytes = op->data_len;

	in_callback++;
	op->reply_msg = NULL;
	op->finish(op, op->result, op->has_reply ? &op->reply : NULL,
		   m ? (const uint8_t *)m->data : NULL, m ? m->data_len : 0);
	in_callback--;
	if (m)
		msg_free(m);
	/* op may be freed now */
	pthread_mutex_lock(&o->lock);
	o->outstanding--;
	o->outstanding_bytes -= bytes;
	if (o->outstanding == 0 || o->outstanding == o->max_inflight - 1 ||
	    (bytes && o->outstanding_bytes + bytes > o->max_inflight_bytes))
		pthread_cond_broadcast(&o->cond); /* flush waiters; a throttled submitter */
	pthread_mutex_unlock(&o->lock);
}

static bool pending_put(struct objecter_op *op)
{
	return __atomic_sub_fetch(&op->pending, 1, __ATOMIC_ACQ_REL) == 0;
}

/* Ends op with result; returns true if the caller must deliver it (after unlocking). */
static bool end_op_locked(struct objecter *o, struct objecter_op *op, int result)
{
	if (op->state == OP_DONE)
		return false;
	op->result = result;
	op->state = OP_DONE;
	o->stats.ops_completed++;
	if (result < 0)
		o->stats.ops_failed++;
	if (result == -ETIMEDOUT)
		o->stats.ops_timed_out++;
	unlink_op_locked(o, op);
	if (op->queued) {
		struct objecter_op **pp = &o->sq_head, *prev = NULL;
		while (*pp && *pp != op) {
			prev = *pp;
			pp = &(*pp)->qnext;
		}
		if (*pp) {
			*pp = op->qnext;
			if (o->sq_tail == op)
				o->sq_tail = prev;
		}
		op->queued = false;
		op->qnext = NULL;
	}
	return pending_put(op);
}

static void send_release(void *arg)
{
	struct objecter_op *op = arg;

	if (pending_put(op))
		deliver(op);
}

/* ---- sessions -------------------------------------------------------------------------- */

static struct osd_session *get_session_locked(struct objecter *o, int osd)
{
	struct osd_session *s;

	if (osd >= o->nsessions) {
		int n = osd + 16;
		struct osd_session **ns = realloc(o->sessions, (size_t)n * sizeof(*ns));
		if (!ns)
			return NULL;
		memset(ns + o->nsessions, 0, (size_t)(n - o->nsessions) * sizeof(*ns));
		o->sessions = ns;
		o->nsessions = n;
	}
	s = o->sessions[osd];
	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s)
			return NULL;
		s->osd = osd;
		o->sessions[osd] = s;
	}
	return s;
}

static void wait_locked(struct objecter *o, struct objecter_op *op, uint64_t delay_ns);
static uint64_t backoff_locked(struct objecter *o, int attempts);

/* Drops the session's connection; ops sent on it wait (briefly) and are sent again. */
static void session_close_locked(struct objecter *o, struct osd_session *s)
{
	struct msg_conn *c = s->conn;

	if (!c)
		return;
	s->conn = NULL;
	msg_conn_close(c);
	msg_conn_put(c);
	for (struct objecter_op *op = o->ops_head; op; op = op->next)
		if (op->state == OP_SENT && op->sess == s)
			wait_locked(o, op, backoff_locked(o, op->attempts));
}

/* ---- targeting and the send queue ------------------------------------------------------ */

static void enqueue_locked(struct objecter *o, struct objecter_op *op)
{
	if (op->queued || op->state == OP_DONE)
		return;
	op->state = OP_QUEUED;
	op->queued = true;
	op->qnext = NULL;
	if (o->sq_tail)
		o->sq_tail->qnext = op;
	else
		o->sq_head = op;
	o->sq_tail = op;
}

static uint64_t backoff_locked(struct objecter *o, int attempts)
{
	uint64_t b = o->backoff_ns;

	for (int i = 1; i < attempts && b < o->backoff_max_ns; i++)
		b *= 2;
	return b < o->backoff_max_ns ? b : o->backoff_max_ns;
}

static void wait_locked(struct objecter *o, struct objecter_op *op, uint64_t delay_ns)
{
	op->state = OP_WAIT;
	op->sess = NULL;
	op->next_try_ns = now_mono_ns() + delay_ns;
	(void)o;
}

/* The acting primary of pg under o->map, from the cache or computed (CRUSH) and cached. */
static int pg_primary_locked(struct objecter *o, struct pg_id pg, int32_t *primary)
{
	const struct osdmap *m = o->map;
	struct pcache_ent *e;
	int r;

	if (o->pc_epoch != m->epoch) {
		memset(o->pcache, 0, sizeof(o->pcache));
		o->pc_epoch = m->epoch;
	}
	e = &o->pcache[((uint64_t)pg.pool * 0x9e3779b97f4a7c15ull + pg.ps) % PCACHE_SIZE];
	if (e->valid && e->pool == pg.pool && e->ps == pg.ps) {
		*primary = e->primary;
		return 0;
	}
	r = osdmap_pg_to_up_acting(m, pg, NULL, NULL, NULL, NULL, NULL, primary);
	if (r < 0)
		return r;
	*e = (struct pcache_ent){ pg.pool, pg.ps, *primary, true };
	return 0;
}

/*
 * Computes op's target under the current map. 0 with *osd set; 1 = wait (no map, paused,
 * map too old, no primary, primary down); <0 = the op must end with that error.
 */
static int calc_target_locked(struct objecter *o, struct objecter_op *op, int *osd)
{
	const struct osdmap *m = o->map;
	const struct pool_info *pool;
	int32_t primary = -1;
	int r;

	if (!m || m->epoch < op->min_epoch || (m->flags & OSDMAP_FLAG_PAUSE))
		return 1;
	pool = osdmap_pool(m, op->pool);
	if (!pool)
		return -ENOENT;
	if (!op->pg_target) {
		r = osdmap_object_to_pg(m, op->pool, op->req.oid, strlen(op->req.oid),
					&op->req.pgid);
		if (r < 0)
			return r;
	} else if (op->req.pgid.ps >= pool->pg_num) {
		return -ENOENT;
	}
	r = pg_primary_locked(o, op->req.pgid, &primary);
	if (r < 0)
		return r;
	if (primary < 0 || primary == OSDMAP_NONE || !osdmap_is_up(m, primary))
		return 1;
	if (!osdmap_osd(m, primary) || !osdmap_osd(m, primary)->addr[0])
		return 1;
	*osd = primary;
	return 0;
}

/*
 * Prepares one queued op for sending (under the lock): target, session, connection, encoded
 * front in *front. Returns the connection (a new ref) to send on, or NULL when the op does
 * not go out now (it waits, or it ended: then *deliver_it says whether to deliver it).
 */
static struct msg_conn *prepare_send_locked(struct objecter *o, struct objecter_op *op,
					    struct cbuf *front, bool *deliver_it)
{
	const struct osd_info *oi;
	struct osd_session *s;
	int osd = -1, r;

	*deliver_it = false;
	r = calc_target_locked(o, op, &osd);
	if (r < 0) {
		*deliver_it = end_op_locked(o, op, r);
		return NULL;
	}
	if (r > 0) {
		wait_locked(o, op, backoff_locked(o, op->attempts + 1));
		return NULL;
	}
	s = get_session_locked(o, osd);
	if (!s) {
		*deliver_it = end_op_locked(o, op, -ENOMEM);
		return NULL;
	}
	oi = osdmap_osd(o->map, osd);
	if (s->conn && (strcmp(s->addr, oi->addr) || !msg_conn_is_open(s->conn)))
		session_close_locked(o, s);
	if (!s->conn) {
		snprintf(s->addr, sizeof(s->addr), "%s", oi->addr);
		s->conn = msgr_connect(o->msgr, s->addr, MSG_LOSSY);
		if (!s->conn) {
			CLOG_WARN("objecter", "connect to osd.%d at %s failed: %s", osd, s->addr,
				  cairn_strerror(-errno));
			wait_locked(o, op, backoff_locked(o, ++op->attempts));
			return NULL;
		}
	}
	op->target_osd = osd;
	op->sess = s;
	op->req.epoch = o->map->epoch;
	op->req.reqid.type = MSG_ENTITY_CLIENT;
	op->req.reqid.num = o->client_num;
	op->req.reqid.tid = op->tid;
	op->req.attempt = (uint32_t)op->attempts;
	if (op->attempts > 0) {
		op->req.flags |= OSD_REQ_RETRY;
		o->stats.resends++;
	}
	o->stats.sends++;
	op->attempts++;
	op->state = OP_SENT;
	cbuf_reset(front);
	osd_op_req_encode(front, &op->req);
	if (front->err) {
		*deliver_it = end_op_locked(o, op, front->err);
		return NULL;
	}
	__atomic_add_fetch(&op->pending, 1, __ATOMIC_ACQ_REL);
	return msg_conn_get(s->conn);
}

static void flush_sends(struct objecter *o)
{
	struct cbuf front;

	pthread_mutex_lock(&o->lock);
	if (o->flushing || !o->sq_head) {
		pthread_mutex_unlock(&o->lock);
		return;
	}
	cbuf_init(&front);
	o->flushing = true;
	for (;;) {
		struct objecter_op *op = o->sq_head;
		struct msg_conn *c;
		struct msg_out out;
		bool dl;
		int r;

		if (!op)
			break;
		o->sq_head = op->qnext;
		if (!o->sq_head)
			o->sq_tail = NULL;
		op->queued = false;
		op->qnext = NULL;
		if (op->state != OP_QUEUED)
			continue; /* ended (or re-targeted) meanwhile */
		c = prepare_send_locked(o, op, &front, &dl);
		if (!c) {
			if (dl) {
				pthread_mutex_unlock(&o->lock);
				deliver(op);
				pthread_mutex_lock(&o->lock);
			}
			continue;
		}
		memset(&out, 0, sizeof(out));
		out.type = MSG_OSD_OP;
		out.tid = op->tid;
		out.front = front.data;
		out.front_len = (uint32_t)front.len;
		out.data = op->iovcnt ? op->iov : NULL;
		out.data_iovcnt = op->iovcnt;
		out.release = send_release;
		out.release_arg = op;
		/* op may end (reply, timeout) once the lock is dropped: hold a pending ref of our
		 * own across the send, so it cannot be delivered (and freed) under our feet */
		__atomic_add_fetch(&op->pending, 1, __ATOMIC_ACQ_REL);
		pthread_mutex_unlock(&o->lock);
		r = msg_send(c, &out);
		msg_conn_put(c);
		pthread_mutex_lock(&o->lock);
		if (r < 0 && op->state == OP_SENT) {
			CLOG_DEBUG("objecter", "send tid %llu to osd.%d: %s",
				   (unsigned long long)op->tid, op->target_osd, cairn_strerror(r));
			wait_locked(o, op, backoff_locked(o, op->attempts));
		}
		if (pending_put(op)) {
			pthread_mutex_unlock(&o->lock);
			deliver(op);
			pthread_mutex_lock(&o->lock);
		}
	}
	o->flushing = false;
	pthread_mutex_unlock(&o->lock);
	cbuf_free(&front);
}

/* ---- public entry points ---------------------------------------------------------------- */

int objecter_submit(struct objecter *o, struct objecter_op *op)
{
	if (!op->finish || op->req.nops == 0 || op->req.nops > OSD_OPS_MAX)
		return -EINVAL;
	pthread_mutex_lock(&o->lock);
	while (!o->stopping && !in_callback &&
	       (o->outstanding >= o->max_inflight ||
		(o->outstanding_bytes && o->outstanding_bytes + op->data_len > o->max_inflight_bytes)))
		pthread_cond_wait(&o->cond, &o->lock);
	if (o->stopping) {
		pthread_mutex_unlock(&o->lock);
		return -ESHUTDOWN;
	}
	op->tid = ++o->last_tid;
	o->stats.ops_started++;
	op->o = o;
	o->outstanding++;
	o->outstanding_bytes += op->data_len;
	op->state = OP_NEW;
	op->attempts = 0;
	op->pending = 1;
	op->result = 0;
	op->min_epoch = 0;
	op->target_osd = -1;
	op->sess = NULL;
	op->reply_msg = NULL;
	op->has_reply = false;
	op->queued = false;
	op->req.flags = 0;
	{
		uint64_t t = op->timeout_ns ? op->timeout_ns : o->op_timeout_ns;
		op->deadline_ns = t ? now_mono_ns() + t : 0;
	}
	link_op_locked(o, op);
	enqueue_locked(o, op);
	pthread_mutex_unlock(&o->lock);
	flush_sends(o);
	return 0;
}

int objecter_handle_msg(struct objecter *o, struct msg_conn *c, struct msg *m)
{
	struct osd_op_reply rep;
	struct objecter_op *op;
	struct cdec d;
	bool dl = false;
	uint32_t want = 0;

	if (m->type != MSG_OSD_OPREPLY)
		return 0;
	cdec_init(&d, m->front, m->front_len);
	if (osd_op_reply_decode(&d, &rep) < 0 || osd_op_reply_check_data(&rep, m->data_len) < 0) {
		CLOG_WARN("objecter", "malformed op reply from %s; closing", msg_conn_peer_addr(c));
		msg_free(m);
		msg_conn_close(c);
		return 1;
	}
	pthread_mutex_lock(&o->lock);
	op = lookup_op_locked(o, m->tid);
	if (!op || op->state == OP_DONE) {
		pthread_mutex_unlock(&o->lock);
		msg_free(m);
		return 1; /* late reply of an op that already ended */
	}
	if (o->map && rep.epoch > o->map->epoch)
		want = rep.epoch;
	if (rep.result == -ESTALE && (rep.flags & OSD_REPLY_MISDIRECTED)) {
		o->stats.stale_replies++;
		/* only the attempt we last sent counts; an older attempt's bounce is noise */
		if (op->state == OP_SENT && op->sess && op->sess->conn == c) {
			if (rep.epoch > op->min_epoch)
				op->min_epoch = rep.epoch;
			if (o->map && o->map->epoch >= op->min_epoch) {
				/* our map is as new as theirs: retry after a short backoff */
				wait_locked(o, op, backoff_locked(o, op->attempts));
			} else {
				op->state = OP_WAIT;
				op->sess = NULL;
				op->next_try_ns = now_mono_ns() + o->backoff_max_ns;
			}
			CLOG_DEBUG("objecter", "tid %llu misdirected to osd.%d (its epoch %u, ours %u)",
				   (unsigned long long)op->tid, op->target_osd, rep.epoch,
				   o->map ? o->map->epoch : 0);
		}
		pthread_mutex_unlock(&o->lock);
		msg_free(m);
		if (want)
			monc_note_epoch(o->monc, want);
		return 1;
	}
	op->reply = rep;
	op->has_reply = true;
	op->reply_msg = m;
	dl = end_op_locked(o, op, rep.result);
	pthread_mutex_unlock(&o->lock);
	if (want)
		monc_note_epoch(o->monc, want);
	if (dl)
		deliver(op);
	return 1;
}

void objecter_handle_reset(struct objecter *o, struct msg_conn *c)
{
	struct osd_session *s = NULL;

	pthread_mutex_lock(&o->lock);
	for (int i = 0; i < o->nsessions; i++) {
		if (o->sessions[i] && o->sessions[i]->conn == c) {
			s = o->sessions[i];
			break;
		}
	}
	if (!s) {
		pthread_mutex_unlock(&o->lock);
		return;
	}
	CLOG_DEBUG("objecter", "connection to osd.%d (%s) reset", s->osd, s->addr);
	o->stats.conn_resets++;
	msg_conn_put(s->conn);
	s->conn = NULL;
	for (struct objecter_op *op = o->ops_head; op; op = op->next) {
		if (op->state == OP_SENT && op->sess == s)
			wait_locked(o, op, backoff_locked(o, op->attempts));
	}
	pthread_mutex_unlock(&o->lock);
}

static void apply_map(struct objecter *o, struct osdmap *map);

void objecter_handle_map(struct objecter *o, struct osdmap *map)
{
	if (o->delay_maps_ns) {
		/* testing: park the map; the timer applies it when due */
		pthread_mutex_lock(&o->lock);
		if (!o->map) {
			pthread_mutex_unlock(&o->lock);
			apply_map(o, map); /* the first map is never delayed */
			return;
		}
		if (map->epoch > o->map->epoch &&
		    (!o->pending_map || map->epoch > o->pending_map->epoch)) {
			if (!o->pending_map)
				o->pending_due_ns = now_mono_ns() + o->delay_maps_ns;
			osdmap_put(o->pending_map);
			o->pending_map = osdmap_get(map);
		}
		pthread_mutex_unlock(&o->lock);
		return;
	}
	apply_map(o, map);
}

static void apply_map(struct objecter *o, struct osdmap *map)
{
	struct objecter_op *op, *next, *dlist = NULL;

	pthread_mutex_lock(&o->lock);
	if (o->map && map->epoch <= o->map->epoch) {
		pthread_mutex_unlock(&o->lock);
		return;
	}
	osdmap_put(o->map);
	o->map = osdmap_get(map);
	/* drop sessions whose OSD went down or moved */
	for (int i = 0; i < o->nsessions; i++) {
		struct osd_session *s = o->sessions[i];
		const struct osd_info *oi;
		if (!s || !s->conn)
			continue;
		oi = osdmap_osd(map, i);
		if (!oi || !osd_info_up(oi) || strcmp(oi->addr, s->addr))
			session_close_locked(o, s);
	}
	/* re-target every op: waiting ones try again, sent ones move if their primary did */
	for (op = o->ops_head; op; op = next) {
		int osd = -1, r;

		next = op->next;
		if (op->state == OP_WAIT) {
			enqueue_locked(o, op);
			continue;
		}
		if (op->state != OP_SENT)
			continue;
		r = calc_target_locked(o, op, &osd);
		if (r == 0 && osd == op->target_osd && op->sess && op->sess->conn)
			continue;
		if (r < 0) {
			if (end_op_locked(o, op, r)) {
				op->qnext = dlist;
				dlist = op;
			}
			continue;
		}
		CLOG_DEBUG("objecter", "epoch %u: tid %llu moves from osd.%d to osd.%d", map->epoch,
			   (unsigned long long)op->tid, op->target_osd, osd);
		enqueue_locked(o, op);
	}
	pthread_mutex_unlock(&o->lock);
	while (dlist) {
		op = dlist;
		dlist = op->qnext;
		op->qnext = NULL;
		deliver(op);
	}
	flush_sends(o);
}

struct osdmap *objecter_get_map(struct objecter *o)
{
	struct osdmap *m;

	pthread_mutex_lock(&o->lock);
	m = o->map ? osdmap_get(o->map) : NULL;
	pthread_mutex_unlock(&o->lock);
	return m;
}

void objecter_get_stats(struct objecter *o, struct cairn_stats *st)
{
	pthread_mutex_lock(&o->lock);
	*st = o->stats;
	st->osdmap_epoch = o->map ? o->map->epoch : 0;
	st->inflight = (uint32_t)o->outstanding;
	pthread_mutex_unlock(&o->lock);
}

int objecter_inflight(struct objecter *o)
{
	int n;

	pthread_mutex_lock(&o->lock);
	n = o->outstanding;
	pthread_mutex_unlock(&o->lock);
	return n;
}

void objecter_flush(struct objecter *o)
{
	pthread_mutex_lock(&o->lock);
	while (o->outstanding > 0)
		pthread_cond_wait(&o->cond, &o->lock);
	pthread_mutex_unlock(&o->lock);
}

/* ---- timer: deadlines and backoff ------------------------------------------------------- */

static void *timer_main(void *arg)
{
	struct objecter *o = arg;

	pthread_mutex_lock(&o->lock);
	while (!o->stopping) {
		struct timespec ts;
		uint64_t now, wake;
		struct objecter_op *op, *next, *dlist = NULL;
		uint32_t want = 0;

		clock_gettime(CLOCK_REALTIME, &ts);
		wake = (uint64_t)ts.tv_nsec + o->tick_ns;
		ts.tv_sec += (time_t)(wake / 1000000000ull);
		ts.tv_nsec = (long)(wake % 1000000000ull);
		pthread_cond_timedwait(&o->timer_cond, &o->lock, &ts);
		if (o->stopping)
			break;
		now = now_mono_ns();
		for (op = o->ops_head; op; op = next) {
			next = op->next;
			if (op->deadline_ns && now >= op->deadline_ns) {
				struct osd_session *s = op->state == OP_SENT ? op->sess : NULL;
				CLOG_INFO("objecter", "tid %llu (%s) timed out after %d attempts",
					  (unsigned long long)op->tid, op->req.oid, op->attempts);
				if (end_op_locked(o, op, -ETIMEDOUT)) {
					op->qnext = dlist; /* not queued any more: reuse the link */
					dlist = op;
				} else if (s) {
					/* a send of it is stuck in a connection: close it so the
					 * messenger releases the op's buffers */
					session_close_locked(o, s);
				}
				continue;
			}
			if (op->state == OP_WAIT && now >= op->next_try_ns) {
				if (op->min_epoch && (!o->map || o->map->epoch < op->min_epoch)) {
					if (op->min_epoch > want)
						want = op->min_epoch;
					op->next_try_ns = now + o->backoff_max_ns;
					continue;
				}
				enqueue_locked(o, op);
			}
		}
		struct osdmap *due = NULL;
		if (o->pending_map && now >= o->pending_due_ns) {
			due = o->pending_map;
			o->pending_map = NULL;
		}
		pthread_mutex_unlock(&o->lock);
		while (dlist) {
			op = dlist;
			dlist = op->qnext;
			op->qnext = NULL;
			deliver(op);
		}
		if (due) {
			apply_map(o, due);
			osdmap_put(due);
		}
		if (want)
			monc_note_epoch(o->monc, want);
		flush_sends(o);
		pthread_mutex_lock(&o->lock);
	}
	pthread_mutex_unlock(&o->lock);
	return NULL;
}

/* ---- lifecycle ----------------------------------------------------------------------------- */

struct objecter *objecter_create(const struct objecter_opts *opts)
{
	struct objecter *o = calloc(1, sizeof(*o));
	double t;

	if (!o)
		return NULL;
	pthread_mutex_init(&o->lock, NULL);
	{
		pthread_condattr_t ca;
		pthread_condattr_init(&ca);
		pthread_cond_init(&o->cond, &ca);
		pthread_cond_init(&o->timer_cond, &ca);
		pthread_condattr_destroy(&ca);
	}
	o->msgr = opts->msgr;
	o->monc = opts->monc;
	o->conf = opts->conf;
	o->client_num = opts->client_num;
	t = conf_double(o->conf, "client_op_timeout");
	o->op_timeout_ns = t > 0 ? (uint64_t)(t * 1e9) : 0;
	o->backoff_ns = (uint64_t)conf_int(o->conf, "client_op_resend_backoff_ms") * 1000000ull;
	o->backoff_max_ns = (uint64_t)conf_int(o->conf, "client_op_resend_backoff_max_ms") *
			    1000000ull;
	if (o->backoff_max_ns < o->backoff_ns)
		o->backoff_max_ns = o->backoff_ns;
	o->tick_ns = (uint64_t)conf_int(o->conf, "client_tick_ms") * 1000000ull;
	o->max_inflight = (int)conf_int(o->conf, "client_max_inflight_ops");
	o->max_inflight_bytes = (uint64_t)conf_int(o->conf, "client_max_inflight_bytes");
	o->delay_maps_ns = (uint64_t)conf_int(o->conf, "client_debug_delay_maps_ms") * 1000000ull;
	return o;
}

void objecter_set_monc(struct objecter *o, struct monc *mc)
{
	pthread_mutex_lock(&o->lock);
	o->monc = mc;
	pthread_mutex_unlock(&o->lock);
}

int objecter_start(struct objecter *o)
{
	int r = pthread_create(&o->timer, NULL, timer_main, o);

	if (r)
		return -r;
	o->timer_started = true;
	return 0;
}

void objecter_shutdown(struct objecter *o)
{
	struct objecter_op *dlist = NULL, *op;

	pthread_mutex_lock(&o->lock);
	o->stopping = true;
	pthread_cond_broadcast(&o->cond);
	pthread_cond_broadcast(&o->timer_cond);
	pthread_mutex_unlock(&o->lock);
	if (o->timer_started) {
		pthread_join(o->timer, NULL);
		o->timer_started = false;
	}
	pthread_mutex_lock(&o->lock);
	while ((op = o->ops_head)) {
		if (end_op_locked(o, op, -ESHUTDOWN)) {
			op->qnext = dlist;
			dlist = op;
		}
	}
	o->sq_head = o->sq_tail = NULL;
	for (int i = 0; i < o->nsessions; i++)
		if (o->sessions[i])
			session_close_locked(o, o->sessions[i]);
	pthread_mutex_unlock(&o->lock);
	while (dlist) {
		op = dlist;
		dlist = op->qnext;
		deliver(op);
	}
}

void objecter_destroy(struct objecter *o)
{
	if (!o)
		return;
	for (int i = 0; i < o->nsessions; i++) {
		if (o->sessions[i] && o->sessions[i]->conn)
			msg_conn_put(o->sessions[i]->conn);
		free(o->sessions[i]);
	}
	free(o->sessions);
	osdmap_put(o->map);
	osdmap_put(o->pending_map);
	pthread_cond_destroy(&o->cond);
	pthread_cond_destroy(&o->timer_cond);
	pthread_mutex_destroy(&o->lock);
	free(o);
}
