// SPDX-License-Identifier: GPL-2.0-only
/*
 * tokens.c - the API's token store; contract in tokens.h.
 *
 * A token is TOK_PREFIX and the base64url form (RFC 4648 section 5, no
 * padding) of TOK_SECRET_BYTES from getrandom(). The file keeps, per
 * token, a random 16-byte salt and SHA-256(salt || token), both in hex.
 * A request's token is checked against every stored hash (at most TOK_MAX),
 * each comparison in constant time.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "log.h"
#include "tokens.h"
#include "util.h"

#define TOK_SALT_BYTES 16
#define TOK_HASH_BYTES 32 /* SHA-256 */
#define TOK_FILE_MAX   (1024 * 1024)

struct token {
	char name[BWE_TOKEN_NAME_MAX + 1];
	__u32 scopes;
	__u8 salt[TOK_SALT_BYTES];
	__u8 hash[TOK_HASH_BYTES];
	time_t created, last_used; /* wall clock; last_used 0: never */
};

struct tokens {
	char path[PATH_MAX];
	struct token v[TOK_MAX];
	size_t n;
	bool dirty;	 /* a "last used" not written yet */
	time_t saved_at; /* when the file was last written */
};

static void hex(const __u8 *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 0xf];
	}
	out[2 * n] = '\0';
}

static int unhex(const char *s, __u8 *b, size_t n)
{
	size_t i;

	if (!s || strlen(s) != 2 * n)
		return -EINVAL;
	for (i = 0; i < 2 * n; i++) {
		int v = s[i] >= '0' && s[i] <= '9'   ? s[i] - '0'
			: s[i] >= 'a' && s[i] <= 'f' ? s[i] - 'a' + 10
						     : -1;

		if (v < 0)
			return -EINVAL;
		if (i % 2)
			b[i / 2] |= (__u8)v;
		else
			b[i / 2] = (__u8)(v << 4);
	}
	return 0;
}

static int random_bytes(void *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = getrandom((char *)buf + got, n - got, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		got += (size_t)r;
	}
	return 0;
}

static int digest(const __u8 salt[TOK_SALT_BYTES], const char *text, __u8 out[TOK_HASH_BYTES])
{
	size_t len = strlen(text);
	__u8 buf[TOK_SALT_BYTES + TOK_TEXT_LEN];
	int e;

	if (len >= TOK_TEXT_LEN)
		return -EINVAL;
	memcpy(buf, salt, TOK_SALT_BYTES);
	memcpy(buf + TOK_SALT_BYTES, text, len);
	e = gnutls_hash_fast(GNUTLS_DIG_SHA256, buf, TOK_SALT_BYTES + len, out);
	memset(buf, 0, sizeof(buf));
	return e ? -EIO : 0;
}

/* Equal or not, in time that does not depend on where they differ. */
static bool same(const __u8 *a, const __u8 *b, size_t n)
{
	volatile __u8 d = 0;
	size_t i;

	for (i = 0; i < n; i++)
		d |= a[i] ^ b[i];
	return d == 0;
}

static void base64url(const __u8 *b, size_t n, char *out)
{
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t i, o = 0;

	for (i = 0; i + 2 < n; i += 3) {
		__u32 v = (__u32)b[i] << 16 | (__u32)b[i + 1] << 8 | b[i + 2];

		out[o++] = al[v >> 18 & 63];
		out[o++] = al[v >> 12 & 63];
		out[o++] = al[v >> 6 & 63];
		out[o++] = al[v & 63];
	}
	if (n - i == 1) {
		out[o++] = al[b[i] >> 2];
		out[o++] = al[(b[i] & 3) << 4];
	} else if (n - i == 2) {
		__u32 v = (__u32)b[i] << 8 | b[i + 1];

		out[o++] = al[v >> 10 & 63];
		out[o++] = al[v >> 4 & 63];
		out[o++] = al[(v & 15) << 2];
	}
	out[o] = '\0';
}

/* ---- the file ----------------------------------------------------------------- */

