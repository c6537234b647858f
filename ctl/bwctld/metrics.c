// SPDX-License-Identifier: GPL-2.0-only
/* metrics.c - the Prometheus exposition of the daemon's figures; contract in metrics.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "bwe_rules.h"
#include "bwe_util.h"
#include "detect.h"
#include "hslots.h"
#include "metrics.h"
#include "ringbuf.h"
#include "util.h"

#define M_PREFIX "bwenforce_"

/* One family's HELP and TYPE lines. */
static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP " M_PREFIX "%s %s\n# TYPE " M_PREFIX "%s %s\n", name, help, name, type);
}

/* A label value with \, " and newline escaped, as the format asks. */
static void label_value(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', f);
		if (*s == '\n') {
			fputs("\\n", f);
			continue;
		}
		fputc(*s, f);
	}
}

/* name{k1="v1",k2="v2"} value; labels: NULL-terminated key, value pairs. */
static void sample(FILE *f, const char *name, unsigned long long v, ...)
{
	const char *k, *sep = "{";
	va_list ap;

	fputs(M_PREFIX, f);
	fputs(name, f);
	va_start(ap, v);
	while ((k = va_arg(ap, const char *))) {
		fprintf(f, "%s%s=\"", sep, k);
		label_value(f, va_arg(ap, const char *));
		fputc('"', f);
		sep = ",";
	}
	va_end(ap);
	fprintf(f, "%s %llu\n", *sep == ',' ? "}" : "", v);
}

static const char *verdict_of(unsigned int reason)
{
	if (reason == BWE_R_ABORTED)
		return "aborted";
	return bwe_reason_drops(reason) ? "drop" : "pass";
}

static void traffic(FILE *f, const struct metrics_deps *d)
{
	struct bwe_counter c[BWE_STATS_MAX][BWE_SD_MAX], a[BWE_STATS_MAX] = { 0 };
	unsigned int i, dir;

	if (bwe_dp_stats_read_dir(d->q.dp, c))
		return; /* the families are left out: a scrape error is better than zeros */
	family(f, "packets_total", "counter",
	       "Packets judged by the XDP program, by direction of the internal host (none: "
	       "no internal side), verdict and reason (bwctl stats).");
	for (dir = 0; dir < BWE_SD_MAX; dir++)
		for (i = 0; i < BWE_R_MAX; i++)
			sample(f, "packets_total", c[i][dir].packets, "direction",
			       stat_dir_name(dir), "verdict", verdict_of(i), "reason",
			       reason_name(i), NULL);
	family(f, "bytes_total", "counter",
	       "L2 frame bytes judged by the XDP program, by direction, verdict and reason.");
	for (dir = 0; dir < BWE_SD_MAX; dir++)
		for (i = 0; i < BWE_R_MAX; i++)
			sample(f, "bytes_total", c[i][dir].bytes, "direction", stat_dir_name(dir),
			       "verdict", verdict_of(i), "reason", reason_name(i), NULL);
	/* anomalies have no direction: their sums */
	for (i = BWE_R_MAX; i < BWE_STATS_MAX; i++)
		for (dir = 0; dir < BWE_SD_MAX; dir++) {
			a[i].packets += c[i][dir].packets;
			a[i].bytes += c[i][dir].bytes;
		}
	family(f, "anomaly_packets_total", "counter",
	       "Packets with a parsing anomaly, without an accounting entry, or left by XDP "
	       "to the LAN egress (NAT), by anomaly (also counted under their verdict).");
	for (i = BWE_R_MAX; i < BWE_STATS_MAX; i++)
		if (i != BWE_A_EVENT_LOST)
			sample(f, "anomaly_packets_total", a[i].packets, "anomaly", reason_name(i),
			       NULL);
	family(f, "anomaly_bytes_total", "counter", "Bytes of the anomaly_packets_total packets.");
	for (i = BWE_R_MAX; i < BWE_STATS_MAX; i++)
		if (i != BWE_A_EVENT_LOST)
			sample(f, "anomaly_bytes_total", a[i].bytes, "anomaly", reason_name(i),
			       NULL);
	family(f, "events_lost_total", "counter",
	       "Events the XDP program could not queue: the ring buffer was full.");
	sample(f, "events_lost_total", a[BWE_A_EVENT_LOST].packets, NULL);
}

