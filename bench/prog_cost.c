// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * prog_cost.c - per-packet cost of the enforcer, cache-hot (BENCHMARKS.md
 * tier 1): bpf_prog_test_run_opts with repeat >= 1,000,000 on one frame per
 * path, against bare XDP_DROP / XDP_PASS programs, the enforcer's parser
 * alone, and xdp-filter (Debian's xdp-tools) on the same frames, in one run.
 *
 * The enforcer is the real object (bwe_dp_open: private maps, nothing pinned,
 * nothing attached), configured as tests/test_xdp.c does: network classes
 * through lib/netclass.c, a blocklist of --entries entries (default 1M:
 * random IPv4 /32s plus 10 % /16../24 networks, none in a test range) plus
 * the fixture's entries through lib/blocklist.c, a throttle whose bucket never
 * empties, and the event deduplication window of the daemon's default.
 *
 * A round runs every (program, frame) pair once, in a fixed order; a cell is
 * the median over the rounds with its min-max. The difference to a baseline
 * is taken per round (paired) and then summarised the same way.
 *
 * --alt OBJ compares another build of the enforcer (its bwe.bpf.o, the same
 * ABI: a change being judged, or the commit before it) on the same maps:
 * each enforcer row of a round runs this build and that one back to back,
 * in alternating order, and a second table gives their paired difference.
 * Both judge the same state in the same seconds, so a VM's drift, which
 * moves a row by tens of ns between two runs of one binary, cancels out.
 *
 * Output: one markdown section on stdout, diagnostics on stderr. Exit
 * status: 0 when every row was measured (a missed goal is not a failure),
 * 1 when something could not be measured, 2 on a usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "addr.h"
#include "blocklist.h"
#include "dataplane.h"
#include "bench_common.h"
#include "netclass.h"
#include "pktbuild.h"
/* The generated skeleton casts away const; that is bpftool's code, not ours. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wcast-qual"
#include "prog_cost.skel.h"
#include "bwe.skel.h"
#pragma GCC diagnostic pop

#define ROUNDS_DEFAULT	7
#define ROUNDS_MAX	101
#define REPEAT_DEFAULT	1000000u /* test_run repeats per cell per round */
#define REPEAT_MIN	1000u	 /* below this the kernel's ns figure is noise */
#define ENTRIES_DEFAULT 1000000u
#define ENTRIES_MAX	4000000u
#define QUICK_ROUNDS	3 /* --quick: a smoke run, not for the docs */
#define QUICK_ENTRIES	100000u
#define PROFILE_S	10.0 /* --profile: seconds of one row, for perf record */
#define NET_PERCENT	10   /* share of /16../24 networks in the blocklist */
#define GOAL_CLEAN_NS	60   /* issue #13: a clean packet over a bare XDP_PASS, ns */
#define DEFAULT_SEED	0x5eed2026u
#define WARMUP_S	3.0 /* busy CPU before the first measurement */
#define SPIN_BATCH	100000
#define DEDUP_NS	(60ULL * 1000000000ULL) /* event window: the daemon's default */
#define THROTTLE_RATE	BWE_RATE_MAX		/* bytes/s: a bucket that never empties */
#define THROTTLE_BURST	(1ULL << 40)		/* bytes */
#define FEED_SYNTH	BWE_FEED_FIRST		/* the synthetic list's feed id */
#define FEED_FIXTURE	(BWE_FEED_FIRST + 1)	/* the frames' own entries */
#define V4_SLASH24_BITS 24
#define XDPF_FLAG_DST	(1u << 1) /* xdp-filter's MAP_FLAG_DST (common_kern_user.h) */
#define XDPF_MAP_IPV4	"filter_ipv4"
#define XDPF_OBJ	"xdpfilt_alw_ip.o" /* allow policy: listed address -> drop */

/* Where Debian's libxdp1 puts xdp-filter's BPF objects. */
static const char *const xdpf_dirs[] = {
	"/usr/lib/x86_64-linux-gnu/bpf",
	"/usr/lib/aarch64-linux-gnu/bpf",
	"/usr/lib/bpf",
	"/usr/local/lib/bpf",
};

/* Test address ranges: no synthetic entry may touch them (TESTBED.md). */
static const struct {
	const char *pfx;
} reserved[] = {
	{ "198.18.0.0/15" },
	{ "192.0.2.0/24" },
	{ "198.51.100.0/24" },
	{ "203.0.113.0/24" },
};

/* The fixture world, test addresses only. */
static const char *const nc_internal[] = { "198.18.0.0/16", "2001:db8:1::/64" };
static const char *const nc_exempt[] = { "203.0.113.5" };
#define HOST_QUARANTINED "198.18.0.66"
#define HOST_THROTTLED	 "198.18.0.77"
static const char *const bl_fixture[] = { "203.0.113.66", "2001:db8:3::66" };

enum prog {
	P_BASE_DROP = 0,
	P_BASE_PASS,
	P_PARSE,
	P_BWE,
	P_XDPF,
	P_ALT,	   /* --alt: the other build's XDP program, on the same maps */
	P_TC_BASE, /* TC programs from here on (run with an __sk_buff context) */
	P_BWE_TC,
	P_MAX,
};
#define NAT_IFINDEX 1 /* the test run's device (lo): marked translating (IPv4) */

static const char *const prog_names[P_MAX] = {
	[P_BASE_DROP] = "bare XDP_DROP",
	[P_BASE_PASS] = "bare XDP_PASS",
	[P_PARSE] = "parse only",
	[P_BWE] = "**bwenforce**",
	[P_XDPF] = "xdp-filter",
	[P_TC_BASE] = "bare TC_ACT_OK",
	[P_BWE_TC] = "**bwenforce TC egress**",
	[P_ALT] = "the other build (--alt)",
};

enum frame {
	F_V4_PASS = 0,
	F_V6_PASS,
	F_V4_QINQ,
	F_V4_BLOCK,
	F_V6_BLOCK,
	F_V4_QUAR,
	F_V4_QUAR_EXEMPT,
	F_V4_THROTTLE,
	F_ARP,
	F_V4_NAT_GW,
	F_V4_NAT_IN,
	F_V4_SYN,
	F_V4_UDP,
	F_V4_IN,
	F_MAX,
};

#define TCP_OUT(s, d) \
	.src = s, .dst = d, .proto = IPPROTO_TCP, .sport = 40000, .dport = 443, .payload = 64
/* the reply to TCP_OUT(d, s) */
#define TCP_IN(s, d) \
	.src = s, .dst = d, .proto = IPPROTO_TCP, .sport = 443, .dport = 40000, .payload = 64

static const struct {
	const char *name;
	struct pb_spec spec;
} frames[F_MAX] = {
	[F_V4_PASS] = { "v4 TCP, clean peer", { TCP_OUT("198.18.0.10", "203.0.113.10") } },
	[F_V6_PASS] = { "v6 TCP, clean peer", { TCP_OUT("2001:db8:1::10", "2001:db8:3::10") } },
	[F_V4_QINQ] = { "v4 TCP in QinQ, clean peer",
			{ TCP_OUT("198.18.0.10", "203.0.113.10"), .nvlan = 2,
			  .vlan_id = { 100, 10 } } },
	[F_V4_BLOCK] = { "v4 TCP, peer on the blocklist",
			 { TCP_OUT("198.18.0.10", "203.0.113.66") } },
	[F_V6_BLOCK] = { "v6 TCP, peer on the blocklist",
			 { TCP_OUT("2001:db8:1::10", "2001:db8:3::66") } },
	[F_V4_QUAR] = { "v4 TCP, quarantined host", { TCP_OUT(HOST_QUARANTINED, "203.0.113.10") } },
	[F_V4_QUAR_EXEMPT] = { "v4 TCP, quarantined host to exempt peer",
			       { TCP_OUT(HOST_QUARANTINED, "203.0.113.5") } },
	[F_V4_THROTTLE] = { "v4 TCP, throttled host, bucket not empty",
			    { TCP_OUT(HOST_THROTTLED, "203.0.113.10") } },
	[F_ARP] = { "ARP (non-IP)", { .ethertype = ETH_P_ARP, .payload = 28 } },
	[F_V4_NAT_GW] = { "v4 TCP reply to the gateway's address, translating interface",
			  { TCP_IN("203.0.113.10", "198.51.100.1") } },
	[F_V4_NAT_IN] = { "v4 TCP reply after reverse NAT, to a LAN host",
			  { TCP_IN("203.0.113.10", "198.18.0.10") } },
	/* the beacon's contacts: a SYN is reported (the ring is full after its
	 * first few thousand repeats: what is measured is a failed output), a
	 * packet of a UDP flow already seen costs a lookup */
	[F_V4_SYN] = { "v4 TCP SYN, clean peer (a contact)",
		       { TCP_OUT("198.18.0.10", "203.0.113.10"), .tcp_syn = 1 } },
	/* the same reply on a routed gateway: the host is the destination */
	[F_V4_IN] = { "v4 TCP from a clean peer to a host (inbound, routed)",
		      { TCP_IN("203.0.113.10", "198.18.0.10") } },
	[F_V4_UDP] = { "v4 UDP, clean peer, a known flow",
		       { .src = "198.18.0.10",
			 .dst = "203.0.113.10",
			 .proto = IPPROTO_UDP,
			 .sport = 40000,
			 .dport = 443,
			 .payload = 64 } },
};

/* One measured (program, frame) pair and what it must answer. */
struct cell_def {
	enum prog prog;
	enum frame frame;
	int action; /* XDP_PASS / XDP_DROP */
	int reason; /* enum bwe_reason for the enforcer, -1 otherwise */
};

/* In the order a round runs them. */
static const struct cell_def cells[] = {
	{ P_BASE_DROP, F_V4_PASS, XDP_DROP, -1 },
	{ P_BASE_PASS, F_V4_PASS, XDP_PASS, -1 },
	{ P_PARSE, F_V4_PASS, XDP_PASS, -1 },
	{ P_PARSE, F_V6_PASS, XDP_PASS, -1 },
	{ P_PARSE, F_V4_QINQ, XDP_PASS, -1 },
	{ P_PARSE, F_ARP, XDP_PASS, -1 },
	{ P_BWE, F_V4_PASS, XDP_PASS, BWE_R_PASS },
	{ P_BWE, F_V6_PASS, XDP_PASS, BWE_R_PASS },
	{ P_BWE, F_V4_QINQ, XDP_PASS, BWE_R_PASS },
	{ P_BWE, F_V4_BLOCK, XDP_DROP, BWE_R_BLOCK },
	{ P_BWE, F_V6_BLOCK, XDP_DROP, BWE_R_BLOCK },
	{ P_BWE, F_V4_QUAR, XDP_DROP, BWE_R_QUARANTINE },
	{ P_BWE, F_V4_QUAR_EXEMPT, XDP_PASS, BWE_R_EXEMPT },
	{ P_BWE, F_V4_THROTTLE, XDP_PASS, BWE_R_PASS },
	{ P_BWE, F_ARP, XDP_PASS, BWE_R_NON_IP },
	{ P_XDPF, F_V4_PASS, XDP_PASS, -1 },
	{ P_XDPF, F_V4_BLOCK, XDP_DROP, -1 },
	/* NAT gateways: XDP defers the reply, the LAN's TC egress judges it */
	{ P_BWE, F_V4_NAT_GW, XDP_PASS, -1 },
	{ P_TC_BASE, F_V4_NAT_IN, TC_ACT_OK, -1 },
	{ P_BWE_TC, F_V4_NAT_IN, TC_ACT_OK, BWE_R_PASS },
	{ P_BWE_TC, F_V4_PASS, TC_ACT_OK, -1 }, /* LAN to WAN: leaves untouched */
	{ P_BWE, F_V4_SYN, XDP_PASS, BWE_R_PASS },
	{ P_BWE, F_V4_UDP, XDP_PASS, BWE_R_PASS },
	{ P_BWE, F_V4_IN, XDP_PASS, BWE_R_PASS },
};
#define NCELLS (sizeof(cells) / sizeof(cells[0]))

static const char *const reason_names[BWE_R_MAX] = {
	[BWE_R_PASS] = "PASS",
	[BWE_R_NON_IP] = "NON_IP",
	[BWE_R_TRANSIT] = "TRANSIT",
	[BWE_R_ALLOW] = "ALLOW",
	[BWE_R_EXEMPT] = "EXEMPT",
	[BWE_R_MONITOR] = "MONITOR",
	[BWE_R_QUARANTINE] = "QUARANTINE",
	[BWE_R_BLOCK] = "BLOCK",
	[BWE_R_THROTTLE] = "THROTTLE",
};

struct opts {
	unsigned int rounds;
	__u32 repeat;
	__u32 entries;
	__u32 seed;
	const char *xdpf_path; /* NULL: look in xdpf_dirs */
	const char *alt_path;  /* --alt: another build's bwe.bpf.o, or NULL */
	int profile;	       /* --profile ROW: run only that row (0-based), no report */
	double profile_s;
	bool verbose;
};

struct stat3 {
	double med, lo, hi;
};

struct bench {
	struct bwe_dp *dp;
	struct bwe_bl bl;
	bool bl_ok;
	struct prog_cost_bpf *base;
	struct bpf_object *xdpf; /* NULL when xdp-filter could not be loaded */
	struct bpf_object *alt;	 /* --alt's object, NULL without */
	char xdpf_why[512];	 /* why not, for the report */
	char xdpf_file[256];
	size_t xdpf_hosts; /* IPv4 /32s loaded into xdp-filter */
	int prog_fd[P_MAX];
	__u8 pkt[F_MAX][BWE_PKT_MAX];
	__u32 pkt_len[F_MAX];
	size_t bl_entries, bl_hosts; /* synthetic list loaded into the enforcer */
	double load_s;
	struct bwe_config cfg; /* as configured, NAT4 set */
	bool routed;	       /* NAT4 and the device's mark taken away (routed_set()) */
};

/* ---- the synthetic blocklist (the shape of bench/map_scale.c's "mix") ---- */

struct synth {
	struct bwe_prefix *p;
	size_t n, hosts;
};

static bool bit_get(const __u8 *bm, __u32 i)
{
	return bm[i >> 3] & (1u << (i & 7));
}

static void bit_set(__u8 *bm, __u32 i)
{
	bm[i >> 3] |= (__u8)(1u << (i & 7));
}

/* Paint the /24s of an IPv4 prefix (host order), or say whether any is painted. */
static bool paint(__u8 *bm, __u32 net, int len, bool set)
{
	__u32 first = net >> 8, count = len >= V4_SLASH24_BITS ? 1 : 1u << (V4_SLASH24_BITS - len);
	__u32 i;

	for (i = 0; i < count; i++) {
		if (set)
			bit_set(bm, first + i);
		else if (bit_get(bm, first + i))
			return true;
	}
	return false;
}

static void push_v4(struct synth *s, __u32 host_order, int len)
{
	struct bwe_prefix *p = &s->p[s->n++];

	memset(p, 0, sizeof(*p));
	p->plen = (__u8)(BWE_V4_MAPPED_PLEN + len);
	bwe_addr_from_v4(htonl(host_order), &p->addr);
	if (len == BWE_V4_BITS)
		s->hosts++;
}

/*
 * n distinct, non-overlapping IPv4 entries: NET_PERCENT % networks with the
 * net_lens mix, the rest random /32s; none touches a test range, so the
 * frames' clean peers stay clean and their listed peers are listed only by
 * the fixture.
 */
static int synth_make(struct synth *s, size_t n, __u32 seed)
{
	__u8 *bm = calloc((1u << V4_SLASH24_BITS) / 8, 1);
	size_t nnet = n * NET_PERCENT / 100, l, i, tries;
	__u32 k = 0;

	memset(s, 0, sizeof(*s));
	s->p = calloc(n ? n : 1, sizeof(*s->p));
	if (!bm || !s->p) {
		free(bm);
		free(s->p);
		return -ENOMEM;
	}
	for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
		struct bwe_prefix r;

		if (bwe_prefix_parse(reserved[i].pfx, &r, 0)) {
			free(bm);
			return -EINVAL;
		}
		paint(bm, ntohl(bwe_addr_v4(&r.addr)), bwe_prefix_family_len(&r), true);
	}
	/* Broadest first: a longer network then never straddles a painted one. */
	for (l = 0; l < NET_LENS; l++) {
		int len = net_lens[l].len;
		size_t want = nnet * net_lens[l].percent / 100;

		if (l == NET_LENS - 1)
			want = nnet - s->n; /* the rounding remainder */
		for (i = 0, tries = 0; i < want && tries < 64 * (want + 1); tries++) {
			__u32 net = bwe_mix32(seed ^ (k++ * 0x9e3779b1u)) &
				    ~((1u << (32 - len)) - 1);

			if (paint(bm, net, len, false))
				continue;
			paint(bm, net, len, true);
			push_v4(s, net, len);
			i++;
		}
	}
	for (k = 0, tries = 0; s->n < n && tries < 4 * (size_t)n + 1024; tries++, k++) {
		__u32 h = bwe_mix32(k + seed);

		if (bit_get(bm, h >> 8))
			continue;
		push_v4(s, h, BWE_V4_BITS);
	}
	free(bm);
	return s->n == n ? 0 : -ENOSPC;
}

