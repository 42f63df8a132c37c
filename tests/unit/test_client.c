/*
 * test_client — libcairn without a cluster: conf errors, connect timeout, two handles in one
 * process, completions (callback before wake-up, release inside the callback), op builders
 * (limits, per-step prval), key/value lists.
 */
// timeout: 60
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cairn/libcairn.h>

#include "client/client_int.h"
#include "common/osd_proto.h"
#include "common/util.h"

static char tmpdir[64];

static const char *write_conf(const char *name, const char *text)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

/* A 127.0.0.1 port with nothing listening on it. */
static int dead_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t l = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &l), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static void test_missing_conf(void **state)
{
	char err[256];
	cairn_t *cl = NULL;

	(void)state;
	assert_int_equal(cairn_create2(&cl, "/nonexistent/cairn.conf", err, sizeof(err)), -ENOENT);
	assert_null(cl);
	assert_non_null(strstr(err, "/nonexistent/cairn.conf"));
	assert_int_equal(cairn_create(&cl, "/nonexistent/cairn.conf"), -ENOENT);
}

static void test_bad_conf(void **state)
{
	char err[256];
	cairn_t *cl = NULL;
	const char *p = write_conf("bad.conf", "[global]\nmon_host = 127.0.0.1:1\nno_such_option = 3\n");

	(void)state;
	assert_int_equal(cairn_create2(&cl, p, err, sizeof(err)), -EINVAL);
	assert_null(cl);
	assert_non_null(strstr(err, "no_such_option"));

	p = write_conf("bad2.conf", "[global]\nclient_op_timeout = banana\n");
	assert_int_equal(cairn_create2(&cl, p, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "client_op_timeout"));
}

static void test_conf_set(void **state)
{
	cairn_t *cl;
	cairn_ioctx_t *io = NULL;

	(void)state;
	assert_int_equal(cairn_create(&cl, NULL), 0);
	assert_int_equal(cairn_conf_set(cl, "client_op_timeout", "5"), 0);
	assert_int_equal(cairn_conf_set(cl, "no_such_option", "5"), -EINVAL);
	assert_true(strlen(cairn_errmsg(cl)) > 0);
	assert_int_equal(cairn_conf_set(cl, "client_op_timeout", "-3"), -EINVAL);
	/* not connected */
	assert_int_equal(cairn_ioctx_create(cl, "rbd", &io), -ENOTCONN);
	assert_null(io);
	assert_int_equal(cairn_pool_lookup(cl, "rbd"), -ENOTCONN);
	assert_int_equal(cairn_osdmap_epoch(cl), 0);
	cairn_shutdown(cl);
}

struct conn_arg {
	int port;
	int r;
	double secs;
};

static void *connect_dead(void *p)
{
	struct conn_arg *a = p;
	char host[64];
	cairn_t *cl;
	uint64_t t0;

	snprintf(host, sizeof(host), "127.0.0.1:%d", a->port);
	a->r = cairn_create(&cl, NULL);
	if (a->r < 0)
		return NULL;
	cairn_conf_set(cl, "mon_host", host);
	cairn_conf_set(cl, "client_mount_timeout", "0.7");
	t0 = now_mono_ns();
	a->r = cairn_connect(cl);
	a->secs = (double)(now_mono_ns() - t0) / 1e9;
	if (a->r == -ETIMEDOUT && !strstr(cairn_errmsg(cl), host))
		a->r = -EBADMSG; /* the message must name the monitor */
	cairn_shutdown(cl);
	return NULL;
}

/* No monitor: a clear -ETIMEDOUT after client_mount_timeout; two handles at once. */
static void test_connect_timeout_two_handles(void **state)
{
	struct conn_arg a = { .port = dead_port() }, b = { .port = dead_port() };
	pthread_t ta, tb;

	(void)state;
	pthread_create(&ta, NULL, connect_dead, &a);
	pthread_create(&tb, NULL, connect_dead, &b);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	assert_int_equal(a.r, -ETIMEDOUT);
	assert_int_equal(b.r, -ETIMEDOUT);
	assert_true(a.secs >= 0.6 && a.secs < 10);
	assert_true(b.secs >= 0.6 && b.secs < 10);
}

/* ---- completions ---- */

struct cb_state {
	int calls;
	int rv;
	int release_in_cb;
};

static void cb(cairn_completion_t *c, void *arg)
{
	struct cb_state *s = arg;

	s->calls++;
	s->rv = cairn_aio_get_return_value(c);
	assert_true(cairn_aio_is_complete(c));
	if (s->release_in_cb)
		cairn_aio_release(c);
}

static void *finisher(void *p)
{
	sleep_ms(50);
	completion_finish(p, 42);
	return NULL;
}

static void test_completion(void **state)
{
	struct cb_state s = { 0 };
	cairn_completion_t *c;
	pthread_t t;

	(void)state;
	assert_int_equal(cairn_aio_create_completion(&s, cb, &c), 0);
	assert_false(cairn_aio_is_complete(c));
	completion_get(c); /* the library's reference, as cop_submit takes it */
	pthread_create(&t, NULL, finisher, c);
	cairn_aio_wait_for_complete(c);
	/* the callback has run when the wait returns */
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.rv, 42);
	assert_int_equal(cairn_aio_get_return_value(c), 42);
	pthread_join(t, NULL);
	cairn_aio_release(c);

	/* releasing inside the callback is allowed */
	memset(&s, 0, sizeof(s));
	s.release_in_cb = 1;
	assert_int_equal(cairn_aio_create_completion(&s, cb, &c), 0);
	completion_get(c);
	completion_finish(c, -5);
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.rv, -5);
}

