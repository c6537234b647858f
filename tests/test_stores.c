// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_stores.c - the daemon's two stores without side effects: operator
 * state (ctl/bwctld/store.c) and feed entries with provenance
 * (ctl/bwctld/feedstore.c). No kernel, no files.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "test_helpers.h"

#include "bwe_util.h"
#include "bwe_abi.h"
#include "feedstore.h"
#include "store.h"

#define FEED_DROP  2
#define FEED_MON   3
#define FEED_DROP2 4

static struct st_entry entry(enum st_kind k, const char *p, enum actor_kind who, const char *name)
{
	struct st_entry e = { .kind = k, .pfx = pfx(p), .since = 1700000000 };

	actor_set(&e.actor, who, name, who == ACTOR_OPERATOR ? "bwctl quarantine" : NULL);
	snprintf(e.reason, sizeof(e.reason), "why %s", p);
	return e;
}

/* ---- operator state --------------------------------------------------------- */

static void test_store_put_find_match_del(void **state)
{
	struct st_store *s = st_new();
	struct st_entry a = entry(ST_QUARANTINE, "198.18.0.0/24", ACTOR_OPERATOR, "root");
	struct st_entry b = entry(ST_QUARANTINE, "198.18.0.7", ACTOR_RULE, "spike");
	struct bwe_addr x = addr("198.18.0.7"), y = addr("198.18.0.8"), z = addr("198.19.0.1");

	(void)state;
	assert_int_equal(st_put(s, &a), 0);
	assert_int_equal(st_put(s, &b), 0);
	assert_int_equal(st_count(s), 2);
	/* the longest entry decides */
	assert_int_equal(st_match(s, ST_QUARANTINE, &x)->pfx.plen, BWE_ADDR_BITS);
	assert_int_equal(st_match(s, ST_QUARANTINE, &y)->pfx.plen, BWE_V4_MAPPED_PLEN + 24);
	assert_null(st_match(s, ST_QUARANTINE, &z));
	assert_null(st_match(s, ST_THROTTLE, &x));
	/* replace keeps one entry per kind and prefix */
	b.expires = 42;
	assert_int_equal(st_put(s, &b), 0);
	assert_int_equal(st_count(s), 2);
	assert_int_equal(st_find(s, ST_QUARANTINE, &b.pfx)->expires, 42);
	assert_true(st_overlaps(s, ST_QUARANTINE, &a.pfx));
	assert_false(st_overlaps(s, ST_ALLOW, &a.pfx));
	assert_int_equal(st_del(s, ST_QUARANTINE, &b.pfx), 0);
	assert_int_equal(st_del(s, ST_QUARANTINE, &b.pfx), -ENOENT);
	assert_int_equal(st_count(s), 1);
	st_free(s);
}

static void test_store_clone_restore(void **state)
{
	struct st_store *s = st_new(), *snap;
	struct st_entry a = entry(ST_BLOCK, "203.0.113.0/24", ACTOR_OPERATOR, "root");
	struct st_entry b = entry(ST_ALLOW, "198.51.100.9", ACTOR_API, "soar");

	(void)state;
	assert_int_equal(st_put(s, &a), 0);
	snap = st_clone(s);
	assert_non_null(snap);
	assert_int_equal(st_put(s, &b), 0);
	assert_int_equal(st_del(s, ST_BLOCK, &a.pfx), 0);
	st_restore(s, snap);
	assert_int_equal(st_count(s), 1);
	assert_non_null(st_find(s, ST_BLOCK, &a.pfx));
	assert_null(st_find(s, ST_ALLOW, &b.pfx));
	st_free(s);
}

