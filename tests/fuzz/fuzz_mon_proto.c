/*
 * fuzz_mon_proto — every monitor-protocol decoder never crashes, leaks or overreads, and a
 * message it accepts re-encodes to something that decodes again.
 *
 * Input: first byte selects the message type (mod 10), the rest is the body.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/encode.h"
#include "common/mon_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data + 1;
	size_t n = size ? size - 1 : 0;
	struct cbuf b;

	if (!size)
		return 0;
	cbuf_init(&b);
	switch (data[0] % 10) {
	case 0: {
		struct mon_subscribe s, s2;
		if (!mon_subscribe_decode(&s, p, n)) {
			mon_subscribe_encode(&s, &b);
			if (mon_subscribe_decode(&s2, b.data, b.len))
				abort();
		}
		break;
	}
	case 1: {
		struct mon_osdmap_msg m, m2;
		if (!mon_osdmap_msg_decode(&m, p, n)) {
			mon_osdmap_msg_encode(&m, &b);
			if (mon_osdmap_msg_decode(&m2, b.data, b.len))
				abort();
			mon_osdmap_msg_free(&m2);
			mon_osdmap_msg_free(&m);
		}
		break;
	}
	case 2: {
		struct mon_get_osdmap g;
		mon_get_osdmap_decode(&g, p, n);
		break;
	}
	case 3: {
		struct mon_osd_boot bt, bt2;
		if (!mon_osd_boot_decode(&bt, p, n)) {
			mon_osd_boot_encode(&bt, &b);
			if (mon_osd_boot_decode(&bt2, b.data, b.len) || memcmp(&bt, &bt2, sizeof(bt)))
				abort();
		}
		break;
	}
	case 4: {
		struct mon_osd_failure f;
		mon_osd_failure_decode(&f, p, n);
		break;
	}
	case 5: {
		struct mon_osd_alive a;
		mon_osd_alive_decode(&a, p, n);
		break;
	}
	case 6: {
		struct mon_pg_stats s, s2;
		if (!mon_pg_stats_decode(&s, p, n)) {
			mon_pg_stats_encode(&s, &b);
			if (mon_pg_stats_decode(&s2, b.data, b.len))
				abort();
			mon_pg_stats_free(&s2);
			mon_pg_stats_free(&s);
		}
		break;
	}
	case 7: {
		struct mon_command c, c2;
		if (!mon_command_decode(&c, p, n)) {
			mon_command_encode(&c, &b);
			if (mon_command_decode(&c2, b.data, b.len))
				abort();
			mon_command_free(&c2);
			mon_command_free(&c);
		}
		break;
	}
	case 8: {
		struct mon_command_reply r;
		if (!mon_command_reply_decode(&r, p, n))
			mon_command_reply_free(&r);
		break;
	}
	case 9: {
		struct mon_pg_la_msg l, l2;
		if (!mon_pg_la_msg_decode(&l, p, n)) {
			mon_pg_la_msg_encode(&l, &b);
			if (mon_pg_la_msg_decode(&l2, b.data, b.len) || l2.n != l.n ||
			    (l.n && memcmp(l.recs, l2.recs, sizeof(*l.recs) * l.n)))
				abort();
			mon_pg_la_msg_free(&l2);
			mon_pg_la_msg_free(&l);
		}
		break;
	}
	}
	cbuf_free(&b);
	return 0;
}
