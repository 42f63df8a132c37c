/* osd_msgs — see osd_msgs.h. */
#include "osd/osd_msgs.h"

void osd_repop_encode(struct cbuf *b, const struct osd_repop *r)
{
	size_t env = enc_start(b, 1, 1);

	osd_pgid_encode(b, r->pgid);
	enc_u32(b, r->map_epoch);
	enc_i32(b, r->from);
	enc_u32(b, r->flags);
	osd_eversion_encode(b, r->prior);
	pg_log_entry_encode(b, &r->entry);
	pg_info_encode(b, &r->info);
	enc_finish(b, env);
}

int osd_repop_decode(struct cdec *d, struct osd_repop *r)
{
	struct cdec body;

	r->entry.oid = NULL;
	if (dec_start(d, 1, &body, NULL))
		return d->err;
	osd_pgid_decode(&body, &r->pgid);
	dec_u32(&body, &r->map_epoch);
	dec_i32(&body, &r->from);
	dec_u32(&body, &r->flags);
	osd_eversion_decode(&body, &r->prior);
	pg_log_entry_decode(&body, &r->entry);
	pg_info_decode(&body, &r->info);
	if (body.err)
		pg_log_entry_clear(&r->entry);
	return dec_finish(d, &body);
}

void osd_repop_clear(struct osd_repop *r)
{
	pg_log_entry_clear(&r->entry);
}

void osd_repop_reply_encode(struct cbuf *b, const struct osd_repop_reply *r)
{
	size_t env = enc_start(b, 1, 1);

	osd_pgid_encode(b, r->pgid);
	enc_u32(b, r->map_epoch);
	enc_i32(b, r->from);
	osd_eversion_encode(b, r->version);
	enc_i32(b, r->result);
	osd_eversion_encode(b, r->last_update);
	enc_finish(b, env);
}

int osd_repop_reply_decode(struct cdec *d, struct osd_repop_reply *r)
{
	struct cdec body;

	if (dec_start(d, 1, &body, NULL))
		return d->err;
	osd_pgid_decode(&body, &r->pgid);
	dec_u32(&body, &r->map_epoch);
	dec_i32(&body, &r->from);
	osd_eversion_decode(&body, &r->version);
	dec_i32(&body, &r->result);
	osd_eversion_decode(&body, &r->last_update);
	return dec_finish(d, &body);
}

void osd_ping_encode(struct cbuf *b, const struct osd_ping *p)
{
	size_t env = enc_start(b, 1, 1);

	enc_i32(b, p->from);
	enc_u32(b, p->epoch);
	enc_u64(b, p->stamp_ns);
	enc_finish(b, env);
}

int osd_ping_decode(struct cdec *d, struct osd_ping *p)
{
	struct cdec body;

	if (dec_start(d, 1, &body, NULL))
		return d->err;
	dec_i32(&body, &p->from);
	dec_u32(&body, &p->epoch);
	dec_u64(&body, &p->stamp_ns);
	return dec_finish(d, &body);
}

void osd_pg_peer_encode(struct cbuf *b, const struct osd_pg_peer *p)
{
	size_t env = enc_start(b, 1, 1);

	osd_pgid_encode(b, p->pgid);
	enc_u32(b, p->epoch);
	enc_i32(b, p->from);
	pg_info_encode(b, &p->info);
	osd_eversion_encode(b, p->since);
	enc_finish(b, env);
}

int osd_pg_peer_decode(struct cdec *d, struct osd_pg_peer *p)
{
	struct cdec body;

	if (dec_start(d, 1, &body, NULL))
		return d->err;
	osd_pgid_decode(&body, &p->pgid);
	dec_u32(&body, &p->epoch);
	dec_i32(&body, &p->from);
	pg_info_decode(&body, &p->info);
	osd_eversion_decode(&body, &p->since);
	return dec_finish(d, &body);
}
