/* test_store — osd/store on a real RocksDB in a temp dir: every transaction op and its edge
 * cases (zero-length, past EOF, overwrite inside, sparse, huge offsets), atomicity of a
 * failing transaction, in-order visibility inside a transaction, reads, listing by hash
 * with cursors, callbacks and group commit, persistence across reopen, bit rot (-EIO, the
 * counter, fsck naming the object), and a randomized comparison against an in-memory model. */
// timeout: 120
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/config.h"
#include "common/util.h"
#include "osd/store.h"

struct fx {
	char dir[64];
	struct cairn_conf *conf;
	struct store *s;
};

static void rm_rf(const char *dir)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

static int setup_cs(void **state, const char *chunk)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[128];

	strcpy(f->dir, "/tmp/test_store.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	f->conf = conf_defaults();
	if (chunk && conf_set(f->conf, "store_chunk_size", chunk, err, sizeof(err)))
		return -1;
	if (conf_set(f->conf, "store_max_object_size", "1G", err, sizeof(err)))
		return -1;
	if (store_mkfs(f->dir, f->conf) || store_open(&f->s, f->dir, f->conf))
		return -1;
	*state = f;
	return 0;
}

static int setup(void **state) { return setup_cs(state, NULL); }
/* every write of 4K or more goes to data-file slots */
static int setup_direct(void **state)
{
	char err[128];
	int rc = setup_cs(state, "4K");
	struct fx *f = *state;

	if (rc)
		return rc;
	store_close(f->s);
	if (conf_set(f->conf, "store_direct_write_min", "4K", err, sizeof(err)))
		return -1;
	return store_open(&f->s, f->dir, f->conf);
}
/* everything inline in RocksDB, 64K chunks */
static int setup_inline(void **state)
{
	char err[128];
	int rc = setup_cs(state, "64K");
	struct fx *f = *state;

	if (rc)
		return rc;
	store_close(f->s);
	if (conf_set(f->conf, "store_direct_write_min", "0", err, sizeof(err)))
		return -1;
	return store_open(&f->s, f->dir, f->conf);
}
static int setup_4k(void **state) { return setup_cs(state, "4K"); }

static int teardown(void **state)
{
	struct fx *f = *state;

	store_close(f->s);
	conf_free(f->conf);
	rm_rf(f->dir);
	free(f);
	return 0;
}

static void reopen(struct fx *f)
{
	store_close(f->s);
	f->s = NULL;
	assert_int_equal(store_open(&f->s, f->dir, f->conf), 0);
}

#define O(name) name, strlen(name)

static int apply(struct fx *f, struct store_txn *t) { return store_apply_txn(f->s, t); }

static void mkcoll(struct fx *f, const char *c)
{
	struct store_txn *t = store_txn_new();

	assert_int_equal(store_txn_coll_create(t, c), 0);
	assert_int_equal(apply(f, t), 0);
}

static void put(struct fx *f, const char *c, const char *o, uint64_t off, const void *d,
		size_t n)
{
	struct store_txn *t = store_txn_new();

	assert_int_equal(store_txn_write(t, c, O(o), off, n, d), 0);
	assert_int_equal(apply(f, t), 0);
}

static uint64_t size_of(struct fx *f, const char *c, const char *o)
{
	struct store_stat st;

	assert_int_equal(store_stat(f->s, c, O(o), &st), 0);
	return st.size;
}

/* ---- basics ------------------------------------------------------------------------------ */

static void test_mkfs_open(void **state)
{
	struct fx *f = *state;
	struct store *s2;
	char d2[64];

	assert_int_equal(store_mkfs(f->dir, f->conf), -EEXIST);
	strcpy(d2, "/tmp/test_store.XXXXXX");
	assert_non_null(mkdtemp(d2));
	assert_int_equal(store_open(&s2, d2, NULL), -ENOENT);
	rm_rf(d2);
}

static int coll_cb(void *arg, const char *c)
{
	char *acc = arg;

	strcat(acc, c);
	strcat(acc, ",");
	return 0;
}

static void test_collections(void **state)
{
	struct fx *f = *state;
	struct store_txn *t;
	char acc[256] = "";

	assert_int_equal(store_coll_exists(f->s, "1.2a"), 0);
	mkcoll(f, "1.2a");
	mkcoll(f, "meta");
	assert_int_equal(store_coll_exists(f->s, "1.2a"), 1);
	assert_int_equal(store_coll_exists(f->s, "bad/name"), -EINVAL);

	/* a failing op makes the whole transaction fail: "x" is not created */
	t = store_txn_new();
	store_txn_coll_create(t, "x");
	store_txn_coll_create(t, "meta");
	assert_int_equal(apply(f, t), -EEXIST);
	assert_int_equal(store_coll_exists(f->s, "x"), 0);

	/* ops in a missing collection */
	t = store_txn_new();
	store_txn_touch(t, "nope", O("a"));
	assert_int_equal(apply(f, t), -ENOENT);

	assert_int_equal(store_list_colls(f->s, coll_cb, acc), 0);
	assert_string_equal(acc, "1.2a,meta,");

	put(f, "1.2a", "obj", 0, "x", 1);
	t = store_txn_new();
	store_txn_coll_remove(t, "1.2a");
	assert_int_equal(apply(f, t), -ENOTEMPTY);
	t = store_txn_new();
	store_txn_remove(t, "1.2a", O("obj"));
	store_txn_coll_remove(t, "1.2a");
	assert_int_equal(apply(f, t), 0);
	assert_int_equal(store_coll_exists(f->s, "1.2a"), 0);
	t = store_txn_new();
	store_txn_coll_remove(t, "1.2a");
	assert_int_equal(apply(f, t), -ENOENT);

	/* builder errors are sticky and refuse the transaction */
	t = store_txn_new();
	assert_int_equal(store_txn_coll_create(t, "has space"), -EINVAL);
	assert_int_equal(store_txn_coll_create(t, "ok"), 0);
	assert_int_equal(apply(f, t), -EINVAL);
	assert_int_equal(store_coll_exists(f->s, "ok"), 0);
}

static void test_write_read_edges(void **state)
{
	struct fx *f = *state;
	struct store_txn *t;
	uint8_t buf[300000], exp[300000];
	struct store_stat st;

	mkcoll(f, "c");
	/* zero-length write creates an empty object */
	put(f, "c", "empty", 0, NULL, 0);
	assert_int_equal(size_of(f, "c", "empty"), 0);
	assert_int_equal(store_read(f->s, "c", O("empty"), 0, 10, buf), 0);
	assert_int_equal(store_read(f->s, "c", O("missing"), 0, 10, buf), -ENOENT);
	assert_int_equal(store_stat(f->s, "c", O("missing"), &st), -ENOENT);
	assert_int_equal(store_obj_exists(f->s, "c", O("empty")), 1);

	/* write, overwrite inside, read past EOF, short read at EOF */
	put(f, "c", "a", 0, "hello world", 11);
	put(f, "c", "a", 6, "WORLD", 5);
	put(f, "c", "a", 2, "LL", 2);
	memset(buf, 0xee, 64);
	assert_int_equal(store_read(f->s, "c", O("a"), 0, 64, buf), 11);
	assert_memory_equal(buf, "heLLo WORLD", 11);
	assert_int_equal(store_read(f->s, "c", O("a"), 11, 10, buf), 0);
	assert_int_equal(store_read(f->s, "c", O("a"), 1000, 10, buf), 0);
	assert_int_equal(store_read(f->s, "c", O("a"), 8, 10, buf), 3);
	assert_memory_equal(buf, "RLD", 3);
	assert_int_equal(store_read(f->s, "c", O("a"), 0, 0, buf), 0);

	/* sparse: a write far away leaves a hole of zeros across chunks */
	put(f, "c", "sparse", 200000, "end", 3);
	assert_int_equal(size_of(f, "c", "sparse"), 200003);
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(store_read(f->s, "c", O("sparse"), 0, sizeof(buf), buf), 200003);
	memset(exp, 0, 200000);
	memcpy(exp + 200000, "end", 3);
	assert_memory_equal(buf, exp, 200003);

	/* large multi-chunk write, read at unaligned offsets */
	for (size_t i = 0; i < sizeof(exp); i++)
		exp[i] = (uint8_t)(i * 7 + (i >> 9));
	put(f, "c", "big", 1, exp, sizeof(exp) - 1);
	assert_int_equal(store_read(f->s, "c", O("big"), 65535, 70000, buf), 70000);
	assert_memory_equal(buf, exp + 65534, 70000);

	/* truncate down then up: the cut part reads as zeros */
	t = store_txn_new();
	store_txn_truncate(t, "c", O("big"), 70001);
	store_txn_truncate(t, "c", O("big"), 140000);
	assert_int_equal(apply(f, t), 0);
	assert_int_equal(store_read(f->s, "c", O("big"), 0, sizeof(buf), buf), 140000);
	assert_int_equal(buf[0], 0);
	assert_memory_equal(buf + 1, exp, 70000);
	memset(exp, 0, 70000);
	assert_memory_equal(buf + 70001, exp, 69999);

	/* zero inside and past EOF (extends) */
	put(f, "c", "z", 0, "abcdefgh", 8);
	t = store_txn_new();
	store_txn_zero(t, "c", O("z"), 2, 3);
	store_txn_zero(t, "c", O("z"), 10, 5);
	assert_int_equal(apply(f, t), 0);
	assert_int_equal(store_read(f->s, "c", O("z"), 0, 100, buf), 15);
	assert_memory_equal(buf, "ab\0\0\0fgh\0\0\0\0\0\0\0", 15);

	/* huge offsets: past the configured max (1G here) -EFBIG at apply, past the cap at
	 * build; the object is unchanged */
	t = store_txn_new();
	assert_int_equal(store_txn_write(t, "c", O("a"), (1ull << 30), 1, "x"), 0);
	assert_int_equal(apply(f, t), -EFBIG);
	t = store_txn_new();
	assert_int_equal(store_txn_write(t, "c", O("a"), UINT64_MAX - 1, 4, "xxxx"), -EFBIG);
	store_txn_free(t);
	t = store_txn_new();
	assert_int_equal(store_txn_truncate(t, "c", O("a"), UINT64_MAX), -EFBIG);
	assert_int_equal(store_txn_zero(t, "c", O("a"), 1, UINT64_MAX), -EFBIG);
	store_txn_free(t);
	assert_int_equal(size_of(f, "c", "a"), 11);
	/* sparse write just below the limit works and reads back */
	put(f, "c", "far", (1ull << 30) - 4, "tail", 4);
	assert_int_equal(store_read(f->s, "c", O("far"), (1ull << 30) - 8, 100, buf), 8);
	assert_memory_equal(buf, "\0\0\0\0tail", 8);

	/* name limits */
	{
		static uint8_t longname[STORE_NAME_MAX + 1];

		memset(longname, 'n', sizeof(longname));
		t = store_txn_new();
		assert_int_equal(store_txn_touch(t, "c", longname, STORE_NAME_MAX + 1), -ENAMETOOLONG);
		store_txn_free(t);
		t = store_txn_new();
		assert_int_equal(store_txn_write(t, "c", longname, STORE_NAME_MAX, 0, 2, "ok"), 0);
		assert_int_equal(apply(f, t), 0);
		assert_int_equal(store_read(f->s, "c", longname, STORE_NAME_MAX, 0, 2, buf), 2);
	}
	/* binary names with NULs */
	put(f, "c", "", 0, "e", 1);
	t = store_txn_new();
	store_txn_write(t, "c", "\0", 1, 0, 1, "z");
	assert_int_equal(apply(f, t), 0);
	assert_int_equal(store_read(f->s, "c", "", 0, 0, 10, buf), 1);
	assert_int_equal(buf[0], 'e');
	assert_int_equal(store_read(f->s, "c", "\0", 1, 0, 10, buf), 1);
	assert_int_equal(buf[0], 'z');
}

