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
 * SCOPE_SINCE_MAX_S); how far back it reaches is in every answer. It
 * covers this site: each site of a fleet has its own (docs/fleet.md).
 */
#ifndef BWCTLD_SCOPE_H
#define BWCTLD_SCOPE_H

#include <time.h>
#include <json-c/json.h>

#include "config.h"
#include "detector.h"
#include "enforce.h"
#include "ops.h"
#include "store.h"

#define SCOPE_PEERS_PER_HOST 64	      /* listed peers indexed per host */
#define SCOPE_HOSTS_MAX	     4096     /* hosts indexed (~5 KiB each at most: ~20 MiB) */
#define SCOPE_SINCE_S	     86400ULL /* default window: 1 day */
#define SCOPE_SINCE_MAX_S    (30 * 86400ULL)
#define SCOPE_RESULTS_MAX    100	 /* hosts in one answer; "more" counts the rest */
#define SCOPE_REPORT_MAX     10		 /* hosts in bwctl report's section */
#define SCOPE_SEED_BYTES     (16L << 20) /* of the event log read back at start */

struct scope_deps {
	const struct bwe_cfgfile *cfg;	 /* which feeds are proxyware feeds */
	struct ops *ops;		 /* it observes the hits */
	const struct detector *detector; /* when signals fired, shapes matched */
	const struct enforcer *enf;	 /* internal or not */
	const struct st_store *st;	 /* containment of the hosts found */
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
/* bwctl report's "other hosts with the same peers": the last day, peers in common only. */
struct json_object *scope_report_section(const struct scope *s, const struct bwe_addr *a,
					 time_t now);

#endif /* BWCTLD_SCOPE_H */
