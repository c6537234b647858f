// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_fleetrec.c - the fleet's records (lib/fleetrec.c): keys written and
 * read back, one spelling per target, values encoded and parsed back
 * field for field, and every way another site's value can be wrong
 * refused with a reason naming the field.
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

#include "fleetrec.h"

#define ARRAY_SIZE(x) (sizeof(x) / sizeof((x)[0]))

static struct bwe_frec_target pfx_target(const char *s)
{
	struct bwe_frec_target t = { 0 };

	assert_int_equal(bwe_prefix_parse(s, &t.pfx, 0), 0);
	return t;
}

static void test_keys(void **state)
{
	static const struct {
		const char *kind, *target, *key;
	} good[] = {
		{ "quarantine", "198.18.0.10", "entries/quarantine/198.18.0.10_32" },
		{ "block", "203.0.113.0/24", "entries/block/203.0.113.0_24" },
		{ "allow", "2001:db8::/32", "entries/allow/2001:db8::_32" },
		{ "throttle", "2001:db8:1::10", "entries/throttle/2001:db8:1::10_128" },
	};
	char key[BWE_FREC_KEY_MAX], kind[BWE_FREC_KIND_MAX], site[BWE_FREC_SITE_MAX], err[256];
	struct bwe_frec_target t, back;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(good); i++) {
		t = pfx_target(good[i].target);
		assert_int_equal(bwe_frec_entry_key(good[i].kind, &t, key, sizeof(key)), 0);
		assert_string_equal(key, good[i].key);
		assert_int_equal(bwe_frec_parse_key(key, kind, &back, site, err, sizeof(err)),
				 BWE_FREC_KEY_ENTRY);
		assert_string_equal(kind, good[i].kind);
		assert_false(back.is_mac);
		assert_int_equal(bwe_prefix_cmp(&back.pfx, &t.pfx), 0);
	}
	memset(&t, 0, sizeof(t));
	t.is_mac = true;
	assert_int_equal(bwe_mac_parse("02:00:00:00:00:01", t.mac), 0);
	assert_int_equal(bwe_frec_entry_key("quarantine", &t, key, sizeof(key)), 0);
	assert_string_equal(key, "entries/quarantine/mac_02-00-00-00-00-01");
	assert_int_equal(bwe_frec_parse_key(key, kind, &back, site, err, sizeof(err)),
			 BWE_FREC_KEY_ENTRY);
	assert_true(back.is_mac);
	assert_memory_equal(back.mac, t.mac, BWE_MAC_LEN);
	assert_int_equal(bwe_frec_parse_key("sites/site-a", kind, &back, site, err, sizeof(err)),
			 BWE_FREC_KEY_SITE);
	assert_string_equal(site, "site-a");
	assert_int_equal(bwe_frec_entry_key("frobnicate", &t, key, sizeof(key)), -EINVAL);
}

static void test_bad_keys(void **state)
{
	static const struct {
		const char *key, *why;
	} bad[] = {
		{ "entries/frobnicate/198.18.0.1_32", "unknown kind" },
		{ "entries/quarantine/not-an-address", "neither ADDRESS_LENGTH" },
		{ "entries/quarantine/198.18.0.1_33", "not a prefix" },
		{ "entries/block/198.18.0.1_24", "host bits clear" },
		{ "entries/exempt/0.0.0.0_0", "never /0" },
		{ "entries/block/198.018.0.0_24", "not a prefix" },
		{ "entries/quarantine/::ffff:198.18.0.1_128", "canonical" },
		{ "entries/block/mac_02-00-00-00-00-01", "only quarantine and throttle" },
		{ "entries/quarantine/mac_zz-00-00-00-00-01", "not a MAC" },
		{ "entries/quarantine", "no kind" },
		{ "sites/-x", "not a site name" },
		{ "sites/", "not a site name" },
		{ "other/thing", "neither" },
	};
	char kind[BWE_FREC_KIND_MAX], site[BWE_FREC_SITE_MAX], err[256];
	struct bwe_frec_target t;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		err[0] = '\0';
		assert_int_equal(bwe_frec_parse_key(bad[i].key, kind, &t, site, err, sizeof(err)),
				 -EINVAL);
		if (!strstr(err, bad[i].why))
			fail_msg("%s: \"%s\" does not say \"%s\"", bad[i].key, err, bad[i].why);
	}
}

