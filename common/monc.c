/*
 * monc — the monitor client; see monc.h.
 *
 * State (all under mc->lock unless noted):
 *   conn      the current lossy connection to the mon (a ref), or NULL when none/failed.
 *   map       newest osdmap (a ref).
 *   cmds      commands waiting for a reply, by tid; each is re-sent on reconnect.
 *   sub_*     what to (re)subscribe to; sub_start follows the newest map we have.
 * Maps are applied under mc->apply_lock (one MON_OSDMAP at a time, even if an old and a
 * new connection deliver concurrently), which is also where on_osdmap runs.
 *
 * Connection life: ensure_conn() (tick thread, or a sender) connects when conn is NULL or
 * no longer open, then re-sends the subscription and every pending command. Connecting
 * and sending are done without mc->lock held (the messenger may call back into monc).
 * Missing maps (an epoch newer than ours was announced: by the mon, or by a peer through
 * monc_note_epoch) are asked for every second; still missing after 5 s, the session is
 * replaced (seen once in a thrash soak: an OSD never got one map while its session looked
 * open, and a client's read waited for that map until it timed out).
 */
#include "common/monc.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/config.h"
#include "common/encode.h"
#include "common/log.h"
#include "common/mon_proto.h"
#include "common/msg.h"
#include "common/msg_types.h"
#include "common/osdmap.h"
#include "common/util.h"

struct monc_cmd {
	struct monc_cmd *next;
	uint64_t tid;
	struct cbuf front; /* encoded MON_COMMAND, re-sent after reconnect */
	bool done;
	int rc;
	char *status;
	char *out;
	size_t outlen;
};

struct monc {
	struct msgr *msgr;
	char addr[OSDMAP_ADDR_MAX];
	const struct cairn_conf *conf;
	void (*on_osdmap)(void *arg, struct osdmap *map);
	void *arg;
	unsigned tick_ms;

	pthread_mutex_t lock;
	pthread_cond_t cond;      /* map changes, command replies, tick wake-ups */
	pthread_mutex_t apply_lock;
	struct msg_conn *conn;
	bool reconnect_now;
	struct osdmap *map;
	bool sub_osdmap;
	uint32_t want_epoch;      /* newest epoch someone has shown us */
	uint64_t last_get_ns;     /* when we last asked for missing maps */
	uint64_t behind_ns;       /* since when want_epoch > our epoch (0: not behind) */
	uint64_t next_tid;
	struct monc_cmd *cmds;
	bool stop;
	bool joined;              /* monc_shutdown ran */
	struct monc *live_next;   /* g_live list (g_live_lock) */
	int busy;                 /* handlers inside (g_live_lock) */
	pthread_t thread;
};

/*
 * Live moncs. A process may route a message that its messenger dispatches late (after
 * monc_destroy) to a freed monc; monc_handle / monc_handle_reset therefore look mc up here
 * first and hold it busy while they use it, and monc_destroy unlinks it and waits until no
 * handler is inside. A monc not found here consumes nothing.
 */
static pthread_mutex_t g_live_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_live_cond = PTHREAD_COND_INITIALIZER;
static struct monc *g_live;

static bool live_enter(struct monc *mc)
{
	bool found = false;

	pthread_mutex_lock(&g_live_lock);
	for (struct monc *x = g_live; x; x = x->live_next)
		if (x == mc) {
			mc->busy++;
			found = true;
			break;
		}
	pthread_mutex_unlock(&g_live_lock);
	return found;
}

static void live_exit(struct monc *mc)
{
	pthread_mutex_lock(&g_live_lock);
	if (--mc->busy == 0)
		pthread_cond_broadcast(&g_live_cond);
	pthread_mutex_unlock(&g_live_lock);
}

static void live_add(struct monc *mc)
{
	pthread_mutex_lock(&g_live_lock);
	mc->live_next = g_live;
	g_live = mc;
	pthread_mutex_unlock(&g_live_lock);
}

static void live_remove_and_wait(struct monc *mc)
{
	pthread_mutex_lock(&g_live_lock);
	for (struct monc **pp = &g_live; *pp; pp = &(*pp)->live_next)
		if (*pp == mc) {
			*pp = mc->live_next;
			break;
		}
	while (mc->busy)
		pthread_cond_wait(&g_live_cond, &g_live_lock);
	pthread_mutex_unlock(&g_live_lock);
}

