// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_detect.c - table-driven unit tests of lib/detect.c: baselines on
 * synthetic rate series (with their detection delays), HyperLogLog
 * accuracy, the per-host signals, attack shapes and response rules.
 * No network, no privileges, no files. Every random series comes from a
 * fixed seed, so every run sees the same numbers.
 *
 * A series row is {description, shape, rate, noise, length, hour_of_week,
 * expected episodes of spike firings, maximum delay}; the delay counts
 * intervals from the change, the change's own interval being 1, so with
 * the default spike.sustain of 3 the fastest possible detection is 3.
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

#include <cmocka.h>

#include "bwe_util.h"
#include "detect.h"

#define SEED	    0x5eed2024ULL
#define MONDAY	    1704067200LL /* 2024-01-01 00:00:00 UTC, a Monday */
#define NS	    1000000000ULL
#define OLD_HOST_NS (30ULL * 86400 * NS) /* seen by the data plane for 30 days */
#define INTERVAL    10.0		 /* seconds, the default policy.interval */
#define PER_HOUR    360			 /* intervals */
#define PER_DAY	    (24 * PER_HOUR)
#define PER_WEEK    (7 * PER_DAY)
#define CHANGE_AT   (2 * PER_HOUR)		/* series change after two hours */
#define MBIT	    125000.0			/* bytes/s */
#define HLL_SIGMA   (1.04 / sqrt(BWE_HLL_REGS)) /* relative standard error */
#define HLL_TRIALS  20

/* cmocka before 1.1.6 has no assert_double_equal() */
#define assert_near(a, b, eps) \
	do { \
		double a_ = (a), b_ = (b); \
		if (!(fabs(a_ - b_) <= (eps))) \
			fail_msg("%s = %g, want %g +- %g", #a, a_, b_, (double)(eps)); \
	} while (0)

/* ---- fixed-seed random numbers -------------------------------------------- */

static __u64 rng_state;

static void rng_seed(__u64 seed)
{
	rng_state = seed;
}

/* splitmix64 */
static __u64 rng_u64(void)
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

/* ---- a simulated host --------------------------------------------------------- */

struct sim {
	struct bwe_detect_host h;
	struct bwe_host_stats c; /* cumulative counters, as the daemon merges them */
	__s64 wall;
	double carry_tx, carry_rx; /* fractions of bytes not yet counted */
};

static void sim_init(struct sim *s, __s64 start, __u64 age_ns)
{
	memset(s, 0, sizeof(*s));
	bwe_detect_host_init(&s->h);
	s->c.first_seen_ns = NS;
	s->c.last_seen_ns = NS + age_ns;
	s->wall = start;
}

/* One interval at the given rates; extra counters are added by the caller. */
static void sim_step(struct sim *s, const struct bwe_policy *pol, double tx_bps, double rx_bps,
		     struct bwe_signals *out)
{
	double tx = tx_bps * INTERVAL + s->carry_tx, rx = rx_bps * INTERVAL + s->carry_rx;

	s->c.tx_bytes += (__u64)tx;
	s->c.rx_bytes += (__u64)rx;
	s->carry_tx = tx - floor(tx);
	s->carry_rx = rx - floor(rx);
	s->c.last_seen_ns += (__u64)(INTERVAL * NS);
	s->wall += (__s64)INTERVAL;
	assert_int_equal(bwe_detect_update(&s->h, &s->c, INTERVAL, s->wall, pol, out), 0);
}

static void sim_free(struct sim *s)
{
	bwe_detect_host_free(&s->h);
}

/* ---- series --------------------------------------------------------------------- */

enum series_shape {
	SER_STEP,    /* x10 from the change on */
	SER_RAMP,    /* +1 % an interval from the change on */
	SER_BURST,   /* x20 for the change's interval only */
	SER_FLAT,    /* the base rate */
	SER_DIURNAL, /* base * (1 + 0.8 sin(2 pi t / 24h)) */
	SER_WEEKLY,  /* a x10 backup every Monday 02:00-02:30 UTC */
};

#define STEP_FACTOR   10.0
#define RAMP_GROWTH   1.01
#define BURST_FACTOR  20.0
#define DIURNAL_AMPL  0.8
#define BACKUP_FACTOR 10.0
#define BACKUP_START  (2 * PER_HOUR) /* intervals after Monday 00:00 */
#define BACKUP_LEN    (PER_HOUR / 2)
#define EPISODE_GAP   PER_HOUR /* intervals: closer firings are one episode */

static double series_rate(enum series_shape shape, double base, size_t t)
{
	size_t w = t % PER_WEEK;

	switch (shape) {
	case SER_STEP:
		return t >= CHANGE_AT ? base * STEP_FACTOR : base;
	case SER_RAMP:
		return t >= CHANGE_AT ? base * pow(RAMP_GROWTH, (double)(t - CHANGE_AT)) : base;
	case SER_BURST:
		return t == CHANGE_AT ? base * BURST_FACTOR : base;
	case SER_DIURNAL:
		return base * (1.0 + DIURNAL_AMPL * sin(2.0 * M_PI * (double)t / PER_DAY));
	case SER_WEEKLY:
		return w >= BACKUP_START && w < BACKUP_START + BACKUP_LEN ? base * BACKUP_FACTOR
									  : base;
	case SER_FLAT:
	default:
		return base;
	}
}

static const struct series_case {
	const char *desc;
	enum series_shape shape;
	double base;  /* bytes/s */
	double noise; /* gaussian standard deviation, share of the rate */
	size_t n;     /* intervals */
	bool hour_of_week;
	unsigned int episodes;	/* spike firings apart by more than EPISODE_GAP */
	unsigned int max_delay; /* 0: no change to detect; else intervals, change = 1 */
} series_cases[] = {
	/*
	 * Limits from 161 other seeds: a step is caught in its 3rd interval
	 * (the sustain rule; with 30 % noise twice in the 4th and 6th); a ramp
	 * between its 42nd and 94th (median 66-69: the rate has doubled).
	 */
	{ "step x10", SER_STEP, 2 * MBIT, 0.10, CHANGE_AT + 2 * PER_HOUR, false, 1, 3 },
	{ "step x10, noisy", SER_STEP, 2 * MBIT, 0.30, CHANGE_AT + 2 * PER_HOUR, false, 1, 6 },
	{ "ramp +1 %/interval", SER_RAMP, 0.8 * MBIT, 0.10, CHANGE_AT + PER_HOUR, false, 1, 100 },
	{ "ramp +1 %/interval, quiet", SER_RAMP, 0.8 * MBIT, 0.05, CHANGE_AT + PER_HOUR, false, 1,
	  100 },
	{ "single burst x20", SER_BURST, 2 * MBIT, 0.10, CHANGE_AT + PER_HOUR, false, 0, 0 },
	{ "noisy flat +-30 %, a week", SER_FLAT, 20 * MBIT, 0.30, PER_WEEK, false, 0, 0 },
	{ "noisy flat, hour of week", SER_FLAT, 20 * MBIT, 0.30, PER_WEEK, true, 0, 0 },
	{ "diurnal, 5 days", SER_DIURNAL, 20 * MBIT, 0.10, 5 * PER_DAY, false, 0, 0 },
	{ "diurnal, 5 days, hour of week", SER_DIURNAL, 20 * MBIT, 0.10, 5 * PER_DAY, true, 0, 0 },
	{ "weekly backup, 3 weeks", SER_WEEKLY, 2 * MBIT, 0.10, 3 * PER_WEEK, false, 3, 0 },
	/* the hour-of-week bucket vetoes the backup from its second week on */
	{ "weekly backup, 3 weeks, hour of week", SER_WEEKLY, 2 * MBIT, 0.10, 3 * PER_WEEK, true, 1,
	  0 },
};

static void test_series(void **state)
{
	struct bwe_policy pol;
	struct bwe_signals sig;
	struct sim s;
	size_t i, t;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(series_cases); i++) {
		const struct series_case *c = &series_cases[i];
		unsigned int episodes = 0, first = 0;
		size_t last = 0;

		bwe_policy_default(&pol);
		pol.hour_of_week = c->hour_of_week;
		rng_seed(SEED + i);
		sim_init(&s, MONDAY, OLD_HOST_NS);
		for (t = 0; t < c->n; t++) {
			double x =
				series_rate(c->shape, c->base, t) * (1.0 + c->noise * rng_gauss());

			sim_step(&s, &pol, fmax(x, 0.0), MBIT, &sig);
			if (!sig.sig[BWE_SIG_SPIKE].fired)
				continue;
			if (c->max_delay && t < CHANGE_AT)
				fail_msg("%s: spike at interval %zu, before the change", c->desc,
					 t);
			if (!first)
				first = (unsigned int)t + 1;
			if (!episodes || t - last > EPISODE_GAP)
				episodes++;
			last = t;
		}
		sim_free(&s);
		if (c->max_delay)
			print_message("%-40s detected in interval %u of the change (limit %u)\n",
				      c->desc, first ? first - CHANGE_AT : 0, c->max_delay);
		else
			print_message("%-40s %u spike episodes\n", c->desc, episodes);
		if (episodes != c->episodes)
			fail_msg("%s: %u spike episodes, want %u", c->desc, episodes, c->episodes);
		if (c->max_delay && (!first || first - CHANGE_AT > c->max_delay))
			fail_msg("%s: detected in interval %u, want at most %u", c->desc,
				 first ? first - CHANGE_AT : 0, c->max_delay);
	}
}

