// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_pktbuild.c - unit tests for lib/pktbuild.c.
 *
 * Table-driven: each row is a spec plus what the frame must look like
 * (length, header boundaries, TPIDs, IPv6 next-header chain). One checker
 * re-parses every built frame on its own, independently of the builder:
 * L2 tags, IPv4 header checksum, lengths, fragment fields, the extension
 * header chain, L4 checksums over the pseudo-header and the payload pattern.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

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

/* header sizes, bytes */
#define L_ETH  ETH_HLEN
#define L_VLAN 4
#define L_V4   20
#define L_V6   40
#define L_TCP  20
#define L_UDP  8
#define L_ICMP 8
#define L_FRAG 8
#define L_PPP  (PB_PPPOE_HLEN + 2) /* PPPoE header + PPP protocol */
#define L_PFC  (PB_PPPOE_HLEN + 1) /* ... with a compressed protocol */

#define V4_A "192.0.2.1"
#define V4_B "198.51.100.2"
#define V6_A "2001:db8::1"
#define V6_B "2001:db8:ffff::2"

#define CANARY		 0xa5	/* fill beyond the frame, must survive */
#define V4_MF		 0x2000 /* host order */
#define V4_OFFMASK	 0x1fff
#define V6_FRAG_M	 0x0001 /* in host-order frag_off */
#define V6_FRAG_SHIFT	 3
#define OPT_ACTION_SHIFT 6 /* top two bits of an option type */
#define TCP_FLAG_ACK	 0x10
#define TCP_FLAGS_OFF	 13	     /* byte holding CWR..FIN */
#define IPPROTO_OPAQUE	 IPPROTO_GRE /* no L4 header in the builder */
#define AH_UNIT		 4
#define AH_BIAS		 2
#define EXT_UNIT	 8

static const __u8 def_smac[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x01 };
static const __u8 def_dmac[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x02 };

struct pb_case {
	const char *desc;
	struct pb_spec spec;
	size_t len; /* frame length */
	int nbound;
	size_t bound[PB_BOUNDARIES_MAX]; /* pb_boundaries() result */
	__u16 tpid[PB_VLAN_MAX];	 /* expected TPIDs, outer first */
	int nchain;			 /* IPv6: next-header values from */
	__u8 chain[PB_V6EXT_MAX + 2];	 /* the fixed header to the L4 */
};

#define BOUNDS(...) \
	.nbound = sizeof((size_t[]){ __VA_ARGS__ }) / sizeof(size_t), .bound = { __VA_ARGS__ }
#define CHAIN(...) .nchain = sizeof((__u8[]){ __VA_ARGS__ }), .chain = { __VA_ARGS__ }

