/*
 * cairn-crush — crushtool-compatible CLI over crush/: compile, decompile, build, test,
 * compare, edit, bench. Flags and stdout lines follow Ceph's crushtool so scripts written for
 * it work unchanged (dashes and underscores in long options are interchangeable, as there).
 *
 *   cairn-crush -c map.txt -o map.bin          compile text (errors: FILE:LINE: message)
 *   cairn-crush -d map.bin [-o map.txt]        decompile (cairn or Ceph binary input)
 *   cairn-crush --build --num_osds N NAME ALG SIZE ... -o map.bin
 *   cairn-crush -i map.bin --test [--rule R] [--num-rep K] [--min-x A --max-x B | --x X]
 *       [--pool-id P] [--weight ID W]... [--show-mappings] [--show-bad-mappings]
 *       [--show-statistics] [--show-utilization] [--show-utilization-all]
 *   cairn-crush -i map.bin --compare other.bin [--rule R] [--num-rep K] [--min-x/--max-x]
 *   cairn-crush -i map.bin --add-item ID W NAME --loc TYPE NAME ... -o out.bin
 *       (also --update-item, --remove-item NAME, --reweight-item NAME W, and the
 *       tunables: --set-choose-local-tries N ... --set-chooseleaf-stable N,
 *       --set-straw-calc-version N, --set-allowed-bucket-algs N)
 *   cairn-crush --bench [-i map.bin] [--count N] [--threads T] [--repeat R] [--verify N]
 *       [--no-crushtool]
 * Exit status: 0 ok, 1 error (a message on stderr).
 */
#include "common/util.h"
#include "crush/crush.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ME "cairn-crush"

static int write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	if (!f)
		return -errno;
	if (fwrite(p, 1, n, f) != n || fclose(f) != 0)
		return -EIO;
	return 0;
}

/* Loads a binary map (cairn's envelope or Ceph's). */
static int load_map(const char *path, struct crush_map **out)
{
	char *data;
	size_t len;
	int r = util_read_file(path, 256u << 20, &data, &len);

	if (r) {
		fprintf(stderr, ME ": error reading '%s': %s\n", path, strerror(-r));
		return r;
	}
	if (crush_is_ceph_binary(data, len)) {
		r = crush_decode_ceph(data, len, out);
	} else {
		struct cdec d;

		cdec_init(&d, data, len);
		r = crush_decode(&d, out);
		if (!r && dec_left(&d))
			r = -EBADMSG;
		if (r && *out) {
			crush_destroy(*out);
			*out = NULL;
		}
	}
	free(data);
	if (r)
		fprintf(stderr, ME ": unable to decode %s: %s\n", path, strerror(-r));
	return r;
}

static int save_map(const struct crush_map *m, const char *path)
{
	struct cbuf b;
	int r;

	cbuf_init(&b);
	r = crush_encode(m, &b);
	if (!r)
		r = write_file(path, b.data, b.len);
	cbuf_free(&b);
	if (r)
		fprintf(stderr, ME ": error writing '%s': %s\n", path, strerror(-r));
	return r;
}

/* ------------------------------------------------------------------ test */

struct test_opts {
	int min_rule, max_rule;
	int min_rep, max_rep;
	int min_x, max_x;
	int64_t pool_id;
	int have_pool;
	int show_mappings, show_bad, show_stats, show_util, show_util_all;
	int *wdev;
	uint32_t *wval;
	int nweights;
};

static void print_vec(const int *v, int n, char *buf, size_t cap)
{
	size_t o = 0;

	o += (size_t)snprintf(buf + o, cap - o, "[");
	for (int i = 0; i < n && o < cap; i++)
		o += (size_t)snprintf(buf + o, cap - o, i ? ",%d" : "%d", v[i]);
	if (o < cap)
		snprintf(buf + o, cap - o, "]");
}

static uint32_t *test_weights(const struct crush_map *m, const struct test_opts *o)
{
	int n = crush_max_devices(m);
	uint32_t *w = calloc(n ? (size_t)n : 1, sizeof(uint32_t));

	if (!w)
		return NULL;
	for (int i = 0; i < n; i++)
		w[i] = crush_item_in_tree(m, i) ? 0x10000 : 0;
	for (int k = 0; k < o->nweights; k++)
		if (o->wdev[k] >= 0 && o->wdev[k] < n)
			w[o->wdev[k]] = o->wval[k];
	return w;
}

