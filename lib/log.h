/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * log.h - one small logger shared by the daemon, the command and the tests
 * (after OpenBSD relayd's log.c).
 *
 * Contract:
 *  - Until log_init() is called, messages go to stderr, debug is off and the
 *    ident is the program's short name; a library routine may therefore log
 *    before main() has chosen a destination. ident is kept by reference and
 *    must outlive the logger (a string literal or argv[0]); NULL keeps the
 *    program's short name.
 *  - On stderr a line reads "ident: message\n". Under syslog (facility
 *    LOG_DAEMON, with the pid) the ident is syslog's own.
 *  - log_warn() appends ": strerror(errno)", log_warnx() does not; the same
 *    pair exists for fatal()/fatalx(), which log at LOG_CRIT and exit(1).
 *  - log_debug() prints only when verbose is non-zero.
 *  - errno is preserved by every function except fatal()/fatalx().
 *  - Not thread-safe: log_init()/log_setverbose() are called from the main
 *    thread before any other thread logs.
 */
#ifndef BWE_LOG_H
#define BWE_LOG_H

#include <stdarg.h>

void log_init(int to_stderr, int verbose, const char *ident);
void log_setverbose(int verbose);
int log_getverbose(void);

/* pri is a syslog(3) priority (LOG_ERR, LOG_INFO, ...). */
void logit(int pri, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void vlog(int pri, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif /* BWE_LOG_H */
