// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fleetwire.c - the fleet worker's framing (fleetwire.h): length-prefixed
 * JSON frames, the parent's judge of every message from the child, base64.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "bwe_util.h"
#include "fleetwire.h"

#define JSON_DEPTH 3 /* an object of scalars: no more nesting */

int bwe_flw_dec_feed(struct bwe_flw_dec *d, const void *p, size_t n, size_t *used)
{
	const __u8 *s = p;
	size_t off = 0;

	*used = 0;
	while (off < n && d->hdr_have < BWE_FLW_HDR) {
		d->hdr[d->hdr_have++] = s[off++];
		if (d->hdr_have == BWE_FLW_HDR) {
			d->len = (size_t)d->hdr[0] << 24 | (size_t)d->hdr[1] << 16 |
				 (size_t)d->hdr[2] << 8 | d->hdr[3];
			d->have = 0;
			if (!d->len || d->len > d->max) {
				*used = off;
				return -EMSGSIZE;
			}
			if (!d->frame && !(d->frame = malloc(d->max + 1))) {
				*used = off;
				return -ENOMEM;
			}
		}
	}
	if (d->hdr_have == BWE_FLW_HDR && off < n) {
		size_t k = n - off < d->len - d->have ? n - off : d->len - d->have;

		memcpy(d->frame + d->have, s + off, k);
		d->have += k;
		off += k;
	}
	*used = off;
	if (d->hdr_have == BWE_FLW_HDR && d->have == d->len) {
		d->frame[d->len] = '\0';
		d->hdr_have = 0;
		d->frames++;
		return 1;
	}
	return 0;
}

bool bwe_flw_dec_idle(const struct bwe_flw_dec *d)
{
	return d->hdr_have == 0;
}

void bwe_flw_dec_free(struct bwe_flw_dec *d)
{
	if (d->frame)
		explicit_bzero(d->frame, d->max + 1);
	free(d->frame);
	d->frame = NULL;
	d->hdr_have = 0;
}

int bwe_flw_put(struct bwe_wire_buf *b, struct json_object *o, size_t max)
{
	size_t len;
	const char *s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len);

	if (!s)
		return -ENOMEM;
	if (!len || len > max)
		return -EMSGSIZE;
	if (b->len + BWE_FLW_HDR + len > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *np;

		while (cap < b->len + BWE_FLW_HDR + len)
			cap *= 2;
		np = malloc(cap); /* not realloc: the old bytes are wiped, they may be a secret */
		if (!np)
			return -ENOMEM;
		if (b->p) {
			memcpy(np, b->p, b->len);
			explicit_bzero(b->p, b->cap);
			free(b->p);
		}
		b->p = np;
		b->cap = cap;
	}
	b->p[b->len++] = (char)(len >> 24);
	b->p[b->len++] = (char)(len >> 16);
	b->p[b->len++] = (char)(len >> 8);
	b->p[b->len++] = (char)len;
	memcpy(b->p + b->len, s, len);
	b->len += len;
	return 0;
}

/* ---- checks ---------------------------------------------------------------------- */

static bool key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == ':' || c == '/' || c == '-';
}

