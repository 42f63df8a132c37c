/*
 * mon_store — the monitor's durable state in RocksDB.
 *
 * Keys (all values are this module's; nothing else writes the DB):
 *   "osdmap_full_%010u"  encoded full map of that epoch (osdmap_encode)
 *   "osdmap_inc_%010u"   encoded incremental producing that epoch (osdmap_inc_encode)
 *   "last_committed"     u32 LE, newest epoch
 *   "first_committed"    u32 LE, oldest epoch kept
 *   "pgla_<pool>_<ps>"   a PG's last-active record (mon_pg_la_encode_one; mon/pg_la.c)
 * Crash rule: an epoch's full map, incremental and last_committed are written in ONE synced
 * write batch, so after a crash the store holds every epoch up to last_committed, whole.
 */
#include <errno.h>
#include <rocksdb/c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"
#include "mon/mon.h"

struct mon_store {
	rocksdb_t *db;
	rocksdb_options_t *opts;
	rocksdb_writeoptions_t *wopts;
	rocksdb_readoptions_t *ropts;
};

int mon_store_open(struct mon_store **out, const char *path, bool create)
{
	struct mon_store *s = calloc(1, sizeof(*s));
	char *err = NULL;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	if (create)
		mkdir(path, 0755);
	s->opts = rocksdb_options_create();
	rocksdb_options_set_create_if_missing(s->opts, create);
	rocksdb_options_set_max_open_files(s->opts, 64);
	rocksdb_options_set_keep_log_file_num(s->opts, 2);
	s->wopts = rocksdb_writeoptions_create();
	rocksdb_writeoptions_set_sync(s->wopts, 1);
	s->ropts = rocksdb_readoptions_create();
	s->db = rocksdb_open(s->opts, path, &err);
	if (err) {
		CLOG_ERR("mon", "cannot open mon store %s: %s", path, err);
		rocksdb_free(err);
		mon_store_close(s);
		return -EIO;
	}
	*out = s;
	return 0;
}

void mon_store_close(struct mon_store *s)
{
	if (!s)
		return;
	if (s->db)
		rocksdb_close(s->db);
	if (s->wopts)
		rocksdb_writeoptions_destroy(s->wopts);
	if (s->ropts)
		rocksdb_readoptions_destroy(s->ropts);
	if (s->opts)
		rocksdb_options_destroy(s->opts);
	free(s);
}

static void le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

int mon_store_put_epoch(struct mon_store *s, uint32_t e, const void *full, size_t full_len,
			const void *inc, size_t inc_len)
{
	rocksdb_writebatch_t *wb = rocksdb_writebatch_create();
	char key[40];
	uint8_t v[4];
	char *err = NULL;

	snprintf(key, sizeof(key), "osdmap_full_%010u", e);
	rocksdb_writebatch_put(wb, key, strlen(key), full, full_len);
	if (inc) {
		snprintf(key, sizeof(key), "osdmap_inc_%010u", e);
		rocksdb_writebatch_put(wb, key, strlen(key), inc, inc_len);
	}
	le32(v, e);
	rocksdb_writebatch_put(wb, "last_committed", 14, (const char *)v, 4);
	if (e == 1)
		rocksdb_writebatch_put(wb, "first_committed", 15, (const char *)v, 4);
	rocksdb_write(s->db, s->wopts, wb, &err);
	rocksdb_writebatch_destroy(wb);
	if (err) {
		CLOG_ERR("mon", "mon store write e%u failed: %s", e, err);
		rocksdb_free(err);
		return -EIO;
	}
	return 0;
}

static int get_key(struct mon_store *s, const char *key, void **out, size_t *len)
{
	char *err = NULL, *v;
	size_t vl = 0;

	*out = NULL;
	*len = 0;
	v = rocksdb_get(s->db, s->ropts, key, strlen(key), &vl, &err);
	if (err) {
		rocksdb_free(err);
		return -EIO;
	}
	if (!v)
		return -ENOENT;
	*out = malloc(vl ? vl : 1);
	if (!*out) {
		rocksdb_free(v);
		return -ENOMEM;
	}
	memcpy(*out, v, vl);
	*len = vl;
	rocksdb_free(v);
	return 0;
}

int mon_store_get_full(struct mon_store *s, uint32_t e, void **out, size_t *len)
{
	char key[40];

	snprintf(key, sizeof(key), "osdmap_full_%010u", e);
	return get_key(s, key, out, len);
}

int mon_store_get_inc(struct mon_store *s, uint32_t e, void **out, size_t *len)
{
	char key[40];

	snprintf(key, sizeof(key), "osdmap_inc_%010u", e);
	return get_key(s, key, out, len);
}

static int get_u32(struct mon_store *s, const char *key, uint32_t *e)
{
	void *v;
	size_t l;
	int err = get_key(s, key, &v, &l);

	*e = 0;
	if (err == -ENOENT)
		return 0;
	if (err)
		return err;
	if (l != 4) {
		free(v);
		return -EBADMSG;
	}
	{
		const uint8_t *p = v;
		*e = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
	}
	free(v);
	return 0;
}

int mon_store_last_committed(struct mon_store *s, uint32_t *e)
{
	return get_u32(s, "last_committed", e);
}

int mon_store_first_committed(struct mon_store *s, uint32_t *e)
{
	return get_u32(s, "first_committed", e);
}

int mon_store_write_kvs(struct mon_store *s, size_t n, const char *const *keys,
			const void *const *vals, const size_t *lens)
{
	rocksdb_writebatch_t *wb = rocksdb_writebatch_create();
	char *err = NULL;

	for (size_t i = 0; i < n; i++) {
		if (vals[i])
			rocksdb_writebatch_put(wb, keys[i], strlen(keys[i]), vals[i], lens[i]);
		else
			rocksdb_writebatch_delete(wb, keys[i], strlen(keys[i]));
	}
	rocksdb_write(s->db, s->wopts, wb, &err);
	rocksdb_writebatch_destroy(wb);
	if (err) {
		CLOG_ERR("mon", "mon store write failed: %s", err);
		rocksdb_free(err);
		return -EIO;
	}
	return 0;
}

int mon_store_scan_prefix(struct mon_store *s, const char *prefix,
			  int (*cb)(void *arg, const char *key, size_t klen, const void *val,
				    size_t vlen),
			  void *arg)
{
	rocksdb_iterator_t *it = rocksdb_create_iterator(s->db, s->ropts);
	size_t pl = strlen(prefix);
	int e = 0;

	for (rocksdb_iter_seek(it, prefix, pl); !e && rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
		size_t kl, vl;
		const char *k = rocksdb_iter_key(it, &kl);
		const char *v = rocksdb_iter_value(it, &vl);

		if (kl < pl || memcmp(k, prefix, pl))
			break;
		e = cb(arg, k, kl, v, vl);
	}
	rocksdb_iter_destroy(it);
	return e;
}
