/* test_encode — common/encode: every primitive, the envelope (unknown tails skipped, too-new
 * compat refused), sticky errors, and exhaustive truncation (every proper prefix of a valid
 * encoding decodes to -EBADMSG). */
// timeout: 60
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "common/encode.h"

static void test_cbuf_basics(void **state)
{
	struct cbuf b;
	uint8_t *p;
	size_t len, i;

	(void)state;
	cbuf_init(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_non_null(cbuf_append(&b, 0)); /* a zero-length append is not a failure */
	assert_int_equal(b.len, 0);
	assert_int_equal(cbuf_reserve(&b, 10), 0);
	assert_true(b.cap >= 10);
	for (i = 0; i < 10000; i++)
		enc_u8(&b, (uint8_t)i);
	assert_int_equal(b.len, 10000);
	assert_int_equal(b.err, 0);
	for (i = 0; i < 10000; i++)
		assert_int_equal(b.data[i], (uint8_t)i);
	cbuf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_non_null(b.data);
	p = cbuf_append(&b, 3);
	assert_non_null(p);
	memcpy(p, "abc", 3);
	p = cbuf_steal(&b, &len);
	assert_int_equal(len, 3);
	assert_memory_equal(p, "abc", 3);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	free(p);
	/* an impossible reservation fails with -ENOMEM and sticks */
	enc_u8(&b, 1);
	assert_int_equal(cbuf_reserve(&b, SIZE_MAX), -ENOMEM);
	assert_int_equal(b.err, -ENOMEM);
	assert_null(cbuf_append(&b, 1));
	enc_u32(&b, 7);
	assert_int_equal(b.len, 1);
	cbuf_reset(&b);
	assert_int_equal(b.err, 0);
	cbuf_free(&b);
	cbuf_free(&b); /* idempotent */
}

static void test_little_endian_layout(void **state)
{
	static const uint8_t want[] = {0x01, 0x03, 0x02, 0x07, 0x06, 0x05, 0x04, 0x0f, 0x0e,
				       0x0d, 0x0c, 0x0b, 0x0a, 0x09, 0x08, 0xff, 0xff, 0xff,
				       0xff, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	struct cbuf b;

	(void)state;
	cbuf_init(&b);
	enc_u8(&b, 0x01);
	enc_u16(&b, 0x0203);
	enc_u32(&b, 0x04050607);
	enc_u64(&b, 0x08090a0b0c0d0e0full);
	enc_i32(&b, -1);
	enc_i64(&b, -2);
	assert_int_equal(b.err, 0);
	assert_int_equal(b.len, sizeof(want));
	assert_memory_equal(b.data, want, sizeof(want));
	cbuf_free(&b);
}

static void test_roundtrip_integers(void **state)
{
	static const uint64_t vals[] = {0,
					1,
					0x7f,
					0x80,
					0xff,
					0x100,
					0x7fff,
					0xffff,
					0x10000,
					0x7fffffff,
					0x80000000u,
					0xffffffffu,
					0x100000000ull,
					0x7fffffffffffffffull,
					0x8000000000000000ull,
					UINT64_MAX};
	struct cbuf b;
	struct cdec d;
	size_t i;

	(void)state;
	cbuf_init(&b);
	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		enc_u8(&b, (uint8_t)vals[i]);
		enc_u16(&b, (uint16_t)vals[i]);
		enc_u32(&b, (uint32_t)vals[i]);
		enc_u64(&b, vals[i]);
		enc_i32(&b, (int32_t)(uint32_t)vals[i]);
		enc_i64(&b, (int64_t)vals[i]);
	}
	assert_int_equal(b.err, 0);
	cdec_init(&d, b.data, b.len);
	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		uint8_t u8;
		uint16_t u16;
		uint32_t u32;
		uint64_t u64;
		int32_t i32;
		int64_t i64;

		assert_int_equal(dec_u8(&d, &u8), 0);
		assert_int_equal(u8, (uint8_t)vals[i]);
		assert_int_equal(dec_u16(&d, &u16), 0);
		assert_int_equal(u16, (uint16_t)vals[i]);
		assert_int_equal(dec_u32(&d, &u32), 0);
		assert_int_equal(u32, (uint32_t)vals[i]);
		assert_int_equal(dec_u64(&d, &u64), 0);
		assert_true(u64 == vals[i]);
		assert_int_equal(dec_i32(&d, &i32), 0);
		assert_true(i32 == (int32_t)(uint32_t)vals[i]);
		assert_int_equal(dec_i64(&d, &i64), 0);
		assert_true(i64 == (int64_t)vals[i]);
	}
	assert_int_equal(dec_left(&d), 0);
	assert_int_equal(d.err, 0);
	cbuf_free(&b);
}

