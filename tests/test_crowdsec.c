// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_crowdsec.c - bwctld as a CrowdSec bouncer, the parts without a
 * process: Go durations, the LAPI decision stream parser
 * (lib/feed_crowdsec.c) on stream bodies shaped as CrowdSec 1.4.6 answers
 * them (tests/data/crowdsec/), the format read as a feed, and the decision
 * set (lib/csdecisions.c): startup and delta pulls, reference counting,
 * filters, the max guard, expiry and the view by prefix.
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
#include <sys/stat.h>

#include <cmocka.h>

#include "config.h"
#include "crowdsec.h"
#include "test_helpers.h"
#include "cfg_helpers.h"

#define ARRAY_SIZE(x) (sizeof(x) / sizeof((x)[0]))
#define DATA	      "tests/data/crowdsec/"
#define NOW	      1800000000LL /* unix seconds of every pull here */
#define MAX_KEPT      64

/* ---- Go durations ------------------------------------------------------------ */

static void test_durations(void **state)
{
	static const struct {
		const char *s;
		int ret;
		__s64 ms;
	} rows[] = {
		{ "3h59m58.123s", 0, 14398123 },
		{ "1m28.805864688s", 0, 88805 },
		{ "167h59m58.123456789s", 0, 604798123 },
		{ "-1s", 0, -1000 },
		{ "-2.022435629s", 0, -2022 },
		{ "0", 0, 0 },
		{ "+5m", 0, 300000 },
		{ "1.5h", 0, 5400000 },
		{ "500ms", 0, 500 },
		{ "1500us", 0, 1 },
		{ "2000000ns", 0, 2 },
		{ "1.s", 0, 1000 },
		{ ".5s", 0, 500 },
		{ "87600h", 0, 87600LL * 3600 * 1000 },
		{ "87841h", -ERANGE, 0 },
		{ "2562047h47m16.854775807s", -ERANGE, 0 }, /* Go's longest */
		{ "99999999999999999999999h", -ERANGE, 0 },
		{ "4 hours", -EINVAL, 0 },
		{ "4", -EINVAL, 0 },
		{ "h", -EINVAL, 0 },
		{ "-", -EINVAL, 0 },
		{ "", -EINVAL, 0 },
		{ "1e3s", -EINVAL, 0 },
		{ "1d", -EINVAL, 0 },
		{ "5m ", -EINVAL, 0 },
		{ "--5m", -EINVAL, 0 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		__s64 ms = 0;
		int ret = bwe_cs_duration_parse(rows[i].s, strlen(rows[i].s), &ms);

		if (ret != rows[i].ret || (!ret && ms != rows[i].ms))
			fail_msg("\"%s\": %d %lld, expected %d %lld", rows[i].s, ret, (long long)ms,
				 rows[i].ret, (long long)rows[i].ms);
	}
	assert_int_equal(bwe_cs_duration_parse("5m", 0, &(__s64){ 0 }), -EINVAL);
}

/* ---- the stream --------------------------------------------------------------- */

struct kept {
	struct bwe_cs_decision d[MAX_KEPT];
	char origin[MAX_KEPT][BWE_CS_TEXT_MAX], scenario[MAX_KEPT][BWE_CS_TEXT_MAX];
	size_t n;
	char reasons[MAX_KEPT][128];
	char excerpts[MAX_KEPT][BWE_FEED_EXCERPT_MAX + 1];
	__u32 lines[MAX_KEPT];
	size_t n_rej;
};

static int keep(const struct bwe_cs_decision *d, void *ctx)
{
	struct kept *k = ctx;

	assert_true(k->n < MAX_KEPT);
	k->d[k->n] = *d;
	snprintf(k->origin[k->n], BWE_CS_TEXT_MAX, "%s", d->origin);
	snprintf(k->scenario[k->n], BWE_CS_TEXT_MAX, "%s", d->scenario);
	k->d[k->n].origin = k->origin[k->n];
	k->d[k->n].scenario = k->scenario[k->n];
	k->n++;
	return 0;
}

static void keep_reject(const struct bwe_feed_reject *r, void *ctx)
{
	struct kept *k = ctx;

	assert_true(k->n_rej < MAX_KEPT);
	snprintf(k->reasons[k->n_rej], sizeof(k->reasons[0]), "%s", r->reason);
	snprintf(k->excerpts[k->n_rej], sizeof(k->excerpts[0]), "%s", r->excerpt);
	k->lines[k->n_rej++] = r->line;
}

static int parse_buf(const char *body, size_t len, struct kept *k, struct bwe_feed_stats *st)
{
	struct bwe_cs_parse_opts o = { .on_decision = keep, .on_reject = keep_reject, .ctx = k };

	memset(k, 0, sizeof(*k));
	return bwe_cs_parse(body, len, &o, st);
}

static int parse_file(const char *name, struct kept *k, struct bwe_feed_stats *st)
{
	char path[256], *body;
	int ret;

	snprintf(path, sizeof(path), DATA "%s", name);
	body = slurp(path);
	assert_true(body[0]); /* the file exists */
	ret = parse_buf(body, strlen(body), k, st);
	free(body);
	return ret;
}

static void check_pfx(const struct bwe_prefix *p, const char *want)
{
	char s[BWE_PREFIX_STRLEN];

	bwe_prefix_fmt(p, s, sizeof(s));
	assert_string_equal(s, want);
}

static void test_startup(void **state)
{
	static struct kept k;
	struct bwe_feed_stats st;

	(void)state;
	assert_int_equal(parse_file("startup.json", &k, &st), 0);
	assert_int_equal(st.format, BWE_FMT_CROWDSEC);
	assert_int_equal(st.lines, 3);
	assert_int_equal(st.accepted, 3);
	assert_int_equal(st.rejected, 0);
	assert_int_equal(st.skipped, 0);
	assert_int_equal(k.n, 3);
	assert_int_equal(k.d[0].op, BWE_CS_NEW);
	assert_int_equal(k.d[0].id, 2);
	assert_int_equal(k.d[0].scope, BWE_CS_SCOPE_RANGE);
	check_pfx(&k.d[0].pfx, "203.0.113.0/24");
	assert_int_equal(k.d[0].duration_s, 89); /* 1m28.8s, rounded up */
	assert_string_equal(k.d[0].origin, "cscli");
	assert_string_equal(k.d[0].scenario, "testing");
	assert_int_equal(k.d[1].id, 3);
	assert_int_equal(k.d[1].scope, BWE_CS_SCOPE_IP);
	check_pfx(&k.d[1].pfx, "198.51.100.7");
	assert_int_equal(k.d[1].duration_s, 7200);
	assert_string_equal(k.d[1].scenario,
			    "manual 'ban' from '3d1219c7c4c5404aaa1f6d2a48adfda4vWuBtPzjcIW9snue'");
	check_pfx(&k.d[2].pfx, "2001:db8::bad");
	assert_int_equal(k.d[2].duration_s, 604799);
	assert_string_equal(k.d[2].origin, "CAPI");
}

static void test_deltas_and_nulls(void **state)
{
	static struct kept k;
	struct bwe_feed_stats st;

	(void)state;
	assert_int_equal(parse_file("delta_deleted.json", &k, &st), 0);
	assert_int_equal(k.n, 1);
	assert_int_equal(k.d[0].op, BWE_CS_DELETED);
	assert_int_equal(k.d[0].id, 3);
	assert_int_equal(k.d[0].duration_s, 0); /* -2.02s: a deletion has none */
	check_pfx(&k.d[0].pfx, "198.51.100.7");
	assert_int_equal(parse_file("delta_new.json", &k, &st), 0);
	assert_int_equal(k.n, 2);
	assert_int_equal(k.d[0].duration_s, 14399);
	assert_int_equal(k.d[1].duration_s, 14400);
	assert_int_equal(parse_file("null_arrays.json", &k, &st), 0);
	assert_int_equal(k.n, 0);
	assert_int_equal(st.lines, 0);
	assert_int_equal(parse_file("empty_arrays.json", &k, &st), 0);
	assert_int_equal(k.n, 0);
}

/* Other types and scopes are skipped, not refused: they are not errors. */
static void test_mixed(void **state)
{
	static struct kept k;
	struct bwe_feed_stats st;

	(void)state;
	assert_int_equal(parse_file("mixed.json", &k, &st), 0);
	assert_int_equal(st.lines, 7);
	assert_int_equal(st.accepted, 1);
	assert_int_equal(st.rejected, 0);
	/* captcha, Country, AS, Username, ended on the way, a deleted Country */
	assert_int_equal(st.skipped, 6);
	assert_int_equal(k.d[0].id, 14); /* "ip" and "Ban": case does not matter */
	check_pfx(&k.d[0].pfx, "192.0.2.21");
	assert_string_equal(k.d[0].origin, "lists");
}

static void test_bad_decisions(void **state)
{
	static const struct {
		__u32 line;
		const char *reason, *excerpt;
	} want[] = {
		{ 2, "duration is not a Go duration", "4 hours" },
		{ 3, "duration longer than ten years", "87841h" },
		{ 4, "not an address", "evil.example" },
		{ 5, "scope Ip with a prefix length", "192.0.2.0/24" },
		{ 6, "broader than /8", "10.0.0.0/7" },
		{ 7, "decision id is not a positive integer", "192.0.2.33" },
		{ 8, "decision id is not a positive integer", "192.0.2.34" },
		{ 9, "decision id is not a positive integer", "192.0.2.35" },
		{ 10, "duration is not a Go duration", "" },
		{ 11, "a decision is not a JSON object", "" },
	};
	static struct kept k;
	struct bwe_feed_stats st;

	(void)state;
	assert_int_equal(parse_file("bad.json", &k, &st), 0);
	assert_int_equal(st.lines, 12);
	assert_int_equal(st.accepted, 2);
	assert_int_equal(st.rejected, ARRAY_SIZE(want));
	assert_int_equal(k.n, 2);
	check_pfx(&k.d[0].pfx, "192.0.2.30");
	check_pfx(&k.d[1].pfx, "198.51.100.0/24"); /* host bits of a Range cleared */
	assert_int_equal(k.n_rej, ARRAY_SIZE(want));
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		assert_int_equal(k.lines[i], want[i].line);
		assert_string_equal(k.reasons[i], want[i].reason);
		assert_string_equal(k.excerpts[i], want[i].excerpt);
	}
}

