// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_wire.c - the feed worker framing (lib/wire.c): round trips of every
 * message type, fed whole and byte by byte, and a table of corrupted
 * streams, each refused with its precise message. No processes, no network.
 *
 * A corruption row is {description, job kind the parent expects, builder
 * of the stream, expected error text}. Builders start from a valid PARSE
 * response (RESULT, INDICATORS, DOMAINS, REJECTS, END) and patch it.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "wire.h"

#define ARRAY_SIZE(x) (sizeof(x) / sizeof((x)[0]))
#define JOB	      7
#define HDR	      sizeof(struct bwe_wire_hdr)
#define RESULT_FRAME  (HDR + sizeof(struct bwe_wire_result))
/* offset of the first indicator record in the standard stream */
#define IND0	      (RESULT_FRAME + HDR)

static const struct bwe_job_req parse_req = {
	.kind = BWE_JOB_PARSE,
	.job = JOB,
	.body_len = 4096,
};

static void pfx(const char *s, struct bwe_prefix *p)
{
	assert_int_equal(bwe_prefix_parse(s, p, 0), 0);
}

/* The standard response: 3 indicators, 1 domain, 1 reject. */
static void std_stream(struct bwe_wire_buf *b, __u64 n_inds_end)
{
	struct bwe_wire_result r = { .format = BWE_FMT_PLAIN,
				     .lines = 6,
				     .accepted = 4,
				     .rejected = 1 };
	struct bwe_wire_end end = { .inds = n_inds_end, .domains = 1, .rejects = 1 };
	const char *v[] = { "192.0.2.0/24", "198.51.100.7", "2001:db8::/32" };
	size_t i;

	assert_int_equal(bwe_wire_put_frame(b, BWE_WIRE_RES_RESULT, JOB, &r, sizeof(r)), 0);
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		struct bwe_job_ind ind = { .line = (__u32)i + 1, .id = i == 1 ? "SBL123" : NULL };

		pfx(v[i], &ind.pfx);
		assert_int_equal(bwe_wire_put_ind(b, JOB, &ind), 0);
	}
	assert_int_equal(bwe_wire_put_domain(b, JOB, "evil.example", 5), 0);
	assert_int_equal(bwe_wire_put_reject(b, JOB, 6, "not an address", "1.2.3"), 0);
	assert_int_equal(bwe_wire_put_frame(b, BWE_WIRE_END, JOB, &end, sizeof(end)), 0);
}

static struct bwe_wire_dec *parent_dec(const struct bwe_job_req *req)
{
	struct bwe_wire_dec *d;

	assert_int_equal(bwe_wire_dec_new(BWE_WIRE_TO_PARENT, &d), 0);
	if (req)
		assert_int_equal(bwe_wire_dec_expect(d, req), 0);
	return d;
}

/* Feed everything in one piece; returns the feed's value. */
static int feed_all(struct bwe_wire_dec *d, const struct bwe_wire_buf *b)
{
	size_t used;

	return bwe_wire_dec_feed(d, b->p, b->len, &used);
}

/* ---- round trips -------------------------------------------------------------- */

static void check_std_result(const struct bwe_job_result *r)
{
	char s[BWE_PREFIX_STRLEN];

	assert_int_equal(r->job, JOB);
	assert_int_equal(r->status, 0);
	assert_int_equal(r->stats.format, BWE_FMT_PLAIN);
	assert_int_equal(r->stats.accepted, 4);
	assert_int_equal(r->n_inds, 3);
	bwe_prefix_fmt(&r->inds[1].pfx, s, sizeof(s));
	assert_string_equal(s, "198.51.100.7");
	assert_string_equal(r->inds[1].id, "SBL123");
	assert_null(r->inds[0].id);
	assert_int_equal(r->inds[2].line, 3);
	assert_int_equal(r->n_domains, 1);
	assert_string_equal(r->domains[0].name, "evil.example");
	assert_int_equal(r->domains[0].line, 5);
	assert_int_equal(r->n_rejects, 1);
	assert_string_equal(r->rejects[0].reason, "not an address");
	assert_string_equal(r->rejects[0].excerpt, "1.2.3");
}

static void test_parse_result_roundtrip(void **state)
{
	struct bwe_wire_buf b = { 0 };
	struct bwe_wire_dec *d = parent_dec(&parse_req);
	struct bwe_job_result r;
	size_t i, used;
	int ret = 0;

	(void)state;
	std_stream(&b, 3);
	assert_int_equal(feed_all(d, &b), 1);
	assert_int_equal(bwe_wire_dec_take_result(d, &r), 0);
	check_std_result(&r);
	bwe_job_result_free(&r);

	/* again, one byte at a time: only the very last byte completes it */
	assert_int_equal(bwe_wire_dec_expect(d, &parse_req), 0);
	for (i = 0; i < b.len; i++) {
		ret = bwe_wire_dec_feed(d, b.p + i, 1, &used);
		assert_int_equal(used, 1);
		assert_int_equal(ret, i + 1 == b.len ? 1 : 0);
	}
	assert_int_equal(bwe_wire_dec_take_result(d, &r), 0);
	check_std_result(&r);
	bwe_job_result_free(&r);
	assert_true(bwe_wire_dec_idle(d));
	bwe_wire_dec_free(d);
	bwe_wire_buf_free(&b);
}

static void test_fetch_result_roundtrip(void **state)
{
	struct bwe_job_req req = { .kind = BWE_JOB_FETCH, .job = JOB, .max_bytes = 300000 };
	struct bwe_wire_result r = { .http_status = 200, .accepted = 1 };
	struct bwe_wire_end end = { .inds = 1 };
	struct bwe_wire_buf b = { 0 };
	struct bwe_wire_dec *d = parent_dec(&req);
	struct bwe_job_ind ind = { .line = 1 };
	struct bwe_job_result res;
	char *body = malloc(200000);
	size_t i;

	(void)state;
	for (i = 0; i < 200000; i++)
		body[i] = (char)('a' + i % 26);
	snprintf(r.etag, sizeof(r.etag), "\"abc\"");
	snprintf(r.last_modified, sizeof(r.last_modified), "Mon, 01 Jun 2026 00:00:00 GMT");
	end.body = 200000;
	pfx("203.0.113.0/24", &ind.pfx);
	assert_int_equal(bwe_wire_put_frame(&b, BWE_WIRE_RES_RESULT, JOB, &r, sizeof(r)), 0);
	assert_int_equal(bwe_wire_put_ind(&b, JOB, &ind), 0);
	assert_int_equal(bwe_wire_put_bytes(&b, BWE_WIRE_RES_BODY, JOB, body, 200000), 0);
	assert_int_equal(bwe_wire_put_frame(&b, BWE_WIRE_END, JOB, &end, sizeof(end)), 0);
	assert_int_equal(feed_all(d, &b), 1);
	assert_int_equal(bwe_wire_dec_take_result(d, &res), 0);
	assert_int_equal(res.http_status, 200);
	assert_string_equal(res.etag, "\"abc\"");
	assert_string_equal(res.last_modified, "Mon, 01 Jun 2026 00:00:00 GMT");
	assert_int_equal(res.body_len, 200000);
	assert_memory_equal(res.body, body, 200000);
	assert_int_equal(res.n_inds, 1);
	bwe_job_result_free(&res);

	/* not modified: no data */
	bwe_wire_buf_consume(&b, b.len);
	memset(&r, 0, sizeof(r));
	memset(&end, 0, sizeof(end));
	r.http_status = 304;
	r.flags = BWE_WIRE_NOT_MODIFIED;
	assert_int_equal(bwe_wire_dec_expect(d, &req), 0);
	assert_int_equal(bwe_wire_put_frame(&b, BWE_WIRE_RES_RESULT, JOB, &r, sizeof(r)), 0);
	assert_int_equal(bwe_wire_put_frame(&b, BWE_WIRE_END, JOB, &end, sizeof(end)), 0);
	assert_int_equal(feed_all(d, &b), 1);
	assert_int_equal(bwe_wire_dec_take_result(d, &res), 0);
	assert_true(res.not_modified);
	assert_null(res.body);
	bwe_job_result_free(&res);
	bwe_wire_dec_free(d);
	bwe_wire_buf_free(&b);
	free(body);
}

