/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * forward.bpf.h - the XDP fast path for passed traffic (BPF only).
 *
 * Contract: bwe_forward() is called by bwe_xdp only for an IP packet whose
 * verdict passes, after it was judged, accounted and counted. It forwards
 * the frame as the kernel would, in the mode of the ingress interface
 * (bwe_iface_val.fwd):
 *  - BWE_FWD_FIB: bpf_fib_lookup() with the ingress ifindex (the routing
 *    rules, forwarding switch and egress MTU of the ingress device apply);
 *    netfilter is bypassed, so traffic an interface declared `nat`
 *    translates (bwe_iface_val.flags of the ingress or the egress interface)
 *    is never fast-forwarded (BWE_FWD_S_NAT).
 *  - BWE_FWD_FLOWTABLE: only a TCP or UDP packet of a connection that
 *    nftables offloaded to a flowtable of the ingress device
 *    (bpf_xdp_flow_lookup(), Linux 6.10): the forward chain accepted it and
 *    conntrack's translation is in the entry, so NAT is honoured. Its
 *    addresses and ports become those of the entry's other direction,
 *    reversed (TCP/UDP and IPv4 header checksums updated incrementally, RFC
 *    1624); the route is looked up as the stack routes a forwarded packet:
 *    destination translated, source not yet. A connection without an entry
 *    (its first packets, until nftables offloads it), a TCP FIN or RST (the
 *    stack tears the entry down) and an entry the fast path cannot transmit
 *    (encapsulated, or not through a neighbour) go to the stack
 *    (BWE_FWD_S_NO_FLOW). The lookup refreshes the entry's timeout, as the
 *    kernel's own flowtable path does; conntrack's counters do not see the
 *    packets.
 * Then TTL or hop limit decremented, the MACs of the FIB answer, and
 * bpf_redirect_map() into bwe_fwd_dev: XDP_REDIRECT. Everything else goes to
 * the stack with the frame unchanged (XDP_PASS), so the kernel does what the
 * fast path does not: ARP/ND for an unknown neighbour, fragments, IPv4
 * options and IPv6 extension headers, headers it would refuse (checksum,
 * length, martian source), ICMP time exceeded and fragmentation needed /
 * packet too big, local delivery, broadcast and multicast, and tagged or
 * PPPoE frames. Every outcome is counted once per frame in the ingress
 * interface's bwe_fwd_stats entry (enum bwe_fwd_stat).
 *
 * plan_frame() and commit_frame() are the two halves; fwd_plan() and
 * fwd_commit() call them apart, for bwe_xdp's
 * reply through a translating interface (flowtable mode): planned first,
 * so that the packet is judged as it will leave (its internal host known
 * from the entry), then committed when the verdict passes.
 *
 * The kfunc is a weak symbol: the object loads on a kernel without it
 * (before 6.10, or without the nf_flow_table module), where libbpf leaves
 * the call unresolved. bwe_ft_kfunc, set by lib/dataplane.c before the
 * load when the kernel's BTF has the kfunc, keeps the verifier away from
 * the call otherwise.
 */
#ifndef BWE_FORWARD_BPF_H
#define BWE_FORWARD_BPF_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_core_read.h>
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
#define BWE_CSUM_MANGLED 0xffff	    /* a UDP checksum that computes to 0 (RFC 768) */
#define BWE_DIR_REPLY	 1	    /* FLOW_OFFLOAD_DIR_REPLY (= IP_CT_DIR_REPLY) */

/* 1 when the kernel has bpf_xdp_flow_lookup (lib/dataplane.c, before the load). */
const volatile __u32 bwe_ft_kfunc = 0;

/*
 * The kfunc's options (net/netfilter/nf_flow_table_bpf.c) and the parts of
 * the flowtable's entry the fast path reads, by name: CO-RE relocates them
 * against the nf_flow_table module's BTF (where the kernel has no such
 * module, the reads are in code the verifier never walks: bwe_ft_kfunc).
 */
struct bpf_flowtable_opts {
	__s32 error; /* out: -errno of a failed lookup */
};

struct flow_offload_tuple {
	union {
		struct in_addr src_v4;
		struct in6_addr src_v6;
	};
	union {
		struct in_addr dst_v4;
		struct in6_addr dst_v6;
	};
	struct {
		__be16 src_port;
		__be16 dst_port;
	};
	__u8 dir : 2, xmit_type : 3, encap_num : 2;
} __attribute__((preserve_access_index));

