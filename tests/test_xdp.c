// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_xdp.c - the enforcer's verdicts, driven through bpf_prog_test_run_opts
 * on frames from lib/pktbuild.c. Loads the real object (private maps, nothing
 * pinned, nothing attached, no packet leaves the process).
 *
 * The fixture world (test address ranges only):
 *   internal   198.18.0.0/24, 2001:db8:1::/64
 *   exempt     203.0.113.5 (mgmt), 203.0.113.53 (DNS), 2001:db8:3::5
 *   allow      198.51.100.200, 2001:db8:3::200
 *   quarantine 198.18.0.66, 2001:db8:1::66, 198.18.0.67 (events only)
 *   throttle   198.18.0.77, 2001:db8:1::77
 *   blocklist  203.0.113.66 drop (feed 2), 198.19.0.0/16 drop (feed 3),
 *              203.0.113.128/25 monitor (feed 4), 203.0.113.53 and
 *              198.51.100.200 drop (feed 2, must stay reachable),
 *              2001:db8:3::66 drop, 2001:db8:bad::/48 drop (feed 3),
 *              2001:db8:3::80 monitor (feed 4)
 */
#include <sched.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "test_helpers.h"
#include <errno.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <netinet/in.h>

#include "bwe_util.h"
#include "addr.h"
#include "blocklist.h"
#include "bwe_rules.h"
#include "dataplane.h"
#include "netclass.h"
#include "pktbuild.h"

#define FEED_A	     2
#define FEED_B	     3
#define FEED_MON     4
#define FEED_L3	     5
#define FIREHOL_L3   "tests/data/feeds/firehol_level3.netset" /* from the repo root */
#define FEED_MON2    6 /* a second monitor feed, told apart from FEED_MON */
#define ETH_P_LLDP_  0x88cc
#define DEDUP_NS     (60ULL * 1000000000ULL)
#define MISS_SAMPLES 2000
#define SKETCH_PEERS 60	  /* distinct peers per family in the sketch test */
#define SKETCH_PORT0 1000 /* first destination port of the sketch test */

static struct bwe_dp *dp;
static struct bwe_bl bl;
static struct ring_buffer *rb;
static int nevents, ncontacts;
static struct bwe_event last_ev;

static int on_event(void *ctx, void *data, size_t len)
{
	(void)ctx;
	assert_int_equal(len, sizeof(struct bwe_event));
	memcpy(&last_ev, data, sizeof(last_ev));
	nevents++;
	ncontacts += last_ev.type == BWE_EV_CONTACT;
	return 0;
}

static int drain_events(void)
{
	nevents = 0;
	ring_buffer__consume(rb);
	return nevents;
}

static void netclass_world(__u32 extra_flags_q)
{
	struct bwe_ncset s;
	static const char *internal[] = { "198.18.0.0/24", "2001:db8:1::/64" };
	static const char *exempt[] = { "203.0.113.5", "203.0.113.53", "2001:db8:3::5" };
	static const char *allow[] = { "198.51.100.200", "2001:db8:3::200" };
	static const char *quar[] = { "198.18.0.66", "2001:db8:1::66", "198.18.0.67" };
	static const char *thr[] = { "198.18.0.77", "2001:db8:1::77" };
	size_t i;

	bwe_ncset_init(&s);
	for (i = 0; i < 2; i++) {
		struct bwe_prefix p = pfx(internal[i]);

		assert_int_equal(bwe_ncset_add(&s, &p, BWE_NC_INTERNAL), 0);
	}
	for (i = 0; i < 3; i++)
		assert_int_equal(bwe_ncset_add(&s,
					       &(struct bwe_prefix){ .addr = addr(exempt[i]),
								     .plen = 128 },
					       BWE_NC_EXEMPT),
				 0);
	for (i = 0; i < 2; i++) {
		assert_int_equal(bwe_ncset_add(&s,
					       &(struct bwe_prefix){ .addr = addr(allow[i]),
								     .plen = 128 },
					       BWE_NC_ALLOW),
				 0);
		assert_int_equal(bwe_ncset_add(&s,
					       &(struct bwe_prefix){ .addr = addr(thr[i]),
								     .plen = 128 },
					       BWE_NC_THROTTLE),
				 0);
	}
	for (i = 0; i < 3; i++)
		assert_int_equal(bwe_ncset_add(&s,
					       &(struct bwe_prefix){ .addr = addr(quar[i]),
								     .plen = 128 },
					       BWE_NC_QUARANTINE | extra_flags_q),
				 0);
	assert_int_equal(bwe_dp_netclass_apply(dp, &s), 0);
	bwe_ncset_free(&s);
}

static void block(const char *p, __u8 feed, int monitor)
{
	struct bwe_prefix x = pfx(p);

	assert_int_equal(bwe_bl_set(&bl, &x, bwe_ref(feed, monitor)), 0);
}

static int setup(void **state)
{
	struct bwe_dp_opts opts = { 0 };
	struct bwe_config cfg = { .event_dedup_ns = DEDUP_NS };
	static const __u16 std_ports[] = { 53, 80, 443 };
	int err;

	(void)state;
	libbpf_set_print(NULL);
	err = bwe_dp_open(&dp, &opts);
	if (err) {
		fprintf(stderr, "bwe_dp_open: %s (are you root?)\n", strerror(-err));
		return -1;
	}
	assert_int_equal(bwe_bl_init(&bl, dp), 0);
	assert_int_equal(bwe_dp_config_set(dp, &cfg), 0);
	assert_int_equal(bwe_dp_std_ports_set(dp, std_ports, 3), 0);
	netclass_world(0);
	block("203.0.113.66", FEED_A, 0);
	block("198.19.0.0/16", FEED_B, 0);
	block("203.0.113.128/25", FEED_MON, 1);
	block("203.0.113.53", FEED_A, 0);
	block("198.51.100.200", FEED_A, 0);
	block("2001:db8:3::66", FEED_A, 0);
	block("2001:db8:bad::/48", FEED_B, 0);
	block("2001:db8:3::80", FEED_MON, 1);
	assert_int_equal(bwe_bl_flush(&bl), 0);
	rb = ring_buffer__new(bwe_dp_map_fd(dp, BWE_MAP_EVENTS), on_event, NULL, NULL);
	assert_non_null(rb);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ring_buffer__free(rb);
	bwe_bl_free(&bl);
	bwe_dp_close(dp);
	return 0;
}

/* Run one frame; returns the XDP action, stores the frame length. */
static int run_frame(const __u8 *frame, __u32 len)
{
	__u8 out[BWE_PKT_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, topts, .data_in = frame, .data_size_in = len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);

	assert_int_equal(bpf_prog_test_run_opts(bwe_dp_prog_fd(dp), &topts), 0);
	return (int)topts.retval;
}

static int run_spec(const struct pb_spec *s, __u32 *lenp)
{
	__u8 frame[BWE_PKT_MAX];
	int len = pb_build(s, frame, sizeof(frame));

	assert_true(len > 0);
	if (lenp)
		*lenp = (__u32)len;
	return run_frame(frame, (__u32)len);
}

struct verdict_case {
	const char *name;
	struct pb_spec spec;
	int action;    /* XDP_PASS / XDP_DROP */
	__u32 reason;  /* enum bwe_reason counted once */
	__u32 anomaly; /* enum bwe_anomaly also counted, 0 none */
};

#define TCP(s, d, dp_) \
	.src = s, .dst = d, .proto = IPPROTO_TCP, .sport = 40000, .dport = dp_, .payload = 64
#define UDP(s, d, dp_) \
	.src = s, .dst = d, .proto = IPPROTO_UDP, .sport = 40000, .dport = dp_, .payload = 32

