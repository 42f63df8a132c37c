/*
 * test_libcairn_api — every libcairn call against a real local cluster (mon + 3 OSDs, pool of
 * size 3): sync and async object ops, xattrs, omap, compound ops (atomicity, per-step
 * results), listing, a bad pool name, and two handles in one process.
 */
// timeout: 120
#include <cairn/libcairn.h>

#include <pthread.h>
#include <stdint.h>

#include "tests/integration/test_libcairn_util.h"

static cairn_t *connect_or_die(void)
{
	char err[256];
	cairn_t *cl;

	CHECK_RC(cairn_create2(&cl, tc_conf, err, sizeof(err)), 0);
	cairn_conf_set(cl, "client_op_timeout", "30");
	if (cairn_connect(cl) < 0) {
		fprintf(stderr, "connect: %s\n", cairn_errmsg(cl));
		exit(1);
	}
	return cl;
}

static void test_basic(cairn_ioctx_t *io)
{
	char buf[256];
	uint64_t size = 0, mtime = 0;

	CHECK_RC(cairn_read(io, "nope", buf, sizeof(buf), 0), -ENOENT);
	CHECK_RC(cairn_stat(io, "nope", &size, NULL), -ENOENT);
	CHECK_RC(cairn_remove(io, "nope"), -ENOENT);

	CHECK_RC(cairn_obj_create(io, "a", 1), 0);
	CHECK_RC(cairn_obj_create(io, "a", 1), -EEXIST);
	CHECK_RC(cairn_obj_create(io, "a", 0), 0);
	CHECK_RC(cairn_stat(io, "a", &size, &mtime), 0);
	CHECK(size == 0);

	CHECK_RC(cairn_write(io, "a", "hello world", 11, 0), 0);
	CHECK_RC(cairn_write(io, "a", "WORLD", 5, 6), 0);
	CHECK_RC(cairn_read(io, "a", buf, sizeof(buf), 0), 11);
	CHECK(!memcmp(buf, "hello WORLD", 11));
	CHECK_RC(cairn_read(io, "a", buf, 3, 6), 3);
	CHECK(!memcmp(buf, "WOR", 3));
	CHECK_RC(cairn_read(io, "a", buf, sizeof(buf), 100), 0);
	CHECK_RC(cairn_append(io, "a", "!!", 2), 0);
	CHECK_RC(cairn_stat(io, "a", &size, &mtime), 0);
	CHECK(size == 13);
	CHECK(mtime > 1600000000ull * 1000000000ull);
	CHECK_RC(cairn_zero(io, "a", 0, 5), 0);
	CHECK_RC(cairn_read(io, "a", buf, sizeof(buf), 0), 13);
	CHECK(!memcmp(buf, "\0\0\0\0\0 WORLD!!", 13));
	CHECK_RC(cairn_trunc(io, "a", 4), 0);
	CHECK_RC(cairn_stat(io, "a", &size, NULL), 0);
	CHECK(size == 4);
	CHECK_RC(cairn_write_full(io, "a", "xyz", 3), 0);
	CHECK_RC(cairn_read(io, "a", buf, sizeof(buf), 0), 3);
	CHECK(!memcmp(buf, "xyz", 3));
	/* zero never extends */
	CHECK_RC(cairn_zero(io, "a", 2, 100), 0);
	CHECK_RC(cairn_stat(io, "a", &size, NULL), 0);
	CHECK(size == 3);

	/* larger data, across the messenger's data path */
	{
		size_t n = 3 << 20;
		char *big = malloc(n), *back = malloc(n);
		for (size_t i = 0; i < n; i++)
			big[i] = (char)(i * 7 + 3);
		CHECK_RC(cairn_write_full(io, "big", big, n), 0);
		CHECK_RC(cairn_read(io, "big", back, n, 0), (long)n);
		CHECK(!memcmp(big, back, n));
		CHECK_RC(cairn_remove(io, "big"), 0);
		free(big);
		free(back);
	}

	/* xattrs */
	CHECK_RC(cairn_setxattr(io, "a", "user.color", "blue", 4), 0);
	CHECK_RC(cairn_setxattr(io, "a", "user.size", "XL", 2), 0);
	CHECK_RC(cairn_getxattr(io, "a", "user.color", buf, sizeof(buf)), 4);
	CHECK(!memcmp(buf, "blue", 4));
	CHECK_RC(cairn_getxattr(io, "a", "user.color", buf, 2), -ERANGE);
	CHECK_RC(cairn_getxattr(io, "a", "user.none", buf, sizeof(buf)), -ENODATA);
	{
		cairn_kvs_t *kvs;
		CHECK_RC(cairn_getxattrs(io, "a", &kvs), 0);
		CHECK(cairn_kvs_count(kvs) == 2);
		cairn_kvs_free(kvs);
	}
	CHECK_RC(cairn_rmxattr(io, "a", "user.size"), 0);
	CHECK_RC(cairn_getxattr(io, "a", "user.size", buf, sizeof(buf)), -ENODATA);

	/* omap */
	{
		const char *keys[] = { "k1", "k2", "k3", "k4" };
		const void *vals[] = { "v1", "", "value3", "v4" };
		size_t lens[] = { 2, 0, 6, 2 };
		cairn_kvs_t *kvs;
		size_t len;
		int more = -1;

		uint64_t m0 = 0, m1 = 0;

		/* a client's omap change stamps the object's mtime (the OSD adds a TOUCH) */
		CHECK_RC(cairn_stat(io, "a", NULL, &m0), 0);
		usleep(2000);
		CHECK_RC(cairn_omap_set(io, "a", keys, vals, lens, 4), 0);
		CHECK_RC(cairn_stat(io, "a", NULL, &m1), 0);
		CHECK(m1 > m0);
		CHECK_RC(cairn_omap_get(io, "a", (const char *[]){ "k3", "nokey", "k1" }, 3, &kvs), 0);
		CHECK(cairn_kvs_count(kvs) == 2);
		for (size_t i = 0; i < cairn_kvs_count(kvs); i++) {
			const char *v = cairn_kvs_val(kvs, i, &len);
			if (!strcmp(cairn_kvs_key(kvs, i), "k3"))
				CHECK(len == 6 && !memcmp(v, "value3", 6));
			else
				CHECK(!strcmp(cairn_kvs_key(kvs, i), "k1") && len == 2);
		}
		cairn_kvs_free(kvs);
		CHECK_RC(cairn_omap_list(io, "a", "", 2, &kvs, &more), 0);
		CHECK(cairn_kvs_count(kvs) == 2 && more == 1);
		CHECK(!strcmp(cairn_kvs_key(kvs, 0), "k1") && !strcmp(cairn_kvs_key(kvs, 1), "k2"));
		cairn_kvs_free(kvs);
		CHECK_RC(cairn_omap_list(io, "a", "k2", 10, &kvs, &more), 0);
		CHECK(cairn_kvs_count(kvs) == 2 && more == 0);
		CHECK(!strcmp(cairn_kvs_key(kvs, 0), "k3"));
		cairn_kvs_free(kvs);
		usleep(2000);
		CHECK_RC(cairn_omap_rm_keys(io, "a", keys, 2), 0);
		CHECK_RC(cairn_stat(io, "a", NULL, &m0), 0);
		CHECK(m0 > m1);
		CHECK_RC(cairn_omap_list(io, "a", NULL, 10, &kvs, NULL), 0);
		CHECK(cairn_kvs_count(kvs) == 2);
		cairn_kvs_free(kvs);
	}
	CHECK_RC(cairn_remove(io, "a"), 0);
	CHECK_RC(cairn_stat(io, "a", NULL, NULL), -ENOENT);
	/* name checks */
	CHECK_RC(cairn_write_full(io, "", "x", 1), -EINVAL);
	printf("basic ops: ok\n");
}

