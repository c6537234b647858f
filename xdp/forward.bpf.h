/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * forward.bpf.h - the XDP fast path for passed traffic (BPF only).
 *
 * Contract: bwe_forward() is called by bwe_xdp only for an IP packet whose
 * verdict passes, after it was judged, accounted and counted. On an
 * interface whose bwe_iface_val.fwd is BWE_FWD_FIB it forwards the frame as
 * the kernel would route it: bpf_fib_lookup() with the ingress ifindex (the
 * routing rules, forwarding switch and egress MTU of the ingress device
 * apply), TTL or hop limit decremented (IPv4 header checksum updated
 * incrementally, RFC 1624), the MACs of the FIB answer, and
 * bpf_redirect_map() into bwe_fwd_dev. It returns XDP_REDIRECT then, and
 * XDP_PASS with the frame unchanged for everything else, so the kernel's
 * stack does what the fast path does not: ARP/ND for an unknown neighbour,
 * fragments, IPv4 options and IPv6 extension headers, headers it would
 * refuse (checksum, length, martian source), ICMP time exceeded
 * and fragmentation needed / packet too big, local delivery, broadcast and
 * multicast, translation (NAT), and tagged or PPPoE frames. Every outcome is
 * counted once per frame in the ingress interface's bwe_fwd_stats entry
 * (enum bwe_fwd_stat).
 *
 * The fast path bypasses netfilter: no forward-chain filtering, no
 * conntrack, no NAT. Traffic that an interface declared `nat` translates
 * (bwe_iface_val.flags of the ingress or the egress interface) is therefore
 * never fast-forwarded (BWE_FWD_S_NAT); docs/deployment.md says when the
 * mode may be turned on.
 */
#ifndef BWE_FORWARD_BPF_H
#define BWE_FORWARD_BPF_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "bwe_abi.h"
#include "maps.bpf.h"

#define BWE_AF_INET	 2	    /* AF_INET of <sys/socket.h>, which BPF code cannot include */
#define BWE_AF_INET6	 10	    /* AF_INET6 */
#define BWE_IPV4_FRAG	 0x3fff	    /* MF flag and fragment offset, host order */
#define BWE_IPV4_HLEN	 5	    /* ihl of a header without options, 32-bit words */
#define BWE_TTL_MIN	 1	    /* a TTL or hop limit at or below this expires here */
#define BWE_FLOWINFO	 0x0fffffff /* traffic class and flow label of IPv6 word 0, host order */
#define BWE_IPV6_NH_MH	 135	    /* mobility header (RFC 6275) */
#define BWE_IPV6_NH_HIP	 139	    /* host identity protocol (RFC 7401) */
#define BWE_IPV6_NH_SHIM 140	    /* shim6 (RFC 5533) */
#define BWE_IPV4_HWORDS	 10	    /* 16-bit words of an option-less IPv4 header */

static __always_inline void fwd_count(struct bwe_fwd_stats *st, __u32 what, __u64 len)
{
	if (st && what < BWE_FWD_MAX) {
		st->c[what].packets++;
		st->c[what].bytes += len;
	}
}

/* An IPv6 next header the forwarding path must look into (RFC 8200 section 4.1). */
static __always_inline int ipv6_is_ext(__u8 nh)
{
	return nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING || nh == IPPROTO_FRAGMENT ||
	       nh == IPPROTO_DSTOPTS || nh == IPPROTO_AH || nh == BWE_IPV6_NH_MH ||
	       nh == BWE_IPV6_NH_HIP || nh == BWE_IPV6_NH_SHIM;
}

/* RFC 1071 sum over an option-less IPv4 header: 0xffff when its checksum is right. */
static __always_inline __u32 ipv4_hsum(const struct iphdr *ip)
{
	const __u16 *w = (const __u16 *)ip;
	__u32 sum = 0;
	int i;

#pragma unroll
	for (i = 0; i < BWE_IPV4_HWORDS; i++)
		sum += w[i];
	sum = (sum & 0xffff) + (sum >> 16);
	return (sum & 0xffff) + (sum >> 16);
}

