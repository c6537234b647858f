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
#include <json-c/json.h>

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

#define QID "0123456789abcdef" /* a scope question's ID */

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
		{ "scope/req/0123456789ABCDEF", "lowercase hex" },
		{ "scope/req/0123456789abcde", "lowercase hex" },
		{ "scope/req/" QID "/site-b", "something follows the ID" },
		{ "scope/ans/" QID, "no /SITE after the ID" },
		{ "scope/ans/" QID "/-b", "not a site name" },
		{ "scope/ans/" QID "/a/b", "not a site name" },
		{ "scope/what/" QID, "neither scope/req/ID nor scope/ans/ID/SITE" },
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

/* ---- fleet-wide scope ------------------------------------------------------------------ */

/* Scope keys written and read back (bad ones: test_bad_keys); fresh IDs. */
static void test_scope_keys(void **state)
{
	char key[BWE_FREC_KEY_MAX], kind[BWE_FREC_KIND_MAX], site[BWE_FREC_SITE_MAX], err[256];
	char id[BWE_FREC_SCOPE_ID_LEN], id2[BWE_FREC_SCOPE_ID_LEN];
	struct bwe_frec_target t;

	(void)state;
	assert_int_equal(bwe_frec_scope_key(QID, NULL, key, sizeof(key)), 0);
	assert_string_equal(key, "scope/req/" QID);
	assert_int_equal(bwe_frec_parse_key(key, kind, &t, site, err, sizeof(err)),
			 BWE_FREC_KEY_SCOPE_REQ);
	assert_int_equal(bwe_frec_scope_key(QID, "site-b", key, sizeof(key)), 0);
	assert_string_equal(key, "scope/ans/" QID "/site-b");
	assert_int_equal(bwe_frec_parse_key(key, kind, &t, site, err, sizeof(err)),
			 BWE_FREC_KEY_SCOPE_ANS);
	assert_string_equal(site, "site-b");
	assert_int_equal(bwe_frec_scope_key("xyz", NULL, key, sizeof(key)), -EINVAL);
	assert_int_equal(bwe_frec_scope_key(QID, "-b", key, sizeof(key)), -EINVAL);
	/* two IDs: 16 lowercase hex digits each, and not the same */
	assert_int_equal(bwe_frec_scope_id(id), 0);
	assert_int_equal(bwe_frec_scope_id(id2), 0);
	assert_int_equal(strlen(id), 16);
	assert_int_equal(strspn(id, "0123456789abcdef"), 16);
	assert_string_not_equal(id, id2);
}

static void test_scope_req(void **state)
{
	struct bwe_frec_scope_req q = { .id = QID,
					.site = "site-a",
					.since_s = 3600,
					.deadline = 1800000003 },
				  back;
	char err[256], *val, *p, bad[1024];

	(void)state;
	assert_int_equal(bwe_addr_parse("203.0.113.66", &q.target), 0);
	assert_int_equal(bwe_addr_parse("198.51.100.7", &q.peers[0]), 0);
	assert_int_equal(bwe_addr_parse("2001:db8:2::66", &q.peers[1]), 0);
	q.npeers = 2;
	val = bwe_frec_scope_req_encode(&q);
	assert_non_null(val);
	assert_int_equal(bwe_frec_scope_req_parse("scope/req/" QID, val, strlen(val), &back, err,
						  sizeof(err)),
			 0);
	assert_string_equal(back.site, "site-a");
	assert_int_equal(back.since_s, 3600);
	assert_int_equal(back.deadline, 1800000003);
	assert_int_equal(back.npeers, 2);
	assert_memory_equal(&back.peers[1], &q.peers[1], sizeof(q.peers[1]));
	assert_memory_equal(&back.target, &q.target, sizeof(q.target));
	/* another question's key */
	assert_int_equal(bwe_frec_scope_req_parse("scope/req/fedcba9876543210", val, strlen(val),
						  &back, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "\"id\" \"" QID "\" is not the key's"));
	assert_int_equal(bwe_frec_scope_req_parse("scope/ans/" QID "/site-a", val, strlen(val),
						  &back, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "not a scope question key"));
	/* each field wrong in turn */
	{
		static const struct {
			const char *from, *to, *why;
		} edits[] = {
			{ "\"since_s\":3600", "\"since_s\":0", "\"since_s\" is out of range" },
			{ "\"since_s\":3600", "\"since_s\":99999999",
			  "\"since_s\" is out of range" },
			{ "\"target\":\"203.0.113.66\"", "\"target\":\"203.0.113.0/24\"",
			  "\"target\" is not an address" },
			{ "\"198.51.100.7\"", "\"c2.example\"", "peers[0] is not an address" },
			{ "\"198.51.100.7\"", "7", "peers[0] is not an address" },
			{ "\"site\":\"site-a\"", "\"site\":\"a b\"",
			  "\"site\" is not a site name" },
			{ "\"deadline\":1800000003", "\"deadline\":\"soon\"",
			  "\"deadline\" is not an integer" },
			{ "\"v\":1", "\"v\":9", "record version 9" },
		};
		size_t i;

		for (i = 0; i < ARRAY_SIZE(edits); i++) {
			p = strstr(val, edits[i].from);
			assert_non_null(p);
			snprintf(bad, sizeof(bad), "%.*s%s%s", (int)(p - val), val, edits[i].to,
				 p + strlen(edits[i].from));
			err[0] = '\0';
			assert_int_equal(bwe_frec_scope_req_parse("scope/req/" QID, bad,
								  strlen(bad), &back, err,
								  sizeof(err)),
					 -EINVAL);
			if (!strstr(err, edits[i].why))
				fail_msg("%s: \"%s\" does not say \"%s\"", bad, err, edits[i].why);
		}
	}
	free(val);
}

