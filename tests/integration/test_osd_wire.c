/*
 * test_osd_wire — the OSD's client protocol end to end on a real local cluster (mon + 3 OSDs,
 * pool size 3), spoken directly over common/osd_proto.h, so the test controls what a
 * library would hide: request ids, epochs, resends and the target OSD.
 *
 * Checks: every op type and a compound op with per-op results; a failing compound applies
 * nothing; a resent write (same reqid) is answered from the PG log, not applied twice; an
 * op sent to a non-primary is answered -ESTALE with the OSD's epoch; an op carrying a newer
 * epoch than the OSD's waits until the OSD has that map; writes wait below
 * min_size and complete when an OSD returns; at the end every object is identical (data,
 * xattrs, omap) on all three OSDs, read straight from their stores after they stopped.
 */
// timeout: 240
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/config.h"
#include "common/monc.h"
#include "common/msg.h"
#include "common/msg_types.h"
#include "common/osd_proto.h"
#include "common/osdmap.h"
#include "common/util.h"
#include "osd/store.h"
#include "test_osd_util.h"

static char cpath[300];
static struct msgr *msgr;
static struct monc *monc;
static struct cairn_conf *conf;
static int64_t client_num;
static int64_t pool_id = -1;
static uint64_t next_tid = 1;

/* ---- a minimal client ------------------------------------------------------------------ */

struct waiter {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint64_t tid;
	struct msg *reply;
} W = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, NULL };

static void dispatch(struct msg_conn *c, struct msg *m, void *arg)
{
	(void)arg;
	if (monc_handle(monc, c, m))
		return;
	if (m->type != MSG_OSD_OPREPLY) {
		msg_free(m);
		return;
	}
	pthread_mutex_lock(&W.lock);
	if (m->tid == W.tid && !W.reply) {
		W.reply = m;
		pthread_cond_broadcast(&W.cond);
		m = NULL;
	}
	pthread_mutex_unlock(&W.lock);
	if (m)
		msg_free(m);
}

static void reset(struct msg_conn *c, void *arg)
{
	(void)arg;
	monc_handle_reset(monc, c);
}

static const struct msgr_ops ops = { .dispatch = dispatch, .reset = reset };

struct req {
	struct osd_op_req r;
	struct cbuf data;
};

static void req_init(struct req *q, const char *oid)
{
	memset(&q->r, 0, sizeof(q->r));
	snprintf(q->r.oid, sizeof(q->r.oid), "%s", oid);
	q->r.reqid.type = MSG_ENTITY_CLIENT;
	q->r.reqid.num = client_num;
	q->r.reqid.tid = next_tid++;
	cbuf_init(&q->data);
}

static struct osd_op *add_op(struct req *q, uint16_t code, const void *in, size_t inlen)
{
	struct osd_op *o = &q->r.ops[q->r.nops++];

	memset(o, 0, sizeof(*o));
	o->op = code;
	o->indata_off = q->data.len;
	o->indata_len = inlen;
	enc_raw(&q->data, in, inlen);
	return o;
}

static void op_name(struct osd_op *o, const char *name)
{
	o->name = (const uint8_t *)name;
	o->name_len = (uint32_t)strlen(name);
}

struct result {
	struct osd_op_reply rep;
	struct msg *m; /* reply (owns data) */
};

static const uint8_t *out_of(const struct result *res, int i, uint64_t *len)
{
	*len = res->rep.ops[i].outdata_len;
	return (const uint8_t *)res->m->data + res->rep.ops[i].outdata_off;
}

static void result_free(struct result *res)
{
	if (res->m)
		msg_free(res->m);
	res->m = NULL;
}

/* Primary of the request's object in the current map; fills pgid and epoch. */
static int target(struct req *q, struct osdmap *map, char *addr, int *osd_out)
{
	int32_t acting[CAIRN_MAX_REPLICAS], primary = -1;
	int nacting = 0;
	const struct osd_info *oi;
	const char *name = q->r.oid;

	if (q->r.ops[0].op != OSD_OP_LIST)
		if (osdmap_object_to_pg(map, pool_id, name, strlen(name), &q->r.pgid))
			return -ENOENT;
	q->r.epoch = map->epoch;
	if (osdmap_pg_to_up_acting(map, q->r.pgid, NULL, NULL, NULL, acting, &nacting, &primary) ||
	    primary < 0)
		return -EAGAIN;
	oi = osdmap_osd(map, primary);
	if (!oi)
		return -EAGAIN;
	strcpy(addr, oi->addr);
	if (osd_out)
		*osd_out = primary;
	return 0;
}

