// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * feed_stix.c - STIX 2.1 indicators (a bundle, a JSON array of objects, or
 * one object). Which objects count is in feed.h; this file also holds the
 * subset of STIX patterning that maps onto a blocklist:
 *
 *   pattern  := obs ( "OR" obs )*
 *   obs      := "[" cexpr "]" | "(" pattern ")"
 *   cexpr    := cand ( "OR" cand )*
 *   cand     := ctest ( "AND" ctest )*
 *   ctest    := "(" cexpr ")" | PATH ["NOT"] op value
 *
 * Address paths: ipv4-addr:value, ipv6-addr:value (operators "=",
 * ISSUBSET, IN), domain-name:value ("=", IN), and network-traffic:
 * dst_ref.value / src_ref.value ("=", ISSUBSET, IN; either family).
 * Refinements: every other network-traffic property (dst_port, protocols,
 * ...) with any operator; ANDed with an address they are dropped (the
 * whole address is blocked, a superset of the pattern), on their own they
 * cannot be enforced. Refused, with a reason naming the part: any other
 * object path, other operators or NOT on an address path, AND of two
 * address comparisons (which one is the bad party is unknowable), AND and
 * FOLLOWEDBY between observations, qualifiers (WITHIN, REPEATS, START),
 * EXISTS, and an OR branch without an address.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "bwe_util.h"
#include "feed_impl.h"
#include "units.h"

#define PATTERN_DEPTH_MAX 32			    /* nested parentheses and brackets */
#define NAME_SHOWN_MAX	  64			    /* bytes of a path or word quoted in a reason */
#define VALUE_MAX	  (BWE_FEED_DOMAIN_MAX + 2) /* bytes of an unescaped value */
#define TS_MIN_LEN	  20			    /* "YYYY-MM-DDTHH:MM:SSZ" */
#define NSEC_DIGITS	  9
#define DAYS_PER_ERA	  146097 /* days in 400 Gregorian years */
#define YEARS_PER_ERA	  400
#define EPOCH_DAYS	  719468 /* days from 0000-03-01 to 1970-01-01 */
#define MONTHS		  12
#define HOURS		  24
#define MINUTES		  60
#define LEAP_SECOND	  60

/* ---- RFC 3339 timestamps ---------------------------------------------------- */

struct stix_time {
	__s64 sec;  /* unix seconds */
	__u32 nsec; /* fraction, nanoseconds */
};

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static __s64 days_from_civil(int y, unsigned int m, unsigned int d)
{
	int era;
	unsigned int yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - (YEARS_PER_ERA - 1)) / YEARS_PER_ERA;
	yoe = (unsigned int)(y - era * YEARS_PER_ERA);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (__s64)era * DAYS_PER_ERA + (__s64)doe - EPOCH_DAYS;
}

static bool is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % YEARS_PER_ERA == 0;
}

/* n decimal digits at s -> *v; false when one is not a digit. */
static bool digits(const char *s, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		*v = *v * 10 + (s[i] - '0');
	}
	return true;
}

/* YYYY-MM-DD"T"HH:MM:SS[.frac]("Z" | +HH:MM | -HH:MM), "t"/"z" too. */
static int rfc3339_parse(const char *s, size_t n, struct stix_time *out)
{
	static const unsigned char mdays[MONTHS] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31,
	};
	int y, mo, d, h, mi, sec, oh = 0, om = 0, off = 0;
	__u32 nsec = 0;
	size_t i = 19; /* after the seconds */

	if (n < TS_MIN_LEN || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
	    s[13] != ':' || s[16] != ':' || !digits(s, 4, &y) || !digits(s + 5, 2, &mo) ||
	    !digits(s + 8, 2, &d) || !digits(s + 11, 2, &h) || !digits(s + 14, 2, &mi) ||
	    !digits(s + 17, 2, &sec))
		return -EINVAL;
	if (s[i] == '.') {
		size_t start = ++i;

		for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			if (i - start < NSEC_DIGITS)
				nsec = nsec * 10 + (__u32)(s[i] - '0');
		if (i == start)
			return -EINVAL;
		for (size_t k = i - start; k < NSEC_DIGITS; k++)
			nsec *= 10;
	}
	if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
		i++;
	} else if (i + 6 == n && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':' &&
		   digits(s + i + 1, 2, &oh) && digits(s + i + 4, 2, &om) && oh < HOURS &&
		   om < MINUTES) {
		off = (oh * MINUTES + om) * (int)BWE_SECS_PER_MIN * (s[i] == '-' ? -1 : 1);
		i += 6;
	} else {
		return -EINVAL;
	}
	if (i != n || mo < 1 || mo > MONTHS || d < 1 ||
	    d > mdays[mo - 1] + (mo == 2 && is_leap(y)) || h >= HOURS || mi >= MINUTES ||
	    sec > LEAP_SECOND)
		return -EINVAL;
	out->sec = days_from_civil(y, (unsigned int)mo, (unsigned int)d) * (__s64)BWE_SECS_PER_DAY +
		   h * (__s64)BWE_SECS_PER_HOUR + mi * (__s64)BWE_SECS_PER_MIN + sec - off;
	out->nsec = nsec;
	return 0;
}

