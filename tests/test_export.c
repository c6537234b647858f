// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_export.c - bwctl export's daemon side (ctl/bwctld/export.c) over
 * real stores: every format and set, what is left out (monitor feeds,
 * expired entries, operator quarantines in STIX), the STIX bundle's
 * grammar (ids, timestamps, references) and its patterns read back by the
 * project's own STIX parser, the Zeek file's fields, chunking and a feed
 * swapped between two chunks; and the request's arguments (lib/proto.c).
 */
#include <errno.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "test_helpers.h"

#include "bwe_abi.h"
#include "bwe_util.h"
#include "export.h"
#include "feed.h"
#include "feedstore.h"
#include "proto.h"
#include "store.h"

#define NOW	  1764800000 /* 2025-12-03T22:13:20Z */
#define FEED_A	  2
#define FEED_B	  3
#define FEED_MON  4
#define BIG_FEED  20000
#define FULL_SIZE ((size_t)1 << 30) /* a target no test output reaches */

struct fixture {
	struct st_store *st;
	struct fstore *fs;
};

static struct st_entry entry(enum st_kind k, const char *p, enum actor_kind who, const char *name,
			     const char *reason)
{
	struct st_entry e = { .kind = k, .pfx = pfx(p), .since = NOW - 3600 };

	actor_set(&e.actor, who, name, who == ACTOR_OPERATOR ? "bwctl quarantine" : NULL);
	snprintf(e.reason, sizeof(e.reason), "%s", reason);
	return e;
}

static void feed_add(struct fs_vec *v, const char *p, __u32 line, const char *ind, __s64 until)
{
	struct fs_rec e = { .pfx = pfx(p),
			    .line = line,
			    .ind = ind,
			    .first_seen = NOW - 86400,
			    .valid_until = until };

	assert_int_equal(fs_vec_add(v, &e), 0);
}

