/*
 * test_osd_libcairn — the OSD through libcairn on a local cluster (mon + 3 OSDs, size 3):
 * compound writes (data + xattr + omap) read back step by step, 200 appends to one object
 * with 32 in flight landing in submission order, listing, and a write load
 * during which an OSD is killed with SIGKILL and restarted at once: every acknowledged write
 * must read back with the right bytes and the cluster must return to active+clean. Then an
 * OSD is stopped while writes and removes complete without it and restarted: the primaries
 * push what it missed from their PG logs. At the end every object must be identical on the
 * three OSDs (cairn-store, OSDs stopped).
 */
// timeout: 240
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cairn/libcairn.h"
#include "test_osd_util.h"

static void fill(char *buf, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (char)((seed * 2654435761u + i * 40503u) >> 7);
}

static void test_compound(cairn_ioctx_t *io)
{
	char oid[32], data[300], xv[16], key[16], val[16], got[300];

	for (int i = 0; i < 20; i++) {
		cairn_write_op_t *w = cairn_write_op_create();
		const char *keys[1] = { key };
		const void *vals[1] = { val };
		size_t lens[1];

		snprintf(oid, sizeof(oid), "cobj-%d", i);
		fill(data, sizeof(data), (unsigned)i);
		snprintf(xv, sizeof(xv), "x%d", i);
		snprintf(key, sizeof(key), "k%d", i);
		snprintf(val, sizeof(val), "v%d", i);
		lens[0] = strlen(val);
		cairn_write_op_write_full(w, data, sizeof(data));
		cairn_write_op_setxattr(w, "user.x", xv, strlen(xv));
		cairn_write_op_omap_set(w, keys, vals, lens, 1);
		CHECK(cairn_write_op_operate(w, io, oid) == 0, "compound write %s", oid);
		cairn_write_op_release(w);
	}
	for (int i = 0; i < 20; i++) {
		cairn_read_op_t *r = cairn_read_op_create();
		cairn_kvs_t *xa = NULL, *om = NULL;
		size_t n = 0, vl = 0;
		int p1 = -1, p2 = -1, p3 = -1, more = 0;
		const void *v;

		snprintf(oid, sizeof(oid), "cobj-%d", i);
		fill(data, sizeof(data), (unsigned)i);
		cairn_read_op_read(r, 0, sizeof(got), got, &n, &p1);
		cairn_read_op_getxattr(r, "user.x", &xa, &p2);
		cairn_read_op_omap_get_vals(r, "", 10, &om, &more, &p3);
		CHECK(cairn_read_op_operate(r, io, oid) == 0, "compound read %s", oid);
		CHECK(p1 == 0 && n == sizeof(data) && !memcmp(got, data, n), "data of %s", oid);
		snprintf(xv, sizeof(xv), "x%d", i);
		CHECK(p2 == 0 && xa && cairn_kvs_count(xa) == 1, "xattr of %s", oid);
		if (xa) {
			v = cairn_kvs_val(xa, 0, &vl);
			CHECK(vl == strlen(xv) && !memcmp(v, xv, vl), "xattr value of %s", oid);
		}
		CHECK(p3 == 0 && om && cairn_kvs_count(om) == 1 && !more, "omap of %s", oid);
		cairn_kvs_free(xa);
		cairn_kvs_free(om);
		cairn_read_op_release(r);
	}
}

static int count_list(cairn_ioctx_t *io)
{
	cairn_list_t *l;
	const char *oid;
	int n = 0, r;

	if (cairn_list_open(io, &l))
		return -1;
	while ((r = cairn_list_next(l, &oid)) == 0)
		n++;
	cairn_list_close(l);
	return n;
}

#define NAPP 200
#define APPSZ 16

/* Appends to one object, 32 in flight, land in submission order: later ops of an object wait
 * behind its in-flight write and are released, in order, when it completes (also when the
 * completion runs on a messenger thread: an inline repop reply, docs/osd.md). */