static const struct pb_case cases[] = {
	{ "v4 udp",
	  { .src = V4_A,
	    .dst = V4_B,
	    .proto = IPPROTO_UDP,
	    .sport = 1234,
	    .dport = 53,
	    .payload = 10 },
	  L_ETH + L_V4 + L_UDP + 10,
	  BOUNDS(14, 34, 42) },
	{ "v4 tcp, no payload",
	  { .src = V4_A, .dst = V4_B, .proto = IPPROTO_TCP, .sport = 40000, .dport = 443 },
	  L_ETH + L_V4 + L_TCP,
	  BOUNDS(14, 34, 54) },
	{ "v4 icmp by default, odd payload",
	  { .src = V4_A, .dst = V4_B, .sport = 7, .dport = 9, .payload = 5 },
	  L_ETH + L_V4 + L_ICMP + 5,
	  BOUNDS(14, 34, 42) },
	{ "v4 opaque proto",
	  { .src = V4_A, .dst = V4_B, .proto = IPPROTO_OPAQUE, .payload = 20 },
	  L_ETH + L_V4 + 20,
	  BOUNDS(14, 34) },
	{ "v6 udp, odd payload",
	  { .src = V6_A,
	    .dst = V6_B,
	    .proto = IPPROTO_UDP,
	    .sport = 5353,
	    .dport = 5353,
	    .payload = 11 },
	  L_ETH + L_V6 + L_UDP + 11,
	  BOUNDS(14, 54, 62),
	  CHAIN(IPPROTO_UDP) },
	{ "v6 tcp",
	  { .src = V6_A, .dst = V6_B, .proto = IPPROTO_TCP, .sport = 1, .dport = 22, .payload = 100 },
	  L_ETH + L_V6 + L_TCP + 100,
	  BOUNDS(14, 54, 74),
	  CHAIN(IPPROTO_TCP) },
	{ "v6 icmpv6 by default",
	  { .src = V6_A, .dst = V6_B, .payload = 3 },
	  L_ETH + L_V6 + L_ICMP + 3,
	  BOUNDS(14, 54, 62),
	  CHAIN(IPPROTO_ICMPV6) },
	{ "v4-mapped text is v6",
	  { .src = "::ffff:192.0.2.1", .dst = V6_B, .proto = IPPROTO_UDP },
	  L_ETH + L_V6 + L_UDP,
	  BOUNDS(14, 54, 62),
	  CHAIN(IPPROTO_UDP) },
	{ "v4 udp, one 802.1Q tag",
	  { .src = V4_A,
	    .dst = V4_B,
	    .proto = IPPROTO_UDP,
	    .payload = 4,
	    .nvlan = 1,
	    .vlan_id = { 100 } },
	  L_ETH + L_VLAN + L_V4 + L_UDP + 4,
	  BOUNDS(18, 38, 46),
	  .tpid = { PB_VLAN_8021Q } },
	{ "v4 tcp, QinQ default TPIDs",
	  { .src = V4_A, .dst = V4_B, .proto = IPPROTO_TCP, .nvlan = 2, .vlan_id = { 10, 4095 } },
	  L_ETH + 2 * L_VLAN + L_V4 + L_TCP,
	  BOUNDS(22, 42, 62),
	  .tpid = { PB_VLAN_8021AD, PB_VLAN_8021Q } },
	{ "v6 udp, double 802.1Q",
	  { .src = V6_A,
	    .dst = V6_B,
	    .proto = IPPROTO_UDP,
	    .nvlan = 2,
	    .vlan_tpid = { PB_VLAN_8021Q, PB_VLAN_8021Q },
	    .vlan_id = { 1, 2 },
	    .payload = 1 },
	  L_ETH + 2 * L_VLAN + L_V6 + L_UDP + 1,
	  BOUNDS(22, 62, 70),
	  .tpid = { PB_VLAN_8021Q, PB_VLAN_8021Q },
	  CHAIN(IPPROTO_UDP) },
	{ "v4 12 bytes of options",
	  { .src = V4_A, .dst = V4_B, .proto = IPPROTO_UDP, .ipv4_optlen = 12 },
	  L_ETH + L_V4 + 12 + L_UDP,
	  BOUNDS(14, 46, 54) },
	{ "v4 40 bytes of options, tcp",
	  { .src = V4_A, .dst = V4_B, .proto = IPPROTO_TCP, .ipv4_optlen = 40, .payload = 7 },
	  L_ETH + L_V4 + 40 + L_TCP + 7,
	  BOUNDS(14, 74, 94) },
	{ "v4 first fragment",
	  { .src = V4_A, .dst = V4_B, .proto = IPPROTO_UDP, .more_fragments = 1, .payload = 16 },
	  L_ETH + L_V4 + L_UDP + 16,
	  BOUNDS(14, 34, 42) },
	{ "v4 later fragment, last",
	  { .src = V4_A, .dst = V4_B, .proto = IPPROTO_UDP, .frag_offset = 3, .payload = 24 },
	  L_ETH + L_V4 + 24,
	  BOUNDS(14, 34) },
	{ "v4 later fragment, max offset, MF",
	  { .src = V4_A,
	    .dst = V4_B,
	    .proto = IPPROTO_TCP,
	    .frag_offset = PB_FRAG_OFF_MAX,
	    .more_fragments = 1,
	    .payload = 8 },
	  L_ETH + L_V4 + 8,
	  BOUNDS(14, 34) },
	{ "v6 hop, routing, dstopt, tcp",
	  { .src = V6_A,
	    .dst = V6_B,
	    .proto = IPPROTO_TCP,
	    .nv6ext = 3,
	    .v6ext = { PB_EXT_HOP, PB_EXT_ROUTING, PB_EXT_DSTOPT } },
	  L_ETH + L_V6 + 3 * 8 + L_TCP,
	  BOUNDS(14, 54, 62, 70, 78, 98),
	  CHAIN(PB_EXT_HOP, PB_EXT_ROUTING, PB_EXT_DSTOPT, IPPROTO_TCP) },
	{ "v6 hop 24, ah default, udp",
	  { .src = V6_A,
	    .dst = V6_B,
	    .proto = IPPROTO_UDP,
	    .nv6ext = 2,
	    .v6ext = { PB_EXT_HOP, PB_EXT_AH },
	    .v6ext_len = { 24 },
	    .payload = 9 },
	  L_ETH + L_V6 + 24 + 16 + L_UDP + 9,
	  BOUNDS(14, 54, 78, 94, 102),
	  CHAIN(PB_EXT_HOP, PB_EXT_AH, IPPROTO_UDP) },
	{ "v6 long options and ah",
	  { .src = V6_A,
	    .dst = V6_B,
	    .proto = IPPROTO_UDP,
	    .nv6ext = 3,
	    .v6ext = { PB_EXT_HOP, PB_EXT_DSTOPT, PB_EXT_AH },
	    .v6ext_len = { 64, 520, 40 } },
	  L_ETH + L_V6 + 64 + 520 + 40 + L_UDP,
	  BOUNDS(14, 54, 118, 638, 678, 686),
	  CHAIN(PB_EXT_HOP, PB_EXT_DSTOPT, PB_EXT_AH, IPPROTO_UDP) },
	{ "v6 first fragment, header added",
	  { .src = V6_A, .dst = V6_B, .proto = IPPROTO_UDP, .more_fragments = 1, .payload = 32 },
	  L_ETH + L_V6 + L_FRAG + L_UDP + 32,
	  BOUNDS(14, 54, 62, 70),
	  CHAIN(PB_EXT_FRAG, IPPROTO_UDP) },
	{ "v6 later fragment, listed frag",
	  { .src = V6_A,
	    .dst = V6_B,
	    .proto = IPPROTO_TCP,
	    .nv6ext = 2,
	    .v6ext = { PB_EXT_HOP, PB_EXT_FRAG },
	    .v6ext_len = { 0, 99 }, /* FRAG: ignored */
	    .frag_offset = 185,
	    .more_fragments = 1,
	    .payload = 32 },
	  L_ETH + L_V6 + 8 + L_FRAG + 32,
	  BOUNDS(14, 54, 62, 70),
	  CHAIN(PB_EXT_HOP, PB_EXT_FRAG, IPPROTO_TCP) },
	{ "v6 later fragment, header added after listed",
	  { .src = V6_A,
	    .dst = V6_B,
	    .proto = IPPROTO_UDP,
	    .nv6ext = 1,
	    .v6ext = { PB_EXT_DSTOPT },
	    .frag_offset = 1,
	    .payload = 2 },
	  L_ETH + L_V6 + 8 + L_FRAG + 2,
	  BOUNDS(14, 54, 62, 70),
	  CHAIN(PB_EXT_DSTOPT, PB_EXT_FRAG, IPPROTO_UDP) },
	{ "v6 atomic fragment then dstopt, icmpv6",
	  { .src = V6_A,
	    .dst = V6_B,
	    .nv6ext = 2,
	    .v6ext = { PB_EXT_FRAG, PB_EXT_DSTOPT },
	    .payload = 6 },
	  L_ETH + L_V6 + L_FRAG + 8 + L_ICMP + 6,
	  BOUNDS(14, 54, 62, 70, 78),
	  CHAIN(PB_EXT_FRAG, PB_EXT_DSTOPT, IPPROTO_ICMPV6) },
	{ "v6 eight headers plus added frag, all boundaries",
	  { .src = V6_A,
	    .dst = V6_B,
	    .proto = IPPROTO_TCP,
	    .nv6ext = 8,
	    .v6ext = { PB_EXT_HOP, PB_EXT_DSTOPT, PB_EXT_ROUTING, PB_EXT_AH, PB_EXT_DSTOPT,
		       PB_EXT_ROUTING, PB_EXT_AH, PB_EXT_DSTOPT },
	    .more_fragments = 1,
	    .nvlan = 1,
	    .vlan_id = { 7 } },
	  L_ETH + L_VLAN + L_V6 + 6 * 8 + 2 * 16 + L_FRAG + L_TCP,
	  BOUNDS(18, 58, 66, 74, 82, 98, 106, 114, 130, 138, 146, 166),
	  .tpid = { PB_VLAN_8021Q },
	  CHAIN(PB_EXT_HOP, PB_EXT_DSTOPT, PB_EXT_ROUTING, PB_EXT_AH, PB_EXT_DSTOPT, PB_EXT_ROUTING,
		PB_EXT_AH, PB_EXT_DSTOPT, PB_EXT_FRAG, IPPROTO_TCP) },
	{ "arp", { .ethertype = ETH_P_ARP, .payload = 28 }, L_ETH + 28, BOUNDS(14) },
	{ "lldp on a vlan, own macs",
	  { .ethertype = ETH_P_LLDP,
	    .payload = 30,
	    .nvlan = 1,
	    .vlan_id = { 3 },
	    .smac = { 0x0a, 1, 2, 3, 4, 5 },
	    .dmac = { 0x01, 0x80, 0xc2, 0, 0, 0x0e } },
	  L_ETH + L_VLAN + 30,
	  BOUNDS(18),
	  .tpid = { PB_VLAN_8021Q } },
	{ "v6 udp, ethertype given",
	  { .src = V6_A, .dst = V6_B, .proto = IPPROTO_UDP, .ethertype = ETH_P_IPV6 },
	  L_ETH + L_V6 + L_UDP,
	  BOUNDS(14, 54, 62),
	  CHAIN(IPPROTO_UDP) },
	{ "v4 udp in PPPoE",
	  { .src = V4_A,
	    .dst = V4_B,
	    .proto = IPPROTO_UDP,
	    .payload = 10,
	    .pppoe = 1,
	    .pppoe_sid = 0x1234 },
	  L_ETH + L_PPP + L_V4 + L_UDP + 10,
	  BOUNDS(22, 42, 50) },
	{ "v6 tcp in PPPoE in 802.1Q",
	  { .src = V6_A,
	    .dst = V6_B,
	    .proto = IPPROTO_TCP,
	    .nvlan = 1,
	    .vlan_id = { 100 },
	    .pppoe = 1,
	    .pppoe_sid = 1 },
	  L_ETH + L_VLAN + L_PPP + L_V6 + L_TCP,
	  BOUNDS(26, 66, 86),
	  .tpid = { PB_VLAN_8021Q },
	  CHAIN(IPPROTO_TCP) },
	{ "v6 udp in PPPoE in QinQ, compressed protocol",
	  { .src = V6_A,
	    .dst = V6_B,
	    .proto = IPPROTO_UDP,
	    .payload = 3,
	    .nvlan = 2,
	    .vlan_id = { 10, 20 },
	    .pppoe = 1,
	    .pppoe_sid = 0xffff,
	    .ppp_pfc = 1 },
	  L_ETH + 2 * L_VLAN + L_PFC + L_V6 + L_UDP + 3,
	  BOUNDS(29, 69, 77),
	  .tpid = { PB_VLAN_8021AD, PB_VLAN_8021Q },
	  CHAIN(IPPROTO_UDP) },
	{ "v4 in PPPoE labelled IPv6",
	  { .src = V4_A, .dst = V4_B, .proto = IPPROTO_UDP, .pppoe = 1, .ppp_proto = PPP_IPV6 },
	  L_ETH + L_PPP + L_V4 + L_UDP,
	  BOUNDS(22, 42, 50) },
	{ "LCP in PPPoE (non-IP)",
	  { .pppoe = 1, .pppoe_sid = 7, .ppp_proto = PPP_LCP, .payload = 10 },
	  L_ETH + L_PPP + 10,
	  BOUNDS(22) },
};

