// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* blocklist.c - see blocklist.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>

#include "bwe_util.h"
#include "blocklist.h"
#include "bwe_bl4.h"
#include "bwe_rules.h"
#include "log.h"

#define TBL24_SLOTS   (1u << 24)
#define PENDING_MIN   1024
#define PENDING_KEEP  65536   /* queues larger than this are freed after a flush */
#define SWEEP_BATCH   8192    /* host keys read per batch lookup */
#define HOST_EXPLICIT 0x00ffu /* amap value: ref of an explicit /32 or /128 */
#define HOST_LONG_SH  8	      /* amap value: ref of the covering /25../31 */

static enum bwe_bl_fam fam_of(const struct bwe_addr *a)
{
	return bwe_addr_is_v4(a) ? BWE_BL_V4 : BWE_BL_V6;
}

/* The table key of host a: its IPv4 address (network order) or the whole address. */
static const void *key_of(const struct bwe_addr *a)
{
	return bwe_addr_is_v4(a) ? (const void *)&a->w[3] : (const void *)a;
}

static void addr_of(enum bwe_bl_fam f, const __u8 *key, struct bwe_addr *a)
{
	bwe_bl_key4 v4;

	if (f == BWE_BL_V6) {
		memcpy(a, key, sizeof(*a));
		return;
	}
	memcpy(&v4, key, sizeof(v4));
	bwe_addr_from_v4(v4, a);
}

/*
 * Queue host a of family f with its value now. Updates are written in
 * queue order (a key queued twice ends with its last value) and deletions
 * after them, each only if the mirror still lacks the key: the kernel ends
 * as the mirror.
 */
static int pending_add(struct bwe_bl_pending *q, enum bwe_bl_fam f, const struct bwe_addr *a,
		       __u8 ref)
{
	size_t ks = bwe_dp_bl_key_size(f);

	if (q->n == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : PENDING_MIN;
		__u8 *keys = reallocarray(q->keys, cap, ks);
		struct bwe_bl_val *vals;

		if (!keys)
			return -ENOMEM;
		q->keys = keys;
		vals = reallocarray(q->vals, cap, sizeof(*vals));
		if (!vals)
			return -ENOMEM;
		q->vals = vals;
		q->cap = cap;
	}
	memset(&q->vals[q->n], 0, sizeof(q->vals[q->n]));
	q->vals[q->n].ref = ref;
	memcpy(q->keys + q->n++ * ks, key_of(a), ks);
	return 0;
}

static int queue_host(struct bwe_bl *bl, const struct bwe_addr *a, __u8 ref)
{
	struct bwe_bl_table *t = &bl->tab[fam_of(a)];

	return pending_add(ref ? &t->upd : &t->del, fam_of(a), a, ref);
}

/* max_entries of a map (the pinned map's own, which may differ from the config). */
size_t bwe_bl_table_size(enum bwe_bl_fam f, size_t hosts)
{
	size_t want = hosts + hosts / 4;
	size_t size = f == BWE_BL_V4 ? BWE_BL4_SLOTS_MIN : BWE_BL_HOST_MIN;

	while ((f == BWE_BL_V4 ? bwe_bl4_limit(size) : size) < want)
		size *= 2;
	return f == BWE_BL_V4 ? bwe_bl4_limit(size) : size;
}

/* The size bwe_dp_bl_table_new() takes for a table of max hosts: IPv4 its slots. */
static size_t create_size(enum bwe_bl_fam f, size_t max)
{
	return f == BWE_BL_V4 ? max / BWE_BL4_LOAD_NUM * BWE_BL4_LOAD_DEN : max;
}

/* Make fd family f's table in t: its max, and for IPv4 the dense table's state. */
static int table_take(struct bwe_bl_table *t, enum bwe_bl_fam f, int fd)
{
	int err;

	t->fd = fd;
	if (f != BWE_BL_V4)
		return bwe_map_max_entries(fd, &t->max);
	err = bwe_bl4_open(&t->v4, fd);
	t->max = t->v4.limit;
	return err;
}

int bwe_bl_init(struct bwe_bl *bl, const struct bwe_dp *dp)
{
	int err = 0, f;

	memset(bl, 0, sizeof(*bl));
	bl->dp = dp;
	bl->host_max = dp->bl_host_max;
	bl->net6_fd = bwe_dp_map_fd(dp, BWE_MAP_BL_NET6);
	for (f = 0; f < BWE_BL_FAMS; f++)
		bl->tab[f].fd = -1;
	for (f = 0; f < BWE_BL_FAMS && !err; f++) {
		int fd = bwe_dp_bl_table_get(dp, f);

		err = fd < 0 ? fd : table_take(&bl->tab[f], f, fd);
	}
	err = err ?: bwe_map_max_entries(bl->net6_fd, &bl->net6_max);
	bl->n6_unswept = dp->reused; /* the trie may hold a previous run's prefixes */
	if (err)
		bwe_bl_free(bl);
	return err;
}

static void pending_free(struct bwe_bl_pending *q)
{
	free(q->keys);
	free(q->vals);
	memset(q, 0, sizeof(*q));
}

