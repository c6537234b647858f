// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_ident.c - containment keyed on the host (issue #12): the daemon's
 * neighbour view (ctl/bwctld/neighwatch.c) over a real neighbour table,
 * and the transaction (ops.c) with host records: a host quarantined by
 * address or by MAC address, bwe_macs and BWE_CFG_MACS in the kernel,
 * addresses learnt from the neighbour table and from traffic within
 * identity.max_learnt, the router guard (identity.router_addresses), bad
 * MAC addresses, exempt and gateway MACs, --prefix64, release of the whole
 * host, rollback of a failed map update, and the state file round trip.
 *
 * Runs as root in a network and mount namespace of its own: one veth pair
 * holds the neighbours ("ip neigh add ... nud permanent"), a tmpfs the
 * state directory.
 */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cmocka.h>

#include "test_helpers.h"
#include "core_fixture.h"

#include "bwe_util.h"
#include "neighwatch.h"
#include "ops.h"
#include "store.h"

#define THROTTLE_MAP_MIN 1024 /* entries: the rollback test fills the map */
#define ROUTER_ADDRS	 3    /* identity.router_addresses of this test */
#define MAX_LEARNT	 4    /* identity.max_learnt of this test */

/* A LAN host with two neighbour entries, one IPv4 and one IPv6. */
#define H_MAC "02:00:00:00:00:20"
#define H_V4  "198.18.0.20"
#define H_V6  "2001:db8:1::20"
/* A router: more than ROUTER_ADDRS internal addresses behind one MAC address. */
#define R_MAC "02:00:00:00:00:99"
/* The exempt server's MAC address (198.18.0.53 is exempt). */
#define X_MAC "02:00:00:00:00:53"
/* An upstream router: its neighbour entry is outside internal_networks. */
#define W_MAC "02:00:00:00:00:ee"

static struct core core;
static struct st_store *st;
static struct ops *ops;
static struct bwe_neighwatch *nw;
static int learnt_calls;

/* The neighbour callback as bwctld wires it: a new address of a MAC is learnt. */
static void on_neigh(const struct bwe_addr *a, const __u8 mac[BWE_MAC_LEN], int ifindex, void *ctx)
{
	(void)ifindex, (void)ctx;
	learnt_calls++;
	ops_learn(ops, mac, a, ST_LEARNT_NEIGHBOUR);
}

static void mac_of(const char *s, __u8 mac[BWE_MAC_LEN])
{
	assert_int_equal(bwe_mac_parse(s, mac), 0);
}

static int sh(const char *cmd)
{
	return system(cmd) ? -1 : 0;
}

/* quarantine (or release) what is given: addresses, and MAC addresses. */
static int contain(enum op_verb verb, enum st_kind kind, const char *const *items, size_t n,
		   bool force, bool prefix64, char *err, size_t len)
{
	struct bwe_prefix p[8];
	__u8 m[8][BWE_MAC_LEN];
	size_t np = 0, nm = 0, i;
	struct actor op;
	struct op_request r = {
		.verb = verb,
		.kind = kind,
		.who = &op,
		.reason = "test",
		.force = force,
		.rate = 125000,
		.ident = true,
		.prefix64 = prefix64,
	};

	actor_set(&op, ACTOR_OPERATOR, "root", "bwctl test");
	r.action = kind == ST_THROTTLE ? (verb == OP_ADD ? "throttle" : "unthrottle")
				       : (verb == OP_ADD ? "quarantine" : "release");
	for (i = 0; i < n; i++) {
		if (!bwe_mac_parse(items[i], m[nm]))
			nm++;
		else
			p[np++] = pfx(items[i]);
	}
	r.pfx = p;
	r.n = np;
	r.macs = (const __u8(*)[BWE_MAC_LEN])m;
	r.nmacs = nm;
	return ops_apply(ops, &r, NULL, err, len);
}

static int q1(const char *what, char *err, size_t len)
{
	return contain(OP_ADD, ST_QUARANTINE, &what, 1, false, false, err, len);
}

static int rel1(const char *what, char *err, size_t len)
{
	return contain(OP_DEL, ST_QUARANTINE, &what, 1, false, false, err, len);
}

/* The flags bwe_macs holds for a MAC address; 0 when absent. */
static __u32 kernel_mac(const char *s)
{
	struct bwe_mac_key k = { 0 };
	struct bwe_mac_val v = { 0 };

	mac_of(s, k.mac);
	if (bpf_map_lookup_elem(bwe_dp_map_fd(core.dp, BWE_MAP_MACS), &k, &v))
		return 0;
	return v.flags;
}

