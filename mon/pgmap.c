/*
 * pgmap — the monitor's view of PG states, built from OSD pg-stats reports, and the
 * cluster health derived from it and from the osdmap.
 *
 * Per pool, one entry per PG (index = ps) holds the latest report of its primary and when
 * it arrived. Not persisted: after a mon restart PGs show "unknown" until the OSDs report
 * again (they report periodically). A PG whose last report is older than
 * mon_pg_stale_timeout, or whose reporting primary is down in the current map, shows
 * "stale" on top of its last state. Recovery progress: objects/bytes left are the sum of
 * the PGs' latest counters; the rate comes from what was *done*: each report adds the growth
 * of a PG's recovery_objects/bytes_done (its primary's counters since that PG's recovery
 * started; a reset or a new primary counts from 0) to two cluster-wide monotonic counters,
 * sampled at most every RATE_SAMPLE_NS. rate = growth of those counters since the last
 * sample before recovery progress began (within RATE_WINDOW_NS); ETA = objects left / rate.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/pg_state.h"
#include "common/util.h"
#include "mon/mon.h"

struct pg_entry {
	struct mon_pg_stat st;
	uint64_t stamp_ns; /* monotonic; 0 = never reported */
	int32_t reporter;
	/* the done counters last added to the cluster's (done_add) and whose they were */
	bool done_set;
	int32_t done_osd;
	uint32_t done_epoch;
	uint64_t done_obj, done_bytes;
};

struct pool_pgs {
	int64_t pool;
	uint32_t pg_num;
	struct pg_entry *e;
};

struct osd_stat_entry {
	struct mon_osd_stat st;
	uint64_t stamp_ns;
};

#define RATE_SAMPLES 64
#define RATE_SAMPLE_NS 500000000ull   /* at most one sample per half second */
#define RATE_WINDOW_NS 30000000000ull /* the rate looks back at most this far */
struct rate_sample {
	uint64_t t_ns;
	uint64_t objects_done, bytes_done; /* the monotonic counters then */
};

struct pgmap {
	struct pool_pgs *pools;
	uint32_t npools;
	struct osd_stat_entry *osds;
	int32_t nosds;
	struct rate_sample samples[RATE_SAMPLES]; /* ring, oldest at sample_head once full */
	unsigned nsamples, sample_head;
	uint64_t objects_done, bytes_done;        /* recovered since the mon started */
};

struct pgmap *pgmap_create(void)
{
	return calloc(1, sizeof(struct pgmap));
}

void pgmap_destroy(struct pgmap *pm)
{
	if (!pm)
		return;
	for (uint32_t i = 0; i < pm->npools; i++)
		free(pm->pools[i].e);
	free(pm->pools);
	free(pm->osds);
	free(pm);
}

static struct pool_pgs *find_pool(struct pgmap *pm, int64_t id)
{
	for (uint32_t i = 0; i < pm->npools; i++)
		if (pm->pools[i].pool == id)
			return &pm->pools[i];
	return NULL;
}

void pgmap_on_map(struct pgmap *pm, const struct osdmap *m)
{
	const struct pool_info *p;

	/* drop pools that are gone */
	for (uint32_t i = 0; i < pm->npools;) {
		if (!osdmap_pool(m, pm->pools[i].pool)) {
			free(pm->pools[i].e);
			pm->pools[i] = pm->pools[--pm->npools];
		} else {
			i++;
		}
	}
	osdmap_for_each_pool(m, p) {
		struct pool_pgs *pp = find_pool(pm, p->id);

		if (!pp) {
			struct pool_pgs *np = realloc(pm->pools, (pm->npools + 1) * sizeof(*np));
			if (!np)
				return;
			pm->pools = np;
			pp = &np[pm->npools++];
			memset(pp, 0, sizeof(*pp));
			pp->pool = p->id;
		}
		if (pp->pg_num != p->pg_num) {
			struct pg_entry *ne = calloc(p->pg_num, sizeof(*ne));
			if (!ne)
				continue;
			if (pp->e)
				memcpy(ne, pp->e,
				       sizeof(*ne) * (pp->pg_num < p->pg_num ? pp->pg_num : p->pg_num));
			free(pp->e);
			pp->e = ne;
			pp->pg_num = p->pg_num;
		}
	}
}

