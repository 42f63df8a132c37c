// timeout: 240
/*
 * test_msg — the messenger over real loopback sockets, in one process: ping-pong, one
 * million small messages in order, 256 MiB of large messages with data CRCs, lossless
 * exactly-once delivery under injected socket failures, malformed frames of every kind
 * (each closes only its connection), throttles, deferred worker wake-ups (msg_defer_*),
 * delayed acks, keepalive/idle timeouts, reset callbacks and peer restarts (remote_reset).
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
#include "common/msg_types.h"
#include "common/util.h"

#define T_PING MSG_MSGR_TEST
#define T_SEQ  MSG_MSGR_TEST
#define T_DATA MSG_MSGR_TEST

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
		struct iovec v = {m->data, m->data_len};
		struct msg_out o = {.type = m->type,
				    .tid = m->tid,
				    .front = m->front,
				    .front_len = m->front_len,
				    .data = &v,
				    .data_iovcnt = m->data_len ? 1 : 0,
				    .release = release_msg,
				    .release_arg = m};

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

static int ep_wait_int(struct ep *e, const volatile int *counter, int want, double secs)
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
	struct msg_out o = {.type = T_SEQ, .tid = idx, .front = &idx, .front_len = 8};

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
		struct msg_out o = {.type = T_PING, .tid = i, .front = front};

		o.front_len =
		    (uint32_t)snprintf(front, sizeof(front), "ping %llu", (unsigned long long)i);
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
	assert_string_equal(msg_entity_str(&(struct msg_entity){MSG_ENTITY_OSD, 3}, e, sizeof(e)),
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
		struct iovec v[2] = {{buf[b], sz / 3}, {buf[b] + sz / 3, sz - sz / 3}};
		struct msg_out o = {.type = T_DATA,
				    .tid = (uint64_t)i,
				    .front = &h[b],
				    .front_len = 8,
				    .data = v,
				    .data_iovcnt = 2,
				    .release = big_release,
				    .release_arg = &bc};

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
	struct ep *srv =
	    ep_new(MSG_ENTITY_OSD, 1, EP_ORDER, "127.0.0.1:0", "ms_inject_socket_failures", "300",
		   "ms_reconnect_min", "0.001", "ms_reconnect_max", "0.02", NULL);
	struct ep *cli =
	    ep_new(MSG_ENTITY_OSD, 2, EP_ORDER, "127.0.0.1:0", "ms_inject_socket_failures", "300",
		   "ms_reconnect_min", "0.001", "ms_reconnect_max", "0.02", NULL);
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
		(unsigned long long)(ss.resent + cs.resent),
		(unsigned long long)(ss.dups + cs.dups));
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

/* ---- malformed frames ---- */

static int raw_connect(const char *addr)
{
	struct sockaddr_in sa;
	struct timeval tv = {5, 0};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(parse_addr(addr, &sa), 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static void raw_write(int fd, const void *p, size_t n)
{
	assert_int_equal(write(fd, p, n), (ssize_t)n);
}

static void raw_hello(int fd)
{
	struct msg_hello h;
	struct msg_frame f;
	uint8_t hdr[MSG_FRAME_HDR_LEN], buf[MSG_FRAME_HDR_LEN + MSG_HELLO_MAX];
	struct cbuf b;
	size_t got = 0, need = MSG_FRAME_HDR_LEN;
	const char *why;

	memset(&h, 0, sizeof(h));
	h.me.type = MSG_ENTITY_CLIENT;
	h.me.num = 99;
	h.nonce = 12345;
	h.features = CAIRN_FEATURES_MSGR;
	h.policy = MSG_LOSSY;
	h.sid = 777;
	cbuf_init(&b);
	msg_hello_encode(&b, &h);
	memset(&f, 0, sizeof(f));
	f.tag = MSG_TAG_HELLO;
	f.front_len = (uint32_t)b.len;
	f.front_crc = cairn_crc32c(0, b.data, b.len);
	msg_frame_encode(&f, hdr);
	raw_write(fd, hdr, sizeof(hdr));
	raw_write(fd, b.data, b.len);
	cbuf_free(&b);
	while (got < need) {
		ssize_t r = read(fd, buf + got, need - got);

		assert_true(r > 0);
		got += (size_t)r;
		if (got == MSG_FRAME_HDR_LEN && need == MSG_FRAME_HDR_LEN) {
			assert_int_equal(msg_frame_decode(buf, 1 << 20, &f, &why), 0);
			assert_int_equal(f.tag, MSG_TAG_HELLO_REPLY);
			need += f.front_len;
		}
	}
	assert_int_equal(msg_hello_decode(buf + MSG_FRAME_HDR_LEN, f.front_len, &h), 0);
	assert_int_equal(h.me.type, MSG_ENTITY_OSD);
}

/* Reads until EOF or reset; returns 0 if the server closed the socket. */
static int raw_wait_closed(int fd)
{
	char buf[4096];

	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));

		if (r == 0 || (r < 0 && errno == ECONNRESET))
			return 0;
		if (r < 0)
			return -errno;
	}
}

