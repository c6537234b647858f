// SPDX-License-Identifier: GPL-2.0-only
/*
 * detector.c - detection and escalation (layer 4, a source of change):
 * every policy interval, each internal host's sampled counters go through
 * lib/detect.c (baselines, signals, rules, guard rails); decisions become
 * alerts, or throttles and quarantines with TTLs that go through the one
 * transaction (ops.h) with the rule as the actor, the same guards as an
 * operator's command, and their evidence in the event. Also the per-host
 * memory behind `bwctl report`: blocklist hits with feed and indicator, and
 * the history of actions on the host, learnt as an observer of ops.
 *
 * Memory is bounded: a host gets state when the data plane tracks it (it
 * has sent: bwe_hosts), when an operator or a rule acts on it, or when it
 * contacted a listed peer; state of a host that left the sample is freed
 * (unless it holds a history of actions: cooldowns and escalation must
 * survive), and the table never holds more than policy.max_hosts (nor
 * maps.hosts, the data plane's own bound), with a
 * detection-table-full event (at most one per interval) when that refused
 * hosts.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "addrmap.h"
#include "detect.h"
#include "detector.h"
#include "log.h"
#include "util.h"

#define DET_HITS_MAX	 16 /* blocklist hits remembered per host */
#define DET_HISTORY_MAX	 32 /* actions remembered per host */
#define DET_CONTACTS_MAX 8  /* listed peers named in a detection event */

struct det_hit {
	time_t t;
	struct bwe_addr peer;
	__u8 ref;
	bool outbound; /* the host contacted the peer; else an inbound (spoofable) hit */
	enum bwe_feed_signal signal; /* of the feed: blocklist or proxyware */
	char feed[BWE_FEED_NAME_MAX];
	char entry[BWE_PREFIX_STRLEN];
	char indicator[96];
};

struct det_action {
	time_t t;
	char action[16];
	struct actor actor;
	char reason[ST_REASON_MAX];
	time_t expires;
};

/*
 * Whose hits the data plane's bl_hits are (proxyware or blocklist feeds),
 * from the outbound hit events (detect.h, struct bwe_detect_extra); the
 * expected activity in force; when signals fired and shapes matched
 * (detector_seen(), for bwctl scope).
 */
struct det_seen {
	time_t bl_event, pw_event; /* last outbound hit event of either kind of feed */
	time_t last_sample;	   /* of the last evaluation (its counters: h.prev) */
	struct detector_seen *at;  /* NULL until a signal fired or a shape matched */
	__u32 pw_events;	   /* proxyware hit events since the last sample */
	bool in_window;		   /* an expected activity of the host is in its window */
	bool unexpected;	   /* ... and the sketch shows other peers or ports too */
};

/*
 * What the report remembers, each part allocated at its first use: the
 * latest blocklist hits (16 x 224 B) of a host that had one, the history of
 * actions (32 x 496 B) of a host that had one; most hosts have neither.
 */
struct det_hits {
	struct det_hit v[DET_HITS_MAX];
	unsigned int n, head;
};

struct det_hist {
	struct det_action v[DET_HISTORY_MAX];
	unsigned int n, head;
};

struct det_host {
	struct bwe_addr addr;
	struct bwe_detect_host h;
	struct bwe_signals_kept sig; /* last evaluation (bwctl report): bwe_signals_restore() */
	struct det_hits *hits;	     /* NULL until a hit */
	struct det_hist *hist;	     /* NULL until an action */
	struct det_seen seen;
	__u32 visited; /* the last run (struct detector.run) whose sample held the host */
	bool evaluated;
};

/* The i-th latest entry of a ring of cap entries whose next write goes to head. */
#define RING_LATEST(head, i, cap) (((head) + (cap)-1 - (i)) % (cap))

struct detector {
	const struct bwe_cfgfile *cfg;
	struct bwe_dp *dp;
	struct hosts *hosts;
	struct hostsweep *sweep;
	const struct st_store *st;
	const struct enforcer *enf;
	struct ops *ops;
	struct evlog *log;
	void (*drain)(void *ctx);
	void *drain_ctx;
	struct det_host **v;
	size_t n;
	struct bwe_amap idx; /* addr -> index into v */
	struct bwe_detect_global g;
	struct timespec last_run;
	/* the run in progress: its number, wall time and seconds since the last */
	__u32 run;
	bool in_run, room_made;
	time_t run_now;
	double run_dt_s;
	time_t epoch_start;
	__u64 refused;	   /* hosts refused a slot since the last table-full event */
	__u64 refused_all; /* since start */
	__u64 freed;	   /* states freed since start (hosts that left the sample) */
	struct detector_action_count acts[DETECTOR_ACTION_RULES]; /* metrics */
	size_t nacts;
};

static void on_change(void *ctx, const char *action, enum op_verb verb, const struct st_entry *e,
		      const struct actor *who);
static void on_hit(void *ctx, const struct ops_hit *hit);
static void on_contact(void *ctx, const struct ops_contact *c);
static bool make_room(struct detector *dt);

int detector_new(struct detector **out, const struct detector_deps *deps)
{
	struct detector *dt = calloc(1, sizeof(*dt));
	struct ops_observer obs = { .changed = on_change, .hit = on_hit, .contact = on_contact };
	int err;

	if (!dt)
		return -ENOMEM;
	dt->cfg = deps->cfg;
	dt->dp = deps->dp;
	dt->hosts = deps->hosts;
	dt->sweep = deps->sweep;
	dt->st = deps->st;
	dt->enf = deps->enf;
	dt->ops = deps->ops;
	dt->log = deps->log;
	dt->drain = deps->drain;
	dt->drain_ctx = deps->drain_ctx;
	bwe_amap_init(&dt->idx);
	bwe_detect_global_init(&dt->g, time(NULL));
	dt->epoch_start = time(NULL);
	clock_gettime(CLOCK_MONOTONIC, &dt->last_run);
	obs.ctx = dt;
	err = ops_observe(dt->ops, &obs);
	if (err) {
		free(dt);
		return err;
	}
	*out = dt;
	return 0;
}

void detector_set_config(struct detector *dt, const struct bwe_cfgfile *cfg)
{
	dt->cfg = cfg;
}

static void det_host_free(struct det_host *h)
{
	bwe_detect_host_free(&h->h);
	free(h->hits);
	free(h->hist);
	free(h->seen.at);
	free(h);
}

void detector_free(struct detector *dt)
{
	size_t i;

	if (!dt)
		return;
	for (i = 0; i < dt->n; i++)
		det_host_free(dt->v[i]);
	free(dt->v);
	bwe_amap_free(&dt->idx);
	free(dt);
}

/*
 * The most states traffic may create: policy.max_hosts, and never more
 * than the data plane tracks (maps.hosts): a LAN host that sends from many
 * addresses, each with a contact or a hit, gets no more states than the
 * bwe_hosts entries it could take.
 */
