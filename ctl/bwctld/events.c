// SPDX-License-Identifier: GPL-2.0-only
/* events.c - the ECS JSON event log; contract in events.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <stdint.h>
#include <unistd.h>

#include "events.h"
#include "log.h"
#include "util.h"

#define ECS_VERSION    "8.11.0"
#define TECHNIQUE_ID   "T1496.002"
#define TECHNIQUE_NAME "Resource Hijacking: Bandwidth Hijacking"
#define TECHNIQUE_REF  "https://attack.mitre.org/techniques/T1496/002/"
#define EV_KEY_MAX     64 /* bytes of one path component */

#define EV_TYPES_MAX  64 /* event types with a bucket of their own; more share the last */
#define EV_OTHER      "(other)"
#define EV_SUPPRESSED "events-suppressed"
#define EV_NS_PER_S   1000000000ULL
#define EV_LOG_MODE   0640

/* One event type's token bucket and what it held back. */
struct ev_bucket {
	char action[BWE_CFG_EV_ACTION_MAX + 1];
	double tokens;	  /* events that may pass now */
	__u64 refill_ns;  /* when tokens was last refilled */
	__u64 suppressed; /* held back since the last summary */
	__u64 since_ns;	  /* first of those */
};

struct evlog {
	int fd;
	char *path;
	const struct bwe_cfgfile *cfg; /* the limits; NULL: the defaults */
	evlog_clock_fn *clock;
	struct ev_bucket b[EV_TYPES_MAX];
	size_t nb;
	__u64 suppressed_total; /* events held back since start (metrics) */
	struct slog *out;	/* events.syslog; NULL: none */
	char *out_key;		/* the keys it was made from, to see a change */
	__u64 out_lost_ns;	/* when the last "syslog-dropped" was written */
};

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * EV_NS_PER_S + (__u64)ts.tv_nsec;
}

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

static int open_log(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, EV_LOG_MODE);

	return fd < 0 ? -errno : fd;
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
	if (!log || !(log->path = strdup(path))) {
		free(log);
		return -ENOMEM;
	}
	log->clock = mono_ns;
	log->fd = open_log(path);
	if (log->fd < 0) {
		err = log->fd;
		log_warnx("event log %s: %s", path, strerror(-err));
		free(log->path);
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
	slog_free(log->out);
	free(log->out_key);
	free(log->path);
	free(log);
}

int evlog_reopen(struct evlog *log)
{
	int fd;

	if (!log)
		return 0;
	fd = open_log(log->path);
	if (fd < 0) {
		/* keep writing to the old file rather than nowhere */
		log_warnx("event log %s: cannot reopen: %s; still writing to the old file",
			  log->path, strerror(-fd));
		return fd;
	}
	if (log->fd >= 0)
		close(log->fd);
	log->fd = fd;
	log_info("event log %s reopened", log->path);
	return 0;
}

/* The syslog output the configuration asks for; the running one when its keys are the same. */
static void out_config(struct evlog *log, const struct bwe_cfgfile *cfg)
{
	struct slog_cfg sc = { .format = cfg->syslog.format,
			       .facility = (unsigned int)cfg->syslog.facility,
			       .app_name = cfg->syslog.app_name,
			       .hostname = cfg->syslog.hostname,
			       .queue = cfg->syslog.queue,
			       .message_max = cfg->syslog.message_max };
	char *key = NULL, why[256];
	struct slog *out = NULL;
	int err;

	if (cfg->syslog.target &&
	    asprintf(&key, "%s|%d|%d|%s|%s|%u|%u", cfg->syslog.target, cfg->syslog.format,
		     cfg->syslog.facility, cfg->syslog.app_name ? cfg->syslog.app_name : "",
		     cfg->syslog.hostname ? cfg->syslog.hostname : "", cfg->syslog.queue,
		     cfg->syslog.message_max) < 0)
		key = NULL;
	if ((!key && !log->out_key) || (key && log->out_key && !strcmp(key, log->out_key))) {
		free(key);
		return;
	}
	if (key && bwe_slog_target_parse(cfg->syslog.target, &sc.target, why, sizeof(why))) {
		log_warnx("events.syslog.target: %s; no syslog output", why);
		free(key);
		key = NULL;
	} else if (key && (err = slog_new(&out, &sc))) {
		log_warnx("events.syslog: %s; no syslog output", strerror(-err));
		free(key);
		key = NULL;
	}
	slog_free(log->out);
	free(log->out_key);
	log->out = out;
	log->out_key = key;
	if (out)
		log_info("events go to syslog at %s as %s too", cfg->syslog.target,
			 cfg->syslog.format == BWE_SLOG_CEF ? "CEF" : "RFC 5424");
}

