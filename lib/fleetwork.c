// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fleetwork.c - the fleet worker's loop (fleetwork.h): etcd's HTTP/JSON
 * gateway through one curl multi handle, five channels (connect, requests,
 * snapshot pages, keep-alives, the watch stream) and the parent's socket
 * in the same poll.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include <json-c/json.h>

#include "feedwork.h"
#include "fleetclient.h"
#include "fleetwire.h"
#include "fleetwork.h"

#define READ_CHUNK	  (64 * 1024)
#define POLL_MAX_MS	  1000
#define REQUEST_GIVEUP_MS ((__u64)BWE_FLC_REQUEST_GIVEUP_S * 1000)
#define GRPC_NOT_FOUND	  5
#define GRPC_OUT_OF_RANGE 11

const struct bwe_seccomp_profile bwe_fleetwork_seccomp = {
	.name = "fleet-worker",
	.allow = bwe_feedwork_allow,
	.flags = BWE_SC_OPEN_RDONLY | BWE_SC_SOCKET_NET | BWE_SC_THREADS | BWE_SC_SIGNAL_SELF,
};

enum chan { CH_CTL, CH_OPS, CH_READ, CH_KA, CH_WATCH, CH_N };

enum purpose { P_AUTH, P_LEASE_CHECK, P_LEASE_GRANT, P_OP_LEASE, P_OP, P_PAGE, P_KA, P_WATCH };
static const char *const purpose_name[] = {
	[P_AUTH] = "authentication",
	[P_LEASE_CHECK] = "site lease",
	[P_LEASE_GRANT] = "site lease",
	[P_OP_LEASE] = "lease grant",
	[P_OP] = "request",
	[P_PAGE] = "snapshot",
	[P_KA] = "keep-alive",
	[P_WATCH] = "watch",
};

struct membuf {
	char *p;
	size_t len, cap;
	bool over;
};

struct call {
	CURL *h;
	bool busy;
	enum purpose purpose;
	struct curl_slist *hdrs;
	char *body;
	struct membuf resp;
	long http;
};

struct op {
	struct op *next;
	__u32 id;
	bool del;
	char *key; /* with the prefix */
	__u8 *value;
	size_t len;
	__u64 ttl;
	bool site_lease;
	__u64 deadline;
	__s64 lease_id; /* its own lease, once granted */
};

enum conn { C_DOWN, C_CONNECTING, C_UP };
enum phase { PH_NONE, PH_SNAP, PH_WATCH };

struct fw {
	int fd;
	CURLM *multi;
	struct call ch[CH_N];
	/* configuration */
	char *endpoints[BWE_FLC_ENDPOINTS_MAX];
	size_t nendpoints;
	char *prefix, *range_end, *site, *user, *password;
	struct curl_blob ca, cert, key;
	long timeout_ms;
	long site_ttl;
	bool inited;
	/* connection */
	enum conn conn;
	size_t ep;
	unsigned int round_fails;
	__u64 retry_at, backoff_ms;
	__u64 lost_at; /* when the last connection ended; 0 never connected */
	char round_err[BWE_FLC_ERR_MAX];
	char last_state[BWE_FLC_ERR_MAX + BWE_FLW_ENDPOINT_MAX + 8];
	char *token;
	__s64 site_lease;
	__u64 ka_at;
	__s64 cluster_rev;
	/* requests */
	struct op *head, *tail;
	/* follow */
	enum phase phase;
	__s64 next_rev;	 /* the watch starts here */
	__s64 snap_rev;	 /* 0: the snapshot has not begun */
	char *snap_next; /* the next page's first key */
	size_t snap_next_len;
	__u64 snap_count;
	bool watch_created;
	char watch_err[160]; /* the stream must end: this is why */
	char last_err[BWE_FLC_ERR_MAX];
	struct membuf line; /* the watch stream's partial line */
	/* parent input */
	struct bwe_flw_dec dec;
	char *buf;
	__u8 *vbuf; /* a decoded value */
	int err;    /* a fatal error of a callback */
};

static __u64 now_ms(void)
{
	return bwe_sandbox_now_ms();
}

/* ---- to the parent ------------------------------------------------------------------ */

static void send_msg(struct fw *w, struct json_object *o)
{
	struct bwe_wire_buf b = { 0 };
	int err;

	if (!o) {
		w->err = -ENOMEM;
		return;
	}
	err = bwe_flw_put(&b, o, BWE_FLW_FRAME_MAX);
	if (!err)
		err = bwe_sandbox_write_all(w->fd, b.p, b.len);
	if (err && !w->err)
		w->err = err;
	bwe_wire_buf_free(&b);
	json_object_put(o);
}

/* Printable ASCII for the parent's judge: control bytes and others become '?'. */
static void clean_text(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			*s = '?';
}

static struct json_object *msg(const char *t)
{
	struct json_object *o = json_object_new_object();

	if (o)
		json_object_object_add(o, "t", json_object_new_string(t));
	return o;
}

static void add_int(struct json_object *o, const char *k, __s64 v)
{
	if (o)
		json_object_object_add(o, k, json_object_new_int64(v));
}

static void add_str(struct json_object *o, const char *k, const char *v)
{
	if (o)
		json_object_object_add(o, k, json_object_new_string(v));
}

static void add_text(struct json_object *o, const char *k, const char *v)
{
	char t[BWE_FLC_ERR_MAX];

	snprintf(t, sizeof(t), "%s", v);
	clean_text(t);
	add_str(o, k, t);
}