static __u32 capacity(const struct detector *dt)
{
	__u32 max = dt->cfg->policy.max_hosts, tracked = dt->cfg->maps.hosts;

	return tracked && tracked < max ? tracked : max;
}

enum host_mode {
	HOST_FIND,   /* no state: NULL */
	HOST_CREATE, /* a new state within policy.max_hosts */
	HOST_FORCE,  /* a new state even beyond it: operator state changes (bounded by the store) */
};

static struct det_host *host_get(struct detector *dt, const struct bwe_addr *a, enum host_mode mode)
{
	__u32 *i = bwe_amap_get(&dt->idx, a);
	struct det_host *h, **v;

	if (i)
		return dt->v[*i];
	if (mode == HOST_FIND)
		return NULL;
	if (mode == HOST_CREATE && dt->n >= capacity(dt) && !make_room(dt)) {
		dt->refused++;
		dt->refused_all++;
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	v = reallocarray(dt->v, dt->n + 1, sizeof(*v));
	if (!h || !v) {
		free(h);
		if (v)
			dt->v = v;
		return NULL;
	}
	dt->v = v;
	h->addr = *a;
	bwe_detect_host_init(&h->h);
	if (bwe_amap_set(&dt->idx, a, (__u32)dt->n)) {
		free(h);
		return NULL;
	}
	dt->v[dt->n++] = h;
	return h;
}

/* Drop the state at index i: the last one takes its place. */
static void host_drop(struct detector *dt, size_t i)
{
	struct det_host *h = dt->v[i];

	bwe_amap_del(&dt->idx, &h->addr);
	if (i != dt->n - 1) {
		dt->v[i] = dt->v[dt->n - 1];
		bwe_amap_set(&dt->idx, &dt->v[i]->addr,
			     (__u32)i); /* an existing key: no allocation */
	}
	dt->n--;
	det_host_free(h);
	dt->freed++;
}

/* Whether a host's state must outlive a quiet spell. */
static bool keeps_history(const struct det_host *h)
{
	return h->hist && h->hist->n;
}

/*
 * Free the state of hosts that left the sample (evicted from bwe_hosts, or
 * never in it), but for those with a history of actions: their rule
 * cooldowns and escalation steps outlive a quiet spell. After a run, with
 * the sample it read.
 */
static void prune(struct detector *dt)
{
	size_t i = 0;

	while (i < dt->n) {
		struct det_host *h = dt->v[i];

		if (hosts_has(dt->hosts, &h->addr) || keeps_history(h))
			i++;
		else
			host_drop(dt, i);
	}
}

/*
 * The table is full during a run: free, once a run, the states that
 * prune() will free after it, so that the hosts of this sample get them
 * now, as when the sample was read whole before being evaluated. A state
 * the run has not met yet goes when the data plane does not track its
 * host (a map lookup each); true when that made room.
 */
static bool make_room(struct detector *dt)
{
	size_t i = 0;

	if (!dt->in_run || dt->room_made)
		return false;
	dt->room_made = true;
	while (i < dt->n) {
		struct det_host *h = dt->v[i];

		if (h->visited == dt->run || keeps_history(h) || hosts_tracked(dt->hosts, &h->addr))
			i++;
		else
			host_drop(dt, i);
	}
	return dt->n < capacity(dt);
}

/* At most one event per interval, when hosts were refused a state since the last. */
static void table_full_event(struct detector *dt)
{
	struct json_object *ev;
	char why[160];

	if (!dt->refused)
		return;
	snprintf(why, sizeof(why),
		 "detector table full: %zu hosts tracked (capacity %u: policy.max_hosts, at most "
		 "maps.hosts), %llu refused",
		 dt->n, capacity(dt), (unsigned long long)dt->refused);
	log_warnx("%s", why);
	ev = ev_new("detection-table-full", "alert");
	ev_str(ev, "event.type", "info");
	ev_str(ev, "event.reason", why);
	ev_set(ev, "bwenforce.detector.hosts", json_object_new_uint64(dt->n));
	ev_set(ev, "bwenforce.detector.max_hosts", json_object_new_uint64(capacity(dt)));
	ev_set(ev, "bwenforce.detector.refused", json_object_new_uint64(dt->refused));
	ev_set(ev, "bwenforce.detector.refused_total", json_object_new_uint64(dt->refused_all));
	evlog_emit(dt->log, ev);
	dt->refused = 0;
}

void detector_counts(const struct detector *dt, struct detector_counts *c)
{
	c->hosts = dt->n;
	c->max_hosts = capacity(dt);
	c->refused = dt->refused_all;
	c->freed = dt->freed;
}

/* ---- proxyware, expected activity, what was seen ---------------------------------------------- */

/*
 * The bl_hits of this sample that were proxyware feeds' (detect.h, struct
 * bwe_detect_extra). A hit on a peer sends an event at most event_dedup
 * after the previous one on it, so the peers hit since the last sample
 * all had an outbound event since (last sample - event_dedup): when only
 * proxyware feeds' peers had, every hit is theirs; when blocklist feeds'
 * peers had too, the packets cannot be told apart: they stay blocklist
 * hits and each new proxyware event counts one proxyware hit. Answers
 * count with the host's own contact (bwe_hit_answers()), so the outbound
 * events alone tell.
 */
static void attribute_hits(const struct detector *dt, struct det_host *h,
			   const struct bwe_host_stats *c, time_t now)
{
	struct det_seen *sn = &h->seen;
	struct bwe_detect_extra *x = &h->h.extra;
	const struct bwe_detect_prev *p = &h->h.prev; /* the counters of the last evaluation */
	/* a new host's hits so far, or a restarted entry's (all since the last sample) */
	bool restart = !h->h.primed || c->bl_hits < p->bl_hits ||
		       c->first_seen_ns != p->first_seen_ns;
	time_t since = sn->last_sample ? sn->last_sample - (time_t)dt->cfg->event_dedup_s - 1 : 0;
	__u64 d = c->bl_hits - (restart ? 0 : p->bl_hits);

	if (restart)
		x->proxyware_hits = 0; /* the counters started again (detect.h) */
	if (d) {
		bool pw = sn->pw_event && sn->pw_event >= since;
		bool bl = sn->bl_event && sn->bl_event >= since;

		if (pw && !bl)
			x->proxyware_hits += d;
		else if (pw)
			x->proxyware_hits += d < sn->pw_events ? d : sn->pw_events;
	}
	sn->pw_events = 0;
	sn->last_sample = now;
}

/*
 * What the host's expected activities in their window may discount
 * (detect.h, struct bwe_detect_extra): the sum of their max_rate and what
 * the host's heavy-hitter summaries show of their peers (expect.h); the
 * fan-out exemption when every register of the host's fan-out sketches is
 * within what their peers and ports set.
 */
static void expected_activity(const struct bwe_policy *pol, struct det_host *h,
			      const struct bwe_host_stats *c, time_t now,
			      struct bwe_expected_seen *seen)
{
	__u8 dst[BWE_HLL_REGS] = { 0 }, port[BWE_HLL_REGS] = { 0 };
	bool any_port = false;
	__u64 rate = 0;
	size_t i, k;

