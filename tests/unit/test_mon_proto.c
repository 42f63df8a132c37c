/* test_mon_proto — common/mon_proto: every message round-trips, every proper prefix of an
 * encoding is -EBADMSG, limits are enforced, and pg_state strings parse and print. */
// timeout: 60
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/encode.h"
#include "common/mon_proto.h"
#include "common/pg_state.h"

typedef int (*dec_fn)(const void *p, size_t n);

static void check_prefixes(const struct cbuf *b, dec_fn fn)
{
	for (size_t n = 0; n < b->len; n++)
		if (fn(b->data, n) != -EBADMSG)
			fail_msg("prefix %zu of %zu decoded", n, b->len);
	assert_int_equal(fn(b->data, b->len), 0);
}

static int dec_sub(const void *p, size_t n)
{
	struct mon_subscribe s;
	return mon_subscribe_decode(&s, p, n);
}
static int dec_osdmap(const void *p, size_t n)
{
	struct mon_osdmap_msg m;
	int e = mon_osdmap_msg_decode(&m, p, n);
	if (!e)
		mon_osdmap_msg_free(&m);
	return e;
}
static int dec_get(const void *p, size_t n)
{
	struct mon_get_osdmap g;
	return mon_get_osdmap_decode(&g, p, n);
}
static int dec_boot(const void *p, size_t n)
{
	struct mon_osd_boot b;
	return mon_osd_boot_decode(&b, p, n);
}
static int dec_fail_(const void *p, size_t n)
{
	struct mon_osd_failure f;
	return mon_osd_failure_decode(&f, p, n);
}
static int dec_alive(const void *p, size_t n)
{
	struct mon_osd_alive a;
	return mon_osd_alive_decode(&a, p, n);
}
static int dec_stats(const void *p, size_t n)
{
	struct mon_pg_stats s;
	int e = mon_pg_stats_decode(&s, p, n);
	if (!e)
		mon_pg_stats_free(&s);
	return e;
}
static int dec_cmd(const void *p, size_t n)
{
	struct mon_command c;
	int e = mon_command_decode(&c, p, n);
	if (!e)
		mon_command_free(&c);
	return e;
}
static int dec_reply(const void *p, size_t n)
{
	struct mon_command_reply r;
	int e = mon_command_reply_decode(&r, p, n);
	if (!e)
		mon_command_reply_free(&r);
	return e;
}

static int dec_pgla(const void *p, size_t n)
{
	struct mon_pg_la_msg m;
	int e = mon_pg_la_msg_decode(&m, p, n);
	if (!e)
		mon_pg_la_msg_free(&m);
	return e;
}

