// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fuzz_zeek_intel.c - libFuzzer target of the Zeek intel parser
 * (lib/feed_zeek.c, format zeek-intel), through bwe_feed_parse() as the
 * feed worker calls it. Sources: FUZZ_SRCS_zeek_intel in the Makefile (the
 * feed parser's files). See fuzz/README.md.
 *
 * Besides the sanitizers, every input is checked against feed.h's
 * contract and the format's own promises; a violation aborts, so
 * libFuzzer keeps the input:
 *  - the return value is 0, or -EBADMSG for an HTML body (then no callback
 *    ran); the stats agree with the callbacks;
 *  - a line yields at most one item: accepted + rejected + skipped <= lines;
 *  - every indicator is well formed (host bits clear, within the minimum
 *    lengths; domains lower case with a dot), on a line of the body, with
 *    an id that is printable and shorter than 64 bytes;
 *  - CRLF line endings change nothing: the same body with "\r\n" gives the
 *    same items on the same lines;
 *  - when detection says zeek-intel, auto gives the same result.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "feed.h"
#include "fuzz_check.h"

#define FUZZ_NOW    1780272000LL /* 2026-06-01T00:00:00Z, fixed: reproducible */
#define MIN_V4	    8
#define MIN_V6	    19
#define ID_MAX	    64
#define FNV_OFFSET  14695981039346656037ULL
#define FNV_PRIME   1099511628211ULL
#define DOMAIN_SEEN 0x5a /* mixed into the digest before a domain */

struct run {
	size_t ind, rej, lines;
	uint64_t digest; /* of every item: kind, value, line, id */
};

static void mix(uint64_t *h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++) {
		*h ^= b[i];
		*h *= FNV_PRIME;
	}
}

static int on_ind(const struct bwe_indicator *ind, void *ctx)
{
	struct run *c = ctx;

	c->ind++;
	CHECK(ind->line >= 1 && ind->line <= c->lines);
	if (ind->kind == BWE_IND_PREFIX) {
		struct bwe_prefix m = ind->pfx;
		int flen = bwe_prefix_family_len(&ind->pfx);
		bool v4 = bwe_addr_is_v4(&ind->pfx.addr) && ind->pfx.plen >= BWE_V4_MAPPED_PLEN;

		bwe_prefix_mask(&m);
		CHECK(!memcmp(&m, &ind->pfx, sizeof(m)));
		CHECK(flen > 0 && flen >= (v4 ? MIN_V4 : MIN_V6));
		CHECK(ind->domain == NULL);
		mix(&c->digest, &ind->pfx, sizeof(ind->pfx));
	} else {
		size_t n;

		CHECK(ind->kind == BWE_IND_DOMAIN);
		CHECK(ind->domain != NULL);
		n = strlen(ind->domain);
		CHECK(n > 0 && n <= BWE_FEED_DOMAIN_MAX && strchr(ind->domain, '.'));
		CHECK(ind->domain[0] != '.' && ind->domain[n - 1] != '.');
		for (size_t i = 0; i < n; i++)
			CHECK((ind->domain[i] >= 'a' && ind->domain[i] <= 'z') ||
			      (ind->domain[i] >= '0' && ind->domain[i] <= '9') ||
			      ind->domain[i] == '-' || ind->domain[i] == '.');
		mix(&c->digest, (const unsigned char[]){ DOMAIN_SEEN }, 1);
		mix(&c->digest, ind->domain, n);
	}
	if (ind->id) {
		size_t n = strlen(ind->id);

		CHECK(n > 0 && n < ID_MAX);
		for (size_t i = 0; i < n; i++)
			CHECK(ind->id[i] >= 0x20 && ind->id[i] < 0x7f);
		mix(&c->digest, ind->id, n);
	}
	mix(&c->digest, &ind->line, sizeof(ind->line));
	return 0;
}

static void on_reject(const struct bwe_feed_reject *rej, void *ctx)
{
	struct run *c = ctx;
	size_t n;

	c->rej++;
	CHECK(rej->line >= 1 && rej->line <= c->lines);
	CHECK(rej->reason && rej->reason[0]);
	for (const char *r = rej->reason; *r; r++)
		CHECK(*r >= 0x20 && *r < 0x7f);
	n = strlen(rej->excerpt);
	CHECK(n <= BWE_FEED_EXCERPT_MAX);
	for (size_t i = 0; i < n; i++)
		CHECK(rej->excerpt[i] >= 0x20 && rej->excerpt[i] < 0x7f);
	mix(&c->digest, &rej->line, sizeof(rej->line));
}

/* Lines as the parser counts them: a last line without '\n' counts. */
static size_t count_lines(const char *buf, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += buf[i] == '\n';
	return n + (len && buf[len - 1] != '\n');
}

static int run(const char *buf, size_t len, enum bwe_feed_format fmt, struct run *c,
	       struct bwe_feed_stats *st)
{
	struct bwe_feed_parse_opts o = {
		.format = fmt,
		.min_plen_v4 = MIN_V4,
		.min_plen_v6 = MIN_V6,
		.now = FUZZ_NOW,
		.on_ind = on_ind,
		.on_reject = on_reject,
		.ctx = c,
	};
	int ret;

	memset(c, 0, sizeof(*c));
	c->digest = FNV_OFFSET;
	c->lines = count_lines(buf, len);
	ret = bwe_feed_parse(buf, len, &o, st);
	CHECK(ret == 0 || ret == -EBADMSG);
	CHECK(st->accepted == c->ind && st->rejected == c->rej);
	CHECK(ret != -EBADMSG || (c->ind == 0 && c->rej == 0));
	if (ret == 0) {
		CHECK(st->format == BWE_FMT_ZEEK_INTEL);
		CHECK(st->accepted + st->rejected + st->skipped <= st->lines);
	}
	return ret;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct bwe_feed_stats st, st2;
	struct run a, b;
	char *crlf;
	size_t n = 0;
	int ret = run(buf, size, BWE_FMT_ZEEK_INTEL, &a, &st);

	if (ret)
		return 0;
	/* the same body with CRLF line endings */
	crlf = malloc(size * 2 + 1);
	if (!crlf)
		return 0;
	for (size_t i = 0; i < size; i++) {
		if (buf[i] == '\n')
			crlf[n++] = '\r';
		crlf[n++] = buf[i];
	}
	CHECK(run(crlf, n, BWE_FMT_ZEEK_INTEL, &b, &st2) == 0);
	CHECK(st2.lines == st.lines && st2.accepted == st.accepted && st2.rejected == st.rejected &&
	      st2.skipped == st.skipped);
	CHECK(b.digest == a.digest);
	free(crlf);
	/* auto, when it recognises the body, parses it the same way */
	if (bwe_feed_detect(buf, size) == BWE_FMT_ZEEK_INTEL) {
		CHECK(run(buf, size, BWE_FMT_AUTO, &b, &st2) == 0);
		CHECK(st2.accepted == st.accepted && st2.rejected == st.rejected &&
		      st2.skipped == st.skipped && b.digest == a.digest);
	}
	return 0;
}