static bool cfg_macs(void)
{
	struct bwe_config c;

	assert_int_equal(bwe_dp_config_get(core.dp, &c), 0);
	return c.flags & BWE_CFG_MACS;
}

static const struct st_entry *entry(enum st_kind k, const char *p)
{
	struct bwe_prefix x = pfx(p);

	return st_find(st, k, &x);
}

static const struct st_entry *host(enum st_kind k, const char *m)
{
	__u8 mac[BWE_MAC_LEN];

	mac_of(m, mac);
	return st_host_find(st, k, mac);
}

static int setup(void **state)
{
	struct bwe_dp_opts opts = { .throttle_max = THROTTLE_MAP_MIN };
	char cmd[1024];
	int i;

	(void)state;
	libbpf_set_print(NULL);
	if (core_up(&core, "test_ident", CLONE_NEWNET, &opts,
		    "interfaces:\n  - name: bweid0\n"
		    "internal_networks: [198.18.0.0/15, \"2001:db8:1::/48\"]\n"
		    "exempt: [198.18.0.53/32]\n"
		    "identity: { router_addresses: %d, max_learnt: %d }\n",
		    ROUTER_ADDRS, MAX_LEARNT))
		return -1;
	st = core.st;
	ops = core.ops;
	if (sh("ip link set lo up && ip link add bweid0 type veth peer name bweid1 && "
	       "ip addr add 198.18.0.1/24 dev bweid0 && ip -6 addr add 2001:db8:1::1/64 dev bweid0 "
	       "nodad && ip link set bweid0 up && ip link set bweid1 up && "
	       "ip neigh add " H_V4 " lladdr " H_MAC " dev bweid0 nud permanent && "
	       "ip neigh add " H_V6 " lladdr " H_MAC " dev bweid0 nud permanent && "
	       "ip neigh add 198.18.0.53 lladdr " X_MAC " dev bweid0 nud permanent && "
	       "ip neigh add 203.0.113.1 lladdr " W_MAC " dev bweid0 nud permanent"))
		return -1;
	for (i = 0; i <= ROUTER_ADDRS; i++) { /* one more than a host may have */
		snprintf(cmd, sizeof(cmd),
			 "ip neigh add 198.18.0.%d lladdr " R_MAC " dev bweid0 nud permanent",
			 100 + i);
		if (sh(cmd))
			return -1;
	}
	if (bwe_neighwatch_open(&nw, 0, on_neigh, NULL))
		return -1;
	ops_set_neighbours(ops, nw);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ops_set_neighbours(ops, NULL);
	bwe_neighwatch_close(nw);
	return core_down(&core);
}

/* The view reads the table: the host's two addresses, the router's many. */
static void test_neighbour_view(void **state)
{
	struct bwe_addr a[8], x = addr(H_V4);
	__u8 mac[BWE_MAC_LEN], want[BWE_MAC_LEN];

	(void)state;
	mac_of(H_MAC, want);
	assert_int_equal(bwe_neigh_mac_of(nw, &x, mac), 0);
	assert_memory_equal(mac, want, BWE_MAC_LEN);
	assert_int_equal(bwe_neigh_addrs_of(nw, want, a, 8), 2);
	mac_of(R_MAC, want);
	assert_int_equal(bwe_neigh_addrs_of(nw, want, NULL, 0), ROUTER_ADDRS + 1);
	x = addr("198.18.0.250");
	assert_int_equal(bwe_neigh_mac_of(nw, &x, mac), -ENOENT);
	mac_of("ff:ff:ff:ff:ff:ff", mac);
	assert_true(bwe_mac_is_group_or_zero(mac));
	mac_of("01:00:5e:00:00:01", mac);
	assert_true(bwe_mac_is_group_or_zero(mac));
	mac_of(H_MAC, mac);
	assert_false(bwe_mac_is_group_or_zero(mac));
}

/*
 * An address with a neighbour entry is contained by its MAC address: both
 * of the host's addresses, the host record, bwe_macs and BWE_CFG_MACS;
 * releasing one address releases all of it and clears the flag.
 */