static int save(struct tokens *t, time_t now)
{
	struct json_object *root = json_object_new_object(), *arr = json_object_new_array();
	char salt[2 * TOK_SALT_BYTES + 1], hash[2 * TOK_HASH_BYTES + 1];
	const char *s;
	size_t i;
	int e;

	for (i = 0; i < t->n; i++) {
		const struct token *k = &t->v[i];
		struct json_object *o = json_object_new_object();

		hex(k->salt, TOK_SALT_BYTES, salt);
		hex(k->hash, TOK_HASH_BYTES, hash);
		json_object_object_add(o, "name", json_object_new_string(k->name));
		json_object_object_add(o, "scopes", bwe_scopes_json(k->scopes));
		json_object_object_add(o, "salt", json_object_new_string(salt));
		json_object_object_add(o, "sha256", json_object_new_string(hash));
		json_object_object_add(o, "created", json_object_new_int64(k->created));
		json_object_object_add(o, "last_used", json_object_new_int64(k->last_used));
		json_object_array_add(arr, o);
	}
	json_object_object_add(root, "version", json_object_new_int(1));
	json_object_object_add(root, "tokens", arr);
	s = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY);
	e = write_file_atomic(t->path, s, strlen(s), TOK_FILE_MODE);
	json_object_put(root);
	if (e) {
		log_warnx("cannot write %s: %s", t->path, strerror(-e));
		return e;
	}
	t->dirty = false;
	t->saved_at = now;
	return 0;
}

static int load_one(struct json_object *o, struct token *k)
{
	struct json_object *v, *sc;
	size_t i, n;

	memset(k, 0, sizeof(*k));
	if (!json_object_object_get_ex(o, "name", &v) ||
	    !bwe_token_name_ok(json_object_get_string(v)))
		return -EINVAL;
	snprintf(k->name, sizeof(k->name), "%s", json_object_get_string(v));
	if (!json_object_object_get_ex(o, "scopes", &sc) ||
	    !json_object_is_type(sc, json_type_array))
		return -EINVAL;
	n = json_object_array_length(sc);
	for (i = 0; i < n; i++)
		k->scopes |=
			bwe_scope_bit(json_object_get_string(json_object_array_get_idx(sc, i)));
	if (!k->scopes || !json_object_object_get_ex(o, "salt", &v) ||
	    unhex(json_object_get_string(v), k->salt, TOK_SALT_BYTES) ||
	    !json_object_object_get_ex(o, "sha256", &v) ||
	    unhex(json_object_get_string(v), k->hash, TOK_HASH_BYTES))
		return -EINVAL;
	if (json_object_object_get_ex(o, "created", &v))
		k->created = (time_t)json_object_get_int64(v);
	if (json_object_object_get_ex(o, "last_used", &v))
		k->last_used = (time_t)json_object_get_int64(v);
	return 0;
}

int tok_open(struct tokens **out, const char *state_dir)
{
	struct tokens *t = calloc(1, sizeof(*t));
	struct json_object *root = NULL, *arr;
	char *buf = NULL;
	size_t len, i, n;
	int e;

	*out = NULL;
	if (!t)
		return -ENOMEM;
	if (snprintf(t->path, sizeof(t->path), "%s/%s", state_dir, TOK_FILE) >=
	    (int)sizeof(t->path) - 8) {
		free(t);
		return -ENAMETOOLONG;
	}
	e = mkdir_p(state_dir);
	if (!e)
		e = read_file(t->path, TOK_FILE_MAX, 0, &buf, &len);
	if (e == -ENOENT) {
		*out = t;
		return 0;
	}
	if (!e) {
		root = json_tokener_parse(buf);
		if (!root || !json_object_object_get_ex(root, "tokens", &arr) ||
		    !json_object_is_type(arr, json_type_array) ||
		    json_object_array_length(arr) > TOK_MAX)
			e = -EINVAL;
	}
	for (i = 0, n = e ? 0 : json_object_array_length(arr); i < n && !e; i++)
		e = load_one(json_object_array_get_idx(arr, i), &t->v[t->n++]);
	json_object_put(root);
	free(buf);
	if (e) {
		log_warnx("token file %s is unreadable (%s); refusing to start over it "
			  "(move it away to start without tokens)",
			  t->path, strerror(-e));
		free(t);
		return e;
	}
	*out = t;
	return 0;
}

void tok_free(struct tokens *t)
{
	if (!t)
		return;
	if (t->dirty)
		save(t, time(NULL));
	memset(t->v, 0, sizeof(t->v));
	free(t);
}

/* ---- tokens ------------------------------------------------------------------- */

static struct token *find(struct tokens *t, const char *name)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (!strcmp(t->v[i].name, name))
			return &t->v[i];
	return NULL;
}

