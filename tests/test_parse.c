// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_parse.c - table-driven unit tests of lib/addr.c, lib/units.c and
 * lib/log.c. No network, no privileges. Each table row is
 * {input, expected return, expected value}; a failing row is named in the
 * error message.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "bwe_util.h"
#include "addr.h"
#include "log.h"
#include "units.h"

#define LONG_LEN      4096 /* "very long" input, well past any field */
#define RANGE_OUT_LEN 2048 /* joined prefixes of one range */
#define LOG_BUF_LEN   512

/* ---- bwe_addr_parse / bwe_addr_fmt -------------------------------------- */

static const struct {
	const char *in;
	int ret;
	const char *out; /* bwe_addr_fmt() of the result */
	bool v4;
} addr_cases[] = {
	{ "198.51.100.7", 0, "198.51.100.7", true },
	{ "0.0.0.0", 0, "0.0.0.0", true },
	{ "255.255.255.255", 0, "255.255.255.255", true },
	{ "::ffff:203.0.113.10", 0, "203.0.113.10", true },
	{ "::FFFF:cb00:710a", 0, "203.0.113.10", true },
	{ "2001:db8::1", 0, "2001:db8::1", false },
	{ "2001:DB8:0:0:0:0:0:1", 0, "2001:db8::1", false },
	{ "::", 0, "::", false },
	{ "::1", 0, "::1", false },
	{ "::1.2.3.4", 0, "::1.2.3.4", false }, /* IPv4-compatible: IPv6 */
	{ "", -EINVAL, NULL, false },
	{ "garbage", -EINVAL, NULL, false },
	{ "localhost", -EINVAL, NULL, false },
	{ "example.com", -EINVAL, NULL, false },
	{ "1.2.3", -EINVAL, NULL, false },
	{ "1.2.3.4.5", -EINVAL, NULL, false },
	{ "256.1.1.1", -EINVAL, NULL, false },
	{ "01.2.3.4", -EINVAL, NULL, false }, /* no octal look-alikes */
	{ "1.2.3.00", -EINVAL, NULL, false },
	{ "1.2.3.255", 0, "1.2.3.255", true },
	{ "1.2.3.256", -EINVAL, NULL, false },
	{ "1.2.3.1000", -EINVAL, NULL, false },
	{ "1..2.3", -EINVAL, NULL, false },
	{ ".1.2.3", -EINVAL, NULL, false },
	{ "1.2.3.", -EINVAL, NULL, false },
	{ "1.2.3.4.", -EINVAL, NULL, false },
	{ "+1.2.3.4", -EINVAL, NULL, false },
	{ "1.2.3.4294967297", -EINVAL, NULL, false }, /* no wrap to 1 */
	{ "0x7f.0.0.1", -EINVAL, NULL, false },
	{ "1.2.3.4 ", -EINVAL, NULL, false },
	{ " 1.2.3.4", -EINVAL, NULL, false },
	{ "1.2.3.4x", -EINVAL, NULL, false },
	{ "-1.2.3.4", -EINVAL, NULL, false },
	{ "1.2.3.4/24", -EINVAL, NULL, false },
	{ "fe80::1%eth0", -EINVAL, NULL, false },
	{ "[2001:db8::1]", -EINVAL, NULL, false },
	{ "2001:db8:::1", -EINVAL, NULL, false },
	{ "2001:db8::g", -EINVAL, NULL, false },
	{ "1:2:3:4:5:6:7:8:9", -EINVAL, NULL, false },
};

static void test_addr_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(addr_cases); i++) {
		struct bwe_addr a;
		char buf[BWE_ADDR_STRLEN];
		int ret = bwe_addr_parse(addr_cases[i].in, &a);

		if (ret != addr_cases[i].ret)
			fail_msg("addr \"%s\": ret %d, want %d", addr_cases[i].in, ret,
				 addr_cases[i].ret);
		if (ret)
			continue;
		assert_int_equal(bwe_addr_fmt(&a, buf, sizeof(buf)), 0);
		if (strcmp(buf, addr_cases[i].out) != 0)
			fail_msg("addr \"%s\": got \"%s\", want \"%s\"", addr_cases[i].in, buf,
				 addr_cases[i].out);
		if (bwe_addr_is_v4(&a) != addr_cases[i].v4)
			fail_msg("addr \"%s\": is_v4 wrong", addr_cases[i].in);
	}
}

