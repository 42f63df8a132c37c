/* test_osdmap_ceph — placement is Ceph's: object -> PG and PG -> up set/primary for a pool
 * with the rjenkins object hash (pg_num 384, not a power of two) match what Ceph 16's
 * osdmaptool computes for the same CRUSH map, with all OSDs in and with one marked out.
 * Golden files: tests/data/osdmap/ (how they were made is in their first lines). */
// timeout: 60
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/osdmap.h"
#include "common/util.h"
#include "crush/crush.h"

#define DATA "tests/data/osdmap/"

static char *slurp(const char *path, size_t *len)
{
	char *buf;
	size_t n;

	if (util_read_file(path, 64u << 20, &buf, &n))
		return NULL;
	if (len)
		*len = n;
	return buf;
}

static struct osdmap *ceph_map(void)
{
	size_t len;
	char *text = slurp(DATA "crush6.txt", &len), err[256];
	struct crush_map *c = NULL;
	struct osdmap *m;
	struct pool_info p;
	uint8_t fsid[16] = {0};

	if (!text)
		return NULL;
	assert_int_equal(crush_compile(text, len, "crush6.txt", &c, err, sizeof(err)), 0);
	free(text);
	m = osdmap_new(fsid, c);
	assert_non_null(m);
	m->epoch = 1;
	assert_int_equal(osdmap_set_max_osd(m, 6), 0);
	for (int i = 0; i < 6; i++) {
		m->osds[i].state = OSD_STATE_EXISTS | OSD_STATE_UP;
		m->osds[i].reweight = OSD_WEIGHT_IN;
	}
	memset(&p, 0, sizeof(p));
	p.id = 1;
	snprintf(p.name, sizeof(p.name), "rbd");
	p.type = POOL_TYPE_REPLICATED;
	p.size = 3;
	p.min_size = 2;
	p.object_hash = POOL_HASH_RJENKINS;
	p.pg_num = p.pgp_num = 384;
	p.crush_rule = 0;
	assert_int_equal(osdmap_pool_set(m, &p), 0);
	assert_int_equal(osdmap_finalize(m), 0);
	return m;
}

static void fmt_set(char *buf, size_t len, const int32_t *v, int n)
{
	size_t o = (size_t)snprintf(buf, len, "[");
	for (int i = 0; i < n; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%d", i ? "," : "", v[i]);
	snprintf(buf + o, len - o, "]");
}

static void check_pgs(struct osdmap *m, const char *file)
{
	FILE *f = fopen(file, "r");
	char line[256];
	int checked = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		char pgs[32], set[128], want[256], got[256];
		int prim;
		struct pg_id pg;
		int32_t up[CAIRN_MAX_REPLICAS], upp;
		int nup;

		if (line[0] == '#')
			continue;
		assert_int_equal(sscanf(line, "%31s %127s %d", pgs, set, &prim), 3);
		assert_int_equal(pg_id_parse(pgs, &pg), 0);
		assert_int_equal(osdmap_pg_to_up_acting(m, pg, up, &nup, &upp, NULL, NULL, NULL), 0);
		fmt_set(got, sizeof(got), up, nup);
		snprintf(want, sizeof(want), "%s", set);
		if (strcmp(got, want) || upp != prim)
			fail_msg("%s: %s p%d, Ceph says %s p%d", pgs, got, upp, want, prim);
		checked++;
	}
	fclose(f);
	assert_int_equal(checked, 384);
}

static void test_pgs_all_in(void **state)
{
	struct osdmap *m = ceph_map();

	(void)state;
	if (!m)
		skip();
	check_pgs(m, DATA "pgs_all_in.txt");
	osdmap_put(m);
}

static void test_pgs_out(void **state)
{
	struct osdmap *m = ceph_map();

	(void)state;
	if (!m)
		skip();
	m->osds[3].reweight = OSD_WEIGHT_OUT;
	assert_int_equal(osdmap_finalize(m), 0);
	check_pgs(m, DATA "pgs_out3.txt");
	osdmap_put(m);
}

static void test_objects(void **state)
{
	struct osdmap *m = ceph_map();
	FILE *f;
	char line[512];
	int checked = 0;

	(void)state;
	if (!m)
		skip();
	f = fopen(DATA "objects.txt", "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		char name[256], pgs[32], set[128], got[256], gpg[PG_ID_STR_MAX];
		struct pg_id pg;
		int32_t up[CAIRN_MAX_REPLICAS];
		int nup;

		if (line[0] == '#')
			continue;
		/* " object 'foo' -> 1.6 -> [4,3,0]" */
		assert_int_equal(sscanf(line, " object '%255[^']' -> %31s -> %127s", name, pgs, set), 3);
		assert_int_equal(osdmap_object_to_pg(m, 1, name, strlen(name), &pg), 0);
		pg_id_str(&pg, gpg, sizeof(gpg));
		if (strcmp(gpg, pgs))
			fail_msg("object %s: pg %s, Ceph says %s", name, gpg, pgs);
		assert_int_equal(osdmap_pg_to_up_acting(m, pg, up, &nup, NULL, NULL, NULL, NULL), 0);
		fmt_set(got, sizeof(got), up, nup);
		if (strcmp(got, set))
			fail_msg("object %s: %s, Ceph says %s", name, got, set);
		checked++;
	}
	fclose(f);
	assert_true(checked >= 20);
	osdmap_put(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pgs_all_in),
		cmocka_unit_test(test_pgs_out),
		cmocka_unit_test(test_objects),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
