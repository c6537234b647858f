// SPDX-License-Identifier: GPL-2.0-only
/* query.c - read-only answers: status, stats, top, lookup; contract in query.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "hslots.h"
#include "log.h"
#include "query.h"
#include "ringbuf.h"
#include "util.h"

static struct json_object *counter_json(const struct bwe_counter *c)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "packets", json_object_new_uint64(c->packets));
	json_object_object_add(o, "bytes", json_object_new_uint64(c->bytes));
	return o;
}

/*
 * {reasons, anomalies}: totals over directions; {directions}: the verdict
 * reasons again, split by direction (outbound, inbound, none). One read,
 * so the split adds up to the totals.
 */
struct json_object *query_stats(const struct query_deps *q)
{
	struct bwe_counter c[BWE_STATS_MAX][BWE_SD_MAX], sum;
	struct json_object *o, *r, *a, *dirs, *dj;
	unsigned int i, d;

	if (bwe_dp_stats_read_dir(q->dp, c))
		return NULL;
	o = json_object_new_object();
	r = json_object_new_object();
	a = json_object_new_object();
	dirs = json_object_new_object();
	for (i = 0; i < BWE_STATS_MAX; i++) {
		sum = (struct bwe_counter){ 0 };
		for (d = 0; d < BWE_SD_MAX; d++) {
			sum.packets += c[i][d].packets;
			sum.bytes += c[i][d].bytes;
		}
		json_object_object_add(i < BWE_R_MAX ? r : a, reason_name(i), counter_json(&sum));
	}
	for (d = 0; d < BWE_SD_MAX; d++) {
		dj = json_object_new_object();
		for (i = 0; i < BWE_R_MAX; i++)
			json_object_object_add(dj, reason_name(i), counter_json(&c[i][d]));
		json_object_object_add(dirs, stat_dir_name(d), dj);
	}
	json_object_object_add(o, "reasons", r);
	json_object_object_add(o, "anomalies", a);
	json_object_object_add(o, "directions", dirs);
	return o;
}

static struct json_object *map_fill(const char *name, size_t entries, __u32 max)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "entries", json_object_new_uint64(entries));
	json_object_object_add(o, "max_entries", json_object_new_uint64(max));
	return o;
}

static __u32 map_max(const struct query_deps *q, const char *name)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(bwe_dp_map_fd(q->dp, name), &info, &len))
		return 0;
	return info.max_entries;
}

struct json_object *query_status(const struct query_deps *q)
{
	const struct bwe_cfgfile *cfg = *q->cfg;
	struct json_object *o = json_object_new_object(), *maps, *st, *ident;
	char t[BWE_TIME_STRLEN];
	size_t i, nthr = 0, bl_hosts, bl_v4, bl_v6;

	json_object_object_add(o, "version", json_object_new_string(BWCTLD_VERSION));
	json_object_object_add(o, "pid", json_object_new_int(getpid()));
	fmt_time(q->started, t, sizeof(t));
	json_object_object_add(o, "started", json_object_new_string(t));
	json_object_object_add(o, "uptime_s", json_object_new_int64(time(NULL) - q->started));
	json_object_object_add(o, "config", json_object_new_string(q->config_path));
	json_object_object_add(o, "monitor_only", json_object_new_boolean(cfg->monitor_only));
	json_object_object_add(o, "pin_dir", json_object_new_string(cfg->paths.pin_dir));
	/* the data plane was loaded with the flowtable fast path (fast_forward: flowtable) */
	json_object_object_add(o, "flowtable", json_object_new_boolean(q->dp->flowtable));
	json_object_object_add(o, "interfaces", ifaces_status_json(q->ifaces));