static __u16 rd16(const __u8 *p)
{
	return (__u16)(p[0] << 8 | p[1]);
}

/* Folded one's complement sum, not complemented: 0xffff means "valid". */
static __u16 ones_sum(__u32 sum, const __u8 *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += rd16(p + i);
	if (len & 1)
		sum += (__u32)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

static size_t last_bound(const struct pb_case *c)
{
	return c->bound[c->nbound - 1];
}

static void check_l2(const struct pb_case *c, const __u8 *f, __u16 l3_proto)
{
	const struct pb_spec *s = &c->spec;
	static const __u8 zero[ETH_ALEN];
	struct ethhdr eth;
	size_t off = L_ETH - sizeof(__be16); /* the first TPID/EtherType */
	int i;

	memcpy(&eth, f, sizeof(eth));
	assert_memory_equal(eth.h_source, memcmp(s->smac, zero, ETH_ALEN) ? s->smac : def_smac,
			    ETH_ALEN);
	assert_memory_equal(eth.h_dest, memcmp(s->dmac, zero, ETH_ALEN) ? s->dmac : def_dmac,
			    ETH_ALEN);
	for (i = 0; i < s->nvlan; i++) {
		assert_int_equal(rd16(f + off), c->tpid[i]);
		assert_int_equal(rd16(f + off + 2), s->vlan_id[i]); /* PCP 0 */
		off += L_VLAN;
	}
	if (s->pppoe) {
		size_t hdr = off + sizeof(__be16), plen = s->ppp_pfc ? 1 : 2;
		__u16 want = s->ppp_proto ? s->ppp_proto : l3_proto == ETH_P_IP ? PPP_IP : PPP_IPV6;

		assert_int_equal(rd16(f + off), ETH_P_PPP_SES);
		assert_int_equal(f[hdr], 0x11);	 /* version 1, type 1 */
		assert_int_equal(f[hdr + 1], 0); /* code: session data */
		assert_int_equal(rd16(f + hdr + 2), s->pppoe_sid);
		assert_int_equal(rd16(f + hdr + 4), c->len - hdr - PB_PPPOE_HLEN);
		assert_int_equal(plen == 1 ? f[hdr + PB_PPPOE_HLEN] : rd16(f + hdr + PB_PPPOE_HLEN),
				 want);
		assert_int_equal(hdr + PB_PPPOE_HLEN + plen, c->bound[0]);
		return;
	}
	assert_int_equal(rd16(f + off), l3_proto);
	assert_int_equal(off + sizeof(__be16), c->bound[0]);
}

static void check_ipv4(const struct pb_case *c, const __u8 *f, size_t l3)
{
	const struct pb_spec *s = &c->spec;
	size_t hlen = c->bound[1] - l3;
	struct iphdr ip;
	__u16 frag;
	size_t i;

	memcpy(&ip, f + l3, sizeof(ip));
	assert_int_equal(ip.version, 4);
	assert_int_equal(ip.ihl * 4, hlen);
	assert_int_equal(hlen, L_V4 + s->ipv4_optlen);
	assert_int_equal(ntohs(ip.tot_len), c->len - l3);
	assert_int_equal(ones_sum(0, f + l3, hlen), 0xffff); /* recomputes to 0 */
	frag = ntohs(ip.frag_off);
	assert_int_equal(frag & V4_OFFMASK, s->frag_offset);
	assert_int_equal(!!(frag & V4_MF), !!s->more_fragments);
	assert_int_not_equal(ip.ttl, 0);
	for (i = L_V4; i < hlen; i++)
		assert_int_equal(f[l3 + i], i + 1 < hlen ? IPOPT_NOP : IPOPT_EOL);
}

/* Options in a HOP/DSTOPT body: all TLVs end exactly at the header end. */
static void check_tlvs(const __u8 *p, size_t len)
{
	size_t i = 2; /* after nexthdr, hdrlen */

	while (i < len) {
		if (p[i] == 0) { /* Pad1 */
			i++;
			continue;
		}
		assert_int_equal(p[i] >> OPT_ACTION_SHIFT, 0); /* skippable */
		assert_true(i + 2 <= len);
		i += 2 + p[i + 1];
	}
	assert_int_equal(i, len);
}

/* Walk the chain; returns the offset of the L4 header (payload for later fragments). */
static size_t check_ipv6(const struct pb_case *c, const __u8 *f, size_t l3)
{
	const struct pb_spec *s = &c->spec;
	struct ipv6hdr ip6;
	size_t off = l3 + L_V6;
	__u8 nh;
	int i, frags = 0;

	memcpy(&ip6, f + l3, sizeof(ip6));
	assert_int_equal(ip6.version, 6);
	assert_int_equal(ntohs(ip6.payload_len), c->len - l3 - L_V6);
	assert_int_equal(c->bound[1], off);
	assert_true(c->nchain > 0);
	nh = ip6.nexthdr;
	for (i = 0; i < c->nchain - 1; i++) {
		const __u8 *h = f + off;
		size_t len;

		assert_int_equal(nh, c->chain[i]);
		switch (nh) {
		case PB_EXT_FRAG: {
			__u16 fo = rd16(h + 2);

			len = L_FRAG;
			frags++;
			assert_int_equal(fo >> V6_FRAG_SHIFT, s->frag_offset);
			assert_int_equal(fo & V6_FRAG_M, !!s->more_fragments);
			break;
		}
		case PB_EXT_AH:
			len = (h[1] + AH_BIAS) * AH_UNIT;
			break;
		default:
			len = (h[1] + 1) * EXT_UNIT;
			if (nh != PB_EXT_ROUTING)
				check_tlvs(h, len);
			else
				assert_int_equal(h[3], 0); /* segments left */
			break;
		}
		nh = h[0];
		off += len;
		assert_int_equal(off, c->bound[2 + i]);
	}
	assert_int_equal(nh, c->chain[c->nchain - 1]);
	/* a fragment header exactly when the spec asks for a fragment */
	if (s->frag_offset || s->more_fragments)
		assert_int_not_equal(frags, 0);
	return off;
}

static void check_l4(const struct pb_case *c, const __u8 *f, size_t l3, size_t l4, bool v6)
{
	const struct pb_spec *s = &c->spec;
	size_t seg = c->len - l4, alen = v6 ? 16 : 4;
	size_t saddr = l3 + (v6 ? offsetof(struct ipv6hdr, saddr) : offsetof(struct iphdr, saddr));
	__u8 proto = v6 ? c->chain[c->nchain - 1] : f[l3 + offsetof(struct iphdr, protocol)];
	__u32 pseudo = ones_sum(0, f + saddr, 2 * alen) + proto + (__u32)seg;
	const __u8 *h = f + l4;

	switch (proto) {
	case IPPROTO_TCP:
		assert_int_equal(rd16(h), s->sport);
		assert_int_equal(rd16(h + 2), s->dport);
		assert_int_equal(h[12] >> 4, L_TCP / 4);
		assert_int_equal(h[TCP_FLAGS_OFF], TCP_FLAG_ACK);
		assert_int_equal(ones_sum(pseudo, h, seg), 0xffff);
		assert_int_equal(l4 + L_TCP, last_bound(c));
		break;
	case IPPROTO_UDP:
		assert_int_equal(rd16(h), s->sport);
		assert_int_equal(rd16(h + 2), s->dport);
		assert_int_equal(rd16(h + 4), seg);
		assert_int_not_equal(rd16(h + 6), 0);
		assert_int_equal(ones_sum(pseudo, h, seg), 0xffff);
		assert_int_equal(l4 + L_UDP, last_bound(c));
		break;
	case IPPROTO_ICMP:
		assert_false(v6);
		assert_int_equal(h[0], ICMP_ECHO);
		assert_int_equal(rd16(h + 4), s->sport);
		assert_int_equal(rd16(h + 6), s->dport);
		assert_int_equal(ones_sum(0, h, seg), 0xffff); /* no pseudo-header */
		assert_int_equal(l4 + L_ICMP, last_bound(c));
		break;
	case IPPROTO_ICMPV6:
		assert_true(v6);
		assert_int_equal(h[0], ICMPV6_ECHO_REQUEST);
		assert_int_equal(rd16(h + 4), s->sport);
		assert_int_equal(rd16(h + 6), s->dport);
		assert_int_equal(ones_sum(pseudo, h, seg), 0xffff);
		assert_int_equal(l4 + L_ICMP, last_bound(c));
		break;
	default:
		assert_int_equal(l4, last_bound(c)); /* opaque: no header */
		break;
	}
}

static void check_case(const struct pb_case *c)
{
	const struct pb_spec *s = &c->spec;
	__u8 f[BWE_PKT_MAX];
	size_t offs[PB_BOUNDARIES_MAX], l3, l4;
	bool ip = s->src != NULL, v6 = ip && strchr(s->src, ':');
	int i, n;

	print_message("  %s\n", c->desc);
	memset(f, CANARY, sizeof(f));
	assert_int_equal(pb_build(s, f, sizeof(f)), c->len);
	for (i = c->len; i < BWE_PKT_MAX; i++)
		assert_int_equal(f[i], CANARY);

	n = pb_boundaries(s, offs, PB_BOUNDARIES_MAX);
	assert_int_equal(n, c->nbound);
	for (i = 0; i < n; i++)
		assert_int_equal(offs[i], c->bound[i]);

	check_l2(c, f, ip ? (v6 ? ETH_P_IPV6 : ETH_P_IP) : s->ethertype);
	l3 = c->bound[0];
	if (ip) {
		if (v6) {
			l4 = check_ipv6(c, f, l3);
		} else {
			check_ipv4(c, f, l3);
			l4 = c->bound[1];
		}
		if (s->frag_offset)
			assert_int_equal(l4, last_bound(c)); /* no L4 header */
		else
			check_l4(c, f, l3, l4, v6);
	}
	assert_int_equal(last_bound(c) + s->payload, c->len);
	for (i = 0; i < s->payload; i++)
		assert_int_equal(f[last_bound(c) + i], PB_PAYLOAD_BYTE(i));
}

static void test_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++)
		check_case(&cases[i]);
}

