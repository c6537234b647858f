// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * feed_pattern.c - STIX 2.0/2.1 patterning (the "pattern" of an indicator
 * whose pattern_type is stix), read as a blocklist loader needs it. The
 * whole grammar of the specification is parsed, so that a pattern is
 * either refused as malformed or understood:
 *
 *   pattern  := fby
 *   fby      := obs_or ( "FOLLOWEDBY" obs_or )*
 *   obs_or   := obs_and ( "OR" obs_and )*
 *   obs_and  := obs_q ( "AND" obs_q )*
 *   obs_q    := obs ( "WITHIN" num "SECONDS" | "REPEATS" int "TIMES"
 *                   | "START" t'..' "STOP" t'..' )*
 *   obs      := "[" cexpr "]" | "(" fby ")"
 *   cexpr    := cand ( "OR" cand )*
 *   cand     := ctest ( "AND" ctest )*
 *   ctest    := "(" cexpr ")" | path ["NOT"] op value
 *   path     := type ":" (ident | 'string') ( "." (ident | 'string') | "[" int|"*" "]" )*
 *
 * Tokens as the specification's grammar has them: keywords in capitals;
 * EQ is "=" or "==", NEQ "!=" or "<>"; strings in single quotes whose only
 * escapes are \' and \\ ('evil\.example' is malformed, not evil.example);
 * integers without leading zeros, floats, h'hex', b'base64', t'timestamp'
 * (UTC, "Z"), true and false; white space, /＊ … ＊/ and // comments between
 * tokens. A pattern that does not follow the grammar is refused whole
 * (err), and nothing of it is enforced.
 *
 * What a valid pattern yields. Its top-level OR branches (observations and
 * comparisons alike, through parentheses) are judged one by one:
 *  - a branch that names no address path yields nothing (a file hash, a
 *    process, a port on its own); a pattern none of whose branches names
 *    an address is not about addresses at all (addr false: the caller
 *    skips the indicator);
 *  - an address comparison ipv4-addr:value, ipv6-addr:value,
 *    domain-name:value, network-traffic:dst_ref.value or src_ref.value
 *    (the refs name an address or a domain-name object) with "=", "==",
 *    IN, or ISSUBSET (addresses only) yields its values; each value that
 *    is not well formed for its object, or that the loader's floor refuses
 *    (/0, broader than min_prefix), is a refused branch of its own, with
 *    its reason, and the other values stand;
 *  - an address comparison ANDed with comparisons that name no address
 *    (a port, a protocol, an HTTP method) yields its values: blocking the
 *    address is broader than the pattern but names nothing else;
 *  - a branch that names an address but cannot be enforced as a blocklist
 *    is one refused branch with its reason: NOT, "!=", ordering, LIKE,
 *    MATCHES, ISSUPERSET on an address path, AND of two address
 *    comparisons (which one is the bad party is unknowable), AND and
 *    FOLLOWEDBY between observations, and qualifiers (WITHIN, REPEATS,
 *    START/STOP) on an observation that names an address.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bwe_util.h"
#include "feed_impl.h"

#define PATTERN_DEPTH_MAX 32			    /* nested parentheses and brackets */
#define NAME_SHOWN_MAX	  64			    /* bytes of a path or word quoted in a reason */
#define VALUE_MAX	  (BWE_FEED_DOMAIN_MAX + 2) /* bytes of an unescaped address value */
#define PATH_MAX_LEN	  64			    /* bytes of a path worth classifying */
#define GROW_FIRST	  16			    /* elements of a first allocation */
#define TS_LEN		  20			    /* "YYYY-MM-DDTHH:MM:SSZ" */

static const char out_of_memory[] = "out of memory";

/* ---- storage ----------------------------------------------------------------- */

/* Room for need elements of elem bytes in *buf (realloc'ed); false when out of memory. */
static bool grow(void **buf, size_t *cap, size_t need, size_t elem)
{
	size_t ncap = *cap ? *cap : GROW_FIRST;
	void *nb;

	if (need <= *cap)
		return true;
	while (ncap < need)
		ncap *= 2;
	nb = realloc(*buf, ncap * elem);
	if (!nb)
		return false;
	*buf = nb;
	*cap = ncap;
	return true;
}

