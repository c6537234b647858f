// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_feeds.c - a feed version meets the blocklist all or nothing
 * (enf_bl_install in ctl/bwctld/enforce.c) against a real, unpinned data
 * plane whose blocklist maps are made small: a version that does not fit
 * is refused before anything is written, and a map write that fails
 * mid-way is rolled back, so the kernel maps and the feed store hold the
 * previous version exactly.
 *
 * Runs as root (it loads the BPF object; nothing is attached or pinned).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cmocka.h>

#include "test_helpers.h"
#include "bl_helpers.h"

#include "bwe_util.h"
#include "dataplane.h"
#include "enforce.h"
#include "feedstore.h"
#include "store.h"

#define HOST_MAX    32 /* ceiling of exact hosts: a /26 (64 hosts) cannot fit */
#define FOREIGN_MAX (2 * BWE_BL4_SLOTS_MIN)
#define NET6_MAX    4 /* entries of bwe_bl_net6 */
#define FEED	    2 /* the feed's id */
#define T0	    1700000000

static struct bwe_dp *dp;
static struct st_store *st;
static struct fstore *fst;
static struct enforcer *enf;

/* The previous version every test starts from. */
static const char *const v1[] = {
	"198.51.100.1", "198.51.100.2",	     "203.0.113.0/24",
	"2001:db8::7",	"2001:db8:bad::/48", "203.0.113.128/30", /* 4 hosts */
};

static void vec_of(struct fs_vec *v, const char *const *p, size_t n)
{
	size_t i;

	memset(v, 0, sizeof(*v));
	for (i = 0; i < n; i++) {
		struct fs_rec e = { .pfx = pfx(p[i]), .line = (__u32)i + 1 };

		bwe_prefix_mask(&e.pfx);
		assert_int_equal(fs_vec_add(v, &e), 0);
	}
	fs_vec_sort_unique(v);
}

static int cmp_addr(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct bwe_addr));
}

/* Every host of the exact-host tables of both families, sorted. */
static size_t kernel_hosts(struct bwe_addr *out, size_t max)
{
	size_t n = 0;
	int f;

	for (f = 0; f < BWE_BL_FAMS; f++) {
		int fd = bwe_dp_bl_table_get(dp, f);

		assert_true(fd >= 0);
		bl_table_dump(fd, f, out, NULL, max, &n);
		close(fd);
	}
	qsort(out, n, sizeof(*out), cmp_addr);
	return n;
}

static size_t kernel_net6(void)
{
	int fd = bwe_dp_map_fd(dp, BWE_MAP_BL_NET6);
	struct bwe_lpm_key k, next;
	void *prev = NULL;
	size_t n = 0;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		n++;
		k = next;
		prev = &k;
	}
	return n;
}

/* The ref the program finds for an address. */
static __u8 ref_of(const char *a)
{
	struct bwe_addr x = addr(a);

	return enf_bl_kernel_ref(enf, &x);
}

/*
 * The kernel holds exactly v1 (plus the foreign keys of extra): its hosts
 * are the two /32, the /128 and the four of the /30, nothing else; the /24
 * and the /48 answer; the store lists v1.
 */
static void assert_holds_v1(const struct bwe_addr *extra, size_t nextra)
{
	static const char *const hosts[] = { "198.51.100.1",  "198.51.100.2",  "2001:db8::7",
					     "203.0.113.128", "203.0.113.129", "203.0.113.130",
					     "203.0.113.131" };
	static struct bwe_addr want[FOREIGN_MAX], got[FOREIGN_MAX];
	const struct fs_vec *v = fstore_entries(fst, FEED);
	size_t i, n = 0;

	for (i = 0; i < ARRAY_SIZE(hosts); i++)
		want[n++] = addr(hosts[i]);
	for (i = 0; i < nextra; i++)
		want[n++] = extra[i];
	qsort(want, n, sizeof(*want), cmp_addr);
	assert_int_equal(kernel_hosts(got, FOREIGN_MAX), n);
	assert_memory_equal(got, want, n * sizeof(*want));
	assert_int_equal(ref_of("203.0.113.77"), bwe_ref(FEED, 0));
	assert_int_equal(ref_of("2001:db8:bad:1::1"), bwe_ref(FEED, 0));
	assert_int_equal(ref_of("198.51.100.3"), BWE_REF_NONE);
	assert_int_equal(v->n, ARRAY_SIZE(v1));
	for (i = 0; i < v->n; i++)
		assert_int_equal(fs_ent_first_seen(v, &v->v[i]), T0);
}

