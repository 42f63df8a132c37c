/*
 * test_libcairn_timeout — when the cluster is gone, ops end with a clear -ETIMEDOUT after the
 * op timeout (sync, async and compound), cairn_connect fails with -ETIMEDOUT after
 * client_mount_timeout and names the monitor, and cairn_shutdown ends ops that have no
 * timeout with -ESHUTDOWN.
 */
// timeout: 90
#include <cairn/libcairn.h>

#include <stdint.h>

#include "tests/integration/test_libcairn_util.h"

int main(void)
{
	cairn_t *cl, *cl2;
	cairn_ioctx_t *io;
	cairn_completion_t *c, *c2;
	char buf[64];
	double t;
	int r;

	setvbuf(stdout, NULL, _IONBF, 0);
	tc_start(3, "rbd:8:3");
	CHECK_RC(cairn_create(&cl, tc_conf), 0);
	CHECK_RC(cairn_connect(cl), 0);
	CHECK_RC(cairn_ioctx_create(cl, "rbd", &io), 0);
	CHECK_RC(cairn_write_full(io, "before", "x", 1), 0);
	printf("cluster up, first write ok; stopping the cluster\n");

	/* the whole cluster goes away */
	tc_stop_cluster(0);

	cairn_ioctx_set_op_timeout(io, 2.0);
	t = tc_now();
	r = cairn_write_full(io, "after", "y", 1);
	t = tc_now() - t;
	printf("write with the cluster gone: %d (%s) after %.2fs\n", r, strerror(-r), t);
	CHECK_RC(r, -ETIMEDOUT);
	CHECK(t >= 1.8 && t < 8);

	t = tc_now();
	CHECK_RC(cairn_read(io, "before", buf, sizeof(buf), 0), -ETIMEDOUT);
	CHECK(tc_now() - t < 8);

	/* async: several at once, each ends once with -ETIMEDOUT */
	CHECK_RC(cairn_aio_create_completion(NULL, NULL, &c), 0);
	CHECK_RC(cairn_aio_create_completion(NULL, NULL, &c2), 0);
	CHECK_RC(cairn_aio_write(io, "a1", c, "z", 1, 0), 0);
	CHECK_RC(cairn_aio_stat(io, "a2", c2, NULL, NULL), 0);
	cairn_aio_wait_for_complete(c);
	cairn_aio_wait_for_complete(c2);
	CHECK_RC(cairn_aio_get_return_value(c), -ETIMEDOUT);
	CHECK_RC(cairn_aio_get_return_value(c2), -ETIMEDOUT);
	cairn_aio_release(c);
	cairn_aio_release(c2);
	printf("async ops: -ETIMEDOUT\n");

	/* no timeout at all: shutdown ends the op with -ESHUTDOWN */
	cairn_ioctx_set_op_timeout(io, 0);
	CHECK_RC(cairn_aio_create_completion(NULL, NULL, &c), 0);
	CHECK_RC(cairn_aio_write_full(io, "forever", c, "w", 1), 0);
	usleep(300 * 1000);
	CHECK(!cairn_aio_is_complete(c));
	cairn_ioctx_destroy(io);
	cairn_shutdown(cl);
	CHECK(cairn_aio_is_complete(c));
	CHECK_RC(cairn_aio_get_return_value(c), -ESHUTDOWN);
	cairn_aio_release(c);
	printf("shutdown with an op in flight: -ESHUTDOWN\n");

	/* connecting to the dead cluster */
	CHECK_RC(cairn_create(&cl2, tc_conf), 0);
	CHECK_RC(cairn_conf_set(cl2, "client_mount_timeout", "1"), 0);
	t = tc_now();
	r = cairn_connect(cl2);
	t = tc_now() - t;
	printf("connect to a dead cluster: %d after %.2fs: %s\n", r, t, cairn_errmsg(cl2));
	CHECK_RC(r, -ETIMEDOUT);
	CHECK(t >= 0.9 && t < 6);
	CHECK(strstr(cairn_errmsg(cl2), "127.0.0.1:") != NULL);
	cairn_shutdown(cl2);

	printf("test_libcairn_timeout: ok\n");
	return 0;
}
