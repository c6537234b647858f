/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * pktbuild.h - a small Ethernet frame builder for user space: unit tests
 * (bpf_prog_test_run_opts), benchmarks and the raw-socket frame injector.
 * BPF code does not include this file.
 *
 * Contract: a frame is described by a struct pb_spec (zero-initialise it and
 * set what matters, designated initialisers are the intended use) and
 * pb_build() writes it with every length, next-header value and checksum
 * filled in, so fixtures never carry hex blobs. IPv4 and IPv6 take one code
 * path; the family is that of the address text.
 *
 * Frame layout, in order:
 *   Ethernet (14) | nvlan x VLAN tag (4 each) | [PPPoE session header (6) |
 *   PPP protocol (2, or 1 with ppp_pfc)] | IPv4 (20 + ipv4_optlen) or
 *   IPv6 (40) + extension headers | L4 header | payload
 *
 * What is put in the fields nobody sets:
 *   - MACs 02:00:00:00:00:01 (source) / 02:00:00:00:00:02 (destination)
 *     when the spec's MAC is all zero; VLAN PCP and DEI 0.
 *   - IPv4: TOS 0, TTL 64, ID 0x1234, DF clear; options are NOP bytes with
 *     a final EOL byte. IPv6: traffic class and flow label 0, hop limit 64.
 *   - TCP: 20 bytes, data offset 5, flags ACK only (SYN only with tcp_syn),
 *     fixed seq/ack, window
 *     65535. UDP: length = 8 + payload. ICMP (proto 0, IPPROTO_ICMP or
 *     IPPROTO_ICMPV6): an echo request, identifier = sport, sequence = dport.
 *     Any other proto: no L4 header, the payload follows the IP headers.
 *   - Checksums: IPv4 header; TCP, UDP and ICMPv6 over the pseudo-header;
 *     ICMPv4 over the ICMP message (it has no pseudo-header). In a first
 *     fragment they cover only the bytes present. A UDP sum of 0 is sent as
 *     0xffff.
 *   - IPv6 extension headers: HOP/DSTOPT padded with PadN (an experimental
 *     skippable option, type 0x1e, covers stretches longer than 7 bytes);
 *     ROUTING is type 253 (RFC 4727 experimental) with segments left 0,
 *     which receivers ignore; the rest of it is zero;
 *     AH has SPI 0x100, sequence 1, zero ICV.
 *   - Payload byte i (0-based, counted from the first payload byte) is
 *     PB_PAYLOAD_BYTE(i).
 *   - PPPoE (pppoe set, RFC 2516): EtherType 0x8864 after the tags, version
 *     1, type 1, code 0, session id pppoe_sid, length = the PPP protocol
 *     field plus everything after it; PPP protocol 0x0021 (IPv4) or 0x0057
 *     (IPv6) unless ppp_proto says otherwise. A non-IP PPPoE frame (src and
 *     dst NULL) is ppp_proto followed by the payload (LCP 0xc021, ...).
 *     ppp_pfc writes the protocol in one byte (RFC 1661 PFC).
 *
 * Fragments: frag_offset (8-octet units, <= 0x1fff) and more_fragments go
 * into the IPv4 frag_off field, or into the IPv6 fragment header: the first
 * PB_EXT_FRAG listed in v6ext, or one appended after the listed headers when
 * none is listed. A later fragment (frag_offset != 0) has no L4 header: the
 * payload follows the IP/extension headers; the last next-header value is
 * still proto.
 *
 * Errors (-errno; buf is not written to): -EINVAL for a NULL spec or
 * buffer, address text that inet_pton() refuses or of mixed families, a
 * non-IP frame without ethertype or with IP-only fields set (proto,
 * ipv4_optlen, nv6ext, frag_offset, more_fragments), an ethertype other than
 * 0 or the family's own on an IP frame, ICMP of the other family, nvlan not
 * 0..2, a VLAN ID > 4095, bad ipv4_optlen, IPv6 fields on IPv4 (nv6ext) or
 * the reverse (ipv4_optlen), an unknown or mis-sized extension header,
 * frag_offset > 0x1fff, or an IP length that does not fit its 16-bit field;
 * PPP fields (pppoe_sid, ppp_proto, ppp_pfc) without pppoe, pppoe with an
 * ethertype, a non-IP PPPoE frame without ppp_proto, ppp_pfc with a protocol
 * that is not one odd byte, a PPPoE length over 16 bits.
 * -ENOSPC when the frame is longer than the buffer.
 */
#ifndef BWE_PKTBUILD_H
#define BWE_PKTBUILD_H

#include <stddef.h>
#include <linux/types.h>

/* bytes: buffer size for test frames; larger frames (IP length up to 65535)
 * build into larger buffers, pb_build() only checks against len */
