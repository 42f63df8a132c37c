/*
 * msg — the messenger core: connections, sessions, queues and workers (see msg.h for the
 * contract, msg_frame.h for the wire format, msg_int.h for the transport seam).
 *
 * Threads. A messenger owns nworkers threads, each running one libev loop. A connection is
 * pinned to one worker for life; everything in struct msg_conn marked "loop" is touched only
 * on that worker's thread. Other threads talk to a connection through c->lock: they append
 * to c->pend (msg_send) or set a want_* flag (msg_conn_close, msgr_connect), and "kick" the
 * connection: it is put on its worker's kick list and the worker is woken by ev_async (or by
 * ev_feed_event when the caller already runs on that loop, so a send from a dispatch callback
 * costs no syscall and is written in the same loop iteration). The worker moves c->pend into
 * c->outq, assigning sequence numbers, and writes.
 *
 * Connection states (c->state, loop):
 *
 *   NEW --conn_start_connect--> CONNECTING --conn_connected--> HANDSHAKE
 *   HANDSHAKE --conn_handshake_reply--> OPEN          (connector)
 *   NEW/WAIT --conn_attach--> OPEN                    (acceptor: a HELLO arrived on worker 0)
 *   CONNECTING/HANDSHAKE/OPEN --conn_fail--> WAIT     (lossless: socket gone, queue kept;
 *                                                      the connector retries after a backoff)
 *   WAIT --conn_retry_cb--> CONNECTING                (lossless connector)
 *   any --conn_shutdown--> CLOSED                     (lossy failure, msg_conn_close, CLOSE
 *                                                      frame, remote reset of a stale session)
 *
 * Lossless delivery. Each direction numbers its messages 1, 2, ... per session. A written
 * message moves from outq to sentq and is released only when the peer acknowledges its
 * seq (ack_seq of any frame, or an ACK frame sent after each read burst). After a reconnect
 * both HELLOs carry in_seq, the last seq received; each side drops what the other has and
 * re-sends the rest (sentq back in front of outq), and a receiver drops seq <= in_seq, so
 * every message is dispatched exactly once, in order. The acceptor finds the session by the
 * connector's random session id (sid). A new peer nonce or a RESET flag ends the session:
 * queues are dropped and ops->remote_reset runs.
 *
 * Lifetime. c->ref counts the registry (m->conns, dropped at CLOSED through the worker's
 * graveyard, after the current callback has returned), the user's references and pending
 * kicks/attaches. Memory bounds: ms_max_out_bytes per connection on the send side (callers
 * on non-loop threads block), ms_dispatch_throttle_bytes per messenger on the receive side
 * (reading stops until msg_free brings it back under).
 */
#include "common/msg.h"

#include <ev.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <arpa/inet.h>

#include "common/config.h"
#include "common/log.h"
#include "common/msg_frame.h"
#include "common/msg_int.h"
#include "common/msg_types.h"
#include "common/util.h"

#define MSG_IOV_MAX 512
#define MSG_WRITE_BATCH (8u << 20) /* bytes offered to one sendmsg */
#define MSG_CTL_CAP (MSG_FRAME_HDR_LEN + MSG_HELLO_MAX + 256)
#define MSG_DIRECT_READ (64u << 10) /* data remainders this big are read straight into place */

enum conn_state { CS_NEW, CS_CONNECTING, CS_HANDSHAKE, CS_OPEN, CS_WAIT, CS_CLOSED };
static const char *const state_names[] = { "new", "connecting", "handshake", "open", "wait",
					   "closed" };

/* One outgoing message: header, copied front and the caller's data iovecs. */
struct outm {
	struct outm *next;
	uint64_t seq;
	uint64_t bytes; /* header + front + data */
	struct msg_frame f;
	int hdr_built;
	int niov;
	void (*release)(void *arg);
	void *release_arg;
	uint8_t hdr[MSG_FRAME_HDR_LEN];
	struct iovec iov[]; /* niov entries (header, front, data...), then the front bytes */
};

struct oq {
	struct outm *head, *tail;
};

/* Receive-side throttle shared by the messenger and the messages it handed out. */
struct msg_throttle {
	atomic_int_fast64_t bytes;  /* dispatched, not yet freed */
	int64_t limit;              /* 0: none */
	atomic_int refs;            /* messenger + outstanding messages */
	atomic_int stalled;         /* connections that stopped reading */
	pthread_mutex_t lock;       /* protects m */
	struct msgr *m;             /* NULL once the messenger is gone */
};

struct msg_in {
	struct msg m;
	struct msg_throttle *thr;
	uint64_t charge;
	/* front bytes follow */
};

struct msg_attach {
	struct msg_attach *next;
	struct msg_conn *c; /* holds a ref */
	int fd;
	char sock_peer[64];
	struct msg_hello h;
};

/* An accepted socket whose HELLO is still being read (worker 0). */
struct msg_pacc {
	struct msg_pacc *next, *prev;
	struct msgr *m;
	int fd;
	ev_io io;
	uint64_t start_ns;
	size_t have, need;
	char sock_peer[64];
	uint8_t buf[MSG_FRAME_HDR_LEN + MSG_HELLO_MAX];
};

struct msg_worker {
	struct msgr *m;
	int idx;
	pthread_t thread;
	int thread_started;
	struct ev_loop *loop;
	ev_async wake;
	ev_timer tick;
	ev_check reap;
	pthread_mutex_t lock; /* protects kick, attach, stopping */
	struct msg_conn *kick;
	struct msg_attach *attach;
	int stopping;
	int fed; /* loop: wake already fed from this thread */
	/* loop: */
	struct msg_conn *conns;     /* connections pinned here (c->wnext/wprev) */
	struct msg_conn *throttled; /* stopped reading (c->tnext) */
	struct msg_conn *graveyard; /* closed, registry ref to drop (c->gnext) */
	struct msg_pacc *paccs;     /* worker 0 */
	struct iovec iov[MSG_IOV_MAX];
};

struct msg_conn {
	atomic_int ref;
	struct msgr *m;
	struct msg_worker *w;
	int policy;
	int outgoing;    /* we connect (and reconnect) */
	char addr[64];   /* connector: target "IP:PORT" */
	struct sockaddr_in sa;
	uint64_t sid;    /* session id (chosen by the connector) */
	uint64_t max_msg, max_out;
	int crc_data;

	pthread_mutex_t lock; /* protects the fields up to "loop" */
	pthread_cond_t cond;  /* senders waiting for unwritten < max_out */
	struct oq pend;
	uint64_t unwritten;   /* bytes in pend + outq */
	int waiters;
	int kicked, want_start, want_close, want_remote_reset;
	atomic_int closed;
	struct msg_conn *knext; /* worker kick list */

	/* loop: */
	enum conn_state state;
	int fd;
	ev_io rio, wio;
	ev_timer retry;
	double backoff;
	struct oq outq, sentq;
	uint64_t woff;     /* bytes of outq.head already written */
	uint64_t out_seq;  /* last seq assigned */
	uint64_t in_seq;   /* last seq received */
	uint64_t acked_in; /* last in_seq we acknowledged */
	uint64_t last_rx_ns, last_tx_ns, connect_ns;
	int64_t inj_left;
	uint8_t ctl[MSG_CTL_CAP];
	uint32_t ctl_len, ctl_off;
	uint8_t *rbuf;
	size_t rcap, rpos, rlen;
	int rbody; /* reading a frame's payload */
	struct msg_frame rf;
	struct msg_in *rin;
	uint64_t rgot;
	uint32_t rdcrc; /* data CRC so far, computed as bytes land (still in cache) */
	int throttled, on_worker, in_graveyard;
	struct msg_conn *wnext, *wprev, *tnext, *gnext;
	/* set at handshake, read-only after (written before any reader may look) */
	struct msg_entity peer;
	uint64_t peer_nonce;
	uint64_t features;
	char peer_addr[64];
	char sock_peer[64];
	void *priv;
	struct msg_conn *mnext, *mprev; /* m->conns, under m->lock */
};

struct msgr_stats_atomic {
	atomic_uint_fast64_t msgs_sent, msgs_recv, bytes_sent, bytes_recv, connects, accepts,
		failures, injected, bad_frames, resent, dups, remote_resets, throttle_stalls;
};

struct msgr {
	struct msg_entity me;
	char me_str[32];
	uint64_t nonce;
	uint64_t features;
	const struct msgr_ops *ops;
	void *arg;
	const struct msg_transport *tr;
	struct msg_sockopts so;
	int nworkers;
	uint64_t max_msg, max_out, rbuf_size;
	int crc_data;
	uint64_t ka_ns, idle_ns, connect_ns;
	double backoff_min, backoff_max;
	int64_t inject;
	struct msg_worker *w;
	atomic_uint rr;
	int started;
	pthread_mutex_t lock; /* protects conns */
	struct msg_conn *conns;
	int lfd;
	ev_io lio;
	char addr[64];
	struct msg_throttle *thr;
	struct msgr_stats_atomic st;
};