/* ---- setup --------------------------------------------------------------- */

static int add_class(struct bwe_ncset *s, const char *text, __u32 flags)
{
	struct bwe_prefix p;
	int err = bwe_prefix_parse(text, &p, 0);

	return err ?: bwe_ncset_add(s, &p, flags);
}

static int setup_enforcer(struct bench *b, const struct synth *s)
{
	static const __u16 std_ports[] = { 53, 80, 443 };
	/* contact events for every pair: the daemon's default (beacon.sample 1) */
	struct bwe_config cfg = { .event_dedup_ns = DEDUP_NS, .contact_sample = 1 };
	/* host slots: as many as the daemon's split gives (lib/dataplane.h) */
	struct bwe_dp_opts dpo = { .hslots = UINT32_MAX };
	struct bwe_ncset nc;
	struct bwe_addr thr;
	size_t i;
	int err;

	err = bwe_dp_open(&b->dp, &dpo);
	if (err) {
		fprintf(stderr, "prog_cost: loading the enforcer: %s\n", errstr(err));
		return err;
	}
	err = bwe_dp_config_set(b->dp, &cfg);
	err = err
		      ?: bwe_dp_std_ports_set(b->dp, std_ports,
					      sizeof(std_ports) / sizeof(std_ports[0]));
	if (err)
		return err;

	bwe_ncset_init(&nc);
	for (i = 0; i < sizeof(nc_internal) / sizeof(nc_internal[0]) && !err; i++)
		err = add_class(&nc, nc_internal[i], BWE_NC_INTERNAL);
	for (i = 0; i < sizeof(nc_exempt) / sizeof(nc_exempt[0]) && !err; i++)
		err = add_class(&nc, nc_exempt[i], BWE_NC_EXEMPT);
	err = err ?: add_class(&nc, HOST_QUARANTINED, BWE_NC_QUARANTINE);
	err = err ?: add_class(&nc, HOST_THROTTLED, BWE_NC_THROTTLE);
	err = err ?: bwe_dp_netclass_apply(b->dp, &nc);
	bwe_ncset_free(&nc);
	err = err ?: bwe_addr_parse(HOST_THROTTLED, &thr);
	err = err ?: bwe_dp_throttle_set(b->dp, &thr, THROTTLE_RATE, THROTTLE_BURST);
	if (!err) { /* the test run's device translates IPv4: the NAT rows */
		__u32 ifx = NAT_IFINDEX;
		struct bwe_iface_val iv = { .flags = BWE_IF_NAT4 };

		cfg.flags |= BWE_CFG_NAT4;
		err = bpf_map_update_elem(bwe_dp_map_fd(b->dp, BWE_MAP_IFACES), &ifx, &iv, BPF_ANY)
			      ? -errno
			      : bwe_dp_config_set(b->dp, &cfg);
		b->cfg = cfg;
	}
	if (err) {
		fprintf(stderr, "prog_cost: network classes / throttle: %s\n", errstr(err));
		return err;
	}

	err = bwe_bl_init(&b->bl, b->dp);
	if (err)
		return err;
	b->bl_ok = true;
	for (i = 0; i < s->n && !err; i++)
		err = bwe_bl_set(&b->bl, &s->p[i], bwe_ref(FEED_SYNTH, 0));
	for (i = 0; i < sizeof(bl_fixture) / sizeof(bl_fixture[0]) && !err; i++) {
		struct bwe_prefix p;

		err = bwe_prefix_parse(bl_fixture[i], &p, 0);
		err = err ?: bwe_bl_set(&b->bl, &p, bwe_ref(FEED_FIXTURE, 0));
	}
	err = err ?: bwe_bl_flush(&b->bl);
	if (err) {
		fprintf(stderr, "prog_cost: filling the blocklist: %s\n", errstr(err));
		return err;
	}
	b->bl_entries = s->n;
	b->bl_hosts = s->hosts;
	return 0;
}

