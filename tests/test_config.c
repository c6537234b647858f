// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_config.c - table-driven unit tests of lib/config.c (bwenforce.yaml).
 * No network, no privileges. Run from the repository root (make test does):
 * fixtures are read from tests/data/config/ and policies/, and the rows of
 * the error tables are written to a private temporary directory.
 *
 * An error row is {description, YAML text, expected line, expected text}:
 * the message must start with "FILE:LINE: " ("FILE: " for line 0) and
 * contain the expected text. A failing row is named in the failure message.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "bwe_util.h"
#include "config.h"

#define DATA_DIR "tests/data/config"
#define SHIPPED	 "policies/bwenforce.yaml"
#define TEXT_MAX (64 * 1024) /* bytes of a generated file */

/* The first two lines of most rows: a valid interfaces list. */
#define IF   "interfaces:\n  - name: lan0\n"
/* A valid feed under IF: "feeds:" on line 3, the feed's keys from line 4. */
#define FEED IF "feeds:\n  - name: a\n    source: /a\n"

static char tmpdir[PATH_MAX / 2]; /* room for a file name below it */
static char tmpfile_path[PATH_MAX];

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "%s/bwe-test-config-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(tmpfile_path, sizeof(tmpfile_path), "%s/bwenforce.yaml", tmpdir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(tmpfile_path);
	return rmdir(tmpdir);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
}

static int load_text(const char *text, struct bwe_cfgfile **cfg, char *err, size_t len)
{
	write_text(tmpfile_path, text);
	return bwe_config_load(tmpfile_path, cfg, err, len);
}

/* The load failed with ret, at "file:line: " (or "file: "), saying want. */
static void check_error(const char *desc, const char *file, int got_ret, struct bwe_cfgfile *cfg,
			const char *err, int want_ret, unsigned int line, const char *want)
{
	char prefix[PATH_MAX + 32];

	if (line)
		snprintf(prefix, sizeof(prefix), "%s:%u: ", file, line);
	else
		snprintf(prefix, sizeof(prefix), "%s: ", file);
	if (got_ret != want_ret || cfg)
		fail_msg("%s: returned %d (want %d), err \"%s\"", desc, got_ret, want_ret, err);
	if (strncmp(err, prefix, strlen(prefix)) != 0)
		fail_msg("%s: err \"%s\" does not start with \"%s\"", desc, err, prefix);
	if (!strstr(err, want))
		fail_msg("%s: err \"%s\" does not contain \"%s\"", desc, err, want);
	if (strchr(err, '\n'))
		fail_msg("%s: err \"%s\" holds a newline", desc, err);
}

/* Loading yaml fails with -EINVAL at line, saying want. */
static void check_text(const char *desc, const char *yaml, unsigned int line, const char *want)
{
	struct bwe_cfgfile *c = NULL;
	char err[BWE_CFG_ERR_LEN];
	int ret;

	memset(err, 'x', sizeof(err));
	ret = load_text(yaml, &c, err, sizeof(err));
	check_error(desc, tmpfile_path, ret, c, err, -EINVAL, line, want);
}

static const struct bwe_prefix *pfx(const char *s)
{
	static struct bwe_prefix p;

	assert_int_equal(bwe_prefix_parse(s, &p, 0), 0);
	return &p;
}

static void assert_prefix(const struct bwe_prefix *got, const char *want)
{
	const struct bwe_prefix *w = pfx(want);

	assert_int_equal(got->plen, w->plen);
	assert_memory_equal(&got->addr, &w->addr, sizeof(got->addr));
}

/* ---- files that load ----------------------------------------------------- */

static void assert_defaults_except_ifaces(const struct bwe_cfgfile *c)
{
	static const __u16 ports[] = {
		20, 21, 22, 25, 53, 80, 110, 123, 143, 443, 465, 587, 853, 993, 995,
	};
	size_t i;

	assert_int_equal(c->internal.n, 4);
	assert_prefix(&c->internal.v[0], "10.0.0.0/8");
	assert_prefix(&c->internal.v[1], "172.16.0.0/12");
	assert_prefix(&c->internal.v[2], "192.168.0.0/16");
	assert_prefix(&c->internal.v[3], "fc00::/7");
	assert_int_equal(c->exempt.n, 0);
	assert_int_equal(c->allowlist.n, 0);
	assert_int_equal(c->n_std_ports, ARRAY_SIZE(ports));
	for (i = 0; i < ARRAY_SIZE(ports); i++)
		assert_int_equal(c->std_ports[i], ports[i]);
	assert_int_equal(c->maps.blocklist_hosts, BWE_BL_HOST_MAX);
	assert_int_equal(c->maps.blocklist_v6_prefixes, BWE_BL_NET6_MAX);
	assert_int_equal(c->maps.netclass, BWE_NETCLASS_MAX);
	assert_int_equal(c->maps.throttle, BWE_THROTTLE_MAX);
	assert_int_equal(c->maps.hosts, BWE_HOSTS_MAX);
	assert_int_equal(c->host_idle_s, 7 * 24 * 3600);
	assert_string_equal(c->paths.pin_dir, "/sys/fs/bpf/bwenforce");
	assert_string_equal(c->paths.state_dir, "/var/lib/bwenforce");
	assert_string_equal(c->paths.socket, "/run/bwenforce/bwctld.sock");
	assert_string_equal(c->paths.event_log, "/var/log/bwenforce/events.json");
	assert_null(c->control_group);
	assert_string_equal(c->sandbox_user, "nobody");
	assert_int_equal(c->monitor_only, 0);
	assert_int_equal(c->event_dedup_s, 60);
	assert_int_equal(c->max_ttl_s, 30 * 24 * 3600);
	assert_int_equal(c->default_burst, 0);
	assert_int_equal(c->feed_worker_memory, BWE_CFG_WORKER_MEM);
	assert_int_equal(c->n_feeds, 0);
	assert_null(c->feeds);
}

static void test_shipped(void **state)
{
	struct bwe_cfgfile *c = NULL;
	char err[BWE_CFG_ERR_LEN];

	(void)state;
	if (bwe_config_load(SHIPPED, &c, err, sizeof(err)))
		fail_msg("%s", err);
	assert_string_equal(c->path, SHIPPED);
	assert_int_equal(c->n_ifaces, 2);
	assert_string_equal(c->ifaces[0].name, "lan0");
	assert_string_equal(c->ifaces[1].name, "wan0");
	assert_int_equal(c->ifaces[0].mode, BWE_MODE_AUTO);
	assert_int_equal(c->ifaces[1].mode, BWE_MODE_AUTO);
	/* Every other key is written out with its default value. */
	assert_defaults_except_ifaces(c);
	bwe_config_free(c);
}

