/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * proto.h - the control protocol between bwctl (and any script) and bwctld,
 * defined once. Both sides include this file; nothing else defines messages.
 *
 * Transport: AF_UNIX SOCK_STREAM at the configured socket path. A message
 * is a 4-byte big-endian length followed by that many bytes of one JSON
 * object (UTF-8, no NUL). A request is at most BWE_PROTO_REQ_MAX bytes, a
 * reply at most BWE_PROTO_REPLY_MAX. One request, one reply; the client
 * may send further requests on the same connection.
 *
 * Request:  { "cmd": "<name>", "argv": "<the client's command line>", ...args }
 * Reply:    { "ok": true, "result": <value> }
 *        |  { "ok": false, "status": 1|2, "error": "<what was wrong>" }
 * status 2 = bad request or bad input (nothing was changed), 1 = failed.
 * The actor of a request is the peer's credentials (SO_PEERCRED uid/pid)
 * plus "argv"; the daemon never trusts a client-supplied identity.
 *
 * Commands and their arguments (all optional unless marked *):
 *   status                                   -> object (see bwctl(8))
 *   stats                                    -> object reason -> {packets, bytes}
 *   quarantine  hosts*[] ttl reason force    -> {"changed": [entry...]}
 *   release     hosts*[] reason              -> {"changed": [entry...]}
 *   throttle    hosts*[] rate* burst ttl reason force -> {"changed": [entry...]}
 *   unthrottle  hosts*[] reason              -> {"changed": [entry...]}
 *   block       cidrs*[] ttl reason          -> {"changed": [entry...]}
 *   unblock     cidrs*[] reason
 *   exempt      cidrs*[] ttl reason ;  unexempt cidrs*[] reason
 *   allow       cidrs*[] ttl reason ;  unallow  cidrs*[] reason
 *   list        kind* ("quarantine"|"throttle"|"blocks"|"exempt"|"allow") -> [entry...]
 *   top         n sort ("tx"|"rx"|"drops"|"rate")  -> [host row...]
 *   lookup      address*                     -> {verdict, reason, entry, feed, ...}
 *   attach      iface* mode ("native"|"generic"|"auto") -> status of the interface
 *   detach      iface (absent: all, and unpin) -> {"detached": [names]}
 *   feeds       -> [feed...]         feeds_refresh  name -> {"refreshed": [names]}
 *   report      host*                        -> object (see bwctl(8))
 * Types: hosts/cidrs are address or CIDR strings already resolved by the
 * client (MAC and hostname resolution happen in bwctl); ttl, in seconds, is
 * an integer (0 or absent: no expiry); rate and burst are integers in bytes
 * per second and bytes; force is a boolean.
 * An entry: {"host" or "cidr", "reason", "actor", "since", "expires",
 * "rate", "burst"} with times as RFC 3339 UTC strings, "expires" null when
 * the entry does not expire.
 */
#ifndef BWE_PROTO_H
#define BWE_PROTO_H

#include <stddef.h>
#include <linux/types.h>
#include <json-c/json.h>

#define BWE_PROTO_REQ_MAX    (64 * 1024)	/* bytes of one request */
#define BWE_PROTO_REPLY_MAX  (64 * 1024 * 1024) /* bytes of one reply */
#define BWE_PROTO_HDR_LEN    4			/* big-endian length prefix */
#define BWE_PROTO_TIMEOUT_MS 10000		/* a client gives up after this */
#define BWE_SOCKET_DEFAULT   "/run/bwenforce/bwctld.sock"

enum bwe_proto_status {
	BWE_ST_OK = 0,
	BWE_ST_FAILED = 1,
	BWE_ST_BADINPUT = 2,
};

/* Send one JSON object as a message. Returns 0 or -errno. */
int bwe_proto_send(int fd, struct json_object *msg);
/*
 * Receive one message of at most max bytes and parse it. Returns 0,
 * -EMSGSIZE (too long: the connection must be dropped), -EBADMSG (not a
 * JSON object), -ECONNRESET (peer closed), -ETIMEDOUT, or -errno.
 */
int bwe_proto_recv(int fd, size_t max, int timeout_ms, struct json_object **out);

/* Client side: connect to the daemon's socket. Returns an fd or -errno. */
int bwe_proto_connect(const char *path);
/*
 * Send a request and wait for its reply. Returns 0 with *reply set, or
 * -errno for transport failures.
 */
int bwe_proto_call(int fd, struct json_object *req, struct json_object **reply);

/* Build replies (daemon side). err_reply formats the error text. */
struct json_object *bwe_proto_ok(struct json_object *result);
struct json_object *bwe_proto_err(int status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif /* BWE_PROTO_H */
