/* encode — see encode.h. Little-endian on the wire regardless of host order. */
#include "common/encode.h"

#include <stdlib.h>

void cbuf_init(struct cbuf *b)
{
	memset(b, 0, sizeof(*b));
}

void cbuf_free(struct cbuf *b)
{
	free(b->data);
	cbuf_init(b);
}

void cbuf_reset(struct cbuf *b)
{
	b->len = 0;
	b->err = 0;
}

int cbuf_reserve(struct cbuf *b, size_t extra)
{
	size_t want, cap;
	uint8_t *p;

	if (b->err)
		return b->err;
	if (extra > SIZE_MAX - b->len)
		return b->err = -ENOMEM;
	want = b->len + extra;
	if (want <= b->cap && b->data) /* data != NULL: cbuf_append(b, 0) never does NULL + 0 */
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < want)
		cap = cap > SIZE_MAX / 2 ? want : cap * 2;
	p = realloc(b->data, cap);
	if (!p)
		return b->err = -ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

void *cbuf_append(struct cbuf *b, size_t n)
{
	void *p;

	if (cbuf_reserve(b, n))
		return NULL;
	p = b->data + b->len;
	b->len += n;
	return p;
}

uint8_t *cbuf_steal(struct cbuf *b, size_t *len)
{
	uint8_t *p = b->data;

	if (len)
		*len = b->len;
	cbuf_init(b);
	return p;
}

static void put_le(struct cbuf *b, uint64_t v, int n)
{
	uint8_t *p = cbuf_append(b, n);
	int i;

	if (!p)
		return;
	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

void enc_u8(struct cbuf *b, uint8_t v) { put_le(b, v, 1); }
void enc_u16(struct cbuf *b, uint16_t v) { put_le(b, v, 2); }
void enc_u32(struct cbuf *b, uint32_t v) { put_le(b, v, 4); }
void enc_u64(struct cbuf *b, uint64_t v) { put_le(b, v, 8); }

void enc_raw(struct cbuf *b, const void *p, size_t n)
{
	void *dst;

	if (!n)
		return;
	dst = cbuf_append(b, n);
	if (dst)
		memcpy(dst, p, n);
}

void enc_bytes(struct cbuf *b, const void *p, uint32_t n)
{
	enc_u32(b, n);
	enc_raw(b, p, n);
}

void enc_str(struct cbuf *b, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n > UINT32_MAX) {
		b->err = b->err ? b->err : -EINVAL;
		return;
	}
	enc_bytes(b, s, (uint32_t)n);
}

size_t enc_start(struct cbuf *b, uint8_t version, uint8_t compat)
{
	size_t start;

	enc_u8(b, version);
	enc_u8(b, compat);
	start = b->len;
	enc_u32(b, 0);
	return start;
}

void enc_finish(struct cbuf *b, size_t start)
{
	size_t body;

	if (b->err)
		return;
	body = b->len - start - 4;
	if (body > UINT32_MAX) {
		b->err = -EOVERFLOW;
		return;
	}
	for (int i = 0; i < 4; i++)
		b->data[start + i] = (uint8_t)(body >> (8 * i));
}

int dec_fail(struct cdec *d, int err)
{
	if (!d->err)
		d->err = err;
	return d->err;
}

static int get_le(struct cdec *d, uint64_t *v, int n)
{
	uint64_t x = 0;
	int i;

	if (d->err)
		return d->err;
	if (d->end - d->p < n)
		return dec_fail(d, -EBADMSG);
	for (i = 0; i < n; i++)
		x |= (uint64_t)d->p[i] << (8 * i);
	d->p += n;
	*v = x;
	return 0;
}

#define DEC_INT(name, type, n)                                                                     \
	int name(struct cdec *d, type *v)                                                          \
	{                                                                                          \
		uint64_t x = 0;                                                                    \
		int r = get_le(d, &x, n);                                                          \
		*v = r ? 0 : (type)x;                                                              \
		return r;                                                                          \
	}
DEC_INT(dec_u8, uint8_t, 1)
DEC_INT(dec_u16, uint16_t, 2)
DEC_INT(dec_u32, uint32_t, 4)
DEC_INT(dec_u64, uint64_t, 8)
DEC_INT(dec_i32, int32_t, 4)
DEC_INT(dec_i64, int64_t, 8)

int dec_raw(struct cdec *d, void *out, size_t n)
{
	if (d->err)
		return d->err;
	if ((size_t)(d->end - d->p) < n)
		return dec_fail(d, -EBADMSG);
	if (n)
		memcpy(out, d->p, n);
	d->p += n;
	return 0;
}

int dec_bytes(struct cdec *d, const uint8_t **p, uint32_t *n)
{
	uint32_t len;

	*p = NULL;
	*n = 0;
	if (dec_u32(d, &len))
		return d->err;
	if ((size_t)(d->end - d->p) < len)
		return dec_fail(d, -EBADMSG);
	*p = d->p;
	*n = len;
	d->p += len;
	return 0;
}

int dec_str(struct cdec *d, char *out, size_t cap)
{
	const uint8_t *p;
	uint32_t n;

	if (cap)
		out[0] = '\0';
	if (dec_bytes(d, &p, &n))
		return d->err;
	if (n >= cap || memchr(p, 0, n))
		return dec_fail(d, -EBADMSG);
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

int dec_strdup(struct cdec *d, char **out, size_t max)
{
	const uint8_t *p;
	uint32_t n;

	*out = NULL;
	if (dec_bytes(d, &p, &n))
		return d->err;
	if (n > max || memchr(p, 0, n))
		return dec_fail(d, -EBADMSG);
	*out = malloc((size_t)n + 1);
	if (!*out)
		return dec_fail(d, -ENOMEM);
	memcpy(*out, p, n);
	(*out)[n] = '\0';
	return 0;
}

int dec_need(struct cdec *d, uint64_t n, size_t min_size)
{
	if (d->err)
		return d->err;
	if (min_size && n > (uint64_t)(d->end - d->p) / min_size)
		return dec_fail(d, -EBADMSG);
	return 0;
}

int dec_start(struct cdec *d, uint8_t understood, struct cdec *body, uint8_t *version)
{
	uint8_t v = 0, compat = 0;
	uint32_t len = 0;

	cdec_init(body, d->p, 0);
	dec_u8(d, &v);
	dec_u8(d, &compat);
	dec_u32(d, &len);
	if (d->err)
		return body->err = d->err;
	if (v == 0 || compat > v)
		return body->err = dec_fail(d, -EBADMSG);
	if (compat > understood)
		return body->err = dec_fail(d, -EOPNOTSUPP);
	if ((size_t)(d->end - d->p) < len)
		return body->err = dec_fail(d, -EBADMSG);
	cdec_init(body, d->p, len);
	if (version)
		*version = v;
	return 0;
}

int dec_finish(struct cdec *d, struct cdec *body)
{
	if (body->err)
		return dec_fail(d, body->err);
	if (d->err)
		return d->err;
	d->p = body->end;
	return 0;
}
