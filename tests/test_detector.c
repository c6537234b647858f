// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_detector.c - the detector's memory bound (ctl/bwctld/detector.c)
 * against a real, unpinned data plane: state only for hosts the data plane
 * tracks (or that contacted a listed peer, or that an operator acted on),
 * freed when a host leaves the sample, never more than policy.max_hosts,
 * with at most one detection-table-full event per interval; the action
 * counts behind bwenforce_detector_actions_total; and contacts handed to
 * ops reaching the beacon signal and the report.
 *
 * Host entries are made by running outbound frames through the program
 * (bpf_prog_test_run_opts: nothing attached, no packet leaves the process)
 * and evicted by deleting them from bwe_hosts, as the LRU would. Runs as
 * root in a mount namespace of its own (a tmpfs state directory). Every
 * detector run waits out the 1 s policy interval: a few seconds in all.
 */
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cmocka.h>

#include "test_helpers.h"
#include "core_fixture.h"

#include "bwe_util.h"
#include "config.h"
#include "dataplane.h"
#include "detector.h"
#include "enforce.h"
#include "events.h"
#include "feedstore.h"
#include "hosts.h"
#include "ops.h"
#include "pktbuild.h"
#include "store.h"

#define MAX_HOSTS   3	    /* policy.max_hosts of the fixture */
#define INTERVAL_US 1100000 /* a little over policy.interval (1s) */
#define TABLE_FULL  "\"detection-table-full\""
#define RULE_C2	    "c2-quarantine" /* quarantines a host that contacts a listed peer */
#define C2_PEER	    "203.0.113.66"
#define BACKUP_HOST "198.18.5.1"   /* has an expected activity ... */
#define PROVIDER    "203.0.113.80" /* ... to this peer */
#define PW_FEED	    "pw"	   /* a feed of proxyware endpoints */

static struct core core;
/* the core's parts under the names the tests use */
static const char *const evpath = core.evpath;
static struct bwe_dp *dp;
static struct st_store *st;
static struct ops *ops;
static struct hosts *hosts;
static struct detector *det;

/*
 * The ring buffer, as the daemon drains it before each batch is evaluated
 * (detector_deps.drain): when armed, the hit event of the one packet the
 * test sent to a listed peer, from a proxyware feed.
 */
static struct {
	const char *host, *peer;
	bool armed;
	unsigned int calls;
} drained;

static void drain(void *ctx)
{
	struct ops_hit hit = { .ref = bwe_ref(BWE_FEED_MANUAL, 0),
			       .feed = PW_FEED,
			       .outbound = true };

	(void)ctx;
	drained.calls++;
	if (!drained.armed)
		return;
	drained.armed = false;
	hit.host = addr(drained.host);
	hit.peer = addr(drained.peer);
	ops_hit(ops, &hit);
}

static int setup(void **state)
{
	struct detector_deps dd;

	(void)state;
	libbpf_set_print(NULL);
	if (core_up(&core, "test_detector", 0, &(struct bwe_dp_opts){ 0 },
		    "interfaces:\n  - name: lo\n"
		    "internal_networks: [198.18.0.0/16]\n"
		    "feeds:\n  - { name: " PW_FEED ", source: /nonexistent/pw.txt, action: monitor,"
		    " signal: proxyware }\n"
		    "policy:\n  interval: 1s\n  learning_period: 2s\n  windows: [ 10s ]\n"
		    "  max_hosts: %d\n  signals:\n    spike: { window: 10s }\n"
		    "    blocklist: { min_hits: 1, window: 1m }\n"
		    "  rules:\n"
		    "    - { name: " RULE_C2 ", signals: [ blocklist ], min_signals: 1,"
		    " action: quarantine, ttl: 10m, cooldown: 10m }\n"
		    "    - { name: spike-alert, signals: [ spike ], min_signals: 1, action: alert }\n"
		    "  expected:\n"
		    "    - { name: backup, hosts: [ " BACKUP_HOST " ], peers: [ " PROVIDER " ],"
		    " ports: [ 443 ], schedule: \"daily 00:00-24:00\", max_rate: 1gbit }\n",
		    MAX_HOSTS))
		return -1;
	dp = core.dp;
	st = core.st;
	ops = core.ops;
	hosts = core.hosts;
	dd = (struct detector_deps){ .cfg = core.cfg,
				     .dp = dp,
				     .hosts = hosts,
				     .st = st,
				     .enf = core.enf,
				     .ops = ops,
				     .log = core.evl,
				     .drain = drain };
	return detector_new(&det, &dd);
}

