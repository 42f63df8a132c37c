/*
 * store_alloc — which slots of the data file are in use: an in-memory bitmap, rebuilt at
 * open from the "B" keys (store_int.h explains why that is crash-safe). Allocation is
 * next-fit from the last slot handed out, below the high-water mark (the highest slot
 * ever used + 1), so a large write gets contiguous slots and goes out in one pwrite, and
 * freed slots are reused before the file grows. The file never shrinks.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "osd/store_int.h"

static int grow_locked(struct store *s, uint64_t need)
{
	uint64_t cap = s->slot_cap ? s->slot_cap : 4096, *nb;

	while (cap <= need)
		cap *= 2;
	nb = realloc(s->slot_bits, cap / 8);
	if (!nb)
		return -ENOMEM;
	memset((uint8_t *)nb + s->slot_cap / 8, 0, (cap - s->slot_cap) / 8);
	s->slot_bits = nb;
	s->slot_cap = cap;
	return 0;
}

int store_alloc_mark(struct store *s, uint64_t slot)
{
	int rc = 0;

	pthread_mutex_lock(&s->alloc_lock);
	if (slot >= s->slot_cap)
		rc = grow_locked(s, slot);
	if (!rc && !(s->slot_bits[slot / 64] & (1ull << (slot % 64)))) {
		s->slot_bits[slot / 64] |= 1ull << (slot % 64);
		s->slots_used++;
		if (slot + 1 > s->slot_hwm)
			s->slot_hwm = slot + 1;
	}
	pthread_mutex_unlock(&s->alloc_lock);
	return rc;
}

int store_alloc_get(struct store *s, uint64_t *slot)
{
	uint64_t words, w, i, hint;
	int rc = 0;

	pthread_mutex_lock(&s->alloc_lock);
	/* next-fit below the high-water mark (wrapping once), so freed slots are reused
	 * before the file grows; then the slot at the mark */
	words = (s->slot_hwm + 63) / 64;
	hint = s->slot_hint < s->slot_hwm ? s->slot_hint : 0;
	/* every slot below the mark in use (the common case of a growing file): no scan, which
	 * would cost O(file size) per slot */
	if (s->slots_used >= s->slot_hwm)
		words = 0;
	for (i = 0; i <= words && words; i++) {
		w = (hint / 64 + i) % words;
		uint64_t free_bits = ~s->slot_bits[w];

		if (i == 0)
			free_bits &= ~0ull << (hint % 64);
		if (free_bits) {
			*slot = w * 64 + (uint64_t)__builtin_ctzll(free_bits);
			if (*slot < s->slot_hwm)
				goto found;
		}
	}
	*slot = s->slot_hwm;
	if (*slot >= s->slot_cap)
		rc = grow_locked(s, *slot);
	if (rc)
		goto out;
found:
	s->slot_bits[*slot / 64] |= 1ull << (*slot % 64);
	s->slots_used++;
	s->slot_hint = *slot + 1;
	if (*slot + 1 > s->slot_hwm)
		s->slot_hwm = *slot + 1;
out:
	pthread_mutex_unlock(&s->alloc_lock);
	return rc;
}

void store_alloc_put(struct store *s, uint64_t slot)
{
	pthread_mutex_lock(&s->alloc_lock);
	if (slot < s->slot_cap && (s->slot_bits[slot / 64] & (1ull << (slot % 64)))) {
		s->slot_bits[slot / 64] &= ~(1ull << (slot % 64));
		s->slots_used--;
	}
	pthread_mutex_unlock(&s->alloc_lock);
}

void store_alloc_free_all(struct store *s)
{
	free(s->slot_bits);
	free(s->pbits);
	s->pbits = NULL;
	s->pbits_bytes = 0;
	s->slot_bits = NULL;
	s->slot_cap = s->slots_used = s->slot_hint = s->slot_hwm = 0;
}

int store_pbits_set(struct store *s, uint64_t g, const uint8_t *bits)
{
	uint64_t need = (g + 1) * STORE_BGROUP_BYTES;

	if (need > s->pbits_bytes) {
		uint64_t cap = s->pbits_bytes ? s->pbits_bytes : 4096;
		uint8_t *nb;

		while (cap < need)
			cap *= 2;
		nb = realloc(s->pbits, cap);
		if (!nb)
			return -ENOMEM;
		memset(nb + s->pbits_bytes, 0, cap - s->pbits_bytes);
		s->pbits = nb;
		s->pbits_bytes = cap;
	}
	memcpy(s->pbits + g * STORE_BGROUP_BYTES, bits, STORE_BGROUP_BYTES);
	return 0;
}
