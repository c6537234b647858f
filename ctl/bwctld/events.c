// SPDX-License-Identifier: GPL-2.0-only
/*
 * events.c - every data-plane event and every state change becomes one JSON
 * line, with Elastic Common Schema field names, in the event log (and in
 * syslog), so that a SIEM takes them as they are.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/stat.h>

#include "bwctld.h"
#include "log.h"

#define ECS_VERSION     "8.11.0"
#define TECHNIQUE_ID    "T1496.002"
#define TECHNIQUE_NAME  "Resource Hijacking: Bandwidth Hijacking"
#define TECHNIQUE_REF   "https://attack.mitre.org/techniques/T1496/002/"

/* Set a dotted ECS path ("source.ip") in nested objects; takes val. */
static void ev_set(struct json_object *o, const char *path, struct json_object *val)
{
	char key[64];
	const char *dot;

	while ((dot = strchr(path, '.'))) {
		struct json_object *child;
		size_t n = (size_t)(dot - path);

		if (n >= sizeof(key))
			n = sizeof(key) - 1;
		memcpy(key, path, n);
		key[n] = '\0';
		if (!json_object_object_get_ex(o, key, &child)) {
			child = json_object_new_object();
			json_object_object_add(o, key, child);
		}
		o = child;
		path = dot + 1;
	}
	json_object_object_add(o, path, val);
}

static void ev_str(struct json_object *o, const char *path, const char *s)
{
	if (s)
		ev_set(o, path, json_object_new_string(s));
}

static void ev_addr(struct json_object *o, const char *path, const struct bwe_addr *a)
{
	char buf[BWE_ADDR_STRLEN];

	if (!bwe_addr_fmt(a, buf, sizeof(buf)))
		ev_str(o, path, buf);
}

static void now_rfc3339_ms(char *buf, size_t len, const struct timespec *ts)
{
	struct tm tm;
	char sec[32];

	gmtime_r(&ts->tv_sec, &tm);
	strftime(sec, sizeof(sec), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03ldZ", sec, ts->tv_nsec / 1000000);
}

struct json_object *events_new(const char *action, const char *kind)
{
	struct json_object *o = json_object_new_object();
	struct timespec ts;
	char t[48];

	clock_gettime(CLOCK_REALTIME, &ts);
	now_rfc3339_ms(t, sizeof(t), &ts);
	ev_str(o, "@timestamp", t);
	ev_str(o, "ecs.version", ECS_VERSION);
	ev_str(o, "event.action", action);
	ev_str(o, "event.kind", kind);
	ev_set(o, "event.category", json_object_new_array());
	json_object_array_add(json_object_object_get(json_object_object_get(o, "event"), "category"),
			      json_object_new_string("network"));
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

int events_open(struct daemon *d)
{
	const char *path = d->cfg->paths.event_log;
	char dir[4096];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0750) && errno != EEXIST) {
			log_warn("event log directory %s", dir);
			return -errno;
		}
	}
	d->evfd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (d->evfd < 0) {
		int err = -errno;

		log_warn("event log %s", path);
		return err;
	}
	return 0;
}

void events_close(struct daemon *d)
{
	if (d->evfd >= 0)
		close(d->evfd);
	d->evfd = -1;
}

void events_emit(struct daemon *d, struct json_object *ev)
{
	const char *s = json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN |
						       JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t len = strlen(s);

	if (d->evfd >= 0) {
		char *line = malloc(len + 2);

		if (line) {
			memcpy(line, s, len);
			line[len] = '\n';
			if (write(d->evfd, line, len + 1) != (ssize_t)(len + 1))
				log_warn("event log write");
			free(line);
		}
	}
	syslog(LOG_NOTICE, "%s", s);
	log_debug("event: %s", s);
	json_object_put(ev);
}

void events_state_change(struct daemon *d, const char *action, const struct st_entry *e,
			 const char *by)
{
	struct json_object *ev = events_new(action, "event");
	char buf[BWE_PREFIX_STRLEN];

	bwe_prefix_fmt(&e->pfx, buf, sizeof(buf));
	json_object_array_add(json_object_object_get(json_object_object_get(ev, "event"), "category"),
			      json_object_new_string("configuration"));
	ev_str(ev, "event.reason", e->reason[0] ? e->reason : NULL);
	ev_str(ev, "event.type", e->kind == ST_BLOCK ? "denied" : "change");
	if (e->kind == ST_BLOCK) {
		ev_str(ev, "threat.indicator.ip", buf);
		ev_str(ev, "threat.indicator.provider", "manual");
	} else {
		ev_str(ev, "host.ip", buf);
	}
	ev_str(ev, "rule.name", by);
	ev_str(ev, "user.name", e->actor);
	ev_set(ev, "bwenforce.entry", st_entry_json(e));
	events_emit(d, ev);
	detector_note_action(d, action, e);
}