/* Copy s[0..n) and a NUL into the text arena; its offset, or SIZE_MAX. */
static size_t put_text(struct feed_pattern *pt, const char *s, size_t n)
{
	size_t off = pt->nt;

	if (!grow((void **)&pt->text, &pt->capt, pt->nt + n + 1, 1))
		return SIZE_MAX;
	memcpy(pt->text + off, s, n);
	pt->text[off + n] = '\0';
	pt->nt += n + 1;
	return off;
}

void feed_pattern_free(struct feed_pattern *pt)
{
	free(pt->v);
	free(pt->rej);
	free(pt->text);
	memset(pt, 0, sizeof(*pt));
}

/* ---- lexer ---------------------------------------------------------------------- */

enum tok_kind {
	T_END,
	T_LBRACK,
	T_RBRACK,
	T_LPAREN,
	T_RPAREN,
	T_COMMA,
	T_COLON,
	T_DOT,
	T_STAR,
	T_EQ,	  /* = == */
	T_NEQ,	  /* != <> */
	T_ORD,	  /* < <= > >= */
	T_STRING, /* 'text': s, n between the quotes, escapes kept */
	T_INT,
	T_FLOAT,
	T_HEX,
	T_BIN,
	T_TIME,
	T_BOOL,
	T_IDENT,
	T_KW,
	T_BAD, /* bad: why */
};

enum keyword {
	K_AND,
	K_OR,
	K_NOT,
	K_FOLLOWEDBY,
	K_LIKE,
	K_MATCHES,
	K_ISSUPERSET,
	K_ISSUBSET,
	K_IN,
	K_START,
	K_STOP,
	K_SECONDS,
	K_WITHIN,
	K_REPEATS,
	K_TIMES,
	K_EXISTS,
};

static const char *const keywords[] = {
	[K_AND] = "AND",
	[K_OR] = "OR",
	[K_NOT] = "NOT",
	[K_FOLLOWEDBY] = "FOLLOWEDBY",
	[K_LIKE] = "LIKE",
	[K_MATCHES] = "MATCHES",
	[K_ISSUPERSET] = "ISSUPERSET",
	[K_ISSUBSET] = "ISSUBSET",
	[K_IN] = "IN",
	[K_START] = "START",
	[K_STOP] = "STOP",
	[K_SECONDS] = "SECONDS",
	[K_WITHIN] = "WITHIN",
	[K_REPEATS] = "REPEATS",
	[K_TIMES] = "TIMES",
	[K_EXISTS] = "EXISTS",
};

struct tok {
	enum tok_kind k;
	enum keyword kw; /* T_KW */
	const char *s;
	size_t n;
	bool hyphen;	 /* T_IDENT holds a '-' (an object type may, a property not) */
	bool negative;	 /* T_INT, T_FLOAT with a '-' sign */
	const char *why; /* T_BAD */
};

struct pp {
	struct feed_pattern *pt;
	struct feed_run *r;
	const char *s;
	size_t n, pos;
	struct tok t;
	int depth;
	bool v21;	 /* STIX 2.1 rules (the indicator says spec_version 2.1) */
	const char *err; /* the pattern is malformed: static text or r->reason */
};

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_b64(char c)
{
	return is_alpha(c) ? c != '_' : is_digit(c) || c == '+' || c == '/';
}

/* Length of a UTF-8 white space character the grammar skips at s[0..n), or 0. */
static size_t unicode_space(const unsigned char *s, size_t n)
{
	if (n >= 2 && s[0] == 0xc2 && (s[1] == 0x85 || s[1] == 0xa0))
		return 2; /* U+0085, U+00A0 */
	if (n < 3)
		return 0;
	if ((s[0] == 0xe1 && s[1] == 0x9a && s[2] == 0x80) ||			/* U+1680 */
	    (s[0] == 0xe2 && s[1] == 0x80 && s[2] >= 0x80 && s[2] <= 0x8a) ||	/* U+2000-200A */
	    (s[0] == 0xe2 && s[1] == 0x80 && (s[2] == 0xa8 || s[2] == 0xa9)) || /* U+2028-9 */
	    (s[0] == 0xe2 && s[1] == 0x80 && s[2] == 0xaf) ||			/* U+202F */
	    (s[0] == 0xe2 && s[1] == 0x81 && s[2] == 0x9f) ||			/* U+205F */
	    (s[0] == 0xe3 && s[1] == 0x80 && s[2] == 0x80))			/* U+3000 */
		return 3;
	return 0;
}

