// SPDX-License-Identifier: GPL-2.0-only
/*
 * fwd_gen.bpf.c - the programs of the forwarding benchmark
 * (bench/fwd_frames.c, TESTBED.md "Generating packets fast enough"):
 *
 *   fwd_tx    the generator, run with bpf_prog_test_run_opts and
 *             BPF_F_TEST_XDP_LIVE_FRAMES in the generator's namespace; every
 *             frame leaves by XDP_TX towards the gateway. Where the kernel
 *             refuses live frames, attached to a loop veth of that namespace
 *             instead (gen_loop.bpf.h, gen_loop 1) until gen_limit.
 *   fwd_pass  a bare XDP_PASS for the gateway's ingress veth in the "kernel
 *             alone" row: a veth takes XDP_TX frames from its peer only while
 *             it runs an XDP program (or GRO), so the kernel's own forwarding
 *             is measured behind the cheapest program there is.
 *   fwd_fib   a minimal forwarder, the ceiling of forwarding in XDP: IPv4
 *             only, bpf_fib_lookup() and bpf_redirect() with the TTL and
 *             checksum rewrite, no judgement, no counters; anything else to
 *             the stack.
 *   fwd_sink  the receiver: counts every frame that arrives (the delivered
 *             packets) and drops it.
 *   fwd_tc_sink the same at tc ingress, for the receiver that takes frames
 *             through its stack (a socket buffer for each). The baseline row puts it on the
 *             gateway's ingress veth instead: the cost of generating a frame
 *             and carrying it over one veth, without a gateway.
 *
 * Live-frames pages are recycled with whatever the gateway left in them (a
 * forwarded frame comes back with the next hop's MACs and a decremented
 * TTL), so fwd_tx rewrites the MACs, the TTL, both addresses and the IPv4
 * header checksum of every frame. Rodata arrays are read element by element:
 * clang folds a memcpy from a zero-initialised const volatile array.
 * Per frame, from a counter n: source gen_src_base + (n & gen_src_mask)
 * (internal hosts in turn), destination gen_dst_base + (hash(n) &
 * gen_dst_mask). Test addresses only (TESTBED.md).
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "gen_loop.bpf.h"

#define IPV4_HDR_WORDS 10	   /* 16-bit words in an option-less IPv4 header */
#define GOLDEN32       0x9e3779b1u /* odd multiplier: the high bits of n * it pick a peer */
#define GEN_TTL	       64
#define FWD_AF_INET    2 /* AF_INET, which BPF code cannot include */

char LICENSE[] SEC("license") = "GPL";

/* Set before load. */
const volatile __u8 gen_smac[ETH_ALEN] = {}; /* the generator's veth */
const volatile __u8 gen_dmac[ETH_ALEN] = {}; /* the gateway's ingress veth */
const volatile __u32 gen_src_base = 0;	     /* first source address, host order */
const volatile __u32 gen_src_mask = 0;	     /* sources - 1, 2^k - 1 */
const volatile __u32 gen_dst_base = 0;	     /* first destination address, host order */
const volatile __u32 gen_dst_mask = 0;	     /* destinations - 1, 2^k - 1 */

__u64 gen_count; /* frames generated so far */
__u32 gen_loop;	 /* gen_loop.bpf.h: 1, generating through loop 1; 0, XDP_TX */
/* frames dropped, not counted, once gen_count reaches it: how a loop stops
 * (GEN_LOOP_MAX_PPS); ~0 under live frames */
__u64 gen_limit;

/* frames delivered, slot 0 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} sink_count SEC(".maps");

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
int fwd_tx(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	__u64 n;
	int i;

	if (gen_count >= *(volatile __u64 *)&gen_limit)
		return XDP_DROP;
	n = gen_count++;
	if ((void *)(ip + 1) > data_end)
		return XDP_ABORTED;
#pragma unroll
	for (i = 0; i < ETH_ALEN; i++) {
		eth->h_dest[i] = gen_dmac[i];
		eth->h_source[i] = gen_smac[i];
	}
	eth->h_proto = bpf_htons(ETH_P_IP);
	ip->ttl = GEN_TTL;
	ip->saddr = bpf_htonl(gen_src_base + ((__u32)n & gen_src_mask));
	ip->daddr = bpf_htonl(gen_dst_base + (((__u32)n * GOLDEN32 >> 16) & gen_dst_mask));
	ip->check = 0;
	ip->check = csum_ipv4((const __u16 *)ip);
	return gen_loop_out(gen_loop);
}

SEC("xdp")
int fwd_pass(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

SEC("xdp")
int fwd_fib(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct bpf_fib_lookup fib = {};
	__u32 csum;
	int i;

	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) || ip->ttl <= 1)
		return XDP_PASS;
	fib.family = FWD_AF_INET;
	fib.tos = ip->tos;
	fib.l4_protocol = ip->protocol;
	fib.tot_len = bpf_ntohs(ip->tot_len);
	fib.ipv4_src = ip->saddr;
	fib.ipv4_dst = ip->daddr;
	fib.ifindex = ctx->ingress_ifindex;
	if (bpf_fib_lookup(ctx, &fib, sizeof(fib), 0) != BPF_FIB_LKUP_RET_SUCCESS)
		return XDP_PASS;
	csum = (__u32)ip->check + (__u32)bpf_htons(0x0100);
	ip->check = (__u16)(csum + (csum >= 0xffff));
	ip->ttl--;
#pragma unroll
	for (i = 0; i < ETH_ALEN; i++) {
		eth->h_dest[i] = fib.dmac[i];
		eth->h_source[i] = fib.smac[i];
	}
	return bpf_redirect(fib.ifindex, 0);
}

SEC("xdp")
int fwd_sink(struct xdp_md *ctx)
{
	__u32 zero = 0;
	__u64 *c = bpf_map_lookup_elem(&sink_count, &zero);

	(void)ctx;
	if (c)
		(*c)++;
	return XDP_DROP;
}

SEC("tc")
int fwd_tc_sink(struct __sk_buff *skb)
{
	__u32 zero = 0;
	__u64 *c = bpf_map_lookup_elem(&sink_count, &zero);

	(void)skb;
	if (c)
		(*c)++;
	return TC_ACT_SHOT;
}
