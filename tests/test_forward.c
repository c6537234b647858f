// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_forward.c - the XDP fast path (xdp/forward.bpf.h), driven through
 * bpf_prog_test_run_opts on frames from lib/pktbuild.c: which frames are
 * redirected and which are left to the stack (and under which counter),
 * what a redirected frame looks like (TTL or hop limit, IPv4 header
 * checksum, MACs of the FIB answer), that a fall-back leaves the frame
 * byte for byte as it came, that headers the kernel would refuse to forward
 * (checksum, length, martian source) are its, that every verdict is taken
 * before forwarding,
 * and that with fast_forward off nothing changes.
 *
 * bpf_fib_lookup() needs a routing table: the runner moves itself into a
 * network namespace of its own (unshare) and builds two veth pairs there,
 * a LAN and a WAN side, with routes and permanent neighbours. Nothing is
 * attached and no packet leaves the process: a test run only reports what
 * the program returned.
 *
 *   lan  ffl0 198.18.0.1/24 2001:db8:1::1/64   neighbour .10 / ::10
 *   wan  ffw0 203.0.113.1/24 2001:db8:2::1/64  neighbour .10 / ::10, MTU 1280
 *        unreachable 203.0.113.128/25; 203.0.113.20 has no neighbour
 *   internal 198.18.0.0/24, 2001:db8:1::/64; quarantined 198.18.0.66;
 *   blocklisted 203.0.113.66 (drop)
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "test_helpers.h"
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <net/if.h>
#include <linux/if_link.h>
#include <netinet/in.h>

#include "attach.h"
#include "bwe_util.h"
#include "blocklist.h"
#include "dataplane.h"
#include "netclass.h"
#include "pktbuild.h"

#define FEED_A	       2
#define WAN_MTU	       1280	      /* the IPv6 minimum, so one big frame tests both families */
#define BIG_PAYLOAD    1300	      /* UDP payload: the IP packet exceeds WAN_MTU */
#define TTL_OFF4       (ETH_HLEN + 8) /* IPv4 TTL byte in an untagged frame */
#define HLIM_OFF6      (ETH_HLEN + 7) /* IPv6 hop limit byte */
#define TCP_FLAGS_OFF4 (ETH_HLEN + 20 + 13) /* TCP flags byte after an option-less IPv4 header */
#define TCP_FIN_ACK    0x11 /* a connection's end: the stack's flowtable hook tears its entry down */

static const __u8 wan_mac[ETH_ALEN] = { 0x02, 0xb3, 0x00, 0x00, 0x0f, 0x01 };
static const __u8 lan_mac[ETH_ALEN] = { 0x02, 0xb3, 0x00, 0x00, 0x0e, 0x01 };
static const __u8 wan_peer_mac[ETH_ALEN] = { 0x02, 0xb3, 0x00, 0x00, 0x0f, 0x10 };
static const __u8 lan_host_mac[ETH_ALEN] = { 0x02, 0xb3, 0x00, 0x00, 0x0e, 0x10 };

static struct bwe_dp *dp;
static struct bwe_bl bl;
static __u32 lan_if, wan_if;

static const char *const netns_setup[] = {
	"ip link set lo up",
	"ip link add ffl0 address 02:b3:00:00:0e:01 type veth peer name ffl1",
	"ip link add ffw0 address 02:b3:00:00:0f:01 mtu 1280 type veth peer name ffw1",
	"ip link set ffw1 mtu 1280",
	"ip addr add 198.18.0.1/24 dev ffl0",
	"ip addr add 2001:db8:1::1/64 dev ffl0 nodad",
	"ip addr add 203.0.113.1/24 dev ffw0",
	"ip addr add 2001:db8:2::1/64 dev ffw0 nodad",
	"ip link set ffl0 up",
	"ip link set ffl1 up",
	"ip link set ffw0 up",
	"ip link set ffw1 up",
	"ip route add unreachable 203.0.113.128/25",
	"ip neigh replace 203.0.113.10 lladdr 02:b3:00:00:0f:10 nud permanent dev ffw0",
	"ip neigh replace 203.0.113.66 lladdr 02:b3:00:00:0f:10 nud permanent dev ffw0",
	"ip neigh replace 2001:db8:2::10 lladdr 02:b3:00:00:0f:10 nud permanent dev ffw0",
	"ip neigh replace 198.18.0.10 lladdr 02:b3:00:00:0e:10 nud permanent dev ffl0",
	"ip neigh replace 198.18.0.66 lladdr 02:b3:00:00:0e:10 nud permanent dev ffl0",
	"ip neigh replace 2001:db8:1::10 lladdr 02:b3:00:00:0e:10 nud permanent dev ffl0",
};

static void write_sysctl(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, val, strlen(val)), (ssize_t)strlen(val));
	close(fd);
}

/* The counter entries the tests give the two interfaces (bwe_iface_val.fwd_stats):
 * neither 0 nor their ifindex, so that counting at any other entry (the
 * ifindex, the first) shows in the deltas read at these. */
