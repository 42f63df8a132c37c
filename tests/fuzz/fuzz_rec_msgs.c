/* fuzz_rec_msgs — the OSD-to-OSD peering and recovery decoders (rec_msg: query, info, log,
 * missing set, push with attrs and omap; the PG-id peek the messenger thread shards with;
 * osd_pg_peer) never crash, leak or overread; what decodes re-encodes and decodes again. */
#include <stdint.h>
#include <stdlib.h>

#include "common/encode.h"
#include "osd/osd_msgs.h"
#include "osd/rec_msgs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rec_msg m, again;
	struct osd_pg_peer peer;
	struct pg_id pgid;
	struct cdec d;

	(void)rec_msg_peek_pgid(data, size, &pgid);
	cdec_init(&d, data, size);
	if (rec_msg_decode(&d, &m) == 0) {
		struct cbuf b;

		cbuf_init(&b);
		rec_msg_encode(&b, &m);
		if (!b.err) {
			cdec_init(&d, b.data, b.len);
			if (rec_msg_decode(&d, &again) != 0)
				abort(); /* our own encoding must decode */
			rec_msg_clear(&again);
		}
		cbuf_free(&b);
		rec_msg_clear(&m);
	}
	cdec_init(&d, data, size);
	(void)osd_pg_peer_decode(&d, &peer);
	return 0;
}
