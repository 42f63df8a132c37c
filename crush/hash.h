/*
 * hash — the hash functions placement depends on, bit-identical to Ceph's.
 *
 *  - crush_hash32*: Robert Jenkins' 96-bit mix ("rjenkins1"), the only hash CRUSH buckets use
 *    (bucket "hash 0"). An unknown hash type hashes to 0, as in Ceph.
 *  - crush_str_hash_rjenkins: Ceph's ceph_str_hash_rjenkins (Jenkins lookup2 over the bytes),
 *    the object-name -> placement seed hash for pools with object_hash "rjenkins".
 *  - crush_stable_mod: Ceph's ceph_stable_mod, seed -> PG folding that keeps most PGs in place
 *    when pg_num grows.
 *
 * NEVER change any of these: every object's location in every cluster depends on them.
 */
#ifndef CAIRN_CRUSH_HASH_H
#define CAIRN_CRUSH_HASH_H

#include <stddef.h>
#include <stdint.h>

#define CRUSH_HASH_RJENKINS1 0
#define CRUSH_HASH_DEFAULT   CRUSH_HASH_RJENKINS1

uint32_t crush_hash32(int type, uint32_t a);
uint32_t crush_hash32_2(int type, uint32_t a, uint32_t b);
uint32_t crush_hash32_3(int type, uint32_t a, uint32_t b, uint32_t c);
uint32_t crush_hash32_4(int type, uint32_t a, uint32_t b, uint32_t c, uint32_t d);
uint32_t crush_hash32_5(int type, uint32_t a, uint32_t b, uint32_t c, uint32_t d, uint32_t e);
/* "rjenkins1" for 0, NULL for an unknown type. */
const char *crush_hash_name(int type);

/* Ceph's ceph_str_hash_rjenkins: object name bytes -> 32-bit placement seed. */
uint32_t crush_str_hash_rjenkins(const char *s, size_t len);

/* Ceph's ceph_stable_mod: x folded into [0, b) given bmask = (next power of two >= b) - 1. */
static inline int crush_stable_mod(int x, int b, int bmask)
{
	if ((x & bmask) < b)
		return x & bmask;
	return x & (bmask >> 1);
}

#endif
