/* test_osdmap — common/osdmap: pg id strings, full and incremental encodings (round trip,
 * exhaustive truncation, byte corruption never crashes), diff/apply, and placement checked
 * step by step against the CRUSH library (hash, stable_mod, pps, crush_do_rule, up filter,
 * pg_temp / primary_temp). */
// timeout: 120
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <xxhash.h>

#include "common/encode.h"
#include "common/osdmap.h"
#include "crush/crush.h"

#define NHOSTS 4
#define PER_HOST 2
#define NOSD (NHOSTS * PER_HOST)

static struct osdmap *build_map(void)
{
	struct crush_map *c = crush_create();
	struct osdmap *m;
	struct pool_info p;
	int root, rule, ecrule;

	assert_non_null(c);
	assert_int_equal(crush_set_type_name(c, 0, "osd"), 0);
	assert_int_equal(crush_set_type_name(c, 1, "host"), 0);
	assert_int_equal(crush_set_type_name(c, 2, "rack"), 0);
	assert_int_equal(crush_set_type_name(c, 3, "root"), 0);
	assert_int_equal(crush_add_bucket(c, 0, CRUSH_BUCKET_STRAW2, 0, 3, "default", &root), 0);
	for (int i = 0; i < NOSD; i++) {
		char host[32], name[32];
		const char *types[2] = {"host", "root"}, *names[2] = {host, "default"};
		snprintf(host, sizeof(host), "host-%d", i / PER_HOST);
		snprintf(name, sizeof(name), "osd.%d", i);
		assert_int_equal(crush_insert_item(c, i, 0x10000 + (uint32_t)i * 0x1000, name, types,
						   names, 2),
				 0);
	}
	assert_int_equal(crush_rule_create_replicated(c, "replicated_rule", "default", "host",
						      NULL, &rule),
			 0);
	assert_int_equal(rule, 0);
	assert_int_equal(crush_rule_create_erasure(c, "ec", "default", "osd", NULL, &ecrule), 0);

	uint8_t fsid[16];
	for (int i = 0; i < 16; i++)
		fsid[i] = (uint8_t)(i * 17 + 3);
	m = osdmap_new(fsid, c);
	assert_non_null(m);
	m->epoch = 1;
	m->created = m->modified = 123456789;
	assert_int_equal(osdmap_set_max_osd(m, NOSD), 0);
	for (int i = 0; i < NOSD; i++) {
		m->osds[i].state = OSD_STATE_EXISTS | OSD_STATE_UP;
		m->osds[i].reweight = OSD_WEIGHT_IN;
		m->osds[i].up_from = 1;
		snprintf(m->osds[i].addr, sizeof(m->osds[i].addr), "127.0.0.1:%d", 6800 + i);
		m->osds[i].uuid[0] = (uint8_t)i;
	}
	memset(&p, 0, sizeof(p));
	p.id = 1;
	snprintf(p.name, sizeof(p.name), "rbd");
	p.type = POOL_TYPE_REPLICATED;
	p.size = 3;
	p.min_size = 2;
	p.object_hash = POOL_HASH_XXH3;
	p.pg_num = 12;
	p.pgp_num = 12;
	p.crush_rule = rule;
	assert_int_equal(osdmap_pool_set(m, &p), 0);
	p.id = 2;
	snprintf(p.name, sizeof(p.name), "ecpool");
	p.type = POOL_TYPE_ERASURE;
	p.size = 4;
	p.min_size = 3;
	p.ec_k = 2;
	p.ec_m = 2;
	p.stripe_unit = 4096;
	p.pg_num = 16;
	p.pgp_num = 16;
	p.crush_rule = ecrule;
	assert_int_equal(osdmap_pool_set(m, &p), 0);
	p.id = 3;
	snprintf(p.name, sizeof(p.name), "rj");
	p.type = POOL_TYPE_REPLICATED;
	p.size = 2;
	p.min_size = 1;
	p.object_hash = POOL_HASH_RJENKINS;
	p.pg_num = 100;
	p.pgp_num = 64;
	p.crush_rule = rule;
	p.ec_k = p.ec_m = 0;
	p.stripe_unit = 0;
	assert_int_equal(osdmap_pool_set(m, &p), 0);
	assert_int_equal(m->pool_max, 3);
	assert_int_equal(osdmap_finalize(m), 0);
	return m;
}

