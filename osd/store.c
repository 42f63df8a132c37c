/*
 * store — open/close, the transaction pipeline, journal replay and checkpoints, and reads
 * (contract in store.h, layout in store_int.h, design and measurements in docs/store.md).
 *
 * Pipeline (apply, commit and trim threads per store, plus store_dio's writers of slot
 * data; a transaction moves left to right):
 *
 *   store_queue_txn ──> aq ──[apply thread]──> cq ──[commit thread]──> freed
 *                             build group batch      one journal sync for
 *                             (slot data: written    everything in cq,
 *                             by store_dio, then     on_commit each
 *                             fdatasync)
 *                             journal record, then
 *                             batch (WAL off)
 *                             on_applied each
 *
 * The apply thread takes what is queued (up to 64 transactions / 64 MiB) and builds it,
 * transaction after transaction, into one WriteBatchWithIndex (store_apply.c; a save point
 * undoes a transaction that fails), syncs the slot bytes they wrote (once), appends the
 * group's journal record (store_journal.c; write(2) into the page cache) and writes the
 * batch to the memtable with RocksDB's WAL off, so it is readable (on_applied) and
 * survives kill -9. The commit thread then makes everything applied so far durable with
 * one fdatasync of the journal and calls on_commit: while it syncs, the apply thread keeps
 * applying, and all of those transactions ride the next sync together (group commit). The
 * trim thread checkpoints: it flushes the memtables once the journal is half full, so that
 * its room can be reused. A store made without a journal writes the batch into RocksDB's
 * WAL instead and syncs that (rocksdb_flush_wal); it has no trim thread.
 *
 * Crash rule: a transaction is in one journal record (one WriteBatch), so replay after a
 * crash restores it whole or not at all; on_commit only after the record is synced.
 * Unsafe errors are sticky: a failed batch write, journal write or sync sets s->failed,
 * after which queued transactions fail with -EIO and new ones are refused until reopen.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "common/checksum.h"
#include "common/config.h"
#include "common/log.h"
#include "common/util.h"
#include "osd/store_int.h"

#define DB_SUBDIR "/db"
#define DATA_FILE "/data"
#define JOURNAL_FILE "/journal"

static inline void ctr_add(uint64_t *c, uint64_t v) { __atomic_fetch_add(c, v, __ATOMIC_RELAXED); }
static inline uint64_t ctr_get(const uint64_t *c) { return __atomic_load_n(c, __ATOMIC_RELAXED); }

void store_count_csum_error(struct store *s) { ctr_add(&s->ctr.csum_errors, 1); }

static int db_err(char *err)
{
	int rc;

	if (!err)
		return 0;
	/* Status::Incomplete ("Result incomplete: ..."): a read under kBlockCacheTier needed
	 * the disk */
	rc = strncmp(err, "Result incomplete", 17) == 0 ? -EWOULDBLOCK : -EIO;
	rocksdb_free(err);
	return rc;
}

static char *db_path(const char *path)
{
	size_t n = strlen(path) + sizeof(DB_SUBDIR);
	char *p = malloc(n);

	if (p)
		snprintf(p, n, "%s" DB_SUBDIR, path);
	return p;
}

/* Blocks a memtable flush writes go into the block cache too (RocksDB's
 * prepopulate_block_cache = kFlushOnly, which its C API does not expose: set through an
 * options string, which keeps the rest of the table options, the shared cache included). */
static int cache_on_flush(struct store *s)
{
	rocksdb_options_t *n = rocksdb_options_create();
	char *err = NULL;

	if (!n)
		return -ENOMEM;
	rocksdb_get_options_from_string(s->opts,
					"block_based_table_factory={prepopulate_block_cache=kFlushOnly}",
					n, &err);
	if (err) {
		CLOG_ERR("store", "RocksDB refused prepopulate_block_cache: %s", err);
		rocksdb_free(err);
		rocksdb_options_destroy(n);
		return -EINVAL;
	}
	rocksdb_options_destroy(s->opts);
	s->opts = n;
	return 0;
}

/* RocksDB options from the conf; see docs/store.md for why each one. */
static int make_options(struct store *s, const struct cairn_conf *conf)
{
	int64_t blob_min = conf_int(conf, "store_blob_min_size");

	s->opts = rocksdb_options_create();
	s->bbto = rocksdb_block_based_options_create();
	s->cache = rocksdb_cache_create_lru((size_t)conf_int(conf, "store_cache_size"));
	s->wo = rocksdb_writeoptions_create();
	s->wo_sync = rocksdb_writeoptions_create();
	s->wo_nowal = rocksdb_writeoptions_create();
	s->ro = rocksdb_readoptions_create();
	if (!s->opts || !s->bbto || !s->cache || !s->wo || !s->wo_sync || !s->wo_nowal || !s->ro)
		return -ENOMEM;
	rocksdb_block_based_options_set_block_cache(s->bbto, s->cache);
	rocksdb_block_based_options_set_block_size(s->bbto,
						 (size_t)conf_int(conf, "store_block_size"));
	rocksdb_block_based_options_set_cache_index_and_filter_blocks(s->bbto, 1);
	/* most gets ask for a chunk that may be a hole, or an old version under newer L0 files */
	rocksdb_block_based_options_set_filter_policy(s->bbto, rocksdb_filterpolicy_create_bloom_full(10));
	rocksdb_options_set_memtable_whole_key_filtering(s->opts, 1);
	rocksdb_options_set_memtable_prefix_bloom_size_ratio(s->opts, 0.05);
	rocksdb_options_set_block_based_table_factory(s->opts, s->bbto);
	rocksdb_options_set_compression(s->opts, rocksdb_no_compression);
	s->write_buffer = (uint64_t)conf_int(conf, "store_write_buffer_size");
	rocksdb_options_set_write_buffer_size(s->opts, (size_t)s->write_buffer);
	rocksdb_options_set_max_write_buffer_number(s->opts, 4);
	rocksdb_options_set_max_background_jobs(s->opts, 2);
	rocksdb_options_set_bytes_per_sync(s->opts, 1 << 20);
	rocksdb_options_set_max_total_wal_size(s->opts, 512u << 20);
	/* a torn last record (kill -9 mid-write) is a transaction never acked: replay stops
	 * before it (kPointInTimeRecovery) */
	rocksdb_options_set_wal_recovery_mode(s->opts, 2);
	/* no WAL recycling: RocksDB 7.8 sets recycle_log_file_num to 0 under this recovery mode
	 * (its LOG says so), and with kSkipAnyCorruptedRecords, the one mode it allows, the
	 * first memtable flush crashed in DBImpl::MarkLogsSynced (docs/store.md) */
	if (blob_min > 0) {
		rocksdb_options_set_enable_blob_files(s->opts, 1);
		rocksdb_options_set_min_blob_size(s->opts, (uint64_t)blob_min);
		rocksdb_options_set_enable_blob_gc(s->opts, 1);
		rocksdb_options_set_blob_file_size(s->opts, 256u << 20);
	}
	rocksdb_writeoptions_set_sync(s->wo, 0);
	rocksdb_writeoptions_set_sync(s->wo_sync, 1);
	rocksdb_writeoptions_disable_WAL(s->wo_nowal, 1);
	s->journal_size = (uint64_t)conf_int(conf, "store_journal_size");
	s->max_object_size = (uint64_t)conf_int(conf, "store_max_object_size");
	if (s->max_object_size > STORE_OBJECT_SIZE_CAP)
		s->max_object_size = STORE_OBJECT_SIZE_CAP;
	s->max_txns = (uint64_t)conf_int(conf, "store_max_queued_txns");
	s->max_bytes = (uint64_t)conf_int(conf, "store_max_queued_bytes");
	s->sync = conf_bool(conf, "store_sync");
	s->commit_wait_ns = (uint64_t)conf_int(conf, "store_commit_wait") * 1000u;
	s->direct_min = (uint64_t)conf_int(conf, "store_direct_write_min");
	s->direct_io = conf_bool(conf, "store_direct_io");
	s->dio_depth = (unsigned)conf_int(conf, "store_dio_depth");
	s->slot_read_cache = conf_bool(conf, "store_slot_read_cache");
	s->direct_reads = conf_bool(conf, "store_direct_reads") && !s->slot_read_cache;
	if (conf_bool(conf, "store_cache_on_flush"))
		return cache_on_flush(s);
	return 0;
}

static void free_options(struct store *s)
{
	if (s->ro)
		rocksdb_readoptions_destroy(s->ro);
	if (s->wo)
		rocksdb_writeoptions_destroy(s->wo);
	if (s->wo_sync)
		rocksdb_writeoptions_destroy(s->wo_sync);
	if (s->wo_nowal)
		rocksdb_writeoptions_destroy(s->wo_nowal);
	if (s->opts)
		rocksdb_options_destroy(s->opts);
	if (s->bbto)
		rocksdb_block_based_options_destroy(s->bbto);
	if (s->cache)
		rocksdb_cache_destroy(s->cache);
}

