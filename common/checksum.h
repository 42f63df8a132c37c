/*
 * checksum — CRC32C (Castagnoli, through isa-l's SIMD code) and XXH3 (through libxxhash).
 *
 * CRC32C is the standard one (iSCSI/ext4/RFC 3720 polynomial, reflected, pre- and
 * post-inverted): cairn_crc32c(0, "123456789", 9) == 0xe3069283. The seed is the previous
 * result, so checksums chain: crc(0, a||b) == crc(crc(0, a), b). Use it for message frames
 * and on-disk records. XXH3-64 hashes object names and data blocks; never change how a value
 * that reaches disk or the wire is hashed.
 */
#ifndef CAIRN_CHECKSUM_H
#define CAIRN_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

uint32_t cairn_crc32c(uint32_t seed, const void *p, size_t n);
uint64_t cairn_xxh3(const void *p, size_t n);
uint64_t cairn_xxh3_seed(const void *p, size_t n, uint64_t seed);

/* XXH3-128 (e.g. content fingerprints where 64 bits could collide). */
struct cairn_h128 {
	uint64_t lo, hi;
};
struct cairn_h128 cairn_xxh3_128(const void *p, size_t n);

#endif