/* crushtool's CrushTester::get_maximum_affected_by_rule, quirks included. */
static int max_affected_by_rule(const struct crush_map *m, int ruleno)
{
	const struct crush_rule_step *steps;
	int nsteps, ntypes = 0, types[256], reps[256], count[256];
	int max_affected;

	crush_get_rule(m, ruleno, NULL, NULL, NULL, &steps, &nsteps);
	for (int i = 0; i < nsteps && ntypes < 256; i++) {
		if (steps[i].op >= 2 && steps[i].op != 4) {
			int t = steps[i].arg2, k;

			types[ntypes++] = t;
			for (k = 0; k < ntypes - 1; k++)
				if (types[k] == t)
					break;
			/* the last step naming a type sets its replication */
			for (int q = 0; q < ntypes; q++)
				if (types[q] == t)
					reps[q] = steps[i].arg1;
		}
	}
	for (int a = 0; a < ntypes; a++)
		count[a] = 0;
	/* every affected type entry (duplicates included) adds its count to that type */
	for (int a = 0; a < ntypes; a++) {
		int c = 0;

		for (int b = -1; b >= -crush_max_buckets(m); b--) {
			struct crush_bucket_info bi;

			if (crush_bucket_get(m, b, &bi) == 0 && crush_get_item_name(m, b) &&
			    bi.type == types[a])
				c++;
		}
		for (int q = 0; q < ntypes; q++)
			if (types[q] == types[a])
				count[q] += c;
	}
	/* count[] now holds, per entry, the shared per-type total */
	for (int a = 0; a < ntypes; a++) {
		int t = types[a], total = 0, rep = 0;

		for (int q = 0; q < ntypes; q++)
			if (types[q] == t) {
				total = count[q];
				rep = reps[q];
			}
		if (rep > 0 && rep < total)
			for (int q = 0; q < ntypes; q++)
				if (types[q] == t)
					count[q] = rep;
	}
	max_affected = crush_max_buckets(m) > crush_max_devices(m) ? crush_max_buckets(m)
								   : crush_max_devices(m);
	for (int a = 0; a < ntypes; a++)
		if (count[a] > 0 && count[a] < max_affected)
			max_affected = count[a];
	return max_affected;
}

static int do_test(const struct crush_map *m, struct test_opts *o)
{
	int ndev = crush_max_devices(m), nrules = crush_max_rules(m);
	uint32_t *w = test_weights(m, o);
	int *per = calloc((size_t)ndev + 1, sizeof(int));
	int result[CRUSH_MAX_RESULT];
	char line[8192];
	void *work = NULL;
	int rc = 0;

	if (!w || !per) {
		rc = -ENOMEM;
		goto out;
	}
	if (o->min_rule < 0 || o->max_rule < 0) {
		o->min_rule = 0;
		o->max_rule = nrules - 1;
	}
	if (o->min_x < 0 || o->max_x < 0) {
		o->min_x = 0;
		o->max_x = 1023;
	}
	if (o->show_util_all) {
		fprintf(stderr, "devices weights (hex): [");
		for (int i = 0; i < ndev; i++)
			fprintf(stderr, i ? ",%x" : "%x", w[i]);
		fprintf(stderr, "]\n");
	}
	for (int r = o->min_rule; r < nrules && r <= o->max_rule; r++) {
		int minr = o->min_rep, maxr = o->max_rep, rmin, rmax;

		if (!crush_rule_exists(m, r)) {
			if (o->show_stats)
				printf("rule %d dne\n", r);
			continue;
		}
		crush_get_rule(m, r, NULL, &rmin, &rmax, NULL, NULL);
		if (minr < 0 || maxr < 0) {
			minr = rmin;
			maxr = rmax;
		}
		if (o->show_stats)
			printf("rule %d (%s), x = %d..%d, numrep = %d..%d\n", r,
			       crush_get_rule_name(m, r) ? crush_get_rule_name(m, r) : "", o->min_x,
			       o->max_x, minr, maxr);
		for (int nr = minr; nr <= maxr; nr++) {
			int64_t total_weight = 0;
			int num_objects = o->max_x - o->min_x + 1, maxaff,
			    sizes[CRUSH_MAX_RESULT + 1];
			float expected_objects;

			if (nr < 0 || nr > CRUSH_MAX_RESULT)
				continue;
			memset(per, 0, sizeof(int) * ((size_t)ndev + 1));
			memset(sizes, 0, sizeof(sizes));
			for (int i = 0; i < ndev; i++)
				total_weight += (int32_t)w[i];
			if ((int32_t)total_weight == 0)
				continue;
			maxaff = max_affected_by_rule(m, r);
			expected_objects = (float)((nr < maxaff ? nr : maxaff) * num_objects);
			free(work);
			work = malloc(crush_work_size(m, nr) + 8);
			if (!work) {
				rc = -ENOMEM;
				goto out;
			}
			for (int x = o->min_x; x <= o->max_x; x++) {
				uint32_t real_x = (uint32_t)x;
				int n, has_none = 0;

				if (o->have_pool)
					real_x = crush_hash32_2(CRUSH_HASH_RJENKINS1, (uint32_t)x,
								(uint32_t)o->pool_id);
				n = crush_do_rule(m, r, (int)real_x, result, nr, w, ndev, work, 0);
				if (n < 0)
					n = 0;
				if (o->show_mappings) {
					print_vec(result, n, line, sizeof(line));
					printf("CRUSH rule %d x %d %s\n", r, x, line);
				}
				for (int i = 0; i < n; i++) {
					if (result[i] != CRUSH_ITEM_NONE) {
						if (result[i] >= 0 && result[i] < ndev)
							per[result[i]]++;
					} else {
						has_none = 1;
					}
				}
				sizes[n]++;
				if (o->show_bad && (n != nr || has_none)) {
					print_vec(result, n, line, sizeof(line));
					printf("bad mapping rule %d x %d num_rep %d result %s\n", r,
					       x, nr, line);
				}
			}
			if (o->show_stats) {
				for (int s = 0; s <= CRUSH_MAX_RESULT; s++)
					if (sizes[s])
						printf("rule %d (%s) num_rep %d result size == "
						       "%d:\t%d/%d\n",
						       r,
						       crush_get_rule_name(m, r)
							   ? crush_get_rule_name(m, r)
							   : "",
						       nr, s, sizes[s], num_objects);
				for (int i = 0; i < ndev; i++) {
					float prop =
					    (float)(int32_t)w[i] / (float)(int32_t)total_weight;
					float expected = prop * expected_objects;

					if (o->show_util) {
						if (expected > 0 && per[i] > 0)
							printf("  device %d:\t\t stored : %d\t "
							       "expected : %g\n",
							       i, per[i], (double)expected);
					} else if (o->show_util_all) {
						printf("  device %d:\t\t stored : %d\t expected : "
						       "%g\n",
						       i, per[i], (double)expected);
					}
				}
			}
		}
	}
out:
	free(work);
	free(w);
	free(per);
	return rc;
}

