// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * live_frames.c - real frames into the enforcer attached natively on a veth
 * (BENCHMARKS.md tier 3), against a bare XDP_DROP, a bare XDP_PASS, and an
 * XDP_PASS followed by an nftables set drop holding the same entries, in one
 * run. bench/live_frames.sh builds the testbed (two namespaces joined by a
 * veth pair) and calls this program; run it through that script.
 *
 * Sender namespace: bench/live_gen.bpf.c runs under bpf_prog_test_run_opts
 * with BPF_F_TEST_XDP_LIVE_FRAMES and returns XDP_TX, so every frame leaves
 * through the sending veth (where the kernel refuses live frames, it runs
 * attached to a loop veth pair instead, --loop, bench/gen_loop.bpf.h, and
 * sends each frame out of the sending veth and around the pair); sources
 * walk 32,768 internal hosts (198.18.0.0/17; 1,024 or 65,536 in the host-count rows), destinations
 * come from a pool of 32,768 peers: the listed 198.19.0.0/17 (drop path) or
 * the unlisted 198.19.128.0/17 (pass path).
 *
 * Receiver namespace: one program at a time natively on the receiving veth:
 * the enforcer (build/bwe.bpf.o through lib/dataplane.c, internal
 * 198.18.0.0/16, --entries blocklist entries: the 32,768 drop-pool hosts plus
 * random /32s and /16../24 networks outside the test ranges, loaded through
 * lib/blocklist.c), base_drop or base_pass of bench/prog_cost.bpf.c, or
 * bench_decide of bench/lookup.bpf.c (the enforcer's parser and blocklist
 * decision alone, on the enforcer's maps: the floor of its drop path). An
 * nftables table (netdev family, ingress hook on the receiving veth, an
 * interval set of the same entries, "ip daddr @set counter drop") is loaded
 * once with nft -f, timed, and switched on (flags dormant cleared) only for
 * the nftables rows. Frames that pass go to the receiver's IP stack, which
 * has no address and no route and discards them.
 *
 * One sample: the generator runs in chunks for --seconds (a loop: seeded,
 * then left running in the CPU's softirqs, mostly ksoftirqd, while the
 * thread sleeps); what counts is the frames the receiving veth counted (rtnl link stats, which count every
 * frame its XDP program saw). The receiver's NAPI runs on the generator's
 * CPU, in the generator's context (the veth is polled where it was fed), so
 * a frame's cost is generator + receiver and differences between rows are
 * receiver costs. The VMs are shared, so the primary figure is CPU time per
 * frame (the generating thread plus ksoftirqd of its CPU, which would take
 * deferred softirqs), not wall time; wall-clock rates are reported beside it.
 * A round samples every row once; cells are medians over rounds (min-max),
 * ratios and differences are taken per round. The one-peer drop row sends
 * every frame to one listed peer, so the (host, peer) event deduplication
 * hits: it separates the cost of the event path from the rest of the drop
 * path.
 *
 * Multi-core rows: the same receivers with one generating thread pinned on
 * each of MC_CPUS CPUs at once, each sending its own slice of the sources
 * (so the enforcer's per-CPU maps are written on every CPU). The veth pair
 * has one queue per CPU (live_frames.sh) and a veth picks the receiving
 * queue by the sending CPU, so each CPU's frames are received by a NAPI on
 * that CPU: nothing but the programs' shared maps ties the CPUs together.
 * The rows report packets per wall-clock second and CPU ns per frame (all
 * generating threads and their ksoftirqds); the ratio MC_CPUS / 1 CPU of the
 * enforcer is shown next to the bare programs' (what the machine allows).
 * Where this process may run on one CPU only, those rows are skipped.
 *
 * Output: one markdown section on stdout, diagnostics on stderr. Exit status
 * 0 when measured (a missed goal is not a failure), 1 when it could not
 * measure, 2 on a usage error.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
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
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "addr.h"
#include "blocklist.h"
#include "dataplane.h"
#include "hslots.h"
#include "bench_common.h"
#include "netclass.h"
#include "pktbuild.h"
#include "gen_loop.h"
#include "live_gen.h"
/* The generated skeletons cast away const; that is bpftool's code, not ours. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wcast-qual"
#include "live_gen.skel.h"
#include "prog_cost.skel.h"
#include "lookup.skel.h"
#pragma GCC diagnostic pop

extern char **environ;

#define ROUNDS_DEFAULT	5
#define ROUNDS_MAX	31
#define SECONDS_DEFAULT 1.0 /* per sample */
#define ENTRIES_DEFAULT 1000000u
#define ENTRIES_MAX	4000000u
#define QUICK_ROUNDS	3 /* --quick: a smoke run, not for the docs */
#define QUICK_SECONDS	0.5
#define QUICK_ENTRIES	100000u
#define NFT_FALLBACK	100000u /* set size when the full set loads too slowly */
#define NFT_LOAD_MAX_S	180.0	/* give up on the full set after this */
#define NET_PERCENT	10	/* share of /16../24 networks in the list */
#define DEFAULT_SEED	0x5eed2026u
#define CHUNK_FRAMES	(1u << 18)		/* frames per test_run call */
#define GEN_BATCH	64			/* frames per live-frames batch (kernel default) */
#define DRAIN_US	20000			/* let the receiver finish its ring */
#define WARMUP_S	0.5			/* per row, before the first round */
#define LOSS_WARN	0.01			/* share of frames lost worth a note */
#define DEDUP_NS	(60ULL * 1000000000ULL) /* event window: the daemon's default */
#define FEED_SYNTH	BWE_FEED_FIRST
#define V4_SLASH24_BITS 24
#define FRAME_PAYLOAD	18 /* UDP bytes: 60-byte frame, 64 on a wire */
#define GEN_SPORT	40000
#define GEN_DPORT	443
/* UDP checksum of the template: Ethernet, 20-byte IPv4 header, 6 bytes into UDP */
#define UDP_CSUM_OFF	(ETH_HLEN + 20 + 6)
#define NS_PATH		"/var/run/netns/"
#define MC_CPUS		2   /* CPUs of the multi-core rows (#13: "2 cores to 1") */
#define MC_MIN_SHARE	0.1 /* each CPU's least share of the verdicts in a multi-core row */
#define MC_SHARED_COST	1.1 /* CPU ns/frame ratio over the bare program's that shows sharing */

/* The generator's address plan, host order. */
#define SRC_BASE    0xc6120000u /* 198.18.0.0: 32,768 internal hosts */
#define SRC_HOSTS   32768u
#define FEW_HOSTS   1024u	    /* the host-count rows: active hosts, powers of two */
#define ALL_HOSTS   65536u	    /* every address of the internal /16 */
#define HOSTS_TABLE (2 * ALL_HOSTS) /* bwe_hosts entries: all sources stay resident */
#define POOL_N	    32768u	    /* peers per pool, a power of two <= 65,536 */
#define DROP_BASE   0xc6130000u	    /* 198.19.0.0/17: listed */
#define PASS_BASE   0xc6138000u	    /* 198.19.128.0/17: not listed */
#define INTERNAL    "198.18.0.0/16"

/* Test address ranges: no synthetic entry touches them (TESTBED.md). */
static const char *const reserved[] = {
	"198.18.0.0/15",
	"192.0.2.0/24",
	"198.51.100.0/24",
	"203.0.113.0/24",
};

enum rx_prog { RX_BWE = 0, RX_DROP, RX_PASS, RX_DECIDE };
enum pool { POOL_DROP = 0, POOL_PASS };

enum row {
	R_BWE_DROP = 0,
	R_BWE_DROP1,
	R_BARE_DROP,
	R_NFT_DROP,
	R_DECIDE_DROP, /* the blocklist decision alone */
	R_GEN,	       /* the generator alone: the receiving veth down */
	R_BWE_PASS,
	R_BARE_PASS,
	R_NFT_PASS,
	R_BWE_PASS_FEW, /* per-host accounting at two host counts */
	R_BWE_PASS_ALL,
	R_BWE_DROP_NOSK, /* policy.peer_sketches: false */
	R_BWE_PASS_NOSK,
	R_BWE_DROP_MC, /* the multi-core rows: MC_CPUS generators at once */
	R_BWE_DROP1_MC,
	R_BARE_DROP_MC,
	R_BWE_PASS_MC,
	R_BARE_PASS_MC,
	R_MAX,
};

static const struct {
	const char *name;
	const char *frames;
	enum rx_prog prog;
	enum pool pool;
	bool one_peer; /* every frame to the pool's first peer */
	bool nft;
	__u32 hosts;	/* active sources, 0: SRC_HOSTS */
	__u32 ncpu;	/* generating CPUs, 0: one */
	enum row base;	/* multi-core rows: the same receiver on one CPU */
	bool no_sketch; /* BWE_CFG_NO_SKETCH: policy.peer_sketches false */
	bool gen_only;	/* the receiving veth down: frames are the generator's count */
} rows[R_MAX] = {
	[R_BWE_DROP] = { "**bwenforce**, drop path (BLOCK)", "listed peers", RX_BWE, POOL_DROP,
			 false, false },
	[R_BWE_DROP1] = { "**bwenforce**, drop path (BLOCK), events deduplicated",
			  "one listed peer", RX_BWE, POOL_DROP, true, false },
	[R_BARE_DROP] = { "bare XDP_DROP", "listed peers", RX_DROP, POOL_DROP, false, false },
	[R_NFT_DROP] = { "XDP_PASS + nftables set drop", "listed peers", RX_PASS, POOL_DROP, false,
			 true },
	[R_DECIDE_DROP] = { "parser + blocklist decision alone (no accounting, no events)",
			    "listed peers", RX_DECIDE, POOL_DROP, false, false },
	[R_GEN] = { "generator alone (receiving veth down: each frame dropped at the sending "
		    "veth's transmit)",
		    "listed peers", RX_DROP, POOL_DROP, .gen_only = true },
	[R_BWE_PASS] = { "**bwenforce**, pass path (PASS) + stack", "clean peers", RX_BWE,
			 POOL_PASS, false, false },
	[R_BARE_PASS] = { "bare XDP_PASS + stack", "clean peers", RX_PASS, POOL_PASS, false,
			  false },
	[R_NFT_PASS] = { "XDP_PASS + nftables set (miss) + stack", "clean peers", RX_PASS,
			 POOL_PASS, false, true },
	[R_BWE_PASS_FEW] = { "**bwenforce**, pass path, 1,024 active hosts", "clean peers", RX_BWE,
			     POOL_PASS, false, false, FEW_HOSTS },
	[R_BWE_PASS_ALL] = { "**bwenforce**, pass path, 65,536 active hosts", "clean peers", RX_BWE,
			     POOL_PASS, false, false, ALL_HOSTS },
	[R_BWE_DROP_NOSK] = { "**bwenforce**, drop path (BLOCK), peer sketches off", "listed peers",
			      RX_BWE, POOL_DROP, .no_sketch = true },
	[R_BWE_PASS_NOSK] = { "**bwenforce**, pass path (PASS) + stack, peer sketches off",
			      "clean peers", RX_BWE, POOL_PASS, .no_sketch = true },
	[R_BWE_DROP_MC] = { "**bwenforce**, drop path (BLOCK), 2 CPUs", "listed peers", RX_BWE,
			    POOL_DROP, .ncpu = MC_CPUS, .base = R_BWE_DROP },
	[R_BWE_DROP1_MC] = { "**bwenforce**, drop path (BLOCK), events deduplicated, 2 CPUs",
			     "one listed peer", RX_BWE, POOL_DROP, true, .ncpu = MC_CPUS,
			     .base = R_BWE_DROP1 },
	[R_BARE_DROP_MC] = { "bare XDP_DROP, 2 CPUs", "listed peers", RX_DROP, POOL_DROP,
			     .ncpu = MC_CPUS, .base = R_BARE_DROP },
	[R_BWE_PASS_MC] = { "**bwenforce**, pass path (PASS) + stack, 2 CPUs", "clean peers",
			    RX_BWE, POOL_PASS, .ncpu = MC_CPUS, .base = R_BWE_PASS },
	[R_BARE_PASS_MC] = { "bare XDP_PASS + stack, 2 CPUs", "clean peers", RX_PASS, POOL_PASS,
			     .ncpu = MC_CPUS, .base = R_BARE_PASS },
};
_Static_assert(MC_CPUS == 2, "the multi-core rows' names say 2 CPUs");
_Static_assert(MC_CPUS <= GEN_LOOPS, "a generator loop for each generating CPU");
_Static_assert(GEN_LOOPS == 2, "setup_loops() names the loops' maps");

/* Generating CPUs of row r. */
static unsigned int row_cpus(enum row r)
{
	return rows[r].ncpu ? rows[r].ncpu : 1;
}

struct opts {
	char *rx_ns, *tx_ns, *rx_if, *tx_if, *table; /* from argv */
	char *loop_a[GEN_LOOPS], *loop_b[GEN_LOOPS]; /* --loop A:B, in order */
	unsigned int nloops;
	const char *workdir; /* where the nft script is written */
	unsigned int rounds;
	double seconds;
	__u32 entries;
	__u32 seed;
	bool verbose;
};

struct stat3 {
	double med, lo, hi;
};

/* One sample of one row. */
struct result {
	double wall_mpps; /* frames received per wall-clock second, millions */
	double cpu_ns;	  /* CPU ns per frame received: generator + receiver */
	double loss;	  /* share of generated frames the receiver never counted */
	__u64 frames;	  /* frames the receiver counted */
};

struct bench {
	int rx_nsfd, tx_nsfd, home_nsfd;
	int rx_ifindex, tx_ifindex;
	__u8 rx_mac[PB_MAC_LEN], tx_mac[PB_MAC_LEN];
	struct bwe_dp *dp;
	struct bwe_bl bl;
	bool bl_ok;
	struct prog_cost_bpf *base;
	struct lookup_bpf *decide; /* bench_decide on the enforcer's maps */
	struct live_gen_bpf *gen;
	__u8 frame[BWE_PKT_MAX];
	__u32 frame_len;
	int cur_prog; /* attached rx program, -1 none */
	/* The CPUs the generating threads are pinned to: the first for the
	 * one-CPU rows, all MC_CPUS for the others; ncpus of them available. */
	int cpus[MC_CPUS];
	int ksoftirqd[MC_CPUS]; /* pid of ksoftirqd on cpus[i], -1 unknown */
	unsigned int ncpus;
	/* Live frames refused: cpus[i] generates through loops[i] (gen_loop.bpf.h). */
	bool loop;
	struct bench_loop loops[MC_CPUS];
	unsigned int nloops; /* open */
	int nft_on;	     /* -1 unknown, 0 dormant, 1 active */
	bool nft_loaded;
	size_t nft_elems;
	double nft_load_s;
	char nft_note[256];
	size_t bl_entries, bl_nets;
};

/* Whether row r runs here: the multi-core rows need MC_CPUS CPUs. */
static bool row_runs(const struct bench *b, enum row r)
{
	return row_cpus(r) <= b->ncpus;
}

/* ---- the synthetic blocklist ------------------------------------------- */

struct v4pfx {
	__u32 net; /* host order */
	int len;
};

static bool bit_get(const __u8 *bm, __u32 i)
{
	return bm[i >> 3] & (1u << (i & 7));
}

/* Whether any /24 of the prefix is painted; paints them when set. */
static bool paint(__u8 *bm, __u32 net, int len, bool set)
{
	__u32 first = net >> 8, count = len >= V4_SLASH24_BITS ? 1 : 1u << (V4_SLASH24_BITS - len);
	__u32 i;

	for (i = 0; i < count; i++) {
		if (set)
			bm[(first + i) >> 3] |= (__u8)(1u << ((first + i) & 7));
		else if (bit_get(bm, first + i))
			return true;
	}
	return false;
}

/*
 * n distinct, non-overlapping IPv4 entries (an nftables interval set refuses
 * overlaps): the POOL_N drop-pool hosts, NET_PERCENT % networks with the
 * net_lens mix, random /32s for the rest; nothing else in a test range.
 */
static int synth_make(struct v4pfx **out, size_t n, size_t *nnets, __u32 seed)
{
	__u8 *bm = calloc((1u << V4_SLASH24_BITS) / 8, 1);
	struct v4pfx *e = calloc(n, sizeof(*e));
	size_t nnet = n * NET_PERCENT / 100, got = 0, l, i, tries;
	__u32 k = 0;

	if (!bm || !e || n < POOL_N + nnet) {
		free(bm);
		free(e);
		return bm && e ? -EINVAL : -ENOMEM;
	}
	for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
		struct bwe_prefix r;

		if (bwe_prefix_parse(reserved[i], &r, 0)) {
			free(bm);
			free(e);
			return -EINVAL;
		}
		paint(bm, ntohl(bwe_addr_v4(&r.addr)), bwe_prefix_family_len(&r), true);
	}
	for (i = 0; i < POOL_N; i++)
		e[got++] = (struct v4pfx){ DROP_BASE + (__u32)i, BWE_V4_BITS };
	for (l = 0; l < NET_LENS; l++) { /* broadest first: no straddling */
		int len = net_lens[l].len;
		size_t want = l == NET_LENS - 1 ? nnet - (got - POOL_N)
						: nnet * net_lens[l].percent / 100;

		for (i = 0, tries = 0; i < want && tries < 64 * (want + 1); tries++) {
			__u32 net = bwe_mix32(seed ^ (k++ * 0x9e3779b1u)) &
				    ~((1u << (32 - len)) - 1);

			if (paint(bm, net, len, false))
				continue;
			paint(bm, net, len, true);
			e[got++] = (struct v4pfx){ net, len };
			i++;
		}
	}
	*nnets = got - POOL_N;
	for (k = 0, tries = 0; got < n && tries < 4 * n + 1024; tries++, k++) {
		__u32 h = bwe_mix32(k + seed);

		if (!bit_get(bm, h >> 8))
			e[got++] = (struct v4pfx){ h, BWE_V4_BITS };
	}
	free(bm);
	if (got != n) {
		free(e);
		return -ENOSPC;
	}
	*out = e;
	return 0;
}

/* ---- namespaces, links, commands ---------------------------------------- */

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
		memcpy(mac, ifr.ifr_hwaddr.sa_data, PB_MAC_LEN);
	close(s);
	return err;
}

