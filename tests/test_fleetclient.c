// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_fleetclient.c - the fleet worker's framing and the parent's judge
 * (lib/fleetwire.c, lib/fleetclient.c): frames cut anywhere, lengths of 0
 * and over 64 KiB, messages that are not JSON, of unknown type, with a
 * missing or extra field, bad keys, values and revisions; then the client
 * against a fake worker (build/tools/fleetprobe --fake, started by
 * lib/sandbox.c as nobody) that sends a good stream, then garbage: a DONE
 * for an id never sent, a KV outside a snapshot, a watch event going
 * backwards, a SNAP_END whose count is wrong, an oversize frame, and a
 * worker that exits with a request in flight (-ECHILD), and one that breaks
 * the fleet worker's seccomp profile (SIGSYS), and one that never answers a
 * ping (killed after 15 s).
 *
 * The fake-worker tests need root (the child switches to nobody); the
 * others run anywhere. Run from the repository root.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>

#include <cmocka.h>

#include "bwe_util.h"
#include "fleetclient.h"
#include "fleetwire.h"

#define FAKE	"build/tools/fleetprobe"
#define WAIT_MS 10000
#define EV_MAX	64

/* ---- framing ------------------------------------------------------------------ */

static size_t frame(char *out, const char *json)
{
	size_t len = strlen(json);

	out[0] = (char)(len >> 24);
	out[1] = (char)(len >> 16);
	out[2] = (char)(len >> 8);
	out[3] = (char)len;
	memcpy(out + 4, json, len);
	return len + 4;
}

static void test_frames_cut_anywhere(void **state)
{
	const char *a = "{\"t\":\"rev\",\"rev\":5}", *b = "{\"t\":\"pong\",\"seq\":1}";
	char buf[256];
	size_t n = frame(buf, a), cut;

	(void)state;
	n += frame(buf + n, b);
	for (cut = 0; cut <= n; cut++) {
		struct bwe_flw_dec d = { .max = BWE_FLW_FRAME_MAX };
		size_t off = 0, used, got = 0;

		/* two pieces, split at every byte */
		while (off < n) {
			size_t piece = off < cut ? cut - off : n - off;
			int r = bwe_flw_dec_feed(&d, buf + off, piece, &used);

			assert_true(r >= 0);
			off += used;
			if (r == 1) {
				assert_string_equal(d.frame, got ? b : a);
				got++;
			}
		}
		assert_int_equal(got, 2);
		assert_true(bwe_flw_dec_idle(&d));
		bwe_flw_dec_free(&d);
	}
}

static void test_frame_lengths(void **state)
{
	struct bwe_flw_dec d = { .max = BWE_FLW_FRAME_MAX };
	const unsigned char zero[4] = { 0, 0, 0, 0 }, big[4] = { 0, 1, 0, 1 },
			    max[4] = { 0, 1, 0, 0 };
	size_t used;

	(void)state;
	assert_int_equal(bwe_flw_dec_feed(&d, zero, 4, &used), -EMSGSIZE);
	bwe_flw_dec_free(&d);
	d = (struct bwe_flw_dec){ .max = BWE_FLW_FRAME_MAX };
	assert_int_equal(bwe_flw_dec_feed(&d, big, 4, &used), -EMSGSIZE); /* 65537 */
	bwe_flw_dec_free(&d);
	d = (struct bwe_flw_dec){ .max = BWE_FLW_FRAME_MAX };
	assert_int_equal(bwe_flw_dec_feed(&d, max, 4, &used), 0); /* 65536: allowed, incomplete */
	assert_false(bwe_flw_dec_idle(&d));
	bwe_flw_dec_free(&d);
}

/* ---- the judge ----------------------------------------------------------------- */

struct pcase {
	const char *json;
	int ok;		 /* 1 accepted */
	const char *why; /* a part of the reason when refused */
};