struct flow_offload_tuple_rhash {
	struct flow_offload_tuple tuple;
} __attribute__((preserve_access_index));

enum flow_offload_xmit_type {
	FLOW_OFFLOAD_XMIT_UNSPEC = 0,
	FLOW_OFFLOAD_XMIT_NEIGH,
};

extern struct flow_offload_tuple_rhash *bpf_xdp_flow_lookup(struct xdp_md *ctx,
							    struct bpf_fib_lookup *tuple,
							    struct bpf_flowtable_opts *opts,
							    __u32 opts_len) __ksym __weak;

/* fwd_plan()'s callers */
enum bwe_fwd_from {
	BWE_FWD_JUDGED = 0, /* the verdict passed the packet as it came */
	BWE_FWD_REPLY,	    /* a reply to translate, judged once planned (flowtable only) */
};

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

/* The counters at entry `stats` of bwe_fwd_stats (bwe_iface_val.fwd_stats). */
static __always_inline struct bwe_fwd_stats *fwd_stats_at(__u32 stats)
{
	return bpf_map_lookup_elem(&bwe_fwd_stats, &stats);
}

/*
 * The flowtable's entry for the packet whose route key pl->fib holds
 * (ports: its L4 header): pl->src/dst/sport/dport become what the packet
 * will carry, pl->nat says whether that differs, and the route key's
 * destination becomes the translated one. BWE_FWD_MAX when it has an
 * entry the fast path can use, else the to-stack reason.
 */
static __always_inline __u32 flow_translate(struct xdp_md *ctx, struct bwe_fwd_plan *pl,
					    void *ports, void *data_end)
{
	struct bpf_flowtable_opts opts = {};
	struct flow_offload_tuple_rhash *th;
	__u32 diff, i;
	void *other;
	long size, err;
	__u8 dir;

	if (!bwe_ft_kfunc)
		return BWE_FWD_S_NO_FLOW;
	if (pl->fib.l4_protocol == IPPROTO_TCP) {
		struct tcphdr *tcp = ports;

		if ((void *)(tcp + 1) > data_end || tcp->fin || tcp->rst)
			return BWE_FWD_S_NO_FLOW; /* the stack's flowtable hook ends the entry */
	} else if (pl->fib.l4_protocol != IPPROTO_UDP ||
		   (void *)((struct udphdr *)ports + 1) > data_end) {
		return BWE_FWD_S_NO_FLOW;
	}
	th = bpf_xdp_flow_lookup(ctx, &pl->fib, &opts, sizeof(opts));
	if (!th)
		return BWE_FWD_S_NO_FLOW;
	dir = BPF_CORE_READ_BITFIELD_PROBED(th, tuple.dir);
	if (dir > BWE_DIR_REPLY || BPF_CORE_READ_BITFIELD_PROBED(th, tuple.encap_num) ||
	    BPF_CORE_READ_BITFIELD_PROBED(th, tuple.xmit_type) !=
		    bpf_core_enum_value(enum flow_offload_xmit_type, FLOW_OFFLOAD_XMIT_NEIGH))
		return BWE_FWD_S_NO_FLOW;
	/* the entry's other direction (struct flow_offload: tuplehash[2]), reversed */
	/* a constant added or taken away on each path: 6.12's verifier keeps
	 * no bounds of a negated value, and pointer math needs them */
	size = bpf_core_type_size(struct flow_offload_tuple_rhash);
	if (dir == BWE_DIR_REPLY) {
		other = (void *)th - size;
		asm volatile("" : "+r"(other));
	} else {
		other = (void *)th + size;
		asm volatile("" : "+r"(other));
	}
	if (pl->v6) {
		err = bpf_core_read(&pl->src, sizeof(pl->src),
				    &((struct flow_offload_tuple_rhash *)other)->tuple.dst_v6);
		err = err
			      ?: bpf_core_read(&pl->dst, sizeof(pl->dst),
					       &((struct flow_offload_tuple_rhash *)other)
							->tuple.src_v6);
	} else {
		err = bpf_core_read(&pl->src.w[3], sizeof(pl->src.w[3]),
				    &((struct flow_offload_tuple_rhash *)other)->tuple.dst_v4);
		err = err
			      ?: bpf_core_read(&pl->dst.w[3], sizeof(pl->dst.w[3]),
					       &((struct flow_offload_tuple_rhash *)other)
							->tuple.src_v4);
	}
	err = err
		      ?: bpf_core_read(&pl->sport, sizeof(pl->sport),
				       &((struct flow_offload_tuple_rhash *)other)->tuple.dst_port);
	err = err
		      ?: bpf_core_read(&pl->dport, sizeof(pl->dport),
				       &((struct flow_offload_tuple_rhash *)other)->tuple.src_port);
	if (err)
		return BWE_FWD_S_NO_FLOW;
	if (pl->v6) {
		for (i = 0, diff = 0; i < 4; i++)
			diff |= (pl->fib.ipv6_src[i] ^ pl->src.w[i]) |
				(pl->fib.ipv6_dst[i] ^ pl->dst.w[i]);
		__builtin_memcpy(pl->fib.ipv6_dst, &pl->dst, sizeof(pl->fib.ipv6_dst));
	} else {
		diff = (pl->fib.ipv4_src ^ pl->src.w[3]) | (pl->fib.ipv4_dst ^ pl->dst.w[3]);
		pl->fib.ipv4_dst = pl->dst.w[3];
	}
	pl->nat = !!diff;
	pl->nat |= pl->fib.sport != pl->sport || pl->fib.dport != pl->dport;
	pl->fib.dport = pl->dport;
	return BWE_FWD_MAX;
}

