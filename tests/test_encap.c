// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_encap.c - PPPoE through the enforcer: the real object (private maps,
 * nothing pinned or attached) run with bpf_prog_test_run_opts on frames from
 * lib/pktbuild.c. A PPPoE session frame carrying IPv4 or IPv6 (with and
 * without 802.1Q/QinQ tags, with a compressed PPP protocol field) gets the
 * verdict, direction and per-host bytes the same IP packet gets bare; the
 * rest of PPP (LCP, IPCP, IPV6CP, compressed data) and PPPoE discovery are
 * non-IP; a cut or invalid PPPoE header is malformed.
 *
 * The fixture world (test address ranges only):
 *   internal   198.18.0.0/24, 2001:db8:1::/64
 *   quarantine 198.18.0.66, 2001:db8:1::66
 *   blocklist  203.0.113.66, 2001:db8:3::66 (drop, feed 2)
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "test_helpers.h"
#include <errno.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_ether.h>
#include <linux/ppp_defs.h>
#include <netinet/in.h>

#include "bwe_util.h"
#include "addr.h"
#include "blocklist.h"
#include "dataplane.h"
#include "netclass.h"
#include "pktbuild.h"

#define FEED_A	       2
#define PPPOE_SID      0x2a /* any session id */
#define PPPOE_VT_OFF   0    /* version/type byte, from the PPPoE header */
#define PPPOE_CODE_OFF 1    /* code byte */
#define PPPOE_PADI     0x09 /* a discovery code, invalid on a session frame */
#define ACCT_FRAMES    5    /* frames each way in the accounting test */
#define PORTS_LEN      4    /* bytes of TCP/UDP the parser reads: the ports */

static struct bwe_dp *dp;
static struct bwe_bl bl;

/* Run one frame of len bytes; returns the XDP action. */
static int run_frame(const __u8 *frame, __u32 len)
{
	__u8 out[BWE_PKT_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, topts, .data_in = frame, .data_size_in = len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);

	assert_int_equal(bpf_prog_test_run_opts(bwe_dp_prog_fd(dp), &topts), 0);
	return (int)topts.retval;
}

