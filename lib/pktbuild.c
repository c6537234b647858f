// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * pktbuild.c - Ethernet frame builder for tests, benchmarks and the frame
 * injector; the contract is in pktbuild.h.
 *
 * One layout pass (pb_layout) validates the spec and computes every header
 * length; pb_build() and pb_boundaries() both read that layout, so the
 * offsets a truncation test uses are the ones the builder wrote. Headers are
 * composed in UAPI structs on the stack and copied into the frame, so no
 * unaligned struct access happens on the caller's buffer.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip6.h> /* struct ip6_frag: no UAPI struct for it */
#include <stdbool.h>
#include <string.h>

#include <linux/if_ether.h>
#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/ppp_defs.h>
#include <linux/tcp.h>
#include <linux/udp.h>

#include "bwe_util.h"
#include "pktbuild.h"

/* The enum values are the wire values; keep them honest. */
_Static_assert((int)PB_EXT_HOP == (int)IPPROTO_HOPOPTS, "PB_EXT_HOP");
_Static_assert((int)PB_EXT_ROUTING == (int)IPPROTO_ROUTING, "PB_EXT_ROUTING");
_Static_assert((int)PB_EXT_FRAG == (int)IPPROTO_FRAGMENT, "PB_EXT_FRAG");
_Static_assert((int)PB_EXT_DSTOPT == (int)IPPROTO_DSTOPTS, "PB_EXT_DSTOPT");
_Static_assert((int)PB_EXT_AH == (int)IPPROTO_AH, "PB_EXT_AH");
_Static_assert(PB_VLAN_8021Q == ETH_P_8021Q, "PB_VLAN_8021Q");
_Static_assert(PB_VLAN_8021AD == ETH_P_8021AD, "PB_VLAN_8021AD");
_Static_assert(PB_MAC_LEN == ETH_ALEN, "PB_MAC_LEN");

/* 802.1Q/802.1ad tag after the TPID; the kernel's struct vlan_hdr is not UAPI. */
struct pb_vlan_hdr {
	__be16 h_vlan_TCI;		  /* PCP(3) DEI(1) VID(12) */
	__be16 h_vlan_encapsulated_proto; /* next TPID or EtherType */
};
_Static_assert(sizeof(struct pb_vlan_hdr) == 4, "pb_vlan_hdr size");

#define PB_VLAN_VID_MASK 0x0fff /* VID bits of the TCI */

/* PPPoE session header (RFC 2516 section 4); if_pppox.h's pulls in socket types. */
struct pb_pppoe_hdr {
	__u8 ver_type; /* version << 4 | type */
	__u8 code;
	__be16 sid;
	__be16 length; /* bytes after this header */
};
_Static_assert(sizeof(struct pb_pppoe_hdr) == PB_PPPOE_HLEN, "pb_pppoe_hdr size");

#define PB_PPPOE_VER_TYPE 0x11 /* version 1, type 1 */
#define PB_PPPOE_CODE	  0x00 /* session data */
#define PB_PPP_PROTO_LEN  2    /* bytes of an uncompressed PPP protocol field */
#define PB_PPP_PFC_MAX	  0xff /* a compressed protocol is one byte ... */
#define PB_PPP_PFC_BIT	  0x01 /* ... and odd (RFC 1661 section 6.5) */

#define PB_IPV4_ADDR_LEN 4	/* bytes */
#define PB_IPV6_ADDR_LEN 16	/* bytes */
#define PB_IPV4_ID	 0x1234 /* identification, host order */
#define PB_IPV4_WORD	 4	/* ihl unit, bytes */
#define PB_IPV4_MF	 0x2000 /* frag_off more-fragments bit, host order */
#define PB_IPV4_IHL_MAX	 0xf	/* ihl is a 4-bit field */
_Static_assert(PB_IPV4_OPT_MAX + sizeof(struct iphdr) == PB_IPV4_IHL_MAX * PB_IPV4_WORD,
	       "IPv4 option room");
#define PB_IPV6_VERSION	   6
#define PB_IPV6_HOP_LIMIT  64
#define PB_IPV6_FRAG_ID	   0x12345678 /* fragment identification, host order */
#define PB_IPV6_FRAG_SHIFT 3	      /* offset sits above 3 flag/reserved bits */

