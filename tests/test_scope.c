// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_scope.c - bwctl scope's index and answers (ctl/bwctld/scope.c) on
 * the daemon core (tests/core_fixture.h): hosts that contacted the same
 * listed peers, ranked by how many; an external address's contacts;
 * inbound (spoofable) hits left out; the proxyware feeds' signal on a
 * contact; the bound per host and what the answer says of it; the
 * report's section; another site's question answered, the other sites'
 * answers merged, the local answer without a fleet. Hits go in as the ring buffer hands them to the
 * transaction (ops_hit). Runs as root in a mount namespace of its own.
 */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include <cmocka.h>

#include "test_helpers.h"
#include "core_fixture.h"

#include "bwe_util.h"
#include "config.h"
#include "detector.h"
#include "ops.h"
#include "scope.h"

#define C2     "203.0.113.66"
#define C2B    "203.0.113.67"
#define PW     "198.51.100.7"
#define OTHER  "192.0.2.99"
#define SPRAYS 100	    /* peers one host contacts: more than SCOPE_PEERS_PER_HOST */
#define DEC_2  1796169600LL /* 2026-12-02 00:00:00 UTC */

static struct core core;
static struct detector *det;
static struct scope *sc;

static int setup(void **state)
{
	struct detector_deps dd;

	(void)state;
	libbpf_set_print(NULL);
	if (core_up(&core, "test_scope", 0, &(struct bwe_dp_opts){ 0 },
		    "interfaces:\n  - name: lo\n"
		    "internal_networks: [198.18.0.0/16]\n"
		    "feeds:\n  - { name: c2, source: /nonexistent/c2.txt }\n"
		    "  - { name: pw, source: /nonexistent/pw.txt, action: monitor,"
		    " signal: proxyware }\n"))
		return -1;
	dd = (struct detector_deps){ .cfg = core.cfg,
				     .dp = core.dp,
				     .hosts = core.hosts,
				     .st = core.st,
				     .enf = core.enf,
				     .ops = core.ops,
				     .log = core.evl };
	if (detector_new(&det, &dd))
		return -1;
	return scope_new(&sc, &(struct scope_deps){ .cfg = core.cfg,
						    .ops = core.ops,
						    .detector = det,
						    .enf = core.enf,
						    .st = core.st });
}

static int teardown(void **state)
{
	(void)state;
	scope_free(sc);
	detector_free(det);
	return core_down(&core);
}

static void hit(const char *host, const char *peer, const char *feed, bool outbound)
{
	struct ops_hit h = { .host = addr(host),
			     .peer = addr(peer),
			     .ref = bwe_ref(BWE_FEED_FIRST, 0),
			     .outbound = outbound,
			     .feed = feed };

	ops_hit(core.ops, &h);
}

static struct json_object *get(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("no \"%s\" in %s", key, json_object_to_json_string(o));
	return v;
}

/* The row of host in hosts[], or NULL. */
static struct json_object *row(struct json_object *hosts, const char *host)
{
	size_t i;

	for (i = 0; i < json_object_array_length(hosts); i++) {
		struct json_object *r = json_object_array_get_idx(hosts, i);

		if (!strcmp(json_object_get_string(get(r, "host")), host))
			return r;
	}
	return NULL;
}

static struct json_object *query(const char *a)
{
	struct bwe_addr x = addr(a);

	return scope_query(sc, &x, SCOPE_SINCE_S, time(NULL));
}

/*
 * Three hosts contact one C2 address, one of them a second one too, a
 * fourth talks to another listed peer only, and a spoofed inbound hit
 * names a fifth: the scope of the first lists the two others with the
 * shared peers (the one with two first), never the fourth or the fifth.
 */