/* Frames the link received (32-bit rtnl counter, in the current namespace). */
static int link_rx(const char *ifname, __u32 *rx)
{
	struct rtnl_link_stats st;
	int err = bench_link_stats(ifname, &st);

	if (!err)
		*rx = st.rx_packets;
	return err;
}

/*
 * Run a command in the current network namespace (children inherit it);
 * stdout to out (NULL: /dev/null) and stderr inherited. timeout_s > 0 kills
 * it after that long (-ETIMEDOUT). Returns 0 when it exited 0.
 */
static int run_cmd(char *const argv[], double timeout_s, char *out, size_t outlen)
{
	posix_spawn_file_actions_t fa;
	int pfd[2] = { -1, -1 }, status = 0, err;
	size_t used = 0;
	double t0 = now_s();
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC))
		return -errno;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], STDOUT_FILENO);
	err = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	if (err) {
		close(pfd[0]);
		return -err;
	}
	fcntl(pfd[0], F_SETFL, O_NONBLOCK);
	for (;;) {
		char buf[4096];
		ssize_t r = read(pfd[0], buf, sizeof(buf));
		pid_t w;

		if (r > 0 && out && used + 1 < outlen) {
			size_t take = (size_t)r < outlen - 1 - used ? (size_t)r : outlen - 1 - used;

			memcpy(out + used, buf, take);
			used += take;
		}
		if (r > 0)
			continue;
		w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			break;
		if (timeout_s > 0 && now_s() - t0 > timeout_s) {
			kill(pid, SIGKILL); /* our own child, by its pid */
			waitpid(pid, &status, 0);
			close(pfd[0]);
			return -ETIMEDOUT;
		}
		usleep(10000);
	}
	close(pfd[0]);
	if (out)
		out[used] = '\0';
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -ECHILD;
}

/* ---- nftables ------------------------------------------------------------ */

