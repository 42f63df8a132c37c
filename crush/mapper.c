/*
 * mapper — crush_do_rule(): input x -> ordered list of items, Ceph's semantics exactly.
 *
 * A rule is a small program over a working vector w: TAKE puts one item in w; CHOOSE
 * replaces every bucket in w by N distinct descendants of a type; CHOOSELEAF does the same
 * and also descends from each chosen item to one device under it; EMIT appends w to the
 * result. The choice inside one bucket is the bucket algorithm's (bucket_*_choose); the
 * retry logic around it (collisions, out devices, empty buckets) is crush_choose_firstn /
 * crush_choose_indep:
 *
 *   firstn (replicated):  rep = 0..numrep-1; on a collision or an out device, bump
 *       ftotal (r = rep + ftotal) and descend again from the rule's bucket; give up the
 *       slot after `tries` attempts, so the result gets shorter ("short mapping").
 *   indep (erasure):  each position rep keeps its slot; failed slots are retried in rounds
 *       with r = rep + numrep*ftotal; a slot that never succeeds becomes CRUSH_ITEM_NONE, a
 *       hole that stays at its position.
 *
 * Workspace (caller's memory, crush_work_size bytes): per-bucket permutation state for
 * uniform buckets and the local-fallback search, plus three result_max int vectors. It is
 * reset at the start of every call, so nothing carries over between calls and no memory is
 * shared between threads.
 */
#include "crush/crush_int.h"
#include "crush/hash_mix.h"

#include <string.h>

/*
 * Workspace layout: work_bucket[max_buckets] | int32 touched[max_buckets] |
 * 3 x int[result_max] | perm area. Per-bucket permutation state is a sparse set: an entry is
 * valid only if touched[entry.slot] names it and slot < this call's touched count, so a call
 * starts clean without clearing anything and whatever the memory held before (first use, an
 * earlier call, another map, garbage) can never be mistaken for state.
 */
struct work_bucket {
	uint32_t perm_x;
	uint32_t perm_n;
	uint32_t perm_off1; /* 1 + offset of this bucket's perm[] in the perm area; 0 = none */
	uint32_t slot;	    /* index into touched[] */
};

struct work {
	struct work_bucket *wb; /* [max_buckets] */
	int32_t *touched;	/* [max_buckets], bucket indices touched by this call */
	uint32_t ntouched;
	uint32_t *perm_area;
	uint32_t perm_used;
};

static size_t align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

static size_t perm_total(const struct crush_map *m)
{
	size_t t = 0;

	for (int i = 0; i < m->max_buckets; i++)
		if (m->buckets[i])
			t += m->buckets[i]->size;
	return t;
}

size_t crush_work_size(const struct crush_map *m, int result_max)
{
	if (result_max < 0)
		result_max = 0;
	return align8((sizeof(struct work_bucket) + sizeof(int32_t)) * (size_t)m->max_buckets) +
	       align8(sizeof(int) * 3 * (size_t)result_max) + sizeof(uint32_t) * perm_total(m);
}

static inline struct work_bucket *work_bucket(struct work *w, const struct crush_bucket *b)
{
	int32_t idx = -1 - b->id;
	struct work_bucket *wb = &w->wb[idx];

	if (wb->slot < w->ntouched && w->touched[wb->slot] == idx)
		return wb;
	wb->slot = w->ntouched;
	w->touched[w->ntouched++] = idx;
	wb->perm_x = 0;
	wb->perm_n = 0;
	wb->perm_off1 = 0;
	return wb;
}

static uint32_t *bucket_perm(struct work *w, struct work_bucket *wb, const struct crush_bucket *b)
{
	if (!wb->perm_off1) {
		wb->perm_off1 = w->perm_used + 1;
		w->perm_used += b->size;
	}
	return w->perm_area + wb->perm_off1 - 1;
}

