// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_sandbox.c - the feed worker as a real child process (lib/sandbox.c,
 * lib/feedwork.c, lib/fwclient.c), started from build/tools/feedworker:
 * its credentials in /proc/PID/status, PARSE results equal to calling
 * bwe_feed_parse() directly, FETCH from a python3 http.server on
 * 127.0.0.1 (random port), RESOLVE, a child killed with SIGKILL, a child
 * that sends garbage, and seccomp violations (SIGSYS).
 *
 * Needs root (the child switches to nobody). Run from the repository root.
 * Every wait is bounded; every child and server is stopped at the end of
 * its test. The seccomp profile kills (BWE_SECCOMP is cleared).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "feed.h"
#include "fwclient.h"
#include "sandbox.h"
#include "wire.h"
#include "fwc_harness.h"

#define ARRAY_SIZE(x) (sizeof(x) / sizeof((x)[0]))
#define FIXTURES      "tests/data/feeds"
#define REAL_LIST     "../shared/feeds/firehol_level3.netset"
#define NOW	      1780272000LL		   /* 2026-06-01T00:00:00Z, as test_feed.c */
#define WAIT_MS	      10000			   /* longest wait for one event */
#define NOBODY_UIDS   "65534\t65534\t65534\t65534" /* real, effective, saved, fs */

/* ---- harness: one client, one epoll set, results collected ------------------ */

/* Run until n results arrived; false after WAIT_MS. */
static bool h_wait_results(struct harness *h, size_t n)
{
	__u64 end = bwe_sandbox_now_ms() + WAIT_MS;

	while (h->n < n && bwe_sandbox_now_ms() < end)
		h_turn(h, 50);
	return h->n >= n;
}

static pid_t h_pid(const struct harness *h)
{
	struct bwe_fwc_status st;

	bwe_fwc_status(h->c, &st);
	return st.pid;
}

/* Run until a child other than old runs; its pid, 0 after WAIT_MS. */
static pid_t h_wait_new_child(struct harness *h, pid_t old)
{
	__u64 end = bwe_sandbox_now_ms() + WAIT_MS;

	while (bwe_sandbox_now_ms() < end) {
		pid_t p = h_pid(h);

		if (p && p != old)
			return p;
		h_turn(h, 50);
	}
	return 0;
}

static const struct bwe_job_result *h_parse(struct harness *h, const char *body, size_t len,
					    enum bwe_feed_format fmt)
{
	struct bwe_job_req req = { .kind = BWE_JOB_PARSE,
				   .body = body,
				   .body_len = len,
				   .parse = { .format = fmt, .now = NOW } };
	size_t want = h->n + 1;
	__u32 id;

	assert_int_equal(bwe_fwc_submit(h->c, &req, NULL, &id), 0);
	assert_true(h_wait_results(h, want));
	assert_int_equal(h->res[want - 1].job, id);
	return &h->res[want - 1];
}

static char *read_file(const char *path, size_t *len)
{
	struct stat stb;
	char *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	assert_int_equal(fstat(fd, &stb), 0);
	buf = malloc((size_t)stb.st_size + 1);
	assert_non_null(buf);
	assert_int_equal(read(fd, buf, (size_t)stb.st_size), stb.st_size);
	close(fd);
	*len = (size_t)stb.st_size;
	return buf;
}

/* ---- the child's credentials ----------------------------------------------------- */

/* The value of "Key:" in /proc/PID/status, leading blanks skipped. */
static void status_field(pid_t pid, const char *key, char *out, size_t len)
{
	char path[64], line[256];
	size_t kl = strlen(key);
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	assert_non_null(f);
	out[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		char *v = line + kl + 1;

		if (strncmp(line, key, kl) || line[kl] != ':')
			continue;
		v += strspn(v, " \t");
		v[strcspn(v, "\n")] = '\0';
		snprintf(out, len, "%s", v);
		break;
	}
	fclose(f);
}

static void test_child_credentials(void **state)
{
	static const struct {
		const char *key, *want;
	} rows[] = {
		{ "CapInh", "0000000000000000" },
		{ "CapPrm", "0000000000000000" },
		{ "CapEff", "0000000000000000" },
		{ "CapBnd", "0000000000000000" },
		{ "CapAmb", "0000000000000000" },
		{ "NoNewPrivs", "1" },
		{ "Seccomp", "2" },
		{ "Uid", NOBODY_UIDS },
		{ "Groups", "" },
	};
	char *const argv[] = { (char *)"feedworker", NULL };
	struct harness h = { 0 };
	char v[256];
	pid_t pid;
	size_t i;

	(void)state;
	h_start(&h, argv, 0);
	/* a round trip first: by then the child has entered seccomp */
	assert_int_equal(h_parse(&h, "192.0.2.0/24\n", 13, BWE_FMT_PLAIN)->n_inds, 1);
	pid = h_pid(&h);
	assert_true(pid > 0);
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		status_field(pid, rows[i].key, v, sizeof(v));
		if (strcmp(v, rows[i].want))
			fail_msg("%s: \"%s\", expected \"%s\"", rows[i].key, v, rows[i].want);
	}
	status_field(pid, "Gid", v, sizeof(v));
	assert_true(strncmp(v, "0\t", 2) != 0); /* not root's group */
	/* only the socket and stdio are open: 0, 1, 2, 3 */
	{
		char dir[64];
		struct dirent *e;
		DIR *d;
		int fds = 0;

		snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
		d = opendir(dir);
		assert_non_null(d);
		while ((e = readdir(d)))
			if (e->d_name[0] != '.') {
				assert_true(atoi(e->d_name) <= BWE_SANDBOX_FD);
				fds++;
			}
		closedir(d);
		assert_int_equal(fds, 4);
	}
	h_stop(&h);
	assert_int_equal(kill(pid, 0), -1); /* freeing reaped it */
}

