// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fuzz_misp.c - libFuzzer target of a MISP attributes/restSearch response
 * (lib/feed_misp.c through bwe_feed_parse, BWE_FMT_MISP): what a hostile
 * or broken MISP may answer. See fuzz/README.md.
 *
 * Input: the body.
 *
 * Besides the sanitizers, misp.h's and feed.h's contracts are checked:
 * every address indicator has its host bits clear and a prefix no broader
 * than the defaults; every domain is lower-case RFC 1123 text; every id is
 * "misp event DIGITS attribute ...", printable, shorter than
 * BWE_MISP_ID_MAX; lines are positions inside the attribute array; the
 * stats add up.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "feed.h"
#include "fuzz_check.h"
#include "misp.h"

struct seen {
	size_t inds, lines;
};

static int on_ind(const struct bwe_indicator *ind, void *ctx)
{
	struct seen *s = ctx;
	const char *p;

	s->inds++;
	CHECK(ind->line >= 1 && ind->line <= s->lines);
	CHECK(ind->id && !strncmp(ind->id, "misp event ", 11));
	CHECK(strlen(ind->id) < BWE_MISP_ID_MAX);
	for (p = ind->id + 11; *p >= '0' && *p <= '9'; p++)
		;
	CHECK(p > ind->id + 11 && !strncmp(p, " attribute ", 11));
	for (p = ind->id; *p; p++)
		CHECK(*p >= 0x20 && *p < 0x7f);
	if (ind->kind == BWE_IND_DOMAIN) {
		CHECK(strlen(ind->domain) <= BWE_FEED_DOMAIN_MAX && strchr(ind->domain, '.'));
		for (p = ind->domain; *p; p++)
			CHECK((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '.' ||
			      *p == '-');
	} else {
		struct bwe_prefix m = ind->pfx;

		CHECK(ind->kind == BWE_IND_PREFIX);
		bwe_prefix_mask(&m);
		CHECK(!memcmp(&m, &ind->pfx, sizeof(m)));
		CHECK(ind->pfx.plen >= (bwe_addr_is_v4(&ind->pfx.addr)
						? BWE_V4_MAPPED_PLEN + BWE_FEED_MIN_PREFIX_V4
						: BWE_FEED_MIN_PREFIX_V6));
	}
	return 0;
}

static void on_reject(const struct bwe_feed_reject *r, void *ctx)
{
	struct seen *s = ctx;

	CHECK(r->reason && r->reason[0]);
	CHECK(r->line >= 1 && r->line <= s->lines);
	CHECK(strlen(r->excerpt) <= BWE_FEED_EXCERPT_MAX);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seen s = { .lines = SIZE_MAX };
	struct bwe_feed_parse_opts o = { .format = BWE_FMT_MISP,
					 .on_ind = on_ind,
					 .on_reject = on_reject,
					 .ctx = &s };
	struct bwe_feed_stats st;
	int ret;

	/* lines are known only after the parse: a first pass counts them */
	ret = bwe_feed_parse((const char *)data, size, &o, &st);
	CHECK(ret == 0 || ret == -EBADMSG || ret == -E2BIG || ret == -ENOMEM);
	if (ret)
		return 0;
	CHECK(st.accepted == s.inds);
	CHECK(st.accepted + st.rejected + st.skipped <= st.lines);
	s = (struct seen){ .lines = st.lines };
	CHECK(bwe_feed_parse((const char *)data, size, &o, &st) == 0);
	CHECK(st.accepted == s.inds);
	return 0;
}