/* The table, dormant, with the set of the first n entries. */
static int nft_write(const struct opts *o, const struct v4pfx *e, size_t n, char *path,
		     size_t pathlen)
{
	int fd;
	FILE *f;
	size_t i;

	if (snprintf(path, pathlen, "%s/bwe-live-nft.XXXXXX", o->workdir) >= (int)pathlen)
		return -ENAMETOOLONG;
	fd = mkstemp(path);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		unlink(path);
		return -errno;
	}
	fprintf(f,
		"table netdev %s {\n\tflags dormant\n\tset bl {\n\t\ttype ipv4_addr\n"
		"\t\tflags interval\n\t\telements = {\n",
		o->table);
	for (i = 0; i < n; i++) {
		__u32 a = e[i].net;

		fprintf(f, "\t\t\t%u.%u.%u.%u/%d,\n", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff,
			a & 0xff, e[i].len);
	}
	fprintf(f,
		"\t\t}\n\t}\n\tchain ing {\n\t\ttype filter hook ingress device \"%s\" "
		"priority 0; policy accept;\n\t\tip daddr @bl counter drop\n\t}\n}\n",
		o->rx_if);
	if (fclose(f)) {
		unlink(path);
		return -EIO;
	}
	return 0;
}

static int nft_load(struct bench *b, const struct opts *o, const struct v4pfx *e, size_t n)
{
	char path[PATH_MAX];
	char *argv[] = { "nft", "-f", path, NULL };
	double t0;
	int err = nft_write(o, e, n, path, sizeof(path));

	if (err)
		return err;
	t0 = now_s();
	err = run_cmd(argv, NFT_LOAD_MAX_S, NULL, 0);
	b->nft_load_s = now_s() - t0;
	unlink(path);
	if (!err) {
		b->nft_loaded = true;
		b->nft_on = 0;
		b->nft_elems = n;
	}
	return err;
}

static int nft_set_active(struct bench *b, const struct opts *o, bool on)
{
	char dormant[] = "{ flags dormant; }";
	/* "add table" of an existing table without flags clears dormant */
	char *argv[] = { "nft", "add", "table", "netdev", o->table, on ? NULL : dormant, NULL };
	int err;

	if (b->nft_on == (int)on)
		return 0;
	err = run_cmd(argv, 0, NULL, 0);
	if (!err)
		b->nft_on = on;
	return err;
}

/*
 * Packets the receiver's IP layer took in (Ip: InReceives of /proc/self/net/snmp,
 * which follows our current namespace), or -1. Frames nftables drops at the
 * ingress hook never get there; passed frames all do. (Reading the rule's
 * counter instead would make nft fetch the whole 1M-element set each time.)
 */
static long long ip_in_receives(const struct bench *b)
{
	char hdr[1024], val[1024];
	char *hs, *vs, *h, *v;
	long long n = -1;
	FILE *f;

	if (enter(b->rx_nsfd))
		return -1;
	f = fopen("/proc/self/net/snmp", "re");
	if (!f)
		return -1;
	while (fgets(hdr, sizeof(hdr), f) && fgets(val, sizeof(val), f)) {
		if (strncmp(hdr, "Ip:", 3) || strncmp(val, "Ip:", 3))
			continue;
		h = strtok_r(hdr, " \n", &hs);
		v = strtok_r(val, " \n", &vs);
		while (h && v) {
			if (!strcmp(h, "InReceives")) {
				n = strtoll(v, NULL, 10);
				break;
			}
			h = strtok_r(NULL, " \n", &hs);
			v = strtok_r(NULL, " \n", &vs);
		}
		break;
	}
	fclose(f);
	return n;
}

/* ---- receiver and generator ---------------------------------------------- */

static int setup_enforcer(struct bench *b, const struct v4pfx *e, size_t n)
{
	static const __u16 std_ports[] = { 53, 80, 443 };
	struct bwe_config cfg = { .event_dedup_ns = DEDUP_NS };
	/* room for every source of every row (slots for the internal /16, as the
	 * daemon gives them): a full LRU table would evict and
	 * re-create records, which the host-count rows are not about */
	struct bwe_dp_opts dpo = { .hosts_max = HOSTS_TABLE, .hslots = UINT32_MAX };
	struct bwe_ncset nc;
	struct bwe_prefix p;
	size_t i;
	int err;

	err = bwe_dp_open(&b->dp, &dpo);
	if (err) {
		fprintf(stderr, "live_frames: loading the enforcer: %s\n", errstr(err));
		return err;
	}
	err = bwe_dp_config_set(b->dp, &cfg);
	err = err
		      ?: bwe_dp_std_ports_set(b->dp, std_ports,
					      sizeof(std_ports) / sizeof(std_ports[0]));
	bwe_ncset_init(&nc);
	err = err ?: bwe_prefix_parse(INTERNAL, &p, 0);
	err = err ?: bwe_ncset_add(&nc, &p, BWE_NC_INTERNAL);
	err = err ?: bwe_dp_netclass_apply(b->dp, &nc);
	bwe_ncset_free(&nc);
	err = err ?: bwe_bl_init(&b->bl, b->dp);
	if (err)
		return err;
	b->bl_ok = true;
	for (i = 0; i < n && !err; i++) {
		memset(&p, 0, sizeof(p));
		p.plen = (__u8)(BWE_V4_MAPPED_PLEN + e[i].len);
		bwe_addr_from_v4(htonl(e[i].net), &p.addr);
		err = bwe_bl_set(&b->bl, &p, bwe_ref(FEED_SYNTH, 0));
	}
	err = err ?: bwe_bl_flush(&b->bl);
	if (err)
		fprintf(stderr, "live_frames: filling the blocklist: %s\n", errstr(err));
	return err;
}

static int setup_gen(struct bench *b)
{
	struct pb_spec spec = { .src = "198.18.0.1",
				.dst = "198.19.0.1",
				.proto = IPPROTO_UDP,
				.sport = GEN_SPORT,
				.dport = GEN_DPORT,
				.payload = FRAME_PAYLOAD };
	__be32 *pool;
	__u32 i, *keys, count = 2 * POOL_N;
	int len, err;
	LIBBPF_OPTS(bpf_map_batch_opts, bo, .elem_flags = BPF_ANY);

	memcpy(spec.smac, b->tx_mac, PB_MAC_LEN);
	memcpy(spec.dmac, b->rx_mac, PB_MAC_LEN);
	len = pb_build(&spec, b->frame, sizeof(b->frame));
	if (len <= 0)
		return len ? len : -EINVAL;
	b->frame_len = (__u32)len;
	/* The generator rewrites the addresses; an IPv4 UDP checksum of 0 means none. */
	b->frame[UDP_CSUM_OFF] = 0;
	b->frame[UDP_CSUM_OFF + 1] = 0;

	b->gen = live_gen_bpf__open();
	if (!b->gen)
		return -errno;
	b->gen->rodata->gen_src_base = SRC_BASE;
	err = bpf_map__set_max_entries(b->gen->maps.gen_pool, 2 * POOL_N);
	err = err ?: live_gen_bpf__load(b->gen);
	if (err)
		return err;
	/* live frames: no limit; a loop's is armed per sample (bench_loop_run()) */
	if (!b->loop)
		for (i = 0; i < GEN_CPUS_MAX; i++)
			b->gen->bss->gen_cpu[i].limit = ~0ULL;
	keys = calloc(2 * POOL_N, sizeof(*keys));
	pool = calloc(2 * POOL_N, sizeof(*pool));
	if (!keys || !pool) {
		free(keys);
		free(pool);
		return -ENOMEM;
	}
	for (i = 0; i < POOL_N; i++) {
		keys[i] = i;
		keys[POOL_N + i] = POOL_N + i;
		pool[i] = htonl(DROP_BASE + i);
		pool[POOL_N + i] = htonl(PASS_BASE + i);
	}
	err = bpf_map_update_batch(bpf_map__fd(b->gen->maps.gen_pool), keys, pool, &count, &bo)
		      ? -errno
		      : 0;
	free(keys);
	free(pool);
	return err;
}

/* The enforcer's per-peer sketches on or off (policy.peer_sketches). */
static int sketches_set(struct bench *b, bool on)
{
	struct bwe_config c;
	int err = bwe_dp_config_get(b->dp, &c);

	if (err)
		return err;
	if (!(c.flags & BWE_CFG_NO_SKETCH) == on)
		return 0;
	c.flags ^= BWE_CFG_NO_SKETCH;
	return bwe_dp_config_set(b->dp, &c);
}

static int rx_attach(struct bench *b, enum rx_prog p)
{
	int fd = p == RX_BWE	  ? bwe_dp_prog_fd(b->dp)
		 : p == RX_DROP	  ? bpf_program__fd(b->base->progs.base_drop)
		 : p == RX_DECIDE ? bpf_program__fd(b->decide->progs.bench_decide)
				  : bpf_program__fd(b->base->progs.base_pass);
	int err;

	if (b->cur_prog == (int)p)
		return 0;
	err = bpf_xdp_attach(b->rx_ifindex, fd, XDP_FLAGS_DRV_MODE, NULL);
	if (!err)
		b->cur_prog = (int)p;
	return err;
}

/* Run time of the ksoftirqd of the first n generating CPUs, ns
 * (/proc/PID/schedstat); one that is unknown counts 0. */
static __u64 ksoftirqd_ns(const struct bench *b, unsigned int n)
{
	__u64 sum = 0;
	unsigned int i;

	for (i = 0; i < n; i++)
		sum += pid_run_ns(b->ksoftirqd[i]);
	return sum;
}

/* The start line of a sample's generating threads. */
struct gen_start {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned int ready; /* threads pinned and in the namespace (or failed) */
	int go;		    /* 1: generate, -1: give up */
};

/* One generating thread: pinned on its CPU, in the sender's namespace. */
struct gen_worker {
	const struct bench *b;
	struct gen_start *start;
	int cpu;
	unsigned int idx; /* of cpu in b->cpus */
	double secs;
	/* out */
	double t0, t1; /* its generation, CLOCK_MONOTONIC s */
	__u64 sent;    /* frames it generated */
	__u64 cpu_ns;  /* its CPU time while generating */
	int err;
};