void bwe_bl_free(struct bwe_bl *bl)
{
	size_t i;

	bwe_amap4_free(&bl->hosts4);
	bwe_amap_free(&bl->hosts6);
	bwe_amap4_free(&bl->net4);
	for (i = 0; i <= BWE_ADDR_BITS; i++)
		bwe_amap_free(&bl->net6[i]);
	bwe_bl4_close(&bl->tab[BWE_BL_V4].v4);
	for (i = 0; i < BWE_BL_FAMS; i++) {
		if (bl->tab[i].fd >= 0)
			close(bl->tab[i].fd);
		pending_free(&bl->tab[i].upd);
		pending_free(&bl->tab[i].del);
	}
	memset(bl, 0, sizeof(*bl));
	bl->tab[BWE_BL_V4].fd = bl->tab[BWE_BL_V6].fd = -1;
}

static __u8 *lane(const struct bwe_bl *bl, __u32 n24)
{
	return &bl->dp->tbl24[n24 / BWE_TBL24_LANES].ref[n24 % BWE_TBL24_LANES];
}

/* The key of the IPv4 /len (8..31) holding address v (host order) in net4. */
static __u32 net4_key(__u32 v, int len)
{
	return bwe_amap4_pfx(v >> (BWE_V4_BITS - len), len);
}

/* The ref of the IPv4 /len holding address v (host order), 0 when net4 lacks it. */
static __u8 net4_ref(const struct bwe_bl *bl, __u32 v, int len)
{
	const __u16 *r;

	if (!bl->net4_n[len])
		return 0;
	r = bwe_amap4_get(&bl->net4, net4_key(v, len));
	return r ? (__u8)*r : 0;
}

/* Set (ref) or remove (0) the IPv4 /len holding v in net4: the ref it had, or -errno. */
static int net4_put(struct bwe_bl *bl, __u32 v, int len, __u8 ref)
{
	__u32 k = net4_key(v, len);
	__u16 *cur = bwe_amap4_get(&bl->net4, k);
	__u8 was = cur ? (__u8)*cur : 0;
	int err = 0;

	if (ref && cur)
		*cur = ref;
	else if (ref)
		err = bwe_amap4_set(&bl->net4, k, ref);
	else if (cur)
		err = bwe_amap4_del(&bl->net4, k);
	if (err)
		return err;
	if (!ref != !was)
		bl->net4_n[len] += ref ? 1 : (size_t)-1;
	return was;
}

/* The length of the longest prefix of net4 longer than above (and at most /24) holding /24 slot n24; 0 none. */
static int t24_owner(const struct bwe_bl *bl, __u32 n24, int above)
{
	int l;

	for (l = 24; l > above; l--)
		if (net4_ref(bl, n24 << 8, l))
			return l;
	return 0;
}

/*
 * Write val into the slots [first, first + span) of the DIR-24 table that
 * no prefix longer than len holds (their owner stays). A slot the table
 * leaves at 0 has no owner at all: adding (val not 0) paints it without
 * asking net4, so a feed of networks that do not overlap costs one write a
 * slot, as a shadow of lengths did.
 */
static void t24_paint(struct bwe_bl *bl, __u32 first, __u32 span, int len, __u8 val)
{
	__u32 s = first;

	while (s < first + span) {
		int l = val && !*lane(bl, s) ? 0 : t24_owner(bl, s, len);

		if (l) { /* a longer prefix holds the slot, and every slot of it */
			s = ((s >> (24 - l)) + 1) << (24 - l);
			continue;
		}
		*lane(bl, s++) = val;
	}
}

/* IPv4 /8../24: keep the prefix in net4, paint the DIR-24 table. */
static int bl_table_set(struct bwe_bl *bl, const struct bwe_prefix *p, __u8 ref)
{
	int len = bwe_prefix_family_len(p), l2, was;
	__u32 v = ntohl(bwe_addr_v4(&p->addr));
	__u32 span = 1u << (24 - len), first = (v >> 8) & ~(span - 1);
	__u8 cov_ref = 0;

	was = net4_put(bl, v, len, ref);
	if (was < 0)
		return was;
	if (ref) {
		bl->n_v4pfx += !was;
		t24_paint(bl, first, span, len, ref);
		return 0;
	}
	if (!was)
		return 0;
	bl->n_v4pfx--;
	/* What the slots fall back to: the longest shorter prefix covering them. */
	for (l2 = len - 1; l2 >= BWE_BL_V4_MIN_PLEN && !cov_ref; l2--)
		cov_ref = net4_ref(bl, v, l2);
	t24_paint(bl, first, span, len, cov_ref);
	return 0;
}

static __u8 host_effective(__u32 v)
{
	__u8 explicit = v & HOST_EXPLICIT;

	return explicit ? explicit : (__u8)(v >> HOST_LONG_SH);
}

/* The mirror's value of host a; false when it holds none. */
static bool host_get(const struct bwe_bl *bl, const struct bwe_addr *a, __u32 *v)
{
	if (bwe_addr_is_v4(a)) {
		const __u16 *r = bwe_amap4_get(&bl->hosts4, a->w[3]);

		*v = r ? *r : 0;
		return r;
	}
	const __u32 *r = bwe_amap_get(&bl->hosts6, a);

	*v = r ? *r : 0;
	return r;
}

/* Store a host's new mirror value (0: none) and queue the kernel change if its ref changed. */
static int host_store(struct bwe_bl *bl, const struct bwe_addr *a, __u32 v)
{
	__u32 old;
	bool had = host_get(bl, a, &old), v4 = bwe_addr_is_v4(a);
	__u8 before = host_effective(old), after = host_effective(v);
	int err;

	if (v)
		err = v4 ? bwe_amap4_set(&bl->hosts4, a->w[3], (__u16)v)
			 : bwe_amap_set(&bl->hosts6, a, v);
	else if (had)
		err = v4 ? bwe_amap4_del(&bl->hosts4, a->w[3]) : bwe_amap_del(&bl->hosts6, a);
	else
		err = 0;
	if (err)
		return err;
	if (had != (v != 0)) /* the host came or went */
		bl->tab[fam_of(a)].n += v ? 1 : (size_t)-1;
	return before == after ? 0 : queue_host(bl, a, after);
}

