/*
 * commands — the monitor's admin commands: argv words in, JSON (or a binary blob) out.
 *
 * Each command is one row of the table at the bottom: the words that name it, the minimum
 * and maximum number of arguments after them, and a handler. A handler validates all its
 * arguments against the current map before changing anything, then makes its change on a
 * pending copy (mon_pending) and commits it with mon_commit: one epoch per command that
 * changes the map, none for a no-op. The JSON each command prints is documented in
 * docs/cli.md (tests check the fields).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/encode.h"
#include "common/msg.h"
#include "common/pg_state.h"
#include "common/util.h"
#include "crush/crush.h"
#include "mon/mon.h"

struct cmd_ctx {
	struct mon *mon;
	const struct mon_command *cmd;
	char **args; /* words after the command name */
	int nargs;
	char *status;
	json_t *json;   /* output, or */
	uint8_t *bin;   /* binary output */
	size_t binlen;
};

static int fail(struct cmd_ctx *x, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct cmd_ctx *x, int err, const char *fmt, ...)
{
	va_list ap;

	free(x->status);
	x->status = NULL;
	va_start(ap, fmt);
	if (vasprintf(&x->status, fmt, ap) < 0)
		x->status = NULL;
	va_end(ap);
	return err;
}

static void say(struct cmd_ctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct cmd_ctx *x, const char *fmt, ...)
{
	va_list ap;

	free(x->status);
	x->status = NULL;
	va_start(ap, fmt);
	if (vasprintf(&x->status, fmt, ap) < 0)
		x->status = NULL;
	va_end(ap);
}

/* Commits pending; reports a no-op as success. */
static int commit(struct cmd_ctx *x, struct osdmap *p)
{
	int err = mon_commit(x->mon, p);

	if (err < 0)
		return fail(x, err, "commit failed: %s", cairn_strerror(err));
	return 0;
}

static json_t *epoch_json(struct cmd_ctx *x)
{
	json_t *o = json_object();

	json_object_set_new(o, "epoch", json_integer(x->mon->map->epoch));
	return o;
}

/* ---- argument parsing ---- */

static int parse_osd_id(const char *s, int32_t *id)
{
	int64_t v;

	if (!strncmp(s, "osd.", 4))
		s += 4;
	if (parse_int64(s, &v) || v < 0 || v >= OSDMAP_MAX_OSD)
		return -EINVAL;
	*id = (int32_t)v;
	return 0;
}

static int parse_weight(const char *s, double max, uint32_t *w)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(s, &end);
	if (errno || end == s || *end || !(d >= 0) || d > max)
		return -ERANGE;
	*w = (uint32_t)llround(d * 65536.0);
	return 0;
}

static double w2d(uint32_t w)
{
	return (double)w / 65536.0;
}

/* ---- JSON of map parts ---- */

static const char *hash_name(uint8_t h)
{
	return h == POOL_HASH_RJENKINS ? "rjenkins" : h == POOL_HASH_XXH3 ? "xxh3" : "unknown";
}

static json_t *pool_json(struct cmd_ctx *x, const struct pool_info *p)
{
	json_t *o = json_object();
	const char *rn = crush_get_rule_name(x->mon->map->crush, p->crush_rule);

	json_object_set_new(o, "pool_id", json_integer(p->id));
	json_object_set_new(o, "pool_name", json_string(p->name));
	json_object_set_new(o, "type", json_string(p->type == POOL_TYPE_ERASURE ? "erasure"
										 : "replicated"));
	json_object_set_new(o, "size", json_integer(p->size));
	json_object_set_new(o, "min_size", json_integer(p->min_size));
	json_object_set_new(o, "pg_num", json_integer(p->pg_num));
	json_object_set_new(o, "pgp_num", json_integer(p->pgp_num));
	json_object_set_new(o, "crush_rule", json_integer(p->crush_rule));
	json_object_set_new(o, "crush_rule_name", json_string(rn ? rn : ""));
	json_object_set_new(o, "object_hash", json_string(hash_name(p->object_hash)));
	json_object_set_new(o, "last_change", json_integer(p->last_change));
	if (p->type == POOL_TYPE_ERASURE) {
		json_object_set_new(o, "ec_k", json_integer(p->ec_k));
		json_object_set_new(o, "ec_m", json_integer(p->ec_m));
		json_object_set_new(o, "stripe_unit", json_integer(p->stripe_unit));
	}
	return o;
}

static void uuid_str(const uint8_t u[16], char out[37])
{
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1],
		 u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14],
		 u[15]);
}

static json_t *osd_json(const struct osd_info *o)
{
	json_t *j = json_object();
	char u[37];

	uuid_str(o->uuid, u);
	json_object_set_new(j, "osd", json_integer(o->id));
	json_object_set_new(j, "uuid", json_string(u));
	json_object_set_new(j, "up", json_integer(osd_info_up(o)));
	json_object_set_new(j, "in", json_integer(osd_info_in(o)));
	json_object_set_new(j, "weight", json_real(w2d(o->reweight)));
	json_object_set_new(j, "crush_weight", json_real(w2d(o->crush_weight)));
	json_object_set_new(j, "up_from", json_integer(o->up_from));
	json_object_set_new(j, "down_at", json_integer(o->down_at));
	json_object_set_new(j, "up_thru", json_integer(o->up_thru));
	json_object_set_new(j, "addr", json_string(o->addr));
	json_object_set_new(j, "auto_out", json_boolean(o->state & OSD_STATE_AUTOOUT));
	return j;
}

static json_t *osd_stat_json(const struct osdmap *m)
{
	json_t *o = json_object();
	int n, up, in;
	char f[128];

	osdmap_count_osds(m, &n, &up, &in);
	json_object_set_new(o, "epoch", json_integer(m->epoch));
	json_object_set_new(o, "num_osds", json_integer(n));
	json_object_set_new(o, "num_up_osds", json_integer(up));
	json_object_set_new(o, "num_in_osds", json_integer(in));
	json_object_set_new(o, "flags", json_string(osdmap_flags_str(m->flags, f, sizeof(f))));
	return o;
}

static void tree_add(const struct osdmap *m, json_t *nodes, int id, int depth)
{
	const struct crush_map *c = m->crush;
	json_t *n = json_object();
	const char *name = crush_get_item_name(c, id);
	char dn[32];

	if (!name) {
		snprintf(dn, sizeof(dn), id >= 0 ? "osd.%d" : "bucket%d", id);
		name = dn;
	}
	json_object_set_new(n, "id", json_integer(id));
	json_object_set_new(n, "name", json_string(name));
	json_object_set_new(n, "depth", json_integer(depth));
	if (id >= 0) {
		const struct osd_info *o = osdmap_osd(m, id);
		const char *cls = crush_get_device_class(c, id);
		uint32_t w = 0;

		crush_get_item_weight(c, id, &w);
		json_object_set_new(n, "type", json_string("osd"));
		json_object_set_new(n, "type_id", json_integer(0));
		if (cls)
			json_object_set_new(n, "device_class", json_string(cls));
		json_object_set_new(n, "crush_weight", json_real(w2d(w)));
		json_object_set_new(n, "exists", json_integer(o != NULL));
		json_object_set_new(n, "status",
				    json_string(o ? (osd_info_up(o) ? "up" : "down") : "DNE"));
		json_object_set_new(n, "reweight", json_real(o ? w2d(o->reweight) : 0));
		json_array_append_new(nodes, n);
		return;
	} else {
		struct crush_bucket_info bi;
		json_t *ch = json_array();
		const char *tn;

		crush_bucket_get(c, id, &bi);
		tn = crush_get_type_name(c, bi.type);
		json_object_set_new(n, "type", json_string(tn ? tn : "?"));
		json_object_set_new(n, "type_id", json_integer(bi.type));
		json_object_set_new(n, "crush_weight", json_real(w2d(bi.weight)));
		for (uint32_t i = 0; i < bi.size; i++) {
			int item;
			uint32_t w;
			if (!crush_bucket_item(c, id, i, &item, &w))
				json_array_append_new(ch, json_integer(item));
		}
		json_object_set_new(n, "children", ch);
		json_array_append_new(nodes, n);
		for (uint32_t i = 0; i < bi.size; i++) {
			int item;
			uint32_t w;
			if (!crush_bucket_item(c, id, i, &item, &w))
				tree_add(m, nodes, item, depth + 1);
		}
	}
}

