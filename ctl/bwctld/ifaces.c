// SPDX-License-Identifier: GPL-2.0-only
/* ifaces.c - interfaces: attach, detach, link changes; contract in ifaces.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "ifaces.h"
#include "linkwatch.h"
#include "log.h"

struct ifc {
	struct bwe_iface i;
	bool held;		  /* an operator detached it: stay away until attach */
	enum bwe_nat nat;	  /* what the kernel translates on it (config) */
	enum bwe_fast_forward ff; /* what becomes of passed traffic arriving here (config) */
	__u32 tc_id;		  /* our TC egress program on it, 0 none */
	int xmit;		  /* bwe_xdp_can_xmit() when last synced */
	bool xmit_seen;		  /* xmit holds an answer (logged once, then on change) */
	__u32 dev_ifindex;	  /* its ifindex in bwe_fwd_dev, 0 not there */
	bool has_stats;		  /* it holds entry `stats` of bwe_fwd_stats */
	__u16 stats;
};

struct ifaces {
	const struct bwe_cfgfile *cfg;
	struct bwe_dp *dp;
	struct enforcer *enf;
	struct evlog *log;
	struct bwe_linkwatch *lw;
	struct ifc *v;
	size_t n;
	unsigned int ticks; /* since the last look at the XDP transmit features */
};

#define XMIT_RECHECK_TICKS 5 /* ticks (seconds) between looks at a peer-dependent feature */

static struct ifc *find(struct ifaces *ifs, const char *name)
{
	size_t i;

	for (i = 0; i < ifs->n; i++)
		if (!strcmp(ifs->v[i].i.name, name))
			return &ifs->v[i];
	return NULL;
}

static int try_attach(struct ifaces *ifs, struct ifc *c)
{
	int err = bwe_attach(&c->i, bwe_dp_prog_fd(ifs->dp));
	struct json_object *ev;

	if (err) {
		log_warnx("%s: not attached: %s%s%s", c->i.name, strerror(-err),
			  c->i.note[0] ? ": " : "", c->i.note);
		return err;
	}
	c->held = false;
	log_info("%s: attached (%s%s), program id %u%s%s", c->i.name,
		 c->i.mode == XDP_MODE_NATIVE ? "native" : "generic",
		 c->i.multiprog ? ", dispatcher" : "", c->i.prog_id, c->i.note[0] ? "; " : "",
		 c->i.note);
	ev = ev_new("interface-attached", "event");
	ev_str(ev, "observer.ingress.interface.name", c->i.name);
	evlog_emit(ifs->log, ev);
	return 0;
}

/* bwe_iface_val flags of a configured nat value. */
static __u32 nat_flags(enum bwe_nat n)
{
	return ((n & BWE_NAT_IPV4) ? BWE_IF_NAT4 : 0) | ((n & BWE_NAT_IPV6) ? BWE_IF_NAT6 : 0);
}

static bool nat_configured(const struct ifaces *ifs)
{
	size_t i;

	for (i = 0; i < ifs->n; i++)
		if (ifs->v[i].nat != BWE_NAT_NONE)
			return true;
	return false;
}

/* Is ifindex one of our attached interfaces? */
static bool attached_ifindex(const struct ifaces *ifs, __u32 ifindex)
{
	size_t i;

	for (i = 0; i < ifs->n; i++)
		if (ifs->v[i].i.prog_id && (__u32)ifs->v[i].i.ifindex == ifindex)
			return true;
	return false;
}

/*
 * The fast-forward pieces of one interface (xdp/forward.bpf.h), while some
 * interface has fast_forward on (any_ff; else none at all): in the devmap
 * while attached and able to transmit redirected frames (whatever its own
 * fast_forward: it is an egress), a counter entry while attached with
 * fast_forward on. A kernel that cannot say whether it transmits
 * (before Linux 6.3) is trusted to. Entries of an ifindex it no longer has
 * go.
 */
static bool ff_configured(const struct ifaces *ifs)
{
	size_t i;

	for (i = 0; i < ifs->n; i++)
		if (ifs->v[i].ff != BWE_FF_OFF)
			return true;
	return false;
}

/* bwe_iface_val.fwd of a configured fast_forward. */
static __u8 fwd_mode(enum bwe_fast_forward ff)
{
	switch (ff) {
	case BWE_FF_FIB:
		return BWE_FWD_FIB;
	case BWE_FF_FLOWTABLE:
		return BWE_FWD_FLOWTABLE;
	default:
		return BWE_FWD_OFF;
	}
}

