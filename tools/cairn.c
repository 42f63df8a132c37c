/*
 * cairn — the admin CLI: reads and changes the cluster maps through the monitor.
 *
 *   cairn [-c CONF] [-m MON_ADDR] [-f plain|json] [--connect-timeout SECONDS] COMMAND ...
 *
 * Every command is sent to the monitor as its words (MON_COMMAND); the monitor answers with
 * a result code, a status line and JSON. -f json prints that JSON; the default prints a
 * plain-text rendering. Client-side extras: "-o FILE" (getcrushmap, getmap) writes the
 * binary output to FILE, "-i FILE" (setcrushmap) sends FILE as input, and "watch" subscribes
 * to the osdmap and prints each new epoch. Errors: one line on stderr, non-zero exit (the
 * errno value, like ceph). docs/cli.md is the reference.
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/log.h"
#include "common/monc.h"
#include "common/msg.h"
#include "common/osdmap.h"
#include "common/util.h"

static bool g_json;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: cairn [-c CONF] [-m MON_ADDR] [-f plain|json] [--connect-timeout SEC] COMMAND\n"
		"commands:\n"
		"  status | -s                     health [detail]\n"
		"  osd tree|dump|stat|df           osd in|out|down|rm ID...\n"
		"  osd set|unset FLAG              osd reweight ID WEIGHT\n"
		"  osd crush add-bucket NAME TYPE  osd crush move NAME TYPE=NAME...\n"
		"  osd crush add|set ID W TYPE=NAME...   osd crush reweight NAME W\n"
		"  osd crush rm NAME [ANCESTOR]    osd crush tree\n"
		"  osd crush rule create-replicated NAME ROOT TYPE [CLASS]\n"
		"  osd crush rule create-erasure NAME ROOT TYPE [CLASS]\n"
		"  osd crush rule ls|dump [NAME]|rm NAME\n"
		"  osd crush set-device-class CLASS ID...   osd crush rm-device-class ID...\n"
		"  osd crush class ls\n"
		"  osd getcrushmap -o FILE         osd setcrushmap -i FILE\n"
		"  osd getmap [EPOCH] -o FILE\n"
		"  osd pool create NAME PG_NUM [SIZE] [--rule R] [--min-size N] [--pgp-num N]\n"
		"                  [--hash rjenkins|xxh3] [--erasure K M]\n"
		"  osd pool ls [detail] | get NAME [KEY] | set NAME KEY VALUE | rm NAME | rename A B\n"
		"  osd map POOL OBJECT             pg dump | stat | map PGID\n"
		"  mon stat                        watch [--count N] [--timeout SEC]\n");
}

/* ---- plain-text renderers ---- */

