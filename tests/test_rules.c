// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_rules.c - table-driven tests of lib/bwe_rules.h, the rules the XDP
 * program and user space share: the murmur3 mix and the sketch hashes, the
 * HyperLogLog rank and update, the drop-beats-monitor merge of blocklist
 * entries, and the dry-run mapping of verdict reasons. This is the user
 * space compile of the header; tests/test_xdp.c proves the program's copy
 * gives the same answers. No network, no privileges, no files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <arpa/inet.h>
#include <string.h>

#include <cmocka.h>

#include "bwe_util.h"
#include "addr.h"
#include "bwe_rules.h"

#define FEED_D	 2 /* a drop feed */
#define FEED_M	 3 /* a monitor feed */
/* refs as bwe_ref() makes them (the tables need constants) */
#define DROP_H	 FEED_D
#define DROP_P	 (FEED_D + 2) /* another drop entry, to tell them apart */
#define MON_H	 (FEED_M | BWE_REF_MONITOR)
#define MON_P	 ((FEED_M + 2) | BWE_REF_MONITOR)
#define RANK_MAX (32 - BWE_HLL_BITS + 1) /* no hash bit above the index */
#define SWEEP	 (1U << 20)		 /* inputs checked exhaustively */
#define LCG_MUL	 1664525U		 /* Numerical Recipes LCG: a fixed hash stream */
#define LCG_ADD	 1013904223U

/* Known answers of the murmur3 32-bit finaliser (fmix32). */
static void test_mix32(void **state)
{
	static const struct {
		__u32 in, out;
	} rows[] = {
		{ 0x00000000, 0x00000000 }, /* the fixed point */
		{ 0x00000001, 0x514e28b7 }, { 0x00000002, 0x30f4c306 }, { 0x00003039, 0x3c46c9dc },
		{ 0x80000000, 0x6d3c65a0 }, { 0xffffffff, 0x81f16f39 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(rows); i++)
		assert_int_equal(bwe_mix32(rows[i].in), rows[i].out);
}

/* The inverse of fmix32: proves bwe_mix32 a bijection (the benchmarks rely on it). */
static __u32 unmix32(__u32 h)
{
	h ^= h >> 16;
	h *= 0x7ed1b41dU; /* inverse of 0xc2b2ae35 mod 2^32 */
	h ^= (h >> 13) ^ (h >> 26);
	h *= 0xa5cb9243U; /* inverse of 0x85ebca6b mod 2^32 */
	h ^= h >> 16;
	return h;
}

static void test_mix32_bijection(void **state)
{
	__u32 x, h = 0;

	(void)state;
	for (x = 0; x < SWEEP; x++) {
		assert_int_equal(unmix32(bwe_mix32(x)), x);
		h = h * LCG_MUL + LCG_ADD;
		assert_int_equal(unmix32(bwe_mix32(h)), h);
	}
}

/*
 * The sketch hashes are the mix composed as documented (the four words in
 * turn, both families) and, pinned by known answers, do not change
 * unnoticed: HLL
 * registers and heavy-hitter slots in the maps hold them (a change is an
 * ABI change).
 */
static void test_sketch_hashes(void **state)
{
	static const struct {
		const char *addr;
		__u32 want;
	} addrs[] = {
		{ "198.51.100.7", 0xe1e24fee }, { "203.0.113.66", 0xf30c84a6 },
		{ "0.0.0.0", 0x5c4be2f2 },	{ "2001:db8:3::10", 0xdb4bd083 },
		{ "::", 0x00000000 },		{ "ff02::1", 0x26292dc0 },
	};
	static const __u16 ports[] = { 0, 1, 53, 443, 65535 };
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(addrs); i++) {
		struct bwe_addr a;
		__u32 mixed;

		assert_int_equal(bwe_addr_parse(addrs[i].addr, &a), 0);
		mixed = bwe_mix32(a.w[0] ^
				  bwe_mix32(a.w[1] ^ bwe_mix32(a.w[2] ^ bwe_mix32(a.w[3]))));
		assert_int_equal(bwe_hash_addr(&a), mixed);
		assert_int_equal(bwe_hash_addr(&a), addrs[i].want);
	}
	/* bwe_nc4's two kinds of bit hash apart, and as bwe_fold64() makes them */
	assert_int_equal(bwe_nc4_hash(0xc6120500u, 24), 0x603cb9a9);
	assert_int_equal(bwe_nc4_hash(0xc6120505u, 32), 0xf51ec499);
	assert_int_not_equal(bwe_nc4_hash(0xc6120500u, 24), bwe_nc4_hash(0xc6120500u, 32));
	for (i = 0; i < ARRAY_SIZE(ports); i++)
		assert_int_equal(bwe_hash_port(ports[i]), bwe_mix32((__u32)ports[i] + 1));
	assert_int_not_equal(bwe_hash_port(0), 0); /* port 0 still lights a register */
}

