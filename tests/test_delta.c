// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_delta.c - a changed feed whose changed lines alone are parsed again
 * gives exactly what a whole parse gives: the same entries with the same
 * provenance (prefix, line, indicator, first_seen) and the same kernel
 * maps, version after version (docs/architecture.md, "How a version is
 * installed").
 *
 * Two real, unpinned data planes side by side: one takes every version
 * through a whole parse and enf_bl_install(), the other through the
 * daemon's delta path (lib/linediff.c: index, diff, sparse body; the
 * parser on the sparse body; fs_vec_merge(); enf_bl_install_diff()), with
 * the whole parse as its fallback where the daemon falls back. Versions are
 * random edits (removals, insertions, changed lines, the first lines, the
 * end) of a plain and of a free-form feed with hosts, networks, /25../31
 * (expanded to hosts), IPv6, comments, refused lines and the odd duplicate.
 * Also: the prefix sort against qsort(), and a delta whose map write fails
 * mid-way rolls back to the previous version exactly.
 *
 * Runs as root (it loads the BPF object; nothing is attached or pinned).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cmocka.h>

#include "test_helpers.h"
#include "bl_helpers.h"

#include "bwe_util.h"
#include "dataplane.h"
#include "enforce.h"
#include "feed.h"
#include "feedstore.h"
#include "linediff.h"
#include "pfxsort.h"
#include "store.h"

#define FEED	    2
#define HOST_MAX    (1u << 17)
#define NET6_MAX    4096
#define LINES	    20000 /* the detection window is about a fifth of them */
#define VERSIONS    40
#define T0	    1700000000
#define REJECTS_MAX 50 /* what the worker reports (BWE_WIRE_REJECTS_MAX) */

/* ---- random feed lines ----------------------------------------------------------- */

static unsigned long long rng = 0x9e3779b97f4a7c15ULL;

static __u32 rnd(__u32 n)
{
	return test_rnd(&rng, n);
}

/*
 * A line of the kind a real list holds, from pools large enough that a
 * prefix rarely comes twice (edit() adds duplicates on purpose).
 */
static char *random_line(bool freeform)
{
	char buf[128];
	__u32 k = rnd(1000), a = 11 + rnd(100), b = rnd(256), c = rnd(256), d = rnd(256);

	if (k < 700)
		snprintf(buf, sizeof(buf), "%u.%u.%u.%u", a, b, c, d);
	else if (k < 760)
		snprintf(buf, sizeof(buf), "%u.%u.%u.0/24", a, b, c);
	else if (k < 770)
		snprintf(buf, sizeof(buf), "%u.%u.%u.0/%u", a, b, c & 0xf0, 20 + rnd(4));
	else if (k < 790)
		snprintf(buf, sizeof(buf), "%u.%u.%u.%u/%u", a, b, c, d & 0xc0, 26 + rnd(6));
	else if (k < 870)
		snprintf(buf, sizeof(buf), "2001:db8:%x:%x::%x", b * 256 + c, d, a);
	else if (k < 910)
		snprintf(buf, sizeof(buf), "2001:db8:%x:%x:%x::/64", b * 256 + c, d, a);
	else if (k < 950)
		snprintf(buf, sizeof(buf), "# comment %u", c);
	else if (k < 965)
		snprintf(buf, sizeof(buf), "%s", "");
	else if (k < 966)
		snprintf(buf, sizeof(buf), "not-an-address-%u", c); /* refused */
	else if (freeform && k < 990)
		snprintf(buf, sizeof(buf), "%u.%u.%u.%u - %u.%u.%u.%u", a, b, c, d & 0xf0, a, b, c,
			 (d & 0xf0) + rnd(16));
	else
		snprintf(buf, sizeof(buf), "%u.%u.%u.%u ; inline comment", a, b, c, d);
	return strdup(buf);
}

struct lines {
	char **v;
	size_t n, cap;
};

static void lines_insert(struct lines *l, size_t at, char *s)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 1024;
		l->v = reallocarray(l->v, l->cap, sizeof(*l->v));
		assert_non_null(l->v);
	}
	memmove(l->v + at + 1, l->v + at, (l->n - at) * sizeof(*l->v));
	l->v[at] = s;
	l->n++;
}

static void lines_remove(struct lines *l, size_t at)
{
	free(l->v[at]);
	memmove(l->v + at, l->v + at + 1, (l->n - at - 1) * sizeof(*l->v));
	l->n--;
}

/* A duplicate edit() put in, taken out again by the next edit. */
static char *dup_line;

/* One random edit of about share/1000 of the lines (at least one of each kind). */
static void edit(struct lines *l, bool freeform, unsigned int share)
{
	size_t n = l->n * share / 1000 + 1, i;

	for (i = 0; dup_line && i < l->n; i++)
		if (l->v[i] == dup_line) {
			lines_remove(l, i);
			break;
		}
	dup_line = NULL;
	for (i = 0; i < n && l->n > 1; i++)
		lines_remove(l, rnd((__u32)l->n));
	for (i = 0; i < n; i++)
		lines_insert(l, rnd((__u32)l->n + 1), random_line(freeform));
	for (i = 0; i < n; i++) {
		size_t at = rnd((__u32)l->n);

		free(l->v[at]);
		l->v[at] = random_line(freeform);
	}
	if (!rnd(3)) /* the first lines: the detection window */
		lines_insert(l, 0, random_line(freeform));
	if (!rnd(3))
		lines_insert(l, l->n, random_line(freeform));
	if (!rnd(8)) { /* a duplicate of a line elsewhere: that version is parsed whole */
		dup_line = strdup(l->v[rnd((__u32)l->n)]);
		lines_insert(l, rnd((__u32)l->n + 1), dup_line);
	}
}