static void feed_set(struct fstore *fs, __u8 id, struct fs_vec *v)
{
	fs_vec_sort_unique(v);
	fstore_swap(fs, id, v);
	fs_vec_free(v);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct fs_vec a = { 0 }, b = { 0 }, m = { 0 };
	struct st_entry e;

	assert_non_null(f);
	f->st = st_new();
	f->fs = fstore_new();
	assert_int_equal(fstore_define(f->fs, FEED_A, "alpha", "/etc/feeds/a.txt", false), 0);
	assert_int_equal(fstore_define(f->fs, FEED_B, "beta", "https://intel.example/b", false), 0);
	assert_int_equal(fstore_define(f->fs, FEED_MON, "watch", "/etc/feeds/w.txt", true), 0);
	feed_add(&a, "203.0.113.7", 3, NULL, 0);
	feed_add(&a, "198.51.100.0/24", 4, NULL, 0);
	feed_add(&a, "2001:db8:bad::/48", 5, NULL, 0);
	feed_add(&a, "192.0.2.99", 6, NULL, NOW - 1); /* expired */
	feed_add(&b, "203.0.113.7", 10, "indicator--0f9a7c3e-5b7d-4c1e-9b8e-2a6c1d3e4f50", 0);
	feed_add(&b, "192.0.2.10", 11, "evil.example", NOW + 86400);
	feed_add(&b, "192.0.2.11", 11, "evil.example", NOW + 86400);
	feed_add(&m, "192.0.2.200", 1, NULL, 0); /* monitor only */
	feed_set(f->fs, FEED_A, &a);
	feed_set(f->fs, FEED_B, &b);
	feed_set(f->fs, FEED_MON, &m);

	e = entry(ST_BLOCK, "203.0.113.7", ACTOR_OPERATOR, "root", "seen\tin a\ncase");
	assert_int_equal(st_put(f->st, &e), 0);
	e = entry(ST_BLOCK, "100.64.9.0/24", ACTOR_API, "soar", "ticket 42");
	assert_int_equal(st_put(f->st, &e), 0);
	e = entry(ST_BLOCK, "100.64.8.1", ACTOR_OPERATOR, "root", "old");
	e.expires = NOW - 10; /* ran out, not yet swept */
	assert_int_equal(st_put(f->st, &e), 0);
	e = entry(ST_QUARANTINE, "10.1.0.5", ACTOR_RULE, "upload-spike",
		  "automatic: spike 9000000 > 1000000 B/s");
	e.expires = NOW + 3600;
	assert_int_equal(st_put(f->st, &e), 0);
	e = entry(ST_QUARANTINE, "10.1.0.6", ACTOR_OPERATOR, "root", "case 7");
	assert_int_equal(st_put(f->st, &e), 0);
	e = entry(ST_THROTTLE, "fd00::7", ACTOR_RULE, "fanout", "automatic: fan-out 900 > 200");
	e.rate = 125000;
	assert_int_equal(st_put(f->st, &e), 0);
	e = entry(ST_EXEMPT, "10.9.9.9", ACTOR_OPERATOR, "root", "edr");
	assert_int_equal(st_put(f->st, &e), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	st_free(f->st);
	fstore_free(f->fs);
	free(f);
	return 0;
}

/* The whole export in one buffer, asked for in chunks of target bytes. */
static char *run(struct fixture *f, enum bwe_export_format fmt, enum bwe_export_set set,
		 const char *feed, size_t target, size_t *entries)
{
	struct export_deps d = { .st = f->st, .store = f->fs, .gateway = "gw1" };
	struct export_buf b = { 0 };
	struct export *x;
	char err[EXPORT_ERR_LEN];
	size_t calls = 0;
	int r;

	assert_int_equal(export_new(&x, &d, fmt, set, feed, NOW, err, sizeof(err)), 0);
	do {
		size_t before = b.len;

		r = export_next(x, &b, before + target);
		assert_true(r >= 0);
		calls++;
	} while (r > 0);
	assert_true(calls >= 1);
	if (entries)
		*entries = export_entries(x);
	export_free(x);
	if (!b.p)
		return strdup("");
	return b.p;
}

static bool matches(const char *re, const char *s)
{
	regex_t r;
	bool ok;

	assert_int_equal(regcomp(&r, re, REG_EXTENDED | REG_NOSUB), 0);
	ok = !regexec(&r, s, 0, NULL, 0);
	regfree(&r);
	return ok;
}

/* ---- plain ------------------------------------------------------------------------- */

static int collect(const struct bwe_indicator *ind, void *ctx)
{
	struct fs_vec *v = ctx;
	assert_int_equal(ind->kind, BWE_IND_PREFIX);
	return fs_vec_add(v, &(struct fs_rec){ .pfx = ind->pfx, .line = ind->line });
}

static void test_plain_blocks(void **state)
{
	struct fixture *f = *state;
	size_t n;
	char *out = run(f, BWE_EXP_PLAIN, BWE_EXP_BLOCKS, NULL, FULL_SIZE, &n);
	struct fs_vec back = { 0 };
	struct bwe_feed_parse_opts o = { .format = BWE_FMT_PLAIN, .on_ind = collect, .ctx = &back };
	struct bwe_feed_stats st;

	/* merged, in prefix order, each once; no monitor entry, nothing expired */
	assert_string_equal(out, "100.64.9.0/24\n"
				 "192.0.2.10\n"
				 "192.0.2.11\n"
				 "198.51.100.0/24\n"
				 "203.0.113.7\n"
				 "2001:db8:bad::/48\n");
	assert_int_equal(n, 6);
	/* a firewall's EDL reader is a plain list reader: ours takes it whole */
	assert_int_equal(bwe_feed_parse(out, strlen(out), &o, &st), 0);
	assert_int_equal(st.accepted, 6);
	assert_int_equal(st.rejected, 0);
	fs_vec_free(&back);
	free(out);
}

static void test_plain_quarantine_and_feeds(void **state)
{
	struct fixture *f = *state;
	char *out = run(f, BWE_EXP_PLAIN, BWE_EXP_QUARANTINE, NULL, FULL_SIZE, NULL);

	assert_string_equal(out, "10.1.0.5\n10.1.0.6\nfd00::7\n");
	free(out);
	/* feeds: feed by feed, monitor feeds too, expired entries not */
	out = run(f, BWE_EXP_PLAIN, BWE_EXP_FEEDS, NULL, FULL_SIZE, NULL);
	assert_string_equal(out, "198.51.100.0/24\n203.0.113.7\n2001:db8:bad::/48\n"
				 "192.0.2.10\n192.0.2.11\n203.0.113.7\n"
				 "192.0.2.200\n");
	free(out);
	out = run(f, BWE_EXP_PLAIN, BWE_EXP_FEEDS, "watch", FULL_SIZE, NULL);
	assert_string_equal(out, "192.0.2.200\n");
	free(out);
}

static void test_unknown_feed(void **state)
{
	struct fixture *f = *state;
	struct export_deps d = { .st = f->st, .store = f->fs };
	struct export *x = (struct export *)1;
	char err[EXPORT_ERR_LEN];

	assert_int_equal(export_new(&x, &d, BWE_EXP_PLAIN, BWE_EXP_FEEDS, "nope\n", NOW, err,
				    sizeof(err)),
			 -EINVAL);
	assert_null(x);
	assert_string_equal(err, "export: no feed named \"nope\\x0a\"");
}

/* ---- zeek-intel -------------------------------------------------------------------- */

static void test_zeek_blocks(void **state)
{
	struct fixture *f = *state;
	char *save = NULL, *line;
	size_t n = 0, domains = 0, subnets = 0, addrs = 0;

	static const char header[] = "#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\n";
	char *out = run(f, BWE_EXP_ZEEK, BWE_EXP_BLOCKS, NULL, FULL_SIZE, NULL);

	assert_true(!strncmp(out, header, strlen(header)));
	/* 203.0.113.7 has three sources: manual, alpha, beta; one line each */
	assert_non_null(strstr(out, "203.0.113.7\tIntel::ADDR\tbwenforce/manual\tblock by "
				    "uid=0(root)"));
	assert_non_null(strstr(out, "203.0.113.7\tIntel::ADDR\tbwenforce/alpha\tblocked by feed "
				    "alpha line 3\n"));
	assert_non_null(strstr(out,
			       "203.0.113.7\tIntel::ADDR\tbwenforce/beta\tblocked by feed beta "
			       "line 10 indicator indicator--0f9a7c3e"));
	/* the reason's tab and newline do not break the record */
	assert_non_null(strstr(out, ": seen in a case\n"));
	assert_non_null(strstr(out, "198.51.100.0/24\tIntel::SUBNET\tbwenforce/alpha\t"));
	assert_non_null(strstr(out, "2001:db8:bad::/48\tIntel::SUBNET\t"));
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *fields[8], *fs = NULL, *tok, *copy = strdup(line);
		size_t k = 0;

		if (line[0] == '#') {
			free(copy);
			continue;
		}
		for (tok = strtok_r(copy, "\t", &fs); tok && k < 8; tok = strtok_r(NULL, "\t", &fs))
			fields[k++] = tok;
		assert_int_equal(k, 4); /* every field there, none empty */
		for (size_t i = 0; i < k; i++)
			assert_true(strlen(fields[i]) > 0);
		domains += !strcmp(fields[1], "Intel::DOMAIN");
		subnets += !strcmp(fields[1], "Intel::SUBNET");
		addrs += !strcmp(fields[1], "Intel::ADDR");
		if (!strcmp(fields[1], "Intel::DOMAIN")) {
			assert_string_equal(fields[0], "evil.example");
			assert_string_equal(fields[2], "bwenforce/beta");
		}
		free(copy);
		n++;
	}
	/* the domain two entries carry: once */
	assert_int_equal(domains, 1);
	assert_int_equal(subnets, 3);
	assert_int_equal(addrs, 5);
	assert_int_equal(n, 9);
	free(out);
}