static void test_resolve_result_roundtrip(void **state)
{
	struct bwe_job_req req = { .kind = BWE_JOB_RESOLVE, .job = JOB, .n_names = 2 };
	struct bwe_wire_result r = { 0 };
	struct bwe_wire_end end = { .answers = 2 };
	struct bwe_addr a[2];
	struct bwe_job_answer ans[2] = {
		{ .name = "a.example", .ttl = 300, .addrs = a, .n_addrs = 2 },
		{ .name = "gone.example" },
	};
	struct bwe_wire_buf b = { 0 };
	struct bwe_wire_dec *d = parent_dec(&req);
	struct bwe_job_result res;

	(void)state;
	assert_int_equal(bwe_addr_parse("192.0.2.1", &a[0]), 0);
	assert_int_equal(bwe_addr_parse("2001:db8::1", &a[1]), 0);
	assert_int_equal(bwe_wire_put_frame(&b, BWE_WIRE_RES_RESULT, JOB, &r, sizeof(r)), 0);
	assert_int_equal(bwe_wire_put_answer(&b, JOB, &ans[0]), 0);
	assert_int_equal(bwe_wire_put_answer(&b, JOB, &ans[1]), 0);
	assert_int_equal(bwe_wire_put_frame(&b, BWE_WIRE_END, JOB, &end, sizeof(end)), 0);
	assert_int_equal(feed_all(d, &b), 1);
	assert_int_equal(bwe_wire_dec_take_result(d, &res), 0);
	assert_int_equal(res.n_answers, 2);
	assert_string_equal(res.answers[0].name, "a.example");
	assert_int_equal(res.answers[0].ttl, 300);
	assert_int_equal(res.answers[0].n_addrs, 2);
	assert_memory_equal(&res.answers[0].addrs[1], &a[1], sizeof(a[1]));
	assert_int_equal(res.answers[1].n_addrs, 0);
	bwe_job_result_free(&res);
	bwe_wire_dec_free(d);
	bwe_wire_buf_free(&b);
}

/* Requests: the child's decoder gets back what the parent encoded. */
static void test_request_roundtrip(void **state)
{
	static const char *const names[] = { "a.example", "b.example", "c.example" };
	static const char body[] = "192.0.2.0/24\n\0x\n198.51.100.1\n";
	struct bwe_job_req reqs[] = {
		{ .kind = BWE_JOB_FETCH,
		  .job = 1,
		  .url = "https://feeds.example/drop.txt",
		  .etag = "\"e1\"",
		  .last_modified = "Mon, 01 Jun 2026 00:00:00 GMT",
		  .max_bytes = 1 << 20,
		  .timeout_s = 30,
		  .parse = { .format = BWE_FMT_SPAMHAUS, .min_plen_v4 = 12, .now = 42 } },
		{ .kind = BWE_JOB_PARSE,
		  .job = 2,
		  .body = body,
		  .body_len = sizeof(body) - 1,
		  .parse = { .format = BWE_FMT_AUTO, .min_plen_v6 = 24 } },
		{ .kind = BWE_JOB_RESOLVE, .job = 3, .names = names, .n_names = 3 },
		{ .kind = BWE_JOB_PARSE, .job = 4, .body = "", .body_len = 0 },
	};
	struct bwe_wire_dec *d;
	size_t i, k;

	(void)state;
	assert_int_equal(bwe_wire_dec_new(BWE_WIRE_TO_CHILD, &d), 0);
	for (i = 0; i < ARRAY_SIZE(reqs); i++) {
		struct bwe_wire_buf b = { 0 };
		const struct bwe_job_req *g;

		assert_int_equal(bwe_wire_put_request(&b, &reqs[i]), 0);
		assert_int_equal(feed_all(d, &b), 1);
		g = bwe_wire_dec_request(d);
		assert_non_null(g);
		assert_int_equal(g->kind, reqs[i].kind);
		assert_int_equal(g->job, reqs[i].job);
		assert_int_equal(g->parse.format, reqs[i].parse.format);
		assert_int_equal(g->parse.min_plen_v4, reqs[i].parse.min_plen_v4);
		assert_int_equal(g->parse.min_plen_v6, reqs[i].parse.min_plen_v6);
		assert_int_equal(g->parse.now, reqs[i].parse.now);
		if (reqs[i].kind == BWE_JOB_FETCH) {
			assert_string_equal(g->url, reqs[i].url);
			assert_string_equal(g->etag, reqs[i].etag);
			assert_string_equal(g->last_modified, reqs[i].last_modified);
			assert_int_equal(g->max_bytes, reqs[i].max_bytes);
			assert_int_equal(g->timeout_s, reqs[i].timeout_s);
		}
		if (reqs[i].kind == BWE_JOB_PARSE) {
			assert_int_equal(g->body_len, reqs[i].body_len);
			assert_memory_equal(g->body, reqs[i].body, reqs[i].body_len);
		}
		if (reqs[i].kind == BWE_JOB_RESOLVE) {
			assert_int_equal(g->n_names, 3);
			for (k = 0; k < 3; k++)
				assert_string_equal(g->names[k], names[k]);
		}
		bwe_wire_buf_free(&b);
	}
	bwe_wire_dec_free(d);
}

/* ---- corrupted streams ----------------------------------------------------------- */

static void patch(struct bwe_wire_buf *b, size_t off, const void *v, size_t n)
{
	assert_true(off + n <= b->len);
	memcpy(b->p + off, v, n);
}

static void set_hdr_field(struct bwe_wire_buf *b, size_t frame_off, size_t field_off, __u32 v,
			  size_t size)
{
	if (size == 2) {
		__u16 v16 = (__u16)v;

		patch(b, frame_off + field_off, &v16, 2);
	} else {
		patch(b, frame_off + field_off, &v, 4);
	}
}

static void b_magic(struct bwe_wire_buf *b)
{
	std_stream(b, 3);
	set_hdr_field(b, 0, offsetof(struct bwe_wire_hdr, magic), 0xdeadbeef, 4);
}

static void b_oversized(struct bwe_wire_buf *b)
{
	std_stream(b, 3);
	set_hdr_field(b, 0, offsetof(struct bwe_wire_hdr, len), 300000, 4);
}

static void b_unknown_type(struct bwe_wire_buf *b)
{
	std_stream(b, 3);
	set_hdr_field(b, RESULT_FRAME, offsetof(struct bwe_wire_hdr, type), 0x0999, 2);
}

static void b_wrong_direction(struct bwe_wire_buf *b)
{
	std_stream(b, 3);
	set_hdr_field(b, 0, offsetof(struct bwe_wire_hdr, type), BWE_WIRE_REQ_FETCH, 2);
}

static void b_result_size(struct bwe_wire_buf *b)
{
	std_stream(b, 3);
	set_hdr_field(b, 0, offsetof(struct bwe_wire_hdr, len), 100, 4);
}

static void b_wrong_job(struct bwe_wire_buf *b)
{
	std_stream(b, 3);
	set_hdr_field(b, 0, offsetof(struct bwe_wire_hdr, job), 9, 4);
}