static const struct verdict_case cases[] = {
	/* direction and the plain paths, both families */
	{ "v4 out pass", { TCP("198.18.0.10", "203.0.113.10", 443) }, XDP_PASS, BWE_R_PASS, 0 },
	{ "v4 in pass", { TCP("203.0.113.10", "198.18.0.10", 40000) }, XDP_PASS, BWE_R_PASS, 0 },
	{ "v6 out pass", { TCP("2001:db8:1::10", "2001:db8:3::10", 443) }, XDP_PASS, BWE_R_PASS, 0 },
	{ "v6 in pass", { UDP("2001:db8:3::10", "2001:db8:1::10", 5000) }, XDP_PASS, BWE_R_PASS, 0 },
	{ "v4 icmp out", { .src = "198.18.0.10", .dst = "203.0.113.10" }, XDP_PASS, BWE_R_PASS, 0 },
	{ "v4 transit ext-ext",
	  { TCP("203.0.113.10", "203.0.113.11", 80) },
	  XDP_PASS,
	  BWE_R_TRANSIT,
	  0 },
	{ "v4 transit int-int",
	  { TCP("198.18.0.10", "198.18.0.11", 80) },
	  XDP_PASS,
	  BWE_R_TRANSIT,
	  0 },
	{ "v6 transit",
	  { UDP("2001:db8:3::10", "2001:db8:3::11", 53) },
	  XDP_PASS,
	  BWE_R_TRANSIT,
	  0 },
	/* no internal side, a listed peer: dropped whatever the destination
	 * (the gateway's own address on a NAT gateway) */
	{ "transit to blocked",
	  { TCP("203.0.113.10", "203.0.113.66", 80) },
	  XDP_DROP,
	  BWE_R_BLOCK,
	  0 },
	{ "transit from blocked",
	  { TCP("203.0.113.66", "203.0.113.10", 80) },
	  XDP_DROP,
	  BWE_R_BLOCK,
	  0 },
	/* the gateway's own addresses are allowlisted: never blocked themselves,
	 * but what a listed peer sends them is */
	{ "listed peer to an allowlisted address",
	  { UDP("203.0.113.66", "198.51.100.200", 53) },
	  XDP_DROP,
	  BWE_R_BLOCK,
	  0 },
	{ "allowlisted (and listed) address to a peer",
	  { UDP("198.51.100.200", "203.0.113.10", 53) },
	  XDP_PASS,
	  BWE_R_TRANSIT,
	  0 },
	{ "arp", { .ethertype = ETH_P_ARP, .payload = 28 }, XDP_PASS, BWE_R_NON_IP, 0 },
	{ "lldp", { .ethertype = ETH_P_LLDP_, .payload = 40 }, XDP_PASS, BWE_R_NON_IP, 0 },
	{ "arp in vlan",
	  { .ethertype = ETH_P_ARP, .payload = 28, .nvlan = 1 },
	  XDP_PASS,
	  BWE_R_NON_IP,
	  0 },
	/* blocklist: exact host, DIR-24 prefix, v6 prefix, both directions */
	{ "v4 out block host",
	  { TCP("198.18.0.10", "203.0.113.66", 443) },
	  XDP_DROP,
	  BWE_R_BLOCK,
	  0 },
	{ "v4 in block host",
	  { TCP("203.0.113.66", "198.18.0.10", 40000) },
	  XDP_DROP,
	  BWE_R_BLOCK,
	  0 },
	{ "v4 out block /16", { UDP("198.18.0.10", "198.19.200.7", 53) }, XDP_DROP, BWE_R_BLOCK, 0 },
	{ "v4 in block /16", { UDP("198.19.0.1", "198.18.0.10", 53) }, XDP_DROP, BWE_R_BLOCK, 0 },
	{ "v6 out block host",
	  { TCP("2001:db8:1::10", "2001:db8:3::66", 443) },
	  XDP_DROP,
	  BWE_R_BLOCK,
	  0 },
	{ "v6 in block host",
	  { TCP("2001:db8:3::66", "2001:db8:1::10", 40000) },
	  XDP_DROP,
	  BWE_R_BLOCK,
	  0 },
	{ "v6 out block /48",
	  { TCP("2001:db8:1::10", "2001:db8:bad:1::9", 80) },
	  XDP_DROP,
	  BWE_R_BLOCK,
	  0 },
	{ "v6 in block /48",
	  { UDP("2001:db8:bad::1", "2001:db8:1::10", 80) },
	  XDP_DROP,
	  BWE_R_BLOCK,
	  0 },
	{ "v4 neighbour of blocked",
	  { TCP("198.18.0.10", "203.0.113.67", 443) },
	  XDP_PASS,
	  BWE_R_PASS,
	  0 },
	{ "v4 next to /16", { TCP("198.18.0.10", "198.20.0.1", 443) }, XDP_PASS, BWE_R_PASS, 0 },
	/* per-entry monitor action */
	{ "v4 monitor /25",
	  { TCP("198.18.0.10", "203.0.113.200", 443) },
	  XDP_PASS,
	  BWE_R_MONITOR,
	  0 },
	{ "v6 monitor host",
	  { TCP("2001:db8:3::80", "2001:db8:1::10", 5) },
	  XDP_PASS,
	  BWE_R_MONITOR,
	  0 },
	/* holes: allowlisted and exempt peers stay reachable although listed */
	{ "allow beats block",
	  { TCP("198.18.0.10", "198.51.100.200", 443) },
	  XDP_PASS,
	  BWE_R_ALLOW,
	  0 },
	{ "allow beats quarantine",
	  { TCP("198.18.0.66", "198.51.100.200", 443) },
	  XDP_PASS,
	  BWE_R_ALLOW,
	  0 },
	{ "exempt beats block",
	  { UDP("198.18.0.10", "203.0.113.53", 53) },
	  XDP_PASS,
	  BWE_R_EXEMPT,
	  0 },
	/* quarantine, with exempt traffic in both directions */
	{ "v4 quarantine out",
	  { TCP("198.18.0.66", "203.0.113.10", 443) },
	  XDP_DROP,
	  BWE_R_QUARANTINE,
	  0 },
	{ "v4 quarantine in",
	  { TCP("203.0.113.10", "198.18.0.66", 40000) },
	  XDP_DROP,
	  BWE_R_QUARANTINE,
	  0 },
	{ "v4 quarantine to mgmt",
	  { TCP("198.18.0.66", "203.0.113.5", 443) },
	  XDP_PASS,
	  BWE_R_EXEMPT,
	  0 },
	{ "v4 quarantine from mgmt",
	  { TCP("203.0.113.5", "198.18.0.66", 40000) },
	  XDP_PASS,
	  BWE_R_EXEMPT,
	  0 },
	{ "v4 quarantine dns",
	  { UDP("198.18.0.66", "203.0.113.53", 53) },
	  XDP_PASS,
	  BWE_R_EXEMPT,
	  0 },
	{ "v6 quarantine out",
	  { TCP("2001:db8:1::66", "2001:db8:3::10", 443) },
	  XDP_DROP,
	  BWE_R_QUARANTINE,
	  0 },
	{ "v6 quarantine in",
	  { TCP("2001:db8:3::10", "2001:db8:1::66", 1) },
	  XDP_DROP,
	  BWE_R_QUARANTINE,
	  0 },
	{ "v6 quarantine to mgmt",
	  { TCP("2001:db8:1::66", "2001:db8:3::5", 443) },
	  XDP_PASS,
	  BWE_R_EXEMPT,
	  0 },
	{ "v6 quarantine from mgmt",
	  { TCP("2001:db8:3::5", "2001:db8:1::66", 4) },
	  XDP_PASS,
	  BWE_R_EXEMPT,
	  0 },
	{ "v4 quarantine vlan",
	  { TCP("198.18.0.66", "203.0.113.10", 443), .nvlan = 1, .vlan_id = { 7 } },
	  XDP_DROP,
	  BWE_R_QUARANTINE,
	  0 },
	/* VLAN and QinQ */
	{ "v4 1 vlan pass",
	  { TCP("198.18.0.10", "203.0.113.10", 443), .nvlan = 1, .vlan_id = { 10 } },
	  XDP_PASS,
	  BWE_R_PASS,
	  0 },
	{ "v4 1 vlan block",
	  { TCP("198.18.0.10", "203.0.113.66", 443), .nvlan = 1, .vlan_id = { 10 } },
	  XDP_DROP,
	  BWE_R_BLOCK,
	  0 },
	{ "v4 qinq block",
	  { TCP("198.18.0.10", "203.0.113.66", 443), .nvlan = 2, .vlan_id = { 100, 10 } },
	  XDP_DROP,
	  BWE_R_BLOCK,
	  0 },
	{ "v6 qinq block",
	  { TCP("2001:db8:1::10", "2001:db8:3::66", 443), .nvlan = 2, .vlan_id = { 100, 10 } },
	  XDP_DROP,
	  BWE_R_BLOCK,
	  0 },
	{ "v4 two 802.1Q tags",
	  { TCP("198.18.0.10", "203.0.113.66", 443), .nvlan = 2, .vlan_tpid = { 0x8100, 0x8100 },
	    .vlan_id = { 1, 2 } },
	  XDP_DROP,
	  BWE_R_BLOCK,
	  0 },
	/* IPv4 options */
	{ "v4 options block",
	  { TCP("198.18.0.10", "203.0.113.66", 443), .ipv4_optlen = 40 },
	  XDP_DROP,
	  BWE_R_BLOCK,
	  0 },
	{ "v4 options pass",
	  { UDP("198.18.0.10", "203.0.113.10", 53), .ipv4_optlen = 8 },
	  XDP_PASS,
	  BWE_R_PASS,
	  0 },
	/* IPv6 extension header chains */
	{ "v6 hop+rt+dst block",
	  { TCP("2001:db8:1::10", "2001:db8:3::66", 443), .nv6ext = 3,
	    .v6ext = { PB_EXT_HOP, PB_EXT_ROUTING, PB_EXT_DSTOPT }, .v6ext_len = { 8, 24, 16 } },
	  XDP_DROP,
	  BWE_R_BLOCK,
	  0 },
	{ "v6 ah+dst pass",
	  { UDP("2001:db8:1::10", "2001:db8:3::10", 53), .nv6ext = 2,
	    .v6ext = { PB_EXT_AH, PB_EXT_DSTOPT } },
	  XDP_PASS,
	  BWE_R_PASS,
	  0 },
	{ "v6 8 ext pass",
	  { UDP("2001:db8:1::10", "2001:db8:3::10", 53), .nv6ext = 8,
	    .v6ext = { 0, 60, 60, 60, 60, 60, 60, 60 } },
	  XDP_PASS,
	  BWE_R_PASS,
	  BWE_A_EXTHDR_LIMIT },
	{ "v6 long chain blocked",
	  { UDP("2001:db8:1::10", "2001:db8:3::66", 53), .nv6ext = 8,
	    .v6ext = { 0, 60, 60, 60, 60, 60, 60, 60 } },
	  XDP_DROP,
	  BWE_R_BLOCK,
	  BWE_A_EXTHDR_LIMIT },
	/* fragments: the first carries ports, later ones are judged by address */
	{ "v4 first frag pass",
	  { TCP("198.18.0.10", "203.0.113.10", 443), .more_fragments = 1 },
	  XDP_PASS,
	  BWE_R_PASS,
	  0 },
	{ "v4 later frag block",
	  { TCP("198.18.0.10", "203.0.113.66", 443), .frag_offset = 185 },
	  XDP_DROP,
	  BWE_R_BLOCK,
	  BWE_A_FRAGMENT },
	{ "v4 later frag pass",
	  { UDP("198.18.0.10", "203.0.113.10", 53), .frag_offset = 185 },
	  XDP_PASS,
	  BWE_R_PASS,
	  BWE_A_FRAGMENT },
	{ "v6 first frag block",
	  { TCP("2001:db8:1::10", "2001:db8:3::66", 443), .more_fragments = 1 },
	  XDP_DROP,
	  BWE_R_BLOCK,
	  0 },
	{ "v6 later frag block",
	  { TCP("2001:db8:1::10", "2001:db8:3::66", 443), .frag_offset = 100 },
	  XDP_DROP,
	  BWE_R_BLOCK,
	  BWE_A_FRAGMENT },
	{ "v6 later frag quarantine",
	  { UDP("2001:db8:3::10", "2001:db8:1::66", 53), .frag_offset = 100 },
	  XDP_DROP,
	  BWE_R_QUARANTINE,
	  BWE_A_FRAGMENT },
};

static void read_stats(struct bwe_counter *c)
{
	assert_int_equal(bwe_dp_stats_read(dp, c), 0);
}

static void expect_delta(const struct bwe_counter *before, const struct bwe_counter *after,
			 __u32 reason, __u32 anomaly, __u32 len, const char *name)
{
	__u32 i;

	for (i = 0; i < BWE_STATS_MAX; i++) {
		__u64 want = (i == reason || (anomaly && i == anomaly)) ? 1 : 0;

		if (after[i].packets - before[i].packets != want ||
		    after[i].bytes - before[i].bytes != want * len)
			fail_msg("%s: slot %u counted %llu packets / %llu bytes, want %llu / %llu",
				 name, i,
				 (unsigned long long)(after[i].packets - before[i].packets),
				 (unsigned long long)(after[i].bytes - before[i].bytes),
				 (unsigned long long)want, (unsigned long long)(want * len));
	}
}

static void test_verdicts(void **state)
{
	struct bwe_counter before[BWE_STATS_MAX], after[BWE_STATS_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct verdict_case *c = &cases[i];
		__u32 len;
		int act;

		read_stats(before);
		act = run_spec(&c->spec, &len);
		read_stats(after);
		if (act != c->action)
			fail_msg("%s: action %d, want %d", c->name, act, c->action);
		expect_delta(before, after, c->reason, c->anomaly, len, c->name);
	}
	drain_events();
}

static void read_stats_dir(struct bwe_counter (*c)[BWE_SD_MAX])
{
	assert_int_equal(bwe_dp_stats_read_dir(dp, c), 0);
}

static const char *const sd_names[BWE_SD_MAX] = { "none", "out", "in" };

/*
 * Between two per-direction reads, exactly one packet of len bytes under
 * (reason, dir), and the anomaly (if any) under BWE_SD_NONE; nothing else.
 */
static void expect_dir_delta(const struct bwe_counter (*before)[BWE_SD_MAX],
			     const struct bwe_counter (*after)[BWE_SD_MAX], __u32 reason, __u32 dir,
			     __u32 anomaly, __u32 len, const char *name)
{
	__u32 i, d;

	for (i = 0; i < BWE_STATS_MAX; i++) {
		for (d = 0; d < BWE_SD_MAX; d++) {
			__u64 want = ((i == reason && d == dir) ||
				      (anomaly && i == anomaly && d == BWE_SD_NONE))
					     ? 1
					     : 0;
			__u64 p = after[i][d].packets - before[i][d].packets;
			__u64 b = after[i][d].bytes - before[i][d].bytes;

			if (p != want || b != want * len)
				fail_msg("%s: slot %u direction %s counted %llu packets / %llu "
					 "bytes, want %llu / %llu",
					 name, i, sd_names[d], (unsigned long long)p,
					 (unsigned long long)b, (unsigned long long)want,
					 (unsigned long long)(want * len));
		}
	}
}

/*
 * Every verdict is counted in the direction of its internal host: outbound
 * when it is the source, inbound when it is the destination, "none" when
 * the packet has no internal side (transit, non-IP, malformed). Anomalies
 * have no direction. The totals of bwe_dp_stats_read() are the sums.
 */
static void test_directions(void **state)
{
	static const struct {
		const char *name;
		struct pb_spec spec;
		__u32 reason, dir, anomaly;
	} rows[] = {
		{ "v4 out pass",
		  { TCP("198.18.0.10", "203.0.113.10", 443) },
		  BWE_R_PASS,
		  BWE_SD_OUT,
		  0 },
		{ "v4 in pass",
		  { TCP("203.0.113.10", "198.18.0.10", 40000) },
		  BWE_R_PASS,
		  BWE_SD_IN,
		  0 },
		{ "v6 out pass",
		  { TCP("2001:db8:1::10", "2001:db8:3::10", 443) },
		  BWE_R_PASS,
		  BWE_SD_OUT,
		  0 },
		{ "v6 in pass",
		  { UDP("2001:db8:3::10", "2001:db8:1::10", 5000) },
		  BWE_R_PASS,
		  BWE_SD_IN,
		  0 },
		{ "v4 out block",
		  { TCP("198.18.0.10", "203.0.113.66", 443) },
		  BWE_R_BLOCK,
		  BWE_SD_OUT,
		  0 },
		{ "v4 in block",
		  { TCP("203.0.113.66", "198.18.0.10", 40000) },
		  BWE_R_BLOCK,
		  BWE_SD_IN,
		  0 },
		{ "v6 in block /48",
		  { UDP("2001:db8:bad::1", "2001:db8:1::10", 80) },
		  BWE_R_BLOCK,
		  BWE_SD_IN,
		  0 },
		{ "v4 quarantine out",
		  { TCP("198.18.0.66", "203.0.113.10", 443) },
		  BWE_R_QUARANTINE,
		  BWE_SD_OUT,
		  0 },
		{ "v4 quarantine in",
		  { TCP("203.0.113.10", "198.18.0.66", 40000) },
		  BWE_R_QUARANTINE,
		  BWE_SD_IN,
		  0 },
		{ "v6 exempt in",
		  { TCP("2001:db8:3::5", "2001:db8:1::66", 4) },
		  BWE_R_EXEMPT,
		  BWE_SD_IN,
		  0 },
		{ "v4 later frag out",
		  { TCP("198.18.0.10", "203.0.113.66", 443), .frag_offset = 185 },
		  BWE_R_BLOCK,
		  BWE_SD_OUT,
		  BWE_A_FRAGMENT },
		{ "v4 in untracked",
		  { TCP("203.0.113.10", "198.18.0.222", 40000) },
		  BWE_R_PASS,
		  BWE_SD_IN,
		  BWE_A_INBOUND_UNTRACKED },
		{ "v4 transit ext-ext",
		  { TCP("203.0.113.10", "203.0.113.11", 80) },
		  BWE_R_TRANSIT,
		  BWE_SD_NONE,
		  0 },
		{ "v4 transit int-int",
		  { TCP("198.18.0.10", "198.18.0.11", 80) },
		  BWE_R_TRANSIT,
		  BWE_SD_NONE,
		  0 },
		{ "v6 transit to blocked",
		  { UDP("2001:db8:3::10", "2001:db8:3::66", 53) },
		  BWE_R_BLOCK,
		  BWE_SD_NONE,
		  0 },
		{ "arp", { .ethertype = ETH_P_ARP, .payload = 28 }, BWE_R_NON_IP, BWE_SD_NONE, 0 },
	};
	struct bwe_counter before[BWE_STATS_MAX][BWE_SD_MAX], after[BWE_STATS_MAX][BWE_SD_MAX];
	struct bwe_counter tot[BWE_STATS_MAX];
	struct pb_spec cut = { TCP("198.18.0.10", "203.0.113.66", 443) };
	__u8 frame[BWE_PKT_MAX];
	__u32 len, i, d;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		read_stats_dir(before);
		run_spec(&rows[i].spec, &len);
		read_stats_dir(after);
		expect_dir_delta(before, after, rows[i].reason, rows[i].dir, rows[i].anomaly, len,
				 rows[i].name);
	}
	/* malformed: the IPv4 header cut short, so no address and no direction */
	assert_true(pb_build(&cut, frame, sizeof(frame)) > 0);
	len = ETH_HLEN + 10;
	read_stats_dir(before);
	assert_int_equal(run_frame(frame, len), XDP_DROP);
	read_stats_dir(after);
	expect_dir_delta(before, after, BWE_R_MALFORMED, BWE_SD_NONE, 0, len, "malformed");

	/* the totals every other reader sees are the sums over directions */
	read_stats(tot);
	read_stats_dir(after);
	for (i = 0; i < BWE_STATS_MAX; i++) {
		__u64 p = 0, b = 0;

		for (d = 0; d < BWE_SD_MAX; d++) {
			p += after[i][d].packets;
			b += after[i][d].bytes;
		}
		assert_int_equal(tot[i].packets, p);
		assert_int_equal(tot[i].bytes, b);
	}
	drain_events();
}