/* A domain listed by two feeds: one Intel::DOMAIN line for each, however many addresses. */
static void test_zeek_domain_per_feed(void **state)
{
	struct fixture *f = *state;
	struct fs_vec g = { 0 };
	char *out, *p;
	size_t n = 0;

	assert_int_equal(fstore_define(f->fs, 5, "gamma", "/etc/feeds/g.txt", false), 0);
	feed_add(&g, "192.0.2.10", 1, "evil.example", 0);
	feed_add(&g, "192.0.2.13", 1, "evil.example", 0);
	feed_set(f->fs, 5, &g);
	out = run(f, BWE_EXP_ZEEK, BWE_EXP_FEEDS, NULL, FULL_SIZE, NULL);
	for (p = out; (p = strstr(p, "evil.example\tIntel::DOMAIN\t")); p++)
		n++;
	assert_int_equal(n, 2);
	assert_non_null(strstr(out, "evil.example\tIntel::DOMAIN\tbwenforce/beta\t"));
	assert_non_null(strstr(out, "evil.example\tIntel::DOMAIN\tbwenforce/gamma\t"));
	free(out);
}

static int count_kinds(const struct bwe_indicator *ind, void *ctx)
{
	size_t *n = ctx;

	n[ind->kind == BWE_IND_DOMAIN]++;
	return 0;
}

