// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_relaybeacon.c - unit tests of the relay and beacon signals
 * (lib/detect.c) and of the sketches behind them: known peer sets are fed
 * through the data plane's own update functions (bwe_hh_add(),
 * bwe_hll_add(), bwe_hash_addr() of bwe_rules.h) on several simulated
 * CPUs, merged as the daemon merges them (bwe_host_stats_merge()), and the
 * estimates are checked against the exact answer and their documented
 * bounds. Beacon tests feed synthetic periodic, jittered and random
 * arrival series through bwe_detect_contact(). No network, no privileges;
 * every random series comes from a fixed seed.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "bwe_util.h"
#include "dataplane.h"
#include "detect.h"

#define SEED	   0x7e1a7b3aULL
#define NS	   1000000000ULL
#define INTERVAL   10.0 /* seconds, the default policy.interval */
#define NCPU	   4	/* simulated CPUs, each with its own host record */
#define PEERS_MAX  20000
#define HLL_SIGMA  (1.04 / sqrt(BWE_HLL_REGS))
#define MSS	   1500 /* bytes of a full frame */
#define ACK	   66	/* bytes of a bare ACK */
#define WEB_PORT   443
#define NTP_PORT   123
#define FP_PAIRS   20000  /* random pairs for the false-positive rate */
#define FP_MAX	   0	  /* of them allowed to fire (measured: 0) */
#define BEACON_P   60.0	  /* seconds */
#define START_S	   1000.0 /* data-plane clock at the start of a series */
#define WALL_START 1704067200LL

