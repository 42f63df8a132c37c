/* mon_proto — encode/decode of the monitor protocol messages; see mon_proto.h. */
#include "common/mon_proto.h"

#include <stdlib.h>
#include <string.h>

#include "common/encode.h"

/* ---- subscribe ---- */
#define SUB_V 1
int mon_subscribe_encode(const struct mon_subscribe *s, struct cbuf *b)
{
	size_t st = enc_start(b, SUB_V, 1);
	uint32_t n = s->n > MON_SUB_MAX_ITEMS ? MON_SUB_MAX_ITEMS : s->n;

	enc_u32(b, n);
	for (uint32_t i = 0; i < n; i++) {
		enc_u32(b, s->items[i].what);
		enc_u32(b, s->items[i].start);
		enc_u32(b, s->items[i].flags);
	}
	enc_finish(b, st);
	return b->err;
}

int mon_subscribe_decode(struct mon_subscribe *s, const void *p, size_t n)
{
	struct cdec d, body;
	uint8_t v;

	memset(s, 0, sizeof(*s));
	cdec_init(&d, p, n);
	if (dec_start(&d, SUB_V, &body, &v))
		return d.err;
	dec_u32(&body, &s->n);
	if (!body.err && s->n > MON_SUB_MAX_ITEMS)
		dec_fail(&body, -EBADMSG);
	for (uint32_t i = 0; i < s->n && !body.err; i++) {
		dec_u32(&body, &s->items[i].what);
		dec_u32(&body, &s->items[i].start);
		dec_u32(&body, &s->items[i].flags);
	}
	dec_finish(&d, &body);
	if (d.err)
		memset(s, 0, sizeof(*s));
	return d.err;
}

/* ---- osdmap push ---- */
#define OSDMAP_MSG_V 1
static void enc_blobs(struct cbuf *b, const struct mon_map_blob *bl, uint32_t n)
{
	enc_u32(b, n);
	for (uint32_t i = 0; i < n; i++) {
		enc_u32(b, bl[i].epoch);
		enc_bytes(b, bl[i].data, bl[i].len);
	}
}

static int dec_blobs(struct cdec *d, struct mon_map_blob **out, uint32_t *nout)
{
	uint32_t n = 0;
	struct mon_map_blob *bl = NULL;

	*out = NULL;
	*nout = 0;
	if (dec_u32(d, &n))
		return d->err;
	if (n > MON_OSDMAP_MAX_BLOBS || dec_need(d, n, 8))
		return dec_fail(d, -EBADMSG);
	if (n) {
		bl = calloc(n, sizeof(*bl));
		if (!bl)
			return dec_fail(d, -ENOMEM);
	}
	for (uint32_t i = 0; i < n; i++) {
		dec_u32(d, &bl[i].epoch);
		dec_bytes(d, &bl[i].data, &bl[i].len);
	}
	if (d->err) {
		free(bl);
		return d->err;
	}
	*out = bl;
	*nout = n;
	return 0;
}

int mon_osdmap_msg_encode(const struct mon_osdmap_msg *m, struct cbuf *b)
{
	size_t st = enc_start(b, OSDMAP_MSG_V, 1);

	enc_raw(b, m->fsid, 16);
	enc_u32(b, m->oldest);
	enc_u32(b, m->newest);
	enc_blobs(b, m->full, m->num_full);
	enc_blobs(b, m->inc, m->num_inc);
	enc_finish(b, st);
	return b->err;
}

int mon_osdmap_msg_decode(struct mon_osdmap_msg *m, const void *p, size_t n)
{
	struct cdec d, body;
	uint8_t v;

	memset(m, 0, sizeof(*m));
	cdec_init(&d, p, n);
	if (dec_start(&d, OSDMAP_MSG_V, &body, &v))
		return d.err;
	dec_raw(&body, m->fsid, 16);
	dec_u32(&body, &m->oldest);
	dec_u32(&body, &m->newest);
	dec_blobs(&body, &m->full, &m->num_full);
	dec_blobs(&body, &m->inc, &m->num_inc);
	for (uint32_t i = 1; i < m->num_full && !body.err; i++)
		if (m->full[i].epoch <= m->full[i - 1].epoch)
			dec_fail(&body, -EBADMSG);
	for (uint32_t i = 1; i < m->num_inc && !body.err; i++)
		if (m->inc[i].epoch != m->inc[i - 1].epoch + 1)
			dec_fail(&body, -EBADMSG);
	dec_finish(&d, &body);
	if (d.err)
		mon_osdmap_msg_free(m);
	return d.err;
}