static int setup(void **state)
{
	struct bwe_dp_opts opts = { .bl_host_max = HOST_MAX, .bl_net6_max = NET6_MAX };
	struct enf_bl_change chg;
	struct fs_vec v;

	(void)state;
	libbpf_set_print(NULL);
	if (bwe_dp_open(&dp, &opts)) {
		fprintf(stderr, "bwe_dp_open failed (are you root?)\n");
		return -1;
	}
	st = st_new();
	fst = fstore_new();
	/* the blocklist functions read the stores, not the configuration */
	if (!st || !fst || enf_new(&enf, dp, NULL, st, fst) ||
	    fstore_define(fst, FEED, "c2", "/feeds/c2.txt", false))
		return -1;
	vec_of(&v, v1, ARRAY_SIZE(v1));
	if (enf_bl_install(enf, fst, FEED, &v, T0, &chg) || chg.added != ARRAY_SIZE(v1))
		return -1;
	fs_vec_free(&v);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	enf_free(enf);
	fstore_free(fst);
	st_free(st);
	bwe_dp_close(dp);
	return 0;
}

static void test_v1_is_installed(void **state)
{
	(void)state;
	assert_holds_v1(NULL, 0);
}

/* A /26 needs 64 host entries; 25 are free: refused before any write. */
static void test_too_big_is_refused_and_nothing_changes(void **state)
{
	static const char *const v2[] = { "198.51.100.1", "203.0.113.0/24", "2001:db8::7",
					  "2001:db8:bad::/48", "198.51.100.64/26" };
	struct enf_bl_change chg;
	struct fs_vec v;

	(void)state;
	vec_of(&v, v2, ARRAY_SIZE(v2));
	assert_int_equal(enf_bl_install(enf, fst, FEED, &v, T0 + 1, &chg), -ENOSPC);
	assert_int_equal(chg.room.hosts_free, HOST_MAX - 7);
	assert_true(chg.room.hosts > chg.room.hosts_free);
	assert_int_equal(chg.room.v6pfx, 0);
	assert_int_equal(v.n, ARRAY_SIZE(v2)); /* the refused version comes back */
	fs_vec_free(&v);
	assert_holds_v1(NULL, 0);

	/* an IPv6 /12 is broader than the trie takes: refused before any write */
	{
		static const char *const v3[] = { "198.51.100.99", "2001:d00::/24", "2000::/12" };

		vec_of(&v, v3, ARRAY_SIZE(v3));
		assert_int_equal(enf_bl_install(enf, fst, FEED, &v, T0 + 1, &chg), -ERANGE);
		fs_vec_free(&v);
		assert_holds_v1(NULL, 0);
	}
	/* too many IPv6 prefixes: 5 new /48 beside the one held, 4 fit in all */
	{
		static const char *const v3[] = { "2001:db8:1::/48", "2001:db8:2::/48",
						  "2001:db8:3::/48", "2001:db8:4::/48",
						  "2001:db8:5::/48" };

		vec_of(&v, v3, ARRAY_SIZE(v3));
		assert_int_equal(enf_bl_install(enf, fst, FEED, &v, T0 + 1, &chg), -ENOSPC);
		assert_int_equal(chg.room.v6pfx, 5);
		assert_int_equal(chg.room.v6pfx_free, NET6_MAX - 1);
		fs_vec_free(&v);
		assert_holds_v1(NULL, 0);
	}
}

/*
 * The mirror believes there is room, but the kernel's IPv4 table is full of
 * keys it does not know (a restart before the sweep): the batch write
 * overflows, and a bigger table holding the old one's keys and the new
 * version takes its place (the foreign keys are the sweep's to remove).
 */
static void test_full_table_grows(void **state)
{
	static const char *const v2[] = {
		"198.51.100.2",	     "203.0.113.0/24",	 "2001:db8::7",
		"2001:db8:bad::/48", "203.0.113.128/30", "198.51.100.16/29"
	}; /* -1 host, +8 hosts */
	static struct bwe_addr foreign[FOREIGN_MAX];
	struct bwe_bl_val val = { .ref = bwe_ref(FEED + 1, 0) };
	int fd = bwe_dp_bl_table_get(dp, BWE_BL_V4);
	struct enf_bl_change chg;
	struct fs_vec v;
	/* 3 free: the 8 new hosts cannot all go in */
	size_t i, nf = bwe_bl_table_size(BWE_BL_V4, 0) - 6 - 3;

	(void)state;
	assert_true(fd >= 0);
	for (i = 0; i < nf; i++) {
		foreign[i] = addr("192.0.2.0");
		foreign[i].w[3] = htonl(ntohl(foreign[i].w[3]) + (__u32)i);
		assert_int_equal(bl4_put_fd(fd, foreign[i].w[3], val.ref), 0);
	}
	assert_holds_v1(foreign, nf);
	vec_of(&v, v2, ARRAY_SIZE(v2));
	assert_int_equal(enf_bl_install(enf, fst, FEED, &v, T0 + 2, &chg), 0);
	fs_vec_free(&v);
	/* every foreign key and v2's 14 hosts */
	assert_int_equal(kernel_hosts(foreign, FOREIGN_MAX), nf + 14);
	assert_int_equal(ref_of("192.0.2.3"), val.ref);
	/* the slot holds a new table; the sweep's work done by hand */
	close(fd);
	fd = bwe_dp_bl_table_get(dp, BWE_BL_V4);
	assert_true(fd >= 0);
	for (i = 0; i < nf; i++) {
		bwe_bl_key4 k = htonl(ntohl(addr("192.0.2.0").w[3]) + (__u32)i);

		assert_int_equal(bl4_put_fd(fd, k, BWE_REF_NONE), 0);
	}
	close(fd);
	assert_int_equal(ref_of("198.51.100.1"), BWE_REF_NONE);
	assert_int_equal(ref_of("198.51.100.17"), bwe_ref(FEED, 0));
	assert_int_equal(fstore_entries(fst, FEED)->n, ARRAY_SIZE(v2));
	/* and back to v1 for the next test */
	vec_of(&v, v1, ARRAY_SIZE(v1));
	assert_int_equal(enf_bl_install(enf, fst, FEED, &v, T0, &chg), 0);
	fs_vec_free(&v);
	/* first_seen of the kept entries is carried over: v1's came back new (T0) */
	assert_holds_v1(NULL, 0);
}

