/*
 * op_exec — runs the sub-ops of one client request against one object: validates them,
 * produces the per-op results and output bytes, and (for writes) the store transaction
 * that applies them. It never touches the store's state itself: the caller (pg.c) adds the
 * PG log entry to the transaction, queues it and replicates it.
 *
 * Semantics (docs/osd.md): sub-ops run in order; state-dependent checks (exists, size for
 * APPEND, EXCL create) see the effects of earlier sub-ops of the same request; data reads
 * (READ, GETXATTR, OMAP_GET...) see the object as it was before the request. The first
 * failing sub-op without OSD_OPF_FAILOK fails the request: nothing is applied, later
 * sub-ops get -ECANCELED. Every argument is validated before the transaction is touched.
 * Runs on the PG's worker thread (it reads from the store).
 */
#ifndef CAIRN_OSD_OP_EXEC_H
#define CAIRN_OSD_OP_EXEC_H

#include <stdbool.h>
#include <stdint.h>

#include "common/encode.h"
#include "common/osd_proto.h"

struct store;
struct store_txn;

struct op_exec {
	/* in */
	struct store *store;
	const char *coll;
	const struct osd_op_req *req;
	const uint8_t *indata; /* the request's data payload; NOT OWNER */
	uint64_t indata_len;
	uint64_t max_write;    /* osd_max_write_size */
	uint32_t list_max;     /* osd_list_max */
	bool nowait;	       /* must not wait for the disk: a single READ or WRITE that
				  would, and any other request, returns -EWOULDBLOCK from
				  op_exec_run, having done nothing */
	/* out */
	struct store_txn *txn; /* non-NULL iff the request changed something (caller owns) */
	struct cbuf out;       /* concatenated output data (caller frees: op_exec_clear) */
	struct osd_op_result res[OSD_OPS_MAX];
	int32_t result;
	bool existed, exists;  /* before / after */
	uint64_t old_size, size;
	bool is_write;         /* the request has write sub-ops */
};

/* Runs the request. Returns 0 (see ex->result for the request's result) or a negative
 * errno for an internal failure (ENOMEM, store read error), or -EWOULDBLOCK (nowait). */
int op_exec_run(struct op_exec *ex);
/* A request op_exec_run may run with nowait set besides a single READ: a single WRITE or
 * WRITEFULL (it needs only the object's size, from a cached stat). */
bool op_exec_inline_write(const struct osd_op_req *req);
/* Frees out and txn. */
void op_exec_clear(struct op_exec *ex);

/* A request whose sub-ops include a write. */
bool op_req_is_write(const struct osd_op_req *r);

#endif