	h->seen.in_window = h->seen.unexpected = false;
	memset(seen, 0, sizeof(*seen));
	for (i = 0; i < pol->n_expected; i++) {
		const struct bwe_expected *e = &pol->expected[i];

		if (!bwe_expected_has_host(e, &h->addr) || !bwe_schedule_active(&e->sched, now))
			continue;
		h->seen.in_window = true;
		rate += e->max_rate;
		any_port |= !e->n_ports;
		bwe_expected_measure(e, &c->hh_tx, &c->hh_rx, seen);
		for (k = 0; k < BWE_HLL_REGS; k++) {
			dst[k] = e->sketch_dst[k] > dst[k] ? e->sketch_dst[k] : dst[k];
			port[k] = e->sketch_port[k] > port[k] ? e->sketch_port[k] : port[k];
		}
	}
	h->seen.unexpected = h->seen.in_window &&
			     (!bwe_sketch_within(c->hll_dst, dst) ||
			      (!any_port && !bwe_sketch_within(c->hll_port, port)));
	h->h.extra.expected_rate = rate;
	h->h.extra.expected_seen = seen;
	h->h.extra.expected_fanout = h->seen.in_window && !h->seen.unexpected;
}

static void note_seen(const struct bwe_policy *pol, struct det_host *h,
		      const struct bwe_signals *sig, time_t now)
{
	struct bwe_shape_match m[BWE_SHAPE_MAX];
	unsigned int i, n;
	bool fired = false;

	for (i = 0; i < BWE_SIG_MAX; i++)
		fired |= sig->sig[i].fired;
	n = fired || sig->high_upload_run > 0 ? bwe_detect_shapes(sig, pol, m) : 0;
	if (!fired && !n)
		return;
	if (!h->seen.at && !(h->seen.at = calloc(1, sizeof(*h->seen.at)))) {
		log_warnx("detector: when signals fired: %s", strerror(ENOMEM));
		return;
	}
	for (i = 0; i < BWE_SIG_MAX; i++)
		if (sig->sig[i].fired)
			h->seen.at->sig_at[i] = now;
	for (i = 0; i < n; i++)
		h->seen.at->shape_at[m[i].shape] = now;
}

/* When the host's signals fired and shapes matched; all 0 when never. */
static struct detector_seen seen_at(const struct det_host *h)
{
	return h->seen.at ? *h->seen.at : (struct detector_seen){ 0 };
}

bool detector_seen(const struct detector *dt, const struct bwe_addr *a, struct detector_seen *out)
{
	const __u32 *i = bwe_amap_get(&dt->idx, a);

	if (!i)
		return false;
	*out = seen_at(dt->v[*i]);
	return true;
}

const struct bwe_addr *detector_host_at(const struct detector *dt, size_t i,
					struct detector_seen *out)
{
	if (i >= dt->n)
		return NULL;
	*out = seen_at(dt->v[i]);
	return &dt->v[i]->addr;
}

/*
 * The provenance behind blocklist or proxyware evidence: the host's latest
 * outbound contacts with those feeds' peers, each peer once, with feed,
 * entry and indicator; NULL when the evidence has neither.
 */
static struct json_object *contacts_json(const struct det_host *h, const struct bwe_decision *dec)
{
	bool want[BWE_FSIG_PROXYWARE + 1] = { false };
	struct json_object *arr;
	unsigned int i, k, n = 0;
	const struct det_hit *seen[DET_CONTACTS_MAX];
	size_t e;

	for (e = 0; e < dec->n_evidence; e++) {
		want[BWE_FSIG_BLOCKLIST] |= dec->evidence[e].sig == BWE_SIG_BLOCKLIST;
		want[BWE_FSIG_PROXYWARE] |= dec->evidence[e].sig == BWE_SIG_PROXYWARE;
	}
	if ((!want[BWE_FSIG_BLOCKLIST] && !want[BWE_FSIG_PROXYWARE]) || !h->hits)
		return NULL;
	arr = json_object_new_array();
	for (i = 0; i < h->hits->n && n < DET_CONTACTS_MAX; i++) {
		const struct det_hit *x = &h->hits->v[RING_LATEST(h->hits->head, i, DET_HITS_MAX)];
		struct json_object *o;
		char p[BWE_ADDR_STRLEN], t[32];

		if (!x->outbound || (unsigned int)x->signal > BWE_FSIG_PROXYWARE ||
		    !want[x->signal])
			continue;
		for (k = 0; k < n && memcmp(&seen[k]->peer, &x->peer, sizeof(x->peer)); k++)
			;
		if (k < n)
			continue;
		seen[n++] = x;
		o = json_object_new_object();
		bwe_addr_fmt(&x->peer, p, sizeof(p));
		fmt_time(x->t, t, sizeof(t));
		json_object_object_add(o, "peer", json_object_new_string(p));
		json_object_object_add(o, "feed", json_object_new_string(x->feed));
		json_object_object_add(o, "signal",
				       json_object_new_string(bwe_feed_signal_name(x->signal)));
		json_object_object_add(o, "entry",
				       x->entry[0] ? json_object_new_string(x->entry) : NULL);
		json_object_object_add(o, "indicator",
				       x->indicator[0] ? json_object_new_string(x->indicator)
						       : NULL);
		json_object_object_add(o, "time", json_object_new_string(t));
		json_object_array_add(arr, o);
	}
	return arr;
}

/* The report's "expected_activity": the host's activities, in their window or not. */
static struct json_object *expected_json(const struct bwe_policy *pol, const struct det_host *h,
					 time_t now)
{
	struct json_object *arr = json_object_new_array();
	char rate[BWE_RATE_STRLEN], detail[256];
	size_t i;

	for (i = 0; i < pol->n_expected; i++) {
		const struct bwe_expected *e = &pol->expected[i];
		bool in = bwe_schedule_active(&e->sched, now);
		struct json_object *o;

		if (!bwe_expected_has_host(e, &h->addr))
			continue;
		if (bwe_rate_fmt(e->max_rate, rate, sizeof(rate)))
			snprintf(rate, sizeof(rate), "%lluB/s", (unsigned long long)e->max_rate);
		o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(e->name));
		json_object_object_add(o, "schedule", json_object_new_string(e->schedule));
		json_object_object_add(o, "in_window", json_object_new_boolean(in));
		json_object_object_add(o, "max_rate", json_object_new_uint64(e->max_rate));
		if (!in)
			snprintf(detail, sizeof(detail), "%s (outside its window %s)", e->name,
				 e->schedule);
		else
			snprintf(detail, sizeof(detail),
				 "%s (in its window: the upload measured to its peers, up to %s, "
				 "discounted, %.0f B/s now%s)",
				 e->name, rate, h->evaluated ? h->sig.expected_bps : 0.0,
				 h->seen.unexpected
					 ? "; the host also talks to others, judged as usual"
					 : "");
		json_object_object_add(o, "discounted", json_object_new_boolean(in));
		json_object_object_add(o, "detail", json_object_new_string(detail));
		json_object_array_add(arr, o);
	}
	return arr;
}

