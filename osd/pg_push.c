/*
 * pg_push — log-based catch-up of a replica that missed completed writes (a minimal form of
 * issue 8's recovery, used by the primary when a replica answers a repop with a gap).
 *
 * The replica's log ends at `from`; the primary's log holds every entry after it (else the
 * gap needs a backfill: -ERANGE). For the entries after `from` that are no longer in flight,
 * in version order, the primary pushes the current state of each object they touch (data,
 * xattrs, omap — or its absence), together with those log entries and the PG info, as ONE
 * replica transaction sent like a repop (prior = from, entry = the last entry pushed), so the
 * replica applies it in order on the same lossless connection and its log continues at the
 * pushed version. One push carries at most PUSH_MAX_OBJECTS objects / PUSH_MAX_BYTES bytes;
 * the next gap answer continues from where it stopped.
 *
 * Each object is written as touch + remove + recreate, so the replica ends with exactly the
 * primary's object whatever it had before. Runs on the PG's shard thread (store reads).
 */
#include <inttypes.h>
#include <stdlib.h>

#include "common/log.h"
#include "common/msg.h"
#include "common/msg_types.h"
#include "common/util.h"
#include "osd/osd_int.h"
#include "osd/store.h"

#define PUSH_MAX_OBJECTS 64
#define PUSH_MAX_BYTES (64u << 20)

struct push_ctx {
	struct store_txn *t;
	const char *coll;
	const char *oid;
	size_t oidlen;
	int err;
};

static int push_attr(void *arg, const char *name, const void *val, size_t vlen)
{
	struct push_ctx *c = arg;

	c->err = store_txn_setattr(c->t, c->coll, c->oid, c->oidlen, name, val, vlen);
	return c->err;
}

static int push_omap(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct push_ctx *c = arg;
	struct store_kv kv = { key, klen, val, vlen };

	c->err = store_txn_omap_setkeys(c->t, c->coll, c->oid, c->oidlen, &kv, 1);
	return c->err;
}

/* Adds the object's current local state to t; *bytes grows by its data size. */
static int push_object(struct pg *pg, struct store_txn *t, const char *oid, uint64_t *bytes)
{
	struct store *s = pg->osd->store;
	size_t oidlen = strlen(oid);
	struct push_ctx c = { t, pg->coll, oid, oidlen, 0 };
	struct store_stat st;
	void *buf = NULL;
	ssize_t n;
	int r;

	/* whatever the replica has: gone first */
	r = store_txn_touch(t, pg->coll, oid, oidlen);
	if (!r)
		r = store_txn_remove(t, pg->coll, oid, oidlen);
	if (r)
		return r;
	r = store_stat(s, pg->coll, oid, oidlen, &st);
	if (r == -ENOENT)
		return 0; /* deleted: stays deleted */
	if (r)
		return r;
	if (st.size) {
		buf = malloc(st.size);
		if (!buf)
			return -ENOMEM;
		n = store_read(s, pg->coll, oid, oidlen, 0, st.size, buf);
		if (n < 0) {
			free(buf);
			return (int)n;
		}
		r = store_txn_write(t, pg->coll, oid, oidlen, 0, (uint64_t)n, buf);
		free(buf);
		if (r)
			return r;
		if ((uint64_t)n < st.size)
			r = store_txn_truncate(t, pg->coll, oid, oidlen, st.size);
		*bytes += st.size;
	} else {
		r = store_txn_touch(t, pg->coll, oid, oidlen);
	}
	if (r)
		return r;
	r = store_getattrs(s, pg->coll, oid, oidlen, push_attr, &c);
	if (r < 0 || c.err)
		return c.err ? c.err : r;
	r = store_omap_iterate(s, pg->coll, oid, oidlen, NULL, 0, NULL, 0, 0, push_omap, &c);
	if (r < 0 || c.err)
		return c.err ? c.err : r;
	return 0;
}

static void free_buf(void *p)
{
	free(p);
}

