// SPDX-License-Identifier: GPL-2.0-only
/* enforce.c - derive the maps from the stores; contract in enforce.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>

#include "blocklist.h"
#include "enforce.h"
#include "log.h"
#include "netclass.h"
#include "util.h"

struct enforcer {
	size_t nmacs; /* entries of bwe_macs after the last enf_macs() */
	struct bwe_dp *dp;
	const struct bwe_cfgfile *cfg;
	const struct st_store *st;
	const struct fstore *fs;
	struct bwe_bl bl;
	struct bwe_ncset nc; /* the closed set now in bwe_netclass */
};

int enf_new(struct enforcer **out, struct bwe_dp *dp, const struct bwe_cfgfile *cfg,
	    const struct st_store *st, const struct fstore *fs)
{
	struct enforcer *enf = calloc(1, sizeof(*enf));
	int err;

	if (!enf)
		return -ENOMEM;
	enf->dp = dp;
	enf->cfg = cfg;
	enf->st = st;
	enf->fs = fs;
	bwe_ncset_init(&enf->nc);
	err = bwe_bl_init(&enf->bl, dp);
	if (err) {
		free(enf);
		return err;
	}
	*out = enf;
	return 0;
}

void enf_free(struct enforcer *enf)
{
	if (!enf)
		return;
	bwe_bl_free(&enf->bl);
	bwe_ncset_free(&enf->nc);
	free(enf);
}

void enf_set_config(struct enforcer *enf, const struct bwe_cfgfile *cfg)
{
	enf->cfg = cfg;
}

static int add_list(struct bwe_ncset *s, const struct bwe_cfg_prefixes *l, __u32 flag)
{
	size_t i;
	int err;

	for (i = 0; i < l->n; i++) {
		err = bwe_ncset_add(s, &l->v[i], flag);
		if (err)
			return err;
	}
	return 0;
}

/*
 * The gateway's own addresses are never blocked or quarantined (a feed that
 * lists the WAN prefix must not cut the LAN off from its gateway): they join
 * the network classes as allowlisted hosts.
 */
static int add_gateway_addr(const struct bwe_addr *a, void *ctx)
{
	struct bwe_prefix x = { .addr = *a, .plen = BWE_ADDR_BITS };

	return bwe_ncset_add(ctx, &x, BWE_NC_ALLOW);
}

int enf_netclass(struct enforcer *enf)
{
	static const __u32 kind_flag[ST_KINDS] = {
		[ST_QUARANTINE] = BWE_NC_QUARANTINE,
		[ST_THROTTLE] = BWE_NC_THROTTLE,
		[ST_EXEMPT] = BWE_NC_EXEMPT,
		[ST_ALLOW] = BWE_NC_ALLOW,
	};
	struct bwe_ncset s;
	size_t i;
	int err;

	bwe_ncset_init(&s);
	err = add_list(&s, &enf->cfg->internal, BWE_NC_INTERNAL);
	err = err ?: add_list(&s, &enf->cfg->exempt, BWE_NC_EXEMPT);
	err = err ?: add_list(&s, &enf->cfg->allowlist, BWE_NC_ALLOW);
	err = err ?: for_each_gateway_addr(add_gateway_addr, &s);
	for (i = 0; i < st_count(enf->st) && !err; i++) {
		const struct st_entry *e = st_at(enf->st, i);

		if (kind_flag[e->kind])
			err = bwe_ncset_add(&s, &e->pfx, kind_flag[e->kind]);
	}
	err = err ?: bwe_dp_netclass_apply(enf->dp, &s);
	if (err) {
		log_warnx("cannot write network classes: %s", strerror(-err));
		bwe_ncset_free(&s);
		return err;
	}
	bwe_ncset_free(&enf->nc);
	enf->nc = s;
	return 0;
}

/* The flags of mac over every host record (a host may be quarantined and throttled). */
static __u32 mac_flags(const struct st_store *st, const __u8 mac[BWE_MAC_LEN])
{
	__u32 f = 0;
	size_t i;

	for (i = 0; i < st_host_count(st); i++) {
		const struct st_entry *h = st_host_at(st, i);

		if (!memcmp(h->mac, mac, BWE_MAC_LEN))
			f |= h->kind == ST_QUARANTINE ? BWE_NC_QUARANTINE : BWE_NC_THROTTLE;
	}
	return f;
}