static unsigned long long map_max(const struct metrics_deps *d, const char *name)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(bwe_dp_map_fd(d->q.dp, name), &info, &len))
		return 0;
	return info.max_entries;
}

static void fwd_packets(const char *name, const struct bwe_fwd_stats *st, void *ctx)
{
	unsigned int k;

	for (k = 0; k < BWE_FWD_MAX; k++)
		sample(ctx, "fast_forward_packets_total", st->c[k].packets, "interface", name,
		       "result", bwe_fwd_stat_name(k), NULL);
}

static void fwd_bytes(const char *name, const struct bwe_fwd_stats *st, void *ctx)
{
	unsigned int k;

	for (k = 0; k < BWE_FWD_MAX; k++)
		sample(ctx, "fast_forward_bytes_total", st->c[k].bytes, "interface", name, "result",
		       bwe_fwd_stat_name(k), NULL);
}

/* The XDP fast path, per interface with fast_forward on (none: no samples). */
static void forwarding(FILE *f, const struct metrics_deps *d)
{
	family(f, "fast_forward_packets_total", "counter",
	       "Passed packets that arrived on an interface with fast_forward on: forwarded in "
	       "XDP (result forwarded) or handed to the stack, by reason (bwctl status).");
	ifaces_fwd_each(d->q.ifaces, fwd_packets, f);
	family(f, "fast_forward_bytes_total", "counter", "Their L2 frame bytes.");
	ifaces_fwd_each(d->q.ifaces, fwd_bytes, f);
}

