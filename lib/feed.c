// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * feed.c - the feed parser's entry point (contract in feed.h): format names,
 * HTML and format detection, the line splitter of the text formats, and the
 * checks every entry passes before it reaches the daemon. The format
 * parsers are feed_text.c (line formats), feed_zeek.c (Zeek intel files),
 * feed_json.c (Spamhaus JSON), feed_stix.c and feed_pattern.c (STIX).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bwe_util.h"
#include "config.h"
#include "feed.h"
#include "feed_impl.h"

#define UTF8_BOM	  "\xef\xbb\xbf"
#define UTF8_BOM_LEN	  3
#define DETECT_CSV_COMMAS 3 /* a Feodo row has five; fewer is not CSV */

static const char *const format_names[BWE_FMT_COUNT] = {
	[BWE_FMT_AUTO] = "auto",
	[BWE_FMT_PLAIN] = "plain",
	[BWE_FMT_SPAMHAUS] = "spamhaus",
	[BWE_FMT_SPAMHAUS_JSON] = "spamhaus-json",
	[BWE_FMT_FEODO_CSV] = "feodo-csv",
	[BWE_FMT_STIX] = "stix",
	[BWE_FMT_FREEFORM] = "freeform",
	[BWE_FMT_DOMAINS] = "domains",
	[BWE_FMT_ZEEK_INTEL] = "zeek-intel",
	[BWE_FMT_CROWDSEC] = "crowdsec-lapi",
	[BWE_FMT_TAXII] = "taxii",
	[BWE_FMT_MISP] = "misp",
};

/* Config aliases: a FireHOL netset is a plain list. */
static const struct {
	const char *name;
	enum bwe_feed_format fmt;
} format_aliases[] = {
	{ "netset", BWE_FMT_PLAIN },
};

int bwe_feed_format_parse(const char *name, enum bwe_feed_format *out)
{
	if (!name || !out)
		return -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(format_names); i++) {
		if (!strcmp(name, format_names[i])) {
			*out = (enum bwe_feed_format)i;
			return 0;
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(format_aliases); i++) {
		if (!strcmp(name, format_aliases[i].name)) {
			*out = format_aliases[i].fmt;
			return 0;
		}
	}
	return -EINVAL;
}

const char *bwe_feed_format_name(enum bwe_feed_format f)
{
	return (unsigned int)f < ARRAY_SIZE(format_names) ? format_names[f] : "?";
}

/* ---- small text helpers ---------------------------------------------------- */

bool feed_is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

const char *feed_trim(const char *s, size_t *n)
{
	size_t len = *n;

	while (len && feed_is_blank(*s)) {
		s++;
		len--;
	}
	while (len && feed_is_blank(s[len - 1]))
		len--;
	*n = len;
	return s;
}

/* A set of bytes, one bit each: a lookup per byte instead of strchr(). */
size_t feed_span_to(const char *s, size_t n, const char *stops)
{
	__u64 set[4] = { 0 }; /* NUL never in it: stops is a C string */

	for (; *stops; stops++)
		set[(unsigned char)*stops >> 6] |= 1ULL << ((unsigned char)*stops & 63);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (set[c >> 6] >> (c & 63) & 1)
			return i;
	}
	return n;
}

static char ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

bool feed_starts_with(const char *s, size_t n, const char *word)
{
	size_t wl = strlen(word);

	if (n < wl)
		return false;
	for (size_t i = 0; i < wl; i++)
		if (ascii_lower(s[i]) != ascii_lower(word[i]))
			return false;
	return true;
}

/* Case-insensitive search of word in s[0..n). */
static bool contains_word(const char *s, size_t n, const char *word)
{
	size_t wl = strlen(word);

	for (size_t i = 0; i + wl <= n; i++)
		if (feed_starts_with(s + i, n - i, word))
			return true;
	return false;
}

static const char *skip_bom(const char *buf, size_t *len)
{
	if (*len >= UTF8_BOM_LEN && !memcmp(buf, UTF8_BOM, UTF8_BOM_LEN)) {
		*len -= UTF8_BOM_LEN;
		return buf + UTF8_BOM_LEN;
	}
	return buf;
}

/* Skip blanks and newlines; the offset of the first other byte, or len. */
static size_t skip_space(const char *buf, size_t len)
{
	size_t i = 0;

	while (i < len && (feed_is_blank(buf[i]) || buf[i] == '\n'))
		i++;
	return i;
}