/* Opens (creating with create) the DB at dbp with its two column families. */
static int db_open(struct store *s, const char *dbp, bool create, char **err)
{
	const char *names[2] = { "default", "data" };
	const rocksdb_options_t *cfo[2] = { s->opts, s->opts };

	if (create) {
		rocksdb_options_set_create_if_missing(s->opts, 1);
		rocksdb_options_set_create_missing_column_families(s->opts, 1);
		rocksdb_options_set_error_if_exists(s->opts, 1);
	}
	s->db = rocksdb_open_column_families(s->opts, dbp, 2, names, cfo, s->cf, err);
	if (*err)
		s->db = NULL;
	return *err ? -EIO : 0;
}

static void db_close(struct store *s)
{
	for (int i = 0; i < 2; i++)
		if (s->cf[i])
			rocksdb_column_family_handle_destroy(s->cf[i]);
	s->cf[0] = s->cf[1] = NULL;
	rocksdb_close(s->db);
	s->db = NULL;
}

static int db_get(struct store *s, rocksdb_readoptions_t *ro, const void *k, size_t kl,
		  char **v, size_t *vl)
{
	char *err = NULL;

	*v = rocksdb_get_cf(s->db, ro ? ro : s->ro, store_cf(s, k), k, kl, vl, &err);
	if (err)
		return db_err(err);
	return *v ? 0 : -ENOENT;
}

int store_mkfs(const char *path, const struct cairn_conf *conf)
{
	struct store s = { 0 };
	struct store_super sb = { .magic = STORE_MAGIC };
	struct store_totals tot = { .next_nid = 1 };
	struct cbuf b;
	char *err = NULL, *dbp = NULL;
	int64_t cs = conf_int(conf, "store_chunk_size");
	int rc;

	if (cs < 4096 || cs > (4 << 20) || (cs & (cs - 1)))
		return -EINVAL;
	{
		int64_t js = conf_int(conf, "store_journal_size");

		if (js != 0 && js < (int64_t)SJ_MIN_SIZE)
			return -EINVAL;
	}
	if (mkdir(path, 0755) && errno != EEXIST)
		return -errno;
	dbp = db_path(path);
	if (!dbp)
		return -ENOMEM;
	cbuf_init(&b);
	{
		struct stat st;

		if (stat(dbp, &st) == 0) {
			rc = -EEXIST;
			goto out_nodb;
		}
	}
	rc = make_options(&s, conf);
	if (rc)
		goto out;
	db_open(&s, dbp, true, &err);
	if (err) {
		rc = strstr(err, "exists") ? -EEXIST : -EIO;
		rocksdb_free(err);
		goto out;
	}
	sb.chunk_size = (uint32_t)cs;
	sb.created_ns = now_wall_ns();
	store_super_encode(&sb, &b);
	rocksdb_put_cf(s.db, s.wo_sync, s.cf[0], "S", 1, (const char *)b.data, b.len, &err);
	rc = db_err(err);
	cbuf_reset(&b);
	store_totals_encode(&tot, &b);
	if (!rc && !b.err) {
		rocksdb_put_cf(s.db, s.wo_sync, s.cf[0], "T", 1, (const char *)b.data, b.len, &err);
		rc = db_err(err);
	}
	if (!rc && b.err)
		rc = b.err;
	db_close(&s);
	if (!rc) {
		char dp[PATH_MAX];
		int fd;

		snprintf(dp, sizeof(dp), "%s" DATA_FILE, path);
		fd = open(dp, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0 || fsync(fd))
			rc = -errno;
		if (fd >= 0)
			close(fd);
		if (!rc && s.journal_size) {
			snprintf(dp, sizeof(dp), "%s" JOURNAL_FILE, path);
			rc = sjournal_create(dp, s.journal_size);
		}
	}
out:
	free_options(&s);
out_nodb:
	cbuf_free(&b);
	free(dbp);
	return rc;
}

/* Opens the slot file and marks the slots the "B" keys say are in use. */
static int open_data(struct store *s)
{
	size_t n = strlen(s->path) + sizeof(DATA_FILE);
	char *p = malloc(n), *err = NULL;
	rocksdb_iterator_t *it;
	int rc = 0;

	if (!p)
		return -ENOMEM;
	snprintf(p, n, "%s" DATA_FILE, s->path);
	s->datafd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	/* large slot writes bypass the page cache (one DMA instead of a copy into the cache
	 * and a writeback at fdatasync); reads stay buffered, the kernel keeps both coherent.
	 * A file system without O_DIRECT (tmpfs) just uses buffered writes. */
	if (s->direct_io && s->datafd >= 0 && s->chunk_size % STORE_DIRECT_ALIGN == 0)
		s->directfd = open(p, O_RDWR | O_CLOEXEC | O_DIRECT);
	free(p);
	if (s->datafd < 0)
		return -errno;
	it = rocksdb_create_iterator_cf(s->db, s->ro, s->cf[0]);
	for (rocksdb_iter_seek(it, "B", 1); rocksdb_iter_valid(it) && !rc; rocksdb_iter_next(it)) {
		size_t kl, vl;
		const uint8_t *k = (const uint8_t *)rocksdb_iter_key(it, &kl);
		const uint8_t *v = (const uint8_t *)rocksdb_iter_value(it, &vl);
		uint64_t g;

		if (kl < 1 || k[0] != 'B')
			break;
		if (kl != 9 || vl != STORE_BGROUP_BYTES) {
			rc = -EIO;
			break;
		}
		g = store_get_be64(k + 1);
		rc = store_pbits_set(s, g, v);
		for (uint64_t i = 0; i < STORE_BGROUP_BYTES * 8 && !rc; i++)
			if (v[i / 8] & (1u << (i % 8)))
				rc = store_alloc_mark(s, g * STORE_BGROUP_BYTES * 8 + i);
	}
	rocksdb_iter_get_error(it, &err);
	if (!rc)
		rc = db_err(err);
	else if (err)
		rocksdb_free(err);
	rocksdb_iter_destroy(it);
	return rc;
}

static void *apply_thread(void *arg);
static void *commit_thread(void *arg);
static void *trim_thread(void *arg);
static int fail_sticky(struct store *s, int err);

/* ---- journal ---------------------------------------------------------------------------- */

static const char jmark_key[1] = { 'J' };

/* Flushes both column families' memtables to SST files and waits. */
static int flush_all(struct store *s)
{
	rocksdb_flushoptions_t *fo = rocksdb_flushoptions_create();
	char *err = NULL;
	int rc = 0;

	if (!fo)
		return -ENOMEM;
	rocksdb_flushoptions_set_wait(fo, 1);
	for (int i = 0; i < 2 && !rc; i++) {
		rocksdb_flush_cf(s->db, fo, s->cf[i], &err);
		rc = db_err(err);
		err = NULL;
	}
	rocksdb_flushoptions_destroy(fo);
	return rc;
}

/* The seq of the "J" marker of column family i (0: none yet). Read without filling the
 * block cache; a marker in a block that fails RocksDB's checksum (bit rot in a neighbouring
 * data chunk, which the store's own checksums report on read) is read again unchecked. */
static int jmark_get(struct store *s, int i, uint64_t *seq)
{
	rocksdb_readoptions_t *ro = rocksdb_readoptions_create();
	char *err = NULL, *v = NULL;
	size_t vl = 0;
	int rc = -ENOMEM;

	*seq = 0;
	if (!ro)
		return rc;
	rocksdb_readoptions_set_fill_cache(ro, 0);
	for (int verify = 1; verify >= 0; verify--) {
		rocksdb_readoptions_set_verify_checksums(ro, (unsigned char)verify);
		v = rocksdb_get_cf(s->db, ro, s->cf[i], jmark_key, 1, &vl, &err);
		rc = db_err(err);
		err = NULL;
		if (rc != -EIO)
			break;
		if (verify)
			CLOG_WARN("store", "open %s: journal marker %d: block checksum fails, "
				  "reading it unchecked", s->path, i);
	}
	rocksdb_readoptions_destroy(ro);
	if (rc)
		return rc;
	if (v && vl != 8) {
		rocksdb_free(v);
		return -EIO;
	}
	if (v)
		*seq = store_get_be64((const uint8_t *)v);
	rocksdb_free(v);
	return 0;
}

struct replay_ctx {
	struct store *s;
	uint64_t mark[2]; /* per column family: records up to here are in its SST files */
	uint64_t records;
};

/* Applies one journal record to each column family it is not yet in (WAL off). */
static int replay_one(void *arg, uint64_t seq, const uint8_t *p, size_t len)
{
	struct replay_ctx *r = arg;
	struct store *s = r->s;
	rocksdb_writebatch_t *wb = rocksdb_writebatch_create();
	uint8_t be[8];
	struct cdec d;
	char *err = NULL;
	int rc = 0;

	if (!wb)
		return -ENOMEM;
	cdec_init(&d, p, len);
	while (dec_left(&d) && !rc) {
		const uint8_t *k, *v = NULL;
		uint32_t kl, vl = 0;
		uint8_t op = 0;
		int cf;

		dec_u8(&d, &op);
		dec_bytes(&d, &k, &kl);
		if (op == STORE_JREC_PUT)
			dec_bytes(&d, &v, &vl);
		if (d.err || kl == 0 || (op != STORE_JREC_PUT && op != STORE_JREC_DEL)) {
			rc = -EIO;
			break;
		}
		cf = store_cf(s, k) == s->cf[1];
		if (seq <= r->mark[cf])
			continue;
		if (op == STORE_JREC_PUT)
			rocksdb_writebatch_put_cf(wb, s->cf[cf], (const char *)k, kl, (const char *)v, vl);
		else
			rocksdb_writebatch_delete_cf(wb, s->cf[cf], (const char *)k, kl);
	}
	store_put_be64(be, seq);
	for (int i = 0; i < 2 && !rc; i++)
		if (seq > r->mark[i])
			rocksdb_writebatch_put_cf(wb, s->cf[i], jmark_key, 1, (const char *)be, 8);
	if (!rc) {
		rocksdb_write(s->db, s->wo_nowal, wb, &err);
		rc = db_err(err);
	}
	rocksdb_writebatch_destroy(wb);
	r->records += !rc;
	return rc;
}