	for (i = 0; i < st_count(q->st); i++)
		nthr += st_at(q->st, i)->kind == ST_THROTTLE;
	enf_bl_counts(q->enf, &bl_hosts, &bl_v4, &bl_v6);
	maps = json_object_new_array();
	json_object_array_add(maps, map_fill(BWE_MAP_NETCLASS, enf_netclass_count(q->enf),
					     map_max(q, BWE_MAP_NETCLASS)));
	for (i = 0; i < 2; i++) { /* exact hosts: the size of the current table, grown on need */
		size_t n, max, ceiling;
		struct json_object *tab;

		enf_bl_table(q->enf, (int)i, &n, &max, &ceiling);
		tab = map_fill(i ? BWE_MAP_BL_HOST6 : BWE_MAP_BL_HOST4, n, (__u32)max);
		json_object_object_add(tab, "ceiling", json_object_new_uint64(ceiling));
		json_object_array_add(maps, tab);
	}
	json_object_array_add(maps, map_fill(BWE_MAP_BL_TBL24, bl_v4, 0));
	json_object_array_add(maps, map_fill(BWE_MAP_BL_NET6, bl_v6, map_max(q, BWE_MAP_BL_NET6)));
	json_object_array_add(maps, map_fill(BWE_MAP_THROTTLE, nthr, map_max(q, BWE_MAP_THROTTLE)));
	{ /* host records: the IPv4 host slots (whole /24 blocks), then bwe_hosts; each with
	   * the hosts the idle sweep forgot since start (maps.host_idle) */
		struct json_object *sl, *hm;
		__u32 blocks = bwe_hslots_blocks(q->dp->hsl);
		struct hostsweep_counts fc;

		hostsweep_counts(q->sweep, &fc);
		sl = map_fill(BWE_MAP_HSLOTS, hosts_in_slots(q->hosts), blocks * BWE_HSLOT_BLOCK);
		json_object_object_add(sl, "blocks", json_object_new_uint64(blocks));
		json_object_object_add(sl, "blocks_used",
				       json_object_new_uint64(bwe_hslots_used(q->dp->hsl)));
		json_object_object_add(sl, "forgotten", json_object_new_uint64(fc.slots));
		json_object_array_add(maps, sl);
		hm = map_fill(BWE_MAP_HOSTS, hosts_count(q->hosts) - hosts_in_slots(q->hosts),
			      map_max(q, BWE_MAP_HOSTS));
		json_object_object_add(hm, "forgotten", json_object_new_uint64(fc.hashed));
		json_object_array_add(maps, hm);
	}
	json_object_array_add(maps, map_fill(BWE_MAP_MACS, enf_macs_count(q->enf),
					     map_max(q, BWE_MAP_MACS)));
	json_object_object_add(o, "maps", maps);
	/* containment by identity: host records, and the neighbour view they read */
	ident = json_object_new_object();
	json_object_object_add(ident, "hosts", json_object_new_uint64(st_host_count(q->st)));
	json_object_object_add(ident, "neighbour_view", json_object_new_boolean(q->nw != NULL));
	json_object_object_add(ident, "neighbours", json_object_new_uint64(bwe_neigh_count(q->nw)));
	json_object_object_add(ident, "neighbours_not_kept",
			       json_object_new_uint64(bwe_neigh_dropped(q->nw)));
	json_object_object_add(o, "identity", ident);

	st = query_stats(q);
	if (st) {
		struct json_object *r = NULL, *a = NULL, *u = NULL;

		json_object_object_get_ex(st, "reasons", &r);
		json_object_object_add(o, "counters", json_object_get(r));
		/* inbound traffic to addresses that never sent: one row, not a host each */
		if (json_object_object_get_ex(st, "anomalies", &a) &&
		    json_object_object_get_ex(a, reason_name(BWE_A_INBOUND_UNTRACKED), &u))
			json_object_object_add(o, "untracked_inbound", json_object_get(u));
		json_object_put(st);
	}
	if (q->detector) {
		struct detector_counts dc;
		struct json_object *d = json_object_new_object();

		detector_counts(q->detector, &dc);
		json_object_object_add(d, "hosts", json_object_new_uint64(dc.hosts));
		json_object_object_add(d, "max_hosts", json_object_new_uint64(dc.max_hosts));
		json_object_object_add(d, "refused", json_object_new_uint64(dc.refused));
		json_object_object_add(d, "freed", json_object_new_uint64(dc.freed));
		json_object_object_add(o, "detector", d);
	}
	json_object_object_add(o, "feeds", feeds_list_json(q->feeds));
	json_object_object_add(o, "feed_worker", feeds_worker_json(q->feeds));
	return o;
}

/*
 * The last row of top: inbound traffic to internal addresses that have no
 * accounting entry (they never sent), summed; only when there was any.
 * "host" is a label, not an address, and "aggregate" marks the row.
 */
static void untracked_row(const struct query_deps *q, struct json_object *arr)
{
	struct bwe_counter c[BWE_STATS_MAX];
	struct bwe_counter *u = &c[BWE_A_INBOUND_UNTRACKED];
	struct json_object *o;

	if (bwe_dp_stats_read(q->dp, c) || !u->packets)
		return;
	o = json_object_new_object();
	json_object_object_add(o, "host", json_object_new_string("(untracked inbound)"));
	json_object_object_add(o, "aggregate", json_object_new_string("inbound_untracked"));
	json_object_object_add(o, "tx_bytes", json_object_new_uint64(0));
	json_object_object_add(o, "tx_packets", json_object_new_uint64(0));
	json_object_object_add(o, "rx_bytes", json_object_new_uint64(u->bytes));
	json_object_object_add(o, "rx_packets", json_object_new_uint64(u->packets));
	json_object_object_add(o, "state", json_object_new_array());
	json_object_array_add(arr, o);
}