static void add_value(struct json_object *o, const __u8 *v, size_t len)
{
	char b64[4 * ((BWE_FLC_VALUE_MAX + 2) / 3) + 1];

	bwe_flw_b64_encode(v, len, b64);
	add_str(o, "value", b64);
}

static void send_state(struct fw *w, bool connected, const char *error)
{
	char key[sizeof(w->last_state)];
	struct json_object *o;

	snprintf(key, sizeof(key), "%d %s %s", connected, connected ? w->endpoints[w->ep] : "",
		 error);
	if (!strcmp(key, w->last_state))
		return; /* no change */
	snprintf(w->last_state, sizeof(w->last_state), "%s", key);
	o = msg("state");
	json_object_object_add(o, "connected", json_object_new_boolean(connected));
	add_str(o, "endpoint", connected ? w->endpoints[w->ep] : "");
	add_int(o, "rev", w->cluster_rev);
	add_text(o, "error", error);
	send_msg(w, o);
}

static void send_done(struct fw *w, const struct op *op, int status, const char *error, __s64 rev)
{
	struct json_object *o = msg("done");

	add_int(o, "id", op->id);
	add_int(o, "status", status);
	add_text(o, "error", status ? error : "");
	add_int(o, "rev", status ? 0 : rev);
	send_msg(w, o);
}

static void send_rev(struct fw *w, const char *t, __s64 rev)
{
	struct json_object *o = msg(t);

	add_int(o, "rev", rev);
	send_msg(w, o);
}

/*
 * A key-value from etcd, full key k: to the parent as t ("kv", "put",
 * "del"), or refused. Returns 1 when passed on, 0 when refused.
 */
static int send_kv(struct fw *w, const char *t, const char *kb64, const char *vb64, __s64 mod)
{
	size_t plen = strlen(w->prefix), blen = strlen(kb64), klen = 0, off;
	char esc[BWE_FLC_KEY_MAX + 1], why[64] = "";
	char *key = malloc(blen / 4 * 3 + 1);
	struct json_object *o;
	long n = key ? bwe_flw_b64_decode(kb64, blen, key, blen / 4 * 3) : -ENOMEM, vn = 0;

	if (n < 0) {
		snprintf(why, sizeof(why), "key not base64");
		n = 0;
	}
	if (key)
		key[n] = '\0';
	klen = (size_t)n;
	off = klen >= plen && !memcmp(key, w->prefix, plen) ? plen : 0;
	if (!why[0] && !off)
		snprintf(why, sizeof(why), "key outside the prefix");
	else if (!why[0] && klen == plen)
		snprintf(why, sizeof(why), "empty key");
	else if (!why[0] && !bwe_flw_key_ok(key + plen, klen - plen))
		snprintf(why, sizeof(why), "key not 1..%d bytes of [A-Za-z0-9._:/-]",
			 BWE_FLC_KEY_MAX);
	if (!why[0] && vb64) {
		vn = bwe_flw_b64_decode(vb64, strlen(vb64), w->vbuf, BWE_FLC_VALUE_MAX);
		if (vn == -E2BIG)
			snprintf(why, sizeof(why), "value over %d bytes", BWE_FLC_VALUE_MAX);
		else if (vn < 0)
			snprintf(why, sizeof(why), "value not base64");
	}
	if (why[0]) {
		bwe_flw_escape(key ? key + off : "", klen - off, esc, sizeof(esc));
		if (!esc[0])
			snprintf(esc, sizeof(esc), "(empty)");
		o = msg("refused");
		add_str(o, "key", esc);
		add_text(o, "error", why);
		add_int(o, "mod", mod);
		send_msg(w, o);
		free(key);
		return 0;
	}
	o = msg(t);
	add_str(o, "key", key + plen);
	if (vb64)
		add_value(o, w->vbuf, (size_t)vn);
	add_int(o, "mod", mod);
	send_msg(w, o);
	free(key);
	return 1;
}

/* ---- JSON helpers ---------------------------------------------------------------------- */

/* A 64-bit number the gateway sends as a string (or a number); 0 when absent. */
static __s64 jnum(struct json_object *o, const char *k)
{
	struct json_object *v;
	const char *s;
	char *end;
	long long x;

	if (!o || !json_object_object_get_ex(o, k, &v))
		return 0;
	if (json_object_is_type(v, json_type_int))
		return json_object_get_int64(v);
	if (!json_object_is_type(v, json_type_string))
		return 0;
	s = json_object_get_string(v);
	errno = 0;
	x = strtoll(s, &end, 10);
	if (errno || *end || end == s)
		return 0;
	return x;
}

static struct json_object *jget(struct json_object *o, const char *k)
{
	struct json_object *v;

	return o && json_object_object_get_ex(o, k, &v) ? v : NULL;
}

static const char *jstr(struct json_object *o, const char *k)
{
	struct json_object *v = jget(o, k);

	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static struct json_object *parse_json(const char *p, size_t len)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o;

	if (!tok)
		return NULL;
	o = json_tokener_parse_ex(tok, p, (int)len);
	if (o && json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	if (o && !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = NULL;
	}
	return o;
}

static char *b64_of(const char *s, size_t len)
{
	char *o = malloc(4 * ((len + 2) / 3) + 1);

	if (o)
		bwe_flw_b64_encode(s, len, o);
	return o;
}

/* ---- calls ---------------------------------------------------------------------------- */

static bool membuf_add(struct membuf *m, const char *p, size_t n)
{
	if (m->over || m->len + n > BWE_FLW_RESP_MAX) {
		m->over = true;
		return false;
	}
	if (m->len + n + 1 > m->cap) {
		size_t cap = m->cap ? m->cap : 4096;
		char *np;

		while (cap < m->len + n + 1)
			cap *= 2;
		np = realloc(m->p, cap);
		if (!np) {
			m->over = true;
			return false;
		}
		m->p = np;
		m->cap = cap;
	}
	memcpy(m->p + m->len, p, n);
	m->len += n;
	m->p[m->len] = '\0';
	return true;
}

static void on_watch_line(struct fw *w, const char *line, size_t len);

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct call *c = ud;

	return membuf_add(&c->resp, p, size * n) ? size * n : 0;
}