/* Adds what a PG's new report says was recovered since the previous one counted. A report
 * from an older epoch than the last counted (a former primary that has not seen the new map
 * yet) adds nothing, so two reporters interleaving do not count the same work twice. */
static void done_add(struct pgmap *pm, struct pg_entry *e, int32_t reporter,
		     const struct mon_pg_stat *ps)
{
	uint64_t o = ps->recovery_objects_done, b = ps->recovery_bytes_done;

	if (e->done_set && ps->reported_epoch < e->done_epoch)
		return;
	if (e->done_set && e->done_osd == reporter && o >= e->done_obj && b >= e->done_bytes) {
		pm->objects_done += o - e->done_obj;
		pm->bytes_done += b - e->done_bytes;
	} else {
		pm->objects_done += o; /* a new primary, or its counters were reset */
		pm->bytes_done += b;
	}
	e->done_set = true;
	e->done_osd = reporter;
	e->done_epoch = ps->reported_epoch;
	e->done_obj = o;
	e->done_bytes = b;
}

static void rate_sample_add(struct pgmap *pm, uint64_t now)
{
	unsigned last = (pm->sample_head + RATE_SAMPLES - 1) % RATE_SAMPLES;
	struct rate_sample *s;

	if (pm->nsamples && now - pm->samples[last].t_ns < RATE_SAMPLE_NS)
		return;
	s = &pm->samples[pm->sample_head];
	s->t_ns = now;
	s->objects_done = pm->objects_done;
	s->bytes_done = pm->bytes_done;
	pm->sample_head = (pm->sample_head + 1) % RATE_SAMPLES;
	if (pm->nsamples < RATE_SAMPLES)
		pm->nsamples++;
}

void pgmap_apply_report(struct pgmap *pm, const struct osdmap *m, const struct mon_pg_stats *s)
{
	uint64_t now = now_mono_ns();

	if (s->osd >= 0 && s->osd < OSDMAP_MAX_OSD) {
		if (s->osd >= pm->nosds) {
			int32_t n = s->osd + 8;
			struct osd_stat_entry *o = realloc(pm->osds, (size_t)n * sizeof(*o));
			if (o) {
				memset(o + pm->nosds, 0, (size_t)(n - pm->nosds) * sizeof(*o));
				pm->osds = o;
				pm->nosds = n;
			}
		}
		if (s->osd < pm->nosds) {
			pm->osds[s->osd].st = s->osd_stat;
			pm->osds[s->osd].stamp_ns = now;
		}
	}
	(void)m;
	for (uint32_t i = 0; i < s->num_pgs; i++) {
		const struct mon_pg_stat *ps = &s->pgs[i];
		struct pool_pgs *pp = find_pool(pm, ps->pg.pool);

		if (!pp || ps->pg.ps >= pp->pg_num)
			continue;
		done_add(pm, &pp->e[ps->pg.ps], s->osd, ps);
		pp->e[ps->pg.ps].st = *ps;
		pp->e[ps->pg.ps].stamp_ns = now;
		pp->e[ps->pg.ps].reporter = s->osd;
	}
	rate_sample_add(pm, now);
}

const struct mon_osd_stat *pgmap_osd_stat(struct pgmap *pm, int32_t osd)
{
	if (osd < 0 || osd >= pm->nosds || !pm->osds[osd].stamp_ns)
		return NULL;
	return &pm->osds[osd].st;
}

const struct mon_pg_stat *pgmap_get(struct pgmap *pm, struct pg_id pg, uint64_t *stamp_ns)
{
	struct pool_pgs *pp = find_pool(pm, pg.pool);

	if (!pp || pg.ps >= pp->pg_num || !pp->e[pg.ps].stamp_ns)
		return NULL;
	if (stamp_ns)
		*stamp_ns = pp->e[pg.ps].stamp_ns;
	return &pp->e[pg.ps].st;
}

