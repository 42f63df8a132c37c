/*
 * store_txn — building, encoding and validating store transactions.
 *
 * A transaction is its ops encoded back to back in one buffer (the same bytes whether it is
 * applied locally or shipped to a replica), so building copies each argument exactly once
 * and applying decodes zero-copy. Every op is validated by store_op_next() on the way in
 * (store_txn_decode) and again when applied: a transaction never reaches RocksDB with an
 * op that is out of bounds.
 *
 * Op encoding: u8 code | str coll | [bytes oid | per-op fields] (see store_op_next).
 * Wire form: envelope v1 { u32 nops | bytes ops }.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "osd/store_int.h"

#define TXN_VERSION 1
#define TXN_COMPAT 1

struct store_txn *store_txn_new(void)
{
	struct store_txn *t = calloc(1, sizeof(*t));

	if (t) {
		cbuf_init(&t->ops);
		cbuf_init(&t->freed);
	}
	return t;
}

void store_txn_free(struct store_txn *t)
{
	if (!t)
		return;
	if (t->ops_release)
		t->ops_release(t->ops_arg);
	else
		cbuf_free(&t->ops);
	cbuf_free(&t->freed);
	free(t);
}

void store_txn_reset(struct store_txn *t)
{
	if (t->ops_release) {
		t->ops_release(t->ops_arg);
		t->ops_release = NULL;
		cbuf_init(&t->ops);
	}
	cbuf_reset(&t->ops);
	t->nops = 0;
	t->err = 0;
}

unsigned store_txn_num_ops(const struct store_txn *t) { return t->nops; }
size_t store_txn_bytes(const struct store_txn *t) { return t->ops.len + 16; }

bool store_coll_name_valid(const char *c, size_t len)
{
	if (len == 0 || len > STORE_COLL_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = c[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-'))
			return false;
	}
	return true;
}

/* ---- builders --------------------------------------------------------------------------- */

static int check_coll(const char *coll)
{
	if (!coll || !store_coll_name_valid(coll, strnlen(coll, STORE_COLL_NAME_MAX + 1)))
		return -EINVAL;
	return 0;
}

static int check_oid(const void *oid, size_t len)
{
	if (!oid && len)
		return -EINVAL;
	if (len > STORE_NAME_MAX)
		return -ENAMETOOLONG;
	return 0;
}

static int check_range(uint64_t off, uint64_t len)
{
	if (off > STORE_OBJECT_SIZE_CAP || len > STORE_OBJECT_SIZE_CAP - off)
		return -EFBIG;
	return 0;
}

static int check_attr_name(const char *name)
{
	size_t n;

	if (!name)
		return -EINVAL;
	n = strnlen(name, STORE_ATTR_NAME_MAX + 1);
	if (n == 0)
		return -EINVAL;
	if (n > STORE_ATTR_NAME_MAX)
		return -ENAMETOOLONG;
	return 0;
}

/* Records err as the sticky error and undoes a partly encoded op. */
static int op_fail(struct store_txn *t, size_t mark, int err)
{
	t->ops.len = mark;
	t->ops.err = 0;
	if (!t->err)
		t->err = err;
	return err;
}

static int op_end(struct store_txn *t, size_t mark)
{
	if (t->ops.err)
		return op_fail(t, mark, t->ops.err);
	t->nops++;
	return 0;
}

/* Starts an object op: code, coll, oid. Returns the mark or sets *err. */
static size_t op_begin(struct store_txn *t, uint8_t code, const char *coll, const void *oid,
		       size_t oidlen, int *err)
{
	size_t mark = t->ops.len;

	*err = t->ops_release ? -EBUSY : check_coll(coll);
	if (!*err)
		*err = check_oid(oid, oidlen);
	if (*err)
		return mark;
	enc_u8(&t->ops, code);
	enc_str(&t->ops, coll);
	enc_bytes(&t->ops, oid, (uint32_t)oidlen);
	return mark;
}

static int coll_op(struct store_txn *t, uint8_t code, const char *coll)
{
	size_t mark = t->ops.len;
	int err = t->ops_release ? -EBUSY : check_coll(coll);

	if (err)
		return op_fail(t, mark, err);
	enc_u8(&t->ops, code);
	enc_str(&t->ops, coll);
	return op_end(t, mark);
}

int store_txn_coll_create(struct store_txn *t, const char *coll)
{
	return coll_op(t, STORE_OP_COLL_CREATE, coll);
}

int store_txn_coll_remove(struct store_txn *t, const char *coll)
{
	return coll_op(t, STORE_OP_COLL_REMOVE, coll);
}

