/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ops.h - the one transaction every change to operator state goes through
 * (layer 3), whoever asks: a bwctl command, a detection rule, a TTL expiry,
 * later the HTTP API and the fleet.
 *
 * A change is: validate (the same guards for every actor) -> apply to the
 * store -> save the state file (atomic, fsync'ed) -> enforce in the maps ->
 * log one event per entry with the actor and reason -> notify the
 * observers. A failure at any step leaves memory, disk and kernel as they
 * were and says why in err; nothing is logged as done that was not done.
 *
 * Observers (the detector, later metrics and the fleet) learn of every
 * change and every blocklist hit without the sources knowing them.
 */
#ifndef BWCTLD_OPS_H
#define BWCTLD_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include <json-c/json.h>

#include "actor.h"
#include "blocklist.h"
#include "config.h"
#include "enforce.h"
#include "events.h"
#include "neighwatch.h"
#include "store.h"

#define OPS_ITEMS_MAX	     4096 /* prefixes in one change */
/* allow and exempt entries: at most as wide as a block (blocklist.h), whoever asks */
#define OPS_OPEN_V4_MIN_PLEN BWE_BL_V4_MIN_PLEN
#define OPS_OPEN_V6_MIN_PLEN BWE_BL_V6_MIN_PLEN
#define OPS_OBSERVERS_MAX    8
#define OPS_ERR_LEN	     768 /* a comfortable err buffer */

enum op_verb { OP_ADD = 0, OP_DEL };

struct op_request {
	const char *action; /* the event's action: "quarantine", "release", ... */
	enum op_verb verb;
	enum st_kind kind;
	const struct actor *who;
	const struct bwe_prefix *pfx; /* n prefixes, host bits clear */
	size_t n;
	const char *reason;	      /* NULL: none (ADD), unchanged (DEL) */
	__u64 ttl_s;		      /* ADD: 0 never expires */
	__u64 rate, burst;	      /* ADD throttle: bytes/s (required), bytes (0: default) */
	bool force;		      /* operator, API or fleet only: pass the allowlist,
					 * exempt, gateway and router guards */
	struct json_object *annotate; /* extra event fields by dotted path; not consumed */
	/*
	 * Containment keyed on the host (quarantine, throttle and their undo;
	 * docs/operations.md, "Containing a host by identity"). With ident, a
	 * host address whose neighbour entry has a MAC address (not a
	 * router's: identity.router_addresses) is contained by that MAC
	 * address with every internal address the neighbour table has for it;
	 * releasing any address of such a host releases the host. macs are
	 * hosts given by MAC address (n may then be 0).
	 */
	bool ident;
	const __u8 (*macs)[BWE_MAC_LEN];
	size_t nmacs;
	bool prefix64; /* ADD: an IPv6 address of a host by MAC stands for its /64 */
	/* ADD with one MAC address: addresses given for that host (a fleet record's) */
	const struct bwe_addr *mac_addrs;
	size_t n_mac_addrs;
	bool local; /* ADD: the entries never leave this site (fleet) */
};

/* A blocklist contact the data plane reported (ring buffer). */
struct ops_hit {
	struct bwe_addr host, peer;
	__u8 ref;
	bool outbound;
	const char *feed;      /* "manual", a feed name, or NULL */
	const char *entry;     /* the listed prefix, text; NULL unknown */
	const char *indicator; /* indicator id or domain; NULL none */
};

/* A new outbound contact of a sampled pair (BWE_EV_CONTACT: beacon signal). */
struct ops_contact {
	struct bwe_addr host, peer;
	__u16 dport; /* host byte order */
	__u8 proto;  /* IPPROTO_TCP, IPPROTO_UDP */
	__u64 ts_ns; /* the data plane's clock (CLOCK_MONOTONIC) */
};

struct ops_observer {
	/* e as it is now (ADD) or was (DEL); who made the change. */
	void (*changed)(void *ctx, const char *action, enum op_verb verb, const struct st_entry *e,
			const struct actor *who);
	void (*hit)(void *ctx, const struct ops_hit *h);
	/* The same for a host record (containment by MAC address); NULL: not told. */
	void (*host_changed)(void *ctx, const char *action, enum op_verb verb,
			     const struct st_entry *h, const struct actor *who);
	void (*contact)(void *ctx, const struct ops_contact *c); /* NULL: not told */
	void *ctx;
};

struct ops;

int ops_new(struct ops **out, const struct bwe_cfgfile *cfg, struct st_store *st,
	    struct enforcer *enf, struct evlog *log);
void ops_free(struct ops *o); /* NULL-safe */
void ops_set_config(struct ops *o, const struct bwe_cfgfile *cfg);
int ops_observe(struct ops *o, const struct ops_observer *obs);

/* Read the state file of state_dir (created if missing) into the store. */
int ops_load(struct ops *o);
/*
 * The transaction. 0: done, *changed (when not NULL) the entries as
 * recorded. Else nothing changed and err says why: -EINVAL a guard refused
 * (bad input), -EPERM an operator's entry a rule may not replace, -ENOENT
 * nothing to remove, -errno a failed save or map update (rolled back).
 */
int ops_apply(struct ops *o, const struct op_request *r, struct json_object **changed, char *err,
	      size_t errlen);
/* Remove every entry whose TTL has run out, as one transaction (actor: expiry). */
int ops_expire(struct ops *o, time_t now);
/* Tell the observers of a blocklist contact. */
void ops_hit(struct ops *o, const struct ops_hit *h);
/* Tell the observers of a new contact (no event-log line: they are many). */
void ops_contact(struct ops *o, const struct ops_contact *c);

/* The neighbour view the identity guards and lookups read; NULL: none (by address only). */
void ops_set_neighbours(struct ops *o, const struct bwe_neighwatch *nw);
/*
 * An address seen with a MAC address (the neighbour table, or a frame's
 * source: BWE_EV_MAC_ADDR): when a host contained by that MAC address
 * lacks it, it joins the host's containment through the transaction
 * (actor: the daemon, "learned" from source), within identity.max_learnt
 * and the same guards as any address (never an exempt, allowlisted or
 * gateway address, nothing outside internal_networks); from traffic, never
 * an address the neighbour view gives to another MAC address (a spoofed
 * source stays its owner's). Returns 1 when
 * something was added, 0 when nothing was to be done, -errno when it was
 * refused or failed (logged; the first refusal past the bound is one
 * identity-learn-refused event).
 */
int ops_learn(struct ops *o, const __u8 mac[BWE_MAC_LEN], const struct bwe_addr *a,
	      enum st_learnt source);

#endif /* BWCTLD_OPS_H */
