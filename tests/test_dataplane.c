// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_dataplane.c - lib/dataplane.c with pinned maps: every map of
 * BWE_PINNED_MAPS is pinned, stamped with BWE_ABI_VERSION, reused by the
 * next open and removed by bwe_dp_unpin(); pins of another ABI version are
 * refused with -EPROTO and a message naming both versions and the remedy.
 * And what the loaded program does to the maps for hostile senders, through
 * bpf_prog_test_run_opts (nothing attached, no packet leaves the process):
 * inbound frames create no host entries, spoofed inbound blocklist hits are
 * kept apart from outbound contacts, and a token bucket whose last refill is
 * later than the frame's clock reading is not refilled.
 *
 * Needs root (BPF). The pins live on a private bpffs mounted in a private
 * mount namespace of this process, so nothing is visible to, or collides
 * with, a daemon or another test on the machine.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <limits.h>
#include <poll.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cmocka.h>

#include "test_helpers.h"
#include "addr.h"
#include "bl4tab.h"
#include "blocklist.h"
#include "bwe_bl4.h"
#include "bwe_rules.h"
#include "bwe_util.h"
#include "dataplane.h"
#include "feed.h"
/* The generated skeleton casts away const; that is bpftool's code, not ours. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wcast-qual"
#include "bwe.skel.h"
#pragma GCC diagnostic pop
#include "hslots.h"
#include "netclass.h"
#include "pktbuild.h"

#define OTHER_ABI (BWE_ABI_VERSION + 1) /* a version this build does not speak */

static char bpffs[] = "/tmp/bwe-test-bpffs.XXXXXX";

#define PIN_NAME(field, pin) pin,
static const char *const pins[] = { BWE_PINNED_MAPS(PIN_NAME) };

static int setup(void **state)
{
	(void)state;
	libbpf_set_print(NULL);
	if (private_namespace("test_dataplane", 0))
		return -1;
	if (!mkdtemp(bpffs) || mount("bpf", bpffs, "bpf", 0, NULL)) {
		fprintf(stderr, "bpffs at %s: %s\n", bpffs, strerror(errno));
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	umount2(bpffs, MNT_DETACH);
	rmdir(bpffs);
	return 0;
}

/* A fresh pin directory for one test. */
static const char *pin_dir(const char *name)
{
	static char dir[PATH_MAX];

	assert_true(snprintf(dir, sizeof(dir), "%s/%s", bpffs, name) < (int)sizeof(dir));
	assert_int_equal(mkdir(dir, 0700), 0);
	return dir;
}

static const char *pin_path(const char *dir, const char *name)
{
	static char path[PATH_MAX];

	assert_true(snprintf(path, sizeof(path), "%s/%s", dir, name) < (int)sizeof(path));
	return path;
}

static size_t count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Create a pinned set of this build's maps, the way a daemon leaves them. */
static void make_pins(const char *dir)
{
	struct bwe_dp_opts opts = { .pin_dir = dir };
	struct bwe_dp *dp;

	assert_int_equal(bwe_dp_open(&dp, &opts), 0);
	bwe_dp_close(dp);
}

/* The stamp under dir, read as another version would read it. */
static __u32 stamp_of(const char *dir)
{
	struct bwe_abi_stamp s = { 0 };
	__u32 zero = 0;
	int fd = bpf_obj_get(pin_path(dir, BWE_MAP_ABI));

	assert_true(fd >= 0);
	assert_int_equal(bpf_map_lookup_elem(fd, &zero, &s), 0);
	close(fd);
	return s.version;
}

/* Replace the stamp pin with one of the given shape and version. */
static void pin_stamp(const char *dir, __u32 value_size, __u32 version)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_RDONLY_PROG);
	__u8 val[16] = { 0 };
	__u32 zero = 0;
	int fd;

	assert_true(value_size <= sizeof(val) && value_size >= sizeof(version));
	memcpy(val, &version, sizeof(version));
	unlink(pin_path(dir, BWE_MAP_ABI));
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, BWE_MAP_ABI, sizeof(zero), value_size, 1, &o);
	assert_true(fd >= 0);
	assert_int_equal(bpf_map_update_elem(fd, &zero, val, BPF_ANY), 0);
	assert_int_equal(bpf_obj_pin(fd, pin_path(dir, BWE_MAP_ABI)), 0);
	close(fd);
}

static __u32 map_id(int fd)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);

	assert_int_equal(bpf_obj_get_info_by_fd(fd, &info, &len), 0);
	return info.id;
}

/* Every listed map is pinned and stamped; the next open reuses them; unpin removes all. */
static void test_pin_reuse_unpin(void **state)
{
	const char *dir = pin_dir("reuse");
	struct bwe_dp_opts opts = { .pin_dir = dir };
	struct bwe_abi_stamp s = { .version = OTHER_ABI };
	struct bwe_dp *dp;
	char msg[BWE_DP_MSG_MAX] = "";
	__u32 zero = 0;
	size_t i;

	(void)state;
	assert_int_equal(bwe_dp_abi_check(dir, msg, sizeof(msg)), 0); /* nothing pinned */
	assert_int_equal(bwe_dp_open(&dp, &opts), 0);
	assert_false(dp->reused);
	for (i = 0; i < ARRAY_SIZE(pins); i++)
		if (access(pin_path(dir, pins[i]), F_OK))
			fail_msg("%s not pinned", pins[i]);
	assert_int_equal(count_entries(dir), ARRAY_SIZE(pins));
	assert_int_equal(stamp_of(dir), BWE_ABI_VERSION);
	/* the stamp is frozen: not even its creator rewrites it */
	assert_int_not_equal(bpf_map_update_elem(bwe_dp_map_fd(dp, BWE_MAP_ABI), &zero, &s,
						 BPF_ANY),
			     0);
	assert_int_equal(errno, EPERM);
	bwe_dp_close(dp);

	assert_int_equal(bwe_dp_abi_check(dir, msg, sizeof(msg)), 0);
	assert_int_equal(bwe_dp_open(&dp, &opts), 0);
	assert_true(dp->reused);
	assert_int_equal(stamp_of(dir), BWE_ABI_VERSION);
	/* every map the program uses is the pinned one, the devmap too (reused by
	 * hand: the kernel's flags on a devmap defeat libbpf's check) */
	for (i = 0; i < ARRAY_SIZE(pins); i++) {
		int pfd = bpf_obj_get(pin_path(dir, pins[i]));

		assert_true(pfd >= 0);
		if (map_id(pfd) != map_id(bwe_dp_map_fd(dp, pins[i])))
			fail_msg("%s: the program's map is not the pinned one", pins[i]);
		close(pfd);
	}
	bwe_dp_close(dp);

	assert_int_equal(bwe_dp_unpin(dir), 0);
	assert_int_equal(count_entries(dir), 0);
}

/* Pins of another ABI version: refused before any is reused, and left as they are. */
static void test_other_abi_refused(void **state)
{
	const char *dir = pin_dir("other");
	struct bwe_dp_opts opts = { .pin_dir = dir };
	struct bwe_dp *dp = NULL;
	char msg[BWE_DP_MSG_MAX] = "", want[64];

	(void)state;
	make_pins(dir);
	pin_stamp(dir, sizeof(struct bwe_abi_stamp), OTHER_ABI);

	assert_int_equal(bwe_dp_abi_check(dir, msg, sizeof(msg)), -EPROTO);
	print_message("refusal: %s\n", msg);
	snprintf(want, sizeof(want), "ABI version %u", OTHER_ABI);
	assert_non_null(strstr(msg, want));
	snprintf(want, sizeof(want), "speaks version %u", BWE_ABI_VERSION);
	assert_non_null(strstr(msg, want));
	assert_non_null(strstr(msg, "bwctl detach"));
	assert_non_null(strstr(msg, "remove"));
	assert_non_null(strstr(msg, dir));

	assert_int_equal(bwe_dp_open(&dp, &opts), -EPROTO);
	assert_null(dp);
	/* nothing touched: the other version's daemon can still detach them */
	assert_int_equal(stamp_of(dir), OTHER_ABI);
	assert_int_equal(count_entries(dir), ARRAY_SIZE(pins));

	/* the remedy works */
	assert_int_equal(bwe_dp_unpin(dir), 0);
	assert_int_equal(bwe_dp_open(&dp, &opts), 0);
	assert_int_equal(stamp_of(dir), BWE_ABI_VERSION);
	bwe_dp_close(dp);
	assert_int_equal(bwe_dp_unpin(dir), 0);
}

/* A stamp pin that is not a stamp map is refused too, not read past its end. */
static void test_bad_stamp_refused(void **state)
{
	const char *dir = pin_dir("bad");
	struct bwe_dp_opts opts = { .pin_dir = dir };
	struct bwe_dp *dp = NULL;
	char msg[BWE_DP_MSG_MAX] = "";

	(void)state;
	make_pins(dir);
	pin_stamp(dir, 2 * sizeof(struct bwe_abi_stamp), BWE_ABI_VERSION);
	assert_int_equal(bwe_dp_abi_check(dir, msg, sizeof(msg)), -EPROTO);
	assert_non_null(strstr(msg, "is not an ABI stamp"));
	assert_int_equal(bwe_dp_open(&dp, &opts), -EPROTO);
	assert_null(dp);
	assert_int_equal(bwe_dp_unpin(dir), 0);
}

/* Pins from before the stamp existed are of BWE_ABI_VERSION_UNSTAMPED. */
static void test_unstamped_pins(void **state)
{
	const char *dir = pin_dir("unstamped");
	struct bwe_dp_opts opts = { .pin_dir = dir };
	int want = BWE_ABI_VERSION_UNSTAMPED == BWE_ABI_VERSION ? 0 : -EPROTO;
	struct bwe_dp *dp = NULL;
	char msg[BWE_DP_MSG_MAX] = "";

	(void)state;
	make_pins(dir);
	assert_int_equal(unlink(pin_path(dir, BWE_MAP_ABI)), 0);
	assert_int_equal(bwe_dp_abi_check(dir, msg, sizeof(msg)), want);
	assert_int_equal(bwe_dp_open(&dp, &opts), want);
	if (!want) {
		/* adopted, and stamped from now on */
		assert_true(dp->reused);
		assert_int_equal(stamp_of(dir), BWE_ABI_VERSION);
		bwe_dp_close(dp);
	}
	assert_int_equal(bwe_dp_unpin(dir), 0);
}

/* ---- the program against hostile senders ------------------------------------ */

#define FEED_T 2

struct world {
	struct bwe_dp *dp;
	struct bwe_bl bl;
	struct ring_buffer *rb;
	int nevents;
	struct bwe_event ev;
};

static int on_event(void *ctx, void *data, size_t len)
{
	struct world *w = ctx;

	assert_int_equal(len, sizeof(w->ev));
	memcpy(&w->ev, data, sizeof(w->ev));
	w->nevents++;
	return 0;
}

static int drain(struct world *w)
{
	w->nevents = 0;
	ring_buffer__consume(w->rb);
	return w->nevents;
}

/*
 * Private maps: internal 198.18.0.0/24 and 2001:db8:1::/64, 198.18.0.66
 * quarantined, 198.18.0.77 throttled; 203.0.113.66 and 2001:db8:3::66
 * blocklisted (drop).
 */
static void world_up_with(struct world *w, const struct bwe_dp_opts *opts)
{
	struct bwe_config cfg = { .event_dedup_ns = 60ULL * 1000000000ULL };
	struct bwe_prefix in4 = pfx("198.18.0.0/24"), in6 = pfx("2001:db8:1::/64");
	struct bwe_prefix q = pfx("198.18.0.66/32"), t = pfx("198.18.0.77/32");
	struct bwe_prefix b4 = pfx("203.0.113.66/32"), b6 = pfx("2001:db8:3::66/128");
	struct bwe_ncset s;

	memset(w, 0, sizeof(*w));
	assert_int_equal(bwe_dp_open(&w->dp, opts), 0);
	assert_int_equal(bwe_dp_config_set(w->dp, &cfg), 0);
	bwe_ncset_init(&s);
	assert_int_equal(bwe_ncset_add(&s, &in4, BWE_NC_INTERNAL), 0);
	assert_int_equal(bwe_ncset_add(&s, &in6, BWE_NC_INTERNAL), 0);
	assert_int_equal(bwe_ncset_add(&s, &q, BWE_NC_QUARANTINE), 0);
	assert_int_equal(bwe_ncset_add(&s, &t, BWE_NC_THROTTLE), 0);
	assert_int_equal(bwe_dp_netclass_apply(w->dp, &s), 0);
	bwe_ncset_free(&s);
	assert_int_equal(bwe_bl_init(&w->bl, w->dp), 0);
	assert_int_equal(bwe_bl_set(&w->bl, &b4, bwe_ref(FEED_T, 0)), 0);
	assert_int_equal(bwe_bl_set(&w->bl, &b6, bwe_ref(FEED_T, 0)), 0);
	assert_int_equal(bwe_bl_flush(&w->bl), 0);
	w->rb = ring_buffer__new(bwe_dp_map_fd(w->dp, BWE_MAP_EVENTS), on_event, w, NULL);
	assert_non_null(w->rb);
}

/* The world above, its hosts in bwe_hosts only (no slots: the LRU path). */
static void world_up(struct world *w)
{
	world_up_with(w, &(struct bwe_dp_opts){ 0 });
}

static void world_down(struct world *w)
{
	ring_buffer__free(w->rb);
	bwe_bl_free(&w->bl);
	bwe_dp_close(w->dp);
}

/* Run a frame n times through the program; its XDP action, its length in *lenp. */
static int run_n(struct world *w, const char *src, const char *dst, __u16 payload, __u32 *lenp,
		 __u32 n)
{
	struct pb_spec spec = { .src = src,
				.dst = dst,
				.proto = IPPROTO_UDP,
				.sport = 40000,
				.dport = 9,
				.payload = payload };
	__u8 frame[BWE_PKT_MAX], out[BWE_PKT_MAX];
	int len = pb_build(&spec, frame, sizeof(frame));
	LIBBPF_OPTS(bpf_test_run_opts, topts, .data_in = frame, .data_size_in = (__u32)len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = n);

	assert_true(len > 0);
	if (lenp)
		*lenp = (__u32)len;
	assert_int_equal(bpf_prog_test_run_opts(bwe_dp_prog_fd(w->dp), &topts), 0);
	return (int)topts.retval;
}

/* Run one frame through the program; its XDP action, its length in *lenp. */
static int run(struct world *w, const char *src, const char *dst, __u16 payload, __u32 *lenp)
{
	return run_n(w, src, dst, payload, lenp, 1);
}

static struct bwe_counter stat_of(struct world *w, __u32 slot)
{
	struct bwe_counter c[BWE_STATS_MAX];

	assert_int_equal(bwe_dp_stats_read(w->dp, c), 0);
	return c[slot];
}

static __u64 host_entries(struct world *w)
{
	int fd = bwe_dp_map_fd(w->dp, BWE_MAP_HOSTS);
	struct bwe_addr k, next;
	__u64 n = 0;
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		n++;
	}
	return n;
}

/*
 * Inbound frames to internal addresses that never sent create no entry and
 * are counted in the aggregate; an outbound frame creates the entry, and
 * the host's inbound traffic is then its own.
 */
static void test_inbound_creates_no_host(void **state)
{
	static const char *const targets[][2] = {
		{ "203.0.113.10", "198.18.0.50" },
		{ "2001:db8:3::10", "2001:db8:1::50" },
	};
	struct bwe_host_stats hs;
	struct bwe_counter c0, c1;
	struct world w;
	__u32 len, lin = 0, lout;
	size_t i;
	int k;

	(void)state;
	world_up(&w);
	for (i = 0; i < ARRAY_SIZE(targets); i++) {
		struct bwe_addr h = addr(targets[i][1]);

		c0 = stat_of(&w, BWE_A_INBOUND_UNTRACKED);
		for (k = 0; k < 5; k++)
			assert_int_equal(run(&w, targets[i][0], targets[i][1], 100, &lin),
					 XDP_PASS);
		c1 = stat_of(&w, BWE_A_INBOUND_UNTRACKED);
		assert_int_equal(c1.packets - c0.packets, 5);
		assert_int_equal(c1.bytes - c0.bytes, 5 * lin);
		assert_int_equal(bwe_dp_host_read(w.dp, &h, &hs), -ENOENT);

		/* the host sends: now it has an entry, and its inbound counts there */
		assert_int_equal(run(&w, targets[i][1], targets[i][0], 10, &lout), XDP_PASS);
		assert_int_equal(bwe_dp_host_read(w.dp, &h, &hs), 0);
		assert_int_equal(hs.tx_packets, 1);
		assert_int_equal(hs.rx_packets, 0);
		c0 = stat_of(&w, BWE_A_INBOUND_UNTRACKED);
		assert_int_equal(run(&w, targets[i][0], targets[i][1], 100, &len), XDP_PASS);
		c1 = stat_of(&w, BWE_A_INBOUND_UNTRACKED);
		assert_int_equal(c1.packets - c0.packets, 0);
		assert_int_equal(bwe_dp_host_read(w.dp, &h, &hs), 0);
		assert_int_equal(hs.rx_packets, 1);
		assert_int_equal(hs.rx_bytes, len);
	}
	assert_int_equal(host_entries(&w), 2);

	/* a spray over a /24 (v4) and 256 addresses of a /64 (v6) adds nothing */
	c0 = stat_of(&w, BWE_A_INBOUND_UNTRACKED);
	for (k = 0; k < 256; k++) {
		char d4[INET_ADDRSTRLEN], d6[INET6_ADDRSTRLEN];

		snprintf(d4, sizeof(d4), "198.18.0.%d", k);
		snprintf(d6, sizeof(d6), "2001:db8:1::%x:%x", (k * 7919) & 0xffff, k + 1);
		if (k == 50 || k == 66)
			continue; /* the host that sent; the quarantined one (a drop) */
		assert_int_equal(run(&w, "203.0.113.10", d4, 10, NULL), XDP_PASS);
		assert_int_equal(run(&w, "2001:db8:3::10", d6, 10, NULL), XDP_PASS);
	}
	c1 = stat_of(&w, BWE_A_INBOUND_UNTRACKED);
	assert_int_equal(c1.packets - c0.packets, 2 * 254);
	assert_int_equal(host_entries(&w), 2);
	world_down(&w);
}

