/*
 * test_libcairn_stale — a client whose map is older than the OSDs' is corrected: client A
 * applies new maps 5 s late (client_debug_delay_maps_ms), client B marks the primary of A's
 * objects out; A's writes and reads then reach the old primary, which answers -ESTALE
 * (misdirected) with its newer epoch; A must wait for that map, recompute the placement,
 * resend to the new primary and succeed, each op ending exactly once.
 */
// timeout: 120
#include <cairn/libcairn.h>

#include <stdint.h>

#include "tests/integration/test_libcairn_util.h"

enum { NOBJ = 32 };

struct st {
	int done, err;
};

static void cb(cairn_completion_t *c, void *arg)
{
	struct st *s = arg;

	if (cairn_aio_get_return_value(c) < 0 && !s->err)
		s->err = cairn_aio_get_return_value(c);
	__atomic_add_fetch(&s->done, 1, __ATOMIC_SEQ_CST);
}

int main(void)
{
	cairn_t *a, *b;
	cairn_ioctx_t *ia, *ib;
	struct cairn_placement pl, pl2;
	struct cairn_stats sa;
	cairn_completion_t *cs[NOBJ];
	char names[NOBJ][32], bufs[NOBJ][64], got[64];
	struct st s = { 0 };
	const char *argv[3];
	char id[16];
	int victim = -1, nvictim = 0;
	uint32_t ea;
	double t;

	setvbuf(stdout, NULL, _IONBF, 0);
	tc_start(3, "rbd:16:3");
	CHECK_RC(cairn_create(&a, tc_conf), 0);
	CHECK_RC(cairn_conf_set(a, "client_debug_delay_maps_ms", "5000"), 0);
	CHECK_RC(cairn_conf_set(a, "client_op_timeout", "30"), 0);
	CHECK_RC(cairn_connect(a), 0);
	CHECK_RC(cairn_create(&b, tc_conf), 0);
	CHECK_RC(cairn_connect(b), 0);
	CHECK_RC(cairn_ioctx_create(a, "rbd", &ia), 0);
	CHECK_RC(cairn_ioctx_create(b, "rbd", &ib), 0);

	for (int i = 0; i < NOBJ; i++) {
		snprintf(names[i], sizeof(names[i]), "stale-%02d", i);
		snprintf(bufs[i], sizeof(bufs[i]), "first %d", i);
		CHECK_RC(cairn_write_full(ia, names[i], bufs[i], strlen(bufs[i])), 0);
	}
	CHECK_RC(cairn_object_placement(ia, names[0], &pl), 0);
	victim = pl.primary;
	for (int i = 0; i < NOBJ; i++) {
		CHECK_RC(cairn_object_placement(ia, names[i], &pl2), 0);
		nvictim += pl2.primary == victim;
	}
	ea = cairn_osdmap_epoch(a);
	printf("client A at epoch %u; osd.%d is primary of %d of %d objects; marking it out"
	       " through client B\n", ea, victim, nvictim, NOBJ);

	snprintf(id, sizeof(id), "%d", victim);
	argv[0] = "osd";
	argv[1] = "out";
	argv[2] = id;
	CHECK_RC(cairn_mon_command(b, argv, 3, NULL, NULL, NULL), 0);
	/* B (no delay) has the new map quickly; the OSDs have it at about the same time */
	t = tc_now();
	while (cairn_osdmap_epoch(b) <= ea && tc_now() - t < 10)
		usleep(20 * 1000);
	CHECK(cairn_osdmap_epoch(b) > ea);
	usleep(750 * 1000); /* let the OSDs apply it too (A waits 5 s) */
	usleep(750 * 1000);
	CHECK(cairn_osdmap_epoch(a) == ea); /* A still acts on the old map */

	t = tc_now();
	for (int i = 0; i < NOBJ; i++) {
		snprintf(bufs[i], sizeof(bufs[i]), "second %d", i);
		CHECK_RC(cairn_aio_create_completion(&s, cb, &cs[i]), 0);
		CHECK_RC(cairn_aio_write_full(ia, names[i], cs[i], bufs[i], strlen(bufs[i])), 0);
	}
	for (int i = 0; i < NOBJ; i++) {
		cairn_aio_wait_for_complete(cs[i]);
		cairn_aio_release(cs[i]);
	}
	t = tc_now() - t;
	CHECK_RC(cairn_get_stats(a, &sa), 0);
	printf("writes with the stale map: %d done, first error %d, %.2fs; epoch now %u;"
	       " %llu stale replies, %llu resends\n", s.done, s.err, t, cairn_osdmap_epoch(a),
	       (unsigned long long)sa.stale_replies, (unsigned long long)sa.resends);
	CHECK(s.done == NOBJ && s.err == 0);
	CHECK(cairn_osdmap_epoch(a) > ea);
	CHECK(sa.stale_replies > 0);
	CHECK(sa.resends > 0);

	/* both clients read what A wrote */
	for (int i = 0; i < NOBJ; i++) {
		size_t l = strlen(bufs[i]);
		CHECK_RC(cairn_read(ia, names[i], got, sizeof(got), 0), (long)l);
		CHECK(!memcmp(got, bufs[i], l));
		CHECK_RC(cairn_read(ib, names[i], got, sizeof(got), 0), (long)l);
		CHECK(!memcmp(got, bufs[i], l));
	}
	CHECK_RC(cairn_object_placement(ia, names[0], &pl2), 0);
	CHECK(pl2.primary != victim);

	argv[1] = "in";
	CHECK_RC(cairn_mon_command(b, argv, 3, NULL, NULL, NULL), 0);
	cairn_ioctx_destroy(ia);
	cairn_ioctx_destroy(ib);
	cairn_shutdown(a);
	cairn_shutdown(b);
	printf("test_libcairn_stale: ok\n");
	return 0;
}
