// SPDX-License-Identifier: GPL-2.0-only
/*
 * fleet.c - the fleet on etcd; contract in fleet.h, design in docs/fleet.md.
 *
 * Ordering. Every site applies the records in etcd's revision order. A
 * change this site made is applied here at once (the transaction) and
 * queued as "pending" under its key until the watch shows it back; a
 * record of another site for a key with a pending write of ours is older
 * than ours in etcd's order when the watch brings it first, so it is
 * skipped (fleet-superseded) and ours, which follows, is what every site
 * ends with. Applying a record that is already in force is skipped, so a
 * replay (restart, resync) changes nothing.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fleet.h"
#include "fleetclient.h"
#include "fleetrec.h"
#include "log.h"
#include "util.h"

#define FLEET_FILE_MODE	   0600
#define FLEET_SECRET_MAX   (64 * 1024)
#define RETRY_S		   5	/* re-send failed writes this often */
#define SITES_MAX	   1024 /* sites remembered */
#define SNAP_KEYS_MAX	   (1024 * 1024)
#define FEED_STALE_S	   86400 /* a feed not updated for a day is stale */
#define BATCH_MAX	   OPS_ITEMS_MAX
#define SITE_TTL_FACTOR	   3
#define FLEET_FILE_VERSION 1
#define EXPIRY_SLACK_S	   2 /* seconds, see same_expiry() */

struct pend {
	char key[BWE_FREC_KEY_MAX];
	char *value;
	size_t len;
	__u64 ttl, seq;
	bool site_lease; /* a tombstone: on the site's lease (it lives while the site does) */
	__u32 id;	 /* the put in flight; 0: to be sent */
	bool sent;	 /* a put is in flight */
	__s64 rev;	 /* the revision it landed at; 0 unknown */
};

struct site {
	struct bwe_frec_site s;
	bool present;	 /* its key is in etcd (its lease lives) */
	time_t q_window; /* the minute its scope questions are counted in */
	unsigned int q_n;
};

struct feed_ver {
	time_t last_success;
	size_t n;
	char version[BWE_FREC_VERSION_LEN];
};

/* A scope question of this site, waiting for the others' answers. */
struct scope_ask {
	__u32 handle; /* 0: a free slot */
	char id[BWE_FREC_SCOPE_ID_LEN];
	time_t deadline;
	fleet_scope_done_fn done;
	void *ctx;
	char (*expect)[BWE_FREC_SITE_MAX]; /* live sites when asked */
	size_t nexpect;
	struct bwe_frec_scope_ans *ans;
	size_t nans;
	struct fleet_scope_miss *miss; /* refused answers (then the silent, at the end) */
	size_t nmiss;
};

/* Consecutive records of one shape, applied as one transaction. */
struct batch {
	bool active;
	enum op_verb verb;
	enum st_kind kind;
	struct actor who;
	char action[BWE_FREC_KIND_MAX];
	char reason[BWE_FREC_REASON_MAX];
	__s64 expires;
	__u64 rate, burst;
	struct bwe_prefix *pfx;
	size_t n, cap;
};

struct fleet {
	const struct bwe_cfgfile *cfg;
	struct ops *ops;
	const struct st_store *st;
	struct evlog *log;
	struct feeds *feeds;
	const struct fstore *store;

	struct bwe_flc *flc; /* NULL: no fleet, or it could not start */
	char file[PATH_MAX]; /* state_dir/fleet.json */
	char site[BWE_FREC_SITE_MAX];
	bool dirty;
	bool first_join; /* no fleet.json yet: publish what is here */
	__s64 applied_rev;
	__u64 seq;

	struct pend *pend;
	size_t npend, cap_pend;

	struct site *sites;
	size_t nsites;

	bool connected, ever_connected, said_detached;
	time_t detached_since, started;
	char endpoint[256];
	char last_error[BWE_FLC_ERR_MAX];
	__s64 cluster_rev;
	__u64 refused, not_here, superseded;
	__u32 hb_id;
	time_t next_heartbeat, next_retry;
	struct feed_ver *fv;
	size_t nfv;

	struct batch b;

	/* fleet-wide scope */
	struct scope_ask asks[FLEET_SCOPE_ASKS];
	__u32 next_handle;
	fleet_scope_answer_fn responder;
	void *responder_ctx;
	__u64 scope_refused;
	time_t rate_window; /* the minute the answers are counted in */
	unsigned int rate_n;

	/* a snapshot being read */
	bool in_snap;
	__s64 snap_rev;
	char **snap_keys;
	size_t nsnap, cap_snap;
	bool snap_partial; /* a key could not be kept: remove nothing at the end */
	size_t snap_added, snap_refused;
};

static void flush_batch(struct fleet *f);

/* ---- events ---------------------------------------------------------------------- */

static struct json_object *fleet_event(const char *action, const char *type, const char *reason)
{
	struct json_object *ev = ev_new(action, "event");

	ev_str(ev, "event.type", type);
	ev_str(ev, "event.reason", reason);
	return ev;
}

static void refused(struct fleet *f, const char *key, const char *site, const char *why)
{
	struct json_object *ev = fleet_event("fleet-entry-refused", "denied", why);

	f->refused++;
	if (f->in_snap)
		f->snap_refused++;
	log_warnx("fleet: refused %s%s%s: %s", key, site ? " from " : "", site ? site : "", why);
	ev_str(ev, "bwenforce.fleet.key", key);
	ev_str(ev, "bwenforce.fleet.site", site);
	evlog_emit(f->log, ev);
}

/* ---- fleet.json: where this site is in the fleet ------------------------------- */

static void save(struct fleet *f)
{
	struct json_object *o = json_object_new_object(), *arr = json_object_new_array();
	const char *s;
	size_t i;
	int err;

	json_object_object_add(o, "version", json_object_new_int(FLEET_FILE_VERSION));
	json_object_object_add(o, "site", json_object_new_string(f->site));
	json_object_object_add(o, "prefix", json_object_new_string(f->cfg->fleet.prefix));
	json_object_object_add(o, "applied_revision", json_object_new_int64(f->applied_rev));
	json_object_object_add(o, "seq", json_object_new_uint64(f->seq));
	json_object_object_add(o, "first_join", json_object_new_boolean(f->first_join));
	for (i = 0; i < f->npend; i++) {
		struct json_object *p = json_object_new_object();

		json_object_object_add(p, "key", json_object_new_string(f->pend[i].key));
		json_object_object_add(p, "value",
				       json_object_new_string_len(f->pend[i].value,
								  (int)f->pend[i].len));
		json_object_object_add(p, "ttl", json_object_new_uint64(f->pend[i].ttl));
		json_object_object_add(p, "site_lease",
				       json_object_new_boolean(f->pend[i].site_lease));
		json_object_object_add(p, "seq", json_object_new_uint64(f->pend[i].seq));
		json_object_array_add(arr, p);
	}
	json_object_object_add(o, "pending", arr);
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	err = write_file_atomic(f->file, s, strlen(s), FLEET_FILE_MODE);
	if (err)
		log_warnx("fleet: cannot write %s: %s", f->file, strerror(-err));
	else
		f->dirty = false;
	json_object_put(o);
}

static int pend_push(struct fleet *f, const char *key, const char *value, size_t len, __u64 ttl,
		     bool site_lease, __u64 seq);

static void load(struct fleet *f)
{
	struct json_object *o = json_object_from_file(f->file), *arr, *v;
	size_t i;

	f->first_join = true;
	if (!o) {
		if (!access(f->file, F_OK))
			log_warnx("fleet: %s is unreadable; joining the fleet afresh", f->file);
		return;
	}
	if (strcmp(json_object_get_string(json_object_object_get(o, "site")) ?: "", f->site) ||
	    strcmp(json_object_get_string(json_object_object_get(o, "prefix")) ?: "",
		   f->cfg->fleet.prefix)) {
		log_info("fleet: %s is another site's or prefix's; joining afresh", f->file);
		json_object_put(o);
		return;
	}
	f->applied_rev = json_object_get_int64(json_object_object_get(o, "applied_revision"));
	f->seq = json_object_get_uint64(json_object_object_get(o, "seq"));
	f->first_join = json_object_get_boolean(json_object_object_get(o, "first_join"));
	if (f->applied_rev < 0)
		f->applied_rev = 0;
	if (json_object_object_get_ex(o, "pending", &arr) &&
	    json_object_is_type(arr, json_type_array))
		for (i = 0; i < json_object_array_length(arr); i++) {
			struct json_object *p = json_object_array_get_idx(arr, i);
			const char *key = json_object_get_string(json_object_object_get(p, "key"));

			v = json_object_object_get(p, "value");
			if (!key || strlen(key) >= BWE_FREC_KEY_MAX || !v ||
			    !json_object_is_type(v, json_type_string))
				continue;
			pend_push(f, key, json_object_get_string(v),
				  (size_t)json_object_get_string_len(v),
				  json_object_get_uint64(json_object_object_get(p, "ttl")),
				  json_object_get_boolean(json_object_object_get(p, "site_lease")),
				  json_object_get_uint64(json_object_object_get(p, "seq")));
		}
	log_info("fleet: resuming at revision %lld with %zu change%s to write",
		 (long long)f->applied_rev, f->npend, f->npend == 1 ? "" : "s");
	json_object_put(o);
}

