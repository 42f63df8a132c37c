/*
 * osdmap — the OSD map: epochs, OSDs, pools, flags, the CRUSH map, and placement.
 *
 * The map is the one truth every daemon and client acts on. The monitor produces one map
 * per epoch; everyone else receives full maps or incrementals (struct osdmap_inc) and
 * applies them in epoch order. See docs/maps.md for the format.
 *
 * Sharing: a published map is immutable and refcounted (osdmap_get/osdmap_put, atomic), so
 * any thread may read it while holding a ref. Mutation is only allowed on a private copy
 * (refcount 1, e.g. from osdmap_copy) and must end with osdmap_finalize(), which rebuilds
 * the derived fields (pg masks, the CRUSH weight vector, workspace sizes).
 *
 * Placement (bit-compatible with Ceph's, HASHPSPOOL semantics):
 *   object name --pool object hash (XXH3 low 32 bits | rjenkins)--> h
 *   ps  = stable_mod(h, pg_num, pg_num_mask)                       -> pg_id {pool, ps}
 *   pps = crush_hash32_2(RJENKINS1, stable_mod(ps, pgp_num, pgp_num_mask), pool)
 *   raw = crush_do_rule(rule, pps, size, weights[osd] = in ? reweight : 0)
 *   up  = raw minus down/nonexistent OSDs (replicated: removed, order kept;
 *         erasure: replaced by OSDMAP_NONE so shard positions hold)
 *   up_primary = first OSD of up that is not NONE
 *   acting = pg_temp[pg] if present (filtered the same way), else up;
 *   acting_primary = primary_temp[pg] if present, else first of acting.
 * Placement functions allocate nothing (CRUSH workspace is on the stack, bounded by
 * OSDMAP_CRUSH_WORK_MAX; a map needing more returns -E2BIG).
 */
#ifndef CAIRN_OSDMAP_H
#define CAIRN_OSDMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cbuf;
struct crush_map;

#define CAIRN_MAX_REPLICAS 16     /* max pool size; up/acting arrays hold this many */
#define OSDMAP_NONE 0x7fffffff    /* hole in an erasure up/acting set (== CRUSH_ITEM_NONE) */
#define OSDMAP_ADDR_MAX 48        /* "IP:PORT" + NUL */
#define OSDMAP_NAME_MAX 64        /* pool names, incl. NUL */
#define OSDMAP_MAX_OSD 65536      /* hard cap on max_osd (decoder guard) */
#define OSDMAP_CRUSH_WORK_MAX (64 * 1024)
#define PG_ID_STR_MAX 32

/* ---- placement group ids ---------------------------------------------------------------- */

struct pg_id {
	int64_t pool;
	uint32_t ps; /* placement seed, < pool pg_num */
};

/* "1.2a" (pool decimal, ps lowercase hex). Returns buf. */
const char *pg_id_str(const struct pg_id *pg, char *buf, size_t len);
/* Parses "POOL.PSHEX"; -EINVAL on anything else. */
int pg_id_parse(const char *s, struct pg_id *out);
static inline int pg_id_cmp(const struct pg_id *a, const struct pg_id *b)
{
	if (a->pool != b->pool)
		return a->pool < b->pool ? -1 : 1;
	return a->ps < b->ps ? -1 : a->ps > b->ps;
}

/* ---- OSDs --------------------------------------------------------------------------------- */

#define OSD_STATE_EXISTS 0x1
#define OSD_STATE_UP     0x2
#define OSD_STATE_AUTOOUT 0x4 /* marked out by the mon (down too long): boot marks it in again */

#define OSD_WEIGHT_IN  0x10000 /* reweight 1.0 (16.16 fixed point) */
#define OSD_WEIGHT_OUT 0

