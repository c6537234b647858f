// SPDX-License-Identifier: GPL-2.0-only
/*
 * export.c - the export cursor and its four formats; contract in export.h.
 *
 * Formats:
 *   plain       one address or CIDR a line, nothing else: the external
 *               dynamic list of PAN-OS ("IP List") and the FortiGate
 *               external threat feed ("IP Address") read it as it is;
 *   zeek-intel  Zeek's intel framework file: a #fields header, one
 *               tab-separated indicator a line (Intel::ADDR, Intel::SUBNET,
 *               Intel::DOMAIN for the domains feeds listed), one line per
 *               source, "-" for an empty field;
 *   stix        a STIX 2.1 bundle: an identity for the gateway; blocks
 *               and feed entries as indicators; hosts a rule contained as
 *               an address object, observed-data and a sighting of the
 *               ATT&CK pattern T1496.002, with the rule's evidence;
 *   json        {"type": "bwenforce-export", ..., "entries": [...],
 *               "count": N}, fields as bwctl(8) documents them.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>

#include "bwe_abi.h"
#include "config.h"
#include "export.h"
#include "feed.h"
#include "util.h"

#define EXP_BUF_MIN   65536		 /* bytes of a new buffer */
#define EXP_SRC_MAX   (BWE_FEED_MAX + 1) /* sources of one prefix: manual and each feed */
#define EXP_HOST_MAX  256		 /* bytes of the gateway's name */
#define EXP_STAMP_LEN 32		 /* "2026-12-04T18:07:12.000Z" and room */
#define EXP_ID_LEN    80		 /* "attack-pattern--" and a UUID */
#define EXP_DOM_MIN   1024		 /* slots of the domain set when first needed */
#define STIX_UUID_LEN 36

#define TECHNIQUE_ID   "T1496.002"
#define TECHNIQUE_NAME "Resource Hijacking: Bandwidth Hijacking"
#define TECHNIQUE_URL  "https://attack.mitre.org/techniques/T1496/002/"

/* One source of a prefix: a feed entry or an operator's entry. */
struct exp_src {
	const char *feed; /* "manual" for an operator's block */
	bool monitor;
	__u32 line;
	const char *indicator; /* NULL: none */
	time_t first_seen, valid_until;
	const struct st_entry *st; /* an operator's entry (manual block, quarantine, throttle) */
};

struct exp_rec {
	struct bwe_prefix pfx;
	struct exp_src src[EXP_SRC_MAX];
	size_t n;
};

enum exp_phase { X_HEAD, X_BODY, X_TAIL, X_DONE };

struct export
{
	const struct st_store *st;
	const struct fstore *fs;
	enum bwe_export_format fmt;
	enum bwe_export_set set;
	__u8 only; /* set feeds: one feed id; 0: all */
	time_t now;
	enum exp_phase phase;
	char host[EXP_HOST_MAX];
	char stamp[EXP_STAMP_LEN];   /* now, RFC 3339 with milliseconds */
	char identity[EXP_ID_LEN];   /* STIX id of the gateway */
	char pattern_id[EXP_ID_LEN]; /* STIX id of the ATT&CK pattern */
	__u64 rng[2];		     /* xorshift128+ for UUIDs, seeded by getrandom */
	struct st_entry *ents;	     /* operator entries of the set, sorted by prefix */
	size_t nents, epos;
	__u8 feed;		/* set feeds: the feed being read */
	struct bwe_prefix last; /* the last prefix written (blocks, feeds) */
	bool have_last;
	size_t entries;
	char **dom; /* zeek-intel: domains written (open addressing) */
	size_t ndom, domcap;
};

