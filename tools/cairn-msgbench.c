/*
 * cairn-msgbench — messenger throughput and latency over 127.0.0.1, server and client in
 * one process (two messengers, one worker thread each unless --workers says otherwise).
 *
 *   cairn-msgbench [--size BYTES] [--inflight N] [--seconds S] [--workers N]
 *                  [--lossless] [--no-crc] [--baseline] [--iperf3] [--set NAME=VALUE]...
 *
 * The client keeps N requests of BYTES data (one shared buffer, never copied: the data
 * iovec goes straight to writev) outstanding; the server answers each with an 8-byte
 * reply; the next request is sent from the reply's dispatch callback on the loop thread,
 * which is how daemons use the messenger. Prints one line:
 *     size=4096 inflight=1 MBps=... msgps=... p50_us=... p99_us=...
 * --baseline first prints the same line (mode=blocking) for a minimal blocking-socket
 * ping-pong of the same frame sizes (inflight is 1 there); --iperf3 first prints
 * `mode=iperf3 MBps=...` from one iperf3 single-stream loopback run of the same length.
 * --set applies any option (e.g. --set ms_read_buffer=16K) to both messengers.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/config.h"
#include "common/log.h"
#include "common/msg.h"
#include "common/msg_types.h"
#include "common/util.h"

#define MAX_SAMPLES (4u << 20)

struct bench {
	uint64_t size;
	int inflight;
	double seconds;
	uint8_t *data;
	struct iovec iov;
	struct msg_conn *c;
	uint64_t start_ns, deadline_ns;
	uint64_t *sent_ns; /* by tid % inflight */
	uint64_t next_tid;
	uint64_t done;
	uint64_t *lat;
	size_t nlat;
	int outstanding;
	int failed;
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double pct_us(uint64_t *v, size_t n, double p)
{
	size_t i;

	if (!n)
		return 0;
	i = (size_t)(p * (double)(n - 1));
	return (double)v[i] / 1000.0;
}

static void print_line(const char *mode, uint64_t size, int inflight, uint64_t ops, double secs,
		       uint64_t *lat, size_t nlat)
{
	qsort(lat, nlat, sizeof(*lat), cmp_u64);
	printf("%s%s%ssize=%llu inflight=%d MBps=%.1f msgps=%.0f p50_us=%.1f p99_us=%.1f\n",
	       mode ? "mode=" : "", mode ? mode : "", mode ? " " : "", (unsigned long long)size,
	       inflight, (double)ops * (double)size / secs / 1e6, (double)ops / secs,
	       pct_us(lat, nlat, 0.50), pct_us(lat, nlat, 0.99));
	fflush(stdout);
}

/* ---- messenger run ---- */

static int bench_send(struct bench *b)
{
	uint64_t tid = b->next_tid++;
	struct msg_out o = {.type = MSG_MSGR_TEST,
			    .tid = tid,
			    .front = &tid,
			    .front_len = 8,
			    .data = &b->iov,
			    .data_iovcnt = b->size ? 1 : 0};

	b->sent_ns[tid % (uint64_t)b->inflight] = now_mono_ns();
	return msg_send(b->c, &o);
}

static void server_dispatch(struct msg_conn *c, struct msg *m, void *arg)
{
	struct msg_out o = {.type = MSG_MSGR_TEST_REPLY,
			    .tid = m->tid,
			    .front = m->front,
			    .front_len = m->front_len};

	(void)arg;
	msg_send(c, &o);
	msg_free(m);
}

static void client_dispatch(struct msg_conn *c, struct msg *m, void *arg)
{
	struct bench *b = arg;
	uint64_t now = now_mono_ns();

	(void)c;
	pthread_mutex_lock(&b->lock);
	if (b->nlat < MAX_SAMPLES)
		b->lat[b->nlat++] = now - b->sent_ns[m->tid % (uint64_t)b->inflight];
	b->done++;
	if (now < b->deadline_ns && !b->failed) {
		if (bench_send(b))
			b->failed = 1;
	} else {
		b->outstanding--;
	}
	if (b->outstanding <= 0 || b->failed) /* wake the main thread only at the end */
		pthread_cond_broadcast(&b->cond);
	pthread_mutex_unlock(&b->lock);
	msg_free(m);
}

static void client_reset(struct msg_conn *c, void *arg)
{
	struct bench *b = arg;

	(void)c;
	pthread_mutex_lock(&b->lock);
	b->failed = 1;
	pthread_cond_broadcast(&b->cond);
	pthread_mutex_unlock(&b->lock);
}

