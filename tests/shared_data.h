/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * shared_data.h - where the workplace's reference data (real feeds) lives,
 * for tests: $BWE_SHARED (scripts/run-tests.sh exports it), else ../shared
 * relative to the repository root that make test runs from.
 */
#ifndef BWE_TESTS_SHARED_DATA_H
#define BWE_TESTS_SHARED_DATA_H

#include <stdio.h>
#include <stdlib.h>

#define SHARED_DEFAULT "../shared"

/* "<shared>/feeds/<name>" into buf. */
static inline const char *shared_feed(char *buf, size_t len, const char *name)
{
	const char *root = getenv("BWE_SHARED");

	snprintf(buf, len, "%s/feeds/%s", root && *root ? root : SHARED_DEFAULT, name);
	return buf;
}

#endif /* BWE_TESTS_SHARED_DATA_H */