static json_t *tree_json(const struct osdmap *m)
{
	json_t *o = json_object(), *nodes = json_array(), *stray = json_array();
	const struct osd_info *oi;
	int nb = crush_max_buckets(m->crush);

	for (int i = 0; i < nb; i++) {
		int id = -1 - i, parent;
		struct crush_bucket_info bi;

		if (!crush_bucket_exists(m->crush, id) || crush_bucket_get(m->crush, id, &bi) ||
		    bi.shadow)
			continue;
		if (crush_bucket_parent(m->crush, id, &parent) == 0)
			continue;
		tree_add(m, nodes, id, 0);
	}
	osdmap_for_each_osd(m, oi) {
		if (!crush_item_in_tree(m->crush, oi->id)) {
			json_t *n = json_object();
			json_object_set_new(n, "id", json_integer(oi->id));
			json_object_set_new(n, "status", json_string(osd_info_up(oi) ? "up" : "down"));
			json_object_set_new(n, "reweight", json_real(w2d(oi->reweight)));
			{
				char nm[32];
				snprintf(nm, sizeof(nm), "osd.%d", oi->id);
				json_object_set_new(n, "name", json_string(nm));
			}
			json_array_append_new(stray, n);
		}
	}
	json_object_set_new(o, "epoch", json_integer(m->epoch));
	json_object_set_new(o, "nodes", nodes);
	json_object_set_new(o, "stray", stray);
	return o;
}

static const char *op_name(uint32_t op)
{
	switch (op) {
	case CRUSH_RULE_NOOP: return "noop";
	case CRUSH_RULE_TAKE: return "take";
	case CRUSH_RULE_CHOOSE_FIRSTN: return "choose_firstn";
	case CRUSH_RULE_CHOOSE_INDEP: return "choose_indep";
	case CRUSH_RULE_EMIT: return "emit";
	case CRUSH_RULE_CHOOSELEAF_FIRSTN: return "chooseleaf_firstn";
	case CRUSH_RULE_CHOOSELEAF_INDEP: return "chooseleaf_indep";
	case CRUSH_RULE_SET_CHOOSE_TRIES: return "set_choose_tries";
	case CRUSH_RULE_SET_CHOOSELEAF_TRIES: return "set_chooseleaf_tries";
	default: return "other";
	}
}

static json_t *rule_json(const struct crush_map *c, int r)
{
	json_t *o = json_object(), *steps = json_array();
	const struct crush_rule_step *st;
	int type, mn, mx, n;
	const char *nm = crush_get_rule_name(c, r);

	if (crush_get_rule(c, r, &type, &mn, &mx, &st, &n))
		n = 0, type = mn = mx = 0, st = NULL;
	json_object_set_new(o, "rule_id", json_integer(r));
	json_object_set_new(o, "rule_name", json_string(nm ? nm : ""));
	json_object_set_new(o, "type", json_integer(type));
	json_object_set_new(o, "min_size", json_integer(mn));
	json_object_set_new(o, "max_size", json_integer(mx));
	for (int i = 0; i < n; i++) {
		json_t *s = json_object();
		json_object_set_new(s, "op", json_string(op_name(st[i].op)));
		if (st[i].op == CRUSH_RULE_TAKE) {
			const char *in = crush_get_item_name(c, st[i].arg1);
			json_object_set_new(s, "item", json_integer(st[i].arg1));
			json_object_set_new(s, "item_name", json_string(in ? in : ""));
		} else if (st[i].op == CRUSH_RULE_CHOOSE_FIRSTN || st[i].op == CRUSH_RULE_CHOOSE_INDEP ||
			   st[i].op == CRUSH_RULE_CHOOSELEAF_FIRSTN ||
			   st[i].op == CRUSH_RULE_CHOOSELEAF_INDEP) {
			const char *tn = crush_get_type_name(c, st[i].arg2);
			json_object_set_new(s, "num", json_integer(st[i].arg1));
			json_object_set_new(s, "type", json_string(tn ? tn : ""));
		} else if (st[i].op != CRUSH_RULE_EMIT) {
			json_object_set_new(s, "num", json_integer(st[i].arg1));
		}
		json_array_append_new(steps, s);
	}
	json_object_set_new(o, "steps", steps);
	return o;
}

/* ---- handlers ---- */

static int cmd_status(struct cmd_ctx *x)
{
	struct mon *mon = x->mon;
	const struct osdmap *m = mon->map;
	const struct pool_info *p;
	json_t *o = json_object(), *pools = json_array();
	char fsid[37];
	double stale = conf_double(mon->conf, "mon_pg_stale_timeout");

	uuid_str(m->fsid, fsid);
	json_object_set_new(o, "fsid", json_string(fsid));
	json_object_set_new(o, "epoch", json_integer(m->epoch));
	json_object_set_new(o, "health", mon_health_json(mon, false));
	json_object_set_new(o, "osdmap", osd_stat_json(m));
	osdmap_for_each_pool(m, p) {
		json_t *pj = pgmap_pool_stats_json(mon->pgmap, m, p->id);
		json_object_set_new(pj, "pool_id", json_integer(p->id));
		json_object_set_new(pj, "pool_name", json_string(p->name));
		json_object_set_new(pj, "pg_num", json_integer(p->pg_num));
		json_object_set_new(pj, "size", json_integer(p->size));
		json_array_append_new(pools, pj);
	}
	json_object_set_new(o, "num_pools", json_integer(m->num_pools));
	json_object_set_new(o, "pools", pools);
	json_object_set_new(o, "pgmap", pgmap_pg_stat_json(mon->pgmap, m, stale));
	json_object_set_new(o, "uptime_seconds",
			    json_real((double)(now_mono_ns() - mon->start_ns) / 1e9));
	x->json = o;
	return 0;
}

static int cmd_health(struct cmd_ctx *x)
{
	bool detail = x->nargs > 0 && !strcmp(x->args[0], "detail");

	if (x->nargs > 0 && !detail)
		return fail(x, -EINVAL, "unknown argument '%s' (expected 'detail')", x->args[0]);
	x->json = mon_health_json(x->mon, detail);
	return 0;
}

static int cmd_osd_tree(struct cmd_ctx *x)
{
	x->json = tree_json(x->mon->map);
	return 0;
}

static int cmd_osd_stat(struct cmd_ctx *x)
{
	x->json = osd_stat_json(x->mon->map);
	return 0;
}

static int cmd_osd_dump(struct cmd_ctx *x)
{
	const struct osdmap *m = x->mon->map;
	json_t *o = json_object(), *pools = json_array(), *osds = json_array(), *pt = json_array(),
	       *prt = json_array();
	const struct pool_info *p;
	const struct osd_info *oi;
	char fsid[37], f[128], id[PG_ID_STR_MAX];

	uuid_str(m->fsid, fsid);
	json_object_set_new(o, "epoch", json_integer(m->epoch));
	json_object_set_new(o, "fsid", json_string(fsid));
	json_object_set_new(o, "created", json_integer((json_int_t)m->created));
	json_object_set_new(o, "modified", json_integer((json_int_t)m->modified));
	json_object_set_new(o, "flags", json_string(osdmap_flags_str(m->flags, f, sizeof(f))));
	json_object_set_new(o, "max_osd", json_integer(m->max_osd));
	json_object_set_new(o, "pool_max", json_integer(m->pool_max));
	osdmap_for_each_pool(m, p) json_array_append_new(pools, pool_json(x, p));
	osdmap_for_each_osd(m, oi) json_array_append_new(osds, osd_json(oi));
	for (uint32_t i = 0; i < m->num_pg_temp; i++) {
		json_t *t = json_object();
		json_object_set_new(t, "pgid", json_string(pg_id_str(&m->pg_temp[i].pg, id, sizeof(id))));
		json_t *a = json_array();
		for (int k = 0; k < m->pg_temp[i].n; k++)
			json_array_append_new(a, json_integer(m->pg_temp[i].osds[k]));
		json_object_set_new(t, "osds", a);
		json_array_append_new(pt, t);
	}
	for (uint32_t i = 0; i < m->num_primary_temp; i++) {
		json_t *t = json_object();
		json_object_set_new(t, "pgid",
				    json_string(pg_id_str(&m->primary_temp[i].pg, id, sizeof(id))));
		json_object_set_new(t, "osd", json_integer(m->primary_temp[i].osd));
		json_array_append_new(prt, t);
	}
	json_object_set_new(o, "pools", pools);
	json_object_set_new(o, "osds", osds);
	json_object_set_new(o, "pg_temp", pt);
	json_object_set_new(o, "primary_temp", prt);
	x->json = o;
	return 0;
}