#define BWE_PKT_MAX	  2048
#define PB_VLAN_MAX	  2	 /* VLAN tags: outer + inner */
#define PB_V6EXT_MAX	  8	 /* IPv6 extension headers listed in a spec */
#define PB_IPV4_OPT_MAX	  40	 /* bytes of IPv4 options (ihl 15) */
#define PB_FRAG_OFF_MAX	  0x1fff /* fragment offset, 8-octet units */
#define PB_MAC_LEN	  6	 /* bytes in an Ethernet address */
#define PB_PPPOE_HLEN	  6	 /* bytes of the PPPoE header, before the PPP protocol */
/* entries pb_boundaries() can produce: L2, L3, listed + added frag, L4 */
#define PB_BOUNDARIES_MAX (2 + PB_V6EXT_MAX + 1 + 1)

/* Payload fill pattern: byte i of the payload. */
#define PB_PAYLOAD_BYTE(i) ((__u8)((i)&0xff))

enum { PB_VLAN_8021Q = 0x8100, PB_VLAN_8021AD = 0x88a8 };

/* IPv6 extension header types, the IPPROTO_* value of each. */
enum pb_v6ext {
	PB_EXT_HOP = 0,	     /* Hop-by-Hop options, 8..2048 bytes */
	PB_EXT_ROUTING = 43, /* Routing, 8..2048 bytes */
	PB_EXT_FRAG = 44,    /* Fragment, always 8 bytes */
	PB_EXT_DSTOPT = 60,  /* Destination options, 8..2048 bytes */
	PB_EXT_AH = 51,	     /* Authentication header, 16..1024 bytes */
};

struct pb_spec {
	const char *src, *dst; /* IPv4 or IPv6 text (same family); NULL => non-IP frame */
	__u8 proto;	       /* IPPROTO_*; 0 => ICMP of the family */
	__u16 sport, dport;    /* host order; ICMP: echo identifier / sequence */
	__u16 payload;	       /* bytes after the L4 header, PB_PAYLOAD_BYTE pattern */
	__u16 ethertype;       /* host order; non-IP frames only (ETH_P_ARP, 0x88cc LLDP); else 0 */
	int nvlan;	       /* 0, 1 or 2 tags */
	__u16 vlan_tpid[PB_VLAN_MAX]; /* host order, outer first; 0 => 0x88a8 outer +
					 * 0x8100 inner for 2 tags, 0x8100 for 1 */
	__u16 vlan_id[PB_VLAN_MAX];   /* 0..4095, outer first */
	int ipv4_optlen;	      /* bytes of IPv4 options: multiple of 4, <= 40 */
	int nv6ext;		      /* IPv6 extension headers, 0..PB_V6EXT_MAX, in order */
	__u8 v6ext[PB_V6EXT_MAX];     /* enum pb_v6ext */
	int v6ext_len[PB_V6EXT_MAX];  /* bytes of each, multiple of 8; 0 => minimum
					 * (8, AH 16); ignored for FRAG (always 8) */
	__u16 frag_offset;	      /* 8-octet units; non-zero => later fragment */
	int more_fragments;	      /* set MF (v4) / M (v6 fragment header) */
	__u8 smac[PB_MAC_LEN],
		dmac[PB_MAC_LEN]; /* all zero => 02:00:00:00:00:01 / 02:00:00:00:00:02 */
	int pppoe;		  /* a PPPoE session frame (after the tags, if any) */
	__u16 pppoe_sid;	  /* PPPoE session id, host order */
	__u16 ppp_proto;	  /* PPP protocol, host order; 0 => the family's (IP only) */
	int ppp_pfc;		  /* one-byte PPP protocol field (RFC 1661 PFC) */
	int tcp_syn;		  /* TCP: flags SYN only (a new connection), else ACK only */
};

/*
 * Build the frame described by s into buf (len bytes). Returns the frame
 * length (> 0) or -EINVAL / -ENOSPC. Bytes of buf past the frame are not
 * touched.
 */
int pb_build(const struct pb_spec *s, __u8 *buf, size_t len);

/*
 * Byte offsets of the header boundaries of the frame pb_build() would
 * produce, for truncation tests: end of L2 (after Ethernet, VLAN tags and
 * the PPPoE header with its PPP protocol field);
 * for IP frames end of L3 (IPv4 with options, or the IPv6 fixed header),
 * the end of each IPv6 extension header (including an appended fragment
 * header), and the end of the L4 header when there is one (not for a later
 * fragment or a protocol without a header). The last entry is always where
 * the payload starts. Writes at most n entries (PB_BOUNDARIES_MAX always
 * suffices) and returns how many it wrote, or -EINVAL for the same specs
 * pb_build() refuses or offs NULL with n > 0 or n < 0.
 */
int pb_boundaries(const struct pb_spec *s, size_t *offs, int n);

#endif /* BWE_PKTBUILD_H */
