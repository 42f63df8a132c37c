/*
 * msg_int — the messenger's internals: the transport seam (struct msg_transport, one file
 * per backend: msg_tcp.c now, msg_rdma.c later) and the structures shared by msg.c
 * (messenger, workers, accepting, public API) and msg_conn.c (one connection).
 *
 * The core speaks to a transport only through struct msg_transport: a stream of bytes
 * moved with vectored send/receive on a pollable fd that the worker's libev loop watches.
 * TCP maps onto it directly. An RDMA verbs backend fits the same seam (docs/messenger.md):
 * its fd is the completion channel's, connect/accept ride on librdmacm, recvv copies out of
 * pre-posted receive buffers (returning credits to the peer), and sendv posts sends from
 * registered memory; large data payloads would bypass recvv via RDMA read into the
 * message's data buffer (the core already reads data straight into that buffer).
 */
#ifndef CAIRN_MSG_INT_H
#define CAIRN_MSG_INT_H

#include <ev.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "common/msg.h"
#include "common/msg_frame.h"

struct msg_sockopts {
	int nodelay;
	int rcvbuf; /* 0: kernel default */
	int sndbuf;
};

struct msg_transport {
	const char *name;
	/* Listening endpoint bound to sa (port 0: any); *bound gets the real address.
	 * Returns a non-blocking fd or a negative errno. */
	int (*listen)(const struct sockaddr_in *sa, struct sockaddr_in *bound);
	/* Next pending connection as a non-blocking fd; -EAGAIN when none. */
	int (*accept)(int lfd, struct sockaddr_in *peer);
	/* Starts a non-blocking connect; the fd turns writable when it finishes. */
	int (*connect)(const struct sockaddr_in *sa);
	/* After writability: 0 when connected, else the negative errno of the failure. */
	int (*connect_finish)(int fd);
	void (*setup)(int fd, const struct msg_sockopts *o);
	/* Bytes moved, 0 on EOF (recv only), -EAGAIN when it would block, or -errno. */
	ssize_t (*recvv)(int fd, struct iovec *iov, int iovcnt);
	ssize_t (*sendv)(int fd, const struct iovec *iov, int iovcnt);
	void (*close)(int fd);
};

extern const struct msg_transport msg_tcp_transport;

/* ---- the messenger's internals, shared by msg.c (messenger, workers, accepting, API) and
 * msg_conn.c (one connection: queues, reading, writing, handshake, sessions). Everything
 * here runs on the connection's worker thread unless it says otherwise. ---- */

#define STAT_ADD(m, f, n) atomic_fetch_add_explicit(&(m)->st.f, (n), memory_order_relaxed)

#define MSG_IOV_MAX	512
#define MSG_WRITE_BATCH (8u << 20) /* bytes offered to one sendmsg */
#define MSG_CTL_CAP	(MSG_FRAME_HDR_LEN + MSG_HELLO_MAX + 256)
#define MSG_DIRECT_READ (64u << 10) /* data remainders this big are read straight into place */
/* Lossless acknowledgements: a message sent back within MSG_ACK_DELAY carries the ack in its
 * header; only a connection that sent nothing meanwhile writes a standalone ACK frame (and
 * wakes the peer for it). Acknowledged at once, at the end of the loop iteration, when
 * this much is unacknowledged (it pins the sender's sentq). */
#define MSG_ACK_DELAY 0.01
#define MSG_ACK_BYTES (1u << 20)
#define MSG_ACK_MSGS  64

enum conn_state { CS_NEW, CS_CONNECTING, CS_HANDSHAKE, CS_OPEN, CS_WAIT, CS_CLOSED };

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
	atomic_int_fast64_t bytes; /* dispatched, not yet freed */
	int64_t limit;		   /* 0: none */
	atomic_int refs;	   /* messenger + outstanding messages */
	atomic_int stalled;	   /* connections that stopped reading */
	pthread_mutex_t lock;	   /* protects m */
	struct msgr *m;		   /* NULL once the messenger is gone */
};

struct msg_in {
	struct msg m;
	struct msg_throttle *thr;
	uint64_t charge;
	/* front bytes follow */
};

