/*
 * fuzz_config — the config loader never crashes, leaks or overreads on any file or argv.
 *
 * Input: up to the first NUL byte is the ini file (served from a memfd, so no disk I/O);
 * after it, '\n'-separated command-line arguments. A successful load must format every
 * option; a failed one must leave *out NULL, argv untouched and a non-empty message.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ARGS 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const types[] = {"osd", "mon", "client", NULL};
	char *argv[MAX_ARGS + 2], *saved[MAX_ARGS + 2], *args = NULL, *p, *save = NULL;
	const uint8_t *nul = memchr(data, 0, size);
	size_t filelen = nul ? (size_t)(nul - data) : size;
	struct cairn_conf *c = NULL;
	char path[64], err[256], val[4096];
	int fd, argc = 1, r, i;
	size_t k;

	fd = memfd_create("fuzz_config", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (write(fd, data, filelen) != (ssize_t)filelen)
		goto out;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);

	argv[0] = "cairn-fuzz";
	if (nul) {
		args = strndup((const char *)nul + 1, size - filelen - 1);
		if (!args)
			goto out;
		for (p = strtok_r(args, "\n", &save); p && argc < MAX_ARGS;
		     p = strtok_r(NULL, "\n", &save))
			argv[argc++] = p;
	}
	argv[argc] = NULL;
	memcpy(saved, argv, sizeof(argv));

	r = conf_load(&c, path, types[size % 4], (size & 4) ? "0" : NULL, &argc, argv, err,
		      sizeof(err));
	if (r == 0) {
		if (!c)
			abort();
		for (k = 0; k < conf_opt_count(); k++)
			if (conf_format(c, conf_opt(k)->name, val, sizeof(val)) == -ENOENT)
				abort();
		if (argv[argc] != NULL)
			abort();
		conf_free(c);
	} else {
		if (c || !err[0])
			abort();
		if (memcmp(saved, argv, sizeof(char *) * (size_t)(argc + 1)))
			abort();
		for (i = 0; i < argc; i++)
			if (argv[i] != saved[i])
				abort();
	}
out:
	free(args);
	close(fd);
	return 0;
}
