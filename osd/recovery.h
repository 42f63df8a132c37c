/*
 * recovery — issue 8: peering, log-based recovery and backfill of a PG (osd/recovery.c;
 * wire format in osd/rec_msgs.h; design and guarantees in docs/recovery.md).
 *
 * Hooks the OSD's files call (all on the PG's shard thread unless said otherwise):
 *   rec_peering_start   a primary starts peering a new interval (replaces the minimal
 *                       peering of pg_peering.c when it returns true)
 *   rec_client_op_wait  a client op on an object still missing waits (true = taken)
 *   rec_repop_skip_data a replica gets a repop for an object it does not hold yet (missing
 *                       or above its backfill boundary): apply only the log entry
 *   rec_state_refresh   pg_handle_map recomputed the state: keep recovering/backfilling bits
 *   rec_pg_stats        fills the recovery fields of the PG stats (under stat_lock)
 *   rec_pg_free         frees the PG's recovery state (pg_destroy)
 *   rec_dispatch        messenger thread: a peering/recovery message -> the PG's shard
 *   rec_shard_item      shard thread: runs one OQ_RECOVERY item (messages, ticks, commits)
 *   rec_pg_tick         once a second per PG (pg_peering_tick): resends, retries, backfill
 */
#ifndef CAIRN_OSD_RECOVERY_H
#define CAIRN_OSD_RECOVERY_H

#include <stdbool.h>
#include <stdint.h>

struct pg;
struct osd;
struct osd_item;
struct osd_shard;
struct osd_repop;
struct store_txn;
struct mon_pg_stat;
struct msg_conn;
struct msg;

bool rec_peering_start(struct pg *pg);
bool rec_client_op_wait(struct pg *pg, struct osd_item *it);
/* Whether rec_client_op_wait may act on a client op (the primary recovers objects): such an
 * op is not run inline on a messenger thread, whose run must not start recovery work. */
bool rec_client_op_may_wait(const struct pg *pg);
/* true: the caller applies t instead of the primary's transaction; t then holds the log
 * entry and info of rp only (built here). */
bool rec_repop_skip_data(struct pg *pg, const struct osd_repop *rp, struct store_txn *t);
/* whether rec_repop_skip_data may queue a transaction of its own (a messenger thread then
 * hands the repop to the shard) */
bool rec_repop_may_wait(const struct pg *pg, const struct osd_repop *rp);
/* pg.c recomputed an active primary's state from its acting set: adds the recovery bits. */
void rec_state_refresh(struct pg *pg);
void rec_pg_stats(struct pg *pg, struct mon_pg_stat *s);
void rec_pg_free(struct pg *pg);
/* true if m was one of ours (consumed). */
bool rec_dispatch(struct osd *o, struct msg_conn *c, struct msg *m);
void rec_shard_item(struct osd_shard *sh, struct osd_item *it);
/* true while recovery.c owns the PG's peering (pg_peering.c's own tick then stays out). */
bool rec_pg_tick(struct pg *pg, uint64_t now);

#endif