/* buf has had its BOM skipped. */
static bool body_is_html(const char *buf, size_t len)
{
	size_t i = skip_space(buf, len);
	size_t window = len < BWE_FEED_HTML_WINDOW ? len : BWE_FEED_HTML_WINDOW;

	if (feed_starts_with(buf + i, len - i, "<!doctype html") ||
	    feed_starts_with(buf + i, len - i, "<html"))
		return true;
	return contains_word(buf, window, "<html");
}

/* ---- entry checks -------------------------------------------------------- */

int feed_prefix_text(const char *s, size_t n, struct bwe_prefix *out, const char **reason)
{
	char tok[FEED_TOKEN_MAX];
	struct bwe_addr a;
	char *slash;

	*reason = "not an address";
	if (n == 0 || n >= sizeof(tok) || memchr(s, '\0', n))
		return -EINVAL;
	memcpy(tok, s, n);
	tok[n] = '\0';
	if (!bwe_prefix_parse(tok, out, BWE_PFX_HOSTBITS | BWE_PFX_ZERO))
		return 0;
	slash = strchr(tok, '/');
	if (slash) {
		*slash = '\0';
		if (!bwe_addr_parse(tok, &a))
			*reason = "bad prefix length or netmask";
	}
	return -EINVAL;
}

static bool prefix_is_v4(const struct bwe_prefix *p)
{
	return p->plen >= BWE_V4_MAPPED_PLEN && bwe_addr_is_v4(&p->addr);
}

const char *feed_prefix_check(struct feed_run *r, const struct bwe_prefix *p)
{
	static const struct bwe_prefix mapped_space = {
		.addr.a = { [10] = 0xff, [11] = 0xff },
		.plen = BWE_V4_MAPPED_PLEN,
	};
	static const struct bwe_addr zero_v4 = { .a = { [10] = 0xff, [11] = 0xff } };
	static const struct bwe_addr zero_v6;
	bool v4 = prefix_is_v4(p);
	int flen = bwe_prefix_family_len(p);
	int min = v4 ? r->min_plen_v4 : r->min_plen_v6;

	if (flen == 0)
		return "/0 prefix";
	if (p->plen == BWE_ADDR_BITS &&
	    !memcmp(&p->addr, v4 ? &zero_v4 : &zero_v6, sizeof(p->addr)))
		return "unspecified address";
	if (flen < min) {
		snprintf(r->reason, sizeof(r->reason), "broader than /%d", min);
		return r->reason;
	}
	/* e.g. ::/64: as a key of the mapped space it would hold all of IPv4 */
	if (!v4 && bwe_prefix_covers(p, &mapped_space))
		return "IPv6 prefix covers all IPv4-mapped addresses";
	return NULL;
}

int feed_domain_norm(const char *s, size_t n, char *out)
{
	size_t labels = 0, lab = 0;
	bool all_digits = true;
	char prev = '.';

	if (n && s[n - 1] == '.')
		n--;
	if (n == 0 || n > BWE_FEED_DOMAIN_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '.') {
			if (lab == 0 || prev == '-')
				return -EINVAL;
			labels++;
			lab = 0;
			all_digits = true;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			   (c >= '0' && c <= '9') || (c == '-' && lab > 0)) {
			if (++lab > BWE_FEED_LABEL_MAX)
				return -EINVAL;
			if (c < '0' || c > '9')
				all_digits = false;
		} else {
			return -EINVAL;
		}
		out[i] = ascii_lower(c);
		prev = c;
	}
	if (lab == 0 || prev == '-')
		return -EINVAL;
	labels++;
	/* one dot at least; an all-digit top label is an address look-alike */
	if (labels < 2 || all_digits)
		return -EINVAL;
	out[n] = '\0';
	return 0;
}

/* ---- reporting ------------------------------------------------------------- */

static void make_excerpt(char *out, const char *text, size_t n)
{
	if (n > BWE_FEED_EXCERPT_MAX)
		n = BWE_FEED_EXCERPT_MAX;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)text[i];

		out[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	out[n] = '\0';
}

int feed_reject(struct feed_run *r, __u32 line, const char *reason, const char *text, size_t n)
{
	struct bwe_feed_reject rej = { .line = line, .reason = reason };

	r->st->rejected++;
	if (!r->o->on_reject)
		return 0;
	make_excerpt(r->excerpt, text ? text : "", text ? n : 0);
	rej.excerpt = r->excerpt;
	r->o->on_reject(&rej, r->o->ctx);
	return 0;
}