struct pb_err_case {
	const char *desc;
	struct pb_spec spec;
	size_t buflen; /* 0 => BWE_PKT_MAX */
	int err;
};

static const struct pb_err_case err_cases[] = {
	{ "src without dst", { .src = V4_A, .proto = IPPROTO_UDP }, 0, -EINVAL },
	{ "dst without src", { .dst = V4_A, .proto = IPPROTO_UDP }, 0, -EINVAL },
	{ "mixed families", { .src = V4_A, .dst = V6_B }, 0, -EINVAL },
	{ "mixed families, v6 first", { .src = V6_A, .dst = V4_B }, 0, -EINVAL },
	{ "bad v4 text", { .src = "192.0.2.256", .dst = V4_B }, 0, -EINVAL },
	{ "bad text", { .src = "host.example", .dst = V4_B }, 0, -EINVAL },
	{ "non-IP without ethertype", { .payload = 4 }, 0, -EINVAL },
	{ "non-IP with proto", { .ethertype = ETH_P_ARP, .proto = IPPROTO_UDP }, 0, -EINVAL },
	{ "non-IP with frag", { .ethertype = ETH_P_ARP, .more_fragments = 1 }, 0, -EINVAL },
	{ "v4 with v6 ethertype",
	  { .src = V4_A, .dst = V4_B, .ethertype = ETH_P_IPV6 },
	  0,
	  -EINVAL },
	{ "three vlans", { .src = V4_A, .dst = V4_B, .nvlan = 3 }, 0, -EINVAL },
	{ "negative vlans", { .src = V4_A, .dst = V4_B, .nvlan = -1 }, 0, -EINVAL },
	{ "vlan id 4096",
	  { .src = V4_A, .dst = V4_B, .nvlan = 1, .vlan_id = { 4096 } },
	  0,
	  -EINVAL },
	{ "v4 options not word multiple",
	  { .src = V4_A, .dst = V4_B, .ipv4_optlen = 6 },
	  0,
	  -EINVAL },
	{ "v4 options too long", { .src = V4_A, .dst = V4_B, .ipv4_optlen = 44 }, 0, -EINVAL },
	{ "v4 options negative", { .src = V4_A, .dst = V4_B, .ipv4_optlen = -4 }, 0, -EINVAL },
	{ "v4 with v6 ext", { .src = V4_A, .dst = V4_B, .nv6ext = 1 }, 0, -EINVAL },
	{ "v6 with v4 options", { .src = V6_A, .dst = V6_B, .ipv4_optlen = 4 }, 0, -EINVAL },
	{ "icmpv4 on v6", { .src = V6_A, .dst = V6_B, .proto = IPPROTO_ICMP }, 0, -EINVAL },
	{ "icmpv6 on v4", { .src = V4_A, .dst = V4_B, .proto = IPPROTO_ICMPV6 }, 0, -EINVAL },
	{ "unknown ext",
	  { .src = V6_A, .dst = V6_B, .nv6ext = 1, .v6ext = { IPPROTO_UDP } },
	  0,
	  -EINVAL },
	{ "ext len not 8-multiple",
	  { .src = V6_A, .dst = V6_B, .nv6ext = 1, .v6ext = { PB_EXT_HOP }, .v6ext_len = { 12 } },
	  0,
	  -EINVAL },
	{ "ext len too long",
	  { .src = V6_A,
	    .dst = V6_B,
	    .nv6ext = 1,
	    .v6ext = { PB_EXT_DSTOPT },
	    .v6ext_len = { 2056 } },
	  0,
	  -EINVAL },
	{ "ext len negative",
	  { .src = V6_A, .dst = V6_B, .nv6ext = 1, .v6ext = { PB_EXT_ROUTING }, .v6ext_len = { -8 } },
	  0,
	  -EINVAL },
	{ "ah too short",
	  { .src = V6_A, .dst = V6_B, .nv6ext = 1, .v6ext = { PB_EXT_AH }, .v6ext_len = { 8 } },
	  0,
	  -EINVAL },
	{ "too many ext", { .src = V6_A, .dst = V6_B, .nv6ext = PB_V6EXT_MAX + 1 }, 0, -EINVAL },
	{ "frag offset too big",
	  { .src = V4_A, .dst = V4_B, .frag_offset = PB_FRAG_OFF_MAX + 1 },
	  0,
	  -EINVAL },
	{ "v4 tot_len overflow",
	  { .src = V4_A, .dst = V4_B, .proto = IPPROTO_UDP, .payload = 0xffff - L_V4 - L_UDP + 1 },
	  1 << 17,
	  -EINVAL },
	{ "v6 payload_len overflow",
	  { .src = V6_A, .dst = V6_B, .proto = IPPROTO_UDP, .payload = 0xffff - L_UDP + 1 },
	  1 << 17,
	  -EINVAL },
	{ "buffer one byte short",
	  { .src = V4_A, .dst = V4_B, .proto = IPPROTO_UDP, .payload = 10 },
	  L_ETH + L_V4 + L_UDP + 10 - 1,
	  -ENOSPC },
	{ "non-IP buffer short", { .ethertype = ETH_P_ARP, .payload = 28 }, L_ETH + 27, -ENOSPC },
	{ "PPPoE session id without pppoe",
	  { .src = V4_A, .dst = V4_B, .pppoe_sid = 1 },
	  0,
	  -EINVAL },
	{ "PPP protocol without pppoe",
	  { .src = V4_A, .dst = V4_B, .ppp_proto = PPP_IP },
	  0,
	  -EINVAL },
	{ "PFC without pppoe", { .src = V4_A, .dst = V4_B, .ppp_pfc = 1 }, 0, -EINVAL },
	{ "pppoe with an ethertype",
	  { .src = V4_A, .dst = V4_B, .pppoe = 1, .ethertype = ETH_P_PPP_SES },
	  0,
	  -EINVAL },
	{ "non-IP pppoe without a PPP protocol", { .pppoe = 1, .payload = 4 }, 0, -EINVAL },
	{ "PFC of a two-byte protocol",
	  { .pppoe = 1, .ppp_proto = PPP_LCP, .ppp_pfc = 1 },
	  0,
	  -EINVAL },
	{ "PFC of an even protocol",
	  { .src = V4_A, .dst = V4_B, .pppoe = 1, .ppp_proto = 0x20, .ppp_pfc = 1 },
	  0,
	  -EINVAL },
	{ "PPPoE length overflow",
	  { .pppoe = 1, .ppp_proto = PPP_LCP, .payload = 0xffff },
	  1 << 17,
	  -EINVAL },
	{ "PPPoE buffer short",
	  { .src = V4_A, .dst = V4_B, .proto = IPPROTO_UDP, .pppoe = 1 },
	  L_ETH + L_PPP + L_V4 + L_UDP - 1,
	  -ENOSPC },
};