static int do_compare(const struct crush_map *m, const struct crush_map *m2, struct test_opts *o)
{
	int ndev = crush_max_devices(m), nrules = crush_max_rules(m), ret = 0;
	uint32_t *w = test_weights(m, o);
	int a[CRUSH_MAX_RESULT], b[CRUSH_MAX_RESULT];
	void *w1 = NULL, *w2 = NULL;

	if (!w)
		return -ENOMEM;
	if (o->min_rule < 0 || o->max_rule < 0) {
		o->min_rule = 0;
		o->max_rule = nrules - 1;
	}
	if (o->min_x < 0 || o->max_x < 0) {
		o->min_x = 0;
		o->max_x = 1023;
	}
	w1 = malloc(crush_work_size(m, CRUSH_MAX_RESULT));
	w2 = malloc(crush_work_size(m2, CRUSH_MAX_RESULT));
	if (!w1 || !w2) {
		free(w1);
		free(w2);
		free(w);
		return -ENOMEM;
	}
	for (int r = o->min_rule; r < nrules && r <= o->max_rule; r++) {
		int bad = 0, max;

		if (!crush_rule_exists(m, r)) {
			if (o->show_stats)
				printf("rule %d dne\n", r);
			continue;
		}
		for (int nr = o->min_rep; nr <= o->max_rep; nr++) {
			if (nr < 0 || nr > CRUSH_MAX_RESULT)
				continue;
			for (int x = o->min_x; x <= o->max_x; x++) {
				int n1 = crush_do_rule(m, r, x, a, nr, w, ndev, w1, 0);
				int n2 = crush_do_rule(m2, r, x, b, nr, w, ndev, w2, 0);

				if (n1 != n2 || memcmp(a, b, sizeof(int) * (size_t)n1))
					bad++;
			}
		}
		if (bad)
			ret = -1;
		max = (o->max_rep - o->min_rep + 1) * (o->max_x - o->min_x + 1);
		printf("rule %d had %d/%d mismatched mappings (%g)\n", r, bad, max,
		       max ? (double)bad / (double)max : 0.0);
	}
	if (ret)
		fprintf(stderr, "warning: maps are NOT equivalent\n");
	else
		printf("maps appear equivalent\n");
	free(w1);
	free(w2);
	free(w);
	return ret;
}

/* ------------------------------------------------------------------ build */

struct layer {
	const char *name;
	const char *alg;
	int size;
};

static int do_build(struct crush_map *m, int num_osds, const struct layer *layers, int nlayers)
{
	int *lower = malloc(sizeof(int) * ((size_t)num_osds + 1));
	uint32_t *lower_w = malloc(sizeof(uint32_t) * ((size_t)num_osds + 1));
	int nlower = num_osds, r = 0;
	char root[64];

	if (!lower || !lower_w) {
		r = -ENOMEM;
		goto out;
	}
	for (int i = 0; i < num_osds; i++) {
		lower[i] = i;
		lower_w[i] = 0x10000;
		if ((r = crush_add_device(m, i, NULL)))
			goto out;
	}
	crush_set_type_name(m, 0, "osd");
	for (int l = 0; l < nlayers; l++) {
		int type = l + 1, alg = crush_alg_from_name(layers[l].alg), ncur = 0, pos = 0,
		    idx = 0;

		if (alg < 0) {
			fprintf(stderr, "unknown bucket type '%s'\n", layers[l].alg);
			r = -EINVAL;
			goto out;
		}
		if ((r = crush_set_type_name(m, type, layers[l].name))) {
			fprintf(stderr, ME ": bad layer name '%s'\n", layers[l].name);
			goto out;
		}
		while (pos < nlower) {
			char name[64];
			int id, j;
			uint32_t wsum = 0;

			if (layers[l].size)
				snprintf(name, sizeof(name), "%s%d", layers[l].name, idx);
			else
				snprintf(name, sizeof(name), "%s", layers[l].name);
			for (j = 0; (j < layers[l].size || layers[l].size == 0) && pos + j < nlower;
			     j++)
				wsum += lower_w[pos + j];
			r = crush_add_bucket_items(m, 0, alg, CRUSH_HASH_RJENKINS1, type, name, j,
						   lower + pos, lower_w + pos, &id);
			if (r) {
				fprintf(stderr, " Couldn't add bucket: %s\n", strerror(-r));
				goto out;
			}
			pos += j;
			lower[ncur] = id;
			lower_w[ncur] = wsum;
			ncur++;
			idx++;
		}
		nlower = ncur;
	}
	if (nlayers) {
		const struct layer *top = &layers[nlayers - 1];

		if (top->size == 0)
			snprintf(root, sizeof(root), "%s", top->name);
		else
			snprintf(root, sizeof(root), "%s0", top->name);
		if (nlower > 1)
			fprintf(stderr,
				"The crush rulesets will use the root %s\nand ignore the "
				"others.\nThere are %d roots, they can be\ngrouped into a single "
				"root by appending something like:\n  root straw 0\n\n",
				root, nlower);
		r = crush_rule_create_replicated(m, "replicated_rule", root,
						 crush_get_type_name(m, 1), NULL, NULL);
	}
out:
	free(lower);
	free(lower_w);
	return r;
}