/*
 * Drops do not depend on an entry: a quarantined or blocklisted verdict for
 * an untracked inbound target still drops, counts the aggregate and the
 * verdict, and emits no per-target event.
 */
static void test_untracked_still_dropped(void **state)
{
	struct bwe_host_stats hs;
	struct bwe_counter b0, b1, q0, q1, u0, u1;
	struct bwe_addr qh = addr("198.18.0.66"), bh = addr("198.18.0.51");
	struct world w;

	(void)state;
	world_up(&w);
	drain(&w);
	b0 = stat_of(&w, BWE_R_BLOCK);
	q0 = stat_of(&w, BWE_R_QUARANTINE);
	u0 = stat_of(&w, BWE_A_INBOUND_UNTRACKED);
	assert_int_equal(run(&w, "203.0.113.66", "198.18.0.51", 10, NULL), XDP_DROP);
	assert_int_equal(run(&w, "203.0.113.10", "198.18.0.66", 10, NULL), XDP_DROP);
	b1 = stat_of(&w, BWE_R_BLOCK);
	q1 = stat_of(&w, BWE_R_QUARANTINE);
	u1 = stat_of(&w, BWE_A_INBOUND_UNTRACKED);
	assert_int_equal(b1.packets - b0.packets, 1);
	assert_int_equal(q1.packets - q0.packets, 1);
	assert_int_equal(u1.packets - u0.packets, 2);
	assert_int_equal(bwe_dp_host_read(w.dp, &bh, &hs), -ENOENT);
	assert_int_equal(bwe_dp_host_read(w.dp, &qh, &hs), -ENOENT);
	assert_int_equal(drain(&w), 0);

	/* the quarantined host's own outbound frames: dropped, tracked, one event */
	assert_int_equal(run(&w, "198.18.0.66", "203.0.113.10", 10, NULL), XDP_DROP);
	assert_int_equal(bwe_dp_host_read(w.dp, &qh, &hs), 0);
	assert_int_equal(hs.drop[BWE_HD_QUARANTINE].packets, 1);
	assert_int_equal(drain(&w), 1);
	assert_int_equal(w.ev.type, BWE_EV_QUARANTINE_DROP);
	world_down(&w);
}

/*
 * Blocklist hits: outbound contacts count in bl_hits, inbound frames from a
 * listed peer (spoofable) in bl_in_hits, unless they answer the host's own
 * contact with that peer within two event windows; an inbound hit's event
 * does not hold back the event of a later outbound contact with the peer.
 * The same whichever home the IPv4 host has: bwe_hosts, or a slot, whose
 * outbound drops bwe_hslot_drop counts (read merged with the record).
 */
static void hit_directions(const struct bwe_dp_opts *opts)
{
	static const char *const pairs[][2] = {
		{ "198.18.0.52", "203.0.113.66" },
		{ "2001:db8:1::52", "2001:db8:3::66" },
	};
	struct bwe_host_stats hs;
	struct world w;
	size_t i;
	int k;

	world_up_with(&w, opts);
	for (i = 0; i < ARRAY_SIZE(pairs); i++) {
		const char *host = pairs[i][0], *bad = pairs[i][1];
		const char *ok = i ? "2001:db8:3::10" : "203.0.113.10";
		struct bwe_addr h = addr(host);

		drain(&w);
		if (!i) { /* the home under test */
			__u32 slot;

			assert_int_equal(bwe_hslots_slot(w.dp->hsl, ntohl(bwe_addr_v4(&h)), &slot),
					 opts->hslots != 0);
		}
		assert_int_equal(run(&w, host, ok, 10, NULL), XDP_PASS); /* tracked from now */
		for (k = 0; k < 3; k++)
			assert_int_equal(run(&w, bad, host, 10, NULL), XDP_DROP);
		assert_int_equal(bwe_dp_host_read(w.dp, &h, &hs), 0);
		assert_int_equal(hs.bl_hits, 0);
		assert_int_equal(hs.bl_in_hits, 3);
		assert_int_equal(drain(&w), 1);
		assert_int_equal(w.ev.dir, BWE_DIR_IN);

		assert_int_equal(run(&w, host, bad, 10, NULL), XDP_DROP);
		assert_int_equal(bwe_dp_host_read(w.dp, &h, &hs), 0);
		assert_int_equal(hs.bl_hits, 1);
		assert_int_equal(hs.bl_in_hits, 3);
		assert_int_equal(hs.drop[BWE_HD_BLOCK].packets, 4);
		assert_int_equal(drain(&w), 1);
		assert_int_equal(w.ev.type, BWE_EV_BLOCK_HIT);
		assert_int_equal(w.ev.dir, BWE_DIR_OUT);

		/* now an inbound frame from that peer answers the host's contact */
		assert_int_equal(run(&w, bad, host, 10, NULL), XDP_DROP);
		assert_int_equal(bwe_dp_host_read(w.dp, &h, &hs), 0);
		assert_int_equal(hs.bl_hits, 2);
		assert_int_equal(hs.bl_in_hits, 3);
	}
	/* ... but not once two event windows passed since the contact */
	{
		struct bwe_config cfg;
		struct bwe_addr h = addr(pairs[0][0]);

		assert_int_equal(bwe_dp_config_get(w.dp, &cfg), 0);
		cfg.event_dedup_ns = 1000000; /* 1 ms */
		assert_int_equal(bwe_dp_config_set(w.dp, &cfg), 0);
		usleep(5000);
		assert_int_equal(run(&w, pairs[0][1], pairs[0][0], 10, NULL), XDP_DROP);
		assert_int_equal(bwe_dp_host_read(w.dp, &h, &hs), 0);
		assert_int_equal(hs.bl_hits, 2);
		assert_int_equal(hs.bl_in_hits, 4);
	}
	world_down(&w);
}

static const struct bwe_dp_opts slot_opts;

static void test_blocklist_hit_directions(void **state)
{
	(void)state;
	hit_directions(&(struct bwe_dp_opts){ 0 });
	hit_directions(&slot_opts);
}

/* ---- exact-host tables: growth under traffic, and a restart ---------------------- */

#define GROW_V4	   40000 /* IPv4 hosts added: the first table (4096) is replaced 4 times */
#define GROW_V6	   10000
#define GROW_STEPS 8

/* A thread sending frames to listed peers through the program, counting what passes. */
struct prober {
	int prog_fd;
	__u8 frame[2][BWE_PKT_MAX];
	int len[2];
	volatile int stop;
	unsigned long runs, passed;
};

static void *probe_loop(void *arg)
{
	struct prober *p = arg;
	__u8 out[BWE_PKT_MAX];
	int i;

	while (!p->stop) {
		for (i = 0; i < 2; i++) {
			LIBBPF_OPTS(bpf_test_run_opts, topts, .data_in = p->frame[i],
				    .data_size_in = (__u32)p->len[i], .data_out = out,
				    .data_size_out = sizeof(out), .repeat = 1);

			if (bpf_prog_test_run_opts(p->prog_fd, &topts) || topts.retval != XDP_DROP)
				p->passed++;
			p->runs++;
		}
	}
	return NULL;
}

/* The n-th host added by the growth test, of one family. */
static struct bwe_prefix grow_host(int v6, __u32 n)
{
	struct bwe_prefix p = pfx(v6 ? "2001:db8:4::/128" : "198.19.0.0/32");

	p.addr.w[3] = htonl(ntohl(p.addr.w[3]) + n);
	return p;
}

static void grow_step(struct bwe_bl *bl, __u32 from, __u32 to, __u8 ref)
{
	__u32 i;

	for (i = from * GROW_V4 / GROW_STEPS; i < to * GROW_V4 / GROW_STEPS; i++) {
		struct bwe_prefix h = grow_host(0, i);

		assert_int_equal(bwe_bl_set(bl, &h, ref), 0);
	}
	for (i = from * GROW_V6 / GROW_STEPS; i < to * GROW_V6 / GROW_STEPS; i++) {
		struct bwe_prefix h = grow_host(1, i);

		assert_int_equal(bwe_bl_set(bl, &h, ref), 0);
	}
	assert_int_equal(bwe_bl_flush(bl), 0);
}

/*
 * A feed grows past its tables' size, in steps, then shrinks back, while a
 * thread runs frames to two peers listed from the start (one per family)
 * through the program: the tables are replaced several times, and not one
 * of those frames passes.
 */
/* Whether bwe_bl_h24 has the bit of IPv4 address a's /24 (bwe_abi.h). */
static bool h24_has(const struct bwe_dp *dp, const char *a)
{
	struct in_addr in;
	__u32 v;

	assert_int_equal(inet_pton(AF_INET, a, &in), 1);
	v = ntohl(in.s_addr);
	return dp->h24[bwe_bl_h24_word(v)] & bwe_bl_h24_bit(v);
}

/* How many /24s bwe_bl_h24 marks. */
static size_t h24_count(const struct bwe_dp *dp)
{
	size_t i, n = 0;

	for (i = 0; i < BWE_BL_H24_WORDS; i++)
		n += (size_t)__builtin_popcountll(dp->h24[i]);
	return n;
}

/* Whether bwe_bl_h6 has the bit of IPv6 address a (bwe_abi.h). */
static bool h6_has_addr(const struct bwe_dp *dp, const struct bwe_addr *a)
{
	__u32 h = bwe_bl_h6_hash(a);

	return dp->h6[bwe_hbits_word(h, BWE_BL_H6_WORDS)] & bwe_hbits_bit(h);
}

static bool h6_has(const struct bwe_dp *dp, const char *a)
{
	struct bwe_prefix p = pfx(a);

	return h6_has_addr(dp, &p.addr);
}

/* How many bits bwe_bl_h6 has set. */
static size_t h6_count(const struct bwe_dp *dp)
{
	size_t i, n = 0;

	for (i = 0; i < BWE_BL_H6_WORDS; i++)
		n += (size_t)__builtin_popcountll(dp->h6[i]);
	return n;
}

static void test_growth_never_passes(void **state)
{
	struct pb_spec v4 = { .src = "198.18.0.52",
			      .dst = "203.0.113.66",
			      .proto = IPPROTO_UDP,
			      .sport = 40000,
			      .dport = 9,
			      .payload = 10 };
	struct pb_spec v6 = v4;
	struct prober p = { 0 };
	size_t b4, b6, max4, max6, n6;
	pthread_t th;
	__u32 step;
	struct world w;

	(void)state;
	world_up(&w);
	v6.src = "2001:db8:1::52";
	v6.dst = "2001:db8:3::66";
	p.prog_fd = bwe_dp_prog_fd(w.dp);
	p.len[0] = pb_build(&v4, p.frame[0], sizeof(p.frame[0]));
	p.len[1] = pb_build(&v6, p.frame[1], sizeof(p.frame[1]));
	assert_true(p.len[0] > 0 && p.len[1] > 0);
	assert_int_equal(w.bl.tab[BWE_BL_V4].max, bwe_bl_table_size(BWE_BL_V4, 0));
	assert_int_equal(pthread_create(&th, NULL, probe_loop, &p), 0);
	for (step = 0; step < GROW_STEPS; step++)
		grow_step(&w.bl, step, step + 1, bwe_ref(FEED_T, 0));
	b4 = w.bl.tab[BWE_BL_V4].builds;
	b6 = w.bl.tab[BWE_BL_V6].builds;
	max4 = w.bl.tab[BWE_BL_V4].max;
	max6 = w.bl.tab[BWE_BL_V6].max;
	/* the /24 bits: every listed host's /24, and no other (the last build recomputed them) */
	assert_true(h24_has(w.dp, "198.19.0.1") && h24_has(w.dp, "198.19.156.63"));
	assert_true(h24_has(w.dp, "203.0.113.66"));
	assert_false(h24_has(w.dp, "198.19.157.1"));
	/* the IPv6 filter: every listed host's bit; clean addresses mostly not */
	assert_true(h6_has(w.dp, "2001:db8:3::66"));
	for (step = 0; step < GROW_V6; step++) {
		struct bwe_prefix h = grow_host(1, step);

		assert_true(h6_has_addr(w.dp, &h.addr));
	}
	assert_true(h6_count(w.dp) <= GROW_V6 + 1 && h6_count(w.dp) > GROW_V6 - GROW_V6 / 100);
	for (step = 0, n6 = 0; step < GROW_V6; step++) {
		struct bwe_prefix h = grow_host(1, GROW_V6 + step);

		n6 += h6_has_addr(w.dp, &h.addr);
	}
	assert_true(n6 < GROW_V6 / 50); /* about 0.1 % of 8 Mi bits are set */
	for (step = GROW_STEPS; step > 0; step--)
		grow_step(&w.bl, step - 1, step, 0);
	p.stop = 1;
	assert_int_equal(pthread_join(th, NULL), 0);
	print_message("%lu frames to listed peers while the tables were replaced %zu + %zu "
		      "times (growing), %zu + %zu (shrinking)\n",
		      p.runs, b4, b6, w.bl.tab[BWE_BL_V4].builds - b4,
		      w.bl.tab[BWE_BL_V6].builds - b6);
	assert_int_equal(p.passed, 0);
	assert_true(p.runs > 0);
	assert_true(b4 >= 2); /* 2560 -> 10240 -> 20480 -> 40960 hosts */
	assert_true(max4 > GROW_V4 && max4 <= bwe_bl_table_size(BWE_BL_V4, GROW_V4 + 1));
	assert_true(b6 >= 2);
	assert_int_equal(max6, bwe_bl_table_size(BWE_BL_V6, GROW_V6 + 1));
	/* back to one host each: small tables again */
	assert_int_equal(w.bl.tab[BWE_BL_V4].max, bwe_bl_table_size(BWE_BL_V4, 0));
	assert_int_equal(w.bl.tab[BWE_BL_V6].max, bwe_bl_table_size(BWE_BL_V6, 0));
	assert_int_equal(run(&w, "198.18.0.52", "203.0.113.66", 10, NULL), XDP_DROP);
	assert_int_equal(run(&w, "198.18.0.52", "198.19.0.1", 10, NULL), XDP_PASS);
	/* the grown hosts' /24s are clear again once a new table was built without them */
	assert_true(h24_has(w.dp, "203.0.113.66"));
	assert_false(h24_has(w.dp, "198.19.0.1"));
	assert_false(h24_has(w.dp, "198.19.100.1"));
	assert_true(h24_count(w.dp) <= 4);
	/* IPv6: a build at a quarter of the hosts or fewer cleared the others'
	 * bits (its last one, to the smallest table, came before the last
	 * deletions, whose bits stay: only a lookup each) */
	assert_true(h6_has(w.dp, "2001:db8:3::66"));
	assert_true(h6_count(w.dp) <= GROW_V6 / 4 + 1);
	assert_int_equal(run(&w, "2001:db8:1::52", "2001:db8:3::66", 10, NULL), XDP_DROP);
	world_down(&w);
}

/* ---- bwe_bl_n6: the IPv6 prefixes' /32 filter ------------------------------ */

#define DROPV6 "tests/data/feeds/real/spamhaus_dropv6_2025-01-15.txt"
#define N6_MAX 128

struct n6_feed {
	struct bwe_prefix p[N6_MAX];
	size_t n;
};

static int n6_on_ind(const struct bwe_indicator *ind, void *ctx)
{
	struct n6_feed *f = ctx;

	if (ind->kind != BWE_IND_PREFIX || f->n == N6_MAX)
		return -ENOSPC;
	f->p[f->n++] = ind->pfx;
	return 0;
}

/* The first /32 of prefix p (its first word, host byte order) in *first, and how many it touches. */
static __u32 n6_span(const struct bwe_prefix *p, __u32 *first)
{
	__u32 n = p->plen >= 32 ? 1 : 1u << (32 - p->plen);

	*first = ntohl(p->addr.w[0]) & ~(n - 1);
	return n;
}

static bool n6_has(const struct bwe_dp *dp, __u32 w0)
{
	struct bwe_addr a = { .w = { htonl(w0) } };
	__u32 h = bwe_bl_n6_hash(&a);

	return dp->n6[bwe_hbits_word(h, BWE_BL_N6_WORDS)] & bwe_hbits_bit(h);
}

/* The filter the prefixes f->p[i] with live[i] make, by the test's own expansion (t zeroed). */
static void n6_want(const struct n6_feed *f, const __u8 *live, __u64 *t)
{
	__u32 first, n, k;
	size_t i;

	for (i = 0; i < f->n; i++) {
		if (!live[i])
			continue;
		n = n6_span(&f->p[i], &first);
		for (k = 0; k < n; k++) {
			struct bwe_addr a = { .w = { htonl(first + k) } };
			__u32 h = bwe_bl_n6_hash(&a);

			t[bwe_hbits_word(h, BWE_BL_N6_WORDS)] |= bwe_hbits_bit(h);
		}
	}
}