int ifaces_check(const struct bwe_cfgfile *cfg, bool flowtable, char *err, size_t len)
{
	size_t i;

	for (i = 0; i < cfg->n_ifaces; i++) {
		if (cfg->ifaces[i].fast_forward != BWE_FF_FLOWTABLE || flowtable)
			continue;
		snprintf(err, len,
			 "interfaces[%zu] (%s): fast_forward flowtable needs the kernel function " BWE_FT_KFUNC
			 " (Linux 6.10 or later, module " BWE_FT_MODULE
			 " loaded), which the data plane does not have: load the nftables "
			 "ruleset with the flowtable, then restart bwctld; or use fib or off",
			 i, cfg->ifaces[i].name);
		return -EINVAL;
	}
	return 0;
}

/* Whether an interface other than c holds entry e of bwe_fwd_stats. */
static bool stats_held(const struct ifaces *ifs, const struct ifc *c, __u16 e)
{
	size_t i;

	for (i = 0; i < ifs->n; i++)
		if (&ifs->v[i] != c && ifs->v[i].has_stats && ifs->v[i].stats == e)
			return true;
	return false;
}

/*
 * The counter entries an earlier run gave the interfaces that still forward
 * here (their bwe_ifaces values, pinned): kept, so that a restart does not
 * zero them. Before any interface is given a new one.
 */
static void stats_adopt(struct ifaces *ifs, bool any_ff)
{
	int fd = bwe_dp_map_fd(ifs->dp, BWE_MAP_IFACES);
	struct bwe_iface_val v;
	size_t i;

	if (fd < 0 || !any_ff)
		return;
	for (i = 0; i < ifs->n; i++) {
		struct ifc *c = &ifs->v[i];
		__u32 k = (__u32)c->i.ifindex;

		if (c->has_stats || !c->i.prog_id || c->ff == BWE_FF_OFF ||
		    bpf_map_lookup_elem(fd, &k, &v) || v.fwd == BWE_FWD_OFF ||
		    v.fwd_stats >= BWE_FWD_STATS_MAX || stats_held(ifs, c, v.fwd_stats))
			continue;
		c->stats = v.fwd_stats;
		c->has_stats = true;
	}
}

/* Give c the lowest counter entry nobody holds, zeroed. */
static int stats_take(struct ifaces *ifs, struct ifc *c)
{
	__u16 e;
	int err;

	for (e = 0; e < BWE_FWD_STATS_MAX; e++) {
		if (stats_held(ifs, c, e))
			continue;
		err = bwe_dp_fwd_stats_zero(ifs->dp, e);
		if (err)
			return err;
		c->stats = e;
		c->has_stats = true;
		return 0;
	}
	return -ENOSPC;
}

static void sync_fwd(struct ifaces *ifs, struct ifc *c, bool any_ff)
{
	__u32 idx = c->i.prog_id && any_ff ? (__u32)c->i.ifindex : 0, dev;
	int err, old = c->xmit;
	bool told = c->xmit_seen;

	c->xmit = idx ? bwe_xdp_can_xmit((int)idx) : 0;
	c->xmit_seen = idx != 0;
	dev = c->xmit ? idx : 0;
	if (c->dev_ifindex && c->dev_ifindex != dev) {
		bwe_dp_fwd_dev_set(ifs->dp, c->dev_ifindex, false);
		c->dev_ifindex = 0;
	}
	if (dev && !c->dev_ifindex) {
		err = bwe_dp_fwd_dev_set(ifs->dp, dev, true);
		if (err)
			log_warnx("%s: cannot be a fast-forward egress: %s", c->i.name,
				  strerror(-err));
		else
			c->dev_ifindex = dev;
	}
	if (idx && (!told || old != c->xmit)) {
		if (!c->xmit)
			log_warnx("%s: cannot transmit redirected XDP frames (a veth: its peer needs "
				  "an XDP program or GRO): the fast path hands what is routed out "
				  "through it to the stack",
				  c->i.name);
		else if (told)
			log_info("%s: can transmit redirected XDP frames now", c->i.name);
	}
	if (!idx || c->ff == BWE_FF_OFF) {
		c->has_stats = false; /* zeroed when it goes to another */
	} else if (!c->has_stats) {
		err = stats_take(ifs, c);
		if (err)
			log_warnx("%s: fast_forward off: no counters: %s", c->i.name,
				  err == -ENOSPC ? "every entry is taken" : strerror(-err));
	}
}

