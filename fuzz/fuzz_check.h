/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fuzz_check.h - the contract check every libFuzzer target shares: a
 * violated condition is printed with its place and aborts the run, so
 * libFuzzer keeps the input as a crash artifact.
 */
#ifndef BWE_FUZZ_CHECK_H
#define BWE_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond) \
	do { \
		if (!(cond)) { \
			fprintf(stderr, "contract violated: %s (%s:%d)\n", #cond, __FILE__, \
				__LINE__); \
			abort(); \
		} \
	} while (0)

#endif /* BWE_FUZZ_CHECK_H */