static void test_compound(cairn_ioctx_t *io)
{
	cairn_write_op_t *w;
	cairn_read_op_t *r;
	const char *keys[] = { "a", "b" };
	const void *vals[] = { "1", "22" };
	size_t lens[] = { 1, 2 };
	int rv1 = 99, rv2 = 99, rv3 = 99, rv4 = 99;
	char buf[64];
	size_t got = 0;
	uint64_t size = 0;
	cairn_kvs_t *xk = NULL, *om = NULL, *x1 = NULL;

	w = cairn_write_op_create();
	cairn_write_op_create_object(w, 1);
	cairn_write_op_set_prval(w, &rv1);
	cairn_write_op_write_full(w, "compound", 8);
	cairn_write_op_setxattr(w, "owner", "me", 2);
	cairn_write_op_omap_set(w, keys, vals, lens, 2);
	cairn_write_op_set_prval(w, &rv2);
	CHECK_RC(cairn_write_op_operate(w, io, "c"), 0);
	CHECK(rv1 == 0 && rv2 == 0);

	/* applying it again: the exclusive create fails, so nothing is applied */
	cairn_write_op_release(w);
	w = cairn_write_op_create();
	cairn_write_op_write_full(w, "CHANGED!", 8);
	cairn_write_op_set_prval(w, &rv1);
	cairn_write_op_create_object(w, 1);
	cairn_write_op_set_prval(w, &rv2);
	cairn_write_op_setxattr(w, "owner", "you", 3);
	cairn_write_op_set_prval(w, &rv3);
	CHECK_RC(cairn_write_op_operate(w, io, "c"), -EEXIST);
	CHECK(rv2 == -EEXIST);
	CHECK(rv3 == -ECANCELED);
	cairn_write_op_release(w);

	r = cairn_read_op_create();
	cairn_read_op_stat(r, &size, NULL, &rv1);
	cairn_read_op_read(r, 0, sizeof(buf), buf, &got, &rv2);
	cairn_read_op_getxattrs(r, &xk, &rv3);
	cairn_read_op_omap_get_vals(r, "", 10, &om, NULL, &rv4);
	cairn_read_op_getxattr(r, "owner", &x1, NULL);
	CHECK_RC(cairn_read_op_operate(r, io, "c"), 0);
	CHECK(rv1 == 0 && rv2 == 0 && rv3 == 0 && rv4 == 0);
	CHECK(size == 8 && got == 8 && !memcmp(buf, "compound", 8));
	CHECK(cairn_kvs_count(xk) == 1 && !strcmp(cairn_kvs_key(xk, 0), "owner"));
	CHECK(cairn_kvs_count(om) == 2);
	CHECK(x1 && cairn_kvs_count(x1) == 1 && !memcmp(cairn_kvs_val(x1, 0, NULL), "me", 2));
	cairn_kvs_free(xk);
	cairn_kvs_free(om);
	cairn_kvs_free(x1);
	cairn_read_op_release(r);

	/* a read op on a missing object */
	r = cairn_read_op_create();
	cairn_read_op_stat(r, &size, NULL, &rv1);
	CHECK_RC(cairn_read_op_operate(r, io, "no-such"), -ENOENT);
	CHECK(rv1 == -ENOENT);
	cairn_read_op_release(r);

	/* async compound op */
	{
		cairn_completion_t *c;
		w = cairn_write_op_create();
		cairn_write_op_assert_exists(w);
		cairn_write_op_omap_clear(w);
		cairn_write_op_remove(w);
		CHECK_RC(cairn_aio_create_completion(NULL, NULL, &c), 0);
		CHECK_RC(cairn_aio_write_op_operate(w, io, c, "c"), 0);
		cairn_aio_wait_for_complete(c);
		CHECK_RC(cairn_aio_get_return_value(c), 0);
		cairn_aio_release(c);
		cairn_write_op_release(w);
		CHECK_RC(cairn_stat(io, "c", NULL, NULL), -ENOENT);
	}
	printf("compound ops: ok\n");
}