/*
 * Why the variance has a longer half-life than the mean (detect.h): with
 * both at 5m, the ramp of test_series teaches the variance its growth and
 * its z-score stays over the threshold for 0 to 3 intervals in a row (161
 * seeds), too few for spike.sustain; with the variance 4x slower it stays
 * over it for 150 and more.
 */
static void test_ramp_variance_half_life(void **state)
{
	static const double slower[] = { 1.0, BWE_DETECT_VAR_SLOWER };
	unsigned int longest[ARRAY_SIZE(slower)];
	size_t k, t;

	(void)state;
	for (k = 0; k < ARRAY_SIZE(slower); k++) {
		struct bwe_ewma e = { 0 };
		double am = bwe_alpha(INTERVAL, 300.0), av = bwe_alpha(INTERVAL, 300.0 * slower[k]);
		unsigned int run = 0;

		rng_seed(SEED);
		longest[k] = 0;
		for (t = 0; t < CHANGE_AT + PER_HOUR; t++) {
			double x = series_rate(SER_RAMP, MBIT, t) * (1.0 + 0.1 * rng_gauss());

			run = bwe_ewma_z(&e, x, BWE_SPIKE_MIN_SD_SHARE, BWE_SPIKE_MIN_SD_RATE) >=
					      BWE_SPIKE_Z
				      ? run + 1
				      : 0;
			if (t >= CHANGE_AT && run > longest[k])
				longest[k] = run;
			bwe_ewma_update(&e, x, am, av, BWE_SPIKE_MIN_SD_SHARE,
					BWE_SPIKE_MIN_SD_RATE);
		}
		print_message(
			"ramp, variance half-life %.0fx the mean's: longest run at z >= %.0f: %u\n",
			slower[k], BWE_SPIKE_Z, longest[k]);
	}
	assert_true(longest[0] < BWE_SPIKE_SUSTAIN);
	assert_true(longest[1] >= BWE_SPIKE_SUSTAIN);
}

/* Baselines are not trusted, and spikes cannot fire, during learning_period. */
static void test_learning(void **state)
{
	struct bwe_policy pol;
	struct bwe_signals sig;
	struct sim s;
	size_t t;

	(void)state;
	bwe_policy_default(&pol);
	rng_seed(SEED);
	sim_init(&s, MONDAY, OLD_HOST_NS);
	sim_step(&s, &pol, MBIT, MBIT, &sig);
	assert_false(sig.valid); /* the first sample primes */
	for (t = 1; t < PER_HOUR + 10; t++) {
		/* a x50 jump well inside the learning hour */
		double x = (t >= PER_HOUR / 2 ? 50.0 : 1.0) * MBIT * (1.0 + 0.1 * rng_gauss());

		sim_step(&s, &pol, x, MBIT, &sig);
		assert_true(sig.valid);
		assert_int_equal(sig.trusted, (double)(t - 1) * INTERVAL >= (double)pol.learning_s);
		if (!sig.trusted) {
			assert_false(sig.sig[BWE_SIG_SPIKE].fired);
			assert_true(sig.z_tx[1] == 0.0);
		}
	}
	sim_free(&s);
}

/* Baselines are built for the policy's windows: new windows start them over, the same keep them. */
static void test_windows_change(void **state)
{
	struct bwe_policy pol, other;
	struct bwe_signals sig;
	struct sim s;
	size_t t, i;

	(void)state;
	bwe_policy_default(&pol);
	assert_true(pol.n_windows >= 2);
	sim_init(&s, MONDAY, OLD_HOST_NS);
	for (t = 0; t < PER_HOUR + 10; t++)
		sim_step(&s, &pol, MBIT, MBIT, &sig);
	assert_true(sig.trusted);
	assert_true(s.h.base_n[0] > PER_HOUR);
	/* the same windows, in another copy of the policy: kept */
	other = pol;
	sim_step(&s, &other, MBIT, MBIT, &sig);
	assert_true(sig.trusted);
	assert_true(s.h.base_n[0] > PER_HOUR);
	/* one window's length changed: every baseline starts over */
	other.windows_s[1] += 60;
	sim_step(&s, &other, MBIT, MBIT, &sig);
	assert_false(sig.trusted);
	for (i = 0; i < other.n_windows; i++)
		assert_true(s.h.base_n[i] <= 1);
	for (t = 0; t < PER_HOUR + 10; t++)
		sim_step(&s, &other, MBIT, MBIT, &sig);
	assert_true(sig.trusted);
	/* one window fewer, the others the same: starts over too */
	other.n_windows--;
	sim_step(&s, &other, MBIT, MBIT, &sig);
	assert_false(sig.trusted);
	assert_true(s.h.base_n[0] <= 1);
	/* back to the first policy's windows: a change again */
	for (t = 0; t < PER_HOUR + 10; t++)
		sim_step(&s, &other, MBIT, MBIT, &sig);
	sim_step(&s, &pol, MBIT, MBIT, &sig);
	assert_false(sig.trusted);
	sim_free(&s);
}