static void b_job_switch(struct bwe_wire_buf *b)
{
	std_stream(b, 3);
	set_hdr_field(b, RESULT_FRAME, offsetof(struct bwe_wire_hdr, job), 8, 4);
}

static void b_plen(struct bwe_wire_buf *b)
{
	__u8 plen = 200;

	std_stream(b, 3);
	patch(b, IND0 + offsetof(struct bwe_wire_ind, pfx.plen), &plen, 1);
}

static void b_hostbits(struct bwe_wire_buf *b)
{
	__u8 last = 7; /* 192.0.2.7 under /24 */

	std_stream(b, 3);
	patch(b, IND0 + offsetof(struct bwe_wire_ind, pfx.addr) + 15, &last, 1);
}

static void b_covers_mapped(struct bwe_wire_buf *b)
{
	struct bwe_prefix p;

	std_stream(b, 3);
	pfx("::/64", &p);
	patch(b, IND0 + offsetof(struct bwe_wire_ind, pfx), &p, sizeof(p));
}

static void b_unsorted(struct bwe_wire_buf *b)
{
	struct bwe_prefix p;

	std_stream(b, 3);
	pfx("203.0.113.0/24", &p); /* first record now sorts after the second */
	patch(b, IND0 + offsetof(struct bwe_wire_ind, pfx), &p, sizeof(p));
}

static void b_id_no_nul(struct bwe_wire_buf *b)
{
	/* the second record carries "SBL123\0": overwrite its NUL */
	size_t off = IND0 + sizeof(struct bwe_wire_ind) + sizeof(struct bwe_wire_ind) + 6;

	std_stream(b, 3);
	patch(b, off, "X", 1);
}

static void b_id_ctl(struct bwe_wire_buf *b)
{
	size_t off = IND0 + 2 * sizeof(struct bwe_wire_ind) + 1;

	std_stream(b, 3);
	patch(b, off, "\n", 1);
}

static void b_domain_upper(struct bwe_wire_buf *b)
{
	struct bwe_wire_result r = { .accepted = 1 };
	struct bwe_wire_end end = { .domains = 1 };

	assert_int_equal(bwe_wire_put_frame(b, BWE_WIRE_RES_RESULT, JOB, &r, sizeof(r)), 0);
	assert_int_equal(bwe_wire_put_domain(b, JOB, "Evil.example", 1), 0);
	assert_int_equal(bwe_wire_put_frame(b, BWE_WIRE_END, JOB, &end, sizeof(end)), 0);
}

static void b_count_mismatch(struct bwe_wire_buf *b)
{
	std_stream(b, 4);
}

static void b_error_ctl(struct bwe_wire_buf *b)
{
	struct bwe_wire_result r = { .status = -EIO };
	struct bwe_wire_end end = { 0 };

	snprintf(r.error, sizeof(r.error), "bad\x1b[31m");
	assert_int_equal(bwe_wire_put_frame(b, BWE_WIRE_RES_RESULT, JOB, &r, sizeof(r)), 0);
	assert_int_equal(bwe_wire_put_frame(b, BWE_WIRE_END, JOB, &end, sizeof(end)), 0);
}

static void b_etag_no_nul(struct bwe_wire_buf *b)
{
	struct bwe_wire_result r = { 0 };

	memset(r.etag, 'e', sizeof(r.etag));
	assert_int_equal(bwe_wire_put_frame(b, BWE_WIRE_RES_RESULT, JOB, &r, sizeof(r)), 0);
}

static void b_status_positive(struct bwe_wire_buf *b)
{
	struct bwe_wire_result r = { .status = 5 };

	assert_int_equal(bwe_wire_put_frame(b, BWE_WIRE_RES_RESULT, JOB, &r, sizeof(r)), 0);
}

static void b_too_many_rejects(struct bwe_wire_buf *b)
{
	struct bwe_wire_result r = { .rejected = 1000 };
	int i;

	assert_int_equal(bwe_wire_put_frame(b, BWE_WIRE_RES_RESULT, JOB, &r, sizeof(r)), 0);
	for (i = 0; i < BWE_WIRE_REJECTS_MAX + 1; i++)
		assert_int_equal(bwe_wire_put_reject(b, JOB, (__u32)i, "bad", "x"), 0);
}

static void b_body_in_parse(struct bwe_wire_buf *b)
{
	struct bwe_wire_result r = { 0 };

	assert_int_equal(bwe_wire_put_frame(b, BWE_WIRE_RES_RESULT, JOB, &r, sizeof(r)), 0);
	assert_int_equal(bwe_wire_put_bytes(b, BWE_WIRE_RES_BODY, JOB, "abc", 3), 0);
}

static void b_data_first(struct bwe_wire_buf *b)
{
	struct bwe_job_ind ind = { .line = 1 };

	pfx("192.0.2.0/24", &ind.pfx);
	assert_int_equal(bwe_wire_put_ind(b, JOB, &ind), 0);
}

static void b_over_limit(struct bwe_wire_buf *b)
{
	struct bwe_wire_result r = { .accepted = 100000 };
	__u32 i;

	/* 4096-byte body: limit 4096 * 64 + 1 MiB; 40,000 records exceed it */
	assert_int_equal(bwe_wire_put_frame(b, BWE_WIRE_RES_RESULT, JOB, &r, sizeof(r)), 0);
	for (i = 0; i < 40000; i++) {
		struct bwe_job_ind ind = { .line = i };

		bwe_addr_from_v4(__builtin_bswap32(0x0a000000u + i), &ind.pfx.addr);
		ind.pfx.plen = 128;
		assert_int_equal(bwe_wire_put_ind(b, JOB, &ind), 0);
	}
}

static void b_accepted_short(struct bwe_wire_buf *b)
{
	struct bwe_wire_result r = { .accepted = 1 };
	struct bwe_wire_end end = { .inds = 2 };
	struct bwe_job_ind ind = { .line = 1 };

	assert_int_equal(bwe_wire_put_frame(b, BWE_WIRE_RES_RESULT, JOB, &r, sizeof(r)), 0);
	pfx("192.0.2.0/24", &ind.pfx);
	assert_int_equal(bwe_wire_put_ind(b, JOB, &ind), 0);
	pfx("192.0.3.0/24", &ind.pfx);
	assert_int_equal(bwe_wire_put_ind(b, JOB, &ind), 0);
	assert_int_equal(bwe_wire_put_frame(b, BWE_WIRE_END, JOB, &end, sizeof(end)), 0);
}

struct bad_row {
	const char *desc;
	bool expect; /* a job is pending */
	void (*build)(struct bwe_wire_buf *b);
	const char *error; /* exact text */
};