/* ---- pending writes ----------------------------------------------------------------- */

static struct pend *pend_find(struct fleet *f, const char *key)
{
	size_t i;

	for (i = 0; i < f->npend; i++)
		if (!strcmp(f->pend[i].key, key))
			return &f->pend[i];
	return NULL;
}

static void pend_remove(struct fleet *f, struct pend *p)
{
	free(p->value);
	*p = f->pend[--f->npend];
	f->dirty = true;
}

static void pend_send(struct fleet *f, struct pend *p)
{
	int e;

	if (!f->flc || p->sent)
		return;
	e = bwe_flc_put(f->flc, p->key, p->value, p->len, p->ttl,
			p->site_lease ? BWE_FLC_LEASE_SITE : BWE_FLC_LEASE_NONE, &p->id);
	if (e)
		log_warnx("fleet: cannot queue %s: %s; will try again", p->key, strerror(-e));
	else
		p->sent = true;
}

/* Queue (or replace) the write of key; the newest change of a key is the one sent. */
static int pend_push(struct fleet *f, const char *key, const char *value, size_t len, __u64 ttl,
		     bool site_lease, __u64 seq)
{
	struct pend *p = pend_find(f, key);
	char *copy = malloc(len + 1);

	if (!copy)
		return -ENOMEM;
	memcpy(copy, value, len);
	copy[len] = '\0';
	if (!p) {
		if (f->npend == f->cap_pend) {
			size_t cap = f->cap_pend ? f->cap_pend * 2 : 64;
			struct pend *v = reallocarray(f->pend, cap, sizeof(*v));

			if (!v) {
				free(copy);
				return -ENOMEM;
			}
			f->pend = v;
			f->cap_pend = cap;
		}
		p = &f->pend[f->npend++];
		memset(p, 0, sizeof(*p));
		snprintf(p->key, sizeof(p->key), "%s", key);
	}
	free(p->value);
	p->value = copy;
	p->len = len;
	p->ttl = site_lease ? 0 : ttl;
	p->site_lease = site_lease;
	p->seq = seq;
	p->sent = false;
	p->rev = 0;
	f->dirty = true;
	return 0;
}

/* ---- out: this site's changes ---------------------------------------------------------- */

static bool published(const struct actor *who, const struct st_entry *e)
{
	/* the lease expires it everywhere; the daemon's own learning stays here */
	return !e->local && who->kind != ACTOR_FLEET && who->kind != ACTOR_EXPIRY &&
	       who->kind != ACTOR_SYSTEM;
}

static void target_of(const struct st_entry *e, bool host, struct bwe_frec_target *t)
{
	memset(t, 0, sizeof(*t));
	t->is_mac = host;
	if (host)
		memcpy(t->mac, e->mac, BWE_MAC_LEN);
	else
		t->pfx = e->pfx;
}

/* The record of e (a host record when host) and its key. */
static int record_of(struct fleet *f, enum op_verb verb, const struct st_entry *e, bool host,
		     const struct actor *who, struct bwe_frec_entry *r, char *key, size_t keylen)
{
	size_t i;

	memset(r, 0, sizeof(*r));
	snprintf(r->kind, sizeof(r->kind), "%s", st_kind_name(e->kind));
	target_of(e, host, &r->t);
	r->deleted = verb == OP_DEL;
	snprintf(r->action, sizeof(r->action), "%s",
		 r->deleted ? bwe_frec_del_action(r->kind) : r->kind);
	snprintf(r->site, sizeof(r->site), "%s", f->site);
	r->seq = ++f->seq;
	actor_fmt(who, r->actor, sizeof(r->actor));
	snprintf(r->reason, sizeof(r->reason), "%s", e->reason);
	r->since = e->since;
	r->expires = e->expires;
	r->rate = e->rate;
	r->burst = e->burst;
	r->prefix64 = e->prefix64;
	for (i = 0; host && !r->deleted && i < st_count(f->st); i++) {
		const struct st_entry *x = st_at(f->st, i);

		if (x->kind == e->kind && x->has_mac && !memcmp(x->mac, e->mac, BWE_MAC_LEN) &&
		    x->learnt == ST_LEARNT_GIVEN && r->naddrs < BWE_FREC_ADDRS_MAX)
			r->addrs[r->naddrs++] = x->pfx.addr;
	}
	f->dirty = true;
	return bwe_frec_entry_key(r->kind, &r->t, key, keylen);
}

static void publish(struct fleet *f, enum op_verb verb, const struct st_entry *e, bool host,
		    const struct actor *who)
{
	struct bwe_frec_entry r;
	char key[BWE_FREC_KEY_MAX], *val;
	time_t now = time(NULL);
	__u64 ttl = 0;
	struct pend *p;

	if (record_of(f, verb, e, host, who, &r, key, sizeof(key)))
		return;
	val = bwe_frec_entry_encode(&r);
	if (!val || strlen(val) > BWE_FLC_VALUE_MAX) {
		log_warnx("fleet: %s: %s; not shared", key,
			  val ? "record too long" : "out of memory");
		free(val);
		return;
	}
	/* a tombstone lives on the site's lease: told to every watcher, gone with the site */
	if (verb == OP_ADD && e->expires)
		ttl = e->expires > now ? (__u64)(e->expires - now) : 1;
	if (!pend_push(f, key, val, strlen(val), ttl, verb == OP_DEL, r.seq) &&
	    (p = pend_find(f, key)))
		pend_send(f, p);
	free(val);
}

static void on_changed(void *ctx, const char *action, enum op_verb verb, const struct st_entry *e,
		       const struct actor *who)
{
	struct fleet *f = ctx;

	(void)action;
	/* a host's addresses travel in its host record */
	if (f->flc && !e->has_mac && published(who, e))
		publish(f, verb, e, false, who);
}

static void on_host_changed(void *ctx, const char *action, enum op_verb verb,
			    const struct st_entry *h, const struct actor *who)
{
	struct fleet *f = ctx;

	(void)action;
	if (f->flc && published(who, h))
		publish(f, verb, h, true, who);
}

/* ---- in: other sites' records ------------------------------------------------------- */

static bool internal(const struct fleet *f, const struct bwe_prefix *p)
{
	size_t i;

	for (i = 0; i < f->cfg->internal.n; i++)
		if (bwe_prefix_covers(&f->cfg->internal.v[i], p))
			return true;
	return false;
}

/* One transaction; a refusal is one event. Returns ops_apply's value. */
static int apply_one(struct fleet *f, const struct op_request *r, const char *key)
{
	char err[OPS_ERR_LEN];
	int e = ops_apply(f->ops, r, NULL, err, sizeof(err));

	if (e == -EINVAL || e == -EPERM)
		refused(f, key, r->who->name, err);
	else if (e && e != -ENOENT)
		log_warnx("fleet: %s: %s", key, err);
	else if (!e && f->in_snap && r->verb == OP_ADD)
		f->snap_added += r->n ? r->n : 1;
	return e;
}

static void batch_reset(struct batch *b)
{
	b->active = false;
	b->n = 0;
}

static void flush_batch(struct fleet *f)
{
	struct batch *b = &f->b;
	struct op_request r = {
		.action = b->action,
		.verb = b->verb,
		.kind = b->kind,
		.who = &b->who,
		.reason = b->reason,
		.rate = b->rate,
		.burst = b->burst,
	};
	char key[BWE_FREC_KEY_MAX];
	time_t now = time(NULL);
	size_t i;

	if (!b->active || !b->n) {
		batch_reset(b);
		return;
	}
	if (b->verb == OP_ADD && b->expires)
		r.ttl_s = b->expires > now ? (__u64)(b->expires - now) : 1;
	r.pfx = b->pfx;
	r.n = b->n;
	snprintf(key, sizeof(key), "%zu entries from %s", b->n, b->who.name);
	if (b->n == 1 || !ops_apply(f->ops, &r, NULL, (char[OPS_ERR_LEN]){ 0 }, OPS_ERR_LEN)) {
		if (b->n == 1) {
			struct bwe_frec_target t = { .pfx = b->pfx[0] };

			bwe_frec_entry_key(st_kind_name(b->kind), &t, key, sizeof(key));
			apply_one(f, &r, key);
		} else if (f->in_snap && b->verb == OP_ADD) {
			f->snap_added += b->n;
		}
		batch_reset(b);
		return;
	}
	/* one refused entry refuses a transaction: find it, apply the rest one by one */
	for (i = 0; i < b->n; i++) {
		struct bwe_frec_target t = { .pfx = b->pfx[i] };

		r.pfx = &b->pfx[i];
		r.n = 1;
		bwe_frec_entry_key(st_kind_name(b->kind), &t, key, sizeof(key));
		apply_one(f, &r, key);
	}
	batch_reset(b);
}