/* The body: CRLF now and then, a last line without its newline now and then. */
static char *body_of(const struct lines *l, size_t *len)
{
	bool crlf = !rnd(4), last_nl = rnd(3);
	size_t cap = 16, i, o = 0;
	char *b;

	for (i = 0; i < l->n; i++)
		cap += strlen(l->v[i]) + 2;
	b = malloc(cap);
	assert_non_null(b);
	for (i = 0; i < l->n; i++) {
		size_t k = strlen(l->v[i]);

		memcpy(b + o, l->v[i], k);
		o += k;
		if (i + 1 < l->n || last_nl) {
			if (crlf)
				b[o++] = '\r';
			b[o++] = '\n';
		}
	}
	*len = o;
	return b;
}

/* ---- the parse the worker does --------------------------------------------------- */

struct parsed {
	struct fs_vec v;
	struct bwe_feed_stats st;
	size_t delivered; /* indicators before duplicates were dropped */
	__u32 rej[REJECTS_MAX];
	size_t nrej; /* reported; st.rejected counts them all */
};

static int on_ind(const struct bwe_indicator *ind, void *ctx)
{
	struct parsed *p = ctx;
	return fs_vec_add(&p->v, &(struct fs_rec){ .pfx = ind->pfx,
						   .line = ind->line,
						   .ind = ind->id,
						   .valid_until = ind->valid_until });
}

static void on_reject(const struct bwe_feed_reject *rej, void *ctx)
{
	struct parsed *p = ctx;

	if (p->nrej < REJECTS_MAX)
		p->rej[p->nrej++] = rej->line;
}

/* bwe_feed_parse, then sorted and unique as the worker sends it (first line wins). */
static void parse(const char *body, size_t len, enum bwe_feed_format fmt, struct parsed *out)
{
	struct bwe_feed_parse_opts o = { .format = fmt,
					 .now = T0,
					 .on_ind = on_ind,
					 .on_reject = on_reject,
					 .ctx = out };

	memset(out, 0, sizeof(*out));
	assert_int_equal(bwe_feed_parse(body, len, &o, &out->st), 0);
	out->delivered = out->v.n;
	assert_int_equal(fs_vec_sort_unique(&out->v), 0);
}

/* ---- two data planes ------------------------------------------------------------- */

struct side {
	struct bwe_dp *dp;
	struct st_store *st;
	struct fstore *fs;
	struct enforcer *enf;
};

static struct side whole, delta;

static void side_open(struct side *s, __u32 host_max)
{
	struct bwe_dp_opts opts = { .bl_host_max = host_max, .bl_net6_max = NET6_MAX };

	assert_int_equal(bwe_dp_open(&s->dp, &opts), 0);
	s->st = st_new();
	s->fs = fstore_new();
	assert_non_null(s->st);
	assert_non_null(s->fs);
	assert_int_equal(enf_new(&s->enf, s->dp, NULL, s->st, s->fs), 0);
	assert_int_equal(fstore_define(s->fs, FEED, "big", "/feeds/big.txt", false), 0);
}

static void side_close(struct side *s)
{
	enf_free(s->enf);
	fstore_free(s->fs);
	st_free(s->st);
	bwe_dp_close(s->dp);
	memset(s, 0, sizeof(*s));
}

static int cmp_kv(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct bwe_addr) + sizeof(struct bwe_bl_val));
}

struct kv {
	struct bwe_addr k;
	struct bwe_bl_val v;
};

/* Every (host, value) of the exact-host tables of both families, sorted; *n of them. */
static struct kv *dump_hosts(const struct side *s, size_t *n)
{
	struct kv *out = calloc(HOST_MAX, sizeof(*out));
	struct bwe_addr *a = calloc(HOST_MAX, sizeof(*a));
	struct bwe_bl_val *v = calloc(HOST_MAX, sizeof(*v));
	size_t i;
	int f;

	assert_non_null(out);
	assert_non_null(a);
	assert_non_null(v);
	*n = 0;
	for (f = 0; f < BWE_BL_FAMS; f++) {
		int fd = bwe_dp_bl_table_get(s->dp, f);

		assert_true(fd >= 0);
		bl_table_dump(fd, f, a, v, HOST_MAX, n);
		close(fd);
	}
	for (i = 0; i < *n; i++) {
		out[i].k = a[i];
		out[i].v = v[i];
	}
	free(a);
	free(v);
	qsort(out, *n, sizeof(*out), cmp_kv);
	return out;
}

struct kv6 {
	struct bwe_lpm_key k;
	struct bwe_bl_val v;
};

static int cmp_kv6(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct kv6));
}

static struct kv6 *dump_net6(const struct side *s, size_t *n)
{
	int fd = bwe_dp_map_fd(s->dp, BWE_MAP_BL_NET6);
	struct kv6 *out = calloc(NET6_MAX, sizeof(*out));
	struct bwe_lpm_key k, next;
	void *prev = NULL;