static void test_store_json_round_trip_keeps_typed_actors(void **state)
{
	struct st_store *s = st_new(), *t = st_new();
	struct st_entry e[] = {
		entry(ST_QUARANTINE, "198.18.0.7", ACTOR_OPERATOR, "alice"),
		entry(ST_THROTTLE, "2001:db8:1::5", ACTOR_RULE, "upload-throttle"),
		entry(ST_EXEMPT, "198.18.0.53", ACTOR_FLEET, "site-b"),
	};
	struct json_object *j;
	size_t i, skipped;

	(void)state;
	e[0].actor.uid = 1000;
	e[0].actor.pid = 4242;
	e[1].rate = 500000;
	e[1].burst = 125000;
	e[1].expires = 1700003600;
	for (i = 0; i < 3; i++)
		assert_int_equal(st_put(s, &e[i]), 0);
	j = st_to_json(s);
	assert_int_equal(st_from_json(t, j, &skipped), 0);
	assert_int_equal(skipped, 0);
	for (i = 0; i < 3; i++) {
		const struct st_entry *x = st_find(t, e[i].kind, &e[i].pfx);

		assert_non_null(x);
		assert_memory_equal(&x->actor, &e[i].actor, sizeof(x->actor));
		assert_int_equal(x->expires, e[i].expires);
		assert_int_equal(x->rate, e[i].rate);
		assert_string_equal(x->reason, e[i].reason);
	}
	json_object_put(j);
	st_free(s);
	st_free(t);
}

static void test_store_reads_old_string_actors_and_skips_bad_entries(void **state)
{
	static const char doc[] =
		"{\"version\":1,\"entries\":["
		"{\"kind\":\"quarantine\",\"prefix\":\"198.18.0.7/32\",\"actor\":\"rule:spike\"},"
		"{\"kind\":\"throttle\",\"prefix\":\"198.18.0.8\","
		"\"actor\":\"uid=0(root) pid=42: bwctl throttle 198.18.0.8\"},"
		"{\"kind\":\"nonsense\",\"prefix\":\"198.18.0.9\"},"
		"{\"kind\":\"block\",\"prefix\":\"not an address\"}]}";
	struct st_store *s = st_new();
	struct json_object *j = json_tokener_parse(doc), *bad = json_tokener_parse("[1,2]");
	struct bwe_prefix q = pfx("198.18.0.7"), t = pfx("198.18.0.8");
	const struct st_entry *x;
	size_t skipped;

	(void)state;
	assert_int_equal(st_from_json(s, j, &skipped), 0);
	assert_int_equal(skipped, 2);
	x = st_find(s, ST_QUARANTINE, &q);
	assert_non_null(x);
	assert_int_equal(x->actor.kind, ACTOR_RULE);
	assert_string_equal(x->actor.name, "spike");
	x = st_find(s, ST_THROTTLE, &t);
	assert_non_null(x);
	assert_int_equal(x->actor.kind, ACTOR_OPERATOR);
	assert_int_equal(x->actor.pid, 42);
	assert_string_equal(x->actor.name, "root");
	assert_string_equal(x->actor.detail, "bwctl throttle 198.18.0.8");
	/* not a state document: refused, the table unchanged */
	assert_int_equal(st_from_json(s, bad, &skipped), -EINVAL);
	assert_int_equal(st_count(s), 2);
	json_object_put(j);
	json_object_put(bad);
	st_free(s);
}

/* ---- feed store -------------------------------------------------------------- */

static void put(struct fs_vec *v, const char *p, __u32 line, const char *ind)
{
	struct fs_rec e = { .pfx = pfx(p), .line = line, .ind = ind, .first_seen = 1700000000 };

	assert_int_equal(fs_vec_add(v, &e), 0);
}

static struct fstore *three_feeds(void)
{
	struct fstore *fs = fstore_new();
	struct fs_vec d = { 0 }, m = { 0 }, d2 = { 0 };

	assert_int_equal(fstore_define(fs, FEED_DROP, "c2", "/feeds/c2.txt", false), 0);
	assert_int_equal(fstore_define(fs, FEED_MON, "watch", "https://x/watch", true), 0);
	assert_int_equal(fstore_define(fs, FEED_DROP2, "spamhaus", "/feeds/drop.txt", false), 0);
	put(&d, "203.0.113.66", 3, "indicator--1");
	put(&d, "203.0.113.66", 9, "later line"); /* a repeat: the first line wins */
	put(&d, "198.51.100.0/24", 4, NULL);
	fs_vec_sort_unique(&d);
	put(&m, "203.0.113.0/24", 1, NULL);
	put(&m, "198.51.100.7", 2, "watch.example");
	fs_vec_sort_unique(&m);
	put(&d2, "203.0.113.0/24", 7, "SBL1");
	fs_vec_sort_unique(&d2);
	fstore_swap(fs, FEED_DROP, &d);
	fstore_swap(fs, FEED_MON, &m);
	fstore_swap(fs, FEED_DROP2, &d2);
	assert_int_equal(d.n, 0); /* the old (empty) vectors came back */
	return fs;
}

