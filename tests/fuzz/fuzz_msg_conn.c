/*
 * fuzz_msg_conn — a messenger connection's real receive path (readv from a socket, the
 * frame parser, large-data direct reads, HELLO_REPLY handling, control frames, sequence
 * checks, dispatch, EOF in mid-frame) never crashes, leaks or overreads on any byte stream.
 *
 * Input: byte 0 picks the role (bit 0: connector waiting for its HELLO_REPLY, else an open
 * acceptor; bit 1: lossless) and bit 2 repairs every header CRC in the stream (walking it
 * frame by frame by the lengths it declares) so the fuzzer gets past the checksum; the rest
 * is what the peer sends, then EOF. The connection lives in a messenger whose workers are
 * not started (the hook drives the parser on this thread; common/msg_conn.c, CAIRN_FUZZ).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/checksum.h"
#include "common/config.h"
#include "common/log.h"
#include "common/msg.h"
#include "common/msg_frame.h"
#include "common/msg_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void drop(struct msg_conn *c, struct msg *m, void *arg)
{
	(void)c;
	(void)arg;
	msg_free(m);
}

static struct msgr *the_msgr(void)
{
	static struct msgr *m;
	static const struct msgr_ops ops = {.dispatch = drop};
	struct msgr_opts o = {.me = {MSG_ENTITY_OSD, 1}, .nworkers = 1, .ops = &ops};
	static struct cairn_conf *cf; /* static: reachable for the leak checker */
	char err[128];

	if (m)
		return m;
	log_init(NULL, LOG_ERR, "fuzz"); /* malformed frames are expected: keep quiet */
	cf = conf_defaults();
	conf_set(cf, "ms_max_message_size", "1M", err, sizeof(err));
	conf_set(cf, "ms_read_buffer", "4K", err, sizeof(err));
	o.conf = cf;
	m = msgr_create(&o); /* lives for the whole fuzzing process */
	return m;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf;
	size_t pos;

	if (size < 1 || size > (256u << 10))
		return 0;
	buf = malloc(size);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	if (buf[0] & 4) {
		for (pos = 1; pos + MSG_FRAME_HDR_LEN <= size;) {
			uint8_t *h = buf + pos;
			uint32_t c = cairn_crc32c(0, h, 60), flen;
			uint64_t dlen;

			memcpy(h + 60, &c, 4);
			memcpy(&flen, h + 12, 4);
			memcpy(&dlen, h + 16, 8);
			if (dlen > size || flen > size)
				break;
			pos += MSG_FRAME_HDR_LEN + flen + dlen;
		}
	}
	msgc_fuzz_feed(the_msgr(), buf + 1, size - 1, buf[0] & 1, (buf[0] >> 1) & 1);
	free(buf);
	return 0;
}
