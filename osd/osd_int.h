/*
 * osd_int — internals shared by the OSD daemon's files (osd.c: boot, dispatch, maps, tick;
 * pg.c: placement groups, the op path and replication; heartbeat.c: peer liveness).
 *
 * Threads and who owns what:
 *   messenger loops   decode messages, push items to the PG's shard; answer pings.
 *   shard workers     (op_queue) own their PGs entirely: all PG state below is touched only
 *                     by the PG's shard thread, except pg->pub (the stats snapshot), which is
 *                     written under shard->stat_lock for the tick thread.
 *   store threads     completion callbacks: push OQ_LOCAL_COMMIT items, send repop replies.
 *   tick thread       heartbeats, failure reports, PG stats, boot retries.
 */
#ifndef CAIRN_OSD_OSD_INT_H
#define CAIRN_OSD_OSD_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/mon_proto.h"
#include "common/osd_proto.h"
#include "common/osdmap.h"
#include "osd/op_queue.h"
#include "osd/osd_msgs.h"
#include "osd/pg_log.h"

struct cairn_conf;
struct store;
struct msgr;
struct msg;
struct msg_conn;
struct monc;
struct pg;
struct osd_hb;

enum osd_item_type {
	OQ_CLIENT_OP = 1,
	OQ_REPOP,
	OQ_REPOP_REPLY,
	OQ_LOCAL_COMMIT,
	OQ_MAP,
	OQ_PEER_RESET, /* rc = the OSD whose session was reset */
	OQ_PG_QUERY,   /* peer: decoded MSG_OSD_PG_QUERY */
	OQ_PG_NOTIFY,
	OQ_PG_PULL,
	OQ_PUSH_APPLIED, /* a push this OSD pulled while peering is durable */
	OQ_TICK,         /* once a second from the tick thread: retries */
	OQ_RECOVERY,   /* issue 8: peering/recovery message, tick or commit (recovery.c) */
};

/* One unit of PG work. */
struct osd_item {
	struct oq_item q; /* first */
	struct pg_id pgid;
	struct msg_conn *conn;   /* reference held (replies go here); NULL for internal items */
	struct msg *m;           /* the message, owned */
	struct osd_op_req *req;  /* OQ_CLIENT_OP: decoded request (owned) */
	struct osd_repop repop;  /* OQ_REPOP */
	struct osd_repop_reply rr; /* OQ_REPOP_REPLY */
	struct osd_pg_peer peer; /* OQ_PG_QUERY / OQ_PG_NOTIFY / OQ_PG_PULL */
	struct osd_eversion v;   /* OQ_LOCAL_COMMIT */
	int rc;
	struct osdmap *map;      /* OQ_MAP: reference held */
};
void osd_item_free(struct osd_item *it);

#define OSD_PG_BUCKETS 256

struct osd_shard {
	struct osd *osd;
	unsigned idx;
	struct osdmap *map;         /* newest map this shard has processed (own thread) */
	struct pg *pg_buckets[OSD_PG_BUCKETS]; /* hash chains; modified under stat_lock */
	struct pg *pg_list;         /* every PG of the shard; modified under stat_lock */
	pthread_mutex_t stat_lock;
	struct osd_item *wait_map_head, *wait_map_tail; /* items needing a newer map */
};

struct osd {
	int32_t id;
	struct cairn_conf *conf;
	struct store *store;
	uint8_t uuid[16];
	struct msgr *msgr;    /* clients, mon, peers' repops */
	struct msgr *hb_msgr; /* outgoing heartbeats only */
	struct monc *monc;    /* NULL once stopping; messenger callbacks use it under monc_lock */
	pthread_rwlock_t monc_lock;
	struct op_queue *oq;
	unsigned nshards;
	struct osd_shard *shards;
	char addr[OSDMAP_ADDR_MAX];

	pthread_mutex_t map_lock;
	struct osdmap *map;   /* newest map (protected by map_lock) */

