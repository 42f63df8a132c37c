/*
 * ceph_binary — reads Ceph's own binary crush map (CrushWrapper::encode as written by
 * `ceph osd getcrushmap` or `crushtool -o`), for people bringing a map to cairn.
 *
 * Layout (little-endian): u32 magic 0x00010000, s32 max_buckets, u32 max_rules,
 * s32 max_devices; per bucket slot u32 alg (0 = empty) then s32 id, u16 type, u8 alg,
 * u8 hash, u32 weight, u32 size, s32 items[size] and the algorithm's arrays (uniform: u32
 * item_weight; list: (u32 weight, u32 sum) pairs; tree: u8 num_nodes + u32 node_weights;
 * straw: (u32 weight, u32 straw) pairs; straw2: u32 weights); per rule slot u32 present,
 * u32 len, u8 ruleset/type/min_size/max_size, (u32 op, s32 arg1, s32 arg2) steps; maps
 * (u32 count + entries) type names, item names, rule names; then, each optional: tunables
 * (u32 x4, u8 vary_r, u8 straw_calc_version, u32 allowed_bucket_algs, u8 chooseleaf_stable),
 * device classes (class_map, class_name, class_bucket) and choose_args.
 * Read-only: cairn writes its own format (codec.c). Straw lengths are kept as stored.
 */
#include "crush/crush_int.h"

#include <stdlib.h>

#define CEPH_CRUSH_MAGIC 0x00010000u
#define MAX_SLOTS	 (1 << 20)

int crush_is_ceph_binary(const void *p, size_t n)
{
	const uint8_t *b = p;

	return n >= 4 &&
	       (b[0] | (b[1] << 8) | (b[2] << 16) | ((uint32_t)b[3] << 24)) == CEPH_CRUSH_MAGIC;
}

static int dec_name(struct cdec *d, char *out, size_t cap)
{
	return dec_str(d, out, cap) ? -EBADMSG : 0;
}

static int read_bucket(struct cdec *d, struct crush_map *m, uint32_t slot_alg)
{
	int32_t id;
	uint16_t type;
	uint8_t alg, hash;
	uint32_t weight, size, *w = NULL, *straws = NULL;
	int32_t *items = NULL;
	struct crush_bucket *b = NULL;
	int r = -EBADMSG;

	dec_i32(d, &id);
	dec_u16(d, &type);
	dec_u8(d, &alg);
	dec_u8(d, &hash);
	dec_u32(d, &weight);
	dec_u32(d, &size);
	if (d->err || alg != slot_alg || !crush_alg_name(alg) || id >= 0 || -1 - id >= MAX_SLOTS ||
	    size > MAX_SLOTS || dec_need(d, size, 4) || map_bucket(m, id))
		return -EBADMSG;
	items = calloc(size + 1, sizeof(int32_t));
	w = calloc(size + 1, sizeof(uint32_t));
	straws = calloc(size + 1, sizeof(uint32_t));
	if (!items || !w || !straws) {
		r = -ENOMEM;
		goto out;
	}
	for (uint32_t j = 0; j < size; j++)
		dec_i32(d, &items[j]);
	switch (alg) {
	case CRUSH_BUCKET_UNIFORM: {
		uint32_t iw;

		dec_u32(d, &iw);
		for (uint32_t j = 0; j < size; j++)
			w[j] = iw;
		break;
	}
	case CRUSH_BUCKET_LIST:
		for (uint32_t j = 0; j < size; j++) {
			uint32_t sum;

			dec_u32(d, &w[j]);
			dec_u32(d, &sum);
		}
		break;
	case CRUSH_BUCKET_TREE: {
		uint8_t nn;
		uint32_t *nw;

		dec_u8(d, &nn);
		if (d->err || dec_need(d, nn, 4))
			goto out;
		nw = calloc((size_t)nn + 1, sizeof(uint32_t));
		if (!nw) {
			r = -ENOMEM;
			goto out;
		}
		for (uint32_t j = 0; j < nn; j++)
			dec_u32(d, &nw[j]);
		for (uint32_t j = 0; j < size; j++) {
			uint32_t node = ((j + 1) << 1) - 1;

			if (node >= nn) { /* Ceph's u8 num_nodes wraps for >= 128 items */
				free(nw);
				goto out;
			}
			w[j] = nw[node];
		}
		free(nw);
		break;
	}
	case CRUSH_BUCKET_STRAW:
		for (uint32_t j = 0; j < size; j++) {
			dec_u32(d, &w[j]);
			dec_u32(d, &straws[j]);
		}
		break;
	case CRUSH_BUCKET_STRAW2:
		for (uint32_t j = 0; j < size; j++)
			dec_u32(d, &w[j]);
		break;
	}
	if (d->err)
		goto out;
	b = bucket_new(id, alg, hash, type, size, items, w);
	if (!b) {
		r = -ENOMEM;
		goto out;
	}
	if (bucket_derive(m, b))
		goto out;
	if (alg == CRUSH_BUCKET_STRAW)
		memcpy(b->straws, straws, sizeof(uint32_t) * size);
	r = map_put_bucket(m, b);
	if (!r)
		b = NULL;
	else if (r != -ENOMEM)
		r = -EBADMSG;
out:
	bucket_free(b);
	free(items);
	free(w);
	free(straws);
	return r;
}

