// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * csdecisions.c - the CrowdSec decisions bwctld holds as a bouncer
 * (crowdsec.h): a vector sorted by decision id, changed one pull at a time
 * by a merge (a startup pull of 100,000 decisions is one sort, not 100,000
 * insertions), and its view by prefix for the blocklist.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crowdsec.h"

/* ---- filters ---------------------------------------------------------------- */

static bool any_is(char *const *v, size_t n, const char *s, bool nocase)
{
	for (size_t i = 0; i < n; i++)
		if (nocase ? !strcasecmp(v[i], s) : !strcmp(v[i], s))
			return true;
	return false;
}

static bool any_within(char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcasestr(s, v[i]))
			return true;
	return false;
}

bool bwe_cs_filter_match(const struct bwe_cs_filter *f, const struct bwe_cs_decision *d)
{
	if (!f)
		return true;
	if (f->n_scopes && !any_is(f->scopes, f->n_scopes, bwe_cs_scope_name(d->scope), true))
		return false;
	if (f->n_origins && !any_is(f->origins, f->n_origins, d->origin ? d->origin : "", false))
		return false;
	if (f->n_scenarios_containing &&
	    !any_within(f->scenarios_containing, f->n_scenarios_containing,
			d->scenario ? d->scenario : ""))
		return false;
	if (f->n_scenarios_not_containing &&
	    any_within(f->scenarios_not_containing, f->n_scenarios_not_containing,
		       d->scenario ? d->scenario : ""))
		return false;
	return true;
}

/* ---- the set ------------------------------------------------------------------ */

static void entry_free(struct bwe_cs_entry *e)
{
	free(e->origin);
	free(e->scenario);
}

