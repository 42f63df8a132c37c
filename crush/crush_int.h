/*
 * crush_int — the map's in-memory layout, shared by the crush library files only.
 *
 * Invariants (crush_check_map() verifies them after decode/compile):
 *  - buckets[i] is NULL or has id == -1-i; every item of a bucket is a declared device
 *    (0 <= item < max_devices) or an existing bucket; the graph is acyclic.
 *  - item_weights[] is authoritative for every algorithm; the derived arrays (list
 *    sum_weights, tree node_weights, straw straws) are recomputed by bucket_derive() after
 *    every change, exactly as Ceph's builder computes them. Straw straws depend on the map's
 *    straw_calc_version at the time they were computed and are encoded as they are.
 *  - weight == sum of item_weights (uniform: size * item weight).
 *  - A shadow bucket (device-class view) has shadow_of = id of the bucket it mirrors and
 *    class_id its class.
 */
#ifndef CAIRN_CRUSH_INT_H
#define CAIRN_CRUSH_INT_H

#include "crush/crush.h"

/* n / w for 0 <= n < 2^49 as (n * m) >> k, exact (Granlund-Montgomery); straw2's draw is
 * -(|ln| / weight) and this replaces a 64-bit division in the mapper's inner loop. */
struct crush_recip {
	uint64_t m;
	uint32_t k;
};

static inline struct crush_recip crush_recip_of(uint32_t w)
{
	struct crush_recip r = {0, 0};
	uint32_t l;

	if (!w)
		return r;
	l = w == 1 ? 0 : 32 - (uint32_t)__builtin_clz(w - 1); /* ceil(log2 w) */
	r.k = 49 + l;
	r.m = (uint64_t)(((unsigned __int128)1 << r.k) / w) + 1;
	return r;
}

static inline uint64_t crush_recip_div(uint64_t n, struct crush_recip r)
{
	return (uint64_t)(((unsigned __int128)n * r.m) >> r.k);
}

struct crush_bucket {
	int32_t id;
	int32_t type;
	uint8_t alg;
	uint8_t hash;
	uint32_t weight; /* 16.16 */
	uint32_t size;
	int32_t *items;
	uint32_t *item_weights;	   /* 16.16, [size] */
	uint32_t *sum_weights;	   /* list: running sums [size] */
	uint32_t *node_weights;	   /* tree: [num_nodes] */
	uint32_t num_nodes;	   /* tree */
	uint32_t *straws;	   /* straw: [size] */
	struct crush_recip *recip; /* straw2: exact reciprocals of item_weights [size] */
	int equal_weights;	   /* straw2: size > 0 and all item weights equal and nonzero */
	char *name;
	int32_t shadow_of; /* 0 for a real bucket */
	int32_t class_id;  /* shadow buckets: device class; else -1 */
};

struct crush_rule {
	char *name;
	int type;
	int min_size;
	int max_size;
	int len;
	struct crush_rule_step steps[];
};

struct crush_weight_set {
	uint32_t *weights; /* [size] */
	uint32_t size;
};

struct crush_choose_arg {
	int32_t *ids; /* [ids_size] or NULL */
	uint32_t ids_size;
	struct crush_weight_set *weight_set; /* [weight_set_positions] or NULL */
	uint32_t weight_set_positions;
};

struct crush_choose_arg_map {
	int64_t id;
	struct crush_choose_arg *args; /* [size], indexed by -1-bucket id */
	uint32_t size;
};

struct crush_type_name {
	int32_t id;
	char *name;
};

struct crush_map {
	struct crush_bucket **buckets;
	int32_t max_buckets;
	struct crush_rule **rules;
	uint32_t max_rules;
	int32_t max_devices;

	uint32_t choose_local_tries;
	uint32_t choose_local_fallback_tries;
	uint32_t choose_total_tries;
	uint32_t chooseleaf_descend_once;
	uint8_t chooseleaf_vary_r;
	uint8_t chooseleaf_stable;
	uint8_t straw_calc_version;
	uint32_t allowed_bucket_algs;

	struct crush_type_name *types;
	int ntypes;

	/* devices, indexed by id, [dev_cap] */
	char **dev_names;
	int32_t *dev_class; /* -1 = none */
	uint8_t *dev_exists;
	int32_t dev_cap;

	char **class_names; /* indexed by class id, NULL = unused */
	int32_t nclasses;

	struct crush_choose_arg_map *choose_args;
	int nchoose_args;
};

/* mapper.c */
extern const int64_t crush_rh_lh[128 * 2 + 2];
extern const int64_t crush_ll[256];
uint64_t crush_ln(unsigned int xin);

/* map.c, bucket.c, shadow.c, rule.c */
int bucket_derive(const struct crush_map *m, struct crush_bucket *b);
void bucket_free(struct crush_bucket *b);
struct crush_bucket *bucket_new(int id, int alg, int hash, int type, uint32_t size,
				const int32_t *items, const uint32_t *weights);
int map_put_bucket(struct crush_map *m, struct crush_bucket *b);
int map_ensure_device(struct crush_map *m, int id);
int map_get_or_create_class(struct crush_map *m, const char *name);
int map_set_class_name(struct crush_map *m, int class_id, const char *name);
struct crush_bucket *map_bucket(const struct crush_map *m, int id);
int map_shadow_of(const struct crush_map *m, int orig, int class_id); /* id or 0 */
/* old_map[i] = (orig, class, shadow) triples of ids to reuse; rebuilds all shadow trees. */
int map_rebuild_shadows(struct crush_map *m, const int32_t *old_triples, int nold);
int map_check(const struct crush_map *m);
/* rebuilds shadow trees when any device has a class (map.c) */
int map_rebuild_if_classes(struct crush_map *m);
/* frees bucket id and its choose_args entries, leaving its slot empty (bucket.c) */
void map_drop_bucket(struct crush_map *m, int id);
int map_name_taken(const struct crush_map *m, const char *name);
int map_valid_name(const char *name); /* [A-Za-z0-9._~-]{1,255} */
struct crush_choose_arg_map *map_choose_args(const struct crush_map *m, int64_t id);
struct crush_choose_arg_map *map_add_choose_args(struct crush_map *m, int64_t id);

struct cdec;
/* Decodes a choose_args bucket entry's id list (u32 n: 0 or nitems, then n x i32) and stores
 * it with the weight-set w (npos positions of nitems; may be NULL) for bucket bid of choose_args
 * id. Takes ownership of w. Shared by the cairn and the Ceph binary decoders. */
int map_dec_choose_arg_ids(struct cdec *d, struct crush_map *m, int64_t id, int32_t bid,
			   uint32_t nitems, uint32_t *w, uint32_t npos);
void choose_arg_clear(struct crush_choose_arg *a);
void map_cmap_free(struct crush_choose_arg_map *cm); /* frees one choose_args set's arrays */
uint32_t bucket_item_weight(const struct crush_bucket *b, uint32_t pos);

#endif