	atomic_bool stopping;
	pthread_mutex_t cb_lock; /* orders store callbacks against the queue's destruction */
	bool oq_gone;            /* protected by cb_lock */
	pthread_t tick;
	pthread_mutex_t tick_lock;
	pthread_cond_t tick_cond;
	struct osd_hb *hb;

	/* options, read once */
	uint32_t log_max;
	uint64_t max_write;
	uint32_t list_max;
	uint32_t inflight_max; /* osd_inflight_writes_max, per PG */
	bool inline_ops;        /* osd_inline_ops */
	bool inline_repops;     /* osd_inline_repops */
	bool inline_writes;     /* osd_inline_writes */

	/* counters (atomic) */
	atomic_uint_fast64_t ops, ops_write, ops_misdirected, ops_dup, repops;
	atomic_uint_fast64_t reads_inline, reads_handed_back; /* osd_inline_ops */
	atomic_uint_fast64_t repops_inline, repops_handed_back; /* osd_inline_repops */
	atomic_uint_fast64_t writes_inline, writes_handed_back; /* osd_inline_writes */
};

/* Pushes from a store callback; frees the item instead once the queue is gone. */
void osd_push_from_callback(struct osd *o, unsigned shard, struct osd_item *it);
/* The current map (a reference), or NULL. */
struct osdmap *osd_get_map(struct osd *o);
/* Sends a reply to a client request (takes ownership of out->data). */
void osd_send_reply(struct osd *o, struct msg_conn *c, const struct osd_op_req *req,
		    int32_t result, uint32_t flags, uint32_t epoch, struct osd_eversion ver,
		    const struct osd_op_result *res, uint32_t nops, struct cbuf *out);
/* Answers -ESTALE (misdirected) with the shard's epoch, and frees the item. */
void osd_reply_misdirected(struct osd_shard *sh, struct osd_item *it);
/* Re-runs an item through the shard's dispatcher (used when a waiting list is released). */
void osd_shard_requeue(struct osd_shard *sh, struct osd_item *it);

/* ---- pg.c ------------------------------------------------------------------------------- */

struct repop;

struct pg {
	struct pg *hnext, *next;     /* shard hash chain / shard list */
	struct osd_shard *shard;
	struct osd *osd;
	struct pg_id id;
	char coll[PG_ID_STR_MAX];    /* store collection: "1.2a" */
	char meta_oid[48];           /* meta object holding the log and info */

	/* mapping at shard->map */
	int32_t up[CAIRN_MAX_REPLICAS], acting[CAIRN_MAX_REPLICAS];
	int nup, nacting;
	int32_t up_primary, primary;
	uint8_t pool_size, pool_min_size;
	uint32_t map_epoch;
	uint64_t state;              /* PG_STATE_* */

	struct pg_info info;
	struct pg_log log;

	/* primary side */
	struct repop *inflight_head, *inflight_tail; /* in version order */
	unsigned ninflight;
	struct osd_item *waiting_head, *waiting_tail; /* waiting for the PG to become active */
	struct osd_item *blocked_head, *blocked_tail; /* waiting for an earlier write to the same object */
	/* the acting set when the PG last went active: while peering, in-flight writes are
	 * re-sent only to these (a member new since then may not hold the PG yet) */
	int32_t active_acting[CAIRN_MAX_REPLICAS];
	int active_nacting;

	/* peering (pg_peering.c) */
	bool peering;
	uint64_t peer_sent_ns;                        /* mono time of the last query/pull sent */
	int32_t peer_pulling;                         /* OSD we pull from, -1 = none */
	struct osd_eversion peer_pull_from;           /* our last_update when we pulled */
	int npeer_info;
	int32_t peer_osd[CAIRN_MAX_REPLICAS];         /* OSDs that answered the query ... */
	struct osd_eversion peer_lu[CAIRN_MAX_REPLICAS]; /* ... and their last_update */
	int peer_pending;                             /* pushes to us queued, not yet durable */
	struct pg_rec *rec;                           /* issue 8 state (recovery.c) */