/* ---- PARSE: same answer as the parser in-process ----------------------------------- */

struct dind {
	struct bwe_prefix pfx;
	__u32 line;
	__s64 valid_until;
	char *id;
};

struct direct {
	struct dind *v;
	size_t n;
	char **doms;
	__u32 *dom_lines;
	size_t nd;
};

static int direct_ind(const struct bwe_indicator *ind, void *ctx)
{
	struct direct *d = ctx;

	if (ind->kind == BWE_IND_DOMAIN) {
		d->doms = reallocarray(d->doms, d->nd + 1, sizeof(*d->doms));
		d->dom_lines = reallocarray(d->dom_lines, d->nd + 1, sizeof(*d->dom_lines));
		d->dom_lines[d->nd] = ind->line;
		d->doms[d->nd++] = strdup(ind->domain);
		return 0;
	}
	d->v = reallocarray(d->v, d->n + 1, sizeof(*d->v));
	d->v[d->n] = (struct dind){ .pfx = ind->pfx,
				    .line = ind->line,
				    .valid_until = ind->valid_until };
	d->v[d->n].id = ind->id ? strdup(ind->id) : NULL;
	d->n++;
	return 0;
}

static int ind_cmp(const void *a, const void *b)
{
	const struct dind *x = a, *y = b;
	int c = bwe_prefix_cmp(&x->pfx, &y->pfx);

	return c ? c : (x->line > y->line) - (x->line < y->line);
}

static void check_same(const char *name, const char *body, size_t len,
		       const struct bwe_job_result *r)
{
	struct direct d = { 0 };
	struct bwe_feed_parse_opts o = { .now = NOW, .on_ind = direct_ind, .ctx = &d };
	struct bwe_feed_stats st;
	size_t i, w = 0;
	int err = bwe_feed_parse(body, len, &o, &st);

	if (err) {
		if (r->status != err)
			fail_msg("%s: status %d (%s), direct %d", name, r->status, r->error, err);
		assert_int_equal(r->n_inds, 0);
		goto out;
	}
	if (r->status)
		fail_msg("%s: status %d: %s", name, r->status, r->error);
	qsort(d.v, d.n, sizeof(*d.v), ind_cmp);
	for (i = 0; i < d.n; i++)
		if (!w || bwe_prefix_cmp(&d.v[w - 1].pfx, &d.v[i].pfx))
			d.v[w++] = d.v[i];
		else
			free(d.v[i].id);
	if (r->n_inds != w)
		fail_msg("%s: %zu indicators, direct %zu", name, r->n_inds, w);
	for (i = 0; i < w; i++) {
		assert_memory_equal(&r->inds[i].pfx, &d.v[i].pfx, sizeof(d.v[i].pfx));
		assert_int_equal(r->inds[i].line, d.v[i].line);
		assert_int_equal(r->inds[i].valid_until, d.v[i].valid_until);
		if (d.v[i].id)
			assert_string_equal(r->inds[i].id, d.v[i].id);
		else
			assert_null(r->inds[i].id);
	}
	assert_int_equal(r->n_domains, d.nd);
	for (i = 0; i < d.nd; i++) {
		assert_string_equal(r->domains[i].name, d.doms[i]);
		assert_int_equal(r->domains[i].line, d.dom_lines[i]);
	}
	assert_int_equal(r->stats.format, st.format);
	assert_int_equal(r->stats.lines, st.lines);
	assert_int_equal(r->stats.accepted, st.accepted);
	assert_int_equal(r->stats.rejected, st.rejected);
	assert_int_equal(r->stats.skipped, st.skipped);
	assert_int_equal(r->n_rejects,
			 st.rejected < BWE_WIRE_REJECTS_MAX ? st.rejected : BWE_WIRE_REJECTS_MAX);
out:
	for (i = 0; i < w; i++)
		free(d.v[i].id);
	for (i = 0; i < d.nd; i++)
		free(d.doms[i]);
	free(d.v);
	free(d.doms);
	free(d.dom_lines);
}

static void test_parse_same_as_direct(void **state)
{
	static const char *const files[] = {
		"plain.txt",	    "spamhaus_drop.txt", "spamhaus_dropv6.txt", "feodo.csv",
		"firehol.netset",   "freeform.txt",	 "domains.txt",		"hosts.txt",
		"stix_bundle.json", "drop_v4.json",	 "crlf_bom.txt",	"error_page.html",
	};
	char *const argv[] = { (char *)"feedworker", NULL };
	struct harness h = { 0 };
	char path[PATH_MAX];
	size_t i, len;
	char *body;

	(void)state;
	h_start(&h, argv, 0);
	for (i = 0; i < ARRAY_SIZE(files); i++) {
		snprintf(path, sizeof(path), "%s/%s", FIXTURES, files[i]);
		body = read_file(path, &len);
		assert_non_null(body);
		check_same(files[i], body, len, h_parse(&h, body, len, BWE_FMT_AUTO));
		free(body);
	}
	/* a real list: many batch frames */
	body = read_file(REAL_LIST, &len);
	if (body) {
		const struct bwe_job_result *r = h_parse(&h, body, len, BWE_FMT_AUTO);

		assert_true(r->n_inds > 10000);
		check_same(REAL_LIST, body, len, r);
		free(body);
	}
	h_stop(&h);
}

