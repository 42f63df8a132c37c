/* test_store_crash — crash consistency of osd/store under SIGKILL.
 *
 * A child process applies a deterministic stream of random transactions (txn i is generated
 * from (seed, i) alone, so the parent can regenerate it) with store_queue_txn, and reports
 * each id whose on_commit ran through a pipe. The parent kills it with SIGKILL at a random
 * moment, reopens the store and checks:
 *   - every transaction reported durable is present: the marker omap key "seq" of the
 *     "meta" object (set by every txn i to i) is >= the last durable id;
 *   - no partial transaction is visible: the whole store equals an in-memory model that
 *     applied txns 1..seq exactly (data, sizes, xattrs, omap of every object);
 *   - fsck finds no damage.
 * Then the next child continues from seq + 1. Two stores: two thirds of the kills hit one
 * with a 2 MiB journal (checkpoints, wraps, and groups too large for the ring, which go
 * through RocksDB's WAL), the rest one that logs through RocksDB's WAL only
 * (store_journal_size = 0). Default 60 kills within ~75 s; the soak variant (tests/soak/store_crash.sh) passes --iterations/--seconds.
 *   test_store_crash [--iterations N] [--seconds S] [--seed X] [--dir DIR]
 */
// timeout: 150
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/config.h"
#include "common/util.h"
#include "osd/store.h"

#define NOBJ 12
#define MAXSZ (256 * 1024)
#define MAXW (64 * 1024)
#define NKEYS 4

struct mobj {
	int exists;
	uint64_t size;
	uint8_t data[MAXSZ];
	int has_v;
	uint64_t v;
	int hk[NKEYS];
	uint64_t k[NKEYS];
};

static struct mobj model[NOBJ];
static uint64_t seed;

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static void oname(char *b, int i) { snprintf(b, 8, "o%d", i); }

/* Generates txn id into t (if non-NULL) and applies it to the model (if apply). */
static void gen(uint64_t id, struct store_txn *t, int apply)
{
	static uint8_t buf[MAXW];
	uint64_t r = seed ^ (id * 0xD1B54A32D192ED03ull);
	int nops = 1 + (int)(splitmix(&r) % 5);
	char n1[8], n2[8];

	for (int k = 0; k < nops; k++) {
		int op = (int)(splitmix(&r) % 7), a = (int)(splitmix(&r) % NOBJ);
		int b = (int)(splitmix(&r) % NOBJ);
		uint64_t len = splitmix(&r) % (MAXW + 1), off = splitmix(&r) % (MAXSZ - len + 1);
		struct mobj *o = &model[a];

		oname(n1, a);
		oname(n2, b);
		switch (op) {
		case 0: /* write */
			for (uint64_t j = 0; j < len; j += 8) {
				uint64_t v = splitmix(&r);
				memcpy(buf + j, &v, len - j < 8 ? len - j : 8);
			}
			if (t)
				store_txn_write(t, "c", n1, strlen(n1), off, len, buf);
			if (apply) {
				if (!o->exists)
					o->size = 0;
				o->exists = 1;
				memcpy(o->data + off, buf, len);
				if (off + len > o->size)
					o->size = off + len;
			}
			break;
		case 1: /* zero */
			if (t)
				store_txn_zero(t, "c", n1, strlen(n1), off, len);
			if (apply) {
				if (!o->exists)
					o->size = 0;
				o->exists = 1;
				memset(o->data + off, 0, len);
				if (off + len > o->size)
					o->size = off + len;
			}
			break;
		case 2: /* truncate */
			off = splitmix(&r) % (MAXSZ + 1);
			if (t)
				store_txn_truncate(t, "c", n1, strlen(n1), off);
			if (apply) {
				if (!o->exists)
					o->size = 0;
				o->exists = 1;
				if (off < o->size)
					memset(o->data + off, 0, o->size - off);
				o->size = off;
			}
			break;
		case 3: /* setattr */
			if (t)
				store_txn_setattr(t, "c", n1, strlen(n1), "v", &id, 8);
			if (apply) {
				if (!o->exists)
					o->size = 0;
				o->exists = 1;
				o->has_v = 1;
				o->v = id;
			}
			break;
		case 4: /* remove (touch first so it never fails) */
			if (t) {
				store_txn_touch(t, "c", n1, strlen(n1));
				store_txn_remove(t, "c", n1, strlen(n1));
			}
			if (apply)
				memset(o, 0, sizeof(*o));
			break;
		case 5: /* clone a -> b */
			if (a == b)
				break;
			if (t) {
				store_txn_touch(t, "c", n1, strlen(n1));
				store_txn_clone(t, "c", n1, strlen(n1), n2, strlen(n2));
			}
			if (apply) {
				if (!o->exists)
					o->size = 0;
				o->exists = 1;
				model[b] = *o;
			}
			break;
		case 6: { /* omap key */
			int kk = (int)(splitmix(&r) % NKEYS);
			char key[4] = { 'k', (char)('0' + kk), 0 };
			struct store_kv kv = { key, 2, &id, 8 };

			if (t)
				store_txn_omap_setkeys(t, "c", n1, strlen(n1), &kv, 1);
			if (apply) {
				if (!o->exists)
					o->size = 0;
				o->exists = 1;
				o->hk[kk] = 1;
				o->k[kk] = id;
			}
			break;
		}
		}
	}
	if (t) {
		struct store_kv kv = { "seq", 3, &id, 8 };

		store_txn_omap_setkeys(t, "c", "meta", 4, &kv, 1);
	}
}