/* The project's own Zeek intel reader takes the file whole: every line an indicator. */
static void test_zeek_round_trip(void **state)
{
	struct fixture *f = *state;
	char *out = run(f, BWE_EXP_ZEEK, BWE_EXP_BLOCKS, NULL, FULL_SIZE, NULL);
	size_t n[2] = { 0, 0 };
	struct bwe_feed_parse_opts o = { .format = BWE_FMT_ZEEK_INTEL,
					 .on_ind = count_kinds,
					 .ctx = n };
	struct bwe_feed_stats st;

	assert_int_equal(bwe_feed_parse(out, strlen(out), &o, &st), 0);
	assert_int_equal(st.rejected, 0);
	assert_int_equal(n[0], 8); /* ADDR and SUBNET lines, one per source */
	assert_int_equal(n[1], 1); /* the domain */
	assert_int_equal(bwe_feed_detect(out, strlen(out)), BWE_FMT_ZEEK_INTEL);
	free(out);
}

static void test_zeek_quarantine(void **state)
{
	struct fixture *f = *state;
	char *out = run(f, BWE_EXP_ZEEK, BWE_EXP_QUARANTINE, NULL, FULL_SIZE, NULL);

	assert_string_equal(
		out,
		"#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\n"
		"10.1.0.5\tIntel::ADDR\tbwenforce/quarantine\tquarantine by rule:upload-spike: "
		"automatic: spike 9000000 > 1000000 B/s\n"
		"10.1.0.6\tIntel::ADDR\tbwenforce/quarantine\tquarantine by uid=0(root) pid=0: "
		"bwctl quarantine: case 7\n"
		"fd00::7\tIntel::ADDR\tbwenforce/throttle\tthrottle by rule:fanout: automatic: "
		"fan-out 900 > 200\n");
	free(out);
}

/* ---- stix -------------------------------------------------------------------------- */

#define RE_ID	"^[a-z0-9-]+--[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
#define RE_TIME "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?Z$"

static const char *str(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v)
		       : NULL;
}

/* Is id the id of an object of the bundle? */
static bool has_id(struct json_object *objs, const char *id)
{
	size_t i;

	for (i = 0; id && i < json_object_array_length(objs); i++)
		if (!strcmp(str(json_object_array_get_idx(objs, i), "id"), id))
			return true;
	return false;
}

/*
 * What STIX 2.1 requires of every object we write: an id of its own type
 * and UUIDv4, spec_version 2.1, timestamps in RFC 3339 with Z, every
 * reference to an object of the bundle. Returns the objects; counts types.
 */
static struct json_object *check_bundle(const char *text, size_t *n_ind, size_t *n_sight)
{
	struct json_object *b = json_tokener_parse(text), *objs;
	static const char *const times[] = { "created",	    "modified",	      "valid_from",
					     "valid_until", "first_observed", "last_observed",
					     "first_seen",  "last_seen" };
	size_t i, k;

	assert_non_null(b);
	assert_string_equal(str(b, "type"), "bundle");
	assert_true(matches(RE_ID, str(b, "id")));
	assert_true(!strncmp(str(b, "id"), "bundle--", 8));
	assert_true(json_object_object_get_ex(b, "objects", &objs));
	*n_ind = *n_sight = 0;
	for (i = 0; i < json_object_array_length(objs); i++) {
		struct json_object *o = json_object_array_get_idx(objs, i), *refs;
		const char *type = str(o, "type"), *id = str(o, "id");

		assert_non_null(type);
		assert_non_null(id);
		assert_true(matches(RE_ID, id));
		assert_true(!strncmp(id, type, strlen(type)) &&
			    !strncmp(id + strlen(type), "--", 2));
		assert_string_equal(str(o, "spec_version"), "2.1");
		for (k = 0; k < ARRAY_SIZE(times); k++)
			if (str(o, times[k]))
				assert_true(matches(RE_TIME, str(o, times[k])));
		if (str(o, "created_by_ref"))
			assert_true(has_id(objs, str(o, "created_by_ref")));
		if (!strcmp(type, "indicator")) {
			(*n_ind)++;
			assert_string_equal(str(o, "pattern_type"), "stix");
			assert_true(matches("^\\[ipv[46]-addr:value = '[0-9a-f.:/]+'\\]$",
					    str(o, "pattern")));
			if (str(o, "valid_until"))
				assert_true(strcmp(str(o, "valid_until"), str(o, "valid_from")) >
					    0);
		}
		if (!strcmp(type, "sighting")) {
			(*n_sight)++;
			assert_true(has_id(objs, str(o, "sighting_of_ref")));
			assert_true(json_object_object_get_ex(o, "observed_data_refs", &refs));
			for (k = 0; k < json_object_array_length(refs); k++)
				assert_true(
					has_id(objs, json_object_get_string(
							     json_object_array_get_idx(refs, k))));
			assert_true(json_object_object_get_ex(o, "where_sighted_refs", &refs));
			assert_true(has_id(objs, json_object_get_string(
							 json_object_array_get_idx(refs, 0))));
		}
		if (!strcmp(type, "observed-data")) {
			assert_true(json_object_object_get_ex(o, "object_refs", &refs));
			assert_true(has_id(objs, json_object_get_string(
							 json_object_array_get_idx(refs, 0))));
			assert_true(strcmp(str(o, "first_observed"), str(o, "last_observed")) <= 0);
		}
	}
	json_object_get(objs);
	json_object_put(b);
	return objs;
}