static void test_feedstore_sort_unique_first_line_wins(void **state)
{
	struct fstore *fs = three_feeds();
	const struct fs_vec *v = fstore_entries(fs, FEED_DROP);
	struct bwe_prefix p = pfx("203.0.113.66");
	const struct fs_ent *e;

	(void)state;
	assert_int_equal(v->n, 2);
	e = fs_vec_find(v, &p);
	assert_non_null(e);
	assert_int_equal(e->line, 3);
	assert_string_equal(fs_vec_ind(v, e), "indicator--1");
	fstore_free(fs);
}

/*
 * {prefix, manual block, self, absent, expected ref}: drop beats monitor,
 * lowest id names it; self and absent are believed without a search.
 */
static void test_feedstore_effective_ref(void **state)
{
	static const struct {
		const char *p;
		bool manual;
		__u8 self, absent;
		__u8 feed;
		int mon;
	} rows[] = {
		{ "203.0.113.66", false, 0, 0, FEED_DROP, 0 },
		{ "203.0.113.0/24", false, 0, 0, FEED_DROP2, 0 }, /* drop2 beats the monitor feed */
		{ "198.51.100.7", false, 0, 0, FEED_MON, 1 },	  /* only a monitor feed */
		{ "198.51.100.7", true, 0, 0, BWE_FEED_MANUAL, 0 },    /* a manual block beats it */
		{ "198.51.100.8", false, 0, 0, 0, 0 },		       /* nobody */
		{ "198.51.100.8", false, FEED_DROP, 0, FEED_DROP, 0 }, /* self is believed */
		{ "203.0.113.0/24", false, 0, FEED_DROP2, FEED_MON,
		  1 },					       /* and absent: the monitor */
		{ "203.0.113.66", false, 0, FEED_DROP, 0, 0 }, /* nobody else */
	};
	struct fstore *fs = three_feeds();
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		struct bwe_prefix p = pfx(rows[i].p);
		__u8 want = rows[i].feed ? bwe_ref(rows[i].feed, rows[i].mon) : BWE_REF_NONE;

		assert_int_equal(fstore_effective_ref(fs, &p, rows[i].manual, rows[i].self,
						      rows[i].absent),
				 want);
	}
	fstore_free(fs);
}

static void test_feedstore_match_is_typed_provenance(void **state)
{
	struct fstore *fs = three_feeds();
	struct fs_match m[FS_MATCH_MAX];
	struct bwe_addr a = addr("203.0.113.66"), none = addr("192.0.2.1");
	size_t n;

	(void)state;
	n = fstore_match(fs, &a, m, FS_MATCH_MAX);
	assert_int_equal(n, 3); /* c2's host, watch's /24, spamhaus's /24: feeds by id */
	assert_int_equal(m[0].feed_id, FEED_DROP);
	assert_string_equal(m[0].feed, "c2");
	assert_int_equal(m[0].line, 3);
	assert_string_equal(m[0].indicator, "indicator--1");
	assert_int_equal(m[1].feed_id, FEED_MON);
	assert_true(m[1].monitor);
	assert_int_equal(m[1].pfx.plen, BWE_V4_MAPPED_PLEN + 24);
	assert_null(m[1].indicator);
	assert_string_equal(m[2].source, "/feeds/drop.txt");
	assert_int_equal(fstore_match(fs, &none, m, FS_MATCH_MAX), 0);
	/* the output bound holds */
	assert_int_equal(fstore_match(fs, &a, m, 1), 1);
	assert_string_equal(fstore_ref_name(fs, bwe_ref(FEED_MON, 1)), "watch");
	assert_string_equal(fstore_ref_name(fs, BWE_FEED_MANUAL), "manual");
	assert_null(fstore_ref_name(fs, BWE_REF_NONE));
	fstore_free(fs);
}

static void test_feedstore_drop_hands_back_entries(void **state)
{
	struct fstore *fs = three_feeds();
	struct fs_vec old;
	struct bwe_prefix p = pfx("203.0.113.0/24");

	(void)state;
	fstore_hit(fs, bwe_ref(FEED_DROP2, 0));
	fstore_hit(fs, bwe_ref(FEED_DROP2, 0));
	assert_int_equal(fstore_hits(fs, FEED_DROP2), 2);
	fstore_drop(fs, FEED_DROP2, &old);
	assert_int_equal(old.n, 1);
	assert_null(fstore_entries(fs, FEED_DROP2));
	/* with spamhaus gone, the monitor feed names the /24 */
	assert_int_equal(fstore_effective_ref(fs, &p, false, 0, 0), bwe_ref(FEED_MON, 1));
	assert_int_equal(fstore_define(fs, 1, "bad", "x", false), -EINVAL); /* manual's id */
	fs_vec_free(&old);
	fstore_free(fs);
}

