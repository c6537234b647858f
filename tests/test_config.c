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
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

#define ARRAY_SIZE(x)	(sizeof(x) / sizeof((x)[0]))
#define DATA_DIR	"tests/data/config"
#define SHIPPED		"policies/bwenforce.yaml"
#define TEXT_MAX	(64 * 1024)	/* bytes of a generated file */

/* The first two lines of most rows: a valid interfaces list. */
#define IF		"interfaces:\n  - name: lan0\n"
/* A valid feed under IF: "feeds:" on line 3, the feed's keys from line 4. */
#define FEED		IF "feeds:\n  - name: a\n    source: /a\n"

static char tmpdir[PATH_MAX / 2];	/* room for a file name below it */
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
static void check_error(const char *desc, const char *file, int got_ret,
			struct bwe_cfgfile *cfg, const char *err,
			int want_ret, unsigned int line, const char *want)
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
	assert_string_equal(c->paths.pin_dir, "/sys/fs/bpf/bwenforce");
	assert_string_equal(c->paths.state_dir, "/var/lib/bwenforce");
	assert_string_equal(c->paths.socket, "/run/bwenforce/bwctld.sock");
	assert_string_equal(c->paths.event_log, "/var/log/bwenforce/events.json");
	assert_null(c->control_group);
	assert_int_equal(c->monitor_only, 0);
	assert_int_equal(c->event_dedup_s, 60);
	assert_int_equal(c->max_ttl_s, 30 * 24 * 3600);
	assert_int_equal(c->default_burst, 0);
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
	assert_string_equal(c->paths.pin_dir, "/tmp/bwe/bpf");
	assert_string_equal(c->paths.state_dir, "/tmp/bwe/state");
	assert_string_equal(c->paths.socket, "/tmp/bwe/ctl.sock");
	assert_string_equal(c->paths.event_log, "/tmp/bwe/events.json");
	assert_string_equal(c->control_group, "bwadmin");
	assert_int_equal(c->monitor_only, 1);
	assert_int_equal(c->event_dedup_s, 300);
	assert_int_equal(c->max_ttl_s, 7200);
	assert_int_equal(c->default_burst, 65536);

	assert_int_equal(c->n_feeds, 2);
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

	f = &c->feeds[1];	/* only the required keys: defaults */
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
	bwe_config_free(c);
}

/* Forms that are valid though unusual: empty values mean "none"/defaults. */
static void test_accepted(void **state)
{
	struct bwe_cfgfile *c = NULL;
	char err[BWE_CFG_ERR_LEN];

	(void)state;
	if (load_text(IF "exempt:\nallowlist: ~\nfeeds: null\ncontrol_group:\nmaps:\n",
		      &c, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(c->exempt.n, 0);
	assert_int_equal(c->allowlist.n, 0);
	assert_int_equal(c->n_feeds, 0);
	assert_null(c->control_group);
	assert_int_equal(c->maps.hosts, BWE_HOSTS_MAX);
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
	assert_prefix(&c->internal.v[0], "192.0.2.0/24");
	assert_prefix(&c->internal.v[1], "2001:db8::7/128");
	assert_prefix(&c->exempt.v[0], "::1/128");
	assert_prefix(&c->allowlist.v[0], "192.0.2.9/32");
	assert_int_equal(c->monitor_only, 1);
	assert_int_equal(c->event_dedup_s, 90);
	assert_int_equal(c->max_ttl_s, 365 * 24 * 3600);
	assert_int_equal(c->default_burst, 1518);
	bwe_config_free(c);
}

/* ---- errors ------------------------------------------------------------- */

#define LONG_115 \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static const struct {
	const char *desc;
	const char *yaml;
	unsigned int line;	/* 0: no line in the message */
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

	/* node kinds (libcyaml's schema) */
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
	{ "duplicate feed name", FEED "  - name: b\n    source: /b\n  - name: a\n    source: /c\n", 8,
	  "feeds[2].name: duplicate feed name \"a\" (also feeds[0])" },
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
	{ "second feed", FEED "  - name: b\n    source: /b\n    refresh: 1s\n", 8,
	  "feeds[1].refresh: 1s is below the minimum of 10s" },

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
	{ "many duplicate prefixes", IF "exempt: [ 10.0.0.1, 10.0.0.2, 10.0.0.3, 10.0.0.2, 10.0.0.1 ]\n",
	  3, "exempt[3]: \"10.0.0.2\" is listed twice (also exempt[1])" },
	{ "duplicate prefix, other spelling", IF "exempt:\n  - 10.0.0.0/24\n  - 10.0.0.0/255.255.255.0\n",
	  5, "exempt[1]: \"10.0.0.0/255.255.255.0\" is listed twice (also exempt[0])" },
	{ "complex key", "? [ a, b ]\n: 1\n", 1, "a key must be a plain name, not a sequence" },
	{ "deep nesting",
	  "interfaces:\n  - name: [[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]\n", 2,
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
	char err[BWE_CFG_ERR_LEN];
	struct bwe_cfgfile *c;
	size_t i;
	int ret;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(error_cases); i++) {
		c = NULL;
		memset(err, 'x', sizeof(err));
		ret = load_text(error_cases[i].yaml, &c, err, sizeof(err));
		check_error(error_cases[i].desc, tmpfile_path, ret, c, err, -EINVAL,
			    error_cases[i].line, error_cases[i].want);
	}
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
	check_error("127 feeds", tmpfile_path, ret, c, err, -EINVAL,
		    4 + BWE_CFG_FEEDS_MAX, "feeds[126]: at most 126 feeds");

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shipped),
		cmocka_unit_test(test_shipped_feed_example),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_accepted),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_fixtures),
		cmocka_unit_test(test_too_many_feeds),
		cmocka_unit_test(test_netclass_room),
		cmocka_unit_test(test_io_errors),
		cmocka_unit_test(test_err_buffer),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