void export_buf_free(struct export_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

static int buf_room(struct export_buf *b, size_t more)
{
	size_t cap;
	char *p;

	if (b->len + more + 1 <= b->cap)
		return 0;
	cap = b->cap ? b->cap : EXP_BUF_MIN;
	while (cap < b->len + more + 1)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p)
		return -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

static int put(struct export_buf *b, const char *s, size_t n)
{
	if (buf_room(b, n))
		return -ENOMEM;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

int export_buf_put(struct export_buf *b, const void *p, size_t n)
{
	return put(b, p, n);
}

static int puts_(struct export_buf *b, const char *s)
{
	return put(b, s, strlen(s));
}

static int putf(struct export_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int putf(struct export_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || buf_room(b, (size_t)n))
		return -ENOMEM;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

/* A JSON value as compact text, then put; takes o. */
static int put_json(struct export_buf *b, struct json_object *o)
{
	int e;

	if (!o)
		return -ENOMEM;
	e = puts_(b, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							       JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return e;
}

/* ---- time and identifiers ---------------------------------------------------------- */

static void stamp(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
}

static __u64 rng_next(struct export *x)
{
	__u64 a = x->rng[0], b = x->rng[1];

	x->rng[0] = b;
	a ^= a << 23;
	a ^= a >> 17;
	a ^= b ^ (b >> 26);
	x->rng[1] = a;
	return a + b;
}

/* "type--" and a UUID of version 4 and the RFC 4122 variant made of hi, lo. */
static void uuid_fmt(char *buf, size_t len, const char *type, __u64 hi, __u64 lo)
{
	hi = (hi & ~0xf000ULL) | 0x4000ULL;	  /* version 4 */
	lo = (lo & ~(3ULL << 62)) | (2ULL << 62); /* variant 10 */
	snprintf(buf, len, "%s--%08llx-%04llx-%04llx-%04llx-%012llx", type,
		 (unsigned long long)(hi >> 32), (unsigned long long)((hi >> 16) & 0xffff),
		 (unsigned long long)(hi & 0xffff), (unsigned long long)(lo >> 48),
		 (unsigned long long)(lo & 0xffffffffffffULL));
}

static void stix_id(struct export *x, char *buf, size_t len, const char *type)
{
	__u64 hi = rng_next(x);

	uuid_fmt(buf, len, type, hi, rng_next(x));
}

/* FNV-1a 64 of s from a basis: the gateway's identity is the same in every export. */
static __u64 fnv1a(const char *s, __u64 h)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

/* ---- operator entries --------------------------------------------------------------- */

static int ent_cmp(const void *a, const void *b)
{
	const struct st_entry *x = a, *y = b;
	int c = bwe_prefix_cmp(&x->pfx, &y->pfx);

	return c ? c : (int)x->kind - (int)y->kind;
}

static bool expired(time_t until, time_t now)
{
	return until && until <= now;
}

/* Copy the entries of the set's kinds that are in force, sorted by prefix. */
static int snapshot(struct export *x)
{
	size_t i, n = st_count(x->st);

	x->ents = calloc(n ? n : 1, sizeof(*x->ents));
	if (!x->ents)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		const struct st_entry *e = st_at(x->st, i);
		bool want = x->set == BWE_EXP_BLOCKS
				    ? e->kind == ST_BLOCK
				    : x->set == BWE_EXP_QUARANTINE &&
					      (e->kind == ST_QUARANTINE || e->kind == ST_THROTTLE);

		if (want && !expired(e->expires, x->now))
			x->ents[x->nents++] = *e;
	}
	if (x->nents)
		qsort(x->ents, x->nents, sizeof(*x->ents), ent_cmp);
	return 0;
}

/* ---- walking the sets ---------------------------------------------------------------- */

/* The first entry of v after x->last that is in force; v->n when none. */
static size_t feed_pos(const struct export *x, const struct fs_vec *v)
{
	size_t lo = 0, hi = v->n;

	while (x->have_last && lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (bwe_prefix_cmp(&v->v[mid].pfx, &x->last) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	while (lo < v->n && expired(fs_ent_valid_until(v, &v->v[lo]), x->now))
		lo++;
	return lo;
}

static void src_feed(struct exp_src *s, const char *name, bool monitor, const struct fs_vec *v,
		     const struct fs_ent *e)
{
	memset(s, 0, sizeof(*s));
	s->feed = name;
	s->monitor = monitor;
	s->line = e->line;
	s->indicator = fs_vec_ind(v, e);
	s->first_seen = fs_ent_first_seen(v, e);
	s->valid_until = fs_ent_valid_until(v, e);
}

static void src_entry(struct exp_src *s, const struct st_entry *e)
{
	memset(s, 0, sizeof(*s));
	s->feed = "manual";
	s->first_seen = e->since;
	s->valid_until = e->expires;
	s->st = e;
}

/* blocks: the next prefix of every drop source merged, with all its sources. */
static bool next_block(struct export *x, struct exp_rec *r)
{
	const struct bwe_prefix *min = NULL;
	size_t pos[BWE_FEED_MAX + 1];
	unsigned int id;

	while (x->epos < x->nents && x->have_last &&
	       bwe_prefix_cmp(&x->ents[x->epos].pfx, &x->last) <= 0)
		x->epos++;
	if (x->epos < x->nents)
		min = &x->ents[x->epos].pfx;
	for (id = BWE_FEED_FIRST; id <= BWE_FEED_MAX; id++) {
		const struct fs_vec *v = fstore_entries(x->fs, (__u8)id);
		bool monitor;

		pos[id] = SIZE_MAX;
		if (!v || !fstore_feed_info(x->fs, (__u8)id, NULL, NULL, &monitor) || monitor)
			continue;
		pos[id] = feed_pos(x, v);
		if (pos[id] < v->n && (!min || bwe_prefix_cmp(&v->v[pos[id]].pfx, min) < 0))
			min = &v->v[pos[id]].pfx;
	}
	if (!min)
		return false;
	r->pfx = *min;
	r->n = 0;
	if (x->epos < x->nents && !bwe_prefix_cmp(&x->ents[x->epos].pfx, &r->pfx))
		src_entry(&r->src[r->n++], &x->ents[x->epos]);
	for (id = BWE_FEED_FIRST; id <= BWE_FEED_MAX; id++) {
		const struct fs_vec *v = fstore_entries(x->fs, (__u8)id);
		const char *name;

		if (pos[id] == SIZE_MAX || pos[id] >= v->n ||
		    bwe_prefix_cmp(&v->v[pos[id]].pfx, &r->pfx))
			continue;
		fstore_feed_info(x->fs, (__u8)id, &name, NULL, NULL);
		src_feed(&r->src[r->n++], name, false, v, &v->v[pos[id]]);
	}
	x->last = r->pfx;
	x->have_last = true;
	return true;
}

/* feeds: the next entry of the feed being read, then of the next feed. */
static bool next_feed(struct export *x, struct exp_rec *r)
{
	unsigned int last_id = x->only ? x->only : BWE_FEED_MAX;

	for (; x->feed && x->feed <= last_id; x->feed++, x->have_last = false) {
		const struct fs_vec *v = fstore_entries(x->fs, x->feed);
		const char *name;
		bool monitor;
		size_t p;

		if (!v || !fstore_feed_info(x->fs, x->feed, &name, NULL, &monitor))
			continue;
		p = feed_pos(x, v);
		if (p >= v->n)
			continue;
		r->pfx = v->v[p].pfx;
		r->n = 1;
		src_feed(&r->src[0], name, monitor, v, &v->v[p]);
		x->last = r->pfx;
		x->have_last = true;
		return true;
	}
	return false;
}

/* quarantine: the next quarantine or throttle (STIX: only those a rule made). */
static bool next_contained(struct export *x, struct exp_rec *r)
{
	while (x->epos < x->nents) {
		const struct st_entry *e = &x->ents[x->epos++];

		if (x->fmt == BWE_EXP_STIX && e->actor.kind != ACTOR_RULE)
			continue;
		r->pfx = e->pfx;
		r->n = 1;
		src_entry(&r->src[0], e);
		return true;
	}
	return false;
}

static bool next_rec(struct export *x, struct exp_rec *r)
{
	switch (x->set) {
	case BWE_EXP_BLOCKS:
		return next_block(x, r);
	case BWE_EXP_FEEDS:
		return next_feed(x, r);
	default:
		return next_contained(x, r);
	}
}

/* ---- plain ----------------------------------------------------------------------------- */

static int plain_rec(struct export *x, const struct exp_rec *r, struct export_buf *b)
{
	char p[BWE_PREFIX_STRLEN];

	(void)x;
	bwe_prefix_fmt(&r->pfx, p, sizeof(p));
	return putf(b, "%s\n", p);
}

/* ---- zeek-intel ------------------------------------------------------------------------ */

/* A field of a Zeek ASCII file: no tab, newline or control byte; "-" when empty. */
static int zeek_field(struct export_buf *b, const char *s)
{
	size_t start = b->len;
	int e = 0;

	for (; s && *s && !e; s++) {
		char c = (unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s;

		e = put(b, &c, 1);
	}
	if (!e && b->len == start)
		e = put(b, "-", 1);
	/* "-" and "(empty)" alone mean "unset" and "empty set" to Zeek's reader */
	if (!e && b->len - start == 7 && !memcmp(b->p + start, "(empty)", 7))
		e = put(b, ".", 1);
	return e;
}

/* A STIX id ("indicator--" and a UUID), not a domain. */
static bool is_stix_id(const char *s)
{
	const char *d = strstr(s, "--");
	size_t i;

	if (!d || strlen(d + 2) != STIX_UUID_LEN)
		return false;
	for (i = 0, d += 2; i < STIX_UUID_LEN; i++)
		if ((i == 8 || i == 13 || i == 18 || i == 23) ? d[i] != '-'
							      : !strchr("0123456789abcdef", d[i]))
			return false;
	return true;
}

/* A domain a feed listed (the indicator of a resolved entry). */
static bool is_domain(const char *s)
{
	size_t i;

	if (!s || !strchr(s, '.') || is_stix_id(s))
		return false;
	for (i = 0; s[i]; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
		      s[i] == '-'))
			return false;
	return true;
}

/* Add d to the set of domains written: 1 when new, 0 when there, -ENOMEM. */
static int dom_add(struct export *x, const char *d)
{
	size_t i;

	if (2 * (x->ndom + 1) > x->domcap) {
		size_t cap = x->domcap ? 2 * x->domcap : EXP_DOM_MIN, k;
		char **n = calloc(cap, sizeof(*n));

		if (!n)
			return -ENOMEM;
		for (k = 0; k < x->domcap; k++) {
			if (!x->dom[k])
				continue;
			for (i = fnv1a(x->dom[k], 0xcbf29ce484222325ULL) % cap; n[i];
			     i = (i + 1) % cap)
				;
			n[i] = x->dom[k];
		}
		free(x->dom);
		x->dom = n;
		x->domcap = cap;
	}
	for (i = fnv1a(d, 0xcbf29ce484222325ULL) % x->domcap; x->dom[i]; i = (i + 1) % x->domcap)
		if (!strcmp(x->dom[i], d))
			return 0;
	x->dom[i] = strdup(d);
	if (!x->dom[i])
		return -ENOMEM;
	x->ndom++;
	return 1;
}

/* What a source says, for people: "feed F line N (indicator I)", an operator's reason. */
static void describe(const struct exp_src *s, char *buf, size_t len)
{
	char who[ACTOR_TEXT_MAX];

	if (s->st) {
		actor_fmt(&s->st->actor, who, sizeof(who));
		snprintf(buf, len, "%s by %s%s%s", st_kind_name(s->st->kind), who,
			 s->st->reason[0] ? ": " : "", s->st->reason);
		return;
	}
	snprintf(buf, len, "%s feed %s line %u%s%s", s->monitor ? "monitored by" : "blocked by",
		 s->feed, s->line, s->indicator ? " indicator " : "",
		 s->indicator ? s->indicator : "");
}

static int zeek_line(struct export *x, struct export_buf *b, const char *ind, const char *type,
		     const struct exp_src *s)
{
	char src[BWE_FEED_NAME_MAX + 32], desc[ST_REASON_MAX + ACTOR_TEXT_MAX + 64];
	int e;

	snprintf(src, sizeof(src), "bwenforce/%s",
		 x->set == BWE_EXP_QUARANTINE ? st_kind_name(s->st->kind) : s->feed);
	describe(s, desc, sizeof(desc));
	if ((e = zeek_field(b, ind)) || (e = putf(b, "\t%s\t", type)) || (e = zeek_field(b, src)) ||
	    (e = put(b, "\t", 1)) || (e = zeek_field(b, desc)))
		return e;
	return put(b, "\n", 1);
}

static int zeek_rec(struct export *x, const struct exp_rec *r, struct export_buf *b)
{
	char p[BWE_PREFIX_STRLEN];
	bool host = r->pfx.plen == BWE_ADDR_BITS;
	size_t i;
	int e = 0;

	bwe_prefix_fmt(&r->pfx, p, sizeof(p));
	for (i = 0; i < r->n && !e; i++) {
		const struct exp_src *s = &r->src[i];

		char key[BWE_FEED_NAME_MAX + BWE_FEED_DOMAIN_MAX + 8];

		e = zeek_line(x, b, p, host ? "Intel::ADDR" : "Intel::SUBNET", s);
		if (e || !is_domain(s->indicator))
			continue;
		/* a domain resolves to many entries: one line per feed that lists it */
		snprintf(key, sizeof(key), "%s\t%s", s->feed, s->indicator);
		if ((e = dom_add(x, key)) == 1)
			e = zeek_line(x, b, s->indicator, "Intel::DOMAIN", s);
	}
	return e < 0 ? e : 0;
}

/* ---- json -------------------------------------------------------------------------------- */

static void add_time(struct json_object *o, const char *key, time_t t)
{
	json_add_time(o, key, t);
}

static struct json_object *src_json(const struct exp_src *s)
{
	struct json_object *o;

	if (s->st) {
		o = st_entry_json(s->st);
		json_object_object_add(o, "feed", json_object_new_string("manual"));
		return o;
	}
	o = json_object_new_object();
	json_object_object_add(o, "feed", json_object_new_string(s->feed));
	json_object_object_add(o, "action",
			       json_object_new_string(s->monitor ? "monitor" : "drop"));
	json_object_object_add(o, "line", s->line ? json_object_new_int64(s->line) : NULL);
	json_object_object_add(o, "indicator",
			       s->indicator ? json_object_new_string(s->indicator) : NULL);
	add_time(o, "first_seen", s->first_seen);
	add_time(o, "valid_until", s->valid_until);
	return o;
}

static int json_rec(struct export *x, const struct exp_rec *r, struct export_buf *b)
{
	struct json_object *o, *arr;
	char p[BWE_PREFIX_STRLEN];
	size_t i;
	int e;

	if (x->entries && (e = put(b, ",\n", 2)))
		return e;
	if (x->set == BWE_EXP_QUARANTINE)
		return put_json(b, st_entry_json(r->src[0].st));
	bwe_prefix_fmt(&r->pfx, p, sizeof(p));
	o = json_object_new_object();
	json_object_object_add(o, "cidr", json_object_new_string(p));
	json_object_object_add(o, "family",
			       json_object_new_string(bwe_addr_is_v4(&r->pfx.addr) ? "ipv4"
										   : "ipv6"));
	if (x->set == BWE_EXP_FEEDS) {
		json_object_object_add(o, "feed", json_object_new_string(r->src[0].feed));
		json_object_object_add(o, "action",
				       json_object_new_string(r->src[0].monitor ? "monitor"
										: "drop"));
		json_object_object_add(o, "line",
				       r->src[0].line ? json_object_new_int64(r->src[0].line)
						      : NULL);
		json_object_object_add(o, "indicator",
				       r->src[0].indicator
					       ? json_object_new_string(r->src[0].indicator)
					       : NULL);
		add_time(o, "first_seen", r->src[0].first_seen);
		add_time(o, "valid_until", r->src[0].valid_until);
		return put_json(b, o);
	}
	arr = json_object_new_array();
	for (i = 0; i < r->n; i++)
		json_object_array_add(arr, src_json(&r->src[i]));
	json_object_object_add(o, "sources", arr);
	return put_json(b, o);
}

/* ---- stix -------------------------------------------------------------------------------- */

static struct json_object *stix_obj(const char *type, const char *id)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "type", json_object_new_string(type));
	json_object_object_add(o, "spec_version", json_object_new_string("2.1"));
	json_object_object_add(o, "id", json_object_new_string(id));
	return o;
}

static void stix_common(const struct export *x, struct json_object *o)
{
	json_object_object_add(o, "created_by_ref", json_object_new_string(x->identity));
	json_object_object_add(o, "created", json_object_new_string(x->stamp));
	json_object_object_add(o, "modified", json_object_new_string(x->stamp));
}

static void stix_time(struct json_object *o, const char *key, time_t t)
{
	char s[EXP_STAMP_LEN];

	stamp(t, s, sizeof(s));
	json_object_object_add(o, key, json_object_new_string(s));
}

/* A prefix as a STIX pattern's value: the address alone for a host. */
static const char *addr_type(const struct bwe_prefix *p)
{
	return bwe_addr_is_v4(&p->addr) ? "ipv4-addr" : "ipv6-addr";
}

static int stix_indicator(struct export *x, const struct exp_rec *r, struct export_buf *b)
{
	struct json_object *o, *types, *labels = json_object_new_array(),
				       *refs = json_object_new_array();
	char id[EXP_ID_LEN], p[BWE_PREFIX_STRLEN], text[BWE_PREFIX_STRLEN + 96];
	time_t from = 0, until = 0;
	bool monitor = true, forever = false;
	size_t i;

	stix_id(x, id, sizeof(id), "indicator");
	bwe_prefix_fmt(&r->pfx, p, sizeof(p));
	o = stix_obj("indicator", id);
	stix_common(x, o);
	for (i = 0; i < r->n; i++) {
		const struct exp_src *s = &r->src[i];
		struct json_object *ref = json_object_new_object();
		char desc[ST_REASON_MAX + ACTOR_TEXT_MAX + 64];

		monitor &= s->monitor;
		if (s->first_seen && (!from || s->first_seen < from))
			from = s->first_seen;
		if (!s->valid_until)
			forever = true;
		else if (s->valid_until > until)
			until = s->valid_until;
		json_object_array_add(labels, json_object_new_string(s->feed));
		describe(s, desc, sizeof(desc));
		json_object_object_add(ref, "source_name",
				       json_object_new_string(s->st ? "bwenforce manual block"
								    : s->feed));
		json_object_object_add(ref, "description", json_object_new_string(desc));
		if (s->indicator)
			json_object_object_add(ref, "external_id",
					       json_object_new_string(s->indicator));
		json_object_array_add(refs, ref);
	}
	if (!from || from > x->now)
		from = x->now;
	snprintf(text, sizeof(text), "%s %s",
		 monitor ? "monitored by bwenforce:" : "blocked by bwenforce:", p);
	json_object_object_add(o, "name", json_object_new_string(text));
	types = json_object_new_array();
	json_object_array_add(types, json_object_new_string(monitor ? "anomalous-activity"
								    : "malicious-activity"));
	json_object_object_add(o, "indicator_types", types);
	snprintf(text, sizeof(text), "[%s:value = '%s']", addr_type(&r->pfx), p);
	json_object_object_add(o, "pattern", json_object_new_string(text));
	json_object_object_add(o, "pattern_type", json_object_new_string("stix"));
	json_object_object_add(o, "pattern_version", json_object_new_string("2.1"));
	stix_time(o, "valid_from", from);
	if (!forever && until > from)
		stix_time(o, "valid_until", until);
	json_object_object_add(o, "labels", labels);
	json_object_object_add(o, "external_references", refs);
	if (put(b, ",\n", 2))
		return -ENOMEM;
	return put_json(b, o);
}

/* A host a rule contained: the address, what was observed, the sighting of T1496.002. */
static int stix_sighting(struct export *x, const struct exp_rec *r, struct export_buf *b)
{
	const struct st_entry *e = r->src[0].st;
	struct json_object *sco, *od, *si, *arr;
	char sco_id[EXP_ID_LEN], od_id[EXP_ID_LEN], si_id[EXP_ID_LEN], p[BWE_PREFIX_STRLEN];
	time_t first = e->since && e->since <= x->now ? e->since : x->now;
	int err;

	bwe_prefix_fmt(&r->pfx, p, sizeof(p));
	stix_id(x, sco_id, sizeof(sco_id), addr_type(&r->pfx));
	stix_id(x, od_id, sizeof(od_id), "observed-data");
	stix_id(x, si_id, sizeof(si_id), "sighting");

	sco = stix_obj(addr_type(&r->pfx), sco_id);
	json_object_object_add(sco, "value", json_object_new_string(p));

	od = stix_obj("observed-data", od_id);
	stix_common(x, od);
	stix_time(od, "first_observed", first);
	stix_time(od, "last_observed", x->now);
	json_object_object_add(od, "number_observed", json_object_new_int(1));
	arr = json_object_new_array();
	json_object_array_add(arr, json_object_new_string(sco_id));
	json_object_object_add(od, "object_refs", arr);

	si = stix_obj("sighting", si_id);
	stix_common(x, si);
	if (e->reason[0]) /* the rule's evidence, as the audit trail holds it */
		json_object_object_add(si, "description", json_object_new_string(e->reason));
	stix_time(si, "first_seen", first);
	stix_time(si, "last_seen", x->now);
	json_object_object_add(si, "count", json_object_new_int(1));
	json_object_object_add(si, "sighting_of_ref", json_object_new_string(x->pattern_id));
	arr = json_object_new_array();
	json_object_array_add(arr, json_object_new_string(od_id));
	json_object_object_add(si, "observed_data_refs", arr);
	arr = json_object_new_array();
	json_object_array_add(arr, json_object_new_string(x->identity));
	json_object_object_add(si, "where_sighted_refs", arr);
	json_object_object_add(si, "x_bwenforce_rule", json_object_new_string(e->actor.name));
	json_object_object_add(si, "x_bwenforce_response",
			       json_object_new_string(st_kind_name(e->kind)));
	if (e->expires)
		stix_time(si, "x_bwenforce_expires", e->expires);
	if (e->kind == ST_THROTTLE)
		json_object_object_add(si, "x_bwenforce_rate", json_object_new_uint64(e->rate));

	if ((err = put(b, ",\n", 2)) || (err = put_json(b, sco)) || (err = put(b, ",\n", 2)) ||
	    (err = put_json(b, od)) || (err = put(b, ",\n", 2)))
		return err;
	return put_json(b, si);
}

static int stix_head(struct export *x, struct export_buf *b)
{
	struct json_object *o, *refs, *ref;
	char id[EXP_ID_LEN], name[EXP_HOST_MAX + 32];
	int e;

	stix_id(x, id, sizeof(id), "bundle");
	if ((e = putf(b, "{\"type\":\"bundle\",\"id\":\"%s\",\"objects\":[\n", id)))
		return e;
	o = stix_obj("identity", x->identity);
	json_object_object_add(o, "created", json_object_new_string(x->stamp));
	json_object_object_add(o, "modified", json_object_new_string(x->stamp));
	snprintf(name, sizeof(name), "bwenforce on %s", x->host);
	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "identity_class", json_object_new_string("system"));
	if ((e = put_json(b, o)) || x->set != BWE_EXP_QUARANTINE)
		return e;
	o = stix_obj("attack-pattern", x->pattern_id);
	stix_common(x, o);
	json_object_object_add(o, "name", json_object_new_string(TECHNIQUE_NAME));
	refs = json_object_new_array();
	ref = json_object_new_object();
	json_object_object_add(ref, "source_name", json_object_new_string("mitre-attack"));
	json_object_object_add(ref, "external_id", json_object_new_string(TECHNIQUE_ID));
	json_object_object_add(ref, "url", json_object_new_string(TECHNIQUE_URL));
	json_object_array_add(refs, ref);
	json_object_object_add(o, "external_references", refs);
	if ((e = put(b, ",\n", 2)))
		return e;
	return put_json(b, o);
}

/* ---- the cursor ---------------------------------------------------------------------------- */

static int head(struct export *x, struct export_buf *b)
{
	struct json_object *o;
	const char *s;
	size_t n;
	int e;

	switch (x->fmt) {
	case BWE_EXP_ZEEK:
		return putf(b, "#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\n");
	case BWE_EXP_STIX:
		return stix_head(x, b);
	case BWE_EXP_JSON:
		o = json_object_new_object();
		json_object_object_add(o, "type", json_object_new_string("bwenforce-export"));
		json_object_object_add(o, "version", json_object_new_int(1));
		json_object_object_add(o, "set",
				       json_object_new_string(bwe_export_set_name(x->set)));
		json_object_object_add(o, "gateway", json_object_new_string(x->host));
		json_object_object_add(o, "generated", json_object_new_string(x->stamp));
		json_object_object_add(o, "entries", json_object_new_array());
		/* the object without its closing "]}": entries follow */
		s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							      JSON_C_TO_STRING_NOSLASHESCAPE);
		n = strlen(s);
		e = n > 2 ? put(b, s, n - 2) : -EINVAL;
		json_object_put(o);
		return e ?: put(b, "\n", 1);
	default:
		return 0;
	}
}

static int tail(struct export *x, struct export_buf *b)
{
	switch (x->fmt) {
	case BWE_EXP_STIX:
		return puts_(b, "\n]}\n");
	case BWE_EXP_JSON:
		return putf(b, "\n],\"count\":%zu}\n", x->entries);
	default:
		return 0;
	}
}

static int record(struct export *x, const struct exp_rec *r, struct export_buf *b)
{
	switch (x->fmt) {
	case BWE_EXP_PLAIN:
		return plain_rec(x, r, b);
	case BWE_EXP_ZEEK:
		return zeek_rec(x, r, b);
	case BWE_EXP_STIX:
		return x->set == BWE_EXP_QUARANTINE ? stix_sighting(x, r, b)
						    : stix_indicator(x, r, b);
	default:
		return json_rec(x, r, b);
	}
}

int export_new(struct export **out, const struct export_deps *d, enum bwe_export_format fmt,
	       enum bwe_export_set set, const char *feed, time_t now, char *err, size_t errlen)
{
	struct export *x;
	unsigned int id;

	*out = NULL;
	if ((unsigned int)fmt >= BWE_EXP_FORMATS || (unsigned int)set >= BWE_EXP_SETS) {
		snprintf(err, errlen, "export: unknown format or set");
		return -EINVAL;
	}
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->st = d->st;
	x->fs = d->store;
	x->fmt = fmt;
	x->set = set;
	x->now = now;
	x->feed = BWE_FEED_FIRST;
	if (feed) {
		const char *name;

		for (id = BWE_FEED_FIRST; id <= BWE_FEED_MAX && !x->only; id++)
			if (fstore_feed_info(x->fs, (__u8)id, &name, NULL, NULL) &&
			    !strcmp(name, feed))
				x->only = x->feed = (__u8)id;
		if (!x->only) {
			char shown[80];

			bwe_escape_ctl(feed, shown, sizeof(shown));
			snprintf(err, errlen, "export: no feed named \"%s\"", shown);
			free(x);
			return -EINVAL;
		}
	}
	if (d->gateway)
		snprintf(x->host, sizeof(x->host), "%s", d->gateway);
	else if (gethostname(x->host, sizeof(x->host) - 1))
		snprintf(x->host, sizeof(x->host), "gateway");
	stamp(now, x->stamp, sizeof(x->stamp));
	uuid_fmt(x->identity, sizeof(x->identity), "identity",
		 fnv1a(x->host, 0xcbf29ce484222325ULL), fnv1a(x->host, 0x84222325cbf29ce4ULL));
	uuid_fmt(x->pattern_id, sizeof(x->pattern_id), "attack-pattern",
		 fnv1a(TECHNIQUE_ID, 0xcbf29ce484222325ULL),
		 fnv1a(TECHNIQUE_ID, 0x84222325cbf29ce4ULL));
	if (getrandom(x->rng, sizeof(x->rng), 0) != sizeof(x->rng) || !(x->rng[0] | x->rng[1])) {
		x->rng[0] = (__u64)now ^ 0x9e3779b97f4a7c15ULL;
		x->rng[1] = (__u64)getpid() | 1;
	}
	if (snapshot(x)) {
		export_free(x);
		return -ENOMEM;
	}
	*out = x;
	return 0;
}

void export_free(struct export *x)
{
	size_t i;

	if (!x)
		return;
	for (i = 0; i < x->domcap; i++)
		free(x->dom[i]);
	free(x->dom);
	free(x->ents);
	free(x);
}

int export_next(struct export *x, struct export_buf *b, size_t target)
{
	struct exp_rec *r;
	int e = 0;

	if (x->phase == X_HEAD) {
		if ((e = head(x, b)))
			return e;
		x->phase = X_BODY;
	}
	if (x->phase == X_BODY) {
		r = malloc(sizeof(*r));
		if (!r)
			return -ENOMEM;
		while (b->len < target && !e) {
			if (!next_rec(x, r)) {
				x->phase = X_TAIL;
				break;
			}
			if (!(e = record(x, r, b)))
				x->entries++;
		}
		free(r);
		if (e)
			return e;
	}
	if (x->phase == X_TAIL) {
		if ((e = tail(x, b)))
			return e;
		x->phase = X_DONE;
	}
	return x->phase != X_DONE;
}

size_t export_entries(const struct export *x)
{
	return x->entries;
}
