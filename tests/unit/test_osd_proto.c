/* test_osd_proto — round trips, truncation and bad-slice checks for common/osd_proto. */
// timeout: 30
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include "common/osd_proto.h"

static void fill_req(struct osd_op_req *r)
{
	memset(r, 0, sizeof(*r));
	r->reqid = (struct osd_reqid){ .type = 4, .num = 123456789, .tid = 42 };
	r->pgid = (struct pg_id){ .pool = 3, .ps = 17 };
	r->epoch = 9;
	r->flags = OSD_REQ_RETRY;
	r->attempt = 2;
	strcpy(r->oid, "obj-1");
	r->nops = 3;
	r->ops[0] = (struct osd_op){ .op = OSD_OP_WRITE, .off = 10, .len = 5, .indata_off = 0,
				     .indata_len = 5 };
	r->ops[1] = (struct osd_op){ .op = OSD_OP_SETXATTR, .name = (const uint8_t *)"user.a",
				     .name_len = 6, .indata_off = 5, .indata_len = 3 };
	r->ops[2] = (struct osd_op){ .op = OSD_OP_CREATE, .flags = OSD_OPF_EXCL };
}

static void test_req_roundtrip(void **state)
{
	struct osd_op_req r, *o = malloc(sizeof(*o));
	struct cbuf b;
	struct cdec d;

	(void)state;
	fill_req(&r);
	cbuf_init(&b);
	osd_op_req_encode(&b, &r);
	assert_int_equal(b.err, 0);
	cdec_init(&d, b.data, b.len);
	assert_int_equal(osd_op_req_decode(&d, o), 0);
	assert_true(osd_reqid_eq(&o->reqid, &r.reqid));
	assert_int_equal(pg_id_cmp(&o->pgid, &r.pgid), 0);
	assert_int_equal(o->epoch, 9);
	assert_int_equal(o->attempt, 2);
	assert_string_equal(o->oid, "obj-1");
	assert_int_equal(o->nops, 3);
	assert_int_equal(o->ops[0].op, OSD_OP_WRITE);
	assert_int_equal(o->ops[0].off, 10);
	assert_int_equal(o->ops[1].name_len, 6);
	assert_memory_equal(o->ops[1].name, "user.a", 6);
	assert_int_equal(o->ops[2].flags, OSD_OPF_EXCL);
	assert_int_equal(osd_op_req_check_data(o, 8), 0);
	assert_int_equal(osd_op_req_check_data(o, 7), -EBADMSG);
	/* every truncation fails cleanly */
	for (size_t n = 0; n < b.len; n++) {
		cdec_init(&d, b.data, n);
		assert_int_not_equal(osd_op_req_decode(&d, o), 0);
		assert_int_equal(o->nops, 0);
	}
	/* unknown op code */
	r.ops[2].op = 999;
	cbuf_reset(&b);
	osd_op_req_encode(&b, &r);
	cdec_init(&d, b.data, b.len);
	assert_int_equal(osd_op_req_decode(&d, o), -EOPNOTSUPP);
	/* indata on an op that takes none */
	r.ops[2] = (struct osd_op){ .op = OSD_OP_STAT, .indata_len = 1 };
	cbuf_reset(&b);
	osd_op_req_encode(&b, &r);
	cdec_init(&d, b.data, b.len);
	assert_int_equal(osd_op_req_decode(&d, o), -EBADMSG);
	cbuf_free(&b);
	free(o);
}

static void test_reply_roundtrip(void **state)
{
	struct osd_op_reply r = { 0 }, o;
	struct cbuf b;
	struct cdec d;

	(void)state;
	r.reqid = (struct osd_reqid){ .type = 4, .num = 5, .tid = 6 };
	r.result = -ESTALE;
	r.flags = OSD_REPLY_MISDIRECTED;
	r.epoch = 77;
	r.version = (struct osd_eversion){ 3, 99 };
	r.nops = 2;
	r.ops[0] = (struct osd_op_result){ .rc = 0, .outdata_off = 0, .outdata_len = 4 };
	r.ops[1] = (struct osd_op_result){ .rc = -ENOENT };
	cbuf_init(&b);
	osd_op_reply_encode(&b, &r);
	cdec_init(&d, b.data, b.len);
	assert_int_equal(osd_op_reply_decode(&d, &o), 0);
	assert_int_equal(o.result, -ESTALE);
	assert_int_equal(o.epoch, 77);
	assert_int_equal(o.version.v, 99);
	assert_int_equal(o.ops[1].rc, -ENOENT);
	assert_int_equal(osd_op_reply_check_data(&o, 4), 0);
	assert_int_equal(osd_op_reply_check_data(&o, 3), -EBADMSG);
	for (size_t n = 0; n < b.len; n++) {
		cdec_init(&d, b.data, n);
		assert_int_not_equal(osd_op_reply_decode(&d, &o), 0);
	}
	cbuf_free(&b);
}

static void test_kvlist(void **state)
{
	struct osd_kvenc e;
	struct osd_kvdec it;
	struct cbuf b;
	const uint8_t *k, *v;
	uint32_t kl, vl;

	(void)state;
	cbuf_init(&b);
	osd_kv_enc_start(&b, &e, true);
	osd_kv_enc_add(&b, &e, "a", 1, "1", 1);
	osd_kv_enc_add(&b, &e, "bb", 2, "", 0);
	osd_kv_enc_finish(&b, &e, true);
	assert_int_equal(osd_kv_dec_open(&it, b.data, b.len), 0);
	assert_int_equal(it.n, 2);
	assert_true(it.more);
	assert_int_equal(osd_kv_dec_next(&it, &k, &kl, &v, &vl), 1);
	assert_memory_equal(k, "a", 1);
	assert_memory_equal(v, "1", 1);
	assert_int_equal(osd_kv_dec_next(&it, &k, &kl, &v, &vl), 1);
	assert_int_equal(kl, 2);
	assert_int_equal(vl, 0);
	assert_int_equal(osd_kv_dec_next(&it, &k, &kl, &v, &vl), 0);
	for (size_t n = 0; n < b.len; n++)
		assert_int_equal(osd_kv_dec_open(&it, b.data, n), -EBADMSG);
	/* key list */
	cbuf_reset(&b);
	osd_kv_enc_start(&b, &e, false);
	osd_kv_enc_add(&b, &e, "k", 1, NULL, 0);
	osd_kv_enc_finish(&b, &e, false);
	assert_int_equal(osd_kv_dec_open(&it, b.data, b.len), 0);
	assert_false(it.more);
	assert_int_equal(osd_kv_dec_next(&it, &k, &kl, &v, &vl), 1);
	assert_null(v);
	assert_int_equal(osd_kv_dec_next(&it, &k, &kl, &v, &vl), 0);
	cbuf_free(&b);
}

static void test_stat(void **state)
{
	struct osd_stat s = { 12345, 678 }, o;
	struct cbuf b;
	struct cdec d;

	(void)state;
	cbuf_init(&b);
	osd_stat_encode(&b, &s);
	cdec_init(&d, b.data, b.len);
	assert_int_equal(osd_stat_decode(&d, &o), 0);
	assert_int_equal(o.size, 12345);
	assert_int_equal(o.mtime_ns, 678);
	cbuf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_req_roundtrip),
		cmocka_unit_test(test_reply_roundtrip),
		cmocka_unit_test(test_kvlist),
		cmocka_unit_test(test_stat),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
