// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fuzz_wire.c - libFuzzer target of the feed worker's framing (lib/wire.c):
 * the incremental decoder in both directions, fed in chunks whose sizes
 * the input chooses, every completed job taken (and checked) and freed.
 * The parent side decodes what a compromised worker may send; the child
 * side decodes what the parent sends. See fuzz/README.md.
 *
 * Input: a 4-byte head, then the byte stream.
 *   byte 0  bit 0: direction (0 to the child, 1 to the parent);
 *           bits 1-2: the job the parent expects (FETCH, PARSE, RESOLVE);
 *           bit 3: its format is crowdsec-lapi (decision records);
 *           bit 4: its format is taxii (a FETCH answers with taxii values)
 *   byte 1  seed of the chunk sizes (1..CHUNK_MAX bytes, sometimes all)
 *   byte 2  RESOLVE: names asked (1..NAMES_MAX); PARSE: body_len / 16
 *   byte 3  reserved (part of the seed)
 *
 * Besides the sanitizers, each completed job is checked against wire.h's
 * contract; a violation aborts, so libFuzzer keeps the input.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "wire.h"
#include "fuzz_check.h"

#define HEAD	  4
#define CHUNK_MAX 64	     /* bytes of a small chunk */
#define NAMES_MAX 8	     /* names a fuzzed RESOLVE asks for */
#define MAX_BYTES (1u << 20) /* FETCH body cap the parent expects */
#define JOB	  1	     /* the job id the parent expects */

/* Read every byte of p[0..n) (ASan reports a bad one); the sum is not used. */
extern volatile unsigned char fuzz_wire_sink;
volatile unsigned char fuzz_wire_sink;

static void touch(const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		fuzz_wire_sink ^= b[i];
}