static size_t on_watch_body(char *p, size_t size, size_t n, void *ud)
{
	struct fw *w = ud;
	size_t len = size * n, i, start = 0;

	for (i = 0; i < len; i++) {
		if (p[i] != '\n')
			continue;
		if (!membuf_add(&w->line, p + start, i - start))
			return 0;
		if (w->line.len)
			on_watch_line(w, w->line.p, w->line.len);
		w->line.len = 0;
		start = i + 1;
		if (w->phase != PH_WATCH || w->err || w->watch_err[0])
			return 0; /* canceled: a compaction (a snapshot next) or a failure */
	}
	if (start < len && !membuf_add(&w->line, p + start, len - start))
		return 0;
	return len;
}

static void call_reset(struct fw *w, struct call *c)
{
	if (c->busy)
		curl_multi_remove_handle(w->multi, c->h);
	c->busy = false;
	curl_slist_free_all(c->hdrs);
	c->hdrs = NULL;
	if (c->body)
		explicit_bzero(c->body, strlen(c->body)); /* an authentication's password */
	free(c->body);
	c->body = NULL;
	c->resp.len = 0;
	c->resp.over = false;
	c->http = 0;
	if (c == &w->ch[CH_WATCH]) {
		w->line.len = 0;
		w->line.over = false;
		w->watch_created = false;
		w->watch_err[0] = '\0';
	}
}

static void abort_all(struct fw *w)
{
	size_t i;

	for (i = 0; i < CH_N; i++)
		call_reset(w, &w->ch[i]);
}

/* POST body (JSON) to path on the current endpoint over channel ch. */
static int start_call(struct fw *w, enum chan ch, enum purpose p, const char *path,
		      struct json_object *body)
{
	struct call *c = &w->ch[ch];
	char url[BWE_FLW_ENDPOINT_MAX + 64], hdr[1024];
	const char *ep = w->endpoints[w->ep];
	size_t el = strlen(ep);
	const char *js;

	if (!body)
		return -ENOMEM;
	call_reset(w, c);
	js = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN);
	c->body = js ? strdup(js) : NULL;
	if (p == P_AUTH && js)
		explicit_bzero((char *)(uintptr_t)js, strlen(js));
	json_object_put(body);
	if (!c->body)
		return -ENOMEM;
	snprintf(url, sizeof(url), "%.*s%s", (int)(el && ep[el - 1] == '/' ? el - 1 : el), ep,
		 path);
	c->hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	if (w->token && p != P_AUTH) {
		snprintf(hdr, sizeof(hdr), "Authorization: %s", w->token);
		c->hdrs = curl_slist_append(c->hdrs, hdr);
		explicit_bzero(hdr, sizeof(hdr));
	}
	curl_easy_reset(c->h);
	curl_easy_setopt(c->h, CURLOPT_URL, url);
	curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, c->body);
	curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, c->hdrs);
	curl_easy_setopt(c->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c->h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c->h, CURLOPT_CONNECTTIMEOUT_MS, w->timeout_ms);
	curl_easy_setopt(c->h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c->h, CURLOPT_TCP_KEEPIDLE, 2L);
	curl_easy_setopt(c->h, CURLOPT_TCP_KEEPINTVL, 1L);
	snprintf(hdr, sizeof(hdr), "bwenforce-fleet/%s", w->site);
	curl_easy_setopt(c->h, CURLOPT_USERAGENT, hdr);
	if (w->ca.len) {
		curl_easy_setopt(c->h, CURLOPT_CAINFO_BLOB, &w->ca);
		curl_easy_setopt(c->h, CURLOPT_CAPATH, NULL);
	}
	if (w->cert.len) {
		curl_easy_setopt(c->h, CURLOPT_SSLCERTTYPE, "PEM");
		curl_easy_setopt(c->h, CURLOPT_SSLCERT_BLOB, &w->cert);
		curl_easy_setopt(c->h, CURLOPT_SSLKEYTYPE, "PEM");
		curl_easy_setopt(c->h, CURLOPT_SSLKEY_BLOB, &w->key);
	}
	if (ch == CH_WATCH) {
		/* a stream: no overall timeout; a dead peer ends it by TCP keep-alive */
		curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, on_watch_body);
		curl_easy_setopt(c->h, CURLOPT_WRITEDATA, w);
	} else {
		curl_easy_setopt(c->h, CURLOPT_TIMEOUT_MS, w->timeout_ms);
		curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(c->h, CURLOPT_WRITEDATA, c);
	}
	curl_easy_setopt(c->h, CURLOPT_PRIVATE, c);
	c->purpose = p;
	if (curl_multi_add_handle(w->multi, c->h) != CURLM_OK)
		return -ENOMEM;
	c->busy = true;
	return 0;
}

/* ---- endpoints ------------------------------------------------------------------------ */

static void connect_now(struct fw *w);