/* Whatever is not a stream is refused whole, before any decision is handed out. */
static void test_not_a_stream(void **state)
{
	static const char *const bodies[] = {
		"{\"message\":\"access forbidden\"}",
		"<html><body>502 Bad Gateway</body></html>",
		"",
		"[]",
		"null",
		"{\"new\":{},\"deleted\":null}",
		"{\"new\":null}",
		"{\"deleted\":null}",
		"{\"new\":\"x\",\"deleted\":null}",
		"{\"new\":null,\"deleted\":null} trailing",
		"{\"new\":[{\"id\":1,\"type\":\"ban\",\"scope\":\"Ip\",\"value\":\"192.0.2.1\","
		"\"duration\":\"4h\"}],\"deleted\":null",
		"{\"new\":[[[[[[[[[[1]]]]]]]]]],\"deleted\":null}",
	};
	static struct kept k;
	struct bwe_feed_stats st;

	(void)state;
	assert_int_equal(parse_file("forbidden.json", &k, &st), -EBADMSG);
	for (size_t i = 0; i < ARRAY_SIZE(bodies); i++) {
		int ret = parse_buf(bodies[i], strlen(bodies[i]), &k, &st);

		if (ret != -EBADMSG || k.n)
			fail_msg("body %zu: %d, %zu decisions", i, ret, k.n);
	}
	/* a body holding a NUL byte inside the object */
	assert_int_equal(parse_buf("{\"new\":null,\0\"deleted\":null}", 28, &k, &st), -EBADMSG);
	assert_int_equal(bwe_cs_parse("{}", 2, NULL, &st), -EINVAL);
}

