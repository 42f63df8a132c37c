/*
 * store_format — the store's on-disk keys and values (layout in store_int.h).
 *
 * One encode and one decode per structure, side by side; values are versioned envelopes
 * and decoding validates (a decoder never trusts what it read from disk). Data chunks are
 * the exception: they are the hot path, so they carry a fixed 9-byte header
 * (u8 version | u64 le xxh3) instead of an envelope.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "common/checksum.h"
#include "osd/store_int.h"

/* 2: data runs ("D" values of form 3); a store of 1 (per-chunk records only) opens and
 * is marked 2 at open; an older binary refuses a store of 2 (compat 2) */
#define SUPER_V STORE_FORMAT_V
#define TOTALS_V 1
#define ONODE_V 1
#define CHUNK_V 1
#define CHUNK_SLOT_V 2
#define CHUNK_RUN_V 3

uint64_t store_name_hash(const void *name, size_t len)
{
	return cairn_xxh3(name, len);
}

void store_super_encode(const struct store_super *sb, struct cbuf *b)
{
	size_t st = enc_start(b, SUPER_V, SUPER_V);

	enc_raw(b, sb->magic, sizeof(sb->magic));
	enc_u32(b, sb->chunk_size);
	enc_u64(b, sb->created_ns);
	enc_finish(b, st);
}

int store_super_decode(struct store_super *sb, const void *p, size_t n)
{
	struct cdec d, body;
	uint8_t v;

	cdec_init(&d, p, n);
	if (dec_start(&d, SUPER_V, &body, &v))
		return d.err;
	sb->version = v;
	dec_raw(&body, sb->magic, sizeof(sb->magic));
	dec_u32(&body, &sb->chunk_size);
	dec_u64(&body, &sb->created_ns);
	if (body.err)
		return body.err;
	if (dec_finish(&d, &body))
		return d.err;
	if (memcmp(sb->magic, STORE_MAGIC, sizeof(STORE_MAGIC)) != 0 || sb->chunk_size < 512 ||
	    sb->chunk_size > (64u << 20) || (sb->chunk_size & (sb->chunk_size - 1)))
		return -EBADMSG;
	return 0;
}

void store_totals_encode(const struct store_totals *t, struct cbuf *b)
{
	size_t st = enc_start(b, TOTALS_V, 1);

	enc_u64(b, t->next_nid);
	enc_u64(b, t->objects);
	enc_u64(b, t->stored);
	enc_finish(b, st);
}

int store_totals_decode(struct store_totals *t, const void *p, size_t n)
{
	struct cdec d, body;
	uint8_t v;

	cdec_init(&d, p, n);
	if (dec_start(&d, TOTALS_V, &body, &v))
		return d.err;
	dec_u64(&body, &t->next_nid);
	dec_u64(&body, &t->objects);
	dec_u64(&body, &t->stored);
	if (body.err)
		return body.err;
	if (dec_finish(&d, &body))
		return d.err;
	return t->next_nid == 0 ? -EBADMSG : 0;
}

void store_onode_encode(const struct store_onode *o, struct cbuf *b)
{
	size_t st = enc_start(b, ONODE_V, 1);

	enc_u64(b, o->nid);
	enc_u64(b, o->size);
	enc_u64(b, o->mtime_ns);
	enc_u32(b, o->flags);
	enc_finish(b, st);
}

int store_onode_decode(struct store_onode *o, const void *p, size_t n)
{
	struct cdec d, body;
	uint8_t v;

	cdec_init(&d, p, n);
	if (dec_start(&d, ONODE_V, &body, &v))
		return d.err;
	dec_u64(&body, &o->nid);
	dec_u64(&body, &o->size);
	dec_u64(&body, &o->mtime_ns);
	dec_u32(&body, &o->flags);
	if (body.err)
		return body.err;
	if (dec_finish(&d, &body))
		return d.err;
	if (o->nid == 0 || o->size > STORE_OBJECT_SIZE_CAP || 
	    (o->flags & ~(STORE_ONODE_SLOTS | STORE_ONODE_RUNS)))
		return -EBADMSG;
	return 0;
}

/* ---- keys ------------------------------------------------------------------------------- */

size_t store_key_coll(uint8_t *k, const char *coll)
{
	size_t n = strlen(coll);

	k[0] = 'C';
	memcpy(k + 1, coll, n);
	return n + 1;
}

size_t store_key_onode_prefix(uint8_t *k, const char *coll)
{
	size_t n = strlen(coll);

	k[0] = 'O';
	memcpy(k + 1, coll, n);
	k[n + 1] = 0;
	return n + 2;
}

size_t store_key_onode_hash(uint8_t *k, const char *coll, uint64_t hash, const void *oid,
			    size_t oidlen)
{
	size_t n = store_key_onode_prefix(k, coll);

	store_put_be64(k + n, hash);
	if (oidlen)
		memcpy(k + n + 8, oid, oidlen);
	return n + 8 + oidlen;
}

size_t store_key_onode(uint8_t *k, const char *coll, const void *oid, size_t oidlen)
{
	return store_key_onode_hash(k, coll, store_name_hash(oid, oidlen), oid, oidlen);
}