/* Effective state bits of an entry (unknown / stale applied). */
static uint64_t eff_state(const struct pg_entry *e, const struct osdmap *m, uint64_t now,
			  double stale_s)
{
	uint64_t st;

	if (!e->stamp_ns)
		return PG_STATE_UNKNOWN;
	st = e->st.state;
	if ((double)(now - e->stamp_ns) > stale_s * 1e9 || !osdmap_is_up(m, e->reporter))
		st |= PG_STATE_STALE;
	return st;
}

struct totals {
	uint64_t num_pgs, objects, bytes, degraded, misplaced, unfound, missing;
	uint64_t rec_obj_left, rec_bytes_left, rec_obj_done, rec_bytes_done;
	uint64_t active_clean, inactive, down, stale, degraded_pgs, undersized_pgs,
		inconsistent_pgs, peering, unknown, recovering_pgs;
};

static void sum_totals(struct pgmap *pm, const struct osdmap *m, double stale_s, int64_t pool,
		       struct totals *t, json_t *by_state)
{
	uint64_t now = now_mono_ns();

	memset(t, 0, sizeof(*t));
	for (uint32_t i = 0; i < pm->npools; i++) {
		struct pool_pgs *pp = &pm->pools[i];

		if (pool >= 0 && pp->pool != pool)
			continue;
		for (uint32_t ps = 0; ps < pp->pg_num; ps++) {
			const struct pg_entry *e = &pp->e[ps];
			uint64_t st = eff_state(e, m, now, stale_s);

			t->num_pgs++;
			if (by_state) {
				char name[512];
				json_t *v;

				pg_state_str(st, name, sizeof(name));
				v = json_object_get(by_state, name);
				json_object_set_new(by_state, name,
						    json_integer(v ? json_integer_value(v) + 1 : 1));
			}
			if ((st & (PG_STATE_ACTIVE | PG_STATE_CLEAN)) ==
				    (PG_STATE_ACTIVE | PG_STATE_CLEAN) &&
			    !(st & PG_STATE_STALE))
				t->active_clean++;
			if (!(st & PG_STATE_ACTIVE))
				t->inactive++;
			if (st & PG_STATE_UNKNOWN)
				t->unknown++;
			if (st & PG_STATE_DOWN)
				t->down++;
			if (st & PG_STATE_STALE)
				t->stale++;
			if (st & PG_STATE_PEERING)
				t->peering++;
			if (st & PG_STATE_DEGRADED)
				t->degraded_pgs++;
			if (st & PG_STATE_UNDERSIZED)
				t->undersized_pgs++;
			if (st & PG_STATE_INCONSISTENT)
				t->inconsistent_pgs++;
			if (st & (PG_STATE_RECOVERING | PG_STATE_BACKFILLING | PG_STATE_RECOVERY_WAIT |
				  PG_STATE_BACKFILL_WAIT))
				t->recovering_pgs++;
			if (!e->stamp_ns)
				continue;
			t->objects += e->st.num_objects;
			t->bytes += e->st.num_bytes;
			t->degraded += e->st.objects_degraded;
			t->misplaced += e->st.objects_misplaced;
			t->unfound += e->st.objects_unfound;
			t->missing += e->st.objects_missing;
			t->rec_obj_left += e->st.recovery_objects_left;
			t->rec_bytes_left += e->st.recovery_bytes_left;
			t->rec_obj_done += e->st.recovery_objects_done;
			t->rec_bytes_done += e->st.recovery_bytes_done;
		}
	}
}

/* Recovery rate (per second): the growth of the done counters from the last sample before
 * they started to grow (within RATE_WINDOW_NS) to now. 0 when nothing was recovered lately. */
