// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* netclass.c - see netclass.h. */
#include <errno.h>
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "bwe_rules.h"
#include "hslots.h"
#include "log.h"
#include "netclass.h"

#define NCSET_MIN_CAP 16
#define NC16_BITS     16 /* leading IPv4 bits that index bwe_nc16 */
#define NC4_PLEN24    24 /* bwe_nc4: prefixes up to /24 set their /24s' bits */

void bwe_ncset_init(struct bwe_ncset *s)
{
	memset(s, 0, sizeof(*s));
}

void bwe_ncset_free(struct bwe_ncset *s)
{
	free(s->v);
	bwe_ncset_init(s);
}

int bwe_ncset_add(struct bwe_ncset *s, const struct bwe_prefix *p, __u32 flags)
{
	struct bwe_nc_entry *e;

	if (p->plen > BWE_ADDR_BITS)
		return -EINVAL;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : NCSET_MIN_CAP;

		e = reallocarray(s->v, cap, sizeof(*e));
		if (!e)
			return -ENOMEM;
		s->v = e;
		s->cap = cap;
	}
	e = &s->v[s->n++];
	memset(e, 0, sizeof(*e));
	e->pfx = *p;
	bwe_prefix_mask(&e->pfx);
	e->flags = flags;
	return 0;
}

static int nc_cmp(const void *a, const void *b)
{
	const struct bwe_nc_entry *x = a, *y = b;
	int c = memcmp(&x->pfx.addr, &y->pfx.addr, sizeof(x->pfx.addr));

	if (c)
		return c;
	return (int)x->pfx.plen - (int)y->pfx.plen;
}

int bwe_ncset_closure(struct bwe_ncset *s)
{
	size_t *stack, top = 0, i, w = 0;

	if (!s->n)
		return 0;
	qsort(s->v, s->n, sizeof(*s->v), nc_cmp);
	/* Merge equal prefixes. */
	for (i = 0; i < s->n; i++) {
		if (w && !nc_cmp(&s->v[w - 1], &s->v[i]))
			s->v[w - 1].flags |= s->v[i].flags;
		else
			s->v[w++] = s->v[i];
	}
	s->n = w;

	stack = calloc(s->n, sizeof(*stack));
	if (!stack)
		return -ENOMEM;
	for (i = 0; i < s->n; i++) {
		while (top && !bwe_prefix_covers(&s->v[stack[top - 1]].pfx, &s->v[i].pfx))
			top--;
		if (top)
			s->v[i].flags |= s->v[stack[top - 1]].flags;
		stack[top++] = i;
	}
	free(stack);
	return 0;
}

__u32 bwe_ncset_lookup(const struct bwe_ncset *s, const struct bwe_addr *a)
{
	const struct bwe_nc_entry *best = NULL;
	size_t i;

	for (i = 0; i < s->n; i++)
		if (bwe_prefix_contains(&s->v[i].pfx, a) &&
		    (!best || s->v[i].pfx.plen > best->pfx.plen))
			best = &s->v[i];
	return best ? best->flags : 0;
}