static void test_bytes_and_strings(void **state)
{
	struct cbuf b;
	struct cdec d;
	const uint8_t *p;
	uint32_t n;
	char s[8], *dup;
	uint8_t raw[3];

	(void)state;
	cbuf_init(&b);
	enc_raw(&b, "xyz", 3);
	enc_raw(&b, NULL, 0);
	enc_bytes(&b, "\0\1\2", 3);
	enc_bytes(&b, NULL, 0);
	enc_str(&b, "hello");
	enc_str(&b, NULL); /* encodes as "" */
	enc_str(&b, "");
	enc_str(&b, "dupme");
	assert_int_equal(b.err, 0);
	/* u32 length prefix, no NUL */
	assert_memory_equal(b.data + 3, "\3\0\0\0\0\1\2", 7);

	cdec_init(&d, b.data, b.len);
	assert_int_equal(dec_raw(&d, raw, 3), 0);
	assert_memory_equal(raw, "xyz", 3);
	assert_int_equal(dec_raw(&d, NULL, 0), 0);
	assert_int_equal(dec_bytes(&d, &p, &n), 0);
	assert_int_equal(n, 3);
	assert_ptr_equal(p, b.data + 7); /* zero-copy */
	assert_memory_equal(p, "\0\1\2", 3);
	assert_int_equal(dec_bytes(&d, &p, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(dec_str(&d, s, sizeof(s)), 0);
	assert_string_equal(s, "hello");
	assert_int_equal(dec_str(&d, s, sizeof(s)), 0);
	assert_string_equal(s, "");
	assert_int_equal(dec_strdup(&d, &dup, 10), 0);
	assert_string_equal(dup, "");
	free(dup);
	assert_int_equal(dec_strdup(&d, &dup, 5), 0);
	assert_string_equal(dup, "dupme");
	free(dup);
	assert_int_equal(dec_left(&d), 0);
	cbuf_free(&b);
}

static void test_string_limits(void **state)
{
	struct cbuf b;
	struct cdec d;
	char s[6];
	char *dup = (char *)1;

	(void)state;
	cbuf_init(&b);
	enc_str(&b, "123456"); /* needs 7 bytes with NUL */
	cdec_init(&d, b.data, b.len);
	assert_int_equal(dec_str(&d, s, sizeof(s)), -EBADMSG);
	assert_string_equal(s, "");
	cdec_init(&d, b.data, b.len);
	assert_int_equal(dec_strdup(&d, &dup, 5), -EBADMSG);
	assert_null(dup);
	cdec_init(&d, b.data, b.len);
	assert_int_equal(dec_strdup(&d, &dup, 6), 0);
	assert_string_equal(dup, "123456");
	free(dup);
	/* an embedded NUL is malformed */
	cbuf_reset(&b);
	enc_bytes(&b, "a\0b", 3);
	cdec_init(&d, b.data, b.len);
	assert_int_equal(dec_str(&d, s, sizeof(s)), -EBADMSG);
	cdec_init(&d, b.data, b.len);
	assert_int_equal(dec_strdup(&d, &dup, 100), -EBADMSG);
	assert_null(dup);
	/* a length larger than the input */
	cbuf_reset(&b);
	enc_u32(&b, 1000);
	enc_raw(&b, "abc", 3);
	cdec_init(&d, b.data, b.len);
	assert_int_equal(dec_str(&d, s, sizeof(s)), -EBADMSG);
	cdec_init(&d, b.data, b.len);
	{
		const uint8_t *p = (const uint8_t *)1;
		uint32_t n = 5;

		assert_int_equal(dec_bytes(&d, &p, &n), -EBADMSG);
		assert_null(p);
		assert_int_equal(n, 0);
	}
	/* a length of UINT32_MAX must not wrap a pointer */
	cbuf_reset(&b);
	enc_u32(&b, UINT32_MAX);
	cdec_init(&d, b.data, b.len);
	assert_int_equal(dec_strdup(&d, &dup, SIZE_MAX), -EBADMSG);
	cbuf_free(&b);
}

static void test_sticky_errors(void **state)
{
	static const uint8_t in[] = {1, 2, 3};
	struct cdec d;
	uint32_t v32 = 99;
	uint8_t v8 = 99;

	(void)state;
	cdec_init(&d, in, sizeof(in));
	assert_int_equal(dec_u32(&d, &v32), -EBADMSG);
	assert_int_equal(v32, 0);
	/* after a failure nothing is consumed, even what would fit */
	assert_int_equal(dec_u8(&d, &v8), -EBADMSG);
	assert_int_equal(v8, 0);
	assert_int_equal(dec_left(&d), 0);
	assert_ptr_equal(d.p, in);
	/* first error wins */
	assert_int_equal(dec_fail(&d, -EOPNOTSUPP), -EBADMSG);
	cdec_init(&d, in, sizeof(in));
	assert_int_equal(dec_fail(&d, -EOPNOTSUPP), -EOPNOTSUPP);
	assert_int_equal(dec_u8(&d, &v8), -EOPNOTSUPP);
	/* empty input */
	cdec_init(&d, NULL, 0);
	assert_int_equal(dec_left(&d), 0);
	assert_int_equal(dec_u8(&d, &v8), -EBADMSG);
}

static void test_dec_need(void **state)
{
	uint8_t in[16] = {0};
	struct cdec d;

	(void)state;
	cdec_init(&d, in, sizeof(in));
	assert_int_equal(dec_need(&d, 4, 4), 0);
	assert_int_equal(dec_need(&d, 16, 1), 0);
	assert_int_equal(dec_need(&d, 0, 100), 0);
	assert_int_equal(dec_need(&d, 1000, 0), 0);
	assert_int_equal(dec_need(&d, 5, 4), -EBADMSG);
	cdec_init(&d, in, sizeof(in));
	assert_int_equal(dec_need(&d, UINT64_MAX, 8), -EBADMSG);
	assert_int_equal(d.err, -EBADMSG);
}

/* --- envelope: a structure at version 1 and its version 2 with an extra field --- */

struct thing {
	uint32_t a;
	char name[16];
	uint64_t b; /* added in version 2 */
};

static void thing_encode_v1(struct cbuf *buf, const struct thing *t)
{
	size_t start = enc_start(buf, 1, 1);

	enc_u32(buf, t->a);
	enc_str(buf, t->name);
	enc_finish(buf, start);
}

static void thing_encode_v2(struct cbuf *buf, const struct thing *t)
{
	size_t start = enc_start(buf, 2, 1);

	enc_u32(buf, t->a);
	enc_str(buf, t->name);
	enc_u64(buf, t->b);
	enc_finish(buf, start);
}

/* A version-2 decoder: reads b when present. */
static int thing_decode(struct cdec *d, struct thing *t)
{
	struct cdec body;
	uint8_t v = 0;

	memset(t, 0, sizeof(*t));
	if (dec_start(d, 2, &body, &v))
		return d->err;
	dec_u32(&body, &t->a);
	dec_str(&body, t->name, sizeof(t->name));
	if (v >= 2)
		dec_u64(&body, &t->b);
	return dec_finish(d, &body);
}

/* A version-1 decoder: knows nothing of b. */
static int thing_decode_v1(struct cdec *d, struct thing *t)
{
	struct cdec body;

	memset(t, 0, sizeof(*t));
	if (dec_start(d, 1, &body, NULL))
		return d->err;
	dec_u32(&body, &t->a);
	dec_str(&body, t->name, sizeof(t->name));
	return dec_finish(d, &body);
}

static void test_envelope_versions(void **state)
{
	struct thing in = {.a = 7, .name = "seven", .b = 0x1122334455667788ull}, out;
	struct cbuf b;
	struct cdec d;
	uint32_t trailer;

	(void)state;
	cbuf_init(&b);
	/* new writer, old reader: the unknown tail is skipped and what follows still decodes */
	thing_encode_v2(&b, &in);
	enc_u32(&b, 0xdeadbeef);
	assert_int_equal(b.data[0], 2);
	assert_int_equal(b.data[1], 1);
	assert_int_equal(b.data[2] | b.data[3] << 8, b.len - 6 - 4);
	cdec_init(&d, b.data, b.len);
	assert_int_equal(thing_decode_v1(&d, &out), 0);
	assert_int_equal(out.a, 7);
	assert_string_equal(out.name, "seven");
	assert_int_equal(out.b, 0);
	assert_int_equal(dec_u32(&d, &trailer), 0);
	assert_int_equal(trailer, 0xdeadbeef);
	assert_int_equal(dec_left(&d), 0);
	/* new writer, new reader */
	cdec_init(&d, b.data, b.len);
	assert_int_equal(thing_decode(&d, &out), 0);
	assert_true(out.b == in.b);
	/* old writer, new reader */
	cbuf_reset(&b);
	thing_encode_v1(&b, &in);
	cdec_init(&d, b.data, b.len);
	assert_int_equal(thing_decode(&d, &out), 0);
	assert_int_equal(out.a, 7);
	assert_int_equal(out.b, 0);
	assert_int_equal(dec_left(&d), 0);
	cbuf_free(&b);
}

static void test_envelope_refusals(void **state)
{
	struct thing out;
	struct cbuf b;
	struct cdec d, body;
	size_t start;

	(void)state;
	cbuf_init(&b);
	/* compat newer than the reader understands */
	start = enc_start(&b, 3, 3);
	enc_u32(&b, 1);
	enc_finish(&b, start);
	cdec_init(&d, b.data, b.len);
	assert_int_equal(thing_decode(&d, &out), -EOPNOTSUPP);
	assert_int_equal(d.err, -EOPNOTSUPP);
	/* a new version with old compat is fine */
	cbuf_reset(&b);
	start = enc_start(&b, 9, 2);
	enc_u32(&b, 5);
	enc_str(&b, "x");
	enc_u64(&b, 6);
	enc_u64(&b, 7); /* field of version 9 */
	enc_finish(&b, start);
	cdec_init(&d, b.data, b.len);
	assert_int_equal(thing_decode(&d, &out), 0);
	assert_int_equal(out.a, 5);
	assert_int_equal(out.b, 6);
	assert_int_equal(dec_left(&d), 0);
	/* version 0 and compat > version are malformed */
	cbuf_reset(&b);
	start = enc_start(&b, 0, 0);
	enc_finish(&b, start);
	cdec_init(&d, b.data, b.len);
	assert_int_equal(dec_start(&d, 5, &body, NULL), -EBADMSG);
	assert_int_equal(body.err, -EBADMSG);
	cbuf_reset(&b);
	start = enc_start(&b, 1, 2);
	enc_finish(&b, start);
	cdec_init(&d, b.data, b.len);
	assert_int_equal(dec_start(&d, 5, &body, NULL), -EBADMSG);
	/* a body shorter than its fields: the body error becomes the outer error */
	cbuf_reset(&b);
	start = enc_start(&b, 1, 1);
	enc_u16(&b, 1);
	enc_finish(&b, start);
	enc_u64(&b, 0); /* bytes after the envelope must not be read as the body */
	cdec_init(&d, b.data, b.len);
	assert_int_equal(thing_decode(&d, &out), -EBADMSG);
	/* the body decoder stops at the body's end */
	cdec_init(&d, b.data, b.len);
	assert_int_equal(dec_start(&d, 1, &body, NULL), 0);
	assert_int_equal(dec_left(&body), 2);
	cbuf_free(&b);
}

/* --- exhaustive truncation over a composite encoding --- */

struct composite {
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;
	int32_t i32;
	int64_t i64;
	char s[32];
	uint8_t raw[5];
	uint32_t nitems;
	struct thing items[3];
	const uint8_t *blob;
	uint32_t bloblen;
	char *dup;
};

static void composite_encode(struct cbuf *b, const struct composite *c)
{
	size_t start = enc_start(b, 3, 2), inner;
	uint32_t i;

	enc_u8(b, c->u8);
	enc_u16(b, c->u16);
	enc_u32(b, c->u32);
	enc_u64(b, c->u64);
	enc_i32(b, c->i32);
	enc_i64(b, c->i64);
	enc_str(b, c->s);
	enc_raw(b, c->raw, sizeof(c->raw));
	enc_u32(b, c->nitems);
	for (i = 0; i < c->nitems; i++)
		thing_encode_v2(b, &c->items[i]);
	inner = enc_start(b, 1, 1);
	enc_bytes(b, c->blob, c->bloblen);
	enc_str(b, c->dup);
	enc_finish(b, inner);
	enc_finish(b, start);
}

static int composite_decode(struct cdec *d, struct composite *c)
{
	struct cdec body, inner;
	uint32_t i;

	memset(c, 0, sizeof(*c));
	if (dec_start(d, 3, &body, NULL))
		return d->err;
	dec_u8(&body, &c->u8);
	dec_u16(&body, &c->u16);
	dec_u32(&body, &c->u32);
	dec_u64(&body, &c->u64);
	dec_i32(&body, &c->i32);
	dec_i64(&body, &c->i64);
	dec_str(&body, c->s, sizeof(c->s));
	dec_raw(&body, c->raw, sizeof(c->raw));
	dec_u32(&body, &c->nitems);
	if (dec_need(&body, c->nitems, 6) || c->nitems > 3)
		return dec_finish(d, &body) ? d->err : dec_fail(d, -EBADMSG);
	for (i = 0; i < c->nitems; i++)
		thing_decode(&body, &c->items[i]);
	if (!dec_start(&body, 1, &inner, NULL)) {
		dec_bytes(&inner, &c->blob, &c->bloblen);
		dec_strdup(&inner, &c->dup, 64);
		dec_finish(&body, &inner);
	}
	return dec_finish(d, &body);
}

static void test_truncation_exhaustive(void **state)
{
	static const uint8_t blob[40] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
	struct composite in = {
	    .u8 = 0xab,
	    .u16 = 0xcdef,
	    .u32 = 0x12345678,
	    .u64 = 0x9abcdef012345678ull,
	    .i32 = -5,
	    .i64 = -6,
	    .s = "a string",
	    .raw = {9, 8, 7, 6, 5},
	    .nitems = 3,
	    .items = {{1, "one", 11}, {2, "two", 22}, {3, "three", 33}},
	    .blob = blob,
	    .bloblen = sizeof(blob),
	    .dup = "duplicated",
	};
	struct composite out;
	struct cbuf b;
	struct cdec d;
	size_t cut;
	uint8_t *copy;

	(void)state;
	cbuf_init(&b);
	composite_encode(&b, &in);
	assert_int_equal(b.err, 0);
	cdec_init(&d, b.data, b.len);
	assert_int_equal(composite_decode(&d, &out), 0);
	assert_int_equal(dec_left(&d), 0);
	assert_int_equal(out.u16, in.u16);
	assert_true(out.i64 == -6);
	assert_string_equal(out.s, "a string");
	assert_int_equal(out.items[2].b, 33);
	assert_string_equal(out.items[1].name, "two");
	assert_int_equal(out.bloblen, sizeof(blob));
	assert_memory_equal(out.blob, blob, sizeof(blob));
	assert_string_equal(out.dup, "duplicated");
	free(out.dup);

	/* Every proper prefix, copied to an exact-size heap block so ASan sees any overread. */
	for (cut = 0; cut < b.len; cut++) {
		copy = malloc(cut ? cut : 1);
		assert_non_null(copy);
		memcpy(copy, b.data, cut);
		cdec_init(&d, copy, cut);
		assert_int_equal(composite_decode(&d, &out), -EBADMSG);
		assert_int_equal(d.err, -EBADMSG);
		assert_int_equal(dec_left(&d), 0);
		free(out.dup);
		free(copy);
	}
	/* Every prefix of the inner envelope's length field shortened (body truncation inside
	 * an intact outer envelope) is malformed too: shrink the outer length by one. */
	copy = malloc(b.len);
	assert_non_null(copy);
	memcpy(copy, b.data, b.len);
	copy[2] = (uint8_t)(copy[2] - 1);
	cdec_init(&d, copy, b.len - 1);
	assert_int_equal(composite_decode(&d, &out), -EBADMSG);
	free(out.dup);
	free(copy);
	cbuf_free(&b);
}

static void test_enc_finish_after_error(void **state)
{
	struct cbuf b;
	size_t start;

	(void)state;
	cbuf_init(&b);
	start = enc_start(&b, 1, 1);
	enc_u32(&b, 1);
	b.err = -ENOMEM; /* simulate an allocation failure mid-encoding */
	enc_finish(&b, start);
	assert_int_equal(b.err, -ENOMEM);
	cbuf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cbuf_basics),
	    cmocka_unit_test(test_little_endian_layout),
	    cmocka_unit_test(test_roundtrip_integers),
	    cmocka_unit_test(test_bytes_and_strings),
	    cmocka_unit_test(test_string_limits),
	    cmocka_unit_test(test_sticky_errors),
	    cmocka_unit_test(test_dec_need),
	    cmocka_unit_test(test_envelope_versions),
	    cmocka_unit_test(test_envelope_refusals),
	    cmocka_unit_test(test_truncation_exhaustive),
	    cmocka_unit_test(test_enc_finish_after_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