/* How many bits that filter has. */
static size_t n6_expected(const struct n6_feed *f, const __u8 *live)
{
	__u64 *t = calloc(BWE_BL_N6_WORDS, sizeof(*t));
	size_t bits;

	assert_non_null(t);
	n6_want(f, live, t);
	bits = (size_t)bwe_dp_bits_count(t, BWE_BL_N6_WORDS);
	free(t);
	return bits;
}

/* The mapped filter is exactly that filter, bit for bit. */
static void n6_exactly(const struct bwe_dp *dp, const struct n6_feed *f, const __u8 *live)
{
	__u64 *t = calloc(BWE_BL_N6_WORDS, sizeof(*t));

	assert_non_null(t);
	n6_want(f, live, t);
	assert_memory_equal(dp->n6, t, BWE_BL_N6_WORDS * sizeof(*t));
	free(t);
}

static size_t n6_count(const struct bwe_dp *dp)
{
	return (size_t)bwe_dp_bits_count(dp->n6, BWE_BL_N6_WORDS);
}

/*
 * An address inside p, as text: in its last /32 with last, else in its
 * first (a prefix shorter than /32 covers each of its /32s whole).
 */
static void n6_inside(const struct bwe_prefix *p, bool last, char *buf, size_t len)
{
	struct bwe_addr a = p->addr;
	__u32 first, n = n6_span(p, &first);

	a.w[0] = htonl(last ? first + n - 1 : first);
	a.w[3] |= htonl(1);
	assert_non_null(inet_ntop(AF_INET6, &a, buf, (socklen_t)len));
}

/* A frame from the world's IPv6 host into the first and the last /32 of p: both verdicts. */
static void n6_run(struct world *w, const struct bwe_prefix *p, int want)
{
	char buf[INET6_ADDRSTRLEN];
	int last;

	for (last = 0; last < 2; last++) {
		n6_inside(p, last, buf, sizeof(buf));
		assert_int_equal(run(w, "2001:db8:1::52", buf, 10, NULL), want);
	}
}

/*
 * Spamhaus' DROPv6 (a real list: /28 to /48) loaded: the filter has the
 * bit of every /32 a prefix touches and no other, so each prefix's last
 * /32 is still dropped (found in the trie); an address of a listed /48's
 * /32 outside it asks the trie and passes; addresses whose bit is clear
 * pass. Deleting the /29s keeps their bits until the flush, which makes
 * the filter exact again.
 */
static void test_v6_prefix_filter(void **state)
{
	struct bwe_feed_parse_opts o = { .format = BWE_FMT_SPAMHAUS, .on_ind = n6_on_ind };
	char *body = slurp(DROPV6), buf[INET6_ADDRSTRLEN];
	__u8 live[N6_MAX];
	struct n6_feed f = { 0 };
	size_t i, clear = 0, n29 = 0;
	struct world w;
	__u32 v;

	(void)state;
	o.ctx = &f;
	assert_int_equal(bwe_feed_parse(body, strlen(body), &o, NULL), 0);
	free(body);
	assert_int_equal(f.n, 78);
	world_up(&w);
	assert_non_null(w.dp->n6);
	assert_int_equal(n6_count(w.dp), 0); /* the world lists IPv6 hosts only */
	for (i = 0; i < f.n; i++) {
		assert_int_equal(bwe_bl_set(&w.bl, &f.p[i], bwe_ref(FEED_T, 0)), 0);
		live[i] = 1;
	}
	assert_int_equal(bwe_bl_flush(&w.bl), 0);
	assert_int_equal(n6_count(w.dp), n6_expected(&f, live));
	assert_int_equal(n6_count(w.dp), 263); /* 263 distinct /32s, no two on one bit */
	n6_exactly(w.dp, &f, live);
	for (i = 0; i < f.n; i++)
		n6_run(&w, &f.p[i], XDP_DROP);
	/* a listed /48's neighbour: its /32's bit is set, the trie says no */
	assert_int_equal(run(&w, "2001:db8:1::52", "2001:678:6c5::1", 10, NULL), XDP_PASS);
	assert_true(n6_has(w.dp, 0x20010678));
	/* most /32s have their bit clear: they pass without the trie */
	for (v = 0x3fff0000; v < 0x3fff0000 + 64; v++) {
		struct bwe_addr a = { .w = { htonl(v), 0, 0, htonl(1) } };

		if (n6_has(w.dp, v))
			continue;
		clear++;
		assert_non_null(inet_ntop(AF_INET6, &a, buf, sizeof(buf)));
		assert_int_equal(run(&w, "2001:db8:1::52", buf, 10, NULL), XDP_PASS);
	}
	assert_true(clear > 60);

	/* the /29s go: their bits stay until the flush, then only the others' */
	for (i = 0; i < f.n; i++) {
		if (f.p[i].plen != 29)
			continue;
		assert_int_equal(bwe_bl_set(&w.bl, &f.p[i], 0), 0);
		live[i] = 0;
		n29++;
	}
	assert_int_equal(n29, 26);
	assert_true(n6_count(w.dp) > n6_expected(&f, live));
	assert_int_equal(bwe_bl_flush(&w.bl), 0);
	n6_exactly(w.dp, &f, live);
	for (i = 0; i < f.n; i++)
		n6_run(&w, &f.p[i], live[i] ? XDP_DROP : XDP_PASS);
	/* all gone: an empty filter */
	for (i = 0; i < f.n; i++)
		assert_int_equal(bwe_bl_set(&w.bl, &f.p[i], 0), 0);
	assert_int_equal(bwe_bl_flush(&w.bl), 0);
	assert_int_equal(n6_count(w.dp), 0);

	/* 17 /20s touch 69,632 /32s, more than the filter's 65,536 bits: all
	 * set (the 17th prefix sets them), every peer asks the trie; two gone,
	 * 61,440 /32s, and the flush makes it exact again */
	f.n = 17;
	memset(live, 0, sizeof(live));
	for (i = 0; i < f.n; i++) {
		f.p[i] = pfx("2a00::/20");
		f.p[i].addr.w[0] = htonl(ntohl(f.p[i].addr.w[0]) + (__u32)(i << 12));
		assert_int_equal(bwe_bl_set(&w.bl, &f.p[i], bwe_ref(FEED_T, 0)), 0);
		live[i] = 1;
		assert_int_equal(n6_count(w.dp), i < 16 ? n6_expected(&f, live) : BWE_BL_N6_BITS);
	}
	assert_int_equal(bwe_bl_flush(&w.bl), 0);
	assert_int_equal(n6_count(w.dp), BWE_BL_N6_BITS);
	for (i = 0; i < f.n; i++)
		n6_run(&w, &f.p[i], XDP_DROP);
	assert_int_equal(run(&w, "2001:db8:1::52", "2a01:1000::1", 10, NULL), XDP_PASS);
	for (i = 0; i < 2; i++) {
		assert_int_equal(bwe_bl_set(&w.bl, &f.p[i], 0), 0);
		live[i] = 0;
	}
	assert_int_equal(bwe_bl_flush(&w.bl), 0);
	n6_exactly(w.dp, &f, live);
	assert_true(n6_count(w.dp) < BWE_BL_N6_BITS);
	for (i = 0; i < f.n; i++)
		n6_run(&w, &f.p[i], live[i] ? XDP_DROP : XDP_PASS);
	world_down(&w);
}

/*
 * A restarted daemon on reused maps: until its start-up sweep, the trie
 * still holds the last run's prefixes that no feed has given again, so a
 * flush after a deletion must not take their bits (their frames would
 * pass the trie by); the sweep deletes them and makes the filter exact,
 * also when nothing was deleted before it.
 */
static void test_v6_prefix_filter_restart(void **state)
{
	const char *dir = pin_dir("n6");
	struct bwe_dp_opts opts = { .pin_dir = dir };
	struct bwe_prefix old = pfx("2a0b:4ec0::/29"), kept = pfx("2001:db8:bad::/48"),
			  gone = pfx("2a10::/29");
	struct n6_feed f = { .p = { kept }, .n = 1 };
	const __u8 live[] = { 1 };
	struct world w;

	(void)state;
	world_up_with(&w, &opts);
	assert_int_equal(bwe_bl_set(&w.bl, &old, bwe_ref(FEED_T, 0)), 0);
	assert_int_equal(bwe_bl_set(&w.bl, &kept, bwe_ref(FEED_T, 0)), 0);
	assert_int_equal(bwe_bl_flush(&w.bl), 0);
	world_down(&w);

	world_up_with(&w, &opts);
	assert_true(w.dp->reused);
	assert_int_equal(bwe_bl_set(&w.bl, &kept, bwe_ref(FEED_T, 0)), 0);
	assert_int_equal(bwe_bl_set(&w.bl, &gone, bwe_ref(FEED_T, 0)), 0);
	assert_int_equal(bwe_bl_flush(&w.bl), 0);
	assert_int_equal(bwe_bl_set(&w.bl, &gone, 0), 0);
	assert_int_equal(bwe_bl_flush(&w.bl), 0);
	n6_run(&w, &old, XDP_DROP); /* the last run's prefix, still in the trie */
	n6_run(&w, &kept, XDP_DROP);
	n6_run(&w, &gone, XDP_PASS);
	assert_int_equal(bwe_bl_sweep(&w.bl), 0);
	n6_exactly(w.dp, &f, live);
	n6_run(&w, &old, XDP_PASS);
	n6_run(&w, &kept, XDP_DROP);
	world_down(&w);

	/* again, with no feed given yet and nothing deleted before the sweep:
	 * the sweep empties the trie, and the filter with it */
	world_up_with(&w, &opts);
	n6_run(&w, &kept, XDP_DROP);
	assert_int_equal(bwe_bl_sweep(&w.bl), 0);
	assert_int_equal(n6_count(w.dp), 0);
	n6_run(&w, &kept, XDP_PASS);
	world_down(&w);
	assert_int_equal(bwe_dp_unpin(dir), 0);
}

/*
 * The filter is a superset of the trie's /32s throughout a change: frames
 * to two listed prefixes are dropped on every run while other prefixes
 * come and go, each round flushed (the filter made exact again each time).
 */
static void test_v6_prefix_filter_churn(void **state)
{
	struct pb_spec spec = { .src = "2001:db8:1::52",
				.proto = IPPROTO_UDP,
				.sport = 40000,
				.dport = 9,
				.payload = 10 };
	struct bwe_prefix keep[2] = { pfx("2a0b:4ec0::/29"), pfx("2001:db8:bad::/48") };
	struct prober p = { 0 };
	pthread_t th;
	__u32 round, k;
	struct world w;

	(void)state;
	world_up(&w);
	for (k = 0; k < 2; k++)
		assert_int_equal(bwe_bl_set(&w.bl, &keep[k], bwe_ref(FEED_T, 0)), 0);
	assert_int_equal(bwe_bl_flush(&w.bl), 0);
	p.prog_fd = bwe_dp_prog_fd(w.dp);
	spec.dst = "2a0b:4ec7:ffff::1";
	p.len[0] = pb_build(&spec, p.frame[0], sizeof(p.frame[0]));
	spec.dst = "2001:db8:bad:1::1";
	p.len[1] = pb_build(&spec, p.frame[1], sizeof(p.frame[1]));
	assert_true(p.len[0] > 0 && p.len[1] > 0);
	assert_int_equal(pthread_create(&th, NULL, probe_loop, &p), 0);
	for (round = 0; round < 200; round++) {
		for (k = 0; k < 16; k++) {
			struct bwe_prefix o = pfx("2a10::/29");

			o.addr.w[0] = htonl(ntohl(o.addr.w[0]) + ((round * 16 + k) << 3));
			assert_int_equal(bwe_bl_set(&w.bl, &o, bwe_ref(FEED_T, 0)), 0);
		}
		assert_int_equal(bwe_bl_flush(&w.bl), 0);
		for (k = 0; k < 16; k++) {
			struct bwe_prefix o = pfx("2a10::/29");

			o.addr.w[0] = htonl(ntohl(o.addr.w[0]) + ((round * 16 + k) << 3));
			assert_int_equal(bwe_bl_set(&w.bl, &o, 0), 0);
		}
		assert_int_equal(bwe_bl_flush(&w.bl), 0);
	}
	p.stop = 1;
	assert_int_equal(pthread_join(th, NULL), 0);
	print_message("%lu frames to listed IPv6 prefixes while 3,200 others came and went\n",
		      p.runs);
	assert_true(p.runs > 0);
	assert_int_equal(p.passed, 0);
	assert_int_equal(n6_count(w.dp),
			 n6_expected(&(struct n6_feed){ .p = { keep[0], keep[1] }, .n = 2 },
				     (const __u8[]){ 1, 1 }));
	world_down(&w);
}

/* A grown table is the one the next open (a restarted daemon) finds and uses. */
static void test_table_survives_restart(void **state)
{
	const char *dir = pin_dir("grown");
	struct bwe_dp_opts opts = { .pin_dir = dir };
	struct bwe_prefix last = grow_host(0, GROW_V4 - 1);
	struct bwe_dp *dp;
	struct bwe_bl bl;
	size_t max;
	__u64 key;
	__u32 id;
	int fd;

	(void)state;
	assert_int_equal(bwe_dp_open(&dp, &opts), 0);
	assert_int_equal(bwe_bl_init(&bl, dp), 0);
	grow_step(&bl, 0, GROW_STEPS, bwe_ref(FEED_T, 0));
	max = bl.tab[BWE_BL_V4].max;
	assert_true(max > bwe_bl_table_size(BWE_BL_V4, 0));
	id = map_id(bl.tab[BWE_BL_V4].fd);
	key = *dp->bl4_key;
	assert_int_not_equal(key, 0);
	*dp->bl4_key = 0; /* as if the daemon died between the swap and the word */
	bwe_bl_free(&bl);
	bwe_dp_close(dp);

	assert_int_equal(bwe_dp_open(&dp, &opts), 0);
	assert_true(dp->reused);
	fd = bwe_dp_bl_table_get(dp, BWE_BL_V4);
	assert_true(fd >= 0);
	assert_int_equal(map_id(fd), id);
	close(fd);
	assert_int_equal(*dp->bl4_key, key); /* the reused table's word, written again */
	assert_int_equal(bwe_bl_init(&bl, dp), 0);
	assert_int_equal(bl.tab[BWE_BL_V4].max, max);
	assert_int_equal(bwe_bl_kernel_ref(&bl, &last.addr), bwe_ref(FEED_T, 0));
	/* the mirror is empty after a restart: the sweep empties the table, in place */
	assert_int_equal(bwe_bl_sweep(&bl), 0);
	assert_int_equal(bwe_bl_kernel_ref(&bl, &last.addr), BWE_REF_NONE);
	assert_int_equal(bl.tab[BWE_BL_V4].max, bwe_bl_table_size(BWE_BL_V4, 0));
	bwe_bl_free(&bl);
	bwe_dp_close(dp);
	assert_int_equal(bwe_dp_unpin(dir), 0);
}

/* ---- the dense IPv4 table: key 0, crafted collisions, removal ----------------- */

#define CRAFT_N	   (BWE_BL4_WAYS * BWE_BL4_PROBE_MAX + 40) /* more than one probe window */
#define CRAFT_MASK 0x3fff     /* collide in every table up to 16,384 buckets */
#define CRAFT_BASE 0x0b000000 /* 11.0.0.0: public, outside every test range */

/* The seed of family IPv4's current table. */
static __u64 bl4_seed_of(const struct bwe_bl *bl)
{
	struct bwe_bl4 t;

	assert_int_equal(bwe_bl4_open(&t, bl->tab[BWE_BL_V4].fd), 0);
	return t.seed;
}

/* n addresses (network order) with one home bucket under seed in every table up to CRAFT_MASK + 1 buckets. */
static void craft(__u64 seed, __be32 *out, size_t n)
{
	__u32 i, want = bwe_bl4_home(seed, CRAFT_MASK, htonl(CRAFT_BASE));
	size_t k = 0;

	for (i = 0; k < n && i < (1u << 24); i++)
		if (bwe_bl4_home(seed, CRAFT_MASK, htonl(CRAFT_BASE + i)) == want)
			out[k++] = htonl(CRAFT_BASE + i);
	assert_int_equal(k, n);
}

static const char *v4_text(__be32 a, char *buf)
{
	assert_non_null(inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN));
	return buf;
}

static __u8 v4_ref(const struct bwe_bl *bl, __be32 a)
{
	struct bwe_addr x;

	bwe_addr_from_v4(a, &x);
	return bwe_bl_kernel_ref(bl, &x);
}

