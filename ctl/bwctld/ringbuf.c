// SPDX-License-Identifier: GPL-2.0-only
/* ringbuf.c - data-plane events to the event log and the observers; contract in ringbuf.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <bpf/libbpf.h>

#include "log.h"
#include "ringbuf.h"
#include "util.h"

struct ringbuf {
	struct ring_buffer *rb;
	struct fstore *store;
	const struct st_store *st;
	struct ops *ops;
	struct evlog *log;
};

static const char *const reason_names[BWE_STATS_MAX] = {
	[BWE_R_PASS] = "pass",
	[BWE_R_NON_IP] = "non_ip",
	[BWE_R_TRANSIT] = "transit",
	[BWE_R_ALLOW] = "allow",
	[BWE_R_EXEMPT] = "exempt",
	[BWE_R_MONITOR] = "monitor",
	[BWE_R_QUARANTINE] = "quarantine",
	[BWE_R_BLOCK] = "block",
	[BWE_R_THROTTLE] = "throttle",
	[BWE_R_QUARANTINE_DRYRUN] = "quarantine_dryrun",
	[BWE_R_BLOCK_DRYRUN] = "block_dryrun",
	[BWE_R_THROTTLE_DRYRUN] = "throttle_dryrun",
	[BWE_R_MALFORMED] = "malformed",
	[BWE_R_ABORTED] = "aborted",
	[BWE_A_L4_TRUNCATED] = "l4_truncated",
	[BWE_A_FRAGMENT] = "fragment",
	[BWE_A_EXTHDR_LIMIT] = "exthdr_limit",
	[BWE_A_EVENT_LOST] = "event_lost",
	[BWE_A_INBOUND_UNTRACKED] = "inbound_untracked",
	[BWE_A_NAT_DEFERRED] = "nat_deferred",
};

const char *reason_name(unsigned int slot)
{
	return slot < BWE_STATS_MAX && reason_names[slot] ? reason_names[slot] : "unknown";
}

/* The words of the event's network.direction; "none" for no internal side. */
static const char *const dir_names[BWE_SD_MAX] = {
	[BWE_SD_NONE] = "none",
	[BWE_SD_OUT] = "outbound",
	[BWE_SD_IN] = "inbound",
};