/* Longest /25../31 prefix covering IPv4 host a, or 0. */
static __u8 v4long_cover(const struct bwe_bl *bl, const struct bwe_addr *a)
{
	__u32 v = ntohl(a->w[3]);
	__u8 ref = 0;
	int len;

	for (len = BWE_V4_BITS - 1; len >= BWE_BL_V4_LONG_MIN && !ref; len--)
		ref = net4_ref(bl, v, len);
	return ref;
}

/* IPv4 /25../31: keep the prefix, then re-derive every host it spans. */
static int bl_v4long_set(struct bwe_bl *bl, const struct bwe_prefix *p, __u8 ref)
{
	int len = bwe_prefix_family_len(p), err;
	__u32 base = ntohl(bwe_addr_v4(&p->addr)), n = 1u << (BWE_V4_BITS - len), i;

	err = net4_put(bl, base, len, ref);
	if (err < 0)
		return err;
	if (!ref && !err) /* not held */
		return 0;
	for (i = 0; i < n; i++) {
		struct bwe_addr h = p->addr;
		__u32 v;

		h.w[3] = htonl(base + i);
		host_get(bl, &h, &v);
		v = (v & HOST_EXPLICIT) | (__u32)v4long_cover(bl, &h) << HOST_LONG_SH;
		err = host_store(bl, &h, v);
		if (err)
			return err;
	}
	return 0;
}

static int bl_host_set(struct bwe_bl *bl, const struct bwe_addr *a, __u8 ref)
{
	__u32 old, v;
	__u16 *s4 = NULL;
	__u32 *s6 = NULL;
	__u8 before, after;
	bool created;

	if (!ref) /* a removal: the slot must not be created */
		return host_get(bl, a, &old) ? host_store(bl, a, old & ~HOST_EXPLICIT) : 0;
	/* an addition, a million times in a big load: one probe of the mirror */
	if (bwe_addr_is_v4(a))
		s4 = bwe_amap4_upsert(&bl->hosts4, a->w[3], &created);
	else
		s6 = bwe_amap_upsert(&bl->hosts6, a, &created);
	if (!s4 && !s6)
		return -ENOMEM;
	old = s4 ? *s4 : *s6;
	bl->tab[fam_of(a)].n += created;
	v = old & ~HOST_EXPLICIT;
	if (created && s4)
		v = (__u32)v4long_cover(bl, a) << HOST_LONG_SH;
	v |= ref;
	if (s4)
		*s4 = (__u16)v;
	else
		*s6 = v;
	before = created ? 0 : host_effective(old);
	after = host_effective(v);
	return before == after ? 0 : queue_host(bl, a, after);
}

/* A bit of a filter that programs read, added unless set (a plain read spares the atomic). */
static void bits_add(__u64 *bits, __u32 w, __u64 bit)
{
	if (!(__atomic_load_n(&bits[w], __ATOMIC_RELAXED) & bit))
		__atomic_fetch_or(&bits[w], bit, __ATOMIC_RELEASE);
}

/*
 * The /32s beyond its own that an IPv6 prefix of length len makes n6_bits()
 * hash: 0 for a /32 or longer (one hash each, at most bwe_bl_net6's
 * max_entries in all), 2^(32 - len) for a shorter one.
 */
static __u64 n6_span(int len)
{
	return len >= BWE_BL_N6_PLEN ? 0 : 1ULL << (BWE_BL_N6_PLEN - len);
}

/*
 * bwe_bl_n6 (bwe_abi.h): the bits of every /32 that IPv6 prefix addr/len
 * overlaps (len >= BWE_BL_V6_MIN_PLEN, host bits clear, as the mirror and
 * bwe_bl_set() keep them), set in t (BWE_BL_N6_WORDS words); with shared,
 * t is the mapped filter that programs read (bits_add()).
 */
static void n6_bits(__u64 *t, const struct bwe_addr *addr, int len, bool shared)
{
	__u32 base = ntohl(addr->w[0]), n = (__u32)(n6_span(len) ?: 1), i, h, w;
	struct bwe_addr a = *addr;
	__u64 bit;

	for (i = 0; i < n; i++) {
		a.w[0] = htonl(base + i);
		h = bwe_bl_n6_hash(&a);
		w = bwe_hbits_word(h, BWE_BL_N6_WORDS);
		bit = bwe_hbits_bit(h);
		if (shared)
			bits_add(t, w, bit);
		else
			t[w] |= bit;
	}
}

/* Every bit of the mapped filter set: every IPv6 peer asks the trie. */
static void n6_fill(const struct bwe_bl *bl)
{
	size_t i;

	for (i = 0; i < BWE_BL_N6_WORDS; i++)
		__atomic_store_n(&bl->dp->n6[i], ~0ULL, __ATOMIC_RELEASE);
}

/*
 * Before prefix p is written: its bits, added to the mapped filter. Once
 * the prefixes shorter than /32 marked since the filter was last made
 * exact touch more /32s than it has bits, every bit is set instead, and no
 * more are marked until it is made exact again: the work (a hash a /32)
 * stays bounded, whatever a feed of /16s and /19s asks.
 */