static int send_on(struct msg_conn *c, uint16_t type, uint64_t tid, const struct cbuf *b)
{
	return msg_send_cbuf(c, type, tid, MSG_PRIO_HIGH, b);
}

static void send_subscribe(struct monc *mc, struct msg_conn *c)
{
	struct mon_subscribe s;
	struct cbuf b;
	bool want;

	pthread_mutex_lock(&mc->lock);
	want = mc->sub_osdmap;
	memset(&s, 0, sizeof(s));
	s.n = 1;
	s.items[0].what = MON_SUB_OSDMAP;
	s.items[0].start = mc->map ? mc->map->epoch + 1 : 0;
	pthread_mutex_unlock(&mc->lock);
	if (!want)
		return;
	cbuf_init(&b);
	mon_subscribe_encode(&s, &b);
	send_on(c, MSG_MON_SUBSCRIBE, 0, &b);
	cbuf_free(&b);
}

/* (Re)connects if needed; on a new connection re-sends subscription and pending commands.
 * Returns a ref to the connection (or NULL). Called without mc->lock. */
static struct msg_conn *ensure_conn(struct monc *mc)
{
	struct msg_conn *c, *old = NULL;

	pthread_mutex_lock(&mc->lock);
	if (mc->stop) {
		pthread_mutex_unlock(&mc->lock);
		return NULL;
	}
	if (mc->conn && msg_conn_is_open(mc->conn) && !mc->reconnect_now) {
		c = msg_conn_get(mc->conn);
		pthread_mutex_unlock(&mc->lock);
		return c;
	}
	old = mc->conn;
	mc->conn = NULL;
	mc->reconnect_now = false;
	pthread_mutex_unlock(&mc->lock);
	if (old) {
		msg_conn_close(old);
		msg_conn_put(old);
	}
	c = msgr_connect(mc->msgr, mc->addr, MSG_LOSSY);
	if (!c)
		return NULL;
	pthread_mutex_lock(&mc->lock);
	if (mc->conn || mc->stop) { /* someone else won the race */
		struct msg_conn *theirs = mc->conn ? msg_conn_get(mc->conn) : NULL;
		pthread_mutex_unlock(&mc->lock);
		msg_conn_close(c);
		msg_conn_put(c);
		return theirs;
	}
	mc->conn = msg_conn_get(c);
	pthread_mutex_unlock(&mc->lock);

	send_subscribe(mc, c);
	/* re-send pending commands in tid order; copy each under the lock, send without */
	{
		uint64_t last = 0;
		for (;;) {
			struct cbuf copy;
			uint64_t tid = UINT64_MAX;

			cbuf_init(&copy);
			pthread_mutex_lock(&mc->lock);
			for (struct monc_cmd *k = mc->cmds; k; k = k->next)
				if (!k->done && k->tid > last && k->tid < tid)
					tid = k->tid;
			for (struct monc_cmd *k = mc->cmds; k && tid != UINT64_MAX; k = k->next)
				if (k->tid == tid)
					enc_raw(&copy, k->front.data, k->front.len);
			pthread_mutex_unlock(&mc->lock);
			if (tid == UINT64_MAX) {
				cbuf_free(&copy);
				break;
			}
			send_on(c, MSG_MON_COMMAND, tid, &copy);
			cbuf_free(&copy);
			last = tid;
		}
	}
	return c;
}

static void request_maps(struct monc *mc, struct msg_conn *c, uint32_t start, uint32_t end)
{
	struct mon_get_osdmap g = {.start = start, .end = end, .full = 0};
	struct cbuf b;

	cbuf_init(&b);
	mon_get_osdmap_encode(&g, &b);
	send_on(c, MSG_MON_GET_OSDMAP, 0, &b);
	cbuf_free(&b);
	pthread_mutex_lock(&mc->lock);
	mc->last_get_ns = now_mono_ns();
	pthread_mutex_unlock(&mc->lock);
}

#define MONC_BEHIND_RECONNECT_NS 5000000000ULL