static int setup(void **state)
{
	static const struct pb_spec talkers[] = {
		{ .src = "198.18.0.10", .dst = "203.0.113.10", .proto = IPPROTO_UDP, .dport = 53 },
		{ .src = "2001:db8:1::10",
		  .dst = "2001:db8:3::10",
		  .proto = IPPROTO_UDP,
		  .dport = 53 },
	};
	static const char *internal[] = { "198.18.0.0/24", "2001:db8:1::/64" };
	static const char *quar[] = { "198.18.0.66", "2001:db8:1::66" };
	static const char *blocked[] = { "203.0.113.66", "2001:db8:3::66" };
	struct bwe_dp_opts opts = { 0 };
	struct bwe_config cfg = { .event_dedup_ns = 1 };
	struct bwe_ncset s;
	size_t i;
	int err;

	(void)state;
	libbpf_set_print(NULL);
	err = bwe_dp_open(&dp, &opts);
	if (err) {
		fprintf(stderr, "bwe_dp_open: %s (are you root?)\n", strerror(-err));
		return -1;
	}
	assert_int_equal(bwe_dp_config_set(dp, &cfg), 0);
	bwe_ncset_init(&s);
	for (i = 0; i < ARRAY_SIZE(internal); i++) {
		struct bwe_prefix p = pfx(internal[i]);
		struct bwe_prefix q = pfx(quar[i]);

		assert_int_equal(bwe_ncset_add(&s, &p, BWE_NC_INTERNAL), 0);
		assert_int_equal(bwe_ncset_add(&s, &q, BWE_NC_QUARANTINE), 0);
	}
	assert_int_equal(bwe_dp_netclass_apply(dp, &s), 0);
	bwe_ncset_free(&s);

	assert_int_equal(bwe_bl_init(&bl, dp), 0);
	for (i = 0; i < ARRAY_SIZE(blocked); i++) {
		struct bwe_prefix b = pfx(blocked[i]);

		assert_int_equal(bwe_bl_set(&bl, &b, bwe_ref(FEED_A, 0)), 0);
	}
	assert_int_equal(bwe_bl_flush(&bl), 0);

	/* The LAN hosts the tables send to have sent once (an accounting entry),
	 * whatever order the tests run in; the quarantined ones never send. */
	for (i = 0; i < ARRAY_SIZE(talkers); i++) {
		__u8 frame[BWE_PKT_MAX];
		int len = pb_build(&talkers[i], frame, sizeof(frame));

		assert_true(len > 0);
		assert_int_equal(run_frame(frame, (__u32)len), XDP_PASS);
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	bwe_bl_free(&bl);
	bwe_dp_close(dp);
	return 0;
}

static void read_stats(struct bwe_counter (*c)[BWE_SD_MAX])
{
	assert_int_equal(bwe_dp_stats_read_dir(dp, c), 0);
}

/*
 * Between two reads exactly one frame of len bytes under (reason, dir) and,
 * if anomaly is not 0, one under (anomaly, none); every other counter still.
 */
static void expect_one(const struct bwe_counter (*before)[BWE_SD_MAX],
		       const struct bwe_counter (*after)[BWE_SD_MAX], __u32 reason, __u32 dir,
		       __u32 anomaly, __u32 len, const char *name, int cut)
{
	__u32 i, d;

	for (i = 0; i < BWE_STATS_MAX; i++) {
		for (d = 0; d < BWE_SD_MAX; d++) {
			__u64 want = (i == reason && d == dir) ||
				     (anomaly && i == anomaly && d == BWE_SD_NONE);
			__u64 p = after[i][d].packets - before[i][d].packets;
			__u64 b = after[i][d].bytes - before[i][d].bytes;

			if (p != want || b != want * len)
				fail_msg("%s (%d bytes): slot %u direction %u counted %llu packets "
					 "/ %llu bytes, want %llu / %llu",
					 name, cut, i, d, (unsigned long long)p,
					 (unsigned long long)b, (unsigned long long)want,
					 (unsigned long long)(want * len));
		}
	}
}

/* Run frame[0..len) and check action, verdict, direction and anomaly. */
static void expect_frame(const __u8 *frame, __u32 len, int action, __u32 reason, __u32 dir,
			 __u32 anomaly, const char *name)
{
	struct bwe_counter before[BWE_STATS_MAX][BWE_SD_MAX], after[BWE_STATS_MAX][BWE_SD_MAX];
	int act;

	read_stats(before);
	act = run_frame(frame, len);
	read_stats(after);
	if (act != action)
		fail_msg("%s (%u bytes): action %d, want %d", name, len, act, action);
	expect_one(before, after, reason, dir, anomaly, len, name, (int)len);
}

struct encap_case {
	const char *name;
	struct pb_spec spec;
	int action;
	__u32 reason;  /* enum bwe_reason */
	__u32 dir;     /* enum bwe_stat_dir it is counted under */
	__u32 anomaly; /* enum bwe_anomaly also counted, 0 none */
};

#define UDP(s, d) \
	.src = s, .dst = d, .proto = IPPROTO_UDP, .sport = 40000, .dport = 53, .payload = 32
#define TCP(s, d) \
	.src = s, .dst = d, .proto = IPPROTO_TCP, .sport = 40000, .dport = 443, .payload = 64
#define PPPOE .pppoe = 1, .pppoe_sid = PPPOE_SID
#define VLAN1 .nvlan = 1, .vlan_id = { 10 }
#define QINQ  .nvlan = 2, .vlan_id = { 100, 200 }

static const struct encap_case cases[] = {
	/* IP in PPPoE: classified, enforced and counted like bare IP */
	{ "v4 out pass",
	  { TCP("198.18.0.10", "203.0.113.10"), PPPOE },
	  XDP_PASS,
	  BWE_R_PASS,
	  BWE_SD_OUT,
	  0 },
	{ "v4 in pass",
	  { UDP("203.0.113.10", "198.18.0.10"), PPPOE },
	  XDP_PASS,
	  BWE_R_PASS,
	  BWE_SD_IN,
	  0 },
	{ "v6 out pass",
	  { TCP("2001:db8:1::10", "2001:db8:3::10"), PPPOE },
	  XDP_PASS,
	  BWE_R_PASS,
	  BWE_SD_OUT,
	  0 },
	{ "v6 in pass",
	  { UDP("2001:db8:3::10", "2001:db8:1::10"), PPPOE },
	  XDP_PASS,
	  BWE_R_PASS,
	  BWE_SD_IN,
	  0 },
	{ "v4 out to a blocked peer",
	  { TCP("198.18.0.10", "203.0.113.66"), PPPOE },
	  XDP_DROP,
	  BWE_R_BLOCK,
	  BWE_SD_OUT,
	  0 },
	{ "v4 in from a blocked peer",
	  { UDP("203.0.113.66", "198.18.0.10"), PPPOE },
	  XDP_DROP,
	  BWE_R_BLOCK,
	  BWE_SD_IN,
	  0 },
	{ "v6 out to a blocked peer",
	  { UDP("2001:db8:1::10", "2001:db8:3::66"), PPPOE },
	  XDP_DROP,
	  BWE_R_BLOCK,
	  BWE_SD_OUT,
	  0 },
	{ "v6 in from a blocked peer",
	  { TCP("2001:db8:3::66", "2001:db8:1::10"), PPPOE },
	  XDP_DROP,
	  BWE_R_BLOCK,
	  BWE_SD_IN,
	  0 },
	{ "v4 quarantined host out",
	  { TCP("198.18.0.66", "203.0.113.10"), PPPOE },
	  XDP_DROP,
	  BWE_R_QUARANTINE,
	  BWE_SD_OUT,
	  0 },
	{ "v6 quarantined host in (it never sent: untracked)",
	  { UDP("2001:db8:3::10", "2001:db8:1::66"), PPPOE },
	  XDP_DROP,
	  BWE_R_QUARANTINE,
	  BWE_SD_IN,
	  BWE_A_INBOUND_UNTRACKED },
	{ "v4 transit",
	  { UDP("203.0.113.10", "203.0.113.11"), PPPOE },
	  XDP_PASS,
	  BWE_R_TRANSIT,
	  BWE_SD_NONE,
	  0 },
	{ "v6 transit from a listed peer (no internal side: dropped)",
	  { UDP("2001:db8:3::66", "2001:db8:3::11"), PPPOE, VLAN1 },
	  XDP_DROP,
	  BWE_R_BLOCK,
	  BWE_SD_NONE,
	  0 },
	/* after VLAN tags */
	{ "802.1Q: v4 out to a blocked peer",
	  { TCP("198.18.0.10", "203.0.113.66"), PPPOE, VLAN1 },
	  XDP_DROP,
	  BWE_R_BLOCK,
	  BWE_SD_OUT,
	  0 },
	{ "802.1Q: v6 in pass",
	  { UDP("2001:db8:3::10", "2001:db8:1::10"), PPPOE, VLAN1 },
	  XDP_PASS,
	  BWE_R_PASS,
	  BWE_SD_IN,
	  0 },
	{ "QinQ: v6 in from a blocked peer",
	  { UDP("2001:db8:3::66", "2001:db8:1::10"), PPPOE, QINQ },
	  XDP_DROP,
	  BWE_R_BLOCK,
	  BWE_SD_IN,
	  0 },
	{ "QinQ: v4 quarantined host out",
	  { UDP("198.18.0.66", "203.0.113.10"), PPPOE, QINQ },
	  XDP_DROP,
	  BWE_R_QUARANTINE,
	  BWE_SD_OUT,
	  0 },
	/* a compressed (one-byte) PPP protocol field is read too */
	{ "PFC: v4 out to a blocked peer",
	  { TCP("198.18.0.10", "203.0.113.66"), PPPOE, .ppp_pfc = 1 },
	  XDP_DROP,
	  BWE_R_BLOCK,
	  BWE_SD_OUT,
	  0 },
	{ "PFC in 802.1Q: v6 quarantined host in",
	  { TCP("2001:db8:3::10", "2001:db8:1::66"), PPPOE, VLAN1, .ppp_pfc = 1 },
	  XDP_DROP,
	  BWE_R_QUARANTINE,
	  BWE_SD_IN,
	  BWE_A_INBOUND_UNTRACKED },
	/* the IP layer after PPPoE is the same parser: fragments and ports */
	{ "v4 later fragment to a blocked peer",
	  { UDP("198.18.0.10", "203.0.113.66"), PPPOE, .frag_offset = 100 },
	  XDP_DROP,
	  BWE_R_BLOCK,
	  BWE_SD_OUT,
	  BWE_A_FRAGMENT },
	{ "v6 later fragment from a blocked peer, QinQ",
	  { UDP("2001:db8:3::66", "2001:db8:1::10"), PPPOE, QINQ, .frag_offset = 100 },
	  XDP_DROP,
	  BWE_R_BLOCK,
	  BWE_SD_IN,
	  BWE_A_FRAGMENT },
	/* PPP that is not IP, and PPPoE discovery: passed untouched */
	{ "LCP",
	  { PPPOE, .ppp_proto = PPP_LCP, .payload = 14 },
	  XDP_PASS,
	  BWE_R_NON_IP,
	  BWE_SD_NONE,
	  0 },
	{ "LCP in QinQ",
	  { PPPOE, QINQ, .ppp_proto = PPP_LCP, .payload = 14 },
	  XDP_PASS,
	  BWE_R_NON_IP,
	  BWE_SD_NONE,
	  0 },
	{ "IPCP",
	  { PPPOE, .ppp_proto = PPP_IPCP, .payload = 10 },
	  XDP_PASS,
	  BWE_R_NON_IP,
	  BWE_SD_NONE,
	  0 },
	{ "IPV6CP",
	  { PPPOE, VLAN1, .ppp_proto = PPP_IPV6CP, .payload = 14 },
	  XDP_PASS,
	  BWE_R_NON_IP,
	  BWE_SD_NONE,
	  0 },
	{ "CHAP",
	  { PPPOE, .ppp_proto = PPP_CHAP, .payload = 20 },
	  XDP_PASS,
	  BWE_R_NON_IP,
	  BWE_SD_NONE,
	  0 },
	{ "compressed data (CCP), PFC",
	  { PPPOE, .ppp_proto = PPP_COMP, .ppp_pfc = 1, .payload = 40 },
	  XDP_PASS,
	  BWE_R_NON_IP,
	  BWE_SD_NONE,
	  0 },
	{ "discovery (PADI)",
	  { .ethertype = ETH_P_PPP_DISC, .payload = 20 },
	  XDP_PASS,
	  BWE_R_NON_IP,
	  BWE_SD_NONE,
	  0 },
	{ "discovery in 802.1Q",
	  { .ethertype = ETH_P_PPP_DISC, .payload = 20, VLAN1 },
	  XDP_PASS,
	  BWE_R_NON_IP,
	  BWE_SD_NONE,
	  0 },
	/* the PPP protocol names the IP version the parser checks */
	{ "v4 packet labelled IPv6",
	  { UDP("198.18.0.10", "203.0.113.10"), PPPOE, .ppp_proto = PPP_IPV6 },
	  XDP_DROP,
	  BWE_R_MALFORMED,
	  BWE_SD_NONE,
	  0 },
	{ "v6 packet labelled IPv4",
	  { UDP("2001:db8:1::10", "2001:db8:3::10"), PPPOE, .ppp_proto = PPP_IP },
	  XDP_DROP,
	  BWE_R_MALFORMED,
	  BWE_SD_NONE,
	  0 },
};

static void test_verdicts(void **state)
{
	__u8 frame[BWE_PKT_MAX];
	size_t i;
	int len;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct encap_case *c = &cases[i];

		len = pb_build(&c->spec, frame, sizeof(frame));
		assert_true(len > 0);
		expect_frame(frame, (__u32)len, c->action, c->reason, c->dir, c->anomaly, c->name);
	}
}