struct osd_info {
	int32_t id;          /* == index in osdmap.osds */
	uint32_t state;      /* OSD_STATE_* */
	uint32_t reweight;   /* 16.16; 0 = out, 0x10000 = fully in */
	uint32_t up_from;    /* epoch it last came up */
	uint32_t down_at;    /* epoch it last went down (0: never) */
	uint32_t up_thru;    /* last epoch the OSD asked to be alive through */
	uint64_t down_stamp; /* wall ns when it went down (drives down -> out); 0 if up */
	uint8_t uuid[16];    /* the OSD's store fsid (boot identity); zero if unknown */
	char addr[OSDMAP_ADDR_MAX]; /* "IP:PORT" it last booted with; "" if never */
	/* derived (osdmap_finalize), not encoded: */
	uint32_t crush_weight; /* 16.16 weight of the device in the CRUSH map (0 if absent) */
};

static inline bool osd_info_exists(const struct osd_info *o) { return o->state & OSD_STATE_EXISTS; }
static inline bool osd_info_up(const struct osd_info *o) { return (o->state & OSD_STATE_UP) != 0; }
static inline bool osd_info_in(const struct osd_info *o) { return o->reweight > 0; }

/* ---- pools ---------------------------------------------------------------------------------- */

#define POOL_TYPE_REPLICATED 1 /* Ceph's values */
#define POOL_TYPE_ERASURE    3

#define POOL_HASH_RJENKINS 2   /* Ceph's CEPH_STR_HASH_RJENKINS */
#define POOL_HASH_XXH3     16  /* cairn default: low 32 bits of XXH3-64 */

struct pool_info {
	int64_t id;
	char name[OSDMAP_NAME_MAX];
	uint8_t type;        /* POOL_TYPE_* */
	uint8_t size;        /* replicas, or k+m for erasure */
	uint8_t min_size;
	uint8_t object_hash; /* POOL_HASH_* */
	uint32_t pg_num;
	uint32_t pgp_num;
	int32_t crush_rule;  /* rule id in the CRUSH map */
	uint32_t flags;      /* reserved */
	uint32_t last_change; /* epoch of the last change to this pool */
	uint8_t ec_k, ec_m;  /* erasure only */
	uint32_t stripe_unit; /* erasure only, bytes */
	/* derived (osdmap_finalize), not encoded: */
	uint32_t pg_num_mask;
	uint32_t pgp_num_mask;
};

/* ---- flags ----------------------------------------------------------------------------------- */

#define OSDMAP_FLAG_NOOUT  0x1
#define OSDMAP_FLAG_NOIN   0x2
#define OSDMAP_FLAG_NOUP   0x4
#define OSDMAP_FLAG_NODOWN 0x8
#define OSDMAP_FLAG_PAUSE  0x10 /* clients hold all I/O */
#define OSDMAP_FLAG_ALL    0x1f

/* "noout" for one bit; NULL if unknown. */
const char *osdmap_flag_name(uint32_t bit);
/* "noout" -> bit; -EINVAL if unknown. */
int osdmap_flag_parse(const char *name, uint32_t *bit);
/* "noout,noup" ("" for none) into buf; returns buf. */
const char *osdmap_flags_str(uint32_t flags, char *buf, size_t len);

/* ---- pg_temp / primary_temp (set by recovery; empty until then) ---------------------------- */

struct pg_temp {
	struct pg_id pg;
	uint8_t n;                         /* 0 in an incremental removes the entry */
	int32_t osds[CAIRN_MAX_REPLICAS];
};

struct primary_temp {
	struct pg_id pg;
	int32_t osd;                       /* -1 in an incremental removes the entry */
};

/* ---- the map ----------------------------------------------------------------------------- */

struct osdmap {
	int refs;                 /* atomic; see osdmap_get/put */
	uint8_t fsid[16];         /* cluster id */
	uint32_t epoch;           /* 0: empty map, no cluster yet */
	uint64_t created;         /* wall ns */
	uint64_t modified;        /* wall ns of this epoch */
	uint32_t flags;           /* OSDMAP_FLAG_* */

	int32_t max_osd;          /* osds[0..max_osd) */
	struct osd_info *osds;

