// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * feed_text.c - the line parsers of the text formats: plain (and FireHOL
 * netsets), Spamhaus DROP text, free-form (ranges, netmasks), domains (and
 * hosts files) and the Feodo Tracker CSV. feed_lines() in feed.c has
 * already split the body, trimmed the line and refused long lines and NUL
 * bytes; each function here sees one non-blank line.
 */
#include <errno.h>
#include <string.h>

#include "bwe_util.h"
#include "feed_impl.h"

#define BLANKS	     " \t\v\f\r"
#define COMMENTS     "#;" /* start a comment anywhere on a line */
#define SBL_PREFIX   "SBL"
#define CSV_ADDR_COL 2 /* Feodo: "first_seen_utc","dst_ip",... */
#define CSV_HEADER   "first_seen_utc"

/* Text before the first comment character, trimmed. */
static const char *entry_text(const char *s, size_t n, const char *stops, size_t *en)
{
	*en = feed_span_to(s, n, stops);
	return feed_trim(s, en);
}

/* An entry that must be exactly one address token. */
static int single_address(struct feed_run *r, const char *e, size_t en, const char *id,
			  const char *line, size_t n)
{
	if (feed_span_to(e, en, BLANKS) < en)
		return feed_reject(r, r->line, "unexpected text after the address", line, n);
	return feed_emit_token(r, e, en, id, line, n);
}

int feed_plain_line(struct feed_run *r, const char *s, size_t n)
{
	size_t en;
	const char *e = entry_text(s, n, COMMENTS, &en);

	return en ? single_address(r, e, en, NULL, s, n) : 0;
}

/* "SBL123" at the start of a comment -> r->id; NULL when it is not one. */
static const char *sbl_id(struct feed_run *r, const char *c, size_t cn)
{
	size_t pl = strlen(SBL_PREFIX), i = pl;

	c = feed_trim(c, &cn);
	if (cn <= pl || memcmp(c, SBL_PREFIX, pl))
		return NULL;
	while (i < cn && c[i] >= '0' && c[i] <= '9')
		i++;
	if (i == pl || i >= sizeof(r->id) || (i < cn && !strchr(BLANKS, c[i])))
		return NULL;
	memcpy(r->id, c, i);
	r->id[i] = '\0';
	return r->id;
}

int feed_spamhaus_line(struct feed_run *r, const char *s, size_t n)
{
	size_t semi = feed_span_to(s, n, ";"), en;
	const char *e = entry_text(s, semi, "#", &en);
	const char *id = NULL;

	if (!en)
		return 0;
	if (semi < n)
		id = sbl_id(r, s + semi + 1, n - semi - 1);
	return single_address(r, e, en, id, s, n);
}

/* ---- free-form: ranges ------------------------------------------------------ */

struct range_walk {
	struct feed_run *r;
	const char *why; /* first refused block (check pass) */
};

static int range_check_cb(const struct bwe_prefix *p, void *ctx)
{
	struct range_walk *w = ctx;

	w->why = feed_prefix_check(w->r, p);
	return w->why ? 1 : 0;
}

static int range_emit_cb(const struct bwe_prefix *p, void *ctx)
{
	struct range_walk *w = ctx;
	struct bwe_indicator ind = {
		.kind = BWE_IND_PREFIX,
		.pfx = *p,
		.line = w->r->line,
	};

	return feed_deliver(w->r, &ind);
}

/* "lo - hi" / "lo-hi": refused whole when any covering block is refused. */
static int range_line(struct feed_run *r, const char *e, size_t en, size_t dash, const char *line,
		      size_t n)
{
	struct range_walk w = { .r = r };
	size_t lon = dash, hin = en - dash - 1;
	const char *lo_s = feed_trim(e, &lon), *hi_s = feed_trim(e + dash + 1, &hin);
	struct bwe_prefix lo, hi;
	const char *why;

	if (feed_prefix_text(lo_s, lon, &lo, &why) || feed_prefix_text(hi_s, hin, &hi, &why))
		return feed_reject(r, r->line, why, line, n);
	if (lo.plen != BWE_ADDR_BITS || hi.plen != BWE_ADDR_BITS)
		return feed_reject(r, r->line, "range ends must be addresses", line, n);
	if (bwe_addr_is_v4(&lo.addr) != bwe_addr_is_v4(&hi.addr))
		return feed_reject(r, r->line, "range mixes IPv4 and IPv6", line, n);
	if (memcmp(&lo.addr, &hi.addr, sizeof(lo.addr)) > 0)
		return feed_reject(r, r->line, "range ends before it starts", line, n);
	/* both walks succeed on these ends: same family, lo <= hi */
	bwe_range_to_prefixes(&lo.addr, &hi.addr, range_check_cb, &w);
	if (w.why)
		return feed_reject(r, r->line, w.why, line, n);
	return bwe_range_to_prefixes(&lo.addr, &hi.addr, range_emit_cb, &w);
}

int feed_freeform_line(struct feed_run *r, const char *s, size_t n)
{
	size_t en, dash;
	const char *e = entry_text(s, n, COMMENTS, &en);

	if (!en)
		return 0;
	/* no address text holds a '-' (IPv6 neither), so a '-' is a range */
	dash = feed_span_to(e, en, "-");
	if (dash < en)
		return range_line(r, e, en, dash, s, n);
	return single_address(r, e, en, NULL, s, n);
}

/* ---- domains and hosts files ---------------------------------------------- */

/* Names of the stock /etc/hosts lines that hosts-format lists carry. */
static const char *const hosts_boilerplate[] = {
	"localhost",	 "localhost.localdomain", "local",	  "broadcasthost",
	"ip6-localhost", "ip6-loopback",	  "ip6-localnet", "ip6-mcastprefix",
	"ip6-allnodes",	 "ip6-allrouters",	  "ip6-allhosts", "0.0.0.0",
};

