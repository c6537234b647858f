// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_resolve.c - table-driven unit tests of lib/resolve.c: literal
 * addresses and CIDRs, the reasons given for bad tokens (a MAC address or a
 * name is the daemon's to resolve, never looked up here), the host name
 * grammar, text that means an address, and names in a hosts(5) file as the
 * daemon reads it.
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

#include <cmocka.h>

#include "bwe_util.h"
#include "addr.h"
#include "resolve.h"

#define WHY_LEN	   256
#define JOINED_LEN 1024

#define C BWE_RES_CIDR_OK
#define Z BWE_RES_ZERO_OK

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
	{ "198.51.100.7", C, 1, "198.51.100.7" },
	{ "198.51.100.7", 0, 1, "198.51.100.7" },
	{ "2001:db8::1", C, 1, "2001:db8::1" },
	{ "2001:DB8::1", 0, 1, "2001:db8::1" },
	{ "::ffff:203.0.113.10", C, 1, "203.0.113.10" },
	{ "198.51.100.0/24", C, 1, "198.51.100.0/24" },
	{ "198.51.100.0/255.255.255.0", C, 1, "198.51.100.0/24" },
	{ "2001:db8::/32", C, 1, "2001:db8::/32" },
	{ "198.51.100.7/32", 0, 1, "198.51.100.7" }, /* a host, written long */
	{ "2001:db8::7/128", 0, 1, "2001:db8::7" },
	{ "0.0.0.0/0", C | Z, 1, "0.0.0.0/0" },
	{ "::/0", C | Z, 1, "::/0" },

	/* networks where a host is wanted */
	{ "198.51.100.0/24", 0, -EINVAL,
	  "\"198.51.100.0/24\" is a network; give a single address" },
	/* host bits: the message names the network meant */
	{ "198.51.100.1/24", C, -EINVAL,
	  "\"198.51.100.1/24\" has host bits set (did you mean 198.51.100.0/24?)" },
	{ "2001:db8::1/32", C, -EINVAL, "(did you mean 2001:db8::/32?)" },
	/* /0 refused unless asked for */
	{ "0.0.0.0/0", C, -EINVAL, "refusing /0: \"0.0.0.0/0\" would cover every IPv4 address" },
	{ "::/0", C, -EINVAL, "refusing /0: \"::/0\" would cover every IPv6 address" },
	{ "203.0.113.9/0", C, -EINVAL, "refusing /0" },
	{ "203.0.113.9/0", C | Z, -EINVAL, "(did you mean 0.0.0.0/0?)" },
	{ "198.51.100.0/33", C, -EINVAL, "bad prefix length" },
	{ "198.51.100.0/024", C, -EINVAL, "bad prefix length" },
	{ "198.51.100.0/255.0.255.0", C, -EINVAL, "bad prefix length" },

	/* broken addresses never reach the resolver */
	{ "198.18.0.300", C, -EINVAL, "\"198.18.0.300\" is not an IPv4/IPv6 address or CIDR" },
	{ "198.18.0.300", 0, -EINVAL, "is not an IPv4/IPv6 address" },
	{ "1.2.3", C, -EINVAL, "is not" },
	{ "01.2.3.4", C, -EINVAL, "is not" },
	{ "0x7f.0.0.1", C, -EINVAL, "is not" },
	{ "10.0.0.x1", C, -EINVAL, "is not" },
	{ "12345", C, -EINVAL, "is not" },
	{ "fe80::1%eth0", C, -EINVAL, "is not" },
	{ "2001:db8::g", C, -EINVAL, "is not" },
	{ "[2001:db8::1]", C, -EINVAL, "is not" },
	{ "host.example/24", C, -EINVAL, "is not" },
	{ "aa-bb-cc-dd-ee-gg", C, -EINVAL, "is not" }, /* MAC-shaped */
	{ "aa:bb:cc:dd:ee", C, -EINVAL, "is not" },
	{ "", C, -EINVAL, "\"\" is not" },
	{ " 198.51.100.7", C, -EINVAL, "is not" },
	{ "-rf", C, -EINVAL, "\"-rf\" is not" },
	{ "a..example", C, -EINVAL, "is not" },
	{ "under_score.example", C, -EINVAL, "is not" },
	{ "host.123", C, -EINVAL, "is not" }, /* numeric top label */
	/* names and MACs are the daemon's to resolve: never looked up here */
	{ "localhost", C, -EINVAL, "\"localhost\" is not an IPv4/IPv6 address or CIDR" },
	{ "02:00:5e:be:ef:01", C, -EINVAL,
	  "\"02:00:5e:be:ef:01\" is a MAC address, not an IPv4/IPv6 address or CIDR" },
	{ "02-00-5E-BE-EF-01", 0, -EINVAL, "is a MAC address, not an IPv4/IPv6 address" },
	/* untrusted text is quoted harmlessly */
	{ "\x1b[31mred", C, -EINVAL, "\"?[31mred\" is not" },
	{ "a\"b", C, -EINVAL, "\"a?b\" is not" },
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
	assert_int_equal(bwe_resolve_host(arg, C, &p, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "...\" is not"));
	assert_true(strlen(why) < 200);

	assert_int_equal(bwe_resolve_host("nope..", C, &p, tiny, sizeof(tiny)), -EINVAL);
	assert_int_equal(strlen(tiny), sizeof(tiny) - 1);
	assert_int_equal(bwe_resolve_host("nope..", C, &p, NULL, 0), -EINVAL);
	assert_int_equal(bwe_resolve_host(NULL, C, &p, why, sizeof(why)), -EINVAL);
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

/* ---- text a person meant as an address ------------------------------------ */

static void test_looks_like_address(void **state)
{
	static const struct {
		const char *in;
		bool addr;
	} rows[] = {
		{ "198.18.0.300", true },      { "10.0.0.x1", true },
		{ "0x7f.0.0.1", true },	       { "12345", true },
		{ "2001:db8::g", true },       { "host.example/24", true },
		{ "aa-bb-cc-dd-ee-gg", true }, { "localhost", false },
		{ "nas.example", false },      { "10.example.org", false },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++)
		if (bwe_looks_like_address(rows[i].in) != rows[i].addr)
			fail_msg("\"%s\": expected %s", rows[i].in,
				 rows[i].addr ? "an address's shape" : "no address");
}

/* ---- names in a hosts(5) file ------------------------------------------------ */

static void test_hosts_file(void **state)
{
	char path[] = "/tmp/bwe-test-hosts.XXXXXX", got[JOINED_LEN];
	struct bwe_addr a[4];
	struct bwe_prefix p[4];
	int fd, n, i;
	FILE *f;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs("# a comment 198.18.0.9 nas.example\n"
	      "127.0.0.1\tlocalhost\n"
	      "2001:db8:1::11 nas.example nas   # the v6 first in the file\n"
	      "198.18.0.11  NAS.example.  nas\n"
	      "not-an-address nas.example\n"
	      "198.18.0.12 nas-2.example\n"
	      "198.18.0.13 # nas.example\n",
	      f);
	assert_int_equal(fclose(f), 0);
	/* case-blind, a final dot ignored, aliases count; IPv4 first */
	n = bwe_hosts_file_lookup(path, "nas.example", a, 4);
	assert_int_equal(n, 2);
	for (i = 0; i < n; i++)
		p[i] = (struct bwe_prefix){ .addr = a[i], .plen = BWE_ADDR_BITS };
	join(p, n, got, sizeof(got));
	assert_string_equal(got, "198.18.0.11 2001:db8:1::11");
	assert_int_equal(bwe_hosts_file_lookup(path, "NAS.EXAMPLE.", a, 4), 2);
	assert_int_equal(bwe_hosts_file_lookup(path, "nas", a, 4), 2);
	/* at most max; a name listed nowhere; a name only in a comment */
	assert_int_equal(bwe_hosts_file_lookup(path, "nas.example", a, 1), 1);
	assert_true(bwe_addr_is_v4(&a[0]));
	assert_int_equal(bwe_hosts_file_lookup(path, "nosuch.example", a, 4), 0);
	assert_int_equal(bwe_hosts_file_lookup(path, "nas-2", a, 4), 0);
	unlink(path);
	assert_int_equal(bwe_hosts_file_lookup(path, "nas.example", a, 4), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_literals),
		cmocka_unit_test(test_long_and_small_buffers),
		cmocka_unit_test(test_hostname_grammar),
		cmocka_unit_test(test_looks_like_address),
		cmocka_unit_test(test_hosts_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
