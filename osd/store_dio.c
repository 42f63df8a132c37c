/*
 * store_dio — O_DIRECT slot writes off the apply thread (contract in store_dio.h).
 *
 * Buffers cycle free -> apply thread (filling) -> queue -> a writer -> free. There are
 * depth + 1 of them, so the apply thread can fill one while depth are written. Writes to
 * the same bytes never meet: a slot is written once per allocation, freed slots go back to
 * the allocator only after the transaction that freed them is durable, and a transaction
 * that fails waits for its writes before its slots are given back (store_apply.c).
 */
#include "osd/store_dio.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DIO_MAX_DEPTH 16

struct dio_req {
	uint8_t *buf;
	size_t len;
	uint64_t off;
};

struct store_dio {
	int fd;
	unsigned depth, nbuf;
	uint8_t *bufs[DIO_MAX_DEPTH + 1];

	pthread_mutex_t lock;
	pthread_cond_t work_cv, done_cv;
	uint8_t *free_bufs[DIO_MAX_DEPTH + 1]; /* stack */
	unsigned nfree;
	struct dio_req q[DIO_MAX_DEPTH + 1]; /* ring of submitted, not yet taken */
	unsigned qhead, qlen;
	unsigned busy; /* submitted and not yet written */
	int err;       /* sticky: -EIO once a write failed */
	bool stopping;
	pthread_t thr[DIO_MAX_DEPTH];
	unsigned nthr;
};

static int write_all(int fd, const uint8_t *p, size_t n, uint64_t off)
{
	while (n) {
		ssize_t w = pwrite(fd, p, n, (off_t)off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -EIO;
		p += w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

static void *writer(void *arg)
{
	struct store_dio *d = arg;

	pthread_setname_np(pthread_self(), "store-dio");
	pthread_mutex_lock(&d->lock);
	for (;;) {
		while (!d->qlen && !d->stopping)
			pthread_cond_wait(&d->work_cv, &d->lock);
		if (!d->qlen)
			break;
		struct dio_req r = d->q[d->qhead];

		d->qhead = (d->qhead + 1) % d->nbuf;
		d->qlen--;
		pthread_mutex_unlock(&d->lock);
		int rc = write_all(d->fd, r.buf, r.len, r.off);
		pthread_mutex_lock(&d->lock);
		if (rc && !d->err)
			d->err = rc;
		d->free_bufs[d->nfree++] = r.buf;
		d->busy--;
		pthread_cond_broadcast(&d->done_cv);
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

int store_dio_start(struct store_dio **out, int fd, unsigned depth, size_t bufsize, size_t align)
{
	struct store_dio *d;
	int rc = 0;

	*out = NULL;
	if (depth < 1 || depth > DIO_MAX_DEPTH || !bufsize)
		return -EINVAL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->fd = fd;
	d->depth = depth;
	d->nbuf = depth + 1;
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->work_cv, NULL);
	pthread_cond_init(&d->done_cv, NULL);
	for (unsigned i = 0; i < d->nbuf; i++) {
		void *p;

		if (posix_memalign(&p, align, bufsize)) {
			rc = -ENOMEM;
			goto fail;
		}
		d->bufs[i] = p;
		d->free_bufs[d->nfree++] = p;
	}
	for (unsigned i = 0; i < depth; i++) {
		if (pthread_create(&d->thr[i], NULL, writer, d)) {
			rc = -EAGAIN;
			goto fail;
		}
		d->nthr++;
	}
	*out = d;
	return 0;
fail:
	store_dio_stop(d);
	return rc;
}

uint8_t *store_dio_buf(struct store_dio *d)
{
	uint8_t *b;

	pthread_mutex_lock(&d->lock);
	while (!d->nfree)
		pthread_cond_wait(&d->done_cv, &d->lock);
	b = d->free_bufs[--d->nfree];
	pthread_mutex_unlock(&d->lock);
	return b;
}

void store_dio_submit(struct store_dio *d, uint8_t *buf, size_t len, uint64_t off)
{
	pthread_mutex_lock(&d->lock);
	d->q[(d->qhead + d->qlen) % d->nbuf] = (struct dio_req){ buf, len, off };
	d->qlen++;
	d->busy++;
	pthread_cond_signal(&d->work_cv);
	pthread_mutex_unlock(&d->lock);
}

int store_dio_wait(struct store_dio *d)
{
	int rc;

	pthread_mutex_lock(&d->lock);
	while (d->busy)
		pthread_cond_wait(&d->done_cv, &d->lock);
	rc = d->err;
	pthread_mutex_unlock(&d->lock);
	return rc;
}

void store_dio_stop(struct store_dio *d)
{
	if (!d)
		return;
	pthread_mutex_lock(&d->lock);
	d->stopping = true; /* writers finish the queue first */
	pthread_cond_broadcast(&d->work_cv);
	pthread_mutex_unlock(&d->lock);
	for (unsigned i = 0; i < d->nthr; i++)
		pthread_join(d->thr[i], NULL);
	for (unsigned i = 0; i < d->nbuf; i++)
		free(d->bufs[i]);
	pthread_cond_destroy(&d->done_cv);
	pthread_cond_destroy(&d->work_cv);
	pthread_mutex_destroy(&d->lock);
	free(d);
}