/*
 * Open: replays the journal's records past each column family's marker, makes them
 * persistent in SST files, then starts the journal's new life after the last one.
 */
static int journal_recover(struct store *s)
{
	struct replay_ctx r = { .s = s };
	uint64_t last, next;
	int rc = jmark_get(s, 0, &r.mark[0]);

	if (!rc)
		rc = jmark_get(s, 1, &r.mark[1]);
	if (rc)
		return rc;
	rc = sjournal_replay(s->journal, r.mark[0] < r.mark[1] ? r.mark[0] : r.mark[1], replay_one,
			     &r, &last);
	if (!rc && r.records)
		rc = flush_all(s);
	if (rc)
		return rc;
	next = last;
	for (int i = 0; i < 2; i++)
		if (r.mark[i] > next)
			next = r.mark[i];
	if (r.records)
		CLOG_INFO("store", "open %s: journal: replayed %llu records, next %llu", s->path,
			  (unsigned long long)r.records, (unsigned long long)next + 1);
	return sjournal_start(s->journal, next + 1);
}

/* Waits until both column families have no immutable memtable left (flushed). */
static int wait_flushed(struct store *s)
{
	for (unsigned i = 0; i < 120000; i++) {
		uint64_t a = 1, b = 1;

		if (rocksdb_property_int_cf(s->db, s->cf[0], "rocksdb.num-immutable-mem-table", &a) ||
		    rocksdb_property_int_cf(s->db, s->cf[1], "rocksdb.num-immutable-mem-table", &b))
			return -EIO;
		if (a == 0 && b == 0)
			return 0;
		usleep(500);
	}
	return -ETIMEDOUT;
}

/*
 * Checkpoint: at one point between two batches (jlock), syncs the journal and switches
 * both memtables, so that SST files never hold a record the journal could lose; once the
 * memtables are flushed, the records before that point are dropped from the ring.
 */
static int journal_checkpoint(struct store *s)
{
	rocksdb_flushoptions_t *fo = rocksdb_flushoptions_create();
	struct sj_point p;
	char *err = NULL;
	int rc;

	if (!fo)
		return -ENOMEM;
	rocksdb_flushoptions_set_wait(fo, 0);
	pthread_mutex_lock(&s->jlock);
	p = sjournal_head(s->journal);
	rc = sjournal_sync(s->journal);
	for (int i = 0; i < 2 && !rc; i++) {
		rocksdb_flush_cf(s->db, fo, s->cf[i], &err);
		rc = db_err(err);
		err = NULL;
	}
	pthread_mutex_unlock(&s->jlock);
	rocksdb_flushoptions_destroy(fo);
	if (!rc)
		rc = wait_flushed(s);
	if (!rc)
		rc = sjournal_trim(s->journal, p);
	if (!rc)
		ctr_add(&s->ctr.journal_checkpoints, 1);
	return rc;
}

/*
 * Writes the group's batch: the journal record (page cache; durable at the commit
 * thread's sync), then the batch with the WAL off. A record too large for the ring goes
 * through RocksDB's WAL instead (synced), after a checkpoint emptied the ring.
 */
static int journal_write(struct store *s)
{
	uint64_t seq = sjournal_next_seq(s->journal);
	uint8_t be[8];
	char *err = NULL;
	int rc;

	store_put_be64(be, seq);
	for (int i = 0; i < 2; i++)
		rocksdb_writebatch_wi_put_cf(s->wb, s->cf[i], jmark_key, 1, (const char *)be, 8);
	if (s->jrec.err)
		return s->jrec.err;
	rc = sjournal_reserve(s->journal, s->jrec.len);
	if (rc == -E2BIG) {
		rc = journal_checkpoint(s);
		if (!rc) {
			rocksdb_write_writebatch_wi(s->db, s->wo_sync, s->wb, &err);
			rc = db_err(err);
		}
		if (!rc)
			rc = sjournal_skip(s->journal);
		return rc;
	}
	if (rc)
		return rc;
	pthread_mutex_lock(&s->jlock);
	rc = sjournal_append(s->journal, s->jrec.data, s->jrec.len);
	if (!rc) {
		rocksdb_write_writebatch_wi(s->db, s->wo_nowal, s->wb, &err);
		rc = db_err(err);
	}
	pthread_mutex_unlock(&s->jlock);
	return rc;
}

/* Opens the journal if the store has one: RocksDB runs with its WAL off, so its memtables
 * must only be flushed by checkpoints (write buffers larger than the ring can fill). */
static int journal_open(struct store *s)
{
	size_t n = strlen(s->path) + sizeof(JOURNAL_FILE);
	char *p = malloc(n);
	uint64_t used, ring;
	int rc;

	if (!p)
		return -ENOMEM;
	snprintf(p, n, "%s" JOURNAL_FILE, s->path);
	rc = sjournal_open(&s->journal, p);
	free(p);
	if (rc == -ENOENT)
		return 0;
	if (rc)
		return rc;
	sjournal_usage(s->journal, &used, &ring);
	if (s->write_buffer < 4 * ring)
		rocksdb_options_set_write_buffer_size(s->opts, (size_t)(4 * ring));
	return 0;
}

static void *trim_thread(void *arg)
{
	struct store *s = arg;

	pthread_setname_np(pthread_self(), "store-trim");
	while (sjournal_wait_trim(s->journal)) {
		int rc = journal_checkpoint(s);

		if (rc) {
			CLOG_ERR("store", "%s: journal checkpoint: %s", s->path, cairn_strerror(rc));
			fail_sticky(s, -EIO);
			sjournal_stop(s->journal); /* an appender waiting for room gives up */
			break;
		}
	}
	return NULL;
}

int store_open(struct store **out, const char *path, const struct cairn_conf *conf)
{
	struct store *s = calloc(1, sizeof(*s));
	struct store_super sb;
	char *err = NULL, *v = NULL;
	size_t vl;
	int rc;

	if (!s)
		return -ENOMEM;
	s->datafd = -1;
	s->directfd = -1;
	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->alloc_lock, NULL);
	pthread_mutex_init(&s->jlock, NULL);
	cbuf_init(&s->jrec);
	pthread_cond_init(&s->apply_cv, NULL);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&s->commit_cv, &ca);
		pthread_condattr_destroy(&ca);
	}
	pthread_cond_init(&s->space_cv, NULL);
	s->path = strdup(path);
	rc = s->path ? make_options(s, conf) : -ENOMEM;
	if (rc)
		goto fail;
	{
		char *dbp = db_path(path);
		struct stat st;

		if (!dbp) {
			rc = -ENOMEM;
			goto fail;
		}
		if (stat(dbp, &st)) {
			rc = -ENOENT;
			free(dbp);
			goto fail;
		}
		rc = journal_open(s);
		if (rc) {
			CLOG_ERR("store", "open %s: journal: %s", path, cairn_strerror(rc));
			free(dbp);
			goto fail;
		}
		db_open(s, dbp, false, &err);
		free(dbp);
		if (err) {
			rc = strstr(err, "does not exist") ? -ENOENT : -EIO;
			CLOG_ERR("store", "open %s: rocksdb: %s", path, err);
			rocksdb_free(err);
			goto fail;
		}
	}
	if (s->journal) {
		rc = journal_recover(s);
		if (rc) {
			CLOG_ERR("store", "open %s: journal replay: %s", path, cairn_strerror(rc));
			goto fail;
		}
	}
	rc = db_get(s, NULL, "S", 1, &v, &vl);
	if (!rc) {
		rc = store_super_decode(&sb, v, vl);
		rocksdb_free(v);
		if (rc == -EOPNOTSUPP)
			CLOG_ERR("store", "open %s: store format newer than this binary's (%u)",
				 path, STORE_FORMAT_V);
		else if (rc)
			rc = -EIO;
	}
	if (rc) {
		CLOG_ERR("store", "open %s: superblock: %s", path, cairn_strerror(rc));
		goto fail;
	}
	s->chunk_size = sb.chunk_size;
	if (sb.version < STORE_FORMAT_V) {
		/* readable as is (per-chunk records stay valid); mark it before writing runs,
		 * so that an older binary refuses it from now on */
		struct cbuf b;

		cbuf_init(&b);
		store_super_encode(&sb, &b);
		rc = b.err;
		if (!rc) {
			rocksdb_put_cf(s->db, s->wo_sync, s->cf[0], "S", 1, (const char *)b.data,
				       b.len, &err);
			rc = db_err(err);
			err = NULL;
		}
		cbuf_free(&b);
		if (rc)
			goto fail;
		CLOG_INFO("store", "open %s: format %u -> %u", path, sb.version, STORE_FORMAT_V);
	}
	rc = db_get(s, NULL, "T", 1, &v, &vl);
	if (!rc) {
		rc = store_totals_decode(&s->totals, v, vl) ? -EIO : 0;
		rocksdb_free(v);
	}
	if (rc)
		goto fail;
	rc = open_data(s);
	if (rc) {
		CLOG_ERR("store", "open %s: slot map: %s", path, cairn_strerror(rc));
		goto fail;
	}
	s->stat_objects = s->totals.objects;
	s->stat_stored = s->totals.stored;
	s->wb = rocksdb_writebatch_wi_create(0, 1);
	s->chunkbuf = malloc(STORE_CHUNK_HDR + s->chunk_size);
	if (s->directfd >= 0 && s->dio_depth > 0) {
		rc = store_dio_start(&s->dio, s->directfd, s->dio_depth, STORE_DIRECT_BUF,
				     STORE_DIRECT_ALIGN);
		if (rc)
			CLOG_WARN("store", "open %s: slot writers: %s; writing on the apply thread",
				  path, cairn_strerror(rc));
		rc = 0;
	}
	if (s->directfd >= 0 && !s->dio &&
	    posix_memalign((void **)&s->dbuf, STORE_DIRECT_ALIGN, STORE_DIRECT_BUF)) {
		s->dbuf = NULL;
		close(s->directfd);
		s->directfd = -1;
	}
	if (!s->wb || !s->chunkbuf) {
		rc = -ENOMEM;
		goto fail;
	}
	if (pthread_create(&s->apply_thr, NULL, apply_thread, s)) {
		rc = -EAGAIN;
		goto fail;
	}
	if (s->journal && pthread_create(&s->trim_thr, NULL, trim_thread, s) == 0)
		s->trim_started = true;
	if ((s->journal && !s->trim_started) ||
	    pthread_create(&s->commit_thr, NULL, commit_thread, s)) {
		pthread_mutex_lock(&s->lock);
		s->stopping = true;
		pthread_cond_broadcast(&s->apply_cv);
		pthread_mutex_unlock(&s->lock);
		pthread_join(s->apply_thr, NULL);
		if (s->trim_started) {
			sjournal_stop(s->journal);
			pthread_join(s->trim_thr, NULL);
		}
		rc = -EAGAIN;
		goto fail;
	}
	*out = s;
	return 0;
