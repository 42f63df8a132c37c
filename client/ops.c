/*
 * ops — libcairn's object calls: building an op (struct cop), turning it into one OSD request
 * (struct creq around an objecter_op), and scattering the reply's outputs to the caller.
 *
 * Every public object call lands in cop_submit():
 *     cairn_write / cairn_aio_write / cairn_write_op_* ... --build--> struct cop
 *     cop_submit: validate, lay out the input payload (iovecs over caller memory, no copy),
 *                 fill osd_op_req.ops, objecter_submit
 *     creq_finish (objecter thread, once): per step: prval, outputs (read bytes, stat,
 *                 values, kv lists), then the completion
 * Simple synchronous calls keep the cop on the caller's stack and wait (cop_run); simple
 * asynchronous calls put it on the heap and free it in creq_finish; compound ops use the
 * caller's builder, which must outlive the completion.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client/client_int.h"
#include "common/config.h"
#include "common/osdmap.h"

struct creq {
	struct objecter_op op; /* first: creq_finish casts back */
	struct cop *c;
	bool own_cop;          /* c was malloc'd for this request */
	cairn_completion_t *comp;
	struct iovec iov[OSD_OPS_MAX];
};

/* ---- cop ------------------------------------------------------------------------------ */

void cop_init(struct cop *c)
{
	c->nsteps = 0;
	c->err = 0;
	c->ret_step = -1;
}

void cop_free(struct cop *c)
{
	for (int i = 0; i < c->nsteps; i++) {
		free(c->steps[i].name);
		free(c->steps[i].owned_in);
	}
	c->nsteps = 0;
}

struct cop_step *cop_add(struct cop *c, uint16_t code, const void *name, size_t name_len)
{
	struct cop_step *st;

	if (c->err)
		return NULL;
	if (c->nsteps >= OSD_OPS_MAX) {
		c->err = -E2BIG;
		return NULL;
	}
	if (name_len > OSD_OPNAME_MAX) {
		c->err = -ENAMETOOLONG;
		return NULL;
	}
	st = &c->steps[c->nsteps];
	memset(st, 0, sizeof(*st));
	if (name) {
		st->name = malloc(name_len + 1);
		if (!st->name) {
			c->err = -ENOMEM;
			return NULL;
		}
		memcpy(st->name, name, name_len);
		st->name[name_len] = '\0';
		st->op.name = (const uint8_t *)st->name;
		st->op.name_len = (uint32_t)name_len;
	}
	st->op.op = code;
	c->nsteps++;
	return st;
}

static struct cop *cop_new(void)
{
	struct cop *c = malloc(sizeof(*c));

	if (c)
		cop_init(c);
	return c;
}

/* ---- request completion ----------------------------------------------------------------- */

/* Delivers one step's output; returns the step's result (rc, or an output error) and the
 * output length in *len. */
static int step_output(struct cop_step *st, const uint8_t *out, uint64_t olen, uint64_t *len)
{
	struct cdec d;
	struct osd_stat sst;
	int r;

	*len = 0;
	switch (st->out) {
	case COUT_NONE:
		return 0;
	case COUT_READ: {
		size_t n = olen < st->ocap ? (size_t)olen : st->ocap;
		if (n)
			memcpy(st->obuf, out, n);
		if (st->olen)
			*st->olen = n;
		*len = n;
		return 0;
	}
	case COUT_STAT:
		cdec_init(&d, out, olen);
		r = osd_stat_decode(&d, &sst);
		if (r < 0)
			return r;
		if (st->psize)
			*st->psize = sst.size;
		if (st->pmtime)
			*st->pmtime = sst.mtime_ns;
		return 0;
	case COUT_VALUE:
		if (olen > st->ocap)
			return -ERANGE;
		if (olen)
			memcpy(st->obuf, out, olen);
		if (st->olen)
			*st->olen = olen;
		*len = olen;
		return 0;
	case COUT_KVS:
		return kvs_from_list(out, olen, st->pkvs, st->pmore);
	case COUT_VALKVS:
		return kvs_single(st->name ? st->name : "", out, olen, st->pkvs);
	}
	return 0;
}