static int attr_cb(void *arg, const char *name, const void *val, size_t vlen)
{
	char *acc = arg;

	strcat(acc, name);
	strcat(acc, "=");
	strncat(acc, val, vlen);
	strcat(acc, ";");
	return 0;
}

static void test_attrs(void **state)
{
	struct fx *f = *state;
	struct store_txn *t;
	struct cbuf b;
	char acc[256] = "";
	struct store_kv kv[2] = { { "b", 0, "2", 1 }, { "c", 0, "33", 2 } };

	mkcoll(f, "c");
	cbuf_init(&b);
	t = store_txn_new();
	store_txn_setattr(t, "c", O("o"), "a", "1", 1);
	store_txn_setattrs(t, "c", O("o"), kv, 2);
	store_txn_setattr(t, "c", O("o"), "empty", "", 0);
	assert_int_equal(apply(f, t), 0);
	assert_int_equal(size_of(f, "c", "o"), 0);
	assert_int_equal(store_getattr(f->s, "c", O("o"), "c", &b), 0);
	assert_int_equal(b.len, 2);
	assert_memory_equal(b.data, "33", 2);
	cbuf_reset(&b);
	assert_int_equal(store_getattr(f->s, "c", O("o"), "zz", &b), -ENODATA);
	assert_int_equal(store_getattr(f->s, "c", O("none"), "a", &b), -ENOENT);
	assert_int_equal(store_getattrs(f->s, "c", O("o"), attr_cb, acc), 0);
	assert_string_equal(acc, "a=1;b=2;c=33;empty=;");

	t = store_txn_new();
	store_txn_rmattr(t, "c", O("o"), "b");
	store_txn_rmattr(t, "c", O("o"), "never-there");
	store_txn_setattr(t, "c", O("o"), "a", "new", 3);
	assert_int_equal(apply(f, t), 0);
	acc[0] = 0;
	assert_int_equal(store_getattrs(f->s, "c", O("o"), attr_cb, acc), 0);
	assert_string_equal(acc, "a=new;c=33;empty=;");

	/* rmattr on a missing object fails */
	t = store_txn_new();
	store_txn_rmattr(t, "c", O("none"), "a");
	assert_int_equal(apply(f, t), -ENOENT);
	/* limits */
	t = store_txn_new();
	assert_int_equal(store_txn_setattr(t, "c", O("o"), "", "x", 1), -EINVAL);
	store_txn_free(t);
	cbuf_free(&b);
}

static int omap_cb(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	char *acc = arg;

	strncat(acc, k, kl);
	strcat(acc, "=");
	strncat(acc, v, vl);
	strcat(acc, ";");
	return 0;
}

static void test_omap(void **state)
{
	struct fx *f = *state;
	struct store_txn *t;
	struct cbuf b;
	char acc[512] = "";
	struct store_kv kv[5] = {
		{ "k1", 2, "v1", 2 }, { "k2", 2, "v2", 2 }, { "k3", 2, "v3", 2 },
		{ "k4", 2, "v4", 2 }, { "z", 1, "", 0 },
	};
	const void *rk[2] = { "k2", "nokey" };
	size_t rl[2] = { 2, 5 };

	mkcoll(f, "c");
	cbuf_init(&b);
	t = store_txn_new();
	store_txn_omap_setkeys(t, "c", O("o"), kv, 5);
	assert_int_equal(apply(f, t), 0);
	assert_int_equal(store_omap_get(f->s, "c", O("o"), "k3", 2, &b), 0);
	assert_memory_equal(b.data, "v3", 2);
	assert_int_equal(store_omap_get(f->s, "c", O("o"), "k9", 2, &b), -ENODATA);
	assert_int_equal(store_omap_iterate(f->s, "c", O("o"), NULL, 0, NULL, 0, 0, omap_cb, acc), 5);
	assert_string_equal(acc, "k1=v1;k2=v2;k3=v3;k4=v4;z=;");
	acc[0] = 0;
	assert_int_equal(store_omap_iterate(f->s, "c", O("o"), "k2", 2, "k4", 2, 0, omap_cb, acc), 2);
	assert_string_equal(acc, "k2=v2;k3=v3;");
	acc[0] = 0;
	assert_int_equal(store_omap_iterate(f->s, "c", O("o"), "k15", 3, NULL, 0, 2, omap_cb, acc), 2);
	assert_string_equal(acc, "k2=v2;k3=v3;");
	/* omap changes of an existing object leave its onode (mtime) alone; TOUCH stamps it */
	struct store_stat st0, st1;

	assert_int_equal(store_stat(f->s, "c", O("o"), &st0), 0);
	usleep(2000);
	t = store_txn_new();
	store_txn_omap_setkeys(t, "c", O("o"), kv, 1);
	assert_int_equal(apply(f, t), 0);
	assert_int_equal(store_stat(f->s, "c", O("o"), &st1), 0);
	assert_int_equal(st1.mtime_ns, st0.mtime_ns);
	t = store_txn_new();
	store_txn_touch(t, "c", O("o"));
	assert_int_equal(apply(f, t), 0);
	assert_int_equal(store_stat(f->s, "c", O("o"), &st1), 0);
	assert_true(st1.mtime_ns > st0.mtime_ns);

	t = store_txn_new();
	store_txn_omap_rmkeys(t, "c", O("o"), rk, rl, 2);
	store_txn_omap_rmrange(t, "c", O("o"), "k3", 2, "k4", 2);
	assert_int_equal(apply(f, t), 0);
	acc[0] = 0;
	store_omap_iterate(f->s, "c", O("o"), NULL, 0, NULL, 0, 0, omap_cb, acc);
	assert_string_equal(acc, "k1=v1;k4=v4;z=;");
	t = store_txn_new();
	store_txn_omap_rmrange(t, "c", O("o"), "k4", 2, NULL, 0);
	assert_int_equal(apply(f, t), 0);
	acc[0] = 0;
	store_omap_iterate(f->s, "c", O("o"), NULL, 0, NULL, 0, 0, omap_cb, acc);
	assert_string_equal(acc, "k1=v1;");
	t = store_txn_new();
	store_txn_omap_clear(t, "c", O("o"));
	assert_int_equal(apply(f, t), 0);
	assert_int_equal(store_omap_iterate(f->s, "c", O("o"), NULL, 0, NULL, 0, 0, omap_cb, acc), 0);
	/* omap of a missing object */
	t = store_txn_new();
	store_txn_omap_clear(t, "c", O("none"));
	assert_int_equal(apply(f, t), -ENOENT);
	cbuf_free(&b);
}