/*
 * The compact layout: a plain entry has no side record; an indicator, an end
 * of validity or a first_seen past 32 bits each give it one; copying to
 * another vector, merging and setting first_seen keep every field.
 */
static void test_feedstore_rare_fields_apart(void **state)
{
	static const struct {
		const char *pfx, *ind;
		time_t seen, until;
		bool xtra; /* a side record expected */
	} rows[] = {
		{ "192.0.2.1", NULL, 1700000000, 0, false },
		{ "192.0.2.2", NULL, 4026531839LL, 0, false }, /* 2097-08-05: the last inline */
		{ "192.0.2.3", NULL, 4026531840LL, 0, true },  /* one past: far */
		{ "192.0.2.4", NULL, -1, 0, true },	       /* before 1970 */
		{ "192.0.2.5", "ind-5", 1700000000, 0, true },
		{ "192.0.2.6", NULL, 1700000000, 1800000000, true },
		{ "2001:db8::7", "ind-7", 4355164800LL, 4355164801LL, true },
	};
	struct fs_vec v = { 0 }, c = { 0 };
	size_t i, want = 0;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		struct fs_rec r = { .pfx = pfx(rows[i].pfx),
				    .line = (__u32)i + 1,
				    .ind = rows[i].ind,
				    .first_seen = rows[i].seen,
				    .valid_until = rows[i].until };

		assert_int_equal(fs_vec_add(&v, &r), 0);
		want += rows[i].xtra;
		assert_int_equal(v.xn, want);
		assert_int_equal(fs_ent_has_xtra(&v.v[i]), rows[i].xtra);
	}
	assert_int_equal(sizeof(v.v[0]), 28);
	for (i = 0; i < v.n; i++)
		assert_int_equal(fs_vec_copy(&c, &v, &v.v[i]), 0);
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		const char *ind = fs_vec_ind(&c, &c.v[i]);

		assert_int_equal(bwe_prefix_cmp(&c.v[i].pfx, &v.v[i].pfx), 0);
		assert_int_equal(c.v[i].line, i + 1);
		assert_int_equal(fs_ent_first_seen(&c, &c.v[i]), rows[i].seen);
		assert_int_equal(fs_ent_valid_until(&c, &c.v[i]), rows[i].until);
		assert_true(rows[i].ind ? ind && !strcmp(ind, rows[i].ind) : !ind);
	}
	/* a plain entry set to a far first_seen gets a side record, and back inline */
	assert_int_equal(fs_ent_set_first_seen(&c, &c.v[0], 4294967296LL), 0);
	assert_int_equal(c.xn, want + 1);
	assert_int_equal(fs_ent_first_seen(&c, &c.v[0]), 4294967296LL);
	assert_int_equal(fs_ent_set_first_seen(&c, &c.v[1], 1700000001), 0);
	assert_false(fs_ent_has_xtra(&c.v[1]));
	assert_int_equal(fs_ent_first_seen(&c, &c.v[1]), 1700000001);
	assert_int_equal(fs_ent_set_first_seen(&c, &c.v[4], 1700000002), 0);
	assert_int_equal(fs_ent_first_seen(&c, &c.v[4]), 1700000002);
	assert_string_equal(fs_vec_ind(&c, &c.v[4]), "ind-5");
	fs_vec_free(&v);
	fs_vec_free(&c);
}