static int simple_op(struct store_txn *t, uint8_t code, const char *coll, const void *oid,
		     size_t oidlen)
{
	int err;
	size_t mark = op_begin(t, code, coll, oid, oidlen, &err);

	if (err)
		return op_fail(t, mark, err);
	return op_end(t, mark);
}

int store_txn_touch(struct store_txn *t, const char *coll, const void *oid, size_t oidlen)
{
	return simple_op(t, STORE_OP_TOUCH, coll, oid, oidlen);
}

int store_txn_remove(struct store_txn *t, const char *coll, const void *oid, size_t oidlen)
{
	return simple_op(t, STORE_OP_REMOVE, coll, oid, oidlen);
}

int store_txn_omap_clear(struct store_txn *t, const char *coll, const void *oid, size_t oidlen)
{
	return simple_op(t, STORE_OP_OMAP_CLEAR, coll, oid, oidlen);
}

int store_txn_write(struct store_txn *t, const char *coll, const void *oid, size_t oidlen,
		    uint64_t off, uint64_t len, const void *data)
{
	int err;
	size_t mark = op_begin(t, STORE_OP_WRITE, coll, oid, oidlen, &err);

	if (!err && len > STORE_WRITE_MAX)
		err = -E2BIG;
	if (!err)
		err = check_range(off, len);
	if (!err && len && !data)
		err = -EINVAL;
	if (err)
		return op_fail(t, mark, err);
	enc_u64(&t->ops, off);
	enc_bytes(&t->ops, data, (uint32_t)len);
	return op_end(t, mark);
}

int store_txn_zero(struct store_txn *t, const char *coll, const void *oid, size_t oidlen,
		   uint64_t off, uint64_t len)
{
	int err;
	size_t mark = op_begin(t, STORE_OP_ZERO, coll, oid, oidlen, &err);

	if (!err)
		err = check_range(off, len);
	if (err)
		return op_fail(t, mark, err);
	enc_u64(&t->ops, off);
	enc_u64(&t->ops, len);
	return op_end(t, mark);
}

int store_txn_truncate(struct store_txn *t, const char *coll, const void *oid, size_t oidlen,
		       uint64_t size)
{
	int err;
	size_t mark = op_begin(t, STORE_OP_TRUNCATE, coll, oid, oidlen, &err);

	if (!err)
		err = check_range(size, 0);
	if (err)
		return op_fail(t, mark, err);
	enc_u64(&t->ops, size);
	return op_end(t, mark);
}

int store_txn_setattr(struct store_txn *t, const char *coll, const void *oid, size_t oidlen,
		      const char *name, const void *val, size_t vlen)
{
	struct store_kv kv = { .key = name, .val = val, .vlen = vlen };

	return store_txn_setattrs(t, coll, oid, oidlen, &kv, 1);
}

int store_txn_setattrs(struct store_txn *t, const char *coll, const void *oid, size_t oidlen,
		       const struct store_kv *attrs, size_t n)
{
	int err;
	size_t mark = op_begin(t, STORE_OP_SETATTRS, coll, oid, oidlen, &err);

	if (!err && n > UINT32_MAX)
		err = -E2BIG;
	for (size_t i = 0; !err && i < n; i++) {
		err = check_attr_name(attrs[i].key);
		if (!err && attrs[i].vlen > STORE_ATTR_VALUE_MAX)
			err = -E2BIG;
		if (!err && attrs[i].vlen && !attrs[i].val)
			err = -EINVAL;
	}
	if (err)
		return op_fail(t, mark, err);
	enc_u32(&t->ops, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		enc_str(&t->ops, attrs[i].key);
		enc_bytes(&t->ops, attrs[i].val, (uint32_t)attrs[i].vlen);
	}
	return op_end(t, mark);
}

int store_txn_rmattr(struct store_txn *t, const char *coll, const void *oid, size_t oidlen,
		     const char *name)
{
	int err;
	size_t mark = op_begin(t, STORE_OP_RMATTR, coll, oid, oidlen, &err);

	if (!err)
		err = check_attr_name(name);
	if (err)
		return op_fail(t, mark, err);
	enc_str(&t->ops, name);
	return op_end(t, mark);
}

static int check_okey(const void *k, size_t klen)
{
	if (klen > STORE_OMAP_KEY_MAX)
		return -ENAMETOOLONG;
	if (klen && !k)
		return -EINVAL;
	return 0;
}

