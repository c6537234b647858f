// SPDX-License-Identifier: GPL-2.0-only
/* feedstore.c - feed entries and provenance; contract in feedstore.h. */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "blocklist.h"
#include "bwe_abi.h"
#include "feedstore.h"
#include "pfxsort.h"
#include "prefault.h"

#define VEC_MIN_CAP    1024			   /* entries */
#define XTRA_MIN_CAP   64			   /* rare-field records */
#define STR_MIN_CAP    4096			   /* bytes */
#define XTRA_MAX       (UINT32_MAX - FS_SEEN_XTRA) /* rare-field records a vector holds */
#define MERGE_PREFETCH 16   /* entries ahead whose line mapping is fetched early */
#define MERGE_SLACK    2048 /* unused entries a merged vector may keep (56 KiB) */

struct fs_feed {
	char *name, *source;
	bool monitor;
	struct fs_vec ents;
	__u64 hits;
};

struct fstore {
	struct fs_feed *f[BWE_FEED_MAX + 1]; /* by feed id */
	unsigned int top; /* no feed above this id: what a walk over the feeds stops at */
};

/* ---- vectors ---------------------------------------------------------- */

/* Room for one more entry. */
static int vec_room(struct fs_vec *v)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : VEC_MIN_CAP;
		struct fs_ent *n = reallocarray(v->v, cap, sizeof(*n));

		if (!n)
			return -ENOMEM;
		v->v = n;
		v->cap = cap;
	}
	return 0;
}

/* Offset of a copy of s in v's string table; FS_NO_IND for NULL or no memory. */
static __u32 vec_str(struct fs_vec *v, const char *s)
{
	size_t len;

	if (!s)
		return FS_NO_IND;
	len = strlen(s) + 1;
	if (v->slen + len > v->scap) {
		size_t cap = v->scap ? v->scap * 2 : STR_MIN_CAP;
		char *n;

		while (cap < v->slen + len)
			cap *= 2;
		if (cap >= FS_NO_IND)
			return FS_NO_IND;
		n = realloc(v->str, cap);
		if (!n)
			return FS_NO_IND;
		v->str = n;
		v->scap = cap;
	}
	memcpy(v->str + v->slen, s, len);
	v->slen += len;
	return (__u32)(v->slen - len);
}

static bool seen_fits(time_t t)
{
	return t >= 0 && (unsigned long long)t < FS_SEEN_XTRA;
}

/* A new rare-field record in v, *seen the entry's seen field naming it; -ENOMEM: none made. */
static int xtra_new(struct fs_vec *v, time_t first_seen, time_t valid_until, const char *ind,
		    __u32 *seen)
{
	struct fs_xtra *x;

	if (v->xn == v->xcap) {
		size_t cap = v->xcap ? v->xcap * 2 : XTRA_MIN_CAP;

		if (cap > XTRA_MAX)
			cap = XTRA_MAX;
		if (cap <= v->xn)
			return -ENOMEM;
		x = reallocarray(v->x, cap, sizeof(*x));
		if (!x)
			return -ENOMEM;
		v->x = x;
		v->xcap = cap;
	}
	x = &v->x[v->xn];
	*x = (struct fs_xtra){ .first_seen = first_seen,
			       .valid_until = valid_until,
			       .ind = vec_str(v, ind) };
	if (ind && x->ind == FS_NO_IND)
		return -ENOMEM;
	*seen = FS_SEEN_XTRA + (__u32)v->xn++;
	return 0;
}

/* e's rare fields, NULL for none. */
static const struct fs_xtra *xtra_of(const struct fs_vec *v, const struct fs_ent *e)
{
	size_t i = e->seen - FS_SEEN_XTRA;

	return fs_ent_has_xtra(e) && i < v->xn ? &v->x[i] : NULL;
}

int fs_vec_add(struct fs_vec *v, const struct fs_rec *r)
{
	struct fs_ent e = { .pfx = r->pfx, .line = r->line };
	int err = vec_room(v);

	if (err)
		return err;
	if (r->ind || r->valid_until || !seen_fits(r->first_seen)) {
		err = xtra_new(v, r->first_seen, r->valid_until, r->ind, &e.seen);
		if (err)
			return err;
	} else {
		e.seen = (__u32)r->first_seen;
	}
	v->v[v->n++] = e;
	return 0;
}

