/*
 * store_fsck — offline-style verification of a store (every onode, every data chunk's
 * XXH3) and the bit-rot test hook. Reads a snapshot, so it runs on an open store while
 * transactions go on; it never writes (except store_debug_corrupt, which exists to).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "osd/store_int.h"

struct fsck {
	struct store *s;
	rocksdb_readoptions_t *ro;
	rocksdb_iterator_t *dit; /* data chunks */
	store_fsck_cb_t bad;
	void *arg;
	uint8_t *buf; /* chunk_size */
};

/* The "B" bitmap says slot is in use. */
static bool slot_owned(struct fsck *f, uint64_t slot, uint64_t nid, uint64_t idx)
{
	uint64_t bit = slot % (STORE_BGROUP_BYTES * 8);
	uint8_t k[9];
	char *v, *err = NULL;
	size_t vl;
	bool ok;

	(void)nid;
	(void)idx;
	k[0] = 'B';
	store_put_be64(k + 1, slot / (STORE_BGROUP_BYTES * 8));
	v = rocksdb_get(f->s->db, f->ro, (const char *)k, 9, &vl, &err);
	if (err)
		rocksdb_free(err);
	ok = v && vl == STORE_BGROUP_BYTES && (v[bit / 8] & (1u << (bit % 8)));
	if (v)
		rocksdb_free(v);
	return ok;
}

/* Checks every chunk of a run keyed at idx: bytes, slot bits, not past the size. */
static const char *check_run(struct fsck *f, const struct store_onode *on, uint64_t idx,
			     const struct store_run *r, char *why, size_t whylen)
{
	uint64_t cs = f->s->chunk_size;
	size_t n;

	if ((idx + r->count - 1) * cs + r->lastlen > on->size) {
		snprintf(why, whylen, "data run %llu+%u past the object size %llu",
			 (unsigned long long)idx, r->count, (unsigned long long)on->size);
		return why;
	}
	for (uint32_t i = 0; i < r->count; i++) {
		int rc = store_run_load(f->s, r, on->nid, idx, idx + i, f->buf, &n);

		if (rc) {
			store_count_csum_error(f->s);
			snprintf(why, whylen, "checksum mismatch in data chunk %llu (bytes %llu..)",
				 (unsigned long long)(idx + i),
				 (unsigned long long)((idx + i) * cs));
			return why;
		}
		if (!slot_owned(f, r->slot0 + i, on->nid, idx + i)) {
			snprintf(why, whylen, "data chunk %llu: slot %llu not recorded as in use",
				 (unsigned long long)(idx + i), (unsigned long long)(r->slot0 + i));
			return why;
		}
	}
	return NULL;
}

/* Checks one object's chunks; returns NULL or why it is damaged (static string / buf). */
static const char *check_data(struct fsck *f, const struct store_onode *on, char *why,
			      size_t whylen)
{
	uint8_t lo[9], hi[9];
	char *err = NULL;
	const char *res = NULL;
	uint64_t next = 0;

	store_key_nid(lo, 'D', on->nid);
	store_key_nid(hi, 'D', on->nid + 1);
	for (rocksdb_iter_seek(f->dit, (const char *)lo, 9); rocksdb_iter_valid(f->dit);
	     rocksdb_iter_next(f->dit)) {
		size_t kl, vl, n;
		const uint8_t *k = (const uint8_t *)rocksdb_iter_key(f->dit, &kl);
		const char *v;
		uint64_t idx, slot, csum;
		struct store_run run;
		uint32_t slen;
		int rc;

		if (memcmp(k, hi, kl < 9 ? kl : 9) >= 0)
			break;
		if (kl != 17) {
			res = "malformed data key";
			break;
		}
		idx = store_get_be64(k + 9);
		v = rocksdb_iter_value(f->dit, &vl);
		if (idx < next) {
			snprintf(why, whylen, "data record %llu overlaps the run before it",
				 (unsigned long long)idx);
			res = why;
			break;
		}
		rc = store_run_parse(v, vl, f->s->chunk_size, &run);
		if (rc > 0) {
			res = check_run(f, on, idx, &run, why, whylen);
			if (res)
				break;
			next = idx + run.count;
			continue;
		}
		next = idx + 1;
		rc = rc < 0 ? rc : store_chunk_load(f->s, v, vl, on->nid, idx, f->buf, &n);
		if (rc == 0 && store_chunk_slot_parse(v, vl, f->s->chunk_size, &slot, &slen, &csum) > 0 &&
		    !slot_owned(f, slot, on->nid, idx)) {
			snprintf(why, whylen, "data chunk %llu: slot %llu not recorded as in use",
				 (unsigned long long)idx, (unsigned long long)slot);
			res = why;
			break;
		}
		if (rc == -EIO) {
			store_count_csum_error(f->s);
			snprintf(why, whylen, "checksum mismatch in data chunk %llu (bytes %llu..)",
				 (unsigned long long)idx,
				 (unsigned long long)(idx * f->s->chunk_size));
			res = why;
			break;
		}
		if (rc) {
			snprintf(why, whylen, "malformed data chunk %llu", (unsigned long long)idx);
			res = why;
			break;
		}
		if (idx * f->s->chunk_size + n > on->size) {
			snprintf(why, whylen, "data chunk %llu past the object size %llu",
				 (unsigned long long)idx, (unsigned long long)on->size);
			res = why;
			break;
		}
	}
	rocksdb_iter_get_error(f->dit, &err);
	if (err) {
		snprintf(why, whylen, "rocksdb: %s", err);
		rocksdb_free(err);
		res = why;
	}
	return res;
}

