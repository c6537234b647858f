/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * bl4tab.h - the daemon's side of the dense IPv4 exact-host table (layout in
 * bwe_abi.h, lookup rules in bwe_bl4.h): create one, place, change and
 * remove entries through an mmap of it, read it back. User space only;
 * lib/blocklist.c is its one writer.
 *
 * Writes while programs read (the table is live) keep this contract:
 *  - every change is one whole-slot store (__atomic_store_n, release): a
 *    lookup sees an entry's address and ref together, or neither;
 *  - an entry never moves while it stays listed: a lookup of an address that
 *    was listed before a change and stays listed after it finds it during
 *    the change too;
 *  - a new entry placed past its home bucket first raises the spill count
 *    of every bucket it passes, then stores its slot, so the chain leads to
 *    it before it is visible; a removed entry's slot is emptied before the
 *    counts it raised are lowered, and a count reaches 0 only when no entry
 *    lies past its bucket any more;
 *  - a removed entry's slot is stored empty (ref 0) in one store: its ref
 *    is never seen with another address, and a slot reused for another
 *    address receives the new address and ref together.
 * A new seed or size is a new table, filled and then swapped in with one
 * update of the outer slot (lib/blocklist.c).
 *
 * Functions return 0 or -errno.
 */
#ifndef BWE_BL4TAB_H
#define BWE_BL4TAB_H

#include <stdbool.h>
#include <stddef.h>
#include "bwe_abi.h"

/* A table takes entries up to 5/8 of its slots (the load beyond which placement within BWE_BL4_PROBE_MAX buckets starts to fail). */
#define BWE_BL4_LOAD_NUM 5
#define BWE_BL4_LOAD_DEN 8

struct bwe_bl4 {
	int fd;			    /* the table (not owned: the caller closes it) */
	__u32 mask;		    /* buckets - 1 */
	__u64 seed;		    /* its hash key (below 2^32) */
	__u32 tag;		    /* its tag (bwe_abi.h), 1..BWE_BL4_TAG_MAX */
	size_t slots;		    /* buckets x BWE_BL4_WAYS */
	size_t limit;		    /* entries it takes: bwe_bl4_limit(slots) */
	struct bwe_bl4_bucket *map; /* header then buckets; NULL: not mapped */
	size_t map_len;		    /* bytes mapped */
	bool map_rw;		    /* mapped for writing */
};

/* Entries a table of slots takes. */
size_t bwe_bl4_limit(size_t slots);
/* A new, empty table of slots (a power of two, >= BWE_BL4_SLOTS_MIN) keyed by seed (below 2^32; 0: a random one), with tag (1..BWE_BL4_TAG_MAX) in its header and buckets: its fd, or -errno. */
int bwe_bl4_create(size_t slots, __u64 seed, __u32 tag);
/* The word of bwe_bl4_key that describes table t. */
__u64 bwe_bl4_key_of(const struct bwe_bl4 *t);
/* Take table fd (its header read; nothing mapped yet). -EPROTO: not a table of this layout. */
int bwe_bl4_open(struct bwe_bl4 *t, int fd);
void bwe_bl4_close(struct bwe_bl4 *t);
/* Map the table to read it, or to write it too (-EPERM when the map is frozen). */
int bwe_bl4_map(struct bwe_bl4 *t, bool write);
void bwe_bl4_unmap(struct bwe_bl4 *t);
/* Mapped: set address a (network byte order) to ref, or remove it (ref 0). -E2BIG: no room (the table is at its limit or no slot is free within BWE_BL4_PROBE_MAX buckets of a's home); nothing changed. Mapped for writing. */
int bwe_bl4_put(struct bwe_bl4 *t, __be32 a, __u8 ref);
/* Mapped: start loading a's home bucket into the cache (for a loop of puts). */
void bwe_bl4_prefetch(const struct bwe_bl4 *t, __be32 a);
/* Mapped: the entries the table holds (its header's count). */
size_t bwe_bl4_used(const struct bwe_bl4 *t);
/* Mapped: the ref of a, or BWE_REF_NONE. */
__u8 bwe_bl4_get(const struct bwe_bl4 *t, __be32 a);
/* Mapped: the next entry at or after slot *pos (1, *pos moved past it), or 0 at the end. */
int bwe_bl4_next(const struct bwe_bl4 *t, size_t *pos, __be32 *a, __u8 *ref);
/* The ref of a in table fd read as the program reads it without bwe_bl4_key's
 * word: header, then buckets (element lookups, no mmap). */
int bwe_bl4_lookup_fd(int fd, __be32 a, __u8 *ref);

#endif /* BWE_BL4TAB_H */
