// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fuzz_taxii.c - libFuzzer target of a TAXII 2.1 envelope (lib/feed_taxii.c,
 * which hands each indicator to the STIX parser) and the collection's
 * indicator set it feeds (lib/taxiiset.c): what a hostile or broken TAXII
 * server may answer. See fuzz/README.md.
 *
 * Input: a 1-byte head, then the body.
 *   byte 0  bits 0-2: the set's max (1 << bits, 1..128); bit 3: apply the
 *           page twice (every version is then stale)
 *
 * Besides the sanitizers, taxii.h's contract is checked: every value has a
 * printable indicator id, a prefix with its host bits clear or a lower-case
 * domain, a tombstone for revoked; "next" is printable and bounded and
 * empty on a refused page; the stats add up; the set stays sorted and
 * unique, within its max, and unchanged on -E2BIG.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "taxii.h"

#define HEAD	 1
#define KEEP_MAX 4096 /* values kept for the set (more are only checked) */
#define NOW	 1800000000LL

struct kept {
	struct bwe_taxii_val v[KEEP_MAX];
	char *strs[2 * KEEP_MAX];
	size_t n, seen;
};

/* Printable ASCII of 1..max - 1 bytes; blanks only where blank_ok (a "next"). */
static void check_text(const char *s, size_t max, bool blank_ok)
{
	size_t n = strlen(s);

	CHECK(n > 0 && n < max);
	for (size_t i = 0; i < n; i++)
		CHECK((s[i] > 0x20 || (blank_ok && s[i] == 0x20)) && s[i] < 0x7f);
}

static int on_val(const struct bwe_taxii_val *v, void *ctx)
{
	struct kept *k = ctx;

	k->seen++;
	check_text(v->id, BWE_TAXII_ID_MAX, false);
	CHECK(!strncmp(v->id, "indicator--", 11));
	CHECK(v->modified.nsec < 1000000000u);
	CHECK(!v->revoked || v->kind == BWE_TAXII_NONE);
	if (v->kind == BWE_TAXII_PREFIX) {
		struct bwe_prefix m = v->pfx;

		CHECK(v->pfx.plen >= 1 && v->pfx.plen <= BWE_ADDR_BITS);
		bwe_prefix_mask(&m);
		CHECK(!memcmp(&m, &v->pfx, sizeof(m)));
	} else if (v->kind == BWE_TAXII_DOMAIN) {
		for (const char *c = v->domain; *c; c++)
			CHECK((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '.' ||
			      *c == '-');
	} else {
		CHECK(v->kind == BWE_TAXII_NONE);
	}
	if (k->n < KEEP_MAX) {
		struct bwe_taxii_val *o = &k->v[k->n];

		*o = *v;
		k->strs[2 * k->n] = strdup(v->id);
		k->strs[2 * k->n + 1] = v->domain ? strdup(v->domain) : NULL;
		CHECK(k->strs[2 * k->n] && (!v->domain || k->strs[2 * k->n + 1]));
		o->id = k->strs[2 * k->n];
		o->domain = k->strs[2 * k->n + 1];
		k->n++;
	}
	return 0;
}

static void on_reject(const struct bwe_feed_reject *r, void *ctx)
{
	(void)ctx;
	CHECK(r->reason && r->reason[0]);
	CHECK(strlen(r->excerpt) <= BWE_FEED_EXCERPT_MAX);
}

static void check_set(const struct bwe_taxii_set *s, size_t max)
{
	CHECK(s->n <= max);
	for (size_t i = 1; i < s->n; i++)
		CHECK(strcmp(s->v[i - 1].id, s->v[i].id) < 0);
	for (size_t i = 0; i < s->n; i++)
		CHECK(!s->v[i].revoked || (!s->v[i].n_pfx && !s->v[i].n_domains));
	CHECK(bwe_taxii_set_live(s, NOW) <= s->n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct kept k;
	struct bwe_taxii_parse_opts o = { .now = NOW,
					  .on_val = on_val,
					  .on_reject = on_reject,
					  .ctx = &k };
	struct bwe_taxii_page page;
	struct bwe_feed_stats st;
	struct bwe_taxii_set s = { 0 };
	struct bwe_taxii_apply_stats ast;
	int ret;

	if (size < HEAD)
		return 0;
	s.max = (size_t)1 << (data[0] & 7);
	k.n = k.seen = 0;
	ret = bwe_taxii_parse_page((const char *)data + HEAD, size - HEAD, &o, &page, &st);
	CHECK(ret == 0 || ret == -EBADMSG || ret == -E2BIG || ret == -ENOMEM);
	CHECK(strlen(page.next) < BWE_TAXII_NEXT_MAX);
	if (page.next[0])
		check_text(page.next, BWE_TAXII_NEXT_MAX, true);
	if (ret) {
		CHECK(!page.more && !page.next[0]);
	} else {
		CHECK(st.accepted == k.seen);
		CHECK(st.format == BWE_FMT_TAXII);
		ret = bwe_taxii_set_apply(&s, k.v, k.n, &ast);
		CHECK(ret == 0 || ret == -E2BIG);
		if (ret)
			CHECK(s.n == 0);
		check_set(&s, s.max);
		if (!ret && (data[0] & 8)) {
			size_t n0 = s.n;

			CHECK(bwe_taxii_set_apply(&s, k.v, k.n, &ast) == 0);
			CHECK(s.n == n0 && ast.added == 0 && ast.replaced == 0);
		}
		bwe_taxii_set_expire(&s, NOW + 86400);
		check_set(&s, s.max);
	}
	bwe_taxii_set_free(&s);
	for (size_t i = 0; i < 2 * k.n; i++)
		free(k.strs[i]);
	return 0;
}
