// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * cmds.c - the commands: check the arguments, build the request (fields as
 * in lib/proto.h), make the one print call with the right renderer.
 *
 * The ten commands that change a set of hosts or networks share one
 * handler driven by a struct hostcmd; the others are small functions.
 */
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "proto.h"
#include "resolve.h"
#include "units.h"
#include "client.h"
#include "opts.h"
#include "output.h"
#include "render.h"
#include "top.h"

/* ---- request and print --------------------------------------------------- */

/* Send req, print the result with text (or as JSON), return the status. */
static int call_and_print(struct bwctl *c, struct json_object *req, out_text_fn text,
			  const void *ctx)
{
	struct json_object *result;
	int st = bwctl_call(c, req, &result);

	if (st)
		return st;
	out_result(result, text, ctx);
	json_object_put(result);
	return BWCTL_EXIT_OK;
}

/* ---- commands on sets of hosts and networks ---------------------------------- */

struct hostcmd {
	const char *list_key;	/* "hosts" or "cidrs" */
	const char *what;	/* "HOST" or "CIDR", for messages */
	unsigned int res_flags; /* BWE_RES_* */
	unsigned int mask;	/* OPT_* */
	bool rate;		/* the last positional is a RATE */
	const char *verb;
	const char *unchanged;
	const char *after; /* words after the address, or NULL */
};

/*
 * Hosts (quarantine, throttle) may be given as MAC addresses or names;
 * networks (block, exempt, allow) only as addresses and CIDRs, so that what
 * is blocked never depends on what a name server answered today.
 */
#define HOSTS (BWE_RES_CIDR_OK | BWCTL_RES_DAEMON)
#define CIDRS BWE_RES_CIDR_OK

#define HOSTCMD(key, res, opts, ...) \
	{ \
		.list_key = key, .what = (res) == HOSTS ? "HOST" : "CIDR", .res_flags = res, \
		.mask = opts, __VA_ARGS__ \
	}

static const struct hostcmd
	hc_quarantine =
		HOSTCMD("hosts", HOSTS, OPT_TTL | OPT_REASON | OPT_FORCE | OPT_PREFIX64 | OPT_LOCAL,
			.verb = "quarantined", .unchanged = "already quarantined"),
	hc_release = HOSTCMD("hosts", HOSTS, OPT_REASON, .verb = "released",
			     .unchanged = "not quarantined"),
	hc_throttle = HOSTCMD("hosts", HOSTS,
			      OPT_BURST | OPT_TTL | OPT_REASON | OPT_FORCE | OPT_LOCAL,
			      .rate = true, .verb = "throttled", .unchanged = "unchanged"),
	hc_unthrottle = HOSTCMD("hosts", HOSTS, OPT_REASON, .verb = "unthrottled",
				.unchanged = "not throttled"),
	hc_block = HOSTCMD("cidrs", CIDRS, OPT_TTL | OPT_REASON | OPT_LOCAL, .verb = "blocked",
			   .unchanged = "already blocked"),
	hc_unblock = HOSTCMD("cidrs", CIDRS, OPT_REASON, .verb = "unblocked",
			     .unchanged = "not blocked"),
	hc_exempt = HOSTCMD("cidrs", CIDRS, OPT_TTL | OPT_REASON | OPT_LOCAL, .verb = "exempted",
			    .unchanged = "already exempt"),
	hc_unexempt = HOSTCMD("cidrs", CIDRS, OPT_REASON, .verb = "removed",
			      .after = " from the exemptions", .unchanged = "not exempt"),
	hc_allow = HOSTCMD("cidrs", CIDRS, OPT_TTL | OPT_REASON | OPT_LOCAL, .verb = "allowlisted",
			   .unchanged = "already allowlisted"),
	hc_unallow = HOSTCMD("cidrs", CIDRS, OPT_REASON, .verb = "removed",
			     .after = " from the allowlist", .unchanged = "not allowlisted");

/* throttle with one positional: say whether the HOST or the RATE is missing. */
static int throttle_missing(const struct bwctl *c, const struct opts *o)
{
	__u64 bps;

	if (o->npos == 0)
		return bwctl_usage_error(c, "missing HOST and RATE");
	if (!bwe_rate_parse(o->pos[0], &bps))
		return bwctl_usage_error(c, "missing HOST (before the RATE)");
	return bwctl_usage_error(c, "missing RATE (the last argument, e.g. 10mbit)");
}