static void test_clone_move(void **state)
{
	struct fx *f = *state;
	struct store_txn *t;
	uint8_t data[200000], buf[200000];
	struct cbuf b;
	char acc[128] = "";
	struct store_kv kv = { "ok", 2, "ov", 2 };

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i ^ (i >> 8));
	mkcoll(f, "c");
	mkcoll(f, "d");
	cbuf_init(&b);
	t = store_txn_new();
	store_txn_write(t, "c", O("src"), 0, sizeof(data), data);
	store_txn_setattr(t, "c", O("src"), "a", "1", 1);
	store_txn_omap_setkeys(t, "c", O("src"), &kv, 1);
	/* in the same transaction: clone sees the write above */
	store_txn_clone(t, "c", O("src"), O("dst"));
	store_txn_write(t, "c", O("src"), 0, 4, "SSSS");
	assert_int_equal(apply(f, t), 0);
	assert_int_equal(store_read(f->s, "c", O("dst"), 0, sizeof(buf), buf), sizeof(data));
	assert_memory_equal(buf, data, sizeof(data));
	assert_int_equal(store_getattr(f->s, "c", O("dst"), "a", &b), 0);
	assert_int_equal(store_omap_iterate(f->s, "c", O("dst"), NULL, 0, NULL, 0, 0, omap_cb, acc), 1);
	assert_int_equal(store_read(f->s, "c", O("src"), 0, 4, buf), 4);
	assert_memory_equal(buf, "SSSS", 4);

	/* clone over an existing object replaces it entirely */
	t = store_txn_new();
	store_txn_write(t, "c", O("small"), 0, 3, "abc");
	store_txn_setattr(t, "c", O("small"), "old", "x", 1);
	store_txn_clone(t, "c", O("small"), O("dst"));
	assert_int_equal(apply(f, t), 0);
	assert_int_equal(size_of(f, "c", "dst"), 3);
	cbuf_reset(&b);
	assert_int_equal(store_getattr(f->s, "c", O("dst"), "a", &b), -ENODATA);

	/* clone_range: middle of src to dst at an offset; src past EOF reads as zeros */
	t = store_txn_new();
	store_txn_clone_range(t, "c", O("src"), 70000, 1000, O("cr"), 10);
	store_txn_clone_range(t, "c", O("src"), sizeof(data) - 2, 6, O("cr"), 2000);
	assert_int_equal(apply(f, t), 0);
	assert_int_equal(store_read(f->s, "c", O("cr"), 0, sizeof(buf), buf), 2006);
	assert_memory_equal(buf + 10, data + 70000, 1000);
	assert_memory_equal(buf + 2000, data + sizeof(data) - 2, 2);
	assert_memory_equal(buf + 2002, "\0\0\0\0", 4);
	t = store_txn_new();
	assert_int_equal(store_txn_clone_range(t, "c", O("src"), 0, 1, O("src"), 5), -EINVAL);
	store_txn_free(t);

	/* move across collections keeps everything; dst is replaced */
	put(f, "d", "dst2", 0, "old", 3);
	t = store_txn_new();
	store_txn_move(t, "c", O("src"), "d", O("dst2"));
	assert_int_equal(apply(f, t), 0);
	assert_int_equal(store_obj_exists(f->s, "c", O("src")), 0);
	assert_int_equal(store_read(f->s, "d", O("dst2"), 4, 100, buf), 100);
	assert_memory_equal(buf, data + 4, 100);
	cbuf_reset(&b);
	assert_int_equal(store_getattr(f->s, "d", O("dst2"), "a", &b), 0);
	/* move of a missing object, move to a missing collection */
	t = store_txn_new();
	store_txn_move(t, "c", O("src"), "d", O("x"));
	assert_int_equal(apply(f, t), -ENOENT);
	t = store_txn_new();
	store_txn_move(t, "d", O("dst2"), "nope", O("x"));
	assert_int_equal(apply(f, t), -ENOENT);
	assert_int_equal(store_obj_exists(f->s, "d", O("dst2")), 1);
	/* remove a missing object fails; remove removes all */
	t = store_txn_new();
	store_txn_remove(t, "c", O("gone"));
	assert_int_equal(apply(f, t), -ENOENT);
	t = store_txn_new();
	store_txn_remove(t, "d", O("dst2"));
	store_txn_touch(t, "d", O("dst2"));
	assert_int_equal(apply(f, t), 0);
	assert_int_equal(size_of(f, "d", "dst2"), 0);
	cbuf_reset(&b);
	assert_int_equal(store_getattr(f->s, "d", O("dst2"), "a", &b), -ENODATA);
	cbuf_free(&b);
}

struct names {
	int n;
	uint64_t hashes[600];
	char names[600][16];
};

static int list_cb(void *arg, const void *oid, size_t oidlen, uint64_t hash)
{
	struct names *nm = arg;

	assert_true(oidlen < 16);
	assert_int_equal(hash, store_name_hash(oid, oidlen));
	memcpy(nm->names[nm->n], oid, oidlen);
	nm->names[nm->n][oidlen] = 0;
	nm->hashes[nm->n++] = hash;
	return 0;
}

static void test_list(void **state)
{
	struct fx *f = *state;
	struct store_txn *t = store_txn_new();
	struct store_cursor *cur = malloc(sizeof(*cur)), *end = malloc(sizeof(*end)), *dec;
	struct names *all = calloc(1, sizeof(*all)), *pg = calloc(1, sizeof(*pg));
	char name[16];
	struct cbuf b;
	struct cdec d;
	int rc, total = 0;

	store_txn_coll_create(t, "1.0");
	store_txn_coll_create(t, "1.00");
	for (int i = 0; i < 500; i++) {
		snprintf(name, sizeof(name), "obj%d", i);
		store_txn_touch(t, "1.0", O(name));
	}
	store_txn_touch(t, "1.00", O("other"));
	assert_int_equal(apply(f, t), 0);

	store_cursor_begin(cur);
	assert_int_equal(store_list(f->s, "1.0", cur, NULL, 0, list_cb, all, NULL), 500);
	for (int i = 1; i < 500; i++)
		assert_true(all->hashes[i - 1] <= all->hashes[i]);
	assert_int_equal(store_list(f->s, "nope", cur, NULL, 0, list_cb, pg, NULL), -ENOENT);

	/* pages of 37 through a persisted cursor give the same sequence */
	cbuf_init(&b);
	dec = malloc(sizeof(*dec));
	store_cursor_begin(cur);
	while (!cur->at_end) {
		rc = store_list(f->s, "1.0", cur, NULL, 37, list_cb, pg, cur);
		assert_true(rc >= 0 && rc <= 37);
		total += rc;
		cbuf_reset(&b);
		store_cursor_encode(cur, &b);
		cdec_init(&d, b.data, b.len);
		assert_int_equal(store_cursor_decode(dec, &d), 0);
		assert_int_equal(store_cursor_cmp(dec, cur), 0);
	}
	assert_int_equal(total, 500);
	for (int i = 0; i < 500; i++)
		assert_string_equal(pg->names[i], all->names[i]);
	/* truncated cursor encodings fail cleanly */
	for (size_t n = 0; n < b.len; n++) {
		cdec_init(&d, b.data, n);
		assert_true(store_cursor_decode(dec, &d) < 0);
	}

	/* hash ranges: [0, h) + [h, end) == all */
	uint64_t h = all->hashes[250];
	memset(pg, 0, sizeof(*pg));
	store_cursor_begin(cur);
	store_cursor_at_hash(end, h);
	rc = store_list(f->s, "1.0", cur, end, 0, list_cb, pg, cur);
	assert_int_equal(rc, 250);
	assert_int_equal(cur->at_end, 1);
	store_cursor_at_hash(cur, h);
	rc = store_list(f->s, "1.0", cur, NULL, 0, list_cb, pg, NULL);
	assert_int_equal(rc, 250);
	for (int i = 0; i < 500; i++)
		assert_string_equal(pg->names[i], all->names[i]);

	/* a cursor at a given object starts there */
	memset(pg, 0, sizeof(*pg));
	store_cursor_at(cur, all->names[100], strlen(all->names[100]));
	assert_int_equal(store_list(f->s, "1.0", cur, NULL, 1, list_cb, pg, cur), 1);
	assert_string_equal(pg->names[0], all->names[100]);
	assert_memory_equal(cur->name, all->names[101], strlen(all->names[101]));

	cbuf_free(&b);
	free(dec);
	free(cur);
	free(end);
	free(all);
	free(pg);
}

/* ---- pipeline ---------------------------------------------------------------------------- */

struct cbstate {
	int applied[200], committed[200];
	int next_applied, next_committed;
	int order_ok;
	pthread_mutex_t m;
};
struct cbarg {
	struct cbstate *st;
	int i;
};

static void on_applied(void *arg, int rc)
{
	struct cbarg *a = arg;

	assert_int_equal(rc, 0);
	pthread_mutex_lock(&a->st->m);
	if (a->st->next_applied++ != a->i)
		a->st->order_ok = 0;
	a->st->applied[a->i] = 1;
	pthread_mutex_unlock(&a->st->m);
}

static void on_commit(void *arg, int rc)
{
	struct cbarg *a = arg;

	assert_int_equal(rc, 0);
	pthread_mutex_lock(&a->st->m);
	if (!a->st->applied[a->i] || a->st->next_committed++ != a->i)
		a->st->order_ok = 0;
	a->st->committed[a->i] = 1;
	pthread_mutex_unlock(&a->st->m);
}

