// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * feed_taxii.c - one page of a TAXII 2.1 collection (taxii.h): the
 * envelope, and per indicator object its version (id, modified, revoked,
 * validity). The pattern of each indicator is read by the one STIX parser
 * (feed_stix.c through bwe_feed_parse): this file never looks inside a
 * pattern. Runs in the feed worker.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "feed_impl.h"
#include "taxii.h"

#define NSEC_DIGITS   9
#define TS_MIN_LEN    20 /* "YYYY-MM-DDTHH:MM:SSZ" */
#define OFFSET_LEN    6	 /* "+HH:MM" */
#define SECS_PER_MIN  60
#define MINS_PER_HOUR 60
#define HOURS_PER_DAY 24

/* ---- RFC 3339 ---------------------------------------------------------------- */

static bool all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

int bwe_taxii_time_parse(const char *s, size_t n, struct bwe_taxii_time *out)
{
	struct tm tm = { 0 };
	char buf[TS_MIN_LEN];
	size_t i = 19;
	__u32 nsec = 0;
	long off = 0;
	time_t t;

	if (!s || n < TS_MIN_LEN || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
	    s[13] != ':' || s[16] != ':' || !all_digits(s, 4) || !all_digits(s + 5, 2) ||
	    !all_digits(s + 8, 2) || !all_digits(s + 11, 2) || !all_digits(s + 14, 2) ||
	    !all_digits(s + 17, 2))
		return -EINVAL;
	memcpy(buf, s, 19);
	buf[19] = '\0';
	tm.tm_year = atoi(buf) - 1900;
	tm.tm_mon = atoi(buf + 5) - 1;
	tm.tm_mday = atoi(buf + 8);
	tm.tm_hour = atoi(buf + 11);
	tm.tm_min = atoi(buf + 14);
	tm.tm_sec = atoi(buf + 17);
	if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
	    tm.tm_hour >= HOURS_PER_DAY || tm.tm_min >= MINS_PER_HOUR || tm.tm_sec > SECS_PER_MIN)
		return -EINVAL;
	if (i < n && s[i] == '.') {
		size_t start = ++i;

		for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			if (i - start < NSEC_DIGITS)
				nsec = nsec * 10 + (__u32)(s[i] - '0');
		if (i == start)
			return -EINVAL;
		for (size_t k = i - start; k < NSEC_DIGITS; k++)
			nsec *= 10;
	}
	if (i + 1 == n && (s[i] == 'Z' || s[i] == 'z')) {
		off = 0;
	} else if (i + OFFSET_LEN == n && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':' &&
		   all_digits(s + i + 1, 2) && all_digits(s + i + 4, 2)) {
		long h = (s[i + 1] - '0') * 10 + (s[i + 2] - '0');
		long m = (s[i + 4] - '0') * 10 + (s[i + 5] - '0');

		if (h >= HOURS_PER_DAY || m >= MINS_PER_HOUR)
			return -EINVAL;
		off = (h * MINS_PER_HOUR + m) * SECS_PER_MIN * (s[i] == '-' ? -1 : 1);
	} else {
		return -EINVAL;
	}
	t = timegm(&tm);
	/* timegm normalises 31 February into March: refuse what it moved */
	if (tm.tm_mday != atoi(buf + 8) || tm.tm_mon != atoi(buf + 5) - 1)
		return -EINVAL;
	out->sec = (__s64)t - off;
	out->nsec = nsec;
	return 0;
}

int bwe_taxii_time_cmp(const struct bwe_taxii_time *a, const struct bwe_taxii_time *b)
{
	if (a->sec != b->sec)
		return a->sec < b->sec ? -1 : 1;
	return a->nsec < b->nsec ? -1 : a->nsec > b->nsec;
}

/* ---- one indicator ------------------------------------------------------------- */

struct page_run {
	const struct bwe_taxii_parse_opts *o;
	struct bwe_feed_stats *st;
	__s64 now;
	__u32 pos;		  /* 1-based position of the object in the page */
	struct bwe_taxii_val cur; /* the object being delivered */
	int err;		  /* on_val's value, stops the page */
	size_t values;		  /* values the STIX parser gave for cur */
};

