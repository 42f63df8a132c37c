/* test_store_journal — the store's journal ring (osd/store_journal.c) on a real file:
 * records come back from replay in order with their bytes across wraps and trims; a torn
 * record ends the chain; records of an earlier life are never replayed, even where one sits
 * exactly where the new life's next record would (the test fails if a new life keeps the
 * old nonce); a torn superblock copy falls back to the
 * other; sizes are checked; an appender and a trimmer thread never deadlock. */
// timeout: 60
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "osd/store_journal.h"

#define MAXREC 20000

struct fx {
	char dir[64], path[96];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/test_store_journal.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/journal", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* Record seq's payload: its length and bytes follow from seq (and the life's tag). */
static size_t rec_len(uint64_t seq) { return 1 + (size_t)((seq * 2654435761u) % MAXREC); }

static void rec_fill(uint8_t *b, uint64_t seq, uint8_t tag)
{
	size_t n = rec_len(seq);

	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(seq * 31 + i * 7 + tag);
}

static uint8_t buf[MAXREC];

static void append(struct sjournal *j, uint64_t seq, uint8_t tag)
{
	assert_int_equal(sjournal_next_seq(j), seq);
	rec_fill(buf, seq, tag);
	assert_int_equal(sjournal_reserve(j, rec_len(seq)), 0);
	assert_int_equal(sjournal_append(j, buf, rec_len(seq)), 0);
}

struct seen {
	uint64_t first, next; /* seqs expected: first, first+1, ... */
	uint8_t tag;
	int bad;
};

static int check_cb(void *arg, uint64_t seq, const uint8_t *p, size_t len)
{
	struct seen *s = arg;
	uint8_t want[MAXREC];

	if (seq != s->next || len != rec_len(seq))
		s->bad++;
	else {
		rec_fill(want, seq, s->tag);
		if (memcmp(want, p, len))
			s->bad++;
	}
	s->next = seq + 1;
	return 0;
}

static struct sjournal *reopen(struct fx *f, struct sjournal *j)
{
	sjournal_close(j);
	assert_int_equal(sjournal_open(&j, f->path), 0);
	return j;
}

/* appends with trims to the head whenever the ring is over half full; replay after a
 * reopen yields exactly the records after the last trim */
static void test_wrap_trim_replay(void **state)
{
	struct fx *f = *state;
	struct sjournal *j;
	struct seen s = { 0 };
	uint64_t last, used, ring, total = 0, first = 1;

	assert_int_equal(sjournal_create(f->path, 1u << 20), 0);
	assert_int_equal(sjournal_create(f->path, 1u << 20), -EEXIST);
	assert_int_equal(sjournal_open(&j, f->path), 0);
	assert_int_equal(sjournal_replay(j, 0, check_cb, &s, &last), 0);
	assert_int_equal(last, 0);
	assert_int_equal(sjournal_start(j, 1), 0);
	for (uint64_t seq = 1; seq <= 600; seq++) {
		sjournal_usage(j, &used, &ring);
		if (used > ring / 2) {
			assert_int_equal(sjournal_trim(j, sjournal_head(j)), 0);
			first = seq;
		}
		append(j, seq, 0);
		total += rec_len(seq);
	}
	assert_true(total > 3 * ring); /* wrapped several times */
	j = reopen(f, j);
	s = (struct seen){ .first = first, .next = first };
	assert_int_equal(sjournal_replay(j, 0, check_cb, &s, &last), 0);
	assert_int_equal(s.bad, 0);
	assert_int_equal(last, 600);
	assert_int_equal(s.next, 601);
	/* skip: only records past it are handed over */
	j = reopen(f, j);
	s = (struct seen){ .next = 590 };
	assert_int_equal(sjournal_replay(j, 589, check_cb, &s, &last), 0);
	assert_int_equal(s.bad, 0);
	assert_int_equal(s.next, 601);
	sjournal_close(j);
}

/* a flipped byte in a record's payload ends the chain before that record */
static void test_torn_record(void **state)
{
	struct fx *f = *state;
	struct sjournal *j;
	struct sj_point at5 = { 0 };
	struct seen s = { .next = 1 };
	uint64_t last;
	int fd;
	uint8_t b;

	assert_int_equal(sjournal_create(f->path, 1u << 20), 0);
	assert_int_equal(sjournal_open(&j, f->path), 0);
	assert_int_equal(sjournal_replay(j, 0, check_cb, &s, &last), 0);
	assert_int_equal(sjournal_start(j, 1), 0);
	for (uint64_t seq = 1; seq <= 10; seq++) {
		if (seq == 5)
			at5 = sjournal_head(j);
		append(j, seq, 0);
	}
	sjournal_close(j);
	fd = open(f->path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &b, 1, (off_t)at5.off + 40 + 3), 1);
	b ^= 0x10;
	assert_int_equal(pwrite(fd, &b, 1, (off_t)at5.off + 40 + 3), 1);
	close(fd);
	assert_int_equal(sjournal_open(&j, f->path), 0);
	s = (struct seen){ .next = 1 };
	assert_int_equal(sjournal_replay(j, 0, check_cb, &s, &last), 0);
	assert_int_equal(s.bad, 0);
	assert_int_equal(last, 4);
	/* the new life starts where record 5 was; a new record 5 of the same length lands
	 * exactly there, and the old record 6 right after it is from the old life */
	assert_int_equal(sjournal_start(j, 5), 0);
	append(j, 5, 0x55);
	j = reopen(f, j);
	s = (struct seen){ .next = 5, .tag = 0x55 };
	assert_int_equal(sjournal_replay(j, 0, check_cb, &s, &last), 0);
	assert_int_equal(s.bad, 0);
	assert_int_equal(last, 5);
	sjournal_close(j);
}

