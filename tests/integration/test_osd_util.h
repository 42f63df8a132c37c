/*
 * test_osd_util — what the OSD integration tests share (header-only): the cluster directory
 * and the bin directory, a CHECK that counts a failure and goes on (so one run reports every
 * broken check), a printf-style system(), and cleanup() that stops the cluster the test
 * started with cairn-up and removes its directory (kept when CAIRN_KEEP is set).
 */
#ifndef CAIRN_TEST_OSD_UTIL_H
#define CAIRN_TEST_OSD_UTIL_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static char dir[256], bin[256];
static int failures;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);            \
			fprintf(stderr, __VA_ARGS__);                                              \
			fprintf(stderr, "\n");                                                     \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static void cleanup(void)
{
	if (dir[0]) {
		sh("%s/cairn-up stop --dir %s >/dev/null 2>&1", bin, dir);
		if (!getenv("CAIRN_KEEP"))
			sh("rm -rf %s", dir);
	}
}

#endif