/* The z-score floors: a perfectly flat baseline. */
static void test_sd_floor(void **state)
{
	struct bwe_ewma e = { 0 };
	int i;

	(void)state;
	assert_true(bwe_ewma_z(&e, 5.0, 0.1, 1.0) == 0.0); /* empty */
	for (i = 0; i < 100; i++)
		bwe_ewma_update(&e, 1000.0, 0.1, 0.1, 0.1, 10.0);
	assert_true(e.var == 0.0);
	/* 1 % more: without a floor z would be infinite; with it 10/100 */
	assert_near(bwe_ewma_z(&e, 1010.0, 0.1, 10.0), 0.1, 1e-9);
	/* the absolute floor wins over a small relative one */
	assert_near(bwe_ewma_z(&e, 1010.0, 0.001, 20.0), 0.5, 1e-9);
	assert_near(bwe_ewma_sd(&e, 0.1, 10.0), 100.0, 1e-9);
}

/* Warm-up: the first samples give the plain mean and population variance. */
static void test_ewma_warmup(void **state)
{
	static const double xs[] = { 2, 4, 4, 4, 5, 5, 7, 9 }; /* mean 5, variance 4 */
	struct bwe_ewma e = { 0 };
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(xs); i++)
		bwe_ewma_update(&e, xs[i], 0.01, 0.01, 0.0, 0.0);
	assert_near(e.mean, 5.0, 1e-9);
	/* 9 is 2 sd out at that point: inside the 3-sd band, so no clipping */
	assert_near(e.var, 4.0, 1e-9);
	assert_near(bwe_alpha(10.0, 10.0), 0.5, 1e-12);
	assert_near(bwe_alpha(300.0, 300.0 / 3.0), 0.875, 1e-12);
}

/* ---- HyperLogLog ------------------------------------------------------------------ */

/*
 * 1.04 / sqrt(32) ~ 18 % relative standard error. Each size: the first
 * sketch within 3 sigma; over HLL_TRIALS sketches, the mean within 3 sigma
 * of a mean and the root mean square error within 2 sigma. (Over 500
 * seeds each bound fails for 0.1 to 0.4 % of the sizes: the error of
 * HyperLogLog is skewed to the right.)
 */
static void test_hll(void **state)
{
	static const unsigned int sizes[] = { 10, 100, 1000, 10000 };
	__u8 regs[BWE_HLL_REGS];
	size_t i, k, j;

	(void)state;
	memset(regs, 0, sizeof(regs));
	assert_true(bwe_hll_estimate(regs) == 0.0);
	rng_seed(SEED);
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		double n = sizes[i], sum = 0.0, sq = 0.0, first = 0.0;

		for (k = 0; k < HLL_TRIALS; k++) {
			double e;

			memset(regs, 0, sizeof(regs));
			for (j = 0; j < sizes[i]; j++) {
				__u32 h = (__u32)rng_u64();

				bwe_hll_add(regs, h);
				bwe_hll_add(regs, h); /* repeats do not count */
			}
			e = bwe_hll_estimate(regs);
			if (!k)
				first = e;
			sum += e;
			sq += (e - n) * (e - n);
		}
		print_message("HLL %5u distinct: first %.0f, mean %.0f, rms error %.0f%%\n",
			      sizes[i], first, sum / HLL_TRIALS, 100 * sqrt(sq / HLL_TRIALS) / n);
		if (fabs(first - n) / n > 3 * HLL_SIGMA)
			fail_msg("HLL of %u distinct: %.0f, off by more than 3 sigma", sizes[i],
				 first);
		if (fabs(sum / HLL_TRIALS - n) / n > 3 * HLL_SIGMA / sqrt(HLL_TRIALS))
			fail_msg("HLL of %u distinct: biased mean %.0f", sizes[i],
				 sum / HLL_TRIALS);
		if (sqrt(sq / HLL_TRIALS) / n > 2 * HLL_SIGMA)
			fail_msg("HLL of %u distinct: rms error %.0f%%", sizes[i],
				 100 * sqrt(sq / HLL_TRIALS) / n);
	}
}

static void test_hour_of_week(void **state)
{
	(void)state;
	assert_int_equal(bwe_hour_of_week(MONDAY), 0);
	assert_int_equal(bwe_hour_of_week(MONDAY + 3600 * 2 + 59), 2);
	assert_int_equal(bwe_hour_of_week(MONDAY - 1), 167); /* Sunday 23:59:59 */
	assert_int_equal(bwe_hour_of_week(0), 72);	     /* Thursday 00:00 */
	assert_int_equal(bwe_hour_of_week(-1), 71);
}

/* ---- signals ---------------------------------------------------------------------- */

/* A trusted old host moving mbit both ways. */
static void warm(struct sim *s, const struct bwe_policy *pol, size_t n)
{
	struct bwe_signals sig;
	size_t t;

	for (t = 0; t < n; t++)
		sim_step(s, pol, MBIT, MBIT, &sig);
}

static void test_signal_blocklist(void **state)
{
	struct bwe_policy pol;
	struct bwe_signals sig;
	struct sim s;
	size_t t;

	(void)state;
	bwe_policy_default(&pol);
	pol.blocklist.min_hits = 3;
	sim_init(&s, MONDAY, OLD_HOST_NS);
	warm(&s, &pol, 2);
	s.c.bl_hits += 2;
	sim_step(&s, &pol, MBIT, MBIT, &sig);
	assert_int_equal(sig.new_bl_hits, 2);
	assert_false(sig.sig[BWE_SIG_BLOCKLIST].fired); /* 2 < 3 */
	/* the episode goes on while hits come within the window (15m) */
	for (t = 0; t < 80; t++)
		sim_step(&s, &pol, MBIT, MBIT, &sig);
	s.c.bl_hits += 1;
	sim_step(&s, &pol, MBIT, MBIT, &sig);
	assert_true(sig.sig[BWE_SIG_BLOCKLIST].fired);
	assert_true(sig.sig[BWE_SIG_BLOCKLIST].value == 3.0);
	assert_true(sig.sig[BWE_SIG_BLOCKLIST].threshold == 3.0);
	/* quiet for longer than the window: the episode is over */
	for (t = 0; t < 90; t++)
		sim_step(&s, &pol, MBIT, MBIT, &sig);
	assert_true(sig.sig[BWE_SIG_BLOCKLIST].fired); /* exactly 15m: still in */
	sim_step(&s, &pol, MBIT, MBIT, &sig);
	assert_false(sig.sig[BWE_SIG_BLOCKLIST].fired);
	assert_true(sig.sig[BWE_SIG_BLOCKLIST].value == 0.0);
	sim_free(&s);
}

/*
 * Inbound packets from a listed address (bl_in_hits, spoofable) are shown
 * but never fire the blocklist signal, not even with min_hits 1 and
 * thousands of them, so one spoofed frame plus any other signal cannot
 * satisfy a corroboration rule; one outbound contact (bl_hits) does.
 */