/* 0.0.0.0 is an address like any other: an empty slot (all zero) does not list it. */
static void test_bl4_address_zero(void **state)
{
	static const char *const edge[] = { "0.0.0.0/32", "255.255.255.255/32", "0.0.0.1/32" };
	struct world w;
	size_t i;

	(void)state;
	world_up(&w);
	assert_int_equal(v4_ref(&w.bl, 0), BWE_REF_NONE); /* 511 empty buckets of zeros */
	for (i = 0; i < ARRAY_SIZE(edge); i++) {
		struct bwe_prefix p = pfx(edge[i]);

		assert_int_equal(bwe_bl_set(&w.bl, &p, bwe_ref(FEED_T, (int)i & 1)), 0);
	}
	assert_int_equal(bwe_bl_flush(&w.bl), 0);
	for (i = 0; i < ARRAY_SIZE(edge); i++) {
		struct bwe_prefix p = pfx(edge[i]);

		assert_int_equal(bwe_bl_kernel_ref(&w.bl, &p.addr), bwe_ref(FEED_T, (int)i & 1));
	}
	/* removed, 0.0.0.0 is unlisted again; its neighbours stay */
	{
		struct bwe_prefix p = pfx(edge[0]);

		assert_int_equal(bwe_bl_set(&w.bl, &p, 0), 0);
		assert_int_equal(bwe_bl_flush(&w.bl), 0);
		assert_int_equal(v4_ref(&w.bl, 0), BWE_REF_NONE);
		p = pfx(edge[2]);
		assert_int_equal(bwe_bl_kernel_ref(&w.bl, &p.addr), bwe_ref(FEED_T, 0));
	}
	world_down(&w);
}

/*
 * A feed crafted against the table's seed: CRAFT_N addresses with one home
 * bucket, more than a probe window holds. The flush builds a new table with
 * a new seed, and every address is dropped by the program.
 */
static void test_bl4_crafted_collisions(void **state)
{
	static __be32 a[CRAFT_N];
	__u64 seed0;
	size_t builds, i;
	struct world w;
	char buf[INET_ADDRSTRLEN];

	(void)state;
	world_up(&w);
	seed0 = bl4_seed_of(&w.bl);
	craft(seed0, a, CRAFT_N);
	builds = w.bl.tab[BWE_BL_V4].builds;
	for (i = 0; i < CRAFT_N; i++) {
		struct bwe_addr x;
		struct bwe_prefix p;

		bwe_addr_from_v4(a[i], &x);
		p.addr = x;
		p.plen = BWE_ADDR_BITS;
		assert_int_equal(bwe_bl_set(&w.bl, &p, bwe_ref(FEED_T, 0)), 0);
	}
	assert_int_equal(bwe_bl_flush(&w.bl), 0);
	assert_true(w.bl.tab[BWE_BL_V4].builds > builds);
	assert_true(bl4_seed_of(&w.bl) != seed0);
	for (i = 0; i < CRAFT_N; i++) {
		assert_int_equal(v4_ref(&w.bl, a[i]), bwe_ref(FEED_T, 0));
		assert_int_equal(run(&w, "198.18.0.52", v4_text(a[i], buf), 10, NULL), XDP_DROP);
	}
	assert_int_equal(run(&w, "198.18.0.52", "203.0.113.66", 10, NULL), XDP_DROP);
	world_down(&w);
}

/*
 * The same against an adversary who knows every seed (bl4_seed pins it):
 * the builds end after BWE_BL4_BUILD_TRIES, the flush fails with -E2BIG
 * (for the caller to roll back), and the table in use is the one before.
 */
static void test_bl4_known_seed_fails_loudly(void **state)
{
	static __be32 a[CRAFT_N];
	struct world w;
	size_t i;
	__u32 id;

	(void)state;
	world_up(&w);
	w.bl.bl4_seed = bl4_seed_of(&w.bl);
	craft(w.bl.bl4_seed, a, CRAFT_N);
	id = map_id(w.bl.tab[BWE_BL_V4].fd);
	for (i = 0; i < CRAFT_N; i++) {
		struct bwe_prefix p = { .plen = BWE_ADDR_BITS };

		bwe_addr_from_v4(a[i], &p.addr);
		assert_int_equal(bwe_bl_set(&w.bl, &p, bwe_ref(FEED_T, 0)), 0);
	}
	assert_int_equal(bwe_bl_flush(&w.bl), -E2BIG);
	assert_int_equal(w.bl.tab[BWE_BL_V4].reseeds, BWE_BL4_BUILD_TRIES - 1);
	assert_int_equal(map_id(w.bl.tab[BWE_BL_V4].fd), id);
	assert_int_equal(run(&w, "198.18.0.52", "203.0.113.66", 10, NULL), XDP_DROP);
	world_down(&w);
}

/*
 * Nested IPv4 prefixes set and removed at random, against a model: after
 * every change the program's answer for one address of every /24 of
 * 10.1.0.0/16 (the DIR-24 table, whose owners the mirror derives from its
 * prefix set) and for every address of 10.1.7.0/24 (hosts and /25../31
 * expansions) is the longest-prefix answer of the model. Lengths are drawn
 * so that prefixes overlap often: /8, /12, /16, /20, /23, /24, /28, /32.
 */
#define NEST_OPS  400
#define NEST_MAX  64
#define NEST_BASE 0x0a010000u /* 10.1.0.0 */

struct nest_ent {
	__u32 net;
	int len;
	__u8 ref;
};

static __u32 nest_mask(int len)
{
	return len ? ~0u << (32 - len) : 0;
}

/* The model's ref for address v: bwe_ref_merge(host level, table level). */
static __u8 nest_expect(const struct nest_ent *m, size_t n, __u32 v)
{
	int host_len = 0, tab_len = 0;
	__u8 host = 0, tab = 0, explicit = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if ((v & nest_mask(m[i].len)) != m[i].net)
			continue;
		if (m[i].len == 32)
			explicit = m[i].ref;
		else if (m[i].len > 24 && m[i].len > host_len)
			host_len = m[i].len, host = m[i].ref;
		else if (m[i].len <= 24 && m[i].len > tab_len)
			tab_len = m[i].len, tab = m[i].ref;
	}
	return bwe_ref_merge(explicit ? explicit : host, tab);
}

static void nest_check(struct world *w, const struct nest_ent *m, size_t n, int op)
{
	__u32 k;

	for (k = 0; k < 256 + 256; k++) {
		__u32 v = k < 256 ? NEST_BASE | k << 8 | 5 : NEST_BASE | 7u << 8 | (k - 256);
		__u8 want = nest_expect(m, n, v);

		if (v4_ref(&w->bl, htonl(v)) != want)
			fail_msg("op %d: %u.%u.%u.%u has ref %#x, the model %#x", op, v >> 24,
				 v >> 16 & 255, v >> 8 & 255, v & 255, v4_ref(&w->bl, htonl(v)),
				 want);
	}
}

static void test_bl4_nested_prefixes_model(void **state)
{
	static const int lens[] = { 8, 12, 16, 20, 23, 24, 28, 32 };
	struct nest_ent m[NEST_MAX];
	unsigned int seed = 4242;
	size_t n = 0, i;
	struct world w;
	int op;

	(void)state;
	world_up(&w);
	for (op = 0; op < NEST_OPS; op++) {
		int len = lens[rand_r(&seed) % ARRAY_SIZE(lens)];
		__u32 low = len >= 28 ? 7u << 8 | (rand_r(&seed) & 255) : rand_r(&seed) & 0xffff;
		__u32 net = (NEST_BASE | low) & nest_mask(len);
		__u8 ref = rand_r(&seed) % 3
				   ? bwe_ref(FEED_T + rand_r(&seed) % 2, rand_r(&seed) % 2)
				   : 0;
		struct bwe_prefix p = { .plen = (__u8)(96 + len) };

		for (i = 0; i < n && !(m[i].net == net && m[i].len == len); i++)
			;
		if (!ref && i < n)
			m[i] = m[--n];
		else if (ref && i < n)
			m[i].ref = ref;
		else if (ref && n < NEST_MAX)
			m[n++] = (struct nest_ent){ net, len, ref };
		else if (ref)
			continue;
		bwe_addr_from_v4(htonl(net), &p.addr);
		assert_int_equal(bwe_bl_set(&w.bl, &p, ref), 0);
		assert_int_equal(bwe_bl_flush(&w.bl), 0);
		nest_check(&w, m, n, op);
	}
	/* everything removed: nothing of it is left in the table or the mirror */
	while (n) {
		struct bwe_prefix p = { .plen = (__u8)(96 + m[n - 1].len) };

		bwe_addr_from_v4(htonl(m[n - 1].net), &p.addr);
		assert_int_equal(bwe_bl_set(&w.bl, &p, 0), 0);
		n--;
	}
	assert_int_equal(bwe_bl_flush(&w.bl), 0);
	nest_check(&w, m, 0, NEST_OPS);
	assert_int_equal(w.bl.n_v4pfx, 0);
	world_down(&w);
}

/* What a previous daemon left in the DIR-24 table: the sweep clears the slots no prefix owns, and only those. */
static void test_bl4_sweep_clears_unowned_slots(void **state)
{
	static const char *const stale[] = { "11.0.0.9", "12.5.6.9", "223.255.255.9" };
	static const struct {
		const char *pfx, *probe;
		int feed, monitor;
	} held[] = {
		{ "10.0.0.0/8", "10.2.0.9", FEED_T, 0 },
		{ "10.1.0.0/16", "10.1.3.9", FEED_T, 1 },
		{ "10.1.2.0/24", "10.1.2.9", FEED_T + 1, 0 },
	};
	struct world w;
	size_t i;

	(void)state;
	world_up(&w);
	for (i = 0; i < ARRAY_SIZE(held); i++) {
		struct bwe_prefix p = pfx(held[i].pfx);

		assert_int_equal(bwe_bl_set(&w.bl, &p, bwe_ref(held[i].feed, held[i].monitor)), 0);
	}
	for (i = 0; i < ARRAY_SIZE(stale); i++) {
		__u32 n24 = ntohl(addr(stale[i]).w[3]) >> 8;

		w.dp->tbl24[n24 / BWE_TBL24_LANES].ref[n24 % BWE_TBL24_LANES] = bwe_ref(FEED_T, 0);
		assert_int_equal(v4_ref(&w.bl, addr(stale[i]).w[3]), bwe_ref(FEED_T, 0));
	}
	assert_int_equal(bwe_bl_sweep(&w.bl), 0);
	for (i = 0; i < ARRAY_SIZE(stale); i++)
		assert_int_equal(v4_ref(&w.bl, addr(stale[i]).w[3]), BWE_REF_NONE);
	for (i = 0; i < ARRAY_SIZE(held); i++)
		assert_int_equal(v4_ref(&w.bl, addr(held[i].probe).w[3]),
				 bwe_ref(held[i].feed, held[i].monitor));
	world_down(&w);
}

/*
 * Removal and reinsertion inside one overflowing chain: entries past their
 * home stay found when those before them go, the spill counts fall back to
 * 0 once nothing lies past a bucket, and a removed address comes back.
 */
static void test_bl4_remove_reinsert(void **state)
{
	static __be32 a[3 * BWE_BL4_WAYS];
	struct bwe_bl4 t;
	__u8 ref = bwe_ref(FEED_T, 0);
	__u32 home;
	size_t i, n = ARRAY_SIZE(a);
	int fd = bwe_bl4_create(BWE_BL4_SLOTS_MIN, 0, 1);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(bwe_bl4_open(&t, fd), 0);
	assert_int_equal(bwe_bl4_map(&t, true), 0);
	craft(t.seed, a, n); /* three buckets' worth with one home */
	home = bwe_bl4_home(t.seed, t.mask, a[0]);
	for (i = 0; i < n; i++)
		assert_int_equal(bwe_bl4_put(&t, a[i], ref), 0);
	assert_int_equal(bwe_bl4_used(&t), n);
	/* slot 0 of the home bucket counts the 16 entries past it */
	assert_int_equal((t.map[1 + home].slot[0] & BWE_BL4_SPILL_MASK) >> BWE_BL4_SPILL_SHIFT,
			 2 * BWE_BL4_WAYS);
	/* the home bucket's entries go: the ones past it are still found, by the program's rules too */
	for (i = 0; i < BWE_BL4_WAYS; i++)
		assert_int_equal(bwe_bl4_put(&t, a[i], BWE_REF_NONE), 0);
	for (i = BWE_BL4_WAYS; i < n; i++) {
		__u8 r;

		assert_int_equal(bwe_bl4_get(&t, a[i]), ref);
		assert_int_equal(bwe_bl4_lookup_fd(fd, a[i], &r), 0);
		assert_int_equal(r, ref);
	}
	/* back in: into the freed home slots, no further spill */
	for (i = 0; i < BWE_BL4_WAYS; i++)
		assert_int_equal(bwe_bl4_put(&t, a[i], bwe_ref(FEED_T, 1)), 0);
	assert_int_equal((t.map[1 + home].slot[0] & BWE_BL4_SPILL_MASK) >> BWE_BL4_SPILL_SHIFT,
			 2 * BWE_BL4_WAYS);
	for (i = 0; i < BWE_BL4_WAYS; i++)
		assert_int_equal(bwe_bl4_get(&t, a[i]), bwe_ref(FEED_T, 1));
	/* everything past home goes: every spill count is 0 again */
	for (i = BWE_BL4_WAYS; i < n; i++)
		assert_int_equal(bwe_bl4_put(&t, a[i], BWE_REF_NONE), 0);
	for (i = 0; i <= t.mask; i++) { /* and the tag is where it was made */
		assert_int_equal(t.map[1 + i].slot[0] & BWE_BL4_SPILL_MASK, 0);
		assert_int_equal(bwe_bl4_slot_tag(t.map[1 + i].slot[0]), 1);
	}
	assert_int_equal(bwe_bl4_used(&t), BWE_BL4_WAYS);
	/* a removal of an absent address changes nothing */
	assert_int_equal(bwe_bl4_put(&t, a[n - 1], BWE_REF_NONE), 0);
	assert_int_equal(bwe_bl4_used(&t), BWE_BL4_WAYS);
	bwe_bl4_close(&t);
	close(fd);
}

/* Write the seed of IPv4 table fd's header (not its buckets): a header that lies. */
static void bl4_header_seed(int fd, __u64 seed)
{
	struct bwe_bl4_hdr h;
	__u32 idx = BWE_BL4_HDR_IDX;

	assert_int_equal(bpf_map_lookup_elem(fd, &idx, &h), 0);
	h.seed = seed;
	assert_int_equal(bpf_map_update_elem(fd, &idx, &h, BPF_ANY), 0);
}

/*
 * The program finds an IPv4 peer's home bucket from bwe_bl4_key's word
 * while the word's tag is the bucket's, else from the table's header: with
 * a header whose seed lies, a listed peer is still dropped through the
 * word, and passes (the lie decides) once the word is 0 or names another
 * tag. A new table gets the next tag and its word; every bucket keeps its
 * tag through puts and removals.
 */
static void test_bl4_key_word(void **state)
{
	struct bwe_prefix b4 = pfx("203.0.113.66/32");
	struct bwe_bl4 t;
	struct world w;
	__u64 k, seed;
	__u32 tag, i;
	int fd;

	(void)state;
	world_up(&w);
	fd = w.bl.tab[BWE_BL_V4].fd;
	assert_int_equal(bwe_bl4_open(&t, fd), 0);
	tag = t.tag;
	k = *w.dp->bl4_key;
	assert_int_not_equal(k, 0);
	assert_int_equal(k, bwe_bl4_key_of(&t));
	assert_int_equal(bwe_bl4_key_tag(k), tag);
	assert_int_equal(bwe_bl4_key_seed(k), t.seed);
	assert_int_equal(bwe_bl4_key_mask(k), t.mask);
	assert_int_equal(run(&w, "198.18.0.10", "203.0.113.66", 10, NULL), XDP_DROP);

	/* a header seed that sends the peer to another bucket */
	for (seed = t.seed + 1;
	     bwe_bl4_home(seed, t.mask, b4.addr.w[3]) == bwe_bl4_home(t.seed, t.mask, b4.addr.w[3]);
	     seed++)
		;
	bl4_header_seed(fd, seed);
	assert_int_equal(run(&w, "198.18.0.10", "203.0.113.66", 10, NULL), XDP_DROP);
	*w.dp->bl4_key = bwe_bl4_key_word(t.seed, t.mask, bwe_bl4_tag_next(tag));
	assert_int_equal(run(&w, "198.18.0.10", "203.0.113.66", 10, NULL), XDP_PASS);
	*w.dp->bl4_key = 0;
	assert_int_equal(run(&w, "198.18.0.10", "203.0.113.66", 10, NULL), XDP_PASS);
	bl4_header_seed(fd, t.seed); /* the truth again: found through the header */
	assert_int_equal(run(&w, "198.18.0.10", "203.0.113.66", 10, NULL), XDP_DROP);
	*w.dp->bl4_key = k;

	/* a bigger table: the next tag, its word, the peer still dropped */
	grow_step(&w.bl, 0, GROW_STEPS, bwe_ref(FEED_T, 0));
	bwe_bl4_close(&t);
	assert_int_equal(bwe_bl4_open(&t, w.bl.tab[BWE_BL_V4].fd), 0);
	assert_int_equal(t.tag, bwe_bl4_tag_next(tag));
	assert_int_equal(*w.dp->bl4_key, bwe_bl4_key_of(&t));
	assert_int_equal(run(&w, "198.18.0.10", "203.0.113.66", 10, NULL), XDP_DROP);
	assert_int_equal(bwe_bl4_map(&t, false), 0);
	for (i = 0; i <= t.mask; i++)
		assert_int_equal(bwe_bl4_slot_tag(t.map[1 + i].slot[0]), t.tag);
	bwe_bl4_close(&t);

	/* what no table can be */
	assert_int_equal(bwe_bl4_create(BWE_BL4_SLOTS_MIN, 1ULL << 32, 1), -EINVAL);
	assert_int_equal(bwe_bl4_create(BWE_BL4_SLOTS_MIN, 0, 0), -EINVAL);
	assert_int_equal(bwe_bl4_create(BWE_BL4_SLOTS_MIN, 0, BWE_BL4_TAG_MAX + 1), -EINVAL);
	assert_int_equal(bwe_bl4_key_word(1ULL << 32, 511, 1), 0);
	assert_int_equal(bwe_bl4_tag_next(BWE_BL4_TAG_MAX), 1);
	world_down(&w);
}