static void test_round_trip(void **state)
{
	struct bwe_frec_entry e = { 0 }, back;
	char key[BWE_FREC_KEY_MAX], err[256], *val;

	(void)state;
	snprintf(e.kind, sizeof(e.kind), "throttle");
	e.t.is_mac = true;
	assert_int_equal(bwe_mac_parse("02:b3:00:00:00:10", e.t.mac), 0);
	snprintf(e.action, sizeof(e.action), "throttle");
	snprintf(e.site, sizeof(e.site), "site-a");
	e.seq = 42;
	snprintf(e.actor, sizeof(e.actor), "uid=0(root) pid=7: bwctl throttle 198.18.0.10 1mbit");
	snprintf(e.reason, sizeof(e.reason), "proxyware \"Honeygain\"");
	e.since = 1800000000;
	e.expires = 1800003600;
	e.rate = 125000;
	e.burst = 31250;
	e.prefix64 = true;
	assert_int_equal(bwe_addr_parse("198.18.0.10", &e.addrs[0]), 0);
	assert_int_equal(bwe_addr_parse("2001:db8:1::10", &e.addrs[1]), 0);
	e.naddrs = 2;
	assert_int_equal(bwe_frec_entry_key(e.kind, &e.t, key, sizeof(key)), 0);
	val = bwe_frec_entry_encode(&e);
	assert_non_null(val);
	assert_int_equal(bwe_frec_entry_parse(key, val, strlen(val), &back, err, sizeof(err)), 0);
	assert_string_equal(back.kind, e.kind);
	assert_true(back.t.is_mac);
	assert_memory_equal(back.t.mac, e.t.mac, BWE_MAC_LEN);
	assert_false(back.deleted);
	assert_string_equal(back.site, "site-a");
	assert_int_equal(back.seq, 42);
	assert_string_equal(back.actor, e.actor);
	assert_string_equal(back.reason, e.reason);
	assert_int_equal(back.since, e.since);
	assert_int_equal(back.expires, e.expires);
	assert_int_equal(back.rate, e.rate);
	assert_int_equal(back.burst, e.burst);
	assert_true(back.prefix64);
	assert_int_equal(back.naddrs, 2);
	assert_memory_equal(&back.addrs[1], &e.addrs[1], sizeof(e.addrs[1]));
	free(val);

	/* a tombstone */
	e.deleted = true;
	snprintf(e.action, sizeof(e.action), "unthrottle");
	val = bwe_frec_entry_encode(&e);
	assert_int_equal(bwe_frec_entry_parse(key, val, strlen(val), &back, err, sizeof(err)), 0);
	assert_true(back.deleted);
	assert_string_equal(back.action, "unthrottle");
	assert_int_equal(back.naddrs, 0);
	free(val);
}

/* A good block value with one field changed by edit ("K":V text replacing "K":...). */
static const char good_block[] =
	"{\"v\":1,\"kind\":\"block\",\"prefix\":\"203.0.113.0/24\","
	"\"action\":\"block\",\"site\":\"site-b\",\"seq\":3,\"actor\":\"x\","
	"\"reason\":\"\",\"since\":1,\"expires\":0}";

