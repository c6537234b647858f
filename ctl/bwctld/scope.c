// SPDX-License-Identifier: GPL-2.0-only
/*
 * scope.c - "who else?": the (host, listed peer) contact index and the
 * answers of bwctl scope and the report's section; contract in scope.h.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addrmap.h"
#include "bwe_util.h"
#include "scope.h"
#include "util.h"

struct sc_contact {
	struct bwe_addr peer;
	time_t first, last;
	__u32 contacts; /* hit events: at most one per event_dedup while it lasts */
	enum bwe_feed_signal signal;
	char feed[BWE_FEED_NAME_MAX];
};

struct sc_host {
	struct bwe_addr host;
	time_t last;
	unsigned int n;
	struct sc_contact c[SCOPE_PEERS_PER_HOST];
};

struct scope {
	struct scope_deps d;
	struct sc_host **v;
	size_t n;
	struct bwe_amap idx; /* host -> index into v */
	time_t started;
	time_t evicted_last; /* the latest last contact an eviction dropped */
	__u64 evicted;	     /* contacts dropped by the bounds */
	__u64 seeded;	     /* contact events read back from the event log at start */
	time_t seeded_oldest;
};

static void on_hit(void *ctx, const struct ops_hit *hit);

int scope_new(struct scope **out, const struct scope_deps *deps)
{
	struct scope *s = calloc(1, sizeof(*s));
	struct ops_observer obs = { .hit = on_hit };
	int err;

	if (!s)
		return -ENOMEM;
	s->d = *deps;
	s->started = time(NULL);
	bwe_amap_init(&s->idx);
	obs.ctx = s;
	err = ops_observe(s->d.ops, &obs);
	if (err) {
		free(s);
		return err;
	}
	*out = s;
	return 0;
}

void scope_free(struct scope *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	bwe_amap_free(&s->idx);
	free(s);
}

void scope_set_config(struct scope *s, const struct bwe_cfgfile *cfg)
{
	s->d.cfg = cfg;
}

static void dropped(struct scope *s, time_t last, __u64 n)
{
	if (last > s->evicted_last)
		s->evicted_last = last;
	s->evicted += n;
}

/* The host's slot; a new one in place of the host whose last contact is oldest when full. */
static struct sc_host *host_slot(struct scope *s, const struct bwe_addr *a)
{
	__u32 *i = bwe_amap_get(&s->idx, a);
	struct sc_host *h, **v;
	size_t k, old = 0;

	if (i)
		return s->v[*i];
	if (s->n == SCOPE_HOSTS_MAX) {
		for (k = 1; k < s->n; k++)
			if (s->v[k]->last < s->v[old]->last)
				old = k;
		h = s->v[old];
		dropped(s, h->last, h->n);
		bwe_amap_del(&s->idx, &h->host);
		memset(h, 0, sizeof(*h));
		h->host = *a;
		if (bwe_amap_set(&s->idx, a, (__u32)old)) {
			/* no memory for the index: the slot goes */
			s->v[old] = s->v[--s->n];
			if (old < s->n)
				bwe_amap_set(&s->idx, &s->v[old]->host, (__u32)old);
			free(h);
			return NULL;
		}
		return h;
	}
	h = calloc(1, sizeof(*h));
	v = reallocarray(s->v, s->n + 1, sizeof(*v));
	if (!h || !v) {
		free(h);
		if (v)
			s->v = v;
		return NULL;
	}
	s->v = v;
	h->host = *a;
	if (bwe_amap_set(&s->idx, a, (__u32)s->n)) {
		free(h);
		return NULL;
	}
	s->v[s->n++] = h;
	return h;
}

/* One contact of host with a listed peer of feed at t. */
static void note(struct scope *s, const struct bwe_addr *host, const struct bwe_addr *peer,
		 const char *feed, time_t t)
{
	struct sc_host *h;
	struct sc_contact *c = NULL;
	unsigned int k, old = 0;

	if (!(h = host_slot(s, host)))
		return;
	h->last = t > h->last ? t : h->last;
	for (k = 0; k < h->n && !c; k++)
		if (!memcmp(&h->c[k].peer, peer, sizeof(*peer)))
			c = &h->c[k];
	if (!c && h->n < SCOPE_PEERS_PER_HOST)
		c = &h->c[h->n++];
	if (!c) {
		/* full: the least recently seen peer gives way */
		for (k = 1; k < h->n; k++)
			if (h->c[k].last < h->c[old].last)
				old = k;
		c = &h->c[old];
		dropped(s, c->last, 1);
	}
	if (memcmp(&c->peer, peer, sizeof(*peer)) || !c->first) {
		memset(c, 0, sizeof(*c));
		c->peer = *peer;
		c->first = t;
	}
	c->first = t < c->first ? t : c->first;
	c->last = t > c->last ? t : c->last;
	c->contacts++;
	c->signal = bwe_cfg_feed_signal(s->d.cfg, feed);
	snprintf(c->feed, sizeof(c->feed), "%s", feed ? feed : "?");
}

