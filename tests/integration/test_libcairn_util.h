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

static char tc_dir[256];
static char tc_conf[300];
static char tc_bin[256];
static int tc_up;

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

static void tc_stop(void)
{
	if (tc_up) {
		tc_up = 0;
		tc_sh("'%s/cairn-up' stop --dir '%s' >>'%s/up.log' 2>&1", tc_bin, tc_dir, tc_dir);
	}
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

/* Starts a cluster of nosds OSDs with pools ("rbd:16:3", may be several separated by spaces)
 * and sets tc_conf. Exits 77 (skip) when cairn-up is not built. */
static void tc_start(int nosds, const char *pools)
{
	const char *bin = getenv("CAIRN_BIN");
	char pool_args[512] = "";
	char tmp[] = "/tmp/cairn-libtest.XXXXXX";

	snprintf(tc_bin, sizeof(tc_bin), "%s", bin ? bin : "build/bin");
	if (getenv("CAIRN_TEST_CONF")) {
		/* debugging: use a running cluster (its pools must exist), leave it running */
		snprintf(tc_conf, sizeof(tc_conf), "%s", getenv("CAIRN_TEST_CONF"));
		return;
	}
	{
		char p[300];
		snprintf(p, sizeof(p), "%s/cairn-up", tc_bin);
		if (access(p, X_OK) < 0) {
			printf("cairn-up not built (%s)\n", p);
			exit(77);
		}
	}
	if (!mkdtemp(tmp)) {
		perror("mkdtemp");
		exit(1);
	}
	snprintf(tc_dir, sizeof(tc_dir), "%s", tmp);
	snprintf(tc_conf, sizeof(tc_conf), "%s/cairn.conf", tc_dir);
	atexit(tc_stop);
	signal(SIGTERM, tc_on_signal);
	signal(SIGINT, tc_on_signal);
	{
		char buf[256], *save = NULL, *tok;
		snprintf(buf, sizeof(buf), "%s", pools);
		for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
			strncat(pool_args, " --pool ", sizeof(pool_args) - strlen(pool_args) - 1);
			strncat(pool_args, tok, sizeof(pool_args) - strlen(pool_args) - 1);
		}
	}
	tc_up = 1;
	/* a watcher outside our process group stops the cluster if this process dies without
	 * running tc_stop (a crash, abort, SIGKILL from the runner's timeout) */
	tc_sh("setsid sh -c 'while kill -0 %d 2>/dev/null; do sleep 1; done; "
	      "if [ -d \"%s\" ]; then \"%s/cairn-up\" stop --dir \"%s\"; rm -rf \"%s\"; fi' "
	      ">/dev/null 2>&1 </dev/null &", (int)getpid(), tc_dir, tc_bin, tc_dir, tc_dir);
	if (tc_sh("'%s/cairn-up' start --dir '%s' --osds %d%s >'%s/up.log' 2>&1", tc_bin, tc_dir,
		  nosds, pool_args, tc_dir) != 0) {
		fprintf(stderr, "cairn-up start failed:\n");
		tc_sh("tail -n 40 '%s/up.log' >&2", tc_dir);
		exit(1);
	}
}

#endif
