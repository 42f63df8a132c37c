/* osd_proto — see osd_proto.h. One encode and one decode per structure, side by side. */
#include "common/osd_proto.h"

#define REQ_VERSION 1
#define REQ_COMPAT 1
#define REPLY_VERSION 1
#define REPLY_COMPAT 1
#define OP_VERSION 1
#define OP_COMPAT 1
#define STAT_VERSION 1
#define KV_VERSION 1

bool osd_op_is_write(uint16_t op)
{
	switch (op) {
	case OSD_OP_CREATE:
	case OSD_OP_WRITE:
	case OSD_OP_WRITEFULL:
	case OSD_OP_APPEND:
	case OSD_OP_REMOVE:
	case OSD_OP_TRUNCATE:
	case OSD_OP_ZERO:
	case OSD_OP_SETXATTR:
	case OSD_OP_RMXATTR:
	case OSD_OP_OMAP_SET:
	case OSD_OP_OMAP_RMKEYS:
	case OSD_OP_OMAP_CLEAR:
		return true;
	default:
		return false;
	}
}

bool osd_op_has_indata(uint16_t op)
{
	switch (op) {
	case OSD_OP_WRITE:
	case OSD_OP_WRITEFULL:
	case OSD_OP_APPEND:
	case OSD_OP_SETXATTR:
	case OSD_OP_OMAP_GET:
	case OSD_OP_OMAP_GET_RANGE:
	case OSD_OP_OMAP_SET:
	case OSD_OP_OMAP_RMKEYS:
		return true;
	default:
		return false;
	}
}

const char *osd_op_name(uint16_t op)
{
	static const char *const names[] = {
		[OSD_OP_CREATE] = "create",
		[OSD_OP_WRITE] = "write",
		[OSD_OP_WRITEFULL] = "writefull",
		[OSD_OP_APPEND] = "append",
		[OSD_OP_READ] = "read",
		[OSD_OP_STAT] = "stat",
		[OSD_OP_REMOVE] = "remove",
		[OSD_OP_TRUNCATE] = "truncate",
		[OSD_OP_ZERO] = "zero",
		[OSD_OP_SETXATTR] = "setxattr",
		[OSD_OP_GETXATTR] = "getxattr",
		[OSD_OP_RMXATTR] = "rmxattr",
		[OSD_OP_GETXATTRS] = "getxattrs",
		[OSD_OP_OMAP_GET] = "omap-get",
		[OSD_OP_OMAP_GET_RANGE] = "omap-get-range",
		[OSD_OP_OMAP_SET] = "omap-set",
		[OSD_OP_OMAP_RMKEYS] = "omap-rmkeys",
		[OSD_OP_OMAP_CLEAR] = "omap-clear",
		[OSD_OP_LIST] = "list",
		[OSD_OP_ASSERT_EXISTS] = "assert-exists",
	};

	if (op == 0 || op > OSD_OP_CODE_MAX || !names[op])
		return "?";
	return names[op];
}

void osd_reqid_encode(struct cbuf *b, const struct osd_reqid *r)
{
	enc_u8(b, r->type);
	enc_i64(b, r->num);
	enc_u64(b, r->tid);
}

int osd_reqid_decode(struct cdec *d, struct osd_reqid *r)
{
	dec_u8(d, &r->type);
	dec_i64(d, &r->num);
	return dec_u64(d, &r->tid);
}

void osd_pgid_encode(struct cbuf *b, struct pg_id p)
{
	enc_i64(b, p.pool);
	enc_u32(b, p.ps);
}

int osd_pgid_decode(struct cdec *d, struct pg_id *p)
{
	dec_i64(d, &p->pool);
	dec_u32(d, &p->ps);
	if (!d->err && p->pool < 0)
		return dec_fail(d, -EBADMSG);
	return d->err;
}

void osd_eversion_encode(struct cbuf *b, struct osd_eversion v)
{
	enc_u32(b, v.epoch);
	enc_u64(b, v.v);
}

int osd_eversion_decode(struct cdec *d, struct osd_eversion *v)
{
	dec_u32(d, &v->epoch);
	return dec_u64(d, &v->v);
}

