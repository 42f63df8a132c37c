// timeout: 90
/*
 * test_mon_lifecycle — a real monitor (mon_main in a thread, RocksDB in a temp dir, port 0)
 * driven through the mon client: OSD boots place OSDs under their hosts and mark them up;
 * failure reports from min_down_reporters distinct OSDs mark one down; down_out_interval
 * marks it out; a reboot brings it up and in; commands raise the epoch by exactly one; a
 * subscriber sees every epoch in order; pg stats aggregate into "pg stat"; garbage messages
 * of every monitor type only close their connection; a restarted monitor keeps every map.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/encode.h"
#include "common/log.h"
#include "common/mon_proto.h"
#include "common/monc.h"
#include "common/msg.h"
#include "common/msg_types.h"
#include "common/osdmap.h"
#include "common/pg_state.h"
#include "common/util.h"
#include "crush/crush.h"
#include "mon/mon_main.h"

static char g_dir[256];
static struct cairn_conf *g_conf;
static volatile sig_atomic_t g_stop;
static pthread_t g_mon;
static int g_mon_rc;
static char g_addr[64];

struct client {
	struct msgr *ms;
	struct monc *mc;
	pthread_mutex_t lock;
	uint32_t epochs[4096];
	int nepochs;
};

static void *mon_thread(void *arg)
{
	(void)arg;
	g_mon_rc = mon_main(g_conf, &g_stop);
	return NULL;
}

static void mon_start(void)
{
	char path[300];
	FILE *f;

	snprintf(path, sizeof(path), "%s/addr", g_dir);
	unlink(path);
	g_stop = 0;
	assert_int_equal(pthread_create(&g_mon, NULL, mon_thread, NULL), 0);
	for (int i = 0; i < 200; i++) {
		f = fopen(path, "r");
		if (f) {
			if (fscanf(f, "%63s", g_addr) == 1) {
				fclose(f);
				return;
			}
			fclose(f);
		}
		sleep_ms(20);
	}
	fail_msg("mon did not start");
}

static void mon_stop(void)
{
	g_stop = 1;
	pthread_join(g_mon, NULL);
	assert_int_equal(g_mon_rc, 0);
}

static void on_dispatch(struct msg_conn *c, struct msg *m, void *arg)
{
	struct client *cl = arg;

	if (!cl->mc || !monc_handle(cl->mc, c, m))
		msg_free(m);
}

static void on_reset(struct msg_conn *c, void *arg)
{
	struct client *cl = arg;

	if (cl->mc)
		monc_handle_reset(cl->mc, c);
}

static void on_map(void *arg, struct osdmap *m)
{
	struct client *cl = arg;

	pthread_mutex_lock(&cl->lock);
	if (cl->nepochs < 4096)
		cl->epochs[cl->nepochs++] = m->epoch;
	pthread_mutex_unlock(&cl->lock);
}

static struct client *client_new(void)
{
	static const struct msgr_ops ops = {.dispatch = on_dispatch, .reset = on_reset};
	struct client *cl = calloc(1, sizeof(*cl));
	struct msgr_opts mo;
	struct monc_opts o;

	pthread_mutex_init(&cl->lock, NULL);
	memset(&mo, 0, sizeof(mo));
	mo.me.type = MSG_ENTITY_CLIENT;
	mo.me.num = (int64_t)(rand_u64() >> 1);
	mo.nworkers = 1;
	mo.ops = &ops;
	mo.arg = cl;
	cl->ms = msgr_create(&mo);
	assert_non_null(cl->ms);
	assert_int_equal(msgr_start(cl->ms), 0);
	memset(&o, 0, sizeof(o));
	o.msgr = cl->ms;
	o.mon_addr = g_addr;
	o.conf = g_conf;
	o.on_osdmap = on_map;
	o.arg = cl;
	cl->mc = monc_create(&o);
	assert_non_null(cl->mc);
	return cl;
}

static void client_free(struct client *cl)
{
	monc_shutdown(cl->mc);
	msgr_destroy(cl->ms);
	monc_destroy(cl->mc);
	cl->mc = NULL;
	pthread_mutex_destroy(&cl->lock);
	free(cl);
}

/* Runs a command; returns rc and (optionally) parsed JSON. */
static int cmd(struct client *cl, json_t **out, const char *words)
{
	char buf[512], *argv[32], *save = NULL, *status = NULL, *o = NULL;
	int argc = 0, rc = 0, err;
	size_t olen = 0;

	snprintf(buf, sizeof(buf), "%s", words);
	for (char *t = strtok_r(buf, " ", &save); t && argc < 32; t = strtok_r(NULL, " ", &save))
		argv[argc++] = t;
	err = monc_command(cl->mc, (const char *const *)argv, argc, NULL, 0, &rc, &status, &o,
			   &olen, 10000);
	assert_int_equal(err, 0);
	if (out) {
		json_error_t je;
		*out = olen ? json_loads(o, JSON_DECODE_ANY, &je) : NULL;
	}
	free(status);
	free(o);
	return rc;
}