/*
 * The first half of the fast path; cfg_flags: bwe_config.flags (BWE_CFG_FWD
 * is set, else the caller would not be here); from: enum bwe_fwd_from. 0
 * when the frame can be forwarded as *pl says (the devmap slot is chosen:
 * the caller returns the second half's action, or XDP_DROP, or XDP_PASS,
 * which ignore it), *stp: the ingress interface's counters (NULL: none); 1
 * when it goes to the stack unchanged, counted (for a reply, counted only
 * where the interface forwards through the flowtable).
 */
static __always_inline int plan_frame(struct xdp_md *ctx, __u32 cfg_flags, __u32 from,
				      struct bwe_fwd_plan *pl, struct bwe_fwd_stats **stp)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct bwe_iface_val *in, *eg;
	struct bwe_fwd_stats *st;
	struct iphdr *ip4;
	struct ipv6hdr *ip6;
	__be16 *ports;
	__u32 ifindex = ctx->ingress_ifindex, what, nat_if, nat_cfg;
	__u64 len = data_end - data;
	long rc;

	in = bpf_map_lookup_elem(&bwe_ifaces, &ifindex);
	if (!in || in->fwd == BWE_FWD_OFF ||
	    (from == BWE_FWD_REPLY && in->fwd != BWE_FWD_FLOWTABLE))
		return 1;
	st = fwd_stats_at(in->fwd_stats);
	*stp = st;
	pl->stats = in->fwd_stats;
	if ((void *)(eth + 1) > data_end)
		return 1; /* the parser read it: cannot happen */
	pl->len = len;

	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		ip4 = (void *)(eth + 1);
		if ((void *)(ip4 + 1) > data_end)
			return 1;
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
		pl->fib.family = BWE_AF_INET;
		pl->fib.tos = ip4->tos;
		pl->fib.l4_protocol = ip4->protocol;
		pl->fib.tot_len = bpf_ntohs(ip4->tot_len);
		pl->fib.ipv4_src = ip4->saddr;
		pl->fib.ipv4_dst = ip4->daddr;
		bwe_addr_set_v4(&pl->src, ip4->saddr);
		bwe_addr_set_v4(&pl->dst, ip4->daddr);
		ports = (void *)(ip4 + 1);
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		ip6 = (void *)(eth + 1);
		if ((void *)(ip6 + 1) > data_end)
			return 1;
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
		pl->v6 = 1;
		pl->fib.family = BWE_AF_INET6;
		pl->fib.flowinfo = *(__be32 *)ip6 & bpf_htonl(BWE_FLOWINFO);
		pl->fib.l4_protocol = ip6->nexthdr;
		pl->fib.tot_len = bpf_ntohs(ip6->payload_len) + sizeof(*ip6);
		__builtin_memcpy(pl->fib.ipv6_src, &ip6->saddr, sizeof(pl->fib.ipv6_src));
		__builtin_memcpy(pl->fib.ipv6_dst, &ip6->daddr, sizeof(pl->fib.ipv6_dst));
		__builtin_memcpy(&pl->src, &ip6->saddr, sizeof(pl->src));
		__builtin_memcpy(&pl->dst, &ip6->daddr, sizeof(pl->dst));
		ports = (void *)(ip6 + 1);
	} else {
		what = BWE_FWD_S_ENCAP; /* VLAN tags or PPPoE before the IP header */
		goto stack;
	}
	/* ports, for multipath hashing, port-based routing rules and the flowtable */
	if ((pl->fib.l4_protocol == IPPROTO_TCP || pl->fib.l4_protocol == IPPROTO_UDP) &&
	    (void *)(ports + 2) <= data_end) {
		pl->fib.sport = ports[0];
		pl->fib.dport = ports[1];
		pl->sport = ports[0];
		pl->dport = ports[1];
	}
	pl->fib.ifindex = ifindex;
	if (in->fwd == BWE_FWD_FLOWTABLE) {
		what = flow_translate(ctx, pl, ports, data_end);
		if (what != BWE_FWD_MAX)
			goto stack;
	} else if (in->flags & nat_if) {
		what = BWE_FWD_S_NAT; /* a reply to reverse-translate (or a port forward) */
		goto stack;
	}

	rc = bpf_fib_lookup(ctx, &pl->fib, sizeof(pl->fib), 0);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS) {
		what = fib_fallback(rc);
		goto stack;
	}
	if (in->fwd == BWE_FWD_FIB && (cfg_flags & nat_cfg)) {
		ifindex = pl->fib.ifindex;
		eg = bpf_map_lookup_elem(&bwe_ifaces, &ifindex);
		if (eg && (eg->flags & nat_if)) {
			what = BWE_FWD_S_NAT; /* leaves through a translating interface */
			goto stack;
		}
	}
	/* Before any byte changes: an egress outside the devmap gets the frame as it came. */
	if (bpf_redirect_map(&bwe_fwd_dev, pl->fib.ifindex, XDP_PASS) != XDP_REDIRECT) {
		what = BWE_FWD_S_EGRESS;
		goto stack;
	}
	return 0;