bool bwe_flw_key_ok(const char *k, size_t len)
{
	size_t i;

	if (!k || !len || len > BWE_FLC_KEY_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (!key_char(k[i]))
			return false;
	return true;
}

bool bwe_flw_prefix_ok(const char *p)
{
	size_t len = p ? strnlen(p, BWE_FLW_PREFIX_MAX + 1) : 0;
	size_t i;

	if (!len || len > BWE_FLW_PREFIX_MAX || p[len - 1] != '/')
		return false;
	for (i = 0; i < len; i++)
		if (!key_char(p[i]))
			return false;
	return true;
}

bool bwe_flw_text_ok(const char *s, size_t max)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (i >= max || (unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

bool bwe_flw_endpoint_ok(const char *e)
{
	const char *h, *c;
	size_t i;

	if (!e || !bwe_flw_text_ok(e, BWE_FLW_ENDPOINT_MAX))
		return false;
	if (!strncmp(e, "https://", 8))
		h = e + 8;
	else if (!strncmp(e, "http://", 7))
		h = e + 7;
	else
		return false;
	if (!*h || *h == '/' || *h == ':')
		return false;
	for (c = h; *c; c++) {
		if (*c == ' ' || *c == '?' || *c == '#' || *c == '@' || *c == '\\')
			return false;
		if (*c == '/') { /* only a trailing one */
			if (c[1])
				return false;
		}
	}
	c = strrchr(h, ':');
	if (c && !strchr(c, ']')) { /* a port: digits */
		for (i = 1; c[i] && c[i] != '/'; i++)
			if (c[i] < '0' || c[i] > '9')
				return false;
		if (i == 1)
			return false;
	}
	return true;
}

/* ---- base64 ------------------------------------------------------------------------ */

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void bwe_flw_b64_encode(const void *in, size_t n, char *out)
{
	const __u8 *s = in;
	size_t i;

	for (i = 0; i + 2 < n; i += 3) {
		__u32 v = (__u32)s[i] << 16 | (__u32)s[i + 1] << 8 | s[i + 2];

		*out++ = B64[v >> 18];
		*out++ = B64[(v >> 12) & 63];
		*out++ = B64[(v >> 6) & 63];
		*out++ = B64[v & 63];
	}
	if (n - i == 1) {
		__u32 v = (__u32)s[i] << 16;

		*out++ = B64[v >> 18];
		*out++ = B64[(v >> 12) & 63];
		*out++ = '=';
		*out++ = '=';
	} else if (n - i == 2) {
		__u32 v = (__u32)s[i] << 16 | (__u32)s[i + 1] << 8;

		*out++ = B64[v >> 18];
		*out++ = B64[(v >> 12) & 63];
		*out++ = B64[(v >> 6) & 63];
		*out++ = '=';
	}
	*out = '\0';
}

static int b64_val(char c)
{
	const char *p = c ? strchr(B64, c) : NULL;

	return p ? (int)(p - B64) : -1;
}

long bwe_flw_b64_decode(const char *in, size_t n, void *out, size_t max)
{
	__u8 *o = out;
	size_t i, len = 0, pad = 0;

	if (n % 4)
		return -EINVAL;
	if (n && in[n - 1] == '=')
		pad = n >= 2 && in[n - 2] == '=' ? 2 : 1;
	if (n / 4 * 3 - pad > max)
		return -E2BIG;
	for (i = 0; i < n; i += 4) {
		int a = b64_val(in[i]), b = b64_val(in[i + 1]), c, d;
		bool last = i + 4 == n;
		__u32 v;

		c = last && pad == 2 ? 0 : b64_val(in[i + 2]);
		d = last && pad >= 1 ? 0 : b64_val(in[i + 3]);
		if (a < 0 || b < 0 || c < 0 || d < 0)
			return -EINVAL;
		v = (__u32)a << 18 | (__u32)b << 12 | (__u32)c << 6 | (__u32)d;
		o[len++] = (__u8)(v >> 16);
		if (!(last && pad == 2))
			o[len++] = (__u8)(v >> 8);
		if (!(last && pad >= 1))
			o[len++] = (__u8)v;
		/* canonical: the bits the padding drops are zero */
		if (last && ((pad == 2 && (v & 0xffff)) || (pad == 1 && (v & 0xff))))
			return -EINVAL;
	}
	return (long)len;
}

void bwe_flw_escape(const void *in, size_t n, char *out, size_t outlen)
{
	const __u8 *s = in;
	size_t i, o = 0;

	if (!outlen)
		return;
	for (i = 0; i < n; i++) {
		if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '\\') {
			if (o + 1 >= outlen)
				break;
			out[o++] = (char)s[i];
		} else {
			if (o + 4 >= outlen)
				break;
			snprintf(out + o, outlen - o, "\\x%02x", s[i]);
			o += 4;
		}
	}
	out[o] = '\0';
}

/* ---- the parent's judge ---------------------------------------------------------------- */

enum fkind {
	F_BOOL,	  /* connected */
	F_ENDPT,  /* "" or an endpoint URL */
	F_KEY,	  /* a key */
	F_ESCKEY, /* an escaped key (refused) */
	F_VALUE,  /* base64, at most BWE_FLC_VALUE_MAX decoded */
	F_REV,	  /* 1..BWE_FLW_REV_MAX */
	F_REV0,	  /* 0..BWE_FLW_REV_MAX */
	F_MOD,	  /* mod: 1..BWE_FLW_REV_MAX */
	F_COUNT,  /* 0..2^62 */
	F_LEASE,  /* 1..2^63-1 */
	F_SEQ,	  /* 0..2^62 */
	F_ID,	  /* 1..2^32-1 */
	F_STATUS, /* 0 or -1..-4095 */
	F_ERROR,  /* text */
};

struct field {
	const char *name;
	enum fkind kind;
};

struct mtype {
	const char *name;
	enum bwe_flw_type type;
	struct field f[5];
};

static const struct mtype MTYPES[] = {
	{ "state",
	  BWE_FLW_STATE,
	  { { "connected", F_BOOL },
	    { "endpoint", F_ENDPT },
	    { "rev", F_REV0 },
	    { "error", F_ERROR } } },
	{ "rev", BWE_FLW_REV, { { "rev", F_REV } } },
	{ "snap_begin", BWE_FLW_SNAP_BEGIN, { { "rev", F_REV } } },
	{ "kv", BWE_FLW_KV, { { "key", F_KEY }, { "value", F_VALUE }, { "mod", F_MOD } } },
	{ "snap_end", BWE_FLW_SNAP_END, { { "rev", F_REV }, { "count", F_COUNT } } },
	{ "put", BWE_FLW_PUT, { { "key", F_KEY }, { "value", F_VALUE }, { "mod", F_MOD } } },
	{ "del", BWE_FLW_DEL, { { "key", F_KEY }, { "mod", F_MOD } } },
	{ "done",
	  BWE_FLW_DONE,
	  { { "id", F_ID }, { "status", F_STATUS }, { "error", F_ERROR }, { "rev", F_REV0 } } },
	{ "compacted", BWE_FLW_COMPACTED, { { "rev", F_REV } } },
	{ "refused",
	  BWE_FLW_REFUSED,
	  { { "key", F_ESCKEY }, { "error", F_ERROR }, { "mod", F_MOD } } },
	{ "pong", BWE_FLW_PONG, { { "seq", F_SEQ } } },
	{ "following", BWE_FLW_FOLLOWING, { { "rev", F_REV0 } } },
	{ "lease", BWE_FLW_LEASE, { { "id", F_LEASE } } },
};

__attribute__((format(printf, 3, 4))) static int bad(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return -EBADMSG;
}

static int get_int(struct json_object *v, __s64 lo, __s64 hi, __s64 *out)
{
	if (!json_object_is_type(v, json_type_int))
		return -EINVAL;
	errno = 0;
	*out = json_object_get_int64(v);
	if (errno || *out < lo || *out > hi)
		return -ERANGE;
	return 0;
}

static int judge_field(const struct field *f, struct json_object *v, struct bwe_flw_msg *m,
		       char *why, size_t whylen)
{
	const char *s = NULL;
	size_t len = 0;
	__s64 x = 0;
	long n;

	switch (f->kind) {
	case F_BOOL:
		if (!json_object_is_type(v, json_type_boolean))
			return bad(why, whylen, "%s: not a boolean", f->name);
		m->connected = json_object_get_boolean(v);
		return 0;
	case F_ENDPT:
	case F_KEY:
	case F_ESCKEY:
	case F_VALUE:
	case F_ERROR:
		if (!json_object_is_type(v, json_type_string))
			return bad(why, whylen, "%s: not a string", f->name);
		s = json_object_get_string(v);
		len = (size_t)json_object_get_string_len(v);
		if (strlen(s) != len)
			return bad(why, whylen, "%s: a NUL byte inside", f->name);
		break;
	case F_REV:
	case F_MOD:
		if (get_int(v, 1, BWE_FLW_REV_MAX, &x))
			return bad(why, whylen, "%s: not a revision in 1..2^62", f->name);
		break;
	case F_REV0:
		if (get_int(v, 0, BWE_FLW_REV_MAX, &x))
			return bad(why, whylen, "%s: not a revision in 0..2^62", f->name);
		break;
	case F_COUNT:
	case F_SEQ:
		if (get_int(v, 0, BWE_FLW_REV_MAX, &x))
			return bad(why, whylen, "%s: not a count in 0..2^62", f->name);
		break;
	case F_LEASE:
		if (get_int(v, 1, INT64_MAX, &x))
			return bad(why, whylen, "%s: not a lease ID", f->name);
		break;
	case F_ID:
		if (get_int(v, 1, UINT32_MAX, &x))
			return bad(why, whylen, "%s: not a request id in 1..2^32-1", f->name);
		break;
	case F_STATUS:
		if (get_int(v, -4095, 0, &x))
			return bad(why, whylen, "%s: not 0 or -errno", f->name);
		break;
	}
	switch (f->kind) {
	case F_ENDPT:
		if (len && !bwe_flw_endpoint_ok(s))
			return bad(why, whylen, "endpoint: not an http(s) URL");
		snprintf(m->endpoint, sizeof(m->endpoint), "%s", s);
		break;
	case F_KEY:
		if (!bwe_flw_key_ok(s, len))
			return bad(why, whylen, "key: not 1..%d bytes of [A-Za-z0-9._:/-]",
				   BWE_FLC_KEY_MAX);
		memcpy(m->key, s, len + 1);
		break;
	case F_ESCKEY:
		if (!len || !bwe_flw_text_ok(s, BWE_FLC_KEY_MAX))
			return bad(why, whylen, "key: not 1..%d printable bytes", BWE_FLC_KEY_MAX);
		memcpy(m->key, s, len + 1);
		break;
	case F_ERROR:
		if (!bwe_flw_text_ok(s, BWE_FLC_ERR_MAX - 1))
			return bad(why, whylen, "error: not a printable text under %d bytes",
				   BWE_FLC_ERR_MAX);
		memcpy(m->error, s, len + 1);
		break;
	case F_VALUE:
		n = bwe_flw_b64_decode(s, len, m->value, sizeof(m->value));
		if (n == -E2BIG)
			return bad(why, whylen, "value: more than %d bytes", BWE_FLC_VALUE_MAX);
		if (n < 0)
			return bad(why, whylen, "value: not base64");
		m->value_len = (size_t)n;
		break;
	case F_REV:
	case F_REV0:
		m->rev = x;
		break;
	case F_MOD:
		m->mod = x;
		break;
	case F_COUNT:
		m->count = (__u64)x;
		break;
	case F_SEQ:
		m->seq = (__u64)x;
		break;
	case F_LEASE:
		m->lease = x;
		break;
	case F_ID:
		m->id = (__u32)x;
		break;
	case F_STATUS:
		m->status = (int)x;
		break;
	case F_BOOL:
		break;
	}
	return 0;
}

int bwe_flw_parse(const char *frame, size_t len, struct bwe_flw_msg *m, char *why, size_t whylen)
{
	struct json_tokener *tok = json_tokener_new_ex(JSON_DEPTH);
	struct json_object *o = NULL, *t;
	const struct mtype *mt = NULL;
	size_t i, nf = 0;
	int err = 0;

	memset(m, 0, offsetof(struct bwe_flw_msg, value));
	m->value_len = 0;
	m->rev = m->mod = m->lease = 0;
	m->count = m->seq = 0;
	m->id = 0;
	m->status = 0;
	m->error[0] = '\0';
	if (!tok)
		return bad(why, whylen, "out of memory");
	o = json_tokener_parse_ex(tok, frame, (int)len);
	if (!o || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len) {
		err = bad(why, whylen, "not one JSON object");
		goto out;
	}
	if (!json_object_is_type(o, json_type_object)) {
		err = bad(why, whylen, "not a JSON object");
		goto out;
	}
	if (!json_object_object_get_ex(o, "t", &t) || !json_object_is_type(t, json_type_string)) {
		err = bad(why, whylen, "no message type");
		goto out;
	}
	for (i = 0; i < ARRAY_SIZE(MTYPES); i++)
		if (!strcmp(MTYPES[i].name, json_object_get_string(t)))
			mt = &MTYPES[i];
	if (!mt) {
		char esc[40];

		bwe_flw_escape(json_object_get_string(t), (size_t)json_object_get_string_len(t),
			       esc, sizeof(esc));
		err = bad(why, whylen, "unknown message type \"%s\"", esc);
		goto out;
	}
	m->type = mt->type;
	for (i = 0; i < ARRAY_SIZE(mt->f) && mt->f[i].name; i++) {
		struct json_object *v;

		if (!json_object_object_get_ex(o, mt->f[i].name, &v)) {
			err = bad(why, whylen, "%s: no %s", mt->name, mt->f[i].name);
			goto out;
		}
		err = judge_field(&mt->f[i], v, m, why, whylen);
		if (err) {
			char inner[BWE_FLC_ERR_MAX];

			snprintf(inner, sizeof(inner), "%s", why);
			err = bad(why, whylen, "%s: %s", mt->name, inner);
			goto out;
		}
		nf++;
	}
	if ((size_t)json_object_object_length(o) != nf + 1)
		err = bad(why, whylen, "%s: a field that is not one of its own", mt->name);
out:
	json_object_put(o);
	json_tokener_free(tok);
	return err;
}
