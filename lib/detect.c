// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * detect.c - baselines, HyperLogLog, per-host signals, attack shapes and
 * response rules; the contract and the reasoning are in detect.h, the
 * policy keys in bwenforce.yaml(5).
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <xxhash.h>

#include "bwe_util.h"
#include "detect.h"
#include "units.h"

#define NSEC_PER_SEC	1e9
#define SECS_PER_WEEK	(7 * BWE_SECS_PER_DAY)
#define EPOCH_WEEKDAY	3 /* 1970-01-01 was a Thursday; Monday = 0 */
/* HyperLogLog constants for m = 32 (Flajolet et al. 2007). */
#define HLL_ALPHA_32	0.697
#define HLL_SMALL_RANGE 2.5	     /* times m: below, linear counting */
#define HLL_HASH_SPACE	4294967296.0 /* 2^32 */
#define HLL_LARGE_RANGE (HLL_HASH_SPACE / 30.0)
#define FNV32_OFFSET	0x811c9dc5U
#define FNV32_PRIME	0x01000193U
#define NO_RX_BYTES	1.0 /* divisor when nothing came in: ratio = tx */

static const char *const signal_names[BWE_SIG_MAX] = {
	[BWE_SIG_SPIKE] = "spike",
	[BWE_SIG_BLOCKLIST] = "blocklist",
	[BWE_SIG_NONSTD_PORTS] = "nonstd_ports",
	[BWE_SIG_UPLOAD_RATIO] = "upload_ratio",
	[BWE_SIG_FANOUT] = "fanout",
	[BWE_SIG_NEW_HOST] = "new_host",
	[BWE_SIG_PROXYWARE] = "proxyware",
	[BWE_SIG_RELAY] = "relay",
	[BWE_SIG_BEACON] = "beacon",
	[BWE_SIG_FLOOD] = "flood",
};

static const char *const signal_units[BWE_SIG_MAX] = {
	[BWE_SIG_SPIKE] = "z",
	[BWE_SIG_BLOCKLIST] = "hits",
	[BWE_SIG_NONSTD_PORTS] = "share",
	[BWE_SIG_UPLOAD_RATIO] = "ratio",
	[BWE_SIG_FANOUT] = "distinct",
	[BWE_SIG_NEW_HOST] = "bytes",
	[BWE_SIG_PROXYWARE] = "hits",
	[BWE_SIG_RELAY] = "share",
	[BWE_SIG_BEACON] = "jitter",
	[BWE_SIG_FLOOD] = "pps",
};

static const char *const response_names[BWE_RESP_MAX] = {
	[BWE_RESP_NONE] = "none",
	[BWE_RESP_ALERT] = "alert",
	[BWE_RESP_THROTTLE] = "throttle",
	[BWE_RESP_QUARANTINE] = "quarantine",
};

static const char *const shape_names[BWE_SHAPE_MAX] = {
	[BWE_SHAPE_PROXYJACKING] = "proxyjacking",
	[BWE_SHAPE_BOTNET] = "botnet",
};

const char *bwe_signal_name(enum bwe_signal_id s)
{
	return (unsigned int)s < BWE_SIG_MAX ? signal_names[s] : "?";
}

const char *bwe_signal_unit(enum bwe_signal_id s)
{
	return (unsigned int)s < BWE_SIG_MAX ? signal_units[s] : "?";
}

enum bwe_signal_id bwe_signal_from_name(const char *name)
{
	unsigned int i;

	for (i = 0; name && i < BWE_SIG_MAX; i++)
		if (!strcmp(name, signal_names[i]))
			return (enum bwe_signal_id)i;
	return BWE_SIG_MAX;
}

const char *bwe_response_name(enum bwe_response r)
{
	return (unsigned int)r < BWE_RESP_MAX ? response_names[r] : "?";
}

const char *bwe_shape_name(enum bwe_shape s)
{
	return (unsigned int)s < BWE_SHAPE_MAX ? shape_names[s] : "?";
}

/* ---- statistics ------------------------------------------------------------ */

double bwe_alpha(double dt_s, double half_life_s)
{
	if (!(half_life_s > 0) || !(dt_s > 0))
		return 1.0;
	return 1.0 - exp2(-dt_s / half_life_s);
}

double bwe_ewma_sd(const struct bwe_ewma *e, double share, double abs_floor)
{
	return fmax(fmax(sqrt(fmax(e->var, 0.0)), share * fabs(e->mean)), abs_floor);
}

double bwe_ewma_z(const struct bwe_ewma *e, double x, double share, double abs_floor)
{
	double sd;

	if (!e->n)
		return 0.0;
	sd = bwe_ewma_sd(e, share, abs_floor);
	return sd > 0 ? (x - e->mean) / sd : 0.0;
}

/*
 * West's update with a 1/n warm-up; a sample outside the robust band moves
 * the mean by the band's edge and leaves the variance alone (detect.h).
 */
void bwe_ewma_update(struct bwe_ewma *e, double x, double alpha_mean, double alpha_var,
		     double share, double abs_floor)
{
	double am, av, d, band;

	e->n++;
	if (e->n == 1) {
		e->mean = x;
		e->var = 0.0;
		return;
	}
	am = fmax(alpha_mean, 1.0 / (double)e->n);
	av = fmax(alpha_var, 1.0 / (double)e->n);
	d = x - e->mean;
	band = BWE_DETECT_CLIP_Z * bwe_ewma_sd(e, share, abs_floor);
	if (e->n > BWE_DETECT_ROBUST_AFTER && fabs(d) > band) {
		e->mean += am * copysign(band, d);
		return;
	}
	e->mean += am * d;
	e->var = (1.0 - av) * (e->var + av * d * d);
}

/*
 * The bucket of an hour of the week describes the whole hour, outliers
 * included (a weekly backup is what it must learn): plain West update.
 */
static void how_update(struct bwe_how_bucket *b, double x, double alpha)
{
	double a, d;

	b->n++;
	if (b->n == 1) {
		b->mean = (float)x;
		b->var = 0.0f;
		return;
	}
	a = fmax(alpha, 1.0 / (double)b->n);
	d = x - b->mean;
	b->mean = (float)(b->mean + a * d);
	b->var = (float)((1.0 - a) * (b->var + a * d * d));
}

unsigned int bwe_hour_of_week(__s64 unix_time)
{
	__s64 s = unix_time % (__s64)SECS_PER_WEEK;

	if (s < 0)
		s += (__s64)SECS_PER_WEEK;
	s += EPOCH_WEEKDAY * (__s64)BWE_SECS_PER_DAY;
	return (unsigned int)((s / (__s64)BWE_SECS_PER_HOUR) % BWE_HOW_BUCKETS);
}

double bwe_hll_estimate(const __u8 regs[BWE_HLL_REGS])
{
	const double m = BWE_HLL_REGS;
	double sum = 0.0, e;
	unsigned int i, zeros = 0;

	for (i = 0; i < BWE_HLL_REGS; i++) {
		sum += ldexp(1.0, -(int)regs[i]);
		zeros += !regs[i];
	}
	if (zeros == BWE_HLL_REGS)
		return 0.0;
	e = HLL_ALPHA_32 * m * m / sum;
	if (e <= HLL_SMALL_RANGE * m && zeros)
		return m * log(m / zeros);
	if (e > HLL_LARGE_RANGE)
		return -HLL_HASH_SPACE * log1p(-fmin(e / HLL_HASH_SPACE, 1.0 - 1e-12));
	return e;
}

/* ---- heavy hitters (relay signature) ------------------------------------------ */

static int hh_find(const struct bwe_hh *hh, __u32 peer)
{
	int i;

	for (i = 0; i < BWE_HH_SLOTS; i++)
		if (hh->bytes[i] && hh->peer[i] == peer)
			return i;
	return -1;
}

struct hh_cand {
	__u32 peer;
	__u64 bytes, err;
};

static int hh_cand_cmp(const void *a, const void *b)
{
	const struct hh_cand *x = a, *y = b;

	return x->bytes < y->bytes ? 1 : x->bytes > y->bytes ? -1 : 0;
}

void bwe_hh_merge(struct bwe_hh *a, const struct bwe_hh *b)
{
	struct hh_cand c[2 * BWE_HH_SLOTS];
	__u64 fa = bwe_hh_floor(a), fb = bwe_hh_floor(b);
	size_t n = 0, i;
	int k;

	for (i = 0; i < BWE_HH_SLOTS; i++) {
		if (!a->bytes[i])
			continue;
		k = hh_find(b, a->peer[i]);
		c[n++] = (struct hh_cand){ a->peer[i], a->bytes[i] + (k >= 0 ? b->bytes[k] : fb),
					   a->err[i] + (k >= 0 ? b->err[k] : fb) };
	}
	for (i = 0; i < BWE_HH_SLOTS; i++)
		if (b->bytes[i] && hh_find(a, b->peer[i]) < 0)
			c[n++] = (struct hh_cand){ b->peer[i], b->bytes[i] + fa, b->err[i] + fa };
	qsort(c, n, sizeof(c[0]), hh_cand_cmp);
	a->total += b->total;
	for (i = 0; i < BWE_HH_SLOTS; i++) {
		a->peer[i] = i < n ? c[i].peer : 0;
		a->bytes[i] = i < n ? c[i].bytes : 0;
		a->err[i] = i < n ? c[i].err : 0;
	}
}

