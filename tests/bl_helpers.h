/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * bl_helpers.h - what the cmocka runners that look inside the exact-host
 * tables share: every (host, ref) of a family's table, and an IPv4 entry
 * written straight into a table (what a previous daemon left, for the
 * restart cases). Include after <cmocka.h> and test_helpers.h.
 */
#ifndef BWE_BL_HELPERS_H
#define BWE_BL_HELPERS_H

#include <bpf/bpf.h>

#include "bl4tab.h"
#include "dataplane.h"

/* Every (host, value) of family f's table fd appended to out[*n..max); vals may be NULL. */
static inline void bl_table_dump(int fd, enum bwe_bl_fam f, struct bwe_addr *out,
				 struct bwe_bl_val *vals, size_t max, size_t *n)
{
	__u8 k[sizeof(struct bwe_addr)], next[sizeof(struct bwe_addr)];
	struct bwe_bl4 t;
	void *prev = NULL;
	size_t pos = 0;
	__be32 a;
	__u8 ref;

	if (f == BWE_BL_V4) {
		assert_int_equal(bwe_bl4_open(&t, fd), 0);
		assert_int_equal(bwe_bl4_map(&t, false), 0);
		while (bwe_bl4_next(&t, &pos, &a, &ref)) {
			assert_true(*n < max);
			bwe_addr_from_v4(a, &out[*n]);
			if (vals) {
				memset(&vals[*n], 0, sizeof(vals[*n]));
				vals[*n].ref = ref;
			}
			(*n)++;
		}
		bwe_bl4_close(&t);
		return;
	}
	while (!bpf_map_get_next_key(fd, prev, next)) {
		assert_true(*n < max);
		memcpy(&out[*n], next, sizeof(out[*n]));
		if (vals)
			assert_int_equal(bpf_map_lookup_elem(fd, next, &vals[*n]), 0);
		(*n)++;
		memcpy(k, next, sizeof(k));
		prev = k;
	}
}

/* Set (ref) or remove (0) IPv4 host a in dense table fd through its mmap: 0 or -errno. */
static inline int bl4_put_fd(int fd, __be32 a, __u8 ref)
{
	struct bwe_bl4 t;
	int err = bwe_bl4_open(&t, fd);

	err = err ?: bwe_bl4_map(&t, true);
	err = err ?: bwe_bl4_put(&t, a, ref);
	bwe_bl4_close(&t);
	return err;
}

#endif /* BWE_BL_HELPERS_H */
