/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * caps.h - layer 0 of bwctld: which capabilities the process holds.
 *
 * bwctld says at start-up which capability it lacks and what for, instead of
 * failing later with EPERM deep in libbpf or libxdp (without CAP_SYS_ADMIN
 * libxdp 1.3 crashes in its fallback path). The table of what is needed and
 * why lives with its caller (main.c); docs/deployment.md explains each.
 */
#ifndef BWCTLD_CAPS_H
#define BWCTLD_CAPS_H

#include <stdbool.h>
#include <stddef.h>

struct caps_need {
	int cap;	  /* CAP_* of <linux/capability.h> */
	const char *name; /* "CAP_NET_ADMIN" */
	const char *why;  /* what fails without it */
	bool *when;	  /* needed only when *when is true; NULL: always */
};

/*
 * The needs of need[0..n) missing from the effective set, written to buf as
 * "CAP_X (why); CAP_Y (why)". Returns how many are missing, or -errno when
 * the set cannot be read.
 */
int caps_missing(const struct caps_need *need, size_t n, char *buf, size_t len);

#endif /* BWCTLD_CAPS_H */
