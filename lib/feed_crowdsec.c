// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * feed_crowdsec.c - the CrowdSec LAPI decision stream (crowdsec.h): Go
 * durations, the stream body, and the format's reading as a feed
 * (bwe_feed_parse with BWE_FMT_CROWDSEC: the new decisions of a body as
 * indicators, for a body read as a snapshot). Runs in the feed worker; the
 * checks of every address are feed.c's.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "config.h" /* BWE_FEED_MIN_PREFIX_V4, _V6 */
#include "crowdsec.h"
#include "feed_impl.h"

#define MS_PER_S   1000LL
#define DUR_MAX_MS (BWE_CS_DURATION_MAX_S * MS_PER_S)

/* ---- Go durations --------------------------------------------------------- */

struct dur_unit {
	const char *name;
	__s64 num, den; /* milliseconds = value * num / den */
};

/* Longest names first: "ms" before "m", "ns" and "us" before "s". */
static const struct dur_unit dur_units[] = {
	{ "ns", 1, 1000000 },
	{ "us", 1, 1000 },
	{ "\xc2\xb5s", 1, 1000 }, /* µs */
	{ "\xce\xbcs", 1, 1000 }, /* μs */
	{ "ms", 1, 1 },
	{ "s", MS_PER_S, 1 },
	{ "m", 60 * MS_PER_S, 1 },
	{ "h", 3600 * MS_PER_S, 1 },
};

static const struct dur_unit *dur_unit_at(const char *s, size_t n, size_t *len)
{
	for (size_t i = 0; i < sizeof(dur_units) / sizeof(dur_units[0]); i++) {
		size_t l = strlen(dur_units[i].name);

		if (l <= n && !memcmp(s, dur_units[i].name, l)) {
			*len = l;
			return &dur_units[i];
		}
	}
	return NULL;
}

int bwe_cs_duration_parse(const char *s, size_t n, __s64 *ms)
{
	bool neg = false;
	__s64 total = 0; /* milliseconds, bounded by DUR_MAX_MS */
	size_t i = 0;

	if (!s || !n)
		return -EINVAL;
	if (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-';
		i++;
	}
	if (n - i == 1 && s[i] == '0') { /* "0" alone needs no unit */
		*ms = 0;
		return 0;
	}
	if (i == n)
		return -EINVAL;
	while (i < n) {
		__s64 whole = 0, frac = 0, scale = 1;
		bool digits = false, over = false;
		const struct dur_unit *u;
		size_t ulen;
		__s64 add;

		while (i < n && s[i] >= '0' && s[i] <= '9') {
			if (whole > DUR_MAX_MS) /* already too long in any unit but ns */
				over = true;
			else
				whole = whole * 10 + (s[i] - '0');
			digits = true;
			i++;
		}
		if (i < n && s[i] == '.') {
			i++;
			while (i < n && s[i] >= '0' && s[i] <= '9') {
				if (scale < 1000000000LL) { /* nine digits are enough */
					frac = frac * 10 + (s[i] - '0');
					scale *= 10;
				}
				digits = true;
				i++;
			}
		}
		if (!digits)
			return -EINVAL;
		u = dur_unit_at(s + i, n - i, &ulen);
		if (!u)
			return -EINVAL;
		i += ulen;
		if (over || whole > (DUR_MAX_MS * u->den) / u->num + 1)
			return -ERANGE;
		add = whole * u->num / u->den + frac * u->num / u->den / scale;
		total += add;
		if (total > DUR_MAX_MS)
			return -ERANGE;
	}
	*ms = neg ? -total : total;
	return 0;
}

/* ---- scopes --------------------------------------------------------------- */

int bwe_cs_scope_parse(const char *s, enum bwe_cs_scope *out)
{
	if (!s)
		return -EINVAL;
	if (!strcasecmp(s, "ip")) {
		*out = BWE_CS_SCOPE_IP;
		return 0;
	}
	if (!strcasecmp(s, "range")) {
		*out = BWE_CS_SCOPE_RANGE;
		return 0;
	}
	return -EINVAL;
}

const char *bwe_cs_scope_name(enum bwe_cs_scope s)
{
	return s == BWE_CS_SCOPE_IP ? "Ip" : s == BWE_CS_SCOPE_RANGE ? "Range" : "?";
}

