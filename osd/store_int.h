/*
 * store_int — internals shared by the store's files: the transaction's op encoding
 * (store_txn.c), the on-disk key and value formats (store_format.c), the apply engine
 * (store_apply.c) and the store itself (store.c). Nothing outside osd/store*.c includes it.
 *
 * Key layout (keys compare bytewise; "D" keys in column family "data", the rest in
 * "default", so that data and metadata never share an SST block):
 *   "S"                                   superblock        (struct store_super)
 *   "T"                                   totals            (struct store_totals)
 *   "C" coll                              collection        (struct store_coll_rec)
 *   "O" coll 0x00 hash(be64) name         onode             (struct store_onode)
 *   "D" nid(be64) chunk(be64)             data chunk        (see store_chunk_*)
 *   "A" nid(be64) attrname                xattr value       (raw bytes)
 *   "M" nid(be64) key                     omap value        (raw bytes)
 *   "B" group(be64)                       slots in use      (bitmap of 1024 slots)
 * Collection names hold no 0x00, so "O" coll 0x00 is a prefix owned by one collection and
 * objects list in (hash, name) order. An object's data, xattrs and omap hang off its nid
 * (never reused), so a move between collections rewrites only the onode key.
 *
 * Data chunks come in two forms (first byte of the value):
 *   1 inline: u8 1 | u64 xxh3 | data                  (small writes, through the log)
 *   2 slot:   u8 2 | u64 xxh3 | u64 slot | u32 len    (data at slot * chunk_size in the
 *                                                      file "data": large writes, once)
 *   3 run:    u8 3 | u64 slot0 | u32 count | u32 lastlen | count x u64 xxh3
 *             chunks key..key+count-1 in slots slot0..slot0+count-1 (writes of at least
 *             store_direct_write_min: one record per up to STORE_RUN_MAX chunks); every
 *             chunk full but the last (lastlen bytes); one xxh3 per chunk, so a flipped
 *             byte fails only its chunk's reads.
 * Records of an object never overlap: a chunk is covered by at most one record, found by
 * the last key <= its index (seek_for_prev; only for objects with STORE_ONODE_RUNS, the
 * others keep one get per chunk). A change to part of a run first splits it: the part
 * outside the change stays a run (before: same key, shorter; after: a new key), the
 * chunks inside become per-chunk slot records (same slots, same xxh3) or are dropped.
 * xxh3 = xxh3_seed(data, nid * golden ^ chunk index): a value copied to the wrong key, or a
 * slot holding someone else's bytes, fails its check.
 *
 * Crash rule: every key of a transaction goes into one RocksDB WriteBatch and one journal
 * record (or RocksDB's WAL on a store without a journal): replay makes it all-or-nothing.
 * Slot data is written and synced before the batch is logged at all, so no log record ever
 * points at bytes that are not on disk. A slot freed by a transaction is reused only after
 * that transaction is durable, so a crash that rolls the transaction back finds the old
 * data intact. Slots in use are exactly the bits set in the "B" keys (changed in the same
 * batch as the chunks; the allocator is rebuilt from them at open); a slot written by a
 * transaction that never reached the log has no bit set and is free again.
 */
#ifndef CAIRN_OSD_STORE_INT_H
#define CAIRN_OSD_STORE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "common/encode.h"
#include "osd/store.h"
#include "osd/store_dio.h"
#include "osd/store_journal.h"

/* ---- transaction ops -------------------------------------------------------------------- */

enum store_op_code {
	STORE_OP_COLL_CREATE = 1,
	STORE_OP_COLL_REMOVE = 2,
	STORE_OP_TOUCH = 3,
	STORE_OP_WRITE = 4,
	STORE_OP_ZERO = 5,
	STORE_OP_TRUNCATE = 6,
	STORE_OP_REMOVE = 7,
	STORE_OP_SETATTRS = 8,
	STORE_OP_RMATTR = 9,
	STORE_OP_OMAP_SETKEYS = 10,
	STORE_OP_OMAP_RMKEYS = 11,
	STORE_OP_OMAP_RMRANGE = 12,
	STORE_OP_OMAP_CLEAR = 13,
	STORE_OP_CLONE = 14,
	STORE_OP_CLONE_RANGE = 15,
	STORE_OP_MOVE = 16,
	STORE_OP_MAX_ = 17
};