static void n6_mark(struct bwe_bl *bl, const struct bwe_prefix *p)
{
	if (!bl->dp->n6 || bl->n6_full)
		return;
	bl->n6_spans += n6_span(p->plen);
	if (bl->n6_spans > BWE_BL_N6_BITS) {
		n6_fill(bl);
		bl->n6_full = true;
		return;
	}
	n6_bits(bl->dp->n6, &p->addr, p->plen, true);
}

/*
 * After prefixes were deleted: the filter made exactly that of the mirror
 * (which holds every prefix of the trie, and one being written), one
 * aligned store a word, so a word keeps the bits of every prefix still
 * there. Until the start-up sweep has run on reused maps, the trie may
 * still hold a previous run's prefixes that the mirror lacks: the mirror's
 * bits are then added to what the filter holds, and the filter is made
 * exact by the sweep (bwe_bl_sweep()).
 */
static int n6_exact(struct bwe_bl *bl)
{
	struct bwe_amap_slot *slot;
	__u64 *want, spans = 0;
	size_t i;
	int len;

	if (!bl->dp->n6 || !bl->n6_stale)
		return 0;
	for (len = 0; len <= BWE_ADDR_BITS; len++)
		spans += bl->net6[len].n * n6_span(len);
	bl->n6_stale = false;
	bl->n6_spans = spans;
	bl->n6_full = spans > BWE_BL_N6_BITS;
	if (bl->n6_full) { /* more /32s than bits: all set, as n6_mark() leaves it */
		n6_fill(bl);
		return 0;
	}
	want = calloc(BWE_BL_N6_WORDS, sizeof(*want));
	if (!want) {
		bl->n6_stale = true; /* a superset still: made exact at a later flush */
		return -ENOMEM;
	}
	for (len = 0; len <= BWE_ADDR_BITS; len++)
		for (i = 0; (slot = bwe_amap_next(&bl->net6[len], &i));)
			n6_bits(want, &slot->key, len, false);
	bwe_dp_bits_write(bl->dp->n6, want, BWE_BL_N6_WORDS, bl->n6_unswept);
	bl->n6_stale = bl->n6_unswept;
	free(want);
	return 0;
}

static int bl_net6_set(struct bwe_bl *bl, const struct bwe_prefix *p, __u8 ref)
{
	struct bwe_lpm_key key = { .prefixlen = p->plen, .addr = p->addr };
	struct bwe_bl_val val = { .ref = ref };
	struct bwe_amap *m = &bl->net6[p->plen];
	bool had = bwe_amap_get(m, &p->addr) != NULL;
	int err;

	if (ref) {
		__u32 before = had ? *bwe_amap_get(m, &p->addr) : 0;

		if (!had) /* its /32s' filter bits before the trie has it */
			n6_mark(bl, p);
		err = bwe_amap_set(m, &p->addr, ref);
		if (err)
			return err;
		if (bpf_map_update_elem(bl->net6_fd, &key, &val, BPF_ANY)) {
			err = -errno;
			/* the mirror says what the kernel holds: undo */
			if (had)
				bwe_amap_set(m, &p->addr, before);
			else
				bwe_amap_del(m, &p->addr);
			return err;
		}
		bl->n_v6pfx += !had;
		return 0;
	}
	if (!had)
		return 0;
	/* the kernel first: a prefix it still holds keeps its mirror entry and bits */
	if (bpf_map_delete_elem(bl->net6_fd, &key) && errno != ENOENT)
		return -errno;
	bwe_amap_del(m, &p->addr);
	bl->n_v6pfx--;
	bl->n6_stale = true; /* its bits go at the flush (n6_exact()) */
	return 0;
}

int bwe_bl_set(struct bwe_bl *bl, const struct bwe_prefix *in, __u8 ref)
{
	struct bwe_prefix p = *in;
	int len;

	if (p.plen > BWE_ADDR_BITS)
		return -EINVAL;
	bwe_prefix_mask(&p);
	len = bwe_prefix_family_len(&p);
	if (bwe_addr_is_v4(&p.addr) && p.plen >= BWE_V4_MAPPED_PLEN) {
		if (len < BWE_BL_V4_MIN_PLEN)
			return -ERANGE;
		if (len <= 24)
			return bl_table_set(bl, &p, ref);
		if (len < BWE_V4_BITS)
			return bl_v4long_set(bl, &p, ref);
		return bl_host_set(bl, &p.addr, ref);
	}
	if (len < BWE_BL_V6_MIN_PLEN)
		return -ERANGE;
	if (len == BWE_ADDR_BITS)
		return bl_host_set(bl, &p.addr, ref);
	return bl_net6_set(bl, &p, ref);
}

void bwe_bl_prefetch(const struct bwe_bl *bl, const struct bwe_prefix *p)
{
	if (p->plen == BWE_ADDR_BITS && bwe_addr_is_v4(&p->addr))
		bwe_amap4_prefetch(&bl->hosts4, p->addr.w[3]);
}

/* The family length of p if bwe_bl_set() takes it, -ERANGE or -EINVAL if not. */
static int settable_len(const struct bwe_prefix *p, bool *v4)
{
	int len;

	if (p->plen > BWE_ADDR_BITS)
		return -EINVAL;
	len = bwe_prefix_family_len(p);
	*v4 = bwe_addr_is_v4(&p->addr) && p->plen >= BWE_V4_MAPPED_PLEN;
	if (len < (*v4 ? BWE_BL_V4_MIN_PLEN : BWE_BL_V6_MIN_PLEN))
		return -ERANGE;
	return len;
}

