/*
 * pg_state — placement-group state bits and their "active+clean" string form.
 *
 * A PG's state is a set of bits (u64, encoded as such in mon_proto pg stats). The string
 * form joins the names of the set bits with '+' in bit order, as Ceph prints them
 * ("active+clean", "active+undersized+degraded"). Bit values are part of the wire format:
 * never renumber, only add.
 */
#ifndef CAIRN_PG_STATE_H
#define CAIRN_PG_STATE_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define PG_STATE_CREATING       (1ULL << 0)
#define PG_STATE_ACTIVE         (1ULL << 1)
#define PG_STATE_CLEAN          (1ULL << 2)
#define PG_STATE_DOWN           (1ULL << 3)
#define PG_STATE_RECOVERY_UNFOUND (1ULL << 4)
#define PG_STATE_BACKFILL_UNFOUND (1ULL << 5)
#define PG_STATE_PREMERGE       (1ULL << 6)
#define PG_STATE_SCRUBBING      (1ULL << 7)
#define PG_STATE_DEGRADED       (1ULL << 8)
#define PG_STATE_INCONSISTENT   (1ULL << 9)
#define PG_STATE_PEERING        (1ULL << 10)
#define PG_STATE_REPAIR         (1ULL << 11)
#define PG_STATE_RECOVERING     (1ULL << 12)
#define PG_STATE_BACKFILL_WAIT  (1ULL << 13)
#define PG_STATE_INCOMPLETE     (1ULL << 14)
#define PG_STATE_STALE          (1ULL << 15)
#define PG_STATE_REMAPPED       (1ULL << 16)
#define PG_STATE_DEEP_SCRUB     (1ULL << 17)
#define PG_STATE_BACKFILLING    (1ULL << 18)
#define PG_STATE_BACKFILL_TOOFULL (1ULL << 19)
#define PG_STATE_RECOVERY_WAIT  (1ULL << 20)
#define PG_STATE_UNDERSIZED     (1ULL << 21)
#define PG_STATE_ACTIVATING     (1ULL << 22)
#define PG_STATE_PEERED         (1ULL << 23)
#define PG_STATE_SNAPTRIM       (1ULL << 24)
#define PG_STATE_RECOVERY_TOOFULL (1ULL << 25)
#define PG_STATE_UNKNOWN        (1ULL << 26) /* mon side: no report received yet */
#define PG_STATE_NBITS 27

/* Name of one bit ("active"), or NULL for an unknown bit. */
static inline const char *pg_state_bit_name(uint64_t bit)
{
	static const char *const names[PG_STATE_NBITS] = {
		"creating", "active", "clean", "down", "recovery_unfound", "backfill_unfound",
		"premerge", "scrubbing", "degraded", "inconsistent", "peering", "repair",
		"recovering", "backfill_wait", "incomplete", "stale", "remapped", "deep",
		"backfilling", "backfill_toofull", "recovery_wait", "undersized", "activating",
		"peered", "snaptrim", "recovery_toofull", "unknown",
	};
	for (int i = 0; i < PG_STATE_NBITS; i++)
		if (bit == (1ULL << i))
			return names[i];
	return NULL;
}

/* Writes "active+clean" into buf (always NUL-terminated); "unknown" for 0 (no bits).
 * Returns the length it needed (snprintf-style). */
static inline size_t pg_state_str(uint64_t state, char *buf, size_t len)
{
	size_t n = 0;
	int first = 1;

	if (len)
		buf[0] = '\0';
	if (!state)
		return (size_t)snprintf(buf, len, "unknown");
	for (int i = 0; i < 64; i++) {
		const char *nm;
		char tmp[24];

		if (!(state & (1ULL << i)))
			continue;
		nm = pg_state_bit_name(1ULL << i);
		if (!nm) {
			snprintf(tmp, sizeof(tmp), "bit%d", i);
			nm = tmp;
		}
		n += (size_t)snprintf(n < len ? buf + n : NULL, n < len ? len - n : 0, "%s%s",
				      first ? "" : "+", nm);
		first = 0;
	}
	return n;
}

/* Parses "active+clean" (also a single name) into bits. -EINVAL on an unknown name. */
static inline int pg_state_parse(const char *s, uint64_t *out)
{
	uint64_t st = 0;

	while (*s) {
		const char *e = strchr(s, '+');
		size_t l = e ? (size_t)(e - s) : strlen(s);
		int found = 0;

		for (int i = 0; i < PG_STATE_NBITS; i++) {
			const char *nm = pg_state_bit_name(1ULL << i);
			if (strlen(nm) == l && !strncmp(nm, s, l)) {
				st |= 1ULL << i;
				found = 1;
				break;
			}
		}
		if (!found)
			return -EINVAL;
		s += l;
		if (*s == '+')
			s++;
	}
	*out = st;
	return 0;
}

#endif