static void creq_finish(struct objecter_op *op, int result, const struct osd_op_reply *rep,
			const uint8_t *data, uint64_t dlen)
{
	struct creq *q = (struct creq *)op;
	struct cop *c = q->c;
	cairn_completion_t *comp = q->comp;
	int ret = result;

	(void)dlen; /* slices were validated against it (osd_op_reply_check_data) */
	for (int i = 0; i < c->nsteps; i++) {
		struct cop_step *st = &c->steps[i];
		const uint8_t *out = NULL;
		uint64_t olen = 0, len = 0;
		int rc = result;

		if (rep && (uint32_t)i < rep->nops) {
			rc = rep->ops[i].rc;
			out = data ? data + rep->ops[i].outdata_off : NULL;
			olen = data ? rep->ops[i].outdata_len : 0;
		}
		if (rc >= 0 && result >= 0) {
			rc = step_output(st, out, olen, &len);
			if (rc < 0 && ret >= 0)
				ret = rc;
			else if (i == c->ret_step && ret >= 0)
				ret = len > (uint64_t)0x7fffffff ? 0x7fffffff : (int)len;
		}
		if (st->prval)
			*st->prval = rc;
	}
	if (q->own_cop) {
		cop_free(c);
		free(c);
	}
	free(q);
	completion_finish(comp, ret);
}

static int submit(cairn_ioctx_t *io, const char *oid, int64_t pg_ps, struct cop *c,
		  cairn_completion_t *comp, bool own)
{
	struct creq *q;
	uint64_t off = 0;
	int niov = 0, r;

	if (!io || !c || !comp)
		return -EINVAL;
	if (c->err)
		return c->err;
	if (c->nsteps == 0)
		return -EINVAL;
	if (pg_ps < 0) {
		size_t l;
		if (!oid)
			return -EINVAL;
		l = strlen(oid);
		if (l == 0)
			return -EINVAL;
		if (l > CAIRN_MAX_OID_LEN || l > OSD_OID_MAX)
			return -ENAMETOOLONG;
	}
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->c = c;
	q->own_cop = own;
	q->comp = comp;
	if (pg_ps < 0) {
		strcpy(q->op.req.oid, oid);
	} else {
		q->op.pg_target = true;
		q->op.req.pgid.pool = io->pool;
		q->op.req.pgid.ps = (uint32_t)pg_ps;
	}
	q->op.pool = io->pool;
	q->op.req.nops = (uint32_t)c->nsteps;
	for (int i = 0; i < c->nsteps; i++) {
		struct cop_step *st = &c->steps[i];
		q->op.req.ops[i] = st->op;
		if (st->inlen) {
			q->op.req.ops[i].indata_off = off;
			q->op.req.ops[i].indata_len = st->inlen;
			q->iov[niov].iov_base = (void *)st->in;
			q->iov[niov].iov_len = st->inlen;
			niov++;
			off += st->inlen;
		} else {
			q->op.req.ops[i].indata_off = 0;
			q->op.req.ops[i].indata_len = 0;
		}
	}
	q->op.iov = niov ? q->iov : NULL;
	q->op.iovcnt = niov;
	q->op.data_len = off;
	q->op.timeout_ns = io->timeout_ns;
	q->op.finish = creq_finish;
	q->op.priv = q;
	completion_get(comp);
	r = objecter_submit(io->cl->objecter, &q->op);
	if (r < 0) {
		completion_put(comp);
		free(q);
		return r;
	}
	return 0;
}

int cop_submit(cairn_ioctx_t *io, const char *oid, int64_t pg_ps, struct cop *c,
	       cairn_completion_t *comp)
{
	return submit(io, oid, pg_ps, c, comp, false);
}

