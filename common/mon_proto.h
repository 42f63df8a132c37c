/*
 * mon_proto — the monitor protocol: message bodies exchanged with cairn-mon.
 *
 * Each message type (ids in common/msg_types.h, 16..99) has one struct, one encode and one
 * decode here, side by side. Every body is one versioned envelope (common/encode.h) and
 * travels in struct msg's front; decoders are validation (-EBADMSG on anything short or
 * malformed) and never read outside the input.
 *
 * Decoded messages that carry variable-size parts say who owns them: the *_free() function
 * of the struct releases what its decoder allocated. Map blobs in struct mon_osdmap_msg
 * point INTO the decoded input (zero copy): keep the input alive while using them.
 *
 * Conversation sketch (docs/maps.md has the full story):
 *   client/osd -> mon  MON_SUBSCRIBE {osdmap from epoch E}
 *   mon -> sub         MON_OSDMAP {incrementals E..last, or a full map if E is too old}
 *                      ... and one MON_OSDMAP per new epoch afterwards
 *   osd -> mon         MON_OSD_BOOT, MON_OSD_FAILURE, MON_OSD_ALIVE, MON_PG_STATS
 *   osd -> mon         MON_PG_LA {records to store / read} -> MON_PG_LA_REPLY {mon's records}
 *   any -> mon         MON_GET_OSDMAP {range}; MON_COMMAND {argv, input} -> MON_COMMAND_REPLY
 */
#ifndef CAIRN_MON_PROTO_H
#define CAIRN_MON_PROTO_H

#include <stdint.h>

#include "common/osdmap.h"

struct cbuf;
struct cdec;

/* ---- MON_SUBSCRIBE ---------------------------------------------------------------------- */
#define MON_SUB_OSDMAP 1
#define MON_SUB_MDSMAP 2 /* reserved */
#define MON_SUB_MAX_ITEMS 8
#define MON_SUB_ONETIME 0x1 /* send what is asked, then drop the subscription */

struct mon_sub_item {
	uint32_t what;  /* MON_SUB_* */
	uint32_t start; /* first epoch wanted (0: the latest full map) */
	uint32_t flags; /* MON_SUB_ONETIME */
};
struct mon_subscribe {
	uint32_t n;
	struct mon_sub_item items[MON_SUB_MAX_ITEMS];
};
int mon_subscribe_encode(const struct mon_subscribe *s, struct cbuf *b);
int mon_subscribe_decode(struct mon_subscribe *s, const void *p, size_t n);

/* ---- MON_OSDMAP (mon -> anyone): full maps and/or incrementals -------------------------- */
#define MON_OSDMAP_MAX_BLOBS 1024
struct mon_map_blob {
	uint32_t epoch;
	const uint8_t *data; /* points into the decoded input; NOT OWNER */
	uint32_t len;
};
struct mon_osdmap_msg {
	uint8_t fsid[16];
	uint32_t oldest;     /* oldest epoch the mon still has */
	uint32_t newest;     /* the mon's latest epoch */
	uint32_t num_full;   /* full maps, ascending epoch */
	struct mon_map_blob *full;
	uint32_t num_inc;    /* incrementals, ascending and contiguous epochs */
	struct mon_map_blob *inc;
};
/* Encoder reads the arrays; decoder allocates them (mon_osdmap_msg_free). */
int mon_osdmap_msg_encode(const struct mon_osdmap_msg *m, struct cbuf *b);
int mon_osdmap_msg_decode(struct mon_osdmap_msg *m, const void *p, size_t n);
void mon_osdmap_msg_free(struct mon_osdmap_msg *m);

/* ---- MON_GET_OSDMAP (anyone -> mon) --------------------------------------------------- */
struct mon_get_osdmap {
	uint32_t start; /* first epoch wanted (incrementals start..end) */
	uint32_t end;   /* 0: up to the newest */
	uint8_t full;   /* 1: send full maps instead of incrementals */
};
int mon_get_osdmap_encode(const struct mon_get_osdmap *g, struct cbuf *b);
int mon_get_osdmap_decode(struct mon_get_osdmap *g, const void *p, size_t n);

/* ---- MON_OSD_BOOT (osd -> mon) ---------------------------------------------------------- */
#define MON_HOST_MAX 64
struct mon_osd_boot {
	int32_t id;               /* the OSD's id (>= 0; the OSD picks it from its config) */
	uint8_t uuid[16];         /* store fsid: a different uuid under a live id is refused */
	char addr[OSDMAP_ADDR_MAX]; /* "IP:PORT" the OSD listens on */
	char host[MON_HOST_MAX];  /* CRUSH host bucket to place a new OSD under ("" = host-<id>) */
	uint64_t store_bytes;     /* capacity; weight = store_bytes / 1 TiB when weight == 0 */
	uint32_t weight;          /* 16.16 CRUSH weight for a new OSD; 0 = from store_bytes */
	uint32_t epoch;           /* newest map epoch the OSD has */
};
int mon_osd_boot_encode(const struct mon_osd_boot *bt, struct cbuf *b);
int mon_osd_boot_decode(struct mon_osd_boot *bt, const void *p, size_t n);

/* ---- MON_OSD_FAILURE (osd -> mon) ------------------------------------------------------- */
#define MON_FAILURE_FAILED 0x0    /* target missed heartbeats */
#define MON_FAILURE_ALIVE  0x1    /* cancel an earlier report: the target answered again */
struct mon_osd_failure {
	int32_t reporter;
	int32_t target;
	uint32_t failed_for; /* seconds since the last heartbeat reply */
	uint32_t epoch;      /* reporter's map epoch */
	uint32_t flags;      /* MON_FAILURE_* */
};
int mon_osd_failure_encode(const struct mon_osd_failure *f, struct cbuf *b);
int mon_osd_failure_decode(struct mon_osd_failure *f, const void *p, size_t n);

