/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * linkwatch.h - tell the daemon when network interfaces come and go
 * (rtnetlink RTNLGRP_LINK through libnl-3), so that it can attach to an
 * interface that appears late or is recreated.
 *
 * Only the daemon includes this. Contract:
 *  - The callback reports a change of a name's state: present=true with the
 *    ifindex the name now has (a new link, a link renamed to it, or a name
 *    whose ifindex changed), present=false with the ifindex it had (deleted,
 *    renamed away, moved to another namespace). A link deleted and recreated
 *    under the same name gives present=false (old ifindex), then
 *    present=true (new ifindex), even when both happened before we read.
 *  - Every report is checked against the kernel's current state, so stale
 *    or duplicated notifications never produce one; changes of flags, MTU,
 *    carrier or attached XDP programs are not reported. Links that exist
 *    when the watch opens are known but not reported.
 *  - When the kernel dropped notifications (socket overflow) the watch
 *    re-reads every link and reports what changed meanwhile.
 *  - Callbacks run inside bwe_linkwatch_process(), which must not be called
 *    from a callback; a callback must not close the watch.
 *  - Functions return 0 or -errno. Not thread-safe.
 */
#ifndef BWE_LINKWATCH_H
#define BWE_LINKWATCH_H

#include <stdbool.h>

struct bwe_linkwatch;

/* name: the interface name (at most IFNAMSIZ - 1 characters). */
typedef void (*bwe_link_cb)(const char *name, int ifindex, bool present, void *ctx);

/* Subscribe to RTNLGRP_LINK and learn the current links. */
int bwe_linkwatch_open(struct bwe_linkwatch **out, bwe_link_cb cb, void *ctx);
/* Non-blocking descriptor for epoll/poll: readable when events are queued. */
int bwe_linkwatch_fd(const struct bwe_linkwatch *lw);
/* Read every queued notification and run the callbacks. */
int bwe_linkwatch_process(struct bwe_linkwatch *lw);
void bwe_linkwatch_close(struct bwe_linkwatch *lw);
/* ifindex of the interface called name in our namespace, 0 if absent. */
int bwe_link_ifindex(const char *name);

#endif /* BWE_LINKWATCH_H */