	assert_non_null(out);
	*n = 0;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		assert_true(*n < NET6_MAX);
		memset(&out[*n], 0, sizeof(out[*n]));
		out[*n].k = next;
		assert_int_equal(bpf_map_lookup_elem(fd, &next, &out[*n].v), 0);
		(*n)++;
		k = next;
		prev = &k;
	}
	qsort(out, *n, sizeof(*out), cmp_kv6);
	return out;
}

/* Both sides hold the same entries, provenance and kernel maps. */
static void assert_same(void)
{
	const struct fs_vec *a = fstore_entries(whole.fs, FEED),
			    *b = fstore_entries(delta.fs, FEED);
	struct kv *ha, *hb;
	struct kv6 *na, *nb;
	size_t i, nha, nhb, nna, nnb;

	assert_int_equal(a->n, b->n);
	for (i = 0; i < a->n; i++) {
		const char *ia = fs_vec_ind(a, &a->v[i]), *ib = fs_vec_ind(b, &b->v[i]);

		assert_int_equal(bwe_prefix_cmp(&a->v[i].pfx, &b->v[i].pfx), 0);
		assert_int_equal(a->v[i].line, b->v[i].line);
		assert_int_equal(fs_ent_first_seen(a, &a->v[i]), fs_ent_first_seen(b, &b->v[i]));
		assert_int_equal(fs_ent_valid_until(a, &a->v[i]), fs_ent_valid_until(b, &b->v[i]));
		assert_true((!ia && !ib) || (ia && ib && !strcmp(ia, ib)));
	}
	ha = dump_hosts(&whole, &nha);
	hb = dump_hosts(&delta, &nhb);
	assert_int_equal(nha, nhb);
	assert_memory_equal(ha, hb, nha * sizeof(*ha));
	na = dump_net6(&whole, &nna);
	nb = dump_net6(&delta, &nnb);
	assert_int_equal(nna, nnb);
	assert_memory_equal(na, nb, nna * sizeof(*na));
	assert_int_equal(whole.dp->tbl24_len, delta.dp->tbl24_len);
	assert_memory_equal(whole.dp->tbl24, delta.dp->tbl24, whole.dp->tbl24_len);
	free(ha);
	free(hb);
	free(na);
	free(nb);
}

/* ---- the delta path, as feeds.c takes it ----------------------------------------- */

/* What the delta side remembers of its last version (feeds.c: struct feed_text). */
struct text {
	char *body;
	size_t len;
	struct bwe_lines lines;
	__u32 rej[4 * REJECTS_MAX];
	size_t nrej;
	bool ok; /* every prefix from one line, every refused line known */
};

static void text_set(struct text *t, char *body, size_t len, const struct parsed *p,
		     const __u32 *rej, size_t nrej)
{
	free(t->body);
	bwe_lines_free(&t->lines);
	t->body = body;
	t->len = len;
	assert_int_equal(bwe_lines_index(body, len, &t->lines), 0);
	t->ok = p->delivered == p->v.n && nrej == p->st.rejected && nrej <= ARRAY_SIZE(t->rej);
	t->nrej = t->ok ? nrej : 0;
	if (t->ok)
		memcpy(t->rej, rej, nrej * sizeof(*rej));
}

static __u32 kept(const struct bwe_lines_diff *d, __u32 line)
{
	return line && line <= d->n_old ? d->old_to_new[line - 1] : 0;
}

/*
 * The new version on the delta side through the partial parse; false when
 * feeds.c would parse it whole (nothing changed then). The stats of the
 * whole version, derived, must equal those of the whole parse (full).
 */