int store_txn_omap_setkeys(struct store_txn *t, const char *coll, const void *oid,
			   size_t oidlen, const struct store_kv *kv, size_t n)
{
	int err;
	size_t mark = op_begin(t, STORE_OP_OMAP_SETKEYS, coll, oid, oidlen, &err);

	if (!err && n > UINT32_MAX)
		err = -E2BIG;
	for (size_t i = 0; !err && i < n; i++) {
		err = check_okey(kv[i].key, kv[i].klen);
		if (!err && kv[i].vlen > STORE_OMAP_VALUE_MAX)
			err = -E2BIG;
		if (!err && kv[i].vlen && !kv[i].val)
			err = -EINVAL;
	}
	if (err)
		return op_fail(t, mark, err);
	enc_u32(&t->ops, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		enc_bytes(&t->ops, kv[i].key, (uint32_t)kv[i].klen);
		enc_bytes(&t->ops, kv[i].val, (uint32_t)kv[i].vlen);
	}
	return op_end(t, mark);
}

int store_txn_omap_rmkeys(struct store_txn *t, const char *coll, const void *oid, size_t oidlen,
			  const void *const *keys, const size_t *klens, size_t n)
{
	int err;
	size_t mark = op_begin(t, STORE_OP_OMAP_RMKEYS, coll, oid, oidlen, &err);

	if (!err && n > UINT32_MAX)
		err = -E2BIG;
	for (size_t i = 0; !err && i < n; i++)
		err = check_okey(keys[i], klens[i]);
	if (err)
		return op_fail(t, mark, err);
	enc_u32(&t->ops, (uint32_t)n);
	for (size_t i = 0; i < n; i++)
		enc_bytes(&t->ops, keys[i], (uint32_t)klens[i]);
	return op_end(t, mark);
}

int store_txn_omap_rmrange(struct store_txn *t, const char *coll, const void *oid,
			   size_t oidlen, const void *first, size_t flen, const void *last,
			   size_t llen)
{
	int err;
	size_t mark = op_begin(t, STORE_OP_OMAP_RMRANGE, coll, oid, oidlen, &err);

	if (!err)
		err = check_okey(first, flen);
	if (!err && last)
		err = check_okey(last, llen);
	if (err)
		return op_fail(t, mark, err);
	enc_bytes(&t->ops, first, (uint32_t)flen);
	enc_u8(&t->ops, last != NULL);
	if (last)
		enc_bytes(&t->ops, last, (uint32_t)llen);
	return op_end(t, mark);
}

int store_txn_clone(struct store_txn *t, const char *coll, const void *src, size_t srclen,
		    const void *dst, size_t dstlen)
{
	int err;
	size_t mark = op_begin(t, STORE_OP_CLONE, coll, src, srclen, &err);

	if (!err)
		err = check_oid(dst, dstlen);
	if (err)
		return op_fail(t, mark, err);
	enc_bytes(&t->ops, dst, (uint32_t)dstlen);
	return op_end(t, mark);
}

int store_txn_clone_range(struct store_txn *t, const char *coll, const void *src,
			  size_t srclen, uint64_t srcoff, uint64_t len, const void *dst,
			  size_t dstlen, uint64_t dstoff)
{
	int err;
	size_t mark = op_begin(t, STORE_OP_CLONE_RANGE, coll, src, srclen, &err);

	if (!err)
		err = check_oid(dst, dstlen);
	if (!err)
		err = check_range(srcoff, len);
	if (!err)
		err = check_range(dstoff, len);
	if (!err && srclen == dstlen && memcmp(src, dst, srclen) == 0)
		err = -EINVAL;
	if (err)
		return op_fail(t, mark, err);
	enc_u64(&t->ops, srcoff);
	enc_u64(&t->ops, len);
	enc_bytes(&t->ops, dst, (uint32_t)dstlen);
	enc_u64(&t->ops, dstoff);
	return op_end(t, mark);
}

int store_txn_move(struct store_txn *t, const char *src_coll, const void *src, size_t srclen,
		   const char *dst_coll, const void *dst, size_t dstlen)
{
	int err;
	size_t mark = op_begin(t, STORE_OP_MOVE, src_coll, src, srclen, &err);

	if (!err)
		err = check_coll(dst_coll);
	if (!err)
		err = check_oid(dst, dstlen);
	if (err)
		return op_fail(t, mark, err);
	enc_str(&t->ops, dst_coll);
	enc_bytes(&t->ops, dst, (uint32_t)dstlen);
	return op_end(t, mark);
}

/* ---- decoding --------------------------------------------------------------------------- */

static int dec_coll(struct cdec *d, char *out)
{
	if (dec_str(d, out, STORE_COLL_NAME_MAX + 1))
		return d->err;
	if (!store_coll_name_valid(out, strlen(out)))
		return dec_fail(d, -EBADMSG);
	return 0;
}

