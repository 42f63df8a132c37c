/*
 * text_decompile — crush_decompile(): the map as Ceph's crush map text, byte for byte what
 * `crushtool -d` prints: tunables that differ from legacy, devices (with classes), types,
 * buckets children-first (shadow buckets hidden, their ids shown as "id N class C"), rules
 * ("step take X class C" for a shadow take), choose_args. Weights print as %.3f of the float
 * 16.16 value, like crushtool.
 */
#include "crush/crush_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put(struct cbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct cbuf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(tmp)) {
		enc_raw(b, tmp, (size_t)n);
		return;
	}
	char *big = malloc((size_t)n + 1);

	if (!big) {
		b->err = -ENOMEM;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	enc_raw(b, big, (size_t)n);
	free(big);
}

static void put_fixed(struct cbuf *b, uint32_t w)
{
	put(b, "%.3f", (double)((float)(int32_t)w / (float)0x10000));
}

static void put_item_name(struct cbuf *b, const struct crush_map *m, int id)
{
	const char *n = crush_get_item_name(m, id);

	if (n)
		put(b, "%s", n);
	else if (id >= 0)
		put(b, "device%d", id);
	else
		put(b, "bucket%d", -1 - id);
}

static void put_type_name(struct cbuf *b, const struct crush_map *m, int t)
{
	const char *n = crush_get_type_name(m, t);

	if (n)
		put(b, "%s", n);
	else if (t == 0)
		put(b, "device");
	else
		put(b, "type%d", t);
}

static void decompile_bucket_body(struct cbuf *out, const struct crush_map *m,
				  const struct crush_bucket *b)
{
	int dopos = 0;

	put_type_name(out, m, b->type);
	put(out, " ");
	put_item_name(out, m, b->id);
	put(out, " {\n\tid %d\t\t# do not change unnecessarily\n", b->id);
	for (int c = 0; c < m->nclasses; c++) {
		int sid;

		if (!m->class_names[c] || !(sid = map_shadow_of(m, b->id, c)))
			continue;
		put(out, "\tid %d class %s\t\t# do not change unnecessarily\n", sid,
		    m->class_names[c]);
	}
	put(out, "\t# weight ");
	put_fixed(out, b->weight);
	put(out, "\n\talg %s", crush_alg_name(b->alg));
	switch (b->alg) {
	case CRUSH_BUCKET_UNIFORM:
		put(out, "\t# do not change bucket size (%u) unnecessarily", b->size);
		dopos = 1;
		break;
	case CRUSH_BUCKET_LIST:
		put(out, "\t# add new items at the end; do not change order unnecessarily");
		break;
	case CRUSH_BUCKET_TREE:
		put(out, "\t# do not change pos for existing items unnecessarily");
		dopos = 1;
		break;
	}
	put(out, "\n\thash %d\t# %s\n", b->hash,
	    crush_hash_name(b->hash) ? crush_hash_name(b->hash) : "unknown");
	for (uint32_t j = 0; j < b->size; j++) {
		put(out, "\titem ");
		put_item_name(out, m, b->items[j]);
		put(out, " weight ");
		put_fixed(out, bucket_item_weight(b, j));
		if (dopos)
			put(out, " pos %u", j);
		put(out, "\n");
	}
	put(out, "}\n");
}

/* children first, each once (state: 0 new, 1 in progress, 2 done) */
static int decompile_bucket(struct cbuf *out, const struct crush_map *m, int id, uint8_t *state,
			    int depth)
{
	const struct crush_bucket *b = map_bucket(m, id);

	if (!b || state[-1 - id] == 2)
		return 0;
	if (state[-1 - id] == 1 || depth > 1000)
		return -EINVAL;
	state[-1 - id] = 1;
	for (uint32_t j = 0; j < b->size; j++) {
		if (b->items[j] < 0) {
			int r = decompile_bucket(out, m, b->items[j], state, depth + 1);

			if (r)
				return r;
		}
	}
	if (!b->shadow_of)
		decompile_bucket_body(out, m, b);
	state[-1 - id] = 2;
	return 0;
}