void evlog_set_config(struct evlog *log, const struct bwe_cfgfile *cfg)
{
	if (!log)
		return;
	log->cfg = cfg;
	if (cfg)
		out_config(log, cfg);
}

int evlog_out_sync(struct evlog *log, int epfd, __u32 data)
{
	return log ? slog_sync(log->out, epfd, data) : 0;
}

void evlog_out_ready(struct evlog *log, __u32 events)
{
	if (log)
		slog_on_ready(log->out, events);
}

bool evlog_out_stats(const struct evlog *log, struct slog_stats *st)
{
	if (!log || !log->out)
		return false;
	slog_stats(log->out, st);
	return true;
}

void evlog_set_clock(struct evlog *log, evlog_clock_fn *clock)
{
	log->clock = clock ? clock : mono_ns;
}

/* The limit of one type: its own row in event_limits.types, or the default. */
static void limits(const struct evlog *log, const char *action, double *rate, double *burst,
		   __u64 *summary_s)
{
	const struct bwe_cfgfile *cfg = log->cfg;
	size_t i;

	*rate = cfg ? cfg->event_limits.rate : BWE_CFG_EV_RATE;
	*burst = cfg ? cfg->event_limits.burst : BWE_CFG_EV_BURST;
	*summary_s = cfg ? cfg->event_limits.summary_s : BWE_CFG_EV_SUMMARY_S;
	for (i = 0; cfg && i < cfg->event_limits.n_types; i++)
		if (!strcmp(cfg->event_limits.types[i].action, action)) {
			*rate = cfg->event_limits.types[i].rate;
			*burst = cfg->event_limits.types[i].burst;
		}
}

static struct ev_bucket *bucket(struct evlog *log, const char *action, __u64 now)
{
	double rate, burst;
	__u64 summary_s;
	size_t i;

	for (i = 0; i < log->nb; i++)
		if (!strcmp(log->b[i].action, action))
			return &log->b[i];
	if (log->nb == EV_TYPES_MAX - 1 || strlen(action) > BWE_CFG_EV_ACTION_MAX)
		action = EV_OTHER; /* the last slot is shared */
	for (i = 0; i < log->nb; i++)
		if (!strcmp(log->b[i].action, action))
			return &log->b[i];
	limits(log, action, &rate, &burst, &summary_s);
	snprintf(log->b[log->nb].action, sizeof(log->b[0].action), "%s", action);
	log->b[log->nb].tokens = burst;
	log->b[log->nb].refill_ns = now;
	return &log->b[log->nb++];
}

static void write_line(struct evlog *log, struct json_object *ev)
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
	if (log && log->out)
		slog_event(log->out, ev);
	json_object_put(ev);
}

/* "N events of type T suppressed in the last S s", and the count starts again. */
static void summarise(struct evlog *log, struct ev_bucket *b, __u64 now)
{
	struct json_object *ev = ev_new(EV_SUPPRESSED, "event");
	__u64 secs = (now - b->since_ns + EV_NS_PER_S - 1) / EV_NS_PER_S;
	char msg[160];

	snprintf(msg, sizeof(msg), "%llu events of type %s suppressed in the last %llu s",
		 (unsigned long long)b->suppressed, b->action, (unsigned long long)secs);
	ev_str(ev, "message", msg);
	ev_str(ev, "bwenforce.suppressed.action", b->action);
	ev_set(ev, "bwenforce.suppressed.count", json_object_new_int64((int64_t)b->suppressed));
	ev_set(ev, "bwenforce.suppressed.seconds", json_object_new_int64((int64_t)secs));
	log_warnx("event log: %s", msg);
	b->suppressed = 0;
	write_line(log, ev);
}