static int cmd_osd_df(struct cmd_ctx *x)
{
	const struct osdmap *m = x->mon->map;
	const struct osd_info *oi;
	json_t *o = json_object(), *nodes = json_array(), *sum = json_object();
	uint64_t tot = 0, used = 0;

	osdmap_for_each_osd(m, oi) {
		const struct mon_osd_stat *st = pgmap_osd_stat(x->mon->pgmap, oi->id);
		json_t *n = json_object();
		char name[32];

		snprintf(name, sizeof(name), "osd.%d", oi->id);
		json_object_set_new(n, "id", json_integer(oi->id));
		json_object_set_new(n, "name", json_string(name));
		json_object_set_new(n, "crush_weight", json_real(w2d(oi->crush_weight)));
		json_object_set_new(n, "reweight", json_real(w2d(oi->reweight)));
		json_object_set_new(n, "status", json_string(osd_info_up(oi) ? "up" : "down"));
		json_object_set_new(n, "bytes_total", json_integer(st ? (json_int_t)st->bytes_total : 0));
		json_object_set_new(n, "bytes_used", json_integer(st ? (json_int_t)st->bytes_used : 0));
		json_object_set_new(n, "utilization",
				    json_real(st && st->bytes_total ? 100.0 * (double)st->bytes_used /
									  (double)st->bytes_total
								    : 0));
		json_object_set_new(n, "num_pgs", json_integer(st ? st->num_pgs : 0));
		json_array_append_new(nodes, n);
		if (st) {
			tot += st->bytes_total;
			used += st->bytes_used;
		}
	}
	json_object_set_new(sum, "bytes_total", json_integer((json_int_t)tot));
	json_object_set_new(sum, "bytes_used", json_integer((json_int_t)used));
	json_object_set_new(sum, "utilization",
			    json_real(tot ? 100.0 * (double)used / (double)tot : 0));
	json_object_set_new(o, "nodes", nodes);
	json_object_set_new(o, "summary", sum);
	x->json = o;
	return 0;
}

enum osd_change { CH_IN, CH_OUT, CH_DOWN, CH_RM };

static int osd_change(struct cmd_ctx *x, enum osd_change ch)
{
	static const char *const verb[] = {"in", "out", "down", "destroyed"};
	int32_t ids[64];
	int n = 0;
	struct osdmap *p;
	char done[512] = "";
	size_t dl = 0;

	if (x->nargs < 1)
		return fail(x, -EINVAL, "expected at least one OSD id");
	if (x->nargs > 64)
		return fail(x, -E2BIG, "too many OSD ids");
	for (int i = 0; i < x->nargs; i++) {
		const struct osd_info *o;
		if (parse_osd_id(x->args[i], &ids[n]))
			return fail(x, -EINVAL, "invalid OSD id '%s'", x->args[i]);
		o = osdmap_osd(x->mon->map, ids[n]);
		if (!o)
			return fail(x, -ENOENT, "osd.%d does not exist", ids[n]);
		if (ch == CH_RM && osd_info_up(o))
			return fail(x, -EBUSY, "osd.%d is still up; mark it down first", ids[n]);
		n++;
	}
	p = mon_pending(x->mon);
	if (!p)
		return fail(x, -ENOMEM, "out of memory");
	for (int i = 0; i < n; i++) {
		struct osd_info *o = &p->osds[ids[i]];
		switch (ch) {
		case CH_IN:
			o->reweight = OSD_WEIGHT_IN;
			o->state &= ~(uint32_t)OSD_STATE_AUTOOUT;
			break;
		case CH_OUT:
			o->reweight = OSD_WEIGHT_OUT;
			o->state &= ~(uint32_t)OSD_STATE_AUTOOUT;
			break;
		case CH_DOWN:
			if (osd_info_up(o)) {
				o->state &= ~(uint32_t)OSD_STATE_UP;
				o->down_at = p->epoch;
				o->down_stamp = now_wall_ns();
			}
			break;
		case CH_RM:
			memset(o, 0, sizeof(*o));
			o->id = ids[i];
			break;
		}
		if (dl < sizeof(done))
			dl += (size_t)snprintf(done + dl, sizeof(done) - dl, "%sosd.%d", i ? ", " : "",
					       ids[i]);
	}
	if (commit(x, p))
		return -EIO;
	say(x, "marked %s %s", verb[ch], done);
	x->json = epoch_json(x);
	return 0;
}

static int cmd_osd_in(struct cmd_ctx *x) { return osd_change(x, CH_IN); }
static int cmd_osd_out(struct cmd_ctx *x) { return osd_change(x, CH_OUT); }
static int cmd_osd_down(struct cmd_ctx *x) { return osd_change(x, CH_DOWN); }
static int cmd_osd_rm(struct cmd_ctx *x) { return osd_change(x, CH_RM); }

static int osd_flag(struct cmd_ctx *x, bool set)
{
	uint32_t bit;
	struct osdmap *p;

	if (osdmap_flag_parse(x->args[0], &bit))
		return fail(x, -EINVAL, "unknown flag '%s' (noout noin noup nodown pause)",
			    x->args[0]);
	p = mon_pending(x->mon);
	if (!p)
		return fail(x, -ENOMEM, "out of memory");
	if (set)
		p->flags |= bit;
	else
		p->flags &= ~bit;
	if (commit(x, p))
		return -EIO;
	say(x, "%s is %s", x->args[0], set ? "set" : "unset");
	x->json = epoch_json(x);
	return 0;
}

static int cmd_osd_set(struct cmd_ctx *x) { return osd_flag(x, true); }
static int cmd_osd_unset(struct cmd_ctx *x) { return osd_flag(x, false); }

static int cmd_osd_reweight(struct cmd_ctx *x)
{
	int32_t id;
	uint32_t w;
	struct osdmap *p;

	if (parse_osd_id(x->args[0], &id))
		return fail(x, -EINVAL, "invalid OSD id '%s'", x->args[0]);
	if (!osdmap_osd(x->mon->map, id))
		return fail(x, -ENOENT, "osd.%d does not exist", id);
	if (parse_weight(x->args[1], 1.0, &w))
		return fail(x, -ERANGE, "weight '%s' out of range [0, 1]", x->args[1]);
	p = mon_pending(x->mon);
	if (!p)
		return fail(x, -ENOMEM, "out of memory");
	p->osds[id].reweight = w;
	if (commit(x, p))
		return -EIO;
	say(x, "reweighted osd.%d to %.4f", id, w2d(w));
	x->json = epoch_json(x);
	return 0;
}

/* ---- crush ---- */

/* Applies fn to a copy of the CRUSH map; commits on success. */
static int crush_edit(struct cmd_ctx *x, struct osdmap **pp)
{
	*pp = mon_pending(x->mon);
	return *pp ? 0 : fail(x, -ENOMEM, "out of memory");
}

static int item_by_name(const struct crush_map *c, const char *s, int *id)
{
	int32_t oid;

	if (!crush_get_item_id(c, s, id))
		return 0;
	if (!parse_osd_id(s, &oid) && crush_device_exists(c, oid)) {
		*id = oid;
		return 0;
	}
	return -ENOENT;
}

