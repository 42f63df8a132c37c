/*
 * osd_proto — the client <-> OSD wire format: one op request (MSG_OSD_OP) carrying a vector
 * of sub-ops applied atomically to one object, and its reply (MSG_OSD_OPREPLY).
 *
 * Layout of a message:
 *   front = osd_op_req_encode() / osd_op_reply_encode() (versioned envelope)
 *   data  = the concatenated input (request) or output (reply) bytes of the sub-ops; each
 *           sub-op names its slice with (indata_off, indata_len) / (outdata_off, outdata_len).
 *           Slices are validated against the payload length by the receiver
 *           (osd_op_req_check_data), so a bad offset is -EBADMSG, never an overread.
 *
 * Request semantics (see docs/osd.md for the full op path):
 *   - reqid = (client entity, tid) identifies a request across resends; the OSD answers a
 *     resent write from its PG log (never applies it twice).
 *   - epoch is the client's osdmap epoch when it computed pgid -> primary. An OSD with an
 *     older map waits for that epoch; an OSD that is not the primary of pgid in its (newer
 *     or equal) map answers result = -ESTALE with OSD_REPLY_MISDIRECTED and its own epoch:
 *     the client fetches a map >= reply.epoch, recomputes the PG and primary, and resends
 *     with the same reqid.
 *   - The sub-ops run in order against one object; writes in one request are applied in
 *     one store transaction (all or nothing). The first failing sub-op (rc < 0, unless it
 *     carries OSD_OPF_FAILOK) stops the request: result = that rc, no write is applied,
 *     later sub-ops report rc = -ECANCELED.
 *   - A request that contains any write sub-op is a write: it is replicated and acked only
 *     once every OSD of the acting set has committed it.
 *
 * Sub-op arguments (off, len, name, indata):
 *   CREATE        flags OSD_OPF_EXCL: -EEXIST if it exists
 *   WRITE         off; data = indata
 *   WRITEFULL     data = indata (object replaced, size = indata_len)
 *   APPEND        data = indata
 *   READ          off, len (0 = to the end) -> outdata = bytes (short at EOF)
 *   STAT          -> outdata = osd_stat encoding (size, mtime)
 *   REMOVE        -ENOENT if absent
 *   TRUNCATE      off = new size
 *   ZERO          off, len (never extends the object)
 *   SETXATTR      name = xattr name; value = indata
 *   GETXATTR      name -> outdata = value; -ENODATA if absent
 *   RMXATTR       name; -ENODATA if absent
 *   GETXATTRS     -> outdata = kvlist (name, value)
 *   OMAP_GET      indata = keylist -> outdata = kvlist of the keys that exist
 *   OMAP_GET_RANGE name = start_after (exclusive, empty = first), len = max entries,
 *                 indata = optional filter prefix -> outdata = kvlist, more = 1 if truncated
 *   OMAP_SET      indata = kvlist
 *   OMAP_RMKEYS   indata = keylist
 *   OMAP_CLEAR
 *   LIST          the request's oid is empty; name = cursor (the last name returned by the
 *                 previous call, empty = start), len = max entries -> outdata = keylist of
 *                 object names in the PG, more = 1 if the PG holds more after them
 *   ASSERT_EXISTS -ENOENT if the object does not exist
 * Reads of an absent object return -ENOENT. Object names: 1..OSD_OID_MAX bytes, no NUL.
 */
#ifndef CAIRN_OSD_PROTO_H
#define CAIRN_OSD_PROTO_H

#include <stdbool.h>
#include <stdint.h>

#include "common/encode.h"
#include "common/osdmap.h" /* struct pg_id */

#define OSD_OPS_MAX 32          /* sub-ops per request */
#define OSD_OID_MAX 2048        /* object name bytes */
#define OSD_OPNAME_MAX 4096     /* xattr name / omap key / cursor bytes */