int feed_deliver(struct feed_run *r, const struct bwe_indicator *ind)
{
	int ret = r->o->on_ind(ind, r->o->ctx);

	if (!ret)
		r->st->accepted++;
	return ret;
}

int feed_emit_prefix(struct feed_run *r, const struct bwe_prefix *p, const char *id,
		     const char *text, size_t n)
{
	struct bwe_indicator ind = {
		.kind = BWE_IND_PREFIX,
		.pfx = *p,
		.line = r->line,
		.id = id,
	};
	const char *why = feed_prefix_check(r, p);

	if (why)
		return feed_reject(r, r->line, why, text, n);
	bwe_prefix_mask(&ind.pfx);
	return feed_deliver(r, &ind);
}

int feed_emit_token(struct feed_run *r, const char *tok, size_t toklen, const char *id,
		    const char *line, size_t n)
{
	struct bwe_prefix p;
	const char *why;

	if (feed_prefix_text(tok, toklen, &p, &why))
		return feed_reject(r, r->line, why, line, n);
	return feed_emit_prefix(r, &p, id, line, n);
}

/* ---- lines --------------------------------------------------------------- */

static void count_line(struct feed_run *r)
{
	r->st->lines++;
	if (r->line < UINT32_MAX)
		r->line++;
}

int feed_lines(struct feed_run *r, const char *buf, size_t len, feed_line_fn fn)
{
	const char *p = buf, *end = buf + len;

	while (p < end) {
		const char *nl, *s;
		size_t n;
		int err;

		if (*p ==
		    '\n') { /* an empty line: counted, nothing else (a partial parse has a million) */
			count_line(r);
			p++;
			continue;
		}
		nl = memchr(p, '\n', (size_t)(end - p));
		s = p;
		n = (size_t)((nl ? nl : end) - p);
		p = nl ? nl + 1 : end;
		count_line(r);
		if (n > BWE_FEED_LINE_MAX) {
			s = feed_trim(s, &n); /* for the excerpt */
			snprintf(r->reason, sizeof(r->reason), "line longer than %d bytes",
				 BWE_FEED_LINE_MAX);
			feed_reject(r, r->line, r->reason, s, n);
			continue;
		}
		s = feed_trim(s, &n);
		if (memchr(s, '\0', n)) {
			feed_reject(r, r->line, "NUL byte in line", s, n);
			continue;
		}
		if (!n)
			continue;
		err = fn(r, s, n);
		if (err)
			return err;
	}
	return 0;
}

size_t feed_count_lines(const char *buf, size_t len)
{
	size_t lines = 0;
	const char *p = buf, *end = buf + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		lines++;
		p = nl ? nl + 1 : end;
	}
	return lines;
}

/* ---- detection ------------------------------------------------------------- */

struct detect_votes {
	unsigned int comments, data, addr, range, netmask, domain, hosts, csv;
	bool feodo_header, spamhaus, zeek;
};

/* "a - b" or "a-b" with two addresses of one family. */
static bool is_range(const char *s, size_t n)
{
	size_t dash = feed_span_to(s, n, "-");
	const char *lo, *hi;
	size_t lon = dash, hin;
	struct bwe_prefix a, b;
	const char *why;

	if (dash == n)
		return false;
	lo = feed_trim(s, &lon);
	hin = n - dash - 1;
	hi = feed_trim(s + dash + 1, &hin);
	return !feed_prefix_text(lo, lon, &a, &why) && a.plen == BWE_ADDR_BITS &&
	       !feed_prefix_text(hi, hin, &b, &why) && b.plen == BWE_ADDR_BITS;
}