/* Splits "type=name" args into arrays (pointers into args; '=' replaced by NUL). */
static int parse_loc(struct cmd_ctx *x, char **args, int n, const char **types,
		     const char **names)
{
	for (int i = 0; i < n; i++) {
		char *eq = strchr(args[i], '=');
		if (!eq || eq == args[i] || !eq[1])
			return fail(x, -EINVAL, "bad location '%s' (expected TYPE=NAME)", args[i]);
		*eq = '\0';
		types[i] = args[i];
		names[i] = eq + 1;
		if (crush_get_type_id(x->mon->map->crush, types[i]) < 0) {
			int err = fail(x, -EINVAL, "unknown CRUSH type '%s'", types[i]);
			*eq = '=';
			return err;
		}
	}
	return 0;
}

static int cmd_crush_add_bucket(struct cmd_ctx *x)
{
	struct osdmap *p;
	int type = crush_get_type_id(x->mon->map->crush, x->args[1]), id, err;

	if (type < 0)
		return fail(x, -EINVAL, "unknown CRUSH type '%s'", x->args[1]);
	if (!crush_get_item_id(x->mon->map->crush, x->args[0], &id))
		return fail(x, -EEXIST, "item '%s' already exists", x->args[0]);
	if (crush_edit(x, &p))
		return -ENOMEM;
	err = crush_add_bucket(p->crush, 0, CRUSH_BUCKET_STRAW2, CRUSH_HASH_RJENKINS1, type,
			       x->args[0], &id);
	if (err) {
		osdmap_put(p);
		return fail(x, err, "cannot add bucket '%s': %s", x->args[0], cairn_strerror(err));
	}
	if (commit(x, p))
		return -EIO;
	say(x, "added bucket %s type %s to crush map", x->args[0], x->args[1]);
	x->json = epoch_json(x);
	return 0;
}

static int cmd_crush_move(struct cmd_ctx *x)
{
	const struct crush_map *c = x->mon->map->crush;
	const char *types[16], *names[16];
	int id, parent = 0, best = 1 << 30, err;
	struct osdmap *p;

	if (x->nargs - 1 > 16)
		return fail(x, -E2BIG, "too many location arguments");
	if (item_by_name(c, x->args[0], &id) || id >= 0)
		return fail(x, -ENOENT, "no bucket named '%s'", x->args[0]);
	if (parse_loc(x, x->args + 1, x->nargs - 1, types, names))
		return -EINVAL;
	for (int i = 0; i < x->nargs - 1; i++) {
		int t = crush_get_type_id(c, types[i]), bid;
		if (crush_get_item_id(c, names[i], &bid) || bid >= 0)
			return fail(x, -ENOENT, "no bucket named '%s'", names[i]);
		if (t < best) {
			best = t;
			parent = bid;
		}
	}
	if (crush_edit(x, &p))
		return -ENOMEM;
	err = crush_move_bucket(p->crush, id, parent);
	if (err) {
		osdmap_put(p);
		return fail(x, err, "cannot move '%s': %s", x->args[0], cairn_strerror(err));
	}
	if (commit(x, p))
		return -EIO;
	say(x, "moved item %s", x->args[0]);
	x->json = epoch_json(x);
	return 0;
}

static int crush_add_or_set(struct cmd_ctx *x, bool set)
{
	const struct crush_map *c = x->mon->map->crush;
	const char *types[16], *names[16];
	int32_t id;
	uint32_t w;
	char nm[32];
	struct osdmap *p;
	int err;

	if (x->nargs - 2 > 16)
		return fail(x, -E2BIG, "too many location arguments");
	if (parse_osd_id(x->args[0], &id))
		return fail(x, -EINVAL, "invalid OSD id '%s'", x->args[0]);
	if (parse_weight(x->args[1], 65535.0, &w))
		return fail(x, -ERANGE, "weight '%s' out of range", x->args[1]);
	if (x->nargs < 3)
		return fail(x, -EINVAL, "expected a location (TYPE=NAME ...)");
	if (parse_loc(x, x->args + 2, x->nargs - 2, types, names))
		return -EINVAL;
	if (!set && crush_item_in_tree(c, id))
		return fail(x, -EEXIST, "osd.%d is already in the crush map (use 'osd crush set')",
			    id);
	if (crush_edit(x, &p))
		return -ENOMEM;
	if (set && crush_item_in_tree(p->crush, id)) {
		/* take it out everywhere, then insert at the new location */
		int par;
		while (crush_bucket_parent(p->crush, id, &par) == 0)
			if (crush_bucket_remove_item(p->crush, par, id))
				break;
	}
	snprintf(nm, sizeof(nm), "osd.%d", id);
	err = crush_insert_item(p->crush, id, w, nm, types, names, x->nargs - 2);
	if (err) {
		osdmap_put(p);
		return fail(x, err, "cannot place osd.%d: %s", id, cairn_strerror(err));
	}
	if (commit(x, p))
		return -EIO;
	say(x, "%s item id %d name 'osd.%d' weight %.5f in crush map", set ? "set" : "add", id,
	    id, w2d(w));
	x->json = epoch_json(x);
	return 0;
}

static int cmd_crush_add(struct cmd_ctx *x) { return crush_add_or_set(x, false); }
static int cmd_crush_set(struct cmd_ctx *x) { return crush_add_or_set(x, true); }

static int cmd_crush_reweight(struct cmd_ctx *x)
{
	int id, err;
	uint32_t w;
	struct osdmap *p;

	if (item_by_name(x->mon->map->crush, x->args[0], &id) ||
	    !crush_item_in_tree(x->mon->map->crush, id))
		return fail(x, -ENOENT, "device '%s' not in the crush map", x->args[0]);
	if (id < 0)
		return fail(x, -EINVAL, "'%s' is a bucket; reweight its devices", x->args[0]);
	if (parse_weight(x->args[1], 65535.0, &w))
		return fail(x, -ERANGE, "weight '%s' out of range", x->args[1]);
	if (crush_edit(x, &p))
		return -ENOMEM;
	err = crush_reweight_item(p->crush, id, w);
	if (err) {
		osdmap_put(p);
		return fail(x, err, "cannot reweight '%s': %s", x->args[0], cairn_strerror(err));
	}
	if (commit(x, p))
		return -EIO;
	say(x, "reweighted item id %d name '%s' to %.5f in crush map", id, x->args[0], w2d(w));
	x->json = epoch_json(x);
	return 0;
}

static int cmd_crush_rm(struct cmd_ctx *x)
{
	int id, anc = 0, err;
	struct osdmap *p;

	if (item_by_name(x->mon->map->crush, x->args[0], &id))
		return fail(x, -ENOENT, "no item named '%s'", x->args[0]);
	if (x->nargs > 1 && (crush_get_item_id(x->mon->map->crush, x->args[1], &anc) || anc >= 0))
		return fail(x, -ENOENT, "no bucket named '%s'", x->args[1]);
	if (crush_edit(x, &p))
		return -ENOMEM;
	err = x->nargs > 1 ? crush_bucket_remove_item(p->crush, anc, id)
			   : crush_remove_item(p->crush, id);
	if (err) {
		osdmap_put(p);
		return fail(x, err, "cannot remove '%s': %s", x->args[0], cairn_strerror(err));
	}
	if (commit(x, p))
		return -EIO;
	say(x, "removed item id %d name '%s' from crush map", id, x->args[0]);
	x->json = epoch_json(x);
	return 0;
}

static int device_class_edit(struct cmd_ctx *x, const char *cls, char **ids, int n)
{
	int32_t v[64];
	struct osdmap *p;
	int err;

	if (n < 1 || n > 64)
		return fail(x, -EINVAL, "expected 1..64 OSD ids");
	for (int i = 0; i < n; i++) {
		if (parse_osd_id(ids[i], &v[i]))
			return fail(x, -EINVAL, "invalid OSD id '%s'", ids[i]);
		if (!crush_device_exists(x->mon->map->crush, v[i]))
			return fail(x, -ENOENT, "osd.%d is not in the crush map", v[i]);
	}
	if (cls && (!cls[0] || strlen(cls) > 64 || strchr(cls, '~')))
		return fail(x, -EINVAL, "invalid device class '%s'", cls);
	if (crush_edit(x, &p))
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		err = crush_set_device_class(p->crush, v[i], cls);
		if (err) {
			osdmap_put(p);
			return fail(x, err, "cannot set the class of osd.%d: %s", v[i],
				    cairn_strerror(err));
		}
	}
	if (commit(x, p))
		return -EIO;
	if (cls)
		say(x, "set device class of %d osd(s) to '%s'", n, cls);
	else
		say(x, "removed the device class of %d osd(s)", n);
	x->json = epoch_json(x);
	return 0;
}