bool feed_hosts_boilerplate(const char *name, size_t n)
{
	for (size_t i = 0; i < ARRAY_SIZE(hosts_boilerplate); i++)
		if (strlen(hosts_boilerplate[i]) == n &&
		    feed_starts_with(name, n, hosts_boilerplate[i]))
			return true;
	return false;
}

static int emit_domain(struct feed_run *r)
{
	struct bwe_indicator ind = {
		.kind = BWE_IND_DOMAIN,
		.domain = r->domain,
		.line = r->line,
	};

	return feed_deliver(r, &ind);
}

/* The next blank-separated token of s[*pos..n); false at the end. */
static bool next_token(const char *s, size_t n, size_t *pos, const char **tok, size_t *tl)
{
	size_t i = *pos;

	while (i < n && strchr(BLANKS, s[i]))
		i++;
	if (i == n)
		return false;
	*tok = s + i;
	*tl = feed_span_to(s + i, n - i, BLANKS);
	*pos = i + *tl;
	return true;
}

/* "ADDR name..." of a hosts file: the address is the sink, names count. */
static int hosts_line(struct feed_run *r, const char *e, size_t en, const char *line, size_t n)
{
	struct bwe_prefix sink;
	const char *tok = e, *why;
	size_t pos = 0, tl = 0;
	int err;

	next_token(e, en, &pos, &tok, &tl);
	/* a zone ("fe80::1%lo0") is refused by the address parser: accept ':' */
	if ((feed_prefix_text(tok, tl, &sink, &why) || sink.plen != BWE_ADDR_BITS) &&
	    !memchr(tok, ':', tl))
		return feed_reject(r, r->line, "not a domain name", line, n);
	/* check every name first: a line is delivered whole or not at all */
	while (next_token(e, en, &pos, &tok, &tl))
		if (!feed_hosts_boilerplate(tok, tl) && feed_domain_norm(tok, tl, r->domain))
			return feed_reject(r, r->line, "not a domain name", line, n);
	pos = tl = 0;
	next_token(e, en, &pos, &tok, &tl);
	while (next_token(e, en, &pos, &tok, &tl)) {
		if (feed_hosts_boilerplate(tok, tl)) {
			r->st->skipped++;
			continue;
		}
		feed_domain_norm(tok, tl, r->domain);
		err = emit_domain(r);
		if (err)
			return err;
	}
	return 0;
}

int feed_domains_line(struct feed_run *r, const char *s, size_t n)
{
	struct bwe_prefix p;
	size_t en;
	const char *e = entry_text(s, n, COMMENTS, &en), *why;

	if (!en)
		return 0;
	if (feed_span_to(e, en, BLANKS) < en)
		return hosts_line(r, e, en, s, n);
	if (!feed_domain_norm(e, en, r->domain))
		return emit_domain(r);
	/* an address in a domain list is an indicator too (feed.h) */
	if (!feed_prefix_text(e, en, &p, &why))
		return feed_emit_prefix(r, &p, NULL, s, n);
	return feed_reject(r, r->line, "not a domain name", s, n);
}

/* ---- Feodo Tracker CSV ----------------------------------------------------- */

int feed_csv_field(const char *s, size_t n, unsigned int col, char *out, size_t cap)
{
	size_t i = 0;

	for (unsigned int c = 1;; c++) {
		bool want = c == col, full = false;
		size_t o = 0, j = i;

#define PUT(ch) \
	do { \
		if (want) { \
			if (o + 1 < cap) \
				out[o++] = (ch); \
			else \
				full = true; \
		} \
	} while (0)

		while (j < n && (s[j] == ' ' || s[j] == '\t'))
			j++;
		if (j < n && s[j] == '"') {
			for (i = j + 1;; i++) {
				if (i >= n)
					return -EINVAL; /* unterminated quote */
				if (s[i] == '"') {
					if (i + 1 < n && s[i + 1] == '"') {
						PUT('"');
						i++;
						continue;
					}
					break;
				}
				PUT(s[i]);
			}
			i++;
			while (i < n && (s[i] == ' ' || s[i] == '\t'))
				i++;
			if (i < n && s[i] != ',')
				return -EINVAL; /* text after the closing quote */
		} else {
			for (; i < n && s[i] != ','; i++)
				PUT(s[i]);
		}
#undef PUT
		if (want) {
			if (full || cap == 0)
				return -ENOSPC;
			out[o] = '\0';
			return 0;
		}
		if (i >= n)
			return -ENOENT;
		i++; /* the comma */
	}
}

int feed_csv_line(struct feed_run *r, const char *s, size_t n)
{
	char field[FEED_TOKEN_MAX];
	const char *v;
	size_t vn;
	int err;

	if (s[0] == '#')
		return 0;
	if (!feed_csv_field(s, n, 1, field, sizeof(field))) {
		vn = strlen(field);
		v = feed_trim(field, &vn);
		if (vn == strlen(CSV_HEADER) && feed_starts_with(v, vn, CSV_HEADER)) {
			r->st->skipped++;
			return 0;
		}
	}
	err = feed_csv_field(s, n, CSV_ADDR_COL, field, sizeof(field));
	if (err == -ENOENT)
		return feed_reject(r, r->line, "no field 2 (the address)", s, n);
	if (err == -EINVAL)
		return feed_reject(r, r->line, "bad CSV quoting", s, n);
	if (err)
		return feed_reject(r, r->line, "not an address", s, n);
	vn = strlen(field);
	v = feed_trim(field, &vn);
	return feed_emit_token(r, v, vn, NULL, s, n);
}