/* Hosts of add[] the host map lacks, at most limit + 1 (each new key once); *out4 of them IPv4. */
static int count_new_hosts(const struct bwe_bl *bl, const struct bwe_prefix *add, size_t n,
			   size_t limit, size_t *out, size_t *out4)
{
	struct bwe_amap4 seen4;
	struct bwe_amap seen6;
	size_t i;
	int err = 0;

	bwe_amap4_init(&seen4);
	bwe_amap_init(&seen6);
	*out = *out4 = 0;
	for (i = 0; i < n && *out <= limit && !err; i++) {
		bool v4;
		int len = settable_len(&add[i], &v4);
		__u32 span, k, base;

		if (len < 0 || (v4 && len < BWE_BL_V4_LONG_MIN) || (!v4 && len < BWE_ADDR_BITS))
			continue; /* the table or the trie */
		span = v4 ? 1u << (BWE_V4_BITS - len) : 1;
		base = v4 ? ntohl(bwe_addr_v4(&add[i].addr)) : 0;
		for (k = 0; k < span && *out <= limit && !err; k++) {
			struct bwe_addr h = add[i].addr;
			__u32 v;

			if (v4)
				h.w[3] = htonl(base + k);
			if (host_get(bl, &h, &v) ||
			    (v4 ? !!bwe_amap4_get(&seen4, h.w[3]) : !!bwe_amap_get(&seen6, &h)))
				continue;
			err = v4 ? bwe_amap4_set(&seen4, h.w[3], 1) : bwe_amap_set(&seen6, &h, 1);
			(*out)++;
			*out4 += v4;
		}
	}
	bwe_amap4_free(&seen4);
	bwe_amap_free(&seen6);
	return err;
}

int bwe_bl_room(const struct bwe_bl *bl, const struct bwe_prefix *add, size_t n,
		struct bwe_bl_room *room)
{
	size_t i, upper = 0, upper4 = 0, held = bwe_bl_hosts(bl);
	int err;

	memset(room, 0, sizeof(*room));
	room->hosts_free = bl->host_max > held ? bl->host_max - held : 0;
	room->v6pfx_free = bl->net6_max > bl->n_v6pfx ? bl->net6_max - bl->n_v6pfx : 0;
	for (i = 0; i < n; i++) {
		bool v4;
		int len = settable_len(&add[i], &v4);

		if (len < 0)
			return len;
		if (v4 && len >= BWE_BL_V4_LONG_MIN)
			upper4 += (size_t)1 << (BWE_V4_BITS - len);
		else if (!v4 && len == BWE_ADDR_BITS)
			upper++;
		else if (!v4 && !bwe_amap_get(&bl->net6[add[i].plen], &add[i].addr))
			room->v6pfx++;
	}
	/* Exact count only when the cheap upper bound does not fit. */
	upper += upper4;
	if (upper <= room->hosts_free) {
		room->hosts = upper;
		room->hosts4 = upper4;
	} else {
		err = count_new_hosts(bl, add, n, room->hosts_free, &room->hosts, &room->hosts4);
		if (err)
			return err;
	}
	return room->hosts > room->hosts_free || room->v6pfx > room->v6pfx_free ? -ENOSPC : 0;
}

int bwe_bl_reserve(struct bwe_bl *bl, const struct bwe_bl_room *room)
{
	return bwe_amap4_reserve(&bl->hosts4, bl->hosts4.n + room->hosts4)
		       ?: bwe_amap_reserve(&bl->hosts6,
					   bl->hosts6.n + (room->hosts - room->hosts4));
}

size_t bwe_bl_hosts(const struct bwe_bl *bl)
{
	return bl->hosts4.n + bl->hosts6.n;
}

/*
 * A table being written: its fd, and for IPv4 the dense table's state,
 * mapped for writing.
 */
struct tab_dst {
	enum bwe_bl_fam f;
	int fd;
	struct bwe_bl4 *v4;
};

/* Write n (key, value) pairs to a table (IPv4 one slot each, IPv6 batch updates). -E2BIG: full. */
static int write_updates(const struct tab_dst *d, const __u8 *keys, const struct bwe_bl_val *vals,
			 size_t n)
{
	size_t ks = bwe_dp_bl_key_size(d->f), i;
	int err = 0;

	if (d->v4) {
		for (i = 0; i < n && !err; i++) {
			bwe_bl_key4 a;

			if (i + BWE_BL_AHEAD < n) {
				memcpy(&a, keys + (i + BWE_BL_AHEAD) * ks, sizeof(a));
				bwe_bl4_prefetch(d->v4, a);
			}
			memcpy(&a, keys + i * ks, sizeof(a));
			err = bwe_bl4_put(d->v4, a, vals[i].ref);
		}
		return err;
	}
	for (i = 0; i < n;) {
		__u32 count = (__u32)(n - i);
		LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = BPF_ANY);

		if (bpf_map_update_batch(d->fd, keys + i * ks, &vals[i], &count, &opts))
			return -errno;
		i += count;
	}
	return 0;
}

