// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* netclass.c - see netclass.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "netclass.h"

#define NCSET_MIN_CAP 16

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

static void nc_key(struct bwe_lpm_key *k, const struct bwe_prefix *p)
{
	memset(k, 0, sizeof(*k));
	k->prefixlen = p->plen;
	k->addr = p->addr;
}

int bwe_dp_netclass_apply(const struct bwe_dp *dp, struct bwe_ncset *s)
{
	int fd = bwe_dp_map_fd(dp, BWE_MAP_NETCLASS);
	struct bwe_lpm_key key, next, *stale = NULL;
	size_t nstale = 0, cap = 0, i;
	int err;

	err = bwe_ncset_closure(s);
	if (err)
		return err;
	for (i = 0; i < s->n; i++) {
		struct bwe_netclass v = { .flags = s->v[i].flags };

		nc_key(&key, &s->v[i].pfx);
		if (bpf_map_update_elem(fd, &key, &v, BPF_ANY))
			return -errno;
	}
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