static void test_stix_blocks_round_trip(void **state)
{
	struct fixture *f = *state;
	char *out = run(f, BWE_EXP_STIX, BWE_EXP_BLOCKS, NULL, FULL_SIZE, NULL);
	char *plain = run(f, BWE_EXP_PLAIN, BWE_EXP_BLOCKS, NULL, FULL_SIZE, NULL);
	struct fs_vec back = { 0 };
	struct bwe_feed_parse_opts o = { .format = BWE_FMT_STIX,
					 .now = NOW,
					 .on_ind = collect,
					 .ctx = &back };
	struct bwe_feed_stats st;
	struct json_object *objs;
	size_t n_ind, n_sight, i;
	char *expect = plain, *save = NULL, *line;

	objs = check_bundle(out, &n_ind, &n_sight);
	assert_int_equal(n_ind, 6);
	assert_int_equal(n_sight, 0);
	assert_string_equal(str(json_object_array_get_idx(objs, 0), "type"), "identity");
	assert_string_equal(str(json_object_array_get_idx(objs, 0), "name"), "bwenforce on gw1");
	json_object_put(objs);
	/* the project's own STIX reader takes every indicator, the same prefixes */
	assert_int_equal(bwe_feed_parse(out, strlen(out), &o, &st), 0);
	assert_int_equal(st.rejected, 0);
	assert_int_equal(back.n, 6);
	fs_vec_sort_unique(&back);
	for (i = 0, line = strtok_r(expect, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save), i++) {
		struct bwe_prefix p = pfx(line);

		assert_non_null(fs_vec_find(&back, &p));
	}
	assert_int_equal(i, 6);
	/* valid_until of 192.0.2.10 (beta's only source) is kept */
	assert_non_null(strstr(out, "\"valid_until\":\"2025-12-04T22:13:20.000Z\""));
	fs_vec_free(&back);
	free(plain);
	free(out);
}

static void test_stix_quarantine(void **state)
{
	struct fixture *f = *state;
	char *out = run(f, BWE_EXP_STIX, BWE_EXP_QUARANTINE, NULL, FULL_SIZE, NULL);
	struct json_object *objs;
	size_t n_ind, n_sight, i, n_sco = 0, n_od = 0, n_ap = 0;

	objs = check_bundle(out, &n_ind, &n_sight);
	/* the two hosts a rule contained; the operator's quarantine is no finding */
	assert_int_equal(n_sight, 2);
	assert_int_equal(n_ind, 0);
	for (i = 0; i < json_object_array_length(objs); i++) {
		struct json_object *o = json_object_array_get_idx(objs, i);
		const char *type = str(o, "type");

		n_sco += !strcmp(type, "ipv4-addr") || !strcmp(type, "ipv6-addr");
		n_od += !strcmp(type, "observed-data");
		n_ap += !strcmp(type, "attack-pattern");
		if (!strcmp(type, "ipv4-addr"))
			assert_string_equal(str(o, "value"), "10.1.0.5");
		if (!strcmp(type, "sighting") &&
		    !strcmp(str(o, "x_bwenforce_rule"), "upload-spike")) {
			assert_string_equal(str(o, "description"),
					    "automatic: spike 9000000 > 1000000 B/s");
			assert_string_equal(str(o, "x_bwenforce_response"), "quarantine");
			assert_string_equal(str(o, "first_seen"), "2025-12-03T21:13:20.000Z");
		}
	}
	assert_int_equal(n_sco, 2);
	assert_int_equal(n_od, 2);
	assert_int_equal(n_ap, 1);
	assert_null(strstr(out, "10.1.0.6"));
	assert_non_null(strstr(out, "\"external_id\":\"T1496.002\""));
	json_object_put(objs);
	free(out);
}

