// SPDX-License-Identifier: GPL-2.0-only
/*
 * ops.c - the one transaction for every change; contract in ops.h.
 *
 * The order of a change and what undoes each step:
 *   1. validate every entry (the guards below, the same for every actor);
 *   2. apply to the store, after a snapshot of it;
 *   3. save the state file (util.c: temporary file, fsync, rename) -- on
 *      failure the snapshot comes back and nothing else happened;
 *   4. enforce (maps) -- on failure the snapshot comes back, is saved
 *      again and re-enforced, so disk and kernel hold the old state;
 *   5. log one event per entry; 6. notify the observers.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blocklist.h"
#include "log.h"
#include "ops.h"
#include "util.h"

#define STATE_FILE_MODE 0640

#define PLAN_MIN_CAP	16
#define NEIGH_ADDRS_MAX 256 /* addresses of one MAC address looked at */
#define V6_SUBNET_PLEN	64  /* --prefix64: the /64 of an IPv6 address */

struct op_change {
	enum op_verb verb;
	bool host;	   /* a host record (st_host_*), not an address entry */
	struct st_entry e; /* ADD: the new entry; DEL: the one removed */
};

/* The changes of one request, growing as the identity lookups find more. */
struct plan {
	struct op_change *v;
	size_t n, cap;
};

struct ops {
	const struct bwe_cfgfile *cfg;
	struct st_store *st;
	struct enforcer *enf;
	struct evlog *log;
	const struct bwe_neighwatch *nw; /* NULL: no neighbour view */
	char state_file[PATH_MAX];
	struct ops_observer obs[OPS_OBSERVERS_MAX];
	size_t nobs;
};

int ops_new(struct ops **out, const struct bwe_cfgfile *cfg, struct st_store *st,
	    struct enforcer *enf, struct evlog *log)
{
	struct ops *o = calloc(1, sizeof(*o));

	if (!o)
		return -ENOMEM;
	o->cfg = cfg;
	o->st = st;
	o->enf = enf;
	o->log = log;
	if (snprintf(o->state_file, sizeof(o->state_file), "%s/state.json", cfg->paths.state_dir) >=
	    (int)sizeof(o->state_file) - 8) {
		free(o);
		return -ENAMETOOLONG;
	}
	*out = o;
	return 0;
}

void ops_free(struct ops *o)
{
	free(o);
}

void ops_set_neighbours(struct ops *o, const struct bwe_neighwatch *nw)
{
	o->nw = nw;
}

void ops_set_config(struct ops *o, const struct bwe_cfgfile *cfg)
{
	o->cfg = cfg; /* state_dir takes effect at the next start */
}

int ops_observe(struct ops *o, const struct ops_observer *obs)
{
	if (o->nobs == OPS_OBSERVERS_MAX)
		return -ENOSPC;
	o->obs[o->nobs++] = *obs;
	return 0;
}

/* ---- the state file ------------------------------------------------------- */

static int save(struct ops *o)
{
	struct json_object *root = st_to_json(o->st);
	const char *s = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY);
	size_t len = strlen(s);
	char *buf = malloc(len + 1);
	int err;

	if (!buf) {
		json_object_put(root);
		return -ENOMEM;
	}
	memcpy(buf, s, len);
	buf[len] = '\n';
	err = write_file_atomic(o->state_file, buf, len + 1, STATE_FILE_MODE);
	free(buf);
	json_object_put(root);
	if (err)
		log_warnx("cannot write state file %s: %s", o->state_file, strerror(-err));
	return err;
}

int ops_load(struct ops *o)
{
	struct json_object *root;
	size_t skipped = 0;
	int err;

	err = mkdir_p(o->cfg->paths.state_dir);
	if (err) {
		log_warnx("state_dir %s: %s", o->cfg->paths.state_dir, strerror(-err));
		return err;
	}
	if (access(o->state_file, F_OK))
		return 0; /* first start */
	root = json_object_from_file(o->state_file);
	err = root ? st_from_json(o->st, root, &skipped) : -EINVAL;
	json_object_put(root);
	if (err) {
		log_warnx("state file %s is unreadable (%s); refusing to start over it "
			  "(move it away to start empty)",
			  o->state_file, strerror(-err));
		return err;
	}
	if (skipped)
		log_warnx("state file %s: %zu malformed entries skipped", o->state_file, skipped);
	log_info("restored %zu state entries from %s", st_count(o->st), o->state_file);
	return 0;
}

/* ---- guards ------------------------------------------------------------------ */

static int refuse(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int refuse(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static bool list_covers(const struct bwe_cfg_prefixes *l, const struct bwe_prefix *p)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (bwe_prefix_covers(&l->v[i], p))
			return true;
	return false;
}

static bool list_overlaps(const struct bwe_cfg_prefixes *l, const struct bwe_prefix *p)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (bwe_prefix_covers(&l->v[i], p) || bwe_prefix_covers(p, &l->v[i]))
			return true;
	return false;
}