static void frame_msg(struct msg_frame *f, uint16_t type, uint32_t front_len, const void *front)
{
	memset(f, 0, sizeof(*f));
	f->tag = MSG_TAG_MSG;
	f->type = type;
	f->seq = 1;
	f->front_len = front_len;
	f->front_crc = cairn_crc32c(0, front, front_len);
}

enum bad_kind {
	BAD_MAGIC,
	BAD_HDR_CRC,
	BAD_FRONT_CRC,
	BAD_DATA_CRC,
	BAD_LENGTH,
	BAD_TRUNCATED,
	BAD_TYPE,
	BAD_TAG,
	BAD_SEQ_GAP,
	BAD_PRE_MAGIC,
	BAD_PRE_MSG,
	BAD_KINDS
};

static void send_bad(int fd, enum bad_kind k)
{
	uint8_t hdr[MSG_FRAME_HDR_LEN], front[16] = "0123456789abcdef", data[32] = {1, 2, 3};
	struct msg_frame f;

	frame_msg(&f, T_PING, sizeof(front), front);
	switch (k) {
	case BAD_MAGIC:
	case BAD_PRE_MAGIC:
		msg_frame_encode(&f, hdr);
		hdr[0] ^= 0xff;
		break;
	case BAD_HDR_CRC:
		msg_frame_encode(&f, hdr);
		hdr[24] ^= 1;
		break;
	case BAD_FRONT_CRC:
		f.front_crc ^= 1;
		msg_frame_encode(&f, hdr);
		break;
	case BAD_DATA_CRC:
		f.data_len = sizeof(data);
		f.flags = MSG_FF_DATA_CRC;
		f.data_crc = cairn_crc32c(0, data, sizeof(data)) ^ 1;
		msg_frame_encode(&f, hdr);
		break;
	case BAD_LENGTH:
		f.data_len = 1ull << 40;
		msg_frame_encode(&f, hdr);
		break;
	case BAD_TRUNCATED:
		msg_frame_encode(&f, hdr);
		raw_write(fd, hdr, sizeof(hdr));
		raw_write(fd, front, 5);
		shutdown(fd, SHUT_WR);
		return;
	case BAD_TYPE:
		f.type = 5;
		msg_frame_encode(&f, hdr);
		break;
	case BAD_TAG:
		f.tag = 99;
		msg_frame_encode(&f, hdr);
		break;
	case BAD_SEQ_GAP:
		f.seq = 5;
		msg_frame_encode(&f, hdr);
		break;
	case BAD_PRE_MSG:
		msg_frame_encode(&f, hdr);
		break;
	default:
		fail();
	}
	raw_write(fd, hdr, sizeof(hdr));
	raw_write(fd, front, sizeof(front));
	if (f.data_len == sizeof(data))
		raw_write(fd, data, sizeof(data));
}

static int count_lines(const char *path, const char *needle)
{
	char line[4096];
	int n = 0;
	FILE *fp = fopen(path, "r");

	if (!fp)
		return -1;
	while (fgets(line, sizeof(line), fp))
		if (strstr(line, needle))
			n++;
	fclose(fp);
	return n;
}

static char g_logpath[64];

static int group_teardown(void **state)
{
	(void)state;
	if (g_logpath[0])
		unlink(g_logpath);
	return 0;
}