/* Only the entries of the interfaces we hold stay in the fast path's maps. */
static void fwd_prune(struct ifaces *ifs)
{
	__u32 *dev = calloc(ifs->n ? ifs->n : 1, sizeof(*dev));
	size_t i, nd = 0;
	int err;

	if (!dev)
		return;
	for (i = 0; i < ifs->n; i++)
		if (ifs->v[i].dev_ifindex)
			dev[nd++] = ifs->v[i].dev_ifindex;
	err = bwe_dp_fwd_prune(ifs->dp, dev, nd);
	if (err)
		log_warnx("cannot prune the fast-forward map: %s", strerror(-err));
	free(dev);
}

/*
 * Bring the NAT and fast-forward pieces in line with the configuration and
 * the links (sync_fwd() for the latter, per interface). NAT: the TC
 * egress program on every attached interface while some interface
 * translates (none otherwise); bwe_ifaces holding exactly the attached
 * interfaces with what each translates (0: nothing), so that the TC
 * program knows which arrivals XDP judged; BWE_CFG_NAT4/6 set for the
 * families some attached interface translates. Entries are written before
 * stale ones go, so an interface is never missing from the map while it
 * stays.
 */
static void sync_nat(struct ifaces *ifs)
{
	int fd = bwe_dp_map_fd(ifs->dp, BWE_MAP_IFACES);
	bool any = nat_configured(ifs), any_ff = ff_configured(ifs);
	struct bwe_config cfg;
	__u32 key, next, stale[BWE_IFACES_MAX], on = 0, want;
	size_t i, n_stale = 0;
	int err;

	stats_adopt(ifs, any_ff);
	for (i = 0; i < ifs->n; i++) {
		struct ifc *c = &ifs->v[i];
		struct bwe_iface_val v = { .flags = nat_flags(c->nat) };

		if (any && c->i.prog_id) {
			int pfd = bwe_dp_tc_prog_fd(ifs->dp);

			err = pfd < 0 ? pfd : bwe_tc_attach(c->i.ifindex, pfd, &c->tc_id);
			if (err) {
				c->tc_id = 0;
				log_warnx("%s: TC egress program not attached: %s%s", c->i.name,
					  strerror(-err),
					  err == -EBUSY ? " (a foreign filter holds its handle)"
							: "");
				snprintf(c->i.note, sizeof(c->i.note),
					 "TC egress not attached: %s: inbound NAT traffic is not "
					 "judged on its way out here",
					 strerror(-err));
			}
		} else if (c->i.ifindex && (c->tc_id || !any)) {
			bwe_tc_detach(c->i.ifindex);
			c->tc_id = 0;
		}
		sync_fwd(ifs, c, any_ff);
		v.fwd = c->has_stats ? fwd_mode(c->ff) : BWE_FWD_OFF;
		v.fwd_stats = c->has_stats ? c->stats : 0;
		if (c->i.prog_id && fd >= 0) {
			__u32 k = (__u32)c->i.ifindex;

			if (bpf_map_update_elem(fd, &k, &v, BPF_ANY))
				log_warnx("%s: cannot record in bwe_ifaces: %s", c->i.name,
					  strerror(errno));
			else
				on |= ((v.flags & BWE_IF_NAT4) ? BWE_CFG_NAT4 : 0) |
				      ((v.flags & BWE_IF_NAT6) ? BWE_CFG_NAT6 : 0) |
				      (v.fwd ? BWE_CFG_FWD : 0);
		}
	}
	fwd_prune(ifs);
	for (err = fd < 0 ? -1 : bpf_map_get_next_key(fd, NULL, &key); !err;
	     err = bpf_map_get_next_key(fd, &key, &next), key = next)
		if (!attached_ifindex(ifs, key) && n_stale < BWE_IFACES_MAX)
			stale[n_stale++] = key;
	for (i = 0; i < n_stale; i++)
		bpf_map_delete_elem(fd, &stale[i]);
	if (bwe_dp_config_get(ifs->dp, &cfg))
		return;
	want = (cfg.flags & ~(BWE_CFG_NAT4 | BWE_CFG_NAT6 | BWE_CFG_FWD)) | on;
	if ((want ^ cfg.flags) & BWE_CFG_FWD) {
		cfg.flags ^= BWE_CFG_FWD;
		if (bwe_dp_config_set(ifs->dp, &cfg))
			log_warnx("cannot switch the XDP fast path %s",
				  on & BWE_CFG_FWD ? "on" : "off");
		else
			log_info("XDP fast path %s", on & BWE_CFG_FWD ? "on" : "off");
	}
	if (want != cfg.flags) {
		cfg.flags = want;
		if (bwe_dp_config_set(ifs->dp, &cfg))
			log_warnx("cannot change NAT handling in the data plane");
		else if (on)
			log_info("NAT handling on (%s%s%s): inbound translated traffic is judged at "
				 "the LAN egress",
				 (on & BWE_CFG_NAT4) ? "IPv4" : "",
				 on == (BWE_CFG_NAT4 | BWE_CFG_NAT6) ? ", " : "",
				 (on & BWE_CFG_NAT6) ? "IPv6" : "");
		else
			log_info("NAT handling off");
	}
}