/*
 * The same IP packet bare and in PPPoE (no tag, one tag with PFC, QinQ)
 * moves the same counters: the encapsulation changes nothing but the bytes.
 */
static void test_same_as_bare(void **state)
{
	static const struct pb_spec bare[] = {
		{ TCP("198.18.0.10", "203.0.113.10") },
		{ TCP("198.18.0.66", "203.0.113.10") },
		{ UDP("203.0.113.66", "198.18.0.10") },
		{ UDP("2001:db8:1::10", "2001:db8:3::66") },
		{ TCP("2001:db8:3::10", "2001:db8:1::66") },
		{ UDP("2001:db8:3::10", "2001:db8:1::10") },
		{ UDP("2001:db8:3::10", "2001:db8:1::99") }, /* inbound, untracked */
	};
	struct bwe_counter b0[BWE_STATS_MAX][BWE_SD_MAX], b1[BWE_STATS_MAX][BWE_SD_MAX];
	struct bwe_counter e0[BWE_STATS_MAX][BWE_SD_MAX], e1[BWE_STATS_MAX][BWE_SD_MAX];
	__u8 frame[BWE_PKT_MAX];
	size_t i, v;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bare); i++) {
		int len, act;

		len = pb_build(&bare[i], frame, sizeof(frame));
		assert_true(len > 0);
		read_stats(b0);
		act = run_frame(frame, (__u32)len);
		read_stats(b1);

		for (v = 0; v < 3; v++) {
			struct pb_spec enc = bare[i];
			__u32 s, d;
			int elen;

			enc.pppoe = 1;
			enc.pppoe_sid = PPPOE_SID;
			enc.nvlan = (int)v; /* 0, 1 or 2 tags */
			enc.ppp_pfc = v == 1;
			elen = pb_build(&enc, frame, sizeof(frame));
			assert_true(elen > len);
			read_stats(e0);
			assert_int_equal(run_frame(frame, (__u32)elen), act);
			read_stats(e1);
			/* every counter moved as for the bare packet, by the frame's bytes */
			for (s = 0; s < BWE_STATS_MAX; s++) {
				for (d = 0; d < BWE_SD_MAX; d++) {
					__u64 bp = b1[s][d].packets - b0[s][d].packets;
					__u64 ep = e1[s][d].packets - e0[s][d].packets;

					if (ep != bp ||
					    e1[s][d].bytes - e0[s][d].bytes != ep * elen)
						fail_msg("%s -> %s, %zu tags: slot %u dir %u: %llu "
							 "packets, bare %llu",
							 bare[i].src, bare[i].dst, v, s, d,
							 (unsigned long long)ep,
							 (unsigned long long)bp);
				}
			}
		}
	}
}