static void *gen_worker_run(void *arg)
{
	struct gen_worker *w = arg;
	const struct bench *b = w->b;
	struct xdp_md md = { .data_end = b->frame_len, .ingress_ifindex = (__u32)b->tx_ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = b->frame, .data_size_in = b->frame_len,
		    .ctx_in = &md, .ctx_size_in = sizeof(md), .repeat = CHUNK_FRAMES,
		    .batch_size = GEN_BATCH, .flags = BPF_F_TEST_XDP_LIVE_FRAMES);
	cpu_set_t set;
	__u64 c0;
	int go;

	/* setns() and the affinity are this thread's own */
	CPU_ZERO(&set);
	CPU_SET(w->cpu, &set);
	w->err = sched_setaffinity(0, sizeof(set), &set) ? -errno : enter(b->tx_nsfd);
	if (!w->err && sched_getcpu() != w->cpu)
		w->err = -EXDEV;
	pthread_mutex_lock(&w->start->mu);
	w->start->ready++;
	pthread_cond_broadcast(&w->start->cv);
	while (!w->start->go)
		pthread_cond_wait(&w->start->cv, &w->start->mu);
	go = w->start->go;
	pthread_mutex_unlock(&w->start->mu);
	if (w->err || go < 0)
		return NULL;
	w->t0 = now_s();
	c0 = thread_cpu_ns();
	if (b->loop) {
		/* this CPU's loop, in its softirqs: this thread's and ksoftirqd's time */
		volatile struct gen_cpu *g = &b->gen->bss->gen_cpu[w->cpu];

		w->err = bench_loop_run(&b->loops[w->idx], &g->limit, &g->count, b->frame,
					b->frame_len, w->t0 + w->secs, &w->sent);
		w->t1 = now_s();
	} else {
		do {
			if (bpf_prog_test_run_opts(bpf_program__fd(b->gen->progs.gen_tx), &t)) {
				w->err = -errno;
				break;
			}
			w->sent += CHUNK_FRAMES;
			w->t1 = now_s();
		} while (w->t1 - w->t0 < w->secs);
	}
	w->cpu_ns = thread_cpu_ns() - c0;
	return NULL;
}

/*
 * Generate for secs into row r, with one thread on each of the row's CPUs,
 * each on its own slice of the row's sources. Rates count the frames the
 * receiving veth saw: per wall-clock second (first start to last end), and
 * per CPU second (the generating threads, where the generator and the
 * receiver's NAPI run, plus the ksoftirqd of their CPUs).
 */
static int sample(struct bench *b, const struct opts *o, enum row r, double secs,
		  struct result *res)
{
	unsigned int ncpu = row_cpus(r), i, started = 0;
	__u32 slice = (rows[r].hosts ? rows[r].hosts : SRC_HOSTS) / ncpu;
	struct gen_start start = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0 };
	struct gen_worker w[MC_CPUS] = { 0 };
	pthread_t th[MC_CPUS];
	__u64 sent = 0, cpu_ns = 0, k0, k1, frames;
	double t0 = 0, t1 = 0;
	__u32 rx0, rx1, got;
	int err;

	if (ncpu > b->ncpus)
		return -EXDEV;
	err = enter(b->rx_nsfd);
	err = err ?: sketches_set(b, !rows[r].no_sketch);
	err = err ?: rx_attach(b, rows[r].prog);
	err = err ?: nft_set_active(b, o, rows[r].nft);
	err = err ?: link_rx(o->rx_if, &rx0);
	if (!err && rows[r].gen_only)
		err = bench_link_set_up(o->rx_if, false);
	if (err)
		return err;
	b->gen->bss->gen_pool_off = rows[r].pool == POOL_DROP ? 0 : POOL_N;
	b->gen->bss->gen_pool_mask = rows[r].one_peer ? 0 : POOL_N - 1;
	b->gen->bss->gen_src_mask = slice - 1;
	for (i = 0; i < ncpu; i++)
		b->gen->bss->gen_cpu[b->cpus[i]].src_off = i * slice;
	k0 = ksoftirqd_ns(b, ncpu);
	for (i = 0; i < ncpu; i++) {
		w[i] = (struct gen_worker){ .b = b,
					    .start = &start,
					    .cpu = b->cpus[i],
					    .idx = i,
					    .secs = secs };
		err = -pthread_create(&th[i], NULL, gen_worker_run, &w[i]);
		if (err)
			break;
		started++;
	}
	/* all pinned first, then all at once (or none: a thread failed to start) */
	pthread_mutex_lock(&start.mu);
	while (!err && start.ready < ncpu)
		pthread_cond_wait(&start.cv, &start.mu);
	start.go = err ? -1 : 1;
	pthread_cond_broadcast(&start.cv);
	pthread_mutex_unlock(&start.mu);
	for (i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	if (rows[r].gen_only) {
		/* up again whatever happened: every other row needs the receiver */
		int up = enter(b->rx_nsfd);

		up = up ?: bench_link_set_up(o->rx_if, true);
		err = err ?: up;
	}
	if (err)
		return err;
	usleep(DRAIN_US);
	k1 = ksoftirqd_ns(b, ncpu);
	if (b->loop && k1 == k0)
		return -ENODATA; /* a loop runs in ksoftirqd: its time was not read */
	for (i = 0; i < ncpu; i++) {
		if (w[i].err)
			return w[i].err;
		sent += w[i].sent;
		cpu_ns += w[i].cpu_ns;
		t0 = i && t0 < w[i].t0 ? t0 : w[i].t0;
		t1 = w[i].t1 > t1 ? w[i].t1 : t1;
	}
	err = enter(b->rx_nsfd);
	err = err ?: link_rx(o->rx_if, &rx1);
	if (err)
		return err;
	got = rx1 - rx0; /* 32-bit counter: a delta survives one wrap */
	if (rows[r].gen_only) {
		/* nothing may reach a receiver that is down: the frames are the generator's */
		if (got > sent / 1000) {
			fprintf(stderr,
				"live_frames: %s: the receiving veth counted %u of %llu frames "
				"while down\n",
				rows[r].name, got, (unsigned long long)sent);
			return -EPROTO;
		}
		frames = sent;
	} else {
		frames = got;
	}
	if (!frames)
		return -EIO;
	res->wall_mpps = (double)frames / (t1 - t0) / 1e6;
	res->cpu_ns = (double)(cpu_ns + k1 - k0) / (double)frames;
	res->loss = rows[r].gen_only ? 0 : 1.0 - (double)got / (double)sent;
	res->frames = frames;
	return 0;
}

/*
 * Packets the enforcer counted in stat slot on each generating CPU (both
 * directions): out[i] for b->cpus[i].
 */
static int stats_per_cpu(const struct bench *b, __u32 slot, __u64 out[MC_CPUS])
{
	int fd = bwe_dp_map_fd(b->dp, "bwe_stats"), n = libbpf_num_possible_cpus(), err = 0;
	struct bwe_counter *pc;
	unsigned int i;
	__u32 dir, idx;

	if (fd < 0 || n <= 0)
		return fd < 0 ? fd : -EINVAL;
	pc = calloc((size_t)n, sizeof(*pc));
	if (!pc)
		return -ENOMEM;
	memset(out, 0, MC_CPUS * sizeof(*out));
	for (dir = 0; dir < BWE_SD_MAX && !err; dir++) {
		idx = bwe_stat_index(slot, dir);
		if (bpf_map_lookup_elem(fd, &idx, pc)) {
			err = -errno;
			break;
		}
		for (i = 0; i < b->ncpus; i++)
			if (b->cpus[i] < n)
				out[i] += pc[b->cpus[i]].packets;
	}
	free(pc);
	return err;
}

/*
 * A multi-core row must have generated, and (enforcer) decided, a fair
 * share on every one of its CPUs: frames of one CPU received on another
 * would measure a shared NAPI, not the enforcer's scaling.
 */
static int check_cpus(const struct bench *b, enum row r, const __u64 gen0[MC_CPUS],
		      const __u64 v0[MC_CPUS])
{
	__u64 v1[MC_CPUS], dg[MC_CPUS], dv[MC_CPUS], gsum = 0, vsum = 0;
	__u32 want = rows[r].pool == POOL_DROP ? BWE_R_BLOCK : BWE_R_PASS;
	unsigned int i, n = row_cpus(r);
	int err = rows[r].prog == RX_BWE ? stats_per_cpu(b, want, v1) : 0;

	if (err)
		return err;
	for (i = 0; i < n; i++) {
		dg[i] = b->gen->bss->gen_cpu[b->cpus[i]].count - gen0[i];
		dv[i] = rows[r].prog == RX_BWE ? v1[i] - v0[i] : 0;
		gsum += dg[i];
		vsum += dv[i];
	}
	for (i = 0; i < n; i++) {
		if (dg[i] < MC_MIN_SHARE * gsum / n || dv[i] < MC_MIN_SHARE * vsum / n) {
			fprintf(stderr,
				"live_frames: %s: CPU %d generated %llu of %llu frames and the "
				"enforcer decided %llu of %llu there\n",
				rows[r].name, b->cpus[i], (unsigned long long)dg[i],
				(unsigned long long)gsum, (unsigned long long)dv[i],
				(unsigned long long)vsum);
			return -EPROTO;
		}
	}
	return 0;
}

