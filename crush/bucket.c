/*
 * bucket — buckets and their edits: creating buckets, adding/removing/reweighting items,
 * moving and removing buckets, Ceph's insert_item (place a device under a location,
 * creating missing buckets).
 *
 * Derived bucket state is computed exactly as Ceph's builder computes it, because the mapper
 * reads it: list sum_weights are running sums; tree node_weights put item i at node 2i+1 and
 * add its weight up the implicit binary tree; straw lengths come from the "straw_calc"
 * procedure (v0 with its historical quirk for equal weights, v1 fixed); uniform buckets have
 * one item weight; straw2 keeps exact reciprocals of its weights for the mapper. Every edit
 * rebuilds the touched bucket (into a new one, so a failure leaves the map unchanged),
 * propagates weights up to the root, keeps choose_args rows aligned with the items, and
 * rebuilds the shadow trees when device classes are in use.
 */
#include "crush/crush_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int bucket_set_items(struct crush_map *m, struct crush_bucket *b, uint32_t size,
			    const int32_t *items, const uint32_t *weights);

/* ---------------------------------------------------------------- buckets */

int crush_max_buckets(const struct crush_map *m)
{
	return m->max_buckets;
}

uint32_t bucket_item_weight(const struct crush_bucket *b, uint32_t pos)
{
	return pos < b->size ? b->item_weights[pos] : 0;
}

static int add_unsafe(uint32_t a, uint32_t b)
{
	return a > UINT32_MAX - b;
}

static int tree_depth(uint32_t size)
{
	int depth = 1;
	uint32_t t;

	if (size == 0)
		return 0;
	t = size - 1;
	while (t) {
		t >>= 1;
		depth++;
	}
	return depth;
}

static int tree_height(int n)
{
	int h = 0;

	while ((n & 1) == 0) {
		h++;
		n >>= 1;
	}
	return h;
}

static int tree_parent(int n)
{
	int h = tree_height(n);

	return (n & (1 << (h + 1))) ? n - (1 << h) : n + (1 << h);
}

/* straw * 0x10000 as x86-64 converts it (through a signed 64-bit integer, low 32 bits kept;
 * out-of-range values become 0), without C's undefined behaviour for huge straws. */
static uint32_t straw_len(double straw)
{
	double v = straw * 0x10000;

	if (!(v > -9.2e18 && v < 9.2e18))
		return 0;
	return (uint32_t)(uint64_t)(int64_t)v;
}

/* Ceph's crush_calc_straw: straw lengths from sorted weights; v0 keeps its historical
 * handling of equal and zero weights. */
static void calc_straw(const struct crush_map *m, struct crush_bucket *b, int *reverse)
{
	int size = (int)b->size, i, j, k, numleft;
	const uint32_t *weights = b->item_weights;
	double straw = 1.0, wbelow = 0, lastw = 0, wnext, pbelow;

	if (size)
		reverse[0] = 0;
	for (i = 1; i < size; i++) {
		for (j = 0; j < i; j++) {
			if (weights[i] < weights[reverse[j]]) {
				for (k = i; k > j; k--)
					reverse[k] = reverse[k - 1];
				reverse[j] = i;
				break;
			}
		}
		if (j == i)
			reverse[i] = i;
	}
	numleft = size;
	i = 0;
	while (i < size) {
		if (m->straw_calc_version == 0) {
			if (weights[reverse[i]] == 0) {
				b->straws[reverse[i]] = 0;
				i++;
				continue;
			}
			b->straws[reverse[i]] = straw_len(straw);
			i++;
			if (i == size)
				break;
			if (weights[reverse[i]] == weights[reverse[i - 1]])
				continue;
			wbelow += ((double)weights[reverse[i - 1]] - lastw) * numleft;
			for (j = i; j < size; j++) {
				if (weights[reverse[j]] == weights[reverse[i]])
					numleft--;
				else
					break;
			}
			wnext =
			    (unsigned int)numleft * (weights[reverse[i]] - weights[reverse[i - 1]]);
			pbelow = wbelow / (wbelow + wnext);
			straw *= pow(1.0 / pbelow, 1.0 / (double)numleft);
			lastw = weights[reverse[i - 1]];
		} else {
			if (weights[reverse[i]] == 0) {
				b->straws[reverse[i]] = 0;
				i++;
				numleft--;
				continue;
			}
			b->straws[reverse[i]] = straw_len(straw);
			i++;
			if (i == size)
				break;
			wbelow += ((double)weights[reverse[i - 1]] - lastw) * numleft;
			numleft--;
			wnext =
			    (unsigned int)numleft * (weights[reverse[i]] - weights[reverse[i - 1]]);
			pbelow = wbelow / (wbelow + wnext);
			straw *= pow(1.0 / pbelow, 1.0 / (double)numleft);
			lastw = weights[reverse[i - 1]];
		}
	}
}

