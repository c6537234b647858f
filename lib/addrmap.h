/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * addrmap.h - compact user-space hash maps (open addressing, linear probing,
 * backward-shift deletion, so no tombstones; grown past 70 % load):
 *   struct bwe_amap   struct bwe_addr -> 32-bit value, 24 bytes a slot;
 *   struct bwe_amap4  32-bit key (an IPv4 address, or an IPv4 prefix coded
 *                     as bwe_amap4_pfx()) -> 16-bit value, 8 bytes a slot.
 * Used where the daemon mirrors a million-entry map (blocklist ownership,
 * feed diffs): a million IPv4 hosts take 16 MiB in a bwe_amap4, 48 in a
 * bwe_amap.
 *
 * Not thread-safe; the daemon is single-threaded. Functions return 0 or
 * -errno (-ENOMEM, -ENOENT).
 */
#ifndef BWE_ADDRMAP_H
#define BWE_ADDRMAP_H

#include <stdbool.h>
#include <stddef.h>
#include "bwe_abi.h"

struct bwe_amap_slot {
	struct bwe_addr key;
	__u32 val;
	__u32 used; /* 0 = empty */
};

struct bwe_amap {
	struct bwe_amap_slot *slots;
	size_t cap; /* power of two, 0 when empty */
	size_t n;
	__u64 seed; /* the hash's key: random, chosen when the first slots are allocated */
};

void bwe_amap_init(struct bwe_amap *m);
void bwe_amap_free(struct bwe_amap *m);
int bwe_amap_reserve(struct bwe_amap *m, size_t n);
/* Insert or replace. */
int bwe_amap_set(struct bwe_amap *m, const struct bwe_addr *k, __u32 val);
/* Returns a pointer to the value, or NULL. Invalidated by set/del. */
__u32 *bwe_amap_get(const struct bwe_amap *m, const struct bwe_addr *k);
/*
 * The value slot of k, inserted with value 0 when absent (*created says
 * which): one probe where a get and a set take two. NULL: no memory. The
 * pointer is valid until the map is next changed.
 */
__u32 *bwe_amap_upsert(struct bwe_amap *m, const struct bwe_addr *k, bool *created);
int bwe_amap_del(struct bwe_amap *m, const struct bwe_addr *k);

/* Iterate: for (i = 0; (s = bwe_amap_next(m, &i)); ) ... ; no set/del inside. */
struct bwe_amap_slot *bwe_amap_next(const struct bwe_amap *m, size_t *iter);

struct bwe_amap4_slot {
	__u32 key;
	__u16 val;
	__u16 used; /* 0 = empty */
};
_Static_assert(sizeof(struct bwe_amap4_slot) == 8, "bwe_amap4_slot is 8 bytes");

struct bwe_amap4 {
	struct bwe_amap4_slot *slots;
	size_t cap; /* power of two, 0 when empty */
	size_t n;
	__u64 seed; /* the hash's key: random, chosen when the first slots are allocated */
};

/* The key of IPv4 prefix n/len (n: the network's top len bits as a number, len 0..31): a 1 bit above them. */
static inline __u32 bwe_amap4_pfx(__u32 n, int len)
{
	return (__u32)1 << len | n;
}

/* The same calls as bwe_amap's, for 32-bit keys and 16-bit values. */
void bwe_amap4_init(struct bwe_amap4 *m);
void bwe_amap4_free(struct bwe_amap4 *m);
int bwe_amap4_reserve(struct bwe_amap4 *m, size_t n);
int bwe_amap4_set(struct bwe_amap4 *m, __u32 k, __u16 val);
__u16 *bwe_amap4_get(const struct bwe_amap4 *m, __u32 k);
__u16 *bwe_amap4_upsert(struct bwe_amap4 *m, __u32 k, bool *created);
/* Start loading k's home slot into the cache: a loop over many keys asks for
 * the key some iterations ahead, so that the probe finds it there. */
void bwe_amap4_prefetch(const struct bwe_amap4 *m, __u32 k);
int bwe_amap4_del(struct bwe_amap4 *m, __u32 k);
struct bwe_amap4_slot *bwe_amap4_next(const struct bwe_amap4 *m, size_t *iter);

#endif /* BWE_ADDRMAP_H */