void bwe_hh_bounds(const struct bwe_hh *hh, __u32 peer, __u64 *lo, __u64 *hi)
{
	int k = hh_find(hh, peer);

	*lo = k >= 0 ? hh->bytes[k] - hh->err[k] : 0;
	*hi = k >= 0 ? hh->bytes[k] : bwe_hh_floor(hh);
}

unsigned int bwe_hh_top(const struct bwe_hh *hh, unsigned int k, __u64 *lo, __u64 *hi,
			__u32 peers[])
{
	struct hh_cand by_lo[BWE_HH_SLOTS], by_hi[BWE_HH_SLOTS];
	unsigned int i, n = 0;

	for (i = 0; i < BWE_HH_SLOTS; i++) {
		by_lo[i] = (struct hh_cand){ hh->peer[i], hh->bytes[i] - hh->err[i], 0 };
		by_hi[i] = (struct hh_cand){ hh->peer[i], hh->bytes[i], 0 };
	}
	qsort(by_lo, BWE_HH_SLOTS, sizeof(by_lo[0]), hh_cand_cmp);
	qsort(by_hi, BWE_HH_SLOTS, sizeof(by_hi[0]), hh_cand_cmp);
	*lo = *hi = 0;
	for (i = 0; i < k && i < BWE_HH_SLOTS; i++) {
		*lo += by_lo[i].bytes;
		*hi += by_hi[i].bytes;
		if (by_lo[i].bytes)
			peers[n++] = by_lo[i].peer;
	}
	return n;
}

/*
 * What the concentrated peers send back, as a share of what they get: in
 * the other direction the counts of those the other summary tracks (each
 * at least the peer's bytes); for one it does not, what it got but never
 * more than the summary's floor (it sent at most that much: merging the
 * CPUs' summaries can drop a call peer from the other side's, and counting
 * it 0 made video calls with 3-5 peers relays), over the lower bounds of
 * their bytes in this direction. A conversation (a call, an SFU,
 * a peer-to-peer exchange) sends about as much back as it gets: its peer
 * is heavy both ways, tracked, and its count never understates it, however
 * much other traffic churns the other summary (which does take from its
 * lower bound). A relay's super-proxy sends little back, and the sites
 * it asks got only requests: capping an untracked peer's answer at what
 * it got keeps them small. The larger of the top peers' share together
 * and the heaviest one's alone.
 *
 * Only the peers that carry the concentration (relay_carriers()) are
 * weighed: a
 * relay with one super-proxy fills the other top slots with sites it sent
 * a request and some acknowledgements to, whose answers (a page, several
 * times what they got) made the share 1 or more and hid the relay for as
 * long as such a site stayed in the summary (the harness's relay443 and
 * ramp with one super-proxy, first detected after 5-20 min). Peers the
 * concentration does not rest on say nothing about the relay.
 */
static double relay_reciprocity(const struct bwe_hh *conc, const struct bwe_hh *other,
				const __u32 *peers, unsigned int n)
{
	__u64 fwd = 0, back = 0, lo, hi;
	double top1 = 0.0;
	unsigned int i;
	int k;

	if (!n)
		return 1.0;
	for (i = 0; i < n; i++) {
		bwe_hh_bounds(conc, peers[i], &lo, &hi);
		fwd += lo;
		k = hh_find(other, peers[i]);
		if (k >= 0)
			back += other->bytes[k];
		else /* sent back at most the floor: call it an answer up to what it got */
			back += lo < bwe_hh_floor(other) ? lo : bwe_hh_floor(other);
		if (!i)
			top1 = lo ? (double)back / (double)lo : 1.0;
	}
	return fmax(fwd ? (double)back / (double)fwd : 1.0, top1);
}

/* How many of the top peers carry need bytes: the fewest whose lower bounds reach it, else n. */
static unsigned int relay_carriers(const struct bwe_hh *conc, const __u32 *peers, unsigned int n,
				   double need)
{
	__u64 sum = 0, lo, hi;
	unsigned int i;

	for (i = 0; i < n && (!i || (double)sum < need); i++) {
		bwe_hh_bounds(conc, peers[i], &lo, &hi);
		sum += lo;
	}
	return i;
}

/*
 * The other side's heaviest peer besides the carriers, by lower bound, as a
 * share of that side's bytes: a relay's other side is spread in bytes too
 * (the sites), while an upload to one provider beside a stream from one
 * CDN has it on the CDN (before the overlap was weighed on the carriers
 * alone, the CDN's acknowledgements among the top peers hid that upload).
 */
static double relay_other_top(const struct bwe_hh *other, const __u32 *peers, unsigned int n)
{
	__u64 best = 0;
	unsigned int i, j;

	for (i = 0; i < BWE_HH_SLOTS; i++) {
		for (j = 0; j < n && peers[j] != other->peer[i]; j++)
			;
		if (other->bytes[i] && j == n && other->bytes[i] - other->err[i] > best)
			best = other->bytes[i] - other->err[i];
	}
	return other->total ? (double)best / (double)other->total : 0.0;
}

/* One side as the concentrated one, the other as the spread one. */
static void relay_side(const struct bwe_hh *conc, const struct bwe_hh *other,
		       const __u8 other_hll[BWE_HLL_REGS], const struct bwe_policy_relay *p,
		       int dir, struct bwe_relay_eval *e)
{
	double nc = (double)conc->total, no = (double)other->total;
	__u32 peers[BWE_HH_SLOTS];
	unsigned int n;
	__u64 lo, hi;

	memset(e, 0, sizeof(*e));
	e->dir = dir;
	n = bwe_hh_top(conc, p->top_peers, &lo, &hi, peers);
	n = relay_carriers(conc, peers, n, p->concentration * nc);
	e->concentration = nc > 0 ? (double)lo / nc : 0.0;
	e->concentration_hi = nc > 0 ? fmin((double)hi / nc, 1.0) : 0.0;
	e->spread_peers = bwe_hll_estimate(other_hll);
	e->balance = fmax(nc, no) / fmax(fmin(nc, no), NO_RX_BYTES);
	e->overlap = relay_reciprocity(conc, other, peers, n);
	e->other_top = relay_other_top(other, peers, n);
	e->fired = nc >= (double)p->min_bytes && no >= (double)p->min_bytes &&
		   e->concentration >= p->concentration && e->spread_peers >= p->spread_peers &&
		   e->balance <= p->balance && e->overlap < p->overlap &&
		   e->other_top < BWE_RELAY_OTHER_MAX;
}

void bwe_relay_evaluate(const struct bwe_host_stats *c, const struct bwe_policy_relay *p,
			struct bwe_relay_eval *out)
{
	struct bwe_relay_eval o, i;

	/* outbound concentrated: a residential proxy hands the sites' bytes to its
	 * super-proxies; inbound concentrated: the mirror image */
	relay_side(&c->hh_tx, &c->hh_rx, c->hll_src, p, BWE_DIR_OUT, &o);
	relay_side(&c->hh_rx, &c->hh_tx, c->hll_dst, p, BWE_DIR_IN, &i);
	*out = o.fired || (!i.fired && o.concentration >= i.concentration) ? o : i;
	out->tx_bytes = (double)c->hh_tx.total;
	out->rx_bytes = (double)c->hh_rx.total;
	if (!out->fired && !out->concentration)
		out->dir = 0;
}

/* ---- beaconing ------------------------------------------------------------------- */