static int teardown(void **state)
{
	(void)state;
	detector_free(det);
	return core_down(&core);
}

/* One outbound frame from host to peer; returns the XDP action. */
static int sends_to(const char *host, const char *peer)
{
	struct pb_spec s = { .src = host,
			     .dst = peer,
			     .proto = IPPROTO_UDP,
			     .sport = 40000,
			     .dport = 53,
			     .payload = 32 };
	__u8 frame[BWE_PKT_MAX], out[BWE_PKT_MAX];
	int len = pb_build(&s, frame, sizeof(frame));
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = (__u32)len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);

	assert_true(len > 0);
	assert_int_equal(bpf_prog_test_run_opts(bwe_dp_prog_fd(dp), &o), 0);
	return (int)o.retval;
}

/* n outbound TCP frames of payload bytes from host to peer; returns their bytes. */
static __u64 uploads(const char *host, const char *peer, __u16 dport, __u32 payload, int n)
{
	struct pb_spec s = { .src = host,
			     .dst = peer,
			     .proto = IPPROTO_TCP,
			     .sport = 40001,
			     .dport = dport,
			     .payload = payload };
	__u8 frame[BWE_PKT_MAX], out[BWE_PKT_MAX];
	int len = pb_build(&s, frame, sizeof(frame));
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = (__u32)len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = (__u32)n);

	assert_true(len > 0);
	assert_int_equal(bpf_prog_test_run_opts(bwe_dp_prog_fd(dp), &o), 0);
	assert_int_equal(o.retval, XDP_PASS);
	return (__u64)len * (__u64)n;
}

/* One outbound frame from host: the data plane tracks it from now on. */
static void sends(const char *host)
{
	assert_int_equal(sends_to(host, "203.0.113.10"), XDP_PASS);
}

/* The LRU evicting a host. */
static void evict(const char *host)
{
	struct bwe_addr a = addr(host);

	assert_int_equal(bpf_map_delete_elem(bwe_dp_map_fd(dp, BWE_MAP_HOSTS), &a), 0);
}

/* A policy interval later: the detector's tick samples and evaluates. */
static void interval(void)
{
	usleep(INTERVAL_US);
	detector_tick(det);
}

static struct detector_counts counts(void)
{
	struct detector_counts c;

	detector_counts(det, &c);
	return c;
}

/* Whether the detector holds state (a baseline) for the host. */
static bool has_state(const char *host)
{
	struct bwe_addr a = addr(host);
	struct json_object *r = detector_report(det, &a), *q, *x, *v;
	bool yes;

	assert_true(json_object_object_get_ex(r, "questions", &q));
	assert_true(json_object_object_get_ex(q, "1_outbound_increase", &x));
	yes = json_object_object_get_ex(x, "baseline_learned_s", &v);
	json_object_put(r);
	return yes;
}

/*
 * Five tracked hosts, room for three: three get state, two are refused, one
 * table-full event per interval; hosts that leave the sample are freed and
 * make room; an inbound (spoofable) blocklist hit creates no state.
 */