/*
 * A source the kernel never forwards from (ip_route_input_slow(): zeronet,
 * loopback, multicast and class E are martians; ip6_forward(): link-local
 * and the rest of what is not a global unicast source). Addresses in
 * network order.
 */
static __always_inline int ipv4_src_martian(__be32 saddr)
{
	__u32 a = bpf_ntohl(saddr);

	return (a >> 24) == 0 || (a >> 24) == 127 || (a >> 28) >= 0xe;
}

static __always_inline int ipv6_src_martian(const struct ipv6hdr *ip6)
{
	__u32 w0 = bpf_ntohl(ip6->saddr.in6_u.u6_addr32[0]);
	__u32 low = ip6->saddr.in6_u.u6_addr32[0] | ip6->saddr.in6_u.u6_addr32[1] |
		    ip6->saddr.in6_u.u6_addr32[2];

	return (w0 >> 24) == 0xff || (w0 >> 22) == (0xfe80 >> 6) ||
	       (!low && (ip6->saddr.in6_u.u6_addr32[3] == 0 ||
			 ip6->saddr.in6_u.u6_addr32[3] == bpf_htonl(1)));
}

/* Why bpf_fib_lookup() did not give a next hop, as a counter. */
static __always_inline __u32 fib_fallback(long rc)
{
	switch (rc) {
	case BPF_FIB_LKUP_RET_NO_NEIGH:
		return BWE_FWD_S_NO_NEIGH;
	case BPF_FIB_LKUP_RET_FRAG_NEEDED:
		return BWE_FWD_S_MTU;
	case BPF_FIB_LKUP_RET_NOT_FWDED:
	case BPF_FIB_LKUP_RET_FWD_DISABLED:
		return BWE_FWD_S_LOCAL;
	default: /* blackhole, unreachable, prohibit, lwt, a helper error */
		return BWE_FWD_S_NO_ROUTE;
	}
}

/*
 * The fast path; cfg_flags: bwe_config.flags (BWE_CFG_FWD is set, else the
 * caller would not be here). A subprogram of its own: the verifier walks it
 * once, not once per call site of bwe_xdp.
 */