static void test_pg_id(void **state)
{
	struct pg_id pg = {1, 0x2a}, out;
	char buf[PG_ID_STR_MAX];

	(void)state;
	assert_string_equal(pg_id_str(&pg, buf, sizeof(buf)), "1.2a");
	assert_int_equal(pg_id_parse("1.2a", &out), 0);
	assert_int_equal(out.pool, 1);
	assert_int_equal(out.ps, 0x2a);
	assert_int_equal(pg_id_parse("17.0", &out), 0);
	assert_int_equal(out.pool, 17);
	assert_int_equal(out.ps, 0);
	assert_int_equal(pg_id_parse("1.ffffffff", &out), 0);
	assert_int_equal(out.ps, 0xffffffffu);
	const char *bad[] = {"", "1", "1.", ".2", "a.1", "1.g", "-1.2", "1.-2", "1.2.3",
			     "1.100000000", "1 .2", NULL};
	for (int i = 0; bad[i]; i++)
		assert_int_equal(pg_id_parse(bad[i], &out), -EINVAL);
}

static void test_flags(void **state)
{
	uint32_t bit;
	char buf[128];

	(void)state;
	assert_int_equal(osdmap_flag_parse("noout", &bit), 0);
	assert_int_equal(bit, OSDMAP_FLAG_NOOUT);
	assert_int_equal(osdmap_flag_parse("nosuch", &bit), -EINVAL);
	assert_string_equal(osdmap_flags_str(OSDMAP_FLAG_NOOUT | OSDMAP_FLAG_PAUSE, buf, sizeof(buf)),
			    "noout,pause");
	assert_string_equal(osdmap_flags_str(0, buf, sizeof(buf)), "");
}

static void encode(const struct osdmap *m, struct cbuf *b)
{
	cbuf_init(b);
	assert_int_equal(osdmap_encode(m, b), 0);
}

static void test_roundtrip(void **state)
{
	struct osdmap *m = build_map(), *d;
	struct cbuf a, b;
	int32_t t[3] = {5, 1, 2};

	(void)state;
	assert_int_equal(osdmap_set_pg_temp(m, (struct pg_id){1, 3}, t, 3), 0);
	assert_int_equal(osdmap_set_primary_temp(m, (struct pg_id){1, 3}, 1), 0);
	assert_int_equal(osdmap_set_mds_map(m, "mdsblob", 7), 0);
	assert_int_equal(osdmap_finalize(m), 0);
	encode(m, &a);
	assert_int_equal(osdmap_decode(&d, a.data, a.len), 0);
	encode(d, &b);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.data, b.data, a.len);
	assert_true(osdmap_equal(m, d));
	assert_int_equal(d->epoch, 1);
	assert_int_equal(d->num_pools, 3);
	assert_string_equal(osdmap_lookup_pool_by_name(d, "ecpool")->name, "ecpool");
	assert_null(osdmap_lookup_pool_by_name(d, "nope"));
	assert_int_equal(osdmap_pool(d, 3)->pgp_num_mask, 63);
	assert_int_equal(osdmap_pool(d, 3)->pg_num_mask, 127);
	assert_int_equal(osdmap_pool(d, 1)->pg_num_mask, 15);
	assert_int_equal(d->osds[3].crush_weight, 0x13000);
	assert_string_equal(d->osds[7].addr, "127.0.0.1:6807");
	/* copies are deep and equal */
	struct osdmap *c = osdmap_copy(d);
	assert_true(osdmap_equal(c, d));
	osdmap_put(c);
	/* refcounting */
	assert_ptr_equal(osdmap_get(d), d);
	osdmap_put(d);
	osdmap_put(d);
	cbuf_free(&a);
	cbuf_free(&b);
	osdmap_put(m);
}

static void test_truncation(void **state)
{
	struct osdmap *m = build_map(), *d = NULL;
	struct cbuf a;
	int32_t t[2] = {4, 5};

	(void)state;
	assert_int_equal(osdmap_set_pg_temp(m, (struct pg_id){2, 1}, t, 2), 0);
	encode(m, &a);
	for (size_t n = 0; n < a.len; n++) {
		int err = osdmap_decode(&d, a.data, n);
		if (err != -EBADMSG)
			fail_msg("prefix %zu of %zu: %d", n, a.len, err);
		assert_null(d);
	}
	/* corruption: any result is fine, but no crash and no leak (ASan build checks); a map
	 * that decodes re-encodes to bytes that decode again. (Placement on corrupted CRUSH
	 * maps is exercised by tests/fuzz/fuzz_osdmap.c.) */
	for (size_t i = 0; i < a.len; i++) {
		uint8_t save = a.data[i];
		for (int k = 0; k < 3; k++) {
			static const uint8_t vals[3] = {0x00, 0xff, 0x80};
			a.data[i] = vals[k] == save ? (uint8_t)(save ^ 1) : vals[k];
			if (osdmap_decode(&d, a.data, a.len) == 0) {
				struct cbuf r;
				struct osdmap *d2;

				cbuf_init(&r);
				assert_int_equal(osdmap_encode(d, &r), 0);
				assert_int_equal(osdmap_decode(&d2, r.data, r.len), 0);
				osdmap_put(d2);
				cbuf_free(&r);
				osdmap_put(d);
			}
		}
		a.data[i] = save;
	}
	cbuf_free(&a);
	osdmap_put(m);
}

