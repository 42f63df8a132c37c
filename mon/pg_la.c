/*
 * pg_la — the monitor's copy of each PG's last-active record (issue 8, docs/recovery.md
 * "Past intervals"): the epoch and the complete members of the newest interval of the PG that
 * went active. A primary stores the record of its interval here (MSG_MON_PG_LA) and waits for
 * the reply before it serves client ops; peering reads the record back, so a PG whose newest
 * interval ran only on OSDs that are all absent now stays down even when none of the OSDs
 * present heard of that interval.
 *
 * A record replaces the held one only when it is newer: a later epoch, or the same epoch with
 * more members (the primary's refresh once recovery made every acting member complete).
 * Persisted in the mon store ("pgla_<pool>_<ps>") before the reply is sent; records of PGs
 * that no longer exist (pool deleted) are dropped on the next map. Kept in an unordered array:
 * linear lookups are fine for the few hundred PGs of the clusters here.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/encode.h"
#include "common/log.h"
#include "common/msg.h"
#include "common/msg_types.h"
#include "common/util.h"
#include "mon/mon.h"

static bool la_newer(const struct mon_pg_la *a, const struct mon_pg_la *b)
{
	return a->epoch > b->epoch || (a->epoch == b->epoch && a->n > b->n);
}

static void la_key(struct pg_id pg, char *key, size_t len)
{
	snprintf(key, len, "pgla_%" PRId64 "_%u", pg.pool, pg.ps);
}

static struct mon_pg_la *find(struct mon *mon, struct pg_id pg)
{
	for (size_t i = 0; i < mon->npgla; i++)
		if (mon->pgla[i].pg.pool == pg.pool && mon->pgla[i].pg.ps == pg.ps)
			return &mon->pgla[i];
	return NULL;
}

const struct mon_pg_la *pgla_get(struct mon *mon, struct pg_id pg)
{
	return find(mon, pg);
}

/* Inserts or replaces in memory. */
static int put_mem(struct mon *mon, const struct mon_pg_la *r)
{
	struct mon_pg_la *cur = find(mon, r->pg);

	if (!cur) {
		if (mon->npgla == mon->capla) {
			size_t cap = mon->capla ? mon->capla * 2 : 64;
			struct mon_pg_la *nv = realloc(mon->pgla, cap * sizeof(*nv));

			if (!nv)
				return -ENOMEM;
			mon->pgla = nv;
			mon->capla = cap;
		}
		cur = &mon->pgla[mon->npgla++];
	}
	*cur = *r;
	cur->token = 0;
	return 0;
}

static int load_cb(void *arg, const char *key, size_t klen, const void *val, size_t vlen)
{
	struct mon *mon = arg;
	struct mon_pg_la r;
	struct cdec d;

	cdec_init(&d, val, vlen);
	if (mon_pg_la_decode_one(&d, &r)) {
		CLOG_ERR("mon", "bad PG last-active record %.*s in the store", (int)klen, key);
		return 0;
	}
	return put_mem(mon, &r);
}

int pgla_load(struct mon *mon)
{
	int e = mon_store_scan_prefix(mon->store, "pgla_", load_cb, mon);

	if (!e && mon->npgla)
		CLOG_INFO("mon", "loaded %zu PG last-active records", mon->npgla);
	return e;
}

