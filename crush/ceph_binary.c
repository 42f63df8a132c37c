/*
 * ceph_binary — reads Ceph's own binary crush map (CrushWrapper::encode, magic 0x00010000),
 * for people bringing a map from `ceph osd getcrushmap`. Read-only; cairn writes its own
 * format (codec.c).
 */
#include "crush/crush_int.h"

#define CEPH_CRUSH_MAGIC 0x00010000u

int crush_is_ceph_binary(const void *p, size_t n)
{
	const uint8_t *b = p;

	return n >= 4 && (b[0] | (b[1] << 8) | (b[2] << 16) | ((uint32_t)b[3] << 24)) ==
				 CEPH_CRUSH_MAGIC;
}

int crush_decode_ceph(const void *p, size_t n, struct crush_map **out)
{
	(void)p;
	(void)n;
	*out = NULL;
	return -EOPNOTSUPP;
}
