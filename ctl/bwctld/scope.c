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

static const struct sc_contact *contact_find(const struct sc_host *h, const struct bwe_addr *peer,
					     time_t cutoff)
{
	unsigned int k;

	for (k = 0; h && k < h->n; k++)
		if (h->c[k].last >= cutoff && !memcmp(&h->c[k].peer, peer, sizeof(*peer)))
			return &h->c[k];
	return NULL;
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
	unsigned int peers; /* listed peers in common */
	__u32 sigs, shapes; /* in common */
	time_t first, last;
	struct json_object *common; /* the peers in common */
};

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

static struct json_object *cand_json(const struct scope *s, struct cand *c, size_t rank)
{
	struct json_object *o = json_object_new_object();
	const struct st_entry *q = st_match(s->d.st, ST_QUARANTINE, &c->addr);
	const struct st_entry *t = st_match(s->d.st, ST_THROTTLE, &c->addr);
	char a[BWE_ADDR_STRLEN];

	bwe_addr_fmt(&c->addr, a, sizeof(a));
	json_object_object_add(o, "rank", json_object_new_uint64(rank));
	json_object_object_add(o, "host", json_object_new_string(a));
	json_object_object_add(o, "peers_in_common",
			       c->common ? c->common : json_object_new_array());
	c->common = NULL;
	json_object_object_add(o, "signals_in_common", bits_json(c->sigs, false));
	json_object_object_add(o, "shapes_in_common", bits_json(c->shapes, true));
	json_add_time(o, "first_seen", c->first);
	json_add_time(o, "last_seen", c->last);
	json_object_object_add(o, "contained",
			       q   ? json_object_new_string("quarantine")
			       : t ? json_object_new_string("throttle")
				   : NULL);
	return o;
}

/* The other hosts; peers_only: only those with a listed peer in common. */
static struct json_object *others(const struct scope *s, const struct bwe_addr *target,
				  const struct sc_host *th, bool internal, time_t cutoff,
				  bool peers_only, size_t max, size_t *more)
{
	struct detector_seen sn;
	struct cand *v = NULL, *c;
	struct bwe_amap m;
	struct json_object *arr = json_object_new_array();
	const struct bwe_addr *ya;
	__u32 tsigs = 0, tshapes = 0;
	time_t tlast = 0;
	size_t n = 0, i;
	unsigned int k;

	bwe_amap_init(&m);
	if (internal && detector_seen(s->d.detector, target, &sn))
		seen_bits(&sn, cutoff, &tsigs, &tshapes, &tlast);
	/* listed peers in common: the target's, or the address itself */
	for (i = 0; i < s->n; i++) {
		const struct sc_host *x = s->v[i];

		if (!memcmp(&x->host, target, sizeof(*target)))
			continue;
		for (k = 0; k < x->n; k++) {
			const struct sc_contact *xc = &x->c[k];

			if (xc->last < cutoff)
				continue;
			if (internal ? !contact_find(th, &xc->peer, cutoff)
				     : memcmp(&xc->peer, target, sizeof(*target)))
				continue;
			if (!(c = cand_get(&v, &n, &m, &x->host)))
				goto out;
			if (!c->common)
				c->common = json_object_new_array();
			json_object_array_add(c->common, contact_json(xc));
			c->peers++;
			c->first = !c->first || xc->first < c->first ? xc->first : c->first;
			c->last = xc->last > c->last ? xc->last : c->last;
		}
	}
	/* the same behaviour: signals fired and shapes matched in the window */
	for (i = 0;
	     !peers_only && (tsigs || tshapes) && (ya = detector_host_at(s->d.detector, i, &sn));
	     i++) {
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
	for (i = 0; i < n && i < max; i++)
		json_object_array_add(arr, cand_json(s, &v[i], i + 1));
out:
	*more = n > max ? n - max : 0;
	for (i = 0; i < n; i++)
		json_object_put(v[i].common);
	free(v);
	bwe_amap_free(&m);
	return arr;
}

struct json_object *scope_query(const struct scope *s, const struct bwe_addr *a, __u64 since_s,
				time_t now)
{
	bool internal = !!(enf_classes(s->d.enf, a) & BWE_NC_INTERNAL);
	const struct sc_host *th = internal ? host_find(s, a) : NULL;
	time_t cutoff = now - (time_t)since_s;
	struct json_object *o = json_object_new_object(), *peers = json_object_new_array(), *x;
	struct detector_seen sn;
	__u32 sigs = 0, shapes = 0;
	time_t last = 0, complete;
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
			       others(s, a, th, internal, cutoff, false, SCOPE_RESULTS_MAX, &more));
	json_object_object_add(o, "more", json_object_new_uint64(more));

	/* how far back the answer reaches */
	for (i = 0; i < s->n; i++)
		contacts += s->v[i]->n;
	complete = s->evicted_last > s->started ? s->evicted_last : s->started;
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
	struct json_object *o = json_object_new_object();
	size_t more = 0;

	json_add_time(o, "since", cutoff);
	json_object_object_add(o, "hosts",
			       others(s, a, th, true, cutoff, true, SCOPE_REPORT_MAX, &more));
	json_object_object_add(o, "more", json_object_new_uint64(more));
	json_object_object_add(o, "detail",
			       json_object_new_string(
				       "internal hosts that contacted the same listed peers in the "
				       "last day; bwctl scope HOST shows all, and hosts with the "
				       "same signals"));
	return o;
}