#define PB_L16_MAX	 0xffff /* largest IPv4 tot_len / IPv6 payload_len */
#define PB_CSUM_ZERO_UDP 0xffff /* a computed UDP sum of 0, as sent */

/* IPv6 extension header sizing (RFC 8200, RFC 4302). */
#define PB_EXT_UNIT	  8			     /* hdrlen unit and alignment, bytes */
#define PB_EXT_MIN	  8			     /* HOP/ROUTING/DSTOPT/FRAG, bytes */
#define PB_EXT_MAX	  ((0xff + 1) * PB_EXT_UNIT) /* hdrlen is a __u8 */
#define PB_AH_UNIT	  4			     /* AH hdrlen unit, bytes */
#define PB_AH_HDRLEN_BIAS 2			     /* AH hdrlen = len / 4 - 2 */
#define PB_AH_MIN	  16			     /* 12-byte AH without ICV, rounded to 8 */
#define PB_AH_MAX	  1024			     /* (0xff + 2) * 4 = 1028, rounded down to 8 */
#define PB_AH_SPI	  0x100			     /* host order; SPIs 1..255 are reserved */
#define PB_AH_SEQ	  1
/*
 * RFC 4727 experimental routing type: with segments left 0 every receiver
 * ignores an unknown type, and it asks for no address list (type 0 is
 * deprecated, RFC 5095, and dissectors expect addresses in it).
 */
#define PB_RT_EXPERIMENT  253

/* Options in HOP/DSTOPT: Pad1, PadN (RFC 8200 4.2) and a skippable filler. */
#define PB_OPT_PAD1	  0
#define PB_OPT_PADN	  1
#define PB_OPT_TLV_HDR	  2    /* type + length bytes of a TLV option */
#define PB_OPT_PAD_MAX	  7    /* receivers refuse longer runs of padding */
#define PB_OPT_DATA_MAX	  0xff /* option data length is a __u8 */
/*
 * RFC 4727 experimental option type: action bits 00 ("skip over this
 * option"), so receivers ignore it; fills stretches too long for padding.
 */
#define PB_OPT_EXPERIMENT 0x1e

/* TCP: a plain ACK segment, header without options. */
#define PB_TCP_SEQ	 1000	/* host order */
#define PB_TCP_ACK_SEQ	 2000	/* host order */
#define PB_TCP_WINDOW	 0xffff /* bytes, host order */
#define PB_TCP_DOFF_UNIT 4	/* doff unit, bytes */

#define PB_SMAC_DEFAULT \
	{ \
		0x02, 0x00, 0x00, 0x00, 0x00, 0x01 \
	}
#define PB_DMAC_DEFAULT \
	{ \
		0x02, 0x00, 0x00, 0x00, 0x00, 0x02 \
	}

/* Everything pb_build() needs, validated; sizes in bytes. */
struct pb_layout {
	int family;		      /* AF_INET, AF_INET6, AF_UNSPEC (non-IP) */
	size_t alen;		      /* address length */
	__u8 saddr[PB_IPV6_ADDR_LEN]; /* network order */
	__u8 daddr[PB_IPV6_ADDR_LEN]; /* network order */
	__u8 proto;		      /* resolved IPPROTO_* */
	bool later_frag;	      /* frag_offset != 0: no L4 header */
	__u16 tpid[PB_VLAN_MAX];      /* host order, resolved defaults */
	__u16 l2_proto;		      /* EtherType after the tags, host order */
	__u16 ppp_proto;	      /* PPPoE: resolved PPP protocol, host order */
	size_t ppp_len;		      /* PPPoE header + PPP protocol field, 0 without */
	size_t l2_len;		      /* Ethernet + tags + ppp_len */
	size_t l3_len;		      /* IPv4 with options / IPv6 fixed header */
	int next;		      /* extension headers, listed + added frag */
	__u8 ext_type[PB_V6EXT_MAX + 1];
	size_t ext_len[PB_V6EXT_MAX + 1];
	size_t ext_total;
	size_t l4_len; /* 0 when there is no L4 header */
	size_t total;  /* whole frame */
};