static void state(FILE *f, const struct metrics_deps *d)
{
	static const char *const maps[] = { BWE_MAP_NETCLASS, BWE_MAP_BL_HOST4, BWE_MAP_BL_HOST6,
					    BWE_MAP_BL_NET6,  BWE_MAP_THROTTLE, BWE_MAP_HOSTS,
					    BWE_MAP_HSLOTS };
	unsigned long long cap[ARRAY_SIZE(maps)];
	size_t ceiling;
	size_t n[ST_KINDS] = { 0 }, manual[2] = { 0 }, i, bl_hosts, bl_v4, bl_v6, n4, c4, n6, c6;
	unsigned long long entries[ARRAY_SIZE(maps)];

	for (i = 0; i < st_count(d->q.st); i++) {
		const struct st_entry *e = st_at(d->q.st, i);

		n[e->kind]++;
		if (e->kind == ST_BLOCK)
			manual[!bwe_addr_is_v4(&e->pfx.addr)]++;
	}
	family(f, "hosts_tracked", "gauge",
	       "Internal hosts with an accounting entry in the last sample.");
	sample(f, "hosts_tracked", hosts_count(d->q.hosts), NULL);
	{
		struct hostsweep_counts fc;

		hostsweep_counts(d->q.sweep, &fc);
		family(f, "hosts_forgotten_total", "counter",
		       "Host records forgotten for being idle longer than maps.host_idle, by map.");
		sample(f, "hosts_forgotten_total", fc.slots, "map", BWE_MAP_HSLOTS, NULL);
		sample(f, "hosts_forgotten_total", fc.hashed, "map", BWE_MAP_HOSTS, NULL);
	}
	/* a host contained by its MAC address counts once, whatever its addresses */
	family(f, "quarantined_hosts", "gauge",
	       "Quarantined hosts: by MAC address, and by address or prefix.");
	sample(f, "quarantined_hosts", st_contained(d->q.st, ST_QUARANTINE), NULL);
	family(f, "throttled_hosts", "gauge",
	       "Throttled hosts: by MAC address, and by address or prefix.");
	sample(f, "throttled_hosts", st_contained(d->q.st, ST_THROTTLE), NULL);
	family(f, "state_entries", "gauge", "Operator state entries by kind.");
	for (i = 0; i < ST_KINDS; i++)
		sample(f, "state_entries", n[i], "kind", st_kind_name((enum st_kind)i), NULL);

	family(f, "blocklist_entries", "gauge",
	       "Blocklist entries in force by source (a feed, or manual for bwctl block) and "
	       "address family.");
	sample(f, "blocklist_entries", manual[0], "feed", BWE_FEED_NAME_MANUAL, "family", "ipv4",
	       NULL);
	sample(f, "blocklist_entries", manual[1], "feed", BWE_FEED_NAME_MANUAL, "family", "ipv6",
	       NULL);
	for (i = 0; i < feeds_count(d->q.feeds); i++) {
		struct feed_stat fs;

		feeds_stat(d->q.feeds, i, &fs);
		sample(f, "blocklist_entries", fs.v4, "feed", fs.name, "family", "ipv4", NULL);
		sample(f, "blocklist_entries", fs.v6, "feed", fs.name, "family", "ipv6", NULL);
	}

	enf_bl_counts(d->q.enf, &bl_hosts, &bl_v4, &bl_v6);
	for (i = 0; i < ARRAY_SIZE(maps); i++) {
		entries[i] = 0;
		cap[i] = map_max(d, maps[i]);
	}
	entries[0] = enf_netclass_count(d->q.enf);
	/*
	 * exact hosts: the tables grow on need, so what refuses a feed is the
	 * ceiling on both families' hosts; each family's capacity is what the
	 * other leaves of it
	 */
	enf_bl_table(d->q.enf, 0, &n4, &c4, &ceiling);
	enf_bl_table(d->q.enf, 1, &n6, &c6, &ceiling);
	entries[1] = n4;
	cap[1] = ceiling > n6 ? ceiling - n6 : 0;
	entries[2] = n6;
	cap[2] = ceiling > n4 ? ceiling - n4 : 0;
	entries[3] = bl_v6;
	for (i = 0; i < st_count(d->q.st); i++)
		entries[4] += st_at(d->q.st, i)->kind == ST_THROTTLE;
	/* host records: bwe_hosts, and the slots of the blocks handed out */
	entries[5] = hosts_count(d->q.hosts) - hosts_in_slots(d->q.hosts);
	entries[6] = hosts_in_slots(d->q.hosts);
	cap[6] = (unsigned long long)bwe_hslots_blocks(d->q.dp->hsl) * BWE_HSLOT_BLOCK;
	family(f, "map_entries", "gauge",
	       "Entries in a BPF map of bounded size (map pressure with map_capacity).");
	for (i = 0; i < ARRAY_SIZE(maps); i++)
		sample(f, "map_entries", entries[i], "map", maps[i], NULL);
	family(f, "map_capacity", "gauge", "max_entries of a BPF map.");
	for (i = 0; i < ARRAY_SIZE(maps); i++)
		sample(f, "map_capacity", cap[i], "map", maps[i], NULL);
}

/*
 * The bitmaps that spare the programs a lookup (docs/architecture.md):
 * bwe_nc4, bwe_nc6, bwe_bl_h6 and bwe_bl_n6 hashed, bwe_bl_h24 a bit per /24. A set
 * bit sends its addresses down the slower path, so a bitmap filling up
 * costs speed (never a verdict); its fill says when. A bitmap not mapped
 * has no samples.
 */
static void filters(FILE *f, const struct metrics_deps *d)
{
	const struct bwe_dp *dp = d->q.dp;
	const struct {
		const char *map;
		const __u64 *bits;
		size_t words;
	} fl[] = {
		{ BWE_MAP_NC4, dp->nc4, BWE_NC4_WORDS },
		{ BWE_MAP_NC6, dp->nc6, BWE_NC6_WORDS },
		{ BWE_MAP_BL_H24, dp->h24, BWE_BL_H24_WORDS },
		{ BWE_MAP_BL_H6, dp->h6, BWE_BL_H6_WORDS },
		{ BWE_MAP_BL_N6, dp->n6, BWE_BL_N6_WORDS },
	};
	size_t i;

	family(f, "filter_slots_set", "gauge",
	       "Slots (bits) set in a bitmap the programs read to skip a lookup (a set slot: "
	       "the lookup is made), by map.");
	for (i = 0; i < ARRAY_SIZE(fl); i++)
		if (fl[i].bits)
			sample(f, "filter_slots_set", bwe_dp_bits_count(fl[i].bits, fl[i].words),
			       "map", fl[i].map, NULL);
	family(f, "filter_slots", "gauge",
	       "Slots (bits) of a bitmap the programs read to skip a lookup, by map.");
	for (i = 0; i < ARRAY_SIZE(fl); i++)
		if (fl[i].bits)
			sample(f, "filter_slots", (unsigned long long)fl[i].words * 64, "map",
			       fl[i].map, NULL);
}

