/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * neighwatch.h - the daemon's own view of the kernel's neighbour table
 * (rtnetlink RTNLGRP_NEIGH through libnl-3), so that the daemon, not its
 * clients, knows which MAC address an internal address has and which
 * addresses a MAC address has (layer 0, like linkwatch.h).
 *
 * Only the daemon and its tests include this. Contract:
 *  - The view holds every neighbour entry of both families in our network
 *    namespace that has a unicast MAC address and is usable: not FAILED,
 *    not INCOMPLETE; IPv6 link-local entries are left out (they never
 *    cross a router, so they never meet the enforcer). At most max entries
 *    (bwe_neighwatch_open); beyond that new entries are not kept and
 *    counted in bwe_neigh_dropped().
 *  - The callback runs when an address is seen with a MAC address it did
 *    not have in the view (a new entry, or a changed MAC), never for
 *    state changes of an entry already known. Entries that exist when the
 *    view opens are known but not reported.
 *  - When the kernel dropped notifications (socket overflow) the view
 *    re-reads the whole table and reports what is new meanwhile.
 *  - Callbacks run inside bwe_neighwatch_process(), which must not be
 *    called from a callback; a callback must not close the view.
 *  - Lookups are over the view in memory: they never block.
 *  - Functions return 0 or -errno. Not thread-safe.
 */
#ifndef BWE_NEIGHWATCH_H
#define BWE_NEIGHWATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "addr.h"

#define BWE_NEIGH_MAX_DEFAULT 65536 /* entries kept at most by default */

struct bwe_neighwatch;

typedef void (*bwe_neigh_cb)(const struct bwe_addr *a, const __u8 mac[BWE_MAC_LEN], int ifindex,
			     void *ctx);

/* Subscribe to RTNLGRP_NEIGH and read the current table. max: 0 = default. */
int bwe_neighwatch_open(struct bwe_neighwatch **out, size_t max, bwe_neigh_cb cb, void *ctx);
/* Non-blocking descriptor for epoll: readable when notifications are queued. */
int bwe_neighwatch_fd(const struct bwe_neighwatch *nw);
/* Read every queued notification (a bounded number per call) and run the callback. */
int bwe_neighwatch_process(struct bwe_neighwatch *nw);
void bwe_neighwatch_close(struct bwe_neighwatch *nw); /* NULL-safe */

/* The MAC address of a; -ENOENT when the view has no entry for it. */
int bwe_neigh_mac_of(const struct bwe_neighwatch *nw, const struct bwe_addr *a,
		     __u8 mac[BWE_MAC_LEN]);
/*
 * The addresses the view has for mac: up to max of them into out (out may
 * be NULL with max 0); returns how many there are in all.
 */
size_t bwe_neigh_addrs_of(const struct bwe_neighwatch *nw, const __u8 mac[BWE_MAC_LEN],
			  struct bwe_addr *out, size_t max);
size_t bwe_neigh_count(const struct bwe_neighwatch *nw);
size_t bwe_neigh_dropped(const struct bwe_neighwatch *nw);

/* Zero, broadcast or multicast (group bit set): never one host's address. */
bool bwe_mac_is_group_or_zero(const __u8 mac[BWE_MAC_LEN]);
/* A MAC address of one of this machine's own interfaces (this namespace). */
bool bwe_mac_is_own(const __u8 mac[BWE_MAC_LEN]);

#endif /* BWE_NEIGHWATCH_H */
