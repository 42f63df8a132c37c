/*
 * fuzz_msg_frame — the messenger's frame layer never crashes, overreads or accepts what it
 * should not, on any byte stream.
 *
 * Input: byte 0 holds flags (bit 0: repair the CRCs of each header and payload before
 * decoding, so the fuzzer gets past the checksums to the length, tag, type and HELLO
 * checks). The rest is a byte stream decoded the way a connection does: a 64-byte header,
 * validated; front and data taken from the stream; payload CRCs checked; HELLO bodies
 * decoded. A decoded header must re-encode to the same bytes; a decoded HELLO must
 * re-encode and decode to the same values.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/checksum.h"
#include "common/encode.h"
#include "common/msg_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                                   \
	do {                                                                                       \
		if (!(x))                                                                          \
			abort();                                                                   \
	} while (0)

#define MAX_MSG (1u << 20)

static void check_hello(const uint8_t *p, size_t n)
{
	static struct msg_hello h, h2;
	struct cbuf b;

	if (msg_hello_decode(p, n, &h))
		return;
	cbuf_init(&b);
	msg_hello_encode(&b, &h);
	CHECK(!b.err);
	CHECK(msg_hello_decode(b.data, b.len, &h2) == 0);
	CHECK(h.me.type == h2.me.type && h.me.num == h2.me.num && h.nonce == h2.nonce &&
	      h.features == h2.features && h.sid == h2.sid && h.in_seq == h2.in_seq &&
	      h.policy == h2.policy && h.flags == h2.flags && h.auth_len == h2.auth_len &&
	      !strcmp(h.addr, h2.addr) && !memcmp(h.auth, h2.auth, h.auth_len));
	cbuf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf, hdr[MSG_FRAME_HDR_LEN];
	size_t pos = 1, n;
	int repair;

	if (size < 1)
		return 0;
	repair = data[0] & 1;
	n = size;
	buf = malloc(n);
	if (!buf)
		return 0;
	memcpy(buf, data, n);
	while (n - pos >= MSG_FRAME_HDR_LEN) {
		uint8_t *h = buf + pos;
		struct msg_frame f;
		const char *why = NULL;
		uint64_t payload;
		int r;

		if (repair) {
			uint32_t c = cairn_crc32c(0, h, 60);

			memcpy(h + 60, &c, 4); /* little-endian hosts only, as the fuzz build is */
		}
		r = msg_frame_decode(h, MAX_MSG, &f, &why);
		if (r) {
			CHECK(why != NULL && r < 0);
			break;
		}
		msg_frame_encode(&f, hdr);
		CHECK(!memcmp(hdr, h, MSG_FRAME_HDR_LEN));
		pos += MSG_FRAME_HDR_LEN;
		payload = (uint64_t)f.front_len + f.data_len;
		CHECK(f.tag != MSG_TAG_MSG || payload <= MAX_MSG);
		if (payload > n - pos)
			break; /* truncated: a connection would wait for more, then see EOF */
		if (repair) {
			f.front_crc = cairn_crc32c(0, buf + pos, f.front_len);
			f.data_crc = cairn_crc32c(0, buf + pos + f.front_len, f.data_len);
		}
		r = msg_frame_check_payload(&f, buf + pos, buf + pos + f.front_len, &why);
		if (r) {
			CHECK(why != NULL);
			break;
		}
		if (f.tag == MSG_TAG_HELLO || f.tag == MSG_TAG_HELLO_REPLY)
			check_hello(buf + pos, f.front_len);
		pos += payload;
	}
	/* the HELLO decoder on its own, over the raw input */
	check_hello(data, size);
	free(buf);
	return 0;
}
