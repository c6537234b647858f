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
#include <curl/curl.h>

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
	assert_int_equal(c->http.max_clients_per_address, BWE_CFG_HTTP_PER_ADDR);
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
		{ IF "feeds:\n  - { name: manual, source: /f }\n",
		  "feeds[0].name: \"manual\" is reserved: it names the entries of bwctl block" },
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

/* ---- the listener and the handler contract (httpmsg.h) ----------------------- */

#define RUN_ROUNDS 20000 /* http_run() rounds at most per request */

/* What the test handler saw of the last request. */
static struct {
	int calls;
	char method[16], path[128], query[128], bearer[64], ctype[64], peer[64], body[64];
	size_t body_len;
} seen;

static void copy(char *dst, size_t len, const char *s)
{
	snprintf(dst, len, "%s", s ? s : "(null)");
}

/* A request under /v1/later is answered later (httpmsg.h): what answers it. */
static struct {
	void (*answer)(void *ctx, unsigned long long id, struct http_response *rs);
	void *ctx;
	unsigned long long id;
} later;

#define LATER_ROUND 50 /* request()'s round at which a later answer is given */

static void answer_later(void)
{
	static const char reply[] = "{\"later\":true}";
	struct http_response rs = { .status = 200, .content_type = "application/json" };

	rs.body = strdup(reply);
	rs.len = strlen(reply);
	later.answer(later.ctx, later.id, &rs);
	later.answer = NULL;
}

static void handler(void *ctx, const struct http_request *rq, struct http_response *rs)
{
	static const char reply[] = "{\"ok\":true}";

	assert_ptr_equal(ctx, &seen);
	seen.calls++;
	if (!strcmp(rq->path, "/v1/later")) {
		assert_non_null(rq->answer);
		later.answer = rq->answer;
		later.ctx = rq->answer_ctx;
		later.id = rq->answer_id;
		rs->later = true;
		rs->status = 200;
		return;
	}
	copy(seen.method, sizeof(seen.method), rq->method);
	copy(seen.path, sizeof(seen.path), rq->path);
	copy(seen.query, sizeof(seen.query), rq->query);
	copy(seen.bearer, sizeof(seen.bearer), rq->bearer);
	copy(seen.ctype, sizeof(seen.ctype), rq->content_type);
	copy(seen.peer, sizeof(seen.peer), rq->peer);
	seen.body_len = rq->body_len;
	snprintf(seen.body, sizeof(seen.body), "%.*s", (int)rq->body_len, rq->body ? rq->body : "");
	rs->status = 201;
	rs->content_type = "application/json";
	rs->body = strdup(reply);
	rs->len = strlen(reply);
}

/* A test double of the token store: "good" has read, "nope" has none. */
static int auth(void *ctx, const char *bearer, const char *scope)
{
	assert_ptr_equal(ctx, &seen);
	assert_string_equal(scope, "read");
	if (bearer && !strcmp(bearer, "good"))
		return 0;
	return bearer && !strcmp(bearer, "nope") ? 403 : 401;
}

struct reply {
	long status;
	char body[512], ctype[128], www[128];
	size_t len;
};

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
	struct reply *r = ud;
	size_t k = sz * n, room = sizeof(r->body) - 1 - r->len;

	memcpy(r->body + r->len, p, k < room ? k : room);
	r->len += k < room ? k : room;
	r->body[r->len] = '\0';
	return k;
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
	struct reply *r = ud;
	size_t k = sz * n;

	if (!strncasecmp(p, "WWW-Authenticate:", 17))
		snprintf(r->www, sizeof(r->www), "%.*s", (int)(k - 17), p + 17);
	return k;
}

/* One request, the listener run in this thread between curl's steps. */
static void request(struct http *h, const char *url, const char *method, const char *body,
		    const char *hdr, struct reply *r)
{
	struct curl_slist *hl = NULL;
	CURLM *m = curl_multi_init();
	CURL *c = curl_easy_init();
	int running = 1, i;
	char *ct = NULL;

	memset(r, 0, sizeof(*r));
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	if (body)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	if (hdr)
		hl = curl_slist_append(hl, hdr);
	hl = curl_slist_append(hl, "Content-Type: application/json");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_multi_add_handle(m, c);
	for (i = 0; running && i < RUN_ROUNDS; i++) {
		curl_multi_perform(m, &running);
		if (later.answer && i >= LATER_ROUND)
			answer_later(); /* the loop's other work brought the answer */
		http_run(h);
		curl_multi_poll(m, NULL, 0, 1, NULL);
	}
	assert_int_equal(running, 0);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
	snprintf(r->ctype, sizeof(r->ctype), "%s", ct ? ct : "");
	curl_multi_remove_handle(m, c);
	curl_easy_cleanup(c);
	curl_multi_cleanup(m);
	curl_slist_free_all(hl);
}

static unsigned int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

