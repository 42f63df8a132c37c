/*
 * store_apply — turns a transaction's ops into one RocksDB WriteBatchWithIndex.
 *
 * Runs on the apply thread only, one transaction at a time, so it owns s->wb, s->chunkbuf
 * and s->totals without locks. Every read it makes goes through the batch first
 * (get_from_batch_and_db, iterators with base), which is how op N sees ops 1..N-1 of the
 * same transaction. Nothing reaches the DB until store.c writes the whole batch; an op
 * that fails leaves the batch to be discarded, so a failed transaction changes nothing.
 *
 * Data: object bytes [i*cs, (i+1)*cs) live in chunk i (key "D" nid i). A chunk stores its
 * bytes from the chunk start up to the last byte written in it, never past the object's
 * size; a missing chunk, and the part of a chunk past its stored length, are holes (zeros).
 * Full-chunk writes never read; partial ones read, verify and rewrite the chunk.
 * Large writes store runs (one record per up to STORE_RUN_MAX chunks in consecutive
 * slots, store_int.h); everything else works on per-chunk records, after range_prep has
 * split the runs that overlap the chunks it is about to change.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/checksum.h"
#include "common/util.h"
#include "osd/store_int.h"

/* One "B" key being changed by this transaction (written back at the end of the build). */
struct bgroup {
	uint64_t g;
	bool dirty;
	uint8_t bits[STORE_BGROUP_BYTES];
};
#define ACTX_GROUPS 4

struct actx {
	struct store *s;
	struct store_txn *t;
	uint64_t now;
	struct store_totals tot;
	struct cbuf allocated; /* slots taken by this build: given back if it fails */
	struct bgroup grp[ACTX_GROUPS];
	int ngrp, evict;
	struct cbuf touched; /* groups evicted from grp (u64 each): reloaded after the write */
};

struct obj {
	const char *coll;
	uint8_t key[STORE_KEY_MAX];
	size_t klen;
	bool exists;
	bool created;	    /* by this op (obj_get_create) */
	uint64_t accounted; /* size already counted in tot.stored */
	struct store_onode on;
};

int store_wb_get(struct store *s, const uint8_t *k, size_t klen, char **val, size_t *vlen)
{
	char *err = NULL;

	*val = rocksdb_writebatch_wi_get_from_batch_and_db_cf(s->wb, s->db, s->ro, store_cf(s, k),
							      (const char *)k, klen, vlen, &err);
	if (err) {
		rocksdb_free(err);
		return -EIO;
	}
	return *val ? 0 : -ENOENT;
}

static void wb_put(struct store *s, const uint8_t *k, size_t klen, const void *v, size_t vlen)
{
	rocksdb_writebatch_wi_put_cf(s->wb, store_cf(s, k), (const char *)k, klen, v, vlen);
	store_jrec_put(s, k, klen, v, vlen, NULL, 0);
}

static void wb_del(struct store *s, const uint8_t *k, size_t klen)
{
	rocksdb_writebatch_wi_delete_cf(s->wb, store_cf(s, k), (const char *)k, klen);
	store_jrec_del(s, k, klen);
}

static int chunk_drop(struct actx *a, const uint8_t *k, size_t kl, bool may_slot);

/*
 * Collects the keys in [lo, hi) as seen through the batch into keys (u32 len | bytes each),
 * at most max of them (0: all). The batch must not change while its iterator is open.
 */
static int collect_keys(struct store *s, const uint8_t *lo, size_t lolen, const uint8_t *hi,
			size_t hilen, unsigned max, struct cbuf *keys, unsigned *count)
{
	rocksdb_iterator_t *base, *it;
	char *err = NULL;
	int rc = 0;

	*count = 0;
	base = rocksdb_create_iterator_cf(s->db, s->ro, store_cf(s, lo));
	it = rocksdb_writebatch_wi_create_iterator_with_base_cf(s->wb, base, store_cf(s, lo));
	for (rocksdb_iter_seek(it, (const char *)lo, lolen); rocksdb_iter_valid(it);
	     rocksdb_iter_next(it)) {
		size_t kl;
		const char *k = rocksdb_iter_key(it, &kl);
		size_t m = kl < hilen ? kl : hilen;
		int c = memcmp(k, hi, m);

		if (c > 0 || (c == 0 && kl >= hilen))
			break;
		enc_bytes(keys, k, (uint32_t)kl);
		if (++*count == max && max)
			break;
	}
	rocksdb_iter_get_error(it, &err);
	if (err) {
		rocksdb_free(err);
		rc = -EIO;
	}
	rocksdb_iter_destroy(it);
	if (!rc && keys->err)
		rc = keys->err;
	return rc;
}

/* Deletes every key of type ("D"/"A"/"M") under nid with sub-key in [from, to); may_slot:
 * data chunks may live in slots (which are then freed). */
static int delete_range(struct actx *a, char type, uint64_t nid, const void *from, size_t flen,
			const void *to, size_t tlen, bool to_end, bool may_slot)
{
	uint8_t lo[9 + STORE_OMAP_KEY_MAX], hi[9 + STORE_OMAP_KEY_MAX];
	size_t lol = store_key_sub(lo, type, nid, from, flen), hil;
	struct cbuf keys;
	struct cdec d;
	unsigned n;
	int rc;

	if (to_end)
		hil = store_key_nid(hi, type, nid + 1);
	else
		hil = store_key_sub(hi, type, nid, to, tlen);
	cbuf_init(&keys);
	rc = collect_keys(a->s, lo, lol, hi, hil, 0, &keys, &n);
	if (rc)
		goto out;
	cdec_init(&d, keys.data, keys.len);
	for (unsigned i = 0; i < n && !rc; i++) {
		const uint8_t *k;
		uint32_t kl;

		dec_bytes(&d, &k, &kl);
		if (type == 'D')
			rc = chunk_drop(a, k, kl, may_slot);
		else
			wb_del(a->s, k, kl);
	}
out:
	cbuf_free(&keys);
	return rc;
}

/* ---- the apply thread's caches of onodes and collections ------------------------------- */

/*
 * The apply thread is the only writer of onodes ("O" keys) and collections ("C" keys), so
 * it can remember what it last read or wrote instead of getting them again (a memtable or
 * SST lookup each): a PG log object's onode is read and rewritten by every write of its
 * PG, and a collection is looked up for every object created in it. Direct-mapped by the
 * key's hash; an entry always equals what a get through the batch would return. Writers
 * update (obj_save) or drop (obj_destroy, move, collection remove) their entry; a
 * transaction that fails is rolled back in the batch, so a failed build empties both caches.
 * Only present objects and existing collections are cached.
 */
#define OCACHE_SLOTS 256
#define OCACHE_KEY 120
#define CCACHE_SLOTS 64