/* ---- MON_OSD_ALIVE (osd -> mon): liveness ping and up_thru request ----------------------- */
struct mon_osd_alive {
	int32_t id;
	uint32_t want_up_thru; /* 0: just a ping */
	uint32_t epoch;
};
int mon_osd_alive_encode(const struct mon_osd_alive *a, struct cbuf *b);
int mon_osd_alive_decode(struct mon_osd_alive *a, const void *p, size_t n);

/* ---- MON_PG_STATS (osd -> mon) --------------------------------------------------------- */
struct mon_pg_stat {
	struct pg_id pg;
	uint64_t state;            /* PG_STATE_* bits (common/pg_state.h) */
	uint8_t nup, nacting;
	int32_t up[CAIRN_MAX_REPLICAS];
	int32_t acting[CAIRN_MAX_REPLICAS];
	int32_t up_primary, acting_primary;
	uint32_t reported_epoch;   /* map epoch the state was computed at */
	uint64_t num_objects;
	uint64_t num_bytes;
	uint32_t last_update_epoch; /* last_update = epoch'version */
	uint64_t last_update_version;
	uint64_t log_size;
	uint64_t objects_missing;   /* on the primary or replicas */
	uint64_t objects_degraded;  /* copies short */
	uint64_t objects_misplaced;
	uint64_t objects_unfound;
	uint64_t recovery_objects_left; /* progress: what remains ... */
	uint64_t recovery_bytes_left;
	uint64_t recovery_objects_done; /* ... and what was done since the PG started recovering */
	uint64_t recovery_bytes_done;
	uint64_t last_scrub_stamp;      /* wall ns; 0 = never */
	uint64_t last_deep_scrub_stamp;
};
struct mon_osd_stat {
	uint64_t bytes_total;
	uint64_t bytes_used;
	uint32_t num_pgs;
};
#define MON_PG_STATS_MAX 65536
struct mon_pg_stats {
	int32_t osd;
	uint32_t epoch;
	struct mon_osd_stat osd_stat;
	uint32_t num_pgs;
	struct mon_pg_stat *pgs; /* only PGs this OSD is primary for */
};
int mon_pg_stats_encode(const struct mon_pg_stats *s, struct cbuf *b);
int mon_pg_stats_decode(struct mon_pg_stats *s, const void *p, size_t n);
void mon_pg_stats_free(struct mon_pg_stats *s);
/* One pg stat entry alone (also used by the mon's store). */
void mon_pg_stat_encode(const struct mon_pg_stat *ps, struct cbuf *b);
int mon_pg_stat_decode_one(struct cdec *d, struct mon_pg_stat *ps);

/* ---- MON_COMMAND / MON_COMMAND_REPLY ---------------------------------------------------- */
#define MON_CMD_MAX_ARGS 64
#define MON_CMD_MAX_ARG_LEN 4096
#define MON_CMD_MAX_INPUT (16u << 20)
struct mon_command {
	uint32_t argc;
	char **argv;        /* decoder allocates (mon_command_free) */
	const uint8_t *in;  /* input blob (e.g. a CRUSH map for setcrushmap); NOT OWNER */
	uint32_t inlen;
};
int mon_command_encode(const struct mon_command *c, struct cbuf *b);
int mon_command_decode(struct mon_command *c, const void *p, size_t n);
void mon_command_free(struct mon_command *c);

struct mon_command_reply {
	int32_t rc;            /* 0 or negative errno */
	const char *status;    /* one line for humans ("pool 'x' created"); NOT OWNER when encoding */
	const uint8_t *out;    /* JSON text, or binary (getcrushmap); NOT OWNER */
	uint32_t outlen;
	uint32_t epoch;        /* osdmap epoch after the command */
};
/* Decoder: status is malloc'd (mon_command_reply_free), out points into the input. */
int mon_command_reply_encode(const struct mon_command_reply *r, struct cbuf *b);
int mon_command_reply_decode(struct mon_command_reply *r, const void *p, size_t n);
void mon_command_reply_free(struct mon_command_reply *r);

/* ---- MON_PG_LA (osd -> mon) / MON_PG_LA_REPLY (mon -> osd) ---------------------------------
 * Last-active records of PGs (docs/recovery.md "Past intervals"): the epoch and the complete
 * members of the newest interval of a PG that went active. A primary stores its record before
 * it serves a new interval (epoch != 0) and reads the mon's record while peering (epoch 0).
 * The reply carries, per record asked about, the record the mon holds after the request
 * (epoch 0: none), with the request's token echoed. */
#define MON_PG_LA_MAX 4096
struct mon_pg_la {
	struct pg_id pg;
	uint64_t token;
	uint32_t epoch;
	uint32_t n;
	int32_t osds[CAIRN_MAX_REPLICAS];
};
struct mon_pg_la_msg {
	int32_t osd;             /* sender */
	uint32_t n;
	struct mon_pg_la *recs;  /* decoder: malloc'd (mon_pg_la_msg_free) */
};
int mon_pg_la_msg_encode(const struct mon_pg_la_msg *m, struct cbuf *b);
int mon_pg_la_msg_decode(struct mon_pg_la_msg *m, const void *p, size_t n);
void mon_pg_la_msg_free(struct mon_pg_la_msg *m);
/* One record alone (also the mon store's value). */
void mon_pg_la_encode_one(const struct mon_pg_la *r, struct cbuf *b);
int mon_pg_la_decode_one(struct cdec *d, struct mon_pg_la *r);

#endif
