/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * bench_common.h - what every benchmark tool shares (user space): libbpf
 * logging behind -v, error text, a monotonic clock, and the shape of the
 * synthetic blocklists (bwe_mix32() of bwe_rules.h, a bijection, for distinct
 * hosts, and firehol_level1's /16../24 length mix), so prog_cost, map_scale
 * and live_frames measure the same kind of list.
 */
#ifndef BWE_BENCH_COMMON_H
#define BWE_BENCH_COMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include <bpf/libbpf.h>
#include "bwe_rules.h" /* bwe_mix32() */

extern bool verbose; /* -v: libbpf's info and debug lines too */

/* libbpf's own codes and errno values alike; err is -errno or a libbpf code. */
const char *errstr(int err);
/* libbpf_set_print() callback: warnings always, the rest with -v. */
int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap);
/* CLOCK_MONOTONIC in seconds. */
double now_s(void);
/* CPU time of the calling thread, ns (a generator and the softirqs it runs). */
__u64 thread_cpu_ns(void);
/* The pid of ksoftirqd/<cpu> (softirqs deferred there are a receiver's work
 * too), or -1. */
int find_ksoftirqd(int cpu);
/* Run time of process pid, ns (/proc/PID/schedstat); 0 when unknown (pid <= 0). */
__u64 pid_run_ns(int pid);

/*
 * Whether this kernel runs XDP programs on live frames for a test run
 * (BPF_F_TEST_XDP_LIVE_FRAMES, the frame generators of live_frames and
 * fwd_frames): one frame of a two-instruction XDP_PASS program through the
 * calling thread's loopback (call it in a namespace of the benchmark's).
 * 0, or -errno (EPERM: a kernel built or set up to refuse it, whatever the
 * caller's capabilities) after a line on stderr that names the tool and
 * what it then cannot measure (none when what is NULL: the caller has
 * another way, a generator loop).
 */
int bench_live_frames_probe(const char *tool, const char *what);

/*
 * A generator loop (gen_loop.bpf.h), for kernels that refuse live frames: the
 * veth pair lpA-lpB in the generator's namespace, the generator attached
 * natively to lpB, a packet socket on lpA that seeds it.
 */
struct bench_loop {
	int a_ifindex, b_ifindex;
	int sock; /* AF_PACKET on lpA; -1 when closed */
};

/*
 * In the generator's namespace: fill the loop's devmap (devmap_fd, of
 * GEN_LOOP_PORTS entries) with lpA and the sending veth out_ifindex, attach
 * prog_fd natively to lpB and open the seeding socket. 0 or -errno, with
 * nothing left open or attached on failure.
 */
int bench_loop_open(struct bench_loop *l, const char *lp_a, const char *lp_b, int out_ifindex,
		    int devmap_fd, int prog_fd);
/* Send n copies of frame into lpA: the loop then runs on the calling thread's CPU. */
int bench_loop_seed(const struct bench_loop *l, const void *frame, size_t len, unsigned int n);
/*
 * One sample through loop l, until the CLOCK_MONOTONIC second `until`
 * (now_s()): arm the generator's limit (*limit, against its frame count
 * *count, both in its .bss: gen_loop.h) for the time left at
 * GEN_LOOP_MAX_PPS, seed the loop with GEN_LOOP_SEEDS copies of frame from
 * the calling thread (pinned: the loop runs in its CPU's softirqs), sleep,
 * then stop it (limit 0). *sent: the frames the generator counted. 0;
 * -E2BIG when it reached the limit (so it stopped early); or the seeding's
 * -errno.
 */
int bench_loop_run(const struct bench_loop *l, volatile __u64 *limit, const volatile __u64 *count,
		   const void *frame, size_t len, double until, __u64 *sent);
/* Close the socket; in the generator's namespace, detach the generator from lpB. */
void bench_loop_close(struct bench_loop *l);
/* A --loop option's "A:B" (changed in place): lpA and lpB. 0 or -EINVAL. */
int bench_loop_arg(char *arg, char **lp_a, char **lp_b);

struct rtnl_link_stats;
/* ifname's rtnl link counters, in the calling thread's namespace (32-bit
 * counters: a difference of two survives one wrap). 0 or -errno. */
int bench_link_stats(const char *ifname, struct rtnl_link_stats *st);

/* ifname (calling thread's namespace) administratively up or down. 0 or -errno. */
int bench_link_set_up(const char *ifname, bool up);

struct bwe_dp;
/* Make every map of obj that the loaded enforcer dp also has (by name: both
 * define it in xdp/maps.bpf.h) the enforcer's own (bpf_map__reuse_fd), so
 * that obj's programs read the enforcer's state and obj creates none of the
 * enforcer's maps again. Before loading obj; 0 or -errno. */
int bench_share_maps(struct bpf_object *obj, const struct bwe_dp *dp);

struct bench_net_len {
	int len;	      /* IPv4 prefix length */
	unsigned int percent; /* share of the networks */
};
#define NET_LENS 9
extern const struct bench_net_len net_lens[NET_LENS]; /* firehol_level1's mix */

#endif /* BWE_BENCH_COMMON_H */
