/*
 * cairn-storebench — the object store against plain files on the same disk, in one run.
 *
 *   cairn-storebench --dir DIR [--seconds S] [--workloads write4m,randwrite4k,randread4k]
 *                    [--targets store,file] [--qd N] [--rounds R] [--STORE_OPTION VALUE ...]
 *
 * Workloads, each at queue depth 16 (--qd) with durability on:
 *   write4m     sequential 4 MiB writes: store = one new 4 MiB object per op;
 *               file = each of qd threads appends 4 MiB to its own file + fdatasync
 *   randwrite4k 4 KiB writes at random 4 KiB-aligned offsets of 64 MiB of data:
 *               store = 16 objects of 4 MiB; file = one 64 MiB file, pwrite + fdatasync
 *   randread4k  4 KiB reads at random offsets of the same data (qd threads; both targets
 *               are read warm: RocksDB's cache / the page cache)
 *   read4m      whole 4 MiB objects of the same data (file: 4 MiB-aligned 4 MiB preads)
 * The store completes an op at on_commit (durable); the file target after fdatasync.
 * Each workload runs S seconds per target, as R rounds (default 5) alternating store and
 * file, so that load changes on a shared machine hit both alike.
 * Output, one line per workload and target:
 *   summary: workload=W target=T MBps=.. iops=.. lat_p99_ms=.. ops=.. seconds=..
 * Store options (store.def) may be overridden on the command line, e.g.
 * --store_chunk_size 16K (applies to the store this run creates under DIR).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/config.h"
#include "common/util.h"
#include "osd/store.h"

#define MAX_SAMPLES (1u << 20)
#define DATA_BYTES (64u << 20)
#define OBJ_BYTES (4u << 20)

static double seconds = 3;
static int qd = 16;
static const char *dir;

struct stats {
	pthread_mutex_t m;
	uint64_t ops, bytes;
	double secs;
	uint32_t nlat;
	uint32_t *lat_us; /* MAX_SAMPLES */
};

static void stats_init(struct stats *st)
{
	pthread_mutex_init(&st->m, NULL);
	st->ops = st->bytes = 0;
	st->secs = 0;
	st->nlat = 0;
	if (!st->lat_us)
		st->lat_us = malloc(MAX_SAMPLES * sizeof(uint32_t));
}