#define LAN_STATS 5
#define WAN_STATS 9

static __u16 stats_of(__u32 ifindex)
{
	return ifindex == lan_if ? LAN_STATS : WAN_STATS;
}

static void iface_set(__u32 ifindex, __u32 flags, __u8 fwd)
{
	struct bwe_iface_val v = { .flags = flags, .fwd = fwd, .fwd_stats = stats_of(ifindex) };

	assert_int_equal(bpf_map_update_elem(bwe_dp_map_fd(dp, BWE_MAP_IFACES), &ifindex, &v,
					     BPF_ANY),
			 0);
}

static void devmap_set(__u32 ifindex, int on)
{
	assert_int_equal(bwe_dp_fwd_dev_set(dp, ifindex, on), 0);
}

static void cfg_flags(__u32 set, __u32 clear)
{
	struct bwe_config cfg;

	assert_int_equal(bwe_dp_config_get(dp, &cfg), 0);
	cfg.flags = (cfg.flags & ~clear) | set;
	assert_int_equal(bwe_dp_config_set(dp, &cfg), 0);
}

static int setup(void **state)
{
	struct bwe_dp_opts opts = { 0 };
	struct bwe_config cfg = { .event_dedup_ns = 1000000000ULL, .flags = BWE_CFG_FWD };
	struct bwe_ncset s;
	struct bwe_prefix p;
	size_t i;

	(void)state;
	if (unshare(CLONE_NEWNET)) {
		fprintf(stderr, "unshare(CLONE_NEWNET): %s (are you root?)\n", strerror(errno));
		return -1;
	}
	for (i = 0; i < ARRAY_SIZE(netns_setup); i++) {
		char cmd[256];

		snprintf(cmd, sizeof(cmd), "%s >/dev/null 2>&1", netns_setup[i]);
		if (system(cmd)) {
			fprintf(stderr, "netns setup failed: %s\n", netns_setup[i]);
			return -1;
		}
	}
	write_sysctl("/proc/sys/net/ipv4/ip_forward", "1");
	write_sysctl("/proc/sys/net/ipv6/conf/all/forwarding", "1");
	lan_if = if_nametoindex("ffl0");
	wan_if = if_nametoindex("ffw0");
	assert_true(lan_if && wan_if);

	libbpf_set_print(NULL);
	if (bwe_dp_open(&dp, &opts)) {
		fprintf(stderr, "bwe_dp_open failed (are you root?)\n");
		return -1;
	}
	assert_int_equal(bwe_dp_config_set(dp, &cfg), 0);
	bwe_ncset_init(&s);
	p = pfx("198.18.0.0/24");
	assert_int_equal(bwe_ncset_add(&s, &p, BWE_NC_INTERNAL), 0);
	p = pfx("2001:db8:1::/64");
	assert_int_equal(bwe_ncset_add(&s, &p, BWE_NC_INTERNAL), 0);
	p = pfx("198.18.0.66/32");
	assert_int_equal(bwe_ncset_add(&s, &p, BWE_NC_QUARANTINE), 0);
	assert_int_equal(bwe_dp_netclass_apply(dp, &s), 0);
	bwe_ncset_free(&s);
	assert_int_equal(bwe_bl_init(&bl, dp), 0);
	p = pfx("203.0.113.66/32");
	assert_int_equal(bwe_bl_set(&bl, &p, bwe_ref(FEED_A, 0)), 0);
	assert_int_equal(bwe_bl_flush(&bl), 0);

	iface_set(lan_if, 0, BWE_FWD_FIB);
	iface_set(wan_if, 0, BWE_FWD_FIB);
	devmap_set(lan_if, 1);
	devmap_set(wan_if, 1);
	assert_int_equal(bwe_dp_fwd_stats_zero(dp, LAN_STATS), 0);
	assert_int_equal(bwe_dp_fwd_stats_zero(dp, WAN_STATS), 0);
	assert_int_equal(bwe_dp_fwd_stats_zero(dp, BWE_FWD_STATS_MAX), -ENOENT);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	bwe_bl_free(&bl);
	bwe_dp_close(dp);
	return 0; /* the namespace and its links go with the process */
}