/* The IPv6 host filter's place of a hash: 23 bits of it, the low 6 the bit in its word. */
static void test_bl_h6_place(void **state)
{
	static const __u32 hs[] = { 0, 1, 63, 64, 0x7fffff, 0x800000, 0xffffffff, 0x12345678 };
	__u32 seen[BWE_BL_H6_WORDS / 32] = { 0 };
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(hs); i++) {
		assert_true(bwe_hbits_word(hs[i], BWE_BL_H6_WORDS) < BWE_BL_H6_WORDS);
		assert_int_equal(__builtin_popcountll(bwe_hbits_bit(hs[i])), 1);
		assert_true(bwe_hbits_bit(hs[i]) == 1ULL << (hs[i] & 63));
		/* bits above the filter's 23 do not move the place */
		assert_int_equal(bwe_hbits_word(hs[i], BWE_BL_H6_WORDS),
				 bwe_hbits_word(hs[i] & (BWE_BL_H6_BITS - 1), BWE_BL_H6_WORDS));
	}
	assert_int_equal(bwe_hbits_word(64, BWE_BL_H6_WORDS), 1);
	assert_int_equal(bwe_hbits_word(0x7fffff, BWE_BL_H6_WORDS), BWE_BL_H6_WORDS - 1);
	/* the filter's hashes of consecutive hosts spread over every word */
	for (i = 0; i < 4 * BWE_BL_H6_WORDS; i++) {
		struct bwe_addr a = { .w = { htonl(0x20010db8), 0, 0, htonl((__u32)i) } };
		__u32 w = bwe_hbits_word(bwe_bl_h6_hash(&a), BWE_BL_H6_WORDS);

		seen[w / 32] |= 1u << (w % 32);
	}
	for (i = 0; i < ARRAY_SIZE(seen); i++)
		assert_true(__builtin_popcount(seen[i]) >= 24);
}

/* The places (word, bit) of n hashes in a filter of `bits` bits: how many differ. */
struct places {
	__u64 *t;
	size_t bits, distinct;
};

static void place(struct places *p, __u32 h)
{
	__u32 w = bwe_hbits_word(h, (__u32)(p->bits / 64));
	__u64 b = bwe_hbits_bit(h);

	p->distinct += !(p->t[w] & b);
	p->t[w] |= b;
}

static void places_init(struct places *p, size_t bits)
{
	p->bits = bits;
	p->distinct = 0;
	p->t = calloc(bits / 64, sizeof(*p->t));
	assert_non_null(p->t);
}

/*
 * The filters' hashes (bwe_fold64()) spread the keys the daemon sets as a
 * random function would, or better: n keys in m bits take about
 * m(1 - e^(-n/m)) places at random. Runs of neighbouring keys (a /16's /24s, a /32's /48s, a /16's
 * /32s, a /64's hosts, one host number in many /64s) are what lists and
 * class sets hold; a hash whose low bits ignored part of the key would put
 * them on a few places.
 */