static void on_direct_reject(const struct bwe_feed_reject *rej, void *ctx)
{
	struct direct *d = ctx;

	if (d->nd < BWE_WIRE_REJECTS_MAX) /* reuses dom_lines: no domains in these formats */
		d->dom_lines[d->nd++] = rej->line;
}

/*
 * A body of more than 4 MiB in a format parsed line by line is parsed in
 * two halves by two threads of the sandboxed worker: the same indicators
 * (a prefix in both halves keeps its first line), figures and refused
 * lines (the first ones, in line order) as one parse in-process.
 */
static void test_parse_split_same_as_direct(void **state)
{
	static const enum bwe_feed_format fmts[] = { BWE_FMT_PLAIN, BWE_FMT_SPAMHAUS,
						     BWE_FMT_FREEFORM, BWE_FMT_AUTO };
	char *const argv[] = { (char *)"feedworker", NULL };
	struct harness h = { 0 };
	size_t f, i, cap = 8u << 20, len;
	unsigned long long x = 12345;
	char *body = malloc(cap);

	(void)state;
	assert_non_null(body);
	h_start(&h, argv, 0);
	for (f = 0; f < ARRAY_SIZE(fmts); f++) {
		const struct bwe_job_result *r;
		struct direct d = { 0 };
		struct bwe_feed_parse_opts o = { .format = fmts[f],
						 .now = NOW,
						 .on_ind = direct_ind,
						 .on_reject = on_direct_reject,
						 .ctx = &d };
		struct bwe_feed_stats st;

		for (len = 0; len + 64 < cap - (1u << 20) || len < (5u << 20);) {
			unsigned int k;

			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			k = (unsigned int)(x % 1000);
			/* a small pool of hosts: many prefixes are listed in both halves */
			if (k < 850)
				len += (size_t)sprintf(body + len, "%u.%u.%u.%u%s\n",
						       11 + (unsigned int)(x >> 10) % 20,
						       (unsigned int)(x >> 20) % 40,
						       (unsigned int)(x >> 30) % 64,
						       (unsigned int)(x >> 40) % 64,
						       fmts[f] == BWE_FMT_SPAMHAUS && k < 100
							       ? " ; SBL42"
							       : "");
			else if (k < 900)
				len += (size_t)sprintf(body + len, "%u.%u.0.0/16\n",
						       11 + (unsigned int)(x >> 10) % 20,
						       (unsigned int)(x >> 20) % 40);
			else if (k < 950)
				len += (size_t)sprintf(body + len, "# comment %llu\n", x % 97);
			else if (k < 951)
				len += (size_t)sprintf(body + len, "not an address\n");
			else if (fmts[f] == BWE_FMT_FREEFORM)
				len += (size_t)sprintf(body + len, "10.%u.0.1 - 10.%u.0.9\n",
						       (unsigned int)(x >> 12) % 200,
						       (unsigned int)(x >> 12) % 200);
			else
				len += (size_t)sprintf(body + len, "2001:db8:%x::%x\n",
						       (unsigned int)(x >> 12) % 1000,
						       (unsigned int)(x >> 24) % 1000);
		}
		d.dom_lines = calloc(BWE_WIRE_REJECTS_MAX, sizeof(*d.dom_lines));
		assert_non_null(d.dom_lines);
		assert_int_equal(bwe_feed_parse(body, len, &o, &st), 0);
		r = h_parse(&h, body, len, fmts[f]);
		assert_int_equal(r->status, 0);
		check_same("generated", body, len, r); /* indicators, figures */
		assert_true(st.rejected > BWE_WIRE_REJECTS_MAX);
		assert_int_equal(r->n_rejects, BWE_WIRE_REJECTS_MAX);
		for (i = 0; i < r->n_rejects; i++)
			assert_int_equal(r->rejects[i].line, d.dom_lines[i]);
		for (i = 0; i < d.n; i++)
			free(d.v[i].id);
		free(d.v);
		free(d.dom_lines);
	}
	h_stop(&h);
	free(body);
}

/*
 * Reject excerpts leave the worker only for a body the garbage guard
 * recognises as a feed: a secret file parsed as "plain" gives its line
 * numbers and reasons, never its text.
 */