static int dec_oid(struct cdec *d, const uint8_t **p, uint32_t *n)
{
	if (dec_bytes(d, p, n))
		return d->err;
	if (*n > STORE_NAME_MAX)
		return dec_fail(d, -EBADMSG);
	return 0;
}

static int dec_range(struct cdec *d, uint64_t off, uint64_t len)
{
	if (check_range(off, len))
		return dec_fail(d, -EBADMSG);
	return 0;
}

int store_op_item(struct cdec *items, uint8_t code, const uint8_t **k, uint32_t *klen,
		  const uint8_t **v, uint32_t *vlen)
{
	*v = NULL;
	*vlen = 0;
	dec_bytes(items, k, klen);
	if (code == STORE_OP_SETATTRS) {
		dec_bytes(items, v, vlen);
		if (!items->err && (*klen == 0 || *klen > STORE_ATTR_NAME_MAX ||
				    memchr(*k, 0, *klen) || *vlen > STORE_ATTR_VALUE_MAX))
			dec_fail(items, -EBADMSG);
	} else {
		if (code == STORE_OP_OMAP_SETKEYS)
			dec_bytes(items, v, vlen);
		if (!items->err && (*klen > STORE_OMAP_KEY_MAX || *vlen > STORE_OMAP_VALUE_MAX))
			dec_fail(items, -EBADMSG);
	}
	return items->err;
}

static int dec_items(struct cdec *d, struct store_op *op)
{
	const uint8_t *k, *v;
	uint32_t kl, vl;

	if (dec_u32(d, &op->n))
		return d->err;
	if (dec_need(d, op->n, op->code == STORE_OP_OMAP_RMKEYS ? 4 : 8))
		return d->err;
	op->items = *d;
	for (uint32_t i = 0; i < op->n; i++)
		if (store_op_item(d, op->code, &k, &kl, &v, &vl))
			return dec_fail(d, d->err);
	op->items.end = d->p;
	return 0;
}

int store_op_next(struct cdec *d, struct store_op *op)
{
	uint8_t has_last;

	memset(op, 0, sizeof(*op));
	if (dec_u8(d, &op->code))
		return d->err;
	if (op->code == 0 || op->code >= STORE_OP_MAX_)
		return dec_fail(d, -EBADMSG);
	if (dec_coll(d, op->coll))
		return d->err;
	if (op->code == STORE_OP_COLL_CREATE || op->code == STORE_OP_COLL_REMOVE)
		return 0;
	if (dec_oid(d, &op->oid, &op->oidlen))
		return d->err;

	switch (op->code) {
	case STORE_OP_TOUCH:
	case STORE_OP_REMOVE:
	case STORE_OP_OMAP_CLEAR:
		break;
	case STORE_OP_WRITE:
		dec_u64(d, &op->off);
		if (dec_bytes(d, &op->data, &op->dlen))
			break;
		op->len = op->dlen;
		if (op->len > STORE_WRITE_MAX)
			dec_fail(d, -EBADMSG);
		dec_range(d, op->off, op->len);
		break;
	case STORE_OP_ZERO:
		dec_u64(d, &op->off);
		if (!dec_u64(d, &op->len))
			dec_range(d, op->off, op->len);
		break;
	case STORE_OP_TRUNCATE:
		if (!dec_u64(d, &op->off))
			dec_range(d, op->off, 0);
		break;
	case STORE_OP_SETATTRS:
	case STORE_OP_OMAP_SETKEYS:
	case STORE_OP_OMAP_RMKEYS:
		dec_items(d, op);
		break;
	case STORE_OP_RMATTR:
		if (dec_bytes(d, &op->data, &op->dlen))
			break;
		if (op->dlen == 0 || op->dlen > STORE_ATTR_NAME_MAX || memchr(op->data, 0, op->dlen))
			dec_fail(d, -EBADMSG);
		break;
	case STORE_OP_OMAP_RMRANGE:
		dec_bytes(d, &op->data, &op->dlen);
		dec_u8(d, &has_last);
		if (d->err)
			break;
		if (has_last > 1 || op->dlen > STORE_OMAP_KEY_MAX)
			return dec_fail(d, -EBADMSG);
		op->has_data2 = has_last;
		if (has_last && !dec_bytes(d, &op->data2, &op->d2len) &&
		    op->d2len > STORE_OMAP_KEY_MAX)
			dec_fail(d, -EBADMSG);
		break;
	case STORE_OP_CLONE:
		dec_oid(d, &op->oid2, &op->oid2len);
		break;
	case STORE_OP_CLONE_RANGE:
		dec_u64(d, &op->off);
		dec_u64(d, &op->len);
		dec_oid(d, &op->oid2, &op->oid2len);
		dec_u64(d, &op->off2);
		if (d->err)
			break;
		dec_range(d, op->off, op->len);
		dec_range(d, op->off2, op->len);
		if (!d->err && op->oidlen == op->oid2len && memcmp(op->oid, op->oid2, op->oidlen) == 0)
			dec_fail(d, -EBADMSG);
		break;
	case STORE_OP_MOVE:
		dec_coll(d, op->coll2);
		dec_oid(d, &op->oid2, &op->oid2len);
		break;
	default:
		return dec_fail(d, -EBADMSG);
	}
	return d->err;
}