static void test_bad_values(void **state)
{
	static const struct {
		const char *key, *val, *why;
	} bad[] = {
		{ "entries/block/203.0.113.0_24", "", "empty" },
		{ "entries/block/203.0.113.0_24", "{\"v\":1,", "ends before the object does" },
		{ "entries/block/203.0.113.0_24", "[1,2]", "not a JSON object" },
		{ "entries/block/203.0.113.0_24", "{} {}", "something follows the object" },
		{ "entries/block/203.0.113.0_24", "{\"a\":[[[[[[[[[[1]]]]]]]]]]}", "not one JSON" },
		{ "entries/block/203.0.113.0_24", "{\"v\":2}", "record version 2" },
		{ "entries/block/203.0.113.0_24", "{\"v\":\"1\"}", "\"v\" is not an integer" },
		{ "entries/quarantine/203.0.113.0_24", good_block, "not the key's" },
		{ "entries/block/203.0.113.0_25", good_block, "is not the key's" },
		{ "entries/block/198.51.100.0_24", good_block, "prefix \"203.0.113.0/24\" is not" },
	};
	static const struct {
		const char *from, *to, *why;
	} edits[] = {
		{ "\"site\":\"site-b\"", "\"site\":\"-b\"", "not a site name" },
		{ "\"site\":\"site-b\"", "\"site\":1", "\"site\" is not a string" },
		{ "\"action\":\"block\"", "\"action\":\"release\"", "does not make a block" },
		{ "\"seq\":3", "\"seq\":-3", "\"seq\" is out of range" },
		{ "\"reason\":\"\"", "\"reason\":\"a\\u0001b\"", "control character" },
		{ "\"expires\":0", "\"expires\":-5", "\"expires\" is out of range" },
		{ "\"expires\":0", "\"expires\":1.5", "\"expires\" is not an integer" },
		{ "\"actor\":\"x\"", "\"actor\":{\"kind\":\"operator\"}",
		  "\"actor\" is not a string" },
		{ "\"kind\":\"block\",", "", "\"kind\" is missing" },
	};
	char err[256], val[1024], *p;
	struct bwe_frec_entry e;
	size_t i;

	(void)state;
	assert_int_equal(bwe_frec_entry_parse("entries/block/203.0.113.0_24", good_block,
					      strlen(good_block), &e, err, sizeof(err)),
			 0);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		err[0] = '\0';
		assert_int_equal(bwe_frec_entry_parse(bad[i].key, bad[i].val, strlen(bad[i].val),
						      &e, err, sizeof(err)),
				 -EINVAL);
		if (!strstr(err, bad[i].why))
			fail_msg("%s: \"%s\" does not say \"%s\"", bad[i].val, err, bad[i].why);
	}
	for (i = 0; i < ARRAY_SIZE(edits); i++) {
		p = strstr(good_block, edits[i].from);
		assert_non_null(p);
		snprintf(val, sizeof(val), "%.*s%s%s", (int)(p - good_block), good_block,
			 edits[i].to, p + strlen(edits[i].from));
		err[0] = '\0';
		assert_int_equal(bwe_frec_entry_parse("entries/block/203.0.113.0_24", val,
						      strlen(val), &e, err, sizeof(err)),
				 -EINVAL);
		if (!strstr(err, edits[i].why))
			fail_msg("%s: \"%s\" does not say \"%s\"", val, err, edits[i].why);
	}
	/* a NUL inside the value */
	assert_int_equal(bwe_frec_entry_parse("entries/block/203.0.113.0_24", "{\"v\":1}\0x", 9, &e,
					      err, sizeof(err)),
			 -EINVAL);
}

static void test_sites(void **state)
{
	struct bwe_frec_site s = { 0 }, back;
	char err[256], *val;

	(void)state;
	snprintf(s.site, sizeof(s.site), "site-a");
	s.time = 1800000000;
	s.applied_revision = 1234;
	s.queued = 2;
	snprintf(s.feeds[0].name, sizeof(s.feeds[0].name), "spamhaus-drop");
	snprintf(s.feeds[0].version, sizeof(s.feeds[0].version), "0123456789abcdef");
	s.feeds[0].entries = 1500;
	s.feeds[0].last_success = 1799999000;
	s.nfeeds = 1;
	val = bwe_frec_site_encode(&s);
	assert_non_null(val);
	assert_int_equal(bwe_frec_site_parse("site-a", val, strlen(val), &back, err, sizeof(err)),
			 0);
	assert_int_equal(back.applied_revision, 1234);
	assert_int_equal(back.nfeeds, 1);
	assert_string_equal(back.feeds[0].version, "0123456789abcdef");
	assert_int_equal(back.feeds[0].entries, 1500);
	/* a site speaking for another */
	assert_int_equal(bwe_frec_site_parse("site-b", val, strlen(val), &back, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "is not the key's"));
	free(val);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys),	   cmocka_unit_test(test_bad_keys),
		cmocka_unit_test(test_round_trip), cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_sites),
	};

	return cmocka_run_group_tests_name("fleetrec", tests, NULL, NULL);
}
