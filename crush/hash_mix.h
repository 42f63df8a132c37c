/*
 * hash_mix — Bob Jenkins' 96-bit mix, the one copy shared by the rjenkins1 CRUSH hashes,
 * Ceph's object-name string hash (crush/hash.c) and the 8-lane bucket hash (crush/mapper.c).
 * It works on any type with unsigned 32-bit lane semantics (uint32_t or a GCC vector of
 * them). Part of the placement contract: never change it.
 */
#ifndef CAIRN_CRUSH_HASH_MIX_H
#define CAIRN_CRUSH_HASH_MIX_H

#define CRUSH_HASHMIX(a, b, c)                                                                           \
	do {                                                                                       \
		a -= b;                                                                            \
		a -= c;                                                                            \
		a ^= (c >> 13);                                                                    \
		b -= c;                                                                            \
		b -= a;                                                                            \
		b ^= (a << 8);                                                                     \
		c -= a;                                                                            \
		c -= b;                                                                            \
		c ^= (b >> 13);                                                                    \
		a -= b;                                                                            \
		a -= c;                                                                            \
		a ^= (c >> 12);                                                                    \
		b -= c;                                                                            \
		b -= a;                                                                            \
		b ^= (a << 16);                                                                    \
		c -= a;                                                                            \
		c -= b;                                                                            \
		c ^= (b >> 5);                                                                     \
		a -= b;                                                                            \
		a -= c;                                                                            \
		a ^= (c >> 3);                                                                     \
		b -= c;                                                                            \
		b -= a;                                                                            \
		b ^= (a << 10);                                                                    \
		c -= a;                                                                            \
		c -= b;                                                                            \
		c ^= (b >> 15);                                                                    \
	} while (0)

#endif
