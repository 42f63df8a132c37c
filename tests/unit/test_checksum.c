/* test_checksum — CRC32C against RFC 3720 / iSCSI vectors, chaining, every alignment and
 * length the SIMD code distinguishes; XXH3 against published vectors (values that reach disk
 * and the wire must never change). */
// timeout: 60
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/checksum.h"

#include <xxhash.h>

/* Bitwise reference CRC32C (reflected 0x82f63b78), for cross-checking the SIMD path. */
static uint32_t crc32c_ref(uint32_t seed, const uint8_t *p, size_t n)
{
	uint32_t crc = ~seed;
	int k;

	while (n--) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1)));
	}
	return ~crc;
}

static void test_crc32c_vectors(void **state)
{
	uint8_t buf[32];
	int i;

	(void)state;
	assert_int_equal(cairn_crc32c(0, "123456789", 9), 0xe3069283);
	assert_int_equal(cairn_crc32c(0, "", 0), 0);
	assert_int_equal(cairn_crc32c(0, NULL, 0), 0);
	assert_int_equal(cairn_crc32c(0, "a", 1), 0xc1d04330);
	/* RFC 3720 appendix B.4 */
	memset(buf, 0, sizeof(buf));
	assert_int_equal(cairn_crc32c(0, buf, 32), 0x8a9136aa);
	memset(buf, 0xff, sizeof(buf));
	assert_int_equal(cairn_crc32c(0, buf, 32), 0x62a8ab43);
	for (i = 0; i < 32; i++)
		buf[i] = (uint8_t)i;
	assert_int_equal(cairn_crc32c(0, buf, 32), 0x46dd794e);
	for (i = 0; i < 32; i++)
		buf[i] = (uint8_t)(31 - i);
	assert_int_equal(cairn_crc32c(0, buf, 32), 0x113fdb5c);
}

static void test_crc32c_matches_reference(void **state)
{
	enum { N = 4096 + 64 };
	uint8_t *buf = malloc(N);
	size_t off, len, split;
	uint32_t x = 12345;

	(void)state;
	assert_non_null(buf);
	for (off = 0; off < N; off++) {
		x = x * 1103515245u + 12345u;
		buf[off] = (uint8_t)(x >> 16);
	}
	for (off = 0; off < 16; off++)
		for (len = 0; len < 600; len += (len < 300 ? 1 : 37))
			assert_int_equal(cairn_crc32c(0, buf + off, len),
					 crc32c_ref(0, buf + off, len));
	assert_int_equal(cairn_crc32c(0, buf, 4096), crc32c_ref(0, buf, 4096));
	assert_int_equal(cairn_crc32c(0xabcdef01u, buf, 4096), crc32c_ref(0xabcdef01u, buf, 4096));
	/* chaining: crc(a||b) == crc(crc(a), b) at every split point */
	for (split = 0; split <= 1024; split += 7)
		assert_int_equal(
		    cairn_crc32c(cairn_crc32c(0, buf, split), buf + split, 1024 - split),
		    cairn_crc32c(0, buf, 1024));
	free(buf);
}

static void test_xxh3_vectors(void **state)
{
	struct cairn_h128 h;
	uint8_t buf[2048];
	size_t i;

	(void)state;
	/* XXH3_64bits("") and XXH3_128bits("") from the xxHash reference */
	assert_true(cairn_xxh3("", 0) == 0x2d06800538d394c2ull);
	assert_true(cairn_xxh3_seed("", 0, 0) == 0x2d06800538d394c2ull);
	h = cairn_xxh3_128("", 0);
	assert_true(h.hi == 0x99aa06d3014798d8ull);
	assert_true(h.lo == 0x6001c324468d497full);
	/* pinned values: object placement depends on them, they must never change */
	assert_true(cairn_xxh3("a", 1) == 0xe6c632b61e964e1full);
	/* seed 0 equals unseeded at every length (all code paths: 0-16, 17-128, 129-240, >240) */
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	for (i = 0; i < sizeof(buf); i += 13)
		assert_true(cairn_xxh3(buf, i) == cairn_xxh3_seed(buf, i, 0));
	/* the run-time dispatched (AVX2/AVX-512) path for long inputs agrees with the portable one
	 */
	for (i = 0; i < sizeof(buf); i += 61) {
		struct cairn_h128 h2 = cairn_xxh3_128(buf, i);
		XXH128_hash_t r = XXH3_128bits(buf, i);

		assert_true(cairn_xxh3(buf, i) == XXH3_64bits(buf, i));
		assert_true(cairn_xxh3_seed(buf, i, 77) == XXH3_64bits_withSeed(buf, i, 77));
		assert_true(h2.lo == r.low64 && h2.hi == r.high64);
	}
	assert_true(cairn_xxh3_seed(buf, 100, 1) != cairn_xxh3(buf, 100));
	assert_true(cairn_xxh3(buf, 100) != cairn_xxh3(buf, 101));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_crc32c_vectors),
	    cmocka_unit_test(test_crc32c_matches_reference),
	    cmocka_unit_test(test_xxh3_vectors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
