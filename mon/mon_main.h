/*
 * mon_main — entry point of the monitor service (used by mon/cairn-mon.c and by tests that
 * run a monitor in-process).
 */
#ifndef CAIRN_MON_MAIN_H
#define CAIRN_MON_MAIN_H

#include <signal.h>

struct cairn_conf;

/* Opens (creating if empty) the store at mon_data, binds mon_addr (or the first mon_host),
 * serves until *stop becomes non-zero. 0 on a clean stop, negative errno on failure. */
int mon_main(const struct cairn_conf *conf, volatile sig_atomic_t *stop);

#endif
