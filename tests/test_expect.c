// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_expect.c - expected activity and the proxyware signal in the pure
 * library: schedules (lib/expect.c), the fan-out sketch check with its
 * error bound, and what lib/detect.c makes of struct bwe_detect_extra (the
 * proxyware hits taken out of blocklist; upload discounted up to
 * max_rate, the excess judged; fanout held back).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bwe_util.h"
#include "detect.h"
#include "expect.h"
#include "feed.h"

#define MONDAY	    1704067200LL /* 2024-01-01 00:00:00 UTC, a Monday */
#define NS	    1000000000ULL
#define OLD_HOST_NS (30ULL * 86400 * NS)
#define INTERVAL    10.0     /* seconds, the default policy.interval */
#define MBIT	    125000.0 /* bytes/s */
#define TRIALS	    20000    /* foreign peers tried against a sketch */

/* ---- schedules -------------------------------------------------------------------- */

static unsigned int minutes(const struct bwe_schedule *s)
{
	unsigned int i, n = 0;

	for (i = 0; i < BWE_SCHEDULE_WORDS; i++)
		n += (unsigned int)__builtin_popcountll(s->bits[i]);
	return n;
}

/* A Unix time: day 0 = Monday, hh:mm UTC, in the week of MONDAY. */
static __s64 at(int day, int hh, int mm)
{
	return MONDAY + day * 86400LL + hh * 3600LL + mm * 60LL;
}

static void test_schedule_parse(void **state)
{
	static const struct {
		const char *text;
		unsigned int minutes;
		int in_day, in_h, in_m;	   /* a minute inside */
		int out_day, out_h, out_m; /* a minute outside */
	} ok[] = {
		{ "Sun 01:00-04:00", 180, 6, 1, 0, 6, 4, 0 },
		{ "sun 01:00-04:00", 180, 6, 3, 59, 6, 0, 59 },
		{ "Mon-Fri 02:00-02:30", 150, 4, 2, 29, 5, 2, 0 },
		{ "Fri-Mon 00:00-24:00", 4 * 1440, 0, 12, 0, 1, 12, 0 },
		{ "daily 12:00-13:00", 7 * 60, 3, 12, 30, 3, 13, 0 },
		{ "Sat 23:00-01:00", 120, 6, 0, 59, 6, 1, 0 },	/* past midnight into Sunday */
		{ "Sun 23:30-00:30", 60, 0, 0, 15, 6, 23, 29 }, /* into Monday: the week wraps */
		{ "Sun 01:00-04:00, Wed 01:00-02:00", 240, 2, 1, 30, 2, 2, 0 },
		{ " Tue 10:00-10:01 ,Tue 10:00-10:01 ", 1, 1, 10, 0, 1, 10, 1 },
	};
	static const struct {
		const char *text, *why;
	} bad[] = {
		{ "", "an empty window" },
		{ "Sun 01:00-04:00,", "an empty window" },
		{ "Sun", "a window is DAYS HH:MM-HH:MM" },
		{ "Sunday 01:00-04:00", "days are Mon Tue Wed Thu Fri Sat Sun" },
		{ "Mon-Funday 01:00-04:00", "days are" },
		{ "Sun 1:00-4:00", "times are HH:MM-HH:MM" },
		{ "Sun 01:00", "times are" },
		{ "Sun 01:60-02:00", "times are" },
		{ "Sun 24:00-01:00", "times are" },
		{ "Sun 23:00-24:01", "times are" },
		{ "Sun 25:00-26:00", "times are" },
	};
	struct bwe_schedule s, before;
	char err[BWE_SCHEDULE_ERR_LEN];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(ok); i++) {
		if (bwe_schedule_parse(ok[i].text, &s, err, sizeof(err)))
			fail_msg("\"%s\": %s", ok[i].text, err);
		if (minutes(&s) != ok[i].minutes)
			fail_msg("\"%s\": %u minutes, want %u", ok[i].text, minutes(&s),
				 ok[i].minutes);
		assert_true(bwe_schedule_active(&s, at(ok[i].in_day, ok[i].in_h, ok[i].in_m)));
		assert_false(bwe_schedule_active(&s, at(ok[i].out_day, ok[i].out_h, ok[i].out_m)));
		/* a week later, and before the epoch, the same */
		assert_true(bwe_schedule_active(&s, at(ok[i].in_day, ok[i].in_h, ok[i].in_m) +
							    7 * 86400LL));
		assert_true(bwe_schedule_active(&s, at(ok[i].in_day, ok[i].in_h, ok[i].in_m) -
							    2900 * 7 * 86400LL));
	}
	memset(&before, 0xa5, sizeof(before));
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		s = before;
		if (!bwe_schedule_parse(bad[i].text, &s, err, sizeof(err)))
			fail_msg("\"%s\" accepted", bad[i].text);
		if (!strstr(err, bad[i].why))
			fail_msg("\"%s\": \"%s\" does not say \"%s\"", bad[i].text, err,
				 bad[i].why);
		assert_memory_equal(&s, &before, sizeof(s)); /* untouched */
	}
	assert_int_equal(bwe_minute_of_week(MONDAY), 0);
	assert_int_equal(bwe_minute_of_week(0), 3 * 1440); /* Thursday 00:00 */
	assert_int_equal(bwe_minute_of_week(-60), 3 * 1440 - 1);
}