/* Cut a frame at every header boundary and one byte before it. */
static void test_truncation(void **state)
{
	static const struct {
		const char *name;
		struct pb_spec spec;
	} specs[] = {
		{ "v4 tcp qinq",
		  { TCP("198.18.0.10", "203.0.113.66", 443), .nvlan = 2, .ipv4_optlen = 8 } },
		{ "v6 udp ext",
		  { UDP("2001:db8:1::10", "2001:db8:3::66", 53), .nv6ext = 3,
		    .v6ext = { PB_EXT_HOP, PB_EXT_FRAG, PB_EXT_DSTOPT } } },
	};
	struct bwe_counter before[BWE_STATS_MAX], after[BWE_STATS_MAX];
	__u8 frame[BWE_PKT_MAX];
	size_t offs[PB_BOUNDARIES_MAX];
	size_t i;
	int n, b, len;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(specs); i++) {
		const struct pb_spec *s = &specs[i].spec;
		int l3_end;

		len = pb_build(s, frame, sizeof(frame));
		assert_true(len > 0);
		n = pb_boundaries(s, offs, PB_BOUNDARIES_MAX);
		assert_true(n >= 3);
		l3_end = (int)offs[1];
		for (b = 0; b < n; b++) {
			int cut;

			for (cut = (int)offs[b] - 1; cut <= (int)offs[b]; cut++) {
				__u32 want, anomaly = 0;
				int act;

				if (cut < ETH_HLEN)
					continue; /* test_run refuses frames shorter than Ethernet */
				if (cut < l3_end) {
					want = BWE_R_MALFORMED;
				} else {
					want = BWE_R_BLOCK; /* addresses readable: judged by them */
					/* ports are the first 4 bytes of L4 */
					if (cut < (int)offs[n - 2] + 4)
						anomaly = BWE_A_L4_TRUNCATED;
				}
				read_stats(before);
				act = run_frame(frame, (__u32)cut);
				read_stats(after);
				if (act != XDP_DROP)
					fail_msg("%s cut at %d: action %d", specs[i].name, cut,
						 act);
				expect_delta(before, after, want, anomaly, (__u32)cut,
					     specs[i].name);
			}
		}
	}
	drain_events();
}

static void test_malformed_headers(void **state)
{
	struct pb_spec s = { TCP("198.18.0.10", "203.0.113.10", 443) };
	struct bwe_counter before[BWE_STATS_MAX], after[BWE_STATS_MAX];
	__u8 frame[BWE_PKT_MAX];
	int len;

	(void)state;
	len = pb_build(&s, frame, sizeof(frame));
	assert_true(len > 0);
	frame[ETH_HLEN] = 0x43; /* version 4, ihl 3: shorter than the header */
	read_stats(before);
	assert_int_equal(run_frame(frame, (__u32)len), XDP_DROP);
	read_stats(after);
	expect_delta(before, after, BWE_R_MALFORMED, 0, (__u32)len, "ihl 3");

	frame[ETH_HLEN] = 0x65; /* IPv6 version under an IPv4 EtherType */
	read_stats(before);
	assert_int_equal(run_frame(frame, (__u32)len), XDP_DROP);
	read_stats(after);
	expect_delta(before, after, BWE_R_MALFORMED, 0, (__u32)len, "version 6 in v4");
}

static void set_dryrun(int on)
{
	struct bwe_config cfg;

	assert_int_equal(bwe_dp_config_get(dp, &cfg), 0);
	cfg.flags = on ? cfg.flags | BWE_CFG_DRYRUN : cfg.flags & ~BWE_CFG_DRYRUN;
	assert_int_equal(bwe_dp_config_set(dp, &cfg), 0);
}

/*
 * Monitor-only mode, every fixture row and a throttled host: the program
 * counts the reason bwe_reason_dryrun() (bwe_rules.h) maps the verdict to,
 * and drops exactly when bwe_reason_drops() says so.
 */
static void test_dryrun(void **state)
{
	/* the v6 throttled host: test_throttle counts the v4 one's drops */
	struct pb_spec thr = { UDP("2001:db8:1::77", "2001:db8:3::10", 9) };
	struct pb_spec blk = { TCP("198.18.0.10", "203.0.113.66", 443) };
	struct bwe_addr thr_host = addr("2001:db8:1::77");
	struct bwe_counter before[BWE_STATS_MAX], after[BWE_STATS_MAX];
	size_t i;
	__u32 len, want;

	(void)state;
	set_dryrun(1);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct verdict_case *c = &cases[i];

		want = bwe_reason_dryrun(c->reason);
		read_stats(before);
		if (run_spec(&c->spec, &len) != (bwe_reason_drops(want) ? XDP_DROP : XDP_PASS))
			fail_msg("%s in dry run: wrong action", c->name);
		read_stats(after);
		expect_delta(before, after, want, c->anomaly, len, c->name);
	}
	/* a one-byte bucket: every frame is over the rate */
	assert_int_equal(bwe_dp_throttle_set(dp, &thr_host, 1, 1), 0);
	want = bwe_reason_dryrun(BWE_R_THROTTLE);
	read_stats(before);
	assert_int_equal(run_spec(&thr, &len), bwe_reason_drops(want) ? XDP_DROP : XDP_PASS);
	read_stats(after);
	expect_delta(before, after, want, 0, len, "dry throttle");
	set_dryrun(0);
	/* and off again: the same frames drop */
	assert_int_equal(run_spec(&thr, NULL), XDP_DROP);
	assert_int_equal(bwe_dp_throttle_del(dp, &thr_host), 0);
	assert_int_equal(run_spec(&blk, NULL), XDP_DROP);
	drain_events();
}

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