static void test_addr_misc(void **state)
{
	static char longs[LONG_LEN + 1];
	struct bwe_addr a, b;
	char buf[BWE_ADDR_STRLEN];

	(void)state;
	/* a mapped IPv6 text and its dotted quad are one value */
	assert_int_equal(bwe_addr_parse("::ffff:203.0.113.10", &a), 0);
	assert_int_equal(bwe_addr_parse("203.0.113.10", &b), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	assert_int_equal(bwe_addr_v4(&a), htonl(0xcb00710a));

	bwe_addr_from_v4(htonl(0xc6336401), &a); /* 198.51.100.1 */
	assert_true(bwe_addr_is_v4(&a));
	assert_int_equal(bwe_addr_fmt(&a, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "198.51.100.1");

	/* -ENOSPC: "198.51.100.1" needs 13 bytes */
	assert_int_equal(bwe_addr_fmt(&a, buf, 12), -ENOSPC);
	assert_string_equal(buf, "");
	assert_int_equal(bwe_addr_fmt(&a, buf, 13), 0);
	assert_int_equal(bwe_addr_fmt(&a, NULL, 0), -ENOSPC);

	memset(longs, '1', LONG_LEN);
	assert_int_equal(bwe_addr_parse(longs, &a), -EINVAL);
	memset(longs, ':', LONG_LEN);
	assert_int_equal(bwe_addr_parse(longs, &a), -EINVAL);
	assert_int_equal(bwe_addr_parse(NULL, &a), -EINVAL);
}

/* ---- bwe_prefix_parse / bwe_prefix_fmt ---------------------------------- */

#define HB BWE_PFX_HOSTBITS
#define Z  BWE_PFX_ZERO

static const struct {
	const char *in;
	unsigned int flags;
	int ret;
	const char *out; /* bwe_prefix_fmt() of the result */
	int plen;	 /* stored, mapped-space length */
} prefix_cases[] = {
	{ "198.51.100.0/24", 0, 0, "198.51.100.0/24", 120 },
	{ "198.51.100.7", 0, 0, "198.51.100.7", 128 },
	{ "198.51.100.7/32", 0, 0, "198.51.100.7", 128 },
	{ "10.0.0.0/8", 0, 0, "10.0.0.0/8", 104 },
	{ "198.51.100.0/255.255.255.0", 0, 0, "198.51.100.0/24", 120 },
	{ "198.51.100.128/255.255.255.128", 0, 0, "198.51.100.128/25", 121 },
	{ "198.51.100.7/255.255.255.255", 0, 0, "198.51.100.7", 128 },
	{ "198.51.100.0/255.0.255.0", 0, -EINVAL, NULL, 0 }, /* non-contiguous */
	{ "198.51.100.0/255.255.255.1", 0, -EINVAL, NULL, 0 },
	{ "198.51.100.0/0.255.255.255", 0, -EINVAL, NULL, 0 },
	{ "0.0.0.0/0.0.0.0", 0, -EINVAL, NULL, 0 },
	{ "0.0.0.0/0.0.0.0", Z, 0, "0.0.0.0/0", 96 },
	{ "198.51.100.0/255.255.256.0", 0, -EINVAL, NULL, 0 },
	{ "::ffff:203.0.113.10", 0, 0, "203.0.113.10", 128 },
	{ "::ffff:198.51.100.0/120", 0, 0, "198.51.100.0/24", 120 },
	{ "::ffff:198.51.100.0/24", 0, -EINVAL, NULL, 0 }, /* v6 length */
	{ "2001:db8::/32", 0, 0, "2001:db8::/32", 32 },
	{ "2001:db8::1", 0, 0, "2001:db8::1", 128 },
	{ "2001:db8::1/128", 0, 0, "2001:db8::1", 128 },
	{ "2001:db8::/255.255.0.0", 0, -EINVAL, NULL, 0 }, /* v4 mask on v6 */
	/* host bits under the mask */
	{ "198.51.100.7/24", 0, -EINVAL, NULL, 0 },
	{ "198.51.100.7/24", HB, 0, "198.51.100.0/24", 120 },
	{ "2001:db8::1/64", 0, -EINVAL, NULL, 0 },
	{ "2001:db8::1/64", HB, 0, "2001:db8::/64", 64 },
	/* /0 */
	{ "0.0.0.0/0", 0, -EINVAL, NULL, 0 },
	{ "0.0.0.0/0", Z, 0, "0.0.0.0/0", 96 },
	{ "1.2.3.4/0", Z, -EINVAL, NULL, 0 },
	{ "1.2.3.4/0", Z | HB, 0, "0.0.0.0/0", 96 },
	{ "1.2.3.4/0", HB, -EINVAL, NULL, 0 },
	{ "::/0", 0, -EINVAL, NULL, 0 },
	{ "::/0", Z, 0, "::/0", 0 },
	{ "::ffff:0.0.0.0/96", 0, -EINVAL, NULL, 0 }, /* v4 /0 spelt in v6 */
	{ "::ffff:0.0.0.0/96", Z, 0, "0.0.0.0/0", 96 },
	/* bad lengths */
	{ "1.2.3.4/33", 0, -EINVAL, NULL, 0 },
	{ "2001:db8::/129", 0, -EINVAL, NULL, 0 },
	{ "1.2.3.0/024", 0, -EINVAL, NULL, 0 },
	{ "1.2.3.0/+24", 0, -EINVAL, NULL, 0 },
	{ "1.2.3.0/-1", 0, -EINVAL, NULL, 0 },
	{ "1.2.3.0/", 0, -EINVAL, NULL, 0 },
	{ "1.2.3.0/24 ", 0, -EINVAL, NULL, 0 },
	{ "1.2.3.0/24/24", 0, -EINVAL, NULL, 0 },
	{ "1.2.3.0/2x", 0, -EINVAL, NULL, 0 },
	{ "1.2.3.0/1000", 0, -EINVAL, NULL, 0 },
	{ "/24", 0, -EINVAL, NULL, 0 },
	{ "", 0, -EINVAL, NULL, 0 },
	{ "/", 0, -EINVAL, NULL, 0 },
	{ "example.com/24", 0, -EINVAL, NULL, 0 },
	{ "garbage", 0, -EINVAL, NULL, 0 },
	{ "fe80::%eth0/64", 0, -EINVAL, NULL, 0 },
	{ "fe80::1%eth0", 0, -EINVAL, NULL, 0 },
	{ " 10.0.0.0/8", 0, -EINVAL, NULL, 0 },
};

static void test_prefix_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(prefix_cases); i++) {
		struct bwe_prefix p;
		char buf[BWE_PREFIX_STRLEN];
		int ret = bwe_prefix_parse(prefix_cases[i].in, &p, prefix_cases[i].flags);

		if (ret != prefix_cases[i].ret)
			fail_msg("prefix \"%s\" flags %u: ret %d, want %d", prefix_cases[i].in,
				 prefix_cases[i].flags, ret, prefix_cases[i].ret);
		if (ret)
			continue;
		assert_int_equal(bwe_prefix_fmt(&p, buf, sizeof(buf)), 0);
		if (strcmp(buf, prefix_cases[i].out) != 0 || p.plen != prefix_cases[i].plen)
			fail_msg("prefix \"%s\": got \"%s\" plen %u, want \"%s\" plen %d",
				 prefix_cases[i].in, buf, p.plen, prefix_cases[i].out,
				 prefix_cases[i].plen);
		assert_int_equal(p.pad[0] | p.pad[1] | p.pad[2], 0);
	}
}

