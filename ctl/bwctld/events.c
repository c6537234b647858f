// SPDX-License-Identifier: GPL-2.0-only
/* events.c - the ECS JSON event log; contract in events.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "events.h"
#include "log.h"
#include "util.h"

#define ECS_VERSION    "8.11.0"
#define TECHNIQUE_ID   "T1496.002"
#define TECHNIQUE_NAME "Resource Hijacking: Bandwidth Hijacking"
#define TECHNIQUE_REF  "https://attack.mitre.org/techniques/T1496/002/"
#define EV_KEY_MAX     64 /* bytes of one path component */

struct evlog {
	int fd;
};

void ev_set(struct json_object *o, const char *path, struct json_object *val)
{
	char key[EV_KEY_MAX];
	const char *dot;

	while ((dot = strchr(path, '.'))) {
		struct json_object *child;
		size_t n = (size_t)(dot - path);

		if (n >= sizeof(key))
			n = sizeof(key) - 1;
		memcpy(key, path, n);
		key[n] = '\0';
		if (!json_object_object_get_ex(o, key, &child) ||
		    !json_object_is_type(child, json_type_object)) {
			child = json_object_new_object();
			json_object_object_add(o, key, child);
		}
		o = child;
		path = dot + 1;
	}
	json_object_object_add(o, path, val);
}

void ev_str(struct json_object *o, const char *path, const char *s)
{
	if (s)
		ev_set(o, path, json_object_new_string(s));
}

void ev_addr(struct json_object *o, const char *path, const struct bwe_addr *a)
{
	char buf[BWE_ADDR_STRLEN];

	if (!bwe_addr_fmt(a, buf, sizeof(buf)))
		ev_str(o, path, buf);
}

void ev_merge(struct json_object *o, struct json_object *extra)
{
	if (!extra)
		return;
	json_object_object_foreach(extra, key, val)
		ev_set(o, key, json_object_get(val));
}

static void now_rfc3339_ms(char *buf, size_t len, const struct timespec *ts)
{
	struct tm tm;
	char sec[32];

	gmtime_r(&ts->tv_sec, &tm);
	strftime(sec, sizeof(sec), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03ldZ", sec, ts->tv_nsec / 1000000);
}

struct json_object *ev_new(const char *action, const char *kind)
{
	struct json_object *o = json_object_new_object(), *cat = json_object_new_array();
	struct timespec ts;
	char t[48];

	clock_gettime(CLOCK_REALTIME, &ts);
	now_rfc3339_ms(t, sizeof(t), &ts);
	ev_str(o, "@timestamp", t);
	ev_str(o, "ecs.version", ECS_VERSION);
	ev_str(o, "event.action", action);
	ev_str(o, "event.kind", kind);
	json_object_array_add(cat, json_object_new_string("network"));
	ev_set(o, "event.category", cat);
	ev_str(o, "event.module", "bwenforce");
	ev_str(o, "event.dataset", "bwenforce.events");
	ev_str(o, "threat.framework", "MITRE ATT&CK");
	ev_str(o, "threat.technique.id", TECHNIQUE_ID);
	ev_str(o, "threat.technique.name", TECHNIQUE_NAME);
	ev_str(o, "threat.technique.reference", TECHNIQUE_REF);
	ev_str(o, "observer.type", "firewall");
	ev_str(o, "observer.product", "bwenforce");
	return o;
}

int evlog_open(struct evlog **out, const char *path)
{
	struct evlog *log;
	int err = mkdir_parent(path);

	if (err) {
		log_warnx("event log directory of %s: %s", path, strerror(-err));
		return err;
	}
	log = calloc(1, sizeof(*log));
	if (!log)
		return -ENOMEM;
	log->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (log->fd < 0) {
		err = -errno;
		log_warn("event log %s", path);
		free(log);
		return err;
	}
	*out = log;
	return 0;
}

void evlog_close(struct evlog *log)
{
	if (!log)
		return;
	if (log->fd >= 0)
		close(log->fd);
	free(log);
}

void evlog_emit(struct evlog *log, struct json_object *ev)
{
	const char *s = json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN |
								   JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t len = strlen(s);

	if (log && log->fd >= 0) {
		char *line = malloc(len + 2);

		if (line) {
			memcpy(line, s, len);
			line[len] = '\n';
			if (write(log->fd, line, len + 1) != (ssize_t)(len + 1))
				log_warn("event log write");
			free(line);
		}
	}
	syslog(LOG_NOTICE, "%s", s);
	log_debug("event: %s", s);
	json_object_put(ev);
}

struct json_object *ev_state_change(const char *action, const struct st_entry *e,
				    const struct actor *who)
{
	struct json_object *ev = ev_new(action, "event"), *cat;
	char buf[BWE_PREFIX_STRLEN], by[ACTOR_TEXT_MAX];

	bwe_prefix_fmt(&e->pfx, buf, sizeof(buf));
	actor_fmt(who, by, sizeof(by));
	if (json_object_object_get_ex(json_object_object_get(ev, "event"), "category", &cat))
		json_object_array_add(cat, json_object_new_string("configuration"));
	ev_str(ev, "event.reason", e->reason[0] ? e->reason : NULL);
	ev_str(ev, "event.type", e->kind == ST_BLOCK ? "denied" : "change");
	if (e->kind == ST_BLOCK) {
		ev_str(ev, "threat.indicator.ip", buf);
		ev_str(ev, "threat.indicator.provider", "manual");
	} else {
		ev_str(ev, "host.ip", buf);
	}
	ev_str(ev, "rule.name", who->kind == ACTOR_RULE ? who->name : by);
	ev_str(ev, "user.name", who->kind == ACTOR_OPERATOR ? who->name : by);
	ev_set(ev, "bwenforce.actor", actor_json(who));
	ev_set(ev, "bwenforce.entry", st_entry_json(e));
	return ev;
}
