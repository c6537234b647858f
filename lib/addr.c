// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * addr.c - address, prefix and MAC helpers; grammar and contract in addr.h.
 *
 * Addresses are handled as 128-bit big-endian numbers held in their 16
 * bytes, so IPv4 (mapped) and IPv6 share every routine below.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "bwe_rules.h" /* the IPv4-mapped rule */
#include "units.h"

#define BITS_PER_BYTE	8
#define ADDR_BYTES	((int)sizeof(struct bwe_addr))
#define PLEN_MAX_DIGITS 3 /* "128" */
#define MAC_GROUP_CHARS 3 /* two hex digits and a separator */
#define MAC_TEXT_LEN	(BWE_MAC_LEN * MAC_GROUP_CHARS - 1)
#define HEX_DIGIT_BITS	4
#define DECIMAL_BASE	10

_Static_assert(BWE_ADDR_STRLEN >= INET6_ADDRSTRLEN, "BWE_ADDR_STRLEN");
_Static_assert(BWE_ADDR_BITS == ADDR_BYTES * BITS_PER_BYTE, "BWE_ADDR_BITS");

bool bwe_addr_is_v4(const struct bwe_addr *a)
{
	return bwe_addr_holds_v4(a);
}

void bwe_addr_from_v4(__u32 be_addr, struct bwe_addr *out)
{
	bwe_addr_set_v4(out, be_addr);
}

__u32 bwe_addr_v4(const struct bwe_addr *a)
{
	return a->w[3]; /* bwe_addr_set_v4()'s word */
}

/* A prefix is IPv4 when its address is mapped and it lies inside ::ffff:0:0/96. */
static bool prefix_is_v4(const struct bwe_prefix *p)
{
	return p->plen >= BWE_V4_MAPPED_PLEN && bwe_addr_is_v4(&p->addr);
}

int bwe_prefix_family_len(const struct bwe_prefix *p)
{
	return prefix_is_v4(p) ? p->plen - BWE_V4_MAPPED_PLEN : p->plen;
}

/* ---- 128-bit arithmetic on the address bytes ---------------------------- */

static int addr_cmp(const struct bwe_addr *x, const struct bwe_addr *y)
{
	return memcmp(x->a, y->a, sizeof(x->a));
}

/* Mask of the bits kept in byte i of an address under prefix length plen. */
static __u8 plen_byte_mask(unsigned int plen, int i)
{
	unsigned int lo = (unsigned int)i * BITS_PER_BYTE;

	if (plen >= lo + BITS_PER_BYTE)
		return 0xff;
	if (plen <= lo)
		return 0;
	return (__u8)(0xff << (BITS_PER_BYTE - (plen - lo)));
}

/* True when the low nbits bits of a are all zero. */
static bool low_bits_zero(const struct bwe_addr *a, unsigned int nbits)
{
	unsigned int plen = BWE_ADDR_BITS - nbits;

	for (int i = 0; i < ADDR_BYTES; i++)
		if (a->a[i] & (__u8)~plen_byte_mask(plen, i))
			return false;
	return true;
}

/* out = a with its low nbits bits set: the last address of the block. */
static void set_low_bits(const struct bwe_addr *a, unsigned int nbits, struct bwe_addr *out)
{
	unsigned int plen = BWE_ADDR_BITS - nbits;

	for (int i = 0; i < ADDR_BYTES; i++)
		out->a[i] = a->a[i] | (__u8)~plen_byte_mask(plen, i);
}

/* a += 1; the caller guarantees a is not the all-ones address. */
static void addr_inc(struct bwe_addr *a)
{
	for (int i = ADDR_BYTES - 1; i >= 0; i--)
		if (++a->a[i] != 0)
			break;
}

/* ---- prefixes ------------------------------------------------------------ */

void bwe_prefix_mask(struct bwe_prefix *p)
{
	for (int i = 0; i < ADDR_BYTES; i++)
		p->addr.a[i] &= plen_byte_mask(p->plen, i);
	memset(p->pad, 0, sizeof(p->pad));
}

bool bwe_prefix_contains(const struct bwe_prefix *outer, const struct bwe_addr *a)
{
	for (int i = 0; i < ADDR_BYTES; i++) {
		__u8 m = plen_byte_mask(outer->plen, i);

		if ((outer->addr.a[i] ^ a->a[i]) & m)
			return false;
	}
	return true;
}