static bool gateway_inside(const struct bwe_prefix *p)
{
	return p->plen == BWE_ADDR_BITS && is_gateway_addr(&p->addr);
}

/* Only people (and their fleet peers) may override a guard; rules never. */
static bool may_force(const struct actor *who)
{
	return who->kind == ACTOR_OPERATOR || who->kind == ACTOR_API || who->kind == ACTOR_FLEET;
}

static int check_request(const struct ops *o, const struct op_request *r, char *err, size_t len)
{
	size_t i;

	if (!r->n && !r->nmacs)
		return refuse(err, len, "%s: nothing given", r->action);
	if (r->n + r->nmacs > OPS_ITEMS_MAX)
		return refuse(err, len, "%s: %zu entries given; at most %d in one change",
			      r->action, r->n + r->nmacs, OPS_ITEMS_MAX);
	if (r->prefix64 && r->kind != ST_QUARANTINE)
		return refuse(err, len,
			      "%s: --prefix64 is for quarantines (a throttle spans at most %d hosts)",
			      r->action, 1 << ENF_THROTTLE_HOST_BITS);
	if (r->nmacs && (!r->ident || (r->kind != ST_QUARANTINE && r->kind != ST_THROTTLE)))
		return refuse(err, len,
			      "%s: only hosts (quarantine, throttle) are given by MAC address",
			      r->action);
	if ((unsigned int)r->kind >= ST_KINDS)
		return refuse(err, len, "%s: unknown kind", r->action);
	if (r->reason) {
		if (strlen(r->reason) >= ST_REASON_MAX)
			return refuse(err, len, "%s: reason is %zu bytes; at most %d allowed",
				      r->action, strlen(r->reason), ST_REASON_MAX - 1);
		for (i = 0; r->reason[i]; i++)
			if ((unsigned char)r->reason[i] < 0x20)
				return refuse(err, len, "%s: reason contains a control character",
					      r->action);
	}
	if (r->verb == OP_DEL)
		return 0;
	if (r->ttl_s > o->cfg->max_ttl_s)
		return refuse(err, len, "%s: ttl %llu is out of range (0..%llu)", r->action,
			      (unsigned long long)r->ttl_s, (unsigned long long)o->cfg->max_ttl_s);
	if (r->kind == ST_THROTTLE && (!r->rate || r->rate > BWE_RATE_MAX))
		return refuse(err, len, "throttle: a rate is required (bytes per second, 1..%llu)",
			      (unsigned long long)BWE_RATE_MAX);
	if (r->kind == ST_THROTTLE && r->burst > UINT32_MAX)
		return refuse(err, len, "%s: burst %llu is out of range (0..%u)", r->action,
			      (unsigned long long)r->burst, UINT32_MAX);
	return 0;
}

/* The guards of one prefix to add, the same for every actor. */
static int check_add(const struct ops *o, const struct op_request *r, const struct bwe_prefix *x,
		     char *err, size_t len)
{
	const struct bwe_cfgfile *cfg = o->cfg;
	bool force = r->force && may_force(r->who);
	char buf[BWE_PREFIX_STRLEN];
	int flen = bwe_prefix_family_len(x);
	bool v4 = bwe_addr_is_v4(&x->addr) && x->plen >= BWE_V4_MAPPED_PLEN;
	const char *what = r->kind == ST_QUARANTINE ? "quarantined" : "throttled";
	const struct st_entry *cur = st_find(o->st, r->kind, x);

	bwe_prefix_fmt(x, buf, sizeof(buf));
	if (cur && cur->actor.kind != ACTOR_RULE && r->who->kind == ACTOR_RULE) {
		snprintf(err, len, "%s: %s is held by %s's %s entry; a rule never replaces it",
			 r->action, buf, actor_kind_name(cur->actor.kind), st_kind_name(r->kind));
		return -EPERM;
	}
	switch (r->kind) {
	case ST_QUARANTINE:
	case ST_THROTTLE:
		if (!list_covers(&cfg->internal, x))
			return refuse(err, len,
				      "%s: %s is not inside internal_networks: only "
				      "internal hosts can be %s",
				      r->action, buf, what);
		if (!force &&
		    (list_overlaps(&cfg->allowlist, x) || st_overlaps(o->st, ST_ALLOW, x)))
			return refuse(err, len, "%s: %s is allowlisted; use --force to override",
				      r->action, buf);
		if (!force && (list_overlaps(&cfg->exempt, x) || st_overlaps(o->st, ST_EXEMPT, x)))
			return refuse(err, len,
				      "%s: %s is exempt (management, DNS, DHCP); use "
				      "--force to override",
				      r->action, buf);
		if (!force && gateway_inside(x))
			return refuse(err, len,
				      "%s: %s is an address of this gateway; use --force "
				      "to override",
				      r->action, buf);
		if (r->kind == ST_THROTTLE && BWE_ADDR_BITS - x->plen > ENF_THROTTLE_HOST_BITS)
			return refuse(err, len,
				      "throttle: %s spans more than %d hosts; throttle "
				      "hosts or smaller networks",
				      buf, 1 << ENF_THROTTLE_HOST_BITS);
		break;
	case ST_BLOCK:
		if (flen < (v4 ? BWE_BL_V4_MIN_PLEN : BWE_BL_V6_MIN_PLEN))
			return refuse(err, len, "block: %s is broader than /%d; refusing", buf,
				      v4 ? BWE_BL_V4_MIN_PLEN : BWE_BL_V6_MIN_PLEN);
		if (list_covers(&cfg->internal, x))
			return refuse(err, len,
				      "block: %s is inside internal_networks: "
				      "quarantine internal hosts instead",
				      buf);
		if (list_covers(&cfg->allowlist, x) || list_covers(&cfg->exempt, x))
			return refuse(err, len,
				      "block: %s is allowlisted or exempt and would "
				      "never be blocked",
				      buf);
		if (!force && gateway_inside(x))
			return refuse(err, len, "block: %s is an address of this gateway", buf);
		break;
	case ST_ALLOW:
	case ST_EXEMPT:
		/* the same width limit as block: allow 0.0.0.0/1 128.0.0.0/1 would end enforcement */
		if (flen < (v4 ? OPS_OPEN_V4_MIN_PLEN : OPS_OPEN_V6_MIN_PLEN))
			return refuse(err, len, "%s: %s is broader than /%d; refusing", r->action,
				      buf, v4 ? OPS_OPEN_V4_MIN_PLEN : OPS_OPEN_V6_MIN_PLEN);
		break;
	default:
		break;
	}
	return 0;
}