/* ---- the stream ----------------------------------------------------------- */

typedef int (*cs_emit_fn)(struct feed_run *r, const struct bwe_cs_decision *d, const void *ctx);

struct cs_run {
	struct feed_run *r;
	cs_emit_fn emit;
	const void *ctx;
	bool new_only; /* read as a feed: a deletion is skipped */
	char origin[BWE_CS_TEXT_MAX], scenario[BWE_CS_TEXT_MAX];
};

/* A string member, or NULL (absent, null or not a string); *n its length. */
static const char *member_str(struct json_object *o, const char *key, size_t *n)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	*n = (size_t)json_object_get_string_len(v);
	return json_object_get_string(v);
}

/* Printable ASCII copy, cut at BWE_CS_TEXT_MAX - 1 bytes. */
static void copy_text(char *out, const char *s, size_t n)
{
	if (!s)
		n = 0;
	if (n > BWE_CS_TEXT_MAX - 1)
		n = BWE_CS_TEXT_MAX - 1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		out[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	out[n] = '\0';
}

/* A string equal to word, ignoring case, with no NUL inside. */
static bool str_is(const char *s, size_t n, const char *word)
{
	return s && n == strlen(word) && !strncasecmp(s, word, n);
}

static int decision(struct cs_run *c, struct json_object *o, enum bwe_cs_op op, __u32 pos)
{
	struct feed_run *r = c->r;
	struct bwe_cs_decision d = { .op = op, .origin = c->origin, .scenario = c->scenario };
	const char *type, *scope, *value, *dur, *why;
	size_t tn = 0, sn = 0, vn = 0, dn = 0, n;
	struct json_object *id;
	__s64 ms = 0;
	int ret;

	r->line = pos;
	if (!json_object_is_type(o, json_type_object))
		return feed_reject(r, pos, "a decision is not a JSON object", "", 0);
	type = member_str(o, "type", &tn);
	scope = member_str(o, "scope", &sn);
	value = member_str(o, "value", &vn);
	dur = member_str(o, "duration", &dn);
	if (!type || !scope)
		return feed_reject(r, pos, "decision without type or scope", value, vn);
	/* another remedy (captcha, throttle) or a scope we cannot block on */
	if (!str_is(type, tn, "ban") || strlen(scope) != sn ||
	    bwe_cs_scope_parse(scope, &d.scope)) {
		r->st->skipped++;
		return 0;
	}
	if (!json_object_object_get_ex(o, "id", &id) || !json_object_is_type(id, json_type_int) ||
	    json_object_get_int64(id) <= 0 || json_object_get_int64(id) == INT64_MAX)
		return feed_reject(r, pos, "decision id is not a positive integer", value, vn);
	d.id = json_object_get_int64(id);
	if (!value)
		return feed_reject(r, pos, "decision without a value", "", 0);
	if (feed_prefix_text(value, vn, &d.pfx, &why))
		return feed_reject(r, pos, why, value, vn);
	if (d.scope == BWE_CS_SCOPE_IP && d.pfx.plen != BWE_ADDR_BITS)
		return feed_reject(r, pos, "scope Ip with a prefix length", value, vn);
	why = feed_prefix_check(r, &d.pfx);
	if (why)
		return feed_reject(r, pos, why, value, vn);
	bwe_prefix_mask(&d.pfx);
	if (op == BWE_CS_NEW) {
		int err = dur ? bwe_cs_duration_parse(dur, dn, &ms) : -EINVAL;

		if (err == -ERANGE)
			return feed_reject(r, pos, "duration longer than ten years", dur, dn);
		if (err)
			return feed_reject(r, pos, "duration is not a Go duration", dur ? dur : "",
					   dn);
		if (ms <= 0) { /* ended between the LAPI's answer and now */
			r->st->skipped++;
			return 0;
		}
		d.duration_s = (ms + MS_PER_S - 1) / MS_PER_S;
	}
	value = member_str(o, "origin", &n);
	copy_text(c->origin, value, n);
	value = member_str(o, "scenario", &n);
	copy_text(c->scenario, value, n);
	if (op == BWE_CS_DELETED && c->new_only) {
		r->st->skipped++;
		return 0;
	}
	ret = c->emit(r, &d, c->ctx);
	if (!ret)
		r->st->accepted++;
	return ret;
}

/* "new" or "deleted": null, or an array of decisions. */
static int array_of(struct json_object *top, const char *key, struct json_object **arr)
{
	struct json_object *v;

	if (!json_object_object_get_ex(top, key, &v))
		return -EBADMSG;
	if (v && !json_object_is_type(v, json_type_array))
		return -EBADMSG;
	*arr = v;
	return 0;
}

static int cs_stream(struct cs_run *c, const char *buf, size_t len)
{
	struct json_object *top = NULL, *arr[2] = { NULL, NULL };
	static const enum bwe_cs_op ops[2] = { BWE_CS_NEW, BWE_CS_DELETED };
	size_t total = 0;
	int err;

	err = feed_json_parse_depth(buf, len, BWE_CS_JSON_DEPTH, &top);
	if (err)
		return err;
	if (!top || !json_object_is_type(top, json_type_object) || array_of(top, "new", &arr[0]) ||
	    array_of(top, "deleted", &arr[1])) {
		json_object_put(top);
		return -EBADMSG;
	}
	for (int k = 0; k < 2; k++)
		total += arr[k] ? json_object_array_length(arr[k]) : 0;
	if (total > BWE_CS_DECISIONS_MAX) {
		json_object_put(top);
		return -E2BIG;
	}
	c->r->st->lines = total;
	for (int k = 0; k < 2 && !err; k++) {
		size_t n = arr[k] ? json_object_array_length(arr[k]) : 0;

		for (size_t i = 0; i < n && !err; i++)
			err = decision(c, json_object_array_get_idx(arr[k], i), ops[k],
				       (__u32)(i + 1));
	}
	json_object_put(top);
	return err;
}

/* ---- bwe_cs_parse: the decisions themselves ------------------------------ */

static int never_ind(const struct bwe_indicator *ind, void *ctx)
{
	(void)ind;
	(void)ctx;
	return -EINVAL;
}

static int emit_decision(struct feed_run *r, const struct bwe_cs_decision *d, const void *ctx)
{
	const struct bwe_cs_parse_opts *o = ctx;

	(void)r;
	return o->on_decision(d, o->ctx);
}

int bwe_cs_parse(const char *buf, size_t len, const struct bwe_cs_parse_opts *o,
		 struct bwe_feed_stats *st)
{
	struct bwe_feed_stats local;
	struct bwe_feed_parse_opts fo;
	struct feed_run r = { 0 };
	struct cs_run c = { .r = &r, .emit = emit_decision };

	if (!st)
		st = &local;
	memset(st, 0, sizeof(*st));
	st->format = BWE_FMT_CROWDSEC;
	if (!o || !o->on_decision || (!buf && len) || o->min_plen_v4 < 0 ||
	    o->min_plen_v4 > BWE_V4_BITS || o->min_plen_v6 < 0 || o->min_plen_v6 > BWE_ADDR_BITS)
		return -EINVAL;
	fo = (struct bwe_feed_parse_opts){ .format = BWE_FMT_CROWDSEC,
					   .on_ind = never_ind,
					   .on_reject = o->on_reject,
					   .ctx = o->ctx };
	r.o = &fo;
	r.st = st;
	r.min_plen_v4 = o->min_plen_v4 ? o->min_plen_v4 : BWE_FEED_MIN_PREFIX_V4;
	r.min_plen_v6 = o->min_plen_v6 ? o->min_plen_v6 : BWE_FEED_MIN_PREFIX_V6;
	c.ctx = o;
	return cs_stream(&c, buf ? buf : "", len);
}

/* ---- the format as a feed: new decisions as indicators -------------------- */

static int emit_indicator(struct feed_run *r, const struct bwe_cs_decision *d, const void *ctx)
{
	struct bwe_indicator ind = { .kind = BWE_IND_PREFIX, .pfx = d->pfx, .line = r->line };

	(void)ctx;
	snprintf(r->id, sizeof(r->id), "crowdsec:%lld", (long long)d->id);
	ind.id = r->id;
	ind.valid_until = r->now + d->duration_s;
	return r->o->on_ind(&ind, r->o->ctx);
}

int feed_parse_crowdsec(struct feed_run *r, const char *buf, size_t len)
{
	struct cs_run c = { .r = r, .emit = emit_indicator, .new_only = true };

	return cs_stream(&c, buf, len);
}
