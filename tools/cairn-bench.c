/*
 * cairn-bench — the storage benchmark, shaped like `rados bench`.
 *
 *   cairn-bench -c CONF -p POOL SECONDS write|seq|rand [-t INFLIGHT] [-b SIZE] [--no-cleanup]
 *               [--run-name NAME] [--verify] [-f json] [--OPTION VALUE]...
 *   cairn-bench -c CONF -p POOL cleanup [--run-name NAME]
 *
 * write  writes objects <prefix>_object<N> (write_full, SIZE bytes) with INFLIGHT ops in
 *        flight for SECONDS, then stores a metadata object (named NAME, default
 *        "benchmark_last_metadata") that says prefix, size and count, and removes the objects
 *        again unless --no-cleanup. prefix = "benchmark_data_NAME", or
 *        "benchmark_data_HOST_PID" without --run-name, so several benches (also on several
 *        machines) can share a pool.
 * seq    reads the objects of the last write run in order (stops early once all are read).
 * rand   reads random objects of the last write run for SECONDS.
 * --verify  every object read is compared with what write stored (write mode: every object is
 *        read back after its write); a mismatch counts as an error and is reported.
 *
 * Object content: a 64-byte header naming the object, then a pattern derived from the run's
 * seed (stored in the metadata), so a reader can check every byte without the writer.
 *
 * Output: a progress line every second, a final report, and one line
 *   summary: mode= size= inflight= seconds= ops= errors= bw_MBps= iops= lat_avg_ms=
 *            lat_p50_ms= lat_p99_ms= lat_p999_ms= lat_max_ms= ...
 * (MB = 2^20 bytes, as rados bench counts). -f json prints one JSON object on stdout instead
 * (progress and the summary line then go to stderr).
 *
 * Concurrency: INFLIGHT slots; each slot's completion callback (a libcairn thread) records the
 * latency and starts the slot's next op, so no thread hop sits on the measured path.
 */
#include <cairn/libcairn.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define HDR_LEN 64
#define MAX_INFLIGHT 4096
#define MAX_LAT_SAMPLES (64u << 20)
#define META_DEFAULT "benchmark_last_metadata"

enum mode { M_WRITE, M_SEQ, M_RAND, M_CLEANUP };
static const char *const mode_names[] = { "write", "seq", "rand", "cleanup" };

struct bench;

struct slot {
	struct bench *b;
	int idx;
	uint8_t *buf;       /* SIZE bytes: write source or read target */
	uint8_t *rbuf;      /* write --verify: read-back target */
	uint64_t obj;       /* object number of the op in flight */
	uint64_t start_ns;
	bool verifying;     /* write mode --verify: this op is the read-back */
};

struct bench {
	/* arguments */
	const char *conf, *pool, *run_name, *format;
	enum mode mode;
	double seconds;
	int inflight;
	uint64_t size;
	bool no_cleanup, verify, json;
	/* cluster */
	cairn_t *cl;
	cairn_ioctx_t *io;
	/* run */
	char prefix[256];
	char meta_name[256];
	uint64_t seed;
	uint64_t nobjects;  /* seq/rand: objects of the write run */
	uint8_t *pattern;   /* SIZE bytes: expected content after the header */
	struct slot *slots;

	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint64_t t0_ns, deadline_ns;
	bool stop;
	int active;         /* slots with an op in flight */
	uint64_t next_obj;  /* write/seq: next object number */
	uint64_t started, finished, errors, verify_errors;
	int first_err;
	uint64_t bytes;
	uint64_t *lat;      /* per finished op, ns */
	size_t nlat, caplat;
	uint64_t lat_sum, lat_max;
	/* for the per-second progress line */
	uint64_t win_ops, win_lat_sum, win_bytes;
	uint64_t rng;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static int parse_size_arg(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	default: break;
	}
	if (*end == 'i' || *end == 'B')
		end++;
	if (*end == 'B')
		end++;
	if (*end)
		return -EINVAL;
	*out = v;
	return 0;
}

static void obj_name(const struct bench *b, uint64_t n, char *out, size_t len)
{
	snprintf(out, len, "%s_object%" PRIu64, b->prefix, n);
}

/* The object's expected header: its number and name, NUL padded to HDR_LEN bytes. */
static void make_header(const struct bench *b, uint64_t n, char hdr[HDR_LEN])
{
	char tmp[384];

	memset(tmp, 0, sizeof(tmp));
	snprintf(tmp, sizeof(tmp), "cairn-bench %" PRIu64 " %s", n, b->prefix);
	memcpy(hdr, tmp, HDR_LEN);
}