/* ---- the fan-out sketch check --------------------------------------------------------- */

static struct bwe_addr v4(__u32 host_order)
{
	struct bwe_addr a;

	bwe_addr_from_v4(__builtin_bswap32(host_order), &a);
	return a;
}

/*
 * A host that talked only to the activity's peers and ports is within its
 * sketch; a foreign peer is noticed with probability at least 1 - k/32
 * (k listed addresses), as expect.h says: measured over TRIALS peers.
 */
static void test_sketch_bound(void **state)
{
	struct bwe_prefix peers[1];
	__u16 ports[] = { 443 };
	struct bwe_expected e = { .peers = peers, .n_peers = 1, .ports = ports, .n_ports = 1 };
	__u8 host[BWE_HLL_REGS], port[BWE_HLL_REGS] = { 0 };
	unsigned int i, noticed = 0, k = 4;
	struct bwe_addr a;

	(void)state;
	assert_int_equal(bwe_prefix_parse("203.0.113.80/30", &peers[0], 0), 0);
	assert_int_equal(bwe_expected_addrs(peers, 1), k);
	bwe_expected_sketch(&e);
	/* every listed address, and only them: within */
	memset(host, 0, sizeof(host));
	for (i = 0; i < k; i++) {
		a = v4(0xcb007150 + i); /* 203.0.113.80 + i */
		bwe_hll_add(host, bwe_hash_addr(&a));
	}
	assert_true(bwe_sketch_within(host, e.sketch_dst));
	bwe_hll_add(port, bwe_hash_port(443));
	assert_true(bwe_sketch_within(port, e.sketch_port));
	bwe_hll_add(port, bwe_hash_port(8080));
	assert_false(bwe_sketch_within(port, e.sketch_port));
	/* one foreign peer more */
	for (i = 0; i < TRIALS; i++) {
		__u8 h2[BWE_HLL_REGS];

		memcpy(h2, host, sizeof(h2));
		a = v4(0xc6336400 + i); /* from 198.51.100.0 on */
		bwe_hll_add(h2, bwe_hash_addr(&a));
		noticed += !bwe_sketch_within(h2, e.sketch_dst);
	}
	if ((double)noticed / TRIALS < 1.0 - (double)k / BWE_HLL_REGS - 0.01)
		fail_msg("a foreign peer noticed %u of %u times, want >= %.3f", noticed, TRIALS,
			 1.0 - (double)k / BWE_HLL_REGS);
	/* too wide to check: no sketch, nothing discounted */
	assert_int_equal(bwe_prefix_parse("198.51.96.0/20", &peers[0], 0), 0);
	assert_true(bwe_expected_addrs(peers, 1) > BWE_EXPECTED_ADDRS_MAX);
	bwe_expected_sketch(&e);
	memset(host, 0, sizeof(host));
	assert_true(bwe_sketch_within(host, e.sketch_dst));
	a = v4(0xc6336001);
	bwe_hll_add(host, bwe_hash_addr(&a));
	assert_false(bwe_sketch_within(host, e.sketch_dst));
}

/* ---- what the detector makes of struct bwe_detect_extra --------------------------------- */

struct sim {
	struct bwe_detect_host h;
	struct bwe_host_stats c;
	struct bwe_expected_seen seen; /* what h.extra.expected_seen points to */
	__s64 wall;
};

static void sim_init(struct sim *s)
{
	memset(s, 0, sizeof(*s));
	bwe_detect_host_init(&s->h);
	s->h.extra.expected_seen = &s->seen;
	s->c.first_seen_ns = NS;
	s->c.last_seen_ns = NS + OLD_HOST_NS;
	s->wall = MONDAY;
}

