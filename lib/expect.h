/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * expect.h - expected activity (policy.expected, bwenforce.yaml(5)): known
 * legitimate traffic the detector discounts, such as the weekly backup of
 * one host to one provider. Included by detect.h (struct bwe_policy holds
 * the list), the config loader, the daemon and the tests.
 *
 * Contract:
 *  - Pure library: no I/O, no clock, no global state; functions return 0
 *    or -errno, booleans cannot fail.
 *  - A schedule is a set of minutes of the week, UTC, Monday 00:00 = 0
 *    (the convention of bwe_hour_of_week()), parsed from text such as
 *    "Sun 01:00-04:00" or "Mon-Fri 02:00-02:30, Sat 23:00-01:00" (a window
 *    ending at or before its start runs past midnight into the next day).
 *
 * What the data plane lets the daemon verify. bwenforce keeps per-host
 * counters, not per-flow logs; what it knows of a host's peers and
 * destination ports is the fan-out sketch (bwe_host_stats.hll_dst,
 * hll_port: 32 HyperLogLog registers each, one fan-out epoch). Each listed
 * peer address (and port) lands in exactly one register with one rank, so
 * the registers the activity's own peers would set are known in advance
 * (bwe_expected_sketch()). A host whose registers are all at or below
 * them has, as far as the sketch can tell, talked to no one else:
 * bwe_sketch_within(). Another peer goes unseen only when its hash lands
 * in a register that an expected peer already set at least as high; with
 * k expected peers at most k of the 32 registers are set, so one foreign
 * peer is noticed with probability at least 1 - k/32, and n foreign peers
 * all hide with probability at most (k/32)^n. The sketch decides only the
 * fan-out exemption (struct bwe_detect_extra.expected_fanout).
 *
 * Bytes, per peer. What the activity may discount is measured, not
 * assumed: the data plane's SpaceSaving summary of the host's heaviest
 * outbound peers (bwe_host_stats.hh_tx, BWE_HH_SLOTS slots per CPU, one
 * fan-out epoch) holds each tracked peer's bytes with an error bound, and
 * bwe_expected_measure() sums the lower bounds (count - error) of the
 * slots whose peer is one of the activity's addresses (by the hash the
 * data plane keys them with, bwe_hash_addr()). A slot counts its peer's
 * bytes only from when the peer took it, so the difference of two
 * samples' sums never exceeds the bytes sent to those peers in between:
 * the detector discounts at most that, and at most max_rate (detect.h).
 * An expected peer that is not among the heaviest (a slot taken by
 * others) discounts nothing: an underestimate, never an excess. Ports are
 * not in the summary: the byte discount is per peer, any port.
 */
#ifndef BWE_EXPECT_H
#define BWE_EXPECT_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "addr.h"
#include "bwe_abi.h"

#define BWE_EXPECTED_MAX       32   /* entries of policy.expected */
#define BWE_EXPECTED_HOSTS_MAX 256  /* prefixes in hosts */
#define BWE_EXPECTED_PEERS_MAX 64   /* prefixes in peers */
#define BWE_EXPECTED_PORTS_MAX 32   /* ports */
#define BWE_EXPECTED_ADDRS_MAX 1024 /* addresses all peers of one activity cover */
#define BWE_EXPECTED_NAME_MAX  32   /* bytes of a name, with the NUL */
#define BWE_SCHEDULE_TEXT_MAX  256  /* bytes of a schedule as written */
#define BWE_SCHEDULE_MINUTES   (7 * 24 * 60)
#define BWE_SCHEDULE_WORDS     ((BWE_SCHEDULE_MINUTES + 63) / 64)
#define BWE_SCHEDULE_ERR_LEN   128

/* Minutes of the week in the schedule, bit m = minute m (Monday 00:00 UTC = 0). */
struct bwe_schedule {
	__u64 bits[BWE_SCHEDULE_WORDS];
};

struct bwe_expected {
	char name[BWE_EXPECTED_NAME_MAX]; /* [A-Za-z0-9_.-], unique */
	struct bwe_prefix *hosts;	  /* internal hosts doing it (heap) */
	size_t n_hosts;
	struct bwe_prefix *peers; /* the provider's addresses (heap), <= BWE_EXPECTED_ADDRS_MAX */
	size_t n_peers;
	__u16 *ports; /* destination ports, host order (heap); none: any port */
	size_t n_ports;
	char *schedule; /* as written */
	struct bwe_schedule sched;
	__u64 max_rate; /* bytes/s of upload discounted at most */
	/* the fan-out sketch registers the peers and ports would set */
	__u8 sketch_dst[BWE_HLL_REGS];
	__u8 sketch_port[BWE_HLL_REGS];
	/* bwe_hash_addr() of every peer address, ascending (bwe_expected_sketch()) */
	__u32 peer_hash[BWE_EXPECTED_ADDRS_MAX];
	size_t n_peer_hash;
};

/* What bwe_expected_measure() found in one host's summaries. */
struct bwe_expected_seen {
	__u64 tx_lo;		       /* lower bound: bytes to the activities' peers this epoch */
	__u32 peers[2 * BWE_HH_SLOTS]; /* their hashes, found in hh_tx or hh_rx, each once */
	unsigned int n_peers;
};

/*
 * Parse a schedule: windows separated by ",", each "DAYS HH:MM-HH:MM" with
 * DAYS one day (Mon Tue Wed Thu Fri Sat Sun), a range of days ("Mon-Fri",
 * "Fri-Mon" wraps) or "daily"; times 00:00..24:00 (24:00 only as an end).
 * A window whose end is at or before its start runs into the next day
 * ("Sat 23:00-01:00"); "00:00-24:00" is the whole day. 0, or -EINVAL with
 * err saying what was wrong.
 */
int bwe_schedule_parse(const char *s, struct bwe_schedule *out, char *err, size_t errlen);
/* Minute of the week of a Unix time, 0 = Monday 00:00 UTC. */
unsigned int bwe_minute_of_week(__s64 unix_time);
bool bwe_schedule_active(const struct bwe_schedule *s, __s64 unix_time);
/*
 * The number of addresses the prefixes cover, saturating at
 * BWE_EXPECTED_ADDRS_MAX + 1 (the config refuses more).
 */
size_t bwe_expected_addrs(const struct bwe_prefix *v, size_t n);
/* Fill e->sketch_dst, e->sketch_port and e->peer_hash from e->peers and e->ports. */
void bwe_expected_sketch(struct bwe_expected *e);
/* Is the peer with this bwe_hash_addr() one of e's addresses? */
bool bwe_expected_has_peer(const struct bwe_expected *e, __u32 peer_hash);
/*
 * Add what the host's merged summaries show of e's peers to *seen (zero
 * it before the first activity): the lower bounds of the hh_tx slots not
 * counted yet, and the peers of the slots of either summary. A peer of
 * two activities counts once.
 */
void bwe_expected_measure(const struct bwe_expected *e, const struct bwe_hh *tx,
			  const struct bwe_hh *rx, struct bwe_expected_seen *seen);
/* Every register of have at most the one of bound: nothing unexpected. */
bool bwe_sketch_within(const __u8 have[BWE_HLL_REGS], const __u8 bound[BWE_HLL_REGS]);
/* Is the host one of e's hosts? */
bool bwe_expected_has_host(const struct bwe_expected *e, const struct bwe_addr *a);

#endif /* BWE_EXPECT_H */
