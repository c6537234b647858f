// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_http.c - the http: section of the configuration (table-driven: every
 * row a file and the answer) and the listen-address parser the listener
 * binds with. The listener itself is tested end to end (tests/e2e_metrics.sh).
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "config.h"
#include "http.h"

#define IF "interfaces:\n  - name: lan0\n"

static char dir[PATH_MAX / 2], file[PATH_MAX];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "%s/bwe-test-http-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir))
		return -1;
	snprintf(file, sizeof(file), "%s/bwenforce.yaml", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(file);
	return rmdir(dir);
}

static int load(const char *text, struct bwe_cfgfile **cfg, char *err, size_t len)
{
	FILE *f = fopen(file, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	*cfg = NULL;
	return bwe_config_load(file, cfg, err, len);
}

static void test_listen_parse(void **state)
{
	static const struct {
		const char *s;
		int ok, family, loopback;
		unsigned int port;
	} rows[] = {
		{ "127.0.0.1:9779", 1, AF_INET, 1, 9779 },
		{ "127.8.9.10:1", 1, AF_INET, 1, 1 },
		{ "198.18.0.1:65535", 1, AF_INET, 0, 65535 },
		{ "0.0.0.0:80", 1, AF_INET, 0, 80 },
		{ "[::1]:9779", 1, AF_INET6, 1, 9779 },
		{ "[2001:db8::1]:443", 1, AF_INET6, 0, 443 },
		{ "[::]:9779", 1, AF_INET6, 0, 9779 },
		{ "[::ffff:127.0.0.1]:1", 1, AF_INET6, 0, 1 }, /* mapped: not ::1 */
		{ "127.0.0.1:0", 0, 0, 0, 0 },
		{ "127.0.0.1:65536", 0, 0, 0, 0 },
		{ "127.0.0.1:99999999999999999999", 0, 0, 0, 0 },
		{ "127.0.0.1:", 0, 0, 0, 0 },
		{ "127.0.0.1", 0, 0, 0, 0 },
		{ ":9779", 0, 0, 0, 0 },
		{ "localhost:9779", 0, 0, 0, 0 },
		{ "::1:9779", 0, 0, 0, 0 },
		{ "[::1:9779", 0, 0, 0, 0 },
		{ "[]:9779", 0, 0, 0, 0 },
		{ "[127.0.0.1]:9779", 0, 0, 0, 0 },
		{ "127.0.0.1:+80", 0, 0, 0, 0 },
		{ "127.0.0.1:8 0", 0, 0, 0, 0 },
		{ "", 0, 0, 0, 0 },
	};
	struct sockaddr_storage sa;
	unsigned int len, port;
	size_t i;
	int lo;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int r = bwe_cfg_listen_parse(rows[i].s, &sa, &len, &lo);

		if (!rows[i].ok) {
			if (r != -EINVAL)
				fail_msg("\"%s\": accepted", rows[i].s);
			continue;
		}
		if (r)
			fail_msg("\"%s\": refused", rows[i].s);
		assert_int_equal(sa.ss_family, rows[i].family);
		assert_int_equal(lo, rows[i].loopback);
		port = ntohs(sa.ss_family == AF_INET ? ((struct sockaddr_in *)&sa)->sin_port
						     : ((struct sockaddr_in6 *)&sa)->sin6_port);
		assert_int_equal(port, rows[i].port);
		assert_int_equal(len, sa.ss_family == AF_INET ? sizeof(struct sockaddr_in)
							      : sizeof(struct sockaddr_in6));
	}
}

static void test_defaults(void **state)
{
	struct bwe_cfgfile *c;
	char err[BWE_CFG_ERR_LEN];

	(void)state;
	assert_int_equal(load(IF, &c, err, sizeof(err)), 0);
	assert_int_equal(c->http.n_listen, 0);
	assert_null(c->http.tls_cert);
	assert_int_equal(c->http.metrics_auth, 0);
	assert_int_equal(c->http.max_clients, BWE_CFG_HTTP_CLIENTS);
	assert_int_equal(c->http.timeout_s, BWE_CFG_HTTP_TIMEOUT_S);
	assert_int_equal(c->http.max_body, BWE_CFG_HTTP_BODY);
	/* nothing to check without a listener, whatever metrics_auth says */
	assert_int_equal(http_check(c, false, err, sizeof(err)), 0);
	bwe_config_free(c);

	assert_int_equal(load(IF "http:\n  listen: [ \"127.0.0.1:9779\", \"[::1]:9779\" ]\n"
				 "  max_clients: 3\n  timeout: 2m\n  max_body: 8KiB\n",
			      &c, err, sizeof(err)),
			 0);
	assert_int_equal(c->http.n_listen, 2);
	assert_string_equal(c->http.listen[1], "[::1]:9779");
	assert_int_equal(c->http.max_clients, 3);
	assert_int_equal(c->http.timeout_s, 120);
	assert_int_equal(c->http.max_body, 8192);
	assert_int_equal(http_check(c, false, err, sizeof(err)), 0);
	bwe_config_free(c);

	/* TLS makes any address acceptable */
	assert_int_equal(load(IF "http:\n  listen: [ \"0.0.0.0:9779\", \"[::]:9779\" ]\n"
				 "  tls: { cert: /etc/c.pem, key: /etc/k.pem }\n",
			      &c, err, sizeof(err)),
			 0);
	assert_string_equal(c->http.tls_key, "/etc/k.pem");
	bwe_config_free(c);
}

