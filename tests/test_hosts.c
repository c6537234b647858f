// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_hosts.c - the daemon's host sample (ctl/bwctld/hosts.c) over both
 * homes of a host record (bwe_abi.h): IPv4 host slots and bwe_hosts. Real
 * frames through the loaded program (bpf_prog_test_run_opts, nothing
 * attached) make the hosts; the sample must hand each host on once, with
 * its own counters, whichever home it has, and skip slots whose host never
 * sent and bwe_hosts records left over for an address that has a slot now.
 * The idle sweep (hostsweep.c) takes its decision from the sample's batches
 * and forgets at most HOSTSWEEP_MAX hosts a sample.
 *
 * Needs root (BPF). Private maps only: nothing is pinned.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cmocka.h>

#include "test_helpers.h"
#include "addr.h"
#include "blocklist.h"
#include "bwe_util.h"
#include "dataplane.h"
#include "hosts.h"
#include "hostsweep.h"
#include "hslots.h"
#include "netclass.h"
#include "pktbuild.h"

#define HOSTS_MAX 8192u /* 6,144 slots: 24 blocks */
#define SEEN_MAX  64

struct seen {
	struct host_sample v[SEEN_MAX];
	size_t n;
	size_t batches;
};

static void on_batch(void *ctx, const struct host_sample *v, size_t n)
{
	struct seen *s = ctx;

	assert_true(s->n + n <= SEEN_MAX);
	memcpy(&s->v[s->n], v, n * sizeof(*v));
	s->n += n;
	s->batches++;
}

/* n frames from src to dst (UDP, payload bytes), each given XDP action act; their bytes. */
static __u64 frames_as(const struct bwe_dp *dp, const char *src, const char *dst, int n, __u32 act)
{
	struct pb_spec spec = { .src = src,
				.dst = dst,
				.proto = IPPROTO_UDP,
				.sport = 40000,
				.dport = 9,
				.payload = 64 };
	__u8 frame[BWE_PKT_MAX], out[BWE_PKT_MAX];
	int len = pb_build(&spec, frame, sizeof(frame));
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = (__u32)len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = (__u32)n);

	assert_true(len > 0);
	assert_int_equal(bpf_prog_test_run_opts(bwe_dp_prog_fd(dp), &o), 0);
	assert_int_equal(o.retval, act);
	return (__u64)len * (__u64)n;
}

/* n frames from src to dst that pass; their bytes. */
static __u64 frames(const struct bwe_dp *dp, const char *src, const char *dst, int n)
{
	return frames_as(dp, src, dst, n, XDP_PASS);
}

static const struct host_sample *find(const struct seen *s, const char *a)
{
	struct bwe_addr x = addr(a);
	const struct host_sample *hit = NULL;
	size_t i;

	for (i = 0; i < s->n; i++) {
		if (memcmp(&s->v[i].addr, &x, sizeof(x)))
			continue;
		assert_null(hit); /* once per sample */
		hit = &s->v[i];
	}
	return hit;
}

static void internal(const struct bwe_dp *dp, const char *v4)
{
	struct bwe_prefix p4 = pfx(v4), p6 = pfx("2001:db8:1::/64");
	struct bwe_ncset s;

	bwe_ncset_init(&s);
	assert_int_equal(bwe_ncset_add(&s, &p4, BWE_NC_INTERNAL), 0);
	assert_int_equal(bwe_ncset_add(&s, &p6, BWE_NC_INTERNAL), 0);
	assert_int_equal(bwe_dp_netclass_apply(dp, &s), 0);
	bwe_ncset_free(&s);
}

/*
 * Slot hosts of two blocks, a host beyond the blocks and an IPv6 host in
 * bwe_hosts, an address that only received: one sample holds each sender
 * once with its bytes; an inbound-only address is not a host.
 */
