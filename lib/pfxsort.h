/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * pfxsort.h - sort a million prefixes fast, in bwe_prefix_cmp() order.
 *
 * Feeds are sorted twice on their way to the maps (by the worker before it
 * sends, and checked by the parent): qsort() with a memcmp() comparator
 * through a function pointer took most of a million-line load. Here the
 * caller fills compact records (bwe_pfx_rec_set), the sort compares three
 * integers inline, and the caller reads the order back through idx.
 *
 * Order: address (as the 128-bit big-endian number, which is the byte order
 * memcmp() sees), then prefix length, then tie (a line number: the first
 * line of a duplicate comes first). From 4096 IPv4 records on, those are
 * split from the rest and sorted by an LSD radix sort, a pass per byte of
 * (address, length, tie) that differs between records, the tie's bytes
 * left out when the ties already rise in input order (a stable sort keeps
 * them): the worker's half of a million-line feed in 5 passes. The rest,
 * and short arrays, by an introsort: quicksort with a median of three,
 * heapsort past a depth limit (so no input, however crafted, costs more
 * than O(n log n)), insertion sort for short runs.
 * Included by the feed worker, the daemon's feed store and the tests.
 */
#ifndef BWE_PFXSORT_H
#define BWE_PFXSORT_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "addr.h"

struct bwe_pfx_rec {
	__u64 hi, lo; /* the address as two host-order integers */
	__u64 tail;   /* plen << 32 | tie */
	__u64 idx;    /* the caller's index of the element */
};

void bwe_pfx_rec_set(struct bwe_pfx_rec *r, const struct bwe_prefix *p, __u32 tie, size_t idx);
/* Whether a and b hold the same prefix (tie ignored). */
bool bwe_pfx_rec_same(const struct bwe_pfx_rec *a, const struct bwe_pfx_rec *b);
/* Sort v[0..n) by address, length, tie. */
void bwe_pfx_sort(struct bwe_pfx_rec *v, size_t n);

#endif /* BWE_PFXSORT_H */
