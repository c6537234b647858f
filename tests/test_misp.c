// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_misp.c - bwctld as a MISP client, the parts without a process: the
 * restSearch request body and its window, and the response parser
 * (lib/feed_misp.c, BWE_FMT_MISP of the one feed parser) on responses
 * shaped as MISP 2.4 answers them (tests/data/misp/): the types asked for,
 * to_ids, provenance ids, bad values, error answers, empty and large ones.
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

#include "feed.h"
#include "misp.h"
#include "test_helpers.h"

#define ARRAY_SIZE(x) (sizeof(x) / sizeof((x)[0]))
#define DATA	      "tests/data/misp/"
#define KEPT_MAX      32
#define TEXT_MAX      300
#define LARGE_N	      50000 /* attributes of the large response */

static void test_request(void **state)
{
	static const char *const good[] = { "30d", "12h", "90m", "3600s", "2w" };
	static const char *const bad[] = { "",	  "d",	 "30",	"030d",
					   "30y", "3 d", "-1d", "123456789012345d" };
	char body[BWE_MISP_BODY_MAX];
	struct json_object *o, *v;
	int n;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(good); i++)
		assert_int_equal(bwe_misp_last_check(good[i]), 0);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (bwe_misp_last_check(bad[i]) != -EINVAL)
			fail_msg("\"%s\" taken as a window", bad[i]);
	n = bwe_misp_request_body("30d", body, sizeof(body));
	assert_int_equal(n, (int)strlen(body));
	/* what MISP reads: the exact members of the search */
	o = json_tokener_parse(body);
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "returnFormat", &v));
	assert_string_equal(json_object_get_string(v), "json");
	assert_true(json_object_object_get_ex(o, "to_ids", &v));
	assert_true(json_object_get_boolean(v));
	assert_true(json_object_object_get_ex(o, "last", &v));
	assert_string_equal(json_object_get_string(v), "30d");
	assert_true(json_object_object_get_ex(o, "type", &v));
	assert_int_equal(json_object_array_length(v), 5);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(v, 2)), "ip-src|port");
	assert_string_equal(json_object_get_string(json_object_array_get_idx(v, 4)), "domain");
	json_object_put(o);
	assert_int_equal(bwe_misp_request_body("30y", body, sizeof(body)), -EINVAL);
	assert_int_equal(bwe_misp_request_body("30d", body, 20), -ENOSPC);
}

struct kept {
	char text[KEPT_MAX][64];
	char ids[KEPT_MAX][BWE_MISP_ID_MAX];
	__u32 lines[KEPT_MAX];
	size_t n;
	char reasons[KEPT_MAX][TEXT_MAX];
	size_t nrej;
};

static int keep(const struct bwe_indicator *ind, void *ctx)
{
	struct kept *k = ctx;

	assert_true(k->n < KEPT_MAX);
	if (ind->kind == BWE_IND_DOMAIN)
		snprintf(k->text[k->n], sizeof(k->text[0]), "%s", ind->domain);
	else
		bwe_prefix_fmt(&ind->pfx, k->text[k->n], sizeof(k->text[0]));
	snprintf(k->ids[k->n], sizeof(k->ids[0]), "%s", ind->id ? ind->id : "");
	k->lines[k->n] = ind->line;
	k->n++;
	return 0;
}

static void keep_reject(const struct bwe_feed_reject *rej, void *ctx)
{
	struct kept *k = ctx;

	if (k->nrej < KEPT_MAX)
		snprintf(k->reasons[k->nrej], TEXT_MAX, "%u: %s", rej->line, rej->reason);
	k->nrej++;
}

static int parse_file(const char *name, struct kept *k, struct bwe_feed_stats *st)
{
	char path[256], *body;
	struct bwe_feed_parse_opts o = { .format = BWE_FMT_MISP,
					 .on_ind = keep,
					 .on_reject = keep_reject,
					 .ctx = k };
	int ret;

	snprintf(path, sizeof(path), DATA "%s", name);
	body = slurp(path);
	assert_true(body[0]);
	memset(k, 0, sizeof(*k));
	ret = bwe_feed_parse(body, strlen(body), &o, st);
	free(body);
	return ret;
}

