// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * taxiiset.c - the indicator set of a TAXII collection, kept by bwctld
 * between polls (contract in taxii.h): one entry per STIX id, the latest
 * "modified" wins, revoked versions stay as tombstones.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "taxii.h"

static void ent_free(struct bwe_taxii_ent *e)
{
	free(e->id);
	free(e->pfx);
	for (size_t i = 0; i < e->n_domains; i++)
		free(e->domains[i]);
	free(e->domains);
	memset(e, 0, sizeof(*e));
}

void bwe_taxii_set_free(struct bwe_taxii_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		ent_free(&s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}

/* Index of id, or where it would go (*found false). */
static size_t find(const struct bwe_taxii_ent *v, size_t n, const char *id, bool *found)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(v[mid].id, id);

		if (!c) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

const struct bwe_taxii_ent *bwe_taxii_set_find(const struct bwe_taxii_set *s, const char *id)
{
	bool found;
	size_t i = find(s->v, s->n, id, &found);

	return found ? &s->v[i] : NULL;
}

bool bwe_taxii_ent_live(const struct bwe_taxii_ent *e, __s64 now)
{
	return !e->revoked && (e->n_pfx || e->n_domains) &&
	       (!e->valid_from || e->valid_from <= now) &&
	       (!e->valid_until || e->valid_until > now);
}

size_t bwe_taxii_set_live(const struct bwe_taxii_set *s, __s64 now)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		n += bwe_taxii_ent_live(&s->v[i], now);
	return n;
}

/* One object's version (values v[0..n), same id) as a fresh entry. */
static int ent_make(const struct bwe_taxii_val *v, size_t n, struct bwe_taxii_ent *e)
{
	size_t np = 0, nd = 0;

	memset(e, 0, sizeof(*e));
	e->id = strdup(v[0].id);
	e->modified = v[0].modified;
	e->valid_from = v[0].valid_from;
	e->valid_until = v[0].valid_until;
	for (size_t i = 0; i < n; i++) {
		e->revoked |= v[i].revoked;
		np += v[i].kind == BWE_TAXII_PREFIX;
		nd += v[i].kind == BWE_TAXII_DOMAIN;
	}
	if (e->revoked)
		np = nd = 0;
	e->pfx = np ? calloc(np, sizeof(*e->pfx)) : NULL;
	e->domains = nd ? calloc(nd, sizeof(*e->domains)) : NULL;
	if (!e->id || (np && !e->pfx) || (nd && !e->domains))
		goto nomem;
	for (size_t i = 0; i < n && !e->revoked; i++) {
		if (v[i].kind == BWE_TAXII_PREFIX) {
			e->pfx[e->n_pfx++] = v[i].pfx;
		} else if (v[i].kind == BWE_TAXII_DOMAIN) {
			e->domains[e->n_domains] = strdup(v[i].domain);
			if (!e->domains[e->n_domains])
				goto nomem;
			e->n_domains++;
		}
	}
	return 0;
nomem:
	ent_free(e);
	return -ENOMEM;
}

static int grow(struct bwe_taxii_ent **v, size_t *cap, size_t need)
{
	struct bwe_taxii_ent *nv;
	size_t c = *cap ? *cap : 64;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	nv = realloc(*v, c * sizeof(**v));
	if (!nv)
		return -ENOMEM;
	*v = nv;
	*cap = c;
	return 0;
}

/*
 * The poll is applied to a copy of the entry list first (the entries
 * themselves are shared): a failure half way leaves the set as it was. At
 * the end, old and fresh entries no longer in the list are freed.
 */
int bwe_taxii_set_apply(struct bwe_taxii_set *s, const struct bwe_taxii_val *v, size_t n,
			struct bwe_taxii_apply_stats *st)
{
	struct bwe_taxii_apply_stats lst = { 0 };
	struct bwe_taxii_ent *nv = NULL, *fresh = NULL;
	size_t nn = 0, cap = 0, nfresh = 0, capf = 0, max = s->max ? s->max : BWE_TAXII_SET_MAX_DEF;
	size_t i, k;
	int err = 0;

	if (!st)
		st = &lst;
	memset(st, 0, sizeof(*st));
	if (grow(&nv, &cap, s->n + 1))
		return -ENOMEM;
	if (s->n)
		memcpy(nv, s->v, s->n * sizeof(*nv));
	nn = s->n;
	for (i = 0; i < n && !err; i = k) {
		struct bwe_taxii_ent e;
		size_t at;
		bool found;

		for (k = i + 1; k < n && !strcmp(v[k].id, v[i].id) &&
				!bwe_taxii_time_cmp(&v[k].modified, &v[i].modified);
		     k++)
			;
		at = find(nv, nn, v[i].id, &found);
		if (found && bwe_taxii_time_cmp(&v[i].modified, &nv[at].modified) <= 0) {
			st->stale++;
			continue;
		}
		err = ent_make(&v[i], k - i, &e);
		if (err)
			break;
		if (!found && nn + 1 > max) {
			ent_free(&e);
			err = -E2BIG;
			break;
		}
		err = grow(&fresh, &capf, nfresh + 1);
		if (!err)
			err = grow(&nv, &cap, nn + 1);
		if (err) {
			ent_free(&e);
			break;
		}
		fresh[nfresh++] = e; /* owned here until the end */
		if (found) {
			nv[at] = e; /* the one it replaces is freed at the commit */
			st->replaced++;
			st->revoked += e.revoked || (!e.n_pfx && !e.n_domains);
		} else {
			memmove(&nv[at + 1], &nv[at], (nn - at) * sizeof(*nv));
			nv[at] = e;
			nn++;
			st->added++;
		}
	}
	if (err) {
		for (i = 0; i < nfresh; i++)
			ent_free(&fresh[i]);
		free(fresh);
		free(nv);
		return err;
	}
	/* commit: free the old entries no longer referenced, and the fresh ones replaced */
	for (i = 0; i < s->n; i++) {
		bool kept;
		size_t at = find(nv, nn, s->v[i].id, &kept);

		if (!(kept && nv[at].id == s->v[i].id))
			ent_free(&s->v[i]);
	}
	for (i = 0; i < nfresh; i++) {
		bool kept;
		size_t at = find(nv, nn, fresh[i].id, &kept);

		if (!(kept && nv[at].id == fresh[i].id))
			ent_free(&fresh[i]);
	}
	free(fresh);
	free(s->v);
	s->v = nv;
	s->n = nn;
	s->cap = cap;
	return 0;
}

size_t bwe_taxii_set_expire(struct bwe_taxii_set *s, __s64 now)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++) {
		struct bwe_taxii_ent *e = &s->v[i];

		if (e->valid_until && e->valid_until <= now && (e->n_pfx || e->n_domains)) {
			/* keep the id and its version: an older copy stays refused */
			free(e->pfx);
			for (size_t d = 0; d < e->n_domains; d++)
				free(e->domains[d]);
			free(e->domains);
			e->pfx = NULL;
			e->domains = NULL;
			e->n_pfx = e->n_domains = 0;
			n++;
		}
	}
	return n;
}

__s64 bwe_taxii_set_next_change(const struct bwe_taxii_set *s, __s64 now)
{
	__s64 t = 0;

	for (size_t i = 0; i < s->n; i++) {
		const struct bwe_taxii_ent *e = &s->v[i];

		if (e->revoked || (!e->n_pfx && !e->n_domains))
			continue;
		if (e->valid_from > now && (!t || e->valid_from < t))
			t = e->valid_from;
		if (e->valid_until > now && (!t || e->valid_until < t))
			t = e->valid_until;
	}
	return t;
}