static int cmd_crush_set_class(struct cmd_ctx *x)
{
	return device_class_edit(x, x->args[0], x->args + 1, x->nargs - 1);
}

static int cmd_crush_rm_class(struct cmd_ctx *x)
{
	return device_class_edit(x, NULL, x->args, x->nargs);
}

static int cmd_crush_class_ls(struct cmd_ctx *x)
{
	const struct crush_map *c = x->mon->map->crush;
	json_t *a = json_array();

	for (int id = 0; id < 256; id++) {
		const char *n = crush_get_class_name(c, id);
		if (n)
			json_array_append_new(a, json_string(n));
	}
	x->json = a;
	return 0;
}

static int rule_create(struct cmd_ctx *x, bool erasure)
{
	int r, err;
	struct osdmap *p;
	const char *cls = x->nargs > 3 ? x->args[3] : NULL;

	if (crush_get_rule_id(x->mon->map->crush, x->args[0]) >= 0) {
		say(x, "rule %s already exists", x->args[0]);
		x->json = epoch_json(x);
		return 0;
	}
	if (crush_edit(x, &p))
		return -ENOMEM;
	err = erasure ? crush_rule_create_erasure(p->crush, x->args[0], x->args[1], x->args[2], cls,
						  &r)
		      : crush_rule_create_replicated(p->crush, x->args[0], x->args[1], x->args[2],
						     cls, &r);
	if (err) {
		osdmap_put(p);
		return fail(x, err, "cannot create rule '%s': %s", x->args[0], cairn_strerror(err));
	}
	if (commit(x, p))
		return -EIO;
	say(x, "created rule %s id %d", x->args[0], r);
	x->json = epoch_json(x);
	json_object_set_new(x->json, "rule_id", json_integer(r));
	return 0;
}

static int cmd_rule_create_rep(struct cmd_ctx *x) { return rule_create(x, false); }
static int cmd_rule_create_ec(struct cmd_ctx *x) { return rule_create(x, true); }

static int cmd_rule_ls(struct cmd_ctx *x)
{
	const struct crush_map *c = x->mon->map->crush;
	json_t *a = json_array();

	for (int r = 0; r < crush_max_rules(c); r++)
		if (crush_rule_exists(c, r)) {
			const char *n = crush_get_rule_name(c, r);
			json_array_append_new(a, json_string(n ? n : ""));
		}
	x->json = a;
	return 0;
}

static int cmd_rule_dump(struct cmd_ctx *x)
{
	const struct crush_map *c = x->mon->map->crush;

	if (x->nargs) {
		int r = crush_get_rule_id(c, x->args[0]);
		if (r < 0)
			return fail(x, -ENOENT, "unknown crush rule '%s'", x->args[0]);
		x->json = rule_json(c, r);
		return 0;
	}
	x->json = json_array();
	for (int r = 0; r < crush_max_rules(c); r++)
		if (crush_rule_exists(c, r))
			json_array_append_new(x->json, rule_json(c, r));
	return 0;
}

static int cmd_rule_rm(struct cmd_ctx *x)
{
	int r = crush_get_rule_id(x->mon->map->crush, x->args[0]), err;
	const struct pool_info *pi;
	struct osdmap *p;

	if (r < 0)
		return fail(x, -ENOENT, "unknown crush rule '%s'", x->args[0]);
	osdmap_for_each_pool(x->mon->map, pi)
		if (pi->crush_rule == r)
			return fail(x, -EBUSY, "rule '%s' is used by pool '%s'", x->args[0], pi->name);
	if (crush_edit(x, &p))
		return -ENOMEM;
	err = crush_remove_rule(p->crush, r);
	if (err) {
		osdmap_put(p);
		return fail(x, err, "cannot remove rule: %s", cairn_strerror(err));
	}
	if (commit(x, p))
		return -EIO;
	say(x, "removed rule %s", x->args[0]);
	x->json = epoch_json(x);
	return 0;
}

static int cmd_getcrushmap(struct cmd_ctx *x)
{
	struct cbuf b;
	size_t len = 0;

	cbuf_init(&b);
	if (crush_encode(x->mon->map->crush, &b)) {
		cbuf_free(&b);
		return fail(x, -ENOMEM, "cannot encode the crush map");
	}
	x->bin = cbuf_steal(&b, &len);
	x->binlen = len;
	say(x, "got crush map from osdmap epoch %u", x->mon->map->epoch);
	return 0;
}

static int cmd_getmap(struct cmd_ctx *x)
{
	struct cbuf b;
	size_t len = 0;
	int64_t e = x->mon->map->epoch;

	if (x->nargs && (parse_int64(x->args[0], &e) || e < 1 || e > x->mon->map->epoch))
		return fail(x, -ENOENT, "no osdmap epoch '%s'", x->args[0]);
	if (e == x->mon->map->epoch) {
		cbuf_init(&b);
		if (osdmap_encode(x->mon->map, &b)) {
			cbuf_free(&b);
			return fail(x, -ENOMEM, "cannot encode the map");
		}
		x->bin = cbuf_steal(&b, &len);
		x->binlen = len;
	} else {
		void *v;
		int err = mon_store_get_full(x->mon->store, (uint32_t)e, &v, &len);
		if (err)
			return fail(x, err, "cannot read osdmap e%lld: %s", (long long)e,
				    cairn_strerror(err));
		x->bin = v;
		x->binlen = len;
	}
	say(x, "got osdmap epoch %lld", (long long)e);
	return 0;
}

static int cmd_setcrushmap(struct cmd_ctx *x)
{
	const struct mon_command *cmd = x->cmd;
	struct crush_map *c = NULL;
	const struct pool_info *pi;
	struct osdmap *p;
	int err;

	if (!cmd->inlen)
		return fail(x, -EINVAL, "no crush map given (-i FILE)");
	if (crush_is_ceph_binary(cmd->in, cmd->inlen)) {
		err = crush_decode_ceph(cmd->in, cmd->inlen, &c);
	} else {
		struct cdec d;
		cdec_init(&d, cmd->in, cmd->inlen);
		err = crush_decode(&d, &c);
	}
	if (err || !c)
		return fail(x, err ? err : -EBADMSG, "cannot decode the crush map: %s",
			    cairn_strerror(err ? err : -EBADMSG));
	osdmap_for_each_pool(x->mon->map, pi) {
		if (!crush_rule_exists(c, pi->crush_rule)) {
			crush_destroy(c);
			return fail(x, -EINVAL, "pool '%s' uses crush rule %d, missing in the new map",
				    pi->name, pi->crush_rule);
		}
	}
	p = mon_pending(x->mon);
	if (!p) {
		crush_destroy(c);
		return fail(x, -ENOMEM, "out of memory");
	}
	osdmap_set_crush(p, c);
	if (commit(x, p))
		return -EIO;
	say(x, "set crush map (osdmap epoch %u)", x->mon->map->epoch);
	x->json = epoch_json(x);
	return 0;
}

/* ---- pools ---- */

static int rule_arg(const struct crush_map *c, const char *s, int *r)
{
	int64_t v;

	if (!parse_int64(s, &v)) {
		if (v < 0 || v >= CRUSH_MAX_RULES || !crush_rule_exists(c, (int)v))
			return -ENOENT;
		*r = (int)v;
		return 0;
	}
	*r = crush_get_rule_id(c, s);
	return *r >= 0 ? 0 : -ENOENT;
}

static int pool_by_name(struct cmd_ctx *x, const char *name, const struct pool_info **p)
{
	*p = osdmap_lookup_pool_by_name(x->mon->map, name);
	return *p ? 0 : fail(x, -ENOENT, "unrecognized pool '%s'", name);
}

