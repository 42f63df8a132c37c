/*
 * libcairn — the cluster handle, pools (ioctx) and completions of the public API.
 *
 * A handle owns its own messenger (client_msgr_workers loop threads), monitor client and
 * objecter: nothing is global, so two handles (of one or two clusters) live side by side.
 *
 *   cairn_create   conf loaded (file -> [global]/[client] sections)
 *   cairn_connect  msgr started -> objecter (timer) -> monc subscribed -> first map in hand
 *   cairn_shutdown objecter_shutdown (ops end with -ESHUTDOWN) -> monc_destroy ->
 *                  msgr_destroy (releases the last sends; their ops complete) -> free
 *
 * Message routing (messenger loop threads): monitor messages (ids 16..99) go to monc, OSD
 * replies to the objecter; resets go to both. monc's new-map callback feeds the objecter.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/client_int.h"
#include "common/config.h"
#include "common/monc.h"
#include "common/msg.h"
#include "common/osdmap.h"
#include "common/util.h"

/* ---- errors ------------------------------------------------------------------------------ */

void cl_set_err(cairn_t *cl, const char *fmt, ...)
{
	va_list ap;

	if (!cl)
		return;
	pthread_mutex_lock(&cl->lock);
	va_start(ap, fmt);
	vsnprintf(cl->errmsg, sizeof(cl->errmsg), fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&cl->lock);
}

const char *cairn_errmsg(const cairn_t *cl)
{
	return cl ? cl->errmsg : "";
}

/* ---- completions ------------------------------------------------------------------------ */

int cairn_aio_create_completion(void *arg, cairn_callback_t cb, cairn_completion_t **out)
{
	cairn_completion_t *c;

	if (!out)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	c->refs = 1;
	c->cb = cb;
	c->arg = arg;
	*out = c;
	return 0;
}

void completion_get(cairn_completion_t *c)
{
	pthread_mutex_lock(&c->lock);
	c->refs++;
	pthread_mutex_unlock(&c->lock);
}

void completion_put(cairn_completion_t *c)
{
	int n;

	pthread_mutex_lock(&c->lock);
	n = --c->refs;
	pthread_mutex_unlock(&c->lock);
	if (n == 0) {
		pthread_cond_destroy(&c->cond);
		pthread_mutex_destroy(&c->lock);
		free(c);
	}
}

/* The op ended with rv: run the callback, wake waiters, drop the library's reference. */
void completion_finish(cairn_completion_t *c, int rv)
{
	cairn_callback_t cb;

	pthread_mutex_lock(&c->lock);
	c->rv = rv;
	c->complete = true;
	cb = c->cb;
	pthread_mutex_unlock(&c->lock);
	if (cb)
		cb(c, c->arg);
	pthread_mutex_lock(&c->lock);
	c->cb_done = true;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
	completion_put(c);
}

int cairn_aio_wait_for_complete(cairn_completion_t *c)
{
	if (!c)
		return -EINVAL;
	pthread_mutex_lock(&c->lock);
	while (!c->cb_done)
		pthread_cond_wait(&c->cond, &c->lock);
	pthread_mutex_unlock(&c->lock);
	return 0;
}

int cairn_aio_is_complete(cairn_completion_t *c)
{
	int r;

	pthread_mutex_lock(&c->lock);
	r = c->complete;
	pthread_mutex_unlock(&c->lock);
	return r;
}

int cairn_aio_get_return_value(cairn_completion_t *c)
{
	int r;

	pthread_mutex_lock(&c->lock);
	r = c->rv;
	pthread_mutex_unlock(&c->lock);
	return r;
}

void cairn_aio_release(cairn_completion_t *c)
{
	if (c)
		completion_put(c);
}

int cairn_aio_inflight(cairn_t *cl)
{
	return cl && cl->objecter ? objecter_inflight(cl->objecter) : 0;
}

int cairn_aio_flush(cairn_t *cl)
{
	if (!cl || !cl->objecter)
		return -ENOTCONN;
	if (objecter_in_callback())
		return -EDEADLK;
	objecter_flush(cl->objecter);
	return 0;
}

/* ---- messenger routing ---------------------------------------------------------------- */

static struct monc *cl_monc(cairn_t *cl)
{
	return __atomic_load_n(&cl->monc, __ATOMIC_ACQUIRE);
}