/* The commented-out feed of the shipped file is valid once uncommented. */
static void test_shipped_feed_example(void **state)
{
	char text[TEXT_MAX], line[1024], err[BWE_CFG_ERR_LEN];
	struct bwe_cfgfile *c = NULL;
	bool in_feeds = false;
	size_t used = 0;
	FILE *f;

	(void)state;
	f = fopen(SHIPPED, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		if (in_feeds && !strncmp(line, "#  ", 3))
			line[0] = ' ';
		if (!strncmp(line, "feeds:", 6))
			in_feeds = true;
		assert_true(used + strlen(line) < sizeof(text));
		memcpy(text + used, line, strlen(line) + 1);
		used += strlen(line);
	}
	fclose(f);
	assert_true(in_feeds);
	if (load_text(text, &c, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(c->n_feeds, 1);
	assert_string_equal(c->feeds[0].name, "spamhaus-drop");
	assert_string_equal(c->feeds[0].format, "spamhaus-json");
	assert_int_equal(c->feeds[0].refresh_s, 12 * 3600);
	assert_int_equal(c->feeds[0].action, BWE_ACT_DROP);
	bwe_config_free(c);
}

static void test_defaults(void **state)
{
	struct bwe_cfgfile *c = NULL;
	char err[BWE_CFG_ERR_LEN];

	(void)state;
	if (bwe_config_load(DATA_DIR "/minimal.yaml", &c, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(c->n_ifaces, 1);
	assert_string_equal(c->ifaces[0].name, "eth0");
	assert_int_equal(c->ifaces[0].mode, BWE_MODE_AUTO);
	assert_defaults_except_ifaces(c);
	bwe_config_free(c);
}

static void test_full(void **state)
{
	struct bwe_cfgfile *c = NULL;
	const struct bwe_cfg_feed *f;
	char err[BWE_CFG_ERR_LEN];

	(void)state;
	if (bwe_config_load(DATA_DIR "/full.yaml", &c, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(c->n_ifaces, 3);
	assert_string_equal(c->ifaces[0].name, "lan0");
	assert_int_equal(c->ifaces[0].mode, BWE_MODE_NATIVE);
	assert_string_equal(c->ifaces[1].name, "wan0");
	assert_int_equal(c->ifaces[1].mode, BWE_MODE_GENERIC);
	assert_string_equal(c->ifaces[2].name, "vlan.10");
	assert_int_equal(c->ifaces[2].mode, BWE_MODE_AUTO);
	assert_int_equal(c->internal.n, 2);
	assert_prefix(&c->internal.v[0], "198.18.0.0/24");
	assert_prefix(&c->internal.v[1], "2001:db8:1::/64");
	assert_int_equal(c->exempt.n, 2);
	assert_prefix(&c->exempt.v[0], "198.18.0.53/32");
	assert_prefix(&c->exempt.v[1], "2001:db8:1::53");
	assert_int_equal(c->allowlist.n, 1);
	assert_prefix(&c->allowlist.v[0], "192.0.2.0/25");
	assert_int_equal(c->n_std_ports, 2);
	assert_int_equal(c->std_ports[0], 443);
	assert_int_equal(c->std_ports[1], 53);
	assert_int_equal(c->maps.blocklist_hosts, 2048);
	assert_int_equal(c->maps.blocklist_v6_prefixes, 4096);
	assert_int_equal(c->maps.netclass, 64);
	assert_int_equal(c->maps.throttle, 1024);
	assert_int_equal(c->maps.hosts, 16777216);
	assert_int_equal(c->host_idle_s, 2 * 3600);
	assert_string_equal(c->paths.pin_dir, "/tmp/bwe/bpf");
	assert_string_equal(c->paths.state_dir, "/tmp/bwe/state");
	assert_string_equal(c->paths.socket, "/tmp/bwe/ctl.sock");
	assert_string_equal(c->paths.event_log, "/tmp/bwe/events.json");
	assert_string_equal(c->control_group, "bwadmin");
	assert_int_equal(c->monitor_only, 1);
	assert_int_equal(c->event_dedup_s, 300);
	assert_int_equal(c->max_ttl_s, 7200);
	assert_int_equal(c->default_burst, 65536);

	assert_int_equal(c->n_feeds, 4);
	f = &c->feeds[0];
	assert_string_equal(f->name, "drop.v4");
	assert_string_equal(f->source, "https://feeds.example.org/drop.txt");
	assert_string_equal(f->format, "netset");
	assert_int_equal(f->refresh_s, 900);
	assert_int_equal(f->action, BWE_ACT_MONITOR);
	assert_int_equal(f->min_prefix_v4, 16);
	assert_int_equal(f->min_prefix_v6, 32);
	assert_true(f->max_shrink == 0.25);
	assert_true(f->max_reject == 0.0);
	assert_int_equal(f->may_be_empty, 1);
	assert_int_equal(f->stale_after, 5);
	assert_int_equal(f->max_bytes, 1024 * 1024);
	assert_int_equal(f->timeout_s, 120);
	assert_string_equal(f->ca_file, "/etc/bwenforce/feeds-ca.pem");
	assert_int_equal(f->insecure, 0);

	f = &c->feeds[1]; /* only the required keys: defaults */
	assert_string_equal(f->name, "local_list");
	assert_string_equal(f->source, "/etc/bwenforce/local.txt");
	assert_string_equal(f->format, "auto");
	assert_int_equal(f->refresh_s, 3600);
	assert_int_equal(f->action, BWE_ACT_DROP);
	assert_int_equal(f->min_prefix_v4, 8);
	assert_int_equal(f->min_prefix_v6, 19);
	assert_true(f->max_shrink == 0.5);
	assert_true(f->max_reject == 0.1);
	assert_int_equal(f->may_be_empty, 0);
	assert_int_equal(f->stale_after, 3);
	assert_int_equal(f->max_bytes, 256ULL * 1024 * 1024);
	assert_int_equal(f->timeout_s, 60);
	assert_int_equal(f->insecure, 0);
	assert_int_equal(f->follow_symlinks, 0);
	assert_null(f->ca_file);
	/* plain http only with insecure; a link only with follow_symlinks */
	assert_string_equal(c->feeds[2].source, "http://198.51.100.9/list.txt");
	assert_int_equal(c->feeds[2].insecure, 1);
	assert_int_equal(c->feeds[3].follow_symlinks, 1);
	bwe_config_free(c);
}

/* Forms that are valid though unusual: empty values mean "none"/defaults. */
static void test_accepted(void **state)
{
	struct bwe_cfgfile *c = NULL;
	char err[BWE_CFG_ERR_LEN];

	(void)state;
	if (load_text(IF "exempt:\nallowlist: ~\nfeeds: null\ncontrol_group:\nmaps:\n", &c, err,
		      sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(c->exempt.n, 0);
	assert_int_equal(c->allowlist.n, 0);
	assert_int_equal(c->n_feeds, 0);
	assert_null(c->control_group);
	assert_int_equal(c->maps.hosts, BWE_HOSTS_MAX);
	bwe_config_free(c);

	/* fast_forward per interface, next to nat. */
	c = NULL;
	if (load_text("interfaces:\n  - { name: lan0, fast_forward: fib }\n"
		      "  - { name: wan0, nat: ipv4, fast_forward: off }\n"
		      "  - { name: wan1, nat: ipv4, fast_forward: flowtable }\n",
		      &c, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(c->ifaces[0].fast_forward, BWE_FF_FIB);
	assert_int_equal(c->ifaces[1].fast_forward, BWE_FF_OFF);
	assert_int_equal(c->ifaces[2].fast_forward, BWE_FF_FLOWTABLE);
	assert_string_equal(bwe_fast_forward_name(c->ifaces[0].fast_forward), "fib");
	assert_string_equal(bwe_fast_forward_name(c->ifaces[2].fast_forward), "flowtable");
	bwe_config_free(c);

	/* An empty port list: every port is non-standard. */
	c = NULL;
	if (load_text(IF "standard_ports: []\nfeeds: []\n", &c, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(c->n_std_ports, 0);
	assert_null(c->std_ports);
	bwe_config_free(c);

	/* Quoted scalars, YAML 1.2 booleans, hosts, an IPv4 netmask, aliases. */
	c = NULL;
	if (load_text("interfaces:\n  - &i { name: \"lan0\", mode: 'native' }\n"
		      "internal_networks: [ 192.0.2.0/255.255.255.0, 2001:db8::7 ]\n"
		      "exempt: [ \"::1\" ]\nallowlist:\n  - ::ffff:192.0.2.9\n"
		      "monitor_only: TRUE\nevent_dedup: \"90\"\nmax_ttl: 365d\n"
		      "default_burst: 1518\n",
		      &c, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(c->ifaces[0].mode, BWE_MODE_NATIVE);
	assert_int_equal(c->ifaces[0].fast_forward, BWE_FF_OFF); /* the default */
	assert_prefix(&c->internal.v[0], "192.0.2.0/24");
	assert_prefix(&c->internal.v[1], "2001:db8::7/128");
	assert_prefix(&c->exempt.v[0], "::1/128");
	assert_prefix(&c->allowlist.v[0], "192.0.2.9/32");
	assert_int_equal(c->monitor_only, 1);
	assert_int_equal(c->event_dedup_s, 90);
	assert_int_equal(c->max_ttl_s, 365 * 24 * 3600);
	assert_int_equal(c->default_burst, 1518);
	bwe_config_free(c);

	/* maps.host_idle: off, 0 and the bounds */
	{
		static const struct {
			const char *text;
			__u64 secs;
		} idle[] = { { "off", 0 },   { "0", 0 },	   { "\"off\"", 0 },
			     { "10m", 600 }, { "36h", 36 * 3600 }, { "365d", 365 * 24 * 3600 } };
		char text[128];
		size_t i;

		for (i = 0; i < ARRAY_SIZE(idle); i++) {
			c = NULL;
			snprintf(text, sizeof(text), IF "maps:\n  host_idle: %s\n", idle[i].text);
			if (load_text(text, &c, err, sizeof(err)))
				fail_msg("%s: %s", idle[i].text, err);
			assert_int_equal(c->host_idle_s, idle[i].secs);
			bwe_config_free(c);
		}
	}
}

/* ---- errors ------------------------------------------------------------- */

#define LONG_115 \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static const struct {
	const char *desc;
	const char *yaml;
	unsigned int line; /* 0: no line in the message */
	const char *want;
} error_cases[] = {
	/* unknown keys: never ignored */
	{ "unknown top-level key", "interfacs:\n  - name: lan0\n", 1,
	  "unknown key \"interfacs\" (did you mean \"interfaces\"?)" },
	{ "unknown key, no suggestion", IF "colour: blue\n", 3, "unknown key \"colour\"" },
	{ "unknown interface key", IF "    mde: native\n", 3,
	  "interfaces[0]: unknown key \"mde\"" },
	{ "unknown paths key", IF "paths:\n  socket: /run/x\n  sockt: /run/x\n", 5,
	  "paths: unknown key \"sockt\" (did you mean \"socket\"?)" },
	{ "unknown maps key", IF "maps:\n  host: 2048\n", 4, "maps: unknown key \"host\"" },
	{ "unknown feed key", FEED "    refrsh: 1h\n", 6,
	  "feeds[0]: unknown key \"refrsh\" (did you mean \"refresh\"?)" },

	/* node kinds (the tables in config.c) */
	{ "interfaces as names", "interfaces: [lan0]\n", 1,
	  "interfaces[0]: expected a mapping, found a scalar value" },
	{ "interfaces as scalar", "interfaces: lan0\n", 1,
	  "interfaces: expected a sequence, found a scalar value" },
	{ "paths as scalar", IF "paths: /run\n", 3,
	  "paths: expected a mapping, found a scalar value" },
	{ "feeds as mapping", IF "feeds:\n  name: a\n", 3,
	  "feeds: expected a sequence, found a mapping" },
	{ "bool as list", IF "monitor_only: [true]\n", 3,
	  "monitor_only: expected a scalar value, found a sequence" },
	{ "ports as scalar", IF "standard_ports: 80\n", 3,
	  "standard_ports: expected a sequence, found a scalar value" },

	/* interfaces */
	{ "interfaces missing", "monitor_only: true\n", 0, "interfaces: required key missing" },
	{ "interfaces empty", "interfaces: []\n", 1,
	  "interfaces: at least one interface is required" },
	{ "interface without name", "interfaces:\n  - mode: native\n", 2,
	  "interfaces[0].name: required key missing" },
	{ "interface name too long", "interfaces:\n  - name: averyveryverylongname\n", 2,
	  "interfaces[0].name: \"averyveryverylongname\" is not an interface name (1..15" },
	{ "interface name empty", "interfaces:\n  - name: \"\"\n", 2,
	  "interfaces[0].name: \"\" is not an interface name" },
	{ "interface name with slash", IF "  - name: eth/0\n", 3,
	  "interfaces[1].name: \"eth/0\" is not an interface name (no '/'" },
	{ "interface name with space", IF "  - name: \"eth 0\"\n", 3,
	  "interfaces[1].name: \"eth 0\" is not an interface name" },
	{ "interface name ..", "interfaces:\n  - name: ..\n", 2,
	  "interfaces[0].name: \"..\" is not an interface name" },
	{ "duplicate interface", IF "  - name: wan0\n  - name: lan0\n", 4,
	  "interfaces[2].name: duplicate interface \"lan0\" (also interfaces[0])" },
	{ "bad mode", IF "    mode: fast\n", 3,
	  "interfaces[0].mode: \"fast\" is not one of auto, native, generic" },
	{ "bad fast_forward", IF "    fast_forward: on\n", 3,
	  "interfaces[0].fast_forward: \"on\" is not one of off, fib, flowtable" },

	/* prefixes */
	{ "bad CIDR", IF "internal_networks:\n  - 10.0.0.0/8\n  - 10.0.0.0/33\n", 5,
	  "internal_networks[1]: \"10.0.0.0/33\" is not an address or CIDR" },
	{ "host name", IF "exempt: [ dns.example.org ]\n", 3,
	  "exempt[0]: \"dns.example.org\" is not an address or CIDR" },
	{ "host bits", IF "exempt:\n  - 10.0.0.53\n  - 10.1.2.3/8\n", 5,
	  "exempt[1]: \"10.1.2.3/8\" has host bits set (did you mean 10.0.0.0/8?)" },
	{ "host bits v6", IF "allowlist: [ \"2001:db8::1/32\" ]\n", 3,
	  "allowlist[0]: \"2001:db8::1/32\" has host bits set (did you mean 2001:db8::/32?)" },
	{ "v4 /0", IF "internal_networks: [ 0.0.0.0/0 ]\n", 3,
	  "internal_networks[0]: \"0.0.0.0/0\" is a /0" },
	{ "v6 /0", IF "allowlist:\n  - ::/0\n", 4, "allowlist[0]: \"::/0\" is a /0" },
	{ "duplicate prefix", IF "allowlist: [ 192.0.2.0/24, 192.0.2.0/24 ]\n", 3,
	  "allowlist[1]: \"192.0.2.0/24\" is listed twice (also allowlist[0])" },
	{ "no internal network", IF "internal_networks: []\n", 3,
	  "internal_networks: at least one prefix is required" },

	/* ports */
	{ "port too big", IF "standard_ports: [ 80, 65536 ]\n", 3,
	  "standard_ports[1]: 65536 is above the maximum of 65535" },
	{ "port zero", IF "standard_ports:\n  - 0\n", 4,
	  "standard_ports[0]: 0 is below the minimum of 1" },
	{ "port by name", IF "standard_ports: [ http ]\n", 3,
	  "standard_ports[0]: \"http\" is not a whole number" },
	{ "port in hex", IF "standard_ports: [ 0x50 ]\n", 3,
	  "standard_ports[0]: \"0x50\" is not a whole number" },
	{ "duplicate port", IF "standard_ports: [ 80, 443, 80 ]\n", 3,
	  "standard_ports[2]: port 80 is listed twice (also standard_ports[0])" },

	/* maps */
	{ "map too small", IF "maps:\n  hosts: 1023\n", 4,
	  "maps.hosts: 1023 is below the minimum of 1024" },
	{ "netclass too small", IF "maps:\n  netclass: 63\n", 4,
	  "maps.netclass: 63 is below the minimum of 64" },
	{ "map too big", IF "maps:\n  throttle: 16777217\n", 4,
	  "maps.throttle: 16777217 is above the maximum of 16777216" },
	{ "host_idle too short", IF "maps:\n  host_idle: 5m\n", 4,
	  "maps.host_idle: 5m is below the minimum of 10m" },
	{ "host_idle too long", IF "maps:\n  host_idle: 366d\n", 4,
	  "maps.host_idle: 366d is above the maximum of 365d" },
	{ "host_idle compound", IF "maps:\n  host_idle: 1h30m\n", 4,
	  "maps.host_idle: \"1h30m\" is not a duration or off" },
	{ "host_idle never", IF "maps:\n  host_idle: never\n", 4,
	  "maps.host_idle: \"never\" is not a duration or off" },
	{ "host_idle false", IF "maps:\n  host_idle: false\n", 4,
	  "maps.host_idle: \"false\" is not a duration or off" },
	{ "map overflow", IF "maps:\n  blocklist_hosts: 99999999999999999999999\n", 4,
	  "maps.blocklist_hosts: 99999999999999999999999 is above the maximum" },
	{ "map negative", IF "maps:\n  blocklist_v6_prefixes: -1\n", 4,
	  "maps.blocklist_v6_prefixes: \"-1\" is not a whole number" },

	/* paths, group */
	{ "relative socket", IF "paths:\n  pin_dir: /sys/fs/bpf/x\n  socket: run/x.sock\n", 5,
	  "paths.socket: must be an absolute path" },
	{ "empty state_dir", IF "paths:\n  state_dir: \"\"\n", 4,
	  "paths.state_dir: must be an absolute path" },
	{ "socket too long", IF "paths:\n  socket: /run/" LONG_115 "\n", 4,
	  "paths.socket: longer than 107 bytes" },
	{ "bad group", IF "control_group: -wheel\n", 3,
	  "control_group: \"-wheel\" is not a group name" },
	{ "group with space", IF "control_group: \"bw admin\"\n", 3,
	  "control_group: \"bw admin\" is not a group name" },
	{ "user upper case", IF "sandbox_user: Nobody\n", 3,
	  "sandbox_user: \"Nobody\" is not a user name (1..32 of a-z 0-9 _ -, starting with a-z or _)" },
	{ "user as list", IF "sandbox_user: [ nobody ]\n", 3,
	  "sandbox_user: expected a scalar value, found a sequence" },

	/* scalars */
	{ "bool maybe", IF "monitor_only: maybe\n", 3,
	  "monitor_only: \"maybe\" is not true or false" },
	{ "bool yes (YAML 1.1)", IF "monitor_only: yes\n", 3,
	  "monitor_only: \"yes\" is not true or false" },
	{ "compound duration", IF "event_dedup: 1h30m\n", 3,
	  "event_dedup: \"1h30m\" is not a duration" },
	{ "duration months", IF "max_ttl: 1M\n", 3, "max_ttl: \"1M\" is not a duration" },
	{ "zero duration", IF "max_ttl: 0\n", 3, "max_ttl: \"0\" is not a duration" },
	{ "dedup too long", IF "event_dedup: 2d\n", 3,
	  "event_dedup: 2d is above the maximum of 1d" },
	{ "ttl too long", IF "max_ttl: 366d\n", 3, "max_ttl: 366d is above the maximum of 365d" },
	{ "fractional size", IF "default_burst: 1.5M\n", 3,
	  "default_burst: \"1.5M\" is not a size" },
	{ "size in bits", IF "default_burst: 64kb\n", 3, "default_burst: \"64kb\" is not a size" },
	{ "burst below a frame", IF "default_burst: 1k\n", 3,
	  "default_burst: 1k is below one full frame (1518 bytes)" },
	{ "burst too big", IF "default_burst: 2G\n", 3,
	  "default_burst: 2G is above the maximum of 1073741824 bytes" },

	/* feeds */
	{ "feed without name", IF "feeds:\n  - source: /a\n", 4,
	  "feeds[0].name: required key missing" },
	{ "feed without source", IF "feeds:\n  - name: a\n", 4,
	  "feeds[0].source: required key missing" },
	{ "bad feed name", IF "feeds:\n  - name: \"my feed\"\n    source: /a\n", 4,
	  "feeds[0].name: \"my feed\" is not a feed name" },
	{ "feed name too long",
	  IF "feeds:\n  - name: abcdefghijklmnopqrstuvwxyz0123456\n    source: /a\n", 4,
	  "feeds[0].name: \"abcdefghijklmnopqrstuvwxyz0123456\" is not a feed name (1..32" },
	{ "duplicate feed name", FEED "  - name: b\n    source: /b\n  - name: a\n    source: /c\n",
	  8, "feeds[2].name: duplicate feed name \"a\" (also feeds[0])" },
	{ "relative source", IF "feeds:\n  - name: a\n    source: lists/a.txt\n", 5,
	  "feeds[0].source: \"lists/a.txt\" is not an absolute path or an http:// or https:// URL" },
	{ "ftp source", IF "feeds:\n  - name: a\n    source: ftp://example.org/a\n", 5,
	  "feeds[0].source: \"ftp://example.org/a\" is not an absolute path" },
	{ "URL without host", IF "feeds:\n  - name: a\n    source: https://\n", 5,
	  "feeds[0].source: \"https://\" is not an absolute path" },
	{ "bad format", FEED "    format: csv\n", 6,
	  "feeds[0].format: \"csv\" is not one of auto, plain, netset, spamhaus, spamhaus-json, feodo-csv, stix, freeform, domains" },
	{ "refresh below minimum", FEED "    refresh: 9s\n", 6,
	  "feeds[0].refresh: 9s is below the minimum of 10s" },
	{ "bad action", FEED "    action: block\n", 6,
	  "feeds[0].action: \"block\" is not one of drop, monitor" },
	{ "min_prefix_v4 below /8", FEED "    min_prefix_v4: 7\n", 6,
	  "feeds[0].min_prefix_v4: 7 is below the minimum of 8" },
	{ "min_prefix_v6 above 128", FEED "    min_prefix_v6: 129\n", 6,
	  "feeds[0].min_prefix_v6: 129 is above the maximum of 128" },
	{ "min_prefix_v6 below what the blocklist takes (/16)", FEED "    min_prefix_v6: 15\n", 6,
	  "feeds[0].min_prefix_v6: 15 is below the minimum of 16" },
	{ "max_shrink above 1", FEED "    max_shrink: 1.5\n", 6,
	  "feeds[0].max_shrink: 1.5 is outside 0..1" },
	{ "max_shrink negative", FEED "    max_shrink: -0.1\n", 6,
	  "feeds[0].max_shrink: \"-0.1\" is not a number" },
	{ "max_reject percent", FEED "    max_reject: 10%\n", 6,
	  "feeds[0].max_reject: \"10%\" is not a number" },
	{ "max_reject nan", FEED "    max_reject: nan\n", 6,
	  "feeds[0].max_reject: \"nan\" is not a number" },
	{ "may_be_empty", FEED "    may_be_empty: 1\n", 6,
	  "feeds[0].may_be_empty: \"1\" is not true or false" },
	{ "stale_after zero", FEED "    stale_after: 0\n", 6,
	  "feeds[0].stale_after: 0 is below the minimum of 1" },
	{ "max_bytes too small", FEED "    max_bytes: 512\n", 6,
	  "feeds[0].max_bytes: 512 is below the minimum of 1024 bytes" },
	{ "timeout too long", FEED "    timeout: 2h\n", 6,
	  "feeds[0].timeout: 2h is above the maximum of 1h" },
	{ "http source without insecure",
	  IF "feeds:\n  - name: a\n    source: http://feeds.example/a.txt\n", 5,
	  "feeds[0].source: feed \"a\": \"http://feeds.example/a.txt\" is plain http: anybody on "
	  "the path can change its entries; use https:// or set insecure: true on the feed" },
	{ "HTTP source without insecure, upper case",
	  IF "feeds:\n  - name: a\n    source: HTTP://feeds.example/a.txt\n    insecure: false\n",
	  5, "feeds[0].source: feed \"a\": \"HTTP://feeds.example/a.txt\" is plain http" },
	{ "insecure on https",
	  IF "feeds:\n  - name: a\n    source: https://x.example/a\n"
	     "    insecure: true\n",
	  6, "feeds[0].insecure: feed \"a\": applies only to http:// sources" },
	{ "insecure on a file", FEED "    insecure: true\n", 6,
	  "feeds[0].insecure: feed \"a\": applies only to http:// sources" },
	{ "insecure not a bool", FEED "    insecure: yes\n", 6,
	  "feeds[0].insecure: \"yes\" is not true or false" },
	{ "ca_file on a file", FEED "    ca_file: /etc/ssl/ca.pem\n", 6,
	  "feeds[0].ca_file: feed \"a\": applies only to https:// sources" },
	{ "ca_file relative",
	  IF "feeds:\n  - name: a\n    source: https://x.example/a\n"
	     "    ca_file: ca.pem\n",
	  6, "feeds[0].ca_file: must be an absolute path, not \"ca.pem\"" },
	{ "follow_symlinks on a URL",
	  IF "feeds:\n  - name: a\n    source: https://x.example/a\n"
	     "    follow_symlinks: true\n",
	  6, "feeds[0].follow_symlinks: feed \"a\": applies only to file sources" },
	{ "feed_worker_memory too small", IF "feed_worker_memory: 1M\n", 3,
	  "feed_worker_memory: 1M is below the minimum of" },
	{ "second feed", FEED "  - name: b\n    source: /b\n    refresh: 1s\n", 8,
	  "feeds[1].refresh: 1s is below the minimum of 10s" },

	/* fleet */
	{ "fleet without a name", IF "fleet:\n  endpoints: [ https://198.19.0.1:2379 ]\n", 3,
	  "fleet.name: required key missing" },
	{ "fleet without endpoints", IF "fleet:\n  name: a\n", 3,
	  "fleet.endpoints: required key missing" },
	{ "fleet endpoint with a path",
	  IF "fleet:\n  name: a\n  endpoints: [ https://198.19.0.1:2379/v3 ]\n", 5,
	  "fleet.endpoints[0]: \"https://198.19.0.1:2379/v3\" is not an etcd endpoint" },
	{ "fleet endpoint without a port", IF "fleet:\n  name: a\n  endpoints: [ https://etcd ]\n",
	  5, "fleet.endpoints[0]: \"https://etcd\" is not an etcd endpoint" },
	{ "fleet plain http", IF "fleet:\n  name: a\n  endpoints: [ http://198.19.0.1:2379 ]\n", 5,
	  "fleet.endpoints: plain http:// endpoint" },
	{ "fleet insecure with https",
	  IF "fleet:\n  name: a\n  endpoints: [ https://198.19.0.1:2379 ]\n  insecure: true\n", 6,
	  "fleet.insecure: applies only to http:// endpoints" },
	{ "fleet cert without key",
	  IF "fleet:\n  name: a\n  endpoints: [ https://198.19.0.1:2379 ]\n"
	     "  tls: { cert: /c.pem }\n",
	  6, "fleet.tls: needs both cert and key" },
	{ "fleet user without password",
	  IF "fleet:\n  name: a\n  endpoints: [ https://198.19.0.1:2379 ]\n  auth: { user: a }\n",
	  6, "fleet.auth: needs both user and password_file" },
	{ "fleet bad site name", IF "fleet:\n  name: -a\n  endpoints: [ https://x:1 ]\n", 4,
	  "fleet.name: \"-a\" is not a site name" },
	{ "fleet bad prefix",
	  IF "fleet:\n  name: a\n  endpoints: [ https://x:1 ]\n  prefix: bwenforce\n", 6,
	  "fleet.prefix: \"bwenforce\" is not a key prefix" },

	/* YAML itself */
	{ "duplicate top-level key", IF "monitor_only: true\nmonitor_only: false\n", 4,
	  "duplicate key \"monitor_only\" (first on line 3)" },
	{ "duplicate nested key", IF "    name: wan0\n", 3,
	  "interfaces[0]: duplicate key \"name\" (first on line 2)" },
	{ "bad indentation", IF "  - name: wan0\n bad: [\n", 4,
	  "YAML syntax error: did not find expected key" },
	{ "missing colon", IF "  - name: wan0\n    mode\n", 4,
	  "YAML syntax error: could not find expected ':'" },
	{ "unclosed quote", IF "monitor_only: \"true\n", 3,
	  "YAML syntax error: found unexpected end of stream" },
	{ "unclosed flow sequence", IF "exempt: [ 10.0.0.1\n", 4,
	  "YAML syntax error: did not find expected ',' or ']'" },
	{ "unquoted :: in a flow list", IF "exempt: [ ::1 ]\n", 3,
	  "YAML syntax error: did not find expected node content" },
	{ "tab indentation", IF "maps:\n\thosts: 2048\n", 4, "YAML syntax error" },
	{ "not UTF-8", IF "control_group: adm\xff\n", 3, "YAML syntax error: invalid" },
	{ "two documents", IF "---\n" IF, 3, "a second YAML document" },
	{ "alias", IF "  - &w { name: wan0 }\n  - *w\n", 4,
	  "interfaces[2]: YAML aliases (*w) are not supported" },
	{ "many duplicate prefixes",
	  IF "exempt: [ 10.0.0.1, 10.0.0.2, 10.0.0.3, 10.0.0.2, 10.0.0.1 ]\n", 3,
	  "exempt[3]: \"10.0.0.2\" is listed twice (also exempt[1])" },
	{ "duplicate prefix, other spelling",
	  IF "exempt:\n  - 10.0.0.0/24\n  - 10.0.0.0/255.255.255.0\n", 5,
	  "exempt[1]: \"10.0.0.0/255.255.255.0\" is listed twice (also exempt[0])" },
	{ "complex key", "? [ a, b ]\n: 1\n", 1, "a key must be a plain name, not a sequence" },
	{ "deep nesting", "interfaces:\n  - name: [[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]\n", 2,
	  "nested deeper than 16 levels" },

	/* whole file */
	{ "empty file", "", 0, "interfaces: required key missing" },
	{ "only comments", "# nothing\n\n# here\n", 0, "interfaces: required key missing" },
	{ "empty mapping", "{}\n", 0, "interfaces: required key missing" },
	{ "top-level sequence", "- interfaces\n- lan0\n", 1,
	  "the top level must be a mapping of keys, not a sequence" },
	{ "top-level scalar", "lan0\n", 1,
	  "the top level must be a mapping of keys, not a scalar value" },
};

static void test_errors(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(error_cases); i++)
		check_text(error_cases[i].desc, error_cases[i].yaml, error_cases[i].line,
			   error_cases[i].want);
}

/* The same errors from fixture files, with the messages quoted in the brief. */
static const struct {
	const char *file;
	unsigned int line;
	const char *want;
} fixture_cases[] = {
	{ DATA_DIR "/bad-cidr.yaml", 12,
	  "internal_networks[1]: \"10.0.0.0/33\" is not an address or CIDR" },
	{ DATA_DIR "/unknown-key.yaml", 3, "unknown key \"interfacs\"" },
	{ DATA_DIR "/relative-socket.yaml", 7, "paths.socket: must be an absolute path" },
	{ DATA_DIR "/empty.yaml", 0, "interfaces: required key missing" },
	{ DATA_DIR "/not-mapping.yaml", 3, "the top level must be a mapping of keys" },
};

static void test_fixtures(void **state)
{
	char err[BWE_CFG_ERR_LEN];
	struct bwe_cfgfile *c;
	size_t i;
	int ret;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(fixture_cases); i++) {
		c = NULL;
		ret = bwe_config_load(fixture_cases[i].file, &c, err, sizeof(err));
		check_error(fixture_cases[i].file, fixture_cases[i].file, ret, c, err, -EINVAL,
			    fixture_cases[i].line, fixture_cases[i].want);
	}
}

/* One feed more than there are blocklist ids. */
static void test_too_many_feeds(void **state)
{
	char text[TEXT_MAX], err[BWE_CFG_ERR_LEN];
	struct bwe_cfgfile *c = NULL;
	size_t used;
	int i, ret;

	(void)state;
	used = (size_t)snprintf(text, sizeof(text), IF "feeds:\n");
	for (i = 0; i <= BWE_CFG_FEEDS_MAX; i++)
		used += (size_t)snprintf(text + used, sizeof(text) - used,
					 "  - { name: f%d, source: /f }\n", i);
	assert_true(used < sizeof(text));
	ret = load_text(text, &c, err, sizeof(err));
	/* IF is 2 lines, "feeds:" line 3, feed i on line 4 + i */
	check_error("127 feeds", tmpfile_path, ret, c, err, -EINVAL, 4 + BWE_CFG_FEEDS_MAX,
		    "feeds[126]: at most 126 feeds");

	/* exactly the maximum loads */
	used = (size_t)snprintf(text, sizeof(text), IF "feeds:\n");
	for (i = 0; i < BWE_CFG_FEEDS_MAX; i++)
		used += (size_t)snprintf(text + used, sizeof(text) - used,
					 "  - { name: f%d, source: /f }\n", i);
	if (load_text(text, &c, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(c->n_feeds, BWE_CFG_FEEDS_MAX);
	bwe_config_free(c);
}

/* fast_forward on one interface more than bwe_fwd_stats has entries for. */
static void test_too_many_fast_forward(void **state)
{
	char text[TEXT_MAX], err[BWE_CFG_ERR_LEN];
	struct bwe_cfgfile *c = NULL;
	size_t used;
	int i, ret;

	(void)state;
	used = (size_t)snprintf(text, sizeof(text), "interfaces:\n");
	for (i = 0; i <= BWE_FWD_STATS_MAX; i++)
		used += (size_t)snprintf(text + used, sizeof(text) - used,
					 "  - { name: e%d, fast_forward: fib }\n", i);
	assert_true(used < sizeof(text));
	ret = load_text(text, &c, err, sizeof(err));
	check_error("65 fast-forwarding interfaces", tmpfile_path, ret, c, err, -EINVAL, 1,
		    "interfaces: fast_forward is on for 65 interfaces; at most 64 can forward "
		    "in XDP");

	/* the maximum, and more interfaces that do not forward, load */
	used = (size_t)snprintf(text, sizeof(text), "interfaces:\n");
	for (i = 0; i < BWE_FWD_STATS_MAX + 8; i++)
		used += (size_t)snprintf(text + used, sizeof(text) - used,
					 "  - { name: e%d, fast_forward: %s }\n", i,
					 i < BWE_FWD_STATS_MAX ? "flowtable" : "off");
	if (load_text(text, &c, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(c->n_ifaces, BWE_FWD_STATS_MAX + 8);
	bwe_config_free(c);
}

/* internal_networks, exempt and allowlist must fit maps.netclass. */
static void test_netclass_room(void **state)
{
	char text[TEXT_MAX], err[BWE_CFG_ERR_LEN];
	struct bwe_cfgfile *c = NULL;
	size_t used;
	int i, ret;

	(void)state;
	/* 4 default internal networks + 61 hosts = 65 > 64 */
	used = (size_t)snprintf(text, sizeof(text), IF "maps:\n  netclass: 64\nexempt:\n");
	for (i = 1; i <= 61; i++)
		used += (size_t)snprintf(text + used, sizeof(text) - used, "  - 10.0.0.%d\n", i);
	assert_true(used < sizeof(text));
	ret = load_text(text, &c, err, sizeof(err));
	check_error("netclass too small", tmpfile_path, ret, c, err, -EINVAL, 4,
		    "maps.netclass: 64 entries cannot hold the 65 prefixes");

	/* 60 hosts, and the same prefix in two lists takes one entry: 64 fit */
	text[strstr(text, "  - 10.0.0.61\n") - text] = '\0';
	strcat(text, "allowlist: [ 10.0.0.1 ]\n");
	if (load_text(text, &c, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(c->exempt.n + c->internal.n + c->allowlist.n, 65);
	bwe_config_free(c);
}

static void test_io_errors(void **state)
{
	char err[BWE_CFG_ERR_LEN], big[PATH_MAX];
	struct bwe_cfgfile *c = NULL;
	FILE *f;
	int ret;

	(void)state;
	ret = bwe_config_load(DATA_DIR "/no-such-file.yaml", &c, err, sizeof(err));
	check_error("missing file", DATA_DIR "/no-such-file.yaml", ret, c, err, -ENOENT, 0,
		    "cannot open: No such file or directory");

	ret = bwe_config_load(DATA_DIR, &c, err, sizeof(err));
	check_error("directory", DATA_DIR, ret, c, err, -EISDIR, 0, "is a directory");

	snprintf(big, sizeof(big), "%s/big.yaml", tmpdir);
	f = fopen(big, "w");
	assert_non_null(f);
	assert_int_equal(fseek(f, BWE_CFG_FILE_MAX, SEEK_SET), 0);
	fputc('\n', f);
	assert_int_equal(fclose(f), 0);
	ret = bwe_config_load(big, &c, err, sizeof(err));
	unlink(big);
	check_error("too large", big, ret, c, err, -EFBIG, 0, "larger than 1048576 bytes");
}

/* err may be NULL or short; the message is cut, never overrun. */
static void test_err_buffer(void **state)
{
	struct bwe_cfgfile *c = NULL;
	char small[8];

	(void)state;
	assert_int_equal(load_text("interfaces: []\n", &c, NULL, 0), -EINVAL);
	assert_null(c);
	memset(small, 'x', sizeof(small));
	assert_int_equal(load_text("interfaces: []\n", &c, small, sizeof(small)), -EINVAL);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_int_equal(bwe_config_load(NULL, &c, small, sizeof(small)), -EINVAL);
	bwe_config_free(NULL);
}

/* sandbox_user: [a-z_][a-z0-9_-]*, 1..32 bytes (the default is in assert_defaults_*). */
static void test_sandbox_user(void **state)
{
	static const char *const valid[] = {
		"bwfeed",
		"_bwe",
		"bw-feed_1",
		"abcdefghijklmnopqrstuvwxyz_01234",
	};
	static const char *const invalid[] = {
		"Nobody",
		"1feed",
		"-feed",
		"bw.feed",
		"bw feed",
		"\"\"",
		"abcdefghijklmnopqrstuvwxyz_012345", /* 33 bytes */
	};
	char text[TEXT_MAX], err[BWE_CFG_ERR_LEN], want[BWE_CFG_ERR_LEN];
	struct bwe_cfgfile *c = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(valid); i++) {
		snprintf(text, sizeof(text), IF "sandbox_user: %s\n", valid[i]);
		if (load_text(text, &c, err, sizeof(err)))
			fail_msg("%s: %s", valid[i], err);
		assert_string_equal(c->sandbox_user, valid[i]);
		bwe_config_free(c);
		c = NULL;
	}
	for (i = 0; i < ARRAY_SIZE(invalid); i++) {
		snprintf(text, sizeof(text), IF "sandbox_user: %s\n", invalid[i]);
		snprintf(want, sizeof(want), "sandbox_user: \"%s\" is not a user name",
			 strcmp(invalid[i], "\"\"") ? invalid[i] : "");
		check_text(invalid[i], text, 3, want);
	}
}

/* ---- the table of keys and the man page ------------------------------------- */

#define MANPAGE	      "docs/man/bwenforce.yaml.5"
#define KEYS_MAX      256 /* keys of the format */
#define KEY_LEN	      128 /* bytes of a dotted key path */
#define MAN_DEPTH_MAX 8	  /* .RS levels in KEYS */

struct keylist {
	char path[KEYS_MAX][KEY_LEN];
	size_t n;
};

/* "feeds[].name" is documented as "name" under "feeds": "feeds.name". */
static int add_table_key(const char *path, void *ctx)
{
	struct keylist *k = ctx;
	char *d;

	assert_true(k->n < KEYS_MAX);
	assert_true(strlen(path) < KEY_LEN);
	for (d = k->path[k->n]; *path; path++)
		if (*path != '[' && *path != ']')
			*d++ = *path;
	*d = '\0';
	k->n++;
	return 0;
}

/*
 * The keys of the man page's KEYS section: a ".B key" right after a ".TP",
 * nested by ".RS" / ".RE" under the key before the ".RS".
 */
static void man_keys(struct keylist *k)
{
	char line[1024], stack[MAN_DEPTH_MAX][KEY_LEN], last[KEY_LEN] = "";
	bool in_keys = false, after_tp = false;
	size_t depth = 0, i, used;
	FILE *f = fopen(MANPAGE, "r");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, ".SH ", 4))
			in_keys = !strcmp(line, ".SH KEYS");
		if (!in_keys)
			continue;
		if (!strcmp(line, ".RS")) {
			assert_true(depth < MAN_DEPTH_MAX);
			memcpy(stack[depth++], last, sizeof(last));
		} else if (!strcmp(line, ".RE")) {
			assert_true(depth > 0);
			depth--;
		} else if (after_tp && !strncmp(line, ".B ", 3)) {
			assert_true(k->n < KEYS_MAX);
			snprintf(last, sizeof(last), "%.*s", KEY_LEN - 1, line + 3);
			for (used = 0, i = 0; i < depth; i++)
				used += (size_t)snprintf(k->path[k->n] + used, KEY_LEN - used,
							 "%s.", stack[i]);
			snprintf(k->path[k->n] + used, KEY_LEN - used, "%s", last);
			k->n++;
		}
		after_tp = !strcmp(line, ".TP");
	}
	fclose(f);
	assert_int_equal(depth, 0);
}

static bool keylist_has(const struct keylist *k, const char *path)
{
	size_t i;

	for (i = 0; i < k->n; i++)
		if (!strcmp(k->path[i], path))
			return true;
	return false;
}

/* Stops the walk at the first key: its non-zero value comes back. */
static int stop_at_first(const char *path, void *ctx)
{
	(void)ctx;
	return !strcmp(path, "interfaces") ? 42 : -1;
}

/* Every key the loader knows is in bwenforce.yaml(5), and nothing else is. */
static void test_keys_documented(void **state)
{
	static struct keylist table, man;
	size_t i;

	(void)state;
	assert_int_equal(bwe_config_keys(add_table_key, &table), 0);
	man_keys(&man);
	assert_true(table.n > 0);
	assert_true(keylist_has(&table, "feeds.refresh"));
	assert_true(keylist_has(&table, "policy.signals.spike.z"));
	assert_true(keylist_has(&table, "sandbox_user"));
	for (i = 0; i < table.n; i++)
		if (!keylist_has(&man, table.path[i]))
			fail_msg("key %s is not in %s", table.path[i], MANPAGE);
	for (i = 0; i < man.n; i++)
		if (!keylist_has(&table, man.path[i]))
			fail_msg("%s documents %s, which the loader does not know", MANPAGE,
				 man.path[i]);
	assert_int_equal(table.n, man.n);
	assert_int_equal(bwe_config_keys(stop_at_first, NULL), 42);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(bwe_attach_mode_name(BWE_MODE_AUTO), "auto");
	assert_string_equal(bwe_attach_mode_name(BWE_MODE_NATIVE), "native");
	assert_string_equal(bwe_attach_mode_name(BWE_MODE_GENERIC), "generic");
	assert_string_equal(bwe_attach_mode_name((enum bwe_attach_mode)42), "?");
	assert_string_equal(bwe_feed_action_name(BWE_ACT_DROP), "drop");
	assert_string_equal(bwe_feed_action_name(BWE_ACT_MONITOR), "monitor");
}

/* ---- policy -------------------------------------------------------------- */

#define POLICIES "policies"
#define EXAMPLES "policies/examples"
/* "policy:" on line 3, its keys from line 4 */
#define POL	 IF "policy:\n"
/* "rules:" on line 4, the first rule on line 5 */
#define RULES	 POL "  rules:\n"
/* one expected activity on line 5 */
#define EXPECTED(hosts, peers, sched) \
	POL "  expected:\n    - { name: backup, hosts: " hosts ", peers: " peers \
	    ", schedule: \"" sched "\", max_rate: 100mbit }\n"

/* Every field of the default policy (detect.h), as loaded. */
static void assert_policy_default(const struct bwe_policy *p)
{
	struct bwe_policy want;
	const struct bwe_rule *r;

	bwe_policy_default(&want);
	assert_int_equal(p->monitor_only, 0);
	assert_int_equal(p->interval_s, 10);
	assert_int_equal(p->learning_s, 3600);
	assert_int_equal(p->hour_of_week, 0);
	assert_int_equal(p->peer_sketches, 1);
	assert_int_equal(p->n_windows, 3);
	assert_int_equal(p->windows_s[0], 60);
	assert_int_equal(p->windows_s[1], 300);
	assert_int_equal(p->windows_s[2], 900);
	assert_int_equal(p->never_quarantine.n, 0);
	assert_null(p->never_quarantine.v);
	assert_int_equal(p->max_quarantines_per_hour, 5);
	assert_int_equal(p->spike.window_s, 300);
	assert_true(p->spike.z == 4.0);
	assert_int_equal(p->spike.min_rate, 125000);
	assert_int_equal(p->spike.sustain, 3);
	assert_true(p->spike.min_sd_share == 0.1);
	assert_int_equal(p->spike.min_sd_rate, 12500);
	assert_int_equal(p->blocklist.min_hits, 1);
	assert_int_equal(p->blocklist.window_s, 900);
	assert_true(p->nonstd_ports.share == 0.5);
	assert_int_equal(p->nonstd_ports.min_bytes, 10 << 20);
	assert_true(p->upload_ratio.ratio == 4.0);
	assert_int_equal(p->upload_ratio.min_bytes, 50 << 20);
	assert_int_equal(p->fanout.peers, 200);
	assert_int_equal(p->fanout.ports, 100);
	assert_int_equal(p->fanout.window_s, 300);
	assert_int_equal(p->new_host.bytes, 100 << 20);
	assert_int_equal(p->proxyware.min_hits, 1);
	assert_int_equal(p->proxyware.window_s, 900);
	assert_int_equal(p->n_expected, 0);
	assert_null(p->expected);
	assert_true(p->relay.concentration == 0.6);
	assert_int_equal(p->relay.top_peers, 3);
	assert_int_equal(p->relay.spread_peers, 20);
	assert_true(p->relay.balance == 2.0);
	assert_true(p->relay.overlap == 0.85);
	assert_int_equal(p->relay.min_bytes, 4 << 20);
	assert_int_equal(p->beacon.min_intervals, 7);
	assert_true(p->beacon.max_jitter == 0.1);
	assert_int_equal(p->beacon.min_period_s, 10);
	assert_int_equal(p->beacon.max_period_s, 3600);
	assert_int_equal(p->beacon.burst_ms, 1000);
	assert_int_equal(p->beacon.sample, 1);
	assert_int_equal(p->beacon.n_ignore_ports, 2);
	assert_int_equal(p->beacon.ignore_ports[0], 53);
	assert_int_equal(p->beacon.ignore_ports[1], 123);
	assert_int_equal(p->flood.min_pps, 1000);
	assert_int_equal(p->flood.max_size, 600);
	assert_true(p->flood.concentration == 0.5);
	assert_true(p->flood.reply == 0.1);
	assert_int_equal(p->n_rules, 5);
	r = &p->rules[0];
	assert_string_equal(r->name, "upload-throttle");
	assert_int_equal(r->signals, 1U << BWE_SIG_SPIKE | 1U << BWE_SIG_UPLOAD_RATIO);
	assert_int_equal(r->min_signals, 2);
	assert_int_equal(r->action, BWE_RESP_THROTTLE);
	assert_int_equal(r->rate, 625000);
	assert_int_equal(r->ttl_s, 1800);
	assert_int_equal(r->cooldown_s, 600);
	assert_int_equal(r->n_escalation, 3);
	assert_int_equal(r->escalation_s[2], 86400);
	r = &p->rules[1];
	assert_string_equal(r->name, "corroborated-quarantine");
	assert_int_equal(r->min_signals, 2);
	assert_int_equal(r->action, BWE_RESP_QUARANTINE);
	assert_true(r->signals & (1U << BWE_SIG_PROXYWARE));
	assert_true(r->signals & (1U << BWE_SIG_FLOOD));
	/* spike and upload_ratio are one fact: they never quarantine together */
	assert_false(r->signals & (1U << BWE_SIG_UPLOAD_RATIO));
	r = &p->rules[2];
	assert_string_equal(r->name, "blocklist-alert");
	assert_int_equal(r->action, BWE_RESP_ALERT);
	assert_int_equal(r->ttl_s, 0);
	r = &p->rules[1];
	assert_int_equal(r->signals & (1U << BWE_SIG_RELAY | 1U << BWE_SIG_BEACON),
			 1U << BWE_SIG_RELAY | 1U << BWE_SIG_BEACON);
	r = &p->rules[3];
	assert_string_equal(r->name, "proxyware-alert");
	assert_int_equal(r->signals, 1U << BWE_SIG_PROXYWARE);
	r = &p->rules[4];
	assert_string_equal(r->name, "behaviour-alert");
	assert_int_equal(r->signals,
			 1U << BWE_SIG_RELAY | 1U << BWE_SIG_BEACON | 1U << BWE_SIG_FLOOD);
	assert_int_equal(r->min_signals, 1);
	assert_int_equal(r->action, BWE_RESP_ALERT);
	/* and nothing else differs, padding included */
	assert_memory_equal(p, &want, sizeof(want));
}

static void test_policy_defaults(void **state)
{
	struct bwe_cfgfile *c = NULL;
	char err[BWE_CFG_ERR_LEN];
	static const char *const texts[] = {
		IF,		    /* no policy */
		POL,		    /* an empty one */
		POL "  signals:\n", /* empty signals */
		POL "  signals:\n    spike:\n    fanout: {}\n",
		POL "  never_quarantine: ~\n",
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(texts); i++) {
		c = NULL;
		if (load_text(texts[i], &c, err, sizeof(err)))
			fail_msg("row %zu: %s", i, err);
		assert_policy_default(&c->policy);
		bwe_config_free(c);
	}
	/* a max_ttl below the default TTLs cuts them */
	c = NULL;
	if (load_text(IF "max_ttl: 2h\n", &c, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(c->policy.rules[0].ttl_s, 1800);
	assert_int_equal(c->policy.rules[0].escalation_s[1], 7200);
	assert_int_equal(c->policy.rules[0].escalation_s[2], 7200);
	assert_int_equal(c->policy.rules[1].ttl_s, 3600);
	assert_int_equal(c->policy.rules[1].escalation_s[1], 7200);
	bwe_config_free(c);

	/* the shipped file writes the default policy out */
	c = NULL;
	if (bwe_config_load(SHIPPED, &c, err, sizeof(err)))
		fail_msg("%s", err);
	assert_policy_default(&c->policy);
	bwe_config_free(c);
}

static void test_policy_full(void **state)
{
	static const char text[] = IF
		"max_ttl: 2d\n"
		"policy:\n"
		"  monitor_only: true\n"
		"  interval: 5s\n"
		"  learning_period: 2h\n"
		"  hour_of_week: true\n"
		"  peer_sketches: false\n"
		"  windows: [ 30s, 10m ]\n"
		"  never_quarantine: [ 198.18.0.1/32, \"2001:db8::/64\" ]\n"
		"  max_quarantines_per_hour: 0\n"
		"  signals:\n"
		"    spike: { window: 10m, z: 2.5, min_rate: 2MB/s, sustain: 6,"
		" min_sd_share: 0.25, min_sd_rate: 1mbit }\n"
		"    blocklist: { min_hits: 10, window: 1h }\n"
		"    nonstd_ports: { share: 0.75, min_bytes: 1G, window: 30m }\n"
		"    upload_ratio: { ratio: 1.5, min_bytes: 0, window: 5m }\n"
		"    fanout: { peers: 1000, ports: 65535, window: 1m }\n"
		"    new_host: { bytes: 1k, window: 1h }\n"
		"  rules:\n"
		"    - name: only.new_host_1\n"
		"      signals: [ new_host, fanout ]\n"
		"      min_signals: 2\n"
		"      action: throttle\n"
		"      rate: 1.5mbit\n"
		"      escalation: [ 1m, 1m, 2d ]\n"
		"      cooldown: 30d\n"
		"      repeat_window: 365d\n"
		"    - { name: q, signals: [ upload_ratio ], action: quarantine, ttl: 2d }\n";
	struct bwe_cfgfile *c = NULL;
	char err[BWE_CFG_ERR_LEN];
	const struct bwe_policy *p;
	const struct bwe_rule *r;

	(void)state;
	if (load_text(text, &c, err, sizeof(err)))
		fail_msg("%s", err);
	p = &c->policy;
	assert_int_equal(p->monitor_only, 1);
	assert_int_equal(p->interval_s, 5);
	assert_int_equal(p->learning_s, 7200);
	assert_int_equal(p->hour_of_week, 1);
	assert_int_equal(p->peer_sketches, 0);
	assert_int_equal(p->n_windows, 2);
	assert_int_equal(p->windows_s[0], 30);
	assert_int_equal(p->windows_s[1], 600);
	assert_int_equal(p->never_quarantine.n, 2);
	assert_prefix(&p->never_quarantine.v[0], "198.18.0.1");
	assert_prefix(&p->never_quarantine.v[1], "2001:db8::/64");
	assert_int_equal(p->max_quarantines_per_hour, 0);
	assert_int_equal(p->spike.window_s, 600);
	assert_true(p->spike.z == 2.5);
	assert_int_equal(p->spike.min_rate, 2000000);
	assert_int_equal(p->spike.sustain, 6);
	assert_true(p->spike.min_sd_share == 0.25);
	assert_int_equal(p->spike.min_sd_rate, 125000);
	assert_int_equal(p->blocklist.min_hits, 10);
	assert_int_equal(p->blocklist.window_s, 3600);
	assert_true(p->nonstd_ports.share == 0.75);
	assert_int_equal(p->nonstd_ports.min_bytes, 1 << 30);
	assert_int_equal(p->nonstd_ports.window_s, 1800);
	assert_true(p->upload_ratio.ratio == 1.5);
	assert_int_equal(p->upload_ratio.min_bytes, 0);
	assert_int_equal(p->upload_ratio.window_s, 300);
	assert_int_equal(p->fanout.peers, 1000);
	assert_int_equal(p->fanout.ports, 65535);
	assert_int_equal(p->fanout.window_s, 60);
	assert_int_equal(p->new_host.bytes, 1024);
	assert_int_equal(p->new_host.window_s, 3600);
	assert_int_equal(p->n_rules, 2);
	r = &p->rules[0];
	assert_string_equal(r->name, "only.new_host_1");
	assert_int_equal(r->signals, (1U << BWE_SIG_NEW_HOST) | (1U << BWE_SIG_FANOUT));
	assert_int_equal(r->min_signals, 2);
	assert_int_equal(r->action, BWE_RESP_THROTTLE);
	assert_int_equal(r->rate, 187500);
	assert_int_equal(r->ttl_s, 60); /* the first escalation step */
	assert_int_equal(r->n_escalation, 3);
	assert_int_equal(r->escalation_s[1], 60);
	assert_int_equal(r->escalation_s[2], 2 * 86400);
	assert_int_equal(r->cooldown_s, 30 * 86400);
	assert_int_equal(r->repeat_window_s, 365 * 86400);
	r = &p->rules[1];
	assert_string_equal(r->name, "q");
	assert_int_equal(r->min_signals, 1);
	assert_int_equal(r->action, BWE_RESP_QUARANTINE);
	assert_int_equal(r->rate, 0);
	assert_int_equal(r->ttl_s, 2 * 86400);
	assert_int_equal(r->n_escalation, 0);
	assert_int_equal(r->cooldown_s, 600);
	assert_int_equal(r->repeat_window_s, 86400);
	bwe_config_free(c);

	/* no rules at all: signals only */
	c = NULL;
	if (load_text(RULES, &c, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(c->policy.n_rules, 0);
	bwe_config_free(c);
	c = NULL;
	if (load_text(POL "  rules: []\n", &c, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(c->policy.n_rules, 0);
	bwe_config_free(c);
}

/* Every shipped file loads: the main one and the examples. */
static void test_policy_files(void **state)
{
	static const char *const dirs[] = { POLICIES, EXAMPLES };
	char path[PATH_MAX], err[BWE_CFG_ERR_LEN];
	struct bwe_cfgfile *c;
	const struct dirent *e;
	size_t i, n = 0, len;
	bool strict = false, monitor = false;
	DIR *d;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(dirs); i++) {
		d = opendir(dirs[i]);
		assert_non_null(d);
		while ((e = readdir(d))) {
			len = strlen(e->d_name);
			if (len < 5 || strcmp(e->d_name + len - 5, ".yaml"))
				continue;
			snprintf(path, sizeof(path), "%s/%s", dirs[i], e->d_name);
			c = NULL;
			if (bwe_config_load(path, &c, err, sizeof(err)))
				fail_msg("%s", err);
			if (!strcmp(e->d_name, "strict.yaml")) {
				strict = true;
				assert_int_equal(c->policy.monitor_only, 0);
				assert_int_equal(c->policy.hour_of_week, 1);
				assert_int_equal(c->policy.never_quarantine.n, 1);
				assert_string_equal(c->policy.rules[0].name,
						    "blocklist-quarantine");
				assert_int_equal(c->policy.rules[0].action, BWE_RESP_QUARANTINE);
			}
			if (!strcmp(e->d_name, "monitor-only.yaml")) {
				monitor = true;
				assert_int_equal(c->policy.monitor_only, 1);
				assert_int_equal(c->policy.n_rules, 8);
			}
			bwe_config_free(c);
			n++;
		}
		closedir(d);
	}
	assert_true(strict && monitor);
	assert_true(n >= 3);
}

#define LONG_32 "abcdefghijklmnopqrstuvwxyz012345"

static const struct {
	const char *desc;
	const char *yaml;
	unsigned int line; /* 0: no line in the message */
	const char *want;
} policy_error_cases[] = {
	/* shape */
	{ "policy as list", IF "policy: [ a ]\n", 3,
	  "policy: expected a mapping, found a sequence" },
	{ "unknown policy key", POL "  intervall: 10s\n", 4,
	  "policy: unknown key \"intervall\" (did you mean \"interval\"?)" },
	{ "unknown signal", POL "  signals:\n    spikes: {}\n", 5,
	  "policy.signals: unknown key \"spikes\" (did you mean \"spike\"?)" },
	{ "unknown signal key", POL "  signals:\n    spike: { windw: 5m }\n", 5,
	  "policy.signals.spike: unknown key \"windw\" (did you mean \"window\"?)" },
	{ "unknown rule key",
	  RULES "    - { name: a, signals: [ spike ], action: alert, cooldwn: 1m }\n", 5,
	  "policy.rules[0]: unknown key \"cooldwn\" (did you mean \"cooldown\"?)" },
	{ "rule as scalar", RULES "    - spike-throttle\n", 5,
	  "policy.rules[0]: expected a mapping, found a scalar value" },
	{ "rule signals as scalar", RULES "    - { name: a, signals: spike, action: alert }\n", 5,
	  "policy.rules[0].signals: expected a sequence, found a scalar value" },
	{ "duplicate signal section", POL "  signals:\n    fanout: {}\n    fanout: {}\n", 6,
	  "policy.signals: duplicate key \"fanout\" (first on line 5)" },
	{ "relay top_peers 4", POL "  signals:\n    relay: { top_peers: 4 }\n", 5,
	  "policy.signals.relay.top_peers: 4 is above the maximum of 3" },
	{ "relay concentration 1.5", POL "  signals:\n    relay: { concentration: 1.5 }\n", 5,
	  "policy.signals.relay.concentration: 1.5 is outside 0..1 (a share: 0.5 is half)" },
	{ "beacon min_intervals 1", POL "  signals:\n    beacon: { min_intervals: 1 }\n", 5,
	  "policy.signals.beacon.min_intervals: 1 is below the minimum of 2" },
	{ "beacon periods crossed",
	  POL "  signals:\n    beacon: { min_period: 10m, max_period: 1m }\n", 5,
	  "policy.signals.beacon.max_period: 1m is shorter than min_period (10m)" },
	{ "beacon max_period default below min_period",
	  POL "  signals:\n    beacon: { min_period: 2h }\n", 5,
	  "policy.signals.beacon.max_period: 1h (the default) is shorter than min_period (2h)" },
	{ "beacon burst as long as min_period",
	  POL "  signals:\n    beacon: { min_period: 1s, burst_ms: 1000 }\n", 5,
	  "policy.signals.beacon.burst_ms: 1000 is not shorter than min_period (1s)" },
	{ "beacon ignore_ports 0", POL "  signals:\n    beacon: { ignore_ports: [ 0 ] }\n", 5,
	  "policy.signals.beacon.ignore_ports[0]: 0 is below the minimum of 1" },
	{ "flood min_pps 0", POL "  signals:\n    flood: { min_pps: 0 }\n", 5,
	  "policy.signals.flood.min_pps: 0 is below the minimum of 1" },
	{ "flood max_size 32", POL "  signals:\n    flood: { max_size: 32 }\n", 5,
	  "policy.signals.flood.max_size: 32 is below the minimum of 64 bytes" },
	{ "flood max_size 70000", POL "  signals:\n    flood: { max_size: 70000 }\n", 5,
	  "policy.signals.flood.max_size: 70000 is above the maximum of 65535 bytes" },
	{ "flood max_size not a size", POL "  signals:\n    flood: { max_size: big }\n", 5,
	  "policy.signals.flood.max_size: \"big\" is not a size (bytes, or with k, M, G, T: "
	  "\"1500\", \"64k\", \"256M\")" },
	{ "flood concentration 1.5", POL "  signals:\n    flood: { concentration: 1.5 }\n", 5,
	  "policy.signals.flood.concentration: 1.5 is outside 0..1 (a share: 0.5 is half)" },
	{ "flood reply 2", POL "  signals:\n    flood: { reply: 2 }\n", 5,
	  "policy.signals.flood.reply: 2 is outside 0..1 (a share: 0.5 is half)" },

	/* globals */
	{ "monitor_only yes", POL "  monitor_only: yes\n", 4,
	  "policy.monitor_only: \"yes\" is not true or false" },
	{ "hour_of_week 1", POL "  hour_of_week: 1\n", 4,
	  "policy.hour_of_week: \"1\" is not true or false" },
	{ "interval 0", POL "  interval: 0\n", 4, "policy.interval: \"0\" is not a duration" },
	{ "interval 2h", POL "  interval: 2h\n", 4,
	  "policy.interval: 2h is above the maximum of 1h" },
	{ "learning shorter than interval", POL "  interval: 1m\n  learning_period: 30s\n", 5,
	  "policy.learning_period: 30s is shorter than the interval (1m)" },
	{ "learning 31d", POL "  learning_period: 31d\n", 4,
	  "policy.learning_period: 31d is above the maximum of 30d" },
	{ "no windows", POL "  windows: []\n", 4,
	  "policy.windows: at least one window is required" },
	{ "five windows", POL "  windows: [ 1m, 2m, 3m, 4m, 5m ]\n", 4,
	  "policy.windows[4]: at most 4 windows" },
	{ "window below interval", POL "  windows: [ 5s ]\n", 4,
	  "policy.windows[0]: 5s is below the minimum of 10s" },
	{ "window above a day", POL "  windows:\n    - 5m\n    - 2d\n", 6,
	  "policy.windows[1]: 2d is above the maximum of 1d" },
	{ "window twice", POL "  windows: [ 1m, 60s ]\n", 4,
	  "policy.windows[1]: 60s is listed twice (also policy.windows[0])" },
	{ "never_quarantine bad", POL "  never_quarantine: [ 10.0.0.0/33 ]\n", 4,
	  "policy.never_quarantine[0]: \"10.0.0.0/33\" is not an address or CIDR" },
	{ "never_quarantine host bits", POL "  never_quarantine:\n    - 10.0.0.1/24\n", 5,
	  "policy.never_quarantine[0]: \"10.0.0.1/24\" has host bits set (did you mean 10.0.0.0/24?)" },
	{ "never_quarantine twice", POL "  never_quarantine: [ 10.0.0.1, 10.0.0.1/32 ]\n", 4,
	  "policy.never_quarantine[1]: \"10.0.0.1/32\" is listed twice (also policy.never_quarantine[0])" },
	{ "quarantines per hour", POL "  max_quarantines_per_hour: 1001\n", 4,
	  "policy.max_quarantines_per_hour: 1001 is above the maximum of 1000" },
	{ "quarantines negative", POL "  max_quarantines_per_hour: -1\n", 4,
	  "policy.max_quarantines_per_hour: \"-1\" is not a whole number" },

	/* signals */
	{ "spike window not a baseline", POL "  signals:\n    spike: { window: 10m }\n", 5,
	  "policy.signals.spike.window: 10m is not one of policy.windows (1m, 5m, 15m)" },
	{ "default spike window gone", POL "  windows: [ 1m, 15m ]\n", 3,
	  "policy.signals.spike.window: 5m (the default) is not one of policy.windows (1m, 15m)" },
	{ "z zero", POL "  signals:\n    spike: { z: 0 }\n", 5,
	  "policy.signals.spike.z: 0 must be above 0" },
	{ "z negative", POL "  signals:\n    spike: { z: -4 }\n", 5,
	  "policy.signals.spike.z: \"-4\" is not a number" },
	{ "z exponent", POL "  signals:\n    spike: { z: 1e1 }\n", 5,
	  "policy.signals.spike.z: \"1e1\" is not a number" },
	{ "z two dots", POL "  signals:\n    spike: { z: 4.0.1 }\n", 5,
	  "policy.signals.spike.z: \"4.0.1\" is not a number" },
	{ "z too big", POL "  signals:\n    spike: { z: 101 }\n", 5,
	  "policy.signals.spike.z: 101 is above the maximum of 100" },
	{ "min_rate mbps", POL "  signals:\n    spike: { min_rate: 10mbps }\n", 5,
	  "policy.signals.spike.min_rate: \"10mbps\" is not a rate" },
	{ "min_rate zero", POL "  signals:\n    spike: { min_rate: 0 }\n", 5,
	  "policy.signals.spike.min_rate: 0 is outside 8bit..100gbit" },
	{ "sustain zero", POL "  signals:\n    spike:\n      sustain: 0\n", 6,
	  "policy.signals.spike.sustain: 0 is below the minimum of 1" },
	{ "sd share above 1", POL "  signals:\n    spike: { min_sd_share: 1.5 }\n", 5,
	  "policy.signals.spike.min_sd_share: 1.5 is outside 0..1" },
	{ "sd rate bad", POL "  signals:\n    spike: { min_sd_rate: fast }\n", 5,
	  "policy.signals.spike.min_sd_rate: \"fast\" is not a rate" },
	{ "blocklist min_hits 0", POL "  signals:\n    blocklist: { min_hits: 0 }\n", 5,
	  "policy.signals.blocklist.min_hits: 0 is below the minimum of 1" },
	{ "blocklist window 1s", POL "  signals:\n    blocklist: { window: 1s }\n", 5,
	  "policy.signals.blocklist.window: 1s is below the minimum of 10s" },
	{ "share in percent", POL "  signals:\n    nonstd_ports: { share: 50% }\n", 5,
	  "policy.signals.nonstd_ports.share: \"50%\" is not a number" },
	{ "min_bytes with space", POL "  signals:\n    nonstd_ports: { min_bytes: 10 MB }\n", 5,
	  "policy.signals.nonstd_ports.min_bytes: \"10 MB\" is not a size" },
	{ "min_bytes 2T", POL "  signals:\n    upload_ratio: { min_bytes: 2T }\n", 5,
	  "policy.signals.upload_ratio.min_bytes: 2T is above the maximum of 1099511627776 bytes" },
	{ "ratio zero", POL "  signals:\n    upload_ratio: { ratio: 0.0 }\n", 5,
	  "policy.signals.upload_ratio.ratio: 0.0 must be above 0" },
	{ "peers word", POL "  signals:\n    fanout: { peers: many }\n", 5,
	  "policy.signals.fanout.peers: \"many\" is not a whole number" },
	{ "ports above 65535", POL "  signals:\n    fanout: { ports: 70000 }\n", 5,
	  "policy.signals.fanout.ports: 70000 is above the maximum of 65535" },
	{ "new_host zero bytes", POL "  signals:\n    new_host: { bytes: 0 }\n", 5,
	  "policy.signals.new_host.bytes: 0 is below the minimum of 1 bytes" },
	{ "new_host window 2d", POL "  signals:\n    new_host: { window: 2d }\n", 5,
	  "policy.signals.new_host.window: 2d is above the maximum of 1d" },

	/* rules */
	{ "rule without name", RULES "    - { signals: [ spike ], action: alert }\n", 5,
	  "policy.rules[0].name: required key missing" },
	{ "rule name with space",
	  RULES "    - { name: my rule, signals: [ spike ], action: alert }\n", 5,
	  "policy.rules[0].name: \"my rule\" is not a rule name (1..31" },
	{ "rule name too long",
	  RULES "    - { name: " LONG_32 ", signals: [ spike ], action: alert }\n", 5,
	  "policy.rules[0].name: \"" LONG_32 "\" is not a rule name" },
	{ "duplicate rule name",
	  RULES "    - { name: a, signals: [ spike ], action: alert }\n"
		"    - { name: a, signals: [ fanout ], action: alert }\n",
	  6, "policy.rules[1].name: duplicate rule name \"a\" (also policy.rules[0])" },
	{ "rule without signals", RULES "    - { name: a, action: alert }\n", 5,
	  "policy.rules[0].signals: required key missing" },
	{ "rule with no signals", RULES "    - { name: a, signals: [], action: alert }\n", 5,
	  "policy.rules[0].signals: at least one signal is required" },
	{ "unknown signal in a rule",
	  RULES
	  "    - name: a\n      signals:\n        - spike\n        - spikes\n      action: alert\n",
	  8,
	  "policy.rules[0].signals[1]: \"spikes\" is not one of spike, blocklist, nonstd_ports, upload_ratio, fanout, new_host, proxyware" },
	{ "signal twice in a rule",
	  RULES "    - { name: a, signals: [ spike, fanout, spike ], action: alert }\n", 5,
	  "policy.rules[0].signals[2]: \"spike\" is listed twice (also policy.rules[0].signals[0])" },
	{ "min_signals above the list",
	  RULES "    - name: a\n      signals: [ spike, blocklist ]\n      min_signals: 3\n"
		"      action: alert\n",
	  7, "policy.rules[0].min_signals: 3 is more than the 2 signals listed" },
	{ "min_signals zero",
	  RULES "    - { name: a, signals: [ spike ], min_signals: 0, action: alert }\n", 5,
	  "policy.rules[0].min_signals: 0 is below the minimum of 1" },
	{ "rule without action", RULES "    - { name: a, signals: [ spike ] }\n", 5,
	  "policy.rules[0].action: required key missing" },
	{ "bad action", RULES "    - { name: a, signals: [ spike ], action: block }\n", 5,
	  "policy.rules[0].action: \"block\" is not one of alert, throttle, quarantine" },
	{ "throttle without rate",
	  RULES "    - name: a\n      signals: [ spike ]\n      action: throttle\n      ttl: 1h\n",
	  5, "policy.rules[0].rate: required for a throttle rule" },
	{ "rate on a quarantine",
	  RULES "    - name: a\n      signals: [ spike ]\n      action: quarantine\n"
		"      rate: 5mbit\n      ttl: 1h\n",
	  8, "policy.rules[0].rate: applies only to throttle rules" },
	{ "bad throttle rate",
	  RULES "    - { name: a, signals: [ spike ], action: throttle, rate: 5Mb, ttl: 1h }\n", 5,
	  "policy.rules[0].rate: \"5Mb\" is not a rate" },
	{ "throttle without ttl",
	  RULES "    - { name: a, signals: [ spike ], action: throttle, rate: 1mbit }\n", 5,
	  "policy.rules[0].ttl: required for a throttle rule (or an escalation list)" },
	{ "quarantine without ttl",
	  RULES "    - { name: a, signals: [ spike ], action: quarantine }\n", 5,
	  "policy.rules[0].ttl: required for a quarantine rule" },
	{ "alert with ttl",
	  RULES "    - name: a\n      signals: [ spike ]\n      action: alert\n      ttl: 1h\n", 8,
	  "policy.rules[0].ttl: applies only to throttle and quarantine rules" },
	{ "alert with escalation",
	  RULES "    - { name: a, signals: [ spike ], action: alert, escalation: [ 1h ] }\n", 5,
	  "policy.rules[0].escalation: applies only to throttle and quarantine rules" },
	{ "compound ttl",
	  RULES "    - { name: a, signals: [ spike ], action: quarantine, ttl: 1h30m }\n", 5,
	  "policy.rules[0].ttl: \"1h30m\" is not a duration" },
	{ "ttl above max_ttl",
	  IF "max_ttl: 1h\npolicy:\n  rules:\n"
	     "    - { name: a, signals: [ spike ], action: quarantine, ttl: 2h }\n",
	  6, "policy.rules[0].ttl: 2h is above max_ttl (1h)" },
	{ "escalation step above max_ttl",
	  IF "max_ttl: 1d\npolicy:\n  rules:\n"
	     "    - { name: a, signals: [ spike ], action: quarantine, escalation: [ 1h, 2d ] }\n",
	  6, "policy.rules[0].escalation[1]: 2d is above max_ttl (1d)" },
	{ "escalation shrinks",
	  RULES "    - name: a\n      signals: [ spike ]\n      action: quarantine\n"
		"      escalation:\n        - 1h\n        - 30m\n",
	  10, "policy.rules[0].escalation[1]: 30m is shorter than the step before (1h)" },
	{ "escalation differs from ttl",
	  RULES "    - { name: a, signals: [ spike ], action: quarantine, ttl: 30m,"
		" escalation: [ 1h, 2h ] }\n",
	  5,
	  "policy.rules[0].escalation[0]: 1h differs from ttl (30m): the first step is the first TTL" },
	{ "empty escalation",
	  RULES
	  "    - { name: a, signals: [ spike ], action: quarantine, ttl: 1h, escalation: [] }\n",
	  5, "policy.rules[0].escalation: at least one step is required" },
	{ "nine escalation steps",
	  RULES "    - { name: a, signals: [ spike ], action: quarantine,"
		" escalation: [ 1h, 1h, 1h, 1h, 1h, 1h, 1h, 1h, 1h ] }\n",
	  5, "policy.rules[0].escalation[8]: at most 8 steps" },
	{ "cooldown 0", RULES "    - { name: a, signals: [ spike ], action: alert, cooldown: 0 }\n",
	  5, "policy.rules[0].cooldown: \"0\" is not a duration" },
	{ "cooldown 31d",
	  RULES "    - { name: a, signals: [ spike ], action: alert, cooldown: 31d }\n", 5,
	  "policy.rules[0].cooldown: 31d is above the maximum of 30d" },
	{ "repeat_window months",
	  RULES "    - { name: a, signals: [ spike ], action: alert, repeat_window: 1M }\n", 5,
	  "policy.rules[0].repeat_window: \"1M\" is not a duration" },
	{ "second rule",
	  RULES "    - { name: a, signals: [ spike ], action: alert }\n"
		"    - { name: b, signals: [ spike ], action: throttle, ttl: 1h }\n",
	  6, "policy.rules[1].rate: required for a throttle rule" },

	/* signals.proxyware, feeds[].signal */
	{ "proxyware min_hits 0", POL "  signals:\n    proxyware: { min_hits: 0 }\n", 5,
	  "policy.signals.proxyware.min_hits: 0 is below the minimum of 1" },
	{ "feed signal unknown",
	  IF "feeds:\n  - { name: pw, source: /etc/pw.txt, signal: mining }\n", 4,
	  "feeds[0].signal: \"mining\" is not one of blocklist, proxyware" },

	/* expected activity */
	{ "expected: without the peer sketches",
	  POL "  peer_sketches: false\n  expected:\n    - { name: backup, hosts: [ 10.0.0.20 ], "
	      "peers: [ 203.0.113.80 ], schedule: \"Sun 01:00-04:00\", max_rate: 100mbit }\n",
	  5, "policy.expected: needs policy.peer_sketches: an expected activity's upload" },
	{ "peer_sketches off", POL "  peer_sketches: off\n", 4,
	  "policy.peer_sketches: \"off\" is not true or false" },
	{ "expected: schedule times",
	  EXPECTED("[ 10.0.0.20 ]", "[ 203.0.113.80 ]", "Sun 1:00-4:00"), 5,
	  "policy.expected[0].schedule: \"Sun 1:00-4:00\": times are HH:MM-HH:MM" },
	{ "expected: schedule day",
	  EXPECTED("[ 10.0.0.20 ]", "[ 203.0.113.80 ]", "Sunday 01:00-04:00"), 5,
	  "policy.expected[0].schedule: \"Sunday 01:00-04:00\": days are Mon Tue Wed" },
	{ "expected: schedule day range",
	  EXPECTED("[ 10.0.0.20 ]", "[ 203.0.113.80 ]", "Mon-Xyz 01:00-04:00"), 5,
	  "policy.expected[0].schedule: \"Mon-Xyz 01:00-04:00\": days are" },
	{ "expected: schedule no time", EXPECTED("[ 10.0.0.20 ]", "[ 203.0.113.80 ]", "Sun"), 5,
	  "policy.expected[0].schedule: \"Sun\": a window is DAYS HH:MM-HH:MM" },
	{ "expected: schedule 24:30",
	  EXPECTED("[ 10.0.0.20 ]", "[ 203.0.113.80 ]", "Sun 22:00-24:30"), 5,
	  "times are HH:MM-HH:MM from 00:00 to 24:00 (UTC)" },
	{ "expected: schedule starting 24:00",
	  EXPECTED("[ 10.0.0.20 ]", "[ 203.0.113.80 ]", "Sun 24:00-01:00"), 5,
	  "times are HH:MM-HH:MM" },
	{ "expected: empty window",
	  EXPECTED("[ 10.0.0.20 ]", "[ 203.0.113.80 ]", "Sun 01:00-02:00,"), 5,
	  "policy.expected[0].schedule: an empty window" },
	{ "expected: host outside internal_networks",
	  EXPECTED("[ 203.0.113.5 ]", "[ 198.51.100.80 ]", "daily 01:00-02:00"), 5,
	  "policy.expected[0].hosts: 203.0.113.5 is not inside internal_networks" },
	{ "expected: host not an address",
	  EXPECTED("[ backup-server ]", "[ 198.51.100.80 ]", "daily 01:00-02:00"), 5,
	  "policy.expected[0].hosts[0]: \"backup-server\" is not an address or CIDR" },
	{ "expected: no hosts", EXPECTED("[]", "[ 198.51.100.80 ]", "daily 01:00-02:00"), 5,
	  "policy.expected[0].hosts: at least one host is required" },
	{ "expected: internal peer",
	  EXPECTED("[ 10.0.0.20 ]", "[ 10.0.0.0/24 ]", "daily 01:00-02:00"), 5,
	  "policy.expected[0].peers: 10.0.0.0/24 overlaps internal_networks" },
	{ "expected: peers too wide",
	  EXPECTED("[ 10.0.0.20 ]", "[ 203.0.113.0/24, 198.51.96.0/20 ]", "daily 01:00-02:00"), 5,
	  "policy.expected[0].peers: cover more than 1024 addresses" },
	{ "expected: no max_rate",
	  POL "  expected:\n    - { name: b, hosts: [ 10.0.0.20 ], peers: [ 203.0.113.80 ], "
	      "schedule: \"Sun 01:00-04:00\" }\n",
	  5, "policy.expected[0].max_rate: required key missing" },
	{ "expected: duplicate name",
	  POL "  expected:\n    - { name: b, hosts: [ 10.0.0.20 ], peers: [ 203.0.113.80 ], "
	      "schedule: daily 01:00-02:00, max_rate: 1mbit }\n"
	      "    - { name: b, hosts: [ 10.0.0.21 ], peers: [ 203.0.113.80 ], "
	      "schedule: daily 01:00-02:00, max_rate: 1mbit }\n",
	  6, "policy.expected[1].name: duplicate expected activity name \"b\"" },
	{ "expected: port 0",
	  POL "  expected:\n    - { name: b, hosts: [ 10.0.0.20 ], peers: [ 203.0.113.80 ], "
	      "ports: [ 0 ], schedule: daily 01:00-02:00, max_rate: 1mbit }\n",
	  5, "policy.expected[0].ports[0]: 0 is below the minimum of 1" },
};

static void test_policy_errors(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(policy_error_cases); i++)
		check_text(policy_error_cases[i].desc, policy_error_cases[i].yaml,
			   policy_error_cases[i].line, policy_error_cases[i].want);
}

/* One rule more than BWE_POLICY_RULES_MAX. */
static void test_policy_too_many_rules(void **state)
{
	char text[TEXT_MAX], err[BWE_CFG_ERR_LEN];
	struct bwe_cfgfile *c = NULL;
	size_t used;
	int i, ret;

	(void)state;
	used = (size_t)snprintf(text, sizeof(text), RULES);
	for (i = 0; i <= BWE_POLICY_RULES_MAX; i++)
		used += (size_t)snprintf(text + used, sizeof(text) - used,
					 "    - { name: r%d, signals: [ spike ], action: alert }\n",
					 i);
	assert_true(used < sizeof(text));
	ret = load_text(text, &c, err, sizeof(err));
	/* rule i on line 5 + i */
	check_error("17 rules", tmpfile_path, ret, c, err, -EINVAL, 5 + BWE_POLICY_RULES_MAX,
		    "policy.rules[16]: at most 16 rules");
}

/* Lists over their limits: one entry more than allowed. */
static void test_expected_too_long(void **state)
{
	static const struct {
		const char *key, *item_fmt, *want; /* item_fmt: the first two bytes of an address */
		int max;
		unsigned int line;
	} cases[] = {
		{ "hosts", "10.0", "policy.expected[0].hosts[256]: at most 256 hosts",
		  BWE_EXPECTED_HOSTS_MAX, 9 },
		{ "peers", "203.0", "policy.expected[0].peers[64]: at most 64 peers",
		  BWE_EXPECTED_PEERS_MAX, 9 },
		{ "ports", "", "policy.expected[0].ports[32]: at most 32 ports",
		  BWE_EXPECTED_PORTS_MAX, 10 },
	};
	char text[TEXT_MAX], err[BWE_CFG_ERR_LEN];
	struct bwe_cfgfile *c;
	size_t used, k;
	int i, ret;

	(void)state;
	for (k = 0; k < ARRAY_SIZE(cases); k++) {
		used = (size_t)snprintf(text, sizeof(text),
					POL "  expected:\n    - name: b\n      schedule: daily "
					    "01:00-02:00\n      max_rate: 1mbit\n");
		if (strcmp(cases[k].key, "hosts"))
			used += (size_t)snprintf(text + used, sizeof(text) - used,
						 "      hosts: [ 10.0.0.20 ]\n");
		if (strcmp(cases[k].key, "peers"))
			used += (size_t)snprintf(text + used, sizeof(text) - used,
						 "      peers: [ 203.0.113.80 ]\n");
		used += (size_t)snprintf(text + used, sizeof(text) - used, "      %s: [",
					 cases[k].key);
		for (i = 0; i <= cases[k].max; i++) {
			used += (size_t)snprintf(text + used, sizeof(text) - used, i ? ", " : " ");
			if (!strcmp(cases[k].key, "ports"))
				used += (size_t)snprintf(text + used, sizeof(text) - used, "%d",
							 1000 + i);
			else
				used += (size_t)snprintf(text + used, sizeof(text) - used,
							 "%s.%d.%d", cases[k].item_fmt, 1 + i / 200,
							 1 + i % 200);
		}
		used += (size_t)snprintf(text + used, sizeof(text) - used, " ]\n");
		assert_true(used < sizeof(text));
		c = NULL;
		ret = load_text(text, &c, err, sizeof(err));
		check_error(cases[k].key, tmpfile_path, ret, c, err, -EINVAL, cases[k].line,
			    cases[k].want);
	}
	/* and 33 activities */
	used = (size_t)snprintf(text, sizeof(text), POL "  expected:\n");
	for (i = 0; i <= BWE_EXPECTED_MAX; i++)
		used += (size_t)
			snprintf(text + used, sizeof(text) - used,
				 "    - { name: e%d, hosts: [ 10.0.0.20 ], peers: [ 203.0.113.80 ], "
				 "schedule: daily 01:00-02:00, max_rate: 1mbit }\n",
				 i);
	c = NULL;
	ret = load_text(text, &c, err, sizeof(err));
	check_error("33 activities", tmpfile_path, ret, c, err, -EINVAL, 5 + BWE_EXPECTED_MAX,
		    "policy.expected[32]: at most 32 expected activitys");
}

/* The commented-out expected activity of the shipped file is valid once uncommented. */
static void test_shipped_expected_example(void **state)
{
	char text[TEXT_MAX], line[1024], err[BWE_CFG_ERR_LEN];
	struct bwe_cfgfile *c = NULL;
	bool in_expected = false;
	size_t used = 0;
	FILE *f;

	(void)state;
	f = fopen(SHIPPED, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		if (in_expected && !strncmp(line, "  #  ", 5))
			line[2] = ' ';
		else if (strncmp(line, "  #", 3))
			in_expected = !strncmp(line, "  expected:", 11);
		assert_true(used + strlen(line) < sizeof(text));
		memcpy(text + used, line, strlen(line) + 1);
		used += strlen(line);
	}
	fclose(f);
	if (load_text(text, &c, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(c->policy.n_expected, 1);
	assert_string_equal(c->policy.expected[0].name, "weekly-backup");
	assert_int_equal(c->policy.expected[0].n_ports, 1);
	assert_int_equal(c->policy.expected[0].max_rate, 25000000);
	bwe_config_free(c);
}

/* An expected activity as loaded: lists, schedule bits, sketch; a proxyware feed. */
static void test_expected_loaded(void **state)
{
	static const char text[] = IF
		"feeds:\n  - { name: pw, source: /etc/bwenforce/pw.txt, action: monitor, "
		"signal: proxyware }\n  - { name: c2, source: /etc/bwenforce/c2.txt }\n"
		"policy:\n  expected:\n"
		"    - name: weekly-backup\n      hosts: [ 10.0.0.20, 10.0.1.0/24 ]\n"
		"      peers: [ 203.0.113.80/30 ]\n      ports: [ 443, 8443 ]\n"
		"      schedule: \"Sun 01:00-04:00, Sat 23:30-00:30\"\n"
		"      max_rate: 200mbit\n";
	struct bwe_cfgfile *c = NULL;
	char err[BWE_CFG_ERR_LEN];
	const struct bwe_expected *e;
	struct bwe_addr a;
	unsigned int i, set = 0;

	(void)state;
	if (load_text(text, &c, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(c->feeds[0].signal, BWE_FSIG_PROXYWARE);
	assert_int_equal(c->feeds[1].signal, BWE_FSIG_BLOCKLIST);
	assert_int_equal(bwe_cfg_feed_signal(c, "pw"), BWE_FSIG_PROXYWARE);
	assert_int_equal(bwe_cfg_feed_signal(c, "c2"), BWE_FSIG_BLOCKLIST);
	assert_int_equal(bwe_cfg_feed_signal(c, "manual"), BWE_FSIG_BLOCKLIST);
	assert_int_equal(c->policy.n_expected, 1);
	e = &c->policy.expected[0];
	assert_string_equal(e->name, "weekly-backup");
	assert_int_equal(e->n_hosts, 2);
	assert_prefix(&e->hosts[1], "10.0.1.0/24");
	assert_int_equal(e->n_peers, 1);
	assert_int_equal(e->n_ports, 2);
	assert_int_equal(e->ports[1], 8443);
	assert_int_equal(e->max_rate, 25000000);
	assert_string_equal(e->schedule, "Sun 01:00-04:00, Sat 23:30-00:30");
	/* 180 + 60 minutes */
	for (i = 0; i < BWE_SCHEDULE_WORDS; i++)
		set += (unsigned int)__builtin_popcountll(e->sched.bits[i]);
	assert_int_equal(set, 240);
	/* 2026-12-06 is a Sunday: 02:00 in, 04:00 out; Sat 23:45 in */
	assert_true(bwe_schedule_active(&e->sched, 1796522400));
	assert_false(bwe_schedule_active(&e->sched, 1796529600));
	assert_true(bwe_schedule_active(&e->sched, 1796514300));
	assert_int_equal(bwe_addr_parse("10.0.1.7", &a), 0);
	assert_true(bwe_expected_has_host(e, &a));
	assert_int_equal(bwe_addr_parse("10.0.2.7", &a), 0);
	assert_false(bwe_expected_has_host(e, &a));
	/* four peers and two ports: at most four and two registers set */
	for (i = 0, set = 0; i < BWE_HLL_REGS; i++)
		set += !!e->sketch_dst[i];
	assert_true(set >= 1 && set <= 4);
	for (i = 0, set = 0; i < BWE_HLL_REGS; i++)
		set += !!e->sketch_port[i];
	assert_true(set >= 1 && set <= 2);
	bwe_config_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expected_too_long),
		cmocka_unit_test(test_expected_loaded),
		cmocka_unit_test(test_shipped_expected_example),
		cmocka_unit_test(test_shipped),
		cmocka_unit_test(test_shipped_feed_example),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_accepted),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_fixtures),
		cmocka_unit_test(test_too_many_feeds),
		cmocka_unit_test(test_too_many_fast_forward),
		cmocka_unit_test(test_netclass_room),
		cmocka_unit_test(test_io_errors),
		cmocka_unit_test(test_err_buffer),
		cmocka_unit_test(test_sandbox_user),
		cmocka_unit_test(test_keys_documented),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_policy_defaults),
		cmocka_unit_test(test_policy_full),
		cmocka_unit_test(test_policy_files),
		cmocka_unit_test(test_policy_errors),
		cmocka_unit_test(test_policy_too_many_rules),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