/*
 * Frames cut short, with and without tags and PFC: up to the end of the PPP
 * protocol field or anywhere in the IP header the frame is malformed;
 * inside the ports the addresses decide (L4_TRUNCATED); whole, the verdict.
 */
static void test_truncated(void **state)
{
	static const struct {
		struct pb_spec spec;
		__u32 dir; /* of the whole frame's verdict, BWE_R_BLOCK */
	} specs[] = {
		{ { UDP("198.18.0.10", "203.0.113.66"), PPPOE }, BWE_SD_OUT },
		{ { TCP("2001:db8:1::10", "2001:db8:3::66"), PPPOE, VLAN1 }, BWE_SD_OUT },
		{ { UDP("198.18.0.10", "203.0.113.66"), PPPOE, QINQ, .ppp_pfc = 1 }, BWE_SD_OUT },
		{ { UDP("2001:db8:3::66", "2001:db8:1::10"), PPPOE, .ppp_pfc = 1 }, BWE_SD_IN },
	};
	size_t offs[PB_BOUNDARIES_MAX], i;
	__u8 frame[BWE_PKT_MAX];

	(void)state;
	for (i = 0; i < ARRAY_SIZE(specs); i++) {
		const struct pb_spec *s = &specs[i].spec;
		int len, n, cut, l2_end, l3_end, l4_start;
		char name[80];

		len = pb_build(s, frame, sizeof(frame));
		assert_true(len > 0);
		n = pb_boundaries(s, offs, PB_BOUNDARIES_MAX);
		assert_int_equal(n, 3); /* L2 (with PPPoE), L3, L4 */
		l2_end = (int)offs[0];
		l3_end = (int)offs[1];
		l4_start = l3_end;
		/* from the PPPoE EtherType with nothing after it to the whole frame */
		for (cut = ETH_HLEN + s->nvlan * 4; cut <= len; cut++) {
			__u32 reason = BWE_R_BLOCK, anomaly = 0, dir = specs[i].dir;
			int action = XDP_DROP;

			if (cut < l3_end) {
				reason = BWE_R_MALFORMED;
				dir = BWE_SD_NONE;
			} else if (cut < l4_start + PORTS_LEN) {
				anomaly = BWE_A_L4_TRUNCATED;
			}
			snprintf(name, sizeof(name), "%s -> %s, %d tags%s, L2 ends at %d", s->src,
				 s->dst, s->nvlan, s->ppp_pfc ? ", PFC" : "", l2_end);
			expect_frame(frame, (__u32)cut, action, reason, dir, anomaly, name);
		}
	}
}