struct ocache_ent {
	uint8_t klen; /* 0: empty */
	uint8_t key[OCACHE_KEY];
	struct store_onode on;
};

struct ccache_ent {
	bool used;
	char name[STORE_COLL_NAME_MAX + 1];
};

struct acache {
	struct ocache_ent o[OCACHE_SLOTS];
	struct ccache_ent c[CCACHE_SLOTS];
};

static __thread struct acache *apply_cache;

static struct acache *acache(void)
{
	if (!apply_cache)
		apply_cache = calloc(1, sizeof(*apply_cache));
	return apply_cache;
}

static void acache_clear(void)
{
	if (apply_cache)
		memset(apply_cache, 0, sizeof(*apply_cache));
}

static struct ocache_ent *ocache_slot(const uint8_t *k, size_t kl)
{
	struct acache *c = kl <= OCACHE_KEY ? acache() : NULL;

	return c ? &c->o[cairn_xxh3(k, kl) % OCACHE_SLOTS] : NULL;
}

static bool ocache_get(const uint8_t *k, size_t kl, struct store_onode *on)
{
	struct ocache_ent *e = ocache_slot(k, kl);

	if (!e || e->klen != kl || memcmp(e->key, k, kl) != 0)
		return false;
	*on = e->on;
	return true;
}

static void ocache_put(const uint8_t *k, size_t kl, const struct store_onode *on)
{
	struct ocache_ent *e = ocache_slot(k, kl);

	if (!e)
		return;
	e->klen = (uint8_t)kl;
	memcpy(e->key, k, kl);
	e->on = *on;
}

static void ocache_drop(const uint8_t *k, size_t kl)
{
	struct ocache_ent *e = ocache_slot(k, kl);

	if (e && e->klen == kl && memcmp(e->key, k, kl) == 0)
		e->klen = 0;
}

static struct ccache_ent *ccache_slot(const char *coll)
{
	struct acache *c = acache();

	return c ? &c->c[cairn_xxh3(coll, strlen(coll)) % CCACHE_SLOTS] : NULL;
}

/* ---- collections and onodes ------------------------------------------------------------ */

static int coll_exists(struct actx *a, const char *coll)
{
	uint8_t k[1 + STORE_COLL_NAME_MAX];
	struct ccache_ent *e = ccache_slot(coll);
	size_t vl;
	char *v;
	int rc;

	if (e && e->used && strcmp(e->name, coll) == 0)
		return 1;
	rc = store_wb_get(a->s, k, store_key_coll(k, coll), &v, &vl);
	if (rc == -ENOENT)
		return 0;
	if (rc)
		return rc;
	rocksdb_free(v);
	if (e && strlen(coll) <= STORE_COLL_NAME_MAX) {
		e->used = true;
		strcpy(e->name, coll);
	}
	return 1;
}

static void coll_forget(const char *coll)
{
	struct ccache_ent *e = ccache_slot(coll);

	if (e && e->used && strcmp(e->name, coll) == 0)
		e->used = false;
}

static int obj_load(struct actx *a, const char *coll, const void *oid, size_t oidlen,
		    struct obj *o)
{
	size_t vl;
	char *v;
	int rc;

	o->coll = coll;
	o->klen = store_key_onode(o->key, coll, oid, oidlen);
	o->exists = false;
	o->created = false;
	o->accounted = 0;
	memset(&o->on, 0, sizeof(o->on));
	if (ocache_get(o->key, o->klen, &o->on)) {
		o->exists = true;
		o->accounted = o->on.size;
		return 0;
	}
	rc = store_wb_get(a->s, o->key, o->klen, &v, &vl);
	if (rc == -ENOENT) {
		rc = coll_exists(a, coll);
		return rc < 0 ? rc : rc == 0 ? -ENOENT : 0;
	}
	if (rc)
		return rc;
	rc = store_onode_decode(&o->on, v, vl);
	rocksdb_free(v);
	if (rc)
		return -EIO;
	o->exists = true;
	o->accounted = o->on.size;
	ocache_put(o->key, o->klen, &o->on);
	return 0;
}

/* Loads an object that must exist. */
static int obj_get(struct actx *a, const char *coll, const void *oid, size_t oidlen,
		   struct obj *o)
{
	int rc = obj_load(a, coll, oid, oidlen, o);

	return rc ? rc : o->exists ? 0 : -ENOENT;
}

/* Loads an object, creating it (in this batch) when absent. */
static int obj_get_create(struct actx *a, const char *coll, const void *oid, size_t oidlen,
			  struct obj *o)
{
	int rc = obj_load(a, coll, oid, oidlen, o);

	if (rc || o->exists)
		return rc;
	o->on.nid = a->tot.next_nid++;
	o->on.size = 0;
	o->exists = true;
	o->created = true;
	a->tot.objects++;
	return 0;
}

static void obj_save(struct actx *a, struct obj *o)
{
	uint8_t buf[64];
	struct cbuf b = { .data = buf, .cap = sizeof(buf) };

	o->on.mtime_ns = a->now;
	store_onode_encode(&o->on, &b);
	wb_put(a->s, o->key, o->klen, b.data, b.len);
	ocache_put(o->key, o->klen, &o->on);
	a->tot.stored += o->on.size - o->accounted;
	o->accounted = o->on.size;
	if (b.data != buf)
		cbuf_free(&b);
}

/* Deletes the object's data, xattrs, omap and onode. */
static int obj_destroy(struct actx *a, struct obj *o)
{
	int rc = delete_range(a, 'D', o->on.nid, NULL, 0, NULL, 0, true,
				  o->on.flags & STORE_ONODE_SLOTS);

	if (!rc)
		rc = delete_range(a, 'A', o->on.nid, NULL, 0, NULL, 0, true, false);
	if (!rc)
		rc = delete_range(a, 'M', o->on.nid, NULL, 0, NULL, 0, true, false);
	if (rc)
		return rc;
	wb_del(a->s, o->key, o->klen);
	ocache_drop(o->key, o->klen);
	a->tot.objects--;
	a->tot.stored -= o->accounted;
	o->exists = false;
	o->accounted = 0;
	return 0;
}

/* ---- chunks ----------------------------------------------------------------------------- */

static void slot_free(struct actx *a, uint64_t slot);

/*
 * The data record of nid covering chunk idx, as seen through the batch: 0, *val (free with
 * rocksdb_free) and *start (its key's chunk index); -ENOENT: a hole. runs: the object may
 * hold runs (a seek_for_prev), else the record can only be keyed at idx (one get).
 */