int enf_macs(struct enforcer *enf)
{
	int fd = bwe_dp_map_fd(enf->dp, BWE_MAP_MACS);
	struct bwe_mac_key k, next, *stale = NULL;
	struct bwe_mac_val v, cur;
	size_t i, n = 0, nstale = 0;
	void *prev = NULL;
	struct bwe_config c;
	int err = 0;

	if (fd < 0)
		return fd;
	/* what no record explains goes (the table is small: BWE_MACS_MAX) */
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		if (!mac_flags(enf->st, k.mac)) {
			struct bwe_mac_key *t = reallocarray(stale, nstale + 1, sizeof(*t));

			if (!t) {
				err = -ENOMEM;
				break;
			}
			stale = t;
			stale[nstale++] = k;
		}
	}
	for (i = 0; i < nstale && !err; i++)
		if (bpf_map_delete_elem(fd, &stale[i]) && errno != ENOENT)
			err = -errno;
	free(stale);
	for (i = 0; i < st_host_count(enf->st) && !err; i++) {
		const struct st_entry *h = st_host_at(enf->st, i);

		memset(&k, 0, sizeof(k));
		memset(&v, 0, sizeof(v));
		memcpy(k.mac, h->mac, BWE_MAC_LEN);
		v.flags = mac_flags(enf->st, h->mac);
		if (!bpf_map_lookup_elem(fd, &k, &cur) && cur.flags == v.flags)
			continue;
		if (bpf_map_update_elem(fd, &k, &v, BPF_ANY))
			err = -errno;
	}
	prev = NULL;
	while (!err && !bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		n++;
	}
	err = err ?: bwe_dp_config_get(enf->dp, &c);
	if (!err) {
		__u32 flags = n ? c.flags | BWE_CFG_MACS : c.flags & ~BWE_CFG_MACS;

		if (flags != c.flags) {
			c.flags = flags;
			err = bwe_dp_config_set(enf->dp, &c);
		}
	}
	if (err) {
		log_warnx("cannot write the host identities (bwe_macs): %s", strerror(-err));
		return err;
	}
	enf->nmacs = n;
	return 0;
}

size_t enf_macs_count(const struct enforcer *enf)
{
	return enf->nmacs;
}

int enf_config(struct enforcer *enf)
{
	struct bwe_config c;
	__u32 sketch;
	int err;

	err = bwe_dp_config_get(enf->dp, &c);
	if (err)
		return err;
	c.flags = enf->cfg->monitor_only ? c.flags | BWE_CFG_DRYRUN : c.flags & ~BWE_CFG_DRYRUN;
	sketch = enf->cfg->policy.peer_sketches ? 0 : BWE_CFG_NO_SKETCH;
	if ((c.flags & BWE_CFG_NO_SKETCH) != sketch)
		log_info(sketch ? "per-peer sketches off (policy.peer_sketches): the fanout, relay "
				  "and flood signals cannot fire"
				: "per-peer sketches on (policy.peer_sketches)");
	c.flags = (c.flags & ~BWE_CFG_NO_SKETCH) | sketch;
	c.event_dedup_ns = enf->cfg->event_dedup_s * 1000000000ULL;
	/* contact events only while the detector runs; a secret salt, once */
	c.contact_sample = enf->cfg->policy.interval_s ? enf->cfg->policy.beacon.sample : 0;
	if (!c.contact_salt && getrandom(&c.contact_salt, sizeof(c.contact_salt), 0) < 0)
		c.contact_salt = 0;
	err = bwe_dp_config_set(enf->dp, &c);
	err = err ?: bwe_dp_std_ports_set(enf->dp, enf->cfg->std_ports, enf->cfg->n_std_ports);
	if (err)
		log_warnx("cannot write runtime configuration: %s", strerror(-err));
	return err;
}

/* Set (present) or remove the throttle bucket of every host of a small prefix. */
static int throttle_hosts(struct enforcer *enf, const struct st_entry *e, bool present)
{
	int bits = BWE_ADDR_BITS - e->pfx.plen;
	__u64 n, i;
	int err;

	if (bits > ENF_THROTTLE_HOST_BITS)
		return -E2BIG;
	n = 1ULL << bits;
	for (i = 0; i < n; i++) {
		struct bwe_addr a = e->pfx.addr;

		a.w[3] = htonl(ntohl(a.w[3]) + (__u32)i);
		if (present) {
			err = bwe_dp_throttle_set(enf->dp, &a, e->rate, e->burst);
		} else {
			err = bwe_dp_throttle_del(enf->dp, &a);
			err = err == -ENOENT ? 0 : err;
		}
		if (err)
			return err;
	}
	return 0;
}

/* Blocklist: p's ref from every source (self_id: a feed known to list p). */
static int enf_bl_update(struct enforcer *enf, const struct bwe_prefix *p, __u8 self_id)
{
	bool manual = st_find(enf->st, ST_BLOCK, p) != NULL;

	return bwe_bl_set(&enf->bl, p, fstore_effective_ref(enf->fs, p, manual, self_id, 0));
}