static void test_table_bound(void **state)
{
	static const char *const h[] = { "198.18.0.1", "198.18.0.2", "198.18.0.3", "198.18.0.4",
					 "198.18.0.5" };
	struct ops_hit hit = { .ref = bwe_ref(BWE_FEED_MANUAL, 0), .feed = "manual" };
	struct detector_counts c;
	bool gone[ARRAY_SIZE(h)];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(h); i++)
		sends(h[i]);
	interval();
	c = counts();
	assert_int_equal(c.hosts, MAX_HOSTS);
	assert_int_equal(c.max_hosts, MAX_HOSTS);
	assert_int_equal(c.refused, 2);
	assert_int_equal(c.freed, 0);
	assert_int_equal(count_in_file(evpath, TABLE_FULL), 1);
	assert_int_equal(count_in_file(evpath, "\"refused\":2"), 1);

	/* the next interval refuses them again: one more event, not one per host */
	interval();
	c = counts();
	assert_int_equal(c.hosts, MAX_HOSTS);
	assert_int_equal(c.refused, 4);
	assert_int_equal(count_in_file(evpath, TABLE_FULL), 2);

	/* an inbound hit from a listed address to an address without state: nothing */
	hit.host = addr("198.18.0.200");
	hit.peer = addr("203.0.113.66");
	hit.outbound = false;
	ops_hit(ops, &hit);
	assert_int_equal(counts().hosts, MAX_HOSTS);
	assert_false(has_state("198.18.0.200"));

	/* the hosts with state leave the sample (evicted): freed, the others get room */
	for (i = 0; i < ARRAY_SIZE(h); i++) {
		gone[i] = has_state(h[i]);
		if (gone[i])
			evict(h[i]);
	}
	interval();
	c = counts();
	assert_int_equal(c.freed, MAX_HOSTS);
	assert_int_equal(c.hosts, 2);
	assert_int_equal(c.refused, 4); /* room for the two that were refused */
	assert_int_equal(count_in_file(evpath, TABLE_FULL), 2);
	for (i = 0; i < ARRAY_SIZE(h); i++)
		assert_true(has_state(h[i]) == !gone[i]);

	/* an outbound contact with a listed peer is remembered (room for one more) */
	hit.host = addr("198.18.0.201");
	hit.outbound = true;
	ops_hit(ops, &hit);
	assert_int_equal(counts().hosts, 3);
	/* ... but freed with the next sample, which does not hold it */
	interval();
	assert_int_equal(counts().hosts, 2);
	assert_int_equal(counts().freed, MAX_HOSTS + 1);
}

/*
 * A host an operator acted on keeps its history (and the rule state that
 * goes with it) when it is not in the sample, even beyond max_hosts: such
 * states come from the state store, not from traffic.
 */
static void test_history_kept(void **state)
{
	struct actor op;
	struct bwe_prefix x = pfx("198.18.0.99");
	struct op_request r = { .action = "quarantine",
				.verb = OP_ADD,
				.kind = ST_QUARANTINE,
				.who = &op,
				.pfx = &x,
				.n = 1,
				.reason = "test" };
	char err[OPS_ERR_LEN];
	size_t before;

	(void)state;
	sends("198.18.0.6"); /* the table is full again */
	interval();
	before = counts().hosts;
	assert_int_equal(before, MAX_HOSTS);
	actor_set(&op, ACTOR_OPERATOR, "root", "bwctl quarantine 198.18.0.99");
	assert_int_equal(ops_apply(ops, &r, NULL, err, sizeof(err)), 0);
	assert_int_equal(counts().hosts, before + 1);
	interval();
	assert_int_equal(counts().hosts, before + 1);
}

/* The detector's action counts (bwenforce_detector_actions_total), copied. */
struct act_snap {
	size_t n;
	struct detector_action_count a[DETECTOR_ACTION_RULES];
};

static void snap(struct act_snap *x)
{
	const struct detector_action_count *a = detector_actions(det, &x->n);

	assert_true(x->n <= DETECTOR_ACTION_RULES);
	memcpy(x->a, a, x->n * sizeof(*a));
}

static __u64 count_of(const struct act_snap *x, const char *rule, enum bwe_response r)
{
	size_t i;

	for (i = 0; i < x->n; i++)
		if (!strcmp(x->a[i].rule, rule))
			return x->a[i].n[r];
	return 0;
}

/* Since before: exactly one more (rule, action), every other count as it was. */
static void expect_one_action(const struct act_snap *before, const char *rule,
			      enum bwe_response action)
{
	struct act_snap after;
	size_t i;
	int r;

	snap(&after);
	assert_true(after.n >= before->n);
	for (i = 0; i < before->n; i++)
		assert_string_equal(after.a[i].rule, before->a[i].rule); /* rows keep their place */
	for (i = 0; i < after.n; i++) {
		for (r = 0; r < BWE_RESP_MAX; r++) {
			__u64 want = count_of(before, after.a[i].rule, (enum bwe_response)r) +
				     (!strcmp(after.a[i].rule, rule) && r == (int)action);

			if (after.a[i].n[r] != want)
				fail_msg("rule %s action %s: %llu, want %llu", after.a[i].rule,
					 bwe_response_name((enum bwe_response)r),
					 (unsigned long long)after.a[i].n[r],
					 (unsigned long long)want);
		}
	}
	assert_int_equal(count_of(&after, rule, action), count_of(before, rule, action) + 1);
}