static void test_incremental(void **state)
{
	struct osdmap *old = build_map(), *nw, *applied;
	struct osdmap_inc inc, inc2;
	struct cbuf b;
	struct pool_info p;
	int32_t t[3] = {1, 2, 3};

	(void)state;
	assert_int_equal(osdmap_set_pg_temp(old, (struct pg_id){1, 1}, t, 3), 0);
	assert_int_equal(osdmap_set_pg_temp(old, (struct pg_id){1, 2}, t, 2), 0);
	assert_int_equal(osdmap_set_primary_temp(old, (struct pg_id){1, 1}, 2), 0);
	assert_int_equal(osdmap_finalize(old), 0);
	nw = osdmap_copy(old);
	assert_non_null(nw);
	nw->epoch = 2;
	nw->modified = 999;
	nw->flags |= OSDMAP_FLAG_NOOUT;
	nw->osds[3].state &= ~(uint32_t)OSD_STATE_UP;
	nw->osds[3].down_at = 2;
	nw->osds[5].reweight = 0x8000;
	assert_int_equal(osdmap_set_max_osd(nw, NOSD + 2), 0);
	nw->osds[NOSD + 1].state = OSD_STATE_EXISTS;
	assert_int_equal(osdmap_pool_remove(nw, 2), 0);
	p = *osdmap_pool(nw, 1);
	p.pg_num = 24;
	assert_int_equal(osdmap_pool_set(nw, &p), 0);
	p.id = 4;
	snprintf(p.name, sizeof(p.name), "newpool");
	assert_int_equal(osdmap_pool_set(nw, &p), 0);
	assert_int_equal(osdmap_pool_set(nw, &p), 0); /* replace by id is fine */
	p.id = 5;
	assert_int_equal(osdmap_pool_set(nw, &p), -EEXIST); /* same name, other id */
	assert_int_equal(osdmap_set_pg_temp(nw, (struct pg_id){1, 2}, NULL, 0), 0); /* removed */
	assert_int_equal(osdmap_set_pg_temp(nw, (struct pg_id){1, 1}, t + 1, 2), 0); /* changed */
	assert_int_equal(osdmap_set_primary_temp(nw, (struct pg_id){1, 1}, -1), 0);
	assert_int_equal(crush_reweight_item(nw->crush, 2, 0x20000), 0);
	assert_int_equal(osdmap_set_mds_map(nw, "m", 1), 0);
	assert_int_equal(osdmap_finalize(nw), 0);

	assert_int_equal(osdmap_diff(old, nw, &inc), 0);
	assert_int_equal(inc.epoch, 2);
	assert_int_equal(inc.num_old_pools, 1);
	assert_int_equal(inc.num_new_pools, 2);
	assert_non_null(inc.crush);
	cbuf_init(&b);
	assert_int_equal(osdmap_inc_encode(&inc, &b), 0);
	assert_int_equal(osdmap_inc_decode(&inc2, b.data, b.len), 0);
	assert_int_equal(osdmap_apply_incremental(old, &inc2, &applied), 0);
	assert_true(osdmap_equal(applied, nw));
	assert_int_equal(applied->osds[2].crush_weight, 0x20000);
	/* old is untouched */
	assert_non_null(osdmap_pool(old, 2));
	assert_int_equal(old->epoch, 1);
	/* wrong base epoch */
	osdmap_put(nw);
	assert_int_equal(osdmap_apply_incremental(applied, &inc2, &nw), -EINVAL);
	/* truncations of the incremental */
	for (size_t n = 0; n < b.len; n++) {
		struct osdmap_inc x;
		assert_int_equal(osdmap_inc_decode(&x, b.data, n), -EBADMSG);
	}
	/* an empty diff */
	osdmap_inc_free(&inc2);
	nw = osdmap_copy(applied);
	nw->epoch++;
	assert_int_equal(osdmap_diff(applied, nw, &inc2), 0);
	assert_int_equal(inc2.num_osds + inc2.num_new_pools + inc2.num_old_pools + inc2.crush_len, 0);
	assert_int_equal(inc2.new_flags, -1);
	osdmap_inc_free(&inc2);
	osdmap_put(nw);
	osdmap_inc_free(&inc);
	cbuf_free(&b);
	osdmap_put(applied);
	osdmap_put(old);
}