static int cmd_pool_create(struct cmd_ctx *x)
{
	const struct osdmap *m = x->mon->map;
	int64_t pg_num, size = conf_int(x->mon->conf, "mon_default_pool_size"), v;
	int64_t pgp_num = -1, min_size = conf_int(x->mon->conf, "mon_default_pool_min_size");
	int64_t maxpg = conf_int(x->mon->conf, "mon_max_pg_per_pool");
	int rule = -1;
	uint8_t hash = POOL_HASH_XXH3, type = POOL_TYPE_REPLICATED;
	int ec_k = 0, ec_m = 0;
	struct pool_info pi;
	struct osdmap *p;
	int err, npos = 0;

	if (strlen(x->args[0]) >= OSDMAP_NAME_MAX || !x->args[0][0])
		return fail(x, -ENAMETOOLONG, "pool name must be 1..%d bytes", OSDMAP_NAME_MAX - 1);
	if (osdmap_lookup_pool_by_name(m, x->args[0])) {
		say(x, "pool '%s' already exists", x->args[0]);
		x->json = epoch_json(x);
		return 0;
	}
	if (parse_int64(x->args[1], &pg_num))
		return fail(x, -EINVAL, "pg_num '%s' is not a number", x->args[1]);
	if (pg_num < 1 || pg_num > maxpg)
		return fail(x, -ERANGE, "pg_num '%s' out of range [1, %lld]", x->args[1],
			    (long long)maxpg);
	for (int i = 2; i < x->nargs; i++) {
		const char *a = x->args[i];
		const char *val = i + 1 < x->nargs ? x->args[i + 1] : NULL;

		if (!strcmp(a, "--rule") || !strcmp(a, "--size") || !strcmp(a, "--min-size") ||
		    !strcmp(a, "--pgp-num") || !strcmp(a, "--hash")) {
			if (!val)
				return fail(x, -EINVAL, "%s needs a value", a);
			i++;
			if (!strcmp(a, "--rule")) {
				if (rule_arg(m->crush, val, &rule))
					return fail(x, -ENOENT, "unknown crush rule '%s'", val);
			} else if (!strcmp(a, "--hash")) {
				if (!strcmp(val, "rjenkins"))
					hash = POOL_HASH_RJENKINS;
				else if (!strcmp(val, "xxh3"))
					hash = POOL_HASH_XXH3;
				else
					return fail(x, -EINVAL, "unknown hash '%s' (rjenkins, xxh3)", val);
			} else {
				if (parse_int64(val, &v))
					return fail(x, -EINVAL, "bad number '%s' for %s", val, a);
				if (!strcmp(a, "--size"))
					size = v;
				else if (!strcmp(a, "--min-size"))
					min_size = v;
				else
					pgp_num = v;
			}
		} else if (!strcmp(a, "--erasure")) {
			int64_t k, mm;
			if (i + 2 >= x->nargs || parse_int64(x->args[i + 1], &k) ||
			    parse_int64(x->args[i + 2], &mm) || k < 1 || mm < 1 ||
			    k + mm > CAIRN_MAX_REPLICAS)
				return fail(x, -EINVAL, "--erasure K M with 1 <= K, M and K+M <= %d",
					    CAIRN_MAX_REPLICAS);
			ec_k = (int)k;
			ec_m = (int)mm;
			type = POOL_TYPE_ERASURE;
			i += 2;
		} else if (a[0] != '-' && npos == 0) {
			if (parse_int64(a, &size))
				return fail(x, -EINVAL, "bad size '%s'", a);
			npos++;
		} else {
			return fail(x, -EINVAL, "unexpected argument '%s'", a);
		}
	}
	if (type == POOL_TYPE_ERASURE)
		size = ec_k + ec_m;
	if (size < 1 || size > CAIRN_MAX_REPLICAS)
		return fail(x, -ERANGE, "size %lld out of range [1, %d]", (long long)size,
			    CAIRN_MAX_REPLICAS);
	if (min_size == 0)
		min_size = type == POOL_TYPE_ERASURE ? ec_k + (ec_m > 1 ? 1 : 0) : size - size / 2;
	if (min_size < 1 || min_size > size)
		return fail(x, -ERANGE, "min_size %lld out of range [1, %lld]", (long long)min_size,
			    (long long)size);
	if (pgp_num < 0)
		pgp_num = pg_num;
	if (pgp_num < 1 || pgp_num > pg_num)
		return fail(x, -ERANGE, "pgp_num %lld out of range [1, pg_num]", (long long)pgp_num);
	if (rule < 0) {
		rule = crush_get_rule_id(m->crush, type == POOL_TYPE_ERASURE ? "erasure_rule"
									  : "replicated_rule");
		if (rule < 0 && type == POOL_TYPE_REPLICATED && crush_rule_exists(m->crush, 0))
			rule = 0;
		if (rule < 0 && type == POOL_TYPE_REPLICATED)
			return fail(x, -ENOENT, "no default crush rule; pass --rule");
	}
	p = mon_pending(x->mon);
	if (!p)
		return fail(x, -ENOMEM, "out of memory");
	if (rule < 0) {
		/* like Ceph's default EC profile: an indep rule over hosts under "default" */
		err = crush_rule_create_erasure(p->crush, "erasure_rule", "default", "host", NULL,
						&rule);
		if (err) {
			osdmap_put(p);
			return fail(x, err, "cannot create erasure_rule: %s; pass --rule",
				    cairn_strerror(err));
		}
	}
	memset(&pi, 0, sizeof(pi));
	pi.id = p->pool_max + 1;
	snprintf(pi.name, sizeof(pi.name), "%s", x->args[0]);
	pi.type = type;
	pi.size = (uint8_t)size;
	pi.min_size = (uint8_t)min_size;
	pi.object_hash = hash;
	pi.pg_num = (uint32_t)pg_num;
	pi.pgp_num = (uint32_t)pgp_num;
	pi.crush_rule = rule;
	pi.last_change = p->epoch;
	pi.ec_k = (uint8_t)ec_k;
	pi.ec_m = (uint8_t)ec_m;
	pi.stripe_unit = type == POOL_TYPE_ERASURE ? 4096 : 0;
	err = osdmap_pool_set(p, &pi);
	if (err) {
		osdmap_put(p);
		return fail(x, err, "cannot create pool: %s", cairn_strerror(err));
	}
	p->pool_max = pi.id;
	if (commit(x, p))
		return -EIO;
	say(x, "pool '%s' created", pi.name);
	x->json = epoch_json(x);
	json_object_set_new(x->json, "pool_id", json_integer(pi.id));
	return 0;
}

static int cmd_pool_ls(struct cmd_ctx *x)
{
	const struct pool_info *p;
	bool detail = x->nargs > 0 && !strcmp(x->args[0], "detail");

	if (x->nargs > 0 && !detail)
		return fail(x, -EINVAL, "unknown argument '%s' (expected 'detail')", x->args[0]);
	x->json = json_array();
	osdmap_for_each_pool(x->mon->map, p)
		json_array_append_new(x->json, detail ? pool_json(x, p) : json_string(p->name));
	return 0;
}

static const char *const pool_keys[] = {"size", "min_size", "pg_num", "pgp_num", "crush_rule",
					"object_hash", "type", NULL};

static int cmd_pool_get(struct cmd_ctx *x)
{
	const struct pool_info *p;
	json_t *full;
	const char *key = x->nargs > 1 ? x->args[1] : "all";

	if (pool_by_name(x, x->args[0], &p))
		return -ENOENT;
	full = pool_json(x, p);
	if (!strcmp(key, "all")) {
		x->json = full;
		return 0;
	}
	for (int i = 0; pool_keys[i]; i++) {
		if (strcmp(pool_keys[i], key))
			continue;
		x->json = json_object();
		json_object_set_new(x->json, "pool", json_string(p->name));
		json_object_set_new(x->json, "pool_id", json_integer(p->id));
		json_object_set(x->json, key, json_object_get(full, key));
		json_decref(full);
		return 0;
	}
	json_decref(full);
	return fail(x, -EINVAL, "unknown pool property '%s'", key);
}

