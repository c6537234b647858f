/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * addr.h - strict address, prefix and MAC helpers for user space (daemon,
 * command, tests). BPF code does not include this file.
 *
 * Representation: struct bwe_addr from bwe_abi.h, 16 bytes in network byte
 * order; IPv4 a.b.c.d is the IPv4-mapped address ::ffff:a.b.c.d and an IPv4
 * prefix /n has plen 96 + n. One code path serves both families.
 *
 * A prefix is "IPv4" when its address is IPv4-mapped and plen >= 96; every
 * other prefix is IPv6 (e.g. ::/0, 2001:db8::/32).
 *
 * Grammar accepted (anything else is -EINVAL; no surrounding white space):
 *   addr    := v4 | v6
 *   v4      := exactly four decimal parts 0..255 separated by '.', as
 *              inet_pton(AF_INET): no leading zeros ("01.2.3.4" refused),
 *              no short forms ("1.2.3"), no hex/octal.
 *   v6      := inet_pton(AF_INET6) text: no zone ("fe80::1%eth0" refused),
 *              no brackets. "::ffff:203.0.113.10" is the same value as
 *              "203.0.113.10".
 *   prefix  := addr [ "/" len ] | v4 "/" netmask
 *   len     := decimal, no sign, no leading zero; in the family of the
 *              text: 0..32 after v4 text, 0..128 after v6 text (so
 *              "::ffff:198.51.100.0/120" equals "198.51.100.0/24").
 *   netmask := dotted quad with contiguous ones (255.255.255.0);
 *              only after v4 text.
 *   mac     := six two-digit hex groups separated by all ':' or all '-',
 *              either case ("aa:BB:cc:dd:ee:ff", "aa-bb-cc-dd-ee-ff").
 *
 * Functions return 0 or -errno: -EINVAL for bad input, -ENOSPC when an
 * output buffer is too small (the buffer then holds an empty string when
 * len > 0). Booleans and conversions cannot fail.
 */
#ifndef BWE_ADDR_H
#define BWE_ADDR_H

#include <stdbool.h>
#include <stddef.h>

#include "bwe_abi.h"

#define BWE_ADDR_BITS	   128 /* bits in struct bwe_addr */
#define BWE_V4_BITS	   32
#define BWE_V4_MAPPED_PLEN 96 /* plen of ::ffff:0:0/96; IPv4 /n = 96 + n */
#define BWE_MAC_LEN	   6  /* bytes in an Ethernet address */
#define BWE_MAC_STRLEN	   18 /* "aa:bb:cc:dd:ee:ff" and NUL */
#define BWE_ADDR_STRLEN	   46 /* INET6_ADDRSTRLEN */
#define BWE_PREFIX_STRLEN  64 /* any address, "/", length, NUL */

struct bwe_prefix {
	struct bwe_addr addr; /* network byte order */
	__u8 plen;	      /* 0..128, mapped space: IPv4 /n = 96 + n */
	__u8 pad[3];	      /* zero */
};
_Static_assert(sizeof(struct bwe_prefix) == 20, "bwe_prefix size");

enum bwe_prefix_flag {
	/* accept host bits set under the mask, clearing them; else -EINVAL */
	BWE_PFX_HOSTBITS = 1,
	/* accept a /0 (either family); else -EINVAL */
	BWE_PFX_ZERO = 2,
};

/* True when a is IPv4-mapped (::ffff:a.b.c.d). */
bool bwe_addr_is_v4(const struct bwe_addr *a);
/* be_addr is an IPv4 address in network byte order. */
void bwe_addr_from_v4(__u32 be_addr, struct bwe_addr *out);
/* Network-order IPv4 of a mapped address (the low 32 bits of any address). */
__u32 bwe_addr_v4(const struct bwe_addr *a);

int bwe_addr_parse(const char *s, struct bwe_addr *out);
/* A host without "/len" gets plen 128 (IPv4: /32 = 96 + 32). */
int bwe_prefix_parse(const char *s, struct bwe_prefix *out, unsigned int flags);

/* IPv4 dotted quad for a mapped address, inet_ntop(AF_INET6) otherwise. */
int bwe_addr_fmt(const struct bwe_addr *a, char *buf, size_t len);
/*
 * "198.51.100.0/24", "2001:db8::/32"; hosts (IPv4 /32, IPv6 /128) print
 * without a length; an IPv4 prefix shows its IPv4 length (plen - 96).
 */
int bwe_prefix_fmt(const struct bwe_prefix *p, char *buf, size_t len);

/* Bits past plen are ignored on both sides; plen > 128 acts as 128. */
bool bwe_prefix_contains(const struct bwe_prefix *outer, const struct bwe_addr *a);
bool bwe_prefix_covers(const struct bwe_prefix *outer, const struct bwe_prefix *inner);
/* Order by address bytes, then length: <0, 0, >0 like memcmp. The order of
 * the daemon's feed vectors and of the feed worker's wire records. */
int bwe_prefix_cmp(const struct bwe_prefix *a, const struct bwe_prefix *b);
/* Clear the host bits (the bits past plen) and the padding. */
void bwe_prefix_mask(struct bwe_prefix *p);
/* IPv4: plen - 96; IPv6: plen. */
int bwe_prefix_family_len(const struct bwe_prefix *p);

/*
 * Split the inclusive range lo..hi into the minimal list of prefixes that
 * covers it exactly, in ascending order, calling cb for each. Both ends must
 * be of the same family (both mapped or both not) and lo <= hi. Returns 0,
 * -EINVAL, or the first non-zero value returned by cb (which stops the walk).
 */
int bwe_range_to_prefixes(const struct bwe_addr *lo, const struct bwe_addr *hi,
			  int (*cb)(const struct bwe_prefix *p, void *ctx), void *ctx);

int bwe_mac_parse(const char *s, __u8 mac[BWE_MAC_LEN]);
/* Lower case, colon separated: "aa:bb:cc:dd:ee:ff". */
int bwe_mac_fmt(const __u8 mac[BWE_MAC_LEN], char *buf, size_t len);

#endif /* BWE_ADDR_H */
