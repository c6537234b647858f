// SPDX-License-Identifier: GPL-2.0-only
/* bench_common.c - see bench_common.h. */
#include <dirent.h>
#include <net/if.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_common.h"
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
	if (err)
		fprintf(stderr,
			"%s: this kernel refuses XDP test runs on live frames "
			"(BPF_F_TEST_XDP_LIVE_FRAMES: %s), which the generator needs: %s cannot be "
			"measured here\n",
			tool, errstr(err), what);
	return err;
}