static int rec_find(struct actx *a, uint64_t nid, uint64_t idx, bool runs, char **val,
		    size_t *vlen, uint64_t *start)
{
	uint8_t k[17];
	size_t kl = store_key_chunk(k, nid, idx);
	rocksdb_iterator_t *base, *it;
	struct store_run r;
	char *err = NULL;
	int rc = -ENOENT;

	*start = idx;
	if (!runs)
		return store_wb_get(a->s, k, kl, val, vlen);
	base = rocksdb_create_iterator_cf(a->s->db, a->s->ro, a->s->cf[1]);
	it = rocksdb_writebatch_wi_create_iterator_with_base_cf(a->s->wb, base, a->s->cf[1]);
	rocksdb_iter_seek_for_prev(it, (const char *)k, kl);
	if (rocksdb_iter_valid(it)) {
		size_t fkl, vl;
		const uint8_t *fk = (const uint8_t *)rocksdb_iter_key(it, &fkl);
		const char *v = rocksdb_iter_value(it, &vl);
		uint64_t at = fkl == 17 ? store_get_be64(fk + 9) : 0;

		if (fkl == 17 && memcmp(fk, k, 9) == 0 &&
		    (at == idx || (store_run_parse(v, vl, a->s->chunk_size, &r) > 0 &&
				   idx - at < r.count))) {
			*val = malloc(vl ? vl : 1);
			rc = *val ? 0 : -ENOMEM;
			if (*val) {
				memcpy(*val, v, vl);
				*vlen = vl;
				*start = at;
			}
		}
	}
	rocksdb_iter_get_error(it, &err);
	if (err) {
		rocksdb_free(err);
		if (!rc)
			rocksdb_free(*val);
		rc = -EIO;
	}
	rocksdb_iter_destroy(it);
	return rc;
}

static void put_slot_rec(struct actx *a, uint64_t nid, uint64_t idx, uint64_t csum,
			 uint64_t slot, uint32_t len)
{
	uint8_t k[17], val[STORE_SLOT_VAL];

	store_chunk_slot_build(val, csum, slot, len);
	wb_put(a->s, k, store_key_chunk(k, nid, idx), val, sizeof(val));
}

enum { PREP_EXPLODE, PREP_DROP };

/*
 * Makes chunks [lo, hi] of o free of runs. A run overlapping the range keeps its parts
 * outside it as runs (the part before under its key, the part after under a new key);
 * its chunks inside become per-chunk slot records with the same slots and checksums
 * (PREP_EXPLODE: the per-chunk code then handles them), or are deleted and their slots
 * freed (PREP_DROP, which also drops the per-chunk records in the range).
 */
static int range_prep(struct actx *a, struct obj *o, uint64_t lo, uint64_t hi, int mode)
{
	uint64_t cs = a->s->chunk_size, nid = o->on.nid;
	bool runs = o->on.flags & STORE_ONODE_RUNS;
	uint8_t k[17], *val = NULL;
	rocksdb_iterator_t *base, *it;
	bool seek = true;
	struct cbuf recs;
	struct cdec d;
	char *err = NULL;
	unsigned n = 0;
	int rc = 0;

	if (lo > hi || (!runs && mode == PREP_EXPLODE))
		return 0;
	cbuf_init(&recs);
	store_key_chunk(k, nid, lo);
	base = rocksdb_create_iterator_cf(a->s->db, a->s->ro, a->s->cf[1]);
	it = rocksdb_writebatch_wi_create_iterator_with_base_cf(a->s->wb, base, a->s->cf[1]);
	/* a run that starts before lo may cover it */
	if (runs) {
		rocksdb_iter_seek_for_prev(it, (const char *)k, 17);
		if (rocksdb_iter_valid(it)) {
			size_t fkl;
			const char *fk = rocksdb_iter_key(it, &fkl);

			seek = fkl != 17 || memcmp(fk, k, 9) != 0;
		}
	}
	if (seek)
		rocksdb_iter_seek(it, (const char *)k, 17);
	for (; rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
		size_t kl, vl;
		const char *key = rocksdb_iter_key(it, &kl);
		const char *v;

		if (kl < 9 || memcmp(key, k, 9) != 0)
			break;
		if (kl != 17) {
			rc = -EIO;
			break;
		}
		if (store_get_be64((const uint8_t *)key + 9) > hi)
			break;
		v = rocksdb_iter_value(it, &vl);
		if (mode == PREP_EXPLODE && (vl < 1 || (uint8_t)v[0] != 3))
			continue;
		enc_u64(&recs, store_get_be64((const uint8_t *)key + 9));
		enc_bytes(&recs, v, (uint32_t)vl);
		n++;
	}
	rocksdb_iter_get_error(it, &err);
	if (err) {
		rocksdb_free(err);
		rc = -EIO;
	}
	rocksdb_iter_destroy(it);
	if (!rc && recs.err)
		rc = recs.err;
	if (!rc && n)
		val = malloc(STORE_RUN_VAL_MAX);
	if (!rc && n && !val)
		rc = -ENOMEM;
	cdec_init(&d, recs.data, recs.len);
	for (unsigned i = 0; i < n && !rc; i++) {
		const uint8_t *v;
		uint32_t vl;
		uint64_t at, slot, csum, e, a0, b0;
		uint32_t slen;
		struct store_run r;
		int kind;

		dec_u64(&d, &at);
		dec_bytes(&d, &v, &vl);
		if (d.err) {
			rc = -EIO;
			break;
		}
		kind = store_run_parse(v, vl, cs, &r);
		if (kind < 0) {
			rc = -EIO;
			break;
		}
		if (kind == 0) {
			/* a per-chunk record (PREP_DROP only); one before lo is not ours */
			if (at < lo)
				continue;
			kind = store_chunk_slot_parse(v, vl, cs, &slot, &slen, &csum);
			if (kind < 0) {
				rc = -EIO;
				break;
			}
			if (kind > 0)
				slot_free(a, slot);
			wb_del(a->s, k, store_key_chunk(k, nid, at));
			continue;
		}
		e = at + r.count; /* [at, e) */
		a0 = at > lo ? at : lo;
		b0 = e - 1 < hi ? e - 1 : hi;
		if (e <= lo || a0 > b0)
			continue;
		if (a0 > at) {
			/* the part before stays a run under its key: all its chunks are full */
			size_t l = store_run_build(val, r.slot0, (uint32_t)(a0 - at), (uint32_t)cs,
						   r.csum);

			wb_put(a->s, k, store_key_chunk(k, nid, at), val, l);
		} else {
			wb_del(a->s, k, store_key_chunk(k, nid, at));
		}
		if (b0 + 1 < e) {
			uint32_t off = (uint32_t)(b0 + 1 - at);
			size_t l = store_run_build(val, r.slot0 + off, r.count - off, r.lastlen,
						   r.csum + 8ull * off);

			wb_put(a->s, k, store_key_chunk(k, nid, b0 + 1), val, l);
		}
		for (uint64_t j = a0; j <= b0; j++) {
			uint32_t ri = (uint32_t)(j - at);

			if (mode == PREP_DROP)
				slot_free(a, r.slot0 + ri);
			else
				put_slot_rec(a, nid, j, store_run_csum(&r, ri), r.slot0 + ri,
					     ri + 1 == r.count ? r.lastlen : (uint32_t)cs);
		}
	}
	free(val);
	cbuf_free(&recs);
	return rc;
}