static void recovery_rate(struct pgmap *pm, double *obj_s, double *bytes_s)
{
	uint64_t now = now_mono_ns();
	const struct rate_sample *old = NULL;
	unsigned first = (pm->sample_head + RATE_SAMPLES - pm->nsamples) % RATE_SAMPLES;

	*obj_s = *bytes_s = 0;
	for (unsigned i = 0; i < pm->nsamples; i++) {
		const struct rate_sample *s = &pm->samples[(first + i) % RATE_SAMPLES];

		if (now - s->t_ns > RATE_WINDOW_NS)
			continue;
		/* oldest in the window, moved forward while nothing was recovered */
		if (!old || (s->objects_done == old->objects_done &&
			     s->bytes_done == old->bytes_done))
			old = s;
	}
	if (old && now > old->t_ns + RATE_SAMPLE_NS / 2) {
		double dt = (double)(now - old->t_ns) / 1e9;

		*obj_s = (double)(pm->objects_done - old->objects_done) / dt;
		*bytes_s = (double)(pm->bytes_done - old->bytes_done) / dt;
	}
}

json_t *pgmap_pg_stat_json(struct pgmap *pm, const struct osdmap *m, double stale_s)
{
	struct totals t;
	json_t *by = json_object(), *o = json_object(), *rec = json_object();
	double os, bs, eta = -1;

	sum_totals(pm, m, stale_s, -1, &t, by);
	recovery_rate(pm, &os, &bs);
	if (t.rec_obj_left && os > 0)
		eta = (double)t.rec_obj_left / os;
	else if (t.rec_bytes_left && bs > 0)
		eta = (double)t.rec_bytes_left / bs;
	else if (!t.rec_obj_left && !t.rec_bytes_left)
		eta = 0;
	json_object_set_new(o, "epoch", json_integer(m->epoch));
	json_object_set_new(o, "num_pgs", json_integer((json_int_t)t.num_pgs));
	json_object_set_new(o, "num_pgs_by_state", by);
	json_object_set_new(o, "num_active_clean", json_integer((json_int_t)t.active_clean));
	json_object_set_new(o, "all_active_clean", json_boolean(t.active_clean == t.num_pgs));
	json_object_set_new(o, "num_objects", json_integer((json_int_t)t.objects));
	json_object_set_new(o, "num_bytes", json_integer((json_int_t)t.bytes));
	json_object_set_new(o, "degraded_objects", json_integer((json_int_t)t.degraded));
	json_object_set_new(o, "misplaced_objects", json_integer((json_int_t)t.misplaced));
	json_object_set_new(o, "unfound_objects", json_integer((json_int_t)t.unfound));
	json_object_set_new(rec, "objects_left", json_integer((json_int_t)t.rec_obj_left));
	json_object_set_new(rec, "bytes_left", json_integer((json_int_t)t.rec_bytes_left));
	json_object_set_new(rec, "objects_done", json_integer((json_int_t)t.rec_obj_done));
	json_object_set_new(rec, "bytes_done", json_integer((json_int_t)t.rec_bytes_done));
	json_object_set_new(rec, "objects_per_sec", json_real(os));
	json_object_set_new(rec, "bytes_per_sec", json_real(bs));
	json_object_set_new(rec, "eta_seconds", json_real(eta));
	json_object_set_new(rec, "recovering_pgs", json_integer((json_int_t)t.recovering_pgs));
	json_object_set_new(o, "recovery", rec);
	return o;
}

static json_t *int_array(const int32_t *v, int n)
{
	json_t *a = json_array();

	for (int i = 0; i < n; i++)
		json_array_append_new(a, json_integer(v[i]));
	return a;
}