stack:
	fwd_count(st, what, len);
	return 1;
}

/* One's complement sum s folded to 16 bits and inverted: a checksum field. */
static __always_inline __u16 csum_fold(__u64 s)
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)~s;
}

/*
 * RFC 1624 over n_from words replaced: the checksum field *check after
 * from[] became to[] (both n words, network order). mangle: a UDP checksum
 * that comes to 0 is sent as 0xffff.
 */
static __always_inline void csum_replace(__sum16 *check, __be32 *from, __be32 *to, __u32 bytes,
					 int mangle)
{
	__s64 s = bpf_csum_diff(from, bytes, to, bytes, (__u16) ~*check);

	if (s < 0)
		return; /* cannot happen: sizes are multiples of 4 and at most 512 */
	*check = csum_fold(s);
	if (mangle && !*check)
		*check = BWE_CSUM_MANGLED;
}

/*
 * The translation of a flowtable entry, in the frame: addresses, ports and
 * the checksums that cover them (the IPv4 header's, and TCP's or UDP's
 * pseudo-header and ports; a UDP/IPv4 datagram without checksum keeps 0).
 */
static __always_inline void fwd_nat(void *l3, void *l4, void *data_end,
				    const struct bwe_fwd_plan *pl)
{
	/* addresses, then the ports word: what the L4 checksum covers */
	__be32 from[9], to[9];
	__u32 n = pl->v6 ? 8 : 2;
	__sum16 *check = NULL;
	__be32 *pw = l4;
	int mangle = 0;

	if ((void *)(pw + 1) > data_end)
		return;
	if (pl->v6) {
		struct ipv6hdr *ip6 = l3;

		__builtin_memcpy(from, &ip6->saddr, 32);
		__builtin_memcpy(to, &pl->src, 16);
		__builtin_memcpy(to + 4, &pl->dst, 16);
		__builtin_memcpy(&ip6->saddr, &pl->src, 16);
		__builtin_memcpy(&ip6->daddr, &pl->dst, 16);
	} else {
		struct iphdr *ip4 = l3;

		from[0] = ip4->saddr;
		from[1] = ip4->daddr;
		to[0] = pl->src.w[3];
		to[1] = pl->dst.w[3];
		csum_replace(&ip4->check, from, to, 8, 0);
		ip4->saddr = to[0];
		ip4->daddr = to[1];
	}
	from[n] = *pw;
	((__be16 *)&to[n])[0] = pl->sport;
	((__be16 *)&to[n])[1] = pl->dport;
	*pw = to[n];
	if (pl->fib.l4_protocol == IPPROTO_TCP) {
		struct tcphdr *tcp = l4;

		if ((void *)(tcp + 1) <= data_end)
			check = &tcp->check;
	} else {
		struct udphdr *udp = l4;

		if ((void *)(udp + 1) <= data_end && (pl->v6 || udp->check)) {
			check = &udp->check;
			mangle = 1;
		}
	}
	if (check)
		csum_replace(check, from, to, (n + 1) * sizeof(from[0]), mangle);
}