static int time_cmp(const struct stix_time *a, const struct stix_time *b)
{
	if (a->sec != b->sec)
		return a->sec < b->sec ? -1 : 1;
	return a->nsec < b->nsec ? -1 : a->nsec > b->nsec;
}

/* ---- per-parse state ------------------------------------------------------ */

struct stix_value {
	enum bwe_ind_kind kind;
	struct bwe_prefix pfx; /* PREFIX */
	size_t dom;	       /* DOMAIN: offset in the arena */
};

struct stix {
	struct feed_run *r;
	struct stix_value *v; /* values of the current indicator */
	size_t nv, capv;
	char *arena; /* NUL-terminated domains of the current indicator */
	size_t na, capa;
};

#define GROW_FIRST 16 /* elements of a first allocation */

/*
 * Room for need elements of elem bytes: buf itself, or buf reallocated
 * (*cap updated), or NULL when out of memory (buf is then untouched).
 */
static void *grow(void *buf, size_t *cap, size_t need, size_t elem)
{
	size_t ncap = *cap ? *cap : GROW_FIRST;
	void *nb;

	if (need <= *cap)
		return buf;
	while (ncap < need)
		ncap *= 2;
	nb = realloc(buf, ncap * elem);
	if (nb)
		*cap = ncap;
	return nb;
}

static const char out_of_memory[] = "out of memory";

/* ---- pattern lexer ----------------------------------------------------------- */

enum tok_kind {
	T_END,
	T_LBRACK,
	T_RBRACK,
	T_LPAREN,
	T_RPAREN,
	T_COMMA,
	T_OP,	   /* = != < <= > >= */
	T_STRING,  /* 'text' (s, n: between the quotes, escapes kept) */
	T_LITERAL, /* number, true/false, b'..', h'..', t'..' */
	T_PATH,	   /* object-type:property.path */
	T_WORD,	   /* keyword */
	T_BAD,
};

struct tok {
	enum tok_kind k;
	const char *s;
	size_t n;
};

struct pparse {
	struct stix *x;
	const char *s; /* the pattern */
	size_t n, pos;
	struct tok t; /* current token */
	int depth;
	const char *err;       /* first error: static text or x->r->reason */
	const char *free_path; /* s of a refinement that was not ANDed */
	size_t free_n;
};

/* Result of a (sub)expression: its values and whether a branch is free. */
struct pres {
	size_t v0, v1; /* values [v0, v1) of x->v */
	bool free;     /* some branch matches without an address */
};

static bool is_word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-' || c == ':' || c == '.';
}

/* A quoted string at s[i] == '\''; the index after it, or 0 if unterminated. */
static size_t skip_quoted(const char *s, size_t n, size_t i)
{
	for (i++; i < n; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '\'')
			return i + 1;
	}
	return 0;
}