static bool mac_is_zero(const __u8 *mac)
{
	static const __u8 zero[ETH_ALEN];

	return memcmp(mac, zero, ETH_ALEN) == 0;
}

/* Parse src/dst text; both NULL is a non-IP frame (family AF_UNSPEC). */
static int layout_addrs(const struct pb_spec *s, struct pb_layout *lo)
{
	static const int families[] = { AF_INET, AF_INET6 };
	size_t i;

	lo->family = AF_UNSPEC;
	if (!s->src && !s->dst)
		return 0;
	if (!s->src || !s->dst)
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(families); i++) {
		int f = families[i];

		if (inet_pton(f, s->src, lo->saddr) != 1)
			continue;
		if (inet_pton(f, s->dst, lo->daddr) != 1)
			return -EINVAL; /* mixed families or bad text */
		lo->family = f;
		lo->alen = f == AF_INET ? PB_IPV4_ADDR_LEN : PB_IPV6_ADDR_LEN;
		return 0;
	}
	return -EINVAL;
}

/* PPPoE session header and PPP protocol field, after the tags. */
static int layout_ppp(const struct pb_spec *s, struct pb_layout *lo)
{
	if (s->ethertype)
		return -EINVAL;
	lo->ppp_proto = s->ppp_proto;
	if (!lo->ppp_proto) {
		if (lo->family == AF_UNSPEC)
			return -EINVAL;
		lo->ppp_proto = lo->family == AF_INET ? PPP_IP : PPP_IPV6;
	}
	if (s->ppp_pfc && (lo->ppp_proto > PB_PPP_PFC_MAX || !(lo->ppp_proto & PB_PPP_PFC_BIT)))
		return -EINVAL;
	lo->ppp_len = PB_PPPOE_HLEN + (s->ppp_pfc ? 1 : PB_PPP_PROTO_LEN);
	lo->l2_proto = ETH_P_PPP_SES;
	lo->l2_len += lo->ppp_len;
	return 0;
}

static int layout_l2(const struct pb_spec *s, struct pb_layout *lo)
{
	int i;

	if (s->nvlan < 0 || s->nvlan > PB_VLAN_MAX)
		return -EINVAL;
	for (i = 0; i < s->nvlan; i++) {
		if (s->vlan_id[i] > PB_VLAN_VID_MASK)
			return -EINVAL;
		lo->tpid[i] = s->vlan_tpid[i];
		if (!lo->tpid[i])
			lo->tpid[i] = (s->nvlan == PB_VLAN_MAX && i == 0) ? PB_VLAN_8021AD
									  : PB_VLAN_8021Q;
	}
	lo->l2_len = ETH_HLEN + s->nvlan * sizeof(struct pb_vlan_hdr);

	if (s->pppoe)
		return layout_ppp(s, lo);
	if (s->pppoe_sid || s->ppp_proto || s->ppp_pfc)
		return -EINVAL;
	if (lo->family == AF_UNSPEC) {
		if (!s->ethertype)
			return -EINVAL;
		lo->l2_proto = s->ethertype;
		return 0;
	}
	lo->l2_proto = lo->family == AF_INET ? ETH_P_IP : ETH_P_IPV6;
	if (s->ethertype && s->ethertype != lo->l2_proto)
		return -EINVAL;
	return 0;
}

/* Resolved size of one listed extension header, or -EINVAL. */
static int ext_size(__u8 type, int len)
{
	int min = PB_EXT_MIN, max = PB_EXT_MAX;

	switch (type) {
	case PB_EXT_FRAG:
		return sizeof(struct ip6_frag);
	case PB_EXT_HOP:
	case PB_EXT_ROUTING:
	case PB_EXT_DSTOPT:
		break;
	case PB_EXT_AH:
		min = PB_AH_MIN;
		max = PB_AH_MAX;
		break;
	default:
		return -EINVAL;
	}
	if (len == 0)
		return min;
	if (len < min || len > max || len % PB_EXT_UNIT)
		return -EINVAL;
	return len;
}

