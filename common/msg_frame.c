/* msg_frame — see msg_frame.h. Fixed little-endian layout, validated before use. */
#include "common/msg_frame.h"

#include <errno.h>
#include <string.h>

#include "common/checksum.h"
#include "common/msg_types.h"

uint32_t msg_crc32c(uint32_t seed, const void *p, size_t n)
{
	return cairn_crc32c(seed, p, n);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[3] << 24);
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | ((uint64_t)get32(p + 4) << 32);
}

void msg_frame_encode(const struct msg_frame *f, uint8_t out[MSG_FRAME_HDR_LEN])
{
	put32(out, MSG_MAGIC);
	out[4] = MSG_PROTO_VERSION;
	out[5] = f->tag;
	out[6] = f->prio;
	out[7] = f->flags;
	put16(out + 8, f->type);
	put16(out + 10, 0);
	put32(out + 12, f->front_len);
	put64(out + 16, f->data_len);
	put64(out + 24, f->tid);
	put64(out + 32, f->seq);
	put64(out + 40, f->ack_seq);
	put32(out + 48, f->front_crc);
	put32(out + 52, f->data_crc);
	put32(out + 56, 0);
	put32(out + 60, msg_crc32c(0, out, 60));
}

int msg_frame_decode(const uint8_t in[MSG_FRAME_HDR_LEN], uint64_t max_msg, struct msg_frame *f,
		     const char **why)
{
	struct msg_frame t;

	if (get32(in) != MSG_MAGIC) {
		*why = "bad magic";
		return -EPROTO;
	}
	if (get32(in + 60) != msg_crc32c(0, in, 60)) {
		*why = "bad header crc";
		return -EBADMSG;
	}
	if (in[4] != MSG_PROTO_VERSION) {
		*why = "unsupported protocol version";
		return -EPROTO;
	}
	memset(&t, 0, sizeof(t));
	t.tag = in[5];
	t.prio = in[6];
	t.flags = in[7];
	t.type = get16(in + 8);
	t.front_len = get32(in + 12);
	t.data_len = get64(in + 16);
	t.tid = get64(in + 24);
	t.seq = get64(in + 32);
	t.ack_seq = get64(in + 40);
	t.front_crc = get32(in + 48);
	t.data_crc = get32(in + 52);
	if (get16(in + 10) || get32(in + 56)) {
		*why = "nonzero reserved field";
		return -EPROTO;
	}
	if (t.flags & ~MSG_FF_KNOWN) {
		*why = "unknown frame flags";
		return -EPROTO;
	}
	switch (t.tag) {
	case MSG_TAG_MSG:
		if (t.type == 0 || (t.type < MSG_TYPE_FIRST_USER && t.type > MSG_MSGR_LAST_)) {
			*why = "unknown message type";
			return -EPROTO;
		}
		if (t.data_len > max_msg || t.front_len > max_msg - t.data_len) {
			*why = "absurd length";
			return -EMSGSIZE;
		}
		if (t.seq == 0) {
			*why = "zero sequence number";
			return -EPROTO;
		}
		break;
	case MSG_TAG_HELLO:
	case MSG_TAG_HELLO_REPLY:
		if (t.front_len > MSG_HELLO_MAX || t.data_len) {
			*why = "absurd length";
			return -EMSGSIZE;
		}
		break;
	case MSG_TAG_ACK:
	case MSG_TAG_KEEPALIVE:
	case MSG_TAG_KEEPALIVE_ACK:
	case MSG_TAG_CLOSE:
		if (t.front_len || t.data_len) {
			*why = "absurd length";
			return -EMSGSIZE;
		}
		break;
	default:
		*why = "unknown frame tag";
		return -EPROTO;
	}
	*f = t;
	return 0;
}

int msg_frame_check_front(const struct msg_frame *f, const void *front, const char **why)
{
	if (msg_crc32c(0, front, f->front_len) != f->front_crc) {
		*why = "bad front crc";
		return -EBADMSG;
	}
	return 0;
}

int msg_frame_check_payload(const struct msg_frame *f, const void *front, const void *data,
			    const char **why)
{
	if (msg_frame_check_front(f, front, why))
		return -EBADMSG;
	if ((f->flags & MSG_FF_DATA_CRC) && msg_crc32c(0, data, f->data_len) != f->data_crc) {
		*why = "bad data crc";
		return -EBADMSG;
	}
	return 0;
}

void msg_hello_encode(struct cbuf *b, const struct msg_hello *h)
{
	size_t s = enc_start(b, 1, 1);

	enc_u8(b, h->me.type);
	enc_i64(b, h->me.num);
	enc_u64(b, h->nonce);
	enc_u64(b, h->features);
	enc_str(b, h->addr);
	enc_u8(b, h->policy);
	enc_u8(b, h->flags);
	enc_u64(b, h->sid);
	enc_u64(b, h->peer_nonce);
	enc_u64(b, h->in_seq);
	enc_bytes(b, h->auth, h->auth_len);
	enc_finish(b, s);
}

int msg_hello_decode(const void *p, size_t n, struct msg_hello *h)
{
	struct cdec d, body;
	const uint8_t *auth;
	uint32_t auth_len = 0;
	uint8_t ver;

	memset(h, 0, sizeof(*h));
	cdec_init(&d, p, n);
	if (dec_start(&d, 1, &body, &ver))
		return d.err;
	dec_u8(&body, &h->me.type);
	dec_i64(&body, &h->me.num);
	dec_u64(&body, &h->nonce);
	dec_u64(&body, &h->features);
	dec_str(&body, h->addr, sizeof(h->addr));
	dec_u8(&body, &h->policy);
	dec_u8(&body, &h->flags);
	dec_u64(&body, &h->sid);
	dec_u64(&body, &h->peer_nonce);
	dec_u64(&body, &h->in_seq);
	if (!dec_bytes(&body, &auth, &auth_len) && auth_len > MSG_AUTH_MAX)
		dec_fail(&body, -EBADMSG);
	if (!body.err && auth_len) {
		memcpy(h->auth, auth, auth_len);
		h->auth_len = auth_len;
	}
	if (!body.err && (h->me.type < MSG_ENTITY_MON || h->me.type > MSG_ENTITY_CLIENT ||
			  h->policy > MSG_LOSSLESS))
		dec_fail(&body, -EBADMSG);
	dec_finish(&d, &body);
	if (d.err)
		memset(h, 0, sizeof(*h));
	return d.err;
}