static void test_prefix_long(void **state)
{
	static char longs[LONG_LEN + 1];
	struct bwe_prefix p;

	(void)state;
	memset(longs, '1', LONG_LEN);
	assert_int_equal(bwe_prefix_parse(longs, &p, HB | Z), -EINVAL);
	/* a valid address followed by a very long length */
	memcpy(longs, "1.2.3.4/", strlen("1.2.3.4/"));
	assert_int_equal(bwe_prefix_parse(longs, &p, HB | Z), -EINVAL);
	/* a very long address part before the slash */
	memset(longs, '1', LONG_LEN);
	longs[LONG_LEN - strlen("/24")] = '\0';
	strcat(longs, "/24");
	assert_int_equal(bwe_prefix_parse(longs, &p, HB | Z), -EINVAL);
	assert_int_equal(bwe_prefix_parse(NULL, &p, 0), -EINVAL);
}

static struct bwe_prefix pfx(const char *s)
{
	struct bwe_prefix p;

	assert_int_equal(bwe_prefix_parse(s, &p, BWE_PFX_ZERO), 0);
	return p;
}

static void test_prefix_fmt(void **state)
{
	struct bwe_prefix p = pfx("198.51.100.0/24");
	char buf[BWE_PREFIX_STRLEN];

	(void)state;
	/* "198.51.100.0/24" needs 16 bytes */
	assert_int_equal(bwe_prefix_fmt(&p, buf, 15), -ENOSPC);
	assert_string_equal(buf, "");
	assert_int_equal(bwe_prefix_fmt(&p, buf, 16), 0);
	assert_string_equal(buf, "198.51.100.0/24");

	/* the longest IPv6 text with a length fits BWE_PREFIX_STRLEN */
	p = pfx("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fff0/124");
	assert_int_equal(bwe_prefix_fmt(&p, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fff0/124");
}

static const struct {
	const char *outer;
	const char *inner; /* prefix or host */
	bool contains;	   /* bwe_prefix_contains(outer, inner.addr) */
	bool covers;
} cover_cases[] = {
	{ "198.51.100.0/24", "198.51.100.7", true, true },
	{ "198.51.100.0/24", "198.51.101.7", false, false },
	{ "198.51.100.0/24", "198.51.100.128/25", true, true },
	{ "198.51.100.128/25", "198.51.100.0/24", false, false },
	{ "198.51.100.0/24", "198.51.100.0/24", true, true },
	{ "198.51.100.0/25", "198.51.100.0/24", true, false },
	{ "0.0.0.0/0", "203.0.113.10", true, true },
	{ "0.0.0.0/0", "2001:db8::1", false, false },
	{ "::/0", "203.0.113.10", true, true },
	{ "::/0", "2001:db8::1", true, true },
	{ "2001:db8::/32", "2001:db8:1::/48", true, true },
	{ "2001:db8::/32", "2001:db9::1", false, false },
	{ "2001:db8::/33", "2001:db8:8000::1", false, false },
	{ "2001:db8::/33", "2001:db8:7fff::1", true, true },
	{ "203.0.113.10", "203.0.113.10", true, true },
	{ "203.0.113.10", "203.0.113.11", false, false },
};

static void test_prefix_cover(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cover_cases); i++) {
		struct bwe_prefix o = pfx(cover_cases[i].outer);
		struct bwe_prefix in = pfx(cover_cases[i].inner);

		if (bwe_prefix_contains(&o, &in.addr) != cover_cases[i].contains ||
		    bwe_prefix_covers(&o, &in) != cover_cases[i].covers)
			fail_msg("cover %s / %s wrong", cover_cases[i].outer, cover_cases[i].inner);
	}
}

