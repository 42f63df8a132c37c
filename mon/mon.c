/*
 * mon — the cairn-mon process shell: messenger, the mon thread, sessions and subscriptions,
 * map serving, and the one path every change takes (see mon.h).
 *
 *   loop thread(s)            mon thread
 *   dispatch(c, m) --queue--> handle_msg(): decode -> osd_monitor / pgmap / commands
 *   reset(c)       --queue--> drop the session
 *                             every mon_tick_interval: osdmon_tick()
 *
 *   change:  pending = mon_pending()        copy of map, epoch + 1
 *            ... mutate pending ...
 *            mon_commit(pending)            diff -> inc; store full+inc (one synced batch)
 *                                           -> map = pending -> mon_publish()
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/config.h"
#include "common/encode.h"
#include "common/log.h"
#include "common/msg.h"
#include "common/msg_types.h"
#include "common/util.h"
#include "mon/mon.h"
#include "mon/mon_main.h"

enum work_kind { WORK_MSG, WORK_RESET };

struct work {
	struct work *next;
	enum work_kind kind;
	struct msg_conn *conn; /* ref */
	struct msg *m;
};

struct mon_queue {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct work *head, *tail;
	unsigned len;
};

static struct mon_queue g_q = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, NULL, 0};
#define MON_QUEUE_MAX 100000

static void enqueue(enum work_kind kind, struct msg_conn *c, struct msg *m)
{
	struct work *w = calloc(1, sizeof(*w));

	if (!w) {
		if (m)
			msg_free(m);
		return;
	}
	w->kind = kind;
	w->conn = msg_conn_get(c);
	w->m = m;
	pthread_mutex_lock(&g_q.lock);
	if (g_q.len >= MON_QUEUE_MAX) {
		pthread_mutex_unlock(&g_q.lock);
		CLOG_WARN("mon", "work queue full; dropping message");
		msg_conn_put(w->conn);
		if (m)
			msg_free(m);
		free(w);
		return;
	}
	if (g_q.tail)
		g_q.tail->next = w;
	else
		g_q.head = w;
	g_q.tail = w;
	g_q.len++;
	pthread_cond_signal(&g_q.cond);
	pthread_mutex_unlock(&g_q.lock);
}

static void ms_dispatch(struct msg_conn *c, struct msg *m, void *arg)
{
	(void)arg;
	enqueue(WORK_MSG, c, m);
}

static void ms_reset(struct msg_conn *c, void *arg)
{
	(void)arg;
	enqueue(WORK_RESET, c, NULL);
}

/* ---- sending ---- */

static int send_buf(struct msg_conn *c, uint16_t type, uint64_t tid, const struct cbuf *b)
{
	return msg_send_cbuf(c, type, tid, MSG_PRIO_HIGH, b);
}

/* Sends maps so that a peer holding epoch from-1 reaches up to `to` (<= current). from == 0
 * or from < first_epoch: the newest full map. Returns the next epoch the peer needs. */
static uint32_t send_maps(struct mon *mon, struct msg_conn *c, uint32_t from, uint32_t to,
			  bool full)
{
	struct mon_osdmap_msg om;
	struct mon_map_blob blobs[1024];
	void *bufs[1024];
	uint32_t cur = mon->map->epoch, maxn;
	unsigned n = 0;
	struct cbuf b;

	maxn = (uint32_t)conf_int(mon->conf, "mon_max_maps_per_message");
	if (maxn > 1024)
		maxn = 1024;
	if (to == 0 || to > cur)
		to = cur;
	memset(&om, 0, sizeof(om));
	memcpy(om.fsid, mon->map->fsid, 16);
	om.oldest = mon->first_epoch;
	om.newest = cur;
	if (from == 0 || from < mon->first_epoch || full) {
		uint32_t e = from == 0 || from < mon->first_epoch ? cur : (from > to ? to : from);
		size_t len;
		if (mon_store_get_full(mon->store, e, &bufs[0], &len))
			return from;
		blobs[0].epoch = e;
		blobs[0].data = bufs[0];
		blobs[0].len = (uint32_t)len;
		n = 1;
		om.full = blobs;
		om.num_full = 1;
		from = e + 1;
		if (full) /* one full map per request */
			to = e;
	} else {
		for (uint32_t e = from; e <= to && n < maxn; e++, n++) {
			size_t len;
			if (mon_store_get_inc(mon->store, e, &bufs[n], &len))
				break;
			blobs[n].epoch = e;
			blobs[n].data = bufs[n];
			blobs[n].len = (uint32_t)len;
		}
		om.inc = blobs;
		om.num_inc = n;
		from += n;
	}
	if (n) {
		cbuf_init(&b);
		mon_osdmap_msg_encode(&om, &b);
		send_buf(c, MSG_MON_OSDMAP, 0, &b);
		cbuf_free(&b);
	}
	for (unsigned i = 0; i < n; i++)
		free(bufs[i]);
	return from;
}