/* Skip white space and comments from i; the next index, or SIZE_MAX (unterminated comment). */
static size_t skip_space(const char *s, size_t n, size_t i)
{
	while (i < n) {
		size_t u = unicode_space((const unsigned char *)s + i, n - i);

		if (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n' || s[i] == '\v' ||
		    s[i] == '\f') {
			i++;
		} else if (u) {
			i += u;
		} else if (s[i] == '/' && i + 1 < n && s[i + 1] == '*') {
			const char *end = NULL;

			for (size_t j = i + 2; j + 1 < n; j++)
				if (s[j] == '*' && s[j + 1] == '/') {
					end = s + j;
					break;
				}
			if (!end)
				return SIZE_MAX;
			i = (size_t)(end - s) + 2;
		} else if (s[i] == '/' && i + 1 < n && s[i + 1] == '/') {
			while (i < n && s[i] != '\r' && s[i] != '\n')
				i++;
		} else {
			break;
		}
	}
	return i;
}

/* A string whose quote is at s[i]: the index after it, 0 when malformed (*why). */
static size_t lex_string(const char *s, size_t n, size_t i, const char **why)
{
	for (i++; i < n; i++) {
		if (s[i] == '\\') {
			if (i + 1 < n && (s[i + 1] == '\'' || s[i + 1] == '\\')) {
				i++;
				continue;
			}
			*why = "pattern: escape other than \\' or \\\\ in a string";
			return 0;
		}
		if (s[i] == '\'')
			return i + 1;
	}
	*why = "pattern: unterminated string";
	return 0;
}

/* t'YYYY-MM-DDTHH:MM:SS[.f+]Z' body s[0..n) within the grammar's ranges. */
static bool timestamp_ok(const char *s, size_t n)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd";
	size_t i;

	if (n < TS_LEN || s[n - 1] != 'Z')
		return false;
	for (i = 0; i < sizeof(shape) - 1; i++)
		if (shape[i] == 'd' ? !is_digit(s[i]) : s[i] != shape[i])
			return false;
	if (i < n - 1) {
		if (s[i++] != '.' || i == n - 1)
			return false;
		for (; i < n - 1; i++)
			if (!is_digit(s[i]))
				return false;
	}
#define TWO(o) ((s[o] - '0') * 10 + (s[(o) + 1] - '0'))
	return TWO(5) >= 1 && TWO(5) <= 12 && TWO(8) >= 1 && TWO(8) <= 31 && TWO(11) <= 23 &&
	       TWO(14) <= 59 && TWO(17) <= 60;
#undef TWO
}

/* b'..': groups of four base64 characters, the last with optional '=' padding. */
static bool base64_ok(const char *s, size_t n)
{
	if (n == 0 || n % 4)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (is_b64(s[i]))
			continue;
		if (s[i] != '=' || i < n - 2 || (i == n - 2 && s[n - 1] != '='))
			return false;
	}
	return true;
}

/* A number at s[i] ('+', '-', '.' or a digit); 0 when none starts there. */
static size_t lex_number(struct tok *t, const char *s, size_t n, size_t i)
{
	size_t j = i, d;

	t->negative = s[j] == '-';
	if (s[j] == '+' || s[j] == '-')
		j++;
	d = j;
	while (j < n && is_digit(s[j]))
		j++;
	if (j + 1 < n && s[j] == '.' && is_digit(s[j + 1])) {
		for (j++; j < n && is_digit(s[j]);)
			j++;
		t->k = T_FLOAT;
		return j;
	}
	if (j == d)
		return 0;
	t->k = T_INT;
	return s[d] == '0' ? d + 1 : j; /* no leading zeros: "01" is two tokens */
}