/* Sends q to addr and waits up to timeout_ms for the reply. -ETIMEDOUT if none. */
static int send_to(struct req *q, const char *addr, struct result *res, int timeout_ms)
{
	struct msg_conn *c = msgr_connect(msgr, addr, MSG_LOSSY);
	struct cbuf front;
	struct msg_out mo;
	struct iovec iov;
	struct timespec ts;
	struct cdec d;
	int r = 0;

	memset(res, 0, sizeof(*res));
	if (!c)
		return -ENOTCONN;
	cbuf_init(&front);
	osd_op_req_encode(&front, &q->r);
	memset(&mo, 0, sizeof(mo));
	mo.type = MSG_OSD_OP;
	mo.tid = q->r.reqid.tid;
	mo.front = front.data;
	mo.front_len = (uint32_t)front.len;
	if (q->data.len) {
		iov.iov_base = q->data.data;
		iov.iov_len = q->data.len;
		mo.data = &iov;
		mo.data_iovcnt = 1;
	}
	pthread_mutex_lock(&W.lock);
	W.tid = q->r.reqid.tid;
	W.reply = NULL;
	pthread_mutex_unlock(&W.lock);
	r = msg_send(c, &mo);
	cbuf_free(&front);
	if (r) {
		msg_conn_put(c);
		return r;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&W.lock);
	while (!W.reply && !r)
		r = pthread_cond_timedwait(&W.cond, &W.lock, &ts);
	res->m = W.reply;
	W.reply = NULL;
	W.tid = 0;
	pthread_mutex_unlock(&W.lock);
	msg_conn_put(c);
	if (!res->m)
		return -ETIMEDOUT;
	cdec_init(&d, res->m->front, res->m->front_len);
	r = osd_op_reply_decode(&d, &res->rep);
	if (!r)
		r = osd_op_reply_check_data(&res->rep, res->m->data ? res->m->data_len : 0);
	return r;
}

/* Sends to the primary, following -ESTALE answers and map changes (same reqid). */
static int do_req(struct req *q, struct result *res)
{
	char addr[OSDMAP_ADDR_MAX];
	uint64_t end = now_mono_ns() + 60ull * 1000000000ull;
	int r;

	for (;;) {
		struct osdmap *map = monc_get_osdmap(monc);

		r = target(q, map, addr, NULL);
		osdmap_put(map);
		if (!r) {
			r = send_to(q, addr, res, 5000);
			if (!r && res->rep.result == -ESTALE) {
				monc_wait_epoch(monc, res->rep.epoch, 5000);
				result_free(res);
				r = -EAGAIN;
			}
		}
		if (r != -EAGAIN && r != -ETIMEDOUT && r != -ENOTCONN)
			return r;
		if (now_mono_ns() > end)
			return -ETIMEDOUT;
		q->r.flags |= OSD_REQ_RETRY;
		q->r.attempt++;
		sleep_ms(200);
	}
}

static void req_free(struct req *q)
{
	cbuf_free(&q->data);
}

/* ---- the checks --------------------------------------------------------------------------- */

static void kv_one(struct cbuf *b, bool values, const char *k, const char *v)
{
	struct osd_kvenc e;

	osd_kv_enc_start(b, &e, values);
	osd_kv_enc_add(b, &e, k, (uint32_t)strlen(k), v, v ? (uint32_t)strlen(v) : 0);
	osd_kv_enc_finish(b, &e, false);
}