int store_key_onode_parse(const uint8_t *k, size_t klen, size_t prefix_len, uint64_t *hash,
			  const uint8_t **name, size_t *namelen)
{
	if (klen < prefix_len + 8 || klen - prefix_len - 8 > STORE_NAME_MAX)
		return -EBADMSG;
	*hash = store_get_be64(k + prefix_len);
	*name = k + prefix_len + 8;
	*namelen = klen - prefix_len - 8;
	return 0;
}

size_t store_key_nid(uint8_t *k, char type, uint64_t nid)
{
	k[0] = (uint8_t)type;
	store_put_be64(k + 1, nid);
	return 9;
}

size_t store_key_chunk(uint8_t *k, uint64_t nid, uint64_t idx)
{
	store_key_nid(k, 'D', nid);
	store_put_be64(k + 9, idx);
	return 17;
}

size_t store_key_sub(uint8_t *k, char type, uint64_t nid, const void *sub, size_t sublen)
{
	store_key_nid(k, type, nid);
	if (sublen)
		memcpy(k + 9, sub, sublen);
	return 9 + sublen;
}

/* ---- data chunks ------------------------------------------------------------------------ */

uint64_t store_chunk_seed(uint64_t nid, uint64_t idx)
{
	return (nid * 0x9E3779B97F4A7C15ull) ^ idx;
}

void store_chunk_header(uint8_t *hdr, uint64_t nid, uint64_t idx, const void *data, size_t n)
{
	uint64_t h = cairn_xxh3_seed(data, n, store_chunk_seed(nid, idx));

	hdr[0] = CHUNK_V;
	for (int i = 0; i < 8; i++)
		hdr[1 + i] = (uint8_t)(h >> (8 * i));
}

int store_chunk_slot_parse(const void *val, size_t vlen, size_t chunk_size, uint64_t *slot,
			   uint32_t *len, uint64_t *csum)
{
	const uint8_t *v = val;

	if (vlen < 1 || v[0] != CHUNK_SLOT_V)
		return 0;
	if (vlen != STORE_SLOT_VAL)
		return -EBADMSG;
	*csum = *slot = 0;
	for (int i = 0; i < 8; i++) {
		*csum |= (uint64_t)v[1 + i] << (8 * i);
		*slot |= (uint64_t)v[9 + i] << (8 * i);
	}
	*len = (uint32_t)v[17] | (uint32_t)v[18] << 8 | (uint32_t)v[19] << 16 | (uint32_t)v[20] << 24;
	if (*len == 0 || *len > chunk_size || *slot >= (1ull << 48))
		return -EBADMSG;
	return 1;
}

void store_chunk_slot_build(uint8_t *out, uint64_t csum, uint64_t slot, uint32_t len)
{
	out[0] = CHUNK_SLOT_V;
	for (int i = 0; i < 8; i++) {
		out[1 + i] = (uint8_t)(csum >> (8 * i));
		out[9 + i] = (uint8_t)(slot >> (8 * i));
	}
	for (int i = 0; i < 4; i++)
		out[17 + i] = (uint8_t)(len >> (8 * i));
}

int store_run_parse(const void *val, size_t vlen, size_t chunk_size, struct store_run *r)
{
	const uint8_t *v = val;

	if (vlen < 1 || v[0] != CHUNK_RUN_V)
		return 0;
	if (vlen < STORE_RUN_HDR)
		return -EBADMSG;
	r->slot0 = 0;
	for (int i = 0; i < 8; i++)
		r->slot0 |= (uint64_t)v[1 + i] << (8 * i);
	r->count = (uint32_t)v[9] | (uint32_t)v[10] << 8 | (uint32_t)v[11] << 16 |
		   (uint32_t)v[12] << 24;
	r->lastlen = (uint32_t)v[13] | (uint32_t)v[14] << 8 | (uint32_t)v[15] << 16 |
		     (uint32_t)v[16] << 24;
	r->csum = v + STORE_RUN_HDR;
	if (r->count == 0 || r->count > STORE_RUN_MAX || vlen != STORE_RUN_HDR + 8ull * r->count ||
	    r->lastlen == 0 || r->lastlen > chunk_size || r->slot0 + r->count > (1ull << 48))
		return -EBADMSG;
	return 1;
}

uint64_t store_run_csum(const struct store_run *r, uint32_t i)
{
	uint64_t h = 0;

	for (int b = 0; b < 8; b++)
		h |= (uint64_t)r->csum[8 * i + b] << (8 * b);
	return h;
}

size_t store_run_build(uint8_t *out, uint64_t slot0, uint32_t count, uint32_t lastlen,
		       const uint8_t *csum_le)
{
	out[0] = CHUNK_RUN_V;
	for (int i = 0; i < 8; i++)
		out[1 + i] = (uint8_t)(slot0 >> (8 * i));
	for (int i = 0; i < 4; i++) {
		out[9 + i] = (uint8_t)(count >> (8 * i));
		out[13 + i] = (uint8_t)(lastlen >> (8 * i));
	}
	if (csum_le)
		memmove(out + STORE_RUN_HDR, csum_le, 8ull * count);
	return STORE_RUN_HDR + 8ull * count;
}

