/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * client.h - bwctl's side of the control protocol (lib/proto.h): build a
 * request, send it, turn the reply into a result or an exit status.
 *
 * The connection is made on the first call, after every argument has been
 * checked, so bad input never reaches the daemon. bwctld answers one
 * request per connection, so a caller that sends another (the live top
 * view) disconnects first; nothing is ever sent twice.
 */
#ifndef BWCTL_CLIENT_H
#define BWCTL_CLIENT_H

#include <json-c/json.h>

#include "bwctl.h"

#define BWCTL_ARGV_MAX 4096 /* bytes of "argv" sent; longer lines are cut */

/* A new request {"cmd": cmd, "argv": c->argv_line}. */
struct json_object *bwctl_request(const struct bwctl *c, const char *cmd);

/*
 * Send req (always consumed) and wait for the reply. Returns
 * BWCTL_EXIT_OK with *result set (the caller puts it; a reply without a
 * result gives an empty object), or the exit status after printing why:
 *   "bwctl: cannot connect to bwctld at PATH: <strerror>"   -> 1
 *   "bwctl: <error>" from the daemon                           -> its status
 *   a request over BWE_PROTO_REQ_MAX (nothing sent)           -> 2
 *   no or a malformed reply                                   -> 1
 */
int bwctl_call(struct bwctl *c, struct json_object *req, struct json_object **result);

void bwctl_disconnect(struct bwctl *c);

/* The command line as sent in "argv" (malloc'ed, cut at BWCTL_ARGV_MAX). */
char *bwctl_join_argv(int argc, char **argv);

#endif /* BWCTL_CLIENT_H */
