/*
 * config — see config.h.
 *
 * The table is built at compile time from common/options/all.def. At first use (pthread_once)
 * it is checked — names unique, every default and bound parses and defaults lie within their
 * bounds — and a name index is sorted for bsearch; a broken table is a programming bug and
 * aborts with a message naming the option (test_config catches it first).
 *
 * Precedence: each value remembers the level that set it (0 default, 1 [global], 2 [TYPE],
 * 3 [TYPE.ID], 4 argv/conf_set); an assignment applies when its level is >= the stored one,
 * so the file's sections may come in any order.
 */
#include "common/config.h"

#include "common/util.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum conf_type { CONF_INT, CONF_DOUBLE, CONF_BOOL, CONF_STR, CONF_SIZE };

struct opt_def {
	struct conf_opt_info info;
	enum conf_type type;
};

static const struct opt_def table[] = {
#define OPT(n, t, d, mn, mx, desc) {{#n, #t, d, mn, mx, desc, OPT_FILE}, CONF_##t},
#include "common/options/all.def"
#undef OPT
};
#define NOPTS	     (sizeof(table) / sizeof(table[0]))
#define NAME_MAX_LEN 128

union conf_val {
	int64_t i;
	double d;
	bool b;
	char *s; /* owned */
};

struct bounds {
	bool has_min, has_max;
	int64_t imin, imax;
	double dmin, dmax;
};

enum { LVL_DEFAULT, LVL_GLOBAL, LVL_TYPE, LVL_ENTITY, LVL_ARGV, LVL_OTHER = 255 };

struct cairn_conf {
	char *path;
	union conf_val v[NOPTS];
	uint8_t level[NOPTS];
};

static pthread_once_t table_once = PTHREAD_ONCE_INIT;
static size_t sorted[NOPTS];
static struct bounds bounds[NOPTS];
static struct cairn_conf defaults;

static const char *const entity_types[] = {"mon", "osd", "mds", "client"};

static void normalize(const char *in, size_t n, char *out, size_t cap)
{
	size_t i;

	if (n >= cap)
		n = cap - 1;
	for (i = 0; i < n; i++)
		out[i] = (in[i] == '-' || in[i] == ' ') ? '_' : in[i];
	out[n] = '\0';
}

static int cmp_sorted(const void *a, const void *b)
{
	return strcmp(table[*(const size_t *)a].info.name, table[*(const size_t *)b].info.name);
}

static int cmp_key(const void *key, const void *elem)
{
	return strcmp(key, table[*(const size_t *)elem].info.name);
}

/* Index of the option named name[0..n) ('-' and ' ' read as '_'), or -1. */
static long find_n(const char *name, size_t n)
{
	char key[NAME_MAX_LEN];
	const size_t *hit;

	if (n >= sizeof(key))
		return -1;
	normalize(name, n, key, sizeof(key));
	hit = bsearch(key, sorted, NOPTS, sizeof(sorted[0]), cmp_key);
	return hit ? (long)*hit : -1;
}

static const char *type_word(enum conf_type t)
{
	switch (t) {
	case CONF_INT:
		return "integer";
	case CONF_DOUBLE:
		return "number";
	case CONF_BOOL:
		return "boolean (true/false, yes/no, on/off, 1/0)";
	case CONF_SIZE:
		return "size (bytes, or with K/M/G/T suffix)";
	default:
		return "string";
	}
}

