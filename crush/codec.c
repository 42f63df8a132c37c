/*
 * codec — cairn's binary crush map (embedded in the cluster map), one encode and one decode.
 *
 * Layout, inside one envelope (version 1, compat 1), all integers little-endian:
 *   tunables   u32 choose_local_tries, u32 choose_local_fallback_tries,
 *              u32 choose_total_tries, u32 chooseleaf_descend_once, u8 chooseleaf_vary_r,
 *              u8 chooseleaf_stable, u8 straw_calc_version, u32 allowed_bucket_algs
 *   i32 max_devices
 *   types      u32 n, n x (i32 id, str name)
 *   classes    u32 n, n x (i32 id, str name)
 *   devices    u32 n, n x (i32 id, str name, i32 class)            (declared devices)
 *   buckets    u32 n, n x (i32 id, i32 type, u8 alg, u8 hash, str name, i32 shadow_of,
 *                          i32 class_id, u32 size, size x i32 item, size x u32 weight,
 *                          straw only: size x u32 straw)
 *   rules      u32 n, n x (i32 ruleno, str name, i32 type, i32 min_size, i32 max_size,
 *                          u32 len, len x (u32 op, i32 arg1, i32 arg2))
 *   choose_args u32 n, n x (i64 id, u32 m, m x (i32 bucket, u32 npos,
 *                          npos x bucket-size x u32 weight, u32 nids, nids x i32 id))
 * Straw lengths are stored because they depend on the straw_calc_version in force when
 * they were computed; all other derived bucket arrays are recomputed on decode. The decoder
 * validates everything the mapper relies on (map_check) and answers -EBADMSG otherwise.
 */
#include "crush/crush_int.h"

#include <stdlib.h>

#define CRUSH_ENC_VERSION 1
#define CRUSH_ENC_COMPAT  1
#define MAX_ITEMS	  (1u << 20)