/* Every row once, short: each delivers, and the enforcer and nftables decide as they should. */
static int check_rows(struct bench *b, const struct opts *o)
{
	struct bwe_counter c0[BWE_STATS_MAX], c1[BWE_STATS_MAX];
	__u64 gen0[MC_CPUS], v0[MC_CPUS];
	struct result res;
	long long n0, n1;
	unsigned int i;
	int r, err;

	for (r = 0; r < R_MAX; r++) {
		if (!row_runs(b, (enum row)r))
			continue;
		for (i = 0; i < b->ncpus; i++)
			gen0[i] = b->gen->bss->gen_cpu[b->cpus[i]].count;
		n0 = ip_in_receives(b);
		err = bwe_dp_stats_read(b->dp, c0);
		err = err
			      ?: stats_per_cpu(b,
					       rows[r].pool == POOL_DROP ? BWE_R_BLOCK : BWE_R_PASS,
					       v0);
		err = err ?: sample(b, o, (enum row)r, WARMUP_S, &res);
		err = err ?: bwe_dp_stats_read(b->dp, c1);
		if (!err && row_cpus((enum row)r) > 1)
			err = check_cpus(b, (enum row)r, gen0, v0);
		n1 = ip_in_receives(b);
		if (err) {
			fprintf(stderr, "live_frames: %s: %s\n", rows[r].name, errstr(err));
			return err;
		}
		if (verbose)
			fprintf(stderr,
				"live_frames: check %s: %.2f Mpps wall, %.1f CPU ns/frame, "
				"loss %.3f, bwe PASS +%llu BLOCK +%llu EVENT_LOST +%llu, IP in +%lld\n",
				rows[r].name, res.wall_mpps, res.cpu_ns, res.loss,
				(unsigned long long)(c1[BWE_R_PASS].packets -
						     c0[BWE_R_PASS].packets),
				(unsigned long long)(c1[BWE_R_BLOCK].packets -
						     c0[BWE_R_BLOCK].packets),
				(unsigned long long)(c1[BWE_A_EVENT_LOST].packets -
						     c0[BWE_A_EVENT_LOST].packets),
				n1 - n0);
		if (rows[r].prog == RX_BWE) {
			__u32 want = rows[r].pool == POOL_DROP ? BWE_R_BLOCK : BWE_R_PASS;
			__u64 all = 0, got = c1[want].packets - c0[want].packets;
			int k;

			for (k = 0; k < BWE_R_MAX; k++)
				all += c1[k].packets - c0[k].packets;
			if (!all || got != all) {
				fprintf(stderr,
					"live_frames: %s: the enforcer gave %llu of %llu frames "
					"the expected verdict\n",
					rows[r].name, (unsigned long long)got,
					(unsigned long long)all);
				return -EPROTO;
			}
		}
		/* Passed frames reach IP; dropped ones (XDP or nftables) do not. */
		if (n0 < 0 || n1 < 0) {
			fprintf(stderr, "live_frames: cannot read the receiver's IP counters\n");
			return -EIO;
		}
		if ((rows[r].pool == POOL_DROP) != (n1 - n0 < (long long)(res.frames / 2))) {
			fprintf(stderr,
				"live_frames: %s: %lld of %llu frames reached the receiver's "
				"IP layer\n",
				rows[r].name, n1 - n0, (unsigned long long)res.frames);
			return -EPROTO;
		}
	}
	return 0;
}

/* ---- statistics and report ----------------------------------------------- */

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

static void usage(FILE *f)
{
	fprintf(f,
		"usage: live_frames --rx-ns NS --tx-ns NS --rx-if IF --tx-if IF --nft-table T\n"
		"                   [--loop A:B]... [--workdir DIR] [--rounds R] [--seconds S]\n"
		"                   [--entries N] [--seed S] [--quick] [-v]\n"
		"  --loop A:B  a veth pair of the sender's namespace for a generator loop, one\n"
		"              per generating CPU (at most %d): used where the kernel refuses\n"
		"              live frames (bench/gen_loop.bpf.h)\n"
		"  --quick   %u rounds of %.1f s, %u entries: a smoke run (options after it win)\n"
		"  run through bench/live_frames.sh, which builds the namespaces and the veth pair\n",
		GEN_LOOPS, QUICK_ROUNDS, QUICK_SECONDS, QUICK_ENTRIES);
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "rx-ns", required_argument, NULL, 'R' },
		{ "tx-ns", required_argument, NULL, 'T' },
		{ "rx-if", required_argument, NULL, 'r' },
		{ "tx-if", required_argument, NULL, 't' },
		{ "nft-table", required_argument, NULL, 'N' },
		{ "loop", required_argument, NULL, 'L' },
		{ "workdir", required_argument, NULL, 'W' },
		{ "rounds", required_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, 'S' },
		{ "entries", required_argument, NULL, 'e' },
		{ "seed", required_argument, NULL, 's' },
		{ "quick", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long v;
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "vh", lo, NULL)) != -1) {
		errno = 0;
		switch (c) {
		case 'R':
			o->rx_ns = optarg;
			break;
		case 'T':
			o->tx_ns = optarg;
			break;
		case 'r':
			o->rx_if = optarg;
			break;
		case 't':
			o->tx_if = optarg;
			break;
		case 'N':
			o->table = optarg;
			break;
		case 'W':
			o->workdir = optarg;
			break;
		case 'L':
			if (o->nloops >= GEN_LOOPS ||
			    bench_loop_arg(optarg, &o->loop_a[o->nloops], &o->loop_b[o->nloops]))
				return -EINVAL;
			o->nloops++;
			break;
		case 'n':
			v = strtoul(optarg, &end, 0);
			if (errno || *end || v < 1 || v > ROUNDS_MAX)
				return -EINVAL;
			o->rounds = (unsigned int)v;
			break;
		case 'S':
			o->seconds = strtod(optarg, &end);
			if (errno || *end || o->seconds < 0.05 || o->seconds > 10)
				return -EINVAL;
			break;
		case 'e':
			v = strtoul(optarg, &end, 0);
			if (errno || *end || v < 2 * POOL_N || v > ENTRIES_MAX)
				return -EINVAL;
			o->entries = (__u32)v;
			break;
		case 's':
			v = strtoul(optarg, &end, 0);
			if (errno || *end || v > UINT32_MAX)
				return -EINVAL;
			o->seed = (__u32)v;
			break;
		case 'q':
			o->rounds = QUICK_ROUNDS;
			o->seconds = QUICK_SECONDS;
			o->entries = QUICK_ENTRIES;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -EINVAL;
		}
	}
	if (optind != argc || !o->rx_ns || !o->tx_ns || !o->rx_if || !o->tx_if || !o->table)
		return -EINVAL;
	return 0;
}

/*
 * The generating CPUs: the first MC_CPUS this process may run on (and the
 * generator has a slot for); b->ncpus of them. One alone (taskset, a
 * one-CPU machine) skips the multi-core rows.
 */
static int pick_cpus(struct bench *b)
{
	const unsigned int slots = GEN_CPUS_MAX;
	cpu_set_t set;
	unsigned int c;

	if (sched_getaffinity(0, sizeof(set), &set))
		return -errno;
	b->ncpus = 0;
	for (c = 0; c < slots && c < CPU_SETSIZE && b->ncpus < MC_CPUS; c++) {
		if (!CPU_ISSET(c, &set))
			continue;
		b->cpus[b->ncpus] = (int)c;
		b->ksoftirqd[b->ncpus] = find_ksoftirqd((int)c);
		if (b->ksoftirqd[b->ncpus] < 0)
			fprintf(stderr,
				"live_frames: ksoftirqd/%u not found: deferred softirqs not "
				"counted\n",
				c);
		b->ncpus++;
	}
	return b->ncpus ? 0 : -ENODEV;
}

/*
 * Where live frames are refused: a loop for each generating CPU (as many as
 * --loop gave; the multi-core rows need MC_CPUS), in the sender's namespace.
 */
static int setup_loops(struct bench *b, const struct opts *o)
{
	struct bpf_map *maps[GEN_LOOPS] = { b->gen->maps.gen_loop1, b->gen->maps.gen_loop2 };
	int err = enter(b->tx_nsfd);
	unsigned int i;

	if (b->ncpus > o->nloops) {
		fprintf(stderr,
			"live_frames: %u generator loop(s) for %u CPUs: the %d-CPU rows are "
			"skipped\n",
			o->nloops, b->ncpus, MC_CPUS);
		b->ncpus = o->nloops;
	}
	for (i = 0; i < b->ncpus && !err; i++) {
		/* the loop's work is ksoftirqd's: without it nothing would be counted */
		if (b->ksoftirqd[i] < 0) {
			fprintf(stderr,
				"live_frames: ksoftirqd/%d not found: a loop's CPU time "
				"could not be counted\n",
				b->cpus[i]);
			err = -ESRCH;
			break;
		}
		err = bench_loop_open(&b->loops[i], o->loop_a[i], o->loop_b[i], b->tx_ifindex,
				      bpf_map__fd(maps[i]), bpf_program__fd(b->gen->progs.gen_tx));
		if (!err) {
			b->nloops++;
			b->gen->bss->gen_cpu[b->cpus[i]].loop = i + 1;
		}
	}
	return err;
}

/*
 * bench/run.sh's goal protocol: when $BENCH_GOALS names a file, append
 * "GOAL<TAB>figure<TAB>measured<TAB>goal<TAB>result" to it (result: met,
 * not met, or what stands for it where the issue sets no goal).
 */
static void goal_text(const char *figure, const char *measured, const char *goal,
		      const char *result)
{
	const char *path = getenv("BENCH_GOALS");
	FILE *f;

	if (!path || !*path)
		return;
	f = fopen(path, "ae");
	if (!f) {
		fprintf(stderr, "live_frames: %s: %s\n", path, strerror(errno));
		return;
	}
	fprintf(f, "GOAL\t%s\t%s\t%s\t%s\n", figure, measured, goal, result);
	fclose(f);
}

/* A measured figure: its median (min … max) in fmt. */
static void goal_line(const char *figure, struct stat3 v, const char *fmt, const char *goal,
		      const char *result)
{
	char med[32], lo[32], hi[32], measured[112];

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	snprintf(med, sizeof(med), fmt, v.med);
	snprintf(lo, sizeof(lo), fmt, v.lo);
	snprintf(hi, sizeof(hi), fmt, v.hi);
#pragma GCC diagnostic pop
	snprintf(measured, sizeof(measured), "%s (%s … %s)", med, lo, hi);
	goal_text(figure, measured, goal, result);
}

static const char *met(bool yes)
{
	return yes ? "met" : "not met";
}

/* Per round: f(row values) -> x[round], summarised. */
static struct stat3 per_round(const struct result res[R_MAX][ROUNDS_MAX], unsigned int n,
			      double (*f)(const struct result *row_of_round[R_MAX]))
{
	const struct result *rr[R_MAX];
	double x[ROUNDS_MAX];
	unsigned int i;
	int r;

	for (i = 0; i < n; i++) {
		for (r = 0; r < R_MAX; r++)
			rr[r] = &res[r][i];
		x[i] = f(rr);
	}
	return summarise(x, n);
}