static void test_filter_hashes(void **state)
{
	struct bwe_addr a = { 0 };
	struct places p;
	__u32 i;

	(void)state;
	/* the 256 /24s and 256 addresses of a /16 in bwe_nc4: at most a few collide */
	places_init(&p, BWE_NC4_BITS);
	for (i = 0; i < 256; i++) {
		place(&p, bwe_nc4_hash(0xc6120000u | i << 8, 24));
		place(&p, bwe_nc4_hash(0xc6120000u | i, 32));
	}
	assert_true(p.distinct >= 505);
	free(p.t);
	/* the 65,536 /48s of a /32 in bwe_nc6 (2^20 bits): about 63,550 at random, 62,230 here */
	places_init(&p, BWE_NC6_BITS);
	assert_int_equal(bwe_addr_parse("2001:db8::", &a), 0);
	for (i = 0; i < 65536; i++) {
		a.a[4] = (__u8)(i >> 8);
		a.a[5] = (__u8)i;
		place(&p, bwe_nc6_hash(&a));
	}
	assert_true(p.distinct > 61500);
	free(p.t);
	/* the 65,536 /32s of a /16 in bwe_bl_n6 (2^16 bits): about 41,427 at random, 44,161 here */
	places_init(&p, BWE_BL_N6_BITS);
	assert_int_equal(bwe_addr_parse("2a12::", &a), 0);
	for (i = 0; i < 65536; i++) {
		a.w[0] = htonl(0x2a120000u | i);
		place(&p, bwe_bl_n6_hash(&a));
	}
	assert_true(p.distinct > 40500);
	free(p.t);
	/* 100,000 hosts of a /64 (about 99,400 at random, 99,215 here), and host ::1 of
	 * 100,000 /64s, in bwe_bl_h6 (2^23 bits) */
	places_init(&p, BWE_BL_H6_BITS);
	assert_int_equal(bwe_addr_parse("2001:db8:3::", &a), 0);
	for (i = 0; i < 100000; i++) {
		a.w[3] = htonl(i);
		place(&p, bwe_bl_h6_hash(&a));
	}
	assert_true(p.distinct > 99000);
	assert_int_equal(bwe_addr_parse("2001:db8::1", &a), 0);
	for (i = 0; i < 100000; i++) {
		a.w[1] = htonl(i);
		place(&p, bwe_bl_h6_hash(&a));
	}
	assert_true(p.distinct > 196500); /* about 197,600 at random, 197,174 here */
	free(p.t);
}

/* Register and rank of one hash: the low 5 bits pick, trailing zeros above rank. */
static void test_hll_rank(void **state)
{
	static const struct {
		__u32 hash;
		unsigned int idx, rank;
	} rows[] = {
		{ 0x00000000, 0, RANK_MAX }, /* nothing above the index: the sentinel */
		{ 0x00000001, 1, RANK_MAX },
		{ 0x00000020, 0, 1 }, /* lowest rank bit set */
		{ 0x00000040, 0, 2 },
		{ 0x00200000, 0, 17 }, /* 16 zeros: the first halving step */
		{ 0x0020001f, 31, 17 },
		{ 0x40000003, 3, 26 },
		{ 0x8000001f, 31, 27 }, /* only the top bit */
		{ 0xffffffff, 31, 1 },
	};
	__u8 regs[BWE_HLL_REGS];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		assert_int_equal(bwe_hll_index(rows[i].hash), rows[i].idx);
		assert_int_equal(bwe_hll_rank(rows[i].hash), rows[i].rank);
		memset(regs, 0, sizeof(regs));
		bwe_hll_add(regs, rows[i].hash);
		assert_int_equal(regs[rows[i].idx], rows[i].rank);
	}
}

/* The binary search equals count-trailing-zeros, which BPF does not have. */
static void test_hll_rank_ctz(void **state)
{
	__u32 n, h = 0;

	(void)state;
	for (n = 0; n < SWEEP; n++) {
		__u32 rest = (h >> BWE_HLL_BITS) | (1U << (32 - BWE_HLL_BITS));

		assert_int_equal(bwe_hll_rank(h), __builtin_ctz(rest) + 1);
		h = h * LCG_MUL + LCG_ADD;
	}
}

/* A register keeps the highest rank offered; other registers stay untouched. */
static void test_hll_add(void **state)
{
	static const struct {
		__u32 hash;
		__u8 reg3; /* register 3 afterwards */
	} steps[] = {
		{ 0x00000083, 3 }, /* rank 3 */
		{ 0x00000023, 3 }, /* rank 1: lower, kept */
		{ 0x00000403, 6 }, /* rank 6: higher, taken */
		{ 0x00000403, 6 }, /* the same again: no change */
		{ 0x00000003, RANK_MAX }, { 0x00000083, RANK_MAX },
	};
	__u8 regs[BWE_HLL_REGS];
	size_t i, r;

	(void)state;
	memset(regs, 0, sizeof(regs));
	for (i = 0; i < ARRAY_SIZE(steps); i++) {
		bwe_hll_add(regs, steps[i].hash);
		assert_int_equal(regs[3], steps[i].reg3);
		for (r = 0; r < BWE_HLL_REGS; r++)
			if (r != 3)
				assert_int_equal(regs[r], 0);
	}
}