static void expect_no_action(const struct act_snap *before)
{
	struct act_snap after;

	snap(&after);
	assert_int_equal(after.n, before->n);
	assert_memory_equal(after.a, before->a, after.n * sizeof(after.a[0]));
}

/* A change by an operator, through the transaction. */
static void operator_does(const char *action, enum st_kind kind, const char *prefix)
{
	struct actor op;
	struct bwe_prefix x = pfx(prefix);
	struct op_request r = { .action = action,
				.verb = OP_ADD,
				.kind = kind,
				.who = &op,
				.pfx = &x,
				.n = 1,
				.reason = "test" };
	char err[OPS_ERR_LEN];

	actor_set(&op, ACTOR_OPERATOR, "root", action);
	if (ops_apply(ops, &r, NULL, err, sizeof(err)))
		fail_msg("%s %s: %s", action, prefix, err);
}

/* Delete every accounting entry, as the LRU would: the states they held go. */
static void evict_all(void)
{
	int fd = bwe_dp_map_fd(dp, BWE_MAP_HOSTS);
	struct bwe_addr k;

	while (!bpf_map_get_next_key(fd, NULL, &k))
		assert_int_equal(bpf_map_delete_elem(fd, &k), 0);
}

/*
 * bwenforce_detector_actions_total: a rule that acts counts one under its
 * own name and action, and nothing else moves; an action the transaction
 * refuses (the host is exempt) is counted as the alert it becomes; a rule in
 * its cooldown counts nothing.
 */
static void test_actions_counted(void **state)
{
	struct bwe_prefix qa = pfx("198.18.0.20"), qb = pfx("198.18.0.21");
	const struct st_entry *e;
	struct act_snap before;

	(void)state;
	/* room in the table: the earlier tests' hosts leave the sample */
	evict_all();
	interval();
	operator_does("block", ST_BLOCK, C2_PEER);
	operator_does("exempt", ST_EXEMPT, "198.18.0.21");
	/* two hosts enter the sample: primed, nothing fires on a first sample */
	sends("198.18.0.20");
	sends("198.18.0.21");
	interval();
	snap(&before);
	assert_int_equal(count_of(&before, RULE_C2, BWE_RESP_QUARANTINE), 0);

	/* .20 contacts the listed peer: the rule quarantines it */
	assert_int_equal(sends_to("198.18.0.20", C2_PEER), XDP_DROP);
	interval();
	expect_one_action(&before, RULE_C2, BWE_RESP_QUARANTINE);
	e = st_find(st, ST_QUARANTINE, &qa);
	assert_non_null(e);
	assert_int_equal(e->actor.kind, ACTOR_RULE);
	assert_string_equal(e->actor.name, RULE_C2);

	/* .21 does the same, but it is exempt: the transaction refuses, an alert is counted */
	snap(&before);
	assert_int_equal(sends_to("198.18.0.21", C2_PEER), XDP_DROP);
	interval();
	expect_one_action(&before, RULE_C2, BWE_RESP_ALERT);
	assert_null(st_find(st, ST_QUARANTINE, &qb));

	/* both in the rule's cooldown: more contacts act and count nothing */
	snap(&before);
	assert_int_equal(sends_to("198.18.0.21", C2_PEER), XDP_DROP);
	interval();
	expect_no_action(&before);
}

/* The report's signals section, and one signal's field in it. */
static json_object *report_signal(const char *host, const char *sig, const char *field)
{
	struct bwe_addr a = addr(host);
	struct json_object *r = detector_report(det, &a), *s, *x, *v = NULL;

	if (json_object_object_get_ex(r, "signals", &s) && s &&
	    json_object_object_get_ex(s, sig, &x))
		json_object_object_get_ex(x, field, &v);
	v = v ? json_object_get(v) : NULL;
	json_object_put(r);
	return v;
}

/*
 * Contacts the ring buffer hands to ops reach the host's beacon table: a
 * contact every 20 s to one peer makes the beacon signal fire, with the
 * peer in the report; contacts of an address outside internal_networks
 * make no state.
 */