static void test_append_order(cairn_ioctx_t *io)
{
	static cairn_completion_t *c[NAPP];
	static char want[NAPP * APPSZ + 1], got[NAPP * APPSZ + 1]; /* + the last snprintf NUL */
	int n;

	for (int i = 0; i < NAPP; i++) {
		snprintf(want + i * APPSZ, APPSZ + 1, "append-%08u|", (unsigned)i % 100000000u);
		cairn_aio_create_completion(NULL, NULL, &c[i]);
		CHECK(cairn_aio_append(io, "ordered", c[i], want + i * APPSZ, APPSZ) == 0,
		      "submit append %d", i);
		if (i >= 32)
			cairn_aio_wait_for_complete(c[i - 32]);
	}
	for (int i = 0; i < NAPP; i++) {
		cairn_aio_wait_for_complete(c[i]);
		CHECK(cairn_aio_get_return_value(c[i]) == 0, "append %d: %d", i,
		      cairn_aio_get_return_value(c[i]));
		cairn_aio_release(c[i]);
	}
	n = cairn_read(io, "ordered", got, sizeof(got), 0);
	CHECK(n == NAPP * APPSZ, "ordered: %d bytes, want %d", n, NAPP * APPSZ);
	for (int i = 0; i < NAPP && n == NAPP * APPSZ; i++)
		if (memcmp(got + i * APPSZ, want + i * APPSZ, APPSZ)) {
			CHECK(0, "append %d out of order: %.16s", i, got + i * APPSZ);
			break;
		}
}

#define NLOAD 96
#define LOADSZ (64 * 1024)

static void test_load_with_restart(cairn_ioctx_t *io)
{
	cairn_completion_t *c[NLOAD];
	char *bufs = malloc((size_t)NLOAD * LOADSZ), *got = malloc(LOADSZ);
	char oid[32];
	int ok = 0;

	for (int i = 0; i < NLOAD; i++) {
		fill(bufs + (size_t)i * LOADSZ, LOADSZ, 1000u + (unsigned)i);
		snprintf(oid, sizeof(oid), "load-%d", i);
		cairn_aio_create_completion(NULL, NULL, &c[i]);
		CHECK(cairn_aio_write_full(io, oid, c[i], bufs + (size_t)i * LOADSZ, LOADSZ) == 0,
		      "submit %s", oid);
		if (i == NLOAD / 3) {
			/* a replica dies mid-load and comes straight back */
			sh("%s/cairn-up kill --dir %s --signal KILL osd.1 && "
			   "%s/cairn-up restart --dir %s osd.1", bin, dir, bin, dir);
		}
		if (i >= 16)
			cairn_aio_wait_for_complete(c[i - 16]);
	}
	for (int i = 0; i < NLOAD; i++) {
		cairn_aio_wait_for_complete(c[i]);
		if (cairn_aio_get_return_value(c[i]) == 0)
			ok++;
		else
			CHECK(0, "write load-%d: %d", i, cairn_aio_get_return_value(c[i]));
		cairn_aio_release(c[i]);
	}
	CHECK(ok == NLOAD, "%d of %d writes acknowledged", ok, NLOAD);
	for (int i = 0; i < NLOAD; i++) {
		int n;

		snprintf(oid, sizeof(oid), "load-%d", i);
		n = cairn_read(io, oid, got, LOADSZ, 0);
		CHECK(n == LOADSZ && !memcmp(got, bufs + (size_t)i * LOADSZ, LOADSZ),
		      "acknowledged %s reads back (%d)", oid, n);
	}
	free(bufs);
	free(got);
}

static int osd_status_is(int id, const char *st, int timeout_s)
{
	for (int i = 0; i < timeout_s * 5; i++) {
		if (!sh("%s/cairn -c %s/cairn.conf osd tree -f json | jq -e '.nodes[] | "
			"select(.id == %d) | .status == \"%s\"' >/dev/null", bin, dir, id, st))
			return 0;
		usleep(200000);
	}
	return -1;
}

/* A replica down while writes complete misses them; when it returns, the next write to
 * each PG finds the gap and the primary pushes the missed objects from its log. */