/* Add one prefix change to the batch, flushing first when it does not fit. */
static void batch_add(struct fleet *f, enum op_verb verb, enum st_kind kind,
		      const struct actor *who, const char *action, const char *reason,
		      __s64 expires, __u64 rate, __u64 burst, const struct bwe_prefix *p)
{
	struct batch *b = &f->b;
	size_t i;

	if (b->active &&
	    (b->verb != verb || b->kind != kind || b->n == BATCH_MAX || strcmp(b->action, action) ||
	     strcmp(b->reason, reason) || b->expires != expires || b->rate != rate ||
	     b->burst != burst || b->who.kind != who->kind || strcmp(b->who.name, who->name) ||
	     strcmp(b->who.detail, who->detail)))
		flush_batch(f);
	for (i = 0; b->active && i < b->n; i++)
		if (!bwe_prefix_cmp(&b->pfx[i], p)) {
			flush_batch(f); /* a second change of one entry comes after the first */
			break;
		}
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		struct bwe_prefix *v = reallocarray(b->pfx, cap, sizeof(*v));

		if (!v) {
			log_warnx("fleet: out of memory");
			return;
		}
		b->pfx = v;
		b->cap = cap;
	}
	if (!b->active) {
		b->active = true;
		b->verb = verb;
		b->kind = kind;
		b->who = *who;
		snprintf(b->action, sizeof(b->action), "%s", action);
		snprintf(b->reason, sizeof(b->reason), "%s", reason);
		b->expires = expires;
		b->rate = rate;
		b->burst = burst;
	}
	b->pfx[b->n++] = *p;
}

/* An expiry made here from a record's TTL may be a second or two off the record's own. */
static bool same_expiry(time_t here, __s64 rec)
{
	if (!here || !rec)
		return !here && !rec;
	return llabs((long long)here - rec) <= EXPIRY_SLACK_S;
}

/* Is the record's entry already in force here as the record says? */
static bool in_force(const struct fleet *f, enum st_kind k, const struct bwe_frec_entry *r)
{
	const struct st_entry *e = r->t.is_mac ? st_host_find(f->st, k, r->t.mac)
					       : st_find(f->st, k, &r->t.pfx);

	return e && same_expiry(e->expires, r->expires) && e->rate == r->rate &&
	       (!r->burst || e->burst == r->burst) && !strcmp(e->reason, r->reason);
}

/*
 * A --local entry of this site holds against other sites' records for the
 * same target: it was made for this site alone, and the fleet never
 * replaces or removes it (logged once per record).
 */
static bool local_here(struct fleet *f, enum st_kind k, const struct bwe_frec_entry *r,
		       const char *key)
{
	const struct st_entry *e = r->t.is_mac ? st_host_find(f->st, k, r->t.mac)
					       : st_find(f->st, k, &r->t.pfx);

	if (!e || !e->local)
		return false;
	log_info("fleet: %s from %s not applied: a --local entry here holds", key, r->site);
	return true;
}

/* A record of a host by MAC address: its own transaction. */
static void apply_host(struct fleet *f, enum st_kind k, const struct bwe_frec_entry *r,
		       const struct actor *who, const char *key)
{
	struct bwe_addr addrs[BWE_FREC_ADDRS_MAX];
	const __u8(*macs)[BWE_MAC_LEN] = (const __u8(*)[BWE_MAC_LEN]) & r->t.mac;
	struct op_request q = {
		.action = r->action,
		.verb = r->deleted ? OP_DEL : OP_ADD,
		.kind = k,
		.who = who,
		.reason = r->reason,
		.ident = true,
		.macs = macs,
		.nmacs = 1,
	};
	time_t now = time(NULL);
	size_t i, n = 0;

	flush_batch(f);
	if (r->deleted) {
		const struct st_entry *h = st_host_find(f->st, k, r->t.mac);

		if (h && !h->local)
			apply_one(f, &q, key);
		return;
	}
	if (local_here(f, k, r, key))
		return;
	for (i = 0; f->cfg->fleet.share_addresses && i < r->naddrs; i++) {
		struct bwe_prefix p = { .addr = r->addrs[i], .plen = BWE_ADDR_BITS };

		if (internal(f, &p))
			addrs[n++] = r->addrs[i];
	}
	q.mac_addrs = addrs;
	q.n_mac_addrs = n;
	q.prefix64 = r->prefix64;
	q.rate = r->rate;
	q.burst = r->burst;
	q.ttl_s = r->expires ? (__u64)(r->expires - now) : 0;
	apply_one(f, &q, key);
}

/* The record of key, from another site (or this one's, replayed). */
static void apply_record(struct fleet *f, const char *key, const struct bwe_frec_entry *r)
{
	int k = st_kind_from_name(r->kind);
	struct actor who;
	char detail[ACTOR_DETAIL_MAX];
	time_t now = time(NULL);

	if (k < 0)
		return;
	if (!r->deleted && r->expires && r->expires <= now)
		return; /* expired on the way: its lease ends it everywhere */
	if (!r->deleted && in_force(f, (enum st_kind)k, r))
		return;
	memcpy(detail, r->actor, sizeof(detail) - 1); /* cut: who asked there, shown */
	detail[sizeof(detail) - 1] = '\0';
	actor_set(&who, ACTOR_FLEET, r->site, detail);
	if (r->t.is_mac) {
		apply_host(f, (enum st_kind)k, r, &who, key);
		return;
	}
	if ((k == ST_QUARANTINE || k == ST_THROTTLE) && !r->deleted &&
	    (!f->cfg->fleet.share_addresses || !internal(f, &r->t.pfx))) {
		f->not_here++; /* another site's hosts: nothing to contain here */
		return;
	}
	if (r->deleted) {
		const struct st_entry *e = st_find(f->st, (enum st_kind)k, &r->t.pfx);

		if (!e || e->has_mac || e->local)
			return; /* nothing here, a host's address (its host record rules), or ours */
	} else if (local_here(f, (enum st_kind)k, r, key)) {
		return;
	}
	batch_add(f, r->deleted ? OP_DEL : OP_ADD, (enum st_kind)k, &who, r->action, r->reason,
		  r->expires, r->rate, r->burst, &r->t.pfx);
}

static void superseded(struct fleet *f, const char *key, const struct bwe_frec_entry *r)
{
	struct json_object *ev = fleet_event("fleet-superseded", "info",
					     "a later change of this site to the same entry wins");

	f->superseded++;
	ev_str(ev, "bwenforce.fleet.key", key);
	ev_str(ev, "bwenforce.fleet.site", r->site);
	ev_str(ev, "bwenforce.fleet.action", r->action);
	ev_str(ev, "bwenforce.fleet.by", r->actor);
	evlog_emit(f->log, ev);
}

static void on_entry(struct fleet *f, const char *key, const struct bwe_frec_entry *r)
{
	struct pend *p = pend_find(f, key);

	if (p) {
		if (!strcmp(r->site, f->site) && r->seq >= p->seq)
			pend_remove(f, p); /* ours is in etcd: done */
		else if (strcmp(r->site, f->site))
			superseded(f, key, r);
		return;
	}
	apply_record(f, key, r);
}

/* A key gone from etcd: its lease ran out (a TTL), or it was deleted there. */
static struct site *site_find(struct fleet *f, const char *name)
{
	size_t i;

	for (i = 0; i < f->nsites; i++)
		if (!strcmp(f->sites[i].s.site, name))
			return &f->sites[i];
	return NULL;
}