static struct mon_session *session_of(struct mon *mon, struct msg_conn *c, bool create)
{
	struct mon_session *s;

	for (s = mon->sessions; s; s = s->next)
		if (s->conn == c)
			return s;
	if (!create)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->conn = msg_conn_get(c);
	s->next = mon->sessions;
	mon->sessions = s;
	return s;
}

static void session_drop(struct mon *mon, struct msg_conn *c)
{
	for (struct mon_session **pp = &mon->sessions; *pp; pp = &(*pp)->next) {
		if ((*pp)->conn == c) {
			struct mon_session *s = *pp;
			*pp = s->next;
			msg_conn_put(s->conn);
			free(s);
			return;
		}
	}
}

static void session_catch_up(struct mon *mon, struct mon_session *s)
{
	unsigned guard = 0;

	while (s->sub_osdmap && (s->sub_next == 0 || s->sub_next <= mon->map->epoch) &&
	       guard++ < 1000) {
		uint32_t nx = send_maps(mon, s->conn, s->sub_next, 0, false);
		if (nx == s->sub_next)
			break; /* store read failed; retry on the next publish */
		s->sub_next = nx;
	}
	if (s->onetime && s->sub_next > mon->map->epoch)
		s->sub_osdmap = false;
}

void mon_publish(struct mon *mon)
{
	struct mon_session **pp = &mon->sessions;

	while (*pp) {
		struct mon_session *s = *pp;

		if (!msg_conn_is_open(s->conn)) { /* gone without a reset: drop it here */
			*pp = s->next;
			msg_conn_put(s->conn);
			free(s);
			continue;
		}
		session_catch_up(mon, s);
		pp = &s->next;
	}
}

/* ---- the change path ---- */

struct osdmap *mon_pending(struct mon *mon)
{
	struct osdmap *p = osdmap_copy(mon->map);

	if (!p)
		return NULL;
	p->epoch = mon->map->epoch + 1;
	p->modified = now_wall_ns();
	return p;
}

static bool inc_is_empty(const struct osdmap_inc *inc)
{
	return inc->new_flags < 0 && inc->new_max_osd < 0 && !inc->num_osds &&
	       !inc->num_new_pools && !inc->num_old_pools && inc->new_pool_max < 0 &&
	       !inc->num_pg_temp && !inc->num_primary_temp && !inc->crush_len &&
	       !inc->has_mds_map;
}

int mon_commit(struct mon *mon, struct osdmap *pending)
{
	struct osdmap_inc inc;
	struct cbuf full, incb;
	int err;

	cbuf_init(&full);
	cbuf_init(&incb);
	err = osdmap_finalize(pending);
	if (err)
		goto out;
	err = osdmap_diff(mon->map, pending, &inc);
	if (err)
		goto out;
	if (inc_is_empty(&inc)) {
		osdmap_inc_free(&inc);
		err = 1;
		goto out;
	}
	osdmap_encode(pending, &full);
	osdmap_inc_encode(&inc, &incb);
	osdmap_inc_free(&inc);
	err = full.err ? full.err : incb.err;
	if (err)
		goto out;
	/* commit (a later Paxos round replaces this one local write) */
	err = mon_store_put_epoch(mon->store, pending->epoch, full.data, full.len, incb.data,
				  incb.len);
	if (err) {
		/* memory and disk may disagree from here: refuse to go on (sticky failure) */
		CLOG_ERR("mon", "store write failed; exiting to replay from disk");
		abort();
	}
	osdmap_put(mon->map);
	mon->map = pending;
	pending = NULL;
	mon->ncommits++;
	CLOG_INFO("mon", "committed osdmap e%u", mon->map->epoch);
	pgmap_on_map(mon->pgmap, mon->map);
	pgla_on_map(mon);
	mon_publish(mon);
out:
	osdmap_put(pending);
	cbuf_free(&full);
	cbuf_free(&incb);
	return err;
}

