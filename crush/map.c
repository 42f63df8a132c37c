/*
 * map — the crush map model and its builder: create/free, tunables, names, devices and
 * classes, buckets and their derived arrays, rules, choose_args, shadow (device-class) trees.
 *
 * Derived bucket state is computed exactly as Ceph's builder computes it, because the mapper
 * reads it: list sum_weights are running sums; tree node_weights put item i at node 2i+1 and
 * add its weight up the implicit binary tree; straw lengths come from the "straw_calc"
 * procedure (v0 with its historical quirk for equal weights, v1 fixed); uniform buckets have
 * one item weight. Every edit rebuilds the touched buckets, propagates weights up to the
 * root, and rebuilds the shadow trees when device classes are in use.
 */
#include "crush/crush_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int bucket_set_items(struct crush_map *m, struct crush_bucket *b, uint32_t size,
			    const int32_t *items, const uint32_t *weights);
static void drop_bucket(struct crush_map *m, int id);
static int rebuild_if_classes(struct crush_map *m);

/* ---------------------------------------------------------------- tunables */

struct profile {
	const char *name;
	struct crush_tunables t;
};

#define LEGACY_ALGS ((1u << CRUSH_BUCKET_UNIFORM) | (1u << CRUSH_BUCKET_LIST) | (1u << CRUSH_BUCKET_STRAW))
#define HAMMER_ALGS (LEGACY_ALGS | (1u << CRUSH_BUCKET_STRAW2))

static const struct profile profiles[] = {
	{ "legacy", { 2, 5, 19, 0, 0, 0, 0, LEGACY_ALGS } },
	{ "argonaut", { 2, 5, 19, 0, 0, 0, 0, LEGACY_ALGS } },
	{ "bobtail", { 0, 0, 50, 1, 0, 0, 0, LEGACY_ALGS } },
	{ "firefly", { 0, 0, 50, 1, 1, 0, 0, LEGACY_ALGS } },
	{ "hammer", { 0, 0, 50, 1, 1, 0, 0, HAMMER_ALGS } },
	{ "jewel", { 0, 0, 50, 1, 1, 1, 0, HAMMER_ALGS } },
	{ "optimal", { 0, 0, 50, 1, 1, 1, 1, HAMMER_ALGS } },
	{ "default", { 0, 0, 50, 1, 1, 1, 1, HAMMER_ALGS } },
};

/* Ceph's profiles other than legacy/optimal/default leave straw_calc_version untouched. */
int crush_tunables_profile(const char *name, struct crush_tunables *t)
{
	for (size_t i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++) {
		if (!strcmp(name, profiles[i].name)) {
			*t = profiles[i].t;
			return 0;
		}
	}
	return -EINVAL;
}

void crush_get_tunables(const struct crush_map *m, struct crush_tunables *t)
{
	t->choose_local_tries = m->choose_local_tries;
	t->choose_local_fallback_tries = m->choose_local_fallback_tries;
	t->choose_total_tries = m->choose_total_tries;
	t->chooseleaf_descend_once = m->chooseleaf_descend_once;
	t->chooseleaf_vary_r = m->chooseleaf_vary_r;
	t->chooseleaf_stable = m->chooseleaf_stable;
	t->straw_calc_version = m->straw_calc_version;
	t->allowed_bucket_algs = m->allowed_bucket_algs;
}

void crush_set_tunables(struct crush_map *m, const struct crush_tunables *t)
{
	m->choose_local_tries = t->choose_local_tries;
	m->choose_local_fallback_tries = t->choose_local_fallback_tries;
	m->choose_total_tries = t->choose_total_tries;
	m->chooseleaf_descend_once = t->chooseleaf_descend_once;
	m->chooseleaf_vary_r = t->chooseleaf_vary_r;
	m->chooseleaf_stable = t->chooseleaf_stable;
	m->straw_calc_version = t->straw_calc_version;
	m->allowed_bucket_algs = t->allowed_bucket_algs;
}

int crush_set_tunables_profile(struct crush_map *m, const char *name)
{
	struct crush_tunables t;
	uint8_t scv = m->straw_calc_version;

	if (crush_tunables_profile(name, &t))
		return -EINVAL;
	if (strcmp(name, "legacy") && strcmp(name, "optimal") && strcmp(name, "default"))
		t.straw_calc_version = scv;
	crush_set_tunables(m, &t);
	return 0;
}

/* ---------------------------------------------------------------- create / destroy */

struct crush_map *crush_create(void)
{
	struct crush_map *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	crush_set_tunables(m, &profiles[7].t);
	return m;
}

void bucket_free(struct crush_bucket *b)
{
	if (!b)
		return;
	free(b->items);
	free(b->item_weights);
	free(b->sum_weights);
	free(b->node_weights);
	free(b->straws);
	free(b->recip);
	free(b->name);
	free(b);
}

