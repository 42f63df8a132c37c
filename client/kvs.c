/*
 * kvs — cairn_kvs_t: the key/value lists libcairn hands to callers (xattrs, omap, listings).
 * One allocation for the index plus one per entry; keys are NUL-terminated, values are bytes
 * followed by a NUL (so text values can be printed directly).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client/client_int.h"

struct kv_ent {
	char *key;   /* key and value share this allocation: key\0value\0 */
	void *val;
	size_t len;
};

struct cairn_kvs {
	size_t n;
	struct kv_ent *e;
};

size_t cairn_kvs_count(const cairn_kvs_t *kvs) { return kvs ? kvs->n : 0; }

const char *cairn_kvs_key(const cairn_kvs_t *kvs, size_t i)
{
	return kvs && i < kvs->n ? kvs->e[i].key : NULL;
}

const void *cairn_kvs_val(const cairn_kvs_t *kvs, size_t i, size_t *len)
{
	if (!kvs || i >= kvs->n) {
		if (len)
			*len = 0;
		return NULL;
	}
	if (len)
		*len = kvs->e[i].len;
	return kvs->e[i].val;
}

void cairn_kvs_free(cairn_kvs_t *kvs)
{
	if (!kvs)
		return;
	for (size_t i = 0; i < kvs->n; i++)
		free(kvs->e[i].key);
	free(kvs->e);
	free(kvs);
}

static int kvs_set(struct kv_ent *e, const void *k, size_t klen, const void *v, size_t vlen)
{
	char *p = malloc(klen + vlen + 2);

	if (!p)
		return -ENOMEM;
	memcpy(p, k, klen);
	p[klen] = '\0';
	if (vlen)
		memcpy(p + klen + 1, v, vlen);
	p[klen + 1 + vlen] = '\0';
	e->key = p;
	e->val = p + klen + 1;
	e->len = vlen;
	return 0;
}

int kvs_from_list(const uint8_t *p, uint64_t n, cairn_kvs_t **out, int *more)
{
	struct osd_kvdec it;
	cairn_kvs_t *kvs;
	int r;

	r = osd_kv_dec_open(&it, p, n);
	if (r < 0)
		return r;
	kvs = calloc(1, sizeof(*kvs));
	if (!kvs)
		return -ENOMEM;
	if (it.n) {
		kvs->e = calloc(it.n, sizeof(*kvs->e));
		if (!kvs->e) {
			r = -ENOMEM;
			goto fail;
		}
	}
	for (;;) {
		const uint8_t *k, *v;
		uint32_t kl, vl;

		r = osd_kv_dec_next(&it, &k, &kl, &v, &vl);
		if (r < 0)
			goto fail;
		if (r == 0)
			break;
		if (kvs->n >= it.n) {
			r = -EBADMSG;
			goto fail;
		}
		r = kvs_set(&kvs->e[kvs->n], k, kl, v, v ? vl : 0);
		if (r < 0)
			goto fail;
		kvs->n++;
	}
	if (more)
		*more = it.more;
	*out = kvs;
	return 0;
fail:
	cairn_kvs_free(kvs);
	return r;
}

int kvs_single(const char *key, const void *val, size_t len, cairn_kvs_t **out)
{
	cairn_kvs_t *kvs = calloc(1, sizeof(*kvs));
	int r;

	if (!kvs)
		return -ENOMEM;
	kvs->e = calloc(1, sizeof(*kvs->e));
	if (!kvs->e) {
		free(kvs);
		return -ENOMEM;
	}
	r = kvs_set(&kvs->e[0], key, strlen(key), val, len);
	if (r < 0) {
		free(kvs->e);
		free(kvs);
		return r;
	}
	kvs->n = 1;
	*out = kvs;
	return 0;
}
