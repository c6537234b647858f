/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * netclass.h - the operator's address classes (internal, exempt, allow,
 * quarantine, throttle) as one set of prefixes, and its closure into the
 * bwe_netclass LPM map.
 *
 * The XDP program does a single longest-prefix lookup per address, so every
 * prefix written to the map must carry the flags of every configured prefix
 * that contains it (a quarantined /32 inside an internal /24 is also
 * internal). bwe_ncset_closure() computes that in O(n log n): sorted by
 * address then length, containing prefixes come first and form a stack.
 */
#ifndef BWE_NETCLASS_H
#define BWE_NETCLASS_H

#include <stddef.h>
#include "addr.h"
#include "dataplane.h"

struct bwe_nc_entry {
	struct bwe_prefix pfx; /* host bits clear */
	__u32 flags;	       /* enum bwe_netclass_flag */
};

struct bwe_ncset {
	struct bwe_nc_entry *v;
	size_t n, cap;
};

void bwe_ncset_init(struct bwe_ncset *s);
void bwe_ncset_free(struct bwe_ncset *s);
/* Add flags to a prefix (host bits are cleared); the same prefix twice ORs. */
int bwe_ncset_add(struct bwe_ncset *s, const struct bwe_prefix *p, __u32 flags);
/* Sort, merge duplicates and propagate every prefix's flags to the prefixes it contains. */
int bwe_ncset_closure(struct bwe_ncset *s);
/* Flags of the longest prefix containing a, from a closed set (0 if none). */
__u32 bwe_ncset_lookup(const struct bwe_ncset *s, const struct bwe_addr *a);

/*
 * bwe_nc16 (bwe_abi.h) of a closed set: t holds BWE_NC16_ENTRIES slots.
 * A /16 gets the flags of the longest prefix of at most /16 covering it,
 * or BWE_NC16_MIXED when a longer prefix inside it has other flags, with
 * BWE_NC16_HOSTS when an address inside is internal.
 */
void bwe_ncset_nc16(const struct bwe_ncset *s, struct bwe_nc16_val *t);
/*
 * bwe_nc6 (bwe_abi.h) of a set: t holds BWE_NC6_WORDS words, with the bit
 * of every IPv6 /48 some prefix of s overlaps (every bit when a prefix is
 * shorter than BWE_NC6_SPAN).
 */
void bwe_ncset_nc6(const struct bwe_ncset *s, __u64 *t);
/*
 * bwe_nc4 (bwe_abi.h) of a set: t holds BWE_NC4_WORDS words, with the bit
 * of every /24 inside an IPv4 prefix of /17 to /24 of s and of every
 * address inside one of /25 to /32.
 */
void bwe_ncset_nc4(const struct bwe_ncset *s, __u64 *t);

struct bwe_range24;
/*
 * The IPv4 /24s holding an internal address of the closed set s, as
 * sorted, disjoint runs (*out, *n of them; free() it): what gets host slots
 * (lib/hslots.h). 0 or -ENOMEM.
 */
int bwe_ncset_internal24(const struct bwe_ncset *s, struct bwe_range24 **out, size_t *n);
/* Host slots the internal networks internal[n] would fill: 256 per /24 (0 on no memory). */
__u32 bwe_hslots_wanted(const struct bwe_prefix *internal, size_t n);

/*
 * Make the network classes equal to the closure of s, in one ordered
 * transaction: widen bwe_nc6 and bwe_nc4, write bwe_netclass, then
 * bwe_nc16 (derived from the same closure), delete stale prefixes, make
 * bwe_nc6 and bwe_nc4 exact, and
 * bump bwe_config.nc_gen last.
 */
int bwe_dp_netclass_apply(const struct bwe_dp *dp, struct bwe_ncset *s);

#endif /* BWE_NETCLASS_H */
