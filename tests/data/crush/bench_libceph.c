/*
 * bench_libceph — cairn's crush_do_rule vs Ceph's own C mapper (crush_do_rule in
 * libceph-common, loaded with dlopen) in one process, on the same 1000-OSD three-level
 * straw2 map built by each library's builder, over the same inputs: checks every mapping is
 * identical and times both loops. Not part of the build or of make check (needs ceph-base);
 * run it with tests/data/crush/bench_libceph.sh.
 *
 * Ceph's struct crush_map layout below is Ceph 16's public crush.h (only the tunable fields
 * are written).
 */
#include <dlfcn.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crush/crush.h"

struct ceph_map {
	void **buckets;
	void **rules;
	int32_t max_buckets;
	uint32_t max_rules;
	int32_t max_devices;
	uint32_t choose_local_tries, choose_local_fallback_tries, choose_total_tries;
	uint32_t chooseleaf_descend_once;
	uint8_t chooseleaf_vary_r, chooseleaf_stable;
	size_t working_size;
	uint8_t straw_calc_version;
	uint32_t allowed_bucket_algs;
	uint32_t *choose_tries;
};

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define NOSD  1000
#define COUNT 1000000

int main(int argc, char **argv)
{
	void *h =
	    dlopen("/usr/lib/x86_64-linux-gnu/ceph/libceph-common.so.2", RTLD_NOW | RTLD_LOCAL);
	struct ceph_map *(*c_create)(void);
	void *(*c_make_bucket)(struct ceph_map *, int, int, int, int, int *, int *);
	int (*c_add_bucket)(struct ceph_map *, int, void *, int *);
	void *(*c_make_rule)(int, int, int, int, int);
	void (*c_set_step)(void *, int, int, int, int);
	int (*c_add_rule)(struct ceph_map *, void *, int);
	void (*c_finalize)(struct ceph_map *);
	void (*c_init_ws)(const struct ceph_map *, void *);
	int (*c_do_rule)(const struct ceph_map *, int, int, int *, int, const uint32_t *, int,
			 void *, const void *);
	struct ceph_map *cm;
	struct crush_map *m;
	int count = argc > 1 ? atoi(argv[1]) : COUNT, lower[NOSD], nlower = NOSD, wts[NOSD], id;
	uint32_t w[NOSD];
	char *cwork, *mwork;
	int a[3], b[3], bad = 0;
	double t0, t_ceph, t_ceph_once, t_cairn;
	uint64_t s1 = 0, s2 = 0, s3 = 0;

	if (!h) {
		fprintf(stderr, "libceph-common not available: %s\n", dlerror());
		return 77;
	}
	c_create = (struct ceph_map * (*)(void)) dlsym(h, "crush_create");
	c_make_bucket = dlsym(h, "crush_make_bucket");
	c_add_bucket = dlsym(h, "crush_add_bucket");
	c_make_rule = dlsym(h, "crush_make_rule");
	c_set_step = dlsym(h, "crush_rule_set_step");
	c_add_rule = dlsym(h, "crush_add_rule");
	c_finalize = dlsym(h, "crush_finalize");
	c_init_ws = dlsym(h, "crush_init_workspace");
	c_do_rule = dlsym(h, "crush_do_rule");
	if (!c_create || !c_make_bucket || !c_add_bucket || !c_make_rule || !c_set_step ||
	    !c_add_rule || !c_finalize || !c_init_ws || !c_do_rule) {
		fprintf(stderr, "missing symbols in libceph-common\n");
		return 77;
	}
	/* Ceph's map: 10 osds/host, 10 hosts/rack, 10 racks, straw2, jewel/optimal tunables */
	cm = c_create();
	cm->choose_local_tries = 0;
	cm->choose_local_fallback_tries = 0;
	cm->choose_total_tries = 50;
	cm->chooseleaf_descend_once = 1;
	cm->chooseleaf_vary_r = 1;
	cm->chooseleaf_stable = 1;
	cm->straw_calc_version = 1;
	cm->allowed_bucket_algs = 54;
	for (int i = 0; i < NOSD; i++) {
		lower[i] = i;
		wts[i] = 0x10000;
		w[i] = 0x10000;
	}
	for (int type = 1; type <= 3; type++) {
		int n = 0, per = type == 3 ? nlower : 10;

		for (int pos = 0; pos < nlower; pos += per) {
			int k = nlower - pos < per ? nlower - pos : per, sum = 0;
			void *bk = c_make_bucket(cm, CRUSH_BUCKET_STRAW2, 0, type, k, lower + pos,
						 wts + pos);

			for (int j = 0; j < k; j++)
				sum += wts[pos + j];
			c_add_bucket(cm, 0, bk, &id);
			lower[n] = id;
			wts[n++] = sum;
		}
		nlower = n;
	}
	{
		void *r = c_make_rule(3, 0, 1, 1, 10);

		c_set_step(r, 0, CRUSH_RULE_TAKE, lower[0], 0);
		c_set_step(r, 1, CRUSH_RULE_CHOOSELEAF_FIRSTN, 0, 1);
		c_set_step(r, 2, CRUSH_RULE_EMIT, 0, 0);
		c_add_rule(cm, r, 0);
	}
	c_finalize(cm);
	cwork = malloc(cm->working_size + 3 * 3 * sizeof(int) + 64);

	/* cairn's map, same construction */
	m = crush_create();
	crush_set_type_name(m, 0, "osd");
	crush_set_type_name(m, 1, "host");
	crush_set_type_name(m, 2, "rack");
	crush_set_type_name(m, 3, "root");
	nlower = NOSD;
	for (int i = 0; i < NOSD; i++) {
		lower[i] = i;
		w[i] = 0x10000;
		crush_add_device(m, i, NULL);
	}
	{
		uint32_t uw[NOSD];

		for (int i = 0; i < NOSD; i++)
			uw[i] = 0x10000;
		for (int type = 1; type <= 3; type++) {
			int n = 0, per = type == 3 ? nlower : 10;
			char name[32];

			for (int pos = 0; pos < nlower; pos += per) {
				int k = nlower - pos < per ? nlower - pos : per;
				uint32_t sum = 0;

				for (int j = 0; j < k; j++)
					sum += uw[pos + j];
				snprintf(name, sizeof(name), "b%d.%d", type, n);
				if (crush_add_bucket_items(m, 0, CRUSH_BUCKET_STRAW2, 0, type, name,
							   k, lower + pos, uw + pos, &id))
					return 1;
				lower[n] = id;
				uw[n++] = sum;
			}
			nlower = n;
		}
	}
	crush_rule_create_replicated(m, "rep", "b3.0", "host", NULL, NULL);
	mwork = malloc(crush_work_size(m, 3));

	for (int x = 0; x < 100000; x++) { /* identical mappings */
		int n1, n2;

		c_init_ws(cm, cwork);
		n1 = c_do_rule(cm, 0, x, a, 3, w, NOSD, cwork, NULL);
		n2 = crush_do_rule(m, 0, x, b, 3, w, NOSD, mwork, CRUSH_NO_CHOOSE_ARGS);
		if (n1 != n2 || memcmp(a, b, sizeof(int) * (size_t)n1))
			bad++;
	}
	/* Ceph as its callers use it (CrushWrapper::do_rule inits the workspace per call) */
	t0 = cpu_now();
	for (int x = 0; x < count; x++) {
		int n;

		c_init_ws(cm, cwork);
		n = c_do_rule(cm, 0, x, a, 3, w, NOSD, cwork, NULL);
		for (int i = 0; i < n; i++)
			s1 = s1 * 31 + (uint64_t)a[i];
	}
	t_ceph = cpu_now() - t0;
	/* Ceph's mapper alone (workspace initialised once; fine for straw2-only maps) */
	c_init_ws(cm, cwork);
	t0 = cpu_now();
	for (int x = 0; x < count; x++) {
		int n = c_do_rule(cm, 0, x, a, 3, w, NOSD, cwork, NULL);

		for (int i = 0; i < n; i++)
			s2 = s2 * 31 + (uint64_t)a[i];
	}
	t_ceph_once = cpu_now() - t0;
	t0 = cpu_now();
	for (int x = 0; x < count; x++) {
		int n = crush_do_rule(m, 0, x, b, 3, w, NOSD, mwork, CRUSH_NO_CHOOSE_ARGS);

		for (int i = 0; i < n; i++)
			s3 = s3 * 31 + (uint64_t)b[i];
	}
	t_cairn = cpu_now() - t0;
	printf("identical: %d/100000 mappings differ\n", bad);
	printf("ceph crush_do_rule (+init_workspace per call): %.3f s cpu, %.0f mappings/s\n",
	       t_ceph, count / t_ceph);
	printf("ceph crush_do_rule (workspace once):           %.3f s cpu, %.0f mappings/s\n",
	       t_ceph_once, count / t_ceph_once);
	printf("cairn crush_do_rule:                            %.3f s cpu, %.0f mappings/s\n",
	       t_cairn, count / t_cairn);
	printf(
	    "summary: mappings=%d mismatches=%d ceph_rate=%.0f ceph_mapper_rate=%.0f "
	    "cairn_rate=%.0f speedup_vs_ceph=%.2f speedup_vs_ceph_mapper=%.2f same_checksum=%d\n",
	    count, bad, count / t_ceph, count / t_ceph_once, count / t_cairn, t_ceph / t_cairn,
	    t_ceph_once / t_cairn, s1 == s3 && s2 == s3);
	return bad ? 1 : 0;
}
