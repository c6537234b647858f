/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * live_gen.h - what the real-frames generator (bench/live_gen.bpf.c) and its
 * driver (bench/live_frames.c) share: the per-CPU state in the generator's
 * .bss. Included by both; nothing else.
 */
#ifndef BWE_BENCH_LIVE_GEN_H
#define BWE_BENCH_LIVE_GEN_H

#include <linux/types.h>

#define GEN_CPUS_MAX   64 /* CPUs that may generate (ids 0..63) */
#define GEN_CACHE_LINE 64 /* bytes */

/*
 * One generating CPU's state, a cache line of its own, so that generators
 * running on several CPUs at once share no written line (a shared counter
 * would bounce between them and slow the baseline rows as much as the
 * enforcer's).
 */
struct gen_cpu {
	__u64 count;   /* frames this CPU generated so far */
	__u32 src_off; /* first source of this CPU's slice, host order offset; set between runs */
	__u32 loop;    /* gen_loop.bpf.h: the loop this CPU feeds (1, 2), 0: XDP_TX */
	/* frames dropped, not counted, once count reaches it: how a loop stops
	 * (GEN_LOOP_MAX_PPS); ~0 under live frames */
	__u64 limit;
	__u8 pad[GEN_CACHE_LINE - 24];
} __attribute__((aligned(GEN_CACHE_LINE)));
_Static_assert(sizeof(struct gen_cpu) == GEN_CACHE_LINE, "gen_cpu is one cache line");

#endif /* BWE_BENCH_LIVE_GEN_H */