/* One decoded op; pointers point into the transaction's buffer (NOT OWNER). */
struct store_op {
	uint8_t code;
	char coll[STORE_COLL_NAME_MAX + 1];
	const uint8_t *oid;
	uint32_t oidlen;
	char coll2[STORE_COLL_NAME_MAX + 1]; /* MOVE destination */
	const uint8_t *oid2;		     /* CLONE / CLONE_RANGE / MOVE destination */
	uint32_t oid2len;
	uint64_t off, len, off2;	     /* WRITE: off; ZERO: off,len; TRUNCATE: off = size;
					        CLONE_RANGE: off=srcoff, len, off2=dstoff */
	const uint8_t *data;		     /* WRITE data (len bytes); RMATTR name; RMRANGE first */
	uint32_t dlen;
	const uint8_t *data2;		     /* RMRANGE last (has_data2) */
	uint32_t d2len;
	bool has_data2;
	uint32_t n;			     /* SETATTRS / OMAP_SETKEYS / OMAP_RMKEYS items */
	struct cdec items;		     /* the n items, validated */
};

struct store_txn {
	struct cbuf ops; /* encoded ops, back to back */
	uint32_t nops;
	int err;	 /* sticky builder error */
	/* queueing (owned by the store while queued) */
	struct store_txn *next;
	store_cb_t on_applied, on_commit;
	void *arg;
	int rc;
	/* filled by store_apply_build: slots this transaction freed (released to the allocator
	 * once it is durable) and whether it wrote slot data (the commit syncs the data file) */
	struct cbuf freed;
	bool wrote_slots;
	/* ops.data is not ours to free (store_txn_share / store_txn_decode_owned): freeing t
	 * calls ops_release(ops_arg) instead, and t takes no more ops */
	void (*ops_release)(void *arg);
	void *ops_arg;
};

/* Decodes and validates the next op from d (bounds, limits, names); -EBADMSG etc. */
int store_op_next(struct cdec *d, struct store_op *op);
/* Item decoders for SETATTRS (name as bytes) / OMAP_SETKEYS (k,v) / OMAP_RMKEYS (k, v NULL). */
int store_op_item(struct cdec *items, uint8_t code, const uint8_t **k, uint32_t *klen,
		  const uint8_t **v, uint32_t *vlen);
bool store_coll_name_valid(const char *c, size_t len);

/* ---- on-disk formats -------------------------------------------------------------------- */

#define STORE_MAGIC "cairn-store"
#define STORE_KEY_MAX (2 + STORE_COLL_NAME_MAX + 8 + STORE_NAME_MAX + 8)

struct store_super {
	char magic[16];
	uint32_t chunk_size;
	uint64_t created_ns;
	uint8_t version; /* decoded: the format it was written in (STORE_FORMAT_V now) */
};
#define STORE_FORMAT_V 2 /* 1: one record per chunk; 2: + data runs (form 3) */
struct store_totals {
	uint64_t next_nid;
	uint64_t objects;
	uint64_t stored;
};
struct store_onode {
	uint64_t nid;
	uint64_t size;
	uint64_t mtime_ns;
	uint32_t flags;
};
#define STORE_ONODE_SLOTS 1u /* some chunk may live in a slot (else all are inline) */
#define STORE_ONODE_RUNS 2u  /* some data record may be a run (else one record per chunk) */