static void test_every_op(void)
{
	struct req q;
	struct result res;
	uint64_t n;
	const uint8_t *p;
	struct cbuf kv;
	struct osd_kvdec it;
	const uint8_t *k, *v;
	uint32_t kl, vl;

	(void)p;
	/* create exclusive, then again -> EEXIST */
	req_init(&q, "obj-a");
	add_op(&q, OSD_OP_CREATE, NULL, 0)->flags = OSD_OPF_EXCL;
	CHECK(do_req(&q, &res) == 0 && res.rep.result == 0, "create: %d", res.rep.result);
	CHECK(res.rep.version.v > 0, "write has a version");
	result_free(&res);
	req_free(&q);
	req_init(&q, "obj-a");
	add_op(&q, OSD_OP_CREATE, NULL, 0)->flags = OSD_OPF_EXCL;
	CHECK(do_req(&q, &res) == 0 && res.rep.result == -EEXIST, "create excl: %d",
	      res.rep.result);
	result_free(&res);
	req_free(&q);

	/* write, append, read back */
	req_init(&q, "obj-a");
	add_op(&q, OSD_OP_WRITE, "hello world", 11)->off = 0;
	add_op(&q, OSD_OP_APPEND, "!!", 2);
	CHECK(do_req(&q, &res) == 0 && res.rep.result == 0, "write+append: %d", res.rep.result);
	result_free(&res);
	req_free(&q);
	req_init(&q, "obj-a");
	add_op(&q, OSD_OP_READ, NULL, 0);
	add_op(&q, OSD_OP_STAT, NULL, 0);
	CHECK(do_req(&q, &res) == 0 && res.rep.result == 0, "read: %d", res.rep.result);
	p = out_of(&res, 0, &n);
	CHECK(n == 13 && !memcmp(p, "hello world!!", 13), "read back %d bytes", (int)n);
	{
		struct osd_stat st;
		struct cdec d;

		p = out_of(&res, 1, &n);
		cdec_init(&d, p, n);
		CHECK(osd_stat_decode(&d, &st) == 0 && st.size == 13, "stat size %d",
		      (int)st.size);
		CHECK(st.mtime_ns > 0, "mtime set");
	}
	result_free(&res);
	req_free(&q);

	/* zero (never extends), truncate, writefull */
	req_init(&q, "obj-a");
	add_op(&q, OSD_OP_ZERO, NULL, 0)->off = 6;
	q.r.ops[0].len = 100;
	add_op(&q, OSD_OP_READ, NULL, 0);
	CHECK(do_req(&q, &res) == 0 && res.rep.result == 0, "zero: %d", res.rep.result);
	result_free(&res);
	req_free(&q);
	req_init(&q, "obj-a");
	add_op(&q, OSD_OP_READ, NULL, 0);
	CHECK(do_req(&q, &res) == 0, "read after zero");
	p = out_of(&res, 0, &n);
	CHECK(n == 13 && !memcmp(p, "hello \0\0\0\0\0\0\0", 13), "zeroed tail, size kept (%d)",
	      (int)n);
	result_free(&res);
	req_free(&q);
	req_init(&q, "obj-a");
	add_op(&q, OSD_OP_TRUNCATE, NULL, 0)->off = 4;
	add_op(&q, OSD_OP_STAT, NULL, 0);
	CHECK(do_req(&q, &res) == 0 && res.rep.result == 0, "truncate");
	result_free(&res);
	req_free(&q);
	req_init(&q, "obj-a");
	add_op(&q, OSD_OP_READ, NULL, 0);
	CHECK(do_req(&q, &res) == 0, "read after truncate");
	p = out_of(&res, 0, &n);
	CHECK(n == 4 && !memcmp(p, "hell", 4), "truncated to 4 (%d)", (int)n);
	result_free(&res);
	req_free(&q);
	req_init(&q, "obj-b");
	add_op(&q, OSD_OP_WRITEFULL, "full content", 12);
	CHECK(do_req(&q, &res) == 0 && res.rep.result == 0, "writefull");
	result_free(&res);
	req_free(&q);

	/* xattrs */
	req_init(&q, "obj-b");
	op_name(add_op(&q, OSD_OP_SETXATTR, "v1", 2), "user.a");
	op_name(add_op(&q, OSD_OP_SETXATTR, "v2", 2), "user.b");
	CHECK(do_req(&q, &res) == 0 && res.rep.result == 0, "setxattr");
	result_free(&res);
	req_free(&q);
	req_init(&q, "obj-b");
	op_name(add_op(&q, OSD_OP_RMXATTR, NULL, 0), "user.b");
	CHECK(do_req(&q, &res) == 0 && res.rep.result == 0, "rmxattr");
	result_free(&res);
	req_free(&q);
	req_init(&q, "obj-b");
	op_name(add_op(&q, OSD_OP_GETXATTR, NULL, 0), "user.a");
	add_op(&q, OSD_OP_GETXATTRS, NULL, 0);
	op_name(add_op(&q, OSD_OP_GETXATTR, NULL, 0), "user.b");
	q.r.ops[2].flags = OSD_OPF_FAILOK;
	CHECK(do_req(&q, &res) == 0 && res.rep.result == 0, "getxattr: %d", res.rep.result);
	p = out_of(&res, 0, &n);
	CHECK(n == 2 && !memcmp(p, "v1", 2), "xattr value");
	p = out_of(&res, 1, &n);
	CHECK(osd_kv_dec_open(&it, p, n) == 0 && it.n == 1, "getxattrs lists one");
	CHECK(res.rep.ops[2].rc == -ENODATA, "removed xattr: %d", res.rep.ops[2].rc);
	result_free(&res);
	req_free(&q);

	/* omap */
	req_init(&q, "obj-b");
	cbuf_init(&kv);
	{
		struct osd_kvenc e;

		osd_kv_enc_start(&kv, &e, true);
		osd_kv_enc_add(&kv, &e, "k1", 2, "val1", 4);
		osd_kv_enc_add(&kv, &e, "k2", 2, "val2", 4);
		osd_kv_enc_add(&kv, &e, "k3", 2, "val3", 4);
		osd_kv_enc_finish(&kv, &e, false);
	}
	add_op(&q, OSD_OP_OMAP_SET, kv.data, kv.len);
	CHECK(do_req(&q, &res) == 0 && res.rep.result == 0, "omap set: %d", res.rep.result);
	result_free(&res);
	req_free(&q);
	cbuf_reset(&kv);
	req_init(&q, "obj-b");
	kv_one(&kv, false, "k2", NULL);
	add_op(&q, OSD_OP_OMAP_RMKEYS, kv.data, kv.len);
	CHECK(do_req(&q, &res) == 0 && res.rep.result == 0, "omap rmkeys");
	result_free(&res);
	req_free(&q);
	cbuf_reset(&kv);
	req_init(&q, "obj-b");
	kv_one(&kv, false, "k1", NULL);
	add_op(&q, OSD_OP_OMAP_GET, kv.data, kv.len);
	add_op(&q, OSD_OP_OMAP_GET_RANGE, NULL, 0)->len = 10;
	CHECK(do_req(&q, &res) == 0 && res.rep.result == 0, "omap get: %d", res.rep.result);
	p = out_of(&res, 0, &n);
	CHECK(osd_kv_dec_open(&it, p, n) == 0 && it.n == 1 &&
		      osd_kv_dec_next(&it, &k, &kl, &v, &vl) == 1 && vl == 4 && !memcmp(v, "val1", 4),
	      "omap get k1");
	p = out_of(&res, 1, &n);
	CHECK(osd_kv_dec_open(&it, p, n) == 0 && it.n == 2 && !it.more, "omap range: %u",
	      it.n);
	result_free(&res);
	req_free(&q);
	cbuf_free(&kv);

	/* compound atomic failure: write + create excl of an existing object -> nothing */
	req_init(&q, "obj-b");
	add_op(&q, OSD_OP_WRITE, "XXXX", 4);
	add_op(&q, OSD_OP_CREATE, NULL, 0)->flags = OSD_OPF_EXCL;
	add_op(&q, OSD_OP_APPEND, "YY", 2);
	CHECK(do_req(&q, &res) == 0 && res.rep.result == -EEXIST, "compound fails: %d",
	      res.rep.result);
	CHECK(res.rep.ops[2].rc == -ECANCELED, "later op cancelled: %d", res.rep.ops[2].rc);
	result_free(&res);
	req_free(&q);
	req_init(&q, "obj-b");
	add_op(&q, OSD_OP_READ, NULL, 0);
	CHECK(do_req(&q, &res) == 0, "read obj-b");
	p = out_of(&res, 0, &n);
	CHECK(n == 12 && !memcmp(p, "full content", 12), "failed compound applied nothing");
	result_free(&res);
	req_free(&q);

	/* remove, then reads fail with ENOENT */
	req_init(&q, "obj-c");
	add_op(&q, OSD_OP_WRITE, "tmp", 3);
	CHECK(do_req(&q, &res) == 0 && res.rep.result == 0, "write obj-c");
	result_free(&res);
	req_free(&q);
	req_init(&q, "obj-c");
	add_op(&q, OSD_OP_REMOVE, NULL, 0);
	CHECK(do_req(&q, &res) == 0 && res.rep.result == 0, "remove");
	result_free(&res);
	req_free(&q);
	req_init(&q, "obj-c");
	add_op(&q, OSD_OP_STAT, NULL, 0);
	CHECK(do_req(&q, &res) == 0 && res.rep.result == -ENOENT, "stat removed: %d",
	      res.rep.result);
	result_free(&res);
	req_free(&q);
}