/* A session header that is not version 1, type 1, code 0 is malformed. */
static void test_bad_header(void **state)
{
	static const struct {
		const char *name;
		int off; /* byte of the PPPoE header */
		__u8 val;
	} bad[] = {
		{ "version 2", PPPOE_VT_OFF, 0x21 },
		{ "type 2", PPPOE_VT_OFF, 0x12 },
		{ "version/type 0", PPPOE_VT_OFF, 0x00 },
		{ "a discovery code (PADI) on a session frame", PPPOE_CODE_OFF, PPPOE_PADI },
	};
	static const struct {
		struct pb_spec spec;
		__u32 dir; /* of the valid frame's BWE_R_PASS */
	} specs[] = {
		{ { UDP("198.18.0.10", "203.0.113.10"), PPPOE }, BWE_SD_OUT },
		{ { UDP("2001:db8:3::10", "2001:db8:1::10"), PPPOE, QINQ }, BWE_SD_IN },
	};
	__u8 frame[BWE_PKT_MAX];
	size_t i, j;

	(void)state;
	for (j = 0; j < ARRAY_SIZE(specs); j++) {
		size_t hdr = ETH_HLEN + specs[j].spec.nvlan * 4;
		int len = pb_build(&specs[j].spec, frame, sizeof(frame));

		assert_true(len > 0);
		/* unchanged, it passes */
		expect_frame(frame, (__u32)len, XDP_PASS, BWE_R_PASS, specs[j].dir, 0,
			     "valid header");
		for (i = 0; i < ARRAY_SIZE(bad); i++) {
			__u8 keep = frame[hdr + bad[i].off];

			frame[hdr + bad[i].off] = bad[i].val;
			expect_frame(frame, (__u32)len, XDP_DROP, BWE_R_MALFORMED, BWE_SD_NONE, 0,
				     bad[i].name);
			frame[hdr + bad[i].off] = keep;
		}
	}
}

