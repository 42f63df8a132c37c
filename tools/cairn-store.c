/*
 * cairn-store — inspect and check an OSD's object store offline (the OSD must be stopped).
 *
 *   cairn-store --path DIR mkfs
 *   cairn-store --path DIR fsck            verify every checksum; lists damaged objects as
 *                                          "damaged: COLL OID: why", exit 1 if any
 *   cairn-store --path DIR list-colls
 *   cairn-store --path DIR list COLL       "HASH OID" per object, in hash order
 *   cairn-store --path DIR stat COLL OID
 *   cairn-store --path DIR dump COLL OID   size, mtime, data length + xxh3, xattrs, omap
 *   cairn-store --path DIR get COLL OID    raw data to stdout (compare replicas with cmp)
 *   cairn-store --path DIR statfs
 *   cairn-store --path DIR create-coll COLL
 *   cairn-store --path DIR put COLL OID    object data from stdin (replaces the object)
 *   cairn-store --path DIR corrupt COLL OID OFFSET
 *                                          test hook: flip one bit of the stored byte at
 *                                          OFFSET without fixing its checksum (bit rot)
 * OIDs on the command line and in output are escaped: bytes outside printable ASCII, and
 * backslash, are written \xNN (and may be given that way). Exit status: 0 ok, 1 damage
 * found or the object does not exist, 2 usage or store error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/checksum.h"
#include "common/config.h"
#include "common/util.h"
#include "osd/store.h"

static void put_escaped(FILE *f, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++) {
		if (b[i] >= 0x21 && b[i] < 0x7f && b[i] != '\\')
			fputc(b[i], f);
		else
			fprintf(f, "\\x%02x", b[i]);
	}
}

/* Parses \xNN escapes; returns the length, or -1 on a bad escape. */
static long unescape(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;

	while (*s) {
		unsigned v;

		if (n == cap)
			return -1;
		if (s[0] == '\\') {
			if (s[1] != 'x' || sscanf(s + 2, "%2x", &v) != 1 || !s[2] || !s[3])
				return -1;
			out[n++] = (uint8_t)v;
			s += 4;
		} else {
			out[n++] = (uint8_t)*s++;
		}
	}
	return (long)n;
}

static void fsck_bad(void *arg, const char *coll, const void *oid, size_t oidlen, const char *why)
{
	(void)arg;
	printf("damaged: %s ", coll);
	put_escaped(stdout, oid, oidlen);
	printf(": %s\n", why);
}

static int print_coll(void *arg, const char *coll)
{
	(void)arg;
	printf("%s\n", coll);
	return 0;
}

static int print_obj(void *arg, const void *oid, size_t oidlen, uint64_t hash)
{
	(void)arg;
	printf("%016llx ", (unsigned long long)hash);
	put_escaped(stdout, oid, oidlen);
	putchar('\n');
	return 0;
}

static int print_attr(void *arg, const char *name, const void *val, size_t vlen)
{
	(void)arg;
	printf("xattr %s = ", name);
	put_escaped(stdout, val, vlen);
	putchar('\n');
	return 0;
}

static int print_omap(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	(void)arg;
	printf("omap ");
	put_escaped(stdout, k, kl);
	printf(" = ");
	put_escaped(stdout, v, vl);
	putchar('\n');
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: cairn-store --path DIR mkfs|fsck|list-colls|statfs\n"
			"       cairn-store --path DIR list|create-coll COLL\n"
			"       cairn-store --path DIR stat|dump|get|put COLL OID\n"
			"       cairn-store --path DIR corrupt COLL OID OFFSET\n");
	return 2;
}

/* Reads the whole object in pieces: to stdout (raw) or into an xxh3 fold. */
static int read_all(struct store *s, const char *coll, const uint8_t *oid, size_t oidlen,
		    uint64_t size, FILE *out, uint64_t *digest)
{
	const size_t piece = 4u << 20;
	uint8_t *buf = malloc(piece);
	uint64_t h = 0;
	int rc = 0;

	if (!buf)
		return -ENOMEM;
	for (uint64_t off = 0; off < size;) {
		ssize_t r = store_read(s, coll, oid, oidlen, off, piece, buf);

		if (r <= 0) {
			rc = r < 0 ? (int)r : -EIO;
			break;
		}
		if (out && fwrite(buf, 1, (size_t)r, out) != (size_t)r) {
			rc = -EIO;
			break;
		}
		h = cairn_xxh3_seed(buf, (size_t)r, h);
		off += (uint64_t)r;
	}
	free(buf);
	if (digest)
		*digest = h;
	return rc;
}