static int find_xdpf(const struct opts *o, char *path, size_t len)
{
	size_t i;

	if (o->xdpf_path) {
		snprintf(path, len, "%s", o->xdpf_path);
		return access(path, R_OK) ? -errno : 0;
	}
	for (i = 0; i < sizeof(xdpf_dirs) / sizeof(xdpf_dirs[0]); i++) {
		snprintf(path, len, "%s/%s", xdpf_dirs[i], XDPF_OBJ);
		if (!access(path, R_OK))
			return 0;
	}
	return -ENOENT;
}

/*
 * xdp-filter's allow-policy IPv4/IPv6 object with the same IPv4 /32 hosts as
 * the enforcer's synthetic list plus the fixture's v4 address, flagged "drop
 * as destination". Its maps are pinned by name when xdp-filter loads them;
 * here nothing is pinned (pin paths cleared) and filter_ipv4 is sized to hold
 * the list. Any failure leaves b->xdpf NULL and says why.
 */
static void setup_xdpf(struct bench *b, const struct opts *o, const struct synth *s)
{
	struct bpf_object *obj = NULL;
	struct bpf_program *prog;
	struct bpf_map *map, *v4 = NULL;
	__u32 *keys = NULL;
	__u64 *vals = NULL;
	int ncpus = libbpf_num_possible_cpus(), err;
	size_t i, n = 0;
	__u32 count;
	LIBBPF_OPTS(bpf_map_batch_opts, bopts, .elem_flags = BPF_ANY);

	err = find_xdpf(o, b->xdpf_file, sizeof(b->xdpf_file));
	if (err) {
		snprintf(b->xdpf_why, sizeof(b->xdpf_why),
			 "%s not found (Debian package libxdp1, from xdp-tools)", XDPF_OBJ);
		return;
	}
	obj = bpf_object__open_file(b->xdpf_file, NULL);
	if (!obj) {
		err = -errno;
		goto fail;
	}
	bpf_object__for_each_map(map, obj) {
		err = bpf_map__set_pin_path(map, NULL);
		if (err)
			goto fail;
		if (!strcmp(bpf_map__name(map), XDPF_MAP_IPV4))
			v4 = map;
	}
	prog = bpf_object__next_program(obj, NULL);
	if (!v4 || !prog || ncpus <= 0) {
		err = -ENOENT;
		snprintf(b->xdpf_why, sizeof(b->xdpf_why), "%s has no %s map or no program",
			 b->xdpf_file, XDPF_MAP_IPV4);
		goto out;
	}
	err = bpf_map__set_max_entries(v4, (__u32)s->hosts + 1);
	err = err ?: bpf_object__load(obj);
	if (err)
		goto fail;

	keys = calloc(s->hosts + 1, sizeof(*keys));
	vals = calloc((s->hosts + 1) * (size_t)ncpus, sizeof(*vals));
	if (!keys || !vals) {
		err = -ENOMEM;
		goto fail;
	}
	for (i = 0; i < s->n; i++)
		if (s->p[i].plen == BWE_ADDR_BITS)
			keys[n++] = bwe_addr_v4(&s->p[i].addr);
	keys[n++] = inet_addr(bl_fixture[0]);
	for (i = 0; i < n * (size_t)ncpus; i++)
		vals[i] = XDPF_FLAG_DST;
	count = (__u32)n;
	if (bpf_map_update_batch(bpf_map__fd(v4), keys, vals, &count, &bopts)) {
		err = -errno;
		goto fail;
	}
	b->xdpf_hosts = n;
	b->prog_fd[P_XDPF] = bpf_program__fd(prog);
	b->xdpf = obj;
	obj = NULL;
	goto out;
fail:
	snprintf(b->xdpf_why, sizeof(b->xdpf_why), "loading %s: %s", b->xdpf_file, errstr(err));
out:
	free(keys);
	free(vals);
	bpf_object__close(obj);
	if (!b->xdpf)
		fprintf(stderr, "prog_cost: xdp-filter not measured: %s\n", b->xdpf_why);
}