static bool try_delta(struct text *t, char *body, size_t len, enum bwe_feed_format fmt,
		      const struct parsed *full, time_t now)
{
	struct bwe_lines nl;
	struct bwe_lines_diff d;
	struct parsed part;
	struct fs_vec nv;
	struct bwe_prefix *add, *gone;
	struct enf_bl_change chg;
	size_t nadd, ngone, i, k, kept_rej = 0, nrej = 0, slen;
	__u32 rej[ARRAY_SIZE(t->rej)];
	char *sparse;
	int err;

	if (!t->ok)
		return false;
	assert_int_equal(bwe_lines_index(body, len, &nl), 0);
	assert_int_equal(bwe_lines_diff(t->body, &t->lines, body, &nl, &d), 0);
	assert_int_equal(bwe_lines_sparse(body, &nl, &d, &sparse, &slen), 0);
	/* the sparse body has the lines of the real one, the changed ones as they are */
	{
		struct bwe_lines sl;

		assert_int_equal(bwe_lines_index(sparse, slen, &sl), 0);
		assert_int_equal(sl.n, nl.n);
		for (i = 0; i < nl.n; i++) {
			size_t a = nl.off[i + 1] - nl.off[i], b = sl.off[i + 1] - sl.off[i];

			if (d.reread[i]) {
				assert_int_equal(a, b);
				assert_memory_equal(body + nl.off[i], sparse + sl.off[i], a);
			} else {
				assert_int_equal(b, 1);
			}
		}
		bwe_lines_free(&sl);
	}
	parse(sparse, slen, fmt, &part);
	free(sparse);
	err = part.delivered != part.v.n || part.nrej != part.st.rejected
		      ? -EEXIST
		      : fs_vec_merge(fstore_entries(delta.fs, FEED), d.old_to_new, d.n_old, &part.v,
				     now, &nv, &add, &nadd, &gone, &ngone);
	fs_vec_free(&part.v);
	if (err) {
		assert_int_equal(err, -EEXIST);
		bwe_lines_free(&nl);
		bwe_lines_diff_free(&d);
		return false;
	}
	/* the figures of the whole version follow from the kept and the new */
	for (i = 0; i < t->nrej; i++)
		kept_rej += kept(&d, t->rej[i]) != 0;
	assert_int_equal(nv.n, full->st.accepted);
	assert_int_equal(kept_rej + part.st.rejected, full->st.rejected);
	for (i = k = 0; i < t->nrej || k < part.nrej;) {
		__u32 o = i < t->nrej ? kept(&d, t->rej[i]) : 0;

		if (i < t->nrej && !o) {
			i++;
		} else if (k == part.nrej || (o && o < part.rej[k])) {
			rej[nrej++] = o;
			i++;
		} else {
			rej[nrej++] = part.rej[k++];
		}
		assert_true(nrej <= ARRAY_SIZE(rej));
	}
	assert_int_equal(enf_bl_install_diff(delta.enf, delta.fs, FEED, &nv, add, nadd, gone, ngone,
					     &chg),
			 0);
	fs_vec_free(&nv);
	free(add);
	free(gone);
	bwe_lines_diff_free(&d);
	bwe_lines_free(&t->lines);
	free(t->body);
	t->body = body;
	t->len = len;
	t->lines = nl;
	t->nrej = nrej;
	memcpy(t->rej, rej, nrej * sizeof(*rej));
	t->ok = nrej <= ARRAY_SIZE(t->rej);
	return true;
}

static void run_versions(enum bwe_feed_format fmt, bool freeform)
{
	struct lines l = { 0 };
	struct text t = { 0 };
	size_t i, v, deltas = 0;

	side_open(&whole, HOST_MAX);
	side_open(&delta, HOST_MAX);
	for (i = 0; i < LINES; i++)
		lines_insert(&l, l.n, random_line(freeform));
	for (v = 0; v < VERSIONS; v++) {
		time_t now = T0 + (time_t)v;
		struct enf_bl_change chg;
		struct parsed full;
		size_t len;
		char *body;

		if (v)
			edit(&l, freeform, 1 + rnd(30)); /* 0.1 % .. 3 % of the lines */
		body = body_of(&l, &len);
		parse(body, len, fmt, &full);
		if (v && try_delta(&t, body, len, fmt, &full, now)) {
			deltas++;
		} else {
			/* the whole parse on the delta side too, as the daemon falls back */
			struct parsed again;

			parse(body, len, fmt, &again);
			assert_int_equal(enf_bl_install(delta.enf, delta.fs, FEED, &again.v, now,
							&chg),
					 0);
			fs_vec_free(&again.v);
			text_set(&t, body, len, &full, full.rej, full.nrej);
		}
		assert_int_equal(enf_bl_install(whole.enf, whole.fs, FEED, &full.v, now, &chg), 0);
		fs_vec_free(&full.v);
		assert_same();
	}
	/* most versions went the partial way (the odd duplicate sends one whole) */
	assert_true(deltas * 2 > VERSIONS);
	/* both sides outgrew their first IPv4 table: the replacements kept them equal */
	for (i = 0; i < 2; i++) {
		size_t n, max, ceiling;

		enf_bl_table(i ? whole.enf : delta.enf, 0, &n, &max, &ceiling);
		assert_true(n > bwe_bl_table_size(BWE_BL_V4, 0) && max >= n);
	}
	print_message("%zu of %d versions applied as a difference\n", deltas, VERSIONS - 1);
	for (i = 0; i < l.n; i++)
		free(l.v[i]);
	free(l.v);
	free(t.body);
	bwe_lines_free(&t.lines);
	side_close(&whole);
	side_close(&delta);
}

static void test_delta_equals_whole_plain(void **state)
{
	(void)state;
	run_versions(BWE_FMT_PLAIN, false);
}

static void test_delta_equals_whole_freeform(void **state)
{
	(void)state;
	run_versions(BWE_FMT_FREEFORM, true);
}

/* ---- the prefix sort ------------------------------------------------------------- */

struct pl {
	struct bwe_prefix p;
	__u32 line;
};

static int cmp_pl(const void *a, const void *b)
{
	const struct pl *x = a, *y = b;
	int c = bwe_prefix_cmp(&x->p, &y->p);

	return c ? c : (x->line > y->line) - (x->line < y->line);
}

/*
 * n random prefixes sorted against qsort(): IPv4 ones (from 4096 of them
 * radix sorted, pfxsort.c) and IPv6 ones; with edge, addresses just before
 * and after ::ffff:0:0/96 (the IPv4 block) too. Lines at random
 * (duplicates on purpose), or rising as the worker's are (the radix sort
 * leaves their bytes out then).
 */
