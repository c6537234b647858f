/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fleet.h - one containment state for many gateways, on etcd v3 (layer 5;
 * docs/fleet.md). Off when the configuration has no fleet block: then
 * every call is a no-op and status says {"enabled": false}.
 *
 * Out: every change the transaction makes (an operator's, the API's, a
 * rule's; not an expiry, not what the daemon learnt on its own, not a
 * --local entry, not what came from the fleet) becomes one record under
 * PREFIX/entries/ (fleetrec.h), queued in state_dir/fleet.json until etcd
 * has it; removals are tombstones. In: every record another site wrote
 * goes through the same transaction with the site as the actor, in etcd's
 * revision order; a record this site is still writing wins over older
 * ones (the same final state at every site); a malformed or refused record
 * changes nothing and is one fleet-entry-refused event. After a
 * compaction, a restart or a long disconnection the site re-reads the
 * prefix and reconciles (fleet-resync). etcd unreachable: nothing of the
 * local state changes (fail static), fleet-detached says so.
 */
#ifndef BWCTLD_FLEET_H
#define BWCTLD_FLEET_H

#include <stdbool.h>
#include <time.h>
#include <sys/epoll.h>
#include <json-c/json.h>

#include "config.h"
#include "events.h"
#include "fleetrec.h"
#include "feeds.h"
#include "feedstore.h"
#include "ops.h"
#include "store.h"

struct fleet_deps {
	const struct bwe_cfgfile *cfg;
	struct ops *ops;
	const struct st_store *st;
	struct evlog *log;
	struct feeds *feeds;	    /* feed status in the heartbeat; NULL none */
	const struct fstore *store; /* feed versions; NULL none */
};

struct fleet;

/* Start (the worker too when the configuration has a fleet). */
int fleet_new(struct fleet **out, const struct fleet_deps *d);
void fleet_free(struct fleet *f); /* NULL-safe */
/* A new configuration: the worker restarts when the fleet block changed. */
int fleet_set_config(struct fleet *f, const struct bwe_cfgfile *cfg);

/* The event loop (fleetclient.h); each a no-op without a fleet. */
int fleet_epoll_sync(struct fleet *f, int epfd, epoll_data_t data);
void fleet_on_io(struct fleet *f, __u32 events);
void fleet_tick(struct fleet *f, time_t now);
/* Save state_dir/fleet.json if something changed; call once per loop iteration. */
void fleet_flush(struct fleet *f);

bool fleet_enabled(const struct fleet *f);
/* bwctl fleet status (bwctl(8)). */
struct json_object *fleet_status_json(const struct fleet *f);

/*
 * Fleet-wide bwctl scope (docs/fleet.md, "What a site knows of the
 * others"). The asking site puts PREFIX/scope/req/ID on a lease of
 * FLEET_SCOPE_TTL_S; every other live site sees it on its watch, answers
 * with its responder (scope.c) and puts PREFIX/scope/ans/ID/SITE on such a
 * lease; the asking site gathers the answers, each judged by
 * bwe_frec_scope_ans_parse(), until every site alive when it asked has
 * answered or the deadline passed, then calls done once.
 */
#define FLEET_SCOPE_WAIT_S   3	 /* seconds the asking site waits for the others */
#define FLEET_SCOPE_TTL_S    30	 /* the lease of a question and of an answer */
#define FLEET_SCOPE_ASKS     8	 /* questions of this site waiting at once */
#define FLEET_SCOPE_RATE     30	 /* questions of one other site answered per minute */
#define FLEET_SCOPE_RATE_ALL 240 /* questions of all other sites, malformed ones too */

struct fleet_scope_miss {
	char site[BWE_FREC_SITE_MAX];
	char why[256]; /* "no answer within 3 s", or why its answer was refused */
};

struct fleet_scope_result {
	const struct bwe_frec_scope_ans *ans; /* the answers taken */
	size_t nans;
	const struct fleet_scope_miss *miss; /* sites that did not answer, or were refused */
	size_t nmiss;
	size_t asked; /* live sites asked (this one not counted) */
};

/* Called once, from the loop; r and what it points at are valid during the call only. */
typedef void (*fleet_scope_done_fn)(void *ctx, const struct fleet_scope_result *r);
/* This site's answer to another site's question: 0, or -errno (no answer is sent). */
typedef int (*fleet_scope_answer_fn)(void *ctx, const struct bwe_frec_scope_req *q,
				     struct bwe_frec_scope_ans *out);

/* Who answers other sites' questions here (scope.c); NULL: nobody (they wait in vain). */
void fleet_scope_responder(struct fleet *f, fleet_scope_answer_fn fn, void *ctx);
/*
 * Ask the other sites q's question (id, site and deadline are filled
 * here). 0: done will be called (also with no other site alive), and
 * *handle names the question; -EOPNOTSUPP no fleet; -ENOTCONN detached;
 * -EBUSY FLEET_SCOPE_ASKS waiting already; -ENOMEM.
 */
int fleet_scope_ask(struct fleet *f, struct bwe_frec_scope_req *q, fleet_scope_done_fn done,
		    void *ctx, __u32 *handle);
/* The asker went away: done is not called. */
void fleet_scope_cancel(struct fleet *f, __u32 handle);
/* This site's name in the fleet; NULL without a fleet. */
const char *fleet_site(const struct fleet *f);

/* For the metrics: attached (0/1), revision lag, queued changes, refused records. */
struct fleet_stat {
	bool enabled, connected;
	__s64 lag;
	__u64 queued, refused, sites_alive;
	__u64 scope_refused; /* scope questions and answers of other sites refused */
};
void fleet_stat(const struct fleet *f, struct fleet_stat *st);

#endif /* BWCTLD_FLEET_H */
