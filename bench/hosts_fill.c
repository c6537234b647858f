// SPDX-License-Identifier: GPL-2.0-only
/*
 * hosts_fill.c - make a running bwctld see many active internal hosts, for
 * bench/control.sh (detector CPU share, daemon memory) and bench/host_mem.sh.
 *
 *   hosts_fill PIN_DIR [--count N] [--first A.B.C.D] [--seconds S] [--period-ms P]
 *
 * Writes N hosts A.B.C.D, A.B.C.D+1, ... (default 65,536 from 198.19.0.0:
 * RFC 2544 space, inside the benches' internal networks) where the data
 * plane keeps them (bwe_abi.h, "per-host accounting"), through the daemon's
 * pinned maps under PIN_DIR:
 *   - an address whose /24 holds a block of host slots (bwe_nc16's row ->
 *     bwe_hslot24's entry, bwe_rules.h's bwe_hslot24_index() and
 *     bwe_hslot_index(), read once at the start) gets its record in
 *     bwe_hslots (every CPU's value, BPF_MAP_UPDATE_BATCH with the slots as
 *     keys), and its bwe_hslot_sent bit set after the first round (each word
 *     read, or-ed and written back: bits already set stay set);
 *   - every other address gets its entry in bwe_hosts (LRU per-CPU hash):
 *     BPF_MAP_UPDATE_BATCH in the first round; later rounds update each
 *     entry with BPF_EXIST (a full LRU map evicts another entry for an
 *     update without it; an entry the LRU dropped is not written again).
 * One syscall per 8,192 records in a batch; the process stays on the CPU it
 * started on (an LRU map keeps free entries per CPU). Every P ms (default
 * 1000) it advances every host's counters again - a few kB/s each,
 * different per host, far below any detection threshold - for S seconds
 * (default 60), and exits. It prints, one "name value" per line:
 *   hosts_to_slots N, hosts_to_map N   where the N hosts go (slots, bwe_hosts)
 *   hosts_in_map_before N              hosts in both homes before the first
 *                                      round: slots whose sent bit is set +
 *                                      bwe_hosts entries (found by iterating)
 *   hosts_in_map N, hosts_in_slots N   the same after the first round, and
 *                                      of it those in slots
 *   hosts_in_map_end N, hosts_in_slots_end N, hosts_map_lost N
 *                                      after the last round; lost: entries of
 *                                      its own the LRU had dropped by then
 * so the caller knows how many were kept. It never touches a map of any
 * other name (it reads bwe_config's fan-out epoch) and stops by itself.
 * Exit 0, or 1 when a map cannot be used.
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bwe_abi.h"
#include "bwe_rules.h"

#define BATCH 8192u

/* The pinned maps it uses. */
struct maps {
	int hosts, slots, sent, nc16, h24;
	__u32 nslots, nwords, nh24;
};

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

/*
 * The pinned map name under dir, checked to be of this ABI (type, key and
 * value sizes); *max: its max_entries. The fd, or -1 after a message.
 */
