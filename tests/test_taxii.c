// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_taxii.c - bwctld as a TAXII 2.1 client, the parts without a process:
 * RFC 3339 times, the envelope parser (lib/feed_taxii.c, patterns read by
 * the one STIX parser) on pages shaped as a TAXII 2.1 server answers them
 * (tests/data/taxii/), what a hostile server sends instead, the poll's URLs,
 * the format read as a feed, and the collection's indicator set
 * (lib/taxiiset.c): latest version wins, revocation, expiry, the max guard.
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

#include "config.h"
#include "feed.h"
#include "misp.h"
#include "taxii.h"
#include "test_helpers.h"
#include "cfg_helpers.h"

#define ARRAY_SIZE(x) (sizeof(x) / sizeof((x)[0]))
#define DATA	      "tests/data/taxii/"
#define NOW	      1800000000LL /* 2027-01-15T08:00:00Z */
#define KEPT_MAX      64
#define TEXT_MAX      300

/* ---- times ---------------------------------------------------------------------- */

static void test_times(void **state)
{
	static const struct {
		const char *s;
		int ret;
		__s64 sec;
		__u32 nsec;
	} rows[] = {
		{ "2026-01-10T08:00:00Z", 0, 1768032000, 0 },
		{ "2026-01-10T08:00:00.000Z", 0, 1768032000, 0 },
		{ "2026-01-10T08:00:00.5Z", 0, 1768032000, 500000000 },
		{ "2026-01-10T08:00:00.123456789123Z", 0, 1768032000, 123456789 },
		{ "2026-01-10T09:00:00+01:00", 0, 1768032000, 0 },
		{ "2026-01-10T07:30:00-00:30", 0, 1768032000, 0 },
		{ "2024-02-29T00:00:00Z", 0, 1709164800, 0 },
		{ "2026-02-29T00:00:00Z", -EINVAL, 0, 0 },
		{ "2026-13-01T00:00:00Z", -EINVAL, 0, 0 },
		{ "2026-01-10 08:00:00Z", -EINVAL, 0, 0 },
		{ "2026-01-10T08:00:00", -EINVAL, 0, 0 },
		{ "2026-01-10T08:00:00.Z", -EINVAL, 0, 0 },
		{ "2026-01-10T08:00:00Zjunk", -EINVAL, 0, 0 },
		{ "2026-01-10T25:00:00Z", -EINVAL, 0, 0 },
		{ "soon", -EINVAL, 0, 0 },
		{ "", -EINVAL, 0, 0 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct bwe_taxii_time t = { 0 };
		int ret = bwe_taxii_time_parse(rows[i].s, strlen(rows[i].s), &t);

		if (ret != rows[i].ret ||
		    (!ret && (t.sec != rows[i].sec || t.nsec != rows[i].nsec)))
			fail_msg("\"%s\": %d %lld.%09u, expected %d %lld.%09u", rows[i].s, ret,
				 (long long)t.sec, t.nsec, rows[i].ret, (long long)rows[i].sec,
				 rows[i].nsec);
	}
}

/* ---- the envelope ----------------------------------------------------------------- */

struct kept {
	struct bwe_taxii_val v[KEPT_MAX];
	char ids[KEPT_MAX][BWE_TAXII_ID_MAX];
	char doms[KEPT_MAX][BWE_FEED_DOMAIN_MAX + 1];
	size_t n;
	char reasons[KEPT_MAX][TEXT_MAX];
	__u32 lines[KEPT_MAX];
	size_t nrej;
};

static int keep(const struct bwe_taxii_val *v, void *ctx)
{
	struct kept *k = ctx;

	assert_true(k->n < KEPT_MAX);
	k->v[k->n] = *v;
	snprintf(k->ids[k->n], sizeof(k->ids[0]), "%s", v->id);
	k->v[k->n].id = k->ids[k->n];
	if (v->kind == BWE_TAXII_DOMAIN) {
		snprintf(k->doms[k->n], sizeof(k->doms[0]), "%s", v->domain);
		k->v[k->n].domain = k->doms[k->n];
	}
	k->n++;
	return 0;
}

static void keep_reject(const struct bwe_feed_reject *rej, void *ctx)
{
	struct kept *k = ctx;

	if (k->nrej < KEPT_MAX) {
		snprintf(k->reasons[k->nrej], TEXT_MAX, "%s", rej->reason);
		k->lines[k->nrej] = rej->line;
	}
	k->nrej++;
}

static int parse_file(const char *name, struct kept *k, struct bwe_taxii_page *page,
		      struct bwe_feed_stats *st)
{
	char path[256];
	char *body;
	struct bwe_taxii_parse_opts o = { .now = NOW,
					  .on_val = keep,
					  .on_reject = keep_reject,
					  .ctx = k };
	int ret;

	snprintf(path, sizeof(path), DATA "%s", name);
	body = slurp(path);
	assert_true(body[0]);
	memset(k, 0, sizeof(*k));
	ret = bwe_taxii_parse_page(body, strlen(body), &o, page, st);
	free(body);
	return ret;
}

static void test_page_one(void **state)
{
	struct bwe_taxii_page page;
	struct bwe_feed_stats st;
	struct kept k;
	struct bwe_prefix p6 = pfx("2001:db8:bad::/48"), p4 = pfx("198.51.100.0/24");

	(void)state;
	assert_int_equal(parse_file("page1.json", &k, &page, &st), 0);
	assert_true(page.more);
	assert_string_equal(page.next, "page=2&token=a b/c");
	assert_int_equal(st.format, BWE_FMT_TAXII);
	assert_int_equal(st.lines, 3);	  /* objects */
	assert_int_equal(st.skipped, 1);  /* the identity */
	assert_int_equal(st.accepted, 3); /* a prefix, a domain and a prefix */
	assert_int_equal(st.rejected, 0);
	assert_int_equal(k.n, 3);
	assert_string_equal(k.v[0].id, "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f");
	assert_int_equal(k.v[0].kind, BWE_TAXII_PREFIX);
	assert_memory_equal(&k.v[0].pfx, &p4, sizeof(p4));
	assert_int_equal(k.v[0].modified.sec, 1768032000);
	assert_int_equal(k.v[0].valid_from, 1768032000);
	assert_int_equal(k.v[0].valid_until, 0);
	assert_false(k.v[0].revoked);
	/* one object, two values, both carry its version and validity */
	assert_string_equal(k.v[1].id, "indicator--0c2f7e1a-3d4b-4e5f-8a6b-7c8d9e0f1a2b");
	assert_string_equal(k.v[2].id, k.v[1].id);
	assert_int_equal(k.v[1].kind, BWE_TAXII_DOMAIN);
	assert_string_equal(k.v[1].domain, "relay.proxyware.example");
	assert_int_equal(k.v[2].kind, BWE_TAXII_PREFIX);
	assert_memory_equal(&k.v[2].pfx, &p6, sizeof(p6));
	assert_int_equal(k.v[1].valid_until, 1801440000); /* 2027-02-01 */
	assert_int_equal(k.v[2].valid_until, 1801440000);
}

static void test_page_two(void **state)
{
	struct bwe_taxii_page page;
	struct bwe_feed_stats st;
	struct kept k;
	struct bwe_prefix h = pfx("203.0.113.7");

	(void)state;
	assert_int_equal(parse_file("page2.json", &k, &page, &st), 0);
	assert_false(page.more);
	assert_string_equal(page.next, "");
	assert_int_equal(st.lines, 5);
	/* the refinement's address; the yara indicator holds nothing now */
	assert_int_equal(k.n, 2);
	assert_memory_equal(&k.v[0].pfx, &h, sizeof(h));
	assert_string_equal(k.v[1].id, "indicator--1a2b3c4d-0000-4000-8000-000000000001");
	assert_int_equal(k.v[1].kind, BWE_TAXII_NONE);
	assert_false(k.v[1].revoked);
	/* not an address (the STIX parser's reason), no modified */
	assert_int_equal(st.rejected, 2);
	assert_int_equal(k.nrej, 2);
	assert_int_equal(k.lines[0], 3);
	assert_non_null(strstr(k.reasons[0], "not an address"));
	assert_int_equal(k.lines[1], 4);
	assert_non_null(strstr(k.reasons[1], "modified"));
	assert_int_equal(st.skipped, 2); /* the yara indicator and the relationship */
}

static void test_page_revoke(void **state)
{
	struct bwe_feed_stats st;
	struct kept k;

	(void)state;
	assert_int_equal(parse_file("revoke.json", &k, NULL, &st), 0);
	assert_int_equal(k.n, 3);
	assert_int_equal(k.v[0].kind, BWE_TAXII_NONE);
	assert_true(k.v[0].revoked);
	assert_int_equal(k.v[0].modified.sec, 1769938200); /* 2026-02-01T09:30Z */
	assert_int_equal(k.v[1].kind, BWE_TAXII_PREFIX);
	/* past its valid_until at NOW: a tombstone, not revoked */
	assert_int_equal(k.v[2].kind, BWE_TAXII_NONE);
	assert_false(k.v[2].revoked);
	assert_int_equal(k.v[2].modified.sec, 1772319600); /* +01:00 taken */
}

static void test_pages_refused(void **state)
{
	static const struct {
		const char *file;
		int ret;
	} rows[] = {
		{ "error.json", -EBADMSG },
		{ "html.json", -EBADMSG },
		{ "wrong_more.json", -EBADMSG },
		{ "wrong_objects.json", -EBADMSG },
		{ "wrong_next.json", -EBADMSG },
		{ "empty.json", 0 },
		{ "nulls.json", 0 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct bwe_taxii_page page;
		struct bwe_feed_stats st;
		struct kept k;
		int ret = parse_file(rows[i].file, &k, &page, &st);

		if (ret != rows[i].ret || k.n || k.nrej || page.more)
			fail_msg("%s: %d with %zu values %zu rejects, expected %d and nothing",
				 rows[i].file, ret, k.n, k.nrej, rows[i].ret);
	}
}

static void test_wrong_types(void **state)
{
	struct bwe_feed_stats st;
	struct kept k;

	(void)state;
	assert_int_equal(parse_file("wrong_types.json", &k, NULL, &st), 0);
	assert_int_equal(k.n, 0);
	/* 1, "x", null: not objects; no type; a bad id; a bad modified; a bad valid_until */
	assert_int_equal(st.rejected, 7);
	assert_int_equal(k.nrej, 7);
	assert_non_null(strstr(k.reasons[4], "id"));
	assert_non_null(strstr(k.reasons[5], "modified"));
	assert_non_null(strstr(k.reasons[6], "valid_until"));
}

static int count_val(const struct bwe_taxii_val *v, void *ctx)
{
	(void)v;
	(*(size_t *)ctx)++;
	return 0;
}

static void test_huge_page(void **state)
{
	size_t n = BWE_TAXII_PAGE_OBJECTS_MAX + 1, len, vals = 0;
	char *body = malloc(n * 3 + 64), *p = body;
	struct bwe_taxii_parse_opts o = { .now = NOW, .on_val = count_val, .ctx = &vals };

	(void)state;
	assert_non_null(body);
	p += sprintf(p, "{\"objects\":[");
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "%s{}", i ? "," : "");
	p += sprintf(p, "]}");
	len = (size_t)(p - body);
	assert_int_equal(bwe_taxii_parse_page(body, len, &o, NULL, NULL), -E2BIG);
	assert_int_equal(vals, 0);
	/* one object fewer is a page (of objects without a type: all rejected) */
	assert_int_equal(bwe_taxii_parse_page(body, len - 5, &o, NULL, NULL), -EBADMSG);
	memcpy(body + len - 5, "]}", 2);
	assert_int_equal(bwe_taxii_parse_page(body, len - 3, &o, NULL, NULL), 0);
	free(body);
	/* nested too deeply for a page */
	{
		char deep[BWE_TAXII_JSON_DEPTH * 2 + 64];
		size_t d = 0;

		d += (size_t)sprintf(deep, "{\"objects\":");
		for (int i = 0; i < BWE_TAXII_JSON_DEPTH; i++)
			deep[d++] = '[';
		for (int i = 0; i < BWE_TAXII_JSON_DEPTH; i++)
			deep[d++] = ']';
		deep[d++] = '}';
		assert_int_equal(bwe_taxii_parse_page(deep, d, &o, NULL, NULL), -EBADMSG);
	}
	assert_int_equal(bwe_taxii_parse_page(NULL, 1, &o, NULL, NULL), -EINVAL);
	o.on_val = NULL;
	assert_int_equal(bwe_taxii_parse_page("{}", 2, &o, NULL, NULL), -EINVAL);
}

/* ---- URLs ------------------------------------------------------------------------- */

static void test_urls(void **state)
{
	char u[BWE_TAXII_NEXT_MAX * 4];

	(void)state;
	assert_int_equal(bwe_taxii_objects_url("https://taxii.example/api1/",
					       "91a7b528-80eb-42ed-a74d-c6fbd5a26116", NULL, u,
					       sizeof(u)),
			 0);
	assert_string_equal(u, "https://taxii.example/api1/collections/"
			       "91a7b528-80eb-42ed-a74d-c6fbd5a26116/objects/"
			       "?match%5Btype%5D=indicator");
	assert_int_equal(bwe_taxii_objects_url("https://taxii.example/api1/collections/c1/objects",
					       NULL, "2026-01-12T00:00:00.123+01:00", u, sizeof(u)),
			 0);
	assert_string_equal(u, "https://taxii.example/api1/collections/c1/objects/"
			       "?match%5Btype%5D=indicator&added_after=2026-01-12T00%3A00%3A00.123%"
			       "2B01%3A00");
	assert_int_equal(bwe_taxii_objects_url("https://taxii.example/x?y=1", NULL, NULL, u,
					       sizeof(u)),
			 -EINVAL);
	assert_int_equal(bwe_taxii_objects_url("https://taxii.example/api1", "c", NULL, u, 20),
			 -ENAMETOOLONG);
	assert_int_equal(bwe_taxii_next_url("https://t.example/o/?a=1", "page=2&t=a b", u,
					    sizeof(u)),
			 0);
	assert_string_equal(u, "https://t.example/o/?a=1&next=page%3D2%26t%3Da%20b");
}

/* ---- read as a feed ----------------------------------------------------------------- */

static int count_ind(const struct bwe_indicator *ind, void *ctx)
{
	(void)ind;
	(*(size_t *)ctx)++;
	return 0;
}

static void test_as_feed(void **state)
{
	char *body = slurp(DATA "revoke.json");
	size_t n = 0;
	struct bwe_feed_parse_opts o = { .format = BWE_FMT_TAXII,
					 .now = NOW,
					 .on_ind = count_ind,
					 .ctx = &n };
	struct bwe_feed_stats st;

	(void)state;
	/* only the live value: the revoked one and the expired one hold nothing */
	assert_int_equal(bwe_feed_parse(body, strlen(body), &o, &st), 0);
	assert_int_equal(n, 1);
	assert_int_equal(st.format, BWE_FMT_TAXII);
	free(body);
	/* never detected */
	body = slurp(DATA "page2.json");
	assert_int_not_equal(bwe_feed_detect(body, strlen(body)), BWE_FMT_TAXII);
	free(body);
}

/* ---- the set -------------------------------------------------------------------------- */

static void apply_file(struct bwe_taxii_set *s, const char *name, int want,
		       struct bwe_taxii_apply_stats *ast)
{
	struct kept k;

	assert_int_equal(parse_file(name, &k, NULL, NULL), 0);
	assert_int_equal(bwe_taxii_set_apply(s, k.v, k.n, ast), want);
}

static bool held(const struct bwe_taxii_set *s, const char *text)
{
	struct bwe_prefix p = pfx(text);

	for (size_t i = 0; i < s->n; i++) {
		if (!bwe_taxii_ent_live(&s->v[i], NOW))
			continue;
		for (size_t k = 0; k < s->v[i].n_pfx; k++)
			if (!memcmp(&s->v[i].pfx[k], &p, sizeof(p)))
				return true;
	}
	return false;
}

static void test_set(void **state)
{
	struct bwe_taxii_set s = { 0 };
	struct bwe_taxii_apply_stats ast;
	const struct bwe_taxii_ent *e;

	(void)state;
	apply_file(&s, "page1.json", 0, &ast);
	apply_file(&s, "page2.json", 0, &ast);
	assert_int_equal(s.n, 4); /* three indicators and the yara one, which holds nothing */
	assert_int_equal(bwe_taxii_set_live(&s, NOW), 3);
	assert_true(held(&s, "198.51.100.0/24"));
	assert_true(held(&s, "203.0.113.7"));
	assert_true(held(&s, "2001:db8:bad::/48"));
	e = bwe_taxii_set_find(&s, "indicator--0c2f7e1a-3d4b-4e5f-8a6b-7c8d9e0f1a2b");
	assert_non_null(e);
	assert_int_equal(e->n_domains, 1);
	assert_string_equal(e->domains[0], "relay.proxyware.example");
	/* the same page again: every version is stale */
	apply_file(&s, "page1.json", 0, &ast);
	assert_int_equal(ast.stale, 2); /* versions: an object's values count once */
	assert_int_equal(ast.added + ast.replaced, 0);
	/* the second poll: a revocation, an equal version, an expired replacement */
	apply_file(&s, "revoke.json", 0, &ast);
	assert_int_equal(ast.replaced, 2);
	assert_int_equal(ast.revoked, 2);
	assert_int_equal(ast.stale, 1);
	assert_false(held(&s, "198.51.100.0/24"));
	assert_true(held(&s, "203.0.113.7")); /* not the equal version's .250 */
	assert_false(held(&s, "203.0.113.250"));
	assert_false(held(&s, "2001:db8:bad::/48")); /* replaced by an expired version */
	assert_int_equal(bwe_taxii_set_live(&s, NOW), 1);
	/* an older copy of a revoked indicator does not bring it back */
	apply_file(&s, "page1.json", 0, &ast);
	assert_false(held(&s, "198.51.100.0/24"));
	e = bwe_taxii_set_find(&s, "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f");
	assert_non_null(e);
	assert_true(e->revoked);
	bwe_taxii_set_free(&s);
	assert_int_equal(s.n, 0);
}

static void test_set_limits(void **state)
{
	struct bwe_taxii_set s = { .max = 2 };
	struct bwe_taxii_apply_stats ast;
	struct bwe_taxii_val v[3] = {
		{ .id = "indicator--b", .modified = { 10, 0 }, .kind = BWE_TAXII_PREFIX },
		{ .id = "indicator--a", .modified = { 10, 0 }, .kind = BWE_TAXII_PREFIX },
		{ .id = "indicator--c", .modified = { 10, 0 }, .kind = BWE_TAXII_PREFIX },
	};

	(void)state;
	v[0].pfx = pfx("192.0.2.1");
	v[1].pfx = pfx("192.0.2.2");
	v[2].pfx = pfx("192.0.2.3");
	assert_int_equal(bwe_taxii_set_apply(&s, v, 3, &ast), -E2BIG);
	assert_int_equal(s.n, 0); /* all or nothing */
	assert_int_equal(bwe_taxii_set_apply(&s, v, 2, &ast), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.v[0].id, "indicator--a"); /* sorted */
	/* a later version of a held id fits, a new id does not */
	v[0].modified.nsec = 1;
	assert_int_equal(bwe_taxii_set_apply(&s, v, 1, &ast), 0);
	assert_int_equal(ast.replaced, 1);
	assert_int_equal(bwe_taxii_set_apply(&s, &v[2], 1, &ast), -E2BIG);
	assert_int_equal(s.n, 2);
	/* expiry without a poll: valid_until reached */
	s.max = 0;
	v[2].valid_from = NOW + 10;
	v[2].valid_until = NOW + 100;
	assert_int_equal(bwe_taxii_set_apply(&s, &v[2], 1, &ast), 0);
	assert_int_equal(bwe_taxii_set_live(&s, NOW), 2); /* not valid yet */
	assert_int_equal(bwe_taxii_set_next_change(&s, NOW), NOW + 10);
	assert_int_equal(bwe_taxii_set_live(&s, NOW + 10), 3);
	assert_int_equal(bwe_taxii_set_next_change(&s, NOW + 10), NOW + 100);
	assert_int_equal(bwe_taxii_set_expire(&s, NOW + 100), 1);
	assert_int_equal(bwe_taxii_set_live(&s, NOW + 100), 2);
	assert_int_equal(bwe_taxii_set_next_change(&s, NOW + 100), 0);
	bwe_taxii_set_free(&s);
}

/* ---- the configuration: the keys of the taxii and misp formats ---------------------- */

#define TAXII "source: \"https://taxii.example/api1/\", format: taxii, "
#define MISP  "source: \"https://misp.example/\", format: misp, "

static void test_config_keys(void **state)
{
	static const struct {
		const char *feed, *err;
	} bad[] = {
		{ "name: f, source: /var/lib/x, format: plain, collection: c1",
		  "feeds[0].collection: feed \"f\": applies only to format: taxii" },
		{ "name: f, source: /var/lib/x, format: stix, max_indicators: 5",
		  "applies only to format: taxii" },
		{ "name: t, " TAXII "last: 30d",
		  "feeds[0].last: feed \"t\": applies only to format: misp" },
		{ "name: t, source: /var/lib/x, format: taxii",
		  "a taxii source is the server's http:// or https:// URL" },
		{ "name: t, " TAXII "api_key_file: /k",
		  "taxii authenticates with auth (basic) or bearer_file" },
		{ "name: t, " TAXII "collection: \"a/b\"", "is not a TAXII collection id" },
		{ "name: t, " TAXII "max_indicators: 0", "max_indicators" },
		{ "name: m, " MISP "last: 30d", "misp needs api_key_file" },
		{ "name: m, " MISP "api_key_file: /k, bearer_file: /t",
		  "misp authenticates with api_key_file" },
		{ "name: m, " MISP "api_key_file: /k, last: 7 days", "is not a MISP window" },
		{ "name: m, " MISP "api_key_file: /k, scopes: [ Ip ]",
		  "applies only to format: crowdsec-lapi" },
		{ "name: m, source: /var/lib/x, format: misp, api_key_file: /k",
		  "a misp source is the server's http:// or https:// URL" },
	};
	struct bwe_cfgfile *cfg;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		load_feed(bad[i].feed, bad[i].err);
	cfg = load_feed("name: t, " TAXII "collection: 91a7b528-80eb-42ed-a74d-c6fbd5a26116, "
			"auth: { user: bwe, password_file: /etc/bwenforce/taxii.pw }",
			NULL);
	assert_string_equal(cfg->feeds[0].taxii_collection, "91a7b528-80eb-42ed-a74d-c6fbd5a26116");
	assert_int_equal(cfg->feeds[0].taxii_max_indicators, BWE_TAXII_SET_MAX_DEF);
	bwe_config_free(cfg);
	cfg = load_feed("name: t, source: \"https://t.example/api1/collections/c/objects/\", "
			"format: taxii, bearer_file: /t, max_indicators: 500",
			NULL);
	assert_null(cfg->feeds[0].taxii_collection);
	assert_int_equal(cfg->feeds[0].taxii_max_indicators, 500);
	bwe_config_free(cfg);
	cfg = load_feed("name: m, " MISP "api_key_file: /etc/bwenforce/misp.key", NULL);
	assert_string_equal(cfg->feeds[0].misp_last, BWE_MISP_LAST_DEF);
	assert_string_equal(cfg->feeds[0].api_key_file, "/etc/bwenforce/misp.key");
	bwe_config_free(cfg);
	cfg = load_feed("name: m, " MISP "api_key_file: /k, last: 12h", NULL);
	assert_string_equal(cfg->feeds[0].misp_last, "12h");
	bwe_config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_times),	      cmocka_unit_test(test_page_one),
		cmocka_unit_test(test_page_two),      cmocka_unit_test(test_page_revoke),
		cmocka_unit_test(test_pages_refused), cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_huge_page),     cmocka_unit_test(test_urls),
		cmocka_unit_test(test_as_feed),	      cmocka_unit_test(test_set),
		cmocka_unit_test(test_set_limits),    cmocka_unit_test(test_config_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