static void op_encode(struct cbuf *b, const struct osd_op *o)
{
	size_t env = enc_start(b, OP_VERSION, OP_COMPAT);

	enc_u16(b, o->op);
	enc_u16(b, o->flags);
	enc_u64(b, o->off);
	enc_u64(b, o->len);
	enc_bytes(b, o->name, o->name_len);
	enc_u64(b, o->indata_off);
	enc_u64(b, o->indata_len);
	enc_finish(b, env);
}

static int op_decode(struct cdec *d, struct osd_op *o)
{
	struct cdec body;

	if (dec_start(d, OP_COMPAT, &body, NULL))
		return d->err;
	dec_u16(&body, &o->op);
	dec_u16(&body, &o->flags);
	dec_u64(&body, &o->off);
	dec_u64(&body, &o->len);
	dec_bytes(&body, &o->name, &o->name_len);
	dec_u64(&body, &o->indata_off);
	dec_u64(&body, &o->indata_len);
	if (!body.err && o->name_len > OSD_OPNAME_MAX)
		dec_fail(&body, -EBADMSG);
	if (!body.err && (o->op == 0 || o->op > OSD_OP_CODE_MAX))
		dec_fail(&body, -EOPNOTSUPP);
	if (!body.err && !osd_op_has_indata(o->op) && o->indata_len)
		dec_fail(&body, -EBADMSG);
	return dec_finish(d, &body);
}

void osd_op_req_encode(struct cbuf *b, const struct osd_op_req *r)
{
	size_t env = enc_start(b, REQ_VERSION, REQ_COMPAT);

	osd_reqid_encode(b, &r->reqid);
	osd_pgid_encode(b, r->pgid);
	enc_u32(b, r->epoch);
	enc_u32(b, r->flags);
	enc_u32(b, r->attempt);
	enc_str(b, r->oid);
	if (r->nops > OSD_OPS_MAX) {
		b->err = b->err ? b->err : -EINVAL;
		return;
	}
	enc_u32(b, r->nops);
	for (uint32_t i = 0; i < r->nops; i++)
		op_encode(b, &r->ops[i]);
	enc_finish(b, env);
}

int osd_op_req_decode(struct cdec *d, struct osd_op_req *r)
{
	struct cdec body;

	r->nops = 0;
	r->oid[0] = '\0';
	if (dec_start(d, REQ_COMPAT, &body, NULL))
		return d->err;
	osd_reqid_decode(&body, &r->reqid);
	osd_pgid_decode(&body, &r->pgid);
	dec_u32(&body, &r->epoch);
	dec_u32(&body, &r->flags);
	dec_u32(&body, &r->attempt);
	dec_str(&body, r->oid, sizeof(r->oid));
	dec_u32(&body, &r->nops);
	if (!body.err && (r->nops == 0 || r->nops > OSD_OPS_MAX))
		dec_fail(&body, -EBADMSG);
	for (uint32_t i = 0; !body.err && i < r->nops; i++)
		op_decode(&body, &r->ops[i]);
	if (body.err)
		r->nops = 0;
	return dec_finish(d, &body);
}

static int slice_ok(uint64_t off, uint64_t len, uint64_t total)
{
	return off <= total && len <= total - off;
}

int osd_op_req_check_data(const struct osd_op_req *r, uint64_t data_len)
{
	for (uint32_t i = 0; i < r->nops; i++)
		if (!slice_ok(r->ops[i].indata_off, r->ops[i].indata_len, data_len))
			return -EBADMSG;
	return 0;
}

void osd_op_reply_encode(struct cbuf *b, const struct osd_op_reply *r)
{
	size_t env = enc_start(b, REPLY_VERSION, REPLY_COMPAT);

	osd_reqid_encode(b, &r->reqid);
	osd_pgid_encode(b, r->pgid);
	enc_i32(b, r->result);
	enc_u32(b, r->flags);
	enc_u32(b, r->epoch);
	osd_eversion_encode(b, r->version);
	if (r->nops > OSD_OPS_MAX) {
		b->err = b->err ? b->err : -EINVAL;
		return;
	}
	enc_u32(b, r->nops);
	for (uint32_t i = 0; i < r->nops; i++) {
		enc_i32(b, r->ops[i].rc);
		enc_u64(b, r->ops[i].outdata_off);
		enc_u64(b, r->ops[i].outdata_len);
	}
	enc_finish(b, env);
}

