/*
 * log — leveled, subsystem-tagged, timestamped log lines to stderr or a file.
 *
 * One line per call, written with a single write(2) on an O_APPEND descriptor, so lines from
 * threads and processes sharing a file never interleave (lines are cut at LOG_LINE_MAX).
 *     2026-11-23T18:44:42.123456Z osd.3 INFO osd: pg 1.7 active
 * The CLOG_* macros test the level before evaluating their arguments: a disabled level costs
 * one load and one compare. Before log_init() logs go to stderr at LOG_WARN with entity "-".
 * log_init() may be called again (level change, reopen after rotation); it is meant for
 * process start and SIGHUP-style reopen, not for hot paths.
 */
#ifndef CAIRN_LOG_H
#define CAIRN_LOG_H

#include <stdarg.h>

#define LOG_ERR	  0
#define LOG_WARN  1
#define LOG_INFO  2
#define LOG_DEBUG 3
#define LOG_TRACE 4

#define LOG_LINE_MAX 2048

struct cairn_conf;

/* Current level; read by the macros (written only by log_init / log_set_level). */
extern volatile int cairn_log_level;

/* path NULL or "": stderr. entity names the process in each line ("osd.3", "mon", "client").
 * Returns 0 or a negative errno (the file could not be opened: logging stays where it was). */
int log_init(const char *path_or_null, int level, const char *entity);
/* log_init() from the options log_file and log_level. */
int log_init_conf(const struct cairn_conf *c, const char *entity);
void log_set_level(int level);
/* Reopens the current log file (after logrotate moved it; call it from normal context when
 * SIGHUP arrives, not from the signal handler). No-op when logging to stderr. */
int log_reopen(void);
/* Closes the file, if any; later lines go to stderr. */
void log_close(void);

void log_write(int level, const char *subsys, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void log_vwrite(int level, const char *subsys, const char *fmt, va_list ap);

#define CLOG(level, subsys, ...)                                                                   \
	do {                                                                                       \
		if ((level) <= cairn_log_level)                                                    \
			log_write((level), (subsys), __VA_ARGS__);                                 \
	} while (0)
#define CLOG_ERR(subsys, ...)	CLOG(LOG_ERR, subsys, __VA_ARGS__)
#define CLOG_WARN(subsys, ...)	CLOG(LOG_WARN, subsys, __VA_ARGS__)
#define CLOG_INFO(subsys, ...)	CLOG(LOG_INFO, subsys, __VA_ARGS__)
#define CLOG_DEBUG(subsys, ...) CLOG(LOG_DEBUG, subsys, __VA_ARGS__)
#define CLOG_TRACE(subsys, ...) CLOG(LOG_TRACE, subsys, __VA_ARGS__)

#endif