json_t *pgmap_pg_dump_json(struct pgmap *pm, const struct osdmap *m, double stale_s)
{
	json_t *o = json_object(), *arr = json_array(), *osds = json_array();
	uint64_t now = now_mono_ns();

	for (uint32_t i = 0; i < pm->npools; i++) {
		struct pool_pgs *pp = &pm->pools[i];

		for (uint32_t ps = 0; ps < pp->pg_num; ps++) {
			const struct pg_entry *e = &pp->e[ps];
			struct pg_id pg = {pp->pool, ps};
			int32_t up[CAIRN_MAX_REPLICAS], act[CAIRN_MAX_REPLICAS], upp = -1, actp = -1;
			int nup = 0, nact = 0;
			char id[PG_ID_STR_MAX], st[512], lu[64];
			json_t *j = json_object();

			osdmap_pg_to_up_acting(m, pg, up, &nup, &upp, act, &nact, &actp);
			pg_state_str(eff_state(e, m, now, stale_s), st, sizeof(st));
			json_object_set_new(j, "pgid", json_string(pg_id_str(&pg, id, sizeof(id))));
			json_object_set_new(j, "state", json_string(st));
			json_object_set_new(j, "up", int_array(up, nup));
			json_object_set_new(j, "acting", int_array(act, nact));
			json_object_set_new(j, "up_primary", json_integer(upp));
			json_object_set_new(j, "acting_primary", json_integer(actp));
			snprintf(lu, sizeof(lu), "%u'%llu", e->st.last_update_epoch,
				 (unsigned long long)e->st.last_update_version);
			json_object_set_new(j, "last_update", json_string(lu));
			json_object_set_new(j, "reported_epoch", json_integer(e->st.reported_epoch));
			json_object_set_new(j, "num_objects", json_integer((json_int_t)e->st.num_objects));
			json_object_set_new(j, "num_bytes", json_integer((json_int_t)e->st.num_bytes));
			json_object_set_new(j, "log_size", json_integer((json_int_t)e->st.log_size));
			json_object_set_new(j, "objects_missing",
					    json_integer((json_int_t)e->st.objects_missing));
			json_object_set_new(j, "objects_degraded",
					    json_integer((json_int_t)e->st.objects_degraded));
			json_object_set_new(j, "objects_misplaced",
					    json_integer((json_int_t)e->st.objects_misplaced));
			json_object_set_new(j, "objects_unfound",
					    json_integer((json_int_t)e->st.objects_unfound));
			json_object_set_new(j, "recovery_objects_left",
					    json_integer((json_int_t)e->st.recovery_objects_left));
			json_object_set_new(j, "recovery_bytes_left",
					    json_integer((json_int_t)e->st.recovery_bytes_left));
			json_object_set_new(j, "last_scrub_stamp",
					    json_integer((json_int_t)e->st.last_scrub_stamp));
			json_object_set_new(j, "last_deep_scrub_stamp",
					    json_integer((json_int_t)e->st.last_deep_scrub_stamp));
			json_object_set_new(j, "seconds_since_report",
					    e->stamp_ns ? json_real((double)(now - e->stamp_ns) / 1e9)
							: json_null());
			json_array_append_new(arr, j);
		}
	}
	for (int32_t i = 0; i < pm->nosds; i++) {
		json_t *j;
		if (!pm->osds[i].stamp_ns)
			continue;
		j = json_object();
		json_object_set_new(j, "osd", json_integer(i));
		json_object_set_new(j, "bytes_total", json_integer((json_int_t)pm->osds[i].st.bytes_total));
		json_object_set_new(j, "bytes_used", json_integer((json_int_t)pm->osds[i].st.bytes_used));
		json_object_set_new(j, "num_pgs", json_integer(pm->osds[i].st.num_pgs));
		json_array_append_new(osds, j);
	}
	json_object_set_new(o, "epoch", json_integer(m->epoch));
	json_object_set_new(o, "pg_stats", arr);
	json_object_set_new(o, "osd_stats", osds);
	return o;
}

json_t *pgmap_pool_stats_json(struct pgmap *pm, const struct osdmap *m, int64_t pool)
{
	struct totals t;
	json_t *o = json_object();

	sum_totals(pm, m, 1e9, pool, &t, NULL);
	json_object_set_new(o, "num_objects", json_integer((json_int_t)t.objects));
	json_object_set_new(o, "num_bytes", json_integer((json_int_t)t.bytes));
	return o;
}

/* Up to HEALTH_DETAIL_MAX "pg 1.2 is active+undersized+degraded, acting [0,1]" lines for the
 * PGs whose effective state has any of `any` bits (or lacks all of `none_of`, when non-zero). */