static void test_excerpts_only_of_feeds(void **state)
{
	static const char secret[] = "root:$6$saltsalt$c2VjcmV0:19000:0:99999:7:::\n"
				     "api_token = SECRET-TOKEN-4242\n";
	static const char feed[] = "192.0.2.1\nnot-an-address\n198.51.100.1\n";
	char *const argv[] = { (char *)"feedworker", NULL };
	struct harness h = { 0 };
	const struct bwe_job_result *r;
	size_t i;

	(void)state;
	h_start(&h, argv, 0);
	r = h_parse(&h, secret, sizeof(secret) - 1, BWE_FMT_PLAIN);
	assert_int_equal(r->status, 0);
	assert_int_equal(r->stats.rejected, 2);
	assert_int_equal(r->n_rejects, 2);
	for (i = 0; i < r->n_rejects; i++) {
		assert_int_equal(r->rejects[i].line, i + 1);
		assert_true(r->rejects[i].reason[0]);
		if (r->rejects[i].excerpt[0])
			fail_msg("excerpt of a non-feed body sent: \"%s\"", r->rejects[i].excerpt);
	}
	r = h_parse(&h, feed, sizeof(feed) - 1, BWE_FMT_PLAIN);
	assert_int_equal(r->n_inds, 2);
	assert_int_equal(r->n_rejects, 1);
	assert_string_equal(r->rejects[0].excerpt, "not-an-address");
	h_stop(&h);
}

/* ---- large JSON bodies and the memory ceiling ------------------------------------------- */

#define BIG_STIX_MIN (16u << 20) /* bytes of the generated bundle, at least */
#define MIB	     (1024.0 * 1024.0)

/* A STIX bundle of at least min bytes, one /32 indicator an object; *n of them. */
static char *big_stix(size_t min, size_t *len, size_t *n)
{
	static const char pad[] = "padding of a realistic description field, as CTI platforms "
				  "export them with kill chain phases, labels and references";
	size_t cap = min + (1u << 20), used = 0, i;
	char *b = malloc(cap);

	assert_non_null(b);
	used += (size_t)snprintf(b, cap,
				 "{\"type\":\"bundle\",\"id\":\"bundle--1\",\"objects\":[\n");
	for (i = 0; used < min; i++)
		used += (size_t)snprintf(
			b + used, cap - used,
			"%s{\"type\":\"indicator\",\"spec_version\":\"2.1\","
			"\"id\":\"indicator--00000000-0000-4000-8000-%012zx\","
			"\"created\":\"2026-01-01T00:00:00Z\",\"modified\":\"2026-01-01T00:00:00Z\","
			"\"pattern\":\"[ipv4-addr:value = '100.%zu.%zu.%zu']\",\"pattern_type\":\"stix\","
			"\"valid_from\":\"2026-01-01T00:00:00Z\",\"labels\":[\"malicious-activity\"],"
			"\"description\":\"%s %s %s\"}",
			i ? ",\n" : "", i, 64 + (i >> 16), (i >> 8) & 255, i & 255, pad, pad, pad);
	used += (size_t)snprintf(b + used, cap - used, "\n]}\n");
	*len = used;
	*n = i;
	return b;
}

/* The child's peak resident set (VmHWM), MiB. */
static double peak_rss_mib(pid_t pid)
{
	char v[64];

	status_field(pid, "VmHWM", v, sizeof(v));
	return strtod(v, NULL) / 1024.0; /* "123456 kB" */
}

/*
 * A 16 MiB+ bundle parses in the worker with its peak memory a small
 * multiple of the body: json-c's tree of the whole bundle alone was ~6.7
 * times the body (16 MiB -> 107 MiB).
 */
static void test_large_stix_memory(void **state)
{
	char *const argv[] = { (char *)"feedworker", NULL };
	struct harness h = { 0 };
	const struct bwe_job_result *r;
	size_t len, n;
	char *body = big_stix(BIG_STIX_MIN, &len, &n);
	double before, peak;
	__u64 t0;

	(void)state;
	h_start(&h, argv, 0);
	h_parse(&h, "192.0.2.1\n", 10, BWE_FMT_PLAIN); /* the child runs */
	before = peak_rss_mib(h_pid(&h));
	t0 = bwe_sandbox_now_ms();
	r = h_parse(&h, body, len, BWE_FMT_STIX);
	if (r->status)
		fail_msg("parse: %d %s", r->status, r->error);
	assert_int_equal(r->n_inds, n);
	assert_int_equal(r->stats.accepted, n);
	peak = peak_rss_mib(h_pid(&h));
	print_message("STIX bundle %.1f MiB, %zu indicators: worker peak RSS %.1f MiB "
		      "(%.1f before the job), %.2f x the body, %llu ms\n",
		      (double)len / MIB, n, peak, before, peak * MIB / (double)len,
		      (unsigned long long)(bwe_sandbox_now_ms() - t0));
	/* the body itself is held once by the decoder; the tree never */
	if (peak * MIB > 2.5 * (double)len)
		fail_msg("peak %.1f MiB for a %.1f MiB body", peak, (double)len / MIB);
	h_stop(&h);
	free(body);
}

/*
 * Under a data limit (feed_worker_memory) the same bundle still parses,
 * and a body whose parse needs more fails cleanly: the job's error says
 * out of memory, the worker lives on and takes the next job.
 */