/* The double's member path of a JSON object, or NAN. */
static double json_num(struct json_object *o, const char *a, const char *b)
{
	struct json_object *x, *y;

	if (!json_object_object_get_ex(o, a, &x) || !json_object_object_get_ex(x, b, &y))
		return NAN;
	return json_object_get_double(y);
}

/*
 * Expected activity, measured per peer from the data plane's summaries: a
 * host uploads to its listed provider and browses beside it. Only the
 * bytes sent to the provider are discounted (a lower bound: never more
 * than were sent), the upload to the site is judged, and the report says
 * the activity was discounted while the host also talks to others.
 */
static void test_expected_per_peer(void **state)
{
	struct bwe_addr a = addr(BACKUP_HOST), k;
	int fd = bwe_dp_map_fd(dp, BWE_MAP_HOSTS);
	struct json_object *r, *arr, *e, *v;
	__u64 backup, other;
	double disc, judged;

	(void)state;
	/* room in the table: the earlier tests' hosts leave the sample */
	while (!bpf_map_get_next_key(fd, NULL, &k))
		assert_int_equal(bpf_map_delete_elem(fd, &k), 0);
	interval();
	sends(BACKUP_HOST);
	interval(); /* primed */
	interval();
	backup = uploads(BACKUP_HOST, PROVIDER, 443, 1400, 2000);
	other = uploads(BACKUP_HOST, "203.0.113.10", 443, 1400, 200);
	interval();
	r = detector_report(det, &a);
	assert_non_null(r);
	assert_true(json_object_object_get_ex(r, "questions", &v));
	disc = json_num(v, "1_outbound_increase", "expected_bps");
	judged = json_num(v, "1_outbound_increase", "tx_bps");
	print_message("  sent %llu B to the provider, %llu B elsewhere: %.0f B/s discounted, "
		      "%.0f B/s judged\n",
		      (unsigned long long)backup, (unsigned long long)other, disc, judged);
	/* the interval is 1.1 s and more: never more than was sent, and not nothing */
	assert_true(disc > 0 && disc <= (double)backup / 1.0);
	assert_true(disc >= (double)backup / 5.0);
	/* the site's upload is judged */
	assert_true(judged >= (double)other / 5.0 && judged <= (double)other / 1.0 + 1.0);
	assert_true(json_object_object_get_ex(r, "expected_activity", &arr));
	assert_int_equal(json_object_array_length(arr), 1);
	e = json_object_array_get_idx(arr, 0);
	assert_true(json_object_object_get_ex(e, "discounted", &v));
	assert_true(json_object_get_boolean(v));
	assert_true(json_object_object_get_ex(e, "detail", &v));
	assert_non_null(strstr(json_object_get_string(v), "also talks to others"));
	json_object_put(r);
}

/* A flood through the data plane: the report answers question 3 with it. */
static void test_flood_report(void **state)
{
	struct bwe_addr a = addr("198.18.5.2"), k;
	int fd = bwe_dp_map_fd(dp, BWE_MAP_HOSTS);
	struct json_object *r, *q, *x, *v;

	(void)state;
	while (!bpf_map_get_next_key(fd, NULL, &k))
		assert_int_equal(bpf_map_delete_elem(fd, &k), 0);
	interval();
	sends("198.18.5.2");
	interval();						 /* primed */
	uploads("198.18.5.2", "203.0.113.91", 27015, 100, 5000); /* 5000 small frames */
	interval();
	r = detector_report(det, &a);
	assert_true(json_object_object_get_ex(r, "questions", &q));
	assert_true(json_object_object_get_ex(q, "3_botnet_or_proxyjacking", &x));
	assert_true(json_object_object_get_ex(x, "peer_sketches", &v));
	assert_true(json_object_get_boolean(v));
	assert_true(json_object_object_get_ex(x, "fanout_peers", &v));
	assert_true(json_object_is_type(v, json_type_double));
	assert_true(json_object_object_get_ex(x, "flood", &v));
	assert_true(json_object_get_boolean(v));
	assert_true(json_object_object_get_ex(x, "answer", &v));
	assert_string_equal(json_object_get_string(v), "yes");
	assert_true(json_object_object_get_ex(r, "signals", &q));
	assert_true(json_object_object_get_ex(q, "flood_detail", &x));
	assert_true(json_num(q, "flood_detail", "pps") >= 1000.0);
	assert_true(json_num(q, "flood_detail", "mean_size") < 600.0);
	assert_true(json_num(q, "flood_detail", "reply_upper") < 0.1);
	json_object_put(r);
}