static void cl_dispatch(struct msg_conn *c, struct msg *m, void *arg)
{
	cairn_t *cl = arg;

	if (m->type >= 16 && m->type < 100) {
		struct monc *mc;
		pthread_rwlock_rdlock(&cl->monc_lock);
		mc = cl_monc(cl);
		if (mc && monc_handle(mc, c, m)) {
			pthread_rwlock_unlock(&cl->monc_lock);
			return;
		}
		pthread_rwlock_unlock(&cl->monc_lock);
	} else if (cl->objecter && objecter_handle_msg(cl->objecter, c, m)) {
		return;
	}
	msg_free(m);
}

static void cl_reset(struct msg_conn *c, void *arg)
{
	cairn_t *cl = arg;
	struct monc *mc;

	pthread_rwlock_rdlock(&cl->monc_lock);
	mc = cl_monc(cl);
	if (mc)
		monc_handle_reset(mc, c);
	pthread_rwlock_unlock(&cl->monc_lock);
	if (cl->objecter)
		objecter_handle_reset(cl->objecter, c);
}

static const struct msgr_ops cl_msgr_ops = {
	.dispatch = cl_dispatch,
	.reset = cl_reset,
	.remote_reset = cl_reset,
};

static void cl_on_osdmap(void *arg, struct osdmap *map)
{
	cairn_t *cl = arg;

	if (cl->objecter)
		objecter_handle_map(cl->objecter, map);
}

/* ---- cluster handle -------------------------------------------------------------------- */

int cairn_create2(cairn_t **out, const char *conf_path, char *errbuf, size_t errlen)
{
	char err[256] = "";
	char arg0[] = "libcairn";
	char *argv[2] = { arg0, NULL };
	int argc = 1, r;
	cairn_t *cl;

	if (errbuf && errlen)
		errbuf[0] = '\0';
	if (!out)
		return -EINVAL;
	*out = NULL;
	if (conf_path && access(conf_path, R_OK) < 0) {
		r = -errno;
		if (errbuf)
			snprintf(errbuf, errlen, "cannot read conf file %s: %s", conf_path,
				 strerror(-r));
		return r;
	}
	cl = calloc(1, sizeof(*cl));
	if (!cl)
		return -ENOMEM;
	pthread_mutex_init(&cl->lock, NULL);
	pthread_rwlock_init(&cl->monc_lock, NULL);
	r = conf_load(&cl->conf, conf_path, "client", NULL, &argc, argv, err, sizeof(err));
	if (r < 0) {
		if (errbuf)
			snprintf(errbuf, errlen, "%s", err[0] ? err : "invalid configuration");
		goto fail;
	}
	*out = cl;
	return 0;
fail:
	pthread_rwlock_destroy(&cl->monc_lock);
	pthread_mutex_destroy(&cl->lock);
	free(cl);
	return r;
}

int cairn_create(cairn_t **cl, const char *conf_path)
{
	return cairn_create2(cl, conf_path, NULL, 0);
}

int cairn_conf_set(cairn_t *cl, const char *name, const char *value)
{
	char err[256] = "";
	int r;

	if (!cl || !name || !value)
		return -EINVAL;
	if (cl->connected) {
		cl_set_err(cl, "options must be set before cairn_connect");
		return -EISCONN;
	}
	r = conf_set(cl->conf, name, value, err, sizeof(err));
	if (r < 0)
		cl_set_err(cl, "%s", err[0] ? err : "invalid option");
	return r;
}

/* Tears down whatever cairn_connect built (also a half-built state). */
static void cl_teardown(cairn_t *cl)
{
	struct monc *mc;

	if (cl->objecter)
		objecter_shutdown(cl->objecter);
	pthread_rwlock_wrlock(&cl->monc_lock);
	mc = cl_monc(cl);
	__atomic_store_n(&cl->monc, NULL, __ATOMIC_RELEASE);
	pthread_rwlock_unlock(&cl->monc_lock);
	if (mc)
		monc_destroy(mc);
	if (cl->msgr) {
		msgr_destroy(cl->msgr);
		cl->msgr = NULL;
	}
	objecter_destroy(cl->objecter);
	cl->objecter = NULL;
	cl->connected = false;
}

