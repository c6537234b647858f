// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_addrmap.c - the compact hash maps of lib/addrmap.c against a model:
 * random inserts, replacements and deletions (backward-shift deletion in
 * long clusters), iteration, and the hash key each map draws. No kernel,
 * no files.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "addrmap.h"

#define AMAP_TEST_MIN_CAP 64	 /* addrmap.c's first capacity: growth is past it */
#define MODEL_KEYS	  4096	 /* keys 0..MODEL_KEYS-1 (dense: long clusters) */
#define MODEL_OPS	  200000 /* random operations */
#define SPREAD		  0x9e3779b9u

/* Random set / upsert / delete on a map of MODEL_KEYS dense keys, checked against an array after every 1,000. */
static void test_amap4_matches_model(void **state)
{
	static __u16 model[MODEL_KEYS]; /* 0: absent */
	struct bwe_amap4 m;
	unsigned int seed = 7;
	size_t n = 0, i, seen;
	struct bwe_amap4_slot *s;
	int op;

	(void)state;
	bwe_amap4_init(&m);
	for (op = 0; op < MODEL_OPS; op++) {
		__u32 k = (__u32)rand_r(&seed) % MODEL_KEYS;
		__u16 v = (__u16)(rand_r(&seed) % 0xffff + 1);
		int what = rand_r(&seed) % 3;
		bool created;

		if (what == 0) {
			assert_int_equal(bwe_amap4_set(&m, k, v), 0);
		} else if (what == 1) {
			__u16 *slot = bwe_amap4_upsert(&m, k, &created);

			assert_non_null(slot);
			assert_int_equal(created, !model[k]);
			assert_int_equal(*slot, created ? 0 : model[k]);
			*slot = v;
		} else {
			assert_int_equal(bwe_amap4_del(&m, k), model[k] ? 0 : -ENOENT);
			v = 0;
		}
		n += !model[k] && v;
		n -= model[k] && !v;
		model[k] = v;
		assert_int_equal(m.n, n);
		if (op % 1000)
			continue;
		for (i = 0; i < MODEL_KEYS; i++) {
			__u16 *g = bwe_amap4_get(&m, (__u32)i);

			if (model[i])
				assert_true(g && *g == model[i]);
			else
				assert_null(g);
		}
		/* the load stays at most 7/10 */
		assert_true(!m.cap || m.n * 10 < m.cap * 7);
	}
	for (i = 0, seen = 0; (s = bwe_amap4_next(&m, &i));) {
		assert_int_equal(s->val, model[s->key]);
		seen++;
	}
	assert_int_equal(seen, n);
	bwe_amap4_free(&m);
	assert_null(bwe_amap4_get(&m, 1));
	assert_int_equal(bwe_amap4_del(&m, 1), -ENOENT);
}

/* The full 32-bit range (0 and 0xffffffff are keys like any other) and prefix keys of every length apart. */
static void test_amap4_keys(void **state)
{
	struct bwe_amap4 m;
	__u32 k;
	int len;

	(void)state;
	bwe_amap4_init(&m);
	assert_int_equal(bwe_amap4_set(&m, 0, 1), 0);
	assert_int_equal(bwe_amap4_set(&m, 0xffffffffu, 2), 0);
	assert_int_equal(*bwe_amap4_get(&m, 0), 1);
	assert_int_equal(*bwe_amap4_get(&m, 0xffffffffu), 2);
	bwe_amap4_free(&m);
	/* network 0 of every length is a different key */
	for (len = 0; len < 32; len++)
		assert_int_equal(bwe_amap4_set(&m, bwe_amap4_pfx(0, len), (__u16)(len + 1)), 0);
	for (len = 0; len < 32; len++)
		assert_int_equal(*bwe_amap4_get(&m, bwe_amap4_pfx(0, len)), len + 1);
	assert_int_equal(m.n, 32);
	/* the last /31 and the first /30 do not collide either */
	k = bwe_amap4_pfx(0x7fffffffu, 31);
	assert_int_equal(k, 0xffffffffu);
	assert_null(bwe_amap4_get(&m, bwe_amap4_pfx(0x3fffffffu, 30)));
	bwe_amap4_free(&m);
}

/*
 * Every map draws its own hash key when it first allocates: keys chosen to
 * share a home in one map are spread in another, so no feed can be built
 * against every daemon.
 */
static void test_amap4_hash_key_per_map(void **state)
{
	struct bwe_amap4 a, b;

	(void)state;
	bwe_amap4_init(&a);
	bwe_amap4_init(&b);
	assert_int_equal(bwe_amap4_set(&a, 1, 1), 0);
	assert_int_equal(bwe_amap4_set(&b, 1, 1), 0);
	assert_true(a.seed != b.seed);
	bwe_amap4_free(&a);
	bwe_amap4_free(&b);
}

/* The same for bwe_amap (IPv6 hosts of the feeds, the daemon's host indexes). */
static void test_amap_hash_key_per_map(void **state)
{
	struct bwe_amap a, b;
	struct bwe_addr k;
	__u64 seed;

	(void)state;
	memset(&k, 0, sizeof(k));
	bwe_amap_init(&a);
	bwe_amap_init(&b);
	assert_int_equal(bwe_amap_set(&a, &k, 1), 0);
	assert_int_equal(bwe_amap_set(&b, &k, 1), 0);
	assert_true(a.seed != b.seed);
	/* a rehash keeps the key: every entry is still found after growth */
	seed = a.seed;
	for (k.w[3] = 1; k.w[3] < MODEL_KEYS; k.w[3]++)
		assert_int_equal(bwe_amap_set(&a, &k, k.w[3] + 1), 0);
	assert_true(a.seed == seed && a.cap > AMAP_TEST_MIN_CAP);
	for (k.w[3] = 0; k.w[3] < MODEL_KEYS; k.w[3]++)
		assert_non_null(bwe_amap_get(&a, &k));
	bwe_amap_free(&a);
	bwe_amap_free(&b);
}

/* bwe_amap keeps its behaviour beside bwe_amap4 (the shared growth and deletion rules). */
static void test_amap_delete_in_cluster(void **state)
{
	struct bwe_amap m;
	struct bwe_addr a;
	__u32 i;

	(void)state;
	bwe_amap_init(&m);
	memset(&a, 0, sizeof(a));
	for (i = 0; i < MODEL_KEYS; i++) {
		a.w[3] = i * SPREAD;
		assert_int_equal(bwe_amap_set(&m, &a, i + 1), 0);
	}
	for (i = 0; i < MODEL_KEYS; i += 2) {
		a.w[3] = i * SPREAD;
		assert_int_equal(bwe_amap_del(&m, &a), 0);
	}
	for (i = 0; i < MODEL_KEYS; i++) {
		__u32 *v;

		a.w[3] = i * SPREAD;
		v = bwe_amap_get(&m, &a);
		if (i % 2)
			assert_true(v && *v == i + 1);
		else
			assert_null(v);
	}
	assert_int_equal(m.n, MODEL_KEYS / 2);
	bwe_amap_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_amap4_matches_model),
		cmocka_unit_test(test_amap4_keys),
		cmocka_unit_test(test_amap4_hash_key_per_map),
		cmocka_unit_test(test_amap_hash_key_per_map),
		cmocka_unit_test(test_amap_delete_in_cluster),
	};

	return cmocka_run_group_tests_name("addrmap", tests, NULL, NULL);
}