int crush_encode(const struct crush_map *m, struct cbuf *b)
{
	size_t start = enc_start(b, CRUSH_ENC_VERSION, CRUSH_ENC_COMPAT);
	uint32_t n;

	enc_u32(b, m->choose_local_tries);
	enc_u32(b, m->choose_local_fallback_tries);
	enc_u32(b, m->choose_total_tries);
	enc_u32(b, m->chooseleaf_descend_once);
	enc_u8(b, m->chooseleaf_vary_r);
	enc_u8(b, m->chooseleaf_stable);
	enc_u8(b, m->straw_calc_version);
	enc_u32(b, m->allowed_bucket_algs);
	enc_i32(b, m->max_devices);

	enc_u32(b, (uint32_t)m->ntypes);
	for (int i = 0; i < m->ntypes; i++) {
		enc_i32(b, m->types[i].id);
		enc_str(b, m->types[i].name);
	}
	n = 0;
	for (int i = 0; i < m->nclasses; i++)
		n += m->class_names[i] != NULL;
	enc_u32(b, n);
	for (int i = 0; i < m->nclasses; i++) {
		if (!m->class_names[i])
			continue;
		enc_i32(b, i);
		enc_str(b, m->class_names[i]);
	}
	n = 0;
	for (int i = 0; i < m->dev_cap; i++)
		n += m->dev_exists[i];
	enc_u32(b, n);
	for (int i = 0; i < m->dev_cap; i++) {
		if (!m->dev_exists[i])
			continue;
		enc_i32(b, i);
		enc_str(b, m->dev_names[i] ? m->dev_names[i] : "");
		enc_i32(b, m->dev_class[i]);
	}
	n = 0;
	for (int i = 0; i < m->max_buckets; i++)
		n += m->buckets[i] != NULL;
	enc_u32(b, n);
	for (int i = 0; i < m->max_buckets; i++) {
		const struct crush_bucket *bk = m->buckets[i];

		if (!bk)
			continue;
		enc_i32(b, bk->id);
		enc_i32(b, bk->type);
		enc_u8(b, bk->alg);
		enc_u8(b, bk->hash);
		enc_str(b, bk->name ? bk->name : "");
		enc_i32(b, bk->shadow_of);
		enc_i32(b, bk->class_id);
		enc_u32(b, bk->size);
		for (uint32_t j = 0; j < bk->size; j++)
			enc_i32(b, bk->items[j]);
		for (uint32_t j = 0; j < bk->size; j++)
			enc_u32(b, bk->item_weights[j]);
		if (bk->alg == CRUSH_BUCKET_STRAW)
			for (uint32_t j = 0; j < bk->size; j++)
				enc_u32(b, bk->straws[j]);
	}
	n = 0;
	for (uint32_t i = 0; i < m->max_rules; i++)
		n += m->rules[i] != NULL;
	enc_u32(b, n);
	for (uint32_t i = 0; i < m->max_rules; i++) {
		const struct crush_rule *r = m->rules[i];

		if (!r)
			continue;
		enc_i32(b, (int32_t)i);
		enc_str(b, r->name ? r->name : "");
		enc_i32(b, r->type);
		enc_i32(b, r->min_size);
		enc_i32(b, r->max_size);
		enc_u32(b, (uint32_t)r->len);
		for (int s = 0; s < r->len; s++) {
			enc_u32(b, r->steps[s].op);
			enc_i32(b, r->steps[s].arg1);
			enc_i32(b, r->steps[s].arg2);
		}
	}
	enc_u32(b, (uint32_t)m->nchoose_args);
	for (int c = 0; c < m->nchoose_args; c++) {
		const struct crush_choose_arg_map *cm = &m->choose_args[c];

		n = 0;
		for (uint32_t i = 0; i < cm->size; i++)
			n += cm->args[i].weight_set || cm->args[i].ids;
		enc_i64(b, cm->id);
		enc_u32(b, n);
		for (uint32_t i = 0; i < cm->size; i++) {
			const struct crush_choose_arg *a = &cm->args[i];

			if (!a->weight_set && !a->ids)
				continue;
			enc_i32(b, -1 - (int32_t)i);
			enc_u32(b, a->weight_set ? a->weight_set_positions : 0);
			for (uint32_t p = 0; a->weight_set && p < a->weight_set_positions; p++)
				for (uint32_t j = 0; j < a->weight_set[p].size; j++)
					enc_u32(b, a->weight_set[p].weights[j]);
			enc_u32(b, a->ids ? a->ids_size : 0);
			for (uint32_t j = 0; a->ids && j < a->ids_size; j++)
				enc_i32(b, a->ids[j]);
		}
	}
	enc_finish(b, start);
	return b->err;
}

int map_dec_choose_arg_ids(struct cdec *d, struct crush_map *m, int64_t id, int32_t bid,
			   uint32_t nitems, uint32_t *w, uint32_t npos)
{
	uint32_t nids;
	int32_t *ids = NULL;
	int r;

	if (dec_u32(d, &nids) || (nids && nids != nitems) || dec_need(d, nids, 4)) {
		free(w);
		return -EBADMSG;
	}
	if (nids) {
		ids = calloc(nids, sizeof(int32_t));
		if (!ids) {
			free(w);
			return -ENOMEM;
		}
		for (uint32_t j = 0; j < nids; j++)
			dec_i32(d, &ids[j]);
	}
	r = d->err ? -EBADMSG : crush_choose_args_set(m, id, bid, npos ? w : NULL, (int)npos, ids);
	free(w);
	free(ids);
	return r;
}