static double drop_ratio_cpu(const struct result *r[R_MAX])
{
	return r[R_BWE_DROP]->cpu_ns / r[R_BARE_DROP]->cpu_ns;
}

static double drop1_ratio_cpu(const struct result *r[R_MAX])
{
	return r[R_BWE_DROP1]->cpu_ns / r[R_BARE_DROP]->cpu_ns;
}

static double drop_ratio_wall(const struct result *r[R_MAX])
{
	return r[R_BARE_DROP]->wall_mpps / r[R_BWE_DROP]->wall_mpps;
}

static double pass_extra_cpu(const struct result *r[R_MAX])
{
	return r[R_BWE_PASS]->cpu_ns - r[R_BARE_PASS]->cpu_ns;
}

static double pass_extra_wall(const struct result *r[R_MAX])
{
	return 1e3 / r[R_BWE_PASS]->wall_mpps - 1e3 / r[R_BARE_PASS]->wall_mpps;
}

static double nft_ratio_cpu(const struct result *r[R_MAX])
{
	return r[R_NFT_DROP]->cpu_ns / r[R_BWE_DROP]->cpu_ns;
}

static double decide_nft_ratio_cpu(const struct result *r[R_MAX])
{
	return r[R_NFT_DROP]->cpu_ns / r[R_DECIDE_DROP]->cpu_ns;
}

static double decide_extra_cpu(const struct result *r[R_MAX])
{
	return r[R_BWE_DROP]->cpu_ns - r[R_DECIDE_DROP]->cpu_ns;
}

static double nft_ratio_wall(const struct result *r[R_MAX])
{
	return r[R_BWE_DROP]->wall_mpps / r[R_NFT_DROP]->wall_mpps;
}

static double hosts_ratio_cpu(const struct result *r[R_MAX])
{
	return r[R_BWE_PASS_ALL]->cpu_ns / r[R_BWE_PASS_FEW]->cpu_ns;
}

static double nosk_drop_ratio_cpu(const struct result *r[R_MAX])
{
	return r[R_BWE_DROP_NOSK]->cpu_ns / r[R_BARE_DROP]->cpu_ns;
}

static double nosk_pass_extra_cpu(const struct result *r[R_MAX])
{
	return r[R_BWE_PASS_NOSK]->cpu_ns - r[R_BARE_PASS]->cpu_ns;
}

static double nosk_nft_ratio_cpu(const struct result *r[R_MAX])
{
	return r[R_NFT_DROP]->cpu_ns / r[R_BWE_DROP_NOSK]->cpu_ns;
}

/*
 * The gateway's own CPU per frame: row minus the generator alone, the same
 * round (what receiving and judging a frame cost the CPU, as fwd_frames
 * takes the gateway's own cost). NAN where the generator alone cost as much.
 */
static double own_ns(const struct result *r[R_MAX], enum row row)
{
	double v = r[row]->cpu_ns - r[R_GEN]->cpu_ns;

	return v > 0 ? v : NAN;
}

static double own_bare_drop(const struct result *r[R_MAX])
{
	return own_ns(r, R_BARE_DROP);
}

static double own_bwe_drop(const struct result *r[R_MAX])
{
	return own_ns(r, R_BWE_DROP);
}

static double own_decide(const struct result *r[R_MAX])
{
	return own_ns(r, R_DECIDE_DROP);
}

static double own_nft_drop(const struct result *r[R_MAX])
{
	return own_ns(r, R_NFT_DROP);
}

static double own_drop_ratio(const struct result *r[R_MAX])
{
	return own_ns(r, R_BWE_DROP) / own_ns(r, R_BARE_DROP);
}

static double own_nft_ratio(const struct result *r[R_MAX])
{
	return own_ns(r, R_NFT_DROP) / own_ns(r, R_BWE_DROP);
}

static double own_decide_nft_ratio(const struct result *r[R_MAX])
{
	return own_ns(r, R_NFT_DROP) / own_ns(r, R_DECIDE_DROP);
}

static double own_hosts_ratio(const struct result *r[R_MAX])
{
	return own_ns(r, R_BWE_PASS_ALL) / own_ns(r, R_BWE_PASS_FEW);
}

/* Multi-core: per round, row a's figure over row b's (wall-clock packet rate or CPU ns/frame). */
static struct stat3 rows_ratio(const struct result res[R_MAX][ROUNDS_MAX], unsigned int n,
			       enum row a, enum row b, bool cpu)
{
	double x[ROUNDS_MAX];
	unsigned int i;

	for (i = 0; i < n; i++)
		x[i] = cpu ? res[a][i].cpu_ns / res[b][i].cpu_ns
			   : res[a][i].wall_mpps / res[b][i].wall_mpps;
	return summarise(x, n);
}

/* The multi-core rows: the ratios, or why they were skipped. */
static void print_multicore(const struct bench *b, const struct result res[R_MAX][ROUNDS_MAX],
			    unsigned int n)
{
	static const struct {
		enum row mc, bare; /* bare: the baseline of the same path */
		const char *figure;
	} paths[] = {
		{ R_BWE_DROP_MC, R_BARE_DROP_MC, "drop path" },
		{ R_BWE_PASS_MC, R_BARE_PASS_MC, "pass path" },
	};
	struct stat3 w, c, bw, bc;
	char figure[160];
	size_t k;
	int r;

	printf("\n#### %d CPUs vs 1\n\n", MC_CPUS);
	if (b->ncpus < MC_CPUS) {
		printf("**Skipped:** this run could use %u CPU (%ld online): the multi-core rows "
		       "need %d.\n",
		       b->ncpus, sysconf(_SC_NPROCESSORS_ONLN), MC_CPUS);
		goal_text("multi-core: 2 cores vs 1", "skipped: one CPU available",
			  "— (none in #13)", "skipped");
		return;
	}
	printf("The same receivers with a generating thread pinned on each of CPUs %d and %d "
	       "at once, each sending its own half of the sources: per round, the %d-CPU row "
	       "over the one-CPU row of the same receiver. Ideal: %d× the packets per "
	       "wall-clock second at the same CPU ns per frame. The wall-clock ratio depends on "
	       "how much of each CPU the other work on a shared VM leaves to the generating "
	       "threads (the bare programs' ratio is what this run allowed); the CPU-time ratio "
	       "does not: above the bare program's, it is time the CPUs cost each other through "
	       "the program's shared state (written cache lines, locks).\n\n",
	       b->cpus[0], b->cpus[1], MC_CPUS, MC_CPUS);
	printf("| receiver | packets per wall-clock second, %d CPUs / 1 | CPU ns per frame, "
	       "%d CPUs / 1 |\n",
	       MC_CPUS, MC_CPUS);
	printf("|---|---:|---:|\n");
	for (r = 0; r < R_MAX; r++) {
		if (row_cpus((enum row)r) < 2)
			continue;
		w = rows_ratio(res, n, (enum row)r, rows[r].base, false);
		c = rows_ratio(res, n, (enum row)r, rows[r].base, true);
		printf("| %s | %.2f× (%.2f–%.2f) | %.2f× (%.2f–%.2f) |\n", rows[rows[r].base].name,
		       w.med, w.lo, w.hi, c.med, c.lo, c.hi);
	}
	printf("\n");
	for (k = 0; k < sizeof(paths) / sizeof(paths[0]); k++) {
		w = rows_ratio(res, n, paths[k].mc, rows[paths[k].mc].base, false);
		c = rows_ratio(res, n, paths[k].mc, rows[paths[k].mc].base, true);
		bw = rows_ratio(res, n, paths[k].bare, rows[paths[k].bare].base, false);
		bc = rows_ratio(res, n, paths[k].bare, rows[paths[k].bare].base, true);
		printf("- Multi-core, enforcer %s, %d CPUs vs 1: **%.2f×** the packets per "
		       "wall-clock second (%.2f–%.2f), the bare program %.2f× (%.2f–%.2f); CPU ns "
		       "per frame %.2f× (%.2f–%.2f), the bare program's %.2f×: %s.\n",
		       paths[k].figure, MC_CPUS, w.med, w.lo, w.hi, bw.med, bw.lo, bw.hi, c.med,
		       c.lo, c.hi, bc.med,
		       c.med > bc.med * MC_SHARED_COST
			       ? "the enforcer's frames cost more CPU when both CPUs run it, so its "
				 "shared state limits the scaling"
			       : "the enforcer's frames cost no more CPU when both CPUs run it than "
				 "the bare program's, so no shared state of the enforcer limits the "
				 "scaling at these rates");
		snprintf(figure, sizeof(figure),
			 "multi-core: 2 cores vs 1, enforcer %s, packets per wall-clock second "
			 "(bare program: %.2f×)",
			 paths[k].figure, bw.med);
		goal_line(figure, w, "%.2f×", "— (none in #13)", "reported");
	}
}

/*
 * The goals' ratios on the gateway's own CPU per frame (own_ns()): the
 * generator is test equipment, and its share of a total differs from VM to
 * VM (a clone and a second program run a frame with the loop).
 */