	uint32_t num_pools;       /* sorted by id */
	struct pool_info *pools;
	int64_t pool_max;         /* highest pool id ever used (ids are never reused) */

	uint32_t num_pg_temp;     /* sorted by pg */
	struct pg_temp *pg_temp;
	uint32_t num_primary_temp; /* sorted by pg */
	struct primary_temp *primary_temp;

	struct crush_map *crush;  /* owned; never NULL after osdmap_new/decode */

	uint8_t *mds_map;         /* opaque MDS map blob (later issue); may be NULL */
	uint32_t mds_map_len;

	/* derived (osdmap_finalize), not encoded: */
	uint32_t *crush_weights;  /* [max_osd]: reweight if exists && in, else 0 */
	size_t crush_work_size;
};

/* A fresh map: epoch 0, no OSDs or pools, an empty CRUSH map (NULL crush: creates one).
 * Takes ownership of crush. NULL on ENOMEM. */
struct osdmap *osdmap_new(const uint8_t fsid[16], struct crush_map *crush);
/* Deep copy with refcount 1 (derived fields included). NULL on ENOMEM. */
struct osdmap *osdmap_copy(const struct osdmap *m);
struct osdmap *osdmap_get(struct osdmap *m);
void osdmap_put(struct osdmap *m); /* frees on the last ref; NULL is a no-op */
/* Rebuilds derived fields after mutation of a private copy. 0 or -ENOMEM/-EINVAL. */
int osdmap_finalize(struct osdmap *m);

/* Full map, in one versioned envelope. encode returns 0 or b->err. */
int osdmap_encode(const struct osdmap *m, struct cbuf *b);
/* -EBADMSG on any truncation or garbage, -EOPNOTSUPP on a too-new compat. */
int osdmap_decode(struct osdmap **out, const void *p, size_t n);

/* --- lookups (const map; the returned pointers live as long as the map) --- */
const struct pool_info *osdmap_pool(const struct osdmap *m, int64_t id);
const struct pool_info *osdmap_lookup_pool_by_name(const struct osdmap *m, const char *name);
const struct osd_info *osdmap_osd(const struct osdmap *m, int32_t id); /* NULL if !exists */
bool osdmap_is_up(const struct osdmap *m, int32_t id);
bool osdmap_is_in(const struct osdmap *m, int32_t id);
/* Counts of existing / up / in OSDs. */
void osdmap_count_osds(const struct osdmap *m, int *num, int *num_up, int *num_in);
/* Iteration: for (i = 0; i < m->num_pools; i++) m->pools[i]; OSDs: for id < max_osd with
 * osdmap_osd(m, id) != NULL. The macros below spell that out. */
#define osdmap_for_each_pool(m, p) \
	for ((p) = (m)->pools; (p) < (m)->pools + (m)->num_pools; (p)++)
#define osdmap_for_each_osd(m, o) \
	for ((o) = (m)->osds; (o) < (m)->osds + (m)->max_osd; (o)++) \
		if (osd_info_exists(o))

/* --- mutation of a private copy (refcount 1); call osdmap_finalize() after --- */
/* Grows osds[] to n entries (new ones zeroed, not existing). Shrinking is refused. */
int osdmap_set_max_osd(struct osdmap *m, int32_t n);
/* Adds or replaces (by id) a pool; the pool's name must be unique. -EEXIST, -ENOMEM. */
int osdmap_pool_set(struct osdmap *m, const struct pool_info *p);
int osdmap_pool_remove(struct osdmap *m, int64_t id); /* -ENOENT */
/* n == 0 removes the entry. */
int osdmap_set_pg_temp(struct osdmap *m, struct pg_id pg, const int32_t *osds, int n);
int osdmap_set_primary_temp(struct osdmap *m, struct pg_id pg, int32_t osd); /* -1 removes */
/* Replaces the CRUSH map (takes ownership; frees the old one). */
void osdmap_set_crush(struct osdmap *m, struct crush_map *crush);
int osdmap_set_mds_map(struct osdmap *m, const void *blob, uint32_t len);