static void test_stable_mod_and_pg(void **state)
{
	struct osdmap *m = build_map();
	const struct pool_info *p1 = osdmap_pool(m, 1), *p3 = osdmap_pool(m, 3);
	struct pg_id pg;

	(void)state;
	/* ceph_stable_mod with b = 12, bmask = 15 */
	assert_int_equal(crush_stable_mod(11, 12, 15), 11);
	assert_int_equal(crush_stable_mod(13, 12, 15), 5);
	assert_int_equal(crush_stable_mod(15, 12, 15), 7);
	assert_int_equal(crush_stable_mod(16 + 3, 12, 15), 3);
	for (int i = 0; i < 2000; i++) {
		char name[32];
		uint32_t h;
		snprintf(name, sizeof(name), "obj-%d", i);
		assert_int_equal(osdmap_object_to_pg(m, 1, name, strlen(name), &pg), 0);
		h = (uint32_t)XXH3_64bits(name, strlen(name));
		assert_int_equal(pg.pool, 1);
		assert_int_equal(pg.ps, (uint32_t)crush_stable_mod((int)h, 12, 15));
		assert_true(pg.ps < 12);
		assert_int_equal(osdmap_object_to_pg(m, 3, name, strlen(name), &pg), 0);
		h = crush_str_hash_rjenkins(name, strlen(name));
		assert_int_equal(pg.ps, (uint32_t)crush_stable_mod((int)h, 100, 127));
		assert_int_equal(osdmap_pg_to_pps(p3, pg),
				 crush_hash32_2(CRUSH_HASH_RJENKINS1,
						(uint32_t)crush_stable_mod((int)pg.ps, 64, 63), 3));
	}
	(void)p1;
	assert_int_equal(osdmap_object_to_pg(m, 99, "x", 1, &pg), -ENOENT);
	osdmap_put(m);
}