static void test_same_peers(void **state)
{
	struct json_object *r, *hosts, *x, *peers;

	(void)state;
	hit("198.18.0.1", C2, "c2", true);
	hit("198.18.0.2", C2, "c2", true);
	hit("198.18.0.3", C2, "c2", true);
	hit("198.18.0.3", C2B, "c2", true);
	hit("198.18.0.1", C2B, "c2", true);
	hit("198.18.0.1", C2, "c2", true); /* a second event on the same contact */
	hit("198.18.0.4", OTHER, "c2", true);
	hit("198.18.0.5", C2, "c2", false);

	r = query("198.18.0.1");
	assert_string_equal(json_object_get_string(get(r, "kind")), "host");
	peers = get(r, "peers");
	assert_int_equal(json_object_array_length(peers), 2);
	hosts = get(r, "hosts");
	assert_int_equal(json_object_array_length(hosts), 2);
	x = json_object_array_get_idx(hosts, 0);
	assert_string_equal(json_object_get_string(get(x, "host")), "198.18.0.3");
	assert_int_equal(json_object_get_int(get(x, "rank")), 1);
	assert_int_equal(json_object_array_length(get(x, "peers_in_common")), 2);
	x = json_object_array_get_idx(hosts, 1);
	assert_string_equal(json_object_get_string(get(x, "host")), "198.18.0.2");
	peers = get(x, "peers_in_common");
	assert_int_equal(json_object_array_length(peers), 1);
	x = json_object_array_get_idx(peers, 0);
	assert_string_equal(json_object_get_string(get(x, "peer")), C2);
	assert_string_equal(json_object_get_string(get(x, "feed")), "c2");
	assert_string_equal(json_object_get_string(get(x, "signal")), "blocklist");
	assert_int_equal(json_object_get_int(get(x, "contacts")), 1);
	assert_null(row(hosts, "198.18.0.4"));
	assert_null(row(hosts, "198.18.0.5"));
	assert_int_equal(json_object_get_int(get(r, "more")), 0);
	x = get(r, "coverage");
	assert_string_equal(json_object_get_string(get(x, "site")), "this site");
	assert_int_equal(json_object_get_int(get(x, "hosts")), 4);
	json_object_put(r);

	/* the C2 address itself: every host that contacted it, none that was only sent to */
	r = query(C2);
	assert_string_equal(json_object_get_string(get(r, "kind")), "address");
	hosts = get(r, "hosts");
	assert_int_equal(json_object_array_length(hosts), 3);
	assert_non_null(row(hosts, "198.18.0.1"));
	assert_non_null(row(hosts, "198.18.0.2"));
	assert_non_null(row(hosts, "198.18.0.3"));
	json_object_put(r);

	/* the fourth shares nothing */
	r = query("198.18.0.4");
	assert_int_equal(json_object_array_length(get(r, "hosts")), 0);
	json_object_put(r);

	/* the report's section: the same hosts, peers in common only */
	{
		struct bwe_addr a = addr("198.18.0.2");

		r = scope_report_section(sc, &a, time(NULL));
		hosts = get(r, "hosts");
		assert_int_equal(json_object_array_length(hosts), 2);
		assert_non_null(row(hosts, "198.18.0.1"));
		assert_non_null(row(hosts, "198.18.0.3"));
		json_object_put(r);
	}
}

/* A proxyware feed's peer is a contact with signal proxyware. */
static void test_proxyware_contact(void **state)
{
	struct json_object *r, *x;

	(void)state;
	hit("198.18.0.10", PW, "pw", true);
	hit("198.18.0.11", PW, "pw", true);
	r = query("198.18.0.10");
	x = json_object_array_get_idx(get(r, "peers"), 0);
	assert_string_equal(json_object_get_string(get(x, "signal")), "proxyware");
	x = row(get(r, "hosts"), "198.18.0.11");
	assert_non_null(x);
	x = json_object_array_get_idx(get(x, "peers_in_common"), 0);
	assert_string_equal(json_object_get_string(get(x, "feed")), "pw");
	json_object_put(r);
}

/*
 * A host spraying listed peers keeps its last SCOPE_PEERS_PER_HOST: the
 * oldest give way, the answer counts them and says the index is complete
 * only since the last one dropped.
 */
static void test_bound_per_host(void **state)
{
	struct json_object *r, *cov;
	char peer[32];
	int i;

	(void)state;
	for (i = 0; i < SPRAYS; i++) {
		snprintf(peer, sizeof(peer), "192.0.2.%d", i + 1);
		hit("198.18.0.20", peer, "c2", true);
	}
	r = query("198.18.0.20");
	assert_int_equal(json_object_array_length(get(r, "peers")), SCOPE_PEERS_PER_HOST);
	cov = get(r, "coverage");
	assert_int_equal(json_object_get_int(get(cov, "evicted")), SPRAYS - SCOPE_PEERS_PER_HOST);
	assert_int_equal(json_object_get_int(get(cov, "peers_per_host")), SCOPE_PEERS_PER_HOST);
	json_object_put(r);
	/* the other hosts' contacts are untouched */
	r = query(C2);
	assert_int_equal(json_object_array_length(get(r, "hosts")), 3);
	json_object_put(r);
}