static __thread struct msg_worker *cur_worker;

#define STAT_ADD(m, f, n) atomic_fetch_add_explicit(&(m)->st.f, (n), memory_order_relaxed)

static void conn_flush(struct msg_conn *c);
static void conn_fail(struct msg_conn *c, int err, const char *why);
static void conn_shutdown(struct msg_conn *c, int call_reset);
static int conn_parse(struct msg_conn *c);
static void conn_read(struct msg_conn *c);

/* ---- small helpers ---- */

const char *msg_entity_str(const struct msg_entity *e, char *buf, size_t len)
{
	static const char *const names[] = { "?", "mon", "osd", "mds", "client" };
	const char *t = e->type <= MSG_ENTITY_CLIENT ? names[e->type] : "?";

	snprintf(buf, len, "%s.%lld", t, (long long)e->num);
	return buf;
}

static void oq_push(struct oq *q, struct outm *o)
{
	o->next = NULL;
	if (q->tail)
		q->tail->next = o;
	else
		q->head = o;
	q->tail = o;
}

static struct outm *oq_pop(struct oq *q)
{
	struct outm *o = q->head;

	if (o) {
		q->head = o->next;
		if (!q->head)
			q->tail = NULL;
		o->next = NULL;
	}
	return o;
}

/* q = a ++ q; a is left empty. */
static void oq_prepend(struct oq *q, struct oq *a)
{
	if (!a->head)
		return;
	a->tail->next = q->head;
	if (!q->tail)
		q->tail = a->tail;
	q->head = a->head;
	a->head = a->tail = NULL;
}

static void outm_release(struct outm *o)
{
	if (o->release)
		o->release(o->release_arg);
	free(o);
}

static void oq_release(struct oq *q)
{
	struct outm *o;

	while ((o = oq_pop(q)))
		outm_release(o);
}

static uint64_t oq_bytes(const struct oq *q)
{
	uint64_t n = 0;

	for (const struct outm *o = q->head; o; o = o->next)
		n += o->bytes;
	return n;
}

static const char *conn_name(const struct msg_conn *c, char *buf, size_t len)
{
	char e[32];

	if (c->peer.type)
		snprintf(buf, len, "%s@%s", msg_entity_str(&c->peer, e, sizeof(e)),
			 c->sock_peer[0] ? c->sock_peer : c->addr);
	else
		snprintf(buf, len, "%s", c->sock_peer[0] ? c->sock_peer : c->addr);
	return buf;
}

static void addr_str(const struct sockaddr_in *sa, char *buf, size_t len)
{
	char ip[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &sa->sin_addr, ip, sizeof(ip));
	snprintf(buf, len, "%s:%u", ip, ntohs(sa->sin_port));
}

static uint64_t random_u64_nonzero(void)
{
	uint64_t v = 0;

	while (!v)
		if (getrandom(&v, sizeof(v), 0) != sizeof(v))
			v = rand_u64();
	return v;
}

static void conn_get_(struct msg_conn *c)
{
	atomic_fetch_add(&c->ref, 1);
}

struct msg_conn *msg_conn_get(struct msg_conn *c)
{
	conn_get_(c);
	return c;
}

static void conn_free(struct msg_conn *c)
{
	free(c->rbuf);
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->cond);
	free(c);
}

void msg_conn_put(struct msg_conn *c)
{
	if (c && atomic_fetch_sub(&c->ref, 1) == 1)
		conn_free(c);
}

int msg_conn_is_open(const struct msg_conn *c)
{
	return !atomic_load(&((struct msg_conn *)c)->closed);
}

const struct msg_entity *msg_conn_peer(const struct msg_conn *c)
{
	return &c->peer;
}

const char *msg_conn_peer_addr(const struct msg_conn *c)
{
	return c->peer_addr;
}

uint64_t msg_conn_features(const struct msg_conn *c)
{
	return c->features;
}

void msg_conn_set_priv(struct msg_conn *c, void *priv)
{
	c->priv = priv;
}

void *msg_conn_get_priv(const struct msg_conn *c)
{
	return c->priv;
}

/* ---- received messages and the dispatch throttle ---- */

static void thr_put(struct msg_throttle *t)
{
	if (atomic_fetch_sub(&t->refs, 1) == 1) {
		pthread_mutex_destroy(&t->lock);
		free(t);
	}
}

void msg_free(struct msg *mm)
{
	struct msg_in *in = (struct msg_in *)mm;
	struct msg_throttle *t;
	int64_t left, charge;

	if (!mm)
		return;
	t = in->thr;
	charge = (int64_t)in->charge;
	free(mm->data);
	free(in);
	if (!t)
		return;
	left = atomic_fetch_sub(&t->bytes, charge) - charge;
	if (t->limit && left <= t->limit && atomic_load(&t->stalled) > 0) {
		pthread_mutex_lock(&t->lock);
		if (t->m)
			for (int i = 0; i < t->m->nworkers; i++)
				ev_async_send(t->m->w[i].loop, &t->m->w[i].wake);
		pthread_mutex_unlock(&t->lock);
	}
	thr_put(t);
}

void *msg_steal_data(struct msg *m, uint64_t *len)
{
	void *d = m->data;

	if (len)
		*len = m->data_len;
	m->data = NULL;
	m->data_len = 0;
	return d;
}

static void conn_throttle(struct msg_conn *c)
{
	struct msg_worker *w = c->w;

	if (c->throttled)
		return;
	c->throttled = 1;
	ev_io_stop(w->loop, &c->rio);
	c->tnext = w->throttled;
	w->throttled = c;
	atomic_fetch_add(&c->m->thr->stalled, 1);
	STAT_ADD(c->m, throttle_stalls, 1);
}

static void conn_unthrottle_unlink(struct msg_conn *c)
{
	struct msg_conn **pp;

	if (!c->throttled)
		return;
	for (pp = &c->w->throttled; *pp; pp = &(*pp)->tnext)
		if (*pp == c) {
			*pp = c->tnext;
			break;
		}
	c->throttled = 0;
	atomic_fetch_sub(&c->m->thr->stalled, 1);
}

static void worker_resume_throttled(struct msg_worker *w)
{
	struct msg_throttle *t = w->m->thr;
	struct msg_conn *c;

	while ((c = w->throttled) && atomic_load(&t->bytes) <= t->limit) {
		w->throttled = c->tnext;
		c->throttled = 0;
		atomic_fetch_sub(&t->stalled, 1);
		conn_get_(c);
		if (conn_parse(c) == 0 && !c->throttled &&
		    (c->state == CS_OPEN || c->state == CS_HANDSHAKE)) {
			ev_io_start(w->loop, &c->rio);
			conn_read(c);
		}
		msg_conn_put(c);
	}
}

/* ---- lifecycle pieces (loop thread) ---- */

static void conn_bury(struct msg_conn *c)
{
	struct msg_worker *w = c->w;

	if (c->in_graveyard)
		return;
	c->in_graveyard = 1;
	c->gnext = w->graveyard;
	w->graveyard = c;
}

static void worker_unlink(struct msg_conn *c)
{
	struct msg_worker *w = c->w;

	if (!c->on_worker)
		return;
	if (c->wprev)
		c->wprev->wnext = c->wnext;
	else
		w->conns = c->wnext;
	if (c->wnext)
		c->wnext->wprev = c->wprev;
	c->wnext = c->wprev = NULL;
	c->on_worker = 0;
}

static void worker_link(struct msg_conn *c)
{
	struct msg_worker *w = c->w;

	if (c->on_worker)
		return;
	c->wprev = NULL;
	c->wnext = w->conns;
	if (w->conns)
		w->conns->wprev = c;
	w->conns = c;
	c->on_worker = 1;
}

static void conn_reset_read(struct msg_conn *c)
{
	if (c->rin) {
		free(c->rin->m.data);
		free(c->rin);
		c->rin = NULL;
	}
	c->rbody = 0;
	c->rgot = 0;
	c->rpos = c->rlen = 0;
}

/* Closes the socket; for a lossless connection puts every unacked message back in
 * front of outq for re-sending. */
static void conn_drop_socket(struct msg_conn *c)
{
	struct msg_worker *w = c->w;
	uint64_t requeued;

	ev_io_stop(w->loop, &c->rio);
	ev_io_stop(w->loop, &c->wio);
	conn_unthrottle_unlink(c);
	if (c->fd >= 0) {
		c->m->tr->close(c->fd);
		c->fd = -1;
	}
	conn_reset_read(c);
	c->ctl_len = c->ctl_off = 0;
	c->woff = 0;
	requeued = oq_bytes(&c->sentq);
	oq_prepend(&c->outq, &c->sentq);
	for (struct outm *o = c->outq.head; o; o = o->next)
		o->hdr_built = 0;
	if (requeued) {
		pthread_mutex_lock(&c->lock);
		c->unwritten += requeued;
		pthread_mutex_unlock(&c->lock);
	}
}