static const char *proto_name(__u8 p)
{
	switch (p) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
		return "icmp";
	case IPPROTO_ICMPV6:
		return "ipv6-icmp";
	}
	return NULL;
}

/* Ring buffer consumer: one struct bwe_event, already deduplicated by the kernel. */
int events_ringbuf_cb(void *ctx, void *data, size_t len)
{
	struct daemon *d = ctx;
	const struct bwe_event *e = data;
	struct json_object *ev;
	const struct bwe_addr *src, *dst;
	__be16 sport, dport;
	char ifname[IF_NAMESIZE];
	bool out;

	if (len < sizeof(*e))
		return 0;
	out = e->dir == BWE_DIR_OUT;
	src = out ? &e->host : &e->peer;
	dst = out ? &e->peer : &e->host;
	sport = e->sport;
	dport = e->dport;

	if (e->type == BWE_EV_BLOCK_HIT) {
		const char *feed = feed_name(d, e->ref);
		char rule[96];

		ev = events_new("blocklist-hit", "alert");
		ev_str(ev, "event.type", (e->ref & BWE_REF_MONITOR) ? "info" : "denied");
		ev_str(ev, "event.reason", reason_name(e->reason));
		ev_addr(ev, "threat.indicator.ip", &e->peer);
		ev_str(ev, "threat.indicator.type", bwe_addr_is_v4(&e->peer) ? "ipv4-addr" : "ipv6-addr");
		ev_str(ev, "threat.indicator.provider", feed);
		ev_str(ev, "threat.feed.name", feed);
		feeds_hit(d, e->ref);
		if (strcmp(feed ? feed : "", "manual")) {
			struct json_object *m = feeds_lookup_json(d, &e->peer), *x;

			x = json_object_array_length(m) ? json_object_array_get_idx(m, 0) : NULL;
			detector_note_hit(d, &e->host, &e->peer, e->ref,
					  x ? json_object_get_string(json_object_object_get(x, "entry")) : NULL,
					  x ? json_object_get_string(json_object_object_get(x, "indicator")) : NULL);
			if (x) {
				ev_set(ev, "threat.indicator.description",
				       json_object_get(json_object_object_get(x, "entry")));
				ev_set(ev, "threat.indicator.reference",
				       json_object_get(json_object_object_get(x, "indicator")));
				ev_set(ev, "threat.indicator.first_seen",
				       json_object_get(json_object_object_get(x, "first_seen")));
			}
			json_object_put(m);
		} else {
			struct st_entry *m = st_match(d, ST_BLOCK, &e->peer);

			char buf[BWE_PREFIX_STRLEN] = "";

			if (m) {
				bwe_prefix_fmt(&m->pfx, buf, sizeof(buf));
				ev_str(ev, "threat.indicator.description", buf);
			}
			detector_note_hit(d, &e->host, &e->peer, e->ref, buf, NULL);
		}
		snprintf(rule, sizeof(rule), "blocklist:%s", feed ? feed : "?");
		ev_str(ev, "rule.name", rule);
	} else {
		ev = events_new("quarantine-drop", "event");
		ev_str(ev, "event.type", "denied");
		ev_str(ev, "event.reason", reason_name(e->reason));
		ev_str(ev, "rule.name", "quarantine");
	}
	ev_addr(ev, "source.ip", src);
	ev_addr(ev, "destination.ip", dst);
	ev_addr(ev, "host.ip", &e->host);
	if (sport || dport) {
		ev_set(ev, "source.port", json_object_new_int(ntohs(sport)));
		ev_set(ev, "destination.port", json_object_new_int(ntohs(dport)));
	}
	ev_str(ev, "network.transport", proto_name(e->proto));
	ev_str(ev, "network.direction", out ? "outbound" : "inbound");
	if (if_indextoname(e->ifindex, ifname))
		ev_str(ev, "observer.ingress.interface.name", ifname);
	events_emit(d, ev);
	return 0;
}