static void lex(struct pparse *p)
{
	const char *s = p->s;
	size_t n = p->n, i = p->pos, start;
	char c;

	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
		i++;
	start = i;
	p->t = (struct tok){ .k = T_END, .s = s + i, .n = 0 };
	if (i == n) {
		p->pos = i;
		return;
	}
	c = s[i];
	switch (c) {
	case '[':
		p->t.k = T_LBRACK;
		i++;
		break;
	case ']':
		p->t.k = T_RBRACK;
		i++;
		break;
	case '(':
		p->t.k = T_LPAREN;
		i++;
		break;
	case ')':
		p->t.k = T_RPAREN;
		i++;
		break;
	case ',':
		p->t.k = T_COMMA;
		i++;
		break;
	case '=':
		p->t.k = T_OP;
		i++;
		break;
	case '!':
	case '<':
	case '>':
		p->t.k = T_OP;
		i++;
		if (i < n && s[i] == '=')
			i++;
		else if (c == '!')
			p->t.k = T_BAD;
		break;
	case '\'': {
		size_t e = skip_quoted(s, n, i);

		if (!e) {
			p->t.k = T_BAD;
			i = n;
			break;
		}
		p->t = (struct tok){ .k = T_STRING, .s = s + i + 1, .n = e - i - 2 };
		p->pos = e;
		return;
	}
	default:
		if ((c == '-' || c == '+' || (c >= '0' && c <= '9'))) {
			i++;
			if (c < '0' && (i == n || s[i] < '0' || s[i] > '9')) {
				p->t.k = T_BAD;
				break;
			}
			while (i < n && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.'))
				i++;
			p->t.k = T_LITERAL;
			break;
		}
		if (!is_word_char(c)) {
			p->t.k = T_BAD;
			i++;
			break;
		}
		while (i < n) {
			if (is_word_char(s[i])) {
				i++;
			} else if (s[i] == '[' && memchr(s + start, ':', i - start)) {
				/* list index of a path: [*] or [digits] */
				size_t e = i + 1;

				while (e < n && (s[e] == '*' || (s[e] >= '0' && s[e] <= '9')))
					e++;
				if (e == i + 1 || e >= n || s[e] != ']')
					break;
				i = e + 1;
			} else if (s[i] == '\'' && s[i - 1] == '.') {
				/* quoted property name: hashes.'SHA-256' */
				size_t e = skip_quoted(s, n, i);

				if (!e)
					break;
				i = e;
			} else {
				break;
			}
		}
		if (i - start == 1 && i < n && s[i] == '\'' && strchr("bht", c)) {
			size_t e = skip_quoted(s, n, i); /* b'..' h'..' t'..' */

			p->t.k = e ? T_LITERAL : T_BAD;
			i = e ? e : n;
		} else if (memchr(s + start, ':', i - start)) {
			p->t.k = T_PATH;
		} else if ((i - start == 4 && !memcmp(s + start, "true", 4)) ||
			   (i - start == 5 && !memcmp(s + start, "false", 5))) {
			p->t.k = T_LITERAL;
		} else {
			p->t.k = T_WORD;
		}
		break;
	}
	p->t.n = i - start;
	p->pos = i;
}

static bool is_word(const struct pparse *p, const char *w)
{
	return p->t.k == T_WORD && p->t.n == strlen(w) && !memcmp(p->t.s, w, p->t.n);
}

/* Record the first error; "what" (may be NULL) is quoted after the text. */
static void perr(struct pparse *p, const char *text, const char *what, size_t wn)
{
	struct feed_run *r = p->x->r;

	if (p->err)
		return;
	if (!what) {
		p->err = text;
		return;
	}
	if (wn > NAME_SHOWN_MAX)
		wn = NAME_SHOWN_MAX;
	snprintf(r->reason, sizeof(r->reason), "pattern: %s '%.*s'", text, (int)wn, what);
	/* the reason must stay printable: a pattern may hold any byte */
	for (char *c = r->reason; *c; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
			*c = '?';
	p->err = r->reason;
}

static void syntax_err(struct pparse *p)
{
	if (p->t.k == T_END)
		perr(p, "pattern: unexpected end", NULL, 0);
	else if (p->t.k == T_BAD && memchr(p->t.s, '\'', p->t.n))
		perr(p, "pattern: unterminated string", NULL, 0);
	else
		perr(p, "syntax error at", p->t.s, p->t.n ? p->t.n : 1);
}

/* ---- pattern values --------------------------------------------------------- */

enum path_class { P_UNSUPPORTED, P_V4, P_V6, P_ADDR, P_DOMAIN, P_REFINE };

static enum path_class classify_path(const char *s, size_t n)
{
	static const struct {
		const char *path;
		enum path_class cls;
	} paths[] = {
		{ "ipv4-addr:value", P_V4 },
		{ "ipv6-addr:value", P_V6 },
		{ "domain-name:value", P_DOMAIN },
		{ "network-traffic:dst_ref.value", P_ADDR },
		{ "network-traffic:src_ref.value", P_ADDR },
	};
	static const char nt[] = "network-traffic:";

	for (size_t i = 0; i < ARRAY_SIZE(paths); i++)
		if (strlen(paths[i].path) == n && !memcmp(s, paths[i].path, n))
			return paths[i].cls;
	if (n > strlen(nt) && !memcmp(s, nt, strlen(nt)))
		return P_REFINE;
	return P_UNSUPPORTED;
}

/* Unescape a string token (\' and \\) into buf; false when too long. */
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

/* Turn one string value of an address or domain path into a stix_value. */
static void add_value(struct pparse *p, enum path_class cls, const struct tok *t)
{
	struct stix *x = p->x;
	struct stix_value *v;
	char buf[VALUE_MAX];
	const char *why;
	size_t n;

	if (p->err)
		return;
	v = grow(x->v, &x->capv, x->nv + 1, sizeof(*x->v));
	if (!v) {
		p->err = out_of_memory;
		return;
	}
	x->v = v;
	v = &x->v[x->nv];
	memset(v, 0, sizeof(*v));
	if (cls == P_DOMAIN) {
		char *a = grow(x->arena, &x->capa, x->na + BWE_FEED_DOMAIN_MAX + 2, 1);

		if (!a) {
			p->err = out_of_memory;
			return;
		}
		x->arena = a;
		if (!unescape(t, buf, sizeof(buf), &n) || feed_domain_norm(buf, n, a + x->na)) {
			perr(p, "not a domain name", t->s, t->n);
			return;
		}
		v->kind = BWE_IND_DOMAIN;
		v->dom = x->na;
		x->na += strlen(x->arena + x->na) + 1;
		x->nv++;
		return;
	}
	if (!unescape(t, buf, sizeof(buf), &n) || feed_prefix_text(buf, n, &v->pfx, &why)) {
		perr(p, "not an address", t->s, t->n);
		return;
	}
	if (cls == P_V4 && !(bwe_addr_is_v4(&v->pfx.addr) && v->pfx.plen >= BWE_V4_MAPPED_PLEN)) {
		perr(p, "ipv4-addr value is not IPv4", t->s, t->n);
		return;
	}
	if (cls == P_V6 && !memchr(buf, ':', n)) {
		perr(p, "ipv6-addr value is not IPv6", t->s, t->n);
		return;
	}
	why = feed_prefix_check(x->r, &v->pfx);
	if (why) {
		p->err = why;
		return;
	}
	v->kind = BWE_IND_PREFIX;
	x->nv++;
}

/* ---- pattern parser ------------------------------------------------------------ */

static struct pres cexpr(struct pparse *p);

/* value := literal | string | "(" value ("," value)* ")"; calls add_value when cls says. */
static void comparison_value(struct pparse *p, enum path_class cls, bool list)
{
	bool addr = cls != P_REFINE;

	if (list) {
		if (p->t.k != T_LPAREN) {
			syntax_err(p);
			return;
		}
		do {
			lex(p);
			comparison_value(p, cls, false);
			if (p->err)
				return;
		} while (p->t.k == T_COMMA);
		if (p->t.k != T_RPAREN)
			syntax_err(p);
		lex(p);
		return;
	}
	if (p->t.k != T_STRING && p->t.k != T_LITERAL)
		syntax_err(p);
	else if (addr && p->t.k != T_STRING)
		perr(p, "value is not a string", p->t.s, p->t.n);
	else if (addr)
		add_value(p, cls, &p->t);
	lex(p);
}

/* PATH [NOT] op value */
static struct pres comparison(struct pparse *p)
{
	struct pres res = { .v0 = p->x->nv };
	const char *path = p->t.s;
	size_t pn = p->t.n;
	enum path_class cls = classify_path(path, pn);
	bool neg = false, list = false;
	const char *op;
	size_t on;

	if (cls == P_UNSUPPORTED) {
		perr(p, "unsupported object path", path, pn);
		return res;
	}
	lex(p);
	if (is_word(p, "NOT")) {
		neg = true;
		lex(p);
	}
	op = p->t.s;
	on = p->t.n;
	if (p->t.k == T_WORD && (is_word(p, "IN") || is_word(p, "LIKE") || is_word(p, "MATCHES") ||
				 is_word(p, "ISSUBSET") || is_word(p, "ISSUPERSET"))) {
		list = is_word(p, "IN");
	} else if (p->t.k != T_OP) {
		syntax_err(p);
		return res;
	}
	if (cls != P_REFINE) {
		bool eq = on == 1 && op[0] == '=';
		bool subset = on == strlen("ISSUBSET") && !memcmp(op, "ISSUBSET", on);

		if (neg) {
			perr(p, "NOT not supported on", path, pn);
			return res;
		}
		if (!eq && !list && !(subset && cls != P_DOMAIN)) {
			char what[NAME_SHOWN_MAX * 2 + 2];

			snprintf(what, sizeof(what), "%.*s %.*s", (int)on, op,
				 (int)(pn < NAME_SHOWN_MAX ? pn : NAME_SHOWN_MAX), path);
			perr(p, "operator not supported", what, strlen(what));
			return res;
		}
	}
	lex(p);
	comparison_value(p, cls, list);
	res.v1 = p->x->nv;
	if (cls == P_REFINE) {
		res.free = true;
		if (!p->free_path) {
			p->free_path = path;
			p->free_n = pn;
		}
	}
	return res;
}

static struct pres ctest(struct pparse *p)
{
	struct pres res = { .v0 = p->x->nv, .v1 = p->x->nv };

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
		if (p->err)
			return res;
		if (p->t.k != T_RPAREN)
			syntax_err(p);
		lex(p);
		return res;
	}
	if (is_word(p, "EXISTS")) {
		perr(p, "not supported", "EXISTS", strlen("EXISTS"));
		return res;
	}
	if (p->t.k != T_PATH) {
		syntax_err(p);
		return res;
	}
	return comparison(p);
}

/* AND: one side may refine the other; two address sides are refused. */
static struct pres cand(struct pparse *p)
{
	struct pres res = ctest(p);

	while (!p->err && is_word(p, "AND")) {
		struct pres rhs;

		lex(p);
		rhs = ctest(p);
		if (p->err)
			break;
		if (res.v1 > res.v0 && rhs.v1 > rhs.v0) {
			perr(p, "pattern: AND of two address comparisons not supported", NULL, 0);
			break;
		}
		if (res.v1 == res.v0) {
			res.v1 = rhs.v1;
			res.v0 = rhs.v0;
			res.free = rhs.free;
		}
		/* else: rhs is a refinement of res, which keeps its values */
	}
	return res;
}

static struct pres cexpr(struct pparse *p)
{
	struct pres res = cand(p);

	while (!p->err && is_word(p, "OR")) {
		struct pres rhs;

		lex(p);
		rhs = cand(p);
		res.v1 = rhs.v1; /* appended after res */
		res.free |= rhs.free;
	}
	return res;
}

static struct pres obs_or(struct pparse *p);

static void no_qualifier(struct pparse *p)
{
	static const char *const quals[] = { "WITHIN", "REPEATS", "START", "STOP" };

	for (size_t i = 0; i < ARRAY_SIZE(quals); i++)
		if (is_word(p, quals[i]))
			perr(p, "qualifier not supported", p->t.s, p->t.n);
}

static struct pres obs(struct pparse *p)
{
	struct pres res = { .v0 = p->x->nv, .v1 = p->x->nv };
	enum tok_kind close;

	if (p->t.k == T_LBRACK)
		close = T_RBRACK;
	else if (p->t.k == T_LPAREN)
		close = T_RPAREN;
	else {
		syntax_err(p);
		return res;
	}
	if (++p->depth > PATTERN_DEPTH_MAX) {
		perr(p, "pattern: nested too deeply", NULL, 0);
		return res;
	}
	lex(p);
	res = close == T_RBRACK ? cexpr(p) : obs_or(p);
	p->depth--;
	if (p->err)
		return res;
	if (p->t.k != close) {
		syntax_err(p);
		return res;
	}
	lex(p);
	no_qualifier(p);
	return res;
}

static struct pres obs_or(struct pparse *p)
{
	struct pres res = obs(p);

	while (!p->err) {
		struct pres rhs;

		if (is_word(p, "AND") || is_word(p, "FOLLOWEDBY")) {
			perr(p, "observation operator not supported", p->t.s, p->t.n);
			break;
		}
		if (!is_word(p, "OR"))
			break;
		lex(p);
		rhs = obs(p);
		res.v1 = rhs.v1;
		res.free |= rhs.free;
	}
	return res;
}

/* Parse a pattern into x->v; NULL or the reason it is refused. */
static const char *pattern_parse(struct stix *x, const char *s, size_t n)
{
	struct pparse p = { .x = x, .s = s, .n = n };
	struct pres res;

	x->nv = 0;
	x->na = 0;
	lex(&p);
	res = obs_or(&p);
	if (!p.err && p.t.k != T_END)
		syntax_err(&p);
	if (!p.err && res.free)
		perr(&p, "no address constrains", p.free_path, p.free_n);
	return p.err;
}

/* ---- objects --------------------------------------------------------------------- */

static const char *get_str(struct json_object *obj, const char *key, size_t *len)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	if (len)
		*len = (size_t)json_object_get_string_len(v);
	return json_object_get_string(v);
}

