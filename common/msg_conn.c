/*
 * msg_conn — one messenger connection on its worker thread: the send queues and writev
 * batching, the receive parser (frames out of the read buffer, large data straight into
 * the message), the handshake, lossless sessions (acks, re-send, dedup), failures and
 * shutdown. The state machine and the threading rules are drawn at the top of msg.c.
 */
#include "common/msg.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/msg_int.h"
#include "common/msg_types.h"
#include "common/util.h"

static const char *const state_names[] = {"new",  "connecting", "handshake",
					  "open", "wait",	"closed"};

static void conn_flush(struct msg_conn *c);
static void conn_fail(struct msg_conn *c, int err, const char *why);
static void conn_shutdown(struct msg_conn *c, int call_reset);
static int conn_parse(struct msg_conn *c);
static void conn_read(struct msg_conn *c);

/*
 * Cheap identities that hold between callbacks (make asan builds with CAIRN_ASSERTS):
 * buffer cursors in range, sentq strictly older than the unsent part of outq, a partially
 * written head message has its header built, and a closed connection holds nothing.
 */
static void conn_check_invariants(const struct msg_conn *c)
{
#ifdef CAIRN_ASSERTS
	assert(c->rpos <= c->rlen && c->rlen <= c->rcap);
	assert(c->ctl_off <= c->ctl_len && c->ctl_len <= sizeof(c->ctl));
	assert(!c->rbody || c->rin);
	assert(!c->rbody || c->rgot <= c->rf.front_len + c->rf.data_len);
	assert(!c->outq.head || c->woff < c->outq.head->bytes);
	assert(!c->woff || (c->outq.head && c->outq.head->hdr_built));
	assert(!c->sentq.tail || !c->outq.head || !c->outq.head->seq ||
	       c->sentq.tail->seq < c->outq.head->seq);
	assert(c->acked_in <= c->in_seq);
	assert(c->state != CS_CLOSED || (!c->outq.head && !c->sentq.head && c->fd < 0));
	assert(c->policy == MSG_LOSSLESS || !c->sentq.head);
#else
	(void)c;
#endif
}

/* ---- send queues ---- */

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

/* ---- helpers ---- */

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

/* A connection in state NEW, pinned to the next worker; one ref (the registry's). */
struct msg_conn *msgc_new(struct msgr *m, int policy, int outgoing)
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
	ev_io_init(&c->rio, msgc_io_cb, -1, EV_READ);
	ev_io_init(&c->wio, msgc_io_cb, -1, EV_WRITE);
	c->rio.data = c->wio.data = c;
	ev_timer_init(&c->retry, msgc_retry_cb, 0., 0.);
	c->retry.data = c;
	return c;
}

/* ---- received messages and the dispatch throttle ---- */

void msgc_throttle_put(struct msg_throttle *t)
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
	msgc_throttle_put(t);
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

void msgc_unthrottle(struct msg_conn *c)
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

void msgc_resume_throttled(struct msg_worker *w)
{
	struct msg_throttle *t = w->m->thr;
	struct msg_conn *c;

	while ((c = w->throttled) && atomic_load(&t->bytes) <= t->limit) {
		w->throttled = c->tnext;
		c->throttled = 0;
		atomic_fetch_sub(&t->stalled, 1);
		msgc_get(c);
		if (conn_parse(c) == 0 && !c->throttled &&
		    (c->state == CS_OPEN || c->state == CS_HANDSHAKE)) {
			ev_io_start(w->loop, &c->rio);
			conn_read(c);
		}
		msg_conn_put(c);
	}
}

/* ---- lifecycle ---- */

static void conn_bury(struct msg_conn *c)
{
	struct msg_worker *w = c->w;

	if (c->in_graveyard)
		return;
	c->in_graveyard = 1;
	c->gnext = w->graveyard;
	w->graveyard = c;
}

void msgc_worker_unlink(struct msg_conn *c)
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

void msgc_worker_link(struct msg_conn *c)
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
	msgc_unthrottle(c);
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
	msgc_worker_unlink(c);
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
	c->wait_ns = now_mono_ns();
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
	/* lossless: the bad frame was not delivered (in_seq did not move), so the reconnect
	 * re-sends it; a corrupted stream heals without the upper layer noticing */
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
	if (tag == MSG_TAG_ACK || front_len) {
		c->acked_in = c->in_seq;
		c->rx_unacked = 0;
	}
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

