/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * detector.h - detection and escalation, and the per-host memory behind
 * `bwctl report` (layer 4: a source of change). Its actions go through
 * the transaction (ops.h) with the rule as the actor; it learns of every
 * change and blocklist contact as an observer of ops.
 */
#ifndef BWCTLD_DETECTOR_H
#define BWCTLD_DETECTOR_H

#include <stdbool.h>
#include <time.h>
#include <json-c/json.h>

#include "config.h"
#include "dataplane.h"
#include "enforce.h"
#include "events.h"
#include "hosts.h"
#include "hostsweep.h"
#include "ops.h"
#include "store.h"

struct detector_deps {
	const struct bwe_cfgfile *cfg;
	struct bwe_dp *dp;	    /* the fan-out epoch in bwe_config */
	struct hosts *hosts;	    /* the sample it takes and evaluates */
	struct hostsweep *sweep;    /* forgets the sample's idle hosts; NULL: none */
	const struct st_store *st;  /* containment, for the report */
	const struct enforcer *enf; /* class of an address */
	struct ops *ops;	    /* where its actions go; it observes ops too */
	struct evlog *log;	    /* detection-alert events */
	/*
	 * Called after each batch of the sample is read and before it is
	 * evaluated (NULL: nothing to do): the daemon consumes the data
	 * plane's events there, so every blocklist hit the batch counted has
	 * had its hit event, which says whose feed it was (proxyware or not).
	 */
	void (*drain)(void *ctx);
	void *drain_ctx;
};

struct detector;

int detector_new(struct detector **out, const struct detector_deps *deps);
void detector_free(struct detector *dt); /* NULL-safe */
void detector_set_config(struct detector *dt, const struct bwe_cfgfile *cfg);
/*
 * Every tick: takes the host sample (hosts_sample()), hands its batches to
 * the idle sweep (hostsweep.h, maps.host_idle), and when a policy
 * interval has passed since the last run, evaluates it batch by batch as it
 * is read (no whole-table copy is kept), then frees the states of hosts it
 * did not hold.
 */
void detector_tick(struct detector *dt);
/* How full the detector's table is (bwctl status). */
struct detector_counts {
	size_t hosts;	 /* states held */
	__u32 max_hosts; /* policy.max_hosts, or maps.hosts when smaller */
	__u64 refused;	 /* hosts refused a state since start (table full) */
	__u64 freed;	 /* states freed since start (hosts that left the sample) */
};
void detector_counts(const struct detector *dt, struct detector_counts *c);
/* Actions taken since start, by rule name and response (metrics); rules
 * beyond DETECTOR_ACTION_RULES distinct names are counted in the last row. */
#define DETECTOR_ACTION_RULES (2 * BWE_POLICY_RULES_MAX)
struct detector_action_count {
	char rule[BWE_RULE_NAME_MAX];
	__u64 n[BWE_RESP_MAX]; /* by enum bwe_response; NONE stays 0 */
};
const struct detector_action_count *detector_actions(const struct detector *dt, size_t *n);
/*
 * When each signal last fired and each shape last matched for a host (0:
 * never, since the detector holds its state): bwctl scope's "same
 * behaviour". detector_seen(): false when it holds no state for a;
 * detector_host_at(): the i-th host with state, NULL past the end.
 */
struct detector_seen {
	time_t sig_at[BWE_SIG_MAX];
	time_t shape_at[BWE_SHAPE_MAX];
};
bool detector_seen(const struct detector *dt, const struct bwe_addr *a, struct detector_seen *out);
const struct bwe_addr *detector_host_at(const struct detector *dt, size_t i,
					struct detector_seen *out);
/* bwctl report: the runbook's questions answered from data. */
struct json_object *detector_report(struct detector *dt, const struct bwe_addr *a);

#endif /* BWCTLD_DETECTOR_H */