static void test_restsearch(void **state)
{
	static const struct {
		const char *text, *id;
		__u32 line;
	} want[] = {
		{ "198.51.100.23",
		  "misp event 42 attribute 5f0c7a3e-1b2c-4d5e-8f90-a1b2c3d4e5f6 (proxyware relay)",
		  1 },
		{ "203.0.113.7", "misp event 42 attribute 5f0c7a3e-1b2c-4d5e-8f90-a1b2c3d4e5f7",
		  2 },
		{ "c2.botnet.example",
		  "misp event 43 attribute 5f0c7a3e-1b2c-4d5e-8f90-a1b2c3d4e5f8 (C2)", 3 },
		{ "2001:db8:bad::7", "misp event 43 attribute 5f0c7a3e-1b2c-4d5e-8f90-a1b2c3d4e5f9",
		  4 },
		{ "192.0.2.0/24", "misp event 44 attribute 5f0c7a3e-1b2c-4d5e-8f90-a1b2c3d4e5fc",
		  7 },
	};
	struct bwe_feed_stats st;
	struct kept k;

	(void)state;
	assert_int_equal(parse_file("restsearch.json", &k, &st), 0);
	assert_int_equal(st.format, BWE_FMT_MISP);
	assert_int_equal(st.lines, 9);
	assert_int_equal(k.n, ARRAY_SIZE(want));
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		assert_string_equal(k.text[i], want[i].text);
		assert_string_equal(k.ids[i], want[i].id);
		assert_int_equal(k.lines[i], want[i].line);
	}
	assert_int_equal(st.accepted, ARRAY_SIZE(want));
	/* to_ids false, and a sha256 */
	assert_int_equal(st.skipped, 2);
	/* not-an-ip, a port past 65535 */
	assert_int_equal(st.rejected, 2);
	assert_int_equal(k.nrej, 2);
	assert_non_null(strstr(k.reasons[0], "8: "));
	assert_non_null(strstr(k.reasons[1], "9: not address|port"));
}

static void test_answers(void **state)
{
	static const struct {
		const char *file;
		int ret;
		size_t rejected;
	} rows[] = {
		{ "empty.json", 0, 0 },
		{ "empty_list.json", 0, 0 },
		{ "null.json", 0, 0 },
		{ "auth_failed.json", -EBADMSG, 0 },
		{ "wrong_types.json", -EBADMSG, 0 },
		{ "bad_attrs.json", 0, 6 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct bwe_feed_stats st;
		struct kept k;
		int ret = parse_file(rows[i].file, &k, &st);

		if (ret != rows[i].ret || k.n || st.rejected != rows[i].rejected)
			fail_msg("%s: %d, %zu indicators, %zu rejected; expected %d, none, %zu",
				 rows[i].file, ret, k.n, st.rejected, rows[i].ret,
				 rows[i].rejected);
	}
}

static void test_html_and_garbage(void **state)
{
	static const char *const bodies[] = {
		"<!DOCTYPE html><html><body>Login</body></html>",
		"{\"response\": {\"Attribute\": [",
		"[]",
		"null",
		"{\"response\": 7}",
	};
	struct kept k;
	struct bwe_feed_parse_opts o = { .format = BWE_FMT_MISP,
					 .on_ind = keep,
					 .on_reject = keep_reject,
					 .ctx = &k };

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bodies); i++) {
		memset(&k, 0, sizeof(k));
		if (bwe_feed_parse(bodies[i], strlen(bodies[i]), &o, NULL) != -EBADMSG || k.n)
			fail_msg("\"%s\" not refused", bodies[i]);
	}
}

static int count(const struct bwe_indicator *ind, void *ctx)
{
	(void)ind;
	(*(size_t *)ctx)++;
	return 0;
}

static void test_large(void **state)
{
	size_t cap = (size_t)LARGE_N * 160 + 64, n = 0;
	char *body = malloc(cap), *p = body;
	struct bwe_feed_parse_opts o = { .format = BWE_FMT_MISP, .on_ind = count, .ctx = &n };
	struct bwe_feed_stats st;

	(void)state;
	assert_non_null(body);
	p += sprintf(p, "{\"response\":{\"Attribute\":[");
	for (int i = 0; i < LARGE_N; i++)
		p += sprintf(p,
			     "%s{\"type\":\"ip-dst\",\"to_ids\":true,\"event_id\":\"%d\","
			     "\"uuid\":\"u-%d\",\"value\":\"10.%d.%d.%d\"}",
			     i ? "," : "", i / 100, i, (i >> 16) & 255, (i >> 8) & 255, i & 255);
	p += sprintf(p, "]}}");
	assert_int_equal(bwe_feed_parse(body, (size_t)(p - body), &o, &st), 0);
	assert_int_equal(n, LARGE_N);
	assert_int_equal(st.rejected, 0);
	free(body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request), cmocka_unit_test(test_restsearch),
		cmocka_unit_test(test_answers), cmocka_unit_test(test_html_and_garbage),
		cmocka_unit_test(test_large),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
