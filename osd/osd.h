/*
 * osd — the object storage daemon as a library: mkfs, start, stop. cairn-osd.c is only
 * argument parsing around these calls; tests may run an OSD in-process the same way.
 *
 * An OSD stores the objects of the PGs CRUSH maps to it, serves client ops as the primary
 * of its PGs, replicates every write primary-first to the other OSDs of the acting set and
 * acknowledges only when all of them committed. See docs/osd.md and osd/README.
 */
#ifndef CAIRN_OSD_OSD_H
#define CAIRN_OSD_OSD_H

#include <stdint.h>

struct cairn_conf;
struct osd;

/* Creates an empty store for OSD id in osd_data (conf) with a fresh uuid. -EEXIST if a
 * store is already there. */
int osd_mkfs(const struct cairn_conf *conf, int32_t id);
/* Opens the store, binds, registers with the mon and starts serving. conf is borrowed and
 * must outlive the OSD. */
int osd_start(struct osd **out, struct cairn_conf *conf, int32_t id);
/* Stops serving, drains queued work, closes the store. */
void osd_stop(struct osd *o);
/* The address the OSD listens on ("IP:PORT"). */
const char *osd_addr(const struct osd *o);

#endif