static void on_link(const char *name, int ifindex, bool present, void *ctx)
{
	struct ifaces *ifs = ctx;
	struct ifc *c = find(ifs, name);

	enf_netclass(ifs->enf); /* the gateway's own addresses may have changed */
	if (!c)
		return;
	if (!present) {
		if (c->i.ifindex == ifindex || !ifindex) {
			log_info("%s: interface disappeared; will attach when it returns", name);
			c->i.ifindex = 0;
			c->i.prog_id = 0;
			c->i.mode = 0;
			snprintf(c->i.note, sizeof(c->i.note), "interface does not exist");
			c->tc_id = 0;
			sync_nat(ifs);
		}
		return;
	}
	if ((c->i.prog_id && c->i.ifindex == ifindex) || c->held)
		return;
	if (!try_attach(ifs, c))
		sync_nat(ifs);
}

/* The configured interfaces; kept: those already known keep their state. */
static int configure(struct ifaces *ifs, const struct bwe_cfgfile *cfg)
{
	struct ifc *v = calloc(cfg->n_ifaces ? cfg->n_ifaces : 1, sizeof(*v));
	size_t i;

	if (!v)
		return -ENOMEM;
	for (i = 0; i < cfg->n_ifaces; i++) {
		struct ifc *old = find(ifs, cfg->ifaces[i].name);

		if (old)
			v[i] = *old;
		snprintf(v[i].i.name, sizeof(v[i].i.name), "%s", cfg->ifaces[i].name);
		v[i].i.want = cfg->ifaces[i].mode;
		v[i].nat = cfg->ifaces[i].nat;
		v[i].ff = cfg->ifaces[i].fast_forward;
	}
	free(ifs->v);
	ifs->v = v;
	ifs->n = cfg->n_ifaces;
	for (i = 0; i < ifs->n; i++)
		if (!ifs->v[i].held)
			try_attach(ifs, &ifs->v[i]);
	sync_nat(ifs);
	return 0;
}

int ifaces_new(struct ifaces **out, const struct ifaces_deps *deps)
{
	struct ifaces *ifs = calloc(1, sizeof(*ifs));
	int err;

	if (!ifs)
		return -ENOMEM;
	ifs->cfg = deps->cfg;
	ifs->dp = deps->dp;
	ifs->enf = deps->enf;
	ifs->log = deps->log;
	*out = ifs;
	err = bwe_linkwatch_open(&ifs->lw, on_link, ifs);
	if (err) {
		log_warnx("link watch: %s", strerror(-err));
		return err;
	}
	return configure(ifs, ifs->cfg);
}

void ifaces_free(struct ifaces *ifs)
{
	if (!ifs)
		return;
	bwe_linkwatch_close(ifs->lw);
	free(ifs->v);
	free(ifs);
}

int ifaces_fd(const struct ifaces *ifs)
{
	return bwe_linkwatch_fd(ifs->lw);
}

void ifaces_on_link(struct ifaces *ifs)
{
	bwe_linkwatch_process(ifs->lw);
}

void ifaces_tick(struct ifaces *ifs)
{
	size_t i;

	if (++ifs->ticks < XMIT_RECHECK_TICKS || !ff_configured(ifs))
		return;
	ifs->ticks = 0;
	for (i = 0; i < ifs->n; i++) {
		struct ifc *c = &ifs->v[i];

		if (c->i.prog_id && bwe_xdp_can_xmit(c->i.ifindex) != c->xmit) {
			sync_nat(ifs);
			return;
		}
	}
}