/*
 * The contacts of the event log come back at start: outbound blocklist
 * hits of internal hosts within reach, with their time; inbound ones,
 * external "hosts", old ones and garbage do not.
 */
static void test_seed_from_log(void **state)
{
	char path[CORE_PATH_LEN + 16];
	struct json_object *r, *x, *cov;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/old-events.json", core.dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"@timestamp\":\"2026-12-01T10:00:00.000Z\",\"event\":{\"action\":"
	      "\"blocklist-hit\"},\"network\":{\"direction\":\"outbound\"},\"host\":{\"ip\":"
	      "\"198.18.0.40\"},\"threat\":{\"indicator\":{\"ip\":\"203.0.113.90\"},\"feed\":"
	      "{\"name\":\"c2\"}}}\n",
	      f);
	fputs("{\"@timestamp\":\"2026-12-01T11:00:00.000Z\",\"event\":{\"action\":"
	      "\"blocklist-hit\"},\"network\":{\"direction\":\"outbound\"},\"host\":{\"ip\":"
	      "\"198.18.0.41\"},\"threat\":{\"indicator\":{\"ip\":\"203.0.113.90\"},\"feed\":"
	      "{\"name\":\"pw\"}}}\n",
	      f);
	/* inbound (spoofable), an external host, too old, another action, garbage */
	fputs("{\"@timestamp\":\"2026-12-01T12:00:00.000Z\",\"event\":{\"action\":"
	      "\"blocklist-hit\"},\"network\":{\"direction\":\"inbound\"},\"host\":{\"ip\":"
	      "\"198.18.0.42\"},\"threat\":{\"indicator\":{\"ip\":\"203.0.113.90\"}}}\n",
	      f);
	fputs("{\"@timestamp\":\"2026-12-01T12:00:00.000Z\",\"event\":{\"action\":"
	      "\"blocklist-hit\"},\"network\":{\"direction\":\"outbound\"},\"host\":{\"ip\":"
	      "\"192.0.2.1\"},\"threat\":{\"indicator\":{\"ip\":\"203.0.113.90\"}}}\n",
	      f);
	fputs("{\"@timestamp\":\"2020-01-01T12:00:00.000Z\",\"event\":{\"action\":"
	      "\"blocklist-hit\"},\"network\":{\"direction\":\"outbound\"},\"host\":{\"ip\":"
	      "\"198.18.0.43\"},\"threat\":{\"indicator\":{\"ip\":\"203.0.113.90\"}}}\n",
	      f);
	fputs("{\"@timestamp\":\"2026-12-01T12:00:00.000Z\",\"event\":{\"action\":"
	      "\"quarantine\"},\"host\":{\"ip\":\"198.18.0.44\"}}\nnot json at all\n{\"event\":\n",
	      f);
	assert_int_equal(fclose(f), 0);
	/* as if bwctld started on 2026-12-02 00:00 UTC */
	assert_int_equal(scope_seed(sc, path, DEC_2), 0);
	{
		struct bwe_addr a = addr("203.0.113.90");

		r = scope_query(sc, &a, SCOPE_SINCE_S, DEC_2);
	}
	x = get(r, "hosts");
	assert_int_equal(json_object_array_length(x), 2);
	assert_non_null(row(x, "198.18.0.40"));
	assert_non_null(row(x, "198.18.0.41"));
	x = json_object_array_get_idx(get(row(x, "198.18.0.41"), "peers_in_common"), 0);
	assert_string_equal(json_object_get_string(get(x, "signal")), "proxyware");
	assert_string_equal(json_object_get_string(get(x, "first_seen")), "2026-12-01T11:00:00Z");
	cov = get(r, "coverage");
	assert_int_equal(json_object_get_int(get(cov, "from_event_log")), 2);
	assert_string_equal(json_object_get_string(get(cov, "event_log_since")),
			    "2026-12-01T10:00:00Z");
	json_object_put(r);
	/* no log yet: nothing, no error */
	snprintf(path, sizeof(path), "%s/none.json", core.dir);
	assert_int_equal(scope_seed(sc, path, time(NULL)), 0);
}

/*
 * Another site's question: the hosts here that contacted the address
 * (none given), or the peers the asking site gave for its host; bounded,
 * with what it shares; never the target itself, never an inbound hit.
 */
