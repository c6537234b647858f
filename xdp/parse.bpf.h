/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * parse.bpf.h - bounded packet parsing for the enforcer (BPF only).
 *
 * Contract: bwe_parse() reads at most Ethernet, two VLAN tags (802.1Q and
 * 802.1ad in any order), a PPPoE session header with its PPP protocol field
 * (RFC 2516), IPv4 with options or IPv6 with up to BWE_V6_EXT_MAX extension
 * headers, then the first four bytes of TCP/UDP. Every read is
 * bounds-checked against data_end. It returns a enum bwe_parse_rc and, for
 * IP, fills struct bwe_pkt with both addresses in the shared 16-byte form
 * (IPv4 mapped), so everything after parsing is one code path for both
 * families.
 *
 * PPPoE: a session frame (EtherType 0x8864, after the tags if any) whose PPP
 * protocol is IPv4 (0x0021) or IPv6 (0x0057) is parsed as that IP packet,
 * with BWE_PF_PPPOE set. The protocol field may be compressed to one byte
 * (RFC 1661 PFC: an odd first byte is a whole protocol number), so a peer
 * that negotiated PFC is read too. Discovery frames (0x8863) and every other
 * PPP protocol (LCP, IPCP, PAP, CHAP, CCP-compressed or multilink data, ...)
 * are non-IP. Malformed, like a truncated VLAN tag: a session header or PPP
 * protocol field cut short, and a session header that is not version 1,
 * type 1, code 0 (the only one RFC 2516 allows on a session frame: a peer
 * that accepted another could be handed an address we did not read). The
 * PPPoE length field is not checked: the receiver trims the frame to it or
 * drops it, and the addresses we judge by sit before any trimmed byte.
 */
#ifndef BWE_PARSE_BPF_H
#define BWE_PARSE_BPF_H

#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <linux/ppp_defs.h>
#include <bpf/bpf_endian.h>
#include "bwe_abi.h"
#include "bwe_rules.h" /* bwe_addr_set_v4() */

#define BWE_VLAN_MAX	2      /* outer (802.1ad or 802.1Q) + inner */
#define BWE_V6_EXT_MAX	8      /* extension headers walked before giving up */
#define IPV4_MF		0x2000 /* more fragments, host order */
#define IPV4_OFFSET	0x1fff /* fragment offset mask, host order */
#define IPV6_FRAG_OFF	0xfff8 /* fragment offset mask in ip6 frag_off, host order */
#define PPPOE_VER_TYPE	0x11   /* version 1, type 1: RFC 2516 section 4 */
#define PPPOE_CODE_SESS 0x00   /* session data */
#define PPP_PFC_BIT	0x01   /* odd first byte: a one-byte (compressed) protocol */

/* TCP flags: a SYN without ACK opens a connection (BWE_EV_CONTACT) */
#define BWE_TCP_FLAGS_OFF 13 /* bytes into the TCP header: the flags byte */
#define BWE_TCP_SYN	  0x02
#define BWE_TCP_ACK	  0x10

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
	BWE_PF_PPPOE = 1 << 4,	   /* carried in a PPPoE session frame */
};

struct bwe_pkt {
	struct bwe_addr src; /* network order */
	struct bwe_addr dst; /* network order */
	__be16 sport;	     /* valid with BWE_PF_PORTS */
	__be16 dport;
	__u8 proto;	/* final upper-layer protocol, IPPROTO_* */
	__u8 flags;	/* enum bwe_pkt_flag */
	__u8 tcp_flags; /* TCP: the flags byte (BWE_TCP_*), 0 when not read */
	__u8 pad;
};

struct vlan_tag {
	__be16 tci;
	__be16 proto; /* encapsulated EtherType */
};

/* PPPoE header (RFC 2516 section 4); the PPP protocol field follows it. */
struct pppoe_sess {
	__u8 ver_type; /* version << 4 | type, PPPOE_VER_TYPE */
	__u8 code;     /* PPPOE_CODE_SESS on a session frame */
	__be16 sid;    /* session id */
	__be16 length; /* bytes after this header, PPP protocol field included */
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
	/* the flags (a new connection: SYN without ACK), when the frame holds them */
	if (p->proto == IPPROTO_TCP && l4 + BWE_TCP_FLAGS_OFF + 1 <= data_end)
		p->tcp_flags = *((__u8 *)l4 + BWE_TCP_FLAGS_OFF);
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

	bwe_addr_set_v4(&p->src, ip->saddr);
	bwe_addr_set_v4(&p->dst, ip->daddr);
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

/*
 * PPPoE session header and PPP protocol at *curp: on success *curp points at
 * the IP header and *proto holds its EtherType (ETH_P_IP/ETH_P_IPV6, network
 * order), or 0 for a PPP protocol that is not IP. Returns BWE_P_IP (go on),
 * BWE_P_MALFORMED.
 */
static __always_inline int parse_pppoe(void **curp, void *data_end, __be16 *proto)
{
	struct pppoe_sess *ph = *curp;
	__u8 *pp = (__u8 *)(ph + 1);
	__u16 ppp;

	if ((void *)(ph + 1) > data_end)
		return BWE_P_MALFORMED;
	if (ph->ver_type != PPPOE_VER_TYPE || ph->code != PPPOE_CODE_SESS)
		return BWE_P_MALFORMED;
	if ((void *)(pp + 1) > data_end)
		return BWE_P_MALFORMED;
	if (pp[0] & PPP_PFC_BIT) {
		ppp = pp[0];
		*curp = pp + 1;
	} else {
		if ((void *)(pp + 2) > data_end)
			return BWE_P_MALFORMED;
		ppp = (__u16)pp[0] << 8 | pp[1];
		*curp = pp + 2;
	}
	if (ppp == PPP_IP)
		*proto = bpf_htons(ETH_P_IP);
	else if (ppp == PPP_IPV6)
		*proto = bpf_htons(ETH_P_IPV6);
	else
		*proto = 0;
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

	if (proto == bpf_htons(ETH_P_PPP_SES)) {
		if (parse_pppoe(&cur, data_end, &proto) != BWE_P_IP)
			return BWE_P_MALFORMED;
		if (!proto)
			return BWE_P_NON_IP;
		p->flags |= BWE_PF_PPPOE;
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