/* ---- json -------------------------------------------------------------------------- */

static void test_json_sets(void **state)
{
	struct fixture *f = *state;
	char *out = run(f, BWE_EXP_JSON, BWE_EXP_BLOCKS, NULL, FULL_SIZE, NULL);
	struct json_object *doc = json_tokener_parse(out), *ents, *e, *srcs, *v;

	assert_non_null(doc);
	assert_string_equal(str(doc, "type"), "bwenforce-export");
	assert_string_equal(str(doc, "set"), "blocks");
	assert_true(json_object_object_get_ex(doc, "entries", &ents));
	assert_int_equal(json_object_array_length(ents), 6);
	assert_true(json_object_object_get_ex(doc, "count", &v));
	assert_int_equal(json_object_get_int(v), 6);
	e = json_object_array_get_idx(ents, 4);
	assert_string_equal(str(e, "cidr"), "203.0.113.7");
	assert_true(json_object_object_get_ex(e, "sources", &srcs));
	assert_int_equal(json_object_array_length(srcs), 3);
	assert_string_equal(str(json_object_array_get_idx(srcs, 0), "feed"), "manual");
	assert_string_equal(str(json_object_array_get_idx(srcs, 0), "reason"), "seen\tin a\ncase");
	assert_string_equal(str(json_object_array_get_idx(srcs, 2), "indicator"),
			    "indicator--0f9a7c3e-5b7d-4c1e-9b8e-2a6c1d3e4f50");
	json_object_put(doc);
	free(out);

	out = run(f, BWE_EXP_JSON, BWE_EXP_FEEDS, NULL, FULL_SIZE, NULL);
	doc = json_tokener_parse(out);
	assert_non_null(doc);
	assert_true(json_object_object_get_ex(doc, "entries", &ents));
	assert_int_equal(json_object_array_length(ents), 7);
	e = json_object_array_get_idx(ents, 6);
	assert_string_equal(str(e, "feed"), "watch");
	assert_string_equal(str(e, "action"), "monitor");
	json_object_put(doc);
	free(out);

	out = run(f, BWE_EXP_JSON, BWE_EXP_QUARANTINE, NULL, FULL_SIZE, NULL);
	doc = json_tokener_parse(out);
	assert_non_null(doc);
	assert_true(json_object_object_get_ex(doc, "entries", &ents));
	assert_int_equal(json_object_array_length(ents), 3);
	assert_string_equal(str(json_object_array_get_idx(ents, 0), "actor"), "rule:upload-spike");
	assert_string_equal(str(json_object_array_get_idx(ents, 2), "kind"), "throttle");
	json_object_put(doc);
	free(out);
}

/* ---- chunks and changes between them ------------------------------------------------ */

static void big_feed(struct fixture *f, size_t n, size_t skip_every)
{
	struct fs_vec v = { 0 };
	char p[BWE_PREFIX_STRLEN];
	size_t i;

	for (i = 0; i < n; i++) {
		if (skip_every && i % skip_every == 0)
			continue;
		snprintf(p, sizeof(p), "10.%zu.%zu.%zu", 100 + i / 65536, (i / 256) % 256, i % 256);
		feed_add(&v, p, (__u32)i + 1, NULL, 0);
	}
	feed_set(f->fs, FEED_A, &v);
}

static void test_chunks_equal_one_pass(void **state)
{
	struct fixture *f = *state;
	char *whole, *pieces;
	size_t n1, n2;

	big_feed(f, BIG_FEED, 0);
	for (int fmt = 0; fmt < BWE_EXP_FORMATS; fmt++) {
		if (fmt == BWE_EXP_STIX)
			continue; /* ids differ from run to run */
		whole = run(f, (enum bwe_export_format)fmt, BWE_EXP_BLOCKS, NULL, FULL_SIZE, &n1);
		pieces = run(f, (enum bwe_export_format)fmt, BWE_EXP_BLOCKS, NULL, 1000, &n2);
		assert_int_equal(n1, n2);
		/* beta's 192.0.2.10, .11 and 203.0.113.7 (manual's too), manual's /24 */
		assert_int_equal(n1, BIG_FEED + 4);
		if (fmt != BWE_EXP_JSON) /* json carries its time */
			assert_string_equal(whole, pieces);
		free(whole);
		free(pieces);
	}
}

