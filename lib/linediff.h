/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * linediff.h - which lines of a text feed changed since the last version,
 * so that only those are parsed again (docs/architecture.md, "How a
 * version is installed").
 *
 * The daemon keeps a feed's last version on disk (the saved last good
 * copy), and in memory only its length, bwe_lines_digest() and where its
 * lines start: when the file changes it reads that copy back, takes it
 * only if length and digest are those of the version in force (else the
 * new body is parsed whole) and aligns the new body's lines with the old
 * ones (equal bytes, in order: a greedy walk that looks a few lines ahead
 * on either side to step over insertions and removals) and builds a sparse
 * body: the new body with every line that did not change emptied, its
 * newline kept, so that the feed worker parses only the changed lines and
 * numbers them as in the real body. Lines are compared byte for byte, never
 * by hash: no crafted line can pass for another.
 *
 * The lines that start within the first BWE_FEED_DETECT_WINDOW bytes are
 * always parsed again and copied whole into the sparse body: format
 * detection and the HTML check read that window, so they see the same
 * bytes as when parsing the whole body.
 *
 * Lines are split as the text parsers split them (feed.h): at '\n'; a last
 * line without one counts when it is not empty. Nothing here parses a feed:
 * it compares bytes. Functions return 0 or -errno.
 */
#ifndef BWE_LINEDIFF_H
#define BWE_LINEDIFF_H

#include <stddef.h>
#include <linux/types.h>

#define BWE_LINES_LOOKAHEAD 64		      /* lines looked ahead to realign */
#define BWE_LINES_BODY_MAX  ((size_t)1 << 31) /* larger bodies are parsed whole */

struct bwe_lines {
	__u32 *off;    /* off[i]: where line i + 1 starts; off[n] = the body's length */
	size_t n;      /* lines */
	size_t window; /* lines starting within the first BWE_FEED_DETECT_WINDOW bytes */
};

/*
 * A 64-bit digest of body (XXH3) under a key drawn once per process (getrandom):
 * whether a saved copy is still the version it was taken from. Not a line
 * comparison: lines are compared byte for byte.
 */
__u64 bwe_lines_digest(const char *body, size_t len);

/* -E2BIG: a body of BWE_LINES_BODY_MAX bytes or more. */
int bwe_lines_index(const char *body, size_t len, struct bwe_lines *out);
void bwe_lines_free(struct bwe_lines *l); /* NULL-safe */

struct bwe_lines_diff {
	__u32 *old_to_new; /* [old line - 1]: its line in the new body, 0 gone or parsed again */
	__u8 *reread;	   /* [new line - 1]: 1 when it is parsed again */
	size_t n_old, n_new;
	size_t n_reread; /* new lines parsed again (the window's included) */
	size_t n_gone;	 /* old lines with no counterpart */
};

int bwe_lines_diff(const char *old_body, const struct bwe_lines *old, const char *new_body,
		   const struct bwe_lines *nw, struct bwe_lines_diff *d);
void bwe_lines_diff_free(struct bwe_lines_diff *d); /* NULL-safe */

/* The sparse body of new_body (malloc'ed in *out, *outlen bytes). */
int bwe_lines_sparse(const char *new_body, const struct bwe_lines *nw,
		     const struct bwe_lines_diff *d, char **out, size_t *outlen);

#endif /* BWE_LINEDIFF_H */