int bucket_derive(const struct crush_map *m, struct crush_bucket *b)
{
	uint32_t w = 0;

	free(b->sum_weights);
	free(b->node_weights);
	free(b->straws);
	free(b->recip);
	b->recip = NULL;
	b->sum_weights = b->node_weights = b->straws = NULL;
	b->num_nodes = 0;

	switch (b->alg) {
	case CRUSH_BUCKET_UNIFORM:
		for (uint32_t i = 1; i < b->size; i++)
			if (b->item_weights[i] != b->item_weights[0])
				return -EINVAL;
		b->weight = b->size ? b->size * b->item_weights[0] : 0;
		return 0;
	case CRUSH_BUCKET_LIST:
		b->sum_weights = calloc(b->size ? b->size : 1, sizeof(uint32_t));
		if (!b->sum_weights)
			return -ENOMEM;
		for (uint32_t i = 0; i < b->size; i++) {
			if (add_unsafe(w, b->item_weights[i]))
				return -ERANGE;
			w += b->item_weights[i];
			b->sum_weights[i] = w;
		}
		b->weight = w;
		return 0;
	case CRUSH_BUCKET_TREE: {
		int depth = tree_depth(b->size);

		b->num_nodes = b->size ? 1u << depth : 0;
		b->node_weights = calloc(b->num_nodes ? b->num_nodes : 1, sizeof(uint32_t));
		if (!b->node_weights)
			return -ENOMEM;
		for (uint32_t i = 0; i < b->size; i++) {
			int node = (int)((i + 1) << 1) - 1;
			uint32_t iw = b->item_weights[i];

			b->node_weights[node] = iw;
			if (add_unsafe(w, iw))
				return -ERANGE;
			w += iw;
			for (int j = 1; j < depth; j++) {
				node = tree_parent(node);
				if (add_unsafe(b->node_weights[node], iw))
					return -ERANGE;
				b->node_weights[node] += iw;
			}
		}
		b->weight = w;
		return 0;
	}
	case CRUSH_BUCKET_STRAW: {
		int *reverse;

		for (uint32_t i = 0; i < b->size; i++) {
			if (add_unsafe(w, b->item_weights[i]))
				return -ERANGE;
			w += b->item_weights[i];
		}
		b->weight = w;
		b->straws = calloc(b->size ? b->size : 1, sizeof(uint32_t));
		reverse = malloc(sizeof(int) * (b->size ? b->size : 1));
		if (!b->straws || !reverse) {
			free(reverse);
			return -ENOMEM;
		}
		calc_straw(m, b, reverse);
		free(reverse);
		return 0;
	}
	case CRUSH_BUCKET_STRAW2:
		b->recip = calloc(b->size ? b->size : 1, sizeof(*b->recip));
		if (!b->recip)
			return -ENOMEM;
		for (uint32_t i = 0; i < b->size; i++) {
			if (add_unsafe(w, b->item_weights[i]))
				return -ERANGE;
			w += b->item_weights[i];
			b->recip[i] = crush_recip_of(b->item_weights[i]);
		}
		b->equal_weights = b->size > 0 && b->item_weights[0] != 0;
		for (uint32_t i = 1; i < b->size; i++)
			if (b->item_weights[i] != b->item_weights[0])
				b->equal_weights = 0;
		b->weight = w;
		return 0;
	default:
		return -EINVAL;
	}
}

