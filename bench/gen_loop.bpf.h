/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * gen_loop.bpf.h - how the frame generators of live_frames and fwd_frames
 * send a frame: XDP_TX under a live-frames test run, or into a loop where the
 * kernel refuses live frames (bench_live_frames_probe(), bench_common.h).
 *
 * The loop: in the generator's namespace, a veth pair lpA-lpB besides the
 * sending veth. The generator is attached natively to lpB and returns
 * gen_loop_out(): a broadcast redirect into that loop's devmap, which holds
 * lpA and the sending veth. The copy sent out of the sending veth is the
 * generated frame; the copy sent out of lpA comes back into lpB's own ring (a
 * veth hands what it transmits to its peer), and the generator runs on it
 * again. A few frames seeded on lpA by user space (bench_loop_run()) keep
 * it going in lpB's NAPI on the CPU that seeded them, with no system call
 * per frame, until the generator's count reaches the limit user space set
 * (0 to stop it) and it drops what comes back.
 * Each frame costs the generator one run, one clone (a page) and two veth
 * enqueues beyond what XDP_TX under a test run costs, so a row's CPU time per
 * frame is larger by a constant; the benchmarks say which way they generated.
 *
 * Broadcast goes to every entry of the map named in the call, so each loop
 * has a devmap of its own: GEN_LOOPS loops at most, numbered from 1; loop 0
 * means XDP_TX. User space fills the maps (bench_loop_open()).
 */
#ifndef BWE_BENCH_GEN_LOOP_BPF_H
#define BWE_BENCH_GEN_LOOP_BPF_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "gen_loop.h"

struct gen_loop_map {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, GEN_LOOP_PORTS);
	__type(key, __u32);
	__type(value, __u32); /* ifindex */
};

struct gen_loop_map gen_loop1 SEC(".maps");
struct gen_loop_map gen_loop2 SEC(".maps");

/* The verdict that sends the frame the generator made: into loop `loop`, or XDP_TX. */
static __always_inline int gen_loop_out(__u32 loop)
{
	if (loop == 1)
		return (int)bpf_redirect_map(&gen_loop1, 0, BPF_F_BROADCAST);
	if (loop == 2)
		return (int)bpf_redirect_map(&gen_loop2, 0, BPF_F_BROADCAST);
	return XDP_TX;
}

#endif /* BWE_BENCH_GEN_LOOP_BPF_H */