/* ---- memory for the report ---------------------------------------------------- */

static void on_hit(void *ctx, const struct ops_hit *hit)
{
	struct detector *dt = ctx;
	/* an inbound hit may be spoofed: remembered only for a host with state */
	struct det_host *h = host_get(dt, &hit->host, hit->outbound ? HOST_CREATE : HOST_FIND);
	struct det_hits *m;
	struct det_hit *x;

	if (h && hit->outbound) {
		time_t now = time(NULL);

		if (bwe_cfg_feed_signal(dt->cfg, hit->feed) == BWE_FSIG_PROXYWARE) {
			h->seen.pw_event = now;
			h->seen.pw_events++;
		} else {
			h->seen.bl_event = now;
		}
	}
	if (h && !h->hits)
		h->hits = calloc(1, sizeof(*h->hits));
	m = h ? h->hits : NULL;
	if (!m)
		return;
	x = &m->v[m->head];
	m->head = (m->head + 1) % DET_HITS_MAX;
	if (m->n < DET_HITS_MAX)
		m->n++;
	memset(x, 0, sizeof(*x));
	x->t = time(NULL);
	x->peer = hit->peer;
	x->ref = hit->ref;
	x->outbound = hit->outbound;
	x->signal = bwe_cfg_feed_signal(dt->cfg, hit->feed);
	snprintf(x->feed, sizeof(x->feed), "%s", hit->feed ? hit->feed : "?");
	snprintf(x->entry, sizeof(x->entry), "%s", hit->entry ? hit->entry : "");
	snprintf(x->indicator, sizeof(x->indicator), "%s", hit->indicator ? hit->indicator : "");
}

/* A new contact of a sampled pair: the beacon table of its host. */
static void on_contact(void *ctx, const struct ops_contact *c)
{
	struct detector *dt = ctx;
	struct det_host *h;

	if (!dt->cfg->policy.interval_s || !(enf_classes(dt->enf, &c->host) & BWE_NC_INTERNAL))
		return;
	h = host_get(dt, &c->host, HOST_CREATE);
	if (h && bwe_detect_contact(&h->h, &c->peer, c->dport, c->proto, (double)c->ts_ns / 1e9,
				    &dt->cfg->policy) == -ENOMEM)
		log_warnx("beacon table: %s", strerror(ENOMEM));
}

/* Every change to operator state: the host's history, and a rule's reset. */
static void on_change(void *ctx, const char *action, enum op_verb verb, const struct st_entry *e,
		      const struct actor *who)
{
	struct detector *dt = ctx;
	struct det_host *h;
	struct det_hist *m;
	struct det_action *x;

	if ((e->kind != ST_QUARANTINE && e->kind != ST_THROTTLE) || e->pfx.plen != BWE_ADDR_BITS)
		return;
	h = host_get(dt, &e->pfx.addr, HOST_FORCE);
	if (h && !h->hist)
		h->hist = calloc(1, sizeof(*h->hist));
	m = h ? h->hist : NULL;
	if (!m)
		return;
	x = &m->v[m->head];
	m->head = (m->head + 1) % DET_HISTORY_MAX;
	if (m->n < DET_HISTORY_MAX)
		m->n++;
	x->t = time(NULL);
	snprintf(x->action, sizeof(x->action), "%s", action);
	x->actor = *who;
	snprintf(x->reason, sizeof(x->reason), "%s", e->reason);
	x->expires = e->expires;
	/* someone lifting an automatic action early resets the rule's state */
	if (verb == OP_DEL && e->actor.kind == ACTOR_RULE && who->kind != ACTOR_EXPIRY &&
	    who->kind != ACTOR_RULE)
		bwe_detect_host_released(&h->h);
}

/* ---- evidence ------------------------------------------------------------------------ */

static struct json_object *evidence_json(const struct bwe_decision *dec)
{
	struct json_object *arr = json_object_new_array();
	size_t i;

	for (i = 0; i < dec->n_evidence; i++) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "signal",
				       json_object_new_string(
					       bwe_signal_name(dec->evidence[i].sig)));
		json_object_object_add(o, "value", json_object_new_double(dec->evidence[i].value));
		json_object_object_add(o, "threshold",
				       json_object_new_double(dec->evidence[i].threshold));
		json_object_object_add(o, "unit",
				       json_object_new_string(
					       bwe_signal_unit(dec->evidence[i].sig)));
		json_object_array_add(arr, o);
	}
	return arr;
}

static void evidence_text(const struct bwe_decision *dec, char *buf, size_t len)
{
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < dec->n_evidence && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s %.3g (threshold %.3g %s)",
					i ? ", " : "", bwe_signal_name(dec->evidence[i].sig),
					dec->evidence[i].value, dec->evidence[i].threshold,
					bwe_signal_unit(dec->evidence[i].sig));
}

static struct json_object *guards_json(__u32 g)
{
	struct json_object *arr = json_object_new_array();

	if (g & BWE_GUARD_MONITOR_ONLY)
		json_object_array_add(arr, json_object_new_string("monitor_only"));
	if (g & BWE_GUARD_LEARNING)
		json_object_array_add(arr, json_object_new_string("learning"));
	if (g & BWE_GUARD_NEVER_QUARANTINE)
		json_object_array_add(arr, json_object_new_string("never_quarantine"));
	if (g & BWE_GUARD_RATE_LIMIT)
		json_object_array_add(arr, json_object_new_string("max_quarantines_per_hour"));
	return arr;
}

static struct json_object *shapes_json(const struct bwe_signals *s, const struct bwe_policy *pol)
{
	struct bwe_shape_match m[BWE_SHAPE_MAX];
	struct json_object *arr = json_object_new_array();
	unsigned int n = bwe_detect_shapes(s, pol, m), i, k;

	for (i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object(), *r = json_object_new_array();

		json_object_object_add(o, "shape",
				       json_object_new_string(bwe_shape_name(m[i].shape)));
		json_object_object_add(o, "score", json_object_new_int((int)m[i].score));
		json_object_object_add(o, "of", json_object_new_int((int)m[i].of));
		for (k = 0; k < m[i].n_reasons; k++)
			json_object_array_add(r, json_object_new_string(m[i].reasons[k]));
		json_object_object_add(o, "reasons", r);
		json_object_array_add(arr, o);
	}
	return arr;
}