/* A partial re-parse merged into a version with side records keeps them all. */
static void test_feedstore_merge_keeps_rare_fields(void **state)
{
	static const __u32 old_to_new[] = { 1, 0, 3 }; /* line 2 re-read */
	struct fs_vec cur = { 0 }, rd = { 0 }, out = { 0 };
	struct bwe_prefix *add, *gone;
	size_t nadd, ngone;

	(void)state;
	assert_int_equal(fs_vec_add(&cur, &(struct fs_rec){ .pfx = pfx("192.0.2.1"),
							    .line = 1,
							    .ind = "kept",
							    .first_seen = 4355164800LL,
							    .valid_until = 4355164900LL }),
			 0);
	assert_int_equal(fs_vec_add(&cur, &(struct fs_rec){ .pfx = pfx("192.0.2.2"),
							    .line = 2,
							    .first_seen = 1600000000 }),
			 0);
	assert_int_equal(fs_vec_add(&cur, &(struct fs_rec){ .pfx = pfx("192.0.2.3"),
							    .line = 3,
							    .first_seen = 1600000000 }),
			 0);
	/* line 2 now lists 192.0.2.2 with an indicator and an end */
	assert_int_equal(fs_vec_add(&rd, &(struct fs_rec){ .pfx = pfx("192.0.2.2"),
							   .line = 2,
							   .ind = "re-read",
							   .valid_until = 1900000000 }),
			 0);
	assert_int_equal(fs_vec_merge(&cur, old_to_new, ARRAY_SIZE(old_to_new), &rd, 1700000000,
				      &out, &add, &nadd, &gone, &ngone),
			 0);
	assert_int_equal(out.n, 3);
	assert_int_equal(nadd + ngone, 0);
	assert_string_equal(fs_vec_ind(&out, &out.v[0]), "kept");
	assert_int_equal(fs_ent_first_seen(&out, &out.v[0]), 4355164800LL);
	assert_int_equal(fs_ent_valid_until(&out, &out.v[0]), 4355164900LL);
	assert_string_equal(fs_vec_ind(&out, &out.v[1]), "re-read");
	assert_int_equal(fs_ent_first_seen(&out, &out.v[1]), 1600000000); /* carried over */
	assert_int_equal(fs_ent_valid_until(&out, &out.v[1]), 1900000000);
	assert_null(fs_vec_ind(&out, &out.v[2]));
	assert_false(fs_ent_has_xtra(&out.v[2]));
	free(add);
	free(gone);
	fs_vec_free(&cur);
	fs_vec_free(&rd);
	fs_vec_free(&out);
}

static unsigned long long merge_rng = 0x2545f4914f6cdd1dULL;

static __u32 merge_rnd(__u32 n)
{
	return test_rnd(&merge_rng, n);
}

/* A sorted, unique vector of n random /32s of 198.18.0.0/20 (net 0) or 198.19.0.0/20 (net 1). */
static void merge_vec(struct fs_vec *v, size_t n, __u32 first_line, int net)
{
	char a[32];
	size_t i;

	for (i = 0; i < n; i++) {
		snprintf(a, sizeof(a), "198.%d.%u.%u", 18 + net, merge_rnd(12), merge_rnd(256));
		assert_int_equal(fs_vec_add(v, &(struct fs_rec){ .pfx = pfx(a),
								 .line = first_line + (__u32)i,
								 .first_seen =
									 1600000000 + (time_t)i }),
				 0);
	}
}

/*
 * fs_vec_merge() takes the kept entries between two re-read ones as a run
 * found by galloping: on random versions it gives exactly what a walk
 * comparing every entry gives (the entries with their lines and
 * first_seen, the added and gone prefixes, or -EEXIST and nothing): new
 * prefixes, re-read prefixes a gone line listed (first_seen carried over),
 * now and then one a kept line still lists or an entry of a line not known
 * (-EEXIST), and an empty side.
 */
