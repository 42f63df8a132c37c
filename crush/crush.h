/*
 * crush — CRUSH placement: the map (devices, typed buckets, rules, tunables, device classes,
 * choose_args), its builder, cairn's binary encoding, Ceph's text syntax, and the mapper.
 *
 * The promise (crush/README): for the same map, crush_do_rule() returns exactly what Ceph's
 * crush_do_rule() returns (crushtool is the oracle). Pure library: no I/O, no logging, links
 * only common/encode.
 *
 * Ids: devices are >= 0; buckets are < 0 and bucket id b lives at index -1-b. Weights are
 * 16.16 fixed point (0x10000 = 1.0) everywhere. Errors are negative errno; a failed call
 * leaves the map unchanged.
 *
 * Threads: a map is immutable while it is shared. crush_do_rule() only reads the map; all its
 * scratch state lives in the caller's workspace, so any number of threads may map at once,
 * each with its own workspace. Builder calls need exclusive access.
 *
 * Device classes: crush_set_device_class() tags a device; every edit of the hierarchy
 * rebuilds the "shadow" trees (bucket "host~ssd" holds only host's ssd devices) the way
 * Ceph does, keeping shadow ids stable. Shadow buckets are real buckets for the mapper
 * (a rule "take default class ssd" takes default~ssd) but are hidden from decompile and
 * crush_bucket_parent().
 */
#ifndef CAIRN_CRUSH_H
#define CAIRN_CRUSH_H

#include <stddef.h>
#include <stdint.h>

#include "common/encode.h"
#include "crush/hash.h"

#define CRUSH_ITEM_UNDEF 0x7ffffffe /* not yet decided (internal to indep) */
#define CRUSH_ITEM_NONE	 0x7fffffff /* a hole in an indep result */
#define CRUSH_MAX_DEPTH	 10
#define CRUSH_MAX_RULES	 256 /* rule ids are 0..255 */
#define CRUSH_MAX_RESULT 256 /* result_max bound accepted by crush_do_rule */
#define CRUSH_NAME_MAX	 255

enum crush_alg {
	CRUSH_BUCKET_UNIFORM = 1,
	CRUSH_BUCKET_LIST = 2,
	CRUSH_BUCKET_TREE = 3,
	CRUSH_BUCKET_STRAW = 4,
	CRUSH_BUCKET_STRAW2 = 5,
};
/* "uniform" ... "straw2" <-> enum crush_alg; -EINVAL / NULL when unknown. */
int crush_alg_from_name(const char *name);
const char *crush_alg_name(int alg);

enum crush_opcode { /* Ceph's numbering (it is in Ceph's binary maps) */
		    CRUSH_RULE_NOOP = 0,
		    CRUSH_RULE_TAKE = 1,	  /* arg1 = item */
		    CRUSH_RULE_CHOOSE_FIRSTN = 2, /* arg1 = n, arg2 = type */
		    CRUSH_RULE_CHOOSE_INDEP = 3,
		    CRUSH_RULE_EMIT = 4,
		    CRUSH_RULE_CHOOSELEAF_FIRSTN = 6,
		    CRUSH_RULE_CHOOSELEAF_INDEP = 7,
		    CRUSH_RULE_SET_CHOOSE_TRIES = 8,
		    CRUSH_RULE_SET_CHOOSELEAF_TRIES = 9,
		    CRUSH_RULE_SET_CHOOSE_LOCAL_TRIES = 10,
		    CRUSH_RULE_SET_CHOOSE_LOCAL_FALLBACK_TRIES = 11,
		    CRUSH_RULE_SET_CHOOSELEAF_VARY_R = 12,
		    CRUSH_RULE_SET_CHOOSELEAF_STABLE = 13,
};

enum crush_rule_type { /* Ceph's pool types */
		       CRUSH_RULE_TYPE_REPLICATED = 1,
		       CRUSH_RULE_TYPE_ERASURE = 3,
};

struct crush_rule_step {
	uint32_t op; /* enum crush_opcode */
	int32_t arg1;
	int32_t arg2;
};

struct crush_tunables {
	uint32_t choose_local_tries;
	uint32_t choose_local_fallback_tries;
	uint32_t choose_total_tries;
	uint32_t chooseleaf_descend_once;
	uint8_t chooseleaf_vary_r;
	uint8_t chooseleaf_stable;
	uint8_t straw_calc_version;
	uint32_t allowed_bucket_algs; /* bitmask of 1 << enum crush_alg */
};

struct crush_map;

/* A new empty map with Ceph's default tunables ("jewel"/"optimal", straw_calc_version 1)
 * and no types; NULL on ENOMEM. */
struct crush_map *crush_create(void);
void crush_destroy(struct crush_map *m);
/* A deep copy; NULL on ENOMEM. */
struct crush_map *crush_clone(const struct crush_map *m);

/* ---- tunables ---- */
void crush_get_tunables(const struct crush_map *m, struct crush_tunables *t);
void crush_set_tunables(struct crush_map *m, const struct crush_tunables *t);
/* legacy|argonaut|bobtail|firefly|hammer|jewel|optimal|default; -EINVAL if unknown. */
int crush_set_tunables_profile(struct crush_map *m, const char *profile);
/* Writes a profile's values into *t without touching a map. */
int crush_tunables_profile(const char *profile, struct crush_tunables *t);