/* ---- planning: the entries a request changes ----------------------------------- */

static bool same_change(const struct op_change *a, bool host, const struct st_entry *e)
{
	if (a->host != host || a->e.kind != e->kind)
		return false;
	return host ? !memcmp(a->e.mac, e->mac, BWE_MAC_LEN) : !bwe_prefix_cmp(&a->e.pfx, &e->pfx);
}

/* Add a change; one already planned for the same entry stays as it is. */
static int pl_add(struct plan *pl, enum op_verb verb, bool host, const struct st_entry *e)
{
	size_t i;

	for (i = 0; i < pl->n; i++)
		if (same_change(&pl->v[i], host, e))
			return 0;
	if (pl->n == pl->cap) {
		size_t cap = pl->cap ? pl->cap * 2 : PLAN_MIN_CAP;
		struct op_change *v = reallocarray(pl->v, cap, sizeof(*v));

		if (!v)
			return -ENOMEM;
		pl->v = v;
		pl->cap = cap;
	}
	pl->v[pl->n].verb = verb;
	pl->v[pl->n].host = host;
	pl->v[pl->n++].e = *e;
	return 0;
}

/* The entry a request adds for prefix x, from what is there now (cur). */
static void new_entry(const struct ops *o, const struct op_request *r, const struct bwe_prefix *x,
		      const struct st_entry *cur, time_t now, struct st_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->kind = r->kind;
	if (x)
		e->pfx = *x;
	snprintf(e->reason, sizeof(e->reason), "%s", r->reason ? r->reason : "");
	e->actor = *r->who;
	e->local = r->local;
	snprintf(e->site, sizeof(e->site), "%s",
		 r->who->kind == ACTOR_FLEET ? r->who->name
					     : (o->cfg->fleet.name ? o->cfg->fleet.name : ""));
	e->since = cur ? cur->since : now; /* containment began then */
	e->expires = r->ttl_s ? now + (time_t)r->ttl_s : 0;
	if (r->kind == ST_THROTTLE) {
		e->rate = r->rate;
		e->burst = r->burst ? r->burst : bwe_default_burst(o->cfg, r->rate);
	}
}

/* The request as it was before identity: one entry per prefix given. */
static int plan_plain(const struct ops *o, const struct op_request *r, struct plan *pl, char *err,
		      size_t len)
{
	time_t now = time(NULL);
	size_t i, j;
	int e;

	for (i = 0; i < r->n; i++) {
		const struct st_entry *cur = st_find(o->st, r->kind, &r->pfx[i]);
		struct st_entry x;
		char buf[BWE_PREFIX_STRLEN];

		for (j = 0; j < i; j++)
			if (!bwe_prefix_cmp(&r->pfx[j], &r->pfx[i])) {
				bwe_prefix_fmt(&r->pfx[i], buf, sizeof(buf));
				return refuse(err, len, "%s: %s is given twice", r->action, buf);
			}
		if (r->verb == OP_DEL) {
			if (!cur) {
				bwe_prefix_fmt(&r->pfx[i], buf, sizeof(buf));
				snprintf(err, len, "%s: %s has no %s entry", r->action, buf,
					 st_kind_name(r->kind));
				return -ENOENT;
			}
			x = *cur;
			if (r->reason && r->reason[0])
				snprintf(x.reason, sizeof(x.reason), "%s", r->reason);
		} else {
			e = check_add(o, r, &r->pfx[i], err, len);
			if (e)
				return e;
			new_entry(o, r, &r->pfx[i], cur, now, &x);
		}
		e = pl_add(pl, r->verb, false, &x);
		if (e)
			return e;
	}
	return 0;
}