/* An outbound contact with a listed peer (an inbound hit may be spoofed). */
static void on_hit(void *ctx, const struct ops_hit *hit)
{
	if (hit->outbound)
		note(ctx, &hit->host, &hit->peer, hit->feed, time(NULL));
}

/* o["a"]["b"]... as a string; NULL when absent or not a string. */
static const char *jpath(struct json_object *o, const char *const *keys)
{
	for (; *keys && o; keys++)
		if (!json_object_object_get_ex(o, *keys, &o))
			return NULL;
	return o && json_object_is_type(o, json_type_string) ? json_object_get_string(o) : NULL;
}

/* One line of the event log: an outbound blocklist-hit within reach is noted. */
static bool seed_line(struct scope *s, const char *line, time_t oldest, time_t *t_out)
{
	static const char *const k_action[] = { "event", "action", NULL };
	static const char *const k_dir[] = { "network", "direction", NULL };
	static const char *const k_host[] = { "host", "ip", NULL };
	static const char *const k_peer[] = { "threat", "indicator", "ip", NULL };
	static const char *const k_feed[] = { "threat", "feed", "name", NULL };
	static const char *const k_time[] = { "@timestamp", NULL };
	struct json_object *o = json_tokener_parse(line);
	const char *a, *d, *h, *p, *ts;
	struct bwe_addr host, peer;
	struct tm tm = { 0 };
	bool ok = false;
	time_t t;

	if (!o)
		return false;
	a = jpath(o, k_action);
	d = jpath(o, k_dir);
	h = jpath(o, k_host);
	p = jpath(o, k_peer);
	ts = jpath(o, k_time);
	if (a && !strcmp(a, "blocklist-hit") && d && !strcmp(d, "outbound") && h && p && ts &&
	    !bwe_addr_parse(h, &host) && !bwe_addr_parse(p, &peer) &&
	    strptime(ts, "%Y-%m-%dT%H:%M:%S", &tm) && (t = timegm(&tm)) >= oldest &&
	    (enf_classes(s->d.enf, &host) & BWE_NC_INTERNAL)) {
		note(s, &host, &peer, jpath(o, k_feed), t);
		*t_out = t;
		ok = true;
	}
	json_object_put(o);
	return ok;
}

int scope_seed(struct scope *s, const char *path, time_t now)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	long end;
	time_t t = 0;

	if (!f)
		return errno == ENOENT ? 0 : -errno;
	if (fseek(f, 0, SEEK_END) || (end = ftell(f)) < 0 ||
	    fseek(f, end > SCOPE_SEED_BYTES ? end - SCOPE_SEED_BYTES : 0, SEEK_SET)) {
		fclose(f);
		return -EIO;
	}
	/* from the middle of the file: the first line is a partial one */
	if (end > SCOPE_SEED_BYTES && getline(&line, &cap, f) < 0) {
		free(line);
		fclose(f);
		return 0;
	}
	while (getline(&line, &cap, f) > 0) {
		if (!seed_line(s, line, now - (time_t)SCOPE_SINCE_MAX_S, &t))
			continue;
		s->seeded++;
		if (!s->seeded_oldest || t < s->seeded_oldest)
			s->seeded_oldest = t;
	}
	free(line);
	fclose(f);
	return 0;
}

/* ---- answers --------------------------------------------------------------------------- */

static const struct sc_host *host_find(const struct scope *s, const struct bwe_addr *a)
{
	const __u32 *i = bwe_amap_get(&s->idx, a);

	return i ? s->v[*i] : NULL;
}

static struct json_object *contact_json(const struct sc_contact *c)
{
	struct json_object *o = json_object_new_object();
	char p[BWE_ADDR_STRLEN];