/* One frame from host to each of n peers in 198.51.100.0/24 (n < 255). */
static void fan_out(const char *host, int n)
{
	char peer[INET_ADDRSTRLEN];
	int i;

	for (i = 0; i < n; i++) {
		snprintf(peer, sizeof(peer), "198.51.100.%d", 1 + i);
		assert_int_equal(sends_to(host, peer), XDP_PASS);
	}
}

/*
 * policy.peer_sketches off: what the record's sketches held is no evidence
 * of now (the data plane stops updating them), so the fanout signal reads
 * no peers and the report shows no fan-out; back on, it reads them again.
 */
static void test_peer_sketches_off(void **state)
{
	const char *h = "198.18.5.9";
	struct bwe_addr a = addr(h), k;
	int fd = bwe_dp_map_fd(dp, BWE_MAP_HOSTS);
	struct json_object *r, *q, *x, *v;

	(void)state;
	while (!bpf_map_get_next_key(fd, NULL, &k)) /* room in the detector's table */
		assert_int_equal(bpf_map_delete_elem(fd, &k), 0);
	interval();
	sends(h);
	interval(); /* primed: from now on it uploads */
	fan_out(h, 120);
	interval();
	r = detector_report(det, &a);
	assert_true(json_object_object_get_ex(r, "signals", &q));
	assert_true(json_num(q, "fanout", "value") >= 60.0);
	json_object_put(r);

	/* off: uploading on, to as many peers, the sketches are not read */
	core.cfg->policy.peer_sketches = 0;
	fan_out(h, 120);
	interval();
	r = detector_report(det, &a);
	assert_true(json_object_object_get_ex(r, "signals", &q));
	assert_true(json_num(q, "fanout", "value") == 0.0);
	assert_true(json_object_object_get_ex(r, "questions", &q));
	assert_true(json_object_object_get_ex(q, "3_botnet_or_proxyjacking", &x));
	assert_true(json_object_object_get_ex(x, "peer_sketches", &v));
	assert_false(json_object_get_boolean(v));
	assert_true(json_object_object_get_ex(x, "fanout_peers", &v));
	assert_null(v);
	json_object_put(r);

	core.cfg->policy.peer_sketches = 1;
	assert_int_equal(sends_to(h, "198.51.100.200"), XDP_PASS);
	interval();
	r = detector_report(det, &a);
	assert_true(json_object_object_get_ex(r, "signals", &q));
	assert_true(json_num(q, "fanout", "value") >= 60.0);
	json_object_put(r);
}

static void test_contacts_beacon(void **state)
{
	struct ops_contact c = { .host = addr("198.18.0.30"),
				 .peer = addr("203.0.113.90"),
				 .dport = 8443,
				 .proto = IPPROTO_TCP };
	struct json_object *v;
	struct timespec now;
	int i;

	(void)state;
	evict_all();
	interval();
	sends("198.18.0.30");
	interval();
	clock_gettime(CLOCK_MONOTONIC, &now);
	for (i = 10; i >= 0; i--) { /* the data plane's clock: 20 s apart, up to now */
		c.ts_ns = (__u64)now.tv_sec * 1000000000ULL + (__u64)now.tv_nsec -
			  (__u64)i * 20ULL * 1000000000ULL;
		ops_contact(ops, &c);
	}
	sends("198.18.0.30"); /* a live host: its last packet is now */
	interval();
	v = report_signal("198.18.0.30", "beacon", "fired");
	assert_non_null(v);
	assert_true(json_object_get_boolean(v));
	json_object_put(v);
	v = report_signal("198.18.0.30", "beacon_detail", "peer");
	assert_non_null(v);
	assert_string_equal(json_object_get_string(v), "203.0.113.90");
	json_object_put(v);
	v = report_signal("198.18.0.30", "beacon_detail", "period_s");
	assert_non_null(v);
	assert_true(fabs(json_object_get_double(v) - 20.0) < 0.01);
	json_object_put(v);

	/* not internal: no state for it */
	c.host = addr("192.0.2.7");
	ops_contact(ops, &c);
	assert_false(has_state("192.0.2.7"));
	evict_all();
	interval();
}

