/* pg_log — see pg_log.h. */
#include "osd/pg_log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "osd/store.h"

#define INFO_VERSION 1
#define ENTRY_VERSION 1
#define INFO_KEY "info"

void pg_info_encode(struct cbuf *b, const struct pg_info *i)
{
	size_t env = enc_start(b, INFO_VERSION, 1);

	osd_pgid_encode(b, i->pgid);
	osd_eversion_encode(b, i->last_update);
	osd_eversion_encode(b, i->log_tail);
	enc_u32(b, i->epoch_created);
	enc_u32(b, i->same_interval_since);
	enc_u64(b, i->num_objects);
	enc_u64(b, i->num_bytes);
	enc_finish(b, env);
}

int pg_info_decode(struct cdec *d, struct pg_info *i)
{
	struct cdec body;

	if (dec_start(d, 1, &body, NULL))
		return d->err;
	osd_pgid_decode(&body, &i->pgid);
	osd_eversion_decode(&body, &i->last_update);
	osd_eversion_decode(&body, &i->log_tail);
	dec_u32(&body, &i->epoch_created);
	dec_u32(&body, &i->same_interval_since);
	dec_u64(&body, &i->num_objects);
	dec_u64(&body, &i->num_bytes);
	return dec_finish(d, &body);
}

void pg_log_entry_encode(struct cbuf *b, const struct pg_log_entry *e)
{
	size_t env = enc_start(b, ENTRY_VERSION, 1);

	osd_eversion_encode(b, e->version);
	osd_reqid_encode(b, &e->reqid);
	enc_u8(b, e->op);
	enc_u64(b, e->mtime_ns);
	enc_str(b, e->oid);
	enc_finish(b, env);
}

int pg_log_entry_decode(struct cdec *d, struct pg_log_entry *e)
{
	struct cdec body;

	e->oid = NULL;
	if (dec_start(d, 1, &body, NULL))
		return d->err;
	osd_eversion_decode(&body, &e->version);
	osd_reqid_decode(&body, &e->reqid);
	dec_u8(&body, &e->op);
	dec_u64(&body, &e->mtime_ns);
	if (!body.err && e->op != PG_LOG_MODIFY && e->op != PG_LOG_DELETE)
		dec_fail(&body, -EBADMSG);
	dec_strdup(&body, &e->oid, OSD_OID_MAX);
	if (body.err) {
		free(e->oid);
		e->oid = NULL;
	}
	return dec_finish(d, &body);
}

void pg_log_entry_clear(struct pg_log_entry *e)
{
	free(e->oid);
	e->oid = NULL;
}

void pg_log_meta_oid(const struct pg_id *pg, char *buf, size_t len)
{
	snprintf(buf, len, "pglog.%" PRId64 ".%x", pg->pool, pg->ps);
}

size_t pg_log_entry_key(struct osd_eversion v, char *buf, size_t len)
{
	int n = snprintf(buf, len, "e.%010" PRIu32 ".%020" PRIu64, v.epoch, v.v);

	return n < 0 ? 0 : (size_t)n;
}

static uint32_t reqid_hash(const struct osd_reqid *r, uint32_t nb)
{
	uint64_t h = (uint64_t)r->num * 0x9E3779B97F4A7C15ull ^ r->tid * 0xC2B2AE3D27D4EB4Full ^
		     r->type;

	h ^= h >> 29;
	return (uint32_t)(h % nb);
}

static void index_rebuild(struct pg_log *l)
{
	for (uint32_t b = 0; b < l->nbuckets; b++)
		l->buckets[b] = -1;
	for (uint32_t i = 0; i < l->count; i++) {
		uint32_t pos = (l->head + i) % l->cap;
		uint32_t b = reqid_hash(&l->ring[pos].reqid, l->nbuckets);

		l->idx_next[pos] = l->buckets[b];
		l->buckets[b] = (int32_t)pos;
	}
}

int pg_log_init(struct pg_log *l, uint32_t max_entries)
{
	memset(l, 0, sizeof(*l));
	if (max_entries < 1)
		max_entries = 1;
	l->max_entries = max_entries;
	l->cap = max_entries + PG_LOG_TRIM_CHUNK;
	l->nbuckets = l->cap;
	l->ring = calloc(l->cap, sizeof(*l->ring));
	l->idx_next = calloc(l->cap, sizeof(*l->idx_next));
	l->buckets = calloc(l->nbuckets, sizeof(*l->buckets));
	if (!l->ring || !l->idx_next || !l->buckets)
		goto e_nomem;
	index_rebuild(l);
	return 0;
e_nomem:
	pg_log_destroy(l);
	return -ENOMEM;
}

void pg_log_destroy(struct pg_log *l)
{
	if (l->ring)
		for (uint32_t i = 0; i < l->count; i++)
			pg_log_entry_clear(&l->ring[(l->head + i) % l->cap]);
	free(l->ring);
	free(l->idx_next);
	free(l->buckets);
	memset(l, 0, sizeof(*l));
}