/* Pseudo-random permutation of the bucket's items, extended lazily up to position r. */
static int bucket_perm_choose(const struct crush_bucket *b, struct work *w, int x, int r)
{
	struct work_bucket *wb = work_bucket(w, b);
	uint32_t *perm = bucket_perm(w, wb, b);
	unsigned int pr = (unsigned int)r % b->size;
	unsigned int i, s;

	if (wb->perm_x != (uint32_t)x || wb->perm_n == 0) {
		wb->perm_x = (uint32_t)x;
		if (pr == 0) { /* the common r = 0 case needs one hash */
			s = crush_hash32_3(b->hash, (uint32_t)x, (uint32_t)b->id, 0) % b->size;
			perm[0] = s;
			wb->perm_n = 0xffff;
			return b->items[s];
		}
		for (i = 0; i < b->size; i++)
			perm[i] = i;
		wb->perm_n = 0;
	} else if (wb->perm_n == 0xffff) {
		for (i = 1; i < b->size; i++)
			perm[i] = i;
		perm[perm[0]] = 0;
		wb->perm_n = 1;
	}
	while (wb->perm_n <= pr) {
		unsigned int p = wb->perm_n;

		if (p < b->size - 1) {
			i = crush_hash32_3(b->hash, (uint32_t)x, (uint32_t)b->id, p) %
			    (b->size - p);
			if (i) {
				unsigned int t = perm[p + i];

				perm[p + i] = perm[p];
				perm[p] = t;
			}
		}
		wb->perm_n++;
	}
	s = perm[pr];
	return b->items[s];
}

static int bucket_list_choose(const struct crush_bucket *b, int x, int r)
{
	for (int i = (int)b->size - 1; i >= 0; i--) {
		uint64_t w = crush_hash32_4(b->hash, (uint32_t)x, (uint32_t)b->items[i],
					    (uint32_t)r, (uint32_t)b->id);

		w &= 0xffff;
		w *= b->sum_weights[i];
		w >>= 16;
		if (w < b->item_weights[i])
			return b->items[i];
	}
	return b->items[0];
}

/* Tree nodes: leaves are odd, a node's height is its count of trailing zeros. */
static int tree_height(int n)
{
	int h = 0;

	while ((n & 1) == 0) {
		h++;
		n >>= 1;
	}
	return h;
}

static int bucket_tree_choose(const struct crush_bucket *b, int x, int r)
{
	int n = (int)(b->num_nodes >> 1);

	while (!(n & 1)) {
		uint32_t w = b->node_weights[n];
		uint64_t t = (uint64_t)crush_hash32_4(b->hash, (uint32_t)x, (uint32_t)n,
						      (uint32_t)r, (uint32_t)b->id) *
			     (uint64_t)w;
		int h = tree_height(n);
		int l = n - (1 << (h - 1));

		t >>= 32;
		if (t < b->node_weights[l])
			n = l;
		else
			n = n + (1 << (h - 1));
	}
	return b->items[n >> 1];
}

static int bucket_straw_choose(const struct crush_bucket *b, int x, int r)
{
	uint32_t high = 0;
	uint64_t high_draw = 0;

	for (uint32_t i = 0; i < b->size; i++) {
		uint64_t draw =
		    crush_hash32_3(b->hash, (uint32_t)x, (uint32_t)b->items[i], (uint32_t)r);

		draw &= 0xffff;
		draw *= b->straws[i];
		if (i == 0 || draw > high_draw) {
			high = i;
			high_draw = draw;
		}
	}
	return b->items[high];
}

/* 2^44 * log2(xin + 1), fixed point, from the tables in ln_table.c. */
static inline __attribute__((always_inline)) uint64_t ln_fixed(unsigned int xin)
{
	unsigned int x = xin + 1;
	int iexpon = 15, index1, index2;
	uint64_t rh, lh, ll, xl64, result;

	if (!(x & 0x18000)) { /* normalise into [2^15, 2^16] */
		int bits = __builtin_clz(x & 0x1ffff) - 16;

		x <<= bits;
		iexpon = 15 - bits;
	}
	index1 = (int)((x >> 8) << 1);
	rh = (uint64_t)crush_rh_lh[index1 - 256];
	lh = (uint64_t)crush_rh_lh[index1 + 1 - 256];
	xl64 = (uint64_t)x * rh; /* wraps like Ceph's (s64)x * u64 for x = 0x10000 */
	xl64 >>= 48;
	result = (uint64_t)iexpon;
	result <<= (12 + 32);
	index2 = (int)(xl64 & 0xff);
	ll = (uint64_t)crush_ll[index2];
	lh = lh + ll;
	lh >>= (48 - 12 - 32);
	result += lh;
	return result;
}

