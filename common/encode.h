/*
 * encode — growable byte buffers, little-endian encoding and bounds-checked decoding.
 *
 * Every wire and disk structure in cairn is written with enc_* into a struct cbuf and read
 * back with dec_* from a struct cdec. Both sides carry a sticky error: after the first
 * failure every later call is a no-op, so a decoder reads all its fields and checks
 * d->err once. A decoder never reads past d->end; a short input yields -EBADMSG.
 *
 * Versioned envelope (one per structure, see docs/conventions.md):
 *     u8 version | u8 compat | u32 length | body[length]
 * enc_start()/enc_finish() write it; dec_start() reads it, refuses a body whose compat is
 * newer than the decoder understands (-EOPNOTSUPP) and hands back a sub-decoder limited to
 * the body; dec_finish() skips whatever tail the decoder did not read (fields added by a
 * newer version), which is what lets version N and N+1 daemons talk.
 */
#ifndef CAIRN_ENCODE_H
#define CAIRN_ENCODE_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct cbuf {
	uint8_t *data;
	size_t len;
	size_t cap;
	int err; /* sticky: -ENOMEM once an allocation failed */
};

void cbuf_init(struct cbuf *b);
void cbuf_free(struct cbuf *b);
void cbuf_reset(struct cbuf *b); /* len = 0, err = 0, keeps the memory */
int cbuf_reserve(struct cbuf *b, size_t extra);
/* Returns a pointer to n new bytes at the end (uninitialised), or NULL (b->err set). */
void *cbuf_append(struct cbuf *b, size_t n);
/* Transfers ownership of the bytes to the caller; b is left empty. */
uint8_t *cbuf_steal(struct cbuf *b, size_t *len);

void enc_u8(struct cbuf *b, uint8_t v);
void enc_u16(struct cbuf *b, uint16_t v);
void enc_u32(struct cbuf *b, uint32_t v);
void enc_u64(struct cbuf *b, uint64_t v);
static inline void enc_i32(struct cbuf *b, int32_t v) { enc_u32(b, (uint32_t)v); }
static inline void enc_i64(struct cbuf *b, int64_t v) { enc_u64(b, (uint64_t)v); }
void enc_raw(struct cbuf *b, const void *p, size_t n);    /* no length prefix */
void enc_bytes(struct cbuf *b, const void *p, uint32_t n); /* u32 length + bytes */
void enc_str(struct cbuf *b, const char *s);               /* u32 length + bytes, no NUL */
/* Opens an envelope; returns the offset to hand to enc_finish(). */
size_t enc_start(struct cbuf *b, uint8_t version, uint8_t compat);
void enc_finish(struct cbuf *b, size_t start);

struct cdec {
	const uint8_t *p;
	const uint8_t *end;
	int err; /* sticky: -EBADMSG (short/garbage) or -EOPNOTSUPP (too new) */
};

static inline void cdec_init(struct cdec *d, const void *p, size_t n)
{
	d->p = p;
	d->end = d->p;
	if (n) /* NULL + 0 is undefined behaviour in C (clang UBSan flags it) */
		d->end += n;
	d->err = 0;
}
static inline size_t dec_left(const struct cdec *d) { return d->err ? 0 : (size_t)(d->end - d->p); }

int dec_u8(struct cdec *d, uint8_t *v);
int dec_u16(struct cdec *d, uint16_t *v);
int dec_u32(struct cdec *d, uint32_t *v);
int dec_u64(struct cdec *d, uint64_t *v);
int dec_i32(struct cdec *d, int32_t *v);
int dec_i64(struct cdec *d, int64_t *v);
int dec_raw(struct cdec *d, void *out, size_t n);
/* Zero-copy: *p points into the input, valid as long as the input is. */
int dec_bytes(struct cdec *d, const uint8_t **p, uint32_t *n);
/* Copies a string into out[cap] NUL-terminated; -EBADMSG if it does not fit or has a NUL. */
int dec_str(struct cdec *d, char *out, size_t cap);
/* Allocates a NUL-terminated copy (free()); -EBADMSG if longer than max. */
int dec_strdup(struct cdec *d, char **out, size_t max);
/* Checks that n more items of at least min_size bytes each could be present (guards counts
 * before allocating arrays from them). */
int dec_need(struct cdec *d, uint64_t n, size_t min_size);
/* Envelope: reads version/compat/length; *body decodes the body, *version says which. */
int dec_start(struct cdec *d, uint8_t understood, struct cdec *body, uint8_t *version);
/* Ends an envelope: d skips past the body; a body error becomes d's error. */
int dec_finish(struct cdec *d, struct cdec *body);
int dec_fail(struct cdec *d, int err); /* sets the sticky error (first one wins) */

#endif