static void fill_header(const struct bench *b, uint64_t n, uint8_t *buf)
{
	char hdr[HDR_LEN];

	make_header(b, n, hdr);
	memcpy(buf, hdr, b->size < HDR_LEN ? b->size : HDR_LEN);
}

/* Content check: header (object number and name), then the run's pattern. */
static bool check_content(const struct bench *b, uint64_t n, const uint8_t *buf, int got)
{
	char hdr[HDR_LEN];

	if (got < 0 || (uint64_t)got != b->size)
		return false;
	make_header(b, n, hdr);
	if (memcmp(buf, hdr, b->size < HDR_LEN ? b->size : HDR_LEN))
		return false;
	return b->size <= HDR_LEN || !memcmp(buf + HDR_LEN, b->pattern + HDR_LEN, b->size - HDR_LEN);
}

static void record_locked(struct bench *b, uint64_t lat_ns, int rc, uint64_t bytes)
{
	b->finished++;
	if (rc < 0) {
		b->errors++;
		if (!b->first_err)
			b->first_err = rc;
		return;
	}
	b->bytes += bytes;
	b->lat_sum += lat_ns;
	b->win_ops++;
	b->win_lat_sum += lat_ns;
	b->win_bytes += bytes;
	if (lat_ns > b->lat_max)
		b->lat_max = lat_ns;
	if (b->nlat == b->caplat && b->caplat < MAX_LAT_SAMPLES) {
		size_t nc = b->caplat ? b->caplat * 2 : 65536;
		uint64_t *nl = realloc(b->lat, nc * sizeof(*nl));
		if (nl) {
			b->lat = nl;
			b->caplat = nc;
		}
	}
	if (b->nlat < b->caplat)
		b->lat[b->nlat++] = lat_ns;
}

static void on_complete(cairn_completion_t *c, void *arg);

/* Picks the slot's next op and starts it; false when the run is over for this slot.
 * Called with b->lock held. */
static bool pick_next_locked(struct bench *b, struct slot *s)
{
	if (b->stop || now_ns() >= b->deadline_ns)
		return false;
	switch (b->mode) {
	case M_WRITE:
		s->obj = b->next_obj++;
		break;
	case M_SEQ:
		if (b->next_obj >= b->nobjects)
			return false;
		s->obj = b->next_obj++;
		break;
	case M_RAND:
		s->obj = splitmix64(&b->rng) % b->nobjects;
		break;
	default:
		return false;
	}
	s->verifying = false;
	b->started++;
	return true;
}

static int start_op(struct slot *s)
{
	struct bench *b = s->b;
	cairn_completion_t *c;
	char name[320];
	int r;

	r = cairn_aio_create_completion(s, on_complete, &c);
	if (r < 0)
		return r;
	obj_name(b, s->obj, name, sizeof(name));
	if (!s->verifying)
		s->start_ns = now_ns();
	if (b->mode == M_WRITE && !s->verifying) {
		fill_header(b, s->obj, s->buf);
		r = cairn_aio_write_full(b->io, name, c, s->buf, b->size);
	} else if (s->verifying) {
		memset(s->rbuf, 0, b->size);
		r = cairn_aio_read(b->io, name, c, s->rbuf, b->size, 0);
	} else {
		r = cairn_aio_read(b->io, name, c, s->buf, b->size, 0);
	}
	if (r < 0)
		cairn_aio_release(c);
	return r;
}

/* Starts the slot's next op, or retires the slot when the run is over. */
static void slot_advance(struct slot *s)
{
	struct bench *b = s->b;
	int r;

	pthread_mutex_lock(&b->lock);
	if (!pick_next_locked(b, s)) {
		b->active--;
		pthread_cond_broadcast(&b->cond);
		pthread_mutex_unlock(&b->lock);
		return;
	}
	pthread_mutex_unlock(&b->lock);
	r = start_op(s);
	if (r == 0)
		return;
	/* could not even start an op (e.g. the handle is shutting down): end the run */
	pthread_mutex_lock(&b->lock);
	record_locked(b, 0, r, 0);
	b->stop = true;
	b->active--;
	pthread_cond_broadcast(&b->cond);
	pthread_mutex_unlock(&b->lock);
}

