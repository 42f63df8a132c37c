/* op_exec — see op_exec.h. One function per sub-op; each validates before it builds. */
#include "osd/op_exec.h"

#include <stdlib.h>

#include "osd/store.h"

bool op_req_is_write(const struct osd_op_req *r)
{
	for (uint32_t i = 0; i < r->nops; i++)
		if (osd_op_is_write(r->ops[i].op))
			return true;
	return false;
}

static const uint8_t *indata(struct op_exec *ex, const struct osd_op *o)
{
	return ex->indata + o->indata_off;
}

static int need_txn(struct op_exec *ex)
{
	if (!ex->txn)
		ex->txn = store_txn_new();
	return ex->txn ? 0 : -ENOMEM;
}

/* xattr names: 1..STORE_ATTR_NAME_MAX bytes, no NUL; copied NUL-terminated into buf. */
static int attr_name(const struct osd_op *o, char *buf)
{
	if (!o->name_len)
		return -EINVAL;
	if (o->name_len > STORE_ATTR_NAME_MAX)
		return -ENAMETOOLONG;
	if (memchr(o->name, 0, o->name_len))
		return -EINVAL;
	memcpy(buf, o->name, o->name_len);
	buf[o->name_len] = '\0';
	return 0;
}

static const char *oid(struct op_exec *ex)
{
	return ex->req->oid;
}

static size_t oidlen(struct op_exec *ex)
{
	return strlen(ex->req->oid);
}

static int do_write(struct op_exec *ex, uint64_t off, const void *data, uint64_t len)
{
	int r;

	if (len > ex->max_write)
		return -EFBIG;
	if (off > STORE_OBJECT_SIZE_CAP || len > STORE_OBJECT_SIZE_CAP - off)
		return -EFBIG;
	if ((r = need_txn(ex)))
		return r;
	r = store_txn_write(ex->txn, ex->coll, oid(ex), oidlen(ex), off, len, data);
	if (r)
		return r;
	ex->exists = true;
	if (off + len > ex->size)
		ex->size = off + len;
	return 0;
}

static int put_out(struct op_exec *ex, struct osd_op_result *res, size_t start)
{
	if (ex->out.err)
		return ex->out.err;
	res->outdata_off = start;
	res->outdata_len = ex->out.len - start;
	return 0;
}

static int do_read(struct op_exec *ex, const struct osd_op *o, struct osd_op_result *res)
{
	uint64_t len = o->len;
	size_t start = ex->out.len;
	ssize_t n;
	void *p;

	if (!ex->existed)
		return -ENOENT;
	if (o->off >= ex->old_size)
		return put_out(ex, res, start);
	if (!len || len > ex->old_size - o->off)
		len = ex->old_size - o->off;
	if (len > ex->max_write)
		return -EFBIG;
	p = cbuf_append(&ex->out, len);
	if (!p)
		return -ENOMEM;
	n = store_read(ex->store, ex->coll, oid(ex), oidlen(ex), o->off, len, p);
	if (n < 0) {
		ex->out.len = start;
		return (int)n;
	}
	ex->out.len = start + (size_t)n;
	return put_out(ex, res, start);
}

static int do_stat(struct op_exec *ex, struct osd_op_result *res)
{
	struct store_stat st = { 0 };
	struct osd_stat os;
	size_t start = ex->out.len;
	int r;

	if (!ex->exists)
		return -ENOENT;
	if (ex->existed) {
		r = store_stat(ex->store, ex->coll, oid(ex), oidlen(ex), &st);
		if (r)
			return r;
	}
	os.size = ex->size;
	os.mtime_ns = st.mtime_ns;
	osd_stat_encode(&ex->out, &os);
	return put_out(ex, res, start);
}

static int getattrs_cb(void *arg, const char *name, const void *val, size_t vlen)
{
	void **a = arg;

	osd_kv_enc_add(a[0], a[1], name, (uint32_t)strlen(name), val, (uint32_t)vlen);
	return 0;
}