static void test_catch_up(cairn_ioctx_t *io)
{
	char oid[32], buf[4096], got[4096];

	sh("%s/cairn-up kill --dir %s osd.2", bin, dir);
	CHECK(osd_status_is(2, "down", 60) == 0, "osd.2 marked down");
	for (int i = 0; i < 40; i++) {
		snprintf(oid, sizeof(oid), "missed-%d", i);
		fill(buf, sizeof(buf), 5000u + (unsigned)i);
		CHECK(cairn_write_full(io, oid, buf, sizeof(buf)) == 0, "write %s while degraded",
		      oid);
		CHECK(cairn_setxattr(io, oid, "user.m", "1", 1) == 0, "setxattr %s", oid);
	}
	for (int i = 0; i < 10; i++) {
		snprintf(oid, sizeof(oid), "cobj-%d", i);
		CHECK(cairn_remove(io, oid) == 0, "remove %s while degraded", oid);
	}
	sh("%s/cairn-up restart --dir %s osd.2", bin, dir);
	CHECK(osd_status_is(2, "up", 60) == 0, "osd.2 back up");
	for (int i = 0; i < 64; i++) {
		snprintf(oid, sizeof(oid), "trigger-%d", i);
		CHECK(cairn_write_full(io, oid, "t", 1) == 0, "write %s", oid);
	}
	for (int i = 0; i < 40; i++) {
		snprintf(oid, sizeof(oid), "missed-%d", i);
		fill(buf, sizeof(buf), 5000u + (unsigned)i);
		CHECK(cairn_read(io, oid, got, sizeof(got), 0) == (int)sizeof(got) &&
			      !memcmp(got, buf, sizeof(buf)), "%s reads back", oid);
	}
}

int main(void)
{
	const char *b = getenv("CAIRN_BIN");
	char conf[512];
	cairn_t *cl;
	cairn_ioctx_t *io;
	int n;

	snprintf(bin, sizeof(bin), "%s", b ? b : "build/bin");
	snprintf(conf, sizeof(conf), "%s/cairn-mon", bin);
	if (access(conf, X_OK)) {
		printf("skip: %s is not built\n", conf);
		return 77;
	}
	snprintf(dir, sizeof(dir), "/tmp/cairn-osdlib.XXXXXX");
	if (!mkdtemp(dir)) {
		dir[0] = 0;
		return 1;
	}
	atexit(cleanup);
	if (sh("%s/cairn-up start --dir %s --osds 3 --pool data:16:3 --timeout 90", bin, dir)) {
		sh("tail -n 30 %s/*.log", dir);
		return 1;
	}
	snprintf(conf, sizeof(conf), "%s/cairn.conf", dir);
	if (cairn_create(&cl, conf) || cairn_connect(cl)) {
		fprintf(stderr, "cannot connect\n");
		return 1;
	}
	if (cairn_ioctx_create(cl, "data", &io)) {
		fprintf(stderr, "no pool\n");
		return 1;
	}
	cairn_ioctx_set_op_timeout(io, 60);
	fprintf(stderr, "compound...\n");
	test_compound(io);
	fprintf(stderr, "append order...\n");
	test_append_order(io);
	CHECK(cairn_remove(io, "ordered") == 0, "remove ordered");
	n = count_list(io);
	CHECK(n == 20, "list finds 20 objects, got %d", n);
	fprintf(stderr, "load with a restart...\n");
	test_load_with_restart(io);
	n = count_list(io);
	CHECK(n == 20 + NLOAD, "list finds %d objects, got %d", 20 + NLOAD, n);
	fprintf(stderr, "catch-up...\n");
	test_catch_up(io);
	fprintf(stderr, "wait clean...\n");
	CHECK(sh("%s/cairn-up wait --dir %s --timeout 60", bin, dir) == 0,
	      "active+clean after the restart");
	fprintf(stderr, "stop...\n");
	cairn_ioctx_destroy(io);
	cairn_shutdown(cl);
	/* all copies are identical */
	sh("%s/cairn-up stop --dir %s", bin, dir);
	CHECK(sh("bash -c '. %s/tests/lib/cluster.sh; CAIRN_BIN=%s cluster_compare_replicas %s 3'",
		 getenv("CAIRN_ROOT") ? getenv("CAIRN_ROOT") : ".", bin, dir) == 0,
	      "replicas identical after the restart");
	printf("%s\n", failures ? "FAILED" : "ok");
	return failures ? 1 : 0;
}