static void test_queue_group_commit(void **state)
{
	struct fx *f = *state;
	static struct cbstate st = { .order_ok = 1, .m = PTHREAD_MUTEX_INITIALIZER };
	static struct cbarg args[200];
	struct store_counters c0, c1;
	char name[32];
	uint8_t buf[4096];

	mkcoll(f, "q");
	store_get_counters(f->s, &c0);
	for (int i = 0; i < 200; i++) {
		struct store_txn *t = store_txn_new();

		snprintf(name, sizeof(name), "o%d", i % 17);
		memset(buf, i, sizeof(buf));
		store_txn_write(t, "q", O(name), (uint64_t)(i / 17) * 4096, 4096, buf);
		args[i].st = &st;
		args[i].i = i;
		assert_int_equal(store_queue_txn(f->s, t, on_applied, on_commit, &args[i]), 0);
	}
	/* a sync apply after them waits for all earlier ones */
	struct store_txn *t = store_txn_new();
	store_txn_touch(t, "q", O("last"));
	assert_int_equal(apply(f, t), 0);
	assert_int_equal(st.next_committed, 200);
	assert_int_equal(st.order_ok, 1);
	store_get_counters(f->s, &c1);
	assert_int_equal(c1.txns_committed - c0.txns_committed, 201);
	/* one sync per group; how many share one depends on timing (the benchmark reports it) */
	assert_true(c1.syncs - c0.syncs >= 1 && c1.syncs - c0.syncs <= 201);
	printf("# group commit: %llu txns, %llu syncs\n", 201ull,
	       (unsigned long long)(c1.syncs - c0.syncs));
	assert_int_equal(store_read(f->s, "q", O("o3"), 4096 * 2, 1, buf), 1);
	assert_int_equal(buf[0], (uint8_t)(2 * 17 + 3));
	/* the totals record is written once per group: what groups created survives a reopen */
	struct store_statfs sf;

	reopen(f);
	assert_int_equal(store_statfs(f->s, &sf), 0);
	assert_int_equal(sf.objects, 18);
	assert_int_equal(sf.stored, 200 * 4096); /* 200 chunks, none overwritten */

	/* a failing transaction reports its error to both callbacks */
	t = store_txn_new();
	store_txn_touch(t, "missing-coll", O("x"));
	assert_int_equal(apply(f, t), -ENOENT);
	store_get_counters(f->s, &c1);
	assert_true(c1.txns_failed >= 1);
}

static void test_persist_statfs(void **state)
{
	struct fx *f = *state;
	struct store_statfs sf;
	uint8_t buf[16];

	mkcoll(f, "p");
	put(f, "p", "a", 0, "0123456789", 10);
	put(f, "p", "b", 100, "x", 1);
	assert_int_equal(store_statfs(f->s, &sf), 0);
	assert_int_equal(sf.objects, 2);
	assert_int_equal(sf.stored, 111);
	assert_true(sf.total > 0 && sf.available > 0 && sf.available <= sf.total);
	reopen(f);
	assert_int_equal(store_read(f->s, "p", O("a"), 0, 16, buf), 10);
	assert_memory_equal(buf, "0123456789", 10);
	assert_int_equal(store_statfs(f->s, &sf), 0);
	assert_int_equal(sf.objects, 2);
	assert_int_equal(sf.stored, 111);
	assert_true(sf.used > 0);
	struct store_txn *t = store_txn_new();
	store_txn_remove(t, "p", O("a"));
	assert_int_equal(apply(f, t), 0);
	store_statfs(f->s, &sf);
	assert_int_equal(sf.objects, 1);
	assert_int_equal(sf.stored, 101);
}

struct badlist {
	int n;
	char last[64];
};

static void bad_cb(void *arg, const char *coll, const void *oid, size_t oidlen, const char *why)
{
	struct badlist *b = arg;

	(void)why;
	snprintf(b->last, sizeof(b->last), "%s/%.*s", coll, (int)oidlen, (const char *)oid);
	b->n++;
}

static void test_bitrot(void **state)
{
	struct fx *f = *state;
	struct store_counters c;
	struct badlist bl = { 0 };
	uint8_t data[100000], buf[100000];

	memset(data, 'd', sizeof(data));
	mkcoll(f, "r");
	put(f, "r", "good", 0, data, sizeof(data));
	put(f, "r", "rotten", 0, data, sizeof(data));
	assert_int_equal(store_fsck(f->s, bad_cb, &bl), 0);
	assert_int_equal(store_debug_corrupt(f->s, "r", O("rotten"), 70000), 0);
	assert_int_equal(store_debug_corrupt(f->s, "r", O("nope"), 0), -ENOENT);
	/* the chunk holding byte 70000 is bad: reading it fails, others still work */
	assert_int_equal(store_read(f->s, "r", O("rotten"), 69000, 2000, buf), -EIO);
	assert_int_equal(store_read(f->s, "r", O("rotten"), 0, 100, buf), 100);
	assert_int_equal(store_read(f->s, "r", O("good"), 0, sizeof(buf), buf), sizeof(data));
	store_get_counters(f->s, &c);
	assert_true(c.csum_errors >= 1);
	assert_int_equal(store_fsck(f->s, bad_cb, &bl), 1);
	assert_string_equal(bl.last, "r/rotten");
	/* a partial overwrite of the bad chunk refuses to spread it; a full rewrite heals */
	struct store_txn *t = store_txn_new();
	store_txn_write(t, "r", O("rotten"), 70000, 1, "x");
	assert_int_equal(apply(f, t), -EIO);
	reopen(f);
	assert_int_equal(store_read(f->s, "r", O("rotten"), 69000, 2000, buf), -EIO);
	put(f, "r", "rotten", 0, data, sizeof(data));
	assert_int_equal(store_read(f->s, "r", O("rotten"), 0, sizeof(buf), buf), sizeof(data));
	bl.n = 0;
	assert_int_equal(store_fsck(f->s, bad_cb, &bl), 0);
}

static int released;
static void count_release(void *arg) { ++*(int *)arg; }

static void test_txn_encode(void **state)
{
	struct store_txn *t = store_txn_new(), *u = store_txn_new();
	struct store_kv kv = { "k", 1, "v", 1 };
	const void *keys[1] = { "k" };
	size_t kl[1] = { 1 };
	struct cbuf b, b2;

	(void)state;
	store_txn_coll_create(t, "c");
	store_txn_write(t, "c", O("o"), 5, 3, "abc");
	store_txn_zero(t, "c", O("o"), 1, 2);
	store_txn_truncate(t, "c", O("o"), 9);
	store_txn_setattr(t, "c", O("o"), "a", "b", 1);
	store_txn_rmattr(t, "c", O("o"), "a");
	store_txn_omap_setkeys(t, "c", O("o"), &kv, 1);
	store_txn_omap_rmkeys(t, "c", O("o"), keys, kl, 1);
	store_txn_omap_rmrange(t, "c", O("o"), "a", 1, "b", 1);
	store_txn_omap_rmrange(t, "c", O("o"), "a", 1, NULL, 0);
	store_txn_omap_clear(t, "c", O("o"));
	store_txn_clone(t, "c", O("o"), O("p"));
	store_txn_clone_range(t, "c", O("o"), 0, 3, O("q"), 7);
	store_txn_move(t, "c", O("q"), "c", O("r"));
	store_txn_remove(t, "c", O("r"));
	store_txn_touch(t, "c", O("s"));
	store_txn_coll_remove(t, "c");
	assert_int_equal(store_txn_num_ops(t), 17);
	cbuf_init(&b);
	cbuf_init(&b2);
	assert_int_equal(store_txn_encode(t, &b), 0);
	assert_int_equal(store_txn_decode(u, b.data, b.len), 0);
	assert_int_equal(store_txn_num_ops(u), 17);
	assert_int_equal(store_txn_encode(u, &b2), 0);
	assert_int_equal(b.len, b2.len);
	assert_memory_equal(b.data, b2.data, b.len);
	/* every truncation and every single-byte corruption is handled without a crash */
	for (size_t n = 0; n < b.len; n++) {
		store_txn_reset(u);
		assert_true(store_txn_decode(u, b.data, n) < 0);
	}
	for (size_t i = 0; i < b.len; i++) {
		uint8_t save = b.data[i];

		b.data[i] ^= 0xff;
		store_txn_reset(u);
		(void)store_txn_decode(u, b.data, b.len);
		b.data[i] = save;
	}
	/* store_txn_share: hdr + the op bytes in place are the same wire form; t takes no more
	 * ops and calls release instead of freeing them; decode_owned takes a buffer over */
	{
		uint8_t hdr[STORE_TXN_WIRE_HDR];
		void *ops;
		size_t olen;
		uint8_t *wire;
		struct store_txn *w = store_txn_new();

		released = 0;
		assert_int_equal(store_txn_share(t, hdr, &ops, &olen, count_release, &released), 0);
		assert_int_equal(STORE_TXN_WIRE_HDR + olen, b.len);
		assert_memory_equal(hdr, b.data, STORE_TXN_WIRE_HDR);
		assert_memory_equal(ops, b.data + STORE_TXN_WIRE_HDR, olen);
		assert_int_equal(store_txn_touch(t, "c", O("x")), -EBUSY);
		assert_int_equal(store_txn_share(t, hdr, &ops, &olen, count_release, &released),
				 -EBUSY);
		wire = malloc(b.len);
		memcpy(wire, b.data, b.len);
		assert_int_equal(store_txn_decode_owned(w, wire, b.len - 1), -EBADMSG);
		assert_int_equal(store_txn_decode_owned(w, wire, b.len), 0);
		assert_int_equal(store_txn_num_ops(w), 17);
		cbuf_reset(&b2);
		assert_int_equal(store_txn_encode(w, &b2), 0);
		assert_int_equal(b2.len, b.len);
		assert_memory_equal(b2.data, b.data, b.len);
		assert_int_equal(store_txn_decode_owned(w, b.data, b.len), -EBUSY);
		store_txn_free(w); /* frees wire (valgrind/asan would tell) */
		store_txn_free(t);
		t = NULL;
		assert_int_equal(released, 1);
		free(ops);
	}
	cbuf_free(&b);
	cbuf_free(&b2);
	store_txn_free(t);
	store_txn_free(u);
}

