// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* bl4tab.c - see bl4tab.h. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "bl4tab.h"
#include "bwe_bl4.h"

size_t bwe_bl4_limit(size_t slots)
{
	return slots / BWE_BL4_LOAD_DEN * BWE_BL4_LOAD_NUM;
}

int bwe_bl4_create(size_t slots, __u64 seed, __u32 tag)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BWE_BL4_FLAGS);
	struct bwe_bl4_hdr *hdr;
	struct bwe_bl4_bucket *m;
	size_t buckets = slots / BWE_BL4_WAYS, len = (buckets + 1) * sizeof(*m), b;
	__u32 s32 = 0;
	int fd, err;

	if (slots < BWE_BL4_SLOTS_MIN || (slots & (slots - 1)) || buckets >= UINT32_MAX ||
	    seed > UINT32_MAX || !tag || tag > BWE_BL4_TAG_MAX)
		return -EINVAL;
	while (!seed) { /* 0 is the caller's "pick one" */
		if (getrandom(&s32, sizeof(s32), 0) != (ssize_t)sizeof(s32))
			return -errno;
		seed = s32;
	}
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "bwe_bl_tab4", sizeof(__u32),
			    sizeof(struct bwe_bl4_bucket), (__u32)(1 + buckets), &opts);
	if (fd < 0)
		return -errno;
	/* No program sees the table yet: plain stores, the tag in every bucket. */
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		err = -errno;
		close(fd);
		return err;
	}
	hdr = (struct bwe_bl4_hdr *)m;
	hdr->magic = BWE_BL4_MAGIC;
	hdr->mask = (__u32)(buckets - 1);
	hdr->seed = seed;
	hdr->tag = tag;
	for (b = 1; b <= buckets; b++)
		m[b].slot[0] = (__u64)tag << BWE_BL4_TAG_SHIFT;
	munmap(m, len);
	return fd;
}

static struct bwe_bl4_bucket *bucket(const struct bwe_bl4 *t, __u32 b)
{
	return &t->map[1 + b];
}

static void store(__u64 *slot, __u64 v)
{
	__atomic_store_n(slot, v, __ATOMIC_RELEASE);
}

void bwe_bl4_unmap(struct bwe_bl4 *t)
{
	if (t->map)
		munmap(t->map, t->map_len);
	t->map = NULL;
	t->map_len = 0;
	t->map_rw = false;
}

int bwe_bl4_map(struct bwe_bl4 *t, bool write)
{
	void *m;

	if (t->map && (t->map_rw || !write))
		return 0;
	bwe_bl4_unmap(t);
	t->map_len = (t->slots / BWE_BL4_WAYS + 1) * sizeof(struct bwe_bl4_bucket);
	m = mmap(NULL, t->map_len, PROT_READ | (write ? PROT_WRITE : 0), MAP_SHARED, t->fd, 0);
	if (m == MAP_FAILED) {
		t->map_len = 0;
		return -errno;
	}
	t->map = m;
	t->map_rw = write;
	return 0;
}

static struct bwe_bl4_hdr *hdr(const struct bwe_bl4 *t)
{
	return (struct bwe_bl4_hdr *)t->map;
}

size_t bwe_bl4_used(const struct bwe_bl4 *t)
{
	return hdr(t)->used;
}

/* The slot of a: its bucket, way and distance from a's home bucket; false if a is not held. */
static bool find(const struct bwe_bl4 *t, __be32 a, __u32 *b, int *w, __u32 *dist)
{
	__u32 home = bwe_bl4_home(t->seed, t->mask, a), d;
	int i;

	for (d = 0; d < BWE_BL4_PROBE_MAX; d++) {
		const struct bwe_bl4_bucket *bk = bucket(t, (home + d) & t->mask);

		for (i = 0; i < BWE_BL4_WAYS; i++) {
			if (bwe_bl4_slot_is(bk->slot[i], a)) {
				*b = (home + d) & t->mask;
				*w = i;
				*dist = d;
				return true;
			}
		}
		if (!(bk->slot[0] & BWE_BL4_SPILL_MASK))
			break;
	}
	return false;
}

/* Raise (by +1) or lower (by -1) the spill count of the dist buckets from home. */
static void spill(struct bwe_bl4 *t, __u32 home, __u32 dist, int by)
{
	__u32 d;

	for (d = 0; d < dist; d++) {
		__u64 *s0 = &bucket(t, (home + d) & t->mask)->slot[0];

		store(s0, by > 0 ? *s0 + BWE_BL4_SPILL_ONE : *s0 - BWE_BL4_SPILL_ONE);
	}
}

/* Store entry word v in slot w of bucket b, keeping slot 0's spill count and tag. */
static void put_slot(struct bwe_bl4 *t, __u32 b, int w, __u64 v)
{
	__u64 *s = &bucket(t, b)->slot[w];

	store(s, v | (w == 0 ? *s & (BWE_BL4_SPILL_MASK | BWE_BL4_TAG_MASK) : 0));
}