static const struct bad_row bad_rows[] = {
	{ "wrong magic", true, b_magic, "frame 1: bad magic 0xdeadbeef (expected 0x42574601)" },
	{ "oversized length", true, b_oversized, "frame 1: payload length 300000 > 262144" },
	{ "unknown type", true, b_unknown_type, "frame 2: unknown frame type 0x0999" },
	{ "request type from the child", true, b_wrong_direction,
	  "frame 1: FETCH frame in the wrong direction" },
	{ "fixed frame of the wrong size", true, b_result_size,
	  "frame 1: RESULT payload length 100, must be 752" },
	{ "wrong job id", true, b_wrong_job, "frame 1: RESULT for job 9, expected job 7" },
	{ "job id changes inside a job", true, b_job_switch,
	  "frame 2: INDICATORS frame for job 8 inside job 7" },
	{ "prefix length > 128", true, b_plen, "frame 2: indicator 1: prefix length 200 > 128" },
	{ "host bits set", true, b_hostbits, "frame 2: indicator 1: host bits set past /120" },
	{ "prefix covers the mapped space", true, b_covers_mapped,
	  "frame 2: indicator 1: prefix /64 covers all of ::ffff:0:0/96" },
	{ "indicators out of order", true, b_unsorted,
	  "frame 2: indicator 2: not after indicator 1 (unsorted or duplicate)" },
	{ "id without NUL", true, b_id_no_nul, "frame 2: indicator 2: string not NUL-terminated" },
	{ "id with a control byte", true, b_id_ctl,
	  "frame 2: indicator 2: control byte 0x0a in the string" },
	{ "domain with upper case", true, b_domain_upper,
	  "frame 2: domain 1: byte 0x45 not allowed in a domain name" },
	{ "END count differs", true, b_count_mismatch,
	  "frame 5: END says 4 indicators, 3 received" },
	{ "error text with escape", true, b_error_ctl,
	  "frame 1: error holds control byte 0x1b at offset 3" },
	{ "etag without NUL", true, b_etag_no_nul,
	  "frame 1: etag not NUL-terminated within 256 bytes" },
	{ "positive status", true, b_status_positive, "frame 1: status 5 is not 0 or -errno" },
	{ "more than 50 rejects", true, b_too_many_rejects,
	  "frame 2: reject 51: more than 50 reject records" },
	{ "body in a PARSE job", true, b_body_in_parse, "frame 2: BODY frame in a PARSE job" },
	{ "data before RESULT", true, b_data_first, "frame 1: INDICATORS frame outside a job" },
	{ "nothing pending", false, b_wrong_job,
	  "frame 1: RESULT for job 9 but no job is pending" },
	{ "larger than the job allows", true, b_over_limit,
	  "frame 6: job 7 sent 1311448 bytes, more than its limit 1310720" },
	{ "more records than accepted", true, b_accepted_short,
	  "frame 3: 2 indicators, 0 domains, 0 decisions and 0 taxii values but 1 accepted" },
};

static void test_bad_streams(void **state)
{
	size_t i, bad = 0;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad_rows); i++) {
		const struct bad_row *row = &bad_rows[i];
		struct bwe_wire_buf b = { 0 };
		struct bwe_wire_dec *d = parent_dec(row->expect ? &parse_req : NULL);
		int ret;

		row->build(&b);
		ret = feed_all(d, &b);
		if (ret != -EBADMSG || strcmp(bwe_wire_dec_error(d), row->error)) {
			print_error("row \"%s\": returned %d, error \"%s\", expected \"%s\"\n",
				    row->desc, ret, bwe_wire_dec_error(d), row->error);
			bad++;
		}
		/* dead for good */
		assert_int_equal(feed_all(d, &b), -EBADMSG);
		bwe_wire_dec_free(d);
		bwe_wire_buf_free(&b);
	}
	assert_int_equal(bad, 0);
}

/* Every proper prefix of a valid stream leaves the job open: never complete, never error. */
static void test_truncated(void **state)
{
	struct bwe_wire_buf b = { 0 };
	size_t cut;

	(void)state;
	std_stream(&b, 3);
	for (cut = 0; cut < b.len; cut++) {
		struct bwe_wire_dec *d = parent_dec(&parse_req);
		size_t used;

		assert_int_equal(bwe_wire_dec_feed(d, b.p, cut, &used), 0);
		assert_int_equal(used, cut);
		assert_false(cut && bwe_wire_dec_idle(d));
		bwe_wire_dec_free(d);
	}
	bwe_wire_buf_free(&b);
}

/* The child refuses malformed requests too. */
static void test_bad_requests(void **state)
{
	struct bwe_job_req fetch = { .kind = BWE_JOB_FETCH,
				     .job = 1,
				     .url = "http://x/",
				     .max_bytes = 10,
				     .timeout_s = 10 };
	struct bwe_wire_buf b = { 0 };
	struct bwe_wire_dec *d;
	struct bwe_wire_fetch *f;

	(void)state;
	assert_int_equal(bwe_wire_put_request(&b, &fetch), 0);
	f = (struct bwe_wire_fetch *)(b.p + HDR);
	memcpy(f->url, "file:///etc/shadow", 19);
	assert_int_equal(bwe_wire_dec_new(BWE_WIRE_TO_CHILD, &d), 0);
	assert_int_equal(feed_all(d, &b), -EBADMSG);
	assert_string_equal(bwe_wire_dec_error(d), "frame 1: url is not http:// or https://");
	bwe_wire_dec_free(d);
	bwe_wire_buf_free(&b);

	/* plain http only with the insecure flag; ca_file absolute; no unknown flags */
	{
		static const struct {
			const char *url, *ca_file;
			bool insecure;
			__u32 extra_flags;
			const char *err; /* NULL: accepted */
		} rows[] = {
			{ "http://x/", NULL, false, 0,
			  "frame 1: url is plain http:// without the insecure flag" },
			{ "HTTP://x/", NULL, false, 0,
			  "frame 1: url is plain http:// without the insecure flag" },
			{ "http://x/", NULL, true, 0, NULL },
			{ "https://x/", NULL, false, 0, NULL },
			{ "https://x/", "/etc/ca.pem", false, 0, NULL },
			{ "https://x/", "ca.pem", false, 0,
			  "frame 1: ca_file is not an absolute path" },
			{ "https://x/", NULL, false, 0x80, "frame 1: unknown fetch flags 0x80" },
		};

		for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
			const struct bwe_job_req *got;
			size_t used;
			int r;

			fetch.url = rows[i].url;
			fetch.ca_file = rows[i].ca_file;
			fetch.insecure = rows[i].insecure;
			assert_int_equal(bwe_wire_put_request(&b, &fetch), 0);
			f = (struct bwe_wire_fetch *)(b.p + HDR);
			f->flags |= rows[i].extra_flags;
			assert_int_equal(bwe_wire_dec_new(BWE_WIRE_TO_CHILD, &d), 0);
			r = bwe_wire_dec_feed(d, b.p, b.len, &used);
			if (rows[i].err) {
				assert_int_equal(r, -EBADMSG);
				assert_string_equal(bwe_wire_dec_error(d), rows[i].err);
			} else {
				assert_int_equal(r, 1);
				got = bwe_wire_dec_request(d);
				assert_int_equal(got->insecure, rows[i].insecure);
				assert_string_equal(got->ca_file,
						    rows[i].ca_file ? rows[i].ca_file : "");
			}
			bwe_wire_dec_free(d);
			bwe_wire_buf_free(&b);
		}
		fetch.url = "http://x/";
		fetch.ca_file = NULL;
		fetch.insecure = false;
	}

	/* a request that cannot be encoded */
	fetch.url = NULL;
	{
		char longurl[BWE_WIRE_URL_MAX + 10];

		memset(longurl, 'a', sizeof(longurl) - 1);
		longurl[sizeof(longurl) - 1] = '\0';
		fetch.url = longurl;
		assert_int_equal(bwe_wire_put_request(&b, &fetch), -ENAMETOOLONG);
		assert_int_equal(b.len, 0);
	}
	bwe_wire_buf_free(&b);
}

/*
 * An announced body length reserves nothing: the buffer grows with the
 * bytes that arrive (found by fuzz_wire, corpus/wire/oom_announced_body:
 * a 48-byte PARSE request that announced 3.5 GB). Checked in a child under
 * a 256 MiB RLIMIT_DATA: the decoder must ask for more bytes, not fail.
 */