static void *tick_main(void *arg)
{
	struct monc *mc = arg;

	pthread_mutex_lock(&mc->lock);
	while (!mc->stop) {
		struct timespec ts;
		bool need_maps;
		uint32_t have, want;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += (long)(mc->tick_ms % 1000) * 1000000L;
		ts.tv_sec += mc->tick_ms / 1000 + ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		if (!mc->reconnect_now)
			pthread_cond_timedwait(&mc->cond, &mc->lock, &ts);
		if (mc->stop)
			break;
		have = mc->map ? mc->map->epoch : 0;
		want = mc->want_epoch;
		need_maps = want > have && now_mono_ns() - mc->last_get_ns > 1000000000ULL;
		if (want <= have) {
			mc->behind_ns = 0;
		} else if (!mc->behind_ns) {
			mc->behind_ns = now_mono_ns();
		} else if (now_mono_ns() - mc->behind_ns > MONC_BEHIND_RECONNECT_NS) {
			/* asked every second and still nothing: the session may be wedged (a
			 * subscription the mon lost, a connection that takes no more input), so
			 * start a new one (it subscribes again from our epoch) */
			CLOG_WARN("monc", "osdmap e%u announced but still at e%u after %llu s: "
				  "reconnecting to the mon", want, have,
				  (unsigned long long)(MONC_BEHIND_RECONNECT_NS / 1000000000ULL));
			mc->reconnect_now = true;
			mc->behind_ns = now_mono_ns();
			need_maps = true;
		}
		if (mc->conn || mc->sub_osdmap || mc->cmds || need_maps || mc->reconnect_now) {
			struct msg_conn *c;

			pthread_mutex_unlock(&mc->lock);
			c = ensure_conn(mc);
			if (c && need_maps)
				request_maps(mc, c, have + 1, want);
			if (c)
				msg_conn_put(c);
			pthread_mutex_lock(&mc->lock);
		}
	}
	pthread_mutex_unlock(&mc->lock);
	return NULL;
}

struct monc *monc_create(const struct monc_opts *o)
{
	struct monc *mc;
	const char *a = o->mon_addr;
	size_t n;

	if (!a || !*a)
		a = conf_str(o->conf, "mon_host");
	if (!o->msgr || !a || !*a) {
		errno = EINVAL;
		return NULL;
	}
	mc = calloc(1, sizeof(*mc));
	if (!mc) {
		errno = ENOMEM;
		return NULL;
	}
	n = strcspn(a, ", ");
	if (n >= sizeof(mc->addr)) {
		free(mc);
		errno = EINVAL;
		return NULL;
	}
	memcpy(mc->addr, a, n);
	mc->addr[n] = '\0';
	mc->msgr = o->msgr;
	mc->conf = o->conf;
	mc->on_osdmap = o->on_osdmap;
	mc->arg = o->arg;
	mc->tick_ms = (unsigned)conf_int(o->conf, "mon_client_tick_ms");
	mc->next_tid = 1;
	pthread_mutex_init(&mc->lock, NULL);
	pthread_mutex_init(&mc->apply_lock, NULL);
	{
		pthread_condattr_t ca;
		pthread_condattr_init(&ca);
		pthread_cond_init(&mc->cond, &ca);
		pthread_condattr_destroy(&ca);
	}
	if (pthread_create(&mc->thread, NULL, tick_main, mc)) {
		pthread_mutex_destroy(&mc->lock);
		pthread_mutex_destroy(&mc->apply_lock);
		pthread_cond_destroy(&mc->cond);
		free(mc);
		errno = EAGAIN;
		return NULL;
	}
	live_add(mc);
	return mc;
}

void monc_shutdown(struct monc *mc)
{
	struct msg_conn *c;
	bool joined;

	if (!mc)
		return;
	pthread_mutex_lock(&mc->lock);
	mc->stop = true;
	joined = mc->joined;
	mc->joined = true;
	for (struct monc_cmd *k = mc->cmds; k; k = k->next)
		if (!k->done) {
			k->done = true;
			k->rc = -ESHUTDOWN;
		}
	pthread_cond_broadcast(&mc->cond);
	pthread_mutex_unlock(&mc->lock);
	if (joined)
		return;
	pthread_join(mc->thread, NULL);
	/* waiters in monc_command unlink their own cmds; give them the lock to do so */
	for (;;) {
		bool empty;
		pthread_mutex_lock(&mc->lock);
		empty = mc->cmds == NULL;
		pthread_mutex_unlock(&mc->lock);
		if (empty)
			break;
		sleep_ms(1);
	}
	pthread_mutex_lock(&mc->lock);
	c = mc->conn;
	mc->conn = NULL;
	pthread_mutex_unlock(&mc->lock);
	if (c) {
		msg_conn_close(c);
		msg_conn_put(c);
	}
}

