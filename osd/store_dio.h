/*
 * store_dio — O_DIRECT slot writes off the store's apply thread. The apply thread copies and
 * hashes a piece of a large write into a free staging buffer (store_dio_buf), hands it over
 * (store_dio_submit) and goes on with the next piece or transaction while writer threads
 * pwrite it; before a group's data sync it waits for every write handed over
 * (store_dio_wait). So the copy and checksum of one piece overlap the disk write of the
 * one before, and a store keeps up to `depth` writes in flight instead of one.
 * docs/store.md "Slot writes in flight" has the design and the measurements.
 *
 * One thread (the apply thread) takes buffers, submits and waits; `depth` writer threads
 * write. A failed write (short or an error) is remembered for good: every later wait
 * returns -EIO, and the store fails its group and every later one (a data device that
 * loses writes is not written to again until reopen). Errors are negative errno.
 */
#ifndef CAIRN_OSD_STORE_DIO_H
#define CAIRN_OSD_STORE_DIO_H

#include <stddef.h>
#include <stdint.h>

struct store_dio;

/* Starts depth (1..16) writer threads writing to fd, with depth + 1 staging buffers of
 * bufsize bytes each, aligned to align. */
int store_dio_start(struct store_dio **out, int fd, unsigned depth, size_t bufsize, size_t align);

/* A free staging buffer of bufsize bytes; waits while all of them are in flight. */
uint8_t *store_dio_buf(struct store_dio *d);

/* Writes len bytes of buf (from store_dio_buf) at off; buf is free again once written. */
void store_dio_submit(struct store_dio *d, uint8_t *buf, size_t len, uint64_t off);

/* Waits until every submitted write is done; 0, or -EIO if any write ever failed. */
int store_dio_wait(struct store_dio *d);

/* Waits for what is in flight, stops the threads and frees d (NULL is fine). */
void store_dio_stop(struct store_dio *d);

#endif
