// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_control.c - the control protocol's request path without a daemon
 * (lib/proto.h): the incremental frame decoder fed in every piece size,
 * request parsing and typed arguments (force only true or false), the
 * role of every command, and the escaping of client text for the logs.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bwe_util.h"
#include "proto.h"

static size_t frame(const char *json, char *out, size_t len)
{
	size_t n = strlen(json);

	assert_true(n + BWE_PROTO_HDR_LEN <= len);
	out[0] = (char)(n >> 24);
	out[1] = (char)(n >> 16);
	out[2] = (char)(n >> 8);
	out[3] = (char)n;
	memcpy(out + BWE_PROTO_HDR_LEN, json, n);
	return n + BWE_PROTO_HDR_LEN;
}

/* One byte at a time (a client sending a byte a second) or all at once: the same frame. */
static void test_decoder_pieces(void **state)
{
	const char *json = "{\"cmd\":\"status\",\"argv\":\"bwctl status\"}";
	char buf[256];
	size_t n = frame(json, buf, sizeof(buf) - 8), step;

	(void)state;
	memcpy(buf + n, "NEXTREQ!", 8); /* bytes after the frame are never taken */
	for (step = 1; step <= n + 8; step++) {
		struct bwe_proto_dec d;
		size_t off = 0, used;
		int r = 0;

		bwe_proto_dec_init(&d, BWE_PROTO_REQ_MAX);
		while (!r) {
			size_t len = n + 8 - off < step ? n + 8 - off : step;

			assert_true(bwe_proto_dec_want(&d) > 0);
			r = bwe_proto_dec_feed(&d, buf + off, len, &used);
			off += used;
		}
		assert_int_equal(r, 1);
		assert_int_equal(off, n);
		assert_int_equal(d.len, strlen(json));
		assert_string_equal(d.buf, json);
		assert_int_equal(bwe_proto_dec_want(&d), 0);
		bwe_proto_dec_free(&d);
	}
}

/* An announced length over the maximum is refused before any payload is read. */
static void test_decoder_oversized(void **state)
{
	const unsigned char hdr[] = { 0x06, 0x40, 0x00, 0x00, '{', '}' }; /* 100 MiB */
	struct bwe_proto_dec d;
	size_t used;

	(void)state;
	bwe_proto_dec_init(&d, BWE_PROTO_REQ_MAX);
	assert_int_equal(bwe_proto_dec_feed(&d, hdr, 3, &used), 0);
	assert_int_equal(used, 3);
	assert_int_equal(bwe_proto_dec_feed(&d, hdr + 3, 3, &used), -EMSGSIZE);
	assert_int_equal(used, 1);
	assert_null(d.buf);
	bwe_proto_dec_free(&d);
}

static int parse(const char *json, struct bwe_request *q, char *err, size_t len)
{
	int e = bwe_request_parse(json, strlen(json), q, err, len);

	return e ?: bwe_request_args(q, err, len);
}