static void test_quarantine_by_address_binds_the_host(void **state)
{
	char err[OPS_ERR_LEN], *file;
	struct json_object *j, *v;

	(void)state;
	assert_false(cfg_macs());
	assert_int_equal(q1(H_V4, err, sizeof(err)), 0);
	assert_non_null(entry(ST_QUARANTINE, H_V4));
	assert_true(entry(ST_QUARANTINE, H_V4)->has_mac);
	assert_non_null(entry(ST_QUARANTINE, H_V6));
	assert_int_equal(entry(ST_QUARANTINE, H_V6)->learnt, ST_LEARNT_GIVEN);
	assert_non_null(host(ST_QUARANTINE, H_MAC));
	assert_true(core_classes(&core, H_V6) & BWE_NC_QUARANTINE);
	assert_int_equal(kernel_mac(H_MAC), BWE_NC_QUARANTINE);
	assert_true(cfg_macs());
	/* one host, two addresses: status and metrics count the host */
	assert_int_equal(st_count(st), 2);
	assert_int_equal(st_contained(st, ST_QUARANTINE), 1);
	/* what bwctl list shows */
	j = st_entry_json_host(st, entry(ST_QUARANTINE, H_V4));
	assert_string_equal(json_object_get_string(json_object_object_get(j, "keyed_by")), "mac");
	assert_string_equal(json_object_get_string(json_object_object_get(j, "mac")), H_MAC);
	assert_true(json_object_object_get_ex(j, "addresses", &v));
	assert_int_equal(json_object_array_length(v), 2);
	json_object_put(j);
	file = slurp(core.statefile);
	assert_non_null(strstr(file, "\"hosts\""));
	assert_non_null(strstr(file, H_MAC));
	free(file);
	assert_int_equal(count_in_file(core.evpath, "\"host\":{\"mac\":\"" H_MAC "\"}"), 1);

	/* release by the other address: the whole host goes */
	assert_int_equal(rel1(H_V6, err, sizeof(err)), 0);
	assert_null(entry(ST_QUARANTINE, H_V4));
	assert_null(entry(ST_QUARANTINE, H_V6));
	assert_null(host(ST_QUARANTINE, H_MAC));
	assert_false(core_classes(&core, H_V4) & BWE_NC_QUARANTINE);
	assert_int_equal(kernel_mac(H_MAC), 0);
	assert_false(cfg_macs());
}

/*
 * New addresses of a contained MAC are learnt from the neighbour table and
 * from traffic, never an exempt or outside one, and at most max_learnt:
 * the first refusal past the bound is one event, the rest are silent.
 */
