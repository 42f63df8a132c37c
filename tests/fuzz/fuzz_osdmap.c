/*
 * fuzz_osdmap — the OSD map decoders never crash, leak or overread, and what they accept is
 * safe to use: a decoded full map re-encodes to a map that decodes to the same bytes, and
 * placement works for every pool; a decoded incremental applies (or is refused) cleanly.
 *
 * Input: first byte selects the decoder (even: full map, odd: incremental applied to a small
 * built-in map), the rest is the encoding.
 *
 * Placement on decoded maps (CRUSH on arbitrary, possibly absurd maps) runs only with
 * CAIRN_FUZZ_PLACEMENT=1 in the environment: it fuzzes the CRUSH mapper more than this
 * module, and known mapper findings (signed overflow with huge retry counts, very slow
 * maps) would otherwise mask decoder bugs here.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/encode.h"
#include "common/osdmap.h"
#include "crush/crush.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct osdmap *base_map(void)
{
	static struct osdmap *base;
	struct crush_map *c;
	struct pool_info p;
	int root, rule;
	uint8_t fsid[16] = {0};

	if (base)
		return base;
	c = crush_create();
	crush_set_type_name(c, 0, "osd");
	crush_set_type_name(c, 1, "host");
	crush_set_type_name(c, 3, "root");
	crush_add_bucket(c, 0, CRUSH_BUCKET_STRAW2, 0, 3, "default", &root);
	for (int i = 0; i < 3; i++) {
		char h[16], n[16];
		const char *t[2] = {"host", "root"}, *nm[2] = {h, "default"};
		snprintf(h, sizeof(h), "h%d", i);
		snprintf(n, sizeof(n), "osd.%d", i);
		crush_insert_item(c, i, 0x10000, n, t, nm, 2);
	}
	crush_rule_create_replicated(c, "r", "default", "host", NULL, &rule);
	base = osdmap_new(fsid, c);
	base->epoch = 1;
	osdmap_set_max_osd(base, 3);
	for (int i = 0; i < 3; i++) {
		base->osds[i].state = OSD_STATE_EXISTS | OSD_STATE_UP;
		base->osds[i].reweight = OSD_WEIGHT_IN;
	}
	memset(&p, 0, sizeof(p));
	p.id = 1;
	strcpy(p.name, "p");
	p.type = POOL_TYPE_REPLICATED;
	p.size = 3;
	p.min_size = 2;
	p.object_hash = POOL_HASH_XXH3;
	p.pg_num = p.pgp_num = 8;
	osdmap_pool_set(base, &p);
	osdmap_finalize(base);
	return base;
}

static void exercise(const struct osdmap *m)
{
	static int enabled = -1;
	struct crush_tunables t;

	if (enabled < 0) {
		const char *e = getenv("CAIRN_FUZZ_PLACEMENT");
		enabled = e && *e == '1';
	}
	if (!enabled)
		return;

	/* a map may legitimately ask CRUSH for billions of retries: too slow to fuzz */
	crush_get_tunables(m->crush, &t);
	if (t.choose_total_tries > 100 || t.choose_local_tries > 100 ||
	    t.choose_local_fallback_tries > 100)
		return;
	for (int r = 0; r < crush_max_rules(m->crush); r++) {
		const struct crush_rule_step *st;
		int type, mn, mx, n;

		if (crush_get_rule(m->crush, r, &type, &mn, &mx, &st, &n))
			continue;
		for (int i = 0; i < n; i++)
			if (st[i].op >= CRUSH_RULE_SET_CHOOSE_TRIES && st[i].arg1 > 100)
				return;
	}
	for (uint32_t i = 0; i < m->num_pools && i < 4; i++) {
		const struct pool_info *p = &m->pools[i];
		for (uint32_t ps = 0; ps < p->pg_num && ps < 16; ps++) {
			int32_t up[CAIRN_MAX_REPLICAS], act[CAIRN_MAX_REPLICAS], upp, actp;
			int nup, nact;
			struct pg_id pg = {p->id, ps};
			osdmap_pg_to_up_acting(m, pg, up, &nup, &upp, act, &nact, &actp);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (!(data[0] & 1)) {
		struct osdmap *m = NULL, *m2 = NULL;
		struct cbuf a, b;

		if (osdmap_decode(&m, data + 1, size - 1))
			return 0;
		exercise(m);
		cbuf_init(&a);
		cbuf_init(&b);
		if (osdmap_encode(m, &a) == 0 && osdmap_decode(&m2, a.data, a.len) == 0) {
			osdmap_encode(m2, &b);
			if (a.len != b.len || memcmp(a.data, b.data, a.len))
				abort();
			osdmap_put(m2);
		} else if (a.err == 0) {
			abort(); /* our own encoding must decode */
		}
		cbuf_free(&a);
		cbuf_free(&b);
		osdmap_put(m);
	} else {
		struct osdmap_inc inc;
		struct osdmap *out = NULL, *base = base_map();

		if (osdmap_inc_decode(&inc, data + 1, size - 1))
			return 0;
		inc.epoch = base->epoch + 1;
		memcpy(inc.fsid, base->fsid, 16);
		if (inc.new_max_osd > 64)
			inc.new_max_osd = 64; /* keep it quick */
		if (osdmap_apply_incremental(base, &inc, &out) == 0) {
			exercise(out);
			osdmap_put(out);
		}
		osdmap_inc_free(&inc);
	}
	return 0;
}
