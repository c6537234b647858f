/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * addrmap.h - a compact user-space hash map from struct bwe_addr to a 32-bit
 * value (open addressing, linear probing, backward-shift deletion, so no
 * tombstones). About 24 bytes per slot at most 70 % load: used where the
 * daemon mirrors a million-entry map (blocklist ownership, feed diffs).
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

#endif /* BWE_ADDRMAP_H */