static void check_pfx_sort(size_t n, bool edge, bool rising)
{
	size_t i;
	struct pl *v = calloc(n + 1, sizeof(*v)), *want = calloc(n + 1, sizeof(*want));
	struct bwe_pfx_rec *r = calloc(n + 1, sizeof(*r));

	assert_non_null(v);
	assert_non_null(want);
	assert_non_null(r);
	for (i = 0; i < n; i++) {
		char buf[64];
		unsigned int k = edge ? rnd(16) : rnd(4) ? 4 : 0;

		if (k >= 4)
			snprintf(buf, sizeof(buf), "%u.%u.%u.%u/%u", rnd(4), rnd(4), rnd(256),
				 rnd(256), 8 + rnd(25));
		else if (k == 3)
			snprintf(buf, sizeof(buf), "::fffe:%x:%x/128", rnd(4), rnd(4));
		else if (k == 2)
			snprintf(buf, sizeof(buf), "::1:0:%x:%x/128", rnd(4), rnd(4));
		else
			snprintf(buf, sizeof(buf), "2001:db8:%x::%x/%u", rnd(8), rnd(16),
				 16 + rnd(113));
		assert_int_equal(bwe_prefix_parse(buf, &v[i].p, BWE_PFX_HOSTBITS), 0);
		v[i].line = rising ? (__u32)(i / 3) : rnd(1000);
		bwe_pfx_rec_set(&r[i], &v[i].p, v[i].line, i);
	}
	memcpy(want, v, n * sizeof(*v));
	if (n)
		qsort(want, n, sizeof(*want), cmp_pl);
	bwe_pfx_sort(r, n);
	for (i = 0; i < n; i++) {
		assert_int_equal(bwe_prefix_cmp(&v[r[i].idx].p, &want[i].p), 0);
		assert_int_equal(v[r[i].idx].line, want[i].line);
	}
	/* sorted input (the common case) and reversed input (a quicksort's worst) */
	bwe_pfx_sort(r, n);
	for (i = 0; i < n; i++)
		assert_int_equal(v[r[i].idx].line, want[i].line);
	for (i = 0; i < n / 2; i++) {
		struct bwe_pfx_rec x = r[i];

		r[i] = r[n - 1 - i];
		r[n - 1 - i] = x;
	}
	bwe_pfx_sort(r, n);
	for (i = 0; i < n; i++)
		assert_int_equal(bwe_prefix_cmp(&v[r[i].idx].p, &want[i].p), 0);
	free(v);
	free(want);
	free(r);
}

static void test_pfx_sort_matches_qsort(void **state)
{
	static const size_t sizes[] = { 0, 1, 2, 17, 1000, 100000 };

	(void)state;
	for (size_t s = 0; s < ARRAY_SIZE(sizes); s++)
		check_pfx_sort(sizes[s], false, false);
}

/* Last: the delta tests' versions come from the generator's numbers after the test above. */
static void test_pfx_radix_edges(void **state)
{
	(void)state;
	check_pfx_sort(100000, true, false);
	check_pfx_sort(100000, true, true);
}

/* ---- a full table and a failed write in the delta path ------------------------------ */

#define FOREIGN_N \
	(bwe_bl_table_size(BWE_BL_V4, 0) - 7 - 3) /* all but 3 of the first table's room */

/*
 * v1 -> v2 as a delta on a side holding v1, whose IPv4 table is either full
 * of keys the mirror does not know (a restart before the sweep: the write
 * overflows the table, and a bigger one, holding them too, takes its place)
 * or frozen (every write fails: the delta fails and the maps and the store
 * hold the previous version exactly).
 */
