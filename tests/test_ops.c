// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_ops.c - the one transaction (ctl/bwctld/ops.c) against a real,
 * unpinned data plane: every actor meets the same guards, a failed save or
 * a failed map update leaves memory, disk and kernel as they were, expiry
 * is a transaction of its own, observers learn typed actors.
 *
 * Runs as root in a mount namespace of its own: the state directory is a
 * tmpfs the test remounts read-only to make a save fail (root writes
 * through file modes, not through a read-only mount).
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
#include <sys/mount.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cmocka.h>

#include "test_helpers.h"
#include "core_fixture.h"

#include "bwe_util.h"
#include "config.h"
#include "dataplane.h"
#include "enforce.h"
#include "events.h"
#include "feedstore.h"
#include "ops.h"
#include "store.h"

#define THROTTLE_MAP_MIN 1024 /* entries: a /20 throttle (4096 hosts) cannot fit */

static struct core core;
/* the core's parts under the names the tests use */
static const char *const statedir = core.statedir, *const statefile = core.statefile,
			 *const evpath = core.evpath;
static struct bwe_cfgfile *cfg;
static struct bwe_dp *dp;
static struct st_store *st;
static struct ops *ops;

struct seen {
	int n;
	char action[32];
	enum op_verb verb;
	struct actor who;
};
static struct seen seen;

static void on_changed(void *ctx, const char *action, enum op_verb verb, const struct st_entry *e,
		       const struct actor *who)
{
	struct seen *s = ctx;

	(void)e;
	s->n++;
	snprintf(s->action, sizeof(s->action), "%s", action);
	s->verb = verb;
	s->who = *who;
}

/* The class flags the kernel map holds for an address (longest match). */
static int change(enum op_verb verb, enum st_kind kind, const struct actor *who, const char *p,
		  bool force, char *err, size_t len)
{
	struct bwe_prefix x = pfx(p);
	struct op_request r = {
		.action = verb == OP_ADD ? "quarantine" : "release",
		.verb = verb,
		.kind = kind,
		.who = who,
		.pfx = &x,
		.n = 1,
		.reason = "test",
		.force = force,
		.rate = 125000,
	};

	if (kind == ST_THROTTLE)
		r.action = verb == OP_ADD ? "throttle" : "unthrottle";
	return ops_apply(ops, &r, NULL, err, len);
}

static int setup(void **state)
{
	struct bwe_dp_opts opts = { .throttle_max = THROTTLE_MAP_MIN };
	struct ops_observer obs = { .changed = on_changed, .ctx = &seen };

	(void)state;
	libbpf_set_print(NULL);
	/* 127.0.0.0/8 is internal here so that the gateway's own 127.0.0.1 meets its guard */
	if (core_up(&core, "test_ops", 0, &opts,
		    "interfaces:\n  - name: lo\n"
		    "internal_networks: [198.18.0.0/15, 127.0.0.0/8, \"2001:db8:1::/48\"]\n"
		    "exempt: [198.18.0.53/32]\n"
		    "allowlist: [198.18.0.10/32]\n"))
		return -1;
	cfg = core.cfg;
	dp = core.dp;
	st = core.st;
	ops = core.ops;
	return ops_observe(ops, &obs);
}

static int teardown(void **state)
{
	(void)state;
	return core_down(&core);
}

static void test_operator_quarantine_is_saved_enforced_logged(void **state)
{
	struct actor op;
	char err[OPS_ERR_LEN], *file;
	const struct st_entry *e;
	struct bwe_prefix x = pfx("198.18.0.20");

	(void)state;
	actor_set(&op, ACTOR_OPERATOR, "root", "bwctl quarantine 198.18.0.20");
	seen.n = 0;
	assert_int_equal(change(OP_ADD, ST_QUARANTINE, &op, "198.18.0.20", false, err, sizeof(err)),
			 0);
	e = st_find(st, ST_QUARANTINE, &x);
	assert_non_null(e);
	assert_int_equal(e->actor.kind, ACTOR_OPERATOR);
	assert_true(core_classes(&core, "198.18.0.20") & BWE_NC_QUARANTINE);
	file = slurp(statefile);
	assert_non_null(strstr(file, "198.18.0.20"));
	assert_non_null(strstr(file, "\"kind\":\"operator\"")
				?: strstr(file, "\"kind\": \"operator\""));
	free(file);
	assert_int_equal(count_in_file(evpath, "\"action\":\"quarantine\""), 1);
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.who.kind, ACTOR_OPERATOR);
	/* release: the same path */
	assert_int_equal(change(OP_DEL, ST_QUARANTINE, &op, "198.18.0.20", false, err, sizeof(err)),
			 0);
	assert_null(st_find(st, ST_QUARANTINE, &x));
	assert_false(core_classes(&core, "198.18.0.20") & BWE_NC_QUARANTINE);
	assert_int_equal(seen.verb, OP_DEL);
	/* nothing to release */
	assert_int_equal(change(OP_DEL, ST_QUARANTINE, &op, "198.18.0.20", false, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "has no quarantine entry"));
}