void choose_arg_clear(struct crush_choose_arg *a)
{
	if (a->weight_set)
		for (uint32_t p = 0; p < a->weight_set_positions; p++)
			free(a->weight_set[p].weights);
	free(a->weight_set);
	free(a->ids);
	memset(a, 0, sizeof(*a));
}

static void cmap_free(struct crush_choose_arg_map *cm)
{
	for (uint32_t i = 0; i < cm->size; i++)
		choose_arg_clear(&cm->args[i]);
	free(cm->args);
	cm->args = NULL;
	cm->size = 0;
}

void crush_destroy(struct crush_map *m)
{
	if (!m)
		return;
	for (int i = 0; i < m->max_buckets; i++)
		bucket_free(m->buckets[i]);
	free(m->buckets);
	for (uint32_t i = 0; i < m->max_rules; i++) {
		if (m->rules[i])
			free(m->rules[i]->name);
		free(m->rules[i]);
	}
	free(m->rules);
	for (int i = 0; i < m->ntypes; i++)
		free(m->types[i].name);
	free(m->types);
	for (int i = 0; i < m->dev_cap; i++)
		free(m->dev_names[i]);
	free(m->dev_names);
	free(m->dev_class);
	free(m->dev_exists);
	for (int i = 0; i < m->nclasses; i++)
		free(m->class_names[i]);
	free(m->class_names);
	for (int i = 0; i < m->nchoose_args; i++)
		cmap_free(&m->choose_args[i]);
	free(m->choose_args);
	free(m);
}

struct crush_map *crush_clone(const struct crush_map *m)
{
	struct crush_map *out = NULL;
	struct cbuf b;
	struct cdec d;

	cbuf_init(&b);
	if (crush_encode(m, &b) == 0) {
		cdec_init(&d, b.data, b.len);
		if (crush_decode(&d, &out))
			out = NULL;
	}
	cbuf_free(&b);
	return out;
}

/* ---------------------------------------------------------------- names */