static uint32_t epoch_of(struct client *cl)
{
	json_t *j;
	uint32_t e;

	assert_int_equal(cmd(cl, &j, "osd stat"), 0);
	e = (uint32_t)json_integer_value(json_object_get(j, "epoch"));
	json_decref(j);
	return e;
}

static void boot(struct client *cl, int id, const char *host)
{
	struct mon_osd_boot b;

	memset(&b, 0, sizeof(b));
	b.id = id;
	b.uuid[0] = (uint8_t)(id + 1);
	snprintf(b.addr, sizeof(b.addr), "127.0.0.1:%d", 7000 + id);
	snprintf(b.host, sizeof(b.host), "%s", host);
	b.weight = 0x10000;
	assert_int_equal(monc_send_boot(cl->mc, &b), 0);
}

static void failure_for(struct client *cl, int reporter, int target, uint32_t epoch,
			uint32_t failed_for)
{
	struct mon_osd_failure f = {.reporter = reporter, .target = target,
				    .failed_for = failed_for, .epoch = epoch};

	assert_int_equal(monc_send_failure(cl->mc, &f), 0);
}

static void failure_at(struct client *cl, int reporter, int target, uint32_t epoch)
{
	failure_for(cl, reporter, target, epoch, 0);
}

static void failure(struct client *cl, int reporter, int target)
{
	failure_for(cl, reporter, target, monc_epoch(cl->mc), 0);
}

static void send_raw(struct msg_conn *c, uint16_t type, const void *p, uint32_t n)
{
	struct msg_out o;

	memset(&o, 0, sizeof(o));
	o.type = type;
	o.tid = 1;
	o.front = p;
	o.front_len = n;
	msg_send(c, &o);
}