/* ---- child ------------------------------------------------------------------------------ */

static int report_fd;

static void on_commit(void *arg, int rc)
{
	uint64_t id = (uint64_t)(uintptr_t)arg;

	if (rc) {
		fprintf(stderr, "child: txn %llu failed: %d\n", (unsigned long long)id, rc);
		_exit(3);
	}
	if (write(report_fd, &id, sizeof(id)) != sizeof(id))
		_exit(4);
}

static void child(const char *dir, struct cairn_conf *conf, uint64_t first)
{
	struct store *s;
	int rc = store_open(&s, dir, conf);

	if (rc) {
		fprintf(stderr, "child: open: %d\n", rc);
		_exit(2);
	}
	for (uint64_t id = first;; id++) {
		struct store_txn *t = store_txn_new();

		gen(id, t, 0);
		rc = store_queue_txn(s, t, NULL, on_commit, (void *)(uintptr_t)id);
		if (rc) {
			fprintf(stderr, "child: queue: %d\n", rc);
			_exit(5);
		}
	}
}

/* ---- parent ----------------------------------------------------------------------------- */

static int fail(const char *what, uint64_t a, uint64_t b)
{
	fprintf(stderr, "FAIL: %s (%llu vs %llu)\n", what, (unsigned long long)a,
		(unsigned long long)b);
	return 1;
}

static uint8_t rbuf[MAXSZ + 16];

/* Compares the store with the model; returns 0 or 1. */
static int verify(struct store *s)
{
	struct cbuf b;
	char n[8];
	int bad = 0;

	cbuf_init(&b);
	for (int i = 0; i < NOBJ && !bad; i++) {
		struct mobj *o = &model[i];
		struct store_stat st;
		int rc;

		oname(n, i);
		rc = store_stat(s, "c", n, strlen(n), &st);
		if (!o->exists) {
			if (rc != -ENOENT)
				bad = fail("object should not exist", (uint64_t)i, (uint64_t)rc);
			continue;
		}
		if (rc)
			bad = fail("object missing", (uint64_t)i, (uint64_t)-rc);
		else if (st.size != o->size)
			bad = fail("size", st.size, o->size);
		else if (store_read(s, "c", n, strlen(n), 0, sizeof(rbuf), rbuf) != (ssize_t)o->size)
			bad = fail("read length", (uint64_t)i, o->size);
		else if (memcmp(rbuf, o->data, o->size))
			bad = fail("data differs", (uint64_t)i, o->size);
		cbuf_reset(&b);
		rc = store_getattr(s, "c", n, strlen(n), "v", &b);
		if (!bad && (o->has_v ? (rc || b.len != 8 || memcmp(b.data, &o->v, 8)) : rc != -ENODATA))
			bad = fail("xattr v", (uint64_t)i, (uint64_t)rc);
		for (int k = 0; k < NKEYS && !bad; k++) {
			char key[3] = { 'k', (char)('0' + k), 0 };

			cbuf_reset(&b);
			rc = store_omap_get(s, "c", n, strlen(n), key, 2, &b);
			if (o->hk[k] ? (rc || b.len != 8 || memcmp(b.data, &o->k[k], 8)) : rc != -ENODATA)
				bad = fail("omap key", (uint64_t)i, (uint64_t)k);
		}
	}
	cbuf_free(&b);
	return bad;
}

static uint64_t read_seq(struct store *s)
{
	struct cbuf b;
	uint64_t v = 0;

	cbuf_init(&b);
	if (store_omap_get(s, "c", "meta", 4, "seq", 3, &b) == 0 && b.len == 8)
		memcpy(&v, b.data, 8);
	cbuf_free(&b);
	return v;
}

/*
 * One store (made in dir with the journal size js), killed and reopened until iterations
 * or seconds run out. Adds to *kills and *durable; 0 or 1 (a check failed).
 */
