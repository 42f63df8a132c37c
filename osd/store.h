/*
 * store — the OSD's local object store: transactional, checksummed, on RocksDB.
 *
 * Model. A store holds collections (one per placement group, named by short strings such
 * as "1.2a", plus e.g. "meta"). A collection holds objects, named by byte strings of up to
 * STORE_NAME_MAX bytes. An object has byte data (sparse: holes read as zeros), xattrs
 * (string name -> bytes) and an omap (sorted byte key -> bytes). Object names hash with
 * XXH3-64 (store_name_hash); a collection lists in (hash, name) order, so PG split,
 * backfill and scrub can walk it by hash range with a persistable cursor.
 *
 * Transactions. struct store_txn is a list of operations, built with store_txn_*() and
 * applied atomically: all of them or none, across kill -9 and power loss. Operations apply
 * in order and each sees the effects of the earlier ones in the same transaction. If any
 * operation fails at apply time (e.g. -ENOENT: writing into a collection that does not
 * exist), nothing of the transaction is applied and both callbacks get that error.
 * Two completions:
 *   applied   — readable: every read issued after on_applied sees the transaction;
 *   committed — durable: it survives a crash or power loss.
 * Many concurrent transactions share one log sync (group commit). Transactions complete
 * (both callbacks) in submission order. Transactions queued together may be applied as
 * one RocksDB batch; each still succeeds or fails on its own.
 *
 * Integrity. Every stored data block carries an XXH3 checksum verified on every read; a
 * mismatch returns -EIO, increments the csum_errors counter, and the bad bytes are never
 * returned. Unsafe errors are sticky: after a failed RocksDB write or sync the store
 * refuses all further transactions (-EIO) until it is closed and reopened.
 *
 * Threads. All functions are thread-safe. Callbacks run on store threads; they must not
 * block for long and must not call store_close(), store_queue_txn or store_apply_txn
 * (those can wait for the very thread the callback runs on). They may call store reads.
 *
 * Errors are 0 or negative errno. Design and on-disk layout: docs/store.md.
 */
#ifndef CAIRN_OSD_STORE_H
#define CAIRN_OSD_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/encode.h"

struct cairn_conf;
struct store;
struct store_txn;

/* ---- limits (requests beyond them fail with the error named) -------------------------- */
#define STORE_NAME_MAX 2048u	    /* object name bytes; longer: -ENAMETOOLONG */
#define STORE_COLL_NAME_MAX 64u	    /* collection name chars, [A-Za-z0-9._-]; else -EINVAL */
#define STORE_ATTR_NAME_MAX 255u    /* xattr name chars (non-empty, no NUL); -ENAMETOOLONG */
#define STORE_ATTR_VALUE_MAX 65536u /* xattr value bytes; -E2BIG */
#define STORE_OMAP_KEY_MAX 4096u    /* omap key bytes; -ENAMETOOLONG */
#define STORE_OMAP_VALUE_MAX (16u << 20) /* omap value bytes; -E2BIG */
#define STORE_WRITE_MAX (1u << 30)  /* bytes of one write op; -E2BIG */
/* Object offsets: off + len (and truncate sizes) must be <= the store_max_object_size
 * option (default 1 TiB, hard cap STORE_OBJECT_SIZE_CAP), else the op fails -EFBIG. */
#define STORE_OBJECT_SIZE_CAP (1ull << 44)

/* ---- open / close ------------------------------------------------------------------- */

/* Creates an empty store in directory path (created if missing; must not already hold a
 * store: -EEXIST). Options (store.def) come from conf; conf may be NULL (defaults). */
int store_mkfs(const char *path, const struct cairn_conf *conf);
/* Opens an existing store (-ENOENT if there is none). Replays the log: every committed
 * transaction is present, no partial one. conf may be NULL. conf is not kept. */
int store_open(struct store **out, const char *path, const struct cairn_conf *conf);
/* Waits for every queued transaction to commit (callbacks run), then closes. NULL ok. */
void store_close(struct store *s);

/* XXH3-64 of an object name: the listing order and the PG hash-range key. */
uint64_t store_name_hash(const void *name, size_t len);

/* ---- transactions --------------------------------------------------------------------- */

/* A key/value pair for setattrs (key: NUL-terminated attr name, klen ignored) and for
 * omap_setkeys (key: klen bytes). Pointed-to bytes are copied into the transaction. */
struct store_kv {
	const void *key;
	size_t klen;
	const void *val;
	size_t vlen;
};

struct store_txn *store_txn_new(void);		/* NULL on ENOMEM */
void store_txn_free(struct store_txn *t);	/* NULL ok */
void store_txn_reset(struct store_txn *t);	/* empties it, keeps its memory */
unsigned store_txn_num_ops(const struct store_txn *t);
size_t store_txn_bytes(const struct store_txn *t); /* encoded size, ~ payload bytes */

