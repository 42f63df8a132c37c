/*
 * op_queue — the OSD's work queue, sharded by PG over worker threads.
 *
 * Every piece of PG work (a client op, a repop, a repop reply, a local commit, a new map)
 * becomes an oq_item pushed to the shard that owns the PG (op_queue_shard_of). Each shard
 * is one thread draining one FIFO, so everything that touches a PG runs on one thread, in
 * arrival order, without PG locks; different PGs run in parallel on different shards.
 * Messenger threads only decode and push (no disk I/O there); store completions push too.
 *
 *     msgr loop --push--> [shard i FIFO] --pop--> worker i: handler(shard, item)
 *
 * Inline runs: op_queue_run_or_push runs an item on the calling (messenger) thread when its
 * shard is idle — its thread asleep, nothing queued — which saves two thread hand-offs for
 * ops that are cheap and cannot wait on the disk (the OSD uses it for reads served from
 * RocksDB's memtable and block cache). The shard is owned by the caller meanwhile, so the
 * one-thread-per-PG rule holds; a handler that finds it would have to wait puts the item
 * back with op_queue_push_front and the shard thread runs it, still first in line.
 *
 * The queue is bounded from upstream: the messenger's dispatch throttle
 * (ms_dispatch_throttle_bytes) stops reading sockets while too many received bytes are
 * unfreed, and each PG bounds its in-flight writes. Pushing never blocks.
 */
#ifndef CAIRN_OSD_OP_QUEUE_H
#define CAIRN_OSD_OP_QUEUE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/osdmap.h"

struct op_queue;

struct oq_item {
	struct oq_item *next; /* intrusive FIFO link (owned by whichever list holds it) */
	int type;             /* meaning is the handler's */
	uint64_t enq_ns;      /* monotonic time it was pushed */
};

/* Runs on the shard's thread for each item; takes ownership of it. */
typedef void (*oq_handler_t)(void *arg, unsigned shard, struct oq_item *it);

struct op_queue *op_queue_create(unsigned nshards, oq_handler_t handler, void *arg);
/* Stops every worker after it drained its queue; frees the queue. NULL ok. */
void op_queue_destroy(struct op_queue *q);
unsigned op_queue_nshards(const struct op_queue *q);
unsigned op_queue_shard_of(const struct op_queue *q, struct pg_id pg);
/* Thread-safe; never blocks. */
void op_queue_push(struct op_queue *q, unsigned shard, struct oq_item *it);
/* Puts it at the head of the shard's FIFO (an inline item handing itself back). */
void op_queue_push_front(struct op_queue *q, unsigned shard, struct oq_item *it);
/* Runs the handler on it on this thread if the shard is idle, else pushes it; true if it
 * ran here. Never runs inline from within an inline run. */
bool op_queue_run_or_push(struct op_queue *q, unsigned shard, struct oq_item *it);
/* True while this thread runs an item inline (the handler must not block). */
bool op_queue_inline(void);
/* Items waiting in one shard (approximate; for stats). */
unsigned op_queue_depth(struct op_queue *q, unsigned shard);

#endif
