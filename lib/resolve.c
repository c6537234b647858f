// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * resolve.c - address arguments and host name text; the contract is in
 * resolve.h.
 *
 * Literal addresses and CIDRs only (no I/O): MAC addresses and host names
 * are the daemon's to resolve (its neighbour view, its hosts file and its
 * sandboxed resolver). A token that looks like a mistyped address is
 * refused as such, so "10.0.0.300" is an error rather than a name that
 * happens to fail (or succeed) at a name server.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "resolve.h"

#define QUOTE_MAX	    64 /* bytes of an argument quoted in a reason */
#define MAC_SHAPE_LEN	    17 /* "aa:bb:cc:dd:ee:ff" */
#define MAC_SEP_STRIDE	    3  /* a separator every third character */
#define QUAD_LABELS	    4  /* a.b.c.d */
#define PLIST_MIN_CAP	    4
#define BWE_HOSTS_ADDRS_MAX 64 /* addresses of one name taken from a hosts file */

/* ---- reasons ------------------------------------------------------------- */

__attribute__((format(printf, 3, 4))) static void why_set(char *why, size_t whylen, const char *fmt,
							  ...)
{
	va_list ap;

	if (!why || !whylen)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

/*
 * The argument in double quotes for a message: control characters and
 * quotes shown as '?', long text cut with "...". The message may reach a
 * terminal, and the argument is untrusted text.
 */
static void quote_arg(const char *arg, char *buf, size_t len)
{
	size_t i, o = 0;

	if (len < sizeof("\"...\""))
		return;
	buf[o++] = '"';
	for (i = 0; arg[i] && o + sizeof("...\"") < len && i < QUOTE_MAX; i++) {
		unsigned char c = (unsigned char)arg[i];

		buf[o++] = (c < 0x20 || c == 0x7f || c == '"') ? '?' : (char)c;
	}
	if (arg[i]) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o++] = '"';
	buf[o] = '\0';
}

/* What an argument may be, for "... is not <kinds>". */
static const char *kinds_text(unsigned int flags)
{
	return flags & BWE_RES_CIDR_OK ? "an IPv4/IPv6 address or CIDR" : "an IPv4/IPv6 address";
}

/* ---- result list ----------------------------------------------------------- */

struct plist {
	struct bwe_prefix *v;
	size_t n, cap;
};

static int plist_add(struct plist *l, const struct bwe_prefix *p)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : PLIST_MIN_CAP;
		struct bwe_prefix *v = reallocarray(l->v, cap, sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *p;
	return 0;
}

static int prefix_cmp(const void *a, const void *b)
{
	const struct bwe_prefix *x = a, *y = b;
	bool x4 = bwe_addr_is_v4(&x->addr), y4 = bwe_addr_is_v4(&y->addr);
	int c;

	if (x4 != y4)
		return x4 ? -1 : 1;
	c = memcmp(x->addr.a, y->addr.a, sizeof(x->addr.a));
	return c ? c : (int)x->plen - (int)y->plen;
}

/* Sort, drop duplicates, hand over. Returns the count. */
static int plist_finish(struct plist *l, struct bwe_prefix **out)
{
	size_t i, n = 0;

	qsort(l->v, l->n, sizeof(*l->v), prefix_cmp);
	for (i = 0; i < l->n; i++)
		if (!n || prefix_cmp(&l->v[n - 1], &l->v[i]))
			l->v[n++] = l->v[i];
	*out = l->v;
	l->v = NULL;
	return (int)n;
}

/* ---- token shapes ---------------------------------------------------------- */