static void delta_v1_v2(bool frozen)
{
	static const char v1[] = "# list\n198.51.100.1\n198.51.100.2\n203.0.113.0/24\n"
				 "2001:db8::7\n203.0.113.128/30\n";
	static const char v2[] = "# list\n198.51.100.1\n203.0.113.0/24\n198.51.100.16/29\n"
				 "2001:db8::7\n203.0.113.128/30\n";
	struct bwe_bl_val val = { .ref = bwe_ref(FEED + 1, 0) };
	struct bwe_addr x = addr("198.51.100.2"), y = addr("198.51.100.17"), z;
	struct bwe_lines l1, l2;
	struct bwe_lines_diff d;
	struct parsed p1, part;
	struct fs_vec nv, before;
	struct bwe_prefix *add, *gone;
	struct enf_bl_change chg;
	size_t nadd, ngone, i, slen, nh0, nh1, n4, max0, max1, ceiling;
	struct kv *h0, *h1;
	char *sparse;
	int fd, err;

	side_open(&delta, 32);
	parse(v1, strlen(v1), BWE_FMT_PLAIN, &p1);
	assert_int_equal(enf_bl_install(delta.enf, delta.fs, FEED, &p1.v, T0, &chg), 0);
	fs_vec_free(&p1.v);
	fd = bwe_dp_bl_table_get(delta.dp, BWE_BL_V4);
	assert_true(fd >= 0);
	if (frozen) {
		assert_int_equal(bpf_map_freeze(fd), 0);
	} else {
		/* 6 IPv4 hosts held (2 + the /30's 4): fill all but 3 slots with foreign keys */
		for (i = 0; i < FOREIGN_N; i++) {
			bwe_bl_key4 k = htonl(ntohl(addr("192.0.2.0").w[3]) + (__u32)i);

			assert_int_equal(bl4_put_fd(fd, k, val.ref), 0);
		}
	}
	close(fd);
	enf_bl_table(delta.enf, 0, &n4, &max0, &ceiling);
	assert_int_equal(max0, bwe_bl_table_size(BWE_BL_V4, 0));
	h0 = dump_hosts(&delta, &nh0);
	memset(&before, 0, sizeof(before));
	for (i = 0; i < fstore_entries(delta.fs, FEED)->n; i++)
		assert_int_equal(fs_vec_copy(&before, fstore_entries(delta.fs, FEED),
					     &fstore_entries(delta.fs, FEED)->v[i]),
				 0);

	assert_int_equal(bwe_lines_index(v1, strlen(v1), &l1), 0);
	assert_int_equal(bwe_lines_index(v2, strlen(v2), &l2), 0);
	assert_int_equal(bwe_lines_diff(v1, &l1, v2, &l2, &d), 0);
	assert_int_equal(bwe_lines_sparse(v2, &l2, &d, &sparse, &slen), 0);
	parse(sparse, slen, BWE_FMT_PLAIN, &part);
	assert_int_equal(fs_vec_merge(fstore_entries(delta.fs, FEED), d.old_to_new, d.n_old,
				      &part.v, T0 + 1, &nv, &add, &nadd, &gone, &ngone),
			 0);
	assert_int_equal(nadd, 1);  /* the /29 */
	assert_int_equal(ngone, 1); /* 198.51.100.2 */
	err = enf_bl_install_diff(delta.enf, delta.fs, FEED, &nv, add, nadd, gone, ngone, &chg);
	h1 = dump_hosts(&delta, &nh1);
	enf_bl_table(delta.enf, 0, &n4, &max1, &ceiling);
	if (frozen) {
		assert_int_equal(err, -EPERM);
		/* the kernel and the store hold the previous version exactly */
		assert_int_equal(nh0, nh1);
		assert_memory_equal(h0, h1, nh0 * sizeof(*h0));
		assert_int_equal(fstore_entries(delta.fs, FEED)->n, before.n);
		assert_memory_equal(fstore_entries(delta.fs, FEED)->v, before.v,
				    before.n * sizeof(*before.v));
		assert_int_equal(nv.n, 5); /* the refused version came back */
		assert_int_equal(enf_bl_kernel_ref(delta.enf, &x), bwe_ref(FEED, 0));
		assert_int_equal(enf_bl_kernel_ref(delta.enf, &y), BWE_REF_NONE);
		assert_int_equal(max1, max0);
	} else {
		assert_int_equal(err, 0);
		/* a bigger table, with v2 and every foreign key (the sweep's to remove) */
		assert_int_equal(max1, bwe_bl_table_size(BWE_BL_V4, FOREIGN_N + 6 + 8));
		assert_int_equal(nh1, nh0 - 1 + 8);
		assert_int_equal(enf_bl_kernel_ref(delta.enf, &x), BWE_REF_NONE);
		assert_int_equal(enf_bl_kernel_ref(delta.enf, &y), bwe_ref(FEED, 0));
		z = addr("192.0.2.0");
		z.w[3] = htonl(ntohl(z.w[3]) + FOREIGN_N - 1);
		assert_int_equal(enf_bl_kernel_ref(delta.enf, &z), val.ref);
	}
	free(h0);
	free(h1);
	free(sparse);
	free(add);
	free(gone);
	fs_vec_free(&nv);
	fs_vec_free(&before);
	fs_vec_free(&part.v);
	bwe_lines_free(&l1);
	bwe_lines_free(&l2);
	bwe_lines_diff_free(&d);
	side_close(&delta);
}

/*
 * A manual block outlives every feed that lists the same address: a
 * version that drops it, and the withdrawal of a feed removed from the
 * configuration, leave it in force under the manual id (the manual blocks
 * are read once for a whole version, not per entry).
 */