static void on_deleted(struct fleet *f, const char *key)
{
	char kind[BWE_FREC_KIND_MAX], site[BWE_FREC_SITE_MAX], err[160];
	struct bwe_frec_target t;
	const struct st_entry *e;
	struct actor ttl;
	int k, type = bwe_frec_parse_key(key, kind, &t, site, err, sizeof(err));

	if (type == BWE_FREC_KEY_SITE) {
		struct site *s = site_find(f, site);

		if (s)
			s->present = false;
		return;
	}
	if (type != BWE_FREC_KEY_ENTRY || pend_find(f, key))
		return;
	k = st_kind_from_name(kind);
	e = t.is_mac ? st_host_find(f->st, (enum st_kind)k, t.mac)
		     : st_find(f->st, (enum st_kind)k, &t.pfx);
	if (!e || e->local || (!t.is_mac && e->has_mac))
		return;
	actor_set(&ttl, ACTOR_EXPIRY, NULL, NULL);
	if (t.is_mac) {
		const __u8(*macs)[BWE_MAC_LEN] = (const __u8(*)[BWE_MAC_LEN])t.mac;
		struct op_request q = { .action = "expire",
					.verb = OP_DEL,
					.kind = (enum st_kind)k,
					.who = &ttl,
					.ident = true,
					.macs = macs,
					.nmacs = 1 };

		flush_batch(f);
		apply_one(f, &q, key);
		return;
	}
	batch_add(f, OP_DEL, (enum st_kind)k, &ttl, "expire", "", 0, 0, 0, &t.pfx);
}

static void on_site(struct fleet *f, const char *name, const void *val, size_t len, const char *key)
{
	struct bwe_frec_site s;
	struct site *x;
	char err[256];

	if (bwe_frec_site_parse(name, val, len, &s, err, sizeof(err))) {
		refused(f, key, name, err);
		return;
	}
	if (!(x = site_find(f, name))) {
		if (f->nsites == SITES_MAX) {
			refused(f, key, name, "more sites than this site remembers (1024)");
			return;
		}
		x = reallocarray(f->sites, f->nsites + 1, sizeof(*x));
		if (!x)
			return;
		f->sites = x;
		x = &x[f->nsites++];
		memset(x, 0, sizeof(*x));
	}
	x->s = s;
	x->present = true;
}

/* ---- fleet-wide scope ------------------------------------------------------------------ */

/* Its lease lives and its heartbeat is recent. */
static bool site_alive(const struct fleet *f, const struct site *s, time_t now)
{
	return s->present &&
	       now - s->s.time <= (__s64)(f->cfg->fleet.heartbeat_s * SITE_TTL_FACTOR);
}

static void scope_refuse(struct fleet *f, const char *key, const char *why)
{
	f->scope_refused++;
	log_warnx("fleet: scope: refused %s: %s", key, why);
}

/*
 * One more question in this minute's count (*window, *n): true while at
 * most limit; past it the question is counted refused and logged once.
 */
static bool scope_rate(struct fleet *f, time_t *window, unsigned int *n, unsigned int limit,
		       const char *from, const char *key, time_t now)
{
	if (now / 60 != *window) {
		*window = now / 60;
		*n = 0;
	}
	if (++*n <= limit)
		return true;
	f->scope_refused++;
	if (*n == limit + 1)
		log_warnx("fleet: scope: more than %u questions %s in this minute (the last %s); "
			  "the rest of the minute's are not answered",
			  limit, from, key);
	return false;
}

/* Another site's question: this site's answer, on a lease of its own. */
static void scope_question(struct fleet *f, const char *key, const __u8 *val, size_t len)
{
	struct bwe_frec_scope_req q;
	struct bwe_frec_scope_ans *a;
	char err[256], akey[BWE_FREC_KEY_MAX], from[BWE_FREC_SITE_MAX + 8], *text;
	time_t now = time(NULL);
	struct site *s;
	int e;

	if (bwe_frec_scope_req_parse(key, val, len, &q, err, sizeof(err)))
		q.site[0] = '\0';
	else if (!strcmp(q.site, f->site) || q.deadline < now || !f->responder || !f->flc)
		return; /* ours, too late (a snapshot's), or nobody to answer */
	/* other sites' questions, malformed ones too, all askers together */
	if (!scope_rate(f, &f->rate_window, &f->rate_n, FLEET_SCOPE_RATE_ALL, "in all", key, now))
		return;
	if (!q.site[0]) {
		scope_refuse(f, key, err);
		return;
	}
	/* only a live site reads answers; one site's flood leaves the others theirs */
	if (!(s = site_find(f, q.site)) || !site_alive(f, s, now)) {
		scope_refuse(f, key, "the asking site is not alive in the fleet");
		return;
	}
	snprintf(from, sizeof(from), "from %s", q.site);
	if (!scope_rate(f, &s->q_window, &s->q_n, FLEET_SCOPE_RATE, from, key, now))
		return;
	if (!(a = calloc(1, sizeof(*a))))
		return;
	if ((e = f->responder(f->responder_ctx, &q, a))) {
		log_warnx("fleet: scope: cannot answer %s from %s: %s", key, q.site, strerror(-e));
		free(a);
		return;
	}
	snprintf(a->id, sizeof(a->id), "%s", q.id);
	snprintf(a->site, sizeof(a->site), "%s", f->site);
	text = bwe_frec_scope_ans_encode(a, BWE_FLC_VALUE_MAX);
	if (text && !bwe_frec_scope_key(q.id, f->site, akey, sizeof(akey)) &&
	    (e = bwe_flc_put(f->flc, akey, text, strlen(text), FLEET_SCOPE_TTL_S,
			     BWE_FLC_LEASE_NONE, NULL)))
		log_warnx("fleet: scope: cannot send the answer to %s: %s", q.site, strerror(-e));
	free(text);
	free(a);
}

static struct scope_ask *ask_find(struct fleet *f, const char *id)
{
	size_t i;

	for (i = 0; i < FLEET_SCOPE_ASKS; i++)
		if (f->asks[i].handle && !strcmp(f->asks[i].id, id))
			return &f->asks[i];
	return NULL;
}

static void ask_free(struct scope_ask *q)
{
	free(q->expect);
	free(q->ans);
	free(q->miss);
	memset(q, 0, sizeof(*q));
}

static bool ask_heard(const struct scope_ask *q, const char *site)
{
	size_t i;

	for (i = 0; i < q->nans; i++)
		if (!strcmp(q->ans[i].site, site))
			return true;
	for (i = 0; i < q->nmiss; i++)
		if (!strcmp(q->miss[i].site, site))
			return true;
	return false;
}

/* Every site asked has answered (or was refused). */
static bool ask_complete(const struct scope_ask *q)
{
	size_t i;

	for (i = 0; i < q->nexpect; i++)
		if (!ask_heard(q, q->expect[i]))
			return false;
	return true;
}

static int ask_miss(struct scope_ask *q, const char *site, const char *why)
{
	struct fleet_scope_miss *v = reallocarray(q->miss, q->nmiss + 1, sizeof(*v));

	if (!v)
		return -ENOMEM;
	q->miss = v;
	snprintf(v[q->nmiss].site, sizeof(v->site), "%s", site);
	snprintf(v[q->nmiss].why, sizeof(v->why), "%s", why);
	q->nmiss++;
	return 0;
}

/* The question is over: the silent sites named, done called once, the slot freed. */
static void ask_finish(struct scope_ask *q)
{
	struct scope_ask done = *q;
	struct fleet_scope_result r;
	char why[64];
	size_t i;

	memset(q, 0, sizeof(*q)); /* the slot is free before done runs */
	snprintf(why, sizeof(why), "no answer within %d s", FLEET_SCOPE_WAIT_S);
	for (i = 0; i < done.nexpect; i++)
		if (!ask_heard(&done, done.expect[i]))
			ask_miss(&done, done.expect[i], why);
	r = (struct fleet_scope_result){ .ans = done.ans,
					 .nans = done.nans,
					 .miss = done.miss,
					 .nmiss = done.nmiss,
					 .asked = done.nexpect };
	done.done(done.ctx, &r);
	ask_free(&done);
}

/*
 * The question of ours that the answer key scope/ans/ID/SITE is for, when
 * SITE has not answered yet (other sites' questions are not ours to read).
 */
static struct scope_ask *answer_for(struct fleet *f, const char *key, const char *site)
{
	char id[BWE_FREC_SCOPE_ID_LEN];
	struct scope_ask *q;

	snprintf(id, sizeof(id), "%.16s", key + strlen("scope/ans/"));
	if (!(q = ask_find(f, id)) || !strcmp(site, f->site) || ask_heard(q, site))
		return NULL;
	if (q->nans + q->nmiss >= SITES_MAX) {
		scope_refuse(f, key, "more answers than sites this site remembers (1024)");
		return NULL;
	}
	return q;
}