/* Loads chunk idx into buf (cs bytes), *n = stored length (0 for a hole); *old = the slot
 * it lives in (STORE_NO_SLOT: inline or hole). */
/*
 * Waits for the slot writes still in flight (store_dio.h) before the apply thread reads
 * slots back: a transaction may read chunks an earlier one of the same group just wrote.
 */
static void slots_settle(struct actx *a)
{
	if (a->s->dio)
		store_dio_wait(a->s->dio); /* a failed write fails the group (apply_group) */
}

static int chunk_load(struct actx *a, struct obj *o, uint64_t idx, uint8_t *buf, size_t *n,
		      uint64_t *old)
{
	uint64_t csum, start, nid = o->on.nid;
	struct store_run r;
	uint32_t len;
	size_t vl;
	char *v;
	int rc = rec_find(a, nid, idx, o->on.flags & STORE_ONODE_RUNS, &v, &vl, &start);

	*n = 0;
	*old = STORE_NO_SLOT;
	if (rc == -ENOENT)
		return 0;
	if (rc)
		return rc;
	rc = store_run_parse(v, vl, a->s->chunk_size, &r);
	if (rc > 0) {
		/* read only: callers that rewrite the chunk split its run first */
		slots_settle(a);
		rc = store_run_load(a->s, &r, nid, start, idx, buf, n);
		if (rc)
			store_count_csum_error(a->s);
		rocksdb_free(v);
		return rc ? -EIO : 0;
	}
	if (store_chunk_slot_parse(v, vl, a->s->chunk_size, old, &len, &csum) <= 0)
		*old = STORE_NO_SLOT;
	if (*old != STORE_NO_SLOT)
		slots_settle(a);
	rc = rc < 0 ? rc : store_chunk_load(a->s, v, vl, nid, idx, buf, n);
	if (rc)
		store_count_csum_error(a->s);
	rocksdb_free(v);
	return rc ? -EIO : 0;
}

/* The slot chunk idx lives in, or STORE_NO_SLOT (inline, hole). */
static int chunk_peek(struct actx *a, const uint8_t *k, size_t kl, uint64_t *slot)
{
	uint64_t csum;
	uint32_t len;
	size_t vl;
	char *v;
	int rc = store_wb_get(a->s, k, kl, &v, &vl);

	*slot = STORE_NO_SLOT;
	if (rc == -ENOENT)
		return 0;
	if (rc)
		return rc;
	rc = store_chunk_slot_parse(v, vl, a->s->chunk_size, slot, &len, &csum);
	if (rc <= 0)
		*slot = STORE_NO_SLOT;
	rocksdb_free(v);
	return rc < 0 ? -EIO : 0;
}

static void group_flush(struct actx *a, struct bgroup *b)
{
	uint8_t k[9];
	size_t i;

	if (!b->dirty)
		return;
	k[0] = 'B';
	store_put_be64(k + 1, b->g);
	for (i = 0; i < STORE_BGROUP_BYTES && !b->bits[i]; i++)
		;
	if (i == STORE_BGROUP_BYTES)
		wb_del(a->s, k, 9);
	else
		wb_put(a->s, k, 9, b->bits, STORE_BGROUP_BYTES);
	b->dirty = false;
}

/* Sets the in-use bit of slot in its "B" key (cached for the rest of the build). */
static int slot_mark(struct actx *a, uint64_t slot, bool used)
{
	uint64_t g = slot / (STORE_BGROUP_BYTES * 8), bit = slot % (STORE_BGROUP_BYTES * 8);
	struct bgroup *b = NULL;

	for (int i = 0; i < a->ngrp; i++)
		if (a->grp[i].g == g)
			b = &a->grp[i];
	if (!b) {
		uint8_t k[9];
		size_t vl;
		char *v;
		int rc;

		if (a->ngrp < ACTX_GROUPS) {
			b = &a->grp[a->ngrp++];
		} else {
			b = &a->grp[a->evict++ % ACTX_GROUPS];
			group_flush(a, b);
			enc_u64(&a->touched, b->g);
		}
		b->g = g;
		b->dirty = false;
		memset(b->bits, 0, sizeof(b->bits));
		if (a->evict > 0 || a->s->pbits_stale) {
			/* evicted before: the batch holds a newer copy than the mirror */
			k[0] = 'B';
			store_put_be64(k + 1, g);
			rc = store_wb_get(a->s, k, 9, &v, &vl);
			if (rc && rc != -ENOENT)
				return rc;
			if (!rc) {
				if (vl == STORE_BGROUP_BYTES)
					memcpy(b->bits, v, vl);
				rocksdb_free(v);
				if (vl != STORE_BGROUP_BYTES)
					return -EIO;
			}
		} else if ((g + 1) * STORE_BGROUP_BYTES <= a->s->pbits_bytes) {
			memcpy(b->bits, a->s->pbits + g * STORE_BGROUP_BYTES, STORE_BGROUP_BYTES);
		}
	}
	if (used)
		b->bits[bit / 8] |= (uint8_t)(1u << (bit % 8));
	else
		b->bits[bit / 8] &= (uint8_t)~(1u << (bit % 8));
	b->dirty = true;
	return 0;
}

static void slot_free(struct actx *a, uint64_t slot)
{
	if (slot == STORE_NO_SLOT)
		return;
	if (slot_mark(a, slot, false))
		a->t->freed.err = -EIO; /* fails the build */
	enc_u64(&a->t->freed, slot); /* back to the allocator once this txn is durable */
}

/* Deletes the chunk with key k, freeing its slot. */
static int chunk_drop(struct actx *a, const uint8_t *k, size_t kl, bool may_slot)
{
	uint64_t slot = STORE_NO_SLOT, csum;
	struct store_run r;
	uint32_t len;
	size_t vl;
	char *v;
	int rc;

	if (may_slot) {
		rc = store_wb_get(a->s, k, kl, &v, &vl);
		if (rc && rc != -ENOENT)
			return rc;
		if (!rc) {
			rc = store_run_parse(v, vl, a->s->chunk_size, &r);
			if (rc > 0) {
				for (uint32_t i = 0; i < r.count; i++)
					slot_free(a, r.slot0 + i);
			} else if (rc == 0) {
				rc = store_chunk_slot_parse(v, vl, a->s->chunk_size, &slot, &len,
							    &csum);
				if (rc > 0)
					slot_free(a, slot);
			}
			rocksdb_free(v);
			if (rc < 0)
				return -EIO;
		}
	}
	wb_del(a->s, k, kl);
	return 0;
}