static void step(struct sim *s, const struct bwe_policy *pol, double tx_bps,
		 struct bwe_signals *out)
{
	s->c.tx_bytes += (__u64)(tx_bps * INTERVAL);
	s->c.rx_bytes += (__u64)(MBIT * INTERVAL);
	s->c.last_seen_ns += (__u64)(INTERVAL * NS);
	s->wall += (__s64)INTERVAL;
	assert_int_equal(bwe_detect_update(&s->h, &s->c, INTERVAL, s->wall, pol, out), 0);
}

/* Hits the caller attributes to proxyware feeds raise proxyware, not blocklist. */
static void test_proxyware_signal(void **state)
{
	struct bwe_policy pol;
	struct bwe_signals sig;
	struct sim s;

	(void)state;
	bwe_policy_default(&pol);
	sim_init(&s);
	step(&s, &pol, MBIT, &sig);
	step(&s, &pol, MBIT, &sig);
	/* five hits, all on proxyware feeds' peers */
	s.c.bl_hits += 5;
	s.h.extra.proxyware_hits += 5;
	step(&s, &pol, MBIT, &sig);
	assert_int_equal(sig.new_pw_hits, 5);
	assert_int_equal(sig.new_bl_hits, 0);
	assert_true(sig.sig[BWE_SIG_PROXYWARE].fired);
	assert_true(sig.sig[BWE_SIG_PROXYWARE].value == 5.0);
	assert_false(sig.sig[BWE_SIG_BLOCKLIST].fired);
	assert_string_equal(bwe_signal_name(BWE_SIG_PROXYWARE), "proxyware");
	assert_string_equal(bwe_signal_unit(BWE_SIG_PROXYWARE), "hits");
	/* mixed: 4 hits, 1 of them proxyware: blocklist fires with 3 */
	s.c.bl_hits += 4;
	s.h.extra.proxyware_hits += 1;
	step(&s, &pol, MBIT, &sig);
	assert_int_equal(sig.new_bl_hits, 3);
	assert_true(sig.sig[BWE_SIG_BLOCKLIST].fired);
	assert_true(sig.sig[BWE_SIG_PROXYWARE].value == 6.0);
	/* the caller cannot claim more hits than the data plane counted */
	s.c.bl_hits += 2;
	s.h.extra.proxyware_hits += 10;
	step(&s, &pol, MBIT, &sig);
	assert_int_equal(sig.new_pw_hits, 2);
	assert_int_equal(sig.new_bl_hits, 0);
	/* the default policy: an alert, and a corroborating signal for quarantine */
	assert_true(pol.rules[1].signals & (1U << BWE_SIG_PROXYWARE));
	assert_string_equal(pol.rules[3].name, "proxyware-alert");
	/* counters restart: primed, nothing counted twice */
	s.c.bl_hits = 1;
	s.c.first_seen_ns += NS;
	s.h.extra.proxyware_hits = 0;
	step(&s, &pol, MBIT, &sig);
	assert_false(sig.valid);
	s.c.bl_hits += 1;
	s.h.extra.proxyware_hits += 1;
	step(&s, &pol, MBIT, &sig);
	assert_int_equal(sig.new_pw_hits, 1);
	assert_int_equal(sig.new_bl_hits, 0);
	bwe_detect_host_free(&s.h);
}

/*
 * Expected activity: a trusted 1 Mbit/s host starts a 20 Mbit/s upload.
 * Discounted up to a max_rate above it, nothing spikes and the baseline
 * stays put; with a max_rate of 8 Mbit/s the 12 Mbit/s excess spikes; with
 * none, the whole upload does. fanout is held back while expected_fanout.
 */