/* More decision objects than BWE_CS_DECISIONS_MAX: refused, nothing handed out. */
static void test_too_many(void **state)
{
	size_t n = BWE_CS_DECISIONS_MAX + 1, len = 0;
	static const char head[] = "{\"deleted\":null,\"new\":[";
	char *body = malloc(sizeof(head) + n * 5 + 4);
	static struct kept k;
	struct bwe_feed_stats st;

	(void)state;
	assert_non_null(body);
	memcpy(body, head, sizeof(head) - 1);
	len = sizeof(head) - 1;
	for (size_t i = 0; i < n; i++) {
		memcpy(body + len, i ? ",null" : "null", i ? 5 : 4);
		len += i ? 5 : 4;
	}
	memcpy(body + len, "]}", 2);
	len += 2;
	assert_int_equal(parse_buf(body, len, &k, &st), -E2BIG);
	assert_int_equal(k.n, 0);
	free(body);
}

/* The format read as a feed: new bans as indicators, with the decision as id. */
static int on_ind(const struct bwe_indicator *ind, void *ctx)
{
	struct bwe_indicator *out = ctx;
	size_t i = 0;

	while (out[i].kind)
		i++;
	assert_true(i < 3);
	out[i] = *ind;
	out[i].id = NULL; /* valid only during the call */
	assert_non_null(ind->id);
	if (i == 0)
		assert_string_equal(ind->id, "crowdsec:2");
	return 0;
}

