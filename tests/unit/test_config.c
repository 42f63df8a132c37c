/* test_config — common/config: the table itself, precedence of sections and argv, argv
 * compaction, typed values (SIZE suffixes, bounds, booleans), and every error path with its
 * FILE:LINE message. Options of other modules are found by type through conf_opt(), so the
 * test keeps working as the table grows. */
// timeout: 60
#include <errno.h>
#include <math.h>
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
#include "common/util.h"

static char conf_file[64];

static const char *write_conf(const char *text)
{
	FILE *f;
	int fd;

	if (conf_file[0])
		unlink(conf_file);
	strcpy(conf_file, "/tmp/test_config.XXXXXX");
	fd = mkstemp(conf_file);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return conf_file;
}

static int teardown(void **state)
{
	(void)state;
	if (conf_file[0])
		unlink(conf_file);
	conf_file[0] = '\0';
	return 0;
}

/* First option of the given type, optionally with a min and/or max; NULL if none. */
static const struct conf_opt_info *opt_of_type(const char *type, bool need_min, bool need_max)
{
	size_t i;

	for (i = 0; i < conf_opt_count(); i++) {
		const struct conf_opt_info *o = conf_opt(i);

		if (!strcmp(o->type, type) && (!need_min || *o->min) && (!need_max || *o->max))
			return o;
	}
	return NULL;
}

/* Loads text for type/id and expects failure with err ending in want (after "PATH:"). */
static void expect_file_error(const char *text, const char *type, const char *id, int rc,
			      const char *want)
{
	struct cairn_conf *c = (struct cairn_conf *)1;
	char err[256], full[512];
	const char *path = write_conf(text);

	assert_int_equal(conf_load(&c, path, type, id, NULL, NULL, err, sizeof(err)), rc);
	assert_null(c);
	snprintf(full, sizeof(full), "%s%s", path, want);
	if (strcmp(err, full))
		fail_msg("error message\n  got:  '%s'\n  want: '%s'", err, full);
}

static void test_table_is_sane(void **state)
{
	size_t i, j;

	(void)state;
	assert_true(conf_opt_count() >= 5);
	assert_null(conf_opt(conf_opt_count()));
	for (i = 0; i < conf_opt_count(); i++) {
		const struct conf_opt_info *o = conf_opt(i);
		char dashed[128];

		for (j = 0; o->name[j]; j++)
			assert_true((o->name[j] >= 'a' && o->name[j] <= 'z') ||
				    (o->name[j] >= '0' && o->name[j] <= '9') || o->name[j] == '_');
		assert_true(strlen(o->desc) > 0);
		assert_true(strstr(o->file, ".def") != NULL);
		assert_ptr_equal(conf_find(o->name), o);
		snprintf(dashed, sizeof(dashed), "%s", o->name);
		for (j = 0; dashed[j]; j++)
			if (dashed[j] == '_')
				dashed[j] = '-';
		assert_ptr_equal(conf_find(dashed), o);
	}
	assert_null(conf_find("no_such_option"));
	assert_null(conf_find(""));
}

/* Every default reads back through conf_format -> conf_set unchanged. */
static void test_defaults_roundtrip(void **state)
{
	struct cairn_conf *c = conf_defaults();
	char a[4096], b[4096], err[256];
	size_t i;

	(void)state;
	assert_non_null(c);
	assert_null(conf_path(c));
	for (i = 0; i < conf_opt_count(); i++) {
		const char *name = conf_opt(i)->name;

		assert_int_equal(conf_format(c, name, a, sizeof(a)), 0);
		assert_int_equal(conf_format(NULL, name, b, sizeof(b)), 0);
		assert_string_equal(a, b);
		if (conf_set(c, name, a, err, sizeof(err)))
			fail_msg("%s: %s", name, err);
		assert_int_equal(conf_format(c, name, b, sizeof(b)), 0);
		assert_string_equal(a, b);
	}
	assert_int_equal(conf_format(c, "no_such_option", a, sizeof(a)), -ENOENT);
	assert_int_equal(conf_format(c, "log_level", a, 1), -ENOSPC);
	conf_free(c);
	conf_free(NULL);
}