int main(int argc, char **argv)
{
	struct cairn_conf *conf = NULL;
	struct store *s = NULL;
	const char *path = NULL, *cmd = NULL, *coll = NULL, *oidarg = NULL, *extra = NULL;
	static uint8_t oid[STORE_NAME_MAX];
	long oidlen = 0;
	char err[256];
	int rc, ret = 0;

	if (conf_load(&conf, NULL, "osd", NULL, &argc, argv, err, sizeof(err))) {
		fprintf(stderr, "cairn-store: %s\n", err);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--path") == 0 && i + 1 < argc)
			path = argv[++i];
		else if (!cmd)
			cmd = argv[i];
		else if (!coll)
			coll = argv[i];
		else if (!oidarg)
			oidarg = argv[i];
		else if (!extra)
			extra = argv[i];
		else
			return usage();
	}
	if (!path || !cmd || (extra && strcmp(cmd, "corrupt") != 0))
		return usage();
	if (oidarg && (oidlen = unescape(oidarg, oid, sizeof(oid))) < 0) {
		fprintf(stderr, "cairn-store: bad object name escape in '%s'\n", oidarg);
		return 2;
	}
	if (strcmp(cmd, "mkfs") == 0) {
		rc = store_mkfs(path, conf);
		if (rc)
			fprintf(stderr, "cairn-store: mkfs %s: %s\n", path, cairn_strerror(rc));
		conf_free(conf);
		return rc ? 2 : 0;
	}
	rc = store_open(&s, path, conf);
	if (rc) {
		fprintf(stderr, "cairn-store: open %s: %s%s\n", path, cairn_strerror(rc),
			rc == -EIO ? " (is an OSD still running on it?)" : "");
		conf_free(conf);
		return 2;
	}
	if (strcmp(cmd, "fsck") == 0) {
		rc = store_fsck(s, fsck_bad, NULL);
		if (rc < 0) {
			fprintf(stderr, "cairn-store: fsck: %s\n", cairn_strerror(rc));
			ret = 2;
		} else if (rc > 0) {
			printf("fsck: %d damaged object%s\n", rc, rc == 1 ? "" : "s");
			ret = 1;
		} else {
			struct store_statfs sf;

			store_statfs(s, &sf);
			printf("fsck: ok, %llu objects, %llu bytes\n", (unsigned long long)sf.objects,
			       (unsigned long long)sf.stored);
		}
	} else if (strcmp(cmd, "list-colls") == 0 && !coll) {
		rc = store_list_colls(s, print_coll, NULL);
		ret = rc ? 2 : 0;
	} else if (strcmp(cmd, "statfs") == 0 && !coll) {
		struct store_statfs sf;

		rc = store_statfs(s, &sf);
		printf("total=%llu available=%llu used=%llu stored=%llu objects=%llu\n",
		       (unsigned long long)sf.total, (unsigned long long)sf.available,
		       (unsigned long long)sf.used, (unsigned long long)sf.stored,
		       (unsigned long long)sf.objects);
		ret = rc ? 2 : 0;
	} else if (strcmp(cmd, "list") == 0 && coll && !oidarg) {
		struct store_cursor *c = malloc(sizeof(*c));

		store_cursor_begin(c);
		rc = store_list(s, coll, c, NULL, 0, print_obj, NULL, NULL);
		free(c);
		if (rc < 0) {
			fprintf(stderr, "cairn-store: list %s: %s\n", coll, cairn_strerror(rc));
			ret = rc == -ENOENT ? 1 : 2;
		}
	} else if ((strcmp(cmd, "stat") == 0 || strcmp(cmd, "dump") == 0 ||
		    strcmp(cmd, "get") == 0) && coll && oidarg) {
		struct store_stat st;
		uint64_t h;

		rc = store_stat(s, coll, oid, (size_t)oidlen, &st);
		if (rc) {
			fprintf(stderr, "cairn-store: %s %s: %s\n", coll, oidarg, cairn_strerror(rc));
			ret = rc == -ENOENT ? 1 : 2;
		} else if (strcmp(cmd, "get") == 0) {
			rc = read_all(s, coll, oid, (size_t)oidlen, st.size, stdout, NULL);
		} else {
			printf("size %llu\nmtime_ns %llu\n", (unsigned long long)st.size,
			       (unsigned long long)st.mtime_ns);
			if (strcmp(cmd, "dump") == 0) {
				rc = read_all(s, coll, oid, (size_t)oidlen, st.size, NULL, &h);
				if (!rc)
					printf("data_xxh3 %016llx\n", (unsigned long long)h);
				if (!rc)
					rc = store_getattrs(s, coll, oid, (size_t)oidlen, print_attr, NULL);
				if (!rc) {
					int n = store_omap_iterate(s, coll, oid, (size_t)oidlen, NULL, 0,
								   NULL, 0, 0, print_omap, NULL);
					rc = n < 0 ? n : 0;
				}
			}
		}
		if (rc && !ret) {
			fprintf(stderr, "cairn-store: %s %s: %s\n", coll, oidarg, cairn_strerror(rc));
			ret = rc == -EIO ? 1 : 2;
		}
	} else if (strcmp(cmd, "create-coll") == 0 && coll && !oidarg) {
		struct store_txn *t = store_txn_new();

		store_txn_coll_create(t, coll);
		rc = store_apply_txn(s, t);
		if (rc) {
			fprintf(stderr, "cairn-store: create-coll %s: %s\n", coll, cairn_strerror(rc));
			ret = 2;
		}
	} else if (strcmp(cmd, "put") == 0 && coll && oidarg && !extra) {
		struct store_txn *t = store_txn_new();
		struct cbuf in;
		uint8_t chunk[65536];
		size_t n;

		cbuf_init(&in);
		while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
			enc_raw(&in, chunk, n);
		if (in.len > STORE_WRITE_MAX)
			in.err = -E2BIG;
		if (store_obj_exists(s, coll, oid, (size_t)oidlen) == 1)
			store_txn_remove(t, coll, oid, (size_t)oidlen);
		store_txn_write(t, coll, oid, (size_t)oidlen, 0, in.len, in.data);
		rc = in.err ? in.err : store_apply_txn(s, t);
		if (in.err)
			store_txn_free(t);
		cbuf_free(&in);
		if (rc) {
			fprintf(stderr, "cairn-store: put %s %s: %s\n", coll, oidarg, cairn_strerror(rc));
			ret = 2;
		}
	} else if (strcmp(cmd, "corrupt") == 0 && coll && oidarg && extra) {
		rc = store_debug_corrupt(s, coll, oid, (size_t)oidlen, strtoull(extra, NULL, 0));
		if (rc) {
			fprintf(stderr, "cairn-store: corrupt: %s\n", cairn_strerror(rc));
			ret = rc == -ENOENT ? 1 : 2;
		}
	} else {
		ret = usage();
	}
	store_close(s);
	conf_free(conf);
	return ret;
}
