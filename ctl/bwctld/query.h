/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * query.h - read-only answers for bwctl: status, stats, top, lookup
 * (layer 5: reads every module below, changes nothing).
 */
#ifndef BWCTLD_QUERY_H
#define BWCTLD_QUERY_H

#include <time.h>
#include <json-c/json.h>

#include "config.h"
#include "dataplane.h"
#include "detector.h"
#include "enforce.h"
#include "feeds.h"
#include "fleet.h"
#include "feedstore.h"
#include "hosts.h"
#include "hostsweep.h"
#include "ifaces.h"
#include "neighwatch.h"
#include "store.h"

struct scope;

struct query_deps {
	const char *config_path;
	time_t started;
	const struct bwe_cfgfile *const *cfg; /* the current configuration */
	const struct bwe_dp *dp;
	const struct st_store *st;
	const struct fstore *store;
	const struct enforcer *enf;
	struct hosts *hosts;
	const struct hostsweep *sweep; /* hosts forgotten idle; NULL: none */
	struct feeds *feeds;
	struct ifaces *ifaces;
	const struct detector *detector; /* table fill for status; NULL: not shown */
	const struct bwe_neighwatch *nw; /* the neighbour view; NULL: none */
	const struct fleet *fleet;	 /* the fleet; NULL: none */
	const struct scope *scope;	 /* bwctl scope and the report's section; NULL: none */
};

struct json_object *query_status(const struct query_deps *q);
/* NULL when the counters cannot be read. */
struct json_object *query_stats(const struct query_deps *q);
/* sort: "tx", "rx", "drops" or "rate" (validated by the caller). */
struct json_object *query_top(const struct query_deps *q, int n, const char *sort);
struct json_object *query_lookup(const struct query_deps *q, const struct bwe_addr *a);
/*
 * Every entry of one kind, as bwctl list and GET /v1/quarantines show them:
 * one row per prefix (a host's addresses each with "addresses", the whole
 * host), and a row with "host": null for a host known by its MAC address
 * alone.
 */
struct json_object *query_list(const struct query_deps *q, enum st_kind kind);
/*
 * The address bwctl report shows for a MAC address: the first address of a
 * host contained by it, else one the neighbour view has. -ENOENT: none.
 */
int query_mac_addr(const struct query_deps *q, const __u8 mac[BWE_MAC_LEN], struct bwe_addr *out);
/* A report's containment with the host's every address (st_entry_json_host). */
void query_report_identity(const struct query_deps *q, struct json_object *report,
			   const struct bwe_addr *a);

#endif /* BWCTLD_QUERY_H */