static void test_signal_blocklist_inbound_never_fires(void **state)
{
	struct bwe_policy pol;
	struct bwe_signals sig;
	struct bwe_decision d;
	struct bwe_detect_global g;
	struct sim s;
	size_t t;

	(void)state;
	bwe_policy_default(&pol);
	pol.blocklist.min_hits = 1;
	pol.monitor_only = 0;
	pol.learning_s = INTERVAL;
	bwe_detect_global_init(&g, MONDAY - 7 * 86400);
	pol.n_rules = 1;
	memset(&pol.rules[0], 0, sizeof(pol.rules[0]));
	snprintf(pol.rules[0].name, sizeof(pol.rules[0].name), "blocklist-and-fanout");
	pol.rules[0].signals = (1U << BWE_SIG_BLOCKLIST) | (1U << BWE_SIG_FANOUT);
	pol.rules[0].min_signals = 1;
	pol.rules[0].action = BWE_RESP_QUARANTINE;
	pol.rules[0].ttl_s = 60;
	sim_init(&s, MONDAY, OLD_HOST_NS);
	warm(&s, &pol, 2);
	for (t = 0; t < 10; t++) {
		s.c.bl_in_hits += 1000;
		sim_step(&s, &pol, MBIT, MBIT, &sig);
		assert_true(sig.valid);
		assert_int_equal(sig.new_bl_in_hits, 1000);
		assert_int_equal(sig.new_bl_hits, 0);
		assert_false(sig.sig[BWE_SIG_BLOCKLIST].fired);
		assert_true(sig.sig[BWE_SIG_BLOCKLIST].value == 0.0);
		assert_int_equal(bwe_detect_decide(&s.h, &sig, &pol, &g, NULL, s.wall, &d), 0);
		assert_int_equal(d.action, BWE_RESP_NONE);
	}
	/* the host's own contact: one packet is enough */
	s.c.bl_hits += 1;
	sim_step(&s, &pol, MBIT, MBIT, &sig);
	assert_int_equal(sig.new_bl_hits, 1);
	assert_true(sig.sig[BWE_SIG_BLOCKLIST].fired);
	assert_int_equal(bwe_detect_decide(&s.h, &sig, &pol, &g, NULL, s.wall, &d), 0);
	assert_int_equal(d.action, BWE_RESP_QUARANTINE);
	assert_int_equal(d.n_evidence, 1);
	assert_int_equal(d.evidence[0].sig, BWE_SIG_BLOCKLIST);
	sim_free(&s);
}

static void test_signal_volumes(void **state)
{
	struct bwe_policy pol;
	struct bwe_signals sig;
	struct sim s;
	size_t t;

	(void)state;
	bwe_policy_default(&pol);
	sim_init(&s, MONDAY, OLD_HOST_NS);
	warm(&s, &pol, 2);
	/* 8 Mbit/s up, 1 Mbit/s down, 70 % to odd ports, for 15 minutes */
	for (t = 0; t < 90; t++) {
		s.c.nonstd_tx_bytes += (__u64)(0.7 * 8 * MBIT * INTERVAL);
		sim_step(&s, &pol, 8 * MBIT, MBIT, &sig);
		if (t == 0) {
			/* 11 MB uploaded: enough for the share (10M), not the ratio (50M) */
			assert_true(sig.sig[BWE_SIG_NONSTD_PORTS].fired);
			assert_false(sig.sig[BWE_SIG_UPLOAD_RATIO].fired);
			assert_true(sig.upload_ratio == 0.0);
		}
	}
	assert_true(sig.sig[BWE_SIG_NONSTD_PORTS].fired);
	assert_near(sig.nonstd_share, 0.7, 0.02);
	assert_true(sig.sig[BWE_SIG_UPLOAD_RATIO].fired);
	assert_near(sig.upload_ratio, 8.0, 0.5);
	assert_true(sig.tx_window_bytes > (double)pol.upload_ratio.min_bytes);
	/* an old host is never new */
	assert_false(sig.sig[BWE_SIG_NEW_HOST].fired);
	sim_free(&s);

	/* a host the data plane met 5 minutes ago moving 2 x 8 Mbit/s */
	sim_init(&s, MONDAY, 300 * NS);
	warm(&s, &pol, 2);
	for (t = 0; t < 90 && !sig.sig[BWE_SIG_NEW_HOST].fired; t++)
		sim_step(&s, &pol, 8 * MBIT, 8 * MBIT, &sig);
	assert_true(sig.sig[BWE_SIG_NEW_HOST].fired);
	assert_true(sig.sig[BWE_SIG_NEW_HOST].value >= (double)pol.new_host.bytes);
	assert_true(sig.age_s < (double)pol.learning_s);
	sim_free(&s);
}

/* Fill a sketch with n distinct random items. */
static void sketch(__u8 regs[BWE_HLL_REGS], unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		bwe_hll_add(regs, (__u32)rng_u64());
}

static void test_signal_fanout(void **state)
{
	struct bwe_policy pol;
	struct bwe_signals sig;
	struct sim s;
	size_t t;

	(void)state;
	bwe_policy_default(&pol);
	rng_seed(SEED);
	sim_init(&s, MONDAY, OLD_HOST_NS);
	s.c.hll_epoch = 7;
	warm(&s, &pol, 2);
	sketch(s.c.hll_dst, 2000); /* far above 200 peers */
	sketch(s.c.hll_port, 20);
	sim_step(&s, &pol, MBIT, MBIT, &sig);
	assert_true(sig.sig[BWE_SIG_FANOUT].fired);
	assert_true(sig.peers > 1000 && sig.peers < 4000);
	assert_true(sig.sig[BWE_SIG_FANOUT].threshold == 200.0);

	/* a new epoch starts empty: the last one's count stays for a window */
	s.c.hll_epoch = 8;
	memset(s.c.hll_dst, 0, sizeof(s.c.hll_dst));
	memset(s.c.hll_port, 0, sizeof(s.c.hll_port));
	sketch(s.c.hll_dst, 3);
	sim_step(&s, &pol, MBIT, MBIT, &sig);
	assert_true(sig.sig[BWE_SIG_FANOUT].fired);
	for (t = 0; t < 30; t++) /* 5 minutes */
		sim_step(&s, &pol, MBIT, MBIT, &sig);
	assert_false(sig.sig[BWE_SIG_FANOUT].fired);
	assert_true(sig.peers < 10);

	/* ports alone fire too, and are what the evidence shows */
	sketch(s.c.hll_port, 1000);
	sim_step(&s, &pol, MBIT, MBIT, &sig);
	assert_true(sig.sig[BWE_SIG_FANOUT].fired);
	assert_true(sig.sig[BWE_SIG_FANOUT].threshold == 100.0);
	assert_true(sig.sig[BWE_SIG_FANOUT].value == sig.ports);

	/* a host silent for a window has no fan-out */
	for (t = 0; t < 30; t++)
		sim_step(&s, &pol, 0, 0, &sig);
	assert_false(sig.sig[BWE_SIG_FANOUT].fired);
	sim_free(&s);
}

/* A value the report only shows: kept as float, within 6e-7 of it (detect.h). */
#define assert_shown(r, x) assert_near((r), (x), 6e-7 * fabs(x))

/*
 * Every field the report and the shapes read, restored as the update gave
 * it: exactly what they decide from, to 7 digits what they only show.
 */
