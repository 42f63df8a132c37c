/*
 * msg — the messenger core: connections, sessions, queues and workers (see msg.h for the
 * contract, msg_frame.h for the wire format, msg_int.h for the transport seam and the
 * internals shared with msg_conn.c, which runs one connection).
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
 * Connection states (c->state, loop; the functions are in msg_conn.c):
 *
 *   NEW --conn_start_connect--> CONNECTING --conn_connected--> HANDSHAKE
 *   HANDSHAKE --conn_handshake_reply--> OPEN          (connector)
 *   NEW/WAIT --msgc_attach--> OPEN                    (acceptor: a HELLO arrived on worker 0)
 *   CONNECTING/HANDSHAKE/OPEN --conn_fail--> WAIT     (lossless: socket gone, queue kept;
 *                                                      the connector retries after a backoff)
 *   WAIT --msgc_retry_cb--> CONNECTING                (lossless connector)
 *   any --conn_shutdown--> CLOSED                     (lossy failure, msg_conn_close, CLOSE
 *                                                      frame, remote reset of a stale session)
 *
 * Lossless delivery. Each direction numbers its messages 1, 2, ... per session. A written
 * message moves from outq to sentq and is released only when the peer acknowledges its
 * seq (ack_seq in the header of any frame we send; if none goes out in the loop iteration
 * that received messages, a standalone ACK frame at its end). After a reconnect
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
#include "common/encode.h"
#include "common/msg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "common/config.h"
#include "common/log.h"
#include "common/msg_int.h"
#include "common/msg_types.h"
#include "common/util.h"

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

struct msg_attach {
	struct msg_attach *next;
	struct msg_conn *c; /* holds a ref */
	int fd;
	char sock_peer[64];
	struct msg_hello h;
};

static __thread struct msg_worker *cur_worker;
/* msg_defer_begin/end: connections whose worker wake-up this (non-loop) thread holds back
 * (linked by knext; each has c->kicked set and a ref, exactly as on a worker's kick list). */
static __thread struct msg_conn *defer_list;
static __thread int defer_depth;

/* ---- helpers and connection references ---- */