static void on_complete(cairn_completion_t *c, void *arg)
{
	struct slot *s = arg;
	struct bench *b = s->b;
	int rc = cairn_aio_get_return_value(c);
	uint64_t lat = now_ns() - s->start_ns;

	cairn_aio_release(c);
	if (b->mode == M_WRITE && b->verify && !s->verifying && rc >= 0) {
		/* a verified write counts once its read-back matched; latency covers both */
		s->verifying = true;
		if (start_op(s) == 0)
			return;
		rc = -EIO;
	}
	if (rc >= 0 && (b->mode != M_WRITE || s->verifying)) {
		const uint8_t *got = s->verifying ? s->rbuf : s->buf;
		if (b->verify && !check_content(b, s->obj, got, rc)) {
			fprintf(stderr, "cairn-bench: verify: object %s_object%" PRIu64
				" has wrong content (%d bytes read)\n", b->prefix, s->obj, rc);
			pthread_mutex_lock(&b->lock);
			b->verify_errors++;
			pthread_mutex_unlock(&b->lock);
			rc = -EIO;
		} else if ((uint64_t)rc != b->size) {
			fprintf(stderr, "cairn-bench: short read of %s_object%" PRIu64 ": %d of %"
				PRIu64 " bytes\n", b->prefix, s->obj, rc, b->size);
			rc = -EIO;
		}
	}
	pthread_mutex_lock(&b->lock);
	record_locked(b, lat, rc, b->size);
	pthread_mutex_unlock(&b->lock);
	slot_advance(s);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double pct_ms(const uint64_t *v, size_t n, double p)
{
	size_t i;

	if (!n)
		return 0;
	i = (size_t)(p * (double)n);
	if (i >= n)
		i = n - 1;
	return (double)v[i] / 1e6;
}

/* metadata object: "cairn-bench v1 prefix=P size=S objects=N seed=X\n" */
static int write_metadata(struct bench *b)
{
	char buf[512];
	int n = snprintf(buf, sizeof(buf), "cairn-bench v1 prefix=%s size=%" PRIu64 " objects=%"
			 PRIu64 " seed=%" PRIu64 "\n", b->prefix, b->size, b->next_obj, b->seed);

	return cairn_write_full(b->io, b->meta_name, buf, (size_t)n);
}

static int read_metadata(struct bench *b)
{
	char buf[512];
	int n = cairn_read(b->io, b->meta_name, buf, sizeof(buf) - 1, 0);

	if (n < 0)
		return n;
	buf[n] = '\0';
	if (sscanf(buf, "cairn-bench v1 prefix=%255s size=%" SCNu64 " objects=%" SCNu64
		   " seed=%" SCNu64, b->prefix, &b->size, &b->nobjects, &b->seed) != 4)
		return -EINVAL;
	return 0;
}

static void make_pattern(struct bench *b)
{
	uint64_t s = b->seed;

	for (uint64_t i = 0; i < b->size; i += 8) {
		uint64_t v = splitmix64(&s);
		memcpy(b->pattern + i, &v, b->size - i < 8 ? b->size - i : 8);
	}
}

/* Removes objects 0..n-1 and the metadata object, INFLIGHT at a time. */
static int cleanup_objects(struct bench *b, uint64_t n)
{
	cairn_completion_t **cs = calloc((size_t)b->inflight, sizeof(*cs));
	uint64_t i = 0, removed = 0;
	int r = 0;

	if (!cs)
		return -ENOMEM;
	while (i < n) {
		int k = 0;
		for (; k < b->inflight && i < n; k++, i++) {
			char name[320];
			obj_name(b, i, name, sizeof(name));
			if (cairn_aio_create_completion(NULL, NULL, &cs[k]) < 0) {
				r = -ENOMEM;
				break;
			}
			if (cairn_aio_remove(b->io, name, cs[k]) < 0) {
				cairn_aio_release(cs[k]);
				r = -EIO;
				break;
			}
		}
		for (int j = 0; j < k; j++) {
			int rc;
			cairn_aio_wait_for_complete(cs[j]);
			rc = cairn_aio_get_return_value(cs[j]);
			if (rc == 0)
				removed++;
			else if (rc != -ENOENT && !r)
				r = rc;
			cairn_aio_release(cs[j]);
		}
		if (r < 0 && r != -ENOENT)
			break;
	}
	free(cs);
	if (!r) {
		int rc = cairn_remove(b->io, b->meta_name);
		if (rc < 0 && rc != -ENOENT)
			r = rc;
	}
	fprintf(b->json ? stderr : stdout, "cleanup: removed %" PRIu64 " objects of %s\n",
		removed, b->prefix);
	return r;
}

static void progress_header(FILE *f)
{
	fprintf(f, "%5s %8s %10s %10s %10s %10s %12s %12s\n", "sec", "cur_ops", "started",
		"finished", "avg_MB/s", "cur_MB/s", "cur_lat_ms", "avg_lat_ms");
}

static void progress_line(struct bench *b, FILE *f, unsigned sec)
{
	uint64_t elapsed = now_ns() - b->t0_ns;
	double avg_mb, cur_mb, cur_lat, avg_lat;
	uint64_t ok;

	pthread_mutex_lock(&b->lock);
	ok = b->finished - b->errors;
	avg_mb = elapsed ? (double)b->bytes / 1048576.0 / ((double)elapsed / 1e9) : 0;
	cur_mb = (double)b->win_bytes / 1048576.0;
	cur_lat = b->win_ops ? (double)b->win_lat_sum / (double)b->win_ops / 1e6 : 0;
	avg_lat = ok ? (double)b->lat_sum / (double)ok / 1e6 : 0;
	fprintf(f, "%5u %8d %10" PRIu64 " %10" PRIu64 " %10.2f %10.2f %12.3f %12.3f\n", sec,
		b->active, b->started, b->finished, avg_mb, cur_mb, cur_lat, avg_lat);
	b->win_ops = b->win_lat_sum = b->win_bytes = 0;
	pthread_mutex_unlock(&b->lock);
	fflush(f);
}

static int run(struct bench *b)
{
	FILE *pf = b->json ? stderr : stdout;
	uint64_t next_tick;
	unsigned sec = 0;
	int r = 0;

	b->slots = calloc((size_t)b->inflight, sizeof(*b->slots));
	if (!b->slots)
		return -ENOMEM;
	for (int i = 0; i < b->inflight; i++) {
		struct slot *s = &b->slots[i];
		s->b = b;
		s->idx = i;
		s->buf = malloc(b->size ? b->size : 1);
		if (!s->buf)
			return -ENOMEM;
		if (b->mode == M_WRITE)
			memcpy(s->buf, b->pattern, b->size);
		if (b->mode == M_WRITE && b->verify) {
			s->rbuf = malloc(b->size);
			if (!s->rbuf)
				return -ENOMEM;
		}
	}
	fprintf(pf, "cairn-bench: %s %.0f s, %" PRIu64 " bytes per object, %d in flight, "
		"objects %s_object*%s\n", mode_names[b->mode], b->seconds, b->size, b->inflight,
		b->prefix, b->verify ? ", verifying" : "");
	progress_header(pf);

	b->t0_ns = now_ns();
	b->deadline_ns = b->t0_ns + (uint64_t)(b->seconds * 1e9);
	pthread_mutex_lock(&b->lock);
	b->active = b->inflight;
	pthread_mutex_unlock(&b->lock);
	for (int i = 0; i < b->inflight; i++)
		slot_advance(&b->slots[i]);
	pthread_mutex_lock(&b->lock);
	next_tick = b->t0_ns + 1000000000ull;
	while (b->active > 0) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		uint64_t wait = next_tick > now_ns() ? next_tick - now_ns() : 0;
		ts.tv_sec += (time_t)(wait / 1000000000ull);
		ts.tv_nsec += (long)(wait % 1000000000ull);
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&b->cond, &b->lock, &ts);
		if (now_ns() >= next_tick) {
			pthread_mutex_unlock(&b->lock);
			progress_line(b, pf, ++sec);
			pthread_mutex_lock(&b->lock);
			next_tick += 1000000000ull;
		}
		/* a bounded wait for stragglers: the op timeout ends them anyway */
		if (now_ns() > b->deadline_ns + 120ull * 1000000000ull) {
			fprintf(stderr, "cairn-bench: %d ops still in flight 120 s after the end\n",
				b->active);
			r = -ETIMEDOUT;
			break;
		}
	}
	pthread_mutex_unlock(&b->lock);
	return r;
}