int map_valid_name(const char *name)
{
	size_t n;

	if (!name || !*name)
		return 0;
	n = strlen(name);
	if (n > CRUSH_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char ch = name[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.' || ch == '~'))
			return 0;
	}
	return 1;
}

int crush_alg_from_name(const char *name)
{
	static const char *const names[] = { NULL, "uniform", "list", "tree", "straw", "straw2" };

	for (int i = 1; i <= 5; i++)
		if (!strcmp(name, names[i]))
			return i;
	return -EINVAL;
}

const char *crush_alg_name(int alg)
{
	static const char *const names[] = { NULL, "uniform", "list", "tree", "straw", "straw2" };

	return alg >= 1 && alg <= 5 ? names[alg] : NULL;
}

int crush_set_type_name(struct crush_map *m, int type, const char *name)
{
	struct crush_type_name *t;
	char *dup;

	if (type < 0 || !map_valid_name(name))
		return -EINVAL;
	for (int i = 0; i < m->ntypes; i++) {
		if (m->types[i].id != type && !strcmp(m->types[i].name, name))
			return -EEXIST;
	}
	dup = strdup(name);
	if (!dup)
		return -ENOMEM;
	for (int i = 0; i < m->ntypes; i++) {
		if (m->types[i].id == type) {
			free(m->types[i].name);
			m->types[i].name = dup;
			return 0;
		}
	}
	t = realloc(m->types, sizeof(*t) * (size_t)(m->ntypes + 1));
	if (!t) {
		free(dup);
		return -ENOMEM;
	}
	m->types = t;
	/* keep sorted by id */
	int pos = m->ntypes;

	while (pos > 0 && m->types[pos - 1].id > type) {
		m->types[pos] = m->types[pos - 1];
		pos--;
	}
	m->types[pos].id = type;
	m->types[pos].name = dup;
	m->ntypes++;
	return 0;
}

const char *crush_get_type_name(const struct crush_map *m, int type)
{
	for (int i = 0; i < m->ntypes; i++)
		if (m->types[i].id == type)
			return m->types[i].name;
	return NULL;
}

int crush_get_type_id(const struct crush_map *m, const char *name)
{
	for (int i = 0; i < m->ntypes; i++)
		if (!strcmp(m->types[i].name, name))
			return m->types[i].id;
	return -ENOENT;
}

int crush_max_type(const struct crush_map *m)
{
	return m->ntypes ? m->types[m->ntypes - 1].id : -1;
}

struct crush_bucket *map_bucket(const struct crush_map *m, int id)
{
	if (id >= 0 || -1 - id >= m->max_buckets)
		return NULL;
	return m->buckets[-1 - id];
}

int map_name_taken(const struct crush_map *m, const char *name)
{
	int id;

	return crush_get_item_id(m, name, &id) == 0;
}

int crush_get_item_id(const struct crush_map *m, const char *name, int *id)
{
	for (int i = 0; i < m->dev_cap; i++) {
		if (m->dev_names[i] && !strcmp(m->dev_names[i], name)) {
			*id = i;
			return 0;
		}
	}
	for (int i = 0; i < m->max_buckets; i++) {
		if (m->buckets[i] && m->buckets[i]->name && !strcmp(m->buckets[i]->name, name)) {
			*id = -1 - i;
			return 0;
		}
	}
	return -ENOENT;
}

const char *crush_get_item_name(const struct crush_map *m, int id)
{
	if (id >= 0)
		return id < m->dev_cap ? m->dev_names[id] : NULL;
	struct crush_bucket *b = map_bucket(m, id);

	return b ? b->name : NULL;
}

int map_ensure_device(struct crush_map *m, int id)
{
	int cap = m->dev_cap;

	if (id < 0 || id > (1 << 24))
		return -EINVAL;
	if (id >= cap) {
		int ncap = cap ? cap : 16;
		char **nn;
		int32_t *nc;
		uint8_t *ne;

		while (ncap <= id)
			ncap *= 2;
		nn = realloc(m->dev_names, sizeof(*nn) * (size_t)ncap);
		if (!nn)
			return -ENOMEM;
		m->dev_names = nn;
		nc = realloc(m->dev_class, sizeof(*nc) * (size_t)ncap);
		if (!nc)
			return -ENOMEM;
		m->dev_class = nc;
		ne = realloc(m->dev_exists, (size_t)ncap);
		if (!ne)
			return -ENOMEM;
		m->dev_exists = ne;
		for (int i = cap; i < ncap; i++) {
			nn[i] = NULL;
			nc[i] = -1;
			ne[i] = 0;
		}
		m->dev_cap = ncap;
	}
	m->dev_exists[id] = 1;
	if (id >= m->max_devices)
		m->max_devices = id + 1;
	return 0;
}

int crush_set_item_name(struct crush_map *m, int id, const char *name)
{
	char *dup;
	int other;

	if (!map_valid_name(name))
		return -EINVAL;
	if (crush_get_item_id(m, name, &other) == 0)
		return other == id ? 0 : -EEXIST;
	if (id < 0) {
		struct crush_bucket *b = map_bucket(m, id);

		if (!b)
			return -ENOENT;
		if (!(dup = strdup(name)))
			return -ENOMEM;
		free(b->name);
		b->name = dup;
		return 0;
	}
	if (!(dup = strdup(name)))
		return -ENOMEM;
	if (map_ensure_device(m, id)) {
		free(dup);
		return -ENOMEM;
	}
	free(m->dev_names[id]);
	m->dev_names[id] = dup;
	return 0;
}

/* ---------------------------------------------------------------- devices and classes */

int crush_max_devices(const struct crush_map *m) { return m->max_devices; }

int crush_add_device(struct crush_map *m, int id, const char *name)
{
	char def[32];
	int r;

	if (id < 0)
		return -EINVAL;
	if (!name) {
		snprintf(def, sizeof(def), "osd.%d", id);
		name = def;
	}
	r = map_ensure_device(m, id);
	if (r)
		return r;
	return crush_set_item_name(m, id, name);
}

int crush_device_exists(const struct crush_map *m, int id)
{
	return id >= 0 && id < m->dev_cap && m->dev_exists[id];
}

int crush_get_class_id(const struct crush_map *m, const char *name)
{
	for (int i = 0; i < m->nclasses; i++)
		if (m->class_names[i] && !strcmp(m->class_names[i], name))
			return i;
	return -ENOENT;
}

const char *crush_get_class_name(const struct crush_map *m, int class_id)
{
	return class_id >= 0 && class_id < m->nclasses ? m->class_names[class_id] : NULL;
}

int map_set_class_name(struct crush_map *m, int class_id, const char *name)
{
	char *dup;

	if (class_id < 0 || class_id > 4096 || !map_valid_name(name))
		return -EINVAL;
	if (class_id >= m->nclasses) {
		char **n = realloc(m->class_names, sizeof(*n) * (size_t)(class_id + 1));

		if (!n)
			return -ENOMEM;
		for (int i = m->nclasses; i <= class_id; i++)
			n[i] = NULL;
		m->class_names = n;
		m->nclasses = class_id + 1;
	}
	if (!(dup = strdup(name)))
		return -ENOMEM;
	free(m->class_names[class_id]);
	m->class_names[class_id] = dup;
	return 0;
}

/* Ceph allocates class ids as 1 + the highest id in use. */
int map_get_or_create_class(struct crush_map *m, const char *name)
{
	int c = crush_get_class_id(m, name), hi = -1, r;

	if (c >= 0)
		return c;
	for (int i = 0; i < m->nclasses; i++)
		if (m->class_names[i])
			hi = i;
	r = map_set_class_name(m, hi + 1, name);
	return r ? r : hi + 1;
}

const char *crush_get_device_class(const struct crush_map *m, int id)
{
	if (id < 0 || id >= m->dev_cap)
		return NULL;
	return crush_get_class_name(m, m->dev_class[id]);
}

static int classes_in_use(const struct crush_map *m)
{
	for (int i = 0; i < m->dev_cap; i++)
		if (m->dev_class[i] >= 0)
			return 1;
	for (int i = 0; i < m->max_buckets; i++)
		if (m->buckets[i] && m->buckets[i]->shadow_of)
			return 1;
	return 0;
}

static int rebuild_if_classes(struct crush_map *m)
{
	return classes_in_use(m) ? map_rebuild_shadows(m, NULL, 0) : 0;
}

int crush_set_device_class(struct crush_map *m, int id, const char *class_name)
{
	int c = -1, r;

	if (!crush_device_exists(m, id))
		return -ENOENT;
	if (class_name) {
		c = map_get_or_create_class(m, class_name);
		if (c < 0)
			return c;
	}
	m->dev_class[id] = c;
	r = map_rebuild_shadows(m, NULL, 0);
	return r;
}

int crush_item_in_tree(const struct crush_map *m, int item)
{
	for (int i = 0; i < m->max_buckets; i++) {
		struct crush_bucket *b = m->buckets[i];

		if (!b || b->shadow_of)
			continue;
		for (uint32_t j = 0; j < b->size; j++)
			if (b->items[j] == item)
				return 1;
	}
	return 0;
}

/* ---------------------------------------------------------------- buckets */

int crush_max_buckets(const struct crush_map *m) { return m->max_buckets; }

uint32_t bucket_item_weight(const struct crush_bucket *b, uint32_t pos)
{
	return pos < b->size ? b->item_weights[pos] : 0;
}

static int add_unsafe(uint32_t a, uint32_t b) { return a > UINT32_MAX - b; }

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
			wnext = (unsigned int)numleft * (weights[reverse[i]] - weights[reverse[i - 1]]);
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
			wnext = (unsigned int)numleft * (weights[reverse[i]] - weights[reverse[i - 1]]);
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
			r = rebuild_if_classes(m);
		if (r)
			drop_bucket(m, bid);
	}
	free(w);
	if (!r && out_id)
		*out_id = bid;
	return r;
}