uint64_t crush_ln(unsigned int xin)
{
	return ln_fixed(xin);
}

/*
 * Vectorised rjenkins1 hash32_3(x, ids[i], r) for a whole bucket: the mix is a long serial
 * chain per item but independent across items, so 8 lanes at once (AVX2 where the CPU has it,
 * two SSE2 halves otherwise) compute exactly the scalar function.
 */
typedef uint32_t v8u __attribute__((vector_size(32)));


/* One body for every lane width W (vector type V): rj3(x, ids[i], r) for i < n. */
#define HASH3_LANES(NAME, V, W)                                                                    \
	static inline __attribute__((always_inline)) void NAME(uint32_t *out, const int32_t *ids,  \
							       uint32_t n, uint32_t x, uint32_t r) \
	{                                                                                          \
		for (uint32_t i = 0; i < n; i += W) {                                              \
			V a, b, c, h, vx, vy;                                                      \
			uint32_t tmp[W];                                                           \
                                                                                                   \
			if (i + W <= n) {                                                          \
				memcpy(&b, ids + i, sizeof(b));                                    \
			} else {                                                                   \
				memset(tmp, 0, sizeof(tmp));                                       \
				memcpy(tmp, ids + i, sizeof(uint32_t) * (n - i));                  \
				memcpy(&b, tmp, sizeof(b));                                        \
			}                                                                          \
			a = b * 0 + x;                                                             \
			c = b * 0 + r;                                                             \
			vx = b * 0 + 231232u;                                                      \
			vy = b * 0 + 1232u;                                                        \
			h = (b * 0 + 1315423911u) ^ a ^ b ^ c;                                     \
			CRUSH_HASHMIX(a, b, h);                                                             \
			CRUSH_HASHMIX(c, vx, h);                                                            \
			CRUSH_HASHMIX(vy, a, h);                                                            \
			CRUSH_HASHMIX(b, vx, h);                                                            \
			CRUSH_HASHMIX(vy, c, h);                                                            \
			if (i + W <= n) {                                                          \
				memcpy(out + i, &h, sizeof(h));                                    \
			} else {                                                                   \
				memcpy(tmp, &h, sizeof(h));                                        \
				memcpy(out + i, tmp, sizeof(uint32_t) * (n - i));                  \
			}                                                                          \
		}                                                                                  \
	}

HASH3_LANES(hash3_lanes8, v8u, 8)

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
__attribute__((target("avx2"))) static void hash3_avx2(uint32_t *out, const int32_t *ids,
						       uint32_t n, uint32_t x, uint32_t r)
{
	hash3_lanes8(out, ids, n, x, r);
}

#endif

static void hash3_generic(uint32_t *out, const int32_t *ids, uint32_t n, uint32_t x, uint32_t r)
{
	hash3_lanes8(out, ids, n, x, r);
}

typedef void (*hash3_fn)(uint32_t *, const int32_t *, uint32_t, uint32_t, uint32_t);

static hash3_fn pick_hash3(void)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx2"))
		return hash3_avx2;
#endif
	return hash3_generic;
}

static hash3_fn hash3_impl;

static inline void bucket_hash3(uint32_t *out, const int32_t *ids, uint32_t n, int hash_type,
				uint32_t x, uint32_t r)
{
	hash3_fn f;

	if (hash_type != CRUSH_HASH_RJENKINS1) {
		for (uint32_t i = 0; i < n; i++)
			out[i] = crush_hash32_3(hash_type, x, (uint32_t)ids[i], r);
		return;
	}
	/* benign race: every thread computes the same pointer */
	f = __atomic_load_n(&hash3_impl, __ATOMIC_RELAXED);
	if (!f) {
		f = pick_hash3();
		__atomic_store_n(&hash3_impl, f, __ATOMIC_RELAXED);
	}
	f(out, ids, n, x, r);
}

#define HASH_BATCH 64