/* Stores n bytes inline as chunk idx (n == 0 deletes it); old: the slot it replaces. */
static void chunk_store(struct actx *a, uint64_t nid, uint64_t idx, const void *data, size_t n,
			uint64_t old)
{
	uint8_t k[17], hdr[STORE_CHUNK_HDR];
	size_t kl = store_key_chunk(k, nid, idx);
	const char *keys[1] = { (const char *)k };
	const char *vals[2];
	size_t ksz[1] = { kl }, vsz[2];

	slot_free(a, old);
	if (n == 0) {
		wb_del(a->s, k, kl);
		return;
	}
	store_chunk_header(hdr, nid, idx, data, n);
	vals[0] = (const char *)hdr;
	vsz[0] = sizeof(hdr);
	vals[1] = data;
	vsz[1] = n;
	rocksdb_writebatch_wi_putv_cf(a->s->wb, a->s->cf[1], 1, keys, ksz, 2, vals, vsz);
	store_jrec_put(a->s, k, kl, hdr, sizeof(hdr), data, n);
}

/*
 * Writes bytes of data (chunks idx0.. of object nid, back to back) to the data file at off
 * and sets csum[i] to chunk i's XXH3. With O_DIRECT: through an aligned staging buffer (one
 * of store_dio's, written by its threads while this one goes on; or s->dbuf, written here),
 * chunk by chunk copied and hashed while in cache, in pieces of STORE_DIRECT_BUF, the last
 * padded with zeros to STORE_DIRECT_ALIGN (the padding stays inside the last slot:
 * chunk_size is a multiple of it). Otherwise one buffered pwrite.
 */
static int slot_pwrite(struct store *s, uint64_t nid, uint64_t idx0, const uint8_t *data,
		       uint64_t len, uint64_t off, uint64_t *csum)
{
	uint64_t cs = s->chunk_size;

	if (s->directfd < 0) {
		for (uint64_t i = 0; i * cs < len; i++)
			csum[i] = cairn_xxh3_seed(data + i * cs, len - i * cs < cs ? len - i * cs : cs,
						  store_chunk_seed(nid, idx0 + i));
		return pwrite(s->datafd, data, len, (off_t)off) == (ssize_t)len ? 0 : -EIO;
	}
	for (uint64_t done = 0; done < len;) {
		uint64_t n = len - done < STORE_DIRECT_BUF ? len - done : STORE_DIRECT_BUF;
		uint64_t padded = (n + STORE_DIRECT_ALIGN - 1) / STORE_DIRECT_ALIGN * STORE_DIRECT_ALIGN;
		uint8_t *buf = s->dio ? store_dio_buf(s->dio) : s->dbuf;

		for (uint64_t at = 0; at < n; at += cs) {
			uint64_t cl = n - at < cs ? n - at : cs;

			memcpy(buf + at, data + done + at, cl);
			csum[(done + at) / cs] = cairn_xxh3_seed(buf + at, cl,
								 store_chunk_seed(nid, idx0 + (done + at) / cs));
		}
		if (padded != n)
			memset(buf + n, 0, padded - n);
		if (s->dio)
			store_dio_submit(s->dio, buf, padded, off + done);
		else if (pwrite(s->directfd, buf, padded, (off_t)(off + done)) != (ssize_t)padded)
			return -EIO;
		done += n;
	}
	return 0;
}

/*
 * Writes chunks [first, last] of o straight to slots of the data file (written once, not
 * through the WAL). data holds their bytes back to back; the last may be short (tail).
 */
static int write_slots(struct actx *a, struct obj *o, uint64_t first, uint64_t last,
		       const uint8_t *data, uint64_t bytes)
{
	uint64_t cs = a->s->chunk_size, n = last - first + 1;
	uint64_t *slots = malloc(2 * n * sizeof(uint64_t)), *csum;
	int rc = 0;

	if (!slots)
		return -ENOMEM;
	csum = slots + n;
	for (uint64_t i = 0; i < n && !rc; i++) {
		rc = store_alloc_get(a->s, &slots[i]);
		if (!rc)
			enc_u64(&a->allocated, slots[i]);
	}
	/* one write per run of consecutive slots */
	for (uint64_t i = 0; i < n && !rc;) {
		uint64_t j = i + 1, off = i * cs, len;

		while (j < n && slots[j] == slots[j - 1] + 1)
			j++;
		len = (j * cs < bytes ? j * cs : bytes) - off;
		rc = slot_pwrite(a->s, o->on.nid, first + i, data + off, len, slots[i] * cs,
				 csum + i);
		i = j;
	}
	/* one record per run of consecutive slots (at most STORE_RUN_MAX chunks); the old
	 * records of these chunks were dropped by the caller */
	for (uint64_t i = 0; i < n && !rc;) {
		uint64_t j = i + 1, lastlen;
		uint8_t k[17], val[STORE_RUN_VAL_MAX];
		size_t vl;

		while (j < n && j - i < STORE_RUN_MAX && slots[j] == slots[j - 1] + 1)
			j++;
		lastlen = bytes - (j - 1) * cs < cs ? bytes - (j - 1) * cs : cs;
		vl = store_run_build(val, slots[i], (uint32_t)(j - i), (uint32_t)lastlen, NULL);
		for (uint64_t x = i; x < j && !rc; x++) {
			store_run_set_csum(val, (uint32_t)(x - i), csum[x]);
			rc = slot_mark(a, slots[x], true);
		}
		wb_put(a->s, k, store_key_chunk(k, o->on.nid, first + i), val, vl);
		i = j;
	}
	a->t->wrote_slots = true;
	o->on.flags |= STORE_ONODE_SLOTS | STORE_ONODE_RUNS;
	free(slots);
	return rc;
}

static int check_size(struct actx *a, uint64_t end)
{
	return end > a->s->max_object_size ? -EFBIG : 0;
}