static void test_expected_discount(void **state)
{
	static const struct {
		double max_rate; /* bytes/s; < 0: no expected activity */
		bool spikes;
		double counted; /* tx_bps the detector judges */
	} cases[] = {
		{ 24 * MBIT, false, 0.0 },
		{ 8 * MBIT, true, 12 * MBIT },
		{ -1, true, 20 * MBIT },
	};
	struct bwe_policy pol;
	struct bwe_signals sig;
	struct sim s;
	size_t i, t;
	bool fired;

	(void)state;
	bwe_policy_default(&pol);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		sim_init(&s);
		for (t = 0; t < 400; t++) /* past learning_period (1h) */
			step(&s, &pol, MBIT, &sig);
		assert_true(sig.trusted);
		s.h.extra.expected_rate = cases[i].max_rate >= 0 ? (__u64)cases[i].max_rate : 0;
		fired = false;
		for (t = 0; t < 6; t++) {
			/* all of it measured to the activity's peers */
			s.seen.tx_lo += (__u64)(20 * MBIT * INTERVAL);
			step(&s, &pol, 20 * MBIT, &sig);
			fired |= sig.sig[BWE_SIG_SPIKE].fired;
		}
		if (fired != cases[i].spikes)
			fail_msg("case %zu: spike %d, want %d", i, fired, cases[i].spikes);
		if (fabs(sig.tx_bps - cases[i].counted) > 1.0)
			fail_msg("case %zu: tx_bps %g, want %g", i, sig.tx_bps, cases[i].counted);
		assert_true(fabs(sig.expected_bps + sig.tx_bps - 20 * MBIT) < 1.0);
		bwe_detect_host_free(&s.h);
	}

	/* fan-out to 2000 peers: fires, unless every peer is an expected one */
	sim_init(&s);
	step(&s, &pol, MBIT, &sig);
	for (t = 0; t < 2000; t++)
		bwe_hll_add(s.c.hll_dst, (__u32)(t * 2654435761U));
	s.h.extra.expected_fanout = true;
	step(&s, &pol, MBIT, &sig);
	assert_false(sig.sig[BWE_SIG_FANOUT].fired);
	assert_true(sig.peers > 1000); /* still computed and shown */
	s.h.extra.expected_fanout = false;
	step(&s, &pol, MBIT, &sig);
	assert_true(sig.sig[BWE_SIG_FANOUT].fired);
	bwe_detect_host_free(&s.h);
}

/*
 * Per peer: a trusted host (1 Mbit/s up) starts a 20 Mbit/s backup to its
 * listed provider while its user browses (1 Mbit/s up to 30 sites, 20
 * Mbit/s down from them), frame by frame into the data plane's summaries.
 * Only the bytes measured to the provider are discounted (never more than
 * were sent, never more than max_rate), so the backup while browsing is
 * quiet, and relay too (the provider is left out of it), while an
 * unexpected upload beside the backup, or the backup above max_rate, is
 * judged as usual.
 */
#define PROVIDER 0xcb007150U /* 203.0.113.80 */
#define SITE0	 0xc6336410U /* 198.51.100.16 on */
#define OTHER	 0xc6336480U /* 198.51.100.128: not listed */

static void frames(struct bwe_host_stats *c, __u32 peer, bool out, double bytes)
{
	struct bwe_addr a = v4(peer);
	__u32 h = bwe_hash_addr(&a);

	for (; bytes > 0; bytes -= 1500) {
		__u64 len = bytes >= 1500 ? 1500 : (__u64)bytes;

		if (out) {
			c->tx_bytes += len;
			bwe_hh_add(&c->hh_tx, h, len);
			bwe_hll_add(c->hll_dst, h);
		} else {
			c->rx_bytes += len;
			bwe_hh_add(&c->hh_rx, h, len);
			bwe_hll_add(c->hll_src, h);
		}
	}
}