static int run_hostcmd(struct bwctl *c, int argc, char **argv)
{
	const struct hostcmd *hc = c->cmd->desc;
	struct render_changed r = {
		.verb = hc->verb,
		.unchanged = hc->unchanged,
		.after = hc->after,
		.show_rate = hc->rate,
		.show_expiry = hc->mask & OPT_TTL,
	};
	struct json_object *req, *list;
	__u64 ttl = 0, rate = 0, burst = 0;
	struct opts o;
	int st, nhosts;

	st = opts_parse(c, argc, argv, hc->mask, &o);
	if (st != OPTS_CONTINUE)
		return st;
	nhosts = o.npos - (hc->rate ? 1 : 0);
	if (hc->rate && o.npos < 2)
		return throttle_missing(c, &o);
	if ((st = opts_npos(c, &o, 1, -1, hc->what)) != OPTS_CONTINUE)
		return st;

	/* cheap checks first: a name lookup should not precede a typo's error */
	if (hc->rate && (st = opt_rate(c, o.pos[o.npos - 1], &rate)) != OPTS_CONTINUE)
		return st;
	if (opt_set(&o, OPT_BURST) &&
	    (st = opt_burst(c, opt_val(&o, OPT_BURST), &burst)) != OPTS_CONTINUE)
		return st;
	if (opt_set(&o, OPT_TTL) && (st = opt_ttl(c, opt_val(&o, OPT_TTL), &ttl)) != OPTS_CONTINUE)
		return st;
	if (opt_set(&o, OPT_REASON) &&
	    (st = opt_reason(c, opt_val(&o, OPT_REASON))) != OPTS_CONTINUE)
		return st;
	if ((st = opt_hosts(c, o.pos, nhosts, hc->res_flags, &list)) != OPTS_CONTINUE)
		return st;

	req = bwctl_request(c, c->cmd->name);
	r.sent = list;
	json_object_object_add(req, hc->list_key, json_object_get(list));
	if (hc->rate)
		json_object_object_add(req, "rate", json_object_new_uint64(rate));
	if (opt_set(&o, OPT_BURST))
		json_object_object_add(req, "burst", json_object_new_uint64(burst));
	if (opt_set(&o, OPT_TTL))
		json_object_object_add(req, "ttl", json_object_new_uint64(ttl));
	if (opt_set(&o, OPT_REASON))
		json_object_object_add(req, "reason",
				       json_object_new_string(opt_val(&o, OPT_REASON)));
	if (opt_set(&o, OPT_FORCE))
		json_object_object_add(req, "force", json_object_new_boolean(1));
	if (opt_set(&o, OPT_PREFIX64))
		json_object_object_add(req, "prefix64", json_object_new_boolean(1));
	if (opt_set(&o, OPT_LOCAL))
		json_object_object_add(req, "local", json_object_new_boolean(1));
	st = call_and_print(c, req, render_changed, &r);
	json_object_put(list);
	return st;
}

/* ---- status, stats, list ------------------------------------------------------- */

/* A command with no arguments and a result of its own shape. */
struct plaincmd {
	const char *proto;
	out_text_fn text;
};

static const struct plaincmd pc_status = { "status", out_text_generic };
static const struct plaincmd pc_stats = { "stats", render_stats };

static int run_plain(struct bwctl *c, int argc, char **argv)
{
	const struct plaincmd *pc = c->cmd->desc;
	struct opts o;
	int st = opts_parse(c, argc, argv, 0, &o);

	if (st != OPTS_CONTINUE)
		return st;
	if ((st = opts_npos(c, &o, 0, 0, "")) != OPTS_CONTINUE)
		return st;
	return call_and_print(c, bwctl_request(c, pc->proto), pc->text, NULL);
}

static const char *const list_kinds[] = {
	"quarantine", "throttle", "blocks", "exempt", "allow", NULL,
};