/* One table: {address, what the refusal names}. */
static const struct {
	const char *p;
	const char *why;
} guarded[] = {
	{ "198.18.0.10", "allowlisted" },
	{ "198.18.0.53", "exempt" },
	{ "127.0.0.1", "address of this gateway" },
	{ "203.0.113.9", "not inside internal_networks" },
};

static void test_rule_meets_the_same_guards_as_the_operator(void **state)
{
	struct actor rule, op;
	char err[OPS_ERR_LEN];
	size_t i, n0 = st_count(st);
	int k;

	(void)state;
	actor_set(&rule, ACTOR_RULE, "upload-throttle", NULL);
	actor_set(&op, ACTOR_OPERATOR, "root", NULL);
	for (i = 0; i < ARRAY_SIZE(guarded); i++) {
		for (k = ST_QUARANTINE; k <= ST_THROTTLE; k++) {
			err[0] = '\0';
			assert_int_equal(change(OP_ADD, (enum st_kind)k, &rule, guarded[i].p, false,
						err, sizeof(err)),
					 -EINVAL);
			assert_non_null(strstr(err, guarded[i].why));
			/* a rule cannot force its way past a guard */
			assert_int_equal(change(OP_ADD, (enum st_kind)k, &rule, guarded[i].p, true,
						err, sizeof(err)),
					 -EINVAL);
			assert_non_null(strstr(err, guarded[i].why));
			/* the operator meets the very same guard */
			assert_int_equal(change(OP_ADD, (enum st_kind)k, &op, guarded[i].p, false,
						err, sizeof(err)),
					 -EINVAL);
			assert_non_null(strstr(err, guarded[i].why));
		}
	}
	assert_int_equal(st_count(st), n0);
	assert_false(core_classes(&core, "198.18.0.10") & BWE_NC_QUARANTINE);
	/* an operator may force the allowlist guard; never the internal one */
	assert_int_equal(change(OP_ADD, ST_QUARANTINE, &op, "198.18.0.10", true, err, sizeof(err)),
			 0);
	assert_true(core_classes(&core, "198.18.0.10") & BWE_NC_QUARANTINE);
	assert_int_equal(change(OP_ADD, ST_QUARANTINE, &op, "203.0.113.9", true, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(change(OP_DEL, ST_QUARANTINE, &op, "198.18.0.10", false, err, sizeof(err)),
			 0);
}

static void test_rule_never_replaces_an_operator_entry(void **state)
{
	struct actor rule, op;
	char err[OPS_ERR_LEN];
	struct bwe_prefix x = pfx("198.18.0.30");

	(void)state;
	actor_set(&rule, ACTOR_RULE, "spike", NULL);
	actor_set(&op, ACTOR_OPERATOR, "root", NULL);
	assert_int_equal(change(OP_ADD, ST_QUARANTINE, &op, "198.18.0.30", false, err, sizeof(err)),
			 0);
	assert_int_equal(change(OP_ADD, ST_QUARANTINE, &rule, "198.18.0.30", false, err,
				sizeof(err)),
			 -EPERM);
	assert_int_equal(st_find(st, ST_QUARANTINE, &x)->actor.kind, ACTOR_OPERATOR);
	/* a rule may replace its own */
	assert_int_equal(change(OP_DEL, ST_QUARANTINE, &op, "198.18.0.30", false, err, sizeof(err)),
			 0);
	assert_int_equal(change(OP_ADD, ST_QUARANTINE, &rule, "198.18.0.30", false, err,
				sizeof(err)),
			 0);
	assert_int_equal(change(OP_ADD, ST_QUARANTINE, &rule, "198.18.0.30", false, err,
				sizeof(err)),
			 0);
	assert_int_equal(change(OP_DEL, ST_QUARANTINE, &op, "198.18.0.30", false, err, sizeof(err)),
			 0);
}

static void test_failed_save_leaves_nothing_half_applied(void **state)
{
	struct actor rule;
	char err[OPS_ERR_LEN], *before, *after;
	struct bwe_prefix x = pfx("198.18.0.40");
	size_t n0 = st_count(st), ev0 = count_in_file(evpath, "\"action\":\"quarantine\"");
	int changes0 = seen.n;

	(void)state;
	actor_set(&rule, ACTOR_RULE, "corroborated-quarantine", NULL);
	before = slurp(statefile);
	assert_int_equal(mount(NULL, statedir, NULL, MS_REMOUNT | MS_RDONLY, NULL), 0);
	assert_int_equal(change(OP_ADD, ST_QUARANTINE, &rule, "198.18.0.40", false, err,
				sizeof(err)),
			 -EROFS);
	assert_non_null(strstr(err, "cannot record the change"));
	assert_int_equal(mount(NULL, statedir, NULL, MS_REMOUNT, NULL), 0);
	/* memory, disk, kernel, log, observers: as they were */
	assert_null(st_find(st, ST_QUARANTINE, &x));
	assert_int_equal(st_count(st), n0);
	after = slurp(statefile);
	assert_string_equal(before, after);
	assert_false(core_classes(&core, "198.18.0.40") & BWE_NC_QUARANTINE);
	assert_int_equal(count_in_file(evpath, "\"action\":\"quarantine\""), ev0);
	assert_int_equal(seen.n, changes0);
	free(before);
	free(after);
	/* and the same change goes through once the disk is back */
	assert_int_equal(change(OP_ADD, ST_QUARANTINE, &rule, "198.18.0.40", false, err,
				sizeof(err)),
			 0);
	assert_true(core_classes(&core, "198.18.0.40") & BWE_NC_QUARANTINE);
}

static void test_failed_map_update_is_rolled_back(void **state)
{
	struct actor op;
	char err[OPS_ERR_LEN], *before, *after;
	struct bwe_prefix x = pfx("198.19.16.0/20");
	struct bwe_addr k;
	int fd = bwe_dp_map_fd(dp, BWE_MAP_THROTTLE);

	(void)state;
	actor_set(&op, ACTOR_OPERATOR, "root", NULL);
	before = slurp(statefile);
	/* 4096 buckets do not fit a map of 1024 */
	assert_int_not_equal(change(OP_ADD, ST_THROTTLE, &op, "198.19.16.0/20", false, err,
				    sizeof(err)),
			     0);
	assert_non_null(strstr(err, "rolled back"));
	assert_null(st_find(st, ST_THROTTLE, &x));
	after = slurp(statefile);
	assert_string_equal(before, after);
	/* no bucket of the refused throttle is left in the kernel */
	assert_int_not_equal(bpf_map_get_next_key(fd, NULL, &k), 0);
	assert_false(core_classes(&core, "198.19.16.1") & BWE_NC_THROTTLE);
	free(before);
	free(after);
}

static void test_expiry_is_a_transaction(void **state)
{
	struct actor op;
	char err[OPS_ERR_LEN];
	struct bwe_prefix x = pfx("198.18.0.50");
	struct op_request r = { .action = "quarantine",
				.verb = OP_ADD,
				.kind = ST_QUARANTINE,
				.who = &op,
				.pfx = &x,
				.n = 1,
				.ttl_s = 5 };

	(void)state;
	actor_set(&op, ACTOR_OPERATOR, "root", NULL);
	assert_int_equal(ops_apply(ops, &r, NULL, err, sizeof(err)), 0);
	assert_int_equal(ops_expire(ops, time(NULL)), 0);
	assert_non_null(st_find(st, ST_QUARANTINE, &x)); /* not yet */
	assert_int_equal(ops_expire(ops, time(NULL) + 6), 0);
	assert_null(st_find(st, ST_QUARANTINE, &x));
	assert_false(core_classes(&core, "198.18.0.50") & BWE_NC_QUARANTINE);
	assert_string_equal(seen.action, "expire");
	assert_int_equal(seen.who.kind, ACTOR_EXPIRY);
	assert_true(count_in_file(evpath, "\"action\":\"expire\"") >= 1);
}

static void test_bad_requests_are_refused_whole(void **state)
{
	struct actor op;
	char err[OPS_ERR_LEN], longr[ST_REASON_MAX + 8];
	struct bwe_prefix two[2] = { pfx("198.18.0.60"), pfx("203.0.113.1") };
	struct op_request r = { .action = "quarantine",
				.verb = OP_ADD,
				.kind = ST_QUARANTINE,
				.who = &op,
				.pfx = two,
				.n = 2 };
	size_t n0 = st_count(st);

	(void)state;
	actor_set(&op, ACTOR_OPERATOR, "root", NULL);
	/* one bad prefix of two: neither is applied */
	assert_int_equal(ops_apply(ops, &r, NULL, err, sizeof(err)), -EINVAL);
	assert_int_equal(st_count(st), n0);
	assert_false(core_classes(&core, "198.18.0.60") & BWE_NC_QUARANTINE);
	r.n = 1;
	memset(longr, 'x', sizeof(longr) - 1);
	longr[sizeof(longr) - 1] = '\0';
	r.reason = longr;
	assert_int_equal(ops_apply(ops, &r, NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "reason is"));
	r.reason = "a\nb";
	assert_int_equal(ops_apply(ops, &r, NULL, err, sizeof(err)), -EINVAL);
	r.reason = NULL;
	r.ttl_s = cfg->max_ttl_s + 1;
	assert_int_equal(ops_apply(ops, &r, NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "ttl"));
	r.ttl_s = 0;
	r.kind = ST_THROTTLE;
	r.action = "throttle";
	assert_int_equal(ops_apply(ops, &r, NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "rate is required"));
	assert_int_equal(st_count(st), n0);
}

/* allow and exempt have block's width limit: "allow 0.0.0.0/1 128.0.0.0/1" ends enforcement */
static void test_allow_and_exempt_are_width_limited(void **state)
{
	static const struct {
		const char *action;
		enum st_kind kind;
		const char *pfx;
		int want;
	} rows[] = {
		{ "allow", ST_ALLOW, "0.0.0.0/1", -EINVAL },
		{ "allow", ST_ALLOW, "128.0.0.0/1", -EINVAL },
		{ "allow", ST_ALLOW, "202.0.0.0/7", -EINVAL },
		{ "allow", ST_ALLOW, "2000::/3", -EINVAL },
		{ "allow", ST_ALLOW, "2000::/15", -EINVAL },
		{ "exempt", ST_EXEMPT, "0.0.0.0/1", -EINVAL },
		{ "exempt", ST_EXEMPT, "2000::/15", -EINVAL },
		{ "allow", ST_ALLOW, "203.0.0.0/8", 0 },
		{ "allow", ST_ALLOW, "2001::/16", 0 },
		{ "exempt", ST_EXEMPT, "203.0.113.0/24", 0 },
		{ "exempt", ST_EXEMPT, "2001:db8:5::/48", 0 },
	};
	struct actor op;
	char err[OPS_ERR_LEN];
	size_t i;

	(void)state;
	actor_set(&op, ACTOR_OPERATOR, "root", NULL);
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		struct bwe_prefix x = pfx(rows[i].pfx);
		size_t n0 = st_count(st);
		/* force changes nothing here: the limit holds for everyone */
		struct op_request r = { .action = rows[i].action,
					.verb = OP_ADD,
					.kind = rows[i].kind,
					.who = &op,
					.pfx = &x,
					.n = 1,
					.force = true };

		err[0] = '\0';
		assert_int_equal(ops_apply(ops, &r, NULL, err, sizeof(err)), rows[i].want);
		if (rows[i].want) {
			assert_non_null(strstr(err, "is broader than"));
			assert_int_equal(st_count(st), n0);
			assert_null(st_find(st, rows[i].kind, &x));
		} else {
			assert_non_null(st_find(st, rows[i].kind, &x));
			r.verb = OP_DEL;
			assert_int_equal(ops_apply(ops, &r, NULL, err, sizeof(err)), 0);
		}
	}
}

/* Operators' changes are the audit trail: no event rate limit applies to them. */
static void test_state_changes_are_never_rate_limited(void **state)
{
	struct actor op;
	char err[OPS_ERR_LEN], host[32];
	size_t before = count_in_file(evpath, "\"action\":\"quarantine\""), i,
	       n = cfg->event_limits.burst + 20;

	(void)state;
	actor_set(&op, ACTOR_OPERATOR, "root", NULL);
	for (i = 0; i < n; i++) {
		snprintf(host, sizeof(host), "198.18.1.%zu", i);
		assert_int_equal(change(OP_ADD, ST_QUARANTINE, &op, host, false, err, sizeof(err)),
				 0);
	}
	assert_int_equal(count_in_file(evpath, "\"action\":\"quarantine\""), before + n);
	assert_int_equal(count_in_file(evpath, "events-suppressed"), 0);
	for (i = 0; i < n; i++) {
		snprintf(host, sizeof(host), "198.18.1.%zu", i);
		assert_int_equal(change(OP_DEL, ST_QUARANTINE, &op, host, false, err, sizeof(err)),
				 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_operator_quarantine_is_saved_enforced_logged),
		cmocka_unit_test(test_rule_meets_the_same_guards_as_the_operator),
		cmocka_unit_test(test_rule_never_replaces_an_operator_entry),
		cmocka_unit_test(test_failed_save_leaves_nothing_half_applied),
		cmocka_unit_test(test_failed_map_update_is_rolled_back),
		cmocka_unit_test(test_expiry_is_a_transaction),
		cmocka_unit_test(test_bad_requests_are_refused_whole),
		cmocka_unit_test(test_allow_and_exempt_are_width_limited),
		cmocka_unit_test(test_state_changes_are_never_rate_limited),
	};

	return cmocka_run_group_tests_name("ops", tests, setup, teardown);
}