static void test_announced_body_reserves_nothing(void **state)
{
	struct bwe_job_req parse = { .kind = BWE_JOB_PARSE,
				     .job = 1,
				     .body = "192.0.2.1\n",
				     .body_len = 10 };
	struct bwe_wire_buf b = { 0 };
	struct bwe_wire_parse *p;
	int st;
	pid_t pid;

	(void)state;
	assert_int_equal(bwe_wire_put_request(&b, &parse), 0);
	p = (struct bwe_wire_parse *)(b.p + HDR);
	p->body_len = 3500000000ULL; /* END never comes: the job stays open */
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		struct rlimit rl = { .rlim_cur = 256u << 20, .rlim_max = 256u << 20 };
		struct bwe_wire_dec *d;
		size_t used;
		/* the request and its one body frame, without the END frame */
		size_t n = HDR + sizeof(*p) + HDR + 10;

		if (setrlimit(RLIMIT_DATA, &rl) || bwe_wire_dec_new(BWE_WIRE_TO_CHILD, &d))
			_exit(2);
		_exit(bwe_wire_dec_feed(d, b.p, n, &used) == 0 && used == n ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	bwe_wire_buf_free(&b);
}

/* ---- crowdsec-lapi: decision records, and requests with a secret --------------- */

static const struct bwe_job_req cs_req = {
	.kind = BWE_JOB_PARSE,
	.job = JOB,
	.body_len = 4096,
	.parse = { .format = BWE_FMT_CROWDSEC },
};

/* A crowdsec-lapi response: a new Ip, a new Range, a deleted Ip, one reject. */
static void cs_stream(struct bwe_wire_buf *b)
{
	struct bwe_wire_result r = { .format = BWE_FMT_CROWDSEC,
				     .lines = 4,
				     .accepted = 3,
				     .rejected = 1 };
	struct bwe_wire_end end = { .decisions = 3, .rejects = 1 };
	struct bwe_cs_decision d[] = {
		{ .op = BWE_CS_NEW,
		  .scope = BWE_CS_SCOPE_IP,
		  .id = 12,
		  .duration_s = 14399,
		  .origin = "crowdsec",
		  .scenario = "crowdsecurity/ssh-bf" },
		{ .op = BWE_CS_NEW,
		  .scope = BWE_CS_SCOPE_RANGE,
		  .id = 13,
		  .duration_s = 60,
		  .origin = "lists",
		  .scenario = "" },
		{ .op = BWE_CS_DELETED,
		  .scope = BWE_CS_SCOPE_IP,
		  .id = 3,
		  .origin = "cscli",
		  .scenario = "manual 'ban' from 'x'" },
	};

	pfx("198.51.100.7", &d[0].pfx);
	pfx("203.0.113.0/24", &d[1].pfx);
	pfx("2001:db8::bad", &d[2].pfx);
	assert_int_equal(bwe_wire_put_frame(b, BWE_WIRE_RES_RESULT, JOB, &r, sizeof(r)), 0);
	for (size_t i = 0; i < ARRAY_SIZE(d); i++)
		assert_int_equal(bwe_wire_put_decision(b, JOB, &d[i]), 0);
	assert_int_equal(bwe_wire_put_reject(b, JOB, 4, "duration is not a Go duration", "4 hours"),
			 0);
	assert_int_equal(bwe_wire_put_frame(b, BWE_WIRE_END, JOB, &end, sizeof(end)), 0);
}

static void test_decisions_roundtrip(void **state)
{
	struct bwe_wire_buf b = { 0 };
	struct bwe_wire_dec *d = parent_dec(&cs_req);
	struct bwe_job_result r;
	char s[BWE_PREFIX_STRLEN];

	(void)state;
	cs_stream(&b);
	assert_int_equal(feed_all(d, &b), 1);
	assert_int_equal(bwe_wire_dec_take_result(d, &r), 0);
	assert_int_equal(r.n_decisions, 3);
	assert_int_equal(r.n_inds, 0);
	assert_int_equal(r.decisions[0].op, BWE_CS_NEW);
	assert_int_equal(r.decisions[0].scope, BWE_CS_SCOPE_IP);
	assert_int_equal(r.decisions[0].id, 12);
	assert_int_equal(r.decisions[0].duration_s, 14399);
	assert_string_equal(r.decisions[0].origin, "crowdsec");
	assert_string_equal(r.decisions[0].scenario, "crowdsecurity/ssh-bf");
	bwe_prefix_fmt(&r.decisions[1].pfx, s, sizeof(s));
	assert_string_equal(s, "203.0.113.0/24");
	assert_string_equal(r.decisions[1].scenario, "");
	assert_int_equal(r.decisions[2].op, BWE_CS_DELETED);
	assert_int_equal(r.decisions[2].duration_s, 0);
	assert_string_equal(r.decisions[2].scenario, "manual 'ban' from 'x'");
	assert_int_equal(r.n_rejects, 1);
	assert_string_equal(r.rejects[0].excerpt, "4 hours");
	bwe_job_result_free(&r);
	bwe_wire_dec_free(d);
	bwe_wire_buf_free(&b);
}

/* Offset of decision record k (0-based) of cs_stream: all in one frame. */
static size_t cs_rec(size_t k)
{
	static const size_t lens[] = {
		sizeof(struct bwe_wire_decision) + sizeof("crowdsec") +
			sizeof("crowdsecurity/ssh-bf"),
		sizeof(struct bwe_wire_decision) + sizeof("lists") + 1,
	};
	size_t off = RESULT_FRAME + HDR;

	for (size_t i = 0; i < k; i++)
		off += lens[i];
	return off;
}

static void cs_patch(struct bwe_wire_buf *b, size_t k, size_t field, const void *v, size_t n)
{
	cs_stream(b);
	patch(b, cs_rec(k) + field, v, n);
}

static void c_op(struct bwe_wire_buf *b)
{
	__u8 v = 7;

	cs_patch(b, 0, offsetof(struct bwe_wire_decision, op), &v, 1);
}

static void c_scope(struct bwe_wire_buf *b)
{
	__u8 v = 0;

	cs_patch(b, 1, offsetof(struct bwe_wire_decision, scope), &v, 1);
}

static void c_id(struct bwe_wire_buf *b)
{
	__s64 v = -5;

	cs_patch(b, 0, offsetof(struct bwe_wire_decision, id), &v, 8);
}

static void c_duration(struct bwe_wire_buf *b)
{
	__s64 v = BWE_CS_DURATION_MAX_S + 1;

	cs_patch(b, 0, offsetof(struct bwe_wire_decision, duration_s), &v, 8);
}

static void c_zero_duration(struct bwe_wire_buf *b)
{
	__s64 v = 0;

	cs_patch(b, 1, offsetof(struct bwe_wire_decision, duration_s), &v, 8);
}

static void c_deleted_duration(struct bwe_wire_buf *b)
{
	__s64 v = 5;

	cs_patch(b, 2, offsetof(struct bwe_wire_decision, duration_s), &v, 8);
}

static void c_ip_range(struct bwe_wire_buf *b)
{
	__u8 v = BWE_CS_SCOPE_IP;

	cs_patch(b, 1, offsetof(struct bwe_wire_decision, scope), &v, 1);
}

static void c_pad(struct bwe_wire_buf *b)
{
	__u16 v = 1;

	cs_patch(b, 0, offsetof(struct bwe_wire_decision, pad), &v, 2);
}

static void c_hostbits(struct bwe_wire_buf *b)
{
	__u8 v = 9; /* 203.0.113.9/24 */

	cs_patch(b, 1, offsetof(struct bwe_wire_decision, pfx) + 15, &v, 1);
}

static void c_origin_ctl(struct bwe_wire_buf *b)
{
	char v = '\n';

	cs_patch(b, 0, sizeof(struct bwe_wire_decision) + 2, &v, 1);
}

static void c_count(struct bwe_wire_buf *b)
{
	__u64 v = 2;

	cs_stream(b);
	patch(b, b->len - sizeof(struct bwe_wire_end) + offsetof(struct bwe_wire_end, decisions),
	      &v, 8);
}

/* Indicators in a crowdsec-lapi job, decisions in a plain one: both refused. */
static void c_indicator(struct bwe_wire_buf *b)
{
	struct bwe_wire_result r = { .format = BWE_FMT_CROWDSEC, .accepted = 1 };
	struct bwe_job_ind ind = { .line = 1 };

	pfx("192.0.2.1", &ind.pfx);
	assert_int_equal(bwe_wire_put_frame(b, BWE_WIRE_RES_RESULT, JOB, &r, sizeof(r)), 0);
	assert_int_equal(bwe_wire_put_ind(b, JOB, &ind), 0);
}

static const struct bad_row cs_bad_rows[] = {
	{ "unknown operation", true, c_op, "frame 2: decision 1: operation 7 unknown" },
	{ "unknown scope", true, c_scope, "frame 2: decision 2: scope 0 unknown" },
	{ "id not positive", true, c_id, "frame 2: decision 1: id -5 is not positive" },
	{ "duration too long", true, c_duration,
	  "frame 2: decision 1: duration 316224001 s outside 1..316224000" },
	{ "new without duration", true, c_zero_duration,
	  "frame 2: decision 2: duration 0 s outside 1..316224000" },
	{ "deleted with a duration", true, c_deleted_duration,
	  "frame 2: decision 3: a deleted decision with a duration" },
	{ "scope Ip on a range", true, c_ip_range,
	  "frame 2: decision 2: scope Ip with prefix length 120" },
	{ "padding", true, c_pad, "frame 2: decision 1: padding not zero" },
	{ "host bits", true, c_hostbits, "frame 2: indicator 2: host bits set past /120" },
	{ "origin with a newline", true, c_origin_ctl,
	  "frame 2: decision 1: control byte 0x0a in the string" },
	{ "END count differs", true, c_count, "frame 4: END says 2 decisions, 3 received" },
	{ "indicators in a crowdsec-lapi job", true, c_indicator,
	  "frame 2: INDICATORS frame in a job of format crowdsec-lapi" },
};

static void test_bad_decisions(void **state)
{
	size_t i, bad = 0;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cs_bad_rows); i++) {
		const struct bad_row *row = &cs_bad_rows[i];
		struct bwe_wire_buf b = { 0 };
		struct bwe_wire_dec *d = parent_dec(&cs_req);
		int ret;

		row->build(&b);
		ret = feed_all(d, &b);
		if (ret != -EBADMSG || strcmp(bwe_wire_dec_error(d), row->error)) {
			print_error("row \"%s\": returned %d, error \"%s\", expected \"%s\"\n",
				    row->desc, ret, bwe_wire_dec_error(d), row->error);
			bad++;
		}
		bwe_wire_dec_free(d);
		bwe_wire_buf_free(&b);
	}
	/* decisions answering a job of another format */
	{
		struct bwe_wire_buf b = { 0 };
		struct bwe_wire_dec *d = parent_dec(&parse_req);

		cs_stream(&b);
		assert_int_equal(feed_all(d, &b), -EBADMSG);
		assert_string_equal(bwe_wire_dec_error(d),
				    "frame 2: DECISIONS frame in a job not of format crowdsec-lapi");
		bwe_wire_dec_free(d);
		bwe_wire_buf_free(&b);
	}
	assert_int_equal(bad, 0);
}