struct aio_state {
	pthread_mutex_t lock;
	int done, errors, first_err;
};

static void aio_cb(cairn_completion_t *c, void *arg)
{
	struct aio_state *s = arg;

	pthread_mutex_lock(&s->lock);
	s->done++;
	if (cairn_aio_get_return_value(c) < 0 && !s->errors++)
		s->first_err = cairn_aio_get_return_value(c);
	pthread_mutex_unlock(&s->lock);
	cairn_aio_release(c);
}

static void test_aio_and_list(cairn_t *cl, cairn_ioctx_t *io)
{
	enum { N = 200 };
	struct aio_state s = { .lock = PTHREAD_MUTEX_INITIALIZER };
	static char names[N][32];
	static char seen[N];
	char data[4096];
	cairn_list_t *l;
	const char *oid;
	int n = 0, r;

	memset(data, 'q', sizeof(data));
	for (int i = 0; i < N; i++) {
		cairn_completion_t *c;
		snprintf(names[i], sizeof(names[i]), "listobj-%03d", i);
		CHECK_RC(cairn_aio_create_completion(&s, aio_cb, &c), 0);
		CHECK_RC(cairn_aio_write_full(io, names[i], c, data, sizeof(data)), 0);
	}
	CHECK_RC(cairn_aio_flush(cl), 0);
	if (s.done != N || s.errors)
		fprintf(stderr, "aio writes: %d done, %d errors, first %d\n", s.done, s.errors,
			s.first_err);
	CHECK(s.done == N && s.errors == 0);
	CHECK(cairn_aio_inflight(cl) == 0);

	/* async reads and stats */
	{
		cairn_completion_t *c1, *c2;
		char back[4096];
		uint64_t size = 0;
		CHECK_RC(cairn_aio_create_completion(NULL, NULL, &c1), 0);
		CHECK_RC(cairn_aio_create_completion(NULL, NULL, &c2), 0);
		CHECK_RC(cairn_aio_read(io, names[7], c1, back, sizeof(back), 0), 0);
		CHECK_RC(cairn_aio_stat(io, names[8], c2, &size, NULL), 0);
		cairn_aio_wait_for_complete(c1);
		cairn_aio_wait_for_complete(c2);
		CHECK_RC(cairn_aio_get_return_value(c1), 4096);
		CHECK(!memcmp(back, data, sizeof(back)));
		CHECK_RC(cairn_aio_get_return_value(c2), 0);
		CHECK(size == 4096);
		cairn_aio_release(c1);
		cairn_aio_release(c2);
	}

	CHECK_RC(cairn_list_open(io, &l), 0);
	while ((r = cairn_list_next(l, &oid)) == 0) {
		int i;
		if (sscanf(oid, "listobj-%d", &i) == 1 && i >= 0 && i < N) {
			CHECK(!seen[i]); /* exactly once */
			seen[i] = 1;
		}
		n++;
	}
	cairn_list_close(l);
	CHECK_RC(r, -ENOENT);
	for (int i = 0; i < N; i++)
		CHECK(seen[i]);

	memset(&s, 0, sizeof(s));
	pthread_mutex_init(&s.lock, NULL);
	for (int i = 0; i < N; i++) {
		cairn_completion_t *c;
		CHECK_RC(cairn_aio_create_completion(&s, aio_cb, &c), 0);
		CHECK_RC(cairn_aio_remove(io, names[i], c), 0);
	}
	CHECK_RC(cairn_aio_flush(cl), 0);
	if (s.done != N || s.errors)
		fprintf(stderr, "aio removes: %d done, %d errors, first %d\n", s.done, s.errors,
			s.first_err);
	CHECK(s.done == N && s.errors == 0);
	printf("aio + listing (%d objects listed): ok\n", n);
}

