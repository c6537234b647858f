/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * bwe_bl4.h - the rules of the dense IPv4 exact-host table (layout in
 * bwe_abi.h), written once for both sides: the XDP program looks addresses
 * up with them (xdp/blocklist.bpf.h), the daemon places and finds entries
 * with them (lib/bl4tab.c).
 *
 * Contract: the same as bwe_rules.h's (BPF C and user C, bwe_abi.h types
 * only, pure forced-inline functions, no map access). A lookup of address a
 * in a table with header h is:
 *     b = bwe_bl4_home(h->seed, h->mask, a);
 *     for p in 0 .. BWE_BL4_PROBE_MAX-1:
 *         r = bwe_bl4_scan(bucket (b + p) & h->mask, a);
 *         if r != BWE_BL4_NEXT: return r;   (a ref, or BWE_REF_NONE)
 *     return BWE_REF_NONE;
 * so a miss in a bucket whose chain did not overflow reads one cache line.
 */
#ifndef BWE_BL4_H
#define BWE_BL4_H

#include "bwe_abi.h"
#include "bwe_rules.h"

#define BWE_BL4_NEXT 0x100 /* bwe_bl4_scan(): not here, look in the next bucket */

/*
 * Home bucket of address a (network byte order, as in a slot). A keyed mix
 * (xor with the table's random seed, then two multiply/xor-shift rounds), not
 * a cryptographic function: what makes a crafted feed harmless is that the
 * daemon builds a new table with a new seed (or a bigger one) when an entry
 * cannot be placed within BWE_BL4_PROBE_MAX buckets (lib/bl4tab.c).
 */
BWE_RULE __u32 bwe_bl4_home(__u64 seed, __u32 mask, __be32 a)
{
	__u64 x = (__u64)(__u32)a ^ seed;

	x *= 0x9e3779b97f4a7c15ULL;
	x ^= x >> 32;
	x *= 0xd6e8feb86659fd93ULL;
	x ^= x >> 32;
	return (__u32)x & mask;
}

/* The slot word of address a with ref (ref 0: an empty slot). */
BWE_RULE __u64 bwe_bl4_slot(__be32 a, __u8 ref)
{
	return (__u64)(__u32)a | (__u64)ref << BWE_BL4_REF_SHIFT;
}

BWE_RULE __u8 bwe_bl4_slot_ref(__u64 s)
{
	return (__u8)(s >> BWE_BL4_REF_SHIFT);
}

/* Whether slot word s holds address a (an empty slot holds none, whatever its bits). */
BWE_RULE int bwe_bl4_slot_is(__u64 s, __be32 a)
{
	return (__u32)s == (__u32)a && bwe_bl4_slot_ref(s) != BWE_REF_NONE;
}

/*
 * One bucket of a lookup for a: the ref of a's entry if the bucket holds it;
 * otherwise BWE_BL4_NEXT when entries lie past the bucket (slot 0's spill
 * count is not 0), else BWE_REF_NONE. Every slot is read once, whole (volatile:
 * the daemon stores them while programs read them).
 */
BWE_RULE int bwe_bl4_scan(const struct bwe_bl4_bucket *bk, __be32 a)
{
	const volatile __u64 *s = bk->slot;
	__u64 s0 = s[0], w;
	int i;

	if (bwe_bl4_slot_is(s0, a))
		return bwe_bl4_slot_ref(s0);
	for (i = 1; i < BWE_BL4_WAYS; i++) {
		w = s[i];
		if (bwe_bl4_slot_is(w, a))
			return bwe_bl4_slot_ref(w);
	}
	return s0 & BWE_BL4_SPILL_MASK ? BWE_BL4_NEXT : BWE_REF_NONE;
}

/*
 * The word of bwe_bl4_key (bwe_abi.h) for a table of mask + 1 buckets keyed
 * by seed, with tag: the seed in bits 0..31, log2 of the buckets in bits
 * 32..37, the tag in bits 48..63. 0 (no tag: lookups read the header) when
 * the seed is 2^32 or more, or the tag is not 1..65535. User space writes
 * it; programs take it apart with the three below.
 */
BWE_RULE __u64 bwe_bl4_key_word(__u64 seed, __u32 mask, __u32 tag)
{
	if (seed >> 32 || !tag || tag > BWE_BL4_TAG_MAX || (mask & (mask + 1)))
		return 0;
	return seed | (__u64)__builtin_popcount(mask) << 32 | (__u64)tag << BWE_BL4_TAG_SHIFT;
}

BWE_RULE __u32 bwe_bl4_key_tag(__u64 k)
{
	return (__u32)(k >> BWE_BL4_TAG_SHIFT);
}

BWE_RULE __u64 bwe_bl4_key_seed(__u64 k)
{
	return (__u32)k;
}

BWE_RULE __u32 bwe_bl4_key_mask(__u64 k)
{
	return (__u32)((1ULL << ((k >> 32) & 0x3f)) - 1);
}

/* The tag in a bucket's slot 0 word. */
BWE_RULE __u32 bwe_bl4_slot_tag(__u64 s0)
{
	return (__u32)(s0 >> BWE_BL4_TAG_SHIFT);
}

/* The tag of the table made after one tagged tag (0: none before): 1..65535, then 1 again. */
BWE_RULE __u32 bwe_bl4_tag_next(__u32 tag)
{
	return tag % BWE_BL4_TAG_MAX + 1;
}

/* bwe_bl_h24 (bwe_abi.h): the word and the bit of IPv4 address a's /24 (a in host order). */
BWE_RULE __u32 bwe_bl_h24_word(__u32 a)
{
	return a >> (8 + 6);
}

BWE_RULE __u64 bwe_bl_h24_bit(__u32 a)
{
	return 1ULL << ((a >> 8) & 63);
}

#endif /* BWE_BL4_H */