static int do_getxattrs(struct op_exec *ex, struct osd_op_result *res)
{
	struct osd_kvenc e;
	size_t start = ex->out.len;
	void *a[2] = { &ex->out, &e };
	int r;

	if (!ex->existed)
		return -ENOENT;
	osd_kv_enc_start(&ex->out, &e, true);
	r = store_getattrs(ex->store, ex->coll, oid(ex), oidlen(ex), getattrs_cb, a);
	if (r < 0) {
		ex->out.len = start;
		return r;
	}
	osd_kv_enc_finish(&ex->out, &e, false);
	return put_out(ex, res, start);
}

static int do_omap_get(struct op_exec *ex, const struct osd_op *o, struct osd_op_result *res)
{
	struct osd_kvdec it;
	struct osd_kvenc e;
	struct cbuf val;
	size_t start = ex->out.len;
	const uint8_t *k, *v;
	uint32_t kl, vl;
	int r;

	if (!ex->existed)
		return -ENOENT;
	r = osd_kv_dec_open(&it, indata(ex, o), o->indata_len);
	if (r)
		return -EINVAL;
	cbuf_init(&val);
	osd_kv_enc_start(&ex->out, &e, true);
	while ((r = osd_kv_dec_next(&it, &k, &kl, &v, &vl)) > 0) {
		cbuf_reset(&val);
		r = store_omap_get(ex->store, ex->coll, oid(ex), oidlen(ex), k, kl, &val);
		if (r == -ENODATA)
			continue;
		if (r)
			break;
		osd_kv_enc_add(&ex->out, &e, k, kl, val.data, (uint32_t)val.len);
	}
	cbuf_free(&val);
	if (r < 0) {
		ex->out.len = start;
		return r == -EBADMSG ? -EINVAL : r;
	}
	osd_kv_enc_finish(&ex->out, &e, false);
	return put_out(ex, res, start);
}

static int bytes_cmp(const void *a, size_t al, const void *b, size_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);

	if (c)
		return c;
	return al < bl ? -1 : al > bl;
}

struct range_ctx {
	struct op_exec *ex;
	struct osd_kvenc *e;
	const struct osd_op *o;
	const uint8_t *prefix;
	uint32_t plen;
	uint32_t n, max;
	bool more;
};

static int range_cb(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct range_ctx *c = arg;

	if (c->o->name_len && klen == c->o->name_len && !memcmp(key, c->o->name, klen))
		return 0; /* start_after is exclusive */
	if (c->plen && (klen < c->plen || memcmp(key, c->prefix, c->plen)))
		return 1; /* past the prefix: stop */
	if (c->n == c->max) {
		c->more = true;
		return 1;
	}
	osd_kv_enc_add(&c->ex->out, c->e, key, (uint32_t)klen, val, (uint32_t)vlen);
	c->n++;
	return 0;
}

static int do_omap_range(struct op_exec *ex, const struct osd_op *o, struct osd_op_result *res)
{
	struct osd_kvenc e;
	struct range_ctx c = { ex, &e, o, indata(ex, o), (uint32_t)o->indata_len, 0, 0, false };
	size_t start = ex->out.len;
	const void *from = o->name;
	size_t flen = o->name_len;
	int r;

	if (!ex->existed)
		return -ENOENT;
	c.max = o->len && o->len < ex->list_max ? (uint32_t)o->len : ex->list_max;
	/* with a prefix, start at the prefix when start_after sorts before it */
	if (c.plen && bytes_cmp(from, flen, c.prefix, c.plen) < 0) {
		from = c.prefix;
		flen = c.plen;
	}
	osd_kv_enc_start(&ex->out, &e, true);
	r = store_omap_iterate(ex->store, ex->coll, oid(ex), oidlen(ex), flen ? from : NULL, flen,
			       NULL, 0, 0, range_cb, &c);
	if (r < 0) {
		ex->out.len = start;
		return r;
	}
	osd_kv_enc_finish(&ex->out, &e, c.more);
	return put_out(ex, res, start);
}