/* Drops every queued message (session over). */
static void conn_drop_queues(struct msg_conn *c)
{
	struct oq pend;

	pthread_mutex_lock(&c->lock);
	pend = c->pend;
	c->pend.head = c->pend.tail = NULL;
	c->unwritten = 0;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
	oq_release(&pend);
	oq_release(&c->outq);
	oq_release(&c->sentq);
	c->woff = 0;
}

/* Terminal: CLOSED. Releases everything; the registry ref goes at the end of the loop
 * iteration (conn_bury), so callers may still look at c until they return. */
static void conn_shutdown(struct msg_conn *c, int call_reset)
{
	struct msgr *m = c->m;
	char nb[96];

	if (c->state == CS_CLOSED)
		return;
	CLOG_DEBUG("msg", "%s: closed (%s, was %s)", conn_name(c, nb, sizeof(nb)),
		   c->policy == MSG_LOSSLESS ? "lossless" : "lossy", state_names[c->state]);
	conn_drop_socket(c);
	ev_timer_stop(c->w->loop, &c->retry);
	c->state = CS_CLOSED;
	pthread_mutex_lock(&c->lock);
	atomic_store(&c->closed, 1);
	pthread_mutex_unlock(&c->lock);
	conn_drop_queues(c);
	worker_unlink(c);
	pthread_mutex_lock(&m->lock);
	if (c->mprev)
		c->mprev->mnext = c->mnext;
	else if (m->conns == c)
		m->conns = c->mnext;
	if (c->mnext)
		c->mnext->mprev = c->mprev;
	c->mnext = c->mprev = NULL;
	pthread_mutex_unlock(&m->lock);
	if (call_reset && m->ops && m->ops->reset)
		m->ops->reset(c, m->arg);
	conn_bury(c);
}

static void conn_session_reset(struct msg_conn *c)
{
	char nb[96];

	CLOG_INFO("msg", "%s: peer session reset, dropping unacked messages",
		  conn_name(c, nb, sizeof(nb)));
	conn_drop_queues(c);
	c->out_seq = c->in_seq = c->acked_in = 0;
	STAT_ADD(c->m, remote_resets, 1);
}

/* The peer has everything up to peer_in_seq: release those, count the rest as re-sent. */
static void conn_drop_acked(struct msg_conn *c, uint64_t peer_in_seq)
{
	uint64_t dropped = 0, resent = 0;
	struct outm *o;

	while (c->outq.head && c->outq.head->seq && c->outq.head->seq <= peer_in_seq) {
		o = oq_pop(&c->outq);
		dropped += o->bytes;
		outm_release(o);
	}
	for (o = c->outq.head; o && o->seq; o = o->next)
		resent++;
	if (dropped) {
		pthread_mutex_lock(&c->lock);
		c->unwritten -= dropped;
		if (c->waiters)
			pthread_cond_broadcast(&c->cond);
		pthread_mutex_unlock(&c->lock);
	}
	STAT_ADD(c->m, resent, resent);
}

static void conn_schedule_retry(struct msg_conn *c)
{
	double d = c->backoff;

	c->backoff = c->backoff * 2 > c->m->backoff_max ? c->m->backoff_max : c->backoff * 2;
	if (c->backoff < c->m->backoff_min)
		c->backoff = c->m->backoff_min;
	ev_timer_stop(c->w->loop, &c->retry);
	ev_timer_set(&c->retry, d, 0.);
	ev_timer_start(c->w->loop, &c->retry);
}

static void conn_fail(struct msg_conn *c, int err, const char *why)
{
	char nb[96];

	if (c->state == CS_CLOSED)
		return;
	STAT_ADD(c->m, failures, 1);
	CLOG_DEBUG("msg", "%s: %s (%s) in state %s", conn_name(c, nb, sizeof(nb)), why,
		   cairn_strerror(err), state_names[c->state]);
	if (c->policy == MSG_LOSSY) {
		conn_shutdown(c, 1);
		return;
	}
	conn_drop_socket(c);
	c->state = CS_WAIT;
	if (c->outgoing)
		conn_schedule_retry(c);
}

/* A malformed frame: one log line, and only this connection goes. */
static void conn_bad_frame(struct msg_conn *c, int err, const char *why)
{
	char nb[96];

	STAT_ADD(c->m, bad_frames, 1);
	CLOG_WARN("msg", "%s: malformed frame: %s; closing connection",
		  conn_name(c, nb, sizeof(nb)), why);
	if (c->policy == MSG_LOSSLESS && !c->outgoing) {
		/* the acceptor cannot reconnect and must not trust this peer's stream */
		conn_shutdown(c, 1);
		return;
	}
	conn_fail(c, err, why);
}

static int inject_now(struct msg_conn *c)
{
	int64_t n = c->m->inject;

	if (n <= 0)
		return 0;
	if (c->inj_left <= 0)
		c->inj_left = 1 + (int64_t)(rand_u64() % (uint64_t)(2 * n));
	if (--c->inj_left > 0)
		return 0;
	STAT_ADD(c->m, injected, 1);
	return 1;
}

/* ---- control frames ---- */

static void ctl_frame(struct msg_conn *c, uint8_t tag, uint64_t tid, const void *front,
		      uint32_t front_len)
{
	struct msg_frame f;

	if (c->ctl_len + MSG_FRAME_HDR_LEN + front_len > sizeof(c->ctl))
		return; /* acks and keepalives are idempotent; a later one will do */
	memset(&f, 0, sizeof(f));
	f.tag = tag;
	f.tid = tid;
	f.front_len = front_len;
	f.ack_seq = c->in_seq;
	if (front_len)
		f.front_crc = msg_crc32c(0, front, front_len);
	if (tag == MSG_TAG_ACK || front_len)
		c->acked_in = c->in_seq;
	msg_frame_encode(&f, c->ctl + c->ctl_len);
	if (front_len)
		memcpy(c->ctl + c->ctl_len + MSG_FRAME_HDR_LEN, front, front_len);
	c->ctl_len += MSG_FRAME_HDR_LEN + front_len;
}

static void ctl_hello(struct msg_conn *c, uint8_t tag, uint8_t flags)
{
	struct msgr *m = c->m;
	struct msg_hello *h;
	struct cbuf b;

	h = calloc(1, sizeof(*h));
	if (!h)
		return;
	h->me = m->me;
	h->nonce = m->nonce;
	h->features = m->features;
	snprintf(h->addr, sizeof(h->addr), "%s", m->addr);
	h->policy = (uint8_t)c->policy;
	h->flags = flags;
	h->sid = c->sid;
	h->peer_nonce = c->peer_nonce;
	h->in_seq = c->in_seq;
	if (m->ops && m->ops->get_authorizer) {
		h->auth_len = m->ops->get_authorizer(h->auth, MSG_AUTH_MAX, m->arg);
		if (h->auth_len > MSG_AUTH_MAX)
			h->auth_len = 0;
	}
	cbuf_init(&b);
	msg_hello_encode(&b, h);
	if (!b.err)
		ctl_frame(c, tag, 0, b.data, (uint32_t)b.len);
	cbuf_free(&b);
	free(h);
}

static void conn_handle_ack(struct msg_conn *c, uint64_t ack)
{
	struct outm *o;

	while (c->sentq.head && c->sentq.head->seq <= ack) {
		o = oq_pop(&c->sentq);
		outm_release(o);
	}
}

/* ---- writing (loop thread) ---- */

static void build_hdr(struct msg_conn *c, struct outm *o)
{
	o->f.seq = o->seq;
	o->f.ack_seq = c->in_seq;
	c->acked_in = c->in_seq;
	msg_frame_encode(&o->f, o->hdr);
	o->hdr_built = 1;
}