/* The current endpoint failed: the next one, or a pause after a whole round. */
__attribute__((format(printf, 2, 3))) static void fail_ep(struct fw *w, const char *fmt, ...)
{
	char why[256];
	size_t l = strlen(w->round_err);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(w->last_err, sizeof(w->last_err), "%s: %s", w->endpoints[w->ep], why);
	if (w->conn == C_UP)
		w->lost_at = now_ms();
	abort_all(w);
	free(w->token);
	w->token = NULL;
	if (l < sizeof(w->round_err) - 1)
		snprintf(w->round_err + l, sizeof(w->round_err) - l, "%s%s: %s", l ? "; " : "",
			 w->endpoints[w->ep], why);
	w->ep = (w->ep + 1) % w->nendpoints;
	if (++w->round_fails < w->nendpoints) {
		connect_now(w);
		return;
	}
	/* a leader election (about a second) is no detachment worth reporting */
	if (!w->lost_at || now_ms() >= w->lost_at + BWE_FLW_DETACH_GRACE_MS) {
		char e[BWE_FLC_ERR_MAX];

		snprintf(e, sizeof(e), "all endpoints failed: %s", w->round_err);
		send_state(w, false, e);
	}
	w->round_fails = 0;
	w->round_err[0] = '\0';
	w->conn = C_DOWN;
	w->retry_at = now_ms() + w->backoff_ms;
	w->backoff_ms = w->backoff_ms * 2 > BWE_FLW_RETRY_MAX_MS ? BWE_FLW_RETRY_MAX_MS
								 : w->backoff_ms * 2;
}

/* Connect (again) to the current endpoint: auth, then the site lease. */
static void connect_now(struct fw *w)
{
	struct json_object *o;
	int err;

	abort_all(w);
	w->conn = C_CONNECTING;
	if (w->user && !w->token) {
		o = json_object_new_object();
		add_str(o, "name", w->user);
		add_str(o, "password", w->password);
		err = start_call(w, CH_CTL, P_AUTH, "/v3/auth/authenticate", o);
	} else if (w->site_lease) {
		o = json_object_new_object();
		add_int(o, "ID", w->site_lease);
		err = start_call(w, CH_CTL, P_LEASE_CHECK, "/v3/lease/keepalive", o);
	} else {
		o = json_object_new_object();
		add_int(o, "TTL", w->site_ttl);
		err = start_call(w, CH_CTL, P_LEASE_GRANT, "/v3/lease/grant", o);
	}
	if (err)
		fail_ep(w, "%s", strerror(-err));
}

static void up(struct fw *w)
{
	w->conn = C_UP;
	w->round_fails = 0;
	w->round_err[0] = '\0';
	w->backoff_ms = BWE_FLW_RETRY_MIN_MS;
	w->ka_at = now_ms() + (__u64)w->site_ttl * 1000 / 3;
	send_state(w, true, "");
}

/* ---- answers ---------------------------------------------------------------------------- */

/*
 * Sort an answer: 0 success (*out the JSON), 1 etcd said no (why), -1 the
 * endpoint failed (why), 2 the token is no good (authenticate again).
 */
static int judge(struct call *c, CURLcode rc, struct json_object **out, int *code, char *why,
		 size_t len)
{
	struct json_object *o;
	const char *e;

	*out = NULL;
	*code = 0;
	if (rc != CURLE_OK) {
		snprintf(why, len, "%s: %s", purpose_name[c->purpose],
			 c->resp.over ? "answer too large" : curl_easy_strerror(rc));
		return -1;
	}
	curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &c->http);
	o = parse_json(c->resp.p ? c->resp.p : "", c->resp.len);
	e = jstr(o, "error");
	*code = (int)jnum(o, "code");
	if (jget(o, "error") && !e) { /* a stream's error: {"error":{"grpc_code",...}} */
		snprintf(why, len, "%s: %s", purpose_name[c->purpose],
			 jstr(jget(o, "error"), "message") ? jstr(jget(o, "error"), "message")
							   : "an error");
		json_object_put(o);
		return -1;
	}
	if (c->http == 200 && o && !e) {
		*out = o;
		return 0;
	}
	snprintf(why, len, "%s: HTTP %ld: %s", purpose_name[c->purpose], c->http,
		 e ? e : "no JSON answer");
	json_object_put(o);
	if (c->http == 401)
		return 2;
	if (c->http >= 500 || !c->http || c->http == 429)
		return -1;
	return 1;
}

static int errno_of(int code)
{
	switch (code) {
	case 3:
		return -EINVAL; /* InvalidArgument */
	case 5:
		return -ENOENT; /* NotFound */
	case 7:
		return -EACCES; /* PermissionDenied */
	case 8:
		return -ENOSPC; /* ResourceExhausted */
	case 11:
		return -ERANGE; /* OutOfRange */
	default:
		return -EIO;
	}
}

static void op_pop(struct fw *w)
{
	struct op *op = w->head;

	w->head = op->next;
	if (!w->head)
		w->tail = NULL;
	free(op->key);
	free(op->value);
	free(op);
}