/*
 * A LAN host sending from many addresses of its network, each with a new
 * contact and an outbound hit on a listed peer (a hostile host sweeping
 * its /16), gets no more detector states than maps.hosts even where
 * policy.max_hosts is larger; they are refused and counted, and freed with
 * the next sample, which does not hold them.
 */
static void test_bound_by_tracked_hosts(void **state)
{
	const __u32 max_hosts = core.cfg->policy.max_hosts, tracked = core.cfg->maps.hosts;
	const unsigned int spray = 3 * BWE_CFG_MAP_MIN;
	struct ops_contact ct = { .peer = addr("203.0.113.91"),
				  .dport = 8443,
				  .proto = IPPROTO_TCP,
				  .ts_ns = 1000000000ULL };
	struct ops_hit hit = { .ref = bwe_ref(BWE_FEED_MANUAL, 0),
			       .feed = "manual",
			       .peer = addr(C2_PEER),
			       .outbound = true };
	struct detector_counts c0, c;
	unsigned int i;
	char a[BWE_ADDR_STRLEN];

	(void)state;
	evict_all();
	interval();
	c0 = counts(); /* the hosts acted on before keep their state (test_history_kept) */
	assert_true(c0.hosts < BWE_CFG_MAP_MIN);
	core.cfg->policy.max_hosts = 1U << 20;
	core.cfg->maps.hosts = BWE_CFG_MAP_MIN;
	assert_int_equal(counts().max_hosts, BWE_CFG_MAP_MIN);
	for (i = 0; i < spray; i++) {
		snprintf(a, sizeof(a), "198.18.%u.%u", 100 + i / 250, 1 + i % 250);
		ct.host = hit.host = addr(a);
		ops_contact(ops, &ct);
		ops_hit(ops, &hit);
	}
	c = counts();
	assert_int_equal(c.hosts, BWE_CFG_MAP_MIN);
	/* an address without a state is refused twice: its contact, its hit */
	assert_int_equal(c.refused - c0.refused, 2 * (spray - (BWE_CFG_MAP_MIN - c0.hosts)));
	interval();
	c = counts();
	assert_int_equal(c.hosts, c0.hosts);
	assert_int_equal(c.freed - c0.freed, BWE_CFG_MAP_MIN - c0.hosts);
	core.cfg->policy.max_hosts = max_hosts;
	core.cfg->maps.hosts = tracked;
	assert_int_equal(counts().max_hosts, MAX_HOSTS);
}

/* A member of the report's question, as a number. */
static double report_num(const char *host, const char *question, const char *field)
{
	struct bwe_addr a = addr(host);
	struct json_object *r = detector_report(det, &a), *q;
	double v;

	assert_true(json_object_object_get_ex(r, "questions", &q));
	v = json_num(q, question, field);
	json_object_put(r);
	return v;
}

/*
 * A batch is evaluated only after the events of the hits it counted have
 * been consumed: a host's packet to a listed peer is counted in the data
 * plane, and its hit event, from a proxyware feed, comes out of the ring
 * buffer only when the detector drains it, between reading the batch and
 * evaluating it. The hit is the proxyware feed's; evaluated before the
 * drain, it would be a blocklist hit (nothing said whose it was).
 */
static void test_hits_drained_before_batch(void **state)
{
	const char *host = "198.18.6.1", *peer = "203.0.113.77";
	unsigned int calls;

	(void)state;
	evict_all();
	interval();
	operator_does("block", ST_BLOCK, peer);
	sends(host);
	interval();					  /* primed */
	assert_int_equal(sends_to(host, peer), XDP_DROP); /* counted; its event waits */
	drained.host = host;
	drained.peer = peer;
	drained.armed = true;
	calls = drained.calls;
	interval();
	assert_false(drained.armed);
	assert_true(drained.calls > calls);
	assert_true(report_num(host, "3_botnet_or_proxyjacking", "proxyware_hits") == 1.0);
	assert_true(report_num(host, "2_malicious_contacts", "blocklist_hits") == 0.0);
	evict_all();
	interval();
}