	bwe_addr_fmt(&c->peer, p, sizeof(p));
	json_object_object_add(o, "peer", json_object_new_string(p));
	json_object_object_add(o, "feed", json_object_new_string(c->feed));
	json_object_object_add(o, "signal",
			       json_object_new_string(bwe_feed_signal_name(c->signal)));
	json_add_time(o, "first_seen", c->first);
	json_add_time(o, "last_seen", c->last);
	json_object_object_add(o, "contacts", json_object_new_uint64(c->contacts));
	return o;
}

/* Signals fired and shapes matched since cutoff, as bits. */
static void seen_bits(const struct detector_seen *sn, time_t cutoff, __u32 *sigs, __u32 *shapes,
		      time_t *last)
{
	unsigned int i;

	*sigs = *shapes = 0;
	for (i = 0; i < BWE_SIG_MAX; i++)
		if (sn->sig_at[i] && sn->sig_at[i] >= cutoff) {
			*sigs |= 1U << i;
			*last = sn->sig_at[i] > *last ? sn->sig_at[i] : *last;
		}
	for (i = 0; i < BWE_SHAPE_MAX; i++)
		if (sn->shape_at[i] && sn->shape_at[i] >= cutoff) {
			*shapes |= 1U << i;
			*last = sn->shape_at[i] > *last ? sn->shape_at[i] : *last;
		}
}

static struct json_object *bits_json(__u32 bits, bool shapes)
{
	struct json_object *arr = json_object_new_array();
	unsigned int i, n = shapes ? BWE_SHAPE_MAX : BWE_SIG_MAX;

	for (i = 0; i < n; i++)
		if (bits & (1U << i))
			json_object_array_add(arr,
					      json_object_new_string(
						      shapes ? bwe_shape_name((enum bwe_shape)i)
							     : bwe_signal_name(
								       (enum bwe_signal_id)i)));
	return arr;
}

/* Another host and what it shares with the target. */
struct cand {
	struct bwe_addr addr;
	unsigned int peers;	      /* listed peers in common: cs[0..peers) */
	const struct sc_contact **cs; /* its contacts with them */
	__u32 sigs, shapes;	      /* in common */
	time_t first, last;
};

/* The peers the other hosts are matched on: the target's own (a host's), or the address. */
struct peerset {
	const struct bwe_addr *v;
	size_t n;
};

static bool in_set(const struct peerset *ps, const struct bwe_addr *a)
{
	size_t i;

	for (i = 0; i < ps->n; i++)
		if (!memcmp(&ps->v[i], a, sizeof(*a)))
			return true;
	return false;
}

static unsigned int popcount(__u32 x)
{
	return (unsigned int)__builtin_popcount(x);
}

/* Most peers in common first, then most signals and shapes, then the latest. */
static int cand_cmp(const void *pa, const void *pb)
{
	const struct cand *a = pa, *b = pb;
	unsigned int sa = popcount(a->sigs) + popcount(a->shapes);
	unsigned int sb = popcount(b->sigs) + popcount(b->shapes);

	if (a->peers != b->peers)
		return a->peers > b->peers ? -1 : 1;
	if (sa != sb)
		return sa > sb ? -1 : 1;
	if (a->last != b->last)
		return a->last > b->last ? -1 : 1;
	return memcmp(&a->addr, &b->addr, sizeof(a->addr));
}

static struct cand *cand_get(struct cand **v, size_t *n, struct bwe_amap *m,
			     const struct bwe_addr *a)
{
	__u32 *i = bwe_amap_get(m, a);
	struct cand *nv;

	if (i)
		return &(*v)[*i];
	nv = reallocarray(*v, *n + 1, sizeof(**v));
	if (!nv)
		return NULL;
	*v = nv;
	if (bwe_amap_set(m, a, (__u32)*n))
		return NULL;
	memset(&nv[*n], 0, sizeof(nv[*n]));
	nv[*n].addr = *a;
	return &nv[(*n)++];
}

static void cands_free(struct cand *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i].cs);
	free(v);
}