static int open_map(const char *dir, const char *name, __u32 type, __u32 key_size, __u32 value_size,
		    __u32 *max)
{
	struct bpf_map_info info = { 0 };
	__u32 ilen = sizeof(info);
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = bpf_obj_get(path);
	if (fd < 0) {
		fprintf(stderr, "hosts_fill: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (bpf_obj_get_info_by_fd(fd, &info, &ilen)) {
		fprintf(stderr, "hosts_fill: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (info.type != type || info.key_size != key_size || info.value_size != value_size) {
		fprintf(stderr,
			"hosts_fill: %s is not the %s map of this ABI (type %u, key %u, value %u "
			"bytes; want type %u, key %u, value %u bytes)\n",
			path, name, info.type, info.key_size, info.value_size, type, key_size,
			value_size);
		return -1;
	}
	if (max)
		*max = info.max_entries;
	return fd;
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

/* Slots whose host has sent: the bits set in bwe_hslot_sent. */
static long count_sent(const struct maps *m)
{
	long n = 0;
	__u32 w;
	__u64 bits;

	for (w = 0; w < m->nwords; w++)
		if (!bpf_map_lookup_elem(m->sent, &w, &bits))
			n += __builtin_popcountll(bits);
	return n;
}

/*
 * The bwe_hslot24 entry (block + 1) of a's /24, 0 when it has none, as the
 * program finds it: bwe_nc16[/16].row, then bwe_hslot24.
 */
static __u32 entry_of(const struct maps *m, const struct bwe_addr *a)
{
	struct bwe_nc16_val v = { 0 };
	struct bwe_hslot24_val e = { 0 };
	__u32 i = bwe_nc16_index(a);

	if (bpf_map_lookup_elem(m->nc16, &i, &v) || !v.row)
		return 0;
	i = bwe_hslot24_index(v.row, a);
	if (i >= m->nh24 || bpf_map_lookup_elem(m->h24, &i, &e))
		return 0;
	return e.block;
}

/* Host k's counters in round r: CPU 0's value, the other CPUs' zero. */
static void host_val(struct bwe_host_stats *v, __u64 k, unsigned long round,
		     unsigned long period_ms, __u64 t_first, __u64 now, __u32 epoch)
{
	/* host k uploads 1..64 kB/s and downloads 4x that, all on CPU 0 */
	__u64 tx = (k % 64 + 1) * 1000 * period_ms / 1000;

	v->tx_bytes = tx * (round + 1);
	v->tx_packets = v->tx_bytes / 1000;
	v->rx_bytes = 4 * tx * (round + 1);
	v->rx_packets = v->rx_bytes / 1200;
	v->first_seen_ns = t_first;
	v->last_seen_ns = now;
	v->hll_epoch = epoch;
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
	__u32 cfg_key = 0, last24 = 0, entry = 0;
	struct bwe_config cfg = { 0 };
	struct maps m = { 0 };
	struct bwe_addr *hkeys;
	__u32 *hidx, *skeys, *sidx;
	struct bwe_host_stats *vals;
	struct in_addr a0;
	char path[4096];
	size_t nh = 0, ns = 0, lost = 0;
	int c, cfd, ncpu, cpu;
	unsigned long i, round, rounds;
	__u64 t0, t_first;
	cpu_set_t set;

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
	m.hosts = open_map(argv[optind], BWE_MAP_HOSTS, BPF_MAP_TYPE_LRU_PERCPU_HASH,
			   sizeof(struct bwe_addr), sizeof(struct bwe_host_stats), NULL);
	if (m.hosts < 0)
		return 1;
	m.slots = open_map(argv[optind], BWE_MAP_HSLOTS, BPF_MAP_TYPE_PERCPU_ARRAY, sizeof(__u32),
			   sizeof(struct bwe_host_stats), &m.nslots);
	if (m.slots < 0)
		return 1;
	m.sent = open_map(argv[optind], BWE_MAP_HSLOT_SENT, BPF_MAP_TYPE_ARRAY, sizeof(__u32),
			  sizeof(__u64), &m.nwords);
	if (m.sent < 0)
		return 1;
	m.nc16 = open_map(argv[optind], BWE_MAP_NC16, BPF_MAP_TYPE_ARRAY, sizeof(__u32),
			  sizeof(struct bwe_nc16_val), NULL);
	if (m.nc16 < 0)
		return 1;
	m.h24 = open_map(argv[optind], BWE_MAP_HSLOT24, BPF_MAP_TYPE_ARRAY, sizeof(__u32),
			 sizeof(struct bwe_hslot24_val), &m.nh24);
	if (m.h24 < 0)
		return 1;
	snprintf(path, sizeof(path), "%s/%s", argv[optind], BWE_MAP_CONFIG);
	cfd = bpf_obj_get(path);
	if (cfd >= 0)
		bpf_map_lookup_elem(cfd, &cfg_key, &cfg); /* the current fan-out epoch */
	ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0) {
		fprintf(stderr, "hosts_fill: cannot count CPUs\n");
		return 1;
	}
	/* stay on one CPU: an LRU map's free entries are handed out per CPU */
	cpu = sched_getcpu();
	if (cpu >= 0) {
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		sched_setaffinity(0, sizeof(set), &set);
	}
	hkeys = calloc(count, sizeof(*hkeys));
	hidx = calloc(count, sizeof(*hidx));
	skeys = calloc(count, sizeof(*skeys));
	sidx = calloc(count, sizeof(*sidx));
	vals = calloc((size_t)BATCH * (size_t)ncpu, sizeof(*vals));
	if (!hkeys || !hidx || !skeys || !sidx || !vals) {
		fprintf(stderr, "hosts_fill: out of memory\n");
		return 1;
	}
	/* where each host goes: the assignment as the maps hold it now */
	for (i = 0; i < count; i++) {
		struct bwe_addr a = { 0 };
		__u32 v4 = ntohl(a0.s_addr) + (__u32)i, slot;

		a.w[2] = htonl(0xffff);
		a.w[3] = htonl(v4);
		if (!i || v4 >> 8 != last24)
			entry = entry_of(&m, &a);
		last24 = v4 >> 8;
		slot = entry ? bwe_hslot_index(entry, &a) : 0;
		if (entry && slot < m.nslots && slot / 64 < m.nwords) {
			skeys[ns] = slot;
			sidx[ns++] = (__u32)i;
		} else {
			hkeys[nh] = a;
			hidx[nh++] = (__u32)i;
		}
	}
	printf("hosts_to_slots %zu\nhosts_to_map %zu\n", ns, nh);
	printf("hosts_in_map_before %ld\n", count_entries(m.hosts) + count_sent(&m));
	printf("hosts_in_slots_before %ld\n", count_sent(&m));
	fflush(stdout);

	t_first = now_ns();
	rounds = seconds * 1000 / period_ms + 1;
	for (round = 0; round < rounds; round++) {
		__u64 now = now_ns();

		t0 = t_first + round * period_ms * 1000000ull;
		/* the slots: every round a batch update (an array entry always exists) */
		for (i = 0; i < ns; i += BATCH) {
			__u32 n = ns - i < BATCH ? (__u32)(ns - i) : BATCH, j;
			LIBBPF_OPTS(bpf_map_batch_opts, opts);

			memset(vals, 0, (size_t)n * (size_t)ncpu * sizeof(*vals));
			for (j = 0; j < n; j++)
				host_val(&vals[(size_t)j * (size_t)ncpu], sidx[i + j], round,
					 period_ms, t_first, now, cfg.hll_epoch);
			if (bpf_map_update_batch(m.slots, &skeys[i], vals, &n, &opts)) {
				fprintf(stderr, "hosts_fill: %s batch update: %s\n", BWE_MAP_HSLOTS,
					strerror(errno));
				return 1;
			}
		}
		/* their sent bits, once the records are there */
		for (i = 0; round == 0 && i < ns;) {
			__u32 w = bwe_hslot_sent_word(skeys[i]);
			__u64 bits = 0, add = 0;

			for (; i < ns && bwe_hslot_sent_word(skeys[i]) == w; i++)
				add |= bwe_hslot_sent_bit(skeys[i]);
			if (bpf_map_lookup_elem(m.sent, &w, &bits) ||
			    bpf_map_update_elem(m.sent, &w, &(__u64){ bits | add }, BPF_ANY)) {
				fprintf(stderr, "hosts_fill: %s word %u: %s\n", BWE_MAP_HSLOT_SENT,
					w, strerror(errno));
				return 1;
			}
		}
		/* bwe_hosts: created by a batch, then each updated where it still is */
		for (i = 0; round == 0 && i < nh; i += BATCH) {
			__u32 n = nh - i < BATCH ? (__u32)(nh - i) : BATCH, j;
			LIBBPF_OPTS(bpf_map_batch_opts, opts);

			memset(vals, 0, (size_t)n * (size_t)ncpu * sizeof(*vals));
			for (j = 0; j < n; j++)
				host_val(&vals[(size_t)j * (size_t)ncpu], hidx[i + j], round,
					 period_ms, t_first, now, cfg.hll_epoch);
			if (bpf_map_update_batch(m.hosts, &hkeys[i], vals, &n, &opts)) {
				fprintf(stderr, "hosts_fill: %s batch update: %s\n", BWE_MAP_HOSTS,
					strerror(errno));
				return 1;
			}
		}
		for (i = 0, lost = 0; round > 0 && i < nh; i++) {
			memset(vals, 0, (size_t)ncpu * sizeof(*vals));
			host_val(vals, hidx[i], round, period_ms, t_first, now, cfg.hll_epoch);
			if (!bpf_map_update_elem(m.hosts, &hkeys[i], vals, BPF_EXIST))
				continue;
			if (errno != ENOENT) {
				fprintf(stderr, "hosts_fill: %s update: %s\n", BWE_MAP_HOSTS,
					strerror(errno));
				return 1;
			}
			lost++;
		}
		if (round == 0) {
			long s = count_sent(&m);

			printf("hosts_in_map %ld\nhosts_in_slots %ld\n", count_entries(m.hosts) + s,
			       s);
			fflush(stdout);
		}
		if (round + 1 < rounds)
			sleep_until(t0 + period_ms * 1000000ull);
	}
	{
		long s = count_sent(&m);

		printf("hosts_in_map_end %ld\nhosts_in_slots_end %ld\nhosts_map_lost %zu\n",
		       count_entries(m.hosts) + s, s, lost);
	}
	free(hkeys);
	free(hidx);
	free(skeys);
	free(sidx);
	free(vals);
	return 0;
}