static int decode_ceph(struct cdec *d, struct crush_map *m)
{
	uint32_t magic, max_rules, n;
	int32_t max_buckets, max_devices;
	char name[CRUSH_NAME_MAX + 1];
	int r;

	dec_u32(d, &magic);
	dec_i32(d, &max_buckets);
	dec_u32(d, &max_rules);
	dec_i32(d, &max_devices);
	if (d->err || magic != CEPH_CRUSH_MAGIC || max_buckets < 0 || max_buckets > MAX_SLOTS ||
	    max_rules > 1u << 16 || max_devices < 0 || max_devices > (1 << 24))
		return -EBADMSG;
	for (int32_t i = 0; i < max_buckets; i++) {
		uint32_t alg;

		if (dec_u32(d, &alg))
			return -EBADMSG;
		if (!alg)
			continue;
		r = read_bucket(d, m, alg);
		if (r)
			return r;
		if (map_bucket(m, -1 - i) == NULL)
			return -EBADMSG; /* bucket id must match its slot */
	}
	for (uint32_t i = 0; i < max_rules; i++) {
		uint32_t yes, len;
		uint8_t ruleset, type, min_size, max_size;
		struct crush_rule_step *steps;

		if (dec_u32(d, &yes))
			return -EBADMSG;
		if (!yes)
			continue;
		dec_u32(d, &len);
		dec_u8(d, &ruleset);
		dec_u8(d, &type);
		dec_u8(d, &min_size);
		dec_u8(d, &max_size);
		if (d->err || len > 1024 || dec_need(d, len, 12) || i >= CRUSH_MAX_RULES)
			return -EBADMSG;
		steps = calloc(len + 1, sizeof(*steps));
		if (!steps)
			return -ENOMEM;
		for (uint32_t s = 0; s < len; s++) {
			dec_u32(d, &steps[s].op);
			dec_i32(d, &steps[s].arg1);
			dec_i32(d, &steps[s].arg2);
		}
		r = d->err ? -EBADMSG
			   : crush_add_rule(m, (int)i, NULL, type, min_size, max_size, steps,
					    (int)len, NULL);
		free(steps);
		if (r)
			return r == -ENOMEM ? r : -EBADMSG;
	}
	/* type names */
	if (dec_u32(d, &n) || dec_need(d, n, 8))
		return -EBADMSG;
	for (uint32_t i = 0; i < n; i++) {
		int32_t id;

		if (dec_i32(d, &id) || dec_name(d, name, sizeof(name)) || id < 0 ||
		    crush_set_type_name(m, id, name))
			return -EBADMSG;
	}
	/* item names: devices are declared by their names */
	if (dec_u32(d, &n) || dec_need(d, n, 8))
		return -EBADMSG;
	for (uint32_t i = 0; i < n; i++) {
		int32_t id;

		if (dec_i32(d, &id) || dec_name(d, name, sizeof(name)))
			return -EBADMSG;
		if (id >= 0) {
			if (id >= max_devices || crush_add_device(m, id, name))
				return -EBADMSG;
		} else {
			struct crush_bucket *b = map_bucket(m, id);

			if (!b || b->name || !map_valid_name(name) || map_name_taken(m, name) ||
			    !(b->name = strdup(name)))
				return -EBADMSG;
		}
	}
	/* rule names */
	if (dec_u32(d, &n) || dec_need(d, n, 8))
		return -EBADMSG;
	for (uint32_t i = 0; i < n; i++) {
		int32_t id;

		if (dec_i32(d, &id) || dec_name(d, name, sizeof(name)) ||
		    !crush_rule_exists(m, id) || !map_valid_name(name) ||
		    crush_get_rule_id(m, name) >= 0)
			return -EBADMSG;
		free(m->rules[id]->name);
		if (!(m->rules[id]->name = strdup(name)))
			return -ENOMEM;
	}
	/* devices referenced by buckets but unnamed still exist */
	for (int i = 0; i < m->max_buckets; i++) {
		struct crush_bucket *b = m->buckets[i];

		for (uint32_t j = 0; b && j < b->size; j++) {
			if (b->items[j] >= max_devices)
				return -EBADMSG;
			if (b->items[j] >= 0 && !crush_device_exists(m, b->items[j]) &&
			    map_ensure_device(m, b->items[j]))
				return -ENOMEM;
		}
	}
	m->max_devices = max_devices;
	{
		struct crush_tunables legacy;

		crush_tunables_profile("legacy", &legacy);
		crush_set_tunables(m, &legacy);
	}
	if (!dec_left(d))
		goto done;
	dec_u32(d, &m->choose_local_tries);
	dec_u32(d, &m->choose_local_fallback_tries);
	dec_u32(d, &m->choose_total_tries);
	if (!dec_left(d))
		goto done;
	dec_u32(d, &m->chooseleaf_descend_once);
	if (!dec_left(d))
		goto done;
	dec_u8(d, &m->chooseleaf_vary_r);
	if (!dec_left(d))
		goto done;
	dec_u8(d, &m->straw_calc_version);
	if (!dec_left(d))
		goto done;
	dec_u32(d, &m->allowed_bucket_algs);
	if (!dec_left(d))
		goto done;
	dec_u8(d, &m->chooseleaf_stable);
	if (d->err)
		return -EBADMSG;
	if (!dec_left(d))
		goto done;
	/* device classes: class_map (device -> class), class_name, class_bucket */
	{
		uint32_t ncm, ncn, ncb;
		int32_t *cm;

		if (dec_u32(d, &ncm) || dec_need(d, ncm, 8))
			return -EBADMSG;
		cm = calloc((size_t)ncm * 2 + 1, sizeof(int32_t));
		if (!cm)
			return -ENOMEM;
		for (uint32_t i = 0; i < ncm; i++) {
			dec_i32(d, &cm[2 * i]);
			dec_i32(d, &cm[2 * i + 1]);
		}
		if (d->err || dec_u32(d, &ncn) || dec_need(d, ncn, 8)) {
			free(cm);
			return -EBADMSG;
		}
		for (uint32_t i = 0; i < ncn; i++) {
			int32_t cid;

			if (dec_i32(d, &cid) || dec_name(d, name, sizeof(name)) ||
			    crush_get_class_name(m, cid) || map_set_class_name(m, cid, name)) {
				free(cm);
				return -EBADMSG;
			}
		}
		for (uint32_t i = 0; i < ncm; i++) {
			int32_t item = cm[2 * i], cid = cm[2 * i + 1];

			if (!crush_get_class_name(m, cid)) {
				free(cm);
				return -EBADMSG;
			}
			if (item >= 0) {
				if (!crush_device_exists(m, item)) {
					free(cm);
					return -EBADMSG;
				}
				m->dev_class[item] = cid;
			}
		}
		free(cm);
		if (dec_u32(d, &ncb) || dec_need(d, ncb, 8))
			return -EBADMSG;
		for (uint32_t i = 0; i < ncb; i++) {
			int32_t orig;
			uint32_t k;

			if (dec_i32(d, &orig) || dec_u32(d, &k) || dec_need(d, k, 8))
				return -EBADMSG;
			for (uint32_t j = 0; j < k; j++) {
				int32_t cid, sid;
				struct crush_bucket *sb;

				if (dec_i32(d, &cid) || dec_i32(d, &sid))
					return -EBADMSG;
				sb = map_bucket(m, sid);
				if (!sb || !map_bucket(m, orig) || !crush_get_class_name(m, cid) ||
				    sb->shadow_of)
					return -EBADMSG;
				sb->shadow_of = orig;
				sb->class_id = cid;
			}
		}
	}
	if (!dec_left(d))
		goto done;
	/* choose_args */
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
			uint32_t idx, npos;
			struct crush_bucket *b;
			uint32_t *w = NULL;

			if (dec_u32(d, &idx) || dec_u32(d, &npos) ||
			    idx >= (uint32_t)m->max_buckets)
				return -EBADMSG;
			b = m->buckets[idx];
			if (!b || npos > 256)
				return -EBADMSG;
			w = calloc((size_t)npos * b->size + 1, sizeof(uint32_t));
			if (!w)
				return -ENOMEM;
			for (uint32_t p = 0; p < npos; p++) {
				uint32_t sz;

				if (dec_u32(d, &sz) || sz != b->size || dec_need(d, sz, 4)) {
					free(w);
					return -EBADMSG;
				}
				for (uint32_t j = 0; j < sz; j++)
					dec_u32(d, &w[(size_t)p * b->size + j]);
			}
			r = map_dec_choose_arg_ids(d, m, id, b->id, b->size, w, npos);
			if (r)
				return r == -ENOMEM ? r : -EBADMSG;
		}
	}
done:
	if (d->err)
		return -EBADMSG;
	return map_check(m) ? -EBADMSG : 0;
}

int crush_decode_ceph(const void *p, size_t n, struct crush_map **out)
{
	struct crush_map *m = crush_create();
	struct cdec d;
	int r;

	*out = NULL;
	if (!m)
		return -ENOMEM;
	cdec_init(&d, p, n);
	r = decode_ceph(&d, m);
	if (r) {
		crush_destroy(m);
		return r == -ENOMEM ? r : -EBADMSG;
	}
	*out = m;
	return 0;
}