static void start_op(struct fw *w)
{
	struct op *op = w->head;
	struct json_object *o = json_object_new_object();
	char *k = b64_of(op->key, strlen(op->key)), *v = NULL;
	int err;

	if (!k) {
		json_object_put(o);
		w->err = -ENOMEM;
		return;
	}
	if (op->del) {
		add_str(o, "key", k);
		err = start_call(w, CH_OPS, P_OP, "/v3/kv/deleterange", o);
	} else if (op->ttl && !op->lease_id) {
		add_int(o, "TTL", (__s64)op->ttl);
		err = start_call(w, CH_OPS, P_OP_LEASE, "/v3/lease/grant", o);
	} else {
		v = b64_of((const char *)op->value, op->len);
		add_str(o, "key", k);
		add_str(o, "value", v ? v : "");
		if (op->ttl)
			add_int(o, "lease", op->lease_id);
		else if (op->site_lease)
			add_int(o, "lease", w->site_lease);
		err = start_call(w, CH_OPS, P_OP, "/v3/kv/put", o);
	}
	free(k);
	free(v);
	if (err)
		fail_ep(w, "%s", strerror(-err));
}

static void start_page(struct fw *w)
{
	struct json_object *o = json_object_new_object();
	char *k = b64_of(w->snap_next, w->snap_next_len),
	     *e = b64_of(w->range_end, strlen(w->range_end));
	int err;

	add_str(o, "key", k ? k : "");
	add_str(o, "range_end", e ? e : "");
	add_int(o, "limit", BWE_FLW_PAGE_KEYS);
	if (w->snap_rev)
		add_int(o, "revision", w->snap_rev);
	free(k);
	free(e);
	err = start_call(w, CH_READ, P_PAGE, "/v3/kv/range", o);
	if (err)
		fail_ep(w, "%s", strerror(-err));
}

static void start_watch(struct fw *w)
{
	struct json_object *o = json_object_new_object(), *cr = json_object_new_object();
	char *k = b64_of(w->prefix, strlen(w->prefix)),
	     *e = b64_of(w->range_end, strlen(w->range_end));
	int err;

	add_str(cr, "key", k ? k : "");
	add_str(cr, "range_end", e ? e : "");
	add_int(cr, "start_revision", w->next_rev);
	json_object_object_add(o, "create_request", cr);
	free(k);
	free(e);
	err = start_call(w, CH_WATCH, P_WATCH, "/v3/watch", o);
	if (err)
		fail_ep(w, "%s", strerror(-err));
}

static void snap_restart(struct fw *w)
{
	w->phase = PH_SNAP;
	w->snap_rev = 0;
	w->snap_count = 0;
	free(w->snap_next);
	w->snap_next_len = strlen(w->prefix);
	w->snap_next = strdup(w->prefix);
	if (!w->snap_next)
		w->err = -ENOMEM;
}

static void on_page(struct fw *w, struct json_object *o)
{
	struct json_object *kvs = jget(o, "kvs"), *last = NULL;
	__s64 rev = jnum(jget(o, "header"), "revision");
	size_t i, n = kvs && json_object_is_type(kvs, json_type_array)
			      ? json_object_array_length(kvs)
			      : 0;

	if (!w->snap_rev) {
		if (rev <= 0) {
			fail_ep(w, "snapshot: an answer without a revision");
			return;
		}
		w->snap_rev = rev;
		send_rev(w, "snap_begin", rev);
	}
	for (i = 0; i < n; i++) {
		struct json_object *kv = json_object_array_get_idx(kvs, i);
		const char *k = jstr(kv, "key"), *v = jstr(kv, "value");
		__s64 mod = jnum(kv, "mod_revision");

		if (!k || mod <= 0 || mod > w->snap_rev)
			continue; /* not a key-value: nothing to pass on */
		w->snap_count += (__u64)send_kv(w, "kv", k, v ? v : "", mod);
		last = kv;
	}
	if (json_object_get_boolean(jget(o, "more")) && last) {
		const char *k = jstr(last, "key");
		char *nk = malloc(strlen(k) + 2);
		long kl = nk ? bwe_flw_b64_decode(k, strlen(k), nk, strlen(k)) : -ENOMEM;

		if (kl < 0) {
			free(nk);
			fail_ep(w, "snapshot: a key that is not base64");
			return;
		}
		nk[kl] = '\0'; /* the next page starts right after it */
		free(w->snap_next);
		w->snap_next = nk;
		w->snap_next_len = (size_t)kl + 1;
		return;
	}
	{
		struct json_object *e = msg("snap_end");

		add_int(e, "rev", w->snap_rev);
		add_int(e, "count", (__s64)w->snap_count);
		send_msg(w, e);
	}
	w->phase = PH_WATCH;
	w->next_rev = w->snap_rev + 1;
}

static void on_watch_line(struct fw *w, const char *line, size_t len)
{
	struct json_object *o = parse_json(line, len), *r = jget(o, "result"), *evs;
	__s64 last = 0;
	size_t i, n;

	if (!r) {
		const char *e = jstr(jget(o, "error"), "message");

		/* the stream ends; the call's end fails the endpoint */
		snprintf(w->watch_err, sizeof(w->watch_err), "%s", e ? e : "not a watch answer");
		json_object_put(o);
		return;
	}
	if (json_object_get_boolean(jget(r, "canceled"))) {
		__s64 crev = jnum(r, "compact_revision");

		if (crev > 0) {
			send_rev(w, "compacted", crev);
			snap_restart(w);
		} else {
			const char *why = jstr(r, "cancel_reason");

			snprintf(w->watch_err, sizeof(w->watch_err), "canceled: %s",
				 why ? why : "no reason given");
		}
		json_object_put(o);
		w->watch_created = false;
		return;
	}
	if (json_object_get_boolean(jget(r, "created")))
		w->watch_created = true;
	evs = jget(r, "events");
	n = evs && json_object_is_type(evs, json_type_array) ? json_object_array_length(evs) : 0;
	for (i = 0; i < n; i++) {
		struct json_object *ev = json_object_array_get_idx(evs, i), *kv = jget(ev, "kv");
		const char *type = jstr(ev, "type"), *k = jstr(kv, "key"), *v = jstr(kv, "value");
		bool del = type && !strcmp(type, "DELETE");
		__s64 mod = jnum(kv, "mod_revision");

		if (!k || mod < w->next_rev)
			continue; /* delivered before, or no key-value */
		send_kv(w, del ? "del" : "put", k, del ? NULL : v ? v : "", mod);
		if (mod > last)
			last = mod;
	}
	/* a whole answer is in: a new stream resumes after its last event */
	if (last >= w->next_rev)
		w->next_rev = last + 1;
	json_object_put(o);
}