const char *msg_entity_str(const struct msg_entity *e, char *buf, size_t len)
{
	static const char *const names[] = {"?", "mon", "osd", "mds", "client"};
	const char *t = e->type <= MSG_ENTITY_CLIENT ? names[e->type] : "?";

	snprintf(buf, len, "%s.%lld", t, (long long)e->num);
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

struct msg_conn *msg_conn_get(struct msg_conn *c)
{
	msgc_get(c);
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

/* ---- workers ---- */

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
		msgc_get(c);
		msgc_tick(c, now);
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

static void worker_reap_cb(struct ev_loop *loop, ev_prepare *pr, int revents)
{
	struct msg_worker *w = pr->data;
	struct msg_conn *c;

	(void)loop;
	(void)revents;
	msgc_flush_acks(w);
	while ((c = w->graveyard)) {
		w->graveyard = c->gnext;
		msg_conn_put(c);
	}
}

static void worker_stop(struct msg_worker *w)
{
	struct msg_conn *c;

	while (w->paccs)
		pacc_free(w, w->paccs, 1);
	if (w->idx == 0 && w->m->lfd >= 0)
		ev_io_stop(w->loop, &w->m->lio);
	while ((c = w->conns)) {
		msgc_teardown(c);
		msgc_worker_unlink(c);
	}
	while ((c = w->throttled))
		msgc_unthrottle(c);
	worker_reap_cb(w->loop, &w->reap, 0);
	msgc_flush_late_acks(w, 0);
	ev_timer_stop(w->loop, &w->acklate);
	ev_timer_stop(w->loop, &w->tick);
	ev_prepare_stop(w->loop, &w->reap);
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
			msgc_attach(at->c, at->fd, at->sock_peer, &at->h);
		else
			w->m->tr->close(at->fd);
		msg_conn_put(at->c);
		free(at);
	}
	while ((c = kick)) {
		kick = c->knext;
		msgc_process_kick(c);
		msg_conn_put(c);
	}
	if (stopping) {
		worker_stop(w);
		return;
	}
	if (w->throttled)
		msgc_resume_throttled(w);
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

void msg_defer_begin(void)
{
	defer_depth++;
}

void msg_defer_flush(void)
{
	struct msg_conn *c;

	while ((c = defer_list)) {
		defer_list = c->knext;
		worker_kick(c->w, c);
	}
}

void msg_defer_end(void)
{
	if (defer_depth > 0 && --defer_depth == 0)
		msg_defer_flush();
}

/* Caller holds c->lock. Returns 1 if the caller must worker_kick() after unlocking. */
static int conn_mark_kick_locked(struct msg_conn *c)
{
	if (c->kicked)
		return 0;
	c->kicked = 1;
	msgc_get(c);
	return 1;
}

/* ---- accepting (worker 0) ---- */

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
	struct msg_attach **pp;
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
			    !atomic_load(&x->closed)) {
				c = x;
				break;
			}
	if (!c) {
		c = msgc_new(m, h->policy, 0);
		if (!c) {
			pthread_mutex_unlock(&m->lock);
			free(at);
			pacc_free(w, p, 1);
			return;
		}
		c->sid = h->sid;
		registry_add_locked(m, c);
		/* a lossless peer that comes back from the same address with a new nonce
		 * restarted: end its old sessions (the address keeps a daemon's second
		 * messenger, which shares its entity name, from ending the first one's) */
		if (h->policy == MSG_LOSSLESS && h->me.type != MSG_ENTITY_CLIENT)
			for (x = m->conns; x; x = x->mnext)
				if (x != c && !x->outgoing && x->policy == MSG_LOSSLESS &&
				    x->peer.type == h->me.type && x->peer.num == h->me.num &&
				    !strcmp(x->peer_addr, h->addr) && x->peer_nonce &&
				    x->peer_nonce != h->nonce) {
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
	msgc_get(c);
	pthread_mutex_unlock(&m->lock);
	while ((x = stale)) {
		stale = x->knext;
		worker_kick(x->w, x);
	}
	at->c = c;
	at->fd = p->fd;
	at->h = *h;
	snprintf(at->sock_peer, sizeof(at->sock_peer), "%s", p->sock_peer);
	/* The socket changes loops. libev on worker 0 unregisters it lazily: at worst one
	 * spurious wakeup there, answered by EPOLL_CTL_DEL (TSan reports the close in the
	 * owner racing that epoll_ctl; the kernel serialises them and libev copes with both
	 * orders). A dup() would be worse: the registration would outlive the fd number. */
	pacc_free(w, p, 0);
	at->next = NULL;
	pthread_mutex_lock(&c->w->lock);
	/* FIFO: two HELLOs of one session (a retry after a handshake timeout) attach in order */
	for (pp = &c->w->attach; *pp; pp = &(*pp)->next)
		;
	*pp = at;
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
	char name[16];

	snprintf(name, sizeof(name), "msgr-w%d", w->idx);
	pthread_setname_np(pthread_self(), name); /* for top -H, perf */
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
	m->session_ns = (uint64_t)(conf_double(cf, "ms_session_timeout") * 1e9);
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
	if (m->session_ns && m->session_ns / 4e9 < tick)
		tick = (double)m->session_ns / 4e9;
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
		ev_timer_init(&w->acklate, msgc_acklate_cb, MSG_ACK_DELAY, 0.);
		w->acklate.data = w;
		ev_prepare_init(&w->reap, worker_reap_cb);
		w->reap.data = w;
		ev_prepare_start(w->loop, &w->reap);
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
		msgc_teardown(c); /* connections that never reached their worker */
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
		msgc_throttle_put(m->thr);
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
				msgc_get(c);
				pthread_mutex_unlock(&m->lock);
				return c;
			}
	c = msgc_new(m, policy, 1);
	if (!c) {
		pthread_mutex_unlock(&m->lock);
		errno = ENOMEM;
		return NULL;
	}
	snprintf(c->addr, sizeof(c->addr), "%s", addr);
	c->sa = sa;
	c->sid = random_u64_nonzero();
	registry_add_locked(m, c);
	msgc_get(c); /* the caller's */
	pthread_mutex_lock(&c->lock);
	c->want_start = 1;
	kick = conn_mark_kick_locked(c);
	pthread_mutex_unlock(&c->lock);
	pthread_mutex_unlock(&m->lock);
	if (kick)
		worker_kick(c->w, c);
	return c;
}

int msg_send_cbuf(struct msg_conn *c, uint16_t type, uint64_t tid, uint8_t prio,
		  const struct cbuf *b)
{
	struct msg_out o;

	if (b->err)
		return b->err;
	memset(&o, 0, sizeof(o));
	o.type = type;
	o.tid = tid;
	o.prio = prio;
	o.front = b->data;
	o.front_len = (uint32_t)b->len;
	return msg_send(c, &o);
}

int msg_send(struct msg_conn *c, const struct msg_out *mo)
{
	uint64_t data_len = 0, bytes;
	uint32_t dcrc = 0;
	struct outm *o;
	int niov = 1, i, kick, r;

	if (mo->data_iovcnt < 0 || (mo->data_iovcnt && !mo->data) || mo->type == 0 ||
	    (mo->type < MSG_TYPE_FIRST_USER && mo->type > MSG_MSGR_LAST_)) {
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
			if (defer_list) { /* the queue we wait on may be one we hold back */
				pthread_mutex_unlock(&c->lock);
				msg_defer_flush();
				pthread_mutex_lock(&c->lock);
				continue;
			}
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
	if (kick) {
		if (defer_depth && !cur_worker) {
			c->knext = defer_list;
			defer_list = c;
		} else {
			worker_kick(c->w, c);
		}
	}
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