static bool is_type(struct json_object *obj, const char *type)
{
	const char *t = get_str(obj, "type", NULL);

	return t && !strcmp(t, type);
}

/* The first line holding a non-blank byte: where a single object starts. */
static __u32 first_line(const char *buf, size_t len)
{
	__u32 line = 1;

	for (size_t i = 0; i < len && (feed_is_blank(buf[i]) || buf[i] == '\n'); i++)
		line += buf[i] == '\n';
	return line;
}

struct version {
	char *id; /* a copy: the object's tree is gone */
	struct stix_time modified;
	size_t idx;
};

static int version_cmp(const void *a, const void *b)
{
	const struct version *x = a, *y = b;
	int c = strcmp(x->id, y->id);

	if (c)
		return c;
	c = time_cmp(&x->modified, &y->modified);
	if (c)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* A timestamp property: 1 when absent, 0 when read, -EINVAL when bad. */
static int get_time(struct json_object *obj, const char *key, struct stix_time *t)
{
	struct json_object *v;
	size_t n;
	const char *s;

	if (!json_object_object_get_ex(obj, key, &v) || json_object_is_type(v, json_type_null))
		return 1;
	s = get_str(obj, key, &n);
	if (!s || rfc3339_parse(s, n, t))
		return -EINVAL;
	return 0;
}

static int indicator(struct stix *x, struct json_object *obj, __u32 line, bool superseded)
{
	struct feed_run *r = x->r;
	struct json_object *v;
	struct stix_time from, until = { 0 };
	const char *pattern, *ptype, *id, *why;
	size_t pn = 0;
	int has_until, err;

	id = feed_json_id(obj, "id");
	pattern = get_str(obj, "pattern", &pn);
	ptype = get_str(obj, "pattern_type", NULL);
	if (superseded ||
	    (json_object_object_get_ex(obj, "revoked", &v) &&
	     json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v)) ||
	    (ptype && strcmp(ptype, "stix"))) {
		r->st->skipped++;
		return 0;
	}
	if (!pattern)
		return feed_reject(r, line, "no pattern", id, id ? strlen(id) : 0);
	err = get_time(obj, "valid_from", &from);
	if (err < 0)
		return feed_reject(r, line, "bad valid_from timestamp", pattern, pn);
	if (!err && from.sec > r->now) {
		r->st->skipped++; /* not valid yet */
		return 0;
	}
	has_until = get_time(obj, "valid_until", &until);
	if (has_until < 0)
		return feed_reject(r, line, "bad valid_until timestamp", pattern, pn);
	if (!has_until && until.sec <= r->now) {
		r->st->skipped++; /* expired */
		return 0;
	}
	why = pattern_parse(x, pattern, pn);
	if (why == out_of_memory)
		return -ENOMEM;
	if (why)
		return feed_reject(r, line, why, pattern, pn);
	for (size_t i = 0; i < x->nv; i++) {
		struct bwe_indicator ind = {
			.kind = x->v[i].kind,
			.line = line,
			.id = id,
			.valid_until = has_until ? 0 : until.sec,
		};

		if (ind.kind == BWE_IND_PREFIX)
			ind.pfx = x->v[i].pfx;
		else
			ind.domain = x->arena + x->v[i].dom;
		err = feed_deliver(r, &ind);
		if (err)
			return err;
	}
	return 0;
}

