/* fuzz_osd_proto — the OSD op request/reply and kv-list decoders never crash or overread. */
#include <stdint.h>
#include <stdlib.h>

#include "common/osd_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct osd_op_req req;
	struct osd_op_reply rep;
	struct osd_kvdec it;
	struct osd_stat st;
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
	return 0;
}