static void conn_flush(struct msg_conn *c)
{
	struct msg_worker *w = c->w;
	struct msgr *m = c->m;
	struct iovec *iov = w->iov;

	if (c->fd < 0 || (c->state != CS_OPEN && c->state != CS_HANDSHAKE))
		return;
	for (int round = 0; round < 16; round++) {
		uint64_t total = 0, skip = c->woff, done_bytes = 0, left;
		uint32_t ctl_part = 0;
		int n = 0, done_msgs = 0;
		ssize_t r;

		if (c->ctl_off < c->ctl_len && c->woff == 0) {
			ctl_part = c->ctl_len - c->ctl_off;
			iov[n].iov_base = c->ctl + c->ctl_off;
			iov[n++].iov_len = ctl_part;
			total += ctl_part;
		}
		if (c->state == CS_OPEN) {
			for (struct outm *o = c->outq.head; o && n < MSG_IOV_MAX; o = o->next) {
				if (!o->hdr_built)
					build_hdr(c, o);
				for (int i = 0; i < o->niov && n < MSG_IOV_MAX; i++) {
					uint64_t len = o->iov[i].iov_len;

					if (skip >= len) {
						skip -= len;
						continue;
					}
					iov[n].iov_base = (uint8_t *)o->iov[i].iov_base + skip;
					iov[n++].iov_len = len - skip;
					total += len - skip;
					skip = 0;
				}
				if (total >= MSG_WRITE_BATCH)
					break;
			}
		}
		if (!n) {
			ev_io_stop(w->loop, &c->wio);
			return;
		}
		r = m->tr->sendv(c->fd, iov, n);
		if (r == -EAGAIN) {
			ev_io_start(w->loop, &c->wio);
			return;
		}
		if (r < 0) {
			conn_fail(c, (int)r, "write failed");
			return;
		}
		c->last_tx_ns = now_mono_ns();
		STAT_ADD(m, bytes_sent, (uint64_t)r);
		left = (uint64_t)r;
		if (ctl_part) {
			uint64_t k = left < ctl_part ? left : ctl_part;

			c->ctl_off += (uint32_t)k;
			left -= k;
			if (c->ctl_off == c->ctl_len)
				c->ctl_off = c->ctl_len = 0;
		}
		while (left && c->outq.head) {
			struct outm *o = c->outq.head;
			uint64_t rem = o->bytes - c->woff;

			if (left < rem) {
				c->woff += left;
				break;
			}
			left -= rem;
			c->woff = 0;
			oq_pop(&c->outq);
			done_bytes += o->bytes;
			done_msgs++;
			if (c->policy == MSG_LOSSLESS)
				oq_push(&c->sentq, o);
			else
				outm_release(o);
		}
		if (done_msgs) {
			STAT_ADD(m, msgs_sent, (uint64_t)done_msgs);
			pthread_mutex_lock(&c->lock);
			c->unwritten -= done_bytes;
			if (c->waiters && c->unwritten <= c->max_out)
				pthread_cond_broadcast(&c->cond);
			pthread_mutex_unlock(&c->lock);
		}
		if ((uint64_t)r < total) {
			ev_io_start(w->loop, &c->wio);
			return;
		}
	}
	ev_io_start(w->loop, &c->wio); /* more to write: continue next iteration */
}

/* ---- reading (loop thread) ---- */

static int conn_deliver(struct msg_conn *c, struct msg_in *in)
{
	struct msgr *m = c->m;
	const struct msg_frame *f = &c->rf;
	char nb[96];

	if (f->seq <= c->in_seq && c->policy == MSG_LOSSLESS) {
		STAT_ADD(m, dups, 1);
		free(in->m.data);
		free(in);
		return 0;
	}
	if (f->seq != c->in_seq + 1) {
		free(in->m.data);
		free(in);
		CLOG_WARN("msg", "%s: sequence gap (got %llu after %llu); closing",
			  conn_name(c, nb, sizeof(nb)), (unsigned long long)f->seq,
			  (unsigned long long)c->in_seq);
		STAT_ADD(m, bad_frames, 1);
		conn_shutdown(c, 1);
		return -1;
	}
	c->in_seq = f->seq;
	in->m.type = f->type;
	in->m.prio = f->prio;
	in->m.tid = f->tid;
	in->m.seq = f->seq;
	in->m.front_len = f->front_len;
	in->m.data_len = f->data_len;
	in->charge = f->front_len + f->data_len;
	in->thr = m->thr;
	atomic_fetch_add(&m->thr->refs, 1);
	atomic_fetch_add(&m->thr->bytes, (int64_t)in->charge);
	STAT_ADD(m, msgs_recv, 1);
	if (m->ops && m->ops->dispatch)
		m->ops->dispatch(c, &in->m, m->arg);
	else
		msg_free(&in->m);
	if (c->state == CS_CLOSED)
		return -1;
	if (inject_now(c)) {
		conn_fail(c, -ECONNABORTED, "injected socket failure");
		return -1;
	}
	if (m->thr->limit && atomic_load(&m->thr->bytes) > m->thr->limit)
		conn_throttle(c);
	return 0;
}

static int conn_handshake_reply(struct msg_conn *c, struct msg_in *in)
{
	struct msgr *m = c->m;
	struct msg_hello *h;
	char nb[96];
	int r;

	h = malloc(sizeof(*h));
	if (!h) {
		conn_fail(c, -ENOMEM, "out of memory");
		return -1;
	}
	r = msg_hello_decode(in->m.front, c->rf.front_len, h);
	if (r) {
		conn_bad_frame(c, r, "undecodable hello reply");
		goto fail;
	}
	if (m->ops && m->ops->verify_authorizer &&
	    m->ops->verify_authorizer(&h->me, h->auth, h->auth_len, m->arg)) {
		CLOG_WARN("msg", "%s: peer refused by authorizer", conn_name(c, nb, sizeof(nb)));
		conn_shutdown(c, 1);
		goto fail;
	}
	if (c->peer_nonce && (h->nonce != c->peer_nonce || (h->flags & MSG_HELLO_RESET))) {
		conn_session_reset(c);
		c->peer = h->me;
		c->peer_nonce = h->nonce;
		if (m->ops && m->ops->remote_reset)
			m->ops->remote_reset(c, m->arg);
		if (c->state == CS_CLOSED)
			goto fail;
	} else if (c->peer_nonce) {
		conn_drop_acked(c, h->in_seq);
	}
	c->peer = h->me;
	c->peer_nonce = h->nonce;
	c->features = m->features & h->features;
	snprintf(c->peer_addr, sizeof(c->peer_addr), "%s", h->addr);
	c->state = CS_OPEN;
	c->backoff = m->backoff_min;
	c->last_rx_ns = now_mono_ns();
	STAT_ADD(m, connects, 1);
	CLOG_DEBUG("msg", "%s: open (connector, features %llx)", conn_name(c, nb, sizeof(nb)),
		   (unsigned long long)c->features);
	free(h);
	conn_flush(c);
	return c->state == CS_OPEN ? 0 : -1;
fail:
	free(h);
	return -1;
}

/* Parses whatever rbuf holds (and a payload completed by a direct read). -1: c failed. */
static int conn_parse(struct msg_conn *c)
{
	struct msgr *m = c->m;
	const char *why = NULL;
	int r;

	while ((c->state == CS_OPEN || c->state == CS_HANDSHAKE) && !c->throttled) {
		size_t avail = c->rlen - c->rpos;
		struct msg_frame *f = &c->rf;
		uint64_t total, take;
		struct msg_in *in;

		if (!c->rbody) {
			if (avail < MSG_FRAME_HDR_LEN)
				break;
			r = msg_frame_decode(c->rbuf + c->rpos, m->max_msg, f, &why);
			if (r) {
				conn_bad_frame(c, r, why);
				return -1;
			}
			c->rpos += MSG_FRAME_HDR_LEN;
			if (f->ack_seq && c->state == CS_OPEN)
				conn_handle_ack(c, f->ack_seq);
			switch (f->tag) {
			case MSG_TAG_ACK:
			case MSG_TAG_KEEPALIVE_ACK:
				continue;
			case MSG_TAG_KEEPALIVE:
				ctl_frame(c, MSG_TAG_KEEPALIVE_ACK, f->tid, NULL, 0);
				conn_flush(c);
				if (c->state == CS_CLOSED || c->fd < 0)
					return -1;
				continue;
			case MSG_TAG_CLOSE:
				conn_shutdown(c, 1);
				return -1;
			case MSG_TAG_HELLO_REPLY:
				if (!c->outgoing || c->state != CS_HANDSHAKE) {
					conn_bad_frame(c, -EPROTO, "unexpected hello reply");
					return -1;
				}
				break;
			case MSG_TAG_MSG:
				if (c->state != CS_OPEN) {
					conn_bad_frame(c, -EPROTO, "message before handshake");
					return -1;
				}
				break;
			default:
				conn_bad_frame(c, -EPROTO, "unexpected hello");
				return -1;
			}
			in = malloc(sizeof(*in) + f->front_len);
			if (!in) {
				conn_fail(c, -ENOMEM, "out of memory for a message");
				return -1;
			}
			memset(in, 0, sizeof(*in));
			in->m.front = in + 1;
			if (f->data_len && !(in->m.data = malloc(f->data_len))) {
				free(in);
				conn_fail(c, -ENOMEM, "out of memory for a message");
				return -1;
			}
			c->rin = in;
			c->rgot = 0;
			c->rdcrc = 0;
			c->rbody = 1;
		}
		in = c->rin;
		avail = c->rlen - c->rpos;
		total = f->front_len + f->data_len;
		if (c->rgot < f->front_len && avail) {
			take = f->front_len - c->rgot;
			take = take < avail ? take : avail;
			memcpy((uint8_t *)in->m.front + c->rgot, c->rbuf + c->rpos, take);
			c->rpos += take;
			c->rgot += take;
			avail -= take;
		}
		if (c->rgot >= f->front_len && c->rgot < total && avail) {
			take = total - c->rgot;
			take = take < avail ? take : avail;
			memcpy((uint8_t *)in->m.data + (c->rgot - f->front_len), c->rbuf + c->rpos,
			       take);
			if (f->flags & MSG_FF_DATA_CRC)
				c->rdcrc = msg_crc32c(c->rdcrc, c->rbuf + c->rpos, take);
			c->rpos += take;
			c->rgot += take;
		}
		if (c->rgot < total)
			break;
		c->rin = NULL;
		c->rbody = 0;
		r = msg_frame_check_front(f, in->m.front, &why);
		if (!r && (f->flags & MSG_FF_DATA_CRC) && c->rdcrc != f->data_crc) {
			r = -EBADMSG;
			why = "bad data crc";
		}
		if (r) {
			free(in->m.data);
			free(in);
			conn_bad_frame(c, r, why);
			return -1;
		}
		if (f->tag == MSG_TAG_HELLO_REPLY) {
			r = conn_handshake_reply(c, in);
			free(in);
		} else {
			r = conn_deliver(c, in);
		}
		if (r < 0)
			return -1;
	}
	return c->state == CS_CLOSED || c->fd < 0 ? -1 : 0;
}