/*
 * Builders. Every argument (names, data, keys, values) is copied into the transaction, so
 * the caller's buffers may be reused on return. A builder that fails (bad argument,
 * ENOMEM) returns the error, adds nothing, and the error is also remembered in the
 * transaction (sticky): store_queue_txn/store_apply_txn then refuse it with that error.
 *
 * Objects are created on demand by: touch, write, zero, truncate, setattr(s),
 * omap_setkeys, clone / clone_range (the destination). Every other object op fails the
 * transaction with -ENOENT when the object does not exist. Any object op in a collection
 * that does not exist fails with -ENOENT.
 */
int store_txn_coll_create(struct store_txn *t, const char *coll);	/* -EEXIST if it exists */
int store_txn_coll_remove(struct store_txn *t, const char *coll);	/* -ENOTEMPTY / -ENOENT */

int store_txn_touch(struct store_txn *t, const char *coll, const void *oid, size_t oidlen);
/* Writes len bytes at off; size = max(size, off + len). len 0 still creates the object. */
int store_txn_write(struct store_txn *t, const char *coll, const void *oid, size_t oidlen,
		    uint64_t off, uint64_t len, const void *data);
/* Makes [off, off+len) read as zeros (frees the space); size = max(size, off + len). */
int store_txn_zero(struct store_txn *t, const char *coll, const void *oid, size_t oidlen,
		   uint64_t off, uint64_t len);
/* Sets the size; shrinking discards data past it, growing adds a hole. */
int store_txn_truncate(struct store_txn *t, const char *coll, const void *oid, size_t oidlen,
		       uint64_t size);
/* Removes the object with its data, xattrs and omap. -ENOENT if absent. */
int store_txn_remove(struct store_txn *t, const char *coll, const void *oid, size_t oidlen);
int store_txn_setattr(struct store_txn *t, const char *coll, const void *oid, size_t oidlen,
		      const char *name, const void *val, size_t vlen);
int store_txn_setattrs(struct store_txn *t, const char *coll, const void *oid, size_t oidlen,
		       const struct store_kv *attrs, size_t n);
/* Removing an xattr that is not there is not an error. */
int store_txn_rmattr(struct store_txn *t, const char *coll, const void *oid, size_t oidlen,
		     const char *name);
int store_txn_omap_setkeys(struct store_txn *t, const char *coll, const void *oid,
			   size_t oidlen, const struct store_kv *kv, size_t n);
/* keys[i]/klens[i]; keys that are not there are ignored. */
int store_txn_omap_rmkeys(struct store_txn *t, const char *coll, const void *oid, size_t oidlen,
			  const void *const *keys, const size_t *klens, size_t n);
/* Removes keys in [first, last) (byte order). last == NULL: to the end. */
int store_txn_omap_rmrange(struct store_txn *t, const char *coll, const void *oid,
			   size_t oidlen, const void *first, size_t flen, const void *last,
			   size_t llen);
int store_txn_omap_clear(struct store_txn *t, const char *coll, const void *oid, size_t oidlen);
/* dst (same collection) becomes a full copy of src: data, size, xattrs, omap. */
int store_txn_clone(struct store_txn *t, const char *coll, const void *src, size_t srclen,
		    const void *dst, size_t dstlen);
/* Copies src bytes [srcoff, srcoff+len) to dst at dstoff (src past EOF reads as zeros);
 * dst size = max(size, dstoff + len). src and dst may not be the same object (-EINVAL). */
int store_txn_clone_range(struct store_txn *t, const char *coll, const void *src,
			  size_t srclen, uint64_t srcoff, uint64_t len, const void *dst,
			  size_t dstlen, uint64_t dstoff);
/* Moves (renames) an object, with everything it has, to dst_coll/dst (which may be the same
 * collection). An existing dst is replaced, as rename(2). */
int store_txn_move(struct store_txn *t, const char *src_coll, const void *src, size_t srclen,
		   const char *dst_coll, const void *dst, size_t dstlen);

/*
 * Wire form of a transaction (versioned envelope), for shipping it to replicas: encode
 * appends; decode appends the decoded ops to t (normally empty), validating every field
 * (-EBADMSG on malformed input; t is left reset on error).
 */
int store_txn_encode(const struct store_txn *t, struct cbuf *out);
int store_txn_decode(struct store_txn *t, const void *p, size_t n);
/*
 * The same wire form without copying the op bytes (a 4 MiB write is 4 MiB of them):
 * store_txn_share fills hdr (STORE_TXN_WIRE_HDR bytes) and hands out t's op buffer, *ops
 * (olen bytes; hdr then ops = what store_txn_encode appends). From then on t takes no more
 * ops (-EBUSY) and, when freed, calls release(arg) instead of freeing *ops: the caller
 * owns *ops (free()) and frees it once both it and t are done with it (a refcount).
 * store_txn_decode_owned decodes buf (malloc'd, n bytes) into an empty t that, on success,
 * takes buf over and uses the op bytes in place (frees buf when freed); on error buf stays
 * the caller's.
 */