/*
 * Per-host accounting in PPPoE is exact: the host's bytes are the frames'
 * L2 bytes, PPPoE header and tags included, both ways.
 */
static void test_accounting(void **state)
{
	static const struct {
		const char *host;
		struct pb_spec out, in;
	} hosts[] = {
		{ "198.18.0.31",
		  { TCP("198.18.0.31", "203.0.113.10"), PPPOE },
		  { UDP("203.0.113.10", "198.18.0.31"), PPPOE, VLAN1 } },
		{ "2001:db8:1::31",
		  { UDP("2001:db8:1::31", "2001:db8:3::10"), PPPOE, QINQ, .ppp_pfc = 1 },
		  { TCP("2001:db8:3::10", "2001:db8:1::31"), PPPOE } },
	};
	__u8 fout[BWE_PKT_MAX], fin[BWE_PKT_MAX];
	size_t i;
	int k;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(hosts); i++) {
		struct bwe_addr a = addr(hosts[i].host);
		struct bwe_host_stats hs;
		int lo = pb_build(&hosts[i].out, fout, sizeof(fout));
		int li = pb_build(&hosts[i].in, fin, sizeof(fin));

		assert_true(lo > 0 && li > 0);
		assert_int_equal(bwe_dp_host_read(dp, &a, &hs), -ENOENT);
		for (k = 0; k < ACCT_FRAMES; k++) {
			assert_int_equal(run_frame(fout, (__u32)lo), XDP_PASS);
			assert_int_equal(run_frame(fin, (__u32)li), XDP_PASS);
		}
		assert_int_equal(bwe_dp_host_read(dp, &a, &hs), 0);
		assert_int_equal(hs.tx_packets, ACCT_FRAMES);
		assert_int_equal(hs.tx_bytes, (__u64)ACCT_FRAMES * lo);
		assert_int_equal(hs.rx_packets, ACCT_FRAMES);
		assert_int_equal(hs.rx_bytes, (__u64)ACCT_FRAMES * li);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verdicts),   cmocka_unit_test(test_same_as_bare),
		cmocka_unit_test(test_truncated),  cmocka_unit_test(test_bad_header),
		cmocka_unit_test(test_accounting),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