int tok_add(struct tokens *t, const char *name, __u32 scopes, time_t now, char *text,
	    size_t textlen, char *err, size_t errlen)
{
	__u8 secret[TOK_SECRET_BYTES];
	char b64[TOK_TEXT_LEN];
	struct token *k;
	int e;

	if (!bwe_token_name_ok(name)) {
		snprintf(err, errlen, "token name must be 1..%d of A-Z a-z 0-9 _ . -",
			 BWE_TOKEN_NAME_MAX);
		return -EINVAL;
	}
	if (!scopes || (scopes & ~BWE_SCOPES_ALL)) {
		snprintf(err, errlen, "a token needs scopes among read, contain, block, admin");
		return -EINVAL;
	}
	if (find(t, name)) {
		snprintf(err, errlen, "a token named %s exists; revoke it first", name);
		return -EEXIST;
	}
	if (t->n == TOK_MAX) {
		snprintf(err, errlen, "%d tokens exist already; revoke one first", TOK_MAX);
		return -ENOSPC;
	}
	if (textlen < TOK_TEXT_LEN) {
		snprintf(err, errlen, "no room for the token");
		return -EINVAL;
	}
	k = &t->v[t->n];
	memset(k, 0, sizeof(*k));
	snprintf(k->name, sizeof(k->name), "%s", name);
	k->scopes = scopes;
	k->created = now;
	if ((e = random_bytes(secret, sizeof(secret))) ||
	    (e = random_bytes(k->salt, sizeof(k->salt)))) {
		snprintf(err, errlen, "getrandom: %s", strerror(-e));
		return e;
	}
	base64url(secret, sizeof(secret), b64);
	snprintf(text, textlen, "%s%s", TOK_PREFIX, b64);
	memset(secret, 0, sizeof(secret));
	memset(b64, 0, sizeof(b64));
	if ((e = digest(k->salt, text, k->hash))) {
		snprintf(err, errlen, "cannot hash the token");
		memset(text, 0, textlen);
		return e;
	}
	t->n++;
	e = save(t, now);
	if (e) {
		t->n--;
		memset(text, 0, textlen);
		snprintf(err, errlen, "cannot save the token store %s: %s; nothing changed",
			 t->path, strerror(-e));
	}
	return e;
}

int tok_revoke(struct tokens *t, const char *name, char *err, size_t errlen)
{
	struct token *k = name ? find(t, name) : NULL, keep;
	size_t i;
	int e;

	if (!k) {
		snprintf(err, errlen, "no token named %s", name ? name : "");
		return -ENOENT;
	}
	i = (size_t)(k - t->v);
	keep = *k;
	memmove(k, k + 1, (t->n - i - 1) * sizeof(*k));
	t->n--;
	e = save(t, time(NULL));
	if (e) { /* put it back where it was */
		memmove(&t->v[i + 1], &t->v[i], (t->n - i) * sizeof(*k));
		t->v[i] = keep;
		t->n++;
		snprintf(err, errlen, "cannot save the token store %s: %s; nothing changed",
			 t->path, strerror(-e));
	}
	return e;
}

struct json_object *tok_list_json(const struct tokens *t)
{
	struct json_object *arr = json_object_new_array();
	size_t i;

	for (i = 0; i < t->n; i++) {
		const struct token *k = &t->v[i];
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "name", json_object_new_string(k->name));
		json_object_object_add(o, "scopes", bwe_scopes_json(k->scopes));
		json_add_time(o, "created", k->created);
		json_add_time(o, "last_used", k->last_used);
		json_object_array_add(arr, o);
	}
	return arr;
}

size_t tok_count(const struct tokens *t)
{
	return t->n;
}

int tok_check(struct tokens *t, const char *text, time_t now, char *name, __u32 *scopes)
{
	__u8 h[TOK_HASH_BYTES];
	struct token *hit = NULL;
	size_t i;

	if (!text || strlen(text) >= TOK_TEXT_LEN || strncmp(text, TOK_PREFIX, strlen(TOK_PREFIX)))
		return -ENOENT;
	/* every token is hashed and compared: the time says nothing of which matched */
	for (i = 0; i < t->n; i++)
		if (!digest(t->v[i].salt, text, h) && same(h, t->v[i].hash, sizeof(h)) && !hit)
			hit = &t->v[i];
	if (!hit)
		return -ENOENT;
	snprintf(name, BWE_TOKEN_NAME_MAX + 1, "%s", hit->name);
	*scopes = hit->scopes;
	if (hit->last_used != now) {
		hit->last_used = now;
		t->dirty = true;
	}
	return 0;
}

void tok_flush(struct tokens *t, time_t now)
{
	if (t->dirty && now - t->saved_at >= TOK_LAST_USED_SAVE_S)
		save(t, now);
}
