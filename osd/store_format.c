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

#include "common/checksum.h"
#include "osd/store_int.h"

#define SUPER_V 1
#define TOTALS_V 1
#define ONODE_V 1
#define CHUNK_V 1

uint64_t store_name_hash(const void *name, size_t len)
{
	return cairn_xxh3(name, len);
}

void store_super_encode(const struct store_super *sb, struct cbuf *b)
{
	size_t st = enc_start(b, SUPER_V, 1);

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
	if (body.err)
		return body.err;
	if (dec_finish(&d, &body))
		return d.err;
	if (o->nid == 0 || o->size > STORE_OBJECT_SIZE_CAP)
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