static void throttle_case(const char *host, const char *peer)
{
	struct bwe_addr h = addr(host);
	struct pb_spec out = { .src = host,
			       .dst = peer,
			       .proto = IPPROTO_UDP,
			       .sport = 1,
			       .dport = 9,
			       .payload = 900 };
	struct pb_spec in = { .src = peer,
			      .dst = host,
			      .proto = IPPROTO_UDP,
			      .sport = 9,
			      .dport = 1,
			      .payload = 900 };
	struct bwe_throttle t;
	__u32 len;
	int i;

	/* burst 3 frames of ~950 bytes, 2000 B/s */
	assert_int_equal(bwe_dp_throttle_set(dp, &h, 2000, 3000), 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(run_spec(&out, &len), XDP_PASS);
	assert_int_equal(run_spec(&out, NULL), XDP_DROP); /* bucket empty */
	assert_int_equal(run_spec(&in, NULL), XDP_PASS);  /* inbound has its own bucket */

	/* Refill: pretend the last refill was 500 ms ago: 1000 bytes come back. */
	assert_int_equal(bpf_map_lookup_elem_flags(bwe_dp_map_fd(dp, BWE_MAP_THROTTLE), &h, &t,
						   BPF_F_LOCK),
			 0);
	t.tx.tokens = 0;
	t.tx.last_ns = mono_ns() - 500000000ULL;
	assert_int_equal(bpf_map_update_elem(bwe_dp_map_fd(dp, BWE_MAP_THROTTLE), &h, &t,
					     BPF_F_LOCK),
			 0);
	assert_int_equal(run_spec(&out, NULL), XDP_PASS);
	assert_int_equal(run_spec(&out, NULL), XDP_DROP);

	/* A full second restores the whole burst. */
	t.tx.tokens = 0;
	t.tx.last_ns = mono_ns() - 2000000000ULL;
	assert_int_equal(bpf_map_update_elem(bwe_dp_map_fd(dp, BWE_MAP_THROTTLE), &h, &t,
					     BPF_F_LOCK),
			 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(run_spec(&out, NULL), XDP_PASS);
	assert_int_equal(run_spec(&out, NULL), XDP_DROP);
	assert_int_equal(bwe_dp_throttle_del(dp, &h), 0);
	assert_int_equal(run_spec(&out, NULL), XDP_PASS); /* flag set, no bucket: pass */
}

/* Apply the network classes of rows {prefix, flags} (and nothing else). */
struct class_row {
	const char *pfx;
	__u32 flags;
};

static void apply_classes(const struct class_row *rows, size_t n)
{
	struct bwe_ncset s;
	size_t i;

	bwe_ncset_init(&s);
	for (i = 0; i < n; i++) {
		struct bwe_prefix p = pfx(rows[i].pfx);

		assert_int_equal(bwe_ncset_add(&s, &p, rows[i].flags), 0);
	}
	assert_int_equal(bwe_dp_netclass_apply(dp, &s), 0);
	bwe_ncset_free(&s);
}

#define CLASS_STEPS_MAX 4
/*
 * Class changes reach the very next packet, although the usual packet no
 * longer walks the trie: a /16 with one class answers from bwe_nc16, a
 * MIXED one from it too for an address in no longer prefix (bwe_nc4), else
 * from the host record's cached class until the generation moves. Each
 * step applies a class set, then runs frames whose hosts already have
 * records with classes cached under the step before (the step's frames run
 * twice: the second run answers from the refreshed cache); a step that
 * keeps a longer prefix over a host with a cached quarantine checks that
 * the cache goes stale when the quarantine is lifted.
 */
static void test_class_changes(void **state)
{
	static const struct {
		const char *name;
		struct class_row rows[CLASS_STEPS_MAX];
		size_t nrows;
		struct {
			const char *src, *dst;
			int action;
			__u32 reason;
		} frames[3];
	} steps[] = {
		{ "uniform internal /16",
		  { { "198.18.0.0/16", BWE_NC_INTERNAL } },
		  1,
		  { { "198.18.5.5", "203.0.113.10", XDP_PASS, BWE_R_PASS },
		    { "198.18.5.6", "203.0.113.10", XDP_PASS, BWE_R_PASS },
		    { "203.0.113.10", "198.18.5.5", XDP_PASS, BWE_R_PASS } } },
		{ "one host quarantined: the /16 turns MIXED",
		  { { "198.18.0.0/16", BWE_NC_INTERNAL },
		    { "198.18.5.5", BWE_NC_QUARANTINE },
		    { "203.0.113.5", BWE_NC_EXEMPT } },
		  3,
		  { { "198.18.5.5", "203.0.113.10", XDP_DROP, BWE_R_QUARANTINE },
		    { "198.18.5.6", "203.0.113.10", XDP_PASS, BWE_R_PASS },
		    { "198.18.5.5", "203.0.113.5", XDP_PASS, BWE_R_EXEMPT } } },
		{ "quarantine lifted: uniform again",
		  { { "198.18.0.0/16", BWE_NC_INTERNAL } },
		  1,
		  { { "198.18.5.5", "203.0.113.10", XDP_PASS, BWE_R_PASS },
		    { "203.0.113.10", "198.18.5.5", XDP_PASS, BWE_R_PASS },
		    { "198.18.5.6", "203.0.113.10", XDP_PASS, BWE_R_PASS } } },
		{ "quarantined again, in a /24 of its own",
		  { { "198.18.0.0/16", BWE_NC_INTERNAL }, { "198.18.5.0/24", BWE_NC_QUARANTINE } },
		  2,
		  { { "198.18.5.5", "203.0.113.10", XDP_DROP, BWE_R_QUARANTINE },
		    { "203.0.113.10", "198.18.5.6", XDP_DROP, BWE_R_QUARANTINE },
		    { "198.18.6.1", "203.0.113.10", XDP_PASS, BWE_R_PASS } } },
		{ "the /24's quarantine lifted, the /24 still classed: its cached quarantine goes stale",
		  { { "198.18.0.0/16", BWE_NC_INTERNAL }, { "198.18.5.0/24", BWE_NC_EXEMPT } },
		  2,
		  { { "198.18.5.5", "203.0.113.10", XDP_PASS, BWE_R_PASS },
		    { "203.0.113.10", "198.18.5.6", XDP_PASS, BWE_R_PASS },
		    { "198.18.6.1", "203.0.113.10", XDP_PASS, BWE_R_PASS } } },
		{ "another host quarantined: the cached quarantine goes stale",
		  { { "198.18.0.0/16", BWE_NC_INTERNAL }, { "198.18.6.1", BWE_NC_QUARANTINE } },
		  2,
		  { { "198.18.5.5", "203.0.113.10", XDP_PASS, BWE_R_PASS },
		    { "198.18.5.6", "203.0.113.10", XDP_PASS, BWE_R_PASS },
		    { "198.18.6.1", "203.0.113.10", XDP_DROP, BWE_R_QUARANTINE } } },
		{ "the whole /16 quarantined: uniform, no trie",
		  { { "198.18.0.0/16", BWE_NC_INTERNAL | BWE_NC_QUARANTINE } },
		  1,
		  { { "198.18.5.5", "203.0.113.10", XDP_DROP, BWE_R_QUARANTINE },
		    { "198.18.200.1", "203.0.113.10", XDP_DROP, BWE_R_QUARANTINE },
		    { "203.0.113.10", "198.18.5.6", XDP_DROP, BWE_R_QUARANTINE } } },
		{ "exempt prefixes longer than /16 among the peers (bwe_nc4's two lengths)",
		  { { "198.18.0.0/16", BWE_NC_INTERNAL },
		    { "203.0.112.0/20", BWE_NC_EXEMPT },
		    { "198.51.100.0/25", BWE_NC_EXEMPT } },
		  3,
		  { { "198.18.5.5", "203.0.113.10", XDP_PASS, BWE_R_EXEMPT },
		    { "198.18.5.5", "198.51.100.10", XDP_PASS, BWE_R_EXEMPT },
		    { "198.18.5.5", "198.51.100.150", XDP_PASS, BWE_R_PASS } } },
		{ "an internal /8 beside the /16",
		  { { "10.0.0.0/8", BWE_NC_INTERNAL }, { "198.18.0.0/16", BWE_NC_INTERNAL } },
		  2,
		  { { "198.18.5.5", "10.1.2.3", XDP_PASS, BWE_R_TRANSIT },
		    { "10.200.0.1", "203.0.113.10", XDP_PASS, BWE_R_PASS },
		    { "203.0.113.10", "10.200.0.1", XDP_PASS, BWE_R_PASS } } },
	};
	struct bwe_counter before[BWE_STATS_MAX], after[BWE_STATS_MAX];
	struct bwe_config c0, c1;
	size_t i, j, k;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(steps); i++) {
		assert_int_equal(bwe_dp_config_get(dp, &c0), 0);
		apply_classes(steps[i].rows, steps[i].nrows);
		assert_int_equal(bwe_dp_config_get(dp, &c1), 0);
		assert_int_equal(c1.nc_gen, c0.nc_gen + 1);
		for (k = 0; k < 2; k++) {
			for (j = 0; j < ARRAY_SIZE(steps[i].frames); j++) {
				struct pb_spec sp = { TCP(steps[i].frames[j].src,
							  steps[i].frames[j].dst, 443) };
				__u32 len;
				int act;

				read_stats(before);
				act = run_spec(&sp, &len);
				read_stats(after);
				if (act != steps[i].frames[j].action)
					fail_msg("%s, %s -> %s (run %zu): action %d, want %d",
						 steps[i].name, steps[i].frames[j].src,
						 steps[i].frames[j].dst, k + 1, act,
						 steps[i].frames[j].action);
				expect_delta(before, after, steps[i].frames[j].reason, 0, len,
					     steps[i].name);
			}
		}
	}
	/* a configuration write keeps the generation: nothing cached turns current */
	c0 = c1;
	c0.nc_gen = 0;
	assert_int_equal(bwe_dp_config_set(dp, &c0), 0);
	assert_int_equal(bwe_dp_config_get(dp, &c0), 0);
	assert_int_equal(c0.nc_gen, c1.nc_gen);
	drain_events();
}

/* The fixture's classes back, also after a failed step (teardown). */
static int restore_world(void **state)
{
	(void)state;
	netclass_world(0);
	return 0;
}

static void test_throttle(void **state)
{
	struct bwe_counter before[BWE_STATS_MAX], after[BWE_STATS_MAX];
	struct bwe_host_stats hs;
	struct bwe_addr h = addr("198.18.0.77");

	(void)state;
	read_stats(before);
	throttle_case("198.18.0.77", "203.0.113.10");
	throttle_case("2001:db8:1::77", "2001:db8:3::10");
	read_stats(after);
	assert_int_equal(after[BWE_R_THROTTLE].packets - before[BWE_R_THROTTLE].packets, 6);
	assert_int_equal(bwe_dp_host_read(dp, &h, &hs), 0);
	assert_int_equal(hs.drop[BWE_HD_THROTTLE].packets, 3);
}

static void test_accounting(void **state)
{
	struct bwe_addr h = addr("198.18.0.20"), h6 = addr("2001:db8:1::20");
	struct pb_spec out_std = { TCP("198.18.0.20", "203.0.113.10", 443) };
	struct pb_spec out_odd = { TCP("198.18.0.20", "203.0.113.11", 8080) };
	/* UDP to any port is not non-standard: real-time media uses any port */
	struct pb_spec out_media = { UDP("198.18.0.20", "203.0.113.13", 40000) };
	struct pb_spec in = { TCP("203.0.113.10", "198.18.0.20", 40000) };
	struct pb_spec blk = { TCP("198.18.0.20", "203.0.113.66", 443) };
	struct pb_spec frag = { UDP("198.18.0.20", "203.0.113.12", 8080), .frag_offset = 10 };
	struct pb_spec out6 = { .src = "2001:db8:1::20",
				.dst = "2001:db8:3::10",
				.proto = IPPROTO_UDP,
				.sport = 1,
				.dport = 7777,
				.payload = 1200,
				.nvlan = 1 };
	__u32 l_std, l_odd, l_media, l_in, l_blk, l_frag, l6;
	struct bwe_host_stats hs;
	int i;

	(void)state;
	assert_int_equal(bwe_dp_host_read(dp, &h, &hs), -ENOENT);
	for (i = 0; i < 5; i++)
		assert_int_equal(run_spec(&out_std, &l_std), XDP_PASS);
	for (i = 0; i < 3; i++)
		assert_int_equal(run_spec(&out_odd, &l_odd), XDP_PASS);
	for (i = 0; i < 2; i++)
		assert_int_equal(run_spec(&out_media, &l_media), XDP_PASS);
	for (i = 0; i < 7; i++)
		assert_int_equal(run_spec(&in, &l_in), XDP_PASS);
	for (i = 0; i < 2; i++)
		assert_int_equal(run_spec(&blk, &l_blk), XDP_DROP);
	assert_int_equal(run_spec(&frag, &l_frag), XDP_PASS);

	assert_int_equal(bwe_dp_host_read(dp, &h, &hs), 0);
	assert_int_equal(hs.tx_packets, 5 + 3 + 2 + 1);
	assert_int_equal(hs.tx_bytes, 5 * l_std + 3 * l_odd + 2 * l_media + l_frag);
	assert_int_equal(hs.rx_packets, 7);
	assert_int_equal(hs.rx_bytes, 7 * l_in);
	assert_int_equal(hs.drop[BWE_HD_BLOCK].packets, 2);
	assert_int_equal(hs.drop[BWE_HD_BLOCK].bytes, 2 * l_blk);
	assert_int_equal(hs.drop[BWE_HD_QUARANTINE].packets, 0);
	/* a later fragment has no port, UDP any port: neither is non-standard */
	assert_int_equal(hs.nonstd_tx_bytes, 3 * l_odd);
	assert_int_equal(hs.bl_hits, 2);
	assert_true(hs.first_seen_ns > 0 && hs.last_seen_ns >= hs.first_seen_ns);

	for (i = 0; i < 4; i++)
		assert_int_equal(run_spec(&out6, &l6), XDP_PASS);
	assert_int_equal(bwe_dp_host_read(dp, &h6, &hs), 0);
	assert_int_equal(hs.tx_packets, 4);
	assert_int_equal(hs.tx_bytes, 4 * l6);
	assert_int_equal(hs.nonstd_tx_bytes, 0); /* UDP: not counted */
	assert_int_equal(hs.rx_bytes, 0);
	drain_events();
}

/* Fan-out sketch: many distinct peers light many registers; one peer lights one. */
static void test_fanout_sketch(void **state)
{
	struct bwe_addr h = addr("198.18.0.30"), h1 = addr("198.18.0.31");
	struct bwe_host_stats hs;
	char dst[INET_ADDRSTRLEN];
	int i, lit = 0;

	(void)state;
	for (i = 0; i < 200; i++) {
		struct pb_spec s = { UDP("198.18.0.30", dst, 53) };

		snprintf(dst, sizeof(dst), "198.51.100.%d", 1 + (i % 190));
		s.dport = (__u16)(1000 + i);
		assert_int_equal(run_spec(&s, NULL), XDP_PASS);
	}
	assert_int_equal(bwe_dp_host_read(dp, &h, &hs), 0);
	for (i = 0; i < BWE_HLL_REGS; i++)
		lit += hs.hll_dst[i] > 0;
	assert_true(lit >= BWE_HLL_REGS * 3 / 4);
	for (i = 0; i < 50; i++) {
		struct pb_spec s = { UDP("198.18.0.31", "203.0.113.10", 53) };

		assert_int_equal(run_spec(&s, NULL), XDP_PASS);
	}
	assert_int_equal(bwe_dp_host_read(dp, &h1, &hs), 0);
	lit = 0;
	for (i = 0; i < BWE_HLL_REGS; i++)
		lit += hs.hll_dst[i] > 0;
	assert_int_equal(lit, 1);
	drain_events();
}

/*
 * The relay sketches through the program: per direction the heavy-hitter
 * summary and the peer sketches equal bwe_rules.h's computation over the
 * same frames, and only passed frames count (a drop leaves every sketch as
 * it was).
 */
/* The same peers, counts and errors, in any slot order (the read merges CPUs). */
static void assert_hh_same(const struct bwe_hh *got, const struct bwe_hh *want)
{
	int i, k;

	assert_int_equal(got->total, want->total);
	for (i = 0; i < BWE_HH_SLOTS; i++) {
		for (k = 0; k < BWE_HH_SLOTS; k++)
			if (got->peer[k] == want->peer[i] && got->bytes[k] == want->bytes[i] &&
			    got->err[k] == want->err[i])
				break;
		if (k == BWE_HH_SLOTS)
			fail_msg("slot %d (peer %08x, %llu bytes) not read back", i, want->peer[i],
				 (unsigned long long)want->bytes[i]);
	}
}

/* Run on one CPU from here on (bpf_prog_test_run_opts runs on the caller's). */
static void pin_cpu(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(sched_getcpu(), &set);
	assert_int_equal(sched_setaffinity(0, sizeof(set), &set), 0);
}

/*
 * Both families: host ha (fresh, internal) with six peers (pfx and 10..15),
 * then one blocklisted peer, listed, both ways: the sketches are
 * bwe_rules.h's over the peers' bwe_hash_addr().
 */
static void relay_sketches(const char *ha, const char *pfx, const char *listed)
{
	struct bwe_addr h = addr(ha);
	struct bwe_hh want_tx = { 0 }, want_rx = { 0 };
	__u8 want_src[BWE_HLL_REGS] = { 0 }, want_dst[BWE_HLL_REGS] = { 0 };
	__u8 want_port[BWE_HLL_REGS] = { 0 };
	struct bwe_host_stats hs;
	char peer[INET6_ADDRSTRLEN];
	__u32 len;
	int i;

	pin_cpu(); /* one CPU's record: the merged read is that record itself */
	for (i = 0; i < 12; i++) {
		struct pb_spec out = { .src = ha,
				       .dst = peer,
				       .proto = IPPROTO_TCP,
				       .sport = 40000,
				       .dport = 443,
				       .payload = (__u16)(100 * i) };
		struct pb_spec in = { .src = peer,
				      .dst = ha,
				      .proto = IPPROTO_TCP,
				      .sport = 443,
				      .dport = 40000,
				      .payload = 1000 };
		struct bwe_addr pa;

		snprintf(peer, sizeof(peer), "%s%d", pfx, 10 + (i % 6));
		pa = addr(peer);
		assert_int_equal(run_spec(&out, &len), XDP_PASS);
		bwe_hh_add(&want_tx, bwe_hash_addr(&pa), len);
		bwe_hll_add(want_dst, bwe_hash_addr(&pa));
		bwe_hll_add(want_port, bwe_hash_port(443));
		assert_int_equal(run_spec(&in, &len), XDP_PASS);
		bwe_hh_add(&want_rx, bwe_hash_addr(&pa), len);
		bwe_hll_add(want_src, bwe_hash_addr(&pa));
	}
	{ /* a dropped frame counts in none: a new peer, a new port, both ways */
		struct pb_spec blk = { TCP(ha, listed, 8443) };
		struct pb_spec blk_in = { TCP(listed, ha, 8443) };

		assert_int_equal(run_spec(&blk, NULL), XDP_DROP);
		assert_int_equal(run_spec(&blk_in, NULL), XDP_DROP);
	}
	assert_int_equal(bwe_dp_host_read(dp, &h, &hs), 0);
	assert_int_equal(hs.drop[BWE_HD_BLOCK].packets, 2);
	assert_hh_same(&hs.hh_tx, &want_tx);
	assert_hh_same(&hs.hh_rx, &want_rx);
	assert_memory_equal(hs.hll_src, want_src, sizeof(want_src));
	assert_memory_equal(hs.hll_dst, want_dst, sizeof(want_dst));
	assert_memory_equal(hs.hll_port, want_port, sizeof(want_port));
	assert_int_equal(hs.hh_tx.total, hs.tx_bytes);
	assert_int_equal(hs.hh_rx.total, hs.rx_bytes);
	drain_events();
}

static void test_relay_sketches(void **state)
{
	(void)state;
	relay_sketches("198.18.0.140", "198.51.100.", "203.0.113.66");
	relay_sketches("2001:db8:1::140", "2001:db8:3::", "2001:db8:3::66");
}

static void set_config_flag(__u32 flag, int on)
{
	struct bwe_config cfg;

	assert_int_equal(bwe_dp_config_get(dp, &cfg), 0);
	cfg.flags = on ? cfg.flags | flag : cfg.flags & ~flag;
	assert_int_equal(bwe_dp_config_set(dp, &cfg), 0);
}

/*
 * policy.peer_sketches off (BWE_CFG_NO_SKETCH): the host's counters go on,
 * its sketches stay as they were, a new epoch restarts nothing; back on,
 * they move again.
 */
static void test_sketches_off(void **state)
{
	struct bwe_addr h = addr("198.18.0.150");
	struct bwe_host_stats before, hs;
	char peer[INET_ADDRSTRLEN];
	struct bwe_config cfg;
	__u32 len;
	int i;

	(void)state;
	pin_cpu();
	for (i = 0; i < 4; i++) {
		struct pb_spec out = { TCP("198.18.0.150", peer, 443) };
		struct pb_spec in = { TCP(peer, "198.18.0.150", 443) };

		snprintf(peer, sizeof(peer), "198.51.100.%d", 60 + i);
		assert_int_equal(run_spec(&out, NULL), XDP_PASS);
		assert_int_equal(run_spec(&in, NULL), XDP_PASS);
	}
	assert_int_equal(bwe_dp_host_read(dp, &h, &before), 0);
	assert_true(before.hh_tx.total > 0 && before.hh_rx.total > 0);

	set_config_flag(BWE_CFG_NO_SKETCH, 1);
	assert_int_equal(bwe_dp_config_get(dp, &cfg), 0);
	cfg.hll_epoch++; /* a new window would restart them: not while off */
	assert_int_equal(bwe_dp_config_set(dp, &cfg), 0);
	for (i = 0; i < 40; i++) {
		struct pb_spec out = { .src = "198.18.0.150",
				       .dst = peer,
				       .proto = IPPROTO_UDP,
				       .sport = 5000,
				       .dport = (__u16)(2000 + i) };
		struct pb_spec in = { UDP(peer, "198.18.0.150", 53) };

		snprintf(peer, sizeof(peer), "198.51.100.%d", 100 + i);
		assert_int_equal(run_spec(&out, &len), XDP_PASS);
		assert_int_equal(run_spec(&in, NULL), XDP_PASS);
	}
	assert_int_equal(bwe_dp_host_read(dp, &h, &hs), 0);
	assert_int_equal(hs.tx_packets, before.tx_packets + 40);
	assert_int_equal(hs.rx_packets, before.rx_packets + 40);
	assert_int_equal(hs.hll_epoch, before.hll_epoch);
	assert_memory_equal(hs.hll_dst, before.hll_dst, sizeof(hs.hll_dst));
	assert_memory_equal(hs.hll_port, before.hll_port, sizeof(hs.hll_port));
	assert_memory_equal(hs.hll_src, before.hll_src, sizeof(hs.hll_src));
	assert_memory_equal(&hs.hh_tx, &before.hh_tx, sizeof(hs.hh_tx));
	assert_memory_equal(&hs.hh_rx, &before.hh_rx, sizeof(hs.hh_rx));

	set_config_flag(BWE_CFG_NO_SKETCH, 0);
	{
		struct pb_spec out = { TCP("198.18.0.150", "198.51.100.200", 443) };

		assert_int_equal(run_spec(&out, &len), XDP_PASS);
	}
	assert_int_equal(bwe_dp_host_read(dp, &h, &hs), 0);
	assert_int_equal(hs.hll_epoch, cfg.hll_epoch); /* the new window began */
	assert_int_equal(hs.hh_tx.total, len);
	assert_int_equal(hs.hh_rx.total, 0);
	drain_events();
}

static void set_contact_sample(__u32 sample)
{
	struct bwe_config cfg;

	assert_int_equal(bwe_dp_config_get(dp, &cfg), 0);
	cfg.contact_sample = sample;
	assert_int_equal(bwe_dp_config_set(dp, &cfg), 0);
}

/*
 * Contact events (beacon signal): a SYN, and the first packet of each UDP
 * flow, of a sampled pair; never an established segment, a repeated flow,
 * an exempt or allowlisted peer, a dropped packet, or anything with the
 * sample off.
 */
static void test_contact_events(void **state)
{
	static const struct {
		const char *name;
		struct pb_spec spec;
		int events;
	} rows[] = {
		{ "SYN", { TCP("198.18.0.141", "203.0.113.10", 443), .tcp_syn = 1 }, 1 },
		{ "SYN again: a new connection",
		  { TCP("198.18.0.141", "203.0.113.10", 443), .tcp_syn = 1 },
		  1 },
		{ "established segment", { TCP("198.18.0.141", "203.0.113.10", 443) }, 0 },
		{ "inbound SYN", { TCP("203.0.113.10", "198.18.0.141", 22), .tcp_syn = 1 }, 0 },
		{ "UDP, a new flow", { UDP("198.18.0.141", "203.0.113.10", 4500) }, 1 },
		{ "UDP, the same flow", { UDP("198.18.0.141", "203.0.113.10", 4500) }, 0 },
		{ "UDP, another source port",
		  { .src = "198.18.0.141",
		    .dst = "203.0.113.10",
		    .proto = IPPROTO_UDP,
		    .sport = 40001,
		    .dport = 4500,
		    .payload = 32 },
		  1 },
		{ "SYN to an exempt peer",
		  { TCP("198.18.0.141", "203.0.113.5", 443), .tcp_syn = 1 },
		  0 },
		{ "SYN to an allowed peer",
		  { TCP("198.18.0.141", "198.51.100.200", 443), .tcp_syn = 1 },
		  0 },
		{ "SYN to a blocked peer",
		  { TCP("198.18.0.141", "203.0.113.66", 443), .tcp_syn = 1 },
		  0 },
		{ "SYN, IPv6", { TCP("2001:db8:1::141", "2001:db8:3::10", 443), .tcp_syn = 1 }, 1 },
	};
	size_t i;

	(void)state;
	set_contact_sample(1);
	drain_events();
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		int contacts;

		run_spec(&rows[i].spec, NULL);
		ncontacts = 0;
		drain_events();
		contacts = ncontacts;
		if (contacts != rows[i].events)
			fail_msg("%s: %d contact events, want %d", rows[i].name, contacts,
				 rows[i].events);
		if (contacts) {
			assert_int_equal(last_ev.dir, BWE_DIR_OUT);
			assert_int_equal(ntohs(last_ev.dport), rows[i].spec.dport);
			assert_int_equal(last_ev.proto, rows[i].spec.proto);
		}
	}
	/* sampled by pair: with 1 in 4, some pairs of a host give events, all
	 * of their SYNs, the others none, as bwe_contact_sampled() says */
	{
		struct bwe_config cfg;
		struct bwe_addr h = addr("198.18.0.142");
		int k, got = 0;

		set_contact_sample(4);
		assert_int_equal(bwe_dp_config_get(dp, &cfg), 0);
		for (k = 0; k < 64; k++) {
			char peer[INET_ADDRSTRLEN];
			struct pb_spec s = { TCP("198.18.0.142", peer, 443), .tcp_syn = 1 };
			struct bwe_addr pa;
			int want, r;

			snprintf(peer, sizeof(peer), "192.0.2.%d", k + 1);
			pa = addr(peer);
			want = bwe_contact_sampled(&h, bwe_hash_addr(&pa), cfg.contact_salt, 4);
			for (r = 0; r < 2; r++) {
				run_spec(&s, NULL);
				assert_int_equal(drain_events(), want);
			}
			got += want;
		}
		assert_true(got > 4 && got < 32);
	}
	/* a burst of SYNs fills at most half the ring: a blocklist hit still fits */
	{
		struct pb_spec syn = { TCP("198.18.0.141", "203.0.113.10", 443), .tcp_syn = 1 };
		struct pb_spec hit = { TCP("198.18.0.143", "203.0.113.66", 443) };
		const int burst = BWE_EVENTS_BYTES / sizeof(struct bwe_event);
		int k, blocked = 0;

		set_contact_sample(1);
		drain_events();
		for (k = 0; k < burst; k++)
			run_spec(&syn, NULL);
		assert_int_equal(run_spec(&hit, NULL), XDP_DROP);
		ncontacts = 0;
		nevents = 0;
		ring_buffer__consume(rb);
		blocked = nevents - ncontacts;
		assert_true(ncontacts > burst / 4 && ncontacts <= burst / 2);
		assert_int_equal(blocked, 1);
		assert_int_equal(last_ev.type, BWE_EV_BLOCK_HIT);
	}
	set_contact_sample(0);
	{
		struct pb_spec s = { TCP("198.18.0.141", "203.0.113.10", 443), .tcp_syn = 1 };

		run_spec(&s, NULL);
		assert_int_equal(drain_events(), 0);
	}
}

