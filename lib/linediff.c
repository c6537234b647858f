// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* linediff.c - see linediff.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <xxhash.h>

#include "feed.h"
#include "linediff.h"

/* A UTF-8 BOM moves the detection window by its 3 bytes: some margin. */
#define WINDOW_BYTES (BWE_FEED_DETECT_WINDOW + 16)

#define RUN_FIRST 16u	 /* lines in the first block same_run() compares */
#define RUN_MAX	  65536u /* and in its largest */

/* XXH3 (libxxhash), seeded with a key drawn once per process. */
__u64 bwe_lines_digest(const char *body, size_t len)
{
	static __u64 key;

	while (!key) /* 0: not drawn yet */
		if (getrandom(&key, sizeof(key), 0) != (ssize_t)sizeof(key))
			key = (__u64)(unsigned long)&key | 1;
	return XXH3_64bits_withSeed(body, len, key);
}

int bwe_lines_index(const char *body, size_t len, struct bwe_lines *out)
{
	const char *p = body, *end = body + len;
	size_t n = 0, cap = len / 8 + 64; /* feeds average more than 8 bytes a line: no regrowth */
	__u32 *o;

	memset(out, 0, sizeof(*out));
	if (len >= BWE_LINES_BODY_MAX)
		return -E2BIG;
	out->off = malloc(cap * sizeof(*out->off));
	if (!out->off)
		return -ENOMEM;
	for (; p < end; n++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if (n + 1 >= cap) {
			o = reallocarray(out->off, cap * 2, sizeof(*o));
			if (!o) {
				bwe_lines_free(out);
				return -ENOMEM;
			}
			out->off = o;
			cap *= 2;
		}
		out->off[n] = (__u32)(p - body);
		if (out->off[n] < WINDOW_BYTES)
			out->window = n + 1;
		p = nl ? nl + 1 : end;
	}
	out->off[n] = (__u32)len;
	out->n = n;
	/* a kept index holds its lines, not the room guessed for them */
	o = reallocarray(out->off, n + 1, sizeof(*o));
	if (o)
		out->off = o;
	return 0;
}

void bwe_lines_free(struct bwe_lines *l)
{
	if (!l)
		return;
	free(l->off);
	memset(l, 0, sizeof(*l));
}

/* Line i's bytes without its newline. */
static const char *line_at(const char *body, const struct bwe_lines *l, size_t i, size_t *n)
{
	size_t a = l->off[i], b = l->off[i + 1];

	if (b > a && body[b - 1] == '\n')
		b--;
	*n = b - a;
	return body + a;
}

static bool same_line(const char *ob, const struct bwe_lines *o, size_t i, const char *nb,
		      const struct bwe_lines *nw, size_t j)
{
	size_t on, nn;
	const char *a = line_at(ob, o, i, &on), *b = line_at(nb, nw, j, &nn);

	return on == nn && !memcmp(a, b, on);
}

/* Whether old lines i.. and new lines j.. are k equal lines: their bytes, newlines included, are. */
static bool same_block(const char *ob, const struct bwe_lines *o, size_t i, const char *nb,
		       const struct bwe_lines *nw, size_t j, size_t k)
{
	size_t on = o->off[i + k] - o->off[i], nn = nw->off[j + k] - nw->off[j];

	return on == nn && !memcmp(ob + o->off[i], nb + nw->off[j], on);
}

/*
 * How many lines from old i and new j on are equal, found a block at a
 * time: bytes equal from two line starts put the newlines, and so the
 * lines, in the same places, so one memcmp() of a block stands for its
 * lines. Galloping: a block twice the last that matched, half the last
 * that did not. A count short of the run is no error: the caller goes on
 * line by line, as for any line (a last line without a newline, equal to
 * one with it, is found that way).
 */
static size_t same_run(const char *ob, const struct bwe_lines *o, size_t i, const char *nb,
		       const struct bwe_lines *nw, size_t j)
{
	size_t n = 0, k = RUN_FIRST;

	while (k) {
		if (i + n + k <= o->n && j + n + k <= nw->n &&
		    same_block(ob, o, i + n, nb, nw, j + n, k)) {
			n += k;
			k = k < RUN_MAX ? k * 2 : k;
		} else {
			k /= 2;
		}
	}
	return n;
}

int bwe_lines_diff(const char *old_body, const struct bwe_lines *old, const char *new_body,
		   const struct bwe_lines *nw, struct bwe_lines_diff *d)
{
	size_t i, j, k;

	memset(d, 0, sizeof(*d));
	d->n_old = old->n;
	d->n_new = nw->n;
	d->old_to_new = calloc(old->n ? old->n : 1, sizeof(*d->old_to_new));
	d->reread = calloc(nw->n ? nw->n : 1, 1);
	if (!d->old_to_new || !d->reread) {
		bwe_lines_diff_free(d);
		return -ENOMEM;
	}
	/* the detection window is always parsed again */
	for (j = 0; j < nw->window; j++)
		d->reread[j] = 1;
	i = old->window < old->n ? old->window : old->n;
	j = nw->window < nw->n ? nw->window : nw->n;
	while (i < old->n && j < nw->n) {
		for (k = same_run(old_body, old, i, new_body, nw, j); k; k--)
			d->old_to_new[i++] = (__u32)(++j);
		if (i == old->n || j == nw->n)
			break;
		if (same_line(old_body, old, i, new_body, nw, j)) {
			d->old_to_new[i++] = (__u32)(++j);
			continue;
		}
		/* the nearest realignment: k old lines removed, or k new lines inserted */
		for (k = 1; k <= BWE_LINES_LOOKAHEAD; k++) {
			if (i + k < old->n && same_line(old_body, old, i + k, new_body, nw, j)) {
				i += k;
				break;
			}
			if (j + k < nw->n && same_line(old_body, old, i, new_body, nw, j + k)) {
				memset(d->reread + j, 1, k);
				j += k;
				break;
			}
		}
		if (k > BWE_LINES_LOOKAHEAD) { /* replaced */
			d->reread[j++] = 1;
			i++;
		}
	}
	for (; j < nw->n; j++)
		d->reread[j] = 1;
	for (j = 0; j < nw->n; j++)
		d->n_reread += d->reread[j];
	for (i = 0; i < old->n; i++)
		d->n_gone += !d->old_to_new[i];
	return 0;
}

void bwe_lines_diff_free(struct bwe_lines_diff *d)
{
	if (!d)
		return;
	free(d->old_to_new);
	free(d->reread);
	memset(d, 0, sizeof(*d));
}

int bwe_lines_sparse(const char *new_body, const struct bwe_lines *nw,
		     const struct bwe_lines_diff *d, char **out, size_t *outlen)
{
	size_t j, len = 0;
	char *s, *w;

	for (j = 0; j < nw->n; j++)
		len += d->reread[j] ? nw->off[j + 1] - nw->off[j] : 1;
	s = malloc(len ? len : 1);
	if (!s)
		return -ENOMEM;
	w = s;
	for (j = 0; j < nw->n; j++) {
		size_t a = nw->off[j], b = nw->off[j + 1];

		if (d->reread[j]) {
			memcpy(w, new_body + a, b - a);
			w += b - a;
		} else {
			/* an empty line; a last line without a newline stays a (blank) line */
			*w++ = new_body[b - 1] == '\n' ? '\n' : ' ';
		}
	}
	*out = s;
	*outlen = len;
	return 0;
}