void monc_destroy(struct monc *mc)
{
	if (!mc)
		return;
	monc_shutdown(mc);
	live_remove_and_wait(mc); /* no handler is inside, none can enter */
	osdmap_put(mc->map);
	pthread_mutex_destroy(&mc->lock);
	pthread_mutex_destroy(&mc->apply_lock);
	pthread_cond_destroy(&mc->cond);
	free(mc);
}

/* Publishes m (consumes the ref) as the newest map and runs the callback. apply_lock held. */
static void install_map(struct monc *mc, struct osdmap *m)
{
	struct osdmap *old;

	pthread_mutex_lock(&mc->lock);
	old = mc->map;
	mc->map = m;
	pthread_cond_broadcast(&mc->cond);
	pthread_mutex_unlock(&mc->lock);
	osdmap_put(old);
	if (mc->on_osdmap)
		mc->on_osdmap(mc->arg, m);
}

static void handle_osdmap(struct monc *mc, struct msg_conn *c, struct msg *msg)
{
	struct mon_osdmap_msg om;
	struct osdmap *cur;
	uint32_t have;
	int err;

	err = mon_osdmap_msg_decode(&om, msg->front, msg->front_len);
	if (err) {
		CLOG_WARN("monc", "bad osdmap message: %s", cairn_strerror(err));
		return;
	}
	pthread_mutex_lock(&mc->apply_lock);
	pthread_mutex_lock(&mc->lock);
	cur = mc->map ? osdmap_get(mc->map) : NULL;
	if (om.newest > mc->want_epoch)
		mc->want_epoch = om.newest;
	pthread_mutex_unlock(&mc->lock);
	if (cur && memcmp(cur->fsid, om.fsid, 16)) {
		CLOG_WARN("monc", "osdmap of another cluster ignored");
		goto out;
	}
	/* the newest full map that moves us forward */
	if (om.num_full && (!cur || om.full[om.num_full - 1].epoch > cur->epoch)) {
		struct osdmap *m;
		const struct mon_map_blob *fb = &om.full[om.num_full - 1];

		err = osdmap_decode(&m, fb->data, fb->len);
		if (err || m->epoch != fb->epoch) {
			CLOG_WARN("monc", "bad full osdmap e%u: %s", fb->epoch, cairn_strerror(err));
			if (!err)
				osdmap_put(m);
		} else {
			osdmap_put(cur);
			cur = osdmap_get(m);
			install_map(mc, m);
		}
	}
	for (uint32_t i = 0; i < om.num_inc; i++) {
		struct osdmap_inc inc;
		struct osdmap *m;

		if (!cur || om.inc[i].epoch != cur->epoch + 1)
			continue;
		err = osdmap_inc_decode(&inc, om.inc[i].data, om.inc[i].len);
		if (!err)
			err = osdmap_apply_incremental(cur, &inc, &m);
		osdmap_inc_free(&inc);
		if (err) {
			CLOG_WARN("monc", "cannot apply osdmap inc e%u: %s", om.inc[i].epoch,
				  cairn_strerror(err));
			break;
		}
		osdmap_put(cur);
		cur = osdmap_get(m);
		install_map(mc, m);
	}
	have = cur ? cur->epoch : 0;
	if (om.newest > have) {
		bool ask;
		pthread_mutex_lock(&mc->lock);
		ask = now_mono_ns() - mc->last_get_ns > 200000000ULL;
		pthread_mutex_unlock(&mc->lock);
		if (ask) {
			struct mon_get_osdmap g = {.start = have + 1, .end = om.newest,
						   .full = have == 0};
			struct cbuf b;

			cbuf_init(&b);
			mon_get_osdmap_encode(&g, &b);
			send_on(c, MSG_MON_GET_OSDMAP, 0, &b);
			cbuf_free(&b);
			pthread_mutex_lock(&mc->lock);
			mc->last_get_ns = now_mono_ns();
			pthread_mutex_unlock(&mc->lock);
		}
	}
out:
	osdmap_put(cur);
	pthread_mutex_unlock(&mc->apply_lock);
	mon_osdmap_msg_free(&om);
}

