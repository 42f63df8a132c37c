/* test_msg_frame — the messenger wire format: header round trip and every validation error,
 * payload CRCs, the HELLO body (round trip, every truncation, too-new compat, bad fields). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/checksum.h"
#include "common/encode.h"
#include "common/msg.h"
#include "common/msg_frame.h"
#include "common/msg_types.h"

static struct msg_frame sample(void)
{
	struct msg_frame f;

	memset(&f, 0, sizeof(f));
	f.tag = MSG_TAG_MSG;
	f.prio = MSG_PRIO_HIGH;
	f.flags = MSG_FF_DATA_CRC;
	f.type = 123;
	f.front_len = 10;
	f.data_len = 4096;
	f.tid = 0x1122334455667788ull;
	f.seq = 42;
	f.ack_seq = 41;
	f.front_crc = 0xdeadbeef;
	f.data_crc = 0xcafef00d;
	return f;
}

static void test_header_roundtrip(void **state)
{
	struct msg_frame f = sample(), g;
	uint8_t h[MSG_FRAME_HDR_LEN];
	const char *why = NULL;

	(void)state;
	msg_frame_encode(&f, h);
	assert_int_equal(h[0], MSG_MAGIC & 0xff); /* little-endian on the wire */
	assert_int_equal(msg_frame_decode(h, 1 << 20, &g, &why), 0);
	assert_memory_equal(&f, &g, sizeof(f));
}

static void expect_bad(const uint8_t h[MSG_FRAME_HDR_LEN], uint64_t max, int err,
		       const char *want_why)
{
	struct msg_frame g;
	const char *why = NULL;

	memset(&g, 0x5a, sizeof(g));
	assert_int_equal(msg_frame_decode(h, max, &g, &why), err);
	assert_non_null(why);
	assert_string_equal(why, want_why);
	for (size_t i = 0; i < sizeof(g); i++) /* untouched on error */
		assert_int_equal(((uint8_t *)&g)[i], 0x5a);
}

static void reseal(uint8_t h[MSG_FRAME_HDR_LEN])
{
	uint32_t c = cairn_crc32c(0, h, 60);

	for (int i = 0; i < 4; i++)
		h[60 + i] = (uint8_t)(c >> (8 * i));
}

static void test_header_errors(void **state)
{
	struct msg_frame f = sample();
	uint8_t h[MSG_FRAME_HDR_LEN];

	(void)state;
	msg_frame_encode(&f, h);
	h[1] ^= 1;
	expect_bad(h, 1 << 20, -EPROTO, "bad magic");

	msg_frame_encode(&f, h);
	h[30] ^= 1;
	expect_bad(h, 1 << 20, -EBADMSG, "bad header crc");

	msg_frame_encode(&f, h);
	h[4] = 2;
	reseal(h);
	expect_bad(h, 1 << 20, -EPROTO, "unsupported protocol version");

	msg_frame_encode(&f, h);
	h[11] = 1;
	reseal(h);
	expect_bad(h, 1 << 20, -EPROTO, "nonzero reserved field");
	msg_frame_encode(&f, h);
	h[57] = 1;
	reseal(h);
	expect_bad(h, 1 << 20, -EPROTO, "nonzero reserved field");

	f = sample();
	f.tag = 0;
	msg_frame_encode(&f, h);
	expect_bad(h, 1 << 20, -EPROTO, "unknown frame tag");
	f.tag = MSG_TAG_MAX_ + 1;
	msg_frame_encode(&f, h);
	expect_bad(h, 1 << 20, -EPROTO, "unknown frame tag");

	f = sample();
	f.flags = 0x80;
	msg_frame_encode(&f, h);
	expect_bad(h, 1 << 20, -EPROTO, "unknown frame flags");

	f = sample();
	f.type = 0;
	msg_frame_encode(&f, h);
	expect_bad(h, 1 << 20, -EPROTO, "unknown message type");
	f.type = MSG_MSGR_LAST_ + 1;
	msg_frame_encode(&f, h);
	expect_bad(h, 1 << 20, -EPROTO, "unknown message type");
	f.type = MSG_MSGR_TEST; /* the messenger's own test type is fine */
	msg_frame_encode(&f, h);
	{
		struct msg_frame g;
		const char *why;

		assert_int_equal(msg_frame_decode(h, 1 << 20, &g, &why), 0);
	}

	f = sample();
	f.data_len = (1 << 20) - 9; /* front 10 + data > max */
	msg_frame_encode(&f, h);
	expect_bad(h, 1 << 20, -EMSGSIZE, "absurd length");
	f.data_len = UINT64_MAX; /* no overflow in the check */
	msg_frame_encode(&f, h);
	expect_bad(h, 1 << 20, -EMSGSIZE, "absurd length");
	f.data_len = 0;
	f.front_len = UINT32_MAX;
	msg_frame_encode(&f, h);
	expect_bad(h, 1 << 20, -EMSGSIZE, "absurd length");

	f = sample();
	f.seq = 0;
	msg_frame_encode(&f, h);
	expect_bad(h, 1 << 20, -EPROTO, "zero sequence number");

	/* control frames carry no payload; HELLOs are small */
	f = sample();
	f.tag = MSG_TAG_ACK;
	msg_frame_encode(&f, h);
	expect_bad(h, 1 << 20, -EMSGSIZE, "absurd length");
	f.tag = MSG_TAG_HELLO;
	f.data_len = 0;
	f.front_len = MSG_HELLO_MAX + 1;
	msg_frame_encode(&f, h);
	expect_bad(h, 1 << 20, -EMSGSIZE, "absurd length");
}