/* Random ops on a few objects against a byte-array model; checks after every txn, and after
 * reopen. Small chunks (4K) so that objects span many chunks. */
#define MODEL_MAX (96 * 1024)
struct mobj {
	uint8_t data[MODEL_MAX];
	uint64_t size;
	int exists;
};

static void model_check(struct fx *f, struct mobj *m, int nobj)
{
	static uint8_t buf[MODEL_MAX + 100];
	char name[8];

	for (int i = 0; i < nobj; i++) {
		snprintf(name, sizeof(name), "m%d", i);
		ssize_t r = store_read(f->s, "m", O(name), 0, sizeof(buf), buf);

		if (!m[i].exists) {
			assert_int_equal(r, -ENOENT);
			continue;
		}
		assert_int_equal(r, (ssize_t)m[i].size);
		assert_memory_equal(buf, m[i].data, m[i].size);
		/* a random sub-range */
		uint64_t off = rand_u64() % (m[i].size + 10), len = rand_u64() % 9000;
		r = store_read(f->s, "m", O(name), off, len, buf);
		uint64_t exp = off >= m[i].size ? 0 : (m[i].size - off < len ? m[i].size - off : len);
		assert_int_equal(r, (ssize_t)exp);
		if (exp)
			assert_memory_equal(buf, m[i].data + off, exp);
	}
}

static void test_model(void **state)
{
	struct fx *f = *state;
	const int nobj = 4;
	struct mobj *m = calloc(nobj, sizeof(*m)), *m2 = malloc(nobj * sizeof(*m));
	static uint8_t tmp[MODEL_MAX];
	char name[8], name2[8];

	mkcoll(f, "m");
	for (int round = 0; round < 300; round++) {
		struct store_txn *t = store_txn_new();
		int nops = 1 + (int)(rand_u64() % 4);

		memcpy(m2, m, nobj * sizeof(*m));
		for (int k = 0; k < nops; k++) {
			int i = (int)(rand_u64() % nobj), j = (int)(rand_u64() % nobj);
			struct mobj *o = &m2[i];
			uint64_t off = rand_u64() % (MODEL_MAX / 2), len = rand_u64() % (MODEL_MAX / 2);
			int op = (int)(rand_u64() % 7);

			snprintf(name, sizeof(name), "m%d", i);
			snprintf(name2, sizeof(name2), "m%d", j);
			if (rand_u64() % 3 == 0)
				len = rand_u64() % 64;
			switch (op) {
			case 0:
			case 1:
				for (uint64_t x = 0; x < len; x++)
					tmp[x] = (uint8_t)rand_u64();
				store_txn_write(t, "m", O(name), off, len, tmp);
				memcpy(o->data + off, tmp, len);
				if (!o->exists || off + len > o->size) {
					if (!o->exists)
						o->size = 0;
					o->size = off + len > o->size ? off + len : o->size;
				}
				o->exists = 1;
				break;
			case 2:
				store_txn_zero(t, "m", O(name), off, len);
				if (!o->exists)
					o->size = 0;
				memset(o->data + off, 0, len);
				if (off + len > o->size)
					o->size = off + len;
				o->exists = 1;
				break;
			case 3:
				store_txn_truncate(t, "m", O(name), off);
				if (!o->exists)
					o->size = 0;
				if (off < o->size)
					memset(o->data + off, 0, o->size - off);
				o->size = off;
				o->exists = 1;
				break;
			case 4:
				if (!o->exists || i == j)
					break;
				store_txn_clone(t, "m", O(name), O(name2));
				m2[j] = *o;
				break;
			case 5:
				if (!o->exists || i == j)
					break;
				store_txn_clone_range(t, "m", O(name), off, len, O(name2), len);
				if (!m2[j].exists) {
					memset(m2[j].data, 0, MODEL_MAX);
					m2[j].size = 0;
				}
				for (uint64_t x = 0; x < len; x++)
					tmp[x] = off + x < o->size ? o->data[off + x] : 0;
				memcpy(m2[j].data + len, tmp, len);
				if (2 * len > m2[j].size)
					m2[j].size = 2 * len;
				m2[j].exists = 1;
				break;
			case 6:
				if (!o->exists)
					break;
				store_txn_remove(t, "m", O(name));
				memset(o->data, 0, MODEL_MAX);
				o->size = 0;
				o->exists = 0;
				break;
			}
		}
		if (store_txn_num_ops(t) == 0) {
			store_txn_free(t);
			continue;
		}
		assert_int_equal(apply(f, t), 0);
		memcpy(m, m2, nobj * sizeof(*m));
		model_check(f, m, nobj);
		if (round % 100 == 99)
			reopen(f);
	}
	assert_int_equal(store_fsck(f->s, NULL, NULL), 0);
	free(m);
	free(m2);
}

/* Transactions queued back to back are applied as groups (one RocksDB write); one that
 * fails in the middle of a group must vanish without taking its neighbours along. */
static int grp_rc[60];
static void grp_cb(void *arg, int rc) { grp_rc[(intptr_t)arg] = rc == 0 ? 1 : rc; }

static void test_group_failure(void **state)
{
	static uint8_t big[70000];
	struct fx *f = *state;
	uint8_t buf[1024], exp[1024];
	char v[10];

	mkcoll(f, "g");
	memset(exp, 0, sizeof(exp));
	for (int i = 0; i < 60; i++) {
		struct store_txn *t = store_txn_new();

		snprintf(v, sizeof(v), "%09d", i);
		if (i % 3 == 1) {
			/* writes, then fails: nothing of it may show */
			store_txn_write(t, "g", O("obj"), (uint64_t)i * 10, 10, "XXXXXXXXXX");
			store_txn_setattr(t, "g", O("obj"), "bad", "1", 1);
			store_txn_touch(t, "missing", O("x"));
		} else {
			store_txn_write(t, "g", O("obj"), (uint64_t)i * 10, 10, v);
			memcpy(exp + i * 10, v, 10);
			if (i % 5 == 0) /* big enough for slots in the direct setup */
				store_txn_write(t, "g", O("big"), 0, sizeof(big), big);
		}
		assert_int_equal(store_queue_txn(f->s, t, NULL, grp_cb, (void *)(intptr_t)i), 0);
	}
	struct store_txn *t = store_txn_new();
	store_txn_touch(t, "g", O("end"));
	assert_int_equal(apply(f, t), 0);
	for (int i = 0; i < 60; i++)
		assert_int_equal(grp_rc[i], i % 3 == 1 ? -ENOENT : 1);
	assert_int_equal(size_of(f, "g", "obj"), 600);
	assert_int_equal(store_read(f->s, "g", O("obj"), 0, sizeof(buf), buf), 600);
	assert_memory_equal(buf, exp, 600);
	struct cbuf b;
	cbuf_init(&b);
	assert_int_equal(store_getattr(f->s, "g", O("obj"), "bad", &b), -ENODATA);
	cbuf_free(&b);
	assert_int_equal(store_fsck(f->s, NULL, NULL), 0);
	reopen(f);
	assert_int_equal(store_read(f->s, "g", O("obj"), 0, sizeof(buf), buf), 600);
	assert_memory_equal(buf, exp, 600);
	assert_int_equal(store_fsck(f->s, NULL, NULL), 0);
}

/* Slot writes in flight (store_dio_depth): transactions queued back to back land in one
 * group, so a small overwrite, a clone and a read-modify-write read slots that an earlier
 * transaction of the same group wrote a moment before; each must see those bytes. One
 * transaction fails after writing slots: they go back to the allocator and the next big
 * write takes them at once, which must not race with the failed one's writes. */
#define FLIGHT_OBJS 4
#define FLIGHT_SIZE (1u << 20)
#define FLIGHT_TXNS (8 * FLIGHT_OBJS * 2)
static int flight_rc[FLIGHT_TXNS];
static void flight_cb(void *arg, int rc) { flight_rc[(intptr_t)arg] = rc == 0 ? 1 : rc; }

