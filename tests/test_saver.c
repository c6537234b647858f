// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_saver.c - ctl/bwctld/saver.c, the thread that writes feeds' last
 * good copies off the event loop:
 *   - a queued file is written whole, with its mode, its directory made;
 *   - of two bodies for one path the later is what the file holds, and
 *     files of other paths keep their order's content;
 *   - saver_free() writes what is still queued;
 *   - a write that fails is counted, and the thread goes on;
 *   - past max_bytes queued, the write is made on the caller's thread and
 *     its error returned at once.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "test_helpers.h"
#include "saver.h"

static char dir[128];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "%s/bwe-test-saver-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[sizeof(dir) + 16];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static void path_of(char *out, size_t size, const char *name)
{
	assert_true(snprintf(out, size, "%s/%s", dir, name) < (int)size);
}

static void test_writes_and_supersedes(void **state)
{
	struct saver *s;
	char a[256], b[256], *got;
	size_t big = (size_t)24 << 20, i;
	char *body = malloc(big);
	struct stat st;

	(void)state;
	assert_non_null(body);
	for (i = 0; i < big; i++)
		body[i] = (char)('a' + i % 26);
	path_of(a, sizeof(a), "feeds/big.last");
	path_of(b, sizeof(b), "feeds/small.last");
	assert_int_equal(saver_new(&s, SAVER_MAX_BYTES), 0);
	/* the big one keeps the thread busy while the small one is queued twice */
	assert_int_equal(saver_put(s, a, body, big, 0640), 0);
	assert_int_equal(saver_put(s, b, "one\n", 4, 0640), 0);
	assert_int_equal(saver_put(s, b, "two, the later\n", 15, 0640), 0);
	saver_flush(s);
	got = slurp(a);
	assert_non_null(got);
	assert_int_equal(strlen(got), big);
	assert_memory_equal(got, body, big);
	free(got);
	got = slurp(b);
	assert_non_null(got);
	assert_string_equal(got, "two, the later\n");
	free(got);
	assert_int_equal(stat(b, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	assert_int_equal(saver_failed(s), 0);
	/* queued, not flushed: saver_free() writes them */
	for (i = 0; i < 5; i++) {
		char p[256], name[32], text[32];

		snprintf(name, sizeof(name), "late/%zu.last", i);
		snprintf(text, sizeof(text), "late %zu\n", i);
		path_of(p, sizeof(p), name);
		assert_int_equal(saver_put(s, p, text, strlen(text), 0600), 0);
	}
	saver_free(s);
	for (i = 0; i < 5; i++) {
		char p[256], name[32], text[32];

		snprintf(name, sizeof(name), "late/%zu.last", i);
		snprintf(text, sizeof(text), "late %zu\n", i);
		path_of(p, sizeof(p), name);
		got = slurp(p);
		assert_non_null(got);
		assert_string_equal(got, text);
		free(got);
	}
	free(body);
}

static void test_failures(void **state)
{
	struct saver *s;
	char file[256], bad[256], ok[256], *got;
	FILE *f;

	(void)state;
	/* a directory that cannot be made: its parent is a regular file */
	path_of(file, sizeof(file), "plain");
	f = fopen(file, "w");
	assert_non_null(f);
	fclose(f);
	path_of(bad, sizeof(bad), "plain/sub/x.last");
	path_of(ok, sizeof(ok), "after.last");
	assert_int_equal(saver_new(&s, SAVER_MAX_BYTES), 0);
	assert_int_equal(saver_put(s, bad, "x\n", 2, 0640), 0); /* queued: its error comes later */
	assert_int_equal(saver_put(s, ok, "ok\n", 3, 0640), 0);
	saver_flush(s);
	assert_int_equal(saver_failed(s), 1);
	got = slurp(ok);
	assert_non_null(got);
	assert_string_equal(got, "ok\n");
	free(got);
	saver_free(s);
	/* past max_bytes: written inline, the error returned at once */
	assert_int_equal(saver_new(&s, 8), 0);
	assert_int_equal(saver_put(s, bad, "more than eight bytes\n", 22, 0640), -ENOTDIR);
	assert_int_equal(saver_failed(s), 1);
	assert_int_equal(saver_put(s, ok, "inline, more than eight\n", 24, 0640), 0);
	got = slurp(ok); /* no flush needed: it was written before the return */
	assert_non_null(got);
	assert_string_equal(got, "inline, more than eight\n");
	free(got);
	saver_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_writes_and_supersedes),
		cmocka_unit_test(test_failures),
	};

	return cmocka_run_group_tests_name("saver", tests, setup, teardown);
}