static void scope_answer(struct fleet *f, const char *key, const char *site, const __u8 *val,
			 size_t len)
{
	struct scope_ask *q = answer_for(f, key, site);
	struct bwe_frec_scope_ans *v;
	char err[400];

	if (!q || !(v = reallocarray(q->ans, q->nans + 1, sizeof(*v))))
		return;
	q->ans = v;
	if (bwe_frec_scope_ans_parse(key, val, len, &v[q->nans], err, sizeof(err))) {
		scope_refuse(f, key, err);
		ask_miss(q, site, err);
	} else {
		q->nans++;
	}
	if (ask_complete(q))
		ask_finish(q);
}

/*
 * A scope key the worker did not pass on (a value over BWE_FLC_VALUE_MAX):
 * refused; an answer to a question of ours names its site as refused.
 */
static void scope_not_passed(struct fleet *f, const char *key, const char *why)
{
	char kind[BWE_FREC_KIND_MAX], site[BWE_FREC_SITE_MAX], err[160];
	struct bwe_frec_target t;
	struct scope_ask *q;

	scope_refuse(f, key, why);
	if (bwe_frec_parse_key(key, kind, &t, site, err, sizeof(err)) != BWE_FREC_KEY_SCOPE_ANS ||
	    !(q = answer_for(f, key, site)))
		return;
	ask_miss(q, site, why);
	if (ask_complete(q))
		ask_finish(q);
}

void fleet_scope_responder(struct fleet *f, fleet_scope_answer_fn fn, void *ctx)
{
	if (f) {
		f->responder = fn;
		f->responder_ctx = ctx;
	}
}

const char *fleet_site(const struct fleet *f)
{
	return fleet_enabled(f) ? f->site : NULL;
}

int fleet_scope_ask(struct fleet *f, struct bwe_frec_scope_req *req, fleet_scope_done_fn done,
		    void *ctx, __u32 *handle)
{
	struct scope_ask *q = NULL;
	char key[BWE_FREC_KEY_MAX], *text;
	time_t now = time(NULL);
	size_t i;
	int e;

	if (!fleet_enabled(f))
		return -EOPNOTSUPP;
	if (!f->flc || !f->connected)
		return -ENOTCONN;
	for (i = 0; i < FLEET_SCOPE_ASKS && !q; i++)
		if (!f->asks[i].handle)
			q = &f->asks[i];
	if (!q)
		return -EBUSY;
	if ((e = bwe_frec_scope_id(req->id)))
		return e;
	snprintf(req->site, sizeof(req->site), "%s", f->site);
	req->deadline = now + FLEET_SCOPE_WAIT_S;
	q->expect = calloc(f->nsites ? f->nsites : 1, sizeof(*q->expect));
	text = bwe_frec_scope_req_encode(req);
	if (!q->expect || !text) {
		free(text);
		ask_free(q);
		return -ENOMEM;
	}
	for (i = 0; i < f->nsites; i++)
		if (site_alive(f, &f->sites[i], now) && strcmp(f->sites[i].s.site, f->site))
			snprintf(q->expect[q->nexpect++], BWE_FREC_SITE_MAX, "%s",
				 f->sites[i].s.site);
	if ((e = bwe_frec_scope_key(req->id, NULL, key, sizeof(key))) ||
	    (e = bwe_flc_put(f->flc, key, text, strlen(text), FLEET_SCOPE_TTL_S, BWE_FLC_LEASE_NONE,
			     NULL))) {
		free(text);
		ask_free(q);
		return e;
	}
	free(text);
	snprintf(q->id, sizeof(q->id), "%s", req->id);
	q->deadline = req->deadline;
	q->done = done;
	q->ctx = ctx;
	q->handle = ++f->next_handle ? f->next_handle : ++f->next_handle;
	*handle = q->handle;
	return 0;
}

void fleet_scope_cancel(struct fleet *f, __u32 handle)
{
	size_t i;

	for (i = 0; f && handle && i < FLEET_SCOPE_ASKS; i++)
		if (f->asks[i].handle == handle)
			ask_free(&f->asks[i]);
}

/* Questions whose time is up, or that wait for nobody. */
static void asks_tick(struct fleet *f, time_t now, bool all)
{
	size_t i;

	for (i = 0; i < FLEET_SCOPE_ASKS; i++)
		if (f->asks[i].handle &&
		    (all || now >= f->asks[i].deadline || ask_complete(&f->asks[i])))
			ask_finish(&f->asks[i]);
}

static void snap_keep(struct fleet *f, const char *key)
{
	if (f->nsnap == f->cap_snap) {
		size_t cap = f->cap_snap ? f->cap_snap * 2 : 256;
		char **v;

		v = cap > SNAP_KEYS_MAX ? NULL : reallocarray(f->snap_keys, cap, sizeof(*v));
		if (!v) {
			f->snap_partial = true; /* the removals of the resync would be wrong */
			return;
		}
		f->snap_keys = v;
		f->cap_snap = cap;
	}
	if ((f->snap_keys[f->nsnap] = strdup(key)))
		f->nsnap++;
	else
		f->snap_partial = true;
}

/* One key and its value: from the watch (PUT) or a snapshot. */
static void on_put(struct fleet *f, const char *key, const __u8 *val, size_t len)
{
	char kind[BWE_FREC_KIND_MAX], site[BWE_FREC_SITE_MAX], err[256];
	struct bwe_frec_target t;
	struct bwe_frec_entry *r;
	int type = bwe_frec_parse_key(key, kind, &t, site, err, sizeof(err));

	if (type < 0) {
		refused(f, key, NULL, err);
		return;
	}
	if (type == BWE_FREC_KEY_SITE) {
		on_site(f, site, val, len, key);
		return;
	}
	if (type == BWE_FREC_KEY_SCOPE_REQ) {
		scope_question(f, key, val, len);
		return;
	}
	if (type == BWE_FREC_KEY_SCOPE_ANS) {
		scope_answer(f, key, site, val, len);
		return;
	}
	r = malloc(sizeof(*r));
	if (!r)
		return;
	if (bwe_frec_entry_parse(key, val, len, r, err, sizeof(err))) {
		refused(f, key, NULL, err);
	} else {
		if (f->in_snap && !r->deleted)
			snap_keep(f, key);
		on_entry(f, key, r);
	}
	free(r);
}

static int strp_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool in_snapshot(const struct fleet *f, const char *key)
{
	const char *k = key;

	return f->nsnap && bsearch(&k, f->snap_keys, f->nsnap, sizeof(char *), strp_cmp);
}

/* The local entries the snapshot lacks: published at a first join, else removed. */
static void reconcile(struct fleet *f)
{
	struct {
		struct st_entry e;
		bool host;
	} *todo = NULL;
	size_t i, n = 0, removed = 0, published = 0, total = st_count(f->st) + st_host_count(f->st);
	struct json_object *ev;
	char why[160];
	struct actor me;

	flush_batch(f);
	qsort(f->snap_keys, f->nsnap, sizeof(char *), strp_cmp);
	todo = calloc(total ? total : 1, sizeof(*todo));
	if (!todo)
		return;
	for (i = 0; i < total; i++) {
		bool host = i >= st_count(f->st);
		const struct st_entry *e = host ? st_host_at(f->st, i - st_count(f->st))
						: st_at(f->st, i);
		struct bwe_frec_target t;
		char key[BWE_FREC_KEY_MAX];

		if (e->local || (!host && e->has_mac))
			continue;
		target_of(e, host, &t);
		if (bwe_frec_entry_key(st_kind_name(e->kind), &t, key, sizeof(key)) ||
		    pend_find(f, key) || in_snapshot(f, key))
			continue;
		todo[n].e = *e;
		todo[n++].host = host;
	}
	snprintf(why, sizeof(why), "not in the fleet's state at revision %lld",
		 (long long)f->snap_rev);
	actor_set(&me, ACTOR_FLEET, f->site, "resync");
	for (i = 0; i < n; i++) {
		if (f->first_join) {
			publish(f, OP_ADD, &todo[i].e, todo[i].host, &todo[i].e.actor);
			published++;
		} else if (f->snap_partial) {
			continue; /* not sure etcd lacks it: keep it (fail static) */
		} else if (todo[i].host) {
			const __u8(*macs)[BWE_MAC_LEN] = (const __u8(*)[BWE_MAC_LEN])todo[i].e.mac;
			struct op_request q = { .action = bwe_frec_del_action(
							st_kind_name(todo[i].e.kind)),
						.verb = OP_DEL,
						.kind = todo[i].e.kind,
						.who = &me,
						.reason = why,
						.ident = true,
						.macs = macs,
						.nmacs = 1 };

			removed += !apply_one(f, &q, "resync");
		} else {
			batch_add(f, OP_DEL, todo[i].e.kind, &me,
				  bwe_frec_del_action(st_kind_name(todo[i].e.kind)), why, 0, 0, 0,
				  &todo[i].e.pfx);
			removed++;
		}
	}
	flush_batch(f);
	free(todo);
	if (f->snap_partial && !f->first_join)
		log_warnx("fleet: the prefix at revision %lld held more keys than this site "
			  "could keep (%zu kept); nothing was removed by the resync",
			  (long long)f->snap_rev, f->nsnap);
	ev = fleet_event("fleet-resync", "change",
			 f->snap_partial ? "keys beyond the bound not kept: nothing removed"
					 : NULL);
	ev_set(ev, "bwenforce.fleet.revision", json_object_new_int64(f->snap_rev));
	ev_set(ev, "bwenforce.fleet.added", json_object_new_uint64(f->snap_added));
	ev_set(ev, "bwenforce.fleet.removed", json_object_new_uint64(removed));
	ev_set(ev, "bwenforce.fleet.published", json_object_new_uint64(published));
	ev_set(ev, "bwenforce.fleet.refused", json_object_new_uint64(f->snap_refused));
	ev_set(ev, "bwenforce.fleet.entries", json_object_new_uint64(f->nsnap));
	evlog_emit_audit(f->log, ev);
	log_info("fleet: re-read the prefix at revision %lld: %zu entries, %zu added, %zu "
		 "removed, %zu published, %zu refused",
		 (long long)f->snap_rev, f->nsnap, f->snap_added, removed, published,
		 f->snap_refused);
	for (i = 0; i < f->nsnap; i++)
		free(f->snap_keys[i]);
	f->nsnap = 0;
	f->first_join = false;
	f->dirty = true;
}