void bwe_ncset_nc16(const struct bwe_ncset *s, struct bwe_nc16_val *t)
{
	struct bwe_prefix v4space = { .plen = BWE_V4_MAPPED_PLEN };
	__u32 first, n, j;
	size_t i;

	memset(t, 0, BWE_NC16_ENTRIES * sizeof(*t));
	bwe_addr_from_v4(0, &v4space.addr);
	/* The class of each /16: paint every prefix that covers whole /16s;
	 * in the set's order a covering prefix comes before what it covers, so
	 * the longest one is painted last. */
	for (i = 0; i < s->n; i++) {
		const struct bwe_nc_entry *e = &s->v[i];
		int len = bwe_prefix_family_len(&e->pfx);

		if (e->pfx.plen <= BWE_V4_MAPPED_PLEN) { /* IPv6 prefix: all of IPv4 or none */
			if (!bwe_prefix_covers(&e->pfx, &v4space))
				continue;
			first = 0;
			n = BWE_NC16_ENTRIES;
		} else if (bwe_addr_is_v4(&e->pfx.addr) && len <= NC16_BITS) {
			first = bwe_nc16_index(&e->pfx.addr);
			n = 1u << (NC16_BITS - len);
		} else {
			continue;
		}
		for (j = 0; j < n; j++)
			t[first + j].flags = e->flags;
	}
	/* A longer prefix inside a /16 with other flags: the trie decides there,
	 * after the host record's cache where some address inside is internal. */
	for (i = 0; i < s->n; i++) {
		const struct bwe_nc_entry *e = &s->v[i];
		struct bwe_nc16_val *x;

		if (e->pfx.plen <= BWE_V4_MAPPED_PLEN + NC16_BITS || !bwe_addr_is_v4(&e->pfx.addr))
			continue;
		x = &t[bwe_nc16_index(&e->pfx.addr)];
		if ((x->flags & ~(BWE_NC16_MIXED | BWE_NC16_HOSTS)) != e->flags)
			x->flags |= BWE_NC16_MIXED;
		if (e->flags & BWE_NC_INTERNAL)
			x->flags |= BWE_NC16_HOSTS;
	}
	for (j = 0; j < BWE_NC16_ENTRIES; j++) {
		if (!(t[j].flags & BWE_NC16_MIXED))
			t[j].flags &= ~BWE_NC16_HOSTS;
		else if (t[j].flags & BWE_NC_INTERNAL)
			t[j].flags |= BWE_NC16_HOSTS;
	}
}

void bwe_ncset_nc6(const struct bwe_ncset *s, __u64 *t)
{
	struct bwe_addr a;
	__u32 n, j, base, h;
	size_t i;

	memset(t, 0, BWE_NC6_WORDS * sizeof(*t));
	for (i = 0; i < s->n; i++) {
		const struct bwe_nc_entry *e = &s->v[i];

		if (bwe_addr_is_v4(&e->pfx.addr) && e->pfx.plen > BWE_V4_MAPPED_PLEN)
			continue;		  /* an IPv4 prefix: bwe_nc16 */
		if (e->pfx.plen < BWE_NC6_SPAN) { /* too broad to list: every address asks */
			memset(t, 0xff, BWE_NC6_WORDS * sizeof(*t));
			return;
		}
		a = e->pfx.addr; /* host bits clear (bwe_ncset_add()) */
		n = e->pfx.plen >= BWE_NC6_PLEN ? 1 : 1u << (BWE_NC6_PLEN - e->pfx.plen);
		base = (__u32)a.a[4] << 8 | a.a[5];
		for (j = 0; j < n; j++) {
			a.a[4] = (__u8)((base + j) >> 8);
			a.a[5] = (__u8)(base + j);
			h = bwe_nc6_hash(&a);
			t[bwe_hbits_word(h, BWE_NC6_WORDS)] |= bwe_hbits_bit(h);
		}
	}
}

void bwe_ncset_nc4(const struct bwe_ncset *s, __u64 *t)
{
	__u32 v4, n, j, plen, h;
	size_t i;
	int len;

	memset(t, 0, BWE_NC4_WORDS * sizeof(*t));
	for (i = 0; i < s->n; i++) {
		const struct bwe_nc_entry *e = &s->v[i];

		len = bwe_prefix_family_len(&e->pfx);
		if (!bwe_addr_is_v4(&e->pfx.addr) || e->pfx.plen <= BWE_V4_MAPPED_PLEN ||
		    len <= NC16_BITS)
			continue;		       /* IPv6, or covers whole /16s: bwe_nc16 */
		v4 = ntohl(bwe_addr_v4(&e->pfx.addr)); /* host bits clear (bwe_ncset_add()) */
		if (len <= NC4_PLEN24) {	       /* each /24 inside */
			plen = NC4_PLEN24;
			n = 1u << (NC4_PLEN24 - len);
		} else { /* each address inside */
			plen = 32;
			n = 1u << (32 - len);
		}
		for (j = 0; j < n; j++) {
			h = bwe_nc4_hash(v4 + (j << (32 - plen)), plen);
			t[bwe_hbits_word(h, BWE_NC4_WORDS)] |= bwe_hbits_bit(h);
		}
	}
}