#define STORE_TXN_WIRE_HDR 14u
int store_txn_share(struct store_txn *t, uint8_t *hdr, void **ops, size_t *olen,
		    void (*release)(void *arg), void *arg);
int store_txn_decode_owned(struct store_txn *t, void *buf, size_t n);

/* Completion: rc is 0 or the negative errno that made the whole transaction fail. */
typedef void (*store_cb_t)(void *arg, int rc);

/*
 * Queues t for atomic application. Consumes t (the store frees it; the caller must not
 * touch it after the call, whatever the return). Returns 0: on_applied then on_commit will
 * each be called exactly once (either may be NULL), from a store thread. Returns <0
 * (-EIO: the store has failed; -ESHUTDOWN: closing; or t's sticky builder error): nothing
 * was queued and no callback will be called. Blocks while the store already holds
 * store_max_queued_txns / store_max_queued_bytes (backpressure).
 */
/* Whether a transaction of about `bytes` would be queued now without waiting for room (a
 * hint: another thread may take the room first). */
bool store_has_room(struct store *s, size_t bytes);

int store_queue_txn(struct store *s, struct store_txn *t, store_cb_t on_applied,
		    store_cb_t on_commit, void *arg);
/* Applies t and waits until it is durable. Consumes t. Returns 0 or the error (as above,
 * or the apply-time error of the transaction). Not from a store callback. */
int store_apply_txn(struct store *s, struct store_txn *t);

/* ---- reads (see every transaction whose on_applied has run) ---------------------------- */

/* 1 if the collection exists, 0 if not, <0 on error. */
int store_coll_exists(struct store *s, const char *coll);
/* Calls cb for each collection in name order; cb returns nonzero to stop (that value is
 * returned). Returns 0 after the last one, or <0. */
int store_list_colls(struct store *s, int (*cb)(void *arg, const char *coll), void *arg);

struct store_stat {
	uint64_t size;	  /* bytes */
	/* wall clock of the object's creation or last touch, data or attr change; an omap
	 * change of an existing object leaves it (docs/store.md "Records per small write") */
	uint64_t mtime_ns;
};
/* 0, -ENOENT (no object or no collection). */
int store_stat(struct store *s, const char *coll, const void *oid, size_t oidlen,
	       struct store_stat *st);
/* 1 if the object exists, 0 if not, <0 on error. */
int store_obj_exists(struct store *s, const char *coll, const void *oid, size_t oidlen);
/* Reads up to len bytes at off into buf: returns the count (short at EOF, 0 at/after EOF;
 * holes read as zeros), -ENOENT, or -EIO (checksum mismatch: nothing is returned). */
ssize_t store_read(struct store *s, const char *coll, const void *oid, size_t oidlen,
		   uint64_t off, size_t len, void *buf);
/* store_read and store_stat in one: from one snapshot and one metadata lookup, reads up to
 * len bytes at off (len 0: to the end of the object), appending them to out, and fills *st.
 * Returns the count appended (0 at/after EOF), -ENOENT, -EIO (checksum), -ENOMEM, or -EFBIG
 * when more than max bytes would be returned (nothing read). Out is unchanged on error. */
ssize_t store_read_stat(struct store *s, const char *coll, const void *oid, size_t oidlen,
			uint64_t off, uint64_t len, uint64_t max, struct cbuf *out,
			struct store_stat *st);
/* store_read_stat that never waits for the disk: -EWOULDBLOCK (nothing appended) when the
 * answer needs a read that RocksDB's memtables and block cache cannot serve, or data kept
 * in slots of the data file. For callers that must not block (a messenger thread). */
/* store_stat that never waits for the disk: -EWOULDBLOCK when the object's onode is neither
 * in a memtable nor in the block cache (an absent object is usually known absent from the
 * memtables and the SST files' bloom filters alone). */
int store_stat_cached(struct store *s, const char *coll, const void *oid, size_t oidlen,
		      struct store_stat *st);
ssize_t store_read_stat_cached(struct store *s, const char *coll, const void *oid,
			       size_t oidlen, uint64_t off, uint64_t len, uint64_t max,
			       struct cbuf *out, struct store_stat *st);

/* Appends the value to out. 0, -ENOENT (object), -ENODATA (no such attr). */
int store_getattr(struct store *s, const char *coll, const void *oid, size_t oidlen,
		  const char *name, struct cbuf *out);
/* Calls cb for each xattr in name order (bytes valid during the call only); cb nonzero
 * stops and is returned. */