/* Like cop_submit, but the request owns (and frees) the heap cop c, also on failure. */
static int cop_submit_owned(cairn_ioctx_t *io, const char *oid, struct cop *c,
			    cairn_completion_t *comp)
{
	int r;

	if (!c)
		return -ENOMEM;
	r = submit(io, oid, -1, c, comp, true);
	if (r < 0) {
		cop_free(c);
		free(c);
	}
	return r;
}

int cop_run(cairn_ioctx_t *io, const char *oid, int64_t pg_ps, struct cop *c)
{
	cairn_completion_t *comp;
	int r;

	if (objecter_in_callback())
		return -EDEADLK; /* a synchronous call inside a completion callback */
	r = cairn_aio_create_completion(NULL, NULL, &comp);
	if (r < 0)
		return r;
	r = cop_submit(io, oid, pg_ps, c, comp);
	if (r == 0) {
		cairn_aio_wait_for_complete(comp);
		r = cairn_aio_get_return_value(comp);
	}
	cairn_aio_release(comp);
	return r;
}

/* ---- building steps --------------------------------------------------------------------- */

static void add_data(struct cop *c, uint16_t code, const void *buf, size_t len, uint64_t off,
		     bool copy)
{
	struct cop_step *st = cop_add(c, code, NULL, 0);

	if (!st)
		return;
	st->op.off = off;
	st->op.len = len;
	if (!len)
		return;
	if (copy) {
		st->owned_in = malloc(len);
		if (!st->owned_in) {
			c->err = -ENOMEM;
			return;
		}
		memcpy(st->owned_in, buf, len);
		st->in = st->owned_in;
	} else {
		st->in = buf;
	}
	st->inlen = len;
}

static void add_named(struct cop *c, uint16_t code, const char *name, const void *val, size_t len,
		      bool copy)
{
	struct cop_step *st;

	if (!name) {
		if (!c->err)
			c->err = -EINVAL;
		return;
	}
	st = cop_add(c, code, name, strlen(name));
	if (!st || !len)
		return;
	if (copy) {
		st->owned_in = malloc(len);
		if (!st->owned_in) {
			c->err = -ENOMEM;
			return;
		}
		memcpy(st->owned_in, val, len);
		st->in = st->owned_in;
	} else {
		st->in = val;
	}
	st->inlen = len;
}

/* A step whose input is an encoded key list (vals NULL) or key/value list. */
static struct cop_step *add_kvlist(struct cop *c, uint16_t code, const char *const *keys,
				   const void *const *vals, const size_t *lens, size_t n,
				   bool has_values)
{
	struct cop_step *st;
	struct osd_kvenc e;
	struct cbuf b;
	size_t len;

	if (n && !keys) {
		if (!c->err)
			c->err = -EINVAL;
		return NULL;
	}
	st = cop_add(c, code, NULL, 0);
	if (!st)
		return NULL;
	cbuf_init(&b);
	osd_kv_enc_start(&b, &e, has_values);
	for (size_t i = 0; i < n; i++) {
		size_t kl = keys[i] ? strlen(keys[i]) : 0;
		if (!keys[i] || kl > OSD_OPNAME_MAX || (has_values && lens[i] > UINT32_MAX)) {
			cbuf_free(&b);
			c->err = -EINVAL;
			return NULL;
		}
		osd_kv_enc_add(&b, &e, keys[i], (uint32_t)kl, has_values ? vals[i] : NULL,
			       has_values ? (uint32_t)lens[i] : 0);
	}
	osd_kv_enc_finish(&b, &e, false);
	if (b.err) {
		c->err = b.err;
		cbuf_free(&b);
		return NULL;
	}
	st->owned_in = cbuf_steal(&b, &len);
	st->in = st->owned_in;
	st->inlen = len;
	return st;
}

static void add_read(struct cop *c, uint64_t off, size_t len, void *buf, size_t *bytes_read)
{
	struct cop_step *st;

	if (len == 0) {
		/* "read nothing" still says whether the object exists */
		cop_add(c, OSD_OP_ASSERT_EXISTS, NULL, 0);
		if (bytes_read)
			*bytes_read = 0;
		return;
	}
	st = cop_add(c, OSD_OP_READ, NULL, 0);
	if (!st)
		return;
	st->op.off = off;
	st->op.len = len;
	st->out = COUT_READ;
	st->obuf = buf;
	st->ocap = len;
	st->olen = bytes_read;
}

