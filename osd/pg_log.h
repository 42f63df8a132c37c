/*
 * pg_log — a placement group's log of modifications, its info record, and the request-id
 * index that makes resent writes idempotent.
 *
 * Every write applied to a PG gets the next version (epoch, v) and one log entry
 * {version, reqid, op, oid, mtime}. The entry, the updated pg_info and the object data
 * change are one store transaction (crash rule: either all three are on disk or none).
 * The log is bounded: past osd_pg_log_max_entries the oldest entries are trimmed, in the
 * same transaction that adds new ones (trimming is batched by PG_LOG_TRIM_CHUNK).
 *
 * On-disk layout (collection "meta", object "pglog.<pgid>", omap):
 *     "info"                      -> pg_info_encode()
 *     "e.<epoch %010u>.<v %020>"  -> pg_log_entry_encode()   (byte order == version order)
 *
 * In memory: a ring of the newest entries plus a hash index reqid -> version for
 * duplicate detection (answers a resend from the log, never applies it twice).
 * Not thread-safe: a PG's log is only touched by the worker thread owning the PG.
 * Issue 8's recovery reads the entries (oid, op) to compute missing objects.
 */
#ifndef CAIRN_OSD_PG_LOG_H
#define CAIRN_OSD_PG_LOG_H

#include <stdbool.h>
#include <stdint.h>

#include "common/encode.h"
#include "common/osd_proto.h"

struct store;
struct store_txn;

#define PG_META_COLL "meta"
#define PG_LOG_TRIM_CHUNK 64
#define PG_LOG_KEY_MAX 40

enum pg_log_op {
	PG_LOG_MODIFY = 1, /* object created or changed */
	PG_LOG_DELETE = 2, /* object removed */
};

struct pg_log_entry {
	struct osd_eversion version;
	struct osd_reqid reqid;
	uint8_t op;        /* enum pg_log_op */
	uint64_t mtime_ns; /* wall clock at the primary */
	char *oid;         /* malloc'd, NUL-terminated (owned by the entry) */
};

/* Persistent per-PG record (also carried in every repop so replicas stay identical). */
struct pg_info {
	struct pg_id pgid;
	struct osd_eversion last_update; /* newest entry applied */
	struct osd_eversion log_tail;    /* entries kept are > log_tail */
	uint32_t epoch_created;
	uint32_t same_interval_since;    /* epoch the current acting set began */
	uint64_t num_objects;
	uint64_t num_bytes;
};

void pg_info_encode(struct cbuf *b, const struct pg_info *i);
int pg_info_decode(struct cdec *d, struct pg_info *i);
void pg_log_entry_encode(struct cbuf *b, const struct pg_log_entry *e);
/* Allocates e->oid (free with pg_log_entry_clear). */
int pg_log_entry_decode(struct cdec *d, struct pg_log_entry *e);
void pg_log_entry_clear(struct pg_log_entry *e);

/* The meta object name of a PG ("pglog.1.2a"). */
void pg_log_meta_oid(const struct pg_id *pg, char *buf, size_t len);
/* The omap key of an entry (sortable). Returns its length. */
size_t pg_log_entry_key(struct osd_eversion v, char *buf, size_t len);

struct pg_log {
	struct pg_log_entry *ring; /* cap entries; head = oldest */
	uint32_t cap, head, count;
	uint32_t max_entries;      /* trim beyond this (osd_pg_log_max_entries) */
	/* reqid index: open hash, chained through idx_next (entry positions in ring) */
	int32_t *buckets;
	int32_t *idx_next;
	uint32_t nbuckets;
	struct osd_eversion persisted_tail; /* entries <= this are already trimmed on disk */
};

int pg_log_init(struct pg_log *l, uint32_t max_entries);
void pg_log_destroy(struct pg_log *l);
/* Appends an entry (takes ownership of e->oid). Drops the oldest in memory when full. */
int pg_log_append(struct pg_log *l, struct pg_log_entry *e);
/* The newest entry with this reqid, or NULL. */
const struct pg_log_entry *pg_log_find_reqid(const struct pg_log *l, const struct osd_reqid *r);
static inline const struct pg_log_entry *pg_log_at(const struct pg_log *l, uint32_t i)
{
	return &l->ring[(l->head + i) % l->cap];
}

/*
 * Adds to t: the entry, the info record and, when the log grew past max_entries +
 * PG_LOG_TRIM_CHUNK, the removal of the oldest entries down to max_entries (updating
 * info->log_tail). Call before pg_log_append() of the same entry.
 */
int pg_log_txn_add(struct pg_log *l, struct store_txn *t, const char *meta_oid,
		   const struct pg_log_entry *e, struct pg_info *info);
/* Writes only the info record. */
int pg_log_txn_info(struct store_txn *t, const char *meta_oid, const struct pg_info *info);
/* Loads info and entries from the store. -ENOENT if the PG has no meta object. */
int pg_log_load(struct pg_log *l, struct store *s, const char *meta_oid, struct pg_info *info);

#endif
