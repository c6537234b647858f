/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fleetwork.h - the fleet worker: the child process that speaks etcd v3's
 * HTTP/JSON gateway for bwctld. Called only from the child's entry point
 * (bwctld --fleet-worker); the parent side is fleetclient.h, the framing
 * fleetwire.h.
 *
 * Contract:
 *  - bwe_fleetwork_main() runs in a process that sandbox.h already made
 *    unprivileged. It initialises libcurl, enters bwe_fleetwork_seccomp,
 *    waits for the parent's init message, then serves until the parent
 *    closes the socket: one curl multi loop holds the watch stream, the
 *    site lease's keep-alives, snapshot pages, the queued requests (one at
 *    a time, in order) and the parent's socket, so none waits on another.
 *  - Endpoints are tried in order. A transport error, an HTTP 5xx or a
 *    request over its timeout (etcd without a leader lets a write hang)
 *    moves to the next endpoint at once; the watch resumes from the last
 *    delivered revision + 1, a snapshot continues at its revision, the
 *    request in flight is retried. When every endpoint failed in one round,
 *    STATE says disconnected with each endpoint's reason (once the
 *    connection has been lost for BWE_FLW_DETACH_GRACE_MS: a leader
 *    election is no detachment), and the next round starts after
 *    BWE_FLW_RETRY_MIN_MS doubling to BWE_FLW_RETRY_MAX_MS.
 *  - A watch that stays silent is normal; a dead member or a member
 *    without a leader is found by the site lease's keep-alive (every third
 *    of its TTL, within the request timeout) and TCP keep-alive on the
 *    stream.
 *  - Returns 0 when the parent closed the socket, -EBADMSG on a malformed
 *    message from it, another -errno when the socket or the sandbox failed.
 */
#ifndef BWE_FLEETWORK_H
#define BWE_FLEETWORK_H

#include "sandbox.h"

#define BWE_FLEETWORK_ARG	"--fleet-worker" /* bwctld's argv[1] for the worker */
#define BWE_FLW_PAGE_KEYS	500		 /* keys per snapshot page */
#define BWE_FLW_RETRY_MIN_MS	500		 /* first pause after a failed round */
#define BWE_FLW_RETRY_MAX_MS	4000		 /* longest pause */
#define BWE_FLW_DETACH_GRACE_MS 3000 /* a failed round reports disconnected after this */
#define BWE_FLW_RESP_MAX	(32 * 1024 * 1024) /* bytes of one answer or watch line */

/* The feed worker's syscall table (feedwork.h): libcurl, sockets, poll. */
extern const struct bwe_seccomp_profile bwe_fleetwork_seccomp;

int bwe_fleetwork_main(int fd);

#endif /* BWE_FLEETWORK_H */