struct crush_bucket *bucket_new(int id, int alg, int hash, int type, uint32_t size,
				const int32_t *items, const uint32_t *weights)
{
	struct crush_bucket *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->id = id;
	b->alg = (uint8_t)alg;
	b->hash = (uint8_t)hash;
	b->type = type;
	b->size = size;
	b->class_id = -1;
	b->items = calloc(size ? size : 1, sizeof(int32_t));
	b->item_weights = calloc(size ? size : 1, sizeof(uint32_t));
	if (!b->items || !b->item_weights) {
		bucket_free(b);
		return NULL;
	}
	if (size) {
		memcpy(b->items, items, sizeof(int32_t) * size);
		if (weights)
			memcpy(b->item_weights, weights, sizeof(uint32_t) * size);
	}
	return b;
}

/* Installs b at its id (which must be free), growing the bucket array. */
int map_put_bucket(struct crush_map *m, struct crush_bucket *b)
{
	int idx = -1 - b->id;

	if (b->id >= 0 || idx > (1 << 20))
		return -EINVAL;
	if (idx >= m->max_buckets) {
		int n = m->max_buckets ? m->max_buckets : 8;
		struct crush_bucket **nb;

		while (n <= idx)
			n *= 2;
		nb = realloc(m->buckets, sizeof(*nb) * (size_t)n);
		if (!nb)
			return -ENOMEM;
		for (int i = m->max_buckets; i < n; i++)
			nb[i] = NULL;
		m->buckets = nb;
		m->max_buckets = n;
		/* choose_args arrays follow max_buckets */
		for (int c = 0; c < m->nchoose_args; c++) {
			struct crush_choose_arg_map *cm = &m->choose_args[c];
			struct crush_choose_arg *na = realloc(cm->args, sizeof(*na) * (size_t)n);

			if (!na)
				return -ENOMEM;
			memset(na + cm->size, 0, sizeof(*na) * (size_t)(n - (int)cm->size));
			cm->args = na;
			cm->size = (uint32_t)n;
		}
	}
	if (m->buckets[idx])
		return -EEXIST;
	m->buckets[idx] = b;
	return 0;
}

static int first_free_bucket_id(const struct crush_map *m)
{
	int i = 0;

	while (i < m->max_buckets && m->buckets[i])
		i++;
	return -1 - i;
}

int crush_add_bucket(struct crush_map *m, int id, int alg, int hash, int type, const char *name,
		     int *out_id)
{
	struct crush_bucket *b;
	int r;

	if (!crush_alg_name(alg) || hash != CRUSH_HASH_RJENKINS1 || type < 0 ||
	    (name && !map_valid_name(name)) || id > 0)
		return -EINVAL;
	if (name && map_name_taken(m, name))
		return -EEXIST;
	if (id == 0)
		id = first_free_bucket_id(m);
	if (map_bucket(m, id))
		return -EEXIST;
	b = bucket_new(id, alg, hash, type, 0, NULL, NULL);
	if (!b)
		return -ENOMEM;
	if (name && !(b->name = strdup(name))) {
		bucket_free(b);
		return -ENOMEM;
	}
	r = bucket_derive(m, b);
	if (!r)
		r = map_put_bucket(m, b);
	if (r) {
		bucket_free(b);
		return r;
	}
	if (out_id)
		*out_id = id;
	return 0;
}