/* ---- message handling ---- */

static void handle_subscribe(struct mon *mon, struct msg_conn *c, struct msg *m)
{
	struct mon_subscribe sub;
	struct mon_session *s;

	if (mon_subscribe_decode(&sub, m->front, m->front_len)) {
		CLOG_WARN("mon", "malformed subscribe; closing connection");
		msg_conn_close(c);
		return;
	}
	s = session_of(mon, c, true);
	if (!s)
		return;
	for (uint32_t i = 0; i < sub.n; i++) {
		if (sub.items[i].what != MON_SUB_OSDMAP)
			continue;
		s->sub_osdmap = true;
		s->sub_next = sub.items[i].start;
		s->onetime = sub.items[i].flags & MON_SUB_ONETIME;
		session_catch_up(mon, s);
	}
}

static void handle_get_osdmap(struct mon *mon, struct msg_conn *c, struct msg *m)
{
	struct mon_get_osdmap g;
	uint32_t from, guard = 0;

	if (mon_get_osdmap_decode(&g, m->front, m->front_len)) {
		CLOG_WARN("mon", "malformed get_osdmap; closing connection");
		msg_conn_close(c);
		return;
	}
	from = g.start;
	if (g.end && g.end < from)
		return;
	if (g.full) {
		send_maps(mon, c, from ? from : mon->map->epoch, from ? from : 0, true);
		return;
	}
	while ((from == 0 || from <= (g.end ? g.end : mon->map->epoch)) && from <= mon->map->epoch &&
	       guard++ < 1000) {
		uint32_t nx = send_maps(mon, c, from, g.end, false);
		if (nx == from)
			break;
		from = nx;
	}
}

static void handle_command(struct mon *mon, struct msg_conn *c, struct msg *m)
{
	struct mon_command cmd;
	struct mon_command_reply r;
	char *status = NULL, *out = NULL;
	size_t outlen = 0;
	struct cbuf b;
	int rc;

	rc = mon_command_decode(&cmd, m->front, m->front_len);
	if (rc) {
		/* undecodable: say so (the tid is still known), then nothing else */
		CLOG_WARN("mon", "malformed command message: %s", cairn_strerror(rc));
		status = strdup("malformed command message");
		rc = -EBADMSG;
	} else {
		rc = mon_command_run(mon, &cmd, &status, &out, &outlen);
		mon_command_free(&cmd);
	}
	memset(&r, 0, sizeof(r));
	r.rc = rc;
	r.status = status ? status : "";
	r.out = (const uint8_t *)out;
	r.outlen = (uint32_t)outlen;
	r.epoch = mon->map->epoch;
	cbuf_init(&b);
	mon_command_reply_encode(&r, &b);
	if (send_buf(c, MSG_MON_COMMAND_REPLY, m->tid, &b) == -EMSGSIZE) {
		/* too big for one message: say so rather than leave the caller waiting */
		r.rc = -EMSGSIZE;
		r.status = "reply larger than ms_max_message_size";
		r.out = NULL;
		r.outlen = 0;
		cbuf_reset(&b);
		mon_command_reply_encode(&r, &b);
		send_buf(c, MSG_MON_COMMAND_REPLY, m->tid, &b);
	}
	cbuf_free(&b);
	free(status);
	free(out);
}