static int do_write(struct actx *a, struct obj *o, uint64_t off, uint64_t len, const uint8_t *data)
{
	uint64_t cs = a->s->chunk_size, end = off + len, pos = off, dfirst = 1, dlast = 0, old;
	uint8_t *buf = a->s->chunkbuf + STORE_CHUNK_HDR;
	int rc = check_size(a, end);

	if (rc)
		return rc;
	if (a->s->direct_min && len >= a->s->direct_min) {
		/* chunks that start inside the write and are covered to their end (or to EOF) */
		dfirst = (off + cs - 1) / cs;
		dlast = (end % cs == 0 || end >= o->on.size) ? (end - 1) / cs : end / cs - 1;
		if (dfirst <= dlast && dlast != UINT64_MAX) {
			uint64_t from = dfirst * cs, to = (dlast + 1) * cs < end ? (dlast + 1) * cs : end;

			if (from < o->on.size)
				rc = range_prep(a, o, dfirst, dlast, PREP_DROP);
			if (!rc)
				rc = write_slots(a, o, dfirst, dlast, data + (from - off),
						 to - from);
			if (rc)
				return rc;
		} else {
			dfirst = 1;
			dlast = 0;
		}
	}
	while (pos < end) {
		uint64_t idx = pos / cs, cstart = idx * cs;
		size_t a0 = pos - cstart, b0 = end - cstart < cs ? end - cstart : cs, n;

		if (idx >= dfirst && idx <= dlast) {
			pos = (dlast + 1) * cs < end ? (dlast + 1) * cs : end;
			continue;
		}
		/* a chunk inside a run gets its own record first */
		if (cstart < o->on.size && (rc = range_prep(a, o, idx, idx, PREP_EXPLODE)))
			return rc;
		if (a0 == 0 && (b0 == cs || cstart + b0 >= o->on.size)) {
			/* covers every byte the chunk can hold (none lie past the size): no read */
			uint8_t k[17];

			old = STORE_NO_SLOT;
			if (cstart < o->on.size && (o->on.flags & STORE_ONODE_SLOTS) &&
			    (rc = chunk_peek(a, k, store_key_chunk(k, o->on.nid, idx), &old)))
				return rc;
			chunk_store(a, o->on.nid, idx, data + (pos - off), b0, old);
		} else {
			rc = chunk_load(a, o, idx, buf, &n, &old);
			if (rc)
				return rc;
			if (n < a0)
				memset(buf + n, 0, a0 - n);
			memcpy(buf + a0, data + (pos - off), b0 - a0);
			chunk_store(a, o->on.nid, idx, buf, n > b0 ? n : b0, old);
		}
		pos = cstart + b0;
	}
	if (end > o->on.size)
		o->on.size = end;
	__atomic_fetch_add(&a->s->ctr.bytes_written, len, __ATOMIC_RELAXED);
	return 0;
}

/* Indices of the stored chunks of nid in [first, last] into keys (as chunk keys). */
static int chunk_list(struct actx *a, uint64_t nid, uint64_t first, uint64_t last,
		      struct cbuf *keys, unsigned *n)
{
	uint8_t lo[17], hi[17];
	size_t hil;

	store_key_chunk(lo, nid, first);
	if (last == UINT64_MAX)
		hil = store_key_nid(hi, 'D', nid + 1);
	else
		hil = store_key_chunk(hi, nid, last + 1);
	return collect_keys(a->s, lo, 17, hi, hil, 0, keys, n);
}

/* Makes [from, to) of the object read as zeros, by deleting or trimming chunks. */
static int punch(struct actx *a, struct obj *o, uint64_t from, uint64_t to)
{
	uint64_t cs = a->s->chunk_size;
	uint8_t *buf = a->s->chunkbuf + STORE_CHUNK_HDR;
	struct cbuf keys;
	struct cdec d;
	unsigned cnt;
	int rc;

	if (from >= to)
		return 0;
	/* split runs at the edge chunks (the only partial ones): every run left in the range
	 * is then dropped whole */
	rc = range_prep(a, o, from / cs, from / cs, PREP_EXPLODE);
	if (!rc && to != UINT64_MAX)
		rc = range_prep(a, o, (to - 1) / cs, (to - 1) / cs, PREP_EXPLODE);
	if (rc)
		return rc;
	cbuf_init(&keys);
	rc = chunk_list(a, o->on.nid, from / cs, to == UINT64_MAX ? UINT64_MAX : (to - 1) / cs,
			&keys, &cnt);
	if (rc)
		goto out;
	cdec_init(&d, keys.data, keys.len);
	for (unsigned i = 0; i < cnt && !rc; i++) {
		const uint8_t *k;
		uint32_t kl;
		uint64_t idx, cstart, old;
		size_t a0, b0, n;

		dec_bytes(&d, &k, &kl);
		if (kl != 17) {
			rc = -EIO;
			break;
		}
		idx = store_get_be64(k + 9);
		cstart = idx * cs;
		a0 = from > cstart ? from - cstart : 0;
		b0 = to - cstart < cs ? to - cstart : cs;
		if (a0 == 0 && b0 == cs) {
			rc = chunk_drop(a, k, kl, o->on.flags & STORE_ONODE_SLOTS);
			continue;
		}
		rc = chunk_load(a, o, idx, buf, &n, &old);
		if (rc || a0 >= n)
			continue;
		if (b0 >= n) {
			chunk_store(a, o->on.nid, idx, buf, a0, old);
		} else {
			memset(buf + a0, 0, b0 - a0);
			chunk_store(a, o->on.nid, idx, buf, n, old);
		}
	}
out:
	cbuf_free(&keys);
	return rc;
}

static int do_zero(struct actx *a, struct obj *o, uint64_t off, uint64_t len)
{
	uint64_t end = off + len;
	int rc = check_size(a, end);

	if (!rc)
		rc = punch(a, o, off, end < o->on.size ? end : o->on.size);
	if (!rc && end > o->on.size)
		o->on.size = end;
	return rc;
}

static int do_truncate(struct actx *a, struct obj *o, uint64_t size)
{
	int rc = check_size(a, size);

	if (!rc && size < o->on.size)
		rc = punch(a, o, size, UINT64_MAX);
	if (!rc)
		o->on.size = size;
	return rc;
}

/* Reads [off, off+len) of object o (through the batch) into buf; EOF and holes are zeros. */
static int read_range(struct actx *a, struct obj *o, uint64_t off, size_t len, uint8_t *buf)
{
	uint64_t cs = a->s->chunk_size, pos = off, end = off + len;
	uint8_t *cb = a->s->chunkbuf + STORE_CHUNK_HDR;
	int rc;

	memset(buf, 0, len);
	if (end > o->on.size)
		end = o->on.size;
	while (pos < end) {
		uint64_t idx = pos / cs, cstart = idx * cs;
		size_t a0 = pos - cstart, b0 = end - cstart < cs ? end - cstart : cs, n;

		uint64_t old;

		rc = chunk_load(a, o, idx, cb, &n, &old);
		if (rc)
			return rc;
		if (n > a0)
			memcpy(buf + (pos - off), cb + a0, (n < b0 ? n : b0) - a0);
		pos = cstart + b0;
	}
	return 0;
}

/* ---- ops -------------------------------------------------------------------------------- */

static int do_items(struct actx *a, struct obj *o, struct store_op *op)
{
	uint8_t k[9 + STORE_OMAP_KEY_MAX];
	struct cdec it = op->items;
	char type = op->code == STORE_OP_SETATTRS ? 'A' : 'M';

	for (uint32_t i = 0; i < op->n; i++) {
		const uint8_t *key, *val;
		uint32_t kl, vl;
		size_t klen;

		if (store_op_item(&it, op->code, &key, &kl, &val, &vl))
			return -EINVAL;
		klen = store_key_sub(k, type, o->on.nid, key, kl);
		if (op->code == STORE_OP_OMAP_RMKEYS)
			wb_del(a->s, k, klen);
		else
			wb_put(a->s, k, klen, val, vl);
	}
	return 0;
}