/* LIST every PG of the pool and count the objects. */
static int count_objects(void)
{
	struct osdmap *map = monc_get_osdmap(monc);
	const struct pool_info *pool = osdmap_pool(map, pool_id);
	uint32_t pg_num = pool ? pool->pg_num : 0;
	int total = 0;

	osdmap_put(map);
	for (uint32_t ps = 0; ps < pg_num; ps++) {
		char cursor[OSD_OID_MAX + 1] = "";
		bool more = true;

		while (more) {
			struct req q;
			struct result res;
			struct osd_kvdec it;
			const uint8_t *p, *k, *v;
			uint32_t kl, vl;
			uint64_t n;

			req_init(&q, "");
			q.r.pgid = (struct pg_id){ pool_id, ps };
			op_name(add_op(&q, OSD_OP_LIST, NULL, 0), cursor);
			q.r.ops[0].len = 3;
			if (do_req(&q, &res) || res.rep.result) {
				CHECK(0, "list pg 1.%x failed", ps);
				return -1;
			}
			p = out_of(&res, 0, &n);
			if (osd_kv_dec_open(&it, p, n)) {
				CHECK(0, "bad list output");
				return -1;
			}
			more = it.more;
			while (osd_kv_dec_next(&it, &k, &kl, &v, &vl) == 1) {
				memcpy(cursor, k, kl);
				cursor[kl] = 0;
				total++;
			}
			result_free(&res);
			req_free(&q);
		}
	}
	return total;
}