static const struct pcase PCASES[] = {
	{ "{\"t\":\"state\",\"connected\":true,\"endpoint\":\"https://198.19.0.1:2379\","
	  "\"rev\":7,\"error\":\"\"}",
	  1, NULL },
	{ "{\"t\":\"kv\",\"key\":\"entries/quarantine/198.18.0.10_32\",\"value\":\"djE=\",\"mod\":3}",
	  1, NULL },
	{ "{\"t\":\"put\",\"key\":\"a\",\"value\":\"\",\"mod\":4611686018427387904}", 1, NULL },
	{ "{\"t\":\"done\",\"id\":4294967295,\"status\":-110,\"error\":\"timed out\",\"rev\":0}", 1,
	  NULL },
	{ "{\"t\":\"refused\",\"key\":\"a b\\\\x00\",\"error\":\"bad key\",\"mod\":9}", 1, NULL },
	{ "{\"t\":\"following\",\"rev\":0}", 1, NULL },
	{ "{\"t\":\"lease\",\"id\":9223372036854775807}", 1, NULL },
	{ "{\"t\":\"lease\",\"id\":0}", 0, "id: not a lease ID" },
	/* not a message */
	{ "", 0, "not one JSON object" },
	{ "[1,2]", 0, "not a JSON object" },
	{ "{\"t\":\"rev\",\"rev\":5} x", 0, "not one JSON object" },
	{ "{\"t\":\"rev\",\"rev\":5}{}", 0, "not one JSON object" },
	{ "{\"rev\":5}", 0, "no message type" },
	{ "{\"t\":5}", 0, "no message type" },
	{ "{\"t\":\"launch\"}", 0, "unknown message type \"launch\"" },
	{ "{\"t\":\"rev\",\"rev\":{\"a\":{\"b\":1}}}", 0, "not one JSON object" }, /* depth */
	/* fields */
	{ "{\"t\":\"rev\"}", 0, "rev: no rev" },
	{ "{\"t\":\"rev\",\"rev\":5,\"extra\":1}", 0, "not one of its own" },
	{ "{\"t\":\"rev\",\"rev\":\"5\"}", 0, "not a revision" },
	{ "{\"t\":\"rev\",\"rev\":0}", 0, "not a revision in 1..2^62" },
	{ "{\"t\":\"rev\",\"rev\":-1}", 0, "not a revision" },
	{ "{\"t\":\"rev\",\"rev\":4611686018427387905}", 0, "not a revision" },
	{ "{\"t\":\"rev\",\"rev\":1.5}", 0, "not a revision" },
	{ "{\"t\":\"rev\",\"rev\":99999999999999999999999}", 0, "not a revision" },
	{ "{\"t\":\"del\",\"key\":\"\",\"mod\":3}", 0, "key: not 1..256" },
	{ "{\"t\":\"del\",\"key\":\"a b\",\"mod\":3}", 0, "key: not 1..256" },
	{ "{\"t\":\"del\",\"key\":\"a\\u0000b\",\"mod\":3}", 0, "a NUL byte inside" },
	{ "{\"t\":\"del\",\"key\":\"caf\\u00e9\",\"mod\":3}", 0, "key: not 1..256" },
	{ "{\"t\":\"del\",\"key\":5,\"mod\":3}", 0, "key: not a string" },
	{ "{\"t\":\"del\",\"key\":\"a\",\"mod\":0}", 0, "mod: not a revision" },
	{ "{\"t\":\"put\",\"key\":\"a\",\"value\":\"djE\",\"mod\":3}", 0, "value: not base64" },
	{ "{\"t\":\"put\",\"key\":\"a\",\"value\":\"dj!=\",\"mod\":3}", 0, "value: not base64" },
	{ "{\"t\":\"put\",\"key\":\"a\",\"value\":\"djF=\",\"mod\":3}", 0, "value: not base64" },
	{ "{\"t\":\"done\",\"id\":0,\"status\":0,\"error\":\"\",\"rev\":3}", 0,
	  "id: not a request" },
	{ "{\"t\":\"done\",\"id\":4294967296,\"status\":0,\"error\":\"\",\"rev\":3}", 0,
	  "id: not" },
	{ "{\"t\":\"done\",\"id\":1,\"status\":5,\"error\":\"\",\"rev\":3}", 0, "not 0 or -errno" },
	{ "{\"t\":\"done\",\"id\":1,\"status\":-5,\"error\":\"a\\nb\",\"rev\":0}", 0,
	  "error: not a printable" },
	{ "{\"t\":\"state\",\"connected\":1,\"endpoint\":\"\",\"rev\":0,\"error\":\"\"}", 0,
	  "not a boolean" },
	{ "{\"t\":\"state\",\"connected\":false,\"endpoint\":\"file:///etc\",\"rev\":0,"
	  "\"error\":\"\"}",
	  0, "not an http(s) URL" },
	{ "{\"t\":\"refused\",\"key\":\"\",\"error\":\"x\",\"mod\":9}", 0, "printable" },
	{ "{\"t\":\"snap_end\",\"rev\":3,\"count\":-1}", 0, "count" },
};

