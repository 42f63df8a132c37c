/*
 * shadow — device-class shadow trees, built the way Ceph's populate_classes /
 * device_class_clone builds them: for every root (ascending id) and class (ascending id), a
 * copy of the hierarchy named "bucket~class" holding only that class's devices (child
 * buckets always, even when empty), with the same algorithm and type and summed weights.
 * Ids are reused from the previous shadow trees or from the text's "id N class C" lines;
 * new ids are the lowest free ones not claimed by any of those, children first. choose_args
 * weight sets are derived for the copies as Ceph derives them.
 */
#include "crush/crush_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	struct shadow_ctx sc = {0};
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
			map_drop_bucket(m, -1 - i);
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
			sc.cw[c] =
			    calloc((size_t)cap_buckets * 2 * SHADOW_MAX_POS, sizeof(uint32_t));
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
