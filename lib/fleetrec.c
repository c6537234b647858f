// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fleetrec.c - the fleet's keys and values; contract in fleetrec.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <json-c/json.h>

#include "bwe_util.h"
#include "fleetrec.h"

#define JSON_DEPTH_MAX 6 /* a record nests at most three levels */
#define SEQ_MAX	       ((__u64)INT64_MAX)
#define RATE_MAX       ((__u64)1 << 48)
#define TIME_MAX       ((__s64)1 << 40) /* far beyond any real epoch second */

static const char *const kinds[] = { "quarantine", "throttle", "block", "exempt", "allow" };
static const char *const del_actions[] = { "release", "unthrottle", "unblock", "unexempt",
					   "unallow" };

static int bad(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

bool bwe_frec_site_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n < BWE_FREC_SITE_MAX && s[0] != '-' &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

int bwe_frec_kind(const char *kind)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(kinds); i++)
		if (!strcmp(kind, kinds[i]))
			return (int)i;
	return -1;
}

const char *bwe_frec_del_action(const char *kind)
{
	int k = bwe_frec_kind(kind);

	return k < 0 ? NULL : del_actions[k];
}

static bool hosts_kind(const char *kind)
{
	return !strcmp(kind, "quarantine") || !strcmp(kind, "throttle");
}

