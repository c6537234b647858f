/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * blocklist.bpf.h - the one blocklist decision (BPF only), shared by the
 * enforcer and the map-scaling benchmark so both measure the same code.
 *
 * Contract: blocklist_ref() returns the BWE_REF_* byte of the entry that
 * decides for an external address, or BWE_REF_NONE. Layout and reasons:
 * bwe_abi.h and docs/architecture.md ("Blocklist layout"); the merge of the
 * host and prefix entries is bwe_rules.h's, which user space applies too.
 */
#ifndef BWE_BLOCKLIST_BPF_H
#define BWE_BLOCKLIST_BPF_H

#include <bpf/bpf_endian.h>
#include "bwe_abi.h"
#include "bwe_rules.h"
#include "bwe_bl4.h"
#include "parse.bpf.h"
#include "maps.bpf.h"

/*
 * The ref of IPv4 address a (network byte order) in dense table tab
 * (bwe_abi.h, rules in bwe_bl4.h): the home bucket and, only while a
 * bucket's chain overflowed, the next ones, at most BWE_BL4_PROBE_MAX. A
 * miss usually reads one bucket: one cache line. The home bucket comes from
 * bwe_bl4_key's word when its tag is the bucket's (a load and a lookup),
 * else from the table's header (a lookup more: a table swapped in since the
 * word was read, or a word not written yet).
 */
static __always_inline __u8 bl4_ref(void *tab, __be32 a)
{
	__u32 idx = 0, home = 0, mask = 0, d, tag;
	const struct bwe_bl4_bucket *bk = NULL;
	const struct bwe_bl4_hdr *h;
	__u64 *kp = bpf_map_lookup_elem(&bwe_bl4_key, &idx), k = kp ? *(volatile __u64 *)kp : 0;

	tag = bwe_bl4_key_tag(k);
	if (tag) {
		mask = bwe_bl4_key_mask(k);
		home = bwe_bl4_home(bwe_bl4_key_seed(k), mask, a);
		idx = 1 + home;
		bk = bpf_map_lookup_elem(tab, &idx);
		if (bk && bwe_bl4_slot_tag(((const volatile __u64 *)bk->slot)[0]) != tag)
			bk = NULL;
	}
	if (!bk) {
		idx = BWE_BL4_HDR_IDX;
		h = bpf_map_lookup_elem(tab, &idx);
		if (!h)
			return BWE_REF_NONE;
		mask = h->mask;
		home = bwe_bl4_home(h->seed, mask, a);
		idx = 1 + home;
		bk = bpf_map_lookup_elem(tab, &idx);
	}
	for (d = 0; d < BWE_BL4_PROBE_MAX; d++) {
		int r;

		if (d) {
			idx = 1 + ((home + d) & mask);
			bk = bpf_map_lookup_elem(tab, &idx);
		}
		if (!bk)
			break;
		r = bwe_bl4_scan(bk, a);
		if (r != BWE_BL4_NEXT)
			return (__u8)r;
	}
	return BWE_REF_NONE;
}

/*
 * One blocklist decision for the external peer: exact host, then the longest
 * prefix; bwe_ref_merge() (bwe_rules.h) says which of the two decides. A
 * drop host entry decides alone, so its prefix is not looked up. An IPv4
 * address whose /24 has no host (bwe_bl_h24), and an IPv6 address whose
 * filter bit is clear (bwe_bl_h6), skip the exact-host table; an IPv6
 * address whose /32 no listed prefix touches (bwe_bl_n6), the prefix trie.
 */
static __always_inline __u8 blocklist_ref(const struct bwe_addr *peer)
{
	int v4 = bwe_addr_holds_v4(peer);
	__u32 slot = BWE_BL_HOST_SLOT;
	struct bwe_bl_val *hv;
	void *tab;
	__u8 ref = BWE_REF_NONE;

	/*
	 * The family's current exact-host table (the daemon keeps one in the
	 * slot; an empty slot would only mean no host entries). One call site
	 * per map keeps each lookup inlined by the verifier.
	 */
	if (v4) {
		__u32 w = bwe_bl_h24_word(bpf_ntohl(peer->w[3]));
		__u64 *bits = bpf_map_lookup_elem(&bwe_bl_h24, &w);

		/* only a /24 that may hold a host costs the table's bucket */
		if (bits && (*bits & bwe_bl_h24_bit(bpf_ntohl(peer->w[3]))))
			tab = bpf_map_lookup_elem(&bwe_bl_host4, &slot);
		else
			tab = NULL;
		if (tab)
			ref = bl4_ref(tab, peer->w[3]);
	} else {
		__u32 h = bwe_bl_h6_hash(peer), w = bwe_hbits_word(h, BWE_BL_H6_WORDS);
		__u64 *bits = bpf_map_lookup_elem(&bwe_bl_h6, &w);

		/* only an address whose bit is set costs the table's hash lookup */
		if (bits && (*bits & bwe_hbits_bit(h)))
			tab = bpf_map_lookup_elem(&bwe_bl_host6, &slot);
		else
			tab = NULL;
		hv = tab ? bpf_map_lookup_elem(tab, peer) : NULL;
		if (hv)
			ref = hv->ref;
	}
	if (bwe_ref_decides(ref))
		return ref;

	if (v4) {
		__u32 n24 = bpf_ntohl(peer->w[3]) >> 8;
		__u32 idx = n24 / BWE_TBL24_LANES;
		struct bwe_tbl24_val *t = bpf_map_lookup_elem(&bwe_bl_tbl24, &idx);

		if (!t)
			return ref;
		ref = bwe_ref_merge(ref, t->ref[n24 & (BWE_TBL24_LANES - 1)]);
	} else {
		struct bwe_lpm_key key = { .prefixlen = 128, .addr = *peer };
		__u32 h = bwe_bl_n6_hash(peer), w = bwe_hbits_word(h, BWE_BL_N6_WORDS);
		__u64 *bits = bpf_map_lookup_elem(&bwe_bl_n6, &w);
		struct bwe_bl_val *nv;

		/* only a /32 that a listed prefix may touch costs the trie */
		if (bits && !(*bits & bwe_hbits_bit(h)))
			return ref;
		nv = bpf_map_lookup_elem(&bwe_bl_net6, &key);
		if (nv)
			ref = bwe_ref_merge(ref, nv->ref);
	}
	return ref;
}

#endif /* BWE_BLOCKLIST_BPF_H */