static int run_store(const char *dir, const char *js, const char *maxq, int iterations,
		     double seconds, int *kills, uint64_t *durable)
{
	struct cairn_conf *conf = conf_defaults();
	struct store *s;
	struct store_txn *t;
	uint64_t applied = 0, total_durable = 0, t_end;
	int rc = 0, done = 0;
	char err[128];

	memset(model, 0, sizeof(model));
	/* small chunks and a small memtable: many chunks per object, flushes during the run;
	 * a small journal: checkpoints, wraps and records too large for the ring */
	if (conf_set(conf, "store_chunk_size", "16K", err, sizeof(err)) ||
	    conf_set(conf, "store_write_buffer_size", "4M", err, sizeof(err)) ||
	    conf_set(conf, "store_direct_write_min", "16K", err, sizeof(err)) ||
	    conf_set(conf, "store_journal_size", js, err, sizeof(err)) ||
	    conf_set(conf, "store_max_queued_txns", maxq, err, sizeof(err))) {
		fprintf(stderr, "conf: %s\n", err);
		conf_free(conf);
		return 1;
	}
	if (store_mkfs(dir, conf) || store_open(&s, dir, conf)) {
		conf_free(conf);
		return fail("mkfs/open", 0, 0);
	}
	t = store_txn_new();
	store_txn_coll_create(t, "c");
	store_txn_touch(t, "c", "meta", 4);
	if (store_apply_txn(s, t)) {
		conf_free(conf);
		return fail("init", 0, 0);
	}
	store_close(s);
	t_end = now_mono_ns() + (uint64_t)(seconds * 1e9);
	while (done < iterations && now_mono_ns() < t_end && !rc) {
		int p[2];
		pid_t pid;
		uint64_t id, last_durable = 0, seq, n = 0;

		if (pipe(p)) {
			conf_free(conf);
			return 2;
		}
		pid = fork();
		if (pid < 0) {
			conf_free(conf);
			return 2;
		}
		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the test */
			if (getppid() == 1)
				_exit(1);
			close(p[0]);
			report_fd = p[1];
			child(dir, conf, applied + 1);
			_exit(0);
		}
		close(p[1]);
		/* from "still opening" to "hundreds of transactions in" */
		sleep_ms(5 + (unsigned)(rand_u64() % 250));
		kill(pid, SIGKILL);
		waitpid(pid, &rc, 0);
		if (!WIFSIGNALED(rc)) {
			fprintf(stderr, "child exited on its own: status %d\n", rc);
			rc = 1;
			break;
		}
		rc = 0;
		while (read(p[0], &id, sizeof(id)) == sizeof(id)) {
			if (id <= last_durable) {
				rc = fail("durable ids out of order", id, last_durable);
				break;
			}
			last_durable = id;
			n++;
		}
		close(p[0]);
		total_durable += n;

		if ((rc = store_open(&s, dir, conf))) {
			fail("reopen", 0, (uint64_t)-rc);
			rc = 1;
			break;
		}
		seq = read_seq(s);
		if (seq < last_durable)
			rc = fail("durable transaction lost: seq < last durable", seq, last_durable);
		if (!rc) {
			for (uint64_t i = applied + 1; i <= seq; i++)
				gen(i, NULL, 1);
			applied = seq;
			rc = verify(s);
		}
		if (!rc && store_fsck(s, NULL, NULL) != 0)
			rc = fail("fsck found damage", 0, 0);
		store_close(s);
		done++;
		if (rc)
			fprintf(stderr, "after kill %d: seq %llu, last durable %llu\n", done,
				(unsigned long long)seq, (unsigned long long)last_durable);
	}
	printf("journal %s: %d kills, %llu transactions reported durable, %llu present at the "
	       "end: %s\n", js, done, (unsigned long long)total_durable,
	       (unsigned long long)applied, rc ? "FAIL" : "ok");
	if (!rc && applied == 0)
		rc = fail("no transaction ever became durable", 0, 0);
	*kills += done;
	*durable += total_durable;
	conf_free(conf);
	return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
	int iterations = 60, done = 0;
	double seconds = 75;
	char dir[256] = "", jdir[300], wdir[300];
	const char *keep = NULL;
	uint64_t total_durable = 0;
	int rc = 0;

	seed = rand_u64();
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--iterations") && i + 1 < argc)
			iterations = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			seconds = atof(argv[++i]);
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			seed = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
			keep = argv[++i];
		else {
			fprintf(stderr, "usage: %s [--iterations N] [--seconds S] [--seed X]\n", argv[0]);
			return 2;
		}
	}
	printf("seed 0x%llx\n", (unsigned long long)seed);
	if (keep) {
		snprintf(dir, sizeof(dir), "%s", keep);
		if (mkdir(dir, 0755) && errno != EEXIST)
			return 2;
	} else {
		snprintf(dir, sizeof(dir), "/tmp/test_store_crash.XXXXXX");
		if (!mkdtemp(dir))
			return 2;
	}
	snprintf(jdir, sizeof(jdir), "%s/journal", dir);
	snprintf(wdir, sizeof(wdir), "%s/wal", dir);
	/* most kills on a store with a small journal, the rest on one using RocksDB's WAL */
	rc = run_store(jdir, "2M", "64", iterations - iterations / 3, seconds * 2 / 3, &done,
		       &total_durable);
	if (!rc)
		rc = run_store(wdir, "0", "64", iterations / 3, seconds / 3, &done, &total_durable);
	if (!rc && done < 50 && iterations >= 50)
		fprintf(stderr, "warning: only %d kills fitted in %.0f s\n", done, seconds);
	if (!keep) {
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", dir);
		if (rc)
			fprintf(stderr, "reproduce with: --seed 0x%llx\n", (unsigned long long)seed);
	}
	return rc ? 1 : 0;
}