int bwe_frec_entry_key(const char *kind, const struct bwe_frec_target *t, char *buf, size_t len)
{
	char tgt[BWE_PREFIX_STRLEN + 8], *slash;
	int n;

	if (bwe_frec_kind(kind) < 0)
		return -EINVAL;
	if (t->is_mac) {
		bwe_mac_fmt(t->mac, tgt, sizeof(tgt));
		for (slash = tgt; *slash; slash++)
			if (*slash == ':')
				*slash = '-';
		n = snprintf(buf, len, "entries/%s/mac_%s", kind, tgt);
	} else {
		struct bwe_prefix p = t->pfx;
		char a[BWE_ADDR_STRLEN];
		unsigned int plen = p.plen;

		bwe_addr_fmt(&p.addr, a, sizeof(a));
		if (bwe_addr_is_v4(&p.addr) && plen >= BWE_V4_MAPPED_PLEN)
			plen -= BWE_V4_MAPPED_PLEN;
		n = snprintf(buf, len, "entries/%s/%s_%u", kind, a, plen);
	}
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static bool scope_id_ok(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return n == BWE_FREC_SCOPE_ID_LEN - 1;
}

/* scope/req/ID or scope/ans/ID/SITE: the type, id (when not NULL) and site filled. */
static int scope_key_parse(const char *key, char *id, char site[BWE_FREC_SITE_MAX], char *err,
			   size_t errlen)
{
	const char *rest = key + strlen("scope/"), *i, *slash;
	bool ans = !strncmp(rest, "ans/", 4);

	if (!ans && strncmp(rest, "req/", 4))
		return bad(err, errlen, "\"%s\": neither scope/req/ID nor scope/ans/ID/SITE", key);
	i = rest + 4;
	slash = strchr(i, '/');
	if (!scope_id_ok(i, slash ? (size_t)(slash - i) : strlen(i)))
		return bad(err, errlen, "\"%s\": the ID is not %d lowercase hex digits", key,
			   BWE_FREC_SCOPE_ID_LEN - 1);
	if (ans != !!slash)
		return bad(err, errlen, "\"%s\": %s", key,
			   ans ? "no /SITE after the ID" : "something follows the ID");
	if (ans && !bwe_frec_site_ok(slash + 1))
		return bad(err, errlen, "\"%s\": not a site name after the ID", key);
	if (id)
		snprintf(id, BWE_FREC_SCOPE_ID_LEN, "%.16s", i);
	snprintf(site, BWE_FREC_SITE_MAX, "%s", ans ? slash + 1 : "");
	return ans ? BWE_FREC_KEY_SCOPE_ANS : BWE_FREC_KEY_SCOPE_REQ;
}

int bwe_frec_parse_key(const char *key, char kind[BWE_FREC_KIND_MAX], struct bwe_frec_target *t,
		       char site[BWE_FREC_SITE_MAX], char *err, size_t errlen)
{
	const char *k, *tgt;
	char buf[BWE_FREC_KEY_MAX];
	size_t klen;

	if (strlen(key) >= BWE_FREC_KEY_MAX)
		return bad(err, errlen, "key longer than %d bytes", BWE_FREC_KEY_MAX - 1);
	if (!strncmp(key, "sites/", strlen("sites/"))) {
		if (!bwe_frec_site_ok(key + strlen("sites/")))
			return bad(err, errlen, "\"%s\": not a site name after sites/", key);
		snprintf(site, BWE_FREC_SITE_MAX, "%s", key + strlen("sites/"));
		return BWE_FREC_KEY_SITE;
	}
	if (!strncmp(key, "scope/", strlen("scope/")))
		return scope_key_parse(key, NULL, site, err, errlen);
	if (strncmp(key, "entries/", strlen("entries/")))
		return bad(err, errlen,
			   "\"%s\": neither entries/KIND/TARGET, sites/NAME nor scope/req|ans/ID",
			   key);
	k = key + strlen("entries/");
	tgt = strchr(k, '/');
	klen = tgt ? (size_t)(tgt - k) : 0;
	if (!tgt || klen >= BWE_FREC_KIND_MAX)
		return bad(err, errlen, "\"%s\": no kind", key);
	memcpy(kind, k, klen);
	kind[klen] = '\0';
	if (bwe_frec_kind(kind) < 0)
		return bad(err, errlen,
			   "\"%s\": unknown kind \"%s\" (quarantine, throttle, block, exempt, allow)",
			   key, kind);
	tgt++;
	memset(t, 0, sizeof(*t));
	if (!strncmp(tgt, "mac_", 4)) {
		char *p;

		snprintf(buf, sizeof(buf), "%s", tgt + 4);
		for (p = buf; *p; p++)
			if (*p == '-')
				*p = ':';
		if (!hosts_kind(kind))
			return bad(err, errlen,
				   "\"%s\": only quarantine and throttle name hosts by MAC", key);
		if (bwe_mac_parse(buf, t->mac))
			return bad(err, errlen, "\"%s\": \"%s\" is not a MAC address", key,
				   tgt + 4);
		t->is_mac = true;
		return BWE_FREC_KEY_ENTRY;
	}
	snprintf(buf, sizeof(buf), "%s", tgt);
	{
		char *us = strrchr(buf, '_');
		struct bwe_prefix p;
		char again[BWE_FREC_KEY_MAX];

		if (!us)
			return bad(err, errlen,
				   "\"%s\": the target is neither ADDRESS_LENGTH (198.18.0.10_32) nor "
				   "mac_MAC",
				   key);
		*us = '/';
		if (bwe_prefix_parse(buf, &p, 0))
			return bad(err, errlen,
				   "\"%s\": \"%s\" is not a prefix (an address, a length within its "
				   "family, host bits clear, never /0)",
				   key, tgt);
		t->pfx = p;
		/* one spelling per target: what this site would write */
		if (bwe_frec_entry_key(kind, t, again, sizeof(again)) || strcmp(again, key))
			return bad(err, errlen, "\"%s\": not the canonical key of %s (\"%s\")", key,
				   buf, again);
	}
	return BWE_FREC_KEY_ENTRY;
}

/* ---- writing ------------------------------------------------------------------ */

static void add_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

char *bwe_frec_entry_encode(const struct bwe_frec_entry *e)
{
	struct json_object *o = json_object_new_object(), *arr;
	char buf[BWE_PREFIX_STRLEN];
	char *out;
	size_t i;

	if (!o)
		return NULL;
	json_object_object_add(o, "v", json_object_new_int(BWE_FREC_VERSION));
	add_str(o, "kind", e->kind);
	if (e->t.is_mac) {
		bwe_mac_fmt(e->t.mac, buf, sizeof(buf));
		add_str(o, "mac", buf);
	} else {
		bwe_prefix_fmt(&e->t.pfx, buf, sizeof(buf));
		add_str(o, "prefix", buf);
	}
	if (e->deleted)
		json_object_object_add(o, "deleted", json_object_new_boolean(1));
	add_str(o, "action", e->action);
	add_str(o, "site", e->site);
	json_object_object_add(o, "seq", json_object_new_uint64(e->seq));
	add_str(o, "actor", e->actor);
	add_str(o, "reason", e->reason);
	json_object_object_add(o, "since", json_object_new_int64(e->since));
	if (!e->deleted) {
		json_object_object_add(o, "expires", json_object_new_int64(e->expires));
		if (!strcmp(e->kind, "throttle")) {
			json_object_object_add(o, "rate", json_object_new_uint64(e->rate));
			json_object_object_add(o, "burst", json_object_new_uint64(e->burst));
		}
		if (e->t.is_mac) {
			json_object_object_add(o, "prefix64", json_object_new_boolean(e->prefix64));
			arr = json_object_new_array();
			for (i = 0; i < e->naddrs; i++) {
				bwe_addr_fmt(&e->addrs[i], buf, sizeof(buf));
				json_object_array_add(arr, json_object_new_string(buf));
			}
			json_object_object_add(o, "addresses", arr);
		}
	}
	out = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return out;
}

char *bwe_frec_site_encode(const struct bwe_frec_site *s)
{
	struct json_object *o = json_object_new_object(), *arr = json_object_new_array();
	char *out;
	size_t i;

	json_object_object_add(o, "v", json_object_new_int(BWE_FREC_VERSION));
	add_str(o, "site", s->site);
	json_object_object_add(o, "time", json_object_new_int64(s->time));
	json_object_object_add(o, "applied_revision", json_object_new_int64(s->applied_revision));
	json_object_object_add(o, "queued", json_object_new_uint64(s->queued));
	for (i = 0; i < s->nfeeds; i++) {
		struct json_object *f = json_object_new_object();

		add_str(f, "name", s->feeds[i].name);
		add_str(f, "version", s->feeds[i].version);
		json_object_object_add(f, "entries", json_object_new_uint64(s->feeds[i].entries));
		json_object_object_add(f, "last_success",
				       json_object_new_int64(s->feeds[i].last_success));
		json_object_array_add(arr, f);
	}
	json_object_object_add(o, "feeds", arr);
	out = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return out;
}

/* ---- reading: every field judged ---------------------------------------------------- */

static struct json_object *parse_json(const void *val, size_t len, char *err, size_t errlen)
{
	struct json_tokener *tok;
	struct json_object *o;

	if (!len || memchr(val, '\0', len)) {
		bad(err, errlen, "the value is empty or holds a NUL byte");
		return NULL;
	}
	tok = json_tokener_new_ex(JSON_DEPTH_MAX);
	if (!tok) {
		bad(err, errlen, "out of memory");
		return NULL;
	}
	o = json_tokener_parse_ex(tok, val, (int)len);
	if (!o || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len) {
		enum json_tokener_error je = json_tokener_get_error(tok);

		bad(err, errlen, "the value is not one JSON object (%s)",
		    je == json_tokener_continue	 ? "it ends before the object does"
		    : je == json_tokener_success ? "something follows the object"
						 : json_tokener_error_desc(je));
		json_object_put(o);
		o = NULL;
	} else if (!json_object_is_type(o, json_type_object)) {
		bad(err, errlen, "the value is not a JSON object");
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* A string field: required unless opt; printable, shorter than max. */
static int get_str(struct json_object *o, const char *k, char *out, size_t max, bool opt, char *err,
		   size_t errlen)
{
	struct json_object *v;
	const char *s;

	if (!json_object_object_get_ex(o, k, &v)) {
		if (opt) {
			out[0] = '\0';
			return 0;
		}
		return bad(err, errlen, "\"%s\" is missing", k);
	}
	if (!json_object_is_type(v, json_type_string))
		return bad(err, errlen, "\"%s\" is not a string", k);
	s = json_object_get_string(v);
	if ((size_t)json_object_get_string_len(v) >= max || strlen(s) >= max)
		return bad(err, errlen, "\"%s\" is longer than %zu bytes", k, max - 1);
	if (!printable(s))
		return bad(err, errlen, "\"%s\" holds a control character", k);
	snprintf(out, max, "%s", s);
	return 0;
}

/* An integer field in lo..hi: required unless opt (then 0). */
static int get_int(struct json_object *o, const char *k, __s64 lo, __s64 hi, bool opt, __s64 *out,
		   char *err, size_t errlen)
{
	struct json_object *v;

	*out = 0;
	if (!json_object_object_get_ex(o, k, &v))
		return opt ? 0 : bad(err, errlen, "\"%s\" is missing", k);
	if (!json_object_is_type(v, json_type_int))
		return bad(err, errlen, "\"%s\" is not an integer", k);
	errno = 0;
	*out = json_object_get_int64(v);
	if (errno || *out < lo || *out > hi)
		return bad(err, errlen, "\"%s\" is out of range (%lld..%lld)", k, (long long)lo,
			   (long long)hi);
	return 0;
}

static int get_bool(struct json_object *o, const char *k, bool *out, char *err, size_t errlen)
{
	struct json_object *v;

	*out = false;
	if (!json_object_object_get_ex(o, k, &v))
		return 0;
	if (!json_object_is_type(v, json_type_boolean))
		return bad(err, errlen, "\"%s\" is not true or false", k);
	*out = json_object_get_boolean(v);
	return 0;
}

static int check_version(struct json_object *o, char *err, size_t errlen)
{
	__s64 v;

	if (get_int(o, "v", 0, INT32_MAX, false, &v, err, errlen))
		return -EINVAL;
	if (v != BWE_FREC_VERSION)
		return bad(err, errlen, "record version %lld; this site reads %d", (long long)v,
			   BWE_FREC_VERSION);
	return 0;
}

static int entry_fields(struct json_object *o, const char *key, struct bwe_frec_entry *e, char *err,
			size_t errlen)
{
	char kind[BWE_FREC_KIND_MAX], site[BWE_FREC_SITE_MAX], buf[BWE_PREFIX_STRLEN + 8];
	struct bwe_frec_target kt;
	struct json_object *arr;
	__s64 n;
	size_t i;
	int e2;

	if ((e2 = bwe_frec_parse_key(key, kind, &kt, site, err, errlen)) < 0)
		return e2;
	if (e2 != BWE_FREC_KEY_ENTRY)
		return bad(err, errlen, "\"%s\" is not an entry's key", key);
	if (check_version(o, err, errlen) ||
	    get_str(o, "kind", e->kind, sizeof(e->kind), false, err, errlen))
		return -EINVAL;
	if (strcmp(e->kind, kind))
		return bad(err, errlen, "the value's kind \"%s\" is not the key's \"%s\"", e->kind,
			   kind);
	e->t.is_mac = kt.is_mac;
	if (kt.is_mac) {
		if (get_str(o, "mac", buf, sizeof(buf), false, err, errlen))
			return -EINVAL;
		if (bwe_mac_parse(buf, e->t.mac) || memcmp(e->t.mac, kt.mac, BWE_MAC_LEN))
			return bad(err, errlen, "the value's mac \"%s\" is not the key's", buf);
	} else {
		if (get_str(o, "prefix", buf, sizeof(buf), false, err, errlen))
			return -EINVAL;
		if (bwe_prefix_parse(buf, &e->t.pfx, 0) || bwe_prefix_cmp(&e->t.pfx, &kt.pfx))
			return bad(err, errlen, "the value's prefix \"%s\" is not the key's", buf);
	}
	if (get_bool(o, "deleted", &e->deleted, err, errlen) ||
	    get_str(o, "action", e->action, sizeof(e->action), false, err, errlen) ||
	    get_str(o, "site", e->site, sizeof(e->site), false, err, errlen) ||
	    get_int(o, "seq", 0, (__s64)SEQ_MAX, false, &n, err, errlen))
		return -EINVAL;
	e->seq = (__u64)n;
	if (!bwe_frec_site_ok(e->site))
		return bad(err, errlen, "\"site\" is not a site name");
	if (strcmp(e->action, e->deleted ? bwe_frec_del_action(kind) : kind))
		return bad(err, errlen, "action \"%s\" does not %s a %s entry", e->action,
			   e->deleted ? "remove" : "make", kind);
	if (get_str(o, "actor", e->actor, sizeof(e->actor), true, err, errlen) ||
	    get_str(o, "reason", e->reason, sizeof(e->reason), true, err, errlen) ||
	    get_int(o, "since", 0, TIME_MAX, true, &e->since, err, errlen) ||
	    get_int(o, "expires", 0, TIME_MAX, true, &e->expires, err, errlen))
		return -EINVAL;
	if (e->deleted)
		return 0;
	if (!strcmp(kind, "throttle")) {
		if (get_int(o, "rate", 1, (__s64)RATE_MAX, false, &n, err, errlen))
			return -EINVAL;
		e->rate = (__u64)n;
		if (get_int(o, "burst", 0, UINT32_MAX, true, &n, err, errlen))
			return -EINVAL;
		e->burst = (__u64)n;
	}
	if (!kt.is_mac)
		return 0;
	if (get_bool(o, "prefix64", &e->prefix64, err, errlen))
		return -EINVAL;
	if (!json_object_object_get_ex(o, "addresses", &arr))
		return 0;
	if (!json_object_is_type(arr, json_type_array))
		return bad(err, errlen, "\"addresses\" is not a list");
	if (json_object_array_length(arr) > BWE_FREC_ADDRS_MAX)
		return bad(err, errlen, "%zu addresses; at most %d for one host",
			   json_object_array_length(arr), BWE_FREC_ADDRS_MAX);
	for (i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *a = json_object_array_get_idx(arr, i);

		if (!json_object_is_type(a, json_type_string) ||
		    bwe_addr_parse(json_object_get_string(a), &e->addrs[i]))
			return bad(err, errlen, "addresses[%zu] is not an address", i);
	}
	e->naddrs = i;
	return 0;
}

int bwe_frec_entry_parse(const char *key, const void *val, size_t len, struct bwe_frec_entry *e,
			 char *err, size_t errlen)
{
	struct json_object *o = parse_json(val, len, err, errlen);
	int r;

	memset(e, 0, sizeof(*e));
	if (!o)
		return -EINVAL;
	r = entry_fields(o, key, e, err, errlen);
	json_object_put(o);
	return r;
}

int bwe_frec_site_parse(const char *name, const void *val, size_t len, struct bwe_frec_site *s,
			char *err, size_t errlen)
{
	struct json_object *o = parse_json(val, len, err, errlen), *arr;
	__s64 n;
	size_t i;
	int r = -EINVAL;

	memset(s, 0, sizeof(*s));
	if (!o)
		return -EINVAL;
	if (check_version(o, err, errlen) ||
	    get_str(o, "site", s->site, sizeof(s->site), false, err, errlen) ||
	    get_int(o, "time", 0, TIME_MAX, false, &s->time, err, errlen) ||
	    get_int(o, "applied_revision", 0, INT64_MAX, true, &s->applied_revision, err, errlen) ||
	    get_int(o, "queued", 0, INT64_MAX, true, &n, err, errlen))
		goto out;
	s->queued = (__u64)n;
	if (strcmp(s->site, name)) {
		bad(err, errlen, "\"site\" \"%s\" is not the key's \"%s\"", s->site, name);
		goto out;
	}
	if (json_object_object_get_ex(o, "feeds", &arr)) {
		if (!json_object_is_type(arr, json_type_array) ||
		    json_object_array_length(arr) > BWE_FREC_FEEDS_MAX) {
			bad(err, errlen, "\"feeds\" is not a list of at most %d",
			    BWE_FREC_FEEDS_MAX);
			goto out;
		}
		for (i = 0; i < json_object_array_length(arr); i++) {
			struct json_object *f = json_object_array_get_idx(arr, i);
			struct bwe_frec_feed *x = &s->feeds[i];

			if (!json_object_is_type(f, json_type_object) ||
			    get_str(f, "name", x->name, sizeof(x->name), false, err, errlen) ||
			    get_str(f, "version", x->version, sizeof(x->version), true, err,
				    errlen) ||
			    get_int(f, "entries", 0, INT64_MAX, true, &n, err, errlen) ||
			    get_int(f, "last_success", 0, TIME_MAX, true, &x->last_success, err,
				    errlen)) {
				if (!json_object_is_type(f, json_type_object))
					bad(err, errlen, "feeds[%zu] is not an object", i);
				goto out;
			}
			x->entries = (__u64)n;
		}
		s->nfeeds = i;
	}
	r = 0;
out:
	json_object_put(o);
	return r;
}

/* ---- fleet-wide scope: questions and answers ---------------------------------------- */

int bwe_frec_scope_key(const char *id, const char *site, char *buf, size_t len)
{
	int n;

	if (!id || !scope_id_ok(id, strlen(id)) || (site && !bwe_frec_site_ok(site)))
		return -EINVAL;
	n = site ? snprintf(buf, len, "scope/ans/%s/%s", id, site)
		 : snprintf(buf, len, "scope/req/%s", id);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int bwe_frec_scope_id(char id[BWE_FREC_SCOPE_ID_LEN])
{
	__u8 r[(BWE_FREC_SCOPE_ID_LEN - 1) / 2];
	size_t i;

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return -EIO;
	for (i = 0; i < sizeof(r); i++)
		snprintf(id + 2 * i, 3, "%02x", r[i]);
	return 0;
}

static void add_addr(struct json_object *o, const char *k, const struct bwe_addr *a)
{
	char buf[BWE_ADDR_STRLEN];

	bwe_addr_fmt(a, buf, sizeof(buf));
	if (json_object_is_type(o, json_type_array))
		json_object_array_add(o, json_object_new_string(buf));
	else
		add_str(o, k, buf);
}

static char *to_text(struct json_object *o)
{
	char *out = o ? strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN)) : NULL;

	json_object_put(o);
	return out;
}

/* What a question and an answer begin with. */
static struct json_object *scope_head(const char *id, const char *site,
				      const struct bwe_addr *target)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "v", json_object_new_int(BWE_FREC_VERSION));
	add_str(o, "id", id);
	add_str(o, "site", site);
	add_addr(o, "target", target);
	return o;
}