static void test_sample_both_homes(void **state)
{
	struct bwe_dp_opts opts = { .hosts_max = HOSTS_MAX, .hslots = UINT32_MAX };
	struct bwe_dp *dp;
	struct hosts *h;
	struct seen s = { 0 };
	struct host_sample one;
	struct bwe_addr quiet = addr("198.18.0.99");
	__u64 b1, b2, b3, b4;

	(void)state;
	assert_int_equal(bwe_dp_open(&dp, &opts), 0);
	internal(dp, "198.18.0.0/16"); /* 256 /24s, 24 blocks: .0 to .23 get one */
	assert_int_equal(bwe_hslots_used(dp->hsl), 24);
	assert_int_equal(hosts_new(&h, dp), 0);

	b1 = frames(dp, "198.18.0.1", "203.0.113.10", 3);
	b2 = frames(dp, "198.18.23.255", "203.0.113.10", 2);
	b3 = frames(dp, "198.18.200.1", "203.0.113.10", 4); /* no block: bwe_hosts */
	b4 = frames(dp, "2001:db8:1::5", "2001:db8:3::10", 5);
	frames(dp, "203.0.113.10", "198.18.0.99", 7); /* inbound only */
	assert_int_equal(hosts_sample(h, on_batch, &s), 0);
	assert_int_equal(s.n, 4);
	assert_int_equal(hosts_count(h), 4);
	assert_int_equal(hosts_in_slots(h), 2);
	assert_int_equal(find(&s, "198.18.0.1")->st.tx_bytes, b1);
	assert_int_equal(find(&s, "198.18.23.255")->st.tx_bytes, b2);
	assert_int_equal(find(&s, "198.18.200.1")->st.tx_bytes, b3);
	assert_int_equal(find(&s, "2001:db8:1::5")->st.tx_bytes, b4);
	assert_null(find(&s, "198.18.0.99"));
	assert_false(hosts_has(h, &quiet));
	assert_int_equal(hosts_get(h, &quiet, &one), -ENOENT);

	/* a second sample: rates from the first; one host read alone agrees */
	usleep(100000);
	frames(dp, "198.18.0.1", "203.0.113.10", 10);
	memset(&s, 0, sizeof(s));
	assert_int_equal(hosts_sample(h, on_batch, &s), 0);
	assert_int_equal(s.n, 4);
	assert_true(find(&s, "198.18.0.1")->tx_bps > 0);
	assert_true(find(&s, "198.18.200.1")->tx_bps == 0);
	{
		struct bwe_addr a = addr("198.18.0.1");

		assert_int_equal(hosts_get(h, &a, &one), 0);
		assert_int_equal(one.st.tx_bytes, find(&s, "198.18.0.1")->st.tx_bytes);
	}
	hosts_free(h);
	bwe_dp_close(dp);
}

/*
 * A bwe_hosts record of an address that has a slot now (written behind the
 * assignment's back, as a record left from before) is not handed on: the
 * slot is the host's one record.
 */