static void test_listener(void **state)
{
	const struct bwe_cfgfile *cur;
	struct bwe_cfgfile *c;
	struct http_deps d = { .cfg = (const struct bwe_cfgfile *const *)&cur };
	char yaml[512], err[BWE_CFG_ERR_LEN], base[64], url[160];
	unsigned int port = free_port();
	struct http *h;
	struct reply r;

	(void)state;
	snprintf(yaml, sizeof(yaml),
		 IF
		 "http:\n  listen: [ \"127.0.0.1:%u\" ]\n  metrics_auth: true\n  max_body: 1KiB\n",
		 port);
	assert_int_equal(load(yaml, &c, err, sizeof(err)), 0);
	cur = c;
	snprintf(base, sizeof(base), "http://127.0.0.1:%u", port);

	/* metrics_auth without a token store: refused at start, nothing listens */
	assert_int_equal(http_open(&h, &d), -EINVAL);

	d.handler = handler;
	d.auth = auth;
	d.ctx = &seen;
	assert_int_equal(http_open(&h, &d), 0);

	/* /v1/: every field of the request reaches the handler; its reply comes back */
	snprintf(url, sizeof(url), "%s/v1/quarantines/198.18.0.10%%2F32?ttl=1h&x=a%%20b", base);
	request(h, url, "PUT", "{\"reason\":\"r\"}", "Authorization: Bearer tok123", &r);
	assert_int_equal(r.status, 201);
	assert_string_equal(r.ctype, "application/json");
	assert_string_equal(r.body, "{\"ok\":true}");
	assert_int_equal(seen.calls, 1);
	assert_string_equal(seen.method, "PUT");
	assert_string_equal(seen.path, "/v1/quarantines/198.18.0.10/32"); /* decoded */
	assert_string_equal(seen.query, "ttl=1h&x=a%20b");		  /* raw */
	assert_string_equal(seen.bearer, "tok123");
	assert_string_equal(seen.ctype, "application/json");
	assert_string_equal(seen.body, "{\"reason\":\"r\"}");
	assert_int_equal(seen.body_len, strlen("{\"reason\":\"r\"}"));
	assert_true(!strncmp(seen.peer, "127.0.0.1:", 10));

	/* a body over max_body never reaches the handler */
	{
		char big[2048];

		memset(big, 'x', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		snprintf(url, sizeof(url), "%s/v1/blocks/203.0.113.9", base);
		request(h, url, "PUT", big, NULL, &r);
		assert_int_equal(r.status, 413);
		assert_string_equal(r.ctype, "application/problem+json");
		assert_int_equal(seen.calls, 1);
	}

	/* metrics_auth: no token 401 with a challenge, a token without read 403 */
	snprintf(url, sizeof(url), "%s/metrics", base);
	request(h, url, "GET", NULL, NULL, &r);
	assert_int_equal(r.status, 401);
	assert_string_equal(r.ctype, "application/problem+json");
	assert_non_null(strstr(r.www, "Bearer"));
	assert_non_null(strstr(r.body, "\"status\":401"));
	request(h, url, "GET", NULL, "Authorization: Bearer unknown", &r);
	assert_int_equal(r.status, 401);
	request(h, url, "GET", NULL, "Authorization: Bearer nope", &r);
	assert_int_equal(r.status, 403);
	assert_non_null(strstr(r.body, "lacks the read scope"));

	/* outside /metrics and /v1/: 404, the handler not called */
	snprintf(url, sizeof(url), "%s/v10/x", base);
	request(h, url, "GET", NULL, NULL, &r);
	assert_int_equal(r.status, 404);
	assert_int_equal(seen.calls, 1);

	/* an answer given later: the client waits for it, then has it */
	snprintf(url, sizeof(url), "%s/v1/later", base);
	request(h, url, "GET", NULL, NULL, &r);
	assert_int_equal(seen.calls, 2);
	assert_null(later.answer); /* it was given */
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "{\"later\":true}");
	/* and the listener still serves the next one at once */
	snprintf(url, sizeof(url), "%s/v1/x", base);
	request(h, url, "GET", NULL, NULL, &r);
	assert_int_equal(r.status, 201);

	/* a reload stops the listener while a client waits: let go first; the late answer dropped */
	{
		CURLM *m = curl_multi_init();
		CURL *e = curl_easy_init();
		int running = 1, i;

		snprintf(url, sizeof(url), "%s/v1/later", base);
		curl_easy_setopt(e, CURLOPT_URL, url);
		curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(e, CURLOPT_WRITEDATA, &r);
		curl_multi_add_handle(m, e);
		for (i = 0; !later.answer && i < RUN_ROUNDS; i++) {
			curl_multi_perform(m, &running);
			http_run(h);
			curl_multi_poll(m, NULL, 0, 1, NULL);
		}
		assert_non_null(later.answer);
		/* stops the listener with a suspended connection, which libmicrohttpd forbids */
		assert_int_equal(http_reload(h, &d), 0);
		answer_later(); /* for a request given up: dropped, its body freed */
		for (i = 0; running && i < RUN_ROUNDS; i++) {
			curl_multi_perform(m, &running);
			curl_multi_poll(m, NULL, 0, 1, NULL);
		}
		assert_int_equal(running, 0); /* the client was let go */
		curl_multi_remove_handle(m, e);
		curl_easy_cleanup(e);
		curl_multi_cleanup(m);
	}
	/* the new listener serves */
	snprintf(url, sizeof(url), "%s/v1/x", base);
	request(h, url, "GET", NULL, NULL, &r);
	assert_int_equal(r.status, 201);

	http_close(h);
	bwe_config_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listen_parse), cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_errors),	     cmocka_unit_test(test_check),
		cmocka_unit_test(test_listener),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
