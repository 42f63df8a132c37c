/*
 * store_journal — the ring of records (contract and layout in store_journal.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/checksum.h"
#include "common/encode.h"
#include "common/util.h"
#include "osd/store_journal.h"

#define SB_MAGIC 0x42534a43u  /* "CJSB" */
#define REC_MAGIC 0x434a4a43u /* "CJJC" */
#define SB_VERSION 1
#define REC_VERSION 1
#define SB_SLOT 512u
#define SB_BYTES 56u  /* encoded superblock: 48 bytes of fields + xxh3 */
#define REC_HDR 40u   /* encoded record header */
#define REC_ALIGN 8u
#define PAGE 4096u    /* appends write whole pages: see sjournal_append */

struct sjournal {
	int fd;
	uint64_t size; /* file size; the ring is [SJ_HDR_BYTES, size) */
	uint64_t ring;
	/* superblock as last read or written */
	uint64_t gen, nonce;
	struct sj_point tail;
	/* appender side */
	struct sj_point head;
	uint8_t *buf; /* header + payload staging */
	size_t bufcap;

	pthread_mutex_t sb_lock; /* superblock writes (gen) */
	pthread_mutex_t lock; /* tail, head (as seen by others), waiting, stopped */
	pthread_cond_t room_cv, trim_cv;
	bool waiting; /* the appender waits for room */
	uint64_t want; /* bytes it waits for */
	bool stopped;
};

struct sb {
	uint64_t gen, nonce, size, tail_seq, tail_off;
};

static uint64_t rec_bytes(size_t len)
{
	return (REC_HDR + (uint64_t)len + REC_ALIGN - 1) & ~(uint64_t)(REC_ALIGN - 1);
}

static void sb_encode(const struct sb *s, uint8_t out[SB_BYTES])
{
	struct cbuf b;

	cbuf_init(&b);
	enc_u32(&b, SB_MAGIC);
	enc_u8(&b, SB_VERSION);
	enc_u8(&b, 0);
	enc_u16(&b, 0);
	enc_u64(&b, s->gen);
	enc_u64(&b, s->nonce);
	enc_u64(&b, s->size);
	enc_u64(&b, s->tail_seq);
	enc_u64(&b, s->tail_off);
	enc_u64(&b, cairn_xxh3(b.data, b.len));
	memset(out, 0, SB_BYTES);
	if (!b.err && b.len == SB_BYTES)
		memcpy(out, b.data, SB_BYTES);
	cbuf_free(&b);
}

static int sb_decode(const uint8_t *in, struct sb *s)
{
	struct cdec d;
	uint32_t magic;
	uint8_t v, pad8;
	uint16_t pad16;
	uint64_t csum;

	cdec_init(&d, in, SB_BYTES);
	dec_u32(&d, &magic);
	dec_u8(&d, &v);
	dec_u8(&d, &pad8);
	dec_u16(&d, &pad16);
	dec_u64(&d, &s->gen);
	dec_u64(&d, &s->nonce);
	dec_u64(&d, &s->size);
	dec_u64(&d, &s->tail_seq);
	dec_u64(&d, &s->tail_off);
	dec_u64(&d, &csum);
	if (d.err || magic != SB_MAGIC || csum != cairn_xxh3(in, SB_BYTES - 8))
		return -EIO;
	if (v != SB_VERSION)
		return -EOPNOTSUPP;
	if (s->size < SJ_MIN_SIZE || s->tail_off < SJ_HDR_BYTES || s->tail_off > s->size)
		return -EIO;
	return 0;
}

