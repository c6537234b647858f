// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * feed_stix.c - STIX 2.0/2.1 indicators (a bundle, a JSON array of objects,
 * or one object). Which objects count is in feed.h; the patterns are read
 * by feed_pattern.c, which says what a pattern yields.
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

#define TS_MIN_LEN    20 /* "YYYY-MM-DDTHH:MM:SSZ" */
#define NSEC_DIGITS   9
#define DAYS_PER_ERA  146097 /* days in 400 Gregorian years */
#define YEARS_PER_ERA 400
#define EPOCH_DAYS    719468 /* days from 0000-03-01 to 1970-01-01 */
#define MONTHS	      12
#define HOURS	      24
#define MINUTES	      60
#define LEAP_SECOND   60

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

struct stix {
	struct feed_run *r;
	struct feed_pattern pt; /* the current indicator's pattern */
};

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
	const char *pattern, *ptype, *id, *sv;
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
	sv = get_str(obj, "spec_version", NULL);
	err = feed_pattern_parse(r, &x->pt, pattern, pn, sv && strcmp(sv, "2.0"));
	if (err)
		return err;
	if (x->pt.err)
		return feed_reject(r, line, x->pt.err, pattern, pn);
	if (!x->pt.addr) {
		r->st->skipped++; /* names no address: files, processes, ports */
		return 0;
	}
	for (size_t i = 0; i < x->pt.nv; i++) {
		struct bwe_indicator ind = {
			.kind = x->pt.v[i].kind,
			.line = line,
			.id = id,
			.valid_until = has_until ? 0 : until.sec,
		};

		if (ind.kind == BWE_IND_PREFIX)
			ind.pfx = x->pt.v[i].pfx;
		else
			ind.domain = x->pt.text + x->pt.v[i].dom;
		err = feed_deliver(r, &ind);
		if (err)
			return err;
	}
	/* each refused branch (a bad value, an unenforceable part) is one refused item */
	for (size_t i = 0; i < x->pt.nrej; i++)
		feed_reject(r, line, x->pt.text + x->pt.rej[i], pattern, pn);
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
	feed_pattern_free(&x.pt);
	json_object_put(root);
	return err;
}