int crush_bucket_exists(const struct crush_map *m, int id) { return map_bucket(m, id) != NULL; }

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

int crush_bucket_item(const struct crush_map *m, int id, uint32_t pos, int *item,
		      uint32_t *weight)
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
		r = rebuild_if_classes(m);
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

static void drop_bucket(struct crush_map *m, int id)
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
	drop_bucket(m, id);
	return rebuild_if_classes(m);
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
		return rebuild_if_classes(m);
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

/* ---------------------------------------------------------------- shadow trees */

int map_shadow_of(const struct crush_map *m, int orig, int class_id)
{
	for (int i = 0; i < m->max_buckets; i++) {
		struct crush_bucket *b = m->buckets[i];

		if (b && b->shadow_of == orig && b->class_id == class_id)
			return b->id;
	}
	return 0;
}

struct shadow_ctx {
	const int32_t *old; /* (orig, class, shadow) triples */
	int nold;
	/* per choose_args set, per bucket index: the clone's summed weights per position */
	uint32_t **cw; /* [nchoose_args][max_buckets * 8] (positions capped at 8) */
};

static int used_shadow_id(const struct shadow_ctx *sc, int id)
{
	for (int i = 0; i < sc->nold; i++)
		if (sc->old[3 * i + 2] == id)
			return 1;
	return 0;
}

#define SHADOW_MAX_POS 8