/*
 * straw2: every item draws ln(u)/weight with u a 16-bit hash; the longest (least negative)
 * draw wins, the first one on ties. ln = crush_ln(u) - 2^48 lies in [-2^48, 0], so the draw
 * is -(mag / weight) with mag = 2^48 - crush_ln(u), truncated like Ceph's s64 division.
 * When all weights are equal (the common case) the winner is the first item whose mag has
 * the smallest quotient, found with one division instead of one per item.
 */
static int bucket_straw2_choose(const struct crush_bucket *b, int x, int r,
				const struct crush_choose_arg *arg, int position)
{
	const uint32_t *weights = b->item_weights;
	const int32_t *ids = b->items;
	const struct crush_recip *recip = b->recip;
	uint32_t high = 0, u[HASH_BATCH];
	int64_t high_draw = 0;
	int equal = b->equal_weights;

	if (arg && arg->weight_set) {
		if ((uint32_t)position >= arg->weight_set_positions)
			position = (int)arg->weight_set_positions - 1;
		weights = arg->weight_set[position].weights;
		recip = NULL;
		equal = 0;
	}
	if (arg && arg->ids)
		ids = arg->ids;
	if (equal && b->size <= HASH_BATCH) {
		uint64_t mag[HASH_BATCH], min = UINT64_MAX, limit;
		uint32_t i;

		bucket_hash3(u, ids, b->size, b->hash, (uint32_t)x, (uint32_t)r);
		for (i = 0; i < b->size; i++) {
			mag[i] = 0x1000000000000ull - ln_fixed(u[i] & 0xffff);
			if (mag[i] < min)
				min = mag[i];
		}
		limit = (crush_recip_div(min, recip[0]) + 1) * weights[0];
		for (i = 0; i < b->size && mag[i] >= limit; i++)
			;
		return b->items[i < b->size ? i : 0]; /* i < size: the minimum is below limit */
	}
	for (uint32_t base = 0; base < b->size; base += HASH_BATCH) {
		uint32_t n = b->size - base < HASH_BATCH ? b->size - base : HASH_BATCH;

		bucket_hash3(u, ids + base, n, b->hash, (uint32_t)x, (uint32_t)r);
		for (uint32_t j = 0; j < n; j++) {
			uint32_t i = base + j;
			int64_t draw;

			if (weights[i]) {
				uint64_t mag = 0x1000000000000ull - ln_fixed(u[j] & 0xffff);

				if (recip)
					draw = -(int64_t)crush_recip_div(mag, recip[i]);
				else
					draw = -(int64_t)(mag / weights[i]);
			} else {
				draw = INT64_MIN;
			}
			if (i == 0 || draw > high_draw) {
				high = i;
				high_draw = draw;
			}
		}
	}
	return b->items[high];
}

static int bucket_choose(const struct crush_bucket *b, struct work *w, int x, int r,
			 const struct crush_choose_arg *arg, int position)
{
	switch (b->alg) {
	case CRUSH_BUCKET_UNIFORM:
		return bucket_perm_choose(b, w, x, r);
	case CRUSH_BUCKET_LIST:
		return bucket_list_choose(b, x, r);
	case CRUSH_BUCKET_TREE:
		return bucket_tree_choose(b, x, r);
	case CRUSH_BUCKET_STRAW:
		return bucket_straw_choose(b, x, r);
	case CRUSH_BUCKET_STRAW2:
		return bucket_straw2_choose(b, x, r, arg, position);
	default:
		return b->items[0];
	}
}

/* Out (failed or reweighted away) for this x? weight is the per-device 16.16 reweight. */
static int is_out(const uint32_t *weight, int weight_max, int item, int x)
{
	/* a bucket of type 0 reaches here in a nonsense map; Ceph then reads before the
	 * weight vector; we call it "in" */
	if (item < 0)
		return 0;
	if (item >= weight_max)
		return 1;
	if (weight[item] >= 0x10000)
		return 0;
	if (weight[item] == 0)
		return 1;
	if ((crush_hash32_2(CRUSH_HASH_RJENKINS1, (uint32_t)x, (uint32_t)item) & 0xffff) <
	    weight[item])
		return 0;
	return 1;
}

struct ctx {
	const struct crush_map *m;
	struct work *w;
	const uint32_t *weight;
	int weight_max;
	int x;
	const struct crush_choose_arg *args; /* [nargs] or NULL */
	uint32_t nargs;
};