void ifaces_reload(struct ifaces *ifs, const struct bwe_cfgfile *cfg)
{
	size_t i, j;

	for (i = 0; i < ifs->n; i++) {
		bool keep = false;

		for (j = 0; j < cfg->n_ifaces; j++)
			keep |= !strcmp(cfg->ifaces[j].name, ifs->v[i].i.name);
		if (!keep) {
			if (ifs->v[i].i.ifindex)
				bwe_tc_detach(ifs->v[i].i.ifindex);
			bwe_detach(&ifs->v[i].i);
		}
	}
	ifs->cfg = cfg;
	if (configure(ifs, cfg))
		log_warnx("interfaces: out of memory on reload");
}

static struct json_object *iface_json(const struct bwe_iface *i)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(i->name));
	json_object_object_add(o, "ifindex", json_object_new_int(i->ifindex));
	json_object_object_add(o, "prog_id", json_object_new_uint64(i->prog_id));
	json_object_object_add(o, "attached_mode",
			       json_object_new_string(i->mode == XDP_MODE_NATIVE ? "native"
						      : i->mode == XDP_MODE_SKB	 ? "generic"
										 : "none"));
	json_object_object_add(o, "multiprog", json_object_new_boolean(i->multiprog));
	json_object_object_add(o, "note", json_object_new_string(i->note));
	return o;
}

int ifaces_attach(struct ifaces *ifs, const char *name, const char *mode, const struct actor *who,
		  struct json_object **res, char *err, size_t len)
{
	enum bwe_attach_mode m = BWE_MODE_AUTO;
	char by[ACTOR_TEXT_MAX];
	struct ifc *c;
	int e;

	if (!name || !name[0] || strlen(name) >= sizeof(c->i.name) || strchr(name, '/')) {
		snprintf(err, len, "attach: \"%s\" is not an interface name", name ? name : "");
		return -EINVAL;
	}
	if (mode && !strcmp(mode, "native")) {
		m = BWE_MODE_NATIVE;
	} else if (mode && !strcmp(mode, "generic")) {
		m = BWE_MODE_GENERIC;
	} else if (mode && strcmp(mode, "auto")) {
		snprintf(err, len, "attach: mode must be native, generic or auto");
		return -EINVAL;
	}
	c = find(ifs, name);
	if (!c) {
		struct ifc *v = reallocarray(ifs->v, ifs->n + 1, sizeof(*v));

		if (!v) {
			snprintf(err, len, "out of memory");
			return -ENOMEM;
		}
		ifs->v = v;
		c = &ifs->v[ifs->n++];
		memset(c, 0, sizeof(*c));
		snprintf(c->i.name, sizeof(c->i.name), "%s", name);
	}
	c->i.want = m;
	e = bwe_attach(&c->i, bwe_dp_prog_fd(ifs->dp));
	if (e) {
		snprintf(err, len, "attach %s: %s%s%s", name, strerror(-e),
			 c->i.note[0] ? ": " : "", c->i.note);
		return e;
	}
	c->held = false;
	sync_nat(ifs);
	actor_fmt(who, by, sizeof(by));
	log_info("attached to %s (%s) for %s", name, bwe_attach_mode_name(m), by);
	*res = iface_json(&c->i);
	return 0;
}

int ifaces_detach(struct ifaces *ifs, const char *name, const struct actor *who,
		  struct json_object **res, char *err, size_t len)
{
	struct json_object *o, *arr;
	char by[ACTOR_TEXT_MAX];
	size_t i;
	int e = 0;

	if (name && !find(ifs, name)) {
		snprintf(err, len, "detach: %s is not an interface of this daemon", name);
		return -EINVAL;
	}
	actor_fmt(who, by, sizeof(by));
	o = json_object_new_object();
	arr = json_object_new_array();
	for (i = 0; i < ifs->n; i++) {
		struct ifc *c = &ifs->v[i];

		if (name && strcmp(c->i.name, name))
			continue;
		if (c->i.ifindex)
			e = bwe_tc_detach(c->i.ifindex) ?: e;
		c->tc_id = 0;
		e = bwe_detach(&c->i) ?: e;
		c->i.want = BWE_MODE_AUTO;
		c->held = true;
		if (who->kind == ACTOR_OPERATOR)
			snprintf(c->i.note, sizeof(c->i.note), "detached by uid %u", who->uid);
		else
			snprintf(c->i.note, sizeof(c->i.note), "detached by %.64s", by);
		json_object_array_add(arr, json_object_new_string(c->i.name));
		log_info("detached from %s for %s", c->i.name, by);
	}
	json_object_object_add(o, "detached", arr);
	sync_nat(ifs);
	if (!name) {
		/* all of it: the pins go too (the daemon's own references keep the maps alive) */
		e = bwe_dp_unpin(ifs->cfg->paths.pin_dir) ?: e;
		json_object_object_add(o, "unpinned",
				       json_object_new_string(ifs->cfg->paths.pin_dir));
		log_info("maps unpinned from %s for %s", ifs->cfg->paths.pin_dir, by);
	}
	if (e) {
		json_object_put(o);
		snprintf(err, len, "detach: %s", strerror(-e));
		return e;
	}
	*res = o;
	return 0;
}