#define HEALTH_DETAIL_MAX 50
static json_t *pg_detail(struct pgmap *pm, const struct osdmap *m, double stale_s, uint64_t any,
			 uint64_t lacks)
{
	json_t *d = json_array();
	uint64_t now = now_mono_ns();
	size_t n = 0, more = 0;

	for (uint32_t i = 0; i < pm->npools; i++) {
		struct pool_pgs *pp = &pm->pools[i];
		for (uint32_t ps = 0; ps < pp->pg_num; ps++) {
			uint64_t st = eff_state(&pp->e[ps], m, now, stale_s);
			struct pg_id pg = {pp->pool, ps};
			char id[PG_ID_STR_MAX], sts[512], line[700], set[160];
			size_t o = 0;

			if (!(st & any) && !(lacks && !(st & lacks)))
				continue;
			if (n >= HEALTH_DETAIL_MAX) {
				more++;
				continue;
			}
			pg_state_str(st, sts, sizeof(sts));
			set[0] = '\0';
			for (int k = 0; k < pp->e[ps].st.nacting && o < sizeof(set); k++)
				o += (size_t)snprintf(set + o, sizeof(set) - o, "%s%d", k ? "," : "",
						      pp->e[ps].st.acting[k]);
			snprintf(line, sizeof(line), "pg %s is %s, acting [%s]",
				 pg_id_str(&pg, id, sizeof(id)), sts, set);
			json_array_append_new(d, json_string(line));
			n++;
		}
	}
	if (more) {
		char line[64];
		snprintf(line, sizeof(line), "... and %zu more", more);
		json_array_append_new(d, json_string(line));
	}
	return d;
}

/* ---- health ---- */

static void add_check(json_t *checks, const char *name, const char *sev, const char *summary,
		      uint64_t count, json_t *detail)
{
	json_t *c = json_object();

	json_object_set_new(c, "severity", json_string(sev));
	json_object_set_new(c, "summary", json_string(summary));
	json_object_set_new(c, "count", json_integer((json_int_t)count));
	json_object_set_new(c, "detail", detail ? detail : json_array());
	json_object_set_new(checks, name, c);
}