static inline const struct crush_choose_arg *ctx_arg(const struct ctx *c, int bucket_id)
{
	uint32_t i = (uint32_t)(-1 - bucket_id);

	return c->args && i < c->nargs ? &c->args[i] : NULL;
}

static inline int item_type(const struct crush_map *m, int item)
{
	return item < 0 ? m->buckets[-1 - item]->type : 0;
}

static int choose_firstn(const struct ctx *c, const struct crush_bucket *bucket, int numrep,
			 int type, int *out, int outpos, int out_size, unsigned int tries,
			 unsigned int recurse_tries, unsigned int local_retries,
			 unsigned int local_fallback_retries, int recurse_to_leaf,
			 unsigned int vary_r, unsigned int stable, int *out2, int parent_r)
{
	const struct crush_map *m = c->m;
	int count = out_size;

	for (int rep = stable ? 0 : outpos; rep < numrep && count > 0; rep++) {
		unsigned int ftotal = 0;
		int skip_rep = 0, retry_descent, item = 0;

		do {
			const struct crush_bucket *in = bucket;
			unsigned int flocal = 0;
			int retry_bucket;

			retry_descent = 0;
			do {
				int collide = 0, reject, itemtype;
				int r = rep + parent_r + (int)ftotal;

				retry_bucket = 0;
				if (in->size == 0) {
					reject = 1;
					goto rejected;
				}
				if (local_fallback_retries > 0 && flocal >= (in->size >> 1) &&
				    flocal > local_fallback_retries)
					item = bucket_perm_choose(in, c->w, c->x, r);
				else
					item = bucket_choose(in, c->w, c->x, r, ctx_arg(c, in->id),
							     outpos);
				if (item >= m->max_devices) {
					skip_rep = 1;
					break;
				}
				itemtype = item_type(m, item);
				if (itemtype != type) {
					if (item >= 0 || (-1 - item) >= m->max_buckets) {
						skip_rep = 1;
						break;
					}
					in = m->buckets[-1 - item];
					retry_bucket = 1;
					continue;
				}
				for (int i = 0; i < outpos; i++) {
					if (out[i] == item) {
						collide = 1;
						break;
					}
				}
				reject = 0;
				if (!collide && recurse_to_leaf) {
					if (item < 0) {
						/* x86 masks the shift count; do the same without
						 * C's UB for absurd vary_r */
						int sub_r = vary_r ? r >> ((vary_r - 1) & 31) : 0;

						if (choose_firstn(c, m->buckets[-1 - item],
								  stable ? 1 : outpos + 1, 0, out2,
								  outpos, count, recurse_tries, 0,
								  local_retries,
								  local_fallback_retries, 0, vary_r,
								  stable, NULL, sub_r) <= outpos)
							reject = 1;
					} else {
						out2[outpos] = item;
					}
				}
				if (!reject && !collide && itemtype == 0)
					reject = is_out(c->weight, c->weight_max, item, c->x);
			rejected:
				if (reject || collide) {
					ftotal++;
					flocal++;
					if (collide && flocal <= local_retries)
						retry_bucket = 1;
					else if (local_fallback_retries > 0 &&
						 flocal <= in->size + local_fallback_retries)
						retry_bucket = 1;
					else if (ftotal < tries)
						retry_descent = 1;
					else
						skip_rep = 1;
				}
			} while (retry_bucket);
		} while (retry_descent);

		if (skip_rep)
			continue;
		out[outpos] = item;
		outpos++;
		count--;
	}
	return outpos;
}

