// SPDX-License-Identifier: GPL-2.0-only
/*
 * hosts_fill.c - make a running bwctld see many active internal hosts, for
 * bench/control.sh (detector CPU share, daemon memory).
 *
 *   hosts_fill PIN_DIR [--count N] [--first A.B.C.D] [--seconds S] [--period-ms P]
 *
 * Opens the daemon's pinned bwe_hosts map (LRU per-CPU hash) under PIN_DIR
 * and writes N hosts A.B.C.D, A.B.C.D+1, ... (default 65,536 from
 * 198.19.0.0: RFC 2544 space, inside the bench's internal networks) with
 * BPF_MAP_UPDATE_BATCH (one syscall per 8,192 hosts), then every P ms
 * (default 1000) advances every host's counters again — a few kB/s each,
 * different per host, far below any detection threshold — for S seconds
 * (default 60), and exits. Before the first round and after the last it
 * prints "hosts_in_map N" (entries found by iterating the map), so the
 * caller knows how many the LRU kept. It never touches a map of any other
 * name and stops by itself. Exit 0, or 1 when the map cannot be used.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bwe_abi.h"

#define BATCH 8192u

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

static void sleep_until(__u64 t)
{
	struct timespec ts = { .tv_sec = (time_t)(t / 1000000000ull),
			       .tv_nsec = (long)(t % 1000000000ull) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static long count_entries(int fd)
{
	struct bwe_addr k, next;
	long n = 0;
	int err = bpf_map_get_next_key(fd, NULL, &next);

	while (!err && n < 100000000) {
		n++;
		k = next;
		err = bpf_map_get_next_key(fd, &k, &next);
	}
	return n;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: hosts_fill PIN_DIR [--count N] [--first A.B.C.D] [--seconds S] "
		   "[--period-ms P]\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = { { "count", required_argument, NULL, 'n' },
					    { "first", required_argument, NULL, 'f' },
					    { "seconds", required_argument, NULL, 's' },
					    { "period-ms", required_argument, NULL, 'p' },
					    { "help", no_argument, NULL, 'h' },
					    { 0 } };
	unsigned long count = 65536, seconds = 60, period_ms = 1000;
	const char *first = "198.19.0.0";
	struct bpf_map_info info = { 0 };
	__u32 ilen = sizeof(info), cfg_key = 0;
	struct bwe_config cfg = { 0 };
	struct bwe_addr *keys;
	struct bwe_host_stats *vals;
	struct in_addr a0;
	char path[4096];
	int c, fd, cfd, ncpu;
	unsigned long i, round, rounds;
	__u64 t0, t_first;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'n':
			count = strtoul(optarg, NULL, 0);
			break;
		case 'f':
			first = optarg;
			break;
		case 's':
			seconds = strtoul(optarg, NULL, 0);
			break;
		case 'p':
			period_ms = strtoul(optarg, NULL, 0);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind + 1 != argc || !count || count > 16777216 || !period_ms || seconds > 86400 ||
	    inet_pton(AF_INET, first, &a0) != 1) {
		usage(stderr);
		return 2;
	}
	snprintf(path, sizeof(path), "%s/%s", argv[optind], BWE_MAP_HOSTS);
	fd = bpf_obj_get(path);
	if (fd < 0) {
		fprintf(stderr, "hosts_fill: %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (bpf_obj_get_info_by_fd(fd, &info, &ilen) || info.type != BPF_MAP_TYPE_LRU_PERCPU_HASH ||
	    info.key_size != sizeof(struct bwe_addr) ||
	    info.value_size != sizeof(struct bwe_host_stats)) {
		fprintf(stderr, "hosts_fill: %s is not the bwe_hosts map of this ABI\n", path);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/%s", argv[optind], BWE_MAP_CONFIG);
	cfd = bpf_obj_get(path);
	if (cfd >= 0)
		bpf_map_lookup_elem(cfd, &cfg_key, &cfg); /* the current fan-out epoch */
	ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0) {
		fprintf(stderr, "hosts_fill: cannot count CPUs\n");
		return 1;
	}
	keys = calloc(count, sizeof(*keys));
	vals = calloc((size_t)BATCH * (size_t)ncpu, sizeof(*vals));
	if (!keys || !vals) {
		fprintf(stderr, "hosts_fill: out of memory\n");
		return 1;
	}
	for (i = 0; i < count; i++) {
		keys[i].w[2] = htonl(0xffff);
		keys[i].w[3] = htonl(ntohl(a0.s_addr) + (__u32)i);
	}
	printf("hosts_in_map_before %ld\n", count_entries(fd));
	fflush(stdout);

	t_first = now_ns();
	rounds = seconds * 1000 / period_ms + 1;
	for (round = 0; round < rounds; round++) {
		__u64 now = now_ns();

		t0 = t_first + round * period_ms * 1000000ull;
		for (i = 0; i < count; i += BATCH) {
			__u32 n = count - i < BATCH ? (__u32)(count - i) : BATCH, j;
			LIBBPF_OPTS(bpf_map_batch_opts, opts);

			memset(vals, 0, (size_t)n * (size_t)ncpu * sizeof(*vals));
			for (j = 0; j < n; j++) {
				/* host k uploads 1..64 kB/s and downloads 4x that, all on CPU 0 */
				__u64 k = i + j, tx = (k % 64 + 1) * 1000 * period_ms / 1000;
				struct bwe_host_stats *v = &vals[(size_t)j * (size_t)ncpu];

				v->tx_bytes = tx * (round + 1);
				v->tx_packets = v->tx_bytes / 1000;
				v->rx_bytes = 4 * tx * (round + 1);
				v->rx_packets = v->rx_bytes / 1200;
				v->first_seen_ns = t_first;
				v->last_seen_ns = now;
				v->hll_epoch = cfg.hll_epoch;
			}
			if (bpf_map_update_batch(fd, &keys[i], vals, &n, &opts)) {
				fprintf(stderr, "hosts_fill: batch update: %s\n", strerror(errno));
				return 1;
			}
		}
		if (round == 0) {
			printf("hosts_in_map %ld\n", count_entries(fd));
			fflush(stdout);
		}
		if (round + 1 < rounds)
			sleep_until(t0 + period_ms * 1000000ull);
	}
	printf("hosts_in_map_end %ld\n", count_entries(fd));
	free(keys);
	free(vals);
	return 0;
}