void mon_osdmap_msg_free(struct mon_osdmap_msg *m)
{
	free(m->full);
	free(m->inc);
	m->full = m->inc = NULL;
	m->num_full = m->num_inc = 0;
}

/* ---- get osdmap ---- */
#define GET_V 1
int mon_get_osdmap_encode(const struct mon_get_osdmap *g, struct cbuf *b)
{
	size_t st = enc_start(b, GET_V, 1);

	enc_u32(b, g->start);
	enc_u32(b, g->end);
	enc_u8(b, g->full);
	enc_finish(b, st);
	return b->err;
}

int mon_get_osdmap_decode(struct mon_get_osdmap *g, const void *p, size_t n)
{
	struct cdec d, body;
	uint8_t v;

	memset(g, 0, sizeof(*g));
	cdec_init(&d, p, n);
	if (dec_start(&d, GET_V, &body, &v))
		return d.err;
	dec_u32(&body, &g->start);
	dec_u32(&body, &g->end);
	dec_u8(&body, &g->full);
	return dec_finish(&d, &body);
}

/* ---- osd boot ---- */
#define BOOT_V 1
int mon_osd_boot_encode(const struct mon_osd_boot *bt, struct cbuf *b)
{
	size_t st = enc_start(b, BOOT_V, 1);

	enc_i32(b, bt->id);
	enc_raw(b, bt->uuid, 16);
	enc_str(b, bt->addr);
	enc_str(b, bt->host);
	enc_u64(b, bt->store_bytes);
	enc_u32(b, bt->weight);
	enc_u32(b, bt->epoch);
	enc_finish(b, st);
	return b->err;
}

int mon_osd_boot_decode(struct mon_osd_boot *bt, const void *p, size_t n)
{
	struct cdec d, body;
	uint8_t v;

	memset(bt, 0, sizeof(*bt));
	cdec_init(&d, p, n);
	if (dec_start(&d, BOOT_V, &body, &v))
		return d.err;
	dec_i32(&body, &bt->id);
	dec_raw(&body, bt->uuid, 16);
	dec_str(&body, bt->addr, sizeof(bt->addr));
	dec_str(&body, bt->host, sizeof(bt->host));
	dec_u64(&body, &bt->store_bytes);
	dec_u32(&body, &bt->weight);
	dec_u32(&body, &bt->epoch);
	return dec_finish(&d, &body);
}

/* ---- failure ---- */
#define FAIL_V 1
int mon_osd_failure_encode(const struct mon_osd_failure *f, struct cbuf *b)
{
	size_t st = enc_start(b, FAIL_V, 1);

	enc_i32(b, f->reporter);
	enc_i32(b, f->target);
	enc_u32(b, f->failed_for);
	enc_u32(b, f->epoch);
	enc_u32(b, f->flags);
	enc_finish(b, st);
	return b->err;
}

int mon_osd_failure_decode(struct mon_osd_failure *f, const void *p, size_t n)
{
	struct cdec d, body;
	uint8_t v;

	memset(f, 0, sizeof(*f));
	cdec_init(&d, p, n);
	if (dec_start(&d, FAIL_V, &body, &v))
		return d.err;
	dec_i32(&body, &f->reporter);
	dec_i32(&body, &f->target);
	dec_u32(&body, &f->failed_for);
	dec_u32(&body, &f->epoch);
	dec_u32(&body, &f->flags);
	return dec_finish(&d, &body);
}

/* ---- alive ---- */
#define ALIVE_V 1
int mon_osd_alive_encode(const struct mon_osd_alive *a, struct cbuf *b)
{
	size_t st = enc_start(b, ALIVE_V, 1);

	enc_i32(b, a->id);
	enc_u32(b, a->want_up_thru);
	enc_u32(b, a->epoch);
	enc_finish(b, st);
	return b->err;
}