static void test_common_defaults(void **state)
{
	(void)state;
	assert_int_equal(conf_int(NULL, "log_level"), 2);
	assert_string_equal(conf_str(NULL, "log_file"), "");
	assert_string_equal(conf_str(NULL, "mon_host"), "127.0.0.1:6789");
	assert_string_equal(conf_str(NULL, "fsid"), "");
	assert_null(conf_path(NULL));
}

static const char *precedence_conf = "; comment\n"
				     "# another comment\n"
				     "[osd.0]\n"
				     "log_level = 4\n"
				     "[osd]\n"
				     "log-level = 3   ; inline comment\n"
				     "mon host = 10.0.0.1:1\n"
				     "[global]\n"
				     "log_level = 1\n"
				     "mon_host = 10.0.0.9:9\n"
				     "fsid = abc\n"
				     "[mon]\n"
				     "log_level = 0\n"
				     "[osd.1]\n"
				     "fsid = osd1\n"
				     "[global]\n"
				     "fsid = later\n";

static void check_entity(const char *type, const char *id, int64_t level, const char *host,
			 const char *fsid)
{
	struct cairn_conf *c;
	char err[256];

	assert_int_equal(conf_load(&c, conf_file, type, id, NULL, NULL, err, sizeof(err)), 0);
	assert_int_equal(conf_int(c, "log_level"), level);
	assert_string_equal(conf_str(c, "mon_host"), host);
	assert_string_equal(conf_str(c, "fsid"), fsid);
	assert_string_equal(conf_path(c), conf_file);
	conf_free(c);
}

static void test_precedence(void **state)
{
	(void)state;
	write_conf(precedence_conf);
	/* [osd.0] > [osd] > [global], whatever the order in the file */
	check_entity("osd", "0", 4, "10.0.0.1:1", "later");
	check_entity("osd", "1", 3, "10.0.0.1:1", "osd1");
	check_entity("osd", "7", 3, "10.0.0.1:1", "later");
	check_entity("osd", NULL, 3, "10.0.0.1:1", "later");
	check_entity("mon", "a", 0, "10.0.0.9:9", "later");
	check_entity("client", NULL, 1, "10.0.0.9:9", "later");
	check_entity("mds", "0", 1, "10.0.0.9:9", "later");
	check_entity(NULL, NULL, 1, "10.0.0.9:9", "later");
}

static void test_keys_before_any_section_are_global(void **state)
{
	(void)state;
	write_conf("log_level = 3\n[osd]\nfsid = x\n");
	check_entity("mon", NULL, 3, "127.0.0.1:6789", "");
	check_entity("osd", "2", 3, "127.0.0.1:6789", "x");
}

static void test_argv_overrides_and_compaction(void **state)
{
	char *argv[] = {"prog",	      "--mkfs",	   "--log_level",   "3",    "pos1",
			"--mon-host", "1.1.1.1:1", "--log-level=1", "--id", "0",
			"-x",	      "--",	   "--log_level",   "4",    NULL};
	char *want[] = {"prog", "--mkfs", "pos1", "--id", "0", "-x", "--", "--log_level", "4"};
	int argc = 14, i;
	struct cairn_conf *c;
	char err[256];

	(void)state;
	write_conf("[global]\nlog_level = 4\nmon_host = 2.2.2.2:2\n");
	assert_int_equal(conf_load(&c, conf_file, "osd", "0", &argc, argv, err, sizeof(err)), 0);
	assert_int_equal(conf_int(c, "log_level"), 1); /* argv beats the file; last one wins */
	assert_string_equal(conf_str(c, "mon_host"), "1.1.1.1:1");
	assert_int_equal(argc, 9);
	for (i = 0; i < argc; i++)
		assert_string_equal(argv[i], want[i]);
	assert_null(argv[argc]);
	conf_free(c);

	/* no file, only argv; argc == 1 and NULL argc/argv are fine */
	{
		char *av[] = {"prog", "--fsid=f", NULL};
		int ac = 2;

		assert_int_equal(conf_load(&c, NULL, "client", NULL, &ac, av, err, sizeof(err)), 0);
		assert_int_equal(ac, 1);
		assert_null(av[1]);
		assert_string_equal(conf_str(c, "fsid"), "f");
		assert_null(conf_path(c));
		conf_free(c);
		assert_int_equal(conf_load(&c, NULL, NULL, NULL, &ac, av, err, sizeof(err)), 0);
		assert_int_equal(ac, 1);
		conf_free(c);
		assert_int_equal(conf_load(&c, NULL, NULL, NULL, NULL, NULL, err, sizeof(err)), 0);
		conf_free(c);
	}
}