static void detect_line(struct detect_votes *v, const char *s, size_t n)
{
	size_t cut, tl, rest_n;
	const char *rest, *why;
	struct bwe_prefix p;
	char dom[BWE_FEED_DOMAIN_MAX + 2], field[FEED_TOKEN_MAX];

	if (feed_starts_with(s, n, "\"first_seen_utc\"") ||
	    feed_starts_with(s, n, "first_seen_utc,")) {
		v->feodo_header = true;
		return;
	}
	if (s[0] == '#') {
		v->zeek |= feed_zeek_header(s, n);
		v->comments++;
		return;
	}
	if (s[0] == ';') {
		size_t cn = n - 1;
		const char *c = feed_trim(s + 1, &cn);

		v->spamhaus |= feed_starts_with(c, cn, "spamhaus");
		v->comments++;
		return;
	}
	v->data++;
	cut = feed_span_to(s, n, ";");
	if (cut < n) {
		size_t cn = n - cut - 1;
		const char *c = feed_trim(s + cut + 1, &cn);

		v->spamhaus |= feed_starts_with(c, cn, "sbl");
	}
	if (memchr(s, ',', n)) {
		unsigned int commas = 0;

		for (size_t i = 0; i < n; i++)
			commas += s[i] == ',';
		if (commas >= DETECT_CSV_COMMAS && !feed_csv_field(s, n, 2, field, sizeof(field)) &&
		    !feed_prefix_text(field, strlen(field), &p, &why))
			v->csv++;
		return;
	}
	n = cut < n ? cut : n;
	n = feed_span_to(s, n, "#");
	s = feed_trim(s, &n);
	if (!n)
		return;
	tl = feed_span_to(s, n, " \t\v\f\r");
	rest_n = n - tl;
	rest = feed_trim(s + tl, &rest_n);
	if (is_range(s, n)) {
		v->range++;
	} else if (!feed_prefix_text(s, tl, &p, &why)) {
		if (rest_n == 0) {
			const char *slash = memchr(s, '/', tl);

			v->addr++;
			v->netmask += slash && memchr(slash, '.', tl - (size_t)(slash - s));
		} else {
			size_t dl = feed_span_to(rest, rest_n, " \t\v\f\r");

			v->hosts += !feed_domain_norm(rest, dl, dom);
		}
	} else if (rest_n == 0 && !feed_domain_norm(s, tl, dom)) {
		v->domain++;
	}
}

/* t[0..n) starts with the JSON member key, a ':' and a value starting with value. */
static bool json_member_is(const char *t, size_t n, const char *key, const char *value)
{
	size_t k = strlen(key);

	if (!feed_starts_with(t, n, key))
		return false;
	k += skip_space(t + k, n - k);
	if (k >= n || t[k] != ':')
		return false;
	k++;
	k += skip_space(t + k, n - k);
	return feed_starts_with(t + k, n - k, value);
}

/* Detection of a body whose BOM has been skipped (once: a second is data). */
static enum bwe_feed_format detect_body(const char *buf, size_t len)
{
	struct detect_votes v = { 0 };
	size_t win, i;
	const char *p, *end;

	win = len < BWE_FEED_DETECT_WINDOW ? len : BWE_FEED_DETECT_WINDOW;
	i = skip_space(buf, win);
	if (i == win || body_is_html(buf, len))
		return BWE_FMT_AUTO;

	if (buf[i] == '{' || buf[i] == '[') {
		p = buf + i;
		end = buf + win;
		/*
		 * A bundle or an indicator says so, by its type or its id; every
		 * STIX 2.1 object has spec_version. STIX 2.0 objects have none, and
		 * a publisher writing keys in alphabetical order puts a bundle's
		 * "type" after all its objects, past the window: its "id" comes
		 * first, and so do the ids of the indicators inside.
		 */
		for (const char *t = p; t < end; t++) {
			size_t rest = (size_t)(end - t);

			if (*t != '"')
				continue;
			if (feed_starts_with(t, rest, "\"spec_version\"") ||
			    json_member_is(t, rest, "\"type\"", "\"bundle\"") ||
			    json_member_is(t, rest, "\"type\"", "\"indicator\"") ||
			    json_member_is(t, rest, "\"id\"", "\"bundle--") ||
			    json_member_is(t, rest, "\"id\"", "\"indicator--"))
				return BWE_FMT_STIX;
		}
		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t n = (size_t)((nl ? nl : end) - p);
			const char *s = feed_trim(p, &n);

			if (n && s[0] == '{' && contains_word(s, n, "\"cidr\""))
				return BWE_FMT_SPAMHAUS_JSON;
			p = nl ? nl + 1 : end;
		}
		return BWE_FMT_AUTO;
	}

	p = buf;
	end = buf + win;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n;
		const char *s;

		if (!nl && win < len)
			break; /* a line cut by the window says nothing */
		n = (size_t)((nl ? nl : end) - p);
		s = feed_trim(p, &n);
		p = nl ? nl + 1 : end;
		if (n && n <= BWE_FEED_LINE_MAX && !memchr(s, '\0', n))
			detect_line(&v, s, n);
	}
	if (v.zeek)
		return BWE_FMT_ZEEK_INTEL;
	if (v.feodo_header || v.csv)
		return BWE_FMT_FEODO_CSV;
	if (v.spamhaus)
		return BWE_FMT_SPAMHAUS;
	if (v.domain + v.hosts > v.addr + v.range)
		return BWE_FMT_DOMAINS;
	if (v.range + v.netmask)
		return BWE_FMT_FREEFORM;
	if (v.addr)
		return BWE_FMT_PLAIN;
	if (!v.data && v.comments)
		return BWE_FMT_PLAIN; /* an empty FireHOL set: header only */
	return BWE_FMT_AUTO;
}

