/*
 * mon — internals of cairn-mon shared by the files of mon/ (not a public contract).
 *
 *   mon.c          process shell: messenger, the mon thread and its work queue, sessions,
 *                  subscriptions, map serving, and the one change path:
 *                      mon_pending() -> mutate the copy -> mon_commit()
 *                  (propose = build the next map; commit = write full map + incremental of
 *                  the epoch in one synced RocksDB batch; publish = swap the current map and
 *                  push the incremental to every subscriber). A later Paxos replaces only
 *                  the middle step.
 *   mon_store.c    the monitor's RocksDB: maps per epoch, served by range.
 *   osd_monitor.c  OSD lifecycle: boot, failure reports, alive, down -> out; initial map.
 *   pgmap.c        PG stats from OSDs, aggregation, health checks.
 *   pg_la.c        last-active records of PGs (docs/recovery.md "Past intervals").
 *   commands.c     the admin commands (argv in, JSON out).
 *
 * Threading: every message, reset and tick is handled on the single mon thread, in arrival
 * order, so mon state needs no locks. Messenger loop threads only enqueue.
 */
#ifndef CAIRN_MON_MON_H
#define CAIRN_MON_MON_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/mon_proto.h"
#include "common/osdmap.h"

struct cairn_conf;
struct msg;
struct msg_conn;
struct msgr;
struct mon_store;
struct pgmap;

struct mon_session {
	struct mon_session *next;
	struct msg_conn *conn;   /* ref */
	bool sub_osdmap;
	uint32_t sub_next;       /* next epoch to send (0: send the latest full map) */
	bool onetime;
};

struct failure_report {
	int32_t reporter;
	uint64_t stamp_ns;       /* monotonic time of the latest report */
};

struct failure_info {            /* per target OSD */
	int nreports;
	struct failure_report reports[64];
};

struct mon {
	const struct cairn_conf *conf;
	struct msgr *msgr;
	struct mon_store *store;
	struct osdmap *map;      /* current committed map (ref) */
	uint32_t first_epoch;    /* oldest epoch kept in the store */
	struct mon_session *sessions;
	struct pgmap *pgmap;
	struct failure_info *failures; /* [failures_len], by target osd id */
	int32_t failures_len;
	uint64_t *osd_last_seen; /* [osd_last_seen_len] monotonic ns of the last alive/stats */
	uint64_t *osd_up_since;  /* [osd_last_seen_len] monotonic ns this mon marked it up; 0 */
	int32_t osd_last_seen_len;
	uint64_t start_ns;
	uint64_t ncommits;
	struct mon_pg_la *pgla;  /* [npgla] last-active records (pg_la.c), unordered */
	size_t npgla, capla;
};

/* ---- mon.c: the change path ---- */
/* A private copy of the current map with epoch + 1 and modified = now. NULL on ENOMEM. */
struct osdmap *mon_pending(struct mon *mon);
/* Finalizes, persists and publishes pending (consumes it). A pending map equal to the
 * current one (nothing changed) is dropped: returns 1 and no epoch is created. 0 when a new
 * epoch was committed, negative errno on failure (nothing changed). */
int mon_commit(struct mon *mon, struct osdmap *pending);
/* Sends subscribers everything they have not seen yet. */
void mon_publish(struct mon *mon);

/* ---- mon_store.c ---- */
int mon_store_open(struct mon_store **out, const char *path, bool create);
void mon_store_close(struct mon_store *s);
/* One synced batch: full map and incremental (inc may be NULL for the first epoch) of epoch e,
 * and last_committed = e. */
int mon_store_put_epoch(struct mon_store *s, uint32_t e, const void *full, size_t full_len,
			const void *inc, size_t inc_len);
/* malloc'd copies; -ENOENT if absent. */
int mon_store_get_full(struct mon_store *s, uint32_t e, void **out, size_t *len);
int mon_store_get_inc(struct mon_store *s, uint32_t e, void **out, size_t *len);
/* 0 and *e (0 when empty). */
int mon_store_last_committed(struct mon_store *s, uint32_t *e);
int mon_store_first_committed(struct mon_store *s, uint32_t *e);
/* One synced batch of puts (vals[i] != NULL) and deletes (vals[i] == NULL). */
int mon_store_write_kvs(struct mon_store *s, size_t n, const char *const *keys,
			const void *const *vals, const size_t *lens);
/* cb for every key starting with prefix, in key order; a non-zero cb result stops (returned). */
int mon_store_scan_prefix(struct mon_store *s, const char *prefix,
			  int (*cb)(void *arg, const char *key, size_t klen, const void *val,
				    size_t vlen),
			  void *arg);

/* ---- pg_la.c ---- */
/* Loads the records from the store (startup). */
int pgla_load(struct mon *mon);
/* MON_PG_LA: stores the newer records (one synced batch), replies with the mon's records. */
void pgla_handle(struct mon *mon, struct msg_conn *c, const struct mon_pg_la_msg *m);
/* A new map: drops the records of PGs that no longer exist (deleted pools). */
void pgla_on_map(struct mon *mon);
/* The mon's record of pg, or NULL. */
const struct mon_pg_la *pgla_get(struct mon *mon, struct pg_id pg);

/* ---- osd_monitor.c ---- */
/* Builds epoch 1 of a new cluster (CRUSH root "default", types osd/host/rack/root,
 * rule 0 "replicated_rule"). */
int osdmon_create_initial(struct mon *mon, const uint8_t fsid[16], struct osdmap **out);
void osdmon_handle_boot(struct mon *mon, struct msg_conn *c, const struct mon_osd_boot *b);
void osdmon_handle_failure(struct mon *mon, const struct mon_osd_failure *f);
void osdmon_handle_alive(struct mon *mon, const struct mon_osd_alive *a);
void osdmon_note_seen(struct mon *mon, int32_t osd);
void osdmon_tick(struct mon *mon);
/* Adds or moves a device/bucket: helpers used by commands too. */
uint32_t osdmon_weight_from_bytes(uint64_t bytes);

/* ---- pgmap.c ---- */
struct pgmap *pgmap_create(void);
void pgmap_destroy(struct pgmap *pm);
/* Aligns the per-pool tables with a (new) map: pools added/removed/resized. */
void pgmap_on_map(struct pgmap *pm, const struct osdmap *m);
void pgmap_apply_report(struct pgmap *pm, const struct osdmap *m, const struct mon_pg_stats *s);
/* JSON for commands (new references). */
json_t *pgmap_pg_stat_json(struct pgmap *pm, const struct osdmap *m, double stale_s);
json_t *pgmap_pg_dump_json(struct pgmap *pm, const struct osdmap *m, double stale_s);
json_t *pgmap_pool_stats_json(struct pgmap *pm, const struct osdmap *m, int64_t pool);
/* {"status": "HEALTH_OK|WARN|ERR", "checks": {NAME: {severity, summary, count, detail[]}}} */
json_t *mon_health_json(struct mon *mon, bool detail);
/* An OSD's last reported capacity (NULL if it never reported). */
const struct mon_osd_stat *pgmap_osd_stat(struct pgmap *pm, int32_t osd);
/* One PG's state string / stats (NULL if never reported). */
const struct mon_pg_stat *pgmap_get(struct pgmap *pm, struct pg_id pg, uint64_t *stamp_ns);

/* ---- commands.c ---- */
/* Runs one admin command. Returns rc (0 or -errno); *status a malloc'd line; *out a malloc'd
 * output (JSON text, or binary) of *outlen bytes. */
int mon_command_run(struct mon *mon, const struct mon_command *cmd, char **status, char **out,
		    size_t *outlen);

#endif
