// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fuzz_proto.c - libFuzzer target of the control protocol's request path
 * as bwctld runs it on what a socket peer sends: the incremental frame
 * decoder (bytes in pieces), then bwe_request_parse() and
 * bwe_request_args() (lib/proto.h). Besides the sanitizers it checks the
 * contract and aborts on a violation:
 *   - the decoder never takes more than it is given nor a byte past its
 *     frame; a complete frame is header + payload, NUL-terminated; it says
 *     -EMSGSIZE exactly when the header announces more than the maximum;
 *   - feeding in pieces gives the same answer as feeding all at once;
 *   - a parsed request has a known command; a refused one an error text
 *     without control characters;
 *   - typed arguments are in range: 1..BWE_PROTO_ITEMS_MAX prefixes with
 *     host bits clear and never /0, top n <= BWE_PROTO_TOP_MAX, known
 *     enums;
 *   - bwe_escape_ctl() leaves no control character and stays in bounds.
 *
 * Input: byte 0 chooses the mode. Bit 7 set: the rest is a payload and the
 * target writes its length prefix (so the fuzzer reaches the JSON at once);
 * clear: the rest goes to the decoder as it is (headers too). Bits 0-3 + 1
 * are the piece size.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_PAYLOAD 4096 /* a smaller decoder maximum, so both sides are reached */

static void check_text(const char *s, size_t max)
{
	size_t i;

	CHECK(strlen(s) < max);
	for (i = 0; s[i]; i++)
		CHECK((unsigned char)s[i] >= 0x20 && (unsigned char)s[i] != 0x7f);
}

/* Feed in pieces of step bytes; returns the decoder's last answer and what it took. */
static int decode(struct bwe_proto_dec *d, const uint8_t *p, size_t n, size_t step, size_t *taken)
{
	int r = 0;

	*taken = 0;
	while (*taken < n && !r) {
		size_t len = n - *taken < step ? n - *taken : step, used = 0;

		r = bwe_proto_dec_feed(d, p + *taken, len, &used);
		CHECK(used <= len);
		CHECK(r != 0 || used == len);
		*taken += used;
	}
	return r;
}

static void check_request(const char *buf, size_t len)
{
	struct bwe_request q;
	char err[512] = "";
	char shown[64];
	size_t i;
	int e = bwe_request_parse(buf, len, &q, err, sizeof(err));

	if (e) {
		CHECK(e == -EBADMSG || e == -EINVAL);
		CHECK(err[0]);
		check_text(err, sizeof(err));
		CHECK(!q.obj && !q.pfx);
		return;
	}
	CHECK((unsigned int)q.cmd < BWE_CMDS && q.obj);
	CHECK(bwe_cmd_role(q.cmd) == BWE_ROLE_READ || bwe_cmd_role(q.cmd) == BWE_ROLE_ADMIN);
	if (q.argv) {
		bwe_escape_ctl(q.argv, shown, sizeof(shown));
		check_text(shown, sizeof(shown));
	}
	e = bwe_request_args(&q, err, sizeof(err));
	if (e) {
		CHECK(e == -EINVAL || e == -ENOMEM);
		CHECK(err[0]);
		check_text(err, sizeof(err));
		CHECK(!q.pfx);
	} else {
		CHECK(q.n <= BWE_PROTO_ITEMS_MAX && (!q.n || q.pfx));
		for (i = 0; i < q.n; i++) {
			struct bwe_prefix back;
			char txt[BWE_PREFIX_STRLEN];

			CHECK(q.pfx[i].plen > 0 && q.pfx[i].plen <= BWE_ADDR_BITS);
			CHECK(!bwe_prefix_fmt(&q.pfx[i], txt, sizeof(txt)));
			CHECK(!bwe_prefix_parse(txt, &back, 0));
			CHECK(!bwe_prefix_cmp(&back, &q.pfx[i])); /* host bits were clear */
		}
		CHECK(q.top_n <= BWE_PROTO_TOP_MAX);
		CHECK((unsigned int)q.kind <= BWE_LIST_ALLOW);
		CHECK((unsigned int)q.sort <= BWE_TOP_RATE);
		CHECK(!strcmp(bwe_top_sort_name(q.sort), bwe_top_sort_name(q.sort)));
		/* a token's name and scopes are the grammar the token store takes */
		if (q.cmd == BWE_CMD_TOKEN_ADD)
			CHECK(q.scopes && !(q.scopes & ~BWE_SCOPES_ALL));
		if (q.cmd == BWE_CMD_TOKEN_ADD || q.cmd == BWE_CMD_TOKEN_REVOKE)
			CHECK(bwe_token_name_ok(q.token) && strlen(q.token) <= BWE_TOKEN_NAME_MAX);
	}
	bwe_request_free(&q);
	CHECK(!q.obj && !q.pfx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bwe_proto_dec a, b;
	uint8_t *frame = NULL;
	const uint8_t *p;
	size_t n, step, ta, tb, announced;
	int ra, rb;

	if (!size)
		return 0;
	step = (data[0] & 0x0f) + 1;
	if (data[0] & 0x80) {
		n = size - 1 + BWE_PROTO_HDR_LEN;
		frame = malloc(n);
		if (!frame)
			return 0;
		frame[0] = (uint8_t)((size - 1) >> 24);
		frame[1] = (uint8_t)((size - 1) >> 16);
		frame[2] = (uint8_t)((size - 1) >> 8);
		frame[3] = (uint8_t)(size - 1);
		memcpy(frame + BWE_PROTO_HDR_LEN, data + 1, size - 1);
		p = frame;
	} else {
		p = data + 1;
		n = size - 1;
	}
	bwe_proto_dec_init(&a, FUZZ_MAX_PAYLOAD);
	bwe_proto_dec_init(&b, FUZZ_MAX_PAYLOAD);
	ra = decode(&a, p, n, step, &ta);
	rb = decode(&b, p, n, n ? n : 1, &tb);
	CHECK(ra == rb && ta == tb);
	CHECK(ra == 0 || ra == 1 || ra == -EMSGSIZE);
	if (n >= BWE_PROTO_HDR_LEN) {
		announced = ((size_t)p[0] << 24) | ((size_t)p[1] << 16) | ((size_t)p[2] << 8) |
			    p[3];
		CHECK((ra == -EMSGSIZE) == (announced > FUZZ_MAX_PAYLOAD));
		if (ra == -EMSGSIZE)
			CHECK(ta == BWE_PROTO_HDR_LEN);
		if (ra == 1) {
			CHECK(ta == BWE_PROTO_HDR_LEN + announced && a.len == announced);
			CHECK(a.buf[a.len] == '\0' && !memcmp(a.buf, b.buf, a.len));
			CHECK(bwe_proto_dec_want(&a) == 0);
			check_request(a.buf, a.len);
		}
	} else {
		CHECK(ra == 0 && ta == n);
	}
	if (ra == 0)
		CHECK(bwe_proto_dec_want(&a) > 0);
	bwe_proto_dec_free(&a);
	bwe_proto_dec_free(&b);
	free(frame);
	return 0;
}