static void print_own(const struct result res[R_MAX][ROUNDS_MAX], unsigned int n)
{
	static const enum row used[] = { R_BARE_DROP, R_BWE_DROP,     R_DECIDE_DROP,
					 R_NFT_DROP,  R_BWE_PASS_FEW, R_BWE_PASS_ALL };
	struct stat3 g, bd, ed, dd, nd, dr, nr, fr, hr;
	double x[ROUNDS_MAX];
	unsigned int i, k;

	for (i = 0; i < n; i++) {
		x[i] = res[R_GEN][i].cpu_ns;
		for (k = 0; k < sizeof(used) / sizeof(used[0]); k++) {
			if (res[used[k]][i].cpu_ns <= res[R_GEN][i].cpu_ns) {
				printf("- The gateway's own cost per frame could not be taken: in "
				       "round %u the generator alone cost %.0f CPU ns a frame, "
				       "\"%s\" %.0f.\n",
				       i + 1, res[R_GEN][i].cpu_ns, rows[used[k]].name,
				       res[used[k]][i].cpu_ns);
				goal_text("gateway's own CPU per frame (generator taken out)",
					  "not measured", "—", "not measured");
				return;
			}
		}
	}
	g = summarise(x, n);
	bd = per_round(res, n, own_bare_drop);
	ed = per_round(res, n, own_bwe_drop);
	dd = per_round(res, n, own_decide);
	nd = per_round(res, n, own_nft_drop);
	dr = per_round(res, n, own_drop_ratio);
	nr = per_round(res, n, own_nft_ratio);
	fr = per_round(res, n, own_decide_nft_ratio);
	hr = per_round(res, n, own_hosts_ratio);
	printf("- **The gateway's own cost** (each row's CPU ns a frame minus the generator "
	       "alone's, %.0f ns (%.0f–%.0f), in the same round: what receiving and judging a "
	       "frame costs the receiving CPU, the veth's receive included; the generator's "
	       "run, its clone and the frame's free taken out): bare XDP_DROP %.0f ns "
	       "(%.0f–%.0f), the enforcer's drop path %.0f (%.0f–%.0f), its parser and "
	       "decision alone %.0f (%.0f–%.0f), XDP_PASS + nftables set drop %.0f "
	       "(%.0f–%.0f). On it (beside the totals above, which judge the goals; a small "
	       "own cost, such as a bare XDP_DROP's, is a difference of two larger figures, so "
	       "its ratios spread widely), the enforcer drop path vs bare XDP_DROP **%.2f×** "
	       "(%.2f–%.2f; ≤ 3×: %s here); enforcer drop vs nftables set drop **%.2f×** "
	       "(%.2f–%.2f; ≥ 5×: %s here), the decision alone %.2f× (%.2f–%.2f); pass "
	       "path with %u active hosts vs %u **%.2f×** (%.2f–%.2f; ≤ 1.2×: %s here).\n",
	       g.med, g.lo, g.hi, bd.med, bd.lo, bd.hi, ed.med, ed.lo, ed.hi, dd.med, dd.lo, dd.hi,
	       nd.med, nd.lo, nd.hi, dr.med, dr.lo, dr.hi, met(dr.med <= 3.0), nr.med, nr.lo, nr.hi,
	       met(nr.med >= 5.0), fr.med, fr.lo, fr.hi, ALL_HOSTS, FEW_HOSTS, hr.med, hr.lo, hr.hi,
	       met(hr.med <= 1.2));
	/* beside the totals, which judge the goals (the basis): reported */
	goal_line("enforcer drop path vs bare XDP_DROP, the gateway's own CPU per frame "
		  "(generator taken out; the goal is judged on totals)",
		  dr, "%.2f×", "≤ 3×",
		  dr.med <= 3.0 ? "reported (≤ 3× here)" : "reported (> 3× here)");
	goal_line("enforcer drop vs XDP_PASS + nftables set drop, the gateway's own CPU per "
		  "frame (generator taken out; the goal is judged on totals)",
		  nr, "%.2f×", "≥ 5×",
		  nr.med >= 5.0 ? "reported (≥ 5× here)" : "reported (< 5× here)");
	goal_line("enforcer pass path, 65,536 active hosts vs 1,024, the gateway's own CPU per "
		  "frame (generator taken out; the goal is judged on totals)",
		  hr, "%.2f×", "≤ 1.2×",
		  hr.med <= 1.2 ? "reported (≤ 1.2× here)" : "reported (> 1.2× here)");
}