static int run_list(struct bwctl *c, int argc, char **argv)
{
	struct json_object *req;
	struct opts o;
	int st = opts_parse(c, argc, argv, 0, &o);

	if (st != OPTS_CONTINUE)
		return st;
	if ((st = opts_npos(c, &o, 1, 1,
			    "what to list (quarantine, throttle, blocks, exempt or allow)")) !=
	    OPTS_CONTINUE)
		return st;
	if ((st = opt_choice(c, "kind", o.pos[0], list_kinds)) != OPTS_CONTINUE)
		return st;
	req = bwctl_request(c, "list");
	json_object_object_add(req, "kind", json_object_new_string(o.pos[0]));
	return call_and_print(c, req, render_list, o.pos[0]);
}

/* ---- lookup, report ------------------------------------------------------------------ */

/* One address in, key = that address out. */
struct addrcmd {
	const char *proto;
	const char *key; /* "address" or "host" */
	out_text_fn text;
};

static const struct addrcmd ac_lookup = { "lookup", "address", render_lookup };
static const struct addrcmd ac_report = { "report", "host", out_text_generic };

/* scope HOST|ADDRESS [--since DUR] [--local]: who else, at every site of a fleet? */
static int run_scope(struct bwctl *c, int argc, char **argv)
{
	char addr[BWE_HOSTNAME_MAX + 2];
	struct json_object *req;
	__u64 since = 0;
	struct opts o;
	int st = opts_parse(c, argc, argv, OPT_SINCE | OPT_LOCAL, &o);

	if (st != OPTS_CONTINUE)
		return st;
	if ((st = opts_npos(c, &o, 1, 1, "HOST or ADDRESS")) != OPTS_CONTINUE)
		return st;
	if (opt_set(&o, OPT_SINCE) &&
	    (st = opt_since(c, opt_val(&o, OPT_SINCE), &since)) != OPTS_CONTINUE)
		return st;
	st = opt_one_host(c, o.pos[0], addr, sizeof(addr));
	if (st != OPTS_CONTINUE)
		return st;
	req = bwctl_request(c, "scope");
	json_object_object_add(req, "host", json_object_new_string(addr));
	if (since)
		json_object_object_add(req, "since", json_object_new_int64((int64_t)since));
	if (opt_set(&o, OPT_LOCAL))
		json_object_object_add(req, "local", json_object_new_boolean(1));
	return call_and_print(c, req, render_scope, addr);
}

static int run_addr(struct bwctl *c, int argc, char **argv)
{
	const struct addrcmd *ac = c->cmd->desc;
	char addr[BWE_HOSTNAME_MAX + 2]; /* an address, a MAC address or a host name */
	struct json_object *req;
	struct opts o;
	int st = opts_parse(c, argc, argv, ac == &ac_report ? OPT_LOCAL : 0, &o);

	if (st != OPTS_CONTINUE)
		return st;
	if ((st = opts_npos(c, &o, 1, 1, ac == &ac_lookup ? "ADDRESS" : "HOST")) != OPTS_CONTINUE)
		return st;
	/* the daemon resolves a MAC address or a name */
	st = opt_one_host(c, o.pos[0], addr, sizeof(addr));
	if (st != OPTS_CONTINUE)
		return st;
	req = bwctl_request(c, ac->proto);
	json_object_object_add(req, ac->key, json_object_new_string(addr));
	if (opt_set(&o, OPT_LOCAL)) /* report: its other_hosts_same_peers from this site only */
		json_object_object_add(req, "local", json_object_new_boolean(1));
	return call_and_print(c, req, ac->text, addr);
}

/* ---- attach, detach ----------------------------------------------------------------- */

static const char *const attach_modes[] = { "native", "generic", "auto", NULL };

static int run_attach(struct bwctl *c, int argc, char **argv)
{
	struct json_object *req;
	struct opts o;
	int st = opts_parse(c, argc, argv, OPT_MODE, &o);

	if (st != OPTS_CONTINUE)
		return st;
	if ((st = opts_npos(c, &o, 1, 1, "IFACE")) != OPTS_CONTINUE)
		return st;
	if ((st = opt_iface(c, o.pos[0])) != OPTS_CONTINUE)
		return st;
	if (opt_set(&o, OPT_MODE) &&
	    (st = opt_choice(c, "--mode", opt_val(&o, OPT_MODE), attach_modes)) != OPTS_CONTINUE)
		return st;
	req = bwctl_request(c, "attach");
	json_object_object_add(req, "iface", json_object_new_string(o.pos[0]));
	if (opt_set(&o, OPT_MODE))
		json_object_object_add(req, "mode", json_object_new_string(opt_val(&o, OPT_MODE)));
	return call_and_print(c, req, render_attach, o.pos[0]);
}

