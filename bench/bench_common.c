// SPDX-License-Identifier: GPL-2.0-only
/* bench_common.c - see bench_common.h. */
#include <dirent.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_common.h"
#include "gen_loop.h"
#include "dataplane.h"

bool verbose;

const struct bench_net_len net_lens[NET_LENS] = {
	{ 16, 8 }, { 17, 1 },  { 18, 2 },  { 19, 4 },  { 20, 5 },
	{ 21, 7 }, { 22, 35 }, { 23, 11 }, { 24, 27 },
};

const char *errstr(int err)
{
	static char buf[128];

	libbpf_strerror(err, buf, sizeof(buf));
	return buf;
}

int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level != LIBBPF_WARN && !verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

__u64 thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

__u64 pid_run_ns(int pid)
{
	unsigned long long ns = 0;
	char path[64];
	FILE *f;

	if (pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/schedstat", pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (fscanf(f, "%llu", &ns) != 1)
		ns = 0;
	fclose(f);
	return ns;
}

int find_ksoftirqd(int cpu)
{
	char want[32], comm[64], path[64];
	struct dirent *d;
	DIR *dir;
	int pid = -1;

	if (cpu < 0 || !(dir = opendir("/proc")))
		return -1;
	snprintf(want, sizeof(want), "ksoftirqd/%d\n", cpu);
	while ((d = readdir(dir)) && pid < 0) {
		FILE *f;

		if (d->d_name[0] < '1' || d->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%.16s/comm", d->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f) && !strcmp(comm, want))
			pid = atoi(d->d_name);
		fclose(f);
	}
	closedir(dir);
	return pid;
}

int bench_share_maps(struct bpf_object *obj, const struct bwe_dp *dp)
{
	struct bpf_map *map;
	int fd, err;

	bpf_object__for_each_map(map, obj) {
		if (bpf_map__is_internal(map))
			continue;
		fd = bwe_dp_map_fd(dp, bpf_map__name(map));
		if (fd == -ENOENT)
			continue; /* the benchmark's own */
		err = fd < 0 ? fd : bpf_map__reuse_fd(map, fd);
		if (err)
			return err;
	}
	return 0;
}

int bench_live_frames_probe(const char *tool, const char *what)
{
	const struct bpf_insn pass[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	/* broadcast, a local experimental EtherType: the stack drops it */
	__u8 frame[60] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 0x01, 0x88, 0xb5 };
	struct xdp_md md = { .data_end = sizeof(frame), .ingress_ifindex = if_nametoindex("lo") };
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = frame, .data_size_in = sizeof(frame),
		    .ctx_in = &md, .ctx_size_in = sizeof(md), .repeat = 1,
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES);
	int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "bwe_live_probe", "GPL", pass, 2, NULL), err;

	if (fd < 0) {
		err = -errno;
		fprintf(stderr, "%s: loading the live-frames probe: %s\n", tool, errstr(err));
		return err;
	}
	err = bpf_prog_test_run_opts(fd, &t) ? -errno : 0;
	close(fd);
	if (err && what)
		fprintf(stderr,
			"%s: this kernel refuses XDP test runs on live frames "
			"(BPF_F_TEST_XDP_LIVE_FRAMES: %s), which the generator needs: %s cannot be "
			"measured here\n",
			tool, errstr(err), what);
	return err;
}

int bench_loop_open(struct bench_loop *l, const char *lp_a, const char *lp_b, int out_ifindex,
		    int devmap_fd, int prog_fd)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	__u32 key, port[GEN_LOOP_PORTS];
	int err = 0;

	l->sock = -1;
	l->a_ifindex = (int)if_nametoindex(lp_a);
	l->b_ifindex = (int)if_nametoindex(lp_b);
	if (!l->a_ifindex || !l->b_ifindex || out_ifindex <= 0)
		return -ENODEV;
	port[0] = (__u32)l->a_ifindex; /* around the loop */
	port[1] = (__u32)out_ifindex;  /* the generated frame */
	for (key = 0; key < GEN_LOOP_PORTS && !err; key++)
		err = bpf_map_update_elem(devmap_fd, &key, &port[key], BPF_ANY) ? -errno : 0;
	err = err ?: bpf_xdp_attach(l->b_ifindex, prog_fd, XDP_FLAGS_DRV_MODE, NULL);
	if (err)
		return err;
	l->sock = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	sll.sll_ifindex = l->a_ifindex;
	if (l->sock < 0 || bind(l->sock, (struct sockaddr *)&sll, sizeof(sll))) {
		err = -errno;
		bench_loop_close(l);
	}
	return err;
}

int bench_loop_seed(const struct bench_loop *l, const void *frame, size_t len, unsigned int n)
{
	unsigned int i;
	ssize_t r;

	for (i = 0; i < n; i++) {
		r = send(l->sock, frame, len, 0);
		if (r < 0)
			return -errno;
		if (r != (ssize_t)len)
			return -EIO;
	}
	return 0;
}

int bench_loop_run(const struct bench_loop *l, volatile __u64 *limit, const volatile __u64 *count,
		   const void *frame, size_t len, double until, __u64 *sent)
{
	double left = until - now_s();
	__u64 n0 = *count, budget = (__u64)(left > 0 ? left * (double)GEN_LOOP_MAX_PPS : 0);
	struct timespec ts;
	int err;

	budget += GEN_LOOP_SEEDS;
	*limit = n0 + budget;
	__sync_synchronize();
	err = bench_loop_seed(l, frame, len, GEN_LOOP_SEEDS);
	while (!err && (left = until - now_s()) > 0) {
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
		nanosleep(&ts, NULL);
	}
	*limit = 0; /* the generator counts nothing past it */
	__sync_synchronize();
	*sent = *count - n0;
	return err ?: *sent >= budget ? -E2BIG : 0;
}

int bench_loop_arg(char *arg, char **lp_a, char **lp_b)
{
	char *colon = strchr(arg, ':');

	if (!colon || colon == arg || !colon[1])
		return -EINVAL;
	*colon = '\0';
	*lp_a = arg;
	*lp_b = colon + 1;
	return 0;
}

int bench_link_stats(const char *ifname, struct rtnl_link_stats *st)
{
	struct ifaddrs *ifa, *i;
	int err = -ENOENT;

	if (getifaddrs(&ifa))
		return -errno;
	for (i = ifa; i; i = i->ifa_next) {
		if (i->ifa_addr && i->ifa_addr->sa_family == AF_PACKET && i->ifa_data &&
		    !strcmp(i->ifa_name, ifname)) {
			*st = *(const struct rtnl_link_stats *)i->ifa_data;
			err = 0;
			break;
		}
	}
	freeifaddrs(ifa);
	return err;
}

int bench_link_set_up(const char *ifname, bool up)
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	if (s < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(s, SIOCGIFFLAGS, &ifr))
		err = -errno;
	if (up)
		ifr.ifr_flags = (short)(ifr.ifr_flags | IFF_UP);
	else
		ifr.ifr_flags = (short)(ifr.ifr_flags & ~IFF_UP);
	if (!err && ioctl(s, SIOCSIFFLAGS, &ifr))
		err = -errno;
	close(s);
	return err;
}

void bench_loop_close(struct bench_loop *l)
{
	if (l->sock >= 0)
		close(l->sock);
	l->sock = -1;
	if (l->b_ifindex > 0)
		bpf_xdp_detach(l->b_ifindex, XDP_FLAGS_DRV_MODE, NULL);
	l->b_ifindex = 0;
}
