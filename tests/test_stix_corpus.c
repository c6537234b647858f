// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_stix_corpus.c - the STIX pattern parser (lib/feed_stix.c) against
 * the conformance corpus tests/data/stix-patterns/corpus.json: 2,446
 * patterns of the OASIS pattern test suites and their address-path
 * variants, each with its validity and the entries a conforming blocklist
 * loader may produce (fields and the table of classes in the README beside
 * it). Run from the repository root (make test does).
 *
 * Each pattern is wrapped in one indicator (STIX 2.1 with pattern_type
 * "stix", or 2.0 without it, as "version" says), parsed, and what it
 * produced is judged by its class:
 *   invalid         no entry;
 *   non-network     no entry, and the indicator counts as skipped, not as
 *                   refused: a valid pattern about files or processes is
 *                   not a malformed line (issue #16);
 *   simple          exactly expect.entries, of which the overbroad ones
 *                   (expect.overbroad) may be refused; not skipped;
 *   simple-badvalue only entries of expect.allowed;
 *   complex         only entries of expect.allowed.
 * Every pattern must conform; the failures are listed by corpus id.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "addr.h"
#include "feed.h"

#define CORPUS	       "tests/data/stix-patterns/corpus.json"
#define CORPUS_N       2446	    /* patterns in the corpus (README) */
#define NOW	       1780272000LL /* 2026-06-01T00:00:00Z */
#define ENTRIES_MAX    64	    /* entries one pattern may produce here */
#define ENTRY_LEN      (BWE_FEED_DOMAIN_MAX + 1)
#define SHOWN_FAILURES 40 /* failures printed in full */

struct produced {
	char v[ENTRIES_MAX][ENTRY_LEN];
	size_t n;
	bool overflow;
};

/* "1.2.3.0/24", "2001:db8::/64", "::/0": the corpus's notation (length always). */
static void entry_text(const struct bwe_indicator *ind, char *out)
{
	char a[BWE_PREFIX_STRLEN];

	if (ind->kind == BWE_IND_DOMAIN) {
		snprintf(out, ENTRY_LEN, "%s", ind->domain);
		return;
	}
	assert_int_equal(bwe_addr_fmt(&ind->pfx.addr, a, sizeof(a)), 0);
	snprintf(out, ENTRY_LEN, "%s/%d", a, bwe_prefix_family_len(&ind->pfx));
}

static bool has(const struct produced *p, const char *e)
{
	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->v[i], e))
			return true;
	return false;
}

static int on_ind(const struct bwe_indicator *ind, void *ctx)
{
	struct produced *p = ctx;
	char e[ENTRY_LEN];

	entry_text(ind, e);
	if (has(p, e))
		return 0; /* "duplicates do not count" */
	if (p->n == ENTRIES_MAX) {
		p->overflow = true;
		return 0;
	}
	memcpy(p->v[p->n++], e, ENTRY_LEN);
	return 0;
}

static bool in_list(struct json_object *list, const char *e)
{
	size_t n = list ? json_object_array_length(list) : 0;

	for (size_t i = 0; i < n; i++)
		if (!strcmp(json_object_get_string(json_object_array_get_idx(list, i)), e))
			return true;
	return false;
}

/* The indicator of one pattern, as a 2.1 or a 2.0 producer would write it. */
static char *wrap(const char *pattern, bool v20)
{
	struct json_object *o = json_object_new_object();
	char *text;

	json_object_object_add(o, "type", json_object_new_string("indicator"));
	if (!v20)
		json_object_object_add(o, "spec_version", json_object_new_string("2.1"));
	json_object_object_add(o, "id",
			       json_object_new_string("indicator--"
						      "c0c0c0c0-0000-4000-8000-000000000001"));
	json_object_object_add(o, "created", json_object_new_string("2026-01-01T00:00:00Z"));
	json_object_object_add(o, "modified", json_object_new_string("2026-01-01T00:00:00Z"));
	json_object_object_add(o, "pattern", json_object_new_string(pattern));
	if (!v20)
		json_object_object_add(o, "pattern_type", json_object_new_string("stix"));
	json_object_object_add(o, "valid_from", json_object_new_string("2026-01-01T00:00:00Z"));
	text = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	assert_non_null(text);
	return text;
}

struct verdict {
	char why[512];	 /* empty when the entries conform */
	char count[160]; /* empty when skipped/refused are counted right */
};

__attribute__((format(printf, 2, 3))) static void fail_why(struct verdict *v, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v->why, sizeof(v->why), fmt, ap);
	va_end(ap);
}

/* Every produced entry is in list; else the first that is not. */
static const char *outside(const struct produced *p, struct json_object *list)
{
	for (size_t i = 0; i < p->n; i++)
		if (!in_list(list, p->v[i]))
			return p->v[i];
	return NULL;
}