static void test_lifecycle(void **state)
{
	struct client *cl, *sub;
	struct osdmap *m;
	json_t *j;
	uint32_t e0, e;
	char buf[128];

	(void)state;
	mon_start();
	cl = client_new();
	sub = client_new();
	assert_int_equal(monc_sub_osdmap(sub->mc, 0), 0);
	assert_int_equal(monc_wait_epoch(sub->mc, 1, 5000), 0);
	e0 = epoch_of(cl);
	assert_int_equal(e0, 1);

	/* boots: one epoch each */
	boot(cl, 0, "hA");
	assert_int_equal(monc_sub_osdmap(cl->mc, 0), 0);
	assert_int_equal(monc_wait_epoch(cl->mc, 2, 5000), 0);
	boot(cl, 1, "hB");
	assert_int_equal(monc_wait_epoch(cl->mc, 3, 5000), 0);
	boot(cl, 2, "");
	assert_int_equal(monc_wait_epoch(cl->mc, 4, 5000), 0);
	boot(cl, 2, ""); /* duplicate boot: no new epoch */
	sleep_ms(200);
	assert_int_equal(epoch_of(cl), 4);
	m = monc_get_osdmap(cl->mc);
	assert_non_null(m);
	assert_true(osdmap_is_up(m, 0) && osdmap_is_up(m, 1) && osdmap_is_up(m, 2));
	assert_true(osdmap_is_in(m, 2));
	{
		int hid, parent;
		assert_int_equal(crush_get_item_id(m->crush, "hA", &hid), 0);
		assert_int_equal(crush_bucket_parent(m->crush, 0, &parent), 0);
		assert_int_equal(parent, hid);
		assert_int_equal(crush_get_item_id(m->crush, "host-2", &hid), 0);
		assert_int_equal(crush_bucket_parent(m->crush, 2, &parent), 0);
		assert_int_equal(parent, hid);
	}
	assert_string_equal(m->osds[1].addr, "127.0.0.1:7001");
	osdmap_put(m);

	/* one reporter is not enough (min 2), a second distinct one is */
	failure(cl, 1, 0);
	failure(cl, 1, 0);
	sleep_ms(300);
	assert_int_equal(epoch_of(cl), 4);
	failure(cl, 2, 0);
	assert_int_equal(monc_wait_epoch(cl->mc, 5, 5000), 0);
	m = monc_get_osdmap(cl->mc);
	assert_false(osdmap_is_up(m, 0));
	assert_true(osdmap_is_in(m, 0));
	assert_int_equal(m->osds[0].down_at, 5);
	osdmap_put(m);
	/* down_out_interval is 1s here */
	assert_int_equal(monc_wait_epoch(cl->mc, 6, 8000), 0);
	m = monc_get_osdmap(cl->mc);
	assert_false(osdmap_is_in(m, 0));
	assert_true(m->osds[0].state & OSD_STATE_AUTOOUT);
	osdmap_put(m);
	/* reboot: up and in again */
	boot(cl, 0, "hA");
	assert_int_equal(monc_wait_epoch(cl->mc, 7, 5000), 0);
	m = monc_get_osdmap(cl->mc);
	assert_true(osdmap_is_up(m, 0) && osdmap_is_in(m, 0));
	assert_int_equal(m->osds[0].up_from, 7);
	osdmap_put(m);
	/* reports written before the reboot (epoch < up_from) are about its old life: ignored */
	failure_at(cl, 1, 0, 6);
	failure_at(cl, 2, 0, 6);
	/* ... and so are reports of a silence longer than its current life */
	failure_for(cl, 1, 0, 7, 30);
	failure_for(cl, 2, 0, 7, 30);
	sleep_ms(300);
	assert_int_equal(epoch_of(cl), 7);

	/* commands: +1 epoch per change, none for no-ops or errors */
	assert_int_equal(cmd(cl, NULL, "osd pool create data 8 3"), 0);
	assert_int_equal(epoch_of(cl), 8);
	assert_int_equal(cmd(cl, NULL, "osd pool create data 8 3"), 0); /* exists: no-op */
	assert_int_equal(epoch_of(cl), 8);
	assert_int_equal(cmd(cl, NULL, "osd pool set data size 4"), 0);
	assert_int_equal(epoch_of(cl), 9);
	assert_int_equal(cmd(cl, NULL, "osd pool set data size 99"), -ERANGE);
	assert_int_equal(cmd(cl, NULL, "osd pool get nosuch"), -ENOENT);
	assert_int_equal(cmd(cl, NULL, "osd out 42"), -ENOENT);
	assert_int_equal(cmd(cl, NULL, "osd set bogusflag"), -EINVAL);
	assert_int_equal(cmd(cl, NULL, "no such command"), -EINVAL);
	assert_int_equal(cmd(cl, NULL, "osd reweight 1 1.5"), -ERANGE);
	assert_int_equal(epoch_of(cl), 9);
	assert_int_equal(cmd(cl, NULL, "osd set noout"), 0);
	assert_int_equal(cmd(cl, NULL, "osd set noout"), 0); /* already set */
	assert_int_equal(epoch_of(cl), 10);
	assert_int_equal(cmd(cl, NULL, "osd pool set data size 3"), 0);
	assert_int_equal(epoch_of(cl), 11);

	/* pg stats from the primaries -> pg stat */
	m = monc_get_osdmap(cl->mc);
	assert_int_equal(monc_wait_epoch(cl->mc, 11, 5000), 0);
	osdmap_put(m);
	m = monc_get_osdmap(cl->mc);
	{
		const struct pool_info *p = osdmap_lookup_pool_by_name(m, "data");
		struct mon_pg_stat ps[8];
		struct mon_pg_stats st;

		assert_non_null(p);
		memset(ps, 0, sizeof(ps));
		for (uint32_t i = 0; i < 8; i++) {
			int nup, nact;
			ps[i].pg = (struct pg_id){p->id, i};
			osdmap_pg_to_up_acting(m, ps[i].pg, ps[i].up, &nup, &ps[i].up_primary,
					       ps[i].acting, &nact, &ps[i].acting_primary);
			ps[i].nup = (uint8_t)nup;
			ps[i].nacting = (uint8_t)nact;
			ps[i].state = i < 6 ? PG_STATE_ACTIVE | PG_STATE_CLEAN
					    : PG_STATE_ACTIVE | PG_STATE_DEGRADED | PG_STATE_RECOVERING;
			ps[i].num_objects = 10;
			ps[i].num_bytes = 1000;
			ps[i].objects_degraded = i < 6 ? 0 : 3;
			ps[i].recovery_objects_left = i < 6 ? 0 : 3;
			ps[i].reported_epoch = m->epoch;
		}
		memset(&st, 0, sizeof(st));
		st.osd = 1;
		st.epoch = m->epoch;
		st.osd_stat.bytes_total = 1 << 30;
		st.osd_stat.bytes_used = 1 << 20;
		st.num_pgs = 8;
		st.pgs = ps;
		assert_int_equal(monc_send_pg_stats(cl->mc, &st), 0);
	}
	osdmap_put(m);
	for (int i = 0; i < 100; i++) {
		long long n;
		assert_int_equal(cmd(cl, &j, "pg stat"), 0);
		n = json_integer_value(json_object_get(j, "num_objects"));
		if (n == 80) {
			json_t *by = json_object_get(j, "num_pgs_by_state");
			assert_int_equal(json_integer_value(json_object_get(j, "num_pgs")), 8);
			assert_int_equal(json_integer_value(json_object_get(by, "active+clean")), 6);
			assert_int_equal(json_integer_value(json_object_get(
						 by, "active+degraded+recovering")),
					 2);
			assert_int_equal(json_integer_value(json_object_get(j, "degraded_objects")), 6);
			assert_false(json_is_true(json_object_get(j, "all_active_clean")));
			json_decref(j);
			break;
		}
		json_decref(j);
		assert_true(i < 99);
		sleep_ms(20);
	}
	assert_int_equal(cmd(cl, &j, "health detail"), 0);
	assert_string_equal(json_string_value(json_object_get(j, "status")), "HEALTH_WARN");
	assert_non_null(json_object_get(json_object_get(j, "checks"), "PG_DEGRADED"));
	assert_non_null(json_object_get(json_object_get(j, "checks"), "OSDMAP_FLAGS"));
	{
		json_t *d = json_object_get(json_object_get(json_object_get(j, "checks"),
							    "PG_DEGRADED"),
					    "detail");
		assert_int_equal(json_array_size(d), 2);
		assert_true(strstr(json_string_value(json_array_get(d, 0)),
				   "is active+degraded+recovering, acting [") != NULL);
	}
	json_decref(j);

	/* fullness from the OSDs' own stats */
	{
		struct mon_pg_stats st;

		memset(&st, 0, sizeof(st));
		st.osd = 2;
		st.osd_stat.bytes_total = 1000;
		st.osd_stat.bytes_used = 900;
		assert_int_equal(monc_send_pg_stats(cl->mc, &st), 0);
		for (int i = 0;; i++) {
			json_t *c;
			assert_int_equal(cmd(cl, &j, "health detail"), 0);
			c = json_object_get(json_object_get(j, "checks"), "OSD_NEARFULL");
			if (c) {
				assert_string_equal(json_string_value(json_object_get(c, "severity")),
						    "HEALTH_WARN");
				json_decref(j);
				break;
			}
			json_decref(j);
			assert_true(i < 100);
			sleep_ms(20);
		}
		st.osd_stat.bytes_used = 990;
		assert_int_equal(monc_send_pg_stats(cl->mc, &st), 0);
		for (int i = 0;; i++) {
			assert_int_equal(cmd(cl, &j, "health"), 0);
			if (!strcmp(json_string_value(json_object_get(j, "status")), "HEALTH_ERR")) {
				assert_non_null(json_object_get(json_object_get(j, "checks"), "OSD_FULL"));
				json_decref(j);
				break;
			}
			json_decref(j);
			assert_true(i < 100);
			sleep_ms(20);
		}
		st.osd_stat.bytes_used = 10;
		assert_int_equal(monc_send_pg_stats(cl->mc, &st), 0);
	}

	/* garbage of every monitor message type: only that connection closes */
	{
		static const uint8_t junk[] = {1, 1, 200, 0, 0, 0, 9, 9};
		struct msg_conn *c = msgr_connect(cl->ms, g_addr, MSG_LOSSY);
		assert_non_null(c);
		for (uint16_t t = 16; t < 30; t++) {
			send_raw(c, t, junk, sizeof(junk));
			send_raw(c, t, NULL, 0);
		}
		sleep_ms(200);
		msg_conn_close(c);
		msg_conn_put(c);
	}
	assert_int_equal(epoch_of(cl), 11);

	/* the subscriber saw every epoch, in order, exactly once */
	e = epoch_of(cl);
	assert_int_equal(monc_wait_epoch(sub->mc, e, 5000), 0);
	pthread_mutex_lock(&sub->lock);
	assert_int_equal(sub->nepochs, (int)e);
	for (int i = 0; i < sub->nepochs; i++)
		assert_int_equal(sub->epochs[i], (uint32_t)i + 1);
	pthread_mutex_unlock(&sub->lock);

	/* restart: every map survives; the clients reconnect on their own */
	mon_stop();
	mon_start();
	/* the mon has a new port: point fresh clients at it */
	client_free(cl);
	client_free(sub);
	cl = client_new();
	assert_int_equal(epoch_of(cl), e);
	for (uint32_t k = 1; k <= e; k++) {
		char *argv[3] = {"osd", "getmap", buf};
		char *status = NULL, *out = NULL;
		size_t olen = 0;
		int rc = 0;
		struct osdmap *mk;

		snprintf(buf, sizeof(buf), "%u", k);
		assert_int_equal(monc_command(cl->mc, (const char *const *)argv, 3, NULL, 0, &rc,
					      &status, &out, &olen, 5000),
				 0);
		assert_int_equal(rc, 0);
		assert_int_equal(osdmap_decode(&mk, out, olen), 0);
		assert_int_equal(mk->epoch, k);
		osdmap_put(mk);
		free(status);
		free(out);
	}
	/* a late subscriber starting at epoch 0 gets the newest full map, then follows */
	sub = client_new();
	assert_int_equal(monc_sub_osdmap(sub->mc, 0), 0);
	assert_int_equal(monc_wait_epoch(sub->mc, e, 5000), 0);
	/* noout holds a down OSD in; unsetting it lets the tick mark it out */
	failure_at(cl, 0, 1, e);
	failure_at(cl, 2, 1, e);
	assert_int_equal(monc_wait_epoch(sub->mc, e + 1, 5000), 0);
	sleep_ms(1500);
	assert_int_equal(epoch_of(cl), e + 1);
	m = monc_get_osdmap(sub->mc);
	assert_false(osdmap_is_up(m, 1));
	assert_true(osdmap_is_in(m, 1));
	osdmap_put(m);
	assert_int_equal(cmd(cl, NULL, "osd unset noout"), 0);
	assert_int_equal(monc_wait_epoch(sub->mc, e + 3, 5000), 0);
	m = monc_get_osdmap(sub->mc);
	assert_false(osdmap_is_in(m, 1));
	osdmap_put(m);
	pthread_mutex_lock(&sub->lock);
	for (int i = 1; i < sub->nepochs; i++)
		assert_int_equal(sub->epochs[i], sub->epochs[i - 1] + 1);
	pthread_mutex_unlock(&sub->lock);
	client_free(sub);
	client_free(cl);
	mon_stop();
}

