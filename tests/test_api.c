// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_api.c - the HTTP API's routes (ctl/bwctld/api.c) called as the
 * listener calls them, against a real daemon state: an unpinned data
 * plane, the store, the transaction, the event log, hosts, the detector,
 * the feeds (their sandboxed worker is this binary, as with bwctld) and
 * the token store (ctl/bwctld/tokens.c).
 *
 * What it proves: a token is needed (401) and its scope (403); every route
 * answers; changes go through the transaction with the token's name as the
 * actor (state entry, event, kernel map); repeats are idempotent (no second
 * event); bad input gets a problem body and changes nothing (store, state
 * file, event log); the route table and docs/api/openapi.yaml agree.
 *
 * Runs as root in mount and network namespaces of its own (its veth, its
 * neighbour entry for the MAC case, a tmpfs state directory).
 */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cmocka.h>

#include "test_helpers.h"
#include "core_fixture.h"

#include "api.h"
#include "bwe_util.h"
#include "config.h"
#include "dataplane.h"
#include "detector.h"
#include "scope.h"
#include "enforce.h"
#include "events.h"
#include "feeds.h"
#include "feedstore.h"
#include "feedwork.h"
#include "hosts.h"
#include "ifaces.h"
#include "neighwatch.h"
#include "ops.h"
#include "sandbox.h"
#include "store.h"
#include "tokens.h"

#define OPENAPI	 "docs/api/openapi.yaml"
#define MAC_HOST "198.18.0.77"
#define MAC	 "02:00:00:00:00:77"

static struct core core;
/* the core's parts under the names the tests use */
static const char *const statedir = core.statedir, *const statefile = core.statefile,
			 *const evpath = core.evpath;
static char tokfile[CORE_PATH_LEN + sizeof(TOK_FILE) + 1];
static struct bwe_dp *dp;
static struct st_store *st;
static struct detector *det;
static struct scope *sc;
static struct feeds *feeds;
static struct ifaces *ifs;
static struct tokens *toks;
static struct api *api;
/* tokens: every scope, read only, contain only, block only */
static char t_admin[TOK_TEXT_LEN], t_read[TOK_TEXT_LEN], t_contain[TOK_TEXT_LEN],
	t_block[TOK_TEXT_LEN];

/* The last answer, its body parsed. */
static struct http_response rs;
static struct json_object *body;

static unsigned int call(const char *method, const char *path, const char *query, const char *token,
			 const char *ctype, const char *data)
{
	struct http_request rq = {
		.method = method,
		.path = path,
		.query = query,
		.bearer = token,
		.content_type = ctype ? ctype : (data ? "application/json" : NULL),
		.body = data,
		.body_len = data ? strlen(data) : 0,
		.peer = "192.0.2.1:4711",
	};

	json_object_put(body);
	body = NULL;
	free(rs.body);
	memset(&rs, 0, sizeof(rs));
	api_handle(api, &rq, &rs);
	if (rs.body) {
		assert_int_equal(strlen(rs.body), rs.len);
		body = json_tokener_parse(rs.body);
		assert_non_null(body);
	}
	return rs.status;
}

static const char *field(const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(body, key, &v) ? json_object_get_string(v) : NULL;
}

/* An RFC 9457 problem with this status and a detail that names what was wrong. */
static void assert_problem(unsigned int status, const char *needle)
{
	struct json_object *v;

	assert_int_equal(rs.status, status);
	assert_string_equal(rs.content_type, "application/problem+json");
	assert_non_null(field("type"));
	assert_non_null(strstr(field("type"), "urn:bwenforce:problem:"));
	assert_non_null(field("title"));
	assert_true(json_object_object_get_ex(body, "status", &v));
	assert_int_equal(json_object_get_int(v), (int)status);
	assert_non_null(field("detail"));
	if (!strstr(field("detail"), needle))
		fail_msg("detail \"%s\" does not name \"%s\"", field("detail"), needle);
}

/* Store, state file and event log as they are now. */
struct snapshot {
	size_t entries, events;
	char *state;
};

static void snap(struct snapshot *s)
{
	s->entries = st_count(st);
	s->events = count_in_file(evpath, "\n");
	s->state = slurp(statefile);
}

static void assert_unchanged(struct snapshot *s)
{
	char *now = slurp(statefile);

	assert_int_equal(st_count(st), s->entries);
	assert_int_equal(count_in_file(evpath, "\n"), s->events);
	assert_string_equal(now ? now : "", s->state ? s->state : "");
	free(now);
	free(s->state);
}

static struct bwe_neighwatch *nw;

static void on_neigh(const struct bwe_addr *a, const __u8 mac[BWE_MAC_LEN], int ifindex, void *ctx)
{
	(void)a, (void)mac, (void)ifindex, (void)ctx;
}