static void test_errors(void **state)
{
	static const struct {
		const char *yaml, *want;
	} rows[] = {
		{ IF "http:\n  listen: [ \"198.18.0.1:9779\" ]\n",
		  ":4: http.listen[0]: 198.18.0.1:9779 is not a loopback address: it needs TLS" },
		{ IF "http:\n  listen: [ \"127.0.0.1:1\", \"[2001:db8::1]:1\" ]\n",
		  "http.listen[1]: [2001:db8::1]:1 is not a loopback address" },
		{ IF "http:\n  listen: [ \"127.0.0.1:1\", \"127.0.0.1:1\" ]\n",
		  "http.listen[1]: 127.0.0.1:1 is listed twice (also http.listen[0])" },
		{ IF "http:\n  listen: [ \"localhost:1\" ]\n",
		  "\"localhost:1\" is not a listen address" },
		{ IF "http:\n  listen: [ \"127.0.0.1:1\" ]\n  tls: { cert: /c.pem }\n",
		  "http.tls: needs both cert and key" },
		{ IF "http:\n  tls: { cert: c.pem, key: /k.pem }\n", "must be an absolute path" },
		{ IF "http:\n  max_clients: 0\n", "http.max_clients: 0 is below the minimum of 1" },
		{ IF "http:\n  max_clients: 1025\n", "above the maximum of 1024" },
		{ IF "http:\n  timeout: 301s\n", "http.timeout" },
		{ IF "http:\n  max_body: 2MiB\n", "http.max_body" },
		{ IF "http:\n  metrics_auth: maybe\n", "http.metrics_auth" },
		{ IF "http:\n  listn: []\n", "unknown key \"listn\" (did you mean \"listen\"?)" },
		{ IF "http:\n  listen: [ \"127.0.0.1:1\", \"127.0.0.1:2\", \"127.0.0.1:3\", "
		     "\"127.0.0.1:4\", \"127.0.0.1:5\", \"127.0.0.1:6\", \"127.0.0.1:7\", "
		     "\"127.0.0.1:8\", \"127.0.0.1:9\" ]\n",
		  "http.listen" },
	};
	struct bwe_cfgfile *c;
	char err[BWE_CFG_ERR_LEN];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int r = load(rows[i].yaml, &c, err, sizeof(err));

		if (r != -EINVAL || c)
			fail_msg("row %zu: returned %d, err \"%s\"", i, r, err);
		if (!strstr(err, rows[i].want))
			fail_msg("row %zu: \"%s\" does not contain \"%s\"", i, err, rows[i].want);
	}
}

/* What only the listener checks: metrics_auth without tokens, TLS files. */
static void test_check(void **state)
{
	struct bwe_cfgfile *c;
	char err[BWE_CFG_ERR_LEN], yaml[PATH_MAX * 2 + 256];

	(void)state;
	assert_int_equal(load(IF "http:\n  listen: [ \"127.0.0.1:1\" ]\n  metrics_auth: true\n", &c,
			      err, sizeof(err)),
			 0);
	assert_int_equal(http_check(c, false, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "metrics_auth needs the API's tokens"));
	assert_int_equal(http_check(c, true, err, sizeof(err)), 0);
	bwe_config_free(c);

	snprintf(yaml, sizeof(yaml),
		 IF "http:\n  listen: [ \"127.0.0.1:1\" ]\n  tls: { cert: %s, key: %s/none }\n",
		 file, dir);
	assert_int_equal(load(yaml, &c, err, sizeof(err)), 0);
	assert_int_equal(http_check(c, false, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "http.tls.key: cannot read"));
	assert_non_null(strstr(err, "No such file"));
	bwe_config_free(c);

	snprintf(yaml, sizeof(yaml),
		 IF "http:\n  listen: [ \"127.0.0.1:1\" ]\n  tls: { cert: %s, key: %s }\n", dir,
		 file);
	assert_int_equal(load(yaml, &c, err, sizeof(err)), 0);
	assert_int_equal(http_check(c, false, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "http.tls.cert: cannot read"));
	assert_non_null(strstr(err, "not a regular file"));
	bwe_config_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listen_parse),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_check),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