static void test_memory_ceiling(void **state)
{
	char *const argv[] = { (char *)"feedworker", NULL };
	struct bwe_fwc_conf conf = {
		.sandbox = { .argv = argv,
			     .user = "nobody",
			     .backoff_min_ms = 200,
			     .backoff_max_ms = 2000,
			     .data_limit = 64u << 20 },
		.done = on_done,
	};
	struct harness h = { 0 };
	const struct bwe_job_result *r;
	size_t len, n, plen = 0, i;
	char *body = big_stix(BIG_STIX_MIN, &len, &n);
	char *plain = malloc(40u << 20), v[64];
	pid_t pid;

	(void)state;
	assert_non_null(plain);
	assert_non_null(realpath(WORKER, h.worker));
	conf.sandbox.path = h.worker;
	conf.cb_ctx = &h;
	h.ep = epoll_create1(EPOLL_CLOEXEC);
	assert_true(h.ep >= 0);
	assert_int_equal(bwe_fwc_new(&conf, &h.c), 0);

	h_parse(&h, "192.0.2.1\n", 10, BWE_FMT_PLAIN);
	pid = h_pid(&h);
	{
		char path[64], line[256];
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/limits", (int)pid);
		f = fopen(path, "r");
		assert_non_null(f);
		v[0] = '\0';
		while (fgets(line, sizeof(line), f))
			if (!strncmp(line, "Max data size", 13))
				snprintf(v, sizeof(v), "%.60s", line + 26);
		fclose(f);
		assert_int_equal(strtoull(v, NULL, 10), 64u << 20);
	}
	r = h_parse(&h, body, len, BWE_FMT_STIX);
	if (r->status)
		fail_msg("16 MiB bundle under a 64 MiB ceiling: %d %s", r->status, r->error);
	assert_int_equal(r->n_inds, n);

	/* 40 MiB of addresses: ~3.5 million entries do not fit in 64 MiB */
	for (i = 0; plen + 16 < (40u << 20); i++)
		plen += (size_t)snprintf(plain + plen, 16, "10.%zu.%zu.%zu\n", (i >> 16) & 255,
					 (i >> 8) & 255, i & 255);
	r = h_parse(&h, plain, plen, BWE_FMT_PLAIN);
	assert_int_equal(r->status, -ENOMEM);
	if (!strstr(r->error, "out of memory") || !strstr(r->error, "feed_worker_memory"))
		fail_msg("error: %s", r->error);
	assert_int_equal(r->n_inds, 0);
	assert_int_equal(h_pid(&h), pid); /* no restart: the worker said no */
	r = h_parse(&h, "198.51.100.1\n", 13, BWE_FMT_PLAIN);
	assert_int_equal(r->status, 0);
	assert_int_equal(r->n_inds, 1);

	/* a body that cannot even be received: the worker ends, says why, comes back */
	{
		size_t big = 80u << 20;
		char *b = malloc(big);

		assert_non_null(b);
		memset(b, '#', big);
		r = h_parse(&h, b, big, BWE_FMT_PLAIN);
		assert_int_equal(r->status, -ECHILD);
		if (!strstr(r->error, "exit code 127 (out of memory under its limit)"))
			fail_msg("error: %s", r->error);
		free(b);
		assert_true(h_wait_new_child(&h, pid) > 0);
		r = h_parse(&h, "198.51.100.2\n", 13, BWE_FMT_PLAIN);
		assert_int_equal(r->status, 0);
	}
	h_stop(&h);
	free(plain);
	free(body);
}

/* ---- FETCH from a local http.server ------------------------------------------------- */

struct server {
	pid_t pid;
	int port;
};

static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port;

	assert_true(s >= 0);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&a, &al), 0);
	port = ntohs(a.sin_port);
	close(s);
	return port;
}

static bool port_open(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((__u16)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok = !connect(s, (struct sockaddr *)&a, sizeof(a));

	close(s);
	return ok;
}

static void server_start(struct server *sv)
{
	char port[16];
	__u64 end;

	sv->port = free_port();
	snprintf(port, sizeof(port), "%d", sv->port);
	sv->pid = fork();
	assert_true(sv->pid >= 0);
	if (!sv->pid) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 1);
		dup2(null, 2);
		execlp("python3", "python3", "-m", "http.server", "--bind", "127.0.0.1",
		       "--directory", FIXTURES, port, (char *)NULL);
		_exit(127);
	}
	end = bwe_sandbox_now_ms() + WAIT_MS;
	while (!port_open(sv->port) && bwe_sandbox_now_ms() < end)
		usleep(50 * 1000);
	assert_true(port_open(sv->port));
}

static void server_stop(struct server *sv)
{
	if (sv->pid > 0) {
		kill(sv->pid, SIGTERM);
		waitpid(sv->pid, NULL, 0);
	}
	sv->pid = 0;
}

static const struct bwe_job_result *h_fetch(struct harness *h, int port, const char *file,
					    __u64 max_bytes, const char *last_modified)
{
	char url[256];
	struct bwe_job_req req = { .kind = BWE_JOB_FETCH,
				   .url = url,
				   .max_bytes = max_bytes,
				   .timeout_s = 10,
				   .last_modified = last_modified,
				   .insecure = true, /* the test server speaks plain http */
				   .parse = { .now = NOW } };
	size_t want = h->n + 1;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/%s", port, file);
	assert_int_equal(bwe_fwc_submit(h->c, &req, NULL, NULL), 0);
	assert_true(h_wait_results(h, want));
	return &h->res[want - 1];
}

/* Stopped by the teardown too: a failed assertion leaves the test early. */
static struct server fetch_server;

static int stop_fetch_server(void **state)
{
	(void)state;
	server_stop(&fetch_server);
	return 0;
}