json_t *mon_health_json(struct mon *mon, bool detail)
{
	const struct osdmap *m = mon->map;
	json_t *o = json_object(), *checks = json_object();
	double stale_s = conf_double(mon->conf, "mon_pg_stale_timeout");
	double full = conf_double(mon->conf, "mon_osd_full_ratio");
	double nearfull = conf_double(mon->conf, "mon_osd_nearfull_ratio");
	const struct osd_info *oi;
	const struct pool_info *p;
	struct totals t;
	char buf[256];
	int sev = 0, ndown = 0, nin = 0, nfull = 0, nnear = 0;
	json_t *d;

	if (m->flags) {
		char f[128];
		osdmap_flags_str(m->flags, f, sizeof(f));
		snprintf(buf, sizeof(buf), "%s flag(s) set", f);
		add_check(checks, "OSDMAP_FLAGS", "HEALTH_WARN", buf,
			  (uint64_t)__builtin_popcount(m->flags), NULL);
		sev = sev < 1 ? 1 : sev;
	}
	d = json_array();
	osdmap_for_each_osd(m, oi) {
		nin += osd_info_in(oi);
		if (!osd_info_up(oi)) {
			ndown++;
			snprintf(buf, sizeof(buf), "osd.%d is down", oi->id);
			json_array_append_new(d, json_string(buf));
		}
	}
	if (ndown) {
		snprintf(buf, sizeof(buf), "%d osds down", ndown);
		add_check(checks, "OSD_DOWN", "HEALTH_WARN", buf, (uint64_t)ndown, d);
		sev = sev < 1 ? 1 : sev;
	} else {
		json_decref(d);
	}
	/* fullness from the OSDs' reports */
	{
		json_t *df = json_array(), *dn = json_array();

		for (int32_t id = 0; id < mon->pgmap->nosds; id++) {
			const struct osd_stat_entry *e = &mon->pgmap->osds[id];
			double tot = (double)e->st.bytes_total, used = (double)e->st.bytes_used;

			if (!e->stamp_ns || tot <= 0 || !osdmap_is_up(m, id))
				continue;
			if (used / tot >= full) {
				nfull++;
				snprintf(buf, sizeof(buf), "osd.%d is full", id);
				json_array_append_new(df, json_string(buf));
			} else if (used / tot >= nearfull) {
				nnear++;
				snprintf(buf, sizeof(buf), "osd.%d is near full", id);
				json_array_append_new(dn, json_string(buf));
			}
		}
		if (nfull) {
			snprintf(buf, sizeof(buf), "%d full osd(s)", nfull);
			add_check(checks, "OSD_FULL", "HEALTH_ERR", buf, (uint64_t)nfull, df);
			sev = 2;
		} else {
			json_decref(df);
		}
		if (nnear) {
			snprintf(buf, sizeof(buf), "%d nearfull osd(s)", nnear);
			add_check(checks, "OSD_NEARFULL", "HEALTH_WARN", buf, (uint64_t)nnear, dn);
			sev = sev < 1 ? 1 : sev;
		} else {
			json_decref(dn);
		}
	}
	osdmap_for_each_pool(m, p) {
		if (p->size > nin) {
			snprintf(buf, sizeof(buf), "OSD count %d < pool '%s' size %u", nin, p->name,
				 p->size);
			add_check(checks, "TOO_FEW_OSDS", "HEALTH_WARN", buf, (uint64_t)nin, NULL);
			sev = sev < 1 ? 1 : sev;
			break;
		}
	}
	sum_totals(mon->pgmap, m, stale_s, -1, &t, NULL);
	if (t.inactive || t.down || t.stale) {
		snprintf(buf, sizeof(buf),
			 "Reduced data availability: %llu pgs inactive, %llu pgs down, %llu pgs stale",
			 (unsigned long long)t.inactive, (unsigned long long)t.down,
			 (unsigned long long)t.stale);
		add_check(checks, "PG_AVAILABILITY", "HEALTH_WARN", buf,
			  t.inactive + t.down + t.stale,
			  detail ? pg_detail(mon->pgmap, m, stale_s, PG_STATE_DOWN | PG_STATE_STALE,
					     PG_STATE_ACTIVE)
				 : NULL);
		sev = sev < 1 ? 1 : sev;
	}
	if (t.degraded || t.degraded_pgs || t.undersized_pgs) {
		snprintf(buf, sizeof(buf),
			 "Degraded data redundancy: %llu objects degraded, %llu pgs degraded, %llu "
			 "pgs undersized",
			 (unsigned long long)t.degraded, (unsigned long long)t.degraded_pgs,
			 (unsigned long long)t.undersized_pgs);
		add_check(checks, "PG_DEGRADED", "HEALTH_WARN", buf, t.degraded_pgs,
			  detail ? pg_detail(mon->pgmap, m, stale_s,
					     PG_STATE_DEGRADED | PG_STATE_UNDERSIZED, 0)
				 : NULL);
		sev = sev < 1 ? 1 : sev;
	}
	if (t.misplaced) {
		snprintf(buf, sizeof(buf), "%llu objects misplaced", (unsigned long long)t.misplaced);
		add_check(checks, "OBJECT_MISPLACED", "HEALTH_WARN", buf, t.misplaced, NULL);
		sev = sev < 1 ? 1 : sev;
	}
	if (t.unfound) {
		snprintf(buf, sizeof(buf), "%llu objects unfound", (unsigned long long)t.unfound);
		add_check(checks, "OBJECT_UNFOUND", "HEALTH_WARN", buf, t.unfound, NULL);
		sev = sev < 1 ? 1 : sev;
	}
	if (t.inconsistent_pgs) {
		snprintf(buf, sizeof(buf), "Possible data damage: %llu pgs inconsistent",
			 (unsigned long long)t.inconsistent_pgs);
		add_check(checks, "PG_DAMAGED", "HEALTH_ERR", buf, t.inconsistent_pgs,
			  detail ? pg_detail(mon->pgmap, m, stale_s, PG_STATE_INCONSISTENT, 0)
				 : NULL);
		sev = 2;
	}
	if (!detail) {
		const char *k;
		json_t *v;
		json_object_foreach(checks, k, v)
			json_object_del(v, "detail");
	}
	json_object_set_new(o, "status",
			    json_string(sev == 0 ? "HEALTH_OK" : sev == 1 ? "HEALTH_WARN" : "HEALTH_ERR"));
	json_object_set_new(o, "checks", checks);
	return o;
}