static void test_unreachable(void **state)
{
	struct client *cl;
	char *argv[1] = {"status"};
	int rc;
	uint64_t t0;

	(void)state;
	snprintf(g_addr, sizeof(g_addr), "127.0.0.1:1"); /* nothing listens there */
	cl = client_new();
	t0 = now_mono_ns();
	assert_int_equal(monc_command(cl->mc, (const char *const *)argv, 1, NULL, 0, &rc, NULL,
				      NULL, NULL, 700),
			 -ETIMEDOUT);
	assert_true(now_mono_ns() - t0 < 3000000000ULL);
	assert_int_equal(monc_wait_epoch(cl->mc, 1, 300), -ETIMEDOUT);
	client_free(cl);
}

static int setup(void **state)
{
	char err[256], path[300];
	static const char *const opts[][2] = {
		{"mon_addr", "127.0.0.1:0"},         {"mon_osd_min_down_reporters", "2"},
		{"mon_osd_report_grace", "10"},      {"mon_osd_down_out_interval", "1"},
		{"mon_tick_interval", "0.1"},        {"mon_client_tick_ms", "50"},
		{"log_level", "1"},
	};

	(void)state;
	snprintf(g_dir, sizeof(g_dir), "/tmp/test_mon_lifecycle.XXXXXX");
	if (!mkdtemp(g_dir))
		return -1;
	g_conf = conf_defaults();
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		if (conf_set(g_conf, opts[i][0], opts[i][1], err, sizeof(err)))
			return -1;
	snprintf(path, sizeof(path), "%s/mon", g_dir);
	conf_set(g_conf, "mon_data", path, err, sizeof(err));
	snprintf(path, sizeof(path), "%s/addr", g_dir);
	conf_set(g_conf, "mon_addr_file", path, err, sizeof(err));
	log_init(NULL, LOG_WARN, "test");
	return 0;
}

static int teardown(void **state)
{
	char cmdline[400];

	(void)state;
	conf_free(g_conf);
	snprintf(cmdline, sizeof(cmdline), "rm -rf '%s'", g_dir);
	return system(cmdline) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lifecycle),
		cmocka_unit_test(test_unreachable),
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
