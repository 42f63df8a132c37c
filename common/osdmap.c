/*
 * osdmap — the OSD map: structure, encodings, incrementals and placement; see osdmap.h.
 *
 * Encoding (full map, envelope v1, compat 1; docs/maps.md):
 *   fsid[16] epoch u32 created u64 modified u64 flags u32 pool_max i64
 *   max_osd i32, then max_osd x osd envelope {state reweight up_from down_at up_thru u32,
 *       down_stamp u64, uuid[16], addr str}
 *   num_pools u32, then pool envelopes {id i64 name str type size min_size hash u8,
 *       pg_num pgp_num u32, crush_rule i32, flags last_change u32, ec_k ec_m u8, stripe_unit u32}
 *   num_pg_temp u32 {pool i64 ps u32 n u8 osds i32[n]}, num_primary_temp u32 {pool ps osd}
 *   crush map (crush_encode's own envelope), mds_map bytes
 * Decoding validates every field that placement relies on (sizes, pg counts, sort order),
 * so a decoded map can be mapped against without further checks.
 */
#include "common/osdmap.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "common/encode.h"
#include "crush/crush.h"

#define OSDMAP_V 1
#define OSDMAP_INC_V 1
#define OSD_INFO_V 1
#define POOL_V 1
#define POOL_MAX_PG_NUM (1u << 24)
#define STACK_WORK 16384

/* ---- pg ids ---- */

const char *pg_id_str(const struct pg_id *pg, char *buf, size_t len)
{
	snprintf(buf, len, "%" PRId64 ".%" PRIx32, pg->pool, pg->ps);
	return buf;
}

int pg_id_parse(const char *s, struct pg_id *out)
{
	char *end;
	long long pool;
	unsigned long ps;
	const char *dot = strchr(s, '.');

	if (!dot || dot == s || !dot[1] || s[0] == '-' || s[0] == '+' || dot[1] == '-' ||
	    dot[1] == '+')
		return -EINVAL;
	errno = 0;
	pool = strtoll(s, &end, 10);
	if (errno || end != dot || pool < 0)
		return -EINVAL;
	ps = strtoul(dot + 1, &end, 16);
	if (errno || *end || ps > UINT32_MAX)
		return -EINVAL;
	out->pool = pool;
	out->ps = (uint32_t)ps;
	return 0;
}

/* ---- flags ---- */

static const char *const flag_names[] = {"noout", "noin", "noup", "nodown", "pause"};

const char *osdmap_flag_name(uint32_t bit)
{
	for (unsigned i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++)
		if (bit == (1u << i))
			return flag_names[i];
	return NULL;
}

int osdmap_flag_parse(const char *name, uint32_t *bit)
{
	for (unsigned i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++)
		if (!strcmp(name, flag_names[i])) {
			*bit = 1u << i;
			return 0;
		}
	return -EINVAL;
}

const char *osdmap_flags_str(uint32_t flags, char *buf, size_t len)
{
	size_t n = 0;

	if (len)
		buf[0] = '\0';
	for (unsigned i = 0; i < 32; i++) {
		const char *nm;
		if (!(flags & (1u << i)))
			continue;
		nm = osdmap_flag_name(1u << i);
		if (!nm)
			continue;
		if (n < len)
			n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? "," : "", nm);
	}
	return buf;
}

/* ---- lifecycle ---- */

static uint32_t calc_mask(uint32_t n)
{
	uint32_t m = 0;

	if (n <= 1)
		return 0;
	n -= 1;
	while (n) {
		m = (m << 1) | 1;
		n >>= 1;
	}
	return m;
}

struct osdmap *osdmap_new(const uint8_t fsid[16], struct crush_map *crush)
{
	struct osdmap *m = calloc(1, sizeof(*m));

	if (!m)
		goto fail;
	if (!crush)
		crush = crush_create();
	if (!crush)
		goto fail;
	m->refs = 1;
	if (fsid)
		memcpy(m->fsid, fsid, 16);
	m->crush = crush;
	if (osdmap_finalize(m))
		goto fail_map;
	return m;
fail_map:
	osdmap_put(m);
	return NULL;
fail:
	free(m);
	return NULL;
}

int osdmap_finalize(struct osdmap *m)
{
	uint32_t *w = NULL;

	if (m->max_osd) {
		w = calloc((size_t)m->max_osd, sizeof(*w));
		if (!w)
			return -ENOMEM;
	}
	for (int32_t i = 0; i < m->max_osd; i++) {
		struct osd_info *o = &m->osds[i];
		uint32_t cw = 0;

		o->id = i;
		if (osd_info_exists(o))
			w[i] = o->reweight;
		if (m->crush && crush_get_item_weight(m->crush, i, &cw) < 0)
			cw = 0;
		o->crush_weight = cw;
	}
	free(m->crush_weights);
	m->crush_weights = w;
	for (uint32_t i = 0; i < m->num_pools; i++) {
		m->pools[i].pg_num_mask = calc_mask(m->pools[i].pg_num);
		m->pools[i].pgp_num_mask = calc_mask(m->pools[i].pgp_num);
	}
	m->crush_work_size = m->crush ? crush_work_size(m->crush, CAIRN_MAX_REPLICAS) : 0;
	return 0;
}

static void *dup_mem(const void *p, size_t n)
{
	void *q;

	if (!n)
		return NULL;
	q = malloc(n);
	if (q)
		memcpy(q, p, n);
	return q;
}