static void assert_restored(const struct bwe_signals *out, const struct bwe_detect_host *h,
			    const struct bwe_policy *pol)
{
	struct bwe_shape_match m1[BWE_SHAPE_MAX], m2[BWE_SHAPE_MAX];
	int wi = bwe_policy_window_index(pol, pol->spike.window_s);
	const struct bwe_relay_eval *a = &out->relay, *b;
	struct bwe_signals_kept k;
	struct bwe_signals r;
	unsigned int i, n;

	bwe_signals_keep(out, &k);
	bwe_signals_restore(&k, h, pol, &r);
	b = &r.relay;
	assert_int_equal(r.valid, out->valid);
	if (!out->valid)
		return;
	assert_int_equal(r.trusted, out->trusted);
	assert_int_equal(r.hour_trusted, out->hour_trusted);
	assert_int_equal(r.high_upload_run, out->high_upload_run);
	assert_true(wi < 0 || r.z_tx[wi] == out->z_tx[wi]);
	assert_true(r.peers == out->peers && r.ports == out->ports);
	assert_true(r.fanout_tx_bytes == out->fanout_tx_bytes);
	assert_true(r.upload_ratio == out->upload_ratio);
	assert_true(r.tx_window_bytes == out->tx_window_bytes);
	assert_shown(r.tx_bps, out->tx_bps);
	assert_shown(r.expected_bps, out->expected_bps);
	assert_shown(r.nonstd_share, out->nonstd_share);
	assert_int_equal(b->dir, a->dir);
	assert_int_equal(b->fired, a->fired);
	assert_shown(b->concentration, a->concentration);
	assert_shown(b->concentration_hi, a->concentration_hi);
	assert_shown(b->spread_peers, a->spread_peers);
	assert_shown(b->balance, a->balance);
	assert_shown(b->overlap, a->overlap);
	assert_shown(b->other_top, a->other_top);
	assert_shown(b->tx_bytes, a->tx_bytes);
	assert_shown(b->rx_bytes, a->rx_bytes);
	assert_int_equal(r.beacon.valid, out->beacon.valid);
	assert_int_equal(r.beacon.proto, out->beacon.proto);
	assert_int_equal(r.beacon.dport, out->beacon.dport);
	assert_int_equal(r.beacon.intervals, out->beacon.intervals);
	assert_memory_equal(&r.beacon.peer, &out->beacon.peer, sizeof(r.beacon.peer));
	assert_shown(r.beacon.period_s, out->beacon.period_s);
	assert_shown(r.beacon.jitter, out->beacon.jitter);
	assert_shown(r.flood.pps, out->flood.pps);
	assert_shown(r.flood.mean_size, out->flood.mean_size);
	assert_shown(r.flood.share, out->flood.share);
	assert_shown(r.flood.reply, out->flood.reply);
	assert_int_equal(r.flood.peer, out->flood.peer);
	for (i = 0; i < BWE_SIG_MAX; i++) {
		if (r.sig[i].fired != out->sig[i].fired ||
		    !(fabs(r.sig[i].value - out->sig[i].value) <= 6e-7 * fabs(out->sig[i].value)) ||
		    r.sig[i].threshold != out->sig[i].threshold || r.sig[i].run != out->sig[i].run)
			fail_msg("%s: restored %d %.17g/%g run %u, was %d %.17g/%g run %u",
				 bwe_signal_name(i), r.sig[i].fired, r.sig[i].value,
				 r.sig[i].threshold, r.sig[i].run, out->sig[i].fired,
				 out->sig[i].value, out->sig[i].threshold, out->sig[i].run);
	}
	/* the shapes decide the same; a reason's last digit may differ (detect.h) */
	n = bwe_detect_shapes(out, pol, m1);
	assert_int_equal(bwe_detect_shapes(&r, pol, m2), n);
	for (i = 0; i < n; i++) {
		assert_int_equal(m2[i].shape, m1[i].shape);
		assert_int_equal(m2[i].score, m1[i].score);
		assert_int_equal(m2[i].of, m1[i].of);
		assert_int_equal(m2[i].n_reasons, m1[i].n_reasons);
	}
}

/*
 * What the daemon keeps of an evaluation for bwctl report gives it back
 * (bwe_signals_keep(), bwe_signals_restore()): a host through every signal
 * (spikes, listed and proxyware contacts, non-standard ports, upload
 * ratio, fan-out by peers and by ports, relay, beacon, flood, epochs, a
 * counter reset), checked after each of its updates.
 */
static void test_signals_kept(void **state)
{
	const struct bwe_addr peer = { .w = { 0, 0, 0, 99 } };
	struct bwe_policy pol;
	struct bwe_signals sig;
	unsigned int fired = 0, i;
	struct sim s;
	size_t t;

	(void)state;
	bwe_policy_default(&pol);
	rng_seed(SEED);
	sim_init(&s, MONDAY, 60 * NS); /* a new host */
	for (t = 0; t < 3000; t++) {
		/* single bursts, and a sustained x20 between t 800 and 830 */
		double up = (rng_u64() % 50 ? 1.0 : 40.0) * (t >= 800 && t < 830 ? 20.0 : 1.0) *
			    MBIT * (1.0 + 0.2 * rng_gauss());
		double down = up * (t % 500 < 100 ? 0.05 : 0.8); /* at times an upload */
		__u64 pkts = rng_u64() % 8 ? 100 : 30000;
		unsigned int k;

		if (t % 30 == 0) { /* a new fan-out epoch */
			s.c.hll_epoch++;
			memset(s.c.hll_dst, 0, sizeof(s.c.hll_dst));
			memset(s.c.hll_port, 0, sizeof(s.c.hll_port));
			memset(&s.c.hh_tx, 0, sizeof(s.c.hh_tx));
			memset(&s.c.hh_rx, 0, sizeof(s.c.hh_rx));
		}
		sketch(s.c.hll_dst, (unsigned int)(rng_u64() % (t % 200 < 20 ? 400 : 4)));
		sketch(s.c.hll_port, (unsigned int)(rng_u64() % (t % 300 < 20 ? 300 : 3)));
		sketch(s.c.hll_src, (unsigned int)(rng_u64() % 40));
		/* one heavy peer out, the inbound bytes spread over others: relay, flood */
		s.c.hh_tx.peer[0] = 1;
		s.c.hh_tx.bytes[0] += (__u64)(up * INTERVAL * 0.9);
		s.c.hh_tx.total += (__u64)(up * INTERVAL);
		for (k = 0; k < BWE_HH_SLOTS; k++) {
			s.c.hh_rx.peer[k] = 2 + k;
			s.c.hh_rx.bytes[k] += (__u64)(down * INTERVAL * 0.1);
		}
		s.c.hh_rx.total += (__u64)(down * INTERVAL);
		s.c.tx_packets += pkts;
		if (rng_u64() % 20 == 0)
			s.c.bl_hits += 1 + rng_u64() % 5;
		if (rng_u64() % 40 == 0)
			s.h.extra.proxyware_hits += 1;
		if (rng_u64() % 3 == 0)
			s.c.nonstd_tx_bytes += (__u64)(up * INTERVAL * 0.8);
		if (t % 7 == 0) /* a contact every 70 s, for a while */
			bwe_detect_contact(&s.h, &peer, 8443, 6,
					   (double)s.c.last_seen_ns / NS + INTERVAL, &pol);
		if (t == 1500) { /* the data plane recreated the entry */
			s.c.tx_bytes = s.c.rx_bytes = s.c.nonstd_tx_bytes = 0;
			s.c.bl_hits = 0;
			s.h.extra.proxyware_hits = 0;
		}
		sim_step(&s, &pol, up, down, &sig);
		assert_restored(&sig, &s.h, &pol);
		for (i = 0; i < BWE_SIG_MAX; i++)
			fired |= sig.sig[i].fired ? 1U << i : 0;
	}
	/* the walk went through every signal */
	for (i = 0; i < BWE_SIG_MAX; i++)
		if (!(fired & (1U << i)))
			fail_msg("%s never fired", bwe_signal_name(i));
	sim_free(&s);
}

