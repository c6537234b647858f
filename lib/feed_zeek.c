// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * feed_zeek.c - Zeek intel files (format zeek-intel), the input of Zeek's
 * Intel framework, as its ASCII reader reads them:
 *
 *   #separator \x09
 *   #empty_field	(empty)
 *   #unset_field	-
 *   #fields	indicator	indicator_type	meta.source	meta.desc
 *   192.0.2.10	Intel::ADDR	abuse.example	C2 server
 *   198.51.100.0/24	Intel::SUBNET	abuse.example	-
 *   c2.evil.example	Intel::DOMAIN	abuse.example	(empty)
 *   http://c2.evil.example/x	Intel::URL	abuse.example	-
 *
 * Fields are split at the separator (a tab unless "#separator" names
 * another byte as "\xHH" or itself); "#fields" names the columns, in any
 * order, and a later "#fields" line starts a new table (concatenated
 * files). Every other line starting with '#' is a comment (#path, #open,
 * #types, #set_separator, ...). A row is taken by its indicator_type:
 *   Intel::ADDR    one IPv4 or IPv6 address;
 *   Intel::SUBNET  a prefix (host bits masked, as everywhere);
 *   Intel::DOMAIN  a domain name (feed.h's rules, delivered lower case);
 *   other Intel::  (URL, EMAIL, FILE_HASH, SOFTWARE, ...) skipped: not
 *                  about addresses;
 * and refused when malformed: a row before any "#fields", a "#fields"
 * without indicator or indicator_type, a row without those columns, an
 * empty or unset indicator, a type that is not Intel::..., or a value that
 * is not one of its type. meta.source, when it is printable and short,
 * becomes the indicator's id (its provenance).
 */
#include <errno.h>
#include <string.h>

#include "feed_impl.h"

#define ZEEK_FIELDS    "#fields"
#define ZEEK_SEPARATOR "#separator"
#define ZEEK_EMPTY     "#empty_field"
#define ZEEK_UNSET     "#unset_field"
#define ZEEK_TYPE_PFX  "Intel::"
#define ZEEK_MARK_MAX  32 /* bytes of an empty or unset marker */
#define ZEEK_DEF_SEP   '\t'
#define ZEEK_DEF_EMPTY "(empty)"
#define ZEEK_DEF_UNSET "-"
#define ZEEK_NO_COLUMN (-1)
#define HEX_ESCAPE_LEN 4 /* "\xHH" */

struct zeek {
	char sep;
	bool have_fields;		       /* a #fields line was read */
	int col_ind, col_type, col_src, ncols; /* 0-based columns, ZEEK_NO_COLUMN if absent */
	char empty[ZEEK_MARK_MAX], unset[ZEEK_MARK_MAX];
};

/* The next field of s[*pos..n) split at sep; false past the last. */
static bool next_field(const char *s, size_t n, char sep, size_t *pos, const char **f, size_t *fn)
{
	size_t i = *pos;

	if (i > n)
		return false;
	*f = s + i;
	while (i < n && s[i] != sep)
		i++;
	*fn = i - (size_t)(*f - s);
	*pos = i + 1;
	return true;
}

/* A byte of a header word: "#fieldsx" is not "#fields". */
static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

/* s[0..n) starts with word (case-sensitive, never reading past n). */
static bool has_prefix(const char *s, size_t n, const char *word)
{
	size_t wl = strlen(word);

	return n >= wl && !memcmp(s, word, wl);
}

static bool field_is(const char *f, size_t fn, const char *word)
{
	return fn == strlen(word) && !memcmp(f, word, fn);
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "#separator \x09" (or one literal byte); -EINVAL when it names none. */
static int separator_line(struct zeek *z, const char *s, size_t n)
{
	size_t vn = n - strlen(ZEEK_SEPARATOR);
	const char *v = feed_trim(s + strlen(ZEEK_SEPARATOR), &vn);

	if (vn == HEX_ESCAPE_LEN && v[0] == '\\' && v[1] == 'x' && hex_digit(v[2]) >= 0 &&
	    hex_digit(v[3]) >= 0) {
		z->sep = (char)(hex_digit(v[2]) * 16 + hex_digit(v[3]));
	} else if (vn == 1) {
		z->sep = v[0];
	} else {
		return -EINVAL;
	}
	/* a separator that is a line end or a NUL splits nothing */
	return z->sep == '\n' || z->sep == '\0' ? -EINVAL : 0;
}

/* "#empty_field<sep>(empty)", "#unset_field<sep>-": the marker into out. */
static int marker_line(const struct zeek *z, const char *s, size_t n, const char *key, char *out)
{
	size_t pos = strlen(key), fn;
	const char *f;

	if (pos >= n || s[pos] != z->sep)
		return -EINVAL;
	pos++;
	if (!next_field(s, n, z->sep, &pos, &f, &fn) || fn == 0 || fn >= ZEEK_MARK_MAX || pos <= n)
		return -EINVAL;
	memcpy(out, f, fn);
	out[fn] = '\0';
	return 0;
}

/* "#fields<sep>name<sep>name...": the columns of the rows that follow. */
static int fields_line(struct zeek *z, const char *s, size_t n)
{
	size_t pos = strlen(ZEEK_FIELDS), fn;
	const char *f;
	int col = 0;

	z->have_fields = true;
	z->col_ind = z->col_type = z->col_src = ZEEK_NO_COLUMN;
	z->ncols = 0;
	if (pos >= n || s[pos] != z->sep)
		return -EINVAL;
	pos++;
	while (next_field(s, n, z->sep, &pos, &f, &fn)) {
		if (field_is(f, fn, "indicator"))
			z->col_ind = col;
		else if (field_is(f, fn, "indicator_type"))
			z->col_type = col;
		else if (field_is(f, fn, "meta.source"))
			z->col_src = col;
		col++;
	}
	z->ncols = col;
	return z->col_ind == ZEEK_NO_COLUMN || z->col_type == ZEEK_NO_COLUMN ? -EINVAL : 0;
}

/* meta.source as an id: printable ASCII, 1..FEED_ID_MAX - 1 bytes, not a marker. */
static const char *source_id(struct feed_run *r, const struct zeek *z, const char *f, size_t fn)
{
	if (!f || fn == 0 || fn >= sizeof(r->id) || field_is(f, fn, z->empty) ||
	    field_is(f, fn, z->unset))
		return NULL;
	for (size_t i = 0; i < fn; i++)
		if (f[i] < 0x20 || f[i] >= 0x7f)
			return NULL;
	memcpy(r->id, f, fn);
	r->id[fn] = '\0';
	return r->id;
}

static int emit_domain(struct feed_run *r, const char *id)
{
	struct bwe_indicator ind = {
		.kind = BWE_IND_DOMAIN,
		.domain = r->domain,
		.line = r->line,
		.id = id,
	};

	return feed_deliver(r, &ind);
}

static int zeek_row(struct feed_run *r, struct zeek *z, const char *s, size_t n)
{
	const char *ind = NULL, *type = NULL, *src = NULL, *f, *why;
	size_t indn = 0, typen = 0, srcn = 0, fn, pos = 0;
	struct bwe_prefix p;
	const char *id;
	int col = 0;

	if (!z->have_fields)
		return feed_reject(r, r->line, "zeek-intel: a row before the #fields header", s, n);
	if (z->col_ind == ZEEK_NO_COLUMN || z->col_type == ZEEK_NO_COLUMN)
		return feed_reject(r, r->line, "zeek-intel: no usable #fields header", s, n);
	while (next_field(s, n, z->sep, &pos, &f, &fn)) {
		if (col == z->col_ind) {
			ind = f;
			indn = fn;
		} else if (col == z->col_type) {
			type = f;
			typen = fn;
		} else if (col == z->col_src) {
			src = f;
			srcn = fn;
		}
		col++;
	}
	if (!ind || !type)
		return feed_reject(r, r->line, "zeek-intel: fewer fields than the #fields header",
				   s, n);
	if (typen <= strlen(ZEEK_TYPE_PFX) || memcmp(type, ZEEK_TYPE_PFX, strlen(ZEEK_TYPE_PFX)))
		return feed_reject(r, r->line, "zeek-intel: indicator_type is not Intel::...", s,
				   n);
	if (!field_is(type, typen, "Intel::ADDR") && !field_is(type, typen, "Intel::SUBNET") &&
	    !field_is(type, typen, "Intel::DOMAIN")) {
		r->st->skipped++; /* URL, EMAIL, FILE_HASH, ...: not about addresses */
		return 0;
	}
	if (indn == 0 || field_is(ind, indn, z->empty) || field_is(ind, indn, z->unset))
		return feed_reject(r, r->line, "zeek-intel: empty or unset indicator", s, n);
	id = source_id(r, z, src, srcn);
	if (field_is(type, typen, "Intel::DOMAIN")) {
		if (feed_domain_norm(ind, indn, r->domain))
			return feed_reject(r, r->line, "not a domain name", s, n);
		return emit_domain(r, id);
	}
	if (feed_prefix_text(ind, indn, &p, &why))
		return feed_reject(r, r->line, why, s, n);
	if (field_is(type, typen, "Intel::ADDR") &&
	    (p.plen != BWE_ADDR_BITS || memchr(ind, '/', indn)))
		return feed_reject(r, r->line, "zeek-intel: Intel::ADDR is not one address", s, n);
	return feed_emit_prefix(r, &p, id, s, n);
}

static int zeek_line(struct feed_run *r, const char *s, size_t n)
{
	struct zeek *z = r->fmt;

	if (s[0] != '#')
		return zeek_row(r, z, s, n);
	if (has_prefix(s, n, ZEEK_SEPARATOR) && n > strlen(ZEEK_SEPARATOR) &&
	    feed_is_blank(s[strlen(ZEEK_SEPARATOR)])) {
		if (separator_line(z, s, n))
			return feed_reject(r, r->line, "zeek-intel: bad #separator", s, n);
		return 0;
	}
	if (has_prefix(s, n, ZEEK_EMPTY) && n > strlen(ZEEK_EMPTY) &&
	    marker_line(z, s, n, ZEEK_EMPTY, z->empty))
		return feed_reject(r, r->line, "zeek-intel: bad #empty_field", s, n);
	if (has_prefix(s, n, ZEEK_UNSET) && n > strlen(ZEEK_UNSET) &&
	    marker_line(z, s, n, ZEEK_UNSET, z->unset))
		return feed_reject(r, r->line, "zeek-intel: bad #unset_field", s, n);
	if (has_prefix(s, n, ZEEK_FIELDS) &&
	    (n == strlen(ZEEK_FIELDS) || !is_name_char(s[strlen(ZEEK_FIELDS)])) &&
	    fields_line(z, s, n))
		return feed_reject(r, r->line,
				   "zeek-intel: #fields must name indicator and indicator_type, "
				   "split by the separator",
				   s, n);
	return 0; /* #path, #open, #types, #set_separator, a comment */
}

int feed_parse_zeek(struct feed_run *r, const char *buf, size_t len)
{
	struct zeek z = {
		.sep = ZEEK_DEF_SEP,
		.col_ind = ZEEK_NO_COLUMN,
		.col_type = ZEEK_NO_COLUMN,
		.col_src = ZEEK_NO_COLUMN,
		.empty = ZEEK_DEF_EMPTY,
		.unset = ZEEK_DEF_UNSET,
	};

	r->fmt = &z;
	return feed_lines(r, buf, len, zeek_line);
}

bool feed_zeek_header(const char *s, size_t n)
{
	size_t fl = strlen(ZEEK_FIELDS);

	if (n <= fl || !has_prefix(s, n, ZEEK_FIELDS) || is_name_char(s[fl]))
		return false;
	for (size_t i = fl; i + strlen("indicator_type") <= n; i++)
		if (!memcmp(s + i, "indicator_type", strlen("indicator_type")))
			return true;
	return false;
}
