/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * nlsub.h - a non-blocking rtnetlink subscription (libnl-3), the plumbing
 * the daemon's link and neighbour watches share (ctl/bwctld/linkwatch.c,
 * neighwatch.c): what each one does with a message stays its own.
 *
 * Contract:
 *  - bwe_nlsub_open() connects a socket to NETLINK_ROUTE, joins one
 *    multicast group, makes it non-blocking with a receive buffer of rcvbuf
 *    bytes and calls on_msg(msg, arg) for each valid message. Sequence
 *    numbers are not checked (notifications carry the kernel's). 0 or
 *    -errno; *out is set only on success.
 *  - bwe_nlsub_process() reads what is queued, at most BWE_NLSUB_READS
 *    datagrams (the event loop calls again while the descriptor is
 *    readable), and stops early when *cb_err (the callbacks' first error)
 *    is set. When the kernel dropped notifications (ENOBUFS) it calls
 *    resync(arg) to read the whole table again and goes on. Returns *cb_err,
 *    else 0 or -errno; what names the watch in its log lines.
 *  - bwe_nl_errno() maps libnl's NLE_* codes to -errno (libnl has no public
 *    reverse mapping).
 */
#ifndef BWE_NLSUB_H
#define BWE_NLSUB_H

#include <netlink/netlink.h>
#include <netlink/handlers.h>

#define BWE_NLSUB_READS 64 /* datagrams per bwe_nlsub_process() call */

int bwe_nlsub_open(struct nl_sock **out, int group, int rcvbuf, nl_recvmsg_msg_cb_t on_msg,
		   void *arg);
int bwe_nlsub_process(struct nl_sock *sock, const int *cb_err, int (*resync)(void *arg), void *arg,
		      const char *what);
int bwe_nl_errno(int nlerr);

#endif /* BWE_NLSUB_H */