struct osdmap *osdmap_copy(const struct osdmap *s)
{
	struct osdmap *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	*m = *s;
	m->refs = 1;
	m->osds = NULL;
	m->pools = NULL;
	m->pg_temp = NULL;
	m->primary_temp = NULL;
	m->mds_map = NULL;
	m->crush_weights = NULL;
	m->crush = NULL;
	if (s->max_osd && !(m->osds = dup_mem(s->osds, (size_t)s->max_osd * sizeof(*s->osds))))
		goto fail;
	if (s->num_pools && !(m->pools = dup_mem(s->pools, s->num_pools * sizeof(*s->pools))))
		goto fail;
	if (s->num_pg_temp &&
	    !(m->pg_temp = dup_mem(s->pg_temp, s->num_pg_temp * sizeof(*s->pg_temp))))
		goto fail;
	if (s->num_primary_temp &&
	    !(m->primary_temp =
		      dup_mem(s->primary_temp, s->num_primary_temp * sizeof(*s->primary_temp))))
		goto fail;
	if (s->mds_map_len && !(m->mds_map = dup_mem(s->mds_map, s->mds_map_len)))
		goto fail;
	if (!(m->crush = crush_clone(s->crush)))
		goto fail;
	if (osdmap_finalize(m))
		goto fail;
	return m;
fail:
	osdmap_put(m);
	return NULL;
}

struct osdmap *osdmap_get(struct osdmap *m)
{
	if (m)
		__atomic_add_fetch(&m->refs, 1, __ATOMIC_RELAXED);
	return m;
}