static long long ji(json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

static double jr(json_t *o, const char *k)
{
	return json_number_value(json_object_get(o, k));
}

static const char *js(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static void print_ids(json_t *a)
{
	size_t i;
	json_t *v;

	printf("[");
	json_array_foreach(a, i, v) printf("%s%lld", i ? "," : "", (long long)json_integer_value(v));
	printf("]");
}

static void human_bytes(double b, char *out, size_t n)
{
	const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
	int i = 0;

	while (b >= 1024 && i < 5) {
		b /= 1024;
		i++;
	}
	snprintf(out, n, i ? "%.1f %s" : "%.0f %s", b, u[i]);
}

static void render_health(json_t *h, const char *indent)
{
	const char *k;
	json_t *c;

	printf("%s%s\n", indent, js(h, "status"));
	json_object_foreach(json_object_get(h, "checks"), k, c) {
		size_t i;
		json_t *d;
		printf("%s[%s] %s: %s\n", indent, strcmp(js(c, "severity"), "HEALTH_ERR") ? "WRN" : "ERR",
		       k, js(c, "summary"));
		json_array_foreach(json_object_get(c, "detail"), i, d)
			printf("%s    %s\n", indent, json_string_value(d));
	}
}

static void render_status(json_t *o)
{
	json_t *om = json_object_get(o, "osdmap"), *pg = json_object_get(o, "pgmap");
	json_t *rec = json_object_get(pg, "recovery");
	const char *k;
	json_t *v;
	char b1[32], b2[32];

	printf("  cluster:\n    id:     %s\n    health: ", js(o, "fsid"));
	render_health(json_object_get(o, "health"), "");
	printf("\n  services:\n    mon: 1 daemon\n    osd: %lld osds: %lld up, %lld in; epoch e%lld%s%s\n",
	       ji(om, "num_osds"), ji(om, "num_up_osds"), ji(om, "num_in_osds"), ji(om, "epoch"),
	       *js(om, "flags") ? "; flags " : "", js(om, "flags"));
	human_bytes((double)ji(pg, "num_bytes"), b1, sizeof(b1));
	printf("\n  data:\n    pools:   %lld pools, %lld pgs\n    objects: %lld objects, %s\n",
	       ji(o, "num_pools"), ji(pg, "num_pgs"), ji(pg, "num_objects"), b1);
	printf("    pgs:    ");
	{
		bool first = true;
		json_object_foreach(json_object_get(pg, "num_pgs_by_state"), k, v) {
			printf("%s%lld %s\n", first ? "" : "            ",
			       (long long)json_integer_value(v), k);
			first = false;
		}
		if (first)
			printf("none\n");
	}
	if (ji(pg, "degraded_objects") || ji(pg, "misplaced_objects") || ji(rec, "objects_left")) {
		double eta = jr(rec, "eta_seconds");
		human_bytes((double)ji(rec, "bytes_left"), b1, sizeof(b1));
		human_bytes(jr(rec, "bytes_per_sec"), b2, sizeof(b2));
		printf("\n  progress:\n    degraded %lld, misplaced %lld objects\n"
		       "    recovery: %lld objects, %s left; %.1f objects/s, %s/s; ",
		       ji(pg, "degraded_objects"), ji(pg, "misplaced_objects"), ji(rec, "objects_left"),
		       b1, jr(rec, "objects_per_sec"), b2);
		if (eta >= 0)
			printf("ETA %.0fs\n", eta);
		else
			printf("ETA unknown\n");
	}
}

static void render_tree(json_t *o)
{
	json_t *nodes = json_object_get(o, "nodes"), *n;
	size_t i;

	printf("%-4s %-6s %-10s %-24s %-7s %s\n", "ID", "CLASS", "WEIGHT", "TYPE NAME", "STATUS",
	       "REWEIGHT");
	json_array_foreach(nodes, i, n) {
		char tn[128];
		int depth = (int)ji(n, "depth");
		const char *type = js(n, "type");
		bool osd = ji(n, "id") >= 0;

		snprintf(tn, sizeof(tn), "%*s%s%s%s", depth * 4, "", osd ? "" : type, osd ? "" : " ",
			 js(n, "name"));
		printf("%-4lld %-6s %-10.5f %-24s", ji(n, "id"), js(n, "device_class"),
		       jr(n, "crush_weight"), tn);
		if (osd)
			printf(" %-7s %.5f", js(n, "status"), jr(n, "reweight"));
		printf("\n");
	}
	json_array_foreach(json_object_get(o, "stray"), i, n)
		printf("%-4lld %-6s %-10s %-24s %-7s %.5f\n", ji(n, "id"), "", "0", js(n, "name"),
		       js(n, "status"), jr(n, "reweight"));
}

static void render_pool(json_t *p)
{
	printf("pool %lld '%s' %s size %lld min_size %lld crush_rule %lld object_hash %s pg_num %lld "
	       "pgp_num %lld last_change %lld\n",
	       ji(p, "pool_id"), js(p, "pool_name"), js(p, "type"), ji(p, "size"), ji(p, "min_size"),
	       ji(p, "crush_rule"), js(p, "object_hash"), ji(p, "pg_num"), ji(p, "pgp_num"),
	       ji(p, "last_change"));
}

static void render_dump(json_t *o)
{
	size_t i;
	json_t *v;

	printf("epoch %lld\nfsid %s\nflags %s\nmax_osd %lld\n", ji(o, "epoch"), js(o, "fsid"),
	       js(o, "flags"), ji(o, "max_osd"));
	printf("\n");
	json_array_foreach(json_object_get(o, "pools"), i, v) render_pool(v);
	printf("\n");
	json_array_foreach(json_object_get(o, "osds"), i, v)
		printf("osd.%lld %s %s weight %.5f crush_weight %.5f up_from %lld down_at %lld "
		       "up_thru %lld %s %s\n",
		       ji(v, "osd"), ji(v, "up") ? "up" : "down", ji(v, "in") ? "in" : "out",
		       jr(v, "weight"), jr(v, "crush_weight"), ji(v, "up_from"), ji(v, "down_at"),
		       ji(v, "up_thru"), js(v, "addr"), js(v, "uuid"));
}

static void render_pg_stat(json_t *o)
{
	const char *k;
	json_t *v;
	char b[32];
	bool first = true;

	human_bytes((double)ji(o, "num_bytes"), b, sizeof(b));
	printf("%lld pgs: ", ji(o, "num_pgs"));
	json_object_foreach(json_object_get(o, "num_pgs_by_state"), k, v) {
		printf("%s%lld %s", first ? "" : ", ", (long long)json_integer_value(v), k);
		first = false;
	}
	printf("; %lld objects, %s data\n", ji(o, "num_objects"), b);
}

static void render_pg_dump(json_t *o)
{
	size_t i;
	json_t *v;

	printf("%-8s %-8s %-10s %-28s %-12s %-12s %s\n", "PG", "OBJECTS", "BYTES", "STATE",
	       "UP", "ACTING", "LAST_UPDATE");
	json_array_foreach(json_object_get(o, "pg_stats"), i, v) {
		printf("%-8s %-8lld %-10lld %-28s ", js(v, "pgid"), ji(v, "num_objects"),
		       ji(v, "num_bytes"), js(v, "state"));
		print_ids(json_object_get(v, "up"));
		printf("p%lld ", ji(v, "up_primary"));
		print_ids(json_object_get(v, "acting"));
		printf("p%lld %s\n", ji(v, "acting_primary"), js(v, "last_update"));
	}
}

static bool render(const char *const *argv, int argc, json_t *o)
{
	const char *a0 = argc > 0 ? argv[0] : "", *a1 = argc > 1 ? argv[1] : "",
		   *a2 = argc > 2 ? argv[2] : "";

	if (!strcmp(a0, "status") || !strcmp(a0, "-s")) {
		render_status(o);
	} else if (!strcmp(a0, "health")) {
		render_health(o, "");
	} else if (!strcmp(a0, "osd") && (!strcmp(a1, "tree") ||
					  (!strcmp(a1, "crush") && !strcmp(a2, "tree")))) {
		render_tree(o);
	} else if (!strcmp(a0, "osd") && !strcmp(a1, "stat")) {
		printf("%lld osds: %lld up, %lld in; epoch: e%lld%s%s\n", ji(o, "num_osds"),
		       ji(o, "num_up_osds"), ji(o, "num_in_osds"), ji(o, "epoch"),
		       *js(o, "flags") ? "; flags " : "", js(o, "flags"));
	} else if (!strcmp(a0, "osd") && !strcmp(a1, "df")) {
		size_t i;
		json_t *v, *sum = json_object_get(o, "summary");
		char b1[32], b2[32];
		printf("%-4s %-10s %-9s %-12s %-12s %6s %5s %s\n", "ID", "WEIGHT", "REWEIGHT",
		       "SIZE", "USED", "%USE", "PGS", "STATUS");
		json_array_foreach(json_object_get(o, "nodes"), i, v) {
			human_bytes((double)ji(v, "bytes_total"), b1, sizeof(b1));
			human_bytes((double)ji(v, "bytes_used"), b2, sizeof(b2));
			printf("%-4lld %-10.5f %-9.5f %-12s %-12s %6.2f %5lld %s\n", ji(v, "id"),
			       jr(v, "crush_weight"), jr(v, "reweight"), b1, b2, jr(v, "utilization"),
			       ji(v, "num_pgs"), js(v, "status"));
		}
		human_bytes((double)ji(sum, "bytes_total"), b1, sizeof(b1));
		human_bytes((double)ji(sum, "bytes_used"), b2, sizeof(b2));
		printf("TOTAL %s, USED %s (%.2f%%)\n", b1, b2, jr(sum, "utilization"));
	} else if (!strcmp(a0, "osd") && !strcmp(a1, "dump")) {
		render_dump(o);
	} else if (!strcmp(a0, "osd") && !strcmp(a1, "pool") &&
		   (!strcmp(a2, "ls") || !strcmp(a2, "get"))) {
		size_t i;
		json_t *v;
		if (json_is_array(o)) {
			json_array_foreach(o, i, v) {
				if (json_is_string(v))
					printf("%s\n", json_string_value(v));
				else
					render_pool(v);
			}
		} else if (json_object_get(o, "pool_name")) {
			render_pool(o);
		} else {
			const char *k;
			json_object_foreach(o, k, v) {
				if (!strcmp(k, "pool") || !strcmp(k, "pool_id"))
					continue;
				if (json_is_string(v))
					printf("%s: %s\n", k, json_string_value(v));
				else
					printf("%s: %lld\n", k, (long long)json_integer_value(v));
			}
		}
	} else if (!strcmp(a0, "osd") && !strcmp(a1, "map")) {
		printf("osdmap e%lld pool '%s' (%lld) object '%s' -> pg %s (%s) -> up (",
		       ji(o, "epoch"), js(o, "pool"), ji(o, "pool_id"), js(o, "objname"),
		       js(o, "raw_pgid"), js(o, "pgid"));
		print_ids(json_object_get(o, "up"));
		printf(", p%lld) acting (", ji(o, "up_primary"));
		print_ids(json_object_get(o, "acting"));
		printf(", p%lld)\n", ji(o, "acting_primary"));
	} else if (!strcmp(a0, "pg") && !strcmp(a1, "map")) {
		printf("osdmap e%lld pg %s -> up ", ji(o, "epoch"), js(o, "pgid"));
		print_ids(json_object_get(o, "up"));
		printf(" acting ");
		print_ids(json_object_get(o, "acting"));
		printf(" (%s)\n", js(o, "state"));
	} else if (!strcmp(a0, "pg") && !strcmp(a1, "stat")) {
		render_pg_stat(o);
	} else if (!strcmp(a0, "pg") && !strcmp(a1, "dump")) {
		render_pg_dump(o);
	} else if (!strcmp(a0, "mon") && !strcmp(a1, "stat")) {
		json_t *m0 = json_array_get(json_object_get(o, "mons"), 0);
		printf("e%lld: %lld mons at {%s=%s}, election epoch 1, leader 0 %s, quorum 0 %s; "
		       "osdmap %lld..%lld\n",
		       ji(o, "epoch"), ji(o, "num_mons"), js(m0, "name"), js(m0, "addr"),
		       js(m0, "name"), js(m0, "name"), ji(o, "osdmap_first_committed"),
		       ji(o, "osdmap_last_committed"));
	} else if (!strcmp(a0, "osd") && !strcmp(a1, "crush") &&
		   (!strcmp(a2, "rule") || !strcmp(a2, "class")) && argc > 3 &&
		   (!strcmp(argv[3], "ls") || !strcmp(argv[3], "list"))) {
		size_t i;
		json_t *v;
		json_array_foreach(o, i, v) printf("%s\n", json_string_value(v));
	} else if (json_is_object(o) && json_object_size(o) <= 2 && json_object_get(o, "epoch")) {
		return false; /* a change: the status line says it all */
	} else {
		char *s = json_dumps(o, JSON_INDENT(2));
		if (s)
			printf("%s\n", s);
		free(s);
	}
	return true;
}

/* ---- watch ---- */

struct watch_state {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint32_t last;
	unsigned seen;
};

static struct monc *g_monc;

static void on_dispatch(struct msg_conn *c, struct msg *m, void *arg)
{
	(void)arg;
	if (!g_monc || !monc_handle(g_monc, c, m))
		msg_free(m);
}

static void on_reset(struct msg_conn *c, void *arg)
{
	(void)arg;
	if (g_monc)
		monc_handle_reset(g_monc, c);
}

static void on_map(void *arg, struct osdmap *m)
{
	struct watch_state *w = arg;
	int n, up, in;

	osdmap_count_osds(m, &n, &up, &in);
	if (g_json)
		printf("{\"epoch\":%u,\"num_osds\":%d,\"num_up_osds\":%d,\"num_in_osds\":%d,"
		       "\"num_pools\":%u}\n",
		       m->epoch, n, up, in, m->num_pools);
	else
		printf("e%u: %d osds: %d up, %d in; %u pools\n", m->epoch, n, up, in, m->num_pools);
	fflush(stdout);
	pthread_mutex_lock(&w->lock);
	w->last = m->epoch;
	w->seen++;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

static int do_watch(struct monc *mc, struct watch_state *w, long count, double timeout_s)
{
	uint64_t deadline = now_mono_ns() + (uint64_t)(timeout_s * 1e9);
	int rc;

	rc = monc_sub_osdmap(mc, 0);
	if (rc)
		return rc;
	for (;;) {
		bool done;
		pthread_mutex_lock(&w->lock);
		done = count > 0 && w->seen >= (unsigned long)count;
		pthread_mutex_unlock(&w->lock);
		if (done)
			return 0;
		if (timeout_s > 0 && now_mono_ns() >= deadline)
			return count > 0 ? -ETIMEDOUT : 0;
		sleep_ms(20);
	}
}

/* ---- main ---- */

static int write_out(const char *path, const char *p, size_t len)
{
	FILE *f = !strcmp(path, "-") ? stdout : fopen(path, "wb");

	if (!f)
		return -errno;
	if (fwrite(p, 1, len, f) != len) {
		if (f != stdout)
			fclose(f);
		return -EIO;
	}
	if (f != stdout && fclose(f))
		return -EIO;
	return 0;
}

static int errexit(int rc)
{
	int e = rc < 0 ? -rc : rc;

	return e > 0 && e < 256 && e != 77 ? e : 1;
}

int main(int argc, char **argv)
{
	const char *conf_file = NULL, *mon_addr = NULL, *outfile = NULL, *infile = NULL;
	double timeout_s = -1, watch_timeout = 0;
	long watch_count = 0;
	const char **words = calloc((size_t)argc + 1, sizeof(char *));
	char **cargs = calloc((size_t)argc + 1, sizeof(char *));
	int nwords = 0, ncargs = 1, rc = 0, cmd_rc = 0;
	struct cairn_conf *conf = NULL;
	char err[512];
	struct msgr *ms = NULL;
	struct msgr_opts mo;
	struct monc_opts mco;
	struct watch_state ws = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
	char *status = NULL, *out = NULL, *in = NULL;
	size_t outlen = 0, inlen = 0;
	static const struct msgr_ops ops = {.dispatch = on_dispatch, .reset = on_reset};

	if (!words || !cargs)
		return 1;
	cargs[0] = argv[0];
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "-c") || !strcmp(a, "--conf")) {
			if (!v)
				goto missing;
			conf_file = argv[++i];
		} else if (!strcmp(a, "-m")) {
			if (!v)
				goto missing;
			mon_addr = argv[++i];
		} else if (!strcmp(a, "-f") || !strcmp(a, "--format")) {
			if (!v)
				goto missing;
			i++;
			if (!strcmp(v, "json") || !strcmp(v, "json-pretty"))
				g_json = true;
			else if (!strcmp(v, "plain"))
				g_json = false;
			else {
				fprintf(stderr, "cairn: unknown format '%s' (plain, json)\n", v);
				return 22;
			}
		} else if (!strncmp(a, "--format=", 9)) {
			g_json = !strncmp(a + 9, "json", 4);
		} else if (!strcmp(a, "--connect-timeout")) {
			char *end;
			if (!v)
				goto missing;
			timeout_s = strtod(argv[++i], &end);
			if (*end || timeout_s <= 0) {
				fprintf(stderr, "cairn: bad --connect-timeout '%s'\n", v);
				return 22;
			}
		} else if (!strcmp(a, "-o")) {
			if (!v)
				goto missing;
			outfile = argv[++i];
		} else if (!strcmp(a, "-i")) {
			if (!v)
				goto missing;
			infile = argv[++i];
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else if (nwords > 0 && !strcmp(words[0], "watch") && !strcmp(a, "--count") && v) {
			watch_count = atol(argv[++i]);
		} else if (nwords > 0 && !strcmp(words[0], "watch") && !strcmp(a, "--timeout") && v) {
			watch_timeout = atof(argv[++i]);
		} else if (!strncmp(a, "--", 2) && a[2] && nwords == 0 && v) {
			/* a config option (--log_level 3) */
			cargs[ncargs++] = argv[i];
			cargs[ncargs++] = argv[++i];
		} else {
			words[nwords++] = a;
		}
	}
	if (nwords == 0) {
		usage(stderr);
		return 22;
	}
	rc = conf_load(&conf, conf_file, "client", NULL, &ncargs, cargs, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "cairn: %s\n", err);
		return 22;
	}
	if (ncargs > 1) {
		fprintf(stderr, "cairn: unknown option '%s'\n", cargs[1]);
		conf_free(conf);
		return 22;
	}
	if (timeout_s < 0)
		timeout_s = conf_double(conf, "client_mount_timeout");
	log_init(NULL, (int)conf_int(conf, "log_level") < LOG_WARN ? (int)conf_int(conf, "log_level")
								   : LOG_ERR,
		 "cairn");
	if (infile) {
		rc = util_read_file(infile, 64u << 20, &in, &inlen);
		if (rc) {
			fprintf(stderr, "cairn: cannot read %s: %s\n", infile, cairn_strerror(rc));
			conf_free(conf);
			return errexit(rc);
		}
	}

	memset(&mo, 0, sizeof(mo));
	mo.me.type = MSG_ENTITY_CLIENT;
	mo.me.num = (int64_t)(rand_u64() >> 1);
	mo.nworkers = 1;
	mo.conf = conf;
	mo.ops = &ops;
	ms = msgr_create(&mo);
	if (!ms || msgr_start(ms)) {
		fprintf(stderr, "cairn: cannot start the messenger\n");
		rc = -ENOMEM;
		goto out;
	}
	memset(&mco, 0, sizeof(mco));
	mco.msgr = ms;
	mco.mon_addr = mon_addr;
	mco.conf = conf;
	mco.on_osdmap = on_map;
	mco.arg = &ws;
	g_monc = monc_create(&mco);
	if (!g_monc) {
		fprintf(stderr, "cairn: no monitor address (use -c CONF or -m IP:PORT)\n");
		rc = -EINVAL;
		goto out;
	}

	if (!strcmp(words[0], "watch")) {
		rc = do_watch(g_monc, &ws, watch_count, watch_timeout);
		if (rc)
			fprintf(stderr, "cairn: watch: %s\n", cairn_strerror(rc));
		goto out;
	}
	rc = monc_command(g_monc, words, nwords, in, inlen, &cmd_rc, &status, &out, &outlen,
			  (int)(timeout_s * 1000));
	if (rc == -ETIMEDOUT) {
		fprintf(stderr, "cairn: monitor %s unreachable (no reply within %.1fs)\n",
			mon_addr ? mon_addr : conf_str(conf, "mon_host"), timeout_s);
		goto out;
	}
	if (rc) {
		fprintf(stderr, "cairn: %s\n", cairn_strerror(rc));
		goto out;
	}
	if (cmd_rc) {
		const char *nm = strerrorname_np(-cmd_rc);
		fprintf(stderr, "Error %s: %s\n", nm ? nm : "?",
			status && *status ? status : cairn_strerror(cmd_rc));
		rc = cmd_rc;
		goto out;
	}
	if (outfile) {
		rc = write_out(outfile, out, outlen);
		if (rc) {
			fprintf(stderr, "cairn: cannot write %s: %s\n", outfile, cairn_strerror(rc));
			goto out;
		}
		if (status && *status)
			fprintf(stderr, "%s\n", status);
		goto out;
	}
	if (outlen && out[0] != '{' && out[0] != '[' && out[0] != '"') {
		fprintf(stderr, "cairn: binary output; use -o FILE\n");
		rc = -EINVAL;
		goto out;
	}
	if (g_json) {
		if (outlen)
			printf("%s\n", out);
		if (status && *status)
			fprintf(stderr, "%s\n", status);
	} else {
		json_error_t je;
		json_t *o = outlen ? json_loads(out, JSON_DECODE_ANY, &je) : NULL;
		bool shown = o && render(words, nwords, o);
		if (!shown && status && *status)
			printf("%s\n", status);
		json_decref(o);
	}
out:
	fflush(stdout);
	if (g_monc)
		monc_shutdown(g_monc);
	if (ms)
		msgr_destroy(ms);
	if (g_monc)
		monc_destroy(g_monc);
	g_monc = NULL;
	free(status);
	free(out);
	free(in);
	free(words);
	free(cargs);
	conf_free(conf);
	return rc ? errexit(rc) : 0;
missing:
	fprintf(stderr, "cairn: option needs a value\n");
	return 22;
}