static int layout_l3(const struct pb_spec *s, struct pb_layout *lo)
{
	bool frag_listed = false;
	int i;

	if (s->frag_offset > PB_FRAG_OFF_MAX)
		return -EINVAL;
	lo->later_frag = s->frag_offset != 0;

	if (lo->family == AF_INET) {
		if (s->nv6ext || s->ipv4_optlen < 0 || s->ipv4_optlen > PB_IPV4_OPT_MAX ||
		    s->ipv4_optlen % PB_IPV4_WORD)
			return -EINVAL;
		lo->l3_len = sizeof(struct iphdr) + s->ipv4_optlen;
		return 0;
	}

	if (s->ipv4_optlen || s->nv6ext < 0 || s->nv6ext > PB_V6EXT_MAX)
		return -EINVAL;
	lo->l3_len = sizeof(struct ipv6hdr);
	for (i = 0; i < s->nv6ext; i++) {
		int sz = ext_size(s->v6ext[i], s->v6ext_len[i]);

		if (sz < 0)
			return sz;
		frag_listed |= s->v6ext[i] == PB_EXT_FRAG;
		lo->ext_type[lo->next] = s->v6ext[i];
		lo->ext_len[lo->next++] = sz;
		lo->ext_total += sz;
	}
	if (!frag_listed && (s->frag_offset || s->more_fragments)) {
		lo->ext_type[lo->next] = PB_EXT_FRAG;
		lo->ext_len[lo->next++] = sizeof(struct ip6_frag);
		lo->ext_total += sizeof(struct ip6_frag);
	}
	return 0;
}

static int layout_l4(const struct pb_spec *s, struct pb_layout *lo)
{
	__u8 icmp = lo->family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;
	__u8 other_icmp = lo->family == AF_INET ? IPPROTO_ICMPV6 : IPPROTO_ICMP;

	lo->proto = s->proto ? s->proto : icmp;
	if (lo->proto == other_icmp)
		return -EINVAL;
	if (lo->later_frag)
		return 0;
	switch (lo->proto) {
	case IPPROTO_TCP:
		lo->l4_len = sizeof(struct tcphdr);
		break;
	case IPPROTO_UDP:
		lo->l4_len = sizeof(struct udphdr);
		break;
	case IPPROTO_ICMP:
		lo->l4_len = sizeof(struct icmphdr);
		break;
	case IPPROTO_ICMPV6:
		lo->l4_len = sizeof(struct icmp6hdr);
		break;
	default:
		lo->l4_len = 0; /* opaque protocol: payload only */
		break;
	}
	return 0;
}

/* The PPPoE length field (what follows its header) fits 16 bits. */
static bool pppoe_len_ok(const struct pb_layout *lo)
{
	return !lo->ppp_len || lo->total - (lo->l2_len - lo->ppp_len + PB_PPPOE_HLEN) <= PB_L16_MAX;
}

static int pb_layout(const struct pb_spec *s, struct pb_layout *lo)
{
	size_t ip_len_field;
	int err;

	if (!s)
		return -EINVAL;
	memset(lo, 0, sizeof(*lo));
	err = layout_addrs(s, lo);
	if (!err)
		err = layout_l2(s, lo);
	if (err)
		return err;

	if (lo->family == AF_UNSPEC) {
		if (s->proto || s->ipv4_optlen || s->nv6ext || s->frag_offset || s->more_fragments)
			return -EINVAL;
		lo->total = lo->l2_len + s->payload;
		return pppoe_len_ok(lo) ? 0 : -EINVAL;
	}

	err = layout_l3(s, lo);
	if (!err)
		err = layout_l4(s, lo);
	if (err)
		return err;

	/* IPv4 tot_len counts its own header, IPv6 payload_len does not. */
	ip_len_field = lo->ext_total + lo->l4_len + s->payload;
	if (lo->family == AF_INET)
		ip_len_field += lo->l3_len;
	if (ip_len_field > PB_L16_MAX)
		return -EINVAL;
	lo->total = lo->l2_len + lo->l3_len + lo->ext_total + lo->l4_len + s->payload;
	return pppoe_len_ok(lo) ? 0 : -EINVAL;
}

