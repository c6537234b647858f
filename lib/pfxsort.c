// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* pfxsort.c - see pfxsort.h. */
#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "pfxsort.h"

#define INSERTION_MAX 16	/* runs this short are insertion-sorted */
#define RADIX_MIN     4096	/* fewer IPv4 records: introsort alone */
#define RADIX	      256	/* a digit is a byte */
#define RADIX_SHIFT   8		/* bits of a digit */
#define V4_TIE_DIGITS 4		/* tie: the low 32 bits of tail */
#define V4_DIGITS     9		/* tie (4 bytes), plen (1), address (4) */
#define V4_MAPPED_LO  0xffffULL /* lo >> 32 of an address in ::ffff:0:0/96 */
#define LO_HALF_SHIFT 32

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

static unsigned int depth_of(size_t n)
{
	unsigned int depth = 0;

	for (; n; n >>= 1)
		depth += 2;
	return depth;
}

enum { BEFORE_V4, V4, AFTER_V4 };

/* Where r's address lies against ::ffff:0:0/96, the IPv4 addresses (mapped). */
static int family_part(const struct bwe_pfx_rec *r)
{
	if (r->hi || r->lo >> LO_HALF_SHIFT > V4_MAPPED_LO)
		return AFTER_V4;
	return r->lo >> LO_HALF_SHIFT == V4_MAPPED_LO ? V4 : BEFORE_V4;
}

/* Digit d (0 the least significant) of an IPv4 record's order: tie, plen, address. */
static unsigned int v4_digit(const struct bwe_pfx_rec *r, unsigned int d)
{
	if (d <= V4_TIE_DIGITS) /* tail: tie bytes 0..3, then plen */
		return (unsigned int)(r->tail >> (RADIX_SHIFT * d)) & (RADIX - 1);
	return (unsigned int)(r->lo >> (RADIX_SHIFT * (d - V4_TIE_DIGITS - 1))) & (RADIX - 1);
}

/*
 * The IPv4 records, all in ::ffff:0:0/96, by an LSD radix sort: a pass
 * per byte of (address, plen, tie) that is not the same in every record.
 * When the ties already rise in input order (the worker's records are in
 * line order) their bytes are left out: each pass is stable. tmp holds n.
 */
static void radix_v4(struct bwe_pfx_rec *v, size_t n, struct bwe_pfx_rec *tmp)
{
	size_t count[V4_DIGITS][RADIX]; /* on the stack: the worker sorts in two threads */
	struct bwe_pfx_rec *src = v, *dst = tmp, *t;
	bool ties_rise = true;
	unsigned int d, b;
	size_t i;

	memset(count, 0, sizeof(count));
	for (i = 0; i < n; i++) {
		for (d = 0; d < V4_DIGITS; d++)
			count[d][v4_digit(&v[i], d)]++;
		if (i && (__u32)v[i].tail < (__u32)v[i - 1].tail)
			ties_rise = false;
	}
	for (d = ties_rise ? V4_TIE_DIGITS : 0; d < V4_DIGITS; d++) {
		size_t pos = 0;

		if (count[d][v4_digit(&v[0], d)] == n)
			continue; /* the same byte in every record */
		for (b = 0; b < RADIX; b++) {
			size_t c = count[d][b];

			count[d][b] = pos;
			pos += c;
		}
		for (i = 0; i < n; i++)
			dst[count[d][v4_digit(&src[i], d)]++] = src[i];
		t = src;
		src = dst;
		dst = t;
	}
	if (src != v)
		memcpy(v, src, n * sizeof(*v));
}

/*
 * Many IPv4 records: split stably into those before ::ffff:0:0/96, those
 * in it and those after (the order of the whole), the IPv4 ones radix
 * sorted, the rest by introsort. false: too few, or no memory.
 */
static bool sort_by_family(struct bwe_pfx_rec *v, size_t n)
{
	size_t i, cnt[AFTER_V4 + 1] = { 0 }, at[AFTER_V4 + 1], nlow, nv4;
	struct bwe_pfx_rec *tmp;

	for (i = 0; i < n; i++)
		cnt[family_part(&v[i])]++;
	nlow = cnt[BEFORE_V4];
	nv4 = cnt[V4];
	if (nv4 < RADIX_MIN || !(tmp = malloc(n * sizeof(*tmp))))
		return false;
	at[BEFORE_V4] = 0;
	at[V4] = nlow;
	at[AFTER_V4] = nlow + nv4;
	for (i = 0; i < n; i++)
		tmp[at[family_part(&v[i])]++] = v[i];
	memcpy(v, tmp, n * sizeof(*v));
	introsort(v, nlow, depth_of(nlow));
	radix_v4(v + nlow, nv4, tmp);
	introsort(v + nlow + nv4, n - nlow - nv4, depth_of(n - nlow - nv4));
	free(tmp);
	return true;
}

void bwe_pfx_sort(struct bwe_pfx_rec *v, size_t n)
{
	size_t m;

	for (m = 1; m < n && !less(&v[m], &v[m - 1]); m++)
		;
	if (m >= n)
		return; /* sorted already: real lists often are */
	if (n >= RADIX_MIN && sort_by_family(v, n))
		return;
	introsort(v, n, depth_of(n));
}