/* The secret of a FETCH: encoded, checked on both sides, wiped. */
static void test_auth_requests(void **state)
{
	static const struct {
		enum bwe_wire_auth auth;
		const char *name, *secret;
		bool ok;
	} rows[] = {
		{ BWE_WIRE_AUTH_NONE, NULL, NULL, true },
		{ BWE_WIRE_AUTH_HEADER, "X-Api-Key", "1191b9292741a3f2360fc3841a1495de", true },
		{ BWE_WIRE_AUTH_BASIC, "taxii-reader", "pass word:with colon", true },
		{ BWE_WIRE_AUTH_BEARER, "", "eyJhbGciOi.x.y", true },
		{ BWE_WIRE_AUTH_HEADER, "X Api Key", "k", false },
		{ BWE_WIRE_AUTH_HEADER, "X-Api-Key", "", false },
		{ BWE_WIRE_AUTH_HEADER, "X-Api-Key", "k\r\nX-Injected: 1", false },
		{ BWE_WIRE_AUTH_BASIC, "a:b", "p", false },
		{ BWE_WIRE_AUTH_BEARER, "someone", "t", false },
		{ BWE_WIRE_AUTH_NONE, NULL, "stray", false },
		{ BWE_WIRE_AUTH_COUNT, "x", "y", false },
	};
	struct bwe_job_req fetch = { .kind = BWE_JOB_FETCH,
				     .job = 1,
				     .url = "https://lapi.example/",
				     .max_bytes = 10,
				     .timeout_s = 10 };
	struct bwe_wire_buf b = { 0 };
	struct bwe_wire_dec *d;
	struct bwe_wire_fetch *f;
	char big[BWE_WIRE_SECRET_MAX + 1];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		const struct bwe_job_req *g;

		fetch.auth = rows[i].auth;
		fetch.auth_name = rows[i].name;
		fetch.secret = rows[i].secret;
		if (!rows[i].ok) {
			assert_int_equal(bwe_wire_put_request(&b, &fetch), -EINVAL);
			assert_int_equal(b.len, 0);
			continue;
		}
		assert_int_equal(bwe_wire_put_request(&b, &fetch), 0);
		assert_int_equal(bwe_wire_dec_new(BWE_WIRE_TO_CHILD, &d), 0);
		assert_int_equal(feed_all(d, &b), 1);
		g = bwe_wire_dec_request(d);
		assert_int_equal(g->auth, rows[i].auth);
		assert_string_equal(g->auth_name, rows[i].name ? rows[i].name : "");
		assert_string_equal(g->secret, rows[i].secret ? rows[i].secret : "");
		bwe_wire_dec_free(d);
		bwe_wire_buf_wipe(&b);
	}
	memset(big, 'k', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	fetch.auth = BWE_WIRE_AUTH_HEADER;
	fetch.auth_name = "X-Api-Key";
	fetch.secret = big;
	assert_int_equal(bwe_wire_put_request(&b, &fetch), -ENAMETOOLONG);
	bwe_wire_buf_free(&b);

	/* the child's decoder judges what a parent could not have encoded */
	fetch.secret = "k";
	assert_int_equal(bwe_wire_put_request(&b, &fetch), 0);
	f = (struct bwe_wire_fetch *)(b.p + HDR);
	memcpy(f->auth_name, "X-Api:Key", 10);
	assert_int_equal(bwe_wire_dec_new(BWE_WIRE_TO_CHILD, &d), 0);
	assert_int_equal(feed_all(d, &b), -EBADMSG);
	assert_string_equal(bwe_wire_dec_error(d),
			    "frame 1: auth 1: header name holds a byte outside A-Z a-z 0-9 -");
	bwe_wire_dec_free(d);
	memcpy(f->auth_name, "X-Api-Key", 10);
	f->secret[0] = '\x1b';
	assert_int_equal(bwe_wire_dec_new(BWE_WIRE_TO_CHILD, &d), 0);
	assert_int_equal(feed_all(d, &b), -EBADMSG);
	/* the reason names the field, never the secret's bytes */
	assert_string_equal(bwe_wire_dec_error(d),
			    "frame 1: secret holds control byte 0x1b at offset 0");
	bwe_wire_dec_free(d);
	f->secret[0] = 'k';
	f->pad = 1;
	assert_int_equal(bwe_wire_dec_new(BWE_WIRE_TO_CHILD, &d), 0);
	assert_int_equal(feed_all(d, &b), -EBADMSG);
	assert_string_equal(bwe_wire_dec_error(d), "frame 1: fetch padding not zero");
	bwe_wire_dec_free(d);
	/* repaired, it passes; wiping frees the buffer */
	f->pad = 0;
	memcpy(f->secret, "s3cr3t-key-value", 17);
	assert_int_equal(bwe_wire_dec_new(BWE_WIRE_TO_CHILD, &d), 0);
	assert_int_equal(feed_all(d, &b), 1);
	assert_string_equal(bwe_wire_dec_request(d)->secret, "s3cr3t-key-value");
	bwe_wire_dec_free(d);
	bwe_wire_buf_wipe(&b);
	assert_null(b.p);
}