static void test_small_messages(void **state)
{
	struct cbuf b;
	struct mon_subscribe s = {.n = 2}, s2;
	struct mon_get_osdmap g = {.start = 5, .end = 9, .full = 1}, g2;
	struct mon_osd_boot bt, bt2;
	struct mon_osd_failure f = {.reporter = 1, .target = 2, .failed_for = 30, .epoch = 7,
				    .flags = MON_FAILURE_ALIVE},
			       f2;
	struct mon_osd_alive a = {.id = 3, .want_up_thru = 12, .epoch = 12}, a2;

	(void)state;
	s.items[0] = (struct mon_sub_item){MON_SUB_OSDMAP, 17, 0};
	s.items[1] = (struct mon_sub_item){MON_SUB_MDSMAP, 0, MON_SUB_ONETIME};
	cbuf_init(&b);
	assert_int_equal(mon_subscribe_encode(&s, &b), 0);
	assert_int_equal(mon_subscribe_decode(&s2, b.data, b.len), 0);
	assert_memory_equal(&s, &s2, sizeof(s));
	check_prefixes(&b, dec_sub);

	cbuf_reset(&b);
	mon_get_osdmap_encode(&g, &b);
	assert_int_equal(mon_get_osdmap_decode(&g2, b.data, b.len), 0);
	assert_int_equal(g2.start, 5);
	assert_int_equal(g2.end, 9);
	assert_int_equal(g2.full, 1);
	check_prefixes(&b, dec_get);

	memset(&bt, 0, sizeof(bt));
	bt.id = 4;
	bt.uuid[3] = 9;
	snprintf(bt.addr, sizeof(bt.addr), "127.0.0.1:6801");
	snprintf(bt.host, sizeof(bt.host), "host-b");
	bt.store_bytes = 1ULL << 40;
	bt.weight = 0x18000;
	bt.epoch = 3;
	cbuf_reset(&b);
	mon_osd_boot_encode(&bt, &b);
	assert_int_equal(mon_osd_boot_decode(&bt2, b.data, b.len), 0);
	assert_memory_equal(&bt, &bt2, sizeof(bt));
	check_prefixes(&b, dec_boot);

	cbuf_reset(&b);
	mon_osd_failure_encode(&f, &b);
	assert_int_equal(mon_osd_failure_decode(&f2, b.data, b.len), 0);
	assert_memory_equal(&f, &f2, sizeof(f));
	check_prefixes(&b, dec_fail_);

	cbuf_reset(&b);
	mon_osd_alive_encode(&a, &b);
	assert_int_equal(mon_osd_alive_decode(&a2, b.data, b.len), 0);
	assert_memory_equal(&a, &a2, sizeof(a));
	check_prefixes(&b, dec_alive);
	cbuf_free(&b);
}

static void test_osdmap_msg(void **state)
{
	struct mon_map_blob full[1] = {{10, (const uint8_t *)"FULLMAP", 7}};
	struct mon_map_blob inc[3] = {{11, (const uint8_t *)"a", 1},
				      {12, (const uint8_t *)"bb", 2},
				      {13, (const uint8_t *)"", 0}};
	struct mon_osdmap_msg m = {.oldest = 1, .newest = 13, .num_full = 1, .full = full,
				   .num_inc = 3, .inc = inc},
			      m2;
	struct cbuf b;

	(void)state;
	m.fsid[0] = 0xaa;
	cbuf_init(&b);
	assert_int_equal(mon_osdmap_msg_encode(&m, &b), 0);
	assert_int_equal(mon_osdmap_msg_decode(&m2, b.data, b.len), 0);
	assert_int_equal(m2.fsid[0], 0xaa);
	assert_int_equal(m2.newest, 13);
	assert_int_equal(m2.num_full, 1);
	assert_int_equal(m2.full[0].len, 7);
	assert_memory_equal(m2.full[0].data, "FULLMAP", 7);
	assert_int_equal(m2.num_inc, 3);
	assert_int_equal(m2.inc[1].epoch, 12);
	mon_osdmap_msg_free(&m2);
	check_prefixes(&b, dec_osdmap);
	/* non-contiguous incrementals are refused */
	inc[2].epoch = 15;
	cbuf_reset(&b);
	mon_osdmap_msg_encode(&m, &b);
	assert_int_equal(mon_osdmap_msg_decode(&m2, b.data, b.len), -EBADMSG);
	cbuf_free(&b);
}