int mon_osd_alive_decode(struct mon_osd_alive *a, const void *p, size_t n)
{
	struct cdec d, body;
	uint8_t v;

	memset(a, 0, sizeof(*a));
	cdec_init(&d, p, n);
	if (dec_start(&d, ALIVE_V, &body, &v))
		return d.err;
	dec_i32(&body, &a->id);
	dec_u32(&body, &a->want_up_thru);
	dec_u32(&body, &a->epoch);
	return dec_finish(&d, &body);
}

/* ---- pg stats ---- */
#define PGSTAT_V 1
#define PGSTATS_V 1
void mon_pg_stat_encode(const struct mon_pg_stat *ps, struct cbuf *b)
{
	size_t st = enc_start(b, PGSTAT_V, 1);
	uint8_t nup = ps->nup > CAIRN_MAX_REPLICAS ? CAIRN_MAX_REPLICAS : ps->nup;
	uint8_t nact = ps->nacting > CAIRN_MAX_REPLICAS ? CAIRN_MAX_REPLICAS : ps->nacting;

	enc_i64(b, ps->pg.pool);
	enc_u32(b, ps->pg.ps);
	enc_u64(b, ps->state);
	enc_u8(b, nup);
	for (int i = 0; i < nup; i++)
		enc_i32(b, ps->up[i]);
	enc_u8(b, nact);
	for (int i = 0; i < nact; i++)
		enc_i32(b, ps->acting[i]);
	enc_i32(b, ps->up_primary);
	enc_i32(b, ps->acting_primary);
	enc_u32(b, ps->reported_epoch);
	enc_u64(b, ps->num_objects);
	enc_u64(b, ps->num_bytes);
	enc_u32(b, ps->last_update_epoch);
	enc_u64(b, ps->last_update_version);
	enc_u64(b, ps->log_size);
	enc_u64(b, ps->objects_missing);
	enc_u64(b, ps->objects_degraded);
	enc_u64(b, ps->objects_misplaced);
	enc_u64(b, ps->objects_unfound);
	enc_u64(b, ps->recovery_objects_left);
	enc_u64(b, ps->recovery_bytes_left);
	enc_u64(b, ps->recovery_objects_done);
	enc_u64(b, ps->recovery_bytes_done);
	enc_u64(b, ps->last_scrub_stamp);
	enc_u64(b, ps->last_deep_scrub_stamp);
	enc_finish(b, st);
}

int mon_pg_stat_decode_one(struct cdec *d, struct mon_pg_stat *ps)
{
	struct cdec body;
	uint8_t v;

	memset(ps, 0, sizeof(*ps));
	if (dec_start(d, PGSTAT_V, &body, &v))
		return d->err;
	dec_i64(&body, &ps->pg.pool);
	dec_u32(&body, &ps->pg.ps);
	dec_u64(&body, &ps->state);
	dec_u8(&body, &ps->nup);
	if (!body.err && ps->nup > CAIRN_MAX_REPLICAS)
		dec_fail(&body, -EBADMSG);
	for (int i = 0; i < ps->nup && !body.err; i++)
		dec_i32(&body, &ps->up[i]);
	dec_u8(&body, &ps->nacting);
	if (!body.err && ps->nacting > CAIRN_MAX_REPLICAS)
		dec_fail(&body, -EBADMSG);
	for (int i = 0; i < ps->nacting && !body.err; i++)
		dec_i32(&body, &ps->acting[i]);
	dec_i32(&body, &ps->up_primary);
	dec_i32(&body, &ps->acting_primary);
	dec_u32(&body, &ps->reported_epoch);
	dec_u64(&body, &ps->num_objects);
	dec_u64(&body, &ps->num_bytes);
	dec_u32(&body, &ps->last_update_epoch);
	dec_u64(&body, &ps->last_update_version);
	dec_u64(&body, &ps->log_size);
	dec_u64(&body, &ps->objects_missing);
	dec_u64(&body, &ps->objects_degraded);
	dec_u64(&body, &ps->objects_misplaced);
	dec_u64(&body, &ps->objects_unfound);
	dec_u64(&body, &ps->recovery_objects_left);
	dec_u64(&body, &ps->recovery_bytes_left);
	dec_u64(&body, &ps->recovery_objects_done);
	dec_u64(&body, &ps->recovery_bytes_done);
	dec_u64(&body, &ps->last_scrub_stamp);
	dec_u64(&body, &ps->last_deep_scrub_stamp);
	return dec_finish(d, &body);
}