/* ------------------------------------------------------------------ bench */

struct bench_arg {
	const struct crush_map *m;
	const uint32_t *w;
	int ndev;
	int x0, count;
	uint64_t checksum;
};

static void *bench_thread(void *p)
{
	struct bench_arg *a = p;
	int result[3];
	void *work = malloc(crush_work_size(a->m, 3));
	uint64_t sum = 0;

	if (!work)
		return NULL;
	for (int x = a->x0; x < a->x0 + a->count; x++) {
		int n = crush_do_rule(a->m, 0, x, result, 3, a->w, a->ndev, work, 0);
		uint64_t h = (uint64_t)(uint32_t)x;

		for (int i = 0; i < n; i++)
			h = h * 1000003u + (uint64_t)(uint32_t)result[i];
		sum += h * 0x9e3779b97f4a7c15ull; /* order-free: same for any thread split */
	}
	a->checksum = sum;
	free(work);
	return NULL;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs crushtool on the same map (as text: compiled by crushtool) over the same x range and
 * returns its wall time, or < 0 if crushtool is not available. Also checks a prefix of the
 * mappings against ours when verify_n > 0. */
static double bench_crushtool(const struct crush_map *m, int count, int verify_n, int repeat,
			      int *mismatch, double *cpu_out)
{
	char dir[] = "/tmp/cairn-crush-bench.XXXXXX", txt[256], bin[256], cmd[1024], outp[256];
	struct cbuf b;
	double t0, t1 = -1;
	int r;

	*mismatch = -1;
	*cpu_out = -1;
	if (access("/usr/bin/crushtool", X_OK) != 0 &&
	    system("command -v crushtool >/dev/null 2>&1"))
		return -1;
	if (!mkdtemp(dir))
		return -1;
	snprintf(txt, sizeof(txt), "%s/map.txt", dir);
	snprintf(bin, sizeof(bin), "%s/map.bin", dir);
	snprintf(outp, sizeof(outp), "%s/map.out", dir);
	cbuf_init(&b);
	if (crush_decompile(m, &b) || write_file(txt, b.data, b.len)) {
		cbuf_free(&b);
		goto out;
	}
	cbuf_free(&b);
	snprintf(cmd, sizeof(cmd), "env -u CEPH_CONF crushtool -c %s -o %s >/dev/null 2>&1", txt,
		 bin);
	if (system(cmd))
		goto out;
	/* timed runs: all mappings computed, statistics only printed; best of `repeat` */
	for (int rep = 0; rep < repeat; rep++) {
		char maxx[32];
		pid_t pid;
		int status;
		struct rusage ru;
		double cpu;

		snprintf(maxx, sizeof(maxx), "%d", count - 1);
		t0 = now_s();
		pid = fork();
		if (pid == 0) {
			int fd = open("/dev/null", O_WRONLY);

			if (fd >= 0) {
				dup2(fd, 1);
				dup2(fd, 2);
			}
			unsetenv("CEPH_CONF");
			execlp("crushtool", "crushtool", "-i", bin, "--test", "--rule", "0",
			       "--num-rep", "3", "--min-x", "0", "--max-x", maxx,
			       "--show-statistics", (char *)NULL);
			_exit(127);
		}
		if (pid < 0 || wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status) ||
		    WEXITSTATUS(status)) {
			t1 = -1;
			goto out;
		}
		r = 0;
		cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
		      (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
		if (t1 < 0 || now_s() - t0 < t1)
			t1 = now_s() - t0;
		if (*cpu_out < 0 || cpu < *cpu_out)
			*cpu_out = cpu;
	}
	(void)r;
	if (verify_n > 0) {
		FILE *f;
		char line[512], mine[512];
		int result[3], x = 0, bad = 0;
		void *work = malloc(crush_work_size(m, 3));
		int ndev = crush_max_devices(m);
		uint32_t *w = calloc((size_t)ndev + 1, sizeof(uint32_t));

		for (int i = 0; w && i < ndev; i++)
			w[i] = crush_item_in_tree(m, i) ? 0x10000 : 0;
		snprintf(cmd, sizeof(cmd),
			 "env -u CEPH_CONF crushtool -i %s --test --rule 0 --num-rep 3 --min-x 0 "
			 "--max-x %d --show-mappings > %s 2>/dev/null",
			 bin, verify_n - 1, outp);
		if (work && w && system(cmd) == 0 && (f = fopen(outp, "r"))) {
			while (fgets(line, sizeof(line), f)) {
				int n = crush_do_rule(m, 0, x, result, 3, w, ndev, work, 0);
				char v[256];

				print_vec(result, n, v, sizeof(v));
				snprintf(mine, sizeof(mine), "CRUSH rule 0 x %d %s\n", x, v);
				if (strcmp(line, mine))
					bad++;
				x++;
			}
			fclose(f);
			*mismatch = x == verify_n ? bad : bad + (verify_n - x);
		}
		free(work);
		free(w);
	}
out:
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd)) {
		/* best effort cleanup */
	}
	return t1;
}

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Times `count` mappings of rule 0, num-rep 3 (x = 0..count-1, all devices in) with our
 * mapper and, when crushtool is installed, crushtool --test over the same inputs in the same
 * run; best of `repeat` for each. On a shared machine CPU seconds are the fairer measure, so
 * both wall and CPU rates are printed; speedup= uses CPU time.
 */
