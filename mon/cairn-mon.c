/*
 * cairn-mon — the monitor daemon.
 *
 *   cairn-mon [-c CONF] [--id ID] [--OPTION VALUE ...]
 *
 * Serves the cluster maps from its RocksDB store at mon_data (a new, empty store starts a
 * new cluster with osdmap epoch 1). Listens on mon_addr (port 0 picks one; mon_addr_file
 * receives the bound address). Runs in the foreground until SIGINT/SIGTERM.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/log.h"
#include "common/util.h"
#include "mon/mon_main.h"

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

static void usage(void)
{
	fprintf(stderr, "usage: cairn-mon [-c CONF] [--id ID] [--mon_data DIR] [--mon_addr IP:PORT] "
			"[--OPTION VALUE ...]\n");
}

int main(int argc, char **argv)
{
	const char *conf_file = NULL, *id = NULL;
	struct cairn_conf *conf = NULL;
	char err[512];
	struct sigaction sa;
	const char *pidf;
	int rc, n = 1;
	char **args = calloc((size_t)argc + 1, sizeof(char *));

	if (!args)
		return 1;
	args[0] = argv[0];
	for (int i = 1; i < argc; i++) {
		if ((!strcmp(argv[i], "-c") || !strcmp(argv[i], "--conf")) && i + 1 < argc) {
			conf_file = argv[++i];
		} else if (!strcmp(argv[i], "--id") && i + 1 < argc) {
			id = argv[++i];
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage();
			free(args);
			return 0;
		} else if (!strcmp(argv[i], "-f") || !strcmp(argv[i], "--foreground")) {
			/* always in the foreground */
		} else {
			args[n++] = argv[i];
		}
	}
	rc = conf_load(&conf, conf_file, "mon", id, &n, args, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "cairn-mon: %s\n", err);
		free(args);
		return 1;
	}
	if (n > 1) {
		fprintf(stderr, "cairn-mon: unknown argument '%s'\n", args[1]);
		usage();
		conf_free(conf);
		free(args);
		return 1;
	}
	log_init_conf(conf, "mon");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	pidf = conf_str(conf, "pid_file");
	if (pidf && *pidf) {
		FILE *f = fopen(pidf, "w");
		if (f) {
			fprintf(f, "%d\n", (int)getpid());
			fclose(f);
		}
	}
	rc = mon_main(conf, &g_stop);
	if (rc)
		fprintf(stderr, "cairn-mon: %s\n", cairn_strerror(rc));
	if (pidf && *pidf)
		unlink(pidf);
	conf_free(conf);
	free(args);
	return rc ? 1 : 0;
}