static void test_feedstore_merge_matches_walk(void **state)
{
	size_t iter, i, j, k, nadd, ngone, wadd, wgone;
	struct bwe_prefix *add, *gone, *want_add, *want_gone;

	(void)state;
	for (iter = 0; iter < 300; iter++) {
		struct fs_vec cur = { 0 }, rd = { 0 }, out = { 0 }, want = { 0 };
		size_t n = iter % 50 ? 1 + merge_rnd(iter < 150 ? 40 : 1200) : 0;
		size_t lines = n + 10;
		__u32 *o2n = calloc(lines, sizeof(*o2n));
		int err, werr = 0;

		assert_non_null(o2n);
		merge_vec(&cur, n, 1, 0);
		assert_int_equal(fs_vec_sort_unique(&cur), 0);
		/* most lines kept */
		for (i = 0; i < lines; i++)
			o2n[i] = merge_rnd(iter % 7 ? 8 : 200) ? (__u32)i + 1 : 0;
		/* re-read lines: new prefixes (another net), and some of cur's again,
		 * their old line gone (re-read), or rarely still kept (-EEXIST) */
		merge_vec(&rd, iter % 25 == 3 ? 0 : merge_rnd(iter % 5 ? 30 : 400), 1000000, 1);
		for (k = 0; cur.n && k < merge_rnd(20); k++) {
			const struct fs_ent *e = &cur.v[merge_rnd((__u32)cur.n)];

			if (iter % 10 || k)
				o2n[e->line - 1] = 0;
			assert_int_equal(fs_vec_add(&rd,
						    &(struct fs_rec){ .pfx = e->pfx,
								      .line = 2000000 + (__u32)k }),
					 0);
		}
		assert_int_equal(fs_vec_sort_unique(&rd), 0);
		/* now and then an entry of a line not known (0, or past the old lines) */
		if (iter % 13 == 5 && cur.n)
			cur.v[merge_rnd((__u32)cur.n)].line = iter % 2 ? 0 : (__u32)lines + 5;
		err = fs_vec_merge(&cur, o2n, lines, &rd, 1700000000, &out, &add, &nadd, &gone,
				   &ngone);
		/* the walk */
		want.v = calloc(cur.n + rd.n + 1, sizeof(*want.v));
		want_add = calloc(rd.n + 1, sizeof(*want_add));
		want_gone = calloc(cur.n + 1, sizeof(*want_gone));
		assert_non_null(want.v);
		assert_non_null(want_add);
		assert_non_null(want_gone);
		wadd = wgone = 0;
		for (i = j = 0; !werr && (i < cur.n || j < rd.n);) {
			int c = i == cur.n  ? 1
				: j == rd.n ? -1
					    : bwe_prefix_cmp(&cur.v[i].pfx, &rd.v[j].pfx);
			__u32 line = i < cur.n ? cur.v[i].line : 1, nl;

			if (!line || line > lines) {
				werr = -EEXIST;
				break;
			}
			nl = i < cur.n ? o2n[line - 1] : 0;
			if (c < 0) {
				if (nl) {
					want.v[want.n] = cur.v[i];
					want.v[want.n++].line = nl;
				} else {
					want_gone[wgone++] = cur.v[i].pfx;
				}
				i++;
			} else if (c == 0 && nl) {
				werr = -EEXIST;
			} else {
				want.v[want.n] = rd.v[j];
				want.v[want.n++].seen = c == 0 ? cur.v[i++].seen : 1700000000;
				if (c != 0)
					want_add[wadd++] = rd.v[j].pfx;
				j++;
			}
		}
		assert_int_equal(err, werr);
		if (err) {
			assert_null(add);
			assert_null(gone);
			assert_int_equal(nadd + ngone, 0);
			assert_null(out.v);
			assert_int_equal(out.n, 0);
		} else {
			assert_int_equal(out.n, want.n);
			assert_int_equal(nadd, wadd);
			assert_int_equal(ngone, wgone);
			assert_memory_equal(add, want_add, nadd * sizeof(*add));
			assert_memory_equal(gone, want_gone, ngone * sizeof(*gone));
			for (i = 0; i < out.n; i++) {
				assert_int_equal(bwe_prefix_cmp(&out.v[i].pfx, &want.v[i].pfx), 0);
				assert_int_equal(out.v[i].line, want.v[i].line);
				assert_int_equal(fs_ent_first_seen(&out, &out.v[i]),
						 want.v[i].seen);
			}
		}
		free(add);
		free(gone);
		free(want_add);
		free(want_gone);
		free(o2n);
		free(want.v);
		fs_vec_free(&cur);
		fs_vec_free(&rd);
		fs_vec_free(&out);
	}
}