static void test_slots_in_flight(void **state)
{
	struct fx *f = *state;
	uint8_t *exp = calloc(FLIGHT_OBJS, FLIGHT_SIZE), *buf = malloc(FLIGHT_SIZE);
	uint8_t *data = malloc(FLIGHT_SIZE);
	intptr_t n = 0, failed = -1;
	char o[16], cl[16];

	memset(flight_rc, 0, sizeof(flight_rc));
	mkcoll(f, "f");
	for (int round = 0; round < 8; round++) {
		for (int i = 0; i < FLIGHT_OBJS; i++) {
			uint8_t *e = exp + (size_t)i * FLIGHT_SIZE;
			bool fail = round == 5 && i == 1;
			struct store_txn *t = store_txn_new();

			for (size_t b = 0; b < FLIGHT_SIZE; b++)
				data[b] = (uint8_t)(b * (unsigned)(round * 7 + i + 1) + (b >> 12));
			snprintf(o, sizeof(o), "o%d", i);
			assert_int_equal(store_txn_write(t, "f", O(o), 0, FLIGHT_SIZE, data), 0);
			if (fail) { /* writes its slots, then fails */
				assert_int_equal(store_txn_touch(t, "missing", O("x")), 0);
				failed = n;
			} else {
				memcpy(e, data, FLIGHT_SIZE);
			}
			assert_int_equal(store_queue_txn(f->s, t, NULL, flight_cb, (void *)n++), 0);
			/* right behind it: 100 bytes inside chunk 1 (read back from the slot), and
			 * on odd rounds a clone (copies every chunk) */
			t = store_txn_new();
			memset(data, 0xA0 + i, 100);
			memcpy(e + 5000 + round, data, 100);
			assert_int_equal(store_txn_write(t, "f", O(o), 5000 + (uint64_t)round, 100, data),
					 0);
			if (round % 2) {
				snprintf(cl, sizeof(cl), "c%d", i);
				assert_int_equal(store_txn_clone(t, "f", O(o), O(cl)), 0);
			}
			assert_int_equal(store_queue_txn(f->s, t, NULL, flight_cb, (void *)n++), 0);
		}
	}
	struct store_txn *t = store_txn_new();
	store_txn_touch(t, "f", O("end"));
	assert_int_equal(apply(f, t), 0);
	for (intptr_t k = 0; k < n; k++)
		assert_int_equal(flight_rc[k], k == failed ? -ENOENT : 1);
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < 2 * FLIGHT_OBJS; i++) {
			/* the clones were made after the last round's writes: same bytes */
			snprintf(o, sizeof(o), "%c%d", i < FLIGHT_OBJS ? 'o' : 'c', i % FLIGHT_OBJS);
			assert_int_equal(store_read(f->s, "f", O(o), 0, FLIGHT_SIZE, buf),
					 (ssize_t)FLIGHT_SIZE);
			assert_memory_equal(buf, exp + (size_t)(i % FLIGHT_OBJS) * FLIGHT_SIZE,
					    FLIGHT_SIZE);
		}
		assert_int_equal(store_fsck(f->s, NULL, NULL), 0);
		reopen(f);
	}
	free(exp);
	free(buf);
	free(data);
}

/* One transaction touching more slot-bitmap groups than the apply cache holds (5 groups of
 * 1024 slots), then overwrites, removal and reuse: fsck (which checks every slot chunk
 * against the bitmap) stays clean, also after reopen. */
/* multi-chunk reads: runs of consecutive slots read in one pread, each chunk verified */
/* a new collection c holding object o: n bytes of a pattern (mul), read back whole */
static void put_pattern_read_back(struct fx *f, const char *c, const char *o, uint8_t *data,
				  uint8_t *buf, size_t n, unsigned mul)
{
	for (size_t i = 0; i < n; i++)
		data[i] = (uint8_t)(i * mul + (i >> 12));
	mkcoll(f, c);
	put(f, c, o, 0, data, n);
	assert_int_equal(store_read(f->s, c, o, strlen(o), 0, n, buf), (ssize_t)n);
	assert_memory_equal(buf, data, n);
}

static void test_run_reads(void **state)
{
	struct fx *f = *state;
	const size_t n = 1u << 20;
	uint8_t *data = malloc(n), *buf = malloc(n + 8192), *exp = calloc(1, n);

	put_pattern_read_back(f, "q", "a", data, buf, n, 7);
	/* unaligned start and end, and past EOF */
	assert_int_equal(store_read(f->s, "q", O("a"), 1000, n, buf), (ssize_t)(n - 1000));
	assert_memory_equal(buf, data + 1000, n - 1000);
	assert_int_equal(store_read(f->s, "q", O("a"), 5000, 300000, buf), 300000);
	assert_memory_equal(buf, data + 5000, 300000);
	/* holes between two slot extents, a short tail, an inline chunk inside a run */
	put(f, "q", "h", 0, data, 256u << 10);
	put(f, "q", "h", 512u << 10, data + (512u << 10), (256u << 10) + 100);
	put(f, "q", "h", 100u << 10, "z", 1);
	memcpy(exp, data, 256u << 10);
	memcpy(exp + (512u << 10), data + (512u << 10), (256u << 10) + 100);
	exp[100u << 10] = 'z';
	memset(buf, 0xee, n);
	assert_int_equal(store_read(f->s, "q", O("h"), 0, n, buf), (ssize_t)((768u << 10) + 100));
	assert_memory_equal(buf, exp, (768u << 10) + 100);
	assert_int_equal(store_read(f->s, "q", O("h"), 3, 700000, buf), 700000);
	assert_memory_equal(buf, exp + 3, 700000);
	/* a flipped byte in the middle of a run fails the read; the rest still reads */
	assert_int_equal(store_debug_corrupt(f->s, "q", O("a"), 500000), 0);
	memset(buf, 0, n);
	assert_int_equal(store_read(f->s, "q", O("a"), 0, n, buf), -EIO);
	for (size_t i = 400000; i < 600000; i++)
		assert_true(buf[i] == data[i] || buf[i] == 0); /* never the damaged bytes */
	assert_int_equal(store_read(f->s, "q", O("a"), 0, 480000, buf), 480000);
	assert_memory_equal(buf, data, 480000);
	assert_int_equal(store_read(f->s, "q", O("a"), 520000, n - 520000, buf),
			 (ssize_t)(n - 520000));
	assert_memory_equal(buf, data + 520000, n - 520000);
	free(data);
	free(buf);
	free(exp);
}

/* pages of the data file in the page cache (mincore over a mapping of it) */
static size_t data_file_resident(struct fx *f)
{
	char p[128];
	struct stat st;
	size_t pg = (size_t)sysconf(_SC_PAGESIZE), n, res = 0;
	unsigned char *vec;
	void *m;
	int fd;

	snprintf(p, sizeof(p), "%s/data", f->dir);
	fd = open(p, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	n = ((size_t)st.st_size + pg - 1) / pg;
	m = mmap(NULL, n * pg, PROT_READ, MAP_SHARED, fd, 0);
	assert_true(m != MAP_FAILED);
	vec = calloc(n, 1);
	assert_int_equal(mincore(m, n * pg, vec), 0);
	for (size_t i = 0; i < n; i++)
		res += vec[i] & 1;
	free(vec);
	munmap(m, n * pg);
	close(fd);
	return res;
}

/* A read of slot data leaves its pages out of the page cache (store_slot_read_cache off, the
 * default); with the option on they stay. Slot writes bypass the cache (O_DIRECT). */
static void test_slot_reads_uncached(void **state)
{
	struct fx *f = *state;
	const size_t n = 1u << 20, pg = (size_t)sysconf(_SC_PAGESIZE);
	uint8_t *data = malloc(n), *buf = malloc(n);
	struct statfs sf;
	char err[128];

	assert_int_equal(statfs(f->dir, &sf), 0);
	if (sf.f_type == TMPFS_MAGIC) { /* no O_DIRECT, nothing to drop */
		print_message("test_slot_reads_uncached: %s is tmpfs, skipped\n", f->dir);
		free(data);
		free(buf);
		return;
	}
	put_pattern_read_back(f, "u", "big", data, buf, n, 13);
	/* at most the kernel's readahead past the object may stay */
	assert_true(data_file_resident(f) < n / pg / 2);
	store_close(f->s);
	f->s = NULL;
	assert_int_equal(conf_set(f->conf, "store_slot_read_cache", "true", err, sizeof(err)), 0);
	assert_int_equal(store_open(&f->s, f->dir, f->conf), 0);
	assert_int_equal(store_read(f->s, "u", O("big"), 0, n, buf), (ssize_t)n);
	assert_memory_equal(buf, data, n);
	assert_true(data_file_resident(f) >= n / pg);
	free(data);
	free(buf);
}

/* Large reads of slot data: runs whose buffer is 4 KiB aligned are read with O_DIRECT
 * (store_direct_reads), others through the page cache; both give the same bytes for any
 * offset and length, and both refuse a flipped bit. */
static void test_direct_reads(void **state)
{
	struct fx *f = *state;
	const size_t n = (1u << 20) + 5000;
	const uint64_t offs[] = { 0, 4096, 100, 8192 + 7, n - 70000 };
	const size_t lens[] = { n, 65536, 65537, 3, 300000 };
	uint8_t *data = malloc(n), *plain = malloc(n + 1), *aligned = NULL;
	struct store_stat st;
	struct cbuf out;

	assert_int_equal(posix_memalign((void **)&aligned, 4096, n), 0);
	put_pattern_read_back(f, "d", "big", data, plain, n, 29);
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
			for (size_t j = 0; j < sizeof(lens) / sizeof(lens[0]); j++) {
				size_t want = offs[i] + lens[j] > n ? n - offs[i] : lens[j];
				uint8_t *bufs[2] = { aligned, plain + 1 };

				for (int b = 0; b < 2; b++) {
					memset(bufs[b], 0, want);
					assert_int_equal(store_read(f->s, "d", O("big"), offs[i], lens[j],
								    bufs[b]),
							 (ssize_t)want);
					assert_memory_equal(bufs[b], data + offs[i], want);
				}
				/* into an empty cbuf (aligned by the store) and a used one */
				for (int b = 0; b < 2; b++) {
					cbuf_init(&out);
					if (b)
						enc_u8(&out, 0xEE);
					assert_int_equal(store_read_stat(f->s, "d", O("big"), offs[i],
									 lens[j], n, &out, &st),
							 (ssize_t)want);
					assert_int_equal(out.len, want + (size_t)b);
					assert_memory_equal(out.data + b, data + offs[i], want);
					assert_int_equal(st.size, n);
					cbuf_free(&out);
				}
			}
		}
		reopen(f); /* second pass: nothing cached by the first */
	}
	/* a flipped bit in chunk 3 fails both kinds of read, and only reads that cover it */
	assert_int_equal(store_debug_corrupt(f->s, "d", O("big"), 3 * 4096 + 17), 0);
	assert_int_equal(store_read(f->s, "d", O("big"), 0, n, aligned), -EIO);
	assert_int_equal(store_read(f->s, "d", O("big"), 0, n, plain + 1), -EIO);
	assert_int_equal(store_read(f->s, "d", O("big"), 4 * 4096, 65536, aligned), 65536);
	assert_memory_equal(aligned, data + 4 * 4096, 65536);
	cbuf_init(&out);
	assert_int_equal(store_read_stat(f->s, "d", O("big"), 0, 0, n, &out, &st), -EIO);
	cbuf_free(&out);
	free(data);
	free(plain);
	free(aligned);
}

