/* checksum — see checksum.h. isa-l's crc32_iscsi() neither pre- nor post-inverts and takes an
 * int length, hence the inversion here and the chunking. */
#include "common/checksum.h"

#include <isa-l/crc.h>
#include <limits.h>
#include <xxhash.h>

uint32_t cairn_crc32c(uint32_t seed, const void *p, size_t n)
{
	const unsigned char *b = p;
	uint32_t crc = ~seed;
	size_t chunk;

	while (n) {
		chunk = n > (size_t)INT_MAX / 2 ? (size_t)INT_MAX / 2 : n;
		crc = crc32_iscsi((unsigned char *)b, (int)chunk, crc);
		b += chunk;
		n -= chunk;
	}
	return ~crc;
}

uint64_t cairn_xxh3(const void *p, size_t n)
{
	return XXH3_64bits(p, n);
}

uint64_t cairn_xxh3_seed(const void *p, size_t n, uint64_t seed)
{
	return XXH3_64bits_withSeed(p, n, seed);
}

struct cairn_h128 cairn_xxh3_128(const void *p, size_t n)
{
	XXH128_hash_t h = XXH3_128bits(p, n);
	struct cairn_h128 r = {.lo = h.low64, .hi = h.high64};

	return r;
}