static int do_bench(struct crush_map *m, int count, int threads, int use_crushtool, int verify_n,
		    int repeat)
{
	int ndev, rep = 3, mismatch = -1;
	uint32_t *w;
	pthread_t th[64];
	struct bench_arg args[64];
	double t = -1, cpu = -1, tc = -1, cpuc = -1;
	uint64_t sum = 0;

	ndev = crush_max_devices(m);
	w = calloc((size_t)ndev + 1, sizeof(uint32_t));
	if (!w)
		return -ENOMEM;
	for (int i = 0; i < ndev; i++)
		w[i] = crush_item_in_tree(m, i) ? 0x10000 : 0;
	if (threads < 1)
		threads = 1;
	if (threads > 64)
		threads = 64;
	if (repeat < 1)
		repeat = 1;
	/* warm up */
	args[0] = (struct bench_arg){m, w, ndev, 0, count < 10000 ? count : 10000, 0};
	bench_thread(&args[0]);
	for (int k = 0; k < repeat; k++) {
		double t0 = now_s(), c0 = cpu_s(), dt, dc;

		sum = 0;
		for (int i = 0; i < threads; i++) {
			args[i] = (struct bench_arg){m,
						     w,
						     ndev,
						     (int)((int64_t)count * i / threads),
						     (int)((int64_t)count * (i + 1) / threads -
							   (int64_t)count * i / threads),
						     0};
			if (pthread_create(&th[i], NULL, bench_thread, &args[i])) {
				free(w);
				return -EAGAIN;
			}
		}
		for (int i = 0; i < threads; i++) {
			pthread_join(th[i], NULL);
			sum += args[i].checksum;
		}
		dt = now_s() - t0;
		dc = cpu_s() - c0;
		if (t < 0 || dt < t)
			t = dt;
		if (cpu < 0 || dc < cpu)
			cpu = dc;
	}
	printf("cairn-crush: %d mappings (rule 0, num-rep %d, %d threads): %.3f s wall, %.3f s "
	       "cpu: %.0f mappings/s wall, %.0f mappings/s per cpu second\n",
	       count, rep, threads, t, cpu, count / t, count / cpu);
	if (use_crushtool) {
		tc = bench_crushtool(m, count, verify_n, repeat, &mismatch, &cpuc);
		if (tc > 0)
			printf("crushtool:   %d mappings (--test --num-rep %d --show-statistics): "
			       "%.3f s wall, %.3f s cpu: %.0f mappings/s wall, %.0f mappings/s per "
			       "cpu second\n",
			       count, rep, tc, cpuc, count / tc, count / cpuc);
		else
			printf("crushtool:   not available\n");
		if (mismatch >= 0)
			printf("verify: %d/%d mappings differ from crushtool --show-mappings\n",
			       mismatch, verify_n);
	}
	printf("summary: mappings=%d threads=%d repeat=%d seconds=%.3f cpu_seconds=%.3f rate=%.0f "
	       "cpu_rate=%.0f crushtool_seconds=%.3f crushtool_cpu_seconds=%.3f "
	       "crushtool_rate=%.0f crushtool_cpu_rate=%.0f speedup_wall=%.2f speedup=%.2f "
	       "mismatches=%d checksum=%016llx\n",
	       count, threads, repeat, t, cpu, count / t, count / cpu, tc > 0 ? tc : 0.0,
	       cpuc > 0 ? cpuc : 0.0, tc > 0 ? count / tc : 0.0, cpuc > 0 ? count / cpuc : 0.0,
	       tc > 0 ? tc / t : 0.0, cpuc > 0 ? cpuc / cpu : 0.0, mismatch,
	       (unsigned long long)sum);
	free(w);
	return mismatch > 0 ? -EDOM : 0;
}

/* 1000 OSDs: 10 per host, 10 hosts per rack, 10 racks, all straw2 (the bench map). */
static struct crush_map *bench_map(void)
{
	static const struct layer layers[] = {
	    {"host", "straw2", 10},
	    {"rack", "straw2", 10},
	    {"root", "straw2", 0},
	};
	struct crush_map *m = crush_create();

	if (m && do_build(m, 1000, layers, 3)) {
		crush_destroy(m);
		m = NULL;
	}
	return m;
}

/* ------------------------------------------------------------------ main */