static void test_dup_and_misdirected(void)
{
	struct req q;
	struct result res;
	struct osdmap *map;
	char addr[OSDMAP_ADDR_MAX];
	int primary = -1;
	uint64_t n;
	const uint8_t *p;

	/* the same append sent twice (a resend) is applied once */
	req_init(&q, "obj-dup");
	add_op(&q, OSD_OP_APPEND, "abc", 3);
	CHECK(do_req(&q, &res) == 0 && res.rep.result == 0, "append");
	result_free(&res);
	q.r.flags |= OSD_REQ_RETRY;
	CHECK(do_req(&q, &res) == 0 && res.rep.result == 0, "resent append answered");
	CHECK(res.rep.flags & OSD_REPLY_DUP, "answered as a duplicate (flags %x)", res.rep.flags);
	result_free(&res);
	req_free(&q);
	req_init(&q, "obj-dup");
	add_op(&q, OSD_OP_READ, NULL, 0);
	CHECK(do_req(&q, &res) == 0, "read obj-dup");
	p = out_of(&res, 0, &n);
	CHECK(n == 3 && !memcmp(p, "abc", 3), "append applied once (size %d)", (int)n);
	result_free(&res);
	req_free(&q);

	/* an op sent to a replica: -ESTALE (misdirected) with the OSD's epoch */
	req_init(&q, "obj-a");
	add_op(&q, OSD_OP_READ, NULL, 0);
	map = monc_get_osdmap(monc);
	CHECK(target(&q, map, addr, &primary) == 0, "target");
	for (int32_t id = 0; id < map->max_osd; id++) {
		const struct osd_info *oi = osdmap_osd(map, id);

		if (oi && id != primary && osd_info_up(oi)) {
			strcpy(addr, oi->addr);
			break;
		}
	}
	q.r.epoch = 1; /* an old map, too */
	CHECK(send_to(&q, addr, &res, 5000) == 0, "misdirected op answered");
	CHECK(res.rep.result == -ESTALE && (res.rep.flags & OSD_REPLY_MISDIRECTED),
	      "misdirected: result %d flags %x", res.rep.result, res.rep.flags);
	CHECK(res.rep.epoch >= map->epoch, "reply carries the OSD's epoch %u", res.rep.epoch);
	osdmap_put(map);
	result_free(&res);
	/* the client follows the answer and succeeds */
	CHECK(do_req(&q, &res) == 0 && res.rep.result == 0, "corrected op: %d", res.rep.result);
	result_free(&res);
	req_free(&q);
}