static const char *relay_dir_name(int dir)
{
	return dir == BWE_DIR_OUT ? "outbound" : dir == BWE_DIR_IN ? "inbound" : "none";
}

/* What the relay signal measured: bounds included (docs/operations.md). */
static struct json_object *relay_json(const struct bwe_relay_eval *r)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "fired", json_object_new_boolean(r->fired));
	json_object_object_add(o, "concentrated_direction",
			       json_object_new_string(relay_dir_name(r->dir)));
	json_object_object_add(o, "concentration", json_object_new_double(r->concentration));
	json_object_object_add(o, "concentration_upper",
			       json_object_new_double(r->concentration_hi));
	json_object_object_add(o, "spread_peers", json_object_new_double(r->spread_peers));
	json_object_object_add(o, "balance", json_object_new_double(r->balance));
	json_object_object_add(o, "overlap_upper", json_object_new_double(r->overlap));
	json_object_object_add(o, "spread_side_top_share", json_object_new_double(r->other_top));
	json_object_object_add(o, "tx_bytes", json_object_new_double(r->tx_bytes));
	json_object_object_add(o, "rx_bytes", json_object_new_double(r->rx_bytes));
	return o;
}

/* The most regular followed pair of the host, if any. */
static struct json_object *beacon_json(const struct bwe_beacon_eval *b, bool fired)
{
	struct json_object *o = json_object_new_object();
	char peer[BWE_ADDR_STRLEN];

	json_object_object_add(o, "fired", json_object_new_boolean(fired));
	if (!b->valid)
		return o;
	bwe_addr_fmt(&b->peer, peer, sizeof(peer));
	json_object_object_add(o, "peer", json_object_new_string(peer));
	json_object_object_add(o, "port", json_object_new_int(b->dport));
	json_object_object_add(o, "transport",
			       json_object_new_string(b->proto == IPPROTO_UDP ? "udp" : "tcp"));
	json_object_object_add(o, "period_s", json_object_new_double(b->period_s));
	json_object_object_add(o, "jitter", json_object_new_double(b->jitter));
	json_object_object_add(o, "intervals", json_object_new_int((int)b->intervals));
	return o;
}

/* What the flood signal saw (detect.h, struct bwe_flood_eval). */
static struct json_object *flood_json(const struct bwe_flood_eval *f)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "pps", json_object_new_double(f->pps));
	json_object_object_add(o, "mean_size", json_object_new_double(f->mean_size));
	json_object_object_add(o, "top_peer_share", json_object_new_double(f->share));
	json_object_object_add(o, "reply_upper", json_object_new_double(f->reply));
	return o;
}

/* Every signal as last evaluated: value, threshold, unit, fired (bwctl report). */
static struct json_object *signals_json(const struct bwe_signals *s)
{
	struct json_object *o = json_object_new_object();
	unsigned int i;

	for (i = 0; i < BWE_SIG_MAX; i++) {
		struct json_object *x = json_object_new_object();

		json_object_object_add(x, "fired", json_object_new_boolean(s->sig[i].fired));
		json_object_object_add(x, "value", json_object_new_double(s->sig[i].value));
		json_object_object_add(x, "threshold", json_object_new_double(s->sig[i].threshold));
		json_object_object_add(x, "unit", json_object_new_string(bwe_signal_unit(i)));
		json_object_object_add(o, bwe_signal_name(i), x);
	}
	json_object_object_add(o, "relay_detail", relay_json(&s->relay));
	json_object_object_add(o, "beacon_detail",
			       beacon_json(&s->beacon, s->sig[BWE_SIG_BEACON].fired));
	json_object_object_add(o, "flood_detail", flood_json(&s->flood));
	return o;
}

/* ---- acting on a decision -------------------------------------------------------------- */

/* The event fields a rule's decision adds: the rule, its evidence, the guards. */
static struct json_object *decision_json(const struct det_host *h, const struct bwe_signals *sig,
					 const struct bwe_decision *dec,
					 const struct bwe_policy *pol, const char *ev_text)
{
	struct json_object *a = json_object_new_object(), *c;

	json_object_object_add(a, "event.kind", json_object_new_string("alert"));
	json_object_object_add(a, "rule.name", json_object_new_string(dec->rule_name));
	json_object_object_add(a, "event.reason", json_object_new_string(ev_text));
	json_object_object_add(a, "bwenforce.evidence", evidence_json(dec));
	json_object_object_add(a, "bwenforce.response",
			       json_object_new_string(bwe_response_name(dec->action)));
	json_object_object_add(a, "bwenforce.wanted",
			       json_object_new_string(bwe_response_name(dec->wanted)));
	json_object_object_add(a, "bwenforce.guards", guards_json(dec->guards));
	json_object_object_add(a, "bwenforce.escalation_level",
			       json_object_new_int((int)dec->level));
	json_object_object_add(a, "bwenforce.ttl_s", json_object_new_uint64(dec->ttl_s));
	if ((c = contacts_json(h, dec)))
		json_object_object_add(a, "bwenforce.contacts", c);
	/* the runbook's "known legitimate activity?", answered in the event too */
	c = expected_json(pol, h, time(NULL));
	if (json_object_array_length(c))
		json_object_object_add(a, "bwenforce.expected", c);
	else
		json_object_put(c);
	if (dec->rate)
		json_object_object_add(a, "bwenforce.rate", json_object_new_uint64(dec->rate));
	json_object_object_add(a, "bwenforce.shapes", shapes_json(sig, pol));
	if (sig->sig[BWE_SIG_RELAY].fired)
		json_object_object_add(a, "bwenforce.relay", relay_json(&sig->relay));
	if (sig->sig[BWE_SIG_BEACON].fired)
		json_object_object_add(a, "bwenforce.beacon", beacon_json(&sig->beacon, true));
	return a;
}

/*
 * Act on a decision: a throttle or quarantine goes through the transaction
 * (its event carries the evidence); an alert, or an action the transaction
 * refuses (an operator holds the host, a guard says no), becomes a
 * detection-alert event saying why. 0 when the decision took effect.
 */
/* One action that took effect (the alert of a refused one counts as alert). */
static void count_action(struct detector *dt, const char *rule, enum bwe_response a)
{
	size_t i;

	for (i = 0; i < dt->nacts && strcmp(dt->acts[i].rule, rule); i++)
		;
	if (i == dt->nacts) {
		if (dt->nacts == DETECTOR_ACTION_RULES)
			i = DETECTOR_ACTION_RULES - 1; /* bounded: the last row takes the rest */
		else
			snprintf(dt->acts[dt->nacts++].rule, sizeof(dt->acts[0].rule), "%s", rule);
	}
	if (a < BWE_RESP_MAX)
		dt->acts[i].n[a]++;
}

const struct detector_action_count *detector_actions(const struct detector *dt, size_t *n)
{
	*n = dt->nacts;
	return dt->acts;
}