static void test_as_feed(void **state)
{
	struct bwe_indicator got[4] = { 0 };
	struct bwe_feed_parse_opts o = { .format = BWE_FMT_CROWDSEC,
					 .now = NOW,
					 .on_ind = on_ind,
					 .ctx = got };
	struct bwe_feed_stats st;
	enum bwe_feed_format f;
	char *body = slurp(DATA "startup.json");

	(void)state;
	assert_int_equal(bwe_feed_format_parse("crowdsec-lapi", &f), 0);
	assert_int_equal(f, BWE_FMT_CROWDSEC);
	assert_string_equal(bwe_feed_format_name(BWE_FMT_CROWDSEC), "crowdsec-lapi");
	assert_int_equal(bwe_feed_parse(body, strlen(body), &o, &st), 0);
	assert_int_equal(st.accepted, 3);
	check_pfx(&got[0].pfx, "203.0.113.0/24");
	assert_int_equal(got[0].valid_until, NOW + 89);
	assert_int_equal(bwe_feed_detect(body, strlen(body)), BWE_FMT_AUTO); /* never guessed */
	free(body);
	body = slurp(DATA "delta_deleted.json");
	memset(got, 0, sizeof(got));
	assert_int_equal(bwe_feed_parse(body, strlen(body), &o, &st), 0);
	assert_int_equal(st.accepted, 0);
	assert_int_equal(st.skipped, 1);
	free(body);
}

/* ---- the decision set ---------------------------------------------------------- */

static struct bwe_cs_decision dec(enum bwe_cs_op op, __s64 id, const char *p, __s64 dur,
				  const char *origin, const char *scenario)
{
	struct bwe_cs_decision d = { .op = op,
				     .id = id,
				     .pfx = pfx(p),
				     .duration_s = op == BWE_CS_NEW ? dur : 0,
				     .origin = origin,
				     .scenario = scenario };

	d.scope = d.pfx.plen == BWE_ADDR_BITS ? BWE_CS_SCOPE_IP : BWE_CS_SCOPE_RANGE;
	return d;
}

#define NEW(id, p, dur) dec(BWE_CS_NEW, id, p, dur, "crowdsec", "crowdsecurity/ssh-bf")
#define DEL(id, p)	dec(BWE_CS_DELETED, id, p, 0, "crowdsec", "crowdsecurity/ssh-bf")

/* The view holds p (blocked), with count decisions and the first one's id. */
static bool view_has(const struct bwe_cs_set *s, __s64 now, const char *p, size_t count,
		     __s64 first_id)
{
	struct bwe_cs_view *v;
	struct bwe_prefix want = pfx(p);
	size_t n, i;
	bool found = false;

	assert_int_equal(bwe_cs_set_view(s, now, &v, &n), 0);
	for (i = 0; i < n; i++) {
		if (i)
			assert_true(bwe_prefix_cmp(&v[i - 1].pfx, &v[i].pfx) < 0);
		if (!bwe_prefix_cmp(&v[i].pfx, &want))
			found = v[i].count == count && v[i].first->id == first_id;
	}
	free(v);
	return found;
}

static size_t view_len(const struct bwe_cs_set *s, __s64 now)
{
	struct bwe_cs_view *v;
	size_t n;

	assert_int_equal(bwe_cs_set_view(s, now, &v, &n), 0);
	free(v);
	return n;
}