char *bwe_frec_scope_req_encode(const struct bwe_frec_scope_req *q)
{
	struct json_object *o = scope_head(q->id, q->site, &q->target),
			   *arr = json_object_new_array();
	size_t i;

	json_object_object_add(o, "since_s", json_object_new_int64(q->since_s));
	json_object_object_add(o, "deadline", json_object_new_int64(q->deadline));
	for (i = 0; i < q->npeers; i++)
		add_addr(arr, NULL, &q->peers[i]);
	json_object_object_add(o, "peers", arr);
	return to_text(o);
}

static struct json_object *scope_host_json(const struct bwe_frec_scope_host *h)
{
	struct json_object *o = json_object_new_object(), *arr = json_object_new_array();
	size_t i;

	add_addr(o, "host", &h->host);
	json_object_object_add(o, "peers_in_common", json_object_new_uint64(h->peers_in_common));
	for (i = 0; i < h->npeers; i++) {
		struct json_object *p = json_object_new_object();

		add_addr(p, "peer", &h->peers[i].peer);
		add_str(p, "feed", h->peers[i].feed);
		json_object_object_add(p, "last_seen",
				       json_object_new_int64(h->peers[i].last_seen));
		json_object_object_add(p, "contacts", json_object_new_uint64(h->peers[i].contacts));
		json_object_array_add(arr, p);
	}
	json_object_object_add(o, "peers", arr);
	json_object_object_add(o, "first_seen", json_object_new_int64(h->first_seen));
	json_object_object_add(o, "last_seen", json_object_new_int64(h->last_seen));
	if (h->contained[0])
		add_str(o, "contained", h->contained);
	return o;
}