struct msg_worker {
	struct msgr *m;
	int idx;
	pthread_t thread;
	int thread_started;
	struct ev_loop *loop;
	ev_async wake;
	ev_timer tick;
	ev_prepare reap;      /* end of each loop iteration: deferred acks, graveyard */
	pthread_mutex_t lock; /* protects kick, attach, stopping */
	struct msg_conn *kick;
	struct msg_attach *attach;
	int stopping;
	int fed; /* loop: wake already fed from this thread */
	/* loop: */
	struct msg_conn *conns;	    /* connections pinned here (c->wnext/wprev) */
	struct msg_conn *throttled; /* stopped reading (c->tnext) */
	struct msg_conn *graveyard; /* closed, registry ref to drop (c->gnext) */
	struct msg_conn *ackq;	    /* owe the peer a standalone ACK (c->anext, holds a ref) */
	struct msg_conn *ackq_late; /* same, after MSG_ACK_DELAY (c->lnext, holds a ref) */
	ev_timer acklate;	    /* flushes ackq_late */
	struct msg_pacc *paccs;	    /* worker 0 */
	struct iovec iov[MSG_IOV_MAX];
};

struct msg_conn {
	atomic_int ref;
	struct msgr *m;
	struct msg_worker *w;
	int policy;
	int outgoing;  /* we connect (and reconnect) */
	char addr[64]; /* connector: target "IP:PORT" */
	struct sockaddr_in sa;
	uint64_t sid; /* session id (chosen by the connector) */
	uint64_t max_msg, max_out;
	int crc_data;

	pthread_mutex_t lock; /* protects the fields up to "loop" */
	pthread_cond_t cond;  /* senders waiting for unwritten < max_out */
	struct oq pend;
	uint64_t unwritten; /* bytes in pend + outq */
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
	uint64_t woff;	   /* bytes of outq.head already written */
	uint64_t out_seq;  /* last seq assigned */
	uint64_t in_seq;   /* last seq received */
	uint64_t acked_in; /* last in_seq we acknowledged */
	uint64_t last_rx_ns, last_tx_ns, connect_ns, wait_ns;
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
	int throttled, on_worker, in_graveyard, ack_queued, ack_late;
	uint64_t rx_unacked; /* bytes read since our last ack went out */
	struct msg_conn *wnext, *wprev, *tnext, *gnext, *anext, *lnext;
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
	uint64_t ka_ns, idle_ns, connect_ns, session_ns;
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

static inline void oq_push(struct oq *q, struct outm *o)
{
	o->next = NULL;
	if (q->tail)
		q->tail->next = o;
	else
		q->head = o;
	q->tail = o;
}

static inline struct outm *oq_pop(struct oq *q)
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

static inline void msgc_get(struct msg_conn *c)
{
	atomic_fetch_add(&c->ref, 1);
}

/* msg_conn.c */
struct msg_conn *msgc_new(struct msgr *m, int policy, int outgoing);
void msgc_io_cb(struct ev_loop *loop, ev_io *io, int revents);
void msgc_retry_cb(struct ev_loop *loop, ev_timer *t, int revents);
/* A HELLO for c arrived on fd (acceptor side): takes the socket, answers, opens. */
void msgc_attach(struct msg_conn *c, int fd, const char *sock_peer, const struct msg_hello *h);
/* Applies what other threads asked of c (c->pend, want_*); the caller holds a ref. */
void msgc_process_kick(struct msg_conn *c);
/* Timeouts and keepalives, from the worker's periodic timer. */
void msgc_tick(struct msg_conn *c, uint64_t now);
void msgc_flush_acks(struct msg_worker *w);
/* The delayed acks (w->ackq_late); with send == 0 only drops their refs (shutdown). */
void msgc_flush_late_acks(struct msg_worker *w, int send);
void msgc_acklate_cb(struct ev_loop *loop, ev_timer *t, int revents);
void msgc_resume_throttled(struct msg_worker *w);
void msgc_unthrottle(struct msg_conn *c);
void msgc_worker_link(struct msg_conn *c);
void msgc_worker_unlink(struct msg_conn *c);
/* Closes everything without callbacks (msgr_destroy). Any thread once the worker stopped. */
void msgc_teardown(struct msg_conn *c);
/* Drops a ref on the receive throttle (any thread). */
void msgc_throttle_put(struct msg_throttle *t);
#ifdef CAIRN_FUZZ
int msgc_fuzz_feed(struct msgr *m, const uint8_t *data, size_t n, int outgoing, int lossless);
#endif

#endif