static int decode_body(struct cdec *d, struct crush_map *m)
{
	uint32_t n;
	int32_t maxdev;
	char name[CRUSH_NAME_MAX + 1];
	int r;

	dec_u32(d, &m->choose_local_tries);
	dec_u32(d, &m->choose_local_fallback_tries);
	dec_u32(d, &m->choose_total_tries);
	dec_u32(d, &m->chooseleaf_descend_once);
	dec_u8(d, &m->chooseleaf_vary_r);
	dec_u8(d, &m->chooseleaf_stable);
	dec_u8(d, &m->straw_calc_version);
	dec_u32(d, &m->allowed_bucket_algs);
	dec_i32(d, &maxdev);
	if (d->err)
		return d->err;
	if (maxdev < 0 || maxdev > (1 << 24))
		return -EBADMSG;

	if (dec_u32(d, &n) || dec_need(d, n, 8))
		return -EBADMSG;
	for (uint32_t i = 0; i < n; i++) {
		int32_t id;

		if (dec_i32(d, &id) || dec_str(d, name, sizeof(name)))
			return -EBADMSG;
		if (crush_get_type_name(m, id) || crush_set_type_name(m, id, name))
			return -EBADMSG;
	}
	if (dec_u32(d, &n) || dec_need(d, n, 8))
		return -EBADMSG;
	for (uint32_t i = 0; i < n; i++) {
		int32_t id;

		if (dec_i32(d, &id) || dec_str(d, name, sizeof(name)))
			return -EBADMSG;
		if (crush_get_class_name(m, id) || crush_get_class_id(m, name) >= 0 ||
		    map_set_class_name(m, id, name))
			return -EBADMSG;
	}
	if (dec_u32(d, &n) || dec_need(d, n, 12))
		return -EBADMSG;
	for (uint32_t i = 0; i < n; i++) {
		int32_t id, cls;

		if (dec_i32(d, &id) || dec_str(d, name, sizeof(name)) || dec_i32(d, &cls))
			return -EBADMSG;
		if (id < 0 || id >= maxdev || crush_device_exists(m, id))
			return -EBADMSG;
		if ((r = map_ensure_device(m, id)))
			return r == -ENOMEM ? r : -EBADMSG;
		if (name[0] && crush_set_item_name(m, id, name))
			return -EBADMSG;
		if (cls != -1 && !crush_get_class_name(m, cls))
			return -EBADMSG;
		m->dev_class[id] = cls;
	}
	m->max_devices = maxdev;

	if (dec_u32(d, &n) || dec_need(d, n, 26))
		return -EBADMSG;
	for (uint32_t i = 0; i < n; i++) {
		int32_t id, type, shadow_of, class_id;
		uint8_t alg, hash;
		uint32_t size;
		struct crush_bucket *b;

		dec_i32(d, &id);
		dec_i32(d, &type);
		dec_u8(d, &alg);
		dec_u8(d, &hash);
		dec_str(d, name, sizeof(name));
		dec_i32(d, &shadow_of);
		dec_i32(d, &class_id);
		dec_u32(d, &size);
		if (d->err || id >= 0 || id < -(1 << 20) || !crush_alg_name(alg) ||
		    size > MAX_ITEMS || dec_need(d, size, 8) || map_bucket(m, id) || type < 0)
			return -EBADMSG;
		b = bucket_new(id, alg, hash, type, 0, NULL, NULL);
		if (!b)
			return -ENOMEM;
		free(b->items);
		free(b->item_weights);
		b->size = size;
		b->items = calloc(size ? size : 1, sizeof(int32_t));
		b->item_weights = calloc(size ? size : 1, sizeof(uint32_t));
		b->shadow_of = shadow_of;
		b->class_id = class_id;
		if (!b->items || !b->item_weights) {
			bucket_free(b);
			return -ENOMEM;
		}
		for (uint32_t j = 0; j < size; j++)
			dec_i32(d, &b->items[j]);
		for (uint32_t j = 0; j < size; j++)
			dec_u32(d, &b->item_weights[j]);
		r = d->err ? -EBADMSG : 0;
		if (!r && name[0]) {
			if (map_name_taken(m, name) || !(b->name = strdup(name)))
				r = -EBADMSG;
		}
		if (!r && (shadow_of > 0 ||
			   (shadow_of && (class_id < 0 || !crush_get_class_name(m, class_id)))))
			r = -EBADMSG;
		if (!r)
			r = bucket_derive(m, b) ? -EBADMSG : 0;
		if (!r && alg == CRUSH_BUCKET_STRAW)
			for (uint32_t j = 0; j < size; j++)
				dec_u32(d, &b->straws[j]);
		if (!r && d->err)
			r = -EBADMSG;
		if (!r)
			r = map_put_bucket(m, b);
		if (r) {
			bucket_free(b);
			return r == -ENOMEM ? r : -EBADMSG;
		}
	}

	if (dec_u32(d, &n) || dec_need(d, n, 24))
		return -EBADMSG;
	for (uint32_t i = 0; i < n; i++) {
		int32_t ruleno, type, mn, mx;
		uint32_t len;
		struct crush_rule_step *steps;

		dec_i32(d, &ruleno);
		dec_str(d, name, sizeof(name));
		dec_i32(d, &type);
		dec_i32(d, &mn);
		dec_i32(d, &mx);
		dec_u32(d, &len);
		if (d->err || ruleno < 0 || ruleno >= CRUSH_MAX_RULES || len > 1024 ||
		    dec_need(d, len, 12) || crush_rule_exists(m, ruleno))
			return -EBADMSG;
		steps = calloc(len ? len : 1, sizeof(*steps));
		if (!steps)
			return -ENOMEM;
		for (uint32_t s = 0; s < len; s++) {
			dec_u32(d, &steps[s].op);
			dec_i32(d, &steps[s].arg1);
			dec_i32(d, &steps[s].arg2);
		}
		r = d->err ? -EBADMSG
			   : crush_add_rule(m, ruleno, name[0] ? name : NULL, type, mn, mx, steps,
					    (int)len, NULL);
		free(steps);
		if (r)
			return r == -ENOMEM ? r : -EBADMSG;
	}

	if (dec_u32(d, &n) || dec_need(d, n, 12))
		return -EBADMSG;
	for (uint32_t c = 0; c < n; c++) {
		int64_t id;
		uint32_t cnt;

		if (dec_i64(d, &id) || dec_u32(d, &cnt) || dec_need(d, cnt, 12) ||
		    map_choose_args(m, id))
			return -EBADMSG;
		if (!map_add_choose_args(m, id))
			return -ENOMEM;
		for (uint32_t k = 0; k < cnt; k++) {
			int32_t bid;
			uint32_t npos;
			struct crush_bucket *b;
			uint32_t *w = NULL;

			if (dec_i32(d, &bid) || dec_u32(d, &npos))
				return -EBADMSG;
			b = map_bucket(m, bid);
			if (!b || npos > 256 || dec_need(d, (uint64_t)npos * b->size, 4))
				return -EBADMSG;
			if (npos) {
				w = calloc((size_t)npos * b->size + 1, sizeof(uint32_t));
				if (!w)
					return -ENOMEM;
				for (uint32_t j = 0; j < npos * b->size; j++)
					dec_u32(d, &w[j]);
			}
			r = map_dec_choose_arg_ids(d, m, id, bid, b->size, w, npos);
			if (r)
				return r == -ENOMEM ? r : -EBADMSG;
		}
	}
	if (d->err)
		return -EBADMSG;
	return map_check(m) ? -EBADMSG : 0;
}

int crush_decode(struct cdec *d, struct crush_map **out)
{
	struct crush_map *m;
	struct cdec body;
	uint8_t version;
	int r;

	*out = NULL;
	if (dec_left(d) >= 6) {
		/* a newer compat is only "not supported" when the envelope is plausible */
		const uint8_t *p = d->p;
		uint32_t len = p[2] | (p[3] << 8) | (p[4] << 16) | ((uint32_t)p[5] << 24);

		if (p[1] > CRUSH_ENC_COMPAT && (p[0] < p[1] || len > dec_left(d) - 6))
			return dec_fail(d, -EBADMSG);
	}
	r = dec_start(d, CRUSH_ENC_COMPAT, &body, &version);
	if (r)
		return r;
	m = crush_create();
	if (!m)
		return -ENOMEM;
	r = decode_body(&body, m);
	if (!r)
		r = dec_finish(d, &body);
	if (r) {
		crush_destroy(m);
		return r == -ENOMEM || r == -EOPNOTSUPP ? r : -EBADMSG;
	}
	*out = m;
	return 0;
}
