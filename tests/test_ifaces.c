// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_ifaces.c - the fast path's counter entries as ctl/bwctld/ifaces.c
 * hands them out (bwe_abi.h: bwe_fwd_stats, bwe_iface_val.fwd_stats), on
 * veth interfaces in a network namespace of the runner's own:
 *   - each interface with fast_forward on gets an entry of its own, the
 *     lowest free one, zeroed;
 *   - a restarted daemon (a new ifaces on the same maps) keeps the entry
 *     each attached interface's bwe_ifaces value names, counters and all,
 *     unless another interface adopted it first or it is out of range:
 *     such an interface gets a fresh one;
 *   - an interface that leaves the configuration gives its entry back.
 * e2e_forward.sh checks the same with real traffic, one restart.
 */
#include <net/if.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "test_helpers.h"
#include "core_fixture.h"
#include "ifaces.h"

#define NIF 5 /* bwif0..bwif4, each a veth with its peer bwifNp */

static struct core core;
static struct bwe_cfgfile *cfgs[4]; /* reloaded configurations, freed at the end */
static size_t ncfgs;

#define CFG_BODY_HEAD "internal_networks: [198.18.0.0/15]\ninterfaces:\n"

static int setup(void **state)
{
	struct bwe_dp_opts opts = { 0 };
	char cmd[256];
	int i;

	(void)state;
	libbpf_set_print(NULL);
	if (core_up(&core, "test_ifaces", CLONE_NEWNET, &opts,
		    CFG_BODY_HEAD "  - { name: bwif0, fast_forward: fib }\n"
				  "  - { name: bwif1, fast_forward: fib }\n"
				  "  - { name: bwif2, fast_forward: fib }\n"
				  "  - { name: bwif3, fast_forward: off }\n"))
		return -1;
	for (i = 0; i < NIF; i++) {
		snprintf(cmd, sizeof(cmd),
			 "ip link add bwif%d type veth peer name bwif%dp && ip link set bwif%d up && "
			 "ip link set bwif%dp up",
			 i, i, i, i);
		if (system(cmd))
			return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	while (ncfgs)
		bwe_config_free(cfgs[--ncfgs]);
	return core_down(&core);
}

/* The interface's bwe_ifaces value; false when it has none. */
static bool iface_val(const char *name, struct bwe_iface_val *v)
{
	__u32 k = if_nametoindex(name);

	assert_true(k > 0);
	return !bpf_map_lookup_elem(bwe_dp_map_fd(core.dp, BWE_MAP_IFACES), &k, v);
}

/* The entry an interface with fast_forward on holds (its value says so). */
static unsigned int entry_of(const char *name)
{
	struct bwe_iface_val v;

	if (!iface_val(name, &v))
		fail_msg("%s: no bwe_ifaces value", name);
	if (v.fwd == BWE_FWD_OFF)
		fail_msg("%s: fast_forward off in its bwe_ifaces value", name);
	assert_true(v.fwd_stats < BWE_FWD_STATS_MAX);
	return v.fwd_stats;
}

/* Rewrite an interface's pinned value to name entry e, as a run before might have. */
static void set_entry(const char *name, unsigned int e)
{
	struct bwe_iface_val v;
	__u32 k = if_nametoindex(name);

	assert_true(iface_val(name, &v));
	v.fwd_stats = (__u16)e;
	assert_int_equal(bpf_map_update_elem(bwe_dp_map_fd(core.dp, BWE_MAP_IFACES), &k, &v,
					     BPF_EXIST),
			 0);
}

/* Entry e's BWE_FWD_FAST packets become n (on the first CPU; the rest zero). */
static void plant(unsigned int e, __u64 n)
{
	int ncpu = libbpf_num_possible_cpus();
	struct bwe_fwd_stats *v;
	__u32 k = e;

	assert_true(ncpu > 0);
	v = calloc((size_t)ncpu, sizeof(*v));
	assert_non_null(v);
	v[0].c[BWE_FWD_FAST].packets = n;
	assert_int_equal(bpf_map_update_elem(bwe_dp_map_fd(core.dp, BWE_MAP_FWD_STATS), &k, v,
					     BPF_ANY),
			 0);
	free(v);
}

static __u64 packets(unsigned int e)
{
	struct bwe_fwd_stats st;

	assert_int_equal(bwe_dp_fwd_stats_read(core.dp, e, &st), 0);
	return st.c[BWE_FWD_FAST].packets;
}

static struct ifaces *ifaces_up(void)
{
	struct ifaces_deps d = { .cfg = core.cfg, .dp = core.dp, .enf = core.enf, .log = core.evl };
	struct ifaces *ifs = NULL;

	assert_int_equal(ifaces_new(&ifs, &d), 0);
	return ifs;
}

/* Load another configuration body (core's paths added) and reload ifs with it. */
static void reload(struct ifaces *ifs, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void reload(struct ifaces *ifs, const char *fmt, ...)
{
	char err[BWE_CFG_ERR_LEN];
	va_list ap;
	int rc;

	assert_true(ncfgs < sizeof(cfgs) / sizeof(cfgs[0]));
	va_start(ap, fmt);
	rc = core_write_config(&core, fmt, ap);
	va_end(ap);
	assert_int_equal(rc, 0);
	if (bwe_config_load(core.cfgpath, &cfgs[ncfgs], err, sizeof(err)))
		fail_msg("config: %s", err);
	ifaces_reload(ifs, cfgs[ncfgs++]);
}

/*
 * First start: bwif0..2 (fast_forward fib) get entries 0, 1 and 2, each
 * zeroed; bwif3 (off) none. Then a restart on the same maps, whose pinned
 * values were rewritten: bwif0 names 7 (counters planted there: kept),
 * bwif1 names 7 too (taken: it gets the lowest free entry, zeroed of what
 * was planted there), bwif2 names 200 (out of range: the next free one).
 * Then a reload without bwif0 and with bwif4 gives 7 back; bwif0 coming
 * back takes the lowest free entry, as a new interface does.
 */
static void test_entries(void **state)
{
	struct bwe_iface_val v;
	struct ifaces *ifs;
	unsigned int e0, e1, e2;

	(void)state;
	plant(1, 99); /* left by nobody: zeroed when handed out */
	ifs = ifaces_up();
	e0 = entry_of("bwif0");
	e1 = entry_of("bwif1");
	e2 = entry_of("bwif2");
	assert_int_equal(e0, 0);
	assert_int_equal(e1, 1);
	assert_int_equal(e2, 2);
	assert_int_equal(packets(1), 0);
	assert_true(iface_val("bwif3", &v));
	assert_int_equal(v.fwd, BWE_FWD_OFF);
	ifaces_free(ifs); /* leaves the programs and the values in place */

	/* the restart */
	set_entry("bwif0", 7);
	set_entry("bwif1", 7);
	set_entry("bwif2", 200);
	plant(7, 5);
	plant(0, 9);
	plant(1, 11);
	ifs = ifaces_up();
	assert_int_equal(entry_of("bwif0"), 7);
	assert_int_equal(packets(7), 5); /* adopted: its counters kept */
	assert_int_equal(entry_of("bwif1"), 0);
	assert_int_equal(packets(0), 0); /* handed out anew: zeroed */
	assert_int_equal(entry_of("bwif2"), 1);
	assert_int_equal(packets(1), 0);

	/* bwif0 leaves, bwif4 comes: 2 is the lowest free entry */
	reload(ifs, CFG_BODY_HEAD "  - { name: bwif1, fast_forward: fib }\n"
				  "  - { name: bwif2, fast_forward: fib }\n"
				  "  - { name: bwif3, fast_forward: off }\n"
				  "  - { name: bwif4, fast_forward: fib }\n");
	assert_false(iface_val("bwif0", &v));
	assert_int_equal(entry_of("bwif1"), 0);
	assert_int_equal(entry_of("bwif2"), 1);
	assert_int_equal(entry_of("bwif4"), 2);
	/* bwif0 comes back: 7 is free, 3 the lowest free */
	plant(3, 13);
	reload(ifs, CFG_BODY_HEAD "  - { name: bwif0, fast_forward: fib }\n"
				  "  - { name: bwif1, fast_forward: fib }\n"
				  "  - { name: bwif2, fast_forward: fib }\n"
				  "  - { name: bwif3, fast_forward: off }\n"
				  "  - { name: bwif4, fast_forward: fib }\n");
	assert_int_equal(entry_of("bwif0"), 3);
	assert_int_equal(packets(3), 0);
	/* fast_forward off on bwif1 by a reload: its entry is free again */
	reload(ifs, CFG_BODY_HEAD "  - { name: bwif0, fast_forward: fib }\n"
				  "  - { name: bwif1, fast_forward: off }\n"
				  "  - { name: bwif2, fast_forward: fib }\n"
				  "  - { name: bwif3, fast_forward: fib }\n"
				  "  - { name: bwif4, fast_forward: fib }\n");
	assert_true(iface_val("bwif1", &v));
	assert_int_equal(v.fwd, BWE_FWD_OFF);
	assert_int_equal(entry_of("bwif3"), 0);
	ifaces_free(ifs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entries),
	};

	return cmocka_run_group_tests_name("interfaces: fast-path counter entries", tests, setup,
					   teardown);
}
