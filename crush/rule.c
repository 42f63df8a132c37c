/*
 * rule — rules (add/remove/look up, Ceph's create-replicated and simple erasure rules) and
 * choose_args (per-bucket alternative weights and ids, kept sorted by id like Ceph's map).
 */
#include "crush/crush_int.h"

#include <stdlib.h>
#include <string.h>

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

/* the checks both rule builders share: a free name, a known type, a take target */
static int rule_prepare(struct crush_map *m, const char *name, const char *root,
			const char *failure_domain_type, const char *device_class, int *take,
			int *type)
{
	if (crush_get_rule_id(m, name) >= 0)
		return -EEXIST;
	*type = crush_get_type_id(m, failure_domain_type);
	if (*type < 0)
		return -EINVAL;
	return rule_take_target(m, root, device_class, take);
}

int crush_rule_create_replicated(struct crush_map *m, const char *name, const char *root,
				 const char *failure_domain_type, const char *device_class,
				 int *ruleno)
{
	struct crush_rule_step steps[3];
	int take, type, r;

	r = rule_prepare(m, name, root, failure_domain_type, device_class, &take, &type);
	if (r)
		return r;
	steps[0] = (struct crush_rule_step){CRUSH_RULE_TAKE, take, 0};
	steps[1] = (struct crush_rule_step){
	    type ? CRUSH_RULE_CHOOSELEAF_FIRSTN : CRUSH_RULE_CHOOSE_FIRSTN, 0, type};
	steps[2] = (struct crush_rule_step){CRUSH_RULE_EMIT, 0, 0};
	return crush_add_rule(m, -1, name, CRUSH_RULE_TYPE_REPLICATED, 1, 10, steps, 3, ruleno);
}

int crush_rule_create_erasure(struct crush_map *m, const char *name, const char *root,
			      const char *failure_domain_type, const char *device_class,
			      int *ruleno)
{
	struct crush_rule_step steps[5];
	int take, type, r;

	r = rule_prepare(m, name, root, failure_domain_type, device_class, &take, &type);
	if (r)
		return r;
	steps[0] = (struct crush_rule_step){CRUSH_RULE_SET_CHOOSELEAF_TRIES, 5, 0};
	steps[1] = (struct crush_rule_step){CRUSH_RULE_SET_CHOOSE_TRIES, 100, 0};
	steps[2] = (struct crush_rule_step){CRUSH_RULE_TAKE, take, 0};
	steps[3] = (struct crush_rule_step){
	    type ? CRUSH_RULE_CHOOSELEAF_INDEP : CRUSH_RULE_CHOOSE_INDEP, 0, type};
	steps[4] = (struct crush_rule_step){CRUSH_RULE_EMIT, 0, 0};
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
	map_cmap_free(cm);
	memmove(&m->choose_args[pos], &m->choose_args[pos + 1],
		sizeof(*cm) * (size_t)(m->nchoose_args - pos - 1));
	m->nchoose_args--;
	return 0;
}

int crush_choose_args_set(struct crush_map *m, int64_t set_id, int bucket, const uint32_t *weights,
			  int npos, const int32_t *ids)
{
	struct crush_bucket *b = map_bucket(m, bucket);
	struct crush_choose_arg_map *cm;
	struct crush_choose_arg na = {0};

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