static int setup(void **state)
{
	struct bwe_dp_opts opts = { 0 };
	struct detector_deps dd;
	struct feeds_deps fd;
	struct ifaces_deps id;
	struct api_deps ad;
	char terr[TOK_ERR_LEN];

	(void)state;
	libbpf_set_print(NULL);
	if (core_up(&core, "test_api", CLONE_NEWNET, &opts,
		    "interfaces:\n  - name: bweapi-none\n"
		    "internal_networks: [198.18.0.0/15, \"2001:db8:1::/48\"]\n"
		    "allowlist: [198.18.0.10/32]\n"
		    "sandbox_user: nobody\n"))
		return -1;
	dp = core.dp;
	st = core.st;
	snprintf(tokfile, sizeof(tokfile), "%s/" TOK_FILE, statedir);
	/* a LAN link of our own with one neighbour, for the MAC case */
	if (system("ip link set lo up && ip link add bweapi0 type veth peer name bweapi1 && "
		   "ip addr add 198.18.0.1/24 dev bweapi0 && ip link set bweapi0 up && "
		   "ip link set bweapi1 up && ip neigh add " MAC_HOST " lladdr " MAC
		   " dev bweapi0 nud permanent"))
		return -1;
	/* the daemon's neighbour view: a MAC address is looked up there, not by the caller */
	if (bwe_neighwatch_open(&nw, 0, on_neigh, NULL))
		return -1;
	ops_set_neighbours(core.ops, nw);
	dd = (struct detector_deps){ .cfg = core.cfg,
				     .dp = dp,
				     .hosts = core.hosts,
				     .st = st,
				     .enf = core.enf,
				     .ops = core.ops,
				     .log = core.evl };
	fd = (struct feeds_deps){ .cfg = core.cfg, .store = core.fst, .log = core.evl };
	id = (struct ifaces_deps){ .cfg = core.cfg, .dp = dp, .enf = core.enf, .log = core.evl };
	if (detector_new(&det, &dd) || feeds_new(&feeds, &fd) || ifaces_new(&ifs, &id) ||
	    tok_open(&toks, statedir) ||
	    scope_new(&sc, &(struct scope_deps){ .cfg = core.cfg,
						 .ops = core.ops,
						 .detector = det,
						 .enf = core.enf,
						 .st = st }))
		return -1;
	feeds_bind(feeds, core.enf);
	ad = (struct api_deps){
		.q = { .config_path = core.cfgpath,
		       .started = time(NULL),
		       .cfg = (const struct bwe_cfgfile *const *)&core.cfg,
		       .dp = dp,
		       .st = st,
		       .store = core.fst,
		       .enf = core.enf,
		       .hosts = core.hosts,
		       .feeds = feeds,
		       .ifaces = ifs,
		       .detector = det,
		       .nw = nw,
		       .scope = sc },
		.ops = core.ops,
		.detector = det,
		.tokens = toks,
	};
	if (api_new(&api, &ad))
		return -1;
	if (tok_add(toks, "soar", BWE_SCOPE_ADMIN, time(NULL), t_admin, sizeof(t_admin), terr,
		    sizeof(terr)) ||
	    tok_add(toks, "grafana", BWE_SCOPE_READ, time(NULL), t_read, sizeof(t_read), terr,
		    sizeof(terr)) ||
	    tok_add(toks, "edr", BWE_SCOPE_CONTAIN, time(NULL), t_contain, sizeof(t_contain), terr,
		    sizeof(terr)) ||
	    tok_add(toks, "ti", BWE_SCOPE_BLOCK | BWE_SCOPE_READ, time(NULL), t_block,
		    sizeof(t_block), terr, sizeof(terr))) {
		fprintf(stderr, "tok_add: %s\n", terr);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	json_object_put(body);
	free(rs.body);
	api_free(api);
	tok_free(toks);
	ifaces_free(ifs);
	feeds_free(feeds);
	scope_free(sc);
	detector_free(det);
	ops_set_neighbours(core.ops, NULL);
	bwe_neighwatch_close(nw);
	return core_down(&core);
}

/* ---- tokens --------------------------------------------------------------------- */

static void test_token_store(void **state)
{
	char text[TOK_TEXT_LEN], err[TOK_ERR_LEN], name[BWE_TOKEN_NAME_MAX + 1], *file;
	struct json_object *list;
	struct tokens *again;
	struct stat sb;
	__u32 scopes;
	size_t n = tok_count(toks);

	(void)state;
	/* made once: random, URL-safe, at least 32 random bytes of text */
	assert_int_equal(strncmp(t_admin, TOK_PREFIX, strlen(TOK_PREFIX)), 0);
	assert_true(strlen(t_admin) >= strlen(TOK_PREFIX) + 43);
	assert_int_equal(strspn(t_admin + strlen(TOK_PREFIX),
				"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
			 strlen(t_admin) - strlen(TOK_PREFIX));
	assert_string_not_equal(t_admin, t_read);
	/* the file: 0600, never the token, one salted hash each */
	assert_int_equal(stat(tokfile, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	file = slurp(tokfile);
	assert_null(strstr(file, t_admin + strlen(TOK_PREFIX)));
	assert_int_equal(count_in_file(tokfile, "\"sha256\""), n);
	free(file);
	list = tok_list_json(toks);
	assert_null(strstr(json_object_to_json_string(list), t_admin + strlen(TOK_PREFIX)));
	assert_null(strstr(json_object_to_json_string(list), "sha256"));
	assert_int_equal(json_object_array_length(list), n);
	json_object_put(list);
	/* bad input: nothing changed */
	assert_int_equal(tok_add(toks, "soar", BWE_SCOPE_READ, 1, text, sizeof(text), err,
				 sizeof(err)),
			 -EEXIST);
	assert_int_equal(tok_add(toks, "bad name", BWE_SCOPE_READ, 1, text, sizeof(text), err,
				 sizeof(err)),
			 -EINVAL);
	assert_int_equal(tok_add(toks, "x23456789012345678901234567890123", BWE_SCOPE_READ, 1, text,
				 sizeof(text), err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(tok_add(toks, "noscope", 0, 1, text, sizeof(text), err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(tok_revoke(toks, "nobody", err, sizeof(err)), -ENOENT);
	assert_int_equal(tok_count(toks), n);
	/* checks: the right name and scopes; a near miss is unknown */
	assert_int_equal(tok_check(toks, t_read, time(NULL), name, &scopes), 0);
	assert_string_equal(name, "grafana");
	assert_int_equal(scopes, BWE_SCOPE_READ);
	strcpy(text, t_read);
	text[strlen(text) - 1] ^= 1;
	assert_int_equal(tok_check(toks, text, time(NULL), name, &scopes), -ENOENT);
	assert_int_equal(tok_check(toks, NULL, time(NULL), name, &scopes), -ENOENT);
	/* the hashes on disk check the same tokens after a restart */
	assert_int_equal(tok_open(&again, statedir), 0);
	assert_int_equal(tok_check(again, t_contain, time(NULL), name, &scopes), 0);
	assert_string_equal(name, "edr");
	tok_free(again);
	/* the API's authorization: 0, 401, 403 */
	assert_int_equal(api_authorize(api, t_read, "read"), 0);
	assert_int_equal(api_authorize(api, t_read, "contain"), 403);
	assert_int_equal(api_authorize(api, t_admin, "block"), 0);
	assert_int_equal(api_authorize(api, NULL, "read"), 401);
	assert_int_equal(api_authorize(api, "bwe_nope", "read"), 401);
	/* revoked: unknown from then on */
	assert_int_equal(tok_add(toks, "temp", BWE_SCOPE_READ, 1, text, sizeof(text), err,
				 sizeof(err)),
			 0);
	assert_int_equal(call("GET", "/v1/status", NULL, text, NULL, NULL), 200);
	assert_int_equal(tok_revoke(toks, "temp", err, sizeof(err)), 0);
	assert_int_equal(call("GET", "/v1/status", NULL, text, NULL, NULL), 401);
	assert_int_equal(tok_count(toks), n);
}

/* ---- authentication and routing --------------------------------------------------- */

static void test_auth_and_scopes(void **state)
{
	struct snapshot s;

	(void)state;
	snap(&s);
	assert_int_equal(call("PUT", "/v1/quarantines/198.18.0.20", NULL, NULL, NULL, "{}"), 401);
	assert_problem(401, "Authorization: Bearer");
	assert_int_equal(call("GET", "/v1/status", NULL, "bwe_wrong", NULL, NULL), 401);
	/* a stranger learns nothing of the routes */
	assert_int_equal(call("GET", "/v1/nothing", NULL, NULL, NULL, NULL), 401);
	/* read may read, not change */
	assert_int_equal(call("PUT", "/v1/quarantines/198.18.0.20", NULL, t_read, NULL, "{}"), 403);
	assert_problem(403, "contain scope");
	assert_int_equal(call("DELETE", "/v1/blocks/203.0.113.0/24", NULL, t_read, NULL, NULL),
			 403);
	/* contain may not block, block may not contain */
	assert_int_equal(call("PUT", "/v1/blocks/203.0.113.0/24", NULL, t_contain, NULL, NULL),
			 403);
	assert_problem(403, "block scope");
	assert_int_equal(call("PUT", "/v1/throttles/198.18.0.20", NULL, t_block, NULL,
			      "{\"rate\":1000}"),
			 403);
	/* contain without read may not read */
	assert_int_equal(call("GET", "/v1/quarantines", NULL, t_contain, NULL, NULL), 403);
	assert_problem(403, "read scope");
	/* feeds refresh is admin's */
	assert_int_equal(call("POST", "/v1/feeds/x/refresh", NULL, t_block, NULL, NULL), 403);
	assert_unchanged(&s);
	/* unknown routes and methods */
	assert_int_equal(call("GET", "/v1/nothing", NULL, t_read, NULL, NULL), 404);
	assert_problem(404, "/v1/nothing");
	assert_int_equal(call("PATCH", "/v1/quarantines/198.18.0.20", NULL, t_admin, NULL, NULL),
			 405);
	assert_problem(405, "PATCH");
	assert_int_equal(call("GET", "/v1/quarantines/", NULL, t_read, NULL, NULL), 404);
}

/* ---- changes ------------------------------------------------------------------------ */

static void test_quarantine_lifecycle(void **state)
{
	struct bwe_prefix x = pfx("198.18.0.20");
	const struct st_entry *e;
	struct json_object *entries, *v;
	size_t ev0 = count_in_file(evpath, "\n"), ev;

	(void)state;
	assert_int_equal(call("PUT", "/v1/quarantines/198.18.0.20", NULL, t_contain, NULL,
			      "{\"reason\":\"SOAR case 12\",\"ttl\":\"1h\",\"ticket\":\"INC-12\"}"),
			 201);
	assert_string_equal(rs.content_type, "application/json");
	assert_true(json_object_object_get_ex(body, "entries", &entries));
	assert_int_equal(json_object_array_length(entries), 1);
	e = st_find(st, ST_QUARANTINE, &x);
	assert_non_null(e);
	assert_int_equal(e->actor.kind, ACTOR_API);
	assert_string_equal(e->actor.name, "edr");
	assert_string_equal(e->reason, "SOAR case 12");
	assert_true(e->expires > time(NULL) + 3500);
	assert_true(core_classes(&core, "198.18.0.20") & BWE_NC_QUARANTINE);
	ev = count_in_file(evpath, "\n");
	assert_int_equal(ev, ev0 + 1);
	/* the token is the actor: bwenforce.actor and the entry's "by" */
	assert_int_equal(count_in_file(evpath, "\"token\":\"edr\""), 2);
	assert_int_equal(count_in_file(evpath, "INC-12"), 1);
	assert_int_equal(count_in_file(evpath, "192.0.2.1:4711"), 1);
	/* the same again: 200, nothing changed, no second event */
	assert_int_equal(call("PUT", "/v1/quarantines/198.18.0.20", NULL, t_contain, NULL,
			      "{\"reason\":\"SOAR case 12\",\"ttl\":3600}"),
			 200);
	assert_true(json_object_object_get_ex(body, "changed", &v));
	assert_false(json_object_get_boolean(v));
	assert_int_equal(count_in_file(evpath, "\n"), ev);
	/* another reason: replaced, 200, one event */
	assert_int_equal(call("PUT", "/v1/quarantines/198.18.0.20", NULL, t_admin, NULL,
			      "{\"reason\":\"escalated\"}"),
			 200);
	assert_true(json_object_object_get_ex(body, "changed", &v));
	assert_true(json_object_get_boolean(v));
	assert_int_equal(count_in_file(evpath, "\n"), ev + 1);
	assert_string_equal(st_find(st, ST_QUARANTINE, &x)->actor.name, "soar");
	assert_int_equal(st_find(st, ST_QUARANTINE, &x)->expires, 0);
	/* reads */
	assert_int_equal(call("GET", "/v1/quarantines/198.18.0.20", NULL, t_read, NULL, NULL), 200);
	assert_true(json_object_object_get_ex(body, "entries", &entries));
	assert_string_equal(json_object_get_string(
				    json_object_object_get(json_object_array_get_idx(entries, 0),
							   "reason")),
			    "escalated");
	assert_int_equal(call("GET", "/v1/quarantines", NULL, t_read, NULL, NULL), 200);
	assert_true(json_object_is_type(body, json_type_array));
	assert_int_equal(json_object_array_length(body), 1);
	/* release: 204, and 204 again with nothing to release (no event) */
	assert_int_equal(call("DELETE", "/v1/quarantines/198.18.0.20", NULL, t_contain, NULL,
			      "{\"reason\":\"clean\"}"),
			 204);
	assert_null(rs.body);
	assert_null(st_find(st, ST_QUARANTINE, &x));
	assert_false(core_classes(&core, "198.18.0.20") & BWE_NC_QUARANTINE);
	ev = count_in_file(evpath, "\n");
	assert_int_equal(count_in_file(evpath, "\"action\":\"release\""), 1);
	assert_int_equal(call("DELETE", "/v1/quarantines/198.18.0.20", NULL, t_contain, NULL, NULL),
			 204);
	assert_int_equal(count_in_file(evpath, "\n"), ev);
	assert_int_equal(call("GET", "/v1/quarantines/198.18.0.20", NULL, t_read, NULL, NULL), 404);
	assert_problem(404, "198.18.0.20");
	/* the guards of bwctl: an allowlisted host needs force */
	assert_int_equal(call("PUT", "/v1/quarantines/198.18.0.10", NULL, t_admin, NULL, NULL),
			 422);
	assert_problem(422, "allowlisted");
	assert_int_equal(call("PUT", "/v1/quarantines/198.18.0.10", NULL, t_admin, NULL,
			      "{\"force\":true}"),
			 201);
	assert_int_equal(call("DELETE", "/v1/quarantines/198.18.0.10", NULL, t_admin, NULL, NULL),
			 204);
}

static void test_throttles_blocks_exempts_allows(void **state)
{
	struct bwe_prefix x = pfx("198.18.0.21"), n = pfx("203.0.113.0/24");
	const struct st_entry *e;

	(void)state;
	assert_int_equal(call("PUT", "/v1/throttles/198.18.0.21", NULL, t_contain, NULL,
			      "{\"rate\":\"10mbit\",\"burst\":\"64KiB\"}"),
			 201);
	e = st_find(st, ST_THROTTLE, &x);
	assert_non_null(e);
	assert_int_equal(e->rate, 1250000);
	assert_int_equal(e->burst, 65536);
	assert_int_equal(call("PUT", "/v1/throttles/198.18.0.21", NULL, t_contain, NULL,
			      "{\"rate\":1250000,\"burst\":65536}"),
			 200);
	assert_int_equal(call("DELETE", "/v1/throttles/198.18.0.21", NULL, t_contain, NULL, NULL),
			 204);
	assert_null(st_find(st, ST_THROTTLE, &x));
	/* a prefix: the listener decodes %2F, so the parameter holds the '/' */
	assert_int_equal(call("PUT", "/v1/blocks/203.0.113.0/24", NULL, t_block, NULL,
			      "{\"reason\":\"C2\"}"),
			 201);
	assert_non_null(st_find(st, ST_BLOCK, &n));
	assert_int_equal(call("GET", "/v1/blocks/203.0.113.0/24", NULL, t_block, NULL, NULL), 200);
	assert_int_equal(call("GET", "/v1/blocks", NULL, t_read, NULL, NULL), 200);
	assert_int_equal(json_object_array_length(body), 1);
	assert_int_equal(call("DELETE", "/v1/blocks/203.0.113.0/24", NULL, t_block, NULL, NULL),
			 204);
	assert_null(st_find(st, ST_BLOCK, &n));
	assert_int_equal(call("PUT", "/v1/exempts/198.51.100.53", NULL, t_block, NULL, NULL), 201);
	assert_int_equal(call("PUT", "/v1/exempts/198.51.100.53", NULL, t_block, NULL, NULL), 200);
	assert_int_equal(call("DELETE", "/v1/exempts/198.51.100.53", NULL, t_block, NULL, NULL),
			 204);
	assert_int_equal(call("PUT", "/v1/allows/198.51.100.0/28", NULL, t_block, NULL,
			      "{\"ttl\":600}"),
			 201);
	assert_int_equal(call("GET", "/v1/allows", NULL, t_read, NULL, NULL), 200);
	assert_int_equal(json_object_array_length(body), 1);
	assert_int_equal(call("DELETE", "/v1/allows/198.51.100.0/28", NULL, t_block, NULL, NULL),
			 204);
	/* six changes, each with the token in bwenforce.actor and the entry's "by" */
	assert_int_equal(count_in_file(evpath, "\"token\":\"ti\""), 12);
}

static void test_mac_and_hostnames(void **state)
{
	struct bwe_prefix x = pfx(MAC_HOST);
	struct snapshot s;

	(void)state;
	assert_int_equal(call("PUT", "/v1/quarantines/" MAC, NULL, t_contain, NULL, NULL), 201);
	assert_non_null(st_find(st, ST_QUARANTINE, &x));
	assert_int_equal(call("GET", "/v1/hosts/" MAC "/report", NULL, t_read, NULL, NULL), 200);
	assert_true(st_find(st, ST_QUARANTINE, &x)->has_mac);
	assert_int_equal(call("DELETE", "/v1/quarantines/" MAC, NULL, t_contain, NULL, NULL), 204);
	assert_null(st_find(st, ST_QUARANTINE, &x));
	assert_int_equal(st_host_count(st), 0);
	/* a MAC address the neighbour table lacks: contained by the MAC address alone */
	assert_int_equal(call("PUT", "/v1/quarantines/02:00:00:00:00:99", NULL, t_contain, NULL,
			      NULL),
			 201);
	assert_int_equal(st_host_count(st), 1);
	assert_int_equal(call("DELETE", "/v1/quarantines/02:00:00:00:00:99", NULL, t_contain, NULL,
			      NULL),
			 204);
	assert_int_equal(st_host_count(st), 0);
	snap(&s);
	assert_int_equal(call("PUT", "/v1/quarantines/laptop-12.example.org", NULL, t_contain, NULL,
			      NULL),
			 422);
	assert_problem(422, "does not ask a name server");
	/* no MAC address of one host: broadcast, multicast, zero */
	assert_int_equal(call("PUT", "/v1/quarantines/ff:ff:ff:ff:ff:ff", NULL, t_contain, NULL,
			      NULL),
			 422);
	assert_problem(422, "broadcast");
	assert_int_equal(call("PUT", "/v1/quarantines/01:00:5e:00:00:01", NULL, t_contain, NULL,
			      NULL),
			 422);
	assert_problem(422, "multicast");
	assert_int_equal(call("PUT", "/v1/quarantines/00:00:00:00:00:00", NULL, t_contain, NULL,
			      NULL),
			 422);
	assert_problem(422, "zero MAC");
	/* networks are never given by name or MAC */
	assert_int_equal(call("PUT", "/v1/blocks/" MAC, NULL, t_block, NULL, NULL), 422);
	assert_unchanged(&s);
}

/* One table: {method, path, body, content type, status, what the detail names}. */
static const struct {
	const char *method, *path, *body, *ctype;
	unsigned int status;
	const char *why;
} bad[] = {
	{ "PUT", "/v1/quarantines/198.18.0.22", "{\"reason\":", NULL, 400, "not one JSON object" },
	{ "PUT", "/v1/quarantines/198.18.0.22", "[1]", NULL, 400, "not one JSON object" },
	{ "PUT", "/v1/quarantines/198.18.0.22", "{} {}", NULL, 400, "not one JSON object" },
	{ "PUT", "/v1/quarantines/198.18.0.22", "{\"tll\":60}", NULL, 400,
	  "unknown field \"tll\"" },
	{ "PUT", "/v1/quarantines/198.18.0.22", "{\"ttl\":-5}", NULL, 400, "ttl must be" },
	{ "PUT", "/v1/quarantines/198.18.0.22", "{\"ttl\":\"5 years\"}", NULL, 400, "ttl must be" },
	{ "PUT", "/v1/quarantines/198.18.0.22", "{\"force\":\"yes\"}", NULL, 400, "force must be" },
	{ "PUT", "/v1/quarantines/198.18.0.22", "{\"reason\":7}", NULL, 400, "reason must be" },
	{ "PUT", "/v1/quarantines/198.18.0.22", "{\"rate\":5}", NULL, 400,
	  "unknown field \"rate\"" },
	{ "PUT", "/v1/quarantines/198.18.0.22", "{}", "text/plain", 415, "text/plain" },
	{ "PUT", "/v1/quarantines/198.18.0.22", "{\"ttl\":99999999999}", NULL, 422, "ttl" },
	{ "PUT", "/v1/quarantines/198.18.0.22", "{\"reason\":\"a\\u0001b\"}", NULL, 422,
	  "control character" },
	{ "PUT", "/v1/quarantines/203.0.113.9", NULL, NULL, 422, "internal_networks" },
	{ "PUT", "/v1/quarantines/198.18.0.300", NULL, NULL, 422, "198.18.0.300" },
	{ "PUT", "/v1/quarantines/198.18.0.1", NULL, NULL, 422, "address of this gateway" },
	{ "PUT", "/v1/throttles/198.18.0.22", "{}", NULL, 400, "needs \"rate\"" },
	{ "PUT", "/v1/throttles/198.18.0.22", "{\"rate\":\"fast\"}", NULL, 400, "rate must be" },
	{ "PUT", "/v1/throttles/198.18.0.0/16", "{\"rate\":1000,\"force\":true}", NULL, 422,
	  "spans more than" },
	{ "PUT", "/v1/blocks/0.0.0.0/1", NULL, NULL, 422, "broader than" },
	{ "PUT", "/v1/blocks/203.0.113.1/24", NULL, NULL, 422, "host bits" },
	{ "PUT", "/v1/blocks/198.18.0.0/24", NULL, NULL, 422, "internal_networks" },
	{ "PUT", "/v1/blocks/203.0.113.0/24", "{\"force\":true}", NULL, 400, "unknown field" },
	{ "PUT", "/v1/allows/0.0.0.0/1", NULL, NULL, 422, "broader than" },
	{ "DELETE", "/v1/blocks/203.0.113.0/24", "{\"ttl\":5}", NULL, 400, "unknown field" },
	{ "GET", "/v1/lookup/not-an-address", NULL, NULL, 422, "not an IPv4/IPv6 address" },
	{ "GET", "/v1/hosts/198.18.0.0/24/report", NULL, NULL, 404, "no such resource" },
	{ "GET", "/v1/hosts/198.18.0.0%2F24/report", NULL, NULL, 422, "198.18.0.0%2F24" },
	{ "POST", "/v1/feeds/nosuchfeed/refresh", NULL, NULL, 404, "nosuchfeed" },
};

static void test_bad_input_changes_nothing(void **state)
{
	struct snapshot s;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		snap(&s);
		call(bad[i].method, bad[i].path, NULL, t_admin, bad[i].ctype, bad[i].body);
		if (rs.status != bad[i].status)
			fail_msg("%s %s %s: %u, not %u (%s)", bad[i].method, bad[i].path,
				 bad[i].body ? bad[i].body : "", rs.status, bad[i].status,
				 rs.body ? rs.body : "");
		assert_problem(bad[i].status, bad[i].why);
		assert_unchanged(&s);
	}
}

static void test_oversized_body(void **state)
{
	char *big = malloc(API_BODY_MAX + 64);
	struct snapshot s;

	(void)state;
	assert_non_null(big);
	memset(big, ' ', API_BODY_MAX + 63);
	memcpy(big, "{\"reason\":\"x\"}", 14);
	big[API_BODY_MAX + 63] = '\0';
	snap(&s);
	assert_int_equal(call("PUT", "/v1/quarantines/198.18.0.23", NULL, t_admin, NULL, big), 413);
	assert_problem(413, "at most");
	assert_unchanged(&s);
	free(big);
}

/* A save that fails: 500 with the reason, and memory, disk and kernel as they were. */
static void test_failed_change_is_500(void **state)
{
	struct bwe_prefix x = pfx("198.18.0.24");
	struct snapshot s;

	(void)state;
	snap(&s);
	assert_int_equal(mount(NULL, statedir, NULL, MS_REMOUNT | MS_RDONLY, NULL), 0);
	assert_int_equal(call("PUT", "/v1/quarantines/198.18.0.24", NULL, t_admin, NULL, NULL),
			 500);
	assert_int_equal(mount(NULL, statedir, NULL, MS_REMOUNT, NULL), 0);
	assert_problem(500, "nothing changed");
	assert_null(st_find(st, ST_QUARANTINE, &x));
	assert_false(core_classes(&core, "198.18.0.24") & BWE_NC_QUARANTINE);
	assert_unchanged(&s);
}

/* ---- reads --------------------------------------------------------------------------- */

static void test_reads(void **state)
{
	struct json_object *v;

	(void)state;
	assert_int_equal(call("GET", "/v1/status", NULL, t_read, NULL, NULL), 200);
	assert_true(json_object_object_get_ex(body, "feeds", &v));
	assert_int_equal(call("GET", "/v1/hosts", "top=5&sort=rx", t_read, NULL, NULL), 200);
	assert_true(json_object_is_type(body, json_type_array));
	assert_int_equal(call("GET", "/v1/hosts", "top=five", t_read, NULL, NULL), 400);
	assert_problem(400, "five");
	assert_int_equal(call("GET", "/v1/hosts", "sort=size", t_read, NULL, NULL), 400);
	assert_problem(400, "size");
	assert_int_equal(call("GET", "/v1/hosts", "limit=3", t_read, NULL, NULL), 400);
	assert_problem(400, "limit");
	assert_int_equal(call("GET", "/v1/hosts/198.18.0.20/report", NULL, t_read, NULL, NULL),
			 200);
	assert_true(json_object_is_type(body, json_type_object));
	assert_int_equal(call("GET", "/v1/lookup/203.0.113.9", NULL, t_read, NULL, NULL), 200);
	assert_non_null(field("verdict"));
	assert_int_equal(call("GET", "/v1/feeds", NULL, t_read, NULL, NULL), 200);
	assert_true(json_object_is_type(body, json_type_array));
}

/* GET /v1/scope/{host}: bwctl scope's answer; the report's section; bad "since" and "local". */
static void test_scope(void **state)
{
	static const char *const bad_since[] = { "since=0", "since=45d", "since=soon", "since",
						 "window=1h" };
	struct ops_hit h = { .peer = addr("203.0.113.66"),
			     .ref = bwe_ref(BWE_FEED_MANUAL, 0),
			     .outbound = true,
			     .feed = "manual" };
	struct json_object *v, *x;
	size_t i;

	(void)state;
	h.host = addr("198.18.0.30");
	ops_hit(core.ops, &h);
	h.host = addr("198.18.0.31");
	ops_hit(core.ops, &h);
	assert_int_equal(call("GET", "/v1/scope/198.18.0.30", "since=1h", t_read, NULL, NULL), 200);
	assert_string_equal(field("kind"), "host");
	assert_string_equal(field("window_s"), "3600");
	assert_true(json_object_object_get_ex(body, "hosts", &v));
	assert_int_equal(json_object_array_length(v), 1);
	assert_true(json_object_object_get_ex(json_object_array_get_idx(v, 0), "host", &x));
	assert_string_equal(json_object_get_string(x), "198.18.0.31");
	assert_int_equal(call("GET", "/v1/scope/203.0.113.66", NULL, t_read, NULL, NULL), 200);
	assert_string_equal(field("kind"), "address");
	assert_true(json_object_object_get_ex(body, "hosts", &v));
	assert_int_equal(json_object_array_length(v), 2);
	assert_int_equal(call("GET", "/v1/hosts/198.18.0.31/report", NULL, t_read, NULL, NULL),
			 200);
	assert_true(json_object_object_get_ex(body, "other_hosts_same_peers", &x));
	assert_true(json_object_object_get_ex(x, "hosts", &v));
	assert_int_equal(json_object_array_length(v), 1);
	for (i = 0; i < ARRAY_SIZE(bad_since); i++) {
		assert_int_equal(call("GET", "/v1/scope/198.18.0.30", bad_since[i], t_read, NULL,
				      NULL),
				 400);
		assert_problem(400, !strcmp(bad_since[i], "since")	 ? "needs a value"
				    : strncmp(bad_since[i], "since=", 6) ? "unknown query parameter"
									 : "must be a duration");
	}
	assert_int_equal(call("GET", "/v1/scope/not-a-host!", NULL, t_read, NULL, NULL), 422);
	assert_int_equal(call("GET", "/v1/scope/198.18.0.30", NULL, NULL, NULL, NULL), 401);
	/* local: 0 or 1; the answer says why it is this site's part */
	assert_int_equal(call("GET", "/v1/scope/203.0.113.66", "since=1h&local=1", t_read, NULL,
			      NULL),
			 200);
	assert_true(json_object_object_get_ex(body, "coverage", &x));
	assert_true(json_object_object_get_ex(x, "fleet", &x));
	assert_true(json_object_object_get_ex(x, "reason", &v));
	assert_string_equal(json_object_get_string(v), "no fleet"); /* this daemon has none */
	assert_int_equal(call("GET", "/v1/scope/203.0.113.66", "local=yes", t_read, NULL, NULL),
			 400);
	assert_problem(400, "local \"yes\" must be 0 or 1");
	assert_int_equal(call("GET", "/v1/scope/203.0.113.66", "local", t_read, NULL, NULL), 400);
	assert_problem(400, "query parameter \"local\" needs a value");
}

/* ---- the route table and docs/api/openapi.yaml agree ---------------------------------- */

struct oa_op {
	char method[16], path[128];
	bool seen;
};

/* The operations of the file: "  /v1/...:" path lines, then "    get:" method lines. */
static size_t openapi_ops(struct oa_op *ops_out, size_t max)
{
	FILE *f = fopen(OPENAPI, "r");
	char line[512], path[128] = "";
	bool in_paths = false;
	size_t n = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		char m[16];

		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] && line[0] != ' ' && line[0] != '#') {
			in_paths = !strcmp(line, "paths:");
			continue;
		}
		if (!in_paths)
			continue;
		if (!strncmp(line, "  /", 3) && line[strlen(line) - 1] == ':') {
			snprintf(path, sizeof(path), "%.*s", (int)strlen(line) - 3, line + 2);
			continue;
		}
		if (sscanf(line, "    %15[a-z]:", m) == 1 && line[4] != ' ' &&
		    (!strcmp(m, "get") || !strcmp(m, "put") || !strcmp(m, "post") ||
		     !strcmp(m, "delete") || !strcmp(m, "patch"))) {
			assert_true(n < max);
			for (size_t i = 0; m[i]; i++)
				m[i] = (char)(m[i] - 'a' + 'A');
			snprintf(ops_out[n].method, sizeof(ops_out[n].method), "%s", m);
			snprintf(ops_out[n].path, sizeof(ops_out[n].path), "%s", path);
			ops_out[n++].seen = false;
		}
	}
	fclose(f);
	return n;
}

/* The whole of a streamed answer, pulled in pieces of max bytes as the listener does. */
static char *pull(size_t max)
{
	char *all = NULL, piece[64];
	size_t len = 0;
	long n;

	assert_non_null(rs.next);
	assert_null(rs.body);
	assert_true(max <= sizeof(piece));
	while ((n = rs.next(rs.stream_ctx, piece, max)) > 0) {
		assert_true((size_t)n <= max);
		all = realloc(all, len + (size_t)n + 1);
		assert_non_null(all);
		memcpy(all + len, piece, (size_t)n);
		len += (size_t)n;
		all[len] = '\0';
	}
	assert_int_equal(n, 0);
	rs.done(rs.stream_ctx);
	rs.next = NULL;
	return all ? all : strdup("");
}

/* GET /v1/export: bwctl export's cursor as a stream; bad input is a problem, nothing streams. */
static void test_export(void **state)
{
	struct json_object *b;
	char *text;

	(void)state;
	assert_int_equal(call("PUT", "/v1/blocks/203.0.113.0/25", NULL, t_block, NULL,
			      "{\"reason\":\"export\"}"),
			 201);
	assert_int_equal(call("GET", "/v1/export", NULL, t_read, NULL, NULL), 200);
	assert_string_equal(rs.content_type, "text/plain; charset=utf-8");
	text = pull(7); /* pieces smaller than a line */
	assert_string_equal(text, "203.0.113.0/25\n");
	free(text);
	assert_int_equal(call("GET", "/v1/export", "format=stix&set=blocks", t_read, NULL, NULL),
			 200);
	assert_string_equal(rs.content_type, "application/stix+json;version=2.1");
	text = pull(64);
	b = json_tokener_parse(text);
	assert_non_null(b);
	assert_string_equal(json_object_get_string(json_object_object_get(b, "type")), "bundle");
	assert_non_null(strstr(text, "[ipv4-addr:value = '203.0.113.0/25']"));
	json_object_put(b);
	free(text);
	assert_int_equal(call("GET", "/v1/export", "format=csv", t_read, NULL, NULL), 400);
	assert_problem(400, "format \"csv\" must be plain, zeek-intel, stix or json");
	assert_null(rs.next);
	assert_int_equal(call("GET", "/v1/export", "set=feeds&feed=nope", t_read, NULL, NULL), 404);
	assert_problem(404, "no feed named \"nope\"");
	assert_int_equal(call("GET", "/v1/export", "feed=x", t_read, NULL, NULL), 400);
	assert_problem(400, "feed goes with set=feeds only");
	assert_int_equal(call("GET", "/v1/export", "format", t_read, NULL, NULL), 400);
	assert_problem(400, "needs a value");
	assert_int_equal(call("GET", "/v1/export", "limit=3", t_read, NULL, NULL), 400);
	assert_problem(400, "unknown query parameter \"limit\"");
	assert_int_equal(call("GET", "/v1/export", NULL, t_contain, NULL, NULL), 403);
	assert_null(rs.next);
	assert_int_equal(call("DELETE", "/v1/blocks/203.0.113.0/25", NULL, t_block, NULL, NULL),
			 204);
}

static void test_routes_match_openapi(void **state)
{
	struct oa_op doc[128];
	size_t n = openapi_ops(doc, ARRAY_SIZE(doc)), i, j;

	(void)state;
	assert_true(n > 0);
	for (i = 0; i < api_route_count(); i++) {
		const char *m, *p, *scope;

		api_route(i, &m, &p, &scope);
		for (j = 0; j < n; j++)
			if (!strcmp(doc[j].method, m) && !strcmp(doc[j].path, p))
				break;
		if (j == n)
			fail_msg("route %s %s is not in " OPENAPI, m, p);
		doc[j].seen = true;
	}
	for (j = 0; j < n; j++)
		if (!doc[j].seen)
			fail_msg(OPENAPI " has %s %s, which the server does not serve",
				 doc[j].method, doc[j].path);
	assert_int_equal(n, api_route_count());
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routes_match_openapi),
		cmocka_unit_test(test_token_store),
		cmocka_unit_test(test_auth_and_scopes),
		cmocka_unit_test(test_quarantine_lifecycle),
		cmocka_unit_test(test_throttles_blocks_exempts_allows),
		cmocka_unit_test(test_mac_and_hostnames),
		cmocka_unit_test(test_bad_input_changes_nothing),
		cmocka_unit_test(test_oversized_body),
		cmocka_unit_test(test_failed_change_is_500),
		cmocka_unit_test(test_reads),
		cmocka_unit_test(test_scope),
		cmocka_unit_test(test_export),
	};

	/* The feeds' sandboxed worker is /proc/self/exe: this binary, as with bwctld. */
	if (argc == 2 && !strcmp(argv[1], FEEDS_WORKER_ARG)) {
		struct bwe_feedwork_opts fo = { .user_agent = "bwenforce-test" };

		return bwe_feedwork_exit_code(bwe_feedwork_main(BWE_SANDBOX_FD, &fo));
	}
	return cmocka_run_group_tests_name("api", tests, setup, teardown);
}