static void on_call_done(struct fw *w, struct call *c, CURLcode rc)
{
	enum purpose p = c->purpose;
	struct json_object *o = NULL;
	char why[256];
	int code, j;

	if (p == P_WATCH) {
		bool compacted = rc == CURLE_WRITE_ERROR && w->phase != PH_WATCH;

		snprintf(why, sizeof(why), "%s",
			 w->watch_err[0]			      ? w->watch_err
			 : c->resp.over || w->line.over		      ? "answer too large"
			 : rc == CURLE_OK || rc == CURLE_PARTIAL_FILE ? "the connection closed"
								      : curl_easy_strerror(rc));
		call_reset(w, c);
		if (compacted || w->err)
			return; /* compaction: a snapshot is next */
		fail_ep(w, "watch: %s", why);
		return;
	}
	j = judge(c, rc, &o, &code, why, sizeof(why));
	c->busy = false;
	curl_multi_remove_handle(w->multi, c->h);
	if (j == 2) {
		if (p == P_AUTH) {
			fail_ep(w, "%s", why);
			return;
		}
		free(w->token);
		w->token = NULL;
		connect_now(w); /* the token expired: authenticate again */
		return;
	}
	if (j < 0) {
		fail_ep(w, "%s", why);
		return;
	}
	switch (p) {
	case P_AUTH:
		if (j == 0 && jstr(o, "token")) {
			w->token = strdup(jstr(o, "token"));
			explicit_bzero((char *)(uintptr_t)jstr(o, "token"),
				       strlen(jstr(o, "token")));
			json_object_put(o);
			connect_now(w);
			return;
		}
		fail_ep(w, "%s", j ? why : "authentication: no token");
		break;
	case P_LEASE_CHECK:
	case P_LEASE_GRANT: {
		struct json_object *r = p == P_LEASE_CHECK ? jget(o, "result") : o;

		if (j) {
			fail_ep(w, "%s", why);
			break;
		}
		w->cluster_rev = jnum(jget(r, "header"), "revision");
		if (jnum(r, "TTL") <= 0) { /* ran out while away: a new one */
			w->site_lease = 0;
			connect_now(w);
			break;
		}
		if (p == P_LEASE_GRANT) {
			struct json_object *l = msg("lease");

			w->site_lease = jnum(r, "ID");
			add_int(l, "id", w->site_lease);
			send_msg(w, l); /* a restarted worker keeps it */
			/* a new lease: the keys of the old one are gone, the parent re-puts
			 * them on this STATE connected, sent even on the same endpoint */
			w->last_state[0] = '\0';
		}
		up(w);
		break;
	}
	case P_KA: {
		struct json_object *r = jget(o, "result");
		__s64 rev = jnum(jget(r, "header"), "revision");

		if (j) {
			fail_ep(w, "%s", why);
			break;
		}
		if (jnum(r, "TTL") <= 0) {
			w->site_lease = 0;
			connect_now(w);
			break;
		}
		if (rev > 0 && rev != w->cluster_rev) {
			w->cluster_rev = rev;
			send_rev(w, "rev", rev);
		}
		break;
	}
	case P_OP_LEASE:
		if (j) {
			send_done(w, w->head, errno_of(code), why, 0);
			op_pop(w);
			break;
		}
		w->head->lease_id = jnum(o, "ID");
		if (w->head->lease_id <= 0) {
			send_done(w, w->head, -EIO, "lease grant: no lease ID", 0);
			op_pop(w);
		}
		break;
	case P_OP:
		if (j && code == GRPC_NOT_FOUND && w->head->site_lease) {
			w->site_lease = 0; /* the site lease is gone: a new one, then again */
			connect_now(w);
			break;
		}
		if (j && code == GRPC_NOT_FOUND && w->head->ttl) {
			w->head->lease_id = 0;
			break;
		}
		if (j)
			send_done(w, w->head, errno_of(code), why, 0);
		else
			send_done(w, w->head, 0, "", jnum(jget(o, "header"), "revision"));
		op_pop(w);
		break;
	case P_PAGE:
		if (j && code == GRPC_OUT_OF_RANGE) {
			snap_restart(w); /* its revision was compacted away: start over */
			break;
		}
		if (j) {
			fail_ep(w, "%s", why);
			break;
		}
		on_page(w, o);
		break;
	case P_WATCH:
		break;
	}
	json_object_put(o);
}

/* ---- the parent's messages ------------------------------------------------------------- */

static char *jdup(struct json_object *o, const char *k, size_t max, int *err)
{
	const char *s = jstr(o, k);

	if (!s || strlen(s) > max) {
		*err = -EBADMSG;
		return NULL;
	}
	return s[0] ? strdup(s) : NULL;
}