/* The prefix an address of a host stands for: itself, or its /64 (prefix64, IPv6). */
static void host_prefix(const struct bwe_addr *a, bool prefix64, struct bwe_prefix *p)
{
	memset(p, 0, sizeof(*p));
	p->addr = *a;
	p->plen = BWE_ADDR_BITS;
	if (prefix64 && !bwe_addr_is_v4(a)) {
		p->plen = V6_SUBNET_PLEN;
		bwe_prefix_mask(p);
	}
}

/* The internal addresses the neighbour view has for mac (at most max). */
static size_t internal_neighbours(const struct ops *o, const __u8 mac[BWE_MAC_LEN],
				  struct bwe_addr *out, size_t max)
{
	struct bwe_addr all[NEIGH_ADDRS_MAX];
	size_t n = bwe_neigh_addrs_of(o->nw, mac, all, NEIGH_ADDRS_MAX), i, k = 0;

	if (n > NEIGH_ADDRS_MAX)
		n = NEIGH_ADDRS_MAX;
	for (i = 0; i < n; i++) {
		struct bwe_prefix p = { .addr = all[i], .plen = BWE_ADDR_BITS };

		if (!list_covers(&o->cfg->internal, &p))
			continue;
		if (k < max)
			out[k] = all[i];
		k++;
	}
	return k;
}