/* Address n after base (added to the last word, network order kept). */
static struct bwe_addr addr_plus(const char *base, __u32 word, __u32 n)
{
	struct bwe_addr a = addr(base);

	a.w[word] = htonl(ntohl(a.w[word]) + n);
	return a;
}

/*
 * The sketch registers the program keeps equal the user-space computation
 * of bwe_rules.h over the same peers and ports, both families.
 */
static void test_fanout_matches_rules(void **state)
{
	static const struct {
		const char *host, *peer0;
	} fams[] = {
		{ "198.18.0.90", "192.0.2.0" },
		{ "2001:db8:1::90", "2001:db8:4::" },
	};
	size_t f;
	__u32 i;

	(void)state;
	for (f = 0; f < ARRAY_SIZE(fams); f++) {
		__u8 want_dst[BWE_HLL_REGS] = { 0 }, want_port[BWE_HLL_REGS] = { 0 };
		struct bwe_addr h = addr(fams[f].host);
		struct bwe_host_stats hs;
		char peer[BWE_ADDR_STRLEN];

		for (i = 0; i < SKETCH_PEERS; i++) {
			struct pb_spec s = { UDP(fams[f].host, peer, SKETCH_PORT0 + i) };
			struct bwe_addr pa = addr_plus(fams[f].peer0, 3, 1 + i);

			assert_int_equal(bwe_addr_fmt(&pa, peer, sizeof(peer)), 0);
			assert_int_equal(run_spec(&s, NULL), XDP_PASS);
			assert_int_equal(run_spec(&s, NULL), XDP_PASS); /* repeats change nothing */
			bwe_hll_add(want_dst, bwe_hash_addr(&pa));
			bwe_hll_add(want_port, bwe_hash_port((__u16)(SKETCH_PORT0 + i)));
		}
		assert_int_equal(bwe_dp_host_read(dp, &h, &hs), 0);
		assert_memory_equal(hs.hll_dst, want_dst, sizeof(want_dst));
		assert_memory_equal(hs.hll_port, want_port, sizeof(want_port));
	}
	drain_events();
}

