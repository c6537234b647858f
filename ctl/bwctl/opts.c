// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * opts.c - command options and input checks; the contract is in opts.h.
 */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bwe_util.h"
#include "addr.h"
#include "log.h"
#include "proto.h"
#include "resolve.h"
#include "units.h"
#include "output.h"
#include "opts.h"

#define LONG_VAL_BASE 256 /* getopt_long val of option i: base + i */
#define QUOTE_LEN     80  /* bytes of user text quoted in a message */
#define WHY_LEN	      512
#define FEED_NAME_MAX 64

/* Every command option; which ones a command takes is its mask. */
static const struct optdef {
	unsigned int bit;
	const char *name; /* long name, NULL for short-only */
	char shortc;	  /* 0: long only */
	bool has_arg;
} optdefs[] = {
	{ OPT_TTL, "ttl", 0, true },
	{ OPT_REASON, "reason", 0, true },
	{ OPT_FORCE, "force", 0, false },
	{ OPT_BURST, "burst", 0, true },
	{ OPT_MODE, "mode", 0, true },
	{ OPT_COUNT, NULL, 'n', true },
	{ OPT_SORT, "sort", 0, true },
	{ OPT_ONCE, "once", 0, false },
	{ OPT_INTERVAL, "interval", 0, true },
	{ OPT_SCOPES, "scopes", 0, true },
	{ OPT_PREFIX64, "prefix64", 0, false },
	{ OPT_LOCAL, "local", 0, false },
	{ OPT_SINCE, "since", 0, true },
};

enum { VAL_HELP = 'h', VAL_JSON = 'j' };

int opt_idx(unsigned int bit)
{
	return __builtin_ctz(bit);
}

/* "--ttl" or "-n" */
static void opt_display(const struct optdef *d, char *buf, size_t len)
{
	if (d->name)
		snprintf(buf, len, "--%s", d->name);
	else
		snprintf(buf, len, "-%c", d->shortc);
}

static const struct optdef *optdef_by_val(int val)
{
	for (size_t i = 0; i < ARRAY_SIZE(optdefs); i++)
		if (val == (int)(LONG_VAL_BASE + i) ||
		    (optdefs[i].shortc && val == optdefs[i].shortc))
			return &optdefs[i];
	return NULL;
}

/* "--force=yes": a known option without a value, given one. */
static const struct optdef *flag_with_value(const char *arg, unsigned int mask)
{
	const char *eq = strchr(arg, '=');

	if (strncmp(arg, "--", 2) || !eq)
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(optdefs); i++) {
		const struct optdef *d = &optdefs[i];

		if ((mask & d->bit) && d->name && !d->has_arg &&
		    strlen(d->name) == (size_t)(eq - arg - 2) &&
		    !strncmp(arg + 2, d->name, strlen(d->name)))
			return d;
	}
	return NULL;
}