static int run_msgr(struct bench *b, int workers, int lossless, struct cairn_conf *conf)
{
	const struct msgr_ops sops = {.dispatch = server_dispatch};
	const struct msgr_ops cops = {.dispatch = client_dispatch, .reset = client_reset};
	struct msgr_opts so = {
	    .me = {MSG_ENTITY_OSD, 0}, .nworkers = workers, .conf = conf, .ops = &sops};
	struct msgr_opts co = {.me = {MSG_ENTITY_CLIENT, 1},
			       .nworkers = workers,
			       .conf = conf,
			       .ops = &cops,
			       .arg = b};
	struct msgr *srv, *cli;
	uint64_t t_end, warm;
	int r = 0;

	srv = msgr_create(&so);
	cli = msgr_create(&co);
	if (!srv || !cli || msgr_bind(srv, "127.0.0.1:0") || msgr_start(srv) || msgr_start(cli)) {
		fprintf(stderr, "cairn-msgbench: cannot start messengers\n");
		return 1;
	}
	b->c = msgr_connect(cli, msgr_addr(srv), lossless ? MSG_LOSSLESS : MSG_LOSSY);
	/* warm up: one round trip establishes the connection */
	pthread_mutex_lock(&b->lock);
	b->deadline_ns = 0;
	b->outstanding = 1;
	bench_send(b);
	warm = now_mono_ns() + 10ull * 1000000000ull;
	while (b->outstanding && !b->failed && now_mono_ns() < warm) {
		pthread_mutex_unlock(&b->lock);
		sleep_ms(1);
		pthread_mutex_lock(&b->lock);
	}
	b->done = 0;
	b->nlat = 0;
	b->start_ns = now_mono_ns();
	b->deadline_ns = b->start_ns + (uint64_t)(b->seconds * 1e9);
	for (int i = 0; i < b->inflight; i++) {
		b->outstanding++;
		if (bench_send(b))
			b->failed = 1;
	}
	while (b->outstanding > 0 && !b->failed) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&b->cond, &b->lock, &ts);
		if (now_mono_ns() > b->deadline_ns + 30ull * 1000000000ull)
			break;
	}
	t_end = now_mono_ns();
	if (b->failed) {
		fprintf(stderr, "cairn-msgbench: connection failed\n");
		r = 1;
	}
	pthread_mutex_unlock(&b->lock);
	print_line(NULL, b->size, b->inflight, b->done, (double)(t_end - b->start_ns) / 1e9, b->lat,
		   b->nlat);
	msg_conn_put(b->c);
	msgr_destroy(cli);
	msgr_destroy(srv);
	return r;
}

/* ---- blocking-socket baseline: same frame sizes, one request at a time ---- */

struct bl_srv {
	int lfd;
	uint64_t req_len;
};

