/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * hslots.h - the IPv4 host slots of the data plane (bwe_abi.h, "per-host
 * accounting"): which internal /24 holds which block of bwe_hslots, and
 * which /16 which row of bwe_hslot24.
 *
 * The maps are the truth: bwe_hslots_open() reads the assignment back
 * from bwe_nc16's rows and bwe_hslot24 (pinned maps outlive the daemon),
 * and every change writes them. Blocks go to the internal /24s in address
 * order while blocks last; a block stays with its /24 as long as the /24
 * stays internal, so a host keeps its record. A block or row given up is
 * zeroed, and not given out again in the same change: a program that read
 * the old assignment an instant before never writes into another /24's
 * records (the next change is far more than a program run later).
 */
#ifndef BWE_HSLOTS_H
#define BWE_HSLOTS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "bwe_abi.h"

struct bwe_dp;
struct bwe_hslots;

/* A run of /24s (IPv4 address >> 8), both ends included. */
struct bwe_range24 {
	__u32 lo, hi;
};

/*
 * The slot state of dp's maps (dp->hsl): blocks is the number of blocks
 * the daemon may hand out (0: none; the maps hold at least one). 0 or
 * -errno.
 */
int bwe_hslots_open(struct bwe_hslots **out, const struct bwe_dp *dp, __u32 blocks);
void bwe_hslots_free(struct bwe_hslots *h); /* NULL-safe */

/*
 * Give blocks to the internal /24s of want (sorted, disjoint runs; n of
 * them) and take them from the /24s no longer in it, then set each /16's
 * row in t16 (BWE_NC16_ENTRIES, flags already computed), which the caller
 * writes to bwe_nc16 next (lib/netclass.c). A new block is zeroed before
 * its bwe_hslot24 entry names it. 0 or -errno (the maps as far as written:
 * each entry is consistent on its own).
 */
int bwe_hslots_assign(struct bwe_hslots *h, const struct bwe_range24 *want, size_t n,
		      struct bwe_nc16_val *t16);

/* Blocks the daemon may hand out, and those given to a /24 now. */
__u32 bwe_hslots_blocks(const struct bwe_hslots *h);
__u32 bwe_hslots_used(const struct bwe_hslots *h);
/* The /24 (IPv4 address >> 8) block b serves: true, or false when it serves none. */
bool bwe_hslots_block_net(const struct bwe_hslots *h, __u32 b, __u32 *net24);
/* The slot of IPv4 address a (host byte order): true, or false when its /24 has none. */
bool bwe_hslots_slot(const struct bwe_hslots *h, __u32 a, __u32 *slot);

/* Slot's bwe_hslot_drop entries, one per CPU of the data plane, into out (as many). */
void bwe_hslots_drops(const struct bwe_hslots *h, __u32 slot, struct bwe_hslot_drop *out);

/*
 * Forget the host of slot (the daemon's idle sweep, bwe_dp_hosts_forget()):
 * its sent bit is cleared, atomically against the program setting others
 * in the same word, and then its drop entry and record zeroed on every CPU
 * (the order is argued in hslots.c). 1: forgotten, 0: it was no host (bit clear), or
 * -errno (the record could not be zeroed: its bit is set again, so it
 * stays a host the daemon reads).
 */
int bwe_hslots_forget(const struct bwe_hslots *h, __u32 slot);

#endif /* BWE_HSLOTS_H */