static void reject(struct page_run *p, const char *reason, const char *text)
{
	struct bwe_feed_reject r = { .line = p->pos, .reason = reason };
	char ex[BWE_FEED_EXCERPT_MAX + 1];
	size_t i, n = text ? strlen(text) : 0;

	if (n > BWE_FEED_EXCERPT_MAX)
		n = BWE_FEED_EXCERPT_MAX;
	for (i = 0; i < n; i++)
		ex[i] = (unsigned char)text[i] < 0x20 || (unsigned char)text[i] >= 0x7f ? '?'
											: text[i];
	ex[n] = '\0';
	r.excerpt = ex;
	p->st->rejected++;
	if (p->o->on_reject)
		p->o->on_reject(&r, p->o->ctx);
}

static int deliver(struct page_run *p, const struct bwe_taxii_val *v)
{
	int err = p->o->on_val(v, p->o->ctx);

	if (!err)
		p->st->accepted++;
	return err;
}

static int on_stix_value(const struct bwe_indicator *ind, void *ctx)
{
	struct page_run *p = ctx;
	struct bwe_taxii_val v = p->cur;

	v.kind = ind->kind == BWE_IND_DOMAIN ? BWE_TAXII_DOMAIN : BWE_TAXII_PREFIX;
	if (v.kind == BWE_TAXII_DOMAIN)
		v.domain = ind->domain;
	else
		v.pfx = ind->pfx;
	p->values++;
	return deliver(p, &v);
}

static void on_stix_reject(const struct bwe_feed_reject *rej, void *ctx)
{
	struct page_run *p = ctx;
	struct bwe_feed_reject r = *rej;

	r.line = p->pos;
	if (p->o->on_reject)
		p->o->on_reject(&r, p->o->ctx);
}

static const char *str_member(struct json_object *o, const char *key, size_t *len)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	if (len)
		*len = (size_t)json_object_get_string_len(v);
	return json_object_get_string(v);
}

/* A timestamp member: 1 absent or null, 0 read, -EINVAL bad. */
static int time_member(struct json_object *o, const char *key, struct bwe_taxii_time *t)
{
	struct json_object *v;
	const char *s;
	size_t n;

	if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
		return 1;
	s = str_member(o, key, &n);
	return s && !bwe_taxii_time_parse(s, n, t) ? 0 : -EINVAL;
}

static bool printable_id(const char *s, size_t n)
{
	static const char prefix[] = "indicator--";

	if (n < sizeof(prefix) || n >= BWE_TAXII_ID_MAX || strncmp(s, prefix, sizeof(prefix) - 1))
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

static int indicator(struct page_run *p, struct json_object *o)
{
	struct bwe_taxii_time mod, from, until;
	struct json_object *rv;
	const char *id, *text;
	size_t idn = 0, tn;
	struct bwe_feed_stats sst;
	struct bwe_feed_parse_opts so = {
		.format = BWE_FMT_STIX,
		.min_plen_v4 = p->o->min_plen_v4,
		.min_plen_v6 = p->o->min_plen_v6,
		.on_ind = on_stix_value,
		.on_reject = on_stix_reject,
		.ctx = p,
	};
	int hf, hu, err;

	id = str_member(o, "id", &idn);
	if (!id || !printable_id(id, idn)) {
		reject(p, "indicator without a valid \"id\"", id);
		return 0;
	}
	if (time_member(o, "modified", &mod)) {
		reject(p, "indicator without a valid \"modified\" timestamp", id);
		return 0;
	}
	hf = time_member(o, "valid_from", &from);
	hu = time_member(o, "valid_until", &until);
	if (hf < 0 || hu < 0) {
		reject(p, hf < 0 ? "bad valid_from timestamp" : "bad valid_until timestamp", id);
		return 0;
	}
	p->cur = (struct bwe_taxii_val){
		.id = id,
		.modified = mod,
		.valid_from = hf ? 0 : from.sec,
		.valid_until = hu ? 0 : until.sec,
		.kind = BWE_TAXII_NONE,
	};
	p->cur.revoked = json_object_object_get_ex(o, "revoked", &rv) &&
			 json_object_is_type(rv, json_type_boolean) && json_object_get_boolean(rv);
	if (p->cur.revoked || (!hu && until.sec <= p->now)) {
		p->st->skipped++;
		return deliver(p, &p->cur); /* a tombstone */
	}
	/* read as of its start when it is not valid yet: the set waits for it */
	so.now = !hf && from.sec > p->now ? from.sec : p->now;
	text = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &tn);
	p->values = 0;
	err = bwe_feed_parse(text, tn, &so, &sst);
	if (err == -ENOMEM || err > 0 || (err < 0 && err != -EBADMSG && err != -EINVAL))
		return err;
	if (err) {
		reject(p, "indicator the STIX parser cannot read", id);
		return 0;
	}
	p->st->rejected += sst.rejected;
	if (!p->values && sst.rejected)
		return 0; /* nothing readable in the new version: the one held stays */
	if (!p->values) {
		/* another pattern_type, no address in it: the id holds nothing now */
		p->st->skipped++;
		return deliver(p, &p->cur);
	}
	return 0; /* its values (an OR keeps its good branches, the bad ones are rejects) */
}