struct future_ctx {
	struct req q;
	char addr[OSDMAP_ADDR_MAX];
	struct result res;
	int r;
	uint64_t took_ms;
};

static void *future_send(void *arg)
{
	struct future_ctx *f = arg;
	uint64_t t0 = now_mono_ns();

	f->r = send_to(&f->q, f->addr, &f->res, 20000);
	f->took_ms = (now_mono_ns() - t0) / 1000000;
	return NULL;
}

/* An op from a client whose map is newer than the OSD's waits for that map. */
static void test_newer_epoch(void)
{
	struct future_ctx f;
	struct osdmap *map = monc_get_osdmap(monc);
	const char *argv[] = { "osd", "pool", "create", "other", "4", "3" };
	pthread_t th;
	int rc = -1;

	req_init(&f.q, "obj-a");
	add_op(&f.q, OSD_OP_READ, NULL, 0);
	CHECK(target(&f.q, map, f.addr, NULL) == 0, "target");
	osdmap_put(map);
	f.q.r.epoch++; /* from the future */
	pthread_create(&th, NULL, future_send, &f);
	sleep_ms(1500);
	CHECK(monc_command(monc, argv, 6, NULL, 0, &rc, NULL, NULL, NULL, 10000) == 0 && rc == 0,
	      "pool create (new epoch)");
	pthread_join(th, NULL);
	CHECK(f.r == 0 && f.res.rep.result == 0, "op with a newer epoch answered once the OSD has "
	      "the map (r %d result %d)", f.r, f.res.m ? f.res.rep.result : 0);
	CHECK(f.took_ms >= 1000, "it waited for the map (%llu ms)", (unsigned long long)f.took_ms);
	result_free(&f.res);
	req_free(&f.q);
}

static int wait_osds_up(int want, int timeout_s)
{
	uint64_t end = now_mono_ns() + (uint64_t)timeout_s * 1000000000ull;

	for (;;) {
		struct osdmap *map = monc_get_osdmap(monc);
		int num = 0, up = 0, in = 0;

		osdmap_count_osds(map, &num, &up, &in);
		osdmap_put(map);
		if (up == want)
			return 0;
		if (now_mono_ns() > end)
			return -ETIMEDOUT;
		sleep_ms(200);
	}
}