/* ---- writing ---- */

static void build_hdr(struct msg_conn *c, struct outm *o)
{
	o->f.seq = o->seq;
	o->f.ack_seq = c->in_seq;
	c->acked_in = c->in_seq;
	c->rx_unacked = 0;
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

/* ---- reading ---- */

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
		CLOG_WARN("msg",
			  "%s: malformed frame: sequence gap (got %llu after %llu); "
			  "closing connection",
			  conn_name(c, nb, sizeof(nb)), (unsigned long long)f->seq,
			  (unsigned long long)c->in_seq);
		STAT_ADD(m, bad_frames, 1);
		conn_fail(c, -EPROTO, "sequence gap");
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
		c->rx_unacked += (uint64_t)r;
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
	/* Acknowledge later: a message queued meanwhile (a reply from the dispatch callback in
	 * this loop iteration, or one sent from another thread within MSG_ACK_DELAY) carries
	 * the ack in its header and saves a frame and a wakeup of the peer. Much unacked
	 * data is acknowledged at the end of this loop iteration. */
	if (c->state != CS_OPEN || c->policy != MSG_LOSSLESS || c->acked_in == c->in_seq)
		return;
	if (c->in_seq - c->acked_in >= MSG_ACK_MSGS || c->rx_unacked >= MSG_ACK_BYTES) {
		if (!c->ack_queued) {
			c->ack_queued = 1;
			msgc_get(c);
			c->anext = c->w->ackq;
			c->w->ackq = c;
		}
	} else if (!c->ack_late) {
		c->ack_late = 1;
		msgc_get(c);
		c->lnext = c->w->ackq_late;
		c->w->ackq_late = c;
		if (!ev_is_active(&c->w->acklate)) {
			ev_timer_set(&c->w->acklate, MSG_ACK_DELAY, 0.);
			ev_timer_start(c->w->loop, &c->w->acklate);
		}
	}
}

/* ---- connecting, attaching, kicks, ticks ---- */

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

void msgc_io_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct msg_conn *c = io->data;

	(void)loop;
	if (revents & EV_READ)
		conn_read(c);
	else if (c->state == CS_CONNECTING)
		conn_connected(c);
	else
		conn_flush(c);
	conn_check_invariants(c); /* c stays allocated until the iteration ends (graveyard) */
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

void msgc_retry_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct msg_conn *c = t->data;

	(void)loop;
	(void)revents;
	if (c->state == CS_WAIT)
		conn_start_connect(c);
}

/* Acceptor: a HELLO for c arrived on socket fd (c->w's thread). */
void msgc_attach(struct msg_conn *c, int fd, const char *sock_peer, const struct msg_hello *h)
{
	struct msgr *m = c->m;
	int resumed = c->peer_nonce != 0, flags = 0;
	char nb[96];

	if (c->state == CS_CLOSED) {
		m->tr->close(fd);
		return;
	}
	msgc_worker_link(c);
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

void msgc_process_kick(struct msg_conn *c)
{
	int ws, wc, wrr;
	struct oq pend;
	char nb[96];

	conn_check_invariants(c);
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
		msgc_worker_link(c);
		conn_start_connect(c);
		return;
	}
	if (c->state == CS_OPEN)
		conn_flush(c);
}

