// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * feed_json.c - JSON helpers of the feed parser and the Spamhaus DROP JSON
 * format (drop_v4.json, drop_v6.json): one object a line,
 *   {"cidr":"192.0.2.0/24","sblid":"SBL100001","rir":"arin"}
 * and a {"type":"metadata",...} line, which is skipped, as are ASN-DROP
 * records ({"asn":932,...}, no "cidr"): they name no address.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include <json-c/json.h>

#include "feed_impl.h"

#define JSON_CHUNK_MAX (INT_MAX / 2) /* bytes given to json-c at once (an int) */
#define SPAMHAUS_META  "metadata"
#define SPAMHAUS_ASN   "asn" /* ASN-DROP records: no address, skipped */

int feed_json_parse(const char *buf, size_t len, struct json_object **out)
{
	return feed_json_parse_depth(buf, len, BWE_FEED_JSON_DEPTH, out);
}

int feed_json_parse_depth(const char *buf, size_t len, int depth, struct json_object **out)
{
	struct json_tokener *tok = json_tokener_new_ex(depth);
	struct json_object *obj = NULL;
	enum json_tokener_error jerr = json_tokener_continue;
	size_t off = 0, end = 0;

	if (!tok)
		return -ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	while (!obj && off < len) {
		size_t chunk = len - off < JSON_CHUNK_MAX ? len - off : JSON_CHUNK_MAX;

		obj = json_tokener_parse_ex(tok, buf + off, (int)chunk);
		jerr = json_tokener_get_error(tok);
		end = off + json_tokener_get_parse_end(tok);
		off += chunk;
		if (jerr != json_tokener_continue)
			break;
	}
	if (!obj && jerr == json_tokener_continue && off >= len) {
		/* a number at the very end may go on: a NUL byte ends it */
		obj = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
		end = len;
	}
	json_tokener_free(tok);
	/* json-c 0.16 has no distinct out-of-memory error: it reads as -EBADMSG */
	/* only blanks may follow the value (json-c stops at a NUL byte) */
	while (jerr == json_tokener_success && end < len &&
	       (feed_is_blank(buf[end]) || buf[end] == '\n'))
		end++;
	if (jerr != json_tokener_success || end != len) {
		json_object_put(obj);
		return -EBADMSG;
	}
	*out = obj;
	return 0;
}

const char *feed_json_id(struct json_object *obj, const char *key)
{
	struct json_object *v;
	const char *s;
	int n;

	if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	s = json_object_get_string(v);
	n = json_object_get_string_len(v);
	if (n < 1 || n >= FEED_ID_MAX)
		return NULL;
	for (int i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] >= 0x7f)
			return NULL;
	return s;
}

/* The first non-blank line is a JSON object, or the body is not this format. */
static int first_line_is_object(const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;
	struct json_object *obj;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);
		const char *s = feed_trim(p, &n);
		int err;

		p = nl ? nl + 1 : end;
		if (!n)
			continue;
		if (n > BWE_FEED_LINE_MAX)
			return -EBADMSG;
		err = feed_json_parse(s, n, &obj);
		if (err)
			return err;
		err = json_object_is_type(obj, json_type_object) ? 0 : -EBADMSG;
		json_object_put(obj);
		return err;
	}
	return 0;
}

static int spamhaus_json_line(struct feed_run *r, const char *s, size_t n)
{
	struct json_object *obj, *v = NULL;
	int err;

	err = feed_json_parse(s, n, &obj);
	if (err == -ENOMEM)
		return err;
	if (err || !json_object_is_type(obj, json_type_object)) {
		if (!err)
			json_object_put(obj);
		return feed_reject(r, r->line, "not a JSON object", s, n);
	}
	if (json_object_object_get_ex(obj, "type", &v) &&
	    json_object_is_type(v, json_type_string) &&
	    !strcmp(json_object_get_string(v), SPAMHAUS_META)) {
		r->st->skipped++;
		err = 0;
	} else if (!json_object_object_get_ex(obj, "cidr", &v) &&
		   json_object_object_get_ex(obj, SPAMHAUS_ASN, NULL)) {
		r->st->skipped++; /* an ASN-DROP record: about a network's number */
		err = 0;
	} else if (v && json_object_is_type(v, json_type_string)) {
		err = feed_emit_token(r, json_object_get_string(v),
				      (size_t)json_object_get_string_len(v),
				      feed_json_id(obj, "sblid"), s, n);
	} else {
		err = feed_reject(r, r->line, "no \"cidr\" string", s, n);
	}
	json_object_put(obj);
	return err;
}

int feed_parse_spamhaus_json(struct feed_run *r, const char *buf, size_t len)
{
	int err = first_line_is_object(buf, len);

	if (err)
		return err;
	return feed_lines(r, buf, len, spamhaus_json_line);
}