/*
 * The manual blocks, sorted, for the entries of a whole version: the state
 * store finds one entry by walking all of its own, which a feed of N entries
 * would pay N times (a million entries against ten thousand `bwctl block`s:
 * 10^10 comparisons in the event loop).
 */
struct manual_set {
	struct bwe_prefix *v;
	size_t n;
};

static int prefix_order(const void *a, const void *b)
{
	return bwe_prefix_cmp(a, b);
}

static int manual_load(const struct enforcer *enf, struct manual_set *m)
{
	size_t i, n = st_count(enf->st);

	m->n = 0;
	m->v = calloc(n ?: 1, sizeof(*m->v));
	if (!m->v)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		const struct st_entry *e = st_at(enf->st, i);

		if (e->kind == ST_BLOCK)
			m->v[m->n++] = e->pfx;
	}
	qsort(m->v, m->n, sizeof(*m->v), prefix_order);
	return 0;
}

/* enf_bl_update() with the manual blocks of m; absent_id: a feed known not to list p. */
static int bl_update_in(struct enforcer *enf, const struct manual_set *m,
			const struct bwe_prefix *p, __u8 self_id, __u8 absent_id)
{
	bool manual = m->n && bsearch(p, m->v, m->n, sizeof(*m->v), prefix_order);

	return bwe_bl_set(&enf->bl, p,
			  fstore_effective_ref(enf->fs, p, manual, self_id, absent_id));
}

int enf_bl_withdraw(struct enforcer *enf, const struct fs_vec *v)
{
	struct manual_set m;
	size_t i;
	int err = manual_load(enf, &m);

	for (i = 0; i < v->n && !err; i++)
		err = bl_update_in(enf, &m, &v->v[i].pfx, 0, 0);
	free(m.v);
	return bwe_bl_flush(&enf->bl) ?: err;
}

int enf_bl_reserve(struct enforcer *enf, const struct bwe_bl_room *room)
{
	return bwe_bl_reserve(&enf->bl, room);
}

/* Re-derive n prefixes from the stores and flush; the first error, all tried. */
static int bl_rederive(struct enforcer *enf, const struct manual_set *m, const struct bwe_prefix *p,
		       size_t n)
{
	size_t i;
	int err = 0;

	for (i = 0; i < n; i++)
		err = bl_update_in(enf, m, &p[i], 0, 0) ?: err;
	return bwe_bl_flush(&enf->bl) ?: err;
}

/* The difference of cur and nv: first_seen carried over, additions and removals listed. */
static int bl_diff(const struct fs_vec *cur, struct fs_vec *nv, time_t now, struct bwe_prefix **add,
		   size_t *nadd, struct bwe_prefix **gone, size_t *ngone)
{
	size_t i = 0, j = 0;
	int err;

	*nadd = *ngone = 0;
	/* at most every new entry is an addition, every old one a removal */
	*add = calloc(nv->n ? nv->n : 1, sizeof(**add));
	*gone = calloc(cur->n ? cur->n : 1, sizeof(**gone));
	if (!*add || !*gone)
		return -ENOMEM;
	while (i < cur->n || j < nv->n) {
		int c = i == cur->n  ? 1
			: j == nv->n ? -1
				     : bwe_prefix_cmp(&cur->v[i].pfx, &nv->v[j].pfx);

		if (c == 0) {
			err = fs_ent_set_first_seen(nv, &nv->v[j++],
						    fs_ent_first_seen(cur, &cur->v[i++]));
		} else if (c < 0) {
			(*gone)[(*ngone)++] = cur->v[i++].pfx;
		} else {
			err = fs_ent_set_first_seen(nv, &nv->v[j], now);
			(*add)[(*nadd)++] = nv->v[j++].pfx;
		}
		if (err)
			return err;
	}
	return 0;
}

int enf_bl_install_diff(struct enforcer *enf, struct fstore *store, __u8 id, struct fs_vec *nv,
			const struct bwe_prefix *add, size_t nadd, const struct bwe_prefix *gone,
			size_t ngone, struct enf_bl_change *out)
{
	struct manual_set m;
	size_t i;
	int err;

	memset(out, 0, sizeof(*out));
	if (!fstore_entries(store, id))
		return -ENOENT;
	out->added = nadd;
	out->removed = ngone;
	err = bwe_bl_room(&enf->bl, add, nadd, &out->room);
	err = err ?: manual_load(enf, &m);
	if (err)
		return err;
	fstore_swap(store, id, nv); /* the store holds the new version, nv the old */

	/* Additions first (room for them reserved at once) ... */
	err = enf_bl_reserve(enf, &out->room);
	for (i = 0; i < nadd && !err; i++) {
		if (i + BWE_BL_AHEAD < nadd)
			bwe_bl_prefetch(&enf->bl, &add[i + BWE_BL_AHEAD]);
		err = bl_update_in(enf, &m, &add[i], id, 0);
	}
	err = err ?: bwe_bl_flush(&enf->bl);
	/* ... then removals: what no other source holds disappears (the new
	 * version holds none of them: its vector is not searched) */
	for (i = 0; i < ngone && !err; i++)
		err = bl_update_in(enf, &m, &gone[i], 0, id);
	err = err ?: bwe_bl_flush(&enf->bl);
	if (err) {
		fstore_swap(store, id, nv); /* the old version again */
		out->rollback_err = bl_rederive(enf, &m, add, nadd);
		out->rollback_err = bl_rederive(enf, &m, gone, ngone) ?: out->rollback_err;
	}
	free(m.v);
	return err;
}