static __u64 clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

static __u64 mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

#define NC16_SETS    20	 /* random class sets */
#define NC16_PFX     40	 /* prefixes per set */
#define NC16_SAMPLES 200 /* addresses checked per set */

/* A random IPv4 prefix /8../32 near a few /16s, so that they nest and collide. */
static struct bwe_prefix nc16_random_pfx(unsigned int *seed)
{
	static const int lens[] = { 8, 12, 15, 16, 17, 18, 20, 23, 24, 25, 28, 32 };
	__u32 v4 = (10u << 24) | ((__u32)(rand_r(seed) % 4) << 16) | (__u32)rand_r(seed) % 65536;
	struct bwe_prefix p = { .plen = (__u8)(BWE_V4_MAPPED_PLEN +
					       lens[rand_r(seed) % (int)ARRAY_SIZE(lens)]) };

	bwe_addr_from_v4(htonl(v4), &p.addr);
	bwe_prefix_mask(&p);
	return p;
}

/*
 * BWE_NC16_HOSTS: a MIXED /16 says whether any address inside is internal,
 * so that a peer's address does not look for a host record it cannot have.
 */
static void test_nc16_hosts(void **state)
{
	static const struct {
		const char *pfx;
		__u32 flags;
	} set[] = {
		{ "198.18.0.0/16", BWE_NC_INTERNAL },
		{ "198.18.0.66/32", BWE_NC_INTERNAL | BWE_NC_QUARANTINE },
		{ "203.0.113.5/32", BWE_NC_EXEMPT },
		{ "198.19.7.0/24", BWE_NC_INTERNAL },
		{ "198.19.8.1/32", BWE_NC_ALLOW },
	};
	static const struct {
		const char *addr;
		__u32 flags;
	} want[] = {
		{ "198.18.1.1", BWE_NC16_MIXED | BWE_NC16_HOSTS | BWE_NC_INTERNAL },
		{ "203.0.113.10", BWE_NC16_MIXED },
		{ "198.19.9.9", BWE_NC16_MIXED | BWE_NC16_HOSTS },
		{ "198.51.100.1", 0 },
	};
	struct bwe_nc16_val *t = calloc(BWE_NC16_ENTRIES, sizeof(*t));
	struct bwe_ncset s;
	struct bwe_prefix p;
	struct bwe_addr a;
	size_t i;

	(void)state;
	assert_non_null(t);
	bwe_ncset_init(&s);
	for (i = 0; i < ARRAY_SIZE(set); i++) {
		assert_int_equal(bwe_prefix_parse(set[i].pfx, &p, BWE_PFX_ZERO), 0);
		assert_int_equal(bwe_ncset_add(&s, &p, set[i].flags), 0);
	}
	bwe_ncset_nc16(&s, t);
	for (i = 0; i < ARRAY_SIZE(want); i++) {
		assert_int_equal(bwe_addr_parse(want[i].addr, &a), 0);
		if (t[bwe_nc16_index(&a)].flags != want[i].flags)
			fail_msg("%s: /16 %#x, want %#x", want[i].addr, t[bwe_nc16_index(&a)].flags,
				 want[i].flags);
	}
	bwe_ncset_free(&s);
	free(t);
}

/* A random IPv6 prefix (host bits set too) inside 2001:db8::/32, /20../128. */
static struct bwe_prefix nc6_random_pfx(unsigned int *seed)
{
	static const int lens[] = { 20, 40, 44, 48, 56, 64, 64, 128, 128 };
	struct bwe_prefix p;
	int k;

	assert_int_equal(bwe_prefix_parse("2001:db8::/32", &p, BWE_PFX_ZERO), 0);
	for (k = 4; k < 16; k++)
		p.addr.a[k] = (__u8)rand_r(seed);
	p.plen = (__u8)lens[rand_r(seed) % (int)ARRAY_SIZE(lens)];
	return p;
}

/*
 * bwe_nc6 after a class set s was applied: exactly bwe_ncset_nc6() of it
 * (t: scratch of BWE_NC6_WORDS), every bit when s has an IPv6 prefix
 * shorter than /32 and less than half of them otherwise, and no IPv6
 * address whose /48 bit is clear has a class in the trie (fd), so that the
 * program, which skips the trie for those, answers as the trie would.
 * Counts the sampled addresses with a clear bit and with a class.
 */
static void nc6_check(const struct bwe_dp *dp, int fd, const struct bwe_ncset *s,
		      unsigned int *seed, __u64 *t, unsigned int *clear, unsigned int *classed)
{
	bool broad = false;
	size_t k, bits = 0;
	int i;

	bwe_ncset_nc6(s, t);
	assert_memory_equal(dp->nc6, t, BWE_NC6_WORDS * sizeof(*t));
	for (k = 0; k < BWE_NC6_WORDS; k++)
		bits += (size_t)__builtin_popcountll(t[k]);
	for (k = 0; k < s->n; k++)
		broad = broad ||
			(!bwe_addr_is_v4(&s->v[k].pfx.addr) && s->v[k].pfx.plen < BWE_NC6_SPAN);
	assert_true(broad ? bits == BWE_NC6_BITS : bits < BWE_NC6_BITS / 2);
	for (i = 0; i < NC16_SAMPLES * 10; i++) {
		struct bwe_prefix p = nc6_random_pfx(seed);
		struct bwe_lpm_key key = { .prefixlen = BWE_ADDR_BITS, .addr = p.addr };
		struct bwe_netclass nc = { 0 };
		__u32 h;

		if (i % 2) /* half of them in the /48 of some prefix of the set */
			memcpy(key.addr.a, s->v[(size_t)rand_r(seed) % s->n].pfx.addr.a, 6);
		h = bwe_nc6_hash(&key.addr);
		if (bpf_map_lookup_elem(fd, &key, &nc))
			nc.flags = 0;
		assert_int_equal(nc.flags, bwe_ncset_lookup(s, &key.addr));
		*classed += !!nc.flags;
		if (dp->nc6[bwe_hbits_word(h, BWE_NC6_WORDS)] & bwe_hbits_bit(h))
			continue;
		(*clear)++;
		if (nc.flags)
			fail_msg("an address with class %#x, its /48 bit clear", nc.flags);
	}
}

/*
 * bwe_nc4 after a class set s (bwe_nc16 t16) was applied: exactly
 * bwe_ncset_nc4() of it (t: scratch of BWE_NC4_WORDS); an IPv4 address
 * inside a prefix of s longer than /16 has a bit set; and an address of a
 * MIXED /16 whose two bits are clear has its /16's class in the trie (fd),
 * so that the program, which answers from the /16 for those, answers as
 * the trie would. Half the sampled addresses lie inside a prefix of s.
 * Counts the sampled addresses of MIXED /16s with clear bits, and those
 * inside a longer prefix.
 */
static void nc4_check(const struct bwe_dp *dp, int fd, const struct bwe_ncset *s,
		      const struct bwe_nc16_val *t16, unsigned int *seed, __u64 *t,
		      unsigned int *clear, unsigned int *inside)
{
	int i;

	bwe_ncset_nc4(s, t);
	assert_memory_equal(dp->nc4, t, BWE_NC4_WORDS * sizeof(*t));
	for (i = 0; i < NC16_SAMPLES * 10; i++) {
		const struct bwe_nc_entry *e = &s->v[(size_t)rand_r(seed) % s->n];
		__u32 v4 = (10u << 24) | ((__u32)(rand_r(seed) % 4) << 16) |
			   (__u32)rand_r(seed) % 65536;
		struct bwe_lpm_key key = { .prefixlen = BWE_ADDR_BITS };
		struct bwe_netclass nc = { 0 };
		__u32 slot, h24, h32;
		bool longer, set;

		longer = bwe_addr_is_v4(&e->pfx.addr) && e->pfx.plen > BWE_V4_MAPPED_PLEN + 16;
		if (i % 2 && longer) { /* an address inside that prefix */
			int len = e->pfx.plen - BWE_V4_MAPPED_PLEN;
			__u32 host = len < 32 ? ~0u >> len : 0;

			v4 = ntohl(bwe_addr_v4(&e->pfx.addr)) | ((__u32)rand_r(seed) & host);
		}
		bwe_addr_from_v4(htonl(v4), &key.addr);
		h24 = bwe_nc4_hash(v4 & 0xffffff00u, 24);
		h32 = bwe_nc4_hash(v4, 32);
		set = (dp->nc4[bwe_hbits_word(h24, BWE_NC4_WORDS)] & bwe_hbits_bit(h24)) ||
		      (dp->nc4[bwe_hbits_word(h32, BWE_NC4_WORDS)] & bwe_hbits_bit(h32));
		if (i % 2 && longer) {
			(*inside)++;
			if (!set)
				fail_msg("%08x inside a /%d of the set: both bwe_nc4 bits clear",
					 v4, e->pfx.plen - BWE_V4_MAPPED_PLEN);
		}
		slot = t16[bwe_nc16_index(&key.addr)].flags;
		if (!(slot & BWE_NC16_MIXED) || set)
			continue;
		(*clear)++;
		if (bpf_map_lookup_elem(fd, &key, &nc))
			nc.flags = 0;
		if (nc.flags != (slot & ~(BWE_NC16_MIXED | BWE_NC16_HOSTS)))
			fail_msg("%08x: bwe_nc4 bits clear, the /16 says %#x, the trie %#x", v4,
				 slot & ~(BWE_NC16_MIXED | BWE_NC16_HOSTS), nc.flags);
	}
}

/*
 * bwe_nc16 against the trie it is derived from: random nested class sets
 * (with IPv6 prefixes that cover all of IPv4 or none of it) are applied;
 * the mapped table must equal bwe_ncset_nc16() of the closure; a slot that
 * is not MIXED must give the class the trie gives every address of its
 * /16, and a MIXED slot must hold a longer prefix of other flags. Each
 * apply moves the class generation by one. The same sets carry IPv6
 * prefixes of /20 to /128 for bwe_nc6 (nc6_check()), and their IPv4
 * prefixes longer than /16 make bwe_nc4 (nc4_check()).
 */
static void test_nc16_matches_trie(void **state)
{
	static const char *const v6[] = { "::/0", "::ffff:0:0/96", "2001:db8::/32" };
	struct bwe_dp_opts opts = { 0 };
	struct bwe_nc16_val *t = calloc(BWE_NC16_ENTRIES, sizeof(*t));
	__u64 *t6 = calloc(BWE_NC6_WORDS, sizeof(*t6));
	__u64 *t4 = calloc(BWE_NC4_WORDS, sizeof(*t4));
	unsigned int seed = 2026, clear = 0, classed = 0, clear4 = 0, inside4 = 0;
	struct bwe_config c0, c1;
	struct bwe_dp *dp;
	int set, i, fd;

	(void)state;
	assert_non_null(t);
	assert_non_null(t6);
	assert_non_null(t4);
	assert_int_equal(bwe_dp_open(&dp, &opts), 0);
	fd = bwe_dp_map_fd(dp, BWE_MAP_NETCLASS);
	for (set = 0; set < NC16_SETS; set++) {
		struct bwe_ncset s;

		bwe_ncset_init(&s);
		for (i = 0; i < NC16_PFX; i++) {
			struct bwe_prefix p = nc16_random_pfx(&seed);

			assert_int_equal(bwe_ncset_add(&s, &p, 1u << (rand_r(&seed) % 5)), 0);
		}
		for (i = 0; i < NC16_PFX / 4; i++) {
			struct bwe_prefix p = nc6_random_pfx(&seed);

			if (p.plen < BWE_NC6_SPAN && set % 5 != 4)
				p.plen = 40; /* one set in five has a prefix too broad to list */
			assert_int_equal(bwe_ncset_add(&s, &p, 1u << (rand_r(&seed) % 5)), 0);
		}
		if (set % 4 < (int)ARRAY_SIZE(v6)) {
			struct bwe_prefix p;

			assert_int_equal(bwe_prefix_parse(v6[set % 4], &p, BWE_PFX_ZERO), 0);
			assert_int_equal(bwe_ncset_add(&s, &p, BWE_NC_EXEMPT), 0);
		}
		assert_int_equal(bwe_dp_config_get(dp, &c0), 0);
		assert_int_equal(bwe_dp_netclass_apply(dp, &s), 0);
		assert_int_equal(bwe_dp_config_get(dp, &c1), 0);
		assert_int_equal(c1.nc_gen, c0.nc_gen + 1);
		bwe_ncset_nc16(&s, t);
		assert_memory_equal(dp->nc16, t, BWE_NC16_ENTRIES * sizeof(*t));
		nc6_check(dp, fd, &s, &seed, t6, &clear, &classed);
		nc4_check(dp, fd, &s, t, &seed, t4, &clear4, &inside4);
		for (i = 0; i < NC16_SAMPLES; i++) {
			__u32 v4 = (10u << 24) | ((__u32)(rand_r(&seed) % 6) << 16) |
				   (__u32)rand_r(&seed) % 65536;
			struct bwe_lpm_key key = { .prefixlen = BWE_ADDR_BITS };
			struct bwe_netclass nc = { 0 };
			__u32 slot, want;

			if (i % 2)
				v4 = (__u32)rand_r(&seed) ^ ((__u32)rand_r(&seed) << 16);
			bwe_addr_from_v4(htonl(v4), &key.addr);
			slot = t[bwe_nc16_index(&key.addr)].flags;
			want = bwe_ncset_lookup(&s, &key.addr);
			if (bpf_map_lookup_elem(fd, &key, &nc))
				nc.flags = 0;
			assert_int_equal(nc.flags, want);
			if (!(slot & BWE_NC16_MIXED) && slot != want)
				fail_msg("set %d: %08x: /16 slot says %#x, the trie %#x", set, v4,
					 slot, want);
			if ((slot & BWE_NC16_MIXED) && (want & BWE_NC_INTERNAL) &&
			    !(slot & BWE_NC16_HOSTS))
				fail_msg("set %d: %08x internal in a MIXED /16 without HOSTS", set,
					 v4);
		}
		for (i = 0; i < (int)BWE_NC16_ENTRIES; i++) {
			__u32 own = t[i].flags & ~(BWE_NC16_MIXED | BWE_NC16_HOSTS);
			bool why = false, inside = own & BWE_NC_INTERNAL;
			size_t k;

			if (!(t[i].flags & BWE_NC16_MIXED)) {
				if (t[i].flags & BWE_NC16_HOSTS)
					fail_msg("set %d: /16 %d HOSTS without MIXED", set, i);
				continue;
			}
			for (k = 0; k < s.n; k++) {
				if (!bwe_addr_is_v4(&s.v[k].pfx.addr) ||
				    s.v[k].pfx.plen <= BWE_V4_MAPPED_PLEN + 16 ||
				    bwe_nc16_index(&s.v[k].pfx.addr) != (__u32)i)
					continue;
				why = why || s.v[k].flags != own;
				inside = inside || (s.v[k].flags & BWE_NC_INTERNAL);
			}
			if (!why)
				fail_msg("set %d: /16 %d MIXED without a longer prefix of other flags",
					 set, i);
			if (inside != !!(t[i].flags & BWE_NC16_HOSTS))
				fail_msg("set %d: /16 %d HOSTS is %d, internal addresses inside: %d",
					 set, i, !!(t[i].flags & BWE_NC16_HOSTS), inside);
		}
		bwe_ncset_free(&s);
	}
	/* configuration writes keep the generation */
	c0 = c1;
	c0.nc_gen = 0;
	assert_int_equal(bwe_dp_config_set(dp, &c0), 0);
	assert_int_equal(bwe_dp_config_get(dp, &c0), 0);
	assert_int_equal(c0.nc_gen, c1.nc_gen);
	assert_true(clear > 0 && classed > 0);	/* neither side of nc6_check() was empty */
	assert_true(clear4 > 0 && inside4 > 0); /* nor of nc4_check() */
	bwe_dp_close(dp);
	free(t);
	free(t6);
	free(t4);
}

/*
 * The clock race of the token bucket: the program reads the clock before
 * the entry's lock, so another CPU may have stored a later last_ns. A
 * bucket whose last refill lies in the frame's future gains nothing: a
 * frame over the tokens left is dropped, not passed on a full refill.
 */
/*
 * The programs' tick clock is CLOCK_MONOTONIC at the tick: a host's last
 * seen lies at most two ticks and a quarter before the coarse clock before
 * its frame and never after the fine clock after it, read from jiffies on
 * the measured scale (an offset from a single pair, without the tick's
 * margin in bwe_tick_off(), failed 2 runs in 20 here) and, with tick_ns 0,
 * from the helper. The quarter: from one frame to the next the jiffies
 * clock lies one or two ticks behind the coarse one, plus what the two
 * clocks' tick boundaries drift apart since the load (2 ticks + 7 ns in 3
 * runs of 10 here, architecture.md "Clocks"); a tick more would be a
 * margin gone wrong.
 * The frames come 200 ms after the load, so a wrong HZ (the nearest two
 * differ by a sixth) would put them tens of ms off.
 */