struct lens {
	uint64_t n;
	size_t len[4];
};

static int lens_cb(void *arg, uint64_t seq, const uint8_t *p, size_t len)
{
	struct lens *l = arg;

	(void)seq;
	(void)p;
	if (l->n < 4)
		l->len[l->n] = len;
	l->n++;
	return 0;
}

/* a record of the old life exactly where the new life's next record goes (the new record
 * ends on a page boundary, so nothing of the old one is overwritten) is not replayed */
static void test_old_life_at_next_offset(void **state)
{
	struct fx *f = *state;
	struct sjournal *j;
	struct lens l = { 0 };
	uint64_t last;
	const size_t len = 2 * 4096 - 40; /* record = header + payload = two pages */
	int fd;

	memset(buf, 0xab, sizeof(buf));
	assert_int_equal(sjournal_create(f->path, 1u << 20), 0);
	assert_int_equal(sjournal_open(&j, f->path), 0);
	assert_int_equal(sjournal_replay(j, 0, lens_cb, &l, &last), 0);
	assert_int_equal(sjournal_start(j, 1), 0);
	assert_int_equal(sjournal_head(j).off % 4096, 0);
	assert_int_equal(sjournal_append(j, buf, len), 0);
	assert_int_equal(sjournal_append(j, buf, 100), 0);
	sjournal_close(j);
	/* record 1 torn: replay finds nothing, the new life starts where it was */
	fd = open(f->path, O_RDWR);
	assert_int_equal(pwrite(fd, "x", 1, 4096 + 100), 1);
	close(fd);
	assert_int_equal(sjournal_open(&j, f->path), 0);
	assert_int_equal(sjournal_replay(j, 0, lens_cb, &l, &last), 0);
	assert_int_equal(l.n, 0);
	assert_int_equal(sjournal_start(j, 1), 0);
	assert_int_equal(sjournal_append(j, buf, len), 0);
	j = reopen(f, j);
	assert_int_equal(sjournal_replay(j, 0, lens_cb, &l, &last), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.len[0], len);
	assert_int_equal(last, 1);
	sjournal_close(j);
}