/* Exact host entry x longest prefix entry: a drop entry beats a monitor entry. */
static void test_ref_merge(void **state)
{
	static const struct {
		const char *name;
		__u8 host, prefix, want;
		int decides; /* bwe_ref_decides(host): prefix not looked up */
	} rows[] = {
		{ "nothing listed", BWE_REF_NONE, BWE_REF_NONE, BWE_REF_NONE, 0 },
		{ "drop prefix only", BWE_REF_NONE, DROP_P, DROP_P, 0 },
		{ "monitor prefix only", BWE_REF_NONE, MON_P, MON_P, 0 },
		{ "drop host only", DROP_H, BWE_REF_NONE, DROP_H, 1 },
		{ "drop host, drop prefix", DROP_H, DROP_P, DROP_H, 1 },
		{ "drop host, monitor prefix", DROP_H, MON_P, DROP_H, 1 },
		{ "monitor host only", MON_H, BWE_REF_NONE, MON_H, 0 },
		{ "monitor host, drop prefix", MON_H, DROP_P, DROP_P, 0 },
		{ "monitor host, monitor prefix", MON_H, MON_P, MON_H, 0 },
	};
	size_t i;

	(void)state;
	assert_int_equal(bwe_ref(FEED_D, 0), DROP_H);
	assert_int_equal(bwe_ref(FEED_M, 1), MON_H);
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		if (bwe_ref_merge(rows[i].host, rows[i].prefix) != rows[i].want)
			fail_msg("%s: merge 0x%02x, want 0x%02x", rows[i].name,
				 bwe_ref_merge(rows[i].host, rows[i].prefix), rows[i].want);
		assert_int_equal(bwe_ref_decides(rows[i].host), rows[i].decides);
	}
}

/*
 * Every verdict reason: does it drop, and what monitor-only mode makes of
 * it. The rows are the reasons that drop or change; every other reason
 * passes and is kept.
 */
static void test_reason_dryrun(void **state)
{
	static const struct {
		__u32 reason, dryrun;
		int dry_drops;
	} rows[] = {
		{ BWE_R_QUARANTINE, BWE_R_QUARANTINE_DRYRUN, 0 },
		{ BWE_R_BLOCK, BWE_R_BLOCK_DRYRUN, 0 },
		{ BWE_R_THROTTLE, BWE_R_THROTTLE_DRYRUN, 0 },
		{ BWE_R_MALFORMED, BWE_R_MALFORMED, 1 }, /* not a policy drop */
	};
	__u32 r;
	size_t i;

	(void)state;
	for (r = 0; r < BWE_R_MAX; r++) {
		__u32 dryrun = r;
		int drops = 0, dry_drops = 0;

		for (i = 0; i < ARRAY_SIZE(rows); i++) {
			if (rows[i].reason == r) {
				dryrun = rows[i].dryrun;
				drops = 1;
				dry_drops = rows[i].dry_drops;
			}
		}
		if (bwe_reason_drops(r) != drops || bwe_reason_dryrun(r) != dryrun ||
		    bwe_reason_drops(bwe_reason_dryrun(r)) != dry_drops)
			fail_msg("reason %u: drops %d, dry run %u (drops %d); want %d, %u (%d)", r,
				 bwe_reason_drops(r), bwe_reason_dryrun(r),
				 bwe_reason_drops(bwe_reason_dryrun(r)), drops, dryrun, dry_drops);
		/* applying it twice changes nothing more */
		assert_int_equal(bwe_reason_dryrun(dryrun), dryrun);
	}
	/* BWE_R_ABORTED is XDP_ABORTED, not a drop, and *_DRYRUN reasons pass */
	assert_false(bwe_reason_drops(BWE_R_ABORTED));
	assert_false(bwe_reason_drops(BWE_R_BLOCK_DRYRUN));
}