int osd_op_reply_decode(struct cdec *d, struct osd_op_reply *r)
{
	struct cdec body;

	r->nops = 0;
	if (dec_start(d, REPLY_COMPAT, &body, NULL))
		return d->err;
	osd_reqid_decode(&body, &r->reqid);
	osd_pgid_decode(&body, &r->pgid);
	dec_i32(&body, &r->result);
	dec_u32(&body, &r->flags);
	dec_u32(&body, &r->epoch);
	osd_eversion_decode(&body, &r->version);
	dec_u32(&body, &r->nops);
	if (!body.err && r->nops > OSD_OPS_MAX)
		dec_fail(&body, -EBADMSG);
	for (uint32_t i = 0; !body.err && i < r->nops; i++) {
		dec_i32(&body, &r->ops[i].rc);
		dec_u64(&body, &r->ops[i].outdata_off);
		dec_u64(&body, &r->ops[i].outdata_len);
	}
	if (body.err)
		r->nops = 0;
	return dec_finish(d, &body);
}

int osd_op_reply_check_data(const struct osd_op_reply *r, uint64_t data_len)
{
	for (uint32_t i = 0; i < r->nops; i++)
		if (!slice_ok(r->ops[i].outdata_off, r->ops[i].outdata_len, data_len))
			return -EBADMSG;
	return 0;
}

void osd_stat_encode(struct cbuf *b, const struct osd_stat *s)
{
	size_t env = enc_start(b, STAT_VERSION, 1);

	enc_u64(b, s->size);
	enc_u64(b, s->mtime_ns);
	enc_finish(b, env);
}

int osd_stat_decode(struct cdec *d, struct osd_stat *s)
{
	struct cdec body;

	if (dec_start(d, 1, &body, NULL))
		return d->err;
	dec_u64(&body, &s->size);
	dec_u64(&body, &s->mtime_ns);
	return dec_finish(d, &body);
}

void osd_kv_enc_start(struct cbuf *b, struct osd_kvenc *e, bool has_values)
{
	e->env = enc_start(b, KV_VERSION, 1);
	e->has_values = has_values;
	e->n = 0;
	enc_u8(b, has_values ? 1 : 0);
	e->count = b->len;
	enc_u32(b, 0);
}

void osd_kv_enc_add(struct cbuf *b, struct osd_kvenc *e, const void *k, uint32_t klen,
		    const void *v, uint32_t vlen)
{
	enc_bytes(b, k, klen);
	if (e->has_values)
		enc_bytes(b, v, vlen);
	e->n++;
}

void osd_kv_enc_finish(struct cbuf *b, struct osd_kvenc *e, bool more)
{
	enc_u8(b, more ? 1 : 0);
	if (b->err)
		return;
	for (int i = 0; i < 4; i++)
		b->data[e->count + i] = (uint8_t)(e->n >> (8 * i));
	enc_finish(b, e->env);
}

int osd_kv_dec_open(struct osd_kvdec *it, const void *p, size_t n)
{
	struct cdec d, body, walk;
	uint8_t hv = 0, more = 0;
	const uint8_t *x;
	uint32_t xl;

	memset(it, 0, sizeof(*it));
	cdec_init(&d, p, n);
	if (dec_start(&d, 1, &body, NULL))
		return d.err;
	dec_u8(&body, &hv);
	dec_u32(&body, &it->n);
	if (body.err || hv > 1)
		return -EBADMSG;
	dec_need(&body, it->n, hv ? 8 : 4);
	walk = body;
	for (uint32_t i = 0; i < it->n && !walk.err; i++) {
		dec_bytes(&walk, &x, &xl);
		if (hv)
			dec_bytes(&walk, &x, &xl);
	}
	dec_u8(&walk, &more);
	if (walk.err || more > 1)
		return -EBADMSG;
	dec_finish(&d, &body);
	if (d.err || d.p != d.end)
		return -EBADMSG;
	it->body = body;
	it->left = it->n;
	it->has_values = hv;
	it->more = more;
	return 0;
}

int osd_kv_dec_next(struct osd_kvdec *it, const uint8_t **k, uint32_t *klen, const uint8_t **v,
		    uint32_t *vlen)
{
	*v = NULL;
	*vlen = 0;
	if (!it->left)
		return 0;
	dec_bytes(&it->body, k, klen);
	if (it->has_values)
		dec_bytes(&it->body, v, vlen);
	if (it->body.err)
		return -EBADMSG;
	it->left--;
	return 1;
}