enum osd_op_code {
	OSD_OP_CREATE = 1,
	OSD_OP_WRITE = 2,
	OSD_OP_WRITEFULL = 3,
	OSD_OP_APPEND = 4,
	OSD_OP_READ = 5,
	OSD_OP_STAT = 6,
	OSD_OP_REMOVE = 7,
	OSD_OP_TRUNCATE = 8,
	OSD_OP_ZERO = 9,
	OSD_OP_SETXATTR = 10,
	OSD_OP_GETXATTR = 11,
	OSD_OP_RMXATTR = 12,
	OSD_OP_GETXATTRS = 13,
	OSD_OP_OMAP_GET = 14,
	OSD_OP_OMAP_GET_RANGE = 15,
	OSD_OP_OMAP_SET = 16,
	OSD_OP_OMAP_RMKEYS = 17,
	OSD_OP_OMAP_CLEAR = 18,
	OSD_OP_LIST = 19,
	OSD_OP_ASSERT_EXISTS = 20,
	OSD_OP_CODE_MAX = 20, /* codes are never reused */
};

/* per sub-op flags */
#define OSD_OPF_EXCL 0x0001   /* CREATE: fail with -EEXIST if the object exists */
#define OSD_OPF_FAILOK 0x0002 /* a failure of this sub-op does not fail the request */

/* request flags */
#define OSD_REQ_RETRY 0x0001  /* a resend of an earlier attempt (same reqid) */

/* reply flags */
#define OSD_REPLY_MISDIRECTED 0x0001 /* not the primary in the OSD's map: refresh, resend */
#define OSD_REPLY_DUP 0x0002         /* answered from the PG log: the write was already applied */

/* Which request a message belongs to, across resends. */
struct osd_reqid {
	uint8_t type;  /* enum msg_entity_type of the client */
	int64_t num;   /* client entity number */
	uint64_t tid;  /* client's transaction id (also the message tid) */
};

/* A PG log version: ordered by (epoch, v). */
struct osd_eversion {
	uint32_t epoch;
	uint64_t v;
};

struct osd_op {
	uint16_t op;    /* enum osd_op_code */
	uint16_t flags; /* OSD_OPF_* */
	uint64_t off;
	uint64_t len;
	/* Binary name argument (see the table above). On decode it points into the front
	 * buffer (valid as long as it is); on encode, caller memory. NOT OWNER. */
	const uint8_t *name;
	uint32_t name_len;
	uint64_t indata_off; /* slice of the request's data payload */
	uint64_t indata_len;
};

struct osd_op_req {
	struct osd_reqid reqid;
	struct pg_id pgid;
	uint32_t epoch;  /* client's osdmap epoch */
	uint32_t flags;  /* OSD_REQ_* */
	uint32_t attempt; /* 0 for the first send, +1 per resend (diagnostics) */
	char oid[OSD_OID_MAX + 1]; /* NUL-terminated; empty only for LIST */
	uint32_t nops;
	struct osd_op ops[OSD_OPS_MAX];
};

struct osd_op_result {
	int32_t rc;           /* 0 or negative errno (-ECANCELED: not run) */
	uint64_t outdata_off; /* slice of the reply's data payload */
	uint64_t outdata_len;
};

struct osd_op_reply {
	struct osd_reqid reqid;
	struct pg_id pgid;
	int32_t result;  /* 0, the first failing sub-op's rc, or -ESTALE (misdirected/stale) */
	uint32_t flags;  /* OSD_REPLY_* */
	uint32_t epoch;  /* the OSD's osdmap epoch: -ESTALE asks the client for >= this */
	struct osd_eversion version; /* writes: the PG log version assigned; reads: 0 */
	uint32_t nops;
	struct osd_op_result ops[OSD_OPS_MAX];
};

/* True for sub-ops that modify the object (the request is then replicated). */
bool osd_op_is_write(uint16_t op);
/* True for sub-ops that carry input data in the payload. */
bool osd_op_has_indata(uint16_t op);
const char *osd_op_name(uint16_t op); /* "write", "omap-set", ... ("?" if unknown) */