static void test_argv_bool(void **state)
{
	const struct conf_opt_info *o = opt_of_type("BOOL", false, false);
	char flag[160], flag_eq[160];
	struct cairn_conf *c;
	char err[256];

	(void)state;
	if (!o)
		skip();
	snprintf(flag, sizeof(flag), "--%s", o->name);
	{ /* bare flag at the end */
		char *av[] = {"p", flag, NULL};
		int ac = 2;

		assert_int_equal(conf_load(&c, NULL, "osd", "0", &ac, av, err, sizeof(err)), 0);
		assert_true(conf_bool(c, o->name));
		assert_int_equal(ac, 1);
		conf_free(c);
	}
	{ /* explicit value */
		char *av[] = {"p", flag, "off", "pos", NULL};
		int ac = 4;

		assert_int_equal(conf_load(&c, NULL, "osd", "0", &ac, av, err, sizeof(err)), 0);
		assert_false(conf_bool(c, o->name));
		assert_int_equal(ac, 2);
		assert_string_equal(av[1], "pos");
		conf_free(c);
	}
	{ /* bare flag followed by a non-boolean: the flag is true, the word stays */
		char *av[] = {"p", flag, "pos", NULL};
		int ac = 3;

		assert_int_equal(conf_load(&c, NULL, "osd", "0", &ac, av, err, sizeof(err)), 0);
		assert_true(conf_bool(c, o->name));
		assert_int_equal(ac, 2);
		assert_string_equal(av[1], "pos");
		conf_free(c);
	}
	{
		char *av[] = {"p", flag_eq, NULL};
		int ac = 2;

		snprintf(flag_eq, sizeof(flag_eq), "--%s=No", o->name);
		assert_int_equal(conf_load(&c, NULL, "osd", "0", &ac, av, err, sizeof(err)), 0);
		assert_false(conf_bool(c, o->name));
		conf_free(c);
		snprintf(flag_eq, sizeof(flag_eq), "--%s=maybe", o->name);
		av[1] = flag_eq; /* the first load compacted it away */
		ac = 2;
		assert_int_equal(conf_load(&c, NULL, "osd", "0", &ac, av, err, sizeof(err)),
				 -EINVAL);
		assert_non_null(strstr(err, "is not a valid boolean"));
	}
}

