/*
 * store_journal — the store's write-ahead journal: a ring of checksummed records in the file
 * "journal", written in full at mkfs, so that a sync only ever overwrites blocks the file
 * already has (on ext4 a sync of an append also writes the inode: three block requests
 * instead of two). RocksDB then runs with its WAL off; docs/store.md "The journal" says how
 * the store uses it (what a record holds, replay, trim).
 *
 * Layout: bytes [0, 4096) hold two superblock copies (at 0 and 512; the valid one with the
 * higher generation wins, so a torn superblock write loses nothing): the ring's size, the
 * nonce of the current life and where its oldest needed record (the tail) is. The ring is
 * [4096, size). A record is a 40-byte header (magic, version, nonce, seq, payload length,
 * XXH3 of header and payload) and the payload. Records follow each other; one that does
 * not fit before the end of the file goes to the ring's start. Seqs are consecutive.
 * Every open starts a new life with a new nonce, so records left over from an earlier
 * life (torn writes, never acknowledged) can never be taken for records of this one.
 *
 * One thread appends (the store's apply thread); any thread may sync; one thread trims.
 * Errors are negative errno.
 */
#ifndef CAIRN_OSD_STORE_JOURNAL_H
#define CAIRN_OSD_STORE_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SJ_HDR_BYTES 4096u /* superblock area before the ring */
#define SJ_MIN_SIZE (1u << 20)

struct sjournal;

/* A position in the ring: the record seq that goes (or went) there. */
struct sj_point {
	uint64_t seq;
	uint64_t off;  /* file offset */
	uint64_t lpos; /* bytes of ring consumed in this life up to here */
};

/* mkfs: creates path (size bytes, every byte written, synced). -EEXIST if it exists,
 * -EINVAL for a size under SJ_MIN_SIZE. */
int sjournal_create(const char *path, uint64_t size);
/* Opens path and reads its superblock: -ENOENT (no journal: the store uses RocksDB's WAL),
 * -EIO (no valid superblock). Nothing is written until sjournal_start. */
int sjournal_open(struct sjournal **out, const char *path);
void sjournal_close(struct sjournal *j);

/* Replay: calls cb for every record of the chain from the tail whose seq is > skip, in seq
 * order; stops at the first record that is missing, torn or from another life. *last: the
 * highest seq found (skip if none higher). A cb error stops and is returned. */
typedef int (*sj_replay_cb)(void *arg, uint64_t seq, const uint8_t *payload, size_t len);
int sjournal_replay(struct sjournal *j, uint64_t skip, sj_replay_cb cb, void *arg,
		    uint64_t *last);
/* Starts a new life after replay: a fresh nonce; the ring is empty, its tail just after
 * the last record replay found; the next record gets next_seq. Writes and syncs the
 * superblock. */
int sjournal_start(struct sjournal *j, uint64_t next_seq);

/* The seq the next record gets. */
uint64_t sjournal_next_seq(const struct sjournal *j);
/* Waits until a record with a len-byte payload fits (asking the trimmer for room), or the
 * journal is stopped (-ESHUTDOWN); -E2BIG if it can never fit. Appender only. */
int sjournal_reserve(struct sjournal *j, size_t len);
/* Writes the next record (after sjournal_reserve for len) into the page cache: durable
 * at the next sjournal_sync. Appender only. */
int sjournal_append(struct sjournal *j, const void *payload, size_t len);
/* Gives the next seq to a batch written elsewhere (synced through RocksDB's WAL: too large
 * for the ring, which a checkpoint emptied first): the ring stays empty, its tail moves
 * past that seq (superblock written and synced). Appender only. */
int sjournal_skip(struct sjournal *j);
/* fdatasync: every record appended before the call is durable when it returns 0. */
int sjournal_sync(struct sjournal *j);

/* Trimmer: waits until the ring is half full or the appender waits for room; false when
 * stopped. */
bool sjournal_wait_trim(struct sjournal *j);
/* Where the next record goes (records before it are the ones a trim to it drops). */
struct sj_point sjournal_head(struct sjournal *j);
/* Drops the records before p (their effects are persistent elsewhere): writes and syncs the
 * superblock, then frees their room. */
int sjournal_trim(struct sjournal *j, struct sj_point p);
/* Wakes every waiter; reserve and wait_trim fail from then on. */
void sjournal_stop(struct sjournal *j);

/* Bytes of ring in use (tail to head) and the ring's size, for counters and tests. */
void sjournal_usage(struct sjournal *j, uint64_t *used, uint64_t *ring);

#endif