/* What bwctl top shows of a host (the sample is not kept: each batch is copied from). */
struct top_row {
	struct bwe_addr addr;
	__u64 tx_bytes, tx_packets, rx_bytes, rx_packets, drop_bytes, drop_packets;
	__u64 nonstd_tx_bytes, bl_hits, bl_in_hits;
	double tx_bps, rx_bps;
	double key;
};

struct top_rows {
	struct top_row *v;
	size_t n, cap;
	const char *sort;
	bool failed;
};

static int top_cmp(const void *a, const void *b)
{
	const struct top_row *x = a, *y = b;

	return x->key < y->key ? 1 : x->key > y->key ? -1 : 0;
}

static __u64 drops(const struct bwe_host_stats *s, bool bytes)
{
	__u64 t = 0;
	int i;

	for (i = 0; i < BWE_HD_MAX; i++)
		t += bytes ? s->drop[i].bytes : s->drop[i].packets;
	return t;
}

static void top_batch(void *ctx, const struct host_sample *v, size_t n)
{
	struct top_rows *t = ctx;
	size_t i;

	if (t->n + n > t->cap) {
		size_t cap = 2 * (t->n + n);
		struct top_row *p = reallocarray(t->v, cap, sizeof(*p));

		if (!p) {
			t->failed = true;
			return;
		}
		t->v = p;
		t->cap = cap;
	}
	for (i = 0; i < n; i++) {
		const struct host_sample *h = &v[i];
		struct top_row *r = &t->v[t->n++];

		*r = (struct top_row){ .addr = h->addr,
				       .tx_bytes = h->st.tx_bytes,
				       .tx_packets = h->st.tx_packets,
				       .rx_bytes = h->st.rx_bytes,
				       .rx_packets = h->st.rx_packets,
				       .drop_bytes = drops(&h->st, true),
				       .drop_packets = drops(&h->st, false),
				       .nonstd_tx_bytes = h->st.nonstd_tx_bytes,
				       .bl_hits = h->st.bl_hits,
				       .bl_in_hits = h->st.bl_in_hits,
				       .tx_bps = h->tx_bps,
				       .rx_bps = h->rx_bps };
		if (!strcmp(t->sort, "rx"))
			r->key = (double)r->rx_bytes;
		else if (!strcmp(t->sort, "drops"))
			r->key = (double)r->drop_bytes;
		else if (!strcmp(t->sort, "rate"))
			r->key = r->tx_bps + r->rx_bps;
		else
			r->key = (double)r->tx_bytes;
	}
}

struct json_object *query_top(const struct query_deps *q, int n, const char *sort)
{
	struct json_object *arr = json_object_new_array();
	struct top_rows t = { .sort = sort };
	struct top_row *rows;
	size_t i, nh;

	if (hosts_sample(q->hosts, top_batch, &t) || t.failed) {
		free(t.v);
		return arr;
	}
	rows = t.v;
	nh = t.n;
	if (nh)
		qsort(rows, nh, sizeof(*rows), top_cmp);
	for (i = 0; i < nh && (int)i < n; i++) {
		const struct top_row *h = &rows[i];
		struct json_object *o = json_object_new_object(), *state = json_object_new_array();
		char buf[BWE_ADDR_STRLEN];
		__u32 f = enf_classes(q->enf, &h->addr);

		bwe_addr_fmt(&h->addr, buf, sizeof(buf));
		json_object_object_add(o, "host", json_object_new_string(buf));
		json_object_object_add(o, "tx_bytes", json_object_new_uint64(h->tx_bytes));
		json_object_object_add(o, "tx_packets", json_object_new_uint64(h->tx_packets));
		json_object_object_add(o, "rx_bytes", json_object_new_uint64(h->rx_bytes));
		json_object_object_add(o, "rx_packets", json_object_new_uint64(h->rx_packets));
		json_object_object_add(o, "drop_bytes", json_object_new_uint64(h->drop_bytes));
		json_object_object_add(o, "drop_packets", json_object_new_uint64(h->drop_packets));
		json_object_object_add(o, "tx_bps", json_object_new_uint64((__u64)h->tx_bps));
		json_object_object_add(o, "rx_bps", json_object_new_uint64((__u64)h->rx_bps));
		json_object_object_add(o, "nonstd_tx_bytes",
				       json_object_new_uint64(h->nonstd_tx_bytes));
		json_object_object_add(o, "bl_hits", json_object_new_uint64(h->bl_hits));
		json_object_object_add(o, "bl_in_hits", json_object_new_uint64(h->bl_in_hits));
		if (f & BWE_NC_QUARANTINE)
			json_object_array_add(state, json_object_new_string("quarantine"));
		if (f & BWE_NC_THROTTLE)
			json_object_array_add(state, json_object_new_string("throttle"));
		json_object_object_add(o, "state", state);
		json_object_array_add(arr, o);
	}
	free(rows);
	untracked_row(q, arr);
	return arr;
}