static int blob_of(struct json_object *o, const char *k, struct curl_blob *b)
{
	const char *s = jstr(o, k);

	if (!s || strlen(s) > BWE_FLW_PEM_MAX)
		return -EBADMSG;
	if (!s[0])
		return 0;
	b->len = strlen(s);
	b->data = malloc(b->len);
	if (!b->data)
		return -ENOMEM;
	memcpy(b->data, s, b->len);
	b->flags = CURL_BLOB_COPY;
	explicit_bzero((char *)(uintptr_t)s, b->len);
	return 0;
}

static int on_init(struct fw *w, struct json_object *o)
{
	struct json_object *eps = jget(o, "endpoints");
	size_t i, plen;
	int err = 0;

	if (w->inited || !eps || !json_object_is_type(eps, json_type_array))
		return -EBADMSG;
	for (i = 0; i < json_object_array_length(eps) && i < BWE_FLC_ENDPOINTS_MAX; i++) {
		const char *e = json_object_get_string(json_object_array_get_idx(eps, i));

		if (!bwe_flw_endpoint_ok(e))
			return -EBADMSG;
		if (!(w->endpoints[w->nendpoints++] = strdup(e)))
			return -ENOMEM;
	}
	w->prefix = jdup(o, "prefix", BWE_FLW_PREFIX_MAX, &err);
	w->site = jdup(o, "site", BWE_FLW_SITE_MAX, &err);
	w->user = jdup(o, "user", BWE_FLW_SECRET_MAX, &err);
	w->password = jdup(o, "password", BWE_FLW_SECRET_MAX, &err);
	if (jstr(o, "password"))
		explicit_bzero((char *)(uintptr_t)jstr(o, "password"), strlen(jstr(o, "password")));
	if (!err)
		err = blob_of(o, "ca", &w->ca);
	if (!err)
		err = blob_of(o, "cert", &w->cert);
	if (!err)
		err = blob_of(o, "key", &w->key);
	w->timeout_ms = (long)jnum(o, "timeout_ms");
	w->site_ttl = (long)jnum(o, "site_ttl");
	w->site_lease = jnum(o, "site_lease"); /* checked at connection: kept if alive */
	if (err || !w->nendpoints || !w->prefix || !bwe_flw_prefix_ok(w->prefix) || !w->site ||
	    w->timeout_ms <= 0 || w->site_ttl <= 0)
		return err ? err : -EBADMSG;
	if (!w->user != !w->password)
		return -EBADMSG;
	plen = strlen(w->prefix);
	w->range_end = strdup(w->prefix);
	if (!w->range_end)
		return -ENOMEM;
	w->range_end[plen - 1]++; /* '/' + 1 = '0': the end of the prefix's range */
	w->inited = true;
	w->backoff_ms = BWE_FLW_RETRY_MIN_MS;
	connect_now(w);
	return 0;
}

static int on_parent_msg(struct fw *w, const char *frame, size_t len)
{
	struct json_object *o = parse_json(frame, len);
	const char *t = jstr(o, "t");
	int err = 0;

	if (!t) {
		err = -EBADMSG;
	} else if (!strcmp(t, "init")) {
		err = on_init(w, o);
	} else if (!w->inited) {
		err = -EBADMSG;
	} else if (!strcmp(t, "put") || !strcmp(t, "del")) {
		const char *k = jstr(o, "key"), *v = jstr(o, "value");
		struct op *op = calloc(1, sizeof(*op));
		long n = 0;

		if (!op)
			return -ENOMEM;
		op->id = (__u32)jnum(o, "id");
		op->del = t[0] == 'd';
		op->ttl = (__u64)jnum(o, "ttl");
		op->site_lease = jnum(o, "lease") == 1;
		op->deadline = now_ms() + REQUEST_GIVEUP_MS;
		if (k && bwe_flw_key_ok(k, strlen(k)) &&
		    asprintf(&op->key, "%s%s", w->prefix, k) < 0)
			op->key = NULL;
		if (!op->del) {
			op->value = malloc(BWE_FLC_VALUE_MAX);
			n = v && op->value
				    ? bwe_flw_b64_decode(v, strlen(v), op->value, BWE_FLC_VALUE_MAX)
				    : -EINVAL;
			op->len = n > 0 ? (size_t)n : 0;
		}
		if (!op->id || !op->key || n < 0) {
			free(op->key);
			free(op->value);
			free(op);
			err = -EBADMSG;
		} else {
			if (w->tail)
				w->tail->next = op;
			else
				w->head = op;
			w->tail = op;
		}
	} else if (!strcmp(t, "follow")) {
		__s64 from = jnum(o, "from");

		if (from < 0) {
			err = -EBADMSG;
		} else {
			call_reset(w, &w->ch[CH_READ]);
			call_reset(w, &w->ch[CH_WATCH]);
			send_rev(w, "following", from);
			if (from == 0) {
				snap_restart(w);
			} else {
				w->phase = PH_WATCH;
				w->next_rev = from;
			}
		}
	} else if (!strcmp(t, "ping")) {
		struct json_object *p = msg("pong");

		add_int(p, "seq", jnum(o, "seq"));
		send_msg(w, p);
	} else {
		err = -EBADMSG;
	}
	json_object_put(o);
	return err;
}

/* ---- the loop ------------------------------------------------------------------------------ */