static void test_malformed_frames(void **state)
{
	struct ep *srv = ep_new(MSG_ENTITY_OSD, 0, EP_ECHO, "127.0.0.1:0", NULL);
	struct ep *cli = ep_new(MSG_ENTITY_CLIENT, 5, EP_HOLD, NULL, NULL);
	char logpath[] = "/tmp/test_msg_log.XXXXXX";
	struct msgr_stats st;
	struct msg_conn *good;
	int lfd = mkstemp(logpath), expected_lines = 0;

	(void)state;
	assert_true(lfd >= 0);
	close(lfd);
	snprintf(g_logpath, sizeof(g_logpath), "%s", logpath);
	assert_int_equal(log_init(logpath, LOG_WARN, "test_msg"), 0);
	good = msgr_connect(cli->m, msgr_addr(srv->m), MSG_LOSSY);
	for (int k = 0; k < BAD_KINDS; k++) {
		struct msg_out o = {
		    .type = T_PING, .tid = (uint64_t)k, .front = "x", .front_len = 1};
		int fd = raw_connect(msgr_addr(srv->m));

		if (k != BAD_PRE_MAGIC && k != BAD_PRE_MSG)
			raw_hello(fd);
		send_bad(fd, (enum bad_kind)k);
		assert_int_equal(raw_wait_closed(fd), 0);
		close(fd);
		expected_lines++;
		msgr_get_stats(srv->m, &st);
		assert_int_equal(st.bad_frames, (uint64_t)expected_lines);
		/* the other connection keeps working */
		assert_int_equal(msg_send(good, &o), 0);
		assert_int_equal(ep_wait(cli, &cli->nrecv, (uint64_t)k + 1, 10), 0);
	}
	assert_true(msg_conn_is_open(good));
	log_init(NULL, LOG_WARN, "test_msg");
	/* exactly one line per bad frame */
	assert_int_equal(count_lines(logpath, "malformed frame"), expected_lines);
	assert_int_equal(count_lines(logpath, "WARN"), expected_lines);
	unlink(logpath);
	msg_conn_put(good);
	ep_free(cli);
	ep_free(srv);
}

/* ---- throttles ---- */

static void test_dispatch_throttle(void **state)
{
	struct ep *srv = ep_new(MSG_ENTITY_OSD, 0, EP_HOLD, "127.0.0.1:0",
				"ms_dispatch_throttle_bytes", "1M", NULL);
	struct ep *cli = ep_new(MSG_ENTITY_CLIENT, 5, EP_HOLD, NULL, NULL);
	static uint8_t data[256 << 10];
	struct iovec v = {data, sizeof(data)};
	struct msgr_stats st;
	struct msg_conn *c;
	uint64_t held;

	(void)state;
	c = msgr_connect(cli->m, msgr_addr(srv->m), MSG_LOSSY);
	for (int i = 0; i < 16; i++) {
		struct msg_out o = {.type = T_DATA,
				    .front = "12345678",
				    .front_len = 8,
				    .data = &v,
				    .data_iovcnt = 1};

		assert_int_equal(msg_send(c, &o), 0);
	}
	assert_int_equal(ep_wait(srv, &srv->nrecv, 4, 10), 0);
	sleep_ms(300);
	pthread_mutex_lock(&srv->lock);
	held = srv->nrecv;
	pthread_mutex_unlock(&srv->lock);
	assert_true(held >= 4 && held <= 5);
	msgr_get_stats(srv->m, &st);
	assert_true(st.throttle_stalls >= 1);
	/* freeing (from this thread) lets the rest in */
	for (int round = 0; round < 1000; round++) {
		pthread_mutex_lock(&srv->lock);
		for (int i = 0; i < srv->nheld; i++)
			msg_free(srv->held[i]);
		srv->nheld = 0;
		held = srv->nrecv;
		pthread_mutex_unlock(&srv->lock);
		if (held == 16)
			break;
		sleep_ms(5);
	}
	assert_int_equal(held, 16);
	msg_conn_put(c);
	ep_free(cli);
	ep_free(srv);
}

struct sender {
	struct msg_conn *c;
	int n;
	atomic_int done;
	uint8_t *data;
	size_t len;
};

static void *sender_main(void *arg)
{
	struct sender *s = arg;
	struct iovec v = {s->data, s->len};

	for (int i = 0; i < s->n; i++) {
		struct msg_out o = {.type = T_DATA,
				    .front = "12345678",
				    .front_len = 8,
				    .data = &v,
				    .data_iovcnt = 1};

		if (msg_send(s->c, &o))
			break;
		atomic_fetch_add(&s->done, 1);
	}
	return NULL;
}

