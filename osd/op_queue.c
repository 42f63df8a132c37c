/* op_queue — see op_queue.h. One mutex + condvar + FIFO per shard. A push signals the
 * condvar only when the shard thread sleeps on it (and only once per sleep): a shard that is
 * running drains everything queued before it sleeps again, so a burst of pushes (one
 * messenger read that parsed several ops) costs at most one wakeup.
 *
 * `busy` is the shard's ownership: set while its thread runs a batch or while another
 * thread runs one item inline (op_queue_run_or_push); whoever sets it runs the shard's
 * handler, nobody else does until it is cleared. */
#include "osd/op_queue.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/msg.h"
#include "common/util.h"

/* ops run before the messenger wake-ups they deferred are flushed (bounds reply latency) */
#define OQ_DEFER_MAX 8

struct oq_shard {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct oq_item *head, *tail; /* protected by lock */
	unsigned depth;              /* protected by lock */
	bool stop;                   /* protected by lock */
	bool sleeping;               /* protected by lock: waiting, not yet signalled */
	bool busy;                   /* protected by lock: someone runs the handler */
	pthread_t thread;
	struct op_queue *q;
	unsigned idx;
};

static __thread bool oq_inline_now;

struct op_queue {
	unsigned n;
	oq_handler_t handler;
	void *arg;
	struct oq_shard *shards;
};

static void *shard_main(void *p)
{
	struct oq_shard *s = p;
	struct oq_item *batch, *it;
	bool batch_done = false;
	unsigned n;
	char name[16];

	snprintf(name, sizeof(name), "osd-shard%u", s->idx);
	pthread_setname_np(pthread_self(), name);
	for (;;) {
		pthread_mutex_lock(&s->lock);
		if (batch_done) {
			s->busy = false;
			batch_done = false;
		}
		while (s->busy || (!s->head && !s->stop)) {
			s->sleeping = true;
			pthread_cond_wait(&s->cond, &s->lock);
		}
		s->sleeping = false;
		if (!s->head && s->stop) {
			pthread_mutex_unlock(&s->lock);
			return NULL;
		}
		batch = s->head;
		s->head = s->tail = NULL;
		s->depth = 0;
		s->busy = batch_done = true;
		pthread_mutex_unlock(&s->lock);
		/* replies and repops of the whole batch wake each messenger worker once */
		msg_defer_begin();
		n = 0;
		while ((it = batch)) {
			batch = it->next;
			it->next = NULL;
			s->q->handler(s->q->arg, s->idx, it);
			if (++n % OQ_DEFER_MAX == 0)
				msg_defer_flush();
		}
		msg_defer_end();
	}
}

struct op_queue *op_queue_create(unsigned nshards, oq_handler_t handler, void *arg)
{
	struct op_queue *q;
	unsigned i;

	if (!nshards)
		nshards = 1;
	q = calloc(1, sizeof(*q));
	if (!q)
		return NULL;
	q->shards = calloc(nshards, sizeof(*q->shards));
	if (!q->shards)
		goto e_free;
	q->handler = handler;
	q->arg = arg;
	for (i = 0; i < nshards; i++) {
		struct oq_shard *s = &q->shards[i];

		pthread_mutex_init(&s->lock, NULL);
		pthread_cond_init(&s->cond, NULL);
		s->q = q;
		s->idx = i;
		if (pthread_create(&s->thread, NULL, shard_main, s))
			goto e_threads;
		q->n = i + 1;
	}
	return q;
e_threads:
	op_queue_destroy(q);
	errno = EAGAIN;
	return NULL;
e_free:
	free(q);
	return NULL;
}

void op_queue_destroy(struct op_queue *q)
{
	if (!q)
		return;
	for (unsigned i = 0; i < q->n; i++) {
		struct oq_shard *s = &q->shards[i];

		pthread_mutex_lock(&s->lock);
		s->stop = true;
		pthread_cond_signal(&s->cond);
		pthread_mutex_unlock(&s->lock);
		pthread_join(s->thread, NULL);
		pthread_mutex_destroy(&s->lock);
		pthread_cond_destroy(&s->cond);
	}
	free(q->shards);
	free(q);
}

unsigned op_queue_nshards(const struct op_queue *q)
{
	return q->n;
}

unsigned op_queue_shard_of(const struct op_queue *q, struct pg_id pg)
{
	uint64_t h = ((uint64_t)pg.pool * 0x9E3779B97F4A7C15ull) ^ ((uint64_t)pg.ps * 0xff51afd7ed558ccdull);

	h ^= h >> 33;
	return (unsigned)(h % q->n);
}

/* Links it at the tail (or head) of the shard's FIFO and wakes the thread if it sleeps. */
static void shard_link(struct oq_shard *s, struct oq_item *it, bool front)
{
	pthread_mutex_lock(&s->lock);
	if (front) {
		it->next = s->head;
		s->head = it;
		if (!s->tail)
			s->tail = it;
	} else {
		it->next = NULL;
		if (s->tail)
			s->tail->next = it;
		else
			s->head = it;
		s->tail = it;
	}
	s->depth++;
	if (s->sleeping) {
		s->sleeping = false;
		pthread_cond_signal(&s->cond);
	}
	pthread_mutex_unlock(&s->lock);
}

void op_queue_push(struct op_queue *q, unsigned shard, struct oq_item *it)
{
	it->enq_ns = now_mono_ns();
	shard_link(&q->shards[shard % q->n], it, false);
}

void op_queue_push_front(struct op_queue *q, unsigned shard, struct oq_item *it)
{
	shard_link(&q->shards[shard % q->n], it, true);
}

bool op_queue_run_or_push(struct op_queue *q, unsigned shard, struct oq_item *it)
{
	struct oq_shard *s = &q->shards[shard % q->n];

	it->next = NULL;
	it->enq_ns = now_mono_ns();
	pthread_mutex_lock(&s->lock);
	if (s->head || s->busy || !s->sleeping || s->stop || oq_inline_now) {
		pthread_mutex_unlock(&s->lock);
		op_queue_push(q, shard, it);
		return false;
	}
	s->busy = true;
	pthread_mutex_unlock(&s->lock);
	oq_inline_now = true;
	q->handler(q->arg, s->idx, it);
	oq_inline_now = false;
	pthread_mutex_lock(&s->lock);
	s->busy = false;
	if ((s->head || s->stop) && s->sleeping) { /* the thread takes over (or stops) */
		s->sleeping = false;
		pthread_cond_signal(&s->cond);
	}
	pthread_mutex_unlock(&s->lock);
	return true;
}

bool op_queue_inline(void)
{
	return oq_inline_now;
}

unsigned op_queue_depth(struct op_queue *q, unsigned shard)
{
	struct oq_shard *s = &q->shards[shard % q->n];
	unsigned d;

	pthread_mutex_lock(&s->lock);
	d = s->depth;
	pthread_mutex_unlock(&s->lock);
	return d;
}
