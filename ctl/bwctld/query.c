// SPDX-License-Identifier: GPL-2.0-only
/* query.c - read-only answers: status, stats, top, lookup. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "bwctld.h"
#include "log.h"

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
};

const char *reason_name(unsigned int slot)
{
	return slot < BWE_STATS_MAX && reason_names[slot] ? reason_names[slot] : "unknown";
}

static struct json_object *counter_json(const struct bwe_counter *c)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "packets", json_object_new_uint64(c->packets));
	json_object_object_add(o, "bytes", json_object_new_uint64(c->bytes));
	return o;
}

struct json_object *query_stats(struct daemon *d)
{
	struct bwe_counter c[BWE_STATS_MAX];
	struct json_object *o, *r, *a;
	unsigned int i;

	if (bwe_dp_stats_read(d->dp, c))
		return NULL;
	o = json_object_new_object();
	r = json_object_new_object();
	a = json_object_new_object();
	for (i = 0; i < BWE_STATS_MAX; i++)
		json_object_object_add(i < BWE_R_MAX ? r : a, reason_name(i), counter_json(&c[i]));
	json_object_object_add(o, "reasons", r);
	json_object_object_add(o, "anomalies", a);
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

static __u32 map_max(struct daemon *d, const char *name)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(bwe_dp_map_fd(d->dp, name), &info, &len))
		return 0;
	return info.max_entries;
}

struct json_object *query_status(struct daemon *d)
{
	struct json_object *o = json_object_new_object(), *ifs = json_object_new_array(), *maps;
	struct json_object *st;
	char t[32];
	size_t i, nthr = 0;

	json_object_object_add(o, "version", json_object_new_string(BWCTLD_VERSION));
	json_object_object_add(o, "pid", json_object_new_int(getpid()));
	fmt_time(d->started, t, sizeof(t));
	json_object_object_add(o, "started", json_object_new_string(t));
	json_object_object_add(o, "uptime_s", json_object_new_int64(time(NULL) - d->started));
	json_object_object_add(o, "config", json_object_new_string(d->config_path));
	json_object_object_add(o, "monitor_only", json_object_new_boolean(d->cfg->monitor_only));
	json_object_object_add(o, "pin_dir", json_object_new_string(d->cfg->paths.pin_dir));
	for (i = 0; i < d->n_ifaces; i++) {
		struct bwe_iface *ifc = &d->ifaces[i];
		struct json_object *x = json_object_new_object();

		bwe_iface_probe(ifc);
		json_object_object_add(x, "name", json_object_new_string(ifc->name));
		json_object_object_add(x, "ifindex", json_object_new_int(ifc->ifindex));
		json_object_object_add(x, "mode", json_object_new_string(bwe_attach_mode_name(ifc->want)));
		json_object_object_add(x, "attached_mode",
				       ifc->mode == XDP_MODE_NATIVE ? json_object_new_string("native") :
				       ifc->mode == XDP_MODE_SKB ? json_object_new_string("generic") :
				       NULL);
		json_object_object_add(x, "prog_id", json_object_new_uint64(ifc->prog_id));
		json_object_object_add(x, "multiprog", json_object_new_boolean(ifc->multiprog));
		json_object_object_add(x, "state", json_object_new_string(
			ifc->prog_id ? "attached" : !ifc->ifindex ? "missing" : "detached"));
		json_object_object_add(x, "note", ifc->note[0] ? json_object_new_string(ifc->note) : NULL);
		json_object_array_add(ifs, x);
	}
	json_object_object_add(o, "interfaces", ifs);

	for (i = 0; i < d->state.n; i++)
		nthr += d->state.v[i].kind == ST_THROTTLE;
	maps = json_object_new_array();
	json_object_array_add(maps, map_fill(BWE_MAP_NETCLASS, d->nc.n, map_max(d, BWE_MAP_NETCLASS)));
	json_object_array_add(maps, map_fill(BWE_MAP_BL_HOST, d->bl.hosts.n, map_max(d, BWE_MAP_BL_HOST)));
	json_object_array_add(maps, map_fill(BWE_MAP_BL_TBL24, d->bl.n_v4pfx, 0));
	json_object_array_add(maps, map_fill(BWE_MAP_BL_NET6, d->bl.n_v6pfx, map_max(d, BWE_MAP_BL_NET6)));
	json_object_array_add(maps, map_fill(BWE_MAP_THROTTLE, nthr, map_max(d, BWE_MAP_THROTTLE)));
	json_object_array_add(maps, map_fill(BWE_MAP_HOSTS, d->n_hosts, map_max(d, BWE_MAP_HOSTS)));
	json_object_object_add(o, "maps", maps);

	st = query_stats(d);
	if (st) {
		struct json_object *r = NULL;

		json_object_object_get_ex(st, "reasons", &r);
		json_object_object_add(o, "counters", json_object_get(r));
		json_object_put(st);
	}
	json_object_object_add(o, "feeds", feeds_list_json(d));
	return o;
}

struct top_row {
	const struct host_sample *h;
	double key;
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
		t += bytes ? s->drop_bytes[i] : s->drop_packets[i];
	return t;
}

struct json_object *query_top(struct daemon *d, int n, const char *sort)
{
	struct json_object *arr = json_object_new_array();
	struct top_row *rows;
	size_t i;

	hosts_sample(d);
	rows = calloc(d->n_hosts ? d->n_hosts : 1, sizeof(*rows));
	if (!rows)
		return arr;
	for (i = 0; i < d->n_hosts; i++) {
		const struct host_sample *h = &d->hosts[i];

		rows[i].h = h;
		if (!strcmp(sort, "rx"))
			rows[i].key = (double)h->st.rx_bytes;
		else if (!strcmp(sort, "drops"))
			rows[i].key = (double)drops(&h->st, true);
		else if (!strcmp(sort, "rate"))
			rows[i].key = h->tx_bps + h->rx_bps;
		else
			rows[i].key = (double)h->st.tx_bytes;
	}
	qsort(rows, d->n_hosts, sizeof(*rows), top_cmp);
	for (i = 0; i < d->n_hosts && (int)i < n; i++) {
		const struct host_sample *h = rows[i].h;
		struct json_object *o = json_object_new_object(), *state = json_object_new_array();
		char buf[BWE_ADDR_STRLEN];
		__u32 f = bwe_ncset_lookup(&d->nc, &h->addr);

		bwe_addr_fmt(&h->addr, buf, sizeof(buf));
		json_object_object_add(o, "host", json_object_new_string(buf));
		json_object_object_add(o, "tx_bytes", json_object_new_uint64(h->st.tx_bytes));
		json_object_object_add(o, "tx_packets", json_object_new_uint64(h->st.tx_packets));
		json_object_object_add(o, "rx_bytes", json_object_new_uint64(h->st.rx_bytes));
		json_object_object_add(o, "rx_packets", json_object_new_uint64(h->st.rx_packets));
		json_object_object_add(o, "drop_bytes", json_object_new_uint64(drops(&h->st, true)));
		json_object_object_add(o, "drop_packets", json_object_new_uint64(drops(&h->st, false)));
		json_object_object_add(o, "tx_bps", json_object_new_uint64((__u64)h->tx_bps));
		json_object_object_add(o, "rx_bps", json_object_new_uint64((__u64)h->rx_bps));
		json_object_object_add(o, "nonstd_tx_bytes", json_object_new_uint64(h->st.nonstd_tx_bytes));
		json_object_object_add(o, "bl_hits", json_object_new_uint64(h->st.bl_hits));
		if (f & BWE_NC_QUARANTINE)
			json_object_array_add(state, json_object_new_string("quarantine"));
		if (f & BWE_NC_THROTTLE)
			json_object_array_add(state, json_object_new_string("throttle"));
		json_object_object_add(o, "state", state);
		json_object_array_add(arr, o);
	}
	free(rows);
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

static const char *cfg_match(const struct bwe_cfg_prefixes *l, const struct bwe_addr *a,
			     char *buf, size_t len)
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
struct json_object *query_lookup(struct daemon *d, const struct bwe_addr *a)
{
	struct json_object *o = json_object_new_object();
	__u32 f = bwe_ncset_lookup(&d->nc, a);
	const char *verdict = "pass", *reason = "none", *list = NULL, *feed = NULL;
	char entry[BWE_PREFIX_STRLEN] = "", buf[BWE_ADDR_STRLEN];
	struct st_entry *e = NULL;
	__u8 ref;

	bwe_addr_fmt(a, buf, sizeof(buf));
	json_object_object_add(o, "address", json_object_new_string(buf));
	add_classes(o, f);
	json_object_object_add(o, "internal", json_object_new_boolean(!!(f & BWE_NC_INTERNAL)));
	if (f & BWE_NC_ALLOW) {
		reason = "allow";
		list = "allowlist";
		e = st_match(d, ST_ALLOW, a);
		if (!e)
			cfg_match(&d->cfg->allowlist, a, entry, sizeof(entry));
	} else if ((f & BWE_NC_INTERNAL) && (f & BWE_NC_QUARANTINE)) {
		verdict = "drop";
		reason = "quarantine";
		list = "quarantine";
		e = st_match(d, ST_QUARANTINE, a);
	} else if (f & BWE_NC_EXEMPT) {
		reason = "exempt";
		list = "exempt";
		e = st_match(d, ST_EXEMPT, a);
		if (!e)
			cfg_match(&d->cfg->exempt, a, entry, sizeof(entry));
	} else if (f & BWE_NC_INTERNAL) {
		reason = (f & BWE_NC_THROTTLE) ? "throttle" : "internal";
		list = (f & BWE_NC_THROTTLE) ? "throttle" : "internal_networks";
		verdict = (f & BWE_NC_THROTTLE) ? "throttle" : "pass";
		e = (f & BWE_NC_THROTTLE) ? st_match(d, ST_THROTTLE, a) : NULL;
		if (!e)
			cfg_match(&d->cfg->internal, a, entry, sizeof(entry));
	} else if ((ref = bwe_bl_kernel_ref(&d->bl, a))) {
		verdict = (ref & BWE_REF_MONITOR) ? "monitor" : "drop";
		reason = "blocklist";
		list = "blocklist";
		feed = feed_name(d, ref);
		if ((ref & BWE_REF_FEED_MASK) == BWE_FEED_MANUAL) {
			e = st_match(d, ST_BLOCK, a);
		} else {
			/* the deciding feed's longest entry names the indicator */
			struct json_object *m = feeds_lookup_json(d, a);
			size_t k;

			for (k = 0; k < json_object_array_length(m) && !entry[0]; k++) {
				struct json_object *x = json_object_array_get_idx(m, k);

				if (!strcmp(json_object_get_string(json_object_object_get(x, "feed")), feed))
					snprintf(entry, sizeof(entry), "%s",
						 json_object_get_string(json_object_object_get(x, "entry")));
			}
			json_object_put(m);
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
	json_object_object_add(o, "matches", feeds_lookup_json(d, a));
	if (f & BWE_NC_INTERNAL) {
		const struct host_sample *h = hosts_get(d, a);

		if (h) {
			json_object_object_add(o, "tx_bytes", json_object_new_uint64(h->st.tx_bytes));
			json_object_object_add(o, "rx_bytes", json_object_new_uint64(h->st.rx_bytes));
		}
	}
	return o;
}