static void judge(struct json_object *item, struct verdict *v, size_t *n_invalid_refused)
{
	struct json_object *expect = json_object_object_get(item, "expect");
	const char *pattern = json_object_get_string(json_object_object_get(item, "pattern"));
	const char *cls = json_object_get_string(json_object_object_get(expect, "class"));
	bool v20 = !strcmp(json_object_get_string(json_object_object_get(item, "version")), "2.0");
	struct json_object *entries = json_object_object_get(expect, "entries");
	struct json_object *allowed = json_object_object_get(expect, "allowed");
	struct json_object *overbroad = json_object_object_get(expect, "overbroad");
	struct produced *p = calloc(1, sizeof(*p));
	struct bwe_feed_parse_opts o = {
		.format = BWE_FMT_STIX,
		.now = NOW,
		.on_ind = on_ind,
		.ctx = p,
	};
	struct bwe_feed_stats st;
	char *body = wrap(pattern, v20);
	const char *bad;
	int ret;

	assert_non_null(p);
	v->why[0] = v->count[0] = '\0';
	ret = bwe_feed_parse(body, strlen(body), &o, &st);
	free(body);
	if (ret) {
		fail_why(v, "parse returned %d", ret);
		goto out;
	}
	if (p->overflow) {
		fail_why(v, "more than %d entries", ENTRIES_MAX);
		goto out;
	}
	if (!strcmp(cls, "invalid")) {
		if (p->n)
			fail_why(v, "invalid, yet produced %s", p->v[0]);
		*n_invalid_refused += st.rejected > 0;
	} else if (!strcmp(cls, "non-network")) {
		if (p->n)
			fail_why(v, "names no address, yet produced %s", p->v[0]);
		else if (st.skipped != 1 || st.rejected)
			snprintf(v->count, sizeof(v->count),
				 "names no address: skipped %zu, refused %zu (want 1, 0)",
				 st.skipped, st.rejected);
	} else if (!strcmp(cls, "simple")) {
		size_t n = json_object_array_length(entries);

		if ((bad = outside(p, entries)))
			fail_why(v, "produced %s, not an expected entry", bad);
		for (size_t i = 0; i < n && !v->why[0]; i++) {
			const char *e =
				json_object_get_string(json_object_array_get_idx(entries, i));

			if (!has(p, e) && !in_list(overbroad, e))
				fail_why(v, "missed %s (%zu refused)", e, st.rejected);
		}
		if (st.skipped)
			snprintf(v->count, sizeof(v->count),
				 "names addresses, yet counted as skipped");
	} else if (!strcmp(cls, "simple-badvalue") || !strcmp(cls, "complex")) {
		if ((bad = outside(p, allowed)))
			fail_why(v, "produced %s, not among the allowed", bad);
	} else {
		fail_why(v, "unknown class \"%s\"", cls);
	}
out:
	free(p);
}

static void test_corpus(void **state)
{
	struct json_object *root = json_object_from_file(CORPUS), *pats;
	size_t n, ok = 0, counted = 0, shown = 0, invalid = 0, invalid_refused = 0;

	(void)state;
	if (!root)
		fail_msg("cannot read %s (run from the repository root): %s", CORPUS,
			 json_util_get_last_err());
	pats = json_object_object_get(root, "patterns");
	n = pats ? json_object_array_length(pats) : 0;
	assert_int_equal(n, CORPUS_N);
	for (size_t i = 0; i < n; i++) {
		struct json_object *item = json_object_array_get_idx(pats, i);
		struct json_object *expect = json_object_object_get(item, "expect");
		struct verdict v;

		invalid += !strcmp(json_object_get_string(json_object_object_get(expect, "class")),
				   "invalid");
		judge(item, &v, &invalid_refused);
		ok += !v.why[0];
		counted += !v.count[0];
		if ((v.why[0] || v.count[0]) && shown++ < SHOWN_FAILURES)
			print_message("corpus id %d (%s): %s\n    pattern: %s\n",
				      json_object_get_int(json_object_object_get(item, "id")),
				      json_object_get_string(
					      json_object_object_get(expect, "class")),
				      v.why[0] ? v.why : v.count,
				      json_object_get_string(
					      json_object_object_get(item, "pattern")));
	}
	print_message("STIX pattern corpus: entries conform on %zu/%zu, skipped/refused counted "
		      "right on %zu/%zu; %zu of %zu invalid patterns refused, the others "
		      "skipped\n",
		      ok, n, counted, n, invalid_refused, invalid);
	json_object_put(root);
	assert_int_equal(ok, n);
	assert_int_equal(counted, n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corpus),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