/* ---- types and names ---- */
int crush_set_type_name(struct crush_map *m, int type, const char *name);
const char *crush_get_type_name(const struct crush_map *m, int type); /* NULL if none */
int crush_get_type_id(const struct crush_map *m, const char *name);   /* >= 0 or -ENOENT */
int crush_max_type(const struct crush_map *m); /* highest type id, -1 if none */
int crush_set_item_name(struct crush_map *m, int id, const char *name);
const char *crush_get_item_name(const struct crush_map *m, int id); /* NULL if unnamed */
/* Looks a device or bucket up by name; 0 and *id, or -ENOENT. */
int crush_get_item_id(const struct crush_map *m, const char *name, int *id);

/* ---- devices ---- */
/* max_devices: 1 + highest device id referenced or named. */
int crush_max_devices(const struct crush_map *m);
/* Declares device id (optionally named); items of buckets must be declared devices. */
int crush_add_device(struct crush_map *m, int id, const char *name);
int crush_device_exists(const struct crush_map *m, int id);
/* Class name NULL removes the device's class. Rebuilds shadow trees. */
int crush_set_device_class(struct crush_map *m, int id, const char *class_name);
const char *crush_get_device_class(const struct crush_map *m, int id);	   /* NULL if none */
int crush_get_class_id(const struct crush_map *m, const char *class_name); /* >=0 or -ENOENT */
const char *crush_get_class_name(const struct crush_map *m, int class_id);
/* True when the item appears in some (non-shadow) bucket. */
int crush_item_in_tree(const struct crush_map *m, int item);

/* ---- buckets ---- */
struct crush_bucket_info {
	int id;
	int type;
	int alg;	 /* enum crush_alg */
	int hash;	 /* CRUSH_HASH_* */
	uint32_t size;	 /* number of items */
	uint32_t weight; /* 16.16, sum of item weights */
	int shadow;	 /* 1 for a device-class shadow bucket */
	int class_id;	 /* shadow buckets: their class; else -1 */
};
int crush_max_buckets(const struct crush_map *m); /* valid ids are -1 .. -max_buckets */
/* Adds an empty bucket. id 0 picks the first free id; *out_id gets the id. -EEXIST if the id
 * or name is taken, -EINVAL for a bad alg/type/name. */
int crush_add_bucket(struct crush_map *m, int id, int alg, int hash, int type, const char *name,
		     int *out_id);
/* Adds a bucket with its items in one step (Ceph's CrushWrapper::add_bucket): items must exist
 * and have no parent yet; a uniform bucket takes weights[0] for every item, as Ceph does. */
int crush_add_bucket_items(struct crush_map *m, int id, int alg, int hash, int type,
			   const char *name, int n, const int *items, const uint32_t *weights,
			   int *out_id);
/* Removes an empty bucket that no other bucket or rule references (-ENOTEMPTY / -EBUSY). */
int crush_remove_bucket(struct crush_map *m, int id);
int crush_bucket_exists(const struct crush_map *m, int id);
int crush_bucket_get(const struct crush_map *m, int id, struct crush_bucket_info *info);
/* Item at position pos of bucket id and its weight (16.16). */
int crush_bucket_item(const struct crush_map *m, int id, uint32_t pos, int *item, uint32_t *weight);
/* Adds item (device or bucket) with a weight to bucket; the weight propagates to ancestors.
 * A bucket may have only one parent (-EEXIST); a cycle is -ELOOP; uniform buckets need equal
 * weights (-EINVAL). */
int crush_bucket_add_item(struct crush_map *m, int bucket, int item, uint32_t weight);
/* Removes item from bucket (its weight leaves the ancestors). -ENOENT if not there. */
int crush_bucket_remove_item(struct crush_map *m, int bucket, int item);
/* Sets item's weight inside bucket and propagates the difference up. */
int crush_bucket_adjust_item_weight(struct crush_map *m, int bucket, int item, uint32_t weight);
/* Sets a device's weight wherever it appears (Ceph's "osd crush reweight"). */
int crush_reweight_item(struct crush_map *m, int item, uint32_t weight);
/* Weight of item in its (first) parent bucket; -ENOENT if not in the tree. */
int crush_get_item_weight(const struct crush_map *m, int item, uint32_t *weight);
/* Moves bucket id under new_parent (detaching it from its current parent). */
int crush_move_bucket(struct crush_map *m, int id, int new_parent);
/* The (non-shadow) bucket containing item, or -ENOENT. */
int crush_bucket_parent(const struct crush_map *m, int item, int *parent);
/* Ceph's "osd crush add/set ID WEIGHT type=name ...": puts device id (declaring it with name
 * if new) under the location given as nloc (type name, bucket name) pairs, creating missing
 * buckets (alg straw2) from the lowest type up. */
int crush_insert_item(struct crush_map *m, int id, uint32_t weight, const char *name,
		      const char *const *loc_types, const char *const *loc_names, int nloc);