static void add_stat(struct cop *c, uint64_t *size, uint64_t *mtime)
{
	struct cop_step *st = cop_add(c, OSD_OP_STAT, NULL, 0);

	if (!st)
		return;
	st->out = COUT_STAT;
	st->psize = size;
	st->pmtime = mtime;
}

/* ---- synchronous simple calls ---------------------------------------------------------- */

#define SYNC_BEGIN(c) struct cop c; cop_init(&c)
static int sync_end(cairn_ioctx_t *io, const char *oid, struct cop *c)
{
	int r = cop_run(io, oid, -1, c);

	cop_free(c);
	return r;
}

int cairn_obj_create(cairn_ioctx_t *io, const char *oid, int exclusive)
{
	SYNC_BEGIN(c);
	struct cop_step *st = cop_add(&c, OSD_OP_CREATE, NULL, 0);

	if (st && exclusive)
		st->op.flags |= OSD_OPF_EXCL;
	return sync_end(io, oid, &c);
}

int cairn_write(cairn_ioctx_t *io, const char *oid, const void *buf, size_t len, uint64_t off)
{
	SYNC_BEGIN(c);
	add_data(&c, OSD_OP_WRITE, buf, len, off, false);
	return sync_end(io, oid, &c);
}

int cairn_write_full(cairn_ioctx_t *io, const char *oid, const void *buf, size_t len)
{
	SYNC_BEGIN(c);
	add_data(&c, OSD_OP_WRITEFULL, buf, len, 0, false);
	return sync_end(io, oid, &c);
}

int cairn_append(cairn_ioctx_t *io, const char *oid, const void *buf, size_t len)
{
	SYNC_BEGIN(c);
	add_data(&c, OSD_OP_APPEND, buf, len, 0, false);
	return sync_end(io, oid, &c);
}

int cairn_read(cairn_ioctx_t *io, const char *oid, void *buf, size_t len, uint64_t off)
{
	SYNC_BEGIN(c);
	if (len > 0x7fffffff)
		len = 0x7fffffff;
	add_read(&c, off, len, buf, NULL);
	c.ret_step = 0;
	return sync_end(io, oid, &c);
}

int cairn_stat(cairn_ioctx_t *io, const char *oid, uint64_t *size, uint64_t *mtime_ns)
{
	SYNC_BEGIN(c);
	add_stat(&c, size, mtime_ns);
	return sync_end(io, oid, &c);
}

int cairn_remove(cairn_ioctx_t *io, const char *oid)
{
	SYNC_BEGIN(c);
	cop_add(&c, OSD_OP_REMOVE, NULL, 0);
	return sync_end(io, oid, &c);
}

int cairn_trunc(cairn_ioctx_t *io, const char *oid, uint64_t size)
{
	SYNC_BEGIN(c);
	struct cop_step *st = cop_add(&c, OSD_OP_TRUNCATE, NULL, 0);

	if (st)
		st->op.off = size;
	return sync_end(io, oid, &c);
}

int cairn_zero(cairn_ioctx_t *io, const char *oid, uint64_t off, uint64_t len)
{
	SYNC_BEGIN(c);
	struct cop_step *st = cop_add(&c, OSD_OP_ZERO, NULL, 0);

	if (st) {
		st->op.off = off;
		st->op.len = len;
	}
	return sync_end(io, oid, &c);
}

int cairn_setxattr(cairn_ioctx_t *io, const char *oid, const char *name, const void *val,
		   size_t len)
{
	SYNC_BEGIN(c);
	add_named(&c, OSD_OP_SETXATTR, name, val, len, false);
	return sync_end(io, oid, &c);
}