int enf_bl_install(struct enforcer *enf, struct fstore *store, __u8 id, struct fs_vec *nv,
		   time_t now, struct enf_bl_change *out)
{
	const struct fs_vec *cur = fstore_entries(store, id);
	struct bwe_prefix *add = NULL, *gone = NULL;
	size_t nadd = 0, ngone = 0;
	int err;

	memset(out, 0, sizeof(*out));
	if (!cur)
		return -ENOENT;
	err = bl_diff(cur, nv, now, &add, &nadd, &gone, &ngone);
	err = err ?: enf_bl_install_diff(enf, store, id, nv, add, nadd, gone, ngone, out);
	free(add);
	free(gone);
	return err;
}

int enf_bl_sweep(struct enforcer *enf)
{
	return bwe_bl_sweep(&enf->bl);
}

__u8 enf_bl_kernel_ref(const struct enforcer *enf, const struct bwe_addr *a)
{
	return bwe_bl_kernel_ref(&enf->bl, a);
}

void enf_bl_counts(const struct enforcer *enf, size_t *hosts, size_t *v4pfx, size_t *v6pfx)
{
	*hosts = bwe_bl_hosts(&enf->bl);
	*v4pfx = enf->bl.n_v4pfx;
	*v6pfx = enf->bl.n_v6pfx;
}

void enf_bl_table(const struct enforcer *enf, int v6, size_t *hosts, size_t *max, size_t *ceiling)
{
	const struct bwe_bl_table *t = &enf->bl.tab[v6 ? BWE_BL_V6 : BWE_BL_V4];

	*hosts = t->n;
	*max = t->max;
	*ceiling = enf->bl.host_max;
}

int enf_entry(struct enforcer *enf, const struct st_entry *e, bool present)
{
	int err = 0;

	switch (e->kind) {
	case ST_BLOCK:
		/* the state store already says whether the manual entry exists */
		err = enf_bl_update(enf, &e->pfx, 0);
		err = err ?: bwe_bl_flush(&enf->bl);
		break;
	case ST_THROTTLE:
		err = throttle_hosts(enf, e, present);
		break;
	default:
		break; /* carried by the network classes */
	}
	if (err) {
		char buf[BWE_PREFIX_STRLEN];

		bwe_prefix_fmt(&e->pfx, buf, sizeof(buf));
		log_warnx("cannot %s %s %s: %s", present ? "apply" : "remove",
			  st_kind_name(e->kind), buf, strerror(-err));
	}
	return err;
}

/* Remove throttle buckets that no state entry explains (after a restart). */
static void sweep_throttles(struct enforcer *enf)
{
	int fd = bwe_dp_map_fd(enf->dp, BWE_MAP_THROTTLE);
	struct bwe_addr k, next, *stale = NULL;
	size_t n = 0, i;
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		if (!st_match(enf->st, ST_THROTTLE, &k)) {
			struct bwe_addr *t = reallocarray(stale, n + 1, sizeof(*t));

			if (!t)
				break;
			stale = t;
			stale[n++] = k;
		}
	}
	for (i = 0; i < n; i++)
		bpf_map_delete_elem(fd, &stale[i]);
	free(stale);
}

int enf_all(struct enforcer *enf)
{
	size_t i;
	int err;

	err = enf_config(enf);
	err = enf_netclass(enf) ?: err;
	err = enf_macs(enf) ?: err;
	for (i = 0; i < st_count(enf->st); i++)
		err = enf_entry(enf, st_at(enf->st, i), true) ?: err;
	sweep_throttles(enf);
	return err;
}

__u32 enf_classes(const struct enforcer *enf, const struct bwe_addr *a)
{
	return bwe_ncset_lookup(&enf->nc, a);
}

size_t enf_netclass_count(const struct enforcer *enf)
{
	return enf->nc.n;
}