void bwe_cs_set_free(struct bwe_cs_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		entry_free(&s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}

/* A change of one pull: the decision, and its position in the pull. */
struct change {
	const struct bwe_cs_decision *d;
	size_t pos;
};

static int change_cmp(const void *a, const void *b)
{
	const struct change *x = a, *y = b;

	if (x->d->id != y->d->id)
		return x->d->id < y->d->id ? -1 : 1;
	return (x->pos > y->pos) - (x->pos < y->pos); /* the later one wins */
}

static int entry_make(struct bwe_cs_entry *e, const struct bwe_cs_decision *d, __s64 now)
{
	e->id = d->id;
	e->pfx = d->pfx;
	e->scope = d->scope;
	e->expires = now + d->duration_s;
	e->origin = strdup(d->origin ? d->origin : "");
	e->scenario = strdup(d->scenario ? d->scenario : "");
	if (!e->origin || !e->scenario) {
		entry_free(e);
		return -ENOMEM;
	}
	return 0;
}

static int pfx_cmp(const void *a, const void *b)
{
	return bwe_prefix_cmp(a, b);
}

/* Does a deletion leave its prefix held (LAPI 1.4 names one decision of a value)? */
static int deletions_left_held(const struct bwe_cs_entry *v, size_t n, const struct change *c,
			       size_t nc, bool *resync)
{
	struct bwe_prefix *p;
	size_t i;

	*resync = false;
	for (i = 0; i < nc && c[i].d->op != BWE_CS_DELETED; i++)
		;
	if (i == nc || !n)
		return 0;
	p = calloc(n, sizeof(*p));
	if (!p)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		p[i] = v[i].pfx;
	qsort(p, n, sizeof(*p), pfx_cmp);
	for (i = 0; i < nc && !*resync; i++)
		if (c[i].d->op == BWE_CS_DELETED &&
		    bsearch(&c[i].d->pfx, p, n, sizeof(*p), pfx_cmp))
			*resync = true;
	free(p);
	return 0;
}

int bwe_cs_set_apply(struct bwe_cs_set *s, const struct bwe_cs_decision *d, size_t n, bool startup,
		     __s64 now, const struct bwe_cs_filter *f, struct bwe_cs_apply_stats *st)
{
	size_t max = s->max ? s->max : BWE_CS_SET_MAX_DEF, nc = 0, i, j, k, out_n = 0;
	struct bwe_cs_apply_stats local;
	struct bwe_cs_entry *out = NULL;
	struct change *c = NULL;
	bool *fresh = NULL, *moved = NULL;
	int err = 0;

	if (!st)
		st = &local;
	memset(st, 0, sizeof(*st));
	c = calloc(n + 1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	/* the changes that count: filtered and already ended new ones go */
	for (i = 0; i < n; i++) {
		if (d[i].op == BWE_CS_NEW && !bwe_cs_filter_match(f, &d[i])) {
			st->filtered++;
			continue;
		}
		if (d[i].op == BWE_CS_NEW && d[i].duration_s <= 0) {
			st->expired++;
			continue;
		}
		if (d[i].op == BWE_CS_DELETED && startup)
			continue; /* a startup pull is the whole truth in "new" */
		c[nc].d = &d[i];
		c[nc].pos = i;
		nc++;
	}
	qsort(c, nc, sizeof(*c), change_cmp);
	for (i = 0, k = 0; i < nc; i++) { /* repeats of an id: the last one wins */
		if (k && c[k - 1].d->id == c[i].d->id)
			c[k - 1] = c[i];
		else
			c[k++] = c[i];
	}
	nc = k;
	out = calloc(s->n + nc + 1, sizeof(*out));
	fresh = calloc(s->n + nc + 1, sizeof(*fresh));
	moved = calloc(s->n + 1, sizeof(*moved));
	if (!out || !fresh || !moved) {
		err = -ENOMEM;
		goto out;
	}
	/* merge by id */
	for (i = 0, j = 0; !err && (i < s->n || j < nc);) {
		bool old = i < s->n && (j == nc || s->v[i].id <= c[j].d->id);
		bool chg = j < nc && (i == s->n || c[j].d->id <= s->v[i].id);

		if (old && !chg) { /* no news of it */
			if (startup) {
				st->removed++;
			} else if (out_n >= max) {
				err = -E2BIG;
			} else {
				out[out_n++] = s->v[i];
				moved[i] = true;
			}
		} else if (c[j].d->op == BWE_CS_DELETED) {
			st->removed += old;
		} else if (out_n >= max) {
			err = -E2BIG;
		} else if (!(err = entry_make(&out[out_n], c[j].d, now))) {
			fresh[out_n++] = true;
			if (old)
				st->replaced++;
			else
				st->added++;
		}
		i += old;
		j += chg;
	}
	if (!err)
		err = deletions_left_held(out, out_n, c, nc, &st->resync);
out:
	if (err) {
		for (k = 0; k < out_n; k++)
			if (fresh[k])
				entry_free(&out[k]);
		free(out);
		memset(st, 0, sizeof(*st));
	} else {
		for (i = 0; i < s->n; i++)
			if (!moved[i])
				entry_free(&s->v[i]);
		free(s->v);
		s->v = out;
		s->n = out_n;
		s->cap = out_n;
	}
	free(fresh);
	free(moved);
	free(c);
	return err;
}

size_t bwe_cs_set_expire(struct bwe_cs_set *s, __s64 now)
{
	size_t i, w = 0, gone;

	for (i = 0; i < s->n; i++) {
		if (s->v[i].expires <= now)
			entry_free(&s->v[i]);
		else
			s->v[w++] = s->v[i];
	}
	gone = s->n - w;
	s->n = w;
	return gone;
}

__s64 bwe_cs_set_next_expiry(const struct bwe_cs_set *s)
{
	__s64 t = 0;

	for (size_t i = 0; i < s->n; i++)
		if (!t || s->v[i].expires < t)
			t = s->v[i].expires;
	return t;
}

/* By prefix; then the decision ending last, then the lowest id, first. */
static int view_cmp(const void *a, const void *b)
{
	const struct bwe_cs_entry *x = *(const struct bwe_cs_entry *const *)a;
	const struct bwe_cs_entry *y = *(const struct bwe_cs_entry *const *)b;
	int c = bwe_prefix_cmp(&x->pfx, &y->pfx);

	if (c)
		return c;
	if (x->expires != y->expires)
		return x->expires > y->expires ? -1 : 1;
	return (x->id > y->id) - (x->id < y->id);
}

int bwe_cs_set_view(const struct bwe_cs_set *s, __s64 now, struct bwe_cs_view **out, size_t *n)
{
	const struct bwe_cs_entry **p;
	struct bwe_cs_view *v;
	size_t i, np = 0, nv = 0;

	*out = NULL;
	*n = 0;
	p = calloc(s->n + 1, sizeof(*p));
	v = calloc(s->n + 1, sizeof(*v));
	if (!p || !v) {
		free(p);
		free(v);
		return -ENOMEM;
	}
	for (i = 0; i < s->n; i++)
		if (s->v[i].expires > now)
			p[np++] = &s->v[i];
	qsort(p, np, sizeof(*p), view_cmp);
	for (i = 0; i < np; i++) {
		if (nv && !bwe_prefix_cmp(&v[nv - 1].pfx, &p[i]->pfx)) {
			v[nv - 1].count++;
			continue;
		}
		v[nv].pfx = p[i]->pfx;
		v[nv].expires = p[i]->expires;
		v[nv].first = p[i];
		v[nv].count = 1;
		nv++;
	}
	free(p);
	*out = v;
	*n = nv;
	return 0;
}
