// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fuzz_fleetwire.c - libFuzzer target of the fleet worker's framing
 * (lib/fleetwire.c): the parent's frame reassembly, fed in chunks whose
 * sizes the input chooses, and its judge of every completed frame (what a
 * compromised fleet worker may send). See fuzz/README.md.
 *
 * Input: 1 byte, the seed of the chunk sizes, then the byte stream.
 *
 * Besides the sanitizers, every accepted message is checked against
 * fleetwire.h's contract: keys of 1..BWE_FLC_KEY_MAX bytes of the key
 * charset, values within BWE_FLC_VALUE_MAX, revisions within their
 * ranges, texts printable; a violation aborts, so libFuzzer keeps the input.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fleetwire.h"
#include "fuzz_check.h"

#define CHUNK_MAX 64 /* bytes of a small chunk */

static void check(const struct bwe_flw_msg *m)
{
	switch (m->type) {
	case BWE_FLW_KV:
	case BWE_FLW_PUT:
	case BWE_FLW_DEL:
		CHECK(bwe_flw_key_ok(m->key, strlen(m->key)));
		CHECK(m->mod >= 1 && m->mod <= BWE_FLW_REV_MAX);
		CHECK(m->value_len <= BWE_FLC_VALUE_MAX);
		break;
	case BWE_FLW_REFUSED:
		CHECK(m->key[0] && bwe_flw_text_ok(m->key, BWE_FLC_KEY_MAX));
		break;
	case BWE_FLW_DONE:
		CHECK(m->id >= 1);
		CHECK(m->status <= 0 && m->status >= -4095);
		break;
	case BWE_FLW_STATE:
		CHECK(!m->endpoint[0] || bwe_flw_endpoint_ok(m->endpoint));
		break;
	default:
		break;
	}
	CHECK(m->rev >= 0 && m->rev <= BWE_FLW_REV_MAX);
	CHECK(bwe_flw_text_ok(m->error, BWE_FLC_ERR_MAX - 1));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bwe_flw_dec d = { .max = BWE_FLW_FRAME_MAX };
	static struct bwe_flw_msg m;
	char why[BWE_FLC_ERR_MAX];
	uint32_t seed;
	size_t off = 1;

	if (size < 1)
		return 0;
	seed = data[0] | 1u;
	while (off < size) {
		size_t n = size - off, used;
		int r;

		seed ^= seed << 13;
		seed ^= seed >> 17;
		seed ^= seed << 5;
		if (seed % 4)
			n = n < seed % CHUNK_MAX + 1 ? n : seed % CHUNK_MAX + 1;
		r = bwe_flw_dec_feed(&d, data + off, n, &used);
		CHECK(used <= n);
		off += used;
		if (r < 0) {
			CHECK(r == -EMSGSIZE || r == -ENOMEM);
			break;
		}
		if (r == 1) {
			CHECK(d.len >= 1 && d.len <= BWE_FLW_FRAME_MAX);
			if (!bwe_flw_parse(d.frame, d.len, &m, why, sizeof(why)))
				check(&m);
			else
				CHECK(why[0] && bwe_flw_text_ok(why, sizeof(why) - 1));
		} else {
			CHECK(used == n);
		}
	}
	bwe_flw_dec_free(&d);
	return 0;
}