static int object(struct stix *x, struct json_object *obj, __u32 line, bool superseded)
{
	if (!json_object_is_type(obj, json_type_object))
		return feed_reject(x->r, line, "not a JSON object", json_object_to_json_string(obj),
				   strlen(json_object_to_json_string(obj)));
	if (!get_str(obj, "type", NULL))
		return feed_reject(x->r, line, "no \"type\"", json_object_to_json_string(obj),
				   strlen(json_object_to_json_string(obj)));
	if (!is_type(obj, "indicator")) {
		x->r->st->skipped++;
		return 0;
	}
	return indicator(x, obj, line, superseded);
}

/* ---- the body, one object at a time ------------------------------------------------ */

/*
 * json-c holds about 6.7 times the text as a tree, so a bundle is never
 * parsed whole: a small scanner walks its outer structure (the top-level
 * array, or the members of the bundle object and its "objects" array) and
 * json-c parses one element at a time, which is freed before the next.
 * Pass 1 parses every element (the body is refused as a whole, before any
 * callback, when one is not JSON) and collects the indicator versions;
 * pass 2 parses them again and delivers. The scanner only finds where a
 * value ends; json-c validates every byte of it.
 */
struct jscan {
	const char *buf;
	size_t len, i;
	__u32 line; /* of buf[i] */
};