static void conn_read(struct msg_conn *c)
{
	struct msgr *m = c->m;

	for (int iter = 0; iter < 8; iter++) {
		struct iovec iov[2];
		uint64_t direct = 0, want;
		int n = 1;
		ssize_t r;

		if (c->throttled || c->fd < 0 || (c->state != CS_OPEN && c->state != CS_HANDSHAKE))
			return;
		if (c->rpos == c->rlen)
			c->rpos = c->rlen = 0;
		if (c->rbody && c->rgot >= c->rf.front_len && c->rpos == c->rlen) {
			uint64_t left = c->rf.front_len + c->rf.data_len - c->rgot;

			if (left >= MSG_DIRECT_READ)
				direct = left;
		}
		if (direct) {
			iov[0].iov_base = (uint8_t *)c->rin->m.data + (c->rgot - c->rf.front_len);
			iov[0].iov_len = direct;
			iov[1].iov_base = c->rbuf;
			iov[1].iov_len = c->rcap;
			n = 2;
		} else {
			if (c->rpos && c->rcap - c->rlen < MSG_FRAME_HDR_LEN * 4) {
				memmove(c->rbuf, c->rbuf + c->rpos, c->rlen - c->rpos);
				c->rlen -= c->rpos;
				c->rpos = 0;
			}
			iov[0].iov_base = c->rbuf + c->rlen;
			iov[0].iov_len = c->rcap - c->rlen;
		}
		want = iov[0].iov_len + (n == 2 ? iov[1].iov_len : 0);
		if (!want)
			break;
		r = m->tr->recvv(c->fd, iov, n);
		if (r == -EAGAIN)
			break;
		if (r < 0) {
			conn_fail(c, (int)r, "read failed");
			return;
		}
		if (r == 0) {
			if (c->rbody || c->rlen > c->rpos)
				conn_bad_frame(c, -EPIPE, "truncated frame");
			else
				conn_fail(c, -ECONNRESET, "connection closed by peer");
			return;
		}
		c->last_rx_ns = now_mono_ns();
		STAT_ADD(m, bytes_recv, (uint64_t)r);
		if (direct) {
			uint64_t d = (uint64_t)r < direct ? (uint64_t)r : direct;

			if (c->rf.flags & MSG_FF_DATA_CRC)
				c->rdcrc = msg_crc32c(c->rdcrc, iov[0].iov_base, d);
			c->rgot += d;
			c->rlen = (size_t)((uint64_t)r - d);
		} else {
			c->rlen += (size_t)r;
		}
		if (conn_parse(c) < 0)
			return;
		if ((uint64_t)r < want)
			break;
	}
	if (c->state == CS_OPEN && c->policy == MSG_LOSSLESS && c->acked_in != c->in_seq) {
		ctl_frame(c, MSG_TAG_ACK, 0, NULL, 0);
		conn_flush(c);
	}
}

static void conn_connected(struct msg_conn *c)
{
	struct msgr *m = c->m;
	int r = m->tr->connect_finish(c->fd);

	if (r) {
		conn_fail(c, r, "connect failed");
		return;
	}
	m->tr->setup(c->fd, &m->so);
	c->state = CS_HANDSHAKE;
	ev_io_start(c->w->loop, &c->rio);
	ctl_hello(c, MSG_TAG_HELLO, c->peer_nonce ? MSG_HELLO_RECONNECT : 0);
	conn_flush(c);
}

static void conn_io_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct msg_conn *c = io->data;

	(void)loop;
	if (revents & EV_READ) {
		conn_read(c);
		return;
	}
	if (c->state == CS_CONNECTING)
		conn_connected(c);
	else
		conn_flush(c);
}

static void conn_start_connect(struct msg_conn *c)
{
	struct msgr *m = c->m;
	int fd;

	if (c->state == CS_CLOSED)
		return;
	c->connect_ns = now_mono_ns();
	fd = m->tr->connect(&c->sa);
	if (fd < 0) {
		c->state = CS_CONNECTING;
		conn_fail(c, fd, "connect failed");
		return;
	}
	c->fd = fd;
	c->state = CS_CONNECTING;
	ev_io_set(&c->rio, fd, EV_READ);
	ev_io_set(&c->wio, fd, EV_WRITE);
	ev_io_start(c->w->loop, &c->wio);
}

static void conn_retry_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct msg_conn *c = t->data;

	(void)loop;
	(void)revents;
	if (c->state == CS_WAIT)
		conn_start_connect(c);
}

/* Acceptor: a HELLO for c arrived on socket fd (c->w's thread). */
static void conn_attach(struct msg_conn *c, int fd, const char *sock_peer,
			const struct msg_hello *h)
{
	struct msgr *m = c->m;
	int resumed = c->peer_nonce != 0, flags = 0;
	char nb[96];

	if (c->state == CS_CLOSED) {
		m->tr->close(fd);
		return;
	}
	worker_link(c);
	if (c->fd >= 0)
		conn_drop_socket(c);
	if (!resumed && (h->flags & MSG_HELLO_RECONNECT) && h->peer_nonce == m->nonce)
		flags = MSG_HELLO_RESET;
	if (resumed)
		conn_drop_acked(c, h->in_seq);
	c->fd = fd;
	snprintf(c->sock_peer, sizeof(c->sock_peer), "%s", sock_peer);
	c->peer = h->me;
	c->peer_nonce = h->nonce;
	c->features = m->features & h->features;
	snprintf(c->peer_addr, sizeof(c->peer_addr), "%s", h->addr);
	c->state = CS_OPEN;
	c->last_rx_ns = c->last_tx_ns = now_mono_ns();
	ev_io_set(&c->rio, fd, EV_READ);
	ev_io_set(&c->wio, fd, EV_WRITE);
	ctl_hello(c, MSG_TAG_HELLO_REPLY, (uint8_t)flags);
	ev_io_start(c->w->loop, &c->rio);
	CLOG_DEBUG("msg", "%s: open (acceptor%s)", conn_name(c, nb, sizeof(nb)),
		   resumed ? ", session resumed" : "");
	if (!resumed) {
		STAT_ADD(m, accepts, 1);
		if (m->ops && m->ops->accept)
			m->ops->accept(c, m->arg);
	}
	conn_flush(c);
	if (c->state == CS_OPEN)
		conn_read(c);
}

/* ---- kicks, attaches, ticks (loop thread) ---- */

