/*
 * libcairn — the object API of a cairn cluster (the public header; link -lcairn).
 *
 * A program creates a cluster handle from a conf file, connects (fetches the cluster map from
 * the monitor), opens a pool by name and reads and writes objects in it. Placement is
 * computed in the library (object -> PG -> CRUSH -> acting primary); every operation goes to
 * the PG's primary OSD, which replicates it before answering. The library resends an
 * operation when the map changes, the connection drops or an OSD says the client's map is
 * stale, and ends every operation exactly once: with success or a negative errno.
 *
 * Conventions:
 *   - Every int-returning call answers 0 (or a byte count where stated) or a negative errno.
 *   - No global state: several cluster handles (even of different clusters) may live in one
 *     process. Handles are thread-safe unless stated otherwise; an op builder
 *     (cairn_write_op_t / cairn_read_op_t) belongs to one thread until it is operated.
 *   - Buffers passed to the asynchronous calls belong to the caller and must stay valid (and,
 *     for writes, unchanged) until the completion is complete.
 *   - Object names are 1..CAIRN_MAX_OID_LEN bytes; xattr names and omap keys are strings.
 *   - Errors a caller should expect: -ENOENT (no such object / pool / xattr / conf file),
 *     -EEXIST (exclusive create of an existing object), -EINVAL (bad argument or conf),
 *     -ETIMEDOUT (the op did not finish within client_op_timeout, or connect within
 *     client_mount_timeout), -ENOTCONN (handle not connected), -ESHUTDOWN (the handle was
 *     shut down while the op was in flight), -ERANGE (a caller buffer is too small),
 *     -ENAMETOOLONG (object name too long), -EIO (the cluster reported a failure).
 *
 * Lifecycle:   cairn_create -> [cairn_conf_set...] -> cairn_connect -> ... -> cairn_shutdown
 * Pools:       cairn_ioctx_create (by name) ... cairn_ioctx_destroy
 * Sync ops:    cairn_write, cairn_read, cairn_stat, ...           (block the calling thread)
 * Async ops:   cairn_aio_create_completion, cairn_aio_write, ..., cairn_aio_wait_for_complete,
 *              cairn_aio_get_return_value, cairn_aio_release
 * Compound:    cairn_write_op_create / cairn_read_op_create, add steps, *_operate (atomic on
 *              one object; per-step results through the int *prval arguments)
 * Listing:     cairn_list_open / cairn_list_next / cairn_list_close (walks every PG of the
 *              pool with a cursor)
 *
 * Full reference with an example program: docs/libcairn.md.
 */
#ifndef CAIRN_LIBCAIRN_H
#define CAIRN_LIBCAIRN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CAIRN_LIBCAIRN_VERSION_MAJOR 0
#define CAIRN_LIBCAIRN_VERSION_MINOR 1

#define CAIRN_MAX_OID_LEN 1024   /* bytes in an object name */
#define CAIRN_MAX_OSDS_PER_PG 16 /* entries in struct cairn_placement::acting */

typedef struct cairn_cluster cairn_t;
typedef struct cairn_ioctx cairn_ioctx_t;
typedef struct cairn_completion cairn_completion_t;
typedef struct cairn_write_op cairn_write_op_t;
typedef struct cairn_read_op cairn_read_op_t;
typedef struct cairn_list cairn_list_t;
typedef struct cairn_kvs cairn_kvs_t;

/* ---- cluster handle ------------------------------------------------------------------- */

/*
 * Creates a handle configured from conf_path (a cairn.conf as written by cairn-up: [global]
 * mon_host = IP:PORT, [client] options). conf_path NULL: only defaults (then set mon_host with
 * cairn_conf_set). Returns -ENOENT if the file does not exist, -EINVAL if it does not parse
 * (use cairn_create2 to get the reason).
 */
int cairn_create(cairn_t **cl, const char *conf_path);
/* Same, with a one-line reason on failure ("cairn.conf:3: unknown option 'foo'"). */
int cairn_create2(cairn_t **cl, const char *conf_path, char *errbuf, size_t errlen);
/* Sets one config option (before cairn_connect). -EINVAL for an unknown name or bad value. */
int cairn_conf_set(cairn_t *cl, const char *name, const char *value);
/* Connects to the monitor and waits (at most client_mount_timeout) for the first OSD map.
 * -ETIMEDOUT if no monitor answered in time, -EINVAL if mon_host is missing or invalid. */