/* Removes a device or empty bucket from every bucket (and the bucket itself). */
int crush_remove_item(struct crush_map *m, int id);

/* ---- rules ---- */
int crush_max_rules(const struct crush_map *m); /* 1 + highest rule id */
int crush_rule_exists(const struct crush_map *m, int ruleno);
/* ruleno < 0 picks the first free id; *out gets it. Steps are copied. */
int crush_add_rule(struct crush_map *m, int ruleno, const char *name, int type, int min_size,
		   int max_size, const struct crush_rule_step *steps, int nsteps, int *out);
int crush_remove_rule(struct crush_map *m, int ruleno);
int crush_get_rule_id(const struct crush_map *m, const char *name); /* >= 0 or -ENOENT */
const char *crush_get_rule_name(const struct crush_map *m, int ruleno);
/* Steps of rule ruleno: *steps points into the map (valid until the next edit). */
int crush_get_rule(const struct crush_map *m, int ruleno, int *type, int *min_size, int *max_size,
		   const struct crush_rule_step **steps, int *nsteps);
/* Ceph's "osd crush rule create-replicated NAME ROOT FAILURE_DOMAIN [CLASS]":
 * take ROOT [class CLASS]; chooseleaf firstn 0 type FAILURE_DOMAIN (choose firstn when the
 * failure domain is the device type); emit. device_class may be NULL. */
int crush_rule_create_replicated(struct crush_map *m, const char *name, const char *root,
				 const char *failure_domain_type, const char *device_class,
				 int *ruleno);
/* Ceph's simple erasure rule: set_chooseleaf_tries 5, set_choose_tries 100, take ROOT
 * [class], chooseleaf indep 0 type FAILURE_DOMAIN, emit. */
int crush_rule_create_erasure(struct crush_map *m, const char *name, const char *root,
			      const char *failure_domain_type, const char *device_class,
			      int *ruleno);

/* ---- choose_args (weight sets), Ceph's per-bucket alternative weights ---- */
/* Adds or replaces, for choose_args set `set_id` (Ceph: -1 is the "compat" default set,
 * >= 0 pool ids), bucket's weights (npos positions x bucket size, row-major) and ids (size,
 * or NULL). -EINVAL if sizes do not match the bucket. */
int crush_choose_args_set(struct crush_map *m, int64_t set_id, int bucket, const uint32_t *weights,
			  int npos, const int32_t *ids);
int crush_choose_args_remove(struct crush_map *m, int64_t set_id);
int crush_choose_args_exists(const struct crush_map *m, int64_t set_id);

/* ---- mapping ---- */
/* Bytes of workspace crush_do_rule needs for this map and result_max. Changes when buckets
 * are added or grow; recompute after edits. */
size_t crush_work_size(const struct crush_map *m, int result_max);
/*
 * Maps input x through rule ruleno into result[0..result_max), returning how many were
 * written (firstn results are short when the rule cannot be satisfied; indep results keep
 * CRUSH_ITEM_NONE holes in place). weights[0..weight_max) are the per-device 16.16 reweights
 * (0 = out, 0x10000 = fully in; a device >= weight_max is out; weights NULL = all out).
 * work: crush_work_size() bytes (4-byte aligned), owned by the caller and not shared between
 * concurrent calls; it need not be initialised and nothing in it is cleared per call (its
 * per-bucket state is a sparse set validated against this call's own index; valgrind may
 * report those reads of uninitialised memory, they are harmless by design). choose_args_set: a
 * choose_args id to use (falls back to the -1 set, then none, like Ceph's
 * choose_args_get_with_fallback); pass CRUSH_NO_CHOOSE_ARGS for plain weights.
 * Returns 0 for a rule that does not exist. Allocates nothing; reads the map only.
 */
#define CRUSH_NO_CHOOSE_ARGS INT64_MIN
int crush_do_rule(const struct crush_map *m, int ruleno, int x, int *result, int result_max,
		  const uint32_t *weights, int weight_max, void *work, int64_t choose_args_set);

/* ---- cairn binary encoding (versioned envelope, common/encode.h) ---- */
int crush_encode(const struct crush_map *m, struct cbuf *b);
/* Decodes and validates a map (every referenced item exists, weights consistent, ...);
 * -EBADMSG for anything truncated or inconsistent, -EOPNOTSUPP for a too-new compat. */
int crush_decode(struct cdec *d, struct crush_map **out);
/* Reads Ceph's own binary crush map (ceph osd getcrushmap / crushtool -o). -EBADMSG if bad. */
int crush_decode_ceph(const void *p, size_t n, struct crush_map **out);
/* True when p looks like a Ceph binary map (its magic number). */
int crush_is_ceph_binary(const void *p, size_t n);

/* ---- Ceph text syntax ---- */
/* Compiles crush map text. On error returns -EINVAL (or -ENOMEM) and writes
 * "FILE:LINE: message" into err[errlen]. */
int crush_compile(const char *text, size_t len, const char *filename, struct crush_map **out,
		  char *err, size_t errlen);
/* Appends the map's text (crushtool -d format) to b. */
int crush_decompile(const struct crush_map *m, struct cbuf *b);

#endif