/* The other hosts, ranked: whose contacts hit the set, and (sig) with the target's signals. */
static int collect(const struct scope *s, const struct bwe_addr *target, const struct peerset *ps,
		   bool sig, time_t cutoff, struct cand **out, size_t *nout)
{
	struct detector_seen sn;
	struct cand *v = NULL, *c;
	struct bwe_amap m;
	const struct bwe_addr *ya;
	__u32 tsigs = 0, tshapes = 0;
	time_t tlast = 0;
	size_t n = 0, i;
	unsigned int k;
	int e = -ENOMEM;

	bwe_amap_init(&m);
	if (sig && detector_seen(s->d.detector, target, &sn))
		seen_bits(&sn, cutoff, &tsigs, &tshapes, &tlast);
	for (i = 0; i < s->n; i++) {
		const struct sc_host *x = s->v[i];

		if (!memcmp(&x->host, target, sizeof(*target)))
			continue;
		for (k = 0; k < x->n; k++) {
			const struct sc_contact *xc = &x->c[k], **cs;

			if (xc->last < cutoff || !in_set(ps, &xc->peer))
				continue;
			if (!(c = cand_get(&v, &n, &m, &x->host)) ||
			    !(cs = reallocarray(c->cs, c->peers + 1, sizeof(*cs))))
				goto out;
			c->cs = cs;
			cs[c->peers++] = xc;
			c->first = !c->first || xc->first < c->first ? xc->first : c->first;
			c->last = xc->last > c->last ? xc->last : c->last;
		}
	}
	/* the same behaviour: signals fired and shapes matched in the window */
	for (i = 0; (tsigs || tshapes) && (ya = detector_host_at(s->d.detector, i, &sn)); i++) {
		__u32 sigs, shapes;
		time_t last = 0;

		if (!memcmp(ya, target, sizeof(*target)))
			continue;
		seen_bits(&sn, cutoff, &sigs, &shapes, &last);
		if (!(sigs & tsigs) && !(shapes & tshapes))
			continue;
		if (!(c = cand_get(&v, &n, &m, ya)))
			goto out;
		c->sigs = sigs & tsigs;
		c->shapes = shapes & tshapes;
		c->last = last > c->last ? last : c->last;
	}
	if (n)
		qsort(v, n, sizeof(*v), cand_cmp);
	e = 0;
out:
	bwe_amap_free(&m);
	*out = v;
	*nout = n;
	return e;
}

static const char *contained(const struct scope *s, const struct bwe_addr *a)
{
	return st_match(s->d.st, ST_QUARANTINE, a) ? "quarantine"
	       : st_match(s->d.st, ST_THROTTLE, a) ? "throttle"
						   : NULL;
}

static struct json_object *cand_json(const struct scope *s, const struct cand *c, size_t rank)
{
	struct json_object *o = json_object_new_object(), *arr = json_object_new_array();
	const char *cont = contained(s, &c->addr);
	char a[BWE_ADDR_STRLEN];
	unsigned int k;

	bwe_addr_fmt(&c->addr, a, sizeof(a));
	json_object_object_add(o, "rank", json_object_new_uint64(rank));
	json_object_object_add(o, "host", json_object_new_string(a));
	for (k = 0; k < c->peers; k++)
		json_object_array_add(arr, contact_json(c->cs[k]));
	json_object_object_add(o, "peers_in_common", arr);
	json_object_object_add(o, "signals_in_common", bits_json(c->sigs, false));
	json_object_object_add(o, "shapes_in_common", bits_json(c->shapes, true));
	json_add_time(o, "first_seen", c->first);
	json_add_time(o, "last_seen", c->last);
	json_object_object_add(o, "contained", cont ? json_object_new_string(cont) : NULL);
	return o;
}

/* The other hosts as JSON, at most max ("more" counts the rest). */
static struct json_object *others(const struct scope *s, const struct bwe_addr *target,
				  const struct peerset *ps, bool sig, time_t cutoff, size_t max,
				  size_t *more)
{
	struct json_object *arr = json_object_new_array();
	struct cand *v;
	size_t n, i;

	collect(s, target, ps, sig, cutoff, &v, &n);
	for (i = 0; i < n && i < max; i++)
		json_object_array_add(arr, cand_json(s, &v[i], i + 1));
	*more = n > max ? n - max : 0;
	cands_free(v, n);
	return arr;
}

_Static_assert(SCOPE_PEERS_PER_HOST <= BWE_FREC_SCOPE_PEERS_MAX, "a host's peers fit a question");