/* store_read_stat: the bytes of store_read and the stat of store_stat in one call */
static void test_read_stat(void **state)
{
	struct fx *f = *state;
	const size_t n = 300000;
	uint8_t *data = malloc(n), *buf = malloc(n);
	struct store_stat st, st2;
	struct cbuf out;

	for (size_t i = 0; i < n; i++)
		data[i] = (uint8_t)(i * 13 + (i >> 12));
	mkcoll(f, "r");
	put(f, "r", "a", 0, data, n);
	put(f, "r", "s", 0, "small", 5);
	cbuf_init(&out);
	enc_raw(&out, "xy", 2); /* appends after what out holds */
	memset(&st, 0, sizeof(st));
	assert_int_equal(store_read_stat(f->s, "r", O("a"), 1000, 0, n, &out, &st),
			 (ssize_t)(n - 1000));
	assert_int_equal(out.len, 2 + n - 1000);
	assert_memory_equal(out.data, "xy", 2);
	assert_memory_equal(out.data + 2, data + 1000, n - 1000);
	assert_int_equal(store_stat(f->s, "r", O("a"), &st2), 0);
	assert_int_equal(st.size, n);
	assert_int_equal(st.mtime_ns, st2.mtime_ns);
	/* a bounded length, a small inline object, past EOF */
	cbuf_reset(&out);
	assert_int_equal(store_read_stat(f->s, "r", O("a"), 5, 4096, n, &out, &st), 4096);
	assert_memory_equal(out.data, data + 5, 4096);
	cbuf_reset(&out);
	assert_int_equal(store_read_stat(f->s, "r", O("s"), 0, 0, n, &out, &st), 5);
	assert_memory_equal(out.data, "small", 5);
	assert_int_equal(st.size, 5);
	assert_int_equal(store_read_stat(f->s, "r", O("s"), 9, 0, n, &out, &st), 0);
	assert_int_equal(out.len, 5);
	/* more than max would be returned: -EFBIG, nothing appended; a bounded read still works */
	assert_int_equal(store_read_stat(f->s, "r", O("a"), 0, 0, n - 1, &out, &st), -EFBIG);
	assert_int_equal(out.len, 5);
	assert_int_equal(store_read_stat(f->s, "r", O("a"), 0, 10, 10, &out, &st), 10);
	assert_int_equal(out.len, 15);
	assert_int_equal(store_read_stat(f->s, "r", O("nope"), 0, 0, n, &out, &st), -ENOENT);
	assert_int_equal(out.len, 15);
	/* a damaged chunk: -EIO and out unchanged */
	assert_int_equal(store_debug_corrupt(f->s, "r", O("a"), 200000), 0);
	assert_int_equal(store_read_stat(f->s, "r", O("a"), 0, 0, n, &out, &st), -EIO);
	assert_int_equal(out.len, 15);
	assert_int_equal(store_read(f->s, "r", O("a"), 0, n, buf), -EIO);
	cbuf_free(&out);
	free(data);
	free(buf);
}

/* store_read_stat_cached: served from memory or -EWOULDBLOCK, never a wait on the disk */
static void test_read_stat_cached(void **state)
{
	struct fx *f = *state;
	const size_t n = 300000;
	uint8_t *data = malloc(n);
	struct store_stat st;
	struct cbuf out;

	for (size_t i = 0; i < n; i++)
		data[i] = (uint8_t)(i * 7 + (i >> 10));
	mkcoll(f, "c");
	put(f, "c", "small", 0, data, 4096); /* inline chunk: in the memtable */
	put(f, "c", "big", 0, data, n);      /* large write: data in slots of the data file */
	cbuf_init(&out);
	assert_int_equal(store_read_stat_cached(f->s, "c", O("small"), 0, 0, n, &out, &st), 4096);
	assert_memory_equal(out.data, data, 4096);
	assert_int_equal(st.size, 4096);
	assert_int_equal(store_read_stat_cached(f->s, "c", O("nope"), 0, 0, n, &out, &st), -ENOENT);
	/* slot data is on disk: would block, nothing appended */
	assert_int_equal(store_read_stat_cached(f->s, "c", O("big"), 0, 0, n, &out, &st),
			 -EWOULDBLOCK);
	assert_int_equal(out.len, 4096);
	/* after a reopen the records are in SST files and the block cache is cold */
	reopen(f);
	cbuf_reset(&out);
	assert_int_equal(store_read_stat_cached(f->s, "c", O("small"), 0, 0, n, &out, &st),
			 -EWOULDBLOCK);
	assert_int_equal(out.len, 0);
	/* partly cached (the first chunk's block only): still -EWOULDBLOCK, never a partial
	 * answer with holes where the uncached records are */
	put(f, "c", "many", 0, data, 61440); /* 15 inline chunks, several 16K blocks */
	reopen(f);
	cbuf_reset(&out);
	assert_int_equal(store_read_stat(f->s, "c", O("many"), 0, 4096, n, &out, &st), 4096);
	cbuf_reset(&out);
	assert_int_equal(store_read_stat_cached(f->s, "c", O("many"), 0, 0, n, &out, &st),
			 -EWOULDBLOCK);
	assert_int_equal(out.len, 0);
	/* a normal read brings the blocks into the cache; then it is served from memory */
	assert_int_equal(store_read_stat(f->s, "c", O("small"), 0, 0, n, &out, &st), 4096);
	cbuf_reset(&out);
	assert_int_equal(store_read_stat_cached(f->s, "c", O("small"), 100, 50, n, &out, &st), 50);
	assert_memory_equal(out.data, data + 100, 50);
	cbuf_free(&out);
	free(data);
}

/* Writes 4 KiB objects into a store with a 1 MiB journal until a checkpoint has flushed
 * the first of them to an SST file, then asks for it from memory only: with
 * store_cache_on_flush the flush put its block into the block cache. */
static ssize_t read_cached_after_flush(const char *on)
{
	char dir[64] = "/tmp/test_store_flush.XXXXXX", err[128], oid[32];
	struct cairn_conf *conf = conf_defaults();
	struct store_counters c = { 0 };
	struct store_stat st;
	struct store *s = NULL;
	uint8_t data[4096];
	struct cbuf out;
	ssize_t r;
	int i;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(conf_set(conf, "store_journal_size", "1M", err, sizeof(err)), 0);
	assert_int_equal(conf_set(conf, "store_cache_on_flush", on, err, sizeof(err)), 0);
	assert_int_equal(store_mkfs(dir, conf), 0);
	assert_int_equal(store_open(&s, dir, conf), 0);
	{
		struct store_txn *t = store_txn_new();

		assert_int_equal(store_txn_coll_create(t, "c"), 0);
		assert_int_equal(store_apply_txn(s, t), 0);
	}
	memset(data, 0x5a, sizeof(data));
	for (i = 0; i < 4000 && !c.journal_checkpoints; i++) {
		struct store_txn *t = store_txn_new();

		snprintf(oid, sizeof(oid), "o%d", i);
		assert_int_equal(store_txn_write(t, "c", O(oid), 0, sizeof(data), data), 0);
		assert_int_equal(store_apply_txn(s, t), 0);
		store_get_counters(s, &c);
	}
	assert_true(c.journal_checkpoints > 0);
	cbuf_init(&out);
	r = store_read_stat_cached(s, "c", O("o0"), 0, 0, sizeof(data), &out, &st);
	if (r == (ssize_t)sizeof(data))
		assert_memory_equal(out.data, data, sizeof(data));
	cbuf_free(&out);
	store_close(s);
	conf_free(conf);
	rm_rf(dir);
	return r;
}

static void test_cache_on_flush(void **state)
{
	(void)state;
	assert_int_equal(read_cached_after_flush("true"), 4096);
	assert_int_equal(read_cached_after_flush("false"), -EWOULDBLOCK);
}

static void test_big_slots(void **state)
{
	struct fx *f = *state;
	const size_t n = 21u << 20;
	uint8_t *data = malloc(n), *buf = malloc(n);
	struct store_txn *t;
	struct store_statfs sf;
	struct store_counters c;

	for (size_t i = 0; i < n; i++)
		data[i] = (uint8_t)(i * 31 + (i >> 12));
	mkcoll(f, "b");
	put(f, "b", "huge", 0, data, n);
	assert_int_equal(store_fsck(f->s, NULL, NULL), 0);
	/* 4K overwrites spread over every group, and a second big object, in one txn */
	t = store_txn_new();
	for (size_t off = 4096; off < n; off += 1u << 20) {
		store_txn_write(t, "b", O("huge"), off, 4096, data + n - 4096);
		memcpy(data + off, data + n - 4096, 4096);
	}
	store_txn_write(t, "b", O("huge2"), 0, n, data);
	assert_int_equal(apply(f, t), 0);
	assert_int_equal(store_fsck(f->s, NULL, NULL), 0);
	assert_int_equal(store_read(f->s, "b", O("huge"), 0, n, buf), (ssize_t)n);
	assert_memory_equal(buf, data, n);
	reopen(f);
	assert_int_equal(store_fsck(f->s, NULL, NULL), 0);
	t = store_txn_new();
	store_txn_remove(t, "b", O("huge"));
	assert_int_equal(apply(f, t), 0);
	/* the freed slots are reused by the next big write */
	put(f, "b", "huge3", 0, data, n);
	assert_int_equal(store_fsck(f->s, NULL, NULL), 0);
	assert_int_equal(store_read(f->s, "b", O("huge3"), 0, n, buf), (ssize_t)n);
	assert_memory_equal(buf, data, n);
	assert_int_equal(store_read(f->s, "b", O("huge2"), 0, n, buf), (ssize_t)n);
	assert_memory_equal(buf, data, n);
	reopen(f);
	assert_int_equal(store_fsck(f->s, NULL, NULL), 0);
	assert_int_equal(store_statfs(f->s, &sf), 0);
	assert_int_equal(sf.objects, 2);
	store_get_counters(f->s, &c);
	printf("# used %llu (journal %llu), n %zu\n", (unsigned long long)sf.used,
	       (unsigned long long)c.journal_size, n);
	/* slots reused: the data file holds ~2 objects' worth, not 3 (the journal's ring is a
	 * fixed size, written at mkfs) */
	assert_true(sf.used - c.journal_size < 3 * (uint64_t)n);
	free(data);
	free(buf);
}