static void js_advance(struct jscan *s)
{
	if (s->buf[s->i] == '\n' && s->line < UINT32_MAX)
		s->line++;
	s->i++;
}

/* JSON white space (RFC 8259): what json-c skips between tokens. */
static void js_ws(struct jscan *s)
{
	while (s->i < s->len && (s->buf[s->i] == ' ' || s->buf[s->i] == '\t' ||
				 s->buf[s->i] == '\n' || s->buf[s->i] == '\r'))
		js_advance(s);
}

/* Past the string whose '"' is at s->i; -EBADMSG when it does not end. */
static int js_string(struct jscan *s)
{
	js_advance(s);
	while (s->i < s->len) {
		char c = s->buf[s->i];

		js_advance(s);
		if (c == '"')
			return 0;
		if (c == '\\' && s->i < s->len)
			js_advance(s);
	}
	return -EBADMSG;
}

/*
 * Past one value starting at s->i, nested at most depth levels; its text is
 * not validated here (json-c does that). -EBADMSG when it cannot end.
 */
static int js_value(struct jscan *s, int depth)
{
	int level = 0;

	if (s->i >= s->len)
		return -EBADMSG;
	if (s->buf[s->i] == '"')
		return js_string(s);
	if (s->buf[s->i] != '{' && s->buf[s->i] != '[') {
		size_t start = s->i;

		while (s->i < s->len && !strchr(" \t\n\r,:]}[{\"", s->buf[s->i]) &&
		       s->buf[s->i] != '\0')
			js_advance(s);
		return s->i > start ? 0 : -EBADMSG;
	}
	while (s->i < s->len) {
		char c = s->buf[s->i];

		if (c == '"') {
			if (js_string(s))
				return -EBADMSG;
			continue;
		}
		if (c == '{' || c == '[') {
			if (++level > depth)
				return -EBADMSG;
		} else if (c == '}' || c == ']') {
			level--;
		}
		js_advance(s);
		if (!level)
			return 0;
	}
	return -EBADMSG;
}