/* Start what can start now. */
static void schedule(struct fw *w)
{
	__u64 now = now_ms();
	struct op *op;

	/* requests past their time fail, except the one in flight */
	while ((op = w->head) && now >= op->deadline && !w->ch[CH_OPS].busy) {
		char e[BWE_FLC_ERR_MAX];

		snprintf(e, sizeof(e), "not written within %d s: %.400s", BWE_FLC_REQUEST_GIVEUP_S,
			 w->last_err[0] ? w->last_err : "etcd did not accept it");
		send_done(w, op, -ETIMEDOUT, e, 0);
		op_pop(w);
	}
	if (w->conn == C_DOWN && w->inited && now >= w->retry_at) {
		connect_now(w);
		return;
	}
	if (w->conn != C_UP)
		return;
	if (now >= w->ka_at && !w->ch[CH_KA].busy) {
		struct json_object *o = json_object_new_object();

		add_int(o, "ID", w->site_lease);
		w->ka_at = now + (__u64)w->site_ttl * 1000 / 3;
		if (start_call(w, CH_KA, P_KA, "/v3/lease/keepalive", o)) {
			fail_ep(w, "keep-alive: cannot start");
			return;
		}
	}
	if (w->head && !w->ch[CH_OPS].busy)
		start_op(w);
	if (w->conn != C_UP)
		return;
	if (w->phase == PH_SNAP && !w->ch[CH_READ].busy)
		start_page(w);
	if (w->conn != C_UP)
		return;
	if (w->phase == PH_WATCH && !w->ch[CH_WATCH].busy)
		start_watch(w);
}

static long poll_timeout(const struct fw *w)
{
	__u64 now = now_ms(), t = now + POLL_MAX_MS;

	if (w->conn == C_DOWN && w->retry_at < t)
		t = w->retry_at;
	if (w->conn == C_UP && w->ka_at < t)
		t = w->ka_at;
	if (w->head && w->head->deadline < t)
		t = w->head->deadline;
	return t > now ? (long)(t - now) : 0;
}

static int read_parent(struct fw *w)
{
	ssize_t n = read(w->fd, w->buf, READ_CHUNK);
	size_t off = 0;

	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : -errno;
	if (!n)
		return bwe_flw_dec_idle(&w->dec) ? 1 : -EPIPE;
	while (off < (size_t)n) {
		size_t used;
		int r = bwe_flw_dec_feed(&w->dec, w->buf + off, (size_t)n - off, &used);

		off += used;
		if (r < 0) {
			fprintf(stderr, "fleet worker: bad frame from the parent: %s\n",
				strerror(-r));
			return -EBADMSG;
		}
		if (r == 1) {
			r = on_parent_msg(w, w->dec.frame, w->dec.len);
			explicit_bzero(w->dec.frame, w->dec.len);
			if (r) {
				fprintf(stderr, "fleet worker: bad message from the parent\n");
				return r;
			}
		}
	}
	return 0;
}

static void fw_free(struct fw *w)
{
	size_t i;

	abort_all(w);
	for (i = 0; i < CH_N; i++) {
		if (w->ch[i].h)
			curl_easy_cleanup(w->ch[i].h);
		free(w->ch[i].resp.p);
	}
	if (w->multi)
		curl_multi_cleanup(w->multi);
	while (w->head)
		op_pop(w);
	for (i = 0; i < w->nendpoints; i++)
		free(w->endpoints[i]);
	free(w->prefix);
	free(w->range_end);
	free(w->site);
	free(w->user);
	if (w->password)
		explicit_bzero(w->password, strlen(w->password));
	free(w->password);
	if (w->token)
		explicit_bzero(w->token, strlen(w->token));
	free(w->token);
	free(w->ca.data);
	free(w->cert.data);
	if (w->key.data)
		explicit_bzero(w->key.data, w->key.len);
	free(w->key.data);
	free(w->snap_next);
	free(w->line.p);
	free(w->buf);
	free(w->vbuf);
	bwe_flw_dec_free(&w->dec);
}

int bwe_fleetwork_main(int fd)
{
	struct fw w = { .fd = fd, .dec = { .max = BWE_FLW_INIT_MAX } };
	size_t i;
	int err = 0;

	signal(SIGPIPE, SIG_IGN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT))
		return -ENOMEM;
	w.multi = curl_multi_init();
	w.buf = malloc(READ_CHUNK);
	w.vbuf = malloc(BWE_FLC_VALUE_MAX);
	for (i = 0; i < CH_N; i++)
		w.ch[i].h = curl_easy_init();
	for (i = 0; i < CH_N && w.multi; i++)
		if (!w.ch[i].h)
			break;
	if (!w.multi || !w.buf || !w.vbuf || i < CH_N) {
		err = -ENOMEM;
		goto out;
	}
	err = bwe_sandbox_enter(&bwe_fleetwork_seccomp);
	if (err)
		goto out;
	while (!w.err) {
		struct curl_waitfd pfd = { .fd = fd, .events = CURL_WAIT_POLLIN };
		struct CURLMsg *m;
		int running, left;

		schedule(&w);
		if (w.err)
			break;
		if (curl_multi_poll(w.multi, &pfd, 1, (int)poll_timeout(&w), NULL) != CURLM_OK) {
			err = -EIO;
			break;
		}
		if (pfd.revents & (CURL_WAIT_POLLIN | POLLHUP | POLLERR)) {
			int r = read_parent(&w);

			if (r) {
				err = r > 0 ? 0 : r;
				break;
			}
		}
		curl_multi_perform(w.multi, &running);
		while ((m = curl_multi_info_read(w.multi, &left))) {
			struct call *c = NULL;

			if (m->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&c);
			if (c && c->busy)
				on_call_done(&w, c, m->data.result);
		}
	}
	if (!err)
		err = w.err;
out:
	fw_free(&w);
	curl_global_cleanup();
	return err;
}