void bwe_bl4_prefetch(const struct bwe_bl4 *t, __be32 a)
{
	__builtin_prefetch(bucket(t, bwe_bl4_home(t->seed, t->mask, a)), 1);
}

int bwe_bl4_put(struct bwe_bl4 *t, __be32 a, __u8 ref)
{
	__u32 home = bwe_bl4_home(t->seed, t->mask, a), b, d;
	int w;

	if (find(t, a, &b, &w, &d)) {
		put_slot(t, b, w, ref ? bwe_bl4_slot(a, ref) : 0);
		if (!ref) {
			/* the entry is gone before the chain to it shortens */
			spill(t, home, d, -1);
			hdr(t)->used--;
		}
		return 0;
	}
	if (!ref)
		return 0;
	if (hdr(t)->used >= t->limit)
		return -E2BIG;
	for (d = 0; d < BWE_BL4_PROBE_MAX; d++) {
		const struct bwe_bl4_bucket *bk = bucket(t, (home + d) & t->mask);

		for (w = 0; w < BWE_BL4_WAYS; w++)
			if (bwe_bl4_slot_ref(bk->slot[w]) == BWE_REF_NONE)
				break;
		if (w < BWE_BL4_WAYS)
			break;
	}
	if (d == BWE_BL4_PROBE_MAX)
		return -E2BIG;
	/* the chain first, then the entry: it is reachable once visible */
	spill(t, home, d, +1);
	put_slot(t, (home + d) & t->mask, w, bwe_bl4_slot(a, ref));
	hdr(t)->used++;
	return 0;
}

__u8 bwe_bl4_get(const struct bwe_bl4 *t, __be32 a)
{
	__u32 b, d;
	int w;

	return find(t, a, &b, &w, &d) ? bwe_bl4_slot_ref(bucket(t, b)->slot[w]) : BWE_REF_NONE;
}

int bwe_bl4_next(const struct bwe_bl4 *t, size_t *pos, __be32 *a, __u8 *ref)
{
	for (; *pos < t->slots; (*pos)++) {
		__u64 s = bucket(t, (__u32)(*pos / BWE_BL4_WAYS))->slot[*pos % BWE_BL4_WAYS];

		if (bwe_bl4_slot_ref(s) != BWE_REF_NONE) {
			*a = (__be32)(__u32)s;
			*ref = bwe_bl4_slot_ref(s);
			(*pos)++;
			return 1;
		}
	}
	return 0;
}

int bwe_bl4_open(struct bwe_bl4 *t, int fd)
{
	struct bpf_map_info info;
	struct bwe_bl4_hdr h;
	__u32 len = sizeof(info), idx = BWE_BL4_HDR_IDX;

	memset(t, 0, sizeof(*t));
	t->fd = fd;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len) || bpf_map_lookup_elem(fd, &idx, &h))
		return -errno;
	if (info.type != BPF_MAP_TYPE_ARRAY || info.value_size != sizeof(struct bwe_bl4_bucket) ||
	    (info.map_flags & BWE_BL4_FLAGS) != BWE_BL4_FLAGS || h.magic != BWE_BL4_MAGIC ||
	    (__u64)h.mask + 2 != info.max_entries || (h.mask & (h.mask + 1)) ||
	    h.seed > UINT32_MAX || !h.tag || h.tag > BWE_BL4_TAG_MAX)
		return -EPROTO;
	t->mask = h.mask;
	t->seed = h.seed;
	t->tag = h.tag;
	t->slots = ((size_t)h.mask + 1) * BWE_BL4_WAYS;
	t->limit = bwe_bl4_limit(t->slots);
	return 0;
}

void bwe_bl4_close(struct bwe_bl4 *t)
{
	bwe_bl4_unmap(t);
}

int bwe_bl4_lookup_fd(int fd, __be32 a, __u8 *ref)
{
	struct bwe_bl4_hdr hdr;
	struct bwe_bl4_bucket bk;
	__u32 idx = BWE_BL4_HDR_IDX, home, d;
	int r = BWE_REF_NONE;

	if (bpf_map_lookup_elem(fd, &idx, &hdr))
		return -errno;
	home = bwe_bl4_home(hdr.seed, hdr.mask, a);
	for (d = 0; d < BWE_BL4_PROBE_MAX; d++) {
		idx = 1 + ((home + d) & hdr.mask);
		if (bpf_map_lookup_elem(fd, &idx, &bk))
			return -errno;
		r = bwe_bl4_scan(&bk, a);
		if (r != BWE_BL4_NEXT)
			break;
	}
	*ref = r == BWE_BL4_NEXT ? BWE_REF_NONE : (__u8)r;
	return 0;
}

__u64 bwe_bl4_key_of(const struct bwe_bl4 *t)
{
	return bwe_bl4_key_word(t->seed, t->mask, t->tag);
}
