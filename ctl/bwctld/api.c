// SPDX-License-Identifier: GPL-2.0-only
/*
 * api.c - the /v1/ routes; contract in api.h.
 *
 * A request: the token (401) -> the route (404, 405) -> the route's scope
 * (403) -> the path parameter and the body (400 malformed, 413 too large,
 * 415 not JSON, 422 refused) -> the operation, which for a change is the
 * one transaction (ops_apply) with the token's name as the actor.
 *
 * A path parameter is what follows the route's literal part. The last one
 * takes the rest of the path, '/' included, so a prefix is written either
 * URL-encoded (/v1/blocks/203.0.113.0%2F24, decoded by the listener) or
 * as it is (/v1/blocks/203.0.113.0/24); both name the same entry.
 *
 * Idempotency: PUT of an entry that exists with the same values (reason,
 * rate, burst, and whether it expires) changes nothing and answers 200;
 * with other values it is replaced (one transaction) and answers 200; a
 * new entry answers 201. DELETE answers 204 whether or not there was one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "export.h"
#include "log.h"
#include "resolve.h"
#include "scope.h"
#include "units.h"
#include "units.h"
#include "util.h"

#define API_NAME_ADDRS	 16  /* addresses of one hosts-file name */
#define API_PARAM_MAX	 256 /* bytes of a path parameter */
#define API_TICKET_MAX	 128 /* bytes of a ticket reference */
#define API_DETAIL_MAX	 768
#define API_PROBLEM_BASE "urn:bwenforce:problem:"
#define CT_JSON		 "application/json"
#define CT_PROBLEM	 "application/problem+json"

enum {
	HTTP_OK = 200,
	HTTP_CREATED = 201,
	HTTP_ACCEPTED = 202,
	HTTP_NO_CONTENT = 204,
	HTTP_BAD_REQUEST = 400,
	HTTP_UNAUTHORIZED = 401,
	HTTP_FORBIDDEN = 403,
	HTTP_NOT_FOUND = 404,
	HTTP_METHOD = 405,
	HTTP_CONFLICT = 409,
	HTTP_TOO_LARGE = 413,
	HTTP_MEDIA_TYPE = 415,
	HTTP_UNPROCESSABLE = 422,
	HTTP_INTERNAL = 500,
};

/* A scope request waiting for the other sites' answers (the client waits, httpmsg.h). */
struct api_wait {
	struct api *a;
	struct scope_wait *sw;
	void (*answer)(void *ctx, unsigned long long id, struct http_response *rs);
	void *ctx;
	unsigned long long id;
	struct api_wait *next;
};

struct api {
	struct api_deps d;
	struct api_wait *waits;
};

/* One request being answered. */
struct call {
	struct api *a;
	const struct http_request *rq;
	struct http_response *rs;
	const struct route *rt;
	char param[API_PARAM_MAX]; /* the route's path parameter, or "" */
	char token[BWE_TOKEN_NAME_MAX + 1];
	struct actor who;
};

/* A set of state entries: quarantines, throttles, blocks, exempts, allows. */
struct kind {
	enum st_kind kind;
	const char *add, *del; /* the events' actions: bwctl's command names */
	bool hosts;	       /* MAC addresses allowed (internal hosts) */
	bool rate;	       /* throttles: rate and burst */
};

static const struct kind k_quarantine = { ST_QUARANTINE, "quarantine", "release", true, false },
			 k_throttle = { ST_THROTTLE, "throttle", "unthrottle", true, true },
			 k_block = { ST_BLOCK, "block", "unblock", false, false },
			 k_exempt = { ST_EXEMPT, "exempt", "unexempt", false, false },
			 k_allow = { ST_ALLOW, "allow", "unallow", false, false };

typedef void route_fn(struct call *c, const struct kind *k);

struct route {
	const char *method;
	const char *pattern; /* "{name}" is a parameter; the last one takes the rest */
	__u32 scope;	     /* BWE_SCOPE_*; admin has every scope */
	route_fn *fn;
	const struct kind *k;
};

/* ---- responses ------------------------------------------------------------------- */

static void respond(struct call *c, unsigned int status, const char *type, struct json_object *o)
{
	const char *s;

	c->rs->status = status;
	c->rs->content_type = o ? type : NULL;
	c->rs->body = NULL;
	c->rs->len = 0;
	if (o) {
		s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
		c->rs->body = strdup(s);
		c->rs->len = c->rs->body ? strlen(s) : 0;
		if (!c->rs->body)
			c->rs->status = HTTP_INTERNAL;
		json_object_put(o);
	}
}

static void ok(struct call *c, unsigned int status, struct json_object *o)
{
	respond(c, status, CT_JSON, o);
}

static const struct {
	unsigned int status;
	const char *slug, *title;
} problems[] = {
	{ HTTP_BAD_REQUEST, "bad-request", "Malformed request" },
	{ HTTP_UNAUTHORIZED, "unauthorized", "No valid API token" },
	{ HTTP_FORBIDDEN, "forbidden", "The token lacks the scope" },
	{ HTTP_NOT_FOUND, "not-found", "Not found" },
	{ HTTP_METHOD, "method-not-allowed", "Method not allowed" },
	{ HTTP_CONFLICT, "conflict", "Conflicts with the current state" },
	{ HTTP_TOO_LARGE, "too-large", "Request body too large" },
	{ HTTP_MEDIA_TYPE, "unsupported-media-type", "The body must be application/json" },
	{ HTTP_UNPROCESSABLE, "refused", "Refused" },
	{ HTTP_INTERNAL, "failed", "The change could not be made" },
};