static void test_learning_and_its_bound(void **state)
{
	char err[OPS_ERR_LEN], cmd[256];
	__u8 mac[BWE_MAC_LEN];
	struct bwe_addr a;
	int i;

	(void)state;
	mac_of(H_MAC, mac);
	assert_int_equal(q1(H_MAC, err, sizeof(err)), 0);
	assert_non_null(entry(ST_QUARANTINE, H_V4));

	/* traffic: a source address the host was not known by */
	a = addr("198.18.0.21");
	assert_int_equal(ops_learn(ops, mac, &a, ST_LEARNT_TRAFFIC), 1);
	assert_int_equal(entry(ST_QUARANTINE, "198.18.0.21")->learnt, ST_LEARNT_TRAFFIC);
	assert_int_equal(entry(ST_QUARANTINE, "198.18.0.21")->actor.kind, ACTOR_SYSTEM);
	assert_true(core_classes(&core, "198.18.0.21") & BWE_NC_QUARANTINE);
	assert_int_equal(count_in_file(core.evpath, "\"action\":\"quarantine-learn\""), 1);
	/* the same again: covered, nothing to do */
	assert_int_equal(ops_learn(ops, mac, &a, ST_LEARNT_TRAFFIC), 0);
	/* outside internal_networks: never contained, nothing learnt */
	a = addr("203.0.113.9");
	assert_int_equal(ops_learn(ops, mac, &a, ST_LEARNT_TRAFFIC), 0);
	assert_null(entry(ST_QUARANTINE, "203.0.113.9"));
	/* a spoofed exempt address: refused like any exempt address */
	a = addr("198.18.0.53");
	assert_int_equal(ops_learn(ops, mac, &a, ST_LEARNT_TRAFFIC), -EINVAL);
	assert_null(entry(ST_QUARANTINE, "198.18.0.53"));
	assert_false(core_classes(&core, "198.18.0.53") & BWE_NC_QUARANTINE);
	/* a spoofed address the neighbour table gives to another host stays its */
	a = addr("198.18.0.100");
	assert_int_equal(ops_learn(ops, mac, &a, ST_LEARNT_TRAFFIC), -EPERM);
	assert_null(entry(ST_QUARANTINE, "198.18.0.100"));
	assert_int_equal(count_in_file(core.evpath, "another host's address, spoofed"), 1);

	/* the neighbour table: the kernel tells the view, the view tells ops */
	learnt_calls = 0;
	assert_int_equal(sh("ip neigh add 198.18.0.22 lladdr " H_MAC " dev bweid0 nud permanent"),
			 0);
	assert_int_equal(bwe_neighwatch_process(nw), 0);
	assert_int_equal(learnt_calls, 1);
	assert_non_null(entry(ST_QUARANTINE, "198.18.0.22"));
	assert_int_equal(entry(ST_QUARANTINE, "198.18.0.22")->learnt, ST_LEARNT_NEIGHBOUR);
	/* a state change of a known entry reports nothing */
	assert_int_equal(sh("ip neigh change 198.18.0.22 lladdr " H_MAC
			    " dev bweid0 nud reachable"),
			 0);
	assert_int_equal(bwe_neighwatch_process(nw), 0);
	assert_int_equal(learnt_calls, 1);

	/* the bound: 2 learnt so far, MAX_LEARNT in all, then one refusal event */
	for (i = 0; i < 10; i++) {
		snprintf(cmd, sizeof(cmd), "198.18.1.%d", i + 1);
		a = addr(cmd);
		ops_learn(ops, mac, &a, ST_LEARNT_TRAFFIC);
	}
	assert_int_equal(st_mac_entries(st, ST_QUARANTINE, mac, true), MAX_LEARNT);
	assert_non_null(entry(ST_QUARANTINE, "198.18.1.2"));
	assert_null(entry(ST_QUARANTINE, "198.18.1.3"));
	assert_false(core_classes(&core, "198.18.1.10") & BWE_NC_QUARANTINE);
	assert_true(host(ST_QUARANTINE, H_MAC)->capped);
	assert_int_equal(count_in_file(core.evpath, "\"action\":\"identity-learn-refused\""), 3);
	assert_int_equal(count_in_file(core.evpath, "max_learnt"), 1);

	/* release by MAC: every address, learnt or given, and the record */
	assert_int_equal(rel1(H_MAC, err, sizeof(err)), 0);
	assert_int_equal(st_count(st), 0);
	assert_int_equal(st_host_count(st), 0);
	assert_false(core_classes(&core, "198.18.0.21") & BWE_NC_QUARANTINE);
	assert_int_equal(kernel_mac(H_MAC), 0);
	assert_int_equal(sh("ip neigh del 198.18.0.22 dev bweid0"), 0);
	assert_int_equal(bwe_neighwatch_process(nw), 0);
}

/*
 * A MAC address with more internal addresses than router_addresses is a
 * router's: refused by MAC, naming it and the count, unless forced; an
 * address behind it is contained by address alone.
 */
static void test_router_mac_is_refused(void **state)
{
	char err[OPS_ERR_LEN], *before, *after;
	const char *forced = R_MAC;

	(void)state;
	before = slurp(core.statefile);
	assert_int_equal(q1(R_MAC, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, R_MAC));
	assert_non_null(strstr(err, "4 internal addresses"));
	assert_non_null(strstr(err, "--force"));
	after = slurp(core.statefile);
	assert_string_equal(before, after);
	free(after);
	assert_int_equal(kernel_mac(R_MAC), 0);

	/* an address behind the router: by address */
	assert_int_equal(q1("198.18.0.101", err, sizeof(err)), 0);
	assert_false(entry(ST_QUARANTINE, "198.18.0.101")->has_mac);
	assert_null(entry(ST_QUARANTINE, "198.18.0.102"));
	assert_int_equal(kernel_mac(R_MAC), 0);
	assert_int_equal(rel1("198.18.0.101", err, sizeof(err)), 0);

	/* forced: the operator meant it */
	assert_int_equal(contain(OP_ADD, ST_QUARANTINE, &forced, 1, true, false, err, sizeof(err)),
			 0);
	assert_int_equal(kernel_mac(R_MAC), BWE_NC_QUARANTINE);
	assert_non_null(entry(ST_QUARANTINE, "198.18.0.103"));
	assert_int_equal(rel1(R_MAC, err, sizeof(err)), 0);
	assert_int_equal(kernel_mac(R_MAC), 0);
	free(before);
}

