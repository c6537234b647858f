/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * events.h - the event log (layer 2): one JSON line per event, Elastic
 * Common Schema field names, to the event log file and to syslog, so that
 * a SIEM takes them as they are. The log knows nothing of who reads it.
 *
 * Rate limits: every event type (event.action) has a token bucket
 * (event_limits in the configuration: rate events per second, burst
 * events). An event over its type's limit is counted, not written; an
 * "events-suppressed" event ("N events of type T suppressed in the last
 * S s") follows when the type's suppression ends (its bucket is full
 * again) and every summary_s seconds while it lasts (evlog_tick). Changes to operator state (evlog_emit_audit)
 * are never limited: they are the audit trail. So a flood of spoofed
 * blocklist hits cannot fill the disk under the state file.
 */
#ifndef BWCTLD_EVENTS_H
#define BWCTLD_EVENTS_H

#include <json-c/json.h>

#include "addr.h"
#include "config.h"
#include "slog.h"
#include "store.h"

struct evlog;
struct bwe_cfgfile;

/*
 * Open (create, append; never through a symlink) the event log at path;
 * its directory is created. The limits are the defaults until
 * evlog_set_config().
 */
int evlog_open(struct evlog **out, const char *path);
void evlog_close(struct evlog *log); /* NULL-safe */
/* The event_limits of cfg from now on (cfg must outlive the log or the next call). */
void evlog_set_config(struct evlog *log, const struct bwe_cfgfile *cfg);
/*
 * Open path again (SIGHUP after logrotate moved the file away): new lines
 * go to a new file. On failure the old file is kept and -errno returned.
 */
int evlog_reopen(struct evlog *log);
/* One line to the log and syslog, within its type's limit; takes ev. log may be NULL. */
void evlog_emit(struct evlog *log, struct json_object *ev);
/* The same, never limited: changes to operator state (the audit trail). */
void evlog_emit_audit(struct evlog *log, struct json_object *ev);
/*
 * events.syslog (slog.h): every line written also goes to the syslog
 * output that evlog_set_config() made from the configuration (none without
 * a target; a reload with other keys makes a new one). Its socket's
 * registration in epfd is kept by evlog_out_sync() (after every loop
 * iteration), its events go to evlog_out_ready(); evlog_tick() reconnects
 * and writes a "syslog-dropped" event when messages were lost.
 */
int evlog_out_sync(struct evlog *log, int epfd, __u32 data);
void evlog_out_ready(struct evlog *log, __u32 events);
/* The output's figures; false when there is no output. */
bool evlog_out_stats(const struct evlog *log, struct slog_stats *st);
/* Events held back by the limits since the log was opened (metrics). */
__u64 evlog_suppressed_total(const struct evlog *log);
/* Once a second: summaries of the types held back for summary_s or longer. */
void evlog_tick(struct evlog *log);
/* The limiter's clock, CLOCK_MONOTONIC in nanoseconds; tests set their own. */
typedef __u64 evlog_clock_fn(void);
void evlog_set_clock(struct evlog *log, evlog_clock_fn *clock); /* NULL: the real one */

/* A new event with the common fields (time, ECS, ATT&CK technique). */
struct json_object *ev_new(const char *action, const char *kind);
/* Set a dotted ECS path ("source.ip") in nested objects; takes val. */
void ev_set(struct json_object *o, const char *path, struct json_object *val);
void ev_str(struct json_object *o, const char *path, const char *s); /* NULL: nothing */
void ev_addr(struct json_object *o, const char *path, const struct bwe_addr *a);
/* Every key of extra is a dotted path set in o (extra is not consumed). */
void ev_merge(struct json_object *o, struct json_object *extra);
/* The event of a change to operator state: e as it is (or was), who made the change. */
struct json_object *ev_state_change(const char *action, const struct st_entry *e,
				    const struct actor *who);

#endif /* BWCTLD_EVENTS_H */