/* A MAC address that cannot be one host's identity: why, or NULL. */
static const char *mac_unfit(const __u8 mac[BWE_MAC_LEN])
{
	static const __u8 bcast[BWE_MAC_LEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const __u8 zero[BWE_MAC_LEN];

	if (!memcmp(mac, zero, BWE_MAC_LEN))
		return "is the zero MAC address";
	if (!memcmp(mac, bcast, BWE_MAC_LEN))
		return "is the broadcast MAC address";
	if (mac[0] & 0x01)
		return "is a multicast MAC address (the group bit is set)";
	return NULL;
}

/*
 * Plan the containment of the host mac: its record, the addresses given
 * for it (given, n of them) and every internal address the neighbour view
 * has for it, each through the guards of an address. Neighbour addresses
 * outside internal_networks are left out; an exempt, allowlisted or
 * gateway address refuses the host (unless forced), as it would alone.
 */
static int plan_host_add(const struct ops *o, const struct op_request *r,
			 const __u8 mac[BWE_MAC_LEN], const struct bwe_addr *given, size_t ngiven,
			 struct plan *pl, char *err, size_t len)
{
	struct bwe_addr nb[NEIGH_ADDRS_MAX];
	size_t n = internal_neighbours(o, mac, nb, NEIGH_ADDRS_MAX), i;
	const struct st_entry *cur = st_host_find(o->st, r->kind, mac);
	time_t now = time(NULL);
	struct st_entry h, x;
	int e;

	if (n > NEIGH_ADDRS_MAX)
		n = NEIGH_ADDRS_MAX;
	new_entry(o, r, NULL, cur, now, &h);
	h.has_mac = true;
	memcpy(h.mac, mac, BWE_MAC_LEN);
	h.prefix64 = r->prefix64;
	if ((e = pl_add(pl, OP_ADD, true, &h)))
		return e;
	for (i = 0; i < ngiven + n; i++) {
		const struct bwe_addr *a = i < ngiven ? &given[i] : &nb[i - ngiven];
		struct bwe_prefix p;

		host_prefix(a, r->prefix64, &p);
		if ((e = check_add(o, r, &p, err, len))) {
			char m[BWE_MAC_STRLEN];
			size_t l = strlen(err);

			bwe_mac_fmt(mac, m, sizeof(m));
			if (i >= ngiven && l + 1 < len)
				snprintf(err + l, len - l, " (an address of MAC address %s)", m);
			return e;
		}
		new_entry(o, r, &p, st_find(o->st, r->kind, &p), now, &x);
		x.has_mac = true;
		memcpy(x.mac, mac, BWE_MAC_LEN);
		x.learnt = ST_LEARNT_GIVEN;
		if ((e = pl_add(pl, OP_ADD, false, &x)))
			return e;
	}
	/* addresses learnt before keep their origin and follow the host's new terms */
	for (i = 0; i < st_count(o->st); i++) {
		const struct st_entry *c = st_at(o->st, i);

		if (c->kind != r->kind || !c->has_mac || memcmp(c->mac, mac, BWE_MAC_LEN))
			continue;
		new_entry(o, r, &c->pfx, c, now, &x);
		x.has_mac = true;
		memcpy(x.mac, mac, BWE_MAC_LEN);
		x.learnt = c->learnt;
		if ((e = pl_add(pl, OP_ADD, false, &x)))
			return e;
	}
	return 0;
}

/* Plan the release of the host mac: its record and every address entry of it. */
static int plan_host_del(const struct ops *o, const struct op_request *r,
			 const __u8 mac[BWE_MAC_LEN], struct plan *pl)
{
	const struct st_entry *h = st_host_find(o->st, r->kind, mac);
	struct st_entry x;
	size_t i;
	int e;

	if (h) {
		x = *h;
		if (r->reason && r->reason[0])
			snprintf(x.reason, sizeof(x.reason), "%s", r->reason);
		if ((e = pl_add(pl, OP_DEL, true, &x)))
			return e;
	}
	for (i = 0; i < st_count(o->st); i++) {
		const struct st_entry *c = st_at(o->st, i);

		if (c->kind != r->kind || !c->has_mac || memcmp(c->mac, mac, BWE_MAC_LEN))
			continue;
		x = *c;
		if (r->reason && r->reason[0])
			snprintf(x.reason, sizeof(x.reason), "%s", r->reason);
		if ((e = pl_add(pl, OP_DEL, false, &x)))
			return e;
	}
	return 0;
}

/* A MAC address given to add: fit for a host, not the gateway's, not a router's. */
static int check_mac(const struct ops *o, const struct op_request *r, const __u8 mac[BWE_MAC_LEN],
		     char *err, size_t len)
{
	bool force = r->force && may_force(r->who);
	const char *why = mac_unfit(mac);
	char m[BWE_MAC_STRLEN];
	size_t n, all;

	bwe_mac_fmt(mac, m, sizeof(m));
	if (why)
		return refuse(err, len, "%s: %s %s; not one host's", r->action, m, why);
	if (!force && bwe_mac_is_own(mac))
		return refuse(err, len,
			      "%s: %s is a MAC address of this gateway; use --force to override",
			      r->action, m);
	n = internal_neighbours(o, mac, NULL, 0);
	all = bwe_neigh_addrs_of(o->nw, mac, NULL, 0);
	if (!force && all > n)
		return refuse(err, len,
			      "%s: MAC address %s has %zu address%s outside internal_networks in "
			      "the neighbour table (an upstream router's, or another network's): "
			      "not an internal host; use --force to override",
			      r->action, m, all - n, all - n == 1 ? "" : "es");
	if (!force && n > o->cfg->identity.router_addresses)
		return refuse(err, len,
			      "%s: MAC address %s has %zu internal addresses in the neighbour "
			      "table (identity.router_addresses is %u): it looks like a router's, "
			      "and containing it would cut off every host behind it; quarantine "
			      "the hosts by address, or use --force",
			      r->action, m, n, o->cfg->identity.router_addresses);
	return 0;
}

/*
 * The request with identity: MAC addresses given, and addresses whose
 * neighbour entry names a host's MAC address, become hosts; the rest are
 * entries of their own, as before.
 */
static int plan_ident(const struct ops *o, const struct op_request *r, struct plan *pl, char *err,
		      size_t len)
{
	struct bwe_prefix *plain = NULL;
	size_t i, j, np = 0;
	int e = 0;

	for (i = 0; i < r->nmacs && r->verb == OP_ADD && !e; i++) {
		for (j = 0; j < i; j++)
			if (!memcmp(r->macs[j], r->macs[i], BWE_MAC_LEN)) {
				char m[BWE_MAC_STRLEN];

				bwe_mac_fmt(r->macs[i], m, sizeof(m));
				return refuse(err, len, "%s: %s is given twice", r->action, m);
			}
		e = check_mac(o, r, r->macs[i], err, len);
		e = e
			    ?: plan_host_add(o, r, r->macs[i], r->nmacs == 1 ? r->mac_addrs : NULL,
					     r->nmacs == 1 ? r->n_mac_addrs : 0, pl, err, len);
	}
	for (i = 0; i < r->nmacs && r->verb == OP_DEL && !e; i++) {
		char m[BWE_MAC_STRLEN];

		if (!st_host_find(o->st, r->kind, r->macs[i]) &&
		    !st_mac_entries(o->st, r->kind, r->macs[i], false)) {
			bwe_mac_fmt(r->macs[i], m, sizeof(m));
			snprintf(err, len, "%s: MAC address %s has no %s entry", r->action, m,
				 st_kind_name(r->kind));
			return -ENOENT;
		}
		e = plan_host_del(o, r, r->macs[i], pl);
	}
	if (e)
		return e;
	plain = calloc(r->n ? r->n : 1, sizeof(*plain));
	if (!plain)
		return -ENOMEM;
	for (i = 0; i < r->n && !e; i++) {
		const struct bwe_prefix *p = &r->pfx[i];
		bool hostaddr = p->plen == BWE_ADDR_BITS;
		const struct st_entry *cur = st_find(o->st, r->kind, p);
		__u8 mac[BWE_MAC_LEN];

		if (r->verb == OP_DEL) {
			/* an address of a host by MAC (its /64 too) releases the host */
			if (!cur && hostaddr)
				cur = st_match(o->st, r->kind, &p->addr);
			if (cur && cur->has_mac) {
				e = plan_host_del(o, r, cur->mac, pl);
				continue;
			}
		} else if (hostaddr && !bwe_neigh_mac_of(o->nw, &p->addr, mac) && !mac_unfit(mac) &&
			   internal_neighbours(o, mac, NULL, 0) <=
				   o->cfg->identity.router_addresses) {
			/* check_add of each address guards the host; a router's MAC stays out */
			e = plan_host_add(o, r, mac, &p->addr, 1, pl, err, len);
			continue;
		}
		plain[np] = *p;
		/* --prefix64 holds for an IPv6 address contained by address too */
		if (r->verb == OP_ADD && r->prefix64 && hostaddr && !bwe_addr_is_v4(&p->addr)) {
			host_prefix(&p->addr, true, &plain[np]);
			for (j = 0; j < np && bwe_prefix_cmp(&plain[j], &plain[np]); j++)
				;
			if (j < np)
				continue; /* two addresses of one /64 */
		}
		np++;
	}
	if (!e && np) {
		struct op_request sub = *r;

		sub.pfx = plain;
		sub.n = np;
		e = plan_plain(o, &sub, pl, err, len);
	}
	free(plain);
	return e;
}

static int plan(const struct ops *o, const struct op_request *r, struct plan *pl, char *err,
		size_t len)
{
	int e;

	if (r->ident && (r->kind == ST_QUARANTINE || r->kind == ST_THROTTLE))
		e = plan_ident(o, r, pl, err, len);
	else
		e = plan_plain(o, r, pl, err, len);
	if (e == -ENOMEM && !err[0])
		snprintf(err, len, "%s: out of memory", r->action);
	return e;
}

/* ---- the transaction ------------------------------------------------------- */

static int enforce_changes(struct ops *o, const struct op_change *ch, size_t n)
{
	size_t i;
	int err = 0;

	for (i = 0; i < n && !err; i++)
		if (!ch[i].host)
			err = enf_entry(o->enf, &ch[i].e, ch[i].verb == OP_ADD);
	err = err ?: enf_netclass(o->enf);
	return err ?: enf_macs(o->enf);
}

/* Make the maps match the store again for the entries ch touched. */
static void reenforce(struct ops *o, const struct op_change *ch, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const struct st_entry *now;

		if (ch[i].host)
			continue;
		now = st_find(o->st, ch[i].e.kind, &ch[i].e.pfx);
		enf_entry(o->enf, now ? now : &ch[i].e, now != NULL);
	}
	enf_netclass(o->enf);
	enf_macs(o->enf);
}