/*
 * Drop beats monitor, through the program: for every pair of (exact host
 * entry, covering prefix entry) the verdict, the event's ref and the
 * user-space reading of the maps all follow bwe_ref_merge() (bwe_rules.h).
 * Pair k uses prefix k (a /24 or a /64 after net0) and its host .9 / ::9.
 */
static void test_ref_merge_program(void **state)
{
	static const __u8 hrefs[] = { BWE_REF_NONE, FEED_A, FEED_MON | BWE_REF_MONITOR };
	static const __u8 prefs[] = { BWE_REF_NONE, FEED_B, FEED_MON2 | BWE_REF_MONITOR };
	static const struct {
		const char *host, *net0;
		__u32 plen, word, step; /* prefix length (of 128), word and unit counting k */
	} fams[] = {
		{ "198.18.0.91", "100.64.0.0", 96 + 24, 3, 1u << 8 },
		{ "2001:db8:1::91", "2001:db8:e::", 64, 1, 1 },
	};
	struct bwe_counter before[BWE_STATS_MAX], after[BWE_STATS_MAX];
	size_t f, hi, pi;

	(void)state;
	for (f = 0; f < ARRAY_SIZE(fams); f++) {
		for (hi = 0; hi < sizeof(hrefs); hi++) {
			for (pi = 0; pi < sizeof(prefs); pi++) {
				__u32 k = (__u32)(hi * sizeof(prefs) + pi + 1), len;
				struct bwe_prefix np = {
					.addr = addr_plus(fams[f].net0, fams[f].word,
							  k * fams[f].step),
					.plen = fams[f].plen,
				};
				struct bwe_prefix hp = { .addr = np.addr, .plen = BWE_ADDR_BITS };
				char peer[BWE_ADDR_STRLEN], name[96];
				struct pb_spec s = { TCP(fams[f].host, peer, 443) };
				__u8 want = bwe_ref_merge(hrefs[hi], prefs[pi]);
				__u32 reason = (want & BWE_REF_MONITOR) ? BWE_R_MONITOR
					       : want			? BWE_R_BLOCK
									: BWE_R_PASS;

				hp.addr.w[3] = htonl(ntohl(hp.addr.w[3]) + 9);
				assert_int_equal(bwe_addr_fmt(&hp.addr, peer, sizeof(peer)), 0);
				snprintf(name, sizeof(name), "%s host 0x%02x prefix 0x%02x", peer,
					 hrefs[hi], prefs[pi]);
				assert_int_equal(bwe_bl_set(&bl, &np, prefs[pi]), 0);
				assert_int_equal(bwe_bl_set(&bl, &hp, hrefs[hi]), 0);
				assert_int_equal(bwe_bl_flush(&bl), 0);

				drain_events();
				read_stats(before);
				if (run_spec(&s, &len) !=
				    (bwe_reason_drops(reason) ? XDP_DROP : XDP_PASS))
					fail_msg("%s: wrong action", name);
				read_stats(after);
				expect_delta(before, after, reason, 0, len, name);
				if (drain_events() != (want ? 1 : 0) ||
				    (want && last_ev.ref != want))
					fail_msg("%s: event ref 0x%02x, want 0x%02x", name,
						 last_ev.ref, want);
				if (bwe_bl_kernel_ref(&bl, &hp.addr) != want)
					fail_msg("%s: user-space reading 0x%02x, want 0x%02x", name,
						 bwe_bl_kernel_ref(&bl, &hp.addr), want);

				assert_int_equal(bwe_bl_set(&bl, &np, BWE_REF_NONE), 0);
				assert_int_equal(bwe_bl_set(&bl, &hp, BWE_REF_NONE), 0);
				assert_int_equal(bwe_bl_flush(&bl), 0);
			}
		}
	}
}

static void test_events_dedup(void **state)
{
	struct pb_spec hit = { TCP("198.18.0.40", "203.0.113.66", 443) };
	struct pb_spec hit2 = { TCP("198.18.0.40", "198.19.1.1", 443) };
	struct pb_spec mon = { TCP("198.18.0.40", "203.0.113.129", 443) };
	struct pb_spec q = { TCP("198.18.0.67", "203.0.113.10", 443) };
	struct pb_spec q2 = { TCP("198.18.0.67", "203.0.113.11", 80) };
	struct bwe_addr host = addr("198.18.0.40"), peer = addr("203.0.113.66");
	struct bwe_config cfg;
	int i;

	(void)state;
	drain_events();
	for (i = 0; i < 100; i++)
		assert_int_equal(run_spec(&hit, NULL), XDP_DROP);
	assert_int_equal(drain_events(), 1);
	assert_int_equal(last_ev.type, BWE_EV_BLOCK_HIT);
	assert_int_equal(last_ev.reason, BWE_R_BLOCK);
	assert_int_equal(last_ev.dir, BWE_DIR_OUT);
	assert_int_equal(last_ev.ref, bwe_ref(FEED_A, 0));
	assert_int_equal(ntohs(last_ev.dport), 443);
	assert_memory_equal(&last_ev.host, &host, sizeof(host));
	assert_memory_equal(&last_ev.peer, &peer, sizeof(peer));

	/* another peer is another event; a monitor hit is an event too */
	for (i = 0; i < 10; i++)
		assert_int_equal(run_spec(&hit2, NULL), XDP_DROP);
	assert_int_equal(drain_events(), 1);
	assert_int_equal(run_spec(&mon, NULL), XDP_PASS);
	assert_int_equal(drain_events(), 1);
	assert_int_equal(last_ev.reason, BWE_R_MONITOR);

	/* quarantine drops: one event per host, whatever the peer */
	for (i = 0; i < 10; i++) {
		assert_int_equal(run_spec(&q, NULL), XDP_DROP);
		assert_int_equal(run_spec(&q2, NULL), XDP_DROP);
	}
	assert_int_equal(drain_events(), 1);
	assert_int_equal(last_ev.type, BWE_EV_QUARANTINE_DROP);

	/* a zero window emits every time: the dedup window is what held them */
	assert_int_equal(bwe_dp_config_get(dp, &cfg), 0);
	cfg.event_dedup_ns = 0;
	assert_int_equal(bwe_dp_config_set(dp, &cfg), 0);
	for (i = 0; i < 5; i++)
		assert_int_equal(run_spec(&hit, NULL), XDP_DROP);
	assert_int_equal(drain_events(), 5);

	/* A full ring buffer: the rest are counted lost, nothing blocks. */
	{
		struct bwe_counter before[BWE_STATS_MAX], after[BWE_STATS_MAX];
		struct timespec pause = { 0, 30 * 1000 * 1000 }; /* a tick is 10 ms or less */
		__u8 frame[BWE_PKT_MAX], out[BWE_PKT_MAX];
		int len = pb_build(&hit, frame, sizeof(frame));
		__u32 cap = BWE_EVENTS_BYTES / (sizeof(struct bwe_event) + 8), n = cap + 500;
		LIBBPF_OPTS(bpf_test_run_opts, topts, .data_in = frame, .data_size_in = (__u32)len,
			    .data_out = out, .data_size_out = sizeof(out), .repeat = n);

		read_stats(before);
		assert_int_equal(bpf_prog_test_run_opts(bwe_dp_prog_fd(dp), &topts), 0);
		read_stats(after);
		assert_int_equal(after[BWE_R_BLOCK].packets - before[BWE_R_BLOCK].packets, n);
		assert_true(after[BWE_A_EVENT_LOST].packets - before[BWE_A_EVENT_LOST].packets >=
			    n - cap);
		assert_true(drain_events() <= (int)cap);

		/* A CPU that found it full takes it as full for the rest of
		 * the tick (ring_room()): drained, the next tick's event goes out. */
		nanosleep(&pause, NULL);
		assert_int_equal(run_spec(&hit, NULL), XDP_DROP);
		assert_int_equal(drain_events(), 1);
	}
	cfg.event_dedup_ns = DEDUP_NS;
	assert_int_equal(bwe_dp_config_set(dp, &cfg), 0);
}

/* Longer than a tick of the programs' clock (4 ms at HZ=250) and than two
 * frames run back to back take even under software emulation
 * (tests/e2e_kernels.sh), so that the pair is always inside one window. */
#define SHORT_DEDUP_NS (50ULL * 1000000ULL) /* 50 ms */

/*
 * A repeated event costs no dedup-map access: the host's record keeps the
 * time of its last few reported events (bwe_ev_seen). Seen from outside:
 * once the map's entry is gone, a repeat within the window is still held
 * (so the map was not asked, nor written); more peers than the record's
 * slots are still held once each (by the map); an expired copy lets the
 * event through; and an inbound packet from the peer is known to answer
 * the host's contact from that copy alone.
 */
static void test_events_host_filter(void **state)
{
	struct pb_spec hit = { TCP("198.18.0.41", "203.0.113.66", 443) };
	struct pb_spec back = { TCP("203.0.113.66", "198.18.0.41", 40000) };
	static const char *const peers[] = { "203.0.113.66", "198.19.1.1", "198.19.2.2" };
	struct bwe_dedup_key key = { .type = BWE_EV_BLOCK_HIT,
				     .dir = BWE_DIR_OUT,
				     .host = addr("198.18.0.41"),
				     .peer = addr("203.0.113.66") };
	int fd = bwe_dp_map_fd(dp, BWE_MAP_EVDEDUP), i, j;
	struct timespec pause = { .tv_nsec = 3 * SHORT_DEDUP_NS };
	struct bwe_host_stats hs;
	struct bwe_config cfg;
	__u64 ts;

	(void)state;
	_Static_assert(ARRAY_SIZE(peers) > BWE_EV_SEEN_SLOTS, "more peers than slots");
	drain_events();
	assert_int_equal(run_spec(&hit, NULL), XDP_DROP);
	assert_int_equal(drain_events(), 1);
	assert_int_equal(bpf_map_delete_elem(fd, &key), 0);
	for (i = 0; i < 10; i++)
		assert_int_equal(run_spec(&hit, NULL), XDP_DROP);
	assert_int_equal(drain_events(), 0);
	assert_int_not_equal(bpf_map_lookup_elem(fd, &key, &ts), 0);

	/* the peer answers: known from the host's copy, the map has no entry */
	assert_int_equal(run_spec(&back, NULL), XDP_DROP);
	assert_int_equal(bwe_dp_host_read(dp, &key.host, &hs), 0);
	assert_int_equal(hs.bl_hits, 12);
	assert_int_equal(hs.bl_in_hits, 0);
	drain_events(); /* the inbound hit's own event */

	/* more peers than slots: each reported once in the window */
	for (i = 0; i < 5; i++) {
		for (j = 0; j < (int)ARRAY_SIZE(peers); j++) {
			struct pb_spec sp = { TCP("198.18.0.42", peers[j], 443) };

			assert_int_equal(run_spec(&sp, NULL), XDP_DROP);
		}
	}
	assert_int_equal(drain_events(), ARRAY_SIZE(peers));

	/* an expired copy does not hold the event */
	assert_int_equal(bwe_dp_config_get(dp, &cfg), 0);
	cfg.event_dedup_ns = SHORT_DEDUP_NS;
	assert_int_equal(bwe_dp_config_set(dp, &cfg), 0);
	for (i = 0; i < 3; i++) {
		nanosleep(&pause, NULL);
		assert_int_equal(run_spec(&hit, NULL), XDP_DROP);
		assert_int_equal(run_spec(&hit, NULL), XDP_DROP);
		assert_int_equal(drain_events(), 1);
	}
	cfg.event_dedup_ns = DEDUP_NS;
	assert_int_equal(bwe_dp_config_set(dp, &cfg), 0);
}