int fs_vec_copy(struct fs_vec *v, const struct fs_vec *src, const struct fs_ent *e)
{
	const struct fs_xtra *x = xtra_of(src, e);

	return fs_vec_add(v, &(struct fs_rec){ .pfx = e->pfx,
					       .line = e->line,
					       .ind = fs_vec_ind(src, e),
					       .first_seen = fs_ent_first_seen(src, e),
					       .valid_until = x ? x->valid_until : 0 });
}

const char *fs_vec_ind(const struct fs_vec *v, const struct fs_ent *e)
{
	const struct fs_xtra *x = xtra_of(v, e);

	return !x || x->ind == FS_NO_IND || x->ind >= v->slen ? NULL : v->str + x->ind;
}

time_t fs_ent_first_seen(const struct fs_vec *v, const struct fs_ent *e)
{
	const struct fs_xtra *x = xtra_of(v, e);

	return x ? (time_t)x->first_seen : fs_ent_has_xtra(e) ? 0 : (time_t)e->seen;
}

time_t fs_ent_valid_until(const struct fs_vec *v, const struct fs_ent *e)
{
	const struct fs_xtra *x = xtra_of(v, e);

	return x ? (time_t)x->valid_until : 0;
}

int fs_ent_set_first_seen(struct fs_vec *v, struct fs_ent *e, time_t t)
{
	__u32 seen;

	if (fs_ent_has_xtra(e) && e->seen - FS_SEEN_XTRA < v->xn) {
		v->x[e->seen - FS_SEEN_XTRA].first_seen = t;
	} else if (seen_fits(t)) {
		e->seen = (__u32)t;
	} else {
		if (xtra_new(v, t, 0, NULL, &seen))
			return -ENOMEM;
		e->seen = seen;
	}
	return 0;
}

void fs_vec_free(struct fs_vec *v)
{
	free(v->v);
	free(v->x);
	free(v->str);
	memset(v, 0, sizeof(*v));
}

int fs_vec_sort_unique(struct fs_vec *v)
{
	struct bwe_pfx_rec *r;
	struct fs_ent *out;
	size_t i, w = 0;

	/* what the worker sends is sorted and unique already: one pass says so */
	for (i = 1; i < v->n && bwe_prefix_cmp(&v->v[i - 1].pfx, &v->v[i].pfx) < 0; i++)
		;
	if (i >= v->n)
		return 0;
	r = calloc(v->n, sizeof(*r));
	out = calloc(v->cap, sizeof(*out));
	if (!r || !out) {
		free(r);
		free(out);
		return -ENOMEM;
	}
	for (i = 0; i < v->n; i++)
		bwe_pfx_rec_set(&r[i], &v->v[i].pfx, v->v[i].line, i);
	bwe_pfx_sort(r, v->n);
	for (i = 0; i < v->n; i++)
		if (!w || !bwe_pfx_rec_same(&r[i - 1], &r[i]))
			out[w++] = v->v[r[i].idx];
	free(r);
	free(v->v);
	v->v = out;
	v->n = w;
	return 0;
}