static void conn_process_kick(struct msg_conn *c)
{
	int ws, wc, wrr;
	struct oq pend;
	char nb[96];

	pthread_mutex_lock(&c->lock);
	c->kicked = 0;
	pend = c->pend;
	c->pend.head = c->pend.tail = NULL;
	ws = c->want_start;
	wc = c->want_close;
	wrr = c->want_remote_reset;
	c->want_start = c->want_close = c->want_remote_reset = 0;
	pthread_mutex_unlock(&c->lock);
	for (struct outm *o = pend.head; o; o = o->next)
		o->seq = ++c->out_seq;
	if (pend.head) {
		if (c->outq.tail)
			c->outq.tail->next = pend.head;
		else
			c->outq.head = pend.head;
		c->outq.tail = pend.tail;
	}
	if (c->state == CS_CLOSED) {
		oq_release(&c->outq);
		return;
	}
	if (wrr) {
		CLOG_INFO("msg", "%s: peer restarted; ending the old session",
			  conn_name(c, nb, sizeof(nb)));
		conn_session_reset(c);
		if (c->m->ops && c->m->ops->remote_reset)
			c->m->ops->remote_reset(c, c->m->arg);
		conn_shutdown(c, 0);
		return;
	}
	if (wc) {
		if (c->state == CS_OPEN && c->woff == 0 && c->ctl_off == 0 && c->fd >= 0) {
			struct iovec v;

			c->ctl_len = c->ctl_off = 0;
			ctl_frame(c, MSG_TAG_CLOSE, 0, NULL, 0);
			v.iov_base = c->ctl;
			v.iov_len = c->ctl_len;
			(void)c->m->tr->sendv(c->fd, &v, 1);
		}
		conn_shutdown(c, 1);
		return;
	}
	if (ws) {
		worker_link(c);
		conn_start_connect(c);
		return;
	}
	if (c->state == CS_OPEN)
		conn_flush(c);
}

static void conn_tick(struct msg_conn *c, uint64_t now)
{
	struct msgr *m = c->m;

	switch (c->state) {
	case CS_CONNECTING:
	case CS_HANDSHAKE:
		if (now - c->connect_ns > m->connect_ns)
			conn_fail(c, -ETIMEDOUT, "connect timeout");
		break;
	case CS_OPEN:
		if (m->idle_ns && now - c->last_rx_ns > m->idle_ns) {
			conn_fail(c, -ETIMEDOUT, "idle timeout");
			break;
		}
		if (m->ka_ns && now - c->last_tx_ns > m->ka_ns) {
			ctl_frame(c, MSG_TAG_KEEPALIVE, now, NULL, 0);
			c->last_tx_ns = now;
			conn_flush(c);
		}
		break;
	default:
		break;
	}
}

static void pacc_free(struct msg_worker *w, struct msg_pacc *p, int close_fd)
{
	ev_io_stop(w->loop, &p->io);
	if (p->prev)
		p->prev->next = p->next;
	else
		w->paccs = p->next;
	if (p->next)
		p->next->prev = p->prev;
	if (close_fd)
		w->m->tr->close(p->fd);
	free(p);
}

static void worker_tick_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct msg_worker *w = t->data;
	uint64_t now = now_mono_ns();
	struct msg_conn *c, *next;
	struct msg_pacc *p, *pn;

	(void)loop;
	(void)revents;
	for (c = w->conns; c; c = next) {
		next = c->wnext;
		conn_get_(c);
		conn_tick(c, now);
		next = c->on_worker ? c->wnext : next;
		msg_conn_put(c);
	}
	for (p = w->paccs; p; p = pn) {
		pn = p->next;
		if (now - p->start_ns > w->m->connect_ns) {
			CLOG_DEBUG("msg", "%s: no hello before the connect timeout", p->sock_peer);
			pacc_free(w, p, 1);
		}
	}
}

static void worker_reap_cb(struct ev_loop *loop, ev_check *ck, int revents)
{
	struct msg_worker *w = ck->data;
	struct msg_conn *c;

	(void)loop;
	(void)revents;
	while ((c = w->graveyard)) {
		w->graveyard = c->gnext;
		msg_conn_put(c);
	}
}

static void conn_teardown(struct msg_conn *c)
{
	conn_drop_socket(c);
	ev_timer_stop(c->w->loop, &c->retry);
	c->state = CS_CLOSED;
	pthread_mutex_lock(&c->lock);
	atomic_store(&c->closed, 1);
	pthread_mutex_unlock(&c->lock);
	conn_drop_queues(c);
}

static void worker_stop(struct msg_worker *w)
{
	struct msg_conn *c;

	while (w->paccs)
		pacc_free(w, w->paccs, 1);
	if (w->idx == 0 && w->m->lfd >= 0)
		ev_io_stop(w->loop, &w->m->lio);
	while ((c = w->conns)) {
		conn_teardown(c);
		worker_unlink(c);
	}
	while ((c = w->throttled))
		conn_unthrottle_unlink(c);
	worker_reap_cb(w->loop, &w->reap, 0);
	ev_timer_stop(w->loop, &w->tick);
	ev_check_stop(w->loop, &w->reap);
	ev_async_stop(w->loop, &w->wake);
	ev_break(w->loop, EVBREAK_ALL);
}

static void worker_wake_cb(struct ev_loop *loop, ev_async *a, int revents)
{
	struct msg_worker *w = a->data;
	struct msg_conn *kick, *c;
	struct msg_attach *att, *at;
	int stopping;

	(void)loop;
	(void)revents;
	pthread_mutex_lock(&w->lock);
	kick = w->kick;
	w->kick = NULL;
	att = w->attach;
	w->attach = NULL;
	stopping = w->stopping;
	w->fed = 0;
	pthread_mutex_unlock(&w->lock);
	while ((at = att)) {
		att = at->next;
		if (!stopping)
			conn_attach(at->c, at->fd, at->sock_peer, &at->h);
		else
			w->m->tr->close(at->fd);
		msg_conn_put(at->c);
		free(at);
	}
	while ((c = kick)) {
		kick = c->knext;
		conn_process_kick(c);
		msg_conn_put(c);
	}
	if (stopping) {
		worker_stop(w);
		return;
	}
	if (w->throttled)
		worker_resume_throttled(w);
}

/* Puts c on its worker's kick list (caller set c->kicked and took a ref for it). */
static void worker_kick(struct msg_worker *w, struct msg_conn *c)
{
	int feed = 0;

	pthread_mutex_lock(&w->lock);
	c->knext = w->kick;
	w->kick = c;
	if (cur_worker == w && !w->fed)
		feed = w->fed = 1;
	pthread_mutex_unlock(&w->lock);
	if (cur_worker == w) {
		if (feed)
			ev_feed_event(w->loop, &w->wake, EV_ASYNC);
	} else {
		ev_async_send(w->loop, &w->wake);
	}
}

/* Caller holds c->lock. Returns 1 if the caller must worker_kick() after unlocking. */
static int conn_mark_kick_locked(struct msg_conn *c)
{
	if (c->kicked)
		return 0;
	c->kicked = 1;
	conn_get_(c);
	return 1;
}

/* ---- accepting (worker 0) ---- */

static struct msg_conn *conn_new(struct msgr *m, int policy, int outgoing)
{
	struct msg_conn *c = calloc(1, sizeof(*c));
	unsigned idx;

	if (!c)
		return NULL;
	c->rcap = m->rbuf_size;
	c->rbuf = malloc(c->rcap);
	if (!c->rbuf) {
		free(c);
		return NULL;
	}
	atomic_init(&c->ref, 1);
	atomic_init(&c->closed, 0);
	c->m = m;
	idx = atomic_fetch_add(&m->rr, 1);
	c->w = &m->w[idx % (unsigned)m->nworkers];
	c->policy = policy;
	c->outgoing = outgoing;
	c->max_msg = m->max_msg;
	c->max_out = m->max_out;
	c->crc_data = m->crc_data;
	c->fd = -1;
	c->state = CS_NEW;
	c->backoff = m->backoff_min;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	ev_io_init(&c->rio, conn_io_cb, -1, EV_READ);
	ev_io_init(&c->wio, conn_io_cb, -1, EV_WRITE);
	c->rio.data = c->wio.data = c;
	ev_timer_init(&c->retry, conn_retry_cb, 0., 0.);
	c->retry.data = c;
	return c;
}

/* Caller holds m->lock. */
static void registry_add_locked(struct msgr *m, struct msg_conn *c)
{
	c->mprev = NULL;
	c->mnext = m->conns;
	if (m->conns)
		m->conns->mprev = c;
	m->conns = c;
}