static void test_tick_clock(void **state)
{
	struct timespec pause = { .tv_nsec = 200 * 1000 * 1000 };
	struct bwe_addr h = addr("198.18.0.10");
	struct bwe_host_stats hs;
	struct bwe_config cfg, keep;
	struct world w;
	__u32 zero = 0, tick;
	__u64 lo, hi;
	int helper;

	(void)state;
	world_up(&w);
	assert_int_equal(bwe_dp_config_get(w.dp, &cfg), 0);
	tick = cfg.tick_ns;
	assert_int_equal(tick, w.dp->tick_ns);
	assert_true(tick >= 1000000 && tick <= 10000000); /* HZ 1000 .. 100 */
	assert_int_equal(cfg.tick_off, w.dp->tick_off);
	assert_int_equal(bwe_dp_tick_snap(4000000 + 60000), 4000000);
	assert_int_equal(bwe_dp_tick_snap(3333333 - 50000), 3333333);
	assert_int_equal(bwe_dp_tick_snap(10000000 + 150000), 10000000);
	assert_int_equal(bwe_dp_tick_snap(1000000), 1000000);
	assert_int_equal(bwe_dp_tick_snap(2000000), 0);
	assert_int_equal(bwe_dp_tick_snap(8000000), 0);
	assert_int_equal(bwe_dp_tick_snap(0), 0);

	/* a caller's config without the scale keeps the map's */
	keep = cfg;
	keep.tick_ns = 0;
	keep.tick_off = 0;
	assert_int_equal(bwe_dp_config_set(w.dp, &keep), 0);
	assert_int_equal(bwe_dp_config_get(w.dp, &cfg), 0);
	assert_int_equal(cfg.tick_ns, tick);
	assert_int_equal(cfg.tick_off, w.dp->tick_off);

	nanosleep(&pause, NULL);
	for (helper = 0; helper < 2; helper++) {
		if (helper) { /* unmeasured: the helper's reading */
			cfg.tick_ns = 0;
			assert_int_equal(bpf_map_update_elem(bwe_dp_map_fd(w.dp, BWE_MAP_CONFIG),
							     &zero, &cfg, BPF_ANY),
					 0);
		}
		lo = clock_ns(CLOCK_MONOTONIC_COARSE);
		assert_int_equal(run(&w, "198.18.0.10", "203.0.113.10", 10, NULL), XDP_PASS);
		hi = mono_ns();
		assert_int_equal(bwe_dp_host_read(w.dp, &h, &hs), 0);
		assert_true(hs.last_seen_ns + 2 * tick + tick / 4 >= lo);
		assert_true(hs.last_seen_ns <= hi); /* never in the future */
	}
	world_down(&w);
}

/*
 * The TC egress program is not loaded until asked for (a routed gateway
 * does not wait for its verifier), then once. That it runs on this load's
 * maps is test_xdp's test_nat_tc_egress (its verdicts come from them).
 */
static void test_tc_loaded_on_demand(void **state)
{
	struct world w;
	int fd;

	(void)state;
	world_up(&w);
	assert_null(w.dp->tc);
	assert_true(bpf_program__fd(w.dp->skel->progs.bwe_tc_egress) < 0); /* not loaded */
	fd = bwe_dp_tc_prog_fd(w.dp);
	assert_true(fd >= 0);
	assert_non_null(w.dp->tc);
	assert_int_equal(bwe_dp_tc_prog_fd(w.dp), fd);
	world_down(&w);
}

/* Descriptors this process holds. */
static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/*
 * The open in two halves (bwe_dp_open_async()): the maps take writes while
 * the XDP program loads, the program then reads what was written (a listed
 * peer written before the wait is dropped), the wait is said once and
 * holds after; a load still in progress at close ends first.
 */
static void test_open_async(void **state)
{
	const char *dir = pin_dir("async");
	struct bwe_dp_opts opts = { .pin_dir = dir };
	struct bwe_prefix in4 = pfx("198.18.0.0/24"), b4 = pfx("203.0.113.66/32");
	struct pollfd pfd = { .events = POLLIN };
	struct bwe_ncset s;
	struct world w;
	int fds;

	(void)state;
	memset(&w, 0, sizeof(w));
	assert_int_equal(bwe_dp_open_async(&w.dp, &opts), 0);
	assert_true(bwe_dp_ready_fd(w.dp) >= 0);
	bwe_ncset_init(&s);
	assert_int_equal(bwe_ncset_add(&s, &in4, BWE_NC_INTERNAL), 0);
	assert_int_equal(bwe_dp_netclass_apply(w.dp, &s), 0);
	bwe_ncset_free(&s);
	assert_int_equal(bwe_bl_init(&w.bl, w.dp), 0);
	assert_int_equal(bwe_bl_set(&w.bl, &b4, bwe_ref(FEED_T, 0)), 0);
	assert_int_equal(bwe_bl_flush(&w.bl), 0);
	pfd.fd = bwe_dp_ready_fd(w.dp);
	assert_int_equal(poll(&pfd, 1, 60 * 1000), 1); /* the load says it ended */
	assert_int_equal(bwe_dp_wait(w.dp), 0);
	assert_int_equal(bwe_dp_ready_fd(w.dp), -1);
	assert_true(bwe_dp_prog_fd(w.dp) >= 0);
	assert_int_equal(bwe_dp_wait(w.dp), 0); /* done: at once */
	w.rb = ring_buffer__new(bwe_dp_map_fd(w.dp, BWE_MAP_EVENTS), on_event, &w, NULL);
	assert_non_null(w.rb);
	assert_int_equal(run(&w, "198.18.0.10", "203.0.113.66", 10, NULL), XDP_DROP);
	assert_int_equal(run(&w, "198.18.0.10", "203.0.113.67", 10, NULL), XDP_PASS);
	world_down(&w);

	/* closed while loading: the load ends, no descriptor is left behind */
	fds = open_fds();
	assert_int_equal(bwe_dp_open_async(&w.dp, &opts), 0);
	assert_true(w.dp->reused);
	bwe_dp_close(w.dp);
	assert_int_equal(open_fds(), fds);
	assert_int_equal(bwe_dp_unpin(dir), 0);
}

static void test_bucket_last_refill_in_future(void **state)
{
	struct bwe_addr h = addr("198.18.0.77");
	int fd;
	struct bwe_throttle t;
	struct world w;
	__u32 len;
	__u64 future;

	(void)state;
	world_up(&w);
	fd = bwe_dp_map_fd(w.dp, BWE_MAP_THROTTLE);
	assert_int_equal(bwe_dp_throttle_set(w.dp, &h, 1000000, 100000), 0);
	assert_int_equal(run(&w, "198.18.0.77", "203.0.113.10", 400, &len), XDP_PASS);

	/* 1.5 frames of tokens left, last refill 5 s in the future of the frames */
	assert_int_equal(bpf_map_lookup_elem_flags(fd, &h, &t, BPF_F_LOCK), 0);
	future = mono_ns() + 5000000000ULL;
	t.tx.tokens = len + len / 2;
	t.tx.last_ns = future;
	assert_int_equal(bpf_map_update_elem(fd, &h, &t, BPF_F_LOCK), 0);
	assert_int_equal(run(&w, "198.18.0.77", "203.0.113.10", 400, NULL), XDP_PASS);
	assert_int_equal(run(&w, "198.18.0.77", "203.0.113.10", 400, NULL), XDP_DROP);
	assert_int_equal(bpf_map_lookup_elem_flags(fd, &h, &t, BPF_F_LOCK), 0);
	assert_int_equal(t.tx.tokens, len / 2);
	assert_int_equal(t.tx.last_ns, future); /* not moved back */

	/* the same in the other direction's bucket */
	t.rx.tokens = 0;
	t.rx.last_ns = future;
	assert_int_equal(bpf_map_update_elem(fd, &h, &t, BPF_F_LOCK), 0);
	assert_int_equal(run(&w, "203.0.113.10", "198.18.0.77", 400, NULL), XDP_DROP);

	/* once the clock passes last_ns, time counts again: a second refills */
	t.tx.tokens = 0;
	t.tx.last_ns = mono_ns() - 2000000000ULL;
	assert_int_equal(bpf_map_update_elem(fd, &h, &t, BPF_F_LOCK), 0);
	assert_int_equal(run(&w, "198.18.0.77", "203.0.113.10", 400, NULL), XDP_PASS);
	world_down(&w);
}

/* ---- IPv4 host slots (lib/hslots.h) ------------------------------------------ */

/*
 * The internal /24s of a closed set, as runs: a /25 counts its /24, nested
 * and touching prefixes merge, other flags and IPv6 do not count, an IPv6
 * prefix covering the IPv4-mapped space takes all of it; what the daemon
 * asks for (bwe_hslots_wanted()) is 256 slots per /24.
 */