static int full_io(int fd, void *p, size_t n, int wr)
{
	uint8_t *b = p;

	while (n) {
		ssize_t r = wr ? write(fd, b, n) : read(fd, b, n);

		if (r <= 0)
			return -1;
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

static void *bl_server(void *arg)
{
	struct bl_srv *s = arg;
	uint8_t *buf = malloc(s->req_len), reply[72] = {0};
	int one = 1, fd = accept(s->lfd, NULL, NULL);

	if (fd >= 0 && buf) {
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		while (!full_io(fd, buf, s->req_len, 0) && !full_io(fd, reply, sizeof(reply), 1))
			;
		close(fd);
	}
	free(buf);
	return NULL;
}

static int run_blocking(uint64_t size, double seconds)
{
	struct bl_srv s = {.req_len = 72 + size};
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sa);
	uint8_t *req = calloc(1, s.req_len), reply[72];
	uint64_t *lat = malloc(MAX_SAMPLES * sizeof(*lat)), n = 0, t0, end;
	size_t nlat = 0;
	pthread_t th;
	int fd, one = 1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s.lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (!req || !lat || s.lfd < 0 || bind(s.lfd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(s.lfd, 1) || getsockname(s.lfd, (struct sockaddr *)&sa, &sl))
		return 1;
	pthread_create(&th, NULL, bl_server, &s);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		return 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	full_io(fd, req, s.req_len, 1); /* warm up */
	full_io(fd, reply, sizeof(reply), 0);
	t0 = now_mono_ns();
	end = t0 + (uint64_t)(seconds * 1e9);
	for (;;) {
		uint64_t a = now_mono_ns();

		if (a >= end)
			break;
		if (full_io(fd, req, s.req_len, 1) || full_io(fd, reply, sizeof(reply), 0))
			return 1;
		if (nlat < MAX_SAMPLES)
			lat[nlat++] = now_mono_ns() - a;
		n++;
	}
	print_line("blocking", size, 1, n, (double)(now_mono_ns() - t0) / 1e9, lat, nlat);
	close(fd);
	pthread_join(th, NULL);
	close(s.lfd);
	free(req);
	free(lat);
	return 0;
}

/* ---- iperf3 single stream, same machine, same run ---- */

static int run_iperf3(double seconds)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sa);
	char port[16], secs[16], cmd[256], *out = NULL;
	size_t cap = 0, len = 0;
	json_t *root, *bps;
	json_error_t jerr;
	pid_t srv;
	FILE *p;
	int fd;

	/* a free port (tiny race with other binders; fine for a benchmark) */
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl))
		return 1;
	close(fd);
	snprintf(port, sizeof(port), "%u", ntohs(sa.sin_port));
	snprintf(secs, sizeof(secs), "%d", seconds < 1 ? 1 : (int)(seconds + 0.5));
	srv = fork();
	if (srv == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		dup2(null, 2);
		execlp("iperf3", "iperf3", "-s", "-1", "-B", "127.0.0.1", "-p", port, (char *)NULL);
		_exit(127);
	}
	sleep_ms(300);
	snprintf(cmd, sizeof(cmd), "iperf3 -c 127.0.0.1 -p %s -t %s -J 2>/dev/null", port, secs);
	p = popen(cmd, "r");
	if (p) {
		char buf[4096];
		size_t n;

		while ((n = fread(buf, 1, sizeof(buf), p)) > 0) {
			if (len + n + 1 > cap) {
				cap = (len + n + 1) * 2;
				out = realloc(out, cap);
			}
			memcpy(out + len, buf, n);
			len += n;
		}
		pclose(p);
	}
	kill(srv, SIGTERM);
	waitpid(srv, NULL, 0);
	if (!out) {
		fprintf(stderr, "cairn-msgbench: iperf3 did not run\n");
		return 1;
	}
	out[len] = '\0';
	root = json_loads(out, 0, &jerr);
	free(out);
	bps = root ? json_object_get(json_object_get(json_object_get(root, "end"), "sum_received"),
				     "bits_per_second")
		   : NULL;
	if (!json_is_number(bps)) {
		fprintf(stderr, "cairn-msgbench: cannot read iperf3 output\n");
		json_decref(root);
		return 1;
	}
	printf("mode=iperf3 streams=1 seconds=%s MBps=%.1f\n", secs, json_number_value(bps) / 8e6);
	fflush(stdout);
	json_decref(root);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: cairn-msgbench [--size BYTES] [--inflight N] [--seconds S] "
			"[--workers N] [--lossless] [--no-crc] [--baseline] [--iperf3] "
			"[--set NAME=VALUE]...\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"size", required_argument, NULL, 's'},
	    {"inflight", required_argument, NULL, 'i'},
	    {"seconds", required_argument, NULL, 't'},
	    {"workers", required_argument, NULL, 'w'},
	    {"lossless", no_argument, NULL, 'l'},
	    {"no-crc", no_argument, NULL, 'n'},
	    {"baseline", no_argument, NULL, 'b'},
	    {"iperf3", no_argument, NULL, 'p'},
	    {"set", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct bench b = {.size = 4096, .inflight = 1, .seconds = 5};
	int workers = 1, lossless = 0, nocrc = 0, baseline = 0, iperf = 0, opt, r;
	struct cairn_conf *conf = conf_defaults();
	char err[256];
	int64_t v;

	while ((opt = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (opt) {
		case 's':
			if (parse_size(optarg, &b.size) || b.size > (1ull << 30)) {
				usage();
				return 2;
			}
			break;
		case 'i':
			if (parse_int64(optarg, &v) || v < 1 || v > 65536) {
				usage();
				return 2;
			}
			b.inflight = (int)v;
			break;
		case 't':
			b.seconds = atof(optarg);
			if (b.seconds <= 0 || b.seconds > 3600) {
				usage();
				return 2;
			}
			break;
		case 'w':
			if (parse_int64(optarg, &v) || v < 1 || v > 64) {
				usage();
				return 2;
			}
			workers = (int)v;
			break;
		case 'l':
			lossless = 1;
			break;
		case 'n':
			nocrc = 1;
			break;
		case 'b':
			baseline = 1;
			break;
		case 'p':
			iperf = 1;
			break;
		case 'o': {
			char *eq = strchr(optarg, '=');

			if (!eq) {
				usage();
				return 2;
			}
			*eq = '\0';
			if (conf_set(conf, optarg, eq + 1, err, sizeof(err))) {
				fprintf(stderr, "cairn-msgbench: %s\n", err);
				return 2;
			}
			break;
		}
		default:
			usage();
			return opt == 'h' ? 0 : 2;
		}
	}
	log_init(NULL, LOG_WARN, "msgbench");
	signal(SIGPIPE, SIG_IGN);
	if (nocrc && conf_set(conf, "ms_crc_data", "false", err, sizeof(err)))
		return 2;
	if (iperf && run_iperf3(b.seconds))
		return 1;
	if (baseline && run_blocking(b.size, b.seconds))
		return 1;
	b.data = calloc(1, b.size ? b.size : 1);
	b.iov.iov_base = b.data;
	b.iov.iov_len = b.size;
	b.sent_ns = calloc((size_t)b.inflight, sizeof(uint64_t));
	b.lat = malloc(MAX_SAMPLES * sizeof(uint64_t));
	if (!b.data || !b.sent_ns || !b.lat)
		return 1;
	for (uint64_t i = 0; i < b.size; i++)
		b.data[i] = (uint8_t)(i * 131);
	pthread_mutex_init(&b.lock, NULL);
	pthread_cond_init(&b.cond, NULL);
	r = run_msgr(&b, workers, lossless, conf);
	free(b.data);
	free(b.sent_ns);
	free(b.lat);
	conf_free(conf);
	return r;
}