static void test_set_refcount(void **state)
{
	struct bwe_cs_set s = { 0 };
	struct bwe_cs_apply_stats st;
	struct bwe_cs_decision startup[] = { NEW(2, "203.0.113.0/24", 89),
					     NEW(3, "198.51.100.7", 7200),
					     NEW(41, "2001:db8::bad", 604799) };
	struct bwe_cs_decision delta1[] = { NEW(7, "198.51.100.7", 14399),
					    NEW(8, "192.0.2.10", 14400) };
	struct bwe_cs_decision delta2[] = { DEL(3, "198.51.100.7") };
	struct bwe_cs_decision delta3[] = { DEL(7, "198.51.100.7"), DEL(99, "192.0.2.99") };

	(void)state;
	assert_int_equal(bwe_cs_set_apply(&s, startup, 3, true, NOW, NULL, &st), 0);
	assert_int_equal(st.added, 3);
	assert_int_equal(s.n, 3);
	assert_int_equal(bwe_cs_set_apply(&s, delta1, 2, false, NOW, NULL, &st), 0);
	assert_int_equal(st.added, 2);
	assert_int_equal(s.n, 5);
	assert_int_equal(view_len(&s, NOW), 4);
	/* two decisions on 198.51.100.7: the one ending last names it */
	assert_true(view_has(&s, NOW, "198.51.100.7", 2, 7));
	/* one of the two deleted: still blocked, and the LAPI is asked for the whole set */
	assert_int_equal(bwe_cs_set_apply(&s, delta2, 1, false, NOW, NULL, &st), 0);
	assert_int_equal(st.removed, 1);
	assert_true(st.resync);
	assert_true(view_has(&s, NOW, "198.51.100.7", 1, 7));
	/* the last one deleted: lifted; an unknown id is no change */
	assert_int_equal(bwe_cs_set_apply(&s, delta3, 2, false, NOW, NULL, &st), 0);
	assert_int_equal(st.removed, 1);
	assert_false(st.resync);
	assert_false(view_has(&s, NOW, "198.51.100.7", 1, 7));
	assert_int_equal(view_len(&s, NOW), 3);
	/* a deletion naming an id not held, while the prefix is held: resync */
	{
		struct bwe_cs_decision d[] = { DEL(500, "192.0.2.10") };

		assert_int_equal(bwe_cs_set_apply(&s, d, 1, false, NOW, NULL, &st), 0);
		assert_int_equal(st.removed, 0);
		assert_true(st.resync);
	}
	/* a startup pull is the whole truth: what it lacks goes, deletions ignored */
	{
		struct bwe_cs_decision d[] = { NEW(8, "192.0.2.10", 100),
					       DEL(41, "2001:db8::bad") };

		assert_int_equal(bwe_cs_set_apply(&s, d, 2, true, NOW, NULL, &st), 0);
		assert_int_equal(s.n, 1);
		assert_int_equal(st.replaced, 1);
		assert_int_equal(st.removed, 2);
		assert_int_equal(s.v[0].expires, NOW + 100);
	}
	/* the same id twice in a pull: the later one wins */
	{
		struct bwe_cs_decision d[] = { NEW(9, "192.0.2.11", 10), NEW(9, "192.0.2.11", 50),
					       DEL(8, "192.0.2.10") };

		assert_int_equal(bwe_cs_set_apply(&s, d, 3, false, NOW, NULL, &st), 0);
		assert_int_equal(s.n, 1);
		assert_int_equal(s.v[0].id, 9);
		assert_int_equal(s.v[0].expires, NOW + 50);
	}
	bwe_cs_set_free(&s);
	assert_int_equal(s.n, 0);
}