const char *stat_dir_name(unsigned int dir)
{
	return dir < BWE_SD_MAX ? dir_names[dir] : "unknown";
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

/* A blocklist contact: the event's indicator fields and the observers' hit. */
static struct json_object *block_hit(struct ringbuf *r, const struct bwe_event *e)
{
	const char *feed = fstore_ref_name(r->store, e->ref);
	struct ops_hit hit = { .host = e->host,
			       .peer = e->peer,
			       .ref = e->ref,
			       .outbound = e->dir == BWE_DIR_OUT,
			       .feed = feed };
	struct json_object *ev = ev_new("blocklist-hit", "alert");
	char entry[BWE_PREFIX_STRLEN] = "", rule[96], first[BWE_TIME_STRLEN];

	ev_str(ev, "event.type", (e->ref & BWE_REF_MONITOR) ? "info" : "denied");
	ev_str(ev, "event.reason", reason_name(e->reason));
	ev_addr(ev, "threat.indicator.ip", &e->peer);
	ev_str(ev, "threat.indicator.type", bwe_addr_is_v4(&e->peer) ? "ipv4-addr" : "ipv6-addr");
	ev_str(ev, "threat.indicator.provider", feed);
	ev_str(ev, "threat.feed.name", feed);
	fstore_hit(r->store, e->ref);
	if ((e->ref & BWE_REF_FEED_MASK) == BWE_FEED_MANUAL) {
		const struct st_entry *m = st_match(r->st, ST_BLOCK, &e->peer);

		if (m)
			bwe_prefix_fmt(&m->pfx, entry, sizeof(entry));
	} else {
		struct fs_match m[FS_MATCH_MAX];
		size_t n = fstore_match(r->store, &e->peer, m, FS_MATCH_MAX), i;

		/* the deciding feed's longest entry names the indicator */
		for (i = 0; i < n; i++) {
			if (m[i].feed_id != (e->ref & BWE_REF_FEED_MASK))
				continue;
			bwe_prefix_fmt(&m[i].pfx, entry, sizeof(entry));
			hit.indicator = m[i].indicator;
			ev_str(ev, "threat.indicator.reference", m[i].indicator);
			if (m[i].first_seen) {
				fmt_time(m[i].first_seen, first, sizeof(first));
				ev_str(ev, "threat.indicator.first_seen", first);
			}
			break;
		}
	}
	if (entry[0]) {
		hit.entry = entry;
		ev_str(ev, "threat.indicator.description", entry);
	}
	ops_hit(r->ops, &hit);
	snprintf(rule, sizeof(rule), "blocklist:%s", feed ? feed : "?");
	ev_str(ev, "rule.name", rule);
	return ev;
}

/* One struct bwe_event, already deduplicated by the kernel. */
static int on_event(void *ctx, void *data, size_t len)
{
	struct ringbuf *r = ctx;
	const struct bwe_event *e = data;
	struct json_object *ev;
	char ifname[IF_NAMESIZE];
	bool out;

	if (len < sizeof(*e))
		return 0;
	if (e->type == BWE_EV_MAC_ADDR) {
		/* a contained host's frame from an address it was not known by: learn it */
		ops_learn(r->ops, e->mac, &e->host, ST_LEARNT_TRAFFIC);
		return 0;
	}
	if (e->type == BWE_EV_CONTACT) {
		/* a new connection or UDP flow of a sampled pair: the beacon signal's */
		struct ops_contact c = { .host = e->host,
					 .peer = e->peer,
					 .dport = ntohs(e->dport),
					 .proto = e->proto,
					 .ts_ns = e->ts_ns };

		ops_contact(r->ops, &c);
		return 0;
	}
	out = e->dir == BWE_DIR_OUT;
	if (e->type == BWE_EV_BLOCK_HIT) {
		ev = block_hit(r, e);
	} else {
		ev = ev_new("quarantine-drop", "event");
		ev_str(ev, "event.type", "denied");
		ev_str(ev, "event.reason", reason_name(e->reason));
		ev_str(ev, "rule.name", "quarantine");
	}
	ev_addr(ev, "source.ip", out ? &e->host : &e->peer);
	ev_addr(ev, "destination.ip", out ? &e->peer : &e->host);
	ev_addr(ev, "host.ip", &e->host);
	if (e->sport || e->dport) {
		ev_set(ev, "source.port", json_object_new_int(ntohs(e->sport)));
		ev_set(ev, "destination.port", json_object_new_int(ntohs(e->dport)));
	}
	ev_str(ev, "network.transport", proto_name(e->proto));
	ev_str(ev, "network.direction", stat_dir_name(out ? BWE_SD_OUT : BWE_SD_IN));
	if (if_indextoname(e->ifindex, ifname))
		ev_str(ev, "observer.ingress.interface.name", ifname);
	evlog_emit(r->log, ev);
	return 0;
}

int ringbuf_new(struct ringbuf **out, const struct ringbuf_deps *deps)
{
	struct ringbuf *r = calloc(1, sizeof(*r));
	int err;

	if (!r)
		return -ENOMEM;
	r->store = deps->store;
	r->st = deps->st;
	r->ops = deps->ops;
	r->log = deps->log;
	r->rb = ring_buffer__new(bwe_dp_map_fd(deps->dp, BWE_MAP_EVENTS), on_event, r, NULL);
	if (!r->rb) {
		err = -errno;
		free(r);
		return err ? err : -EINVAL;
	}
	*out = r;
	return 0;
}

void ringbuf_free(struct ringbuf *r)
{
	if (!r)
		return;
	ring_buffer__free(r->rb);
	free(r);
}

int ringbuf_fd(const struct ringbuf *r)
{
	return ring_buffer__epoll_fd(r->rb);
}

void ringbuf_consume(struct ringbuf *r)
{
	ring_buffer__consume(r->rb);
}