int pg_push_missing(struct pg *pg, int32_t osd, struct osd_eversion from,
		    struct osd_eversion stop, struct osd_eversion *upto)
{
	struct osd *o = pg->osd;
	const struct osd_info *oi = osdmap_osd(pg->shard->map, osd);
	const struct pg_log_entry *last = NULL;
	struct store_txn *t = NULL;
	char *oids[PUSH_MAX_OBJECTS];
	uint32_t noids = 0, first = UINT32_MAX;
	uint64_t bytes = 0;
	struct cbuf front, data;
	struct osd_repop hdr;
	struct pg_info info;
	struct msg_conn *c;
	struct msg_out mo;
	struct iovec iov;
	int r;

	cbuf_init(&front);
	cbuf_init(&data);
	if (!oi || !oi->addr[0])
		return -ENOTCONN;
	/* the replica's log must continue inside ours */
	for (uint32_t i = 0; i < pg->log.count; i++) {
		const struct pg_log_entry *e = pg_log_at(&pg->log, i);

		if (osd_eversion_cmp(e->version, from) > 0) {
			if (i == 0 && osd_eversion_cmp(from, pg->info.log_tail) < 0)
				return -ERANGE; /* trimmed past it: needs a backfill */
			first = i;
			break;
		}
	}
	if (first == UINT32_MAX)
		return 0;
	t = store_txn_new();
	if (!t)
		return -ENOMEM;
	for (uint32_t i = first; i < pg->log.count; i++) {
		const struct pg_log_entry *e = pg_log_at(&pg->log, i);
		char key[PG_LOG_KEY_MAX];
		struct store_kv kv;
		bool seen = false;

		if (osd_eversion_cmp(e->version, stop) >= 0)
			break; /* in flight: re-sent as repops after the push */
		for (uint32_t k = 0; k < noids; k++)
			seen |= !strcmp(oids[k], e->oid);
		if (!seen) {
			if (noids == PUSH_MAX_OBJECTS || bytes > PUSH_MAX_BYTES)
				break;
			r = push_object(pg, t, e->oid, &bytes);
			if (r)
				goto out;
			oids[noids++] = e->oid;
		}
		cbuf_reset(&data);
		pg_log_entry_encode(&data, e);
		if (data.err) {
			r = data.err;
			goto out;
		}
		kv = (struct store_kv){ key, pg_log_entry_key(e->version, key, sizeof(key)),
					data.data, data.len };
		r = store_txn_omap_setkeys(t, PG_META_COLL, pg->meta_oid, strlen(pg->meta_oid), &kv,
					   1);
		if (r)
			goto out;
		last = e;
	}
	if (!last) {
		r = 0;
		goto out;
	}
	info = pg->info;
	info.last_update = last->version;
	r = pg_log_txn_info(t, pg->meta_oid, &info);
	if (r)
		goto out;
	cbuf_reset(&data);
	r = store_txn_encode(t, &data);
	if (r)
		goto out;
	hdr = (struct osd_repop){ pg->id, pg->map_epoch, o->id, OSD_REPOP_FORCE, from, *last, info };
	hdr.entry.oid = last->oid; /* borrowed for the encoding */
	osd_repop_encode(&front, &hdr);
	if (front.err) {
		r = front.err;
		goto out;
	}
	c = msgr_connect(o->msgr, oi->addr, MSG_LOSSLESS);
	if (!c) {
		r = -ENOTCONN;
		goto out;
	}
	memset(&mo, 0, sizeof(mo));
	mo.type = MSG_OSD_REPOP;
	mo.tid = last->version.v;
	mo.front = front.data;
	mo.front_len = (uint32_t)front.len;
	iov.iov_len = data.len;
	iov.iov_base = cbuf_steal(&data, NULL);
	mo.data = &iov;
	mo.data_iovcnt = 1;
	mo.release = free_buf;
	mo.release_arg = iov.iov_base;
	r = msg_send(c, &mo);
	msg_conn_put(c);
	if (r)
		goto out;
	CLOG_INFO("osd", "pg %s: pushed %u objects (%" PRIu64 " bytes) to osd.%d: %u'%" PRIu64
		  " -> %u'%" PRIu64, pg->coll, noids, bytes, osd, from.epoch, from.v,
		  last->version.epoch, last->version.v);
	*upto = last->version;
	r = 1;
out:
	store_txn_free(t);
	cbuf_free(&front);
	cbuf_free(&data);
	return r;
}
