/*
 * test_libcairn_util — helpers for the libcairn integration tests (header-only): start a
 * local cluster with cairn-up in a mktemp directory, stop it at exit (also on failure and on
 * SIGTERM from the test runner's timeout; a detached watcher covers crashes and SIGKILL),
 * and a CHECK macro that says where it failed.
 */
#ifndef CAIRN_TEST_LIBCAIRN_UTIL_H
#define CAIRN_TEST_LIBCAIRN_UTIL_H

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#define TC_MAX_CLUSTERS 4

static char tc_dir[256];  /* mkdtemp root; cluster k lives in tc_dir/c<k> */
static char tc_conf[300]; /* conf of cluster 0 (tc_start) */
static char tc_bin[256];
static int tc_nclusters;
static int tc_up[TC_MAX_CLUSTERS];

#define CHECK(cond)                                                                          \
	do {                                                                                 \
		if (!(cond)) {                                                               \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
			exit(1);                                                             \
		}                                                                            \
	} while (0)
#define CHECK_RC(expr, want)                                                                 \
	do {                                                                                 \
		long _r = (long)(expr);                                                      \
		if (_r != (long)(want)) {                                                    \
			fprintf(stderr, "%s:%d: %s = %ld (%s), want %ld\n", __FILE__, __LINE__, \
				#expr, _r, _r < 0 ? strerror((int)-_r) : "", (long)(want));     \
			exit(1);                                                             \
		}                                                                            \
	} while (0)

static __attribute__((unused)) double tc_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int tc_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int tc_sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	int r;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	r = system(cmd);
	return r == -1 ? -1 : WEXITSTATUS(r);
}

/* Stops cluster k (the test may do that on purpose, e.g. to see ops time out). */
static __attribute__((unused)) void tc_stop_cluster(int k)
{
	if (k < 0 || k >= tc_nclusters || !tc_up[k])
		return;
	tc_up[k] = 0;
	tc_sh("'%s/cairn-up' stop --dir '%s/c%d' >>'%s/c%d.up.log' 2>&1", tc_bin, tc_dir, k,
	      tc_dir, k);
}

static void tc_stop(void)
{
	for (int k = 0; k < tc_nclusters; k++)
		tc_stop_cluster(k);
	if (tc_dir[0]) {
		if (getenv("CAIRN_KEEP_TEST_DIR"))
			fprintf(stderr, "keeping %s\n", tc_dir);
		else
			tc_sh("rm -rf '%s'", tc_dir);
		tc_dir[0] = '\0';
	}
}

static void tc_on_signal(int sig)
{
	tc_stop();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void tc_init(void)
{
	const char *bin = getenv("CAIRN_BIN");
	char tmp[] = "/tmp/cairn-libtest.XXXXXX";
	char p[300];

	if (tc_dir[0])
		return;
	snprintf(tc_bin, sizeof(tc_bin), "%s", bin ? bin : "build/bin");
	snprintf(p, sizeof(p), "%s/cairn-up", tc_bin);
	if (access(p, X_OK) < 0) {
		printf("cairn-up not built (%s)\n", p);
		exit(77);
	}
	if (!mkdtemp(tmp)) {
		perror("mkdtemp");
		exit(1);
	}
	snprintf(tc_dir, sizeof(tc_dir), "%s", tmp);
	atexit(tc_stop);
	signal(SIGTERM, tc_on_signal);
	signal(SIGINT, tc_on_signal);
	/* a watcher outside our process group stops every cluster if this process dies without
	 * running tc_stop (a crash, abort, SIGKILL from the runner's timeout) */
	tc_sh("setsid sh -c 'while kill -0 %d 2>/dev/null; do sleep 1; done; "
	      "for c in \"%s\"/c*; do [ -d \"$c\" ] && \"%s/cairn-up\" stop --dir \"$c\"; done; "
	      "rm -rf \"%s\"' >/dev/null 2>&1 </dev/null &", (int)getpid(), tc_dir, tc_bin, tc_dir);
}

/* Starts another cluster of nosds OSDs with pools ("rbd:16:3", several separated by spaces);
 * its conf path goes to conf. Returns its index (for tc_stop_cluster). Exits 77 (skip) when
 * cairn-up is not built, 1 when the cluster does not come up. */
static int tc_start_cluster(int nosds, const char *pools, char *conf, size_t conflen)
{
	char pool_args[512] = "", buf[256], *save = NULL, *tok;
	int k;

	tc_init();
	if (tc_nclusters == TC_MAX_CLUSTERS) {
		fprintf(stderr, "too many clusters\n");
		exit(1);
	}
	k = tc_nclusters++;
	snprintf(buf, sizeof(buf), "%s", pools);
	for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		strncat(pool_args, " --pool ", sizeof(pool_args) - strlen(pool_args) - 1);
		strncat(pool_args, tok, sizeof(pool_args) - strlen(pool_args) - 1);
	}
	tc_up[k] = 1;
	if (tc_sh("'%s/cairn-up' start --dir '%s/c%d' --osds %d%s >'%s/c%d.up.log' 2>&1", tc_bin,
		  tc_dir, k, nosds, pool_args, tc_dir, k) != 0) {
		fprintf(stderr, "cairn-up start failed:\n");
		tc_sh("tail -n 40 '%s/c%d.up.log' >&2", tc_dir, k);
		exit(1);
	}
	snprintf(conf, conflen, "%s/c%d/cairn.conf", tc_dir, k);
	return k;
}

/* Starts cluster 0 and sets tc_conf. CAIRN_TEST_CONF=path uses a running cluster instead
 * (debugging; its pools must exist; it is left running). */
static void tc_start(int nosds, const char *pools)
{
	if (getenv("CAIRN_TEST_CONF")) {
		snprintf(tc_conf, sizeof(tc_conf), "%s", getenv("CAIRN_TEST_CONF"));
		return;
	}
	tc_start_cluster(nosds, pools, tc_conf, sizeof(tc_conf));
}

#endif
