/*
 * text_compile — crush_compile(): Ceph's crush map text to a map, with crushtool's semantics
 * so that a text map yields the same map (and so the same placements) in both: the map
 * starts from the legacy tunables; statements apply in file order, except that a bucket used
 * by an earlier bucket is moved before it (crushtool's adjust_bucket_item_place); a bucket
 * without an id gets the first free id not claimed by any bucket's leading "id" line; an item
 * without a weight weighs 1.0 (device) or its bucket's total; weights are float * 0x10000
 * truncated; the device-class shadow trees are built at the first rule, reusing the
 * "id N class C" ids given in the text. Errors: "FILE:LINE: message", nothing allocated.
 */
#include "crush/crush_int.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tok {
	const char *s; /* NUL-terminated copy */
	int line;
};

struct parser {
	struct tok *t;
	int n, pos;
	char *store; /* token text, NUL separated */
	const char *file;
	char *err;
	size_t errlen;
	int failed;
	struct crush_map *m;
	/* class ids given in the text: (bucket, class, shadow id) */
	int32_t *triples;
	int ntriples, cap_triples;
	/* ids claimed by a bucket's leading "id" line, and ids assigned so far */
	int32_t *used_ids;
	int nused;
	int populated;
};

static int perr(struct parser *p, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int perr(struct parser *p, int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (p->failed)
		return -EINVAL;
	p->failed = 1;
	n = snprintf(p->err, p->errlen, "%s:%d: ", p->file, line);
	if (n >= 0 && (size_t)n < p->errlen) {
		va_start(ap, fmt);
		vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int tokenize(struct parser *p, const char *text, size_t len)
{
	int line = 1, cap = 256;
	char *o;

	p->store = malloc(len * 2 + 2);
	p->t = malloc(sizeof(*p->t) * (size_t)cap);
	if (!p->store || !p->t)
		return -ENOMEM;
	o = p->store;
	for (size_t i = 0; i < len;) {
		char c = text[i];

		if (c == '\n') {
			line++;
			i++;
			continue;
		}
		if (c == '#') {
			while (i < len && text[i] != '\n')
				i++;
			continue;
		}
		if (isspace((unsigned char)c)) {
			i++;
			continue;
		}
		if (c == '\0')
			return perr(p, line, "NUL byte in input");
		if (p->n == cap) {
			struct tok *nt;

			cap *= 2;
			nt = realloc(p->t, sizeof(*nt) * (size_t)cap);
			if (!nt)
				return -ENOMEM;
			p->t = nt;
		}
		p->t[p->n].s = o;
		p->t[p->n].line = line;
		p->n++;
		if (c == '{' || c == '}' || c == '[' || c == ']') {
			*o++ = c;
			i++;
		} else {
			while (i < len && !isspace((unsigned char)text[i]) && text[i] != '#' &&
			       text[i] != '{' && text[i] != '}' && text[i] != '[' &&
			       text[i] != ']' && text[i] != '\0')
				*o++ = text[i++];
		}
		*o++ = '\0';
	}
	return 0;
}

static int at_end(const struct parser *p)
{
	return p->pos >= p->n;
}

static int cur_line(const struct parser *p)
{
	if (p->pos < p->n)
		return p->t[p->pos].line;
	return p->n ? p->t[p->n - 1].line : 1;
}

static const char *peek(const struct parser *p)
{
	return p->pos < p->n ? p->t[p->pos].s : NULL;
}

static const char *next(struct parser *p)
{
	if (p->pos >= p->n) {
		perr(p, cur_line(p), "unexpected end of file");
		return NULL;
	}
	return p->t[p->pos++].s;
}

static int expect(struct parser *p, const char *want)
{
	int line = cur_line(p);
	const char *s = next(p);

	if (!s)
		return -EINVAL;
	if (strcmp(s, want))
		return perr(p, line, "expected '%s', got '%s'", want, s);
	return 0;
}

static int parse_int(struct parser *p, int64_t lo, int64_t hi, int *out)
{
	int line = cur_line(p);
	const char *s = next(p);
	char *end;
	long long v;

	if (!s)
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno)
		return perr(p, line, "expected an integer, got '%s'", s);
	if (v < lo || v > hi)
		return perr(p, line, "%s is out of range [%lld, %lld]", s, (long long)lo,
			    (long long)hi);
	*out = (int)v;
	return 0;
}

static int parse_weight(struct parser *p, uint32_t *out)
{
	int line = cur_line(p);
	const char *s = next(p);
	char *end;
	float f;

	if (!s)
		return -EINVAL;
	f = strtof(s, &end);
	if (*s == '\0' || *end != '\0' || !(f >= 0.0f) || f > 65535.0f)
		return perr(p, line, "bad weight '%s'", s);
	*out = (uint32_t)(f * (float)0x10000);
	return 0;
}

static int name_ok(struct parser *p, int line, const char *s)
{
	if (!s)
		return -EINVAL;
	for (const char *c = s; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_' && *c != '.')
			return perr(p, line, "invalid name '%s'", s);
	return 0;
}

static int parse_tunable(struct parser *p)
{
	int line = cur_line(p), v;
	const char *name = next(p);
	struct crush_map *m = p->m;

	if (!name || parse_int(p, INT32_MIN, INT32_MAX, &v))
		return -EINVAL;
	if (!strcmp(name, "choose_local_tries"))
		m->choose_local_tries = (uint32_t)v;
	else if (!strcmp(name, "choose_local_fallback_tries"))
		m->choose_local_fallback_tries = (uint32_t)v;
	else if (!strcmp(name, "choose_total_tries"))
		m->choose_total_tries = (uint32_t)v;
	else if (!strcmp(name, "chooseleaf_descend_once"))
		m->chooseleaf_descend_once = (uint32_t)v;
	else if (!strcmp(name, "chooseleaf_vary_r"))
		m->chooseleaf_vary_r = (uint8_t)v;
	else if (!strcmp(name, "chooseleaf_stable"))
		m->chooseleaf_stable = (uint8_t)v;
	else if (!strcmp(name, "straw_calc_version"))
		m->straw_calc_version = (uint8_t)v;
	else if (!strcmp(name, "allowed_bucket_algs"))
		m->allowed_bucket_algs = (uint32_t)v;
	else
		return perr(p, line, "tunable %s not recognized", name);
	return 0;
}

static int parse_device(struct parser *p)
{
	int line = cur_line(p), id, other, r;
	const char *name;

	if (parse_int(p, 0, (1 << 24) - 1, &id))
		return -EINVAL;
	line = cur_line(p);
	name = next(p);
	if (name_ok(p, line, name))
		return -EINVAL;
	if (crush_get_item_id(p->m, name, &other) == 0)
		return perr(p, line, "item %s defined twice", name);
	if (crush_device_exists(p->m, id) && crush_get_item_name(p->m, id))
		return perr(p, line, "device %d defined twice", id);
	r = crush_add_device(p->m, id, name);
	if (r)
		return r == -ENOMEM ? r : perr(p, line, "bad device %d '%s'", id, name);
	if (peek(p) && !strcmp(peek(p), "class")) {
		const char *cls;
		int c;

		next(p);
		line = cur_line(p);
		cls = next(p);
		if (name_ok(p, line, cls))
			return -EINVAL;
		c = map_get_or_create_class(p->m, cls);
		if (c < 0)
			return c == -ENOMEM ? c : perr(p, line, "bad class '%s'", cls);
		p->m->dev_class[id] = c;
	}
	return 0;
}

static int parse_type(struct parser *p)
{
	int line = cur_line(p), id, r;
	const char *name;

	if (parse_int(p, 0, INT32_MAX, &id))
		return -EINVAL;
	line = cur_line(p);
	name = next(p);
	if (name_ok(p, line, name))
		return -EINVAL;
	if (crush_get_type_id(p->m, name) >= 0 && crush_get_type_id(p->m, name) != id)
		return perr(p, line, "type '%s' defined twice", name);
	r = crush_set_type_name(p->m, id, name);
	if (r)
		return r == -ENOMEM ? r : perr(p, line, "bad type %d '%s'", id, name);
	return 0;
}

/* A bucket statement: token range [start, end) with the bucket's type and name first. */
struct bstmt {
	int start, end;
	const char *name;
};

static int id_used(const struct parser *p, int id)
{
	for (int i = 0; i < p->nused; i++)
		if (p->used_ids[i] == id)
			return 1;
	return 0;
}

static int add_used(struct parser *p, int id)
{
	int32_t *n = realloc(p->used_ids, sizeof(int32_t) * (size_t)(p->nused + 1));

	if (!n)
		return -ENOMEM;
	p->used_ids = n;
	p->used_ids[p->nused++] = id;
	return 0;
}

static int add_triple(struct parser *p, int bucket, int cls, int shadow)
{
	if (p->ntriples == p->cap_triples) {
		int ncap = p->cap_triples ? p->cap_triples * 2 : 16;
		int32_t *n = realloc(p->triples, sizeof(int32_t) * 3 * (size_t)ncap);

		if (!n)
			return -ENOMEM;
		p->triples = n;
		p->cap_triples = ncap;
	}
	p->triples[3 * p->ntriples] = bucket;
	p->triples[3 * p->ntriples + 1] = cls;
	p->triples[3 * p->ntriples + 2] = shadow;
	p->ntriples++;
	return 0;
}

struct bitem {
	const char *name;
	int line;
	int has_weight;
	uint32_t weight;
	int pos;
};

static int parse_bucket(struct parser *p, const struct bstmt *bs)
{
	struct crush_map *m = p->m;
	int line, type, id = 0, alg = -1, hash = 0, size = 0, r = 0, nitems = 0, maxpos = -1;
	int cls_ids[64][2], ncls = 0;
	struct bitem *it = NULL;
	int32_t *items = NULL;
	uint32_t *weights = NULL;
	uint8_t *used = NULL;
	const char *tname, *s;
	struct crush_bucket *b;

	p->pos = bs->start;
	line = cur_line(p);
	tname = next(p);
	type = crush_get_type_id(m, tname);
	if (type < 0)
		return perr(p, line, "bucket type '%s' is not defined", tname);
	line = cur_line(p);
	next(p);
	if (name_ok(p, line, bs->name))
		return -EINVAL;
	if (map_name_taken(m, bs->name))
		return perr(p, line, "bucket or device '%s' is already defined", bs->name);
	if (expect(p, "{"))
		return -EINVAL;
	it = calloc((size_t)(bs->end - bs->start) + 1, sizeof(*it));
	if (!it)
		return -ENOMEM;
	while (!p->failed) {
		line = cur_line(p);
		s = next(p);
		if (!s)
			break;
		if (!strcmp(s, "}"))
			break;
		if (!strcmp(s, "id")) {
			int v;

			if (parse_int(p, -(1 << 20), -1, &v))
				break;
			if (peek(p) && !strcmp(peek(p), "class")) {
				const char *cn;
				int c;

				next(p);
				line = cur_line(p);
				cn = next(p);
				if (name_ok(p, line, cn))
					break;
				c = map_get_or_create_class(m, cn);
				if (c < 0) {
					r = c == -ENOMEM ? c : perr(p, line, "bad class '%s'", cn);
					break;
				}
				for (int k = 0; k < ncls; k++)
					if (cls_ids[k][0] == c)
						r = perr(p, line,
							 "duplicate device class %s for bucket %s",
							 cn, bs->name);
				if (ncls == 64)
					r = perr(p, line, "too many device classes");
				if (r)
					break;
				cls_ids[ncls][0] = c;
				cls_ids[ncls][1] = v;
				ncls++;
			} else {
				id = v;
			}
		} else if (!strcmp(s, "alg")) {
			const char *a = next(p);

			if (!a)
				break;
			alg = crush_alg_from_name(a);
			if (alg < 0) {
				r = perr(p, line, "unknown bucket alg '%s'", a);
				break;
			}
		} else if (!strcmp(s, "hash")) {
			const char *h = next(p);

			if (!h)
				break;
			if (!strcmp(h, "rjenkins1"))
				hash = 0;
			else if (!strcmp(h, "0"))
				hash = 0;
			else {
				r = perr(p, line, "unknown hash '%s'", h);
				break;
			}
		} else if (!strcmp(s, "item")) {
			struct bitem *bi = &it[nitems++];

			bi->line = line;
			bi->name = next(p);
			bi->pos = -1;
			if (name_ok(p, line, bi->name))
				break;
			while (peek(p) && (!strcmp(peek(p), "weight") || !strcmp(peek(p), "pos"))) {
				const char *k = next(p);

				if (!strcmp(k, "weight")) {
					if (parse_weight(p, &bi->weight))
						break;
					bi->has_weight = 1;
				} else {
					if (parse_int(p, 0, 1 << 20, &bi->pos))
						break;
					for (int q = 0; q < nitems - 1; q++)
						if (it[q].pos == bi->pos)
							r = perr(
							    p, line,
							    "item '%s' in bucket '%s' has explicit "
							    "pos %d, which is occupied",
							    bi->name, bs->name, bi->pos);
					if (bi->pos > maxpos)
						maxpos = bi->pos;
				}
			}
			size++;
		} else {
			r = perr(p, line, "unexpected '%s' in bucket '%s'", s, bs->name);
			break;
		}
	}
	if (p->failed || r)
		goto out;
	if (alg < 0) {
		r = perr(p, line, "bucket '%s' has no alg", bs->name);
		goto out;
	}
	if (maxpos > size)
		size = maxpos; /* crushtool's sizing, kept for compatibility */
	items = calloc((size_t)size + 1, sizeof(int32_t));
	weights = calloc((size_t)size + 1, sizeof(uint32_t));
	used = calloc((size_t)size + 1, 1);
	if (!items || !weights || !used) {
		r = -ENOMEM;
		goto out;
	}
	for (int i = 0; i < nitems; i++)
		if (it[i].pos >= 0 && it[i].pos < size)
			used[it[i].pos] = 1;
	{
		int curpos = 0, have_uniform = 0;
		uint32_t uniform_w = 0, total = 0;

		for (int i = 0; i < nitems; i++) {
			struct bitem *bi = &it[i];
			int itemid, pos = bi->pos;
			uint32_t w = 0x10000;

			if (crush_get_item_id(m, bi->name, &itemid) ||
			    (itemid < 0 && map_bucket(m, itemid)->shadow_of)) {
				r = perr(p, bi->line, "item '%s' in bucket '%s' is not defined",
					 bi->name, bs->name);
				goto out;
			}
			if (itemid < 0)
				w = map_bucket(m, itemid)->weight;
			if (bi->has_weight)
				w = bi->weight;
			if (bi->has_weight && itemid >= 0 && w > 100u * 0x10000) {
				r = perr(p, bi->line, "device weight limited to 100");
				goto out;
			}
			if (alg == CRUSH_BUCKET_UNIFORM) {
				if (!have_uniform) {
					have_uniform = 1;
					uniform_w = w;
				} else if (uniform_w != w) {
					r = perr(p, bi->line,
						 "item '%s' in uniform bucket '%s' has weight %g "
						 "but previous item(s) have weight %g; uniform "
						 "bucket items must all have identical weights",
						 bi->name, bs->name, (double)w / 0x10000,
						 (double)uniform_w / 0x10000);
					goto out;
				}
			}
			if (pos >= size) {
				r = perr(p, bi->line,
					 "item '%s' in bucket '%s' has pos %d >= size %d", bi->name,
					 bs->name, pos, size);
				goto out;
			}
			if (pos < 0) {
				while (curpos < size && used[curpos])
					curpos++;
				pos = curpos++;
			}
			if (pos >= size) {
				r = perr(p, bi->line, "item '%s' in bucket '%s' has no free pos",
					 bi->name, bs->name);
				goto out;
			}
			items[pos] = itemid;
			weights[pos] = w;
			if (total > UINT32_MAX - w) {
				r = perr(p, bi->line, "bucket '%s' weight overflows", bs->name);
				goto out;
			}
			total += w;
		}
	}
	for (int i = 0; i < size; i++) {
		int dummy;

		if (items[i] < 0 && crush_bucket_parent(m, items[i], &dummy) == 0) {
			r = perr(p, bs->start < p->n ? p->t[bs->start].line : 1,
				 "item '%s' in bucket '%s' already has a parent",
				 crush_get_item_name(m, items[i]), bs->name);
			goto out;
		}
	}
	if (id == 0) {
		for (id = -1; id_used(p, id) || map_bucket(m, id); id--)
			;
	}
	if (map_bucket(m, id)) {
		r = perr(p, p->t[bs->start].line, "Duplicate bucket id %d", id);
		goto out;
	}
	for (int k = 0; k < ncls; k++)
		if ((r = add_triple(p, id, cls_ids[k][0], cls_ids[k][1])))
			goto out;
	if ((r = add_used(p, id)))
		goto out;
	b = bucket_new(id, alg, hash, type, (uint32_t)size, items, weights);
	if (!b) {
		r = -ENOMEM;
		goto out;
	}
	b->name = strdup(bs->name);
	r = b->name ? bucket_derive(m, b) : -ENOMEM;
	if (!r)
		r = map_put_bucket(m, b);
	if (r) {
		bucket_free(b);
		if (r != -ENOMEM)
			r = perr(p, p->t[bs->start].line, "cannot add bucket '%s': %s", bs->name,
				 strerror(-r));
	}
out:
	free(it);
	free(items);
	free(weights);
	free(used);
	return r ? r : (p->failed ? -EINVAL : 0);
}

static int populate(struct parser *p)
{
	int r;

	if (p->populated)
		return 0;
	p->populated = 1;
	r = map_rebuild_shadows(p->m, p->triples, p->ntriples);
	if (r == -ENOMEM)
		return r;
	if (r)
		return perr(p, cur_line(p), "cannot build device class trees: %s", strerror(-r));
	return 0;
}

static int parse_rule(struct parser *p)
{
	struct crush_map *m = p->m;
	struct crush_rule_step steps[256];
	int nsteps = 0, line = cur_line(p), ruleno, type, min_size = 1, max_size = 10, r;
	const char *name = NULL, *s;

	if (populate(p))
		return -EINVAL;
	if (peek(p) && strcmp(peek(p), "{")) {
		name = next(p);
		if (name_ok(p, line, name))
			return -EINVAL;
		if (crush_get_rule_id(m, name) >= 0)
			return perr(p, line, "rule name '%s' already defined", name);
	}
	if (expect(p, "{"))
		return -EINVAL;
	line = cur_line(p);
	s = next(p);
	if (!s)
		return -EINVAL;
	if (strcmp(s, "id") && strcmp(s, "ruleset"))
		return perr(p, line, "expected 'id', got '%s'", s);
	if (parse_int(p, 0, CRUSH_MAX_RULES - 1, &ruleno))
		return -EINVAL;
	if (crush_rule_exists(m, ruleno))
		return perr(p, line, "rule %d already exists", ruleno);
	line = cur_line(p);
	if (expect(p, "type"))
		return -EINVAL;
	s = next(p);
	if (!s)
		return -EINVAL;
	if (!strcmp(s, "replicated"))
		type = CRUSH_RULE_TYPE_REPLICATED;
	else if (!strcmp(s, "erasure"))
		type = CRUSH_RULE_TYPE_ERASURE;
	else
		return perr(p, line, "unknown rule type '%s'", s);
	if (peek(p) && !strcmp(peek(p), "min_size")) {
		next(p);
		if (parse_int(p, INT32_MIN, INT32_MAX, &min_size))
			return -EINVAL;
	}
	if (peek(p) && !strcmp(peek(p), "max_size")) {
		next(p);
		if (parse_int(p, INT32_MIN, INT32_MAX, &max_size))
			return -EINVAL;
	}
	for (;;) {
		struct crush_rule_step *st = &steps[nsteps];

		line = cur_line(p);
		s = next(p);
		if (!s)
			return -EINVAL;
		if (!strcmp(s, "}"))
			break;
		if (strcmp(s, "step"))
			return perr(p, line, "expected 'step' or '}', got '%s'", s);
		if (nsteps == 256)
			return perr(p, line, "too many steps");
		s = next(p);
		if (!s)
			return -EINVAL;
		memset(st, 0, sizeof(*st));
		if (!strcmp(s, "take")) {
			const char *item = next(p);
			int id;

			if (!item)
				return -EINVAL;
			if (crush_get_item_id(m, item, &id) ||
			    (id < 0 && map_bucket(m, id)->shadow_of))
				return perr(p, line, "in rule '%s' item '%s' not defined",
					    name ? name : "", item);
			if (peek(p) && !strcmp(peek(p), "class")) {
				const char *cn;
				int c, sid;

				next(p);
				cn = next(p);
				if (!cn)
					return -EINVAL;
				c = crush_get_class_id(m, cn);
				if (c < 0)
					return perr(p, line, "in rule '%s' unknown class '%s'",
						    name ? name : "", cn);
				sid = map_shadow_of(m, id, c);
				if (!sid)
					return perr(p, line,
						    "in rule '%s' step take %s no matching bucket "
						    "for class %s",
						    name ? name : "", item, cn);
				id = sid;
			}
			st->op = CRUSH_RULE_TAKE;
			st->arg1 = id;
		} else if (!strcmp(s, "emit")) {
			st->op = CRUSH_RULE_EMIT;
		} else if (!strcmp(s, "noop")) {
			st->op = CRUSH_RULE_NOOP;
		} else if (!strcmp(s, "choose") || !strcmp(s, "chooseleaf")) {
			int leaf = !strcmp(s, "chooseleaf"), firstn, n, t;
			const char *mode = next(p), *tn;

			if (!mode)
				return -EINVAL;
			if (!strcmp(mode, "firstn"))
				firstn = 1;
			else if (!strcmp(mode, "indep"))
				firstn = 0;
			else
				return perr(p, line, "expected firstn or indep, got '%s'", mode);
			if (parse_int(p, INT32_MIN, INT32_MAX, &n) || expect(p, "type"))
				return -EINVAL;
			tn = next(p);
			if (!tn)
				return -EINVAL;
			t = crush_get_type_id(m, tn);
			if (t < 0)
				return perr(p, line, "in rule '%s' type '%s' not defined",
					    name ? name : "", tn);
			st->op =
			    leaf ? (firstn ? CRUSH_RULE_CHOOSELEAF_FIRSTN
					   : CRUSH_RULE_CHOOSELEAF_INDEP)
				 : (firstn ? CRUSH_RULE_CHOOSE_FIRSTN : CRUSH_RULE_CHOOSE_INDEP);
			st->arg1 = n;
			st->arg2 = t;
		} else {
			static const struct {
				const char *kw;
				uint32_t op;
			} sets[] = {
			    {"set_choose_tries", CRUSH_RULE_SET_CHOOSE_TRIES},
			    {"set_chooseleaf_tries", CRUSH_RULE_SET_CHOOSELEAF_TRIES},
			    {"set_choose_local_tries", CRUSH_RULE_SET_CHOOSE_LOCAL_TRIES},
			    {"set_choose_local_fallback_tries",
			     CRUSH_RULE_SET_CHOOSE_LOCAL_FALLBACK_TRIES},
			    {"set_chooseleaf_vary_r", CRUSH_RULE_SET_CHOOSELEAF_VARY_R},
			    {"set_chooseleaf_stable", CRUSH_RULE_SET_CHOOSELEAF_STABLE},
			};
			size_t k;

			for (k = 0; k < sizeof(sets) / sizeof(sets[0]); k++)
				if (!strcmp(s, sets[k].kw))
					break;
			if (k == sizeof(sets) / sizeof(sets[0]))
				return perr(p, line, "unknown step '%s'", s);
			st->op = sets[k].op;
			if (parse_int(p, INT32_MIN, INT32_MAX, &st->arg1))
				return -EINVAL;
		}
		nsteps++;
	}
	r = crush_add_rule(m, ruleno, name, type, min_size, max_size, steps, nsteps, NULL);
	if (r)
		return r == -ENOMEM ? r : perr(p, line, "unable to add rule %d", ruleno);
	return 0;
}

static int parse_choose_args(struct parser *p)
{
	struct crush_map *m = p->m;
	int line = cur_line(p), idx;
	long long id;
	const char *s = next(p);
	char *end;

	if (!s)
		return -EINVAL;
	errno = 0;
	id = strtoll(s, &end, 10);
	if (!*s || *end || errno)
		return perr(p, line, "expected a choose_args id, got '%s'", s);
	if (map_choose_args(m, id))
		return perr(p, line, "%lld duplicated", id);
	if (!map_add_choose_args(m, id))
		return -ENOMEM;
	if (expect(p, "{"))
		return -EINVAL;
	for (;;) {
		uint32_t *w = NULL;
		int32_t *ids = NULL;
		int npos = 0, nids = 0, bid, r = 0;
		struct crush_bucket *b;

		line = cur_line(p);
		s = next(p);
		if (!s)
			return -EINVAL;
		if (!strcmp(s, "}"))
			break;
		if (strcmp(s, "{"))
			return perr(p, line, "expected '{' or '}', got '%s'", s);
		if (expect(p, "bucket_id") || parse_int(p, -(1 << 20), -1, &bid))
			return -EINVAL;
		b = map_bucket(m, bid);
		if (!b)
			return perr(p, line, "%d does not exist", bid);
		idx = -1 - bid;
		(void)idx;
		while (!r) {
			line = cur_line(p);
			s = next(p);
			if (!s) {
				r = -EINVAL;
				break;
			}
			if (!strcmp(s, "}"))
				break;
			if (!strcmp(s, "weight_set")) {
				if (expect(p, "[")) {
					r = -EINVAL;
					break;
				}
				while (!r && peek(p) && !strcmp(peek(p), "[")) {
					uint32_t *nw, cnt = 0;

					next(p);
					nw = realloc(w, sizeof(uint32_t) *
							    ((size_t)(npos + 1) * b->size + 1));
					if (!nw) {
						r = -ENOMEM;
						break;
					}
					w = nw;
					while (peek(p) && strcmp(peek(p), "]")) {
						uint32_t v;

						if (parse_weight(p, &v)) {
							r = -EINVAL;
							break;
						}
						if (cnt < b->size)
							w[(size_t)npos * b->size + cnt] = v;
						cnt++;
					}
					if (!r && expect(p, "]"))
						r = -EINVAL;
					if (!r && cnt != b->size)
						r = perr(p, line,
							 "%d needs exactly %u weights but got %u",
							 bid, b->size, cnt);
					npos++;
				}
				if (!r && expect(p, "]"))
					r = -EINVAL;
			} else if (!strcmp(s, "ids")) {
				if (expect(p, "[")) {
					r = -EINVAL;
					break;
				}
				free(ids);
				ids = calloc(b->size + 1, sizeof(int32_t));
				if (!ids) {
					r = -ENOMEM;
					break;
				}
				nids = 0;
				while (!r && peek(p) && strcmp(peek(p), "]")) {
					int v;

					if (parse_int(p, INT32_MIN, INT32_MAX, &v))
						r = -EINVAL;
					else if ((uint32_t)nids < b->size)
						ids[nids] = v;
					nids++;
				}
				if (!r && expect(p, "]"))
					r = -EINVAL;
				if (!r && (uint32_t)nids != b->size)
					r = perr(p, line, "%d needs exactly %u ids but got %d", bid,
						 b->size, nids);
			} else {
				r = perr(p, line, "unexpected '%s' in choose_args", s);
			}
		}
		if (!r)
			r = crush_choose_args_set(m, id, bid, w, npos, nids ? ids : NULL);
		free(w);
		free(ids);
		if (r)
			return r == -ENOMEM
				   ? r
				   : (p->failed ? -EINVAL : perr(p, line, "bad choose_args"));
	}
	return 0;
}

/* Finds the end of a braced block starting at token `from` (which is after the opening
 * keyword(s)); returns the index after the matching '}' or -1. */
static int block_end(const struct parser *p, int from)
{
	int depth = 0;

	for (int i = from; i < p->n; i++) {
		if (!strcmp(p->t[i].s, "{"))
			depth++;
		else if (!strcmp(p->t[i].s, "}")) {
			if (--depth == 0)
				return i + 1;
			if (depth < 0)
				return -1;
		}
	}
	return -1;
}

enum stmt_kind { ST_TUNABLE, ST_DEVICE, ST_TYPE, ST_BUCKET, ST_RULE, ST_CHOOSE_ARGS };

struct stmt {
	enum stmt_kind kind;
	int start, end;
	const char *name; /* buckets */
};

static int bucket_uses(const struct parser *p, const struct stmt *a, const char *name)
{
	for (int i = a->start + 3; i < a->end; i++)
		if (!strcmp(p->t[i].s, "item") && i + 1 < a->end && !strcmp(p->t[i + 1].s, name))
			return 1;
	return 0;
}

static int compile(struct parser *p)
{
	struct stmt *st;
	int ns = 0, r = 0;
	int saw_rule = 0;

	st = calloc((size_t)p->n + 1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	/* split into statements */
	while (!at_end(p) && !r) {
		int line = cur_line(p), start = p->pos, e;
		const char *kw = next(p);

		if (!strcmp(kw, "tunable")) {
			st[ns] = (struct stmt){ST_TUNABLE, start, start + 3, NULL};
			p->pos = start + 3;
		} else if (!strcmp(kw, "device")) {
			e = start + 3;
			if (e + 1 < p->n && !strcmp(p->t[e].s, "class"))
				e += 2;
			st[ns] = (struct stmt){ST_DEVICE, start, e, NULL};
			p->pos = e;
		} else if (!strcmp(kw, "type")) {
			st[ns] = (struct stmt){ST_TYPE, start, start + 3, NULL};
			p->pos = start + 3;
		} else if (!strcmp(kw, "rule")) {
			e = block_end(p, start + 1);
			if (e < 0) {
				r = perr(p, line, "unterminated rule");
				break;
			}
			st[ns] = (struct stmt){ST_RULE, start, e, NULL};
			p->pos = e;
		} else if (!strcmp(kw, "choose_args")) {
			e = block_end(p, start + 1);
			if (e < 0) {
				r = perr(p, line, "unterminated choose_args");
				break;
			}
			st[ns] = (struct stmt){ST_CHOOSE_ARGS, start, e, NULL};
			p->pos = e;
		} else if (!strcmp(kw, "{") || !strcmp(kw, "}") || !strcmp(kw, "[") ||
			   !strcmp(kw, "]")) {
			r = perr(p, line, "parse error at '%s'", kw);
			break;
		} else {
			if (start + 2 >= p->n || strcmp(p->t[start + 2].s, "{")) {
				r = perr(p, line, "parse error at '%s'", kw);
				break;
			}
			e = block_end(p, start + 2);
			if (e < 0) {
				r = perr(p, line, "unterminated bucket '%s'", p->t[start + 1].s);
				break;
			}
			st[ns] = (struct stmt){ST_BUCKET, start, e, p->t[start + 1].s};
			p->pos = e;
		}
		if (p->pos > p->n) {
			r = perr(p, cur_line(p), "unexpected end of file");
			break;
		}
		ns++;
	}
	if (r)
		goto out;
	/* crushtool's reordering: a bucket used by an earlier bucket swaps places with it */
	for (int i = 0; i < ns; i++) {
		if (st[i].kind != ST_BUCKET)
			continue;
		for (int j = i + 1; j < ns; j++) {
			if (st[j].kind != ST_BUCKET)
				continue;
			if (bucket_uses(p, &st[i], st[j].name)) {
				if (bucket_uses(p, &st[j], st[i].name)) {
					r = perr(
					    p, p->t[st[j].start].line,
					    "bucket '%s' and bucket '%s' are included each other",
					    st[i].name, st[j].name);
					goto out;
				}
				struct stmt t = st[i];

				st[i] = st[j];
				st[j] = t;
			}
		}
	}
	/* ids claimed by a bucket's leading "id" line */
	for (int i = 0; i < ns; i++) {
		int a = st[i].start;

		if (st[i].kind == ST_BUCKET && a + 4 < p->n && !strcmp(p->t[a + 3].s, "id")) {
			char *end;
			long v = strtol(p->t[a + 4].s, &end, 10);

			if (!*end && v < 0 && v > -(1 << 20) &&
			    !(a + 5 < p->n && !strcmp(p->t[a + 5].s, "class")))
				if ((r = add_used(p, (int)v)))
					goto out;
		}
	}
	for (int i = 0; i < ns && !r; i++) {
		p->pos = st[i].start + 1;
		switch (st[i].kind) {
		case ST_TUNABLE:
			r = parse_tunable(p);
			break;
		case ST_DEVICE:
			r = parse_device(p);
			break;
		case ST_TYPE:
			r = parse_type(p);
			break;
		case ST_BUCKET:
			if (saw_rule) {
				r = perr(p, p->t[st[i].start].line,
					 "buckets must be defined before rules");
				break;
			}
			{
				struct bstmt bs = {st[i].start, st[i].end, st[i].name};

				r = parse_bucket(p, &bs);
			}
			break;
		case ST_RULE:
			saw_rule = 1;
			r = parse_rule(p);
			break;
		case ST_CHOOSE_ARGS:
			r = parse_choose_args(p);
			break;
		}
		if (!r && !p->failed && p->pos != st[i].end)
			r = perr(p, cur_line(p), "parse error at '%s'", peek(p) ? peek(p) : "");
	}
	if (!r && p->failed)
		r = -EINVAL;
	if (!r && map_check(p->m))
		r = perr(p, cur_line(p), "inconsistent map");
out:
	free(st);
	return r;
}

int crush_compile(const char *text, size_t len, const char *filename, struct crush_map **out,
		  char *err, size_t errlen)
{
	struct parser p;
	struct crush_tunables legacy;
	char dummy[1];
	int r;

	memset(&p, 0, sizeof(p));
	*out = NULL;
	p.file = filename ? filename : "<input>";
	p.err = err && errlen ? err : dummy;
	p.errlen = err && errlen ? errlen : sizeof(dummy);
	p.err[0] = '\0';
	p.m = crush_create();
	if (!p.m)
		return -ENOMEM;
	crush_tunables_profile("legacy", &legacy);
	crush_set_tunables(p.m, &legacy);
	r = tokenize(&p, text, len);
	if (!r)
		r = compile(&p);
	if (r == -ENOMEM && !p.failed)
		snprintf(p.err, p.errlen, "%s: out of memory", p.file);
	free(p.t);
	free(p.store);
	free(p.triples);
	free(p.used_ids);
	if (r) {
		crush_destroy(p.m);
		return r == -ENOMEM ? r : -EINVAL;
	}
	*out = p.m;
	return 0;
}