static void stats_add(struct stats *st, uint64_t bytes, uint64_t lat_ns)
{
	pthread_mutex_lock(&st->m);
	st->ops++;
	st->bytes += bytes;
	if (st->nlat < MAX_SAMPLES)
		st->lat_us[st->nlat++] = (uint32_t)(lat_ns / 1000);
	pthread_mutex_unlock(&st->m);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void report(const char *w, const char *t, struct stats *st)
{
	double p99 = 0, secs = st->secs > 0 ? st->secs : 1;

	if (st->nlat) {
		qsort(st->lat_us, st->nlat, sizeof(uint32_t), cmp_u32);
		p99 = st->lat_us[(size_t)((st->nlat - 1) * 0.99)] / 1000.0;
	}
	printf("summary: workload=%s target=%s MBps=%.1f iops=%.0f lat_p99_ms=%.3f ops=%llu "
	       "seconds=%.1f\n",
	       w, t, st->bytes / secs / 1e6, st->ops / secs, p99, (unsigned long long)st->ops, secs);
	fflush(stdout);
}

/* ---- file target ------------------------------------------------------------------------ */

struct fjob {
	const char *workload;
	int fd;
	int idx;
	uint64_t deadline;
	struct stats *st;
	int err;
};

static void *file_worker(void *arg)
{
	struct fjob *j = arg;
	size_t bs = strcmp(j->workload, "write4m") == 0 || strcmp(j->workload, "read4m") == 0
			    ? OBJ_BYTES
			    : 4096;
	uint8_t *buf = aligned_alloc(4096, bs);
	uint64_t off = 0;

	if (!buf) {
		j->err = -ENOMEM;
		return NULL;
	}
	for (size_t i = 0; i < bs; i++)
		buf[i] = (uint8_t)(rand_u64());
	while (now_mono_ns() < j->deadline) {
		uint64_t t0 = now_mono_ns();
		ssize_t r;

		if (strcmp(j->workload, "write4m") == 0) {
			r = pwrite(j->fd, buf, bs, (off_t)off);
			off += bs;
			if (r == (ssize_t)bs && fdatasync(j->fd))
				r = -1;
		} else if (strcmp(j->workload, "randwrite4k") == 0) {
			off = (rand_u64() % (DATA_BYTES / 4096)) * 4096;
			r = pwrite(j->fd, buf, bs, (off_t)off);
			if (r == (ssize_t)bs && fdatasync(j->fd))
				r = -1;
		} else {
			off = (rand_u64() % (DATA_BYTES / bs)) * bs;
			r = pread(j->fd, buf, bs, (off_t)off);
		}
		if (r != (ssize_t)bs) {
			j->err = -EIO;
			break;
		}
		stats_add(j->st, bs, now_mono_ns() - t0);
	}
	free(buf);
	return NULL;
}

static int run_file(const char *w, struct stats *st, double secs)
{
	char path[4096];
	pthread_t thr[64];
	struct fjob jobs[64];
	int shared = -1, rc = 0;
	uint64_t t0;

	if (strcmp(w, "write4m") != 0) {
		/* one 64 MiB file, written and synced in full first */
		snprintf(path, sizeof(path), "%s/file.data", dir);
		shared = open(path, O_RDWR | O_CREAT, 0644);
		if (shared < 0)
			return -errno;
		struct stat sb;
		if (fstat(shared, &sb) == 0 && (uint64_t)sb.st_size < DATA_BYTES) {
			uint8_t *b = malloc(1 << 20);

			memset(b, 0x5a, 1 << 20);
			for (uint64_t o = 0; o < DATA_BYTES; o += 1 << 20)
				if (pwrite(shared, b, 1 << 20, (off_t)o) != 1 << 20)
					rc = -EIO;
			free(b);
			fsync(shared);
		}
	}
	t0 = now_mono_ns();
	for (int i = 0; i < qd; i++) {
		jobs[i] = (struct fjob){ .workload = w, .idx = i, .st = st,
					 .deadline = t0 + (uint64_t)(secs * 1e9) };
		if (shared >= 0) {
			jobs[i].fd = shared;
		} else {
			snprintf(path, sizeof(path), "%s/file.w4m.%d", dir, i);
			jobs[i].fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
			if (jobs[i].fd < 0)
				return -errno;
		}
		pthread_create(&thr[i], NULL, file_worker, &jobs[i]);
	}
	for (int i = 0; i < qd; i++) {
		pthread_join(thr[i], NULL);
		if (jobs[i].err)
			rc = jobs[i].err;
		if (shared < 0) {
			close(jobs[i].fd);
			snprintf(path, sizeof(path), "%s/file.w4m.%d", dir, i);
			unlink(path);
		}
	}
	st->secs += (now_mono_ns() - t0) / 1e9;
	if (shared >= 0)
		close(shared);
	return rc;
}

/* ---- store target ----------------------------------------------------------------------- */

struct sbench {
	struct store *s;
	pthread_mutex_t m;
	pthread_cond_t c;
	int inflight;
	int err;
	struct stats *st;
};

struct sop {
	struct sbench *b;
	uint64_t t0;
	uint64_t bytes;
};

static void sop_commit(void *arg, int rc)
{
	struct sop *o = arg;
	struct sbench *b = o->b;

	stats_add(b->st, o->bytes, now_mono_ns() - o->t0);
	pthread_mutex_lock(&b->m);
	if (rc && !b->err)
		b->err = rc;
	b->inflight--;
	pthread_cond_signal(&b->c);
	pthread_mutex_unlock(&b->m);
	free(o);
}

static void wait_inflight(struct sbench *b, int max)
{
	pthread_mutex_lock(&b->m);
	while (b->inflight > max)
		pthread_cond_wait(&b->c, &b->m);
	pthread_mutex_unlock(&b->m);
}

static int store_write_loop(struct sbench *b, const char *w, const uint8_t *buf, uint64_t *seq,
			    double secs)
{
	uint64_t deadline = now_mono_ns() + (uint64_t)(secs * 1e9);
	char name[64];
	int rc;

	while (now_mono_ns() < deadline && !b->err) {
		struct store_txn *t = store_txn_new();
		struct sop *o = malloc(sizeof(*o));
		uint64_t len = strcmp(w, "write4m") == 0 ? OBJ_BYTES : 4096;

		wait_inflight(b, qd - 1);
		if (len == OBJ_BYTES) {
			snprintf(name, sizeof(name), "w4m.%llu", (unsigned long long)(*seq)++);
			store_txn_write(t, "bench", name, strlen(name), 0, len, buf);
		} else {
			uint64_t blk = rand_u64() % (DATA_BYTES / 4096);

			snprintf(name, sizeof(name), "data.%llu",
				 (unsigned long long)(blk / (OBJ_BYTES / 4096)));
			store_txn_write(t, "bench", name, strlen(name),
					(blk % (OBJ_BYTES / 4096)) * 4096, len, buf + (blk % 16));
		}
		*o = (struct sop){ .b = b, .t0 = now_mono_ns(), .bytes = len };
		pthread_mutex_lock(&b->m);
		b->inflight++;
		pthread_mutex_unlock(&b->m);
		rc = store_queue_txn(b->s, t, NULL, sop_commit, o);
		if (rc) {
			free(o);
			return rc;
		}
	}
	wait_inflight(b, 0);
	return b->err;
}

struct rjob {
	struct store *s;
	uint64_t deadline;
	struct stats *st;
	int err;
	bool big; /* read4m: whole objects */
};

static void *store_reader(void *arg)
{
	struct rjob *j = arg;
	size_t bs = j->big ? OBJ_BYTES : 4096;
	uint8_t *buf = malloc(bs);
	char name[64];

	while (buf && now_mono_ns() < j->deadline) {
		uint64_t blk = rand_u64() % (DATA_BYTES / bs), t0 = now_mono_ns();
		ssize_t r;

		snprintf(name, sizeof(name), "data.%llu",
			 (unsigned long long)(blk / (OBJ_BYTES / bs)));
		r = store_read(j->s, "bench", name, strlen(name), (blk % (OBJ_BYTES / bs)) * bs,
			       bs, buf);
		if (r != (ssize_t)bs) {
			j->err = r < 0 ? (int)r : -EIO;
			break;
		}
		stats_add(j->st, bs, now_mono_ns() - t0);
	}
	if (!buf)
		j->err = -ENOMEM;
	free(buf);
	return NULL;
}

static int prefill(struct store *s, const uint8_t *buf)
{
	char name[64];
	struct store_stat st;

	for (unsigned i = 0; i < DATA_BYTES / OBJ_BYTES; i++) {
		struct store_txn *t = store_txn_new();

		snprintf(name, sizeof(name), "data.%u", i);
		if (store_stat(s, "bench", name, strlen(name), &st) == 0 && st.size == OBJ_BYTES) {
			store_txn_free(t);
			continue;
		}
		store_txn_write(t, "bench", name, strlen(name), 0, OBJ_BYTES, buf);
		int rc = store_apply_txn(s, t);
		if (rc)
			return rc;
	}
	return 0;
}

static int run_store(struct store *s, const char *w, struct stats *st, const uint8_t *buf,
		     uint64_t *seq, double secs)
{
	struct sbench b = { .s = s, .st = st };
	uint64_t t0;
	int rc = 0;

	pthread_mutex_init(&b.m, NULL);
	pthread_cond_init(&b.c, NULL);
	if (strcmp(w, "write4m") != 0)
		rc = prefill(s, buf);
	if (rc)
		return rc;
	t0 = now_mono_ns();
	if (strcmp(w, "randread4k") == 0 || strcmp(w, "read4m") == 0) {
		pthread_t thr[64];
		struct rjob jobs[64];

		for (int i = 0; i < qd; i++) {
			jobs[i] = (struct rjob){ .s = s, .st = st, .big = strcmp(w, "read4m") == 0,
						 .deadline = t0 + (uint64_t)(secs * 1e9) };
			pthread_create(&thr[i], NULL, store_reader, &jobs[i]);
		}
		for (int i = 0; i < qd; i++) {
			pthread_join(thr[i], NULL);
			if (jobs[i].err)
				rc = jobs[i].err;
		}
	} else {
		rc = store_write_loop(&b, w, buf, seq, secs);
	}
	st->secs += (now_mono_ns() - t0) / 1e9;
	return rc;
}

static void usage(void)
{
	fprintf(stderr, "usage: cairn-storebench --dir DIR [--seconds S] [--qd N] [--rounds R] "
			"[--workloads w1,w2] [--targets store,file] [--store_OPTION VALUE ...]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *workloads = "write4m,randwrite4k,randread4k", *targets = "store,file";
	struct cairn_conf *conf = NULL;
	struct store *s = NULL;
	struct stats st = { 0 }, fst = { 0 };
	int rounds = 5;
	char err[256], sdir[4096], *wl, *save = NULL;
	uint64_t seq = 0;
	struct store_counters c0, c1;
	uint8_t *buf;
	int rc;

	if (conf_load(&conf, NULL, "osd", NULL, &argc, argv, err, sizeof(err))) {
		fprintf(stderr, "cairn-storebench: %s\n", err);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
			dir = argv[++i];
		else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
			seconds = atof(argv[++i]);
		else if (strcmp(argv[i], "--qd") == 0 && i + 1 < argc)
			qd = atoi(argv[++i]);
		else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
			rounds = atoi(argv[++i]);
		else if (strcmp(argv[i], "--workloads") == 0 && i + 1 < argc)
			workloads = argv[++i];
		else if (strcmp(argv[i], "--targets") == 0 && i + 1 < argc)
			targets = argv[++i];
		else
			usage();
	}
	if (!dir || seconds <= 0 || seconds > 3600 || qd < 1 || qd > 64 || rounds < 1 ||
	    rounds > 100)
		usage();
	mkdir(dir, 0755);
	snprintf(sdir, sizeof(sdir), "%s/store", dir);
	buf = malloc(OBJ_BYTES + 16);
	for (size_t i = 0; i < OBJ_BYTES + 16; i++)
		buf[i] = (uint8_t)rand_u64();
	if (strstr(targets, "store")) {
		rc = store_mkfs(sdir, conf);
		if (rc && rc != -EEXIST) {
			fprintf(stderr, "cairn-storebench: mkfs %s: %s\n", sdir, cairn_strerror(rc));
			return 1;
		}
		rc = store_open(&s, sdir, conf);
		if (rc) {
			fprintf(stderr, "cairn-storebench: open %s: %s\n", sdir, cairn_strerror(rc));
			return 1;
		}
		struct store_txn *t = store_txn_new();
		store_txn_coll_create(t, "bench");
		store_apply_txn(s, t); /* -EEXIST on a reused dir is fine */
	}
	wl = strdup(workloads);
	rc = 0;
	for (char *w = strtok_r(wl, ",", &save); w && !rc; w = strtok_r(NULL, ",", &save)) {
		if (strcmp(w, "write4m") && strcmp(w, "randwrite4k") && strcmp(w, "randread4k") &&
		    strcmp(w, "read4m"))
			usage();
		/* store and file alternate in short rounds, so that a change in the load of
		 * this (shared) machine hits both targets alike */
		stats_init(&st);
		stats_init(&fst);
		if (s)
			store_get_counters(s, &c0);
		for (int r = 0; r < rounds && !rc; r++) {
			if (s) {
				rc = run_store(s, w, &st, buf, &seq, seconds / rounds);
				if (rc)
					fprintf(stderr, "cairn-storebench: store %s: %s\n", w,
						cairn_strerror(rc));
			}
			if (!rc && strstr(targets, "file")) {
				rc = run_file(w, &fst, seconds / rounds);
				if (rc)
					fprintf(stderr, "cairn-storebench: file %s: %s\n", w,
						cairn_strerror(rc));
			}
		}
		if (s) {
			store_get_counters(s, &c1);
			report(w, "store", &st);
			if (c1.syncs > c0.syncs)
				fprintf(stderr, "  store %s: %.1f txns per WAL sync\n", w,
					(double)(c1.txns_committed - c0.txns_committed) /
						(double)(c1.syncs - c0.syncs));
		}
		if (strstr(targets, "file"))
			report(w, "file", &fst);
	}
	free(wl);
	free(st.lat_us);
	free(fst.lat_us);
	free(buf);
	store_close(s);
	conf_free(conf);
	return rc ? 1 : 0;
}