static int apply(struct detector *dt, struct det_host *h, const struct bwe_signals *sig,
		 const struct bwe_decision *dec)
{
	const struct bwe_policy *pol = &dt->cfg->policy;
	struct bwe_prefix p = { .addr = h->addr, .plen = BWE_ADDR_BITS };
	struct json_object *note;
	struct actor rule;
	char ev_text[256], host[BWE_ADDR_STRLEN], reason[ST_REASON_MAX], why[OPS_ERR_LEN] = "";
	int err = 0;

	bwe_addr_fmt(&h->addr, host, sizeof(host));
	evidence_text(dec, ev_text, sizeof(ev_text));
	note = decision_json(h, sig, dec, pol, ev_text);
	if (dec->action != BWE_RESP_ALERT) {
		struct op_request r = {
			.action = dec->action == BWE_RESP_QUARANTINE ? "quarantine" : "throttle",
			.verb = OP_ADD,
			.kind = dec->action == BWE_RESP_QUARANTINE ? ST_QUARANTINE : ST_THROTTLE,
			.who = &rule,
			.pfx = &p,
			.n = 1,
			.reason = reason,
			.ttl_s = dec->ttl_s,
			.rate = dec->rate,
			.annotate = note,
			/* the host, not one address: bound to its MAC where the
			 * neighbour table knows one (never a router's) */
			.ident = true,
		};

		actor_set(&rule, ACTOR_RULE, dec->rule_name, NULL);
		snprintf(reason, sizeof(reason), "automatic: %s", ev_text);
		err = ops_apply(dt->ops, &r, NULL, why, sizeof(why));
		if (!err) {
			count_action(dt, dec->rule_name, dec->action);
			log_info("rule %s: %s %s (%s)", dec->rule_name, r.action, host, ev_text);
			json_object_put(note);
			return 0;
		}
		if (err != -EPERM && err != -EINVAL) {
			/* the transaction failed (state file, maps): nothing changed, try again */
			log_warnx("rule %s on %s: %s", dec->rule_name, host, why);
			json_object_put(note);
			return err;
		}
	}
	count_action(dt, dec->rule_name, BWE_RESP_ALERT);
	log_info("rule %s: detection-alert %s (%s)%s%s", dec->rule_name, host, ev_text,
		 why[0] ? ": " : "", why);
	{
		struct json_object *ev = ev_new("detection-alert", "alert");

		ev_merge(ev, note);
		ev_str(ev, "host.ip", host);
		ev_str(ev, "bwenforce.refused", why[0] ? why : NULL);
		evlog_emit(dt->log, ev);
	}
	json_object_put(note);
	return 0;
}

/*
 * One batch of the sample, as it is read: first the events of the hits it
 * counted (deps->drain), then every internal host of it through detection.
 */
/*
 * With policy.peer_sketches off the data plane leaves a record's sketches
 * as they were (BWE_CFG_NO_SKETCH): nothing they held is evidence of now.
 */
static const struct bwe_host_stats *sketches_of_now(const struct bwe_policy *pol,
						    const struct bwe_host_stats *st,
						    struct bwe_host_stats *buf)
{
	if (pol->peer_sketches)
		return st;
	*buf = *st;
	memset(buf->hll_dst, 0, sizeof(buf->hll_dst));
	memset(buf->hll_port, 0, sizeof(buf->hll_port));
	memset(buf->hll_src, 0, sizeof(buf->hll_src));
	memset(&buf->hh_tx, 0, sizeof(buf->hh_tx));
	memset(&buf->hh_rx, 0, sizeof(buf->hh_rx));
	return buf;
}

static void evaluate_batch(void *ctx, const struct host_sample *v, size_t n)
{
	struct detector *dt = ctx;
	const struct bwe_policy *pol = &dt->cfg->policy;
	struct bwe_decision dec;       /* of one host, acted on at once: never kept */
	struct bwe_signals sig;	       /* of one host: what the report needs of it is kept */
	struct bwe_expected_seen seen; /* of one host's sample */
	const struct bwe_host_stats *st;
	struct bwe_host_stats buf;
	time_t now = dt->run_now;
	int err;
	size_t i;

	if (dt->drain)
		dt->drain(dt->drain_ctx);
	for (i = 0; i < n; i++) {
		const struct host_sample *s = &v[i];
		struct det_host *h = host_get(dt, &s->addr, HOST_FIND);

		if (h)
			h->visited = dt->run;
		if (!(enf_classes(dt->enf, &s->addr) & BWE_NC_INTERNAL))
			continue;
		if (!h && (h = host_get(dt, &s->addr, HOST_CREATE)))
			h->visited = dt->run;
		if (!h)
			continue;
		st = sketches_of_now(pol, &s->st, &buf);
		attribute_hits(dt, h, st, now);
		expected_activity(pol, h, st, now, &seen);
		err = bwe_detect_update(&h->h, st, dt->run_dt_s, now, pol, &sig);
		h->h.extra.expected_seen = NULL; /* this sample's only */
		if (err)
			continue;
		bwe_signals_keep(&sig, &h->sig);
		h->evaluated = true;
		note_seen(pol, h, &sig, now);
		if (bwe_detect_decide(&h->h, &sig, pol, &dt->g, &h->addr, now, &dec))
			continue;
		if (dec.action == BWE_RESP_NONE)
			continue;
		if (!apply(dt, h, &sig, &dec) && bwe_detect_commit(&h->h, &dt->g, pol, &dec, now))
			log_warnx("rule %s: state of the host: %s", dec.rule_name,
				  strerror(ENOMEM));
	}
}

/* A batch of the tick's sample: the idle sweep's, and the run's when one is due. */
static void sample_batch(void *ctx, const struct host_sample *v, size_t n)
{
	struct detector *dt = ctx;

	hostsweep_note(dt->sweep, v, n);
	if (dt->in_run)
		evaluate_batch(dt, v, n);
}

void detector_tick(struct detector *dt)
{
	const struct bwe_policy *pol = &dt->cfg->policy;
	struct timespec now_mono;
	time_t now = time(NULL);
	double dt_s;

	clock_gettime(CLOCK_MONOTONIC, &now_mono);
	dt_s = (double)(now_mono.tv_sec - dt->last_run.tv_sec) +
	       (double)(now_mono.tv_nsec - dt->last_run.tv_nsec) / 1e9;
	hostsweep_begin(dt->sweep, dt->cfg->host_idle_s);
	if (!pol->interval_s || dt_s + 0.05 < (double)pol->interval_s) {
		/* rates for bwctl top and report, idle hosts for the sweep */
		hosts_sample(dt->hosts, dt->sweep ? sample_batch : NULL, dt);
		hostsweep_end(dt->sweep);
		return;
	}
	dt->last_run = now_mono;

	dt->run++;
	dt->run_now = now;
	dt->run_dt_s = dt_s;
	dt->in_run = true;
	dt->room_made = false;
	hosts_sample(dt->hosts, sample_batch, dt);
	dt->in_run = false;
	hostsweep_end(dt->sweep);
	/* A new fan-out window, from the next sample on: the kernel restarts its sketches. */
	if (now - dt->epoch_start >= (time_t)pol->fanout.window_s) {
		struct bwe_config c;

		if (!bwe_dp_config_get(dt->dp, &c)) {
			c.hll_epoch++;
			bwe_dp_config_set(dt->dp, &c);
		}
		dt->epoch_start = now;
	}
	prune(dt);
	table_full_event(dt);
}