static void report(struct bench *b, double elapsed_s)
{
	uint64_t ok = b->finished - b->errors;
	double bw = elapsed_s > 0 ? (double)b->bytes / 1048576.0 / elapsed_s : 0;
	double iops = elapsed_s > 0 ? (double)ok / elapsed_s : 0;
	double avg = ok ? (double)b->lat_sum / (double)ok / 1e6 : 0;
	double p50, p99, p999, max = (double)b->lat_max / 1e6, stddev = 0;
	FILE *sf = b->json ? stderr : stdout;
	char summary[1024];

	qsort(b->lat, b->nlat, sizeof(*b->lat), cmp_u64);
	p50 = pct_ms(b->lat, b->nlat, 0.50);
	p99 = pct_ms(b->lat, b->nlat, 0.99);
	p999 = pct_ms(b->lat, b->nlat, 0.999);
	for (size_t i = 0; i < b->nlat; i++) {
		double d = (double)b->lat[i] / 1e6 - avg;
		stddev += d * d;
	}
	if (b->nlat > 1)
		stddev = __builtin_sqrt(stddev / (double)(b->nlat - 1));

	snprintf(summary, sizeof(summary),
		 "summary: mode=%s size=%" PRIu64 " inflight=%d seconds=%.2f ops=%" PRIu64
		 " errors=%" PRIu64 " bw_MBps=%.2f iops=%.0f lat_avg_ms=%.3f lat_p50_ms=%.3f"
		 " lat_p99_ms=%.3f lat_p999_ms=%.3f lat_max_ms=%.3f verify=%d verify_errors=%"
		 PRIu64 " run=%s",
		 mode_names[b->mode], b->size, b->inflight, elapsed_s, ok, b->errors, bw, iops, avg,
		 p50, p99, p999, max, b->verify ? 1 : 0, b->verify_errors, b->prefix);

	if (b->json) {
		json_t *j = json_pack("{s:s,s:I,s:i,s:f,s:I,s:I,s:I,s:f,s:f,s:{s:f,s:f,s:f,s:f,s:f,"
				      "s:f},s:b,s:I,s:s,s:s}",
				      "mode", mode_names[b->mode], "size", (json_int_t)b->size,
				      "inflight", b->inflight, "seconds", elapsed_s,
				      "ops", (json_int_t)ok, "errors", (json_int_t)b->errors,
				      "bytes", (json_int_t)b->bytes, "bw_MBps", bw, "iops", iops,
				      "latency_ms", "avg", avg, "stddev", stddev, "p50", p50,
				      "p99", p99, "p999", p999, "max", max, "verify", b->verify,
				      "verify_errors", (json_int_t)b->verify_errors,
				      "prefix", b->prefix, "pool", b->pool);
		if (j) {
			json_dumpf(j, stdout, JSON_INDENT(2));
			fputc('\n', stdout);
			json_decref(j);
		}
	} else {
		printf("Total time run:         %.3f s\n", elapsed_s);
		printf("Total %-7s         %" PRIu64 "\n", b->mode == M_WRITE ? "writes:" : "reads:", ok);
		if (b->first_err)
			printf("Errors:                 %" PRIu64 " (first: %s)\n", b->errors,
			       strerror(-b->first_err));
		else
			printf("Errors:                 0\n");
		printf("Object size:            %" PRIu64 "\n", b->size);
		printf("Bandwidth (MB/sec):     %.3f\n", bw);
		printf("Average IOPS:           %.0f\n", iops);
		printf("Average Latency (ms):   %.3f\n", avg);
		printf("Stddev Latency (ms):    %.3f\n", stddev);
		printf("p50 / p99 / p99.9 (ms): %.3f / %.3f / %.3f\n", p50, p99, p999);
		printf("Max latency (ms):       %.3f\n", max);
	}
	fprintf(sf, "%s\n", summary);
	fflush(sf);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: cairn-bench -c CONF -p POOL SECONDS write|seq|rand [-t INFLIGHT] [-b SIZE]\n"
		"                   [--no-cleanup] [--run-name NAME] [--verify] [-f json]\n"
		"                   [--OPTION VALUE]...   (any libcairn option, e.g. --client_op_timeout 10)\n"
		"       cairn-bench -c CONF -p POOL cleanup [--run-name NAME]\n"
		"  -t INFLIGHT   ops in flight (default 16)\n"
		"  -b SIZE       object size for write, K/M/G suffixes (default 4M)\n"
		"  --no-cleanup  keep the written objects (for a later seq/rand run)\n"
		"  --run-name    name of this run's metadata object (default " META_DEFAULT ")\n"
		"  --verify      check the content of every object read\n"
		"  -f json       JSON result on stdout\n");
}