static int cmd_pool_set(struct cmd_ctx *x)
{
	const struct pool_info *cur;
	struct pool_info np;
	const char *key = x->args[1], *val = x->args[2];
	int64_t v = 0;
	int rule;
	struct osdmap *p;
	int err;

	if (pool_by_name(x, x->args[0], &cur))
		return -ENOENT;
	np = *cur;
	if (strcmp(key, "crush_rule") && strcmp(key, "object_hash") && parse_int64(val, &v))
		return fail(x, -EINVAL, "value '%s' is not a number", val);
	if (!strcmp(key, "size")) {
		if (cur->type == POOL_TYPE_ERASURE)
			return fail(x, -EINVAL, "cannot change the size of an erasure pool");
		if (v < 1 || v > CAIRN_MAX_REPLICAS)
			return fail(x, -ERANGE, "size %lld out of range [1, %d]", (long long)v,
				    CAIRN_MAX_REPLICAS);
		np.size = (uint8_t)v;
		if (np.min_size > np.size)
			np.min_size = np.size;
	} else if (!strcmp(key, "min_size")) {
		if (v < 1 || v > cur->size)
			return fail(x, -ERANGE, "min_size %lld out of range [1, %u]", (long long)v,
				    cur->size);
		np.min_size = (uint8_t)v;
	} else if (!strcmp(key, "pg_num")) {
		int64_t maxpg = conf_int(x->mon->conf, "mon_max_pg_per_pool");
		if (v < cur->pg_num)
			return fail(x, -EINVAL, "decreasing pg_num (PG merge) is not supported");
		if (v > maxpg)
			return fail(x, -ERANGE, "pg_num %lld out of range [%u, %lld]", (long long)v,
				    cur->pg_num, (long long)maxpg);
		np.pg_num = (uint32_t)v;
	} else if (!strcmp(key, "pgp_num")) {
		if (v < 1 || v > cur->pg_num)
			return fail(x, -ERANGE, "pgp_num %lld out of range [1, %u]", (long long)v,
				    cur->pg_num);
		np.pgp_num = (uint32_t)v;
	} else if (!strcmp(key, "crush_rule")) {
		if (rule_arg(x->mon->map->crush, val, &rule))
			return fail(x, -ENOENT, "unknown crush rule '%s'", val);
		np.crush_rule = rule;
	} else if (!strcmp(key, "object_hash")) {
		if (!strcmp(val, "rjenkins"))
			np.object_hash = POOL_HASH_RJENKINS;
		else if (!strcmp(val, "xxh3"))
			np.object_hash = POOL_HASH_XXH3;
		else
			return fail(x, -EINVAL, "unknown hash '%s' (rjenkins, xxh3)", val);
	} else {
		return fail(x, -EINVAL, "unknown pool property '%s'", key);
	}
	p = mon_pending(x->mon);
	if (!p)
		return fail(x, -ENOMEM, "out of memory");
	np.last_change = p->epoch;
	err = osdmap_pool_set(p, &np);
	if (err) {
		osdmap_put(p);
		return fail(x, err, "cannot set: %s", cairn_strerror(err));
	}
	/* last_change alone would make a no-op look like a change */
	if (np.size == cur->size && np.min_size == cur->min_size && np.pg_num == cur->pg_num &&
	    np.pgp_num == cur->pgp_num && np.crush_rule == cur->crush_rule &&
	    np.object_hash == cur->object_hash) {
		np.last_change = cur->last_change;
		osdmap_pool_set(p, &np);
	}
	if (commit(x, p))
		return -EIO;
	say(x, "set pool %lld %s to %s", (long long)np.id, key, val);
	x->json = epoch_json(x);
	return 0;
}

static int cmd_pool_rm(struct cmd_ctx *x)
{
	const struct pool_info *cur;
	struct osdmap *p;
	int64_t id;

	if (pool_by_name(x, x->args[0], &cur))
		return -ENOENT;
	if (x->nargs > 1 && strcmp(x->args[1], x->args[0]))
		return fail(x, -EINVAL, "pool names do not match");
	id = cur->id;
	p = mon_pending(x->mon);
	if (!p)
		return fail(x, -ENOMEM, "out of memory");
	osdmap_pool_remove(p, id);
	if (commit(x, p))
		return -EIO;
	say(x, "pool '%s' removed", x->args[0]);
	x->json = epoch_json(x);
	return 0;
}

static int cmd_pool_rename(struct cmd_ctx *x)
{
	const struct pool_info *cur;
	struct pool_info np;
	struct osdmap *p;
	int err;

	if (pool_by_name(x, x->args[0], &cur))
		return -ENOENT;
	if (strlen(x->args[1]) >= OSDMAP_NAME_MAX || !x->args[1][0])
		return fail(x, -ENAMETOOLONG, "pool name must be 1..%d bytes", OSDMAP_NAME_MAX - 1);
	if (osdmap_lookup_pool_by_name(x->mon->map, x->args[1]))
		return fail(x, -EEXIST, "pool '%s' already exists", x->args[1]);
	np = *cur;
	snprintf(np.name, sizeof(np.name), "%s", x->args[1]);
	p = mon_pending(x->mon);
	if (!p)
		return fail(x, -ENOMEM, "out of memory");
	np.last_change = p->epoch;
	err = osdmap_pool_set(p, &np);
	if (err) {
		osdmap_put(p);
		return fail(x, err, "cannot rename: %s", cairn_strerror(err));
	}
	if (commit(x, p))
		return -EIO;
	say(x, "pool '%s' renamed to '%s'", x->args[0], x->args[1]);
	x->json = epoch_json(x);
	return 0;
}

/* ---- placement queries ---- */

static json_t *ids_json(const int32_t *v, int n)
{
	json_t *a = json_array();

	for (int i = 0; i < n; i++)
		json_array_append_new(a, json_integer(v[i]));
	return a;
}

static void placement_json(const struct osdmap *m, struct pg_id pg, json_t *o)
{
	int32_t up[CAIRN_MAX_REPLICAS], act[CAIRN_MAX_REPLICAS], upp = -1, actp = -1;
	int nup = 0, nact = 0;
	char id[PG_ID_STR_MAX];

	osdmap_pg_to_up_acting(m, pg, up, &nup, &upp, act, &nact, &actp);
	json_object_set_new(o, "pgid", json_string(pg_id_str(&pg, id, sizeof(id))));
	json_object_set_new(o, "up", ids_json(up, nup));
	json_object_set_new(o, "up_primary", json_integer(upp));
	json_object_set_new(o, "acting", ids_json(act, nact));
	json_object_set_new(o, "acting_primary", json_integer(actp));
}

static int cmd_osd_map(struct cmd_ctx *x)
{
	const struct osdmap *m = x->mon->map;
	const struct pool_info *p;
	struct pg_id pg;
	char raw[48];

	if (pool_by_name(x, x->args[0], &p))
		return -ENOENT;
	osdmap_object_to_pg(m, p->id, x->args[1], strlen(x->args[1]), &pg);
	x->json = json_object();
	json_object_set_new(x->json, "epoch", json_integer(m->epoch));
	json_object_set_new(x->json, "pool", json_string(p->name));
	json_object_set_new(x->json, "pool_id", json_integer(p->id));
	json_object_set_new(x->json, "objname", json_string(x->args[1]));
	snprintf(raw, sizeof(raw), "%lld.%x", (long long)p->id,
		 osdmap_object_hash(p, x->args[1], strlen(x->args[1])));
	json_object_set_new(x->json, "raw_pgid", json_string(raw));
	placement_json(m, pg, x->json);
	return 0;
}

static int cmd_pg_map(struct cmd_ctx *x)
{
	struct pg_id pg;

	if (pg_id_parse(x->args[0], &pg))
		return fail(x, -EINVAL, "invalid pgid '%s' (expected POOL.PSHEX)", x->args[0]);
	if (!osdmap_pg_exists(x->mon->map, pg))
		return fail(x, -ENOENT, "pg '%s' does not exist", x->args[0]);
	x->json = json_object();
	json_object_set_new(x->json, "epoch", json_integer(x->mon->map->epoch));
	placement_json(x->mon->map, pg, x->json);
	{
		const struct mon_pg_stat *st = pgmap_get(x->mon->pgmap, pg, NULL);
		char s[512];
		pg_state_str(st ? st->state : PG_STATE_UNKNOWN, s, sizeof(s));
		json_object_set_new(x->json, "state", json_string(s));
	}
	return 0;
}

