/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * events.h - the event log (layer 2): one JSON line per event, Elastic
 * Common Schema field names, to the event log file and to syslog, so that
 * a SIEM takes them as they are. The log knows nothing of who reads it.
 */
#ifndef BWCTLD_EVENTS_H
#define BWCTLD_EVENTS_H

#include <json-c/json.h>

#include "addr.h"
#include "store.h"

struct evlog;

/* Open (create, append) the event log at path; its directory is created. */
int evlog_open(struct evlog **out, const char *path);
void evlog_close(struct evlog *log); /* NULL-safe */
/* One line to the log and syslog; takes ownership of ev. log may be NULL. */
void evlog_emit(struct evlog *log, struct json_object *ev);

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