/* The event of a host record: the MAC address is the host. */
static struct json_object *host_event(const char *action, const struct st_entry *h,
				      const struct actor *who)
{
	struct json_object *ev = ev_new(action, "event"), *cat;
	char by[ACTOR_TEXT_MAX], mac[BWE_MAC_STRLEN];

	bwe_mac_fmt(h->mac, mac, sizeof(mac));
	actor_fmt(who, by, sizeof(by));
	if (json_object_object_get_ex(json_object_object_get(ev, "event"), "category", &cat))
		json_object_array_add(cat, json_object_new_string("configuration"));
	ev_str(ev, "event.reason", h->reason[0] ? h->reason : NULL);
	ev_str(ev, "event.type", "change");
	ev_str(ev, "host.mac", mac);
	ev_str(ev, "rule.name", who->kind == ACTOR_RULE ? who->name : by);
	ev_str(ev, "user.name", who->kind == ACTOR_OPERATOR ? who->name : by);
	ev_set(ev, "bwenforce.actor", actor_json(who));
	ev_set(ev, "bwenforce.entry", st_entry_json(h));
	return ev;
}

static int commit(struct ops *o, const char *action, const struct actor *who,
		  const struct op_change *ch, size_t n, struct json_object *annotate, char *errbuf,
		  size_t errlen)
{
	struct st_store *snap = st_clone(o->st);
	size_t i, k;
	int err = 0;

	if (!snap) {
		snprintf(errbuf, errlen, "%s: out of memory", action);
		return -ENOMEM;
	}
	for (i = 0; i < n && !err; i++) {
		const struct st_entry *e = &ch[i].e;

		if (ch[i].host)
			err = ch[i].verb == OP_ADD ? st_host_put(o->st, e)
						   : st_host_del(o->st, e->kind, e->mac);
		else
			err = ch[i].verb == OP_ADD ? st_put(o->st, e)
						   : st_del(o->st, e->kind, &e->pfx);
	}
	err = err ?: save(o);
	if (err) {
		st_restore(o->st, snap);
		snprintf(errbuf, errlen, "%s: cannot record the change: %s; nothing changed",
			 action, strerror(-err));
		return err;
	}
	err = enforce_changes(o, ch, n);
	if (err) {
		st_restore(o->st, snap);
		save(o);
		reenforce(o, ch, n);
		snprintf(errbuf, errlen,
			 "%s: the maps could not be updated (%s); the change "
			 "was rolled back",
			 action, strerror(-err));
		return err;
	}
	st_free(snap);
	for (i = 0; i < n; i++) {
		struct json_object *ev = ch[i].host ? host_event(action, &ch[i].e, who)
						    : ev_state_change(action, &ch[i].e, who);

		ev_merge(ev, annotate);
		evlog_emit_audit(o->log, ev); /* never rate-limited */
		for (k = 0; k < o->nobs; k++) {
			if (!ch[i].host && o->obs[k].changed)
				o->obs[k].changed(o->obs[k].ctx, action, ch[i].verb, &ch[i].e, who);
			if (ch[i].host && o->obs[k].host_changed)
				o->obs[k].host_changed(o->obs[k].ctx, action, ch[i].verb, &ch[i].e,
						       who);
		}
	}
	return 0;
}