static void test_prefix_mask(void **state)
{
	struct bwe_prefix p = { .plen = 96 + 20 };
	char buf[BWE_PREFIX_STRLEN];

	(void)state;
	assert_int_equal(bwe_addr_parse("198.51.100.77", &p.addr), 0);
	p.pad[1] = 1;
	bwe_prefix_mask(&p);
	assert_int_equal(bwe_prefix_fmt(&p, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "198.51.96.0/20");
	assert_int_equal(p.pad[1], 0);
	assert_int_equal(bwe_prefix_family_len(&p), 20);

	p.plen = 0;
	bwe_prefix_mask(&p);
	assert_int_equal(bwe_prefix_fmt(&p, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "::/0");
	assert_int_equal(bwe_prefix_family_len(&p), 0);

	p = pfx("2001:db8:abcd::/48");
	assert_int_equal(bwe_prefix_family_len(&p), 48);
	p = pfx("10.0.0.0/8");
	assert_int_equal(bwe_prefix_family_len(&p), 8);
	p = pfx("10.0.0.1");
	assert_int_equal(bwe_prefix_family_len(&p), 32);
}

/* ---- bwe_range_to_prefixes ---------------------------------------------- */

struct range_out {
	char buf[RANGE_OUT_LEN];
	int calls;
	int stop_after; /* return -ECANCELED on this call; 0: never */
};

static int range_collect(const struct bwe_prefix *p, void *ctx)
{
	struct range_out *o = ctx;
	char s[BWE_PREFIX_STRLEN];
	size_t n = strlen(o->buf);

	assert_int_equal(bwe_prefix_fmt(p, s, sizeof(s)), 0);
	snprintf(o->buf + n, sizeof(o->buf) - n, "%s%s", n ? " " : "", s);
	if (++o->calls == o->stop_after)
		return -ECANCELED;
	return 0;
}

static const struct {
	const char *lo, *hi;
	int ret;
	const char *out; /* space-separated prefixes */
} range_cases[] = {
	{ "198.51.100.0", "198.51.100.255", 0, "198.51.100.0/24" },
	{ "198.51.100.1", "198.51.100.6", 0,
	  "198.51.100.1 198.51.100.2/31 198.51.100.4/31 198.51.100.6" },
	{ "198.51.100.7", "198.51.100.7", 0, "198.51.100.7" },
	{ "0.0.0.0", "255.255.255.255", 0, "0.0.0.0/0" },
	{ "0.0.0.0", "127.255.255.255", 0, "0.0.0.0/1" },
	{ "255.255.255.255", "255.255.255.255", 0, "255.255.255.255" },
	{ "10.0.0.255", "10.0.2.0", 0, "10.0.0.255 10.0.1.0/24 10.0.2.0" },
	{ "0.0.0.1", "255.255.255.254", 0,
	  "0.0.0.1 0.0.0.2/31 0.0.0.4/30 0.0.0.8/29 0.0.0.16/28 0.0.0.32/27 "
	  "0.0.0.64/26 0.0.0.128/25 0.0.1.0/24 0.0.2.0/23 0.0.4.0/22 "
	  "0.0.8.0/21 0.0.16.0/20 0.0.32.0/19 0.0.64.0/18 0.0.128.0/17 "
	  "0.1.0.0/16 0.2.0.0/15 0.4.0.0/14 0.8.0.0/13 0.16.0.0/12 "
	  "0.32.0.0/11 0.64.0.0/10 0.128.0.0/9 1.0.0.0/8 2.0.0.0/7 "
	  "4.0.0.0/6 8.0.0.0/5 16.0.0.0/4 32.0.0.0/3 64.0.0.0/2 "
	  "128.0.0.0/2 192.0.0.0/3 224.0.0.0/4 240.0.0.0/5 248.0.0.0/6 "
	  "252.0.0.0/7 254.0.0.0/8 255.0.0.0/9 255.128.0.0/10 "
	  "255.192.0.0/11 255.224.0.0/12 255.240.0.0/13 255.248.0.0/14 "
	  "255.252.0.0/15 255.254.0.0/16 255.255.0.0/17 255.255.128.0/18 "
	  "255.255.192.0/19 255.255.224.0/20 255.255.240.0/21 "
	  "255.255.248.0/22 255.255.252.0/23 255.255.254.0/24 "
	  "255.255.255.0/25 255.255.255.128/26 255.255.255.192/27 "
	  "255.255.255.224/28 255.255.255.240/29 255.255.255.248/30 "
	  "255.255.255.252/31 255.255.255.254" },
	{ "2001:db8::", "2001:db8::ffff", 0, "2001:db8::/112" },
	{ "2001:db8::1", "2001:db8::4", 0, "2001:db8::1 2001:db8::2/127 2001:db8::4" },
	{ "2001:db8::", "2001:db8:0:1:ffff:ffff:ffff:ffff", 0, "2001:db8::/63" },
	{ "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0, "::/0" },
	{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0,
	  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" },
	{ "198.51.100.6", "198.51.100.1", -EINVAL, "" }, /* lo > hi */
	{ "2001:db8::2", "2001:db8::1", -EINVAL, "" },
	{ "198.51.100.1", "2001:db8::1", -EINVAL, "" }, /* mixed family */
	{ "::", "198.51.100.1", -EINVAL, "" },
};

static void test_range(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(range_cases); i++) {
		struct range_out o = { .buf = "" };
		struct bwe_addr lo, hi;
		int ret;

		assert_int_equal(bwe_addr_parse(range_cases[i].lo, &lo), 0);
		assert_int_equal(bwe_addr_parse(range_cases[i].hi, &hi), 0);
		ret = bwe_range_to_prefixes(&lo, &hi, range_collect, &o);
		if (ret != range_cases[i].ret || strcmp(o.buf, range_cases[i].out) != 0)
			fail_msg("range %s - %s: ret %d \"%s\", want %d \"%s\"", range_cases[i].lo,
				 range_cases[i].hi, ret, o.buf, range_cases[i].ret,
				 range_cases[i].out);
	}
}

static void test_range_stop(void **state)
{
	struct range_out o = { .buf = "", .stop_after = 2 };
	struct bwe_addr lo, hi;

	(void)state;
	assert_int_equal(bwe_addr_parse("198.51.100.1", &lo), 0);
	assert_int_equal(bwe_addr_parse("198.51.100.6", &hi), 0);
	assert_int_equal(bwe_range_to_prefixes(&lo, &hi, range_collect, &o), -ECANCELED);
	assert_int_equal(o.calls, 2);
	assert_string_equal(o.buf, "198.51.100.1 198.51.100.2/31");
}

/* ---- MAC addresses ------------------------------------------------------- */

static const struct {
	const char *in;
	int ret;
	const char *out;
} mac_cases[] = {
	{ "aa:bb:cc:dd:ee:ff", 0, "aa:bb:cc:dd:ee:ff" },
	{ "AA:BB:CC:DD:EE:FF", 0, "aa:bb:cc:dd:ee:ff" },
	{ "02-00-5e-10-00-01", 0, "02:00:5e:10:00:01" },
	{ "00:00:00:00:00:00", 0, "00:00:00:00:00:00" },
	{ "aA:0b:Cc:10:e9:F0", 0, "aa:0b:cc:10:e9:f0" },
	{ "", -EINVAL, NULL },
	{ "aa:bb:cc:dd:ee", -EINVAL, NULL },
	{ "aa:bb:cc:dd:ee:ff:00", -EINVAL, NULL },
	{ "aa:bb:cc:dd:ee:f", -EINVAL, NULL },
	{ "a:b:c:d:e:f", -EINVAL, NULL },
	{ "aa:bb-cc:dd:ee:ff", -EINVAL, NULL }, /* mixed separators */
	{ "aa.bb.cc.dd.ee.ff", -EINVAL, NULL },
	{ "aabb.ccdd.eeff", -EINVAL, NULL },
	{ "aabbccddeeff", -EINVAL, NULL },
	{ "gg:bb:cc:dd:ee:ff", -EINVAL, NULL },
	{ "aa:bb:cc:dd:ee:ff ", -EINVAL, NULL },
	{ " aa:bb:cc:dd:ee:f", -EINVAL, NULL },
	{ "+a:bb:cc:dd:ee:ff", -EINVAL, NULL },
	{ "aa::bb:cc:dd:ee:f", -EINVAL, NULL },
};

static void test_mac(void **state)
{
	static const __u8 mac1[BWE_MAC_LEN] = { 0x02, 0, 0x5e, 0x10, 0, 0x01 };
	char buf[BWE_MAC_STRLEN];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(mac_cases); i++) {
		__u8 mac[BWE_MAC_LEN];
		int ret = bwe_mac_parse(mac_cases[i].in, mac);

		if (ret != mac_cases[i].ret)
			fail_msg("mac \"%s\": ret %d, want %d", mac_cases[i].in, ret,
				 mac_cases[i].ret);
		if (ret)
			continue;
		assert_int_equal(bwe_mac_fmt(mac, buf, sizeof(buf)), 0);
		if (strcmp(buf, mac_cases[i].out) != 0)
			fail_msg("mac \"%s\": got \"%s\"", mac_cases[i].in, buf);
	}
	assert_int_equal(bwe_mac_fmt(mac1, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "02:00:5e:10:00:01");
	assert_int_equal(bwe_mac_fmt(mac1, buf, sizeof(buf) - 1), -ENOSPC);
	assert_int_equal(bwe_mac_parse(NULL, (__u8 *)buf), -EINVAL);
}

/* ---- durations ----------------------------------------------------------- */

static const struct {
	const char *in;
	int ret;
	__u64 val;
} duration_cases[] = {
	{ "30s", 0, 30 },
	{ "30", 0, 30 },
	{ "15m", 0, 900 },
	{ "2h", 0, 7200 },
	{ "7d", 0, 604800 },
	{ "1s", 0, 1 },
	{ "010s", 0, 10 }, /* decimal, not octal */
	{ "365d", 0, BWE_DURATION_MAX_S },
	{ "31536000", 0, BWE_DURATION_MAX_S },
	{ "31536001", -ERANGE, 0 },
	{ "366d", -ERANGE, 0 },
	{ "8761h", -ERANGE, 0 },
	{ "99999999999999999999d", -ERANGE, 0 },
	{ "18446744073709551615s", -ERANGE, 0 },
	{ "18446744073709551616", -ERANGE, 0 },
	{ "1000000000000000000d", -ERANGE, 0 }, /* overflows when multiplied */
	{ "0", -EINVAL, 0 },
	{ "0s", -EINVAL, 0 },
	{ "0d", -EINVAL, 0 },
	{ "", -EINVAL, 0 },
	{ "s", -EINVAL, 0 },
	{ "-5s", -EINVAL, 0 },
	{ "+5s", -EINVAL, 0 },
	{ " 5s", -EINVAL, 0 },
	{ "5s ", -EINVAL, 0 },
	{ "5 s", -EINVAL, 0 },
	{ "5S", -EINVAL, 0 },
	{ "15M", -EINVAL, 0 },
	{ "5sec", -EINVAL, 0 },
	{ "1h30m", -EINVAL, 0 },
	{ "1.5h", -EINVAL, 0 },
	{ "2w", -EINVAL, 0 },
	{ "0x10", -EINVAL, 0 },
	{ "99999999999999999999x", -EINVAL, 0 }, /* syntax before range */
	{ "garbage", -EINVAL, 0 },
};

static const struct {
	__u64 secs;
	const char *out;
} duration_fmt_cases[] = {
	{ 90, "90s" },	  { 900, "15m" },
	{ 7200, "2h" },	  { 5400, "90m" },
	{ 86400, "1d" },  { 604800, "7d" },
	{ 90000, "25h" }, { 1, "1s" },
	{ 0, "0s" },	  { UINT64_MAX, "18446744073709551615s" },
};

static void test_duration(void **state)
{
	static char longs[LONG_LEN + 1];
	char buf[BWE_DURATION_STRLEN];
	__u64 v;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(duration_cases); i++) {
		int ret;

		v = UINT64_MAX;
		ret = bwe_duration_parse(duration_cases[i].in, &v);
		if (ret != duration_cases[i].ret || (!ret && v != duration_cases[i].val))
			fail_msg("duration \"%s\": ret %d val %llu, want %d %llu",
				 duration_cases[i].in, ret, (unsigned long long)v,
				 duration_cases[i].ret, (unsigned long long)duration_cases[i].val);
		if (ret && v != UINT64_MAX)
			fail_msg("duration \"%s\": output written on error", duration_cases[i].in);
	}
	for (size_t i = 0; i < ARRAY_SIZE(duration_fmt_cases); i++) {
		assert_int_equal(bwe_duration_fmt(duration_fmt_cases[i].secs, buf, sizeof(buf)), 0);
		assert_string_equal(buf, duration_fmt_cases[i].out);
		/* what is printed reads back to the same value */
		if (duration_fmt_cases[i].secs &&
		    duration_fmt_cases[i].secs <= BWE_DURATION_MAX_S) {
			assert_int_equal(bwe_duration_parse(buf, &v), 0);
			assert_int_equal(v, duration_fmt_cases[i].secs);
		}
	}
	assert_int_equal(bwe_duration_fmt(900, buf, 3), -ENOSPC);
	assert_int_equal(bwe_duration_fmt(900, buf, 4), 0);

	memset(longs, '1', LONG_LEN - 1);
	longs[LONG_LEN - 1] = 's';
	assert_int_equal(bwe_duration_parse(longs, &v), -ERANGE);
	longs[LONG_LEN - 1] = 'x';
	assert_int_equal(bwe_duration_parse(longs, &v), -EINVAL);
	assert_int_equal(bwe_duration_parse(NULL, &v), -EINVAL);
}

/* ---- sizes --------------------------------------------------------------- */

static const struct {
	const char *in;
	int ret;
	__u64 val;
} size_cases[] = {
	{ "1500", 0, 1500 },
	{ "1500B", 0, 1500 },
	{ "0", 0, 0 },
	{ "64k", 0, 65536 },
	{ "64K", 0, 65536 },
	{ "64KB", 0, 65536 },
	{ "64kB", 0, 65536 },
	{ "64KiB", 0, 65536 },
	{ "64Ki", 0, 65536 },
	{ "1M", 0, 1048576 },
	{ "1MiB", 0, 1048576 },
	{ "1m", 0, 1048576 },
	{ "1G", 0, 1073741824 },
	{ "2GB", 0, 2147483648ULL },
	{ "1T", 0, 1099511627776ULL },
	{ "18446744073709551615", 0, UINT64_MAX },
	{ "18446744073709551616", -ERANGE, 0 },
	{ "16777216T", -ERANGE, 0 }, /* 2^64 */
	{ "16777215T", 0, 16777215ULL << 40 },
	{ "99999999999999999999K", -ERANGE, 0 },
	{ "", -EINVAL, 0 },
	{ "B", -EINVAL, 0 },
	{ "K", -EINVAL, 0 },
	{ "-1", -EINVAL, 0 },
	{ "+1", -EINVAL, 0 },
	{ " 64k", -EINVAL, 0 },
	{ "64k ", -EINVAL, 0 },
	{ "64 k", -EINVAL, 0 },
	{ "64kb", -EINVAL, 0 }, /* bits are not a size */
	{ "64b", -EINVAL, 0 },
	{ "64iB", -EINVAL, 0 },
	{ "64KIB", -EINVAL, 0 },
	{ "64KBB", -EINVAL, 0 },
	{ "64KK", -EINVAL, 0 },
	{ "1.5M", -EINVAL, 0 },
	{ "64X", -EINVAL, 0 },
	{ "64P", -EINVAL, 0 },
	{ "0x40", -EINVAL, 0 },
	{ "garbage", -EINVAL, 0 },
};

static void test_size(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(size_cases); i++) {
		__u64 v = UINT64_MAX - 1;
		int ret = bwe_size_parse(size_cases[i].in, &v);

		if (ret != size_cases[i].ret || (!ret && v != size_cases[i].val))
			fail_msg("size \"%s\": ret %d val %llu, want %d %llu", size_cases[i].in,
				 ret, (unsigned long long)v, size_cases[i].ret,
				 (unsigned long long)size_cases[i].val);
	}
	assert_int_equal(bwe_size_parse(NULL, NULL), -EINVAL);
}

/* ---- rates --------------------------------------------------------------- */

static const struct {
	const char *in;
	int ret;
	__u64 val; /* bytes per second */
} rate_cases[] = {
	{ "10mbit", 0, 1250000 },
	{ "10Mbit", 0, 1250000 },
	{ "500kbit", 0, 62500 },
	{ "500Kbit", 0, 62500 },
	{ "1gbit", 0, 125000000 },
	{ "1Gbit", 0, 125000000 },
	{ "800bit", 0, 100 },
	{ "8000", 0, 1000 }, /* bare number: bits per second */
	{ "8", 0, 1 },
	{ "12bit", 0, 1 }, /* rounded down to whole bytes */
	{ "1.5mbit", 0, 187500 },
	{ "1.544mbit", 0, 193000 },
	{ "0.5gbit", 0, 62500000 },
	{ "2MB/s", 0, 2000000 },
	{ "2MBps", 0, 2000000 },
	{ "100kB/s", 0, 100000 },
	{ "100KBps", 0, 100000 },
	{ "1GB/s", 0, 1000000000 },
	{ "1B/s", 0, 1 },
	{ "8Bps", 0, 8 },
	{ "1.5kB/s", 0, 1500 },
	{ "100gbit", 0, BWE_RATE_MAX_BPS },
	{ "12.5GB/s", 0, BWE_RATE_MAX_BPS },
	{ "100000000000", 0, BWE_RATE_MAX_BPS },
	{ "100.000000001gbit", 0, BWE_RATE_MAX_BPS }, /* 1 bit rounds down */
	{ "100.000000008gbit", -ERANGE, 0 },
	{ "101gbit", -ERANGE, 0 },
	{ "13GB/s", -ERANGE, 0 },
	{ "99999999999999999999gbit", -ERANGE, 0 },
	{ "18446744073709551616", -ERANGE, 0 },
	{ "0", -ERANGE, 0 }, /* below BWE_RATE_MIN_BPS */
	{ "0mbit", -ERANGE, 0 },
	{ "7bit", -ERANGE, 0 },
	{ "0B/s", -ERANGE, 0 },
	{ "", -EINVAL, 0 },
	{ "mbit", -EINVAL, 0 },
	{ "-10mbit", -EINVAL, 0 },
	{ "+10mbit", -EINVAL, 0 },
	{ " 10mbit", -EINVAL, 0 },
	{ "10mbit ", -EINVAL, 0 },
	{ "10 mbit", -EINVAL, 0 },
	{ "10m", -EINVAL, 0 },
	{ "10M", -EINVAL, 0 },
	{ "10mbps", -EINVAL, 0 }, /* ambiguous: refused */
	{ "8bps", -EINVAL, 0 },
	{ "10mbit/s", -EINVAL, 0 },
	{ "10MBIT", -EINVAL, 0 },
	{ "10tbit", -EINVAL, 0 },
	{ "2MB", -EINVAL, 0 },
	{ "2Mb/s", -EINVAL, 0 },
	{ "1.5", -EINVAL, 0 }, /* finer than one bit */
	{ "1.5bit", -EINVAL, 0 },
	{ "1.0000001mbit", -EINVAL, 0 },
	{ "1.5B/s", -EINVAL, 0 },
	{ "1.mbit", -EINVAL, 0 },
	{ ".5mbit", -EINVAL, 0 },
	{ "1..5mbit", -EINVAL, 0 },
	{ "1,5mbit", -EINVAL, 0 },
	{ "0x10mbit", -EINVAL, 0 },
	{ "99999999999999999999xbit", -EINVAL, 0 }, /* syntax before range */
	{ "garbage", -EINVAL, 0 },
};

static const struct {
	__u64 bytes_per_sec;
	const char *out;
} rate_fmt_cases[] = {
	{ 1250000, "10mbit" },
	{ 187500, "1.5mbit" },
	{ 193000, "1.544mbit" },
	{ 62500, "500kbit" },
	{ 125000000, "1gbit" },
	{ BWE_RATE_MAX_BPS, "100gbit" },
	{ 62500000, "500mbit" },
	{ 12345, "98.76kbit" },
	{ 100, "800bit" },
	{ 1, "8bit" },
	{ 124, "992bit" },
	{ 125, "1kbit" },
	{ 123456789, "987.654312mbit" },
	{ 0, "0bit" },
	{ UINT64_MAX / 8, "18446744073.709551608gbit" },
};

static void test_rate(void **state)
{
	char buf[BWE_RATE_STRLEN];
	__u64 v;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(rate_cases); i++) {
		int ret;

		v = UINT64_MAX;
		ret = bwe_rate_parse(rate_cases[i].in, &v);
		if (ret != rate_cases[i].ret || (!ret && v != rate_cases[i].val))
			fail_msg("rate \"%s\": ret %d val %llu, want %d %llu", rate_cases[i].in,
				 ret, (unsigned long long)v, rate_cases[i].ret,
				 (unsigned long long)rate_cases[i].val);
		if (ret && v != UINT64_MAX)
			fail_msg("rate \"%s\": output written on error", rate_cases[i].in);
	}
	for (size_t i = 0; i < ARRAY_SIZE(rate_fmt_cases); i++) {
		__u64 want = rate_fmt_cases[i].bytes_per_sec;

		assert_int_equal(bwe_rate_fmt(want, buf, sizeof(buf)), 0);
		if (strcmp(buf, rate_fmt_cases[i].out) != 0)
			fail_msg("rate fmt %llu: got \"%s\", want \"%s\"", (unsigned long long)want,
				 buf, rate_fmt_cases[i].out);
		/* what is printed reads back to the same value */
		if (want >= BWE_RATE_MIN_BPS && want <= BWE_RATE_MAX_BPS) {
			assert_int_equal(bwe_rate_parse(buf, &v), 0);
			assert_int_equal(v, want);
		}
	}
	assert_int_equal(bwe_rate_fmt(UINT64_MAX / 8 + 1, buf, sizeof(buf)), -ERANGE);
	assert_int_equal(bwe_rate_fmt(1250000, buf, strlen("10mbit")), -ENOSPC);
	assert_string_equal(buf, "");
	assert_int_equal(bwe_rate_parse(NULL, &v), -EINVAL);
}