/* RFC 1071 sum over an IPv4 header: 0 when its checksum is right. */
static __u16 ip4_fold(const __u8 *h, size_t n)
{
	__u32 sum = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (__u32)(h[i] << 8 | h[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

struct run {
	int action;
	__u8 in[BWE_PKT_MAX], out[BWE_PKT_MAX];
	__u32 len, out_len;
};

/* Build s, let patch change one byte (offset, value) if off > 0, run it arriving on ifindex. */
static void run_on(const struct pb_spec *s, __u32 ifindex, int off, __u8 val, struct run *r)
{
	struct xdp_md ctx = { .ingress_ifindex = ifindex };
	int len = pb_build(s, r->in, sizeof(r->in));
	LIBBPF_OPTS(bpf_test_run_opts, topts, .data_in = r->in, .data_out = r->out,
		    .data_size_out = sizeof(r->out), .ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
		    .repeat = 1);

	assert_true(len > 0);
	if (off > 0)
		r->in[off] = val;
	if (off == TTL_OFF4) { /* a sender writes the checksum of what it sends */
		struct iphdr *ip = (struct iphdr *)(r->in + ETH_HLEN);

		ip->check = 0;
		ip->check = htons(ip4_fold(r->in + ETH_HLEN, sizeof(*ip)));
	}
	r->len = (__u32)len;
	topts.data_size_in = r->len;
	ctx.data_end = r->len;
	assert_int_equal(bpf_prog_test_run_opts(bwe_dp_prog_fd(dp), &topts), 0);
	r->action = (int)topts.retval;
	r->out_len = topts.data_size_out;
}

static void fwd_read(__u32 ifindex, struct bwe_fwd_stats *st)
{
	assert_int_equal(bwe_dp_fwd_stats_read(dp, stats_of(ifindex), st), 0);
}

/* Exactly one packet of len bytes more under counter `what`, nothing elsewhere. */
static void expect_fwd_delta(const char *name, const struct bwe_fwd_stats *a,
			     const struct bwe_fwd_stats *b, int what, __u32 len)
{
	int k;

	for (k = 0; k < BWE_FWD_MAX; k++) {
		__u64 dp_ = b->c[k].packets - a->c[k].packets;
		__u64 db = b->c[k].bytes - a->c[k].bytes;

		if (dp_ != (k == what ? 1u : 0u) || db != (k == what ? len : 0u)) {
			fprintf(stderr, "%s: counter %s +%llu packets +%llu bytes\n", name,
				bwe_fwd_stat_name((unsigned int)k), (unsigned long long)dp_,
				(unsigned long long)db);
			fail();
		}
	}
}

#define NONE (-1) /* no fast-forward counter moves */

struct fwd_case {
	const char *name;
	struct pb_spec spec;
	int lan_in; /* arrives on the LAN side, else the WAN side */
	int patch;  /* byte offset to overwrite (TTL / hop limit), 0 none */
	__u8 val;
	int action; /* XDP_REDIRECT / XDP_PASS / XDP_DROP */
	int what;   /* enum bwe_fwd_stat counted, NONE */
};

#define TCP(s, d) \
	.src = s, .dst = d, .proto = IPPROTO_TCP, .sport = 40000, .dport = 443, .payload = 64
#define UDP(s, d) \
	.src = s, .dst = d, .proto = IPPROTO_UDP, .sport = 40000, .dport = 53, .payload = 32

static const struct fwd_case cases[] = {
	{ "v4 out tcp", { TCP("198.18.0.10", "203.0.113.10") }, 1, 0, 0, XDP_REDIRECT, BWE_FWD_FAST },
	{ "v4 out udp", { UDP("198.18.0.10", "203.0.113.10") }, 1, 0, 0, XDP_REDIRECT, BWE_FWD_FAST },
	{ "v4 out icmp",
	  { .src = "198.18.0.10", .dst = "203.0.113.10", .payload = 56 },
	  1,
	  0,
	  0,
	  XDP_REDIRECT,
	  BWE_FWD_FAST },
	{ "v4 in tcp", { TCP("203.0.113.10", "198.18.0.10") }, 0, 0, 0, XDP_REDIRECT, BWE_FWD_FAST },
	{ "v6 out udp",
	  { UDP("2001:db8:1::10", "2001:db8:2::10") },
	  1,
	  0,
	  0,
	  XDP_REDIRECT,
	  BWE_FWD_FAST },
	{ "v6 in tcp",
	  { TCP("2001:db8:2::10", "2001:db8:1::10") },
	  0,
	  0,
	  0,
	  XDP_REDIRECT,
	  BWE_FWD_FAST },
	{ "v4 ttl 1",
	  { TCP("198.18.0.10", "203.0.113.10") },
	  1,
	  TTL_OFF4,
	  1,
	  XDP_PASS,
	  BWE_FWD_S_TTL },
	{ "v4 ttl 0",
	  { TCP("198.18.0.10", "203.0.113.10") },
	  1,
	  TTL_OFF4,
	  0,
	  XDP_PASS,
	  BWE_FWD_S_TTL },
	{ "v4 ttl 2",
	  { TCP("198.18.0.10", "203.0.113.10") },
	  1,
	  TTL_OFF4,
	  2,
	  XDP_REDIRECT,
	  BWE_FWD_FAST },
	{ "v6 hop limit 1",
	  { UDP("2001:db8:1::10", "2001:db8:2::10") },
	  1,
	  HLIM_OFF6,
	  1,
	  XDP_PASS,
	  BWE_FWD_S_TTL },
	{ "v4 options",
	  { TCP("198.18.0.10", "203.0.113.10"), .ipv4_optlen = 4 },
	  1,
	  0,
	  0,
	  XDP_PASS,
	  BWE_FWD_S_OPTIONS },
	{ "v4 first fragment",
	  { UDP("198.18.0.10", "203.0.113.10"), .more_fragments = 1 },
	  1,
	  0,
	  0,
	  XDP_PASS,
	  BWE_FWD_S_FRAGMENT },
	{ "v4 later fragment",
	  { UDP("198.18.0.10", "203.0.113.10"), .frag_offset = 100 },
	  1,
	  0,
	  0,
	  XDP_PASS,
	  BWE_FWD_S_FRAGMENT },
	{ "v6 hop-by-hop",
	  { UDP("2001:db8:1::10", "2001:db8:2::10"), .nv6ext = 1, .v6ext = { PB_EXT_HOP } },
	  1,
	  0,
	  0,
	  XDP_PASS,
	  BWE_FWD_S_OPTIONS },
	{ "v6 fragment",
	  { UDP("2001:db8:1::10", "2001:db8:2::10"), .more_fragments = 1 },
	  1,
	  0,
	  0,
	  XDP_PASS,
	  BWE_FWD_S_FRAGMENT },
	{ "v4 vlan tagged",
	  { TCP("198.18.0.10", "203.0.113.10"), .nvlan = 1, .vlan_id = { 10 } },
	  1,
	  0,
	  0,
	  XDP_PASS,
	  BWE_FWD_S_ENCAP },
	{ "v4 pppoe",
	  { TCP("198.18.0.10", "203.0.113.10"), .pppoe = 1, .pppoe_sid = 7 },
	  1,
	  0,
	  0,
	  XDP_PASS,
	  BWE_FWD_S_ENCAP },
	{ "v4 no neighbour",
	  { TCP("198.18.0.10", "203.0.113.20") },
	  1,
	  0,
	  0,
	  XDP_PASS,
	  BWE_FWD_S_NO_NEIGH },
	{ "v4 to the gateway",
	  { TCP("203.0.113.10", "203.0.113.1") },
	  0,
	  0,
	  0,
	  XDP_PASS,
	  BWE_FWD_S_LOCAL },
	{ "v4 unreachable",
	  { TCP("198.18.0.10", "203.0.113.200") },
	  1,
	  0,
	  0,
	  XDP_PASS,
	  BWE_FWD_S_NO_ROUTE },
	{ "v4 over the egress mtu",
	  { .src = "198.18.0.10",
	    .dst = "203.0.113.10",
	    .proto = IPPROTO_UDP,
	    .sport = 1,
	    .dport = 2,
	    .payload = BIG_PAYLOAD },
	  1,
	  0,
	  0,
	  XDP_PASS,
	  BWE_FWD_S_MTU },
	{ "v6 over the egress mtu",
	  { .src = "2001:db8:1::10",
	    .dst = "2001:db8:2::10",
	    .proto = IPPROTO_UDP,
	    .sport = 1,
	    .dport = 2,
	    .payload = BIG_PAYLOAD },
	  1,
	  0,
	  0,
	  XDP_PASS,
	  BWE_FWD_S_MTU },
	{ "v4 blocklisted peer", { TCP("198.18.0.10", "203.0.113.66") }, 1, 0, 0, XDP_DROP, NONE },
	{ "v4 blocklisted peer inbound",
	  { TCP("203.0.113.66", "198.18.0.10") },
	  0,
	  0,
	  0,
	  XDP_DROP,
	  NONE },
	{ "v4 quarantined host", { TCP("198.18.0.66", "203.0.113.10") }, 1, 0, 0, XDP_DROP, NONE },
	{ "non-ip", { .ethertype = ETH_P_ARP, .payload = 28 }, 1, 0, 0, XDP_PASS, NONE },
};

static void test_cases(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct fwd_case *c = &cases[i];
		__u32 in_if = c->lan_in ? lan_if : wan_if;
		struct bwe_fwd_stats a, b;
		struct bwe_counter sa[BWE_STATS_MAX], sb[BWE_STATS_MAX];
		__u64 judged = 0;
		struct run r;
		int k;

		fwd_read(in_if, &a);
		assert_int_equal(bwe_dp_stats_read(dp, sa), 0);
		run_on(&c->spec, in_if, c->patch, c->val, &r);
		if (r.action != c->action) {
			fprintf(stderr, "%s: action %d, want %d\n", c->name, r.action, c->action);
			fail();
		}
		fwd_read(in_if, &b);
		expect_fwd_delta(c->name, &a, &b, c->what, r.len);
		/* judged and counted once under one verdict, whatever became of it */
		assert_int_equal(bwe_dp_stats_read(dp, sb), 0);
		for (k = 0; k < BWE_R_MAX; k++)
			judged += sb[k].packets - sa[k].packets;
		assert_int_equal(judged, 1);
		/* a fall-back or a drop leaves the frame as it came */
		if (c->action != XDP_REDIRECT) {
			assert_int_equal(r.out_len, r.len);
			assert_memory_equal(r.out, r.in, r.len);
		}
	}
}

/* What a redirected frame looks like: next hop's MAC, ours, TTL - 1, valid checksum. */
static void test_rewrite(void **state)
{
	struct pb_spec v4 = { TCP("198.18.0.10", "203.0.113.10") };
	struct pb_spec v4in = { TCP("203.0.113.10", "198.18.0.10") };
	struct pb_spec v6 = { UDP("2001:db8:1::10", "2001:db8:2::10") };
	struct iphdr *ip;
	struct ipv6hdr *ip6;
	struct run r;
	int ttl;

	(void)state;
	/* TTLs across the range, each with a header checksum a sender made */
	for (ttl = 2; ttl <= 255; ttl += 51) {
		__u8 frame[BWE_PKT_MAX];
		struct xdp_md ctx = { .ingress_ifindex = lan_if };
		int len = pb_build(&v4, frame, sizeof(frame));
		struct iphdr *fi = (struct iphdr *)(frame + ETH_HLEN);
		LIBBPF_OPTS(bpf_test_run_opts, topts, .data_in = frame, .data_out = r.out,
			    .data_size_out = sizeof(r.out), .ctx_in = &ctx,
			    .ctx_size_in = sizeof(ctx), .repeat = 1);

		assert_true(len > 0);
		fi->ttl = (__u8)ttl;
		fi->check = 0;
		fi->check = htons(ip4_fold(frame + ETH_HLEN, sizeof(*fi)));
		topts.data_size_in = (__u32)len;
		ctx.data_end = (__u32)len;
		assert_int_equal(bpf_prog_test_run_opts(bwe_dp_prog_fd(dp), &topts), 0);
		assert_int_equal(topts.retval, XDP_REDIRECT);
		ip = (struct iphdr *)(r.out + ETH_HLEN);
		assert_int_equal(ip->ttl, ttl - 1);
		assert_int_equal(ip4_fold(r.out + ETH_HLEN, sizeof(*ip)), 0);
		assert_memory_equal(r.out, wan_peer_mac, ETH_ALEN);
		assert_memory_equal(r.out + ETH_ALEN, wan_mac, ETH_ALEN);
		/* nothing else changed: addresses, ports, payload */
		assert_memory_equal(r.out + ETH_HLEN + 12, frame + ETH_HLEN + 12,
				    (size_t)len - ETH_HLEN - 12);
	}

	run_on(&v4in, wan_if, 0, 0, &r);
	assert_int_equal(r.action, XDP_REDIRECT);
	ip = (struct iphdr *)(r.out + ETH_HLEN);
	assert_int_equal(ip->ttl, 63);
	assert_int_equal(ip4_fold(r.out + ETH_HLEN, sizeof(*ip)), 0);
	assert_memory_equal(r.out, lan_host_mac, ETH_ALEN);
	assert_memory_equal(r.out + ETH_ALEN, lan_mac, ETH_ALEN);

	run_on(&v6, lan_if, 0, 0, &r);
	assert_int_equal(r.action, XDP_REDIRECT);
	ip6 = (struct ipv6hdr *)(r.out + ETH_HLEN);
	assert_int_equal(ip6->hop_limit, 63);
	assert_memory_equal(r.out, wan_peer_mac, ETH_ALEN);
	assert_memory_equal(r.out + ETH_ALEN, wan_mac, ETH_ALEN);
	assert_memory_equal(r.out + ETH_HLEN + 8, r.in + ETH_HLEN + 8, r.len - ETH_HLEN - 8);
}

/* An egress outside the devmap, NAT on either side, fast_forward off: the stack's. */
static void test_fallbacks(void **state)
{
	struct pb_spec v4 = { TCP("198.18.0.10", "203.0.113.10") };
	struct pb_spec v4in = { TCP("203.0.113.10", "198.18.0.10") };
	struct pb_spec v6 = { UDP("2001:db8:1::10", "2001:db8:2::10") };
	struct bwe_fwd_stats a, b;
	struct run r;

	(void)state;
	/* egress not in the devmap: not attached, or cannot transmit XDP frames */
	devmap_set(wan_if, 0);
	fwd_read(lan_if, &a);
	run_on(&v4, lan_if, 0, 0, &r);
	assert_int_equal(r.action, XDP_PASS);
	assert_memory_equal(r.out, r.in, r.len);
	fwd_read(lan_if, &b);
	expect_fwd_delta("egress outside the devmap", &a, &b, BWE_FWD_S_EGRESS, r.len);
	devmap_set(wan_if, 1);

	/* the WAN translates IPv4: v4 out leaves through it, v4 in needs reversing;
	 * IPv6 is not translated and still takes the fast path */
	iface_set(wan_if, BWE_IF_NAT4, BWE_FWD_FIB);
	cfg_flags(BWE_CFG_NAT4, 0);
	fwd_read(lan_if, &a);
	run_on(&v4, lan_if, 0, 0, &r);
	assert_int_equal(r.action, XDP_PASS);
	assert_memory_equal(r.out, r.in, r.len);
	fwd_read(lan_if, &b);
	expect_fwd_delta("v4 out through a NAT interface", &a, &b, BWE_FWD_S_NAT, r.len);
	run_on(&v6, lan_if, 0, 0, &r);
	assert_int_equal(r.action, XDP_REDIRECT);
	/* inbound v4 on the translating side is deferred to the TC egress program:
	 * never even reaches the fast path */
	fwd_read(wan_if, &a);
	run_on(&v4in, wan_if, 0, 0, &r);
	assert_int_equal(r.action, XDP_PASS);
	fwd_read(wan_if, &b);
	expect_fwd_delta("v4 in on a NAT interface", &a, &b, NONE, 0);
	iface_set(wan_if, 0, BWE_FWD_FIB);
	cfg_flags(0, BWE_CFG_NAT4);

	/* the ingress interface does not fast-forward: nothing counted, frame intact */
	iface_set(lan_if, 0, BWE_FWD_OFF);
	fwd_read(lan_if, &a);
	run_on(&v4, lan_if, 0, 0, &r);
	assert_int_equal(r.action, XDP_PASS);
	assert_memory_equal(r.out, r.in, r.len);
	fwd_read(lan_if, &b);
	expect_fwd_delta("fast_forward off on ingress", &a, &b, NONE, 0);
	iface_set(lan_if, 0, BWE_FWD_FIB);

	/* no interface fast-forwards (BWE_CFG_FWD clear): as before the feature */
	cfg_flags(0, BWE_CFG_FWD);
	fwd_read(lan_if, &a);
	run_on(&v4, lan_if, 0, 0, &r);
	assert_int_equal(r.action, XDP_PASS);
	assert_memory_equal(r.out, r.in, r.len);
	fwd_read(lan_if, &b);
	expect_fwd_delta("BWE_CFG_FWD clear", &a, &b, NONE, 0);
	cfg_flags(BWE_CFG_FWD, 0);

	/* pruning keeps what the daemon holds: wan0 out of the devmap, then back;
	 * a frame counts in its ingress's entry only, and zeroing takes one entry back to 0 */
	{
		__u32 keep = lan_if;
		struct bwe_fwd_stats st, w0, w1;
		int k;

		assert_int_equal(bwe_dp_fwd_prune(dp, &keep, 1), 0);
		assert_int_equal(bwe_dp_fwd_stats_read(dp, BWE_FWD_STATS_MAX, &st), -ENOENT);
		fwd_read(lan_if, &a);
		fwd_read(wan_if, &w0);
		run_on(&v4, lan_if, 0, 0, &r);
		assert_int_equal(r.action, XDP_PASS);
		fwd_read(lan_if, &b);
		fwd_read(wan_if, &w1);
		expect_fwd_delta("egress pruned", &a, &b, BWE_FWD_S_EGRESS, r.len);
		expect_fwd_delta("egress pruned, the egress's entry", &w0, &w1, NONE, 0);
		devmap_set(wan_if, 1);
		run_on(&v4, lan_if, 0, 0, &r);
		assert_int_equal(r.action, XDP_REDIRECT);
		assert_int_equal(bwe_dp_fwd_stats_zero(dp, LAN_STATS), 0);
		fwd_read(lan_if, &st);
		for (k = 0; k < BWE_FWD_MAX; k++)
			assert_true(st.c[k].packets == 0 && st.c[k].bytes == 0);
		fwd_read(wan_if, &w0);
		assert_memory_equal(&w0, &w1, sizeof(w0));
	}

	/* forwarding switched off in the kernel: the stack's (it will not forward) */
	write_sysctl("/proc/sys/net/ipv4/conf/ffl0/forwarding", "0");
	fwd_read(lan_if, &a);
	run_on(&v4, lan_if, 0, 0, &r);
	assert_int_equal(r.action, XDP_PASS);
	fwd_read(lan_if, &b);
	expect_fwd_delta("forwarding off on ingress", &a, &b, BWE_FWD_S_LOCAL, r.len);
	write_sysctl("/proc/sys/net/ipv4/conf/ffl0/forwarding", "1");
}

/* Build s, let mutate() change it, run it on the LAN side: the stack's, under "header". */
static void expect_header(const char *name, const struct pb_spec *sp,
			  void (*mutate)(__u8 *frame, int len))
{
	__u8 frame[BWE_PKT_MAX], out[BWE_PKT_MAX];
	struct xdp_md ctx = { .ingress_ifindex = lan_if };
	struct bwe_fwd_stats a, b;
	int len = pb_build(sp, frame, sizeof(frame));
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = frame, .data_out = out,
		    .data_size_out = sizeof(out), .ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
		    .repeat = 1);

	assert_true(len > 0);
	if (mutate)
		mutate(frame, len);
	t.data_size_in = (__u32)len;
	ctx.data_end = (__u32)len;
	fwd_read(lan_if, &a);
	assert_int_equal(bpf_prog_test_run_opts(bwe_dp_prog_fd(dp), &t), 0);
	if (t.retval != XDP_PASS) {
		fprintf(stderr, "%s: action %u, want XDP_PASS\n", name, t.retval);
		fail();
	}
	assert_memory_equal(out, frame, (size_t)len);
	fwd_read(lan_if, &b);
	expect_fwd_delta(name, &a, &b, BWE_FWD_S_HEADER, (__u32)len);
}

static void bad_v4_checksum(__u8 *f, int len)
{
	(void)len;
	f[ETH_HLEN + 10] ^= 0x5a;
}

static void v4_longer_than_frame(__u8 *f, int len)
{
	struct iphdr *ip = (struct iphdr *)(f + ETH_HLEN);

	ip->tot_len = htons((__u16)(len - ETH_HLEN + 1));
	ip->check = 0;
	ip->check = htons(ip4_fold(f + ETH_HLEN, sizeof(*ip)));
}

static void v6_longer_than_frame(__u8 *f, int len)
{
	struct ipv6hdr *ip6 = (struct ipv6hdr *)(f + ETH_HLEN);

	ip6->payload_len = htons((__u16)(len - ETH_HLEN - (int)sizeof(*ip6) + 1));
}

/* What the kernel would refuse to forward, it gets to refuse. */
static void test_headers(void **state)
{
	struct pb_spec v4 = { TCP("198.18.0.10", "203.0.113.10") };
	struct pb_spec v6 = { UDP("2001:db8:1::10", "2001:db8:2::10") };
	static const char *const martians4[] = { "127.0.0.1", "0.0.0.5", "224.0.0.9", "240.0.0.1" };
	static const char *const martians6[] = { "fe80::1", "ff02::1", "::1", "::" };
	size_t i;

	(void)state;
	expect_header("v4 bad header checksum", &v4, bad_v4_checksum);
	expect_header("v4 length past the frame", &v4, v4_longer_than_frame);
	expect_header("v6 length past the frame", &v6, v6_longer_than_frame);
	for (i = 0; i < ARRAY_SIZE(martians4); i++) {
		struct pb_spec m = { TCP(martians4[i], "203.0.113.10") };

		expect_header(martians4[i], &m, NULL);
	}
	for (i = 0; i < ARRAY_SIZE(martians6); i++) {
		struct pb_spec m = { UDP(martians6[i], "2001:db8:2::10") };

		expect_header(martians6[i], &m, NULL);
	}
}

/* Monitor-only mode: a would-drop passes, and may be fast-forwarded. */
static void test_dryrun(void **state)
{
	struct pb_spec v4 = { TCP("198.18.0.10", "203.0.113.66") };
	struct run r;

	(void)state;
	cfg_flags(BWE_CFG_DRYRUN, 0);
	run_on(&v4, lan_if, 0, 0, &r);
	assert_int_equal(r.action, XDP_REDIRECT);
	cfg_flags(0, BWE_CFG_DRYRUN);
	run_on(&v4, lan_if, 0, 0, &r);
	assert_int_equal(r.action, XDP_DROP);
}

/*
 * fast_forward flowtable without an entry: the namespace has no nftables
 * flowtable, so whether or not the kernel has bpf_xdp_flow_lookup (this
 * machine's does not, Debian 12's 6.12 in tests/e2e_kernels.sh does), every
 * TCP/UDP packet goes to the stack unchanged as no_flow, and so do ICMP and
 * a TCP FIN (here they cannot be told from a packet without an entry: that
 * a flowtable entry never takes them is the code's, flow_translate()). A
 * reply on a translating interface stays deferred to the TC egress program
 * (NAT_DEFERRED). The fib checks before the lookup still count under their
 * own reasons. (tests/e2e_flowtable.sh forwards through real entries.)
 */
static void test_flowtable_no_entry(void **state)
{
	struct pb_spec tcp = { TCP("198.18.0.10", "203.0.113.10") };
	struct pb_spec udp6 = { UDP("2001:db8:1::10", "2001:db8:2::10") };
	struct pb_spec icmp = { .src = "198.18.0.10", .dst = "203.0.113.10", .payload = 56 };
	struct pb_spec v4in = { TCP("203.0.113.10", "198.18.0.10") };
	const struct {
		const struct pb_spec *spec;
		int off; /* a byte to overwrite, 0 none */
		__u8 val;
		int what;
	} rows[] = {
		{ &tcp, 0, 0, BWE_FWD_S_NO_FLOW },
		{ &udp6, 0, 0, BWE_FWD_S_NO_FLOW },
		{ &icmp, 0, 0, BWE_FWD_S_NO_FLOW },
		{ &tcp, TCP_FLAGS_OFF4, TCP_FIN_ACK, BWE_FWD_S_NO_FLOW },
		{ &tcp, TTL_OFF4, 1, BWE_FWD_S_TTL },
	};
	struct bwe_counter sa[BWE_STATS_MAX], sb[BWE_STATS_MAX];
	struct bwe_fwd_stats a, b;
	struct run r;
	size_t i;

	(void)state;
	iface_set(lan_if, 0, BWE_FWD_FLOWTABLE);
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		fwd_read(lan_if, &a);
		run_on(rows[i].spec, lan_if, rows[i].off, rows[i].val, &r);
		assert_int_equal(r.action, XDP_PASS);
		assert_memory_equal(r.out, r.in, r.len);
		fwd_read(lan_if, &b);
		expect_fwd_delta("flowtable mode, no entry", &a, &b, rows[i].what, r.len);
	}
	/* the quarantined host is dropped before any fast path */
	tcp.src = "198.18.0.66";
	run_on(&tcp, lan_if, 0, 0, &r);
	assert_int_equal(r.action, XDP_DROP);
	/* what tests/e2e_kernels.sh checks against the guest kernel's version */
	print_message("%s %s: the flowtable path %s\n", BWE_FT_KFUNC,
		      dp->flowtable ? "present" : "absent",
		      dp->flowtable ? "loads" : "is left out");
	iface_set(lan_if, 0, BWE_FWD_FIB);

	/* a reply to reverse-translate, on a flowtable interface: no entry, deferred */
	iface_set(wan_if, BWE_IF_NAT4, BWE_FWD_FLOWTABLE);
	cfg_flags(BWE_CFG_NAT4, 0);
	fwd_read(wan_if, &a);
	assert_int_equal(bwe_dp_stats_read(dp, sa), 0);
	run_on(&v4in, wan_if, 0, 0, &r);
	assert_int_equal(r.action, XDP_PASS);
	assert_memory_equal(r.out, r.in, r.len);
	fwd_read(wan_if, &b);
	assert_int_equal(bwe_dp_stats_read(dp, sb), 0);
	expect_fwd_delta("a reply without an entry", &a, &b,
			 dp->flowtable ? BWE_FWD_S_NO_FLOW : NONE, dp->flowtable ? r.len : 0);
	assert_int_equal(sb[BWE_A_NAT_DEFERRED].packets - sa[BWE_A_NAT_DEFERRED].packets, 1);
	assert_int_equal(sb[BWE_A_NAT_DEFERRED].bytes - sa[BWE_A_NAT_DEFERRED].bytes, r.len);
	iface_set(wan_if, 0, BWE_FWD_FIB);
	cfg_flags(0, BWE_CFG_NAT4);
}