static int range_cmp(const void *a, const void *b)
{
	const struct bwe_range24 *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/*
 * The internal IPv4 /24s of the closed set s (any internal address in
 * them) as sorted, disjoint runs in *out (*n of them; free() it). 0 or
 * -ENOMEM.
 */
int bwe_ncset_internal24(const struct bwe_ncset *s, struct bwe_range24 **out, size_t *n)
{
	struct bwe_prefix v4space = { .plen = BWE_V4_MAPPED_PLEN };
	struct bwe_range24 *r = calloc(s->n + 1, sizeof(*r));
	size_t i, k = 0;

	*out = r;
	*n = 0;
	if (!r)
		return -ENOMEM;
	bwe_addr_from_v4(0, &v4space.addr);
	for (i = 0; i < s->n; i++) {
		const struct bwe_nc_entry *e = &s->v[i];
		int len = bwe_prefix_family_len(&e->pfx);
		__u32 lo;

		if (!(e->flags & BWE_NC_INTERNAL))
			continue;
		if (e->pfx.plen <= BWE_V4_MAPPED_PLEN) { /* IPv6 prefix: all of IPv4 or none */
			if (!bwe_prefix_covers(&e->pfx, &v4space))
				continue;
			r[k++] = (struct bwe_range24){ 0, 0xffffff };
			continue;
		}
		if (!bwe_addr_is_v4(&e->pfx.addr))
			continue;
		lo = ntohl(bwe_addr_v4(&e->pfx.addr)) >> 8;
		r[k++] = (struct bwe_range24){ lo, len < 24 ? lo + (1u << (24 - len)) - 1 : lo };
	}
	qsort(r, k, sizeof(*r), range_cmp);
	for (i = 0; i < k; i++) { /* merge: runs that overlap or touch */
		if (*n && r[i].lo <= r[*n - 1].hi + 1) {
			if (r[i].hi > r[*n - 1].hi)
				r[*n - 1].hi = r[i].hi;
		} else {
			r[(*n)++] = r[i];
		}
	}
	return 0;
}

__u32 bwe_hslots_wanted(const struct bwe_prefix *internal, size_t n)
{
	struct bwe_range24 *r = NULL;
	struct bwe_ncset s;
	__u64 want = 0;
	size_t i, nr = 0;
	int err = 0;

	bwe_ncset_init(&s);
	for (i = 0; i < n && !err; i++)
		err = bwe_ncset_add(&s, &internal[i], BWE_NC_INTERNAL);
	err = err ?: bwe_ncset_internal24(&s, &r, &nr);
	for (i = 0; i < nr && !err; i++)
		want += ((__u64)r[i].hi - r[i].lo + 1) * BWE_HSLOT_BLOCK;
	free(r);
	bwe_ncset_free(&s);
	return want > UINT32_MAX ? UINT32_MAX : (__u32)want;
}

static void nc_key(struct bwe_lpm_key *k, const struct bwe_prefix *p)
{
	memset(k, 0, sizeof(*k));
	k->prefixlen = p->plen;
	k->addr = p->addr;
}

/* Delete the trie's prefixes that the closed set s no longer holds. */
static int delete_stale(int fd, const struct bwe_ncset *s)
{
	struct bwe_lpm_key key, next, *stale = NULL;
	size_t nstale = 0, cap = 0, i;
	int err;

	/* Collect keys that are no longer wanted, then delete them. */
	err = bpf_map_get_next_key(fd, NULL, &next);
	while (!err) {
		struct bwe_prefix p = { .addr = next.addr, .plen = (__u8)next.prefixlen };
		bool keep = false;

		for (i = 0; i < s->n && !keep; i++)
			keep = s->v[i].pfx.plen == p.plen &&
			       !memcmp(&s->v[i].pfx.addr, &p.addr, sizeof(p.addr));
		if (!keep) {
			if (nstale == cap) {
				struct bwe_lpm_key *t;

				cap = cap ? cap * 2 : NCSET_MIN_CAP;
				t = reallocarray(stale, cap, sizeof(*t));
				if (!t) {
					free(stale);
					return -ENOMEM;
				}
				stale = t;
			}
			stale[nstale++] = next;
		}
		key = next;
		err = bpf_map_get_next_key(fd, &key, &next);
	}
	err = errno == ENOENT ? 0 : -errno;
	for (i = 0; i < nstale && !err; i++)
		if (bpf_map_delete_elem(fd, &stale[i]) && errno != ENOENT)
			err = -errno;
	free(stale);
	return err;
}

int bwe_dp_netclass_apply(const struct bwe_dp *dp, struct bwe_ncset *s)
{
	int fd = bwe_dp_map_fd(dp, BWE_MAP_NETCLASS);
	struct bwe_nc16_val *t16;
	struct bwe_lpm_key key;
	__u64 *t6, *t4;
	int err, gerr;
	size_t i;

	err = bwe_ncset_closure(s);
	if (err)
		return err;
	t16 = calloc(BWE_NC16_ENTRIES, sizeof(*t16));
	t6 = calloc(BWE_NC6_WORDS, sizeof(*t6));
	t4 = calloc(BWE_NC4_WORDS, sizeof(*t4));
	if (!t16 || !t6 || !t4) {
		free(t16);
		free(t6);
		free(t4);
		return -ENOMEM;
	}
	bwe_ncset_nc16(s, t16);
	bwe_ncset_nc6(s, t6);
	bwe_ncset_nc4(s, t4);
	/* Host slots for the internal /24s, each row's entries written before
	 * the /16 names the row below. A failure costs accounting speed only
	 * (those hosts keep bwe_hosts records), never a class: said, not fatal. */
	if (dp->hsl) {
		struct bwe_range24 *want;
		size_t nwant;
		int herr = bwe_ncset_internal24(s, &want, &nwant);

		herr = herr ?: bwe_hslots_assign(dp->hsl, want, nwant, t16);
		if (herr)
			log_warnx("host slots: %s: the hosts without one are counted in bwe_hosts",
				  strerror(-herr));
		free(want);
	}
	/* Order (no window where a new restriction is missed once this returns):
	 * the IPv6 /48 bits and the IPv4 /24 and address bits gain the new
	 * prefixes' (so the trie is asked for them before they are in it), the
	 * trie gains the new prefixes, then the /16 table changes (a /16 that
	 * turns MIXED finds them there, and its bits set), then stale prefixes
	 * go and only then their bits (kept if some could not go), and last
	 * the generation moves, so classes cached before are asked again. */
	bwe_dp_bits_write(dp->nc6, t6, BWE_NC6_WORDS, true);
	bwe_dp_bits_write(dp->nc4, t4, BWE_NC4_WORDS, true);
	for (i = 0; i < s->n && !err; i++) {
		struct bwe_netclass v = { .flags = s->v[i].flags };

		nc_key(&key, &s->v[i].pfx);
		if (bpf_map_update_elem(fd, &key, &v, BPF_ANY))
			err = -errno;
	}
	if (!err)
		bwe_dp_nc16_write(dp, t16);
	free(t16);
	err = err ?: delete_stale(fd, s);
	if (!err) {
		bwe_dp_bits_write(dp->nc6, t6, BWE_NC6_WORDS, false);
		bwe_dp_bits_write(dp->nc4, t4, BWE_NC4_WORDS, false);
	}
	free(t6);
	free(t4);
	gerr = bwe_dp_nc_gen_bump(dp); /* whatever was written: caches go stale */
	return err ?: gerr;
}