/* ---- bwctl report ------------------------------------------------------------------------ */

static const char *yes_no(bool b)
{
	return b ? "yes" : "no";
}

struct json_object *detector_report(struct detector *dt, const struct bwe_addr *a)
{
	const struct bwe_policy *pol = &dt->cfg->policy;
	struct det_host *h = host_get(dt, a, HOST_FIND);
	struct host_sample now_s; /* the host's counters now */
	const struct host_sample *s = hosts_get(dt->hosts, a, &now_s) ? NULL : &now_s;
	struct json_object *o = json_object_new_object(), *q = json_object_new_object(), *x, *arr;
	char buf[BWE_ADDR_STRLEN], t[32], detail[512], who[ACTOR_TEXT_MAX];
	struct bwe_signals last; /* the last evaluation, from what was kept of it */
	const struct bwe_signals *sig = NULL;
	const struct st_entry *qe = st_match(dt->st, ST_QUARANTINE, a);
	const struct st_entry *te = st_match(dt->st, ST_THROTTLE, a);
	bool q1 = false, q2 = false, q3 = false, pw_contact = false;
	__u64 pw_hits = h ? h->h.extra.proxyware_hits : 0;
	int yes = 0, wi = bwe_policy_window_index(pol, pol->spike.window_s);
	unsigned int i, nshapes = 0;
	struct bwe_shape_match shapes[BWE_SHAPE_MAX];

	if (h && h->evaluated) {
		bwe_signals_restore(&h->sig, &h->h, pol, &last);
		sig = &last;
	}
	bwe_addr_fmt(a, buf, sizeof(buf));
	json_object_object_add(o, "host", json_object_new_string(buf));
	fmt_time(time(NULL), t, sizeof(t));
	json_object_object_add(o, "generated", json_object_new_string(t));
	json_object_object_add(o, "internal",
			       json_object_new_boolean(
				       !!(enf_classes(dt->enf, a) & BWE_NC_INTERNAL)));

	/* traffic now */
	x = json_object_new_object();
	if (s) {
		json_object_object_add(x, "tx_bytes", json_object_new_uint64(s->st.tx_bytes));
		json_object_object_add(x, "rx_bytes", json_object_new_uint64(s->st.rx_bytes));
		json_object_object_add(x, "tx_bps", json_object_new_uint64((__u64)s->tx_bps));
		json_object_object_add(x, "rx_bps", json_object_new_uint64((__u64)s->rx_bps));
		json_object_object_add(x, "nonstd_tx_bytes",
				       json_object_new_uint64(s->st.nonstd_tx_bytes));
		json_object_object_add(x, "blocklist_hits", json_object_new_uint64(s->st.bl_hits));
		json_object_object_add(x, "blocklist_inbound_hits",
				       json_object_new_uint64(s->st.bl_in_hits));
	}
	json_object_object_add(o, "traffic", x);

	/* 1: has its outbound traffic suddenly increased? */
	x = json_object_new_object();
	if (sig && h) {
		double base = wi >= 0 ? h->h.base[wi].tx_mean : 0;

		q1 = sig->sig[BWE_SIG_SPIKE].fired ||
		     (sig->trusted && wi >= 0 && sig->z_tx[wi] >= pol->spike.z);
		json_object_object_add(x, "tx_bps", json_object_new_double(sig->tx_bps));
		json_object_object_add(x, "baseline_bps", json_object_new_double(base));
		json_object_object_add(x, "z", json_object_new_double(wi >= 0 ? sig->z_tx[wi] : 0));
		json_object_object_add(x, "z_threshold", json_object_new_double(pol->spike.z));
		json_object_object_add(x, "baseline_trusted",
				       json_object_new_boolean(sig->trusted));
		json_object_object_add(x, "baseline_learned_s",
				       json_object_new_double(h->h.learned_s));
		json_object_object_add(x, "expected_bps",
				       json_object_new_double(sig->expected_bps));
		snprintf(detail, sizeof(detail),
			 "upload %.0f B/s against a baseline of %.0f B/s "
			 "(z %.1f, threshold %.1f%s)%s",
			 sig->tx_bps, base, wi >= 0 ? sig->z_tx[wi] : 0, pol->spike.z,
			 sig->trusted ? "" : "; baseline still learning",
			 sig->expected_bps > 0 ? "; more upload discounted as expected activity"
					       : "");
		json_object_object_add(x, "answer",
				       json_object_new_string(sig->trusted || q1 ? yes_no(q1)
										 : "unknown"));
	} else {
		snprintf(detail, sizeof(detail), "no traffic history for this host yet");
		json_object_object_add(x, "answer", json_object_new_string("unknown"));
	}
	json_object_object_add(x, "detail", json_object_new_string(detail));
	json_object_object_add(q, "1_outbound_increase", x);

	/*
	 * 2: does it connect to known malicious addresses or domains? Only its
	 * own contacts say so: an inbound packet from a listed address may be
	 * spoofed, so inbound hits are shown apart and never answer yes.
	 */
	x = json_object_new_object();
	arr = json_object_new_array();
	for (i = 0; h && h->hits && i < h->hits->n; i++) {
		const struct det_hit *ht = &h->hits->v[RING_LATEST(h->hits->head, i, DET_HITS_MAX)];
		struct json_object *hj = json_object_new_object();
		enum bwe_feed_signal hsig = ht->signal;
		char p[BWE_ADDR_STRLEN];

		bwe_addr_fmt(&ht->peer, p, sizeof(p));
		fmt_time(ht->t, t, sizeof(t));
		json_object_object_add(hj, "time", json_object_new_string(t));
		json_object_object_add(hj, "peer", json_object_new_string(p));
		json_object_object_add(hj, "feed", json_object_new_string(ht->feed));
		json_object_object_add(hj, "signal",
				       json_object_new_string(bwe_feed_signal_name(hsig)));
		json_object_object_add(hj, "direction",
				       json_object_new_string(ht->outbound ? "outbound"
									   : "inbound"));
		q2 |= ht->outbound && hsig != BWE_FSIG_PROXYWARE;
		pw_contact |= ht->outbound && hsig == BWE_FSIG_PROXYWARE;
		json_object_object_add(hj, "action",
				       json_object_new_string(
					       (ht->ref & BWE_REF_MONITOR) ? "monitor" : "drop"));
		json_object_object_add(hj, "entry",
				       ht->entry[0] ? json_object_new_string(ht->entry) : NULL);
		json_object_object_add(hj, "indicator",
				       ht->indicator[0] ? json_object_new_string(ht->indicator)
							: NULL);
		json_object_array_add(arr, hj);
	}
	q2 |= s && s->st.bl_hits > pw_hits; /* proxyware feeds' hits answer question 3 */
	json_object_object_add(x, "answer", json_object_new_string(yes_no(q2)));
	json_object_object_add(x, "blocklist_hits",
			       json_object_new_uint64(
				       s && s->st.bl_hits > pw_hits ? s->st.bl_hits - pw_hits : 0));
	json_object_object_add(x, "inbound_blocklist_hits",
			       json_object_new_uint64(s ? s->st.bl_in_hits : 0));
	snprintf(detail, sizeof(detail),
		 "%llu packets of contacts with listed addresses (to them, and their answers); "
		 "%llu unsolicited inbound packets from listed addresses (possibly spoofed: "
		 "shown, never counted as a contact)",
		 (unsigned long long)(s ? s->st.bl_hits : 0),
		 (unsigned long long)(s ? s->st.bl_in_hits : 0));
	json_object_object_add(x, "detail", json_object_new_string(detail));
	json_object_object_add(x, "indicators", arr);
	json_object_object_add(q, "2_malicious_contacts", x);

