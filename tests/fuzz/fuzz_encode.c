/*
 * fuzz_encode — the decoding primitives and the envelope never read out of bounds, never
 * crash, and keep their invariants, whatever the input and whatever sequence of calls.
 *
 * Input: byte 0 = number k of op bytes (mod 64), bytes 1..k = ops, the rest = the encoding,
 * copied into an exact-size heap block so ASan sees any overread. Each op calls one dec_*
 * (envelopes nest up to 8 deep). After every call: p <= end, the error is sticky, and a
 * failed call consumed nothing. Then a fixed structured decoder runs over the whole input,
 * and whatever decoded is re-encoded and must decode to the same values.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/encode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                                   \
	do {                                                                                       \
		if (!(x))                                                                          \
			abort();                                                                   \
	} while (0)

static void run_ops(const uint8_t *ops, size_t nops, const uint8_t *in, size_t n)
{
	struct cdec stack[9];
	int depth = 0;
	size_t i;

	cdec_init(&stack[0], in, n);
	for (i = 0; i < nops; i++) {
		struct cdec *d = &stack[depth];
		const uint8_t *before = d->p;
		int err_before = d->err, r = d->err; /* ops that do nothing report d->err */
		uint8_t op = ops[i], u8, ver;
		uint16_t u16;
		uint32_t u32;
		uint64_t u64;
		int32_t i32;
		int64_t i64;
		const uint8_t *bp;
		char s[16], *dup;
		uint8_t raw[16];

		switch (op & 15) {
		case 0:
			r = dec_u8(d, &u8);
			break;
		case 1:
			r = dec_u16(d, &u16);
			break;
		case 2:
			r = dec_u32(d, &u32);
			break;
		case 3:
			r = dec_u64(d, &u64);
			break;
		case 4:
			r = dec_i32(d, &i32);
			break;
		case 5:
			r = dec_i64(d, &i64);
			break;
		case 6:
			r = dec_raw(d, raw, op >> 4);
			break;
		case 7:
			r = dec_bytes(d, &bp, &u32);
			if (!r)
				CHECK(bp >= in && bp + u32 <= in + n);
			break;
		case 8:
			r = dec_str(d, s, (op >> 4) + 1u);
			CHECK(strlen(s) <= (size_t)(op >> 4));
			break;
		case 9:
			r = dec_strdup(d, &dup, op >> 3);
			if (!r) {
				CHECK(strlen(dup) <= (size_t)(op >> 3));
				free(dup);
			} else {
				CHECK(dup == NULL);
			}
			break;
		case 10:
			r = dec_need(d, op >> 4, 1u << (op >> 6));
			break;
		case 11:
			if (depth < 8) {
				r = dec_start(d, op >> 4, &stack[depth + 1], &ver);
				if (!r) {
					CHECK(stack[depth + 1].p >= d->p &&
					      stack[depth + 1].end <= d->end);
					depth++;
				}
			}
			break;
		case 12:
			if (depth > 0) {
				r = dec_finish(&stack[depth - 1], d);
				depth--;
				before = NULL; /* the parent moves */
			}
			break;
		default:
			r = d->err;
			break;
		}
		d = &stack[depth];
		CHECK(d->p <= d->end);
		if (before) {
			if (err_before)
				CHECK(r == err_before && d->p == before);
			if (r && (op & 15) != 11)
				CHECK(d->err == r);
		}
		CHECK(r == 0 || r == -EBADMSG || r == -EOPNOTSUPP);
		CHECK(dec_left(d) <= n);
	}
}

struct rec {
	uint8_t version;
	uint32_t a;
	int64_t b;
	char name[24];
	const uint8_t *blob;
	uint32_t bloblen;
	uint32_t nsub;
	uint64_t sub[8];
};

static int rec_decode(struct cdec *d, struct rec *r)
{
	struct cdec body;
	uint32_t i;

	memset(r, 0, sizeof(*r));
	if (dec_start(d, 2, &body, &r->version))
		return d->err;
	dec_u32(&body, &r->a);
	dec_i64(&body, &r->b);
	dec_str(&body, r->name, sizeof(r->name));
	dec_bytes(&body, &r->blob, &r->bloblen);
	dec_u32(&body, &r->nsub);
	if (!dec_need(&body, r->nsub, 8) && r->nsub > 8)
		dec_fail(&body, -EBADMSG);
	for (i = 0; i < r->nsub && !body.err; i++)
		dec_u64(&body, &r->sub[i]);
	return dec_finish(d, &body);
}

static void rec_encode(struct cbuf *b, const struct rec *r)
{
	size_t start = enc_start(b, 2, 1);
	uint32_t i;

	enc_u32(b, r->a);
	enc_i64(b, r->b);
	enc_str(b, r->name);
	enc_bytes(b, r->blob, r->bloblen);
	enc_u32(b, r->nsub);
	for (i = 0; i < r->nsub; i++)
		enc_u64(b, r->sub[i]);
	enc_finish(b, start);
}

static void roundtrip(const uint8_t *in, size_t n)
{
	struct rec r, r2;
	struct cdec d;
	struct cbuf b;
	uint32_t i;

	cdec_init(&d, in, n);
	if (rec_decode(&d, &r))
		return;
	cbuf_init(&b);
	rec_encode(&b, &r);
	CHECK(b.err == 0);
	cdec_init(&d, b.data, b.len);
	CHECK(rec_decode(&d, &r2) == 0);
	CHECK(dec_left(&d) == 0);
	CHECK(r.a == r2.a && r.b == r2.b && !strcmp(r.name, r2.name) && r.nsub == r2.nsub);
	CHECK(r.bloblen == r2.bloblen && (!r.bloblen || !memcmp(r.blob, r2.blob, r.bloblen)));
	for (i = 0; i < r.nsub; i++)
		CHECK(r.sub[i] == r2.sub[i]);
	/* and every proper prefix of the re-encoding is malformed */
	for (i = 0; i < b.len; i += 1 + b.len / 64) {
		cdec_init(&d, b.data, i);
		CHECK(rec_decode(&d, &r2) == -EBADMSG);
	}
	cbuf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t nops;
	uint8_t *in;

	if (size == 0)
		return 0;
	nops = data[0] % 64;
	if (nops > size - 1)
		nops = size - 1;
	in = malloc(size - 1 - nops + 1);
	if (!in)
		return 0;
	memcpy(in, data + 1 + nops, size - 1 - nops);
	run_ops(data + 1, nops, in, size - 1 - nops);
	roundtrip(in, size - 1 - nops);
	free(in);
	return 0;
}