int ops_apply(struct ops *o, const struct op_request *r, struct json_object **changed, char *err,
	      size_t errlen)
{
	struct plan pl = { 0 };
	size_t i;
	int e;

	err[0] = '\0';
	e = check_request(o, r, err, errlen);
	e = e ?: plan(o, r, &pl, err, errlen);
	e = e ?: commit(o, r->action, r->who, pl.v, pl.n, r->annotate, err, errlen);
	if (!e && changed) {
		*changed = json_object_new_array();
		for (i = 0; i < pl.n; i++)
			json_object_array_add(*changed, st_entry_json(&pl.v[i].e));
	}
	if (e) {
		char who[ACTOR_TEXT_MAX];

		actor_fmt(r->who, who, sizeof(who));
		log_info("refused for %s: %s", who, err);
	}
	free(pl.v);
	return e;
}

int ops_expire(struct ops *o, time_t now)
{
	struct op_change *ch = NULL;
	struct actor ttl;
	size_t i, n = 0;
	char err[OPS_ERR_LEN];
	int e;

	for (i = 0; i < st_count(o->st); i++) {
		const struct st_entry *x = st_at(o->st, i);

		if (x->expires && x->expires <= now)
			n++;
	}
	for (i = 0; i < st_host_count(o->st); i++) {
		const struct st_entry *x = st_host_at(o->st, i);

		if (x->expires && x->expires <= now)
			n++;
	}
	if (!n)
		return 0;
	ch = calloc(n, sizeof(*ch));
	if (!ch)
		return -ENOMEM;
	for (i = 0, n = 0; i < st_count(o->st); i++) {
		const struct st_entry *x = st_at(o->st, i);

		if (x->expires && x->expires <= now) {
			ch[n].verb = OP_DEL;
			ch[n++].e = *x;
		}
	}
	for (i = 0; i < st_host_count(o->st); i++) {
		const struct st_entry *x = st_host_at(o->st, i);

		if (x->expires && x->expires <= now) {
			ch[n].verb = OP_DEL;
			ch[n].host = true;
			ch[n++].e = *x;
		}
	}
	actor_set(&ttl, ACTOR_EXPIRY, NULL, NULL);
	e = commit(o, "expire", &ttl, ch, n, NULL, err, sizeof(err));
	if (e)
		log_warnx("%s; will try again", err);
	free(ch);
	return e;
}

void ops_hit(struct ops *o, const struct ops_hit *h)
{
	size_t k;

	for (k = 0; k < o->nobs; k++)
		if (o->obs[k].hit)
			o->obs[k].hit(o->obs[k].ctx, h);
}

void ops_contact(struct ops *o, const struct ops_contact *c)
{
	size_t k;

	for (k = 0; k < o->nobs; k++)
		if (o->obs[k].contact)
			o->obs[k].contact(o->obs[k].ctx, c);
}

/* ---- learning the addresses of a host contained by identity ----------------------- */

/* A learnt address refused by a guard: logged, and a (rate-limited) event. */
static void learn_refused(struct ops *o, const struct st_entry *h, const struct bwe_addr *a,
			  enum st_learnt source, const char *why)
{
	struct json_object *ev = ev_new("identity-learn-refused", "event");
	char mac[BWE_MAC_STRLEN], addr[BWE_ADDR_STRLEN];