int cairn_connect(cairn_t *cl)
{
	struct msgr_opts mo;
	struct objecter_opts oo;
	struct monc_opts mco;
	struct monc *mc;
	double mount_timeout;
	int r;

	if (!cl)
		return -EINVAL;
	if (cl->connected || cl->msgr)
		return -EISCONN;
	cl->client_num = (int64_t)(rand_u64() >> 1);
	if (!cl->client_num)
		cl->client_num = 1;

	memset(&mo, 0, sizeof(mo));
	mo.me.type = MSG_ENTITY_CLIENT;
	mo.me.num = cl->client_num;
	mo.nworkers = (int)conf_int(cl->conf, "client_msgr_workers");
	mo.conf = cl->conf;
	mo.ops = &cl_msgr_ops;
	mo.arg = cl;
	cl->msgr = msgr_create(&mo);
	if (!cl->msgr) {
		r = errno ? -errno : -ENOMEM;
		cl_set_err(cl, "cannot create the messenger: %s", strerror(-r));
		return r;
	}

	memset(&oo, 0, sizeof(oo));
	oo.msgr = cl->msgr;
	oo.conf = cl->conf;
	oo.client_num = cl->client_num;
	cl->objecter = objecter_create(&oo);
	if (!cl->objecter) {
		r = -ENOMEM;
		goto fail;
	}
	r = msgr_start(cl->msgr);
	if (r < 0) {
		cl_set_err(cl, "cannot start the messenger: %s", strerror(-r));
		goto fail;
	}
	r = objecter_start(cl->objecter);
	if (r < 0)
		goto fail;

	memset(&mco, 0, sizeof(mco));
	mco.msgr = cl->msgr;
	mco.conf = cl->conf;
	mco.on_osdmap = cl_on_osdmap;
	mco.arg = cl;
	errno = 0;
	mc = monc_create(&mco);
	if (!mc) {
		r = errno ? -errno : -EINVAL;
		cl_set_err(cl, "cannot use mon_host '%s': %s", conf_str(cl->conf, "mon_host"),
			   strerror(-r));
		goto fail;
	}
	objecter_set_monc(cl->objecter, mc);
	__atomic_store_n(&cl->monc, mc, __ATOMIC_RELEASE);

	r = monc_sub_osdmap(mc, 0);
	if (r < 0) {
		cl_set_err(cl, "cannot subscribe to the OSD map: %s", strerror(-r));
		goto fail;
	}
	mount_timeout = conf_double(cl->conf, "client_mount_timeout");
	r = monc_wait_epoch(mc, 1, (int)(mount_timeout * 1000));
	if (r < 0) {
		if (r == -ETIMEDOUT)
			cl_set_err(cl, "no OSD map from the monitor at %s within %g s "
				   "(client_mount_timeout)", conf_str(cl->conf, "mon_host"),
				   mount_timeout);
		else
			cl_set_err(cl, "waiting for the OSD map: %s", strerror(-r));
		goto fail;
	}
	/* the objecter gets the map through the callback; make sure it has one */
	for (int i = 0; i < 2000; i++) {
		struct osdmap *m = objecter_get_map(cl->objecter);
		if (m) {
			osdmap_put(m);
			break;
		}
		if (i == 0) {
			m = monc_get_osdmap(mc);
			if (m) {
				objecter_handle_map(cl->objecter, m);
				osdmap_put(m);
			}
		}
		sleep_ms(1);
	}
	cl->connected = true;
	return 0;
fail:
	cl_teardown(cl);
	return r;
}

void cairn_shutdown(cairn_t *cl)
{
	if (!cl)
		return;
	cl_teardown(cl);
	conf_free(cl->conf);
	pthread_rwlock_destroy(&cl->monc_lock);
	pthread_mutex_destroy(&cl->lock);
	free(cl);
}

uint32_t cairn_osdmap_epoch(cairn_t *cl)
{
	struct osdmap *m;
	uint32_t e;

	if (!cl || !cl->objecter)
		return 0;
	m = objecter_get_map(cl->objecter);
	e = m ? m->epoch : 0;
	osdmap_put(m);
	return e;
}