static void test_fetch_http(void **state)
{
	char *const argv[] = { (char *)"feedworker", NULL };
	struct harness h = { 0 };
	struct server *svp = &fetch_server;
	const struct bwe_job_result *r;
	char lm[BWE_WIRE_LASTMOD_MAX];
	size_t len;
	char *body = read_file(FIXTURES "/spamhaus_drop.txt", &len);

	(void)state;
	assert_non_null(body);
	server_start(svp);
	h_start(&h, argv, 0);

	r = h_fetch(&h, svp->port, "spamhaus_drop.txt", 1 << 20, NULL);
	if (r->status)
		fail_msg("fetch: %d %s", r->status, r->error);
	assert_int_equal(r->http_status, 200);
	assert_false(r->not_modified);
	assert_int_equal(r->body_len, len);
	assert_memory_equal(r->body, body, len);
	assert_int_equal(r->stats.format, BWE_FMT_SPAMHAUS);
	check_same("fetched spamhaus_drop.txt", body, len, r);
	assert_true(r->last_modified[0]);
	snprintf(lm, sizeof(lm), "%s", r->last_modified);

	/* conditional: 304, nothing parsed */
	r = h_fetch(&h, svp->port, "spamhaus_drop.txt", 1 << 20, lm);
	assert_int_equal(r->status, 0);
	assert_int_equal(r->http_status, 304);
	assert_true(r->not_modified);
	assert_int_equal(r->n_inds, 0);
	assert_null(r->body);

	r = h_fetch(&h, svp->port, "no_such_file.txt", 1 << 20, NULL);
	assert_int_equal(r->status, -EIO);
	assert_string_equal(r->error, "HTTP status 404");

	r = h_fetch(&h, svp->port, "spamhaus_drop.txt", 100, NULL);
	assert_int_equal(r->status, -EFBIG);
	assert_string_equal(r->error, "larger than max_bytes (100)");

	r = h_fetch(&h, svp->port, "error_page.html", 1 << 20, NULL);
	assert_int_equal(r->status, -EBADMSG);
	assert_null(r->body);

	/* no child died on the way */
	{
		struct bwe_fwc_status st;

		bwe_fwc_status(h.c, &st);
		assert_int_equal(st.restarts, 0);
		assert_int_equal(st.last_error[0], '\0');
	}
	h_stop(&h);
	server_stop(svp);
	free(body);
}

/* ---- RESOLVE: a name that cannot resolve (no network here) -------------------------- */

static void test_resolve(void **state)
{
	static const char *const names[] = { "nothing.invalid", "also-nothing.invalid" };
	char *const argv[] = { (char *)"feedworker", NULL };
	struct bwe_job_req req = { .kind = BWE_JOB_RESOLVE, .names = names, .n_names = 2 };
	struct harness h = { 0 };
	const struct bwe_job_result *r;

	(void)state;
	setenv("RES_OPTIONS", "timeout:1 attempts:1", 1);
	h_start(&h, argv, 0);
	assert_int_equal(bwe_fwc_submit(h.c, &req, NULL, NULL), 0);
	assert_true(h_wait_results(&h, 1));
	r = &h.res[0];
	if (r->status)
		fail_msg("resolve: %d %s", r->status, r->error);
	assert_int_equal(r->n_answers, 2);
	assert_string_equal(r->answers[0].name, "nothing.invalid");
	assert_int_equal(r->answers[0].n_addrs, 0);
	assert_int_equal(h_pid(&h) > 0, 1);
	h_stop(&h);
	unsetenv("RES_OPTIONS");
}

/* ---- a child killed with SIGKILL mid-job, and one that sends garbage ------------------- */