/* A feed swapped between two chunks: read on from the same prefix, each at most once. */
static void test_swap_between_chunks(void **state)
{
	struct fixture *f = *state;
	struct export_deps d = { .st = f->st, .store = f->fs, .gateway = "gw1" };
	struct export_buf b = { 0 };
	struct export *x;
	char err[EXPORT_ERR_LEN], *line, *save = NULL;
	struct bwe_prefix prev = { 0 };
	size_t n = 0, target = 4096;
	bool swapped = false, have = false;
	int r;

	big_feed(f, BIG_FEED, 0);
	assert_int_equal(export_new(&x, &d, BWE_EXP_PLAIN, BWE_EXP_FEEDS, "alpha", NOW, err,
				    sizeof(err)),
			 0);
	do {
		r = export_next(x, &b, b.len + target);
		assert_true(r >= 0);
		if (!swapped && b.len > 20000) {
			/* every 3rd entry goes; the buffer points into nothing of the old version */
			big_feed(f, BIG_FEED, 3);
			swapped = true;
		}
	} while (r > 0);
	export_free(x);
	assert_true(swapped);
	for (line = strtok_r(b.p, "\n", &save); line; line = strtok_r(NULL, "\n", &save), n++) {
		struct bwe_prefix p = pfx(line);

		if (have)
			assert_true(bwe_prefix_cmp(&prev, &p) < 0); /* in order, none twice */
		prev = p;
		have = true;
	}
	/* before the swap all, after it two of three */
	assert_true(n < BIG_FEED);
	assert_true(n > BIG_FEED * 2 / 3);
	export_buf_free(&b);
}

/* ---- the request ------------------------------------------------------------------- */

static int request(const char *json, struct bwe_request *r, char *err, size_t len)
{
	int e = bwe_request_parse(json, strlen(json), r, err, len);

	return e ? e : bwe_request_args(r, err, len);
}

static void test_request_args(void **state)
{
	struct bwe_request r;
	char err[256];

	(void)state;
	assert_int_equal(request("{\"cmd\":\"export\"}", &r, err, sizeof(err)), 0);
	assert_int_equal(r.exp_format, BWE_EXP_PLAIN);
	assert_int_equal(r.exp_set, BWE_EXP_BLOCKS);
	assert_int_equal(bwe_cmd_role(r.cmd), BWE_ROLE_READ);
	bwe_request_free(&r);
	assert_int_equal(request("{\"cmd\":\"export\",\"format\":\"zeek-intel\",\"set\":\"feeds\","
				 "\"feed\":\"alpha\"}",
				 &r, err, sizeof(err)),
			 0);
	assert_int_equal(r.exp_format, BWE_EXP_ZEEK);
	assert_int_equal(r.exp_set, BWE_EXP_FEEDS);
	assert_string_equal(r.feed, "alpha");
	bwe_request_free(&r);
	assert_int_equal(request("{\"cmd\":\"export\",\"format\":\"csv\"}", &r, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "export: format must be plain, zeek-intel, stix or json");
	bwe_request_free(&r);
	assert_int_equal(request("{\"cmd\":\"export\",\"set\":\"all\"}", &r, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "export: set must be blocks, quarantine or feeds");
	bwe_request_free(&r);
	assert_int_equal(request("{\"cmd\":\"export\",\"feed\":\"alpha\"}", &r, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "\"feed\" goes with the set \"feeds\" only");
	bwe_request_free(&r);
	assert_int_equal(bwe_export_format_from("stix"), BWE_EXP_STIX);
	assert_int_equal(bwe_export_set_from("quarantine"), BWE_EXP_QUARANTINE);
	assert_int_equal(bwe_export_format_from("STIX"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_plain_blocks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plain_quarantine_and_feeds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_feed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zeek_blocks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zeek_quarantine, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zeek_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zeek_domain_per_feed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stix_blocks_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stix_quarantine, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json_sets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chunks_equal_one_pass, setup, teardown),
		cmocka_unit_test_setup_teardown(test_swap_between_chunks, setup, teardown),
		cmocka_unit_test(test_request_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