const struct fs_ent *fs_vec_find(const struct fs_vec *v, const struct bwe_prefix *p)
{
	size_t lo = 0, hi = v->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = bwe_prefix_cmp(&v->v[mid].pfx, p);

		if (!c)
			return &v->v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* The first index in lo..hi whose entry is not before p (every entry before lo is). */
static size_t lower_bound(const struct fs_vec *v, size_t lo, size_t hi, const struct bwe_prefix *p)
{
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (bwe_prefix_cmp(&v->v[mid].pfx, p) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * The first index from i on whose entry is not before p, cur sorted:
 * galloping from i, since a delta's re-read entries fall a few hundred
 * kept ones apart, then a binary search in the last step.
 */
static size_t gallop(const struct fs_vec *cur, size_t i, const struct bwe_prefix *p)
{
	size_t lo = i, step = 1;

	while (lo + step < cur->n && bwe_prefix_cmp(&cur->v[lo + step].pfx, p) < 0) {
		lo += step;
		step *= 2;
	}
	return lower_bound(cur, lo, lo + step < cur->n ? lo + step : cur->n, p);
}

/* cur's entry i's line in the new numbering (0: gone); -EEXIST for a line not known. */
static inline int merge_line(const struct fs_vec *cur, size_t i, const __u32 *old_to_new,
			     size_t n_old, __u32 *nl)
{
	__u32 line = cur->v[i].line;

	/* the lines of entries sorted by prefix are all over old_to_new: fetch ahead */
	if (i + MERGE_PREFETCH < cur->n && cur->v[i + MERGE_PREFETCH].line - 1 < n_old)
		__builtin_prefetch(&old_to_new[cur->v[i + MERGE_PREFETCH].line - 1]);
	if (!line || line > n_old)
		return -EEXIST;
	*nl = old_to_new[line - 1];
	return 0;
}

int fs_vec_merge(const struct fs_vec *cur, const __u32 *old_to_new, size_t n_old,
		 const struct fs_vec *rd, time_t now, struct fs_vec *out, struct bwe_prefix **add,
		 size_t *nadd, struct bwe_prefix **gone, size_t *ngone)
{
	size_t i = 0, j, end;
	int err = 0;

	memset(out, 0, sizeof(*out));
	*nadd = *ngone = 0;
	/* room for every entry, written only as far as used: not zeroed (a
	 * version's worth of bytes that calloc() would clear when it reuses) */
	*add = malloc((rd->n ? rd->n : 1) * sizeof(**add));
	*gone = malloc((cur->n ? cur->n : 1) * sizeof(**gone));
	out->v = malloc((cur->n + rd->n ? cur->n + rd->n : 1) * sizeof(*out->v));
	if (!*add || !*gone || !out->v) {
		err = -ENOMEM;
		goto fail;
	}
	out->cap = cur->n + rd->n;
	bwe_prefault(out->v, out->cap * sizeof(*out->v));
	if (cur->xn) { /* the kept entries' rare fields keep their indexes */
		out->x = malloc(cur->xn * sizeof(*out->x));
		if (!out->x) {
			err = -ENOMEM;
			goto fail;
		}
		memcpy(out->x, cur->x, cur->xn * sizeof(*out->x));
		out->xn = out->xcap = cur->xn;
	}
	if (cur->slen) { /* and their strings their offsets */
		out->str = malloc(cur->slen);
		if (!out->str) {
			err = -ENOMEM;
			goto fail;
		}
		memcpy(out->str, cur->str, cur->slen);
		out->slen = out->scap = cur->slen;
	}
	/*
	 * Both sorted: the run of cur's entries before each re-read one is
	 * found by galloping and taken without comparing prefixes (kept,
	 * renumbered, or gone), then the re-read entry itself.
	 */
	for (j = 0; j <= rd->n; j++) {
		const struct bwe_prefix *p = j < rd->n ? &rd->v[j].pfx : NULL;
		struct fs_ent *o = out->v + out->n;    /* the run's writes in place, */
		struct bwe_prefix *g = *gone + *ngone; /* no copy through the stack */
		__u32 nl = 0;

		for (end = p ? gallop(cur, i, p) : cur->n; i < end; i++) {
			err = merge_line(cur, i, old_to_new, n_old, &nl);
			if (err)
				goto fail;
			if (nl) {
				*o = cur->v[i];
				o++->line = nl;
			} else {
				*g++ = cur->v[i].pfx;
			}
		}
		out->n = (size_t)(o - out->v);
		*ngone = (size_t)(g - *gone);
		if (!p)
			break;
		if (i < cur->n && !bwe_prefix_cmp(&cur->v[i].pfx, p)) {
			/* listed by a re-read line: the same prefix keeps its first_seen */
			err = merge_line(cur, i, old_to_new, n_old, &nl);
			if (!err && nl) /* and by a kept line too */
				err = -EEXIST;
			err = err ?: fs_vec_copy(out, rd, &rd->v[j]);
			err = err
				      ?: fs_ent_set_first_seen(out, &out->v[out->n - 1],
							       fs_ent_first_seen(cur, &cur->v[i]));
			i++;
		} else {
			err = fs_vec_copy(out, rd, &rd->v[j]);
			err = err ?: fs_ent_set_first_seen(out, &out->v[out->n - 1], now);
			if (!err)
				(*add)[(*nadd)++] = *p;
		}
		if (err)
			goto fail;
	}
	/* the room of entries that did not come (gone lines) was faulted in: back */
	if (out->cap - out->n > MERGE_SLACK) {
		struct fs_ent *v = reallocarray(out->v, out->n ? out->n : 1, sizeof(*v));

		if (v) {
			out->v = v;
			out->cap = out->n;
		}
	}
	return 0;
fail:
	fs_vec_free(out);
	free(*add);
	free(*gone);
	*add = *gone = NULL;
	*nadd = *ngone = 0;
	return err;
}

size_t fs_vec_lower_bound(const struct fs_vec *v, const struct bwe_prefix *p)
{
	return lower_bound(v, 0, v->n, p);
}

void fs_coverage_add(struct fs_coverage *c, const struct bwe_prefix *p)
{
	unsigned __int128 size = p->plen ? (unsigned __int128)1 << (BWE_ADDR_BITS - p->plen)
					 : ~(unsigned __int128)0;

	if (bwe_addr_is_v4(&p->addr) && p->plen >= BWE_V4_MAPPED_PLEN)
		c->v4 += size;
	else
		c->v6 += size;
}

static unsigned __int128 addr_u128(const struct bwe_addr *a)
{
	__u64 w[2];

	memcpy(w, a->a, sizeof(w));
	return (unsigned __int128)be64toh(w[0]) << 64 | be64toh(w[1]);
}

void fs_vec_coverage(const struct fs_vec *v, struct fs_coverage *out)
{
	unsigned __int128 last = 0; /* the last address covered so far */
	bool have = false;
	size_t i;

	memset(out, 0, sizeof(*out));
	/* sorted by address, then length: a prefix comes before those it contains */
	for (i = 0; i < v->n; i++) {
		const struct bwe_prefix *p = &v->v[i].pfx;
		unsigned __int128 start = addr_u128(&p->addr), size, end, add;

		size = p->plen ? (unsigned __int128)1 << (BWE_ADDR_BITS - p->plen)
			       : ~(unsigned __int128)0;
		end = start + (size - 1);
		if (have && end <= last)
			continue; /* inside what is counted */
		add = have && start <= last ? end - last : size;
		if (bwe_addr_is_v4(&p->addr) && p->plen >= BWE_V4_MAPPED_PLEN)
			out->v4 += add;
		else
			out->v6 += add;
		last = end;
		have = true;
	}
}

/* ---- the store --------------------------------------------------------- */

struct fstore *fstore_new(void)
{
	return calloc(1, sizeof(struct fstore));
}

static void feed_free(struct fs_feed *f)
{
	if (!f)
		return;
	free(f->name);
	free(f->source);
	fs_vec_free(&f->ents);
	free(f);
}

void fstore_free(struct fstore *fs)
{
	size_t i;

	if (!fs)
		return;
	for (i = 0; i <= BWE_FEED_MAX; i++)
		feed_free(fs->f[i]);
	free(fs);
}

static bool id_ok(__u8 id)
{
	return id >= BWE_FEED_FIRST && id <= BWE_FEED_MAX;
}

int fstore_define(struct fstore *fs, __u8 id, const char *name, const char *source, bool monitor)
{
	struct fs_feed *f;
	char *n, *s;

	if (!id_ok(id))
		return -EINVAL;
	n = strdup(name);
	s = strdup(source);
	if (!n || !s) {
		free(n);
		free(s);
		return -ENOMEM;
	}
	f = fs->f[id];
	if (!f) {
		f = calloc(1, sizeof(*f));
		if (!f) {
			free(n);
			free(s);
			return -ENOMEM;
		}
		fs->f[id] = f;
		if (id > fs->top)
			fs->top = id;
	}
	free(f->name);
	free(f->source);
	f->name = n;
	f->source = s;
	f->monitor = monitor;
	return 0;
}

void fstore_drop(struct fstore *fs, __u8 id, struct fs_vec *old)
{
	struct fs_feed *f = id_ok(id) ? fs->f[id] : NULL;

	memset(old, 0, sizeof(*old));
	if (!f)
		return;
	*old = f->ents;
	memset(&f->ents, 0, sizeof(f->ents));
	feed_free(f);
	fs->f[id] = NULL;
	while (fs->top && !fs->f[fs->top])
		fs->top--;
}

void fstore_swap(struct fstore *fs, __u8 id, struct fs_vec *v)
{
	struct fs_feed *f = id_ok(id) ? fs->f[id] : NULL;
	struct fs_vec t;

	if (!f)
		return;
	t = f->ents;
	f->ents = *v;
	*v = t;
}

const struct fs_vec *fstore_entries(const struct fstore *fs, __u8 id)
{
	return id_ok(id) && fs->f[id] ? &fs->f[id]->ents : NULL;
}

bool fstore_feed_info(const struct fstore *fs, __u8 id, const char **name, const char **source,
		      bool *monitor)
{
	const struct fs_feed *f = id_ok(id) ? fs->f[id] : NULL;

	if (!f)
		return false;
	if (name)
		*name = f->name;
	if (source)
		*source = f->source;
	if (monitor)
		*monitor = f->monitor;
	return true;
}

const char *fstore_ref_name(const struct fstore *fs, __u8 ref)
{
	unsigned int id = ref & BWE_REF_FEED_MASK;

	if (id == BWE_FEED_MANUAL)
		return "manual";
	if (!id)
		return NULL;
	return id <= BWE_FEED_MAX && fs->f[id] ? fs->f[id]->name : "unknown";
}

__u8 fstore_effective_ref(const struct fstore *fs, const struct bwe_prefix *p, bool manual_drop,
			  __u8 self_id, __u8 absent_id)
{
	__u8 drop = manual_drop ? BWE_FEED_MANUAL : 0, mon = 0;
	unsigned int id;

	/* once per entry of every version applied: up to the highest feed, not BWE_FEED_MAX */
	for (id = BWE_FEED_FIRST; id <= fs->top; id++) {
		const struct fs_feed *f = fs->f[id];

		if (!f || id == absent_id || (id != self_id && !fs_vec_find(&f->ents, p)))
			continue;
		if (f->monitor) {
			if (!mon)
				mon = (__u8)id;
		} else if (!drop) {
			drop = (__u8)id;
		}
	}
	if (drop)
		return bwe_ref(drop, 0);
	return mon ? bwe_ref(mon, 1) : BWE_REF_NONE;
}

size_t fstore_match(const struct fstore *fs, const struct bwe_addr *a, struct fs_match *out,
		    size_t max)
{
	bool v4 = bwe_addr_is_v4(a);
	int min = v4 ? BWE_V4_MAPPED_PLEN + BWE_BL_V4_MIN_PLEN : BWE_BL_V6_MIN_PLEN;
	unsigned int id;
	size_t n = 0;
	int plen;

	for (id = BWE_FEED_FIRST; id <= fs->top && n < max; id++) {
		const struct fs_feed *f = fs->f[id];

		for (plen = BWE_ADDR_BITS; f && f->ents.n && plen >= min && n < max; plen--) {
			struct bwe_prefix p = { .addr = *a, .plen = (__u8)plen };
			const struct fs_ent *e;
			struct fs_match *m;

			bwe_prefix_mask(&p);
			e = fs_vec_find(&f->ents, &p);
			if (!e)
				continue;
			m = &out[n++];
			m->feed_id = (__u8)id;
			m->feed = f->name;
			m->source = f->source;
			m->monitor = f->monitor;
			m->pfx = e->pfx;
			m->line = e->line;
			m->indicator = fs_vec_ind(&f->ents, e);
			m->first_seen = fs_ent_first_seen(&f->ents, e);
			m->valid_until = fs_ent_valid_until(&f->ents, e);
		}
	}
	return n;
}

void fstore_hit(struct fstore *fs, __u8 ref)
{
	unsigned int id = ref & BWE_REF_FEED_MASK;

	if (id_ok((__u8)id) && fs->f[id])
		fs->f[id]->hits++;
}

__u64 fstore_hits(const struct fstore *fs, __u8 id)
{
	return id_ok(id) && fs->f[id] ? fs->f[id]->hits : 0;
}