static void pacc_hello(struct msg_worker *w, struct msg_pacc *p, const struct msg_hello *h)
{
	struct msgr *m = w->m;
	struct msg_attach *at;
	struct msg_conn *c = NULL, *x, *stale = NULL;
	int kick;

	at = malloc(sizeof(*at));
	if (!at) {
		pacc_free(w, p, 1);
		return;
	}
	pthread_mutex_lock(&m->lock);
	if (h->policy == MSG_LOSSLESS)
		for (x = m->conns; x; x = x->mnext)
			if (!x->outgoing && x->policy == MSG_LOSSLESS && x->sid == h->sid &&
			    x->peer_nonce == h->nonce && !atomic_load(&x->closed)) {
				c = x;
				break;
			}
	if (!c) {
		c = conn_new(m, h->policy, 0);
		if (!c) {
			pthread_mutex_unlock(&m->lock);
			free(at);
			pacc_free(w, p, 1);
			return;
		}
		c->sid = h->sid;
		registry_add_locked(m, c);
		/* a lossless peer that comes back with a new nonce restarted: end its old sessions */
		if (h->policy == MSG_LOSSLESS && h->me.type != MSG_ENTITY_CLIENT)
			for (x = m->conns; x; x = x->mnext)
				if (x != c && !x->outgoing && x->policy == MSG_LOSSLESS &&
				    x->peer.type == h->me.type && x->peer.num == h->me.num &&
				    x->peer_nonce && x->peer_nonce != h->nonce) {
					pthread_mutex_lock(&x->lock);
					x->want_remote_reset = 1;
					kick = conn_mark_kick_locked(x);
					pthread_mutex_unlock(&x->lock);
					if (kick) {
						x->knext = stale;
						stale = x;
					}
				}
	}
	conn_get_(c);
	pthread_mutex_unlock(&m->lock);
	while ((x = stale)) {
		stale = x->knext;
		worker_kick(x->w, x);
	}
	at->c = c;
	at->fd = p->fd;
	at->h = *h;
	snprintf(at->sock_peer, sizeof(at->sock_peer), "%s", p->sock_peer);
	pacc_free(w, p, 0);
	pthread_mutex_lock(&c->w->lock);
	at->next = c->w->attach;
	c->w->attach = at;
	pthread_mutex_unlock(&c->w->lock);
	if (c->w == w)
		ev_feed_event(w->loop, &w->wake, EV_ASYNC);
	else
		ev_async_send(c->w->loop, &c->w->wake);
}

static void pacc_read_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct msg_pacc *p = io->data;
	struct msgr *m = p->m;
	struct msg_worker *w = &m->w[0];
	struct msg_frame f;
	struct msg_hello *h;
	const char *why = NULL;
	struct iovec v;
	ssize_t r;
	int err;

	(void)loop;
	(void)revents;
	v.iov_base = p->buf + p->have;
	v.iov_len = p->need - p->have;
	r = m->tr->recvv(p->fd, &v, 1);
	if (r == -EAGAIN)
		return;
	if (r <= 0) {
		CLOG_DEBUG("msg", "%s: closed during handshake", p->sock_peer);
		pacc_free(w, p, 1);
		return;
	}
	p->have += (size_t)r;
	if (p->have < p->need)
		return;
	err = msg_frame_decode(p->buf, m->max_msg, &f, &why);
	if (!err && f.tag != MSG_TAG_HELLO) {
		err = -EPROTO;
		why = "expected hello";
	}
	if (err)
		goto bad;
	if (p->need == MSG_FRAME_HDR_LEN && f.front_len) {
		p->need += f.front_len;
		return;
	}
	err = msg_frame_check_payload(&f, p->buf + MSG_FRAME_HDR_LEN, NULL, &why);
	if (err)
		goto bad;
	h = malloc(sizeof(*h));
	if (!h) {
		pacc_free(w, p, 1);
		return;
	}
	err = msg_hello_decode(p->buf + MSG_FRAME_HDR_LEN, f.front_len, h);
	if (err) {
		free(h);
		why = "undecodable hello";
		goto bad;
	}
	if (m->ops && m->ops->verify_authorizer &&
	    m->ops->verify_authorizer(&h->me, h->auth, h->auth_len, m->arg)) {
		char e[32];

		CLOG_WARN("msg", "%s: %s refused by authorizer", p->sock_peer,
			  msg_entity_str(&h->me, e, sizeof(e)));
		free(h);
		pacc_free(w, p, 1);
		return;
	}
	pacc_hello(w, p, h);
	free(h);
	return;
bad:
	STAT_ADD(m, bad_frames, 1);
	CLOG_WARN("msg", "%s: malformed frame: %s; closing connection", p->sock_peer, why);
	pacc_free(w, p, 1);
}

static void listen_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct msgr *m = io->data;
	struct msg_worker *w = &m->w[0];
	struct sockaddr_in sa;
	struct msg_pacc *p;

	(void)revents;
	for (int i = 0; i < 64; i++) {
		int fd = m->tr->accept(m->lfd, &sa);

		if (fd < 0) {
			if (fd != -EAGAIN)
				CLOG_WARN("msg", "accept: %s", cairn_strerror(fd));
			return;
		}
		p = calloc(1, sizeof(*p));
		if (!p) {
			m->tr->close(fd);
			continue;
		}
		m->tr->setup(fd, &m->so);
		p->m = m;
		p->fd = fd;
		p->need = MSG_FRAME_HDR_LEN;
		p->start_ns = now_mono_ns();
		addr_str(&sa, p->sock_peer, sizeof(p->sock_peer));
		p->next = w->paccs;
		if (w->paccs)
			w->paccs->prev = p;
		w->paccs = p;
		ev_io_init(&p->io, pacc_read_cb, fd, EV_READ);
		p->io.data = p;
		ev_io_start(loop, &p->io);
	}
}

/* ---- public API ---- */

static void *worker_main(void *arg)
{
	struct msg_worker *w = arg;

	cur_worker = w;
	ev_run(w->loop, 0);
	cur_worker = NULL;
	return NULL;
}

struct msgr *msgr_create(const struct msgr_opts *o)
{
	const struct cairn_conf *cf = o->conf;
	struct msgr *m;
	double tick;
	int i;

	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->me = o->me;
	msg_entity_str(&m->me, m->me_str, sizeof(m->me_str));
	m->nonce = random_u64_nonzero();
	m->features = o->features | CAIRN_FEATURES_MSGR;
	m->ops = o->ops;
	m->arg = o->arg;
	m->tr = &msg_tcp_transport;
	m->nworkers = o->nworkers > 0 ? o->nworkers : (int)conf_int(cf, "ms_workers");
	m->max_msg = (uint64_t)conf_int(cf, "ms_max_message_size");
	m->max_out = (uint64_t)conf_int(cf, "ms_max_out_bytes");
	m->rbuf_size = (uint64_t)conf_int(cf, "ms_read_buffer");
	m->crc_data = conf_bool(cf, "ms_crc_data");
	m->so.nodelay = conf_bool(cf, "ms_tcp_nodelay");
	m->so.rcvbuf = (int)conf_int(cf, "ms_tcp_rcvbuf");
	m->so.sndbuf = (int)conf_int(cf, "ms_tcp_sndbuf");
	m->ka_ns = (uint64_t)(conf_double(cf, "ms_keepalive_interval") * 1e9);
	m->idle_ns = (uint64_t)(conf_double(cf, "ms_idle_timeout") * 1e9);
	m->connect_ns = (uint64_t)(conf_double(cf, "ms_connect_timeout") * 1e9);
	m->backoff_min = conf_double(cf, "ms_reconnect_min");
	m->backoff_max = conf_double(cf, "ms_reconnect_max");
	m->inject = conf_int(cf, "ms_inject_socket_failures");
	m->lfd = -1;
	pthread_mutex_init(&m->lock, NULL);
	m->thr = calloc(1, sizeof(*m->thr));
	m->w = calloc((size_t)m->nworkers, sizeof(*m->w));
	if (!m->thr || !m->w)
		goto fail;
	m->thr->limit = conf_int(cf, "ms_dispatch_throttle_bytes");
	atomic_init(&m->thr->refs, 1);
	pthread_mutex_init(&m->thr->lock, NULL);
	m->thr->m = m;
	tick = 1.0;
	if (m->ka_ns && m->ka_ns / 4e9 < tick)
		tick = (double)m->ka_ns / 4e9;
	if (m->idle_ns && m->idle_ns / 4e9 < tick)
		tick = (double)m->idle_ns / 4e9;
	if (m->connect_ns / 4e9 < tick)
		tick = (double)m->connect_ns / 4e9;
	if (tick < 0.005)
		tick = 0.005;
	for (i = 0; i < m->nworkers; i++) {
		struct msg_worker *w = &m->w[i];

		w->m = m;
		w->idx = i;
		pthread_mutex_init(&w->lock, NULL);
		w->loop = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOENV);
		if (!w->loop)
			goto fail;
		ev_async_init(&w->wake, worker_wake_cb);
		w->wake.data = w;
		ev_async_start(w->loop, &w->wake);
		ev_timer_init(&w->tick, worker_tick_cb, tick, tick);
		w->tick.data = w;
		ev_timer_start(w->loop, &w->tick);
		ev_check_init(&w->reap, worker_reap_cb);
		w->reap.data = w;
		ev_check_start(w->loop, &w->reap);
	}
	return m;
fail:
	msgr_destroy(m);
	return NULL;
}

