/* checksum — see checksum.h. isa-l's crc32_iscsi() neither pre- nor post-inverts and takes an
 * int length, hence the inversion here and the chunking. */
#include "common/checksum.h"

#include <isa-l/crc.h>
#include <limits.h>
#include <xxhash.h>
#if defined(__x86_64__)
#define XXH_DISPATCH_DISABLE_REPLACE 1
#include <xxh_x86dispatch.h>
/* libxxhash's plain XXH3 entry points are built for baseline x86-64 (SSE2); the _dispatch
 * variants pick AVX2/AVX-512 at run time (3-4x faster on data blocks). Same hash values.
 * Short inputs (object names) skip the dispatch check. */
#define XXH_BIG	      256
#define xxh3_64(p, n) ((n) >= XXH_BIG ? XXH3_64bits_dispatch(p, n) : XXH3_64bits(p, n))
#define xxh3_64_seed(p, n, s)                                                                      \
	((n) >= XXH_BIG ? XXH3_64bits_withSeed_dispatch(p, n, s) : XXH3_64bits_withSeed(p, n, s))
#define xxh3_128(p, n) ((n) >= XXH_BIG ? XXH3_128bits_dispatch(p, n) : XXH3_128bits(p, n))
#else
#define xxh3_64(p, n)	      XXH3_64bits(p, n)
#define xxh3_64_seed(p, n, s) XXH3_64bits_withSeed(p, n, s)
#define xxh3_128(p, n)	      XXH3_128bits(p, n)
#endif

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
	return xxh3_64(p, n);
}

uint64_t cairn_xxh3_seed(const void *p, size_t n, uint64_t seed)
{
	return xxh3_64_seed(p, n, seed);
}

struct cairn_h128 cairn_xxh3_128(const void *p, size_t n)
{
	XXH128_hash_t h = xxh3_128(p, n);
	struct cairn_h128 r = {.lo = h.low64, .hi = h.high64};

	return r;
}