static void test_set_filters(void **state)
{
	char *range[] = { "Range" }, *cscli[] = { "cscli" }, *ssh[] = { "SSH" },
	     *slow[] = { "slow" };
	struct bwe_cs_decision d[] = {
		dec(BWE_CS_NEW, 1, "192.0.2.1", 60, "crowdsec", "crowdsecurity/ssh-bf"),
		dec(BWE_CS_NEW, 2, "192.0.2.2", 60, "crowdsec", "crowdsecurity/ssh-slow-bf"),
		dec(BWE_CS_NEW, 3, "192.0.2.0/28", 60, "cscli", "manual 'ban' from 'm'"),
		dec(BWE_CS_NEW, 4, "192.0.2.4", 60, "CAPI", "crowdsecurity/http-probing"),
	};
	const struct {
		struct bwe_cs_filter f;
		size_t kept;
		__s64 first_id;
	} rows[] = {
		{ { 0 }, 4, 1 },
		{ { .scopes = range, .n_scopes = 1 }, 1, 3 },
		{ { .origins = cscli, .n_origins = 1 }, 1, 3 },
		{ { .scenarios_containing = ssh, .n_scenarios_containing = 1 }, 2, 1 },
		{ { .scenarios_containing = ssh,
		    .n_scenarios_containing = 1,
		    .scenarios_not_containing = slow,
		    .n_scenarios_not_containing = 1 },
		  1,
		  1 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct bwe_cs_set s = { 0 };
		struct bwe_cs_apply_stats st;

		assert_int_equal(bwe_cs_set_apply(&s, d, ARRAY_SIZE(d), true, NOW, &rows[i].f, &st),
				 0);
		if (s.n != rows[i].kept || s.v[0].id != rows[i].first_id ||
		    st.filtered != ARRAY_SIZE(d) - rows[i].kept)
			fail_msg("filter row %zu: kept %zu (first %lld), filtered %zu", i, s.n,
				 s.n ? (long long)s.v[0].id : 0LL, st.filtered);
		bwe_cs_set_free(&s);
	}
}

static void test_set_max_and_expiry(void **state)
{
	struct bwe_cs_set s = { .max = 2 };
	struct bwe_cs_apply_stats st;
	struct bwe_cs_decision two[] = { NEW(1, "192.0.2.1", 10), NEW(2, "192.0.2.2", 30) };
	struct bwe_cs_decision third[] = { NEW(3, "192.0.2.3", 20) };
	struct bwe_cs_decision ended[] = { NEW(4, "192.0.2.4", 0) };

	(void)state;
	assert_int_equal(bwe_cs_set_apply(&s, two, 2, true, NOW, NULL, &st), 0);
	/* a third would exceed max: refused whole, the set as it was */
	assert_int_equal(bwe_cs_set_apply(&s, third, 1, false, NOW, NULL, &st), -E2BIG);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.v[0].id, 1);
	assert_int_equal(s.v[1].id, 2);
	assert_int_equal(bwe_cs_set_apply(&s, ended, 1, false, NOW, NULL, &st), 0);
	assert_int_equal(st.expired, 1);
	assert_int_equal(s.n, 2);
	assert_int_equal(bwe_cs_set_next_expiry(&s), NOW + 10);
	/* the view leaves out what ended; expiry drops it */
	assert_int_equal(view_len(&s, NOW + 10), 1);
	assert_int_equal(bwe_cs_set_expire(&s, NOW + 9), 0);
	assert_int_equal(bwe_cs_set_expire(&s, NOW + 10), 1);
	assert_int_equal(s.n, 1);
	assert_int_equal(bwe_cs_set_next_expiry(&s), NOW + 30);
	/* room again */
	assert_int_equal(bwe_cs_set_apply(&s, third, 1, false, NOW, NULL, &st), 0);
	assert_int_equal(s.n, 2);
	bwe_cs_set_free(&s);
	assert_int_equal(bwe_cs_set_next_expiry(&s), 0);
}

/* Parsed decisions go through the set as the daemon does it. */
static void test_stream_into_set(void **state)
{
	static struct kept k;
	struct bwe_cs_set s = { 0 };
	struct bwe_cs_apply_stats st;
	struct bwe_feed_stats fst;

	(void)state;
	assert_int_equal(parse_file("startup.json", &k, &fst), 0);
	assert_int_equal(bwe_cs_set_apply(&s, k.d, k.n, true, NOW, NULL, &st), 0);
	assert_int_equal(parse_file("delta_new.json", &k, &fst), 0);
	assert_int_equal(bwe_cs_set_apply(&s, k.d, k.n, false, NOW, NULL, &st), 0);
	assert_true(view_has(&s, NOW, "198.51.100.7", 2, 7));
	assert_int_equal(parse_file("delta_deleted.json", &k, &fst), 0);
	assert_int_equal(bwe_cs_set_apply(&s, k.d, k.n, false, NOW, NULL, &st), 0);
	assert_true(view_has(&s, NOW, "198.51.100.7", 1, 7));
	assert_true(st.resync);
	/* the 89 s Range decision ends first */
	assert_int_equal(bwe_cs_set_next_expiry(&s), NOW + 89);
	assert_int_equal(parse_file("null_arrays.json", &k, &fst), 0);
	assert_int_equal(bwe_cs_set_apply(&s, k.d, k.n, false, NOW, NULL, &st), 0);
	assert_int_equal(s.n, 4);
	bwe_cs_set_free(&s);
}

/* ---- the configuration: the keys of a bouncer feed and of secrets ------------- */

