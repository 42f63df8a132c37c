/*
 * test_libcairn_two — no global state: two different clusters used from one process at once.
 * The same object name gets different content in each; async writes to both interleave; then
 * cluster B is stopped: B's ops end with -ETIMEDOUT while A's keep succeeding, and shutting
 * down B's handle leaves A's working.
 */
// timeout: 120
#include <cairn/libcairn.h>

#include <stdint.h>

#include "tests/integration/test_libcairn_util.h"

static cairn_t *open_cluster(const char *conf, cairn_ioctx_t **io)
{
	cairn_t *cl;

	CHECK_RC(cairn_create(&cl, conf), 0);
	CHECK_RC(cairn_connect(cl), 0);
	CHECK_RC(cairn_ioctx_create(cl, "rbd", io), 0);
	return cl;
}

int main(void)
{
	char conf_b[300], buf[64];
	cairn_t *a, *b;
	cairn_ioctx_t *ia, *ib;
	cairn_completion_t *ca[16], *cb[16];
	int kb;
	double t;

	setvbuf(stdout, NULL, _IONBF, 0);
	tc_start(3, "rbd:8:3");
	kb = tc_start_cluster(3, "rbd:16:3", conf_b, sizeof(conf_b));
	a = open_cluster(tc_conf, &ia);
	b = open_cluster(conf_b, &ib);
	/* distinct clusters: both have a pool "rbd", with different pg_num */
	CHECK_RC(cairn_write_full(ia, "same-name", "cluster A", 9), 0);
	CHECK_RC(cairn_write_full(ib, "same-name", "cluster B!", 10), 0);
	CHECK_RC(cairn_read(ia, "same-name", buf, sizeof(buf), 0), 9);
	CHECK(!memcmp(buf, "cluster A", 9));
	CHECK_RC(cairn_read(ib, "same-name", buf, sizeof(buf), 0), 10);
	CHECK(!memcmp(buf, "cluster B!", 10));

	for (int i = 0; i < 16; i++) {
		char name[32];
		snprintf(name, sizeof(name), "obj-%d", i);
		CHECK_RC(cairn_aio_create_completion(NULL, NULL, &ca[i]), 0);
		CHECK_RC(cairn_aio_create_completion(NULL, NULL, &cb[i]), 0);
		CHECK_RC(cairn_aio_write_full(ia, name, ca[i], "aaaa", 4), 0);
		CHECK_RC(cairn_aio_write_full(ib, name, cb[i], "bbbbbbbb", 8), 0);
	}
	for (int i = 0; i < 16; i++) {
		cairn_aio_wait_for_complete(ca[i]);
		cairn_aio_wait_for_complete(cb[i]);
		CHECK_RC(cairn_aio_get_return_value(ca[i]), 0);
		CHECK_RC(cairn_aio_get_return_value(cb[i]), 0);
		cairn_aio_release(ca[i]);
		cairn_aio_release(cb[i]);
	}
	{
		uint64_t sa = 0, sb = 0;
		CHECK_RC(cairn_stat(ia, "obj-5", &sa, NULL), 0);
		CHECK_RC(cairn_stat(ib, "obj-5", &sb, NULL), 0);
		CHECK(sa == 4 && sb == 8);
	}
	printf("two clusters, one process: interleaved writes land in the right cluster\n");

	/* B goes away: only B's ops fail */
	tc_stop_cluster(kb);
	cairn_ioctx_set_op_timeout(ib, 1.5);
	t = tc_now();
	CHECK_RC(cairn_write_full(ib, "after", "x", 1), -ETIMEDOUT);
	CHECK(tc_now() - t < 6);
	CHECK_RC(cairn_write_full(ia, "after", "x", 1), 0);
	cairn_ioctx_destroy(ib);
	cairn_shutdown(b);
	CHECK_RC(cairn_read(ia, "after", buf, sizeof(buf), 0), 1);
	printf("cluster B stopped: B timed out, A unaffected\n");

	cairn_ioctx_destroy(ia);
	cairn_shutdown(a);
	printf("test_libcairn_two: ok\n");
	return 0;
}