	/* 3: does the pattern match botnet or proxyjacking behaviour? */
	x = json_object_new_object();
	if (sig) {
		nshapes = bwe_detect_shapes(sig, pol, shapes);
		for (i = 0; i < nshapes; i++)
			q3 |= shapes[i].score * 2 > shapes[i].of;
		/* without the sketches (policy.peer_sketches) there is no fan-out to show */
		json_object_object_add(x, "peer_sketches",
				       json_object_new_boolean(pol->peer_sketches));
		json_object_object_add(x, "fanout_peers",
				       pol->peer_sketches ? json_object_new_double(sig->peers)
							  : NULL);
		json_object_object_add(x, "fanout_ports",
				       pol->peer_sketches ? json_object_new_double(sig->ports)
							  : NULL);
		json_object_object_add(x, "nonstd_port_share",
				       json_object_new_double(sig->nonstd_share));
		json_object_object_add(x, "upload_ratio",
				       json_object_new_double(sig->upload_ratio));
		json_object_object_add(x, "shapes", shapes_json(sig, pol));
		/* a proxyware SDK's endpoints: the proxyjacking shape by itself */
		pw_contact |= sig->sig[BWE_SIG_PROXYWARE].fired;
		q3 |= pw_contact;
		json_object_object_add(x, "proxyware_hits", json_object_new_uint64(pw_hits));
		json_object_object_add(x, "proxyware_contact", json_object_new_boolean(pw_contact));
		/* the relay signature, beaconing and flooding are this question's own signals */
		q3 |= sig->sig[BWE_SIG_RELAY].fired || sig->sig[BWE_SIG_BEACON].fired ||
		      sig->sig[BWE_SIG_FLOOD].fired;
		json_object_object_add(x, "relay",
				       json_object_new_boolean(sig->sig[BWE_SIG_RELAY].fired));
		json_object_object_add(x, "beacon",
				       json_object_new_boolean(sig->sig[BWE_SIG_BEACON].fired));
		json_object_object_add(x, "flood",
				       json_object_new_boolean(sig->sig[BWE_SIG_FLOOD].fired));
		json_object_object_add(x, "answer", json_object_new_string(yes_no(q3)));
	} else {
		json_object_object_add(x, "answer", json_object_new_string("unknown"));
	}
	json_object_object_add(q, "3_botnet_or_proxyjacking", x);
	/* the runbook: does the spike coincide with known legitimate activity? */
	json_object_object_add(o, "expected_activity",
			       h ? expected_json(pol, h, time(NULL)) : json_object_new_array());

	/* 4: unauthorized processes: the network cannot tell */
	x = json_object_new_object();
	json_object_object_add(x, "answer", json_object_new_string("needs endpoint data"));
	json_object_object_add(
		x, "detail",
		json_object_new_string(
			"bwenforce sees the network only: check the host's processes and services "
			"(proxyware such as IPRoyal Pawns, Peer2Profit, traffmonetizer; unknown services "
			"listening) with the EDR, which a quarantined host can still reach"));
	json_object_object_add(q, "4_unauthorized_processes", x);
	json_object_object_add(o, "questions", q);
	json_object_object_add(o, "signals", sig ? signals_json(sig) : NULL);

	/* containment and history */
	x = json_object_new_object();
	json_object_object_add(x, "quarantine", qe ? st_entry_json(qe) : NULL);
	json_object_object_add(x, "throttle", te ? st_entry_json(te) : NULL);
	json_object_object_add(o, "containment", x);
	arr = json_object_new_array();
	for (i = 0; h && h->hist && i < h->hist->n; i++) {
		const struct det_action *ac =
			&h->hist->v[(h->hist->head + DET_HISTORY_MAX - h->hist->n + i) %
				    DET_HISTORY_MAX];
		struct json_object *aj = json_object_new_object();

		fmt_time(ac->t, t, sizeof(t));
		json_object_object_add(aj, "time", json_object_new_string(t));
		json_object_object_add(aj, "action", json_object_new_string(ac->action));
		actor_fmt(&ac->actor, who, sizeof(who));
		json_object_object_add(aj, "actor", json_object_new_string(who));
		json_object_object_add(aj, "by", actor_json(&ac->actor));
		json_object_object_add(aj, "reason", json_object_new_string(ac->reason));
		json_object_array_add(arr, aj);
	}
	json_object_object_add(o, "history", arr);

	/* the runbook: corroborating evidence escalates to Tier 2 */
	yes = q1 + q2 + q3;
	x = json_object_new_object();
	json_object_object_add(x, "escalate",
			       json_object_new_boolean(yes >= 2 ||
						       (qe && qe->actor.kind == ACTOR_RULE)));
	snprintf(detail, sizeof(detail),
		 "%d of the 3 network questions answered yes (%s%s%s%s%s); %s", yes,
		 q1 ? "traffic spike" : "", q1 && (q2 || q3) ? ", " : "",
		 q2 ? "blocklist contacts" : "", q2 && q3 ? ", " : "",
		 q3 ? "botnet/proxyjacking shape" : "",
		 yes >= 2   ? "corroborated: escalate to Tier 2 and check the endpoint (question 4)"
		 : yes == 1 ? "one signal alone: keep watching, contain only if it persists"
			    : "no network evidence against this host");
	json_object_object_add(x, "tier", json_object_new_string(yes >= 2 ? "Tier 2" : "Tier 1"));
	json_object_object_add(x, "why", json_object_new_string(detail));
	json_object_object_add(o, "recommendation", x);
	return o;
}