static void test_argv_errors_leave_argv(void **state)
{
	char *argv[] = {"prog", "--keep", "--log_level", "9", NULL};
	char *argv2[] = {"prog", "--keep", "--log_level", NULL};
	char *argv3[] = {"prog", "--log_level", "--", "3", NULL};
	char *argv4[] = {"prog", "--log_file", "--mkfs", NULL};
	struct cairn_conf *c = (struct cairn_conf *)1;
	int argc = 4;
	char err[256];

	(void)state;
	assert_int_equal(conf_load(&c, NULL, "osd", "0", &argc, argv, err, sizeof(err)), -EINVAL);
	assert_null(c);
	assert_string_equal(err, "command line: option 'log_level': '9' is out of range [0, 4]");
	assert_int_equal(argc, 4);
	assert_string_equal(argv[1], "--keep");
	assert_string_equal(argv[2], "--log_level");
	argc = 3;
	assert_int_equal(conf_load(&c, NULL, "osd", "0", &argc, argv2, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "command line: option 'log_level' needs a value");
	assert_int_equal(argc, 3);
	argc = 4;
	assert_int_equal(conf_load(&c, NULL, "osd", "0", &argc, argv3, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "command line: option 'log_level' needs a value");
	argc = 3;
	assert_int_equal(conf_load(&c, NULL, "osd", "0", &argc, argv4, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "command line: option 'log_file' needs a value");
}

static void test_file_errors(void **state)
{
	struct cairn_conf *c = (struct cairn_conf *)1;
	char err[256], line[400];

	(void)state;
	expect_file_error("[global]\nlog_level = 2\nosd_no_such = 1\n", "osd", "0", -EINVAL,
			  ":3: unknown option 'osd_no_such'");
	expect_file_error("[global]\nlog_level = two\n", "osd", "0", -EINVAL,
			  ":2: option 'log_level': 'two' is not a valid integer");
	expect_file_error("[global]\nlog_level = 5\n", "osd", "0", -EINVAL,
			  ":2: option 'log_level': '5' is out of range [0, 4]");
	expect_file_error("[global]\nlog_level = -1\n", "osd", "0", -EINVAL,
			  ":2: option 'log_level': '-1' is out of range [0, 4]");
	expect_file_error("[global]\nlog_level = 99999999999999999999\n", "osd", "0", -EINVAL,
			  ":2: option 'log_level': '99999999999999999999' is not a valid integer "
			  "(out of range)");
	/* values of other entities' sections are validated too */
	expect_file_error("[osd.9]\nlog_level = x\n", "osd", "0", -EINVAL,
			  ":2: option 'log_level': 'x' is not a valid integer");
	expect_file_error("[osd]\n\n[bogus]\nlog_level = 1\n", "osd", "0", -EINVAL,
			  ":4: unknown section '[bogus]' (expected global, mon, osd, mds, client "
			  "or TYPE.ID)");
	expect_file_error("[osd.]\nlog_level = 1\n", "osd", "0", -EINVAL,
			  ":2: unknown section '[osd.]' (expected global, mon, osd, mds, client or "
			  "TYPE.ID)");
	expect_file_error("[global]\nlog_level\n", "osd", "0", -EINVAL,
			  ":2: syntax error (expected '[section]' or 'name = value')");
	expect_file_error("[global\nlog_level = 1\n", "osd", "0", -EINVAL,
			  ":1: syntax error (expected '[section]' or 'name = value')");
	/* the first error wins, whether it is inih's or ours */
	expect_file_error("[global]\nbroken line\nunknown_opt = 1\n", "osd", "0", -EINVAL,
			  ":2: syntax error (expected '[section]' or 'name = value')");
	expect_file_error("[global]\nunknown_opt = 1\nbroken line\n", "osd", "0", -EINVAL,
			  ":2: unknown option 'unknown_opt'");
	/* a line longer than inih's buffer */
	memset(line, 'a', sizeof(line));
	memcpy(line, "[global]\nfsid = ", 16);
	line[sizeof(line) - 2] = '\n';
	line[sizeof(line) - 1] = '\0';
	write_conf(line);
	assert_int_equal(conf_load(&c, conf_file, "osd", "0", NULL, NULL, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, ":2: line too long"));
	/* unreadable file */
	assert_int_equal(
	    conf_load(&c, "/nonexistent/cairn.conf", "osd", "0", NULL, NULL, err, sizeof(err)),
	    -ENOENT);
	assert_null(c);
	assert_string_equal(err, "/nonexistent/cairn.conf: No such file or directory");
	/* unknown entity type */
	assert_int_equal(conf_load(&c, NULL, "gateway", "0", NULL, NULL, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "unknown entity type 'gateway'");
	/* a tiny err buffer is never overrun */
	write_conf("[global]\nnope = 1\n");
	assert_int_equal(conf_load(&c, conf_file, "osd", "0", NULL, NULL, err, 4), -EINVAL);
	assert_int_equal(strlen(err), 3);
}

static void test_int_values(void **state)
{
	struct cairn_conf *c = conf_defaults();
	char err[256];

	(void)state;
	assert_int_equal(conf_set(c, "log_level", "0x3", err, sizeof(err)), 0);
	assert_int_equal(conf_int(c, "log_level"), 3);
	assert_int_equal(conf_set(c, "log_level", " 4 ", err, sizeof(err)), 0);
	assert_int_equal(conf_int(c, "log_level"), 4);
	assert_int_equal(conf_set(c, "log_level", "03", err, sizeof(err)), 0); /* not octal */
	assert_int_equal(conf_int(c, "log_level"), 3);
	assert_int_equal(conf_set(c, "log_level", "0", err, sizeof(err)), 0);
	/* errors leave the value alone */
	assert_int_equal(conf_set(c, "log_level", "3x", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "option 'log_level': '3x' is not a valid integer");
	assert_int_equal(conf_set(c, "log_level", "", err, sizeof(err)), -EINVAL);
	assert_int_equal(conf_set(c, "log_level", "2.5", err, sizeof(err)), -EINVAL);
	assert_int_equal(conf_set(c, "log_level", "5", err, sizeof(err)), -EINVAL);
	assert_int_equal(conf_int(c, "log_level"), 0);
	assert_int_equal(conf_set(c, "no_such", "1", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "unknown option 'no_such'");
	conf_free(c);
}

static void test_size_values(void **state)
{
	const struct conf_opt_info *o = opt_of_type("SIZE", false, false);
	struct cairn_conf *c = conf_defaults();
	char err[256], buf[64];
	int64_t lo = 0, hi = INT64_MAX;
	uint64_t u;

	(void)state;
	if (!o) {
		conf_free(c);
		skip();
	}
	if (*o->min) {
		assert_int_equal(parse_size(o->min, &u), 0);
		lo = (int64_t)u;
	}
	if (*o->max) {
		assert_int_equal(parse_size(o->max, &u), 0);
		hi = (int64_t)u;
	}
	/* the bounds themselves are accepted, one past them is not */
	snprintf(buf, sizeof(buf), "%lld", (long long)lo);
	assert_int_equal(conf_set(c, o->name, buf, err, sizeof(err)), 0);
	assert_int_equal(conf_int(c, o->name), lo);
	snprintf(buf, sizeof(buf), "%lld", (long long)hi);
	assert_int_equal(conf_set(c, o->name, buf, err, sizeof(err)), 0);
	assert_int_equal(conf_int(c, o->name), hi);
	if (lo > 0) {
		snprintf(buf, sizeof(buf), "%lld", (long long)lo - 1);
		assert_int_equal(conf_set(c, o->name, buf, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "is out of range"));
	}
	if (hi < INT64_MAX) {
		snprintf(buf, sizeof(buf), "%lld", (long long)hi + 1);
		assert_int_equal(conf_set(c, o->name, buf, err, sizeof(err)), -EINVAL);
	}
	/* suffixes, for whichever values lie within the bounds */
	{
		static const struct {
			const char *s;
			int64_t v;
		} cases[] = {{"4K", 4096},	{"64k", 65536},	    {"1M", 1 << 20},
			     {"2MiB", 2 << 20}, {"16MB", 16 << 20}, {"1G", 1 << 30},
			     {"2G", 2ll << 30}, {"1T", 1ll << 40},  {"4096", 4096}};
		size_t i;

		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			if (cases[i].v < lo || cases[i].v > hi)
				continue;
			assert_int_equal(conf_set(c, o->name, cases[i].s, err, sizeof(err)), 0);
			assert_int_equal(conf_int(c, o->name), cases[i].v);
		}
	}
	assert_int_equal(conf_set(c, o->name, "-1", err, sizeof(err)), -EINVAL);
	assert_int_equal(conf_set(c, o->name, "1X", err, sizeof(err)), -EINVAL);
	assert_int_equal(conf_set(c, o->name, "K", err, sizeof(err)), -EINVAL);
	assert_int_equal(conf_set(c, o->name, "99999999999T", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "out of range"));
	conf_free(c);
}

static void test_double_values(void **state)
{
	const struct conf_opt_info *o = opt_of_type("DOUBLE", false, false);
	struct cairn_conf *c = conf_defaults();
	char err[256], buf[64];
	double d;

	(void)state;
	if (!o) {
		conf_free(c);
		skip();
	}
	d = strtod(o->def, NULL);
	snprintf(buf, sizeof(buf), " %.17g ", d);
	assert_int_equal(conf_set(c, o->name, buf, err, sizeof(err)), 0);
	assert_true(conf_double(c, o->name) == d);
	assert_int_equal(conf_set(c, o->name, "nan", err, sizeof(err)), -EINVAL);
	assert_int_equal(conf_set(c, o->name, "inf", err, sizeof(err)), -EINVAL);
	assert_int_equal(conf_set(c, o->name, "1.5x", err, sizeof(err)), -EINVAL);
	assert_int_equal(conf_set(c, o->name, "", err, sizeof(err)), -EINVAL);
	assert_int_equal(conf_set(c, o->name, "1e999", err, sizeof(err)), -EINVAL);
	if (*o->min) {
		snprintf(buf, sizeof(buf), "%.17g", nextafter(strtod(o->min, NULL), -INFINITY));
		assert_int_equal(conf_set(c, o->name, buf, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "is out of range"));
	}
	if (*o->max) {
		snprintf(buf, sizeof(buf), "%.17g", nextafter(strtod(o->max, NULL), INFINITY));
		assert_int_equal(conf_set(c, o->name, buf, err, sizeof(err)), -EINVAL);
	}
	assert_true(conf_double(c, o->name) == d);
	conf_free(c);
}

static void test_bool_and_str_values(void **state)
{
	static const char *const yes[] = {"true", "TRUE", "yes", "On", "1"};
	static const char *const no[] = {"false", "No", "off", "0"};
	const struct conf_opt_info *o = opt_of_type("BOOL", false, false);
	struct cairn_conf *c = conf_defaults();
	char err[256];
	size_t i;

	(void)state;
	assert_int_equal(conf_set(c, "fsid", "x", err, sizeof(err)), 0);
	assert_int_equal(conf_set(c, "fsid", "a b  c", err, sizeof(err)), 0);
	assert_string_equal(conf_str(c, "fsid"), "a b  c");
	assert_int_equal(conf_set(c, "fsid", "", err, sizeof(err)), 0);
	assert_string_equal(conf_str(c, "fsid"), "");
	if (o) {
		for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
			assert_int_equal(conf_set(c, o->name, yes[i], err, sizeof(err)), 0);
			assert_true(conf_bool(c, o->name));
		}
		for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
			assert_int_equal(conf_set(c, o->name, no[i], err, sizeof(err)), 0);
			assert_false(conf_bool(c, o->name));
		}
		assert_int_equal(conf_set(c, o->name, "2", err, sizeof(err)), -EINVAL);
		assert_int_equal(conf_set(c, o->name, "", err, sizeof(err)), -EINVAL);
		assert_false(conf_bool(c, o->name));
	}
	conf_free(c);
}

static void test_multiline_and_whitespace(void **state)
{
	(void)state;
	/* indented keys (Ceph style) are keys, not continuations of the previous value */
	write_conf("[global]\n\tmon_host = 1.2.3.4:5\n\tlog_level = 3\n[osd]\n    fsid = x\n");
	check_entity("osd", "0", 3, "1.2.3.4:5", "x");
	write_conf("\xEF\xBB\xBF[global]\r\n  log_level   =   3  \r\nfsid=a=b\n");
	check_entity("osd", "0", 3, "127.0.0.1:6789", "a=b");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table_is_sane),
	    cmocka_unit_test(test_defaults_roundtrip),
	    cmocka_unit_test(test_common_defaults),
	    cmocka_unit_test_teardown(test_precedence, teardown),
	    cmocka_unit_test_teardown(test_keys_before_any_section_are_global, teardown),
	    cmocka_unit_test_teardown(test_argv_overrides_and_compaction, teardown),
	    cmocka_unit_test(test_argv_bool),
	    cmocka_unit_test(test_argv_errors_leave_argv),
	    cmocka_unit_test_teardown(test_file_errors, teardown),
	    cmocka_unit_test(test_int_values),
	    cmocka_unit_test(test_size_values),
	    cmocka_unit_test(test_double_values),
	    cmocka_unit_test(test_bool_and_str_values),
	    cmocka_unit_test_teardown(test_multiline_and_whitespace, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