#define LAPI "source: \"http://127.0.0.1:8080/\", insecure: true, "

static void test_config_keys(void **state)
{
	static const struct {
		const char *feed, *err;
	} bad[] = {
		{ "name: cs, " LAPI "format: crowdsec-lapi", "needs api_key_file" },
		{ "name: cs, source: /var/lib/x, format: crowdsec-lapi, api_key_file: /k",
		  "a crowdsec-lapi source is the local API's http:// or https:// URL" },
		{ "name: f, source: /var/lib/x, format: plain, api_key_file: /k",
		  "feeds[0].api_key_file: feed \"f\": applies only to format: crowdsec-lapi" },
		{ "name: f, source: /var/lib/x, format: plain, scopes: [ Ip ]",
		  "applies only to format: crowdsec-lapi" },
		{ "name: f, source: /var/lib/x, format: plain, max_decisions: 5",
		  "applies only to format: crowdsec-lapi" },
		{ "name: cs, " LAPI "format: crowdsec-lapi, api_key_file: /k, bearer_file: /t",
		  "crowdsec-lapi authenticates with api_key_file" },
		{ "name: t, source: \"https://taxii.example/\", bearer_file: /t, "
		  "auth: { user: u, password_file: /p }",
		  "bearer_file and auth exclude each other" },
		{ "name: t, source: \"https://taxii.example/\", auth: { user: u }",
		  "auth needs both user and password_file" },
		{ "name: t, source: /var/lib/x, bearer_file: /t",
		  "applies only to http:// and https:// sources" },
		{ "name: t, source: \"https://taxii.example/\", auth: { user: \"a:b\", "
		  "password_file: /p }",
		  "is not an HTTP basic user name" },
		{ "name: cs, " LAPI "format: crowdsec-lapi, api_key_file: k",
		  "must be an absolute path" },
		{ "name: cs, " LAPI "format: crowdsec-lapi, api_key_file: /k, scopes: [ Country ]",
		  "Country" },
		{ "name: cs, " LAPI "format: crowdsec-lapi, api_key_file: /k, scopes: [ Ip, Ip ]",
		  "listed twice" },
		{ "name: cs, " LAPI "format: crowdsec-lapi, api_key_file: /k, origins: [ \"\" ]",
		  "is not 1..255 bytes long" },
		{ "name: cs, " LAPI "format: crowdsec-lapi, api_key_file: /k, max_decisions: 0",
		  "max_decisions" },
		{ "name: cs, " LAPI "format: crowdsec-lapi, api_key: abc", "api_key" },
	};
	struct bwe_cfgfile *cfg;
	const struct bwe_cfg_feed *f;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		load_feed(bad[i].feed, bad[i].err);
	/* the defaults of a bouncer feed */
	cfg = load_feed("name: cs, " LAPI
			"format: crowdsec-lapi, api_key_file: /etc/bwenforce/cs.key",
			NULL);
	f = &cfg->feeds[0];
	assert_string_equal(f->api_key_file, "/etc/bwenforce/cs.key");
	assert_int_equal(f->refresh_s, BWE_CS_REFRESH_S);
	assert_int_equal(f->max_decisions, BWE_CS_SET_MAX_DEF);
	assert_int_equal(f->n_cs_scopes, 0);
	bwe_config_free(cfg);
	/* every key written */
	cfg = load_feed("name: cs, " LAPI "format: crowdsec-lapi, api_key_file: /k, refresh: 30s, "
			"max_decisions: 500, scopes: [ Range ], origins: [ crowdsec, cscli ], "
			"scenarios_containing: [ ssh, http ], scenarios_not_containing: [ slow ]",
			NULL);
	f = &cfg->feeds[0];
	assert_int_equal(f->refresh_s, 30);
	assert_int_equal(f->max_decisions, 500);
	assert_int_equal(f->n_cs_scopes, 1);
	assert_string_equal(f->cs_scopes[0], "Range");
	assert_int_equal(f->n_cs_origins, 2);
	assert_string_equal(f->cs_origins[1], "cscli");
	assert_int_equal(f->n_cs_scenarios_containing, 2);
	assert_string_equal(f->cs_scenarios_not_containing[0], "slow");
	bwe_config_free(cfg);
	/* the generic secrets of an http(s) source */
	cfg = load_feed("name: t, source: \"https://taxii.example/\", auth: { user: reader, "
			"password_file: /etc/bwenforce/taxii.pw }",
			NULL);
	assert_string_equal(cfg->feeds[0].auth_user, "reader");
	assert_string_equal(cfg->feeds[0].auth_password_file, "/etc/bwenforce/taxii.pw");
	bwe_config_free(cfg);
	cfg = load_feed("name: t, source: \"https://misp.example/\", bearer_file: /etc/bwenforce/t",
			NULL);
	assert_string_equal(cfg->feeds[0].bearer_file, "/etc/bwenforce/t");
	bwe_config_free(cfg);
}