int store_fsck(struct store *s, store_fsck_cb_t bad, void *arg)
{
	struct fsck f = { .s = s, .bad = bad, .arg = arg };
	const rocksdb_snapshot_t *snap = rocksdb_create_snapshot(s->db);
	rocksdb_readoptions_t *ro = rocksdb_readoptions_create();
	rocksdb_iterator_t *oit;
	char why[160], coll[STORE_COLL_NAME_MAX + 1], *err = NULL;
	int damaged = 0;

	rocksdb_readoptions_set_snapshot(ro, snap);
	/* our checksums find (and name) damaged data; RocksDB's would fail the whole block */
	rocksdb_readoptions_set_verify_checksums(ro, 0);
	rocksdb_readoptions_set_fill_cache(ro, 0);
	f.ro = ro;
	f.buf = malloc(s->chunk_size);
	if (!f.buf) {
		rocksdb_readoptions_destroy(ro);
		rocksdb_release_snapshot(s->db, snap);
		return -ENOMEM;
	}
	f.dit = rocksdb_create_iterator_cf(s->db, ro, s->cf[1]);
	oit = rocksdb_create_iterator(s->db, ro);
	for (rocksdb_iter_seek(oit, "O", 1); rocksdb_iter_valid(oit); rocksdb_iter_next(oit)) {
		size_t kl, vl, cl, nl;
		const uint8_t *k = (const uint8_t *)rocksdb_iter_key(oit, &kl), *name, *z;
		const char *v = rocksdb_iter_value(oit, &vl), *res = NULL;
		struct store_onode on;
		uint64_t h;

		if (kl < 1 || k[0] != 'O')
			break;
		z = memchr(k + 1, 0, kl - 1);
		cl = z ? (size_t)(z - k - 1) : 0;
		if (!z || cl > STORE_COLL_NAME_MAX ||
		    store_key_onode_parse(k, kl, cl + 2, &h, &name, &nl)) {
			if (bad)
				bad(arg, "?", k, kl, "malformed onode key");
			damaged++;
			continue;
		}
		memcpy(coll, k + 1, cl);
		coll[cl] = 0;
		if (store_onode_decode(&on, v, vl))
			res = "malformed onode";
		else if (h != store_name_hash(name, nl))
			res = "onode key hash does not match the name";
		else
			res = check_data(&f, &on, why, sizeof(why));
		if (res) {
			if (bad)
				bad(arg, coll, name, nl, res);
			damaged++;
		}
	}
	rocksdb_iter_get_error(oit, &err);
	if (err) {
		if (bad)
			bad(arg, "?", "", 0, err);
		rocksdb_free(err);
		damaged++;
	}
	rocksdb_iter_destroy(oit);
	rocksdb_iter_destroy(f.dit);
	free(f.buf);
	rocksdb_readoptions_destroy(ro);
	rocksdb_release_snapshot(s->db, snap);
	return damaged;
}

/* The data record covering the chunk of key k (the last key <= k of its object): 0, *v
 * (rocksdb_free) and *start (its chunk index); -ENOENT. */