static float median_of(float *v, unsigned int n)
{
	unsigned int i, j;

	for (i = 1; i < n; i++) { /* insertion sort: n <= BWE_BEACON_HIST */
		float x = v[i];

		for (j = i; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0f;
}

/*
 * Jitter: the relative deviation from the median that three quarters of
 * the intervals stay within (their 3rd quartile). A quarter may be
 * anything: a lost beacon (a double interval) or an extra contact does not
 * hide the period, while half of a random series (the median absolute
 * deviation) would often look regular.
 */
bool bwe_beacon_pair_stats(const struct bwe_beacon_pair *p, double *period_s, double *jitter)
{
	float v[BWE_BEACON_HIST], med;
	unsigned int i, n = p->n_iv < BWE_BEACON_HIST ? p->n_iv : BWE_BEACON_HIST;

	if (n < 2)
		return false;
	memcpy(v, p->iv, n * sizeof(v[0]));
	med = median_of(v, n);
	if (!(med > 0))
		return false;
	for (i = 0; i < n; i++)
		v[i] = fabsf(p->iv[i] - med) / med;
	median_of(v, n); /* sorts */
	*period_s = med;
	*jitter = v[(BWE_BEACON_QUARTILE_NUM * n + BWE_BEACON_QUARTILE_DEN - 1) /
			    BWE_BEACON_QUARTILE_DEN -
		    1];
	return true;
}

static bool port_ignored(const struct bwe_policy_beacon *p, __u16 port)
{
	size_t i;

	for (i = 0; i < p->n_ignore_ports && i < BWE_BEACON_IGNORE_MAX; i++)
		if (p->ignore_ports[i] == port)
			return true;
	return false;
}

static bool pair_is(const struct bwe_beacon_pair *p, const struct bwe_addr *peer, __u16 dport,
		    __u8 proto)
{
	return p->used && p->dport == dport && p->proto == proto &&
	       !memcmp(&p->peer, peer, sizeof(*peer));
}

/* How much a pair deserves its slot: stopped < young/irregular < regular. */
static double pair_keep(const struct bwe_beacon_pair *p, double t)
{
	double period, jitter;

	if (!p->used)
		return -2.0;
	if (!bwe_beacon_pair_stats(p, &period, &jitter))
		return 0.5;
	if (t - p->last_s > BWE_BEACON_STALE * period)
		return -1.0;
	return p->n_iv >= BWE_BEACON_SETTLE ? 1.0 - fmin(jitter, 1.0) : 0.5;
}

static void pair_interval(struct bwe_beacon_pair *p, double gap, double t)
{
	p->iv[p->iv_head] = (float)gap;
	p->iv_head = (p->iv_head + 1) % BWE_BEACON_HIST;
	if (p->n_iv < BWE_BEACON_HIST)
		p->n_iv++;
	p->contacts++;
	p->last_s = t;
}

int bwe_detect_contact(struct bwe_detect_host *h, const struct bwe_addr *peer, __u16 dport,
		       __u8 proto, double t_s, const struct bwe_policy *pol)
{
	const double burst = (double)pol->beacon.burst_ms / 1000.0;
	struct bwe_beacon_table *b;
	struct bwe_beacon_pair *v;
	__u32 hash, slot;
	size_t i;

	if (!h || !peer || !pol || !isfinite(t_s))
		return -EINVAL;
	if (port_ignored(&pol->beacon, dport))
		return 0;
	if (!h->beacon) {
		h->beacon = calloc(1, sizeof(*h->beacon));
		if (!h->beacon)
			return -ENOMEM;
	}
	b = h->beacon;
	for (i = 0; i < b->n_pair; i++) {
		v = &b->pair[i];
		if (!pair_is(v, peer, dport, proto))
			continue;
		if (t_s - v->last_s >= burst)
			pair_interval(v, t_s - v->last_s, t_s);
		return 0;
	}
	/* not followed: its second burst earns it a slot */
	hash = bwe_mix32(bwe_hash_addr(peer) ^ bwe_mix32((__u32)dport << 8 | proto)) | 1;
	slot = hash % BWE_BEACON_SEEN;
	if (b->seen_hash[slot] != hash) {
		b->seen_hash[slot] = hash;
		b->seen_at[slot] = t_s;
		return 0;
	}
	if (t_s - b->seen_at[slot] < burst)
		return 0;
	if (b->n_pair && b->pair[b->n_pair - 1].used && b->n_pair < BWE_BEACON_PAIRS) {
		/* every slot taken: where the full table has a free one, grow */
		__u32 n = 2 * b->n_pair < BWE_BEACON_PAIRS ? 2 * b->n_pair : BWE_BEACON_PAIRS;
		struct bwe_beacon_pair *t = reallocarray(b->pair, n, sizeof(*t));

		if (!t)
			return -ENOMEM;
		memset(t + b->n_pair, 0, (n - b->n_pair) * sizeof(*t));
		b->pair = t;
		b->n_pair = n;
	} else if (!b->n_pair) {
		b->pair = calloc(2, sizeof(*b->pair));
		if (!b->pair)
			return -ENOMEM;
		b->n_pair = 2;
	}
	v = &b->pair[0];
	for (i = 1; i < b->n_pair; i++) {
		const struct bwe_beacon_pair *x = &b->pair[i];
		double kx = pair_keep(x, t_s), kv = pair_keep(v, t_s);

		if (kx < kv || (kx == kv && x->last_s < v->last_s))
			v = &b->pair[i];
	}
	memset(v, 0, sizeof(*v));
	v->peer = *peer;
	v->dport = dport;
	v->proto = proto;
	v->used = 1;
	v->contacts = 1;
	pair_interval(v, t_s - b->seen_at[slot], t_s);
	b->seen_hash[slot] = 0;
	return 0;
}

/* ---- policy ------------------------------------------------------------------ */

struct default_rule {
	const char *name;
	__u32 signals, min_signals;
	enum bwe_response action;
	__u64 rate, ttl_s, cooldown_s;
	__u64 escalation_s[BWE_ESCALATION_MAX];
	size_t n_escalation;
};

#define SIG(s) (1U << (s))

/*
 * No single weak signal acts. spike and upload_ratio are two views of one
 * fact (a large upload): together they throttle, they never quarantine
 * together. A quarantine needs two signals of which at most one is a
 * volume signal (spike; upload_ratio is not in the list). The behaviour
 * signals (relay, beacon, flood) alert alone.
 */
static const struct default_rule default_rules[] = {
	{ "upload-throttle",
	  SIG(BWE_SIG_SPIKE) | SIG(BWE_SIG_UPLOAD_RATIO),
	  2,
	  BWE_RESP_THROTTLE,
	  5000000 / BWE_BITS_PER_BYTE,
	  30 * BWE_SECS_PER_MIN,
	  10 * BWE_SECS_PER_MIN,
	  { 30 * BWE_SECS_PER_MIN, 2 * BWE_SECS_PER_HOUR, BWE_SECS_PER_DAY },
	  3 },
	{ "corroborated-quarantine",
	  SIG(BWE_SIG_SPIKE) | SIG(BWE_SIG_BLOCKLIST) | SIG(BWE_SIG_FANOUT) |
		  SIG(BWE_SIG_NONSTD_PORTS) | SIG(BWE_SIG_PROXYWARE) | SIG(BWE_SIG_RELAY) |
		  SIG(BWE_SIG_BEACON) | SIG(BWE_SIG_FLOOD),
	  2,
	  BWE_RESP_QUARANTINE,
	  0,
	  BWE_SECS_PER_HOUR,
	  30 * BWE_SECS_PER_MIN,
	  { BWE_SECS_PER_HOUR, 6 * BWE_SECS_PER_HOUR, BWE_SECS_PER_DAY },
	  3 },
	{ "blocklist-alert",
	  SIG(BWE_SIG_BLOCKLIST),
	  1,
	  BWE_RESP_ALERT,
	  0,
	  0,
	  BWE_RULE_COOLDOWN_S,
	  { 0 },
	  0 },
	{ "proxyware-alert",
	  SIG(BWE_SIG_PROXYWARE),
	  1,
	  BWE_RESP_ALERT,
	  0,
	  0,
	  BWE_RULE_COOLDOWN_S,
	  { 0 },
	  0 },
	{ "behaviour-alert",
	  SIG(BWE_SIG_RELAY) | SIG(BWE_SIG_BEACON) | SIG(BWE_SIG_FLOOD),
	  1,
	  BWE_RESP_ALERT,
	  0,
	  0,
	  BWE_RULE_COOLDOWN_S,
	  { 0 },
	  0 },
};
_Static_assert(ARRAY_SIZE(default_rules) <= BWE_POLICY_RULES_MAX, "default rules fit");

void bwe_policy_default(struct bwe_policy *p)
{
	static const __u64 windows[] = BWE_POLICY_WINDOWS;
	size_t i;

	_Static_assert(ARRAY_SIZE(windows) <= BWE_POLICY_WINDOWS_MAX, "default windows fit");
	memset(p, 0, sizeof(*p));
	p->monitor_only = 0;
	p->interval_s = BWE_POLICY_INTERVAL_S;
	p->learning_s = BWE_POLICY_LEARNING_S;
	p->hour_of_week = 0;
	p->peer_sketches = 1;
	memcpy(p->windows_s, windows, sizeof(windows));
	p->n_windows = ARRAY_SIZE(windows);
	p->max_quarantines_per_hour = BWE_POLICY_MAX_QUARANTINES;
	p->max_hosts = BWE_POLICY_MAX_HOSTS;
	p->spike = (struct bwe_policy_spike){
		.window_s = BWE_SPIKE_WINDOW_S,
		.z = BWE_SPIKE_Z,
		.min_rate = BWE_SPIKE_MIN_RATE,
		.sustain = BWE_SPIKE_SUSTAIN,
		.min_sd_share = BWE_SPIKE_MIN_SD_SHARE,
		.min_sd_rate = BWE_SPIKE_MIN_SD_RATE,
	};
	p->blocklist = (struct bwe_policy_blocklist){
		.min_hits = BWE_BLOCKLIST_MIN_HITS,
		.window_s = BWE_BLOCKLIST_WINDOW_S,
	};
	p->nonstd_ports = (struct bwe_policy_nonstd){
		.share = BWE_NONSTD_SHARE,
		.min_bytes = BWE_NONSTD_MIN_BYTES,
		.window_s = BWE_NONSTD_WINDOW_S,
	};
	p->upload_ratio = (struct bwe_policy_upload){
		.ratio = BWE_UPLOAD_RATIO,
		.min_bytes = BWE_UPLOAD_MIN_BYTES,
		.window_s = BWE_UPLOAD_WINDOW_S,
	};
	p->fanout = (struct bwe_policy_fanout){
		.peers = BWE_FANOUT_PEERS,
		.ports = BWE_FANOUT_PORTS,
		.window_s = BWE_FANOUT_WINDOW_S,
	};
	p->new_host = (struct bwe_policy_new_host){
		.bytes = BWE_NEW_HOST_BYTES,
		.window_s = BWE_NEW_HOST_WINDOW_S,
	};
	p->proxyware = (struct bwe_policy_blocklist){
		.min_hits = BWE_BLOCKLIST_MIN_HITS,
		.window_s = BWE_BLOCKLIST_WINDOW_S,
	};
	p->relay = (struct bwe_policy_relay){
		.concentration = BWE_RELAY_CONCENTRATION,
		.top_peers = BWE_RELAY_TOP_PEERS,
		.spread_peers = BWE_RELAY_SPREAD_PEERS,
		.balance = BWE_RELAY_BALANCE,
		.overlap = BWE_RELAY_OVERLAP,
		.min_bytes = BWE_RELAY_MIN_BYTES,
	};
	{
		static const __u16 ignore[] = BWE_BEACON_IGNORE_PORTS;

		p->beacon = (struct bwe_policy_beacon){
			.min_intervals = BWE_BEACON_MIN_INTERVALS,
			.sample = BWE_BEACON_SAMPLE,
			.max_jitter = BWE_BEACON_MAX_JITTER,
			.min_period_s = BWE_BEACON_MIN_PERIOD_S,
			.max_period_s = BWE_BEACON_MAX_PERIOD_S,
			.burst_ms = BWE_BEACON_BURST_MS,
			.n_ignore_ports = ARRAY_SIZE(ignore),
		};
		memcpy(p->beacon.ignore_ports, ignore, sizeof(ignore));
	}
	p->flood = (struct bwe_policy_flood){
		.min_pps = BWE_FLOOD_MIN_PPS,
		.max_size = BWE_FLOOD_MAX_SIZE,
		.concentration = BWE_FLOOD_CONCENTRATION,
		.reply = BWE_FLOOD_REPLY,
	};
	for (i = 0; i < ARRAY_SIZE(default_rules); i++) {
		const struct default_rule *d = &default_rules[i];
		struct bwe_rule *r = &p->rules[i];

		snprintf(r->name, sizeof(r->name), "%s", d->name);
		r->signals = d->signals;
		r->min_signals = d->min_signals;
		r->action = d->action;
		r->rate = d->rate;
		r->ttl_s = d->ttl_s;
		r->cooldown_s = d->cooldown_s;
		r->repeat_window_s = BWE_RULE_REPEAT_WINDOW_S;
		memcpy(r->escalation_s, d->escalation_s, sizeof(r->escalation_s));
		r->n_escalation = d->n_escalation;
	}
	p->n_rules = ARRAY_SIZE(default_rules);
}

int bwe_policy_window_index(const struct bwe_policy *p, __u64 window_s)
{
	size_t i;

	for (i = 0; i < p->n_windows && i < BWE_POLICY_WINDOWS_MAX; i++)
		if (p->windows_s[i] == window_s)
			return (int)i;
	return -1;
}

/* ---- per-host update ------------------------------------------------------------- */

void bwe_detect_host_init(struct bwe_detect_host *h)
{
	memset(h, 0, sizeof(*h));
}

void bwe_detect_host_free(struct bwe_detect_host *h)
{
	if (!h)
		return;
	free(h->how);
	h->how = NULL;
	if (h->beacon)
		free(h->beacon->pair);
	free(h->beacon);
	h->beacon = NULL;
	free(h->rules);
	h->rules = NULL;
	free(h->relay);
	h->relay = NULL;
}

void bwe_detect_host_released(struct bwe_detect_host *h)
{
	h->active = BWE_RESP_NONE;
	h->active_until = 0;
}

/* The data plane recreated the entry (LRU eviction) or the map was reloaded. */
static bool counters_went_back(const struct bwe_detect_prev *prev, const struct bwe_host_stats *c)
{
	return c->tx_bytes < prev->tx_bytes || c->rx_bytes < prev->rx_bytes ||
	       c->nonstd_tx_bytes < prev->nonstd_tx_bytes || c->bl_hits < prev->bl_hits ||
	       c->bl_in_hits < prev->bl_in_hits || c->first_seen_ns != prev->first_seen_ns;
}

/* struct bwe_detect_host.windows_id of pol's windows: never 0. */
static __u32 windows_id(const struct bwe_policy *pol)
{
	__u32 id = XXH32(pol->windows_s, pol->n_windows * sizeof(pol->windows_s[0]),
			 (XXH32_hash_t)pol->n_windows);

	return id ? id : 1;
}

/* Bytes of the last tau seconds, exponentially weighted (detect.h). */
static double decay_add(double sum, double dt_s, double tau_s, double delta)
{
	return sum * exp(-dt_s / tau_s) + delta;
}

static void set_sig(struct bwe_signals *out, enum bwe_signal_id id, bool cond, double value,
		    double threshold, __u32 *run)
{
	struct bwe_signal *s = &out->sig[id];

	*run = cond ? *run + 1 : 0;
	s->fired = cond;
	s->value = value;
	s->threshold = threshold;
	s->run = *run;
}

static void prev_keep(struct bwe_detect_prev *p, const struct bwe_host_stats *c)
{
	memset(p, 0, sizeof(*p));
	p->tx_bytes = c->tx_bytes;
	p->tx_packets = c->tx_packets;
	p->rx_bytes = c->rx_bytes;
	p->nonstd_tx_bytes = c->nonstd_tx_bytes;
	p->bl_hits = c->bl_hits;
	p->bl_in_hits = c->bl_in_hits;
	p->first_seen_ns = c->first_seen_ns;
	p->peers = bwe_hll_estimate(c->hll_dst);
	p->ports = bwe_hll_estimate(c->hll_port);
	p->hll_epoch = c->hll_epoch;
}

/* expected_seen.tx_lo of this sample, 0 without expected activity (struct bwe_detect_extra) */
static __u64 expected_lo(const struct bwe_detect_extra *x)
{
	return x->expected_seen ? x->expected_seen->tx_lo : 0;
}

static void prime(struct bwe_detect_host *h, const struct bwe_host_stats *c, __s64 wall)
{
	prev_keep(&h->prev, c);
	h->primed = true;
	h->epoch = c->hll_epoch;
	h->epoch_since = wall;
	h->epoch_tx = 0;
	h->prev_peers = h->prev_ports = h->prev_epoch_tx = 0;
	h->last_upload = wall;
	memset(h->run, 0, sizeof(h->run));
	h->high_upload_run = 0;
	h->pw_prev = h->extra.proxyware_hits;
	h->relay_epoch = c->hll_epoch;
	if (h->relay)
		h->relay[1].fired = false;
	h->exp_lo_prev = expected_lo(&h->extra);
	h->exp_epoch = c->hll_epoch;
}

/*
 * Bytes to the expected activities' peers since the previous sample, a
 * lower bound (struct bwe_detect_extra); remembers this sample's sum.
 */
static double expected_bytes(struct bwe_detect_host *h, const struct bwe_host_stats *c)
{
	__u64 lo = expected_lo(&h->extra);
	double d = c->hll_epoch != h->exp_epoch ? (double)lo
		   : lo > h->exp_lo_prev	? (double)(lo - h->exp_lo_prev)
						: 0.0;

	h->exp_lo_prev = lo;
	h->exp_epoch = c->hll_epoch;
	return d;
}

/* The host's summaries without the expected activities' peers' slots. */
static const struct bwe_host_stats *relay_input(const struct bwe_detect_extra *x,
						const struct bwe_host_stats *c,
						struct bwe_host_stats *tmp)
{
	struct bwe_hh *side[2];
	unsigned int i, k, j;

	if (!x->expected_seen || !x->expected_seen->n_peers)
		return c;
	*tmp = *c;
	side[0] = &tmp->hh_tx;
	side[1] = &tmp->hh_rx;
	for (j = 0; j < 2; j++)
		for (i = 0; i < BWE_HH_SLOTS; i++)
			for (k = 0; k < x->expected_seen->n_peers; k++) {
				struct bwe_hh *hh = side[j];

				if (!hh->bytes[i] || hh->peer[i] != x->expected_seen->peers[k])
					continue;
				/* what the peer surely moved leaves the total; the
				 * slot's error stays: it is other peers' bytes */
				hh->total -= hh->bytes[i] - hh->err[i];
				hh->bytes[i] = hh->err[i] = 0;
				hh->peer[i] = 0;
				break;
			}
	return tmp;
}

static void baselines(struct bwe_detect_host *h, const struct bwe_policy *pol, __s64 wall,
		      struct bwe_signals *out)
{
	const double share = pol->spike.min_sd_share, floor = (double)pol->spike.min_sd_rate;
	double dt = out->dt_s;
	size_t i;

	out->trusted = h->learned_s >= (double)pol->learning_s;
	for (i = 0; i < pol->n_windows; i++) {
		double w = (double)pol->windows_s[i];
		double am = bwe_alpha(dt, w), av = bwe_alpha(dt, w * BWE_DETECT_VAR_SLOWER);
		struct bwe_detect_base *b = &h->base[i];
		struct bwe_ewma tx = { .mean = b->tx_mean, .var = b->tx_var, .n = h->base_n[i] };
		struct bwe_ewma rx = { .mean = b->rx_mean, .var = b->rx_var, .n = h->base_n[i] };

		if (out->trusted) {
			out->z_tx[i] = bwe_ewma_z(&tx, out->tx_bps, share, floor);
			out->z_rx[i] = bwe_ewma_z(&rx, out->rx_bps, share, floor);
		}
		bwe_ewma_update(&tx, out->tx_bps, am, av, share, floor);
		bwe_ewma_update(&rx, out->rx_bps, am, av, share, floor);
		*b = (struct bwe_detect_base){ .tx_mean = tx.mean,
					       .tx_var = tx.var,
					       .rx_mean = rx.mean,
					       .rx_var = rx.var };
		/* past 2^32 samples 1/n is far below any weight: the count may stop */
		h->base_n[i] = tx.n < UINT32_MAX ? (__u32)tx.n : UINT32_MAX;
	}
	h->learned_s += dt;

	if (!pol->hour_of_week || !h->how)
		return;
	{
		struct bwe_how_bucket *b = &h->how[bwe_hour_of_week(wall)];
		struct bwe_ewma e = { .mean = b->mean, .var = b->var, .n = b->n };

		/* trusted after one full hour of samples: one visit */
		out->hour_trusted = (double)b->n * (double)pol->interval_s >=
				    (double)BWE_SECS_PER_HOUR;
		if (out->hour_trusted)
			out->z_hour = bwe_ewma_z(&e, out->tx_bps, share, floor);
		how_update(b, out->tx_bps, bwe_alpha(dt, (double)BWE_SECS_PER_HOUR));
	}
}

static void sig_spike(struct bwe_detect_host *h, const struct bwe_policy *pol,
		      struct bwe_signals *out)
{
	const struct bwe_policy_spike *p = &pol->spike;
	int wi = bwe_policy_window_index(pol, p->window_s);
	double z = wi >= 0 ? out->z_tx[wi] : 0.0;
	bool high = out->tx_bps >= (double)p->min_rate;
	bool cond = out->trusted && wi >= 0 && z >= p->z && high &&
		    (!out->hour_trusted || out->z_hour >= p->z);

	h->high_upload_run = high ? h->high_upload_run + 1 : 0;
	out->high_upload_run = h->high_upload_run;
	set_sig(out, BWE_SIG_SPIKE, cond, z, p->z, &h->run[BWE_SIG_SPIKE]);
	/* fired only once sustained */
	out->sig[BWE_SIG_SPIKE].fired = h->run[BWE_SIG_SPIKE] >= p->sustain;
}

/*
 * Hits count from the first one until window_s passes without another.
 * Only the host's own contacts count (bl_hits: its packets to a listed peer
 * and the peer's answers, bwe_hit_answers()). Unsolicited inbound packets
 * from a listed address (bl_in_hits) are reported in new_bl_in_hits but
 * never fire the signal: anyone can send one, with any source address.
 */
static void sig_blocklist(struct bwe_detect_host *h, const struct bwe_host_stats *c,
			  const struct bwe_policy *pol, __s64 wall, struct bwe_signals *out)
{
	const struct bwe_policy_blocklist *p = &pol->blocklist;
	__u64 hits = c->bl_hits - h->prev.bl_hits - out->new_pw_hits; /* sig_proxyware first */
	bool quiet = !h->bl_last_hit || wall - h->bl_last_hit > (__s64)p->window_s;

	if (quiet)
		h->bl_episode_hits = 0;
	if (hits) {
		h->bl_episode_hits += hits;
		h->bl_last_hit = wall;
	}
	out->new_bl_hits = hits;
	out->new_bl_in_hits = c->bl_in_hits - h->prev.bl_in_hits;
	set_sig(out, BWE_SIG_BLOCKLIST, h->bl_episode_hits >= p->min_hits,
		(double)h->bl_episode_hits, (double)p->min_hits, &h->run[BWE_SIG_BLOCKLIST]);
}

/*
 * The hits the caller attributes to proxyware feeds (struct
 * bwe_detect_extra): the blocklist rule, on their own episode.
 */
static void sig_proxyware(struct bwe_detect_host *h, const struct bwe_host_stats *c,
			  const struct bwe_policy *pol, __s64 wall, struct bwe_signals *out)
{
	const struct bwe_policy_blocklist *p = &pol->proxyware;
	__u64 all = c->bl_hits - h->prev.bl_hits, hits = 0;
	bool quiet = !h->pw_last_hit || wall - h->pw_last_hit > (__s64)p->window_s;

	if (h->extra.proxyware_hits >= h->pw_prev)
		hits = h->extra.proxyware_hits - h->pw_prev;
	hits = hits > all ? all : hits;
	h->pw_prev = h->extra.proxyware_hits;
	if (quiet)
		h->pw_episode_hits = 0;
	if (hits) {
		h->pw_episode_hits += hits;
		h->pw_last_hit = wall;
	}
	out->new_pw_hits = hits;
	set_sig(out, BWE_SIG_PROXYWARE, p->min_hits && h->pw_episode_hits >= p->min_hits,
		(double)h->pw_episode_hits, (double)p->min_hits, &h->run[BWE_SIG_PROXYWARE]);
}

static void sig_volumes(struct bwe_detect_host *h, double dtx, double drx, double dnonstd,
			const struct bwe_policy *pol, struct bwe_signals *out)
{
	const struct bwe_policy_nonstd *pn = &pol->nonstd_ports;
	const struct bwe_policy_upload *pu = &pol->upload_ratio;
	const struct bwe_policy_new_host *ph = &pol->new_host;
	double dt = out->dt_s;
	bool enough;

	h->nonstd_tx = decay_add(h->nonstd_tx, dt, (double)pn->window_s, dnonstd);
	h->nonstd_all = decay_add(h->nonstd_all, dt, (double)pn->window_s, dtx);
	enough = h->nonstd_all > 0 && h->nonstd_all >= (double)pn->min_bytes;
	out->nonstd_share = enough ? h->nonstd_tx / h->nonstd_all : 0.0;
	set_sig(out, BWE_SIG_NONSTD_PORTS, enough && out->nonstd_share >= pn->share,
		out->nonstd_share, pn->share, &h->run[BWE_SIG_NONSTD_PORTS]);

	/* expected activity's share of the upload is not the host's own (detect.h) */
	h->up_tx = decay_add(h->up_tx, dt, (double)pu->window_s, dtx - out->expected_bps * dt);
	h->up_rx = decay_add(h->up_rx, dt, (double)pu->window_s, drx);
	out->tx_window_bytes = h->up_tx;
	enough = h->up_tx > 0 && h->up_tx >= (double)pu->min_bytes;
	out->upload_ratio = enough ? h->up_tx / fmax(h->up_rx, NO_RX_BYTES) : 0.0;
	set_sig(out, BWE_SIG_UPLOAD_RATIO, enough && out->upload_ratio >= pu->ratio,
		out->upload_ratio, pu->ratio, &h->run[BWE_SIG_UPLOAD_RATIO]);

	h->new_bytes = decay_add(h->new_bytes, dt, (double)ph->window_s, dtx + drx);
	set_sig(out, BWE_SIG_NEW_HOST,
		out->age_s < (double)pol->learning_s && h->new_bytes >= (double)ph->bytes,
		h->new_bytes, (double)ph->bytes, &h->run[BWE_SIG_NEW_HOST]);
}

static void sig_fanout(struct bwe_detect_host *h, const struct bwe_host_stats *c, double dtx,
		       const struct bwe_policy *pol, __s64 wall, struct bwe_signals *out)
{
	const struct bwe_policy_fanout *p = &pol->fanout;
	double peers, ports, tx;
	bool fired_peers, fired_ports;

	if (c->hll_epoch != h->epoch) {
		/* the previous sample's registers are the old epoch's last word */
		bool old = h->prev.hll_epoch == h->epoch;

		h->prev_peers = old ? h->prev.peers : 0.0;
		h->prev_ports = old ? h->prev.ports : 0.0;
		h->prev_epoch_tx = h->epoch_tx;
		h->epoch = c->hll_epoch;
		h->epoch_since = wall;
		h->epoch_tx = 0;
	}
	h->epoch_tx += dtx;
	if (dtx > 0)
		h->last_upload = wall;

	peers = bwe_hll_estimate(c->hll_dst);
	ports = bwe_hll_estimate(c->hll_port);
	tx = h->epoch_tx;
	if (wall - h->epoch_since < (__s64)p->window_s) {
		if (h->prev_peers > peers) {
			peers = h->prev_peers;
			tx = h->prev_epoch_tx;
		}
		ports = fmax(ports, h->prev_ports);
	}
	if (wall - h->last_upload >= (__s64)p->window_s)
		peers = ports = tx = 0.0; /* a quiet host's sketch is history */
	out->peers = peers;
	out->ports = ports;
	out->fanout_tx_bytes = tx;

	fired_peers = peers >= p->peers;
	fired_ports = ports >= p->ports;
	out->fanout_ports = fired_ports && !fired_peers;
	if (out->fanout_ports)
		set_sig(out, BWE_SIG_FANOUT, true, ports, p->ports, &h->run[BWE_SIG_FANOUT]);
	else
		set_sig(out, BWE_SIG_FANOUT, fired_peers, peers, p->peers, &h->run[BWE_SIG_FANOUT]);
}

/*
 * Relay: this epoch's sketches once both directions moved min_bytes; until
 * then the previous epoch's last evaluation (its final sample's), so a new
 * epoch does not blank a relay for the time it takes to fill. The expected
 * activities' peers are left out (relay_input()). cur is this sample's
 * evaluation (relay_now()). Runs before sig_fanout() moves h->epoch: it
 * keeps its own.
 */
static void sig_relay(struct bwe_detect_host *h, const struct bwe_host_stats *c,
		      const struct bwe_relay_eval *cur, const struct bwe_policy *pol,
		      struct bwe_signals *out)
{
	const struct bwe_policy_relay *p = &pol->relay;

	if (c->hll_epoch != h->relay_epoch) {
		if (h->relay)
			h->relay[1] = h->relay[0]; /* the previous sample's, if it fired */
		h->relay_epoch = c->hll_epoch;
	}
	if (cur->tx_bytes >= (double)p->min_bytes && cur->rx_bytes >= (double)p->min_bytes)
		out->relay = *cur;
	else
		out->relay = h->relay && h->relay[1].fired ? h->relay[1] : *cur;
	set_sig(out, BWE_SIG_RELAY, out->relay.fired, out->relay.concentration, p->concentration,
		&h->run[BWE_SIG_RELAY]);
}

/*
 * This sample's relay evaluation, and room to keep it when it fired (the
 * host's relay memory, made at its first firing): 0 or -ENOMEM, before
 * anything of the host changes.
 */
static int relay_now(struct bwe_detect_host *h, const struct bwe_host_stats *c,
		     const struct bwe_policy *pol, struct bwe_relay_eval *cur)
{
	struct bwe_host_stats tmp;

	bwe_relay_evaluate(relay_input(&h->extra, c, &tmp), &pol->relay, cur);
	if (cur->fired && !h->relay && !(h->relay = calloc(2, sizeof(*h->relay))))
		return -ENOMEM;
	return 0;
}

/* Keep this sample's evaluation for the next epoch to look back on. */
static void relay_keep(struct bwe_detect_host *h, const struct bwe_relay_eval *cur)
{
	if (cur->fired)
		h->relay[0] = *cur;
	else if (h->relay)
		h->relay[0].fired = false;
}

/* The jitter a pair with n_iv intervals must stay within (detect.h), or -1: too few. */
static double beacon_bound(const struct bwe_policy_beacon *p, __u32 n_iv)
{
	if (n_iv >= p->min_intervals)
		return p->max_jitter;
	if (n_iv >= BWE_BEACON_EARLY_N)
		return fmin(p->max_jitter, BWE_BEACON_EARLY_JITTER);
	return -1.0;
}

/*
 * Beacon: the followed pair that meets its bound (beacon_bound()), else the
 * most regular one, among those with the intervals for a bound, a median
 * within the period bounds and a contact within BWE_BEACON_STALE periods
 * of the host's last packet (the data plane's clock, like the contacts').
 */
static void sig_beacon(struct bwe_detect_host *h, const struct bwe_host_stats *c,
		       const struct bwe_policy *pol, struct bwe_signals *out)
{
	const struct bwe_policy_beacon *p = &pol->beacon;
	const double now_s = (double)c->last_seen_ns / NSEC_PER_SEC;
	struct bwe_beacon_eval *e = &out->beacon;
	double bound = p->max_jitter;
	bool fired = false;
	size_t i;

	memset(e, 0, sizeof(*e));
	e->jitter = 1.0;
	for (i = 0; h->beacon && i < h->beacon->n_pair; i++) {
		const struct bwe_beacon_pair *x = &h->beacon->pair[i];
		double period, jitter, b = x->used ? beacon_bound(p, x->n_iv) : -1.0;
		bool meets;

		if (b < 0 || !bwe_beacon_pair_stats(x, &period, &jitter))
			continue;
		if (period < (double)p->min_period_s || period > (double)p->max_period_s ||
		    now_s - x->last_s > BWE_BEACON_STALE * period)
			continue;
		meets = jitter <= b;
		if (e->valid && ((fired && !meets) || (fired == meets && jitter >= e->jitter)))
			continue;
		e->valid = true;
		e->peer = x->peer;
		e->dport = x->dport;
		e->proto = x->proto;
		e->intervals = x->n_iv;
		e->period_s = period;
		e->jitter = jitter;
		bound = b;
		fired = meets;
	}
	set_sig(out, BWE_SIG_BEACON, fired, e->jitter, bound, &h->run[BWE_SIG_BEACON]);
}

/*
 * Flood: this interval's packet rate and mean size, the epoch's top
 * outbound peer and what it sent back (struct bwe_policy_flood).
 */
static void sig_flood(struct bwe_detect_host *h, const struct bwe_host_stats *c, double dtx,
		      const struct bwe_policy *pol, struct bwe_signals *out)
{
	const struct bwe_policy_flood *p = &pol->flood;
	struct bwe_flood_eval *e = &out->flood;
	double pkts = (double)(c->tx_packets - h->prev.tx_packets);
	__u64 lo, hi, rlo, rhi;
	__u32 peer[1];

	e->pps = pkts / out->dt_s;
	e->mean_size = pkts > 0 ? dtx / pkts : 0.0;
	e->reply = 1.0;
	if (bwe_hh_top(&c->hh_tx, 1, &lo, &hi, peer)) {
		e->peer = peer[0];
		e->share = c->hh_tx.total ? (double)lo / (double)c->hh_tx.total : 0.0;
		bwe_hh_bounds(&c->hh_rx, peer[0], &rlo, &rhi);
		e->reply = fmin((double)rhi / (double)lo, 1.0);
	}
	set_sig(out, BWE_SIG_FLOOD,
		e->pps >= p->min_pps && pkts > 0 && e->mean_size <= p->max_size &&
			e->share >= p->concentration && e->reply < p->reply,
		e->pps, p->min_pps, &h->run[BWE_SIG_FLOOD]);
}

int bwe_detect_update(struct bwe_detect_host *h, const struct bwe_host_stats *c, double dt_s,
		      __s64 wall_time, const struct bwe_policy *pol, struct bwe_signals *out)
{
	struct bwe_relay_eval relay;
	double dtx, drx, dnonstd;

	if (!h || !c || !pol || !out || !(dt_s > 0) || !isfinite(dt_s) || !pol->n_windows ||
	    pol->n_windows > BWE_POLICY_WINDOWS_MAX)
		return -EINVAL;
	/* the allocations, before anything changes */
	if (pol->hour_of_week && !h->how) {
		h->how = calloc(BWE_HOW_BUCKETS, sizeof(*h->how));
		if (!h->how)
			return -ENOMEM;
	}
	if (relay_now(h, c, pol, &relay))
		return -ENOMEM;
	memset(out, 0, sizeof(*out));
	out->dt_s = dt_s;
	out->n_windows = pol->n_windows;
	if (h->windows_id != windows_id(pol)) {
		memset(h->base, 0, sizeof(h->base));
		memset(h->base_n, 0, sizeof(h->base_n));
		h->windows_id = windows_id(pol);
		h->learned_s = 0;
	}
	if (!h->primed || counters_went_back(&h->prev, c)) {
		prime(h, c, wall_time);
		relay_keep(h, &relay);
		return 0;
	}

	dtx = (double)(c->tx_bytes - h->prev.tx_bytes);
	drx = (double)(c->rx_bytes - h->prev.rx_bytes);
	dnonstd = (double)(c->nonstd_tx_bytes - h->prev.nonstd_tx_bytes);
	out->expected_bps =
		fmin(fmin(dtx, (double)h->extra.expected_rate * dt_s), expected_bytes(h, c)) / dt_s;
	out->tx_bps = dtx / dt_s - out->expected_bps;
	out->rx_bps = drx / dt_s;
	if (c->last_seen_ns >= c->first_seen_ns)
		out->age_s = (double)(c->last_seen_ns - c->first_seen_ns) / NSEC_PER_SEC;

	baselines(h, pol, wall_time, out);
	sig_spike(h, pol, out);
	sig_proxyware(h, c, pol, wall_time, out);
	sig_blocklist(h, c, pol, wall_time, out);
	sig_volumes(h, dtx, drx, dnonstd, pol, out);
	sig_relay(h, c, &relay, pol, out);
	sig_beacon(h, c, pol, out);
	sig_fanout(h, c, dtx, pol, wall_time, out);
	sig_flood(h, c, dtx, pol, out);
	if (h->extra.expected_fanout) {
		/* every peer and port is an expected activity's (detect.h) */
		out->sig[BWE_SIG_FANOUT].fired = false;
		out->sig[BWE_SIG_FANOUT].run = h->run[BWE_SIG_FANOUT] = 0;
	}
	prev_keep(&h->prev, c);
	relay_keep(h, &relay);
	out->valid = true;
	return 0;
}

/* ---- what the report keeps ------------------------------------------------------ */

void bwe_signals_keep(const struct bwe_signals *s, struct bwe_signals_kept *k)
{
	const struct bwe_relay_eval *r = &s->relay;
	unsigned int i;

	memset(k, 0, sizeof(*k));
	k->valid = s->valid;
	if (!s->valid)
		return; /* a first sample or a reset: nothing evaluated */
	k->trusted = s->trusted;
	k->hour_trusted = s->hour_trusted;
	k->fanout_ports = s->fanout_ports;
	k->z = s->sig[BWE_SIG_SPIKE].value;
	k->peers = s->peers;
	k->ports = s->ports;
	k->fanout_tx_bytes = s->fanout_tx_bytes;
	k->upload_ratio = s->upload_ratio;
	k->tx_bps = (float)s->tx_bps;
	k->expected_bps = (float)s->expected_bps;
	k->nonstd_share = (float)s->nonstd_share;
	k->relay_dir = (__s8)r->dir;
	k->relay_fired = r->fired;
	k->relay.concentration = (float)r->concentration;
	k->relay.concentration_hi = (float)r->concentration_hi;
	k->relay.spread_peers = (float)r->spread_peers;
	k->relay.balance = (float)r->balance;
	k->relay.overlap = (float)r->overlap;
	k->relay.other_top = (float)r->other_top;
	k->relay.tx_bytes = (float)r->tx_bytes;
	k->relay.rx_bytes = (float)r->rx_bytes;
	k->beacon.valid = s->beacon.valid;
	k->beacon.proto = s->beacon.proto;
	k->beacon.dport = s->beacon.dport;
	k->beacon.intervals = s->beacon.intervals;
	k->beacon.peer = s->beacon.peer;
	k->beacon.period_s = (float)s->beacon.period_s;
	k->beacon.jitter = (float)s->beacon.jitter;
	k->flood.pps = (float)s->flood.pps;
	k->flood.mean_size = (float)s->flood.mean_size;
	k->flood.share = (float)s->flood.share;
	k->flood.reply = (float)s->flood.reply;
	k->flood.peer = s->flood.peer;
	for (i = 0; i < BWE_SIG_MAX; i++)
		if (s->sig[i].fired)
			k->fired |= (__u16)SIG(i);
}

/*
 * A kept float as the double it stands for: its 7 significant digits (a
 * float holds 7.2), so that 0.6 reads 0.6 again, not 0.60000002384.
 */
static double shown(float f)
{
	char b[32];

	snprintf(b, sizeof(b), "%.7g", (double)f);
	return strtod(b, NULL);
}

void bwe_signals_restore(const struct bwe_signals_kept *k, const struct bwe_detect_host *h,
			 const struct bwe_policy *pol, struct bwe_signals *out)
{
	int wi = bwe_policy_window_index(pol, pol->spike.window_s);
	struct bwe_relay_eval *r = &out->relay;
	double v[BWE_SIG_MAX], t[BWE_SIG_MAX];
	unsigned int i;

	memset(out, 0, sizeof(*out));
	out->n_windows = pol->n_windows;
	if (!k->valid)
		return;
	out->valid = true;
	out->trusted = k->trusted;
	out->hour_trusted = k->hour_trusted;
	out->fanout_ports = k->fanout_ports;
	out->high_upload_run = h->high_upload_run;
	if (wi >= 0)
		out->z_tx[wi] = k->z;
	out->peers = k->peers;
	out->ports = k->ports;
	out->fanout_tx_bytes = k->fanout_tx_bytes;
	out->upload_ratio = k->upload_ratio;
	out->tx_window_bytes = h->up_tx;
	out->tx_bps = shown(k->tx_bps);
	out->expected_bps = shown(k->expected_bps);
	out->nonstd_share = shown(k->nonstd_share);
	r->dir = k->relay_dir;
	r->fired = k->relay_fired;
	r->concentration = shown(k->relay.concentration);
	r->concentration_hi = shown(k->relay.concentration_hi);
	r->spread_peers = shown(k->relay.spread_peers);
	r->balance = shown(k->relay.balance);
	r->overlap = shown(k->relay.overlap);
	r->other_top = shown(k->relay.other_top);
	r->tx_bytes = shown(k->relay.tx_bytes);
	r->rx_bytes = shown(k->relay.rx_bytes);
	out->beacon.valid = k->beacon.valid;
	out->beacon.proto = k->beacon.proto;
	out->beacon.dport = k->beacon.dport;
	out->beacon.intervals = k->beacon.intervals;
	out->beacon.peer = k->beacon.peer;
	out->beacon.period_s = shown(k->beacon.period_s);
	out->beacon.jitter = shown(k->beacon.jitter);
	out->flood.pps = shown(k->flood.pps);
	out->flood.mean_size = shown(k->flood.mean_size);
	out->flood.share = shown(k->flood.share);
	out->flood.reply = shown(k->flood.reply);
	out->flood.peer = k->flood.peer;
	/* the values and thresholds set_sig() was given */
	v[BWE_SIG_SPIKE] = k->z;
	t[BWE_SIG_SPIKE] = pol->spike.z;
	v[BWE_SIG_BLOCKLIST] = (double)h->bl_episode_hits;
	t[BWE_SIG_BLOCKLIST] = (double)pol->blocklist.min_hits;
	v[BWE_SIG_NONSTD_PORTS] = out->nonstd_share;
	t[BWE_SIG_NONSTD_PORTS] = pol->nonstd_ports.share;
	v[BWE_SIG_UPLOAD_RATIO] = k->upload_ratio;
	t[BWE_SIG_UPLOAD_RATIO] = pol->upload_ratio.ratio;
	v[BWE_SIG_FANOUT] = k->fanout_ports ? k->ports : k->peers;
	t[BWE_SIG_FANOUT] = k->fanout_ports ? pol->fanout.ports : pol->fanout.peers;
	v[BWE_SIG_NEW_HOST] = h->new_bytes;
	t[BWE_SIG_NEW_HOST] = (double)pol->new_host.bytes;
	v[BWE_SIG_PROXYWARE] = (double)h->pw_episode_hits;
	t[BWE_SIG_PROXYWARE] = (double)pol->proxyware.min_hits;
	v[BWE_SIG_RELAY] = r->concentration;
	t[BWE_SIG_RELAY] = pol->relay.concentration;
	v[BWE_SIG_BEACON] = out->beacon.jitter;
	t[BWE_SIG_BEACON] = k->beacon.valid ? beacon_bound(&pol->beacon, k->beacon.intervals)
					    : pol->beacon.max_jitter;
	v[BWE_SIG_FLOOD] = out->flood.pps;
	t[BWE_SIG_FLOOD] = pol->flood.min_pps;
	for (i = 0; i < BWE_SIG_MAX; i++) {
		out->sig[i].fired = k->fired & SIG(i);
		out->sig[i].value = v[i];
		out->sig[i].threshold = t[i];
		out->sig[i].run = h->run[i];
	}
}

/* ---- shapes --------------------------------------------------------------------- */

static void __attribute__((format(printf, 2, 3)))
add_reason(struct bwe_shape_match *m, const char *fmt, ...)
{
	va_list ap;

	m->score++;
	if (m->n_reasons >= BWE_SHAPE_REASONS_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(m->reasons[m->n_reasons++], BWE_SHAPE_REASON_LEN, fmt, ap);
	va_end(ap);
}

static bool shape_proxyjacking(const struct bwe_signals *s, const struct bwe_policy *pol,
			       struct bwe_shape_match *m)
{
	char rate[BWE_RATE_STRLEN];
	bool sustained;

	memset(m, 0, sizeof(*m));
	m->shape = BWE_SHAPE_PROXYJACKING;
	m->of = 4;
	/* a spike, or min_rate held for a whole spike window */
	sustained = s->sig[BWE_SIG_SPIKE].fired ||
		    (double)s->high_upload_run * (double)pol->interval_s >=
			    (double)pol->spike.window_s;
	if (sustained) {
		if (bwe_rate_fmt(pol->spike.min_rate, rate, sizeof(rate)))
			snprintf(rate, sizeof(rate), "%lluB/s",
				 (unsigned long long)pol->spike.min_rate);
		if (s->sig[BWE_SIG_SPIKE].fired)
			add_reason(m, "sustained upload spike: z %.1f for %u intervals",
				   s->sig[BWE_SIG_SPIKE].value, s->sig[BWE_SIG_SPIKE].run);
		else
			add_reason(m, "sustained upload: %u intervals at >= %s", s->high_upload_run,
				   rate);
	}
	if (s->peers >= BWE_SHAPE_PROXY_PEERS)
		add_reason(m, "%.0f distinct peers (>= %d)", s->peers, BWE_SHAPE_PROXY_PEERS);
	if (s->tx_window_bytes >= (double)pol->upload_ratio.min_bytes &&
	    s->upload_ratio >= BWE_SHAPE_RELAY_RATIO)
		add_reason(m, "tx/rx %.2f: %s", s->upload_ratio,
			   s->upload_ratio <= 1.0 / BWE_SHAPE_RELAY_RATIO
				   ? "relays what it receives"
				   : "uploads more than it receives");
	if (s->sig[BWE_SIG_NONSTD_PORTS].fired)
		add_reason(m, "%.0f%% of upload to non-standard ports", 100.0 * s->nonstd_share);
	m->of++;
	if (s->sig[BWE_SIG_RELAY].fired)
		add_reason(m,
			   "relay signature: >= %.0f%% of %s bytes on %u peers, %.0f peers the other way",
			   100.0 * s->relay.concentration,
			   s->relay.dir == BWE_DIR_IN ? "inbound" : "outbound",
			   pol->relay.top_peers, s->relay.spread_peers);
	return sustained && m->score >= 3;
}

static bool shape_botnet(const struct bwe_signals *s, struct bwe_shape_match *m)
{
	bool fanout = s->sig[BWE_SIG_FANOUT].fired, small = false, c2;

	memset(m, 0, sizeof(*m));
	m->shape = BWE_SHAPE_BOTNET;
	m->of = 3;
	if (fanout)
		add_reason(m, "fan-out: %.0f distinct peers, %.0f distinct ports", s->peers,
			   s->ports);
	if (fanout && s->peers > 0) {
		double per_peer = s->fanout_tx_bytes / s->peers;

		small = per_peer <= BWE_SHAPE_SCAN_BYTES_PER_PEER;
		if (small)
			add_reason(m, "%.0f bytes per peer: probes, not sessions", per_peer);
	}
	c2 = s->sig[BWE_SIG_BLOCKLIST].fired;
	if (c2)
		add_reason(m, "%.0f blocklist hits (C2 or known bad peers)",
			   s->sig[BWE_SIG_BLOCKLIST].value);
	m->of++;
	if (s->sig[BWE_SIG_BEACON].fired) {
		c2 = true;
		add_reason(m, "beaconing: a new contact every %.0f s (jitter %.2f) to one peer",
			   s->beacon.period_s, s->beacon.jitter);
	}
	m->of++;
	if (s->sig[BWE_SIG_FLOOD].fired)
		add_reason(m,
			   "flooding: %.0f packets/s of %.0f bytes, %.0f%% to one peer, %.0f%% back",
			   s->flood.pps, s->flood.mean_size, 100.0 * s->flood.share,
			   100.0 * s->flood.reply);
	return (fanout && small) || c2 || s->sig[BWE_SIG_FLOOD].fired;
}

unsigned int bwe_detect_shapes(const struct bwe_signals *s, const struct bwe_policy *pol,
			       struct bwe_shape_match out[BWE_SHAPE_MAX])
{
	struct bwe_shape_match m;
	unsigned int n = 0;

	if (!s || !pol || !out || !s->valid)
		return 0;
	if (shape_proxyjacking(s, pol, &m))
		out[n++] = m;
	if (shape_botnet(s, &m))
		out[n++] = m;
	return n;
}

/* ---- rules ------------------------------------------------------------------------ */

void bwe_detect_global_init(struct bwe_detect_global *g, __s64 now)
{
	memset(g, 0, sizeof(*g));
	g->started = now;
}

unsigned int bwe_detect_quarantines_last_hour(const struct bwe_detect_global *g, __s64 now)
{
	unsigned int i, n = 0;

	for (i = 0; i < g->q_count && i < BWE_QUARANTINES_PER_HOUR_MAX; i++)
		n += now - g->q_times[i] < (__s64)BWE_SECS_PER_HOUR;
	return n;
}

static __u32 name_hash(const char *s)
{
	__u32 h = FNV32_OFFSET;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * FNV32_PRIME;
	return h ? h : 1; /* 0 marks an empty slot */
}

/* The slot's history, if it belongs to this rule (a reload may reorder rules). */
static const struct bwe_rule_state *rule_state(const struct bwe_detect_host *h,
					       const struct bwe_rule *r, size_t i)
{
	const struct bwe_rule_state *st = h->rules ? &h->rules[i] : NULL;

	return st && st->name_hash == name_hash(r->name) ? st : NULL;
}

static bool in_list(const struct bwe_policy_prefixes *l, const struct bwe_addr *a)
{
	size_t i;

	for (i = 0; a && i < l->n; i++)
		if (bwe_prefix_contains(&l->v[i], a))
			return true;
	return false;
}

static unsigned int fired_count(const struct bwe_rule *r, const struct bwe_signals *s)
{
	unsigned int i, n = 0;

	for (i = 0; i < BWE_SIG_MAX; i++)
		n += (r->signals & SIG(i)) && s->sig[i].fired;
	return n;
}

static bool rule_matches(const struct bwe_detect_host *h, const struct bwe_signals *s,
			 const struct bwe_policy *pol, size_t i, __s64 now)
{
	const struct bwe_rule *r = &pol->rules[i];
	const struct bwe_rule_state *st = rule_state(h, r, i);

	if (!r->min_signals || fired_count(r, s) < r->min_signals)
		return false;
	if (st && now < st->quiet_until)
		return false;
	/* nothing to add to an action at least as strong that is in force */
	if (r->action >= BWE_RESP_THROTTLE && h->active >= r->action && now < h->active_until)
		return false;
	return true;
}

/* The strongest matching rule with an action at most cap; -1 when none. */
static int strongest(const struct bwe_detect_host *h, const struct bwe_signals *s,
		     const struct bwe_policy *pol, enum bwe_response cap, __s64 now)
{
	int best = -1;
	size_t i;

	for (i = 0; i < pol->n_rules && i < BWE_POLICY_RULES_MAX; i++) {
		const struct bwe_rule *r = &pol->rules[i];

		if (r->action > cap || !rule_matches(h, s, pol, i, now))
			continue;
		if (best < 0 || r->action > pol->rules[best].action)
			best = (int)i;
	}
	return best;
}

static void fill_rule(const struct bwe_detect_host *h, const struct bwe_signals *s,
		      const struct bwe_policy *pol, int i, __s64 now, struct bwe_decision *dec)
{
	const struct bwe_rule *r = &pol->rules[i];
	const struct bwe_rule_state *st = rule_state(h, r, (size_t)i);
	unsigned int k;

	dec->rule = i;
	snprintf(dec->rule_name, sizeof(dec->rule_name), "%s", r->name);
	dec->wanted = r->action;
	dec->action = r->action;
	dec->rate = r->action == BWE_RESP_THROTTLE ? r->rate : 0;
	dec->level = 0;
	if (st && st->last_end && now - st->last_end <= (__s64)r->repeat_window_s)
		dec->level = st->level + 1;
	if (r->n_escalation && dec->level >= r->n_escalation)
		dec->level = (__u32)r->n_escalation - 1;
	dec->ttl_s = r->action >= BWE_RESP_THROTTLE
			     ? (r->n_escalation ? r->escalation_s[dec->level] : r->ttl_s)
			     : 0;
	dec->n_evidence = 0;
	for (k = 0; k < BWE_SIG_MAX; k++) {
		if (!(r->signals & SIG(k)) || !s->sig[k].fired)
			continue;
		dec->evidence[dec->n_evidence++] = (struct bwe_evidence){
			.sig = (enum bwe_signal_id)k,
			.value = s->sig[k].value,
			.threshold = s->sig[k].threshold,
		};
	}
}

int bwe_detect_decide(const struct bwe_detect_host *h, const struct bwe_signals *s,
		      const struct bwe_policy *pol, const struct bwe_detect_global *g,
		      const struct bwe_addr *addr, __s64 now, struct bwe_decision *dec)
{
	__u32 guards = 0;
	int best;

	if (!h || !s || !pol || !g || !dec)
		return -EINVAL;
	memset(dec, 0, sizeof(*dec));
	dec->rule = -1;
	if (!s->valid)
		return 0;
	best = strongest(h, s, pol, BWE_RESP_QUARANTINE, now);
	if (best < 0)
		return 0;
	fill_rule(h, s, pol, best, now, dec);
	if (dec->action == BWE_RESP_ALERT)
		return 0;

	/* guard rails that leave only an alert */
	if (pol->monitor_only)
		guards |= BWE_GUARD_MONITOR_ONLY;
	if (now - g->started < (__s64)pol->learning_s)
		guards |= BWE_GUARD_LEARNING;
	if (in_list(&pol->never_quarantine, addr))
		guards |= BWE_GUARD_NEVER_QUARANTINE;
	if (guards) {
		dec->action = BWE_RESP_ALERT;
		dec->guards = guards;
		return 0;
	}
	/* out of quarantines for this hour: the best throttle, else an alert */
	if (dec->action == BWE_RESP_QUARANTINE &&
	    bwe_detect_quarantines_last_hour(g, now) >= pol->max_quarantines_per_hour) {
		best = strongest(h, s, pol, BWE_RESP_THROTTLE, now);
		if (best >= 0 && pol->rules[best].action == BWE_RESP_THROTTLE)
			fill_rule(h, s, pol, best, now, dec);
		else
			dec->action = BWE_RESP_ALERT;
		dec->guards = BWE_GUARD_RATE_LIMIT;
	}
	return 0;
}

int bwe_detect_commit(struct bwe_detect_host *h, struct bwe_detect_global *g,
		      const struct bwe_policy *pol, const struct bwe_decision *dec, __s64 now)
{
	const struct bwe_rule *r;
	struct bwe_rule_state *st;

	if (!h || !g || !pol || !dec || dec->action == BWE_RESP_NONE || dec->rule < 0 ||
	    (size_t)dec->rule >= pol->n_rules || dec->rule >= BWE_POLICY_RULES_MAX)
		return 0;
	if (!h->rules) {
		h->rules = calloc(BWE_POLICY_RULES_MAX, sizeof(*h->rules));
		if (!h->rules)
			return -ENOMEM;
	}
	r = &pol->rules[dec->rule];
	st = &h->rules[dec->rule];
	st->name_hash = name_hash(r->name);
	st->level = dec->level;
	/* the wanted action's end: monitor-only mode shows what would happen */
	st->last_end = now + (__s64)dec->ttl_s;
	st->quiet_until = st->last_end + (__s64)r->cooldown_s;
	if (dec->action >= BWE_RESP_THROTTLE &&
	    (dec->action > h->active || now >= h->active_until)) {
		h->active = dec->action;
		h->active_until = now + (__s64)dec->ttl_s;
	}
	if (dec->action == BWE_RESP_QUARANTINE) {
		g->q_times[g->q_head] = now;
		g->q_head = (g->q_head + 1) % BWE_QUARANTINES_PER_HOUR_MAX;
		if (g->q_count < BWE_QUARANTINES_PER_HOUR_MAX)
			g->q_count++;
	}
	return 0;
}