static void feeds(FILE *f, const struct metrics_deps *d)
{
	size_t i, n = feeds_count(d->q.feeds);
	__u64 restarts, ok, failed;
	struct feed_stat fs;

	family(f, "feed_last_success_timestamp_seconds", "gauge",
	       "When a feed's last version was taken (Unix time; 0: never).");
	for (i = 0; i < n; i++) {
		feeds_stat(d->q.feeds, i, &fs);
		sample(f, "feed_last_success_timestamp_seconds",
		       (unsigned long long)fs.last_success, "feed", fs.name, NULL);
	}
	family(f, "feed_errors_total", "counter",
	       "Failed feed updates (fetch, parse or guard) since start.");
	for (i = 0; i < n; i++) {
		feeds_stat(d->q.feeds, i, &fs);
		sample(f, "feed_errors_total", fs.errors, "feed", fs.name, NULL);
	}
	family(f, "feed_hits_total", "counter",
	       "Blocklist contacts with a feed's entries (events read) since start.");
	for (i = 0; i < n; i++) {
		feeds_stat(d->q.feeds, i, &fs);
		sample(f, "feed_hits_total", fs.hits, "feed", fs.name, NULL);
	}
	feeds_worker_stat(d->q.feeds, &restarts, &ok, &failed);
	family(f, "feed_worker_restarts_total", "counter",
	       "Sandboxed feed workers started again after one died or hung.");
	sample(f, "feed_worker_restarts_total", restarts, NULL);
	family(f, "feed_worker_jobs_total", "counter", "Feed worker jobs completed, by result.");
	sample(f, "feed_worker_jobs_total", ok, "result", "ok", NULL);
	sample(f, "feed_worker_jobs_total", failed, "result", "failed", NULL);
}

static void detector(FILE *f, const struct metrics_deps *d)
{
	static const enum bwe_response acts[] = { BWE_RESP_ALERT, BWE_RESP_THROTTLE,
						  BWE_RESP_QUARANTINE };
	const struct detector_action_count *a;
	struct detector_counts dc;
	size_t i, j, n;

	if (!d->q.detector)
		return;
	detector_counts(d->q.detector, &dc);
	family(f, "detector_hosts", "gauge", "Hosts the detector holds a state for.");
	sample(f, "detector_hosts", dc.hosts, NULL);
	family(f, "detector_capacity", "gauge",
	       "policy.max_hosts (at most maps.hosts): states the detector may hold.");
	sample(f, "detector_capacity", dc.max_hosts, NULL);
	family(f, "detector_refused_total", "counter",
	       "Hosts refused a detector state because the table was full.");
	sample(f, "detector_refused_total", dc.refused, NULL);
	family(f, "detector_actions_total", "counter",
	       "Detection rule decisions that took effect, by rule and action (a refused "
	       "throttle or quarantine counts as alert).");
	a = detector_actions(d->q.detector, &n);
	for (i = 0; i < n; i++)
		for (j = 0; j < ARRAY_SIZE(acts); j++)
			sample(f, "detector_actions_total", a[i].n[acts[j]], "rule", a[i].rule,
			       "action", bwe_response_name(acts[j]), NULL);
}