static void test_leftover_hash_record(void **state)
{
	struct bwe_dp_opts opts = { .hosts_max = HOSTS_MAX, .hslots = UINT32_MAX };
	struct bwe_addr a = addr("198.18.0.7");
	struct bwe_host_stats *cpu;
	struct bwe_dp *dp;
	struct hosts *h;
	struct seen s = { 0 };
	__u64 b;

	(void)state;
	assert_int_equal(bwe_dp_open(&dp, &opts), 0);
	internal(dp, "198.18.0.0/24");
	assert_int_equal(hosts_new(&h, dp), 0);
	b = frames(dp, "198.18.0.7", "203.0.113.10", 2);
	cpu = calloc((size_t)dp->ncpus, sizeof(*cpu));
	assert_non_null(cpu);
	cpu[0].tx_bytes = 123456;
	assert_int_equal(bpf_map_update_elem(bwe_dp_map_fd(dp, BWE_MAP_HOSTS), &a, cpu, BPF_ANY),
			 0);
	assert_int_equal(hosts_sample(h, on_batch, &s), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(find(&s, "198.18.0.7")->st.tx_bytes, b);
	free(cpu);
	hosts_free(h);
	bwe_dp_close(dp);
}

static void sweep_batch(void *ctx, const struct host_sample *v, size_t n)
{
	hostsweep_note(ctx, v, n);
}

/* One tick of the daemon's sweep: begin, the sample, end; the counts after it. */
static struct hostsweep_counts sweep_tick(struct hosts *h, struct hostsweep *sw, __u64 idle_s)
{
	struct hostsweep_counts c;

	hostsweep_begin(sw, idle_s);
	assert_int_equal(hosts_sample(h, sweep_batch, sw), 0);
	hostsweep_end(sw);
	hostsweep_counts(sw, &c);
	return c;
}

/*
 * Outbound drops to a listed peer: a slot host's are counted apart from its
 * record (bwe_hslot_drop) once it is a host, a bwe_hosts host's in its
 * record; the sample and a single read give both the same drop counters
 * and bl_hits. A slot host that only sends to listed peers is not idle.
 */
static void test_sample_slot_drops(void **state)
{
	struct bwe_dp_opts opts = { .hosts_max = HOSTS_MAX, .hslots = UINT32_MAX };
	struct bwe_prefix bad = pfx("203.0.113.66/32");
	static const char *const hosts[] = { "198.18.0.5", "198.18.200.1" }; /* slot, bwe_hosts */
	struct hostsweep_counts c;
	struct hostsweep *sw;
	struct host_sample one;
	struct seen s = { 0 };
	struct bwe_bl bl;
	struct bwe_dp *dp;
	struct hosts *h;
	__u64 b[2];
	size_t i;

	(void)state;
	assert_int_equal(bwe_dp_open(&dp, &opts), 0);
	internal(dp, "198.18.0.0/16");
	assert_int_equal(bwe_bl_init(&bl, dp), 0);
	assert_int_equal(bwe_bl_set(&bl, &bad, bwe_ref(1, 0)), 0);
	assert_int_equal(bwe_bl_flush(&bl), 0);
	assert_int_equal(hosts_new(&h, dp), 0);
	assert_int_equal(hostsweep_new(&sw, dp), 0);
	for (i = 0; i < ARRAY_SIZE(hosts); i++) {
		frames(dp, hosts[i], "203.0.113.10", 1); /* a host from now */
		b[i] = frames_as(dp, hosts[i], "203.0.113.66", 3, XDP_DROP);
	}
	assert_int_equal(hosts_sample(h, on_batch, &s), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(hosts_in_slots(h), 1);
	for (i = 0; i < ARRAY_SIZE(hosts); i++) {
		const struct host_sample *x = find(&s, hosts[i]);
		struct bwe_addr a = addr(hosts[i]);

		assert_non_null(x);
		assert_int_equal(x->st.drop[BWE_HD_BLOCK].packets, 3);
		assert_int_equal(x->st.drop[BWE_HD_BLOCK].bytes, b[i]);
		assert_int_equal(x->st.bl_hits, 3);
		assert_int_equal(x->st.tx_packets, 1);
		assert_int_equal(hosts_get(h, &a, &one), 0);
		assert_int_equal(one.st.drop[BWE_HD_BLOCK].packets, 3);
		assert_int_equal(one.st.bl_hits, 3);
		assert_int_equal(one.st.last_seen_ns, x->st.last_seen_ns);
	}

	usleep(1200000); /* past an idle time of 1 s */
	frames_as(dp, "198.18.0.5", "203.0.113.66", 1, XDP_DROP);
	c = sweep_tick(h, sw, 1);
	assert_int_equal(c.slots, 0);
	assert_int_equal(c.hashed, 1); /* 198.18.200.1 */
	{
		struct bwe_addr kept = addr(hosts[0]), gone = addr(hosts[1]);

		assert_true(hosts_tracked(h, &kept));
		assert_false(hosts_tracked(h, &gone));
	}
	hostsweep_free(sw);
	bwe_bl_free(&bl);
	hosts_free(h);
	bwe_dp_close(dp);
}

#define IDLE_SLOTS (HOSTSWEEP_MAX + 100) /* slot hosts gone quiet: two samples' work */

/*
 * Hosts quiet for longer than the timeout, in slots and in bwe_hosts, are
 * forgotten, at most HOSTSWEEP_MAX a sample (slots first, as the sample
 * reads them), the rest at the next; hosts that just sent are kept, and
 * the sample after holds only them. Off (0) forgets nothing.
 */
static void test_sweep_forgets_idle(void **state)
{
	struct bwe_dp_opts opts = { .hosts_max = HOSTS_MAX, .hslots = UINT32_MAX };
	struct bwe_addr busy = addr("198.18.23.200"), busy6 = addr("2001:db8:1::6");
	struct hostsweep_counts c;
	struct hostsweep *sw;
	struct bwe_dp *dp;
	struct hosts *h;
	char a[INET_ADDRSTRLEN];
	__u32 i;

	(void)state;
	assert_int_equal(bwe_dp_open(&dp, &opts), 0);
	internal(dp, "198.18.0.0/16"); /* 24 blocks: 198.18.0.0 to 198.18.23.255 */
	assert_int_equal(hosts_new(&h, dp), 0);
	assert_int_equal(hostsweep_new(&sw, dp), 0);
	for (i = 0; i < IDLE_SLOTS; i++) {
		snprintf(a, sizeof(a), "198.18.%u.%u", i / 256, i % 256);
		frames(dp, a, "203.0.113.10", 1);
	}
	frames(dp, "198.18.200.1", "203.0.113.10", 1); /* no block: bwe_hosts */
	frames(dp, "2001:db8:1::5", "2001:db8:3::10", 1);
	usleep(1200000); /* past an idle time of 1 s */
	frames(dp, "198.18.23.200", "203.0.113.10", 1);
	frames(dp, "2001:db8:1::6", "2001:db8:3::10", 1);

	c = sweep_tick(h, sw, 0); /* off */
	assert_int_equal(c.slots + c.hashed, 0);
	assert_int_equal(hosts_count(h), IDLE_SLOTS + 4);
	c = sweep_tick(h, sw, 1);
	assert_int_equal(c.slots, HOSTSWEEP_MAX);
	assert_int_equal(c.hashed, 0);
	c = sweep_tick(h, sw, 1);
	assert_int_equal(c.slots, IDLE_SLOTS);
	assert_int_equal(c.hashed, 2);
	c = sweep_tick(h, sw, 1);
	assert_int_equal(c.slots + c.hashed, IDLE_SLOTS + 2); /* nothing more */
	assert_int_equal(hosts_count(h), 2);
	assert_int_equal(hosts_in_slots(h), 1);
	assert_true(hosts_has(h, &busy));
	assert_true(hosts_has(h, &busy6));
	assert_true(hosts_tracked(h, &busy));

	hostsweep_free(sw);
	hosts_free(h);
	bwe_dp_close(dp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sample_both_homes),
		cmocka_unit_test(test_leftover_hash_record),
		cmocka_unit_test(test_sweep_forgets_idle),
		cmocka_unit_test(test_sample_slot_drops),
	};

	libbpf_set_print(NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
