// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_saver.c - ctl/bwctld/saver.c, the thread that writes feeds' last
 * good copies off the event loop. A gate holds the thread where a test
 * needs it: a FIFO at the temporary path of a job's file, whose open()
 * for writing waits for a reader (the gate's own write then fails, as a
 * write to a FIFO's fsync() does, and is counted):
 *   - a queued file is written whole, with its mode, its directory made;
 *   - of two bodies queued for one path, only the later is written;
 *   - saver_free() writes what is still queued behind the gate;
 *   - a write that fails is counted, and the thread goes on;
 *   - a body that would pass max_bytes waits in saver_put() until the
 *     thread has written what is ahead of it.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
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

/* The gate: a FIFO at gate.last's temporary path; open_gate() lets the thread through. */
struct gate {
	char file[256], fifo[256];
	pthread_t reader;
	unsigned int delay_ms;
};

static void gate_close_on(struct gate *g)
{
	path_of(g->file, sizeof(g->file), "gate.last");
	path_of(g->fifo, sizeof(g->fifo), "gate.last.tmp");
	unlink(g->fifo);
	assert_int_equal(mkfifo(g->fifo, 0600), 0);
}

static void *gate_reader(void *arg)
{
	struct gate *g = arg;
	struct timespec ts = { .tv_sec = g->delay_ms / 1000,
			       .tv_nsec = (g->delay_ms % 1000) * 1000000L };
	char buf[256];
	int fd;

	nanosleep(&ts, NULL);
	fd = open(g->fifo, O_RDONLY);
	if (fd >= 0) {
		while (read(fd, buf, sizeof(buf)) > 0)
			;
		close(fd);
	}
	return NULL;
}

/* A reader opens the FIFO after delay_ms, in a thread of its own. */
static void open_gate(struct gate *g, unsigned int delay_ms)
{
	g->delay_ms = delay_ms;
	assert_int_equal(pthread_create(&g->reader, NULL, gate_reader, g), 0);
}

static void gate_done(struct gate *g)
{
	pthread_join(g->reader, NULL);
}

/* path's content is text. */
static void assert_file(const char *path, const char *text)
{
	char *got;

	assert_int_equal(access(path, F_OK), 0);
	got = slurp(path);
	assert_non_null(got);
	assert_string_equal(got, text);
	free(got);
}

static void test_writes_supersedes_drains(void **state)
{
	unsigned long written, failed;
	char b[256], c[256], name[32], text[32];
	struct gate g;
	struct saver *s;
	struct stat st;
	size_t i;

	(void)state;
	path_of(b, sizeof(b), "feeds/b.last");
	assert_int_equal(saver_new(&s, SAVER_MAX_BYTES), 0);
	gate_close_on(&g);
	assert_int_equal(saver_put(s, g.file, "g", 1, 0640), 0); /* the thread waits at the gate */
	assert_int_equal(saver_put(s, b, "one\n", 4, 0640), 0);
	assert_int_equal(saver_put(s, b, "two, the later\n", 15, 0640), 0);
	for (i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "c/%zu.last", i);
		snprintf(text, sizeof(text), "c %zu\n", i);
		path_of(c, sizeof(c), name);
		assert_int_equal(saver_put(s, c, text, strlen(text), 0600), 0);
	}
	saver_counts(s, &written, &failed);
	assert_int_equal(written + failed, 0);
	open_gate(&g, 0);
	saver_flush(s);
	gate_done(&g);
	saver_counts(s, &written, &failed);
	assert_int_equal(failed, 1);  /* the gate's write into a FIFO */
	assert_int_equal(written, 6); /* b once (the earlier body superseded), c0..c4 */
	assert_file(b, "two, the later\n");
	assert_int_equal(stat(b, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	for (i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "c/%zu.last", i);
		snprintf(text, sizeof(text), "c %zu\n", i);
		path_of(c, sizeof(c), name);
		assert_file(c, text);
		assert_int_equal(stat(c, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
	}
	/* queued behind the gate when saver_free() is called: written before it returns */
	gate_close_on(&g);
	assert_int_equal(saver_put(s, g.file, "g", 1, 0640), 0);
	for (i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "late/%zu.last", i);
		snprintf(text, sizeof(text), "late %zu\n", i);
		path_of(c, sizeof(c), name);
		assert_int_equal(saver_put(s, c, text, strlen(text), 0640), 0);
	}
	open_gate(&g, 200);
	saver_free(s);
	gate_done(&g);
	for (i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "late/%zu.last", i);
		snprintf(text, sizeof(text), "late %zu\n", i);
		path_of(c, sizeof(c), name);
		assert_file(c, text);
	}
}

static void test_failures_and_room(void **state)
{
	unsigned long written, failed;
	char file[256], bad[256], ok[256];
	struct gate g;
	struct saver *s;
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
	saver_counts(s, &written, &failed);
	assert_int_equal(failed, 1);
	assert_int_equal(written, 1);
	assert_file(ok, "ok\n");
	saver_free(s);
	/* 8 bytes of room: a body behind the gate's waits in saver_put() for it */
	assert_int_equal(saver_new(&s, 8), 0);
	gate_close_on(&g);
	assert_int_equal(saver_put(s, g.file, "g", 1, 0640), 0);
	open_gate(&g, 200);
	assert_int_equal(saver_put(s, ok, "more than eight bytes\n", 22, 0640), 0);
	saver_counts(s, &written, &failed);
	assert_int_equal(failed, 1); /* the gate's write had ended when it returned */
	gate_done(&g);
	saver_flush(s);
	saver_counts(s, &written, &failed);
	assert_int_equal(written, 1);
	assert_file(ok, "more than eight bytes\n");
	saver_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_writes_supersedes_drains),
		cmocka_unit_test(test_failures_and_room),
	};

	/* a thread that never reaches its gate hangs a test: ended by the alarm, a failure */
	alarm(120);
	return cmocka_run_group_tests_name("saver", tests, setup, teardown);
}