fail:
	if (s->datafd >= 0)
		close(s->datafd);
	store_dio_stop(s->dio); /* before its fd closes */
	if (s->directfd >= 0)
		close(s->directfd);
	free(s->dbuf);
	store_alloc_free_all(s);
	if (s->wb)
		rocksdb_writebatch_wi_destroy(s->wb);
	free(s->chunkbuf);
	if (s->db)
		db_close(s);
	sjournal_close(s->journal);
	cbuf_free(&s->jrec);
	pthread_mutex_destroy(&s->jlock);
	free_options(s);
	free(s->path);
	free(s);
	return rc;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->stopping = true;
	pthread_cond_broadcast(&s->apply_cv);
	pthread_cond_broadcast(&s->commit_cv);
	pthread_cond_broadcast(&s->space_cv);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->apply_thr, NULL);
	pthread_join(s->commit_thr, NULL);
	if (s->trim_started) {
		sjournal_stop(s->journal);
		pthread_join(s->trim_thr, NULL);
	}
	/* memtable -> SST now, so the next open has nothing to replay */
	if (!s->failed && flush_all(s) == 0 && s->journal)
		sjournal_trim(s->journal, sjournal_head(s->journal));
	rocksdb_writebatch_wi_destroy(s->wb);
	db_close(s);
	sjournal_close(s->journal);
	cbuf_free(&s->jrec);
	pthread_mutex_destroy(&s->jlock);
	if (!s->failed)
		fdatasync(s->datafd);
	close(s->datafd);
	store_dio_stop(s->dio); /* before its fd closes */
	if (s->directfd >= 0)
		close(s->directfd);
	free(s->dbuf);
	store_alloc_free_all(s);
	pthread_mutex_destroy(&s->alloc_lock);
	free_options(s);
	free(s->chunkbuf);
	free(s->path);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->apply_cv);
	pthread_cond_destroy(&s->commit_cv);
	pthread_cond_destroy(&s->space_cv);
	free(s);
}

/* ---- pipeline --------------------------------------------------------------------------- */

static int fail_sticky(struct store *s, int err)
{
	pthread_mutex_lock(&s->lock);
	if (!s->failed)
		s->failed = err;
	pthread_cond_broadcast(&s->space_cv);
	pthread_mutex_unlock(&s->lock);
	return err;
}

/* Bounds on one apply group (one RocksDB write, one data sync). */
#define GROUP_MAX_TXNS 64
#define GROUP_MAX_BYTES (64u << 20)

/*
 * Applies a group of queued transactions (list, linked by next) as one RocksDB write: each
 * is built on top of the ones before it in the same WriteBatchWithIndex (a save point
 * undoes one that fails), slot bytes of all of them are synced once, then the batch is
 * written and every transaction is readable. Sets each t->rc.
 */
static void apply_group(struct store *s, struct store_txn *list)
{
	struct store_totals tot, before = s->totals;
	struct store_txn *t;
	bool slots = false;
	unsigned ok = 0;
	char *err = NULL;
	int rc = 0;

	rocksdb_writebatch_wi_clear(s->wb);
	cbuf_reset(&s->jrec);
	for (t = list; t; t = t->next) {
		size_t jmark = s->jrec.len;

		if (__atomic_load_n(&s->failed, __ATOMIC_ACQUIRE)) {
			t->rc = -EIO;
			continue;
		}
		rocksdb_writebatch_wi_set_save_point(s->wb);
		t->rc = store_apply_build(s, t, &tot);
		if (t->rc) {
			if (!s->jrec.err)
				s->jrec.len = jmark;
			rocksdb_writebatch_wi_rollback_to_save_point(s->wb, &err);
			if (err) {
				t->rc = fail_sticky(s, db_err(err));
				err = NULL;
			}
			ctr_add(&s->ctr.txns_failed, 1);
			continue;
		}
		s->totals = tot; /* the next one builds on this one */
		slots |= t->wrote_slots;
		ok++;
	}
	if (!ok)
		return;
	/* one totals record for the group (most overwrites change no total: no put) */
	if (memcmp(&before, &s->totals, sizeof(before)) != 0)
		store_apply_put_totals(s, &s->totals);
	/* slot bytes reach the disk before the batch that points at them even exists in the
	 * WAL: whatever survives a power cut, a chunk never references unwritten bytes */
	if (slots && s->dio && store_dio_wait(s->dio))
		rc = fail_sticky(s, -EIO);
	if (!rc && slots && s->sync && fdatasync(s->datafd))
		rc = fail_sticky(s, -EIO);
	if (!rc && s->journal) {
		rc = journal_write(s);
		if (rc)
			rc = fail_sticky(s, rc == -ESHUTDOWN ? -EIO : rc);
	} else if (!rc) {
		rocksdb_write_writebatch_wi(s->db, s->wo, s->wb, &err);
		if (err)
			rc = fail_sticky(s, db_err(err));
	}
	if (!rc && store_apply_written(s))
		rc = fail_sticky(s, -EIO);
	for (t = list; t; t = t->next)
		if (rc && t->rc == 0)
			t->rc = rc;
	if (rc)
		return;
	__atomic_store_n(&s->stat_objects, s->totals.objects, __ATOMIC_RELAXED);
	__atomic_store_n(&s->stat_stored, s->totals.stored, __ATOMIC_RELAXED);
	ctr_add(&s->ctr.txns_applied, ok);
}

static void *apply_thread(void *arg)
{
	struct store *s = arg;
	struct store_txn *list, *t, *next, **tail;

	pthread_setname_np(pthread_self(), "store-apply");
	pthread_mutex_lock(&s->lock);
	for (;;) {
		unsigned n = 0;
		size_t bytes = 0;

		while (!s->aq_head && !s->stopping)
			pthread_cond_wait(&s->apply_cv, &s->lock);
		if (!s->aq_head)
			break;
		/* take a bounded group off the queue */
		list = s->aq_head;
		tail = &list;
		while (*tail && n < GROUP_MAX_TXNS && (n == 0 || bytes < GROUP_MAX_BYTES)) {
			bytes += store_txn_bytes(*tail);
			n++;
			tail = &(*tail)->next;
		}
		s->aq_head = *tail;
		if (!s->aq_head)
			s->aq_tail = NULL;
		*tail = NULL;
		s->applying = true;
		pthread_mutex_unlock(&s->lock);

		apply_group(s, list);
		for (t = list; t; t = t->next)
			if (t->on_applied)
				t->on_applied(t->arg, t->rc);

		pthread_mutex_lock(&s->lock);
		for (t = list; t; t = next) {
			next = t->next;
			t->next = NULL;
			if (s->cq_tail)
				s->cq_tail->next = t;
			else
				s->cq_head = t;
			s->cq_tail = t;
		}
		s->applying = false;
		pthread_cond_signal(&s->commit_cv);
	}
	s->apply_done = true;
	pthread_cond_signal(&s->commit_cv);
	pthread_mutex_unlock(&s->lock);
	store_apply_thread_exit();
	return NULL;
}

