/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * bwe_rules.h - every rule that both sides of the kernel boundary apply,
 * written once: the XDP program (xdp/) decides with it, and user space (the
 * daemon, lib/, the tests, the benchmarks) reproduces the program's answer
 * with the very same code instead of a hand-kept copy.
 *
 * Contract:
 *  - Included by BPF C (clang -target bpf, UAPI headers, no vmlinux.h) and by
 *    user C (gcc gnu11 with the project's -Werror flags). It includes only
 *    bwe_abi.h: no libc, no libbpf, no bpf_helpers.h.
 *  - Only __u8/__u16/__u32/__u64 and bwe_abi.h types; only pure functions of their
 *    arguments (no map access, no globals, no tables: a BPF table would need a
 *    .rodata map), forced inline (BWE_RULE), so the program pays exactly what
 *    it paid when the rule was written in place: no BPF-to-BPF call.
 *  - No compiler builtins that BPF lacks (__builtin_ctz and friends).
 *  - One path for IPv4 and IPv6: addresses are struct bwe_addr (bwe_abi.h).
 * Tested once in tests/test_rules.c (user space), and through the loaded
 * program in tests/test_xdp.c (the kernel's copy gives the same answers).
 */
#ifndef BWE_RULES_H
#define BWE_RULES_H

#include "bwe_abi.h"

#define BWE_RULE static inline __attribute__((always_inline))

/* ---- addresses ---------------------------------------------------------- */

/*
 * An IPv4 address in struct bwe_addr is IPv4-mapped (::ffff:a.b.c.d, RFC
 * 4291 2.5.5.2): words 0 and 1 zero, word 2 the bytes 0, 0, 0xff, 0xff.
 */
BWE_RULE __be32 bwe_v4_mapped_w2(void)
{
	union {
		__u8 b[4];
		__be32 w;
	} m = { .b = { 0, 0, 0xff, 0xff } };

	return m.w;
}

/* a = the IPv4 address v4 (network order), IPv4-mapped */
BWE_RULE void bwe_addr_set_v4(struct bwe_addr *a, __be32 v4)
{
	a->w[0] = 0;
	a->w[1] = 0;
	a->w[2] = bwe_v4_mapped_w2();
	a->w[3] = v4;
}

/* Whether a holds an IPv4 address (w[3]). */
BWE_RULE int bwe_addr_holds_v4(const struct bwe_addr *a)
{
	return a->w[0] == 0 && a->w[1] == 0 && a->w[2] == bwe_v4_mapped_w2();
}

/* ---- hashing ------------------------------------------------------------ */

/* The murmur3 32-bit finaliser: a bijection on 32 bits with full avalanche. */
BWE_RULE __u32 bwe_mix32(__u32 h)
{
	h ^= h >> 16;
	h *= 0x85ebca6b;
	h ^= h >> 13;
	h *= 0xc2b2ae35;
	h ^= h >> 16;
	return h;
}

/* Hash of a peer address for the fan-out sketch (both families, 16 bytes). */
BWE_RULE __u32 bwe_hash_addr(const struct bwe_addr *a)
{
	return bwe_mix32(a->w[0] ^ bwe_mix32(a->w[1] ^ bwe_mix32(a->w[2] ^ bwe_mix32(a->w[3]))));
}

/*
 * The hash of a filter's key of up to 64 bits (bwe_nc4, bwe_nc6, bwe_bl_h6,
 * bwe_bl_n6 in bwe_abi.h; ABI 22, chains of bwe_mix32() before): one
 * multiplication by an odd constant, its high half folded onto its low
 * half, so that every bit of the key reaches the low bits bwe_hbits_word()
 * and bwe_hbits_bit() take. A filter's collision costs a lookup, never a
 * verdict; a chain of bwe_mix32() costs the frame several times its
 * latency (docs/benchmarks.md, "The IPv6 prefixes' filter, and filter
 * hashes of one multiplication").
 */
BWE_RULE __u32 bwe_fold64(__u64 x)
{
	x *= 0x9e3779b97f4a7c15ULL;
	return (__u32)(x ^ (x >> 32));
}

/*
 * A hashed bitmap of u64 words (bwe_nc4, bwe_nc6, bwe_bl_h6, bwe_bl_n6 in
 * bwe_abi.h): the word
 * of hash h in a map of `words` words (a power of two) and the bit in it.
 */
BWE_RULE __u32 bwe_hbits_word(__u32 h, __u32 words)
{
	return (h >> 6) & (words - 1);
}

BWE_RULE __u64 bwe_hbits_bit(__u32 h)
{
	return 1ULL << (h & 63);
}

/* Hash of a destination port, host byte order (+1: port 0 must not hash to 0). */
BWE_RULE __u32 bwe_hash_port(__u16 port)
{
	return bwe_mix32((__u32)port + 1);
}

/*
 * bwe_bl_h6 (bwe_abi.h): the hash of an IPv6 host, its interface half
 * multiplied into its network half, then bwe_fold64().
 */
BWE_RULE __u32 bwe_bl_h6_hash(const struct bwe_addr *a)
{
	__u64 net = (__u64)a->w[0] << 32 | a->w[1], iid = (__u64)a->w[2] << 32 | a->w[3];

	return bwe_fold64(net ^ iid * 0xc2b2ae3d27d4eb4fULL);
}

/* ---- HyperLogLog (BWE_HLL_REGS registers of one byte) --------------------- */

/* The register a hash lands in: its low BWE_HLL_BITS bits. */
BWE_RULE __u32 bwe_hll_index(__u32 h)
{
	return h & (BWE_HLL_REGS - 1);
}

/*
 * The rank a hash offers its register: trailing zeros + 1 of the bits above
 * the index, with a sentinel bit so that no bits set gives 32 - BWE_HLL_BITS + 1.
 * A binary search, because BPF has no count-trailing-zeros instruction.
 */
BWE_RULE __u8 bwe_hll_rank(__u32 h)
{
	__u32 rest = (h >> BWE_HLL_BITS) | (1U << (32 - BWE_HLL_BITS));
	__u8 rank = 1;

	if (!(rest & 0xffff)) {
		rank += 16;
		rest >>= 16;
	}
	if (!(rest & 0xff)) {
		rank += 8;
		rest >>= 8;
	}
	if (!(rest & 0xf)) {
		rank += 4;
		rest >>= 4;
	}
	if (!(rest & 0x3)) {
		rank += 2;
		rest >>= 2;
	}
	if (!(rest & 0x1)) {
		rank += 1;
	}
	return rank;
}

/* Add one hash to a sketch: a register keeps the highest rank it was offered. */
BWE_RULE void bwe_hll_add(__u8 regs[BWE_HLL_REGS], __u32 h)
{
	__u32 idx = bwe_hll_index(h);
	__u8 rank = bwe_hll_rank(h);

	if (regs[idx] < rank)
		regs[idx] = rank;
}

/* ---- heavy hitters by bytes (struct bwe_hh, bwe_abi.h) ------------------------ */

/*
 * Weighted SpaceSaving: a peer in a slot gets len added; another takes the
 * slot with the smallest count (an empty one first: count 0), inheriting
 * that count as its error. So a tracked peer's count overestimates its
 * bytes by at most err, and a peer in no slot has at most the smallest
 * count: what it had when evicted, or nothing. Each frame costs one pass
 * over BWE_HH_SLOTS slots.
 */
BWE_RULE void bwe_hh_add(struct bwe_hh *hh, __u32 peer, __u64 len)
{
	__u32 i, min = 0;

	hh->total += len;
	for (i = 0; i < BWE_HH_SLOTS; i++) {
		if (hh->bytes[i] && hh->peer[i] == peer) {
			hh->bytes[i] += len;
			return;
		}
		if (hh->bytes[i] < hh->bytes[min])
			min = i;
	}
	hh->err[min] = hh->bytes[min];
	hh->bytes[min] += len;
	hh->peer[min] = peer;
}

/* The most bytes a peer in no slot can have: the smallest count, 0 with a slot free. */
BWE_RULE __u64 bwe_hh_floor(const struct bwe_hh *hh)
{
	__u64 m = hh->bytes[0];
	__u32 i;

	for (i = 1; i < BWE_HH_SLOTS; i++)
		if (hh->bytes[i] < m)
			m = hh->bytes[i];
	return m;
}

/* ---- contacts (beacon signal) ------------------------------------------------- */

/*
 * Whether the (host, peer) pair is in the contact sample: 1 in sample pairs,
 * chosen by hash so that every contact of a sampled pair is seen (its
 * periodicity survives the sampling); sample 0 samples none, 1 all.
 * peer_hash is bwe_hash_addr(peer).
 */
BWE_RULE int bwe_contact_sampled(const struct bwe_addr *host, __u32 peer_hash, __u32 salt,
				 __u32 sample)
{
	if (sample <= 1)
		return sample == 1;
	return bwe_mix32(peer_hash ^ bwe_mix32(host->w[2] ^ host->w[3] ^ salt)) % sample == 0;
}

/* ---- network classes: the direct IPv4 table and the host's cache ------------ */

/* The bwe_nc16 slot of an IPv4(-mapped) address: its first two octets. */
BWE_RULE __u32 bwe_nc16_index(const struct bwe_addr *a)
{
	return ((__u32)a->a[12] << 8) | a->a[13];
}

/* bwe_nc6 (bwe_abi.h): the hash of IPv6 address a's /48 (its place: bwe_hbits_word()). */
BWE_RULE __u32 bwe_nc6_hash(const struct bwe_addr *a)
{
	return bwe_fold64((__u64)a->w[0] << 16 | ((__u32)a->a[4] << 8 | a->a[5]));
}

/* bwe_bl_n6 (bwe_abi.h): the hash of IPv6 address a's /32 (its place: bwe_hbits_word()). */
BWE_RULE __u32 bwe_bl_n6_hash(const struct bwe_addr *a)
{
	return bwe_fold64(a->w[0]);
}

/*
 * bwe_nc4 (bwe_abi.h): the hash of an IPv4 address or /24, v4 in host byte
 * order with the bits past plen (24 or 32) clear (its place:
 * bwe_hbits_word()). The length is hashed in: a /24 and its network
 * address have different hashes.
 */
BWE_RULE __u32 bwe_nc4_hash(__u32 v4, __u32 plen)
{
	return bwe_fold64((__u64)plen << 32 | v4);
}

/*
 * Host slots (bwe_abi.h): the bwe_hslot24 entry of IPv4 address a in the
 * row (1-based, bwe_nc16_val.row) of its /16, and the bwe_hslots record of
 * a in the block its /24's entry names (1-based: block + 1).
 */
BWE_RULE __u32 bwe_hslot24_index(__u32 row, const struct bwe_addr *a)
{
	return (row - 1) * 256u + a->a[14];
}

BWE_RULE __u32 bwe_hslot_index(__u32 entry, const struct bwe_addr *a)
{
	return (entry - 1) * BWE_HSLOT_BLOCK + a->a[15];
}

/* A slot's word of bwe_hslot_sent (slots of one block's words are counted
 * from the block's first slot alike) and its bit in that word. */
BWE_RULE __u32 bwe_hslot_sent_word(__u32 slot)
{
	return slot / 64;
}

BWE_RULE __u64 bwe_hslot_sent_bit(__u32 slot)
{
	return 1ULL << (slot % 64);
}

/*
 * Whether a host record's cached class (nc_gen, nc_flags) is current: it
 * was read under the generation the daemon last published. Generation 0
 * (no classes written yet, or a record nobody filled) is never current.
 */
BWE_RULE int bwe_nc_cached(__u32 rec_gen, __u32 cfg_gen)
{
	return cfg_gen && rec_gen == cfg_gen;
}

/* ---- the tick clock (bwe_config.tick_ns / tick_off) ------------------------ */

/*
 * CLOCK_MONOTONIC at the tick of jiffies value j, a tick early at most two.
 * The kernel advances jiffies from the monotonic clock, tick_ns at a time,
 * and the coarse clock at the same ticks, so the offset measured once
 * holds for the rest of the boot (lib/dataplane.c, tick_measure()).
 */
BWE_RULE __u64 bwe_tick_ns(__u64 j, __u32 tick_ns, __u64 tick_off)
{
	return j * tick_ns + tick_off; /* modulo 2^64, as tick_off is */
}

/*
 * The tick_off that makes bwe_tick_ns(j, ...) read coarse_ns less a tick:
 * coarse_ns is read at most a tick after j's start, so the clock stays
 * behind CLOCK_MONOTONIC, and a time it gives is never in the future.
 */
BWE_RULE __u64 bwe_tick_off(__u64 j, __u64 coarse_ns, __u32 tick_ns)
{
	return coarse_ns - j * tick_ns - tick_ns;
}

/* ---- blocklist: drop beats monitor ----------------------------------------- */

/* A drop entry decides alone: no other entry can change the verdict. */
BWE_RULE int bwe_ref_decides(__u8 ref)
{
	return ref && !(ref & BWE_REF_MONITOR);
}

/*
 * One address, two entries that may cover it: the exact host entry and the
 * longest covering prefix (BWE_REF_NONE where none). A drop entry beats a
 * monitor entry; between two of the same action the host entry wins. The
 * program skips the prefix lookup when bwe_ref_decides(host).
 */
BWE_RULE __u8 bwe_ref_merge(__u8 host, __u8 prefix)
{
	if (bwe_ref_decides(host))
		return host;
	if (prefix && (!host || bwe_ref_decides(prefix)))
		return prefix;
	return host;
}

/*
 * Whether an inbound packet from a listed peer answers the host: the host's
 * own last outbound hit event for that peer (its bwe_ev_dedup entry, keyed
 * with BWE_DIR_OUT) was emitted at last_ns, less than two dedup windows ago.
 * A host that keeps contacting the peer refreshes that entry at least once
 * a window, so a contact within the last window always qualifies, and
 * nothing older than two does. last_ns 0: no such entry.
 */
BWE_RULE int bwe_hit_answers(__u64 last_ns, __u64 now, __u64 dedup_ns)
{
	return last_ns && now >= last_ns && now - last_ns < 2 * dedup_ns;
}

/* The bwe_ev_seen tag of an event type (enum bwe_event_type) and direction. */
BWE_RULE __u32 bwe_ev_seen_key(__u32 type, __u32 dir)
{
	return type << 8 | dir;
}

/* ---- verdict reasons ------------------------------------------------------- */

/* Whether a packet counted under this reason is dropped (enum bwe_reason). */
BWE_RULE int bwe_reason_drops(__u32 reason)
{
	return reason == BWE_R_QUARANTINE || reason == BWE_R_BLOCK || reason == BWE_R_THROTTLE ||
	       reason == BWE_R_MALFORMED;
}

/*
 * Monitor-only mode (BWE_CFG_DRYRUN): the policy drops become their counted
 * *_DRYRUN pass; every other reason, malformed frames included, is kept.
 */
BWE_RULE __u32 bwe_reason_dryrun(__u32 reason)
{
	switch (reason) {
	case BWE_R_QUARANTINE:
		return BWE_R_QUARANTINE_DRYRUN;
	case BWE_R_BLOCK:
		return BWE_R_BLOCK_DRYRUN;
	case BWE_R_THROTTLE:
		return BWE_R_THROTTLE_DRYRUN;
	}
	return reason;
}

/* ---- global counters (bwe_stats) ------------------------------------------- */

/*
 * The bwe_stats entry of a counter slot (enum bwe_reason or bwe_anomaly) in
 * a direction (enum bwe_stat_dir): slot-major, BWE_SD_MAX entries a slot,
 * so the entries of one slot are adjacent and one multiply-add places a
 * packet. Out-of-range arguments give an index past BWE_STATS_ENTRIES,
 * which the map lookup refuses.
 */
BWE_RULE __u32 bwe_stat_index(__u32 slot, __u32 dir)
{
	return slot * BWE_SD_MAX + dir;
}

/* ---- token bucket (bwe_throttle) -------------------------------------------- */

#define BWE_NSEC_PER_SEC 1000000000ULL

/*
 * Refill a bucket for the time since its last refill, then take len bytes
 * from it: 1 when the frame fits (tokens taken), 0 when it is over the rate.
 * The program runs this under the entry's spin lock, with now read before
 * the lock (the verifier allows no helper call while a lock is held). So
 * another CPU may have stored a later last_ns in between: now <= last_ns
 * adds nothing (time does not run backwards for the bucket), where the
 * unsigned difference would wrap to a huge elapsed time and refill the
 * whole burst. A second or more refills the whole burst; below that,
 * elapsed < 1e9 and rate <= BWE_RATE_MAX keep the product within 64 bits,
 * and last_ns moves only when a whole byte was added, so that slow rates
 * still accumulate.
 */
BWE_RULE int bwe_bucket_take(struct bwe_bucket *b, __u64 rate, __u64 burst, __u64 len, __u64 now)
{
	if (now > b->last_ns) {
		__u64 elapsed = now - b->last_ns, add;

		if (elapsed >= BWE_NSEC_PER_SEC) {
			b->tokens = burst;
			b->last_ns = now;
		} else {
			add = elapsed * rate / BWE_NSEC_PER_SEC;
			if (add) {
				b->tokens = b->tokens + add < burst ? b->tokens + add : burst;
				b->last_ns = now;
			}
		}
	}
	if (b->tokens >= len) {
		b->tokens -= len;
		return 1;
	}
	return 0;
}

#endif /* BWE_RULES_H */