/* The target's listed peers in the window (a host's, into v), or the address itself. */
static struct peerset target_set(const struct sc_host *th, const struct bwe_addr *a, bool internal,
				 time_t cutoff, struct bwe_addr v[SCOPE_PEERS_PER_HOST])
{
	struct peerset ps = { .v = v };
	unsigned int k;

	if (!internal)
		return (struct peerset){ .v = a, .n = 1 };
	for (k = 0; th && k < th->n; k++)
		if (th->c[k].last >= cutoff)
			v[ps.n++] = th->c[k].peer;
	return ps;
}

/* Since when the index holds every contact. */
static time_t complete_since(const struct scope *s)
{
	return s->evicted_last > s->started ? s->evicted_last : s->started;
}

struct json_object *scope_query(const struct scope *s, const struct bwe_addr *a, __u64 since_s,
				time_t now)
{
	bool internal = !!(enf_classes(s->d.enf, a) & BWE_NC_INTERNAL);
	const struct sc_host *th = internal ? host_find(s, a) : NULL;
	time_t cutoff = now - (time_t)since_s;
	struct json_object *o = json_object_new_object(), *peers = json_object_new_array(), *x;
	struct bwe_addr set[SCOPE_PEERS_PER_HOST];
	struct peerset ps = target_set(th, a, internal, cutoff, set);
	struct detector_seen sn;
	__u32 sigs = 0, shapes = 0;
	time_t last = 0, complete = complete_since(s);
	char buf[BWE_ADDR_STRLEN];
	unsigned int k;
	size_t i, more = 0, contacts = 0;

	bwe_addr_fmt(a, buf, sizeof(buf));
	json_object_object_add(o, "target", json_object_new_string(buf));
	json_object_object_add(o, "kind", json_object_new_string(internal ? "host" : "address"));
	json_add_time(o, "generated", now);
	json_add_time(o, "since", cutoff);
	json_object_object_add(o, "window_s", json_object_new_uint64(since_s));
	for (k = 0; th && k < th->n; k++)
		if (th->c[k].last >= cutoff)
			json_object_array_add(peers, contact_json(&th->c[k]));
	json_object_object_add(o, "peers", peers);
	if (internal && detector_seen(s->d.detector, a, &sn))
		seen_bits(&sn, cutoff, &sigs, &shapes, &last);
	json_object_object_add(o, "signals", bits_json(sigs, false));
	json_object_object_add(o, "shapes", bits_json(shapes, true));
	json_object_object_add(o, "hosts",
			       others(s, a, &ps, internal, cutoff, SCOPE_RESULTS_MAX, &more));
	json_object_object_add(o, "more", json_object_new_uint64(more));

	/* how far back the answer reaches */
	for (i = 0; i < s->n; i++)
		contacts += s->v[i]->n;
	x = json_object_new_object();
	json_object_object_add(x, "site", json_object_new_string("this site"));
	json_add_time(x, "index_since", s->started);
	json_add_time(x, "complete_since", complete);
	json_object_object_add(x, "window_covered", json_object_new_boolean(cutoff >= complete));
	json_object_object_add(x, "hosts", json_object_new_uint64(s->n));
	json_object_object_add(x, "hosts_max", json_object_new_uint64(SCOPE_HOSTS_MAX));
	json_object_object_add(x, "contacts", json_object_new_uint64(contacts));
	json_object_object_add(x, "peers_per_host", json_object_new_uint64(SCOPE_PEERS_PER_HOST));
	json_object_object_add(x, "evicted", json_object_new_uint64(s->evicted));
	json_object_object_add(x, "from_event_log", json_object_new_uint64(s->seeded));
	json_add_time(x, "event_log_since", s->seeded_oldest);
	json_object_object_add(o, "coverage", x);
	return o;
}

struct json_object *scope_report_section(const struct scope *s, const struct bwe_addr *a,
					 time_t now)
{
	const struct sc_host *th = host_find(s, a);
	time_t cutoff = now - (time_t)SCOPE_SINCE_S;
	struct json_object *o = json_object_new_object(), *x;
	struct bwe_addr set[SCOPE_PEERS_PER_HOST];
	struct peerset ps = target_set(th, a, true, cutoff, set);
	size_t more = 0;

	json_add_time(o, "since", cutoff);
	json_object_object_add(o, "hosts",
			       others(s, a, &ps, false, cutoff, SCOPE_REPORT_MAX, &more));
	json_object_object_add(o, "more", json_object_new_uint64(more));
	json_object_object_add(o, "detail",
			       json_object_new_string(
				       "internal hosts that contacted the same listed peers in the "
				       "last day; bwctl scope HOST shows all, and hosts with the "
				       "same signals"));
	x = json_object_new_object();
	json_object_object_add(x, "site", json_object_new_string("this site"));
	json_object_object_add(o, "coverage", x);
	return o;
}