/* ---- measuring ----------------------------------------------------------- */

/* ---- --alt: another build of the enforcer, on the same maps ------------- */

/* The variables of a data section (.rodata) as name:offset:size, for a compare. */
static int datasec_layout(const struct bpf_object *o, const char *sec, char *buf, size_t len)
{
	const struct btf *btf = bpf_object__btf(o);
	const struct btf_var_secinfo *vs;
	const struct btf_type *t;
	size_t used = 0;
	int id, i, n;

	id = btf ? btf__find_by_name_kind(btf, sec, BTF_KIND_DATASEC) : -ENOENT;
	if (id < 0)
		return id;
	t = btf__type_by_id(btf, (__u32)id);
	vs = btf_var_secinfos(t);
	buf[0] = '\0';
	for (i = 0; i < btf_vlen(t); i++, vs++) {
		n = snprintf(buf + used, len - used, "%s:%u:%u ",
			     btf__name_by_offset(btf, btf__type_by_id(btf, vs->type)->name_off),
			     vs->offset, vs->size);
		if (n < 0 || (size_t)n >= len - used)
			return -ENOSPC;
		used += (size_t)n;
	}
	return 0;
}

/*
 * Open path (another build's bwe.bpf.o) with only its XDP program to load,
 * its .rodata as the loaded enforcer's (the same constants: host slots, the
 * flowtable's path) and every other map the enforcer's, by name: both
 * programs then read and write the same state. What does not fit is
 * refused, by name: a map this build lacks, one of another type, key or
 * value size or flags (max_entries is the daemon's to set), or a .rodata
 * whose variables differ in name, place or size. An older build that only
 * lacks a later map fits (its program never reads it); check_cells() then
 * asks every row for the same verdict as this build's.
 */