/* ---- FETCH with a POST body (misp), and taxii values ------------------------------- */

static void test_post_requests(void **state)
{
	static const char body[] = "{\"returnFormat\":\"json\",\"last\":\"30d\"}";
	struct bwe_job_req fetch = { .kind = BWE_JOB_FETCH,
				     .job = 3,
				     .url = "https://misp.example/attributes/restSearch",
				     .max_bytes = 1000,
				     .timeout_s = 10,
				     .method = BWE_WIRE_POST,
				     .body = body,
				     .body_len = sizeof(body) - 1,
				     .parse = { .format = BWE_FMT_MISP },
				     .auth = BWE_WIRE_AUTH_HEADER,
				     .auth_name = "Authorization",
				     .secret = "k3y" };
	const struct bwe_job_req *got;
	struct bwe_wire_buf b = { 0 };
	struct bwe_wire_dec *d;
	struct bwe_wire_fetch *f;
	size_t used;

	(void)state;
	assert_int_equal(bwe_wire_put_request(&b, &fetch), 0);
	assert_int_equal(bwe_wire_dec_new(BWE_WIRE_TO_CHILD, &d), 0);
	assert_int_equal(bwe_wire_dec_feed(d, b.p, b.len, &used), 1);
	got = bwe_wire_dec_request(d);
	assert_int_equal(got->method, BWE_WIRE_POST);
	assert_int_equal(got->body_len, sizeof(body) - 1);
	assert_memory_equal(got->body, body, sizeof(body) - 1);
	assert_string_equal(got->secret, "k3y");
	assert_int_equal(got->parse.format, BWE_FMT_MISP);
	bwe_wire_dec_free(d);

	/* the announced body must come, whole */
	f = (struct bwe_wire_fetch *)(b.p + HDR);
	f->body_len++;
	assert_int_equal(bwe_wire_dec_new(BWE_WIRE_TO_CHILD, &d), 0);
	assert_int_equal(bwe_wire_dec_feed(d, b.p, b.len, &used), -EBADMSG);
	assert_string_equal(bwe_wire_dec_error(d),
			    "frame 3: FETCH announced 37 body bytes, 36 received");
	bwe_wire_dec_free(d);
	/* a GET with a body, an unknown method, a POST too large */
	f->method = BWE_WIRE_GET;
	assert_int_equal(bwe_wire_dec_new(BWE_WIRE_TO_CHILD, &d), 0);
	assert_int_equal(bwe_wire_dec_feed(d, b.p, b.len, &used), -EBADMSG);
	assert_string_equal(bwe_wire_dec_error(d), "frame 1: a GET with a body of 37 bytes");
	bwe_wire_dec_free(d);
	f->method = 9;
	assert_int_equal(bwe_wire_dec_new(BWE_WIRE_TO_CHILD, &d), 0);
	assert_int_equal(bwe_wire_dec_feed(d, b.p, b.len, &used), -EBADMSG);
	assert_string_equal(bwe_wire_dec_error(d), "frame 1: method 9 unknown");
	bwe_wire_dec_free(d);
	f->method = BWE_WIRE_POST;
	f->body_len = BWE_WIRE_POST_MAX + 1;
	assert_int_equal(bwe_wire_dec_new(BWE_WIRE_TO_CHILD, &d), 0);
	assert_int_equal(bwe_wire_dec_feed(d, b.p, b.len, &used), -EBADMSG);
	assert_string_equal(bwe_wire_dec_error(d),
			    "frame 1: POST body length 65537 outside 1..65536");
	bwe_wire_dec_free(d);
	bwe_wire_buf_free(&b);

	/* the encoder refuses what the decoder would */
	fetch.body_len = 0;
	assert_int_equal(bwe_wire_put_request(&b, &fetch), -EINVAL);
	fetch.body_len = BWE_WIRE_POST_MAX + 1;
	assert_int_equal(bwe_wire_put_request(&b, &fetch), -EINVAL);
	fetch.method = 5;
	fetch.body_len = 3;
	assert_int_equal(bwe_wire_put_request(&b, &fetch), -EINVAL);
	assert_int_equal(b.len, 0);
	/* a body in a RESOLVE job */
	{
		const char *names[] = { "a.example" };
		struct bwe_job_req res = { .kind = BWE_JOB_RESOLVE,
					   .job = 4,
					   .names = names,
					   .n_names = 1 };

		assert_int_equal(bwe_wire_put_request(&b, &res), 0);
		b.len -= HDR + sizeof(struct bwe_wire_end);
		assert_int_equal(bwe_wire_put_bytes(&b, BWE_WIRE_REQ_BODY, 4, "x", 1), 0);
		assert_int_equal(bwe_wire_dec_new(BWE_WIRE_TO_CHILD, &d), 0);
		assert_int_equal(bwe_wire_dec_feed(d, b.p, b.len, &used), -EBADMSG);
		assert_string_equal(bwe_wire_dec_error(d), "frame 3: BODY frame in a RESOLVE job");
		bwe_wire_dec_free(d);
		bwe_wire_buf_free(&b);
	}
}

static const struct bwe_job_req taxii_req = {
	.kind = BWE_JOB_FETCH,
	.job = JOB,
	.url = "https://taxii.example/api1/collections/c/objects/",
	.max_bytes = 4096,
	.timeout_s = 10,
	.parse = { .format = BWE_FMT_TAXII },
};

/* A taxii poll: an object with a prefix and a domain, a revoked one, a cursor. */
static void taxii_stream(struct bwe_wire_buf *b, const char *cursor)
{
	struct bwe_wire_result r = { .format = BWE_FMT_TAXII, .lines = 2, .accepted = 3 };
	struct bwe_wire_end end = { .taxii = 3 };
	struct bwe_taxii_val v[] = {
		{ .id = "indicator--a",
		  .modified = { 1768032000, 5 },
		  .valid_until = 1801440000,
		  .kind = BWE_TAXII_PREFIX },
		{ .id = "indicator--a",
		  .modified = { 1768032000, 5 },
		  .valid_until = 1801440000,
		  .kind = BWE_TAXII_DOMAIN,
		  .domain = "relay.proxyware.example" },
		{ .id = "indicator--b",
		  .modified = { 1769938200, 0 },
		  .revoked = true,
		  .kind = BWE_TAXII_NONE },
	};

	snprintf(r.cursor, sizeof(r.cursor), "%s", cursor);
	pfx("198.51.100.0/24", &v[0].pfx);
	assert_int_equal(bwe_wire_put_frame(b, BWE_WIRE_RES_RESULT, JOB, &r, sizeof(r)), 0);
	for (size_t i = 0; i < ARRAY_SIZE(v); i++)
		assert_int_equal(bwe_wire_put_taxii(b, JOB, &v[i]), 0);
	assert_int_equal(bwe_wire_put_frame(b, BWE_WIRE_END, JOB, &end, sizeof(end)), 0);
}

