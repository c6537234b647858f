/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * feed_impl.h - internals shared by lib/feed*.c, the one feed parser.
 * Only those files include it; everybody else uses feed.h.
 *
 * A parse is one struct feed_run on the stack of bwe_feed_parse(): the
 * options, the stats being filled, and the scratch buffers whose contents
 * callbacks see (reason, excerpt, domain, id). Format parsers report
 * through feed_emit_*() and feed_reject() only, so the checks every entry
 * must pass live in one place and stats are counted in one place.
 */
#ifndef BWE_FEED_IMPL_H
#define BWE_FEED_IMPL_H

#include <stdbool.h>
#include <stddef.h>

#include "addr.h"
#include "feed.h"

#define FEED_REASON_MAX 160		  /* bytes of a formatted reason */
#define FEED_ID_MAX	64		  /* bytes of a text-format id ("SBL123") */
#define FEED_TOKEN_MAX	BWE_PREFIX_STRLEN /* bytes of an address token */

struct feed_run {
	const struct bwe_feed_parse_opts *o;
	struct bwe_feed_stats *st;
	int min_plen_v4, min_plen_v6; /* family lengths, resolved defaults */
	__s64 now;		      /* unix seconds, resolved */
	__u32 line;		      /* current line, 1-based; 0 before the first */
	char reason[FEED_REASON_MAX]; /* formatted reasons */
	char excerpt[BWE_FEED_EXCERPT_MAX + 1];
	char domain[BWE_FEED_DOMAIN_MAX + 2]; /* + trailing dot, NUL */
	char id[FEED_ID_MAX];
	void *fmt; /* the format parser's own state */
};

/* One text line: s[0..n) is trimmed, non-empty, NUL-free, short enough. */
typedef int (*feed_line_fn)(struct feed_run *r, const char *s, size_t n);

/* ---- feed.c: shared helpers ----------------------------------------------- */

bool feed_is_blank(char c);
/* Trim blanks on both ends of s[0..*n); returns the new start. */
const char *feed_trim(const char *s, size_t *n);
/* Length of the text before the first of the characters in stops. */
size_t feed_span_to(const char *s, size_t n, const char *stops);
/* Case-insensitive: does s[0..n) start with the NUL-terminated word? */
bool feed_starts_with(const char *s, size_t n, const char *word);

/*
 * Read one address token s[0..n) (bwe_prefix_parse grammar, host bits
 * masked, /0 allowed here: the checks come later). 0, or -EINVAL with
 * *reason set to a static string.
 */
int feed_prefix_text(const char *s, size_t n, struct bwe_prefix *out, const char **reason);
/* NULL when p may be delivered, else the reason (maybe r->reason). */
const char *feed_prefix_check(struct feed_run *r, const struct bwe_prefix *p);
/* Validate and lower-case a domain name into out (BWE_FEED_DOMAIN_MAX + 2). */
int feed_domain_norm(const char *s, size_t n, char *out);

/*
 * Count a refused line or object and tell on_reject: line, reason and the
 * first BWE_FEED_EXCERPT_MAX bytes of text[0..n). Returns 0, so a parser
 * can "return feed_reject(...)".
 */
int feed_reject(struct feed_run *r, __u32 line, const char *reason, const char *text, size_t n);
/* Deliver an indicator that passed every check; 0 or on_ind's value. */
int feed_deliver(struct feed_run *r, const struct bwe_indicator *ind);
/*
 * Check p (feed_prefix_check) and deliver it, or reject text[0..n) when it
 * fails. 0 or on_ind's value.
 */
int feed_emit_prefix(struct feed_run *r, const struct bwe_prefix *p, const char *id,
		     const char *text, size_t n);
/* feed_prefix_text() + feed_emit_prefix() of one token. */
int feed_emit_token(struct feed_run *r, const char *tok, size_t toklen, const char *id,
		    const char *line, size_t n);

/*
 * Split buf[0..len) into lines and call fn for each non-blank one, after
 * rejecting lines that are too long or hold a NUL byte. Counts st->lines.
 */
int feed_lines(struct feed_run *r, const char *buf, size_t len, feed_line_fn fn);
/* Number of lines in buf[0..len) as feed_lines() counts them. */
size_t feed_count_lines(const char *buf, size_t len);