/* ---- the fleet: answering the others, asking them ----------------------------------- */

int scope_answer(const struct scope *s, const struct bwe_frec_scope_req *q, time_t now,
		 struct bwe_frec_scope_ans *a)
{
	time_t cutoff = now - (time_t)q->since_s;
	struct peerset ps = { .v = q->npeers ? q->peers : &q->target,
			      .n = q->npeers ? q->npeers : 1 };
	struct cand *v;
	size_t n, i;
	unsigned int k;
	int e = collect(s, &q->target, &ps, false, cutoff, &v, &n);

	memset(a, 0, sizeof(*a));
	a->target = q->target;
	a->generated = now;
	a->window_covered = cutoff >= complete_since(s);
	for (i = 0; !e && i < n && i < BWE_FREC_SCOPE_HOSTS_MAX; i++) {
		struct bwe_frec_scope_host *h = &a->hosts[a->nhosts++];
		const char *cont = contained(s, &v[i].addr);

		h->host = v[i].addr;
		h->peers_in_common = v[i].peers;
		h->first_seen = v[i].first;
		h->last_seen = v[i].last;
		snprintf(h->contained, sizeof(h->contained), "%s", cont ? cont : "");
		for (k = 0; k < v[i].peers && k < BWE_FREC_SCOPE_HPEERS_MAX; k++) {
			const struct sc_contact *c = v[i].cs[k];
			struct bwe_frec_scope_peer *p = &h->peers[h->npeers++];

			p->peer = c->peer;
			snprintf(p->feed, sizeof(p->feed), "%s", c->feed);
			p->last_seen = c->last;
			p->contacts = c->contacts;
		}
	}
	a->more = n > a->nhosts ? n - a->nhosts : 0;
	cands_free(v, n);
	return e;
}

static int responder(void *ctx, const struct bwe_frec_scope_req *q, struct bwe_frec_scope_ans *a)
{
	return scope_answer(ctx, q, time(NULL), a);
}

void scope_set_fleet(struct scope *s, struct fleet *f)
{
	s->d.fleet = f;
	fleet_scope_responder(f, responder, s);
}

struct scope_wait {
	const struct scope *s;
	struct json_object *answer; /* this site's, merged into */
	struct json_object *outer;  /* NULL, or what answer goes into (the report) */
	size_t max;		    /* hosts in the merged answer */
	scope_done_fn done;
	void *ctx;
	__u32 handle;
};

/* A host of another site's answer, in the shape of this site's hosts. */
static struct json_object *remote_host_json(const struct bwe_frec_scope_host *h, const char *site)
{
	struct json_object *o = json_object_new_object(), *arr = json_object_new_array();
	char a[BWE_ADDR_STRLEN];
	size_t k;

	bwe_addr_fmt(&h->host, a, sizeof(a));
	json_object_object_add(o, "site", json_object_new_string(site));
	json_object_object_add(o, "host", json_object_new_string(a));
	for (k = 0; k < h->npeers; k++) {
		struct json_object *p = json_object_new_object();

		bwe_addr_fmt(&h->peers[k].peer, a, sizeof(a));
		json_object_object_add(p, "peer", json_object_new_string(a));
		json_object_object_add(p, "feed", json_object_new_string(h->peers[k].feed));
		json_add_time(p, "last_seen", (time_t)h->peers[k].last_seen);
		json_object_object_add(p, "contacts", json_object_new_uint64(h->peers[k].contacts));
		json_object_array_add(arr, p);
	}
	json_object_object_add(o, "peers_in_common", arr);
	json_object_object_add(o, "peers_in_common_total",
			       json_object_new_uint64(h->peers_in_common));
	json_object_object_add(o, "signals_in_common", json_object_new_array());
	json_object_object_add(o, "shapes_in_common", json_object_new_array());
	json_add_time(o, "first_seen", (time_t)h->first_seen);
	json_add_time(o, "last_seen", (time_t)h->last_seen);
	json_object_object_add(o, "contained",
			       h->contained[0] ? json_object_new_string(h->contained) : NULL);
	return o;
}

static size_t arr_len(struct json_object *o, const char *k)
{
	struct json_object *v = json_object_object_get(o, k);

	return json_object_is_type(v, json_type_array) ? json_object_array_length(v) : 0;
}