static int do_omap_set(struct op_exec *ex, const struct osd_op *o)
{
	struct osd_kvdec it;
	struct store_kv *kv = NULL;
	const uint8_t *k, *v;
	uint32_t kl, vl, n = 0;
	int r;

	r = osd_kv_dec_open(&it, indata(ex, o), o->indata_len);
	if (r || !it.has_values)
		return -EINVAL;
	if (!it.n)
		goto touch;
	kv = calloc(it.n, sizeof(*kv));
	if (!kv)
		return -ENOMEM;
	while ((r = osd_kv_dec_next(&it, &k, &kl, &v, &vl)) > 0) {
		if (!kl || kl > STORE_OMAP_KEY_MAX) {
			r = kl ? -ENAMETOOLONG : -EINVAL;
			goto out;
		}
		if (vl > STORE_OMAP_VALUE_MAX) {
			r = -E2BIG;
			goto out;
		}
		kv[n++] = (struct store_kv){ k, kl, v, vl };
	}
	if (r < 0) {
		r = -EINVAL;
		goto out;
	}
touch:
	if ((r = need_txn(ex)))
		goto out;
	if (n)
		r = store_txn_omap_setkeys(ex->txn, ex->coll, oid(ex), oidlen(ex), kv, n);
	if (!r) /* the store leaves mtime alone on omap changes; a client's change stamps it */
		r = store_txn_touch(ex->txn, ex->coll, oid(ex), oidlen(ex));
	if (!r)
		ex->exists = true;
out:
	free(kv);
	return r;
}

static int do_omap_rmkeys(struct op_exec *ex, const struct osd_op *o)
{
	struct osd_kvdec it;
	const void **keys = NULL;
	size_t *lens = NULL;
	const uint8_t *k, *v;
	uint32_t kl, vl, n = 0;
	int r;

	if (!ex->exists)
		return -ENOENT;
	r = osd_kv_dec_open(&it, indata(ex, o), o->indata_len);
	if (r)
		return -EINVAL;
	if (!it.n)
		return 0;
	keys = calloc(it.n, sizeof(*keys));
	lens = calloc(it.n, sizeof(*lens));
	if (!keys || !lens) {
		r = -ENOMEM;
		goto out;
	}
	while ((r = osd_kv_dec_next(&it, &k, &kl, &v, &vl)) > 0) {
		if (kl > STORE_OMAP_KEY_MAX) {
			r = -ENAMETOOLONG;
			goto out;
		}
		keys[n] = k;
		lens[n++] = kl;
	}
	if (r < 0) {
		r = -EINVAL;
		goto out;
	}
	if ((r = need_txn(ex)))
		goto out;
	r = store_txn_omap_rmkeys(ex->txn, ex->coll, oid(ex), oidlen(ex), keys, lens, n);
	if (!r)
		r = store_txn_touch(ex->txn, ex->coll, oid(ex), oidlen(ex));
out:
	free(keys);
	free(lens);
	return r;
}