static int setup_alt(struct bench *b, const char *path)
{
	struct bpf_object *mine = b->dp->skel->obj;
	struct bpf_object *loaded = b->dp->xdp ? b->dp->xdp->obj : NULL; /* its .rodata */
	LIBBPF_OPTS(bpf_object_open_opts, oo, .object_name = bpf_object__name(mine));
	char have_l[1024], want_l[1024];
	struct bpf_program *p;
	struct bpf_map *m, *ours;
	int err = 0;

	if (!loaded)
		return -EAGAIN; /* cannot happen: setup_enforcer() waited for the load */
	b->alt = bpf_object__open_file(path, &oo);
	if (!b->alt) {
		err = -errno;
		fprintf(stderr, "prog_cost: --alt %s: %s\n", path, errstr(err));
		return err;
	}
	bpf_object__for_each_program(p, b->alt)
		bpf_program__set_autoload(p, !strcmp(bpf_program__name(p), "bwe_xdp"));
	bpf_object__for_each_map(m, b->alt) {
		const char *name = bpf_map__name(m);
		size_t have = 0, want = 0;
		const void *v;

		ours = bpf_object__find_map_by_name(bpf_map__is_internal(m) ? loaded : mine, name);
		if (!ours) {
			fprintf(stderr, "prog_cost: --alt %s: map %s is not this build's\n", path,
				name);
			return -ENOENT;
		}
		if (!bpf_map__is_internal(m)) {
			if (bpf_map__type(m) != bpf_map__type(ours) ||
			    bpf_map__key_size(m) != bpf_map__key_size(ours) ||
			    bpf_map__value_size(m) != bpf_map__value_size(ours) ||
			    bpf_map__map_flags(m) != bpf_map__map_flags(ours)) {
				fprintf(stderr,
					"prog_cost: --alt %s: map %s differs from this build's "
					"(type, key, value or flags): another ABI\n",
					path, name);
				return -EINVAL;
			}
			err = bpf_map__reuse_fd(m, bpf_map__fd(ours));
		} else if (strrchr(name, '.') && !strcmp(strrchr(name, '.'), ".rodata")) {
			v = bpf_map__initial_value(ours, &have);
			if (!bpf_map__initial_value(m, &want) || !v || have != want) {
				fprintf(stderr,
					"prog_cost: --alt %s: its .rodata is %zu bytes, this build's "
					"%zu: another ABI\n",
					path, want, have);
				return -EINVAL;
			}
			err = datasec_layout(b->alt, ".rodata", want_l, sizeof(want_l));
			err = err ?: datasec_layout(loaded, ".rodata", have_l, sizeof(have_l));
			if (err) {
				fprintf(stderr,
					"prog_cost: --alt %s: reading the .rodata's BTF: %s\n",
					path, errstr(err));
				return err;
			}
			if (strcmp(have_l, want_l)) {
				fprintf(stderr,
					"prog_cost: --alt %s: its .rodata holds %s, this build's "
					"%s: another ABI\n",
					path, want_l, have_l);
				return -EINVAL;
			}
			err = bpf_map__set_initial_value(m, v, have);
		}
		if (err) {
			fprintf(stderr, "prog_cost: --alt %s: map %s: %s\n", path, name,
				errstr(err));
			return err;
		}
	}
	err = bpf_object__load(b->alt);
	p = err ? NULL : bpf_object__find_program_by_name(b->alt, "bwe_xdp");
	if (!p) {
		err = err ?: -ENOENT;
		fprintf(stderr, "prog_cost: --alt %s: loading bwe_xdp: %s\n", path, errstr(err));
		return err;
	}
	b->prog_fd[P_ALT] = bpf_program__fd(p);
	return 0;
}

/* Does cell i get an --alt twin in each round? The enforcer's XDP rows do. */
static bool alt_twin(const struct bench *b, size_t i)
{
	return b->alt && cells[i].prog == P_BWE;
}

/*
 * The routed row (F_V4_IN) runs with no interface translating, as on a
 * routed gateway; every other row with the test run's device translating
 * IPv4. Switched between test runs, outside what the kernel times.
 */
static int routed_set(struct bench *b, bool routed)
{
	struct bwe_iface_val iv = { .flags = routed ? 0 : BWE_IF_NAT4 };
	struct bwe_config cfg = b->cfg;
	__u32 ifx = NAT_IFINDEX;

	if (b->routed == routed)
		return 0;
	if (routed)
		cfg.flags &= ~(__u32)BWE_CFG_NAT4;
	if (bpf_map_update_elem(bwe_dp_map_fd(b->dp, BWE_MAP_IFACES), &ifx, &iv, BPF_ANY))
		return -errno;
	b->routed = routed;
	return bwe_dp_config_set(b->dp, &cfg);
}

static int run(struct bench *b, enum prog p, enum frame f, __u32 repeat, __u32 *retval, __u32 *ns)
{
	__u8 out[BWE_PKT_MAX];
	struct __sk_buff skb = { .ingress_ifindex = NAT_IFINDEX };
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = b->pkt[f], .data_size_in = b->pkt_len[f],
		    .data_out = out, .data_size_out = sizeof(out), .repeat = repeat, );

	int err = routed_set(b, f == F_V4_IN);

	if (err)
		return err;
	if (p >= P_TC_BASE) { /* arrived through the translating interface */
		t.ctx_in = &skb;
		t.ctx_size_in = sizeof(skb);
	}
	if (bpf_prog_test_run_opts(b->prog_fd[p], &t))
		return -errno;
	*retval = t.retval;
	*ns = t.duration; /* the kernel's own average: ns per repeat, truncated */
	return 0;
}