/* Bad MAC addresses, the exempt host's and the gateway's own change nothing. */
static void test_bad_and_protected_macs(void **state)
{
	static const struct {
		const char *mac, *why;
	} bad[] = {
		{ "00:00:00:00:00:00", "zero MAC address" },
		{ "ff:ff:ff:ff:ff:ff", "broadcast MAC address" },
		{ "01:00:5e:00:00:fb", "multicast MAC address" },
		{ "33:33:00:00:00:01", "multicast MAC address" },
		{ X_MAC, "exempt" },
		{ W_MAC, "1 address outside internal_networks" },
	};
	char err[OPS_ERR_LEN], own[BWE_MAC_STRLEN], *before, *after;
	const char *items[2];
	struct ifreq ifr = { 0 };
	size_t i;
	int fd;

	(void)state;
	before = slurp(core.statefile);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(q1(bad[i].mac, err, sizeof(err)), -EINVAL);
		if (!strstr(err, bad[i].why))
			fail_msg("%s: \"%s\" does not say \"%s\"", bad[i].mac, err, bad[i].why);
	}
	/* one bad MAC refuses the whole request */
	items[0] = H_V4;
	items[1] = "ff:ff:ff:ff:ff:ff";
	assert_int_equal(contain(OP_ADD, ST_QUARANTINE, items, 2, false, false, err, sizeof(err)),
			 -EINVAL);
	assert_null(entry(ST_QUARANTINE, H_V4));
	/* the gateway's own MAC address */
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "bweid0");
	assert_int_equal(ioctl(fd, SIOCGIFHWADDR, &ifr), 0);
	close(fd);
	bwe_mac_fmt((const __u8 *)ifr.ifr_hwaddr.sa_data, own, sizeof(own));
	assert_int_equal(q1(own, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "this gateway"));
	after = slurp(core.statefile);
	assert_string_equal(before, after);
	free(after);
	free(before);
	assert_false(cfg_macs());
	/* forced, the exempt host's MAC address goes through */
	items[0] = X_MAC;
	assert_int_equal(contain(OP_ADD, ST_QUARANTINE, items, 1, true, false, err, sizeof(err)),
			 0);
	assert_true(core_classes(&core, "198.18.0.53") & BWE_NC_QUARANTINE);
	assert_int_equal(rel1(X_MAC, err, sizeof(err)), 0);
	assert_false(core_classes(&core, "198.18.0.53") & BWE_NC_QUARANTINE);
}

/* --prefix64: the host's IPv6 addresses stand for their /64, learnt ones too. */
static void test_prefix64(void **state)
{
	char err[OPS_ERR_LEN];
	const char *m = H_MAC;
	__u8 mac[BWE_MAC_LEN];
	struct bwe_addr a = addr("2001:db8:1::9:9");

	(void)state;
	mac_of(H_MAC, mac);
	assert_int_equal(contain(OP_ADD, ST_QUARANTINE, &m, 1, false, true, err, sizeof(err)), 0);
	assert_non_null(entry(ST_QUARANTINE, "2001:db8:1::/64"));
	assert_null(entry(ST_QUARANTINE, H_V6));
	assert_non_null(entry(ST_QUARANTINE, H_V4)); /* IPv4 stays a host */
	assert_true(core_classes(&core, "2001:db8:1::ab:cd") & BWE_NC_QUARANTINE);
	/* a privacy address of the same /64: covered already */
	assert_int_equal(ops_learn(ops, mac, &a, ST_LEARNT_TRAFFIC), 0);
	/* another /64 of the host: learnt as a /64 */
	a = addr("2001:db8:1:7::5");
	assert_int_equal(ops_learn(ops, mac, &a, ST_LEARNT_TRAFFIC), 1);
	assert_non_null(entry(ST_QUARANTINE, "2001:db8:1:7::/64"));
	/* release by an address inside the /64 releases the host */
	assert_int_equal(rel1("2001:db8:1::77", err, sizeof(err)), 0);
	assert_int_equal(st_count(st), 0);
	assert_int_equal(st_host_count(st), 0);
	/* a throttle spans at most 4096 hosts: --prefix64 is for quarantines */
	assert_int_equal(contain(OP_ADD, ST_THROTTLE, &m, 1, false, true, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "--prefix64 is for quarantines"));
	assert_int_equal(st_host_count(st), 0);
}

/*
 * A throttle by MAC address whose bucket cannot be written is rolled back
 * whole: no host record, no address, nothing in bwe_macs, the file as it
 * was.
 */
