// SPDX-License-Identifier: GPL-2.0-only
/*
 * live_gen.bpf.c - the frame generator of the real-frames benchmark
 * (BENCHMARKS.md tier 3, TESTBED.md "Generating packets fast enough").
 *
 * bench/live_frames.c runs gen_tx with bpf_prog_test_run_opts and
 * BPF_F_TEST_XDP_LIVE_FRAMES in the sender's namespace, ingress_ifindex the
 * sending veth: every XDP_TX frame leaves through that veth and reaches the
 * peer's native XDP program. Where the kernel refuses live frames, gen_tx is
 * attached to a loop veth of the sender's namespace instead and sends each
 * frame out of the sending veth and around the loop again (gen_loop.bpf.h),
 * one loop per generating CPU (gen_cpu[].loop), until gen_cpu[].limit.
 *
 * The template frame is Ethernet + IPv4 (20 bytes, no options) + UDP, built
 * by lib/pktbuild.c. Per frame, from a running counter n of the CPU it runs on:
 *   source      gen_src_base + gen_cpu[cpu].src_off + (n & gen_src_mask):
 *               every host of the CPU's slice in turn (one slice, offset 0,
 *               when one CPU generates; disjoint slices when several do);
 *   destination gen_pool[gen_pool_off + (hash(n) & gen_pool_mask)]: a pool of
 *               listed (drop path) or unlisted (pass path) peers, or the
 *               first of them alone, chosen by user space between runs;
 * and the IPv4 header checksum is recomputed, so the receiving stack sees a
 * valid header on the pass path. Test addresses only (TESTBED.md).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "gen_loop.bpf.h"
#include "live_gen.h"

#define IPV4_HDR_WORDS 10	   /* 16-bit words in an option-less IPv4 header */
#define GOLDEN32       0x9e3779b1u /* odd multiplier: bits 16..31 of n * it pick the entry */

char LICENSE[] SEC("license") = "GPL";

/* Set before load. */
const volatile __u32 gen_src_base = 0; /* first source address, host order */

/* Set between runs; read back. */
__u32 gen_src_mask;  /* sources - 1, a power of two minus one */
__u32 gen_pool_off;  /* first entry of the pool in use */
__u32 gen_pool_mask; /* entries used - 1: 2^k - 1, k <= 16 */

struct gen_cpu gen_cpu[GEN_CPUS_MAX]; /* by CPU id (live_gen.h) */

/* Destination pools, network order, back to back. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* sized by user space */
	__type(key, __u32);
	__type(value, __be32);
} gen_pool SEC(".maps");

static __always_inline __u16 csum_ipv4(const __u16 *w)
{
	__u32 sum = 0;
	int i;

	for (i = 0; i < IPV4_HDR_WORDS; i++)
		sum += w[i];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

SEC("xdp")
int gen_tx(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	__u32 cpu = bpf_get_smp_processor_id(), idx;
	struct gen_cpu *g;
	__be32 *dst;
	__u64 n;

	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) ||
	    cpu >= GEN_CPUS_MAX)
		return XDP_ABORTED;
	g = &gen_cpu[cpu];
	if (g->count >= *(volatile __u64 *)&g->limit)
		return XDP_DROP;
	n = g->count++;
	idx = gen_pool_off + ((__u32)n * GOLDEN32 >> 16 & gen_pool_mask);
	dst = bpf_map_lookup_elem(&gen_pool, &idx);
	if (!dst)
		return XDP_ABORTED;
	ip->saddr = bpf_htonl(gen_src_base + g->src_off + ((__u32)n & gen_src_mask));
	ip->daddr = *dst;
	ip->check = 0;
	ip->check = csum_ipv4((const __u16 *)ip);
	return gen_loop_out(g->loop);
}