/* Copies everything of type under src nid to dst nid (data chunks re-checksummed). */
static int copy_keys(struct actx *a, char type, uint64_t src, uint64_t dst)
{
	uint8_t lo[9], hi[9], nk[9 + STORE_OMAP_KEY_MAX + 256];
	struct cbuf keys;
	struct cdec d;
	unsigned n;
	int rc;

	store_key_nid(lo, type, src);
	store_key_nid(hi, type, src + 1);
	cbuf_init(&keys);
	rc = collect_keys(a->s, lo, 9, hi, 9, 0, &keys, &n);
	cdec_init(&d, keys.data, keys.len);
	for (unsigned i = 0; i < n && !rc; i++) {
		const uint8_t *k;
		uint32_t kl;
		size_t vl, dl;
		char *v;

		dec_bytes(&d, &k, &kl);
		if (kl < 9 || kl > sizeof(nk)) {
			rc = -EIO;
			break;
		}
		rc = store_wb_get(a->s, k, kl, &v, &vl);
		if (rc)
			break;
		if (type == 'D') {
			uint64_t idx = kl == 17 ? store_get_be64(k + 9) : 0;
			uint8_t *buf = a->s->chunkbuf + STORE_CHUNK_HDR;

			struct store_run r;
			int run = store_run_parse(v, vl, a->s->chunk_size, &r);

			/* a run is copied chunk by chunk, inline (clone copies data) */
			if (run > 0 || kl == 17)
				slots_settle(a);
			for (uint32_t j = 0; run > 0 && j < r.count && !rc; j++) {
				rc = store_run_load(a->s, &r, src, idx, idx + j, buf, &dl);
				if (!rc)
					chunk_store(a, dst, idx + j, buf, dl, STORE_NO_SLOT);
			}
			if (run == 0)
				rc = kl == 17 ? store_chunk_load(a->s, v, vl, src, idx, buf, &dl)
					      : -EIO;
			if (run < 0 || rc) {
				store_count_csum_error(a->s);
				rc = -EIO;
			} else if (run == 0) {
				chunk_store(a, dst, idx, buf, dl, STORE_NO_SLOT);
			}
		} else {
			store_key_sub(nk, type, dst, k + 9, kl - 9);
			wb_put(a->s, nk, kl, v, vl);
		}
		rocksdb_free(v);
	}
	cbuf_free(&keys);
	return rc;
}

static bool same_obj(const struct obj *x, const struct obj *y)
{
	return x->klen == y->klen && memcmp(x->key, y->key, x->klen) == 0;
}

static int op_clone(struct actx *a, struct store_op *op)
{
	struct obj src, dst;
	int rc = obj_get(a, op->coll, op->oid, op->oidlen, &src);

	if (!rc)
		rc = obj_load(a, op->coll, op->oid2, op->oid2len, &dst);
	if (rc || same_obj(&src, &dst))
		return rc;
	if (dst.exists && (rc = obj_destroy(a, &dst)))
		return rc;
	rc = obj_get_create(a, op->coll, op->oid2, op->oid2len, &dst);
	if (!rc)
		rc = copy_keys(a, 'D', src.on.nid, dst.on.nid);
	if (!rc)
		rc = copy_keys(a, 'A', src.on.nid, dst.on.nid);
	if (!rc)
		rc = copy_keys(a, 'M', src.on.nid, dst.on.nid);
	if (rc)
		return rc;
	dst.on.size = src.on.size;
	obj_save(a, &dst);
	return 0;
}

static int op_clone_range(struct actx *a, struct store_op *op)
{
	const size_t piece = 1u << 20;
	struct obj src, dst;
	uint8_t *buf;
	int rc = obj_get(a, op->coll, op->oid, op->oidlen, &src);

	if (!rc)
		rc = obj_get_create(a, op->coll, op->oid2, op->oid2len, &dst);
	if (!rc)
		rc = check_size(a, op->off2 + op->len);
	if (rc)
		return rc;
	buf = malloc(op->len < piece ? (op->len ? op->len : 1) : piece);
	if (!buf)
		return -ENOMEM;
	for (uint64_t done = 0; done < op->len && !rc;) {
		size_t n = op->len - done < piece ? op->len - done : piece;

		rc = read_range(a, &src, op->off + done, n, buf);
		if (!rc)
			rc = do_write(a, &dst, op->off2 + done, n, buf);
		done += n;
	}
	free(buf);
	if (rc)
		return rc;
	if (op->off2 + op->len > dst.on.size)
		dst.on.size = op->off2 + op->len;
	obj_save(a, &dst);
	return 0;
}

static int op_move(struct actx *a, struct store_op *op)
{
	struct obj src, dst;
	int rc = obj_get(a, op->coll, op->oid, op->oidlen, &src);

	if (!rc)
		rc = obj_load(a, op->coll2, op->oid2, op->oid2len, &dst);
	if (rc || same_obj(&src, &dst))
		return rc;
	if (dst.exists && (rc = obj_destroy(a, &dst)))
		return rc;
	wb_del(a->s, src.key, src.klen);
	ocache_drop(src.key, src.klen);
	dst.on = src.on;
	dst.accounted = src.accounted;
	obj_save(a, &dst);
	return 0;
}

static int op_coll(struct actx *a, struct store_op *op)
{
	uint8_t k[2 + STORE_COLL_NAME_MAX];
	size_t kl = store_key_coll(k, op->coll);
	int rc = coll_exists(a, op->coll);
	struct cbuf keys;
	unsigned n;

	if (rc < 0)
		return rc;
	if (op->code == STORE_OP_COLL_CREATE) {
		if (rc)
			return -EEXIST;
		wb_put(a->s, k, kl, "\x01", 1);
		return 0;
	}
	if (!rc)
		return -ENOENT;
	{
		uint8_t lo[2 + STORE_COLL_NAME_MAX], hi[2 + STORE_COLL_NAME_MAX];
		size_t ll = store_key_onode_prefix(lo, op->coll);

		memcpy(hi, lo, ll);
		hi[ll - 1] = 1;
		cbuf_init(&keys);
		rc = collect_keys(a->s, lo, ll, hi, ll, 1, &keys, &n);
		cbuf_free(&keys);
	}
	if (rc)
		return rc;
	if (n)
		return -ENOTEMPTY;
	wb_del(a->s, k, kl);
	coll_forget(op->coll);
	return 0;
}