/* a torn newest superblock copy: the older one is used; both torn: -EIO */
static void test_superblock_copies(void **state)
{
	struct fx *f = *state;
	struct sjournal *j;
	struct seen s = { .next = 1 };
	uint64_t last;
	uint8_t junk[16] = { 0xff, 0xee };
	int fd;

	assert_int_equal(sjournal_create(f->path, 2u << 20), 0); /* superblock generation 1 */
	assert_int_equal(sjournal_open(&j, f->path), 0);
	assert_int_equal(sjournal_replay(j, 0, check_cb, &s, &last), 0);
	assert_int_equal(sjournal_start(j, 1), 0);		 /* generation 2: copy at 0 */
	for (uint64_t seq = 1; seq <= 3; seq++)
		append(j, seq, 0);
	sjournal_close(j);
	fd = open(f->path, O_RDWR);
	assert_int_equal(pwrite(fd, junk, sizeof(junk), 8), (ssize_t)sizeof(junk));
	/* the copy at 512 (mkfs, older life): its nonce does not match the records */
	assert_int_equal(sjournal_open(&j, f->path), 0);
	s = (struct seen){ .next = 1 };
	assert_int_equal(sjournal_replay(j, 0, check_cb, &s, &last), 0);
	assert_int_equal(last, 0);
	sjournal_close(j);
	assert_int_equal(pwrite(fd, junk, sizeof(junk), 512 + 8), (ssize_t)sizeof(junk));
	close(fd);
	assert_int_equal(sjournal_open(&j, f->path), -EIO);
	unlink(f->path);
	assert_int_equal(sjournal_create(f->path, 4096), -EINVAL);
	assert_int_equal(sjournal_open(&j, f->path), -ENOENT);
}

/* a record over half the ring never fits */
static void test_too_big(void **state)
{
	struct fx *f = *state;
	struct sjournal *j;
	struct seen s = { .next = 1 };
	uint64_t last;

	assert_int_equal(sjournal_create(f->path, 1u << 20), 0);
	assert_int_equal(sjournal_open(&j, f->path), 0);
	assert_int_equal(sjournal_replay(j, 0, check_cb, &s, &last), 0);
	assert_int_equal(sjournal_start(j, 1), 0);
	assert_int_equal(sjournal_reserve(j, 600u << 10), -E2BIG);
	assert_int_equal(sjournal_reserve(j, 400u << 10), 0);
	/* skipping a seq (its batch went elsewhere) leaves the ring empty */
	assert_int_equal(sjournal_skip(j), 0);
	assert_int_equal(sjournal_next_seq(j), 2);
	append(j, 2, 0);
	j = reopen(f, j);
	s = (struct seen){ .next = 2 };
	assert_int_equal(sjournal_replay(j, 0, check_cb, &s, &last), 0);
	assert_int_equal(s.bad, 0);
	assert_int_equal(last, 2);
	sjournal_close(j);
}

static void *trimmer(void *arg)
{
	struct sjournal *j = arg;
	long n = 0;

	while (sjournal_wait_trim(j)) {
		if (sjournal_trim(j, sjournal_head(j)))
			break;
		n++;
	}
	return (void *)n;
}

/* an appender that fills the ring waits for the trimmer thread, never forever */
static void test_trimmer_thread(void **state)
{
	struct fx *f = *state;
	struct sjournal *j;
	struct seen s = { .next = 1 };
	pthread_t t;
	void *trims;
	uint64_t last;

	assert_int_equal(sjournal_create(f->path, 1u << 20), 0);
	assert_int_equal(sjournal_open(&j, f->path), 0);
	assert_int_equal(sjournal_replay(j, 0, check_cb, &s, &last), 0);
	assert_int_equal(sjournal_start(j, 1), 0);
	uint64_t bytes = 0;

	assert_int_equal(pthread_create(&t, NULL, trimmer, j), 0);
	for (uint64_t seq = 1; seq <= 2000; seq++) {
		append(j, seq, 1);
		bytes += 40 + rec_len(seq); /* header + payload, before any padding */
	}
	sjournal_stop(j);
	pthread_join(t, &trims);
	/* a trim frees at most the whole ring: every ring's worth past the first needed one
	 * (how many more depends on how the two threads interleave) */
	assert_true(bytes > 4 * (1u << 20));
	assert_true((long)trims >= (long)(bytes / (1u << 20)) - 1);
	assert_int_equal(sjournal_reserve(j, 10), -ESHUTDOWN);
	sjournal_close(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_wrap_trim_replay, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_torn_record, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_old_life_at_next_offset, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_superblock_copies, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_too_big, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_trimmer_thread, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
