/* test_crush_golden — replays crushtool's recorded --show-mappings outputs
 * (tests/data/crush/cases.tsv, made by gen.py with Ceph's crushtool) through the library
 * directly: crush_compile() of the map text, then crush_do_rule() for every x, compared line
 * by line with "CRUSH rule R x X [..]". The CLI replay is test_crush_tool_golden.sh. */
// timeout: 120
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/util.h"
#include "crush/crush.h"

#define DATA "tests/data/crush/"

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

struct mapcache {
	char name[128];
	struct crush_map *m;
};

static struct crush_map *get_map(struct mapcache *mc, const char *name)
{
	char path[512], err[512];
	size_t len = 0;
	char *text;

	if (mc->m && !strcmp(mc->name, name))
		return mc->m;
	crush_destroy(mc->m);
	mc->m = NULL;
	snprintf(path, sizeof(path), DATA "maps/%s.txt", name);
	text = slurp(path, &len);
	assert_non_null(text);
	if (crush_compile(text, len, path, &mc->m, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		fail();
	}
	free(text);
	snprintf(mc->name, sizeof(mc->name), "%s", name);
	return mc->m;
}

/* Replays one case; returns the number of mapping lines compared. */
static int replay(struct mapcache *mc, char *name, char *args, char *expected)
{
	int rule = -1, rep = -1, minx = 0, maxx = 1023, have_pool = 0, mappings = 0, pool = 0;
	int nw = 0, wdev[64];
	uint32_t wval[64];
	char *save = NULL, *tok, path[512], *exp, *line, *lsave = NULL;
	struct crush_map *m;
	uint32_t *w;
	void *work;
	int ndev, result[64], n = 0;

	for (tok = strtok_r(args, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		if (!strcmp(tok, "--show-mappings"))
			mappings = 1;
		else if (!strcmp(tok, "--rule"))
			rule = atoi(strtok_r(NULL, " ", &save));
		else if (!strcmp(tok, "--num-rep"))
			rep = atoi(strtok_r(NULL, " ", &save));
		else if (!strcmp(tok, "--min-x"))
			minx = atoi(strtok_r(NULL, " ", &save));
		else if (!strcmp(tok, "--max-x"))
			maxx = atoi(strtok_r(NULL, " ", &save));
		else if (!strcmp(tok, "--pool-id")) {
			pool = atoi(strtok_r(NULL, " ", &save));
			have_pool = 1;
		} else if (!strcmp(tok, "--weight")) {
			int d = atoi(strtok_r(NULL, " ", &save)), v;
			float f = strtof(strtok_r(NULL, " ", &save), NULL);

			v = (int)(f * (float)0x10000);
			wdev[nw] = d;
			wval[nw++] = v < 0 ? 0 : v > 0x10000 ? 0x10000 : (uint32_t)v;
		}
	}
	if (!mappings || rule < 0 || rep < 0)
		return 0;
	m = get_map(mc, name);
	ndev = crush_max_devices(m);
	w = calloc((size_t)ndev + 1, sizeof(uint32_t));
	for (int i = 0; i < ndev; i++)
		w[i] = crush_item_in_tree(m, i) ? 0x10000 : 0;
	for (int i = 0; i < nw; i++)
		if (wdev[i] < ndev)
			w[wdev[i]] = wval[i];
	work = malloc(crush_work_size(m, rep));
	snprintf(path, sizeof(path), DATA "%s", expected);
	exp = slurp(path, NULL);
	assert_non_null(exp);
	line = strtok_r(exp, "\n", &lsave);
	for (int x = minx; x <= maxx; x++) {
		char mine[1024];
		size_t o;
		uint32_t real_x = (uint32_t)x;
		int cnt;

		while (line && strncmp(line, "CRUSH rule", 10))
			line = strtok_r(NULL, "\n", &lsave);
		assert_non_null(line);
		if (have_pool)
			real_x = crush_hash32_2(CRUSH_HASH_RJENKINS1, (uint32_t)x, (uint32_t)pool);
		cnt = crush_do_rule(m, rule, (int)real_x, result, rep, w, ndev, work, 0);
		o = (size_t)snprintf(mine, sizeof(mine), "CRUSH rule %d x %d [", rule, x);
		for (int i = 0; i < cnt; i++)
			o += (size_t)snprintf(mine + o, sizeof(mine) - o, i ? ",%d" : "%d",
					      result[i]);
		snprintf(mine + o, sizeof(mine) - o, "]");
		if (strcmp(mine, line)) {
			fprintf(stderr, "%s %s: crushtool '%s', cairn '%s'\n", name, expected, line,
				mine);
			fail();
		}
		line = strtok_r(NULL, "\n", &lsave);
		n++;
	}
	free(exp);
	free(work);
	free(w);
	return n;
}

static void test_golden_mappings(void **state)
{
	struct mapcache mc = {"", NULL};
	char *tsv = slurp(DATA "cases.tsv", NULL), *save = NULL, *line;
	int cases = 0, lines = 0;

	(void)state;
	assert_non_null(tsv);
	for (line = strtok_r(tsv, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *t1, *t2;
		int n;

		if (line[0] == '#')
			continue;
		t1 = strchr(line, '\t');
		assert_non_null(t1);
		*t1++ = '\0';
		t2 = strchr(t1, '\t');
		assert_non_null(t2);
		*t2++ = '\0';
		n = replay(&mc, line, t1, t2);
		cases += n > 0;
		lines += n;
	}
	fprintf(stderr, "replayed %d cases, %d mappings\n", cases, lines);
	assert_true(cases > 200);
	crush_destroy(mc.m);
	free(tsv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_golden_mappings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