static int clone_bucket(struct crush_map *m, struct shadow_ctx *sc, int orig, int cls, int *out,
			int depth)
{
	struct crush_bucket *ob = map_bucket(m, orig), *nb;
	const char *cname = crush_get_class_name(m, cls);
	char name[2 * CRUSH_NAME_MAX + 2];
	int32_t *items = NULL;
	uint32_t *weights = NULL, *opos = NULL, n = 0;
	int r, bno = 0, existing;

	if (!ob || !ob->name || !cname)
		return -ENOENT;
	if (depth > 64)
		return -ELOOP;
	snprintf(name, sizeof(name), "%s~%s", ob->name, cname);
	if (crush_get_item_id(m, name, &existing) == 0) {
		*out = existing;
		return 0;
	}
	items = malloc(sizeof(int32_t) * (ob->size + 1));
	weights = malloc(sizeof(uint32_t) * (ob->size + 1));
	opos = malloc(sizeof(uint32_t) * (ob->size + 1));
	if (!items || !weights || !opos) {
		r = -ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < ob->size; i++) {
		int item = ob->items[i];

		if (item >= 0) {
			if (item >= m->dev_cap || m->dev_class[item] != cls)
				continue;
			items[n] = item;
			weights[n] = ob->item_weights[i];
		} else {
			int child;

			r = clone_bucket(m, sc, item, cls, &child, depth + 1);
			if (r)
				goto out;
			items[n] = child;
			weights[n] = map_bucket(m, child)->weight;
			ob = map_bucket(m, orig); /* the bucket array may have moved */
		}
		opos[n++] = i;
	}
	for (int i = 0; i < sc->nold; i++)
		if (sc->old[3 * i] == orig && sc->old[3 * i + 1] == cls)
			bno = sc->old[3 * i + 2];
	if (bno && map_bucket(m, bno))
		bno = 0;
	if (!bno) {
		bno = -1;
		while (map_bucket(m, bno) || used_shadow_id(sc, bno))
			bno--;
	}
	nb = bucket_new(bno, ob->alg, ob->hash, ob->type, n, items, weights);
	if (!nb) {
		r = -ENOMEM;
		goto out;
	}
	nb->shadow_of = orig;
	nb->class_id = cls;
	nb->name = strdup(name);
	r = nb->name ? bucket_derive(m, nb) : -ENOMEM;
	if (!r)
		r = map_put_bucket(m, nb);
	if (r) {
		bucket_free(nb);
		goto out;
	}
	ob = map_bucket(m, orig);
	/* weight sets of the clone, Ceph's way (device rows copied, bucket rows from the
	 * child clone's per-position sums; only the last position's sum is remembered) */
	for (int c = 0; c < m->nchoose_args; c++) {
		struct crush_choose_arg_map *cm = &m->choose_args[c];
		struct crush_choose_arg *o, *na;
		uint32_t npos;

		if ((uint32_t)(-1 - orig) >= cm->size || (uint32_t)(-1 - bno) >= cm->size)
			continue;
		o = &cm->args[-1 - orig];
		na = &cm->args[-1 - bno];
		choose_arg_clear(na);
		npos = o->weight_set_positions;
		if (!npos || !o->weight_set)
			continue;
		if (npos > SHADOW_MAX_POS) {
			r = -E2BIG;
			goto out;
		}
		na->weight_set = calloc(npos, sizeof(*na->weight_set));
		if (!na->weight_set) {
			r = -ENOMEM;
			goto out;
		}
		na->weight_set_positions = npos;
		for (uint32_t s = 0; s < npos; s++) {
			na->weight_set[s].size = n;
			na->weight_set[s].weights = calloc(n ? n : 1, sizeof(uint32_t));
			if (!na->weight_set[s].weights) {
				r = -ENOMEM;
				goto out;
			}
		}
		uint32_t *mine = &sc->cw[c][(size_t)(-1 - bno) * SHADOW_MAX_POS];

		for (uint32_t s = 0; s < npos; s++) {
			uint32_t sum = 0;

			for (uint32_t i = 0; i < n; i++) {
				uint32_t w = 0;

				if (items[i] >= 0) {
					if (opos[i] < o->weight_set[s].size)
						w = o->weight_set[s].weights[opos[i]];
				} else if ((uint32_t)(-1 - items[i]) < (uint32_t)m->max_buckets) {
					w = sc->cw[c][(size_t)(-1 - items[i]) * SHADOW_MAX_POS + s];
				}
				na->weight_set[s].weights[i] = w;
				sum += w;
			}
			memset(mine, 0, sizeof(uint32_t) * SHADOW_MAX_POS);
			mine[s] = sum;
		}
	}
	*out = bno;
	r = 0;
out:
	free(items);
	free(weights);
	free(opos);
	return r;
}

int map_rebuild_shadows(struct crush_map *m, const int32_t *given, int ngiven)
{
	struct shadow_ctx sc = { 0 };
	int32_t *old = NULL;
	int nold = 0, r = 0, cap_buckets;

	/* remember current shadow ids (plus the caller's) so they survive the rebuild */
	old = malloc(sizeof(int32_t) * 3 * (size_t)(m->max_buckets + ngiven + 1));
	if (!old)
		return -ENOMEM;
	for (int i = 0; i < ngiven; i++) {
		old[3 * nold] = given[3 * i];
		old[3 * nold + 1] = given[3 * i + 1];
		old[3 * nold + 2] = given[3 * i + 2];
		nold++;
	}
	for (int i = 0; i < m->max_buckets; i++) {
		struct crush_bucket *b = m->buckets[i];

		if (b && b->shadow_of) {
			old[3 * nold] = b->shadow_of;
			old[3 * nold + 1] = b->class_id;
			old[3 * nold + 2] = b->id;
			nold++;
		}
	}
	for (int i = 0; i < m->max_buckets; i++)
		if (m->buckets[i] && m->buckets[i]->shadow_of)
			drop_bucket(m, -1 - i);
	sc.old = old;
	sc.nold = nold;
	/* the clones may grow the bucket array: size scratch for the worst case */
	cap_buckets = m->max_buckets * (m->nclasses + 1) + 64;
	for (int i = 0; i < nold; i++)
		if (-old[3 * i + 2] + 64 > cap_buckets)
			cap_buckets = -old[3 * i + 2] + 64;
	if (m->nchoose_args) {
		sc.cw = calloc((size_t)m->nchoose_args, sizeof(uint32_t *));
		if (!sc.cw) {
			r = -ENOMEM;
			goto out;
		}
		for (int c = 0; c < m->nchoose_args; c++) {
			sc.cw[c] = calloc((size_t)cap_buckets * 2 * SHADOW_MAX_POS, sizeof(uint32_t));
			if (!sc.cw[c]) {
				r = -ENOMEM;
				goto out;
			}
		}
	}
	for (int i = m->max_buckets - 1; i >= 0; i--) { /* ascending ids: -N first */
		struct crush_bucket *b = m->buckets[i];
		int parent, clone;

		if (!b || b->shadow_of || crush_bucket_parent(m, b->id, &parent) == 0)
			continue;
		for (int c = 0; c < m->nclasses; c++) {
			if (!m->class_names[c])
				continue;
			if (m->max_buckets * 2 > cap_buckets) {
				r = -E2BIG;
				goto out;
			}
			r = clone_bucket(m, &sc, b->id, c, &clone, 0);
			if (r)
				goto out;
			b = m->buckets[i];
		}
	}
out:
	if (sc.cw)
		for (int c = 0; c < m->nchoose_args; c++)
			free(sc.cw[c]);
	free(sc.cw);
	free(old);
	return r;
}

