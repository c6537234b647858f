// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_resolve.c - table-driven unit tests of lib/resolve.c: literal
 * addresses and CIDRs, the reasons given for bad tokens, host names through
 * /etc/hosts ("localhost" only: no network is needed), and MAC addresses
 * through the kernel's neighbour table (an absent MAC, and, when the table
 * holds a complete IPv4 entry, that entry's MAC).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bwe_util.h"
#include "addr.h"
#include "resolve.h"

#define WHY_LEN		  256
#define JOINED_LEN	  1024
#define ARP_LINE_LEN	  256
#define ARP_FLAG_COMPLETE 0x2		      /* ATF_COM in /proc/net/arp */
#define ABSENT_MAC	  "02:00:5e:be:ef:01" /* locally administered, unused */

#define CN (BWE_RES_CIDR_OK | BWE_RES_NAMES)
#define C  BWE_RES_CIDR_OK
#define N  BWE_RES_NAMES
#define Z  BWE_RES_ZERO_OK

/* Format every prefix, space separated. */
static void join(const struct bwe_prefix *p, int n, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (int i = 0; i < n; i++) {
		char one[BWE_PREFIX_STRLEN];

		assert_int_equal(bwe_prefix_fmt(&p[i], one, sizeof(one)), 0);
		o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? " " : "", one);
		assert_true(o < len);
	}
}

/* ---- literal addresses, CIDRs and bad tokens ------------------------------ */

static const struct {
	const char *in;
	unsigned int flags;
	int ret;	 /* count or -errno */
	const char *out; /* joined result, or a substring of why */
} literal_cases[] = {
	{ "198.51.100.7", CN, 1, "198.51.100.7" },
	{ "198.51.100.7", 0, 1, "198.51.100.7" },
	{ "2001:db8::1", CN, 1, "2001:db8::1" },
	{ "2001:DB8::1", 0, 1, "2001:db8::1" },
	{ "::ffff:203.0.113.10", CN, 1, "203.0.113.10" },
	{ "198.51.100.0/24", C, 1, "198.51.100.0/24" },
	{ "198.51.100.0/255.255.255.0", C, 1, "198.51.100.0/24" },
	{ "2001:db8::/32", CN, 1, "2001:db8::/32" },
	{ "198.51.100.7/32", 0, 1, "198.51.100.7" }, /* a host, written long */
	{ "2001:db8::7/128", 0, 1, "2001:db8::7" },
	{ "0.0.0.0/0", C | Z, 1, "0.0.0.0/0" },
	{ "::/0", C | Z, 1, "::/0" },

	/* networks where a host is wanted */
	{ "198.51.100.0/24", N, -EINVAL,
	  "\"198.51.100.0/24\" is a network; give a single address" },
	/* host bits: the message names the network meant */
	{ "198.51.100.1/24", CN, -EINVAL,
	  "\"198.51.100.1/24\" has host bits set (did you mean 198.51.100.0/24?)" },
	{ "2001:db8::1/32", C, -EINVAL, "(did you mean 2001:db8::/32?)" },
	/* /0 refused unless asked for */
	{ "0.0.0.0/0", CN, -EINVAL, "refusing /0: \"0.0.0.0/0\" would cover every IPv4 address" },
	{ "::/0", C, -EINVAL, "refusing /0: \"::/0\" would cover every IPv6 address" },
	{ "203.0.113.9/0", C, -EINVAL, "refusing /0" },
	{ "203.0.113.9/0", C | Z, -EINVAL, "(did you mean 0.0.0.0/0?)" },
	{ "198.51.100.0/33", C, -EINVAL, "bad prefix length" },
	{ "198.51.100.0/024", C, -EINVAL, "bad prefix length" },
	{ "198.51.100.0/255.0.255.0", C, -EINVAL, "bad prefix length" },

	/* broken addresses never reach the resolver */
	{ "198.18.0.300", CN, -EINVAL,
	  "\"198.18.0.300\" is not an IPv4/IPv6 address, CIDR, MAC address or resolvable hostname" },
	{ "198.18.0.300", C, -EINVAL, "\"198.18.0.300\" is not an IPv4/IPv6 address or CIDR" },
	{ "198.18.0.300", N, -EINVAL,
	  "is not an IPv4/IPv6 address, MAC address or resolvable hostname" },
	{ "198.18.0.300", 0, -EINVAL, "is not an IPv4/IPv6 address" },
	{ "1.2.3", CN, -EINVAL, "is not" },
	{ "01.2.3.4", CN, -EINVAL, "is not" },
	{ "0x7f.0.0.1", CN, -EINVAL, "is not" },
	{ "10.0.0.x1", CN, -EINVAL, "is not" },
	{ "12345", CN, -EINVAL, "is not" },
	{ "fe80::1%eth0", CN, -EINVAL, "is not" },
	{ "2001:db8::g", CN, -EINVAL, "is not" },
	{ "[2001:db8::1]", CN, -EINVAL, "is not" },
	{ "host.example/24", CN, -EINVAL, "is not" },
	{ "aa-bb-cc-dd-ee-gg", CN, -EINVAL, "is not" }, /* MAC-shaped */
	{ "aa:bb:cc:dd:ee", CN, -EINVAL, "is not" },
	{ "", CN, -EINVAL, "\"\" is not" },
	{ " 198.51.100.7", CN, -EINVAL, "is not" },
	{ "-rf", CN, -EINVAL, "\"-rf\" is not" },
	{ "a..example", CN, -EINVAL, "is not" },
	{ "under_score.example", CN, -EINVAL, "is not" },
	{ "host.123", CN, -EINVAL, "is not" }, /* numeric top label */
	/* names and MACs only with BWE_RES_NAMES */
	{ "localhost", C, -EINVAL, "\"localhost\" is not an IPv4/IPv6 address or CIDR" },
	{ "02:00:5e:be:ef:01", C, -EINVAL,
	  "\"02:00:5e:be:ef:01\" is a MAC address, not an IPv4/IPv6 address or CIDR" },
	/* untrusted text is quoted harmlessly */
	{ "\x1b[31mred", CN, -EINVAL, "\"?[31mred\" is not" },
	{ "a\"b", CN, -EINVAL, "\"a?b\" is not" },
};