/* --- placement --- */
/* The object's 32-bit hash under the pool's object hash. */
uint32_t osdmap_object_hash(const struct pool_info *p, const char *name, size_t len);
/* name (len bytes, not necessarily NUL-terminated) -> pg. -ENOENT if no such pool. */
int osdmap_object_to_pg(const struct osdmap *m, int64_t pool, const char *name, size_t len,
			struct pg_id *out);
/* The CRUSH input of a pg (Ceph raw_pg_to_pps with HASHPSPOOL). */
uint32_t osdmap_pg_to_pps(const struct pool_info *p, struct pg_id pg);
/* CRUSH output before the up/down filter; *n = number of entries in raw[CAIRN_MAX_REPLICAS]. */
int osdmap_pg_to_raw(const struct osdmap *m, struct pg_id pg, int32_t *raw, int *n);
/* up[] and acting[] have room for CAIRN_MAX_REPLICAS; any out pointer may be NULL. A primary
 * is -1 when the set is empty. -ENOENT if the pool does not exist, -ERANGE if ps >= pg_num. */
int osdmap_pg_to_up_acting(const struct osdmap *m, struct pg_id pg, int32_t *up, int *nup,
			   int32_t *up_primary, int32_t *acting, int *nacting,
			   int32_t *acting_primary);
/* Is pg's ps valid in its pool? */
bool osdmap_pg_exists(const struct osdmap *m, struct pg_id pg);

/* ---- incrementals -------------------------------------------------------------------------- */

/* What changed between epoch-1 and epoch. Produced by osdmap_diff (the monitor builds the new
 * map, then diffs it against the old one), shipped encoded, applied by everyone else. */
struct osdmap_inc {
	uint8_t fsid[16];
	uint32_t epoch;            /* the epoch this produces; base must be epoch-1 */
	uint64_t modified;
	int32_t new_flags;         /* -1: unchanged */
	int32_t new_max_osd;       /* -1: unchanged */
	uint32_t num_osds;         /* OSD entries replaced whole (all fields) */
	struct osd_info *osds;
	uint32_t num_new_pools;    /* pools added or replaced whole */
	struct pool_info *new_pools;
	uint32_t num_old_pools;    /* pool ids removed */
	int64_t *old_pools;
	int64_t new_pool_max;      /* -1: unchanged */
	uint32_t num_pg_temp;      /* n == 0 removes */
	struct pg_temp *pg_temp;
	uint32_t num_primary_temp; /* osd == -1 removes */
	struct primary_temp *primary_temp;
	uint8_t *crush;            /* new encoded CRUSH map, or NULL: unchanged */
	uint32_t crush_len;
	uint8_t has_mds_map;       /* 1: mds_map replaces the blob */
	uint8_t *mds_map;
	uint32_t mds_map_len;
};

void osdmap_inc_init(struct osdmap_inc *inc);
void osdmap_inc_free(struct osdmap_inc *inc); /* frees members, not inc */
int osdmap_inc_encode(const struct osdmap_inc *inc, struct cbuf *b);
int osdmap_inc_decode(struct osdmap_inc *inc, const void *p, size_t n); /* init'd by callee */
/* Computes new - old as an incremental (new->epoch must be old->epoch + 1). */
int osdmap_diff(const struct osdmap *old, const struct osdmap *new_map, struct osdmap_inc *inc);
/* Produces a new map (refcount 1) = old + inc; old is untouched. -EINVAL if inc->epoch !=
 * old->epoch + 1 or the fsid differs; -EBADMSG if inc's CRUSH blob does not decode. */
int osdmap_apply_incremental(const struct osdmap *old, const struct osdmap_inc *inc,
			     struct osdmap **out);

/* Canonical comparison: true when the two maps encode to the same bytes. */
bool osdmap_equal(const struct osdmap *a, const struct osdmap *b);

#endif