static void handle_msg(struct mon *mon, struct msg_conn *c, struct msg *m)
{
	switch (m->type) {
	case MSG_MON_SUBSCRIBE:
		handle_subscribe(mon, c, m);
		break;
	case MSG_MON_GET_OSDMAP:
		handle_get_osdmap(mon, c, m);
		break;
	case MSG_MON_COMMAND:
		handle_command(mon, c, m);
		break;
	case MSG_MON_OSD_BOOT: {
		struct mon_osd_boot bt;
		if (mon_osd_boot_decode(&bt, m->front, m->front_len))
			goto bad;
		osdmon_handle_boot(mon, c, &bt);
		break;
	}
	case MSG_MON_OSD_FAILURE: {
		struct mon_osd_failure f;
		if (mon_osd_failure_decode(&f, m->front, m->front_len))
			goto bad;
		osdmon_handle_failure(mon, &f);
		break;
	}
	case MSG_MON_OSD_ALIVE: {
		struct mon_osd_alive a;
		if (mon_osd_alive_decode(&a, m->front, m->front_len))
			goto bad;
		osdmon_handle_alive(mon, &a);
		break;
	}
	case MSG_MON_PG_LA: {
		struct mon_pg_la_msg la;
		if (mon_pg_la_msg_decode(&la, m->front, m->front_len))
			goto bad;
		osdmon_note_seen(mon, la.osd);
		pgla_handle(mon, c, &la);
		mon_pg_la_msg_free(&la);
		break;
	}
	case MSG_MON_PG_STATS: {
		struct mon_pg_stats st;
		if (mon_pg_stats_decode(&st, m->front, m->front_len))
			goto bad;
		osdmon_note_seen(mon, st.osd);
		pgmap_apply_report(mon->pgmap, mon->map, &st);
		mon_pg_stats_free(&st);
		break;
	}
	default:
		CLOG_DEBUG("mon", "ignoring message type %u", m->type);
		break;
	}
	return;
bad:
	CLOG_WARN("mon", "malformed message type %u; closing connection", m->type);
	msg_conn_close(c);
}

/* ---- startup ---- */

static int parse_fsid(const char *s, uint8_t out[16])
{
	int n = 0;

	for (const char *p = s; *p; p++) {
		unsigned v;
		if (*p == '-')
			continue;
		if (n >= 32 || sscanf(p, "%1x", &v) != 1)
			return -EINVAL;
		if (n % 2 == 0)
			out[n / 2] = (uint8_t)(v << 4);
		else
			out[n / 2] |= (uint8_t)v;
		n++;
	}
	return n == 32 ? 0 : -EINVAL;
}

static int load_or_create(struct mon *mon)
{
	uint32_t last = 0;
	void *buf;
	size_t len;
	int err;

	err = mon_store_last_committed(mon->store, &last);
	if (err)
		return err;
	if (last == 0) {
		uint8_t fsid[16];
		struct osdmap *m;
		struct cbuf b;
		const char *fs = conf_str(mon->conf, "fsid");

		if (!fs || !*fs || parse_fsid(fs, fsid)) {
			uint64_t a = rand_u64(), c = rand_u64();
			memcpy(fsid, &a, 8);
			memcpy(fsid + 8, &c, 8);
			fsid[6] = (uint8_t)((fsid[6] & 0x0f) | 0x40);
			fsid[8] = (uint8_t)((fsid[8] & 0x3f) | 0x80);
		}
		err = osdmon_create_initial(mon, fsid, &m);
		if (err)
			return err;
		cbuf_init(&b);
		osdmap_encode(m, &b);
		err = b.err ? b.err : mon_store_put_epoch(mon->store, 1, b.data, b.len, NULL, 0);
		cbuf_free(&b);
		if (err) {
			osdmap_put(m);
			return err;
		}
		mon->map = m;
		mon->first_epoch = 1;
		CLOG_INFO("mon", "created new cluster, osdmap e1");
		return 0;
	}
	err = mon_store_get_full(mon->store, last, &buf, &len);
	if (err)
		return err;
	err = osdmap_decode(&mon->map, buf, len);
	free(buf);
	if (err)
		return err;
	mon_store_first_committed(mon->store, &mon->first_epoch);
	if (!mon->first_epoch)
		mon->first_epoch = 1;
	CLOG_INFO("mon", "loaded osdmap e%u", last);
	return 0;
}

static int write_file(const char *path, const char *text)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fprintf(f, "%s\n", text);
	if (fclose(f))
		return -EIO;
	return rename(tmp, path) ? -errno : 0;
}