int mon_pg_stats_encode(const struct mon_pg_stats *s, struct cbuf *b)
{
	size_t st = enc_start(b, PGSTATS_V, 1);

	enc_i32(b, s->osd);
	enc_u32(b, s->epoch);
	enc_u64(b, s->osd_stat.bytes_total);
	enc_u64(b, s->osd_stat.bytes_used);
	enc_u32(b, s->osd_stat.num_pgs);
	enc_u32(b, s->num_pgs);
	for (uint32_t i = 0; i < s->num_pgs; i++)
		mon_pg_stat_encode(&s->pgs[i], b);
	enc_finish(b, st);
	return b->err;
}

int mon_pg_stats_decode(struct mon_pg_stats *s, const void *p, size_t n)
{
	struct cdec d, body;
	uint8_t v;

	memset(s, 0, sizeof(*s));
	cdec_init(&d, p, n);
	if (dec_start(&d, PGSTATS_V, &body, &v))
		return d.err;
	dec_i32(&body, &s->osd);
	dec_u32(&body, &s->epoch);
	dec_u64(&body, &s->osd_stat.bytes_total);
	dec_u64(&body, &s->osd_stat.bytes_used);
	dec_u32(&body, &s->osd_stat.num_pgs);
	dec_u32(&body, &s->num_pgs);
	if (!body.err && (s->num_pgs > MON_PG_STATS_MAX || dec_need(&body, s->num_pgs, 6)))
		dec_fail(&body, -EBADMSG);
	if (!body.err && s->num_pgs) {
		s->pgs = calloc(s->num_pgs, sizeof(*s->pgs));
		if (!s->pgs)
			dec_fail(&body, -ENOMEM);
	}
	for (uint32_t i = 0; i < s->num_pgs && !body.err; i++)
		mon_pg_stat_decode_one(&body, &s->pgs[i]);
	dec_finish(&d, &body);
	if (d.err)
		mon_pg_stats_free(s);
	return d.err;
}

void mon_pg_stats_free(struct mon_pg_stats *s)
{
	free(s->pgs);
	s->pgs = NULL;
	s->num_pgs = 0;
}

/* ---- PG last-active records ---- */
#define PGLA_V 1
#define PGLAMSG_V 1
void mon_pg_la_encode_one(const struct mon_pg_la *r, struct cbuf *b)
{
	size_t st = enc_start(b, PGLA_V, 1);
	uint32_t n = r->n > CAIRN_MAX_REPLICAS ? CAIRN_MAX_REPLICAS : r->n;

	enc_i64(b, r->pg.pool);
	enc_u32(b, r->pg.ps);
	enc_u64(b, r->token);
	enc_u32(b, r->epoch);
	enc_u32(b, n);
	for (uint32_t i = 0; i < n; i++)
		enc_i32(b, r->osds[i]);
	enc_finish(b, st);
}

int mon_pg_la_decode_one(struct cdec *d, struct mon_pg_la *r)
{
	struct cdec body;
	uint8_t v;

	memset(r, 0, sizeof(*r));
	if (dec_start(d, PGLA_V, &body, &v))
		return d->err;
	dec_i64(&body, &r->pg.pool);
	dec_u32(&body, &r->pg.ps);
	dec_u64(&body, &r->token);
	dec_u32(&body, &r->epoch);
	dec_u32(&body, &r->n);
	if (!body.err && r->n > CAIRN_MAX_REPLICAS)
		dec_fail(&body, -EBADMSG);
	for (uint32_t i = 0; i < r->n && !body.err; i++)
		dec_i32(&body, &r->osds[i]);
	return dec_finish(d, &body);
}

int mon_pg_la_msg_encode(const struct mon_pg_la_msg *m, struct cbuf *b)
{
	size_t st = enc_start(b, PGLAMSG_V, 1);
	uint32_t n = m->n > MON_PG_LA_MAX ? MON_PG_LA_MAX : m->n;

	enc_i32(b, m->osd);
	enc_u32(b, n);
	for (uint32_t i = 0; i < n; i++)
		mon_pg_la_encode_one(&m->recs[i], b);
	enc_finish(b, st);
	return b->err;
}