static void add_classes(struct json_object *o, __u32 f)
{
	struct json_object *c = json_object_new_array();

	if (f & BWE_NC_INTERNAL)
		json_object_array_add(c, json_object_new_string("internal"));
	if (f & BWE_NC_EXEMPT)
		json_object_array_add(c, json_object_new_string("exempt"));
	if (f & BWE_NC_ALLOW)
		json_object_array_add(c, json_object_new_string("allow"));
	if (f & BWE_NC_QUARANTINE)
		json_object_array_add(c, json_object_new_string("quarantine"));
	if (f & BWE_NC_THROTTLE)
		json_object_array_add(c, json_object_new_string("throttle"));
	json_object_object_add(o, "classes", c);
}

static const char *cfg_match(const struct bwe_cfg_prefixes *l, const struct bwe_addr *a, char *buf,
			     size_t len)
{
	const struct bwe_prefix *best = NULL;
	size_t i;

	for (i = 0; i < l->n; i++)
		if (bwe_prefix_contains(&l->v[i], a) && (!best || l->v[i].plen > best->plen))
			best = &l->v[i];
	if (!best)
		return NULL;
	bwe_prefix_fmt(best, buf, len);
	return buf;
}

/* Name the list and entry that decide for an address, as the program would. */
/* Every feed entry containing a: the provenance. */
static struct json_object *matches_json(const struct fs_match *m, size_t n)
{
	struct json_object *arr = json_object_new_array();
	size_t i;

	for (i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();
		char buf[BWE_PREFIX_STRLEN];

		bwe_prefix_fmt(&m[i].pfx, buf, sizeof(buf));
		json_object_object_add(o, "feed", json_object_new_string(m[i].feed));
		json_object_object_add(o, "action",
				       json_object_new_string(m[i].monitor ? "monitor" : "drop"));
		json_object_object_add(o, "entry", json_object_new_string(buf));
		json_object_object_add(o, "source", json_object_new_string(m[i].source));
		json_object_object_add(o, "line", json_object_new_int64(m[i].line));
		json_object_object_add(o, "indicator",
				       m[i].indicator ? json_object_new_string(m[i].indicator)
						      : NULL);
		json_add_time(o, "first_seen", m[i].first_seen);
		json_add_time(o, "expires", m[i].valid_until);
		json_object_array_add(arr, o);
	}
	return arr;
}

struct json_object *query_lookup(const struct query_deps *q, const struct bwe_addr *a)
{
	const struct bwe_cfgfile *cfg = *q->cfg;
	struct json_object *o = json_object_new_object();
	__u32 f = enf_classes(q->enf, a);
	struct fs_match m[FS_MATCH_MAX];
	size_t nm = fstore_match(q->store, a, m, FS_MATCH_MAX), k;
	const char *verdict = "pass", *reason = "none", *list = NULL, *feed = NULL;
	char entry[BWE_PREFIX_STRLEN] = "", buf[BWE_ADDR_STRLEN];
	const struct st_entry *e = NULL;
	__u8 ref;