/* What a sample handed on: each host's visits and record, and the batches. */
struct seen_rec {
	unsigned int visits;
	struct host_sample h;
};

struct sample_seen {
	struct bwe_addr *keys;
	struct seen_rec *v;
	unsigned int n, batches;
};

static void seen_batch(void *ctx, const struct host_sample *v, size_t n)
{
	struct sample_seen *x = ctx;
	size_t i;
	unsigned int k;

	x->batches++;
	for (i = 0; i < n; i++) {
		for (k = 0; k < x->n && memcmp(&x->keys[k], &v[i].addr, sizeof(v[i].addr)); k++)
			;
		assert_true(k < x->n); /* one of the hosts written */
		x->v[k].visits++;
		x->v[k].h = v[i];
	}
}

/*
 * The sample reads the whole table across its batches (a batch holds 1 MiB
 * of per-CPU records: 1,110 hosts on 2 CPUs) and hands each on as it is
 * read: every host once, its CPUs merged, its rate from the previous
 * sample; one host's record read alone is the same.
 */
static void test_sample_batches(void **state)
{
	const unsigned int n = 5000, ncpu = (unsigned int)dp->ncpus;
	struct bwe_addr *keys = calloc(n, sizeof(*keys));
	struct bwe_host_stats *vals = calloc((size_t)n * ncpu, sizeof(*vals));
	struct sample_seen seen = { .keys = keys, .v = calloc(n, sizeof(*seen.v)), .n = n };
	int fd = bwe_dp_map_fd(dp, BWE_MAP_HOSTS);
	unsigned int i, c, round;
	struct host_sample one;
	__u32 count;
	char a[BWE_ADDR_STRLEN];

	(void)state;
	assert_non_null(keys);
	assert_non_null(vals);
	assert_non_null(seen.v);
	evict_all();
	for (round = 1; round <= 2; round++) {
		LIBBPF_OPTS(bpf_map_batch_opts, opts);

		for (i = 0; i < n; i++) {
			snprintf(a, sizeof(a), "198.18.%u.%u", 20 + i / 250, 1 + i % 250);
			keys[i] = addr(a);
			for (c = 0; c < ncpu;
			     c++) /* host i sent i + 1 bytes per round on each CPU */
				vals[(size_t)i * ncpu + c].tx_bytes = (__u64)round * (i + 1);
		}
		count = n;
		assert_int_equal(bpf_map_update_batch(fd, keys, vals, &count, &opts), 0);
		assert_int_equal(count, n);
		if (round == 2)
			usleep(200000);
		assert_int_equal(hosts_sample(hosts, round == 2 ? seen_batch : NULL, &seen), 0);
	}
	assert_int_equal(hosts_count(hosts), n);
	assert_true(seen.batches > 1);
	for (i = 0; i < n; i++) {
		const struct host_sample *h = &seen.v[i].h;

		assert_int_equal(seen.v[i].visits, 1);
		assert_int_equal(h->st.tx_bytes, 2ULL * (i + 1) * ncpu);
		assert_true(h->tx_bps > 0);
		assert_true(hosts_has(hosts, &keys[i]));
	}
	assert_int_equal(hosts_get(hosts, &keys[n - 1], &one), 0);
	assert_int_equal(one.st.tx_bytes, 2ULL * n * ncpu);
	evict_all();
	assert_int_equal(hosts_get(hosts, &keys[0], &one), -ENOENT);
	assert_int_equal(hosts_sample(hosts, NULL, NULL), 0);
	assert_int_equal(hosts_count(hosts), 0);
	assert_false(hosts_has(hosts, &keys[0]));
	free(keys);
	free(vals);
	free(seen.v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_bound),
		cmocka_unit_test(test_history_kept),
		cmocka_unit_test(test_actions_counted),
		cmocka_unit_test(test_peer_sketches_off),
		cmocka_unit_test(test_contacts_beacon),
		cmocka_unit_test(test_expected_per_peer),
		cmocka_unit_test(test_flood_report),
		cmocka_unit_test(test_bound_by_tracked_hosts),
		cmocka_unit_test(test_sample_batches),
		cmocka_unit_test(test_hits_drained_before_batch),
	};

	return cmocka_run_group_tests_name("detector table bound", tests, setup, teardown);
}