static int find_rec(struct store *s, const uint8_t *k, size_t kl, char **v, size_t *vl,
		    uint64_t *start)
{
	rocksdb_iterator_t *it = rocksdb_create_iterator_cf(s->db, s->ro, s->cf[1]);
	int rc = -ENOENT;

	rocksdb_iter_seek_for_prev(it, (const char *)k, kl);
	if (rocksdb_iter_valid(it)) {
		size_t fkl;
		const char *fk = rocksdb_iter_key(it, &fkl);
		const char *val = rocksdb_iter_value(it, vl);

		if (fkl == 17 && memcmp(fk, k, 9) == 0 && (*v = malloc(*vl ? *vl : 1))) {
			memcpy(*v, val, *vl);
			*start = store_get_be64((const uint8_t *)fk + 9);
			rc = 0;
		}
	}
	rocksdb_iter_destroy(it);
	return rc;
}

int store_debug_corrupt(struct store *s, const char *coll, const void *oid, size_t oidlen,
			uint64_t off)
{
	uint8_t k[STORE_KEY_MAX];
	struct store_onode on;
	char *v = NULL, *err = NULL;
	size_t vl, kl;
	uint64_t idx, start;
	int rc;

	if (!coll || !store_coll_name_valid(coll, strnlen(coll, STORE_COLL_NAME_MAX + 1)) ||
	    oidlen > STORE_NAME_MAX)
		return -EINVAL;
	kl = store_key_onode(k, coll, oid, oidlen);
	v = rocksdb_get(s->db, s->ro, (const char *)k, kl, &vl, &err);
	if (err || !v) {
		rc = err ? -EIO : -ENOENT;
		goto out;
	}
	rc = store_onode_decode(&on, v, vl) ? -EIO : 0;
	rocksdb_free(v);
	v = NULL;
	if (rc)
		goto out;
	idx = off / s->chunk_size;
	kl = store_key_chunk(k, on.nid, idx);
	rc = find_rec(s, k, kl, &v, &vl, &start);
	if (rc)
		goto out;
	{
		uint64_t slot, csum;
		struct store_run r;
		uint32_t slen;
		uint8_t byte;

		rc = store_run_parse(v, vl, s->chunk_size, &r);
		if (rc > 0 && idx - start >= r.count) {
			rc = -ENOENT;
			goto out;
		}
		if (rc > 0) {
			slot = r.slot0 + (idx - start);
			slen = idx - start + 1 == r.count ? r.lastlen : s->chunk_size;
		} else if (rc == 0) {
			rc = start != idx ? -ENOENT
					  : store_chunk_slot_parse(v, vl, s->chunk_size, &slot,
								   &slen, &csum);
		}
		if (rc < 0)
			goto out;
		if (rc > 0) {
			/* the bytes live in the data file: flip one there, on disk */
			off_t at = (off_t)(slot * s->chunk_size + (off % s->chunk_size < slen
								   ? off % s->chunk_size : slen - 1));

			rc = -EIO;
			if (pread(s->datafd, &byte, 1, at) == 1) {
				byte ^= 0x01;
				if (pwrite(s->datafd, &byte, 1, at) == 1 && fdatasync(s->datafd) == 0)
					rc = 0;
			}
			goto out;
		}
	}
	if (vl <= STORE_CHUNK_HDR) {
		rc = -ENOENT;
		goto out;
	}
	{
		size_t pos = off % s->chunk_size;

		if (pos >= vl - STORE_CHUNK_HDR)
			pos = vl - STORE_CHUNK_HDR - 1;
		v[STORE_CHUNK_HDR + pos] ^= 0x01;
	}
	rocksdb_put_cf(s->db, s->wo_sync, s->cf[1], (const char *)k, kl, v, vl, &err);
	rc = err ? -EIO : 0;
	/* with a journal, replay at the next open must not put an older value over this one:
	 * flush, so that every journal record before it is behind the markers */
	if (!rc && s->journal) {
		rocksdb_flushoptions_t *fo = rocksdb_flushoptions_create();

		rocksdb_flushoptions_set_wait(fo, 1);
		for (int i = 0; i < 2 && !err; i++)
			rocksdb_flush_cf(s->db, fo, s->cf[i], &err);
		rocksdb_flushoptions_destroy(fo);
		rc = err ? -EIO : 0;
	}
out:
	if (err)
		rocksdb_free(err);
	if (v)
		rocksdb_free(v);
	return rc;
}
