// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* pfxsort.c - see pfxsort.h. */
#include <endian.h>
#include <string.h>

#include "pfxsort.h"

#define INSERTION_MAX 16 /* runs this short are insertion-sorted */

void bwe_pfx_rec_set(struct bwe_pfx_rec *r, const struct bwe_prefix *p, __u32 tie, size_t idx)
{
	__u64 w[2];

	memcpy(w, p->addr.a, sizeof(w));
	r->hi = be64toh(w[0]);
	r->lo = be64toh(w[1]);
	r->tail = (__u64)p->plen << 32 | tie;
	r->idx = idx;
}

bool bwe_pfx_rec_same(const struct bwe_pfx_rec *a, const struct bwe_pfx_rec *b)
{
	return a->hi == b->hi && a->lo == b->lo && a->tail >> 32 == b->tail >> 32;
}

static inline bool less(const struct bwe_pfx_rec *a, const struct bwe_pfx_rec *b)
{
	if (a->hi != b->hi)
		return a->hi < b->hi;
	if (a->lo != b->lo)
		return a->lo < b->lo;
	return a->tail < b->tail;
}

static inline void swap(struct bwe_pfx_rec *a, struct bwe_pfx_rec *b)
{
	struct bwe_pfx_rec t = *a;

	*a = *b;
	*b = t;
}

static void insertion(struct bwe_pfx_rec *v, size_t n)
{
	size_t i, j;

	for (i = 1; i < n; i++) {
		struct bwe_pfx_rec t = v[i];

		for (j = i; j && less(&t, &v[j - 1]); j--)
			v[j] = v[j - 1];
		v[j] = t;
	}
}

static void sift_down(struct bwe_pfx_rec *v, size_t root, size_t n)
{
	for (;;) {
		size_t c = 2 * root + 1;

		if (c >= n)
			return;
		if (c + 1 < n && less(&v[c], &v[c + 1]))
			c++;
		if (!less(&v[root], &v[c]))
			return;
		swap(&v[root], &v[c]);
		root = c;
	}
}

static void heapsort_recs(struct bwe_pfx_rec *v, size_t n)
{
	size_t i;

	for (i = n / 2; i-- > 0;)
		sift_down(v, i, n);
	for (i = n; i-- > 1;) {
		swap(&v[0], &v[i]);
		sift_down(v, 0, i);
	}
}

static void introsort(struct bwe_pfx_rec *v, size_t n, unsigned int depth)
{
	while (n > INSERTION_MAX) {
		size_t mid = n / 2, i, j;
		struct bwe_pfx_rec pivot;

		if (!depth--) {
			heapsort_recs(v, n);
			return;
		}
		/* median of three into v[0], v[mid], v[n - 1] order */
		if (less(&v[mid], &v[0]))
			swap(&v[mid], &v[0]);
		if (less(&v[n - 1], &v[mid])) {
			swap(&v[n - 1], &v[mid]);
			if (less(&v[mid], &v[0]))
				swap(&v[mid], &v[0]);
		}
		pivot = v[mid];
		i = 0;
		j = n - 1;
		for (;;) {
			while (less(&v[i], &pivot))
				i++;
			while (less(&pivot, &v[j]))
				j--;
			if (i >= j)
				break;
			swap(&v[i], &v[j]);
			i++;
			j--;
		}
		/* [0, j] <= pivot <= [j + 1, n): recurse on the smaller side */
		if (j + 1 < n - j - 1) {
			introsort(v, j + 1, depth);
			v += j + 1;
			n -= j + 1;
		} else {
			introsort(v + j + 1, n - j - 1, depth);
			n = j + 1;
		}
	}
	insertion(v, n);
}

void bwe_pfx_sort(struct bwe_pfx_rec *v, size_t n)
{
	unsigned int depth = 0;
	size_t m;

	for (m = n; m; m >>= 1)
		depth += 2;
	for (m = 1; m < n && !less(&v[m], &v[m - 1]); m++)
		;
	if (m >= n)
		return; /* sorted already: real lists often are */
	introsort(v, n, depth);
}