int cairn_connect(cairn_t *cl);
/* Ends every op still in flight with -ESHUTDOWN (their callbacks run), closes connections,
 * frees the handle. Ioctxs must be destroyed first; completions may outlive it. */
void cairn_shutdown(cairn_t *cl);
/* Last error message of this handle (a static "" when none); for tools' one-line errors. */
const char *cairn_errmsg(const cairn_t *cl);
/* Current OSD map epoch (0 before connect). */
uint32_t cairn_osdmap_epoch(cairn_t *cl);
/* Waits until the client holds a map of at least this epoch: 0, or -ETIMEDOUT after
 * timeout_s seconds. */
int cairn_wait_for_epoch(cairn_t *cl, uint32_t epoch, double timeout_s);
/* Runs a monitor command given as the words of the `cairn` CLI command ({"osd", "out", "1"},
 * {"osd", "pool", "create", "rbd", "32", "3"}). Returns the command's result (0 or -errno),
 * or -ETIMEDOUT if the monitor did not answer within client_mount_timeout. *out (its output,
 * NUL-terminated) and *status (a one-line message) are malloc'd for the caller to free(); each
 * of out, outlen and status may be NULL. */
int cairn_mon_command(cairn_t *cl, const char *const *argv, int argc, char **out,
		      size_t *outlen, char **status);
/* Counters of the handle's objecter since connect. */
struct cairn_stats {
	uint64_t ops_started;   /* ops submitted */
	uint64_t ops_completed; /* ops ended (any result) */
	uint64_t ops_failed;    /* ... with an error */
	uint64_t ops_timed_out; /* ... with -ETIMEDOUT */
	uint64_t sends;         /* op messages sent to OSDs */
	uint64_t resends;       /* sends beyond an op's first: map change, reset, stale map */
	uint64_t stale_replies; /* -ESTALE (misdirected / stale map) answers */
	uint64_t conn_resets;   /* OSD connections that failed */
	uint32_t osdmap_epoch;
	uint32_t inflight;
};
int cairn_get_stats(cairn_t *cl, struct cairn_stats *st);
/* The id of the pool named name, or -ENOENT. */
int64_t cairn_pool_lookup(cairn_t *cl, const char *name);

/* ---- pools (I/O contexts) ------------------------------------------------------------- */

/* Opens pool pool_name. -ENOENT if the cluster has no such pool, -ENOTCONN before connect. */
int cairn_ioctx_create(cairn_t *cl, const char *pool_name, cairn_ioctx_t **io);
void cairn_ioctx_destroy(cairn_ioctx_t *io);
int64_t cairn_ioctx_pool_id(const cairn_ioctx_t *io);
/* Per-ioctx op timeout in seconds, overriding client_op_timeout for ops started on io from
 * now on; 0 means no timeout. */
void cairn_ioctx_set_op_timeout(cairn_ioctx_t *io, double seconds);

/* Where an object lives under the client's current map. */
struct cairn_placement {
	int64_t pool;
	uint32_t pg_seed;                     /* PG number within the pool (pg id = pool.seed) */
	int primary;                          /* acting primary OSD id, -1 if none */
	int acting_len;
	int acting[CAIRN_MAX_OSDS_PER_PG];
	uint32_t epoch;                       /* map epoch the answer was computed in */
};
int cairn_object_placement(cairn_ioctx_t *io, const char *oid, struct cairn_placement *out);

/* ---- synchronous object operations ------------------------------------------------------ */

/* Creates an empty object; exclusive: -EEXIST if it exists. */
int cairn_obj_create(cairn_ioctx_t *io, const char *oid, int exclusive);
/* Writes len bytes at off (creating the object). */
int cairn_write(cairn_ioctx_t *io, const char *oid, const void *buf, size_t len, uint64_t off);
/* Replaces the object's data with buf (size becomes len). */
int cairn_write_full(cairn_ioctx_t *io, const char *oid, const void *buf, size_t len);
/* Appends at the object's current end. */
int cairn_append(cairn_ioctx_t *io, const char *oid, const void *buf, size_t len);
/* Reads up to len bytes at off into buf; returns the number of bytes read (0 past the end),
 * -ENOENT if the object does not exist. */
int cairn_read(cairn_ioctx_t *io, const char *oid, void *buf, size_t len, uint64_t off);
/* Size in bytes and modification time (ns since the epoch; either pointer may be NULL). */
int cairn_stat(cairn_ioctx_t *io, const char *oid, uint64_t *size, uint64_t *mtime_ns);
int cairn_remove(cairn_ioctx_t *io, const char *oid);
int cairn_trunc(cairn_ioctx_t *io, const char *oid, uint64_t size);
/* Zeroes len bytes at off (never extends the object past its size). */
int cairn_zero(cairn_ioctx_t *io, const char *oid, uint64_t off, uint64_t len);

