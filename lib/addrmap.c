// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* addrmap.c - see addrmap.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "addrmap.h"

#define AMAP_MIN_CAP  64
#define AMAP_LOAD_NUM 7 /* grow above 7/10 load */
#define AMAP_LOAD_DEN 10

/* splitmix64 finaliser: every input bit reaches the low (index) bits. */
static __u64 mix64(__u64 x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

static __u64 amap_hash(const struct bwe_addr *k)
{
	__u64 w[2];

	memcpy(w, k->a, sizeof(w));
	return mix64(w[0] ^ mix64(w[1] + 0x9e3779b97f4a7c15ULL));
}

void bwe_amap_init(struct bwe_amap *m)
{
	memset(m, 0, sizeof(*m));
}

void bwe_amap_free(struct bwe_amap *m)
{
	free(m->slots);
	bwe_amap_init(m);
}

static size_t amap_find(const struct bwe_amap *m, const struct bwe_addr *k, bool *found)
{
	size_t mask = m->cap - 1, i = amap_hash(k) & mask;

	while (m->slots[i].used) {
		if (!memcmp(&m->slots[i].key, k, sizeof(*k))) {
			*found = true;
			return i;
		}
		i = (i + 1) & mask;
	}
	*found = false;
	return i;
}

static int amap_rehash(struct bwe_amap *m, size_t cap)
{
	struct bwe_amap_slot *old = m->slots;
	size_t oldcap = m->cap, i;

	m->slots = calloc(cap, sizeof(*m->slots));
	if (!m->slots) {
		m->slots = old;
		return -ENOMEM;
	}
	m->cap = cap;
	for (i = 0; i < oldcap; i++) {
		bool found;
		size_t j;

		if (!old[i].used)
			continue;
		j = amap_find(m, &old[i].key, &found);
		m->slots[j] = old[i];
	}
	free(old);
	return 0;
}

int bwe_amap_reserve(struct bwe_amap *m, size_t n)
{
	size_t cap = m->cap ? m->cap : AMAP_MIN_CAP;

	while (n * AMAP_LOAD_DEN >= cap * AMAP_LOAD_NUM)
		cap *= 2;
	if (cap == m->cap)
		return 0;
	return amap_rehash(m, cap);
}

int bwe_amap_set(struct bwe_amap *m, const struct bwe_addr *k, __u32 val)
{
	bool found;
	size_t i;
	int err;

	err = bwe_amap_reserve(m, m->n + 1);
	if (err)
		return err;
	i = amap_find(m, k, &found);
	if (!found) {
		m->slots[i].key = *k;
		m->slots[i].used = 1;
		m->n++;
	}
	m->slots[i].val = val;
	return 0;
}

__u32 *bwe_amap_upsert(struct bwe_amap *m, const struct bwe_addr *k, bool *created)
{
	bool found;
	size_t i;

	if (bwe_amap_reserve(m, m->n + 1))
		return NULL;
	i = amap_find(m, k, &found);
	*created = !found;
	if (!found) {
		m->slots[i].key = *k;
		m->slots[i].val = 0;
		m->slots[i].used = 1;
		m->n++;
	}
	return &m->slots[i].val;
}

__u32 *bwe_amap_get(const struct bwe_amap *m, const struct bwe_addr *k)
{
	bool found;
	size_t i;

	if (!m->cap)
		return NULL;
	i = amap_find(m, k, &found);
	return found ? &m->slots[i].val : NULL;
}

int bwe_amap_del(struct bwe_amap *m, const struct bwe_addr *k)
{
	size_t mask = m->cap - 1, i, j;
	bool found;

	if (!m->cap)
		return -ENOENT;
	i = amap_find(m, k, &found);
	if (!found)
		return -ENOENT;
	/* Backward-shift: move later members of the cluster into the hole. */
	j = i;
	for (;;) {
		size_t home;

		j = (j + 1) & mask;
		if (!m->slots[j].used)
			break;
		home = amap_hash(&m->slots[j].key) & mask;
		/* keep j where it is if its home lies cyclically in (i, j] */
		if (i <= j ? (home > i && home <= j) : (home > i || home <= j))
			continue;
		m->slots[i] = m->slots[j];
		i = j;
	}
	memset(&m->slots[i], 0, sizeof(m->slots[i]));
	m->n--;
	return 0;
}

struct bwe_amap_slot *bwe_amap_next(const struct bwe_amap *m, size_t *iter)
{
	while (*iter < m->cap) {
		struct bwe_amap_slot *s = &m->slots[(*iter)++];

		if (s->used)
			return s;
	}
	return NULL;
}