/* A counter going backwards (LRU eviction, reload) primes instead of wrapping. */
static void test_counter_reset(void **state)
{
	struct bwe_policy pol;
	struct bwe_signals sig;
	struct sim s;

	(void)state;
	bwe_policy_default(&pol);
	sim_init(&s, MONDAY, OLD_HOST_NS);
	warm(&s, &pol, 5);
	s.c.tx_bytes = 0;
	sim_step(&s, &pol, MBIT, MBIT, &sig);
	assert_false(sig.valid);
	sim_step(&s, &pol, MBIT, MBIT, &sig);
	assert_true(sig.valid);
	assert_near(sig.tx_bps, MBIT, 1.0);
	s.c.first_seen_ns += NS; /* the entry was recreated */
	sim_step(&s, &pol, MBIT, MBIT, &sig);
	assert_false(sig.valid);
	assert_int_equal(bwe_detect_update(&s.h, &s.c, 0.0, s.wall, &pol, &sig), -EINVAL);
	assert_int_equal(bwe_detect_update(&s.h, &s.c, NAN, s.wall, &pol, &sig), -EINVAL);
	sim_free(&s);
}

/* ---- shapes ------------------------------------------------------------------------ */

static void test_shapes(void **state)
{
	struct bwe_shape_match m[BWE_SHAPE_MAX];
	struct bwe_policy pol;
	struct bwe_signals s;
	unsigned int n;

	(void)state;
	bwe_policy_default(&pol);

	/* a relay: 20 Mbit/s for an hour, 300 peers, tx ~ rx, odd ports */
	memset(&s, 0, sizeof(s));
	s.valid = true;
	s.high_upload_run = 360;
	s.peers = 300;
	s.ports = 5;
	s.fanout_tx_bytes = 300.0 * 1024 * 1024;
	s.tx_window_bytes = 2e9;
	s.upload_ratio = 1.1;
	s.nonstd_share = 0.8;
	s.sig[BWE_SIG_NONSTD_PORTS].fired = true;
	s.sig[BWE_SIG_FANOUT].fired = true;
	n = bwe_detect_shapes(&s, &pol, m);
	assert_int_equal(n, 1);
	assert_int_equal(m[0].shape, BWE_SHAPE_PROXYJACKING);
	assert_int_equal(m[0].score, 4);
	assert_int_equal(m[0].n_reasons, 4);
	assert_non_null(strstr(m[0].reasons[2], "relays what it receives"));
	assert_string_equal(bwe_shape_name(m[0].shape), "proxyjacking");

	/* the same without the sustained upload is no proxy */
	s.high_upload_run = 1;
	assert_int_equal(bwe_detect_shapes(&s, &pol, m), 0);

	/* a scanner: 5000 peers, 60 kB in all; and a C2 contact */
	memset(&s, 0, sizeof(s));
	s.valid = true;
	s.peers = 5000;
	s.ports = 3;
	s.fanout_tx_bytes = 60e3;
	s.sig[BWE_SIG_FANOUT].fired = true;
	n = bwe_detect_shapes(&s, &pol, m);
	assert_int_equal(n, 1);
	assert_int_equal(m[0].shape, BWE_SHAPE_BOTNET);
	assert_int_equal(m[0].score, 2);
	s.sig[BWE_SIG_FANOUT].fired = false;
	s.sig[BWE_SIG_BLOCKLIST].fired = true;
	s.sig[BWE_SIG_BLOCKLIST].value = 4;
	n = bwe_detect_shapes(&s, &pol, m);
	assert_int_equal(n, 1);
	assert_non_null(strstr(m[0].reasons[0], "4 blocklist hits"));

	/* nothing at all */
	memset(&s, 0, sizeof(s));
	s.valid = true;
	assert_int_equal(bwe_detect_shapes(&s, &pol, m), 0);
}

/* ---- rules --------------------------------------------------------------------------- */

#define NOW	  (MONDAY + 7 * 86400)
#define SIGS(...) ((const enum bwe_signal_id[]){ __VA_ARGS__, BWE_SIG_MAX })

static struct bwe_signals fired(const enum bwe_signal_id *ids)
{
	struct bwe_signals s;

	memset(&s, 0, sizeof(s));
	s.valid = true;
	s.trusted = true;
	for (; *ids != BWE_SIG_MAX; ids++) {
		s.sig[*ids].fired = true;
		s.sig[*ids].value = 10.0 + *ids;
		s.sig[*ids].threshold = 1.0 + *ids;
	}
	return s;
}

static const struct bwe_addr *addr(const char *text)
{
	static struct bwe_addr a;

	assert_int_equal(bwe_addr_parse(text, &a), 0);
	return &a;
}

/* Decide, check, commit. */
static struct bwe_decision act(struct bwe_detect_host *h, struct bwe_detect_global *g,
			       const struct bwe_policy *pol, const struct bwe_signals *s,
			       const char *host, __s64 now)
{
	struct bwe_decision d;

	assert_int_equal(bwe_detect_decide(h, s, pol, g, addr(host), now, &d), 0);
	bwe_detect_commit(h, g, pol, &d, now);
	return d;
}

static const struct rule_case {
	const char *desc;
	const enum bwe_signal_id *sigs;
	enum bwe_response action;
	const char *rule; /* NULL: none */
	__u64 ttl_s;
	unsigned int n_evidence;
} rule_cases[] = {
	{ "nothing fired", SIGS(BWE_SIG_MAX), BWE_RESP_NONE, NULL, 0, 0 },
	{ "a spike alone: nothing (one weak signal does not act)", SIGS(BWE_SIG_SPIKE),
	  BWE_RESP_NONE, NULL, 0, 0 },
	{ "spike and upload ratio: throttle, never quarantine (one fact seen twice)",
	  SIGS(BWE_SIG_SPIKE, BWE_SIG_UPLOAD_RATIO), BWE_RESP_THROTTLE, "upload-throttle", 1800,
	  2 },
	{ "upload ratio alone: nothing", SIGS(BWE_SIG_UPLOAD_RATIO), BWE_RESP_NONE, NULL, 0, 0 },
	{ "non-standard ports alone: nothing", SIGS(BWE_SIG_NONSTD_PORTS), BWE_RESP_NONE, NULL, 0,
	  0 },
	{ "flood alone: alert", SIGS(BWE_SIG_FLOOD), BWE_RESP_ALERT, "behaviour-alert", 0, 1 },
	{ "flood and spike: quarantine", SIGS(BWE_SIG_SPIKE, BWE_SIG_FLOOD), BWE_RESP_QUARANTINE,
	  "corroborated-quarantine", 3600, 2 },
	{ "two signals: quarantine", SIGS(BWE_SIG_SPIKE, BWE_SIG_BLOCKLIST), BWE_RESP_QUARANTINE,
	  "corroborated-quarantine", 3600, 2 },
	{ "two without spike: quarantine", SIGS(BWE_SIG_FANOUT, BWE_SIG_NONSTD_PORTS),
	  BWE_RESP_QUARANTINE, "corroborated-quarantine", 3600, 2 },
	{ "blocklist alone: alert", SIGS(BWE_SIG_BLOCKLIST), BWE_RESP_ALERT, "blocklist-alert", 0,
	  1 },
	{ "fan-out alone: nothing", SIGS(BWE_SIG_FANOUT), BWE_RESP_NONE, NULL, 0, 0 },
	{ "new host is in no default rule", SIGS(BWE_SIG_NEW_HOST), BWE_RESP_NONE, NULL, 0, 0 },
	{ "all five",
	  SIGS(BWE_SIG_SPIKE, BWE_SIG_BLOCKLIST, BWE_SIG_FANOUT, BWE_SIG_NONSTD_PORTS,
	       BWE_SIG_UPLOAD_RATIO),
	  BWE_RESP_QUARANTINE, "corroborated-quarantine", 3600, 4 },
};