int cairn_wait_for_epoch(cairn_t *cl, uint32_t epoch, double timeout_s)
{
	uint64_t deadline;
	struct monc *mc;
	int r;

	if (!cl || !cl->connected)
		return -ENOTCONN;
	deadline = now_mono_ns() + (uint64_t)(timeout_s * 1e9);
	mc = cl_monc(cl);
	monc_note_epoch(mc, epoch);
	r = monc_wait_epoch(mc, epoch, (int)(timeout_s * 1000));
	if (r < 0)
		return r;
	while (cairn_osdmap_epoch(cl) < epoch) {
		if (now_mono_ns() > deadline)
			return -ETIMEDOUT;
		sleep_ms(1);
	}
	return 0;
}

int cairn_mon_command(cairn_t *cl, const char *const *argv, int argc, char **out,
		      size_t *outlen, char **status)
{
	int rc = 0, r;

	if (out)
		*out = NULL;
	if (status)
		*status = NULL;
	if (!cl || !cl->connected)
		return -ENOTCONN;
	if (objecter_in_callback())
		return -EDEADLK;
	r = monc_command(cl_monc(cl), argv, argc, NULL, 0, &rc, status, out, outlen,
			 (int)(conf_double(cl->conf, "client_mount_timeout") * 1000));
	return r < 0 ? r : rc;
}

int cairn_get_stats(cairn_t *cl, struct cairn_stats *st)
{
	if (!cl || !st)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	if (!cl->objecter)
		return -ENOTCONN;
	objecter_get_stats(cl->objecter, st);
	return 0;
}

int64_t cairn_pool_lookup(cairn_t *cl, const char *name)
{
	const struct pool_info *p;
	struct osdmap *m;
	int64_t id;

	if (!cl || !name)
		return -EINVAL;
	if (!cl->connected)
		return -ENOTCONN;
	m = objecter_get_map(cl->objecter);
	if (!m)
		return -ENOTCONN;
	p = osdmap_lookup_pool_by_name(m, name);
	id = p ? p->id : -ENOENT;
	osdmap_put(m);
	return id;
}

/* ---- pools ------------------------------------------------------------------------------ */

int cairn_ioctx_create(cairn_t *cl, const char *pool_name, cairn_ioctx_t **out)
{
	cairn_ioctx_t *io;
	int64_t id;
	double t;

	if (!cl || !pool_name || !out)
		return -EINVAL;
	*out = NULL;
	id = cairn_pool_lookup(cl, pool_name);
	if (id < 0) {
		if (id == -ENOENT)
			cl_set_err(cl, "no pool named '%s'", pool_name);
		return (int)id;
	}
	io = calloc(1, sizeof(*io));
	if (!io)
		return -ENOMEM;
	io->cl = cl;
	io->pool = id;
	snprintf(io->name, sizeof(io->name), "%s", pool_name);
	t = conf_double(cl->conf, "client_op_timeout");
	io->timeout_ns = t > 0 ? (uint64_t)(t * 1e9) : 0;
	*out = io;
	return 0;
}

void cairn_ioctx_destroy(cairn_ioctx_t *io)
{
	free(io);
}

int64_t cairn_ioctx_pool_id(const cairn_ioctx_t *io)
{
	return io ? io->pool : -EINVAL;
}

void cairn_ioctx_set_op_timeout(cairn_ioctx_t *io, double seconds)
{
	if (io)
		io->timeout_ns = seconds > 0 ? (uint64_t)(seconds * 1e9) : 0;
}

int cairn_object_placement(cairn_ioctx_t *io, const char *oid, struct cairn_placement *out)
{
	int32_t acting[CAIRN_MAX_REPLICAS], primary = -1;
	int nacting = 0, r;
	struct osdmap *m;
	struct pg_id pg;

	if (!io || !oid || !out)
		return -EINVAL;
	m = objecter_get_map(io->cl->objecter);
	if (!m)
		return -ENOTCONN;
	r = osdmap_object_to_pg(m, io->pool, oid, strlen(oid), &pg);
	if (r == 0)
		r = osdmap_pg_to_up_acting(m, pg, NULL, NULL, NULL, acting, &nacting, &primary);
	if (r == 0) {
		memset(out, 0, sizeof(*out));
		out->pool = pg.pool;
		out->pg_seed = pg.ps;
		out->primary = primary;
		out->acting_len = nacting < CAIRN_MAX_OSDS_PER_PG ? nacting : CAIRN_MAX_OSDS_PER_PG;
		for (int i = 0; i < out->acting_len; i++)
			out->acting[i] = acting[i];
		out->epoch = m->epoch;
	}
	osdmap_put(m);
	return r;
}
