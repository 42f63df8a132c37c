/* fuzz_store_txn — store_txn_decode (the wire form of a store transaction, which replicas
 * receive from the network) must reject anything malformed without crashing; whatever it
 * accepts must re-encode to the same bytes and walk cleanly with store_op_next. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "osd/store.h"
#include "osd/store_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store_txn *t = store_txn_new();
	struct cbuf b;

	if (!t)
		return 0;
	cbuf_init(&b);
	if (store_txn_decode(t, data, size) == 0) {
		struct cdec d;
		struct store_op op;

		cdec_init(&d, t->ops.data, t->ops.len);
		for (uint32_t i = 0; i < t->nops; i++)
			if (store_op_next(&d, &op))
				abort();
		if (store_txn_encode(t, &b) || b.len > size)
			abort();
	}
	cbuf_free(&b);
	store_txn_free(t);
	return 0;
}