static int cmd_pg_dump(struct cmd_ctx *x)
{
	x->json = pgmap_pg_dump_json(x->mon->pgmap, x->mon->map,
				     conf_double(x->mon->conf, "mon_pg_stale_timeout"));
	return 0;
}

static int cmd_pg_stat(struct cmd_ctx *x)
{
	x->json = pgmap_pg_stat_json(x->mon->pgmap, x->mon->map,
				     conf_double(x->mon->conf, "mon_pg_stale_timeout"));
	return 0;
}

static int cmd_mon_stat(struct cmd_ctx *x)
{
	json_t *o = json_object(), *mons = json_array(), *me = json_object(), *q = json_array();
	char fsid[37];

	uuid_str(x->mon->map->fsid, fsid);
	json_object_set_new(me, "rank", json_integer(0));
	json_object_set_new(me, "name", json_string("a"));
	json_object_set_new(me, "addr", json_string(msgr_addr(x->mon->msgr)));
	json_array_append_new(mons, me);
	json_array_append_new(q, json_integer(0));
	json_object_set_new(o, "fsid", json_string(fsid));
	json_object_set_new(o, "epoch", json_integer(1));
	json_object_set_new(o, "num_mons", json_integer(1));
	json_object_set_new(o, "mons", mons);
	json_object_set_new(o, "quorum", q);
	json_object_set_new(o, "leader", json_string("a"));
	json_object_set_new(o, "osdmap_first_committed", json_integer(x->mon->first_epoch));
	json_object_set_new(o, "osdmap_last_committed", json_integer(x->mon->map->epoch));
	json_object_set_new(o, "commits", json_integer((json_int_t)x->mon->ncommits));
	json_object_set_new(o, "uptime_seconds",
			    json_real((double)(now_mono_ns() - x->mon->start_ns) / 1e9));
	x->json = o;
	return 0;
}

/* ---- table ---- */

struct cmd_def {
	const char *words[5];
	int min_args, max_args;
	int (*fn)(struct cmd_ctx *x);
};

static const struct cmd_def cmds[] = {
	{{"status"}, 0, 0, cmd_status},
	{{"-s"}, 0, 0, cmd_status},
	{{"health"}, 0, 1, cmd_health},
	{{"osd", "tree"}, 0, 0, cmd_osd_tree},
	{{"osd", "dump"}, 0, 0, cmd_osd_dump},
	{{"osd", "stat"}, 0, 0, cmd_osd_stat},
	{{"osd", "df"}, 0, 0, cmd_osd_df},
	{{"osd", "in"}, 1, 64, cmd_osd_in},
	{{"osd", "out"}, 1, 64, cmd_osd_out},
	{{"osd", "down"}, 1, 64, cmd_osd_down},
	{{"osd", "rm"}, 1, 64, cmd_osd_rm},
	{{"osd", "set"}, 1, 1, cmd_osd_set},
	{{"osd", "unset"}, 1, 1, cmd_osd_unset},
	{{"osd", "reweight"}, 2, 2, cmd_osd_reweight},
	{{"osd", "crush", "add-bucket"}, 2, 2, cmd_crush_add_bucket},
	{{"osd", "crush", "move"}, 2, 17, cmd_crush_move},
	{{"osd", "crush", "add"}, 3, 18, cmd_crush_add},
	{{"osd", "crush", "set"}, 3, 18, cmd_crush_set},
	{{"osd", "crush", "reweight"}, 2, 2, cmd_crush_reweight},
	{{"osd", "crush", "rm"}, 1, 2, cmd_crush_rm},
	{{"osd", "crush", "remove"}, 1, 2, cmd_crush_rm},
	{{"osd", "crush", "tree"}, 0, 0, cmd_osd_tree},
	{{"osd", "crush", "set-device-class"}, 2, 65, cmd_crush_set_class},
	{{"osd", "crush", "rm-device-class"}, 1, 64, cmd_crush_rm_class},
	{{"osd", "crush", "class", "ls"}, 0, 0, cmd_crush_class_ls},
	{{"osd", "crush", "rule", "create-replicated"}, 3, 4, cmd_rule_create_rep},
	{{"osd", "crush", "rule", "create-erasure"}, 3, 4, cmd_rule_create_ec},
	{{"osd", "crush", "rule", "ls"}, 0, 0, cmd_rule_ls},
	{{"osd", "crush", "rule", "list"}, 0, 0, cmd_rule_ls},
	{{"osd", "crush", "rule", "dump"}, 0, 1, cmd_rule_dump},
	{{"osd", "crush", "rule", "rm"}, 1, 1, cmd_rule_rm},
	{{"osd", "getcrushmap"}, 0, 0, cmd_getcrushmap},
	{{"osd", "setcrushmap"}, 0, 0, cmd_setcrushmap},
	{{"osd", "getmap"}, 0, 1, cmd_getmap},
	{{"osd", "pool", "create"}, 2, 12, cmd_pool_create},
	{{"osd", "pool", "ls"}, 0, 1, cmd_pool_ls},
	{{"osd", "pool", "get"}, 1, 2, cmd_pool_get},
	{{"osd", "pool", "set"}, 3, 3, cmd_pool_set},
	{{"osd", "pool", "rm"}, 1, 3, cmd_pool_rm},
	{{"osd", "pool", "delete"}, 1, 3, cmd_pool_rm},
	{{"osd", "pool", "rename"}, 2, 2, cmd_pool_rename},
	{{"osd", "map"}, 2, 2, cmd_osd_map},
	{{"pg", "dump"}, 0, 0, cmd_pg_dump},
	{{"pg", "stat"}, 0, 0, cmd_pg_stat},
	{{"pg", "map"}, 1, 1, cmd_pg_map},
	{{"mon", "stat"}, 0, 0, cmd_mon_stat},
};

int mon_command_run(struct mon *mon, const struct mon_command *cmd, char **status, char **out,
		    size_t *outlen)
{
	const struct cmd_def *best = NULL;
	int bestn = 0, rc;
	struct cmd_ctx x;

	*status = NULL;
	*out = NULL;
	*outlen = 0;
	memset(&x, 0, sizeof(x));
	x.mon = mon;
	x.cmd = cmd;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		int n = 0;
		while (n < 5 && cmds[i].words[n] && (uint32_t)n < cmd->argc &&
		       !strcmp(cmds[i].words[n], cmd->argv[n]))
			n++;
		if ((n == 5 || !cmds[i].words[n]) && n > bestn) {
			best = &cmds[i];
			bestn = n;
		}
	}
	if (!best) {
		char joined[256] = "";
		size_t l = 0;
		for (uint32_t i = 0; i < cmd->argc && l < sizeof(joined); i++)
			l += (size_t)snprintf(joined + l, sizeof(joined) - l, "%s%s", i ? " " : "",
					      cmd->argv[i]);
		rc = fail(&x, -EINVAL, "unknown command '%s'", joined);
		goto out;
	}
	x.args = cmd->argv + bestn;
	x.nargs = (int)cmd->argc - bestn;
	if (x.nargs < best->min_args || x.nargs > best->max_args) {
		rc = fail(&x, -EINVAL, "wrong number of arguments for '%s%s%s%s%s%s%s%s' (%d..%d)",
			  best->words[0], best->words[1] ? " " : "",
			  best->words[1] ? best->words[1] : "", best->words[2] ? " " : "",
			  best->words[2] ? best->words[2] : "", best->words[3] ? " " : "",
			  best->words[3] ? best->words[3] : "", "", best->min_args, best->max_args);
		goto out;
	}
	rc = best->fn(&x);
out:
	if (x.json) {
		*out = json_dumps(x.json, JSON_COMPACT | JSON_ENCODE_ANY);
		*outlen = *out ? strlen(*out) : 0;
		json_decref(x.json);
	} else if (x.bin) {
		*out = (char *)x.bin;
		*outlen = x.binlen;
	}
	*status = x.status;
	return rc;
}
