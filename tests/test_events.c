// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_events.c - the event log (ctl/bwctld/events.c) against a file in a
 * temporary directory, on a clock the test moves: the token bucket of
 * each event type, the "events-suppressed" summary when a suppression
 * ends and while it lasts, per-type limits from the configuration, the
 * audit events no limit touches, and the reopen after logrotate.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "config.h"
#include "events.h"
#include "test_helpers.h"

#define NS_PER_S 1000000000ULL

/* the event.action of a line, not a field that names an action */
#define EV(action) "\"event\":{\"action\":\"" action "\""

static char dir[] = "/tmp/bwe-test-events.XXXXXX";
static char path[300], cfgpath[300];
static __u64 fake_ns = 1000 * NS_PER_S;

static __u64 fake_clock(void)
{
	return fake_ns;
}

/* A configuration whose only interesting part is event_limits (extra YAML). */
static struct bwe_cfgfile *config(const char *limits)
{
	struct bwe_cfgfile *cfg = NULL;
	char err[BWE_CFG_ERR_LEN];
	FILE *f = fopen(cfgpath, "w");

	assert_non_null(f);
	fprintf(f, "interfaces:\n  - name: lo\nevent_limits:\n%s", limits);
	fclose(f);
	if (bwe_config_load(cfgpath, &cfg, err, sizeof(err)))
		fail_msg("config: %s", err);
	return cfg;
}

static struct evlog *open_log(const struct bwe_cfgfile *cfg)
{
	struct evlog *log = NULL;

	unlink(path);
	assert_int_equal(evlog_open(&log, path), 0);
	evlog_set_clock(log, fake_clock);
	evlog_set_config(log, cfg);
	return log;
}

static void emit(struct evlog *log, const char *action, int n)
{
	while (n-- > 0)
		evlog_emit(log, ev_new(action, "alert"));
}

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/events.json", dir);
	snprintf(cfgpath, sizeof(cfgpath), "%s/bwenforce.yaml", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[400];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) ? -1 : 0;
}

/*
 * A burst passes, the rest is counted; the refill lets rate events a
 * second through; the summary comes when the bucket is full again.
 */
static void test_bucket_and_summary_when_suppression_ends(void **state)
{
	struct bwe_cfgfile *cfg = config("  rate: 2\n  burst: 3\n  summary: 60s\n");
	struct evlog *log = open_log(cfg);

	(void)state;
	emit(log, "blocklist-hit", 10);
	assert_int_equal(count_in_file(path, EV("blocklist-hit")), 3);
	/* another type has its own bucket */
	emit(log, "quarantine-drop", 3);
	assert_int_equal(count_in_file(path, EV("quarantine-drop")), 3);
	/* one second: two tokens */
	fake_ns += NS_PER_S;
	evlog_tick(log);
	emit(log, "blocklist-hit", 5);
	assert_int_equal(count_in_file(path, EV("blocklist-hit")), 5);
	assert_int_equal(count_in_file(path, EV("events-suppressed")), 0);
	/* 1.4 s later the bucket holds 2.8 tokens: the flood may go on */
	fake_ns += 1400 * NS_PER_S / 1000;
	evlog_tick(log);
	assert_int_equal(count_in_file(path, EV("events-suppressed")), 0);
	/* full again at 1.5 s: the suppression has ended, and says what it held back */
	fake_ns += 100 * NS_PER_S / 1000;
	evlog_tick(log);
	assert_int_equal(count_in_file(path, EV("events-suppressed")), 1);
	assert_int_equal(count_in_file(path,
				       "10 events of type blocklist-hit suppressed in the last 3 s"),
			 1);
	assert_int_equal(count_in_file(path,
				       "\"suppressed\":{\"action\":\"blocklist-hit\",\"count\":10"),
			 1);
	/* counted once: a later tick says nothing more */
	fake_ns += 100 * NS_PER_S;
	evlog_tick(log);
	assert_int_equal(count_in_file(path, EV("events-suppressed")), 1);
	evlog_close(log);
	bwe_config_free(cfg);
}