/* ---- the envelope ------------------------------------------------------------------- */

int bwe_taxii_parse_page(const char *buf, size_t len, const struct bwe_taxii_parse_opts *o,
			 struct bwe_taxii_page *page, struct bwe_feed_stats *st)
{
	struct bwe_feed_stats lst;
	struct bwe_taxii_page lpage;
	struct page_run p = { .o = o };
	struct json_object *root = NULL, *v, *objs = NULL;
	size_t n = 0, i;
	int err;

	if (!st)
		st = &lst;
	if (!page)
		page = &lpage;
	memset(st, 0, sizeof(*st));
	memset(page, 0, sizeof(*page));
	st->format = BWE_FMT_TAXII;
	if (!o || !o->on_val || (!buf && len))
		return -EINVAL;
	p.st = st;
	p.now = o->now ? o->now : (__s64)time(NULL);
	err = feed_json_parse_depth(buf ? buf : "", len, BWE_TAXII_JSON_DEPTH, &root);
	if (err)
		return err;
	if (!json_object_is_type(root, json_type_object)) {
		err = -EBADMSG;
		goto out;
	}
	/* every member's type first: a wrong one refuses the page before any value */
	if (json_object_object_get_ex(root, "more", &v) && v &&
	    !json_object_is_type(v, json_type_boolean)) {
		err = -EBADMSG;
		goto out;
	}
	page->more = v && json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
	if (json_object_object_get_ex(root, "next", &v) && v) {
		const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v)
									 : NULL;
		size_t sn = s ? (size_t)json_object_get_string_len(v) : 0;

		if (!s || !sn || sn >= sizeof(page->next)) {
			err = -EBADMSG;
			goto out;
		}
		for (i = 0; i < sn; i++)
			if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f) {
				err = -EBADMSG;
				goto out;
			}
		memcpy(page->next, s, sn + 1);
	}
	if (json_object_object_get_ex(root, "objects", &objs) && objs &&
	    !json_object_is_type(objs, json_type_array)) {
		err = -EBADMSG;
		goto out;
	}
	if (!objs && (json_object_object_get_ex(root, "title", &v) ||
		      json_object_object_get_ex(root, "http_status", &v))) {
		err = -EBADMSG; /* a TAXII error message, not an envelope */
		goto out;
	}
	n = objs ? json_object_array_length(objs) : 0;
	if (n > BWE_TAXII_PAGE_OBJECTS_MAX) {
		err = -E2BIG;
		goto out;
	}
	st->lines = n;
	for (i = 0; i < n && !err; i++) {
		struct json_object *ob = json_object_array_get_idx(objs, i);
		const char *type;

		p.pos = (__u32)(i + 1);
		if (!json_object_is_type(ob, json_type_object)) {
			reject(&p, "not a JSON object", json_object_to_json_string(ob));
			continue;
		}
		type = str_member(ob, "type", NULL);
		if (!type) {
			reject(&p, "no \"type\"", json_object_to_json_string(ob));
			continue;
		}
		if (strcmp(type, "indicator")) {
			st->skipped++;
			continue;
		}
		err = indicator(&p, ob);
	}
