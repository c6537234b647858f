/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * parse.bpf.h - bounded packet parsing for the enforcer (BPF only).
 *
 * Contract: bwe_parse() reads at most Ethernet, two VLAN tags (802.1Q and
 * 802.1ad in any order), IPv4 with options or IPv6 with up to
 * BWE_V6_EXT_MAX extension headers, then the first four bytes of TCP/UDP.
 * Every read is bounds-checked against data_end. It returns a
 * enum bwe_parse_rc and, for IP, fills struct bwe_pkt with both addresses in
 * the shared 16-byte form (IPv4 mapped), so everything after parsing is one
 * code path for both families.
 */
#ifndef BWE_PARSE_BPF_H
#define BWE_PARSE_BPF_H

#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <bpf/bpf_endian.h>
#include "bwe_abi.h"

#define BWE_VLAN_MAX	2	   /* outer (802.1ad or 802.1Q) + inner */
#define BWE_V6_EXT_MAX	8	   /* extension headers walked before giving up */
#define IPV4_MF		0x2000	   /* more fragments, host order */
#define IPV4_OFFSET	0x1fff	   /* fragment offset mask, host order */
#define IPV6_FRAG_OFF	0xfff8	   /* fragment offset mask in ip6 frag_off, host order */
#define V4MAPPED_PREFIX 0x0000ffff /* third word of ::ffff:0:0/96, host order */

enum bwe_parse_rc {
	BWE_P_IP = 0,	 /* struct bwe_pkt filled */
	BWE_P_NON_IP,	 /* not IPv4/IPv6: pass untouched */
	BWE_P_MALFORMED, /* L2 or L3 header truncated or invalid */
};

enum bwe_pkt_flag {
	BWE_PF_PORTS = 1 << 0,	   /* sport/dport valid */
	BWE_PF_FRAGMENT = 1 << 1,  /* a later fragment: addresses only */
	BWE_PF_L4_TRUNC = 1 << 2,  /* TCP/UDP header cut short */
	BWE_PF_EXT_LIMIT = 1 << 3, /* IPv6 chain longer than BWE_V6_EXT_MAX */
};

struct bwe_pkt {
	struct bwe_addr src; /* network order */
	struct bwe_addr dst; /* network order */
	__be16 sport;	     /* valid with BWE_PF_PORTS */
	__be16 dport;
	__u8 proto; /* final upper-layer protocol, IPPROTO_* */
	__u8 flags; /* enum bwe_pkt_flag */
	__u16 pad;
};

struct vlan_tag {
	__be16 tci;
	__be16 proto; /* encapsulated EtherType */
};

struct ip6_ext {
	__u8 nexthdr;
	__u8 hdrlen; /* 8-octet units not counting the first (AH: 4-octet units - 2) */
};

struct ip6_frag {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off; /* offset << 3 | M flag */
	__be32 id;
};

static __always_inline int proto_is_vlan(__be16 proto)
{
	return proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD);
}

static __always_inline void parse_ports(void *l4, void *data_end, struct bwe_pkt *p)
{
	__be16 *ports = l4;

	if (p->proto != IPPROTO_TCP && p->proto != IPPROTO_UDP)
		return;
	if ((void *)(ports + 2) > data_end) {
		p->flags |= BWE_PF_L4_TRUNC;
		return;
	}
	p->sport = ports[0];
	p->dport = ports[1];
	p->flags |= BWE_PF_PORTS;
}

static __always_inline int parse_ipv4(void *l3, void *data_end, struct bwe_pkt *p)
{
	struct iphdr *ip = l3;
	__u32 hlen;

	if ((void *)(ip + 1) > data_end)
		return BWE_P_MALFORMED;
	hlen = ip->ihl * 4;
	if (ip->version != 4 || hlen < sizeof(*ip) || l3 + hlen > data_end)
		return BWE_P_MALFORMED;

	p->src.w[0] = p->src.w[1] = 0;
	p->dst.w[0] = p->dst.w[1] = 0;
	p->src.w[2] = p->dst.w[2] = bpf_htonl(V4MAPPED_PREFIX);
	p->src.w[3] = ip->saddr;
	p->dst.w[3] = ip->daddr;
	p->proto = ip->protocol;

	if (bpf_ntohs(ip->frag_off) & IPV4_OFFSET) {
		p->flags |= BWE_PF_FRAGMENT;
		return BWE_P_IP;
	}
	parse_ports(l3 + hlen, data_end, p);
	return BWE_P_IP;
}

static __always_inline int parse_ipv6(void *l3, void *data_end, struct bwe_pkt *p)
{
	struct ipv6hdr *ip6 = l3;
	void *cur = ip6 + 1;
	__u8 nh;
	int i;

	if ((void *)(ip6 + 1) > data_end)
		return BWE_P_MALFORMED;
	if (ip6->version != 6)
		return BWE_P_MALFORMED;
	__builtin_memcpy(p->src.a, &ip6->saddr, sizeof(p->src.a));
	__builtin_memcpy(p->dst.a, &ip6->daddr, sizeof(p->dst.a));
	nh = ip6->nexthdr;

#pragma unroll
	for (i = 0; i < BWE_V6_EXT_MAX; i++) {
		struct ip6_ext *ext = cur;
		struct ip6_frag *frag = cur;

		switch (nh) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
			if ((void *)(ext + 1) > data_end)
				goto trunc;
			nh = ext->nexthdr;
			cur += (ext->hdrlen + 1) * 8;
			break;
		case IPPROTO_AH:
			if ((void *)(ext + 1) > data_end)
				goto trunc;
			nh = ext->nexthdr;
			cur += (ext->hdrlen + 2) * 4;
			break;
		case IPPROTO_FRAGMENT:
			if ((void *)(frag + 1) > data_end)
				goto trunc;
			nh = frag->nexthdr;
			if (bpf_ntohs(frag->frag_off) & IPV6_FRAG_OFF) {
				p->proto = nh;
				p->flags |= BWE_PF_FRAGMENT;
				return BWE_P_IP;
			}
			cur = frag + 1;
			break;
		default:
			p->proto = nh;
			parse_ports(cur, data_end, p);
			return BWE_P_IP;
		}
	}
	/* Still inside the chain: judge by addresses alone. */
	p->proto = nh;
	p->flags |= BWE_PF_EXT_LIMIT;
	return BWE_P_IP;
trunc:
	p->proto = nh;
	p->flags |= BWE_PF_L4_TRUNC;
	return BWE_P_IP;
}

static __always_inline int bwe_parse(void *data, void *data_end, struct bwe_pkt *p)
{
	struct ethhdr *eth = data;
	void *cur = eth + 1;
	__be16 proto;
	int i;

	if ((void *)(eth + 1) > data_end)
		return BWE_P_MALFORMED;
	proto = eth->h_proto;

#pragma unroll
	for (i = 0; i < BWE_VLAN_MAX; i++) {
		struct vlan_tag *tag = cur;

		if (!proto_is_vlan(proto))
			break;
		if ((void *)(tag + 1) > data_end)
			return BWE_P_MALFORMED;
		proto = tag->proto;
		cur = tag + 1;
	}

	if (proto == bpf_htons(ETH_P_IP))
		return parse_ipv4(cur, data_end, p);
	if (proto == bpf_htons(ETH_P_IPV6))
		return parse_ipv6(cur, data_end, p);
	/* A third tag could hide any address: not readable, so malformed. */
	if (proto_is_vlan(proto))
		return BWE_P_MALFORMED;
	return BWE_P_NON_IP;
}

#endif /* BWE_PARSE_BPF_H */