	bwe_addr_fmt(a, buf, sizeof(buf));
	json_object_object_add(o, "address", json_object_new_string(buf));
	add_classes(o, f);
	json_object_object_add(o, "internal", json_object_new_boolean(!!(f & BWE_NC_INTERNAL)));
	if (f & BWE_NC_ALLOW) {
		reason = "allow";
		list = "allowlist";
		e = st_match(q->st, ST_ALLOW, a);
		if (!e)
			cfg_match(&cfg->allowlist, a, entry, sizeof(entry));
	} else if ((f & BWE_NC_INTERNAL) && (f & BWE_NC_QUARANTINE)) {
		verdict = "drop";
		reason = "quarantine";
		list = "quarantine";
		e = st_match(q->st, ST_QUARANTINE, a);
	} else if (f & BWE_NC_EXEMPT) {
		reason = "exempt";
		list = "exempt";
		e = st_match(q->st, ST_EXEMPT, a);
		if (!e)
			cfg_match(&cfg->exempt, a, entry, sizeof(entry));
	} else if (f & BWE_NC_INTERNAL) {
		reason = (f & BWE_NC_THROTTLE) ? "throttle" : "internal";
		list = (f & BWE_NC_THROTTLE) ? "throttle" : "internal_networks";
		verdict = (f & BWE_NC_THROTTLE) ? "throttle" : "pass";
		e = (f & BWE_NC_THROTTLE) ? st_match(q->st, ST_THROTTLE, a) : NULL;
		if (!e)
			cfg_match(&cfg->internal, a, entry, sizeof(entry));
	} else if ((ref = enf_bl_kernel_ref(q->enf, a))) {
		verdict = (ref & BWE_REF_MONITOR) ? "monitor" : "drop";
		reason = "blocklist";
		list = "blocklist";
		feed = fstore_ref_name(q->store, ref);
		if ((ref & BWE_REF_FEED_MASK) == BWE_FEED_MANUAL) {
			e = st_match(q->st, ST_BLOCK, a);
		} else {
			/* the deciding feed's longest entry names the indicator */
			for (k = 0; k < nm && !entry[0]; k++)
				if (m[k].feed_id == (ref & BWE_REF_FEED_MASK))
					bwe_prefix_fmt(&m[k].pfx, entry, sizeof(entry));
		}
	}
	if (e)
		bwe_prefix_fmt(&e->pfx, entry, sizeof(entry));
	json_object_object_add(o, "verdict", json_object_new_string(verdict));
	json_object_object_add(o, "reason", json_object_new_string(reason));
	json_object_object_add(o, "list", list ? json_object_new_string(list) : NULL);
	json_object_object_add(o, "entry", entry[0] ? json_object_new_string(entry) : NULL);
	json_object_object_add(o, "feed", feed ? json_object_new_string(feed) : NULL);
	json_object_object_add(o, "state", e ? st_entry_json(e) : NULL);
	json_object_object_add(o, "matches", matches_json(m, nm));
	if (f & BWE_NC_INTERNAL) {
		struct host_sample smp;
		const struct host_sample *h = hosts_get(q->hosts, a, &smp) ? NULL : &smp;

		if (h) {
			json_object_object_add(o, "tx_bytes",
					       json_object_new_uint64(h->st.tx_bytes));
			json_object_object_add(o, "rx_bytes",
					       json_object_new_uint64(h->st.rx_bytes));
		}
	}
	return o;
}

struct json_object *query_list(const struct query_deps *q, enum st_kind kind)
{
	struct json_object *arr = json_object_new_array();
	size_t i;

	for (i = 0; i < st_count(q->st); i++)
		if (st_at(q->st, i)->kind == kind)
			json_object_array_add(arr, st_entry_json_host(q->st, st_at(q->st, i)));
	for (i = 0; i < st_host_count(q->st); i++) {
		const struct st_entry *h = st_host_at(q->st, i);

		if (h->kind == kind && !st_mac_entries(q->st, kind, h->mac, false))
			json_object_array_add(arr, st_entry_json_host(q->st, h));
	}
	return arr;
}

int query_mac_addr(const struct query_deps *q, const __u8 mac[BWE_MAC_LEN], struct bwe_addr *out)
{
	size_t i;

	for (i = 0; i < st_count(q->st); i++) {
		const struct st_entry *e = st_at(q->st, i);

		if (e->has_mac && !memcmp(e->mac, mac, BWE_MAC_LEN)) {
			*out = e->pfx.addr;
			return 0;
		}
	}
	return bwe_neigh_addrs_of(q->nw, mac, out, 1) ? 0 : -ENOENT;
}

void query_report_identity(const struct query_deps *q, struct json_object *report,
			   const struct bwe_addr *a)
{
	static const struct {
		enum st_kind kind;
		const char *key;
	} ks[] = { { ST_QUARANTINE, "quarantine" }, { ST_THROTTLE, "throttle" } };
	struct json_object *c;
	size_t i;

	if (!json_object_object_get_ex(report, "containment", &c))
		return;
	for (i = 0; i < ARRAY_SIZE(ks); i++) {
		const struct st_entry *e = st_match(q->st, ks[i].kind, a);

		if (e)
			json_object_object_add(c, ks[i].key, st_entry_json_host(q->st, e));
	}
}