/* ---- the worker's events ------------------------------------------------------------ */

static void attached(struct fleet *f, const struct bwe_flc_ev *ev)
{
	struct json_object *e;
	time_t now = time(NULL);
	size_t i;

	f->connected = true;
	snprintf(f->endpoint, sizeof(f->endpoint), "%s", ev->endpoint ? ev->endpoint : "");
	if (f->ever_connected) {
		char why[96];

		snprintf(why, sizeof(why), "etcd reachable again after %lld s",
			 (long long)(now - f->detached_since));
		e = fleet_event("fleet-attached", "connection", why);
		ev_str(e, "bwenforce.fleet.endpoint", f->endpoint);
		evlog_emit_audit(f->log, e);
		log_info("fleet: attached through %s (%s)", f->endpoint, why);
	} else {
		log_info("fleet: attached through %s", f->endpoint);
	}
	f->ever_connected = true;
	f->said_detached = false;
	f->detached_since = 0;
	for (i = 0; i < f->npend; i++)
		pend_send(f, &f->pend[i]);
	f->next_heartbeat = 0; /* now */
}

static void detached(struct fleet *f, const struct bwe_flc_ev *ev)
{
	struct json_object *e;
	char why[BWE_FLC_ERR_MAX + 96];

	if (ev->error && ev->error[0])
		snprintf(f->last_error, sizeof(f->last_error), "%s", ev->error);
	if (f->said_detached)
		return;
	if (f->connected || !f->detached_since)
		f->detached_since = time(NULL);
	f->connected = false;
	f->said_detached = true;
	snprintf(why, sizeof(why),
		 "etcd unreachable (%s): enforcing the local state, %zu change%s to write",
		 f->last_error[0] ? f->last_error : "no answer", f->npend,
		 f->npend == 1 ? "" : "s");
	e = fleet_event("fleet-detached", "connection", why);
	evlog_emit_audit(f->log, e);
	log_warnx("fleet: detached: %s", why);
}

/*
 * etcd refused a write for good (permission denied: the site's role does
 * not cover the key; invalid): trying again would hold the key's other
 * sites' changes off forever. The change stays here; an event says it was
 * not shared.
 */
static void write_refused(struct fleet *f, struct pend *p, const struct bwe_flc_ev *ev)
{
	char why[BWE_FLC_ERR_MAX + 64];
	struct json_object *e;

	snprintf(why, sizeof(why), "etcd refused the write (%s); the change holds here only",
		 ev->error && ev->error[0] ? ev->error : strerror(-ev->status));
	e = fleet_event("fleet-write-refused", "denied", why);
	ev_str(e, "bwenforce.fleet.key", p->key);
	evlog_emit_audit(f->log, e);
	log_warnx("fleet: %s: %s", p->key, why);
	pend_remove(f, p);
}

static void on_event(const struct bwe_flc_ev *ev, void *ctx)
{
	struct fleet *f = ctx;
	size_t i;

	switch (ev->type) {
	case BWE_FLC_EV_STATE:
		if (ev->revision > f->cluster_rev)
			f->cluster_rev = ev->revision;
		if (ev->connected && !f->connected)
			attached(f, ev);
		else if (ev->connected) /* a new site lease: the heartbeat key went with the old */
			f->next_heartbeat = 0;
		else
			detached(f, ev);
		break;
	case BWE_FLC_EV_COMPACTED:
		log_info("fleet: etcd compacted to revision %lld; re-reading the prefix",
			 (long long)ev->revision);
		break;
	case BWE_FLC_EV_SNAP_BEGIN:
		flush_batch(f);
		f->snap_partial = false;
		for (i = 0; i < f->nsnap; i++) /* one cut short starts over */
			free(f->snap_keys[i]);
		f->nsnap = 0;
		f->in_snap = true;
		f->snap_rev = ev->revision;
		f->snap_added = f->snap_refused = 0;
		if (ev->revision > f->cluster_rev)
			f->cluster_rev = ev->revision;
		break;
	case BWE_FLC_EV_SNAP_KV:
		if (f->in_snap)
			on_put(f, ev->key, ev->value, ev->value_len);
		break;
	case BWE_FLC_EV_SNAP_END:
		if (!f->in_snap)
			break;
		reconcile(f);
		f->in_snap = false;
		f->applied_rev = ev->revision;
		break;
	case BWE_FLC_EV_PUT:
	case BWE_FLC_EV_DEL:
		if (ev->mod_revision <= f->applied_rev)
			break; /* seen already */
		if (ev->type == BWE_FLC_EV_PUT)
			on_put(f, ev->key, ev->value, ev->value_len);
		else
			on_deleted(f, ev->key);
		f->applied_rev = ev->mod_revision;
		if (ev->mod_revision > f->cluster_rev)
			f->cluster_rev = ev->mod_revision;
		f->dirty = true;
		break;
	case BWE_FLC_EV_REFUSED:
		if (!strncmp(ev->key, "scope/", strlen("scope/")))
			scope_not_passed(f, ev->key, ev->error); /* not a fleet entry */
		else
			refused(f, ev->key, NULL, ev->error);
		if (!f->in_snap && ev->mod_revision > f->applied_rev) {
			f->applied_rev = ev->mod_revision;
			f->dirty = true;
		}
		break;
	case BWE_FLC_EV_DONE:
		if (ev->id == f->hb_id) {
			f->hb_id = 0;
			if (!ev->status && ev->revision > f->cluster_rev)
				f->cluster_rev = ev->revision;
			break;
		}
		for (i = 0; i < f->npend; i++) {
			struct pend *p = &f->pend[i];

			if (!p->sent || p->id != ev->id)
				continue;
			p->sent = false;
			if (ev->status == -EACCES || ev->status == -EINVAL) {
				write_refused(f, p, ev);
				break;
			}
			if (ev->status) {
				log_warnx("fleet: writing %s failed: %s; will try again", p->key,
					  ev->error && ev->error[0] ? ev->error
								    : strerror(-ev->status));
				break;
			}
			p->id = 0;
			p->rev = ev->revision;
			if (ev->revision > f->cluster_rev)
				f->cluster_rev = ev->revision;
			if (ev->revision <= f->applied_rev)
				pend_remove(f, p); /* the watch passed it already */
			break;
		}
		break;
	}
}

/* ---- the heartbeat ------------------------------------------------------------------- */

/* FNV-1a over the feed's entries in force: equal lists give equal versions. */
static void feed_version(const struct fs_vec *v, char out[BWE_FREC_VERSION_LEN])
{
	__u64 h = 0xcbf29ce484222325ULL;
	size_t i, k;

	for (i = 0; v && i < v->n; i++) {
		const __u8 *b = (const __u8 *)&v->v[i].pfx.addr;

		for (k = 0; k < sizeof(v->v[i].pfx.addr); k++)
			h = (h ^ b[k]) * 0x100000001b3ULL;
		h = (h ^ v->v[i].pfx.plen) * 0x100000001b3ULL;
	}
	snprintf(out, BWE_FREC_VERSION_LEN, "%016llx", (unsigned long long)h);
}

