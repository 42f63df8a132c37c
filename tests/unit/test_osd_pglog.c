/* test_osd_pglog — PG log: append, reqid index, bounded trimming on disk and in memory,
 * reload from the store, and the info/entry encodings (round trip + every truncation). */
// timeout: 60
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "osd/pg_log.h"
#include "osd/store.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_osd_pglog.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static struct pg_log_entry mk(uint64_t v, uint64_t tid)
{
	char name[32];

	snprintf(name, sizeof(name), "obj-%llu", (unsigned long long)v);
	return (struct pg_log_entry){ { 3, v }, { 4, 77, tid }, PG_LOG_MODIFY, 1000 + v,
				      strdup(name) };
}

static void test_encodings(void **state)
{
	struct pg_log_entry e = mk(5, 9), o;
	struct pg_info i = { { 2, 7 }, { 3, 5 }, { 1, 0 }, 1, 2, 10, 4096 }, io;
	struct cbuf b;
	struct cdec d;

	(void)state;
	cbuf_init(&b);
	pg_log_entry_encode(&b, &e);
	cdec_init(&d, b.data, b.len);
	assert_int_equal(pg_log_entry_decode(&d, &o), 0);
	assert_string_equal(o.oid, "obj-5");
	assert_int_equal(o.version.v, 5);
	assert_true(osd_reqid_eq(&o.reqid, &e.reqid));
	pg_log_entry_clear(&o);
	for (size_t n = 0; n < b.len; n++) {
		cdec_init(&d, b.data, n);
		assert_int_not_equal(pg_log_entry_decode(&d, &o), 0);
		assert_null(o.oid);
	}
	cbuf_reset(&b);
	pg_info_encode(&b, &i);
	cdec_init(&d, b.data, b.len);
	assert_int_equal(pg_info_decode(&d, &io), 0);
	assert_int_equal(io.num_bytes, 4096);
	assert_int_equal(io.last_update.v, 5);
	for (size_t n = 0; n < b.len; n++) {
		cdec_init(&d, b.data, n);
		assert_int_not_equal(pg_info_decode(&d, &io), 0);
	}
	cbuf_free(&b);
	pg_log_entry_clear(&e);
}

static void test_append_trim_reload(void **state)
{
	const uint32_t max = 10;
	struct store *s;
	struct store_txn *t;
	struct pg_log l, l2;
	struct pg_info info = { 0 }, info2;
	struct pg_id pg = { 1, 2 };
	char meta[48];

	(void)state;
	assert_int_equal(store_mkfs(dir, NULL), 0);
	assert_int_equal(store_open(&s, dir, NULL), 0);
	pg_log_meta_oid(&pg, meta, sizeof(meta));
	t = store_txn_new();
	store_txn_coll_create(t, PG_META_COLL);
	store_txn_touch(t, PG_META_COLL, meta, strlen(meta));
	assert_int_equal(pg_log_txn_info(t, meta, &info), 0);
	assert_int_equal(store_apply_txn(s, t), 0);

	assert_int_equal(pg_log_init(&l, max), 0);
	for (uint64_t v = 1; v <= 200; v++) {
		struct pg_log_entry e = mk(v, 1000 + v);

		t = store_txn_new();
		info.last_update = e.version;
		assert_int_equal(pg_log_txn_add(&l, t, meta, &e, &info), 0);
		assert_int_equal(store_apply_txn(s, t), 0);
		pg_log_append(&l, &e);
		assert_true(l.count <= max + PG_LOG_TRIM_CHUNK);
	}
	/* the newest entries are indexed, trimmed ones are not */
	assert_non_null(pg_log_find_reqid(&l, &(struct osd_reqid){ 4, 77, 1200 }));
	assert_non_null(pg_log_find_reqid(&l, &(struct osd_reqid){ 4, 77, 1200 - max + 1 }));
	assert_null(pg_log_find_reqid(&l, &(struct osd_reqid){ 4, 77, 1001 }));
	assert_null(pg_log_find_reqid(&l, &(struct osd_reqid){ 5, 77, 1200 }));
	assert_int_equal(pg_log_at(&l, l.count - 1)->version.v, 200);
	assert_true(info.log_tail.v > 0);
	assert_int_equal(pg_log_at(&l, 0)->version.v, info.log_tail.v + 1);

	/* reload: same entries, same info */
	assert_int_equal(pg_log_init(&l2, max), 0);
	assert_int_equal(pg_log_load(&l2, s, meta, &info2), 0);
	assert_int_equal(l2.count, l.count);
	assert_int_equal(info2.last_update.v, 200);
	assert_int_equal(info2.log_tail.v, info.log_tail.v);
	for (uint32_t i = 0; i < l.count; i++) {
		assert_int_equal(pg_log_at(&l2, i)->version.v, pg_log_at(&l, i)->version.v);
		assert_string_equal(pg_log_at(&l2, i)->oid, pg_log_at(&l, i)->oid);
	}
	assert_non_null(pg_log_find_reqid(&l2, &(struct osd_reqid){ 4, 77, 1199 }));
	assert_int_equal(pg_log_load(&l2, s, "pglog.9.9", &info2), -ENOENT);
	pg_log_destroy(&l);
	pg_log_destroy(&l2);
	store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encodings),
		cmocka_unit_test_setup_teardown(test_append_trim_reload, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