/* ---------------------------------------------------------------- rules */

int crush_max_rules(const struct crush_map *m)
{
	int n = 0;

	for (uint32_t i = 0; i < m->max_rules; i++)
		if (m->rules[i])
			n = (int)i + 1;
	return n;
}

int crush_rule_exists(const struct crush_map *m, int ruleno)
{
	return ruleno >= 0 && (uint32_t)ruleno < m->max_rules && m->rules[ruleno];
}

int crush_get_rule_id(const struct crush_map *m, const char *name)
{
	for (uint32_t i = 0; i < m->max_rules; i++)
		if (m->rules[i] && m->rules[i]->name && !strcmp(m->rules[i]->name, name))
			return (int)i;
	return -ENOENT;
}

const char *crush_get_rule_name(const struct crush_map *m, int ruleno)
{
	return crush_rule_exists(m, ruleno) ? m->rules[ruleno]->name : NULL;
}

int crush_get_rule(const struct crush_map *m, int ruleno, int *type, int *min_size, int *max_size,
		   const struct crush_rule_step **steps, int *nsteps)
{
	const struct crush_rule *r;

	if (!crush_rule_exists(m, ruleno))
		return -ENOENT;
	r = m->rules[ruleno];
	if (type)
		*type = r->type;
	if (min_size)
		*min_size = r->min_size;
	if (max_size)
		*max_size = r->max_size;
	if (steps)
		*steps = r->steps;
	if (nsteps)
		*nsteps = r->len;
	return 0;
}

int crush_add_rule(struct crush_map *m, int ruleno, const char *name, int type, int min_size,
		   int max_size, const struct crush_rule_step *steps, int nsteps, int *out)
{
	struct crush_rule *r;

	if (nsteps < 0 || nsteps > 1024 || (name && !map_valid_name(name)))
		return -EINVAL;
	if (name && crush_get_rule_id(m, name) >= 0)
		return -EEXIST;
	if (ruleno < 0) {
		ruleno = 0;
		while (crush_rule_exists(m, ruleno))
			ruleno++;
	}
	if (ruleno >= CRUSH_MAX_RULES)
		return -ENOSPC;
	if (crush_rule_exists(m, ruleno))
		return -EEXIST;
	if ((uint32_t)ruleno >= m->max_rules) {
		uint32_t n = (uint32_t)ruleno + 1;
		struct crush_rule **nr = realloc(m->rules, sizeof(*nr) * n);

		if (!nr)
			return -ENOMEM;
		for (uint32_t i = m->max_rules; i < n; i++)
			nr[i] = NULL;
		m->rules = nr;
		m->max_rules = n;
	}
	r = calloc(1, sizeof(*r) + sizeof(struct crush_rule_step) * (size_t)nsteps);
	if (!r)
		return -ENOMEM;
	if (name && !(r->name = strdup(name))) {
		free(r);
		return -ENOMEM;
	}
	r->type = type;
	r->min_size = min_size;
	r->max_size = max_size;
	r->len = nsteps;
	if (nsteps)
		memcpy(r->steps, steps, sizeof(*steps) * (size_t)nsteps);
	m->rules[ruleno] = r;
	if (out)
		*out = ruleno;
	return 0;
}

int crush_remove_rule(struct crush_map *m, int ruleno)
{
	if (!crush_rule_exists(m, ruleno))
		return -ENOENT;
	free(m->rules[ruleno]->name);
	free(m->rules[ruleno]);
	m->rules[ruleno] = NULL;
	return 0;
}

static int rule_take_target(struct crush_map *m, const char *root, const char *device_class,
			    int *take)
{
	int id, c;

	if (crush_get_item_id(m, root, &id) || id >= 0)
		return -ENOENT;
	if (device_class) {
		c = crush_get_class_id(m, device_class);
		if (c < 0)
			return -ENOENT;
		id = map_shadow_of(m, id, c);
		if (!id)
			return -ENOENT;
	}
	*take = id;
	return 0;
}