static int run_one(struct op_exec *ex, const struct osd_op *o, struct osd_op_result *res)
{
	char name[STORE_ATTR_NAME_MAX + 1];
	struct cbuf tmp;
	size_t start;
	uint64_t len;
	int r;

	switch (o->op) {
	case OSD_OP_CREATE:
		if (ex->exists && (o->flags & OSD_OPF_EXCL))
			return -EEXIST;
		if ((r = need_txn(ex)))
			return r;
		r = store_txn_touch(ex->txn, ex->coll, oid(ex), oidlen(ex));
		if (!r)
			ex->exists = true;
		return r;
	case OSD_OP_WRITE:
		return do_write(ex, o->off, indata(ex, o), o->indata_len);
	case OSD_OP_WRITEFULL:
		if (o->indata_len > ex->max_write)
			return -EFBIG;
		if ((r = need_txn(ex)))
			return r;
		if (ex->exists) {
			r = store_txn_truncate(ex->txn, ex->coll, oid(ex), oidlen(ex), 0);
			if (r)
				return r;
			ex->size = 0;
		}
		return do_write(ex, 0, indata(ex, o), o->indata_len);
	case OSD_OP_APPEND:
		return do_write(ex, ex->exists ? ex->size : 0, indata(ex, o), o->indata_len);
	case OSD_OP_READ:
		return do_read(ex, o, res);
	case OSD_OP_STAT:
		return do_stat(ex, res);
	case OSD_OP_REMOVE:
		if (!ex->exists)
			return -ENOENT;
		if ((r = need_txn(ex)))
			return r;
		r = store_txn_remove(ex->txn, ex->coll, oid(ex), oidlen(ex));
		if (!r) {
			ex->exists = false;
			ex->size = 0;
		}
		return r;
	case OSD_OP_TRUNCATE:
		if (o->off > STORE_OBJECT_SIZE_CAP)
			return -EFBIG;
		if ((r = need_txn(ex)))
			return r;
		r = store_txn_truncate(ex->txn, ex->coll, oid(ex), oidlen(ex), o->off);
		if (!r) {
			ex->exists = true;
			ex->size = o->off;
		}
		return r;
	case OSD_OP_ZERO:
		if (!ex->exists)
			return -ENOENT;
		if (o->off >= ex->size || !o->len)
			return 0;
		len = o->len > ex->size - o->off ? ex->size - o->off : o->len;
		if ((r = need_txn(ex)))
			return r;
		return store_txn_zero(ex->txn, ex->coll, oid(ex), oidlen(ex), o->off, len);
	case OSD_OP_SETXATTR:
		if ((r = attr_name(o, name)))
			return r;
		if (o->indata_len > STORE_ATTR_VALUE_MAX)
			return -E2BIG;
		if ((r = need_txn(ex)))
			return r;
		r = store_txn_setattr(ex->txn, ex->coll, oid(ex), oidlen(ex), name, indata(ex, o),
				      o->indata_len);
		if (!r)
			ex->exists = true;
		return r;
	case OSD_OP_GETXATTR:
		if ((r = attr_name(o, name)))
			return r;
		if (!ex->existed)
			return -ENOENT;
		start = ex->out.len;
		r = store_getattr(ex->store, ex->coll, oid(ex), oidlen(ex), name, &ex->out);
		if (r) {
			ex->out.len = start;
			return r;
		}
		return put_out(ex, res, start);
	case OSD_OP_RMXATTR:
		if ((r = attr_name(o, name)))
			return r;
		if (!ex->exists)
			return -ENOENT;
		cbuf_init(&tmp);
		r = ex->existed ? store_getattr(ex->store, ex->coll, oid(ex), oidlen(ex), name, &tmp)
				: -ENODATA;
		cbuf_free(&tmp);
		if (r)
			return r == -ENOENT ? -ENODATA : r;
		if ((r = need_txn(ex)))
			return r;
		return store_txn_rmattr(ex->txn, ex->coll, oid(ex), oidlen(ex), name);
	case OSD_OP_GETXATTRS:
		return do_getxattrs(ex, res);
	case OSD_OP_OMAP_GET:
		return do_omap_get(ex, o, res);
	case OSD_OP_OMAP_GET_RANGE:
		return do_omap_range(ex, o, res);
	case OSD_OP_OMAP_SET:
		return do_omap_set(ex, o);
	case OSD_OP_OMAP_RMKEYS:
		return do_omap_rmkeys(ex, o);
	case OSD_OP_OMAP_CLEAR:
		if (!ex->exists)
			return -ENOENT;
		if ((r = need_txn(ex)))
			return r;
		r = store_txn_omap_clear(ex->txn, ex->coll, oid(ex), oidlen(ex));
		return r ? r : store_txn_touch(ex->txn, ex->coll, oid(ex), oidlen(ex));
	case OSD_OP_ASSERT_EXISTS:
		return ex->exists ? 0 : -ENOENT;
	case OSD_OP_LIST:
		return -EINVAL; /* only as the single sub-op of an object-less request (pg.c) */
	default:
		return -EOPNOTSUPP;
	}
}