int store_txn_encode(const struct store_txn *t, struct cbuf *out)
{
	size_t start;

	if (t->err)
		return t->err;
	if (t->ops.len > UINT32_MAX)
		return -E2BIG;
	start = enc_start(out, TXN_VERSION, TXN_COMPAT);
	enc_u32(out, t->nops);
	enc_bytes(out, t->ops.data, (uint32_t)t->ops.len);
	enc_finish(out, start);
	return out->err;
}

int store_txn_share(struct store_txn *t, uint8_t *hdr, void **ops, size_t *olen,
		    void (*release)(void *arg), void *arg)
{
	struct cbuf h = { .data = hdr, .cap = STORE_TXN_WIRE_HDR };
	size_t start;

	if (t->err)
		return t->err;
	if (t->ops_release)
		return -EBUSY;
	if (t->ops.len > UINT32_MAX - 8)
		return -E2BIG;
	/* store_txn_encode's envelope and the length of its byte string, minus the bytes */
	start = enc_start(&h, TXN_VERSION, TXN_COMPAT);
	enc_u32(&h, t->nops);
	enc_u32(&h, (uint32_t)t->ops.len);
	if (h.err || h.data != hdr || h.len != STORE_TXN_WIRE_HDR)
		return -EINVAL;
	for (int i = 0; i < 4; i++) /* the envelope's body length, as enc_finish would */
		hdr[start + i] = (uint8_t)((8 + t->ops.len) >> (8 * i));
	if (!t->ops.data && !(t->ops.data = malloc(1)))
		return -ENOMEM;
	*ops = t->ops.data;
	*olen = t->ops.len;
	t->ops_release = release;
	t->ops_arg = arg;
	return 0;
}

/* Validates a wire transaction: its op bytes in *bytes (blen), nops ops. */
static int txn_check(const void *p, size_t n, const uint8_t **bytes, uint32_t *blen,
		     uint32_t *nops)
{
	struct cdec d, body, ops;
	struct store_op op;
	uint8_t version;

	cdec_init(&d, p, n);
	if (dec_start(&d, TXN_VERSION, &body, &version))
		return d.err;
	dec_u32(&body, nops);
	dec_bytes(&body, bytes, blen);
	if (body.err)
		return body.err;
	if (dec_finish(&d, &body))
		return d.err;
	cdec_init(&ops, *bytes, *blen);
	for (uint32_t i = 0; i < *nops; i++)
		if (store_op_next(&ops, &op))
			return ops.err == -ENOMEM ? -ENOMEM : -EBADMSG;
	if (dec_left(&ops))
		return -EBADMSG;
	return 0;
}

static void free_base(void *p) { free(p); }

int store_txn_decode_owned(struct store_txn *t, void *buf, size_t n)
{
	const uint8_t *bytes;
	uint32_t nops, blen;
	int err;

	if (t->ops.len || t->nops || t->ops_release)
		return -EBUSY;
	if (!buf)
		return -EBADMSG;
	err = txn_check(buf, n, &bytes, &blen, &nops);
	if (err)
		return err;
	cbuf_free(&t->ops);
	t->ops.data = (uint8_t *)bytes;
	t->ops.len = t->ops.cap = blen;
	t->ops_release = free_base;
	t->ops_arg = buf;
	t->nops = nops;
	return 0;
}

int store_txn_decode(struct store_txn *t, const void *p, size_t n)
{
	const uint8_t *bytes;
	uint32_t nops, blen;
	int err;

	if (t->ops_release)
		return -EBUSY;
	err = txn_check(p, n, &bytes, &blen, &nops);
	if (err)
		return err;
	enc_raw(&t->ops, bytes, blen);
	if (t->ops.err) {
		err = t->ops.err;
		store_txn_reset(t);
		return err;
	}
	t->nops += nops;
	return 0;
}