static __u32 next_rand(__u32 *s)
{
	/* xorshift32: deterministic, so a crash reproduces */
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Printable text (wire.h: no byte < 0x20 or 0x7f), n bytes then NUL. */
static void check_text(const char *s, size_t max)
{
	size_t n;

	CHECK(s);
	n = strnlen(s, max);
	CHECK(n < max);
	for (size_t i = 0; i < n; i++)
		CHECK((unsigned char)s[i] >= 0x20 && s[i] != 0x7f);
}

static void check_name(const char *s)
{
	size_t n;

	CHECK(s);
	n = strnlen(s, BWE_WIRE_NAME_MAX);
	CHECK(n > 0 && n < BWE_WIRE_NAME_MAX);
	for (size_t i = 0; i < n; i++)
		CHECK((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
		      s[i] == '-');
}

static void check_prefix(const struct bwe_prefix *p)
{
	struct bwe_prefix m = *p;

	CHECK(p->plen >= 1 && p->plen <= BWE_ADDR_BITS);
	bwe_prefix_mask(&m);
	CHECK(!memcmp(&m, p, sizeof(m))); /* host bits and padding clear */
}

static void check_result(const struct bwe_job_result *r, const struct bwe_job_req *req)
{
	CHECK(r->job == req->job);
	CHECK(r->kind == req->kind);
	check_text(r->error, sizeof(r->error));
	check_text(r->etag, sizeof(r->etag));
	check_text(r->last_modified, sizeof(r->last_modified));
	CHECK(r->n_rejects <= BWE_WIRE_REJECTS_MAX);
	for (size_t i = 0; i < r->n_inds; i++) {
		check_prefix(&r->inds[i].pfx);
		if (i)
			CHECK(bwe_prefix_cmp(&r->inds[i - 1].pfx, &r->inds[i].pfx) < 0);
		if (r->inds[i].id)
			check_text(r->inds[i].id, BWE_WIRE_ID_MAX);
	}
	for (size_t i = 0; i < r->n_domains; i++)
		check_name(r->domains[i].name);
	/* crowdsec-lapi: decisions only; every other format: none */
	CHECK(req->parse.format == BWE_FMT_CROWDSEC ? !r->n_inds && !r->n_domains
						    : !r->n_decisions);
	/* a taxii FETCH: taxii values only, and a cursor only there */
	if (req->parse.format == BWE_FMT_TAXII && req->kind == BWE_JOB_FETCH)
		CHECK(!r->n_inds && !r->n_domains && !r->n_decisions);
	else
		CHECK(!r->n_taxii && !r->cursor[0]);
	check_text(r->cursor, BWE_TAXII_CURSOR_MAX);
	for (size_t i = 0; i < r->n_taxii; i++) {
		const struct bwe_taxii_val *v = &r->taxii[i];

		check_text(v->id, BWE_WIRE_TAXII_ID_MAX);
		CHECK(v->id[0] && v->modified.nsec < 1000000000u);
		CHECK(v->valid_from >= 0 && v->valid_until >= 0);
		CHECK(!v->revoked || v->kind == BWE_TAXII_NONE);
		if (v->kind == BWE_TAXII_PREFIX)
			check_prefix(&v->pfx);
		else if (v->kind == BWE_TAXII_DOMAIN)
			check_name(v->domain);
		else
			CHECK(v->kind == BWE_TAXII_NONE && !v->domain);
	}
	for (size_t i = 0; i < r->n_decisions; i++) {
		const struct bwe_cs_decision *d = &r->decisions[i];

		check_prefix(&d->pfx);
		CHECK(d->id > 0);
		CHECK(d->scope == BWE_CS_SCOPE_IP || d->scope == BWE_CS_SCOPE_RANGE);
		CHECK(d->scope != BWE_CS_SCOPE_IP || d->pfx.plen == BWE_ADDR_BITS);
		if (d->op == BWE_CS_NEW)
			CHECK(d->duration_s >= 1 && d->duration_s <= BWE_CS_DURATION_MAX_S);
		else
			CHECK(d->op == BWE_CS_DELETED && d->duration_s == 0);
		check_text(d->origin, BWE_WIRE_CS_TEXT_MAX);
		check_text(d->scenario, BWE_WIRE_CS_TEXT_MAX);
	}
	for (size_t i = 0; i < r->n_rejects; i++) {
		check_text(r->rejects[i].reason, BWE_WIRE_REASON_MAX);
		check_text(r->rejects[i].excerpt, BWE_WIRE_EXCERPT_MAX);
	}
	if (r->body) {
		CHECK(r->body_len > 0 && r->body[r->body_len] == '\0');
		CHECK(req->kind == BWE_JOB_FETCH && r->body_len <= req->max_bytes);
	} else {
		CHECK(r->body_len == 0);
	}
	CHECK(r->n_answers <= req->n_names);
	for (size_t i = 0; i < r->n_answers; i++) {
		check_name(r->answers[i].name);
		CHECK(r->answers[i].n_addrs <= BWE_WIRE_ADDRS_MAX);
		touch(r->answers[i].addrs, r->answers[i].n_addrs * sizeof(struct bwe_addr));
	}
}

static void check_request(const struct bwe_job_req *q)
{
	CHECK(q && q->job);
	switch (q->kind) {
	case BWE_JOB_FETCH:
		check_text(q->url, BWE_WIRE_URL_MAX);
		CHECK(!strncasecmp(q->url, "https://", 8) ||
		      (q->insecure && !strncasecmp(q->url, "http://", 7)));
		check_text(q->etag, BWE_WIRE_ETAG_MAX);
		check_text(q->last_modified, BWE_WIRE_LASTMOD_MAX);
		check_text(q->ca_file, BWE_WIRE_PATH_MAX);
		CHECK(q->max_bytes >= 1 && q->max_bytes <= BWE_WIRE_BODY_MAX);
		CHECK(q->timeout_s >= 1);
		check_text(q->auth_name, BWE_WIRE_AUTH_NAME_MAX);
		check_text(q->secret, BWE_WIRE_SECRET_MAX);
		CHECK(q->auth < BWE_WIRE_AUTH_COUNT);
		CHECK(q->auth == BWE_WIRE_AUTH_NONE ? !q->secret[0] && !q->auth_name[0]
						    : q->secret[0] != '\0');
		/* a GET has no body, a POST 1..BWE_WIRE_POST_MAX bytes, all there */
		CHECK(q->method == BWE_WIRE_GET ? !q->body_len
						: q->method == BWE_WIRE_POST && q->body_len >= 1 &&
							  q->body_len <= BWE_WIRE_POST_MAX);
		touch(q->body, q->body_len);
		break;
	case BWE_JOB_PARSE:
		CHECK(q->body || !q->body_len);
		touch(q->body, q->body_len); /* every byte is there */
		break;
	case BWE_JOB_RESOLVE:
		CHECK(q->n_names <= BWE_WIRE_NAMES_MAX);
		for (size_t i = 0; i < q->n_names; i++)
			check_name(q->names[i]);
		break;
	default:
		CHECK(!"unknown request kind");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum bwe_job_kind kinds[] = { BWE_JOB_FETCH, BWE_JOB_PARSE, BWE_JOB_RESOLVE,
						   BWE_JOB_PARSE };
	struct bwe_job_req req = { .job = JOB };
	struct bwe_wire_dec *d;
	bool to_parent;
	size_t off = HEAD;
	__u32 seed;

	if (size < HEAD)
		return 0;
	to_parent = data[0] & 1;
	seed = (__u32)data[1] | (__u32)data[3] << 8 | 0x10000u;
	req.kind = kinds[(data[0] >> 1) & 3];
	if (data[0] & 8)
		req.parse.format = BWE_FMT_CROWDSEC;
	if (data[0] & 16)
		req.parse.format = BWE_FMT_TAXII;
	req.max_bytes = MAX_BYTES;
	req.body_len = (size_t)data[2] * 16;
	req.n_names = 1 + data[2] % NAMES_MAX;
	if (req.kind != BWE_JOB_RESOLVE)
		req.n_names = 0;
	if (bwe_wire_dec_new(to_parent ? BWE_WIRE_TO_PARENT : BWE_WIRE_TO_CHILD, &d))
		return 0;
	if (to_parent)
		CHECK(!bwe_wire_dec_expect(d, &req));
	while (off < size) {
		size_t chunk = next_rand(&seed) % 8 ? 1 + next_rand(&seed) % CHUNK_MAX : size - off;
		size_t used = 0;
		int r;

		if (chunk > size - off)
			chunk = size - off;
		r = bwe_wire_dec_feed(d, data + off, chunk, &used);
		CHECK(used <= chunk);
		off += used;
		if (r < 0) {
			CHECK(r == -EBADMSG || r == -ENOMEM);
			CHECK(bwe_wire_dec_error(d)[0] || r == -ENOMEM);
			break;
		}
		if (r == 0) {
			CHECK(used == chunk); /* all taken while the job is incomplete */
			continue;
		}
		CHECK(r == 1);
		if (to_parent) {
			struct bwe_job_result res;

			CHECK(!bwe_wire_dec_take_result(d, &res));
			check_result(&res, &req);
			bwe_job_result_free(&res);
			CHECK(bwe_wire_dec_idle(d));
			CHECK(!bwe_wire_dec_expect(d, &req));
		} else {
			check_request(bwe_wire_dec_request(d));
		}
	}
	bwe_wire_dec_free(d);
	return 0;
}
