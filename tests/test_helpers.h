/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * test_helpers.h - what several cmocka runners share: an address or prefix
 * from its text, failing the test when the text does not parse. Include
 * after <cmocka.h>.
 */
#ifndef BWE_TEST_HELPERS_H
#define BWE_TEST_HELPERS_H

#include "addr.h"

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

#endif /* BWE_TEST_HELPERS_H */