/* A merged host's rank keys: peers in common (all of them), signals and shapes, last seen. */
static int merged_cmp(const void *pa, const void *pb)
{
	struct json_object *a = *(struct json_object *const *)pa;
	struct json_object *b = *(struct json_object *const *)pb;
	__u64 pa_n = json_object_get_uint64(json_object_object_get(a, "peers_in_common_total"));
	__u64 pb_n = json_object_get_uint64(json_object_object_get(b, "peers_in_common_total"));
	size_t sa = arr_len(a, "signals_in_common") + arr_len(a, "shapes_in_common");
	size_t sb = arr_len(b, "signals_in_common") + arr_len(b, "shapes_in_common");
	const char *la = json_object_get_string(json_object_object_get(a, "last_seen"));
	const char *lb = json_object_get_string(json_object_object_get(b, "last_seen"));
	int c;

	if (pa_n != pb_n)
		return pa_n > pb_n ? -1 : 1;
	if (sa != sb)
		return sa > sb ? -1 : 1;
	c = strcmp(lb ? lb : "", la ? la : ""); /* ISO 8601 in UTC: the text orders */
	return c ? c
		 : strcmp(json_object_get_string(json_object_object_get(a, "host")),
			  json_object_get_string(json_object_object_get(b, "host")));
}

static void merge(struct json_object *answer, const char *here, const struct fleet_scope_result *r,
		  size_t max)
{
	struct json_object *hosts = json_object_object_get(answer, "hosts"), *fl, *arr, *x;
	__u64 more = json_object_get_uint64(json_object_object_get(answer, "more"));
	size_t i, k, n = json_object_array_length(hosts);

	/* this site's hosts: the site, and the count the ranking reads */
	for (i = 0; i < n; i++) {
		struct json_object *h = json_object_array_get_idx(hosts, i);

		json_object_object_add(h, "site", json_object_new_string(here));
		json_object_object_add(h, "peers_in_common_total",
				       json_object_new_uint64(arr_len(h, "peers_in_common")));
	}
	for (i = 0; i < r->nans; i++) {
		for (k = 0; k < r->ans[i].nhosts; k++)
			json_object_array_add(hosts, remote_host_json(&r->ans[i].hosts[k],
								      r->ans[i].site));
		more += r->ans[i].more;
	}
	json_object_array_sort(hosts, merged_cmp);
	n = json_object_array_length(hosts);
	if (n > max) {
		more += n - max;
		json_object_array_del_idx(hosts, (int)max, (int)(n - max));
		n = max;
	}
	for (i = 0; i < n; i++)
		json_object_object_add(json_object_array_get_idx(hosts, i), "rank",
				       json_object_new_uint64(i + 1));
	json_object_object_add(answer, "more", json_object_new_uint64(more));

	fl = json_object_new_object();
	json_object_object_add(fl, "asked", json_object_new_boolean(1));
	json_object_object_add(fl, "site", json_object_new_string(here));
	json_object_object_add(fl, "sites_asked", json_object_new_uint64(r->asked));
	arr = json_object_new_array();
	for (i = 0; i < r->nans; i++) {
		x = json_object_new_object();
		json_object_object_add(x, "site", json_object_new_string(r->ans[i].site));
		json_object_object_add(x, "hosts", json_object_new_uint64(r->ans[i].nhosts));
		json_object_object_add(x, "more", json_object_new_uint64(r->ans[i].more));
		json_object_object_add(x, "window_covered",
				       json_object_new_boolean(r->ans[i].window_covered));
		json_object_array_add(arr, x);
	}
	json_object_object_add(fl, "answered", arr);
	arr = json_object_new_array();
	for (i = 0; i < r->nmiss; i++) {
		x = json_object_new_object();
		json_object_object_add(x, "site", json_object_new_string(r->miss[i].site));
		json_object_object_add(x, "reason", json_object_new_string(r->miss[i].why));
		json_object_array_add(arr, x);
	}
	json_object_object_add(fl, "not_answered", arr);
	json_object_object_add(fl, "partial", json_object_new_boolean(r->nmiss > 0));
	json_object_object_add(json_object_object_get(answer, "coverage"), "fleet", fl);
	json_object_object_add(json_object_object_get(answer, "coverage"), "site",
			       json_object_new_string(r->nmiss ? "the fleet, in part"
							       : "the fleet"));
}