void store_super_encode(const struct store_super *sb, struct cbuf *b);
int store_super_decode(struct store_super *sb, const void *p, size_t n);
void store_totals_encode(const struct store_totals *t, struct cbuf *b);
int store_totals_decode(struct store_totals *t, const void *p, size_t n);
void store_onode_encode(const struct store_onode *o, struct cbuf *b);
int store_onode_decode(struct store_onode *o, const void *p, size_t n);

/* Key builders: write into k (>= STORE_KEY_MAX bytes), return the length. */
size_t store_key_coll(uint8_t *k, const char *coll);
size_t store_key_onode_prefix(uint8_t *k, const char *coll); /* "O" coll 0 */
size_t store_key_onode(uint8_t *k, const char *coll, const void *oid, size_t oidlen);
size_t store_key_onode_hash(uint8_t *k, const char *coll, uint64_t hash, const void *oid,
			    size_t oidlen);
size_t store_key_nid(uint8_t *k, char type, uint64_t nid); /* "D"/"A"/"M" nid */
size_t store_key_chunk(uint8_t *k, uint64_t nid, uint64_t idx);
size_t store_key_sub(uint8_t *k, char type, uint64_t nid, const void *sub, size_t sublen);
/* Parses an onode key's tail after the prefix: hash and name. */
int store_key_onode_parse(const uint8_t *k, size_t klen, size_t prefix_len, uint64_t *hash,
			  const uint8_t **name, size_t *namelen);

#define STORE_CHUNK_HDR 9u
#define STORE_SLOT_VAL 21u
/* O_DIRECT writes of slot data go out in pieces of at most this many bytes */
#define STORE_DIRECT_BUF (4u << 20)
#define STORE_DIRECT_ALIGN 4096u
#define STORE_BGROUP_BYTES 128u /* one "B" key: 1024 slots */
#define STORE_NO_SLOT UINT64_MAX
/* Parses a slot chunk value: 1 and slot/len/csum; 0 if it is not a slot value; -EBADMSG. */
int store_chunk_slot_parse(const void *val, size_t vlen, size_t chunk_size, uint64_t *slot,
			   uint32_t *len, uint64_t *csum);
void store_chunk_slot_build(uint8_t *out, uint64_t csum, uint64_t slot, uint32_t len);
uint64_t store_chunk_seed(uint64_t nid, uint64_t idx);

/* A run record (form 3): chunks start..start+count-1 in slots slot0..; csum points into the
 * value (count little-endian u64). */
#define STORE_RUN_HDR 17u
#define STORE_RUN_MAX 256u
#define STORE_RUN_VAL_MAX (STORE_RUN_HDR + 8u * STORE_RUN_MAX)
struct store_run {
	uint64_t slot0;
	uint32_t count, lastlen;
	const uint8_t *csum;
};
/* 1 and *r if val is a run; 0 if it is not; -EBADMSG. */
int store_run_parse(const void *val, size_t vlen, size_t chunk_size, struct store_run *r);
uint64_t store_run_csum(const struct store_run *r, uint32_t i);
/* Writes a run value into out (STORE_RUN_VAL_MAX bytes), checksums copied from csum_le
 * (count x le64, may overlap out) or left for store_run_set_csum (NULL); returns its size. */
size_t store_run_build(uint8_t *out, uint64_t slot0, uint32_t count, uint32_t lastlen,
		       const uint8_t *csum_le);
void store_run_set_csum(uint8_t *out, uint32_t i, uint64_t h);
/* Writes the STORE_CHUNK_HDR-byte header of a chunk value holding data[n]. */
void store_chunk_header(uint8_t *hdr, uint64_t nid, uint64_t idx, const void *data, size_t n);
/* Verifies a chunk value: 0 and *data, *n; -EBADMSG (malformed), -EIO (checksum). */
int store_chunk_check(const void *val, size_t vlen, uint64_t nid, uint64_t idx, size_t chunk_size,
		      const uint8_t **data, size_t *n);