/* Drops the n oldest entries from memory. */
static void drop_oldest(struct pg_log *l, uint32_t n)
{
	if (n > l->count)
		n = l->count;
	for (uint32_t i = 0; i < n; i++) {
		pg_log_entry_clear(&l->ring[l->head]);
		l->head = (l->head + 1) % l->cap;
	}
	l->count -= n;
	index_rebuild(l);
}

int pg_log_append(struct pg_log *l, struct pg_log_entry *e)
{
	uint32_t pos, b;

	if (l->count == l->cap)
		drop_oldest(l, PG_LOG_TRIM_CHUNK < l->cap ? PG_LOG_TRIM_CHUNK : 1);
	pos = (l->head + l->count) % l->cap;
	l->ring[pos] = *e;
	e->oid = NULL;
	l->count++;
	b = reqid_hash(&l->ring[pos].reqid, l->nbuckets);
	l->idx_next[pos] = l->buckets[b];
	l->buckets[b] = (int32_t)pos;
	return 0;
}

const struct pg_log_entry *pg_log_find_reqid(const struct pg_log *l, const struct osd_reqid *r)
{
	int32_t pos;

	if (!l->count)
		return NULL;
	for (pos = l->buckets[reqid_hash(r, l->nbuckets)]; pos >= 0; pos = l->idx_next[pos])
		if (osd_reqid_eq(&l->ring[pos].reqid, r))
			return &l->ring[pos];
	return NULL;
}

int pg_log_txn_info(struct store_txn *t, const char *meta_oid, const struct pg_info *info)
{
	struct store_kv kv;
	struct cbuf b;
	int r;

	cbuf_init(&b);
	pg_info_encode(&b, info);
	if (b.err) {
		r = b.err;
		goto out;
	}
	kv = (struct store_kv){ INFO_KEY, strlen(INFO_KEY), b.data, b.len };
	r = store_txn_omap_setkeys(t, PG_META_COLL, meta_oid, strlen(meta_oid), &kv, 1);
out:
	cbuf_free(&b);
	return r;
}

int pg_log_txn_add(struct pg_log *l, struct store_txn *t, const char *meta_oid,
		   const struct pg_log_entry *e, struct pg_info *info)
{
	char key[PG_LOG_KEY_MAX], first[PG_LOG_KEY_MAX], last[PG_LOG_KEY_MAX];
	struct store_kv kv[2];
	struct cbuf eb, ib;
	size_t klen, fl, ll;
	int r;

	cbuf_init(&eb);
	cbuf_init(&ib);
	if (l->count == l->cap) {
		uint32_t n = PG_LOG_TRIM_CHUNK < l->cap ? PG_LOG_TRIM_CHUNK : 1;
		const struct pg_log_entry *newtail = pg_log_at(l, n - 1);

		fl = pg_log_entry_key(pg_log_at(l, 0)->version, first, sizeof(first));
		if (n < l->count)
			ll = pg_log_entry_key(pg_log_at(l, n)->version, last, sizeof(last));
		else
			ll = pg_log_entry_key(e->version, last, sizeof(last));
		r = store_txn_omap_rmrange(t, PG_META_COLL, meta_oid, strlen(meta_oid), first, fl,
					   last, ll);
		if (r)
			goto out;
		info->log_tail = newtail->version;
	}
	pg_log_entry_encode(&eb, e);
	pg_info_encode(&ib, info);
	if (eb.err || ib.err) {
		r = eb.err ? eb.err : ib.err;
		goto out;
	}
	klen = pg_log_entry_key(e->version, key, sizeof(key));
	kv[0] = (struct store_kv){ key, klen, eb.data, eb.len };
	kv[1] = (struct store_kv){ INFO_KEY, strlen(INFO_KEY), ib.data, ib.len };
	r = store_txn_omap_setkeys(t, PG_META_COLL, meta_oid, strlen(meta_oid), kv, 2);
out:
	cbuf_free(&eb);
	cbuf_free(&ib);
	return r;
}

struct load_ctx {
	struct pg_log *l;
	struct pg_info *info;
	int have_info;
	int err;
};

static int load_cb(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct load_ctx *c = arg;
	struct pg_log_entry e;
	struct cdec d;

	cdec_init(&d, val, vlen);
	if (klen == strlen(INFO_KEY) && !memcmp(key, INFO_KEY, klen)) {
		if (pg_info_decode(&d, c->info))
			return c->err = -EBADMSG;
		c->have_info = 1;
		return 0;
	}
	if (pg_log_entry_decode(&d, &e))
		return c->err = -EBADMSG;
	pg_log_append(c->l, &e);
	return 0;
}

int pg_log_load(struct pg_log *l, struct store *s, const char *meta_oid, struct pg_info *info)
{
	struct load_ctx c = { l, info, 0, 0 };
	int r;

	/* "e." keys sort before "info": entries arrive oldest first */
	r = store_omap_iterate(s, PG_META_COLL, meta_oid, strlen(meta_oid), NULL, 0, NULL, 0, 0,
			       load_cb, &c);
	if (r < 0 && !c.err)
		return r;
	if (c.err)
		return c.err;
	if (!c.have_info)
		return -ENOENT;
	l->persisted_tail = info->log_tail;
	return 0;
}
