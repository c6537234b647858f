/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * scope.h - `bwctl scope HOST|ADDRESS`: "who else?" (layer 6, a read-only
 * answer). Internal hosts that contacted the same listed peers (blocklist
 * and proxyware feeds) as a host, or an external address, in a window,
 * and hosts whose signals fired and shapes matched alike, ranked with
 * their evidence.
 *
 * What it reads: a bounded in-memory index of (internal host, listed peer)
 * contacts that it keeps itself as an observer of the transaction's hits
 * (the ring buffer's blocklist-hit events, outbound only: an inbound hit
 * may be spoofed), and the detector's per-host memory of when each signal
 * fired and each shape matched (detector_seen()). No flow log: only
 * contacts with listed peers are indexed, at most SCOPE_PEERS_PER_HOST
 * peers per host (the least recently seen gives way, so a host spraying
 * peers only pushes out its own) and SCOPE_HOSTS_MAX hosts (the host
 * whose last contact is oldest gives way). At start it reads back the
 * outbound blocklist-hit events of the last SCOPE_SEED_BYTES of the event
 * log (scope_seed(): what event_limits let through, within
 * SCOPE_SINCE_MAX_S); how far back it reaches is in every answer.
 *
 * In a fleet (fleet.h) scope_ask() also asks every other live site through
 * etcd, answers their questions from this index (scope_answer()), and
 * merges the answers with a "site" per host (docs/fleet.md, "What a site
 * knows of the others").
 */
#ifndef BWCTLD_SCOPE_H
#define BWCTLD_SCOPE_H

#include <time.h>
#include <json-c/json.h>

#include "config.h"
#include "detector.h"
#include "enforce.h"
#include "fleet.h"
#include "fleetrec.h"
#include "ops.h"
#include "store.h"

#define SCOPE_PEERS_PER_HOST 64	      /* listed peers indexed per host */
#define SCOPE_HOSTS_MAX	     4096     /* hosts indexed (~5 KiB each at most: ~20 MiB) */
#define SCOPE_SINCE_S	     86400ULL /* default window: 1 day */
#define SCOPE_SINCE_MAX_S    (30 * 86400ULL)
#define SCOPE_RESULTS_MAX    100	 /* hosts in one answer; "more" counts the rest */
#define SCOPE_REPORT_MAX     10		 /* hosts in bwctl report's section */
#define SCOPE_SEED_BYTES     (16L << 20) /* of the event log read back at start */
#define SCOPE_REPORT_KEY     "other_hosts_same_peers" /* the report's section */
#define SCOPE_LOCAL_ASKED    "local only, as asked"
#define SCOPE_API_PART \
	"the HTTP API's report has this site's part; GET /v1/scope/HOST asks the fleet"

struct scope_deps {
	const struct bwe_cfgfile *cfg;	 /* which feeds are proxyware feeds */
	struct ops *ops;		 /* it observes the hits */
	const struct detector *detector; /* when signals fired, shapes matched */
	const struct enforcer *enf;	 /* internal or not */
	const struct st_store *st;	 /* containment of the hosts found */
	struct fleet *fleet;		 /* the other sites; NULL: none (scope_set_fleet()) */
};

struct scope;

int scope_new(struct scope **out, const struct scope_deps *deps);
void scope_free(struct scope *s); /* NULL-safe */
void scope_set_config(struct scope *s, const struct bwe_cfgfile *cfg);
/*
 * Read back the contacts of the event log at path (its last
 * SCOPE_SEED_BYTES), before the loop starts: 0 (also when the log does
 * not exist yet) or -errno.
 */
int scope_seed(struct scope *s, const char *path, time_t now);

/*
 * The answer for a (an internal host, or an external address) over the
 * since_s seconds before now (1..SCOPE_SINCE_MAX_S); see bwctl(8), scope.
 */
struct json_object *scope_query(const struct scope *s, const struct bwe_addr *a, __u64 since_s,
				time_t now);
/* bwctl report's "other hosts with the same peers": the last day, peers in common only, here. */
struct json_object *scope_report_section(const struct scope *s, const struct bwe_addr *a,
					 time_t now);

/* The fleet to ask, and to answer (this site answers the others' questions from now on). */
void scope_set_fleet(struct scope *s, struct fleet *f);
/*
 * This site's answer to another site's question q (bounded to
 * BWE_FREC_SCOPE_HOSTS_MAX hosts, the rest in a->more): 0 or -ENOMEM.
 */
int scope_answer(const struct scope *s, const struct bwe_frec_scope_req *q, time_t now,
		 struct bwe_frec_scope_ans *a);
/*
 * Merge the other sites' answers into answer (scope_query()'s): every host
 * gets its "site" (this one's is here), ranked together, at most
 * SCOPE_RESULTS_MAX; coverage.fleet names the sites asked, those that
 * answered and those that did not (with why: silent, or refused).
 */
void scope_merge(struct json_object *answer, const char *here, const struct fleet_scope_result *r);

struct scope_wait;
/* The answer, once every site answered or the wait is over; the callee owns it. */
typedef void (*scope_done_fn)(void *ctx, struct json_object *answer);
/*
 * bwctl scope: this site's answer at once when there is no fleet
 * (coverage.fleet.reason "no fleet"), local is given (the reason the
 * answer is this site's alone), or the fleet cannot be asked (the reason);
 * else NULL and *wait set: done gets the merged answer within
 * FLEET_SCOPE_WAIT_S (one tick more), unless scope_cancel(wait) first.
 */
struct json_object *scope_ask(const struct scope *s, const struct bwe_addr *a, __u64 since_s,
			      const char *local, time_t now, scope_done_fn done, void *ctx,
			      struct scope_wait **wait);
/*
 * bwctl report's section the same way: rep with the section added under
 * SCOPE_REPORT_KEY at once, or NULL and rep with it to done later (rep is
 * the callee's then, freed by scope_cancel()).
 */
struct json_object *scope_report_ask(const struct scope *s, const struct bwe_addr *a,
				     const char *local, time_t now, struct json_object *rep,
				     scope_done_fn done, void *ctx, struct scope_wait **wait);
void scope_cancel(const struct scope *s, struct scope_wait *w); /* NULL-safe */

#endif /* BWCTLD_SCOPE_H */
