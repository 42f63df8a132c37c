/* log — see log.h. The descriptor and entity are swapped under a mutex; writers take a
 * snapshot under the same mutex (cheap: logging at an enabled level is not a hot path). */
#include "common/log.h"

#include "common/config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

volatile int cairn_log_level = LOG_WARN;

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int log_fd = -1; /* -1: stderr; protected by log_lock */
static char log_entity[64] = "-";
static char log_path[4096]; /* "" when logging to stderr; protected by log_lock */

static const char *const level_names[] = {"ERR", "WARN", "INFO", "DEBUG", "TRACE"};

static int clamp_level(int level)
{
	return level < LOG_ERR ? LOG_ERR : level > LOG_TRACE ? LOG_TRACE : level;
}

int log_init(const char *path, int level, const char *entity)
{
	int fd = -1, old;

	if (path && *path) {
		fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (fd < 0)
			return -errno;
	}
	pthread_mutex_lock(&log_lock);
	old = log_fd;
	log_fd = fd;
	snprintf(log_entity, sizeof(log_entity), "%s", entity && *entity ? entity : "-");
	snprintf(log_path, sizeof(log_path), "%s", fd >= 0 ? path : "");
	cairn_log_level = clamp_level(level);
	pthread_mutex_unlock(&log_lock);
	if (old >= 0)
		close(old);
	return 0;
}

int log_init_conf(const struct cairn_conf *c, const char *entity)
{
	return log_init(conf_str(c, "log_file"), (int)conf_int(c, "log_level"), entity);
}

int log_reopen(void)
{
	char path[sizeof(log_path)];
	int fd, old;

	pthread_mutex_lock(&log_lock);
	memcpy(path, log_path, sizeof(path));
	pthread_mutex_unlock(&log_lock);
	if (!path[0])
		return 0;
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	pthread_mutex_lock(&log_lock);
	old = log_fd;
	log_fd = fd;
	pthread_mutex_unlock(&log_lock);
	if (old >= 0)
		close(old);
	return 0;
}

void log_set_level(int level)
{
	cairn_log_level = clamp_level(level);
}

void log_close(void)
{
	int old;

	pthread_mutex_lock(&log_lock);
	old = log_fd;
	log_fd = -1;
	log_path[0] = '\0';
	pthread_mutex_unlock(&log_lock);
	if (old >= 0)
		close(old);
}

void log_vwrite(int level, const char *subsys, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];
	struct timespec ts;
	struct tm tm;
	size_t n = 0;
	int r, saved_errno = errno;

	level = clamp_level(level);
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	pthread_mutex_lock(&log_lock);
	r = snprintf(line + n, sizeof(line) - n, ".%06ldZ %s %s %s: ", ts.tv_nsec / 1000,
		     log_entity, level_names[level], subsys ? subsys : "-");
	if (r > 0)
		n += (size_t)r < sizeof(line) - n ? (size_t)r : sizeof(line) - n - 1;
	r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	if (r > 0)
		n += (size_t)r < sizeof(line) - n ? (size_t)r : sizeof(line) - n - 1;
	while (n > 0 && line[n - 1] == '\n')
		n--;
	line[n++] = '\n';
	/* one write per line; a short write to a full disk is not retried (logging must not
	 * block or fail the caller) */
	if (write(log_fd >= 0 ? log_fd : STDERR_FILENO, line, n) < 0) {
		/* nothing useful to do */
	}
	pthread_mutex_unlock(&log_lock);
	errno = saved_errno;
}

void log_write(int level, const char *subsys, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(level, subsys, fmt, ap);
	va_end(ap);
}