static void test_errors(void **state)
{
	static __u8 big[1 << 17];
	size_t offs[PB_BOUNDARIES_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(err_cases); i++) {
		const struct pb_err_case *e = &err_cases[i];
		size_t len = e->buflen ? e->buflen : BWE_PKT_MAX;

		print_message("  %s\n", e->desc);
		memset(big, CANARY, len);
		assert_int_equal(pb_build(&e->spec, big, len), e->err);
		assert_int_equal(big[0], CANARY); /* nothing written */
		if (e->err == -EINVAL)
			assert_int_equal(pb_boundaries(&e->spec, offs, PB_BOUNDARIES_MAX), -EINVAL);
	}
}

static void test_bad_args(void **state)
{
	const struct pb_spec s = { .src = V4_A, .dst = V4_B, .proto = IPPROTO_UDP };
	__u8 f[BWE_PKT_MAX];
	size_t offs[PB_BOUNDARIES_MAX];

	(void)state;
	assert_int_equal(pb_build(NULL, f, sizeof(f)), -EINVAL);
	assert_int_equal(pb_build(&s, NULL, sizeof(f)), -EINVAL);
	assert_int_equal(pb_build(&s, f, 0), -ENOSPC);
	assert_int_equal(pb_boundaries(NULL, offs, PB_BOUNDARIES_MAX), -EINVAL);
	assert_int_equal(pb_boundaries(&s, NULL, 1), -EINVAL);
	assert_int_equal(pb_boundaries(&s, offs, -1), -EINVAL);
	assert_int_equal(pb_boundaries(&s, NULL, 0), 0);
}

