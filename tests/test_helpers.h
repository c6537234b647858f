/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * test_helpers.h - what several cmocka runners share: an address or prefix
 * from its text (failing the test when the text does not parse), a file's
 * contents, how often a text occurs in a file, a private mount
 * namespace, and a small seeded generator. Include after <cmocka.h>.
 */
#ifndef BWE_TEST_HELPERS_H
#define BWE_TEST_HELPERS_H

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "addr.h"

/* xorshift64 on *state (never 0): a number below n, the same sequence on every run. */
static inline __u32 test_rnd(unsigned long long *state, __u32 n)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return (__u32)(*state % n);
}

static inline struct bwe_prefix pfx(const char *s)
{
	struct bwe_prefix p;

	assert_int_equal(bwe_prefix_parse(s, &p, 0), 0);
	return p;
}

static inline struct bwe_addr addr(const char *s)
{
	struct bwe_addr a;

	assert_int_equal(bwe_addr_parse(s, &a), 0);
	return a;
}

/* The whole file as a string ("" when it does not exist); free() it. */
static inline char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return strdup("");
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}

/* How many times needle occurs in the file. */
static inline size_t count_in_file(const char *path, const char *needle)
{
	char *s = slurp(path), *p = s;
	size_t n = 0;

	while ((p = strstr(p, needle))) {
		n++;
		p += strlen(needle);
	}
	free(s);
	return n;
}

/* A mount namespace of the runner's own (plus the flags in extra, e.g.
 * CLONE_NEWNET), so that its mounts (bpffs, tmpfs) vanish with it. Returns
 * -1 and says why, for a cmocka setup function. */
static inline int private_namespace(const char *runner, int extra)
{
	if (unshare(CLONE_NEWNS | extra) || mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL)) {
		fprintf(stderr, "%s: needs root for a private namespace: %s\n", runner,
			strerror(errno));
		return -1;
	}
	return 0;
}

#endif /* BWE_TEST_HELPERS_H */