int crush_add_bucket_items(struct crush_map *m, int id, int alg, int hash, int type,
			   const char *name, int n, const int *items, const uint32_t *weights,
			   int *out_id)
{
	uint32_t *w;
	int r, bid, parent;

	if (n < 0 || (n && (!items || !weights)))
		return -EINVAL;
	for (int i = 0; i < n; i++) {
		if (items[i] >= 0 ? !crush_device_exists(m, items[i]) : !map_bucket(m, items[i]))
			return -ENOENT;
		if (crush_bucket_parent(m, items[i], &parent) == 0)
			return -EEXIST;
		for (int j = 0; j < i; j++)
			if (items[j] == items[i])
				return -EINVAL;
	}
	w = malloc(sizeof(uint32_t) * ((size_t)n + 1));
	if (!w)
		return -ENOMEM;
	for (int i = 0; i < n; i++)
		w[i] = alg == CRUSH_BUCKET_UNIFORM ? weights[0] : weights[i];
	r = crush_add_bucket(m, id, alg, hash, type, name, &bid);
	if (!r && n) {
		struct crush_bucket *b = map_bucket(m, bid);

		r = bucket_set_items(m, b, (uint32_t)n, items, w);
		if (!r)
			r = map_rebuild_if_classes(m);
		if (r)
			map_drop_bucket(m, bid);
	}
	free(w);
	if (!r && out_id)
		*out_id = bid;
	return r;
}

int crush_bucket_exists(const struct crush_map *m, int id)
{
	return map_bucket(m, id) != NULL;
}

int crush_bucket_get(const struct crush_map *m, int id, struct crush_bucket_info *info)
{
	struct crush_bucket *b = map_bucket(m, id);

	if (!b)
		return -ENOENT;
	info->id = b->id;
	info->type = b->type;
	info->alg = b->alg;
	info->hash = b->hash;
	info->size = b->size;
	info->weight = b->weight;
	info->shadow = b->shadow_of != 0;
	info->class_id = b->class_id;
	return 0;
}

int crush_bucket_item(const struct crush_map *m, int id, uint32_t pos, int *item, uint32_t *weight)
{
	struct crush_bucket *b = map_bucket(m, id);

	if (!b)
		return -ENOENT;
	if (pos >= b->size)
		return -ERANGE;
	*item = b->items[pos];
	if (weight)
		*weight = b->item_weights[pos];
	return 0;
}

int crush_bucket_parent(const struct crush_map *m, int item, int *parent)
{
	for (int i = 0; i < m->max_buckets; i++) {
		struct crush_bucket *b = m->buckets[i];

		if (!b || b->shadow_of)
			continue;
		for (uint32_t j = 0; j < b->size; j++) {
			if (b->items[j] == item) {
				*parent = b->id;
				return 0;
			}
		}
	}
	return -ENOENT;
}

/* Is `anc` an ancestor of (or equal to) `item`? */
static int is_ancestor(const struct crush_map *m, int anc, int item)
{
	int p, depth = 0;

	while (depth++ < 1000) {
		if (item == anc)
			return 1;
		if (crush_bucket_parent(m, item, &p))
			return 0;
		item = p;
	}
	return 1;
}

/* Re-derives bucket id and pushes its new weight up through its ancestors. */
static int propagate_up(struct crush_map *m, int id)
{
	int depth = 0;

	while (depth++ < 1000) {
		struct crush_bucket *pb;
		int parent;

		if (crush_bucket_parent(m, id, &parent))
			return 0;
		pb = map_bucket(m, parent);
		for (uint32_t j = 0; j < pb->size; j++) {
			if (pb->items[j] == id) {
				struct crush_bucket *cb = map_bucket(m, id);

				pb->item_weights[j] = cb->weight;
			}
		}
		if (pb->alg == CRUSH_BUCKET_UNIFORM) {
			/* uniform: every item must carry the same weight; keep the bucket's */
		}
		int r = bucket_derive(m, pb);

		if (r)
			return r;
		id = parent;
	}
	return -ELOOP;
}