/* Blocklist mirror: overlapping prefixes, removal restores what is left. */
static void test_blocklist_overlap(void **state)
{
	struct bwe_addr a = addr("198.19.7.9"), b = addr("203.0.113.140"),
			c = addr("203.0.113.141");

	(void)state;
	block("198.19.7.0/24", FEED_L3, 0);
	assert_int_equal(bwe_bl_kernel_ref(&bl, &a), bwe_ref(FEED_L3, 0));
	block("198.19.7.9", FEED_MON, 1); /* monitor host under a drop /24: drop wins */
	assert_int_equal(bwe_bl_flush(&bl), 0);
	assert_int_equal(bwe_bl_kernel_ref(&bl, &a), bwe_ref(FEED_L3, 0));
	assert_int_equal(bwe_bl_set(&bl,
				    &(struct bwe_prefix){ .addr = pfx("198.19.7.0/24").addr,
							  .plen = 96 + 24 },
				    0),
			 0);
	assert_int_equal(bwe_bl_kernel_ref(&bl, &a), bwe_ref(FEED_B, 0)); /* the /16 again */
	assert_int_equal(bwe_bl_set(&bl,
				    &(struct bwe_prefix){ .addr = pfx("198.19.0.0/16").addr,
							  .plen = 96 + 16 },
				    0),
			 0);
	assert_int_equal(bwe_bl_kernel_ref(&bl, &a), bwe_ref(FEED_MON, 1)); /* only the host left */

	/* explicit host inside a /25 expansion survives the /25's removal */
	block("203.0.113.140", FEED_A, 0);
	assert_int_equal(bwe_bl_flush(&bl), 0);
	assert_int_equal(bwe_bl_set(&bl,
				    &(struct bwe_prefix){ .addr = pfx("203.0.113.128/25").addr,
							  .plen = 96 + 25 },
				    0),
			 0);
	assert_int_equal(bwe_bl_flush(&bl), 0);
	assert_int_equal(bwe_bl_kernel_ref(&bl, &b), bwe_ref(FEED_A, 0));
	assert_int_equal(bwe_bl_kernel_ref(&bl, &c), 0);
	assert_int_equal(bwe_bl_set(&bl, &(struct bwe_prefix){ .addr = b, .plen = 128 }, 0), 0);
	assert_int_equal(bwe_bl_flush(&bl), 0);
	assert_int_equal(bwe_bl_kernel_ref(&bl, &b), 0);

	/* broader than the table allows */
	assert_int_equal(bwe_bl_set(&bl,
				    &(struct bwe_prefix){ .addr = pfx("10.0.0.0/8").addr,
							  .plen = 96 + 7 },
				    bwe_ref(FEED_A, 0)),
			 -ERANGE);
	/* restore the fixture */
	block("198.19.0.0/16", FEED_B, 0);
	block("203.0.113.128/25", FEED_MON, 1);
	assert_int_equal(bwe_bl_set(&bl, &(struct bwe_prefix){ .addr = a, .plen = 128 }, 0), 0);
	assert_int_equal(bwe_bl_flush(&bl), 0);
}

/* A real list: every entry hits, addresses outside every entry miss. */
static void test_firehol_level3(void **state)
{
	struct bwe_prefix *ents = NULL;
	size_t n = 0, cap = 0, i, j, hits = 0, misses = 0;
	char line[256];
	FILE *f;
	unsigned int seed = 12345;

	(void)state;
	f = fopen(FIREHOL_L3, "r");
	if (!f)
		fail_msg("%s: %s", FIREHOL_L3, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		struct bwe_prefix p;

		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '#' || !line[0])
			continue;
		assert_int_equal(bwe_prefix_parse(line, &p, 0), 0);
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			ents = reallocarray(ents, cap, sizeof(*ents));
			assert_non_null(ents);
		}
		ents[n++] = p;
		assert_int_equal(bwe_bl_set(&bl, &p, bwe_ref(FEED_L3, 0)), 0);
	}
	fclose(f);
	assert_int_equal(bwe_bl_flush(&bl), 0);
	assert_true(n > 20000);

	for (i = 0; i < n; i++) {
		/* the last address of each entry, from inside the LAN */
		struct bwe_addr a = ents[i].addr;
		char dst[BWE_ADDR_STRLEN];
		int flen = bwe_prefix_family_len(&ents[i]);
		struct pb_spec s = { TCP("198.18.0.50", dst, 443) };

		a.w[3] = htonl(ntohl(a.w[3]) | (flen == 32 ? 0 : ((1u << (32 - flen)) - 1)));
		assert_int_equal(bwe_addr_fmt(&a, dst, sizeof(dst)), 0);
		if (run_spec(&s, NULL) != XDP_DROP)
			fail_msg("firehol_level3 entry %zu (%s) not dropped", i, dst);
		hits++;
	}
	while (misses < MISS_SAMPLES) {
		struct bwe_addr a;
		char dst[BWE_ADDR_STRLEN];
		struct pb_spec s = { TCP("198.18.0.50", dst, 443) };
		bool listed = false;

		bwe_addr_from_v4(htonl(((__u32)rand_r(&seed) << 16) ^ (__u32)rand_r(&seed)), &a);
		for (j = 0; j < n && !listed; j++)
			listed = bwe_prefix_contains(&ents[j], &a);
		/* skip what the fixture itself lists or classifies */
		if (listed || (ntohl(a.w[3]) >> 24) == 198 || (ntohl(a.w[3]) >> 24) == 203)
			continue;
		assert_int_equal(bwe_addr_fmt(&a, dst, sizeof(dst)), 0);
		if (run_spec(&s, NULL) != XDP_PASS)
			fail_msg("%s is in no entry of firehol_level3 but was dropped", dst);
		misses++;
	}
	print_message("firehol_level3: %zu entries hit, %zu unlisted addresses passed\n", hits,
		      misses);
	/* unload it again and prove the mirror leaves no residue */
	for (i = 0; i < n; i++)
		assert_int_equal(bwe_bl_set(&bl, &ents[i], 0), 0);
	assert_int_equal(bwe_bl_flush(&bl), 0);
	for (i = 0; i < n; i++) {
		__u8 r = bwe_bl_kernel_ref(&bl, &ents[i].addr);

		assert_true(r != bwe_ref(FEED_L3, 0));
	}
	free(ents);
	drain_events();
}

/* ---- host identity: frames of a listed MAC -------------------------------- */

static const __u8 q_mac[6] = { 0x02, 0xb3, 0x00, 0x00, 0x00, 0x99 };
static const __u8 other_mac[6] = { 0x02, 0xb3, 0x00, 0x00, 0x00, 0x98 };

static void set_cfg_flags(__u32 set, __u32 clear)
{
	struct bwe_config c;

	assert_int_equal(bwe_dp_config_get(dp, &c), 0);
	c.flags = (c.flags | set) & ~clear;
	assert_int_equal(bwe_dp_config_set(dp, &c), 0);
}

static void mac_put(const __u8 *mac, __u32 flags)
{
	struct bwe_mac_key k = { 0 };
	struct bwe_mac_val v = { .flags = flags };

	memcpy(k.mac, mac, BWE_MAC_LEN);
	assert_int_equal(bpf_map_update_elem(bwe_dp_map_fd(dp, BWE_MAP_MACS), &k, &v, BPF_ANY), 0);
}

static void mac_del(const __u8 *mac)
{
	struct bwe_mac_key k = { 0 };

	memcpy(k.mac, mac, BWE_MAC_LEN);
	assert_int_equal(bpf_map_delete_elem(bwe_dp_map_fd(dp, BWE_MAP_MACS), &k), 0);
}

/* Run a frame from smac; return the action, count the events of type. */
static int run_from_mac(struct pb_spec s, const __u8 *smac, __u32 type, int *nev)
{
	int act, n = 0;

	memcpy(s.smac, smac, BWE_MAC_LEN);
	drain_events();
	act = run_spec(&s, NULL);
	nevents = 0;
	last_ev.type = 0;
	ring_buffer__consume(rb);
	if (nevents && last_ev.type == type)
		n = 1;
	*nev = n;
	return act;
}

static void test_mac_identity(void **state)
{
	struct pb_spec new_v4 = { UDP("198.18.0.99", "203.0.113.10", 53) };
	struct pb_spec new_v6 = { UDP("2001:db8:1::99", "2001:db8:3::10", 53) };
	struct pb_spec foreign = { UDP("192.0.2.77", "203.0.113.10", 53) }; /* not internal */
	struct pb_spec to_mgmt = { UDP("198.18.0.99", "203.0.113.5", 53) };
	struct pb_spec to_lan = { UDP("198.18.0.99", "198.18.0.11", 53) };
	struct bwe_counter before[BWE_STATS_MAX], after[BWE_STATS_MAX];
	int nev;

	(void)state;
	mac_put(q_mac, BWE_NC_QUARANTINE);

	/* Without the flag the program never looks: the map alone does nothing. */
	set_cfg_flags(0, BWE_CFG_MACS);
	assert_int_equal(run_from_mac(new_v4, q_mac, BWE_EV_MAC_ADDR, &nev), XDP_PASS);
	assert_int_equal(nev, 0);

	set_cfg_flags(BWE_CFG_MACS, 0);
	/* A new address of both families: cut, and reported with the MAC. */
	read_stats(before);
	assert_int_equal(run_from_mac(new_v4, q_mac, BWE_EV_MAC_ADDR, &nev), XDP_DROP);
	read_stats(after);
	assert_int_equal(after[BWE_R_QUARANTINE].packets - before[BWE_R_QUARANTINE].packets, 1);
	assert_int_equal(nev, 1);
	assert_memory_equal(last_ev.mac, q_mac, BWE_MAC_LEN);
	{
		struct bwe_addr want = addr("198.18.0.99");

		assert_memory_equal(&last_ev.host, &want, sizeof(want));
	}
	assert_int_equal(run_from_mac(new_v6, q_mac, BWE_EV_MAC_ADDR, &nev), XDP_DROP);
	assert_int_equal(nev, 1);
	/* Reported once per dedup window, dropped every time. */
	assert_int_equal(run_from_mac(new_v6, q_mac, BWE_EV_MAC_ADDR, &nev), XDP_DROP);
	assert_int_equal(nev, 0);
	/* An address outside the internal networks does not step out either. */
	assert_int_equal(run_from_mac(foreign, q_mac, BWE_EV_MAC_ADDR, &nev), XDP_DROP);
	assert_int_equal(nev, 1);
	/* Exempt peers stay reachable; LAN to LAN stays transit. */
	assert_int_equal(run_from_mac(to_mgmt, q_mac, BWE_EV_MAC_ADDR, &nev), XDP_PASS);
	read_stats(before);
	assert_int_equal(run_from_mac(to_lan, q_mac, BWE_EV_MAC_ADDR, &nev), XDP_PASS);
	read_stats(after);
	assert_int_equal(after[BWE_R_TRANSIT].packets - before[BWE_R_TRANSIT].packets, 1);
	/* What stays on the link is never cut: neighbour discovery to the
	 * gateway's link-local address, a router solicitation, DHCP. */
	{
		struct pb_spec na = { .src = "fe80::99",
				      .dst = "fe80::1",
				      .proto = IPPROTO_ICMPV6 };
		struct pb_spec rs = { .src = "fe80::99",
				      .dst = "ff02::2",
				      .proto = IPPROTO_ICMPV6 };
		struct pb_spec dhcp = { UDP("0.0.0.0", "255.255.255.255", 67) };
		struct pb_spec mdns = { UDP("198.18.0.99", "224.0.0.251", 5353) };
		/* a solicited advertisement: from the (contained) global address */
		struct pb_spec na_global = { .src = "2001:db8:1::99",
					     .dst = "fe80::1",
					     .proto = IPPROTO_ICMPV6 };
		struct pb_spec na_quar = { .src = "2001:db8:1::66",
					   .dst = "fe80::1",
					   .proto = IPPROTO_ICMPV6 };
		struct pb_spec site_local = { UDP("198.18.0.99", "224.0.1.1", 123) };

		assert_int_equal(run_from_mac(na, q_mac, BWE_EV_MAC_ADDR, &nev), XDP_PASS);
		assert_int_equal(run_from_mac(rs, q_mac, BWE_EV_MAC_ADDR, &nev), XDP_PASS);
		assert_int_equal(run_from_mac(dhcp, q_mac, BWE_EV_MAC_ADDR, &nev), XDP_PASS);
		assert_int_equal(run_from_mac(mdns, q_mac, BWE_EV_MAC_ADDR, &nev), XDP_PASS);
		assert_int_equal(run_from_mac(na_global, q_mac, BWE_EV_MAC_ADDR, &nev), XDP_PASS);
		assert_int_equal(nev, 0);
		/* a host quarantined by address answers neighbour discovery too */
		assert_int_equal(run_from_mac(na_quar, other_mac, BWE_EV_MAC_ADDR, &nev), XDP_PASS);
		/* beyond the link-local block, multicast is judged: it may be routed */
		assert_int_equal(run_from_mac(site_local, q_mac, BWE_EV_MAC_ADDR, &nev), XDP_DROP);
	}
	/* Another MAC with the same new address passes. */
	assert_int_equal(run_from_mac(new_v4, other_mac, BWE_EV_MAC_ADDR, &nev), XDP_PASS);
	assert_int_equal(nev, 0);
	/* An address already quarantined is not reported again. */
	{
		struct pb_spec known = { UDP("198.18.0.66", "203.0.113.10", 53) };

		assert_int_equal(run_from_mac(known, q_mac, BWE_EV_MAC_ADDR, &nev), XDP_DROP);
		assert_int_equal(nev, 0);
	}
	/* A throttle MAC: reported (the daemon adds the bucket), not dropped. */
	mac_put(other_mac, BWE_NC_THROTTLE);
	assert_int_equal(run_from_mac(new_v4, other_mac, BWE_EV_MAC_ADDR, &nev), XDP_PASS);
	assert_int_equal(nev, 1);
	assert_int_equal(last_ev.reason, BWE_R_PASS);

	mac_del(q_mac);
	mac_del(other_mac);
	set_cfg_flags(0, BWE_CFG_MACS);
	assert_int_equal(run_from_mac(new_v4, q_mac, BWE_EV_MAC_ADDR, &nev), XDP_PASS);
	drain_events();
}