/* One's complement sum of big-endian 16-bit words, odd tail padded. */
static __u64 csum_add(__u64 sum, const __u8 *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (__u32)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (__u32)p[len - 1] << 8;
	return sum;
}

/* Folded, complemented sum in host order. */
static __u16 csum_fold(__u64 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/*
 * Pseudo-header sum, one formula for both families: the IPv4 {zero, proto,
 * 16-bit length} and IPv6 {32-bit length, 3 zero bytes, next header} forms
 * add up to the same words when the length fits 16 bits.
 */
static __u64 csum_pseudo(const struct pb_layout *lo, size_t l4_seg_len)
{
	__u64 sum = 0;

	sum = csum_add(sum, lo->saddr, lo->alen);
	sum = csum_add(sum, lo->daddr, lo->alen);
	return sum + lo->proto + l4_seg_len;
}

static void put_l2(const struct pb_spec *s, const struct pb_layout *lo, __u8 *buf)
{
	static const __u8 smac_def[ETH_ALEN] = PB_SMAC_DEFAULT;
	static const __u8 dmac_def[ETH_ALEN] = PB_DMAC_DEFAULT;
	struct ethhdr eth;
	size_t off = ETH_HLEN;
	int i;

	memcpy(eth.h_dest, mac_is_zero(s->dmac) ? dmac_def : s->dmac, ETH_ALEN);
	memcpy(eth.h_source, mac_is_zero(s->smac) ? smac_def : s->smac, ETH_ALEN);
	eth.h_proto = htons(s->nvlan ? lo->tpid[0] : lo->l2_proto);
	memcpy(buf, &eth, sizeof(eth));

	for (i = 0; i < s->nvlan; i++) {
		struct pb_vlan_hdr tag = {
			.h_vlan_TCI = htons(s->vlan_id[i] & PB_VLAN_VID_MASK),
			.h_vlan_encapsulated_proto =
				htons(i + 1 < s->nvlan ? lo->tpid[i + 1] : lo->l2_proto),
		};

		memcpy(buf + off, &tag, sizeof(tag));
		off += sizeof(tag);
	}
	if (lo->ppp_len) {
		struct pb_pppoe_hdr ph = {
			.ver_type = PB_PPPOE_VER_TYPE,
			.code = PB_PPPOE_CODE,
			.sid = htons(s->pppoe_sid),
			.length = htons(lo->total - off - sizeof(ph)),
		};
		__u8 *pp = buf + off + sizeof(ph);

		memcpy(buf + off, &ph, sizeof(ph));
		if (s->ppp_pfc) {
			pp[0] = (__u8)lo->ppp_proto;
		} else {
			pp[0] = (__u8)(lo->ppp_proto >> 8);
			pp[1] = (__u8)lo->ppp_proto;
		}
	}
}

static void put_ipv4(const struct pb_spec *s, const struct pb_layout *lo, __u8 *buf)
{
	struct iphdr ip = {
		.version = IPVERSION,
		.ihl = lo->l3_len / PB_IPV4_WORD,
		.tot_len = htons(lo->l3_len + lo->l4_len + s->payload),
		.id = htons(PB_IPV4_ID),
		.frag_off = htons(s->frag_offset | (s->more_fragments ? PB_IPV4_MF : 0)),
		.ttl = IPDEFTTL,
		.protocol = lo->proto,
	};
	__u8 *opt = buf + sizeof(ip);

	memcpy(&ip.saddr, lo->saddr, PB_IPV4_ADDR_LEN);
	memcpy(&ip.daddr, lo->daddr, PB_IPV4_ADDR_LEN);
	memcpy(buf, &ip, sizeof(ip));
	if (s->ipv4_optlen) {
		memset(opt, IPOPT_NOP, s->ipv4_optlen - 1);
		opt[s->ipv4_optlen - 1] = IPOPT_EOL;
	}
	ip.check = htons(csum_fold(csum_add(0, buf, lo->l3_len)));
	memcpy(buf + offsetof(struct iphdr, check), &ip.check, sizeof(ip.check));
}

/* Fill an options header body (after nexthdr/hdrlen) so receivers skip it. */
static void fill_tlv_options(__u8 *p, size_t rem)
{
	while (rem) {
		size_t data;

		if (rem == 1) {
			*p = PB_OPT_PAD1;
			return;
		}
		data = rem - PB_OPT_TLV_HDR;
		if (rem <= PB_OPT_PAD_MAX) {
			p[0] = PB_OPT_PADN;
		} else {
			p[0] = PB_OPT_EXPERIMENT;
			if (data > PB_OPT_DATA_MAX)
				data = PB_OPT_DATA_MAX;
		}
		p[1] = data; /* data bytes stay zero */
		p += PB_OPT_TLV_HDR + data;
		rem -= PB_OPT_TLV_HDR + data;
	}
}

static void put_ext(const struct pb_spec *s, __u8 type, size_t len, __u8 nexthdr, __u8 *buf)
{
	switch (type) {
	case PB_EXT_FRAG: {
		struct ip6_frag fh = {
			.ip6f_nxt = nexthdr,
			.ip6f_offlg = htons(s->frag_offset << PB_IPV6_FRAG_SHIFT),
			.ip6f_ident = htonl(PB_IPV6_FRAG_ID),
		};

		if (s->more_fragments)
			fh.ip6f_offlg |= IP6F_MORE_FRAG; /* network order mask */
		memcpy(buf, &fh, sizeof(fh));
		break;
	}
	case PB_EXT_AH: {
		struct ip_auth_hdr ah = {
			.nexthdr = nexthdr,
			.hdrlen = len / PB_AH_UNIT - PB_AH_HDRLEN_BIAS,
			.spi = htonl(PB_AH_SPI),
			.seq_no = htonl(PB_AH_SEQ),
		};

		memcpy(buf, &ah, sizeof(ah)); /* ICV stays zero */
		break;
	}
	case PB_EXT_ROUTING: {
		struct ipv6_rt_hdr rt = {
			.nexthdr = nexthdr,
			.hdrlen = len / PB_EXT_UNIT - 1,
			.type = PB_RT_EXPERIMENT,
			.segments_left = 0, /* so the type is ignored */
		};

		memcpy(buf, &rt, sizeof(rt));
		break;
	}
	default: { /* HOP, DSTOPT: layout_l3() admitted nothing else */
		struct ipv6_opt_hdr oh = {
			.nexthdr = nexthdr,
			.hdrlen = len / PB_EXT_UNIT - 1,
		};

		memcpy(buf, &oh, sizeof(oh));
		fill_tlv_options(buf + sizeof(oh), len - sizeof(oh));
		break;
	}
	}
}

static void put_ipv6(const struct pb_spec *s, const struct pb_layout *lo, __u8 *buf)
{
	struct ipv6hdr ip6 = {
		.version = PB_IPV6_VERSION,
		.payload_len = htons(lo->ext_total + lo->l4_len + s->payload),
		.nexthdr = lo->next ? lo->ext_type[0] : lo->proto,
		.hop_limit = PB_IPV6_HOP_LIMIT,
	};
	size_t off = sizeof(ip6);
	int i;

	memcpy(&ip6.saddr, lo->saddr, PB_IPV6_ADDR_LEN);
	memcpy(&ip6.daddr, lo->daddr, PB_IPV6_ADDR_LEN);
	memcpy(buf, &ip6, sizeof(ip6));
	for (i = 0; i < lo->next; i++) {
		__u8 nh = i + 1 < lo->next ? lo->ext_type[i + 1] : lo->proto;

		put_ext(s, lo->ext_type[i], lo->ext_len[i], nh, buf + off);
		off += lo->ext_len[i];
	}
}

/* L4 header at buf, payload already in place after it. */
static void put_l4(const struct pb_spec *s, const struct pb_layout *lo, __u8 *buf)
{
	size_t seg = lo->l4_len + s->payload;
	size_t check_off;
	__u64 sum = 0;
	__be16 check;

	switch (lo->proto) {
	case IPPROTO_TCP: {
		struct tcphdr th = {
			.source = htons(s->sport),
			.dest = htons(s->dport),
			.seq = htonl(PB_TCP_SEQ),
			.ack_seq = htonl(PB_TCP_ACK_SEQ),
			.doff = sizeof(th) / PB_TCP_DOFF_UNIT,
			.ack = 1,
			.window = htons(PB_TCP_WINDOW),
		};

		if (s->tcp_syn) { /* opening a connection: SYN alone */
			th.syn = 1;
			th.ack = 0;
			th.ack_seq = 0;
		}
		memcpy(buf, &th, sizeof(th));
		check_off = offsetof(struct tcphdr, check);
		sum = csum_pseudo(lo, seg);
		break;
	}
	case IPPROTO_UDP: {
		struct udphdr uh = {
			.source = htons(s->sport),
			.dest = htons(s->dport),
			.len = htons(seg),
		};

		memcpy(buf, &uh, sizeof(uh));
		check_off = offsetof(struct udphdr, check);
		sum = csum_pseudo(lo, seg);
		break;
	}
	case IPPROTO_ICMP: {
		struct icmphdr ih = {
			.type = ICMP_ECHO,
			.un.echo.id = htons(s->sport),
			.un.echo.sequence = htons(s->dport),
		};

		memcpy(buf, &ih, sizeof(ih));
		check_off = offsetof(struct icmphdr, checksum);
		break; /* ICMPv4: no pseudo-header */
	}
	case IPPROTO_ICMPV6: {
		struct icmp6hdr ih6 = {
			.icmp6_type = ICMPV6_ECHO_REQUEST,
		};

		ih6.icmp6_identifier = htons(s->sport);
		ih6.icmp6_sequence = htons(s->dport);
		memcpy(buf, &ih6, sizeof(ih6));
		check_off = offsetof(struct icmp6hdr, icmp6_cksum);
		sum = csum_pseudo(lo, seg);
		break;
	}
	default:
		return; /* opaque protocol, no header */
	}

	check = htons(csum_fold(csum_add(sum, buf, seg)));
	/* UDP: 0 means "no checksum", its complement 0xffff is the same sum */
	if (lo->proto == IPPROTO_UDP && !check)
		check = htons(PB_CSUM_ZERO_UDP);
	memcpy(buf + check_off, &check, sizeof(check));
}

int pb_build(const struct pb_spec *s, __u8 *buf, size_t len)
{
	struct pb_layout lo;
	size_t l3_off, l4_off, pay_off, i;
	int err;

	if (!buf)
		return -EINVAL;
	err = pb_layout(s, &lo);
	if (err)
		return err;
	if (lo.total > len)
		return -ENOSPC;

	memset(buf, 0, lo.total);
	l3_off = lo.l2_len;
	l4_off = l3_off + lo.l3_len + lo.ext_total;
	pay_off = l4_off + lo.l4_len;

	for (i = 0; i < s->payload; i++)
		buf[pay_off + i] = PB_PAYLOAD_BYTE(i);

	put_l2(s, &lo, buf);
	if (lo.family == AF_INET)
		put_ipv4(s, &lo, buf + l3_off);
	else if (lo.family == AF_INET6)
		put_ipv6(s, &lo, buf + l3_off);
	if (lo.l4_len)
		put_l4(s, &lo, buf + l4_off);
	return (int)lo.total;
}

int pb_boundaries(const struct pb_spec *s, size_t *offs, int n)
{
	size_t b[PB_BOUNDARIES_MAX], off;
	struct pb_layout lo;
	int cnt = 0, i, err;

	if (n < 0 || (!offs && n > 0))
		return -EINVAL;
	err = pb_layout(s, &lo);
	if (err)
		return err;

	off = lo.l2_len;
	b[cnt++] = off;
	if (lo.family != AF_UNSPEC) {
		off += lo.l3_len;
		b[cnt++] = off;
		for (i = 0; i < lo.next; i++) {
			off += lo.ext_len[i];
			b[cnt++] = off;
		}
		if (lo.l4_len) {
			off += lo.l4_len;
			b[cnt++] = off;
		}
	}
	if (cnt > n)
		cnt = n;
	for (i = 0; i < cnt; i++)
		offs[i] = b[i];
	return cnt;
}
