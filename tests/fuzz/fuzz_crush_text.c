/*
 * fuzz_crush_text — the crush map text compiler never crashes, never reads past its input
 * (copied to an exact-size block, not NUL-terminated), and either fails with a
 * "FILE:LINE: message" or yields a consistent map that encodes, decodes, decompiles and maps
 * (bounded work).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crush/crush.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                                   \
	do {                                                                                       \
		if (!(x))                                                                          \
			abort();                                                                   \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size ? size : 1), err[256];
	struct crush_map *m = NULL, *m2 = NULL;
	int r;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	r = crush_compile(copy, size, "f", &m, err, sizeof(err));
	CHECK(r == 0 || r == -EINVAL || r == -ENOMEM);
	if (r == -EINVAL)
		CHECK(!strncmp(err, "f:", 2));
	if (m) {
		struct cbuf b, t;
		struct cdec d;
		struct crush_tunables tun;

		cbuf_init(&b);
		cbuf_init(&t);
		CHECK(crush_encode(m, &b) == 0);
		cdec_init(&d, b.data, b.len);
		CHECK(crush_decode(&d, &m2) == 0);
		CHECK(crush_decompile(m, &t) == 0);
		crush_get_tunables(m, &tun);
		if (tun.choose_total_tries <= 60 && tun.choose_local_tries <= 10 &&
		    tun.choose_local_fallback_tries <= 10) {
			void *work = malloc(crush_work_size(m, 6));
			uint32_t w[32];
			int out[6];

			for (int i = 0; i < 32; i++)
				w[i] = 0x10000 - (uint32_t)i * 0x800;
			for (int rr = 0; rr < crush_max_rules(m) && rr < 4; rr++) {
				const struct crush_rule_step *st = NULL;
				int n = 0, ok = 1;

				if (crush_get_rule(m, rr, NULL, NULL, NULL, &st, &n))
					continue;
				for (int i = 0; st && i < n; i++)
					if (st[i].arg1 > 60 || st[i].arg1 < -60)
						ok = 0;
				for (int x = 0; ok && x < 4; x++)
					CHECK(crush_do_rule(m, rr, x, out, 6, w, 32, work, 0) <= 6);
			}
			free(work);
		}
		cbuf_free(&b);
		cbuf_free(&t);
		crush_destroy(m);
		crush_destroy(m2);
	}
	free(copy);
	return 0;
}
