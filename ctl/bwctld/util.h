/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * util.h - layer 0 of bwctld (docs/architecture.md, "Layers"): small
 * helpers with no knowledge of the daemon: RFC 3339 times, directories,
 * whole-file reads and atomic, fsync'ed whole-file writes, the gateway's own
 * addresses. Every function returns 0 or -errno unless it says otherwise.
 */
#ifndef BWCTLD_UTIL_H
#define BWCTLD_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include <linux/types.h>
#include <json-c/json.h>

#include "addr.h"
#include "bwe_util.h"
#include "bwe_version.h"

#define BWCTLD_VERSION	BWE_VERSION
#define BWE_TIME_STRLEN 32 /* "2026-12-04T18:07:12Z" and room */

/* RFC 3339 UTC, seconds: "2026-12-04T18:07:12Z". */
void fmt_time(time_t t, char *buf, size_t len);
/* o[key] = fmt_time(t), or null for t == 0. */
void json_add_time(struct json_object *o, const char *key, time_t t);
/* mkdir -p with mode 0750 for the directories it creates. */
int mkdir_p(const char *dir);
/* mkdir -p of the directory part of path (nothing when there is none). */
int mkdir_parent(const char *path);
/*
 * Write len bytes to path atomically: a temporary file beside it, write,
 * fsync, rename over path, fsync the directory. On failure path is as it
 * was and the temporary file is gone.
 */
int write_file_atomic(const char *path, const void *data, size_t len, unsigned int mode);
/* read_file() flags */
#define READ_FOLLOW 1 /* follow a symbolic link at path's last component */
/*
 * Read a whole regular file of at most max bytes into a NUL-terminated
 * malloc'ed buffer. Opened O_NONBLOCK (a FIFO never blocks the caller) and,
 * without READ_FOLLOW, O_NOFOLLOW; the type is checked on the open fd.
 * -ELOOP: a symbolic link (no READ_FOLLOW); -EINVAL: not a regular file
 * (FIFO, socket, device, directory); -EFBIG: larger than max; -errno.
 */
int read_file(const char *path, __u64 max, unsigned int flags, char **out, size_t *len);
/* Is a one of this machine's own addresses (any interface, any family)? */
bool is_gateway_addr(const struct bwe_addr *a);
/* Call fn for each of this machine's addresses that crosses the program
 * (not loopback, not IPv6 link-local). Stops at fn's first error. */
int for_each_gateway_addr(int (*fn)(const struct bwe_addr *a, void *ctx), void *ctx);

#endif /* BWCTLD_UTIL_H */