static void lex(struct pp *p)
{
	const char *s = p->s;
	size_t n = p->n, i = skip_space(s, n, p->pos), e;
	struct tok *t = &p->t;

	*t = (struct tok){ .k = T_END, .s = s + (i == SIZE_MAX ? n : i) };
	if (i == SIZE_MAX) {
		t->k = T_BAD;
		t->why = "pattern: unterminated comment";
		p->pos = n;
		return;
	}
	if (i == n) {
		p->pos = n;
		return;
	}
	e = i + 1;
	switch (s[i]) {
	case '[':
		t->k = T_LBRACK;
		break;
	case ']':
		t->k = T_RBRACK;
		break;
	case '(':
		t->k = T_LPAREN;
		break;
	case ')':
		t->k = T_RPAREN;
		break;
	case ',':
		t->k = T_COMMA;
		break;
	case ':':
		t->k = T_COLON;
		break;
	case '*':
		t->k = T_STAR;
		break;
	case '=':
		t->k = T_EQ;
		e += e < n && s[e] == '=';
		break;
	case '!':
		t->k = e < n && s[e] == '=' ? T_NEQ : T_BAD;
		e++;
		break;
	case '<':
		t->k = e < n && s[e] == '>' ? T_NEQ : T_ORD;
		e += e < n && (s[e] == '=' || s[e] == '>');
		break;
	case '>':
		t->k = T_ORD;
		e += e < n && s[e] == '=';
		break;
	case '\'':
		e = lex_string(s, n, i, &t->why);
		if (!e) {
			t->k = T_BAD;
			e = n;
			break;
		}
		t->k = T_STRING;
		t->s = s + i + 1;
		t->n = e - i - 2;
		p->pos = e;
		return;
	default:
		if (s[i] == '.' && !(e < n && is_digit(s[e]))) {
			t->k = T_DOT;
			break;
		}
		if (s[i] == '+' || s[i] == '-' || s[i] == '.' || is_digit(s[i])) {
			e = lex_number(t, s, n, i);
			if (!e) {
				t->k = T_BAD;
				e = i + 1;
			}
			break;
		}
		if (!is_alpha(s[i])) {
			t->k = T_BAD;
			break;
		}
		if (e < n && s[e] == '\'' && strchr("hbt", s[i])) {
			/* h'..', b'..', t'..': a literal, or nothing the grammar knows */
			size_t q = lex_string(s, n, e, &t->why);
			const char *b = s + e + 1;
			size_t bn = q ? q - e - 2 : 0;
			bool ok = q != 0;

			if (ok && s[i] == 'h') {
				ok = bn % 2 == 0;
				for (size_t k = 0; ok && k < bn; k++)
					ok = is_hex(b[k]);
				t->k = T_HEX;
				t->why = "pattern: bad hex literal";
			} else if (ok && s[i] == 'b') {
				ok = base64_ok(b, bn);
				t->k = T_BIN;
				t->why = "pattern: bad binary (base64) literal";
			} else if (ok) {
				ok = timestamp_ok(b, bn);
				t->k = T_TIME;
				t->why = "pattern: bad timestamp literal";
			}
			if (!ok)
				t->k = T_BAD;
			e = q ? q : n;
			break;
		}
		while (e < n && (is_alpha(s[e]) || is_digit(s[e]) || s[e] == '-')) {
			t->hyphen |= s[e] == '-';
			e++;
		}
		t->k = T_IDENT;
		for (size_t k = 0; k < ARRAY_SIZE(keywords); k++)
			if (strlen(keywords[k]) == e - i && !memcmp(s + i, keywords[k], e - i)) {
				t->k = T_KW;
				t->kw = (enum keyword)k;
			}
		if ((e - i == 4 && feed_starts_with(s + i, 4, "true")) ||
		    (e - i == 5 && feed_starts_with(s + i, 5, "false")))
			t->k = T_BOOL;
		break;
	}
	t->n = e - i;
	p->pos = e;
}

static bool is_kw(const struct pp *p, enum keyword kw)
{
	return p->t.k == T_KW && p->t.kw == kw;
}