struct secret_seen {
	char problem[4][256];
	char key[4][32];
	size_t n;
};

static void on_secret(const char *feed, const char *key, const char *path, const char *problem,
		      void *ctx)
{
	struct secret_seen *s = ctx;

	(void)feed;
	(void)path;
	assert_true(s->n < 4);
	snprintf(s->key[s->n], sizeof(s->key[0]), "%s", key);
	snprintf(s->problem[s->n++], sizeof(s->problem[0]), "%s", problem ? problem : "");
}

/* bwctld -n's check of the secret files (bwe_config_check_secrets). */
static void test_secret_files(void **state)
{
	char dir[] = "/tmp/bwe-test-cs-XXXXXX", key[64], pw[64], tok[64], feeds[1024];
	struct secret_seen seen = { 0 };
	struct bwe_cfgfile *cfg;
	FILE *f;

	(void)state;
	if (geteuid() != 0)
		skip(); /* root owns the files it writes, which the check asks for */
	assert_non_null(mkdtemp(dir));
	snprintf(key, sizeof(key), "%s/cs.key", dir);
	snprintf(pw, sizeof(pw), "%s/taxii.pw", dir);
	snprintf(tok, sizeof(tok), "%s/misp.token", dir);
	f = fopen(key, "w");
	assert_non_null(f);
	fputs("k\n", f);
	fclose(f);
	assert_int_equal(chmod(key, 0600), 0);
	f = fopen(pw, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(chmod(pw, 0640), 0);
	assert_int_equal(mkdir(tok, 0700), 0); /* a directory, not a file */
	snprintf(feeds, sizeof(feeds),
		 "name: cs, " LAPI "format: crowdsec-lapi, api_key_file: %s }\n"
		 "  - { name: t, source: \"https://taxii.example/\", auth: { user: u, "
		 "password_file: %s } }\n"
		 "  - { name: m, source: \"https://misp.example/\", bearer_file: %s }\n"
		 "  - { name: gone, source: \"https://x.example/\", bearer_file: %s/none",
		 key, pw, tok, dir);
	cfg = load_feed(feeds, NULL);
	assert_int_equal(bwe_config_check_secrets(cfg, on_secret, &seen), 3);
	assert_int_equal(seen.n, 4);
	assert_string_equal(seen.key[0], "api_key_file");
	assert_string_equal(seen.problem[0], "");
	assert_string_equal(seen.key[1], "auth.password_file");
	assert_string_equal(seen.problem[1],
			    "readable by group or others (mode 0640; chmod 600 it)");
	assert_string_equal(seen.key[2], "bearer_file");
	assert_string_equal(seen.problem[2], "not a regular file");
	assert_string_equal(seen.problem[3], "cannot stat it: No such file or directory");
	/* owned by another user */
	assert_int_equal(chown(key, 65534, 65534), 0);
	memset(&seen, 0, sizeof(seen));
	bwe_config_check_secrets(cfg, on_secret, &seen);
	assert_string_equal(seen.problem[0], "owned by uid 65534, not root");
	bwe_config_free(cfg);
	unlink(key);
	unlink(pw);
	rmdir(tok);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_durations),	   cmocka_unit_test(test_startup),
		cmocka_unit_test(test_deltas_and_nulls),   cmocka_unit_test(test_mixed),
		cmocka_unit_test(test_bad_decisions),	   cmocka_unit_test(test_not_a_stream),
		cmocka_unit_test(test_too_many),	   cmocka_unit_test(test_as_feed),
		cmocka_unit_test(test_set_refcount),	   cmocka_unit_test(test_set_filters),
		cmocka_unit_test(test_set_max_and_expiry), cmocka_unit_test(test_stream_into_set),
		cmocka_unit_test(test_config_keys),	   cmocka_unit_test(test_secret_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