int crush_rule_create_replicated(struct crush_map *m, const char *name, const char *root,
				 const char *failure_domain_type, const char *device_class,
				 int *ruleno)
{
	struct crush_rule_step steps[3];
	int take, type, r;

	if (crush_get_rule_id(m, name) >= 0)
		return -EEXIST;
	type = crush_get_type_id(m, failure_domain_type);
	if (type < 0)
		return -EINVAL;
	r = rule_take_target(m, root, device_class, &take);
	if (r)
		return r;
	steps[0] = (struct crush_rule_step){ CRUSH_RULE_TAKE, take, 0 };
	steps[1] = (struct crush_rule_step){ type ? CRUSH_RULE_CHOOSELEAF_FIRSTN :
						    CRUSH_RULE_CHOOSE_FIRSTN, 0, type };
	steps[2] = (struct crush_rule_step){ CRUSH_RULE_EMIT, 0, 0 };
	return crush_add_rule(m, -1, name, CRUSH_RULE_TYPE_REPLICATED, 1, 10, steps, 3, ruleno);
}

int crush_rule_create_erasure(struct crush_map *m, const char *name, const char *root,
			      const char *failure_domain_type, const char *device_class,
			      int *ruleno)
{
	struct crush_rule_step steps[5];
	int take, type, r;

	if (crush_get_rule_id(m, name) >= 0)
		return -EEXIST;
	type = crush_get_type_id(m, failure_domain_type);
	if (type < 0)
		return -EINVAL;
	r = rule_take_target(m, root, device_class, &take);
	if (r)
		return r;
	steps[0] = (struct crush_rule_step){ CRUSH_RULE_SET_CHOOSELEAF_TRIES, 5, 0 };
	steps[1] = (struct crush_rule_step){ CRUSH_RULE_SET_CHOOSE_TRIES, 100, 0 };
	steps[2] = (struct crush_rule_step){ CRUSH_RULE_TAKE, take, 0 };
	steps[3] = (struct crush_rule_step){ type ? CRUSH_RULE_CHOOSELEAF_INDEP :
						    CRUSH_RULE_CHOOSE_INDEP, 0, type };
	steps[4] = (struct crush_rule_step){ CRUSH_RULE_EMIT, 0, 0 };
	return crush_add_rule(m, -1, name, CRUSH_RULE_TYPE_ERASURE, 3, 20, steps, 5, ruleno);
}

/* ---------------------------------------------------------------- choose_args */

struct crush_choose_arg_map *map_choose_args(const struct crush_map *m, int64_t id)
{
	for (int i = 0; i < m->nchoose_args; i++)
		if (m->choose_args[i].id == id)
			return &m->choose_args[i];
	return NULL;
}

struct crush_choose_arg_map *map_add_choose_args(struct crush_map *m, int64_t id)
{
	struct crush_choose_arg_map *cm = map_choose_args(m, id), *n;
	int pos;

	if (cm)
		return cm;
	n = realloc(m->choose_args, sizeof(*n) * (size_t)(m->nchoose_args + 1));
	if (!n)
		return NULL;
	m->choose_args = n;
	pos = m->nchoose_args;
	while (pos > 0 && n[pos - 1].id > id) { /* sorted by id, as Ceph's std::map */
		n[pos] = n[pos - 1];
		pos--;
	}
	n[pos].id = id;
	n[pos].size = (uint32_t)m->max_buckets;
	n[pos].args = calloc(m->max_buckets ? (size_t)m->max_buckets : 1, sizeof(*n[pos].args));
	if (!n[pos].args) {
		memmove(&n[pos], &n[pos + 1], sizeof(*n) * (size_t)(m->nchoose_args - pos));
		return NULL;
	}
	m->nchoose_args++;
	return &n[pos];
}

int crush_choose_args_exists(const struct crush_map *m, int64_t set_id)
{
	return map_choose_args(m, set_id) != NULL;
}

int crush_choose_args_remove(struct crush_map *m, int64_t set_id)
{
	struct crush_choose_arg_map *cm = map_choose_args(m, set_id);
	int pos;

	if (!cm)
		return -ENOENT;
	pos = (int)(cm - m->choose_args);
	cmap_free(cm);
	memmove(&m->choose_args[pos], &m->choose_args[pos + 1],
		sizeof(*cm) * (size_t)(m->nchoose_args - pos - 1));
	m->nchoose_args--;
	return 0;
}