int opts_parse(struct bwctl *c, int argc, char **argv, unsigned int mask, struct opts *o)
{
	struct option longopts[ARRAY_SIZE(optdefs) + 3];
	char shortopts[3 * ARRAY_SIZE(optdefs) + 8] = ":hj";
	size_t nl = 0;
	int ch;

	memset(o, 0, sizeof(*o));
	for (size_t i = 0; i < ARRAY_SIZE(optdefs); i++) {
		const struct optdef *d = &optdefs[i];

		if (!(mask & d->bit))
			continue;
		if (d->name)
			longopts[nl++] =
				(struct option){ d->name,
						 d->has_arg ? required_argument : no_argument, NULL,
						 (int)(LONG_VAL_BASE + i) };
		if (d->shortc) {
			size_t n = strlen(shortopts);

			shortopts[n++] = d->shortc;
			if (d->has_arg)
				shortopts[n++] = ':';
			shortopts[n] = '\0';
		}
	}
	longopts[nl++] = (struct option){ "help", no_argument, NULL, VAL_HELP };
	longopts[nl++] = (struct option){ "json", no_argument, NULL, VAL_JSON };
	longopts[nl] = (struct option){ 0 };

	opterr = 0;
	optind = 0; /* GNU: start over, argv[0] is the command */
	while ((ch = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		const struct optdef *d;
		char name[32];

		switch (ch) {
		case VAL_HELP:
			bwctl_print_synopsis(c->cmd, false);
			return BWCTL_EXIT_OK;
		case VAL_JSON:
			c->json = true;
			out_init(true);
			continue;
		case ':':
			d = optdef_by_val(optopt);
			if (d)
				opt_display(d, name, sizeof(name));
			else
				snprintf(name, sizeof(name), "%s", argv[optind - 1]);
			return bwctl_usage_error(c, "option %s needs a value", name);
		case '?':
			d = flag_with_value(argv[optind - 1], mask);
			if (d)
				return bwctl_usage_error(c, "option --%s takes no value", d->name);
			if (optopt)
				return bwctl_usage_error(c, "unknown option \"-%c\"", optopt);
			return bwctl_usage_error(c, "unknown option \"%s\"", argv[optind - 1]);
		default:
			d = optdef_by_val(ch);
			if (!d)
				return bwctl_usage_error(c, "cannot parse the options");
			opt_display(d, name, sizeof(name));
			if (o->set[opt_idx(d->bit)])
				return bwctl_usage_error(c, "option %s given twice", name);
			o->set[opt_idx(d->bit)] = true;
			o->val[opt_idx(d->bit)] = d->has_arg ? optarg : NULL;
		}
	}
	o->pos = argv + optind;
	o->npos = argc - optind;
	return OPTS_CONTINUE;
}

/* User text for a message: quoted, made safe, cut when long. */
static void quote(const char *s, char *buf, size_t len)
{
	char safe[QUOTE_LEN];
	size_t n = strlen(s);

	out_safe(s, safe, sizeof(safe));
	snprintf(buf, len, "\"%s%s\"", safe, n >= sizeof(safe) - 1 ? "..." : "");
}

int opts_npos(const struct bwctl *c, const struct opts *o, int min, int max, const char *what)
{
	char q[QUOTE_LEN + 8];

	if (o->npos < min)
		return bwctl_usage_error(c, "missing %s", what);
	if (max >= 0 && o->npos > max) {
		quote(o->pos[max], q, sizeof(q));
		return bwctl_usage_error(c, "unexpected argument %s", q);
	}
	return OPTS_CONTINUE;
}

/* ---- values --------------------------------------------------------------- */

int opt_ttl(const struct bwctl *c, const char *text, __u64 *secs)
{
	char q[QUOTE_LEN + 8], max[BWE_DURATION_STRLEN];
	int err = bwe_duration_parse(text, secs);

	quote(text, q, sizeof(q));
	if (err == -ERANGE) {
		bwe_duration_fmt(BWE_DURATION_MAX_S, max, sizeof(max));
		return bwctl_error(c, BWCTL_EXIT_USAGE, "--ttl %s: TTL too long (the limit is %s)",
				   q, max);
	}
	if (err) {
		bool zero = *text && strspn(text, "0") == strlen(text);

		return bwctl_error(
			c, BWCTL_EXIT_USAGE,
			"--ttl %s is not a duration (a whole number with s, m, h or d, e.g. 30m, 12h, 7d)%s",
			q, zero ? "; leave --ttl out for no expiry" : "");
	}
	return OPTS_CONTINUE;
}

int opt_since(const struct bwctl *c, const char *text, __u64 *secs)
{
	char q[QUOTE_LEN + 8], max[BWE_DURATION_STRLEN];
	int err = bwe_duration_parse(text, secs);

	quote(text, q, sizeof(q));
	bwe_duration_fmt(BWE_PROTO_SCOPE_SINCE_MAX, max, sizeof(max));
	if (err || !*secs || *secs > BWE_PROTO_SCOPE_SINCE_MAX)
		return bwctl_error(c, BWCTL_EXIT_USAGE,
				   "--since %s is not a duration from 1s to %s (e.g. 30m, 12h, 7d)",
				   q, max);
	return OPTS_CONTINUE;
}

/* Valid UTF-8 without control characters: out_safe() changes nothing. */
static bool clean_text(const char *s)
{
	size_t len = strlen(s) + 1;
	char *buf = out_xmalloc(len);
	bool same;

	out_safe(s, buf, len);
	same = strcmp(buf, s) == 0;
	free(buf);
	return same;
}

int opt_reason(const struct bwctl *c, const char *text)
{
	size_t len = strlen(text);

	if (!len)
		return bwctl_error(c, BWCTL_EXIT_USAGE, "--reason is empty");
	if (len > BWE_PROTO_REASON_MAX)
		return bwctl_error(c, BWCTL_EXIT_USAGE,
				   "--reason is %zu bytes long; the limit is %d", len,
				   BWE_PROTO_REASON_MAX);
	if (!clean_text(text))
		return bwctl_error(
			c, BWCTL_EXIT_USAGE,
			"--reason must be UTF-8 text without control characters (newlines, tabs, escapes)");
	return OPTS_CONTINUE;
}

int opt_rate(const struct bwctl *c, const char *text, __u64 *bytes_per_sec)
{
	char q[QUOTE_LEN + 8];
	int err = bwe_rate_parse(text, bytes_per_sec);

	quote(text, q, sizeof(q));
	if (err == -ERANGE)
		return bwctl_error(c, BWCTL_EXIT_USAGE, "rate %s is out of range (8bit to 100gbit)",
				   q);
	if (err) {
		const char *bps = strstr(text, "bps");

		return bwctl_error(c, BWCTL_EXIT_USAGE,
				   "%s is not a rate (e.g. 10mbit, 500kbit, 2MB/s)%s", q,
				   bps ? "; \"bps\" is ambiguous: write bit (bits) or B/s (bytes)"
				       : "");
	}
	return OPTS_CONTINUE;
}

int opt_burst(const struct bwctl *c, const char *text, __u64 *bytes)
{
	char q[QUOTE_LEN + 8];
	int err = bwe_size_parse(text, bytes);

	quote(text, q, sizeof(q));
	if (err == -ERANGE)
		return bwctl_error(c, BWCTL_EXIT_USAGE, "--burst %s is too large", q);
	if (err)
		return bwctl_error(c, BWCTL_EXIT_USAGE,
				   "--burst %s is not a size in bytes (e.g. 1500, 64KiB, 1M)", q);
	if (!*bytes)
		return bwctl_error(c, BWCTL_EXIT_USAGE, "--burst must be at least 1 byte");
	return OPTS_CONTINUE;
}

int opt_choice(const struct bwctl *c, const char *opt, const char *value,
	       const char *const *choices)
{
	char q[QUOTE_LEN + 8], list[256] = "";
	size_t n = 0;

	for (size_t i = 0; choices[i]; i++) {
		if (!strcmp(value, choices[i]))
			return OPTS_CONTINUE;
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s",
				      i ? (choices[i + 1] ? ", " : " or ") : "", choices[i]);
		if (n >= sizeof(list))
			n = sizeof(list) - 1;
	}
	quote(value, q, sizeof(q));
	return bwctl_usage_error(c, "%s %s is not one of %s", opt, q, list);
}