/*
 * The second half: the frame leaves as plan_frame() planned it (*pl);
 * counted forwarded in st; XDP_REDIRECT into the devmap slot the plan chose.
 */
static __always_inline int commit_frame(struct xdp_md *ctx, const struct bwe_fwd_plan *pl,
					struct bwe_fwd_stats *st)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u32 csum;

	if ((void *)(eth + 1) > data_end)
		return XDP_PASS; /* the plan read it: cannot happen */
	if (pl->v6) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end)
			return XDP_PASS;
		if (pl->nat)
			fwd_nat(ip6, ip6 + 1, data_end, pl);
		ip6->hop_limit--;
	} else {
		struct iphdr *ip4 = (void *)(eth + 1);

		if ((void *)(ip4 + 1) > data_end)
			return XDP_PASS;
		if (pl->nat)
			fwd_nat(ip4, ip4 + 1, data_end, pl);
		/* RFC 1624: TTL is the high byte of its 16-bit word; add back the carry. */
		csum = (__u32)ip4->check + (__u32)bpf_htons(0x0100);
		ip4->check = (__sum16)(csum + (csum >= 0xffff));
		ip4->ttl--;
	}
	__builtin_memcpy(eth->h_dest, pl->fib.dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, pl->fib.smac, ETH_ALEN);
	fwd_count(st, BWE_FWD_FAST, pl->len);
	return XDP_REDIRECT;
}

/*
 * The fast path for a packet the verdict passed as it came: both halves in
 * one subprogram, the plan on its stack (its own frame: bwe_xdp's is nearly
 * full).
 */
static __noinline int bwe_forward(struct xdp_md *ctx, __u32 cfg_flags)
{
	struct bwe_fwd_plan pl = {};
	struct bwe_fwd_stats *st;

	if (plan_frame(ctx, cfg_flags, BWE_FWD_JUDGED, &pl, &st))
		return XDP_PASS;
	return commit_frame(ctx, &pl, st);
}

/*
 * The halves apart, for a reply judged between them (bwe_xdp's
 * flow_reply()): the plan in this CPU's bwe_fwd_plan, since the judgement
 * needs the stack. fwd_plan() returns as plan_frame(); fwd_commit(), after a
 * fwd_plan() that returned 0, as commit_frame().
 */
static __noinline int fwd_plan(struct xdp_md *ctx, __u32 cfg_flags, __u32 from)
{
	struct bwe_fwd_stats *st;
	struct bwe_fwd_plan *pl;
	__u32 zero = 0;

	pl = bpf_map_lookup_elem(&bwe_fwd_plan, &zero);
	if (!pl)
		return 1; /* cannot happen: an array's only entry */
	__builtin_memset(pl, 0, sizeof(*pl));
	return plan_frame(ctx, cfg_flags, from, pl, &st);
}

static __noinline int fwd_commit(struct xdp_md *ctx)
{
	__u32 zero = 0;
	struct bwe_fwd_plan *pl = bpf_map_lookup_elem(&bwe_fwd_plan, &zero);

	if (!pl)
		return XDP_PASS; /* cannot happen: an array's only entry */
	return commit_frame(ctx, pl, fwd_stats_at(pl->stats));
}

#endif /* BWE_FORWARD_BPF_H */