static void test_failed_map_update_rolls_the_host_back(void **state)
{
	char err[OPS_ERR_LEN], *before, *after;
	const char *full = "198.19.4.0/22", *m = H_MAC;

	(void)state;
	/* 1024 buckets fill the throttle map */
	assert_int_equal(contain(OP_ADD, ST_THROTTLE, &full, 1, false, false, err, sizeof(err)), 0);
	before = slurp(core.statefile);
	assert_int_not_equal(contain(OP_ADD, ST_THROTTLE, &m, 1, false, false, err, sizeof(err)),
			     0);
	assert_non_null(strstr(err, "rolled back"));
	assert_null(host(ST_THROTTLE, H_MAC));
	assert_null(entry(ST_THROTTLE, H_V4));
	assert_int_equal(kernel_mac(H_MAC), 0);
	assert_false(cfg_macs());
	assert_false(core_classes(&core, H_V4) & BWE_NC_THROTTLE);
	after = slurp(core.statefile);
	assert_string_equal(before, after);
	free(after);
	free(before);
	assert_int_equal(contain(OP_DEL, ST_THROTTLE, &full, 1, false, false, err, sizeof(err)), 0);
	/* with room again it goes through, and the MAC carries the throttle flag */
	assert_int_equal(contain(OP_ADD, ST_THROTTLE, &m, 1, false, false, err, sizeof(err)), 0);
	assert_int_equal(kernel_mac(H_MAC), BWE_NC_THROTTLE);
	assert_int_equal(q1(H_MAC, err, sizeof(err)), 0);
	assert_int_equal(kernel_mac(H_MAC), BWE_NC_THROTTLE | BWE_NC_QUARANTINE);
	assert_int_equal(rel1(H_MAC, err, sizeof(err)), 0);
	assert_int_equal(kernel_mac(H_MAC), BWE_NC_THROTTLE);
	assert_int_equal(contain(OP_DEL, ST_THROTTLE, &m, 1, false, false, err, sizeof(err)), 0);
	assert_int_equal(kernel_mac(H_MAC), 0);
}

/* The state file keeps host records and each address's MAC and origin. */
static void test_state_round_trip(void **state)
{
	struct st_store *a = st_new(), *b = st_new();
	struct st_entry h = { .kind = ST_QUARANTINE, .has_mac = true, .prefix64 = true }, e;
	struct json_object *j;
	size_t skipped;

	(void)state;
	mac_of(H_MAC, h.mac);
	actor_set(&h.actor, ACTOR_OPERATOR, "root", "x");
	assert_int_equal(st_host_put(a, &h), 0);
	e = h;
	e.pfx = pfx("198.18.0.77");
	e.learnt = ST_LEARNT_TRAFFIC;
	actor_set(&e.actor, ACTOR_SYSTEM, "learned", "traffic");
	assert_int_equal(st_put(a, &e), 0);
	j = st_to_json(a);
	assert_int_equal(st_from_json(b, j, &skipped), 0);
	assert_int_equal(skipped, 0);
	assert_int_equal(st_host_count(b), 1);
	assert_true(st_host_at(b, 0)->prefix64);
	assert_memory_equal(st_host_at(b, 0)->mac, h.mac, BWE_MAC_LEN);
	assert_int_equal(st_at(b, 0)->learnt, ST_LEARNT_TRAFFIC);
	assert_true(st_at(b, 0)->has_mac);
	assert_string_equal(st_at(b, 0)->actor.name, "learned");
	assert_string_equal(st_at(b, 0)->actor.detail, "traffic");
	json_object_put(j);
	/* a host record without a MAC address is malformed: skipped */
	j = json_tokener_parse("{\"entries\": [], \"hosts\": [{\"kind\": \"quarantine\"}]}");
	assert_int_equal(st_from_json(b, j, &skipped), 0);
	assert_int_equal(skipped, 1);
	assert_int_equal(st_host_count(b), 0);
	json_object_put(j);
	st_free(a);
	st_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_neighbour_view),
		cmocka_unit_test(test_quarantine_by_address_binds_the_host),
		cmocka_unit_test(test_learning_and_its_bound),
		cmocka_unit_test(test_router_mac_is_refused),
		cmocka_unit_test(test_bad_and_protected_macs),
		cmocka_unit_test(test_prefix64),
		cmocka_unit_test(test_failed_map_update_rolls_the_host_back),
		cmocka_unit_test(test_state_round_trip),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
