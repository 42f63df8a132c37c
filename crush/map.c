/*
 * map — the crush map model: create/free, tunables and their profiles, type/item names,
 * devices and device classes, and map_check(), the validation every decoder ends with.
 * Buckets live in bucket.c, shadow (device-class) trees in shadow.c, rules and choose_args
 * in rule.c.
 */
#include "crush/crush_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- tunables */

struct profile {
	const char *name;
	struct crush_tunables t;
};

#define LEGACY_ALGS                                                                                \
	((1u << CRUSH_BUCKET_UNIFORM) | (1u << CRUSH_BUCKET_LIST) | (1u << CRUSH_BUCKET_STRAW))
#define HAMMER_ALGS (LEGACY_ALGS | (1u << CRUSH_BUCKET_STRAW2))

static const struct profile profiles[] = {
    {"legacy", {2, 5, 19, 0, 0, 0, 0, LEGACY_ALGS}},
    {"argonaut", {2, 5, 19, 0, 0, 0, 0, LEGACY_ALGS}},
    {"bobtail", {0, 0, 50, 1, 0, 0, 0, LEGACY_ALGS}},
    {"firefly", {0, 0, 50, 1, 1, 0, 0, LEGACY_ALGS}},
    {"hammer", {0, 0, 50, 1, 1, 0, 0, HAMMER_ALGS}},
    {"jewel", {0, 0, 50, 1, 1, 1, 0, HAMMER_ALGS}},
    {"optimal", {0, 0, 50, 1, 1, 1, 1, HAMMER_ALGS}},
    {"default", {0, 0, 50, 1, 1, 1, 1, HAMMER_ALGS}},
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

void map_cmap_free(struct crush_choose_arg_map *cm)
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
		map_cmap_free(&m->choose_args[i]);
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
	static const char *const names[] = {NULL, "uniform", "list", "tree", "straw", "straw2"};

	for (int i = 1; i <= 5; i++)
		if (!strcmp(name, names[i]))
			return i;
	return -EINVAL;
}

const char *crush_alg_name(int alg)
{
	static const char *const names[] = {NULL, "uniform", "list", "tree", "straw", "straw2"};

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

int crush_max_devices(const struct crush_map *m)
{
	return m->max_devices;
}

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

int map_rebuild_if_classes(struct crush_map *m)
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
			const struct crush_bucket *b =
			    (int)i < m->max_buckets ? m->buckets[i] : NULL;

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