/* Every (slot, direction) pair has its own bwe_stats entry, inside the map. */
static void test_stat_index(void **state)
{
	bool seen[BWE_STATS_ENTRIES] = { false };
	__u32 slot, dir, idx;

	(void)state;
	for (slot = 0; slot < BWE_STATS_MAX; slot++) {
		for (dir = 0; dir < BWE_SD_MAX; dir++) {
			idx = bwe_stat_index(slot, dir);
			if (idx >= BWE_STATS_ENTRIES || seen[idx])
				fail_msg("slot %u dir %u: index %u out of range or taken", slot,
					 dir, idx);
			seen[idx] = true;
		}
	}
	/* past the last slot: outside the map, so the program's lookup fails */
	assert_true(bwe_stat_index(BWE_STATS_MAX, BWE_SD_NONE) >= BWE_STATS_ENTRIES);
}

/* The token bucket: refill by elapsed time, a full burst after a second, no time before last_ns. */
static void test_bucket_take(void **state)
{
	const __u64 t0 = 5000000000ULL, rate = 1000, burst = 3000;
	struct bwe_bucket b = { .tokens = 0, .last_ns = t0 };

	(void)state;
	assert_int_equal(bwe_bucket_take(&b, rate, burst, 1, t0), 0); /* nothing elapsed */
	/* half a second: 500 bytes come back */
	assert_int_equal(bwe_bucket_take(&b, rate, burst, 400, t0 + 500000000ULL), 1);
	assert_int_equal(b.tokens, 100);
	assert_int_equal(b.last_ns, t0 + 500000000ULL);
	/* a clock reading older than the last refill (read before another CPU's
	 * refill): no time passed, the bucket is not refilled to the burst */
	assert_int_equal(bwe_bucket_take(&b, rate, burst, 200, t0), 0);
	assert_int_equal(b.tokens, 100);
	assert_int_equal(b.last_ns, t0 + 500000000ULL);
	assert_int_equal(bwe_bucket_take(&b, rate, burst, 100, 1), 1);
	assert_int_equal(b.tokens, 0);
	assert_int_equal(b.last_ns, t0 + 500000000ULL);
	/* a second or more: the whole burst, never more */
	assert_int_equal(bwe_bucket_take(&b, rate, burst, 3000, t0 + 2000000000ULL), 1);
	assert_int_equal(b.tokens, 0);
	b.tokens = 2900;
	assert_int_equal(bwe_bucket_take(&b, rate, burst, 0, t0 + 2900000000ULL), 1);
	assert_int_equal(b.tokens, burst);
	/* the fastest rate over almost a second stays within 64 bits */
	b = (struct bwe_bucket){ .tokens = 0, .last_ns = t0 };
	assert_int_equal(bwe_bucket_take(&b, BWE_RATE_MAX, ~0ULL, 1, t0 + 999999999ULL), 1);
	assert_int_equal(b.tokens, BWE_RATE_MAX * 999999999ULL / 1000000000ULL - 1);
}

/* An inbound hit answers the host's own contact for two dedup windows after its event. */
static void test_hit_answers(void **state)
{
	const __u64 w = 60000000000ULL, t = 1000 * w;

	(void)state;
	assert_false(bwe_hit_answers(0, t, w)); /* no outbound event: unsolicited */
	assert_true(bwe_hit_answers(t, t, w));
	assert_true(bwe_hit_answers(t - 2 * w + 1, t, w));
	assert_false(bwe_hit_answers(t - 2 * w, t, w));
	assert_false(bwe_hit_answers(t + 1, t, w)); /* a later event than the clock reading */
	assert_false(bwe_hit_answers(t, t, 0));	    /* a zero window: never */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mix32),	      cmocka_unit_test(test_mix32_bijection),
		cmocka_unit_test(test_sketch_hashes), cmocka_unit_test(test_hll_rank),
		cmocka_unit_test(test_hll_rank_ctz),  cmocka_unit_test(test_hll_add),
		cmocka_unit_test(test_ref_merge),     cmocka_unit_test(test_reason_dryrun),
		cmocka_unit_test(test_bucket_take),   cmocka_unit_test(test_stat_index),
		cmocka_unit_test(test_hit_answers),   cmocka_unit_test(test_bl_h6_place),
		cmocka_unit_test(test_filter_hashes),
	};

	return cmocka_run_group_tests_name("shared rules (bwe_rules.h)", tests, NULL, NULL);
}
