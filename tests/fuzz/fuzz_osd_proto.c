/* fuzz_osd_proto — the OSD's decoders (client op request/reply, kv lists, stat, repop,
 * repop reply, ping, PG log entry and info) never crash, leak or overread. */
#include <stdint.h>
#include <stdlib.h>

#include "common/osd_proto.h"
#include "osd/osd_msgs.h"
#include "osd/pg_log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct osd_op_req req;
	struct osd_op_reply rep;
	struct osd_kvdec it;
	struct osd_stat st;
	struct osd_repop rp;
	struct osd_repop_reply rr;
	struct osd_ping ping;
	struct pg_log_entry e;
	struct pg_info info;
	struct cdec d;
	const uint8_t *k, *v;
	uint32_t kl, vl;

	cdec_init(&d, data, size);
	if (osd_op_req_decode(&d, &req) == 0)
		(void)osd_op_req_check_data(&req, size);
	cdec_init(&d, data, size);
	if (osd_op_reply_decode(&d, &rep) == 0)
		(void)osd_op_reply_check_data(&rep, size);
	cdec_init(&d, data, size);
	(void)osd_stat_decode(&d, &st);
	if (osd_kv_dec_open(&it, data, size) == 0)
		while (osd_kv_dec_next(&it, &k, &kl, &v, &vl) > 0)
			;
	cdec_init(&d, data, size);
	if (osd_repop_decode(&d, &rp) == 0)
		osd_repop_clear(&rp);
	cdec_init(&d, data, size);
	(void)osd_repop_reply_decode(&d, &rr);
	cdec_init(&d, data, size);
	(void)osd_ping_decode(&d, &ping);
	cdec_init(&d, data, size);
	if (pg_log_entry_decode(&d, &e) == 0)
		pg_log_entry_clear(&e);
	cdec_init(&d, data, size);
	(void)pg_info_decode(&d, &info);
	return 0;
}
