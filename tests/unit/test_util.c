/* test_util — clocks, sleep, rand_u64 (distinct per thread), number/size/address parsing and
 * error strings. */
// timeout: 60
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/util.h"

static void test_clocks_and_sleep(void **state)
{
	uint64_t m0, m1, w;

	(void)state;
	m0 = now_mono_ns();
	sleep_ms(20);
	m1 = now_mono_ns();
	assert_true(m1 >= m0 + 20 * 1000000ull);
	assert_true(m1 < m0 + 5ull * 1000000000ull);
	w = now_wall_ns();
	assert_true(w > 1600000000ull * 1000000000ull); /* after 2020 */
	sleep_ms(0);
}

static void test_parse_int64(void **state)
{
	static const struct {
		const char *s;
		int rc;
		int64_t v;
	} cases[] = {
	    {"0", 0, 0},
	    {"42", 0, 42},
	    {"-42", 0, -42},
	    {"+7", 0, 7},
	    {" 12 ", 0, 12},
	    {"010", 0, 10},
	    {"0x10", 0, 16},
	    {"0XfF", 0, 255},
	    {"-0x10", 0, -16},
	    {"9223372036854775807", 0, INT64_MAX},
	    {"-9223372036854775808", 0, INT64_MIN},
	    {"9223372036854775808", -ERANGE, 0},
	    {"-9223372036854775809", -ERANGE, 0},
	    {"", -EINVAL, 0},
	    {"   ", -EINVAL, 0},
	    {"-", -EINVAL, 0},
	    {"0x", -EINVAL, 0},
	    {"12a", -EINVAL, 0},
	    {"1 2", -EINVAL, 0},
	    {"1.0", -EINVAL, 0},
	    {"abc", -EINVAL, 0},
	    {"--1", -EINVAL, 0},
	};
	size_t i;
	int64_t v;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		v = 12345;
		if (parse_int64(cases[i].s, &v) != cases[i].rc)
			fail_msg("parse_int64('%s') != %d", cases[i].s, cases[i].rc);
		if (cases[i].rc == 0)
			assert_true(v == cases[i].v);
		else
			assert_true(v == 12345); /* untouched on error */
	}
	assert_int_equal(parse_int64(NULL, &v), -EINVAL);
}

static void test_parse_size(void **state)
{
	static const struct {
		const char *s;
		int rc;
		uint64_t v;
	} cases[] = {
	    {"0", 0, 0},
	    {"4096", 0, 4096},
	    {"1K", 0, 1024},
	    {"1k", 0, 1024},
	    {"64KiB", 0, 65536},
	    {"64KB", 0, 65536},
	    {"64kb", 0, 65536},
	    {"3M", 0, 3ull << 20},
	    {"2G", 0, 2ull << 30},
	    {"5T", 0, 5ull << 40},
	    {"100B", 0, 100},
	    {" 8M ", 0, 8ull << 20},
	    {"18446744073709551615", 0, UINT64_MAX},
	    {"16777215T", 0, 16777215ull << 40},
	    {"16777216T", -ERANGE, 0},
	    {"18446744073709551616", -ERANGE, 0},
	    {"", -EINVAL, 0},
	    {"K", -EINVAL, 0},
	    {"-1", -EINVAL, 0},
	    {"-1K", -EINVAL, 0},
	    {"+1", -EINVAL, 0},
	    {"1X", -EINVAL, 0},
	    {"1KK", -EINVAL, 0},
	    {"1 K", -EINVAL, 0},
	    {"1.5M", -EINVAL, 0},
	    {"0x10", -EINVAL, 0},
	};
	size_t i;
	uint64_t v;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		v = 12345;
		if (parse_size(cases[i].s, &v) != cases[i].rc)
			fail_msg("parse_size('%s') != %d", cases[i].s, cases[i].rc);
		if (cases[i].rc == 0)
			assert_true(v == cases[i].v);
		else
			assert_true(v == 12345);
	}
	assert_int_equal(parse_size(NULL, &v), -EINVAL);
}

static void test_parse_addr(void **state)
{
	static const char *const bad[] = {"",
					  "127.0.0.1",
					  "127.0.0.1:",
					  ":80",
					  "127.0.0.1:65536",
					  "127.0.0.1:-1",
					  "127.0.0.1:x",
					  "1.2.3:80",
					  "localhost:80",
					  "1.2.3.4:80x",
					  "1.2.3.4.5:80",
					  "::1:80",
					  "[::1]:80",
					  "1.2.3.4: 80",
					  "255.255.255.256:1"};
	struct sockaddr_in a;
	char ip[INET_ADDRSTRLEN];
	size_t i;

	(void)state;
	assert_int_equal(parse_addr("127.0.0.1:6789", &a), 0);
	assert_int_equal(a.sin_family, AF_INET);
	assert_int_equal(ntohs(a.sin_port), 6789);
	assert_string_equal(inet_ntop(AF_INET, &a.sin_addr, ip, sizeof(ip)), "127.0.0.1");
	assert_int_equal(parse_addr("10.1.2.3:0", &a), 0);
	assert_int_equal(ntohs(a.sin_port), 0);
	assert_int_equal(parse_addr("0.0.0.0:65535", &a), 0);
	assert_int_equal(ntohs(a.sin_port), 65535);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse_addr(bad[i], &a) != -EINVAL)
			fail_msg("parse_addr('%s') accepted", bad[i]);
	assert_int_equal(parse_addr(NULL, &a), -EINVAL);
}

static void test_strerror(void **state)
{
	(void)state;
	assert_string_equal(cairn_strerror(-ENOENT), "No such file or directory");
	assert_string_equal(cairn_strerror(ENOENT), "No such file or directory");
	assert_string_equal(cairn_strerror(-EBADMSG), "Bad message");
	assert_string_equal(cairn_strerror(0), "Success");
	assert_string_equal(cairn_strerror(-99999), "Unknown error");
	assert_non_null(cairn_strerror(-2147483647));
}

#define PER_THREAD 1000
static void *rand_thread(void *arg)
{
	uint64_t *out = arg;
	int i;

	for (i = 0; i < PER_THREAD; i++)
		out[i] = rand_u64();
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void test_rand(void **state)
{
	static uint64_t vals[4 * PER_THREAD];
	pthread_t th[4];
	uint64_t ones = 0;
	size_t i;
	int b;

	(void)state;
	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&th[i], NULL, rand_thread, vals + i * PER_THREAD),
				 0);
	for (i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	/* threads must not share a sequence: no duplicates over 4000 draws */
	qsort(vals, 4 * PER_THREAD, sizeof(vals[0]), cmp_u64);
	for (i = 1; i < 4 * PER_THREAD; i++)
		assert_true(vals[i] != vals[i - 1]);
	/* every bit is set about half the time */
	for (i = 0; i < 4 * PER_THREAD; i++)
		for (b = 0; b < 64; b += 9)
			ones += (vals[i] >> b) & 1;
	assert_true(ones > 4 * PER_THREAD * 8 * 45 / 100);
	assert_true(ones < 4 * PER_THREAD * 8 * 55 / 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_clocks_and_sleep), cmocka_unit_test(test_parse_int64),
	    cmocka_unit_test(test_parse_size),	     cmocka_unit_test(test_parse_addr),
	    cmocka_unit_test(test_strerror),	     cmocka_unit_test(test_rand),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