void scope_merge(struct json_object *answer, const char *here, const struct fleet_scope_result *r)
{
	merge(answer, here, r, SCOPE_RESULTS_MAX);
}

/* Why the answer is this site's alone. */
static void local_only(struct json_object *answer, const char *why)
{
	struct json_object *fl = json_object_new_object();

	json_object_object_add(fl, "asked", json_object_new_boolean(0));
	json_object_object_add(fl, "reason", json_object_new_string(why));
	json_object_object_add(json_object_object_get(answer, "coverage"), "fleet", fl);
}

/* answer into outer under key (the report's section), or answer alone; takes answer. */
static struct json_object *deliver(struct json_object *answer, struct json_object *outer)
{
	if (!outer)
		return answer;
	json_object_object_add(outer, SCOPE_REPORT_KEY, answer);
	return outer;
}

static void on_answers(void *ctx, const struct fleet_scope_result *r)
{
	struct scope_wait *w = ctx;

	merge(w->answer, fleet_site(w->s->d.fleet) ?: "?", r, w->max);
	w->done(w->ctx, deliver(w->answer, w->outer));
	free(w);
}

/*
 * Ask the fleet about a (internal: its listed peers since since_s) and
 * merge into o: o (in outer when not NULL) at once, or NULL while waiting.
 */
static struct json_object *ask(const struct scope *s, const struct bwe_addr *a, __u64 since_s,
			       bool internal, const char *local, time_t now, struct json_object *o,
			       struct json_object *outer, size_t max, scope_done_fn done, void *ctx,
			       struct scope_wait **wait)
{
	const struct sc_host *th = internal ? host_find(s, a) : NULL;
	struct bwe_frec_scope_req *q;
	struct bwe_addr set[SCOPE_PEERS_PER_HOST];
	struct peerset ps;
	struct scope_wait *w;
	char why[96];
	int e;

	*wait = NULL;
	if (!fleet_enabled(s->d.fleet) || local) {
		local_only(o, fleet_enabled(s->d.fleet) ? local : "no fleet");
		return deliver(o, outer);
	}
	q = calloc(1, sizeof(*q));
	w = calloc(1, sizeof(*w));
	if (!q || !w) {
		free(q);
		e = -ENOMEM;
		goto fail;
	}
	q->target = *a;
	q->since_s = (__s64)since_s;
	ps = target_set(th, a, internal, now - (time_t)since_s, set);
	if (internal) { /* the others look for this host's peers */
		memcpy(q->peers, ps.v, ps.n * sizeof(*ps.v));
		q->npeers = ps.n;
	}
	*w = (struct scope_wait){ .s = s,
				  .answer = o,
				  .outer = outer,
				  .max = max,
				  .done = done,
				  .ctx = ctx };
	e = fleet_scope_ask(s->d.fleet, q, on_answers, w, &w->handle);
	free(q);
	if (!e) {
		*wait = w;
		return NULL;
	}
fail:
	free(w);
	snprintf(why, sizeof(why), "the fleet was not asked: %s",
		 e == -ENOTCONN ? "detached from etcd"
		 : e == -EBUSY	? "too many questions waiting"
				: strerror(-e));
	local_only(o, why);
	return deliver(o, outer);
}

struct json_object *scope_ask(const struct scope *s, const struct bwe_addr *a, __u64 since_s,
			      const char *local, time_t now, scope_done_fn done, void *ctx,
			      struct scope_wait **wait)
{
	return ask(s, a, since_s, !!(enf_classes(s->d.enf, a) & BWE_NC_INTERNAL), local, now,
		   scope_query(s, a, since_s, now), NULL, SCOPE_RESULTS_MAX, done, ctx, wait);
}

struct json_object *scope_report_ask(const struct scope *s, const struct bwe_addr *a,
				     const char *local, time_t now, struct json_object *rep,
				     scope_done_fn done, void *ctx, struct scope_wait **wait)
{
	return ask(s, a, SCOPE_SINCE_S, true, local, now, scope_report_section(s, a, now), rep,
		   SCOPE_REPORT_MAX, done, ctx, wait);
}

void scope_cancel(const struct scope *s, struct scope_wait *w)
{
	if (!w)
		return;
	fleet_scope_cancel(s->d.fleet, w->handle);
	json_object_put(w->answer);
	json_object_put(w->outer);
	free(w);
}