/* msg_send from a non-loop thread blocks while more than ms_max_out_bytes are unwritten. */
static void test_send_throttle(void **state)
{
	struct ep *srv = ep_new(MSG_ENTITY_OSD, 0, EP_HOLD, "127.0.0.1:0",
				"ms_dispatch_throttle_bytes", "1M", NULL);
	struct ep *cli =
	    ep_new(MSG_ENTITY_CLIENT, 5, EP_HOLD, NULL, "ms_max_out_bytes", "1M", NULL);
	struct sender s = {.n = 64, .len = 1 << 20};
	pthread_t th;
	uint64_t got = 0;

	(void)state;
	s.data = calloc(1, s.len);
	s.c = msgr_connect(cli->m, msgr_addr(srv->m), MSG_LOSSY);
	atomic_init(&s.done, 0);
	assert_int_equal(pthread_create(&th, NULL, sender_main, &s), 0);
	sleep_ms(500);
	/* server holds ~1 MiB, the sockets hold a few MiB, the queue at most ~1 MiB more */
	assert_true(atomic_load(&s.done) < 40);
	for (int round = 0; round < 2000 && got < 64; round++) {
		pthread_mutex_lock(&srv->lock);
		for (int i = 0; i < srv->nheld; i++)
			msg_free(srv->held[i]);
		srv->nheld = 0;
		got = srv->nrecv;
		pthread_mutex_unlock(&srv->lock);
		sleep_ms(5);
	}
	pthread_join(th, NULL);
	assert_int_equal(atomic_load(&s.done), 64);
	assert_int_equal(got, 64);
	msg_conn_put(s.c);
	ep_free(cli);
	ep_free(srv);
	free(s.data);
}

/* msg_defer_begin/end: a burst of sends from a non-loop thread is held back (queued, its
 * worker not woken) until msg_defer_end, then arrives exactly once and in order; a send that
 * must wait for queue space (ms_max_out_bytes) inside the burst flushes instead of waiting
 * for a wake-up it holds back itself (this test would hang there). */
static void test_send_deferred(void **state)
{
	struct ep *srv = ep_new(MSG_ENTITY_OSD, 1, EP_ORDER, "127.0.0.1:0", NULL);
	struct ep *cli =
	    ep_new(MSG_ENTITY_OSD, 2, EP_HOLD, NULL, "ms_max_out_bytes", "1M", NULL);
	static uint8_t big[1 << 20];
	struct iovec v = {big, sizeof(big)};
	struct msg_conn *c;
	uint64_t i;

	(void)state;
	c = msgr_connect(cli->m, msgr_addr(srv->m), MSG_LOSSLESS);
	assert_non_null(c);
	assert_int_equal(send_seq(c, 0), 0); /* opens the session, consumes the connect kick */
	assert_int_equal(ep_wait(srv, &srv->nrecv, 1, 10), 0);
	msg_defer_begin();
	msg_defer_begin(); /* nested: only the outer end flushes */
	for (i = 1; i <= 3; i++)
		assert_int_equal(send_seq(c, i), 0);
	msg_defer_end();
	sleep_ms(300);
	pthread_mutex_lock(&srv->lock);
	assert_int_equal(srv->nrecv, 1); /* still held back */
	pthread_mutex_unlock(&srv->lock);
	msg_defer_end();
	assert_int_equal(ep_wait(srv, &srv->nrecv, 4, 10), 0);
	/* 8 x 1 MiB in one burst: from the second on, msg_send has to wait for queue space */
	msg_defer_begin();
	for (i = 4; i < 12; i++) {
		struct msg_out o = {.type = T_SEQ, .tid = i, .front = &i, .front_len = 8,
				    .data = &v, .data_iovcnt = 1};

		assert_int_equal(msg_send(c, &o), 0);
	}
	msg_defer_end();
	assert_int_equal(ep_wait(srv, &srv->nrecv, 12, 30), 0);
	assert_int_equal(srv->order_errors, 0);
	assert_int_equal(srv->next_expect, 12);
	msg_conn_put(c);
	ep_free(cli);
	ep_free(srv);
}

/* Lossless acks are delayed (MSG_ACK_DELAY) so that replies carry them; a receiver that
 * sends nothing back still acknowledges, well before its first keepalive (5 s), so the
 * sender's release runs, for a lone message and for a burst. */