static void handle_command_reply(struct monc *mc, struct msg *msg)
{
	struct mon_command_reply r;
	int err = mon_command_reply_decode(&r, msg->front, msg->front_len);

	if (err) {
		CLOG_WARN("monc", "bad command reply: %s", cairn_strerror(err));
		return;
	}
	pthread_mutex_lock(&mc->lock);
	for (struct monc_cmd *k = mc->cmds; k; k = k->next) {
		if (k->tid != msg->tid || k->done)
			continue;
		k->rc = r.rc;
		k->status = strdup(r.status ? r.status : "");
		k->out = malloc((size_t)r.outlen + 1);
		if (k->out) {
			if (r.outlen)
				memcpy(k->out, r.out, r.outlen);
			k->out[r.outlen] = '\0';
			k->outlen = r.outlen;
		}
		if (!k->status || !k->out)
			k->rc = -ENOMEM;
		k->done = true;
		pthread_cond_broadcast(&mc->cond);
		break;
	}
	pthread_mutex_unlock(&mc->lock);
	mon_command_reply_free(&r);
}

int monc_handle(struct monc *mc, struct msg_conn *c, struct msg *m)
{
	bool stopped;

	if (m->type != MSG_MON_OSDMAP && m->type != MSG_MON_COMMAND_REPLY)
		return 0;
	if (!live_enter(mc))
		return 0; /* destroyed: the caller frees m */
	pthread_mutex_lock(&mc->lock);
	stopped = mc->stop;
	pthread_mutex_unlock(&mc->lock);
	if (!stopped) {
		if (m->type == MSG_MON_OSDMAP)
			handle_osdmap(mc, c, m);
		else
			handle_command_reply(mc, m);
	}
	live_exit(mc);
	msg_free(m);
	return 1;
}

void monc_handle_reset(struct monc *mc, struct msg_conn *c)
{
	if (!live_enter(mc))
		return;
	pthread_mutex_lock(&mc->lock);
	if (mc->conn == c) {
		mc->reconnect_now = true;
		pthread_cond_broadcast(&mc->cond);
	}
	pthread_mutex_unlock(&mc->lock);
	live_exit(mc);
}

int monc_sub_osdmap(struct monc *mc, uint32_t start)
{
	struct msg_conn *c;

	(void)start; /* we always continue after the newest map we hold */
	pthread_mutex_lock(&mc->lock);
	mc->sub_osdmap = true;
	pthread_mutex_unlock(&mc->lock);
	c = ensure_conn(mc);
	if (!c)
		return -ENOTCONN;
	send_subscribe(mc, c);
	msg_conn_put(c);
	return 0;
}

struct osdmap *monc_get_osdmap(struct monc *mc)
{
	struct osdmap *m;

	pthread_mutex_lock(&mc->lock);
	m = osdmap_get(mc->map);
	pthread_mutex_unlock(&mc->lock);
	return m;
}

uint32_t monc_epoch(struct monc *mc)
{
	uint32_t e;

	pthread_mutex_lock(&mc->lock);
	e = mc->map ? mc->map->epoch : 0;
	pthread_mutex_unlock(&mc->lock);
	return e;
}