static const struct render_names rn_detached = {
	"detached",
	"detached",
	"no interface was attached",
};

static int run_detach(struct bwctl *c, int argc, char **argv)
{
	struct json_object *req;
	struct opts o;
	int st = opts_parse(c, argc, argv, 0, &o);

	if (st != OPTS_CONTINUE)
		return st;
	if ((st = opts_npos(c, &o, 0, 1, "")) != OPTS_CONTINUE)
		return st;
	if (o.npos && (st = opt_iface(c, o.pos[0])) != OPTS_CONTINUE)
		return st;
	req = bwctl_request(c, "detach");
	if (o.npos)
		json_object_object_add(req, "iface", json_object_new_string(o.pos[0]));
	return call_and_print(c, req, render_names, &rn_detached);
}

/* ---- feeds ------------------------------------------------------------------------- */

static const struct render_names rn_refreshed = {
	"refreshed",
	"refreshed",
	"no feed was refreshed",
};

static int run_feeds(struct bwctl *c, int argc, char **argv)
{
	struct json_object *req;
	struct opts o;
	int st = opts_parse(c, argc, argv, 0, &o);

	if (st != OPTS_CONTINUE)
		return st;
	if (!o.npos)
		return call_and_print(c, bwctl_request(c, "feeds"), out_text_generic, NULL);
	if (strcmp(o.pos[0], "refresh")) {
		char q[80];

		out_safe(o.pos[0], q, sizeof(q));
		return bwctl_usage_error(c, "unknown subcommand \"%s\" (only \"refresh\")", q);
	}
	if ((st = opts_npos(c, &o, 1, 2, "")) != OPTS_CONTINUE)
		return st;
	if (o.npos == 2 && (st = opt_feed_name(c, o.pos[1])) != OPTS_CONTINUE)
		return st;
	req = bwctl_request(c, "feeds_refresh");
	if (o.npos == 2)
		json_object_object_add(req, "name", json_object_new_string(o.pos[1]));
	return call_and_print(c, req, render_names, &rn_refreshed);
}

static int run_fleet(struct bwctl *c, int argc, char **argv)
{
	struct opts o;
	int st = opts_parse(c, argc, argv, 0, &o);
	char q[80];

	if (st != OPTS_CONTINUE)
		return st;
	if ((st = opts_npos(c, &o, 1, 1, "a subcommand (status)")) != OPTS_CONTINUE)
		return st;
	if (strcmp(o.pos[0], "status")) {
		out_safe(o.pos[0], q, sizeof(q));
		return bwctl_usage_error(c, "unknown subcommand \"%s\" (only \"status\")", q);
	}
	return call_and_print(c, bwctl_request(c, "fleet_status"), render_fleet, NULL);
}

/* ---- token ------------------------------------------------------------------------ */

/* "read,contain" from a JSON array of scope names. */
static void scopes_text(struct json_object *a, char *buf, size_t len)
{
	size_t k;

	buf[0] = '\0';
	for (k = 0; k < json_object_array_length(a); k++) {
		char one[32];

		out_safe(json_object_get_string(json_object_array_get_idx(a, k)), one, sizeof(one));
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", k ? "," : "", one);
	}
}

/* bwctl token add: the token, once, and how to use it. */
static void render_token_add(FILE *f, struct json_object *result, const void *ctx)
{
	char name[80], tok[128], scopes[64];

	(void)ctx;
	out_safe(json_object_get_string(out_get(result, "name")), name, sizeof(name));
	out_safe(json_object_get_string(out_get(result, "token")), tok, sizeof(tok));
	scopes_text(out_get(result, "scopes"), scopes, sizeof(scopes));
	fprintf(f,
		"API token %s (scopes %s):\n\n    %s\n\n"
		"Keep it now: it is not shown again (bwctld keeps only a salted hash).\n"
		"Send it as \"Authorization: Bearer TOKEN\".\n",
		name, scopes, tok);
}