static void test_rules_corroboration(void **state)
{
	struct bwe_detect_global g;
	struct bwe_detect_host h;
	struct bwe_policy pol;
	struct bwe_signals s;
	struct bwe_decision d;
	size_t i;

	(void)state;
	bwe_policy_default(&pol);
	for (i = 0; i < ARRAY_SIZE(rule_cases); i++) {
		const struct rule_case *c = &rule_cases[i];

		bwe_detect_global_init(&g, NOW - 86400);
		bwe_detect_host_init(&h);
		s = fired(c->sigs);
		assert_int_equal(bwe_detect_decide(&h, &s, &pol, &g, addr("10.0.0.5"), NOW, &d), 0);
		if (d.action != c->action)
			fail_msg("%s: %s, want %s", c->desc, bwe_response_name(d.action),
				 bwe_response_name(c->action));
		if (c->rule)
			assert_string_equal(d.rule_name, c->rule);
		else
			assert_int_equal(d.rule, -1);
		assert_int_equal(d.ttl_s, c->ttl_s);
		assert_int_equal(d.n_evidence, c->n_evidence);
		assert_int_equal(d.guards, 0);
		assert_int_equal(d.level, 0);
	}
	/* the evidence of a throttle: signal, value, threshold; and the rate */
	bwe_detect_host_init(&h);
	s = fired(SIGS(BWE_SIG_SPIKE, BWE_SIG_UPLOAD_RATIO));
	assert_int_equal(bwe_detect_decide(&h, &s, &pol, &g, NULL, NOW, &d), 0);
	assert_int_equal(d.rate, 625000); /* 5mbit */
	assert_int_equal(d.evidence[0].sig, BWE_SIG_SPIKE);
	assert_true(d.evidence[0].value == 10.0 && d.evidence[0].threshold == 1.0);
	/* an invalid sample decides nothing */
	s.valid = false;
	assert_int_equal(bwe_detect_decide(&h, &s, &pol, &g, NULL, NOW, &d), 0);
	assert_int_equal(d.action, BWE_RESP_NONE);
	assert_int_equal(bwe_detect_decide(NULL, &s, &pol, &g, NULL, NOW, &d), -EINVAL);
}

static void test_rules_guards(void **state)
{
	static struct bwe_prefix never[1];
	struct bwe_detect_global g;
	struct bwe_detect_host h;
	struct bwe_policy pol;
	struct bwe_signals two = fired(SIGS(BWE_SIG_SPIKE, BWE_SIG_BLOCKLIST));
	struct bwe_signals one = fired(SIGS(BWE_SIG_SPIKE, BWE_SIG_UPLOAD_RATIO)); /* throttle */
	struct bwe_decision d;

	(void)state;
	bwe_policy_default(&pol);
	assert_int_equal(bwe_prefix_parse("198.18.0.0/24", &never[0], 0), 0);
	pol.never_quarantine.v = never;
	pol.never_quarantine.n = 1;
	bwe_detect_global_init(&g, NOW - 86400);

	/* never_quarantine: at most an alert, for quarantine and throttle */
	bwe_detect_host_init(&h);
	d = act(&h, &g, &pol, &two, "198.18.0.7", NOW);
	assert_int_equal(d.action, BWE_RESP_ALERT);
	assert_int_equal(d.wanted, BWE_RESP_QUARANTINE);
	assert_int_equal(d.guards, BWE_GUARD_NEVER_QUARANTINE);
	assert_string_equal(d.rule_name, "corroborated-quarantine");
	bwe_detect_host_init(&h);
	d = act(&h, &g, &pol, &one, "198.18.0.7", NOW);
	assert_int_equal(d.action, BWE_RESP_ALERT);
	assert_int_equal(d.wanted, BWE_RESP_THROTTLE);
	assert_int_equal(bwe_detect_quarantines_last_hour(&g, NOW), 0);
	/* a host outside the prefix is quarantined */
	bwe_detect_host_init(&h);
	d = act(&h, &g, &pol, &two, "198.18.1.7", NOW);
	assert_int_equal(d.action, BWE_RESP_QUARANTINE);

	/* monitor_only: actions become alerts that keep the rule's ttl */
	pol.monitor_only = 1;
	bwe_detect_host_init(&h);
	d = act(&h, &g, &pol, &one, "10.0.0.1", NOW);
	assert_int_equal(d.action, BWE_RESP_ALERT);
	assert_int_equal(d.wanted, BWE_RESP_THROTTLE);
	assert_int_equal(d.guards, BWE_GUARD_MONITOR_ONLY);
	assert_int_equal(d.ttl_s, 1800);
	assert_int_equal(d.rate, 625000);
	pol.monitor_only = 0;

	/* learning: a detector started 10 minutes ago only alerts */
	bwe_detect_global_init(&g, NOW - 600);
	bwe_detect_host_init(&h);
	d = act(&h, &g, &pol, &two, "10.0.0.1", NOW);
	assert_int_equal(d.action, BWE_RESP_ALERT);
	assert_int_equal(d.guards, BWE_GUARD_LEARNING);
	bwe_detect_host_init(&h);
	d = act(&h, &g, &pol, &two, "10.0.0.1", NOW - 600 + 3600);
	assert_int_equal(d.action, BWE_RESP_QUARANTINE);
	assert_int_equal(d.guards, 0);
}

static void test_rules_rate_limit(void **state)
{
	struct bwe_detect_host h[4];
	struct bwe_detect_global g;
	struct bwe_policy pol;
	struct bwe_signals two =
		fired(SIGS(BWE_SIG_SPIKE, BWE_SIG_UPLOAD_RATIO, BWE_SIG_BLOCKLIST));
	struct bwe_signals no_spike = fired(SIGS(BWE_SIG_FANOUT, BWE_SIG_BLOCKLIST));
	struct bwe_decision d;
	size_t i;

	(void)state;
	bwe_policy_default(&pol);
	pol.max_quarantines_per_hour = 2;
	bwe_detect_global_init(&g, NOW - 86400);
	for (i = 0; i < ARRAY_SIZE(h); i++)
		bwe_detect_host_init(&h[i]);
	assert_int_equal(act(&h[0], &g, &pol, &two, "10.0.0.1", NOW).action, BWE_RESP_QUARANTINE);
	assert_int_equal(act(&h[1], &g, &pol, &two, "10.0.0.2", NOW + 60).action,
			 BWE_RESP_QUARANTINE);
	assert_int_equal(bwe_detect_quarantines_last_hour(&g, NOW + 60), 2);
	/* the third in the hour: the throttle rule that also matches */
	d = act(&h[2], &g, &pol, &two, "10.0.0.3", NOW + 120);
	assert_int_equal(d.action, BWE_RESP_THROTTLE);
	assert_string_equal(d.rule_name, "upload-throttle");
	assert_int_equal(d.guards, BWE_GUARD_RATE_LIMIT);
	/* no throttle rule matches: an alert from the quarantine rule */
	d = act(&h[3], &g, &pol, &no_spike, "10.0.0.4", NOW + 180);
	assert_int_equal(d.action, BWE_RESP_ALERT);
	assert_int_equal(d.wanted, BWE_RESP_QUARANTINE);
	assert_int_equal(d.guards, BWE_GUARD_RATE_LIMIT);
	/* an hour after the first, one quarantine is free again */
	bwe_detect_host_init(&h[3]);
	d = act(&h[3], &g, &pol, &no_spike, "10.0.0.4", NOW + 3600);
	assert_int_equal(d.action, BWE_RESP_QUARANTINE);
	/* zero: never an automatic quarantine */
	pol.max_quarantines_per_hour = 0;
	bwe_detect_global_init(&g, NOW - 86400);
	bwe_detect_host_init(&h[0]);
	assert_int_equal(act(&h[0], &g, &pol, &two, "10.0.0.1", NOW).action, BWE_RESP_THROTTLE);
}

