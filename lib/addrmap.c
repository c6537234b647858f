// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* addrmap.c - see addrmap.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>

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

/*
 * Each map's hash takes a random key (chosen when its first slots are
 * allocated): a feed's author cannot choose a million addresses that share
 * a few slots and turn every probe into a walk of the whole cluster.
 */
static __u64 map_seed(void)
{
	__u64 seed;

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed))
		seed = (__u64)time(NULL) * 0x9e3779b97f4a7c15ULL ^ (__u64)(unsigned long)&seed;
	return seed;
}

static __u64 amap_hash(const struct bwe_amap *m, const struct bwe_addr *k)
{
	__u64 w[2];

	memcpy(w, k->a, sizeof(w));
	return mix64(w[0] ^ mix64(w[1] ^ m->seed));
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
	size_t mask = m->cap - 1, i = amap_hash(m, k) & mask;

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
	if (!oldcap)
		m->seed = map_seed();
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

/* The capacity a map of cap slots needs for n entries. */
static size_t grown_cap(size_t cap, size_t n)
{
	cap = cap ? cap : AMAP_MIN_CAP;
	while (n * AMAP_LOAD_DEN >= cap * AMAP_LOAD_NUM)
		cap *= 2;
	return cap;
}

/* Backward-shift deletion: whether the entry at j, whose home is home, stays (its home lies cyclically in (hole, j]). */
static bool stays(size_t hole, size_t j, size_t home)
{
	return hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
}

/*
 * The two map types share deletion and iteration, over slots of size bytes
 * told apart by used() and homed by home(m, slot).
 */
struct slots {
	void *base;
	size_t cap, size;
	const void *m;
	bool (*used)(const void *slot);
	size_t (*home)(const void *m, const void *slot);
};

static void *slot_at(const struct slots *s, size_t i)
{
	return (char *)s->base + i * s->size;
}

/* Empty slot i (found in use) with backward-shift: later members of its cluster move into the hole. */
static void slot_delete(const struct slots *s, size_t i)
{
	size_t mask = s->cap - 1, j;

	for (j = (i + 1) & mask; s->used(slot_at(s, j)); j = (j + 1) & mask) {
		if (stays(i, j, s->home(s->m, slot_at(s, j))))
			continue;
		memcpy(slot_at(s, i), slot_at(s, j), s->size);
		i = j;
	}
	memset(slot_at(s, i), 0, s->size);
}

/* The next slot in use at or after *iter (moved past it), NULL at the end. */
static void *slot_next(const struct slots *s, size_t *iter)
{
	while (*iter < s->cap) {
		void *slot = slot_at(s, (*iter)++);

		if (s->used(slot))
			return slot;
	}
	return NULL;
}

static bool amap_used(const void *slot)
{
	return ((const struct bwe_amap_slot *)slot)->used;
}

static size_t amap_home(const void *m, const void *slot)
{
	const struct bwe_amap *am = m;

	return amap_hash(am, &((const struct bwe_amap_slot *)slot)->key) & (am->cap - 1);
}

static struct slots amap_slots(const struct bwe_amap *m)
{
	return (struct slots){ .base = m->slots,
			       .cap = m->cap,
			       .size = sizeof(*m->slots),
			       .m = m,
			       .used = amap_used,
			       .home = amap_home };
}

int bwe_amap_reserve(struct bwe_amap *m, size_t n)
{
	size_t cap = grown_cap(m->cap, n);

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
	struct slots s = amap_slots(m);
	bool found;
	size_t i;

	if (!m->cap)
		return -ENOENT;
	i = amap_find(m, k, &found);
	if (!found)
		return -ENOENT;
	slot_delete(&s, i);
	m->n--;
	return 0;
}

struct bwe_amap_slot *bwe_amap_next(const struct bwe_amap *m, size_t *iter)
{
	struct slots s = amap_slots(m);

	return slot_next(&s, iter);
}

/* ---- 32-bit keys ---------------------------------------------------------- */

static size_t amap4_home(const struct bwe_amap4 *m, __u32 k)
{
	return mix64(k ^ m->seed) & (m->cap - 1);
}

static bool amap4_used(const void *slot)
{
	return ((const struct bwe_amap4_slot *)slot)->used;
}

static size_t amap4_slot_home(const void *m, const void *slot)
{
	return amap4_home(m, ((const struct bwe_amap4_slot *)slot)->key);
}

static struct slots amap4_slots(const struct bwe_amap4 *m)
{
	return (struct slots){ .base = m->slots,
			       .cap = m->cap,
			       .size = sizeof(*m->slots),
			       .m = m,
			       .used = amap4_used,
			       .home = amap4_slot_home };
}

void bwe_amap4_init(struct bwe_amap4 *m)
{
	memset(m, 0, sizeof(*m));
}

void bwe_amap4_free(struct bwe_amap4 *m)
{
	free(m->slots);
	bwe_amap4_init(m);
}

static size_t amap4_find(const struct bwe_amap4 *m, __u32 k, bool *found)
{
	size_t mask = m->cap - 1, i = amap4_home(m, k);

	while (m->slots[i].used) {
		if (m->slots[i].key == k) {
			*found = true;
			return i;
		}
		i = (i + 1) & mask;
	}
	*found = false;
	return i;
}

int bwe_amap4_reserve(struct bwe_amap4 *m, size_t n)
{
	struct bwe_amap4_slot *old = m->slots;
	size_t oldcap = m->cap, cap = grown_cap(m->cap, n), i;

	if (cap == m->cap)
		return 0;
	m->slots = calloc(cap, sizeof(*m->slots));
	if (!m->slots) {
		m->slots = old;
		return -ENOMEM;
	}
	if (!oldcap)
		m->seed = map_seed();
	m->cap = cap;
	for (i = 0; i < oldcap; i++) {
		bool found;

		if (old[i].used)
			m->slots[amap4_find(m, old[i].key, &found)] = old[i];
	}
	free(old);
	return 0;
}

__u16 *bwe_amap4_upsert(struct bwe_amap4 *m, __u32 k, bool *created)
{
	bool found;
	size_t i;

	if (bwe_amap4_reserve(m, m->n + 1))
		return NULL;
	i = amap4_find(m, k, &found);
	*created = !found;
	if (!found) {
		m->slots[i] = (struct bwe_amap4_slot){ .key = k, .used = 1 };
		m->n++;
	}
	return &m->slots[i].val;
}

int bwe_amap4_set(struct bwe_amap4 *m, __u32 k, __u16 val)
{
	bool created;
	__u16 *v = bwe_amap4_upsert(m, k, &created);

	if (!v)
		return -ENOMEM;
	*v = val;
	return 0;
}

void bwe_amap4_prefetch(const struct bwe_amap4 *m, __u32 k)
{
	if (m->cap)
		__builtin_prefetch(&m->slots[amap4_home(m, k)], 1);
}

__u16 *bwe_amap4_get(const struct bwe_amap4 *m, __u32 k)
{
	bool found;
	size_t i;

	if (!m->cap)
		return NULL;
	i = amap4_find(m, k, &found);
	return found ? &m->slots[i].val : NULL;
}

int bwe_amap4_del(struct bwe_amap4 *m, __u32 k)
{
	struct slots s = amap4_slots(m);
	bool found;
	size_t i;

	if (!m->cap)
		return -ENOENT;
	i = amap4_find(m, k, &found);
	if (!found)
		return -ENOENT;
	slot_delete(&s, i);
	m->n--;
	return 0;
}

struct bwe_amap4_slot *bwe_amap4_next(const struct bwe_amap4 *m, size_t *iter)
{
	struct slots s = amap4_slots(m);

	return slot_next(&s, iter);
}