static void test_answer_other_site(void **state)
{
	struct bwe_frec_scope_req q = { .since_s = SCOPE_SINCE_S };
	struct bwe_frec_scope_ans *a = calloc(1, sizeof(*a));
	const struct bwe_frec_scope_host *h = NULL;
	size_t i;

	(void)state;
	assert_non_null(a);
	q.target = addr(C2);
	assert_int_equal(scope_answer(sc, &q, time(NULL), a), 0);
	assert_int_equal(a->nhosts, 3); /* .1, .2, .3; not the inbound .5 */
	assert_int_equal(a->more, 0);
	for (i = 0; i < a->nhosts; i++) {
		struct bwe_addr five = addr("198.18.0.5");

		assert_memory_not_equal(&a->hosts[i].host, &five, sizeof(five));
		assert_int_equal(a->hosts[i].peers_in_common, 1);
		assert_int_equal(a->hosts[i].npeers, 1);
		assert_string_equal(a->hosts[i].peers[0].feed, "c2");
	}
	/* a host of another site whose peers were C2B and PW: ranked by peers in common */
	q.target = addr("198.18.200.1");
	q.peers[0] = addr(C2B);
	q.peers[1] = addr(PW);
	q.npeers = 2;
	assert_int_equal(scope_answer(sc, &q, time(NULL), a), 0);
	for (i = 0; i < a->nhosts; i++) {
		struct bwe_addr one = addr("198.18.0.1");

		if (!memcmp(&a->hosts[i].host, &one, sizeof(one)))
			h = &a->hosts[i];
	}
	assert_non_null(h);
	assert_int_equal(h->peers_in_common, 1);
	assert_int_equal(a->nhosts, 4); /* .1 and .3 (C2B), .10 and .11 (PW) */
	/* the target itself is never in its own answer */
	q.target = addr("198.18.0.1");
	assert_int_equal(scope_answer(sc, &q, time(NULL), a), 0);
	assert_int_equal(a->nhosts, 3);
	free(a);
}

/* One answer of site-b, merged into this site's. */
static void add_remote(struct bwe_frec_scope_ans *a, const char *site, const char *host,
		       unsigned int peers)
{
	struct bwe_frec_scope_host *h = &a->hosts[a->nhosts++];

	snprintf(a->site, sizeof(a->site), "%s", site);
	h->host = addr(host);
	h->peers_in_common = peers;
	h->peers[0].peer = addr(C2);
	snprintf(h->peers[0].feed, sizeof(h->peers[0].feed), "c2");
	h->peers[0].contacts = 4;
	h->peers[0].last_seen = time(NULL);
	h->npeers = 1;
	h->first_seen = h->last_seen = time(NULL);
	snprintf(h->contained, sizeof(h->contained), "quarantine");
}

/*
 * The merge: every host with its site, ranked together (a host of another
 * site with more peers in common first), renumbered, bounded; the sites
 * that did not answer and the refused one named, the answer partial.
 */