/* ---- log ----------------------------------------------------------------- */

/* Run fn with stderr captured into out. */
static void capture_stderr(void (*fn)(void), char *out, size_t len)
{
	FILE *f = tmpfile();
	int saved = dup(STDERR_FILENO);
	size_t n;

	assert_non_null(f);
	assert_true(saved >= 0);
	fflush(stderr);
	assert_true(dup2(fileno(f), STDERR_FILENO) >= 0);
	fn();
	fflush(stderr);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	rewind(f);
	n = fread(out, 1, len - 1, f);
	out[n] = '\0';
	fclose(f);
}

static void log_some(void)
{
	log_init(1, 0, "bwtest");
	errno = ENOENT;
	log_warn("open %s", "x.conf");
	assert_int_equal(errno, ENOENT); /* preserved */
	log_warnx("plain %d", 42);
	log_info("info");
	log_debug("hidden");
	log_setverbose(1);
	assert_int_equal(log_getverbose(), 1);
	log_debug("shown");
	log_setverbose(0);
}

static void test_log(void **state)
{
	char buf[LOG_BUF_LEN];
	char want[LOG_BUF_LEN];
	pid_t pid;
	int status;

	(void)state;
	capture_stderr(log_some, buf, sizeof(buf));
	snprintf(want, sizeof(want),
		 "bwtest: open x.conf: %s\nbwtest: plain 42\nbwtest: info\n"
		 "bwtest: shown\n",
		 strerror(ENOENT));
	assert_string_equal(buf, want);

	/* fatalx() logs and exits 1 */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);

		dup2(devnull, STDERR_FILENO);
		fatalx("bye");
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_parse),   cmocka_unit_test(test_addr_misc),
		cmocka_unit_test(test_prefix_parse), cmocka_unit_test(test_prefix_long),
		cmocka_unit_test(test_prefix_fmt),   cmocka_unit_test(test_prefix_cover),
		cmocka_unit_test(test_prefix_mask),  cmocka_unit_test(test_range),
		cmocka_unit_test(test_range_stop),   cmocka_unit_test(test_mac),
		cmocka_unit_test(test_duration),     cmocka_unit_test(test_size),
		cmocka_unit_test(test_rate),	     cmocka_unit_test(test_log),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