static void test_requests(void **state)
{
	static const struct {
		const char *json;
		int want;
		const char *err; /* part of the message */
	} rows[] = {
		{ "not json", -EBADMSG, "not a JSON object" },
		{ "[1,2]", -EBADMSG, "not a JSON object" },
		{ "{\"cmd\":\"status\"} trailing", -EBADMSG, "not a JSON object" },
		{ "{}", -EINVAL, "no \"cmd\"" },
		{ "{\"cmd\":42}", -EINVAL, "no \"cmd\"" },
		{ "{\"cmd\":\"frob\\u001b[2J\"}", -EINVAL, "unknown command \"frob\\x1b[2J\"" },
		{ "{\"cmd\":\"status\"}", 0, NULL },
		{ "{\"cmd\":\"quarantine\",\"hosts\":[\"198.18.0.1\"],\"force\":true}", 0, NULL },
		{ "{\"cmd\":\"quarantine\",\"hosts\":[\"198.18.0.1\"],\"force\":false}", 0, NULL },
		{ "{\"cmd\":\"quarantine\",\"hosts\":[\"198.18.0.1\"],\"force\":null}", 0, NULL },
		/* arg_bool: true or false, nothing else */
		{ "{\"cmd\":\"quarantine\",\"hosts\":[\"198.18.0.1\"],\"force\":\"yes\"}", -EINVAL,
		  "force must be true or false" },
		{ "{\"cmd\":\"quarantine\",\"hosts\":[\"198.18.0.1\"],\"force\":1}", -EINVAL,
		  "force must be true or false" },
		{ "{\"cmd\":\"quarantine\",\"hosts\":[\"198.18.0.1\"],\"force\":\"false\"}",
		  -EINVAL, "force must be true or false" },
		{ "{\"cmd\":\"block\",\"cidrs\":[\"0.0.0.0/0\"]}", -EINVAL, "a /0 covers" },
		{ "{\"cmd\":\"block\",\"cidrs\":[\"203.0.113.1/24\"]}", -EINVAL, "host bits" },
		{ "{\"cmd\":\"block\",\"cidrs\":[]}", -EINVAL, "no cidrs given" },
		{ "{\"cmd\":\"block\",\"cidrs\":\"203.0.113.1\"}", -EINVAL, "must be a list" },
		{ "{\"cmd\":\"quarantine\",\"hosts\":[\"198.18.0.1\"],\"ttl\":-5}", -EINVAL,
		  "out of range" },
		{ "{\"cmd\":\"quarantine\",\"hosts\":[\"198.18.0.1\"],\"reason\":7}", -EINVAL,
		  "reason must be a string" },
		{ "{\"cmd\":\"list\",\"kind\":\"everything\"}", -EINVAL,
		  "kind must be quarantine, throttle, blocks, exempt or allow" },
		{ "{\"cmd\":\"list\",\"kind\":\"block\"}", 0, NULL },
		{ "{\"cmd\":\"top\",\"sort\":\"sideways\"}", -EINVAL, "sort must be" },
		{ "{\"cmd\":\"top\",\"n\":100001}", -EINVAL, "out of range" },
		{ "{\"cmd\":\"lookup\",\"address\":\"1.2.3.4.5\"}", -EINVAL, "not an IPv4/IPv6" },
		{ "{\"cmd\":\"attach\",\"iface\":[1]}", -EINVAL, "iface must be a string" },
		{ "{\"cmd\":\"attach\",\"iface\":\"lan0\"}", 0, NULL },
		{ "{\"cmd\":\"attach\",\"iface\":\"e\\u001b[2J\"}", -EINVAL,
		  "\"e\\x1b[2J\" is not an interface name" },
		{ "{\"cmd\":\"detach\",\"iface\":\"../x\"}", -EINVAL, "not an interface name" },
		{ "{\"cmd\":\"detach\",\"iface\":\"sixteen_chars_xx\"}", -EINVAL,
		  "not an interface name" },
		{ "{\"cmd\":\"detach\"}", 0, NULL },
	};
	char err[512];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		struct bwe_request q;
		int e;

		err[0] = '\0';
		e = parse(rows[i].json, &q, err, sizeof(err));
		if (e != rows[i].want || (rows[i].err && !strstr(err, rows[i].err)))
			fail_msg("%s: got %d \"%s\", want %d \"%s\"", rows[i].json, e, err,
				 rows[i].want, rows[i].err ? rows[i].err : "");
		if (!e && strstr(rows[i].json, "\"force\":true"))
			assert_true(q.force);
		if (!e && strstr(rows[i].json, "\"kind\":\"block\""))
			assert_int_equal(q.kind, BWE_LIST_BLOCKS);
		bwe_request_free(&q);
		assert_null(q.obj);
	}
}

/*
 * Hosts may be addresses, MAC addresses or host names for the daemon to
 * resolve (typed apart, names in lower case without the final dot);
 * networks only addresses and CIDRs; text that looks like a broken address
 * never becomes a name.
 */