static void render_token_list(FILE *f, struct json_object *result, const void *ctx)
{
	size_t i, n = json_object_array_length(result);

	(void)ctx;
	if (!n) {
		fprintf(f, "no API tokens\n");
		return;
	}
	fprintf(f, "%-32s  %-28s  %-20s  %s\n", "NAME", "SCOPES", "CREATED", "LAST USED");
	for (i = 0; i < n; i++) {
		struct json_object *o = json_object_array_get_idx(result, i);
		char name[80], scopes[64], created[40], used[40];

		scopes_text(out_get(o, "scopes"), scopes, sizeof(scopes));
		out_safe(json_object_get_string(out_get(o, "name")), name, sizeof(name));
		out_scalar(out_get(o, "created"), created, sizeof(created));
		out_scalar(out_get(o, "last_used"), used, sizeof(used));
		fprintf(f, "%-32s  %-28s  %-20s  %s\n", name, scopes, created,
			json_object_get_type(out_get(o, "last_used")) == json_type_null ? "never"
											: used);
	}
}

static const struct render_names rn_revoked = { "revoked", "revoked API token", "" };

/* NAME as the daemon takes it. */
static int opt_token_name(const struct bwctl *c, const char *s)
{
	char q[80];

	if (bwe_token_name_ok(s))
		return OPTS_CONTINUE;
	out_safe(s, q, sizeof(q));
	return bwctl_usage_error(c, "token name \"%s\" must be 1..%d of A-Z a-z 0-9 _ . -", q,
				 BWE_TOKEN_NAME_MAX);
}

/* "read,contain" -> ["read", "contain"]; every name known, none twice. */
static int opt_scopes(const struct bwctl *c, const char *text, struct json_object **out)
{
	char buf[256], *save = NULL, *tok, q[80];
	__u32 seen = 0, bit;

	if (!text || strlen(text) >= sizeof(buf) || !*text)
		return bwctl_usage_error(c, "--scopes needs a list: read,contain,block,admin");
	snprintf(buf, sizeof(buf), "%s", text);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		bit = bwe_scope_bit(tok);
		out_safe(tok, q, sizeof(q));
		if (!bit)
			return bwctl_usage_error(c,
						 "unknown scope \"%s\" (read, contain, block or admin)",
						 q);
		if (seen & bit)
			return bwctl_usage_error(c, "scope \"%s\" is given twice", q);
		seen |= bit;
	}
	if (!seen)
		return bwctl_usage_error(c, "--scopes needs a list: read,contain,block,admin");
	*out = bwe_scopes_json(seen);
	return OPTS_CONTINUE;
}

static int run_token(struct bwctl *c, int argc, char **argv)
{
	struct json_object *req, *scopes = NULL;
	struct opts o;
	char q[80];
	int st = opts_parse(c, argc, argv, OPT_SCOPES, &o);

	if (st != OPTS_CONTINUE)
		return st;
	if (!o.npos)
		return bwctl_usage_error(c, "missing add, list or revoke");
	if (!strcmp(o.pos[0], "list")) {
		if ((st = opts_npos(c, &o, 1, 1, "")) != OPTS_CONTINUE)
			return st;
		if (opt_set(&o, OPT_SCOPES))
			return bwctl_usage_error(c, "list takes no --scopes");
		return call_and_print(c, bwctl_request(c, "token_list"), render_token_list, NULL);
	}
	if (!strcmp(o.pos[0], "add") || !strcmp(o.pos[0], "revoke")) {
		bool add = !strcmp(o.pos[0], "add");

		if ((st = opts_npos(c, &o, 2, 2, "NAME")) != OPTS_CONTINUE)
			return st;
		if ((st = opt_token_name(c, o.pos[1])) != OPTS_CONTINUE)
			return st;
		if (add && !opt_set(&o, OPT_SCOPES))
			return bwctl_usage_error(c,
						 "add needs --scopes (read,contain,block,admin)");
		if (!add && opt_set(&o, OPT_SCOPES))
			return bwctl_usage_error(c, "revoke takes no --scopes");
		if (add && (st = opt_scopes(c, opt_val(&o, OPT_SCOPES), &scopes)) != OPTS_CONTINUE)
			return st;
		req = bwctl_request(c, add ? "token_add" : "token_revoke");
		json_object_object_add(req, "name", json_object_new_string(o.pos[1]));
		if (add) {
			json_object_object_add(req, "scopes", scopes);
			return call_and_print(c, req, render_token_add, NULL);
		}
		return call_and_print(c, req, render_names, &rn_revoked);
	}
	out_safe(o.pos[0], q, sizeof(q));
	return bwctl_usage_error(c, "unknown subcommand \"%s\" (add, list or revoke)", q);
}