/* "text 'what'" into buf, every byte printable (a pattern may hold any). */
static void fmt_reason(char *buf, size_t cap, const char *text, const char *what, size_t wn)
{
	if (wn > NAME_SHOWN_MAX)
		wn = NAME_SHOWN_MAX;
	if (what)
		snprintf(buf, cap, "%s '%.*s'", text, (int)wn, what);
	else
		snprintf(buf, cap, "%s", text);
	for (char *c = buf; *c; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
			*c = '?';
}

/* The pattern is malformed: record the first reason. */
static void perr(struct pp *p, const char *text, const char *what, size_t wn)
{
	if (p->err)
		return;
	if (!what) {
		p->err = text;
		return;
	}
	fmt_reason(p->r->reason, sizeof(p->r->reason), text, what, wn);
	p->err = p->r->reason;
}

static void syntax_err(struct pp *p)
{
	if (p->t.k == T_END)
		perr(p, "pattern: unexpected end", NULL, 0);
	else if (p->t.k == T_BAD && p->t.why)
		perr(p, p->t.why, NULL, 0);
	else
		perr(p, "pattern: syntax error at", p->t.s, p->t.n ? p->t.n : 1);
}

static void expect(struct pp *p, enum tok_kind k)
{
	if (p->err)
		return;
	if (p->t.k != k) {
		syntax_err(p);
		return;
	}
	lex(p);
}

/* ---- branches ------------------------------------------------------------------- */

/* What a (sub)expression yields: pt->v[v0..nv), pt->rej[r0..nrej). */
struct pres {
	bool addr; /* names an address path */
	size_t v0, r0;
};

static struct pres pres_here(const struct pp *p)
{
	return (struct pres){ .v0 = p->pt->nv, .r0 = p->pt->nrej };
}

/* A refused branch with its reason (text 'what'); the pattern stays valid. */
static void refuse(struct pp *p, const char *text, const char *what, size_t wn)
{
	char buf[FEED_REASON_MAX];
	size_t off;

	if (p->err)
		return;
	fmt_reason(buf, sizeof(buf), text, what, wn);
	off = put_text(p->pt, buf, strlen(buf));
	if (off == SIZE_MAX ||
	    !grow((void **)&p->pt->rej, &p->pt->caprej, p->pt->nrej + 1, sizeof(*p->pt->rej))) {
		p->err = out_of_memory;
		return;
	}
	p->pt->rej[p->pt->nrej++] = off;
}

/* res names an address but cannot be enforced: one refused branch instead of its yield. */
static void refuse_all(struct pp *p, struct pres *res, const char *text, const char *what,
		       size_t wn)
{
	p->pt->nv = res->v0;
	p->pt->nrej = res->r0;
	refuse(p, text, what, wn);
}

/* ---- address values --------------------------------------------------------------- */

enum path_class { P_OTHER, P_V4, P_V6, P_DOMAIN, P_REF };

static enum path_class classify_path(const char *s, size_t n)
{
	static const struct {
		const char *path;
		enum path_class cls;
	} paths[] = {
		{ "ipv4-addr:value", P_V4 },
		{ "ipv6-addr:value", P_V6 },
		{ "domain-name:value", P_DOMAIN },
		{ "network-traffic:dst_ref.value", P_REF },
		{ "network-traffic:src_ref.value", P_REF },
	};

	for (size_t i = 0; i < ARRAY_SIZE(paths); i++)
		if (strlen(paths[i].path) == n && !memcmp(s, paths[i].path, n))
			return paths[i].cls;
	return P_OTHER;
}

/* Unescape a string token (\' and \\) into buf; false when it does not fit. */
static bool unescape(const struct tok *t, char *buf, size_t cap, size_t *len)
{
	size_t o = 0;

	for (size_t i = 0; i < t->n; i++) {
		char c = t->s[i];

		if (c == '\\' && i + 1 < t->n)
			c = t->s[++i];
		if (o + 1 >= cap)
			return false;
		buf[o++] = c;
	}
	buf[o] = '\0';
	*len = o;
	return true;
}

static void push_value(struct pp *p, const struct feed_pvalue *v)
{
	if (!grow((void **)&p->pt->v, &p->pt->capv, p->pt->nv + 1, sizeof(*p->pt->v))) {
		p->err = out_of_memory;
		return;
	}
	p->pt->v[p->pt->nv++] = *v;
}

/* One string value of an address path: a value, or a refused branch. */
static void add_value(struct pp *p, enum path_class cls, bool subset, const struct tok *t)
{
	struct feed_pvalue v = { .kind = BWE_IND_PREFIX };
	char buf[VALUE_MAX], dom[BWE_FEED_DOMAIN_MAX + 2];
	const char *why;
	size_t n;

	if (!unescape(t, buf, sizeof(buf), &n)) {
		refuse(p,
		       cls == P_DOMAIN ? "pattern: not a domain name" : "pattern: not an address",
		       t->s, t->n);
		return;
	}
	if (cls == P_DOMAIN || (cls == P_REF && feed_prefix_text(buf, n, &v.pfx, &why) &&
				!feed_domain_norm(buf, n, dom))) {
		if (feed_domain_norm(buf, n, dom)) {
			refuse(p, "pattern: not a domain name", t->s, t->n);
			return;
		}
		if (subset) {
			refuse(p, "pattern: ISSUBSET of a domain name", t->s, t->n);
			return;
		}
		v.kind = BWE_IND_DOMAIN;
		v.dom = put_text(p->pt, dom, strlen(dom));
		if (v.dom == SIZE_MAX)
			p->err = out_of_memory;
		else
			push_value(p, &v);
		return;
	}
	if (feed_prefix_text(buf, n, &v.pfx, &why)) {
		refuse(p,
		       cls == P_REF ? "pattern: not an address or domain name"
				    : "pattern: not an address",
		       t->s, t->n);
		return;
	}
	if (cls == P_V4 && !(bwe_addr_is_v4(&v.pfx.addr) && v.pfx.plen >= BWE_V4_MAPPED_PLEN)) {
		refuse(p, "pattern: ipv4-addr value is not IPv4", t->s, t->n);
		return;
	}
	if (cls == P_V6 && !memchr(buf, ':', n)) {
		refuse(p, "pattern: ipv6-addr value is not IPv6", t->s, t->n);
		return;
	}
	why = feed_prefix_check(p->r, &v.pfx);
	if (why) {
		char reason[FEED_REASON_MAX];

		snprintf(reason, sizeof(reason), "%s", why); /* may be r->reason */
		refuse(p, reason, t->s, t->n);
		return;
	}
	bwe_prefix_mask(&v.pfx);
	push_value(p, &v);
}

/* ---- parser ----------------------------------------------------------------------- */

static struct pres cexpr(struct pp *p);
static struct pres fby(struct pp *p);

/* path: its normalised text (quotes and escapes gone) into out; false if malformed. */
static bool path(struct pp *p, char *out, size_t cap, bool *indexed)
{
	size_t o = 0;
	bool first = true;

	*indexed = false;
	if (p->t.k != T_IDENT) {
		syntax_err(p);
		return false;
	}
#define PUT(src, len) \
	do { \
		if (o + (len) < cap) \
			memcpy(out + o, (src), (len)); \
		o += (len); \
	} while (0)
	PUT(p->t.s, p->t.n);
	lex(p);
	if (p->t.k != T_COLON) {
		syntax_err(p);
		return false;
	}
	PUT(":", 1);
	lex(p);
	for (;;) {
		if (!first && p->t.k == T_LBRACK) {
			lex(p);
			if (p->t.k != T_INT && p->t.k != T_STAR) {
				syntax_err(p);
				return false;
			}
			lex(p);
			expect(p, T_RBRACK);
			*indexed = true;
			if (p->err)
				return false;
			continue;
		}
		if (!first) {
			if (p->t.k != T_DOT)
				break;
			PUT(".", 1);
			lex(p);
		}
		if (p->t.k == T_IDENT && !p->t.hyphen) {
			PUT(p->t.s, p->t.n);
		} else if (p->t.k == T_STRING) {
			char buf[PATH_MAX_LEN];
			size_t n;

			if (unescape(&p->t, buf, sizeof(buf), &n))
				PUT(buf, n);
			else
				*indexed = true; /* too long to be an address path */
		} else {
			syntax_err(p);
			return false;
		}
		lex(p);
		first = false;
	}
#undef PUT
	if (o >= cap)
		*indexed = true; /* too long to be an address path */
	out[o < cap ? o : cap - 1] = '\0';
	return true;
}

static bool is_literal(enum tok_kind k, bool orderable)
{
	return k == T_STRING || k == T_INT || k == T_FLOAT || k == T_HEX || k == T_BIN ||
	       k == T_TIME || (!orderable && k == T_BOOL);
}

/* path ["NOT"] op value */
static struct pres comparison(struct pp *p)
{
	struct pres res = pres_here(p);
	char pth[PATH_MAX_LEN], opw[NAME_SHOWN_MAX * 2 + 16];
	const char *op = NULL;
	size_t on = 0;
	enum path_class cls;
	bool indexed, neg = false, positive = false, subset = false;
	enum tok_kind opk;

	if (is_kw(p, K_EXISTS)) {
		perr(p, "pattern: not supported", "EXISTS", strlen("EXISTS"));
		return res;
	}
	if (!path(p, pth, sizeof(pth), &indexed))
		return res;
	cls = indexed ? P_OTHER : classify_path(pth, strlen(pth));
	res.addr = cls != P_OTHER;
	if (is_kw(p, K_NOT)) {
		neg = true;
		lex(p);
	}
	op = p->t.s;
	on = p->t.n;
	opk = p->t.k;
	if (opk == T_EQ || opk == T_NEQ) {
		lex(p);
		if (!is_literal(p->t.k, false)) {
			syntax_err(p);
			return res;
		}
		positive = opk == T_EQ;
	} else if (opk == T_ORD) {
		lex(p);
		if (!is_literal(p->t.k, true)) {
			syntax_err(p);
			return res;
		}
	} else if (is_kw(p, K_IN)) {
		struct pres list = pres_here(p);

		lex(p);
		expect(p, T_LPAREN);
		if (p->err)
			return res;
		if (p->t.k != T_RPAREN) {
			for (;;) {
				if (!is_literal(p->t.k, false)) {
					syntax_err(p);
					return res;
				}
				if (res.addr && !neg && p->t.k == T_STRING)
					add_value(p, cls, false, &p->t);
				else if (res.addr && !neg)
					refuse(p, "pattern: value is not a string", p->t.s, p->t.n);
				lex(p);
				if (p->t.k != T_COMMA)
					break;
				lex(p);
			}
		}
		if (p->t.k != T_RPAREN) {
			p->pt->nv = list.v0;
			p->pt->nrej = list.r0;
			syntax_err(p);
			return res;
		}
		lex(p);
		if (res.addr && neg)
			refuse(p, "pattern: operator not supported", "NOT IN", strlen("NOT IN"));
		return res;
	} else if (is_kw(p, K_LIKE) || is_kw(p, K_MATCHES) || is_kw(p, K_ISSUBSET) ||
		   is_kw(p, K_ISSUPERSET)) {
		subset = is_kw(p, K_ISSUBSET);
		positive = subset && cls != P_DOMAIN;
		lex(p);
		if (p->t.k != T_STRING) {
			syntax_err(p);
			return res;
		}
	} else {
		syntax_err(p);
		return res;
	}
	/* p->t is the value */
	if (res.addr && positive && !neg) {
		if (p->t.k == T_STRING)
			add_value(p, cls, subset, &p->t);
		else
			refuse(p, "pattern: value is not a string", p->t.s, p->t.n);
	} else if (res.addr) {
		snprintf(opw, sizeof(opw), "%s%.*s %s", neg ? "NOT " : "",
			 (int)(on < NAME_SHOWN_MAX ? on : NAME_SHOWN_MAX), op, pth);
		refuse(p, "pattern: operator not supported", opw, strlen(opw));
	}
	lex(p);
	return res;
}

static struct pres ctest(struct pp *p)
{
	struct pres res = pres_here(p);

	if (p->err)
		return res;
	if (p->t.k == T_LPAREN) {
		if (++p->depth > PATTERN_DEPTH_MAX) {
			perr(p, "pattern: nested too deeply", NULL, 0);
			return res;
		}
		lex(p);
		res = cexpr(p);
		p->depth--;
		expect(p, T_RPAREN);
		return res;
	}
	return comparison(p);
}

/* AND: a side that names no address refines the other; two address sides are refused. */
static struct pres cand(struct pp *p)
{
	struct pres res = ctest(p);

	while (!p->err && is_kw(p, K_AND)) {
		struct pres rhs;

		lex(p);
		rhs = ctest(p);
		if (p->err)
			break;
		if (res.addr && rhs.addr)
			refuse_all(p, &res, "pattern: AND of two address comparisons not supported",
				   NULL, 0);
		res.addr |= rhs.addr;
	}
	return res;
}

static struct pres cexpr(struct pp *p)
{
	struct pres res = cand(p);

	while (!p->err && is_kw(p, K_OR)) {
		lex(p);
		res.addr |= cand(p).addr;
	}
	return res;
}

/*
 * WITHIN n SECONDS, REPEATS n TIMES, START t'..' STOP t'..' after an
 * observation. In STIX 2.1, directly after a bracketed one each kind at
 * most once (the OASIS validator's rule: "[..] REPEATS 2 TIMES REPEATS 3
 * TIMES" is malformed, "([..] REPEATS 2 TIMES) REPEATS 3 TIMES" is not;
 * STIX 2.0 allows both).
 */
static void qualifiers(struct pp *p, struct pres *res, bool bracket)
{
	unsigned int seen = 0;

	while (!p->err) {
		const char *q = p->t.s;
		size_t qn = p->t.n;
		unsigned int kind = p->t.k == T_KW ? 1U << p->t.kw : 0;

		if (p->v21 && bracket && (seen & kind)) {
			perr(p, "pattern: the same qualifier twice on one observation", q, qn);
			return;
		}
		seen |= kind;
		if (is_kw(p, K_WITHIN)) {
			lex(p);
			if ((p->t.k != T_INT && p->t.k != T_FLOAT) || p->t.negative) {
				syntax_err(p);
				return;
			}
			lex(p);
			if (!is_kw(p, K_SECONDS)) {
				syntax_err(p);
				return;
			}
		} else if (is_kw(p, K_REPEATS)) {
			lex(p);
			if (p->t.k != T_INT || p->t.negative) {
				syntax_err(p);
				return;
			}
			lex(p);
			if (!is_kw(p, K_TIMES)) {
				syntax_err(p);
				return;
			}
		} else if (is_kw(p, K_START)) {
			lex(p);
			if (p->t.k != T_TIME) {
				syntax_err(p);
				return;
			}
			lex(p);
			if (!is_kw(p, K_STOP)) {
				syntax_err(p);
				return;
			}
			lex(p);
			if (p->t.k != T_TIME) {
				syntax_err(p);
				return;
			}
		} else {
			return;
		}
		lex(p);
		if (res->addr)
			refuse_all(p, res, "pattern: qualifier not supported", q, qn);
	}
}

static struct pres obs(struct pp *p)
{
	struct pres res = pres_here(p);
	bool bracket = p->t.k == T_LBRACK;

	if (p->t.k != T_LBRACK && p->t.k != T_LPAREN) {
		syntax_err(p);
		return res;
	}
	if (++p->depth > PATTERN_DEPTH_MAX) {
		perr(p, "pattern: nested too deeply", NULL, 0);
		return res;
	}
	lex(p);
	res = bracket ? cexpr(p) : fby(p);
	p->depth--;
	expect(p, bracket ? T_RBRACK : T_RPAREN);
	qualifiers(p, &res, bracket);
	return res;
}

/* AND and FOLLOWEDBY of observations: refused when a side names an address. */
static void obs_join(struct pp *p, struct pres *res, const struct pres *rhs, const char *op)
{
	if (res->addr || rhs->addr)
		refuse_all(p, res, "pattern: observation operator not supported", op, strlen(op));
	res->addr |= rhs->addr;
}

static struct pres obs_and(struct pp *p)
{
	struct pres res = obs(p);

	while (!p->err && is_kw(p, K_AND)) {
		struct pres rhs;

		lex(p);
		rhs = obs(p);
		if (!p->err)
			obs_join(p, &res, &rhs, "AND");
	}
	return res;
}

static struct pres obs_or(struct pp *p)
{
	struct pres res = obs_and(p);

	while (!p->err && is_kw(p, K_OR)) {
		lex(p);
		res.addr |= obs_and(p).addr;
	}
	return res;
}

static struct pres fby(struct pp *p)
{
	struct pres res = obs_or(p);

	while (!p->err && is_kw(p, K_FOLLOWEDBY)) {
		struct pres rhs;

		lex(p);
		rhs = obs_or(p);
		if (!p->err)
			obs_join(p, &res, &rhs, "FOLLOWEDBY");
	}
	return res;
}

int feed_pattern_parse(struct feed_run *r, struct feed_pattern *pt, const char *s, size_t n,
		       bool v21)
{
	struct pp p = { .pt = pt, .r = r, .s = s, .n = n, .v21 = v21 };
	struct pres res;

	pt->nv = pt->nrej = pt->nt = 0;
	pt->addr = false;
	pt->err = NULL;
	lex(&p);
	res = fby(&p);
	if (!p.err && p.t.k != T_END)
		syntax_err(&p);
	if (p.err == out_of_memory)
		return -ENOMEM;
	if (p.err) {
		pt->nv = pt->nrej = 0;
		pt->err = p.err;
		return 0;
	}
	pt->addr = res.addr;
	return 0;
}