int main(int argc, char **argv)
{
	struct bench B = { .inflight = 16, .size = 4u << 20, .seconds = -1 };
	struct bench *b = &B;
	char err[512];
	const char *pos[2] = { NULL, NULL };
	int npos = 0, r, ret = 1;
	const char *overrides[64][2];
	int nover = 0;
	uint64_t t_end;
	double elapsed;

	enum { O_NOCLEAN = 256, O_RUNNAME, O_VERIFY };
	static const struct option lopts[] = {
		{ "conf", required_argument, NULL, 'c' },
		{ "pool", required_argument, NULL, 'p' },
		{ "concurrent-ios", required_argument, NULL, 't' },
		{ "block-size", required_argument, NULL, 'b' },
		{ "format", required_argument, NULL, 'f' },
		{ "no-cleanup", no_argument, NULL, O_NOCLEAN },
		{ "run-name", required_argument, NULL, O_RUNNAME },
		{ "verify", no_argument, NULL, O_VERIFY },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};

	/* libcairn options (--client_op_timeout 10) are taken out before getopt sees them */
	for (int i = 1; i < argc; i++) {
		if (!strncmp(argv[i], "--", 2) && strchr(argv[i] + 2, '_') && nover < 64) {
			char *eq = strchr(argv[i], '=');
			if (eq) {
				*eq = '\0';
				overrides[nover][0] = argv[i] + 2;
				overrides[nover++][1] = eq + 1;
			} else if (i + 1 < argc) {
				overrides[nover][0] = argv[i] + 2;
				overrides[nover++][1] = argv[i + 1];
				argv[i + 1] = argv[i] = NULL;
				i++;
			} else {
				fprintf(stderr, "cairn-bench: %s needs a value\n", argv[i]);
				return 2;
			}
			argv[i] = NULL;
		}
	}
	{
		int k = 1;
		for (int i = 1; i < argc; i++)
			if (argv[i])
				argv[k++] = argv[i];
		argc = k;
		argv[argc] = NULL;
	}

	int opt;
	while ((opt = getopt_long(argc, argv, "c:p:t:b:f:h", lopts, NULL)) != -1) {
		switch (opt) {
		case 'c': b->conf = optarg; break;
		case 'p': b->pool = optarg; break;
		case 't': {
			char *e;
			long v = strtol(optarg, &e, 10);
			if (*e || v < 1 || v > MAX_INFLIGHT) {
				fprintf(stderr, "cairn-bench: -t must be 1..%d\n", MAX_INFLIGHT);
				return 2;
			}
			b->inflight = (int)v;
			break;
		}
		case 'b':
			if (parse_size_arg(optarg, &b->size) < 0 || b->size == 0 ||
			    b->size > (256u << 20)) {
				fprintf(stderr, "cairn-bench: bad -b size '%s' (1 byte .. 256M)\n", optarg);
				return 2;
			}
			break;
		case 'f':
			if (strcmp(optarg, "json") && strcmp(optarg, "plain")) {
				fprintf(stderr, "cairn-bench: -f json|plain\n");
				return 2;
			}
			b->json = !strcmp(optarg, "json");
			break;
		case O_NOCLEAN: b->no_cleanup = true; break;
		case O_RUNNAME: b->run_name = optarg; break;
		case O_VERIFY: b->verify = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	for (; optind < argc; optind++) {
		if (npos == 2) {
			fprintf(stderr, "cairn-bench: unexpected argument '%s'\n", argv[optind]);
			return 2;
		}
		pos[npos++] = argv[optind];
	}
	if (npos == 1 && !strcmp(pos[0], "cleanup")) {
		b->mode = M_CLEANUP;
	} else if (npos == 2) {
		char *e;
		b->seconds = strtod(pos[0], &e);
		if (*e || b->seconds <= 0 || b->seconds > 86400) {
			fprintf(stderr, "cairn-bench: SECONDS must be a positive number\n");
			return 2;
		}
		if (!strcmp(pos[1], "write"))
			b->mode = M_WRITE;
		else if (!strcmp(pos[1], "seq"))
			b->mode = M_SEQ;
		else if (!strcmp(pos[1], "rand"))
			b->mode = M_RAND;
		else {
			fprintf(stderr, "cairn-bench: unknown mode '%s' (write|seq|rand|cleanup)\n",
				pos[1]);
			return 2;
		}
	} else {
		usage(stderr);
		return 2;
	}
	if (!b->conf || !b->pool) {
		fprintf(stderr, "cairn-bench: -c CONF and -p POOL are required\n");
		return 2;
	}

	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->cond, NULL);
	snprintf(b->meta_name, sizeof(b->meta_name), "%s", b->run_name ? b->run_name : META_DEFAULT);

	r = cairn_create2(&b->cl, b->conf, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "cairn-bench: %s\n", err[0] ? err : strerror(-r));
		return 1;
	}
	for (int i = 0; i < nover; i++) {
		if (cairn_conf_set(b->cl, overrides[i][0], overrides[i][1]) < 0) {
			fprintf(stderr, "cairn-bench: --%s: %s\n", overrides[i][0], cairn_errmsg(b->cl));
			goto out_shutdown;
		}
	}
	r = cairn_connect(b->cl);
	if (r < 0) {
		fprintf(stderr, "cairn-bench: cannot connect to the cluster of %s: %s\n", b->conf,
			cairn_errmsg(b->cl)[0] ? cairn_errmsg(b->cl) : strerror(-r));
		goto out_shutdown;
	}
	r = cairn_ioctx_create(b->cl, b->pool, &b->io);
	if (r < 0) {
		fprintf(stderr, "cairn-bench: pool '%s': %s\n", b->pool,
			r == -ENOENT ? "no such pool" : strerror(-r));
		goto out_shutdown;
	}

	if (b->mode == M_WRITE) {
		char host[128] = "localhost";
		gethostname(host, sizeof(host) - 1);
		if (b->run_name)
			snprintf(b->prefix, sizeof(b->prefix), "benchmark_data_%s", b->run_name);
		else
			snprintf(b->prefix, sizeof(b->prefix), "benchmark_data_%s_%d", host,
				 (int)getpid());
		b->seed = ((uint64_t)getpid() << 32) ^ now_ns();
	} else {
		r = read_metadata(b);
		if (r < 0) {
			fprintf(stderr, "cairn-bench: no write run to %s (metadata object '%s': %s);"
				" run 'write --no-cleanup%s%s' first\n",
				b->mode == M_CLEANUP ? "clean up" : "read", b->meta_name,
				r == -ENOENT ? "not found" : strerror(-r),
				b->run_name ? " --run-name " : "", b->run_name ? b->run_name : "");
			goto out_io;
		}
		if (b->mode == M_CLEANUP) {
			r = cleanup_objects(b, b->nobjects);
			ret = r < 0 ? 1 : 0;
			if (r < 0)
				fprintf(stderr, "cairn-bench: cleanup: %s\n", strerror(-r));
			goto out_io;
		}
		if (b->nobjects == 0) {
			fprintf(stderr, "cairn-bench: the write run '%s' left no objects\n",
				b->meta_name);
			goto out_io;
		}
	}
	b->rng = b->seed ^ now_ns();
	b->pattern = malloc(b->size);
	if (!b->pattern) {
		fprintf(stderr, "cairn-bench: out of memory\n");
		goto out_io;
	}
	make_pattern(b);

	r = run(b);
	t_end = now_ns();
	elapsed = (double)(t_end - b->t0_ns) / 1e9;
	report(b, elapsed);
	ret = (r < 0 || b->errors) ? 1 : 0;
	if (b->errors && b->first_err)
		fprintf(stderr, "cairn-bench: %" PRIu64 " ops failed; first error: %s\n", b->errors,
			strerror(-b->first_err));

	if (b->mode == M_WRITE && r == 0) {
		r = write_metadata(b);
		if (r < 0) {
			fprintf(stderr, "cairn-bench: writing metadata object '%s': %s\n",
				b->meta_name, strerror(-r));
			ret = 1;
		} else if (!b->no_cleanup) {
			r = cleanup_objects(b, b->next_obj);
			if (r < 0) {
				fprintf(stderr, "cairn-bench: cleanup: %s\n", strerror(-r));
				ret = 1;
			}
		}
	}

out_io:
	if (b->slots) {
		for (int i = 0; i < b->inflight; i++) {
			free(b->slots[i].buf);
			free(b->slots[i].rbuf);
		}
		free(b->slots);
	}
	free(b->pattern);
	free(b->lat);
	cairn_ioctx_destroy(b->io);
out_shutdown:
	cairn_shutdown(b->cl);
	pthread_mutex_destroy(&b->lock);
	pthread_cond_destroy(&b->cond);
	return ret;
}
