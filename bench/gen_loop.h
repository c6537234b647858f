/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * gen_loop.h - the generator loop's numbers (gen_loop.bpf.h), shared by the
 * generator programs (through gen_loop.bpf.h), bench_common.c and
 * live_frames.c (which seeds and sizes loops of its own).
 */
#ifndef BWE_BENCH_GEN_LOOP_H
#define BWE_BENCH_GEN_LOOP_H

#define GEN_LOOPS	 2 /* loops at once: one per generating CPU */
#define GEN_LOOP_PORTS	 2 /* devmap entries of a loop: lpA, then the sending veth */
/*
 * Frames seeded into a loop. Enough for full NAPI batches (64) in lpB's ring
 * while the previous batch is in flight, and fewer than the ring holds
 * (256), so that the loop never drops its own frames.
 */
#define GEN_LOOP_SEEDS	 128
/*
 * A loop stops by itself once its generator has counted up to the limit user
 * space set for the sample (the generator's .bss): the sample's length times
 * this rate, far above what a veth carries. So a loop whose process was
 * killed before it could stop it ends within seconds, not with the namespace.
 */
#define GEN_LOOP_MAX_PPS 50000000ULL

#endif /* BWE_BENCH_GEN_LOOP_H */
