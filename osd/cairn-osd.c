/*
 * cairn-osd — the object storage daemon.
 *
 *   cairn-osd --id N [-c CONF] [--mkfs] [--option value ...]
 *
 * --mkfs creates an empty store in osd_data and exits. Otherwise the OSD starts, registers
 * with the mon named by mon_host and serves until SIGTERM or SIGINT, then drains and exits 0.
 * Options come from [global], [osd] and [osd.N] of the conf file and the command line.
 */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/log.h"
#include "common/util.h"
#include "osd/osd.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: cairn-osd --id N [-c CONF] [--mkfs] [--OPTION VALUE ...]\n"
		   "  --id N      the OSD's id (>= 0)\n"
		   "  -c CONF     cluster conf file (default: none)\n"
		   "  --mkfs      create an empty store in osd_data and exit\n"
		   "  options: see docs/config.md (osd_data, osd_addr, mon_host, ...)\n");
}

int main(int argc, char **argv)
{
	const char *conf_path = NULL, *id_str = NULL, *pid_file;
	char err[256], ent[32];
	struct cairn_conf *conf = NULL;
	struct osd *o = NULL;
	bool mkfs = false;
	int64_t id = -1;
	sigset_t set;
	int sig, r, i, n = 1;

	/* our own arguments first: the conf file and the id pick the config sections */
	for (i = 1; i < argc; i++) {
		if ((!strcmp(argv[i], "-c") || !strcmp(argv[i], "--conf")) && i + 1 < argc) {
			conf_path = argv[++i];
		} else if (!strcmp(argv[i], "--id") && i + 1 < argc) {
			id_str = argv[++i];
		} else if (!strcmp(argv[i], "--mkfs")) {
			mkfs = true;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else {
			argv[n++] = argv[i];
		}
	}
	argc = n;
	if (!id_str || parse_int64(id_str, &id) || id < 0 || id > 65535) {
		usage(stderr);
		return 2;
	}
	r = conf_load(&conf, conf_path, "osd", id_str, &argc, argv, err, sizeof(err));
	if (r) {
		fprintf(stderr, "cairn-osd: %s\n", err);
		return 2;
	}
	if (argc > 1) {
		fprintf(stderr, "cairn-osd: unknown argument '%s'\n", argv[1]);
		conf_free(conf);
		return 2;
	}
	snprintf(ent, sizeof(ent), "osd.%d", (int)id);
	/* message payloads of up to 32 MiB (4 MiB writes, repops) come from the heap and go
	 * back to it, instead of a fresh mmap per message whose every page faults in (and is
	 * zeroed) as the socket data lands: ~12% of the OSD's CPU under 4 MiB writes */
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	if (mkfs) {
		r = osd_mkfs(conf, (int32_t)id);
		if (r)
			fprintf(stderr, "cairn-osd: mkfs of osd.%d in '%s' failed: %s\n", (int)id,
				conf_str(conf, "osd_data"), cairn_strerror(r));
		conf_free(conf);
		return r ? 1 : 0;
	}
	r = log_init_conf(conf, ent);
	if (r)
		fprintf(stderr, "cairn-osd: cannot open log file: %s\n", cairn_strerror(r));

	/* signals are taken synchronously by this thread; every other thread blocks them */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	r = osd_start(&o, conf, (int32_t)id);
	if (r) {
		CLOG_ERR("osd", "osd.%d failed to start: %s", (int)id, cairn_strerror(r));
		fprintf(stderr, "cairn-osd: osd.%d failed to start: %s\n", (int)id, cairn_strerror(r));
		conf_free(conf);
		return 1;
	}
	pid_file = conf_str(conf, "pid_file");
	if (pid_file && pid_file[0]) {
		FILE *f = fopen(pid_file, "w");

		if (f) {
			fprintf(f, "%d\n", (int)getpid());
			fclose(f);
		}
	}
	for (;;) {
		if (sigwait(&set, &sig))
			continue;
		if (sig == SIGHUP) {
			log_init_conf(conf, ent); /* reopen after rotation */
			continue;
		}
		break;
	}
	CLOG_INFO("osd", "signal %d: shutting down", sig);
	osd_stop(o);
	if (pid_file && pid_file[0])
		unlink(pid_file);
	CLOG_INFO("osd", "stopped");
	conf_free(conf);
	return 0;
}
