/*
 * msg — the messenger: framed, checksummed messages between cairn entities.
 *
 * One messenger per process (or per client instance: no global state). It owns a fixed
 * number of worker threads, each running its own libev loop; every connection is pinned to
 * one loop and its callbacks run on that loop's thread. msg_send() may be called from any
 * thread (cross-thread sends go through a queue and ev_async).
 *
 * Policies (per connection, chosen by the side that connects):
 *   MSG_LOSSLESS  daemon<->daemon. The connecting side reconnects after a failure; messages
 *                 not yet acknowledged are re-sent; the receiver drops duplicates by seq, so
 *                 each message is delivered exactly once and in order. A peer restart (new
 *                 nonce) ends the session: ops->remote_reset is called and the queue is dropped.
 *   MSG_LOSSY     client side. A failure closes the connection, drops what was queued and
 *                 calls ops->reset; the upper layer resends (it tracks its own tids).
 *
 * Ownership: a received struct msg belongs to the dispatch callback (free it with msg_free,
 * from any thread). Outgoing front bytes are copied; outgoing data iovecs are NOT copied:
 * they must stay valid until release(release_arg) is called (always exactly once, also on
 * failure). Transport seams (TCP now, RDMA later) are described in docs/messenger.md.
 * release runs on the connection's loop thread: after the message was written (lossy) or
 * acknowledged by the peer (lossless: it may be re-sent until then); on a msg_send error
 * it runs in the caller before msg_send returns (in msgr_destroy, possibly in its caller).
 * Message types 1..15 are the messenger's (msg_types.h); msg_send refuses the others
 * below 16 with -EINVAL.
 */
#ifndef CAIRN_MSG_H
#define CAIRN_MSG_H

#include <stdint.h>
#include <sys/uio.h>

struct cairn_conf;

enum msg_entity_type {
	MSG_ENTITY_MON = 1,
	MSG_ENTITY_OSD = 2,
	MSG_ENTITY_MDS = 3,
	MSG_ENTITY_CLIENT = 4,
};

struct msg_entity {
	uint8_t type;  /* enum msg_entity_type */
	int64_t num;   /* osd.3 -> 3; clients get a random 63-bit number */
};

/* "osd.3", "client.1234"; returns buf */
const char *msg_entity_str(const struct msg_entity *e, char *buf, size_t len);

enum msg_policy { MSG_LOSSY = 0, MSG_LOSSLESS = 1 };

/* Feature bits exchanged in the handshake; msg_conn_features() is mine & theirs, so a
 * daemon of version N+1 uses a new encoding only towards peers that offered its bit.
 * Bits are never reused. The messenger always offers CAIRN_FEATURES_MSGR on top of
 * msgr_opts.features. Upper layers: ask the messenger owner for a bit. */
#define CAIRN_FEATURE_MSGR_V1 (1ull << 0)  /* frame format v1 (docs/messenger.md) */
#define CAIRN_FEATURE_RDMA (1ull << 1)     /* reserved: peer can switch to the RDMA transport */
#define CAIRN_FEATURES_MSGR CAIRN_FEATURE_MSGR_V1

#define MSG_PRIO_LOW 64
#define MSG_PRIO_DEFAULT 127
#define MSG_PRIO_HIGH 196 /* heartbeats, map updates */
/* (prio travels in the frame header; each connection's queue is strictly FIFO, so a
 * message never overtakes one sent before it on the same connection.) */

/* A received message. */
struct msg {
	uint16_t type;  /* message type id: see common/msg_types.h; never reused */
	uint8_t prio;
	uint64_t tid;   /* transaction id chosen by the sender (replies echo it) */
	uint64_t seq;   /* per-session sequence number assigned by the messenger */
	void *front;    /* encoded structures (malloc'd, owned by the msg) */
	uint32_t front_len;
	void *data;     /* bulk data payload (malloc'd, owned by the msg; NULL if none) */
	uint64_t data_len;
};
void msg_free(struct msg *m);
/* Takes the data payload out of m (the caller frees it); for zero-copy hand-off. Its bytes
 * count against ms_dispatch_throttle_bytes until msg_free(m). */
void *msg_steal_data(struct msg *m, uint64_t *len);

/* An outgoing message; see the ownership rules above. */
struct msg_out {
	uint16_t type;
	uint8_t prio;      /* 0 means MSG_PRIO_DEFAULT */
	uint64_t tid;
	const void *front; /* copied */
	uint32_t front_len;
	const struct iovec *data; /* NOT copied; the iovec array itself is copied */
	int data_iovcnt;
	void (*release)(void *arg); /* data no longer referenced (may be NULL) */
	void *release_arg;
};

struct msg_conn;
struct msgr;