int opt_iface(const struct bwctl *c, const char *name)
{
	char q[QUOTE_LEN + 8];
	size_t len = strlen(name);

	quote(name, q, sizeof(q));
	if (!len || len >= IFNAMSIZ || !strcmp(name, ".") || !strcmp(name, "..") ||
	    strpbrk(name, "/: \t\n") || !clean_text(name))
		return bwctl_error(
			c, BWCTL_EXIT_USAGE,
			"%s is not an interface name (1 to %d characters, no '/', ':' or spaces)",
			q, IFNAMSIZ - 1);
	return OPTS_CONTINUE;
}

int opt_feed_name(const struct bwctl *c, const char *name)
{
	char q[QUOTE_LEN + 8];
	size_t len = strlen(name);

	quote(name, q, sizeof(q));
	if (!len || len > FEED_NAME_MAX ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") !=
		    len)
		return bwctl_error(c, BWCTL_EXIT_USAGE,
				   "%s is not a feed name (letters, digits, '_', '-', '.', at most %d)",
				   q, FEED_NAME_MAX);
	return OPTS_CONTINUE;
}

/* ---- hosts ---------------------------------------------------------------- */

/* Bad input (2) or a failure to look it up (1). */
static int resolve_status(int err)
{
	return err == -EINVAL || err == -ENOENT ? BWCTL_EXIT_USAGE : BWCTL_EXIT_FAIL;
}