static void usage(void)
{
	fprintf(
	    stderr,
	    "usage: " ME " -c map.txt -o map.bin | -d map.bin [-o map.txt]\n"
	    "       " ME " --build --num_osds N NAME ALG SIZE ... -o map.bin\n"
	    "       " ME " -i map.bin --test [--rule R] [--num-rep K] [--min-x A] [--max-x B]\n"
	    "                [--x X] [--pool-id P] [--weight ID W] [--show-mappings]\n"
	    "                [--show-bad-mappings] [--show-statistics] [--show-utilization]\n"
	    "                [--show-utilization-all]\n"
	    "       " ME " -i map.bin --compare other.bin [--rule R] [--num-rep K] ...\n"
	    "       " ME " -i map.bin [--add-item ID W NAME | --update-item ID W NAME]\n"
	    "                [--loc TYPE NAME]... [--remove-item NAME] [--reweight-item NAME W]\n"
	    "                [--set-choose-total-tries N] [--set-chooseleaf-vary-r N] ...\n"
	    "                -o out.bin\n"
	    "       " ME " --bench [-i map.bin] [--count N] [--threads T] [--repeat R]\n"
	    "                [--verify N] [--no-crushtool]\n");
}

static int opt_is(const char *arg, const char *name)
{
	/* "--show_mappings" == "--show-mappings" */
	if (arg[0] != '-' || arg[1] != '-')
		return !strcmp(arg, name);
	for (; *arg && *name; arg++, name++) {
		char a = *arg == '_' ? '-' : *arg, b = *name == '_' ? '-' : *name;

		if (a != b)
			return 0;
	}
	return *arg == *name;
}

