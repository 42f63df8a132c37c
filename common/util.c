/* util — see util.h. */
#include "common/util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t now_mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

uint64_t now_wall_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

void sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* xoshiro256** (Blackman & Vigna), one state per thread. */
static __thread uint64_t rng_s[4];
static __thread int rng_seeded;

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void rng_seed(void)
{
	uint64_t seed[4] = {0};
	uint64_t mix;
	ssize_t n;
	int i;

	n = getrandom(seed, sizeof(seed), 0);
	/* getrandom only fails before the kernel pool is ready or under seccomp: fall back to
	 * clocks and the thread's stack address, still distinct per thread. */
	mix = now_wall_ns() ^ (now_mono_ns() << 17) ^ (uint64_t)(uintptr_t)&seed;
	for (i = 0; i < 4; i++) {
		if (n != (ssize_t)sizeof(seed))
			seed[i] ^= splitmix64(&mix);
		rng_s[i] = seed[i];
	}
	if (!(rng_s[0] | rng_s[1] | rng_s[2] | rng_s[3]))
		rng_s[0] = 1;
	rng_seeded = 1;
}

uint64_t rand_u64(void)
{
	uint64_t result, t;

	if (!rng_seeded)
		rng_seed();
	result = rotl(rng_s[1] * 5, 7) * 9;
	t = rng_s[1] << 17;
	rng_s[2] ^= rng_s[0];
	rng_s[3] ^= rng_s[1];
	rng_s[1] ^= rng_s[2];
	rng_s[0] ^= rng_s[3];
	rng_s[2] ^= t;
	rng_s[3] = rotl(rng_s[3], 45);
	return result;
}

int parse_int64(const char *s, int64_t *out)
{
	const char *digits;
	char *end;
	long long v;
	int base;

	if (!s)
		return -EINVAL;
	while (isspace((unsigned char)*s))
		s++;
	digits = (*s == '-' || *s == '+') ? s + 1 : s;
	if (!isdigit((unsigned char)*digits))
		return -EINVAL;
	/* decimal, or hex with 0x; a leading 0 is not octal (config files say "010" meaning 10) */
	base = (digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) ? 16 : 10;
	errno = 0;
	v = strtoll(s, &end, base);
	if (end == s)
		return -EINVAL;
	if (errno == ERANGE)
		return -ERANGE;
	while (isspace((unsigned char)*end))
		end++;
	if (*end)
		return -EINVAL;
	*out = v;
	return 0;
}

int parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	unsigned shift = 0;
	char *end;

	if (!s)
		return -EINVAL;
	while (isspace((unsigned char)*s))
		s++;
	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	switch (toupper((unsigned char)*end)) {
	case 'K':
		shift = 10;
		break;
	case 'M':
		shift = 20;
		break;
	case 'G':
		shift = 30;
		break;
	case 'T':
		shift = 40;
		break;
	}
	if (shift) {
		end++;
		if (*end == 'i' || *end == 'I')
			end++;
		if (*end == 'B' || *end == 'b')
			end++;
	} else if (*end == 'B' || *end == 'b') {
		end++;
	}
	while (isspace((unsigned char)*end))
		end++;
	if (*end)
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = (uint64_t)v << shift;
	return 0;
}

int parse_addr(const char *s, struct sockaddr_in *out)
{
	char host[INET_ADDRSTRLEN];
	const char *colon;
	struct in_addr ip;
	int64_t port;
	size_t n;

	if (!s)
		return -EINVAL;
	colon = strrchr(s, ':');
	if (!colon)
		return -EINVAL;
	n = (size_t)(colon - s);
	if (n == 0 || n >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, n);
	host[n] = '\0';
	if (inet_pton(AF_INET, host, &ip) != 1)
		return -EINVAL;
	if (!isdigit((unsigned char)colon[1]) || parse_int64(colon + 1, &port) || port < 0 ||
	    port > 65535)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->sin_family = AF_INET;
	out->sin_addr = ip;
	out->sin_port = htons((uint16_t)port);
	return 0;
}

const char *cairn_strerror(int neg_errno)
{
	const char *s;
	int e = neg_errno < 0 ? -neg_errno : neg_errno;

	if (e == 0)
		return "Success";
	s = strerrordesc_np(e);
	return s ? s : "Unknown error";
}

int util_read_file(const char *path, size_t max, char **data, size_t *len)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	size_t cap = 65536, n = 0;
	char *buf;
	int r = 0;

	if (!f)
		return -errno;
	buf = malloc(cap + 1);
	if (!buf)
		r = -ENOMEM;
	while (!r) {
		size_t got;

		if (n == cap) {
			char *nb;

			if (cap >= max) {
				r = -EFBIG;
				break;
			}
			cap = cap * 2 > max ? max : cap * 2;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				r = -ENOMEM;
				break;
			}
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0) {
			if (ferror(f))
				r = -EIO;
			break;
		}
	}
	if (f != stdin)
		fclose(f);
	if (r) {
		free(buf);
		return r;
	}
	buf[n] = '\0';
	*data = buf;
	*len = n;
	return 0;
}