/* Appends the request's envelope to b. b->err on failure. */
void osd_op_req_encode(struct cbuf *b, const struct osd_op_req *r);
/* Decodes into *r (zero-copy names point into the input). 0 or -EBADMSG/-EOPNOTSUPP.
 * Validates counts, name lengths and op codes (unknown op code: -EOPNOTSUPP). */
int osd_op_req_decode(struct cdec *d, struct osd_op_req *r);
/* Every sub-op's input slice lies inside a payload of data_len bytes: 0 or -EBADMSG. */
int osd_op_req_check_data(const struct osd_op_req *r, uint64_t data_len);

void osd_op_reply_encode(struct cbuf *b, const struct osd_op_reply *r);
int osd_op_reply_decode(struct cdec *d, struct osd_op_reply *r);
int osd_op_reply_check_data(const struct osd_op_reply *r, uint64_t data_len);

static inline int osd_eversion_cmp(struct osd_eversion a, struct osd_eversion b)
{
	if (a.epoch != b.epoch)
		return a.epoch < b.epoch ? -1 : 1;
	if (a.v != b.v)
		return a.v < b.v ? -1 : 1;
	return 0;
}
static inline bool osd_reqid_eq(const struct osd_reqid *a, const struct osd_reqid *b)
{
	return a->type == b->type && a->num == b->num && a->tid == b->tid;
}
void osd_reqid_encode(struct cbuf *b, const struct osd_reqid *r);
int osd_reqid_decode(struct cdec *d, struct osd_reqid *r);
void osd_pgid_encode(struct cbuf *b, struct pg_id p);
int osd_pgid_decode(struct cdec *d, struct pg_id *p);
void osd_eversion_encode(struct cbuf *b, struct osd_eversion v);
int osd_eversion_decode(struct cdec *d, struct osd_eversion *v);

/*
 * STAT output: envelope { u64 size; u64 mtime_ns }.
 */
struct osd_stat {
	uint64_t size;
	uint64_t mtime_ns; /* wall clock, ns since the epoch */
};
void osd_stat_encode(struct cbuf *b, const struct osd_stat *s);
int osd_stat_decode(struct cdec *d, struct osd_stat *s);

/*
 * Key lists and key/value lists (OMAP_SET / OMAP_RMKEYS / OMAP_GET input; OMAP_GET,
 * OMAP_GET_RANGE, GETXATTRS, LIST output):
 *     envelope { u8 has_values; u32 n; n x (bytes key [, bytes value]); u8 more }
 * Encode: start, add n times, finish (the count is patched in). Decode: open, then next()
 * until it returns 0; keys and values point into the input (zero-copy).
 */
struct osd_kvenc {
	size_t env;   /* envelope start */
	size_t count; /* offset of the u32 count */
	uint32_t n;
	bool has_values;
};
void osd_kv_enc_start(struct cbuf *b, struct osd_kvenc *e, bool has_values);
void osd_kv_enc_add(struct cbuf *b, struct osd_kvenc *e, const void *k, uint32_t klen,
		    const void *v, uint32_t vlen); /* v ignored for key lists */
void osd_kv_enc_finish(struct cbuf *b, struct osd_kvenc *e, bool more);

struct osd_kvdec {
	struct cdec body;
	uint32_t n;       /* entries in the list */
	uint32_t left;    /* entries not yet returned by next() */
	bool has_values;
	bool more;        /* known after open: the list was truncated (see above) */
};
/* Opens a list that fills the whole of [p, p+n). 0 or -EBADMSG. */
int osd_kv_dec_open(struct osd_kvdec *it, const void *p, size_t n);
/* 1 = an entry (value NULL/0 for key lists), 0 = end, <0 = -EBADMSG. */
int osd_kv_dec_next(struct osd_kvdec *it, const uint8_t **k, uint32_t *klen, const uint8_t **v,
		    uint32_t *vlen);

#endif