int cairn_getxattr(cairn_ioctx_t *io, const char *oid, const char *name, void *buf, size_t cap)
{
	SYNC_BEGIN(c);
	struct cop_step *st;

	add_named(&c, OSD_OP_GETXATTR, name, NULL, 0, false);
	st = c.nsteps ? &c.steps[0] : NULL;
	if (st) {
		st->out = COUT_VALUE;
		st->obuf = buf;
		st->ocap = cap;
	}
	c.ret_step = 0;
	return sync_end(io, oid, &c);
}

int cairn_rmxattr(cairn_ioctx_t *io, const char *oid, const char *name)
{
	SYNC_BEGIN(c);
	add_named(&c, OSD_OP_RMXATTR, name, NULL, 0, false);
	return sync_end(io, oid, &c);
}

int cairn_getxattrs(cairn_ioctx_t *io, const char *oid, cairn_kvs_t **out)
{
	SYNC_BEGIN(c);
	struct cop_step *st = cop_add(&c, OSD_OP_GETXATTRS, NULL, 0);

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (st) {
		st->out = COUT_KVS;
		st->pkvs = out;
	}
	return sync_end(io, oid, &c);
}

int cairn_omap_set(cairn_ioctx_t *io, const char *oid, const char *const *keys,
		   const void *const *vals, const size_t *lens, size_t n)
{
	SYNC_BEGIN(c);
	if (n && (!vals || !lens))
		return -EINVAL;
	add_kvlist(&c, OSD_OP_OMAP_SET, keys, vals, lens, n, true);
	return sync_end(io, oid, &c);
}

int cairn_omap_get(cairn_ioctx_t *io, const char *oid, const char *const *keys, size_t n,
		   cairn_kvs_t **out)
{
	SYNC_BEGIN(c);
	struct cop_step *st;

	if (!out)
		return -EINVAL;
	*out = NULL;
	st = add_kvlist(&c, OSD_OP_OMAP_GET, keys, NULL, NULL, n, false);
	if (st) {
		st->out = COUT_KVS;
		st->pkvs = out;
	}
	return sync_end(io, oid, &c);
}

int cairn_omap_rm_keys(cairn_ioctx_t *io, const char *oid, const char *const *keys, size_t n)
{
	SYNC_BEGIN(c);
	add_kvlist(&c, OSD_OP_OMAP_RMKEYS, keys, NULL, NULL, n, false);
	return sync_end(io, oid, &c);
}

int cairn_omap_list(cairn_ioctx_t *io, const char *oid, const char *start_after, size_t max,
		    cairn_kvs_t **out, int *more)
{
	SYNC_BEGIN(c);
	const char *sa = start_after ? start_after : "";
	struct cop_step *st;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (more)
		*more = 0;
	st = cop_add(&c, OSD_OP_OMAP_GET_RANGE, sa, strlen(sa));
	if (st) {
		st->op.len = max;
		st->out = COUT_KVS;
		st->pkvs = out;
		st->pmore = more;
	}
	return sync_end(io, oid, &c);
}

/* ---- asynchronous simple calls ----------------------------------------------------------- */

static int aio_data(cairn_ioctx_t *io, const char *oid, cairn_completion_t *comp, uint16_t code,
		    const void *buf, size_t len, uint64_t off)
{
	struct cop *c = cop_new();

	if (c)
		add_data(c, code, buf, len, off, false);
	return cop_submit_owned(io, oid, c, comp);
}

int cairn_aio_write(cairn_ioctx_t *io, const char *oid, cairn_completion_t *c, const void *buf,
		    size_t len, uint64_t off)
{
	return aio_data(io, oid, c, OSD_OP_WRITE, buf, len, off);
}

int cairn_aio_write_full(cairn_ioctx_t *io, const char *oid, cairn_completion_t *c,
			 const void *buf, size_t len)
{
	return aio_data(io, oid, c, OSD_OP_WRITEFULL, buf, len, 0);
}

