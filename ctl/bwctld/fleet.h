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

/* For the metrics: attached (0/1), revision lag, queued changes, refused records. */
struct fleet_stat {
	bool enabled, connected;
	__s64 lag;
	__u64 queued, refused, sites_alive;
};
void fleet_stat(const struct fleet *f, struct fleet_stat *st);

#endif /* BWCTLD_FLEET_H */