static void test_ack_delayed(void **state)
{
	struct ep *srv = ep_new(MSG_ENTITY_OSD, 1, EP_ORDER, "127.0.0.1:0", NULL);
	struct ep *cli = ep_new(MSG_ENTITY_OSD, 2, EP_HOLD, NULL, NULL);
	struct big_ctx bc;
	struct msg_conn *c;
	uint64_t i, t0;

	(void)state;
	atomic_init(&bc.released, 0);
	c = msgr_connect(cli->m, msgr_addr(srv->m), MSG_LOSSLESS);
	assert_non_null(c);
	for (i = 0; i < 200; i++) {
		struct msg_out o = {.type = T_SEQ, .tid = i, .front = &i, .front_len = 8,
				    .release = big_release, .release_arg = &bc};

		assert_int_equal(msg_send(c, &o), 0);
		if (i == 0) { /* a lone message: only the delayed ack releases it */
			t0 = now_mono_ns();
			while (atomic_load(&bc.released) < 1 && now_mono_ns() - t0 < 2000000000ull)
				sleep_ms(1);
			assert_int_equal(atomic_load(&bc.released), 1);
		}
	}
	assert_int_equal(ep_wait(srv, &srv->nrecv, 200, 10), 0);
	t0 = now_mono_ns();
	while (atomic_load(&bc.released) < 200 && now_mono_ns() - t0 < 2000000000ull)
		sleep_ms(1);
	assert_int_equal(atomic_load(&bc.released), 200);
	assert_int_equal(srv->order_errors, 0);
	msg_conn_put(c);
	ep_free(cli);
	ep_free(srv);
}

/* ---- timeouts, close, reset, restart ---- */

static void test_keepalive_idle(void **state)
{
	struct ep *srv = ep_new(MSG_ENTITY_OSD, 0, EP_ECHO, "127.0.0.1:0", "ms_idle_timeout", "0.3",
				"ms_keepalive_interval", "0", NULL);
	struct ep *alive =
	    ep_new(MSG_ENTITY_CLIENT, 1, EP_HOLD, NULL, "ms_keepalive_interval", "0.05", NULL);
	struct ep *quiet =
	    ep_new(MSG_ENTITY_CLIENT, 2, EP_HOLD, NULL, "ms_keepalive_interval", "0", NULL);
	struct msg_conn *a, *q;
	struct msg_out o = {.type = T_PING, .front = "x", .front_len = 1};

	(void)state;
	a = msgr_connect(alive->m, msgr_addr(srv->m), MSG_LOSSY);
	q = msgr_connect(quiet->m, msgr_addr(srv->m), MSG_LOSSY);
	assert_int_equal(msg_send(a, &o), 0);
	assert_int_equal(msg_send(q, &o), 0);
	assert_int_equal(ep_wait(alive, &alive->nrecv, 1, 10), 0);
	assert_int_equal(ep_wait(quiet, &quiet->nrecv, 1, 10), 0);
	/* the server drops the quiet one after 0.3 s; the lossy client hears a reset */
	assert_int_equal(ep_wait_int(quiet, &quiet->resets, 1, 5), 0);
	assert_false(msg_conn_is_open(q));
	assert_int_equal(msg_send(q, &o), -ECONNRESET);
	sleep_ms(700);
	assert_true(msg_conn_is_open(a));
	assert_int_equal(alive->resets, 0);
	assert_int_equal(msg_send(a, &o), 0);
	assert_int_equal(ep_wait(alive, &alive->nrecv, 2, 10), 0);
	msg_conn_put(a);
	msg_conn_put(q);
	ep_free(alive);
	ep_free(quiet);
	ep_free(srv);
}

static void count_release(void *arg)
{
	atomic_fetch_add((atomic_int *)arg, 1);
}