int main(void)
{
	cairn_t *cl, *cl2;
	cairn_ioctx_t *io, *io2, *bad = NULL;
	struct cairn_placement pl;
	char buf[16];

	setvbuf(stdout, NULL, _IONBF, 0);
	tc_start(3, "rbd:16:3");

	cl = connect_or_die();
	CHECK_RC(cairn_ioctx_create(cl, "no-such-pool", &bad), -ENOENT);
	CHECK(bad == NULL);
	CHECK(strstr(cairn_errmsg(cl), "no-such-pool") != NULL);
	CHECK_RC(cairn_ioctx_create(cl, "rbd", &io), 0);
	CHECK(cairn_pool_lookup(cl, "rbd") == cairn_ioctx_pool_id(io));
	CHECK(cairn_osdmap_epoch(cl) > 0);
	CHECK_RC(cairn_object_placement(io, "a", &pl), 0);
	CHECK(pl.acting_len == 3 && pl.primary == pl.acting[0]);

	test_basic(io);
	test_compound(io);
	test_aio_and_list(cl, io);

	/* a second handle in the same process sees the first one's writes */
	cl2 = connect_or_die();
	CHECK_RC(cairn_ioctx_create(cl2, "rbd", &io2), 0);
	CHECK_RC(cairn_write_full(io, "shared", "one", 3), 0);
	CHECK_RC(cairn_read(io2, "shared", buf, sizeof(buf), 0), 3);
	CHECK(!memcmp(buf, "one", 3));
	CHECK_RC(cairn_remove(io2, "shared"), 0);
	cairn_ioctx_destroy(io2);
	cairn_shutdown(cl2);
	printf("two handles: ok\n");

	cairn_ioctx_destroy(io);
	cairn_shutdown(cl);
	printf("test_libcairn_api: ok\n");
	return 0;
}