static void fill_host(struct bwe_frec_scope_host *h, unsigned int i)
{
	char a[40];
	size_t k;

	snprintf(a, sizeof(a), "198.18.%u.%u", i / 250, i % 250 + 1);
	assert_int_equal(bwe_addr_parse(a, &h->host), 0);
	h->peers_in_common = 7;
	h->first_seen = 1800000000;
	h->last_seen = 1800000100;
	snprintf(h->contained, sizeof(h->contained), "%s", i % 2 ? "quarantine" : "");
	for (k = 0; k < BWE_FREC_SCOPE_HPEERS_MAX; k++) {
		snprintf(a, sizeof(a), "203.0.113.%zu", k + 1);
		assert_int_equal(bwe_addr_parse(a, &h->peers[k].peer), 0);
		snprintf(h->peers[k].feed, sizeof(h->peers[k].feed), "%s",
			 "a-feed-with-a-long-name-for-the-bound-of-the-answer-0123456789");
		h->peers[k].last_seen = 1800000100;
		h->peers[k].contacts = 3;
	}
	h->npeers = BWE_FREC_SCOPE_HPEERS_MAX;
}

static void test_scope_ans(void **state)
{
	struct bwe_frec_scope_ans *a = calloc(1, sizeof(*a)), *back = calloc(1, sizeof(*back));
	char err[400], *val, *p, *bad;
	size_t i, len;

	(void)state;
	assert_non_null(a);
	assert_non_null(back);
	snprintf(a->id, sizeof(a->id), QID);
	snprintf(a->site, sizeof(a->site), "site-b");
	assert_int_equal(bwe_addr_parse("203.0.113.66", &a->target), 0);
	a->generated = 1800000200;
	a->window_covered = true;
	a->more = 2;
	for (i = 0; i < 3; i++)
		fill_host(&a->hosts[i], (unsigned int)i);
	a->nhosts = 3;
	val = bwe_frec_scope_ans_encode(a, 8192);
	assert_non_null(val);
	assert_int_equal(a->nhosts, 3); /* it fits: nothing left out */
	assert_int_equal(bwe_frec_scope_ans_parse("scope/ans/" QID "/site-b", val, strlen(val),
						  back, err, sizeof(err)),
			 0);
	assert_int_equal(back->nhosts, 3);
	assert_int_equal(back->more, 2);
	assert_true(back->window_covered);
	assert_string_equal(back->hosts[1].contained, "quarantine");
	assert_string_equal(back->hosts[0].contained, "");
	assert_int_equal(back->hosts[2].peers_in_common, 7);
	assert_int_equal(back->hosts[2].npeers, BWE_FREC_SCOPE_HPEERS_MAX);
	assert_int_equal(back->hosts[2].peers[3].contacts, 3);
	assert_memory_equal(&back->hosts[2].host, &a->hosts[2].host, sizeof(a->hosts[2].host));
	/* a site answering in another's name */
	assert_int_equal(bwe_frec_scope_ans_parse("scope/ans/" QID "/site-c", val, strlen(val),
						  back, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "\"site\" \"site-b\" is not the key's \"site-c\""));
	{
		static const struct {
			const char *from, *to, *why;
		} edits[] = {
			{ "\"host\":\"198.18.0.2\"", "\"host\":\"host-b\"",
			  "hosts[1]: \"host\" is not an address" },
			{ "\"contained\":\"quarantine\"", "\"contained\":\"block\"",
			  "hosts[1]: \"contained\" is neither quarantine nor throttle" },
			{ "\"peer\":\"203.0.113.1\"", "\"peer\":\"::/0\"",
			  "hosts[0]: peers[0]: \"peer\" is not an address" },
			{ "\"contacts\":3", "\"contacts\":-1",
			  "hosts[0]: peers[0]: \"contacts\" is out of range" },
			{ "\"peers_in_common\":7", "\"peers_in_common\":1",
			  "hosts[0]: \"peers_in_common\" is fewer than the peers listed" },
			{ "\"first_seen\":1800000000", "\"first_seen\":1900000000",
			  "hosts[0]: \"first_seen\" is after \"last_seen\"" },
			{ "\"more\":2", "\"more\":-2", "\"more\" is out of range" },
			{ "\"window_covered\":true", "\"window_covered\":1",
			  "\"window_covered\" is not true or false" },
			{ "\"hosts\":[", "\"hosts\":\"none\",\"h\":[", "\"hosts\" is not a list" },
			{ "\"feed\":\"a-feed", "\"feed\":\"\\u0007a-feed", "control character" },
		};

		len = strlen(val) + 64;
		bad = malloc(len);
		assert_non_null(bad);
		for (i = 0; i < ARRAY_SIZE(edits); i++) {
			p = strstr(val, edits[i].from);
			assert_non_null(p);
			snprintf(bad, len, "%.*s%s%s", (int)(p - val), val, edits[i].to,
				 p + strlen(edits[i].from));
			err[0] = '\0';
			assert_int_equal(bwe_frec_scope_ans_parse("scope/ans/" QID "/site-b", bad,
								  strlen(bad), back, err,
								  sizeof(err)),
					 -EINVAL);
			if (!strstr(err, edits[i].why))
				fail_msg("%s: \"%s\" does not say \"%s\"", bad, err, edits[i].why);
		}
		free(bad);
	}
	free(val);

	/* the bound: every host a site may list does not fit 8 KiB; the last give way */
	for (i = 0; i < BWE_FREC_SCOPE_HOSTS_MAX; i++)
		fill_host(&a->hosts[i], (unsigned int)i);
	a->nhosts = BWE_FREC_SCOPE_HOSTS_MAX;
	a->more = 0;
	val = bwe_frec_scope_ans_encode(a, 8192);
	assert_non_null(val);
	assert_true(strlen(val) <= 8192);
	assert_true(a->nhosts > 0 && a->nhosts < BWE_FREC_SCOPE_HOSTS_MAX);
	assert_int_equal(a->more, BWE_FREC_SCOPE_HOSTS_MAX - a->nhosts);
	assert_int_equal(bwe_frec_scope_ans_parse("scope/ans/" QID "/site-b", val, strlen(val),
						  back, err, sizeof(err)),
			 0);
	assert_int_equal(back->nhosts, a->nhosts);
	free(val);
	/* more hosts than a site may list: refused */
	{
		struct json_object *o = json_object_new_object(), *arr = json_object_new_array();
		const char *s;

		json_object_object_add(o, "v", json_object_new_int(1));
		json_object_object_add(o, "id", json_object_new_string(QID));
		json_object_object_add(o, "site", json_object_new_string("site-b"));
		json_object_object_add(o, "target", json_object_new_string("203.0.113.66"));
		json_object_object_add(o, "generated", json_object_new_int(1));
		json_object_object_add(o, "more", json_object_new_int(0));
		for (i = 0; i <= BWE_FREC_SCOPE_HOSTS_MAX; i++)
			json_object_array_add(arr, json_object_new_object());
		json_object_object_add(o, "hosts", arr);
		s = json_object_to_json_string(o);
		assert_int_equal(bwe_frec_scope_ans_parse("scope/ans/" QID "/site-b", s, strlen(s),
							  back, err, sizeof(err)),
				 -EINVAL);
		assert_non_null(strstr(err, "\"hosts\" is not a list of at most 32"));
		json_object_put(o);
	}
	free(a);
	free(back);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys),	   cmocka_unit_test(test_bad_keys),
		cmocka_unit_test(test_round_trip), cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_sites),	   cmocka_unit_test(test_scope_keys),
		cmocka_unit_test(test_scope_req),  cmocka_unit_test(test_scope_ans),
	};

	return cmocka_run_group_tests_name("fleetrec", tests, NULL, NULL);
}
