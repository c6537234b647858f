// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fwd_frames.c - the forwarding tier: how many packets per second a gateway
 * forwards with the kernel alone, through the enforcer (fast_forward off),
 * and through the enforcer's XDP fast path (fast_forward fib), in one run.
 * bench/fwd_frames.sh builds the three namespaces and calls this program;
 * run it through that script.
 *
 *   generator ns           gateway ns (ip_forward=1)             receiver ns
 *   fwd_tx (XDP_TX) ─veth─ gi 198.18.0.1/16 | go 198.51.100.1/24 ─veth─ gr sink
 *                           route 203.0.113.0/24 via 198.51.100.2 (a permanent neighbour: gr)
 *   (fwd_tx in its loop, bench/gen_loop.bpf.h, where live frames are refused)
 *
 * Frames: 60-byte IPv4 UDP from 1,024 internal hosts (198.18.0.0/22) to
 * 256 peers (203.0.113.0/24), written by bench/fwd_gen.bpf.c with live
 * frames, or in its loop where the kernel refuses them (then the loop runs in
 * this CPU's softirqs, mostly in ksoftirqd, while this thread sleeps). Rows,
 * interleaved in every round:
 *   baseline the counting sink on gi itself: generator and one veth hop,
 *            subtracted from the others for the gateway's own cost;
 *   kernel   a bare XDP_PASS on gi (a veth needs a program to take XDP_TX
 *            frames), the kernel's stack forwards;
 *   minimal  bench/fwd_gen.bpf.c's fwd_fib: forwarding in XDP with nothing
 *            else, the ceiling of any XDP forwarder here;
 *   enforcer build/bwe.bpf.o on gi (internal 198.18.0.0/16, 100,000 listed
 *            hosts elsewhere), fast_forward off: judged, then the stack;
 *   fast     the same program and maps with BWE_CFG_FWD set and gi's
 *            bwe_ifaces entry in fib mode: judged, then bpf_fib_lookup and a
 *            redirect into bwe_fwd_dev (which holds go).
 * What counts is the frames the receiver on gr counted, fwd_sink (XDP) or
 * fwd_tc_sink (tc ingress, GRO on), or with no receiver what the egress veth
 * took; every row once with each (enum receiver says why three). The primary
 * figure is CPU time per delivered frame (this thread and ksoftirqd of its
 * CPU, where the generator, the gateway's NAPI and the receiver's all run):
 * the VMs are shared, and wall time shows how much of the CPU others took.
 * Delivered packets per wall-clock second are reported beside it. The
 * gateway's own cost is a row's minus the baseline's. A round samples each
 * row once; cells are medians over rounds (min-max), ratios are taken per
 * round.
 *
 * Output: one markdown section on stdout, diagnostics on stderr; goals to
 * $BENCH_GOALS (bench/run.sh's protocol). Exit 0 when measured (a missed
 * goal is not a failure), 1 when it could not measure, 2 on a usage error.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <net/if.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
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
#include "fwd_gen.skel.h"
#pragma GCC diagnostic pop

#define ROUNDS_DEFAULT	7
#define ROUNDS_MAX	31
#define SECONDS_DEFAULT 1.0
#define QUICK_ROUNDS	3
#define QUICK_SECONDS	0.5
#define WARMUP_S	0.5
#define CHUNK_FRAMES	(1u << 16) /* frames per test_run call */
#define GEN_BATCH	64	   /* frames per live-frames batch */
#define DRAIN_US	20000	   /* let the last batch reach the receiver */
#define NS_PATH		"/var/run/netns/"
#define SRC_BASE	0xc6120000u /* 198.18.0.0 */
#define SRC_HOSTS	1024u
#define DST_BASE	0xcb007100u /* 203.0.113.0 */
#define DST_HOSTS	256u
#define INTERNAL	"198.18.0.0/16"
#define GI_STATS	0u	    /* the ingress's entry of bwe_fwd_stats */
#define BL_HOSTS	100000u	    /* listed hosts, none of them in the traffic */
#define BL_BASE		0x64400000u /* 100.64.0.0/10: where they are drawn */
#define BL_MASK		0x003fffffu
#define FEED_SYNTH	BWE_FEED_FIRST
#define FRAME_PAYLOAD	18 /* UDP bytes: a 60-byte frame, 64 on a wire */
#define DEDUP_NS	(60ULL * 1000000000ULL)
#define GOAL_RATIO	2.0 /* fast / kernel alone, packets per second */

enum row { R_BASE, R_KERNEL, R_MIN, R_BWE, R_FAST, R_MAX };
static const char *const row_name[R_MAX] = {
	"no gateway: the counting sink on the ingress veth (baseline)",
	"kernel alone (bare XDP_PASS on the ingress veth)",
	"minimal XDP forwarder (bpf_fib_lookup + bpf_redirect, no enforcer)",
	"through the enforcer, fast_forward off",
	"through the enforcer, fast_forward fib",
};

/*
 * The receiver on gr. A NIC hands the frame to the wire, and what receives it
 * is another machine's work; on the testbed the receiving veth's NAPI runs on
 * the CPU that transmitted to it unless told otherwise, and each receiver
 * costs the two ways out differently. So three are measured:
 * RECV_XDP, the counting XDP sink on the generating CPU: cheap for redirected
 * frames, while a frame the stack sends is converted back (and may be
 * copied) for the XDP program; RECV_STACK, no XDP program, GRO on (so the
 * veth takes redirected frames) and a counting drop at tc ingress, on the
 * generating CPU: a redirected frame gets a socket buffer built, a frame from
 * the stack keeps its own; RECV_WIRE, none: gr is down, so go has no
 * carrier and drops every frame handed to it, and nothing is received
 * anywhere: the stack's frames at go's queue (a device without carrier gets
 * the noop qdisc), redirected ones at go's XDP transmit, which refuses them
 * (its peer has no NAPI). The gateway pays everything up to the handoff to
 * the egress device and the freeing of the frame, and no receiving work;
 * what counts is what go took (tx + tx-dropped), the baseline row still its
 * sink. Neither way pays the device's transmit itself, and the stack's skips
 * more of it (veth_xmit, per frame) than the redirect's (a bulk enqueue),
 * so against a NIC's transmit this understates the fast path's gain.
 * A receiver that runs on another CPU (threaded NAPI) is no such stand-in:
 * the stack transmits frame by frame and wakes it far more often than the
 * XDP path, which hands it frames in bulk.
 */
enum receiver { RECV_XDP, RECV_STACK, RECV_WIRE, RECV_MAX };
static const char *const recv_name[RECV_MAX] = {
	"an XDP program counting and dropping",
	"the receiver's stack (GRO on, a counting tc ingress drop)",
	"none: the egress veth's peer down, every frame dropped where it is handed to it",
};
#define ETHTOOL_SGRO_ 0x0000002c /* ETHTOOL_SGRO of <linux/ethtool.h> */
#define SIOCETHTOOL_  0x8946	 /* SIOCETHTOOL */

struct opts {
	const char *gen_ns, *gw_ns, *rx_ns;
	const char *gen_if, *gi, *go, *gr;
	char *loop_a, *loop_b; /* --loop A:B */
	unsigned int rounds;
	double secs;
};

struct result {
	double mpps;   /* delivered, per wall second */
	double cpu_ns; /* per delivered frame */
	double loss;   /* share of generated frames not delivered */
};

struct bench {
	int gen_nsfd, gw_nsfd, rx_nsfd;
	int gen_ifindex, gi_ifindex, go_ifindex, gr_ifindex;
	__u8 gen_mac[ETH_ALEN], gi_mac[ETH_ALEN];
	struct fwd_gen_bpf *skel;
	struct bwe_dp *dp;
	struct bwe_bl bl;
	bool bl_ok;
	__u8 frame[BWE_PKT_MAX];
	__u32 frame_len;
	int cur_fd;   /* the program on gi, -1 none */
	int receiver; /* enum receiver in place on gr */
	int ksoftirqd;
	const char *go_name; /* RECV_WIRE's count */
	bool loop;	     /* live frames refused: generating through a loop (gen_loop.bpf.h) */
	struct bench_loop lp;
};

static int open_ns(const char *name)
{
	char path[256];

	if (snprintf(path, sizeof(path), NS_PATH "%s", name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	return open(path, O_RDONLY | O_CLOEXEC);
}

static int enter(int nsfd)
{
	return setns(nsfd, CLONE_NEWNET) ? -errno : 0;
}

static int link_mac(const char *ifname, __u8 *mac)
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	if (s < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(s, SIOCGIFHWADDR, &ifr))
		err = -errno;
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
	close(s);
	return err;
}

/* ifindex of name in namespace nsfd (entered, and left entered). */
static int ifindex_in(int nsfd, const char *name, int *out)
{
	int err = enter(nsfd);

	if (err)
		return err;
	*out = (int)if_nametoindex(name);
	return *out ? 0 : -ENODEV;
}

/* Pin to the CPU we run on: generator and softirqs share it, as they would anyway. */
static int pin_cpu(void)
{
	cpu_set_t set;
	int cpu = sched_getcpu();

	if (cpu < 0)
		return -errno;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : cpu;
}

/* GRO of the current namespace's ifname on or off (ethtool -K IF gro on|off). */
static int set_gro(const char *ifname, bool on)
{
	struct {
		__u32 cmd, data;
	} ev = { ETHTOOL_SGRO_, on };
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	if (s < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&ev;
	if (ioctl(s, SIOCETHTOOL_, &ifr))
		err = -errno;
	close(s);
	return err;
}

static __u64 sink_read(const struct bench *b);

/*
 * The frames out of row r so far: the sink's count, or with RECV_WIRE past
 * the baseline, what the egress veth took (the gateway namespace entered;
 * a difference of two survives one wrap of the 32-bit counter).
 */
static int frames_out(const struct bench *b, enum row r, __u64 *n)
{
	struct rtnl_link_stats st = { 0 };
	int err;

	if (b->receiver != RECV_WIRE || r == R_BASE) {
		*n = sink_read(b);
		return 0;
	}
	err = enter(b->gw_nsfd);
	err = err ?: bench_link_stats(b->go_name, &st);
	*n = (__u32)(st.tx_packets + st.tx_dropped);
	return err;
}

static __u64 sink_read(const struct bench *b)
{
	int ncpu = libbpf_num_possible_cpus(), i;
	__u64 *v = calloc((size_t)ncpu, sizeof(*v)), sum = 0;
	__u32 zero = 0;

	if (!v)
		return 0;
	if (!bpf_map_lookup_elem(bpf_map__fd(b->skel->maps.sink_count), &zero, v))
		for (i = 0; i < ncpu; i++)
			sum += v[i];
	free(v);
	return sum;
}

/* Put receiver r on gr (rx namespace entered on return). */
static int recv_set(struct bench *b, const char *gr, enum receiver r)
{
	int err = enter(b->rx_nsfd);

	if (!err && r == RECV_XDP)
		err = bpf_xdp_attach(b->gr_ifindex, bpf_program__fd(b->skel->progs.fwd_sink),
				     XDP_FLAGS_DRV_MODE, NULL);
	if (!err && r == RECV_WIRE)
		err = bench_link_set_up(gr, false);
	if (!err && r == RECV_STACK) {
		DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = b->gr_ifindex,
				    .attach_point = BPF_TC_INGRESS);
		DECLARE_LIBBPF_OPTS(bpf_tc_opts, to, .handle = 1, .priority = 1,
				    .prog_fd = bpf_program__fd(b->skel->progs.fwd_tc_sink));

		err = bpf_xdp_detach(b->gr_ifindex, XDP_FLAGS_DRV_MODE, NULL);
		err = err ?: set_gro(gr, true);
		err = err ?: bpf_tc_hook_create(&hook);
		err = err == -EEXIST ? 0 : err;
		err = err ?: bpf_tc_attach(&hook, &to);
	}
	if (!err)
		b->receiver = (int)r;
	return err;
}

/* The enforcer in the gateway namespace (entered): maps, fast path pieces. */
static int setup_enforcer(struct bench *b)
{
	static const __u16 std_ports[] = { 53, 80, 443 };
	struct bwe_config cfg = { .event_dedup_ns = DEDUP_NS };
	/* the ingress's counters: entry GI_STATS of bwe_fwd_stats */
	struct bwe_iface_val in = { .fwd = BWE_FWD_FIB, .fwd_stats = GI_STATS }, out = { 0 };
	/* host slots: as many as the daemon's split gives (lib/dataplane.h) */
	struct bwe_dp_opts dpo = { .hslots = UINT32_MAX };
	struct bwe_ncset nc;
	struct bwe_prefix p;
	__u32 i, k;
	int err, fd;

	err = bwe_dp_open(&b->dp, &dpo);
	if (err)
		return err;
	err = bwe_dp_config_set(b->dp, &cfg);
	err = err ?: bwe_dp_std_ports_set(b->dp, std_ports, sizeof(std_ports) / sizeof(*std_ports));
	bwe_ncset_init(&nc);
	err = err ?: bwe_prefix_parse(INTERNAL, &p, 0);
	err = err ?: bwe_ncset_add(&nc, &p, BWE_NC_INTERNAL);
	err = err ?: bwe_dp_netclass_apply(b->dp, &nc);
	bwe_ncset_free(&nc);
	err = err ?: bwe_bl_init(&b->bl, b->dp);
	if (err)
		return err;
	b->bl_ok = true;
	for (i = 0; i < BL_HOSTS && !err; i++) {
		memset(&p, 0, sizeof(p));
		p.plen = BWE_V4_MAPPED_PLEN + 32;
		bwe_addr_from_v4(htonl(BL_BASE + (bwe_mix32(i) & BL_MASK)), &p.addr);
		err = bwe_bl_set(&b->bl, &p, bwe_ref(FEED_SYNTH, 0));
	}
	err = err ?: bwe_bl_flush(&b->bl);
	if (err)
		return err;
	fd = bwe_dp_map_fd(b->dp, BWE_MAP_IFACES);
	k = (__u32)b->gi_ifindex;
	err = bpf_map_update_elem(fd, &k, &in, BPF_ANY) ? -errno : 0;
	k = (__u32)b->go_ifindex;
	err = err ?: (bpf_map_update_elem(fd, &k, &out, BPF_ANY) ? -errno : 0);
	err = err ?: bwe_dp_fwd_dev_set(b->dp, (__u32)b->go_ifindex, true);
	err = err ?: bwe_dp_fwd_stats_zero(b->dp, GI_STATS);
	return err;
}

static int setup_gen(struct bench *b)
{
	struct pb_spec spec = { .src = "198.18.0.1",
				.dst = "203.0.113.1",
				.proto = IPPROTO_UDP,
				.sport = 40000,
				.dport = 443,
				.payload = FRAME_PAYLOAD };
	int len, i, err;

	memcpy(spec.smac, b->gen_mac, ETH_ALEN);
	memcpy(spec.dmac, b->gi_mac, ETH_ALEN);
	len = pb_build(&spec, b->frame, sizeof(b->frame));
	if (len <= 0)
		return len ? len : -EINVAL;
	b->frame_len = (__u32)len;
	/* the generator rewrites the addresses; a UDP checksum of 0 means none */
	b->frame[ETH_HLEN + 20 + 6] = 0;
	b->frame[ETH_HLEN + 20 + 7] = 0;
	b->skel = fwd_gen_bpf__open();
	if (!b->skel)
		return -errno;
	for (i = 0; i < ETH_ALEN; i++) {
		b->skel->rodata->gen_smac[i] = b->gen_mac[i];
		b->skel->rodata->gen_dmac[i] = b->gi_mac[i];
	}
	b->skel->rodata->gen_src_base = SRC_BASE;
	b->skel->rodata->gen_src_mask = SRC_HOSTS - 1;
	b->skel->rodata->gen_dst_base = DST_BASE;
	b->skel->rodata->gen_dst_mask = DST_HOSTS - 1;
	err = fwd_gen_bpf__load(b->skel);
	if (!err)
		b->skel->bss->gen_limit = ~0ULL; /* live frames; a loop's is armed per sample */
	return err;
}

/* Put row r's program on gi and set the fast path's switch (gateway ns entered). */
static int row_set(struct bench *b, enum row r)
{
	struct bwe_config cfg;
	int fd = r == R_BASE	 ? bpf_program__fd(b->skel->progs.fwd_sink)
		 : r == R_KERNEL ? bpf_program__fd(b->skel->progs.fwd_pass)
		 : r == R_MIN	 ? bpf_program__fd(b->skel->progs.fwd_fib)
				 : bwe_dp_prog_fd(b->dp);
	int err = 0;

	if (b->cur_fd != fd)
		err = bpf_xdp_attach(b->gi_ifindex, fd, XDP_FLAGS_DRV_MODE, NULL);
	if (err)
		return err;
	b->cur_fd = fd;
	if (r == R_BASE || r == R_KERNEL || r == R_MIN)
		return 0;
	err = bwe_dp_config_get(b->dp, &cfg);
	if (err)
		return err;
	cfg.flags = r == R_FAST ? cfg.flags | BWE_CFG_FWD : cfg.flags & ~(__u32)BWE_CFG_FWD;
	return bwe_dp_config_set(b->dp, &cfg);
}

static int sample(struct bench *b, enum row r, double secs, struct result *res)
{
	LIBBPF_OPTS(bpf_test_run_opts, t);
	struct xdp_md md = { .data_end = b->frame_len, .ingress_ifindex = (__u32)b->gen_ifindex };
	__u64 sent = 0, got, s0, s1, c0, c1, k0, k1;
	double t0, t1;
	int err;

	err = enter(b->gw_nsfd);
	err = err ?: row_set(b, r);
	err = err ?: enter(b->gen_nsfd);
	if (err)
		return err;
	t.data_in = b->frame;
	t.data_size_in = b->frame_len;
	t.ctx_in = &md;
	t.ctx_size_in = sizeof(md);
	t.repeat = CHUNK_FRAMES;
	t.batch_size = GEN_BATCH;
	t.flags = BPF_F_TEST_XDP_LIVE_FRAMES;
	err = frames_out(b, r, &s0);
	err = err ?: enter(b->gen_nsfd);
	if (err)
		return err;
	k0 = pid_run_ns(b->ksoftirqd);
	t0 = now_s();
	c0 = thread_cpu_ns();
	if (b->loop) {
		/* this thread is pinned: the loop runs in its CPU's softirqs */
		err = bench_loop_run(&b->lp, &b->skel->bss->gen_limit, &b->skel->bss->gen_count,
				     b->frame, b->frame_len, t0 + secs, &sent);
		if (err)
			return err;
		t1 = now_s();
	} else {
		do {
			if (bpf_prog_test_run_opts(bpf_program__fd(b->skel->progs.fwd_tx), &t))
				return -errno;
			sent += CHUNK_FRAMES;
			t1 = now_s();
		} while (t1 - t0 < secs);
	}
	c1 = thread_cpu_ns();
	usleep(DRAIN_US);
	k1 = pid_run_ns(b->ksoftirqd);
	if (b->loop && k1 == k0)
		return -ENODATA; /* the loop runs in ksoftirqd: its time was not read */
	err = frames_out(b, r, &s1);
	if (err)
		return err;
	got = b->receiver == RECV_WIRE && r != R_BASE ? (__u32)(s1 - s0) : s1 - s0;
	if (!got)
		return -EIO;
	res->mpps = (double)got / (t1 - t0) / 1e6;
	res->cpu_ns = (double)(c1 - c0 + k1 - k0) / (double)got;
	res->loss = 1.0 - (double)got / (double)sent;
	return 0;
}

#define HOT_CALLS 100000 /* test runs of one frame per cache-hot sample */

/*
 * The fast path alone, cache-hot: the enforcer run with
 * bpf_prog_test_run_opts on one generated frame arriving on gi (so
 * bpf_fib_lookup() answers from the gateway's routes), BWE_CFG_FWD set
 * against clear, interleaved per round; the difference is what the fast
 * path costs on top of the judgement (a test run does not do the redirect
 * itself). One run per call, HOT_CALLS calls: with a repeat count the
 * kernel runs the program on the same buffer again, whose TTL the fast path
 * has decremented, so most runs would take the TTL fall-back. The time is
 * the kernel's own measure of each run, averaged. In the gateway namespace.
 */
static int hot_cost(struct bench *b, unsigned int rounds, double *fwd_on, double *fwd_off)
{
	__u8 out[BWE_PKT_MAX];
	struct xdp_md md = { .data_end = b->frame_len, .ingress_ifindex = (__u32)b->gi_ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = b->frame, .data_size_in = b->frame_len,
		    .data_out = out, .ctx_in = &md, .ctx_size_in = sizeof(md), .repeat = 1);
	struct bwe_config cfg;
	unsigned int i, on, n;
	double sum;
	int err = enter(b->gw_nsfd);

	err = err ?: bwe_dp_config_get(b->dp, &cfg);
	for (i = 0; i < rounds && !err; i++)
		for (on = 0; on < 2 && !err; on++) {
			cfg.flags = on ? cfg.flags | BWE_CFG_FWD : cfg.flags & ~(__u32)BWE_CFG_FWD;
			err = bwe_dp_config_set(b->dp, &cfg);
			for (n = 0, sum = 0; n < HOT_CALLS && !err; n++) {
				t.data_size_out = sizeof(out);
				if (bpf_prog_test_run_opts(bwe_dp_prog_fd(b->dp), &t))
					err = -errno;
				else if (t.retval != (on ? XDP_REDIRECT : XDP_PASS))
					err = -EPROTO;
				sum += t.duration;
			}
			(on ? fwd_on : fwd_off)[i] = sum / HOT_CALLS;
		}
	return err;
}

/* Each row delivers, and the fast path is the one that forwarded (or not). */
static int check_rows(struct bench *b)
{
	struct bwe_fwd_stats f0, f1;
	struct result res;
	int r, err;

	for (r = 0; r < R_MAX; r++) {
		err = bwe_dp_fwd_stats_read(b->dp, GI_STATS, &f0);
		err = err ?: sample(b, (enum row)r, WARMUP_S, &res);
		err = err ?: bwe_dp_fwd_stats_read(b->dp, GI_STATS, &f1);
		if (err) {
			fprintf(stderr, "fwd_frames: %s: %s\n", row_name[r], errstr(err));
			return err;
		}
		if (r >= R_BWE &&
		    (r == R_FAST) != (f1.c[BWE_FWD_FAST].packets > f0.c[BWE_FWD_FAST].packets)) {
			fprintf(stderr, "fwd_frames: %s: fast path forwarded %llu frames\n",
				row_name[r],
				(unsigned long long)(f1.c[BWE_FWD_FAST].packets -
						     f0.c[BWE_FWD_FAST].packets));
			return -EPROTO;
		}
	}
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct stat3 {
	double med, min, max;
};

static struct stat3 summarise(double *v, unsigned int n)
{
	struct stat3 s;

	qsort(v, n, sizeof(*v), cmp_double);
	s.min = v[0];
	s.max = v[n - 1];
	s.med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	return s;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: fwd_frames --gen-ns NS --gw-ns NS --rx-ns NS --gen-if IF --gi IF "
		"--go IF --gr IF [--loop A:B] [--rounds R] [--seconds S] [--quick] [-v]\n"
		"  --loop A:B  a veth pair of the generator's namespace for a generator loop,\n"
		"              used where the kernel refuses live frames (bench/gen_loop.bpf.h)\n"
		"(run it through bench/fwd_frames.sh)\n");
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "gen-ns", required_argument, NULL, 'a' },
		{ "gw-ns", required_argument, NULL, 'b' },
		{ "rx-ns", required_argument, NULL, 'c' },
		{ "gen-if", required_argument, NULL, 'd' },
		{ "gi", required_argument, NULL, 'e' },
		{ "go", required_argument, NULL, 'f' },
		{ "gr", required_argument, NULL, 'g' },
		{ "loop", required_argument, NULL, 'l' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "seconds", required_argument, NULL, 's' },
		{ "quick", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	o->rounds = ROUNDS_DEFAULT;
	o->secs = SECONDS_DEFAULT;
	while ((c = getopt_long(argc, argv, "vh", lo, NULL)) != -1) {
		switch (c) {
		case 'a':
			o->gen_ns = optarg;
			break;
		case 'b':
			o->gw_ns = optarg;
			break;
		case 'c':
			o->rx_ns = optarg;
			break;
		case 'd':
			o->gen_if = optarg;
			break;
		case 'e':
			o->gi = optarg;
			break;
		case 'f':
			o->go = optarg;
			break;
		case 'g':
			o->gr = optarg;
			break;
		case 'l':
			if (bench_loop_arg(optarg, &o->loop_a, &o->loop_b))
				return -EINVAL;
			break;
		case 'r':
			o->rounds = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 's':
			o->secs = strtod(optarg, NULL);
			break;
		case 'q':
			o->rounds = QUICK_ROUNDS;
			o->secs = QUICK_SECONDS;
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -EINVAL;
		}
	}
	if (!o->gen_ns || !o->gw_ns || !o->rx_ns || !o->gen_if || !o->gi || !o->go || !o->gr ||
	    o->rounds < 1 || o->rounds > ROUNDS_MAX || !(o->secs > 0))
		return -EINVAL;
	return 0;
}

/* The gateway's own CPU time per frame in round i: the row's minus the baseline's. */
static double gw_ns(struct result res[R_MAX][ROUNDS_MAX], int r, unsigned int i)
{
	return res[r][i].cpu_ns - res[R_BASE][i].cpu_ns;
}

/* One receiver's table and ratios; ratio, lo, hi: the goal's figure (median, range). */
static void print_report(const struct opts *o, struct result res[R_MAX][ROUNDS_MAX],
			 enum receiver rcv, double *ratio, double *lo, double *hi, double *e2e)
{
	double v[ROUNDS_MAX], cap[ROUNDS_MAX], off[ROUNDS_MAX], min[ROUNDS_MAX], judge[ROUNDS_MAX];
	double e2e_cpu[ROUNDS_MAX], e2e_wall[ROUNDS_MAX];
	struct stat3 s, c, l, w, k;
	unsigned int i;
	int r;

	for (i = 0; i < o->rounds; i++) {
		cap[i] = gw_ns(res, R_KERNEL, i) / gw_ns(res, R_FAST, i);
		off[i] = gw_ns(res, R_KERNEL, i) / gw_ns(res, R_BWE, i);
		min[i] = gw_ns(res, R_KERNEL, i) / gw_ns(res, R_MIN, i);
		judge[i] = gw_ns(res, R_FAST, i) - gw_ns(res, R_MIN, i);
		e2e_cpu[i] = res[R_KERNEL][i].cpu_ns / res[R_FAST][i].cpu_ns;
		e2e_wall[i] = res[R_FAST][i].mpps / res[R_KERNEL][i].mpps;
	}
	printf("#### Receiver: %s\n\n", recv_name[rcv]);
	printf("| gateway | CPU per frame, ns | gateway's own CPU per frame, ns | "
	       "gateway's own Mpps per CPU-second | delivered, Mpps (wall) | not delivered |\n");
	printf("|---|---|---|---|---|---|\n");
	for (r = 0; r < R_MAX; r++) {
		for (i = 0; i < o->rounds; i++)
			v[i] = res[r][i].cpu_ns;
		c = summarise(v, o->rounds);
		for (i = 0; i < o->rounds; i++)
			v[i] = res[r][i].mpps;
		w = summarise(v, o->rounds);
		for (i = 0; i < o->rounds; i++)
			v[i] = res[r][i].loss * 100;
		l = summarise(v, o->rounds);
		printf("| %s | %.0f (%.0f-%.0f) | ", row_name[r], c.med, c.min, c.max);
		if (r == R_BASE) {
			printf("— | — | ");
		} else {
			for (i = 0; i < o->rounds; i++)
				v[i] = gw_ns(res, r, i);
			k = summarise(v, o->rounds);
			printf("%.0f (%.0f-%.0f) | %.2f | ", k.med, k.min, k.max, 1e3 / k.med);
		}
		printf("%.3f (%.3f-%.3f) | %.0f %% |\n", w.med, w.min, w.max, l.med);
	}
	s = summarise(off, o->rounds);
	printf("\n- gateway's own packets per CPU-second, fast_forward off vs the kernel alone: "
	       "%.2f× (%.2f-%.2f)\n",
	       s.med, s.min, s.max);
	s = summarise(min, o->rounds);
	printf("- the same, the minimal XDP forwarder vs the kernel alone (the ceiling of an XDP "
	       "forwarder here): %.2f× (%.2f-%.2f)\n",
	       s.med, s.min, s.max);
	s = summarise(judge, o->rounds);
	printf("- what the enforcer adds to forwarding in XDP (fast_forward fib minus the minimal "
	       "forwarder): %.0f ns (%.0f-%.0f) of CPU per frame\n",
	       s.med, s.min, s.max);
	s = summarise(e2e_cpu, o->rounds);
	w = summarise(e2e_wall, o->rounds);
	printf("- end to end (generator and receiver included), fast_forward fib vs the kernel "
	       "alone: %.2f× (%.2f-%.2f) the packets per CPU-second, %.2f× (%.2f-%.2f) the "
	       "delivered packets per wall-clock second\n",
	       s.med, s.min, s.max, w.med, w.min, w.max);
	c = summarise(cap, o->rounds);
	printf("- the gateway's own packets per CPU-second with bwenforce fast-forward vs the "
	       "kernel alone: **%.2f×** (%.2f-%.2f)\n\n",
	       c.med, c.min, c.max);
	*ratio = c.med;
	*lo = c.min;
	*hi = c.max;
	*e2e = s.med;
}

static void print_hot(const struct opts *o, double *on, double *off)
{
	double d[ROUNDS_MAX];
	struct stat3 s, a, b;
	unsigned int i;

	for (i = 0; i < o->rounds; i++)
		d[i] = on[i] - off[i];
	s = summarise(d, o->rounds);
	a = summarise(on, o->rounds);
	b = summarise(off, o->rounds);
	printf("- the fast path alone, cache-hot (`bpf_prog_test_run_opts`, %u single runs of one "
	       "frame on the gateway's ingress per round, fast_forward fib against off): +%.0f ns "
	       "(%.0f-%.0f) per packet (%.0f ns against %.0f ns, the kernel's timing of each run "
	       "included); the redirect itself is not part of a test run\n",
	       HOT_CALLS, s.med, s.min, s.max, a.med, b.med);
}

/* Every row once per round, interleaved, with the receiver in place. */
static int measure(struct bench *b, const struct opts *o, struct result res[R_MAX][ROUNDS_MAX])
{
	static const char *const tag[R_MAX] = { "base", "kernel", "minimal", "enforcer", "fast" };
	unsigned int i;
	int r, err = 0;

	for (i = 0; i < o->rounds && !err; i++)
		for (r = 0; r < R_MAX && !err; r++) {
			err = sample(b, (enum row)r, o->secs, &res[r][i]);
			if (verbose && !err)
				fprintf(stderr, "%s round %u %-8s %.3f Mpps %.0f ns/frame\n",
					b->receiver == RECV_XDP	    ? "xdp"
					: b->receiver == RECV_STACK ? "stack"
								    : "wire",
					i, tag[r], res[r][i].mpps, res[r][i].cpu_ns);
		}
	return err;
}

static void report(const struct bench *b, const struct opts *o,
		   struct result res[RECV_MAX][R_MAX][ROUNDS_MAX], int cpu, double *hot_on,
		   double *hot_off)
{
	double ratio[RECV_MAX], lo[RECV_MAX], hi[RECV_MAX], e2e[RECV_MAX];
	const char *goals = getenv("BENCH_GOALS"), *res_s;
	int rc, w;
	FILE *g;

	printf("### Forwarding (generator -> gateway -> receiver)\n\n");
	printf("The generator (`bench/fwd_gen.bpf.c`) %s. ",
	       b->loop ? "runs attached to a veth pair of the generator's namespace, "
			 "because this kernel refuses `BPF_F_TEST_XDP_LIVE_FRAMES`, and sends each "
			 "frame both towards the gateway and around the pair again "
			 "(`bench/gen_loop.bpf.h`)"
		       : "runs with `BPF_F_TEST_XDP_LIVE_FRAMES` and sends each frame with XDP_TX");
	printf("60-byte IPv4 UDP frames from %u internal hosts to %u peers, %u rounds of "
	       "%.1f s per row, interleaved; one CPU (%d) runs the generator and every "
	       "softirq, so a frame's cost is generator + gateway + receiver. The VMs are "
	       "shared, so the primary figure is CPU time per delivered frame (this thread "
	       "and ksoftirqd of its CPU), and rates are per CPU-second; delivered packets "
	       "per wall-clock second are beside them. The baseline row (the counting sink "
	       "on the gateway's ingress veth: generator and one veth hop) is subtracted for "
	       "the gateway's own cost, which therefore holds the receiving veth's work too "
	       "where there is a receiver. "
	       "A NIC would put the frame on the wire, and receiving it would be another "
	       "machine's work; a veth receiver runs on the same CPU and costs the two ways "
	       "out differently, so the rows are taken with three receivers: an XDP program "
	       "(cheap for a redirected frame, while a frame the stack sends is converted back "
	       "for it), the receiver's stack with GRO and a tc drop (a redirected frame "
	       "gets a socket buffer built there, the stack's keeps its own), and none (the "
	       "egress veth's peer down, so that it has no carrier: the stack's frames are "
	       "dropped at its queue, redirected ones at its XDP transmit, and the count is "
	       "what it took), which leaves the gateway its work up to the handoff to the "
	       "egress device and the freeing of the frame, as with a NIC but without the "
	       "device's transmit, which the stack's way would pay more of (veth_xmit per "
	       "frame, against a bulk enqueue). The goal is judged with the last. Median "
	       "(min-max) over rounds.\n\n",
	       SRC_HOSTS, DST_HOSTS, o->rounds, o->secs, cpu);
	for (rc = 0; rc < RECV_MAX; rc++)
		print_report(o, res[rc], (enum receiver)rc, &ratio[rc], &lo[rc], &hi[rc], &e2e[rc]);
	print_hot(o, hot_on, hot_off);
	/* the lower of the two on the generating CPU, for comparison with earlier runs */
	w = ratio[RECV_STACK] < ratio[RECV_XDP] ? RECV_STACK : RECV_XDP;
	printf("\n- the same ratio with the receiver on the generating CPU, the lower of its two "
	       "kinds (%s), which charges the gateway with receiving work a NIC would not do "
	       "there: %.2f× (%.2f-%.2f)\n",
	       recv_name[w], ratio[w], lo[w], hi[w]);
	/* the goal's figure: the gateway's work up to the transmit, receiving nothing */
	w = RECV_WIRE;
	res_s = ratio[w] >= GOAL_RATIO ? "met" : "not met";
	printf("- forwarding, the gateway's own packets per CPU-second with bwenforce "
	       "fast-forward vs the kernel alone (receiver: %s): **%.2f×** (%.2f-%.2f); "
	       "goal ≥ %.0f×: **%s**\n",
	       recv_name[w], ratio[w], lo[w], hi[w], GOAL_RATIO, res_s);
	g = goals ? fopen(goals, "ae") : NULL;
	if (g) {
		fprintf(g,
			"GOAL\tforwarding: the gateway's own packets per CPU-second, bwenforce "
			"fast-forward vs the kernel alone (receiver: %s; end to end "
			"%.2f×)\t%.2f× (%.2f-%.2f)\t≥ %.0f×\t%s\n",
			recv_name[w], e2e[w], ratio[w], lo[w], hi[w], GOAL_RATIO, res_s);
		fclose(g);
	}
}

int main(int argc, char **argv)
{
	static struct result res[RECV_MAX][R_MAX][ROUNDS_MAX];
	double hot_on[ROUNDS_MAX], hot_off[ROUNDS_MAX];
	struct bench b = { .gen_nsfd = -1,
			   .gw_nsfd = -1,
			   .rx_nsfd = -1,
			   .cur_fd = -1,
			   .lp = { .sock = -1 } };
	struct opts o = { 0 };
	int err, rc, cpu, self_ns, probe;

	if (parse_opts(argc, argv, &o)) {
		usage(stderr);
		return 2;
	}
	libbpf_set_print(libbpf_print);
	self_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	b.gen_nsfd = open_ns(o.gen_ns);
	b.gw_nsfd = open_ns(o.gw_ns);
	b.rx_nsfd = open_ns(o.rx_ns);
	if (self_ns < 0 || b.gen_nsfd < 0 || b.gw_nsfd < 0 || b.rx_nsfd < 0) {
		fprintf(stderr, "fwd_frames: cannot open the namespaces\n");
		return 1;
	}
	cpu = pin_cpu();
	b.go_name = o.go;
	b.ksoftirqd = cpu >= 0 ? find_ksoftirqd(cpu) : -1;
	err = ifindex_in(b.gen_nsfd, o.gen_if, &b.gen_ifindex);
	/* in the generator's namespace: its loopback takes the probe's frame */
	probe = err ? 0
		    : bench_live_frames_probe("fwd_frames",
					      o.loop_a ? NULL : "the forwarding tier");
	if (probe) {
		if (!o.loop_a)
			return 1;
		fprintf(stderr,
			"fwd_frames: this kernel refuses live frames (%s): generating through a "
			"loop instead (bench/gen_loop.bpf.h)\n",
			errstr(probe));
		b.loop = true;
		if (b.ksoftirqd < 0) {
			fprintf(stderr,
				"fwd_frames: no ksoftirqd of the generating CPU: the loop's "
				"CPU time could not be counted\n");
			return 1;
		}
	}
	err = err ?: link_mac(o.gen_if, b.gen_mac);
	err = err ?: ifindex_in(b.rx_nsfd, o.gr, &b.gr_ifindex);
	err = err ?: ifindex_in(b.gw_nsfd, o.go, &b.go_ifindex);
	err = err ?: ifindex_in(b.gw_nsfd, o.gi, &b.gi_ifindex);
	err = err ?: link_mac(o.gi, b.gi_mac);
	err = err ?: setup_gen(&b);
	err = err ?: setup_enforcer(&b); /* in the gateway namespace */
	if (!err && b.loop) {
		err = enter(b.gen_nsfd);
		err = err
			      ?: bench_loop_open(&b.lp, o.loop_a, o.loop_b, b.gen_ifindex,
						 bpf_map__fd(b.skel->maps.gen_loop1),
						 bpf_program__fd(b.skel->progs.fwd_tx));
		b.skel->bss->gen_loop = 1;
	}
	if (err) {
		fprintf(stderr, "fwd_frames: setup: %s\n", errstr(err));
		goto cleanup;
	}
	for (rc = 0; rc < RECV_MAX && !err; rc++) {
		err = recv_set(&b, o.gr, (enum receiver)rc);
		err = err ?: check_rows(&b);
		if (err) {
			fprintf(stderr, "fwd_frames: check (receiver %s): %s\n", recv_name[rc],
				errstr(err));
			goto cleanup;
		}
		err = measure(&b, &o, res[rc]);
	}
	if (err) {
		fprintf(stderr, "fwd_frames: sample: %s\n", errstr(err));
		goto cleanup;
	}
	err = hot_cost(&b, o.rounds, hot_on, hot_off);
	if (err) {
		fprintf(stderr, "fwd_frames: cache-hot cost: %s\n", errstr(err));
		goto cleanup;
	}
	report(&b, &o, res, cpu, hot_on, hot_off);

cleanup:
	if (b.gw_nsfd >= 0 && !enter(b.gw_nsfd) && b.gi_ifindex)
		bpf_xdp_detach(b.gi_ifindex, XDP_FLAGS_DRV_MODE, NULL);
	if (b.rx_nsfd >= 0 && !enter(b.rx_nsfd) && b.gr_ifindex)
		bpf_xdp_detach(b.gr_ifindex, XDP_FLAGS_DRV_MODE, NULL);
	if (b.loop && b.gen_nsfd >= 0 && !enter(b.gen_nsfd))
		bench_loop_close(&b.lp);
	if (self_ns >= 0)
		enter(self_ns);
	if (b.bl_ok)
		bwe_bl_free(&b.bl);
	bwe_dp_close(b.dp);
	fwd_gen_bpf__destroy(b.skel);
	return err ? 1 : 0;
}