static void test_min_size(void)
{
	struct req q;
	struct result res;
	char addr[OSDMAP_ADDR_MAX];
	struct osdmap *map;
	int primary = -1, r;

	/* a write first, so the primary holds live sessions to both replicas */
	req_init(&q, "obj-minsize");
	add_op(&q, OSD_OP_WRITEFULL, "before", 6);
	CHECK(do_req(&q, &res) == 0 && res.rep.result == 0, "write before min_size test");
	result_free(&res);
	req_free(&q);
	/* find the primary of the object, stop the two others */
	req_init(&q, "obj-minsize");
	add_op(&q, OSD_OP_WRITEFULL, "survives", 8);
	map = monc_get_osdmap(monc);
	target(&q, map, addr, &primary);
	osdmap_put(map);
	for (int id = 0; id < 3; id++)
		if (id != primary)
			sh("%s/cairn-up kill --dir %s osd.%d", bin, dir, id);
	CHECK(wait_osds_up(1, 60) == 0, "two OSDs marked down");
	map = monc_get_osdmap(monc);
	r = target(&q, map, addr, NULL);
	osdmap_put(map);
	CHECK(r == 0, "target with one OSD");
	r = send_to(&q, addr, &res, 3000);
	CHECK(r == -ETIMEDOUT, "write below min_size waits (got %d, result %d)", r,
	      res.m ? res.rep.result : 0);
	result_free(&res);
	/* bring one back: the write (resent with the same reqid) completes */
	sh("%s/cairn-up restart --dir %s osd.%d", bin, dir, primary == 0 ? 1 : 0);
	CHECK(wait_osds_up(2, 60) == 0, "one OSD back up");
	q.r.flags |= OSD_REQ_RETRY;
	CHECK(do_req(&q, &res) == 0 && res.rep.result == 0, "write completes at min_size: %d",
	      res.rep.result);
	result_free(&res);
	req_free(&q);
	sh("%s/cairn-up restart --dir %s osd.%d", bin, dir, primary == 2 ? 1 : 2);
	CHECK(wait_osds_up(3, 60) == 0, "all OSDs back");
}

/* ---- replicas identical ----------------------------------------------------------------- */

struct dump {
	struct cbuf b;
	struct store *s;
	const char *coll;
};

static int dump_kv(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	struct dump *d = arg;

	enc_bytes(&d->b, k, (uint32_t)kl);
	enc_bytes(&d->b, v, (uint32_t)vl);
	return 0;
}

static int dump_attr(void *arg, const char *name, const void *v, size_t vl)
{
	return dump_kv(arg, name, strlen(name), v, vl);
}

static int dump_obj(void *arg, const void *oid, size_t oidlen, uint64_t hash)
{
	struct dump *d = arg;
	struct store_stat st;
	void *buf;

	(void)hash;
	enc_bytes(&d->b, oid, (uint32_t)oidlen);
	if (store_stat(d->s, d->coll, oid, oidlen, &st))
		return -EIO;
	enc_u64(&d->b, st.size);
	buf = malloc(st.size + 1);
	if (store_read(d->s, d->coll, oid, oidlen, 0, st.size, buf) != (ssize_t)st.size) {
		free(buf);
		return -EIO;
	}
	enc_raw(&d->b, buf, st.size);
	free(buf);
	store_getattrs(d->s, d->coll, oid, oidlen, dump_attr, d);
	enc_u8(&d->b, 0xaa);
	store_omap_iterate(d->s, d->coll, oid, oidlen, NULL, 0, NULL, 0, 0, dump_kv, d);
	return 0;
}

static int dump_coll(void *arg, const char *coll)
{
	struct dump *d = arg;
	struct store_cursor c;

	if (!strcmp(coll, "meta"))
		return 0;
	enc_str(&d->b, coll);
	d->coll = coll;
	store_cursor_begin(&c);
	return store_list(d->s, coll, &c, NULL, 0, dump_obj, d, NULL) < 0 ? -EIO : 0;
}

static void test_replicas_identical(int expect_objects)
{
	struct dump d[3];
	char path[400];

	for (int i = 0; i < 3; i++)
		sh("%s/cairn-up kill --dir %s osd.%d", bin, dir, i);
	for (int i = 0; i < 3; i++) {
		cbuf_init(&d[i].b);
		snprintf(path, sizeof(path), "%s/osd.%d", dir, i);
		CHECK(store_open(&d[i].s, path, NULL) == 0, "open store of osd.%d", i);
		if (!d[i].s)
			return;
		CHECK(store_list_colls(d[i].s, dump_coll, &d[i]) == 0, "dump osd.%d", i);
		store_close(d[i].s);
	}
	CHECK(d[0].b.len > 0 && expect_objects > 0, "something stored");
	for (int i = 1; i < 3; i++)
		CHECK(d[i].b.len == d[0].b.len && !memcmp(d[i].b.data, d[0].b.data, d[0].b.len),
		      "osd.%d identical to osd.0 (%zu vs %zu bytes of dump)", i, d[i].b.len,
		      d[0].b.len);
	for (int i = 0; i < 3; i++)
		cbuf_free(&d[i].b);
	/* the same check with the store tool, object by object */
	CHECK(sh("bash -c '. %s/tests/lib/cluster.sh; CAIRN_BIN=%s cluster_compare_replicas %s 3'",
		 getenv("CAIRN_ROOT") ? getenv("CAIRN_ROOT") : ".", bin, dir) == 0,
	      "cairn-store sees identical replicas");
}