/* Applies one change to a bucket's item arrays with rollback on failure. */
static int bucket_set_items(struct crush_map *m, struct crush_bucket *b, uint32_t size,
			    const int32_t *items, const uint32_t *weights)
{
	struct crush_bucket *nb = bucket_new(b->id, b->alg, b->hash, b->type, size, items, weights);
	int r;

	if (!nb)
		return -ENOMEM;
	r = bucket_derive(m, nb);
	if (r) {
		bucket_free(nb);
		return r;
	}
	/* swap contents, keep identity fields */
	nb->name = b->name;
	nb->shadow_of = b->shadow_of;
	nb->class_id = b->class_id;
	b->name = NULL;
	m->buckets[-1 - b->id] = nb;
	bucket_free(b);
	return 0;
}

/* choose_args rows follow their bucket's items: resize a bucket's weight sets after an edit
 * (new items take their plain weight, removed ones drop out). */
static int choose_args_follow(struct crush_map *m, int id, const int32_t *old_items,
			      uint32_t old_size)
{
	struct crush_bucket *b = map_bucket(m, id);

	for (int c = 0; c < m->nchoose_args; c++) {
		struct crush_choose_arg_map *cm = &m->choose_args[c];
		struct crush_choose_arg *a;

		if ((uint32_t)(-1 - id) >= cm->size)
			continue;
		a = &cm->args[-1 - id];
		if (a->weight_set) {
			for (uint32_t p = 0; p < a->weight_set_positions; p++) {
				uint32_t *nw = calloc(b->size ? b->size : 1, sizeof(uint32_t));

				if (!nw)
					return -ENOMEM;
				for (uint32_t i = 0; i < b->size; i++) {
					nw[i] = b->item_weights[i];
					for (uint32_t k = 0; k < old_size; k++)
						if (old_items[k] == b->items[i] &&
						    k < a->weight_set[p].size)
							nw[i] = a->weight_set[p].weights[k];
				}
				free(a->weight_set[p].weights);
				a->weight_set[p].weights = nw;
				a->weight_set[p].size = b->size;
			}
		}
		if (a->ids) {
			int32_t *ni = calloc(b->size ? b->size : 1, sizeof(int32_t));

			if (!ni)
				return -ENOMEM;
			for (uint32_t i = 0; i < b->size; i++) {
				ni[i] = b->items[i];
				for (uint32_t k = 0; k < old_size && k < a->ids_size; k++)
					if (old_items[k] == b->items[i])
						ni[i] = a->ids[k];
			}
			free(a->ids);
			a->ids = ni;
			a->ids_size = b->size;
		}
	}
	return 0;
}

static int edit_bucket(struct crush_map *m, struct crush_bucket *b, uint32_t size,
		       const int32_t *items, const uint32_t *weights)
{
	int32_t *old = malloc(sizeof(int32_t) * (b->size ? b->size : 1));
	uint32_t old_size = b->size;
	int id = b->id, r;

	if (!old)
		return -ENOMEM;
	memcpy(old, b->items, sizeof(int32_t) * b->size);
	r = bucket_set_items(m, b, size, items, weights);
	if (!r)
		r = choose_args_follow(m, id, old, old_size);
	free(old);
	if (!r)
		r = propagate_up(m, id);
	if (!r)
		r = map_rebuild_if_classes(m);
	return r;
}