char *bwe_frec_scope_ans_encode(struct bwe_frec_scope_ans *a, size_t max)
{
	for (;;) {
		struct json_object *o = scope_head(a->id, a->site, &a->target),
				   *arr = json_object_new_array();
		char *out;
		size_t i;

		json_object_object_add(o, "generated", json_object_new_int64(a->generated));
		json_object_object_add(o, "window_covered",
				       json_object_new_boolean(a->window_covered));
		json_object_object_add(o, "more", json_object_new_uint64(a->more));
		for (i = 0; i < a->nhosts; i++)
			json_object_array_add(arr, scope_host_json(&a->hosts[i]));
		json_object_object_add(o, "hosts", arr);
		out = to_text(o);
		if (!out || strlen(out) <= max || !a->nhosts)
			return out;
		free(out);
		a->nhosts--; /* the last ranked gives way */
		a->more++;
	}
}

/* An address field. */
static int get_addr(struct json_object *o, const char *k, struct bwe_addr *a, char *err,
		    size_t errlen)
{
	char buf[BWE_ADDR_STRLEN + 1];

	if (get_str(o, k, buf, sizeof(buf), false, err, errlen))
		return -EINVAL;
	if (bwe_addr_parse(buf, a))
		return bad(err, errlen, "\"%s\" is not an address", k);
	return 0;
}