static void test_parse_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(PCASES); i++) {
		struct bwe_flw_msg m;
		char why[BWE_FLC_ERR_MAX] = "";
		int r = bwe_flw_parse(PCASES[i].json, strlen(PCASES[i].json), &m, why, sizeof(why));

		if (PCASES[i].ok != (r == 0) || (!PCASES[i].ok && !strstr(why, PCASES[i].why))) {
			print_error("case %zu: %s -> %d \"%s\"\n", i, PCASES[i].json, r, why);
			fail();
		}
	}
}

static void test_parse_keys_values(void **state)
{
	char key[BWE_FLC_KEY_MAX + 2], val[BWE_FLC_VALUE_MAX + 2], b64[2 * BWE_FLC_VALUE_MAX];
	char json[4 * BWE_FLC_VALUE_MAX], why[BWE_FLC_ERR_MAX];
	struct bwe_flw_msg m;

	(void)state;
	memset(key, 'k', BWE_FLC_KEY_MAX);
	key[BWE_FLC_KEY_MAX] = '\0';
	snprintf(json, sizeof(json), "{\"t\":\"del\",\"key\":\"%s\",\"mod\":1}", key);
	assert_int_equal(bwe_flw_parse(json, strlen(json), &m, why, sizeof(why)), 0);
	assert_int_equal(strlen(m.key), BWE_FLC_KEY_MAX);
	key[BWE_FLC_KEY_MAX] = 'k';
	key[BWE_FLC_KEY_MAX + 1] = '\0';
	snprintf(json, sizeof(json), "{\"t\":\"del\",\"key\":\"%s\",\"mod\":1}", key);
	assert_int_equal(bwe_flw_parse(json, strlen(json), &m, why, sizeof(why)), -EBADMSG);

	memset(val, 0xa5, sizeof(val));
	bwe_flw_b64_encode(val, BWE_FLC_VALUE_MAX, b64);
	snprintf(json, sizeof(json), "{\"t\":\"put\",\"key\":\"k\",\"value\":\"%s\",\"mod\":1}",
		 b64);
	assert_int_equal(bwe_flw_parse(json, strlen(json), &m, why, sizeof(why)), 0);
	assert_int_equal(m.value_len, BWE_FLC_VALUE_MAX);
	assert_memory_equal(m.value, val, BWE_FLC_VALUE_MAX);
	bwe_flw_b64_encode(val, BWE_FLC_VALUE_MAX + 1, b64);
	snprintf(json, sizeof(json), "{\"t\":\"put\",\"key\":\"k\",\"value\":\"%s\",\"mod\":1}",
		 b64);
	assert_int_equal(bwe_flw_parse(json, strlen(json), &m, why, sizeof(why)), -EBADMSG);
	assert_non_null(strstr(why, "more than 8192 bytes"));
}