static void heartbeat(struct fleet *f, time_t now)
{
	struct bwe_frec_site s = { 0 };
	size_t i, n = feeds_count(f->feeds);
	char *val;

	snprintf(s.site, sizeof(s.site), "%s", f->site);
	s.time = now;
	s.applied_revision = f->applied_rev;
	s.queued = f->npend;
	if (n > BWE_FREC_FEEDS_MAX)
		n = BWE_FREC_FEEDS_MAX;
	if (n > f->nfv) {
		struct feed_ver *v = reallocarray(f->fv, n, sizeof(*v));

		if (!v)
			return;
		memset(v + f->nfv, 0, (n - f->nfv) * sizeof(*v));
		f->fv = v;
		f->nfv = n;
	}
	for (i = 0; i < n; i++) {
		struct feed_stat st;
		const struct fs_vec *v =
			f->store ? fstore_entries(f->store, (__u8)(BWE_FEED_FIRST + i)) : NULL;
		struct bwe_frec_feed *x = &s.feeds[s.nfeeds++];

		feeds_stat(f->feeds, i, &st);
		if (f->fv[i].last_success != st.last_success || f->fv[i].n != (v ? v->n : 0) ||
		    !f->fv[i].version[0]) {
			feed_version(v, f->fv[i].version);
			f->fv[i].last_success = st.last_success;
			f->fv[i].n = v ? v->n : 0;
		}
		snprintf(x->name, sizeof(x->name), "%s", st.name ? st.name : "");
		snprintf(x->version, sizeof(x->version), "%s",
			 st.last_success ? f->fv[i].version : "");
		x->entries = st.v4 + st.v6;
		x->last_success = st.last_success;
	}
	val = bwe_frec_site_encode(&s);
	if (val && !f->hb_id) {
		char key[BWE_FREC_KEY_MAX];

		snprintf(key, sizeof(key), "sites/%s", f->site);
		if (bwe_flc_put(f->flc, key, val, strlen(val), 0, BWE_FLC_LEASE_SITE, &f->hb_id))
			f->hb_id = 0;
	}
	free(val);
}

/* ---- lifecycle ------------------------------------------------------------------------ */

static char *secret(const char *path, const char *what)
{
	char *buf = NULL;
	size_t len = 0;
	int e;

	if (!path)
		return NULL;
	e = read_file(path, FLEET_SECRET_MAX, READ_FOLLOW, &buf, &len);
	if (e) {
		log_warnx("fleet: cannot read %s %s: %s", what, path, strerror(-e));
		return NULL;
	}
	return buf;
}

static void wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

static int start_client(struct fleet *f)
{
	const struct bwe_cfgfile *cfg = f->cfg;
	static char *const argv[] = { "bwctld", "--fleet-worker", NULL };
	struct bwe_flc_conf conf = {
		.sandbox = { .name = "fleet worker",
			     .path = "/proc/self/exe",
			     .argv = argv,
			     .user = cfg->sandbox_user },
		.prefix = cfg->fleet.prefix,
		.site = cfg->fleet.name,
		.request_timeout_ms = (unsigned int)(cfg->fleet.request_timeout_s * 1000),
		.site_ttl_s = (unsigned int)(cfg->fleet.heartbeat_s * SITE_TTL_FACTOR),
		.on_event = on_event,
		.ctx = f,
	};
	char *ca = NULL, *cert = NULL, *key = NULL, *pw = NULL;
	size_t i;
	int e = -EINVAL;

	for (i = 0; i < cfg->fleet.n_endpoints && i < BWE_FLC_ENDPOINTS_MAX; i++)
		conf.endpoints[conf.nendpoints++] = cfg->fleet.endpoints[i];
	ca = secret(cfg->fleet.tls_ca, "tls.ca");
	cert = secret(cfg->fleet.tls_cert, "tls.cert");
	key = secret(cfg->fleet.tls_key, "tls.key");
	pw = secret(cfg->fleet.auth_password_file, "auth.password_file");
	if ((cfg->fleet.tls_ca && !ca) || (cfg->fleet.tls_cert && !cert) ||
	    (cfg->fleet.tls_key && !key) || (cfg->fleet.auth_password_file && !pw)) {
		snprintf(f->last_error, sizeof(f->last_error),
			 "a TLS or password file could not be read (see the log)");
		goto out;
	}
	if (pw)
		pw[strcspn(pw, "\r\n")] = '\0';
	conf.ca_pem = ca;
	conf.cert_pem = cert;
	conf.key_pem = key;
	conf.user = cfg->fleet.auth_user;
	conf.password = pw;
	e = bwe_flc_new(&conf, &f->flc);
	if (e) {
		snprintf(f->last_error, sizeof(f->last_error), "cannot start the fleet worker: %s",
			 strerror(-e));
		log_warnx("fleet: %s", f->last_error);
		goto out;
	}
	e = bwe_flc_follow(f->flc, f->first_join || !f->applied_rev ? 0 : f->applied_rev + 1);
out:
	wipe_free(ca);
	wipe_free(cert);
	wipe_free(key);
	wipe_free(pw);
	return e;
}

int fleet_new(struct fleet **out, const struct fleet_deps *d)
{
	struct fleet *f = calloc(1, sizeof(*f));
	struct ops_observer obs = { .changed = on_changed, .host_changed = on_host_changed };
	int e;

	if (!f)
		return -ENOMEM;
	f->cfg = d->cfg;
	f->ops = d->ops;
	f->st = d->st;
	f->log = d->log;
	f->feeds = d->feeds;
	f->store = d->store;
	f->started = time(NULL);
	obs.ctx = f;
	*out = f;
	if (!d->cfg->fleet.name)
		return 0;
	snprintf(f->site, sizeof(f->site), "%s", d->cfg->fleet.name);
	if (snprintf(f->file, sizeof(f->file), "%s/fleet.json", d->cfg->paths.state_dir) >=
	    (int)sizeof(f->file))
		return -ENAMETOOLONG;
	e = ops_observe(f->ops, &obs);
	if (e)
		return e;
	load(f);
	f->detached_since = f->started; /* until etcd first answers */
	start_client(f); /* a failure is in status and the log; enforcement goes on */
	return 0;
}

void fleet_free(struct fleet *f)
{
	size_t i;

	if (!f)
		return;
	if (f->dirty && f->site[0])
		save(f);
	bwe_flc_free(f->flc);
	for (i = 0; i < FLEET_SCOPE_ASKS; i++)
		ask_free(&f->asks[i]);
	for (i = 0; i < f->npend; i++)
		free(f->pend[i].value);
	free(f->pend);
	free(f->sites);
	free(f->fv);
	free(f->b.pfx);
	for (i = 0; i < f->nsnap; i++)
		free(f->snap_keys[i]);
	free(f->snap_keys);
	free(f);
}

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static bool same_fleet(const struct bwe_cfgfile *a, const struct bwe_cfgfile *b)
{
	size_t i;

	if (!same_str(a->fleet.name, b->fleet.name) ||
	    !same_str(a->fleet.prefix, b->fleet.prefix) ||
	    !same_str(a->fleet.tls_ca, b->fleet.tls_ca) ||
	    !same_str(a->fleet.tls_cert, b->fleet.tls_cert) ||
	    !same_str(a->fleet.tls_key, b->fleet.tls_key) ||
	    !same_str(a->fleet.auth_user, b->fleet.auth_user) ||
	    !same_str(a->fleet.auth_password_file, b->fleet.auth_password_file) ||
	    a->fleet.heartbeat_s != b->fleet.heartbeat_s ||
	    a->fleet.request_timeout_s != b->fleet.request_timeout_s ||
	    a->fleet.n_endpoints != b->fleet.n_endpoints ||
	    !same_str(a->sandbox_user, b->sandbox_user))
		return false;
	for (i = 0; i < a->fleet.n_endpoints; i++)
		if (strcmp(a->fleet.endpoints[i], b->fleet.endpoints[i]))
			return false;
	return true;
}