/* One run of each cell: the right action, and for the enforcer the right reason. */
static int check_cells(struct bench *b, bool *skip)
{
	struct bwe_counter before[BWE_STATS_MAX], after[BWE_STATS_MAX];
	size_t i;
	int err;

	for (i = 0; i < NCELLS * 2; i++) {
		const struct cell_def *c = &cells[i % NCELLS];
		enum prog p = i < NCELLS ? c->prog : P_ALT; /* then the --alt twins */
		__u32 ret, ns;

		if (i < NCELLS)
			skip[i] = c->prog == P_XDPF && !b->xdpf;
		if (i < NCELLS ? skip[i] : !alt_twin(b, i - NCELLS))
			continue;
		err = bwe_dp_stats_read(b->dp, before);
		err = err ?: run(b, p, c->frame, 1, &ret, &ns);
		err = err ?: bwe_dp_stats_read(b->dp, after);
		if (err) {
			fprintf(stderr, "prog_cost: %s on %s: %s\n", prog_names[p],
				frames[c->frame].name, errstr(err));
			return err;
		}
		if ((int)ret != c->action ||
		    (c->reason >= 0 && after[c->reason].packets - before[c->reason].packets != 1)) {
			fprintf(stderr, "prog_cost: %s on %s: action %u (want %d)%s\n",
				prog_names[p], frames[c->frame].name, ret, c->action,
				c->reason >= 0 ? ", or reason not counted" : "");
			if (c->prog == P_XDPF && i < NCELLS) { /* reported as not measured */
				skip[i] = true;
				continue;
			}
			return -EPROTO;
		}
	}
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static struct stat3 summarise(const double *v, unsigned int n)
{
	double s[ROUNDS_MAX];
	struct stat3 r;

	memcpy(s, v, n * sizeof(*v));
	qsort(s, n, sizeof(*s), cmp_double);
	r.lo = s[0];
	r.hi = s[n - 1];
	r.med = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
	return r;
}

static void warm_up_cpu(double secs)
{
	volatile __u64 sink = 0;
	double end = now_s() + secs;

	while (now_s() < end)
		for (int i = 0; i < SPIN_BATCH; i++)
			sink += (__u64)i;
}

static int pin_cpu(void)
{
	int cpu = sched_getcpu();
	cpu_set_t set;

	if (cpu < 0)
		return -1;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -1 : cpu;
}

/* ---- report -------------------------------------------------------------- */

static void fmt3(const struct stat3 *s, char *buf, size_t len, bool sign)
{
	if (sign)
		snprintf(buf, len, "%+.0f (%+.0f…%+.0f)", s->med, s->lo, s->hi);
	else
		snprintf(buf, len, "%.0f (%.0f–%.0f)", s->med, s->lo, s->hi);
}

static const char *verdict_name(const struct cell_def *c)
{
	static char buf[64];

	snprintf(buf, sizeof(buf), "%s%s%s%s", c->action == XDP_DROP ? "DROP" : "PASS",
		 c->reason >= 0 ? " (" : "", c->reason >= 0 ? reason_names[c->reason] : "",
		 c->reason >= 0 ? ")" : "");
	return buf;
}

/* The parse-only cell for a frame, or -1. */
static int parse_cell(enum frame f)
{
	size_t i;

	for (i = 0; i < NCELLS; i++)
		if (cells[i].prog == P_PARSE && cells[i].frame == f)
			return (int)i;
	return -1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: prog_cost [--rounds R] [--repeat N] [--entries N] [--xdp-filter OBJ]\n"
		"                 [--alt OBJ] [--seed S] [--quick] [-v]\n"
		"  --rounds R      interleaved rounds (default %u)\n"
		"  --repeat N      test_run repeats per row per round, >= %u (default %u)\n"
		"  --entries N     synthetic blocklist entries (default %u)\n"
		"  --xdp-filter O  xdp-filter's %s (default: Debian's libxdp1 location)\n"
		"  --alt OBJ       also run another build's bwe.bpf.o (the same ABI) on the same\n"
		"                  maps, back to back with this one's rows: a paired A/B table\n"
		"  --quick         %u rounds, %u entries: a smoke run (options after it win)\n"
		"  --profile ROW   run only row ROW (0-based, table order) for %.0f s and print\n"
		"                  nothing: a target for `perf record -a -g` (where the ns go)\n",
		ROUNDS_DEFAULT, REPEAT_MIN, REPEAT_DEFAULT, ENTRIES_DEFAULT, XDPF_OBJ, QUICK_ROUNDS,
		QUICK_ENTRIES, PROFILE_S);
}