static inline void store_put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}
static inline uint64_t store_get_be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

/* ---- the store -------------------------------------------------------------------------- */

#include <pthread.h>
#include <rocksdb/c.h>

struct store {
	rocksdb_t *db;
	/* [0] "default": metadata, checked by RocksDB's block checksums; [1] "data": the "D"
	 * keys only, read with RocksDB's checks off so our XXH3 finds (and names) bad bytes */
	rocksdb_column_family_handle_t *cf[2];
	rocksdb_options_t *opts;
	rocksdb_block_based_table_options_t *bbto;
	rocksdb_cache_t *cache;
	rocksdb_writeoptions_t *wo;	 /* sync = 0: durability comes from store_commit_thread */
	rocksdb_writeoptions_t *wo_sync; /* sync = 1: mkfs, debug hooks */
	rocksdb_writeoptions_t *wo_nowal; /* WAL off: batches the journal holds */
	rocksdb_readoptions_t *ro;
	char *path;
	uint32_t chunk_size;	/* fixed at mkfs */
	uint64_t max_object_size;
	bool sync;
	uint64_t commit_wait_ns; /* store_commit_wait */

	int datafd;	       /* the slot file */
	bool direct_io;	       /* store_direct_io */
	unsigned dio_depth;    /* store_dio_depth */
	bool direct_reads;     /* store_direct_reads, and not store_slot_read_cache */
	bool slot_read_cache;  /* store_slot_read_cache */
	int directfd;	       /* the slot file opened O_DIRECT (-1: not supported here) */
	uint64_t direct_min;   /* writes this large go to slots (0: never) */
	/* slot allocator: a bitmap, protected by alloc_lock (apply thread allocates, commit
	 * thread releases) */
	pthread_mutex_t alloc_lock;
	uint64_t *slot_bits;
	uint64_t slot_cap;     /* bits in slot_bits */
	uint64_t slot_hint;    /* next-fit start */
	uint64_t slot_hwm;     /* highest slot in use + 1 (the file's extent) */
	uint64_t slots_used;

	/* apply thread only */
	struct store_totals totals;
	uint8_t *pbits;	       /* what the "B" keys say (as of the last applied batch): the
				  apply thread reads this instead of getting the keys */
	uint64_t pbits_bytes;
	bool pbits_stale;      /* a build of this group evicted groups: read the batch */
	rocksdb_writebatch_wi_t *wb;
	uint8_t *chunkbuf; /* STORE_CHUNK_HDR + chunk_size */
	uint8_t *dbuf;	   /* STORE_DIRECT_BUF bytes, 4 KiB aligned: staging for O_DIRECT writes
			      made on this thread (store_dio_depth = 0) */
	struct store_dio *dio; /* O_DIRECT writes in flight off this thread (store_dio.h) */
	struct cbuf jrec;  /* the journal record of the group being built (store_jrec_*) */

	/* the journal (NULL: RocksDB's WAL, a store made with store_journal_size = 0). The apply
	 * thread appends and writes each batch under jlock; the trim thread takes jlock to
	 * sync the journal and switch the memtables at one point between two batches. */
	struct sjournal *journal;
	uint64_t journal_size;	/* store_journal_size (mkfs) */
	uint64_t write_buffer;	/* store_write_buffer_size */
	pthread_mutex_t jlock;
	pthread_t trim_thr;
	bool trim_started;

	/* protected by lock */
	pthread_mutex_t lock;
	pthread_cond_t apply_cv, commit_cv, space_cv;
	struct store_txn *aq_head, *aq_tail; /* queued, not applied */
	struct store_txn *cq_head, *cq_tail; /* applied, not committed */
	uint64_t queued_txns, queued_bytes;
	uint64_t max_txns, max_bytes;
	bool stopping;
	bool apply_done; /* the apply thread has drained and exited */
	bool applying;	 /* the apply thread is building a group (taken off aq) */
	int failed; /* sticky: once a write or sync failed */
	pthread_t apply_thr, commit_thr;