/* An RFC 9457 problem: type, title, status, detail, instance. */
static void problem(struct call *c, unsigned int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void problem(struct call *c, unsigned int status, const char *fmt, ...)
{
	struct json_object *o = json_object_new_object();
	char detail[API_DETAIL_MAX], type[96], shown[160];
	const char *slug = "failed", *title = "Error";
	va_list ap;
	size_t i;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	for (i = 0; i < ARRAY_SIZE(problems); i++)
		if (problems[i].status == status) {
			slug = problems[i].slug;
			title = problems[i].title;
		}
	snprintf(type, sizeof(type), API_PROBLEM_BASE "%s", slug);
	json_object_object_add(o, "type", json_object_new_string(type));
	json_object_object_add(o, "title", json_object_new_string(title));
	json_object_object_add(o, "status", json_object_new_int((int)status));
	json_object_object_add(o, "detail", json_object_new_string(detail));
	if (c->rq->path)
		json_object_object_add(o, "instance", json_object_new_string(c->rq->path));
	bwe_escape_ctl(detail, shown, sizeof(shown));
	log_debug("api %s: %u %s", c->token[0] ? c->token : "(no token)", status, shown);
	respond(c, status, CT_PROBLEM, o);
}

/* ---- input --------------------------------------------------------------------- */

struct body {
	struct json_object *o; /* owned; strings below live in it */
	const char *reason, *ticket;
	__u64 ttl_s, rate, burst;
	bool force, has_rate, prefix64, local;
};

/* An integer or a string in units (units.h): "15m", "10mbit". */
static int num_or_unit(struct call *c, const char *key, struct json_object *v,
		       int (*parse)(const char *, __u64 *), const char *what, __u64 *out)
{
	__s64 x;

	if (json_object_is_type(v, json_type_int)) {
		errno = 0;
		x = json_object_get_int64(v);
		if (x >= 0 && !errno) {
			*out = (__u64)x;
			return 0;
		}
	} else if (json_object_is_type(v, json_type_string) &&
		   !parse(json_object_get_string(v), out)) {
		return 0;
	}
	problem(c, HTTP_BAD_REQUEST, "%s must be %s", key, what);
	return -EINVAL;
}

static int parse_body(struct call *c, const char *const *allowed, struct body *b)
{
	const struct http_request *rq = c->rq;
	struct json_tokener *tk;
	char shown[80];

	memset(b, 0, sizeof(*b));
	if (!rq->body || !rq->body_len)
		return 0;
	if (rq->body_len > API_BODY_MAX) {
		problem(c, HTTP_TOO_LARGE, "the body is %zu bytes; at most %d", rq->body_len,
			API_BODY_MAX);
		return -EMSGSIZE;
	}
	if (!rq->content_type || strncmp(rq->content_type, CT_JSON, strlen(CT_JSON))) {
		bwe_escape_ctl(rq->content_type ? rq->content_type : "(none)", shown,
			       sizeof(shown));
		problem(c, HTTP_MEDIA_TYPE, "Content-Type is %s; send application/json", shown);
		return -EINVAL;
	}
	tk = json_tokener_new();
	if (!tk) {
		problem(c, HTTP_INTERNAL, "out of memory");
		return -ENOMEM;
	}
	b->o = json_tokener_parse_ex(tk, rq->body, (int)rq->body_len);
	if (!b->o || json_tokener_get_parse_end(tk) != rq->body_len ||
	    !json_object_is_type(b->o, json_type_object)) {
		json_tokener_free(tk);
		json_object_put(b->o);
		b->o = NULL;
		problem(c, HTTP_BAD_REQUEST, "the body is not one JSON object");
		return -EINVAL;
	}
	json_tokener_free(tk);
	json_object_object_foreach(b->o, key, v) {
		size_t i;

		for (i = 0; allowed[i] && strcmp(allowed[i], key); i++)
			;
		bwe_escape_ctl(key, shown, sizeof(shown));
		if (!allowed[i]) {
			char all[128] = "";

			for (i = 0; allowed[i]; i++)
				snprintf(all + strlen(all), sizeof(all) - strlen(all), "%s%s",
					 i ? ", " : "", allowed[i]);
			problem(c, HTTP_BAD_REQUEST, "unknown field \"%s\" (this request takes %s)",
				shown, all);
			return -EINVAL;
		}
		if (json_object_is_type(v, json_type_null))
			continue;
		if (!strcmp(key, "reason") || !strcmp(key, "ticket")) {
			if (!json_object_is_type(v, json_type_string)) {
				problem(c, HTTP_BAD_REQUEST, "%s must be a string", shown);
				return -EINVAL;
			}
			*(key[0] == 'r' ? &b->reason : &b->ticket) = json_object_get_string(v);
		} else if (!strcmp(key, "force") || !strcmp(key, "prefix64") ||
			   !strcmp(key, "local")) {
			if (!json_object_is_type(v, json_type_boolean)) {
				problem(c, HTTP_BAD_REQUEST, "%s must be true or false", shown);
				return -EINVAL;
			}
			*(key[0] == 'f'	  ? &b->force
			  : key[0] == 'p' ? &b->prefix64
					  : &b->local) = json_object_get_boolean(v);
		} else if (!strcmp(key, "ttl")) {
			if (num_or_unit(c, "ttl", v, bwe_duration_parse,
					"seconds or a duration such as \"15m\", \"12h\", \"7d\"",
					&b->ttl_s))
				return -EINVAL;
		} else if (!strcmp(key, "rate")) {
			if (num_or_unit(c, "rate", v, bwe_rate_parse,
					"bytes per second or a rate such as \"10mbit\"", &b->rate))
				return -EINVAL;
			b->has_rate = true;
		} else if (!strcmp(key, "burst")) {
			if (num_or_unit(c, "burst", v, bwe_size_parse,
					"bytes or a size such as \"64KiB\"", &b->burst))
				return -EINVAL;
		}
	}
	if (b->ticket) {
		size_t i;

		for (i = 0; b->ticket[i] && (unsigned char)b->ticket[i] >= 0x20; i++)
			;
		if (b->ticket[i] || i > API_TICKET_MAX) {
			problem(c, HTTP_BAD_REQUEST,
				"ticket must be at most %d bytes without control characters",
				API_TICKET_MAX);
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * The JSON object of a PUT or DELETE, every key known and of its type.
 * allowed: the keys this request takes. Absent body: all defaults. On a
 * refusal nothing is left in b (the callers return without freeing it).
 */
static int read_body(struct call *c, const char *const *allowed, struct body *b)
{
	int e = parse_body(c, allowed, b);

	if (e) {
		json_object_put(b->o);
		b->o = NULL;
	}
	return e;
}

/*
 * The entries a path parameter names: an address or CIDR; for hosts also
 * a MAC address, which the transaction looks up in the daemon's own
 * neighbour view (*mac set, no prefixes), or a host name the daemon's
 * hosts file holds (a local read, as bwctl's names are looked up first).
 * A name only DNS knows is refused: the listener answers in the loop, and
 * a name goes to the sandboxed resolver only from the control socket
 * (bwctl), whose clients may wait.
 */
static int resolve(struct call *c, const struct kind *k, struct bwe_prefix **pfx, bool *has_mac,
		   __u8 mac[BWE_MAC_LEN])
{
	char why[512], shown[80];
	int n;

	*pfx = NULL;
	*has_mac = false;
	bwe_escape_ctl(c->param, shown, sizeof(shown));
	n = bwe_resolve_host(c->param, BWE_RES_CIDR_OK, pfx, why, sizeof(why));
	if (n > 0)
		return n;
	if (k && k->hosts && !bwe_mac_parse(c->param, mac)) {
		*has_mac = true;
		return 0;
	}
	if ((!k || k->hosts) && bwe_looks_like_hostname(c->param)) {
		struct bwe_addr a[API_NAME_ADDRS];
		int i, got = bwe_hosts_file_lookup(BWE_HOSTS_FILE, c->param, a, API_NAME_ADDRS);

		if (got > 0 && (*pfx = calloc((size_t)got, sizeof(**pfx)))) {
			for (i = 0; i < got; i++) {
				(*pfx)[i].addr = a[i];
				(*pfx)[i].plen = BWE_ADDR_BITS;
			}
			return got;
		}
		problem(c, HTTP_UNPROCESSABLE,
			"\"%s\" is a host name that %s does not hold: the API does not ask a name "
			"server (the answer would wait on it); send its address or its MAC "
			"address, or use bwctl, whose requests the daemon resolves",
			shown, BWE_HOSTS_FILE);
		return -EINVAL;
	}
	problem(c, HTTP_UNPROCESSABLE, "%s", why);
	return -EINVAL;
}

/* The typed actor of this request: the token, and what it asked (shown, not trusted). */
static void set_actor(struct call *c)
{
	char detail[ACTOR_DETAIL_MAX], shown[ACTOR_DETAIL_MAX];

	snprintf(detail, sizeof(detail), "%s %s", c->rq->method, c->rq->path);
	bwe_escape_ctl(detail, shown, sizeof(shown));
	actor_set(&c->who, ACTOR_API, c->token, shown);
}

/* Event fields beside the change: the client's address and the ticket. */
static struct json_object *annotation(struct call *c, const struct body *b)
{
	struct json_object *o = json_object_new_object();

	if (c->rq->peer)
		json_object_object_add(o, "client.address", json_object_new_string(c->rq->peer));
	if (b->ticket)
		json_object_object_add(o, "labels.ticket", json_object_new_string(b->ticket));
	return o;
}

/* ops_apply's answer as a status: guards are 422, a protected entry 409. */
static int apply(struct call *c, struct op_request *op, const struct body *b,
		 struct json_object **changed)
{
	char err[OPS_ERR_LEN];
	int e;

	op->who = &c->who;
	op->annotate = annotation(c, b);
	e = ops_apply(c->a->d.ops, op, changed, err, sizeof(err));
	json_object_put(op->annotate);
	if (e == -EINVAL)
		problem(c, HTTP_UNPROCESSABLE, "%s", err);
	else if (e == -EPERM)
		problem(c, HTTP_CONFLICT, "%s", err);
	else if (e)
		problem(c, HTTP_INTERNAL, "%s", err);
	return e;
}

/* ---- the state entries ------------------------------------------------------------ */

static void r_list(struct call *c, const struct kind *k)
{
	ok(c, HTTP_OK, query_list(&c->a->d.q, k->kind));
}

static void r_get(struct call *c, const struct kind *k)
{
	const struct st_store *st = c->a->d.q.st;
	struct json_object *arr, *res;
	struct bwe_prefix *pfx;
	__u8 mac[BWE_MAC_LEN];
	bool has_mac;
	int i, n = resolve(c, k, &pfx, &has_mac, mac);
	size_t j;

	if (n < 0)
		return;
	arr = json_object_new_array();
	for (i = 0; i < n; i++) {
		const struct st_entry *e = st_find(st, k->kind, &pfx[i]);

		if (e)
			json_object_array_add(arr, st_entry_json_host(st, e));
	}
	for (j = 0; has_mac && j < st_count(st); j++) {
		const struct st_entry *e = st_at(st, j);

		if (e->kind == k->kind && e->has_mac && !memcmp(e->mac, mac, BWE_MAC_LEN))
			json_object_array_add(arr, st_entry_json_host(st, e));
	}
	if (has_mac && !json_object_array_length(arr) && st_host_find(st, k->kind, mac))
		json_object_array_add(arr, st_entry_json_host(st, st_host_find(st, k->kind, mac)));
	free(pfx);
	if (!json_object_array_length(arr)) {
		json_object_put(arr);
		problem(c, HTTP_NOT_FOUND, "no %s entry for %s", st_kind_name(k->kind), c->param);
		return;
	}
	res = json_object_new_object();
	json_object_object_add(res, "entries", arr);
	ok(c, HTTP_OK, res);
}

/* Does the entry already say what the request says? */
static bool same_entry(const struct call *c, const struct kind *k, const struct st_entry *e,
		       const struct body *b)
{
	const struct bwe_cfgfile *cfg = *c->a->d.q.cfg;

	if (strcmp(e->reason, b->reason ? b->reason : "") || (b->ttl_s == 0) != (e->expires == 0) ||
	    e->local != b->local)
		return false;
	if (!k->rate)
		return true;
	return e->rate == b->rate &&
	       e->burst == (b->burst ? b->burst : bwe_default_burst(cfg, b->rate));
}

static void r_put(struct call *c, const struct kind *k)
{
	static const char *const keys_hosts[] = { "reason",   "ttl",   "ticket", "force",
						  "prefix64", "local", NULL };
	static const char *const keys_rate[] = { "reason", "ttl",   "ticket", "force",
						 "rate",   "burst", "local",  NULL };
	static const char *const keys_nets[] = { "reason", "ttl", "ticket", "local", NULL };
	struct json_object *entries, *res, *changed = NULL;
	struct bwe_prefix *pfx = NULL;
	bool created = false, unchanged = true, has_mac = false;
	__u8 mac[BWE_MAC_LEN];
	struct body b;
	int i, n;

	if (read_body(c, k->rate ? keys_rate : k->hosts ? keys_hosts : keys_nets, &b))
		return;
	if (k->rate && !b.has_rate) {
		problem(c, HTTP_BAD_REQUEST,
			"a throttle needs \"rate\" (bytes per second, or "
			"a rate such as \"10mbit\")");
		goto out;
	}
	if ((n = resolve(c, k, &pfx, &has_mac, mac)) < 0)
		goto out;
	entries = json_object_new_array();
	for (i = 0; i < n; i++) {
		const struct st_entry *e = st_find(c->a->d.q.st, k->kind, &pfx[i]);

		if (!e)
			created = true;
		if (!e || !same_entry(c, k, e, &b) || b.prefix64)
			unchanged = false;
		else
			json_object_array_add(entries, st_entry_json(e));
	}
	if (has_mac) { /* the transaction looks the MAC address up: always a change */
		created = !st_host_find(c->a->d.q.st, k->kind, mac);
		unchanged = false;
	}
	if (!unchanged) {
		struct op_request op = {
			.action = k->add,
			.verb = OP_ADD,
			.kind = k->kind,
			.pfx = pfx,
			.n = (size_t)n,
			.reason = b.reason,
			.ttl_s = b.ttl_s,
			.rate = b.rate,
			.burst = b.burst,
			.force = b.force,
			.ident = k->hosts,
			.macs = has_mac ? (const __u8(*)[BWE_MAC_LEN])mac : NULL,
			.nmacs = has_mac,
			.prefix64 = b.prefix64,
			.local = b.local,
		};

		json_object_put(entries);
		if (apply(c, &op, &b, &changed))
			goto out;
		entries = changed;
	}
	res = json_object_new_object();
	json_object_object_add(res, "created", json_object_new_boolean(created));
	json_object_object_add(res, "changed", json_object_new_boolean(!unchanged));
	json_object_object_add(res, "entries", entries);
	ok(c, created ? HTTP_CREATED : HTTP_OK, res);
out:
	free(pfx);
	json_object_put(b.o);
}

static void r_delete(struct call *c, const struct kind *k)
{
	static const char *const keys[] = { "reason", "ticket", NULL };
	const struct st_store *st = c->a->d.q.st;
	struct bwe_prefix *pfx = NULL;
	__u8 mac[BWE_MAC_LEN];
	bool has_mac = false;
	struct body b;
	int i, n, m = 0;

	if (read_body(c, keys, &b))
		return;
	if ((n = resolve(c, k, &pfx, &has_mac, mac)) < 0)
		goto out;
	for (i = 0; i < n; i++) /* only what is there: the rest is gone already */
		if (st_find(st, k->kind, &pfx[i]) || (k->hosts && pfx[i].plen == BWE_ADDR_BITS &&
						      st_match(st, k->kind, &pfx[i].addr) &&
						      st_match(st, k->kind, &pfx[i].addr)->has_mac))
			pfx[m++] = pfx[i];
	has_mac = has_mac &&
		  (st_host_find(st, k->kind, mac) || st_mac_entries(st, k->kind, mac, false));
	if (m || has_mac) {
		struct op_request op = {
			.action = k->del,
			.verb = OP_DEL,
			.kind = k->kind,
			.pfx = pfx,
			.n = (size_t)m,
			.reason = b.reason,
			.ident = k->hosts,
			.macs = has_mac ? (const __u8(*)[BWE_MAC_LEN])mac : NULL,
			.nmacs = has_mac,
		};

		if (apply(c, &op, &b, NULL))
			goto out;
	}
	ok(c, HTTP_NO_CONTENT, NULL);
out:
	free(pfx);
	json_object_put(b.o);
}

/* ---- the read-only answers -------------------------------------------------------- */

static void r_status(struct call *c, const struct kind *k)
{
	(void)k;
	ok(c, HTTP_OK, query_status(&c->a->d.q));
}

/* ?top=N&sort=tx|rx|drops|rate */
static void r_hosts(struct call *c, const struct kind *k)
{
	static const char *const sorts[] = { "tx", "rx", "drops", "rate" };
	char q[256], *save = NULL, *kv, shown[80];
	const char *sort = "tx";
	unsigned long long n = BWE_PROTO_TOP_N;
	size_t i;

	(void)k;
	if (c->rq->query && strlen(c->rq->query) >= sizeof(q)) {
		problem(c, HTTP_BAD_REQUEST, "the query string is too long");
		return;
	}
	snprintf(q, sizeof(q), "%s", c->rq->query ? c->rq->query : "");
	for (kv = strtok_r(q, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
		char *v = strchr(kv, '='), *end;

		if (v)
			*v++ = '\0';
		bwe_escape_ctl(v ? v : "", shown, sizeof(shown));
		if (!strcmp(kv, "top") && v) {
			errno = 0;
			n = strtoull(v, &end, 10);
			if (!*v || *end || errno || *v == '-' || n > BWE_PROTO_TOP_MAX) {
				problem(c, HTTP_BAD_REQUEST, "top \"%s\" must be 0..%d", shown,
					BWE_PROTO_TOP_MAX);
				return;
			}
		} else if (!strcmp(kv, "sort") && v) {
			for (i = 0; i < ARRAY_SIZE(sorts) && strcmp(v, sorts[i]); i++)
				;
			if (i == ARRAY_SIZE(sorts)) {
				problem(c, HTTP_BAD_REQUEST,
					"sort \"%s\" must be tx, rx, drops or rate", shown);
				return;
			}
			sort = sorts[i];
		} else {
			bwe_escape_ctl(kv, shown, sizeof(shown));
			problem(c, HTTP_BAD_REQUEST, "unknown query parameter \"%s\" (top, sort)",
				shown);
			return;
		}
	}
	ok(c, HTTP_OK, query_top(&c->a->d.q, (int)n, sort));
}

/* One address: the host itself, or the one address of a MAC. */
static int one_address(struct call *c, const struct kind *k, struct bwe_addr *out)
{
	struct bwe_prefix *pfx;
	__u8 mac[BWE_MAC_LEN];
	bool has_mac;
	int n = resolve(c, k, &pfx, &has_mac, mac);

	if (n < 0)
		return n;
	if (has_mac) {
		if (!query_mac_addr(&c->a->d.q, mac, out))
			return 0;
		problem(c, HTTP_NOT_FOUND,
			"MAC address %s has no address: it is not contained and the neighbour "
			"table does not have it",
			c->param);
		return -ENOENT;
	}
	if (n != 1 || pfx[0].plen != BWE_ADDR_BITS) {
		problem(c, HTTP_UNPROCESSABLE, "%s names %s; ask for one address", c->param,
			n != 1 ? "several addresses" : "a network");
		free(pfx);
		return -EINVAL;
	}
	*out = pfx[0].addr;
	free(pfx);
	return 0;
}

static void r_report(struct call *c, const struct kind *k)
{
	struct json_object *rep;
	struct scope_wait *w;
	struct bwe_addr a;

	(void)k;
	if (one_address(c, &k_quarantine, &a))
		return;
	rep = detector_report(c->a->d.detector, &a);
	query_report_identity(&c->a->d.q, rep, &a);
	if (c->a->d.q.scope) /* a reason is given: nothing waits */
		rep = scope_report_ask(c->a->d.q.scope, &a, SCOPE_API_PART, time(NULL), rep, NULL,
				       NULL, &w);
	ok(c, HTTP_OK, rep);
}

/* The fleet's answers came: the waiting client's response. */
static void scoped(void *ctx, struct json_object *answer)
{
	struct api_wait *w = ctx, **p;
	struct http_response rs = { 0 };
	struct call c = { .a = w->a, .rs = &rs };

	for (p = &w->a->waits; *p && *p != w; p = &(*p)->next)
		;
	if (*p)
		*p = w->next;
	ok(&c, HTTP_OK, answer);
	w->answer(w->ctx, w->id, &rs);
	free(w);
}

/*
 * bwctl scope's answer: this site's at once (local, no fleet, detached, a
 * listener that cannot wait: the reason in coverage.fleet), or the
 * fleet's, the client waiting (FLEET_SCOPE_WAIT_S at most) off the loop.
 */
static void ask_scope(struct call *c, const struct bwe_addr *a, __u64 since, bool local)
{
	struct api_wait *w = c->rq->answer && !local ? calloc(1, sizeof(*w)) : NULL;
	struct scope_wait *none;
	struct json_object *o;

	if (!w) {
		ok(c, HTTP_OK,
		   scope_ask(c->a->d.q.scope, a, since, local ? SCOPE_LOCAL_ASKED : SCOPE_API_PART,
			     time(NULL), NULL, NULL, &none));
		return;
	}
	*w = (struct api_wait){ .a = c->a,
				.answer = c->rq->answer,
				.ctx = c->rq->answer_ctx,
				.id = c->rq->answer_id };
	o = scope_ask(c->a->d.q.scope, a, since, NULL, time(NULL), scoped, w, &w->sw);
	if (o) {
		free(w);
		ok(c, HTTP_OK, o);
		return;
	}
	w->next = c->a->waits;
	c->a->waits = w;
	c->rs->status = HTTP_OK; /* for the log line: the answer is always 200 */
	c->rs->later = true;
}

/* ?since=DUR (1s..30d, default 1d), ?local=0|1: bwctl scope's answer, in a fleet every site's. */
static void r_scope(struct call *c, const struct kind *k)
{
	char q[128], *save = NULL, *kv, shown[80];
	__u64 since = SCOPE_SINCE_S;
	bool local = false;
	struct bwe_addr a;

	(void)k;
	if (c->rq->query && strlen(c->rq->query) >= sizeof(q)) {
		problem(c, HTTP_BAD_REQUEST, "the query string is too long");
		return;
	}
	snprintf(q, sizeof(q), "%s", c->rq->query ? c->rq->query : "");
	for (kv = strtok_r(q, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
		char *v = strchr(kv, '=');

		if (v)
			*v++ = '\0';
		bwe_escape_ctl(v ? v : "", shown, sizeof(shown));
		if (strcmp(kv, "since") && strcmp(kv, "local")) {
			bwe_escape_ctl(kv, shown, sizeof(shown));
			problem(c, HTTP_BAD_REQUEST,
				"unknown query parameter \"%s\" (since, local)", shown);
			return;
		}
		if (!v) {
			problem(c, HTTP_BAD_REQUEST, "query parameter \"%s\" needs a value", kv);
			return;
		}
		if (!strcmp(kv, "local")) {
			if (strcmp(v, "0") && strcmp(v, "1")) {
				problem(c, HTTP_BAD_REQUEST, "local \"%s\" must be 0 or 1", shown);
				return;
			}
			local = *v == '1';
			continue;
		}
		if (bwe_duration_parse(v, &since) || !since || since > SCOPE_SINCE_MAX_S) {
			problem(c, HTTP_BAD_REQUEST,
				"since \"%s\" must be a duration from 1s to 30d (e.g. 1h, 7d)",
				shown);
			return;
		}
	}
	if (!c->a->d.q.scope) {
		problem(c, HTTP_INTERNAL, "scope: not available");
		return;
	}
	if (one_address(c, &k_quarantine, &a))
		return;
	ask_scope(c, &a, since, local);
}

static void r_lookup(struct call *c, const struct kind *k)
{
	struct bwe_addr a;
	char shown[80];

	(void)k;
	if (bwe_addr_parse(c->param, &a)) {
		bwe_escape_ctl(c->param, shown, sizeof(shown));
		problem(c, HTTP_UNPROCESSABLE, "\"%s\" is not an IPv4/IPv6 address", shown);
		return;
	}
	ok(c, HTTP_OK, query_lookup(&c->a->d.q, &a));
}

static void r_feeds(struct call *c, const struct kind *k)
{
	(void)k;
	ok(c, HTTP_OK, feeds_list_json(c->a->d.q.feeds));
}

static void r_fleet(struct call *c, const struct kind *k)
{
	(void)k;
	ok(c, HTTP_OK, fleet_status_json(c->a->d.q.fleet));
}

static void r_refresh(struct call *c, const struct kind *k)
{
	struct json_object *names = json_object_new_array(), *res;
	char shown[80];

	(void)k;
	if (feeds_refresh(c->a->d.q.feeds, c->param, names)) {
		json_object_put(names);
		bwe_escape_ctl(c->param, shown, sizeof(shown));
		problem(c, HTTP_NOT_FOUND, "no feed named \"%s\"", shown);
		return;
	}
	log_info("feeds refreshed for api:%s", c->token);
	res = json_object_new_object();
	json_object_object_add(res, "refreshed", names);
	ok(c, HTTP_ACCEPTED, res);
}

/* ---- GET /v1/export: a stream (httpmsg.h) over the export cursor ------------------ */

#define API_EXPORT_CHUNK (64 * 1024) /* bytes of output made at a time */

struct api_stream {
	struct export *x;
	struct export_buf b;
	size_t off;
	bool end;
};

static long stream_next(void *ctx, char *buf, size_t max)
{
	struct api_stream *st = ctx;
	size_t n;
	int r;

	while (st->off == st->b.len) {
		if (st->end)
			return 0;
		st->b.len = st->off = 0;
		r = export_next(st->x, &st->b, API_EXPORT_CHUNK);
		if (r < 0) {
			log_warnx("GET /v1/export cut short: %s", strerror(-r));
			return -1;
		}
		st->end = !r;
	}
	n = st->b.len - st->off < max ? st->b.len - st->off : max;
	memcpy(buf, st->b.p + st->off, n);
	st->off += n;
	return (long)n;
}

static void stream_done(void *ctx)
{
	struct api_stream *st = ctx;

	export_free(st->x);
	export_buf_free(&st->b);
	free(st);
}

/* ?format=plain|zeek-intel|stix|json&set=blocks|quarantine|feeds&feed=NAME, as bwctl export. */
static void r_export(struct call *c, const struct kind *k)
{
	static const char *const types[] = {
		[BWE_EXP_PLAIN] = "text/plain; charset=utf-8",
		[BWE_EXP_ZEEK] = "text/plain; charset=utf-8",
		[BWE_EXP_STIX] = "application/stix+json;version=2.1",
		[BWE_EXP_JSON] = "application/json",
	};
	const struct query_deps *q = &c->a->d.q;
	struct export_deps xd = { .st = q->st, .store = q->store };
	int format = BWE_EXP_PLAIN, set = BWE_EXP_BLOCKS, e;
	char qs[256], *save = NULL, *kv, shown[80], err[EXPORT_ERR_LEN];
	const char *feed = NULL;
	struct api_stream *st;

	(void)k;
	if (c->rq->query && strlen(c->rq->query) >= sizeof(qs)) {
		problem(c, HTTP_BAD_REQUEST, "the query string is too long");
		return;
	}
	snprintf(qs, sizeof(qs), "%s", c->rq->query ? c->rq->query : "");
	for (kv = strtok_r(qs, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
		char *v = strchr(kv, '=');

		if (v)
			*v++ = '\0';
		bwe_escape_ctl(v ? v : kv, shown, sizeof(shown));
		if (!v) {
			problem(c, HTTP_BAD_REQUEST, "query parameter \"%s\" needs a value", shown);
			return;
		}
		if (!strcmp(kv, "format")) {
			if ((format = bwe_export_format_from(v)) < 0) {
				problem(c, HTTP_BAD_REQUEST,
					"format \"%s\" must be plain, zeek-intel, stix or json",
					shown);
				return;
			}
		} else if (!strcmp(kv, "set")) {
			if ((set = bwe_export_set_from(v)) < 0) {
				problem(c, HTTP_BAD_REQUEST,
					"set \"%s\" must be blocks, quarantine or feeds", shown);
				return;
			}
		} else if (!strcmp(kv, "feed")) {
			feed = v;
		} else {
			bwe_escape_ctl(kv, shown, sizeof(shown));
			problem(c, HTTP_BAD_REQUEST,
				"unknown query parameter \"%s\" (format, set, feed)", shown);
			return;
		}
	}
	if (feed && set != BWE_EXP_FEEDS) {
		problem(c, HTTP_BAD_REQUEST, "feed goes with set=feeds only");
		return;
	}
	st = calloc(1, sizeof(*st));
	if (!st) {
		problem(c, HTTP_INTERNAL, "out of memory");
		return;
	}
	e = export_new(&st->x, &xd, (enum bwe_export_format)format, (enum bwe_export_set)set, feed,
		       time(NULL), err, sizeof(err));
	if (e) {
		free(st);
		if (e == -EINVAL)
			problem(c, HTTP_NOT_FOUND, "%s", err);
		else
			problem(c, HTTP_INTERNAL, "export: %s", strerror(-e));
		return;
	}
	log_info("export %s of %s for api:%s", bwe_export_format_name(format),
		 bwe_export_set_name(set), c->token);
	c->rs->status = HTTP_OK;
	c->rs->content_type = types[format];
	c->rs->body = NULL;
	c->rs->len = 0;
	c->rs->next = stream_next;
	c->rs->done = stream_done;
	c->rs->stream_ctx = st;
}

/* ---- routes ----------------------------------------------------------------------- */

#define RESOURCE(path, param, sc, k) \
	{ "GET", "/v1/" path, BWE_SCOPE_READ, r_list, k }, \
		{ "GET", "/v1/" path "/{" param "}", BWE_SCOPE_READ, r_get, k }, \
		{ "PUT", "/v1/" path "/{" param "}", sc, r_put, k }, \
	{ \
		"DELETE", "/v1/" path "/{" param "}", sc, r_delete, k \
	}

static const struct route routes[] = {
	{ "GET", "/v1/status", BWE_SCOPE_READ, r_status, NULL },
	{ "GET", "/v1/hosts", BWE_SCOPE_READ, r_hosts, NULL },
	{ "GET", "/v1/hosts/{host}/report", BWE_SCOPE_READ, r_report, NULL },
	{ "GET", "/v1/scope/{host}", BWE_SCOPE_READ, r_scope, NULL },
	{ "GET", "/v1/lookup/{address}", BWE_SCOPE_READ, r_lookup, NULL },
	{ "GET", "/v1/feeds", BWE_SCOPE_READ, r_feeds, NULL },
	{ "GET", "/v1/export", BWE_SCOPE_READ, r_export, NULL },
	{ "GET", "/v1/fleet", BWE_SCOPE_READ, r_fleet, NULL },
	{ "POST", "/v1/feeds/{name}/refresh", BWE_SCOPE_ADMIN, r_refresh, NULL },
	RESOURCE("quarantines", "host", BWE_SCOPE_CONTAIN, &k_quarantine),
	RESOURCE("throttles", "host", BWE_SCOPE_CONTAIN, &k_throttle),
	RESOURCE("blocks", "cidr", BWE_SCOPE_BLOCK, &k_block),
	RESOURCE("exempts", "cidr", BWE_SCOPE_BLOCK, &k_exempt),
	RESOURCE("allows", "cidr", BWE_SCOPE_BLOCK, &k_allow),
};

size_t api_route_count(void)
{
	return ARRAY_SIZE(routes);
}

void api_route(size_t i, const char **method, const char **pattern, const char **scope)
{
	unsigned int b;

	*method = routes[i].method;
	*pattern = routes[i].pattern;
	for (b = 0; b < BWE_SCOPES && !(routes[i].scope & (1u << b)); b++)
		;
	*scope = bwe_scope_name(b);
}

/*
 * Does path fit pattern? Literal parts must be equal; a parameter takes
 * one segment, or, when it ends the pattern, the rest of the path.
 */
static bool match(const char *pattern, const char *path, char *param, size_t len)
{
	const char *p = pattern, *s = path;

	param[0] = '\0';
	while (*p) {
		if (*p == '{') {
			const char *close = strchr(p, '}'), *end;
			size_t n;

			p = close + 1;
			end = *p ? strchr(s, '/') : s + strlen(s);
			if (!end)
				return false;
			n = (size_t)(end - s);
			if (!n || n >= len)
				return false;
			memcpy(param, s, n);
			param[n] = '\0';
			s = end;
			continue;
		}
		if (*p++ != *s++)
			return false;
	}
	return !*s;
}

/* 0, or the status of the refusal: 401 no or unknown token, 403 no scope. */
static int authorize(struct api *a, const char *bearer, __u32 scope, char *name, __u32 *has)
{
	time_t now = time(NULL);
	int e;

	if (!a->d.tokens)
		return HTTP_UNAUTHORIZED;
	e = tok_check(a->d.tokens, bearer, now, name, has);
	tok_flush(a->d.tokens, now);
	if (e)
		return HTTP_UNAUTHORIZED;
	return (*has & BWE_SCOPE_ADMIN) || (*has & scope) ? 0 : HTTP_FORBIDDEN;
}

int api_authorize(void *ctx, const char *bearer, const char *scope)
{
	char name[BWE_TOKEN_NAME_MAX + 1];
	__u32 bit = bwe_scope_bit(scope), has;

	return authorize(ctx, bearer, bit ? bit : BWE_SCOPE_ADMIN, name, &has);
}

void api_handle(void *ctx, const struct http_request *rq, struct http_response *rs)
{
	struct call c = { .a = ctx, .rq = rq, .rs = rs };
	bool path_known = false;
	char name[BWE_TOKEN_NAME_MAX + 1], shown[160], method[16];
	__u32 has = 0;
	size_t i;
	int st;

	memset(rs, 0, sizeof(*rs));
	if (!rq->method || !rq->path) {
		problem(&c, HTTP_BAD_REQUEST, "no method or path");
		return;
	}
	bwe_escape_ctl(rq->path, shown, sizeof(shown));
	bwe_escape_ctl(rq->method, method, sizeof(method));
	/* the token before anything else: strangers learn nothing, not even the routes */
	st = authorize(c.a, rq->bearer, BWE_SCOPE_READ, name, &has);
	if (st == HTTP_UNAUTHORIZED) {
		problem(&c, st,
			"send \"Authorization: Bearer TOKEN\" with a token from "
			"\"bwctl token add\"");
		goto out;
	}
	snprintf(c.token, sizeof(c.token), "%s", name);
	for (i = 0; i < ARRAY_SIZE(routes); i++) {
		if (!match(routes[i].pattern, rq->path, c.param, sizeof(c.param)))
			continue;
		path_known = true;
		if (!strcmp(routes[i].method, rq->method)) {
			c.rt = &routes[i];
			break;
		}
	}
	if (!c.rt) {
		if (path_known)
			problem(&c, HTTP_METHOD, "%s is not allowed on %s", method, shown);
		else
			problem(&c, HTTP_NOT_FOUND, "no such resource: %s", shown);
		goto out;
	}
	if (!(has & BWE_SCOPE_ADMIN) && !(has & c.rt->scope)) {
		const char *m, *p, *scope;

		api_route((size_t)(c.rt - routes), &m, &p, &scope);
		problem(&c, HTTP_FORBIDDEN, "token %s may not %s %s: it needs the %s scope",
			c.token, method, shown, scope);
		goto out;
	}
	if (rq->body_len > API_BODY_MAX) {
		problem(&c, HTTP_TOO_LARGE, "the body is %zu bytes; at most %d", rq->body_len,
			API_BODY_MAX);
		goto out;
	}
	set_actor(&c);
	c.rt->fn(&c, c.rt->k);
out:
	/* one line per request; refused tokens and scopes as warnings */
	if (rs->status == HTTP_UNAUTHORIZED || rs->status == HTTP_FORBIDDEN)
		log_warnx("api %s %s from %s: %u (token %s)", method, shown,
			  rq->peer ? rq->peer : "?", rs->status, c.token[0] ? c.token : "none");
	else
		log_info("api %s %s by token %s from %s: %u", method, shown, c.token,
			 rq->peer ? rq->peer : "?", rs->status);
}

int api_new(struct api **out, const struct api_deps *deps)
{
	struct api *a = calloc(1, sizeof(*a));

	if (!a)
		return -ENOMEM;
	a->d = *deps;
	*out = a;
	return 0;
}

void api_free(struct api *a)
{
	struct api_wait *w;

	while (a && (w = a->waits)) { /* their clients are given up by the listener */
		a->waits = w->next;
		scope_cancel(a->d.q.scope, w->sw);
		free(w);
	}
	free(a);
}