static void test_manual_block_outlives_feed(void **state)
{
	static const char v1[] = "198.51.100.1\n198.51.100.2\n198.51.100.3\n";
	static const char v2[] = "198.51.100.1\n";
	struct st_entry man = { .kind = ST_BLOCK };
	struct bwe_addr one = addr("198.51.100.1"), two = addr("198.51.100.2");
	struct bwe_addr three = addr("198.51.100.3");
	struct enf_bl_change chg;
	struct parsed p1, p2;
	struct fs_vec gone;
	__u8 other = FEED + 1;

	(void)state;
	side_open(&delta, 32);
	assert_int_equal(bwe_prefix_parse("198.51.100.2", &man.pfx, 0), 0);
	assert_int_equal(st_put(delta.st, &man), 0);
	assert_int_equal(enf_entry(delta.enf, &man, true), 0);
	assert_int_equal(enf_bl_kernel_ref(delta.enf, &two), bwe_ref(BWE_FEED_MANUAL, 0));

	parse(v1, strlen(v1), BWE_FMT_PLAIN, &p1);
	assert_int_equal(enf_bl_install(delta.enf, delta.fs, FEED, &p1.v, T0, &chg), 0);
	assert_int_equal(enf_bl_kernel_ref(delta.enf, &one), bwe_ref(FEED, 0));
	assert_int_equal(enf_bl_kernel_ref(delta.enf, &two), bwe_ref(BWE_FEED_MANUAL, 0));

	/* the feed drops .2 and .3: the manual block stays, .3 goes */
	parse(v2, strlen(v2), BWE_FMT_PLAIN, &p2);
	assert_int_equal(enf_bl_install(delta.enf, delta.fs, FEED, &p2.v, T0 + 1, &chg), 0);
	assert_int_equal(chg.removed, 2);
	assert_int_equal(enf_bl_kernel_ref(delta.enf, &two), bwe_ref(BWE_FEED_MANUAL, 0));
	assert_int_equal(enf_bl_kernel_ref(delta.enf, &three), BWE_REF_NONE);

	/* a second feed above it listing .2, then the first feed withdrawn */
	assert_int_equal(fstore_define(delta.fs, other, "other", "/feeds/other.txt", false), 0);
	fs_vec_free(&p1.v);
	parse(v1, strlen(v1), BWE_FMT_PLAIN, &p1);
	assert_int_equal(enf_bl_install(delta.enf, delta.fs, other, &p1.v, T0 + 2, &chg), 0);
	fstore_drop(delta.fs, FEED, &gone);
	assert_int_equal(enf_bl_withdraw(delta.enf, &gone), 0);
	assert_int_equal(enf_bl_kernel_ref(delta.enf, &one), bwe_ref(other, 0));
	assert_int_equal(enf_bl_kernel_ref(delta.enf, &two), bwe_ref(BWE_FEED_MANUAL, 0));
	/* and the highest feed dropped: what is left is the manual block alone */
	fs_vec_free(&gone);
	fstore_drop(delta.fs, other, &gone);
	assert_int_equal(enf_bl_withdraw(delta.enf, &gone), 0);
	assert_int_equal(enf_bl_kernel_ref(delta.enf, &one), BWE_REF_NONE);
	assert_int_equal(enf_bl_kernel_ref(delta.enf, &two), bwe_ref(BWE_FEED_MANUAL, 0));

	fs_vec_free(&gone);
	fs_vec_free(&p1.v);
	fs_vec_free(&p2.v);
	side_close(&delta);
}

static void test_full_table_grows(void **state)
{
	(void)state;
	delta_v1_v2(false);
}

static void test_failed_delta_rolls_back(void **state)
{
	(void)state;
	delta_v1_v2(true);
}

/*
 * The digest the daemon checks its saved copy by: the same bytes give the
 * same digest; any one byte changed (in the 32-byte blocks and in the
 * tail), a byte more or less, give another.
 */
static void test_lines_digest(void **state)
{
	char a[301], b[301];
	__u64 d;
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(a); i++)
		a[i] = (char)('0' + i % 10);
	for (len = 0; len < sizeof(a); len += 37) {
		d = bwe_lines_digest(a, len);
		memcpy(b, a, sizeof(a));
		assert_true(bwe_lines_digest(b, len) == d);
		for (i = 0; i < len; i++) {
			b[i] ^= 1;
			assert_true(bwe_lines_digest(b, len) != d);
			b[i] ^= 1;
		}
		assert_true(bwe_lines_digest(a, len + 1) != d);
		if (len)
			assert_true(bwe_lines_digest(a, len - 1) != d);
	}
}

/*
 * bwe_lines_index(): the offsets it gives are those of a byte-by-byte walk (a line starts at 0 and after every newline
 * short of the end), whatever surrounds the newlines (bytes one above or
 * below it, 0x8a with its top bit, runs of them), at every length and
 * alignment, with the window counted the same.
 */
static void test_lines_index_matches_walk(void **state)
{
	static const char alphabet[] = { '\n', '\n', 'a',  ' ',	       '\v',
					 '\t', '\r', '\0', (char)0x8a, (char)0xff };
	size_t len, i, iter, n, win;
	struct bwe_lines l;
	char *b;

	(void)state;
	for (iter = 0; iter < 400; iter++) {
		/* every short length, then bodies across the detection window */
		len = iter < 200 ? iter : BWE_FEED_DETECT_WINDOW - 200 + rnd(400 * 30);
		b = malloc(len + 1);
		assert_non_null(b);
		for (i = 0; i < len; i++)
			b[i] = iter < 200 || rnd(4) ? alphabet[rnd(sizeof(alphabet))] : 'x';
		assert_int_equal(bwe_lines_index(b, len, &l), 0);
		for (i = n = win = 0; i < len; i++) {
			if (i && b[i - 1] != '\n')
				continue;
			assert_true(n < l.n);
			assert_int_equal(l.off[n], i);
			n++;
			win += i < BWE_FEED_DETECT_WINDOW + 16;
		}
		assert_int_equal(l.n, n);
		assert_int_equal(l.off[n], len);
		assert_int_equal(l.window, win);
		bwe_lines_free(&l);
		free(b);
	}
}

/* The line-by-line walk bwe_lines_diff() made before it compared blocks. */
static bool walk_same(const char *ob, const struct bwe_lines *o, size_t i, const char *nb,
		      const struct bwe_lines *nw, size_t j)
{
	size_t oa = o->off[i], ob_ = o->off[i + 1], na = nw->off[j], nb_ = nw->off[j + 1];

	if (ob_ > oa && ob[ob_ - 1] == '\n')
		ob_--;
	if (nb_ > na && nb[nb_ - 1] == '\n')
		nb_--;
	return ob_ - oa == nb_ - na && !memcmp(ob + oa, nb + na, ob_ - oa);
}