out:
	json_object_put(root);
	if (err)
		memset(page, 0, sizeof(*page)); /* a refused page asks for no next one */
	return err;
}

/* ---- an envelope read as a feed (feed.h, TAXII) ------------------------------------- */

static int feed_taxii_val(const struct bwe_taxii_val *v, void *ctx)
{
	struct feed_run *r = ctx;
	struct bwe_indicator ind = {
		.line = 0,
		.id = v->id,
		.valid_until = v->valid_until,
	};

	if (v->kind == BWE_TAXII_NONE || (v->valid_from && v->valid_from > r->now))
		return 0; /* a tombstone, or not valid yet: nothing to enforce now */
	ind.kind = v->kind == BWE_TAXII_DOMAIN ? BWE_IND_DOMAIN : BWE_IND_PREFIX;
	ind.pfx = v->pfx;
	ind.domain = v->domain;
	return r->o->on_ind(&ind, r->o->ctx);
}

static void feed_taxii_reject(const struct bwe_feed_reject *rej, void *ctx)
{
	struct feed_run *r = ctx;

	if (r->o->on_reject)
		r->o->on_reject(rej, r->o->ctx);
}

int feed_parse_taxii(struct feed_run *r, const char *buf, size_t len)
{
	struct bwe_taxii_parse_opts o = {
		.min_plen_v4 = r->min_plen_v4,
		.min_plen_v6 = r->min_plen_v6,
		.now = r->now,
		.on_val = feed_taxii_val,
		.on_reject = feed_taxii_reject,
		.ctx = r,
	};
	int err = bwe_taxii_parse_page(buf, len, &o, NULL, r->st);

	r->st->format = BWE_FMT_TAXII;
	return err;
}

/* ---- the poll's URL ------------------------------------------------------------------ */

/* Append s percent-encoded (RFC 3986 unreserved bytes kept) at out[*o]. */
static int pct_append(char *out, size_t cap, size_t *o, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char b = (unsigned char)*s;

		if (*o + 4 > cap)
			return -ENAMETOOLONG;
		if ((b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9') ||
		    strchr("-._~", b)) {
			out[(*o)++] = (char)b;
		} else {
			out[(*o)++] = '%';
			out[(*o)++] = hex[b >> 4];
			out[(*o)++] = hex[b & 0xf];
		}
	}
	out[*o] = '\0';
	return 0;
}

int bwe_taxii_objects_url(const char *source, const char *collection, const char *added_after,
			  char *out, size_t cap)
{
	size_t sl = source ? strlen(source) : 0, o;
	bool slash = sl && source[sl - 1] == '/';
	int n;

	if (!sl || strchr(source, '?') || strchr(source, '#'))
		return -EINVAL;
	if (collection)
		n = snprintf(out, cap, "%s%scollections/%s/objects/?match%%5Btype%%5D=indicator",
			     source, slash ? "" : "/", collection);
	else
		n = snprintf(out, cap, "%s%s?match%%5Btype%%5D=indicator", source,
			     slash ? "" : "/");
	if (n < 0 || (size_t)n >= cap)
		return -ENAMETOOLONG;
	o = (size_t)n;
	if (!added_after || !added_after[0])
		return 0;
	n = snprintf(out + o, cap - o, "&added_after=");
	if (n < 0 || (size_t)n >= cap - o)
		return -ENAMETOOLONG;
	o += (size_t)n;
	return pct_append(out, cap, &o, added_after);
}

int bwe_taxii_next_url(const char *base, const char *next, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%s%snext=", base, strchr(base, '?') ? "&" : "?");
	size_t o;

	if (n < 0 || (size_t)n >= cap)
		return -ENAMETOOLONG;
	o = (size_t)n;
	return pct_append(out, cap, &o, next);
}