/* o[k]: an array of at most max; NULL with the reason in err otherwise. */
static struct json_object *get_arr(struct json_object *o, const char *k, size_t max, char *err,
				   size_t errlen)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, k, &v)) {
		bad(err, errlen, "\"%s\" is missing", k);
		return NULL;
	}
	if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) > max) {
		bad(err, errlen, "\"%s\" is not a list of at most %zu", k, max);
		return NULL;
	}
	return v;
}

/* The id (and site, for an answer) of the value against the key's. */
static int scope_ids(struct json_object *o, const char *key, bool ans, char *id, char *site,
		     char *err, size_t errlen)
{
	char kid[BWE_FREC_SCOPE_ID_LEN], ksite[BWE_FREC_SITE_MAX];
	int t = strncmp(key, "scope/", strlen("scope/"))
			? bad(err, errlen, "\"%s\": not a scope key", key)
			: scope_key_parse(key, kid, ksite, err, errlen);

	if (t < 0)
		return -EINVAL;
	if (t != (ans ? BWE_FREC_KEY_SCOPE_ANS : BWE_FREC_KEY_SCOPE_REQ))
		return bad(err, errlen, "\"%s\": not a scope %s key", key,
			   ans ? "answer" : "question");
	if (check_version(o, err, errlen) ||
	    get_str(o, "id", id, BWE_FREC_SCOPE_ID_LEN, false, err, errlen) ||
	    get_str(o, "site", site, BWE_FREC_SITE_MAX, false, err, errlen))
		return -EINVAL;
	if (strcmp(id, kid))
		return bad(err, errlen, "\"id\" \"%s\" is not the key's \"%s\"", id, kid);
	if (!bwe_frec_site_ok(site))
		return bad(err, errlen, "\"site\" is not a site name");
	if (ans && strcmp(site, ksite))
		return bad(err, errlen, "\"site\" \"%s\" is not the key's \"%s\"", site, ksite);
	return 0;
}