enum bwe_feed_format bwe_feed_detect(const char *buf, size_t len)
{
	if (!buf)
		return BWE_FMT_AUTO;
	buf = skip_bom(buf, &len);
	return detect_body(buf, len);
}

/* ---- the reject guard ------------------------------------------------------ */

bool bwe_feed_reject_guard(const struct bwe_feed_stats *st, double max_share, size_t floor)
{
	size_t total = st->accepted + st->rejected;

	/* a version with nothing but refused lines is no feed at all: no floor */
	return total && (st->rejected >= floor || !st->accepted) &&
	       (double)st->rejected / (double)total > max_share;
}

/* ---- entry point ----------------------------------------------------------- */

static const feed_line_fn line_parsers[BWE_FMT_COUNT] = {
	[BWE_FMT_PLAIN] = feed_plain_line,     [BWE_FMT_SPAMHAUS] = feed_spamhaus_line,
	[BWE_FMT_FEODO_CSV] = feed_csv_line,   [BWE_FMT_FREEFORM] = feed_freeform_line,
	[BWE_FMT_DOMAINS] = feed_domains_line,
};

int bwe_feed_parse(const char *buf, size_t len, const struct bwe_feed_parse_opts *o,
		   struct bwe_feed_stats *st)
{
	struct bwe_feed_stats local;
	struct feed_run r = { .o = o };
	enum bwe_feed_format fmt;

	if (!st)
		st = &local;
	memset(st, 0, sizeof(*st));
	r.st = st;
	if (!o || !o->on_ind || (!buf && len) || (unsigned int)o->format >= BWE_FMT_COUNT ||
	    o->min_plen_v4 < 0 || o->min_plen_v4 > BWE_V4_BITS || o->min_plen_v6 < 0 ||
	    o->min_plen_v6 > BWE_ADDR_BITS)
		return -EINVAL;
	if (!buf)
		buf = "";
	r.min_plen_v4 = o->min_plen_v4 ? o->min_plen_v4 : BWE_FEED_MIN_PREFIX_V4;
	r.min_plen_v6 = o->min_plen_v6 ? o->min_plen_v6 : BWE_FEED_MIN_PREFIX_V6;
	r.now = o->now ? o->now : (__s64)time(NULL);
	st->format = o->format;

	if (o->first_line) { /* the rest of a body (feed.h) */
		if (o->format != BWE_FMT_PLAIN && o->format != BWE_FMT_SPAMHAUS &&
		    o->format != BWE_FMT_FREEFORM)
			return -EINVAL;
		r.line = o->first_line;
		return feed_lines(&r, buf, len, line_parsers[o->format]);
	}
	buf = skip_bom(buf, &len);
	if (body_is_html(buf, len))
		return -EBADMSG;
	if (skip_space(buf, len) == len) {
		st->lines = feed_count_lines(buf, len);
		return 0;
	}
	fmt = o->format;
	if (fmt == BWE_FMT_AUTO) {
		fmt = detect_body(buf, len);
		if (fmt == BWE_FMT_AUTO)
			return -EINVAL;
	}
	st->format = fmt;
	switch (fmt) {
	case BWE_FMT_SPAMHAUS_JSON:
		return feed_parse_spamhaus_json(&r, buf, len);
	case BWE_FMT_STIX:
		return feed_parse_stix(&r, buf, len);
	case BWE_FMT_ZEEK_INTEL:
		return feed_parse_zeek(&r, buf, len);
	case BWE_FMT_CROWDSEC:
		return feed_parse_crowdsec(&r, buf, len);
	case BWE_FMT_TAXII:
		return feed_parse_taxii(&r, buf, len);
	case BWE_FMT_MISP:
		return feed_parse_misp(&r, buf, len);
	default:
		return feed_lines(&r, buf, len, line_parsers[fmt]);
	}
}