/* The same for an IPv6 prefix: the trie is full of prefixes the mirror does not know. */
static void test_failed_trie_write_rolls_back(void **state)
{
	static const char *const v2[] = { "198.51.100.1",      "198.51.100.2",
					  "203.0.113.0/24",    "2001:db8::7",
					  "2001:db8:bad::/48", "203.0.113.128/30",
					  "2001:db8:beef::/48" };
	struct bwe_bl_val val = { .ref = bwe_ref(FEED + 1, 0) };
	int fd = bwe_dp_map_fd(dp, BWE_MAP_BL_NET6);
	struct bwe_lpm_key k[NET6_MAX];
	struct enf_bl_change chg;
	struct fs_vec v;
	size_t i, nf = NET6_MAX - 1;

	(void)state;
	for (i = 0; i < nf; i++) {
		memset(&k[i], 0, sizeof(k[i]));
		k[i].prefixlen = 64;
		k[i].addr = addr("2001:db8:f::");
		k[i].addr.a[7] = (__u8)i;
		assert_int_equal(bpf_map_update_elem(fd, &k[i], &val, BPF_NOEXIST), 0);
	}
	vec_of(&v, v2, ARRAY_SIZE(v2));
	assert_true(enf_bl_install(enf, fst, FEED, &v, T0 + 1, &chg) < 0);
	assert_int_equal(chg.rollback_err, 0);
	fs_vec_free(&v);
	assert_int_equal(kernel_net6(), 1 + nf);
	assert_int_equal(ref_of("2001:db8:beef::1"), BWE_REF_NONE);
	assert_holds_v1(NULL, 0);
	for (i = 0; i < nf; i++)
		assert_int_equal(bpf_map_delete_elem(fd, &k[i]), 0);
	/* the mirror did not count the refused prefix: the version fits now */
	vec_of(&v, v2, ARRAY_SIZE(v2));
	assert_int_equal(enf_bl_install(enf, fst, FEED, &v, T0 + 1, &chg), 0);
	fs_vec_free(&v);
	assert_int_equal(kernel_net6(), 2);
	assert_int_equal(ref_of("2001:db8:beef::1"), bwe_ref(FEED, 0));
}

/* policy.peer_sketches reaches the data plane as BWE_CFG_NO_SKETCH, both ways. */
static void test_peer_sketches_flag(void **state)
{
	struct bwe_cfgfile cfg;
	struct bwe_config c;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	bwe_policy_default(&cfg.policy);
	enf_set_config(enf, &cfg);
	assert_int_equal(enf_config(enf), 0);
	assert_int_equal(bwe_dp_config_get(dp, &c), 0);
	assert_int_equal(c.flags & BWE_CFG_NO_SKETCH, 0);
	cfg.policy.peer_sketches = 0;
	assert_int_equal(enf_config(enf), 0);
	assert_int_equal(bwe_dp_config_get(dp, &c), 0);
	assert_int_equal(c.flags & BWE_CFG_NO_SKETCH, BWE_CFG_NO_SKETCH);
	cfg.policy.peer_sketches = 1;
	assert_int_equal(enf_config(enf), 0);
	assert_int_equal(bwe_dp_config_get(dp, &c), 0);
	assert_int_equal(c.flags & BWE_CFG_NO_SKETCH, 0);
	enf_set_config(enf, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v1_is_installed),
		cmocka_unit_test(test_too_big_is_refused_and_nothing_changes),
		cmocka_unit_test(test_full_table_grows),
		cmocka_unit_test(test_failed_trie_write_rolls_back),
		cmocka_unit_test(test_peer_sketches_flag),
	};

	return cmocka_run_group_tests_name("feeds", tests, setup, teardown);
}