static void test_expected_per_peer(void **state)
{
	static const struct {
		const char *desc;
		double backup, other, max_rate; /* Mbit/s; max_rate < 0: not listed */
		bool spikes;
		int relay; /* -1: either */
	} cases[] = {
		{ "backup while browsing, listed", 20, 0, 50, false, 0 },
		{ "the same backup, not listed", 20, 0, -1, true, 1 },
		{ "an unexpected upload beside the listed backup", 20, 12, 50, true, -1 },
		{ "the listed backup above its max_rate", 20, 0, 8, true, -1 },
	};
	struct bwe_prefix peers[1];
	__u16 ports[] = { 443 };
	static struct bwe_expected e;
	struct bwe_policy pol;
	struct bwe_signals sig;
	struct sim s;
	size_t i, t, j;

	(void)state;
	bwe_policy_default(&pol);
	assert_int_equal(bwe_prefix_parse("203.0.113.80/32", &peers[0], 0), 0);
	e = (struct bwe_expected){ .peers = peers, .n_peers = 1, .ports = ports, .n_ports = 1 };
	bwe_expected_sketch(&e);
	assert_int_equal(e.n_peer_hash, 1);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		bool spiked = false, relayed = false;
		__u64 sent_before = 0;

		sim_init(&s);
		for (t = 0; t < 400; t++) /* past learning_period (1h) */
			step(&s, &pol, MBIT, &sig);
		assert_true(sig.trusted);
		s.c.hll_epoch = 1; /* a fresh epoch: the summaries start empty */
		s.h.extra.expected_rate = cases[i].max_rate >= 0 ? (__u64)(cases[i].max_rate * MBIT)
								 : 0;
		for (t = 0; t < 6; t++) {
			__u64 lo, hi;

			for (j = 0; j < 100; j++) { /* interleaved, a hundredth at a time */
				frames(&s.c, PROVIDER, true,
				       cases[i].backup * MBIT * INTERVAL / 100);
				frames(&s.c, PROVIDER, false,
				       cases[i].backup * MBIT * INTERVAL / 4500);
				frames(&s.c, SITE0 + j % 30, true, MBIT * INTERVAL / 100);
				frames(&s.c, SITE0 + j % 30, false, 20 * MBIT * INTERVAL / 100);
				if (cases[i].other > 0)
					frames(&s.c, OTHER, true,
					       cases[i].other * MBIT * INTERVAL / 100);
			}
			memset(&s.seen, 0, sizeof(s.seen));
			if (cases[i].max_rate >= 0)
				bwe_expected_measure(&e, &s.c.hh_tx, &s.c.hh_rx, &s.seen);
			s.c.last_seen_ns += (__u64)(INTERVAL * NS);
			s.wall += (__s64)INTERVAL;
			assert_int_equal(bwe_detect_update(&s.h, &s.c, INTERVAL, s.wall, &pol,
							   &sig),
					 0);
			spiked |= sig.sig[BWE_SIG_SPIKE].fired;
			relayed |= sig.sig[BWE_SIG_RELAY].fired;
			/* the bound: never more than was sent to the provider, nor max_rate */
			{
				struct bwe_addr a = v4(PROVIDER);
				__u64 sent = (__u64)(cases[i].backup * MBIT * INTERVAL) * (t + 1);

				bwe_hh_bounds(&s.c.hh_tx, bwe_hash_addr(&a), &lo, &hi);
				assert_true(lo <= sent && sent <= hi);
				assert_true(sig.expected_bps * INTERVAL <=
					    (double)(sent - sent_before) + 1.0);
				sent_before = sent;
			}
			assert_true(sig.expected_bps <= (double)s.h.extra.expected_rate + 1e-6);
		}
		print_message("  %-48s spike %d relay %d, judged %.2f Mbit/s, discounted %.2f\n",
			      cases[i].desc, spiked, relayed, sig.tx_bps / MBIT,
			      sig.expected_bps / MBIT);
		if (spiked != cases[i].spikes)
			fail_msg("%s: spike %d, want %d", cases[i].desc, spiked, cases[i].spikes);
		if (cases[i].relay >= 0 && relayed != (cases[i].relay > 0))
			fail_msg("%s: relay %d, want %d", cases[i].desc, relayed, cases[i].relay);
		/* listed and within max_rate: the browsing alone is judged (within 5 %) */
		if (cases[i].max_rate >= cases[i].backup)
			assert_true(fabs(sig.tx_bps - (1 + cases[i].other) * MBIT) <=
				    0.05 * cases[i].backup * MBIT);
		bwe_detect_host_free(&s.h);
	}
}

/* ---- the shipped example of a proxyware feed --------------------------------------------- */

#define PROXYWARE_EXAMPLE "policies/examples/proxyware.txt"

struct doc_check {
	size_t n, outside;
};

/* Every entry inside RFC 5737's 198.51.100.0/24: documentation only. */
static int doc_only(const struct bwe_indicator *ind, void *ctx)
{
	struct doc_check *d = ctx;
	struct bwe_prefix doc;

	assert_int_equal(bwe_prefix_parse("198.51.100.0/24", &doc, 0), 0);
	d->n++;
	if (ind->kind != BWE_IND_PREFIX || !bwe_prefix_covers(&doc, &ind->pfx))
		d->outside++;
	return 0;
}

static void test_proxyware_example(void **state)
{
	struct bwe_feed_parse_opts o = { .format = BWE_FMT_PLAIN, .on_ind = doc_only };
	struct doc_check d = { 0 };
	struct bwe_feed_stats st;
	char buf[8192];
	size_t len;
	FILE *f = fopen(PROXYWARE_EXAMPLE, "r");

	(void)state;
	assert_non_null(f);
	len = fread(buf, 1, sizeof(buf), f);
	assert_true(len > 0 && len < sizeof(buf));
	fclose(f);
	o.ctx = &d;
	assert_int_equal(bwe_feed_parse(buf, len, &o, &st), 0);
	assert_int_equal(st.rejected, 0);
	assert_int_equal(d.n, 3);
	assert_int_equal(d.outside, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_schedule_parse),	  cmocka_unit_test(test_sketch_bound),
		cmocka_unit_test(test_proxyware_signal),  cmocka_unit_test(test_expected_discount),
		cmocka_unit_test(test_expected_per_peer), cmocka_unit_test(test_proxyware_example),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