/* Fill out from the value o of key: 0, or -EINVAL with the reason in err. */
typedef int (*fields_fn)(struct json_object *o, const char *key, void *out, char *err,
			 size_t errlen);

/* The value (size bytes of out zeroed first) through fields. */
static int parse_value(const char *key, const void *val, size_t len, fields_fn fields, void *out,
		       size_t size, char *err, size_t errlen)
{
	struct json_object *o = parse_json(val, len, err, errlen);
	int r;

	memset(out, 0, size);
	if (!o)
		return -EINVAL;
	r = fields(o, key, out, err, errlen);
	json_object_put(o);
	return r;
}

static int scope_req_fields(struct json_object *o, const char *key, void *out, char *err,
			    size_t errlen)
{
	struct bwe_frec_scope_req *q = out;
	struct json_object *arr;
	char buf[BWE_ADDR_STRLEN + 1];
	size_t i;

	if (scope_ids(o, key, false, q->id, q->site, err, errlen) ||
	    get_addr(o, "target", &q->target, err, errlen) ||
	    get_int(o, "since_s", 1, BWE_FREC_SCOPE_SINCE_MAX, false, &q->since_s, err, errlen) ||
	    get_int(o, "deadline", 0, TIME_MAX, false, &q->deadline, err, errlen) ||
	    !(arr = get_arr(o, "peers", BWE_FREC_SCOPE_PEERS_MAX, err, errlen)))
		return -EINVAL;
	for (i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *v = json_object_array_get_idx(arr, i);

		if (!json_object_is_type(v, json_type_string) ||
		    (size_t)json_object_get_string_len(v) >= sizeof(buf) ||
		    bwe_addr_parse(json_object_get_string(v), &q->peers[i]))
			return bad(err, errlen, "peers[%zu] is not an address", i);
	}
	q->npeers = i;
	return 0;
}