static void test_pg_stats(void **state)
{
	struct mon_pg_stats s, s2;
	struct mon_pg_stat ps[3];
	struct cbuf b;

	(void)state;
	memset(&s, 0, sizeof(s));
	memset(ps, 0, sizeof(ps));
	for (int i = 0; i < 3; i++) {
		ps[i].pg = (struct pg_id){1, (uint32_t)i};
		ps[i].state = PG_STATE_ACTIVE | PG_STATE_CLEAN;
		ps[i].nup = ps[i].nacting = 3;
		for (int k = 0; k < 3; k++)
			ps[i].up[k] = ps[i].acting[k] = k + i;
		ps[i].up_primary = ps[i].acting_primary = i;
		ps[i].num_objects = 100 + (uint64_t)i;
		ps[i].num_bytes = 1ULL << 33;
		ps[i].last_update_epoch = 5;
		ps[i].last_update_version = 77;
		ps[i].recovery_bytes_left = 12345;
		ps[i].last_deep_scrub_stamp = 42;
	}
	s.osd = 2;
	s.epoch = 9;
	s.osd_stat.bytes_total = 1000;
	s.osd_stat.bytes_used = 10;
	s.num_pgs = 3;
	s.pgs = ps;
	cbuf_init(&b);
	assert_int_equal(mon_pg_stats_encode(&s, &b), 0);
	assert_int_equal(mon_pg_stats_decode(&s2, b.data, b.len), 0);
	assert_int_equal(s2.num_pgs, 3);
	assert_memory_equal(s2.pgs, ps, sizeof(ps));
	assert_int_equal(s2.osd_stat.bytes_total, 1000);
	mon_pg_stats_free(&s2);
	check_prefixes(&b, dec_stats);
	/* too many replicas in one entry */
	ps[1].nup = CAIRN_MAX_REPLICAS + 1;
	cbuf_reset(&b);
	mon_pg_stats_encode(&s, &b); /* the encoder clamps */
	assert_int_equal(mon_pg_stats_decode(&s2, b.data, b.len), 0);
	assert_int_equal(s2.pgs[1].nup, CAIRN_MAX_REPLICAS);
	mon_pg_stats_free(&s2);
	cbuf_free(&b);
}

static void test_pg_la(void **state)
{
	struct mon_pg_la r[2], *big;
	struct mon_pg_la_msg m = {.osd = 3, .n = 2, .recs = r}, m2;
	struct cbuf b;

	(void)state;
	memset(r, 0, sizeof(r));
	r[0].pg = (struct pg_id){2, 7};
	r[0].token = 0x1122334455ull;
	r[0].epoch = 41;
	r[0].n = 2;
	r[0].osds[0] = 4;
	r[0].osds[1] = 1;
	r[1].pg = (struct pg_id){2, 8}; /* a read: epoch 0, no members */
	cbuf_init(&b);
	assert_int_equal(mon_pg_la_msg_encode(&m, &b), 0);
	assert_int_equal(mon_pg_la_msg_decode(&m2, b.data, b.len), 0);
	assert_int_equal(m2.osd, 3);
	assert_int_equal(m2.n, 2);
	assert_memory_equal(m2.recs, r, sizeof(r));
	mon_pg_la_msg_free(&m2);
	check_prefixes(&b, dec_pgla);
	/* more members than a PG can have: the encoder clamps, a forged count is refused */
	r[0].n = CAIRN_MAX_REPLICAS + 3;
	cbuf_reset(&b);
	mon_pg_la_msg_encode(&m, &b);
	assert_int_equal(mon_pg_la_msg_decode(&m2, b.data, b.len), 0);
	assert_int_equal(m2.recs[0].n, CAIRN_MAX_REPLICAS);
	mon_pg_la_msg_free(&m2);
	{
		/* the record ends with its member count (u32 LE) and the one member */
		struct cdec d;
		struct mon_pg_la one = r[1];
		struct cbuf ob;

		one.n = 1;
		cbuf_init(&ob);
		mon_pg_la_encode_one(&one, &ob);
		assert_int_equal(ob.err, 0);
		assert_true(ob.len >= 8);
		assert_int_equal(ob.data[ob.len - 8], 1);
		ob.data[ob.len - 8] = CAIRN_MAX_REPLICAS + 1;
		cdec_init(&d, ob.data, ob.len);
		assert_int_not_equal(mon_pg_la_decode_one(&d, &one), 0);
		cbuf_free(&ob);
	}
	/* more records than the limit */
	big = calloc(MON_PG_LA_MAX + 1, sizeof(*big));
	assert_non_null(big);
	m.recs = big;
	m.n = MON_PG_LA_MAX + 1;
	cbuf_reset(&b);
	mon_pg_la_msg_encode(&m, &b); /* clamps */
	assert_int_equal(mon_pg_la_msg_decode(&m2, b.data, b.len), 0);
	assert_int_equal(m2.n, MON_PG_LA_MAX);
	mon_pg_la_msg_free(&m2);
	free(big);
	cbuf_free(&b);
}