/* While a flood lasts, one summary every summary_s seconds, not one per event. */
static void test_periodic_summary(void **state)
{
	struct bwe_cfgfile *cfg = config("  rate: 1\n  burst: 5\n  summary: 30s\n");
	struct evlog *log = open_log(cfg);
	int i;

	(void)state;
	emit(log, "blocklist-hit", 105); /* 5 pass, 100 held back */
	for (i = 0; i < 29; i++) {
		fake_ns += NS_PER_S;
		emit(log, "blocklist-hit", 2); /* each second's token lets one through */
		evlog_tick(log);
	}
	assert_int_equal(count_in_file(path, EV("blocklist-hit")), 5 + 29);
	assert_int_equal(count_in_file(path, EV("events-suppressed")), 0);
	fake_ns += NS_PER_S;
	evlog_tick(log);
	assert_int_equal(count_in_file(path, EV("events-suppressed")), 1);
	assert_int_equal(count_in_file(path,
				       "129 events of type blocklist-hit suppressed in the last 30 s"),
			 1);
	/* the flood goes on a little, then stops: one more summary when the bucket is full */
	emit(log, "blocklist-hit", 10); /* 1 token: 9 held back */
	for (i = 0; i < 4; i++) {
		fake_ns += NS_PER_S;
		evlog_tick(log);
	}
	assert_int_equal(count_in_file(path, EV("events-suppressed")), 1);
	fake_ns += NS_PER_S;
	evlog_tick(log);
	assert_int_equal(count_in_file(path, EV("events-suppressed")), 2);
	assert_int_equal(count_in_file(path,
				       "9 events of type blocklist-hit suppressed in the last 5 s"),
			 1);
	evlog_close(log);
	bwe_config_free(cfg);
}

/* event_limits.types gives one type its own limit; the others keep the default. */
static void test_per_type_limits(void **state)
{
	struct bwe_cfgfile *cfg = config("  rate: 100\n  burst: 50\n  types:\n"
					 "    - { action: blocklist-hit, rate: 1, burst: 2 }\n");
	struct evlog *log = open_log(cfg);

	(void)state;
	emit(log, "blocklist-hit", 20);
	emit(log, "feed-updated", 20);
	assert_int_equal(count_in_file(path, EV("blocklist-hit")), 2);
	assert_int_equal(count_in_file(path, EV("feed-updated")), 20);
	evlog_close(log);
	bwe_config_free(cfg);
}

/* Changes to operator state are the audit trail: never limited. */
static void test_audit_events_are_never_limited(void **state)
{
	struct bwe_cfgfile *cfg = config("  rate: 1\n  burst: 1\n");
	struct evlog *log = open_log(cfg);
	int i;

	(void)state;
	for (i = 0; i < 500; i++)
		evlog_emit_audit(log, ev_new("quarantine", "event"));
	assert_int_equal(count_in_file(path, EV("quarantine")), 500);
	assert_int_equal(count_in_file(path, "events-suppressed"), 0);
	evlog_close(log);
	bwe_config_free(cfg);
}

/* Defaults without a configuration: a burst of BWE_CFG_EV_BURST. */
static void test_defaults(void **state)
{
	struct evlog *log = open_log(NULL);

	(void)state;
	emit(log, "blocklist-hit", BWE_CFG_EV_BURST * 3);
	assert_int_equal(count_in_file(path, EV("blocklist-hit")), BWE_CFG_EV_BURST);
	evlog_close(log);
}

/* logrotate renames the file and sends SIGHUP: new lines go to a new file. */
static void test_reopen_after_rename(void **state)
{
	struct evlog *log = open_log(NULL);
	char rotated[320];

	(void)state;
	snprintf(rotated, sizeof(rotated), "%s.1", path);
	emit(log, "before-rotation", 2);
	assert_int_equal(rename(path, rotated), 0);
	emit(log, "still-old-file", 1);
	assert_int_equal(evlog_reopen(log), 0);
	emit(log, "after-rotation", 3);
	assert_int_equal(count_in_file(rotated, "before-rotation"), 2);
	assert_int_equal(count_in_file(rotated, "still-old-file"), 1);
	assert_int_equal(count_in_file(rotated, "after-rotation"), 0);
	assert_int_equal(count_in_file(path, "after-rotation"), 3);
	assert_int_equal(count_in_file(path, "before-rotation"), 0);
	/* a path that cannot be opened: the old file stays in use */
	assert_int_equal(rename(path, rotated), 0);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_true(evlog_reopen(log) < 0);
	emit(log, "kept-writing", 1);
	assert_int_equal(count_in_file(rotated, "kept-writing"), 1);
	rmdir(path);
	unlink(rotated);
	evlog_close(log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bucket_and_summary_when_suppression_ends),
		cmocka_unit_test(test_periodic_summary),
		cmocka_unit_test(test_per_type_limits),
		cmocka_unit_test(test_audit_events_are_never_limited),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_reopen_after_rename),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