void osdmap_put(struct osdmap *m)
{
	if (!m || __atomic_sub_fetch(&m->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	free(m->osds);
	free(m->pools);
	free(m->pg_temp);
	free(m->primary_temp);
	free(m->mds_map);
	free(m->crush_weights);
	if (m->crush)
		crush_destroy(m->crush);
	free(m);
}

/* ---- element encodings ---- */

static void osd_info_encode(const struct osd_info *o, struct cbuf *b)
{
	size_t st = enc_start(b, OSD_INFO_V, 1);

	enc_u32(b, o->state);
	enc_u32(b, o->reweight);
	enc_u32(b, o->up_from);
	enc_u32(b, o->down_at);
	enc_u32(b, o->up_thru);
	enc_u64(b, o->down_stamp);
	enc_raw(b, o->uuid, 16);
	enc_str(b, o->addr);
	enc_finish(b, st);
}

static int osd_info_decode(struct cdec *d, struct osd_info *o)
{
	struct cdec body;
	uint8_t v;

	memset(o, 0, sizeof(*o));
	if (dec_start(d, OSD_INFO_V, &body, &v))
		return d->err;
	dec_u32(&body, &o->state);
	dec_u32(&body, &o->reweight);
	dec_u32(&body, &o->up_from);
	dec_u32(&body, &o->down_at);
	dec_u32(&body, &o->up_thru);
	dec_u64(&body, &o->down_stamp);
	dec_raw(&body, o->uuid, 16);
	dec_str(&body, o->addr, sizeof(o->addr));
	if (!body.err && ((o->state & ~(uint32_t)(OSD_STATE_EXISTS | OSD_STATE_UP | OSD_STATE_AUTOOUT)) ||
			  o->reweight > OSD_WEIGHT_IN))
		dec_fail(&body, -EBADMSG);
	return dec_finish(d, &body);
}

static void pool_encode(const struct pool_info *p, struct cbuf *b)
{
	size_t st = enc_start(b, POOL_V, 1);

	enc_i64(b, p->id);
	enc_str(b, p->name);
	enc_u8(b, p->type);
	enc_u8(b, p->size);
	enc_u8(b, p->min_size);
	enc_u8(b, p->object_hash);
	enc_u32(b, p->pg_num);
	enc_u32(b, p->pgp_num);
	enc_i32(b, p->crush_rule);
	enc_u32(b, p->flags);
	enc_u32(b, p->last_change);
	enc_u8(b, p->ec_k);
	enc_u8(b, p->ec_m);
	enc_u32(b, p->stripe_unit);
	enc_finish(b, st);
}

static bool pool_valid(const struct pool_info *p)
{
	return p->id >= 0 && p->name[0] &&
	       (p->type == POOL_TYPE_REPLICATED || p->type == POOL_TYPE_ERASURE) && p->size >= 1 &&
	       p->size <= CAIRN_MAX_REPLICAS && p->min_size >= 1 && p->min_size <= p->size &&
	       (p->object_hash == POOL_HASH_RJENKINS || p->object_hash == POOL_HASH_XXH3) &&
	       p->pg_num >= 1 && p->pg_num <= POOL_MAX_PG_NUM && p->pgp_num >= 1 &&
	       p->pgp_num <= p->pg_num && p->crush_rule >= 0;
}

static int pool_decode(struct cdec *d, struct pool_info *p)
{
	struct cdec body;
	uint8_t v;

	memset(p, 0, sizeof(*p));
	if (dec_start(d, POOL_V, &body, &v))
		return d->err;
	dec_i64(&body, &p->id);
	dec_str(&body, p->name, sizeof(p->name));
	dec_u8(&body, &p->type);
	dec_u8(&body, &p->size);
	dec_u8(&body, &p->min_size);
	dec_u8(&body, &p->object_hash);
	dec_u32(&body, &p->pg_num);
	dec_u32(&body, &p->pgp_num);
	dec_i32(&body, &p->crush_rule);
	dec_u32(&body, &p->flags);
	dec_u32(&body, &p->last_change);
	dec_u8(&body, &p->ec_k);
	dec_u8(&body, &p->ec_m);
	dec_u32(&body, &p->stripe_unit);
	if (!body.err && !pool_valid(p))
		dec_fail(&body, -EBADMSG);
	p->pg_num_mask = calc_mask(p->pg_num);
	p->pgp_num_mask = calc_mask(p->pgp_num);
	return dec_finish(d, &body);
}

static void pg_temp_encode(const struct pg_temp *t, struct cbuf *b)
{
	enc_i64(b, t->pg.pool);
	enc_u32(b, t->pg.ps);
	enc_u8(b, t->n);
	for (int i = 0; i < t->n && i < CAIRN_MAX_REPLICAS; i++)
		enc_i32(b, t->osds[i]);
}

static int pg_temp_decode(struct cdec *d, struct pg_temp *t)
{
	memset(t, 0, sizeof(*t));
	dec_i64(d, &t->pg.pool);
	dec_u32(d, &t->pg.ps);
	dec_u8(d, &t->n);
	if (!d->err && t->n > CAIRN_MAX_REPLICAS)
		return dec_fail(d, -EBADMSG);
	for (int i = 0; i < t->n; i++)
		dec_i32(d, &t->osds[i]);
	return d->err;
}

static void primary_temp_encode(const struct primary_temp *t, struct cbuf *b)
{
	enc_i64(b, t->pg.pool);
	enc_u32(b, t->pg.ps);
	enc_i32(b, t->osd);
}

static int primary_temp_decode(struct cdec *d, struct primary_temp *t)
{
	dec_i64(d, &t->pg.pool);
	dec_u32(d, &t->pg.ps);
	dec_i32(d, &t->osd);
	return d->err;
}

/* ---- full map encoding ---- */

int osdmap_encode(const struct osdmap *m, struct cbuf *b)
{
	size_t st = enc_start(b, OSDMAP_V, 1);

	enc_raw(b, m->fsid, 16);
	enc_u32(b, m->epoch);
	enc_u64(b, m->created);
	enc_u64(b, m->modified);
	enc_u32(b, m->flags);
	enc_i64(b, m->pool_max);
	enc_i32(b, m->max_osd);
	for (int32_t i = 0; i < m->max_osd; i++)
		osd_info_encode(&m->osds[i], b);
	enc_u32(b, m->num_pools);
	for (uint32_t i = 0; i < m->num_pools; i++)
		pool_encode(&m->pools[i], b);
	enc_u32(b, m->num_pg_temp);
	for (uint32_t i = 0; i < m->num_pg_temp; i++)
		pg_temp_encode(&m->pg_temp[i], b);
	enc_u32(b, m->num_primary_temp);
	for (uint32_t i = 0; i < m->num_primary_temp; i++)
		primary_temp_encode(&m->primary_temp[i], b);
	crush_encode(m->crush, b);
	enc_bytes(b, m->mds_map, m->mds_map_len);
	enc_finish(b, st);
	return b->err;
}

static void *calloc_n(struct cdec *d, uint32_t n, size_t sz)
{
	void *p;

	if (d->err || !n)
		return NULL;
	p = calloc(n, sz);
	if (!p)
		dec_fail(d, -ENOMEM);
	return p;
}

int osdmap_decode(struct osdmap **out, const void *p, size_t n)
{
	struct cdec d, body;
	struct osdmap *m;
	const uint8_t *mds;
	uint32_t mds_len = 0;
	uint8_t v;
	int err;

	*out = NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->refs = 1;
	cdec_init(&d, p, n);
	if (dec_start(&d, OSDMAP_V, &body, &v))
		goto fail;
	dec_raw(&body, m->fsid, 16);
	dec_u32(&body, &m->epoch);
	dec_u64(&body, &m->created);
	dec_u64(&body, &m->modified);
	dec_u32(&body, &m->flags);
	dec_i64(&body, &m->pool_max);
	dec_i32(&body, &m->max_osd);
	if (!body.err && (m->max_osd < 0 || m->max_osd > OSDMAP_MAX_OSD ||
			  dec_need(&body, (uint64_t)m->max_osd, 6)))
		dec_fail(&body, -EBADMSG);
	m->osds = calloc_n(&body, (uint32_t)m->max_osd, sizeof(*m->osds));
	for (int32_t i = 0; i < m->max_osd && !body.err; i++)
		osd_info_decode(&body, &m->osds[i]);

	dec_u32(&body, &m->num_pools);
	if (!body.err && dec_need(&body, m->num_pools, 6))
		dec_fail(&body, -EBADMSG);
	m->pools = calloc_n(&body, m->num_pools, sizeof(*m->pools));
	for (uint32_t i = 0; i < m->num_pools && !body.err; i++) {
		pool_decode(&body, &m->pools[i]);
		if (!body.err && (m->pools[i].id > m->pool_max ||
				  (i && m->pools[i].id <= m->pools[i - 1].id)))
			dec_fail(&body, -EBADMSG);
		for (uint32_t j = 0; j < i && !body.err; j++)
			if (!strcmp(m->pools[j].name, m->pools[i].name))
				dec_fail(&body, -EBADMSG);
	}
	dec_u32(&body, &m->num_pg_temp);
	if (!body.err && dec_need(&body, m->num_pg_temp, 13))
		dec_fail(&body, -EBADMSG);
	m->pg_temp = calloc_n(&body, m->num_pg_temp, sizeof(*m->pg_temp));
	for (uint32_t i = 0; i < m->num_pg_temp && !body.err; i++) {
		pg_temp_decode(&body, &m->pg_temp[i]);
		if (!body.err && (m->pg_temp[i].n == 0 ||
				  (i && pg_id_cmp(&m->pg_temp[i - 1].pg, &m->pg_temp[i].pg) >= 0)))
			dec_fail(&body, -EBADMSG);
	}
	dec_u32(&body, &m->num_primary_temp);
	if (!body.err && dec_need(&body, m->num_primary_temp, 16))
		dec_fail(&body, -EBADMSG);
	m->primary_temp = calloc_n(&body, m->num_primary_temp, sizeof(*m->primary_temp));
	for (uint32_t i = 0; i < m->num_primary_temp && !body.err; i++) {
		primary_temp_decode(&body, &m->primary_temp[i]);
		if (!body.err &&
		    (m->primary_temp[i].osd < 0 ||
		     (i && pg_id_cmp(&m->primary_temp[i - 1].pg, &m->primary_temp[i].pg) >= 0)))
			dec_fail(&body, -EBADMSG);
	}
	if (!body.err && crush_decode(&body, &m->crush) && !body.err)
		dec_fail(&body, -EBADMSG);
	dec_bytes(&body, &mds, &mds_len);
	if (!body.err && mds_len) {
		m->mds_map = dup_mem(mds, mds_len);
		if (!m->mds_map)
			dec_fail(&body, -ENOMEM);
		m->mds_map_len = mds_len;
	}
	if (dec_finish(&d, &body))
		goto fail;
	err = osdmap_finalize(m);
	if (err)
		goto fail_err;
	*out = m;
	return 0;
fail:
	err = d.err ? d.err : -EBADMSG;
fail_err:
	osdmap_put(m);
	return err;
}

/* ---- lookups ---- */

static int pool_index(const struct osdmap *m, int64_t id)
{
	uint32_t lo = 0, hi = m->num_pools;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		if (m->pools[mid].id == id)
			return (int)mid;
		if (m->pools[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -(int)lo - 1;
}

const struct pool_info *osdmap_pool(const struct osdmap *m, int64_t id)
{
	int i = pool_index(m, id);

	return i >= 0 ? &m->pools[i] : NULL;
}

const struct pool_info *osdmap_lookup_pool_by_name(const struct osdmap *m, const char *name)
{
	for (uint32_t i = 0; i < m->num_pools; i++)
		if (!strcmp(m->pools[i].name, name))
			return &m->pools[i];
	return NULL;
}

const struct osd_info *osdmap_osd(const struct osdmap *m, int32_t id)
{
	if (id < 0 || id >= m->max_osd || !osd_info_exists(&m->osds[id]))
		return NULL;
	return &m->osds[id];
}

bool osdmap_is_up(const struct osdmap *m, int32_t id)
{
	const struct osd_info *o = osdmap_osd(m, id);

	return o && osd_info_up(o);
}

bool osdmap_is_in(const struct osdmap *m, int32_t id)
{
	const struct osd_info *o = osdmap_osd(m, id);

	return o && osd_info_in(o);
}

void osdmap_count_osds(const struct osdmap *m, int *num, int *num_up, int *num_in)
{
	int n = 0, u = 0, in = 0;

	for (int32_t i = 0; i < m->max_osd; i++) {
		const struct osd_info *o = &m->osds[i];
		if (!osd_info_exists(o))
			continue;
		n++;
		u += osd_info_up(o);
		in += osd_info_in(o);
	}
	if (num)
		*num = n;
	if (num_up)
		*num_up = u;
	if (num_in)
		*num_in = in;
}

/* ---- mutation ---- */

int osdmap_set_max_osd(struct osdmap *m, int32_t n)
{
	struct osd_info *o;

	if (n < m->max_osd || n > OSDMAP_MAX_OSD)
		return -EINVAL;
	if (n == m->max_osd)
		return 0;
	o = realloc(m->osds, (size_t)n * sizeof(*o));
	if (!o)
		return -ENOMEM;
	memset(o + m->max_osd, 0, (size_t)(n - m->max_osd) * sizeof(*o));
	for (int32_t i = m->max_osd; i < n; i++)
		o[i].id = i;
	m->osds = o;
	m->max_osd = n;
	return 0;
}

int osdmap_pool_set(struct osdmap *m, const struct pool_info *p)
{
	int i = pool_index(m, p->id);
	const struct pool_info *same = osdmap_lookup_pool_by_name(m, p->name);
	struct pool_info *np;

	if (!pool_valid(p))
		return -EINVAL;
	if (same && same->id != p->id)
		return -EEXIST;
	if (i >= 0) {
		m->pools[i] = *p;
		return 0;
	}
	i = -i - 1;
	np = realloc(m->pools, (m->num_pools + 1) * sizeof(*np));
	if (!np)
		return -ENOMEM;
	memmove(np + i + 1, np + i, (m->num_pools - (uint32_t)i) * sizeof(*np));
	np[i] = *p;
	m->pools = np;
	m->num_pools++;
	if (p->id > m->pool_max)
		m->pool_max = p->id;
	return 0;
}

int osdmap_pool_remove(struct osdmap *m, int64_t id)
{
	int i = pool_index(m, id);

	if (i < 0)
		return -ENOENT;
	memmove(m->pools + i, m->pools + i + 1, (m->num_pools - (uint32_t)i - 1) * sizeof(*m->pools));
	m->num_pools--;
	/* drop temps of the pool */
	for (uint32_t j = 0; j < m->num_pg_temp;) {
		if (m->pg_temp[j].pg.pool == id) {
			memmove(m->pg_temp + j, m->pg_temp + j + 1,
				(m->num_pg_temp - j - 1) * sizeof(*m->pg_temp));
			m->num_pg_temp--;
		} else {
			j++;
		}
	}
	for (uint32_t j = 0; j < m->num_primary_temp;) {
		if (m->primary_temp[j].pg.pool == id) {
			memmove(m->primary_temp + j, m->primary_temp + j + 1,
				(m->num_primary_temp - j - 1) * sizeof(*m->primary_temp));
			m->num_primary_temp--;
		} else {
			j++;
		}
	}
	return 0;
}

static int temp_find(const void *arr, uint32_t n, size_t sz, struct pg_id pg)
{
	uint32_t lo = 0, hi = n;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		const struct pg_id *x = (const struct pg_id *)((const char *)arr + mid * sz);
		int c = pg_id_cmp(x, &pg);
		if (!c)
			return (int)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -(int)lo - 1;
}

/* Inserts/replaces (elem != NULL) or removes (elem == NULL) an entry of a sorted array whose
 * elements start with a struct pg_id. */
static int temp_update(void **arr, uint32_t *n, size_t sz, struct pg_id pg, const void *elem)
{
	int i = temp_find(*arr, *n, sz, pg);
	char *a = *arr;

	if (!elem) {
		if (i < 0)
			return 0;
		memmove(a + (size_t)i * sz, a + (size_t)(i + 1) * sz, (*n - (uint32_t)i - 1) * sz);
		(*n)--;
		return 0;
	}
	if (i >= 0) {
		memcpy(a + (size_t)i * sz, elem, sz);
		return 0;
	}
	i = -i - 1;
	a = realloc(a, (*n + 1) * sz);
	if (!a)
		return -ENOMEM;
	memmove(a + (size_t)(i + 1) * sz, a + (size_t)i * sz, (*n - (uint32_t)i) * sz);
	memcpy(a + (size_t)i * sz, elem, sz);
	*arr = a;
	(*n)++;
	return 0;
}

int osdmap_set_pg_temp(struct osdmap *m, struct pg_id pg, const int32_t *osds, int n)
{
	struct pg_temp t;

	if (n < 0 || n > CAIRN_MAX_REPLICAS)
		return -EINVAL;
	memset(&t, 0, sizeof(t));
	t.pg = pg;
	t.n = (uint8_t)n;
	for (int i = 0; i < n; i++)
		t.osds[i] = osds[i];
	return temp_update((void **)&m->pg_temp, &m->num_pg_temp, sizeof(t), pg, n ? &t : NULL);
}

int osdmap_set_primary_temp(struct osdmap *m, struct pg_id pg, int32_t osd)
{
	struct primary_temp t;

	memset(&t, 0, sizeof(t));
	t.pg = pg;
	t.osd = osd;
	return temp_update((void **)&m->primary_temp, &m->num_primary_temp, sizeof(t), pg,
			   osd >= 0 ? &t : NULL);
}

void osdmap_set_crush(struct osdmap *m, struct crush_map *crush)
{
	if (m->crush && m->crush != crush)
		crush_destroy(m->crush);
	m->crush = crush;
}

int osdmap_set_mds_map(struct osdmap *m, const void *blob, uint32_t len)
{
	uint8_t *p = NULL;

	if (len && !(p = dup_mem(blob, len)))
		return -ENOMEM;
	free(m->mds_map);
	m->mds_map = p;
	m->mds_map_len = len;
	return 0;
}

/* ---- placement ---- */

uint32_t osdmap_object_hash(const struct pool_info *p, const char *name, size_t len)
{
	if (p->object_hash == POOL_HASH_RJENKINS)
		return crush_str_hash_rjenkins(name, len);
	return (uint32_t)XXH3_64bits(name, len);
}

int osdmap_object_to_pg(const struct osdmap *m, int64_t pool, const char *name, size_t len,
			struct pg_id *out)
{
	const struct pool_info *p = osdmap_pool(m, pool);
	uint32_t h;

	if (!p)
		return -ENOENT;
	h = osdmap_object_hash(p, name, len);
	out->pool = pool;
	out->ps = (uint32_t)crush_stable_mod((int)h, (int)p->pg_num, (int)p->pg_num_mask);
	return 0;
}

uint32_t osdmap_pg_to_pps(const struct pool_info *p, struct pg_id pg)
{
	return crush_hash32_2(CRUSH_HASH_RJENKINS1,
			      (uint32_t)crush_stable_mod((int)pg.ps, (int)p->pgp_num,
							 (int)p->pgp_num_mask),
			      (uint32_t)pg.pool);
}

bool osdmap_pg_exists(const struct osdmap *m, struct pg_id pg)
{
	const struct pool_info *p = osdmap_pool(m, pg.pool);

	return p && pg.ps < p->pg_num;
}

static int pg_to_raw(const struct osdmap *m, const struct pool_info *p, struct pg_id pg,
		     int32_t *raw, int *n)
{
	_Alignas(16) uint8_t stack[STACK_WORK];
	void *work = stack;
	int res[CAIRN_MAX_REPLICAS];
	int cnt;

	*n = 0;
	if (!crush_rule_exists(m->crush, p->crush_rule))
		return 0;
	if (m->crush_work_size > sizeof(stack)) {
		/* only maps with thousands of buckets get here */
		work = aligned_alloc(16, (m->crush_work_size + 15) & ~(size_t)15);
		if (!work)
			return -ENOMEM;
	}
	cnt = crush_do_rule(m->crush, p->crush_rule, (int)osdmap_pg_to_pps(p, pg), res, p->size,
			    m->crush_weights, m->max_osd, work, p->id);
	if (work != stack)
		free(work);
	if (cnt < 0)
		return cnt;
	for (int i = 0; i < cnt; i++) {
		int32_t o = res[i];
		bool ok = o != CRUSH_ITEM_NONE && osdmap_osd(m, o) != NULL;

		if (p->type == POOL_TYPE_ERASURE)
			raw[(*n)++] = ok ? o : OSDMAP_NONE;
		else if (ok)
			raw[(*n)++] = o;
	}
	return 0;
}

int osdmap_pg_to_raw(const struct osdmap *m, struct pg_id pg, int32_t *raw, int *n)
{
	const struct pool_info *p = osdmap_pool(m, pg.pool);

	*n = 0;
	if (!p)
		return -ENOENT;
	if (pg.ps >= p->pg_num)
		return -ERANGE;
	return pg_to_raw(m, p, pg, raw, n);
}

/* raw -> up: drop (replicated) or hole (erasure) the OSDs that are down. */
static int filter_up(const struct osdmap *m, const struct pool_info *p, const int32_t *in,
		     int nin, int32_t *out)
{
	int n = 0;

	for (int i = 0; i < nin; i++) {
		bool up = in[i] != OSDMAP_NONE && osdmap_is_up(m, in[i]);

		if (p->type == POOL_TYPE_ERASURE)
			out[n++] = up ? in[i] : OSDMAP_NONE;
		else if (up)
			out[n++] = in[i];
	}
	return n;
}

static int32_t pick_primary(const int32_t *v, int n)
{
	for (int i = 0; i < n; i++)
		if (v[i] != OSDMAP_NONE)
			return v[i];
	return -1;
}

int osdmap_pg_to_up_acting(const struct osdmap *m, struct pg_id pg, int32_t *up, int *nup,
			   int32_t *up_primary, int32_t *acting, int *nacting,
			   int32_t *acting_primary)
{
	const struct pool_info *p = osdmap_pool(m, pg.pool);
	int32_t raw[CAIRN_MAX_REPLICAS], u[CAIRN_MAX_REPLICAS], a[CAIRN_MAX_REPLICAS];
	int nraw = 0, nu, na = 0, err, ti;
	int32_t uprim, aprim = -1;

	if (!p)
		return -ENOENT;
	if (pg.ps >= p->pg_num)
		return -ERANGE;
	err = pg_to_raw(m, p, pg, raw, &nraw);
	if (err)
		return err;
	nu = filter_up(m, p, raw, nraw, u);
	uprim = pick_primary(u, nu);

	ti = temp_find(m->pg_temp, m->num_pg_temp, sizeof(*m->pg_temp), pg);
	if (ti >= 0) {
		na = filter_up(m, p, m->pg_temp[ti].osds, m->pg_temp[ti].n, a);
		aprim = pick_primary(a, na);
	}
	ti = temp_find(m->primary_temp, m->num_primary_temp, sizeof(*m->primary_temp), pg);
	if (ti >= 0 && osdmap_is_up(m, m->primary_temp[ti].osd))
		aprim = m->primary_temp[ti].osd;
	if (na == 0 || pick_primary(a, na) < 0) {
		na = nu;
		memcpy(a, u, sizeof(int32_t) * (size_t)nu);
		if (aprim < 0)
			aprim = uprim;
	}
	if (up)
		memcpy(up, u, sizeof(int32_t) * (size_t)nu);
	if (nup)
		*nup = nu;
	if (up_primary)
		*up_primary = uprim;
	if (acting)
		memcpy(acting, a, sizeof(int32_t) * (size_t)na);
	if (nacting)
		*nacting = na;
	if (acting_primary)
		*acting_primary = aprim;
	return 0;
}

/* ---- incrementals ---- */

void osdmap_inc_init(struct osdmap_inc *inc)
{
	memset(inc, 0, sizeof(*inc));
	inc->new_flags = -1;
	inc->new_max_osd = -1;
	inc->new_pool_max = -1;
}

void osdmap_inc_free(struct osdmap_inc *inc)
{
	free(inc->osds);
	free(inc->new_pools);
	free(inc->old_pools);
	free(inc->pg_temp);
	free(inc->primary_temp);
	free(inc->crush);
	free(inc->mds_map);
	osdmap_inc_init(inc);
}

int osdmap_inc_encode(const struct osdmap_inc *inc, struct cbuf *b)
{
	size_t st = enc_start(b, OSDMAP_INC_V, 1);

	enc_raw(b, inc->fsid, 16);
	enc_u32(b, inc->epoch);
	enc_u64(b, inc->modified);
	enc_i32(b, inc->new_flags);
	enc_i32(b, inc->new_max_osd);
	enc_u32(b, inc->num_osds);
	for (uint32_t i = 0; i < inc->num_osds; i++) {
		enc_i32(b, inc->osds[i].id);
		osd_info_encode(&inc->osds[i], b);
	}
	enc_u32(b, inc->num_new_pools);
	for (uint32_t i = 0; i < inc->num_new_pools; i++)
		pool_encode(&inc->new_pools[i], b);
	enc_u32(b, inc->num_old_pools);
	for (uint32_t i = 0; i < inc->num_old_pools; i++)
		enc_i64(b, inc->old_pools[i]);
	enc_i64(b, inc->new_pool_max);
	enc_u32(b, inc->num_pg_temp);
	for (uint32_t i = 0; i < inc->num_pg_temp; i++)
		pg_temp_encode(&inc->pg_temp[i], b);
	enc_u32(b, inc->num_primary_temp);
	for (uint32_t i = 0; i < inc->num_primary_temp; i++)
		primary_temp_encode(&inc->primary_temp[i], b);
	enc_bytes(b, inc->crush, inc->crush_len);
	enc_u8(b, inc->has_mds_map);
	enc_bytes(b, inc->mds_map, inc->mds_map_len);
	enc_finish(b, st);
	return b->err;
}

int osdmap_inc_decode(struct osdmap_inc *inc, const void *p, size_t n)
{
	struct cdec d, body;
	const uint8_t *blob;
	uint32_t blen = 0;
	uint8_t v;

	osdmap_inc_init(inc);
	cdec_init(&d, p, n);
	if (dec_start(&d, OSDMAP_INC_V, &body, &v))
		return d.err;
	dec_raw(&body, inc->fsid, 16);
	dec_u32(&body, &inc->epoch);
	dec_u64(&body, &inc->modified);
	dec_i32(&body, &inc->new_flags);
	dec_i32(&body, &inc->new_max_osd);
	if (!body.err && (inc->new_max_osd < -1 || inc->new_max_osd > OSDMAP_MAX_OSD))
		dec_fail(&body, -EBADMSG);
	dec_u32(&body, &inc->num_osds);
	if (!body.err && (inc->num_osds > OSDMAP_MAX_OSD || dec_need(&body, inc->num_osds, 10)))
		dec_fail(&body, -EBADMSG);
	inc->osds = calloc_n(&body, inc->num_osds, sizeof(*inc->osds));
	for (uint32_t i = 0; i < inc->num_osds && !body.err; i++) {
		int32_t id = -1;
		dec_i32(&body, &id);
		osd_info_decode(&body, &inc->osds[i]);
		if (!body.err && (id < 0 || id >= OSDMAP_MAX_OSD))
			dec_fail(&body, -EBADMSG);
		inc->osds[i].id = id;
	}
	dec_u32(&body, &inc->num_new_pools);
	if (!body.err && dec_need(&body, inc->num_new_pools, 6))
		dec_fail(&body, -EBADMSG);
	inc->new_pools = calloc_n(&body, inc->num_new_pools, sizeof(*inc->new_pools));
	for (uint32_t i = 0; i < inc->num_new_pools && !body.err; i++)
		pool_decode(&body, &inc->new_pools[i]);
	dec_u32(&body, &inc->num_old_pools);
	if (!body.err && dec_need(&body, inc->num_old_pools, 8))
		dec_fail(&body, -EBADMSG);
	inc->old_pools = calloc_n(&body, inc->num_old_pools, sizeof(*inc->old_pools));
	for (uint32_t i = 0; i < inc->num_old_pools && !body.err; i++)
		dec_i64(&body, &inc->old_pools[i]);
	dec_i64(&body, &inc->new_pool_max);
	dec_u32(&body, &inc->num_pg_temp);
	if (!body.err && dec_need(&body, inc->num_pg_temp, 13))
		dec_fail(&body, -EBADMSG);
	inc->pg_temp = calloc_n(&body, inc->num_pg_temp, sizeof(*inc->pg_temp));
	for (uint32_t i = 0; i < inc->num_pg_temp && !body.err; i++)
		pg_temp_decode(&body, &inc->pg_temp[i]);
	dec_u32(&body, &inc->num_primary_temp);
	if (!body.err && dec_need(&body, inc->num_primary_temp, 16))
		dec_fail(&body, -EBADMSG);
	inc->primary_temp = calloc_n(&body, inc->num_primary_temp, sizeof(*inc->primary_temp));
	for (uint32_t i = 0; i < inc->num_primary_temp && !body.err; i++)
		primary_temp_decode(&body, &inc->primary_temp[i]);
	dec_bytes(&body, &blob, &blen);
	if (!body.err && blen) {
		if (!(inc->crush = dup_mem(blob, blen)))
			dec_fail(&body, -ENOMEM);
		inc->crush_len = blen;
	}
	dec_u8(&body, &inc->has_mds_map);
	blen = 0;
	dec_bytes(&body, &blob, &blen);
	if (!body.err && blen) {
		if (!(inc->mds_map = dup_mem(blob, blen)))
			dec_fail(&body, -ENOMEM);
		inc->mds_map_len = blen;
	}
	dec_finish(&d, &body);
	if (d.err)
		osdmap_inc_free(inc);
	return d.err;
}

static bool osd_eq(const struct osd_info *a, const struct osd_info *b)
{
	return a->state == b->state && a->reweight == b->reweight && a->up_from == b->up_from &&
	       a->down_at == b->down_at && a->up_thru == b->up_thru &&
	       a->down_stamp == b->down_stamp && !memcmp(a->uuid, b->uuid, 16) &&
	       !strcmp(a->addr, b->addr);
}

static bool pool_eq(const struct pool_info *a, const struct pool_info *b)
{
	return a->id == b->id && !strcmp(a->name, b->name) && a->type == b->type &&
	       a->size == b->size && a->min_size == b->min_size &&
	       a->object_hash == b->object_hash && a->pg_num == b->pg_num &&
	       a->pgp_num == b->pgp_num && a->crush_rule == b->crush_rule &&
	       a->flags == b->flags && a->last_change == b->last_change && a->ec_k == b->ec_k &&
	       a->ec_m == b->ec_m && a->stripe_unit == b->stripe_unit;
}

int osdmap_diff(const struct osdmap *old, const struct osdmap *nw, struct osdmap_inc *inc)
{
	struct cbuf cb_old, cb_new;
	int err = -ENOMEM;

	osdmap_inc_init(inc);
	cbuf_init(&cb_old);
	cbuf_init(&cb_new);
	if (nw->epoch != old->epoch + 1 || memcmp(nw->fsid, old->fsid, 16) ||
	    nw->max_osd < old->max_osd) {
		err = -EINVAL;
		goto fail;
	}
	memcpy(inc->fsid, nw->fsid, 16);
	inc->epoch = nw->epoch;
	inc->modified = nw->modified;
	if (nw->flags != old->flags)
		inc->new_flags = (int32_t)nw->flags;
	if (nw->max_osd != old->max_osd)
		inc->new_max_osd = nw->max_osd;
	if (nw->pool_max != old->pool_max)
		inc->new_pool_max = nw->pool_max;

	for (int32_t i = 0; i < nw->max_osd; i++) {
		static const struct osd_info zero;
		const struct osd_info *o = i < old->max_osd ? &old->osds[i] : &zero;

		if (osd_eq(o, &nw->osds[i]))
			continue;
		if (!(inc->num_osds % 16)) {
			void *p = realloc(inc->osds, (inc->num_osds + 16) * sizeof(*inc->osds));
			if (!p)
				goto fail;
			inc->osds = p;
		}
		inc->osds[inc->num_osds] = nw->osds[i];
		inc->osds[inc->num_osds++].id = i;
	}
	for (uint32_t i = 0; i < nw->num_pools; i++) {
		const struct pool_info *o = osdmap_pool(old, nw->pools[i].id);

		if (o && pool_eq(o, &nw->pools[i]))
			continue;
		if (!(inc->num_new_pools % 8)) {
			void *p = realloc(inc->new_pools,
					  (inc->num_new_pools + 8) * sizeof(*inc->new_pools));
			if (!p)
				goto fail;
			inc->new_pools = p;
		}
		inc->new_pools[inc->num_new_pools++] = nw->pools[i];
	}
	for (uint32_t i = 0; i < old->num_pools; i++) {
		if (osdmap_pool(nw, old->pools[i].id))
			continue;
		if (!(inc->num_old_pools % 8)) {
			void *p = realloc(inc->old_pools,
					  (inc->num_old_pools + 8) * sizeof(*inc->old_pools));
			if (!p)
				goto fail;
			inc->old_pools = p;
		}
		inc->old_pools[inc->num_old_pools++] = old->pools[i].id;
	}
	/* pg_temp: every new/changed entry, and a removal (n = 0) for each vanished one */
	for (int pass = 0; pass < 2; pass++) {
		const struct osdmap *a = pass ? old : nw, *bm = pass ? nw : old;

		for (uint32_t i = 0; i < a->num_pg_temp; i++) {
			const struct pg_temp *t = &a->pg_temp[i];
			int j = temp_find(bm->pg_temp, bm->num_pg_temp, sizeof(*t), t->pg);
			struct pg_temp e = *t;

			if (!pass && j >= 0 && bm->pg_temp[j].n == t->n &&
			    !memcmp(bm->pg_temp[j].osds, t->osds, sizeof(int32_t) * t->n))
				continue;
			if (pass && j >= 0)
				continue;
			if (pass)
				e.n = 0;
			if (!(inc->num_pg_temp % 16)) {
				void *p = realloc(inc->pg_temp,
						  (inc->num_pg_temp + 16) * sizeof(*inc->pg_temp));
				if (!p)
					goto fail;
				inc->pg_temp = p;
			}
			inc->pg_temp[inc->num_pg_temp++] = e;
		}
		for (uint32_t i = 0; i < a->num_primary_temp; i++) {
			const struct primary_temp *t = &a->primary_temp[i];
			int j = temp_find(bm->primary_temp, bm->num_primary_temp, sizeof(*t), t->pg);
			struct primary_temp e = *t;

			if (!pass && j >= 0 && bm->primary_temp[j].osd == t->osd)
				continue;
			if (pass && j >= 0)
				continue;
			if (pass)
				e.osd = -1;
			if (!(inc->num_primary_temp % 16)) {
				void *p = realloc(inc->primary_temp, (inc->num_primary_temp + 16) *
									     sizeof(*inc->primary_temp));
				if (!p)
					goto fail;
				inc->primary_temp = p;
			}
			inc->primary_temp[inc->num_primary_temp++] = e;
		}
	}
	if (crush_encode(old->crush, &cb_old) || crush_encode(nw->crush, &cb_new))
		goto fail;
	if (cb_old.len != cb_new.len || memcmp(cb_old.data, cb_new.data, cb_new.len)) {
		size_t clen = 0;

		inc->crush = cbuf_steal(&cb_new, &clen);
		inc->crush_len = (uint32_t)clen;
	}
	if (old->mds_map_len != nw->mds_map_len ||
	    (nw->mds_map_len && memcmp(old->mds_map, nw->mds_map, nw->mds_map_len))) {
		inc->has_mds_map = 1;
		if (nw->mds_map_len && !(inc->mds_map = dup_mem(nw->mds_map, nw->mds_map_len)))
			goto fail;
		inc->mds_map_len = nw->mds_map_len;
	}
	cbuf_free(&cb_old);
	cbuf_free(&cb_new);
	return 0;
fail:
	cbuf_free(&cb_old);
	cbuf_free(&cb_new);
	osdmap_inc_free(inc);
	return err;
}

int osdmap_apply_incremental(const struct osdmap *old, const struct osdmap_inc *inc,
			     struct osdmap **out)
{
	struct osdmap *m;
	int err = -ENOMEM;

	*out = NULL;
	if (inc->epoch != old->epoch + 1 || memcmp(inc->fsid, old->fsid, 16))
		return -EINVAL;
	m = osdmap_copy(old);
	if (!m)
		return -ENOMEM;
	m->epoch = inc->epoch;
	m->modified = inc->modified;
	if (inc->new_flags >= 0)
		m->flags = (uint32_t)inc->new_flags & OSDMAP_FLAG_ALL;
	if (inc->new_max_osd >= 0 && (err = osdmap_set_max_osd(m, inc->new_max_osd)))
		goto fail;
	for (uint32_t i = 0; i < inc->num_osds; i++) {
		int32_t id = inc->osds[i].id;

		if (id < 0 || id >= m->max_osd) {
			err = -EINVAL;
			goto fail;
		}
		m->osds[id] = inc->osds[i];
	}
	if (inc->new_pool_max >= 0)
		m->pool_max = inc->new_pool_max;
	for (uint32_t i = 0; i < inc->num_old_pools; i++)
		osdmap_pool_remove(m, inc->old_pools[i]);
	for (uint32_t i = 0; i < inc->num_new_pools; i++) {
		err = osdmap_pool_set(m, &inc->new_pools[i]);
		if (err)
			goto fail;
	}
	for (uint32_t i = 0; i < inc->num_pg_temp; i++) {
		err = osdmap_set_pg_temp(m, inc->pg_temp[i].pg, inc->pg_temp[i].osds,
					 inc->pg_temp[i].n);
		if (err)
			goto fail;
	}
	for (uint32_t i = 0; i < inc->num_primary_temp; i++) {
		err = osdmap_set_primary_temp(m, inc->primary_temp[i].pg, inc->primary_temp[i].osd);
		if (err)
			goto fail;
	}
	if (inc->crush_len) {
		struct cdec d;
		struct crush_map *c = NULL;

		cdec_init(&d, inc->crush, inc->crush_len);
		err = crush_decode(&d, &c);
		if (err || !c) {
			err = err ? err : -EBADMSG;
			goto fail;
		}
		osdmap_set_crush(m, c);
	}
	if (inc->has_mds_map && (err = osdmap_set_mds_map(m, inc->mds_map, inc->mds_map_len)))
		goto fail;
	err = osdmap_finalize(m);
	if (err)
		goto fail;
	*out = m;
	return 0;
fail:
	osdmap_put(m);
	return err;
}

bool osdmap_equal(const struct osdmap *a, const struct osdmap *b)
{
	struct cbuf x, y;
	bool eq;

	cbuf_init(&x);
	cbuf_init(&y);
	osdmap_encode(a, &x);
	osdmap_encode(b, &y);
	eq = !x.err && !y.err && x.len == y.len && !memcmp(x.data, y.data, x.len);
	cbuf_free(&x);
	cbuf_free(&y);
	return eq;
}