int msgr_bind(struct msgr *m, const char *addr)
{
	struct sockaddr_in sa, bound;
	int fd, r;

	if (m->started || m->lfd >= 0)
		return -EBUSY;
	r = parse_addr(addr, &sa);
	if (r)
		return r;
	fd = m->tr->listen(&sa, &bound);
	if (fd < 0)
		return fd;
	m->lfd = fd;
	addr_str(&bound, m->addr, sizeof(m->addr));
	ev_io_init(&m->lio, listen_cb, fd, EV_READ);
	m->lio.data = m;
	ev_io_start(m->w[0].loop, &m->lio);
	return 0;
}

const char *msgr_addr(const struct msgr *m)
{
	return m->addr;
}

uint64_t msgr_nonce(const struct msgr *m)
{
	return m->nonce;
}

int msgr_start(struct msgr *m)
{
	int i, r;

	if (m->started)
		return -EBUSY;
	for (i = 0; i < m->nworkers; i++) {
		r = pthread_create(&m->w[i].thread, NULL, worker_main, &m->w[i]);
		if (r)
			return -r;
		m->w[i].thread_started = 1;
	}
	m->started = 1;
	return 0;
}

void msgr_destroy(struct msgr *m)
{
	struct msg_conn *c, *next;
	int i;

	if (!m)
		return;
	for (i = 0; m->w && i < m->nworkers; i++) {
		struct msg_worker *w = &m->w[i];

		if (!w->loop)
			continue;
		pthread_mutex_lock(&w->lock);
		w->stopping = 1;
		pthread_mutex_unlock(&w->lock);
		if (w->thread_started) {
			ev_async_send(w->loop, &w->wake);
			pthread_join(w->thread, NULL);
		} else {
			worker_wake_cb(w->loop, &w->wake, 0);
		}
	}
	if (m->thr) {
		pthread_mutex_lock(&m->thr->lock);
		m->thr->m = NULL;
		pthread_mutex_unlock(&m->thr->lock);
	}
	pthread_mutex_lock(&m->lock);
	for (c = m->conns; c; c = next) {
		next = c->mnext;
		conn_teardown(c); /* connections that never reached their worker */
		c->mnext = c->mprev = NULL;
		msg_conn_put(c);
	}
	m->conns = NULL;
	pthread_mutex_unlock(&m->lock);
	for (i = 0; m->w && i < m->nworkers; i++) {
		struct msg_worker *w = &m->w[i];

		if (w->loop)
			ev_loop_destroy(w->loop);
		pthread_mutex_destroy(&w->lock);
	}
	if (m->lfd >= 0)
		m->tr->close(m->lfd);
	if (m->thr)
		thr_put(m->thr);
	pthread_mutex_destroy(&m->lock);
	free(m->w);
	free(m);
}

struct msg_conn *msgr_connect(struct msgr *m, const char *addr, enum msg_policy policy)
{
	struct sockaddr_in sa;
	struct msg_conn *c;
	int kick;

	if (parse_addr(addr, &sa) || (policy != MSG_LOSSY && policy != MSG_LOSSLESS)) {
		errno = EINVAL;
		return NULL;
	}
	pthread_mutex_lock(&m->lock);
	if (policy == MSG_LOSSLESS)
		for (c = m->conns; c; c = c->mnext)
			if (c->outgoing && c->policy == MSG_LOSSLESS && !strcmp(c->addr, addr) &&
			    !atomic_load(&c->closed)) {
				conn_get_(c);
				pthread_mutex_unlock(&m->lock);
				return c;
			}
	c = conn_new(m, policy, 1);
	if (!c) {
		pthread_mutex_unlock(&m->lock);
		errno = ENOMEM;
		return NULL;
	}
	snprintf(c->addr, sizeof(c->addr), "%s", addr);
	c->sa = sa;
	c->sid = random_u64_nonzero();
	registry_add_locked(m, c);
	conn_get_(c); /* the caller's */
	pthread_mutex_lock(&c->lock);
	c->want_start = 1;
	kick = conn_mark_kick_locked(c);
	pthread_mutex_unlock(&c->lock);
	pthread_mutex_unlock(&m->lock);
	if (kick)
		worker_kick(c->w, c);
	return c;
}

int msg_send(struct msg_conn *c, const struct msg_out *mo)
{
	uint64_t data_len = 0, bytes;
	uint32_t dcrc = 0;
	struct outm *o;
	int niov = 1, i, kick, r;

	if (mo->data_iovcnt < 0 || (mo->data_iovcnt && !mo->data) ||
	    mo->type == 0 || (mo->type < MSG_TYPE_FIRST_USER && mo->type > MSG_MSGR_LAST_)) {
		r = -EINVAL;
		goto fail;
	}
	for (i = 0; i < mo->data_iovcnt; i++)
		data_len += mo->data[i].iov_len;
	if (data_len > c->max_msg || mo->front_len > c->max_msg - data_len) {
		r = -EMSGSIZE;
		goto fail;
	}
	o = malloc(sizeof(*o) + (size_t)(2 + mo->data_iovcnt) * sizeof(struct iovec) +
		   mo->front_len);
	if (!o) {
		r = -ENOMEM;
		goto fail;
	}
	memset(o, 0, sizeof(*o));
	o->f.tag = MSG_TAG_MSG;
	o->f.prio = mo->prio ? mo->prio : MSG_PRIO_DEFAULT;
	o->f.type = mo->type;
	o->f.tid = mo->tid;
	o->f.front_len = mo->front_len;
	o->f.data_len = data_len;
	o->iov[0].iov_base = o->hdr;
	o->iov[0].iov_len = MSG_FRAME_HDR_LEN;
	if (mo->front_len) {
		uint8_t *front = (uint8_t *)&o->iov[2 + mo->data_iovcnt];

		memcpy(front, mo->front, mo->front_len);
		o->iov[niov].iov_base = front;
		o->iov[niov++].iov_len = mo->front_len;
		o->f.front_crc = msg_crc32c(0, front, mo->front_len);
	}
	for (i = 0; i < mo->data_iovcnt; i++) {
		if (!mo->data[i].iov_len)
			continue;
		o->iov[niov++] = mo->data[i];
		if (c->crc_data)
			dcrc = msg_crc32c(dcrc, mo->data[i].iov_base, mo->data[i].iov_len);
	}
	if (c->crc_data && data_len) {
		o->f.flags |= MSG_FF_DATA_CRC;
		o->f.data_crc = dcrc;
	}
	o->niov = niov;
	bytes = MSG_FRAME_HDR_LEN + mo->front_len + data_len;
	o->bytes = bytes;
	o->release = mo->release;
	o->release_arg = mo->release_arg;

	pthread_mutex_lock(&c->lock);
	if (!cur_worker)
		while (c->unwritten > c->max_out && !atomic_load(&c->closed)) {
			c->waiters++;
			pthread_cond_wait(&c->cond, &c->lock);
			c->waiters--;
		}
	if (atomic_load(&c->closed)) {
		pthread_mutex_unlock(&c->lock);
		free(o);
		r = -ECONNRESET;
		goto fail;
	}
	oq_push(&c->pend, o);
	c->unwritten += bytes;
	kick = conn_mark_kick_locked(c);
	pthread_mutex_unlock(&c->lock);
	if (kick)
		worker_kick(c->w, c);
	return 0;
fail:
	if (mo->release)
		mo->release(mo->release_arg);
	return r;
}

void msg_conn_close(struct msg_conn *c)
{
	int kick;

	pthread_mutex_lock(&c->lock);
	if (atomic_load(&c->closed)) {
		pthread_mutex_unlock(&c->lock);
		return;
	}
	c->want_close = 1;
	kick = conn_mark_kick_locked(c);
	pthread_mutex_unlock(&c->lock);
	if (kick)
		worker_kick(c->w, c);
}

void msgr_get_stats(const struct msgr *m, struct msgr_stats *out)
{
	struct msgr_stats_atomic *s = (struct msgr_stats_atomic *)&m->st;

	out->msgs_sent = atomic_load(&s->msgs_sent);
	out->msgs_recv = atomic_load(&s->msgs_recv);
	out->bytes_sent = atomic_load(&s->bytes_sent);
	out->bytes_recv = atomic_load(&s->bytes_recv);
	out->connects = atomic_load(&s->connects);
	out->accepts = atomic_load(&s->accepts);
	out->failures = atomic_load(&s->failures);
	out->injected = atomic_load(&s->injected);
	out->bad_frames = atomic_load(&s->bad_frames);
	out->resent = atomic_load(&s->resent);
	out->dups = atomic_load(&s->dups);
	out->remote_resets = atomic_load(&s->remote_resets);
	out->throttle_stalls = atomic_load(&s->throttle_stalls);
}