void store_run_set_csum(uint8_t *out, uint32_t i, uint64_t h)
{
	for (int b = 0; b < 8; b++)
		out[STORE_RUN_HDR + 8 * i + b] = (uint8_t)(h >> (8 * b));
}

int store_run_load(struct store *s, const struct store_run *r, uint64_t nid, uint64_t start,
		   uint64_t idx, uint8_t *buf, size_t *n)
{
	uint32_t i = (uint32_t)(idx - start);
	size_t len = i + 1 == r->count ? r->lastlen : s->chunk_size;

	if (idx < start || idx - start >= r->count)
		return -EBADMSG;
	if (pread(s->datafd, buf, len, (off_t)((r->slot0 + i) * s->chunk_size)) != (ssize_t)len)
		return -EIO;
	*n = len;
	return cairn_xxh3_seed(buf, len, store_chunk_seed(nid, idx)) == store_run_csum(r, i) ? 0
											: -EIO;
}

int store_chunk_load(struct store *s, const void *val, size_t vlen, uint64_t nid, uint64_t idx,
		     uint8_t *buf, size_t *n)
{
	const uint8_t *data;
	uint64_t slot, csum;
	uint32_t len;
	int rc = store_chunk_slot_parse(val, vlen, s->chunk_size, &slot, &len, &csum);

	if (rc < 0)
		return rc;
	if (rc == 0) {
		rc = store_chunk_check(val, vlen, nid, idx, s->chunk_size, &data, n);
		if (rc == 0)
			memcpy(buf, data, *n);
		return rc;
	}
	if (pread(s->datafd, buf, len, (off_t)(slot * s->chunk_size)) != (ssize_t)len)
		return -EIO;
	*n = len;
	return cairn_xxh3_seed(buf, len, store_chunk_seed(nid, idx)) == csum ? 0 : -EIO;
}

int store_chunk_check(const void *val, size_t vlen, uint64_t nid, uint64_t idx, size_t chunk_size,
		      const uint8_t **data, size_t *n)
{
	const uint8_t *v = val;
	uint64_t h = 0;

	if (vlen < STORE_CHUNK_HDR || vlen - STORE_CHUNK_HDR > chunk_size || v[0] != CHUNK_V)
		return -EBADMSG;
	for (int i = 0; i < 8; i++)
		h |= (uint64_t)v[1 + i] << (8 * i);
	*data = v + STORE_CHUNK_HDR;
	*n = vlen - STORE_CHUNK_HDR;
	if (cairn_xxh3_seed(*data, *n, store_chunk_seed(nid, idx)) != h)
		return -EIO;
	return 0;
}

/* ---- listing cursors ---------------------------------------------------------------------- */

void store_cursor_begin(struct store_cursor *c)
{
	c->hash = 0;
	c->name_len = 0;
	c->at_end = 0;
}

void store_cursor_at_hash(struct store_cursor *c, uint64_t hash)
{
	store_cursor_begin(c);
	c->hash = hash;
}

void store_cursor_end(struct store_cursor *c)
{
	store_cursor_begin(c);
	c->hash = UINT64_MAX;
	c->at_end = 1;
}

void store_cursor_at(struct store_cursor *c, const void *oid, size_t oidlen)
{
	if (oidlen > STORE_NAME_MAX)
		oidlen = STORE_NAME_MAX;
	c->hash = store_name_hash(oid, oidlen);
	c->name_len = (uint32_t)oidlen;
	c->at_end = 0;
	if (oidlen)
		memcpy(c->name, oid, oidlen);
}

int store_cursor_cmp(const struct store_cursor *a, const struct store_cursor *b)
{
	size_t m;
	int c;

	if (a->at_end || b->at_end)
		return (int)a->at_end - (int)b->at_end;
	if (a->hash != b->hash)
		return a->hash < b->hash ? -1 : 1;
	m = a->name_len < b->name_len ? a->name_len : b->name_len;
	c = memcmp(a->name, b->name, m);
	if (c)
		return c < 0 ? -1 : 1;
	return a->name_len < b->name_len ? -1 : a->name_len > b->name_len;
}

void store_cursor_encode(const struct store_cursor *c, struct cbuf *out)
{
	size_t st = enc_start(out, 1, 1);

	enc_u8(out, c->at_end);
	enc_u64(out, c->hash);
	enc_bytes(out, c->name, c->name_len);
	enc_finish(out, st);
}

int store_cursor_decode(struct store_cursor *c, struct cdec *d)
{
	struct cdec body;
	const uint8_t *name;
	uint32_t nl;
	uint8_t v, end;

	if (dec_start(d, 1, &body, &v))
		return d->err;
	dec_u8(&body, &end);
	dec_u64(&body, &c->hash);
	dec_bytes(&body, &name, &nl);
	if (!body.err && (end > 1 || nl > STORE_NAME_MAX))
		dec_fail(&body, -EBADMSG);
	if (dec_finish(d, &body))
		return d->err;
	c->at_end = end;
	c->name_len = nl;
	if (nl)
		memcpy(c->name, name, nl);
	return 0;
}