static void test_rules_cooldown_escalation(void **state)
{
	struct bwe_detect_global g;
	struct bwe_detect_host h;
	struct bwe_policy pol;
	struct bwe_signals one = fired(SIGS(BWE_SIG_SPIKE, BWE_SIG_UPLOAD_RATIO)); /* throttle */
	struct bwe_signals bl = fired(SIGS(BWE_SIG_BLOCKLIST));
	struct bwe_decision d;
	static const __u64 ttls[] = { 1800, 7200, 86400, 86400 }; /* the last step repeats */
	__s64 t = NOW;
	size_t i;

	(void)state;
	bwe_policy_default(&pol);
	bwe_detect_global_init(&g, NOW - 86400);
	bwe_detect_host_init(&h);
	for (i = 0; i < ARRAY_SIZE(ttls); i++) {
		d = act(&h, &g, &pol, &one, "10.0.0.1", t);
		assert_int_equal(d.action, BWE_RESP_THROTTLE);
		assert_int_equal(d.level, i < 2 ? i : 2);
		assert_int_equal(d.ttl_s, ttls[i]);
		/* while throttled and cooling down (ttl + 10m): nothing */
		d = act(&h, &g, &pol, &one, "10.0.0.1", t + 60);
		assert_int_equal(d.action, BWE_RESP_NONE);
		d = act(&h, &g, &pol, &one, "10.0.0.1", t + (__s64)ttls[i] + 599);
		assert_int_equal(d.action, BWE_RESP_NONE);
		t += (__s64)ttls[i] + 600;
	}
	/* a day and more after the last action ended: a first offence again */
	t += 86400;
	d = act(&h, &g, &pol, &one, "10.0.0.1", t);
	assert_int_equal(d.level, 0);
	assert_int_equal(d.ttl_s, 1800);

	/* alerts cool down from the alert */
	d = act(&h, &g, &pol, &bl, "10.0.0.1", t);
	assert_int_equal(d.action, BWE_RESP_ALERT);
	assert_int_equal(act(&h, &g, &pol, &bl, "10.0.0.1", t + 599).action, BWE_RESP_NONE);
	assert_int_equal(act(&h, &g, &pol, &bl, "10.0.0.1", t + 600).action, BWE_RESP_ALERT);

	/* a throttled host that turns worse is quarantined at once */
	d = act(&h, &g, &pol, &(struct bwe_signals){ 0 }, "10.0.0.1", t + 700);
	assert_int_equal(d.action, BWE_RESP_NONE);
	one = fired(SIGS(BWE_SIG_SPIKE, BWE_SIG_UPLOAD_RATIO, BWE_SIG_NONSTD_PORTS));
	d = act(&h, &g, &pol, &one, "10.0.0.1", t + 700);
	assert_int_equal(d.action, BWE_RESP_QUARANTINE);
	/* operator lifts it: nothing changes until the cooldown has passed */
	bwe_detect_host_released(&h);
	assert_int_equal(act(&h, &g, &pol, &one, "10.0.0.1", t + 800).action, BWE_RESP_NONE);
}

/* A step x10 through update, shapes and rules, as the daemon runs them. */
static void test_end_to_end(void **state)
{
	struct bwe_detect_global g;
	struct bwe_policy pol;
	struct bwe_signals sig;
	struct bwe_decision d;
	struct sim s;
	size_t t, acted = 0;

	(void)state;
	bwe_policy_default(&pol);
	bwe_detect_global_init(&g, MONDAY);
	rng_seed(SEED);
	sim_init(&s, MONDAY, OLD_HOST_NS);
	for (t = 0; t < CHANGE_AT + 20; t++) {
		double x = (t >= CHANGE_AT ? 20.0 : 1.0) * MBIT * (1.0 + 0.1 * rng_gauss());

		if (t >= CHANGE_AT)
			s.c.nonstd_tx_bytes += (__u64)(x * INTERVAL * 0.9);
		sim_step(&s, &pol, x, 15 * MBIT, &sig);
		assert_int_equal(bwe_detect_decide(&s.h, &sig, &pol, &g, addr("10.1.2.3"), s.wall,
						   &d),
				 0);
		if (d.action == BWE_RESP_NONE)
			continue;
		/* the spike fires from the third interval on, alone: nothing; the
		 * odd-port share corroborates it later: quarantine, the one action */
		assert_int_equal(acted++, 0);
		assert_true(t > CHANGE_AT + 2);
		assert_int_equal(d.action, BWE_RESP_QUARANTINE);
		assert_int_equal(d.n_evidence, 2);
		assert_int_equal(d.evidence[0].sig, BWE_SIG_SPIKE);
		assert_int_equal(d.evidence[1].sig, BWE_SIG_NONSTD_PORTS);
		bwe_detect_commit(&s.h, &g, &pol, &d, s.wall);
	}
	assert_int_equal(acted, 1);
	sim_free(&s);
}

static void test_names(void **state)
{
	unsigned int i;

	(void)state;
	for (i = 0; i < BWE_SIG_MAX; i++)
		assert_int_equal(bwe_signal_from_name(bwe_signal_name((enum bwe_signal_id)i)), i);
	assert_int_equal(bwe_signal_from_name("spikes"), BWE_SIG_MAX);
	assert_int_equal(bwe_signal_from_name(NULL), BWE_SIG_MAX);
	assert_string_equal(bwe_signal_name(BWE_SIG_MAX), "?");
	assert_string_equal(bwe_signal_unit(BWE_SIG_SPIKE), "z");
	assert_string_equal(bwe_response_name(BWE_RESP_QUARANTINE), "quarantine");
	assert_string_equal(bwe_response_name(BWE_RESP_MAX), "?");
	assert_string_equal(bwe_shape_name(BWE_SHAPE_BOTNET), "botnet");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_series),
		cmocka_unit_test(test_ramp_variance_half_life),
		cmocka_unit_test(test_learning),
		cmocka_unit_test(test_windows_change),
		cmocka_unit_test(test_sd_floor),
		cmocka_unit_test(test_ewma_warmup),
		cmocka_unit_test(test_hll),
		cmocka_unit_test(test_hour_of_week),
		cmocka_unit_test(test_signal_blocklist),
		cmocka_unit_test(test_signal_blocklist_inbound_never_fires),
		cmocka_unit_test(test_signal_volumes),
		cmocka_unit_test(test_signal_fanout),
		cmocka_unit_test(test_counter_reset),
		cmocka_unit_test(test_signals_kept),
		cmocka_unit_test(test_shapes),
		cmocka_unit_test(test_rules_corroboration),
		cmocka_unit_test(test_rules_guards),
		cmocka_unit_test(test_rules_rate_limit),
		cmocka_unit_test(test_rules_cooldown_escalation),
		cmocka_unit_test(test_end_to_end),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