int main(void)
{
	const char *b = getenv("CAIRN_BIN");
	char err[256];
	struct msgr_opts mo;
	struct monc_opts mco;
	int nobj;

	snprintf(bin, sizeof(bin), "%s", b ? b : "build/bin");
	snprintf(dir, sizeof(dir), "%s", "/tmp/cairn-osdwire.XXXXXX");
	if (access("build/bin/cairn-mon", X_OK) && !b) {
		printf("skip: cairn-mon is not built\n");
		return 77;
	}
	snprintf(cpath, sizeof(cpath), "%s/cairn-mon", bin);
	if (access(cpath, X_OK)) {
		printf("skip: %s is not built\n", cpath);
		return 77;
	}
	if (!mkdtemp(dir)) {
		dir[0] = 0;
		return 1;
	}
	atexit(cleanup);
	if (sh("%s/cairn-up start --dir %s --osds 3 --pool data:8:3 --timeout 90", bin, dir)) {
		fprintf(stderr, "cluster did not start\n");
		sh("tail -n 30 %s/*.log", dir);
		return 1;
	}
	snprintf(cpath, sizeof(cpath), "%s/cairn.conf", dir);
	if (conf_load(&conf, cpath, "client", NULL, NULL, NULL, err, sizeof(err))) {
		fprintf(stderr, "conf: %s\n", err);
		return 1;
	}
	client_num = (int64_t)(rand_u64() >> 1);
	memset(&mo, 0, sizeof(mo));
	mo.me.type = MSG_ENTITY_CLIENT;
	mo.me.num = client_num;
	mo.nworkers = 1;
	mo.conf = conf;
	mo.ops = &ops;
	msgr = msgr_create(&mo);
	memset(&mco, 0, sizeof(mco));
	mco.msgr = msgr;
	mco.conf = conf;
	monc = monc_create(&mco);
	if (!msgr || !monc || msgr_start(msgr)) {
		fprintf(stderr, "client setup failed\n");
		return 1;
	}
	monc_sub_osdmap(monc, 0);
	if (monc_wait_epoch(monc, 1, 30000)) {
		fprintf(stderr, "no osdmap\n");
		return 1;
	}
	{
		struct osdmap *map = monc_get_osdmap(monc);
		const struct pool_info *p = osdmap_lookup_pool_by_name(map, "data");

		pool_id = p ? p->id : -1;
		osdmap_put(map);
		if (pool_id < 0) {
			fprintf(stderr, "no pool 'data'\n");
			return 1;
		}
	}
	test_every_op();
	fprintf(stderr, "every op: %d failures so far\n", failures);
	test_dup_and_misdirected();
	fprintf(stderr, "dup/misdirected: %d failures so far\n", failures);
	test_newer_epoch();
	fprintf(stderr, "newer epoch: %d failures so far\n", failures);
	nobj = count_objects();
	CHECK(nobj == 3, "LIST finds 3 objects (obj-a, obj-b, obj-dup), got %d", nobj);
	/* every OSD holds the same objects (stores read directly, OSDs stopped) */
	test_replicas_identical(nobj);
	for (int i = 0; i < 3; i++)
		sh("%s/cairn-up restart --dir %s osd.%d", bin, dir, i);
	CHECK(wait_osds_up(3, 60) == 0, "OSDs restarted");
	CHECK(sh("%s/cairn-up wait --dir %s --timeout 60", bin, dir) == 0, "active+clean again");
	test_min_size();
	fprintf(stderr, "min_size: %d failures so far\n", failures);
	monc_destroy(monc);
	msgr_destroy(msgr);
	conf_free(conf);
	printf("%s\n", failures ? "FAILED" : "ok");
	return failures ? 1 : 0;
}