static void test_taxii_roundtrip(void **state)
{
	struct bwe_wire_buf b = { 0 };
	struct bwe_wire_dec *d = parent_dec(&taxii_req);
	struct bwe_job_result r;
	char s[BWE_PREFIX_STRLEN];

	(void)state;
	taxii_stream(&b, "2026-01-12T00:00:00.123Z");
	assert_int_equal(feed_all(d, &b), 1);
	assert_int_equal(bwe_wire_dec_take_result(d, &r), 0);
	assert_string_equal(r.cursor, "2026-01-12T00:00:00.123Z");
	assert_int_equal(r.n_taxii, 3);
	assert_int_equal(r.n_inds, 0);
	assert_string_equal(r.taxii[0].id, "indicator--a");
	assert_int_equal(r.taxii[0].modified.sec, 1768032000);
	assert_int_equal(r.taxii[0].modified.nsec, 5);
	assert_int_equal(r.taxii[0].valid_until, 1801440000);
	bwe_prefix_fmt(&r.taxii[0].pfx, s, sizeof(s));
	assert_string_equal(s, "198.51.100.0/24");
	assert_int_equal(r.taxii[1].kind, BWE_TAXII_DOMAIN);
	assert_string_equal(r.taxii[1].domain, "relay.proxyware.example");
	assert_true(r.taxii[2].revoked);
	assert_int_equal(r.taxii[2].kind, BWE_TAXII_NONE);
	bwe_job_result_free(&r);
	bwe_wire_dec_free(d);
	bwe_wire_buf_free(&b);
}

/* Offset of taxii record 0's head: in the first DATA frame after RESULT. */
#define TAXII0 (RESULT_FRAME + HDR)

static void t_kind(struct bwe_wire_buf *b)
{
	__u8 k = 7;

	taxii_stream(b, "");
	patch(b, TAXII0 + offsetof(struct bwe_wire_taxii, kind), &k, 1);
}

static void t_revoked_prefix(struct bwe_wire_buf *b)
{
	__u8 one = 1;

	taxii_stream(b, "");
	patch(b, TAXII0 + offsetof(struct bwe_wire_taxii, revoked), &one, 1);
}

static void t_ns(struct bwe_wire_buf *b)
{
	__u32 ns = 1000000000u;

	taxii_stream(b, "");
	patch(b, TAXII0 + offsetof(struct bwe_wire_taxii, modified_ns), &ns, sizeof(ns));
}

static void t_pad(struct bwe_wire_buf *b)
{
	__u16 one = 1;

	taxii_stream(b, "");
	patch(b, TAXII0 + offsetof(struct bwe_wire_taxii, pad), &one, sizeof(one));
}

static void t_name_len(struct bwe_wire_buf *b)
{
	__u16 two = 2;

	taxii_stream(b, "");
	patch(b, TAXII0 + offsetof(struct bwe_wire_taxii, name_len), &two, sizeof(two));
}

static void t_hostbits(struct bwe_wire_buf *b)
{
	__u8 host = 7;

	taxii_stream(b, "");
	patch(b, TAXII0 + offsetof(struct bwe_wire_taxii, pfx) + 15, &host, 1);
}

static void t_cursor_ctl(struct bwe_wire_buf *b)
{
	taxii_stream(b, "2026\x01");
}

static const struct bad_row taxii_bad_rows[] = {
	{ "unknown kind", true, t_kind, "frame 2: taxii value 1: kind 7 unknown" },
	{ "revoked with a prefix", true, t_revoked_prefix,
	  "frame 2: taxii value 1: revoked 1 with kind 1" },
	{ "nanoseconds", true, t_ns, "frame 2: taxii value 1: 1000000000 ns" },
	{ "padding", true, t_pad, "frame 2: taxii value 1: padding not zero" },
	{ "a name on a prefix", true, t_name_len,
	  "frame 2: taxii value 1: name length 2 with kind 1" },
	{ "host bits", true, t_hostbits, "frame 2: indicator 1: host bits set past /120" },
	{ "cursor with a control byte", true, t_cursor_ctl,
	  "frame 1: cursor holds control byte 0x01 at offset 4" },
};

static void test_bad_taxii(void **state)
{
	size_t bad = 0;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(taxii_bad_rows); i++) {
		const struct bad_row *row = &taxii_bad_rows[i];
		struct bwe_wire_buf b = { 0 };
		struct bwe_wire_dec *d = parent_dec(&taxii_req);
		int ret;

		row->build(&b);
		ret = feed_all(d, &b);
		if (ret != -EBADMSG || strcmp(bwe_wire_dec_error(d), row->error)) {
			print_error("row \"%s\": returned %d, error \"%s\", expected \"%s\"\n",
				    row->desc, ret, bwe_wire_dec_error(d), row->error);
			bad++;
		}
		bwe_wire_dec_free(d);
		bwe_wire_buf_free(&b);
	}
	/* taxii values answering a job of another format, and indicators a taxii job */
	{
		struct bwe_wire_buf b = { 0 };
		struct bwe_wire_dec *d = parent_dec(&parse_req);

		taxii_stream(&b, "");
		assert_int_equal(feed_all(d, &b), -EBADMSG);
		assert_string_equal(bwe_wire_dec_error(d), "frame 2: TAXII frame in a PARSE job");
		bwe_wire_dec_free(d);
		bwe_wire_buf_free(&b);
		d = parent_dec(&taxii_req);
		std_stream(&b, 3);
		assert_int_equal(feed_all(d, &b), -EBADMSG);
		assert_string_equal(bwe_wire_dec_error(d),
				    "frame 2: INDICATORS frame in a FETCH job of format taxii");
		bwe_wire_dec_free(d);
		bwe_wire_buf_free(&b);
	}
	/* a cursor in a job of another format */
	{
		struct bwe_wire_buf b = { 0 };
		struct bwe_wire_dec *d = parent_dec(&parse_req);
		struct bwe_wire_result r = { .format = BWE_FMT_PLAIN };
		struct bwe_wire_end end = { 0 };

		snprintf(r.cursor, sizeof(r.cursor), "2026-01-01T00:00:00Z");
		assert_int_equal(bwe_wire_put_frame(&b, BWE_WIRE_RES_RESULT, JOB, &r, sizeof(r)),
				 0);
		assert_int_equal(bwe_wire_put_frame(&b, BWE_WIRE_END, JOB, &end, sizeof(end)), 0);
		assert_int_equal(feed_all(d, &b), -EBADMSG);
		assert_string_equal(bwe_wire_dec_error(d),
				    "frame 1: a cursor in a job not of format taxii");
		bwe_wire_dec_free(d);
		bwe_wire_buf_free(&b);
	}
	assert_int_equal(bad, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_result_roundtrip),
		cmocka_unit_test(test_fetch_result_roundtrip),
		cmocka_unit_test(test_resolve_result_roundtrip),
		cmocka_unit_test(test_request_roundtrip),
		cmocka_unit_test(test_bad_streams),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_bad_requests),
		cmocka_unit_test(test_announced_body_reserves_nothing),
		cmocka_unit_test(test_decisions_roundtrip),
		cmocka_unit_test(test_bad_decisions),
		cmocka_unit_test(test_auth_requests),
		cmocka_unit_test(test_post_requests),
		cmocka_unit_test(test_taxii_roundtrip),
		cmocka_unit_test(test_bad_taxii),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
