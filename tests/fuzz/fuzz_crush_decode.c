/*
 * fuzz_crush_decode — cairn's binary crush map decoder and the Ceph binary map reader never
 * crash or read out of bounds; anything they accept is a consistent map: it re-encodes and
 * decodes to the same bytes, decompiles, and maps (bounded work) without faults.
 * Input: the bytes, tried as cairn's format and as Ceph's (copied to an exact-size block).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crush/crush.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                                   \
	do {                                                                                       \
		if (!(x))                                                                          \
			abort();                                                                   \
	} while (0)

/* Ceph honours absurd retry/replica counts too; only map what finishes quickly. */
static int cheap_to_map(const struct crush_map *m)
{
	struct crush_tunables t;

	crush_get_tunables(m, &t);
	if (t.choose_total_tries > 60 || t.choose_local_tries > 10 ||
	    t.choose_local_fallback_tries > 10 || crush_max_buckets(m) > 4096)
		return 0;
	for (int r = 0; r < crush_max_rules(m); r++) {
		const struct crush_rule_step *st;
		int n;

		if (crush_get_rule(m, r, NULL, NULL, NULL, &st, &n))
			continue;
		if (n > 16)
			return 0;
		for (int i = 0; i < n; i++)
			if (st[i].arg1 > 60 || st[i].arg1 < -60)
				return 0;
	}
	return 1;
}

static void exercise(struct crush_map *m)
{
	struct cbuf a, b, t;
	struct cdec d;
	struct crush_map *m2 = NULL;
	int out[8];
	uint32_t w[64];
	void *work;

	cbuf_init(&a);
	cbuf_init(&b);
	cbuf_init(&t);
	CHECK(crush_encode(m, &a) == 0);
	cdec_init(&d, a.data, a.len);
	CHECK(crush_decode(&d, &m2) == 0);
	CHECK(crush_encode(m2, &b) == 0);
	CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
	(void)crush_decompile(m, &t);
	for (int i = 0; i < 64; i++)
		w[i] = i % 5 ? 0x10000 : (uint32_t)(i * 0x1111);
	if (cheap_to_map(m)) {
		work = malloc(crush_work_size(m, 8));
		CHECK(work);
		for (int r = 0; r < crush_max_rules(m) && r < 8; r++)
			for (int x = 0; x < 8; x++) {
				int n = crush_do_rule(m, r, x, out, 8, w, 64, work, 0);

				CHECK(n >= 0 && n <= 8);
			}
		free(work);
	}
	crush_destroy(m2);
	cbuf_free(&a);
	cbuf_free(&b);
	cbuf_free(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);
	struct crush_map *m = NULL;
	struct cdec d;
	int r;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	cdec_init(&d, copy, size);
	r = crush_decode(&d, &m);
	CHECK(r == 0 || r == -EBADMSG || r == -EOPNOTSUPP || r == -ENOMEM);
	CHECK(r == 0 ? m != NULL : m == NULL);
	if (m) {
		exercise(m);
		crush_destroy(m);
		m = NULL;
	}
	r = crush_decode_ceph(copy, size, &m);
	CHECK(r == 0 || r == -EBADMSG || r == -ENOMEM);
	if (m) {
		exercise(m);
		crush_destroy(m);
	}
	free(copy);
	return 0;
}