void msgc_tick(struct msg_conn *c, uint64_t now)
{
	struct msgr *m = c->m;

	conn_check_invariants(c);
	switch (c->state) {
	case CS_CONNECTING:
	case CS_HANDSHAKE:
		if (now - c->connect_ns > m->connect_ns)
			conn_fail(c, -ETIMEDOUT, "connect timeout");
		break;
	case CS_WAIT:
		/* an acceptor keeps a lossless session for a peer that may come back, but not
		 * forever: its queue would be unbounded */
		if (!c->outgoing && m->session_ns && now - c->wait_ns > m->session_ns) {
			char nb[96];

			CLOG_INFO("msg", "%s: peer did not come back; ending its session",
				  conn_name(c, nb, sizeof(nb)));
			conn_shutdown(c, 1);
		}
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

void msgc_teardown(struct msg_conn *c)
{
	conn_drop_socket(c);
	ev_timer_stop(c->w->loop, &c->retry);
	c->state = CS_CLOSED;
	pthread_mutex_lock(&c->lock);
	atomic_store(&c->closed, 1);
	pthread_mutex_unlock(&c->lock);
	conn_drop_queues(c);
}

/* Sends the standalone ACKs owed at the end of a loop iteration (worker thread). */
void msgc_flush_acks(struct msg_worker *w)
{
	struct msg_conn *c;

	while ((c = w->ackq)) {
		w->ackq = c->anext;
		c->ack_queued = 0;
		if (c->state == CS_OPEN && c->acked_in != c->in_seq) {
			ctl_frame(c, MSG_TAG_ACK, 0, NULL, 0);
			conn_flush(c);
		}
		msg_conn_put(c);
	}
}

void msgc_flush_late_acks(struct msg_worker *w, int send)
{
	struct msg_conn *c;

	while ((c = w->ackq_late)) {
		w->ackq_late = c->lnext;
		c->ack_late = 0;
		if (send && c->state == CS_OPEN && c->acked_in != c->in_seq) {
			ctl_frame(c, MSG_TAG_ACK, 0, NULL, 0);
			conn_flush(c);
		}
		msg_conn_put(c);
	}
}

void msgc_acklate_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	(void)loop;
	(void)revents;
	msgc_flush_late_acks(t->data, 1);
}

#ifdef CAIRN_FUZZ
/*
 * Fuzzing hook (fuzz builds only): one connection of m, in the state a connector awaiting
 * its HELLO_REPLY or an open acceptor is in, reads the bytes `data` from a socketpair
 * (then EOF) through the real receive path, parser and dispatch. Returns the final state.
 */
int msgc_fuzz_feed(struct msgr *m, const uint8_t *data, size_t n, int outgoing, int lossless)
{
	struct msg_conn *c, *x;
	struct msg_worker *w;
	int sv[2], state;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv))
		return -errno;
	c = msgc_new(m, lossless ? MSG_LOSSLESS : MSG_LOSSY, outgoing);
	if (!c) {
		close(sv[0]);
		close(sv[1]);
		return -ENOMEM;
	}
	w = c->w;
	msgc_get(c); /* ours, beyond the "registry" ref a shutdown buries */
	msgc_worker_link(c);
	c->fd = sv[0];
	ev_io_set(&c->rio, c->fd, EV_READ);
	ev_io_set(&c->wio, c->fd, EV_WRITE);
	c->state = outgoing ? CS_HANDSHAKE : CS_OPEN;
	c->peer.type = MSG_ENTITY_OSD;
	c->peer_nonce = outgoing ? 0 : 1;
	c->last_rx_ns = c->last_tx_ns = c->connect_ns = now_mono_ns();
	while (n) {
		ssize_t k = write(sv[1], data, n);

		if (k <= 0)
			break;
		data += k;
		n -= (size_t)k;
	}
	shutdown(sv[1], SHUT_WR);
	for (int i = 0; i < 64 && c->fd >= 0 && (c->state == CS_OPEN || c->state == CS_HANDSHAKE);
	     i++) {
		if (c->throttled)
			msgc_resume_throttled(w);
		else
			conn_read(c);
	}
	state = c->state;
	if (c->state != CS_CLOSED) {
		msgc_teardown(c);
		msgc_worker_unlink(c);
	}
	while ((x = w->ackq)) {
		w->ackq = x->anext;
		x->ack_queued = 0;
		msg_conn_put(x);
	}
	msgc_flush_late_acks(w, 0);
	ev_timer_stop(w->loop, &w->acklate);
	while ((x = w->graveyard)) {
		w->graveyard = x->gnext;
		msg_conn_put(x);
	}
	close(sv[1]);
	msg_conn_put(c); /* ours */
	if (state != CS_CLOSED)
		msg_conn_put(c); /* the "registry" ref nobody buried */
	return state;
}
#endif