int mon_pg_la_msg_decode(struct mon_pg_la_msg *m, const void *p, size_t n)
{
	struct cdec d, body;
	uint8_t v;

	memset(m, 0, sizeof(*m));
	cdec_init(&d, p, n);
	if (dec_start(&d, PGLAMSG_V, &body, &v))
		return d.err;
	dec_i32(&body, &m->osd);
	dec_u32(&body, &m->n);
	if (!body.err && (m->n > MON_PG_LA_MAX || dec_need(&body, m->n, 6)))
		dec_fail(&body, -EBADMSG);
	if (!body.err && m->n) {
		m->recs = calloc(m->n, sizeof(*m->recs));
		if (!m->recs)
			dec_fail(&body, -ENOMEM);
	}
	for (uint32_t i = 0; i < m->n && !body.err; i++)
		mon_pg_la_decode_one(&body, &m->recs[i]);
	dec_finish(&d, &body);
	if (d.err)
		mon_pg_la_msg_free(m);
	return d.err;
}

void mon_pg_la_msg_free(struct mon_pg_la_msg *m)
{
	free(m->recs);
	m->recs = NULL;
	m->n = 0;
}

/* ---- command ---- */
#define CMD_V 1
#define CMDREPLY_V 1
int mon_command_encode(const struct mon_command *c, struct cbuf *b)
{
	size_t st = enc_start(b, CMD_V, 1);

	enc_u32(b, c->argc);
	for (uint32_t i = 0; i < c->argc; i++)
		enc_str(b, c->argv[i]);
	enc_bytes(b, c->in, c->inlen);
	enc_finish(b, st);
	return b->err;
}

int mon_command_decode(struct mon_command *c, const void *p, size_t n)
{
	struct cdec d, body;
	uint8_t v;

	memset(c, 0, sizeof(*c));
	cdec_init(&d, p, n);
	if (dec_start(&d, CMD_V, &body, &v))
		return d.err;
	dec_u32(&body, &c->argc);
	if (!body.err && (c->argc > MON_CMD_MAX_ARGS || dec_need(&body, c->argc, 4)))
		dec_fail(&body, -EBADMSG);
	if (!body.err) {
		c->argv = calloc(c->argc + 1, sizeof(char *));
		if (!c->argv)
			dec_fail(&body, -ENOMEM);
	}
	for (uint32_t i = 0; i < c->argc && !body.err; i++)
		dec_strdup(&body, &c->argv[i], MON_CMD_MAX_ARG_LEN);
	dec_bytes(&body, &c->in, &c->inlen);
	if (!body.err && c->inlen > MON_CMD_MAX_INPUT)
		dec_fail(&body, -EBADMSG);
	dec_finish(&d, &body);
	if (d.err)
		mon_command_free(c);
	return d.err;
}

void mon_command_free(struct mon_command *c)
{
	if (c->argv)
		for (uint32_t i = 0; i < c->argc; i++)
			free(c->argv[i]);
	free(c->argv);
	c->argv = NULL;
	c->argc = 0;
}

int mon_command_reply_encode(const struct mon_command_reply *r, struct cbuf *b)
{
	size_t st = enc_start(b, CMDREPLY_V, 1);

	enc_i32(b, r->rc);
	enc_str(b, r->status ? r->status : "");
	enc_bytes(b, r->out, r->outlen);
	enc_u32(b, r->epoch);
	enc_finish(b, st);
	return b->err;
}

int mon_command_reply_decode(struct mon_command_reply *r, const void *p, size_t n)
{
	struct cdec d, body;
	uint8_t v;
	char *status = NULL;

	memset(r, 0, sizeof(*r));
	cdec_init(&d, p, n);
	if (dec_start(&d, CMDREPLY_V, &body, &v))
		return d.err;
	dec_i32(&body, &r->rc);
	dec_strdup(&body, &status, 1 << 20);
	dec_bytes(&body, &r->out, &r->outlen);
	dec_u32(&body, &r->epoch);
	dec_finish(&d, &body);
	if (d.err) {
		free(status);
		memset(r, 0, sizeof(*r));
		return d.err;
	}
	r->status = status;
	return 0;
}

void mon_command_reply_free(struct mon_command_reply *r)
{
	free((char *)r->status);
	r->status = NULL;
}