	int32_t gap_osd[CAIRN_MAX_REPLICAS];         /* osd + 1 of a replica with a log gap */
	struct osd_eversion gap_at[CAIRN_MAX_REPLICAS]; /* where its log ended (re-sent from) */

	struct mon_pg_stat pub;      /* stats snapshot; protected by shard->stat_lock */
};

/* Finds or (when create) loads/creates the PG on the store. NULL if absent/failed. */
struct pg *pg_lookup(struct osd_shard *sh, struct pg_id id);
/* Creates the in-memory PG, loading its log if the store has it, else adding the
 * collection and meta object to *batch (allocated on demand). */
struct pg *pg_create(struct osd_shard *sh, struct pg_id id, uint32_t epoch,
		     struct store_txn **batch);
/* Takes the PG out of its shard's lookup table and list (then pg_destroy it). Shard thread,
 * never while walking the shard's PG list. */
void pg_unlink(struct pg *pg);
void pg_destroy(struct pg *pg);
/* The shard processed a new map: recompute mapping, interval, state; release waiters. */
void pg_handle_map(struct pg *pg, const struct osdmap *map, const struct pool_info *pool,
		   const int32_t *up, int nup, int32_t up_primary, const int32_t *acting,
		   int nacting, int32_t primary);
void pg_do_client_op(struct pg *pg, struct osd_item *it);
void pg_do_repop(struct pg *pg, struct osd_item *it);
void pg_do_repop_reply(struct pg *pg, struct osd_item *it);
void pg_do_local_commit(struct pg *pg, struct osd_item *it);
/* A lossless session to osd was reset (it restarted): re-send what it has not acked. */
void pg_peer_reset(struct pg *pg, int32_t osd);
/* Peering activated the acting set: re-sends the in-flight writes each member has not acked
 * (a member already holding one acks it; a new member has it in its log and missing set). */
void pg_resend_inflight(struct pg *pg);
/* The PG went active with its current acting set (pg_activate, recovery.c). */
void pg_note_active(struct pg *pg);
void pg_drop_divergent(struct pg *pg, const struct pg_log_entry *ents, uint32_t n);
/* Publishes the stats snapshot (takes shard->stat_lock). */
void pg_publish(struct pg *pg);

static inline bool in_set_i32(const int32_t *set, int n, int32_t id)
{
	for (int i = 0; i < n; i++)
		if (set[i] == id)
			return true;
	return false;
}
/* Ends peering: the PG's state from its acting set; waiting ops run. */
void pg_activate(struct pg *pg);

/* Whether match(arg, oid) holds for the object of an in-flight write (recovery.c). */
bool pg_inflight_any(struct pg *pg, bool (*match)(void *arg, const char *oid), void *arg);

/* ---- pg_peering.c ------------------------------------------------------------------------ */
void pg_start_peering(struct pg *pg);
/* Re-evaluates peering after an answer or an applied push. */
void pg_peering_check(struct pg *pg);
void pg_do_peer_msg(struct pg *pg, struct osd_item *it);
void pg_push_applied(struct pg *pg, struct osd_item *it);
/* Re-sends queries and pulls of a PG that has been peering for a while (lost messages). */
void pg_peering_tick(struct pg *pg, uint64_t now);

/* ---- pg_push.c: catch-up of a replica whose log ends at from (see the file) --------------
 * Pushes the objects of the entries in (from, stop) as one replica transaction. 1 = pushed
 * up to *upto, 0 = nothing to push, -ERANGE = from is older than the log (backfill needed),
 * other <0 = error. */
int pg_push_missing(struct pg *pg, int32_t osd, struct osd_eversion from,
		    struct osd_eversion stop, struct osd_eversion *upto);

/* ---- heartbeat.c ----------------------------------------------------------------------- */

int osd_hb_init(struct osd *o);
void osd_hb_destroy(struct osd *o);
/* Tick-thread work: pings, failure reports. */
void osd_hb_tick(struct osd *o, const struct osdmap *map);
/* A ping reply arrived (hb messenger thread). */
void osd_hb_handle_reply(struct osd *o, const struct osd_ping *p);

#endif