/* Add text to the array a unless it is there already. */
static void add_unique(struct json_object *a, const char *text)
{
	size_t len = json_object_array_length(a), j;

	for (j = 0; j < len; j++)
		if (!strcmp(json_object_get_string(json_object_array_get_idx(a, j)), text))
			return;
	json_object_array_add(a, json_object_new_string(text));
}

/*
 * A HOST the daemon resolves: an address (or CIDR) checked and written in
 * its canonical form, a MAC address in lower case, a host name as given.
 * Returns OPTS_CONTINUE or the exit status after the error.
 */
static int host_arg(const struct bwctl *c, const char *arg, unsigned int flags,
		    struct json_object *a)
{
	char why[WHY_LEN], text[BWE_PREFIX_STRLEN], q[QUOTE_LEN + 8];
	__u8 mac[BWE_MAC_LEN];
	struct bwe_prefix *p;
	struct bwe_addr addr;
	int cnt;

	if (strchr(arg, '/') || !bwe_addr_parse(arg, &addr)) {
		cnt = bwe_resolve_host(arg, flags & ~BWCTL_RES_DAEMON, &p, why, sizeof(why));
		if (cnt < 0)
			return bwctl_error(c, resolve_status(cnt), "%s", why);
		for (int k = 0; k < cnt; k++) {
			bwe_prefix_fmt(&p[k], text, sizeof(text));
			add_unique(a, text);
		}
		free(p);
		return OPTS_CONTINUE;
	}
	if (!bwe_mac_parse(arg, mac)) {
		bwe_mac_fmt(mac, text, sizeof(text));
		add_unique(a, text);
		return OPTS_CONTINUE;
	}
	quote(arg, q, sizeof(q));
	if (bwe_looks_like_address(arg) || !bwe_looks_like_hostname(arg))
		return bwctl_error(c, BWCTL_EXIT_USAGE,
				   "%s is not an IPv4/IPv6 address, %sMAC address or host name", q,
				   flags & BWE_RES_CIDR_OK ? "CIDR, " : "");
	add_unique(a, arg);
	return OPTS_CONTINUE;
}

int opt_hosts(const struct bwctl *c, char *const *args, int n, unsigned int flags,
	      struct json_object **arr)
{
	struct json_object *a = json_object_new_array();

	*arr = NULL;
	if (!a)
		fatalx("out of memory");
	for (int i = 0; i < n; i++) {
		struct bwe_prefix *p;
		char why[WHY_LEN];
		int cnt, st;

		if (flags & BWCTL_RES_DAEMON) { /* hosts: the daemon resolves MACs and names */
			st = host_arg(c, args[i], flags, a);
			if (st != OPTS_CONTINUE) {
				json_object_put(a);
				return st;
			}
			continue;
		}
		cnt = bwe_resolve_host(args[i], flags, &p, why, sizeof(why));
		if (cnt < 0) {
			json_object_put(a);
			return bwctl_error(c, resolve_status(cnt), "%s", why);
		}
		for (int k = 0; k < cnt; k++) {
			char text[BWE_PREFIX_STRLEN];

			bwe_prefix_fmt(&p[k], text, sizeof(text));
			add_unique(a, text);
		}
		free(p);
	}
	*arr = a;
	return OPTS_CONTINUE;
}

int opt_one_host(const struct bwctl *c, const char *arg, char *buf, size_t len)
{
	struct json_object *a = json_object_new_array();
	int st;

	if (!a)
		fatalx("out of memory");
	st = host_arg(c, arg, BWCTL_RES_DAEMON, a);
	if (st == OPTS_CONTINUE)
		snprintf(buf, len, "%s", json_object_get_string(json_object_array_get_idx(a, 0)));
	json_object_put(a);
	return st;
}