static void walk_diff(const char *ob, const struct bwe_lines *o, const char *nb,
		      const struct bwe_lines *nw, __u32 *o2n, __u8 *rr)
{
	size_t i, j, k;

	memset(o2n, 0, o->n * sizeof(*o2n));
	memset(rr, 0, nw->n);
	for (j = 0; j < nw->window; j++)
		rr[j] = 1;
	i = o->window < o->n ? o->window : o->n;
	j = nw->window < nw->n ? nw->window : nw->n;
	while (i < o->n && j < nw->n) {
		if (walk_same(ob, o, i, nb, nw, j)) {
			o2n[i++] = (__u32)(++j);
			continue;
		}
		for (k = 1; k <= BWE_LINES_LOOKAHEAD; k++) {
			if (i + k < o->n && walk_same(ob, o, i + k, nb, nw, j)) {
				i += k;
				break;
			}
			if (j + k < nw->n && walk_same(ob, o, i, nb, nw, j + k)) {
				memset(rr + j, 1, k);
				j += k;
				break;
			}
		}
		if (k > BWE_LINES_LOOKAHEAD) {
			rr[j++] = 1;
			i++;
		}
	}
	for (; j < nw->n; j++)
		rr[j] = 1;
}

/* Append a line of the test feeds below (one of a few hundred, so that repeats occur) to b, cap bytes. */
static size_t put_line(char *b, size_t cap, size_t at)
{
	assert_true(at + 24 <= cap);
	return at + (size_t)sprintf(b + at, "198.51.100.%u\n", rnd(300));
}

/*
 * bwe_lines_diff() takes runs of equal lines a block of bytes at a time:
 * it maps every old line and marks every new one exactly as the line walk
 * does, on versions past the detection window with removals, insertions,
 * changed lines, repeated lines (realignment choices), runs of each, and
 * a last line with and without its newline.
 */
static void test_lines_diff_matches_walk(void **state)
{
	size_t cap = 4 << 20, iter, i, olen, nlen, e; /* about 0.7 MB used; put_line() checks */
	char *ob = malloc(cap), *nb = malloc(cap);
	struct bwe_lines o, nw;
	struct bwe_lines_diff d;
	__u32 *o2n;
	__u8 *rr;

	(void)state;
	assert_non_null(ob);
	assert_non_null(nb);
	for (iter = 0; iter < 40; iter++) {
		size_t lines = 6000 + rnd(6000), edits = 1 + rnd(iter % 4 ? 60 : 2000);

		for (olen = 0, i = 0; i < lines; i++)
			olen = put_line(ob, cap, olen);
		if (iter % 3 == 1)
			olen--; /* no newline at the end */
		/* the new version: the old lines with edits where the dice say */
		nlen = 0;
		for (i = 0; i < olen;) {
			const char *eol = memchr(ob + i, '\n', olen - i);
			size_t next = eol ? (size_t)(eol - ob) + 1 : olen;

			e = rnd((__u32)(lines / edits + 1)) ? 9 : rnd(4);
			if (e != 0 && e != 2) { /* kept (or changed: replaced below) */
				memcpy(nb + nlen, ob + i, next - i);
				nlen += next - i;
			}
			if (e == 2 || e == 3) /* changed, or a line inserted after */
				nlen = put_line(nb, cap, nlen);
			if (e == 1)
				for (size_t k = rnd(80); k; k--) /* a run inserted */
					nlen = put_line(nb, cap, nlen);
			i = next;
		}
		if (iter % 3 == 2 && nlen && nb[nlen - 1] == '\n')
			nlen--;
		else if (iter % 3 == 1 && nlen && nb[nlen - 1] != '\n')
			nb[nlen++] = '\n'; /* the last line gains its newline */
		assert_int_equal(bwe_lines_index(ob, olen, &o), 0);
		assert_int_equal(bwe_lines_index(nb, nlen, &nw), 0);
		assert_int_equal(bwe_lines_diff(ob, &o, nb, &nw, &d), 0);
		o2n = malloc((o.n + 1) * sizeof(*o2n));
		rr = malloc(nw.n + 1);
		assert_non_null(o2n);
		assert_non_null(rr);
		walk_diff(ob, &o, nb, &nw, o2n, rr);
		assert_memory_equal(d.old_to_new, o2n, o.n * sizeof(*o2n));
		assert_memory_equal(d.reread, rr, nw.n);
		free(o2n);
		free(rr);
		bwe_lines_diff_free(&d);
		bwe_lines_free(&o);
		bwe_lines_free(&nw);
	}
	free(ob);
	free(nb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pfx_sort_matches_qsort),
		cmocka_unit_test(test_delta_equals_whole_plain),
		cmocka_unit_test(test_delta_equals_whole_freeform),
		cmocka_unit_test(test_full_table_grows),
		cmocka_unit_test(test_failed_delta_rolls_back),
		cmocka_unit_test(test_lines_digest),
		cmocka_unit_test(test_lines_index_matches_walk),
		cmocka_unit_test(test_lines_diff_matches_walk),
		cmocka_unit_test(test_pfx_radix_edges),
		cmocka_unit_test(test_manual_block_outlives_feed),
	};

	libbpf_set_print(NULL);
	return cmocka_run_group_tests_name("delta", tests, NULL, NULL);
}