/* The fast-forward counters of an interface, NULL while it has none. */
static struct json_object *fwd_json(struct ifaces *ifs, const struct ifc *c)
{
	struct bwe_fwd_stats st;
	struct json_object *o, *stack;
	unsigned int k;

	if (!c->has_stats || bwe_dp_fwd_stats_read(ifs->dp, c->stats, &st))
		return NULL;
	o = json_object_new_object();
	stack = json_object_new_object();
	json_object_object_add(o, "forwarded_packets",
			       json_object_new_uint64(st.c[BWE_FWD_FAST].packets));
	json_object_object_add(o, "forwarded_bytes",
			       json_object_new_uint64(st.c[BWE_FWD_FAST].bytes));
	for (k = BWE_FWD_FAST + 1; k < BWE_FWD_MAX; k++)
		json_object_object_add(stack, bwe_fwd_stat_name(k),
				       json_object_new_uint64(st.c[k].packets));
	json_object_object_add(o, "to_stack_packets", stack);
	return o;
}

struct json_object *ifaces_status_json(struct ifaces *ifs)
{
	struct json_object *arr = json_object_new_array();
	size_t i;

	for (i = 0; i < ifs->n; i++) {
		struct bwe_iface *c = &ifs->v[i].i;
		struct json_object *x = json_object_new_object();

		bwe_iface_probe(c);
		json_object_object_add(x, "name", json_object_new_string(c->name));
		json_object_object_add(x, "ifindex", json_object_new_int(c->ifindex));
		json_object_object_add(x, "mode",
				       json_object_new_string(bwe_attach_mode_name(c->want)));
		json_object_object_add(x, "attached_mode",
				       c->mode == XDP_MODE_NATIVE ? json_object_new_string("native")
				       : c->mode == XDP_MODE_SKB ? json_object_new_string("generic")
								 : NULL);
		json_object_object_add(x, "prog_id", json_object_new_uint64(c->prog_id));
		json_object_object_add(x, "multiprog", json_object_new_boolean(c->multiprog));
		json_object_object_add(x, "nat",
				       json_object_new_string(bwe_nat_name(ifs->v[i].nat)));
		json_object_object_add(x, "fast_forward",
				       json_object_new_string(bwe_fast_forward_name(ifs->v[i].ff)));
		json_object_object_add(x, "xdp_xmit",
				       ifs->v[i].xmit_seen
					       ? json_object_new_boolean(ifs->v[i].xmit != 0)
					       : NULL);
		json_object_object_add(x, "forward", fwd_json(ifs, &ifs->v[i]));
		json_object_object_add(x, "tc_egress_prog_id",
				       ifs->v[i].tc_id ? json_object_new_uint64(ifs->v[i].tc_id)
						       : NULL);
		json_object_object_add(x, "state",
				       json_object_new_string(c->prog_id    ? "attached"
							      : !c->ifindex ? "missing"
									    : "detached"));
		json_object_object_add(x, "note",
				       c->note[0] ? json_object_new_string(c->note) : NULL);
		json_object_array_add(arr, x);
	}
	return arr;
}

void ifaces_fwd_each(const struct ifaces *ifs, ifaces_fwd_fn *fn, void *ctx)
{
	struct bwe_fwd_stats st;
	size_t i;

	for (i = 0; i < ifs->n; i++)
		if (ifs->v[i].has_stats && !bwe_dp_fwd_stats_read(ifs->dp, ifs->v[i].stats, &st))
			fn(ifs->v[i].i.name, &st, ctx);
}

size_t ifaces_count(const struct ifaces *ifs)
{
	return ifs->n;
}

size_t ifaces_attached(const struct ifaces *ifs)
{
	size_t i, n = 0;

	for (i = 0; i < ifs->n; i++)
		n += ifs->v[i].i.prog_id != 0;
	return n;
}
