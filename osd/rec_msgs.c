/*
 * rec_msgs — encode/decode of the peering and recovery messages (see rec_msgs.h).
 */
#include "osd/rec_msgs.h"

#include <stdlib.h>
#include <string.h>

#include "osd/store.h"

#define REC_MSG_VERSION 1
#define REC_OIDS_MAX (1u << 22)

static void enc_kvs(struct cbuf *b, const struct rec_kv *kv, uint32_t n)
{
	enc_u32(b, n);
	for (uint32_t i = 0; i < n; i++) {
		enc_bytes(b, kv[i].key, kv[i].klen);
		enc_bytes(b, kv[i].val, kv[i].vlen);
	}
}

static int dec_kvs(struct cdec *d, struct rec_kv **out, uint32_t *n)
{
	struct rec_kv *kv;
	const uint8_t *p;
	uint32_t l;

	*out = NULL;
	*n = 0;
	if (dec_u32(d, &l) || dec_need(d, l, 8))
		return d->err;
	if (!l)
		return 0;
	kv = calloc(l, sizeof(*kv));
	if (!kv)
		return dec_fail(d, -ENOMEM);
	*out = kv;
	for (uint32_t i = 0; i < l; i++) {
		if (dec_bytes(d, &p, &kv[i].klen))
			return d->err;
		kv[i].key = malloc(kv[i].klen + 1u);
		if (!kv[i].key)
			return dec_fail(d, -ENOMEM);
		memcpy(kv[i].key, p, kv[i].klen);
		kv[i].key[kv[i].klen] = 0;
		*n = i + 1;
		if (dec_bytes(d, &p, &kv[i].vlen))
			return d->err;
		kv[i].val = malloc(kv[i].vlen + 1u);
		if (!kv[i].val)
			return dec_fail(d, -ENOMEM);
		memcpy(kv[i].val, p, kv[i].vlen);
	}
	return 0;
}

void rec_msg_encode(struct cbuf *b, const struct rec_msg *m)
{
	size_t env = enc_start(b, REC_MSG_VERSION, 1);

	osd_pgid_encode(b, m->pgid);
	enc_u32(b, m->epoch);
	enc_i32(b, m->from);
	enc_u64(b, m->token);
	enc_u32(b, m->flags);
	enc_i32(b, m->result);
	pg_info_encode(b, &m->info);
	enc_u32(b, m->la_epoch);
	enc_u32(b, m->nla);
	for (uint32_t i = 0; i < m->nla && i < CAIRN_MAX_REPLICAS; i++)
		enc_i32(b, m->la[i]);
	enc_u64(b, m->bf_hash);
	enc_str(b, m->bf_name ? m->bf_name : "");
	enc_u8(b, m->bf_end);
	enc_u64(b, m->lo_hash);
	enc_str(b, m->lo_name ? m->lo_name : "");
	enc_u32(b, m->nentries);
	for (uint32_t i = 0; i < m->nentries; i++)
		pg_log_entry_encode(b, &m->entries[i]);
	enc_u32(b, m->noids);
	for (uint32_t i = 0; i < m->noids; i++)
		enc_str(b, m->oids[i]);
	enc_str(b, m->oid ? m->oid : "");
	enc_u64(b, m->size);
	enc_kvs(b, m->attrs, m->nattrs);
	enc_kvs(b, m->omap, m->nomap);
	enc_finish(b, env);
}

int rec_msg_peek_pgid(const void *p, size_t n, struct pg_id *out)
{
	struct cdec d, body;

	cdec_init(&d, p, n);
	if (dec_start(&d, REC_MSG_VERSION, &body, NULL))
		return d.err;
	return osd_pgid_decode(&body, out);
}

int rec_msg_decode(struct cdec *d, struct rec_msg *m)
{
	struct cdec body;

	memset(m, 0, sizeof(*m));
	if (dec_start(d, REC_MSG_VERSION, &body, NULL))
		return d->err;
	osd_pgid_decode(&body, &m->pgid);
	dec_u32(&body, &m->epoch);
	dec_i32(&body, &m->from);
	dec_u64(&body, &m->token);
	dec_u32(&body, &m->flags);
	dec_i32(&body, &m->result);
	pg_info_decode(&body, &m->info);
	dec_u32(&body, &m->la_epoch);
	dec_u32(&body, &m->nla);
	if (!body.err && m->nla > CAIRN_MAX_REPLICAS)
		dec_fail(&body, -EBADMSG);
	for (uint32_t i = 0; !body.err && i < m->nla; i++)
		dec_i32(&body, &m->la[i]);
	dec_u64(&body, &m->bf_hash);
	dec_strdup(&body, &m->bf_name, STORE_NAME_MAX);
	dec_u8(&body, &m->bf_end);
	dec_u64(&body, &m->lo_hash);
	dec_strdup(&body, &m->lo_name, STORE_NAME_MAX);
	if (!dec_u32(&body, &m->nentries) && !dec_need(&body, m->nentries, 8) && m->nentries) {
		m->entries = calloc(m->nentries, sizeof(*m->entries));
		if (!m->entries)
			dec_fail(&body, -ENOMEM);
		for (uint32_t i = 0; !body.err && i < m->nentries; i++)
			pg_log_entry_decode(&body, &m->entries[i]);
	}
	if (!dec_u32(&body, &m->noids) && !dec_need(&body, m->noids, 4) && m->noids) {
		if (m->noids > REC_OIDS_MAX)
			dec_fail(&body, -EBADMSG);
		else if (!(m->oids = calloc(m->noids, sizeof(*m->oids))))
			dec_fail(&body, -ENOMEM);
		for (uint32_t i = 0; !body.err && i < m->noids; i++)
			dec_strdup(&body, &m->oids[i], OSD_OID_MAX);
	}
	dec_strdup(&body, &m->oid, OSD_OID_MAX);
	dec_u64(&body, &m->size);
	dec_kvs(&body, &m->attrs, &m->nattrs);
	dec_kvs(&body, &m->omap, &m->nomap);
	if (dec_finish(d, &body)) {
		rec_msg_clear(m);
		return d->err ? d->err : -EBADMSG;
	}
	return 0;
}

static void free_kvs(struct rec_kv *kv, uint32_t n)
{
	for (uint32_t i = 0; kv && i < n; i++) {
		free(kv[i].key);
		free(kv[i].val);
	}
	free(kv);
}

void rec_msg_clear(struct rec_msg *m)
{
	if (!m)
		return;
	free(m->bf_name);
	free(m->lo_name);
	for (uint32_t i = 0; m->entries && i < m->nentries; i++)
		pg_log_entry_clear(&m->entries[i]);
	free(m->entries);
	for (uint32_t i = 0; m->oids && i < m->noids; i++)
		free(m->oids[i]);
	free(m->oids);
	free(m->oid);
	free_kvs(m->attrs, m->nattrs);
	free_kvs(m->omap, m->nomap);
	memset(m, 0, sizeof(*m));
}