static bool all_digits(const char *s, size_t n)
{
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* "aa-bb-cc-dd-ee-fg": six groups and one separator kind, any content. */
static bool mac_shaped(const char *s)
{
	char sep;

	if (strlen(s) != MAC_SHAPE_LEN)
		return false;
	sep = s[2];
	if (sep != ':' && sep != '-')
		return false;
	for (size_t i = 2; i < MAC_SHAPE_LEN; i += MAC_SEP_STRIDE)
		if (s[i] != sep)
			return false;
	return true;
}

bool bwe_looks_like_address(const char *s)
{
	size_t labels = 0, numeric = 0;
	const char *p = s;

	if (strpbrk(s, ":/") || mac_shaped(s))
		return true;
	if (strspn(s, "0123456789.") == strlen(s))
		return true;
	/* a dotted quad with one bad part: "10.0.0.x1", "0x7f.0.0.1" */
	for (;;) {
		size_t n = strcspn(p, ".");

		labels++;
		numeric += all_digits(p, n);
		if (!p[n])
			break;
		p += n + 1;
	}
	return labels == QUAD_LABELS && numeric >= QUAD_LABELS - 1;
}

bool bwe_looks_like_hostname(const char *s)
{
	size_t len = strlen(s), i = 0;
	const char *last = s;

	if (len && s[len - 1] == '.')
		len--; /* fully qualified: "host.example." */
	if (!len || len > BWE_HOSTNAME_MAX)
		return false;
	while (i < len) {
		size_t n = 0;

		last = s + i;
		while (i + n < len && s[i + n] != '.') {
			unsigned char c = (unsigned char)s[i + n];

			if (!isalnum(c) && c != '-')
				return false;
			n++;
		}
		if (!n || n > BWE_LABEL_MAX || last[0] == '-' || last[n - 1] == '-')
			return false;
		i += n;
		if (i < len) {
			i++; /* the dot */
			if (i == len)
				return false; /* "a..": empty label */
		}
	}
	/* RFC 3696 2: a top-level label is never all digits */
	return !all_digits(last, (size_t)(s + len - last));
}

/* ---- literal addresses and CIDRs --------------------------------------------- */

/* "refusing /0: ..." for a /0 of either family. */
static void why_zero(char *why, size_t whylen, const char *q, const struct bwe_prefix *p)
{
	bool v4 = bwe_addr_is_v4(&p->addr) && p->plen >= BWE_V4_MAPPED_PLEN;

	why_set(why, whylen, "refusing /0: %s would cover every IPv%c address", q, v4 ? '4' : '6');
}

/* The address before the '/' parses, so the length is what is wrong. */
static bool bad_length_only(const char *arg)
{
	const char *slash = strchr(arg, '/');
	char head[BWE_ADDR_STRLEN];
	struct bwe_addr a;
	size_t n;

	if (!slash)
		return false;
	n = (size_t)(slash - arg);
	if (n >= sizeof(head))
		return false;
	memcpy(head, arg, n);
	head[n] = '\0';
	return bwe_addr_parse(head, &a) == 0;
}

static int resolve_literal(const char *arg, unsigned int flags, struct plist *l, char *why,
			   size_t whylen)
{
	char q[QUOTE_MAX + 8], net[BWE_PREFIX_STRLEN];
	struct bwe_prefix p, loose;

	quote_arg(arg, q, sizeof(q));
	if (bwe_prefix_parse(arg, &p, BWE_PFX_ZERO)) {
		if (!bwe_prefix_parse(arg, &loose, BWE_PFX_HOSTBITS | BWE_PFX_ZERO)) {
			/* well formed, but bits are set past the length */
			if (!bwe_prefix_family_len(&loose) && !(flags & BWE_RES_ZERO_OK)) {
				why_zero(why, whylen, q, &loose);
			} else {
				bwe_prefix_fmt(&loose, net, sizeof(net));
				why_set(why, whylen, "%s has host bits set (did you mean %s?)", q,
					net);
			}
		} else if (bad_length_only(arg)) {
			why_set(why, whylen,
				"%s has a bad prefix length (0..32 for IPv4, 0..128 for IPv6, or a netmask)",
				q);
		} else {
			why_set(why, whylen, "%s is not %s", q, kinds_text(flags));
		}
		return -EINVAL;
	}
	if (!bwe_prefix_family_len(&p) && !(flags & BWE_RES_ZERO_OK)) {
		why_zero(why, whylen, q, &p);
		return -EINVAL;
	}
	if (p.plen < BWE_ADDR_BITS && !(flags & BWE_RES_CIDR_OK)) {
		why_set(why, whylen, "%s is a network; give a single address", q);
		return -EINVAL;
	}
	return plist_add(l, &p);
}

/* ---- hosts(5) files ------------------------------------------------------------ */

/* Equal host names: case-blind, a final '.' on either side ignored. */
static bool same_name(const char *a, size_t alen, const char *b)
{
	size_t blen = strlen(b);

	if (alen && a[alen - 1] == '.')
		alen--;
	if (blen && b[blen - 1] == '.')
		blen--;
	return alen == blen && !strncasecmp(a, b, alen);
}

int bwe_hosts_file_lookup(const char *path, const char *name, struct bwe_addr *out, size_t max)
{
	struct bwe_addr v4[BWE_HOSTS_ADDRS_MAX], v6[BWE_HOSTS_ADDRS_MAX];
	size_t n4 = 0, n6 = 0, i, n = 0, total = 0;
	char line[1024];
	FILE *f = fopen(path, "re");
	int err = 0;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *hash = strchr(line, '#'), *tok, *save = NULL;
		struct bwe_addr a;

		total += strlen(line);
		if (total > BWE_HOSTS_FILE_MAX) {
			err = -EFBIG;
			break;
		}
		if (hash)
			*hash = '\0';
		tok = strtok_r(line, " \t\r\n", &save);
		if (!tok || bwe_addr_parse(tok, &a))
			continue;
		while ((tok = strtok_r(NULL, " \t\r\n", &save))) {
			if (!same_name(tok, strlen(tok), name))
				continue;
			if (bwe_addr_is_v4(&a) && n4 < BWE_HOSTS_ADDRS_MAX)
				v4[n4++] = a;
			else if (!bwe_addr_is_v4(&a) && n6 < BWE_HOSTS_ADDRS_MAX)
				v6[n6++] = a;
			break;
		}
	}
	fclose(f);
	if (err)
		return err;
	for (i = 0; i < n4 && n < max; i++)
		out[n++] = v4[i];
	for (i = 0; i < n6 && n < max; i++)
		out[n++] = v6[i];
	return (int)n;
}

/* ---- entry point ------------------------------------------------------------ */

int bwe_resolve_host(const char *arg, unsigned int flags, struct bwe_prefix **out, char *why,
		     size_t whylen)
{
	struct plist l = { 0 };
	char q[QUOTE_MAX + 8];
	__u8 mac[BWE_MAC_LEN];
	struct bwe_addr a;
	int err;

	*out = NULL;
	why_set(why, whylen, "%s", "");
	if (!arg) {
		why_set(why, whylen, "no address given");
		return -EINVAL;
	}
	quote_arg(arg, q, sizeof(q));

	if (strchr(arg, '/') || !bwe_addr_parse(arg, &a)) {
		err = resolve_literal(arg, flags, &l, why, whylen);
	} else if (!bwe_mac_parse(arg, mac)) {
		why_set(why, whylen, "%s is a MAC address, not %s", q, kinds_text(flags));
		err = -EINVAL;
	} else {
		why_set(why, whylen, "%s is not %s", q, kinds_text(flags));
		err = -EINVAL;
	}
	if (err) {
		if (err == -ENOMEM && why && whylen && !why[0])
			why_set(why, whylen, "out of memory");
		free(l.v);
		return err;
	}
	return plist_finish(&l, out);
}