int cairn_aio_append(cairn_ioctx_t *io, const char *oid, cairn_completion_t *c, const void *buf,
		     size_t len)
{
	return aio_data(io, oid, c, OSD_OP_APPEND, buf, len, 0);
}

int cairn_aio_read(cairn_ioctx_t *io, const char *oid, cairn_completion_t *comp, void *buf,
		   size_t len, uint64_t off)
{
	struct cop *c = cop_new();

	if (c) {
		if (len > 0x7fffffff)
			len = 0x7fffffff;
		add_read(c, off, len, buf, NULL);
		c->ret_step = 0;
	}
	return cop_submit_owned(io, oid, c, comp);
}

int cairn_aio_stat(cairn_ioctx_t *io, const char *oid, cairn_completion_t *comp, uint64_t *size,
		   uint64_t *mtime_ns)
{
	struct cop *c = cop_new();

	if (c)
		add_stat(c, size, mtime_ns);
	return cop_submit_owned(io, oid, c, comp);
}

int cairn_aio_remove(cairn_ioctx_t *io, const char *oid, cairn_completion_t *comp)
{
	struct cop *c = cop_new();

	if (c)
		cop_add(c, OSD_OP_REMOVE, NULL, 0);
	return cop_submit_owned(io, oid, c, comp);
}

/* ---- compound ops ----------------------------------------------------------------------- */

cairn_write_op_t *cairn_write_op_create(void)
{
	cairn_write_op_t *op = malloc(sizeof(*op));

	if (op)
		cop_init(&op->c);
	return op;
}

void cairn_write_op_release(cairn_write_op_t *op)
{
	if (!op)
		return;
	cop_free(&op->c);
	free(op);
}

void cairn_write_op_assert_exists(cairn_write_op_t *op)
{
	cop_add(&op->c, OSD_OP_ASSERT_EXISTS, NULL, 0);
}

void cairn_write_op_create_object(cairn_write_op_t *op, int exclusive)
{
	struct cop_step *st = cop_add(&op->c, OSD_OP_CREATE, NULL, 0);

	if (st && exclusive)
		st->op.flags |= OSD_OPF_EXCL;
}

void cairn_write_op_write(cairn_write_op_t *op, const void *buf, size_t len, uint64_t off)
{
	add_data(&op->c, OSD_OP_WRITE, buf, len, off, true);
}

void cairn_write_op_write_full(cairn_write_op_t *op, const void *buf, size_t len)
{
	add_data(&op->c, OSD_OP_WRITEFULL, buf, len, 0, true);
}

void cairn_write_op_append(cairn_write_op_t *op, const void *buf, size_t len)
{
	add_data(&op->c, OSD_OP_APPEND, buf, len, 0, true);
}

void cairn_write_op_remove(cairn_write_op_t *op) { cop_add(&op->c, OSD_OP_REMOVE, NULL, 0); }

void cairn_write_op_truncate(cairn_write_op_t *op, uint64_t size)
{
	struct cop_step *st = cop_add(&op->c, OSD_OP_TRUNCATE, NULL, 0);

	if (st)
		st->op.off = size;
}

void cairn_write_op_zero(cairn_write_op_t *op, uint64_t off, uint64_t len)
{
	struct cop_step *st = cop_add(&op->c, OSD_OP_ZERO, NULL, 0);

	if (st) {
		st->op.off = off;
		st->op.len = len;
	}
}

void cairn_write_op_setxattr(cairn_write_op_t *op, const char *name, const void *val, size_t len)
{
	add_named(&op->c, OSD_OP_SETXATTR, name, val, len, true);
}

void cairn_write_op_rmxattr(cairn_write_op_t *op, const char *name)
{
	add_named(&op->c, OSD_OP_RMXATTR, name, NULL, 0, true);
}

void cairn_write_op_omap_set(cairn_write_op_t *op, const char *const *keys,
			     const void *const *vals, const size_t *lens, size_t n)
{
	if (n && (!vals || !lens)) {
		if (!op->c.err)
			op->c.err = -EINVAL;
		return;
	}
	add_kvlist(&op->c, OSD_OP_OMAP_SET, keys, vals, lens, n, true);
}