static void print_report(const struct bench *b, const struct opts *o,
			 const struct result res[R_MAX][ROUNDS_MAX], double secs)
{
	struct stat3 ns, per_cpu, wall, dc, d1, dw, pc, pw, nc, nw, hc, sd, sp, sn, fn, fx;
	double x[ROUNDS_MAX], y[ROUNDS_MAX], z[ROUNDS_MAX], maxloss;
	unsigned int i, n = o->rounds;
	char how[320];
	bool lossy = false;
	int r;

	printf("### Real frames (tier 3)\n\n");
	if (b->loop)
		snprintf(how, sizeof(how),
			 "this kernel refuses `BPF_F_TEST_XDP_LIVE_FRAMES`, so it runs attached to "
			 "a veth pair of the sending namespace, %d frames seeded per CPU, and sends "
			 "each frame both out of the sending veth and around the pair again "
			 "(`bench/gen_loop.bpf.h`: a broadcast redirect, one clone per frame)",
			 GEN_LOOP_SEEDS);
	else
		snprintf(how, sizeof(how),
			 "run with `BPF_F_TEST_XDP_LIVE_FRAMES`, batch %d, XDP_TX", GEN_BATCH);
	printf("`bench/live_frames.sh`: a generator XDP program (`bench/live_gen.bpf.c`; %s) "
	       "sends 60-byte UDP/IPv4 frames "
	       "from one namespace over a veth pair to the program attached natively on "
	       "the peer in another; sources walk %u internal hosts (198.18.0.0/17; %u or %u "
	       "in the host-count rows), destinations %u peers, listed (198.19.0.0/17) or not "
	       "(198.19.128.0/17). The enforcer holds %zu blocklist entries (those %u hosts, "
	       "%zu /16–/24 networks, random /32s, nothing else in a test range), internal "
	       "198.18.0.0/16, and %u host records: every address of the internal /16 in a "
	       "host slot (%u, as the daemon hands them out), the rest in `bwe_hosts`, so "
	       "that every row's sources stay resident; nftables "
	       "(netdev ingress hook on the receiving veth, `ip daddr @set counter drop`, behind "
	       "a bare XDP_PASS) holds %s in an interval set and is dormant for the other rows. "
	       "Passed frames reach a stack with no address or route. No daemon reads the "
	       "enforcer's event ring buffer: once it is full, each new (host, peer) blocklist "
	       "event is counted as lost before any deduplication. A sample is %.1f s of "
	       "generation on CPU %d (the 2-CPU rows: one generating thread on each of two "
	       "CPUs, each with its own half of the sources; the veth pair has a queue per "
	       "CPU); the receiver's NAPI runs on the generating CPU, in the generator's "
	       "context, so ns/frame is generator + receiver and a difference between rows is "
	       "a receiver cost. The VMs are shared, so costs are CPU time (the generating "
	       "threads plus ksoftirqd of their CPUs) per frame the receiving veth counted; "
	       "wall-clock rates are shown beside them. %u interleaved rounds, median "
	       "(min–max); ratios and differences per round.\n\n",
	       how, SRC_HOSTS, FEW_HOSTS, ALL_HOSTS, POOL_N, b->bl_entries, POOL_N, b->bl_nets,
	       HOSTS_TABLE, bwe_hslots_used(b->dp->hsl) * BWE_HSLOT_BLOCK,
	       b->nft_elems == b->bl_entries ? "the same entries" : "a subset (see below)",
	       o->seconds, b->cpus[0], n);
	printf("| receiver | frames | CPU ns/frame | Mpps per CPU | Mpps wall clock | "
	       "worst loss |\n");
	printf("|---|---|---:|---:|---:|---:|\n");
	for (r = 0; r < R_MAX; r++) {
		if (!row_runs(b, (enum row)r)) {
			printf("| %s | %s | skipped: one CPU | — | — | — |\n", rows[r].name,
			       rows[r].frames);
			continue;
		}
		maxloss = 0;
		for (i = 0; i < n; i++) {
			x[i] = res[r][i].cpu_ns;
			y[i] = 1e3 / res[r][i].cpu_ns;
			z[i] = res[r][i].wall_mpps;
			if (res[r][i].loss > maxloss)
				maxloss = res[r][i].loss;
		}
		lossy = lossy || maxloss > LOSS_WARN;
		ns = summarise(x, n);
		per_cpu = summarise(y, n);
		wall = summarise(z, n);
		printf("| %s | %s | %.0f (%.0f–%.0f) | %.2f (%.2f–%.2f) | %.2f (%.2f–%.2f) | "
		       "%.1f %% |\n",
		       rows[r].name, rows[r].frames, ns.med, ns.lo, ns.hi, per_cpu.med, per_cpu.lo,
		       per_cpu.hi, wall.med, wall.lo, wall.hi, 100 * (maxloss > 0 ? maxloss : 0));
	}
	dc = per_round(res, n, drop_ratio_cpu);
	d1 = per_round(res, n, drop1_ratio_cpu);
	dw = per_round(res, n, drop_ratio_wall);
	pc = per_round(res, n, pass_extra_cpu);
	pw = per_round(res, n, pass_extra_wall);
	nc = per_round(res, n, nft_ratio_cpu);
	nw = per_round(res, n, nft_ratio_wall);
	hc = per_round(res, n, hosts_ratio_cpu);
	sd = per_round(res, n, nosk_drop_ratio_cpu);
	sp = per_round(res, n, nosk_pass_extra_cpu);
	sn = per_round(res, n, nosk_nft_ratio_cpu);
	fn = per_round(res, n, decide_nft_ratio_cpu);
	fx = per_round(res, n, decide_extra_cpu);
	printf("\nLoading the nftables set (`nft -f`, %zu interval elements) took %.1f s%s.\n\n",
	       b->nft_elems, b->nft_load_s, b->nft_note);
	printf("- Drop path vs bare XDP_DROP, packet rate per CPU: **%.2f×** slower (%.2f–%.2f; "
	       "wall clock %.2f×); goal ≤ 3×: **%s**. With one listed peer, so that the "
	       "32,768 (host, peer) events stay deduplicated: %.2f× (%.2f–%.2f).\n",
	       dc.med, dc.lo, dc.hi, dw.med, dc.med <= 3.0 ? "met" : "not met", d1.med, d1.lo,
	       d1.hi);
	printf("- Pass path minus bare XDP_PASS: **%+.0f CPU ns/frame** (%+.0f…%+.0f; wall clock "
	       "%+.0f ns); goal ≤ +150 ns: **%s**.\n",
	       pc.med, pc.lo, pc.hi, pw.med, pc.med <= 150.0 ? "met" : "not met");
	printf("- Enforcer drop vs nftables set drop, packet rate per CPU: **%.2f×** (%.2f–%.2f; "
	       "wall clock %.2f×); goal ≥ 5×: **%s**.\n",
	       nc.med, nc.lo, nc.hi, nw.med, nc.med >= 5.0 ? "met" : "not met");
	printf("- Where the drop path's time goes: the enforcer's parser and blocklist decision "
	       "alone (`bench_decide`, on the enforcer's maps; no host record, event or counter) "
	       "drop at **%.2f×** the nftables set's packet rate per CPU (%.2f–%.2f); the rest "
	       "of the enforcer's drop path (per-host accounting, events, counters) costs "
	       "**%+.0f CPU ns/frame** (%+.0f…%+.0f).\n",
	       fn.med, fn.lo, fn.hi, fx.med, fx.lo, fx.hi);
	printf("- Pass path with %u active hosts vs %u, CPU ns per frame: **%.2f×** (%.2f–%.2f); "
	       "goal ≤ 1.2×: **%s**.\n",
	       ALL_HOSTS, FEW_HOSTS, hc.med, hc.lo, hc.hi, hc.med <= 1.2 ? "met" : "not met");
	printf("- With `policy.peer_sketches: false` (no fan-out sketches or heavy hitters "
	       "per host; not the default): drop path vs bare XDP_DROP **%.2f×** (%.2f–%.2f), "
	       "pass path minus bare XDP_PASS **%+.0f ns** (%+.0f…%+.0f), enforcer drop vs "
	       "nftables set drop **%.2f×** (%.2f–%.2f).\n",
	       sd.med, sd.lo, sd.hi, sp.med, sp.lo, sp.hi, sn.med, sn.lo, sn.hi);
	goal_line("enforcer drop path vs bare XDP_DROP, real frames, packet rate per CPU", dc,
		  "%.2f×", "≤ 3×", met(dc.med <= 3.0));
	goal_line("enforcer pass path minus bare XDP_PASS, real frames, CPU ns per frame", pc,
		  "%+.0f ns", "≤ +150 ns", met(pc.med <= 150.0));
	goal_line("enforcer drop vs XDP_PASS + nftables set drop, packet rate per CPU", nc, "%.2f×",
		  "≥ 5×", met(nc.med >= 5.0));
	goal_line("enforcer pass path, 65,536 active hosts vs 1,024, CPU ns per frame", hc, "%.2f×",
		  "≤ 1.2×", met(hc.med <= 1.2));
	print_own(res, n);
	if (lossy)
		printf("- Some frames were lost between generator and receiver (veth ring full); "
		       "rates count only frames the receiver saw.\n");
	printf("- Run time %.0f s, nftables load included.\n", secs);
	print_multicore(b, res, n);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct opts o = { .rounds = ROUNDS_DEFAULT,
			  .seconds = SECONDS_DEFAULT,
			  .entries = ENTRIES_DEFAULT,
			  .seed = DEFAULT_SEED,
			  .workdir = "/tmp" };
	static struct bench b = { .rx_nsfd = -1,
				  .tx_nsfd = -1,
				  .home_nsfd = -1,
				  .cur_prog = -1,
				  .nft_on = -1 };
	static struct result res[R_MAX][ROUNDS_MAX];
	struct v4pfx *e = NULL;
	unsigned int i;
	int r, err;
	double t0 = now_s();

	if (parse_opts(argc, argv, &o)) {
		usage(stderr);
		return 2;
	}
	verbose = o.verbose;
	libbpf_set_print(libbpf_print);
	if (geteuid() != 0) {
		fprintf(stderr, "live_frames: needs root\n");
		return 1;
	}
	b.home_nsfd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	b.rx_nsfd = open_ns(o.rx_ns);
	b.tx_nsfd = open_ns(o.tx_ns);
	if (b.home_nsfd < 0 || b.rx_nsfd < 0 || b.tx_nsfd < 0) {
		fprintf(stderr, "live_frames: opening the namespaces %s, %s: %s\n", o.rx_ns,
			o.tx_ns, strerror(errno));
		err = -errno;
		goto cleanup;
	}
	/* Interfaces and MACs, each in its namespace. */
	err = enter(b.tx_nsfd);
	b.tx_ifindex = (int)if_nametoindex(o.tx_if);
	err = err ?: link_mac(o.tx_if, b.tx_mac);
	err = err ?: enter(b.rx_nsfd);
	b.rx_ifindex = (int)if_nametoindex(o.rx_if);
	err = err ?: link_mac(o.rx_if, b.rx_mac);
	if (err || !b.tx_ifindex || !b.rx_ifindex) {
		fprintf(stderr, "live_frames: interfaces %s/%s: %s\n", o.tx_if, o.rx_if,
			strerror(err ? -err : ENODEV));
		err = err ?: -ENODEV;
		goto cleanup;
	}
	/* in the receiver's namespace: its loopback takes the probe's frame */
	err = bench_live_frames_probe("live_frames", o.nloops ? NULL : "tier 3");
	if (err && o.nloops) {
		fprintf(stderr,
			"live_frames: this kernel refuses live frames (%s): generating through "
			"loops instead (bench/gen_loop.bpf.h)\n",
			errstr(err));
		b.loop = true;
		err = 0;
	}
	if (err)
		goto cleanup;

	fprintf(stderr, "live_frames: making %u entries ...\n", o.entries);
	err = synth_make(&e, o.entries, &b.bl_nets, o.seed);
	if (err) {
		fprintf(stderr, "live_frames: making entries: %s\n", errstr(err));
		goto cleanup;
	}
	b.bl_entries = o.entries;

	fprintf(stderr, "live_frames: loading %u elements into nftables ...\n", o.entries);
	err = nft_load(&b, &o, e, o.entries);
	if (err == -ETIMEDOUT) {
		snprintf(b.nft_note, sizeof(b.nft_note),
			 " (the %u-element set did not load within %.0f s; nftables holds the "
			 "first %u entries, the enforcer all of them)",
			 o.entries, NFT_LOAD_MAX_S, NFT_FALLBACK);
		fprintf(stderr, "live_frames: nft -f took over %.0f s; falling back to %u\n",
			NFT_LOAD_MAX_S, NFT_FALLBACK);
		{
			char *argv_del[] = { "nft", "delete", "table", "netdev", o.table, NULL };

			run_cmd(argv_del, 0, NULL, 0); /* in case it committed after all */
		}
		err = nft_load(&b, &o, e, NFT_FALLBACK);
	}
	if (err) {
		fprintf(stderr, "live_frames: nft -f: %s\n", errstr(err));
		goto cleanup;
	}
	fprintf(stderr, "live_frames: nft -f: %zu elements in %.1f s\n", b.nft_elems, b.nft_load_s);

	fprintf(stderr, "live_frames: loading the enforcer ...\n");
	err = setup_enforcer(&b, e, o.entries);
	if (err)
		goto cleanup;
	free(e);
	e = NULL;
	b.base = prog_cost_bpf__open_and_load();
	if (!b.base) {
		err = -errno;
		fprintf(stderr, "live_frames: loading prog_cost.bpf.o: %s\n", errstr(err));
		goto cleanup;
	}
	b.decide = lookup_bpf__open();
	err = b.decide ? bench_share_maps(b.decide->obj, b.dp) : -errno;
	err = err ?: lookup_bpf__load(b.decide);
	if (err) {
		fprintf(stderr, "live_frames: loading lookup.bpf.o: %s\n", errstr(err));
		goto cleanup;
	}
	err = enter(b.tx_nsfd);
	err = err ?: setup_gen(&b);
	if (err) {
		fprintf(stderr, "live_frames: loading the generator: %s\n", errstr(err));
		goto cleanup;
	}

	err = pick_cpus(&b);
	if (err) {
		fprintf(stderr, "live_frames: no CPU to generate on: %s\n", errstr(err));
		goto cleanup;
	}
	if (b.ncpus < MC_CPUS)
		fprintf(stderr, "live_frames: %u CPU available: the %d-CPU rows are skipped\n",
			b.ncpus, MC_CPUS);
	err = b.loop ? setup_loops(&b, &o) : 0;
	if (err) {
		fprintf(stderr, "live_frames: the generator loops: %s\n", errstr(err));
		goto cleanup;
	}
	err = check_rows(&b, &o);
	if (err)
		goto cleanup;
	for (r = 0, i = 0; r < R_MAX; r++)
		i += row_runs(&b, (enum row)r);
	fprintf(stderr, "live_frames: measuring, %u rounds of %u rows, %.1f s each ...\n", o.rounds,
		i, o.seconds);
	for (i = 0; i < o.rounds; i++) {
		for (r = 0; r < R_MAX; r++) {
			if (!row_runs(&b, (enum row)r))
				continue;
			err = sample(&b, &o, (enum row)r, o.seconds, &res[r][i]);
			if (err) {
				fprintf(stderr, "live_frames: %s: %s\n", rows[r].name, errstr(err));
				goto cleanup;
			}
		}
	}
	print_report(&b, &o, res, now_s() - t0);
	err = 0;
cleanup:
	free(e);
	if (b.rx_nsfd >= 0 && !enter(b.rx_nsfd)) {
		char *argv_del[] = { "nft", "delete", "table", "netdev", o.table, NULL };

		if (b.cur_prog >= 0)
			bpf_xdp_detach(b.rx_ifindex, XDP_FLAGS_DRV_MODE, NULL);
		if (b.nft_loaded)
			run_cmd(argv_del, 0, NULL, 0);
	}
	if (b.tx_nsfd >= 0 && !enter(b.tx_nsfd))
		for (i = 0; i < b.nloops; i++)
			bench_loop_close(&b.loops[i]);
	if (b.home_nsfd >= 0)
		enter(b.home_nsfd);
	live_gen_bpf__destroy(b.gen);
	prog_cost_bpf__destroy(b.base);
	lookup_bpf__destroy(b.decide);
	if (b.bl_ok)
		bwe_bl_free(&b.bl);
	bwe_dp_close(b.dp);
	if (b.rx_nsfd >= 0)
		close(b.rx_nsfd);
	if (b.tx_nsfd >= 0)
		close(b.tx_nsfd);
	if (b.home_nsfd >= 0)
		close(b.home_nsfd);
	return err ? 1 : 0;
}