static void test_merge(void **state)
{
	struct bwe_frec_scope_ans *ans = calloc(2, sizeof(*ans));
	struct fleet_scope_miss miss[2] = { { "site-d", "no answer within 3 s" },
					    { "site-e", "hosts[0]: \"host\" is not an address" } };
	struct fleet_scope_result res = { .ans = ans,
					  .nans = 2,
					  .miss = miss,
					  .nmiss = 2,
					  .asked = 4 };
	struct json_object *r, *hosts, *x, *fl;
	size_t i;

	(void)state;
	assert_non_null(ans);
	add_remote(&ans[0], "site-b", "198.18.100.1", 5);
	add_remote(&ans[0], "site-b", "198.18.100.2", 1);
	ans[0].more = 7;
	add_remote(&ans[1], "site-c", "198.18.101.1", 1);
	r = query(C2);
	scope_merge(r, "site-a", &res);
	hosts = get(r, "hosts");
	assert_int_equal(json_object_array_length(hosts), 6); /* 3 here, 3 there */
	x = json_object_array_get_idx(hosts, 0);
	assert_string_equal(json_object_get_string(get(x, "host")), "198.18.100.1");
	assert_string_equal(json_object_get_string(get(x, "site")), "site-b");
	assert_string_equal(json_object_get_string(get(x, "contained")), "quarantine");
	assert_int_equal(json_object_get_int(get(x, "peers_in_common_total")), 5);
	for (i = 0; i < 6; i++)
		assert_int_equal(json_object_get_int(
					 get(json_object_array_get_idx(hosts, i), "rank")),
				 (int)i + 1);
	assert_string_equal(json_object_get_string(get(row(hosts, "198.18.0.2"), "site")),
			    "site-a");
	assert_string_equal(json_object_get_string(get(row(hosts, "198.18.101.1"), "site")),
			    "site-c");
	assert_int_equal(json_object_get_int(get(r, "more")), 7);
	x = get(r, "coverage");
	assert_string_equal(json_object_get_string(get(x, "site")), "the fleet, in part");
	fl = get(x, "fleet");
	assert_true(json_object_get_boolean(get(fl, "partial")));
	assert_int_equal(json_object_get_int(get(fl, "sites_asked")), 4);
	assert_int_equal(json_object_array_length(get(fl, "answered")), 2);
	x = get(fl, "not_answered");
	assert_int_equal(json_object_array_length(x), 2);
	assert_string_equal(json_object_get_string(get(json_object_array_get_idx(x, 1), "site")),
			    "site-e");
	assert_non_null(
		strstr(json_object_get_string(get(json_object_array_get_idx(x, 1), "reason")),
		       "is not an address"));
	json_object_put(r);

	/* every site answered: not partial; more hosts than an answer holds: bounded */
	res.nmiss = 0;
	res.nans = 1;
	ans[0].nhosts = 0;
	ans[0].more = 0;
	for (i = 0; i < BWE_FREC_SCOPE_HOSTS_MAX; i++) {
		char h[32];

		snprintf(h, sizeof(h), "198.18.102.%zu", i + 1);
		add_remote(&ans[0], "site-b", h, 1);
	}
	r = query(C2);
	for (i = 0; i < 4; i++) /* four answers of 32 and this site's 3: over the bound */
		scope_merge(r, "site-a", &res);
	assert_int_equal(json_object_array_length(get(r, "hosts")), SCOPE_RESULTS_MAX);
	assert_int_equal(json_object_get_int(get(r, "more")), 4 * 32 + 3 - SCOPE_RESULTS_MAX);
	fl = get(get(r, "coverage"), "fleet");
	assert_false(json_object_get_boolean(get(fl, "partial")));
	assert_string_equal(json_object_get_string(get(get(r, "coverage"), "site")), "the fleet");
	json_object_put(r);
	free(ans);
}

static void never(void *ctx, struct json_object *answer)
{
	(void)ctx;
	(void)answer;
	fail_msg("no fleet: nothing waits");
}

/* Without a fleet, local asked for or not: the answer at once, saying why it is this site's. */
static void test_ask_local(void **state)
{
	struct bwe_addr a = addr(C2);
	struct scope_wait *w = (struct scope_wait *)&w;
	struct json_object *r, *fl, *x;

	(void)state;
	r = scope_ask(sc, &a, SCOPE_SINCE_S, NULL, time(NULL), never, NULL, &w);
	assert_non_null(r);
	assert_null(w);
	fl = get(get(r, "coverage"), "fleet");
	assert_false(json_object_get_boolean(get(fl, "asked")));
	assert_string_equal(json_object_get_string(get(fl, "reason")), "no fleet");
	assert_int_equal(json_object_array_length(get(r, "hosts")), 3);
	json_object_put(r);
	/* the report's section: into the report, at once */
	a = addr("198.18.0.2");
	r = scope_report_ask(sc, &a, NULL, time(NULL), json_object_new_object(), never, NULL, &w);
	assert_null(w);
	x = get(r, SCOPE_REPORT_KEY);
	assert_int_equal(json_object_array_length(get(x, "hosts")), 2);
	fl = get(get(x, "coverage"), "fleet");
	assert_string_equal(json_object_get_string(get(fl, "reason")), "no fleet");
	json_object_put(r);
	a = addr(C2);
	r = scope_ask(sc, &a, SCOPE_SINCE_S, SCOPE_LOCAL_ASKED, time(NULL), never, NULL, &w);
	assert_null(w);
	fl = get(get(r, "coverage"), "fleet");
	assert_string_equal(json_object_get_string(get(fl, "reason")), "no fleet");
	assert_string_equal(json_object_get_string(get(get(r, "coverage"), "site")), "this site");
	json_object_put(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_peers),	  cmocka_unit_test(test_proxyware_contact),
		cmocka_unit_test(test_answer_other_site), cmocka_unit_test(test_merge),
		cmocka_unit_test(test_ask_local),	  cmocka_unit_test(test_bound_per_host),
		cmocka_unit_test(test_seed_from_log),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
