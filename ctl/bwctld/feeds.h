/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * feeds.h - threat-intel feeds (layer 4: a source of change): schedule,
 * fetch, parse, guard, and apply each new version to the feed store and the
 * blocklist, with the provenance of every entry and an event for each step.
 */
#ifndef BWCTLD_FEEDS_H
#define BWCTLD_FEEDS_H

#include <time.h>
#include <json-c/json.h>
#include <linux/types.h>

#include "config.h"
#include "enforce.h"
#include "events.h"
#include "feedstore.h"
#include "wire.h"

struct feeds_deps {
	const struct bwe_cfgfile *cfg;
	struct fstore *store; /* where each feed's entries live */
	struct evlog *log;
};

/* argv[1] of bwctld when it runs as the sandboxed feed worker. */
#define FEEDS_WORKER_ARG "--feed-worker"

struct feeds;

/*
 * Start the feed worker and hand it the saved last good versions, then read
 * or schedule every source: needs no data plane, so that the worker parses
 * while the daemon loads one (the verifier's time). No result is taken
 * before feeds_bind() and the event loop. On error *out may be set and must
 * be freed with feeds_free().
 */
int feeds_new(struct feeds **out, const struct feeds_deps *deps);
/*
 * The blocklist the feeds' versions go to, once the data plane is open:
 * called once, after feeds_new() and before the event loop. With no
 * start-up job pending (no feed, or none could be read) the stale entries
 * are swept at once.
 */
void feeds_bind(struct feeds *fs, struct enforcer *enf);
void feeds_free(struct feeds *fs); /* NULL-safe */
/* After SIGHUP: take the new configuration (feeds_set_config first). */
void feeds_set_config(struct feeds *fs, const struct bwe_cfgfile *cfg);
void feeds_reload(struct feeds *fs);
/* Descriptors for epoll, and what to call when they are readable. */
int feeds_fd_inotify(const struct feeds *fs); /* -1: none */
void feeds_on_inotify(struct feeds *fs);
/*
 * The feed worker's socket changes when the worker is restarted: call
 * feeds_worker_sync() after every loop iteration (it keeps the epoll
 * registration with data current), and feeds_on_worker() with the events.
 */
int feeds_worker_sync(struct feeds *fs, int epfd, __u32 data);
void feeds_on_worker(struct feeds *fs, __u32 events);
/* bwctl status: the worker's pid, restarts and last error. */
struct json_object *feeds_worker_json(const struct feeds *fs);
/* Every tick: indicator expiry, refresh schedule, stale alerts. */
void feeds_tick(struct feeds *fs, time_t now);
/* Refresh one feed (name) or all (NULL) now; their names are added to names.
 * -ENOENT for an unknown name. */
int feeds_refresh(struct feeds *fs, const char *name, struct json_object *names);
/* Start-up jobs (each feed's saved and current version) not yet ended: 0
 * once every feed's start-up version is enforced and the sweep done. */
size_t feeds_startup_pending(const struct feeds *fs);
/*
 * Host names resolved by the sandboxed feed worker (DNS A and AAAA through
 * the resolver of /etc/resolv.conf; BWE_FWC_RESOLVE_S per name), for the
 * control socket's commands: the loop never waits on a name server. cb
 * runs once from the loop with the worker's answers (one per name asked;
 * n_addrs 0: it did not resolve), or status -errno and error, unless the
 * job is cancelled first. names are lower case RFC 1123 names without a
 * final dot. 0 with *job set, or -errno (-EINVAL: a name the worker does
 * not take, -ENOSPC: its queue is full).
 */
typedef void (*feeds_resolved_fn)(void *ctx, int status, const char *error,
				  const struct bwe_job_answer *answers, size_t n);
int feeds_resolve(struct feeds *fs, const char *const *names, size_t n, feeds_resolved_fn cb,
		  void *ctx, __u32 *job);
/* Forget a feeds_resolve() job: no callback runs for it. */
void feeds_resolve_cancel(struct feeds *fs, __u32 job);
/* The metrics' figures of feed i (i < feeds_count()), typed. */
struct feed_stat {
	const char *name;    /* valid until the next reload */
	size_t v4, v6;	     /* entries by family in force */
	time_t last_success; /* 0: never */
	__u64 errors;	     /* feed-error events since start */
	__u64 hits;	     /* blocklist contacts with its entries */
};
size_t feeds_count(const struct feeds *fs);
void feeds_stat(const struct feeds *fs, size_t i, struct feed_stat *out);
/* The feed worker: children started after the first; jobs completed. */
void feeds_worker_stat(const struct feeds *fs, __u64 *restarts, __u64 *jobs_ok, __u64 *jobs_failed);
/* bwctl feeds: every feed's state. */
struct json_object *feeds_list_json(const struct feeds *fs);

#endif /* BWCTLD_FEEDS_H */