/* ---- feed_text.c: line parsers of the text formats ------------------------ */

int feed_plain_line(struct feed_run *r, const char *s, size_t n);
int feed_spamhaus_line(struct feed_run *r, const char *s, size_t n);
int feed_freeform_line(struct feed_run *r, const char *s, size_t n);
int feed_domains_line(struct feed_run *r, const char *s, size_t n);
int feed_csv_line(struct feed_run *r, const char *s, size_t n);
/*
 * Field number col (1-based) of a CSV row, unquoted into out (cap bytes,
 * NUL-terminated). 0, -ENOENT (no such field), -EINVAL (bad quoting),
 * -ENOSPC (longer than cap - 1).
 */
int feed_csv_field(const char *s, size_t n, unsigned int col, char *out, size_t cap);
/* True when a domain name follows the hosts-file boilerplate rules. */
bool feed_hosts_boilerplate(const char *name, size_t n);

/* ---- feed_json.c / feed_stix.c: the JSON formats -------------------------- */

/*
 * Parse a whole JSON text buf[0..len) (strict; nothing but blanks after the
 * value). *out is the value (json_object_put() it; NULL for JSON null);
 * -EBADMSG or -ENOMEM.
 */
struct json_object;
int feed_json_parse(const char *buf, size_t len, struct json_object **out);
/* The same, for a value nested inside a body: at most depth levels. */
int feed_json_parse_depth(const char *buf, size_t len, int depth, struct json_object **out);
/* A printable ASCII id of 1..FEED_ID_MAX - 1 bytes, else NULL. */
const char *feed_json_id(struct json_object *obj, const char *key);
int feed_parse_spamhaus_json(struct feed_run *r, const char *buf, size_t len);
int feed_parse_stix(struct feed_run *r, const char *buf, size_t len);
/* feed_crowdsec.c: a LAPI decision stream read as a feed (feed.h, CROWDSEC). */
int feed_parse_crowdsec(struct feed_run *r, const char *buf, size_t len);
/* feed_taxii.c: one TAXII envelope read as a feed (feed.h, TAXII). */
int feed_parse_taxii(struct feed_run *r, const char *buf, size_t len);
/* feed_misp.c: a MISP restSearch response (feed.h, MISP). */
int feed_parse_misp(struct feed_run *r, const char *buf, size_t len);

/* ---- feed_zeek.c: Zeek intel files ---------------------------------------- */

int feed_parse_zeek(struct feed_run *r, const char *buf, size_t len);
/* A "#fields" line s[0..n) naming indicator_type: a Zeek intel file. */
bool feed_zeek_header(const char *s, size_t n);

/* ---- feed_pattern.c: STIX patterning -------------------------------------- */

struct feed_pvalue {
	enum bwe_ind_kind kind;
	struct bwe_prefix pfx; /* PREFIX: checked (feed_prefix_check), masked */
	size_t dom;	       /* DOMAIN: offset in text, normalised */
};

/*
 * What one pattern yields (grammar and rules in feed_pattern.c). Reused
 * from pattern to pattern; zero it before the first, feed_pattern_free()
 * after the last.
 */
struct feed_pattern {
	const char *err;       /* malformed: the reason (static or the run's
			  * reason buffer); nothing else is set */
	bool addr;	       /* some branch names an address path; false: the
			  * pattern is not about addresses */
	struct feed_pvalue *v; /* the values of the enforceable branches */
	size_t nv, capv;
	size_t *rej; /* offsets in text: reasons of refused branches */
	size_t nrej, caprej;
	char *text; /* NUL-terminated domains and reasons */
	size_t nt, capt;
};

/*
 * Parse s[0..n) into pt: 0 (pt->err says whether it is malformed) or
 * -ENOMEM. v21: the indicator is STIX 2.1 (its few stricter rules apply).
 */
int feed_pattern_parse(struct feed_run *r, struct feed_pattern *pt, const char *s, size_t n,
		       bool v21);
void feed_pattern_free(struct feed_pattern *pt);

#endif /* BWE_FEED_IMPL_H */