/* ---- NAT: inbound through a translating interface ------------------------ */

#define LO_IFINDEX	1  /* a real device: XDP test runs need one for ingress_ifindex */
#define STACKED_IFINDEX 41 /* TC: a device stacked on the translating one (not attached) */
#define PLAIN_IFINDEX	42 /* TC: an attached interface that translates nothing */

static void iface_put(__u32 ifindex, __u32 flags)
{
	struct bwe_iface_val v = { .flags = flags };

	assert_int_equal(bpf_map_update_elem(bwe_dp_map_fd(dp, BWE_MAP_IFACES), &ifindex, &v,
					     BPF_ANY),
			 0);
}

static int run_xdp_on(const struct pb_spec *s, __u32 ifindex, __u32 *lenp)
{
	__u8 frame[BWE_PKT_MAX], out[BWE_PKT_MAX];
	struct xdp_md ctx = { .ingress_ifindex = ifindex };
	int len = pb_build(s, frame, sizeof(frame));
	LIBBPF_OPTS(bpf_test_run_opts, topts, .data_in = frame, .data_out = out,
		    .data_size_out = sizeof(out), .ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
		    .repeat = 1);

	assert_true(len > 0);
	topts.data_size_in = (__u32)len;
	ctx.data_end = (__u32)len;
	if (lenp)
		*lenp = (__u32)len;
	assert_int_equal(bpf_prog_test_run_opts(bwe_dp_prog_fd(dp), &topts), 0);
	return (int)topts.retval;
}

/* Run the TC egress program on a frame that arrived on ifindex. */
static int run_tc(const struct pb_spec *s, __u32 ifindex, __u32 segs, __u32 wire_len, __u32 *lenp)
{
	__u8 frame[BWE_PKT_MAX], out[BWE_PKT_MAX];
	struct __sk_buff skb = { .ingress_ifindex = ifindex, .gso_segs = segs };
	int len = pb_build(s, frame, sizeof(frame));
	LIBBPF_OPTS(bpf_test_run_opts, topts, .data_in = frame, .data_out = out,
		    .data_size_out = sizeof(out), .ctx_in = &skb, .ctx_size_in = sizeof(skb),
		    .repeat = 1);

	assert_true(len > 0);
	topts.data_size_in = (__u32)len;
	skb.wire_len = wire_len ? wire_len : (__u32)len;
	if (lenp)
		*lenp = (__u32)len;
	assert_int_equal(bpf_prog_test_run_opts(bwe_dp_tc_prog_fd(dp), &topts), 0);
	return (int)topts.retval;
}

static void host_read(const char *a, struct bwe_host_stats *hs)
{
	struct bwe_addr h = addr(a);

	memset(hs, 0, sizeof(*hs));
	assert_int_equal(bwe_dp_host_read(dp, &h, hs), 0);
}

static void test_nat_xdp(void **state)
{
	struct pb_spec reply = { UDP("203.0.113.10", "198.51.100.1", 40000) }; /* to the gateway */
	struct pb_spec listed = { UDP("203.0.113.66", "198.51.100.1", 40000) };
	struct pb_spec direct = { UDP("203.0.113.10", "198.18.0.10", 40000) };
	struct pb_spec v6in = { UDP("2001:db8:3::10", "2001:db8:1::10", 40000) };
	struct pb_spec out4 = { UDP("198.18.0.10", "203.0.113.10", 53) };
	struct bwe_counter b[BWE_STATS_MAX][BWE_SD_MAX], a[BWE_STATS_MAX][BWE_SD_MAX];
	__u32 len;

	(void)state;
	iface_put(LO_IFINDEX, BWE_IF_NAT4);
	set_cfg_flags(BWE_CFG_NAT4, 0);

	/* A reply to the gateway's address: deferred, no verdict counted here. */
	read_stats_dir(b);
	assert_int_equal(run_xdp_on(&reply, LO_IFINDEX, &len), XDP_PASS);
	read_stats_dir(a);
	expect_dir_delta(b, a, BWE_A_NAT_DEFERRED, BWE_SD_NONE, 0, len, "v4 reply to the gateway");
	/* Addressed straight to a LAN host through the translating interface: deferred too. */
	read_stats_dir(b);
	assert_int_equal(run_xdp_on(&direct, LO_IFINDEX, &len), XDP_PASS);
	read_stats_dir(a);
	expect_dir_delta(b, a, BWE_A_NAT_DEFERRED, BWE_SD_NONE, 0, len, "v4 direct, translating");
	/* A listed peer stops at the WAN whatever the destination. */
	assert_int_equal(run_xdp_on(&listed, LO_IFINDEX, NULL), XDP_DROP);
	/* IPv6 is not translated on this interface: judged here as always. */
	read_stats_dir(b);
	assert_int_equal(run_xdp_on(&v6in, LO_IFINDEX, &len), XDP_PASS);
	read_stats_dir(a);
	expect_dir_delta(b, a, BWE_R_PASS, BWE_SD_IN, 0, len, "v6 in, not translated");
	/* Outbound through the same interface (a stick): judged here. */
	read_stats_dir(b);
	assert_int_equal(run_xdp_on(&out4, LO_IFINDEX, &len), XDP_PASS);
	read_stats_dir(a);
	expect_dir_delta(b, a, BWE_R_PASS, BWE_SD_OUT, 0, len,
			 "v4 out on the translating interface");
	/* Without the flag, or on another interface, nothing is deferred. */
	set_cfg_flags(0, BWE_CFG_NAT4);
	read_stats_dir(b);
	assert_int_equal(run_xdp_on(&reply, LO_IFINDEX, &len), XDP_PASS);
	read_stats_dir(a);
	expect_dir_delta(b, a, BWE_R_TRANSIT, BWE_SD_NONE, 0, len, "v4 reply, no NAT flag");
	drain_events();
}

static void test_nat_tc_egress(void **state)
{
	struct pb_spec in = { .src = "203.0.113.10",
			      .dst = "198.18.0.10",
			      .proto = IPPROTO_UDP,
			      .sport = 40000,
			      .dport = 40000,
			      .payload = 500 };
	struct pb_spec to_q = { UDP("203.0.113.10", "198.18.0.66", 40000) };
	struct pb_spec mgmt_q = { UDP("203.0.113.5", "198.18.0.66", 53) };
	struct pb_spec to_qmac = { UDP("203.0.113.10", "198.18.0.98", 40000) };
	struct pb_spec v6in = { UDP("2001:db8:3::10", "2001:db8:1::10", 40000) };
	struct pb_spec lan_out = { UDP("198.18.0.10", "203.0.113.10", 53) };
	struct bwe_counter b[BWE_STATS_MAX][BWE_SD_MAX], a[BWE_STATS_MAX][BWE_SD_MAX];
	struct bwe_host_stats h0, h1;
	__u32 len;

	(void)state;
	iface_put(LO_IFINDEX, BWE_IF_NAT4);
	/* The host has sent (its entry exists), as LAN hosts do before replies come. */
	assert_int_equal(run_spec(&lan_out, NULL), XDP_PASS);

	/* Without the NAT flag the program leaves everything alone. */
	set_cfg_flags(0, BWE_CFG_NAT4);
	read_stats_dir(b);
	assert_int_equal(run_tc(&to_q, LO_IFINDEX, 0, 0, NULL), TC_ACT_OK);
	read_stats_dir(a);
	assert_memory_equal(b, a, sizeof(a));

	set_cfg_flags(BWE_CFG_NAT4, 0);
	/* Accounted to the host, to the byte, once per segment. */
	host_read("198.18.0.10", &h0);
	read_stats_dir(b);
	assert_int_equal(run_tc(&in, LO_IFINDEX, 0, 0, &len), TC_ACT_OK);
	read_stats_dir(a);
	expect_dir_delta(b, a, BWE_R_PASS, BWE_SD_IN, 0, len, "tc: reply to a LAN host");
	host_read("198.18.0.10", &h1);
	assert_int_equal(h1.rx_bytes - h0.rx_bytes, len);
	assert_int_equal(h1.rx_packets - h0.rx_packets, 1);
	/* A GSO packet counts every segment's frame (wire_len) and every segment. */
	assert_int_equal(run_tc(&in, LO_IFINDEX, 3, len * 3, NULL), TC_ACT_OK);
	host_read("198.18.0.10", &h0);
	assert_int_equal(h0.rx_bytes - h1.rx_bytes, 3 * len);
	assert_int_equal(h0.rx_packets - h1.rx_packets, 3);

	/* A quarantined host: cut, except from exempt peers. */
	assert_int_equal(run_tc(&to_q, LO_IFINDEX, 0, 0, NULL), TC_ACT_SHOT);
	assert_int_equal(run_tc(&mgmt_q, LO_IFINDEX, 0, 0, NULL), TC_ACT_OK);
	/* A quarantined MAC as destination: cut whatever its address. */
	mac_put(q_mac, BWE_NC_QUARANTINE);
	set_cfg_flags(BWE_CFG_MACS, 0);
	memcpy(to_qmac.dmac, q_mac, BWE_MAC_LEN);
	assert_int_equal(run_tc(&to_qmac, LO_IFINDEX, 0, 0, NULL), TC_ACT_SHOT);
	mac_del(q_mac);
	set_cfg_flags(0, BWE_CFG_MACS);
	assert_int_equal(run_tc(&to_qmac, LO_IFINDEX, 0, 0, NULL), TC_ACT_OK);

	/* Arrived on a device stacked on the translating interface (a bridge, a
	 * VLAN or PPP device: not in bwe_ifaces): judged all the same. */
	assert_int_equal(run_tc(&to_q, STACKED_IFINDEX, 0, 0, NULL), TC_ACT_SHOT);
	read_stats_dir(b);
	assert_int_equal(run_tc(&in, STACKED_IFINDEX, 0, 0, &len), TC_ACT_OK);
	read_stats_dir(a);
	expect_dir_delta(b, a, BWE_R_PASS, BWE_SD_IN, 0, len, "tc: from a stacked device");

	/* From an attached interface that translates nothing (XDP judged it
	 * there), not the translated family, or the gateway's own packet:
	 * untouched and uncounted. */
	iface_put(PLAIN_IFINDEX, 0);
	read_stats_dir(b);
	assert_int_equal(run_tc(&to_q, PLAIN_IFINDEX, 0, 0, NULL), TC_ACT_OK);
	assert_int_equal(run_tc(&to_q, 0, 0, 0, NULL), TC_ACT_OK);
	assert_int_equal(run_tc(&v6in, LO_IFINDEX, 0, 0, NULL), TC_ACT_OK);
	assert_int_equal(run_tc(&v6in, STACKED_IFINDEX, 0, 0, NULL), TC_ACT_OK);
	assert_int_equal(run_tc(&lan_out, LO_IFINDEX, 0, 0, NULL), TC_ACT_OK);
	read_stats_dir(a);
	assert_memory_equal(b, a, sizeof(a));
	assert_int_equal(bpf_map_delete_elem(bwe_dp_map_fd(dp, BWE_MAP_IFACES),
					     &(__u32){ PLAIN_IFINDEX }),
			 0);
	set_cfg_flags(0, BWE_CFG_NAT4);
	drain_events();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verdicts),
		cmocka_unit_test_teardown(test_class_changes, restore_world),
		cmocka_unit_test(test_directions),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_malformed_headers),
		cmocka_unit_test(test_dryrun),
		cmocka_unit_test(test_throttle),
		cmocka_unit_test(test_accounting),
		cmocka_unit_test(test_fanout_sketch),
		cmocka_unit_test(test_relay_sketches),
		cmocka_unit_test(test_sketches_off),
		cmocka_unit_test(test_contact_events),
		cmocka_unit_test(test_fanout_matches_rules),
		cmocka_unit_test(test_ref_merge_program),
		cmocka_unit_test(test_events_dedup),
		cmocka_unit_test(test_events_host_filter),
		cmocka_unit_test(test_blocklist_overlap),
		cmocka_unit_test(test_firehol_level3),
		cmocka_unit_test(test_mac_identity),
		cmocka_unit_test(test_nat_xdp),
		cmocka_unit_test(test_nat_tc_egress),
	};

	return cmocka_run_group_tests_name("xdp enforcer", tests, setup, teardown);
}