static void choose_indep(const struct ctx *c, const struct crush_bucket *bucket, int left,
			 int numrep, int type, int *out, int outpos, unsigned int tries,
			 unsigned int recurse_tries, int recurse_to_leaf, int *out2, int parent_r)
{
	const struct crush_map *m = c->m;
	int endpos = outpos + left;
	int rep;

	for (rep = outpos; rep < endpos; rep++) {
		out[rep] = CRUSH_ITEM_UNDEF;
		if (out2)
			out2[rep] = CRUSH_ITEM_UNDEF;
	}
	for (unsigned int ftotal = 0; left > 0 && ftotal < tries; ftotal++) {
		for (rep = outpos; rep < endpos; rep++) {
			const struct crush_bucket *in = bucket;

			if (out[rep] != CRUSH_ITEM_UNDEF)
				continue;
			for (;;) {
				int r = rep + parent_r, item, itemtype, collide = 0;

				if (in->alg == CRUSH_BUCKET_UNIFORM && in->size % numrep == 0)
					r += (numrep + 1) * (int)ftotal;
				else
					r += numrep * (int)ftotal;
				if (in->size == 0)
					break;
				item = bucket_choose(in, c->w, c->x, r, ctx_arg(c, in->id), outpos);
				if (item >= m->max_devices) {
					out[rep] = CRUSH_ITEM_NONE;
					if (out2)
						out2[rep] = CRUSH_ITEM_NONE;
					left--;
					break;
				}
				itemtype = item_type(m, item);
				if (itemtype != type) {
					if (item >= 0 || (-1 - item) >= m->max_buckets) {
						out[rep] = CRUSH_ITEM_NONE;
						if (out2)
							out2[rep] = CRUSH_ITEM_NONE;
						left--;
						break;
					}
					in = m->buckets[-1 - item];
					continue;
				}
				for (int i = outpos; i < endpos; i++) {
					if (out[i] == item) {
						collide = 1;
						break;
					}
				}
				if (collide)
					break;
				if (recurse_to_leaf) {
					if (item < 0) {
						choose_indep(c, m->buckets[-1 - item], 1, numrep, 0,
							     out2, rep, recurse_tries, 0, 0, NULL,
							     r);
						if (out2[rep] == CRUSH_ITEM_NONE)
							break;
					} else {
						out2[rep] = item;
					}
				}
				if (itemtype == 0 && is_out(c->weight, c->weight_max, item, c->x))
					break;
				out[rep] = item;
				left--;
				break;
			}
		}
	}
	for (rep = outpos; rep < endpos; rep++) {
		if (out[rep] == CRUSH_ITEM_UNDEF)
			out[rep] = CRUSH_ITEM_NONE;
		if (out2 && out2[rep] == CRUSH_ITEM_UNDEF)
			out2[rep] = CRUSH_ITEM_NONE;
	}
}