static int parse_double(const char *s, double *out)
{
	char *end;
	double v;

	while (isspace((unsigned char)*s))
		s++;
	if (!*s)
		return -EINVAL;
	v = strtod(s, &end);
	if (end == s)
		return -EINVAL;
	while (isspace((unsigned char)*end))
		end++;
	/* overflow gives +-HUGE_VAL (rejected here); underflow gives a usable tiny value */
	if (*end || !isfinite(v))
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};
	size_t i;

	for (i = 0; i < 4; i++) {
		if (!strcasecmp(s, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcasecmp(s, no[i])) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

/* Parses s as option i's type without bounds (strings are not copied: v->s is NULL). */
static int parse_raw(size_t i, const char *s, union conf_val *v)
{
	uint64_t u;
	int r;

	switch (table[i].type) {
	case CONF_INT:
		return parse_int64(s, &v->i);
	case CONF_SIZE:
		r = parse_size(s, &u);
		if (r)
			return r;
		if (u > INT64_MAX)
			return -ERANGE;
		v->i = (int64_t)u;
		return 0;
	case CONF_DOUBLE:
		return parse_double(s, &v->d);
	case CONF_BOOL:
		return parse_bool(s, &v->b);
	case CONF_STR:
		v->s = NULL;
		return 0;
	}
	return -EINVAL;
}

/* Parses and bounds-checks s for option i; on failure writes why into why[whylen]. The
 * returned STR value is a new copy. */
static int parse_value(size_t i, const char *s, union conf_val *v, char *why, size_t whylen)
{
	const struct opt_def *o = &table[i];
	const struct bounds *b = &bounds[i];
	int r;

	r = parse_raw(i, s, v);
	if (r) {
		snprintf(why, whylen, "'%s' is not a valid %s%s", s, type_word(o->type),
			 r == -ERANGE ? " (out of range)" : "");
		return -EINVAL;
	}
	switch (o->type) {
	case CONF_INT:
	case CONF_SIZE:
		if ((b->has_min && v->i < b->imin) || (b->has_max && v->i > b->imax))
			goto e_range;
		return 0;
	case CONF_DOUBLE:
		if ((b->has_min && v->d < b->dmin) || (b->has_max && v->d > b->dmax))
			goto e_range;
		return 0;
	case CONF_STR:
		v->s = strdup(s);
		return v->s ? 0 : -ENOMEM;
	default:
		return 0;
	}
e_range:
	snprintf(why, whylen, "'%s' is out of range [%s, %s]", s,
		 *o->info.min ? o->info.min : "-inf", *o->info.max ? o->info.max : "inf");
	return -EINVAL;
}

static void set_value(struct cairn_conf *c, size_t i, union conf_val v, uint8_t level)
{
	if (table[i].type == CONF_STR)
		free(c->v[i].s);
	c->v[i] = v;
	c->level[i] = level;
}

static void table_bug(const char *name, const char *what)
{
	fprintf(stderr, "cairn config: BUG in common/options: option '%s': %s\n", name, what);
	abort();
}

static void table_init(void)
{
	union conf_val v;
	char why[256];
	size_t i;

	for (i = 0; i < NOPTS; i++) {
		const struct opt_def *o = &table[i];
		struct bounds *b = &bounds[i];

		sorted[i] = i;
		if (strlen(o->info.name) >= NAME_MAX_LEN)
			table_bug(o->info.name, "name too long");
		if (*o->info.min) {
			if (parse_raw(i, o->info.min, &v))
				table_bug(o->info.name, "min does not parse");
			b->has_min = true;
			b->imin = v.i;
			b->dmin = v.d;
		}
		if (*o->info.max) {
			if (parse_raw(i, o->info.max, &v))
				table_bug(o->info.name, "max does not parse");
			b->has_max = true;
			b->imax = v.i;
			b->dmax = v.d;
		}
		if ((o->type == CONF_STR || o->type == CONF_BOOL) && (b->has_min || b->has_max))
			table_bug(o->info.name, "min/max only apply to INT, SIZE and DOUBLE");
		if (parse_value(i, o->info.def, &v, why, sizeof(why)))
			table_bug(o->info.name, why);
		defaults.v[i] = v;
	}
	/* Ceph-style files indent their keys; with inih's Python-style multi-line values an
	 * indented "name = value" would silently become part of the previous value. */
	ini_allow_multiline = false;
	qsort(sorted, NOPTS, sizeof(sorted[0]), cmp_sorted);
	for (i = 1; i < NOPTS; i++)
		if (!strcmp(table[sorted[i]].info.name, table[sorted[i - 1]].info.name))
			table_bug(table[sorted[i]].info.name, "declared twice");
}

static void init(void)
{
	pthread_once(&table_once, table_init);
}

size_t conf_opt_count(void)
{
	return NOPTS;
}

const struct conf_opt_info *conf_opt(size_t i)
{
	return i < NOPTS ? &table[i].info : NULL;
}

const struct conf_opt_info *conf_find(const char *name)
{
	long i;

	init();
	i = find_n(name, strlen(name));
	return i < 0 ? NULL : &table[i].info;
}

struct cairn_conf *conf_defaults(void)
{
	struct cairn_conf *c;
	size_t i;

	init();
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	for (i = 0; i < NOPTS; i++) {
		c->v[i] = defaults.v[i];
		if (table[i].type == CONF_STR) {
			c->v[i].s = strdup(defaults.v[i].s);
			if (!c->v[i].s)
				goto e_nomem;
		}
	}
	return c;
e_nomem:
	conf_free(c);
	return NULL;
}

void conf_free(struct cairn_conf *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < NOPTS; i++)
		if (table[i].type == CONF_STR)
			free(c->v[i].s);
	free(c->path);
	free(c);
}

int conf_set(struct cairn_conf *c, const char *name, const char *value, char *err, size_t errlen)
{
	char why[256];
	union conf_val v;
	long i;
	int r;

	init();
	i = find_n(name, strlen(name));
	if (i < 0) {
		snprintf(err, errlen, "unknown option '%s'", name);
		return -EINVAL;
	}
	r = parse_value((size_t)i, value, &v, why, sizeof(why));
	if (r == -EINVAL)
		snprintf(err, errlen, "option '%s': %s", table[i].info.name, why);
	else if (r)
		snprintf(err, errlen, "option '%s': out of memory", table[i].info.name);
	if (r)
		return r;
	set_value(c, (size_t)i, v, LVL_ARGV);
	return 0;
}

/* ---- loading ---- */

struct load_ctx {
	struct cairn_conf *c;
	const char *path;
	const char *type, *id;
	FILE *f;
	int line; /* lines handed to inih so far == the line being parsed */
	int err;  /* first error from the handler or reader, 0 if none */
	int err_line;
	bool too_long;
	char *msg;
	size_t msglen;
};

static bool known_type(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < sizeof(entity_types) / sizeof(entity_types[0]); i++)
		if (strlen(entity_types[i]) == n && !strncmp(s, entity_types[i], n))
			return true;
	return false;
}