	/* counters (atomic) */
	struct store_counters ctr;
	uint64_t stat_objects, stat_stored; /* published totals for statfs (atomic) */
};

/* Journal record payload (version 1; the record header's version covers it): a sequence
 * of u8 op | bytes key [| u32 len | value], op 1 = put, 2 = delete. The column family
 * follows from the key (store_cf). Replay applies a record to a column family only past
 * the seq of its "J" marker key (every batch puts "J" = be64 seq into both families). */
#define STORE_JREC_PUT 1
#define STORE_JREC_DEL 2

static inline void store_jrec_put(struct store *s, const uint8_t *k, size_t klen, const void *v1,
				  size_t l1, const void *v2, size_t l2)
{
	if (!s->journal)
		return;
	enc_u8(&s->jrec, STORE_JREC_PUT);
	enc_bytes(&s->jrec, k, (uint32_t)klen);
	enc_u32(&s->jrec, (uint32_t)(l1 + l2));
	enc_raw(&s->jrec, v1, l1);
	if (l2)
		enc_raw(&s->jrec, v2, l2);
}

static inline void store_jrec_del(struct store *s, const uint8_t *k, size_t klen)
{
	if (!s->journal)
		return;
	enc_u8(&s->jrec, STORE_JREC_DEL);
	enc_bytes(&s->jrec, k, (uint32_t)klen);
}

/* The column family a key lives in (by its type byte). */
static inline rocksdb_column_family_handle_t *store_cf(struct store *s, const void *k)
{
	return ((const uint8_t *)k)[0] == 'D' ? s->cf[1] : s->cf[0];
}

/* store_apply.c: interprets t's ops into s->wb (on top of what the batch holds), the
 * totals it leads to in *tot (s->totals is not changed). 0 or the failing op's error,
 * after which the caller rolls the batch back to its save point. Apply thread only. */
int store_apply_build(struct store *s, struct store_txn *t, struct store_totals *tot);
/* Puts the totals record "T" = *tot into s->wb: once per group, after its last build (a
 * group of new objects changes it in every transaction). Apply thread only. */
void store_apply_put_totals(struct store *s, const struct store_totals *tot);
/* After a group's batch is written: refreshes s->pbits for bitmap groups its builds had to
 * evict from their cache. Apply thread only. */
int store_apply_written(struct store *s);
/* Frees the apply thread's context; the apply thread calls it as it exits. */
void store_apply_thread_exit(void);
/* s->pbits: sets group g's bytes (grows the mirror as needed). */
int store_pbits_set(struct store *s, uint64_t g, const uint8_t *bits);
/* Gets key from the batch, then the DB: 0 + *val (rocksdb_free()), -ENOENT, -EIO. */
int store_wb_get(struct store *s, const uint8_t *k, size_t klen, char **val, size_t *vlen);
/* store_alloc.c */
int store_alloc_mark(struct store *s, uint64_t slot);	/* in use (open) */
int store_alloc_get(struct store *s, uint64_t *slot);
void store_alloc_put(struct store *s, uint64_t slot);
void store_alloc_free_all(struct store *s);
/* Reads a chunk value's data into buf (chunk_size bytes): inline copy or slot pread, then
 * verifies it. 0 + *n; -EIO (checksum, counted by the caller), -EBADMSG. */
int store_chunk_load(struct store *s, const void *val, size_t vlen, uint64_t nid, uint64_t idx,
		     uint8_t *buf, size_t *n);
/* Reads chunk idx of run r (keyed at start) into buf and verifies it: 0 + *n; -EIO. */
int store_run_load(struct store *s, const struct store_run *r, uint64_t nid, uint64_t start,
		   uint64_t idx, uint8_t *buf, size_t *n);
/* Counts a checksum failure. */
void store_count_csum_error(struct store *s);

#endif