int mon_main(const struct cairn_conf *conf, volatile sig_atomic_t *stop)
{
	static const struct msgr_ops ops = {.dispatch = ms_dispatch, .reset = ms_reset};
	struct msgr_opts mo;
	struct mon mon;
	char addr[64];
	const char *data = conf_str(conf, "mon_data");
	const char *a = conf_str(conf, "mon_addr");
	const char *af = conf_str(conf, "mon_addr_file");
	uint64_t tick_ns, next_tick;
	int err;

	memset(&mon, 0, sizeof(mon));
	mon.conf = conf;
	mon.start_ns = now_mono_ns();
	if (!data || !*data) {
		CLOG_ERR("mon", "mon_data is not set");
		return -EINVAL;
	}
	if (!a || !*a)
		a = conf_str(conf, "mon_host");
	snprintf(addr, sizeof(addr), "%.*s", (int)strcspn(a, ", "), a);
	err = mon_store_open(&mon.store, data, true);
	if (err)
		return err;
	mon.pgmap = pgmap_create();
	if (!mon.pgmap) {
		err = -ENOMEM;
		goto out_store;
	}
	err = load_or_create(&mon);
	if (err) {
		CLOG_ERR("mon", "cannot load maps: %s", cairn_strerror(err));
		goto out_pg;
	}
	pgmap_on_map(mon.pgmap, mon.map);
	err = pgla_load(&mon);
	if (err) {
		CLOG_ERR("mon", "cannot load PG last-active records: %s", cairn_strerror(err));
		goto out_pg;
	}
	pgla_on_map(&mon);

	memset(&mo, 0, sizeof(mo));
	mo.me.type = MSG_ENTITY_MON;
	mo.me.num = 0;
	mo.nworkers = 1;
	mo.conf = conf;
	mo.ops = &ops;
	mo.arg = &mon;
	mon.msgr = msgr_create(&mo);
	if (!mon.msgr) {
		err = -ENOMEM;
		goto out_pg;
	}
	err = msgr_bind(mon.msgr, addr);
	if (err) {
		CLOG_ERR("mon", "cannot bind %s: %s", addr, cairn_strerror(err));
		goto out_msgr;
	}
	err = msgr_start(mon.msgr);
	if (err)
		goto out_msgr;
	CLOG_INFO("mon", "listening on %s, osdmap e%u", msgr_addr(mon.msgr), mon.map->epoch);
	if (af && *af && (err = write_file(af, msgr_addr(mon.msgr)))) {
		CLOG_ERR("mon", "cannot write %s: %s", af, cairn_strerror(err));
		goto out_msgr;
	}

	tick_ns = (uint64_t)(conf_double(conf, "mon_tick_interval") * 1e9);
	next_tick = now_mono_ns() + tick_ns;
	while (!*stop) {
		struct work *w = NULL;
		struct timespec ts;
		uint64_t now = now_mono_ns();

		if (now >= next_tick) {
			osdmon_tick(&mon);
			next_tick = now + tick_ns;
		}
		pthread_mutex_lock(&g_q.lock);
		if (!g_q.head) {
			uint64_t wait = next_tick - now;
			if (wait > 200000000ULL)
				wait = 200000000ULL; /* re-check *stop */
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += (long)(wait % 1000000000ULL);
			ts.tv_sec += (time_t)(wait / 1000000000ULL) + ts.tv_nsec / 1000000000L;
			ts.tv_nsec %= 1000000000L;
			pthread_cond_timedwait(&g_q.cond, &g_q.lock, &ts);
		}
		w = g_q.head;
		if (w) {
			g_q.head = w->next;
			if (!g_q.head)
				g_q.tail = NULL;
			g_q.len--;
		}
		pthread_mutex_unlock(&g_q.lock);
		if (!w)
			continue;
		if (w->kind == WORK_MSG) {
			handle_msg(&mon, w->conn, w->m);
			msg_free(w->m);
		} else {
			session_drop(&mon, w->conn);
		}
		msg_conn_put(w->conn);
		free(w);
	}
	CLOG_INFO("mon", "shutting down at osdmap e%u", mon.map->epoch);
	err = 0;
out_msgr:
	while (mon.sessions)
		session_drop(&mon, mon.sessions->conn);
	msgr_destroy(mon.msgr);
	/* drain what the loop queued before it stopped */
	for (;;) {
		struct work *w;
		pthread_mutex_lock(&g_q.lock);
		w = g_q.head;
		if (w) {
			g_q.head = w->next;
			if (!g_q.head)
				g_q.tail = NULL;
			g_q.len--;
		}
		pthread_mutex_unlock(&g_q.lock);
		if (!w)
			break;
		if (w->m)
			msg_free(w->m);
		msg_conn_put(w->conn);
		free(w);
	}
out_pg:
	pgmap_destroy(mon.pgmap);
	free(mon.failures);
	free(mon.osd_last_seen);
	free(mon.osd_up_since);
	free(mon.pgla);
	osdmap_put(mon.map);
out_store:
	mon_store_close(mon.store);
	return err;
}
