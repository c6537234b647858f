/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * notify.h - layer 0 of bwctld: systemd's service notification protocol
 * (sd_notify(3)) for Type=notify, wrapped so that main.c says what happened
 * ("ready", "reloading", "stopping") and never writes protocol strings.
 *
 * Without NOTIFY_SOCKET in the environment (started by hand, by a test, by
 * another supervisor) every call does nothing and returns 0: the daemon
 * behaves exactly as without systemd. Errors are returned as -errno and are
 * never fatal to the caller: a supervisor that stopped listening must not
 * stop enforcement.
 */
#ifndef BWCTLD_NOTIFY_H
#define BWCTLD_NOTIFY_H

#include <stdbool.h>
#include <linux/types.h>

/* A STATUS= line is at most this long (bytes, with the NUL); longer is cut. */
#define NOTIFY_STATUS_MAX 256

/* NOTIFY_SOCKET is set: somebody listens. */
bool notify_enabled(void);
/*
 * The keep-alive period the supervisor asks for: half of WATCHDOG_USEC
 * (sd_watchdog_enabled(3)), in microseconds; 0 when no watchdog is wanted
 * (no WATCHDOG_USEC, or WATCHDOG_PID names another process). -errno for a
 * malformed WATCHDOG_USEC.
 */
int notify_watchdog_period(__u64 *usec);
/* READY=1 with a STATUS= line (NULL: none). Also after a reload. */
int notify_ready(const char *status);
/* RELOADING=1 with MONOTONIC_USEC= (systemd >= 253 wants it) and STATUS=reloading. */
int notify_reloading(void);
/* STOPPING=1 and STATUS=stopping. */
int notify_stopping(void);
/* STATUS= alone. */
int notify_status(const char *status);
/* WATCHDOG=1: the event loop is alive. */
int notify_watchdog(void);

#endif /* BWCTLD_NOTIFY_H */
