// SPDX-License-Identifier: GPL-2.0-only
/* notify.c - sd_notify(3) for Type=notify; contract in notify.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <systemd/sd-daemon.h>

#include "notify.h"

bool notify_enabled(void)
{
	const char *s = getenv("NOTIFY_SOCKET");

	return s && *s;
}

/* sd_notify() returns > 0 when sent, 0 without NOTIFY_SOCKET, -errno on error. */
static int send_msg(const char *msg)
{
	int r;

	if (!notify_enabled())
		return 0;
	/* 0: keep NOTIFY_SOCKET; the feed worker never sees it (sandbox.c's env) */
	r = sd_notify(0, msg);
	return r < 0 ? r : 0;
}

static int send_with_status(const char *head, const char *status)
{
	char msg[NOTIFY_STATUS_MAX + 64];

	if (!status)
		return send_msg(head);
	snprintf(msg, sizeof(msg), "%s\nSTATUS=%.*s", head, NOTIFY_STATUS_MAX - 1, status);
	return send_msg(msg);
}

int notify_watchdog_period(__u64 *usec)
{
	uint64_t u = 0;
	int r = sd_watchdog_enabled(0, &u);

	*usec = 0;
	if (r < 0)
		return r;
	if (r > 0)
		*usec = u / 2 ? u / 2 : 1;
	return 0;
}

int notify_ready(const char *status)
{
	return send_with_status("READY=1", status);
}

int notify_reloading(void)
{
	struct timespec ts;
	char head[64];

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(head, sizeof(head), "RELOADING=1\nMONOTONIC_USEC=%llu",
		 (unsigned long long)ts.tv_sec * 1000000ULL +
			 (unsigned long long)ts.tv_nsec / 1000);
	return send_with_status(head, "reloading");
}

int notify_stopping(void)
{
	return send_with_status("STOPPING=1", "stopping");
}

int notify_status(const char *status)
{
	char msg[NOTIFY_STATUS_MAX + 16];

	snprintf(msg, sizeof(msg), "STATUS=%.*s", NOTIFY_STATUS_MAX - 1, status);
	return send_msg(msg);
}

int notify_watchdog(void)
{
	return send_msg("WATCHDOG=1");
}
