// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fuzz_crowdsec.c - libFuzzer target of the CrowdSec LAPI decision stream
 * (lib/feed_crowdsec.c) and the decision set it feeds (lib/csdecisions.c):
 * what a hostile or broken LAPI may answer. See fuzz/README.md.
 *
 * Input: a 1-byte head, then the body.
 *   byte 0  bit 0: the pull is a startup pull; bits 1-3: the set's max
 *           (1 << bits, 1..128); bit 4: a scenario filter ("ssh")
 *
 * Besides the sanitizers, crowdsec.h's contract is checked: every decision
 * handed out has a positive id, a prefix with its host bits clear (a host
 * for scope Ip), a duration in range (none for a deletion), printable
 * strings of bounded length; the stats add up; the set stays sorted by id,
 * within its max, unchanged on -E2BIG, and its view sorted and unique.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crowdsec.h"
#include "fuzz_check.h"

#define HEAD	 1
#define KEEP_MAX 4096 /* decisions kept for the set (more are only checked) */
#define NOW	 1800000000LL

struct kept {
	struct bwe_cs_decision d[KEEP_MAX];
	char *strs[2 * KEEP_MAX];
	size_t n, seen;
};

static void check_text(const char *s)
{
	size_t n = strlen(s);

	CHECK(n < BWE_CS_TEXT_MAX);
	for (size_t i = 0; i < n; i++)
		CHECK(s[i] >= 0x20 && s[i] < 0x7f);
}

static int on_decision(const struct bwe_cs_decision *d, void *ctx)
{
	struct kept *k = ctx;
	struct bwe_prefix m = d->pfx;

	k->seen++;
	CHECK(d->id > 0);
	CHECK(d->op == BWE_CS_NEW || d->op == BWE_CS_DELETED);
	CHECK(d->scope == BWE_CS_SCOPE_IP || d->scope == BWE_CS_SCOPE_RANGE);
	CHECK(d->pfx.plen >= 1 && d->pfx.plen <= BWE_ADDR_BITS);
	bwe_prefix_mask(&m);
	CHECK(!memcmp(&m, &d->pfx, sizeof(m)));
	CHECK(d->scope != BWE_CS_SCOPE_IP || d->pfx.plen == BWE_ADDR_BITS);
	if (d->op == BWE_CS_NEW)
		CHECK(d->duration_s >= 1 && d->duration_s <= BWE_CS_DURATION_MAX_S);
	else
		CHECK(d->duration_s == 0);
	check_text(d->origin);
	check_text(d->scenario);
	if (k->n < KEEP_MAX) {
		struct bwe_cs_decision *o = &k->d[k->n];

		*o = *d;
		k->strs[2 * k->n] = strdup(d->origin);
		k->strs[2 * k->n + 1] = strdup(d->scenario);
		CHECK(k->strs[2 * k->n] && k->strs[2 * k->n + 1]);
		o->origin = k->strs[2 * k->n];
		o->scenario = k->strs[2 * k->n + 1];
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

static void check_set(const struct bwe_cs_set *s, size_t max)
{
	struct bwe_cs_view *v;
	size_t n, held = 0;

	CHECK(s->n <= max);
	for (size_t i = 1; i < s->n; i++)
		CHECK(s->v[i - 1].id < s->v[i].id);
	CHECK(!bwe_cs_set_view(s, NOW, &v, &n));
	for (size_t i = 0; i < n; i++) {
		CHECK(!i || bwe_prefix_cmp(&v[i - 1].pfx, &v[i].pfx) < 0);
		CHECK(v[i].count >= 1 && v[i].expires == v[i].first->expires);
		held += v[i].count;
	}
	CHECK(held <= s->n);
	free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct kept k;
	char *ssh[] = { "ssh" };
	struct bwe_cs_filter f = { .scenarios_containing = ssh, .n_scenarios_containing = 1 };
	struct bwe_cs_parse_opts o = { .on_decision = on_decision,
				       .on_reject = on_reject,
				       .ctx = &k };
	struct bwe_feed_stats st;
	struct bwe_cs_set s = { 0 };
	struct bwe_cs_apply_stats ast;
	bool startup;
	int ret;

	if (size < HEAD)
		return 0;
	startup = data[0] & 1;
	s.max = (size_t)1 << ((data[0] >> 1) & 7);
	memset(&k, 0, sizeof(k));
	ret = bwe_cs_parse((const char *)data + HEAD, size - HEAD, &o, &st);
	CHECK(ret == 0 || ret == -EBADMSG || ret == -E2BIG || ret == -ENOMEM);
	CHECK(ret == 0 || k.seen == 0);
	CHECK(st.accepted == k.seen);
	CHECK(st.accepted + st.rejected + st.skipped <= st.lines);
	if (!ret) {
		ret = bwe_cs_set_apply(&s, k.d, k.n, true, NOW, (data[0] & 0x10) ? &f : NULL, &ast);
		CHECK(ret == 0 || ret == -E2BIG);
		CHECK(ret == 0 || s.n == 0);
		check_set(&s, s.max);
		/* the same pull again as a delta: held ids replaced, deletions applied */
		ret = bwe_cs_set_apply(&s, k.d, k.n, startup, NOW + 1, NULL, &ast);
		CHECK(ret == 0 || ret == -E2BIG);
		check_set(&s, s.max);
		bwe_cs_set_expire(&s, NOW + BWE_CS_DURATION_MAX_S);
		CHECK(s.n == 0 || bwe_cs_set_next_expiry(&s) > NOW + BWE_CS_DURATION_MAX_S);
		bwe_cs_set_free(&s);
	}
	for (size_t i = 0; i < 2 * k.n; i++)
		free(k.strs[i]);
	return 0;
}