/* The markdown section: method, table, what it shows. */
static void print_report(const struct bench *b, const struct opts *o, double ns[NCELLS][ROUNDS_MAX],
			 const bool *skip, double secs)
{
	struct stat3 bwe_v4_pass = { 0 }, bwe_v4_drop = { 0 }, xf_pass = { 0 }, xf_drop = { 0 };
	struct stat3 d_v4_pass = { 0 }, d_v4_drop = { 0 }, tc_in = { 0 }, d_tc_in = { 0 };
	struct stat3 nat_gw = { 0 }, d_nat_gw = { 0 }, d_v6_pass = { 0 }, worst;
	bool xf_ok = false;
	unsigned int r;
	size_t i, tc_base = 0;

	for (i = 0; i < NCELLS; i++)
		if (cells[i].prog == P_TC_BASE)
			tc_base = i;

	printf("### Per-packet cost (tier 1)\n\n");
	printf("`build/bench/prog_cost`: each program runs one frame through "
	       "`bpf_prog_test_run_opts` with repeat %u; the kernel's figure (ns per repeat, "
	       "whole ns) is taken in %u interleaved rounds, every row once per round in the "
	       "order shown; cells are the median over the rounds (min–max); a difference is "
	       "taken within each round against the bare program of the same verdict (or the "
	       "parser alone on the same frame), then summarised the same way. The enforcer "
	       "holds %zu synthetic blocklist entries (%zu random IPv4 /32s, %zu /16–/24 "
	       "networks, none in a test range) plus the frames' own entries; "
	       "xdp-filter is `%s` with the same %zu IPv4 /32s in `filter_ipv4` "
	       "(it takes no prefixes).\n\n",
	       o->repeat, o->rounds, b->bl_entries, b->bl_hosts, b->bl_entries - b->bl_hosts,
	       b->xdpf ? b->xdpf_file : XDPF_OBJ, b->bl_hosts);
	printf("| program | frame | verdict | ns/packet | − bare same verdict, ns | "
	       "− parse only, ns |\n");
	printf("|---|---|---|---:|---:|---:|\n");
	for (i = 0; i < NCELLS; i++) {
		const struct cell_def *cd = &cells[i];
		size_t base = cd->prog >= P_TC_BASE    ? tc_base
			      : cd->action == XDP_DROP ? 0
						       : 1; /* cells[0], cells[1] */
		bool bare = cd->prog == P_BASE_DROP || cd->prog == P_BASE_PASS ||
			    cd->prog == P_TC_BASE;
		int pc = parse_cell(cd->frame);
		double diff[ROUNDS_MAX], dp[ROUNDS_MAX];
		struct stat3 st, d, dpp;
		char a[64], bb[64], cc[64];

		if (skip[i]) {
			printf("| %s | %s | %s | not measured | | |\n", prog_names[cd->prog],
			       frames[cd->frame].name, verdict_name(cd));
			continue;
		}
		for (r = 0; r < o->rounds; r++) {
			diff[r] = ns[i][r] - ns[base][r];
			dp[r] = pc >= 0 ? ns[i][r] - ns[pc][r] : 0;
		}
		st = summarise(ns[i], o->rounds);
		d = summarise(diff, o->rounds);
		fmt3(&st, a, sizeof(a), false);
		if (bare)
			snprintf(bb, sizeof(bb), "—");
		else
			fmt3(&d, bb, sizeof(bb), true);
		if (pc >= 0 && !bare && cd->prog != P_PARSE) {
			dpp = summarise(dp, o->rounds);
			fmt3(&dpp, cc, sizeof(cc), true);
		} else {
			snprintf(cc, sizeof(cc), "—");
		}
		printf("| %s | %s | %s | %s | %s | %s |\n", prog_names[cd->prog],
		       frames[cd->frame].name, verdict_name(cd), a, bb, cc);
		if (cd->prog == P_BWE && cd->frame == F_V4_PASS) {
			bwe_v4_pass = st;
			d_v4_pass = d;
		} else if (cd->prog == P_BWE && cd->frame == F_V6_PASS) {
			d_v6_pass = d;
		} else if (cd->prog == P_BWE && cd->frame == F_V4_BLOCK) {
			bwe_v4_drop = st;
			d_v4_drop = d;
		} else if (cd->prog == P_XDPF && cd->frame == F_V4_PASS) {
			xf_pass = st;
			xf_ok = true;
		} else if (cd->prog == P_XDPF && cd->frame == F_V4_BLOCK) {
			xf_drop = st;
		} else if (cd->prog == P_BWE_TC && cd->frame == F_V4_NAT_IN) {
			tc_in = st;
			d_tc_in = d;
		} else if (cd->prog == P_BWE && cd->frame == F_V4_NAT_GW) {
			nat_gw = st;
			d_nat_gw = d;
		}
	}
	/* Issue #13's goal for this tier, in the bullet form bench/run.sh reads. */
	worst = d_v4_pass.med >= d_v6_pass.med ? d_v4_pass : d_v6_pass;
	printf("\n- Clean packet over a bare XDP_PASS, cache-hot, the worse of v4 (%+.0f ns) and "
	       "v6 (%+.0f ns): **%+.0f ns** (%+.0f…%+.0f); goal ≤ +%d ns: **%s**.\n",
	       d_v4_pass.med, d_v6_pass.med, worst.med, worst.lo, worst.hi, GOAL_CLEAN_NS,
	       worst.med <= GOAL_CLEAN_NS ? "met" : "not met");
	printf("\nBeyond that goal the tier locates the cost. "
	       "With %zu entries loaded, the enforcer passes a clean v4 packet in %.0f ns "
	       "(%+.0f ns over a bare XDP_PASS) and drops a blocklisted v4 peer in %.0f ns "
	       "(%+.0f ns over a bare XDP_DROP)",
	       b->bl_entries, bwe_v4_pass.med, d_v4_pass.med, bwe_v4_drop.med, d_v4_drop.med);
	if (xf_ok)
		printf("; xdp-filter, which looks both addresses up in one hash and does nothing "
		       "else, takes %.0f ns and %.0f ns on the same frames.\n",
		       xf_pass.med, xf_drop.med);
	else
		printf("; xdp-filter was not measured: %s.\n", b->xdpf_why);
	printf("On a NAT gateway a reply reaches the XDP program addressed to the gateway: "
	       "it is deferred in %.0f ns (%+.0f ns over a bare XDP_PASS) and judged by the TC "
	       "egress program of the LAN interface in %.0f ns (%+.0f ns over a bare TC "
	       "program), after the kernel reversed the translation.\n",
	       nat_gw.med, d_nat_gw.med, tc_in.med, d_tc_in.med);
	printf("Setup (entries, loads) took %.0f s, the whole run %.0f s.\n", b->load_s, secs);
}