struct msgr_ops {
	/* A message arrived (loop thread). The callee owns m. Must not block. */
	void (*dispatch)(struct msg_conn *c, struct msg *m, void *arg);
	/* An incoming connection finished its handshake (loop thread). Optional. */
	void (*accept)(struct msg_conn *c, void *arg);
	/* A lossy connection failed or was closed by the peer; queued messages are dropped.
	 * Also called for a lossless connection that msg_conn_close() ended. Optional.
	 * (Lossless sessions also end with reset when the peer closed them, and on the
	 * accepting side after ms_session_timeout without the peer coming back.) */
	void (*reset)(struct msg_conn *c, void *arg);
	/* A lossless peer restarted (its session is new): unacked messages were dropped. */
	void (*remote_reset)(struct msg_conn *c, void *arg);
	/* Authentication hook (the auth issue fills it; both optional, loop thread).
	 * get_authorizer: writes at most cap bytes carried in our HELLO; returns the length.
	 * verify_authorizer: judges the peer's authorizer; non-zero refuses the connection
	 * (it is closed with one log line, no callbacks). */
	uint32_t (*get_authorizer)(void *buf, uint32_t cap, void *arg);
	int (*verify_authorizer)(const struct msg_entity *peer, const void *auth, uint32_t len,
				 void *arg);
};

struct msgr_opts {
	struct msg_entity me;
	int nworkers;                  /* event-loop threads; 0 = ms_workers option */
	uint64_t features;             /* feature bits offered in the handshake */
	const struct cairn_conf *conf; /* ms_* options; NULL = defaults */
	const struct msgr_ops *ops;
	void *arg;                     /* passed to every ops callback */
};

struct msgr *msgr_create(const struct msgr_opts *o);
/* Listen on "IP:PORT"; port 0 picks a free port (see msgr_addr). Before msgr_start. */
int msgr_bind(struct msgr *m, const char *addr);
/* The bound address as "IP:PORT" (empty string if not bound). */
const char *msgr_addr(const struct msgr *m);
/* Random per-instance nonce; a restarted process has a new one. */
uint64_t msgr_nonce(const struct msgr *m);
int msgr_start(struct msgr *m);
/* Closes every connection, stops and joins the workers, frees everything. */
void msgr_destroy(struct msgr *m);

/* Counters since msgr_create (relaxed: a snapshot for tests, benchmarks and status). */
struct msgr_stats {
	uint64_t msgs_sent, msgs_recv;   /* MSG frames written / dispatched */
	uint64_t bytes_sent, bytes_recv; /* frame bytes (header + front + data) */
	uint64_t connects, accepts;      /* handshakes completed as connector / acceptor */
	uint64_t failures;               /* sockets lost (errors, EOF, timeouts, injections) */
	uint64_t injected;               /* of which ms_inject_socket_failures */
	uint64_t bad_frames;             /* malformed frames (connection closed) */
	uint64_t resent;                 /* messages written again after a reconnect */
	uint64_t dups;                   /* duplicate messages dropped by seq */
	uint64_t remote_resets;
	uint64_t throttle_stalls;        /* times reading stopped on ms_dispatch_throttle_bytes */
};
void msgr_get_stats(const struct msgr *m, struct msgr_stats *out);

/* Returns a new reference to a connection to addr (connecting in the background; sends are
 * queued until the handshake completes). NULL with errno set on bad address. Lossless
 * connections to the same addr are shared. */
struct msg_conn *msgr_connect(struct msgr *m, const char *addr, enum msg_policy policy);

/* Queue a message. Thread-safe. 0, or -ECONNRESET/-ENOTCONN if the connection is closed,
 * -EMSGSIZE if over ms_max_message_size. Blocks (non-loop threads only) while the
 * connection has more than ms_max_out_bytes queued; on a loop thread it never blocks. */
int msg_send(struct msg_conn *c, const struct msg_out *m);

/* Batching for non-loop threads that send many messages in a burst (an OSD shard draining
 * its queue): between msg_defer_begin() and msg_defer_end() (nestable) this thread's
 * msg_send() queues as usual but holds back the wake-up of the connection's worker, once per
 * connection; msg_defer_end() (or msg_defer_flush()) wakes them all, one wake-up per
 * connection per burst instead of one per message. Order and delivery are unchanged; a
 * msg_send that has to wait for queue space flushes first. No effect on loop threads. */
void msg_defer_begin(void);
void msg_defer_end(void);
void msg_defer_flush(void);
/* msg_send() of a message with only a front payload, taken from an encoded buffer (copied).
 * Returns b->err if the encoding failed. */
struct cbuf;
int msg_send_cbuf(struct msg_conn *c, uint16_t type, uint64_t tid, uint8_t prio,
		  const struct cbuf *b);

struct msg_conn *msg_conn_get(struct msg_conn *c);
void msg_conn_put(struct msg_conn *c);
/* Marks the connection down: closes it, drops its queue, no reconnect. */
void msg_conn_close(struct msg_conn *c);
int msg_conn_is_open(const struct msg_conn *c);
const struct msg_entity *msg_conn_peer(const struct msg_conn *c); /* after handshake */
const char *msg_conn_peer_addr(const struct msg_conn *c);         /* peer's listen addr or "" */
uint64_t msg_conn_features(const struct msg_conn *c);            /* negotiated: mine & theirs */
/* One opaque pointer for the upper layer (e.g. the session it belongs to). */
void msg_conn_set_priv(struct msg_conn *c, void *priv);
void *msg_conn_get_priv(const struct msg_conn *c);

#endif
