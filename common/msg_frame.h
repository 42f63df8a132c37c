/*
 * msg_frame — the messenger's wire format: the fixed frame header and the handshake (HELLO)
 * body. Pure encode/decode with validation, no sockets and no event loop, so the same code
 * serves the TCP transport, a future RDMA transport and the fuzz target.
 *
 * Every frame is a 64-byte header, then front_len bytes of front, then data_len bytes of
 * data (all integers little-endian):
 *
 *     0  u32 magic (MSG_MAGIC)      4 u8 proto version     5 u8 tag      6 u8 prio
 *     7  u8  flags (MSG_FF_*)       8 u16 type            10 u16 reserved (0)
 *     12 u32 front_len             16 u64 data_len
 *     24 u64 tid                   32 u64 seq             40 u64 ack_seq
 *     48 u32 front_crc             52 u32 data_crc (0 unless MSG_FF_DATA_CRC)
 *     56 u32 reserved (0)          60 u32 header_crc = crc32c(bytes 0..59)
 *
 * The header is validated before any payload is read (msg_frame_decode): magic, header CRC,
 * version, tag, type range and lengths; a bad header is never "skipped", the connection is
 * closed. Payload CRCs are checked once the payload is in (msg_frame_check_payload).
 * docs/messenger.md describes the frames and the handshake in full.
 */
#ifndef CAIRN_MSG_FRAME_H
#define CAIRN_MSG_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "common/encode.h"
#include "common/msg.h"

#define MSG_MAGIC	  0xCA1BF4A3u
#define MSG_PROTO_VERSION 1
#define MSG_FRAME_HDR_LEN 64

/* Frame tags (the frame layer's own kinds; message types are a separate space). */
enum msg_tag {
	MSG_TAG_HELLO = 1,	   /* connector -> acceptor: struct msg_hello in front */
	MSG_TAG_HELLO_REPLY = 2,   /* acceptor -> connector: struct msg_hello in front */
	MSG_TAG_MSG = 3,	   /* an upper-layer message */
	MSG_TAG_ACK = 4,	   /* ack_seq only */
	MSG_TAG_KEEPALIVE = 5,	   /* tid carries the sender's monotonic ns */
	MSG_TAG_KEEPALIVE_ACK = 6, /* echoes the keepalive's tid */
	MSG_TAG_CLOSE = 7,	   /* the sender ends the session (msg_conn_close) */
	MSG_TAG_MAX_ = 7,
};

#define MSG_FF_DATA_CRC 0x01 /* data_crc is valid */
#define MSG_FF_KNOWN	0x01

/* Message types 1..15 are the messenger's own range; upper layers start at 16. */
#define MSG_TYPE_FIRST_USER 16

#define MSG_HELLO_MAX 4096 /* largest HELLO front accepted */
#define MSG_AUTH_MAX  1024 /* largest authorizer carried in a HELLO */

struct msg_frame {
	uint8_t tag;
	uint8_t prio;
	uint8_t flags;
	uint16_t type;
	uint32_t front_len;
	uint64_t data_len;
	uint64_t tid;
	uint64_t seq;
	uint64_t ack_seq;
	uint32_t front_crc;
	uint32_t data_crc;
};

/* CRC32C used for every frame checksum (chains: seed is the previous result). */
uint32_t msg_crc32c(uint32_t seed, const void *p, size_t n);

/* Writes the 64-byte header for f, computing the header CRC. */
void msg_frame_encode(const struct msg_frame *f, uint8_t out[MSG_FRAME_HDR_LEN]);
/*
 * Validates and decodes a header. max_msg bounds front_len + data_len of MSG frames.
 * Returns 0, or a negative errno with *why naming the defect for the one log line:
 * -EPROTO bad magic / unsupported version / unknown tag / unknown type / bad flags,
 * -EBADMSG bad header CRC, -EMSGSIZE absurd length. f is untouched on error.
 */
int msg_frame_decode(const uint8_t in[MSG_FRAME_HDR_LEN], uint64_t max_msg, struct msg_frame *f,
		     const char **why);
/* Checks the front CRC only (the receive path checks the data CRC incrementally). */
int msg_frame_check_front(const struct msg_frame *f, const void *front, const char **why);
/* Checks the payload CRCs of a decoded frame: 0 or -EBADMSG (*why says which). */
int msg_frame_check_payload(const struct msg_frame *f, const void *front, const void *data,
			    const char **why);

/* The handshake body (front of HELLO and HELLO_REPLY); versioned envelope, v1. */
#define MSG_HELLO_RECONNECT 0x01 /* connector: I had a session with you (peer_nonce) */
#define MSG_HELLO_RESET	    0x02 /* acceptor: I do not know that session; it starts anew */

struct msg_hello {
	struct msg_entity me;
	uint64_t nonce;	     /* sender's messenger instance */
	uint64_t features;   /* CAIRN_FEATURE_* offered */
	char addr[64];	     /* sender's listen address, "" if none */
	uint8_t policy;	     /* enum msg_policy (connector's choice) */
	uint8_t flags;	     /* MSG_HELLO_* */
	uint64_t sid;	     /* session id chosen by the connector (lossless resume key) */
	uint64_t peer_nonce; /* connector: acceptor's nonce seen last time, 0 the first time */
	uint64_t in_seq;     /* last seq the sender received in this session */
	uint32_t auth_len;   /* authorizer (auth hook; empty until auth exists) */
	uint8_t auth[MSG_AUTH_MAX];
};

void msg_hello_encode(struct cbuf *b, const struct msg_hello *h);
/* 0 or -EBADMSG / -EOPNOTSUPP; h is zeroed first. */
int msg_hello_decode(const void *p, size_t n, struct msg_hello *h);

#endif