	bwe_mac_fmt(h->mac, mac, sizeof(mac));
	bwe_addr_fmt(a, addr, sizeof(addr));
	log_info("%s %s: address %s (%s) not added: %s", st_kind_name(h->kind), mac, addr,
		 st_learnt_name(source), why);
	ev_str(ev, "event.type", "denied");
	ev_str(ev, "event.reason", why);
	ev_str(ev, "host.mac", mac);
	ev_addr(ev, "host.ip", a);
	ev_str(ev, "bwenforce.learnt_from", st_learnt_name(source));
	evlog_emit(o->log, ev);
}

/* Past identity.max_learnt: the host record says so (saved), and one event. */
static int learn_cap(struct ops *o, const struct st_entry *h, const struct bwe_addr *a,
		     enum st_learnt source, const struct actor *who)
{
	struct op_change c = { .verb = OP_ADD, .host = true, .e = *h };
	struct json_object *ann = json_object_new_object();
	char addr[BWE_ADDR_STRLEN], why[160], err[OPS_ERR_LEN], mac[BWE_MAC_STRLEN];
	int e;

	bwe_addr_fmt(a, addr, sizeof(addr));
	bwe_mac_fmt(h->mac, mac, sizeof(mac));
	snprintf(why, sizeof(why),
		 "the host has %u learnt addresses (identity.max_learnt); "
		 "further addresses are refused",
		 o->cfg->identity.max_learnt);
	json_object_object_add(ann, "event.type", json_object_new_string("denied"));
	json_object_object_add(ann, "event.reason", json_object_new_string(why));
	json_object_object_add(ann, "host.ip", json_object_new_string(addr));
	json_object_object_add(ann, "bwenforce.learnt_from",
			       json_object_new_string(st_learnt_name(source)));
	c.e.capped = true;
	e = commit(o, "identity-learn-refused", who, &c, 1, ann, err, sizeof(err));
	json_object_put(ann);
	if (e)
		log_warnx("%s", err);
	else
		log_warnx("%s %s: %s (first refused: %s)", st_kind_name(h->kind), mac, why, addr);
	return e ?: -ENOSPC;
}

int ops_learn(struct ops *o, const __u8 mac[BWE_MAC_LEN], const struct bwe_addr *a,
	      enum st_learnt source)
{
	static const enum st_kind kinds[] = { ST_QUARANTINE, ST_THROTTLE };
	size_t i;
	int ret = 0;

	for (i = 0; i < ARRAY_SIZE(kinds); i++) {
		const struct st_entry *h = st_host_find(o->st, kinds[i], mac);
		char action[32], err[OPS_ERR_LEN];
		__u8 other[BWE_MAC_LEN];
		struct op_change c = { .verb = OP_ADD };
		struct op_request req;
		struct bwe_prefix p;
		struct actor who;
		int e;

		if (!h || st_match(o->st, kinds[i], a))
			continue; /* not a contained host, or the address is already covered */
		host_prefix(a, h->prefix64, &p);
		if (!list_covers(&o->cfg->internal, &p))
			continue; /* never contained: nothing to learn */
		actor_set(&who, ACTOR_SYSTEM, "learned", st_learnt_name(source));
		if (st_mac_entries(o->st, kinds[i], mac, true) >= o->cfg->identity.max_learnt) {
			if (!h->capped)
				ret = learn_cap(o, h, a, source, &who);
			else
				ret = -ENOSPC;
			continue;
		}
		snprintf(action, sizeof(action), "%s-learn", st_kind_name(kinds[i]));
		req = (struct op_request){ .action = action,
					   .verb = OP_ADD,
					   .kind = kinds[i],
					   .who = &who,
					   .pfx = &p,
					   .n = 1 };
		e = check_add(o, &req, &p, err, sizeof(err));
		if (e) {
			learn_refused(o, h, a, source, err);
			ret = e;
			continue;
		}
		/* a spoofed source address of another host stays that host's */
		if (source == ST_LEARNT_TRAFFIC && !bwe_neigh_mac_of(o->nw, a, other) &&
		    memcmp(other, mac, BWE_MAC_LEN)) {
			char m[BWE_MAC_STRLEN];

			bwe_mac_fmt(other, m, sizeof(m));
			snprintf(err, sizeof(err),
				 "the neighbour table gives it to MAC address %s: another host's "
				 "address, spoofed",
				 m);
			learn_refused(o, h, a, source, err);
			ret = -EPERM;
			continue;
		}
		c.e = *h;
		c.e.pfx = p;
		c.e.actor = who;
		c.e.since = time(NULL);
		c.e.learnt = source;
		c.e.prefix64 = false;
		c.e.capped = false;
		e = commit(o, action, &who, &c, 1, NULL, err, sizeof(err));
		if (e) {
			log_warnx("%s", err);
			ret = e;
			continue;
		}
		ret = ret < 0 ? ret : 1;
	}
	return ret;
}