int crush_do_rule(const struct crush_map *m, int ruleno, int x, int *result, int result_max,
		  const uint32_t *weights, int weight_max, void *workp, int64_t choose_args_set)
{
	const struct crush_rule *rule;
	struct work w;
	struct ctx c;
	char *p = workp;
	int *a, *b, *cc, *wv, *o;
	int wsize = 0, osize, result_len = 0;
	unsigned int choose_tries, choose_leaf_tries = 0, choose_local_retries,
				   choose_local_fallback_retries, vary_r, stable;

	if (ruleno < 0 || (uint32_t)ruleno >= m->max_rules || !m->rules[ruleno] || result_max <= 0)
		return 0;
	rule = m->rules[ruleno];

	w.wb = (struct work_bucket *)p;
	w.touched = (int32_t *)(p + sizeof(struct work_bucket) * (size_t)m->max_buckets);
	w.ntouched = 0;
	p += align8((sizeof(struct work_bucket) + sizeof(int32_t)) * (size_t)m->max_buckets);
	a = (int *)p;
	b = a + result_max;
	cc = b + result_max;
	wv = a;
	o = b;
	p += align8(sizeof(int) * 3 * (size_t)result_max);
	w.perm_area = (uint32_t *)p;
	w.perm_used = 0;

	c.m = m;
	c.w = &w;
	c.weight = weights;
	c.weight_max = weights ? weight_max : 0;
	c.x = x;
	c.args = NULL;
	c.nargs = 0;
	if (choose_args_set != CRUSH_NO_CHOOSE_ARGS) {
		const struct crush_choose_arg_map *cm = map_choose_args(m, choose_args_set);

		if (!cm)
			cm = map_choose_args(m, -1);
		if (cm) {
			c.args = cm->args;
			c.nargs = cm->size;
		}
	}

	/* choose_total_tries historically counted retries, not tries: add one */
	choose_tries = m->choose_total_tries + 1;
	choose_local_retries = m->choose_local_tries;
	choose_local_fallback_retries = m->choose_local_fallback_tries;
	vary_r = m->chooseleaf_vary_r;
	stable = m->chooseleaf_stable;

	for (int step = 0; step < rule->len; step++) {
		const struct crush_rule_step *s = &rule->steps[step];
		int firstn = 0, recurse_to_leaf;

		switch (s->op) {
		case CRUSH_RULE_TAKE:
			if ((s->arg1 >= 0 && s->arg1 < m->max_devices) ||
			    (s->arg1 < 0 && -1 - s->arg1 < m->max_buckets &&
			     m->buckets[-1 - s->arg1])) {
				wv[0] = s->arg1;
				wsize = 1;
			}
			break;
		case CRUSH_RULE_SET_CHOOSE_TRIES:
			if (s->arg1 > 0)
				choose_tries = (unsigned int)s->arg1;
			break;
		case CRUSH_RULE_SET_CHOOSELEAF_TRIES:
			if (s->arg1 > 0)
				choose_leaf_tries = (unsigned int)s->arg1;
			break;
		case CRUSH_RULE_SET_CHOOSE_LOCAL_TRIES:
			if (s->arg1 >= 0)
				choose_local_retries = (unsigned int)s->arg1;
			break;
		case CRUSH_RULE_SET_CHOOSE_LOCAL_FALLBACK_TRIES:
			if (s->arg1 >= 0)
				choose_local_fallback_retries = (unsigned int)s->arg1;
			break;
		case CRUSH_RULE_SET_CHOOSELEAF_VARY_R:
			if (s->arg1 >= 0)
				vary_r = (unsigned int)s->arg1;
			break;
		case CRUSH_RULE_SET_CHOOSELEAF_STABLE:
			if (s->arg1 >= 0)
				stable = (unsigned int)s->arg1;
			break;
		case CRUSH_RULE_CHOOSELEAF_FIRSTN:
		case CRUSH_RULE_CHOOSE_FIRSTN:
			firstn = 1;
			/* fall through */
		case CRUSH_RULE_CHOOSELEAF_INDEP:
		case CRUSH_RULE_CHOOSE_INDEP:
			if (wsize == 0)
				break;
			recurse_to_leaf = s->op == CRUSH_RULE_CHOOSELEAF_FIRSTN ||
					  s->op == CRUSH_RULE_CHOOSELEAF_INDEP;
			osize = 0;
			for (int i = 0; i < wsize; i++) {
				int numrep = s->arg1, bno;

				if (numrep <= 0) {
					numrep += result_max;
					if (numrep <= 0)
						continue;
				}
				bno = -1 - wv[i];
				if (bno < 0 || bno >= m->max_buckets || !m->buckets[bno])
					continue;
				if (firstn) {
					unsigned int recurse_tries;

					if (choose_leaf_tries)
						recurse_tries = choose_leaf_tries;
					else if (m->chooseleaf_descend_once)
						recurse_tries = 1;
					else
						recurse_tries = choose_tries;
					osize += choose_firstn(
					    &c, m->buckets[bno], numrep, s->arg2, o + osize, 0,
					    result_max - osize, choose_tries, recurse_tries,
					    choose_local_retries, choose_local_fallback_retries,
					    recurse_to_leaf, vary_r, stable, cc + osize, 0);
				} else {
					int out_size = numrep < result_max - osize
							   ? numrep
							   : result_max - osize;

					choose_indep(&c, m->buckets[bno], out_size, numrep, s->arg2,
						     o + osize, 0, choose_tries,
						     choose_leaf_tries ? choose_leaf_tries : 1,
						     recurse_to_leaf, cc + osize, 0);
					osize += out_size;
				}
			}
			if (recurse_to_leaf)
				memcpy(o, cc, (size_t)osize * sizeof(*o));
			{
				int *t = o;

				o = wv;
				wv = t;
			}
			wsize = osize;
			break;
		case CRUSH_RULE_EMIT:
			for (int i = 0; i < wsize && result_len < result_max; i++)
				result[result_len++] = wv[i];
			wsize = 0;
			break;
		default:
			break;
		}
	}
	return result_len;
}