bool bwe_prefix_covers(const struct bwe_prefix *outer, const struct bwe_prefix *inner)
{
	return outer->plen <= inner->plen && bwe_prefix_contains(outer, &inner->addr);
}

int bwe_prefix_cmp(const struct bwe_prefix *a, const struct bwe_prefix *b)
{
	int c = memcmp(&a->addr, &b->addr, sizeof(a->addr));

	return c ? c : (int)a->plen - (int)b->plen;
}

#define V4_PARTS    4
#define V4_PART_MAX 255

/*
 * Dotted-quad IPv4 read as inet_pton(AF_INET) reads it (glibc's
 * inet_pton4), with the same refusals: exactly four decimal parts, each
 * 0..255, no leading zero, no empty part, nothing else in s. Inline, since
 * the call took a tenth of a million-line feed's parse. Host byte order.
 */
static int v4_parse(const char *s, __u32 *host)
{
	unsigned int part = 0, parts = 0;
	bool digit = false; /* the current part has one */
	__u32 v = 0;

	for (; *s; s++) {
		if (*s >= '0' && *s <= '9') {
			if (digit && !part)
				return -EINVAL; /* a leading zero */
			part = part * DECIMAL_BASE + (unsigned int)(*s - '0');
			if (part > V4_PART_MAX)
				return -EINVAL;
			if (!digit && ++parts > V4_PARTS)
				return -EINVAL;
			digit = true;
		} else if (*s == '.' && digit && parts < V4_PARTS) {
			v = v << BITS_PER_BYTE | part;
			part = 0;
			digit = false;
		} else {
			return -EINVAL;
		}
	}
	if (parts < V4_PARTS || !digit)
		return -EINVAL;
	*host = v << BITS_PER_BYTE | part;
	return 0;
}

int bwe_addr_parse(const char *s, struct bwe_addr *out)
{
	struct in6_addr v6;
	__u32 v4;

	if (!s)
		return -EINVAL;
	/* inet_pton() consumes the whole string: no junk, no spaces, no zone */
	if (strchr(s, ':')) {
		if (inet_pton(AF_INET6, s, &v6) != 1)
			return -EINVAL;
		_Static_assert(sizeof(v6) == sizeof(out->a), "in6_addr size");
		memcpy(out->a, &v6, sizeof(out->a));
		return 0;
	}
	if (v4_parse(s, &v4))
		return -EINVAL;
	bwe_addr_from_v4(htonl(v4), out);
	return 0;
}

