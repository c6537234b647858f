/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * detect.h - bandwidth-hijacking detection (MITRE ATT&CK T1496.002): the
 * statistics, the per-host signals, the attack shapes and the response
 * rules. Included by the daemon (bwctld), the config loader (config.h
 * embeds struct bwe_policy) and the tests. BPF code does not include it.
 *
 * Contract:
 *  - Pure library: no I/O, no BPF, no clock, no global state. Time comes in
 *    as arguments (wall clock, seconds since the Unix epoch). The only
 *    allocations are the optional hour-of-week table of a host, its
 *    beacon table, made on its first contact, its relay memory, made when
 *    its relay signal first fires, and its rule state, made at its first
 *    action (bwe_detect_host_free() releases them).
 *  - Functions return 0 or -errno (-EINVAL for bad arguments, -ENOMEM);
 *    booleans and estimates cannot fail.
 *  - Rates are bytes per second, sizes bytes, durations seconds: the units
 *    of units.h and of the configuration file.
 *
 * How the daemon drives it:
 *
 *   at start:     bwe_detect_global_init(&g, now);
 *   a new host:   bwe_detect_host_init(&h);   (and bwe_detect_host_free(&h)
 *                 when it drops the host, e.g. gone from bwe_hosts)
 *   every pol->interval_s, for every internal host of the batch read,
 *   with its counters merged over CPUs (bwe_host_stats_merge()):
 *
 *      bwe_detect_update(&h, &merged, dt_s, now, pol, &sig);
 *      bwe_detect_decide(&h, &sig, pol, &g, &addr, now, &dec);
 *      if (dec.action != BWE_RESP_NONE) {
 *              n = bwe_detect_shapes(&sig, pol, shapes);   // for the event
 *              ... event with dec.rule_name, dec.evidence, shapes ...
 *              ... THROTTLE: dec.rate for dec.ttl_s; QUARANTINE: dec.ttl_s ...
 *              bwe_detect_commit(&h, &g, pol, &dec, now);  // once applied
 *      }
 *
 *   every pol->fanout.window_s: bump bwe_config.hll_epoch, so that each
 *   fan-out sketch covers one window (see struct bwe_policy_fanout);
 *   every BWE_EV_CONTACT of the data plane, as it comes:
 *      bwe_detect_contact(&h, &peer, dport, proto, ts_ns / 1e9, pol);
 *   an operator lifting an automatic action early:
 *      bwe_detect_host_released(&h).
 *
 * dt_s is the time between this host's two samples (seconds, from the
 * monotonic clock); now is the Unix time (hour of the week, cooldowns).
 *
 * Baselines. For each configured window W (policy "windows", default 1m,
 * 5m, 15m) and each direction, the rate is followed by an exponentially
 * weighted mean with half-life W and an exponentially weighted variance
 * with half-life BWE_DETECT_VAR_SLOWER * W (West's incremental form). The
 * first samples are weighted 1/n (Welford's running mean and variance)
 * until 1/n drops below the EWMA weight, so a young baseline is not biased
 * to its first value. From sample BWE_DETECT_ROBUST_AFTER + 1 on the
 * update is robust: a sample further than BWE_DETECT_CLIP_Z deviations
 * from the mean moves the mean by at most that many deviations and does
 * not enter the variance. A sustained anomaly therefore stays anomalous
 * while the mean drifts towards it at a bounded pace (a x10 step is
 * absorbed in about 45 minutes with W = 5m) instead of inflating the
 * variance until it looks normal within a few intervals; and the slower
 * variance keeps a slow ramp from teaching the baseline that its growth
 * is noise (with the variance as fast as the mean, a ramp of 1 % an
 * interval stays over z 4 for at most a few intervals in a row; with it
 * 4x slower, for half an hour and more: test_ramp_variance_half_life). The
 * deviation used for z-scores, and for the robust band, is at least
 * min_sd_share times the mean and at least min_sd_rate, so a flat baseline
 * does not turn small fluctuations into huge scores. A baseline is trusted
 * after learning_period of samples.
 *
 * Hour of week (policy hour_of_week, off by default): the upload rate also
 * keeps one baseline per hour of the week (168, UTC, Monday 00:00 first)
 * with a half-life of one hour of samples, i.e. one visit: a bucket
 * forgets half of itself each week. Once a bucket holds an hour of
 * samples, a spike must also stand out against it: the weekly backup that
 * every Monday 02:00 looks like a spike to the short windows is vetoed
 * from its second week on.
 */
#ifndef BWE_DETECT_H
#define BWE_DETECT_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "addr.h"
#include "bwe_abi.h"
#include "bwe_rules.h" /* bwe_hll_add() */
#include "expect.h"

/* ---- statistics ---------------------------------------------------------- */

#define BWE_DETECT_CLIP_Z	3.0 /* deviations: robust update band */
#define BWE_DETECT_VAR_SLOWER	4.0 /* variance half-life / mean half-life */
#define BWE_DETECT_ROBUST_AFTER 8   /* samples before the band applies */
#define BWE_HOW_BUCKETS		168 /* hours in a week */

/* Exponentially weighted mean and variance of one series. */
struct bwe_ewma {
	double mean;
	double var;
	__u64 n; /* samples taken (for the 1/n warm-up) */
};

/*
 * The standard deviation used for z-scores: sqrt(var), at least
 * share * |mean| and at least abs_floor.
 */
double bwe_ewma_sd(const struct bwe_ewma *e, double share, double abs_floor);
/* (x - mean) / sd with the floors above; 0 for an empty baseline. */
double bwe_ewma_z(const struct bwe_ewma *e, double x, double share, double abs_floor);
/*
 * Add x. alpha_mean and alpha_var are the weights of one sample (0..1];
 * see bwe_alpha(). The robust band uses the floored deviation.
 */
void bwe_ewma_update(struct bwe_ewma *e, double x, double alpha_mean, double alpha_var,
		     double share, double abs_floor);
/* Weight of one sample taken dt seconds after the previous one, for a half-life. */
double bwe_alpha(double dt_s, double half_life_s);

/*
 * HyperLogLog estimate of the distinct items added to 32 registers by
 * bwe_hll_add() (bwe_rules.h, the program's own update: rank = trailing
 * zeros + 1 of the 27 hash bits above the 5 index bits), with the
 * small-range (linear counting) and 32-bit large-range corrections.
 * Registers of several CPUs are merged by maximum before. Standard error
 * 1.04 / sqrt(32), about 18 %.
 */
double bwe_hll_estimate(const __u8 regs[BWE_HLL_REGS]);

/* Hour of the week of a Unix time, 0 = Monday 00:00-00:59 UTC. */
unsigned int bwe_hour_of_week(__s64 unix_time);

/* ---- policy ----------------------------------------------------------------- */

enum bwe_signal_id {
	BWE_SIG_SPIKE = 0,    /* upload rate z-score, sustained */
	BWE_SIG_BLOCKLIST,    /* blocklist hits: the host's own contacts only */
	BWE_SIG_NONSTD_PORTS, /* share of upload to non-standard ports */
	BWE_SIG_UPLOAD_RATIO, /* upload / download */
	BWE_SIG_FANOUT,	      /* distinct peers or destination ports */
	BWE_SIG_NEW_HOST,     /* a host first seen lately moving much data */
	BWE_SIG_PROXYWARE,    /* hits on entries of feeds with signal proxyware */
	BWE_SIG_RELAY,	      /* few peers one way, many the other, bytes balanced */
	BWE_SIG_BEACON,	      /* near-periodic new contacts with one peer */
	BWE_SIG_FLOOD,	      /* many small packets to one peer, little back */
	BWE_SIG_MAX,
};

enum bwe_response {
	BWE_RESP_NONE = 0,
	BWE_RESP_ALERT,	     /* an event only */
	BWE_RESP_THROTTLE,   /* token bucket at rule rate for ttl */
	BWE_RESP_QUARANTINE, /* isolate but for exempt peers, for ttl */
	BWE_RESP_MAX,
};

#define BWE_POLICY_WINDOWS_MAX	     4 /* baseline windows */
#define BWE_POLICY_RULES_MAX	     16
#define BWE_RULE_NAME_MAX	     32 /* bytes of [A-Za-z0-9_.-], with the NUL */
#define BWE_ESCALATION_MAX	     8	/* TTL steps of a rule */
#define BWE_QUARANTINES_PER_HOUR_MAX 1000

/* Defaults: the policy when the configuration has no "policy". */
#define BWE_POLICY_INTERVAL_S 10ULL
#define BWE_POLICY_LEARNING_S 3600ULL
#define BWE_POLICY_WINDOWS \
	{ \
		60, 300, 900 \
	}				  /* seconds */
#define BWE_POLICY_MAX_QUARANTINES 5U	  /* per hour */
#define BWE_POLICY_MAX_HOSTS	   65536U /* detector table: BWE_HOSTS_MAX, ~0.8 KiB each */
#define BWE_SPIKE_WINDOW_S	   300ULL
#define BWE_SPIKE_Z		   4.0
#define BWE_SPIKE_MIN_RATE	   125000ULL /* bytes/s: 1 Mbit/s */
#define BWE_SPIKE_SUSTAIN	   3U	     /* intervals */
#define BWE_SPIKE_MIN_SD_SHARE	   0.1	     /* of the mean */
#define BWE_SPIKE_MIN_SD_RATE	   12500ULL  /* bytes/s: 100 kbit/s */
#define BWE_BLOCKLIST_MIN_HITS	   1ULL	     /* packets */
#define BWE_BLOCKLIST_WINDOW_S	   900ULL
#define BWE_NONSTD_SHARE	   0.5
#define BWE_NONSTD_MIN_BYTES	   (10ULL << 20)
#define BWE_NONSTD_WINDOW_S	   900ULL
#define BWE_UPLOAD_RATIO	   4.0
#define BWE_UPLOAD_MIN_BYTES	   (50ULL << 20)
#define BWE_UPLOAD_WINDOW_S	   900ULL
#define BWE_FANOUT_PEERS	   200U
#define BWE_FANOUT_PORTS	   100U
#define BWE_FANOUT_WINDOW_S	   300ULL
#define BWE_NEW_HOST_BYTES	   (100ULL << 20)
#define BWE_NEW_HOST_WINDOW_S	   900ULL
#define BWE_RULE_COOLDOWN_S	   600ULL   /* when a rule gives none */
#define BWE_RULE_REPEAT_WINDOW_S   86400ULL /* when a rule gives none */

/* relay and beacon defaults */
#define BWE_RELAY_CONCENTRATION	 0.6
#define BWE_RELAY_TOP_PEERS	 3U
#define BWE_RELAY_SPREAD_PEERS	 20U
#define BWE_RELAY_BALANCE	 2.0
#define BWE_RELAY_OVERLAP	 0.85
#define BWE_RELAY_MIN_BYTES	 (4ULL << 20)
#define BWE_RELAY_OTHER_MAX	 0.5 /* the spread side's heaviest other peer: below this share */
#define BWE_BEACON_MIN_INTERVALS 7U
#define BWE_BEACON_MAX_JITTER	 0.1
#define BWE_BEACON_MIN_PERIOD_S	 10ULL
#define BWE_BEACON_MAX_PERIOD_S	 3600ULL
#define BWE_BEACON_BURST_MS	 1000ULL /* contacts this close are one */
#define BWE_BEACON_SAMPLE	 1U	 /* every pair */
#define BWE_BEACON_IGNORE_MAX	 16	 /* ignore_ports entries */
/*
 * The beacon signal's early tier: a pair as regular as a timer fires after
 * BWE_BEACON_EARLY_N intervals when its jitter is at most
 * BWE_BEACON_EARLY_JITTER (or max_jitter, if smaller), before the
 * min_intervals the looser max_jitter needs. On tests/test_relaybeacon.c's
 * 20,000 random (Poisson) pairs 5 intervals at 0.03 fire on none, as 7 at
 * 0.10 do (4 at 0.03: 32; 5 at 0.05: 6): a C2 polling every 2 min is seen
 * after 10 min instead of 14.
 */
#define BWE_BEACON_EARLY_N	 5U /* intervals */
#define BWE_BEACON_EARLY_JITTER	 0.03
/* flood defaults */
#define BWE_FLOOD_MIN_PPS	 1000U /* packets/s */
#define BWE_FLOOD_MAX_SIZE	 600U  /* bytes: mean frame */
#define BWE_FLOOD_CONCENTRATION	 0.5
#define BWE_FLOOD_REPLY		 0.1
#define BWE_BEACON_IGNORE_PORTS \
	{ \
		53, 123 \
	} /* DNS, NTP: periodic by design */

/*
 * The windowed signals sum their bytes with exponential decay of time
 * constant window_s: for a steady rate the sum is the bytes of the last
 * window_s; older bytes fade instead of falling off an edge.
 */
struct bwe_policy_spike {
	__u64 window_s; /* one of bwe_policy.windows_s */
	double z;	/* z-score threshold, > 0 */
	__u64 min_rate; /* bytes/s: slower uploads never spike */
	__u32 sustain;	/* consecutive intervals, >= 1 */
	__u32 pad;
	double min_sd_share; /* deviation floor, share of the mean (0..1) */
	__u64 min_sd_rate;   /* deviation floor, bytes/s */
};

/* Also the proxyware signal's: the hits of feeds with "signal: proxyware". */
struct bwe_policy_blocklist {
	__u64 min_hits; /* packets from the first hit until window_s without one */
	__u64 window_s;
};

struct bwe_policy_nonstd {
	double share;	 /* nonstd_tx_bytes / tx_bytes over the window, 0..1 */
	__u64 min_bytes; /* upload over the window before the share counts */
	__u64 window_s;
};

struct bwe_policy_upload {
	double ratio;	 /* tx / rx bytes over the window, > 0 */
	__u64 min_bytes; /* upload over the window before the ratio counts */
	__u64 window_s;
};

/*
 * Fan-out: HyperLogLog estimates of the distinct peers and destination
 * ports of one epoch (the daemon bumps bwe_config.hll_epoch every
 * window_s), the larger of the current epoch's and, during the first
 * window of a new epoch, the previous one's. A host that uploaded nothing
 * for window_s has no fan-out.
 */
struct bwe_policy_fanout {
	__u32 peers;	/* distinct peers per window, >= 1 */
	__u32 ports;	/* distinct destination ports per window, 1..65535 */
	__u64 window_s; /* epoch length */
};

/* A host first seen by the data plane less than learning_s ago. */
struct bwe_policy_new_host {
	__u64 bytes; /* tx + rx over the window */
	__u64 window_s;
};

/*
 * Relay signature over the fan-out window (the same epochs, window_s of
 * struct bwe_policy_fanout): in one direction the top_peers heaviest peers
 * carry at least concentration of the bytes (a lower bound from the
 * SpaceSaving summary: never overstated), the other direction has at
 * least spread_peers distinct peers (HyperLogLog, standard error 18 %),
 * none of which but the top peers carries BWE_RELAY_OTHER_MAX of its bytes
 * (a lower bound: spread in bytes too), the larger direction's bytes are
 * at most balance times the smaller's,
 * the top_peers (the fewest of them whose lower bounds reach concentration)
 * send back, the other way, less than overlap of what they get (the other
 * summary's counts of those it tracks, each at least the peer's bytes,
 * for those it does not what they got up to its floor, over their lower
 * bounds here: a call, an SFU, a peer-to-peer exchange, heavy both ways,
 * answer about 1 or more whatever churns the summaries; a residential proxy's
 * super-proxies, which get the sites' responses and send the requests and
 * a share of uploads, well under 1/2; the larger of the top peers' share
 * together and the heaviest one's alone), and each direction moved
 * min_bytes in the window.
 */
struct bwe_policy_relay {
	double concentration; /* share, (0..1] */
	__u32 top_peers;      /* 1 .. BWE_HH_SLOTS - 1 */
	__u32 spread_peers;   /* >= 1 */
	double balance;	      /* >= 1 */
	double overlap;	      /* share, (0..1]: top peers' bytes back / theirs this way */
	__u64 min_bytes;      /* each direction, this window */
};

/*
 * Beaconing: a (host, peer, destination port) whose new contacts (TCP SYN,
 * new UDP flows; contacts closer than burst_ms count once) come at a
 * near-constant interval: at least min_intervals intervals, their median
 * between min_period_s and max_period_s, and their jitter (the relative
 * deviation from the median that three quarters of them stay within) at
 * most max_jitter; or, earlier, BWE_BEACON_EARLY_N intervals at a
 * jitter of at most BWE_BEACON_EARLY_JITTER. sample: the data plane reports 1
 * in sample (host, peer) pairs (bwe_contact_sampled()); ignore_ports:
 * destination ports never followed (DNS and NTP by default).
 */
struct bwe_policy_beacon {
	__u32 min_intervals; /* 2 .. BWE_BEACON_HIST */
	__u32 sample;	     /* >= 1 */
	double max_jitter;   /* share, (0..1] */
	__u64 min_period_s;
	__u64 max_period_s;
	__u64 burst_ms;
	__u16 ignore_ports[BWE_BEACON_IGNORE_MAX];
	size_t n_ignore_ports;
};

/*
 * Flood participation, from counters the host record has: over one
 * interval at least min_pps packets sent, of at most max_size bytes on
 * average (L2 frames), in the fan-out epoch at least concentration of the
 * upload to one peer (the SpaceSaving lower bound: never overstated), and
 * that peer sends back less than reply of what it gets (its inbound upper
 * bound over its outbound lower bound: a conversation, a download's ACKs,
 * a call, never looks like it). A bulk upload sends full frames; a
 * download's ACK stream gets the download back; real-time media stays
 * under a few hundred packets a second.
 */
struct bwe_policy_flood {
	__u32 min_pps;	      /* packets/s, >= 1 */
	__u32 max_size;	      /* bytes: mean outbound frame, 64..65535 */
	double concentration; /* share, (0..1] */
	double reply;	      /* share, (0..1] */
};

struct bwe_rule {
	char name[BWE_RULE_NAME_MAX]; /* unique, [A-Za-z0-9_.-]{1,31} */
	__u32 signals;		      /* bit (1 << enum bwe_signal_id) per listed signal */
	__u32 min_signals;	      /* 1 .. signals listed */
	enum bwe_response action;     /* ALERT, THROTTLE or QUARANTINE */
	__u32 pad;
	__u64 rate;	       /* THROTTLE: bytes/s; else 0 */
	__u64 ttl_s;	       /* THROTTLE/QUARANTINE: first TTL; ALERT: 0 */
	__u64 cooldown_s;      /* quiet time for this host after the action ends */
	__u64 repeat_window_s; /* a firing this soon after the last action ended escalates */
	__u64 escalation_s[BWE_ESCALATION_MAX]; /* TTL of offence 1, 2, ...; [0] == ttl_s */
	size_t n_escalation;			/* 0: always ttl_s */
};

struct bwe_policy_prefixes {
	struct bwe_prefix *v; /* heap; owned by whoever filled the policy */
	size_t n;
};

struct bwe_policy {
	int monitor_only; /* automatic actions only raise alerts */
	__u64 interval_s; /* the daemon's detection sample period */
	__u64 learning_s; /* baselines, and the detector itself, need this much history */
	int hour_of_week; /* hour-of-week veto baselines (memory: 2 KiB a host) */
	/*
	 * The data plane keeps each host's per-peer sketches (fan-out
	 * HyperLogLogs and heavy hitters, bwe_abi.h) up to date; off
	 * (BWE_CFG_NO_SKETCH) the fanout, relay and flood signals never fire
	 * and reports show no fan-out, for a cheaper frame. Default on.
	 */
	int peer_sketches;
	__u64 windows_s[BWE_POLICY_WINDOWS_MAX];     /* baseline half-lives, distinct */
	size_t n_windows;			     /* 1..BWE_POLICY_WINDOWS_MAX */
	struct bwe_policy_prefixes never_quarantine; /* these hosts: at most an alert */
	__u32 max_quarantines_per_hour;		     /* automatic quarantines, all hosts; 0: none */
	__u32 max_hosts; /* hosts the detector keeps state for (its memory bound), >= 1 */
	struct bwe_policy_spike spike;
	struct bwe_policy_blocklist blocklist;
	struct bwe_policy_nonstd nonstd_ports;
	struct bwe_policy_upload upload_ratio;
	struct bwe_policy_fanout fanout;
	struct bwe_policy_new_host new_host;
	struct bwe_policy_relay relay;
	struct bwe_policy_beacon beacon;
	struct bwe_policy_flood flood;
	struct bwe_rule rules[BWE_POLICY_RULES_MAX];
	size_t n_rules;
	struct bwe_policy_blocklist proxyware; /* hits on proxyware-feed entries (detect.h) */
	struct bwe_expected *expected;	       /* policy.expected (expect.h), heap */
	size_t n_expected;
};

/*
 * The default policy (the commented section of policies/bwenforce.yaml):
 * rules upload-throttle, corroborated-quarantine, blocklist-alert,
 * proxyware-alert and behaviour-alert; no expected activities; no
 * never_quarantine prefixes (nothing allocated).
 */
void bwe_policy_default(struct bwe_policy *p);
/* Index into windows_s of spike.window_s, or -1. */
int bwe_policy_window_index(const struct bwe_policy *p, __u64 window_s);

/* "spike", "blocklist", "nonstd_ports", "upload_ratio", "fanout", "new_host",
 * "proxyware", "relay", "beacon", "flood"; "?" */
const char *bwe_signal_name(enum bwe_signal_id s);
/* Unit of a signal's value and threshold: "z", "hits", "share", "ratio", "distinct", "bytes",
 * "jitter" (beacon: fires at or below its threshold, every other at or above), "pps". */
const char *bwe_signal_unit(enum bwe_signal_id s);
/* BWE_SIG_MAX when unknown. */
enum bwe_signal_id bwe_signal_from_name(const char *name);
/* "none", "alert", "throttle", "quarantine"; "?" */
const char *bwe_response_name(enum bwe_response r);

/* ---- per-host state and signals --------------------------------------------- */

/* ---- relay signature: heavy hitters (struct bwe_hh, bwe_abi.h) ------------- */

/*
 * Merge summary b into a, both of the same epoch: a peer's count is the sum
 * of its counts, bwe_hh_floor() standing in where a summary lacks it, and
 * its error the sum of the errors, the floor standing in likewise; the
 * BWE_HH_SLOTS largest counts stay. The result keeps the guarantees of
 * struct bwe_hh for the union of the two streams: a kept count is never
 * below the sum of the floors, so a peer dropped or in neither has at
 * most the merged floor.
 */
void bwe_hh_merge(struct bwe_hh *a, const struct bwe_hh *b);
/* Bounds of one peer's bytes: lo <= true <= hi. */
void bwe_hh_bounds(const struct bwe_hh *hh, __u32 peer, __u64 *lo, __u64 *hi);
/*
 * The k heaviest peers by lower bound: the sum of their lower bounds (at
 * most the bytes of the true k heaviest) and of their counts' largest k
 * (at least them); peers[] (room for k) gets their hashes, heaviest first,
 * those with a lower bound above 0 only; returns how many.
 */
unsigned int bwe_hh_top(const struct bwe_hh *hh, unsigned int k, __u64 *lo, __u64 *hi,
			__u32 peers[]);

/* What the relay signal saw in one epoch's sketches. */
struct bwe_relay_eval {
	int dir;		 /* concentrated side: BWE_DIR_OUT, BWE_DIR_IN; 0: none */
	bool fired;		 /* every condition held */
	double concentration;	 /* lower bound: share of the side's top_peers */
	double concentration_hi; /* upper bound of the same */
	double spread_peers;	 /* distinct peers of the other side (HLL) */
	double balance;		 /* larger / smaller direction's bytes, >= 1 */
	double overlap;	  /* what the top peers send back, share of what they get (detect.c) */
	double other_top; /* the spread side's heaviest peer but the carriers, share of its bytes */
	double tx_bytes, rx_bytes; /* of the epoch's summaries */
};

/*
 * The relay conditions (struct bwe_policy_relay) on one host's merged
 * sketches of one epoch: the side that meets them, else the more
 * concentrated side with fired false. Pure.
 */
void bwe_relay_evaluate(const struct bwe_host_stats *c, const struct bwe_policy_relay *p,
			struct bwe_relay_eval *out);

/* ---- beaconing ------------------------------------------------------------------- */

#define BWE_BEACON_PAIRS	16  /* pairs followed per host */
#define BWE_BEACON_HIST		16  /* latest intervals kept per pair */
#define BWE_BEACON_SEEN		32  /* first contacts remembered per host (admission) */
#define BWE_BEACON_STALE	3.0 /* periods without a contact: the pair stopped */
#define BWE_BEACON_SETTLE	3   /* intervals before a pair's jitter protects it */
#define BWE_BEACON_QUARTILE_NUM 3   /* jitter: the 3rd quartile of the deviations */
#define BWE_BEACON_QUARTILE_DEN 4

struct bwe_beacon_pair {
	struct bwe_addr peer;
	__u16 dport; /* host byte order */
	__u8 proto;  /* IPPROTO_TCP, IPPROTO_UDP */
	__u8 used;
	__u32 contacts; /* bursts seen */
	__u32 n_iv;	/* intervals in iv (<= BWE_BEACON_HIST) */
	__u32 iv_head;
	double last_s;		   /* data-plane clock (CLOCK_MONOTONIC), seconds */
	float iv[BWE_BEACON_HIST]; /* seconds between bursts, a ring */
};

/*
 * The beacon state of a host. A pair enters the table only at its second
 * burst: the first goes to a small direct-mapped memory of first contacts
 * (seen), so one-off contacts of a busy host never reach it; a full table
 * gives up, first, a pair that stopped (BWE_BEACON_STALE periods without a
 * contact), then the one that deserves its slot least: a settled pair
 * (BWE_BEACON_SETTLE intervals) is worth 1 - jitter, a young one 0.5, so
 * an irregular pair goes before a young one and a regular one stays; the
 * least recently contacted on a tie. A host spraying peers churns its own
 * table only.
 */
struct bwe_beacon_table {
	__u32 seen_hash[BWE_BEACON_SEEN];
	double seen_at[BWE_BEACON_SEEN];
	/*
	 * n_pair slots (0, then 2, 4, 8, up to BWE_BEACON_PAIRS), filled in
	 * order: the table grows while a pair finds no free slot, so a host
	 * that repeats few contacts holds few (104 bytes each); a full table
	 * of BWE_BEACON_PAIRS chooses what to give up as above.
	 */
	struct bwe_beacon_pair *pair;
	__u32 n_pair;
};

/* The most regular pair of a host, as the beacon signal reports it. */
struct bwe_beacon_eval {
	bool valid; /* some pair has the intervals for a bound (min_intervals, early tier) */
	__u8 proto;
	__u16 dport;
	__u32 intervals; /* kept */
	struct bwe_addr peer;
	double period_s; /* median interval */
	double jitter;	 /* 3rd quartile of |interval - median| / median */
};

/*
 * Median period and jitter of a pair's kept intervals (jitter: the share of
 * the period that three quarters of the intervals deviate by at most; a
 * quarter may be lost beacons or extra contacts); false with fewer than 2.
 */
bool bwe_beacon_pair_stats(const struct bwe_beacon_pair *p, double *period_s, double *jitter);

/* What the flood signal saw this interval (struct bwe_policy_flood). */
struct bwe_flood_eval {
	double pps;	  /* packets sent per second */
	double mean_size; /* bytes per packet sent */
	double share;	  /* lower bound: the top outbound peer's share of the epoch's upload */
	double reply;	  /* upper bound: what that peer sent back, share of what it got */
	__u32 peer;	  /* its bwe_hash_addr() (0: none) */
};

struct bwe_signal {
	double value; /* in bwe_signal_unit() */
	double threshold;
	__u32 run; /* consecutive intervals the raw condition held */
	bool fired;
};

/* (Fields ordered to leave no padding: the daemon keeps one per host.) */
struct bwe_signals {
	/* false on a host's first sample and after a counter reset: counters
	 * primed, nothing fired */
	bool valid;
	bool trusted;	       /* baselines past learning_period */
	bool hour_trusted;     /* hour_of_week on and this hour's bucket learnt */
	bool fanout_ports;     /* the fanout signal's value is ports, not peers */
	__u32 high_upload_run; /* consecutive intervals at >= spike.min_rate */
	double dt_s;
	double tx_bps, rx_bps; /* bytes/s over this interval */
	size_t n_windows;
	double z_tx[BWE_POLICY_WINDOWS_MAX]; /* per policy window, 0 until trusted */
	double z_rx[BWE_POLICY_WINDOWS_MAX];
	double z_hour;		/* upload z against this hour's bucket */
	double age_s;		/* since the data plane first saw the host */
	__u64 new_bl_hits;	/* this interval: contacts with listed peers */
	__u64 new_bl_in_hits;	/* this interval: unsolicited inbound from them (never fires) */
	double peers, ports;	/* fan-out estimates (see bwe_policy_fanout) */
	double fanout_tx_bytes; /* upload in the epoch the peers came from */
	double nonstd_share;	/* over nonstd_ports.window_s, 0 below min_bytes */
	double upload_ratio;	/* over upload_ratio.window_s, 0 below min_bytes */
	double tx_window_bytes; /* upload over upload_ratio.window_s */
	__u64 new_pw_hits; /* this interval: hits on proxyware-feed entries (not in new_bl_hits) */
	double expected_bps;	       /* upload discounted as expected activity, bytes/s */
	struct bwe_relay_eval relay;   /* the evaluation the relay signal comes from */
	struct bwe_beacon_eval beacon; /* the most regular pair followed */
	struct bwe_flood_eval flood;   /* what the flood signal saw */
	struct bwe_signal sig[BWE_SIG_MAX];
};

/*
 * What the daemon keeps of a host's last evaluation for bwctl report
 * (bwe_signals_keep()): the values computed from that sample, which the
 * host's state does not hold (152 bytes instead of the 592 of struct
 * bwe_signals). What the report decides from (which signals fired, the
 * spike's z, the fan-out estimates and bytes, the upload ratio: its
 * answers and the shapes' scores) at full precision; what it only shows
 * (the rates, the non-standard share, the relay, beacon and flood details)
 * as float, given back to 7 significant digits: within 6e-7 of the value,
 * far inside those estimates' own error (the SpaceSaving bounds, HyperLogLog
 * 18 %); at a rounding boundary the last digit of a shape's reason may
 * differ from the event's. bwe_signals_restore() gives the evaluation
 * back: these values, the runs, episode hits and decayed sums from the
 * host's state as the evaluation left it (only bwe_detect_update() changes
 * them), and the thresholds of the policy in force. Not kept, 0 when
 * restored: dt_s, rx_bps, z_rx, z_hour, z_tx of the other windows than the
 * spike signal's, age_s and the new hits of the interval, which the report
 * does not show.
 */
struct bwe_signals_kept {
	double z; /* z_tx of spike.window_s: the spike signal's value */
	double peers, ports, fanout_tx_bytes, upload_ratio;
	float tx_bps, expected_bps, nonstd_share;
	struct {
		float concentration, concentration_hi, spread_peers, balance, overlap, other_top;
		float tx_bytes, rx_bytes;
	} relay; /* struct bwe_relay_eval */
	struct {
		struct bwe_addr peer;
		float period_s, jitter;
		__u32 intervals;
		__u16 dport;
		__u8 proto;
		bool valid;
	} beacon; /* struct bwe_beacon_eval */
	struct {
		float pps, mean_size, share, reply;
		__u32 peer;
	} flood;     /* struct bwe_flood_eval */
	__u16 fired; /* bit (1 << enum bwe_signal_id) per fired signal */
	__s8 relay_dir;
	bool relay_fired;
	bool valid, trusted, hour_trusted;
	bool fanout_ports; /* the fanout signal's value is ports, not peers */
};

/*
 * What the caller knows beyond the counters, set in bwe_detect_host.extra
 * before each bwe_detect_update(); all zero: nothing.
 *
 * Proxyware. The data plane counts hits on every blocklist entry in
 * bl_hits; the daemon knows from the hit events which feed each listed
 * peer belongs to. proxyware_hits is its cumulative count of the host's
 * bl_hits attributed to feeds with "signal: proxyware" (never more than
 * bl_hits; it starts again from 0 when the counters do). Those hits raise
 * the proxyware signal (policy.signals.proxyware, the same episode rule
 * as blocklist) and are taken out of the blocklist signal's.
 *
 * Expected activity (expect.h). expected_rate: the sum of the max_rate of
 * the host's expected activities in their window, bytes/s (0: none).
 * expected_seen: what the host's summaries of this sample (its hll_epoch)
 * show of their peers (bwe_expected_measure()). The upload discounted in
 * an interval is the growth of expected_seen.tx_lo since the previous
 * sample (all of it in a new epoch), a lower bound of the bytes sent to
 * those peers, at most expected_rate: it does not count towards the spike
 * signal, the baselines, the upload ratio and the shapes; the rest of the
 * host's upload does, so other traffic beside the activity, or the
 * activity above max_rate, is judged as usual. The peers of expected_seen
 * are left out of the relay evaluation. expected_fanout: every peer and
 * port of the fan-out sketch is an expected one: the fanout signal does
 * not fire (its value is still computed).
 */
struct bwe_detect_extra {
	__u64 proxyware_hits;
	__u64 expected_rate;
	/* NULL: none; read during bwe_detect_update() only (the caller's, for one sample) */
	const struct bwe_expected_seen *expected_seen;
	bool expected_fanout;
};

/*
 * What bwe_detect_update() keeps of a host's previous sample: the counters
 * it takes differences of (under the names of struct bwe_host_stats) and the
 * fan-out estimates of its sketches (bwe_hll_estimate() of hll_dst and
 * hll_port: what a new epoch looks back on); not the registers, summaries,
 * drop counters, cached network class or per-CPU event memory (80 bytes
 * instead of the record's 472). The relay evaluation a new epoch looks back
 * on is kept apart (struct bwe_detect_host.relay).
 */
struct bwe_detect_prev {
	__u64 tx_bytes, tx_packets, rx_bytes;
	__u64 nonstd_tx_bytes, bl_hits, bl_in_hits;
	__u64 first_seen_ns;
	double peers, ports; /* bwe_hll_estimate() of hll_dst, hll_port */
	__u32 hll_epoch;
};

/* Cooldown and escalation of one rule for one host. */
struct bwe_rule_state {
	__u32 name_hash;   /* of the rule the slot belongs to; 0: empty */
	__u32 level;	   /* escalation step of the last firing */
	__s64 last_end;	   /* when the last action ended (alert: fired) */
	__s64 quiet_until; /* no firing before this */
};

struct bwe_how_bucket {
	float mean, var; /* bytes/s and (bytes/s)^2 */
	__u32 n;
};

/*
 * The baselines of one policy window: the upload and the download rate's
 * struct bwe_ewma, without their sample count, which is the same for both
 * (they take every sample together): bwe_detect_host.base_n.
 */
struct bwe_detect_base {
	double tx_mean, tx_var; /* bytes/s, (bytes/s)^2 */
	double rx_mean, rx_var;
};

/*
 * Everything the detector remembers about one host; zero it (or call
 * bwe_detect_host_init()) before the first update. 512 bytes (32 MiB for
 * the default 65536 tracked hosts; fields grouped by size, no holes but
 * the tail's padding);
 * allocated as needed: 2 KiB while hour_of_week is on, 400 bytes once the
 * host made a contact and 104 more per pair its beacon table follows (2 to
 * 16), 144 bytes when its relay signal first fires, 384 bytes of rule
 * state at its first action.
 */
struct bwe_detect_host {
	struct bwe_detect_prev prev;
	struct bwe_detect_base base[BWE_POLICY_WINDOWS_MAX];
	__u32 base_n[BWE_POLICY_WINDOWS_MAX]; /* samples base[] took (saturating) */
	double learned_s;		      /* history in the baselines */
	struct bwe_how_bucket *how;	      /* BWE_HOW_BUCKETS, or NULL */
	/* exponentially decayed sums (see struct bwe_policy_spike's comment) */
	double nonstd_tx, nonstd_all; /* nonstd_ports window */
	double up_tx, up_rx;	      /* upload_ratio window */
	double new_bytes;	      /* new_host window */
	/* blocklist episode */
	__u64 bl_episode_hits;
	__s64 bl_last_hit;
	/* fan-out epochs */
	__s64 epoch_since;			      /* first sample showing this epoch */
	double epoch_tx;			      /* upload since then */
	double prev_peers, prev_ports, prev_epoch_tx; /* last values of the previous epoch */
	__s64 last_upload;			      /* last interval with tx bytes */
	/* runs of raw conditions */
	__u32 run[BWE_SIG_MAX];
	__u32 high_upload_run;
	__u32 epoch; /* of the fan-out sketches */
	/* the caller's knowledge (struct bwe_detect_extra), and the proxyware episode */
	struct bwe_detect_extra extra;
	__u64 pw_prev; /* extra.proxyware_hits at the previous sample */
	__u64 pw_episode_hits;
	__s64 pw_last_hit;
	__s64 active_until; /* of the automatic action in force (active) */
	/* BWE_POLICY_RULES_MAX slots, by rule index; NULL (every slot empty)
	 * until the first action is committed: most hosts never have one */
	struct bwe_rule_state *rules;
	/* expected activity: expected_seen.tx_lo of the previous sample (its epoch: exp_epoch) */
	__u64 exp_lo_prev;
	/*
	 * relay: [0] the last sample's evaluation, [1] the previous epoch's
	 * last one, used early in a new epoch; each only while it fired (an
	 * evaluation that did not fire is never used again): NULL until the
	 * host's first firing, as most hosts never have one
	 */
	struct bwe_relay_eval *relay;
	struct bwe_beacon_table *beacon; /* NULL until the first contact */
	enum bwe_response active;	 /* THROTTLE/QUARANTINE in force, or NONE */
	__u32 exp_epoch;
	__u32 relay_epoch; /* epoch of the last sample seen by sig_relay() */
	/* The windows base[] was built for: XXH32 of bwe_policy.windows_s[] (0:
	 * none yet). A policy's windows that a host's digest matches by chance
	 * (2^-32 a change of windows) keep its baselines. */
	__u32 windows_id;
	bool primed; /* prev holds a sample */
};

void bwe_detect_host_init(struct bwe_detect_host *h);
/* Release the hour-of-week, beacon and rule tables; h may then be reused after init. NULL-safe. */
void bwe_detect_host_free(struct bwe_detect_host *h);
/* The operator lifted the host's automatic throttle/quarantine early. */
void bwe_detect_host_released(struct bwe_detect_host *h);

/*
 * A new contact of the host with peer (BWE_EV_CONTACT): destination port
 * dport (host order), protocol proto, at t_s seconds of the data plane's
 * clock. Contacts to pol->beacon.ignore_ports are ignored. Returns 0,
 * -EINVAL or -ENOMEM (the table, allocated on the first contact).
 */
int bwe_detect_contact(struct bwe_detect_host *h, const struct bwe_addr *peer, __u16 dport,
		       __u8 proto, double t_s, const struct bwe_policy *pol);

/*
 * One interval: now is this host's merged counters, dt_s the seconds since
 * the previous call for it (> 0), wall_time the Unix time of the sample.
 * Updates h and fills out (zeroed first). Returns 0, -EINVAL (NULL, dt_s
 * not positive and finite) or -ENOMEM (hour-of-week table).
 */
int bwe_detect_update(struct bwe_detect_host *h, const struct bwe_host_stats *now, double dt_s,
		      __s64 wall_time, const struct bwe_policy *pol, struct bwe_signals *out);

/* Keep what bwe_signals_restore() needs of s, the output of h's last update. */
void bwe_signals_keep(const struct bwe_signals *s, struct bwe_signals_kept *k);
/*
 * The signals of h's last update again from what was kept of them (struct
 * bwe_signals_kept): every field the report and bwe_detect_shapes() read
 * equals the update's output while the policy is the same.
 */
void bwe_signals_restore(const struct bwe_signals_kept *k, const struct bwe_detect_host *h,
			 const struct bwe_policy *pol, struct bwe_signals *out);

/* ---- shapes -------------------------------------------------------------------- */

enum bwe_shape {
	BWE_SHAPE_PROXYJACKING = 0, /* rented out as a residential proxy */
	BWE_SHAPE_BOTNET,	    /* scanning / flooding, or talking to C2 */
	BWE_SHAPE_MAX,
};

#define BWE_SHAPE_REASONS_MAX	      4
#define BWE_SHAPE_REASON_LEN	      96
/* Proxyjacking: a relay talks to many peers and sends about what it gets. */
#define BWE_SHAPE_PROXY_PEERS	      50  /* distinct peers per fan-out window */
#define BWE_SHAPE_RELAY_RATIO	      0.5 /* tx / rx at least this: relay (~1) or upload */
/* Scanning: many peers, each getting little: probes, not sessions. */
#define BWE_SHAPE_SCAN_BYTES_PER_PEER 4096.0

struct bwe_shape_match {
	enum bwe_shape shape;
	unsigned int score; /* criteria met */
	unsigned int of;    /* criteria examined */
	unsigned int n_reasons;
	char reasons[BWE_SHAPE_REASONS_MAX][BWE_SHAPE_REASON_LEN]; /* met criteria */
};

/*
 * Which attack shapes the signals match, for the event report. Proxyjacking
 * needs a sustained upload (spike fired, or spike.min_rate held for a
 * whole spike.window_s) and two of: BWE_SHAPE_PROXY_PEERS distinct peers,
 * a tx/rx ratio of at least BWE_SHAPE_RELAY_RATIO over the upload_ratio
 * window, the nonstd_ports signal, the relay signal. Botnet needs fan-out
 * with at most BWE_SHAPE_SCAN_BYTES_PER_PEER uploaded per peer (scanning,
 * flooding), the flood signal, or blocklist hits or beaconing (C2). Fills
 * out[0..n-1] and returns n (0..BWE_SHAPE_MAX).
 */
unsigned int bwe_detect_shapes(const struct bwe_signals *s, const struct bwe_policy *pol,
			       struct bwe_shape_match out[BWE_SHAPE_MAX]);
/* "proxyjacking", "botnet"; "?" */
const char *bwe_shape_name(enum bwe_shape s);

/* ---- rules ------------------------------------------------------------------------ */

/* Quarantines of the whole detector, for max_quarantines_per_hour. */
struct bwe_detect_global {
	__s64 started;				     /* learning_period counts from here */
	__s64 q_times[BWE_QUARANTINES_PER_HOUR_MAX]; /* ring of the latest */
	__u32 q_head, q_count;
};

void bwe_detect_global_init(struct bwe_detect_global *g, __s64 now);
/* Automatic quarantines in the hour before now. */
unsigned int bwe_detect_quarantines_last_hour(const struct bwe_detect_global *g, __s64 now);

/* Why a decision is weaker than its rule (bits). */
enum bwe_guard {
	BWE_GUARD_MONITOR_ONLY = 1 << 0,     /* policy monitor_only */
	BWE_GUARD_LEARNING = 1 << 1,	     /* detector younger than learning_period */
	BWE_GUARD_NEVER_QUARANTINE = 1 << 2, /* host in never_quarantine */
	BWE_GUARD_RATE_LIMIT = 1 << 3,	     /* max_quarantines_per_hour reached */
};

struct bwe_evidence {
	enum bwe_signal_id sig;
	double value, threshold; /* in bwe_signal_unit(sig) */
};

struct bwe_decision {
	enum bwe_response action; /* what to do now */
	enum bwe_response wanted; /* what the rule asks for */
	int rule;		  /* index into pol->rules, -1 for NONE */
	char rule_name[BWE_RULE_NAME_MAX];
	__u64 rate;   /* THROTTLE (action or wanted): bytes/s */
	__u64 ttl_s;  /* THROTTLE/QUARANTINE: this offence's TTL */
	__u32 level;  /* escalation step, 0 = first offence */
	__u32 guards; /* enum bwe_guard bits that weakened it */
	size_t n_evidence;
	struct bwe_evidence evidence[BWE_SIG_MAX]; /* the rule's fired signals */
};

/*
 * Decide the response to one host's signals. Pure: reads h, s, pol, g.
 *  - A rule matches when at least min_signals of its signals fired and it
 *    is not cooling down for this host; throttle and quarantine rules also
 *    not while an automatic action at least as strong is in force.
 *  - The strongest matching action wins (quarantine > throttle > alert;
 *    the first rule in file order on a tie): rule order does not matter.
 *  - Guard rails then weaken it: monitor_only or a detector younger than
 *    learning_period -> alert; a host in never_quarantine -> alert;
 *    max_quarantines_per_hour reached -> the strongest matching
 *    throttle rule, else alert. dec->guards says which applied.
 *  - TTL: escalation step (level) 0 unless the rule's previous action for
 *    this host ended at most repeat_window_s ago, then one step more
 *    (the last step repeats).
 * addr may be NULL (no never_quarantine check). Returns 0 (dec->action may
 * be NONE) or -EINVAL.
 */
int bwe_detect_decide(const struct bwe_detect_host *h, const struct bwe_signals *s,
		      const struct bwe_policy *pol, const struct bwe_detect_global *g,
		      const struct bwe_addr *addr, __s64 now, struct bwe_decision *dec);

/*
 * Record that dec was carried out at now: the rule's cooldown and
 * escalation step, the action in force, the global quarantine count.
 * Call it for alerts too (their cooldown). A decision weakened to an alert
 * by a guard rail still counts as its rule's action: the rule stays quiet
 * until the TTL it would have had plus its cooldown, and the next offence
 * escalates, so monitor-only mode shows what enforcement would do. A NONE
 * decision is ignored. Returns 0, or -ENOMEM when the host's rule state
 * (allocated at its first action) cannot be: then nothing is recorded.
 */
int bwe_detect_commit(struct bwe_detect_host *h, struct bwe_detect_global *g,
		      const struct bwe_policy *pol, const struct bwe_decision *dec, __s64 now);

#endif /* BWE_DETECT_H */