/* Delete from table d the queued keys of its family that the mirror still lacks. */
static int flush_deletes(struct bwe_bl *bl, const struct tab_dst *d)
{
	struct bwe_bl_pending *q = &bl->tab[d->f].del;
	size_t ks = bwe_dp_bl_key_size(d->f), i, w = 0;

	for (i = 0; i < q->n; i++) {
		struct bwe_addr a;
		__u32 v;

		addr_of(d->f, q->keys + i * ks, &a);
		if (!host_get(bl, &a, &v))
			memmove(q->keys + w++ * ks, q->keys + i * ks, ks);
	}
	for (i = 0; i < w && d->v4; i++) {
		bwe_bl_key4 a;

		memcpy(&a, q->keys + i * ks, sizeof(a));
		bwe_bl4_put(d->v4, a, BWE_REF_NONE); /* a removal cannot fail */
	}
	for (i = 0; i < w && !d->v4;) {
		__u32 count = (__u32)(w - i);
		LIBBPF_OPTS(bpf_map_batch_opts, opts);

		if (bpf_map_delete_batch(d->fd, q->keys + i * ks, &count, &opts)) {
			if (errno != ENOENT) {
				q->n = 0;
				return -errno;
			}
			count++; /* already gone (queued twice): skip it */
		}
		i += count;
	}
	q->n = 0;
	return 0;
}

/* Grow a (key, value) array pair to room for cap entries. */
static int kv_reserve(__u8 **keys, struct bwe_bl_val **vals, size_t cap, size_t ks)
{
	__u8 *k = reallocarray(*keys, cap, ks);
	struct bwe_bl_val *v;

	if (!k)
		return -ENOMEM;
	*keys = k;
	v = reallocarray(*vals, cap, sizeof(*v));
	if (!v)
		return -ENOMEM;
	*vals = v;
	return 0;
}

/* Every (key, value) of family f's table t, read from its mapping (IPv4) or with batch lookups. */
static int table_read(struct bwe_bl_table *t, enum bwe_bl_fam f, __u8 **keys,
		      struct bwe_bl_val **vals, size_t *n)
{
	size_t ks = bwe_dp_bl_key_size(f), cap = 0, pos = 0;
	__u32 in_batch = 0, out_batch = 0;
	bool first = true, done = false;
	int err = 0;

	*keys = NULL;
	*vals = NULL;
	*n = 0;
	if (f == BWE_BL_V4) {
		bwe_bl_key4 a;
		size_t used;
		__u8 ref;

		err = bwe_bl4_map(&t->v4, false);
		if (err)
			return err;
		used = bwe_bl4_used(&t->v4);
		err = kv_reserve(keys, vals, used + 1, ks);
		while (!err && *n <= used && bwe_bl4_next(&t->v4, &pos, &a, &ref)) {
			memcpy(*keys + *n * ks, &a, ks);
			memset(&(*vals)[*n], 0, sizeof(**vals));
			(*vals)[(*n)++].ref = ref;
		}
		return err;
	}
	while (!done && !err) {
		__u32 count = SWEEP_BATCH;
		LIBBPF_OPTS(bpf_map_batch_opts, opts);

		if (*n + SWEEP_BATCH > cap) {
			cap = cap ? cap * 2 : SWEEP_BATCH;
			err = kv_reserve(keys, vals, cap, ks);
			if (err)
				return err;
		}
		if (bpf_map_lookup_batch(t->fd, first ? NULL : &in_batch, &out_batch,
					 *keys + *n * ks, *vals + *n, &count, &opts)) {
			if (errno != ENOENT)
				err = -errno;
			done = true;
		}
		first = false;
		in_batch = out_batch;
		*n += count;
	}
	return err;
}

/* IPv4 key i of a key array (bwe_bl_key4, unaligned), in host byte order. */
static __u32 key4_at(const __u8 *keys, size_t i)
{
	bwe_bl_key4 k;

	memcpy(&k, keys + i * sizeof(k), sizeof(k));
	return ntohl(k);
}

/*
 * The exact-host filter of family f (bwe_abi.h: bwe_bl_h24, one bit per
 * IPv4 /24; bwe_bl_h6, a one-hash Bloom filter of IPv6 hosts), NULL when
 * not mapped, and its size in words.
 */
static __u64 *filter_of(const struct bwe_bl *bl, enum bwe_bl_fam f, size_t *words)
{
	*words = f == BWE_BL_V4 ? BWE_BL_H24_WORDS : BWE_BL_H6_WORDS;
	return f == BWE_BL_V4 ? bl->dp->h24 : bl->dp->h6;
}

/* The filter word and bit of key i of a family f key array (unaligned). */
static __u32 filter_pos(enum bwe_bl_fam f, const __u8 *keys, size_t i, __u64 *bit)
{
	struct bwe_addr a6;
	__u32 a, h;

	if (f == BWE_BL_V4) {
		a = key4_at(keys, i);
		*bit = bwe_bl_h24_bit(a);
		return bwe_bl_h24_word(a);
	}
	memcpy(&a6, keys + i * sizeof(a6), sizeof(a6));
	h = bwe_bl_h6_hash(&a6);
	*bit = bwe_hbits_bit(h);
	return bwe_hbits_word(h, BWE_BL_H6_WORDS);
}

/* Set the filter bits of n family f keys before they are written. */
static void filter_mark(const struct bwe_bl *bl, enum bwe_bl_fam f, const __u8 *keys, size_t n)
{
	size_t words, i;
	__u64 *bits = filter_of(bl, f, &words), bit;
	__u32 w;

	for (i = 0; bits && i < n; i++) {
		w = filter_pos(f, keys, i, &bit);
		bits_add(bits, w, bit);
	}
}

/*
 * Make family f's filter exactly that of the table now in use (after a
 * build swapped it in: the old table's hosts are no packet's business any
 * more). Each word is one aligned store; a word's bits for the table's
 * hosts were set before those hosts were written and stay set.
 */