static void test_b64_and_checks(void **state)
{
	const char *in[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	const char *exp[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
	char out[32], back[32];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(in); i++) {
		bwe_flw_b64_encode(in[i], strlen(in[i]), out);
		assert_string_equal(out, exp[i]);
		assert_int_equal(bwe_flw_b64_decode(out, strlen(out), back, sizeof(back)),
				 (long)strlen(in[i]));
		assert_memory_equal(back, in[i], strlen(in[i]));
	}
	assert_int_equal(bwe_flw_b64_decode("Zm9vYmFy", 8, back, 5), -E2BIG);
	assert_int_equal(bwe_flw_b64_decode("Zm=v", 4, back, 8), -EINVAL);
	assert_int_equal(bwe_flw_b64_decode("====", 4, back, 8), -EINVAL);

	assert_true(bwe_flw_key_ok("entries/quarantine/198.18.0.10_32", 33));
	assert_true(bwe_flw_key_ok("sites/a:b-c", 11));
	assert_false(bwe_flw_key_ok("a\nb", 3));
	assert_false(bwe_flw_key_ok("a b", 3));
	assert_false(bwe_flw_key_ok("a", 0));
	assert_true(bwe_flw_prefix_ok("/bwenforce/"));
	assert_false(bwe_flw_prefix_ok("/bwenforce"));
	assert_false(bwe_flw_prefix_ok(""));
	assert_false(bwe_flw_prefix_ok("/a b/"));
	assert_true(bwe_flw_endpoint_ok("https://198.19.0.1:2379"));
	assert_true(bwe_flw_endpoint_ok("http://etcd-1.example:2379/"));
	assert_true(bwe_flw_endpoint_ok("https://[2001:db8::1]:2379"));
	assert_false(bwe_flw_endpoint_ok("ftp://198.19.0.1:2379"));
	assert_false(bwe_flw_endpoint_ok("https://"));
	assert_false(bwe_flw_endpoint_ok("https://a:2379/v3/kv"));
	assert_false(bwe_flw_endpoint_ok("https://user@a:2379"));
	assert_false(bwe_flw_endpoint_ok("https://a:23x9"));
	assert_false(bwe_flw_endpoint_ok("https://a b:2379"));
}

/* ---- the client against a fake worker -------------------------------------------- */

struct rec {
	struct bwe_flc_ev ev;
	char key[BWE_FLC_KEY_MAX + 1], error[BWE_FLC_ERR_MAX];
};

struct fx {
	struct bwe_flc *c;
	int ep;
	struct rec ev[EV_MAX];
	size_t n;
	char path[PATH_MAX];
};

static void on_event(const struct bwe_flc_ev *ev, void *ctx)
{
	struct fx *f = ctx;
	struct rec *r;

	if (f->n >= EV_MAX)
		return;
	r = &f->ev[f->n++];
	r->ev = *ev;
	snprintf(r->key, sizeof(r->key), "%s", ev->key ? ev->key : "");
	snprintf(r->error, sizeof(r->error), "%s", ev->error ? ev->error : "");
}

static void fx_start(struct fx *f, const char *const *steps)
{
	char *argv[24] = { (char *)"fleetprobe", (char *)"--fake" };
	struct bwe_flc_conf conf = {
		.sandbox = { .argv = argv,
			     .user = "nobody",
			     .backoff_min_ms = 60000,
			     .backoff_max_ms = 60000 },
		.endpoints = { "http://127.0.0.1:9" },
		.nendpoints = 1,
		.prefix = "/bwe-test/",
		.site = "fake",
		.on_event = on_event,
		.ctx = f,
	};
	size_t i;

	for (i = 0; steps[i]; i++)
		argv[i + 2] = (char *)(uintptr_t)steps[i];
	assert_non_null(realpath(FAKE, f->path));
	conf.sandbox.path = f->path;
	f->ep = epoll_create1(EPOLL_CLOEXEC);
	assert_true(f->ep >= 0);
	assert_int_equal(bwe_flc_new(&conf, &f->c), 0);
}

static void fx_turn(struct fx *f, int max_ms)
{
	epoll_data_t data = { .u64 = 1 };
	struct epoll_event ev[4];
	int i, n;

	assert_int_equal(bwe_flc_epoll_sync(f->c, f->ep, data), 0);
	n = epoll_wait(f->ep, ev, ARRAY_SIZE(ev), max_ms);
	for (i = 0; i < n; i++) {
		if (ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			bwe_flc_on_readable(f->c);
		if (ev[i].events & EPOLLOUT)
			bwe_flc_on_writable(f->c);
	}
	bwe_flc_tick(f->c);
}

/* Run until an event of type t whose error contains what (NULL: any) arrived. */
static const struct rec *fx_wait_ms(struct fx *f, enum bwe_flc_ev_type t, const char *what,
				    __u64 ms)
{
	__u64 end = bwe_sandbox_now_ms() + ms;
	size_t i;

	for (;;) {
		for (i = 0; i < f->n; i++)
			if (f->ev[i].ev.type == t && (!what || strstr(f->ev[i].error, what)))
				return &f->ev[i];
		if (bwe_sandbox_now_ms() >= end)
			return NULL;
		fx_turn(f, 50);
	}
}

static const struct rec *fx_wait(struct fx *f, enum bwe_flc_ev_type t, const char *what)
{
	return fx_wait_ms(f, t, what, WAIT_MS);
}

static void fx_stop(struct fx *f)
{
	bwe_flc_free(f->c);
	close(f->ep);
	memset(f, 0, sizeof(*f));
}

static size_t count(const struct fx *f, enum bwe_flc_ev_type t)
{
	size_t i, n = 0;

	for (i = 0; i < f->n; i++)
		n += f->ev[i].ev.type == t;
	return n;
}

static void test_fake_good_stream(void **state)
{
	static const char *const steps[] = {
		"want:follow",
		"{\"t\":\"following\",\"rev\":0}",
		"{\"t\":\"state\",\"connected\":true,\"endpoint\":\"http://127.0.0.1:9\",\"rev\":5,"
		"\"error\":\"\"}",
		"{\"t\":\"snap_begin\",\"rev\":5}",
		"{\"t\":\"kv\",\"key\":\"a\",\"value\":\"djE=\",\"mod\":4}",
		"{\"t\":\"refused\",\"key\":\"bad key\",\"error\":\"key not 1..256 bytes\",\"mod\":5}",
		"{\"t\":\"snap_end\",\"rev\":5,\"count\":1}",
		"{\"t\":\"put\",\"key\":\"b\",\"value\":\"\",\"mod\":6}",
		"{\"t\":\"put\",\"key\":\"c\",\"value\":\"\",\"mod\":6}",
		"{\"t\":\"del\",\"key\":\"a\",\"mod\":7}",
		"want:put",
		"{\"t\":\"done\",\"id\":1,\"status\":0,\"error\":\"\",\"rev\":8}",
		NULL,
	};
	struct fx f = { 0 };
	struct bwe_flc_status st;
	const struct rec *r;
	__u32 id = 0;

	(void)state;
	fx_start(&f, steps);
	assert_int_equal(bwe_flc_follow(f.c, 0), 0);
	assert_non_null(fx_wait(&f, BWE_FLC_EV_DEL, NULL));
	assert_int_equal(bwe_flc_put(f.c, "x/y", "v", 1, 0, BWE_FLC_LEASE_NONE, &id), 0);
	r = fx_wait(&f, BWE_FLC_EV_DONE, NULL);
	assert_non_null(r);
	assert_int_equal(r->ev.id, id);
	assert_int_equal(r->ev.status, 0);
	assert_int_equal(r->ev.revision, 8);
	assert_int_equal(count(&f, BWE_FLC_EV_SNAP_KV), 1);
	assert_int_equal(count(&f, BWE_FLC_EV_PUT), 2);
	assert_int_equal(count(&f, BWE_FLC_EV_REFUSED), 1);
	bwe_flc_status(f.c, &st);
	assert_true(st.connected);
	assert_int_equal(st.last_delivered, 7);
	assert_int_equal(st.queued, 0);
	assert_true(st.pid > 0);
	fx_stop(&f);
}

/* The worker sends steps; the client must kill it with a reason containing why. */
static void expect_garbage(const char *const *steps, bool follow, const char *why)
{
	struct fx f = { 0 };
	const struct rec *r;
	size_t i;

	fx_start(&f, steps);
	if (follow)
		assert_int_equal(bwe_flc_follow(f.c, 0), 0);
	r = fx_wait(&f, BWE_FLC_EV_STATE, "fleet worker sent garbage");
	if (!r || !strstr(r->error, why)) {
		print_error("expected \"%s\", got \"%s\"\n", why, r ? r->error : "(nothing)");
		fail();
	}
	assert_false(r->ev.connected);
	/* nothing after the garbage was delivered */
	for (i = (size_t)(r - f.ev) + 1; i < f.n; i++)
		assert_int_equal(f.ev[i].ev.type, BWE_FLC_EV_STATE);
	fx_stop(&f);
}

static void test_fake_garbage(void **state)
{
	static const char *const done_unknown[] = {
		"{\"t\":\"done\",\"id\":7,\"status\":0,\"error\":\"\",\"rev\":3}", NULL
	};
	static const char *const kv_outside[] = {
		"want:follow", "{\"t\":\"following\",\"rev\":0}",
		"{\"t\":\"kv\",\"key\":\"a\",\"value\":\"\",\"mod\":3}", NULL
	};
	static const char *const backwards[] = {
		"want:follow",
		"{\"t\":\"following\",\"rev\":0}",
		"{\"t\":\"snap_begin\",\"rev\":5}",
		"{\"t\":\"snap_end\",\"rev\":5,\"count\":0}",
		"{\"t\":\"put\",\"key\":\"a\",\"value\":\"\",\"mod\":9}",
		"{\"t\":\"put\",\"key\":\"b\",\"value\":\"\",\"mod\":8}",
		NULL,
	};
	static const char *const bad_count[] = {
		"want:follow",
		"{\"t\":\"following\",\"rev\":0}",
		"{\"t\":\"snap_begin\",\"rev\":5}",
		"{\"t\":\"kv\",\"key\":\"a\",\"value\":\"\",\"mod\":3}",
		"{\"t\":\"snap_end\",\"rev\":5,\"count\":2}",
		NULL,
	};
	static const char *const kv_after[] = {
		"want:follow",
		"{\"t\":\"following\",\"rev\":0}",
		"{\"t\":\"snap_begin\",\"rev\":5}",
		"{\"t\":\"kv\",\"key\":\"a\",\"value\":\"\",\"mod\":6}",
		NULL,
	};
	static const char *const no_follow[] = {
		"{\"t\":\"put\",\"key\":\"a\",\"value\":\"\",\"mod\":6}", NULL
	};
	static const char *const oversize[] = { "raw:00010001", NULL };
	static const char *const unknown[] = { "{\"t\":\"exec\",\"cmd\":\"sh\"}", NULL };
	static const char *const bad_key[] = {
		"want:follow", "{\"t\":\"following\",\"rev\":0}",
		"{\"t\":\"snap_begin\",\"rev\":5}",
		"{\"t\":\"kv\",\"key\":\"a;rm -rf\",\"value\":\"\",\"mod\":3}", NULL
	};
	static const char *const pong[] = { "{\"t\":\"pong\",\"seq\":3}", NULL };

	(void)state;
	expect_garbage(done_unknown, false, "frame 1: done: request 7 is not outstanding");
	expect_garbage(kv_outside, true, "frame 2: kv outside a snapshot");
	expect_garbage(backwards, true, "put b: mod_revision 8 before 9 (out of order)");
	expect_garbage(bad_count, true, "snap_end: revision 5 count 2 does not close");
	expect_garbage(kv_after, true, "kv a: mod_revision 6 after the snapshot's 5");
	expect_garbage(no_follow, false, "an event without a follow");
	expect_garbage(oversize, false, "a frame length of 0 or over 65536 bytes");
	expect_garbage(unknown, false, "unknown message type \"exec\"");
	expect_garbage(bad_key, true, "kv: key: not 1..256 bytes");
	expect_garbage(pong, false, "pong 3: no such ping outstanding");
}

static void test_fake_dies_in_flight(void **state)
{
	static const char *const steps[] = { "want:put", "exit", NULL };
	struct fx f = { 0 };
	const struct rec *r;
	__u32 id = 0;

	(void)state;
	fx_start(&f, steps);
	assert_int_equal(bwe_flc_put(f.c, "q/1", "v", 1, 0, BWE_FLC_LEASE_SITE, &id), 0);
	r = fx_wait(&f, BWE_FLC_EV_DONE, NULL);
	assert_non_null(r);
	assert_int_equal(r->ev.id, id);
	assert_int_equal(r->ev.status, -ECHILD);
	assert_non_null(strstr(r->error, "fleet worker died: exit code 0"));
	assert_non_null(fx_wait(&f, BWE_FLC_EV_STATE, "fleet worker died"));
	fx_stop(&f);
}

static void test_fake_seccomp(void **state)
{
	static const char *const steps[] = { "violate", NULL };
	struct fx f = { 0 };
	const struct rec *r;

	(void)state;
	fx_start(&f, steps);
	r = fx_wait(&f, BWE_FLC_EV_STATE, "fleet worker died");
	assert_non_null(r);
	assert_string_equal(r->error, "fleet worker died: killed by signal 31 (seccomp violation)");
	fx_stop(&f);
}

/* A worker that reads but never answers: killed after a ping's 5 + 10 s. */
static void test_fake_hangs(void **state)
{
	static const char *const steps[] = { NULL };
	struct fx f = { 0 };
	const struct rec *r;
	__u64 t0 = bwe_sandbox_now_ms();

	(void)state;
	fx_start(&f, steps);
	r = fx_wait_ms(&f, BWE_FLC_EV_STATE, "did not answer", 20000);
	assert_non_null(r);
	assert_string_equal(r->error, "fleet worker did not answer a ping within 10 s; killed");
	assert_true(bwe_sandbox_now_ms() - t0 >= 14000);
	fx_stop(&f);
}

static void test_bad_requests(void **state)
{
	static const char *const steps[] = { NULL };
	char big[BWE_FLC_VALUE_MAX + 1] = { 0 };
	struct fx f = { 0 };

	(void)state;
	fx_start(&f, steps);
	assert_int_equal(bwe_flc_put(f.c, "a b", "v", 1, 0, BWE_FLC_LEASE_NONE, NULL), -EINVAL);
	assert_int_equal(bwe_flc_put(f.c, "", "v", 1, 0, BWE_FLC_LEASE_NONE, NULL), -EINVAL);
	assert_int_equal(bwe_flc_put(f.c, "a", big, sizeof(big), 0, BWE_FLC_LEASE_NONE, NULL),
			 -EINVAL);
	assert_int_equal(bwe_flc_put(f.c, "a", "v", 1, 5, BWE_FLC_LEASE_SITE, NULL), -EINVAL);
	assert_int_equal(bwe_flc_del(f.c, "a\n", NULL), -EINVAL);
	assert_int_equal(bwe_flc_follow(f.c, -1), -EINVAL);
	fx_stop(&f);
}

static void test_bad_conf(void **state)
{
	struct bwe_flc_conf conf = {
		.sandbox = { .path = "/bin/false", .argv = (char *const[]){ "false", NULL } },
		.endpoints = { "http://127.0.0.1:9" },
		.nendpoints = 1,
		.prefix = "/bwe-test/",
		.site = "x",
		.on_event = on_event,
	};
	struct bwe_flc *c = NULL;

	(void)state;
	conf.prefix = "/no-slash";
	assert_int_equal(bwe_flc_new(&conf, &c), -EINVAL);
	conf.prefix = "/bwe-test/";
	conf.endpoints[0] = "etcd:2379";
	assert_int_equal(bwe_flc_new(&conf, &c), -EINVAL);
	conf.endpoints[0] = "http://127.0.0.1:9";
	conf.cert_pem = "-----BEGIN CERTIFICATE-----\n";
	assert_int_equal(bwe_flc_new(&conf, &c), -EINVAL); /* a cert without a key */
	conf.cert_pem = NULL;
	conf.user = "u";
	assert_int_equal(bwe_flc_new(&conf, &c), -EINVAL); /* a user without a password */
	conf.user = NULL;
	conf.ca_pem = "not a PEM";
	assert_int_equal(bwe_flc_new(&conf, &c), -EINVAL);
	assert_null(c);
}

int main(void)
{
	const struct CMUnitTest pure[] = {
		cmocka_unit_test(test_frames_cut_anywhere),
		cmocka_unit_test(test_frame_lengths),
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_parse_keys_values),
		cmocka_unit_test(test_b64_and_checks),
		cmocka_unit_test(test_bad_conf),
	};
	const struct CMUnitTest worker[] = {
		cmocka_unit_test(test_fake_good_stream),    cmocka_unit_test(test_fake_garbage),
		cmocka_unit_test(test_fake_dies_in_flight), cmocka_unit_test(test_fake_seccomp),
		cmocka_unit_test(test_fake_hangs),	    cmocka_unit_test(test_bad_requests),
	};
	int rc = cmocka_run_group_tests_name("fleetwire", pure, NULL, NULL);

	if (geteuid()) {
		fprintf(stderr, "test_fleetclient: the fake-worker tests need root (skipped)\n");
		return rc;
	}
	signal(SIGPIPE, SIG_IGN);
	return rc | cmocka_run_group_tests_name("fleetclient", worker, NULL, NULL);
}
