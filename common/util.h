/*
 * util — small helpers every module uses: clocks, sleeping, randomness, number and address
 * parsing, error strings. No dependencies beyond libc; all functions are thread-safe.
 * Errors are negative errno values (cairn_strerror() names them).
 */
#ifndef CAIRN_UTIL_H
#define CAIRN_UTIL_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

/* CLOCK_MONOTONIC in nanoseconds: for durations and timeouts. */
uint64_t now_mono_ns(void);
/* CLOCK_REALTIME in nanoseconds since the epoch: for timestamps shown to people. */
uint64_t now_wall_ns(void);
/* Sleeps at least ms milliseconds (resumes after signals). */
void sleep_ms(unsigned ms);
/* Uniform 64-bit random number; per-thread xoshiro256** state seeded from getrandom().
 * Not for keys or nonces (use libsodium for those). */
uint64_t rand_u64(void);

/* "4096", "64K", "1M", "2G", "1T" (powers of 1024; also "64KiB"/"64KB", case-insensitive
 * suffix, surrounding blanks allowed). -EINVAL on garbage or a negative number, -ERANGE on
 * overflow; *out is untouched on error. */
int parse_size(const char *s, uint64_t *out);
/* Decimal (or 0x hex) signed 64-bit integer, the whole string. -EINVAL / -ERANGE. */
int parse_int64(const char *s, int64_t *out);
/* "IP:PORT" (IPv4 dotted quad, port 0..65535) into *out. -EINVAL on anything else. */
int parse_addr(const char *s, struct sockaddr_in *out);
/* Message for a negative (or positive) errno value; never NULL, static storage. */
const char *cairn_strerror(int neg_errno);
/* Reads a whole file (path "-" is stdin) into a malloc'd buffer with a NUL after the last byte.
 * -EFBIG past max bytes, -errno when it cannot be opened, -EIO on a read error. */
int util_read_file(const char *path, size_t max, char **data, size_t *len);

#endif