int cairn_setxattr(cairn_ioctx_t *io, const char *oid, const char *name, const void *val,
		   size_t len);
/* Copies the value into buf; returns its length. -ERANGE if cap is too small, -ENODATA if the
 * object has no such xattr. */
int cairn_getxattr(cairn_ioctx_t *io, const char *oid, const char *name, void *buf, size_t cap);
int cairn_rmxattr(cairn_ioctx_t *io, const char *oid, const char *name);
/* Every xattr of the object: *out is freed with cairn_kvs_free. */
int cairn_getxattrs(cairn_ioctx_t *io, const char *oid, cairn_kvs_t **out);

/* Sets n omap keys (vals[i] of lens[i] bytes). */
int cairn_omap_set(cairn_ioctx_t *io, const char *oid, const char *const *keys,
		   const void *const *vals, const size_t *lens, size_t n);
/* Values of the given keys (absent keys are left out of *out). */
int cairn_omap_get(cairn_ioctx_t *io, const char *oid, const char *const *keys, size_t n,
		   cairn_kvs_t **out);
int cairn_omap_rm_keys(cairn_ioctx_t *io, const char *oid, const char *const *keys, size_t n);
/* Up to max entries with keys > start_after ("" = from the first), in key order; *more is
 * set to 1 when entries remain (may be NULL). */
int cairn_omap_list(cairn_ioctx_t *io, const char *oid, const char *start_after, size_t max,
		    cairn_kvs_t **out, int *more);

/* ---- key/value results (xattrs, omap) ------------------------------------------------- */

size_t cairn_kvs_count(const cairn_kvs_t *kvs);
/* Entry i (0 <= i < count): NUL-terminated key, value and its length. Valid until freed. */
const char *cairn_kvs_key(const cairn_kvs_t *kvs, size_t i);
const void *cairn_kvs_val(const cairn_kvs_t *kvs, size_t i, size_t *len);
void cairn_kvs_free(cairn_kvs_t *kvs);

/* ---- completions and asynchronous operations ------------------------------------------ */

/* Called once, from a library thread, when the op ends. Must not block (no synchronous
 * cairn_* calls in it); it may call cairn_aio_get_return_value, start new async ops and
 * release c (the library holds its own reference until the callback returned). */
typedef void (*cairn_callback_t)(cairn_completion_t *c, void *arg);

/* cb may be NULL (then wait with cairn_aio_wait_for_complete). */
int cairn_aio_create_completion(void *arg, cairn_callback_t cb, cairn_completion_t **c);
/* Blocks until the op is complete (committed on every replica for writes). */
int cairn_aio_wait_for_complete(cairn_completion_t *c);
int cairn_aio_is_complete(cairn_completion_t *c);
/* The op's result, as the synchronous call would have returned it. */
int cairn_aio_get_return_value(cairn_completion_t *c);
/* Drops the caller's reference; safe while the op is still in flight (the library keeps its
 * own until the callback returned). */
void cairn_aio_release(cairn_completion_t *c);

int cairn_aio_write(cairn_ioctx_t *io, const char *oid, cairn_completion_t *c, const void *buf,
		    size_t len, uint64_t off);
int cairn_aio_write_full(cairn_ioctx_t *io, const char *oid, cairn_completion_t *c,
			 const void *buf, size_t len);
int cairn_aio_append(cairn_ioctx_t *io, const char *oid, cairn_completion_t *c, const void *buf,
		     size_t len);
/* Return value: bytes read. */
int cairn_aio_read(cairn_ioctx_t *io, const char *oid, cairn_completion_t *c, void *buf,
		   size_t len, uint64_t off);
/* size / mtime_ns are filled before the completion completes; they may be NULL. */
int cairn_aio_stat(cairn_ioctx_t *io, const char *oid, cairn_completion_t *c, uint64_t *size,
		   uint64_t *mtime_ns);
int cairn_aio_remove(cairn_ioctx_t *io, const char *oid, cairn_completion_t *c);
/* Number of ops started on this handle and not yet complete. */
int cairn_aio_inflight(cairn_t *cl);
/* Blocks until every op started so far is complete. */
int cairn_aio_flush(cairn_t *cl);