/* ---- the table --------------------------------------------------------------------- */

const struct bwctl_cmd bwctl_cmds[] = {
	{ "status", run_plain, "", "the daemon, its interfaces and what it enforces", &pc_status },
	{ "stats", run_plain, "", "packets and bytes by verdict reason (--json: also by direction)",
	  &pc_stats },
	{ "quarantine", run_hostcmd,
	  "HOST... [--ttl DUR] [--reason TEXT] [--force] [--prefix64] [--local]",
	  "cut hosts off from everything but exempt networks (HOST: address, MAC or name)",
	  &hc_quarantine },
	{ "release", run_hostcmd, "HOST... [--reason TEXT]", "end the quarantine of hosts",
	  &hc_release },
	{ "throttle", run_hostcmd,
	  "HOST... RATE [--burst SIZE] [--ttl DUR] [--reason TEXT] [--force] [--local]",
	  "limit hosts to RATE each way", &hc_throttle },
	{ "unthrottle", run_hostcmd, "HOST... [--reason TEXT]", "remove the rate limit of hosts",
	  &hc_unthrottle },
	{ "block", run_hostcmd, "CIDR... [--ttl DUR] [--reason TEXT] [--local]",
	  "drop traffic between internal hosts and these networks", &hc_block },
	{ "unblock", run_hostcmd, "CIDR... [--reason TEXT]", "remove manual blocks", &hc_unblock },
	{ "exempt", run_hostcmd, "CIDR... [--ttl DUR] [--reason TEXT] [--local]",
	  "never block or throttle traffic with these networks", &hc_exempt },
	{ "unexempt", run_hostcmd, "CIDR... [--reason TEXT]", "remove exemptions", &hc_unexempt },
	{ "allow", run_hostcmd, "CIDR... [--ttl DUR] [--reason TEXT] [--local]",
	  "pass all traffic of these networks (allowlist)", &hc_allow },
	{ "unallow", run_hostcmd, "CIDR... [--reason TEXT]", "remove allowlist entries",
	  &hc_unallow },
	{ "list", run_list, "quarantine|throttle|blocks|exempt|allow",
	  "show the entries of one set", NULL },
	{ "top", cmd_top, "[-n N] [--sort tx|rx|drops|rate] [--once] [--interval SEC]",
	  "the busiest internal hosts, live", NULL },
	{ "lookup", run_addr, "ADDRESS", "what the enforcer does with an address, and why",
	  &ac_lookup },
	{ "report", run_addr, "HOST [--local]", "everything known about one internal host",
	  &ac_report },
	{ "scope", run_scope, "HOST|ADDRESS [--since DUR] [--local]",
	  "who else: hosts with the same listed peers or the same signals", NULL },
	{ "attach", run_attach, "IFACE [--mode native|generic|auto]",
	  "attach the XDP program to an interface", NULL },
	{ "detach", run_detach, "[IFACE]", "detach from one interface, or from all", NULL },
	{ "feeds", run_feeds, "[refresh [NAME]]", "threat-intel feeds; refresh one or all now",
	  NULL },
	{ "export", bwctl_run_export,
	  "[--format plain|zeek-intel|stix|json] [--set blocks|quarantine|feeds] [--feed NAME] "
	  "[-o FILE]",
	  "what is enforced now, with provenance: an EDL, a Zeek intel file, STIX, JSON", NULL },
	{ "fleet", run_fleet, "status",
	  "the fleet on etcd: this site's link, the other sites, their feeds", NULL },
	{ "token", run_token, "add NAME --scopes read,contain,block,admin | list | revoke NAME",
	  "HTTP API tokens (admin only): make one (shown once), list, revoke", NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};