/* Times past 2106 (beyond 32 bits) keep every bit from the entry to the match. */
static void test_feedstore_times_are_64_bit(void **state)
{
	const __s64 until_2108 = 4355164800LL; /* 2108-01-05T00:00:00Z, > UINT32_MAX */
	const __s64 seen_2106 = 4323196800LL;  /* 2106-12-31, past UINT32_MAX too */
	struct fstore *fs = fstore_new();
	struct fs_vec v = { 0 };
	struct fs_rec e = { .pfx = pfx("192.0.2.7"), .line = 1 };
	struct fs_match m[FS_MATCH_MAX];
	struct bwe_addr a = addr("192.0.2.7");

	(void)state;
	assert_non_null(fs);
	assert_int_equal(fstore_define(fs, FEED_DROP, "stix", "/feeds/stix.json", false), 0);
	e.valid_until = until_2108;
	e.first_seen = seen_2106;
	assert_int_equal(fs_vec_add(&v, &e), 0);
	fstore_swap(fs, FEED_DROP, &v);
	assert_int_equal(fs_ent_valid_until(fstore_entries(fs, FEED_DROP),
					    &fstore_entries(fs, FEED_DROP)->v[0]),
			 until_2108);
	assert_int_equal(fstore_match(fs, &a, m, FS_MATCH_MAX), 1);
	assert_int_equal((__s64)m[0].valid_until, until_2108);
	assert_int_equal((__s64)m[0].first_seen, seen_2106);
	fs_vec_free(&v);
	fstore_free(fs);
}

/* {entries, IPv4 addresses, IPv6 addresses as log2 or -1 for none}: overlaps count once. */
static void test_feedstore_coverage(void **state)
{
	static const struct {
		const char *desc;
		const char *p[4];
		__u64 v4;
		int v6_log2; /* -1: no IPv6 */
	} rows[] = {
		{ "one host", { "192.0.2.1" }, 1, -1 },
		{ "a /24 and hosts inside",
		  { "198.51.100.0/24", "198.51.100.7", "198.51.100.128/25" },
		  256,
		  -1 },
		{ "two adjacent /25", { "198.51.100.0/25", "198.51.100.128/25" }, 256, -1 },
		{ "a /8 and a host elsewhere", { "10.0.0.0/8", "192.0.2.1" }, (1u << 24) + 1, -1 },
		{ "v6 /32 with a /48 inside", { "2001:db8::/32", "2001:db8:1::/48" }, 0, 96 },
		{ "both families", { "2001:db8::/32", "192.0.2.0/24" }, 256, 96 },
	};
	size_t i, k;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		struct fs_vec v = { 0 };
		struct fs_coverage c;

		for (k = 0; k < ARRAY_SIZE(rows[i].p) && rows[i].p[k]; k++)
			put(&v, rows[i].p[k], (__u32)k + 1, NULL);
		fs_vec_sort_unique(&v);
		fs_vec_coverage(&v, &c);
		if (c.v4 != rows[i].v4 ||
		    c.v6 != (rows[i].v6_log2 < 0 ? 0 : (unsigned __int128)1 << rows[i].v6_log2))
			fail_msg("%s: v4 %llu (want %llu)", rows[i].desc, (unsigned long long)c.v4,
				 (unsigned long long)rows[i].v4);
		fs_vec_free(&v);
	}
	/* the feed of issue #11: 1.0.0.0/8 ... 223.0.0.0/8, all of unicast IPv4 */
	{
		struct fs_vec v = { 0 };
		struct fs_coverage c;
		char buf[32];
		int n;

		for (n = 1; n <= 223; n++) {
			snprintf(buf, sizeof(buf), "%d.0.0.0/8", n);
			put(&v, buf, (__u32)n, NULL);
		}
		fs_vec_sort_unique(&v);
		fs_vec_coverage(&v, &c);
		assert_true(c.v4 == (unsigned __int128)223 << 24);
		assert_true(c.v4 > (unsigned __int128)1
					   << 28); /* more than a /4: refused by default */
		fs_vec_free(&v);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store_put_find_match_del),
		cmocka_unit_test(test_store_clone_restore),
		cmocka_unit_test(test_store_json_round_trip_keeps_typed_actors),
		cmocka_unit_test(test_store_reads_old_string_actors_and_skips_bad_entries),
		cmocka_unit_test(test_feedstore_sort_unique_first_line_wins),
		cmocka_unit_test(test_feedstore_effective_ref),
		cmocka_unit_test(test_feedstore_match_is_typed_provenance),
		cmocka_unit_test(test_feedstore_drop_hands_back_entries),
		cmocka_unit_test(test_feedstore_times_are_64_bit),
		cmocka_unit_test(test_feedstore_rare_fields_apart),
		cmocka_unit_test(test_feedstore_merge_keeps_rare_fields),
		cmocka_unit_test(test_feedstore_merge_matches_walk),
		cmocka_unit_test(test_feedstore_coverage),
	};

	return cmocka_run_group_tests_name("stores", tests, NULL, NULL);
}
