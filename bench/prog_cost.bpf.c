// SPDX-License-Identifier: GPL-2.0-only
/*
 * prog_cost.bpf.c - the baseline XDP programs of the benchmarks: what the
 * enforcer's per-packet cost is measured against (BENCHMARKS.md tiers 1
 * and 3). bench/prog_cost.c runs them through bpf_prog_test_run_opts;
 * bench/live_frames.c attaches base_drop and base_pass natively to the
 * receiving veth of its testbed.
 *
 *   base_drop   return XDP_DROP: the cheapest possible drop;
 *   base_pass   return XDP_PASS: the cheapest possible pass;
 *   parse_only  the enforcer's own parser (xdp/parse.bpf.h, not a copy),
 *               then XDP_PASS: what reading the headers costs alone;
 *   base_tc     return TC_ACT_OK: the cheapest TC program, the baseline of
 *               the enforcer's TC egress program (NAT gateways).
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include "bwe_abi.h"
#include "parse.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/*
 * What parse_only read, folded into one word. Without a use of the parsed
 * addresses and ports the compiler would drop the loads the enforcer makes;
 * one store to a global costs about a nanosecond.
 */
__u32 parse_sink;

SEC("xdp")
int base_drop(struct xdp_md *ctx)
{
	return XDP_DROP;
}

SEC("xdp")
int base_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("xdp")
int parse_only(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct bwe_pkt p = {};
	int rc = bwe_parse(data, data_end, &p);

	parse_sink += (__u32)rc ^ p.src.w[3] ^ p.dst.w[3] ^ p.sport ^ p.dport ^ p.flags;
	return XDP_PASS;
}

SEC("tc")
int base_tc(struct __sk_buff *skb)
{
	return TC_ACT_OK;
}
