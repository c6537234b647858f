/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * map_scale.h - what bench/lookup.bpf.c and bench/map_scale.c share (the
 * map-scaling benchmark, BENCHMARKS.md tier 2). Safe to include from BPF C
 * and from user space; it pulls in nothing.
 *
 * One program run is one bpf_loop of BENCH_LOOP_ITERS iterations, each
 * drawing one random key and (except in the baseline program) making one
 * lookup. User space runs a program with bpf_prog_test_run_opts (repeat 1)
 * and divides the duration by BENCH_LOOP_ITERS.
 */
#ifndef BWE_BENCH_MAP_SCALE_H
#define BWE_BENCH_MAP_SCALE_H

/*
 * Iterations per program run: ~1.5 ms to ~150 ms a run: long enough to time
 * and to wash out the previous program's cache state, short enough to keep
 * preemption-free stretches brief and to interleave finely.
 */
#define BENCH_LOOP_ITERS 65536

/* Where a key comes from (global bench_keys, written between runs). */
enum bench_keys {
	BENCH_KEYS_POOL = 0, /* an address drawn from bench_pool: the entries' own */
	BENCH_KEYS_ANY = 1,  /* any IPv4 address (IPv4-mapped), nearly always a miss */
	BENCH_KEYS_MAX,
};

#endif /* BWE_BENCH_MAP_SCALE_H */