static void test_payload_crc(void **state)
{
	uint8_t front[10] = "abcdefghij", data[4096];
	struct msg_frame f = sample();
	const char *why = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7);
	f.front_crc = cairn_crc32c(0, front, sizeof(front));
	f.data_crc = cairn_crc32c(0, data, sizeof(data));
	assert_int_equal(msg_frame_check_payload(&f, front, data, &why), 0);
	data[100] ^= 1;
	assert_int_equal(msg_frame_check_payload(&f, front, data, &why), -EBADMSG);
	assert_string_equal(why, "bad data crc");
	f.flags = 0; /* data CRC off: not checked */
	assert_int_equal(msg_frame_check_payload(&f, front, data, &why), 0);
	front[0] ^= 1;
	assert_int_equal(msg_frame_check_payload(&f, front, data, &why), -EBADMSG);
	assert_string_equal(why, "bad front crc");
}

static struct msg_hello sample_hello(void)
{
	struct msg_hello h;

	memset(&h, 0, sizeof(h));
	h.me.type = MSG_ENTITY_OSD;
	h.me.num = 17;
	h.nonce = 0xabcdef0123456789ull;
	h.features = CAIRN_FEATURES_MSGR | (1ull << 40);
	strcpy(h.addr, "127.0.0.1:6800");
	h.policy = MSG_LOSSLESS;
	h.flags = MSG_HELLO_RECONNECT;
	h.sid = 99;
	h.peer_nonce = 77;
	h.in_seq = 12345;
	h.auth_len = 5;
	memcpy(h.auth, "token", 5);
	return h;
}

static void test_hello_roundtrip_and_truncation(void **state)
{
	struct msg_hello h = sample_hello(), g;
	struct cbuf b;

	(void)state;
	cbuf_init(&b);
	msg_hello_encode(&b, &h);
	assert_int_equal(b.err, 0);
	assert_int_equal(msg_hello_decode(b.data, b.len, &g), 0);
	assert_memory_equal(&h, &g, sizeof(h));
	for (size_t n = 0; n < b.len; n++) {
		uint8_t *copy = malloc(n ? n : 1);

		memcpy(copy, b.data, n);
		assert_int_equal(msg_hello_decode(copy, n, &g), -EBADMSG);
		assert_int_equal(g.me.type, 0); /* zeroed on error */
		free(copy);
	}
	cbuf_free(&b);
}

static void test_hello_versions_and_fields(void **state)
{
	struct msg_hello h = sample_hello(), g;
	struct cbuf b;
	size_t s;

	(void)state;
	/* a newer version with an extra tail field still decodes (rolling upgrade) */
	cbuf_init(&b);
	msg_hello_encode(&b, &h);
	b.data[0] = 2;			  /* version 2, compat 1 */
	enc_u64(&b, 0x1234);		  /* new field after the v1 body */
	b.data[2] = (uint8_t)(b.len - 6); /* fix the body length (fits in one byte) */
	assert_int_equal(msg_hello_decode(b.data, b.len, &g), 0);
	assert_int_equal(g.in_seq, h.in_seq);
	/* a compat level we do not understand is refused */
	b.data[1] = 2;
	assert_int_equal(msg_hello_decode(b.data, b.len, &g), -EOPNOTSUPP);
	cbuf_free(&b);

	/* bad entity type, bad policy, oversized authorizer */
	h = sample_hello();
	h.me.type = 9;
	cbuf_init(&b);
	msg_hello_encode(&b, &h);
	assert_int_equal(msg_hello_decode(b.data, b.len, &g), -EBADMSG);
	cbuf_free(&b);
	h = sample_hello();
	h.policy = 2;
	cbuf_init(&b);
	msg_hello_encode(&b, &h);
	assert_int_equal(msg_hello_decode(b.data, b.len, &g), -EBADMSG);
	cbuf_free(&b);
	{
		static uint8_t big[MSG_AUTH_MAX + 1];

		cbuf_init(&b);
		s = enc_start(&b, 1, 1);
		enc_u8(&b, MSG_ENTITY_OSD);
		enc_i64(&b, 1);
		enc_u64(&b, 1);
		enc_u64(&b, 1);
		enc_str(&b, "");
		enc_u8(&b, 0);
		enc_u8(&b, 0);
		enc_u64(&b, 0);
		enc_u64(&b, 0);
		enc_u64(&b, 0);
		enc_bytes(&b, big, sizeof(big));
		enc_finish(&b, s);
		assert_int_equal(msg_hello_decode(b.data, b.len, &g), -EBADMSG);
		cbuf_free(&b);
	}
}

static void test_entity_str(void **state)
{
	struct msg_entity e = {MSG_ENTITY_CLIENT, 1234};
	char buf[32];

	(void)state;
	assert_string_equal(msg_entity_str(&e, buf, sizeof(buf)), "client.1234");
	e.type = MSG_ENTITY_MON;
	e.num = 0;
	assert_string_equal(msg_entity_str(&e, buf, sizeof(buf)), "mon.0");
	e.type = 77;
	assert_string_equal(msg_entity_str(&e, buf, sizeof(buf)), "?.0");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_header_roundtrip),
	    cmocka_unit_test(test_header_errors),
	    cmocka_unit_test(test_payload_crc),
	    cmocka_unit_test(test_hello_roundtrip_and_truncation),
	    cmocka_unit_test(test_hello_versions_and_fields),
	    cmocka_unit_test(test_entity_str),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
