/* fuzz_store_format — the store's on-disk decoders (superblock, totals, onode, listing
 * cursor, data chunk header) on arbitrary bytes: no crash, no read past the input, and a
 * value that decodes re-encodes and decodes to the same thing. The first input byte picks
 * the decoder. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "osd/store.h"
#include "osd/store_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cbuf b;
	struct cdec d;

	if (size < 1)
		return 0;
	cbuf_init(&b);
	switch (data[0] % 5) {
	case 0: {
		struct store_super sb, sb2;

		if (store_super_decode(&sb, data + 1, size - 1) == 0) {
			store_super_encode(&sb, &b);
			if (store_super_decode(&sb2, b.data, b.len) || sb2.chunk_size != sb.chunk_size)
				abort();
		}
		break;
	}
	case 1: {
		struct store_totals t, t2;

		memset(&t, 0, sizeof(t));
		memset(&t2, 0, sizeof(t2));
		if (store_totals_decode(&t, data + 1, size - 1) == 0) {
			store_totals_encode(&t, &b);
			if (store_totals_decode(&t2, b.data, b.len) || memcmp(&t, &t2, sizeof(t)))
				abort();
		}
		break;
	}
	case 2: {
		struct store_onode o, o2;

		memset(&o, 0, sizeof(o)); /* padding: compared with memcmp below */
		memset(&o2, 0, sizeof(o2));
		if (store_onode_decode(&o, data + 1, size - 1) == 0) {
			store_onode_encode(&o, &b);
			if (store_onode_decode(&o2, b.data, b.len) || memcmp(&o, &o2, sizeof(o)))
				abort();
		}
		break;
	}
	case 3: {
		static struct store_cursor c, c2;

		cdec_init(&d, data + 1, size - 1);
		if (store_cursor_decode(&c, &d) == 0) {
			store_cursor_encode(&c, &b);
			cdec_init(&d, b.data, b.len);
			if (store_cursor_decode(&c2, &d) || store_cursor_cmp(&c, &c2))
				abort();
		}
		break;
	}
	default: {
		const uint8_t *p;
		size_t n;

		(void)store_chunk_check(data + 1, size - 1, 7, 3, 65536, &p, &n);
		break;
	}
	}
	cbuf_free(&b);
	return 0;
}