/* A short offs array gets the first n boundaries. */
static void test_boundaries_short(void **state)
{
	const struct pb_case *c = &cases[0];
	size_t offs[PB_BOUNDARIES_MAX] = { 0 };

	(void)state;
	assert_int_equal(pb_boundaries(&c->spec, offs, 2), 2);
	assert_int_equal(offs[0], c->bound[0]);
	assert_int_equal(offs[1], c->bound[1]);
	assert_int_equal(offs[2], 0);
}

/* The largest frame that fits the 16-bit IPv4 length builds. */
static void test_max_v4(void **state)
{
	static __u8 big[1 << 17];
	const struct pb_spec s = { .src = V4_A,
				   .dst = V4_B,
				   .proto = IPPROTO_UDP,
				   .payload = 0xffff - L_V4 - L_UDP };

	(void)state;
	assert_int_equal(pb_build(&s, big, sizeof(big)), L_ETH + 0xffff);
	assert_int_equal(rd16(big + L_ETH + offsetof(struct iphdr, tot_len)), 0xffff);
	assert_int_equal(ones_sum(0, big + L_ETH, L_V4), 0xffff);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),	 cmocka_unit_test(test_errors),
		cmocka_unit_test(test_bad_args), cmocka_unit_test(test_boundaries_short),
		cmocka_unit_test(test_max_v4),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