int fleet_set_config(struct fleet *f, const struct bwe_cfgfile *cfg)
{
	const struct bwe_cfgfile *old = f->cfg;
	bool identity;
	size_t i;

	if (same_fleet(old, cfg)) {
		f->cfg = cfg;
		return 0;
	}
	flush_batch(f);
	asks_tick(f, time(NULL), true); /* what came so far: the link goes */
	if (f->dirty && f->site[0])
		save(f);
	bwe_flc_free(f->flc);
	f->flc = NULL;
	identity = same_str(old->fleet.name, cfg->fleet.name) &&
		   same_str(old->fleet.prefix, cfg->fleet.prefix);
	f->cfg = cfg;
	if (!cfg->fleet.name) {
		log_info("fleet: left the fleet (no fleet block)");
		f->site[0] = '\0';
		f->connected = false;
		return 0;
	}
	if (!old->fleet.name) {
		struct ops_observer obs = { .changed = on_changed,
					    .host_changed = on_host_changed,
					    .ctx = f };
		int e = ops_observe(f->ops, &obs);

		if (e)
			return e;
	}
	if (!identity) {
		for (i = 0; i < f->npend; i++)
			free(f->pend[i].value);
		f->npend = 0;
		f->applied_rev = 0;
		f->nsites = 0;
		snprintf(f->site, sizeof(f->site), "%s", cfg->fleet.name);
		snprintf(f->file, sizeof(f->file), "%s/fleet.json", cfg->paths.state_dir);
		load(f);
	}
	for (i = 0; i < f->npend; i++)
		f->pend[i].sent = false;
	f->connected = false;
	f->ever_connected = false;
	f->said_detached = false;
	f->detached_since = time(NULL);
	log_info("fleet: configuration changed; reconnecting");
	return start_client(f);
}

bool fleet_enabled(const struct fleet *f)
{
	return f && f->cfg->fleet.name;
}

int fleet_epoll_sync(struct fleet *f, int epfd, epoll_data_t data)
{
	return f && f->flc ? bwe_flc_epoll_sync(f->flc, epfd, data) : 0;
}

void fleet_on_io(struct fleet *f, __u32 events)
{
	if (!f || !f->flc)
		return;
	if (events & EPOLLOUT)
		bwe_flc_on_writable(f->flc);
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		bwe_flc_on_readable(f->flc);
	flush_batch(f);
}

void fleet_tick(struct fleet *f, time_t now)
{
	size_t i;

	if (!f || !f->cfg->fleet.name)
		return;
	if (!f->flc) {
		if (now >= f->next_retry) { /* it could not start: try again */
			f->next_retry = now + RETRY_S;
			start_client(f);
		}
		return;
	}
	bwe_flc_tick(f->flc);
	flush_batch(f);
	asks_tick(f, now, false);
	if (f->connected && now >= f->next_heartbeat) {
		f->next_heartbeat = now + (time_t)f->cfg->fleet.heartbeat_s;
		heartbeat(f, now);
	}
	if (now >= f->next_retry) {
		f->next_retry = now + RETRY_S;
		for (i = 0; i < f->npend; i++)
			pend_send(f, &f->pend[i]);
	}
}

void fleet_flush(struct fleet *f)
{
	if (f && f->dirty && f->site[0])
		save(f);
}

/* ---- status ------------------------------------------------------------------------------ */

static struct json_object *site_json(const struct fleet *f, const struct site *s, time_t now)
{
	struct json_object *o = json_object_new_object(), *arr = json_object_new_array();
	__s64 age = now - s->s.time;
	size_t i;

	json_object_object_add(o, "name", json_object_new_string(s->s.site));
	json_add_time(o, "last_heartbeat", (time_t)s->s.time);
	json_object_object_add(o, "age_s", json_object_new_int64(age < 0 ? 0 : age));
	json_object_object_add(o, "applied_revision", json_object_new_int64(s->s.applied_revision));
	json_object_object_add(o, "lag",
			       json_object_new_int64(f->cluster_rev > s->s.applied_revision
							     ? f->cluster_rev -
								       s->s.applied_revision
							     : 0));
	json_object_object_add(o, "queued", json_object_new_uint64(s->s.queued));
	json_object_object_add(o, "alive", json_object_new_boolean(site_alive(f, s, now)));
	for (i = 0; i < s->s.nfeeds; i++) {
		struct json_object *x = json_object_new_object();

		json_object_object_add(x, "name", json_object_new_string(s->s.feeds[i].name));
		json_object_object_add(x, "version",
				       s->s.feeds[i].version[0]
					       ? json_object_new_string(s->s.feeds[i].version)
					       : NULL);
		json_object_object_add(x, "entries", json_object_new_uint64(s->s.feeds[i].entries));
		json_add_time(x, "last_success", (time_t)s->s.feeds[i].last_success);
		json_object_array_add(arr, x);
	}
	json_object_object_add(o, "feeds", arr);
	return o;
}

/* Feeds of one name with different versions at live sites; feeds not updated for a day. */
static void feed_health(const struct fleet *f, time_t now, struct json_object *div,
			struct json_object *stale)
{
	size_t i, j, a, b;

	for (i = 0; i < f->nsites; i++)
		for (j = 0; j < f->sites[i].s.nfeeds; j++) {
			const struct bwe_frec_feed *x = &f->sites[i].s.feeds[j];
			bool seen = false, differs = false;

			if (!f->sites[i].present)
				continue;
			if (!x->last_success || now - x->last_success > FEED_STALE_S) {
				struct json_object *o = json_object_new_object();

				json_object_object_add(o, "site",
						       json_object_new_string(f->sites[i].s.site));
				json_object_object_add(o, "name", json_object_new_string(x->name));
				json_object_array_add(stale, o);
			}
			/* report a name once: at its first live site */
			for (a = 0; a < i && !seen; a++)
				for (b = 0; f->sites[a].present && b < f->sites[a].s.nfeeds; b++)
					seen |= !strcmp(f->sites[a].s.feeds[b].name, x->name);
			if (seen || !x->version[0])
				continue;
			for (a = i + 1; a < f->nsites; a++)
				for (b = 0; f->sites[a].present && b < f->sites[a].s.nfeeds; b++) {
					const struct bwe_frec_feed *y = &f->sites[a].s.feeds[b];

					differs |= !strcmp(y->name, x->name) && y->version[0] &&
						   strcmp(y->version, x->version);
				}
			if (differs)
				json_object_array_add(div, json_object_new_string(x->name));
		}
}

struct json_object *fleet_status_json(const struct fleet *f)
{
	struct json_object *o = json_object_new_object(), *arr, *div, *stale;
	struct bwe_flc_status st = { 0 };
	time_t now = time(NULL);
	size_t i;

	json_object_object_add(o, "enabled", json_object_new_boolean(fleet_enabled(f)));
	if (!fleet_enabled(f))
		return o;
	if (f->flc)
		bwe_flc_status(f->flc, &st);
	json_object_object_add(o, "site", json_object_new_string(f->site));
	json_object_object_add(o, "prefix", json_object_new_string(f->cfg->fleet.prefix));
	json_object_object_add(o, "connected", json_object_new_boolean(f->connected));
	json_object_object_add(o, "endpoint",
			       f->connected ? json_object_new_string(f->endpoint) : NULL);
	json_add_time(o, "detached_since", f->connected ? 0 : f->detached_since);
	json_object_object_add(o, "last_error",
			       f->last_error[0] ? json_object_new_string(f->last_error) : NULL);
	json_object_object_add(o, "revision", json_object_new_int64(f->cluster_rev));
	json_object_object_add(o, "applied_revision", json_object_new_int64(f->applied_rev));
	json_object_object_add(o, "lag",
			       json_object_new_int64(f->cluster_rev > f->applied_rev
							     ? f->cluster_rev - f->applied_rev
							     : 0));
	json_object_object_add(o, "queued", json_object_new_uint64(f->npend));
	json_object_object_add(o, "refused", json_object_new_uint64(f->refused));
	json_object_object_add(o, "superseded", json_object_new_uint64(f->superseded));
	json_object_object_add(o, "not_applicable", json_object_new_uint64(f->not_here));
	json_object_object_add(o, "scope_refused", json_object_new_uint64(f->scope_refused));
	json_object_object_add(o, "worker_pid", st.pid > 0 ? json_object_new_int(st.pid) : NULL);
	json_object_object_add(o, "worker_restarts", json_object_new_uint64(st.restarts));
	arr = json_object_new_array();
	for (i = 0; i < f->nsites; i++)
		json_object_array_add(arr, site_json(f, &f->sites[i], now));
	json_object_object_add(o, "sites", arr);
	div = json_object_new_array();
	stale = json_object_new_array();
	feed_health(f, now, div, stale);
	json_object_object_add(o, "feeds_divergent", div);
	json_object_object_add(o, "feeds_stale", stale);
	return o;
}

void fleet_stat(const struct fleet *f, struct fleet_stat *st)
{
	size_t i;

	memset(st, 0, sizeof(*st));
	if (!fleet_enabled(f))
		return;
	st->enabled = true;
	st->connected = f->connected;
	st->lag = f->cluster_rev > f->applied_rev ? f->cluster_rev - f->applied_rev : 0;
	st->queued = f->npend;
	st->refused = f->refused;
	st->scope_refused = f->scope_refused;
	for (i = 0; i < f->nsites; i++)
		st->sites_alive += f->sites[i].present;
}