/* ---- compound operations ---------------------------------------------------------------- */
/*
 * A write op collects steps and applies them atomically to one object (all or none): the
 * op's return value is 0, or the first failing step's error (later steps are not applied).
 * Each step may report its own result through prval (set when the op completes; may be NULL).
 * Steps that read (read_op_*) fill their outputs when the op completes.
 */
cairn_write_op_t *cairn_write_op_create(void);
void cairn_write_op_release(cairn_write_op_t *op);
/* Steps fail the op with -ENOENT if the object is missing. */
void cairn_write_op_assert_exists(cairn_write_op_t *op);
void cairn_write_op_create_object(cairn_write_op_t *op, int exclusive);
/* Data steps: buf is copied into the op. */
void cairn_write_op_write(cairn_write_op_t *op, const void *buf, size_t len, uint64_t off);
void cairn_write_op_write_full(cairn_write_op_t *op, const void *buf, size_t len);
void cairn_write_op_append(cairn_write_op_t *op, const void *buf, size_t len);
void cairn_write_op_remove(cairn_write_op_t *op);
void cairn_write_op_truncate(cairn_write_op_t *op, uint64_t size);
void cairn_write_op_zero(cairn_write_op_t *op, uint64_t off, uint64_t len);
void cairn_write_op_setxattr(cairn_write_op_t *op, const char *name, const void *val,
			     size_t len);
void cairn_write_op_rmxattr(cairn_write_op_t *op, const char *name);
void cairn_write_op_omap_set(cairn_write_op_t *op, const char *const *keys,
			     const void *const *vals, const size_t *lens, size_t n);
void cairn_write_op_omap_rm_keys(cairn_write_op_t *op, const char *const *keys, size_t n);
void cairn_write_op_omap_clear(cairn_write_op_t *op);
/* The result of the most recently added step goes to *prval (call right after adding it). */
void cairn_write_op_set_prval(cairn_write_op_t *op, int *prval);
/* Applies the op to oid; returns 0 or the error. The op may be operated again or released. */
int cairn_write_op_operate(cairn_write_op_t *op, cairn_ioctx_t *io, const char *oid);
/* The op must stay alive and unchanged until c is complete. */
int cairn_aio_write_op_operate(cairn_write_op_t *op, cairn_ioctx_t *io, cairn_completion_t *c,
			       const char *oid);

cairn_read_op_t *cairn_read_op_create(void);
void cairn_read_op_release(cairn_read_op_t *op);
void cairn_read_op_assert_exists(cairn_read_op_t *op);
void cairn_read_op_stat(cairn_read_op_t *op, uint64_t *size, uint64_t *mtime_ns, int *prval);
/* Reads up to len bytes at off into buf; *bytes_read gets the count. */
void cairn_read_op_read(cairn_read_op_t *op, uint64_t off, size_t len, void *buf,
			size_t *bytes_read, int *prval);
/* *out is set (and must be freed with cairn_kvs_free) when the op succeeded. */
void cairn_read_op_getxattr(cairn_read_op_t *op, const char *name, cairn_kvs_t **out,
			    int *prval);
void cairn_read_op_getxattrs(cairn_read_op_t *op, cairn_kvs_t **out, int *prval);
void cairn_read_op_omap_get_vals_by_keys(cairn_read_op_t *op, const char *const *keys,
					 size_t n, cairn_kvs_t **out, int *prval);
void cairn_read_op_omap_get_vals(cairn_read_op_t *op, const char *start_after, size_t max,
				 cairn_kvs_t **out, int *more, int *prval);
int cairn_read_op_operate(cairn_read_op_t *op, cairn_ioctx_t *io, const char *oid);
/* The op must stay alive and unchanged until c is complete. */
int cairn_aio_read_op_operate(cairn_read_op_t *op, cairn_ioctx_t *io, cairn_completion_t *c,
			      const char *oid);

/* ---- listing a pool's objects ---------------------------------------------------------- */
/*
 * Walks the pool PG by PG (pg seeds 0..pg_num-1), asking each PG's primary for a batch of
 * names after a cursor. Objects created or removed during the walk may or may not appear;
 * every object that exists throughout appears exactly once. Not thread-safe per list.
 */
int cairn_list_open(cairn_ioctx_t *io, cairn_list_t **l);
/* Next object name (valid until the next call): 0, -ENOENT at the end, or an error. */
int cairn_list_next(cairn_list_t *l, const char **oid);
void cairn_list_close(cairn_list_t *l);

#ifdef __cplusplus
}
#endif

#endif