/* Data runs (one record per up to 256 slot chunks): a partial overwrite splits a run, a big
 * overwrite across two runs trims both, zero and truncate inside a run, clone and
 * clone_range of runs, and a flipped byte inside a run fails only that chunk's reads. */
static void runs_check(struct fx *f, const char *o, const uint8_t *exp, size_t n, uint8_t *buf)
{
	assert_int_equal(store_read(f->s, "u", O(o), 0, n + 4096, buf), (ssize_t)n);
	assert_memory_equal(buf, exp, n);
	/* small reads (the seek-for-prev path) at a few places */
	for (size_t off = 3; off < n; off += 123457) {
		size_t len = n - off < 5000 ? n - off : 5000;

		assert_int_equal(store_read(f->s, "u", O(o), off, 5000, buf), (ssize_t)len);
		assert_memory_equal(buf, exp + off, len);
	}
}

static void test_runs(void **state)
{
	struct fx *f = *state;
	const size_t n = 2u << 20, cs = 4096;
	uint8_t *data = malloc(n), *exp = malloc(n), *buf = malloc(n + 4096);
	struct badlist bl = { 0 };
	struct store_txn *t;
	size_t size = n;

	for (size_t i = 0; i < n; i++)
		data[i] = (uint8_t)(i * 29 + (i >> 12));
	mkcoll(f, "u");
	put(f, "u", "a", 0, data, n); /* 512 chunks: two runs of 256 */
	memcpy(exp, data, n);
	runs_check(f, "a", exp, size, buf);
	/* a partial overwrite splits a run (before | one chunk | after) */
	put(f, "u", "a", 300000, "partial", 7);
	memcpy(exp + 300000, "partial", 7);
	runs_check(f, "a", exp, size, buf);
	/* an aligned 4K overwrite inside a run, and a big unaligned one across both runs */
	put(f, "u", "a", 10 * cs, data + n - cs, cs);
	memcpy(exp + 10 * cs, data + n - cs, cs);
	put(f, "u", "a", (1u << 20) - 70000, data, 150001);
	memcpy(exp + (1u << 20) - 70000, data, 150001);
	runs_check(f, "a", exp, size, buf);
	assert_int_equal(store_fsck(f->s, bad_cb, &bl), 0);
	/* zero inside a run, then truncate inside a run and grow again */
	t = store_txn_new();
	store_txn_zero(t, "u", O("a"), 1500000, 70001);
	store_txn_truncate(t, "u", O("a"), 1800000 + 123);
	store_txn_truncate(t, "u", O("a"), 1900000);
	assert_int_equal(apply(f, t), 0);
	memset(exp + 1500000, 0, 70001);
	memset(exp + 1800000 + 123, 0, n - 1800000 - 123);
	size = 1900000;
	runs_check(f, "a", exp, size, buf);
	assert_int_equal(store_fsck(f->s, bad_cb, &bl), 0);
	/* clone (a copy, inline) and clone_range out of runs */
	t = store_txn_new();
	store_txn_clone(t, "u", O("a"), O("c"));
	store_txn_clone_range(t, "u", O("a"), 200000, 900000, O("r"), 5);
	assert_int_equal(apply(f, t), 0);
	runs_check(f, "c", exp, size, buf);
	assert_int_equal(store_read(f->s, "u", O("r"), 5, 900000, buf), 900000);
	assert_memory_equal(buf, exp + 200000, 900000);
	reopen(f);
	runs_check(f, "a", exp, size, buf);
	runs_check(f, "c", exp, size, buf);
	assert_int_equal(store_fsck(f->s, bad_cb, &bl), 0);
	/* a flipped byte inside a run: -EIO for reads of that chunk only */
	put(f, "u", "b", 0, data, n);
	assert_int_equal(store_debug_corrupt(f->s, "u", O("b"), 77 * cs + 5), 0);
	assert_int_equal(store_read(f->s, "u", O("b"), 77 * cs, 1, buf), -EIO);
	assert_int_equal(store_read(f->s, "u", O("b"), 76 * cs, 3 * cs, buf), -EIO);
	assert_int_equal(store_read(f->s, "u", O("b"), 0, 77 * cs, buf), (ssize_t)(77 * cs));
	assert_memory_equal(buf, data, 77 * cs);
	assert_int_equal(store_read(f->s, "u", O("b"), 78 * cs, n - 78 * cs, buf),
			 (ssize_t)(n - 78 * cs));
	assert_memory_equal(buf, data + 78 * cs, n - 78 * cs);
	assert_int_equal(store_read(f->s, "u", O("b"), 76 * cs + 100, cs - 100, buf),
			 (ssize_t)(cs - 100));
	assert_memory_equal(buf, data + 76 * cs + 100, cs - 100);
	bl.n = 0;
	assert_int_equal(store_fsck(f->s, bad_cb, &bl), 1);
	assert_string_equal(bl.last, "u/b");
	/* a partial overwrite of the bad chunk fails; rewriting the whole chunk heals it */
	t = store_txn_new();
	store_txn_write(t, "u", O("b"), 77 * cs + 9, 1, "x");
	assert_int_equal(apply(f, t), -EIO);
	t = store_txn_new();
	store_txn_clone(t, "u", O("b"), O("d"));
	assert_int_equal(apply(f, t), -EIO);
	put(f, "u", "b", 77 * cs, data + 77 * cs, cs);
	assert_int_equal(store_read(f->s, "u", O("b"), 0, n, buf), (ssize_t)n);
	assert_memory_equal(buf, data, n);
	bl.n = 0;
	assert_int_equal(store_fsck(f->s, bad_cb, &bl), 0);
	/* remove frees every slot of every run: a new object of the same size reuses them */
	{
		struct store_statfs a, b;

		t = store_txn_new();
		store_txn_remove(t, "u", O("a"));
		store_txn_remove(t, "u", O("b"));
		assert_int_equal(apply(f, t), 0);
		assert_int_equal(store_statfs(f->s, &a), 0);
		put(f, "u", "e", 0, data, n);
		assert_int_equal(store_statfs(f->s, &b), 0);
		assert_true(b.used < a.used + n / 2);
	}
	runs_check(f, "e", data, n, buf);
	assert_int_equal(store_fsck(f->s, bad_cb, &bl), 0);
	free(data);
	free(exp);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mkfs_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_collections, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_read_edges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attrs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_omap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clone_move, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_group_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_persist_statfs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bitrot, setup, teardown),
		cmocka_unit_test(test_txn_encode),
		cmocka_unit_test_setup_teardown(test_model, setup_4k, teardown),
		cmocka_unit_test_setup_teardown(test_model, setup_direct, teardown),
		cmocka_unit_test_setup_teardown(test_model, setup_inline, teardown),
		cmocka_unit_test_setup_teardown(test_write_read_edges, setup_direct, teardown),
		cmocka_unit_test_setup_teardown(test_write_read_edges, setup_inline, teardown),
		cmocka_unit_test_setup_teardown(test_clone_move, setup_direct, teardown),
		cmocka_unit_test_setup_teardown(test_bitrot, setup_direct, teardown),
		cmocka_unit_test_setup_teardown(test_bitrot, setup_inline, teardown),
		cmocka_unit_test_setup_teardown(test_persist_statfs, setup_direct, teardown),
		cmocka_unit_test_setup_teardown(test_big_slots, setup_direct, teardown),
		cmocka_unit_test_setup_teardown(test_run_reads, setup_direct, teardown),
		cmocka_unit_test_setup_teardown(test_run_reads, setup_4k, teardown),
		cmocka_unit_test_setup_teardown(test_read_stat_cached, setup, teardown),
		cmocka_unit_test(test_cache_on_flush),
		cmocka_unit_test_setup_teardown(test_read_stat, setup_direct, teardown),
		cmocka_unit_test_setup_teardown(test_read_stat, setup_inline, teardown),
		cmocka_unit_test_setup_teardown(test_runs, setup_4k, teardown),
		cmocka_unit_test_setup_teardown(test_slot_reads_uncached, setup_4k, teardown),
		cmocka_unit_test_setup_teardown(test_group_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_failure, setup_direct, teardown),
		cmocka_unit_test_setup_teardown(test_slots_in_flight, setup, teardown),
		cmocka_unit_test_setup_teardown(test_direct_reads, setup_4k, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