/* json-c parse of buf[start..end) at the given nesting budget. */
static int js_parse(const struct jscan *s, size_t start, size_t end, int depth,
		    struct json_object **out)
{
	return feed_json_parse_depth(s->buf + start, end - start, depth, out);
}

/* The elements of an array: the '[' at it->s.i, elements nested <= depth. */
struct elems {
	struct jscan s;
	int depth;
	bool started, done;
};

/* Next element: 1 (its span and line), 0 after the ']', -EBADMSG. */
static int elems_next(struct elems *it, size_t *start, size_t *end, __u32 *line)
{
	struct jscan *s = &it->s;

	if (it->done)
		return 0;
	if (!it->started) {
		it->started = true;
		js_advance(s); /* '[' */
		js_ws(s);
		if (s->i < s->len && s->buf[s->i] == ']') {
			js_advance(s);
			it->done = true;
			return 0;
		}
	} else {
		js_ws(s);
		if (s->i < s->len && s->buf[s->i] == ']') {
			js_advance(s);
			it->done = true;
			return 0;
		}
		if (s->i >= s->len || s->buf[s->i] != ',')
			return -EBADMSG;
		js_advance(s);
		js_ws(s);
	}
	*start = s->i;
	*line = s->line;
	if (js_value(s, it->depth))
		return -EBADMSG;
	*end = s->i;
	return 1;
}

/* Only JSON white space from s->i to the end (json-c's strict mode). */
static bool js_trailer_ok(const struct jscan *s)
{
	struct jscan t = *s;

	js_ws(&t);
	return t.i == t.len;
}

/* superseded[i]: element i is an indicator of which a later "modified" exists. */
static int stream_versions(const struct elems *start, bool *superseded, size_t n, bool *all_objects)
{
	struct elems it = *start;
	struct version *v = calloc(n ? n : 1, sizeof(*v));
	size_t nv = 0, i, b, e;
	__u32 line;
	int err = 0;

	if (!v)
		return -ENOMEM;
	*all_objects = true;
	for (i = 0; !err && elems_next(&it, &b, &e, &line) == 1; i++) {
		struct json_object *o;
		const char *id, *mod;
		size_t ml;

		*all_objects &= it.s.buf[b] == '{';
		err = js_parse(&it.s, b, e, it.depth, &o);
		if (err)
			break;
		if (json_object_is_type(o, json_type_object) && is_type(o, "indicator") &&
		    (id = get_str(o, "id", NULL))) {
			v[nv] = (struct version){ .id = strdup(id), .idx = i };
			mod = get_str(o, "modified", &ml);
			if (mod && rfc3339_parse(mod, ml, &v[nv].modified))
				v[nv].modified = (struct stix_time){ 0 };
			if (!v[nv].id)
				err = -ENOMEM;
			nv++;
		}
		json_object_put(o);
	}
	if (!err) {
		qsort(v, nv, sizeof(*v), version_cmp);
		for (i = 0; i + 1 < nv; i++)
			if (!strcmp(v[i].id, v[i + 1].id))
				superseded[v[i].idx] = true;
	}
	for (i = 0; i < nv; i++)
		free(v[i].id);
	free(v);
	return err;
}

/*
 * An array of STIX objects whose '[' is at start->s.i: validate, then
 * deliver. top: the array is the whole body (only blanks may follow it).
 */
static int stream_objects(struct stix *x, const struct elems *start, bool top)
{
	struct elems it = *start;
	bool *superseded = NULL, all_objects;
	size_t n = 0, i, b, e;
	__u32 line;
	int err;

	/* count and check the structure first: nothing is delivered from a broken body */
	while ((err = elems_next(&it, &b, &e, &line)) == 1)
		n++;
	if (err || (top && !js_trailer_ok(&it.s)))
		return -EBADMSG;
	superseded = calloc(n ? n : 1, sizeof(*superseded));
	if (!superseded)
		return -ENOMEM;
	err = stream_versions(start, superseded, n, &all_objects);
	it = *start;
	for (i = 0; !err && elems_next(&it, &b, &e, &line) == 1; i++) {
		struct json_object *o;

		err = js_parse(&it.s, b, e, it.depth, &o);
		if (!err)
			err = object(x, o, all_objects ? line : 0, superseded[i]);
		json_object_put(o);
	}
	free(superseded);
	return err;
}

/*
 * The members of the top-level object at s->i: the last "type" (as json-c
 * keeps the last of duplicate keys) into *type (NULL when not a string),
 * the last "objects" value's start into *objs (SIZE_MAX none). Every other
 * value, and every earlier "objects", is parsed (validated) and dropped.
 */
