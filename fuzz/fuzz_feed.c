// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fuzz_feed.c - libFuzzer targets of the feed parser (lib/feed*.c). One
 * source, one binary per target: build with -DFUZZ_TARGET=NAME where NAME
 * is a format (plain, spamhaus, spamhaus_json, feodo_csv, stix, freeform,
 * domains), "auto" (detection, then the detected parser), or stix_pattern
 * (the input is a STIX pattern, wrapped into an indicator object with
 * json-c so every byte reaches the pattern parser). See fuzz/README.md.
 *
 * Besides the sanitizers, every input is checked against the API contract
 * of feed.h; a violation aborts, so libFuzzer keeps the input.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "addr.h"
#include "feed.h"
#include "fuzz_check.h"

#ifndef FUZZ_TARGET
#error "build with -DFUZZ_TARGET=<plain|spamhaus|...|auto|stix_pattern>"
#endif

#define FMT_plain	  BWE_FMT_PLAIN
#define FMT_spamhaus	  BWE_FMT_SPAMHAUS
#define FMT_spamhaus_json BWE_FMT_SPAMHAUS_JSON
#define FMT_feodo_csv	  BWE_FMT_FEODO_CSV
#define FMT_stix	  BWE_FMT_STIX
#define FMT_freeform	  BWE_FMT_FREEFORM
#define FMT_domains	  BWE_FMT_DOMAINS
#define FMT_auto	  BWE_FMT_AUTO
#define FMT_stix_pattern  BWE_FMT_COUNT /* not a format: the pattern mode */
#define CAT(a, b)	  a##b
#define FMT(t)		  CAT(FMT_, t)

#define FUZZ_NOW 1780272000LL /* 2026-06-01T00:00:00Z, fixed: reproducible */

struct fuzz_ctx {
	size_t ind, rej;
	int min4, min6;
};

static int on_ind(const struct bwe_indicator *ind, void *ctx)
{
	struct fuzz_ctx *c = ctx;

	c->ind++;
	if (ind->kind == BWE_IND_PREFIX) {
		struct bwe_prefix m = ind->pfx;
		int flen = bwe_prefix_family_len(&ind->pfx);
		bool v4 = bwe_addr_is_v4(&ind->pfx.addr) && ind->pfx.plen >= BWE_V4_MAPPED_PLEN;

		bwe_prefix_mask(&m);
		CHECK(!memcmp(&m, &ind->pfx, sizeof(m)));
		CHECK(ind->pfx.plen <= BWE_ADDR_BITS);
		CHECK(flen > 0 && flen >= (v4 ? c->min4 : c->min6));
		CHECK(ind->domain == NULL);
	} else {
		size_t n;

		CHECK(ind->kind == BWE_IND_DOMAIN);
		CHECK(ind->domain != NULL);
		n = strlen(ind->domain);
		CHECK(n > 0 && n <= BWE_FEED_DOMAIN_MAX);
		CHECK(strchr(ind->domain, '.') != NULL);
		CHECK(ind->domain[0] != '.' && ind->domain[n - 1] != '.');
		for (size_t i = 0; i < n; i++) {
			char ch = ind->domain[i];

			CHECK((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
			      ch == '.');
		}
	}
	if (ind->id) {
		size_t n = strlen(ind->id);

		CHECK(n > 0 && n < 64);
	}
	return 0;
}

static void on_reject(const struct bwe_feed_reject *rej, void *ctx)
{
	struct fuzz_ctx *c = ctx;
	size_t n;

	c->rej++;
	CHECK(rej->reason != NULL && rej->reason[0] != '\0');
	for (const char *r = rej->reason; *r; r++)
		CHECK(*r >= 0x20 && *r < 0x7f);
	CHECK(rej->excerpt != NULL);
	n = strlen(rej->excerpt);
	CHECK(n <= BWE_FEED_EXCERPT_MAX);
	for (size_t i = 0; i < n; i++)
		CHECK(rej->excerpt[i] >= 0x20 && rej->excerpt[i] < 0x7f);
}

static void run(const char *buf, size_t len, enum bwe_feed_format fmt)
{
	struct fuzz_ctx c = { .min4 = 8, .min6 = 19 };
	struct bwe_feed_parse_opts o = {
		.format = fmt,
		.now = FUZZ_NOW,
		.on_ind = on_ind,
		.on_reject = on_reject,
		.ctx = &c,
	};
	struct bwe_feed_stats st;
	enum bwe_feed_format det = bwe_feed_detect(buf, len);
	int ret = bwe_feed_parse(buf, len, &o, &st);

	CHECK((unsigned int)det < BWE_FMT_COUNT);
	CHECK(ret == 0 || ret == -EBADMSG || ret == -ENOMEM ||
	      (ret == -EINVAL && fmt == BWE_FMT_AUTO));
	CHECK(st.accepted == c.ind && st.rejected == c.rej);
	CHECK(ret != -EBADMSG || (c.ind == 0 && c.rej == 0));
	if (fmt == BWE_FMT_AUTO && ret == 0 && st.format != BWE_FMT_AUTO)
		CHECK(st.format == det);
	if (fmt != BWE_FMT_AUTO && ret != -EINVAL)
		CHECK(st.format == fmt);
	/* line formats: every line is counted once */
	if (ret == 0 && st.format != BWE_FMT_STIX)
		CHECK(st.rejected <= st.lines);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum bwe_feed_format fmt = FMT(FUZZ_TARGET);

	if (fmt == BWE_FMT_COUNT) {
		/* stix_pattern: the input is the pattern of one indicator */
		struct json_object *o = json_object_new_object();
		const char *text;

		if (!o)
			return 0;
		json_object_object_add(o, "type", json_object_new_string("indicator"));
		json_object_object_add(o, "id", json_object_new_string("indicator--fuzz"));
		json_object_object_add(o, "pattern",
				       json_object_new_string_len((const char *)data, (int)size));
		json_object_object_add(o, "pattern_type", json_object_new_string("stix"));
		text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
		run(text, strlen(text), BWE_FMT_STIX);
		json_object_put(o);
		return 0;
	}
	run((const char *)data, size, fmt);
	return 0;
}