static void test_close_and_errors(void **state)
{
	struct ep *srv = ep_new(MSG_ENTITY_OSD, 0, EP_ECHO, "127.0.0.1:0", NULL);
	struct ep *cli =
	    ep_new(MSG_ENTITY_CLIENT, 1, EP_HOLD, NULL, "ms_max_message_size", "4K", NULL);
	static uint8_t big[8192];
	struct iovec v = {big, sizeof(big)};
	atomic_int rel;
	struct msg_out o = {.type = T_PING, .front = "x", .front_len = 1};
	struct msg_out ob = {.type = T_DATA,
			     .front = "x",
			     .front_len = 1,
			     .data = &v,
			     .data_iovcnt = 1,
			     .release = count_release,
			     .release_arg = &rel};
	struct msg_conn *c, *dead;
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	char addr[64];
	int fd;

	(void)state;
	atomic_init(&rel, 0);
	c = msgr_connect(cli->m, msgr_addr(srv->m), MSG_LOSSY);
	assert_int_equal(msg_send(c, &ob), -EMSGSIZE);
	assert_int_equal(atomic_load(&rel), 1); /* released also on failure */
	o.type = 3;
	assert_int_equal(msg_send(c, &o), -EINVAL); /* messenger-internal type range */
	o.type = T_PING;
	assert_int_equal(msg_send(c, &o), 0);
	assert_int_equal(ep_wait(cli, &cli->nrecv, 1, 10), 0);
	assert_int_equal(ep_wait_int(srv, &srv->accepts, 1, 5), 0);
	msg_conn_close(c);
	assert_int_equal(ep_wait_int(cli, &cli->resets, 1, 5), 0);
	assert_int_equal(ep_wait_int(srv, &srv->resets, 1, 5), 0); /* CLOSE frame */
	assert_int_equal(msg_send(c, &o), -ECONNRESET);
	msg_conn_put(c);

	/* refused: a port nobody listens on */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(parse_addr("127.0.0.1:0", &sa), 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", ntohs(sa.sin_port));
	close(fd);
	dead = msgr_connect(cli->m, addr, MSG_LOSSY);
	assert_non_null(dead);
	assert_int_equal(ep_wait_int(cli, &cli->resets, 2, 5), 0);
	assert_false(msg_conn_is_open(dead));
	msg_conn_put(dead);
	assert_null(msgr_connect(cli->m, "not-an-address", MSG_LOSSY));
	assert_int_equal(errno, EINVAL);
	ep_free(cli);
	ep_free(srv);
}

/* A lossless peer restarting (new nonce) ends the session on both kinds of side. */
static void test_remote_reset(void **state)
{
	struct ep *srv =
	    ep_new(MSG_ENTITY_OSD, 0, EP_ORDER, "127.0.0.1:0", "ms_reconnect_min", "0.01", NULL);
	struct ep *cli = ep_new(MSG_ENTITY_OSD, 1, EP_HOLD, NULL, "ms_reconnect_min", "0.01",
				"ms_reconnect_max", "0.05", NULL);
	struct ep *cli2;
	struct msg_conn *c, *c2;
	char addr[64];

	(void)state;
	snprintf(addr, sizeof(addr), "%s", msgr_addr(srv->m));
	c = msgr_connect(cli->m, addr, MSG_LOSSLESS);
	assert_ptr_equal(msgr_connect(cli->m, addr, MSG_LOSSLESS), c); /* shared */
	msg_conn_put(c);
	for (uint64_t i = 0; i < 10; i++)
		assert_int_equal(send_seq(c, i), 0);
	assert_int_equal(ep_wait(srv, &srv->nrecv, 10, 10), 0);

	/* the server restarts on the same address */
	ep_free(srv);
	srv = ep_new(MSG_ENTITY_OSD, 0, EP_ORDER, addr, NULL);
	assert_int_equal(ep_wait_int(cli, &cli->remote_resets, 1, 10), 0);
	assert_int_equal(send_seq(c, 0), 0);
	assert_int_equal(ep_wait(srv, &srv->nrecv, 1, 10), 0);
	assert_int_equal(srv->order_errors, 0);

	/* the client restarts (same entity, new nonce): the server ends the old session */
	cli2 = ep_new(MSG_ENTITY_OSD, 1, EP_HOLD, NULL, NULL);
	c2 = msgr_connect(cli2->m, addr, MSG_LOSSLESS);
	srv->next_expect = 0;
	assert_int_equal(send_seq(c2, 0), 0);
	assert_int_equal(ep_wait(srv, &srv->nrecv, 2, 10), 0);
	assert_int_equal(ep_wait_int(srv, &srv->remote_resets, 1, 10), 0);
	assert_int_equal(srv->order_errors, 0);
	msg_conn_put(c2);
	msg_conn_put(c);
	ep_free(cli2);
	ep_free(cli);
	ep_free(srv);
}

/* Large messages over a lossless connection that keeps failing: data is re-sent from the
 * caller's (uncopied) buffers, checked by content, delivered exactly once. */
static void test_lossless_large_injected(void **state)
{
	struct ep *srv =
	    ep_new(MSG_ENTITY_OSD, 1, EP_DATA, "127.0.0.1:0", "ms_inject_socket_failures", "4",
		   "ms_reconnect_min", "0.001", "ms_reconnect_max", "0.01", NULL);
	struct ep *cli = ep_new(MSG_ENTITY_OSD, 2, EP_HOLD, NULL, "ms_reconnect_min", "0.001",
				"ms_reconnect_max", "0.01", NULL);
	const size_t sz = 1u << 20;
	const int count = 48;
	struct big_ctx bc;
	struct msgr_stats st;
	uint8_t *buf;
	uint64_t h;
	struct msg_conn *c;

	(void)state;
	atomic_init(&bc.released, 0);
	buf = malloc(sz);
	assert_non_null(buf);
	for (size_t i = 0; i < sz; i++)
		buf[i] = (uint8_t)(i * 2654435761u >> 13);
	h = cairn_xxh3(buf, sz);
	c = msgr_connect(cli->m, msgr_addr(srv->m), MSG_LOSSLESS);
	for (int i = 0; i < count; i++) {
		struct iovec v[3] = {
		    {buf, 1000}, {buf + 1000, sz / 2 - 1000}, {buf + sz / 2, sz / 2}};
		struct msg_out o = {.type = T_DATA,
				    .tid = (uint64_t)i,
				    .front = &h,
				    .front_len = 8,
				    .data = v,
				    .data_iovcnt = 3,
				    .release = big_release,
				    .release_arg = &bc};

		assert_int_equal(msg_send(c, &o), 0);
	}
	assert_int_equal(ep_wait(srv, &srv->nrecv, count, 60), 0);
	sleep_ms(50);
	assert_int_equal(srv->nrecv, count); /* exactly once */
	assert_int_equal(srv->data_errors, 0);
	msgr_get_stats(srv->m, &st);
	assert_true(st.injected >= 3);
	/* every buffer is released once acked */
	for (int i = 0; i < 400 && atomic_load(&bc.released) < count; i++)
		sleep_ms(5);
	assert_int_equal(atomic_load(&bc.released), count);
	msg_conn_put(c);
	ep_free(cli);
	ep_free(srv);
	free(buf);
}

struct mt_sender {
	struct msg_conn *c;
	uint32_t id;
	uint32_t n;
};

static void *mt_sender_main(void *arg)
{
	struct mt_sender *s = arg;

	for (uint32_t i = 0; i < s->n; i++) {
		uint64_t v = ((uint64_t)s->id << 32) | i;
		struct msg_out o = {.type = T_SEQ, .front = &v, .front_len = 8};

		if (msg_send(s->c, &o))
			break;
	}
	return NULL;
}

static uint32_t mt_next[4];
static atomic_int mt_errors;
static atomic_uint_fast64_t mt_count;

static void mt_dispatch(struct msg_conn *c, struct msg *m, void *arg)
{
	uint64_t v;

	(void)c;
	(void)arg;
	memcpy(&v, m->front, 8);
	if ((v >> 32) >= 4 || (uint32_t)v != mt_next[v >> 32])
		atomic_fetch_add(&mt_errors, 1);
	else
		mt_next[v >> 32]++;
	atomic_fetch_add(&mt_count, 1);
	msg_free(m);
}

/* Four threads send on one connection at once; each thread's messages stay in order. */
static void test_multithread_senders(void **state)
{
	static const struct msgr_ops ops = {.dispatch = mt_dispatch};
	struct msgr_opts so = {.me = {MSG_ENTITY_OSD, 0}, .nworkers = 2, .ops = &ops};
	struct ep *cli = ep_new(MSG_ENTITY_OSD, 1, EP_HOLD, NULL, NULL);
	struct mt_sender s[4];
	pthread_t th[4];
	struct msgr *srv;
	struct msg_conn *c;

	(void)state;
	memset(mt_next, 0, sizeof(mt_next));
	atomic_init(&mt_errors, 0);
	atomic_init(&mt_count, 0);
	srv = msgr_create(&so);
	assert_int_equal(msgr_bind(srv, "127.0.0.1:0"), 0);
	assert_int_equal(msgr_start(srv), 0);
	c = msgr_connect(cli->m, msgr_addr(srv), MSG_LOSSLESS);
	for (int i = 0; i < 4; i++) {
		s[i] = (struct mt_sender){.c = c, .id = (uint32_t)i, .n = 50000};
		assert_int_equal(pthread_create(&th[i], NULL, mt_sender_main, &s[i]), 0);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < 2000 && atomic_load(&mt_count) < 200000; i++)
		sleep_ms(5);
	assert_int_equal(atomic_load(&mt_count), 200000);
	assert_int_equal(atomic_load(&mt_errors), 0);
	msg_conn_put(c);
	ep_free(cli);
	msgr_destroy(srv);
}

/* A peer that accepts TCP but never answers the HELLO: the connect timeout fires. */
static void test_handshake_timeout(void **state)
{
	struct ep *cli =
	    ep_new(MSG_ENTITY_CLIENT, 1, EP_HOLD, NULL, "ms_connect_timeout", "0.2", NULL);
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	struct msg_out o = {.type = T_PING, .front = "x", .front_len = 1};
	struct msg_conn *c;
	char addr[64];
	uint64_t t0;
	int lfd;

	(void)state;
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(parse_addr("127.0.0.1:0", &sa), 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 8), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &sl), 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", ntohs(sa.sin_port));
	t0 = now_mono_ns();
	c = msgr_connect(cli->m, addr, MSG_LOSSY);
	assert_int_equal(msg_send(c, &o), 0); /* queued until the handshake: dropped at reset */
	assert_int_equal(ep_wait_int(cli, &cli->resets, 1, 5), 0);
	assert_true(now_mono_ns() - t0 >= 150000000ull);
	assert_false(msg_conn_is_open(c));
	msg_conn_put(c);
	close(lfd);
	ep_free(cli);
}