/*
 * Group commit: one WAL sync covers every transaction applied before it. Under load the
 * apply thread is still turning queued transactions into batches when the commit thread
 * wakes; syncing at once would cost a sync for about every transaction (each fdatasync is
 * ~50 us of CPU and a device flush here). So the commit thread first lets the apply thread
 * finish what is queued, for at most store_commit_wait; it never waits when nothing is
 * queued or being applied, so a lone transaction is synced at once. Caller holds s->lock.
 */
static void commit_batch_wait(struct store *s)
{
	uint64_t deadline = now_mono_ns() + s->commit_wait_ns;
	struct timespec ts = { .tv_sec = (time_t)(deadline / 1000000000u),
			       .tv_nsec = (long)(deadline % 1000000000u) };

	while ((s->aq_head || s->applying) && !s->stopping && !s->failed)
		if (pthread_cond_timedwait(&s->commit_cv, &s->lock, &ts) == ETIMEDOUT)
			break;
}

static void *commit_thread(void *arg)
{
	struct store *s = arg;
	struct store_txn *list, *t, *next;
	char *err = NULL;

	pthread_setname_np(pthread_self(), "store-commit");
	pthread_mutex_lock(&s->lock);
	for (;;) {
		while (!s->cq_head && !s->apply_done)
			pthread_cond_wait(&s->commit_cv, &s->lock);
		if (s->sync && s->commit_wait_ns)
			commit_batch_wait(s);
		list = s->cq_head;
		if (!list)
			break;
		s->cq_head = s->cq_tail = NULL;
		pthread_mutex_unlock(&s->lock);

		bool need = false;
		uint64_t n = 0, bytes = 0, ok = 0;
		int rc = 0;

		for (t = list; t; t = t->next)
			need |= t->rc == 0;
		if (need && s->sync && s->journal) {
			rc = sjournal_sync(s->journal);
			if (rc)
				rc = fail_sticky(s, -EIO);
			ctr_add(&s->ctr.syncs, 1);
		} else if (need && s->sync) {
			rocksdb_flush_wal(s->db, 1, &err);
			if (err)
				rc = fail_sticky(s, db_err(err));
			ctr_add(&s->ctr.syncs, 1);
		}
		for (t = list; t; t = t->next) {
			if (rc && t->rc == 0)
				t->rc = rc;
			ok += t->rc == 0;
			if (t->rc == 0 && t->freed.len) {
				/* durable now: the slots it freed may be reused */
				struct cdec d;
				uint64_t slot;

				cdec_init(&d, t->freed.data, t->freed.len);
				while (dec_left(&d) >= 8 && dec_u64(&d, &slot) == 0)
					store_alloc_put(s, slot);
			}
		}
		ctr_add(&s->ctr.txns_committed, ok); /* before the callbacks: they may read it */
		for (t = list; t; t = next) {
			next = t->next;
			if (t->on_commit)
				t->on_commit(t->arg, t->rc);
			n++;
			bytes += store_txn_bytes(t);
			store_txn_free(t);
		}
		pthread_mutex_lock(&s->lock);
		s->queued_txns -= n;
		s->queued_bytes -= bytes;
		pthread_cond_broadcast(&s->space_cv);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

bool store_has_room(struct store *s, size_t bytes)
{
	bool room;

	pthread_mutex_lock(&s->lock);
	room = !s->stopping && !s->failed &&
	       (!s->queued_txns ||
		(s->queued_txns < s->max_txns && s->queued_bytes + bytes <= s->max_bytes));
	pthread_mutex_unlock(&s->lock);
	return room;
}

int store_queue_txn(struct store *s, struct store_txn *t, store_cb_t on_applied,
		    store_cb_t on_commit, void *arg)
{
	size_t bytes = store_txn_bytes(t);
	int rc = t->err;

	if (rc)
		goto refuse;
	t->on_applied = on_applied;
	t->on_commit = on_commit;
	t->arg = arg;
	t->next = NULL;
	t->rc = 0;
	pthread_mutex_lock(&s->lock);
	while (!s->stopping && !s->failed && s->queued_txns &&
	       (s->queued_txns >= s->max_txns || s->queued_bytes + bytes > s->max_bytes))
		pthread_cond_wait(&s->space_cv, &s->lock);
	rc = s->stopping ? -ESHUTDOWN : s->failed ? -EIO : 0;
	if (rc) {
		pthread_mutex_unlock(&s->lock);
		goto refuse;
	}
	s->queued_txns++;
	s->queued_bytes += bytes;
	if (s->aq_tail)
		s->aq_tail->next = t;
	else
		s->aq_head = t;
	s->aq_tail = t;
	pthread_cond_signal(&s->apply_cv);
	pthread_mutex_unlock(&s->lock);
	return 0;
refuse:
	store_txn_free(t);
	return rc;
}

struct waiter {
	pthread_mutex_t m;
	pthread_cond_t c;
	bool done;
	int applied_rc, commit_rc;
};

static void wait_applied(void *arg, int rc) { ((struct waiter *)arg)->applied_rc = rc; }

static void wait_commit(void *arg, int rc)
{
	struct waiter *w = arg;

	pthread_mutex_lock(&w->m);
	w->commit_rc = rc;
	w->done = true;
	pthread_cond_signal(&w->c);
	pthread_mutex_unlock(&w->m);
}

int store_apply_txn(struct store *s, struct store_txn *t)
{
	struct waiter w = { .m = PTHREAD_MUTEX_INITIALIZER, .c = PTHREAD_COND_INITIALIZER };
	int rc = store_queue_txn(s, t, wait_applied, wait_commit, &w);

	if (rc)
		return rc;
	pthread_mutex_lock(&w.m);
	while (!w.done)
		pthread_cond_wait(&w.c, &w.m);
	pthread_mutex_unlock(&w.m);
	pthread_cond_destroy(&w.c);
	pthread_mutex_destroy(&w.m);
	return w.applied_rc ? w.applied_rc : w.commit_rc;
}

/* ---- reads ------------------------------------------------------------------------------ */

/* A consistent view for one multi-key read. */
struct view {
	rocksdb_readoptions_t *ro;
	const rocksdb_snapshot_t *snap;
};

static int view_open(struct store *s, struct view *v)
{
	v->ro = rocksdb_readoptions_create();
	if (!v->ro)
		return -ENOMEM;
	v->snap = rocksdb_create_snapshot(s->db);
	rocksdb_readoptions_set_snapshot(v->ro, v->snap);
	return 0;
}

static void view_close(struct store *s, struct view *v)
{
	rocksdb_release_snapshot(s->db, v->snap);
	rocksdb_readoptions_destroy(v->ro);
}

static int check_args(const char *coll, const void *oid, size_t oidlen)
{
	if (!coll || !store_coll_name_valid(coll, strnlen(coll, STORE_COLL_NAME_MAX + 1)))
		return -EINVAL;
	if (oidlen > STORE_NAME_MAX)
		return -ENAMETOOLONG;
	if (oidlen && !oid)
		return -EINVAL;
	return 0;
}

static int onode_get(struct store *s, rocksdb_readoptions_t *ro, const char *coll,
		     const void *oid, size_t oidlen, struct store_onode *on)
{
	uint8_t k[STORE_KEY_MAX];
	size_t vl;
	char *v;
	int rc = check_args(coll, oid, oidlen);

	if (rc)
		return rc;
	rc = db_get(s, ro, k, store_key_onode(k, coll, oid, oidlen), &v, &vl);
	if (rc)
		return rc;
	rc = store_onode_decode(on, v, vl) ? -EIO : 0;
	rocksdb_free(v);
	return rc;
}

int store_coll_exists(struct store *s, const char *coll)
{
	uint8_t k[1 + STORE_COLL_NAME_MAX];
	size_t vl;
	char *v;
	int rc;

	if (!coll || !store_coll_name_valid(coll, strnlen(coll, STORE_COLL_NAME_MAX + 1)))
		return -EINVAL;
	rc = db_get(s, NULL, k, store_key_coll(k, coll), &v, &vl);
	if (rc == -ENOENT)
		return 0;
	if (rc)
		return rc;
	rocksdb_free(v);
	return 1;
}

int store_list_colls(struct store *s, int (*cb)(void *arg, const char *coll), void *arg)
{
	rocksdb_iterator_t *it = rocksdb_create_iterator_cf(s->db, s->ro, s->cf[0]);
	char name[STORE_COLL_NAME_MAX + 1], *err = NULL;
	int rc = 0;

	for (rocksdb_iter_seek(it, "C", 1); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
		size_t kl;
		const char *k = rocksdb_iter_key(it, &kl);

		if (kl < 1 || k[0] != 'C')
			break;
		if (kl - 1 > STORE_COLL_NAME_MAX)
			continue;
		memcpy(name, k + 1, kl - 1);
		name[kl - 1] = 0;
		rc = cb(arg, name);
		if (rc)
			break;
	}
	rocksdb_iter_get_error(it, &err);
	if (!rc)
		rc = db_err(err);
	else if (err)
		rocksdb_free(err);
	rocksdb_iter_destroy(it);
	return rc;
}

int store_stat(struct store *s, const char *coll, const void *oid, size_t oidlen,
	       struct store_stat *st)
{
	struct store_onode on;
	int rc = onode_get(s, NULL, coll, oid, oidlen, &on);

	if (rc)
		return rc;
	st->size = on.size;
	st->mtime_ns = on.mtime_ns;
	return 0;
}

int store_obj_exists(struct store *s, const char *coll, const void *oid, size_t oidlen)
{
	struct store_onode on;
	int rc = onode_get(s, NULL, coll, oid, oidlen, &on);

	return rc == -ENOENT ? 0 : rc ? rc : 1;
}

/*
 * A run of whole slot chunks that lie in consecutive slots and land back to back in the
 * reader's buffer: read with one pread straight into the buffer, then every chunk of it
 * is verified against its own XXH3 before the read returns (on a mismatch the run is
 * zeroed and the read fails: damaged bytes are never handed out).
 * Unless store_slot_read_cache, object data stays out of the page cache: a stream of
 * large reads would otherwise fill memory with cached object data, and on the VMs
 * measured every later allocation of fresh memory (WAL and SST pages, memtables) got
 * slower (docs/store.md "Slot reads and the page cache"). A run whose buffer is 4 KiB
 * aligned is read with O_DIRECT (store_direct_reads); others are read through the page
 * cache and their pages dropped right after.
 */
#define READ_RUN_MAX 1024u
#define READ_ITER_MIN 4u /* reads of at least this many chunks walk an iterator */
#define READ_ALIGN_MIN (64u << 10) /* reads into a fresh cbuf this large get it aligned */
/* A nowait read (kBlockCacheTier) uses point gets only: a RocksDB iterator under that tier
 * skips records whose blocks are not cached and still reports success, which would read
 * them as holes (test_store test_read_stat_cached). Bounded to this many chunks. */
#define READ_NOWAIT_MAX 16u

struct read_run {
	uint64_t slot0, idx0;
	uint32_t count;
	uint8_t *dst;
	uint64_t csum[READ_RUN_MAX];
};

static int run_flush(struct store *s, uint64_t nid, struct read_run *r, bool *slot_err)
{
	size_t cs = s->chunk_size, len = (size_t)r->count * cs;
	int rc = 0;

	if (!r->count)
		return 0;
	if (s->direct_reads && s->directfd >= 0 && (uintptr_t)r->dst % STORE_DIRECT_ALIGN == 0) {
		/* straight from the disk into the buffer (chunk_size is a multiple of the
		 * alignment): no page cache pages to fill, copy and drop */
		if (pread(s->directfd, r->dst, len, (off_t)(r->slot0 * cs)) != (ssize_t)len)
			rc = -EIO;
	} else if (pread(s->datafd, r->dst, len, (off_t)(r->slot0 * cs)) != (ssize_t)len)
		rc = -EIO;
	else if (!s->slot_read_cache)
		/* clean pages now: dropped at once (a hint; a failure changes nothing) */
		(void)posix_fadvise(s->datafd, (off_t)(r->slot0 * cs), (off_t)len,
				    POSIX_FADV_DONTNEED);
	for (uint32_t i = 0; i < r->count && !rc; i++)
		if (cairn_xxh3_seed(r->dst + i * cs, cs, store_chunk_seed(nid, r->idx0 + i)) !=
		    r->csum[i])
			rc = -EIO;
	if (rc) {
		memset(r->dst, 0, len);
		*slot_err = true;
	}
	r->count = 0;
	return rc;
}

struct read_ctx {
	struct store *s;
	uint64_t nid, off, end;
	uint8_t *buf, *cbuf;
	bool *slot_err;
	bool nowait; /* slot data is on disk: -EWOULDBLOCK */
	struct read_run run;
};

/* Copies chunk idx's part of [off, end) into the buffer from a slot (slen bytes stored,
 * csum their XXH3): whole chunks join the pending run read, others are read and checked
 * one by one. */
static int read_slot(struct read_ctx *c, uint64_t idx, uint64_t slot, uint32_t slen,
		     uint64_t csum)
{
	uint64_t cs = c->s->chunk_size, cstart = idx * cs, pos = cstart > c->off ? cstart : c->off;
	size_t a0 = pos - cstart, b0 = c->end - cstart < cs ? c->end - cstart : cs, have;
	uint8_t *dst = c->buf + (pos - c->off);
	struct read_run *r = &c->run;
	int rc = 0;

	if (c->nowait)
		return -EWOULDBLOCK;
	if (slen == cs && a0 == 0 && b0 == cs) {
		if (r->count && (r->count == READ_RUN_MAX || slot != r->slot0 + r->count ||
				 idx != r->idx0 + r->count) &&
		    (rc = run_flush(c->s, c->nid, r, c->slot_err)))
			return rc;
		if (!r->count) {
			r->slot0 = slot;
			r->idx0 = idx;
			r->dst = dst;
		}
		r->csum[r->count++] = csum;
		return 0;
	}
	rc = run_flush(c->s, c->nid, r, c->slot_err);
	if (rc)
		return rc;
	if (pread(c->s->datafd, c->cbuf, slen, (off_t)(slot * cs)) != (ssize_t)slen ||
	    cairn_xxh3_seed(c->cbuf, slen, store_chunk_seed(c->nid, idx)) != csum) {
		*c->slot_err = true;
		return -EIO;
	}
	have = slen > a0 ? (slen < b0 ? slen : b0) - a0 : 0;
	if (have)
		memcpy(dst, c->cbuf + a0, have);
	memset(dst + have, 0, (b0 - a0) - have);
	return 0;
}

/* Copies chunk idx's part of [off, end) into the buffer; val NULL: a hole. */
static int read_chunk(struct read_ctx *c, uint64_t idx, const char *val, size_t vl)
{
	uint64_t cs = c->s->chunk_size, cstart = idx * cs, pos = cstart > c->off ? cstart : c->off;
	size_t a0 = pos - cstart, b0 = c->end - cstart < cs ? c->end - cstart : cs, n = 0;
	uint8_t *dst = c->buf + (pos - c->off);
	const uint8_t *data = NULL;
	uint64_t slot, csum;
	uint32_t slen;
	int rc = 0;

	if (val) {
		int sl = store_chunk_slot_parse(val, vl, cs, &slot, &slen, &csum);

		if (sl > 0)
			return read_slot(c, idx, slot, slen, csum);
		rc = run_flush(c->s, c->nid, &c->run, c->slot_err);
		if (rc)
			return rc;
		rc = sl < 0 ? sl : store_chunk_check(val, vl, c->nid, idx, cs, &data, &n);
		if (rc)
			return -EIO;
	}
	size_t have = n > a0 ? (n < b0 ? n : b0) - a0 : 0;

	if (have)
		memcpy(dst, data + a0, have);
	memset(dst + have, 0, (b0 - a0) - have);
	return 0;
}

/* Chunks [first, last] of c->nid, in key order from one iterator (holes in between);
 * runs: the object may hold runs, the first of which may start before first. */
static int read_iter(struct read_ctx *c, rocksdb_readoptions_t *ro, uint64_t first,
		     uint64_t last, bool runs)
{
	rocksdb_iterator_t *it = rocksdb_create_iterator_cf(c->s->db, ro, c->s->cf[1]);
	uint64_t next = first, cs = c->s->chunk_size;
	bool seek = true;
	uint8_t k[17];
	char *err = NULL;
	int rc = 0;

	store_key_chunk(k, c->nid, first);
	if (runs) {
		rocksdb_iter_seek_for_prev(it, (const char *)k, 17);
		if (rocksdb_iter_valid(it)) {
			size_t kl;
			const char *key = rocksdb_iter_key(it, &kl);

			seek = kl != 17 || memcmp(key, k, 9) != 0;
		}
	}
	if (seek)
		rocksdb_iter_seek(it, (const char *)k, 17);
	for (; rocksdb_iter_valid(it) && !rc; rocksdb_iter_next(it)) {
		size_t kl, vl;
		const uint8_t *key = (const uint8_t *)rocksdb_iter_key(it, &kl);
		const char *val;
		struct store_run r;
		uint64_t idx;
		int run;

		if (kl != 17 || key[0] != 'D' || store_get_be64(key + 1) != c->nid)
			break;
		idx = store_get_be64(key + 9);
		if (idx > last)
			break;
		val = rocksdb_iter_value(it, &vl);
		run = store_run_parse(val, vl, cs, &r);
		if (run < 0) {
			rc = -EIO;
			break;
		}
		if (run > 0) {
			uint64_t from = idx > next ? idx : next;
			uint64_t to = idx + r.count - 1 < last ? idx + r.count - 1 : last;

			for (; next < from && !rc; next++)
				rc = read_chunk(c, next, NULL, 0);
			for (uint64_t j = from; j <= to && !rc; j++) {
				uint32_t i = (uint32_t)(j - idx);
				uint32_t len = i + 1 == r.count ? r.lastlen : (uint32_t)cs;

				rc = read_slot(c, j, r.slot0 + i, len, store_run_csum(&r, i));
				next = j + 1;
			}
			continue;
		}
		if (idx < next)
			continue; /* a chunk before the range (seek_for_prev) */
		for (; next < idx && !rc; next++)
			rc = read_chunk(c, next, NULL, 0);
		if (!rc) {
			rc = read_chunk(c, idx, val, vl);
			next = idx + 1;
		}
	}
	rocksdb_iter_get_error(it, &err);
	if (err) {
		int e = db_err(err); /* -EWOULDBLOCK: a nowait read needed the disk */

		if (!rc)
			rc = e;
	}
	rocksdb_iter_destroy(it);
	for (; next <= last && !rc; next++)
		rc = read_chunk(c, next, NULL, 0);
	return rc;
}

/* Where a read's bytes go: buf, or (out != NULL) max bytes at most appended to out, with
 * the object's stat in *st (store_read_stat). */
struct read_dst {
	void *buf;
	struct cbuf *out;
	uint64_t max;
	struct store_stat *st;
	bool nowait; /* store_read_stat_cached */
};

/* c: scratch with chunk_size bytes after it (store_read allocates both at once) */
static ssize_t read_once(struct store *s, const char *coll, const void *oid, size_t oidlen,
			 uint64_t off, size_t len, struct read_dst *dst, struct read_ctx *c,
			 bool *slot_err)
{
	uint64_t cs = s->chunk_size, end, first, last;
	struct store_onode on;
	struct view v;
	void *buf = dst->buf;
	ssize_t rc = view_open(s, &v);

	if (rc)
		return rc;
	if (dst->nowait)
		rocksdb_readoptions_set_read_tier(v.ro, 1); /* kBlockCacheTier: no I/O */
	rc = onode_get(s, v.ro, coll, oid, oidlen, &on);
	if (rc)
		goto out;
	if (dst->st) {
		dst->st->size = on.size;
		dst->st->mtime_ns = on.mtime_ns;
	}
	if (off >= on.size || len == 0) {
		rc = 0;
		goto out;
	}
	end = on.size - off < len ? on.size : off + len;
	if (end - off > SSIZE_MAX)
		end = off + SSIZE_MAX;
	if (dst->out) {
		if (end - off > dst->max) {
			rc = -EFBIG;
			goto out;
		}
		if (!dst->out->cap && s->direct_reads && s->directfd >= 0 &&
		    (on.flags & STORE_ONODE_RUNS) && off % cs == 0 &&
		    end - off >= READ_ALIGN_MIN) {
			/* an empty buffer for a large read of slot data: 4 KiB aligned, so
			 * that its runs can be read with O_DIRECT (run_flush) */
			size_t cap = (size_t)(end - off + STORE_DIRECT_ALIGN - 1) /
				     STORE_DIRECT_ALIGN * STORE_DIRECT_ALIGN;
			void *p;

			if (posix_memalign(&p, STORE_DIRECT_ALIGN, cap) == 0) {
				free(dst->out->data);
				dst->out->data = p;
				dst->out->cap = cap;
			}
		}
		buf = cbuf_append(dst->out, end - off);
		if (!buf) {
			rc = -ENOMEM;
			goto out;
		}
	}
	first = off / cs;
	last = (end - 1) / cs;
	c->s = s;
	c->nid = on.nid;
	c->off = off;
	c->end = end;
	c->buf = buf;
	c->cbuf = (uint8_t *)(c + 1);
	c->slot_err = slot_err;
	c->nowait = dst->nowait;
	c->run.count = 0;
	/* our XXH3 guards the data: let a flipped byte reach it (and be named), not RocksDB */
	rocksdb_readoptions_set_verify_checksums(v.ro, 0);
	if (dst->nowait && ((on.flags & STORE_ONODE_RUNS) || last - first + 1 > READ_NOWAIT_MAX)) {
		rc = -EWOULDBLOCK; /* slot data, or more than a nowait read is for */
	} else if (!dst->nowait &&
		   (last - first + 1 >= READ_ITER_MIN || (on.flags & STORE_ONODE_RUNS))) {
		rc = read_iter(c, v.ro, first, last, on.flags & STORE_ONODE_RUNS);
	} else {
		for (uint64_t idx = first; idx <= last && !rc; idx++) {
			uint8_t k[17];
			size_t vl;
			char *val;
			int r = db_get(s, v.ro, k, store_key_chunk(k, on.nid, idx), &val, &vl);

			if (r && r != -ENOENT) {
				rc = r;
				break;
			}
			rc = read_chunk(c, idx, r ? NULL : val, r ? 0 : vl);
			if (!r)
				rocksdb_free(val);
		}
	}
	if (!rc)
		rc = run_flush(s, on.nid, &c->run, slot_err);
	if (!rc)
		rc = (ssize_t)(end - off);
out:
	view_close(s, &v);
	return rc;
}

static ssize_t read_dst(struct store *s, const char *coll, const void *oid, size_t oidlen,
			uint64_t off, size_t len, struct read_dst *dst)
{
	struct read_ctx *cb = malloc(sizeof(*cb) + s->chunk_size);
	size_t start = dst->out ? dst->out->len : 0;
	bool slot_err = false;
	ssize_t rc;

	if (!cb)
		return -ENOMEM;
	/* a slot can be freed and reused between reading its chunk value and its bytes (the
	 * snapshot covers RocksDB, not the data file): a slot mismatch is retried on a fresh
	 * view before it counts as damage */
	for (int attempt = 0;; attempt++) {
		slot_err = false;
		rc = read_once(s, coll, oid, oidlen, off, len, dst, cb, &slot_err);
		if (rc < 0 && dst->out)
			dst->out->len = start;
		if (rc != -EIO || !slot_err || attempt == 2)
			break;
	}
	free(cb);
	if (rc == -EIO)
		store_count_csum_error(s);
	if (rc > 0)
		ctr_add(&s->ctr.bytes_read, (uint64_t)rc);
	return rc;
}

ssize_t store_read(struct store *s, const char *coll, const void *oid, size_t oidlen,
		   uint64_t off, size_t len, void *buf)
{
	struct read_dst dst = { buf, NULL, 0, NULL, false };

	return read_dst(s, coll, oid, oidlen, off, len, &dst);
}

ssize_t store_read_stat(struct store *s, const char *coll, const void *oid, size_t oidlen,
			uint64_t off, uint64_t len, uint64_t max, struct cbuf *out,
			struct store_stat *st)
{
	struct read_dst dst = { NULL, out, max, st, false };

	if (out->err)
		return out->err;
	return read_dst(s, coll, oid, oidlen, off, len && len < SIZE_MAX ? len : SIZE_MAX, &dst);
}

int store_stat_cached(struct store *s, const char *coll, const void *oid, size_t oidlen,
		      struct store_stat *st)
{
	struct read_dst dst = { NULL, NULL, 0, st, true };

	/* a read from past any end: the onode lookup alone */
	return (int)read_dst(s, coll, oid, oidlen, UINT64_MAX, 0, &dst);
}

ssize_t store_read_stat_cached(struct store *s, const char *coll, const void *oid,
			       size_t oidlen, uint64_t off, uint64_t len, uint64_t max,
			       struct cbuf *out, struct store_stat *st)
{
	struct read_dst dst = { NULL, out, max, st, true };

	if (out->err)
		return out->err;
	return read_dst(s, coll, oid, oidlen, off, len && len < SIZE_MAX ? len : SIZE_MAX, &dst);
}

/* Iterates keys [lo, hi) under prefix-free bounds; cb gets key tail after skip bytes. */
typedef int (*kv_cb_t)(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl);

static int scan(struct store *s, rocksdb_readoptions_t *ro, const uint8_t *lo, size_t lol,
		const uint8_t *hi, size_t hil, unsigned limit, kv_cb_t cb, void *arg,
		unsigned *count)
{
	rocksdb_iterator_t *it = rocksdb_create_iterator_cf(s->db, ro, store_cf(s, lo));
	char *err = NULL;
	int rc = 0;

	*count = 0;
	for (rocksdb_iter_seek(it, (const char *)lo, lol); rocksdb_iter_valid(it);
	     rocksdb_iter_next(it)) {
		size_t kl, vl;
		const char *k = rocksdb_iter_key(it, &kl);
		size_t m = kl < hil ? kl : hil;
		int c = memcmp(k, hi, m);

		if (c > 0 || (c == 0 && kl >= hil))
			break;
		if (limit && *count == limit)
			break;
		const char *v = rocksdb_iter_value(it, &vl);

		rc = cb(arg, (const uint8_t *)k, kl, (const uint8_t *)v, vl);
		if (rc)
			break;
		++*count;
	}
	rocksdb_iter_get_error(it, &err);
	if (err) {
		rocksdb_free(err);
		if (!rc)
			rc = -EIO;
	}
	rocksdb_iter_destroy(it);
	return rc;
}

/* The value of one sub-key (type 'A' xattr or 'M' omap) of an object, appended to out:
 * 0, -ENOENT (object), -ENODATA (no such key). */
static int sub_get(struct store *s, const char *coll, const void *oid, size_t oidlen,
		   char type, const void *key, size_t klen, struct cbuf *out)
{
	uint8_t k[9 + (STORE_OMAP_KEY_MAX > STORE_ATTR_NAME_MAX ? STORE_OMAP_KEY_MAX
								 : STORE_ATTR_NAME_MAX)];
	struct store_onode on;
	struct view v;
	size_t vl;
	char *val;
	int rc = view_open(s, &v);

	if (rc)
		return rc;
	rc = onode_get(s, v.ro, coll, oid, oidlen, &on);
	if (!rc) {
		rc = db_get(s, v.ro, k, store_key_sub(k, type, on.nid, key, klen), &val, &vl);
		if (rc == -ENOENT)
			rc = -ENODATA;
	}
	if (!rc) {
		enc_raw(out, val, vl);
		rocksdb_free(val);
		rc = out->err;
	}
	view_close(s, &v);
	return rc;
}

int store_getattr(struct store *s, const char *coll, const void *oid, size_t oidlen,
		  const char *name, struct cbuf *out)
{
	size_t nl;

	if (!name || (nl = strnlen(name, STORE_ATTR_NAME_MAX + 1)) == 0 || nl > STORE_ATTR_NAME_MAX)
		return -EINVAL;
	return sub_get(s, coll, oid, oidlen, 'A', name, nl, out);
}

struct attr_ctx {
	int (*cb)(void *arg, const char *name, const void *val, size_t vlen);
	void *arg;
};

static int attr_cb(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
	struct attr_ctx *c = arg;
	char name[STORE_ATTR_NAME_MAX + 1];

	if (kl < 10 || kl - 9 > STORE_ATTR_NAME_MAX)
		return -EIO;
	memcpy(name, k + 9, kl - 9);
	name[kl - 9] = 0;
	return c->cb(c->arg, name, v, vl);
}

int store_getattrs(struct store *s, const char *coll, const void *oid, size_t oidlen,
		   int (*cb)(void *arg, const char *name, const void *val, size_t vlen),
		   void *arg)
{
	struct attr_ctx c = { cb, arg };
	struct store_onode on;
	uint8_t lo[9], hi[9];
	struct view v;
	unsigned n;
	int rc = view_open(s, &v);

	if (rc)
		return rc;
	rc = onode_get(s, v.ro, coll, oid, oidlen, &on);
	if (!rc) {
		store_key_nid(lo, 'A', on.nid);
		store_key_nid(hi, 'A', on.nid + 1);
		rc = scan(s, v.ro, lo, 9, hi, 9, 0, attr_cb, &c, &n);
	}
	view_close(s, &v);
	return rc;
}

int store_omap_get(struct store *s, const char *coll, const void *oid, size_t oidlen,
		   const void *key, size_t klen, struct cbuf *out)
{
	if (klen > STORE_OMAP_KEY_MAX)
		return -ENAMETOOLONG;
	return sub_get(s, coll, oid, oidlen, 'M', key, klen, out);
}

struct omap_ctx {
	store_omap_cb_t cb;
	void *arg;
};

static int omap_cb(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
	struct omap_ctx *c = arg;

	if (kl < 9)
		return -EIO;
	return c->cb(c->arg, k + 9, kl - 9, v, vl);
}

int store_omap_iterate(struct store *s, const char *coll, const void *oid, size_t oidlen,
		       const void *start, size_t slen, const void *end, size_t elen,
		       unsigned limit, store_omap_cb_t cb, void *arg)
{
	uint8_t lo[9 + STORE_OMAP_KEY_MAX], hi[9 + STORE_OMAP_KEY_MAX];
	struct omap_ctx c = { cb, arg };
	struct store_onode on;
	size_t lol, hil;
	struct view v;
	unsigned n = 0;
	int rc;

	if ((start && slen > STORE_OMAP_KEY_MAX) || (end && elen > STORE_OMAP_KEY_MAX))
		return -ENAMETOOLONG;
	rc = view_open(s, &v);
	if (rc)
		return rc;
	rc = onode_get(s, v.ro, coll, oid, oidlen, &on);
	if (!rc) {
		lol = store_key_sub(lo, 'M', on.nid, start, start ? slen : 0);
		hil = end ? store_key_sub(hi, 'M', on.nid, end, elen) : store_key_nid(hi, 'M', on.nid + 1);
		rc = scan(s, v.ro, lo, lol, hi, hil, limit, omap_cb, &c, &n);
	}
	view_close(s, &v);
	return rc ? rc : (int)n;
}

/* ---- listing ---------------------------------------------------------------------------- */

struct list_ctx {
	size_t plen;
	store_list_cb_t cb;
	void *arg;
	unsigned limit, listed;
	bool want_next;		   /* the user's cb stopped: record the next key and stop */
	struct store_cursor *next; /* NULL: nobody wants it */
	bool have_next;
};

static int list_cb(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
	struct list_ctx *c = arg;
	const uint8_t *name;
	size_t nl;
	uint64_t h;

	(void)v;
	(void)vl;
	if (store_key_onode_parse(k, kl, c->plen, &h, &name, &nl))
		return -EIO;
	if (c->want_next || (c->limit && c->listed == c->limit)) {
		if (c->next) {
			c->next->hash = h;
			c->next->name_len = (uint32_t)nl;
			c->next->at_end = 0;
			if (nl)
				memcpy(c->next->name, name, nl);
		}
		c->have_next = true;
		return 1;
	}
	c->listed++;
	if (c->cb(c->arg, name, nl, h)) {
		if (!c->next)
			return 1;
		c->want_next = true;
	}
	return 0;
}

static size_t cursor_key(uint8_t *k, const char *coll, const struct store_cursor *c)
{
	if (c->at_end) {
		size_t n = store_key_onode_prefix(k, coll);

		k[n - 1] = 1; /* past every key of the collection */
		return n;
	}
	return store_key_onode_hash(k, coll, c->hash, c->name, c->name_len);
}

int store_list(struct store *s, const char *coll, const struct store_cursor *start,
	       const struct store_cursor *end, unsigned limit, store_list_cb_t cb, void *arg,
	       struct store_cursor *next)
{
	struct list_ctx c = { .cb = cb, .arg = arg, .limit = limit, .next = next };
	uint8_t *lo = NULL, *hi = NULL;
	struct store_cursor endc;
	struct view v = { 0 };
	size_t lol, hil;
	unsigned n = 0;
	int rc;

	if (!coll || !store_coll_name_valid(coll, strnlen(coll, STORE_COLL_NAME_MAX + 1)) ||
	    !start || start->name_len > STORE_NAME_MAX || (end && end->name_len > STORE_NAME_MAX))
		return -EINVAL;
	rc = store_coll_exists(s, coll);
	if (rc <= 0)
		return rc ? rc : -ENOENT;
	lo = malloc(STORE_KEY_MAX);
	hi = malloc(STORE_KEY_MAX);
	rc = lo && hi ? view_open(s, &v) : -ENOMEM;
	if (rc)
		goto out;
	if (!end) {
		store_cursor_end(&endc);
		end = &endc;
	}
	c.plen = store_key_onode_prefix(lo, coll);
	lol = cursor_key(lo, coll, start);
	hil = cursor_key(hi, coll, end);
	rc = scan(s, v.ro, lo, lol, hi, hil, 0, list_cb, &c, &n);
	if (rc < 0)
		goto out;
	if (next && !c.have_next)
		store_cursor_end(next);
	rc = (int)c.listed;
out:
	if (v.ro)
		view_close(s, &v);
	free(lo);
	free(hi);
	return rc;
}

/* ---- space and counters ----------------------------------------------------------------- */

static uint64_t dir_bytes(const char *dir)
{
	char p[PATH_MAX];
	struct dirent *e;
	struct stat st;
	uint64_t sum = 0;
	DIR *d = opendir(dir);

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (stat(p, &st) == 0 && S_ISREG(st.st_mode))
			sum += (uint64_t)st.st_blocks * 512;
	}
	closedir(d);
	return sum;
}

int store_statfs(struct store *s, struct store_statfs *st)
{
	struct statvfs vfs;
	char *dbp;

	if (statvfs(s->path, &vfs))
		return -errno;
	dbp = db_path(s->path);
	if (!dbp)
		return -ENOMEM;
	st->total = (uint64_t)vfs.f_blocks * vfs.f_frsize;
	st->available = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	st->used = dir_bytes(dbp) + dir_bytes(s->path);
	st->stored = __atomic_load_n(&s->stat_stored, __ATOMIC_RELAXED);
	st->objects = __atomic_load_n(&s->stat_objects, __ATOMIC_RELAXED);
	free(dbp);
	return 0;
}

void store_get_counters(struct store *s, struct store_counters *c)
{
	c->csum_errors = ctr_get(&s->ctr.csum_errors);
	c->txns_applied = ctr_get(&s->ctr.txns_applied);
	c->txns_failed = ctr_get(&s->ctr.txns_failed);
	c->txns_committed = ctr_get(&s->ctr.txns_committed);
	c->syncs = ctr_get(&s->ctr.syncs);
	c->journal_checkpoints = ctr_get(&s->ctr.journal_checkpoints);
	if (s->journal) {
		sjournal_usage(s->journal, &c->journal_used, &c->journal_size);
		c->journal_size += SJ_HDR_BYTES;
	}
	c->bytes_written = ctr_get(&s->ctr.bytes_written);
	c->bytes_read = ctr_get(&s->ctr.bytes_read);
	c->failed = __atomic_load_n(&s->failed, __ATOMIC_RELAXED);
}
