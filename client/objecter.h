/*
 * objecter — the client's op engine: placement, sending, resending and completing object ops.
 *
 * An op (struct objecter_op, owned by the caller) is one osd_op_req for one object (or, for
 * LIST, one PG). The objecter computes its target from the newest osdmap it holds
 * (object -> PG through the pool's hash -> CRUSH -> acting primary), sends it over a lossy
 * messenger connection to that OSD and tracks it by tid until it ends, exactly once, through
 * op->finish. It resends (same reqid, OSD_REQ_RETRY) when
 *   - a new map changes the op's PG primary, or the target OSD goes down / changes address,
 *   - the connection to the target resets (after a backoff: client_op_resend_backoff_ms,
 *     doubling up to client_op_resend_backoff_max_ms),
 *   - the OSD answers -ESTALE/MISDIRECTED (the op waits for a map >= the OSD's epoch).
 * It ends an op with the OSD's result, -ENOENT if its pool disappears, -ETIMEDOUT when its
 * deadline (client_op_timeout, or op->timeout_ns) passes, -ESHUTDOWN at objecter_shutdown.
 *
 * Op states (all transitions under o->lock):
 *     NEW --submit--> QUEUED --flush (target found)--> SENT --reply--> DONE
 *                       ^   \--flush (no map / no primary / paused)--> WAIT
 *                       |                                                |
 *                       +---- map change / timer (backoff over) ---------+
 *     SENT --reset / map change / stale reply--> WAIT or QUEUED;  any --deadline--> DONE
 * op->finish runs once the op is DONE and the messenger released every send of it (the op's
 * input iovecs may be referenced until then), without o->lock held, on whichever thread
 * ended it (messenger loop, timer, or the caller of objecter_shutdown).
 */
#ifndef CAIRN_OBJECTER_H
#define CAIRN_OBJECTER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "common/osd_proto.h"

struct msgr;
struct msg;
struct msg_conn;
struct monc;
struct osdmap;
struct cairn_conf;
struct objecter;
struct objecter_op;

/* The op ended. result: 0 or negative errno (the OSD's result, or the objecter's).
 * reply/data: the OSD's reply and its data payload when the OSD answered (else NULL/0);
 * valid only during the call. */
typedef void (*objecter_finish_fn)(struct objecter_op *op, int result,
				   const struct osd_op_reply *reply, const uint8_t *data,
				   uint64_t data_len);

struct objecter_op {
	/* --- filled by the caller before objecter_submit --- */
	struct osd_op_req req;      /* oid, nops, ops[] (names point to caller memory);
				     * reqid, pgid (unless pg_target), epoch, flags: objecter */
	int64_t pool;
	bool pg_target;             /* req.pgid is given (LIST); the oid is not hashed */
	const struct iovec *iov;    /* input data payload; NOT OWNER, valid until finish */
	int iovcnt;
	uint64_t data_len;          /* sum of iov lengths */
	uint64_t timeout_ns;        /* 0: client_op_timeout */
	objecter_finish_fn finish;
	void *priv;

	/* --- objecter private --- */
	struct objecter *o;
	uint64_t tid;
	int state;
	int attempts;
	int pending;                /* atomic: 1 (not yet ended) + sends not yet released */
	int result;
	uint32_t min_epoch;         /* wait for a map at least this new before sending */
	int target_osd;
	uint64_t deadline_ns;       /* 0: none */
	uint64_t next_try_ns;
	struct osd_session *sess;
	struct msg *reply_msg;
	struct osd_op_reply reply;
	bool has_reply;
	struct objecter_op *prev, *next;   /* all live ops, tid order */
	struct objecter_op *hnext;         /* tid hash chain */
	struct objecter_op *qnext;         /* send queue */
	bool queued;
};

struct objecter_opts {
	struct msgr *msgr;             /* NOT OWNER; the caller routes messages and resets here */
	struct monc *monc;             /* NOT OWNER */
	const struct cairn_conf *conf; /* client_* options; may be NULL */
	int64_t client_num;            /* our entity number (reqids) */
};

struct objecter *objecter_create(const struct objecter_opts *opts);
/* The monitor client (created after the objecter, since its map callback calls us). */
void objecter_set_monc(struct objecter *o, struct monc *mc);
/* Starts the timer thread. */
int objecter_start(struct objecter *o);
/* Ends every op with -ESHUTDOWN (their finish runs once the messenger released their sends:
 * call before msgr_destroy), stops the timer, refuses new ops. */
void objecter_shutdown(struct objecter *o);
/* Frees the objecter (after objecter_shutdown and msgr_destroy). */
void objecter_destroy(struct objecter *o);

/* Routing from the process's messenger callbacks. handle_msg returns 1 if it consumed m. */
int objecter_handle_msg(struct objecter *o, struct msg_conn *c, struct msg *m);
void objecter_handle_reset(struct objecter *o, struct msg_conn *c);
/* A new map (monc's on_osdmap callback; borrowed). */
void objecter_handle_map(struct objecter *o, struct osdmap *map);

/* Starts op. 0 (op->finish will run exactly once), or -ESHUTDOWN / -EINVAL (finish will not
 * run). May block while client_max_inflight_ops ops are in flight (never on a callback). */
int objecter_submit(struct objecter *o, struct objecter_op *op);

/* A reference to the newest map the objecter acts on (osdmap_put it), or NULL. */
struct osdmap *objecter_get_map(struct objecter *o);
int objecter_inflight(struct objecter *o);
/* Waits until no op is in flight (ops submitted meanwhile included). */
void objecter_flush(struct objecter *o);
struct cairn_stats;
/* Fills the objecter's counters (cairn_get_stats). */
void objecter_get_stats(struct objecter *o, struct cairn_stats *st);
/* True while the calling thread runs an op's finish callback. */
bool objecter_in_callback(void);

#endif
