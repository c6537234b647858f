// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * log.c - stderr/syslog logger; the contract is in log.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "log.h"

#define LOG_EXIT_FATAL 1 /* exit status of fatal()/fatalx() */

static int log_to_stderr = 1;
static int log_verbose;
static const char *log_ident; /* NULL: program_invocation_short_name */

static const char *log_name(void)
{
	return log_ident ? log_ident : program_invocation_short_name;
}

void log_init(int to_stderr, int verbose, const char *ident)
{
	int saved_errno = errno;

	if (!log_to_stderr)
		closelog();
	log_to_stderr = to_stderr;
	log_verbose = verbose;
	log_ident = ident;
	if (!to_stderr)
		openlog(log_name(), LOG_PID | LOG_NDELAY, LOG_DAEMON);
	errno = saved_errno;
}

void log_setverbose(int verbose)
{
	log_verbose = verbose;
}

int log_getverbose(void)
{
	return log_verbose;
}

void vlog(int pri, const char *fmt, va_list ap)
{
	int saved_errno = errno;

	if (log_to_stderr) {
		flockfile(stderr); /* one line whole, whichever thread logs (bwctld's saver.c) */
		fprintf(stderr, "%s: ", log_name());
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
		fflush(stderr);
		funlockfile(stderr);
	} else {
		vsyslog(pri, fmt, ap);
	}
	errno = saved_errno;
}

void logit(int pri, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(pri, fmt, ap);
	va_end(ap);
}

/*
 * Log fmt followed by ": strerror(err)". The message is formatted first so
 * that the suffix lands on the same line and in the same syslog record.
 */
__attribute__((format(printf, 3, 0))) static void vlog_errno(int pri, int err, const char *fmt,
							     va_list ap)
{
	char *msg = NULL;

	if (vasprintf(&msg, fmt, ap) < 0) {
		/* out of memory: still say something useful */
		logit(pri, "%s", strerror(err));
		return;
	}
	logit(pri, "%s: %s", msg, strerror(err));
	free(msg);
}

void log_warn(const char *fmt, ...)
{
	int saved_errno = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog_errno(LOG_ERR, saved_errno, fmt, ap);
	va_end(ap);
	errno = saved_errno;
}

void log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_ERR, fmt, ap);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, fmt, ap);
	va_end(ap);
}

void log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	vlog(LOG_DEBUG, fmt, ap);
	va_end(ap);
}

void fatal(const char *fmt, ...)
{
	int saved_errno = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog_errno(LOG_CRIT, saved_errno, fmt, ap);
	va_end(ap);
	exit(LOG_EXIT_FATAL);
}

void fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap);
	va_end(ap);
	exit(LOG_EXIT_FATAL);
}