static void test_host_items(void **state)
{
	static const struct {
		const char *json;
		int want;
		size_t n, nmacs, nnames;
		const char *name; /* the first name as typed, or the error */
	} rows[] = {
		{ "{\"cmd\":\"quarantine\",\"hosts\":[\"198.18.0.1\",\"02:00:00:00:00:aa\","
		  "\"Laptop-12.Example.org.\"],\"prefix64\":true}",
		  0, 1, 1, 1, "laptop-12.example.org" },
		{ "{\"cmd\":\"release\",\"hosts\":[\"02-00-00-00-00-AA\"]}", 0, 0, 1, 0, NULL },
		{ "{\"cmd\":\"throttle\",\"hosts\":[\"nas\"],\"rate\":1000}", 0, 0, 0, 1, "nas" },
		{ "{\"cmd\":\"quarantine\",\"hosts\":[\"198.18.0.300\"]}", -EINVAL, 0, 0, 0,
		  "is not an IPv4/IPv6 address, CIDR, MAC address or host name" },
		{ "{\"cmd\":\"quarantine\",\"hosts\":[\"10.0.0.x1\"]}", -EINVAL, 0, 0, 0,
		  "MAC address or host name" },
		{ "{\"cmd\":\"quarantine\",\"hosts\":[\"02:00:00:00:00\"]}", -EINVAL, 0, 0, 0,
		  "MAC address or host name" },
		{ "{\"cmd\":\"quarantine\",\"hosts\":[\"198.18.0.1\"],\"prefix64\":1}", -EINVAL, 0,
		  0, 0, "prefix64 must be true or false" },
		{ "{\"cmd\":\"block\",\"cidrs\":[\"02:00:00:00:00:aa\"]}", -EINVAL, 0, 0, 0,
		  "not an IPv4/IPv6 address or CIDR" },
		{ "{\"cmd\":\"block\",\"cidrs\":[\"c2.example\"]}", -EINVAL, 0, 0, 0,
		  "not an IPv4/IPv6 address or CIDR" },
		{ "{\"cmd\":\"report\",\"host\":\"02:00:00:00:00:aa\"}", 0, 0, 1, 0, NULL },
		{ "{\"cmd\":\"report\",\"host\":\"NAS.example\"}", 0, 0, 0, 1, "nas.example" },
		{ "{\"cmd\":\"report\",\"host\":\"1.2.3\"}", -EINVAL, 0, 0, 0,
		  "not an IPv4/IPv6 address, MAC address or host name" },
	};
	char err[512];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		struct bwe_request q;
		int e;

		err[0] = '\0';
		e = parse(rows[i].json, &q, err, sizeof(err));
		if (e != rows[i].want || (e && !strstr(err, rows[i].name)))
			fail_msg("%s: got %d \"%s\", want %d \"%s\"", rows[i].json, e, err,
				 rows[i].want, rows[i].name ? rows[i].name : "");
		if (!e) {
			assert_int_equal(q.n, rows[i].n);
			assert_int_equal(q.nmacs, rows[i].nmacs);
			assert_int_equal(q.nnames, rows[i].nnames);
			if (rows[i].name)
				assert_string_equal(q.names[0], rows[i].name);
			if (strstr(rows[i].json, "\"prefix64\":true"))
				assert_true(q.prefix64);
		} else {
			assert_null(q.names);
			assert_null(q.macs);
			assert_null(q.pfx);
		}
		bwe_request_free(&q);
	}
}

/* Every command that changes nothing is read-only; every other needs the admin role. */
static void test_roles(void **state)
{
	static const char *const readonly[] = { "status",	"stats",  "list",  "top",
						"lookup",	"report", "feeds", "export",
						"fleet_status", "scope" };
	size_t i, j;

	(void)state;
	for (i = 0; i < BWE_CMDS; i++) {
		bool ro = false;

		for (j = 0; j < ARRAY_SIZE(readonly); j++)
			ro |= !strcmp(bwe_cmd_name((enum bwe_cmd)i), readonly[j]);
		assert_int_equal(bwe_cmd_role((enum bwe_cmd)i),
				 ro ? BWE_ROLE_READ : BWE_ROLE_ADMIN);
	}
	assert_string_equal(bwe_role_name(BWE_ROLE_READ), "read-only");
	assert_string_equal(bwe_role_name(BWE_ROLE_ADMIN), "admin");
}

static void test_escape(void **state)
{
	static const struct {
		const char *in;
		size_t outlen;
		const char *want;
	} rows[] = {
		{ "bwctl status", 64, "bwctl status" },
		{ "a\nb\rc\td", 64, "a\\x0ab\\x0dc\\x09d" },
		{ "\x1b[31mred\x1b[0m", 64, "\\x1b[31mred\\x1b[0m" },
		{ "del\x7f", 64, "del\\x7f" },
		{ "back\\slash", 64, "back\\\\slash" },
		{ "h\xc3\xa9llo", 64, "h\xc3\xa9llo" }, /* UTF-8 is kept */
		{ "ab\n", 5, "ab" },			/* never half an escape */
		{ "a\xc3\xa9", 3, "a" },		/* never half a character */
	};
	char out[64];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		bwe_escape_ctl(rows[i].in, out, rows[i].outlen);
		assert_string_equal(out, rows[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decoder_pieces), cmocka_unit_test(test_decoder_oversized),
		cmocka_unit_test(test_requests),       cmocka_unit_test(test_roles),
		cmocka_unit_test(test_escape),	       cmocka_unit_test(test_host_items),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