static int filter_exact(struct bwe_bl *bl, enum bwe_bl_fam f)
{
	struct bwe_bl_table *t = &bl->tab[f];
	size_t words, n, i;
	__u64 *bits = filter_of(bl, f, &words), *want, bit;
	struct bwe_bl_val *vals;
	__u8 *keys;
	int err;

	if (!bits)
		return 0;
	err = table_read(t, f, &keys, &vals, &n);
	if (f == BWE_BL_V4)
		bwe_bl4_unmap(&t->v4);
	want = err ? NULL : calloc(words, sizeof(*want));
	if (!err && !want)
		err = -ENOMEM;
	for (i = 0; !err && i < n; i++)
		want[filter_pos(f, keys, i, &bit)] |= bit;
	if (!err)
		bwe_dp_bits_write(bits, want, words, false);
	free(want);
	free(keys);
	free(vals);
	return err;
}

/*
 * A new table of family f taking size hosts, holding the old table's n
 * entries, the queued updates and not the queued deletions, made the
 * family's current one: its fd (and *v4 for IPv4, unmapped), or -errno
 * (-E2BIG: an IPv4 address found no slot).
 */
static int table_fill(struct bwe_bl *bl, enum bwe_bl_fam f, size_t size, const __u8 *keys,
		      const struct bwe_bl_val *vals, size_t n, struct bwe_bl4 *v4)
{
	struct bwe_bl_table *t = &bl->tab[f];
	struct tab_dst d = { .f = f, .v4 = f == BWE_BL_V4 ? v4 : NULL };
	int err = 0;

	d.fd = bwe_dp_bl_table_new(f, (__u32)create_size(f, size), bl->bl4_seed,
				   f == BWE_BL_V4 ? bwe_bl4_tag_next(t->v4.tag) : 0);
	if (d.fd < 0)
		return d.fd;
	if (d.v4)
		err = bwe_bl4_open(v4, d.fd) ?: bwe_bl4_map(v4, true);
	filter_mark(bl, f, keys, n);
	filter_mark(bl, f, t->upd.keys, t->upd.n);
	err = err ?: write_updates(&d, keys, vals, n);
	err = err ?: write_updates(&d, t->upd.keys, t->upd.vals, t->upd.n);
	err = err ?: flush_deletes(bl, &d);
	if (d.v4)
		bwe_bl4_unmap(v4);
	err = err ?: bwe_dp_bl_table_set(bl->dp, f, d.fd);
	if (err) {
		if (d.v4)
			bwe_bl4_close(v4);
		close(d.fd);
		return err;
	}
	return d.fd;
}

/*
 * Replace family f's table by a new one of bwe_bl_table_size() entries:
 * copy the old table (entries the mirror does not know yet included: a
 * restart before the sweep must not lose them), apply the queued updates
 * and deletions to the copy, and swap it in with one update of the slot.
 * IPv4: an address that finds no slot (a crafted feed, or bad luck) makes
 * the build start again with another seed, and after BWE_BL4_BUILD_SEEDS
 * of them with twice the size; after BWE_BL4_BUILD_TRIES, -E2BIG.
 */
static int table_build(struct bwe_bl *bl, enum bwe_bl_fam f)
{
	struct bwe_bl_table *t = &bl->tab[f];
	struct bwe_bl4 v4 = { .fd = -1 };
	size_t n, size;
	struct bwe_bl_val *vals;
	__u8 *keys;
	int fd, err, try;

	err = table_read(t, f, &keys, &vals, &n);
	if (err)
		goto out;
	size = bwe_bl_table_size(f, n + t->upd.n);
	for (try = 1;; try++) {
		fd = table_fill(bl, f, size, keys, vals, n, &v4);
		if (fd != -E2BIG || f != BWE_BL_V4 || try == BWE_BL4_BUILD_TRIES)
			break;
		if (try % BWE_BL4_BUILD_SEEDS == 0)
			size = bwe_bl4_limit(create_size(f, size) * 2);
		t->reseeds++;
		log_warnx("blocklist: an IPv4 host found no slot in a new table (try %d of %d); "
			  "trying %s",
			  try, BWE_BL4_BUILD_TRIES,
			  try % BWE_BL4_BUILD_SEEDS ? "another seed" : "a table twice the size");
	}
	if (fd < 0) {
		err = fd;
		if (err == -E2BIG)
			log_warnx("blocklist: %zu IPv4 hosts and %zu queued changes could not all be "
				  "placed after %d tables; the table in use is unchanged",
				  n, t->upd.n, BWE_BL4_BUILD_TRIES);
		goto out;
	}
	if (f == BWE_BL_V4)
		bwe_bl4_close(&t->v4);
	close(t->fd); /* the kernel frees it once no packet uses it */
	log_info("blocklist: the %s host table was replaced: %zu -> %zu entries, %zu hosts",
		 f == BWE_BL_V4 ? "IPv4" : "IPv6", t->max, size, t->n);
	t->fd = fd;
	t->max = size;
	if (f == BWE_BL_V4)
		t->v4 = v4;
	if (filter_exact(bl, f)) /* the bits stay a superset: only slower */
		log_warnx("blocklist: cannot recompute the filter bits of the %s host table",
			  f == BWE_BL_V4 ? "IPv4" : "IPv6");
	t->builds++;
out:
	free(keys);
	free(vals);
	return err;
}

/* A million-entry load must not keep a million-entry queue for ever. */
static void pending_trim(struct bwe_bl_pending *q)
{
	if (!q->n && q->cap > PENDING_KEEP)
		pending_free(q);
}