static int parse_i(const char *s, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (!*s || *end || errno || v < INT32_MIN || v > INT32_MAX)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

static uint32_t weight_from_float(const char *s, int *ok)
{
	char *end;
	float f = strtof(s, &end);

	*ok = *s && !*end && f >= 0.0f && f < 65536.0f;
	return *ok ? (uint32_t)(f * (float)0x10000) : 0;
}

int main(int argc, char **argv)
{
	const char *compile_in = NULL, *decompile_in = NULL, *in = NULL, *out = NULL,
		   *compare = NULL, *remove_name = NULL, *reweight_name = NULL, *add_name = NULL;
	int build = 0, test = 0, bench = 0, num_osds = -1, add_id = -1, update = 0;
	int count = 1000000, threads = 1, use_crushtool = 1, verify_n = 10000, repeat = 1;
	uint32_t add_weight = 0, reweight_w = 0;
	struct layer layers[32];
	int nlayers = 0, nloc = 0, ok, rc = 1, r, modified = 0;
	const char *loc_types[32], *loc_names[32];
	struct test_opts t = {-1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, NULL, NULL, 0};
	struct crush_map *m = NULL;
	/* --set-<tunable> N: -1 = unchanged; order as in struct crush_tunables */
	static const char *const set_names[] = {
	    "--set-choose-local-tries", "--set-choose-local-fallback-tries",
	    "--set-choose-total-tries", "--set-chooseleaf-descend-once",
	    "--set-chooseleaf-vary-r",	"--set-chooseleaf-stable",
	    "--set-straw-calc-version", "--set-allowed-bucket-algs"};
	int64_t setv[8] = {-1, -1, -1, -1, -1, -1, -1, -1};
	int nset = 0;

	t.wdev = calloc((size_t)argc + 1, sizeof(int));
	t.wval = calloc((size_t)argc + 1, sizeof(uint32_t));
	if (!t.wdev || !t.wval)
		return 1;
#define NEED(k)                                                                                    \
	do {                                                                                       \
		if (i + (k) >= argc) {                                                             \
			fprintf(stderr, ME ": option %s needs an argument\n", argv[i]);            \
			goto done;                                                                 \
		}                                                                                  \
	} while (0)
#define INTARG(dst)                                                                                \
	do {                                                                                       \
		NEED(1);                                                                           \
		if (parse_i(argv[i + 1], &(dst))) {                                                \
			fprintf(stderr, ME ": bad number '%s' for %s\n", argv[i + 1], argv[i]);    \
			goto done;                                                                 \
		}                                                                                  \
		i++;                                                                               \
	} while (0)

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (opt_is(a, "-c") || opt_is(a, "--compile")) {
			NEED(1);
			compile_in = argv[++i];
		} else if (opt_is(a, "-d") || opt_is(a, "--decompile")) {
			NEED(1);
			decompile_in = argv[++i];
		} else if (opt_is(a, "-i") || opt_is(a, "--infn")) {
			NEED(1);
			in = argv[++i];
		} else if (opt_is(a, "-o") || opt_is(a, "--outfn")) {
			NEED(1);
			out = argv[++i];
		} else if (opt_is(a, "--build")) {
			build = 1;
		} else if (opt_is(a, "--num-osds")) {
			INTARG(num_osds);
		} else if (opt_is(a, "--test")) {
			test = 1;
		} else if (opt_is(a, "--bench")) {
			bench = 1;
		} else if (opt_is(a, "--count")) {
			INTARG(count);
		} else if (opt_is(a, "--threads")) {
			INTARG(threads);
		} else if (opt_is(a, "--repeat")) {
			INTARG(repeat);
		} else if (opt_is(a, "--verify")) {
			INTARG(verify_n);
		} else if (opt_is(a, "--no-crushtool")) {
			use_crushtool = 0;
		} else if (opt_is(a, "--rule") || opt_is(a, "--ruleset")) {
			INTARG(t.min_rule);
			t.max_rule = t.min_rule;
		} else if (opt_is(a, "--min-rule")) {
			INTARG(t.min_rule);
		} else if (opt_is(a, "--max-rule")) {
			INTARG(t.max_rule);
		} else if (opt_is(a, "--num-rep")) {
			INTARG(t.min_rep);
			t.max_rep = t.min_rep;
		} else if (opt_is(a, "--min-rep")) {
			INTARG(t.min_rep);
		} else if (opt_is(a, "--max-rep")) {
			INTARG(t.max_rep);
		} else if (opt_is(a, "--min-x")) {
			INTARG(t.min_x);
		} else if (opt_is(a, "--max-x")) {
			INTARG(t.max_x);
		} else if (opt_is(a, "--x")) {
			INTARG(t.min_x);
			t.max_x = t.min_x;
		} else if (opt_is(a, "--pool-id")) {
			int p;

			INTARG(p);
			t.pool_id = p;
			t.have_pool = 1;
		} else if (opt_is(a, "--weight")) {
			int dev;

			NEED(2);
			if (parse_i(argv[i + 1], &dev)) {
				fprintf(stderr, ME ": bad device '%s'\n", argv[i + 1]);
				goto done;
			}
			{
				char *end;
				float f = strtof(argv[i + 2], &end);
				int w;

				if (!*argv[i + 2] || *end) {
					fprintf(stderr, ME ": bad weight '%s'\n", argv[i + 2]);
					goto done;
				}
				w = (int)(f * (float)0x10000);
				if (w < 0)
					w = 0;
				if (w > 0x10000)
					w = 0x10000;
				t.wdev[t.nweights] = dev;
				t.wval[t.nweights++] = (uint32_t)w;
			}
			i += 2;
		} else if (opt_is(a, "--show-mappings")) {
			t.show_mappings = 1;
		} else if (opt_is(a, "--show-bad-mappings")) {
			t.show_bad = 1;
		} else if (opt_is(a, "--show-statistics")) {
			t.show_stats = 1;
		} else if (opt_is(a, "--show-utilization")) {
			t.show_util = 1;
			t.show_stats = 1;
		} else if (opt_is(a, "--show-utilization-all")) {
			t.show_util_all = 1;
			t.show_stats = 1;
		} else if (opt_is(a, "--compare")) {
			NEED(1);
			compare = argv[++i];
		} else if (opt_is(a, "--add-item") || opt_is(a, "--update-item")) {
			update = opt_is(a, "--update-item");
			NEED(3);
			if (parse_i(argv[i + 1], &add_id) || add_id < 0) {
				fprintf(stderr, ME ": bad item id '%s'\n", argv[i + 1]);
				goto done;
			}
			add_weight = weight_from_float(argv[i + 2], &ok);
			if (!ok) {
				fprintf(stderr, ME ": bad weight '%s'\n", argv[i + 2]);
				goto done;
			}
			add_name = argv[i + 3];
			i += 3;
		} else if (opt_is(a, "--loc")) {
			NEED(2);
			if (nloc == 32) {
				fprintf(stderr, ME ": too many --loc\n");
				goto done;
			}
			loc_types[nloc] = argv[i + 1];
			loc_names[nloc++] = argv[i + 2];
			i += 2;
		} else if (opt_is(a, "--remove-item")) {
			NEED(1);
			remove_name = argv[++i];
		} else if (opt_is(a, "--reweight-item")) {
			NEED(2);
			reweight_name = argv[i + 1];
			reweight_w = weight_from_float(argv[i + 2], &ok);
			if (!ok) {
				fprintf(stderr, ME ": bad weight '%s'\n", argv[i + 2]);
				goto done;
			}
			i += 2;
		} else if (opt_is(a, "--enable-unsafe-tunables")) {
			/* accepted for compatibility: every tunable is safe */
		} else if (a[0] == '-' && a[1] == '-' && !strncmp(a + 2, "set", 3) &&
			   (a[5] == '-' || a[5] == '_')) {
			size_t k;

			for (k = 0; k < 8; k++)
				if (opt_is(a, set_names[k]))
					break;
			if (k == 8) {
				fprintf(stderr, ME ": unrecognized argument '%s'\n", a);
				goto done;
			}
			{
				int v;

				INTARG(v);
				if (v < 0) {
					fprintf(stderr, ME ": bad value for %s\n", a);
					goto done;
				}
				setv[k] = v;
				nset++;
			}
		} else if (opt_is(a, "-h") || opt_is(a, "--help")) {
			usage();
			rc = 0;
			goto done;
		} else if (build && a[0] != '-' && i + 2 < argc) {
			if (nlayers == 32) {
				fprintf(stderr, ME ": too many layers\n");
				goto done;
			}
			layers[nlayers].name = argv[i];
			layers[nlayers].alg = argv[i + 1];
			if (parse_i(argv[i + 2], &layers[nlayers].size) ||
			    layers[nlayers].size < 0) {
				fprintf(stderr, ME ": bad layer size '%s'\n", argv[i + 2]);
				goto done;
			}
			nlayers++;
			i += 2;
		} else {
			fprintf(stderr, ME ": unrecognized argument '%s'\n", a);
			usage();
			goto done;
		}
	}

	if (bench) {
		if (in) {
			if (load_map(in, &m))
				goto done;
		} else if (!(m = bench_map())) {
			fprintf(stderr, ME ": cannot build the bench map\n");
			goto done;
		}
		r = do_bench(m, count > 0 ? count : 1, threads, use_crushtool, verify_n, repeat);
		rc = r ? 1 : 0;
		goto done;
	}
	if (compile_in) {
		char *text, err[512];
		size_t len;

		r = util_read_file(compile_in, 256u << 20, &text, &len);
		if (r) {
			fprintf(stderr, "input file %s not found\n", compile_in);
			goto done;
		}
		r = crush_compile(text, len, compile_in, &m, err, sizeof(err));
		free(text);
		if (r) {
			fprintf(stderr, "%s\n", err);
			goto done;
		}
		modified = 1;
	} else if (build) {
		if (num_osds < 0) {
			fprintf(stderr, ME ": must specify --num_osds\n");
			goto done;
		}
		if (!nlayers) {
			fprintf(stderr, ME ": must specify at least one layer\n");
			goto done;
		}
		m = crush_create();
		if (!m || do_build(m, num_osds, layers, nlayers))
			goto done;
		modified = 1;
	} else if (decompile_in) {
		if (load_map(decompile_in, &m))
			goto done;
	} else if (in) {
		if (load_map(in, &m))
			goto done;
	} else {
		usage();
		goto done;
	}

	if (nset) {
		struct crush_tunables tu;

		crush_get_tunables(m, &tu);
		if (setv[0] >= 0)
			tu.choose_local_tries = (uint32_t)setv[0];
		if (setv[1] >= 0)
			tu.choose_local_fallback_tries = (uint32_t)setv[1];
		if (setv[2] >= 0)
			tu.choose_total_tries = (uint32_t)setv[2];
		if (setv[3] >= 0)
			tu.chooseleaf_descend_once = (uint32_t)setv[3];
		if (setv[4] >= 0)
			tu.chooseleaf_vary_r = (uint8_t)setv[4];
		if (setv[5] >= 0)
			tu.chooseleaf_stable = (uint8_t)setv[5];
		if (setv[6] >= 0)
			tu.straw_calc_version = (uint8_t)setv[6];
		if (setv[7] >= 0)
			tu.allowed_bucket_algs = (uint32_t)setv[7];
		crush_set_tunables(m, &tu);
		modified = 1;
	}
	if (add_id >= 0) {
		r = update && crush_item_in_tree(m, add_id) ? crush_remove_item(m, add_id) : 0;
		if (!r)
			r = crush_insert_item(m, add_id, add_weight, add_name, loc_types, loc_names,
					      nloc);
		if (r) {
			fprintf(stderr, ME " %s\n", strerror(-r));
			goto done;
		}
		modified = 1;
	}
	if (remove_name) {
		int id;

		r = crush_get_item_id(m, remove_name, &id);
		if (!r)
			r = crush_remove_item(m, id);
		if (r) {
			fprintf(stderr, ME ": unable to remove %s: %s\n", remove_name,
				strerror(-r));
			goto done;
		}
		modified = 1;
	}
	if (reweight_name) {
		int id;

		r = crush_get_item_id(m, reweight_name, &id);
		if (!r)
			r = crush_reweight_item(m, id, reweight_w);
		if (r) {
			fprintf(stderr, ME ": unable to reweight %s: %s\n", reweight_name,
				strerror(-r));
			goto done;
		}
		modified = 1;
	}

	if (decompile_in) {
		struct cbuf b;

		cbuf_init(&b);
		r = crush_decompile(m, &b);
		if (!r) {
			if (out)
				r = write_file(out, b.data, b.len);
			else if (fwrite(b.data, 1, b.len, stdout) != b.len)
				r = -EIO;
		}
		cbuf_free(&b);
		if (r) {
			fprintf(stderr, ME ": decompile failed: %s\n", strerror(-r));
			goto done;
		}
	}
	if (compare) {
		struct crush_map *m2 = NULL;

		if (load_map(compare, &m2))
			goto done;
		if (t.min_rep < 0 || t.max_rep < 0) {
			fprintf(stderr,
				ME ": --compare needs --num-rep (or --min-rep and --max-rep)\n");
			crush_destroy(m2);
			goto done;
		}
		r = do_compare(m, m2, &t);
		crush_destroy(m2);
		if (r) {
			rc = 1;
			goto done;
		}
	}
	if (test) {
		if (!t.show_mappings && !t.show_bad && !t.show_stats)
			fprintf(stderr,
				"WARNING: no output selected; use --output-csv or --show-X\n");
		if ((r = do_test(m, &t))) {
			fprintf(stderr, ME ": test failed: %s\n", strerror(-r));
			goto done;
		}
	}
	if (modified && !decompile_in) {
		if (!out) {
			if (!test && !compare)
				fprintf(stderr,
					ME ": no output file given (-o); map not written\n");
		} else if (save_map(m, out)) {
			goto done;
		}
	}
	rc = 0;
done:
	crush_destroy(m);
	free(t.wdev);
	free(t.wval);
	return rc;
}