static __noinline int bwe_forward(struct xdp_md *ctx, __u32 cfg_flags)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct bpf_fib_lookup fib = {};
	struct bwe_iface_val *in, *eg;
	struct bwe_fwd_stats *st;
	struct iphdr *ip4 = NULL;
	struct ipv6hdr *ip6 = NULL;
	__be16 *ports;
	__u32 ifindex = ctx->ingress_ifindex, what, nat_if, nat_cfg;
	__u64 len = data_end - data;
	__u32 csum;
	long rc;

	in = bpf_map_lookup_elem(&bwe_ifaces, &ifindex);
	if (!in || in->fwd != BWE_FWD_FIB)
		return XDP_PASS;
	st = bpf_map_lookup_elem(&bwe_fwd_stats, &ifindex);
	if ((void *)(eth + 1) > data_end)
		return XDP_PASS; /* the parser read it: cannot happen */

	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		ip4 = (void *)(eth + 1);
		if ((void *)(ip4 + 1) > data_end)
			return XDP_PASS;
		nat_if = BWE_IF_NAT4;
		nat_cfg = BWE_CFG_NAT4;
		if (ip4->ihl != BWE_IPV4_HLEN) {
			what = BWE_FWD_S_OPTIONS;
			goto stack;
		}
		if (ip4->frag_off & bpf_htons(BWE_IPV4_FRAG)) {
			what = BWE_FWD_S_FRAGMENT;
			goto stack;
		}
		if (ip4->ttl <= BWE_TTL_MIN) {
			what = BWE_FWD_S_TTL;
			goto stack;
		}
		/* lengths compared as numbers, not added to a packet pointer: a
		 * byte-swapped value has no bounds for older verifiers (6.1) */
		if (ipv4_hsum(ip4) != 0xffff || bpf_ntohs(ip4->tot_len) < sizeof(*ip4) ||
		    bpf_ntohs(ip4->tot_len) > len - sizeof(*eth) || ipv4_src_martian(ip4->saddr)) {
			what = BWE_FWD_S_HEADER;
			goto stack;
		}
		fib.family = BWE_AF_INET;
		fib.tos = ip4->tos;
		fib.l4_protocol = ip4->protocol;
		fib.tot_len = bpf_ntohs(ip4->tot_len);
		fib.ipv4_src = ip4->saddr;
		fib.ipv4_dst = ip4->daddr;
		ports = (void *)(ip4 + 1);
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		ip6 = (void *)(eth + 1);
		if ((void *)(ip6 + 1) > data_end)
			return XDP_PASS;
		nat_if = BWE_IF_NAT6;
		nat_cfg = BWE_CFG_NAT6;
		if (ipv6_is_ext(ip6->nexthdr)) {
			what = ip6->nexthdr == IPPROTO_FRAGMENT ? BWE_FWD_S_FRAGMENT
								: BWE_FWD_S_OPTIONS;
			goto stack;
		}
		if (ip6->hop_limit <= BWE_TTL_MIN) {
			what = BWE_FWD_S_TTL;
			goto stack;
		}
		if (bpf_ntohs(ip6->payload_len) > len - sizeof(*eth) - sizeof(*ip6) ||
		    ipv6_src_martian(ip6)) {
			what = BWE_FWD_S_HEADER;
			goto stack;
		}
		fib.family = BWE_AF_INET6;
		fib.flowinfo = *(__be32 *)ip6 & bpf_htonl(BWE_FLOWINFO);
		fib.l4_protocol = ip6->nexthdr;
		fib.tot_len = bpf_ntohs(ip6->payload_len) + sizeof(*ip6);
		__builtin_memcpy(fib.ipv6_src, &ip6->saddr, sizeof(fib.ipv6_src));
		__builtin_memcpy(fib.ipv6_dst, &ip6->daddr, sizeof(fib.ipv6_dst));
		ports = (void *)(ip6 + 1);
	} else {
		what = BWE_FWD_S_ENCAP; /* VLAN tags or PPPoE before the IP header */
		goto stack;
	}
	if (in->flags & nat_if) {
		what = BWE_FWD_S_NAT; /* a reply to reverse-translate (or a port forward) */
		goto stack;
	}
	/* ports, for multipath hashing and port-based routing rules */
	if ((fib.l4_protocol == IPPROTO_TCP || fib.l4_protocol == IPPROTO_UDP) &&
	    (void *)(ports + 2) <= data_end) {
		fib.sport = ports[0];
		fib.dport = ports[1];
	}
	fib.ifindex = ifindex;

	rc = bpf_fib_lookup(ctx, &fib, sizeof(fib), 0);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS) {
		what = fib_fallback(rc);
		goto stack;
	}
	if (cfg_flags & nat_cfg) {
		ifindex = fib.ifindex;
		eg = bpf_map_lookup_elem(&bwe_ifaces, &ifindex);
		if (eg && (eg->flags & nat_if)) {
			what = BWE_FWD_S_NAT; /* leaves through a translating interface */
			goto stack;
		}
	}
	/* Before any byte changes: an egress outside the devmap gets the frame as it came. */
	if (bpf_redirect_map(&bwe_fwd_dev, fib.ifindex, XDP_PASS) != XDP_REDIRECT) {
		what = BWE_FWD_S_EGRESS;
		goto stack;
	}
	if (ip4) {
		/* RFC 1624: TTL is the high byte of its 16-bit word; add back the carry. */
		csum = (__u32)ip4->check + (__u32)bpf_htons(0x0100);
		ip4->check = (__sum16)(csum + (csum >= 0xffff));
		ip4->ttl--;
	} else if (ip6) {
		ip6->hop_limit--;
	}
	__builtin_memcpy(eth->h_dest, fib.dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, fib.smac, ETH_ALEN);
	fwd_count(st, BWE_FWD_FAST, len);
	return XDP_REDIRECT;

stack:
	fwd_count(st, what, len);
	return XDP_PASS;
}

#endif /* BWE_FORWARD_BPF_H */