/* events.syslog, when there is an output: what became of its messages. */
static void syslog_out(FILE *f, const struct metrics_deps *d)
{
	struct slog_stats st;

	if (!evlog_out_stats(d->log, &st))
		return;
	family(f, "syslog_messages_total", "counter",
	       "Messages of the events.syslog output: sent whole, dropped (queue full or "
	       "refused), truncated at message_max.");
	sample(f, "syslog_messages_total", st.sent, "result", "sent", NULL);
	sample(f, "syslog_messages_total", st.dropped, "result", "dropped", NULL);
	sample(f, "syslog_messages_total", st.truncated, "result", "truncated", NULL);
	family(f, "syslog_queue_messages", "gauge", "Messages waiting for the syslog receiver.");
	sample(f, "syslog_queue_messages", st.queued, NULL);
	family(f, "syslog_up", "gauge", "1 while the syslog output's socket takes messages.");
	sample(f, "syslog_up", st.up ? 1 : 0, NULL);
}

/* The fleet, when there is one: attached, behind, waiting, refusing. */
static void fleet(FILE *f, const struct metrics_deps *d)
{
	struct fleet_stat st;

	fleet_stat(d->q.fleet, &st);
	if (!st.enabled)
		return;
	family(f, "fleet_up", "gauge",
	       "1 while etcd answers (0: detached, enforcing local state).");
	sample(f, "fleet_up", st.connected ? 1 : 0, NULL);
	family(f, "fleet_revision_lag", "gauge",
	       "etcd revisions this site has not applied yet (the cluster's last known).");
	sample(f, "fleet_revision_lag", (unsigned long long)st.lag, NULL);
	family(f, "fleet_queued_changes", "gauge", "This site's changes not yet written to etcd.");
	sample(f, "fleet_queued_changes", st.queued, NULL);
	family(f, "fleet_refused_total", "counter",
	       "Records from etcd refused as malformed or out of range (fleet-entry-refused).");
	sample(f, "fleet_refused_total", st.refused, NULL);
	family(f, "fleet_scope_refused_total", "counter",
	       "Other sites' bwctl scope questions and answers refused (malformed, from a "
	       "site not alive, too many).");
	sample(f, "fleet_scope_refused_total", st.scope_refused, NULL);
	family(f, "fleet_sites_alive", "gauge", "Sites whose heartbeat lease lives, this one too.");
	sample(f, "fleet_sites_alive", st.sites_alive, NULL);
}

char *metrics_render(const struct metrics_deps *d, const struct metrics_extra *x, size_t *len)
{
	char *buf = NULL, abi[16];
	FILE *f = open_memstream(&buf, len);

	if (!f)
		return NULL;
	snprintf(abi, sizeof(abi), "%u", BWE_ABI_VERSION);
	family(f, "build_info", "gauge", "Always 1; the labels name the build.");
	sample(f, "build_info", 1, "version", BWCTLD_VERSION, "abi", abi, NULL);
	family(f, "start_time_seconds", "gauge", "When the daemon started (Unix time).");
	sample(f, "start_time_seconds", (unsigned long long)d->q.started, NULL);
	family(f, "monitor_only", "gauge", "1 in monitor-only mode (drops are counted, not done).");
	sample(f, "monitor_only", (*d->q.cfg)->monitor_only ? 1 : 0, NULL);
	traffic(f, d);
	forwarding(f, d);
	state(f, d);
	filters(f, d);
	feeds(f, d);
	detector(f, d);
	family(f, "events_suppressed_total", "counter",
	       "Events held back by event_limits (summarised in events-suppressed events).");
	sample(f, "events_suppressed_total", evlog_suppressed_total(d->log), NULL);
	syslog_out(f, d);
	fleet(f, d);
	family(f, "control_clients", "gauge", "bwctl clients being served on the control socket.");
	sample(f, "control_clients", x->control_clients, NULL);
	family(f, "http_clients", "gauge", "Open connections to the HTTP listener.");
	sample(f, "http_clients", x->http_clients, NULL);
	family(f, "http_requests_total", "counter", "HTTP requests answered since start.");
	sample(f, "http_requests_total", x->http_requests, NULL);
	family(f, "http_refused_total", "counter",
	       "HTTP requests the listener refused (bad path, too large, not authorised).");
	sample(f, "http_refused_total", x->http_refused, NULL);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}