static void test_literals(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(literal_cases); i++) {
		struct bwe_prefix *p = (void *)&p; /* must be reset */
		char why[WHY_LEN] = "stale", got[JOINED_LEN];
		int ret = bwe_resolve_host(literal_cases[i].in, literal_cases[i].flags, &p, why,
					   sizeof(why));

		if (ret != literal_cases[i].ret)
			fail_msg("%zu \"%s\": returned %d, expected %d (%s)", i,
				 literal_cases[i].in, ret, literal_cases[i].ret, why);
		if (ret < 0) {
			assert_null(p);
			if (!strstr(why, literal_cases[i].out))
				fail_msg("%zu \"%s\": reason \"%s\" lacks \"%s\"", i,
					 literal_cases[i].in, why, literal_cases[i].out);
			for (const char *c = why; *c; c++)
				assert_true((unsigned char)*c >= 0x20);
			continue;
		}
		join(p, ret, got, sizeof(got));
		if (strcmp(got, literal_cases[i].out))
			fail_msg("%zu \"%s\": got \"%s\", expected \"%s\"", i, literal_cases[i].in,
				 got, literal_cases[i].out);
		free(p);
	}
}

/* A long argument is cut in the message; the buffer is never overrun. */
static void test_long_and_small_buffers(void **state)
{
	char arg[600], why[WHY_LEN], tiny[8];
	struct bwe_prefix *p;

	(void)state;
	memset(arg, '1', sizeof(arg) - 1);
	arg[sizeof(arg) - 1] = '\0';
	assert_int_equal(bwe_resolve_host(arg, CN, &p, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "...\" is not"));
	assert_true(strlen(why) < 200);

	assert_int_equal(bwe_resolve_host("nope..", CN, &p, tiny, sizeof(tiny)), -EINVAL);
	assert_int_equal(strlen(tiny), sizeof(tiny) - 1);
	assert_int_equal(bwe_resolve_host("nope..", CN, &p, NULL, 0), -EINVAL);
	assert_int_equal(bwe_resolve_host(NULL, CN, &p, why, sizeof(why)), -EINVAL);
}

/* ---- host name grammar ---------------------------------------------------- */

static const struct {
	const char *in;
	bool ok;
} hostname_cases[] = {
	{ "localhost", true },
	{ "host.example", true },
	{ "host.example.", true },
	{ "a-b.c-d.example", true },
	{ "3com.example", true }, /* RFC 1123: labels may start with a digit */
	{ "xn--bcher-kva.example", true },
	{ "", false },
	{ ".", false },
	{ ".example", false },
	{ "a..b", false },
	{ "-a.example", false },
	{ "a-.example", false },
	{ "a_b.example", false },
	{ "a b", false },
	{ "1.2.3.4", false }, /* numeric top label */
	{ "host.example..", false },
};

static void test_hostname_grammar(void **state)
{
	char label[BWE_LABEL_MAX + 2], name[BWE_HOSTNAME_MAX + 3];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(hostname_cases); i++)
		if (bwe_looks_like_hostname(hostname_cases[i].in) != hostname_cases[i].ok)
			fail_msg("\"%s\": expected %s", hostname_cases[i].in,
				 hostname_cases[i].ok ? "a host name" : "no host name");

	/* a 63-byte label passes, 64 does not */
	memset(label, 'a', BWE_LABEL_MAX);
	label[BWE_LABEL_MAX] = '\0';
	assert_true(bwe_looks_like_hostname(label));
	label[BWE_LABEL_MAX] = 'a';
	label[BWE_LABEL_MAX + 1] = '\0';
	assert_false(bwe_looks_like_hostname(label));

	/* 253 bytes pass (and 254 with the final dot), 254 do not */
	for (size_t i = 0; i < BWE_HOSTNAME_MAX; i++)
		name[i] = (i % 2) ? '.' : 'a';
	name[BWE_HOSTNAME_MAX] = '\0';
	assert_true(bwe_looks_like_hostname(name));
	name[BWE_HOSTNAME_MAX] = '.';
	name[BWE_HOSTNAME_MAX + 1] = '\0';
	assert_true(bwe_looks_like_hostname(name));
	name[BWE_HOSTNAME_MAX] = 'a';
	assert_false(bwe_looks_like_hostname(name));
}