/* --alt's table: the enforcer's rows of this build and the other, paired per round. */
static void print_alt(const struct bench *b, const struct opts *o, double ns[NCELLS][ROUNDS_MAX],
		      double alt[NCELLS][ROUNDS_MAX], const bool *skip)
{
	unsigned int r, faster;
	size_t i;

	printf("\n#### This build against another (`--alt`)\n\n");
	printf("The other build is `%s`, its XDP program loaded on this one's maps with its "
	       "constants. Each round runs every enforcer row of the two back to back (the "
	       "other first in every second round, from the second); the difference is taken within the round, then "
	       "summarised as above; the last column counts the rounds in which the other "
	       "build took less time.\n\n",
	       o->alt_path);
	printf("| frame | verdict | this build, ns | the other, ns | the other − this, ns | "
	       "the other faster |\n");
	printf("|---|---|---:|---:|---:|---:|\n");
	for (i = 0; i < NCELLS; i++) {
		double diff[ROUNDS_MAX];
		struct stat3 st, sa, d;
		char a[64], bb[64], cc[64];

		if (skip[i] || !alt_twin(b, i))
			continue;
		for (r = 0, faster = 0; r < o->rounds; r++) {
			diff[r] = alt[i][r] - ns[i][r];
			faster += alt[i][r] < ns[i][r];
		}
		st = summarise(ns[i], o->rounds);
		sa = summarise(alt[i], o->rounds);
		d = summarise(diff, o->rounds);
		fmt3(&st, a, sizeof(a), false);
		fmt3(&sa, bb, sizeof(bb), false);
		fmt3(&d, cc, sizeof(cc), true);
		printf("| %s | %s | %s | %s | %s | %u of %u |\n", frames[cells[i].frame].name,
		       verdict_name(&cells[i]), a, bb, cc, faster, o->rounds);
	}
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "rounds", required_argument, NULL, 'r' },
		{ "repeat", required_argument, NULL, 'n' },
		{ "entries", required_argument, NULL, 'e' },
		{ "xdp-filter", required_argument, NULL, 'x' },
		{ "alt", required_argument, NULL, 'a' },
		{ "seed", required_argument, NULL, 's' },
		{ "quick", no_argument, NULL, 'q' },
		{ "profile", required_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .rounds = ROUNDS_DEFAULT,
			  .repeat = REPEAT_DEFAULT,
			  .entries = ENTRIES_DEFAULT,
			  .seed = DEFAULT_SEED,
			  .profile = -1,
			  .profile_s = PROFILE_S };
	static struct bench b;
	struct synth syn = { 0 };
	static double ns[NCELLS][ROUNDS_MAX], alt_ns[NCELLS][ROUNDS_MAX];
	bool skip[NCELLS];
	unsigned long v;
	char *end;
	size_t i;
	unsigned int r;
	int c, err, cpu, failed = 0;
	double t0;

	while ((c = getopt_long(argc, argv, "vh", lo, NULL)) != -1) {
		errno = 0;
		switch (c) {
		case 'r':
			v = strtoul(optarg, &end, 0);
			if (errno || *end || v < 1 || v > ROUNDS_MAX)
				goto usage;
			o.rounds = (unsigned int)v;
			break;
		case 'n':
			v = strtoul(optarg, &end, 0);
			if (errno || *end || v < REPEAT_MIN || v > UINT32_MAX)
				goto usage;
			o.repeat = (__u32)v;
			break;
		case 'e':
			v = strtoul(optarg, &end, 0);
			if (errno || *end || v > ENTRIES_MAX)
				goto usage;
			o.entries = (__u32)v;
			break;
		case 'x':
			o.xdpf_path = optarg;
			break;
		case 'a':
			o.alt_path = optarg;
			break;
		case 's':
			v = strtoul(optarg, &end, 0);
			if (errno || *end || v > UINT32_MAX)
				goto usage;
			o.seed = (__u32)v;
			break;
		case 'q':
			o.rounds = QUICK_ROUNDS;
			o.entries = QUICK_ENTRIES;
			break;
		case 'p':
			v = strtoul(optarg, &end, 0);
			if (errno || *end || v >= NCELLS)
				goto usage;
			o.profile = (int)v;
			break;
		case 'v':
			o.verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			goto usage;
		}
	}
	if (optind != argc)
		goto usage;
	verbose = o.verbose;
	libbpf_set_print(libbpf_print);
	if (geteuid() != 0) {
		fprintf(stderr, "prog_cost: needs root (loads BPF programs)\n");
		return 1;
	}

	t0 = now_s();
	for (i = 0; i < F_MAX; i++) {
		int len = pb_build(&frames[i].spec, b.pkt[i], sizeof(b.pkt[i]));

		if (len <= 0) {
			fprintf(stderr, "prog_cost: building frame %s: %s\n", frames[i].name,
				strerror(-len));
			return 1;
		}
		b.pkt_len[i] = (__u32)len;
	}
	fprintf(stderr, "prog_cost: loading the enforcer with %u blocklist entries ...\n",
		o.entries);
	err = synth_make(&syn, o.entries, o.seed);
	if (err) {
		fprintf(stderr, "prog_cost: making %u entries: %s\n", o.entries, errstr(err));
		goto cleanup;
	}
	err = setup_enforcer(&b, &syn);
	if (err)
		goto cleanup;
	b.base = prog_cost_bpf__open_and_load();
	if (!b.base) {
		err = -errno;
		fprintf(stderr, "prog_cost: loading prog_cost.bpf.o: %s\n", errstr(err));
		goto cleanup;
	}
	b.prog_fd[P_BASE_DROP] = bpf_program__fd(b.base->progs.base_drop);
	b.prog_fd[P_BASE_PASS] = bpf_program__fd(b.base->progs.base_pass);
	b.prog_fd[P_PARSE] = bpf_program__fd(b.base->progs.parse_only);
	b.prog_fd[P_BWE] = bwe_dp_prog_fd(b.dp);
	b.prog_fd[P_TC_BASE] = bpf_program__fd(b.base->progs.base_tc);
	b.prog_fd[P_BWE_TC] = bwe_dp_tc_prog_fd(b.dp);
	setup_xdpf(&b, &o, &syn);
	if (o.alt_path && (err = setup_alt(&b, o.alt_path)))
		goto cleanup;
	b.load_s = now_s() - t0;
	err = check_cells(&b, skip);
	if (err)
		goto cleanup;
	for (i = 0; i < NCELLS; i++) {
		if (cells[i].prog == P_XDPF && skip[i] && b.xdpf) {
			snprintf(b.xdpf_why, sizeof(b.xdpf_why),
				 "%s did not give PASS for the clean peer and DROP for the listed one",
				 b.xdpf_file);
			bpf_object__close(b.xdpf);
			b.xdpf = NULL;
		}
	}
	for (i = 0; i < NCELLS; i++)
		skip[i] = skip[i] || (cells[i].prog == P_XDPF && !b.xdpf);

	cpu = pin_cpu();
	if (o.profile >= 0) {
		const struct cell_def *pc = &cells[o.profile];
		double until = now_s() + o.profile_s;
		__u32 ret, d;

		if (skip[o.profile]) {
			fprintf(stderr, "prog_cost: row %d is not measured here\n", o.profile);
			err = -ENOENT;
			goto cleanup;
		}
		fprintf(stderr, "prog_cost: %s on %s for %.0f s on CPU %d\n", prog_names[pc->prog],
			frames[pc->frame].name, o.profile_s, cpu);
		while (!err && now_s() < until)
			err = run(&b, pc->prog, pc->frame, o.repeat, &ret, &d);
		goto cleanup;
	}
	warm_up_cpu(WARMUP_S);
	for (i = 0; i < NCELLS; i++) { /* warm-up: JIT image, maps, caches */
		__u32 ret, d;

		if (!skip[i] &&
		    (err = run(&b, cells[i].prog, cells[i].frame, o.repeat / 10, &ret, &d)))
			goto cleanup;
		if (!skip[i] && alt_twin(&b, i) &&
		    (err = run(&b, P_ALT, cells[i].frame, o.repeat / 10, &ret, &d)))
			goto cleanup;
	}
	fprintf(stderr, "prog_cost: measuring, %u rounds on CPU %d ...\n", o.rounds, cpu);
	for (r = 0; r < o.rounds; r++) {
		for (i = 0; i < NCELLS; i++) {
			bool twin = alt_twin(&b, i);
			__u32 ret, d = 0, da = 0;

			if (skip[i])
				continue;
			err = twin && (r & 1) ? run(&b, P_ALT, cells[i].frame, o.repeat, &ret, &da)
					      : 0;
			err = err ?: run(&b, cells[i].prog, cells[i].frame, o.repeat, &ret, &d);
			if (!err && twin && !(r & 1))
				err = run(&b, P_ALT, cells[i].frame, o.repeat, &ret, &da);
			if (err) {
				fprintf(stderr, "prog_cost: test_run: %s\n", errstr(err));
				goto cleanup;
			}
			ns[i][r] = d;
			alt_ns[i][r] = da;
		}
	}

	print_report(&b, &o, ns, skip, now_s() - t0);
	if (b.alt)
		print_alt(&b, &o, ns, alt_ns, skip);
	fflush(stdout);
	for (i = 0; i < NCELLS; i++)
		if (skip[i])
			failed = 1;
	err = 0;
cleanup:
	free(syn.p);
	bpf_object__close(b.xdpf);
	bpf_object__close(b.alt);
	prog_cost_bpf__destroy(b.base);
	if (b.bl_ok)
		bwe_bl_free(&b.bl);
	bwe_dp_close(b.dp);
	return err || failed ? 1 : 0;
usage:
	usage(stderr);
	return 2;
}