int crush_bucket_add_item(struct crush_map *m, int bucket, int item, uint32_t weight)
{
	struct crush_bucket *b = map_bucket(m, bucket);
	int32_t *items;
	uint32_t *weights;
	int r, p;

	if (!b || b->shadow_of)
		return -ENOENT;
	if (item >= 0 ? !crush_device_exists(m, item) : !map_bucket(m, item))
		return -ENOENT;
	if (crush_bucket_parent(m, item, &p) == 0)
		return -EEXIST;
	if (item < 0 && is_ancestor(m, item, bucket))
		return -ELOOP;
	if (b->alg == CRUSH_BUCKET_UNIFORM && b->size && b->item_weights[0] != weight)
		return -EINVAL;
	items = malloc(sizeof(int32_t) * (b->size + 1));
	weights = malloc(sizeof(uint32_t) * (b->size + 1));
	if (!items || !weights) {
		r = -ENOMEM;
		goto out;
	}
	memcpy(items, b->items, sizeof(int32_t) * b->size);
	memcpy(weights, b->item_weights, sizeof(uint32_t) * b->size);
	items[b->size] = item;
	weights[b->size] = weight;
	r = edit_bucket(m, b, b->size + 1, items, weights);
out:
	free(items);
	free(weights);
	return r;
}

int crush_bucket_remove_item(struct crush_map *m, int bucket, int item)
{
	struct crush_bucket *b = map_bucket(m, bucket);
	int32_t *items;
	uint32_t *weights, n = 0;
	int r;

	if (!b || b->shadow_of)
		return -ENOENT;
	items = malloc(sizeof(int32_t) * (b->size + 1));
	weights = malloc(sizeof(uint32_t) * (b->size + 1));
	if (!items || !weights) {
		r = -ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < b->size; i++) {
		if (b->items[i] == item)
			continue;
		items[n] = b->items[i];
		weights[n++] = b->item_weights[i];
	}
	r = n == b->size ? -ENOENT : edit_bucket(m, b, n, items, weights);
out:
	free(items);
	free(weights);
	return r;
}

int crush_bucket_adjust_item_weight(struct crush_map *m, int bucket, int item, uint32_t weight)
{
	struct crush_bucket *b = map_bucket(m, bucket);
	uint32_t *weights;
	int r = -ENOENT;

	if (!b || b->shadow_of)
		return -ENOENT;
	weights = malloc(sizeof(uint32_t) * (b->size + 1));
	if (!weights)
		return -ENOMEM;
	memcpy(weights, b->item_weights, sizeof(uint32_t) * b->size);
	for (uint32_t i = 0; i < b->size; i++) {
		if (b->items[i] == item) {
			weights[i] = weight;
			r = 0;
		}
	}
	if (!r && b->alg == CRUSH_BUCKET_UNIFORM)
		for (uint32_t i = 0; i < b->size; i++)
			weights[i] = weight;
	if (!r)
		r = edit_bucket(m, b, b->size, b->items, weights);
	free(weights);
	return r;
}

int crush_reweight_item(struct crush_map *m, int item, uint32_t weight)
{
	int parent, r;

	r = crush_bucket_parent(m, item, &parent);
	if (r)
		return r;
	return crush_bucket_adjust_item_weight(m, parent, item, weight);
}

int crush_get_item_weight(const struct crush_map *m, int item, uint32_t *weight)
{
	int parent;
	struct crush_bucket *b;

	if (crush_bucket_parent(m, item, &parent))
		return -ENOENT;
	b = map_bucket(m, parent);
	for (uint32_t i = 0; i < b->size; i++) {
		if (b->items[i] == item) {
			*weight = b->item_weights[i];
			return 0;
		}
	}
	return -ENOENT;
}

int crush_move_bucket(struct crush_map *m, int id, int new_parent)
{
	struct crush_bucket *b = map_bucket(m, id);
	int parent, r;

	if (!b || b->shadow_of || !map_bucket(m, new_parent))
		return -ENOENT;
	if (is_ancestor(m, id, new_parent))
		return -ELOOP;
	if (crush_bucket_parent(m, id, &parent) == 0) {
		r = crush_bucket_remove_item(m, parent, id);
		if (r)
			return r;
	}
	return crush_bucket_add_item(m, new_parent, id, b->weight);
}