/*
 * The object with the flowtable's path is tried even where the probe would
 * not (opts.flowtable_try): where the kernel lacks the kfunc it does not
 * load, and bwe_dp_open() loads the object without it. Either way the data
 * plane opens, with the flowtable path exactly where the kernel has it.
 */
static void test_flowtable_fallback(void **state)
{
	struct bwe_dp_opts opts = { .flowtable_try = true };
	struct bwe_dp *other = NULL;

	(void)state;
	if (getenv("BWE_TEST_GUEST")) {
		/* tests/e2e_kernels.sh: two more loads of the object would take
		 * a minute under emulation; this machine's run covers it */
		skip();
	}
	assert_int_equal(bwe_dp_open(&other, &opts), 0);
	assert_int_equal(other->flowtable, dp->flowtable);
	/* the first load did fail where the kernel lacks the kfunc, and only there */
	assert_int_equal(other->flowtable_failed, !dp->flowtable);
	assert_false(dp->flowtable_failed);
	bwe_dp_close(other);
}

/* bwctld's question to the kernel: can this veth transmit redirected frames? */
static void test_can_xmit(void **state)
{
	__u32 peer = if_nametoindex("ffl1");

	(void)state;
	assert_true(peer);
	if (bwe_xdp_can_xmit((int)lan_if) == -ENOENT) {
		/* a kernel before 6.3 (Debian 12's 6.1, tests/e2e_kernels.sh)
		 * cannot say, whatever the peer runs: bwctld trusts the egress */
		assert_int_equal(bpf_xdp_attach((int)peer, bwe_dp_prog_fd(dp), XDP_FLAGS_DRV_MODE,
						NULL),
				 0);
		assert_int_equal(bwe_xdp_can_xmit((int)lan_if), -ENOENT);
		assert_int_equal(bpf_xdp_detach((int)peer, XDP_FLAGS_DRV_MODE, NULL), 0);
		print_message("no netdev generic netlink family here (a kernel before 6.3)\n");
		return;
	}
	/* a veth can while its peer runs an XDP program (or has GRO on) */
	assert_int_equal(bwe_xdp_can_xmit((int)lan_if), 0);
	assert_int_equal(bpf_xdp_attach((int)peer, bwe_dp_prog_fd(dp), XDP_FLAGS_DRV_MODE, NULL),
			 0);
	assert_int_equal(bwe_xdp_can_xmit((int)lan_if), 1);
	assert_int_equal(bpf_xdp_detach((int)peer, XDP_FLAGS_DRV_MODE, NULL), 0);
	assert_int_equal(bwe_xdp_can_xmit((int)lan_if), 0);
	assert_true(bwe_xdp_can_xmit(0x7ffffff0) < 0); /* no such device */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_rewrite),
		cmocka_unit_test(test_fallbacks),
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_dryrun),
		cmocka_unit_test(test_can_xmit),
		cmocka_unit_test(test_flowtable_no_entry),
		cmocka_unit_test(test_flowtable_fallback),
	};

	return cmocka_run_group_tests_name("xdp fast-forward", tests, setup, teardown);
}
