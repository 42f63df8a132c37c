/*
 * osd_msgs — OSD <-> OSD wire format: replication (MSG_OSD_REPOP / MSG_OSD_REPOPREPLY) and
 * heartbeats (MSG_OSD_PING / MSG_OSD_PING_REPLY). Type ids: common/msg_types.h 200..299.
 *
 * A repop carries, in its front, the PG log entry and the PG info the primary produced
 * for one write, and in its data payload the encoded store transaction (store_txn_encode)
 * that the primary applied: data change + log entry + info, so every replica writes the
 * same bytes and keeps an identical log. The replica applies repops of one PG in version
 * order and answers MSG_OSD_REPOPREPLY once the transaction is durable (committed).
 */
#ifndef CAIRN_OSD_OSD_MSGS_H
#define CAIRN_OSD_OSD_MSGS_H

#include <stdint.h>

#include "common/encode.h"
#include "common/osd_proto.h"
#include "osd/pg_log.h"

#define OSD_REPOP_FORCE 0x1 /* apply even if the replica's log does not end at prior */

struct osd_repop {
	struct pg_id pgid;
	uint32_t map_epoch;         /* the primary's map epoch when it sent this */
	int32_t from;               /* primary's OSD id */
	uint32_t flags;             /* OSD_REPOP_* */
	struct osd_eversion prior;  /* the PG's last_update before this entry */
	struct pg_log_entry entry;  /* entry.oid: decode allocates (osd_repop_clear) */
	struct pg_info info;        /* PG info after this write */
};
void osd_repop_encode(struct cbuf *b, const struct osd_repop *r);
int osd_repop_decode(struct cdec *d, struct osd_repop *r);
void osd_repop_clear(struct osd_repop *r);

struct osd_repop_reply {
	struct pg_id pgid;
	uint32_t map_epoch;   /* the replica's map epoch */
	int32_t from;         /* replica's OSD id */
	struct osd_eversion version;
	int32_t result;       /* 0 = committed; -EAGAIN = gap (its log ends before prior) */
	struct osd_eversion last_update; /* the replica's last_update */
};
void osd_repop_reply_encode(struct cbuf *b, const struct osd_repop_reply *r);
int osd_repop_reply_decode(struct cdec *d, struct osd_repop_reply *r);

/* MSG_OSD_PG_QUERY / MSG_OSD_PG_NOTIFY / MSG_OSD_PG_PULL (see osd/pg_peering.c) */
struct osd_pg_peer {
	struct pg_id pgid;
	uint32_t epoch;           /* sender's map epoch */
	int32_t from;             /* sender's OSD id */
	struct pg_info info;      /* NOTIFY: the sender's PG info (zero if it has no such PG) */
	struct osd_eversion since; /* PULL: push the entries after this version */
};
void osd_pg_peer_encode(struct cbuf *b, const struct osd_pg_peer *p);
int osd_pg_peer_decode(struct cdec *d, struct osd_pg_peer *p);

struct osd_ping {
	int32_t from;
	uint32_t epoch;
	uint64_t stamp_ns; /* sender's monotonic clock; echoed in the reply */
};
void osd_ping_encode(struct cbuf *b, const struct osd_ping *p);
int osd_ping_decode(struct cdec *d, struct osd_ping *p);

#endif