/*
 * A request that is one READ (the common read): the object's size and its bytes come from
 * one store call (one snapshot, one metadata lookup) instead of store_stat + store_read.
 * Same results as the general path: -ENOENT for a missing object, nothing past the size,
 * len 0 = to the end, -EFBIG past max_write.
 */
static int run_single_read(struct op_exec *ex)
{
	const struct osd_op *o = &ex->req->ops[0];
	struct osd_op_result *res = &ex->res[0];
	struct store_stat st;
	ssize_t n;

	*res = (struct osd_op_result){ 0, 0, 0 };
	if (ex->nowait)
		n = store_read_stat_cached(ex->store, ex->coll, oid(ex), oidlen(ex), o->off,
					   o->len, ex->max_write, &ex->out, &st);
	else
		n = store_read_stat(ex->store, ex->coll, oid(ex), oidlen(ex), o->off, o->len,
				    ex->max_write, &ex->out, &st);
	if (n == -ENOMEM || n == -EWOULDBLOCK)
		return (int)n;
	ex->existed = ex->exists = n != -ENOENT;
	ex->old_size = ex->size = n == -ENOENT ? 0 : st.size;
	if (n >= 0) {
		res->outdata_off = 0;
		res->outdata_len = (uint64_t)n;
		return 0;
	}
	res->rc = (int32_t)n;
	if (!(o->flags & OSD_OPF_FAILOK))
		ex->result = (int32_t)n;
	return 0;
}

bool op_exec_inline_write(const struct osd_op_req *req)
{
	return req->nops == 1 &&
	       (req->ops[0].op == OSD_OP_WRITE || req->ops[0].op == OSD_OP_WRITEFULL);
}

int op_exec_run(struct op_exec *ex)
{
	const struct osd_op_req *req = ex->req;
	struct store_stat st;
	uint32_t i;
	int r;

	cbuf_init(&ex->out);
	ex->txn = NULL;
	ex->result = 0;
	ex->is_write = op_req_is_write(req);
	if (req->nops == 1 && req->ops[0].op == OSD_OP_READ)
		return run_single_read(ex);
	if (ex->nowait && !op_exec_inline_write(req))
		return -EWOULDBLOCK; /* single READs and WRITEs only are run without waiting */
	if (ex->nowait)
		r = store_stat_cached(ex->store, ex->coll, req->oid, strlen(req->oid), &st);
	else
		r = store_stat(ex->store, ex->coll, req->oid, strlen(req->oid), &st);
	if (r && r != -ENOENT)
		return r;
	ex->existed = ex->exists = (r == 0);
	ex->old_size = ex->size = r ? 0 : st.size;
	for (i = 0; i < req->nops; i++) {
		const struct osd_op *o = &req->ops[i];
		struct osd_op_result *res = &ex->res[i];

		res->rc = 0;
		res->outdata_off = res->outdata_len = 0;
		r = run_one(ex, o, res);
		if (r == -ENOMEM)
			return r;
		res->rc = r;
		if (r && !(o->flags & OSD_OPF_FAILOK)) {
			ex->result = r;
			break;
		}
	}
	if (ex->result) {
		for (i++; i < req->nops; i++)
			ex->res[i] = (struct osd_op_result){ -ECANCELED, 0, 0 };
		store_txn_free(ex->txn);
		ex->txn = NULL;
		ex->exists = ex->existed;
		ex->size = ex->old_size;
	}
	return 0;
}

void op_exec_clear(struct op_exec *ex)
{
	cbuf_free(&ex->out);
	store_txn_free(ex->txn);
	ex->txn = NULL;
}
