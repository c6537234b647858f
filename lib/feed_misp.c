// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * feed_misp.c - MISP attributes/restSearch (misp.h): the request body and
 * the response read as a feed (feed.h, BWE_FMT_MISP). Addresses go
 * through feed.c's checks (feed_emit_token), names through
 * feed_domain_norm, so a MISP value is held to the same rules as a line of
 * any other feed. Runs in the feed worker (the parser) and in the parent
 * (the request body).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "feed_impl.h"
#include "misp.h"

#define PORT_MAX 65535

/* ---- the request ------------------------------------------------------------- */

int bwe_misp_last_check(const char *s)
{
	size_t n = s ? strlen(s) : 0, i;

	if (n < 2 || n >= BWE_MISP_LAST_MAX || !strchr("dhmsw", s[n - 1]) || s[0] == '0')
		return -EINVAL;
	for (i = 0; i + 1 < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
	return 0;
}

int bwe_misp_request_body(const char *last, char *out, size_t cap)
{
	int n;

	if (bwe_misp_last_check(last))
		return -EINVAL;
	n = snprintf(out, cap,
		     "{\"returnFormat\":\"json\",\"type\":[\"ip-src\",\"ip-dst\",\"ip-src|port\","
		     "\"ip-dst|port\",\"domain\"],\"to_ids\":true,\"last\":\"%s\"}",
		     last);
	return n < 0 || (size_t)n >= cap ? -ENOSPC : n;
}

/* ---- the response -------------------------------------------------------------- */

enum misp_type { MT_OTHER, MT_ADDR, MT_ADDR_PORT, MT_DOMAIN };

static enum misp_type type_of(const char *t)
{
	static const struct {
		const char *name;
		enum misp_type type;
	} types[] = {
		{ "ip-src", MT_ADDR },		 { "ip-dst", MT_ADDR },
		{ "ip-src|port", MT_ADDR_PORT }, { "ip-dst|port", MT_ADDR_PORT },
		{ "domain", MT_DOMAIN },
	};

	for (size_t i = 0; t && i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(t, types[i].name))
			return types[i].type;
	return MT_OTHER;
}

static const char *str_of(struct json_object *o, const char *key, size_t *len)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	if (len)
		*len = (size_t)json_object_get_string_len(v);
	return json_object_get_string(v);
}

/* to_ids: true, 1 or "1" (MISP versions differ); anything else is false. */
static bool to_ids(struct json_object *a)
{
	struct json_object *v;

	if (!json_object_object_get_ex(a, "to_ids", &v))
		return false;
	if (json_object_is_type(v, json_type_boolean))
		return json_object_get_boolean(v);
	if (json_object_is_type(v, json_type_int))
		return json_object_get_int64(v) == 1;
	if (json_object_is_type(v, json_type_string))
		return !strcmp(json_object_get_string(v), "1");
	return false;
}

/* The event id as digits (a string or a number); NULL when it is neither. */
static const char *event_id(struct json_object *a, char *buf, size_t cap)
{
	struct json_object *v;
	const char *s;
	size_t n;

	if (!json_object_object_get_ex(a, "event_id", &v))
		return NULL;
	if (json_object_is_type(v, json_type_int) && json_object_get_int64(v) > 0) {
		snprintf(buf, cap, "%lld", (long long)json_object_get_int64(v));
		return buf;
	}
	s = str_of(a, "event_id", &n);
	if (!s || !n || n >= cap)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return NULL;
	return s;
}

static bool printable(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

/* "misp event E attribute UUID (COMMENT)", printable, cut to the buffer. */
static void make_id(char *out, size_t cap, const char *ev, const char *uuid, const char *comment)
{
	int n = snprintf(out, cap, "misp event %s attribute %s", ev, uuid);

	if (comment && comment[0] && n > 0 && (size_t)n < cap)
		snprintf(out + n, cap - (size_t)n, " (%s)", comment);
	for (char *c = out; *c; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
			*c = '?';
}

static int attribute(struct feed_run *r, struct json_object *a)
{
	char evbuf[24], id[BWE_MISP_ID_MAX];
	const char *type, *value, *uuid, *ev, *bar;
	size_t vn = 0, un = 0;
	enum misp_type mt;

	if (!json_object_is_type(a, json_type_object))
		return feed_reject(r, r->line, "attribute is not a JSON object",
				   json_object_to_json_string(a),
				   strlen(json_object_to_json_string(a)));
	type = str_of(a, "type", NULL);
	mt = type_of(type);
	if (mt == MT_OTHER || !to_ids(a)) {
		r->st->skipped++;
		return 0;
	}
	value = str_of(a, "value", &vn);
	uuid = str_of(a, "uuid", &un);
	ev = event_id(a, evbuf, sizeof(evbuf));
	if (!value || !vn)
		return feed_reject(r, r->line, "attribute without a value", type, strlen(type));
	if (!uuid || !un || un > 64 || !printable(uuid, un))
		return feed_reject(r, r->line, "attribute without a valid uuid", value, vn);
	if (!ev)
		return feed_reject(r, r->line, "attribute without a valid event_id", value, vn);
	make_id(id, sizeof(id), ev, uuid, str_of(a, "comment", NULL));
	if (mt == MT_DOMAIN) {
		struct bwe_indicator ind = { .kind = BWE_IND_DOMAIN, .line = r->line, .id = id };

		if (feed_domain_norm(value, vn, r->domain))
			return feed_reject(r, r->line, "not a domain name", value, vn);
		ind.domain = r->domain;
		return feed_deliver(r, &ind);
	}
	if (mt == MT_ADDR_PORT) {
		char *end;
		long port;

		bar = memchr(value, '|', vn);
		if (!bar || bar == value || !bar[1])
			return feed_reject(r, r->line, "not address|port", value, vn);
		port = strtol(bar + 1, &end, 10);
		if (bar[1] < '0' || bar[1] > '9' || *end || port > PORT_MAX)
			return feed_reject(r, r->line, "not address|port (port 0..65535)", value,
					   vn);
		return feed_emit_token(r, value, (size_t)(bar - value), id, value, vn);
	}
	return feed_emit_token(r, value, vn, id, value, vn);
}

int feed_parse_misp(struct feed_run *r, const char *buf, size_t len)
{
	struct json_object *root = NULL, *resp, *attrs = NULL;
	size_t n, i;
	int err = feed_json_parse_depth(buf, len, BWE_MISP_JSON_DEPTH, &root);

	r->st->format = BWE_FMT_MISP;
	if (err)
		return err;
	/* an empty search: some MISP versions answer {"response": []} */
	if (json_object_is_type(root, json_type_object) &&
	    json_object_object_get_ex(root, "response", &resp) &&
	    json_object_is_type(resp, json_type_array) && !json_object_array_length(resp))
		goto out;
	if (!json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "response", &resp) ||
	    !json_object_is_type(resp, json_type_object) ||
	    (json_object_object_get_ex(resp, "Attribute", &attrs) && attrs &&
	     !json_object_is_type(attrs, json_type_array))) {
		err = -EBADMSG;
		goto out;
	}
	n = attrs ? json_object_array_length(attrs) : 0;
	if (n > BWE_MISP_ATTRIBUTES_MAX) {
		err = -E2BIG;
		goto out;
	}
	r->st->lines = n;
	for (i = 0; i < n && !err; i++) {
		r->line = (__u32)(i + 1);
		err = attribute(r, json_object_array_get_idx(attrs, i));
	}
out:
	json_object_put(root);
	return err;
}
