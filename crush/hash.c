/*
 * hash — see hash.h. Jenkins' 96-bit mix; the seeds and the order in which inputs are mixed
 * are part of the placement contract and must never change.
 */
#include "crush/hash.h"
#include "crush/hash_mix.h"

#define CRUSH_HASH_SEED 1315423911u


static uint32_t rj1(uint32_t a)
{
	uint32_t h = CRUSH_HASH_SEED ^ a, b = a, x = 231232, y = 1232;

	CRUSH_HASHMIX(b, x, h);
	CRUSH_HASHMIX(y, a, h);
	return h;
}

static uint32_t rj2(uint32_t a, uint32_t b)
{
	uint32_t h = CRUSH_HASH_SEED ^ a ^ b, x = 231232, y = 1232;

	CRUSH_HASHMIX(a, b, h);
	CRUSH_HASHMIX(x, a, h);
	CRUSH_HASHMIX(b, y, h);
	return h;
}

static uint32_t rj3(uint32_t a, uint32_t b, uint32_t c)
{
	uint32_t h = CRUSH_HASH_SEED ^ a ^ b ^ c, x = 231232, y = 1232;

	CRUSH_HASHMIX(a, b, h);
	CRUSH_HASHMIX(c, x, h);
	CRUSH_HASHMIX(y, a, h);
	CRUSH_HASHMIX(b, x, h);
	CRUSH_HASHMIX(y, c, h);
	return h;
}

static uint32_t rj4(uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
	uint32_t h = CRUSH_HASH_SEED ^ a ^ b ^ c ^ d, x = 231232, y = 1232;

	CRUSH_HASHMIX(a, b, h);
	CRUSH_HASHMIX(c, d, h);
	CRUSH_HASHMIX(a, x, h);
	CRUSH_HASHMIX(y, b, h);
	CRUSH_HASHMIX(c, x, h);
	CRUSH_HASHMIX(y, d, h);
	return h;
}

static uint32_t rj5(uint32_t a, uint32_t b, uint32_t c, uint32_t d, uint32_t e)
{
	uint32_t h = CRUSH_HASH_SEED ^ a ^ b ^ c ^ d ^ e, x = 231232, y = 1232;

	CRUSH_HASHMIX(a, b, h);
	CRUSH_HASHMIX(c, d, h);
	CRUSH_HASHMIX(e, x, h);
	CRUSH_HASHMIX(y, a, h);
	CRUSH_HASHMIX(b, x, h);
	CRUSH_HASHMIX(y, c, h);
	CRUSH_HASHMIX(d, x, h);
	CRUSH_HASHMIX(y, e, h);
	return h;
}

uint32_t crush_hash32(int type, uint32_t a)
{
	return type == CRUSH_HASH_RJENKINS1 ? rj1(a) : 0;
}

uint32_t crush_hash32_2(int type, uint32_t a, uint32_t b)
{
	return type == CRUSH_HASH_RJENKINS1 ? rj2(a, b) : 0;
}

uint32_t crush_hash32_3(int type, uint32_t a, uint32_t b, uint32_t c)
{
	return type == CRUSH_HASH_RJENKINS1 ? rj3(a, b, c) : 0;
}

uint32_t crush_hash32_4(int type, uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
	return type == CRUSH_HASH_RJENKINS1 ? rj4(a, b, c, d) : 0;
}

uint32_t crush_hash32_5(int type, uint32_t a, uint32_t b, uint32_t c, uint32_t d, uint32_t e)
{
	return type == CRUSH_HASH_RJENKINS1 ? rj5(a, b, c, d, e) : 0;
}

const char *crush_hash_name(int type)
{
	return type == CRUSH_HASH_RJENKINS1 ? "rjenkins1" : NULL;
}

/* Jenkins' lookup2 mix, as ceph_str_hash_rjenkins uses it. */

static inline uint32_t le32_at(const unsigned char *k)
{
	return k[0] | ((uint32_t)k[1] << 8) | ((uint32_t)k[2] << 16) | ((uint32_t)k[3] << 24);
}

uint32_t crush_str_hash_rjenkins(const char *s, size_t length)
{
	const unsigned char *k = (const unsigned char *)s;
	uint32_t a = 0x9e3779b9u, b = 0x9e3779b9u, c = 0;
	uint32_t len = (uint32_t)length;

	while (len >= 12) {
		a += le32_at(k);
		b += le32_at(k + 4);
		c += le32_at(k + 8);
		CRUSH_HASHMIX(a, b, c);
		k += 12;
		len -= 12;
	}
	c += (uint32_t)length;
	switch (len) { /* every case falls through */
	case 11:
		c += (uint32_t)k[10] << 24; /* fall through */
	case 10:
		c += (uint32_t)k[9] << 16; /* fall through */
	case 9:
		c += (uint32_t)k[8] << 8; /* fall through */
	case 8:
		b += (uint32_t)k[7] << 24; /* fall through */
	case 7:
		b += (uint32_t)k[6] << 16; /* fall through */
	case 6:
		b += (uint32_t)k[5] << 8; /* fall through */
	case 5:
		b += k[4]; /* fall through */
	case 4:
		a += (uint32_t)k[3] << 24; /* fall through */
	case 3:
		a += (uint32_t)k[2] << 16; /* fall through */
	case 2:
		a += (uint32_t)k[1] << 8; /* fall through */
	case 1:
		a += k[0]; /* fall through */
	default:
		break;
	}
	CRUSH_HASHMIX(a, b, c);
	return c;
}