int store_getattrs(struct store *s, const char *coll, const void *oid, size_t oidlen,
		   int (*cb)(void *arg, const char *name, const void *val, size_t vlen),
		   void *arg);
/* Appends the value to out. 0, -ENOENT (object), -ENODATA (no such key). */
int store_omap_get(struct store *s, const char *coll, const void *oid, size_t oidlen,
		   const void *key, size_t klen, struct cbuf *out);
/* Calls cb for omap keys in [start, end) in byte order (start NULL: from the first; end
 * NULL: to the last), at most limit of them (0: no limit). cb nonzero stops and is
 * returned. Returns the number of keys passed to cb, or <0. */
typedef int (*store_omap_cb_t)(void *arg, const void *key, size_t klen, const void *val,
			       size_t vlen);
int store_omap_iterate(struct store *s, const char *coll, const void *oid, size_t oidlen,
		       const void *start, size_t slen, const void *end, size_t elen,
		       unsigned limit, store_omap_cb_t cb, void *arg);

/*
 * Listing cursor: a position in a collection's (hash, name) order. A cursor names the
 * first object a listing returns (inclusive). It is plain data; persist it with
 * store_cursor_encode/decode.
 */
struct store_cursor {
	uint64_t hash;
	uint32_t name_len;
	uint8_t at_end; /* 1: past the last object */
	uint8_t name[STORE_NAME_MAX];
};
void store_cursor_begin(struct store_cursor *c);		/* before everything */
void store_cursor_at_hash(struct store_cursor *c, uint64_t hash); /* first object >= hash */
void store_cursor_end(struct store_cursor *c);			/* after everything */
/* Position of the given object (it need not exist). */
void store_cursor_at(struct store_cursor *c, const void *oid, size_t oidlen);
int store_cursor_cmp(const struct store_cursor *a, const struct store_cursor *b);
void store_cursor_encode(const struct store_cursor *c, struct cbuf *out);
int store_cursor_decode(struct store_cursor *c, struct cdec *d);

typedef int (*store_list_cb_t)(void *arg, const void *oid, size_t oidlen, uint64_t hash);
/*
 * Lists objects of coll from *start (inclusive) up to end (exclusive; NULL: to the end of
 * the collection), at most limit (0: no limit), calling cb for each in (hash, name) order.
 * next (may be NULL, may equal start) receives the position after the last one listed
 * (at_end when nothing follows before end). cb nonzero stops early (next then points at
 * the object after the one that stopped). Returns the count listed, -ENOENT, or <0.
 */
int store_list(struct store *s, const char *coll, const struct store_cursor *start,
	       const struct store_cursor *end, unsigned limit, store_list_cb_t cb, void *arg,
	       struct store_cursor *next);

struct store_statfs {
	uint64_t total;	    /* bytes of the file system holding the store */
	uint64_t available; /* bytes still free there */
	uint64_t used;	    /* bytes the store's files occupy */
	uint64_t stored;    /* logical object data bytes (sum of sizes, holes included) */
	uint64_t objects;   /* number of objects */
};
int store_statfs(struct store *s, struct store_statfs *st);

struct store_counters {
	uint64_t csum_errors;	  /* data blocks that failed their checksum on read */
	uint64_t txns_applied;	  /* transactions applied (readable) */
	uint64_t txns_failed;	  /* transactions refused at apply time */
	uint64_t txns_committed;  /* transactions made durable */
	uint64_t syncs;		  /* journal (or WAL) syncs (txns_committed / syncs = group size) */
	uint64_t journal_checkpoints; /* memtable flushes that freed journal room */
	uint64_t journal_used;	  /* journal bytes in use now (0: no journal) */
	uint64_t journal_size;	  /* the journal file's size (0: the store uses RocksDB's WAL) */
	uint64_t bytes_written;	  /* data bytes written by write ops */
	uint64_t bytes_read;	  /* data bytes returned by reads */
	int failed;		  /* sticky error (0 when healthy) */
};
void store_get_counters(struct store *s, struct store_counters *c);

/* ---- integrity (fsck, tests) ----------------------------------------------------------- */

/* Verifies every checksum and every structure of every object. Calls bad(arg, coll, oid,
 * oidlen, why) for each damaged object (may be NULL). Returns the number of damaged
 * objects, or <0 on error. Usable on an open store (reads a snapshot). */
typedef void (*store_fsck_cb_t)(void *arg, const char *coll, const void *oid, size_t oidlen,
				const char *why);
int store_fsck(struct store *s, store_fsck_cb_t bad, void *arg);

/* Test hook: flips one bit of the stored data block holding byte off of the object,
 * without updating its checksum (simulated bit rot). 0, -ENOENT (no object or no data
 * block there). Durable on return. */
int store_debug_corrupt(struct store *s, const char *coll, const void *oid, size_t oidlen,
			uint64_t off);

#endif