static void test_child_killed(void **state)
{
	char *const argv[] = { (char *)"feedworker", NULL };
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	struct harness h = { 0 };
	struct bwe_fwc_status st;
	char url[64];
	struct bwe_job_req req = { .kind = BWE_JOB_FETCH,
				   .url = url,
				   .max_bytes = 1 << 20,
				   .timeout_s = 60,
				   .insecure = true };
	struct bwe_job_req parse = { .kind = BWE_JOB_PARSE,
				     .body = "192.0.2.0/24\n",
				     .body_len = 13 };
	struct pollfd pfd;
	__u32 id1, id2;
	__u64 died;
	pid_t old, new;
	int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), conn;

	(void)state;
	/* a server that accepts and never answers: the fetch hangs */
	assert_int_equal(bind(ls, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(ls, 4), 0);
	assert_int_equal(getsockname(ls, (struct sockaddr *)&a, &al), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", ntohs(a.sin_port));

	h_start(&h, argv, 0);
	old = h_pid(&h);
	assert_int_equal(bwe_fwc_submit(h.c, &req, NULL, &id1), 0);
	/* a second job waits in the queue: it must go to the next child */
	assert_int_equal(bwe_fwc_submit(h.c, &parse, NULL, &id2), 0);
	pfd = (struct pollfd){ .fd = ls, .events = POLLIN };
	assert_int_equal(poll(&pfd, 1, WAIT_MS), 1);
	conn = accept(ls, NULL, NULL);
	assert_true(conn >= 0);

	assert_int_equal(kill(old, SIGKILL), 0);
	assert_true(h_wait_results(&h, 1));
	died = bwe_sandbox_now_ms();
	assert_int_equal(h.res[0].job, id1);
	assert_int_equal(h.res[0].status, -ECHILD);
	assert_string_equal(h.res[0].error, "feed worker died: killed by signal 9 (KILL)");
	bwe_fwc_status(h.c, &st);
	assert_string_equal(st.last_error, "feed worker died: killed by signal 9 (KILL)");
	assert_int_equal(st.pid, 0);
	assert_int_equal(st.queued, 1);

	new = h_wait_new_child(&h, old);
	assert_true(new > 0);
	assert_true(bwe_sandbox_now_ms() - died >= 150); /* back-off 200 ms */
	assert_true(h_wait_results(&h, 2));
	assert_int_equal(h.res[1].job, id2);
	assert_int_equal(h.res[1].status, 0);
	assert_int_equal(h.res[1].n_inds, 1);
	bwe_fwc_status(h.c, &st);
	assert_int_equal(st.restarts, 1);
	assert_int_equal(st.pid, new);
	assert_int_equal(st.jobs_ok, 1);
	assert_int_equal(st.jobs_failed, 1);
	h_stop(&h);
	close(conn);
	close(ls);
}

static void test_child_garbage(void **state)
{
	char *const argv[] = { (char *)"feedworker", (char *)"--garbage", NULL };
	struct bwe_job_req parse = { .kind = BWE_JOB_PARSE,
				     .body = "192.0.2.0/24\n",
				     .body_len = 13 };
	struct harness h = { 0 };
	pid_t old;

	(void)state;
	h_start(&h, argv, 0);
	old = h_pid(&h);
	assert_int_equal(bwe_fwc_submit(h.c, &parse, NULL, NULL), 0);
	assert_true(h_wait_results(&h, 1));
	assert_int_equal(h.res[0].status, -EPROTO);
	assert_string_equal(h.res[0].error, "feed worker sent garbage: frame 2: indicator 1: "
					    "prefix length 200 > 128");
	assert_int_equal(h.res[0].n_inds, 0);
	assert_true(h_wait_new_child(&h, old) > 0);
	h_stop(&h);
}

/* ---- seccomp: a forbidden syscall ends the child with SIGSYS ---------------------------- */

static void test_seccomp_kills(void **state)
{
	static char *const what[] = { "ptrace", "open-write", "execve" };
	char worker[PATH_MAX];
	size_t i;

	(void)state;
	assert_non_null(realpath(WORKER, worker));
	for (i = 0; i < ARRAY_SIZE(what); i++) {
		char *const argv[] = { (char *)"feedworker", (char *)"--violate", what[i], NULL };
		struct bwe_sandbox_conf conf = { .name = "violator", .path = worker, .argv = argv };
		struct bwe_sandbox *sb;
		char why[BWE_SANDBOX_WHY_MAX] = "";
		__u64 end;
		int r = 0;

		assert_int_equal(bwe_sandbox_new(&conf, &sb), 0);
		assert_int_equal(bwe_sandbox_start(sb), 0);
		assert_true(bwe_sandbox_fd(sb) >= 0);
		end = bwe_sandbox_now_ms() + WAIT_MS;
		while (!(r = bwe_sandbox_reap(sb, why, sizeof(why))) && bwe_sandbox_now_ms() < end)
			usleep(10 * 1000);
		assert_int_equal(r, 1);
		if (strcmp(why, "killed by signal 31 (seccomp violation)"))
			fail_msg("%s: %s", what[i], why);
		assert_false(bwe_sandbox_running(sb));
		assert_int_equal(bwe_sandbox_fd(sb), -1);
		assert_true(bwe_sandbox_restart_at(sb) > bwe_sandbox_now_ms());
		bwe_sandbox_free(sb);
	}
	assert_int_equal(access("/tmp/feedworker-must-not-exist", F_OK), -1);
}

static void test_describe(void **state)
{
	static const struct {
		int st;
		const char *want;
	} rows[] = {
		{ 0x0000, "exit code 0" },
		{ 0x0100, "exit code 1" },
		{ BWE_SANDBOX_EXIT_EXEC << 8, "exit code 124 (exec failed)" },
		{ SIGSYS, "killed by signal 31 (seccomp violation)" },
		{ SIGSEGV | 0x80, "killed by signal 11 (SEGV), core dumped" },
	};
	char why[BWE_SANDBOX_WHY_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		bwe_sandbox_describe(rows[i].st, why, sizeof(why));
		assert_string_equal(why, rows[i].want);
	}
}

/* ---- FETCH with a secret ------------------------------------------------------------ */

#define CS_KEY	  "0123456789abcdef0123456789abcdef"
#define CS_STREAM "tests/data/crowdsec/startup.json"

static struct server auth_server;

static int stop_auth_server(void **state)
{
	(void)state;
	server_stop(&auth_server);
	return 0;
}

static const struct bwe_job_result *h_fetch_auth(struct harness *h, int port, const char *path,
						 enum bwe_feed_format fmt, enum bwe_wire_auth auth,
						 const char *name, const char *secret)
{
	char url[256];
	struct bwe_job_req req = { .kind = BWE_JOB_FETCH,
				   .url = url,
				   .max_bytes = 1 << 20,
				   .timeout_s = 10,
				   .insecure = true,
				   .auth = auth,
				   .auth_name = name,
				   .secret = secret,
				   .parse = { .format = fmt, .now = NOW } };
	size_t want = h->n + 1;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
	assert_int_equal(bwe_fwc_submit(h->c, &req, NULL, NULL), 0);
	assert_true(h_wait_results(h, want));
	return &h->res[want - 1];
}

/* The sandboxed worker sends each kind of secret, and only to the URL asked. */
static void test_fetch_auth(void **state)
{
	char *const argv[] = { (char *)"feedworker", NULL };
	struct harness h = { 0 };
	struct server *sv = &auth_server;
	const struct bwe_job_result *r;
	char port[16];
	__u64 end;

	(void)state;
	sv->port = free_port();
	snprintf(port, sizeof(port), "%d", sv->port);
	sv->pid = fork();
	assert_true(sv->pid >= 0);
	if (!sv->pid) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 1);
		dup2(null, 2);
		execlp("python3", "python3", "tests/tools/auth_http.py", port, CS_KEY, "reader",
		       "pass word:1", "tok.en", CS_STREAM, (char *)NULL);
		_exit(127);
	}
	end = bwe_sandbox_now_ms() + WAIT_MS;
	while (!port_open(sv->port) && bwe_sandbox_now_ms() < end)
		usleep(50 * 1000);
	assert_true(port_open(sv->port));
	h_start(&h, argv, 0);

	/* a CrowdSec pull: X-Api-Key, decisions back, no body */
	r = h_fetch_auth(&h, sv->port, "/v1/decisions/stream?startup=true", BWE_FMT_CROWDSEC,
			 BWE_WIRE_AUTH_HEADER, "X-Api-Key", CS_KEY);
	if (r->status)
		fail_msg("pull: %d %s", r->status, r->error);
	assert_int_equal(r->n_decisions, 3);
	assert_int_equal(r->decisions[1].id, 3);
	assert_int_equal(r->n_inds, 0);
	assert_int_equal(r->body_len, 0);
	/* a wrong key: refused, and the key is in no error text */
	r = h_fetch_auth(&h, sv->port, "/v1/decisions/stream?startup=true", BWE_FMT_CROWDSEC,
			 BWE_WIRE_AUTH_HEADER, "X-Api-Key", "wrong-key-value");
	assert_int_equal(r->status, -EACCES);
	assert_string_equal(r->error, "HTTP status 403: the credentials were refused");
	/* the answer to a missing key is not a stream either */
	r = h_fetch_auth(&h, sv->port, "/v1/decisions/stream", BWE_FMT_CROWDSEC, BWE_WIRE_AUTH_NONE,
			 NULL, NULL);
	assert_int_equal(r->status, -EACCES);
	/* HTTP basic and bearer */
	r = h_fetch_auth(&h, sv->port, "/basic", BWE_FMT_PLAIN, BWE_WIRE_AUTH_BASIC, "reader",
			 "pass word:1");
	assert_int_equal(r->status, 0);
	assert_int_equal(r->n_inds, 1);
	r = h_fetch_auth(&h, sv->port, "/basic", BWE_FMT_PLAIN, BWE_WIRE_AUTH_BASIC, "reader",
			 "pass word:2");
	assert_int_equal(r->status, -EACCES);
	r = h_fetch_auth(&h, sv->port, "/bearer", BWE_FMT_PLAIN, BWE_WIRE_AUTH_BEARER, "",
			 "tok.en");
	assert_int_equal(r->status, 0);
	assert_int_equal(r->n_inds, 1);
	r = h_fetch_auth(&h, sv->port, "/bearer", BWE_FMT_PLAIN, BWE_WIRE_AUTH_NONE, NULL, NULL);
	assert_int_equal(r->status, -EACCES);
	/* credentials never follow a redirect */
	r = h_fetch_auth(&h, sv->port, "/moved", BWE_FMT_CROWDSEC, BWE_WIRE_AUTH_HEADER,
			 "X-Api-Key", CS_KEY);
	assert_int_equal(r->status, -EIO);
	assert_non_null(strstr(r->error, "HTTP status 302: a redirect, not followed with "
					 "credentials"));
	assert_null(strstr(r->error, CS_KEY));
	/* the stream parsed as PARSE too (the saved set at a restart) */
	{
		size_t len;
		char *body = read_file(CS_STREAM, &len);
		struct bwe_job_req req = { .kind = BWE_JOB_PARSE,
					   .body = body,
					   .body_len = len,
					   .parse = { .format = BWE_FMT_CROWDSEC } };

		assert_int_equal(bwe_fwc_submit(h.c, &req, NULL, NULL), 0);
		assert_true(h_wait_results(&h, h.n + 1));
		assert_int_equal(h.res[h.n - 1].status, 0);
		assert_int_equal(h.res[h.n - 1].n_decisions, 3);
		free(body);
	}
	h_stop(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_child_credentials),
		cmocka_unit_test(test_parse_same_as_direct),
		cmocka_unit_test(test_parse_split_same_as_direct),
		cmocka_unit_test(test_excerpts_only_of_feeds),
		cmocka_unit_test(test_large_stix_memory),
		cmocka_unit_test(test_memory_ceiling),
		cmocka_unit_test_teardown(test_fetch_http, stop_fetch_server),
		cmocka_unit_test_teardown(test_fetch_auth, stop_auth_server),
		cmocka_unit_test(test_resolve),
		cmocka_unit_test(test_child_killed),
		cmocka_unit_test(test_child_garbage),
		cmocka_unit_test(test_seccomp_kills),
		cmocka_unit_test(test_describe),
	};

	if (geteuid()) {
		fprintf(stderr, "test_sandbox: needs root (the worker switches to nobody)\n");
		return 77;
	}
	unsetenv("BWE_SECCOMP");
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