/* An acceptor ends a lossless session whose peer does not come back (ms_session_timeout). */
static void test_session_timeout(void **state)
{
	struct ep *srv =
	    ep_new(MSG_ENTITY_OSD, 0, EP_ORDER, "127.0.0.1:0", "ms_session_timeout", "0.3", NULL);
	struct ep *cli = ep_new(MSG_ENTITY_OSD, 1, EP_HOLD, NULL, NULL);
	struct msg_conn *c;
	uint64_t t0;

	(void)state;
	c = msgr_connect(cli->m, msgr_addr(srv->m), MSG_LOSSLESS);
	assert_int_equal(send_seq(c, 0), 0);
	assert_int_equal(ep_wait(srv, &srv->nrecv, 1, 10), 0);
	msg_conn_put(c);
	ep_free(cli); /* gone without a CLOSE: the server keeps the session for a while */
	t0 = now_mono_ns();
	assert_int_equal(ep_wait_int(srv, &srv->resets, 1, 10), 0);
	assert_true(now_mono_ns() - t0 >= 250000000ull);
	ep_free(srv);
}

/* Connecting and sending before msgr_start works: the work waits for the loops. */
static void test_connect_before_start(void **state)
{
	struct ep *srv = ep_new(MSG_ENTITY_OSD, 0, EP_ORDER, "127.0.0.1:0", NULL);
	struct ep *cli = calloc(1, sizeof(*cli));
	struct msgr_opts o = {.me = {MSG_ENTITY_OSD, 9}, .nworkers = 3, .ops = &ep_ops};
	struct msg_conn *c;

	(void)state;
	pthread_mutex_init(&cli->lock, NULL);
	pthread_cond_init(&cli->cond, NULL);
	cli->mode = EP_HOLD;
	cli->conf = conf_defaults();
	o.arg = cli;
	cli->m = msgr_create(&o);
	assert_non_null(cli->m);
	c = msgr_connect(cli->m, msgr_addr(srv->m), MSG_LOSSLESS);
	for (uint64_t i = 0; i < 100; i++)
		assert_int_equal(send_seq(c, i), 0);
	sleep_ms(50);
	assert_int_equal(srv->nrecv, 0);
	assert_int_equal(msgr_start(cli->m), 0);
	assert_int_equal(ep_wait(srv, &srv->nrecv, 100, 10), 0);
	assert_int_equal(srv->order_errors, 0);
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
	    cmocka_unit_test(test_malformed_frames),
	    cmocka_unit_test(test_dispatch_throttle),
	    cmocka_unit_test(test_send_throttle),
	    cmocka_unit_test(test_send_deferred),
	    cmocka_unit_test(test_ack_delayed),
	    cmocka_unit_test(test_keepalive_idle),
	    cmocka_unit_test(test_close_and_errors),
	    cmocka_unit_test(test_remote_reset),
	    cmocka_unit_test(test_lossless_large_injected),
	    cmocka_unit_test(test_multithread_senders),
	    cmocka_unit_test(test_handshake_timeout),
	    cmocka_unit_test(test_session_timeout),
	    cmocka_unit_test(test_connect_before_start),
	};

	log_init(NULL, getenv("TEST_LOG_LEVEL") ? atoi(getenv("TEST_LOG_LEVEL")) : LOG_WARN,
		 "test_msg");
	if (getenv("TEST_FILTER"))
		cmocka_set_test_filter(getenv("TEST_FILTER"));
	return cmocka_run_group_tests(tests, NULL, group_teardown);
}