/* ---- op builders ---- */

static void test_builder_limits(void **state)
{
	cairn_write_op_t *w = cairn_write_op_create();
	cairn_read_op_t *r = cairn_read_op_create();
	char buf[8] = "abcdefg";
	int prv = 1;

	(void)state;
	assert_non_null(w);
	for (int i = 0; i < OSD_OPS_MAX; i++)
		cairn_write_op_setxattr(w, "k", buf, sizeof(buf));
	assert_int_equal(w->c.nsteps, OSD_OPS_MAX);
	assert_int_equal(w->c.err, 0);
	cairn_write_op_write(w, buf, sizeof(buf), 0);
	assert_int_equal(w->c.err, -E2BIG);
	/* the error reaches the caller before anything is sent */
	assert_int_equal(cairn_write_op_operate(w, (cairn_ioctx_t *)&prv, "obj"), -E2BIG);
	cairn_write_op_release(w);

	w = cairn_write_op_create();
	cairn_write_op_write(w, buf, sizeof(buf), 4);
	cairn_write_op_set_prval(w, &prv);
	buf[0] = 'X'; /* the op copied the data */
	assert_int_equal(w->c.nsteps, 1);
	assert_ptr_equal(w->c.steps[0].prval, &prv);
	assert_int_equal(((const char *)w->c.steps[0].in)[0], 'a');
	assert_int_equal(w->c.steps[0].op.off, 4);
	assert_int_equal(w->c.steps[0].inlen, sizeof(buf));
	cairn_write_op_setxattr(w, NULL, buf, 1);
	assert_int_equal(w->c.err, -EINVAL);
	cairn_write_op_release(w);

	/* read of 0 bytes still checks existence */
	{
		size_t got = 99;
		cairn_read_op_read(r, 0, 0, buf, &got, &prv);
		assert_int_equal(r->c.nsteps, 1);
		assert_int_equal(r->c.steps[0].op.op, OSD_OP_ASSERT_EXISTS);
		assert_int_equal(got, 0);
	}
	cairn_read_op_release(r);

	/* object names are checked before sending */
	{
		struct cop c;
		char *longname = malloc(CAIRN_MAX_OID_LEN + 2);
		cairn_completion_t *comp;
		struct cairn_ioctx fake = { 0 };
		memset(longname, 'a', CAIRN_MAX_OID_LEN + 1);
		longname[CAIRN_MAX_OID_LEN + 1] = '\0';
		cop_init(&c);
		cop_add(&c, OSD_OP_STAT, NULL, 0);
		assert_int_equal(cairn_aio_create_completion(NULL, NULL, &comp), 0);
		assert_int_equal(cop_submit(&fake, longname, -1, &c, comp), -ENAMETOOLONG);
		assert_int_equal(cop_submit(&fake, "", -1, &c, comp), -EINVAL);
		cairn_aio_release(comp);
		cop_free(&c);
		free(longname);
	}
}

static void test_kvs(void **state)
{
	struct cbuf b;
	struct osd_kvenc e;
	cairn_kvs_t *kvs = NULL;
	size_t len;
	int more = 0;

	(void)state;
	cbuf_init(&b);
	osd_kv_enc_start(&b, &e, true);
	osd_kv_enc_add(&b, &e, "alpha", 5, "1", 1);
	osd_kv_enc_add(&b, &e, "beta", 4, "", 0);
	osd_kv_enc_add(&b, &e, "gamma", 5, "three", 5);
	osd_kv_enc_finish(&b, &e, true);
	assert_int_equal(b.err, 0);
	assert_int_equal(kvs_from_list(b.data, b.len, &kvs, &more), 0);
	assert_int_equal(more, 1);
	assert_int_equal(cairn_kvs_count(kvs), 3);
	assert_string_equal(cairn_kvs_key(kvs, 0), "alpha");
	assert_string_equal(cairn_kvs_key(kvs, 2), "gamma");
	assert_string_equal(cairn_kvs_val(kvs, 2, &len), "three");
	assert_int_equal(len, 5);
	cairn_kvs_val(kvs, 1, &len);
	assert_int_equal(len, 0);
	assert_null(cairn_kvs_key(kvs, 3));
	cairn_kvs_free(kvs);

	/* truncated input is refused */
	for (size_t cut = 0; cut < b.len; cut++) {
		kvs = NULL;
		assert_true(kvs_from_list(b.data, cut, &kvs, NULL) < 0);
		assert_null(kvs);
	}
	cbuf_free(&b);

	assert_int_equal(kvs_single("user.x", "v", 1, &kvs), 0);
	assert_int_equal(cairn_kvs_count(kvs), 1);
	assert_string_equal(cairn_kvs_key(kvs, 0), "user.x");
	cairn_kvs_free(kvs);
	cairn_kvs_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_missing_conf),
		cmocka_unit_test(test_bad_conf),
		cmocka_unit_test(test_conf_set),
		cmocka_unit_test(test_connect_timeout_two_handles),
		cmocka_unit_test(test_completion),
		cmocka_unit_test(test_builder_limits),
		cmocka_unit_test(test_kvs),
	};
	int r;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_client.XXXXXX");
	if (!mkdtemp(tmpdir))
		return 1;
	r = cmocka_run_group_tests(tests, NULL, NULL);
	{
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
		if (system(cmd)) {
		}
	}
	return r;
}