static void test_command(void **state)
{
	char *argv[] = {"osd", "pool", "create", "rbd", "64"};
	struct mon_command c = {.argc = 5, .argv = argv, .in = (const uint8_t *)"IN", .inlen = 2},
			   c2;
	struct mon_command_reply r = {.rc = -2, .status = "no such pool",
				      .out = (const uint8_t *)"{}", .outlen = 2, .epoch = 4},
				 r2;
	struct cbuf b;

	(void)state;
	cbuf_init(&b);
	assert_int_equal(mon_command_encode(&c, &b), 0);
	assert_int_equal(mon_command_decode(&c2, b.data, b.len), 0);
	assert_int_equal(c2.argc, 5);
	for (int i = 0; i < 5; i++)
		assert_string_equal(c2.argv[i], argv[i]);
	assert_int_equal(c2.inlen, 2);
	mon_command_free(&c2);
	check_prefixes(&b, dec_cmd);

	cbuf_reset(&b);
	assert_int_equal(mon_command_reply_encode(&r, &b), 0);
	assert_int_equal(mon_command_reply_decode(&r2, b.data, b.len), 0);
	assert_int_equal(r2.rc, -2);
	assert_string_equal(r2.status, "no such pool");
	assert_int_equal(r2.outlen, 2);
	assert_int_equal(r2.epoch, 4);
	mon_command_reply_free(&r2);
	check_prefixes(&b, dec_reply);

	/* too many args */
	{
		char *many[MON_CMD_MAX_ARGS + 1];
		for (int i = 0; i <= MON_CMD_MAX_ARGS; i++)
			many[i] = "x";
		c.argc = MON_CMD_MAX_ARGS + 1;
		c.argv = many;
		cbuf_reset(&b);
		mon_command_encode(&c, &b);
		assert_int_equal(mon_command_decode(&c2, b.data, b.len), -EBADMSG);
	}
	cbuf_free(&b);
}

static void test_pg_state_strings(void **state)
{
	char buf[256];
	uint64_t st;

	(void)state;
	pg_state_str(PG_STATE_ACTIVE | PG_STATE_CLEAN, buf, sizeof(buf));
	assert_string_equal(buf, "active+clean");
	pg_state_str(PG_STATE_ACTIVE | PG_STATE_UNDERSIZED | PG_STATE_DEGRADED, buf, sizeof(buf));
	assert_string_equal(buf, "active+degraded+undersized");
	pg_state_str(0, buf, sizeof(buf));
	assert_string_equal(buf, "unknown");
	assert_int_equal(pg_state_parse("active+clean", &st), 0);
	assert_true(st == (PG_STATE_ACTIVE | PG_STATE_CLEAN));
	assert_int_equal(pg_state_parse("peering", &st), 0);
	assert_true(st == PG_STATE_PEERING);
	assert_int_equal(pg_state_parse("active+bogus", &st), -EINVAL);
	/* every bit round-trips */
	for (int i = 0; i < PG_STATE_NBITS; i++) {
		pg_state_str(1ULL << i, buf, sizeof(buf));
		assert_int_equal(pg_state_parse(buf, &st), 0);
		assert_true(st == (1ULL << i));
	}
	/* truncated output stays NUL-terminated */
	pg_state_str(PG_STATE_ACTIVE | PG_STATE_CLEAN, buf, 5);
	assert_int_equal(strlen(buf), 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_messages), cmocka_unit_test(test_osdmap_msg),
		cmocka_unit_test(test_pg_stats),       cmocka_unit_test(test_command),
		cmocka_unit_test(test_pg_state_strings), cmocka_unit_test(test_pg_la),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