/* cmocka before 1.1.6 has no assert_double_equal() */
#define assert_near(a, b, eps) \
	do { \
		double a_ = (a), b_ = (b); \
		if (!(fabs(a_ - b_) <= (eps))) \
			fail_msg("%s = %g, want %g +- %g", #a, a_, b_, (double)(eps)); \
	} while (0)

/* ---- fixed-seed random numbers ---------------------------------------------- */

static __u64 rng_state;

static void rng_seed(__u64 seed)
{
	rng_state = seed;
}

static __u64 rng_u64(void) /* splitmix64 */
{
	__u64 z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double rng_unit(void) /* (0, 1) */
{
	return ((double)(rng_u64() >> 11) + 0.5) / 9007199254740992.0;
}

static double rng_gauss(void) /* Box-Muller */
{
	return sqrt(-2.0 * log(rng_unit())) * cos(2.0 * M_PI * rng_unit());
}

static double rng_exp(double mean)
{
	return -mean * log(rng_unit());
}

/* A rank in 0..n-1 drawn with weight 1/(rank+1)^s (n <= 1000). */
static unsigned int zipf(unsigned int n, double s)
{
	double w[1000], sum = 0, u;
	unsigned int i;

	for (i = 0; i < n; i++)
		sum += w[i] = pow(i + 1, -s);
	u = rng_unit() * sum;
	for (i = 0; i + 1 < n && u >= w[i]; i++)
		u -= w[i];
	return i;
}

/* Peer i: an IPv4-mapped address, 198.51.100.0/24 and up, distinct for each i. */
static struct bwe_addr peer_addr(unsigned int i)
{
	struct bwe_addr a = { .w = { 0, 0, htonl(0xffff), htonl(0xc6336400U + i) } };

	return a;
}

/* ---- an epoch of traffic through the program's updates ------------------------------ */

/* The host as NCPU per-CPU records, and the exact bytes per peer. */
struct epoch {
	struct bwe_host_stats cpu[NCPU];
	double tx[PEERS_MAX], rx[PEERS_MAX];
};

static void epoch_init(struct epoch *e)
{
	memset(e, 0, sizeof(*e));
}

/*
 * One frame as judge() accounts it: the CPU from the flow (RSS), the peer's
 * hash into the direction's summary and peer sketch.
 */
static void frame(struct epoch *e, unsigned int peer, int out, __u64 len)
{
	struct bwe_addr a = peer_addr(peer);
	__u32 h = bwe_hash_addr(&a);
	struct bwe_host_stats *c = &e->cpu[bwe_mix32(h ^ (__u32)out) % NCPU];

	if (out) {
		c->tx_bytes += len;
		c->tx_packets++;
		bwe_hh_add(&c->hh_tx, h, len);
		bwe_hll_add(c->hll_dst, h);
		e->tx[peer] += (double)len;
	} else {
		c->rx_bytes += len;
		c->rx_packets++;
		bwe_hh_add(&c->hh_rx, h, len);
		bwe_hll_add(c->hll_src, h);
		e->rx[peer] += (double)len;
	}
}

/* n bytes to or from a peer, in full frames (the last one shorter). */
static void transfer(struct epoch *e, unsigned int peer, int out, __u64 n)
{
	while (n) {
		__u64 len = n > MSS ? MSS : n;

		frame(e, peer, out, len < ACK ? ACK : len);
		n -= len;
	}
}

/* The CPUs merged as bwctld merges them (hosts.c). */
static void epoch_merge(const struct epoch *e, struct bwe_host_stats *m)
{
	int c;

	memset(m, 0, sizeof(*m));
	for (c = 0; c < NCPU; c++)
		bwe_host_stats_merge(m, &e->cpu[c]);
}

static double top_share(const double *bytes, unsigned int n, unsigned int k)
{
	double *v = malloc(n * sizeof(*v)), sum = 0, top = 0;
	unsigned int i, j;

	assert_non_null(v);
	memcpy(v, bytes, n * sizeof(*v));
	for (i = 0; i < n; i++)
		sum += v[i];
	for (j = 0; j < k; j++) { /* k largest, by selection */
		unsigned int best = 0;

		for (i = 1; i < n; i++)
			if (v[i] > v[best])
				best = i;
		top += v[best];
		v[best] = -1;
	}
	free(v);
	return sum > 0 ? top / sum : 0;
}

/* Every peer's bytes within the summary's bounds: the guarantee, exactly. */
static void check_bounds(const struct bwe_hh *hh, const double *bytes, unsigned int n)
{
	unsigned int i;
	double sum = 0;

	for (i = 0; i < n; i++) {
		struct bwe_addr a = peer_addr(i);
		__u64 lo, hi;

		bwe_hh_bounds(hh, bwe_hash_addr(&a), &lo, &hi);
		if (!((double)lo <= bytes[i] && bytes[i] <= (double)hi))
			fail_msg("peer %u: %g bytes outside [%llu, %llu]", i, bytes[i],
				 (unsigned long long)lo, (unsigned long long)hi);
		sum += bytes[i];
	}
	assert_true((double)hh->total == sum);
}

/* ---- heavy hitters -------------------------------------------------------------------- */

enum mix {
	MIX_ZIPF,	 /* peer i gets 1/(i+1) */
	MIX_UNIFORM,	 /* every peer the same */
	MIX_THREE_HEAVY, /* 3 peers 85 %, the rest spread */
	MIX_RISING,	 /* peers in order of rising volume: the worst case for eviction */
};

static const struct hh_case {
	const char *desc;
	enum mix mix;
	unsigned int peers;
	__u64 bytes;	     /* all peers together */
	double max_top3_err; /* measured bound: true top-3 share - lower bound */
} hh_cases[] = {
	/* errors measured with this seed; the guarantee is the bounds check */
	{ "zipf over 1000 peers", MIX_ZIPF, 1000, 200ULL << 20, 0.15 },
	{ "uniform over 500 peers", MIX_UNIFORM, 500, 100ULL << 20, 0.01 },
	{ "3 heavy, 85 %, and 300 others", MIX_THREE_HEAVY, 303, 100ULL << 20, 0.01 },
	{ "rising volumes over 50 peers", MIX_RISING, 50, 50ULL << 20, 0.15 },
	{ "1 peer", MIX_UNIFORM, 1, 10ULL << 20, 0.0 },
};

static double mix_weight(enum mix m, unsigned int i, unsigned int n)
{
	switch (m) {
	case MIX_ZIPF:
		return 1.0 / (i + 1);
	case MIX_THREE_HEAVY:
		return i < 3 ? 0.85 / 3 : 0.15 / (n - 3);
	case MIX_RISING:
		return (double)(i + 1);
	case MIX_UNIFORM:
	default:
		return 1.0;
	}
}

static void test_hh_bounds(void **state)
{
	static struct epoch e;
	size_t k;

	(void)state;
	rng_seed(SEED);
	for (k = 0; k < ARRAY_SIZE(hh_cases); k++) {
		const struct hh_case *c = &hh_cases[k];
		struct bwe_host_stats m;
		double wsum = 0, truth, lo_share, hi_share;
		unsigned int i, rounds = 20, r;
		__u64 lo, hi, floor1;
		__u32 top[3];

		epoch_init(&e);
		for (i = 0; i < c->peers; i++)
			wsum += mix_weight(c->mix, i, c->peers);
		/* interleaved rounds, so that evictions happen all along (RISING: in order) */
		for (r = 0; r < rounds; r++)
			for (i = 0; i < c->peers; i++) {
				double share = mix_weight(c->mix, i, c->peers) / wsum;

				transfer(&e, i, 1, (__u64)(share * (double)c->bytes / rounds));
			}
		for (i = 0; i < NCPU; i++) {
			floor1 = bwe_hh_floor(&e.cpu[i].hh_tx);
			assert_true(floor1 * BWE_HH_SLOTS <= e.cpu[i].hh_tx.total);
		}
		epoch_merge(&e, &m);
		check_bounds(&m.hh_tx, e.tx, c->peers);
		assert_true(bwe_hh_floor(&m.hh_tx) * BWE_HH_SLOTS <= m.hh_tx.total);

		bwe_hh_top(&m.hh_tx, 3, &lo, &hi, top);
		truth = top_share(e.tx, c->peers, c->peers < 3 ? c->peers : 3);
		lo_share = (double)lo / (double)m.hh_tx.total;
		hi_share = (double)hi / (double)m.hh_tx.total;
		if (!(lo_share <= truth + 1e-12 && truth <= hi_share + 1e-12))
			fail_msg("%s: top-3 share %g outside [%g, %g]", c->desc, truth, lo_share,
				 hi_share);
		print_message("  %-34s top-3 share %.3f, bounds [%.3f, %.3f]\n", c->desc, truth,
			      lo_share, hi_share);
		assert_true(truth - lo_share <= c->max_top3_err);
	}
}

/* Merging in any order keeps the bounds; an empty summary changes nothing. */
static void test_hh_merge(void **state)
{
	struct bwe_hh a = { 0 }, b = { 0 }, z = { 0 }, ab, ba;
	double bytes[64] = { 0 };
	unsigned int i;

	(void)state;
	rng_seed(SEED + 1);
	for (i = 0; i < 4000; i++) {
		unsigned int p = (unsigned int)(rng_u64() % 64) * (unsigned int)(rng_u64() % 2);
		struct bwe_addr x = peer_addr(p);
		__u64 len = 60 + rng_u64() % 1440;

		bwe_hh_add(i % 3 ? &a : &b, bwe_hash_addr(&x), len);
		bytes[p] += (double)len;
	}
	ab = a;
	bwe_hh_merge(&ab, &b);
	ba = b;
	bwe_hh_merge(&ba, &a);
	check_bounds(&ab, bytes, 64);
	check_bounds(&ba, bytes, 64);
	ab = a;
	bwe_hh_merge(&ab, &z);
	for (i = 0; i < 64; i++) { /* the same bounds, maybe in another slot order */
		struct bwe_addr x = peer_addr(i);
		__u64 lo1, hi1, lo2, hi2;

		bwe_hh_bounds(&a, bwe_hash_addr(&x), &lo1, &hi1);
		bwe_hh_bounds(&ab, bwe_hash_addr(&x), &lo2, &hi2);
		assert_true(lo1 == lo2 && hi1 == hi2);
	}
	assert_true(ab.total == a.total);
}

/* ---- relay scenarios --------------------------------------------------------------------- */

/* Peers 0..2: super-proxies or the one big peer; 100 and up: sites. */
#define SITE(i) (100U + (i))

enum scenario {
	SC_RESIDENTIAL,	  /* requests in from 3 supers, fetched from 100 sites, handed back */
	SC_MIRROR,	  /* in from 2 peers, out to 150: receives few, sends many */
	SC_RES_1SUPER,	  /* one super-proxy, 40 sites */
	SC_DOWNLOAD,	  /* a CDN download */
	SC_CALL_SFU,	  /* a video call through one server */
	SC_CALL_MESH,	  /* a video call with 6 peers */
	SC_P2P,		  /* seeding to 300 peers, downloading from the same */
	SC_BROWSING,	  /* 50 sites, requests and ACKs back */
	SC_BACKUP_BROWSE, /* an upload to one provider while browsing as much: a false positive */
	SC_RES_REVERSE,	  /* one super-proxy, a quarter of the relayed bytes the other way */
	SC_SFU_BROWSE,	  /* a call through one server while browsing 40 sites */
	SC_MESH_BROWSE,	  /* a call with 4 peers while browsing 40 sites */
	SC_MESH5_BROWSE,  /* a call with 5 peers while browsing: more than the summary's slots */
	SC_SMALL,	  /* a relay below min_bytes */
	SC_RES_1SUPER_BROWSE, /* one super-proxy, 100 sites, while browsing two heavy sites */
	SC_CDN_BROWSE,	      /* uploads to one CDN, its answers as large, browsing as above */
	SC_UPLOAD_STREAM,     /* an upload to one provider, a video stream from a CDN, browsing */
};

static void scenario(struct epoch *e, enum scenario sc, __u64 unit)
{
	unsigned int i, j;

	switch (sc) {
	case SC_RESIDENTIAL:
	case SC_RES_1SUPER: {
		unsigned int supers = sc == SC_RESIDENTIAL ? 3 : 1;
		unsigned int sites = sc == SC_RESIDENTIAL ? 100 : 40;

		for (j = 0; j < 400; j++) {
			unsigned int s = j % supers, site = SITE((unsigned int)(rng_u64() % sites));
			__u64 resp = unit / 400 + rng_u64() % (unit / 200);

			transfer(e, s, 0, 600);	    /* request in */
			transfer(e, site, 1, 600);  /* request out */
			transfer(e, site, 0, resp); /* response in */
			transfer(e, site, 1, (resp / MSS + 1) * ACK);
			transfer(e, s, 1, resp); /* handed back */
			transfer(e, s, 0, (resp / MSS + 1) * ACK);
		}
		break;
	}
	case SC_MIRROR:
		for (j = 0; j < 600; j++) {
			unsigned int s = j % 2, dst = SITE((unsigned int)(rng_u64() % 150));
			__u64 n = unit / 600 + rng_u64() % (unit / 300);

			transfer(e, s, 0, n);
			transfer(e, s, 1, (n / MSS + 1) * ACK);
			transfer(e, dst, 1, n);
			transfer(e, dst, 0, (n / MSS + 1) * ACK);
		}
		break;
	case SC_DOWNLOAD:
		transfer(e, 0, 0, 4 * unit);
		transfer(e, 0, 1, (4 * unit / MSS) * ACK);
		for (i = 0; i < 30; i++) { /* and some browsing */
			transfer(e, SITE(i), 0, unit / 100);
			transfer(e, SITE(i), 1, 2000);
		}
		break;
	case SC_CALL_SFU:
		transfer(e, 0, 1, unit);
		transfer(e, 0, 0, unit);
		for (i = 0; i < 30; i++)
			transfer(e, SITE(i), 0, unit / 200);
		break;
	case SC_CALL_MESH:
		for (i = 0; i < 6; i++) {
			transfer(e, i, 1, unit / 6);
			transfer(e, i, 0, unit / 6);
		}
		break;
	case SC_P2P:
		for (i = 0; i < 300; i++) {
			__u64 n = unit / 300 + rng_u64() % (unit / 150);

			transfer(e, SITE(i), 1, n);
			transfer(e, SITE((i * 7) % 300), 0, n);
		}
		break;
	case SC_BROWSING:
		for (j = 0; j < 500; j++) {
			unsigned int site = SITE((unsigned int)(rng_u64() % 50));
			__u64 n = (__u64)rng_exp((double)unit / 250);

			transfer(e, site, 1, 800);
			transfer(e, site, 0, n);
			transfer(e, site, 1, (n / MSS + 1) * ACK);
		}
		break;
	case SC_BACKUP_BROWSE:
		transfer(e, 0, 1, unit);
		transfer(e, 0, 0, (unit / MSS) * ACK);
		for (j = 0; j < 300; j++) {
			unsigned int site = SITE((unsigned int)(rng_u64() % 60));
			__u64 n = unit / 300;

			transfer(e, site, 1, 800);
			transfer(e, site, 0, n);
		}
		break;
	case SC_SMALL:
		scenario(e, SC_RESIDENTIAL, unit / 64);
		break;
	case SC_RES_REVERSE: /* the harness's relay443: uploads through the relay too */
		for (j = 0; j < 400; j++) {
			unsigned int site = SITE((unsigned int)(rng_u64() % 40));
			__u64 n = unit / 400 + rng_u64() % (unit / 200);
			bool up = j % 4 == 3;

			transfer(e, 0, 0, up ? n : 600);    /* request (or upload) in */
			transfer(e, site, 1, up ? n : 600); /* passed on */
			transfer(e, site, 0, up ? 600 : n); /* response */
			transfer(e, 0, 1, up ? 600 : n);    /* handed back */
		}
		break;
	case SC_RES_1SUPER_BROWSE: /* the harness's relay443 with one super-proxy */
	case SC_CDN_BROWSE:
		for (j = 0; j < 800; j++) {
			/* sites as the harness draws them: a few popular ones get
			 * many of the requests, a quarter of them uploads */
			unsigned int site = SITE(zipf(300, 0.8)), page = SITE(400 + zipf(80, 1.1));
			__u64 n = unit / 800, p = (__u64)rng_exp((double)unit / 2400);
			bool up = j % 4 == 3;

			/* the user's own pages, acknowledged every second frame */
			transfer(e, page, 1, 2000);
			transfer(e, page, 0, p);
			transfer(e, page, 1, (p / MSS / 2 + 1) * ACK);
			if (sc == SC_CDN_BROWSE) {
				/* a web app behind one CDN: uploads, and answers about
				 * as large; small objects from the relay's sites */
				transfer(e, 0, 1, n);
				transfer(e, 0, 0, n);
				transfer(e, 0, 1, (n / MSS / 2 + 1) * ACK);
				transfer(e, site, 1, 800);
				transfer(e, site, 0, n / 4);
				continue;
			}
			transfer(e, 0, 0, up ? n : 600);    /* request (or upload) in */
			transfer(e, site, 1, up ? n : 600); /* passed on */
			transfer(e, site, 0, up ? 600 : n); /* response */
			transfer(e, site, 1, up ? 0 : (n / MSS / 2 + 1) * ACK);
			transfer(e, 0, 1, up ? 600 : n); /* handed back */
		}
		break;
	case SC_UPLOAD_STREAM:
		for (j = 0; j < 400; j++) {
			unsigned int site = SITE((unsigned int)(rng_u64() % 40));
			__u64 n = unit / 400;

			transfer(e, 0, 1, n); /* the upload */
			transfer(e, 0, 0, (n / MSS / 2 + 1) * ACK);
			transfer(e, 1, 0, n * 4 / 5); /* the stream */
			transfer(e, 1, 1, (n / MSS / 2 + 1) * ACK);
			transfer(e, site, 1, 800); /* pages */
			transfer(e, site, 0, n / 8);
			transfer(e, site, 1, (n / 8 / MSS / 2 + 1) * ACK);
		}
		break;
	case SC_SFU_BROWSE:
	case SC_MESH_BROWSE:
	case SC_MESH5_BROWSE: {
		unsigned int peers = sc == SC_SFU_BROWSE ? 1 : sc == SC_MESH_BROWSE ? 4 : 5;

		for (j = 0; j < 400; j++) { /* media both ways, pages in between */
			unsigned int site = SITE((unsigned int)(rng_u64() % 40));

			transfer(e, j % peers, 1, unit / 400);
			transfer(e, j % peers, 0, unit / 400);
			transfer(e, site, 1, 800);
			transfer(e, site, 0, unit / 800);
		}
		break;
	}
	}
}

static const struct relay_case {
	const char *desc;
	enum scenario sc;
	bool fires;
	int dir;
} relay_cases[] = {
	{ "residential proxy, 3 supers, 100 sites", SC_RESIDENTIAL, true, BWE_DIR_OUT },
	{ "residential proxy, 1 super, 40 sites", SC_RES_1SUPER, true, BWE_DIR_OUT },
	{ "mirror: in from 2, out to 150", SC_MIRROR, true, BWE_DIR_IN },
	{ "download from a CDN while browsing", SC_DOWNLOAD, false, 0 },
	{ "video call through one server", SC_CALL_SFU, false, 0 },
	{ "video call with 6 peers", SC_CALL_MESH, false, 0 },
	{ "peer-to-peer, 300 peers both ways", SC_P2P, false, 0 },
	{ "browsing 50 sites", SC_BROWSING, false, 0 },
	/* the documented false positive: policy.expected is the answer */
	{ "backup upload while browsing as much", SC_BACKUP_BROWSE, true, BWE_DIR_OUT },
	{ "a relay below min_bytes", SC_SMALL, false, 0 },
	{ "residential proxy, a quarter uploads", SC_RES_REVERSE, true, BWE_DIR_OUT },
	/* symmetric conversations: the same peers both ways are no relay */
	{ "call through one server, browsing", SC_SFU_BROWSE, false, 0 },
	/* each peer has a quarter of the inbound bytes: the old test of disjoint
	 * sets (heaviest peer <= 1/2 of the other way) took this for a relay */
	{ "call with 4 peers, browsing", SC_MESH_BROWSE, false, 0 },
	/* five call peers for four slots: the merged inbound summary drops one,
	 * which counted as sending nothing back (the harness's videocall alerts) */
	{ "call with 5 peers, browsing", SC_MESH5_BROWSE, false, 0 },
	/* the other top slots went to two sites the user browses, whose pages
	 * (several times what they got) read as the super-proxy's answer */
	{ "residential proxy, 1 super, browsing", SC_RES_1SUPER_BROWSE, true, BWE_DIR_OUT },
	/* its normal twin: the peer the upload concentrates on answers as much */
	{ "web app behind one CDN, browsing", SC_CDN_BROWSE, false, 0 },
	/* no relay either: what comes in sits on the CDN, not spread over sites
	 * (the CDN's acknowledgements among the top peers hid it before the
	 * overlap was weighed on the peers that carry the concentration) */
	{ "upload beside a stream from a CDN, browsing", SC_UPLOAD_STREAM, false, 0 },
};

static void test_relay_scenarios(void **state)
{
	static struct epoch e;
	struct bwe_policy pol;
	size_t k;

	(void)state;
	bwe_policy_default(&pol);
	rng_seed(SEED + 2);
	for (k = 0; k < ARRAY_SIZE(relay_cases); k++) {
		const struct relay_case *c = &relay_cases[k];
		struct bwe_host_stats m;
		struct bwe_relay_eval r;
		double truth_out, truth_in, spread_truth;
		unsigned int i, n_in = 0, n_out = 0;

		epoch_init(&e);
		scenario(&e, c->sc, 32ULL << 20);
		epoch_merge(&e, &m);
		bwe_relay_evaluate(&m, &pol.relay, &r);
		print_message("  %-42s %s dir %d conc %.3f..%.3f spread %.0f balance %.2f "
			      "overlap %.2f other %.2f\n",
			      c->desc, r.fired ? "FIRES" : "quiet", r.dir, r.concentration,
			      r.concentration_hi, r.spread_peers, r.balance, r.overlap,
			      r.other_top);
		if (r.fired != c->fires)
			fail_msg("%s: fired %d, want %d", c->desc, r.fired, c->fires);
		if (c->fires) {
			assert_int_equal(r.dir, c->dir);
			assert_true(r.other_top < BWE_RELAY_OTHER_MAX);
		}
		/* the report's figure is what keeps the upload beside a stream quiet */
		if (c->sc == SC_UPLOAD_STREAM)
			assert_true(r.other_top >= BWE_RELAY_OTHER_MAX);
		/* the bounds hold whatever the verdict */
		truth_out = top_share(e.tx, PEERS_MAX, pol.relay.top_peers);
		truth_in = top_share(e.rx, PEERS_MAX, pol.relay.top_peers);
		if (r.dir == BWE_DIR_OUT || r.dir == BWE_DIR_IN) {
			double t = r.dir == BWE_DIR_OUT ? truth_out : truth_in;

			assert_true(r.concentration <= t + 1e-12);
			assert_true(t <= r.concentration_hi + 1e-12);
		}
		for (i = 0; i < PEERS_MAX; i++) {
			n_out += e.tx[i] > 0;
			n_in += e.rx[i] > 0;
		}
		spread_truth = r.dir == BWE_DIR_IN ? n_out : n_in;
		if (r.dir && spread_truth >= 10) /* HLL: within 3 standard errors */
			assert_near(r.spread_peers, spread_truth, 3 * HLL_SIGMA * spread_truth);
		check_bounds(&m.hh_tx, e.tx, PEERS_MAX);
		check_bounds(&m.hh_rx, e.rx, PEERS_MAX);
	}
}

/*
 * A call whose peers the inbound summary lost: its four slots went to page
 * downloads, each counted (with SpaceSaving's error) above every call peer,
 * so the call peers sent back at most the floor. Counting them as sending
 * nothing back made a conversation a relay (overlap 0, the harness's video
 * call alerts); counted up to what they got, it is what it is.
 */
static void test_relay_untracked_answer(void **state)
{
	const __u64 M = 1ULL << 20, call = 40 * M;
	struct bwe_host_stats c;
	struct bwe_relay_eval r;
	struct bwe_policy pol;
	unsigned int i;

	(void)state;
	bwe_policy_default(&pol);
	memset(&c, 0, sizeof(c));
	for (i = 0; i < 3; i++) { /* three call peers, each 40 MiB out */
		struct bwe_addr a = peer_addr(i);

		c.hh_tx.peer[i] = bwe_hash_addr(&a);
		c.hh_tx.bytes[i] = call;
	}
	c.hh_tx.peer[3] = bwe_hash_addr(&(struct bwe_addr){ .w = { 0, 0, 0, 77 } });
	c.hh_tx.bytes[3] = M; /* the page requests */
	c.hh_tx.total = 3 * call + M;
	for (i = 0; i < 4; i++) { /* four sites' slots, each above every call peer */
		struct bwe_addr a = peer_addr(SITE(i));

		c.hh_rx.peer[i] = bwe_hash_addr(&a);
		c.hh_rx.bytes[i] = 60 * M;
		c.hh_rx.err[i] = 40 * M;
	}
	c.hh_rx.total = 3 * call + 80 * M; /* the call back, and the pages */
	for (i = 0; i < 40; i++) {
		struct bwe_addr a = peer_addr(SITE(i));

		bwe_hll_add(c.hll_src, bwe_hash_addr(&a));
	}
	for (i = 0; i < 3; i++) {
		struct bwe_addr a = peer_addr(i);

		bwe_hll_add(c.hll_src, bwe_hash_addr(&a));
		bwe_hll_add(c.hll_dst, bwe_hash_addr(&a));
	}
	bwe_relay_evaluate(&c, &pol.relay, &r);
	print_message("  call peers untracked inbound: %s dir %d conc %.3f balance %.2f "
		      "overlap %.2f\n",
		      r.fired ? "FIRES" : "quiet", r.dir, r.concentration, r.balance, r.overlap);
	assert_true(r.concentration >= pol.relay.concentration); /* the rest is as a relay's */
	assert_true(r.balance <= pol.relay.balance);
	assert_true(r.overlap >= pol.relay.overlap);
	assert_false(r.fired);

	/* a floor of 1 MiB: untracked, the peers sent back at most 1 MiB each
	 * for 40 MiB out, as a super-proxy does: the answer is bounded by it */
	for (i = 0; i < 4; i++)
		c.hh_rx.bytes[i] = c.hh_rx.err[i] = M;
	c.hh_rx.total = 4 * M;
	bwe_relay_evaluate(&c, &pol.relay, &r);
	assert_true(r.overlap <= 3.0 * (double)M / (double)(3 * call) + 1e-9);
}

/* Through bwe_detect_update(): fires, and a new epoch does not blank it at once. */
static void test_relay_signal(void **state)
{
	static struct epoch e;
	struct bwe_detect_host h;
	struct bwe_host_stats c;
	struct bwe_signals sig;
	struct bwe_policy pol;
	__s64 wall = WALL_START;

	(void)state;
	bwe_policy_default(&pol);
	rng_seed(SEED + 3);
	bwe_detect_host_init(&h);
	memset(&c, 0, sizeof(c));
	c.first_seen_ns = NS;
	c.last_seen_ns = NS;
	c.hll_epoch = 1;
	assert_int_equal(bwe_detect_update(&h, &c, INTERVAL, wall, &pol, &sig), 0); /* prime */

	epoch_init(&e);
	scenario(&e, SC_RESIDENTIAL, 32ULL << 20);
	epoch_merge(&e, &c);
	c.hll_epoch = 1;
	c.first_seen_ns = NS;
	c.last_seen_ns = NS + 10 * NS;
	wall += (__s64)INTERVAL;
	assert_int_equal(bwe_detect_update(&h, &c, INTERVAL, wall, &pol, &sig), 0);
	assert_true(sig.valid);
	assert_true(sig.sig[BWE_SIG_RELAY].fired);
	assert_true(sig.sig[BWE_SIG_RELAY].threshold == pol.relay.concentration);
	assert_true(sig.sig[BWE_SIG_RELAY].value >= pol.relay.concentration);
	assert_int_equal(sig.relay.dir, BWE_DIR_OUT);

	/* a new epoch, still empty: the last one's verdict holds */
	memset(c.hll_dst, 0, sizeof(c.hll_dst));
	memset(c.hll_src, 0, sizeof(c.hll_src));
	memset(&c.hh_tx, 0, sizeof(c.hh_tx));
	memset(&c.hh_rx, 0, sizeof(c.hh_rx));
	c.hll_epoch = 2;
	c.last_seen_ns += 10 * NS;
	wall += (__s64)INTERVAL;
	assert_int_equal(bwe_detect_update(&h, &c, INTERVAL, wall, &pol, &sig), 0);
	assert_true(sig.sig[BWE_SIG_RELAY].fired);
	/* and another one without relaying: gone */
	c.hll_epoch = 3;
	c.last_seen_ns += 10 * NS;
	wall += (__s64)INTERVAL;
	assert_int_equal(bwe_detect_update(&h, &c, INTERVAL, wall, &pol, &sig), 0);
	assert_false(sig.sig[BWE_SIG_RELAY].fired);
	bwe_detect_host_free(&h);
}

/* ---- beaconing ------------------------------------------------------------------------------ */

/* A host whose contacts come as (time, peer, port); evaluated every INTERVAL. */
struct bsim {
	struct bwe_detect_host h;
	struct bwe_host_stats c;
	struct bwe_policy pol;
	struct bwe_signals sig;
	double now; /* data-plane clock, seconds */
	__s64 wall;
	unsigned int evals, fired_evals, first_fired_contact;
	unsigned int contacts;
};

static void bsim_init(struct bsim *b)
{
	memset(b, 0, sizeof(*b));
	bwe_policy_default(&b->pol);
	bwe_detect_host_init(&b->h);
	b->now = START_S;
	b->wall = WALL_START;
	b->c.first_seen_ns = NS;
	b->c.last_seen_ns = (__u64)(START_S * NS);
	assert_int_equal(bwe_detect_update(&b->h, &b->c, INTERVAL, b->wall, &b->pol, &b->sig), 0);
}

/* Advance the clock to t, evaluating at every INTERVAL boundary passed. */
static void bsim_until(struct bsim *b, double t)
{
	while (b->now + INTERVAL <= t) {
		b->now += INTERVAL;
		b->wall += (__s64)INTERVAL;
		b->c.last_seen_ns = (__u64)(b->now * NS);
		b->c.tx_bytes += 1000; /* a live host */
		assert_int_equal(bwe_detect_update(&b->h, &b->c, INTERVAL, b->wall, &b->pol,
						   &b->sig),
				 0);
		b->evals++;
		if (b->sig.sig[BWE_SIG_BEACON].fired) {
			if (!b->fired_evals)
				b->first_fired_contact = b->contacts;
			b->fired_evals++;
		}
	}
}

static void bsim_contact(struct bsim *b, double t, unsigned int peer, __u16 port, __u8 proto,
			 bool counted)
{
	struct bwe_addr a = peer_addr(peer);

	bsim_until(b, t);
	assert_int_equal(bwe_detect_contact(&b->h, &a, port, proto, t, &b->pol), 0);
	b->contacts += counted;
}

enum arrivals {
	AR_PERIODIC, /* period * (1 + 0.005 gauss) */
	AR_UNIFORM,  /* period * (1 + jitter * uniform(-1, 1)) */
	AR_POISSON,  /* exponential, mean period */
	AR_MISSED,   /* periodic, every 5th beacon lost */
	AR_BURSTS,   /* periodic, 3 connections within 200 ms each time */
};

static const struct beacon_case {
	const char *desc;
	enum arrivals ar;
	double period, jitter;
	__u16 port;
	unsigned int noise_peers;   /* one-off contacts of other peers between beacons */
	unsigned int revisit_peers; /* peers revisited at random (a browser's CDNs) */
	bool fires;
	unsigned int max_contacts; /* to first firing: min_intervals + 1 is the fastest */
} beacon_cases[] = {
	/* as regular as a timer: the early tier, 5 intervals (detect.h) */
	{ "periodic 60 s", AR_PERIODIC, BEACON_P, 0, WEB_PORT, 0, 0, true, 6 },
	{ "periodic 10 min", AR_PERIODIC, 600, 0, WEB_PORT, 0, 0, true, 6 },
	{ "periodic, uniform +-5 %", AR_UNIFORM, BEACON_P, 0.05, WEB_PORT, 0, 0, true, 11 },
	{ "periodic, every 5th missed", AR_MISSED, BEACON_P, 0, WEB_PORT, 0, 0, true, 10 },
	{ "periodic, bursts of 3", AR_BURSTS, BEACON_P, 0, WEB_PORT, 0, 0, true, 6 },
	/* the memory of first contacts forgets some: a later start */
	{ "periodic among 20 one-off peers a minute", AR_PERIODIC, BEACON_P, 0, WEB_PORT, 20, 0,
	  true, 12 },
	{ "periodic among 30 revisited peers", AR_PERIODIC, BEACON_P, 0, WEB_PORT, 0, 30, true,
	  14 },
	{ "uniform +-30 %", AR_UNIFORM, BEACON_P, 0.30, WEB_PORT, 0, 0, false, 0 },
	{ "random (Poisson)", AR_POISSON, BEACON_P, 0, WEB_PORT, 0, 0, false, 0 },
	{ "periodic to NTP (ignored port)", AR_PERIODIC, 64, 0, NTP_PORT, 0, 0, false, 0 },
	{ "periodic 2 s (below min_period)", AR_PERIODIC, 2, 0, WEB_PORT, 0, 0, false, 0 },
	{ "periodic 2 h (above max_period)", AR_PERIODIC, 7200, 0, WEB_PORT, 0, 0, false, 0 },
};

#define BEACONS	     20 /* beacons in a series */
#define BEACON_PEER  7
#define NOISE_FIRST  1000
#define REVISIT_BASE 500

static double next_gap(const struct beacon_case *c, unsigned int i)
{
	switch (c->ar) {
	case AR_UNIFORM:
		return c->period * (1.0 + c->jitter * (2.0 * rng_unit() - 1.0));
	case AR_POISSON:
		return rng_exp(c->period);
	case AR_MISSED:
		return (i % 5 == 4 ? 2 : 1) * c->period * (1.0 + 0.005 * rng_gauss());
	case AR_PERIODIC:
	case AR_BURSTS:
	default:
		return c->period * (1.0 + 0.005 * rng_gauss());
	}
}

static void test_beacon_series(void **state)
{
	static struct bsim b;
	size_t k;

	(void)state;
	rng_seed(SEED + 4);
	for (k = 0; k < ARRAY_SIZE(beacon_cases); k++) {
		const struct beacon_case *c = &beacon_cases[k];
		unsigned int i, j, noise = NOISE_FIRST;
		double t = START_S + 1;

		bsim_init(&b);
		for (i = 0; i < BEACONS; i++) {
			double gap = next_gap(c, i),
			       slot = gap / (c->noise_peers + c->revisit_peers + 1);

			bsim_contact(&b, t, BEACON_PEER, c->port, IPPROTO_TCP, true);
			if (c->ar == AR_BURSTS) {
				bsim_contact(&b, t + 0.1, BEACON_PEER, c->port, IPPROTO_TCP, false);
				bsim_contact(&b, t + 0.2, BEACON_PEER, c->port, IPPROTO_TCP, false);
			}
			for (j = 0; j < c->noise_peers; j++)
				bsim_contact(&b, t + (j + 1) * slot, noise++, WEB_PORT, IPPROTO_TCP,
					     false);
			for (j = 0; j < c->revisit_peers; j++)
				bsim_contact(&b, t + (c->noise_peers + j + 1) * slot,
					     REVISIT_BASE +
						     (unsigned int)(rng_u64() % c->revisit_peers),
					     WEB_PORT, IPPROTO_TCP, false);
			t += gap;
		}
		bsim_until(&b, t);
		print_message("  %-40s fired in %u of %u evaluations, first at contact %u "
			      "(period %.1f s, jitter %.3f)\n",
			      c->desc, b.fired_evals, b.evals, b.first_fired_contact,
			      b.sig.beacon.period_s, b.sig.beacon.jitter);
		if (!!b.fired_evals != c->fires)
			fail_msg("%s: fired %u times, want %s", c->desc, b.fired_evals,
				 c->fires ? "some" : "none");
		if (c->fires) {
			/* the early tier's intervals at the soonest (detect.h) */
			assert_true(b.first_fired_contact >= BWE_BEACON_EARLY_N + 1);
			assert_true(b.first_fired_contact <= c->max_contacts);
		}
		bwe_detect_host_free(&b.h);
	}
}

/* A beacon that stops stops firing within BWE_BEACON_STALE periods. */
static void test_beacon_stops(void **state)
{
	static struct bsim b;
	unsigned int i;
	double t = START_S + 1;

	(void)state;
	bsim_init(&b);
	for (i = 0; i < 10; i++, t += BEACON_P)
		bsim_contact(&b, t, BEACON_PEER, WEB_PORT, IPPROTO_TCP, true);
	bsim_until(&b, t);
	assert_true(b.sig.sig[BWE_SIG_BEACON].fired);
	assert_int_equal(b.sig.beacon.dport, WEB_PORT);
	assert_int_equal(b.sig.beacon.proto, IPPROTO_TCP);
	assert_near(b.sig.beacon.period_s, BEACON_P, 0.01);
	bsim_until(&b, t + BWE_BEACON_STALE * BEACON_P + 2 * INTERVAL);
	assert_false(b.sig.sig[BWE_SIG_BEACON].fired);
	bwe_detect_host_free(&b.h);
}

/*
 * The two bounds: intervals off by 5 % either way fire only once there are
 * min_intervals of them (max_jitter), not with the early tier's 5 (3 %);
 * exact ones fire at 5, the early tier's bound as the threshold.
 */
static void test_beacon_early(void **state)
{
	static const double pattern[] = { 60, 63, 57, 63, 57, 63, 57, 60 };
	static struct bsim b;
	unsigned int i;
	double t = START_S + 1;

	(void)state;
	bsim_init(&b);
	bsim_contact(&b, t, BEACON_PEER, WEB_PORT, IPPROTO_TCP, true);
	for (i = 0; i < ARRAY_SIZE(pattern); i++) {
		t += pattern[i];
		bsim_contact(&b, t, BEACON_PEER, WEB_PORT, IPPROTO_TCP, true);
		bsim_until(&b, t + INTERVAL);
		if (i + 1 < BWE_BEACON_EARLY_N) {
			assert_false(b.sig.sig[BWE_SIG_BEACON].fired);
		} else if (i + 1 < BWE_BEACON_MIN_INTERVALS) { /* over the early bound */
			assert_false(b.sig.sig[BWE_SIG_BEACON].fired);
			assert_true(b.sig.sig[BWE_SIG_BEACON].value > BWE_BEACON_EARLY_JITTER);
			assert_near(b.sig.sig[BWE_SIG_BEACON].threshold, BWE_BEACON_EARLY_JITTER,
				    1e-12);
		} else {
			assert_true(b.sig.sig[BWE_SIG_BEACON].fired);
			assert_near(b.sig.sig[BWE_SIG_BEACON].threshold, BWE_BEACON_MAX_JITTER,
				    1e-12);
		}
	}
	bwe_detect_host_free(&b.h);

	bsim_init(&b);
	t = START_S + 1;
	for (i = 0; i <= BWE_BEACON_EARLY_N; i++, t += BEACON_P)
		bsim_contact(&b, t, BEACON_PEER, WEB_PORT, IPPROTO_TCP, true);
	bsim_until(&b, t);
	assert_true(b.sig.sig[BWE_SIG_BEACON].fired);
	assert_int_equal(b.sig.beacon.intervals, BWE_BEACON_EARLY_N);
	assert_near(b.sig.sig[BWE_SIG_BEACON].threshold, BWE_BEACON_EARLY_JITTER, 1e-12);
	bwe_detect_host_free(&b.h);
}

/*
 * The false-positive rate on random traffic: FP_PAIRS hosts, each with one
 * pair contacted at Poisson times (mean 60 s, 20 contacts): how many fire.
 * Also app polling with +-10 % uniform jitter, which looks like a beacon
 * by design: counted and printed, the rate docs/operations.md states.
 */
/* One series of BEACONS contacts at c's gaps, under the given bounds: did it fire? */
static bool series_fires(struct bsim *b, const struct beacon_case *c, __u32 min_intervals,
			 double max_jitter)
{
	double t = START_S + 1;
	unsigned int i;
	bool fired;

	bsim_init(b);
	b->pol.beacon.min_intervals = min_intervals;
	b->pol.beacon.max_jitter = max_jitter;
	for (i = 0; i < BEACONS; i++) {
		bsim_contact(b, t, BEACON_PEER, WEB_PORT, IPPROTO_TCP, true);
		t += next_gap(c, i);
	}
	bsim_until(b, t);
	fired = b->fired_evals > 0;
	bwe_detect_host_free(&b->h);
	return fired;
}

static void test_beacon_false_positives(void **state)
{
	/* the default first (with the early tier, 5 intervals at 0.03: every
	 * setting includes it, capped by its own bounds), then the settings
	 * weighed for it (docs/operations.md) */
	static const struct {
		__u32 min_intervals;
		double max_jitter;
	} grid[] = {
		{ BWE_BEACON_MIN_INTERVALS, BWE_BEACON_MAX_JITTER },
		{ 8, 0.1 },
		{ 7, 0.1 },
		{ 6, 0.1 },
		{ 5, 0.1 },
		{ 4, 0.1 },
		{ 7, 0.05 },
		{ 6, 0.05 },
		{ 5, 0.05 },
		{ 4, 0.05 },
		{ 3, 0.05 },
		{ 5, 0.03 },
		{ 4, 0.03 },
	};
	static struct bsim b;
	const struct beacon_case poisson = { .ar = AR_POISSON, .period = BEACON_P };
	const struct beacon_case polling = { .ar = AR_UNIFORM, .period = 300, .jitter = 0.10 };
	unsigned int n, fired = 0, polled = 0;
	size_t g;

	(void)state;
	for (g = 0; g < ARRAY_SIZE(grid); g++) {
		rng_seed(SEED + 5); /* the same series for every setting */
		fired = 0;
		for (n = 0; n < FP_PAIRS; n++)
			fired += series_fires(&b, &poisson, grid[g].min_intervals,
					      grid[g].max_jitter);
		print_message("  min_intervals %u, max_jitter %.2f: random pairs firing %u of %u\n",
			      grid[g].min_intervals, grid[g].max_jitter, fired, FP_PAIRS);
		if (!g) /* the default */
			assert_true(fired <= FP_MAX);
	}
	rng_seed(SEED + 6);
	for (n = 0; n < 200; n++)
		polled +=
			series_fires(&b, &polling, BWE_BEACON_MIN_INTERVALS, BWE_BEACON_MAX_JITTER);
	print_message("  polling +-10 %%: %u of 200\n", polled);
	assert_true(polled > 0); /* honest: such polling is indistinguishable */
}

/* The shapes the report shows count the relay signature and beaconing. */
static void test_shapes(void **state)
{
	struct bwe_shape_match m[BWE_SHAPE_MAX];
	struct bwe_signals s;
	struct bwe_policy pol;
	unsigned int n, i;
	bool proxy = false, botnet = false;

	(void)state;
	bwe_policy_default(&pol);
	memset(&s, 0, sizeof(s));
	s.valid = true;
	s.high_upload_run = (__u32)(pol.spike.window_s / pol.interval_s); /* sustained */
	s.peers = BWE_SHAPE_PROXY_PEERS;
	s.sig[BWE_SIG_RELAY].fired = true;
	s.relay = (struct bwe_relay_eval){ .dir = BWE_DIR_OUT,
					   .fired = true,
					   .concentration = 0.9,
					   .spread_peers = 80 };
	s.sig[BWE_SIG_BEACON].fired = true;
	s.beacon = (struct bwe_beacon_eval){ .valid = true, .period_s = 60, .jitter = 0.01 };
	n = bwe_detect_shapes(&s, &pol, m);
	for (i = 0; i < n; i++) {
		const char *want = m[i].shape == BWE_SHAPE_PROXYJACKING ? "relay signature"
									: "beaconing";

		assert_true(m[i].score >= (m[i].shape == BWE_SHAPE_PROXYJACKING ? 3U : 1U));
		assert_non_null(strstr(m[i].reasons[m[i].n_reasons - 1], want));
		proxy |= m[i].shape == BWE_SHAPE_PROXYJACKING;
		botnet |= m[i].shape == BWE_SHAPE_BOTNET;
	}
	assert_true(proxy && botnet);
	/* without them: sustained upload and many peers alone are not enough */
	s.sig[BWE_SIG_RELAY].fired = s.sig[BWE_SIG_BEACON].fired = false;
	assert_int_equal(bwe_detect_shapes(&s, &pol, m), 0);
}

/*
 * The default rules: relay or beacon alone alerts (behaviour-alert),
 * the two together quarantine (corroborated-quarantine), with both in the
 * evidence.
 */
static void test_default_rules(void **state)
{
	struct bwe_detect_global g;
	struct bwe_detect_host h;
	struct bwe_decision dec;
	struct bwe_signals s;
	struct bwe_policy pol;
	const __s64 now = WALL_START + 86400;
	bool relay = false, beacon = false;
	size_t i;

	(void)state;
	bwe_policy_default(&pol);
	bwe_detect_global_init(&g, WALL_START); /* a day old: past learning */
	bwe_detect_host_init(&h);
	memset(&s, 0, sizeof(s));
	s.valid = true;
	s.sig[BWE_SIG_RELAY] = (struct bwe_signal){ .fired = true, .value = 0.9, .threshold = 0.6 };
	assert_int_equal(bwe_detect_decide(&h, &s, &pol, &g, NULL, now, &dec), 0);
	assert_int_equal(dec.action, BWE_RESP_ALERT);
	assert_string_equal(dec.rule_name, "behaviour-alert");

	s.sig[BWE_SIG_RELAY].fired = false;
	s.sig[BWE_SIG_BEACON] =
		(struct bwe_signal){ .fired = true, .value = 0.01, .threshold = 0.1 };
	assert_int_equal(bwe_detect_decide(&h, &s, &pol, &g, NULL, now, &dec), 0);
	assert_int_equal(dec.action, BWE_RESP_ALERT);
	assert_string_equal(dec.rule_name, "behaviour-alert");

	s.sig[BWE_SIG_RELAY].fired = true;
	assert_int_equal(bwe_detect_decide(&h, &s, &pol, &g, NULL, now, &dec), 0);
	assert_int_equal(dec.action, BWE_RESP_QUARANTINE);
	assert_string_equal(dec.rule_name, "corroborated-quarantine");
	for (i = 0; i < dec.n_evidence; i++) {
		relay |= dec.evidence[i].sig == BWE_SIG_RELAY;
		beacon |= dec.evidence[i].sig == BWE_SIG_BEACON;
	}
	assert_true(relay && beacon);
	bwe_detect_host_free(&h);
}

/* ---- flood ------------------------------------------------------------------------------ */

/*
 * One interval of a stream beside browsing: pps packets of size bytes a
 * second (out: sent; else received), one packet of back_size the other
 * way every back_every of them (0: none), over peers peers (1: peer 0).
 */
static const struct flood_case {
	const char *desc;
	unsigned int pps, size;
	bool out;
	unsigned int back_every, back_size, peers;
	bool fires;
} flood_cases[] = {
	{ "UDP flood to one target while browsing", 5000, 200, true, 0, 0, 1, true },
	{ "SYN flood, 1 % answered", 3000, 64, true, 100, 64, 1, true },
	{ "small packets to a server that answers each", 2000, 200, true, 1, 200, 1, false },
	{ "bulk upload to one provider", 3300, MSS, true, 2, ACK, 1, false },
	{ "download: its ACK stream", 8300, MSS, false, 2, ACK, 1, false },
	{ "video call", 280, 1100, true, 1, 1100, 1, false },
	{ "scan over 300 peers (fan-out's)", 3000, 64, true, 0, 0, 300, false },
	{ "flood under min_pps", 800, 200, true, 0, 0, 1, false },
};

static void flood_scenario(struct epoch *e, const struct flood_case *fc)
{
	unsigned int i, j;

	for (i = 0; i < (unsigned int)INTERVAL; i++) {
		for (j = 0; j < 20; j++) { /* browsing: pages from 20 sites a second */
			frame(e, SITE(j), 0, MSS);
			frame(e, SITE(j), 1, ACK);
		}
		for (j = 0; j < fc->pps; j++) {
			unsigned int peer = fc->peers > 1 ? SITE(100 + j % fc->peers) : 0;

			frame(e, peer, fc->out, fc->size);
			if (fc->back_every && j % fc->back_every == 0)
				frame(e, peer, !fc->out, fc->back_size);
		}
	}
}

/* Through bwe_detect_update(), one interval after priming, with the bounds checked. */
static void test_flood_scenarios(void **state)
{
	static struct epoch e;
	struct bwe_detect_host h;
	struct bwe_host_stats c;
	struct bwe_signals sig;
	struct bwe_policy pol;
	size_t k;

	(void)state;
	bwe_policy_default(&pol);
	for (k = 0; k < ARRAY_SIZE(flood_cases); k++) {
		const struct flood_case *fc = &flood_cases[k];
		double truth_share, truth_reply, pkts = 0;
		struct bwe_addr a0 = peer_addr(0);
		unsigned int i;

		bwe_detect_host_init(&h);
		memset(&c, 0, sizeof(c));
		c.first_seen_ns = c.last_seen_ns = NS;
		c.hll_epoch = 1;
		assert_int_equal(bwe_detect_update(&h, &c, INTERVAL, WALL_START, &pol, &sig), 0);
		epoch_init(&e);
		flood_scenario(&e, fc);
		epoch_merge(&e, &c);
		c.first_seen_ns = NS;
		c.last_seen_ns = NS + 10 * NS;
		c.hll_epoch = 1;
		assert_int_equal(bwe_detect_update(&h, &c, INTERVAL, WALL_START + 10, &pol, &sig),
				 0);
		print_message("  %-44s %s %.0f pps of %.0f B, top peer %.3f, reply %.3f\n",
			      fc->desc, sig.sig[BWE_SIG_FLOOD].fired ? "FIRES" : "quiet",
			      sig.flood.pps, sig.flood.mean_size, sig.flood.share, sig.flood.reply);
		if (sig.sig[BWE_SIG_FLOOD].fired != fc->fires)
			fail_msg("%s: fired %d, want %d", fc->desc, sig.sig[BWE_SIG_FLOOD].fired,
				 fc->fires);
		for (i = 0; i < NCPU; i++)
			pkts += (double)e.cpu[i].tx_packets;
		assert_near(sig.flood.pps, pkts / INTERVAL, 1e-9);
		assert_near(sig.sig[BWE_SIG_FLOOD].value, sig.flood.pps, 1e-9);
		/* the bounds: the share never overstated, the reply never understated */
		truth_share = top_share(e.tx, PEERS_MAX, 1);
		assert_true(sig.flood.share <= truth_share + 1e-12);
		if (e.tx[0] > 0 && sig.flood.peer == bwe_hash_addr(&a0)) {
			truth_reply = e.rx[0] / e.tx[0];
			assert_true(sig.flood.reply + 1e-12 >= fmin(truth_reply, 1.0));
		}
	}
	bwe_detect_host_free(&h);
}

/* Bad arguments, and the table's allocation released. */
static void test_beacon_args(void **state)
{
	struct bwe_detect_host h;
	struct bwe_policy pol;
	struct bwe_addr a = peer_addr(1);

	(void)state;
	bwe_policy_default(&pol);
	bwe_detect_host_init(&h);
	assert_int_equal(bwe_detect_contact(NULL, &a, 1, IPPROTO_TCP, 1.0, &pol), -EINVAL);
	assert_int_equal(bwe_detect_contact(&h, &a, 1, IPPROTO_TCP, NAN, &pol), -EINVAL);
	assert_null(h.beacon);
	assert_int_equal(bwe_detect_contact(&h, &a, NTP_PORT, IPPROTO_UDP, 1.0, &pol), 0);
	assert_null(h.beacon); /* an ignored port costs nothing */
	assert_int_equal(bwe_detect_contact(&h, &a, WEB_PORT, IPPROTO_TCP, 1.0, &pol), 0);
	assert_non_null(h.beacon);
	bwe_detect_host_free(&h);
	assert_null(h.beacon);
}

/*
 * The beacon table holds what the host's contacts need: no pair slot for
 * one-off contacts, 2, 4, 8 slots as repeated pairs come, never more than
 * BWE_BEACON_PAIRS for a host that repeats contacts with many peers (the
 * slots are filled in order, so the choice of a slot to give up is the one
 * a table of BWE_BEACON_PAIRS from the start makes: test_beacon_series).
 */
static void test_beacon_table_growth(void **state)
{
	static struct bsim b;
	static const struct {
		unsigned int repeated; /* peers contacted twice */
		__u32 slots;
	} cases[] = { { 0, 0 }, { 1, 2 },  { 2, 2 },   { 3, 4 },
		      { 5, 8 }, { 9, 16 }, { 16, 16 }, { 200, 16 } };
	unsigned int k, p;
	double t;

	(void)state;
	for (k = 0; k < ARRAY_SIZE(cases); k++) {
		bsim_init(&b);
		t = START_S + 1;
		bsim_contact(&b, t, NOISE_FIRST + 9999, WEB_PORT, IPPROTO_TCP, false);
		for (p = 0; p < cases[k].repeated; p++) {
			bsim_contact(&b, t += 0.01, NOISE_FIRST + p, WEB_PORT, IPPROTO_TCP, false);
			bsim_contact(&b, t + 5.0, NOISE_FIRST + p, WEB_PORT, IPPROTO_TCP, false);
		}
		assert_non_null(b.h.beacon);
		if (b.h.beacon->n_pair != cases[k].slots)
			fail_msg("%u repeated peers: %u slots, want %u", cases[k].repeated,
				 b.h.beacon->n_pair, cases[k].slots);
		bwe_detect_host_free(&b.h);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hh_bounds),
		cmocka_unit_test(test_hh_merge),
		cmocka_unit_test(test_relay_scenarios),
		cmocka_unit_test(test_relay_untracked_answer),
		cmocka_unit_test(test_relay_signal),
		cmocka_unit_test(test_beacon_series),
		cmocka_unit_test(test_beacon_stops),
		cmocka_unit_test(test_beacon_early),
		cmocka_unit_test(test_beacon_false_positives),
		cmocka_unit_test(test_shapes),
		cmocka_unit_test(test_default_rules),
		cmocka_unit_test(test_flood_scenarios),
		cmocka_unit_test(test_beacon_args),
		cmocka_unit_test(test_beacon_table_growth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