static int pwrite_all(int fd, const void *p, size_t n, uint64_t off)
{
	const uint8_t *c = p;

	while (n) {
		ssize_t w = pwrite(fd, c, n, (off_t)off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		c += w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

static int pread_all(int fd, void *p, size_t n, uint64_t off)
{
	uint8_t *c = p;

	while (n) {
		ssize_t r = pread(fd, c, n, (off_t)off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -EIO;
		c += r;
		n -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

static int sync_fd(int fd)
{
	return fdatasync(fd) ? -errno : 0;
}

static uint64_t new_nonce(uint64_t old)
{
	uint64_t n = 0;

	if (getrandom(&n, sizeof(n), 0) != (ssize_t)sizeof(n))
		n = cairn_xxh3_seed(&old, sizeof(old), now_mono_ns() ^ (uint64_t)getpid());
	return n == old ? n + 1 : n;
}

/* Writes the superblock (next generation, into the other slot) and syncs it. */
static int sb_write(struct sjournal *j, uint64_t nonce, struct sj_point tail)
{
	uint8_t slot[SB_SLOT] = { 0 };
	struct sb s = { .gen = j->gen + 1, .nonce = nonce, .size = j->size,
			.tail_seq = tail.seq, .tail_off = tail.off };
	int rc;

	sb_encode(&s, slot);
	rc = pwrite_all(j->fd, slot, SB_SLOT, (s.gen % 2) * SB_SLOT);
	if (!rc)
		rc = sync_fd(j->fd);
	if (!rc)
		j->gen = s.gen;
	return rc;
}

int sjournal_create(const char *path, uint64_t size)
{
	const size_t chunk = 1u << 20;
	uint8_t *zero;
	struct sjournal j = { .size = size };
	int rc = 0;

	if (size < SJ_MIN_SIZE)
		return -EINVAL;
	j.fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (j.fd < 0)
		return -errno;
	zero = calloc(1, chunk);
	if (!zero)
		rc = -ENOMEM;
	/* every byte written once: later syncs overwrite allocated, initialised blocks */
	for (uint64_t off = 0; !rc && off < size; off += chunk)
		rc = pwrite_all(j.fd, zero, (size_t)(size - off < chunk ? size - off : chunk), off);
	free(zero);
	if (!rc)
		rc = sync_fd(j.fd);
	if (!rc)
		rc = sb_write(&j, new_nonce(0), (struct sj_point){ .seq = 1, .off = SJ_HDR_BYTES });
	if (!rc)
		posix_fadvise(j.fd, 0, (off_t)size, POSIX_FADV_DONTNEED);
	close(j.fd);
	if (rc)
		unlink(path);
	return rc;
}

int sjournal_open(struct sjournal **out, const char *path)
{
	uint8_t area[2 * SB_SLOT];
	struct sb s[2];
	int ok[2], rc, best;
	struct stat st;
	struct sjournal *j;
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	rc = pread_all(fd, area, sizeof(area), 0);
	if (!rc && fstat(fd, &st))
		rc = -errno;
	if (rc) {
		close(fd);
		return rc;
	}
	for (int i = 0; i < 2; i++)
		ok[i] = sb_decode(area + i * SB_SLOT, &s[i]);
	if (ok[0] && ok[1]) {
		close(fd);
		return ok[0] == -EOPNOTSUPP || ok[1] == -EOPNOTSUPP ? -EOPNOTSUPP : -EIO;
	}
	best = ok[0] ? 1 : ok[1] ? 0 : (s[1].gen > s[0].gen);
	if (s[best].size != (uint64_t)st.st_size) {
		close(fd);
		return -EIO;
	}
	j = calloc(1, sizeof(*j));
	if (!j) {
		close(fd);
		return -ENOMEM;
	}
	j->fd = fd;
	j->size = s[best].size;
	j->ring = j->size - SJ_HDR_BYTES;
	j->gen = s[best].gen;
	j->nonce = s[best].nonce;
	j->tail = (struct sj_point){ .seq = s[best].tail_seq, .off = s[best].tail_off };
	j->head = j->tail;
	pthread_mutex_init(&j->lock, NULL);
	pthread_mutex_init(&j->sb_lock, NULL);
	pthread_cond_init(&j->room_cv, NULL);
	pthread_cond_init(&j->trim_cv, NULL);
	*out = j;
	return 0;
}

void sjournal_close(struct sjournal *j)
{
	if (!j)
		return;
	close(j->fd);
	free(j->buf);
	pthread_mutex_destroy(&j->lock);
	pthread_mutex_destroy(&j->sb_lock);
	pthread_cond_destroy(&j->room_cv);
	pthread_cond_destroy(&j->trim_cv);
	free(j);
}

static void hdr_encode(uint8_t out[REC_HDR], uint64_t nonce, uint64_t seq, const void *payload,
		       size_t len)
{
	struct cbuf b;

	cbuf_init(&b);
	enc_u32(&b, REC_MAGIC);
	enc_u8(&b, REC_VERSION);
	enc_u8(&b, 0);
	enc_u16(&b, 0);
	enc_u64(&b, nonce);
	enc_u64(&b, seq);
	enc_u32(&b, (uint32_t)len);
	enc_u32(&b, 0);
	memset(out, 0, REC_HDR);
	if (!b.err && b.len == REC_HDR - 8) {
		uint64_t c = cairn_xxh3_seed(payload, len, cairn_xxh3(b.data, b.len));

		memcpy(out, b.data, b.len);
		for (int i = 0; i < 8; i++)
			out[REC_HDR - 8 + i] = (uint8_t)(c >> (8 * i));
	}
	cbuf_free(&b);
}

/* Reads the header at off into h if it is a record of this life with seq: its payload length. */
static int hdr_read(struct sjournal *j, uint64_t off, uint64_t seq, uint8_t h[REC_HDR],
		    uint32_t *len)
{
	struct cdec d;
	uint32_t magic, pad32;
	uint8_t v, pad8;
	uint16_t pad16;
	uint64_t nonce, s;

	if (off + REC_HDR > j->size || pread_all(j->fd, h, REC_HDR, off))
		return -ENOENT;
	cdec_init(&d, h, REC_HDR);
	dec_u32(&d, &magic);
	dec_u8(&d, &v);
	dec_u8(&d, &pad8);
	dec_u16(&d, &pad16);
	dec_u64(&d, &nonce);
	dec_u64(&d, &s);
	dec_u32(&d, len);
	dec_u32(&d, &pad32);
	if (d.err || magic != REC_MAGIC || v != REC_VERSION || nonce != j->nonce || s != seq ||
	    off + rec_bytes(*len) > j->size || rec_bytes(*len) > j->ring / 2)
		return -ENOENT;
	return 0;
}

static int grow_buf(struct sjournal *j, size_t n)
{
	uint8_t *nb;

	if (n <= j->bufcap)
		return 0;
	nb = realloc(j->buf, n);
	if (!nb)
		return -ENOMEM;
	j->buf = nb;
	j->bufcap = n;
	return 0;
}

int sjournal_replay(struct sjournal *j, uint64_t skip, sj_replay_cb cb, void *arg,
		    uint64_t *last)
{
	struct sj_point p = j->tail;
	int rc = 0;

	*last = skip;
	for (;;) {
		uint8_t h[REC_HDR], want[REC_HDR];
		uint32_t len = 0;
		uint64_t at = p.off;

		if (hdr_read(j, at, p.seq, h, &len)) {
			/* the writer puts a record that does not fit before the end at the start */
			at = SJ_HDR_BYTES;
			if (hdr_read(j, at, p.seq, h, &len) || p.off + rec_bytes(len) <= j->size)
				break;
		}
		if (grow_buf(j, len ? len : 1)) {
			rc = -ENOMEM;
			break;
		}
		if (pread_all(j->fd, j->buf, len, at + REC_HDR))
			break;
		hdr_encode(want, j->nonce, p.seq, j->buf, len);
		if (memcmp(h, want, REC_HDR) != 0)
			break; /* torn or stale payload */
		if (p.seq > skip) {
			rc = cb(arg, p.seq, j->buf, len);
			if (rc)
				break;
			*last = p.seq;
		}
		p.lpos += (at - p.off) + rec_bytes(len);
		p.off = at + rec_bytes(len);
		p.seq++;
	}
	j->head = p;
	return rc;
}

int sjournal_start(struct sjournal *j, uint64_t next_seq)
{
	uint64_t nonce = new_nonce(j->nonce);
	struct sj_point p = { .seq = next_seq, .off = j->head.off, .lpos = 0 };
	int rc = sb_write(j, nonce, p);

	if (rc)
		return rc;
	j->nonce = nonce;
	j->tail = j->head = p;
	return 0;
}

uint64_t sjournal_next_seq(const struct sjournal *j)
{
	return j->head.seq;
}

/* Ring bytes a record of n bytes takes at the head: n, plus the end of the ring it skips
 * when it does not fit there. */
static uint64_t need_at_head(const struct sjournal *j, uint64_t n)
{
	return (j->head.off + n > j->size ? j->size - j->head.off : 0) + n;
}

int sjournal_reserve(struct sjournal *j, size_t len)
{
	uint64_t n = rec_bytes(len);
	int rc = 0;

	if (n > j->ring / 2 || len > UINT32_MAX)
		return -E2BIG;
	pthread_mutex_lock(&j->lock);
	for (;;) {
		uint64_t need = need_at_head(j, n);

		if (j->stopped) {
			rc = -ESHUTDOWN;
			break;
		}
		if (j->head.lpos - j->tail.lpos + need + PAGE <= j->ring)
			break;
		j->waiting = true;
		pthread_cond_signal(&j->trim_cv);
		pthread_cond_wait(&j->room_cv, &j->lock);
	}
	j->waiting = false;
	pthread_mutex_unlock(&j->lock);
	return rc;
}

/*
 * The record's last page is written to its end (zeros past the record, which the next
 * record overwrites; sjournal_reserve keeps a page of room for them): a write that ends
 * inside a page that is not in the page cache would first read that page from the disk.
 * The page a record starts in was written by the record before it.
 */
int sjournal_append(struct sjournal *j, const void *payload, size_t len)
{
	static const uint8_t pad[PAGE + REC_ALIGN];
	uint64_t n = rec_bytes(len), at = j->head.off, skipped = 0, end;
	uint8_t h[REC_HDR];
	struct iovec iov[3];
	size_t total = REC_HDR + len;
	int rc;

	if (n > j->ring / 2 || len > UINT32_MAX)
		return -E2BIG;
	if (at + n > j->size) {
		skipped = j->size - at;
		at = SJ_HDR_BYTES;
	}
	hdr_encode(h, j->nonce, j->head.seq, payload, len);
	iov[0] = (struct iovec){ .iov_base = h, .iov_len = REC_HDR };
	iov[1] = (struct iovec){ .iov_base = (void *)payload, .iov_len = len };
	end = (at + n + PAGE - 1) / PAGE * PAGE;
	if (end > j->size)
		end = j->size;
	iov[2] = (struct iovec){ .iov_base = (void *)pad, .iov_len = (size_t)(end - at - total) };
	{
		uint64_t off = at;
		int i = 0;

		rc = 0;
		while (i < 3 && !rc) {
			ssize_t w = pwritev(j->fd, iov + i, 3 - i, (off_t)off);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				rc = w < 0 ? -errno : -EIO;
				break;
			}
			off += (uint64_t)w;
			while (i < 3 && (size_t)w >= iov[i].iov_len) {
				w -= (ssize_t)iov[i].iov_len;
				i++;
			}
			if (i < 3) {
				iov[i].iov_base = (uint8_t *)iov[i].iov_base + w;
				iov[i].iov_len -= (size_t)w;
			}
		}
	}
	if (rc)
		return rc;
	pthread_mutex_lock(&j->lock);
	j->head.lpos += skipped + n;
	j->head.off = at + n;
	j->head.seq++;
	if (j->head.lpos - j->tail.lpos > j->ring / 2)
		pthread_cond_signal(&j->trim_cv);
	pthread_mutex_unlock(&j->lock);
	return 0;
}

int sjournal_skip(struct sjournal *j)
{
	struct sj_point p = sjournal_head(j);

	p.seq++;
	pthread_mutex_lock(&j->lock);
	j->head = p;
	pthread_mutex_unlock(&j->lock);
	return sjournal_trim(j, p);
}

int sjournal_sync(struct sjournal *j)
{
	return sync_fd(j->fd);
}

bool sjournal_wait_trim(struct sjournal *j)
{
	bool go;

	pthread_mutex_lock(&j->lock);
	for (;;) {
		uint64_t used = j->head.lpos - j->tail.lpos;

		if (j->stopped || used > j->ring / 2 || (j->waiting && used > 0))
			break;
		pthread_cond_wait(&j->trim_cv, &j->lock);
	}
	go = !j->stopped;
	pthread_mutex_unlock(&j->lock);
	return go;
}

struct sj_point sjournal_head(struct sjournal *j)
{
	struct sj_point p;

	pthread_mutex_lock(&j->lock);
	p = j->head;
	pthread_mutex_unlock(&j->lock);
	return p;
}

int sjournal_trim(struct sjournal *j, struct sj_point p)
{
	int rc = 0;

	pthread_mutex_lock(&j->sb_lock);
	if (p.lpos > j->tail.lpos || p.seq > j->tail.seq)
		rc = sb_write(j, j->nonce, p);
	pthread_mutex_unlock(&j->sb_lock);
	if (rc)
		return rc;
	pthread_mutex_lock(&j->lock);
	if (p.lpos >= j->tail.lpos && p.seq >= j->tail.seq)
		j->tail = p;
	pthread_cond_broadcast(&j->room_cv);
	pthread_mutex_unlock(&j->lock);
	return 0;
}

void sjournal_stop(struct sjournal *j)
{
	pthread_mutex_lock(&j->lock);
	j->stopped = true;
	pthread_cond_broadcast(&j->room_cv);
	pthread_cond_broadcast(&j->trim_cv);
	pthread_mutex_unlock(&j->lock);
}

void sjournal_usage(struct sjournal *j, uint64_t *used, uint64_t *ring)
{
	pthread_mutex_lock(&j->lock);
	*used = j->head.lpos - j->tail.lpos;
	*ring = j->ring;
	pthread_mutex_unlock(&j->lock);
}