int crush_decompile(const struct crush_map *m, struct cbuf *out)
{
	uint8_t *state;
	int r = 0;

	put(out, "# begin crush map\n");
	if (m->choose_local_tries != 2)
		put(out, "tunable choose_local_tries %u\n", m->choose_local_tries);
	if (m->choose_local_fallback_tries != 5)
		put(out, "tunable choose_local_fallback_tries %u\n",
		    m->choose_local_fallback_tries);
	if (m->choose_total_tries != 19)
		put(out, "tunable choose_total_tries %u\n", m->choose_total_tries);
	if (m->chooseleaf_descend_once != 0)
		put(out, "tunable chooseleaf_descend_once %u\n", m->chooseleaf_descend_once);
	if (m->chooseleaf_vary_r != 0)
		put(out, "tunable chooseleaf_vary_r %u\n", m->chooseleaf_vary_r);
	if (m->chooseleaf_stable != 0)
		put(out, "tunable chooseleaf_stable %u\n", m->chooseleaf_stable);
	if (m->straw_calc_version != 0)
		put(out, "tunable straw_calc_version %u\n", m->straw_calc_version);
	if (m->allowed_bucket_algs !=
	    ((1u << CRUSH_BUCKET_UNIFORM) | (1u << CRUSH_BUCKET_LIST) | (1u << CRUSH_BUCKET_STRAW)))
		put(out, "tunable allowed_bucket_algs %u\n", m->allowed_bucket_algs);

	put(out, "\n# devices\n");
	for (int i = 0; i < m->max_devices && i < m->dev_cap; i++) {
		if (!m->dev_names[i])
			continue;
		put(out, "device %d %s", i, m->dev_names[i]);
		if (crush_get_device_class(m, i))
			put(out, " class %s", crush_get_device_class(m, i));
		put(out, "\n");
	}
	put(out, "\n# types\n");
	if (m->ntypes && m->types[0].id != 0)
		put(out, "type 0 osd\n");
	for (int i = 0; i < m->ntypes; i++)
		if (m->types[i].id >= 0)
			put(out, "type %d %s\n", m->types[i].id, m->types[i].name);

	put(out, "\n# buckets\n");
	state = calloc(m->max_buckets ? (size_t)m->max_buckets : 1, 1);
	if (!state)
		return -ENOMEM;
	for (int i = 0; i < m->max_buckets && !r; i++)
		r = decompile_bucket(out, m, -1 - i, state, 0);
	free(state);
	if (r)
		return r;

	put(out, "\n# rules\n");
	for (uint32_t i = 0; i < m->max_rules; i++) {
		const struct crush_rule *ru = m->rules[i];

		if (!ru)
			continue;
		put(out, "rule %s {\n\tid %u\n", ru->name ? ru->name : "", i);
		if (ru->type == CRUSH_RULE_TYPE_REPLICATED)
			put(out, "\ttype replicated\n");
		else if (ru->type == CRUSH_RULE_TYPE_ERASURE)
			put(out, "\ttype erasure\n");
		else
			put(out, "\ttype %d\n", ru->type);
		put(out, "\tmin_size %d\n\tmax_size %d\n", ru->min_size, ru->max_size);
		for (int s = 0; s < ru->len; s++) {
			const struct crush_rule_step *st = &ru->steps[s];
			const struct crush_bucket *tb;

			switch (st->op) {
			case CRUSH_RULE_NOOP:
				put(out, "\tstep noop\n");
				break;
			case CRUSH_RULE_TAKE:
				put(out, "\tstep take ");
				tb = map_bucket(m, st->arg1);
				if (tb && tb->shadow_of) {
					put_item_name(out, m, tb->shadow_of);
					put(out, " class %s",
					    crush_get_class_name(m, tb->class_id));
				} else {
					put_item_name(out, m, st->arg1);
				}
				put(out, "\n");
				break;
			case CRUSH_RULE_EMIT:
				put(out, "\tstep emit\n");
				break;
			case CRUSH_RULE_SET_CHOOSE_TRIES:
				put(out, "\tstep set_choose_tries %d\n", st->arg1);
				break;
			case CRUSH_RULE_SET_CHOOSE_LOCAL_TRIES:
				put(out, "\tstep set_choose_local_tries %d\n", st->arg1);
				break;
			case CRUSH_RULE_SET_CHOOSE_LOCAL_FALLBACK_TRIES:
				put(out, "\tstep set_choose_local_fallback_tries %d\n", st->arg1);
				break;
			case CRUSH_RULE_SET_CHOOSELEAF_TRIES:
				put(out, "\tstep set_chooseleaf_tries %d\n", st->arg1);
				break;
			case CRUSH_RULE_SET_CHOOSELEAF_VARY_R:
				put(out, "\tstep set_chooseleaf_vary_r %d\n", st->arg1);
				break;
			case CRUSH_RULE_SET_CHOOSELEAF_STABLE:
				put(out, "\tstep set_chooseleaf_stable %d\n", st->arg1);
				break;
			case CRUSH_RULE_CHOOSE_FIRSTN:
			case CRUSH_RULE_CHOOSE_INDEP:
			case CRUSH_RULE_CHOOSELEAF_FIRSTN:
			case CRUSH_RULE_CHOOSELEAF_INDEP:
				put(out, "\tstep %s %s %d type ",
				    st->op == CRUSH_RULE_CHOOSE_FIRSTN ||
					    st->op == CRUSH_RULE_CHOOSE_INDEP
					? "choose"
					: "chooseleaf",
				    st->op == CRUSH_RULE_CHOOSE_FIRSTN ||
					    st->op == CRUSH_RULE_CHOOSELEAF_FIRSTN
					? "firstn"
					: "indep",
				    st->arg1);
				put_type_name(out, m, st->arg2);
				put(out, "\n");
				break;
			}
		}
		put(out, "}\n");
	}
	if (m->nchoose_args) {
		put(out, "\n# choose_args\n");
		for (int c = 0; c < m->nchoose_args; c++) {
			const struct crush_choose_arg_map *cm = &m->choose_args[c];

			put(out, "choose_args %llu {\n", (unsigned long long)cm->id);
			for (uint32_t i = 0; i < cm->size; i++) {
				const struct crush_choose_arg *a = &cm->args[i];

				if (!a->ids_size && !a->weight_set_positions)
					continue;
				put(out, "  {\n    bucket_id %d\n", -1 - (int)i);
				if (a->weight_set_positions) {
					put(out, "    weight_set [\n");
					for (uint32_t p = 0; p < a->weight_set_positions; p++) {
						put(out, "      [ ");
						for (uint32_t j = 0; j < a->weight_set[p].size;
						     j++) {
							put_fixed(out, a->weight_set[p].weights[j]);
							put(out, " ");
						}
						put(out, "]\n");
					}
					put(out, "    ]\n");
				}
				if (a->ids_size) {
					put(out, "    ids [ ");
					for (uint32_t j = 0; j < a->ids_size; j++)
						put(out, "%d ", a->ids[j]);
					put(out, "]\n");
				}
				put(out, "  }\n");
			}
			put(out, "}\n");
		}
	}
	put(out, "\n# end crush map\n");
	return out->err;
}
