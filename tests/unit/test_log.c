/* test_log — line format, level filtering (arguments not evaluated when off), truncation of
 * long lines, whole lines under concurrent writers, reopen and failure to open. */
// timeout: 60
#include <errno.h>
#include <pthread.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/config.h"
#include "common/log.h"

static char path[64];

static int setup(void **state)
{
	int fd;

	(void)state;
	strcpy(path, "/tmp/test_log.XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	log_close();
	log_init(NULL, LOG_WARN, NULL);
	unlink(path);
	return 0;
}

/* Reads the log file into a NUL-terminated heap string and counts its lines. */
static char *slurp(int *lines)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*lines = 0;
	for (long i = 0; i < n; i++)
		*lines += buf[i] == '\n';
	return buf;
}

static int evaluated;
static int side_effect(void)
{
	return ++evaluated;
}

static void test_format_and_levels(void **state)
{
	regex_t re;
	char *buf, *line, *save = NULL;
	int lines;

	(void)state;
	assert_int_equal(log_init(path, LOG_INFO, "osd.3"), 0);
	assert_int_equal(cairn_log_level, LOG_INFO);
	CLOG_ERR("osd", "error %d", 1);
	CLOG_WARN("msg", "warn %s", "two");
	CLOG_INFO("mon", "info\n"); /* trailing newline is not doubled */
	evaluated = 0;
	CLOG_DEBUG("osd", "debug %d", side_effect());
	CLOG_TRACE("osd", "trace %d", side_effect());
	assert_int_equal(evaluated, 0);
	log_set_level(LOG_TRACE);
	CLOG_TRACE("osd", "trace %d", side_effect());
	assert_int_equal(evaluated, 1);
	log_set_level(99); /* clamped */
	assert_int_equal(cairn_log_level, LOG_TRACE);
	log_set_level(-5);
	assert_int_equal(cairn_log_level, LOG_ERR);
	CLOG_WARN("osd", "filtered");
	log_write(LOG_ERR, NULL, "no subsystem");

	buf = slurp(&lines);
	assert_int_equal(lines, 5);
	assert_int_equal(
	    regcomp(&re,
		    "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}Z "
		    "osd\\.3 (ERR|WARN|INFO|DEBUG|TRACE) [a-z-]+: .*$",
		    REG_EXTENDED | REG_NOSUB),
	    0);
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (regexec(&re, line, 0, NULL, 0))
			fail_msg("bad log line '%s'", line);
	regfree(&re);
	free(buf);
	buf = slurp(&lines);
	assert_non_null(strstr(buf, " osd.3 ERR osd: error 1\n"));
	assert_non_null(strstr(buf, " osd.3 WARN msg: warn two\n"));
	assert_non_null(strstr(buf, " osd.3 INFO mon: info\n"));
	assert_non_null(strstr(buf, " osd.3 TRACE osd: trace 1\n"));
	assert_non_null(strstr(buf, " osd.3 ERR -: no subsystem\n"));
	assert_null(strstr(buf, "filtered"));
	assert_null(strstr(buf, "debug"));
	free(buf);
}

static void test_long_line_truncated(void **state)
{
	char *big = malloc(10000), *buf;
	int lines;

	(void)state;
	assert_non_null(big);
	memset(big, 'x', 9999);
	big[9999] = '\0';
	assert_int_equal(log_init(path, LOG_INFO, "client"), 0);
	CLOG_INFO("t", "%s", big);
	CLOG_INFO("t", "after");
	buf = slurp(&lines);
	assert_int_equal(lines, 2);
	assert_true(strchr(buf, '\n') - buf == LOG_LINE_MAX - 1);
	assert_non_null(strstr(buf, "client INFO t: after\n"));
	free(buf);
	free(big);
}

#define THREADS	   4
#define PER_THREAD 2000
static void *writer(void *arg)
{
	long id = (long)arg;
	int i;

	for (i = 0; i < PER_THREAD; i++)
		CLOG_INFO("thr", "thread %ld line %d %s", id, i,
			  "padding-padding-padding-padding-padding-padding-padding-padding");
	return NULL;
}

static void test_concurrent_lines_are_whole(void **state)
{
	pthread_t th[THREADS];
	int counts[THREADS] = {0};
	char *buf, *line, *save = NULL;
	int lines, i;
	long id;

	(void)state;
	assert_int_equal(log_init(path, LOG_INFO, "mds.0"), 0);
	for (id = 0; id < THREADS; id++)
		assert_int_equal(pthread_create(&th[id], NULL, writer, (void *)id), 0);
	for (id = 0; id < THREADS; id++)
		pthread_join(th[id], NULL);
	buf = slurp(&lines);
	assert_int_equal(lines, THREADS * PER_THREAD);
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const char *p = strstr(line, " mds.0 INFO thr: thread ");

		assert_non_null(p);
		assert_int_equal(sscanf(p, " mds.0 INFO thr: thread %ld line %d", &id, &i), 2);
		assert_true(id >= 0 && id < THREADS);
		assert_int_equal(i, counts[id]); /* in order per thread */
		counts[id]++;
		assert_non_null(strstr(line, "padding-padding-padding-padding-padding-padding-"
					     "padding-padding"));
	}
	free(buf);
}

static void test_init_failure_keeps_old_target(void **state)
{
	char *buf;
	int lines;

	(void)state;
	assert_int_equal(log_init(path, LOG_INFO, "mon"), 0);
	assert_int_equal(log_init("/nonexistent/dir/log", LOG_DEBUG, "other"), -ENOENT);
	assert_int_equal(cairn_log_level, LOG_INFO);
	CLOG_INFO("mon", "still here");
	buf = slurp(&lines);
	assert_int_equal(lines, 1);
	assert_non_null(strstr(buf, " mon INFO mon: still here\n"));
	free(buf);
}

static void test_reopen_after_rotation(void **state)
{
	char rotated[80], *buf;
	int lines;

	(void)state;
	snprintf(rotated, sizeof(rotated), "%s.1", path);
	assert_int_equal(log_init(path, LOG_INFO, "osd.0"), 0);
	CLOG_INFO("osd", "before");
	assert_int_equal(rename(path, rotated), 0);
	CLOG_INFO("osd", "still old");
	assert_int_equal(log_reopen(), 0);
	CLOG_INFO("osd", "after");
	buf = slurp(&lines);
	assert_int_equal(lines, 1);
	assert_non_null(strstr(buf, "osd: after\n"));
	free(buf);
	unlink(rotated);
	log_close();
	assert_int_equal(log_reopen(), 0); /* stderr: nothing to do */
}

static void test_init_from_conf(void **state)
{
	struct cairn_conf *c = conf_defaults();
	char err[128], *buf;
	int lines;

	(void)state;
	assert_int_equal(conf_set(c, "log_file", path, err, sizeof(err)), 0);
	assert_int_equal(conf_set(c, "log_level", "3", err, sizeof(err)), 0);
	assert_int_equal(log_init_conf(c, "osd.1"), 0);
	assert_int_equal(cairn_log_level, LOG_DEBUG);
	CLOG_DEBUG("osd", "from conf");
	buf = slurp(&lines);
	assert_int_equal(lines, 1);
	assert_non_null(strstr(buf, " osd.1 DEBUG osd: from conf\n"));
	free(buf);
	conf_free(c);
	/* stderr target */
	assert_int_equal(log_init(NULL, LOG_ERR, "x"), 0);
	assert_int_equal(log_init("", LOG_ERR, "x"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_format_and_levels, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_long_line_truncated, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_concurrent_lines_are_whole, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_init_failure_keeps_old_target, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reopen_after_rotation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_init_from_conf, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
