/*
 * monc — the monitor client: the one way a daemon, libcairn or the CLI talks to cairn-mon.
 *
 * A monc rides on the process's messenger (it does not own it). The process routes every
 * incoming message and connection reset to it:
 *     dispatch: if (monc_handle(monc, conn, m)) return;   // consumed (and freed) by monc
 *     reset:    monc_handle_reset(monc, conn);
 * monc keeps one lossy connection to the monitor. A background thread (one per monc) ticks
 * every monc_tick_ms: it reconnects when the connection is gone and then re-sends the
 * subscription (from the epoch after the newest map it has) and every command still waiting
 * for its reply, so a monitor restart is invisible to callers except as a delay.
 *
 * Maps: after monc_sub_osdmap(), each new epoch is applied (incrementals, or a full map if
 * the monitor sends one) and the callback runs once per new map, in epoch order, on a
 * messenger thread: it must not block. monc_get_osdmap() hands out a reference to the
 * newest map (osdmap_put it). When any message shows a newer epoch than the one monc has,
 * call monc_note_epoch(): monc asks the monitor for the missing increments.
 *
 * Thread safety: every function may be called from any thread, except that blocking ones
 * (monc_command, monc_wait_epoch) must not be called from a messenger loop thread.
 */
#ifndef CAIRN_MONC_H
#define CAIRN_MONC_H

#include <stddef.h>
#include <stdint.h>

struct msgr;
struct msg;
struct msg_conn;
struct osdmap;
struct cairn_conf;
struct mon_osd_boot;
struct mon_osd_failure;
struct mon_osd_alive;
struct mon_pg_stats;
struct mon_pg_la_msg;
struct monc;

struct monc_opts {
	struct msgr *msgr;             /* started (or about to be) messenger; NOT OWNER */
	const char *mon_addr;          /* "IP:PORT"; NULL: mon_host from conf */
	const struct cairn_conf *conf; /* client_mount_timeout etc.; may be NULL */
	/* Called once per new map, epoch order, messenger thread, must not block. The map is
	 * borrowed for the call (osdmap_get it to keep it). Optional. */
	void (*on_osdmap)(void *arg, struct osdmap *map);
	void *arg;
};

/* NULL with errno set (EINVAL: no mon address). Starts the tick thread. */
struct monc *monc_create(const struct monc_opts *o);
/*
 * Teardown: monc_destroy() stops the tick thread, fails pending commands with -ESHUTDOWN,
 * closes the mon connection and frees mc. It is safe against the messenger dispatching a
 * late message: monc_handle()/monc_handle_reset() on a destroyed monc consume nothing
 * (return 0; the caller frees the message as it would any unknown one). monc_shutdown() is
 * the first half alone (idempotent): stop talking to the mon while the messenger winds down.
 */
void monc_shutdown(struct monc *mc);
void monc_destroy(struct monc *mc);

/* 1 if m was a monitor message (monc took it and freed it), 0 otherwise. */
int monc_handle(struct monc *mc, struct msg_conn *c, struct msg *m);
/* Connection failure notification; harmless for unrelated connections. */
void monc_handle_reset(struct monc *mc, struct msg_conn *c);

/* Subscribe to osdmaps. monc continues after the newest map it already holds (incrementals),
 * or starts from the monitor's latest full map when it holds none; `start` is unused (kept
 * for callers that know better later). Re-sent automatically after every reconnect. */
int monc_sub_osdmap(struct monc *mc, uint32_t start);
/* New reference to the newest map, or NULL if none yet. */
struct osdmap *monc_get_osdmap(struct monc *mc);
uint32_t monc_epoch(struct monc *mc); /* 0 if no map yet */
/* Blocks until a map with epoch >= e is in hand. 0, or -ETIMEDOUT. */
int monc_wait_epoch(struct monc *mc, uint32_t e, int timeout_ms);
/* A peer showed epoch e: fetch increments up to it if ours is older. */
void monc_note_epoch(struct monc *mc, uint32_t e);

/* Fire-and-forget OSD reports (queued on the mon connection). 0 or -errno. */
int monc_send_boot(struct monc *mc, const struct mon_osd_boot *b);
int monc_send_failure(struct monc *mc, const struct mon_osd_failure *f);
int monc_send_alive(struct monc *mc, const struct mon_osd_alive *a);
int monc_send_pg_stats(struct monc *mc, const struct mon_pg_stats *s);
/* PG last-active records to store / read (issue 8). The mon's MSG_MON_PG_LA_REPLY is not
 * consumed by monc_handle: the process's dispatch gets it. */
int monc_send_pg_la(struct monc *mc, const struct mon_pg_la_msg *m);

/*
 * Runs a monitor command and waits for its reply. argv is the command words ("osd", "pool",
 * "create", "rbd", "64"); in/inlen an optional input blob. On return 0, *rc is the
 * command's result (0 or -errno), *status a malloc'd one-line message and *out and *outlen a
 * malloc'd, NUL-terminated output (JSON text, or binary for getcrushmap); any of them may
 * be NULL if unwanted. Returns -ETIMEDOUT when no reply arrived within timeout_ms
 * (the mon is unreachable or slow), -ESHUTDOWN if monc is being destroyed.
 */
int monc_command(struct monc *mc, const char *const *argv, int argc, const void *in,
		 size_t inlen, int *rc, char **status, char **out, size_t *outlen,
		 int timeout_ms);

#endif