void cairn_write_op_omap_rm_keys(cairn_write_op_t *op, const char *const *keys, size_t n)
{
	add_kvlist(&op->c, OSD_OP_OMAP_RMKEYS, keys, NULL, NULL, n, false);
}

void cairn_write_op_omap_clear(cairn_write_op_t *op) { cop_add(&op->c, OSD_OP_OMAP_CLEAR, NULL, 0); }

void cairn_write_op_set_prval(cairn_write_op_t *op, int *prval)
{
	if (op->c.nsteps)
		op->c.steps[op->c.nsteps - 1].prval = prval;
}

int cairn_write_op_operate(cairn_write_op_t *op, cairn_ioctx_t *io, const char *oid)
{
	if (!op)
		return -EINVAL;
	return cop_run(io, oid, -1, &op->c);
}

int cairn_aio_write_op_operate(cairn_write_op_t *op, cairn_ioctx_t *io, cairn_completion_t *c,
			       const char *oid)
{
	if (!op)
		return -EINVAL;
	return cop_submit(io, oid, -1, &op->c, c);
}

cairn_read_op_t *cairn_read_op_create(void)
{
	cairn_read_op_t *op = malloc(sizeof(*op));

	if (op)
		cop_init(&op->c);
	return op;
}

void cairn_read_op_release(cairn_read_op_t *op)
{
	if (!op)
		return;
	cop_free(&op->c);
	free(op);
}

static void set_prval(struct cop *c, int *prval)
{
	if (c->nsteps && !c->err)
		c->steps[c->nsteps - 1].prval = prval;
}

void cairn_read_op_assert_exists(cairn_read_op_t *op)
{
	cop_add(&op->c, OSD_OP_ASSERT_EXISTS, NULL, 0);
}

void cairn_read_op_stat(cairn_read_op_t *op, uint64_t *size, uint64_t *mtime_ns, int *prval)
{
	int n = op->c.nsteps;

	add_stat(&op->c, size, mtime_ns);
	if (op->c.nsteps > n)
		set_prval(&op->c, prval);
}

void cairn_read_op_read(cairn_read_op_t *op, uint64_t off, size_t len, void *buf,
			size_t *bytes_read, int *prval)
{
	int n = op->c.nsteps;

	add_read(&op->c, off, len, buf, bytes_read);
	if (op->c.nsteps > n)
		set_prval(&op->c, prval);
}

void cairn_read_op_getxattr(cairn_read_op_t *op, const char *name, cairn_kvs_t **out,
			    int *prval)
{
	int n = op->c.nsteps;

	if (out)
		*out = NULL;
	add_named(&op->c, OSD_OP_GETXATTR, name, NULL, 0, true);
	if (op->c.nsteps > n) {
		struct cop_step *st = &op->c.steps[n];
		st->out = out ? COUT_VALKVS : COUT_NONE;
		st->pkvs = out;
		st->prval = prval;
	}
}

void cairn_read_op_getxattrs(cairn_read_op_t *op, cairn_kvs_t **out, int *prval)
{
	struct cop_step *st = cop_add(&op->c, OSD_OP_GETXATTRS, NULL, 0);

	if (out)
		*out = NULL;
	if (st) {
		st->out = out ? COUT_KVS : COUT_NONE;
		st->pkvs = out;
		st->prval = prval;
	}
}

void cairn_read_op_omap_get_vals_by_keys(cairn_read_op_t *op, const char *const *keys,
					 size_t n, cairn_kvs_t **out, int *prval)
{
	struct cop_step *st = add_kvlist(&op->c, OSD_OP_OMAP_GET, keys, NULL, NULL, n, false);

	if (out)
		*out = NULL;
	if (st) {
		st->out = out ? COUT_KVS : COUT_NONE;
		st->pkvs = out;
		st->prval = prval;
	}
}

