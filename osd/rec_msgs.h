/*
 * rec_msgs — OSD <-> OSD wire format of peering and recovery (issue 8): PG queries and
 * notifies, activation, object push / pull, backfill progress. Type ids: common/msg_types.h
 * 210..269. One struct (struct rec_msg) serves every type: each type uses the fields its
 * comment in msg_types.h names; unused fields travel empty. Object data of a push travels
 * in the message's data payload, everything else in the front (one versioned envelope).
 *
 * Decoding allocates the arrays and strings (rec_msg_clear frees them) and checks every
 * count against the input before allocating.
 */
#ifndef CAIRN_OSD_REC_MSGS_H
#define CAIRN_OSD_REC_MSGS_H

#include <stdint.h>

#include "common/encode.h"
#include "common/osd_proto.h"
#include "osd/pg_log.h"

/* rec_msg.flags */
#define REC_F_HAS_PG     0x01 /* notify: the sender holds the PG */
#define REC_F_SCAN       0x02 /* query: also list every object (oids); notify: oids is that list */
#define REC_F_BACKFILL   0x04 /* notify: sender is a backfill target (boundary = bf_*);
			       * activate: the target restarts/continues backfill at bf_* */
#define REC_F_EXISTS     0x08 /* push: the object exists (else: remove it) */
#define REC_F_LA_ONLY    0x10 /* activate: only the last-active record changes */
#define REC_F_BF_DONE    0x20 /* backfill progress: the target is complete */
#define REC_F_STRAY      0x40 /* notify, unasked: the sender holds a copy outside up and acting */

struct rec_kv {
	uint8_t *key;
	uint32_t klen;
	uint8_t *val;
	uint32_t vlen;
};

struct rec_msg {
	struct pg_id pgid;
	uint32_t epoch;     /* sender's map epoch */
	int32_t from;       /* sender's OSD id */
	uint64_t token;     /* peering round (query -> notify) or recovery op id */
	uint32_t flags;     /* REC_F_* */
	int32_t result;     /* replies: 0 or -errno */
	struct pg_info info;
	/* last-active record: the complete members of the newest interval that went active */
	uint32_t la_epoch;
	uint32_t nla;
	int32_t la[CAIRN_MAX_REPLICAS];
	/* backfill boundary: objects before (bf_hash, bf_name) are current on the target */
	uint64_t bf_hash;
	char *bf_name;      /* may be NULL (= "") */
	uint8_t bf_end;     /* boundary is past the last object */
	uint64_t lo_hash;   /* backfill progress: the range [lo, bf) the keep list covers */
	char *lo_name;
	uint32_t nentries;  /* notify/activate: the PG log, oldest first */
	struct pg_log_entry *entries;
	uint32_t noids;     /* notify: missing (or scan) oids; activate: the target's missing;
			     * backfill progress: objects to keep in [lo, bf) */
	char **oids;
	/* push */
	char *oid;
	uint64_t size;
	uint32_t nattrs;
	struct rec_kv *attrs; /* xattrs: key = name (klen bytes, no NUL) */
	uint32_t nomap;
	struct rec_kv *omap;
};

void rec_msg_encode(struct cbuf *b, const struct rec_msg *m);
/* Decodes into m (zeroed first). 0 or -EBADMSG/-ENOMEM; on error m holds nothing. */
int rec_msg_decode(struct cdec *d, struct rec_msg *m);
/* Reads only the PG id (for sharding on the messenger thread). */
int rec_msg_peek_pgid(const void *p, size_t n, struct pg_id *out);
void rec_msg_clear(struct rec_msg *m);

#endif