static int apply_op(struct actx *a, struct store_op *op)
{
	struct obj o;
	int rc;

	switch (op->code) {
	case STORE_OP_COLL_CREATE:
	case STORE_OP_COLL_REMOVE:
		return op_coll(a, op);
	case STORE_OP_CLONE:
		return op_clone(a, op);
	case STORE_OP_CLONE_RANGE:
		return op_clone_range(a, op);
	case STORE_OP_MOVE:
		return op_move(a, op);
	case STORE_OP_TOUCH:
	case STORE_OP_WRITE:
	case STORE_OP_ZERO:
	case STORE_OP_TRUNCATE:
	case STORE_OP_SETATTRS:
	case STORE_OP_OMAP_SETKEYS:
		rc = obj_get_create(a, op->coll, op->oid, op->oidlen, &o);
		break;
	default:
		rc = obj_get(a, op->coll, op->oid, op->oidlen, &o);
		break;
	}
	if (rc)
		return rc;

	switch (op->code) {
	case STORE_OP_TOUCH:
		break;
	case STORE_OP_WRITE:
		rc = do_write(a, &o, op->off, op->len, op->data);
		break;
	case STORE_OP_ZERO:
		rc = do_zero(a, &o, op->off, op->len);
		break;
	case STORE_OP_TRUNCATE:
		rc = do_truncate(a, &o, op->off);
		break;
	case STORE_OP_REMOVE:
		return obj_destroy(a, &o);
	case STORE_OP_SETATTRS:
	case STORE_OP_OMAP_SETKEYS:
	case STORE_OP_OMAP_RMKEYS:
		rc = do_items(a, &o, op);
		break;
	case STORE_OP_RMATTR: {
		uint8_t k[9 + STORE_ATTR_NAME_MAX];

		wb_del(a->s, k, store_key_sub(k, 'A', o.on.nid, op->data, op->dlen));
		break;
	}
	case STORE_OP_OMAP_RMRANGE:
		rc = delete_range(a, 'M', o.on.nid, op->data, op->dlen, op->data2, op->d2len,
				  !op->has_data2, false);
		break;
	case STORE_OP_OMAP_CLEAR:
		rc = delete_range(a, 'M', o.on.nid, NULL, 0, NULL, 0, true, false);
		break;
	default:
		return -EINVAL;
	}
	if (rc)
		return rc;
	/* omap changes of an object that existed leave its onode (and mtime) as it was, as
	 * BlueStore does: the PG log's meta object takes 2 records per write, not 3. An OSD
	 * that wants a client's omap change to stamp mtime adds a TOUCH (op_exec.c). */
	if (!o.created && (op->code == STORE_OP_OMAP_SETKEYS || op->code == STORE_OP_OMAP_RMKEYS ||
			   op->code == STORE_OP_OMAP_RMRANGE || op->code == STORE_OP_OMAP_CLEAR))
		return 0;
	obj_save(a, &o);
	return 0;
}

/* The apply context: one per apply thread (~600 bytes of bitmap cache). */
static __thread struct actx apply_ctx;

int store_apply_build(struct store *s, struct store_txn *t, struct store_totals *tot)
{
	struct actx *a = &apply_ctx;
	memset(a, 0, offsetof(struct actx, grp)); /* touched (after grp) keeps its memory */
	a->s = s;
	a->t = t;
	a->now = now_wall_ns();
	a->tot = s->totals;
	a->ngrp = a->evict = 0;
	struct store_op op;
	struct cdec d;
	int rc = 0;

	cbuf_reset(&t->freed);
	t->wrote_slots = false;
	cbuf_init(&a->allocated);
	cdec_init(&d, t->ops.data, t->ops.len);
	for (uint32_t i = 0; i < t->nops && !rc; i++) {
		rc = store_op_next(&d, &op);
		if (rc)
			rc = -EINVAL;
		else
			rc = apply_op(a, &op);
	}
	if (!rc && (t->freed.err || a->allocated.err))
		rc = -ENOMEM;
	if (rc) {
		/* the caller rolls this transaction back: forget what it cached */
		acache_clear();
		/* nothing reaches the DB: the slots written are free again, none was freed
		 * (once its writes in flight are done: the next writer of a slot may be a
		 * writer thread other than the one writing it now) */
		struct cdec ad;
		uint64_t slot;

		if (a->allocated.len)
			slots_settle(a);

		cdec_init(&ad, a->allocated.data, a->allocated.len);
		while (dec_left(&ad) >= 8 && dec_u64(&ad, &slot) == 0)
			store_alloc_put(s, slot);
		cbuf_reset(&t->freed);
		t->wrote_slots = false;
		cbuf_free(&a->allocated);
		return rc;
	}
	cbuf_free(&a->allocated);
	for (int i = 0; i < a->ngrp; i++)
		group_flush(a, &a->grp[i]);
	/* mirror the cached groups into s->pbits now (if this batch then fails to write, the
	 * store is failed for good, so a mirror running ahead does not matter); evicted ones
	 * are re-read from the DB once the batch is in (store_apply_written) */
	for (int i = 0; i < a->ngrp && !rc; i++)
		rc = store_pbits_set(s, a->grp[i].g, a->grp[i].bits);
	if (rc) {
		acache_clear();
		return rc;
	}
	if (a->evict)
		s->pbits_stale = true; /* the batch has groups the mirror lacks, until written */
	*tot = a->tot;
	return 0;
}

void store_apply_put_totals(struct store *s, const struct store_totals *tot)
{
	uint8_t buf[64];
	struct cbuf b = { .data = buf, .cap = sizeof(buf) };

	store_totals_encode(tot, &b);
	wb_put(s, (const uint8_t *)"T", 1, b.data, b.len);
	if (b.data != buf)
		cbuf_free(&b);
}

int store_apply_written(struct store *s)
{
	struct cdec d;
	uint64_t g;
	int rc = 0;

	s->pbits_stale = false;
	if (!apply_ctx.touched.len)
		return 0;
	cdec_init(&d, apply_ctx.touched.data, apply_ctx.touched.len);
	while (!rc && dec_left(&d) >= 8 && dec_u64(&d, &g) == 0) {
		uint8_t k[9], bits[STORE_BGROUP_BYTES] = { 0 };
		char *v, *err = NULL;
		size_t vl;

		k[0] = 'B';
		store_put_be64(k + 1, g);
		v = rocksdb_get_cf(s->db, s->ro, s->cf[0], (const char *)k, 9, &vl, &err);
		if (err) {
			rocksdb_free(err);
			rc = -EIO;
			break;
		}
		if (v && vl == STORE_BGROUP_BYTES)
			memcpy(bits, v, vl);
		else if (v)
			rc = -EIO;
		if (v)
			rocksdb_free(v);
		if (!rc)
			rc = store_pbits_set(s, g, bits);
	}
	cbuf_reset(&apply_ctx.touched);
	return rc;
}

void store_apply_thread_exit(void)
{
	free(apply_cache);
	apply_cache = NULL;
	cbuf_free(&apply_ctx.touched);
}