/* Tokens earned since the last refill, up to the burst. */
static void refill(struct ev_bucket *b, __u64 now, double rate, double burst)
{
	if (now > b->refill_ns) {
		b->tokens += (double)(now - b->refill_ns) * rate / (double)EV_NS_PER_S;
		if (b->tokens > burst)
			b->tokens = burst;
	}
	b->refill_ns = now;
}

/* Take a token of the event's type; false: the event is held back (and counted). */
static bool admit(struct evlog *log, struct json_object *ev)
{
	struct json_object *e, *a;
	const char *action = EV_OTHER;
	__u64 now = log->clock(), summary_s;
	double rate, burst;
	struct ev_bucket *b;

	if (json_object_object_get_ex(ev, "event", &e) &&
	    json_object_object_get_ex(e, "action", &a) && json_object_is_type(a, json_type_string))
		action = json_object_get_string(a);
	b = bucket(log, action, now);
	limits(log, b->action, &rate, &burst, &summary_s);
	refill(b, now, rate, burst);
	if (b->tokens >= 1) {
		b->tokens -= 1;
		return true;
	}
	if (!b->suppressed++)
		b->since_ns = now;
	log->suppressed_total++;
	return false;
}

__u64 evlog_suppressed_total(const struct evlog *log)
{
	return log ? log->suppressed_total : 0;
}

void evlog_emit(struct evlog *log, struct json_object *ev)
{
	if (log && !admit(log, ev)) {
		json_object_put(ev);
		return;
	}
	write_line(log, ev);
}

void evlog_emit_audit(struct evlog *log, struct json_object *ev)
{
	write_line(log, ev);
}

/* The syslog output: a due reconnect, and an event for the messages it lost. */
static void out_tick(struct evlog *log, __u64 now)
{
	struct slog_stats st;
	struct json_object *ev;
	__u64 lost, secs;
	char msg[SLOG_ERR_LEN + 160];

	if (!log->out)
		return;
	slog_tick(log->out);
	lost = slog_take_dropped(log->out);
	if (!lost)
		return;
	slog_stats(log->out, &st);
	secs = log->out_lost_ns && now > log->out_lost_ns
		       ? (now - log->out_lost_ns + EV_NS_PER_S - 1) / EV_NS_PER_S
		       : 1;
	log->out_lost_ns = now;
	snprintf(msg, sizeof(msg),
		 "%llu syslog messages dropped in the last %llu s (%zu queued, receiver %s%s%s)",
		 (unsigned long long)lost, (unsigned long long)secs, st.queued,
		 st.up ? "slow" : "away", st.last_error[0] ? ": " : "", st.last_error);
	log_warnx("event log: %s", msg);
	ev = ev_new("syslog-dropped", "event");
	ev_str(ev, "message", msg);
	ev_set(ev, "bwenforce.syslog.dropped", json_object_new_int64((int64_t)lost));
	ev_set(ev, "bwenforce.syslog.queued", json_object_new_int64((int64_t)st.queued));
	ev_set(ev, "bwenforce.syslog.sent", json_object_new_int64((int64_t)st.sent));
	write_line(log, ev);
}

/*
 * A type's suppression has ended when its bucket is full again (nothing
 * came for burst / rate seconds); while it lasts, it is summarised every
 * summary_s seconds. So a sustained flood costs one summary a period.
 */
void evlog_tick(struct evlog *log)
{
	__u64 now, summary_s;
	double rate, burst;
	size_t i;

	if (!log)
		return;
	now = log->clock();
	out_tick(log, now);
	for (i = 0; i < log->nb; i++) {
		struct ev_bucket *b = &log->b[i];

		if (!b->suppressed)
			continue;
		limits(log, b->action, &rate, &burst, &summary_s);
		refill(b, now, rate, burst);
		if (b->tokens >= burst || now - b->since_ns >= summary_s * EV_NS_PER_S)
			summarise(log, b, now);
	}
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