static int rule_references(const struct crush_map *m, int id)
{
	for (uint32_t i = 0; i < m->max_rules; i++) {
		const struct crush_rule *r = m->rules[i];

		if (!r)
			continue;
		for (int s = 0; s < r->len; s++) {
			if (r->steps[s].op != CRUSH_RULE_TAKE)
				continue;
			if (r->steps[s].arg1 == id)
				return 1;
			struct crush_bucket *sb = map_bucket(m, r->steps[s].arg1);

			if (sb && sb->shadow_of == id)
				return 1;
		}
	}
	return 0;
}

void map_drop_bucket(struct crush_map *m, int id)
{
	for (int c = 0; c < m->nchoose_args; c++)
		if ((uint32_t)(-1 - id) < m->choose_args[c].size)
			choose_arg_clear(&m->choose_args[c].args[-1 - id]);
	bucket_free(m->buckets[-1 - id]);
	m->buckets[-1 - id] = NULL;
}

int crush_remove_bucket(struct crush_map *m, int id)
{
	struct crush_bucket *b = map_bucket(m, id);
	int parent;

	if (!b || b->shadow_of)
		return -ENOENT;
	if (b->size)
		return -ENOTEMPTY;
	if (crush_bucket_parent(m, id, &parent) == 0 || rule_references(m, id))
		return -EBUSY;
	map_drop_bucket(m, id);
	return map_rebuild_if_classes(m);
}

int crush_remove_item(struct crush_map *m, int id)
{
	int parent, r;

	if (id < 0) {
		struct crush_bucket *b = map_bucket(m, id);

		if (!b || b->shadow_of)
			return -ENOENT;
		if (b->size)
			return -ENOTEMPTY;
		if (rule_references(m, id))
			return -EBUSY;
	} else if (!crush_device_exists(m, id)) {
		return -ENOENT;
	}
	while (crush_bucket_parent(m, id, &parent) == 0) {
		r = crush_bucket_remove_item(m, parent, id);
		if (r)
			return r;
	}
	if (id < 0)
		return crush_remove_bucket(m, id);
	/* a removed device loses its name and class too (Ceph's remove_item) */
	free(m->dev_names[id]);
	m->dev_names[id] = NULL;
	m->dev_exists[id] = 0;
	if (m->dev_class[id] >= 0) {
		m->dev_class[id] = -1;
		return map_rebuild_if_classes(m);
	}
	return 0;
}

int crush_insert_item(struct crush_map *m, int id, uint32_t weight, const char *name,
		      const char *const *loc_types, const char *const *loc_names, int nloc)
{
	int cur = id, r, parent;

	if (id < 0)
		return -EINVAL;
	if (crush_bucket_parent(m, id, &parent) == 0)
		return -EEXIST;
	if (!crush_device_exists(m, id)) {
		r = crush_add_device(m, id, name);
		if (r)
			return r;
	}
	/* walk types from low to high; link each level's bucket to the next */
	for (int t = 0; t < m->ntypes; t++) {
		int type = m->types[t].id, bid, found = -1;

		if (type == 0)
			continue;
		for (int l = 0; l < nloc; l++)
			if (!strcmp(loc_types[l], m->types[t].name))
				found = l;
		if (found < 0)
			continue;
		if (crush_get_item_id(m, loc_names[found], &bid)) {
			r = crush_add_bucket(m, 0, CRUSH_BUCKET_STRAW2, CRUSH_HASH_RJENKINS1, type,
					     loc_names[found], &bid);
			if (r)
				return r;
		}
		if (bid >= 0)
			return -EINVAL;
		if (cur == id)
			r = crush_bucket_add_item(m, bid, cur, weight);
		else if (crush_bucket_parent(m, cur, &parent) == 0)
			return 0; /* the rest of the location already exists */
		else
			r = crush_bucket_add_item(m, bid, cur, map_bucket(m, cur)->weight);
		if (r)
			return r;
		cur = bid;
	}
	return cur == id ? -EINVAL : 0;
}
