// SPDX-License-Identifier: GPL-2.0-only
/*
 * xdp_foreign.bpf.c - a tiny "foreign" XDP program for the end-to-end tests:
 * it passes every frame and counts them, so a test can attach it beside (or
 * instead of) the enforcer and see that it still runs. Its name,
 * xdp_foreign, is what bwctld must name when it refuses to replace it.
 * Built with clang -target bpf; not part of the product.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

/* frames seen, one slot (read with bpftool map dump) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} foreign_seen SEC(".maps");

SEC("xdp")
int xdp_foreign(struct xdp_md *ctx)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&foreign_seen, &zero);

	(void)ctx;
	if (n)
		(*n)++;
	return XDP_PASS;
}
