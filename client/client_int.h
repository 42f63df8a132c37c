/*
 * client_int — libcairn internals shared by the client .c files: the cluster handle, I/O contexts,
 * completions, and the op description ("cop") that every object call is built from.
 *
 * Every object call, simple or compound, becomes a struct cop (up to OSD_OPS_MAX steps, each
 * an osd_op plus where its input comes from and where its output goes), then one request
 * (struct creq, ops.c) that carries an objecter_op to the primary and, when it ends, copies
 * each step's output to the caller and completes the caller's completion.
 */
#ifndef CAIRN_CLIENT_INT_H
#define CAIRN_CLIENT_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <cairn/libcairn.h>

#include "client/objecter.h"
#include "common/encode.h"
#include "common/osd_proto.h"

struct cairn_conf;
struct msgr;
struct monc;

struct cairn_cluster {
	struct cairn_conf *conf;
	struct msgr *msgr;
	struct monc *monc;        /* atomic; dispatch reads it under monc_lock */
	pthread_rwlock_t monc_lock;
	struct objecter *objecter;
	int64_t client_num;
	bool connected;
	pthread_mutex_t lock; /* errmsg */
	char errmsg[256];
};

struct cairn_ioctx {
	cairn_t *cl;
	int64_t pool;
	char name[64];
	uint64_t timeout_ns; /* 0: no timeout */
};

struct cairn_completion {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int refs;          /* caller's + the library's while an op runs */
	int rv;
	bool complete;     /* rv is set */
	bool cb_done;      /* the callback returned (waiters wake on this) */
	cairn_callback_t cb;
	void *arg;
};

/* Where a step's output goes. */
enum cop_out {
	COUT_NONE = 0,
	COUT_READ,   /* bytes into obuf[ocap], count to *olen */
	COUT_STAT,   /* osd_stat into *psize, *pmtime */
	COUT_VALUE,  /* one value (getxattr) into obuf[ocap] (-ERANGE if larger), len to *olen */
	COUT_KVS,    /* key/value list into *pkvs, truncation flag into *pmore */
	COUT_VALKVS, /* one value (getxattr) as a one-entry kvs named xname */
};

struct cop_step {
	struct osd_op op;           /* code, flags, off, len, name (points into name below) */
	char *name;                 /* owned copy of the name argument, or NULL */
	const void *in;             /* input bytes; NOT OWNER (or owned_in) */
	uint64_t inlen;
	void *owned_in;             /* builder copies of input data (freed with the cop) */
	int *prval;
	enum cop_out out;
	void *obuf;
	size_t ocap;
	size_t *olen;
	uint64_t *psize, *pmtime;
	cairn_kvs_t **pkvs;
	int *pmore;
};

struct cop {
	int nsteps;
	int err;        /* first builder error (e.g. -E2BIG, -ENOMEM): operate returns it */
	int ret_step;   /* step whose output length is the op's return value (-1: none) */
	struct cop_step steps[OSD_OPS_MAX];
};

struct cairn_write_op { struct cop c; };
struct cairn_read_op { struct cop c; };

/* ops.c */
void cop_init(struct cop *c);
void cop_free(struct cop *c); /* owned names / inputs; not the struct */
/* Adds a step; NULL (and c->err set) when full or out of memory. name may be NULL. */
struct cop_step *cop_add(struct cop *c, uint16_t code, const void *name, size_t name_len);
/* Sends c to oid (or, when pg_ps >= 0, to PG pool.pg_ps: LIST) and arranges for comp to
 * complete with its result. c must stay valid until then. 0, or an error (comp untouched). */
int cop_submit(cairn_ioctx_t *io, const char *oid, int64_t pg_ps, struct cop *c,
	       cairn_completion_t *comp);
/* Synchronous form: submits and waits. */
int cop_run(cairn_ioctx_t *io, const char *oid, int64_t pg_ps, struct cop *c);

/* libcairn.c */
void completion_finish(cairn_completion_t *c, int rv);
void completion_get(cairn_completion_t *c);
void completion_put(cairn_completion_t *c);
void cl_set_err(cairn_t *cl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* kvs.c */
/* Builds a kvs from an osd kv list (zero-copy input: everything is copied). */
int kvs_from_list(const uint8_t *p, uint64_t n, cairn_kvs_t **out, int *more);
/* A one-entry kvs (name -> value). */
int kvs_single(const char *key, const void *val, size_t len, cairn_kvs_t **out);

#endif