int bwe_frec_scope_req_parse(const char *key, const void *val, size_t len,
			     struct bwe_frec_scope_req *q, char *err, size_t errlen)
{
	return parse_value(key, val, len, scope_req_fields, q, sizeof(*q), err, errlen);
}

static int scope_peer_fields(struct json_object *o, struct bwe_frec_scope_peer *p, char *err,
			     size_t errlen)
{
	__s64 n;

	if (!json_object_is_type(o, json_type_object))
		return bad(err, errlen, "not an object");
	if (get_addr(o, "peer", &p->peer, err, errlen) ||
	    get_str(o, "feed", p->feed, sizeof(p->feed), false, err, errlen) ||
	    get_int(o, "last_seen", 0, TIME_MAX, false, &p->last_seen, err, errlen) ||
	    get_int(o, "contacts", 0, INT64_MAX, false, &n, err, errlen))
		return -EINVAL;
	p->contacts = (__u64)n;
	return 0;
}

static int scope_host_fields(struct json_object *o, struct bwe_frec_scope_host *h, char *err,
			     size_t errlen)
{
	struct json_object *arr;
	char why[256];
	__s64 n;
	size_t i;

	if (!json_object_is_type(o, json_type_object))
		return bad(err, errlen, "not an object");
	if (get_addr(o, "host", &h->host, err, errlen) ||
	    get_int(o, "peers_in_common", 0, INT32_MAX, false, &n, err, errlen) ||
	    get_int(o, "first_seen", 0, TIME_MAX, false, &h->first_seen, err, errlen) ||
	    get_int(o, "last_seen", 0, TIME_MAX, false, &h->last_seen, err, errlen) ||
	    get_str(o, "contained", h->contained, sizeof(h->contained), true, err, errlen) ||
	    !(arr = get_arr(o, "peers", BWE_FREC_SCOPE_HPEERS_MAX, err, errlen)))
		return -EINVAL;
	h->peers_in_common = (__u64)n;
	if (h->contained[0] && strcmp(h->contained, "quarantine") &&
	    strcmp(h->contained, "throttle"))
		return bad(err, errlen, "\"contained\" is neither quarantine nor throttle");
	if (h->first_seen > h->last_seen)
		return bad(err, errlen, "\"first_seen\" is after \"last_seen\"");
	for (i = 0; i < json_object_array_length(arr); i++)
		if (scope_peer_fields(json_object_array_get_idx(arr, i), &h->peers[i], why,
				      sizeof(why)))
			return bad(err, errlen, "peers[%zu]: %s", i, why);
	h->npeers = i;
	if (h->peers_in_common < h->npeers)
		return bad(err, errlen, "\"peers_in_common\" is fewer than the peers listed");
	return 0;
}