int crush_choose_args_set(struct crush_map *m, int64_t set_id, int bucket,
			  const uint32_t *weights, int npos, const int32_t *ids)
{
	struct crush_bucket *b = map_bucket(m, bucket);
	struct crush_choose_arg_map *cm;
	struct crush_choose_arg na = { 0 };

	if (!b || npos < 0 || npos > 256 || (npos && !weights))
		return -EINVAL;
	if (npos) {
		na.weight_set = calloc((size_t)npos, sizeof(*na.weight_set));
		if (!na.weight_set)
			goto nomem;
		na.weight_set_positions = (uint32_t)npos;
		for (int p = 0; p < npos; p++) {
			na.weight_set[p].size = b->size;
			na.weight_set[p].weights = calloc(b->size ? b->size : 1, sizeof(uint32_t));
			if (!na.weight_set[p].weights)
				goto nomem;
			memcpy(na.weight_set[p].weights, weights + (size_t)p * b->size,
			       sizeof(uint32_t) * b->size);
		}
	}
	if (ids) {
		na.ids = calloc(b->size ? b->size : 1, sizeof(int32_t));
		if (!na.ids)
			goto nomem;
		memcpy(na.ids, ids, sizeof(int32_t) * b->size);
		na.ids_size = b->size;
	}
	cm = map_add_choose_args(m, set_id);
	if (!cm)
		goto nomem;
	choose_arg_clear(&cm->args[-1 - bucket]);
	cm->args[-1 - bucket] = na;
	return 0;
nomem:
	choose_arg_clear(&na);
	return -ENOMEM;
}

/* ---------------------------------------------------------------- validation */

/* Every invariant the mapper relies on; -EBADMSG when one fails. */
int map_check(const struct crush_map *m)
{
	for (int i = 0; i < m->max_buckets; i++) {
		const struct crush_bucket *b = m->buckets[i];

		if (!b)
			continue;
		if (b->id != -1 - i || !crush_alg_name(b->alg))
			return -EBADMSG;
		if (b->alg == CRUSH_BUCKET_TREE && b->size && !b->node_weights)
			return -EBADMSG;
		if (b->alg == CRUSH_BUCKET_STRAW && !b->straws)
			return -EBADMSG;
		if (b->alg == CRUSH_BUCKET_LIST && !b->sum_weights)
			return -EBADMSG;
		for (uint32_t j = 0; j < b->size; j++) {
			int it = b->items[j];

			if (it >= 0 ? it >= m->max_devices : !map_bucket(m, it))
				return -EBADMSG;
			if (it == b->id)
				return -EBADMSG;
		}
	}
	/* acyclic: walking down from any bucket never takes more steps than buckets exist */
	for (int i = 0; i < m->max_buckets; i++) {
		const struct crush_bucket *b = m->buckets[i];
		int depth = 0, cur;

		if (!b)
			continue;
		/* follow the first bucket child repeatedly; cycles among first children are caught
		 * here, the general case by the per-parent check below */
		cur = b->id;
		while (cur < 0 && depth <= m->max_buckets) {
			const struct crush_bucket *cb = map_bucket(m, cur);
			int next = 0;

			for (uint32_t j = 0; j < cb->size; j++)
				if (cb->items[j] < 0) {
					next = cb->items[j];
					break;
				}
			cur = next;
			depth++;
		}
		if (depth > m->max_buckets)
			return -EBADMSG;
	}
	/* general cycle check: DFS with colours */
	{
		int n = m->max_buckets, r = 0;
		uint8_t *col = calloc(n ? (size_t)n : 1, 1);
		int *stack = malloc(sizeof(int) * 2 * (size_t)(n + 1));

		if (!col || !stack) {
			free(col);
			free(stack);
			return -ENOMEM;
		}
		for (int s = 0; s < n && !r; s++) {
			int sp = 0;

			if (!m->buckets[s] || col[s])
				continue;
			stack[sp++] = s;
			stack[sp++] = 0;
			col[s] = 1;
			while (sp && !r) {
				int bi = stack[sp - 2], pos = stack[sp - 1];
				const struct crush_bucket *b = m->buckets[bi];

				if ((uint32_t)pos >= b->size) {
					col[bi] = 2;
					sp -= 2;
					continue;
				}
				stack[sp - 1]++;
				if (b->items[pos] >= 0)
					continue;
				int ci = -1 - b->items[pos];

				if (col[ci] == 1)
					r = -EBADMSG;
				else if (col[ci] == 0) {
					if (sp >= 2 * n) {
						r = -EBADMSG;
						break;
					}
					col[ci] = 1;
					stack[sp++] = ci;
					stack[sp++] = 0;
				}
			}
		}
		free(col);
		free(stack);
		if (r)
			return r;
	}
	for (int c = 0; c < m->nchoose_args; c++) {
		const struct crush_choose_arg_map *cm = &m->choose_args[c];

		for (uint32_t i = 0; i < cm->size; i++) {
			const struct crush_choose_arg *a = &cm->args[i];
			const struct crush_bucket *b = (int)i < m->max_buckets ? m->buckets[i] : NULL;

			if (!a->weight_set && !a->ids)
				continue;
			if (!b)
				return -EBADMSG;
			if (a->ids && a->ids_size != b->size)
				return -EBADMSG;
			for (uint32_t p = 0; a->weight_set && p < a->weight_set_positions; p++)
				if (a->weight_set[p].size != b->size)
					return -EBADMSG;
			if (a->weight_set && !a->weight_set_positions)
				return -EBADMSG;
		}
	}
	return 0;
}