static int scan_members(struct jscan *s, char *type, size_t type_cap, bool *has_type, size_t *objs,
			__u32 *objs_line)
{
	const int depth = BWE_FEED_JSON_DEPTH - 1;
	size_t last_objs = SIZE_MAX, last_end = 0;
	__u32 last_line = 0;
	int err;

	*has_type = false;
	js_advance(s); /* '{' */
	js_ws(s);
	if (s->i < s->len && s->buf[s->i] == '}') {
		js_advance(s);
		goto done;
	}
	for (;;) {
		struct json_object *k = NULL, *v = NULL;
		size_t kb = s->i, vb;
		bool is_objs, is_type_key;

		if (s->i >= s->len || s->buf[s->i] != '"' || js_string(s))
			return -EBADMSG;
		err = js_parse(s, kb, s->i, depth, &k);
		if (err)
			return err;
		is_objs = !strcmp(json_object_get_string(k), "objects");
		is_type_key = !strcmp(json_object_get_string(k), "type");
		json_object_put(k);
		js_ws(s);
		if (s->i >= s->len || s->buf[s->i] != ':')
			return -EBADMSG;
		js_advance(s);
		js_ws(s);
		vb = s->i;
		if (is_objs && last_objs != SIZE_MAX) {
			/* an earlier "objects" is dropped by json-c: only validate it */
			err = js_parse(s, last_objs, last_end, depth, &v);
			json_object_put(v);
			if (err)
				return err;
		}
		if (is_objs)
			last_line = s->line;
		if (js_value(s, depth))
			return -EBADMSG;
		if (is_objs) {
			last_objs = vb;
			last_end = s->i;
		} else {
			err = js_parse(s, vb, s->i, depth, &v);
			if (err)
				return err;
			if (is_type_key) {
				*has_type = json_object_is_type(v, json_type_string);
				snprintf(type, type_cap, "%s",
					 *has_type ? json_object_get_string(v) : "");
			}
			json_object_put(v);
		}
		js_ws(s);
		if (s->i < s->len && s->buf[s->i] == ',') {
			js_advance(s);
			js_ws(s);
			continue;
		}
		if (s->i < s->len && s->buf[s->i] == '}') {
			js_advance(s);
			break;
		}
		return -EBADMSG;
	}
done:
	*objs = last_objs;
	*objs_line = last_line;
	return 0;
}

#define TYPE_MAX 16 /* bytes of a top-level "type" worth comparing ("bundle") */

int feed_parse_stix(struct feed_run *r, const char *buf, size_t len)
{
	struct stix x = { .r = r };
	struct jscan s = { .buf = buf, .len = len, .line = 1 };
	struct json_object *root = NULL;
	char type[TYPE_MAX];
	size_t objs;
	__u32 objs_line;
	bool has_type;
	int err;

	r->st->lines = feed_count_lines(buf, len);
	js_ws(&s);
	if (s.i < len && buf[s.i] == '[') {
		/* a JSON array of STIX objects */
		struct elems it = { .s = s, .depth = BWE_FEED_JSON_DEPTH - 1 };

		err = stream_objects(&x, &it, true);
		goto out;
	}
	if (s.i >= len || buf[s.i] != '{') {
		/* a scalar, or not JSON: as json-c would say */
		return -EBADMSG;
	}
	err = scan_members(&s, type, sizeof(type), &has_type, &objs, &objs_line);
	if (err || !js_trailer_ok(&s))
		return err == -ENOMEM ? err : -EBADMSG;
	if (!has_type)
		return -EBADMSG;
	if (strcmp(type, "bundle")) {
		/* one STIX object: a single tree */
		err = feed_json_parse(buf, len, &root);
		if (!err)
			err = object(&x, root, first_line(buf, len), false);
		goto out;
	}
	if (objs == SIZE_MAX)
		goto out; /* an empty bundle */
	if (buf[objs] != '[') {
		struct json_object *v = NULL;
		struct jscan t = { .buf = buf, .len = len, .i = objs };

		/* a bundle whose objects are not a list (or not JSON) */
		if (js_value(&t, BWE_FEED_JSON_DEPTH - 1) == 0 &&
		    js_parse(&t, objs, t.i, BWE_FEED_JSON_DEPTH - 1, &v) == -ENOMEM)
			return -ENOMEM;
		json_object_put(v);
		return -EBADMSG;
	}
	{
		struct elems it = {
			.s = { .buf = buf, .len = len, .i = objs, .line = objs_line },
			.depth = BWE_FEED_JSON_DEPTH - 2,
		};

		err = stream_objects(&x, &it, false);
	}
out:
	free(x.v);
	free(x.arena);
	json_object_put(root);
	return err;
}
