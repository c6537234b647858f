/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * opts.h - a command's options and the checks of its input. Every check
 * happens before anything is sent, so bad input changes nothing.
 *
 * Each check returns -1 (OPTS_CONTINUE: the input is good) or the exit
 * status to end with, having said on stderr exactly what was wrong
 * ("bwctl: quarantine: --ttl \"400d\": TTL too long (the limit is 365d)").
 */
#ifndef BWCTL_OPTS_H
#define BWCTL_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include <json-c/json.h>

#include "bwctl.h"

#define OPTS_CONTINUE (-1)

/*
 * Longest "reason" text in bytes. The daemon enforces its own limit; the
 * client checks first so that a long text is refused before anything is
 * sent. (Proposed for lib/proto.h as BWE_PROTO_REASON_MAX.)
 */
#ifndef BWE_PROTO_REASON_MAX
#define BWE_PROTO_REASON_MAX 256
#endif

/* Options a command may take; -h/--help and -j/--json are always allowed. */
enum opt_bit {
	OPT_TTL = 1 << 0,	/* --ttl DUR */
	OPT_REASON = 1 << 1,	/* --reason TEXT */
	OPT_FORCE = 1 << 2,	/* --force */
	OPT_BURST = 1 << 3,	/* --burst SIZE */
	OPT_MODE = 1 << 4,	/* --mode native|generic|auto */
	OPT_COUNT = 1 << 5,	/* -n N */
	OPT_SORT = 1 << 6,	/* --sort KEY */
	OPT_ONCE = 1 << 7,	/* --once */
	OPT_INTERVAL = 1 << 8,	/* --interval SEC */
	OPT_SCOPES = 1 << 9,	/* --scopes read,contain,block,admin */
	OPT_PREFIX64 = 1 << 10, /* --prefix64 */
	OPT_LOCAL = 1 << 11,	/* --local */
	OPT_SINCE = 1 << 12,	/* --since DUR */
	OPT_NBITS = 13,
};

struct opts {
	const char *val[OPT_NBITS]; /* the text of each option with a value */
	bool set[OPT_NBITS];	    /* given (flags and valued options) */
	char **pos;		    /* positional arguments */
	int npos;
};

/* Index of a single opt_bit in opts.val/opts.set. */
int opt_idx(unsigned int bit);

static inline const char *opt_val(const struct opts *o, unsigned int bit)
{
	return o->val[opt_idx(bit)];
}

static inline bool opt_set(const struct opts *o, unsigned int bit)
{
	return o->set[opt_idx(bit)];
}

/*
 * Parse argv (argv[0] is the command's name) allowing the options in mask.
 * --json after the command sets c->json too. -h prints the command's
 * synopsis and ends with 0.
 */
int opts_parse(struct bwctl *c, int argc, char **argv, unsigned int mask, struct opts *o);

/* Exactly min..max positionals (max < 0: no limit); names what is missing. */
int opts_npos(const struct bwctl *c, const struct opts *o, int min, int max, const char *what);

int opt_ttl(const struct bwctl *c, const char *text, __u64 *secs);
/* --since DUR: 1s..BWE_PROTO_SCOPE_SINCE_MAX. */
int opt_since(const struct bwctl *c, const char *text, __u64 *secs);
int opt_reason(const struct bwctl *c, const char *text);
int opt_rate(const struct bwctl *c, const char *text, __u64 *bytes_per_sec);
int opt_burst(const struct bwctl *c, const char *text, __u64 *bytes);
/* value must be one of choices (NULL-terminated); opt names the option. */
int opt_choice(const struct bwctl *c, const char *opt, const char *value,
	       const char *const *choices);
/* A network interface name as the kernel accepts it. */
int opt_iface(const struct bwctl *c, const char *name);
/* A feed name: letters, digits, '_', '-', '.', at most 64 bytes. */
int opt_feed_name(const struct bwctl *c, const char *name);

/* opt_hosts(): MAC addresses and host names are hosts too, for the daemon to resolve. */
#define BWCTL_RES_DAEMON (1u << 16) /* beside lib/resolve.h's BWE_RES_* flags */

/*
 * HOST or CIDR arguments into a new JSON array of strings, duplicates
 * dropped, in argument order. Addresses and CIDRs are checked here
 * (lib/resolve.h, flags BWE_RES_*) and sent in their canonical form; with
 * BWCTL_RES_DAEMON (hosts) a MAC address or a host name is sent as it is,
 * for the daemon to resolve with its own neighbour view and resolver.
 */
int opt_hosts(const struct bwctl *c, char *const *args, int n, unsigned int flags,
	      struct json_object **arr);
/* One HOST for the daemon to resolve: an address, a MAC address or a host name (text in buf). */
int opt_one_host(const struct bwctl *c, const char *arg, char *buf, size_t len);

#endif /* BWCTL_OPTS_H */