/* Decimal prefix length: digits only, no sign, no leading zero, <= max. */
static int plen_parse(const char *s, unsigned int max, unsigned int *out)
{
	unsigned int v = 0;
	size_t n = strlen(s);

	if (n == 0 || n > PLEN_MAX_DIGITS || (s[0] == '0' && n > 1))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -EINVAL;
		v = v * DECIMAL_BASE + (unsigned int)(s[i] - '0');
	}
	if (v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Dotted IPv4 netmask with contiguous leading ones -> its length. */
static int netmask_parse(const char *s, unsigned int *out)
{
	__u32 host, inv;

	if (v4_parse(s, &host))
		return -EINVAL;
	inv = ~host;
	if (inv & (inv + 1)) /* ones after a zero: not contiguous */
		return -EINVAL;
	*out = (unsigned int)__builtin_popcount(host);
	return 0;
}

int bwe_prefix_parse(const char *s, struct bwe_prefix *out, unsigned int flags)
{
	char abuf[BWE_ADDR_STRLEN];
	struct bwe_prefix p = { .plen = BWE_ADDR_BITS }, masked;
	const char *slash, *len_s;
	unsigned int flen;
	size_t alen;
	bool v4_text;
	int err;

	if (!s)
		return -EINVAL;
	slash = strchr(s, '/');
	if (!slash) {
		err = bwe_addr_parse(s, &p.addr);
		if (err)
			return err;
		*out = p;
		return 0;
	}

	alen = (size_t)(slash - s);
	if (alen >= sizeof(abuf))
		return -EINVAL;
	memcpy(abuf, s, alen);
	abuf[alen] = '\0';
	err = bwe_addr_parse(abuf, &p.addr);
	if (err)
		return err;

	/* the length counts in the family of the text that was written */
	v4_text = !strchr(abuf, ':');
	len_s = slash + 1;
	if (v4_text && strchr(len_s, '.'))
		err = netmask_parse(len_s, &flen);
	else
		err = plen_parse(len_s, v4_text ? BWE_V4_BITS : BWE_ADDR_BITS, &flen);
	if (err)
		return err;
	p.plen = (__u8)(v4_text ? BWE_V4_MAPPED_PLEN + flen : flen);

	masked = p;
	bwe_prefix_mask(&masked);
	if (memcmp(&masked, &p, sizeof(p)) != 0 && !(flags & BWE_PFX_HOSTBITS))
		return -EINVAL;
	if (bwe_prefix_family_len(&masked) == 0 && !(flags & BWE_PFX_ZERO))
		return -EINVAL;
	*out = masked;
	return 0;
}

/* Text of a as IPv4 (dotted) or IPv6, into a BWE_ADDR_STRLEN buffer. */
static void addr_text(const struct bwe_addr *a, bool v4, char tmp[BWE_ADDR_STRLEN])
{
	struct in_addr in4 = { .s_addr = bwe_addr_v4(a) };

	/* cannot fail: known family, buffer of INET6_ADDRSTRLEN */
	if (v4)
		inet_ntop(AF_INET, &in4, tmp, BWE_ADDR_STRLEN);
	else
		inet_ntop(AF_INET6, a->a, tmp, BWE_ADDR_STRLEN);
}

int bwe_addr_fmt(const struct bwe_addr *a, char *buf, size_t len)
{
	char tmp[BWE_ADDR_STRLEN];

	addr_text(a, bwe_addr_is_v4(a), tmp);
	return bwe_fmt_into(buf, len, "%s", tmp);
}

int bwe_prefix_fmt(const struct bwe_prefix *p, char *buf, size_t len)
{
	char tmp[BWE_ADDR_STRLEN];

	addr_text(&p->addr, prefix_is_v4(p), tmp);
	if (p->plen >= BWE_ADDR_BITS)
		return bwe_fmt_into(buf, len, "%s", tmp);
	return bwe_fmt_into(buf, len, "%s/%d", tmp, bwe_prefix_family_len(p));
}

/* ---- ranges -------------------------------------------------------------- */

int bwe_range_to_prefixes(const struct bwe_addr *lo, const struct bwe_addr *hi,
			  int (*cb)(const struct bwe_prefix *p, void *ctx), void *ctx)
{
	struct bwe_addr cur = *lo, end;
	int err;

	if (bwe_addr_is_v4(lo) != bwe_addr_is_v4(hi) || addr_cmp(lo, hi) > 0)
		return -EINVAL;

	/*
	 * Greedy from the low end: take the largest block that starts at cur
	 * (cur aligned to it) and ends at or before hi. This yields the
	 * minimal cover. A mapped cur has bit 32 set, so an IPv4 block never
	 * grows past /0 of the mapped space.
	 */
	for (;;) {
		struct bwe_prefix p = { .addr = cur };
		unsigned int k = 0; /* host bits of the block */

		while (k < BWE_ADDR_BITS && low_bits_zero(&cur, k + 1)) {
			set_low_bits(&cur, k + 1, &end);
			if (addr_cmp(&end, hi) > 0)
				break;
			k++;
		}
		p.plen = (__u8)(BWE_ADDR_BITS - k);
		err = cb(&p, ctx);
		if (err)
			return err;
		set_low_bits(&cur, k, &end);
		if (addr_cmp(&end, hi) == 0)
			return 0;
		cur = end;
		addr_inc(&cur); /* end < hi: cannot wrap */
	}
}

/* ---- MAC addresses ------------------------------------------------------- */

static int hex_val(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + DECIMAL_BASE;
	return -1;
}

int bwe_mac_parse(const char *s, __u8 mac[BWE_MAC_LEN])
{
	__u8 tmp[BWE_MAC_LEN];
	char sep;

	if (!s || strlen(s) != MAC_TEXT_LEN)
		return -EINVAL;
	sep = s[2];
	if (sep != ':' && sep != '-')
		return -EINVAL;
	for (int i = 0; i < BWE_MAC_LEN; i++) {
		const char *g = s + i * MAC_GROUP_CHARS;
		int hi = hex_val(g[0]), lo = hex_val(g[1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		if (i < BWE_MAC_LEN - 1 && g[2] != sep)
			return -EINVAL;
		tmp[i] = (__u8)(hi << HEX_DIGIT_BITS | lo);
	}
	memcpy(mac, tmp, sizeof(tmp));
	return 0;
}

int bwe_mac_fmt(const __u8 mac[BWE_MAC_LEN], char *buf, size_t len)
{
	return bwe_fmt_into(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
			    mac[3], mac[4], mac[5]);
}