static void test_internal24_runs(void **state)
{
	static const char *const nets[] = { "198.18.4.0/23", "198.18.5.128/25", "198.18.6.0/24",
					    "198.18.9.0/25", "10.0.0.0/8",	"2001:db8::/32" };
	struct bwe_prefix v[ARRAY_SIZE(nets)], ex = pfx("203.0.113.0/24"), all = pfx("::/1");
	struct bwe_range24 *r;
	struct bwe_ncset s;
	size_t i, n;

	(void)state;
	bwe_ncset_init(&s);
	for (i = 0; i < ARRAY_SIZE(nets); i++) {
		v[i] = pfx(nets[i]);
		assert_int_equal(bwe_ncset_add(&s, &v[i], BWE_NC_INTERNAL), 0);
	}
	assert_int_equal(bwe_ncset_add(&s, &ex, BWE_NC_EXEMPT), 0); /* not internal */
	assert_int_equal(bwe_ncset_closure(&s), 0);
	assert_int_equal(bwe_ncset_internal24(&s, &r, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(r[0].lo, 10u << 16);
	assert_int_equal(r[0].hi, (10u << 16) + 65535);
	assert_int_equal(r[1].lo, (198u << 16) | (18u << 8) | 4);
	assert_int_equal(r[1].hi, (198u << 16) | (18u << 8) | 6);
	assert_int_equal(r[2].lo, (198u << 16) | (18u << 8) | 9);
	assert_int_equal(r[2].hi, r[2].lo);
	free(r);
	assert_int_equal(bwe_hslots_wanted(v, ARRAY_SIZE(v)), (65536u + 3 + 1) * 256);
	bwe_ncset_free(&s);

	bwe_ncset_init(&s);
	assert_int_equal(bwe_ncset_add(&s, &all, BWE_NC_INTERNAL), 0);
	assert_int_equal(bwe_ncset_closure(&s), 0);
	assert_int_equal(bwe_ncset_internal24(&s, &r, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(r[0].lo, 0);
	assert_int_equal(r[0].hi, 0xffffff);
	free(r);
	assert_int_equal(bwe_hslots_wanted(&all, 1), UINT32_MAX);
	bwe_ncset_free(&s);
}

#define SLOT_HOSTS  4096u /* 3,072 slots (three quarters): 12 blocks */
#define SLOT_BLOCKS 12u

static const struct bwe_dp_opts slot_opts = { .hosts_max = SLOT_HOSTS, .hslots = UINT32_MAX };

/* Make the internal networks exactly the n prefixes of nets (v4 and v6). */
static void internal_set(struct bwe_dp *dp, const char *const *nets, size_t n)
{
	struct bwe_ncset s;
	size_t i;

	bwe_ncset_init(&s);
	for (i = 0; i < n; i++) {
		struct bwe_prefix p = pfx(nets[i]);

		assert_int_equal(bwe_ncset_add(&s, &p, BWE_NC_INTERNAL), 0);
	}
	assert_int_equal(bwe_dp_netclass_apply(dp, &s), 0);
	bwe_ncset_free(&s);
}

/* The block serving the /24 of v4 address text a, or UINT32_MAX: none. */
static __u32 block_of(const struct bwe_dp *dp, const char *a)
{
	struct bwe_addr x = addr(a);
	__u32 slot;

	if (!bwe_hslots_slot(dp->hsl, ntohl(bwe_addr_v4(&x)), &slot))
		return UINT32_MAX;
	return slot / BWE_HSLOT_BLOCK;
}

/*
 * A slot's host is found without bwe_hosts and keeps the LRU path's rules:
 * inbound frames to an address that never sent are the aggregate's, its
 * first outbound frame makes it a host on every CPU's view, a quarantine
 * inside its /24 (a MIXED /16) holds through the record's class cache and
 * ends with the generation; IPv6 hosts stay in bwe_hosts.
 */
static void test_slot_hosts(void **state)
{
	struct bwe_host_stats hs;
	struct bwe_counter c0, c1;
	struct bwe_addr h = addr("198.18.0.10"), h6 = addr("2001:db8:1::10");
	struct world w;
	__u32 lin, lout, slot, word = 0;
	__u64 bits = 0;
	int k;

	(void)state;
	world_up_with(&w, &slot_opts);
	assert_int_equal(bwe_hslots_blocks(w.dp->hsl), SLOT_BLOCKS);
	assert_int_equal(bwe_hslots_used(w.dp->hsl), 1);
	assert_true(bwe_hslots_slot(w.dp->hsl, ntohl(bwe_addr_v4(&h)), &slot));
	assert_int_equal(slot % BWE_HSLOT_BLOCK, 10);

	c0 = stat_of(&w, BWE_A_INBOUND_UNTRACKED);
	assert_int_equal(run(&w, "203.0.113.10", "198.18.0.10", 100, &lin), XDP_PASS);
	c1 = stat_of(&w, BWE_A_INBOUND_UNTRACKED);
	assert_int_equal(c1.packets - c0.packets, 1);
	assert_int_equal(bwe_dp_host_read(w.dp, &h, &hs), -ENOENT);

	assert_int_equal(run(&w, "198.18.0.10", "203.0.113.10", 10, &lout), XDP_PASS);
	assert_int_equal(run(&w, "203.0.113.10", "198.18.0.10", 100, &lin), XDP_PASS);
	assert_int_equal(bwe_dp_host_read(w.dp, &h, &hs), 0);
	assert_int_equal(hs.tx_packets, 1);
	assert_int_equal(hs.tx_bytes, lout);
	assert_int_equal(hs.rx_packets, 1);
	assert_int_equal(hs.rx_bytes, lin);
	assert_true(hs.first_seen_ns > 0);
	assert_int_equal(host_entries(&w), 0); /* not in bwe_hosts */
	word = slot / 64;
	assert_int_equal(bpf_map_lookup_elem(bwe_dp_map_fd(w.dp, BWE_MAP_HSLOT_SENT), &word, &bits),
			 0);
	assert_true(bits & (1ULL << (slot % 64)));

	/* the quarantined host of the same /24: dropped, from the trie and then the cache */
	for (k = 0; k < 3; k++)
		assert_int_equal(run(&w, "198.18.0.66", "203.0.113.10", 10, NULL), XDP_DROP);
	h = addr("198.18.0.66");
	assert_int_equal(bwe_dp_host_read(w.dp, &h, &hs), 0);
	assert_int_equal(hs.drop[BWE_HD_QUARANTINE].packets, 3);
	{ /* released: the generation moves, the cached class no longer holds */
		static const char *const nets[] = { "198.18.0.0/24", "2001:db8:1::/64" };

		internal_set(w.dp, nets, ARRAY_SIZE(nets));
	}
	assert_int_equal(run(&w, "198.18.0.66", "203.0.113.10", 10, NULL), XDP_PASS);

	assert_int_equal(run(&w, "2001:db8:1::10", "2001:db8:3::10", 10, NULL), XDP_PASS);
	assert_int_equal(host_entries(&w), 1);
	assert_int_equal(bwe_dp_host_read(w.dp, &h6, &hs), 0);
	assert_int_equal(hs.tx_packets, 1);
	world_down(&w);
}

/*
 * Blocks go to internal /24s in address order while they last (the rest
 * use bwe_hosts), stay with a /24 that stays internal, and a block given
 * up is not handed out again in the same change; handed out later, it
 * starts zeroed.
 */
static void test_slot_assignment(void **state)
{
	static const char *const wide[] = { "198.18.0.0/20" }; /* 16 /24s */
	static const char *const two[] = { "198.18.0.0/24", "198.18.1.0/24" };
	static const char *const moved[] = { "198.18.1.0/24", "198.18.5.0/24" };
	static const char *const back[] = { "198.18.0.0/24", "198.18.1.0/24", "198.18.5.0/24" };
	struct bwe_addr h = addr("198.18.0.10"), late = addr("198.18.12.1");
	struct bwe_host_stats hs;
	struct world w;
	__u32 b1, b0;

	(void)state;
	world_up_with(&w, &slot_opts);
	internal_set(w.dp, wide, ARRAY_SIZE(wide));
	assert_int_equal(bwe_hslots_used(w.dp->hsl), SLOT_BLOCKS);
	assert_true(block_of(w.dp, "198.18.11.1") != UINT32_MAX);
	assert_int_equal(block_of(w.dp, "198.18.12.1"), UINT32_MAX);
	assert_int_equal(run(&w, "198.18.12.1", "203.0.113.10", 10, NULL), XDP_PASS);
	assert_int_equal(host_entries(&w), 1); /* beyond the blocks: bwe_hosts */
	assert_int_equal(bwe_dp_host_read(w.dp, &late, &hs), 0);
	world_down(&w);

	world_up_with(&w, &slot_opts);
	internal_set(w.dp, two, ARRAY_SIZE(two));
	assert_int_equal(bwe_hslots_used(w.dp->hsl), 2);
	b0 = block_of(w.dp, "198.18.0.1");
	b1 = block_of(w.dp, "198.18.1.1");
	assert_int_equal(run(&w, "198.18.0.10", "203.0.113.10", 10, NULL), XDP_PASS);
	assert_int_equal(run(&w, "198.18.1.10", "203.0.113.10", 10, NULL), XDP_PASS);

	internal_set(w.dp, moved, ARRAY_SIZE(moved));
	assert_int_equal(bwe_hslots_used(w.dp->hsl), 2);
	assert_int_equal(block_of(w.dp, "198.18.0.1"), UINT32_MAX);
	assert_int_equal(block_of(w.dp, "198.18.1.1"), b1); /* kept, with its host */
	h = addr("198.18.1.10");
	assert_int_equal(bwe_dp_host_read(w.dp, &h, &hs), 0);
	h = addr("198.18.0.10");
	assert_int_equal(hs.tx_packets, 1);
	assert_true(block_of(w.dp, "198.18.5.1") != b0); /* given up just now: not yet */

	internal_set(w.dp, back, ARRAY_SIZE(back));
	assert_int_equal(bwe_hslots_used(w.dp->hsl), 3);
	assert_true(block_of(w.dp, "198.18.0.1") != UINT32_MAX);
	assert_int_equal(bwe_dp_host_read(w.dp, &h, &hs), -ENOENT); /* a new, zeroed block */
	world_down(&w);
}

static struct bwe_hslot_drop slot_drops(const struct world *w, const char *a);

/*
 * A host bwe_hosts tracked before its /24 got a block brings its record
 * along; the block, given up by a /24 whose host at the same offset had
 * drops counted apart, brings none of those.
 */
static void test_slot_takes_hash_record(void **state)
{
	static const char *const wide[] = { "198.18.0.0/20" };
	static const char *const late[] = { "198.18.12.0/24" };
	struct bwe_addr h = addr("198.18.12.1");
	struct bwe_host_stats hs;
	struct world w;
	__u32 b;
	int k;

	(void)state;
	world_up_with(&w, &slot_opts);
	internal_set(w.dp, wide, ARRAY_SIZE(wide)); /* every block used: .12 has none */
	for (k = 0; k < 3; k++)
		assert_int_equal(run(&w, "198.18.12.1", "203.0.113.10", 10, NULL), XDP_PASS);
	assert_int_equal(host_entries(&w), 1);
	b = block_of(w.dp, "198.18.0.1");
	for (k = 0; k < 3; k++) /* the first joins, the next two are counted apart */
		assert_int_equal(run(&w, "198.18.0.1", "203.0.113.66", 10, NULL), XDP_DROP);
	assert_int_equal(slot_drops(&w, "198.18.0.1").packets, 2);
	internal_set(w.dp, late, ARRAY_SIZE(late)); /* the blocks given up cool first */
	assert_int_equal(block_of(w.dp, "198.18.12.1"), UINT32_MAX);
	internal_set(w.dp, late, ARRAY_SIZE(late));
	assert_int_equal(block_of(w.dp, "198.18.12.1"), b);
	assert_int_equal(host_entries(&w), 0);
	assert_int_equal(bwe_dp_host_read(w.dp, &h, &hs), 0);
	assert_int_equal(hs.tx_packets, 3);
	assert_int_equal(hs.drop[BWE_HD_BLOCK].packets, 0);
	assert_int_equal(hs.bl_hits, 0);
	assert_int_equal(run(&w, "198.18.12.1", "203.0.113.10", 10, NULL), XDP_PASS);
	assert_int_equal(bwe_dp_host_read(w.dp, &h, &hs), 0);
	assert_int_equal(hs.tx_packets, 4);
	assert_int_equal(host_entries(&w), 0);
	world_down(&w);
}

/* bwe_hslot_sent's bit of v4 address text a, read as the sampler reads it. */
static bool sent_bit(const struct world *w, const char *a)
{
	struct bwe_addr x = addr(a);
	__u32 slot, word;
	__u64 bits = 0;

	assert_true(bwe_hslots_slot(w->dp->hsl, ntohl(bwe_addr_v4(&x)), &slot));
	word = bwe_hslot_sent_word(slot);
	assert_int_equal(bpf_map_lookup_elem(bwe_dp_map_fd(w->dp, BWE_MAP_HSLOT_SENT), &word,
					     &bits),
			 0);
	return bits & bwe_hslot_sent_bit(slot);
}

/* Whether every CPU's copy of v4 address text a's slot record is all zero. */
static bool slot_zero(const struct world *w, const char *a)
{
	struct bwe_addr x = addr(a);
	struct bwe_host_stats *cpu = calloc((size_t)w->dp->ncpus, sizeof(*cpu)), zero = { 0 };
	bool all = true;
	__u32 slot;
	int c;

	assert_non_null(cpu);
	assert_true(bwe_hslots_slot(w->dp->hsl, ntohl(bwe_addr_v4(&x)), &slot));
	assert_int_equal(bpf_map_lookup_elem(bwe_dp_map_fd(w->dp, BWE_MAP_HSLOTS), &slot, cpu), 0);
	for (c = 0; c < w->dp->ncpus; c++)
		all = all && !memcmp(&cpu[c], &zero, sizeof(zero));
	free(cpu);
	return all;
}

/* Whether address text a's record, merged, is idle at now for idle nanoseconds. */
static bool idle_at(struct world *w, const char *a, __u64 now, __u64 idle)
{
	struct bwe_addr x = addr(a);
	struct bwe_host_stats hs;

	assert_int_equal(bwe_dp_host_read(w->dp, &x, &hs), 0);
	return bwe_dp_host_idle(&hs, now, idle);
}

static __u32 nc_gen_of(struct world *w)
{
	struct bwe_config c;

	assert_int_equal(bwe_dp_config_get(w->dp, &c), 0);
	return c.nc_gen;
}

#define IDLE_NS	 (50ULL * 1000000ULL)  /* the test's maps.host_idle: 50 ms */
#define QUIET_NS (150ULL * 1000000ULL) /* how long the idle hosts keep quiet */

/*
 * The daemon's idle sweep (maps.host_idle): a slot host and a bwe_hosts
 * host quiet for longer than the timeout are idle, those that just sent
 * are not; forgotten, the slot's bit is clear and its record zero on
 * every CPU, the bwe_hosts entry gone, and the class generation moved.
 * A forgotten slot host is no host for inbound frames (the aggregate's),
 * and a host again, from zero, with its next outbound frame; the same for
 * the bwe_hosts host. Forgetting what is gone already forgets nothing.
 */
static void test_idle_hosts_forgotten(void **state)
{
	struct bwe_addr gone[] = { addr("198.18.0.10"), addr("2001:db8:1::10") };
	struct bwe_addr busy = addr("198.18.0.11"), busy6 = addr("2001:db8:1::11");
	struct timespec quiet = { 0, (long)QUIET_NS };
	struct bwe_dp_forgotten f = { 0 };
	struct bwe_host_stats hs;
	struct bwe_counter c0, c1;
	struct world w;
	__u32 gen;
	__u64 now;

	(void)state;
	world_up_with(&w, &slot_opts);
	assert_int_equal(run(&w, "198.18.0.10", "203.0.113.10", 10, NULL), XDP_PASS);
	assert_int_equal(run(&w, "203.0.113.10", "198.18.0.10", 10, NULL), XDP_PASS);
	assert_int_equal(run(&w, "2001:db8:1::10", "2001:db8:3::10", 10, NULL), XDP_PASS);
	assert_int_equal(nanosleep(&quiet, NULL), 0);
	assert_int_equal(run(&w, "198.18.0.11", "203.0.113.10", 10, NULL), XDP_PASS);
	assert_int_equal(run(&w, "2001:db8:1::11", "2001:db8:3::10", 10, NULL), XDP_PASS);
	now = mono_ns();
	assert_true(idle_at(&w, "198.18.0.10", now, IDLE_NS));
	assert_true(idle_at(&w, "2001:db8:1::10", now, IDLE_NS));
	assert_false(idle_at(&w, "198.18.0.11", now, IDLE_NS));
	assert_false(idle_at(&w, "2001:db8:1::11", now, IDLE_NS));
	assert_false(idle_at(&w, "198.18.0.10", now, 0)); /* off */
	assert_int_equal(host_entries(&w), 2);

	gen = nc_gen_of(&w);
	assert_int_equal(bwe_dp_hosts_forget(w.dp, gone, ARRAY_SIZE(gone), &f), 0);
	assert_int_equal(f.slots, 1);
	assert_int_equal(f.hashed, 1);
	assert_int_not_equal(nc_gen_of(&w), gen);
	assert_false(sent_bit(&w, "198.18.0.10"));
	assert_true(slot_zero(&w, "198.18.0.10"));
	assert_int_equal(bwe_dp_host_read(w.dp, &gone[0], &hs), -ENOENT);
	assert_int_equal(bwe_dp_host_read(w.dp, &gone[1], &hs), -ENOENT);
	assert_int_equal(host_entries(&w), 1);
	/* the busy hosts, one of them in the same word of bits, are untouched */
	assert_true(sent_bit(&w, "198.18.0.11"));
	assert_int_equal(bwe_dp_host_read(w.dp, &busy, &hs), 0);
	assert_int_equal(hs.tx_packets, 1);
	assert_int_equal(bwe_dp_host_read(w.dp, &busy6, &hs), 0);
	assert_int_equal(hs.tx_packets, 1);

	/* gone already: nothing forgotten, the generation stays */
	memset(&f, 0, sizeof(f));
	gen = nc_gen_of(&w);
	assert_int_equal(bwe_dp_hosts_forget(w.dp, gone, ARRAY_SIZE(gone), &f), 0);
	assert_int_equal(f.slots + f.hashed, 0);
	assert_int_equal(nc_gen_of(&w), gen);

	/* inbound to a forgotten slot host: the aggregate's, no host */
	c0 = stat_of(&w, BWE_A_INBOUND_UNTRACKED);
	assert_int_equal(run(&w, "203.0.113.10", "198.18.0.10", 10, NULL), XDP_PASS);
	c1 = stat_of(&w, BWE_A_INBOUND_UNTRACKED);
	assert_int_equal(c1.packets - c0.packets, 1);
	assert_false(sent_bit(&w, "198.18.0.10"));
	assert_int_equal(bwe_dp_host_read(w.dp, &gone[0], &hs), -ENOENT);

	/* it sends again: a host again, its counters from zero */
	assert_int_equal(run(&w, "198.18.0.10", "203.0.113.10", 10, NULL), XDP_PASS);
	assert_true(sent_bit(&w, "198.18.0.10"));
	assert_int_equal(bwe_dp_host_read(w.dp, &gone[0], &hs), 0);
	assert_int_equal(hs.tx_packets, 1);
	assert_int_equal(hs.rx_packets, 0);
	assert_true(hs.first_seen_ns > 0);
	assert_false(idle_at(&w, "198.18.0.10", mono_ns(), IDLE_NS));
	assert_int_equal(run(&w, "2001:db8:1::10", "2001:db8:3::10", 10, NULL), XDP_PASS);
	assert_int_equal(bwe_dp_host_read(w.dp, &gone[1], &hs), 0);
	assert_int_equal(hs.tx_packets, 1);
	world_down(&w);
}

/* bwe_hslots' entries, as the map says. */
static __u32 slot_count(const struct world *w)
{
	size_t n = 0;

	assert_int_equal(bwe_map_max_entries(bwe_dp_map_fd(w->dp, BWE_MAP_HSLOTS), &n), 0);
	return (__u32)n;
}

/* The slot of v4 address text a (it has one). */
static __u32 slot_of(const struct world *w, const char *a)
{
	struct bwe_addr x = addr(a);
	__u32 slot;

	assert_true(bwe_hslots_slot(w->dp->hsl, ntohl(bwe_addr_v4(&x)), &slot));
	return slot;
}

/* v4 address text a's bwe_hslot_drop entries summed over CPUs, the latest time of any. */
static struct bwe_hslot_drop slot_drops(const struct world *w, const char *a)
{
	int fd = bwe_dp_map_fd(w->dp, BWE_MAP_HSLOT_DROP), c;
	__u32 slot = slot_of(w, a), slots = slot_count(w);
	struct bwe_hslot_drop d, sum = { 0 };

	for (c = 0; c < w->dp->ncpus; c++) { /* by syscall: not the daemon's mapping */
		__u32 i = bwe_hslot_drop_index((__u32)c, slot, slots);

		assert_int_equal(bpf_map_lookup_elem(fd, &i, &d), 0);
		sum.bytes += d.bytes;
		sum.packets += d.packets;
		if (d.last_ns > sum.last_ns)
			sum.last_ns = d.last_ns;
	}
	return sum;
}

/* v4 address text a's slot record summed over CPUs, as stored (no drop entries). */
static struct bwe_host_stats slot_record(const struct world *w, const char *a)
{
	struct bwe_host_stats *cpu = calloc((size_t)w->dp->ncpus, sizeof(*cpu)), sum = { 0 };
	__u32 slot = slot_of(w, a);
	int c;

	assert_non_null(cpu);
	assert_int_equal(bpf_map_lookup_elem(bwe_dp_map_fd(w->dp, BWE_MAP_HSLOTS), &slot, cpu), 0);
	for (c = 0; c < w->dp->ncpus; c++)
		bwe_host_stats_merge(&sum, &cpu[c]);
	free(cpu);
	return sum;
}

/* Host address text a's record as the daemon reads it: merged, drop entries added. */
static struct bwe_host_stats host_record(const struct world *w, const char *a)
{
	struct bwe_addr h = addr(a);
	struct bwe_host_stats hs;

	assert_int_equal(bwe_dp_host_read(w->dp, &h, &hs), 0);
	return hs;
}

/*
 * Repeated drops of an event already reported, a host's (in a slot or in
 * bwe_hosts, per opts) to a listed peer and a quarantined host's: each one
 * counted (the verdict, the record's drops) without an event, and none
 * counted lost, while the window lasts (the quarantined host's whatever the
 * peer or the direction), whether the host's copy (asked
 * before the ring: judge() for a slot host's counted drop, bwe_judged()
 * otherwise) or the dedup map (three peers for the copy's two slots)
 * remembers it; a new peer is reported; with the ring full (filled by
 * another host), but in a later tick than the one in which this CPU found
 * it so, the repeated drop is not counted lost (the copy answers before
 * the ring is asked); past the window the pair and the quarantined host
 * are reported again. Pinned: the copy is this CPU's.
 */
static void reported_again(const struct bwe_dp_opts *opts)
{
	static const char *const peer[] = { "203.0.113.66", "203.0.113.67", "203.0.113.68" };
	static const char *const listed[] = { "203.0.113.67/32", "203.0.113.68/32" };
	struct timespec past = { 0, 60 * 1000 * 1000 }; /* the window below, and a tick */
	struct bwe_counter b0, q0, l0;
	struct bwe_addr p0 = addr(peer[0]);
	struct bwe_config cfg;
	cpu_set_t one;
	struct world w;
	__u64 d0;
	size_t i;

	CPU_ZERO(&one);
	CPU_SET(sched_getcpu(), &one);
	assert_int_equal(sched_setaffinity(0, sizeof(one), &one), 0);
	world_up_with(&w, opts);
	for (i = 0; i < 2; i++) {
		struct bwe_prefix b = pfx(listed[i]);

		assert_int_equal(bwe_bl_set(&w.bl, &b, bwe_ref(FEED_T, 0)), 0);
	}
	assert_int_equal(bwe_bl_flush(&w.bl), 0);
	assert_int_equal(run(&w, "198.18.0.20", peer[0], 10, NULL), XDP_DROP);
	assert_int_equal(drain(&w), 1);
	assert_int_equal(run(&w, "198.18.0.66", "203.0.113.10", 10, NULL), XDP_DROP);
	assert_int_equal(drain(&w), 1);
	assert_int_equal(w.ev.type, BWE_EV_QUARANTINE_DROP);

	b0 = stat_of(&w, BWE_R_BLOCK);
	q0 = stat_of(&w, BWE_R_QUARANTINE);
	l0 = stat_of(&w, BWE_A_EVENT_LOST);
	d0 = host_record(&w, "198.18.0.20").drop[BWE_HD_BLOCK].packets;
	assert_int_equal(run_n(&w, "198.18.0.20", peer[0], 10, NULL, 100), XDP_DROP);
	assert_int_equal(run_n(&w, "198.18.0.66", "203.0.113.11", 10, NULL, 50), XDP_DROP);
	/* once per quarantined host, whatever the peer or the direction */
	assert_int_equal(run_n(&w, "203.0.113.11", "198.18.0.66", 10, NULL, 5), XDP_DROP);
	assert_int_equal(drain(&w), 0);
	assert_int_equal(stat_of(&w, BWE_R_BLOCK).packets - b0.packets, 100);
	assert_int_equal(stat_of(&w, BWE_R_QUARANTINE).packets - q0.packets, 55);
	assert_int_equal(stat_of(&w, BWE_A_EVENT_LOST).packets, l0.packets);
	assert_int_equal(host_record(&w, "198.18.0.20").drop[BWE_HD_BLOCK].packets - d0, 100);

	for (i = 1; i < 3; i++) {
		assert_int_equal(run(&w, "198.18.0.20", peer[i], 10, NULL), XDP_DROP);
		assert_int_equal(drain(&w), 1);
		assert_int_equal(w.ev.type, BWE_EV_BLOCK_HIT);
	}
	/* peer[0] left the copy's two slots: the dedup map still holds it */
	assert_int_equal(run_n(&w, "198.18.0.20", peer[0], 10, NULL, 10), XDP_DROP);
	assert_int_equal(drain(&w), 0);
	assert_int_equal(stat_of(&w, BWE_R_BLOCK).packets - b0.packets, 112);
	assert_int_equal(stat_of(&w, BWE_A_EVENT_LOST).packets, l0.packets);
	assert_int_equal(host_record(&w, "198.18.0.20").drop[BWE_HD_BLOCK].packets - d0, 112);

	/* the ring filled by another host (no window), then a later tick */
	{
		__u32 cap = BWE_EVENTS_BYTES / (sizeof(struct bwe_event) + 8);
		struct timespec tick = { 0, 30 * 1000 * 1000 }; /* a tick is 10 ms or less */
		struct bwe_counter l1;

		assert_int_equal(bwe_dp_config_get(w.dp, &cfg), 0);
		cfg.event_dedup_ns = 0;
		assert_int_equal(bwe_dp_config_set(w.dp, &cfg), 0);
		assert_int_equal(run_n(&w, "198.18.0.21", peer[1], 10, NULL, cap + 10), XDP_DROP);
		l1 = stat_of(&w, BWE_A_EVENT_LOST);
		assert_true(l1.packets - l0.packets >= 10);
		cfg.event_dedup_ns = 60ULL * 1000000000ULL;
		assert_int_equal(bwe_dp_config_set(w.dp, &cfg), 0);
		assert_int_equal(nanosleep(&tick, NULL), 0);
		assert_int_equal(run(&w, "198.18.0.20", peer[0], 10, NULL), XDP_DROP);
		assert_int_equal(stat_of(&w, BWE_A_EVENT_LOST).packets, l1.packets);
		assert_int_equal(stat_of(&w, BWE_R_BLOCK).packets - b0.packets, 113 + cap + 10);
		assert_true(drain(&w) > 0);
	}

	assert_int_equal(bwe_dp_config_get(w.dp, &cfg), 0);
	cfg.event_dedup_ns = 20 * 1000 * 1000;
	assert_int_equal(bwe_dp_config_set(w.dp, &cfg), 0);
	assert_int_equal(nanosleep(&past, NULL), 0);
	assert_int_equal(run_n(&w, "198.18.0.20", peer[0], 10, NULL, 10), XDP_DROP);
	assert_int_equal(drain(&w), 1);
	assert_memory_equal(&w.ev.peer, &p0, sizeof(p0));
	assert_int_equal(run_n(&w, "198.18.0.66", "203.0.113.12", 10, NULL, 10), XDP_DROP);
	assert_int_equal(drain(&w), 1);
	assert_int_equal(w.ev.type, BWE_EV_QUARANTINE_DROP);
	world_down(&w);
}

/* The affinity before reported_again() pinned the thread, and its restore
 * (a teardown: it runs when an assertion ends the test early too). */
static cpu_set_t affinity_was;

static int affinity_save(void **state)
{
	(void)state;
	return sched_getaffinity(0, sizeof(affinity_was), &affinity_was);
}

static int affinity_restore(void **state)
{
	(void)state;
	return sched_setaffinity(0, sizeof(affinity_was), &affinity_was);
}

static void test_reported_again_slot(void **state)
{
	(void)state;
	reported_again(&slot_opts);
}

static void test_reported_again_lru(void **state)
{
	(void)state;
	reported_again(&(struct bwe_dp_opts){ 0 });
}

/*
 * A slot host's outbound blocklist drops (bwe_abi.h, bwe_hslot_drop): the
 * first one, of a slot that never sent, goes through the record and makes
 * it a host; the next ones are counted in the drop entry alone, and the
 * daemon's read adds them to the drop counters, bl_hits and the last-seen
 * time, so that a host that only sends to listed peers is not idle; with
 * the ring full, each is still counted there, its verdict counted and its
 * event lost, and a MAC event with it. In dry run nothing drops and the record counts as before. Forgotten, the
 * entry is zero on every CPU and the next drop goes through the record
 * again; a block given up and handed out again starts with zero entries.
 */
static void test_slot_drops_apart(void **state)
{
	static const char *const other[] = { "198.18.1.0/24" };
	static const char *const both[] = { "198.18.0.0/24", "198.18.1.0/24" };
	struct bwe_addr h = addr("198.18.0.20");
	struct timespec quiet = { 0, (long)QUIET_NS };
	struct bwe_dp_forgotten f = { 0 };
	struct bwe_hslot_drop d;
	struct bwe_host_stats r, hs;
	struct bwe_config cfg;
	struct world w;
	__u32 len, b;
	int k;

	(void)state;
	world_up_with(&w, &slot_opts);
	assert_false(sent_bit(&w, "198.18.0.20"));
	assert_int_equal(run(&w, "198.18.0.20", "203.0.113.66", 10, &len), XDP_DROP);
	assert_true(sent_bit(&w, "198.18.0.20"));
	r = slot_record(&w, "198.18.0.20");
	assert_int_equal(r.drop[BWE_HD_BLOCK].packets, 1);
	assert_int_equal(r.bl_hits, 1);
	assert_true(r.first_seen_ns > 0);
	assert_int_equal(slot_drops(&w, "198.18.0.20").packets, 0);

	for (k = 0; k < 3; k++)
		assert_int_equal(run(&w, "198.18.0.20", "203.0.113.66", 10, NULL), XDP_DROP);
	r = slot_record(&w, "198.18.0.20");
	assert_int_equal(r.drop[BWE_HD_BLOCK].packets, 1); /* the record untouched */
	assert_int_equal(r.bl_hits, 1);
	d = slot_drops(&w, "198.18.0.20");
	assert_int_equal(d.packets, 3);
	assert_int_equal(d.bytes, 3 * len);
	assert_true(d.last_ns >= r.last_seen_ns);
	assert_int_equal(bwe_dp_host_read(w.dp, &h, &hs), 0);
	assert_int_equal(hs.drop[BWE_HD_BLOCK].packets, 4);
	assert_int_equal(hs.drop[BWE_HD_BLOCK].bytes, 4 * len);
	assert_int_equal(hs.bl_hits, 4);
	assert_int_equal(hs.last_seen_ns, d.last_ns);
	assert_int_equal(hs.first_seen_ns, r.first_seen_ns);

	/* quiet, then only drops: not idle */
	assert_int_equal(nanosleep(&quiet, NULL), 0);
	assert_int_equal(run(&w, "198.18.0.20", "203.0.113.66", 10, NULL), XDP_DROP);
	assert_false(idle_at(&w, "198.18.0.20", mono_ns(), IDLE_NS));
	assert_int_equal(slot_record(&w, "198.18.0.20").last_seen_ns, r.last_seen_ns);

	/* an event for every drop (no window) until the ring is full: the rest
	 * counted lost, every one in the verdict's counter and the drop entry;
	 * drained, the next tick's drop reports again */
	{
		__u32 cap = BWE_EVENTS_BYTES / (sizeof(struct bwe_event) + 8), n = cap + 500;
		struct timespec tick = { 0, 30 * 1000 * 1000 }; /* a tick is 10 ms or less */
		struct bwe_counter b0 = stat_of(&w, BWE_R_BLOCK),
				   l0 = stat_of(&w, BWE_A_EVENT_LOST);
		__u64 p0 = slot_drops(&w, "198.18.0.20").packets;
		int ev;

		drain(&w);
		assert_int_equal(bwe_dp_config_get(w.dp, &cfg), 0);
		cfg.event_dedup_ns = 0;
		assert_int_equal(bwe_dp_config_set(w.dp, &cfg), 0);
		assert_int_equal(run_n(&w, "198.18.0.20", "203.0.113.66", 10, NULL, n), XDP_DROP);
		assert_int_equal(stat_of(&w, BWE_R_BLOCK).packets - b0.packets, n);
		assert_true(stat_of(&w, BWE_A_EVENT_LOST).packets - l0.packets >= n - cap);
		assert_int_equal(slot_drops(&w, "198.18.0.20").packets - p0, n);
		/* a frame from a MAC whose flags its address lacks, the ring
		 * still full: counted apart, both its events lost */
		{
			struct bwe_mac_key mk = { .mac = { 0x02, 0, 0, 0, 0,
							   0x01 } }; /* pktbuild's */
			struct bwe_mac_val mv = { .flags = BWE_NC_THROTTLE };
			int mfd = bwe_dp_map_fd(w.dp, BWE_MAP_MACS);
			struct bwe_counter l1 = stat_of(&w, BWE_A_EVENT_LOST);

			assert_int_equal(bpf_map_update_elem(mfd, &mk, &mv, BPF_ANY), 0);
			cfg.flags |= BWE_CFG_MACS;
			assert_int_equal(bwe_dp_config_set(w.dp, &cfg), 0);
			assert_int_equal(run(&w, "198.18.0.20", "203.0.113.66", 10, NULL),
					 XDP_DROP);
			assert_int_equal(stat_of(&w, BWE_A_EVENT_LOST).packets - l1.packets, 2);
			assert_int_equal(slot_drops(&w, "198.18.0.20").packets - p0, n + 1);
			assert_int_equal(slot_record(&w, "198.18.0.20").drop[BWE_HD_BLOCK].packets,
					 1);
			cfg.flags &= ~BWE_CFG_MACS;
			assert_int_equal(bwe_dp_config_set(w.dp, &cfg), 0);
			assert_int_equal(bpf_map_delete_elem(mfd, &mk), 0);
		}
		ev = drain(&w);
		assert_true(ev > 0 && ev <= (int)cap);
		assert_int_equal(w.ev.type, BWE_EV_BLOCK_HIT);
		nanosleep(&tick, NULL);
		assert_int_equal(run(&w, "198.18.0.20", "203.0.113.66", 10, NULL), XDP_DROP);
		assert_int_equal(drain(&w), 1);
		cfg.event_dedup_ns = 60ULL * 1000000000ULL;
		assert_int_equal(bwe_dp_config_set(w.dp, &cfg), 0);
		assert_int_equal(slot_record(&w, "198.18.0.20").drop[BWE_HD_BLOCK].packets, 1);
	}

	/* dry run: passed, so the record's */
	d = slot_drops(&w, "198.18.0.20");
	assert_int_equal(bwe_dp_config_get(w.dp, &cfg), 0);
	cfg.flags |= BWE_CFG_DRYRUN;
	assert_int_equal(bwe_dp_config_set(w.dp, &cfg), 0);
	assert_int_equal(run(&w, "198.18.0.20", "203.0.113.66", 10, NULL), XDP_PASS);
	assert_int_equal(slot_drops(&w, "198.18.0.20").packets, d.packets);
	assert_int_equal(slot_record(&w, "198.18.0.20").tx_packets, 1);
	cfg.flags &= ~BWE_CFG_DRYRUN;
	assert_int_equal(bwe_dp_config_set(w.dp, &cfg), 0);

	/* forgotten: entry zero, and the next drop is the record's again */
	assert_int_equal(bwe_dp_hosts_forget(w.dp, &h, 1, &f), 0);
	assert_int_equal(f.slots, 1);
	d = slot_drops(&w, "198.18.0.20");
	assert_int_equal(d.packets + d.bytes + d.last_ns, 0);
	assert_true(slot_zero(&w, "198.18.0.20"));
	assert_int_equal(run(&w, "198.18.0.20", "203.0.113.66", 10, NULL), XDP_DROP);
	assert_true(sent_bit(&w, "198.18.0.20"));
	assert_int_equal(slot_record(&w, "198.18.0.20").drop[BWE_HD_BLOCK].packets, 1);
	assert_int_equal(slot_drops(&w, "198.18.0.20").packets, 0);
	assert_int_equal(run(&w, "198.18.0.20", "203.0.113.66", 10, NULL), XDP_DROP);
	assert_int_equal(slot_drops(&w, "198.18.0.20").packets, 1);

	/* the block given up, then handed out again: from zero */
	b = block_of(w.dp, "198.18.0.20");
	internal_set(w.dp, other, ARRAY_SIZE(other));
	assert_int_equal(block_of(w.dp, "198.18.0.20"), UINT32_MAX);
	internal_set(w.dp, both, ARRAY_SIZE(both));
	assert_int_equal(block_of(w.dp, "198.18.0.20"), b);
	assert_false(sent_bit(&w, "198.18.0.20"));
	d = slot_drops(&w, "198.18.0.20");
	assert_int_equal(d.packets + d.bytes + d.last_ns, 0);
	assert_true(slot_zero(&w, "198.18.0.20"));
	assert_int_equal(bwe_dp_host_read(w.dp, &h, &hs), -ENOENT);
	world_down(&w);
}

/* A restarted daemon finds its slots, their hosts (drop entries too) and the assignment in the pins. */
static void test_slots_survive_restart(void **state)
{
	static const char *const nets[] = { "198.18.0.0/24", "198.18.7.0/24" };
	const char *dir = pin_dir("slots");
	struct bwe_dp_opts opts = slot_opts, none = { .pin_dir = dir, .hosts_max = SLOT_HOSTS };
	struct bwe_addr h = addr("198.18.7.9");
	struct bwe_host_stats hs;
	struct bwe_dp *dp;
	__u32 b;

	(void)state;
	opts.pin_dir = dir;
	assert_int_equal(bwe_dp_open(&dp, &opts), 0);
	internal_set(dp, nets, ARRAY_SIZE(nets));
	b = block_of(dp, "198.18.7.9");
	assert_true(b != UINT32_MAX);
	{
		struct world w = { .dp = dp };
		struct bwe_prefix bad = pfx("203.0.113.66/32");
		struct bwe_bl bl;

		assert_int_equal(bwe_bl_init(&bl, dp), 0);
		assert_int_equal(bwe_bl_set(&bl, &bad, bwe_ref(FEED_T, 0)), 0);
		assert_int_equal(bwe_bl_flush(&bl), 0);
		assert_int_equal(run(&w, "198.18.7.9", "203.0.113.10", 10, NULL), XDP_PASS);
		for (int k = 0; k < 2; k++) /* counted apart: the host has sent */
			assert_int_equal(run(&w, "198.18.7.9", "203.0.113.66", 10, NULL), XDP_DROP);
		bwe_bl_free(&bl);
	}
	bwe_dp_close(dp);

	/* asked for no slots now: the pinned ones are kept, with their hosts */
	assert_int_equal(bwe_dp_open(&dp, &none), 0);
	assert_true(dp->reused);
	assert_int_equal(bwe_hslots_blocks(dp->hsl), SLOT_BLOCKS);
	assert_int_equal(bwe_hslots_used(dp->hsl), 2);
	assert_int_equal(block_of(dp, "198.18.7.9"), b);
	assert_int_equal(bwe_dp_host_read(dp, &h, &hs), 0);
	assert_int_equal(hs.tx_packets, 1);
	assert_int_equal(hs.drop[BWE_HD_BLOCK].packets, 2); /* the drop entries too */
	assert_int_equal(hs.bl_hits, 2);
	bwe_dp_close(dp);
	assert_int_equal(bwe_dp_unpin(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pin_reuse_unpin),
		cmocka_unit_test(test_other_abi_refused),
		cmocka_unit_test(test_bad_stamp_refused),
		cmocka_unit_test(test_unstamped_pins),
		cmocka_unit_test(test_inbound_creates_no_host),
		cmocka_unit_test(test_untracked_still_dropped),
		cmocka_unit_test(test_blocklist_hit_directions),
		cmocka_unit_test(test_tick_clock),
		cmocka_unit_test(test_tc_loaded_on_demand),
		cmocka_unit_test(test_open_async),
		cmocka_unit_test(test_bucket_last_refill_in_future),
		cmocka_unit_test(test_growth_never_passes),
		cmocka_unit_test(test_v6_prefix_filter),
		cmocka_unit_test(test_v6_prefix_filter_churn),
		cmocka_unit_test(test_v6_prefix_filter_restart),
		cmocka_unit_test(test_table_survives_restart),
		cmocka_unit_test(test_bl4_address_zero),
		cmocka_unit_test(test_bl4_crafted_collisions),
		cmocka_unit_test(test_bl4_known_seed_fails_loudly),
		cmocka_unit_test(test_bl4_remove_reinsert),
		cmocka_unit_test(test_bl4_key_word),
		cmocka_unit_test(test_bl4_nested_prefixes_model),
		cmocka_unit_test(test_bl4_sweep_clears_unowned_slots),
		cmocka_unit_test(test_nc16_hosts),
		cmocka_unit_test(test_nc16_matches_trie),
		cmocka_unit_test(test_internal24_runs),
		cmocka_unit_test(test_slot_hosts),
		cmocka_unit_test(test_slot_assignment),
		cmocka_unit_test(test_slot_takes_hash_record),
		cmocka_unit_test(test_slots_survive_restart),
		cmocka_unit_test(test_idle_hosts_forgotten),
		cmocka_unit_test(test_slot_drops_apart),
		cmocka_unit_test_setup_teardown(test_reported_again_slot, affinity_save,
						affinity_restore),
		cmocka_unit_test_setup_teardown(test_reported_again_lru, affinity_save,
						affinity_restore),
	};

	return cmocka_run_group_tests_name("dataplane: pins, ABI stamp, hostile senders", tests,
					   setup, teardown);
}