/*
 * Write family f's queue. The table holds at most the mirror's hosts plus
 * those queued for deletion while it is written: a new, bigger table when
 * that may not fit (or when the table says it is full: a restart left
 * entries the mirror does not know, or an IPv4 address found no slot); a
 * new, smaller one when a table a quarter of the size would do (at most
 * about a fifth used). IPv4 writes go through an mmap of the table made for
 * this flush only.
 */
static int table_flush(struct bwe_bl *bl, enum bwe_bl_fam f)
{
	struct bwe_bl_table *t = &bl->tab[f];
	struct tab_dst d = { .f = f, .fd = t->fd, .v4 = f == BWE_BL_V4 ? &t->v4 : NULL };
	int err = 0;

	if (t->n + t->del.n > t->max) {
		err = table_build(bl, f);
	} else if (t->upd.n || t->del.n) {
		if (d.v4)
			err = bwe_bl4_map(d.v4, true);
		filter_mark(bl, f, t->upd.keys, t->upd.n);
		err = err ?: write_updates(&d, t->upd.keys, t->upd.vals, t->upd.n);
		if (err == -E2BIG)
			err = table_build(bl, f);
		else
			err = err ?: flush_deletes(bl, &d);
	}
	if (f == BWE_BL_V4)
		bwe_bl4_unmap(&t->v4);
	/* updates are written or failed; deletions not tried stay queued, as in the mirror */
	t->upd.n = 0;
	pending_trim(&t->upd);
	pending_trim(&t->del);
	if (!err && bwe_bl_table_size(f, t->n) * 4 <= t->max)
		err = table_build(bl, f);
	if (f == BWE_BL_V4)
		bwe_bl4_unmap(&t->v4);
	return err;
}

int bwe_bl_flush(struct bwe_bl *bl)
{
	int err = 0, f;

	for (f = 0; f < BWE_BL_FAMS; f++)
		err = table_flush(bl, f) ?: err;
	return n6_exact(bl) ?: err;
}

/* Queue for deletion every key of family f's table that the mirror lacks. */
static int sweep_table(struct bwe_bl *bl, enum bwe_bl_fam f)
{
	struct bwe_bl_table *t = &bl->tab[f];
	size_t ks = bwe_dp_bl_key_size(f), n, i;
	struct bwe_bl_val *vals;
	__u8 *keys;
	int err = table_read(t, f, &keys, &vals, &n);

	if (f == BWE_BL_V4)
		bwe_bl4_unmap(&t->v4);

	for (i = 0; i < n && !err; i++) {
		struct bwe_addr a;
		__u32 v;

		addr_of(f, keys + i * ks, &a);
		if (!host_get(bl, &a, &v))
			err = pending_add(&t->del, f, &a, 0);
	}
	free(keys);
	free(vals);
	return err;
}

int bwe_bl_sweep(struct bwe_bl *bl)
{
	struct bwe_lpm_key lk, lnext;
	void *prev = NULL;
	__u32 s;
	int err = 0, f;

	/* A slot no prefix owns is cleared; a block a prefix owns is skipped whole. */
	for (s = 0; s < TBL24_SLOTS;) {
		int l = *lane(bl, s) ? t24_owner(bl, s, BWE_BL_V4_MIN_PLEN - 1) : 0;

		if (l) {
			s = ((s >> (24 - l)) + 1) << (24 - l);
			continue;
		}
		*lane(bl, s++) = 0;
	}

	/* Freshly created maps hold nothing the mirror does not know. */
	if (!bl->dp->reused)
		return 0;
	/* Hosts: batch reads, a million keys in a few hundred syscalls. */
	for (f = 0; f < BWE_BL_FAMS && !err; f++)
		err = sweep_table(bl, f);
	err = err ?: bwe_bl_flush(bl);
	if (err)
		return err;

	prev = NULL;
	while (!bpf_map_get_next_key(bl->net6_fd, prev, &lnext)) {
		lk = lnext;
		prev = &lk;
		if (lk.prefixlen > BWE_ADDR_BITS ||
		    !bwe_amap_get(&bl->net6[lk.prefixlen], &lk.addr)) {
			if (bpf_map_delete_elem(bl->net6_fd, &lk) && errno != ENOENT)
				return -errno;
			prev = NULL; /* restart: the deleted key cannot be a cursor */
		}
	}
	/* the trie holds what the mirror holds: the filter becomes exact */
	bl->n6_unswept = false;
	bl->n6_stale = true;
	return n6_exact(bl);
}

__u8 bwe_bl_kernel_ref(const struct bwe_bl *bl, const struct bwe_addr *a)
{
	struct bwe_bl_val v;
	__u8 ref = 0, pref = 0;

	if (bwe_addr_is_v4(a)) {
		if (bwe_bl4_lookup_fd(bl->tab[BWE_BL_V4].fd, a->w[3], &ref))
			ref = BWE_REF_NONE;
	} else if (!bpf_map_lookup_elem(bl->tab[BWE_BL_V6].fd, a, &v)) {
		ref = v.ref;
	}
	if (bwe_addr_is_v4(a)) {
		pref = *lane(bl, ntohl(bwe_addr_v4(a)) >> 8);
	} else {
		struct bwe_lpm_key key = { .prefixlen = BWE_ADDR_BITS, .addr = *a };

		if (!bpf_map_lookup_elem(bl->net6_fd, &key, &v))
			pref = v.ref;
	}
	return bwe_ref_merge(ref, pref);
}