/* Level a section applies at for this entity: LVL_OTHER (validate only), or -1 if unknown. */
static int section_level(const struct load_ctx *x, const char *sec)
{
	const char *dot;
	size_t tlen;

	if (!*sec || !strcmp(sec, "global"))
		return LVL_GLOBAL;
	dot = strchr(sec, '.');
	tlen = dot ? (size_t)(dot - sec) : strlen(sec);
	if (!known_type(sec, tlen) || (dot && !dot[1]))
		return -1;
	if (!x->type || strlen(x->type) != tlen || strncmp(sec, x->type, tlen))
		return LVL_OTHER;
	if (!dot)
		return LVL_TYPE;
	return (x->id && !strcmp(dot + 1, x->id)) ? LVL_ENTITY : LVL_OTHER;
}

static int load_fail(struct load_ctx *x, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int load_fail(struct load_ctx *x, int err, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (x->err)
		return 0;
	x->err = err;
	x->err_line = x->line;
	n = snprintf(x->msg, x->msglen, "%s:%d: ", x->path, x->line);
	if (n >= 0 && (size_t)n < x->msglen) {
		va_start(ap, fmt);
		vsnprintf(x->msg + n, x->msglen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return 0;
}

static int ini_handler_cb(void *user, const char *section, const char *name, const char *value)
{
	struct load_ctx *x = user;
	char why[256];
	union conf_val v;
	int level, r;
	long i;

	if (x->err)
		return 0;
	level = section_level(x, section);
	if (level < 0)
		return load_fail(
		    x, -EINVAL,
		    "unknown section '[%s]' (expected global, mon, osd, mds, client or TYPE.ID)",
		    section);
	i = find_n(name, strlen(name));
	if (i < 0)
		return load_fail(x, -EINVAL, "unknown option '%s'", name);
	r = parse_value((size_t)i, value, &v, why, sizeof(why));
	if (r == -ENOMEM)
		return load_fail(x, r, "out of memory");
	if (r)
		return load_fail(x, r, "option '%s': %s", table[i].info.name, why);
	if (level != LVL_OTHER && level >= x->c->level[i]) {
		set_value(x->c, (size_t)i, v, (uint8_t)level);
	} else if (table[i].type == CONF_STR) {
		free(v.s);
	}
	return 1;
}

static char *ini_reader_cb(char *str, int num, void *stream)
{
	struct load_ctx *x = stream;
	size_t n;

	if (x->err || x->too_long)
		return NULL;
	if (!fgets(str, num, x->f))
		return NULL;
	x->line++;
	n = strlen(str);
	if (n == (size_t)num - 1 && str[n - 1] != '\n' && !feof(x->f)) {
		x->too_long = true;
		return NULL;
	}
	return str;
}

static int load_file(struct load_ctx *x)
{
	int r;

	x->f = fopen(x->path, "re");
	if (!x->f) {
		r = -errno;
		snprintf(x->msg, x->msglen, "%s: %s", x->path, cairn_strerror(r));
		return r;
	}
	r = ini_parse_stream(ini_reader_cb, x, ini_handler_cb, x);
	if (!x->too_long && !x->err && ferror(x->f)) {
		x->err = -EIO;
		snprintf(x->msg, x->msglen, "%s: read error", x->path);
	}
	fclose(x->f);
	x->f = NULL;
	if (x->too_long) {
		snprintf(x->msg, x->msglen, "%s:%d: line too long (at most %d characters)", x->path,
			 x->line, ini_max_line - 3);
		return -EINVAL;
	}
	if (r == -2) {
		snprintf(x->msg, x->msglen, "%s: out of memory", x->path);
		return -ENOMEM;
	}
	if (r > 0 && (!x->err || r < x->err_line)) {
		snprintf(x->msg, x->msglen,
			 "%s:%d: syntax error (expected '[section]' or 'name = value')", x->path,
			 r);
		return -EINVAL;
	}
	return x->err;
}

/* Consumes config options from argv into c; keep[k] says whether argv[k] stays. */
static int load_argv(struct cairn_conf *c, int argc, char **argv, bool *keep, char *err,
		     size_t errlen)
{
	char why[256];
	union conf_val v;
	const char *arg, *eq, *val;
	size_t nlen;
	long i;
	int k, r;
	bool b;

	for (k = 1; k < argc; k++)
		keep[k] = true;
	for (k = 1; k < argc; k++) {
		arg = argv[k];
		if (!strcmp(arg, "--"))
			break;
		if (strncmp(arg, "--", 2) || !arg[2])
			continue;
		eq = strchr(arg + 2, '=');
		nlen = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
		i = find_n(arg + 2, nlen);
		if (i < 0)
			continue;
		keep[k] = false;
		if (eq) {
			val = eq + 1;
		} else if (table[i].type == CONF_BOOL &&
			   (k + 1 >= argc || parse_bool(argv[k + 1], &b))) {
			val = "true";
		} else if (k + 1 < argc && strncmp(argv[k + 1], "--", 2)) {
			val = argv[++k];
			keep[k] = false;
		} else {
			snprintf(err, errlen, "command line: option '%s' needs a value",
				 table[i].info.name);
			return -EINVAL;
		}
		r = parse_value((size_t)i, val, &v, why, sizeof(why));
		if (r == -EINVAL)
			snprintf(err, errlen, "command line: option '%s': %s", table[i].info.name,
				 why);
		else if (r)
			snprintf(err, errlen, "command line: out of memory");
		if (r)
			return r;
		set_value(c, (size_t)i, v, LVL_ARGV);
	}
	return 0;
}

int conf_load(struct cairn_conf **out, const char *path, const char *type, const char *id,
	      int *argc, char **argv, char *err, size_t errlen)
{
	struct load_ctx x = {.path = path, .type = type, .id = id, .msg = err, .msglen = errlen};
	struct cairn_conf *c;
	bool *keep = NULL;
	int r, k, n;

	*out = NULL;
	if (errlen)
		err[0] = '\0';
	if (type && !known_type(type, strlen(type))) {
		snprintf(err, errlen, "unknown entity type '%s'", type);
		return -EINVAL;
	}
	c = conf_defaults();
	if (!c)
		goto e_nomem;
	x.c = c;
	if (path) {
		c->path = strdup(path);
		if (!c->path)
			goto e_nomem;
		r = load_file(&x);
		if (r)
			goto fail;
	}
	if (argc && argv && *argc > 1) {
		keep = calloc((size_t)*argc, sizeof(*keep));
		if (!keep)
			goto e_nomem;
		r = load_argv(c, *argc, argv, keep, err, errlen);
		if (r)
			goto fail;
		for (k = 1, n = 1; k < *argc; k++)
			if (keep[k])
				argv[n++] = argv[k];
		argv[n] = NULL;
		*argc = n;
		free(keep);
	}
	*out = c;
	return 0;
e_nomem:
	snprintf(err, errlen, "out of memory");
	r = -ENOMEM;
fail:
	free(keep);
	conf_free(c);
	return r;
}

/* ---- getters ---- */

static size_t lookup(const struct cairn_conf *c, const char *name, enum conf_type t1,
		     enum conf_type t2, const char *fn)
{
	long i;

	(void)c;
	init();
	i = find_n(name, strlen(name));
	if (i < 0) {
		fprintf(stderr, "cairn config: BUG: %s('%s'): no such option\n", fn, name);
		abort();
	}
	if (table[i].type != t1 && table[i].type != t2) {
		fprintf(stderr, "cairn config: BUG: %s('%s'): option is of type %s\n", fn, name,
			table[i].info.type);
		abort();
	}
	return (size_t)i;
}

static const union conf_val *val_of(const struct cairn_conf *c, size_t i)
{
	return c ? &c->v[i] : &defaults.v[i];
}

int64_t conf_int(const struct cairn_conf *c, const char *name)
{
	return val_of(c, lookup(c, name, CONF_INT, CONF_SIZE, "conf_int"))->i;
}

double conf_double(const struct cairn_conf *c, const char *name)
{
	return val_of(c, lookup(c, name, CONF_DOUBLE, CONF_DOUBLE, "conf_double"))->d;
}

bool conf_bool(const struct cairn_conf *c, const char *name)
{
	return val_of(c, lookup(c, name, CONF_BOOL, CONF_BOOL, "conf_bool"))->b;
}

const char *conf_str(const struct cairn_conf *c, const char *name)
{
	return val_of(c, lookup(c, name, CONF_STR, CONF_STR, "conf_str"))->s;
}

const char *conf_path(const struct cairn_conf *c)
{
	return c ? c->path : NULL;
}

int conf_format(const struct cairn_conf *c, const char *name, char *out, size_t len)
{
	const union conf_val *v;
	long i;
	int n;

	init();
	i = find_n(name, strlen(name));
	if (i < 0)
		return -ENOENT;
	v = val_of(c, (size_t)i);
	switch (table[i].type) {
	case CONF_INT:
	case CONF_SIZE:
		n = snprintf(out, len, "%lld", (long long)v->i);
		break;
	case CONF_DOUBLE:
		/* shortest of %.15g / %.17g that reads back as the same double */
		n = snprintf(out, len, "%.15g", v->d);
		if (n >= 0 && (size_t)n < len && strtod(out, NULL) != v->d)
			n = snprintf(out, len, "%.17g", v->d);
		break;
	case CONF_BOOL:
		n = snprintf(out, len, "%s", v->b ? "true" : "false");
		break;
	default:
		n = snprintf(out, len, "%s", v->s);
		break;
	}
	return (n < 0 || (size_t)n >= len) ? -ENOSPC : 0;
}