/* ---- names through /etc/hosts ------------------------------------------- */

static void test_localhost(void **state)
{
	struct bwe_prefix *p;
	char why[WHY_LEN], got[JOINED_LEN];
	bool v4 = false;
	int n;

	(void)state;
	n = bwe_resolve_host("localhost", CN, &p, why, sizeof(why));
	if (n < 1)
		fail_msg("localhost: %d (%s)", n, why);
	join(p, n, got, sizeof(got));
	for (int i = 0; i < n; i++) {
		char one[BWE_PREFIX_STRLEN];

		bwe_prefix_fmt(&p[i], one, sizeof(one));
		if (!strcmp(one, "127.0.0.1"))
			v4 = true;
		else if (strcmp(one, "::1"))
			fail_msg("localhost resolved to \"%s\"", got);
		/* sorted, IPv4 first, no duplicates */
		if (i)
			assert_true(!bwe_addr_is_v4(&p[i].addr) || bwe_addr_is_v4(&p[i - 1].addr));
	}
	assert_true(v4);
	assert_true(n <= 2);
	free(p);
}

/* ---- MAC addresses through the neighbour table ------------------------------- */

/* A netlink failure is the environment's, not the code's: skip then. */
static bool neighbour_table_unreadable(int ret)
{
	return ret == -EPERM || ret == -EACCES || ret == -EAFNOSUPPORT || ret == -EPROTONOSUPPORT ||
	       ret == -EIO;
}

static void test_mac_absent(void **state)
{
	struct bwe_prefix *p = (void *)&p;
	char why[WHY_LEN];
	int ret;

	(void)state;
	ret = bwe_resolve_host(ABSENT_MAC, CN, &p, why, sizeof(why));
	if (neighbour_table_unreadable(ret)) {
		print_message("neighbour table unreadable here: %s\n", why);
		skip();
	}
	assert_int_equal(ret, -ENOENT);
	assert_null(p);
	assert_non_null(strstr(why, "MAC address " ABSENT_MAC " is not in the neighbour table"));

	/* the '-' form and upper case are the same MAC */
	ret = bwe_resolve_host("02-00-5E-BE-EF-01", N, &p, why, sizeof(why));
	assert_int_equal(ret, -ENOENT);
	assert_non_null(strstr(why, ABSENT_MAC));
}

/*
 * When /proc/net/arp lists a complete entry, its MAC resolves to (at least)
 * that address. Skipped on a host with an empty ARP table.
 */
static void test_mac_present(void **state)
{
	char line[ARP_LINE_LEN], ip[BWE_ADDR_STRLEN] = "", mac[BWE_MAC_STRLEN] = "";
	char why[WHY_LEN], got[JOINED_LEN];
	struct bwe_prefix *p;
	FILE *f = fopen("/proc/net/arp", "re");
	int n;

	(void)state;
	if (!f)
		skip();
	while (fgets(line, sizeof(line), f)) {
		char a[64], hw[64], type[16], dev[32], mask[8];
		unsigned int flags;

		if (sscanf(line, "%63s %15s %x %63s %7s %31s", a, type, &flags, hw, mask, dev) ==
			    6 &&
		    (flags & ARP_FLAG_COMPLETE) && strlen(a) < sizeof(ip) &&
		    strlen(hw) < sizeof(mac) && strcmp(hw, "00:00:00:00:00:00")) {
			strcpy(ip, a);
			strcpy(mac, hw);
			break;
		}
	}
	fclose(f);
	if (!ip[0])
		skip();
	n = bwe_resolve_host(mac, CN, &p, why, sizeof(why));
	if (neighbour_table_unreadable(n))
		skip();
	if (n < 1)
		fail_msg("%s (%s in /proc/net/arp): %d %s", mac, ip, n, why);
	join(p, n, got, sizeof(got));
	if (!strstr(got, ip))
		fail_msg("%s resolved to \"%s\", expected %s among them", mac, got, ip);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_literals),
		cmocka_unit_test(test_long_and_small_buffers),
		cmocka_unit_test(test_hostname_grammar),
		cmocka_unit_test(test_localhost),
		cmocka_unit_test(test_mac_absent),
		cmocka_unit_test(test_mac_present),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