static int scope_ans_fields(struct json_object *o, const char *key, void *out, char *err,
			    size_t errlen)
{
	struct bwe_frec_scope_ans *a = out;
	struct json_object *arr;
	char why[320];
	__s64 n;
	size_t i;

	if (scope_ids(o, key, true, a->id, a->site, err, errlen) ||
	    get_addr(o, "target", &a->target, err, errlen) ||
	    get_int(o, "generated", 0, TIME_MAX, false, &a->generated, err, errlen) ||
	    get_bool(o, "window_covered", &a->window_covered, err, errlen) ||
	    get_int(o, "more", 0, INT32_MAX, false, &n, err, errlen) ||
	    !(arr = get_arr(o, "hosts", BWE_FREC_SCOPE_HOSTS_MAX, err, errlen)))
		return -EINVAL;
	a->more = (__u64)n;
	for (i = 0; i < json_object_array_length(arr); i++)
		if (scope_host_fields(json_object_array_get_idx(arr, i), &a->hosts[i], why,
				      sizeof(why)))
			return bad(err, errlen, "hosts[%zu]: %s", i, why);
	a->nhosts = i;
	return 0;
}

int bwe_frec_scope_ans_parse(const char *key, const void *val, size_t len,
			     struct bwe_frec_scope_ans *a, char *err, size_t errlen)
{
	return parse_value(key, val, len, scope_ans_fields, a, sizeof(*a), err, errlen);
}