void pgla_handle(struct mon *mon, struct msg_conn *c, const struct mon_pg_la_msg *m)
{
	struct mon_pg_la_msg rep;
	const char **keys = NULL;
	const void **vals = NULL;
	size_t *lens = NULL, nput = 0;
	struct cbuf *bufs = NULL;
	char (*kbuf)[48] = NULL;
	struct cbuf b;
	int e = 0;

	if (m->n) {
		keys = calloc(m->n, sizeof(*keys));
		vals = calloc(m->n, sizeof(*vals));
		lens = calloc(m->n, sizeof(*lens));
		bufs = calloc(m->n, sizeof(*bufs));
		kbuf = calloc(m->n, sizeof(*kbuf));
		rep.recs = calloc(m->n, sizeof(*rep.recs));
		if (!keys || !vals || !lens || !bufs || !kbuf || !rep.recs)
			goto out_nomem;
		for (uint32_t i = 0; i < m->n; i++)
			cbuf_init(&bufs[i]);
	} else {
		rep.recs = NULL;
	}
	/* the newer records, in one synced batch */
	for (uint32_t i = 0; i < m->n; i++) {
		const struct mon_pg_la *r = &m->recs[i];
		const struct mon_pg_la *cur = find(mon, r->pg);
		bool dup = false;

		if (!r->epoch || !osdmap_pg_exists(mon->map, r->pg) || (cur && !la_newer(r, cur)))
			continue;
		la_key(r->pg, kbuf[i], sizeof(kbuf[i]));
		for (size_t k = 0; k < nput; k++)
			if (!strcmp(keys[k], kbuf[i]))
				dup = true;
		if (dup)
			continue; /* the same PG twice: its sender resends what was not taken */
		mon_pg_la_encode_one(r, &bufs[i]);
		if (bufs[i].err) {
			e = bufs[i].err;
			break;
		}
		keys[nput] = kbuf[i];
		vals[nput] = bufs[i].data;
		lens[nput] = bufs[i].len;
		nput++;
	}
	if (!e && nput)
		e = mon_store_write_kvs(mon->store, nput, keys, vals, lens);
	if (!e) {
		for (uint32_t i = 0; i < m->n; i++) {
			const struct mon_pg_la *r = &m->recs[i];
			const struct mon_pg_la *cur = find(mon, r->pg);
			bool stored = false;

			for (size_t k = 0; k < nput; k++)
				if (keys[k] == kbuf[i])
					stored = true;
			if (stored && (!cur || la_newer(r, cur)) && (e = put_mem(mon, r)))
				break;
		}
	}
	if (e)
		CLOG_ERR("mon", "storing PG last-active records from osd.%d: %s", m->osd,
			 cairn_strerror(e));
	/* reply: what the mon holds now (an unstored record is not acknowledged) */
	rep.osd = -1;
	rep.n = m->n;
	for (uint32_t i = 0; i < m->n; i++) {
		const struct mon_pg_la *cur = find(mon, m->recs[i].pg);

		memset(&rep.recs[i], 0, sizeof(rep.recs[i]));
		if (cur)
			rep.recs[i] = *cur;
		rep.recs[i].pg = m->recs[i].pg;
		rep.recs[i].token = m->recs[i].token;
	}
	cbuf_init(&b);
	mon_pg_la_msg_encode(&rep, &b);
	msg_send_cbuf(c, MSG_MON_PG_LA_REPLY, 0, MSG_PRIO_HIGH, &b);
	cbuf_free(&b);
	goto out;
out_nomem:
	CLOG_ERR("mon", "PG last-active request from osd.%d: out of memory", m->osd);
out:
	for (uint32_t i = 0; bufs && i < m->n; i++)
		cbuf_free(&bufs[i]);
	free(bufs);
	free(keys);
	free(vals);
	free(lens);
	free(kbuf);
	free(rep.recs);
}

void pgla_on_map(struct mon *mon)
{
	const char **keys = NULL;
	const void **vals = NULL;
	size_t *lens = NULL, n = 0, i;
	char (*kbuf)[48] = NULL;

	for (i = 0; i < mon->npgla; i++)
		if (!osdmap_pg_exists(mon->map, mon->pgla[i].pg))
			n++;
	if (!n)
		return;
	keys = calloc(n, sizeof(*keys));
	vals = calloc(n, sizeof(*vals));
	lens = calloc(n, sizeof(*lens));
	kbuf = calloc(n, sizeof(*kbuf));
	if (!keys || !vals || !lens || !kbuf)
		goto out; /* dropped on a later map */
	n = 0;
	for (i = 0; i < mon->npgla; i++)
		if (!osdmap_pg_exists(mon->map, mon->pgla[i].pg)) {
			la_key(mon->pgla[i].pg, kbuf[n], sizeof(kbuf[n]));
			keys[n] = kbuf[n];
			n++;
		}
	if (mon_store_write_kvs(mon->store, n, keys, vals, lens))
		goto out;
	for (i = 0; i < mon->npgla;) {
		if (osdmap_pg_exists(mon->map, mon->pgla[i].pg))
			i++;
		else
			mon->pgla[i] = mon->pgla[--mon->npgla];
	}
	CLOG_INFO("mon", "dropped the last-active records of %zu PGs that no longer exist", n);
out:
	free(keys);
	free(vals);
	free(lens);
	free(kbuf);
}