void cairn_read_op_omap_get_vals(cairn_read_op_t *op, const char *start_after, size_t max,
				 cairn_kvs_t **out, int *more, int *prval)
{
	const char *sa = start_after ? start_after : "";
	struct cop_step *st = cop_add(&op->c, OSD_OP_OMAP_GET_RANGE, sa, strlen(sa));

	if (out)
		*out = NULL;
	if (more)
		*more = 0;
	if (st) {
		st->op.len = max;
		st->out = out ? COUT_KVS : COUT_NONE;
		st->pkvs = out;
		st->pmore = more;
		st->prval = prval;
	}
}

int cairn_read_op_operate(cairn_read_op_t *op, cairn_ioctx_t *io, const char *oid)
{
	if (!op)
		return -EINVAL;
	return cop_run(io, oid, -1, &op->c);
}

int cairn_aio_read_op_operate(cairn_read_op_t *op, cairn_ioctx_t *io, cairn_completion_t *c,
			      const char *oid)
{
	if (!op)
		return -EINVAL;
	return cop_submit(io, oid, -1, &op->c, c);
}

/* ---- listing --------------------------------------------------------------------------- */

struct cairn_list {
	cairn_ioctx_t *io;
	uint32_t pg_num;
	uint32_t ps;          /* PG being walked */
	char *cursor;         /* last name returned from this PG ("" = start) */
	cairn_kvs_t *batch;
	size_t idx;
	int more;             /* the PG has names after the batch */
	bool started;         /* a batch of this PG was fetched */
	size_t batch_max;
};

int cairn_list_open(cairn_ioctx_t *io, cairn_list_t **out)
{
	struct osdmap *m;
	const struct pool_info *p;
	cairn_list_t *l;

	if (!io || !out)
		return -EINVAL;
	m = objecter_get_map(io->cl->objecter);
	if (!m)
		return -ENOTCONN;
	p = osdmap_pool(m, io->pool);
	if (!p) {
		osdmap_put(m);
		return -ENOENT;
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		osdmap_put(m);
		return -ENOMEM;
	}
	l->io = io;
	l->pg_num = p->pg_num;
	osdmap_put(m);
	l->cursor = strdup("");
	l->batch_max = (size_t)conf_int(io->cl->conf, "client_list_batch");
	if (!l->cursor) {
		free(l);
		return -ENOMEM;
	}
	*out = l;
	return 0;
}

static int list_fetch(cairn_list_t *l)
{
	SYNC_BEGIN(c);
	struct cop_step *st;
	int r;

	cairn_kvs_free(l->batch);
	l->batch = NULL;
	l->idx = 0;
	l->more = 0;
	st = cop_add(&c, OSD_OP_LIST, l->cursor, strlen(l->cursor));
	if (st) {
		st->op.len = l->batch_max;
		st->out = COUT_KVS;
		st->pkvs = &l->batch;
		st->pmore = &l->more;
	}
	r = cop_run(l->io, NULL, l->ps, &c);
	cop_free(&c);
	l->started = true;
	return r;
}

int cairn_list_next(cairn_list_t *l, const char **oid)
{
	int r;

	if (!l || !oid)
		return -EINVAL;
	for (;;) {
		if (l->batch && l->idx < cairn_kvs_count(l->batch)) {
			const char *name = cairn_kvs_key(l->batch, l->idx++);
			char *nc = strdup(name);
			if (!nc)
				return -ENOMEM;
			free(l->cursor);
			l->cursor = nc;
			*oid = name;
			return 0;
		}
		if (l->started && !l->more) {
			/* this PG is done: the next one */
			l->ps++;
			l->started = false;
			cairn_kvs_free(l->batch);
			l->batch = NULL;
			l->cursor[0] = '\0';
		}
		if (l->ps >= l->pg_num)
			return -ENOENT;
		r = list_fetch(l);
		if (r < 0)
			return r;
	}
}

void cairn_list_close(cairn_list_t *l)
{
	if (!l)
		return;
	cairn_kvs_free(l->batch);
	free(l->cursor);
	free(l);
}