static void test_placement(void **state)
{
	struct osdmap *m = build_map(), *m2;
	size_t ws = crush_work_size(m->crush, CAIRN_MAX_REPLICAS);
	void *work = aligned_alloc(16, (ws + 15) & ~(size_t)15);
	uint32_t weights[NOSD];

	(void)state;
	for (int i = 0; i < NOSD; i++)
		weights[i] = OSD_WEIGHT_IN;
	for (int64_t pool = 1; pool <= 3; pool++) {
		const struct pool_info *p = osdmap_pool(m, pool);
		for (uint32_t ps = 0; ps < p->pg_num; ps++) {
			struct pg_id pg = {pool, ps};
			int res[CAIRN_MAX_REPLICAS], n, nraw, nup, nact;
			int32_t raw[CAIRN_MAX_REPLICAS], up[CAIRN_MAX_REPLICAS], act[CAIRN_MAX_REPLICAS];
			int32_t upp, actp;

			n = crush_do_rule(m->crush, p->crush_rule, (int)osdmap_pg_to_pps(p, pg), res,
					  p->size, weights, NOSD, work, pool);
			assert_int_equal(osdmap_pg_to_raw(m, pg, raw, &nraw), 0);
			assert_int_equal(n, nraw);
			for (int i = 0; i < n; i++)
				assert_int_equal(res[i], raw[i]);
			assert_int_equal(osdmap_pg_to_up_acting(m, pg, up, &nup, &upp, act, &nact,
								&actp),
					 0);
			assert_int_equal(nup, n);
			assert_int_equal(upp, n ? res[0] : -1);
			assert_int_equal(nact, nup);
			assert_int_equal(actp, upp);
			if (p->type == POOL_TYPE_REPLICATED) {
				/* distinct hosts */
				assert_int_equal(n, p->size);
				for (int i = 0; i < n; i++)
					for (int j = i + 1; j < n; j++)
						assert_int_not_equal(up[i] / PER_HOST, up[j] / PER_HOST);
			}
		}
	}
	/* mark osd.0 down: replicated drops it (order kept), erasure leaves a hole */
	m2 = osdmap_copy(m);
	m2->osds[0].state &= ~(uint32_t)OSD_STATE_UP;
	assert_int_equal(osdmap_finalize(m2), 0);
	int seen_rep = 0, seen_ec = 0;
	for (int64_t pool = 1; pool <= 2; pool++) {
		const struct pool_info *p = osdmap_pool(m, pool);
		for (uint32_t ps = 0; ps < p->pg_num; ps++) {
			struct pg_id pg = {pool, ps};
			int32_t raw[CAIRN_MAX_REPLICAS], up[CAIRN_MAX_REPLICAS], upp;
			int nraw, nup, k = 0;

			assert_int_equal(osdmap_pg_to_raw(m2, pg, raw, &nraw), 0);
			assert_int_equal(osdmap_pg_to_up_acting(m2, pg, up, &nup, &upp, NULL, NULL,
								NULL),
					 0);
			for (int i = 0; i < nraw; i++) {
				if (p->type == POOL_TYPE_REPLICATED) {
					if (raw[i] == 0) {
						seen_rep++;
						continue;
					}
					assert_int_equal(up[k++], raw[i]);
				} else {
					assert_int_equal(up[i], raw[i] == 0 ? OSDMAP_NONE : raw[i]);
					seen_ec += raw[i] == 0;
				}
			}
			if (p->type == POOL_TYPE_REPLICATED)
				assert_int_equal(nup, k);
			else
				assert_int_equal(nup, nraw);
			for (int i = 0; i < nup; i++)
				if (up[i] != OSDMAP_NONE) {
					assert_int_equal(upp, up[i]);
					break;
				}
		}
	}
	assert_true(seen_rep > 0);
	assert_true(seen_ec > 0);
	/* out (reweight 0) makes CRUSH pick someone else: osd.0 never appears */
	m2->osds[0].reweight = 0;
	assert_int_equal(osdmap_finalize(m2), 0);
	for (uint32_t ps = 0; ps < 12; ps++) {
		int32_t raw[CAIRN_MAX_REPLICAS];
		int nraw;
		assert_int_equal(osdmap_pg_to_raw(m2, (struct pg_id){1, ps}, raw, &nraw), 0);
		assert_int_equal(nraw, 3);
		for (int i = 0; i < nraw; i++)
			assert_int_not_equal(raw[i], 0);
	}
	/* errors */
	assert_int_equal(osdmap_pg_to_up_acting(m, (struct pg_id){1, 12}, NULL, NULL, NULL, NULL,
						NULL, NULL),
			 -ERANGE);
	assert_int_equal(osdmap_pg_to_up_acting(m, (struct pg_id){9, 0}, NULL, NULL, NULL, NULL,
						NULL, NULL),
			 -ENOENT);
	free(work);
	osdmap_put(m2);
	osdmap_put(m);
}

static void test_pg_temp(void **state)
{
	struct osdmap *m = build_map();
	struct pg_id pg = {1, 4};
	int32_t t[3] = {6, 7, 1}, up[16], act[16], upp, actp;
	int nup, nact;

	(void)state;
	assert_int_equal(osdmap_set_pg_temp(m, pg, t, 3), 0);
	assert_int_equal(osdmap_finalize(m), 0);
	assert_int_equal(osdmap_pg_to_up_acting(m, pg, up, &nup, &upp, act, &nact, &actp), 0);
	assert_int_equal(nact, 3);
	assert_int_equal(act[0], 6);
	assert_int_equal(act[2], 1);
	assert_int_equal(actp, 6);
	assert_int_equal(osdmap_set_primary_temp(m, pg, 7), 0);
	assert_int_equal(osdmap_pg_to_up_acting(m, pg, up, &nup, &upp, act, &nact, &actp), 0);
	assert_int_equal(actp, 7);
	/* a down OSD drops out of the temp set too */
	m->osds[6].state &= ~(uint32_t)OSD_STATE_UP;
	assert_int_equal(osdmap_finalize(m), 0);
	assert_int_equal(osdmap_pg_to_up_acting(m, pg, up, &nup, &upp, act, &nact, &actp), 0);
	assert_int_equal(nact, 2);
	assert_int_equal(act[0], 7);
	/* removing the pool removes its temps */
	assert_int_equal(osdmap_pool_remove(m, 1), 0);
	assert_int_equal(m->num_pg_temp, 0);
	assert_int_equal(m->num_primary_temp, 0);
	assert_int_equal(osdmap_pool_remove(m, 1), -ENOENT);
	osdmap_put(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pg_id),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_incremental),
		cmocka_unit_test(test_stable_mod_and_pg),
		cmocka_unit_test(test_placement),
		cmocka_unit_test(test_pg_temp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