static void deadline_ts(struct timespec *ts, int timeout_ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += timeout_ms / 1000;
	ts->tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

int monc_wait_epoch(struct monc *mc, uint32_t e, int timeout_ms)
{
	struct timespec ts;
	int err = 0;

	deadline_ts(&ts, timeout_ms);
	pthread_mutex_lock(&mc->lock);
	if (e > mc->want_epoch)
		mc->want_epoch = e;
	while ((!mc->map || mc->map->epoch < e) && !mc->stop && err != ETIMEDOUT)
		err = pthread_cond_timedwait(&mc->cond, &mc->lock, &ts);
	err = (mc->map && mc->map->epoch >= e) ? 0 : mc->stop ? -ESHUTDOWN : -ETIMEDOUT;
	pthread_mutex_unlock(&mc->lock);
	return err;
}

void monc_note_epoch(struct monc *mc, uint32_t e)
{
	uint32_t have;
	bool ask;
	struct msg_conn *c;

	pthread_mutex_lock(&mc->lock);
	have = mc->map ? mc->map->epoch : 0;
	if (e <= have || e <= mc->want_epoch) {
		pthread_mutex_unlock(&mc->lock);
		return;
	}
	mc->want_epoch = e;
	ask = now_mono_ns() - mc->last_get_ns > 100000000ULL;
	c = ask && mc->conn ? msg_conn_get(mc->conn) : NULL;
	pthread_mutex_unlock(&mc->lock);
	if (c) {
		request_maps(mc, c, have + 1, e);
		msg_conn_put(c);
	}
}

static int send_report(struct monc *mc, uint16_t type, struct cbuf *b)
{
	struct msg_conn *c;
	int err;

	if (b->err) {
		err = b->err;
		cbuf_free(b);
		return err;
	}
	c = ensure_conn(mc);
	if (!c) {
		cbuf_free(b);
		return -ENOTCONN;
	}
	err = send_on(c, type, 0, b);
	msg_conn_put(c);
	cbuf_free(b);
	return err;
}

int monc_send_boot(struct monc *mc, const struct mon_osd_boot *bt)
{
	struct cbuf b;

	cbuf_init(&b);
	mon_osd_boot_encode(bt, &b);
	return send_report(mc, MSG_MON_OSD_BOOT, &b);
}

int monc_send_failure(struct monc *mc, const struct mon_osd_failure *f)
{
	struct cbuf b;

	cbuf_init(&b);
	mon_osd_failure_encode(f, &b);
	return send_report(mc, MSG_MON_OSD_FAILURE, &b);
}

int monc_send_alive(struct monc *mc, const struct mon_osd_alive *a)
{
	struct cbuf b;

	cbuf_init(&b);
	mon_osd_alive_encode(a, &b);
	return send_report(mc, MSG_MON_OSD_ALIVE, &b);
}

int monc_send_pg_stats(struct monc *mc, const struct mon_pg_stats *s)
{
	struct cbuf b;

	cbuf_init(&b);
	mon_pg_stats_encode(s, &b);
	return send_report(mc, MSG_MON_PG_STATS, &b);
}

int monc_send_pg_la(struct monc *mc, const struct mon_pg_la_msg *m)
{
	struct cbuf b;

	cbuf_init(&b);
	mon_pg_la_msg_encode(m, &b);
	return send_report(mc, MSG_MON_PG_LA, &b);
}

int monc_command(struct monc *mc, const char *const *argv, int argc, const void *in,
		 size_t inlen, int *rc, char **status, char **out, size_t *outlen,
		 int timeout_ms)
{
	struct mon_command cmd;
	struct monc_cmd *k, **pp;
	struct msg_conn *c;
	struct timespec ts;
	int err = 0;

	if (argc < 0 || argc > MON_CMD_MAX_ARGS || inlen > MON_CMD_MAX_INPUT)
		return -EINVAL;
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	cbuf_init(&k->front);
	cmd.argc = (uint32_t)argc;
	cmd.argv = (char **)argv;
	cmd.in = in;
	cmd.inlen = (uint32_t)inlen;
	if (mon_command_encode(&cmd, &k->front)) {
		cbuf_free(&k->front);
		free(k);
		return -ENOMEM;
	}
	deadline_ts(&ts, timeout_ms);
	pthread_mutex_lock(&mc->lock);
	if (mc->stop) {
		pthread_mutex_unlock(&mc->lock);
		cbuf_free(&k->front);
		free(k);
		return -ESHUTDOWN;
	}
	k->tid = mc->next_tid++;
	k->next = mc->cmds;
	mc->cmds = k;
	pthread_mutex_unlock(&mc->lock);

	c = ensure_conn(mc);
	if (c) {
		send_on(c, MSG_MON_COMMAND, k->tid, &k->front);
		msg_conn_put(c);
	}
	pthread_mutex_lock(&mc->lock);
	while (!k->done && err != ETIMEDOUT)
		err = pthread_cond_timedwait(&mc->cond, &mc->lock, &ts);
	for (pp = &mc->cmds; *pp; pp = &(*pp)->next)
		if (*pp == k) {
			*pp = k->next;
			break;
		}
	pthread_mutex_unlock(&mc->lock);
	if (!k->done) {
		err = -ETIMEDOUT;
	} else if (k->rc == -ESHUTDOWN && !k->status) {
		err = -ESHUTDOWN;
	} else {
		err = 0;
		if (rc)
			*rc = k->rc;
		if (status) {
			*status = k->status;
			k->status = NULL;
		}
		if (out) {
			*out = k->out;
			k->out = NULL;
		}
		if (outlen)
			*outlen = k->outlen;
	}
	free(k->status);
	free(k->out);
	cbuf_free(&k->front);
	free(k);
	return err;
}
