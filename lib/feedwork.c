// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * feedwork.c - the feed worker's loop (feedwork.h): requests in, typed
 * records out, over the wire.h framing. The download and DNS code moved
 * here from ctl/bwctld/feeds.c (do_fetch, resolve_one).
 */
#include <errno.h>
#include <stdint.h>
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netdb.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <resolv.h>
#include <curl/curl.h>

#include "feedwork.h"
#include "fwclient.h" /* BWE_FWC_RESOLVE_S: the time the parent allows per name */
#include "misp.h"
#include "taxii.h"
#include "wire.h"

#define READ_CHUNK     (64 * 1024)   /* bytes read from the parent at once */
#define FLUSH_AT       (1024 * 1024) /* bytes of output buffered before a write */
#define DNS_ANSWER_MAX 4096	     /* bytes of one DNS answer */
/* A server that does not answer costs at most DNS_TIMEOUT_S * DNS_TRIES per
 * name (the AAAA query is skipped after a timed-out A query): well inside
 * the BWE_FWC_RESOLVE_S the parent allows per name. */
#define DNS_TIMEOUT_S  2 /* seconds per try */
#define DNS_TRIES      2
#define HDR_LINE_MAX   512	     /* bytes of a conditional request header */
#define MMAP_THRESHOLD (1024 * 1024) /* bytes: larger allocations are mappings */

const char *const bwe_feedwork_allow[] = {
	/* memory, threads (libcurl's resolver thread), time */
	"brk",
	"mmap",
	"munmap",
	"mremap",
	"mprotect",
	"madvise",
	"futex",
	"set_robust_list",
	"rseq",
	"set_tid_address",
	"sched_yield",
	"sched_getaffinity",
	"clock_gettime",
	"clock_getres",
	"gettimeofday",
	"time",
	"nanosleep",
	"clock_nanosleep",
	"getrandom",
	"exit",
	"exit_group",
	"getpid",
	"gettid",
	"getuid",
	"geteuid",
	"getgid",
	"getegid",
	"uname",
	"sysinfo",
	"prlimit64",
	"getrlimit",
	"rt_sigaction",
	"rt_sigprocmask",
	"rt_sigreturn",
	"sigaltstack",
	/* fds that are already open, and reading files (CA certs, resolv.conf,
	 * NSS): open/openat are added read-only by BWE_SC_OPEN_RDONLY */
	"read",
	"readv",
	"pread64",
	"write",
	"writev",
	"close",
	"fstat",
	"newfstatat",
	"stat",
	"lstat",
	"statx",
	"lseek",
	"fcntl",
	"dup",
	"dup2",
	"dup3",
	"pipe",
	"pipe2",
	"eventfd2",
	"access",
	"faccessat",
	"faccessat2",
	"readlink",
	"getdents64",
	"poll",
	"ppoll",
	"select",
	"pselect6",
	"epoll_create1",
	"epoll_ctl",
	"epoll_wait",
	"epoll_pwait",
	/* sockets: socket() is added for AF_INET, AF_INET6, AF_UNIX only */
	"connect",
	"bind",
	"getsockname",
	"getpeername",
	"setsockopt",
	"getsockopt",
	"sendto",
	"recvfrom",
	"sendmsg",
	"recvmsg",
	"sendmmsg",
	"recvmmsg",
	"shutdown",
	"socketpair",
	NULL,
};

const struct bwe_seccomp_profile bwe_feedwork_seccomp = {
	.name = "feed-worker",
	.allow = bwe_feedwork_allow,
	.flags = BWE_SC_OPEN_RDONLY | BWE_SC_SOCKET_NET | BWE_SC_THREADS | BWE_SC_SIGNAL_SELF,
};

struct worker {
	int fd;
	const char *user_agent;
	struct bwe_wire_buf out;
};

static int flush(struct worker *w, bool force)
{
	int err;

	if (!w->out.len || (!force && w->out.len < FLUSH_AT))
		return 0;
	err = bwe_sandbox_write_all(w->fd, w->out.p, w->out.len);
	bwe_wire_buf_consume(&w->out, w->out.len);
	return err;
}

/* ---- a job's answer ---------------------------------------------------------- */

struct answer {
	__u32 job;
	struct bwe_wire_result r;
	struct bwe_wire_end end;
};

__attribute__((format(printf, 3, 4))) static void set_error(struct answer *a, int err,
							    const char *fmt, ...)
{
	va_list ap;
	char *p;

	a->r.status = err;
	va_start(ap, fmt);
	vsnprintf(a->r.error, sizeof(a->r.error), fmt, ap);
	va_end(ap);
	for (p = a->r.error; *p; p++) /* the parent refuses control bytes */
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
}

/* ---- parsing ------------------------------------------------------------------- */

struct ind {
	struct bwe_prefix pfx;
	__u32 line;
	__s64 valid_until;
	size_t id; /* offset+1 into strs, 0 none */
};

struct dom {
	size_t name; /* offset into strs */
	__u32 line;
};

struct rej {
	__u32 line;
	char reason[BWE_WIRE_REASON_MAX];
	char excerpt[BWE_WIRE_EXCERPT_MAX];
};

struct parsed {
	struct ind *inds;
	size_t n_inds, cap_inds;
	struct dom *doms;
	size_t n_doms, cap_doms;
	struct rej rejs[BWE_WIRE_REJECTS_MAX];
	size_t n_rejs;
	char *strs;
	size_t slen, scap;
	int err;
};

static int push(void **v, size_t *n, size_t *cap, size_t size)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 1024;
		void *nv = reallocarray(*v, c, size);

		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = c;
	}
	(*n)++;
	return 0;
}

static int str_add(struct parsed *p, const char *s, size_t *off)
{
	size_t len = strnlen(s, BWE_WIRE_ID_MAX - 1) + 1;

	if (p->slen + len > p->scap) {
		size_t c = p->scap ? p->scap * 2 : 65536;
		char *n;

		while (c < p->slen + len)
			c *= 2;
		n = realloc(p->strs, c);
		if (!n)
			return -ENOMEM;
		p->strs = n;
		p->scap = c;
	}
	memcpy(p->strs + p->slen, s, len - 1);
	p->strs[p->slen + len - 1] = '\0';
	*off = p->slen;
	p->slen += len;
	return 0;
}

static int on_ind(const struct bwe_indicator *ind, void *ctx)
{
	struct parsed *p = ctx;
	struct ind *i;

	if (ind->kind == BWE_IND_DOMAIN) {
		struct dom *d;

		if (push((void **)&p->doms, &p->n_doms, &p->cap_doms, sizeof(*d)))
			return -ENOMEM;
		d = &p->doms[p->n_doms - 1];
		d->line = ind->line;
		return str_add(p, ind->domain, &d->name);
	}
	if (push((void **)&p->inds, &p->n_inds, &p->cap_inds, sizeof(struct ind)))
		return -ENOMEM;
	i = &p->inds[p->n_inds - 1];

	i->pfx = ind->pfx;
	i->line = ind->line;
	i->valid_until = ind->valid_until;
	i->id = 0;
	if (ind->id) {
		int err = str_add(p, ind->id, &i->id);

		if (err)
			return err;
		i->id++;
	}
	return 0;
}

static void on_reject(const struct bwe_feed_reject *rej, void *ctx)
{
	struct parsed *p = ctx;
	struct rej *r;

	if (p->n_rejs >= BWE_WIRE_REJECTS_MAX)
		return;
	r = &p->rejs[p->n_rejs++];
	r->line = rej->line;
	snprintf(r->reason, sizeof(r->reason), "%s", rej->reason ? rej->reason : "");
	snprintf(r->excerpt, sizeof(r->excerpt), "%s", rej->excerpt ? rej->excerpt : "");
}

static int ind_cmp(const void *a, const void *b)
{
	const struct ind *x = a, *y = b;
	int c = bwe_prefix_cmp(&x->pfx, &y->pfx);

	/* equal prefixes: the first line wins */
	return c ? c : (x->line > y->line) - (x->line < y->line);
}

static void sort_unique(struct parsed *p)
{
	size_t i, w = 0;

	qsort(p->inds, p->n_inds, sizeof(*p->inds), ind_cmp);
	for (i = 0; i < p->n_inds; i++)
		if (!w || bwe_prefix_cmp(&p->inds[w - 1].pfx, &p->inds[i].pfx))
			p->inds[w++] = p->inds[i];
	p->n_inds = w;
}

static void parsed_free(struct parsed *p)
{
	free(p->inds);
	free(p->doms);
	free(p->strs);
}

static const char *parse_error_text(int err)
{
	switch (err) {
	case -EBADMSG:
		return "not a feed (HTML page or unparseable)";
	case -EINVAL:
		return "format not recognised";
	case -ENOMEM:
		return "out of memory (the feed worker's ceiling is feed_worker_memory)";
	default:
		return strerror(-err);
	}
}

/* Parse body into records appended to w->out; fills a's status and stats. */
static int parse_and_put(struct worker *w, struct answer *a, const struct bwe_job_req *req,
			 const char *body, size_t len)
{
	struct parsed p = { 0 };
	struct bwe_feed_parse_opts o = {
		.format = req->parse.format,
		.min_plen_v4 = req->parse.min_plen_v4,
		.min_plen_v6 = req->parse.min_plen_v6,
		.now = req->parse.now,
		.on_ind = on_ind,
		.on_reject = on_reject,
		.ctx = &p,
	};
	struct bwe_feed_stats st = { 0 };
	bool excerpts;
	size_t i;
	int err;

	err = bwe_feed_parse(body, len, &o, &st);
	a->r.format = (__u32)st.format;
	a->r.lines = st.lines;
	a->r.accepted = st.accepted;
	a->r.rejected = st.rejected;
	a->r.skipped = st.skipped;
	if (err) {
		set_error(a, err < 0 ? err : -EIO, "cannot parse: %s",
			  parse_error_text(err < 0 ? err : -EIO));
		parsed_free(&p);
		return 0;
	}
	/* RESULT first, the records after it */
	err = bwe_wire_put_frame(&w->out, BWE_WIRE_RES_RESULT, a->job, &a->r, sizeof(a->r));
	sort_unique(&p);
	for (i = 0; !err && i < p.n_inds; i++) {
		struct bwe_job_ind ji = {
			.pfx = p.inds[i].pfx,
			.line = p.inds[i].line,
			.valid_until = p.inds[i].valid_until,
			.id = p.inds[i].id ? p.strs + p.inds[i].id - 1 : NULL,
		};

		err = bwe_wire_put_ind(&w->out, a->job, &ji);
		if (!err)
			err = flush(w, false);
	}
	for (i = 0; !err && i < p.n_doms; i++) {
		err = bwe_wire_put_domain(&w->out, a->job, p.strs + p.doms[i].name, p.doms[i].line);
		if (!err)
			err = flush(w, false);
	}
	/*
	 * Excerpts only of a body the garbage guard of feed.c recognises as a
	 * feed (bwe_feed_detect): the lines of a file that is not one (a
	 * secret behind a link, a config file) never leave the worker.
	 */
	excerpts = bwe_feed_detect(body, len) != BWE_FMT_AUTO;
	for (i = 0; !err && i < p.n_rejs; i++)
		err = bwe_wire_put_reject(&w->out, a->job, p.rejs[i].line, p.rejs[i].reason,
					  excerpts ? p.rejs[i].excerpt : "");
	a->end.inds = p.n_inds;
	a->end.domains = p.n_doms;
	a->end.rejects = p.n_rejs;
	parsed_free(&p);
	return err ? err : 1; /* 1: RESULT already written */
}

/* ---- crowdsec-lapi: decisions instead of indicators ------------------------------- */

struct csparsed {
	struct parsed p; /* its rejects */
	struct bwe_cs_decision *v;
	size_t n, cap;
};

static int on_decision(const struct bwe_cs_decision *d, void *ctx)
{
	struct csparsed *c = ctx;
	struct bwe_cs_decision *o;

	if (push((void **)&c->v, &c->n, &c->cap, sizeof(*c->v)))
		return -ENOMEM;
	o = &c->v[c->n - 1];
	*o = *d;
	o->origin = strdup(d->origin);
	o->scenario = strdup(d->scenario);
	if (!o->origin || !o->scenario) {
		free((char *)(uintptr_t)o->origin);
		free((char *)(uintptr_t)o->scenario);
		c->n--;
		return -ENOMEM;
	}
	return 0;
}

static void on_cs_reject(const struct bwe_feed_reject *rej, void *ctx)
{
	on_reject(rej, &((struct csparsed *)ctx)->p);
}

static void csparsed_free(struct csparsed *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free((char *)(uintptr_t)c->v[i].origin);
		free((char *)(uintptr_t)c->v[i].scenario);
	}
	free(c->v);
	parsed_free(&c->p);
}

static const char *cs_error_text(int err)
{
	switch (err) {
	case -EBADMSG:
		return "not a CrowdSec decision stream (no \"new\" and \"deleted\" arrays: "
		       "another JSON object, HTML or unparseable)";
	case -E2BIG:
		return "more decisions than a stream body may hold";
	default:
		return parse_error_text(err);
	}
}

/* Parse a decision stream into decision records; as parse_and_put. */
static int cs_parse_and_put(struct worker *w, struct answer *a, const struct bwe_job_req *req,
			    const char *body, size_t len)
{
	struct csparsed c = { 0 };
	struct bwe_cs_parse_opts o = {
		.min_plen_v4 = req->parse.min_plen_v4,
		.min_plen_v6 = req->parse.min_plen_v6,
		.on_decision = on_decision,
		.on_reject = on_cs_reject,
		.ctx = &c,
	};
	struct bwe_feed_stats st = { 0 };
	size_t i;
	int err;

	err = bwe_cs_parse(body, len, &o, &st);
	a->r.format = (__u32)BWE_FMT_CROWDSEC;
	a->r.lines = st.lines;
	a->r.accepted = st.accepted;
	a->r.rejected = st.rejected;
	a->r.skipped = st.skipped;
	if (err) {
		set_error(a, err < 0 ? err : -EIO, "cannot parse: %s",
			  cs_error_text(err < 0 ? err : -EIO));
		csparsed_free(&c);
		return 0;
	}
	err = bwe_wire_put_frame(&w->out, BWE_WIRE_RES_RESULT, a->job, &a->r, sizeof(a->r));
	for (i = 0; !err && i < c.n; i++) {
		err = bwe_wire_put_decision(&w->out, a->job, &c.v[i]);
		if (!err)
			err = flush(w, false);
	}
	/* a stream is JSON the worker has just parsed: its values may be shown */
	for (i = 0; !err && i < c.p.n_rejs; i++)
		err = bwe_wire_put_reject(&w->out, a->job, c.p.rejs[i].line, c.p.rejs[i].reason,
					  c.p.rejs[i].excerpt);
	a->end.decisions = c.n;
	a->end.rejects = c.p.n_rejs;
	csparsed_free(&c);
	return err ? err : 1; /* 1: RESULT already written */
}

/* ---- FETCH ---------------------------------------------------------------------- */

struct fetch {
	const struct bwe_job_req *req;
	char *body;
	size_t len, cap;
	bool too_big, nomem;
	char etag[BWE_WIRE_ETAG_MAX], last_modified[BWE_WIRE_LASTMOD_MAX];
	char date_added_last[BWE_TAXII_CURSOR_MAX]; /* taxii: X-TAXII-Date-Added-Last */
};

static size_t curl_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct fetch *f = arg;
	size_t n = size * nmemb;

	if (f->len + n > f->req->max_bytes) {
		f->too_big = true;
		return 0; /* abort */
	}
	if (f->len + n + 1 > f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 65536;
		char *b;

		while (cap < f->len + n + 1)
			cap *= 2;
		b = realloc(f->body, cap);
		if (!b) {
			f->nomem = true;
			return 0;
		}
		f->body = b;
		f->cap = cap;
	}
	memcpy(f->body + f->len, ptr, n);
	f->len += n;
	f->body[f->len] = '\0';
	return n;
}

/* "Name: value\r\n" -> "value", printable bytes only (control bytes -> '?'). */
static void copy_header_value(const char *line, size_t n, char *out, size_t outlen)
{
	const char *v = memchr(line, ':', n);
	size_t len, i;

	if (!v)
		return;
	v++;
	while (v < line + n && (*v == ' ' || *v == '\t'))
		v++;
	len = (size_t)(line + n - v);
	while (len && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
		len--;
	if (len >= outlen)
		len = outlen - 1;
	for (i = 0; i < len; i++)
		out[i] = (unsigned char)v[i] < 0x20 || v[i] == 0x7f ? '?' : v[i];
	out[len] = '\0';
}

static size_t curl_header(char *line, size_t size, size_t nmemb, void *arg)
{
	struct fetch *f = arg;
	size_t n = size * nmemb;

	if (n > 5 && !strncasecmp(line, "ETag:", 5))
		copy_header_value(line, n, f->etag, sizeof(f->etag));
	else if (n > 14 && !strncasecmp(line, "Last-Modified:", 14))
		copy_header_value(line, n, f->last_modified, sizeof(f->last_modified));
	else if (n > strlen(BWE_TAXII_DATE_HEADER ":") &&
		 !strncasecmp(line, BWE_TAXII_DATE_HEADER ":", strlen(BWE_TAXII_DATE_HEADER ":")))
		copy_header_value(line, n, f->date_added_last, sizeof(f->date_added_last));
	return n;
}

/* Where the last answer pointed (Location), for messages; "?" when unknown. */
static const char *redirect_target(CURL *c)
{
	char *url = NULL;

	if (curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &url) == CURLE_OK && url)
		return url;
	if (curl_easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &url) == CURLE_OK && url)
		return url;
	return "?";
}

static void do_fetch(struct worker *w, struct fetch *f, struct answer *a)
{
	const struct bwe_job_req *req = f->req;
	struct curl_slist *hdrs = NULL;
	char h[HDR_LINE_MAX], secret[BWE_WIRE_AUTH_NAME_MAX + BWE_WIRE_SECRET_MAX + 2];
	CURL *c = curl_easy_init();
	CURLcode rc;
	long http = 0;

	if (!c) {
		set_error(a, -ENOMEM, "libcurl init failed");
		return;
	}
	if (req->etag && req->etag[0]) {
		snprintf(h, sizeof(h), "If-None-Match: %s", req->etag);
		hdrs = curl_slist_append(hdrs, h);
	}
	if (req->last_modified && req->last_modified[0]) {
		snprintf(h, sizeof(h), "If-Modified-Since: %s", req->last_modified);
		hdrs = curl_slist_append(hdrs, h);
	}
	/* the media types of the API formats; a POST body is JSON (misp.h) */
	if (req->parse.format == BWE_FMT_TAXII)
		hdrs = curl_slist_append(hdrs, "Accept: " BWE_TAXII_MEDIA_TYPE);
	else if (req->parse.format == BWE_FMT_MISP)
		hdrs = curl_slist_append(hdrs, "Accept: application/json");
	if (req->method == BWE_WIRE_POST) {
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body);
	}
	if (req->auth == BWE_WIRE_AUTH_HEADER) {
		snprintf(secret, sizeof(secret), "%s: %s", req->auth_name, req->secret);
		hdrs = curl_slist_append(hdrs, secret);
		explicit_bzero(secret, sizeof(secret));
	} else if (req->auth == BWE_WIRE_AUTH_BASIC) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(c, CURLOPT_USERNAME, req->auth_name);
		curl_easy_setopt(c, CURLOPT_PASSWORD, req->secret);
	} else if (req->auth == BWE_WIRE_AUTH_BEARER) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
		curl_easy_setopt(c, CURLOPT_XOAUTH2_BEARER, req->secret);
	}
	curl_easy_setopt(c, CURLOPT_URL, req->url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, curl_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, curl_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, f);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)req->timeout_s);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)BWE_FEEDWORK_CONNECT_TIMEOUT_S);
	/* credentials go to the configured URL only: no redirect is followed */
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, req->auth ? 0L : 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, (long)BWE_FEEDWORK_MAX_REDIRS);
	/* https stays https through redirects; plain http only when asked */
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, req->insecure ? "http,https" : "https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, req->insecure ? "http,https" : "https");
	if (req->ca_file && req->ca_file[0]) {
		curl_easy_setopt(c, CURLOPT_CAINFO, req->ca_file);
		curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
	}
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)req->max_bytes);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, w->user_agent);
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &http);
	a->r.http_status = http > 0 && http <= 999 ? (__u32)http : 0;
	if (f->too_big || rc == CURLE_FILESIZE_EXCEEDED)
		set_error(a, -EFBIG, "larger than max_bytes (%llu)",
			  (unsigned long long)req->max_bytes);
	else if (f->nomem)
		set_error(a, -ENOMEM,
			  "out of memory for the body (the feed worker's ceiling is "
			  "feed_worker_memory)");
	else if (rc == CURLE_UNSUPPORTED_PROTOCOL && !req->insecure)
		set_error(a, -EPROTO, "refused a redirect away from https (%s): %s",
			  redirect_target(c), curl_easy_strerror(rc));
	else if (rc != CURLE_OK)
		set_error(a, -EIO, "%s", curl_easy_strerror(rc));
	else if (http == 304)
		a->r.flags |= BWE_WIRE_NOT_MODIFIED;
	else if (req->auth && http >= 300 && http < 400)
		set_error(a, -EIO,
			  "HTTP status %ld: a redirect, not followed with credentials (to %s)",
			  http, redirect_target(c));
	else if (http == 401 || http == 403)
		set_error(a, -EACCES, "HTTP status %ld: the credentials were refused", http);
	else if (http != 200)
		set_error(a, -EIO, "HTTP status %ld", http);
	snprintf(a->r.etag, sizeof(a->r.etag), "%s", f->etag);
	snprintf(a->r.last_modified, sizeof(a->r.last_modified), "%s", f->last_modified);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
}

/* ---- taxii: every page of a collection poll ------------------------------------------- */

#define TAXII_URL_MAX (BWE_WIRE_URL_MAX + 3 * BWE_TAXII_NEXT_MAX + 8) /* bytes */

struct tpoll {
	struct bwe_taxii_val *v; /* strings in strs (offsets until the end) */
	size_t n, cap;
	struct parsed p; /* its rejects and string storage */
	__u32 base_line; /* objects of the pages before this one */
};

static int on_tval(const struct bwe_taxii_val *v, void *ctx)
{
	struct tpoll *t = ctx;
	struct bwe_taxii_val *o;
	size_t id, dom = 0;
	int err;

	if (t->n >= BWE_TAXII_VALUES_MAX)
		return -E2BIG;
	err = str_add(&t->p, v->id, &id);
	if (!err && v->kind == BWE_TAXII_DOMAIN) {
		err = str_add(&t->p, v->domain, &dom);
		dom++;
	}
	if (err)
		return err;
	if (push((void **)&t->v, &t->n, &t->cap, sizeof(*t->v)))
		return -ENOMEM;
	o = &t->v[t->n - 1];
	*o = *v;
	/* offsets now, pointers once the storage stops moving */
	o->id = (const char *)(uintptr_t)(id + 1);
	o->domain = (const char *)(uintptr_t)dom;
	return 0;
}

static void on_treject(const struct bwe_feed_reject *rej, void *ctx)
{
	struct tpoll *t = ctx;
	struct bwe_feed_reject r = *rej;

	r.line = rej->line + t->base_line;
	on_reject(&r, &t->p);
}

static const char *taxii_error_text(int err)
{
	switch (err) {
	case -EBADMSG:
		return "not a TAXII 2.1 envelope (another JSON object, a TAXII error message, "
		       "HTML or unparseable)";
	case -E2BIG:
		return "more objects than a page, or values than a poll, may hold";
	default:
		return parse_error_text(err);
	}
}

/*
 * GET the objects URL, then each "next" page while "more" is true: at most
 * BWE_TAXII_PAGES_MAX pages, max_bytes over all of them, timeout_s for the
 * whole poll, never the same "next" twice. All pages or nothing: the
 * records go back only when the last page is in.
 */
static int taxii_poll(struct worker *w, struct answer *a, const struct bwe_job_req *req)
{
	struct tpoll t = { 0 };
	struct bwe_taxii_parse_opts o = {
		.min_plen_v4 = req->parse.min_plen_v4,
		.min_plen_v6 = req->parse.min_plen_v6,
		.now = req->parse.now,
		.on_val = on_tval,
		.on_reject = on_treject,
		.ctx = &t,
	};
	char *url = malloc(TAXII_URL_MAX), **seen = NULL, why[BWE_WIRE_ERR_MAX];
	__u64 used = 0, start = (__u64)time(NULL);
	size_t pages = 0, nseen = 0, i;
	int err = 0;

	a->r.format = (__u32)BWE_FMT_TAXII;
	if (!url) {
		set_error(a, -ENOMEM, "out of memory");
		return 0;
	}
	snprintf(url, TAXII_URL_MAX, "%s", req->url);
	for (;;) {
		struct bwe_job_req pr = *req;
		struct fetch f = { .req = &pr };
		struct bwe_taxii_page page;
		struct bwe_feed_stats st;
		__u64 elapsed = (__u64)time(NULL) - start;
		char **ns;

		if (elapsed >= req->timeout_s) {
			set_error(a, -ETIMEDOUT,
				  "the poll took longer than timeout (%u s) after %zu pages",
				  req->timeout_s, pages);
			break;
		}
		pr.url = url;
		pr.max_bytes = req->max_bytes - used;
		pr.timeout_s = req->timeout_s - (__u32)elapsed;
		do_fetch(w, &f, a);
		pages++;
		used += f.len;
		if (!a->r.status && (a->r.flags & BWE_WIRE_NOT_MODIFIED))
			set_error(a, -EIO, "HTTP status 304 to a request without validators");
		a->r.flags = 0;
		if (a->r.status && a->r.status != -EFBIG) {
			snprintf(why, sizeof(why), "%s", a->r.error);
			set_error(a, a->r.status, "page %zu: %.200s", pages, why);
			free(f.body);
			break;
		}
		if (a->r.status) {
			set_error(a, -EFBIG,
				  "the pages of one poll exceed max_bytes (%llu) at page %zu",
				  (unsigned long long)req->max_bytes, pages);
			free(f.body);
			break;
		}
		err = bwe_taxii_parse_page(f.body ? f.body : "", f.len, &o, &page, &st);
		free(f.body);
		a->r.lines += st.lines;
		a->r.accepted += st.accepted;
		a->r.rejected += st.rejected;
		a->r.skipped += st.skipped;
		t.base_line += (__u32)st.lines;
		if (f.date_added_last[0]) {
			struct bwe_taxii_time tt;

			if (!bwe_taxii_time_parse(f.date_added_last, strlen(f.date_added_last),
						  &tt))
				snprintf(a->r.cursor, sizeof(a->r.cursor), "%s", f.date_added_last);
		}
		if (err) {
			set_error(a, err < 0 ? err : -EIO, "page %zu: cannot parse: %s", pages,
				  taxii_error_text(err < 0 ? err : -EIO));
			err = 0;
			break;
		}
		if (!page.more)
			break;
		if (!page.next[0]) {
			set_error(a, -EBADMSG, "page %zu says more but gives no next", pages);
			break;
		}
		if (pages >= BWE_TAXII_PAGES_MAX) {
			set_error(a, -E2BIG, "more than %u pages in one poll", BWE_TAXII_PAGES_MAX);
			break;
		}
		for (i = 0; i < nseen; i++)
			if (!strcmp(seen[i], page.next))
				break;
		if (i < nseen) {
			set_error(a, -ELOOP, "page %zu sends a next it sent before (a loop)",
				  pages);
			break;
		}
		ns = reallocarray(seen, nseen + 1, sizeof(*seen));
		if (ns)
			seen = ns;
		if (!ns || !(seen[nseen] = strdup(page.next))) {
			set_error(a, -ENOMEM, "out of memory");
			break;
		}
		nseen++;
		if (bwe_taxii_next_url(req->url, page.next, url, TAXII_URL_MAX)) {
			set_error(a, -ENAMETOOLONG, "page %zu: the next page's URL is too long",
				  pages);
			break;
		}
	}
	for (i = 0; i < nseen; i++)
		free(seen[i]);
	free(seen);
	free(url);
	if (a->r.status)
		goto out;
	for (i = 0; i < t.n; i++) {
		t.v[i].id = t.p.strs + (uintptr_t)t.v[i].id - 1;
		t.v[i].domain = t.v[i].domain ? t.p.strs + (uintptr_t)t.v[i].domain - 1 : NULL;
	}
	err = bwe_wire_put_frame(&w->out, BWE_WIRE_RES_RESULT, a->job, &a->r, sizeof(a->r));
	for (i = 0; !err && i < t.n; i++) {
		err = bwe_wire_put_taxii(&w->out, a->job, &t.v[i]);
		if (!err)
			err = flush(w, false);
	}
	for (i = 0; !err && i < t.p.n_rejs; i++)
		err = bwe_wire_put_reject(&w->out, a->job, t.p.rejs[i].line, t.p.rejs[i].reason,
					  t.p.rejs[i].excerpt);
	a->end.taxii = t.n;
	a->end.rejects = t.p.n_rejs;
	free(t.v);
	parsed_free(&t.p);
	return err ? err : 1;
out:
	free(t.v);
	parsed_free(&t.p);
	return 0;
}

/* ---- RESOLVE ---------------------------------------------------------------------- */

/* A and AAAA with res_query, keeping the smallest answer TTL. */
static void resolve_one(const char *name, struct bwe_job_answer *out, struct bwe_addr *addrs)
{
	_Static_assert(DNS_TIMEOUT_S * DNS_TRIES < BWE_FWC_RESOLVE_S,
		       "a silent DNS server must not make the parent kill the worker");
	static const int types[] = { ns_t_a, ns_t_aaaa };
	unsigned char ans[DNS_ANSWER_MAX];
	size_t t;

	out->name = name;
	out->ttl = 0;
	out->addrs = addrs;
	out->n_addrs = 0;
	for (t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
		int len = res_query(name, ns_c_in, types[t], ans, sizeof(ans)), i, n;
		ns_msg msg;

		if (len < 0 && h_errno == TRY_AGAIN)
			break; /* timed out or SERVFAIL: the next type would wait as long */
		if (len < 0 || ns_initparse(ans, len, &msg))
			continue;
		n = ns_msg_count(msg, ns_s_an);
		for (i = 0; i < n && out->n_addrs < BWE_WIRE_ADDRS_MAX; i++) {
			struct bwe_addr a = { 0 };
			size_t k;
			ns_rr rr;

			if (ns_parserr(&msg, ns_s_an, i, &rr) || (int)ns_rr_type(rr) != types[t])
				continue;
			if (types[t] == ns_t_a && ns_rr_rdlen(rr) == 4) {
				__u32 v4;

				memcpy(&v4, ns_rr_rdata(rr), 4);
				bwe_addr_from_v4(v4, &a);
			} else if (types[t] == ns_t_aaaa && ns_rr_rdlen(rr) == 16) {
				memcpy(a.a, ns_rr_rdata(rr), 16);
			} else {
				continue;
			}
			for (k = 0; k < out->n_addrs; k++)
				if (!memcmp(&addrs[k], &a, sizeof(a)))
					break;
			if (k < out->n_addrs)
				continue;
			if (!out->n_addrs || ns_rr_ttl(rr) < out->ttl)
				out->ttl = ns_rr_ttl(rr);
			addrs[out->n_addrs++] = a;
		}
	}
}

/* ---- the loop ---------------------------------------------------------------------- */

/* The body back to the parent a FLUSH_AT piece at a time: never a second copy. */
static int put_body(struct worker *w, __u32 job, const char *body, size_t len)
{
	size_t off = 0;
	int err = 0;

	while (!err && off < len) {
		size_t n = len - off < FLUSH_AT ? len - off : FLUSH_AT;

		err = bwe_wire_put_bytes(&w->out, BWE_WIRE_RES_BODY, job, body + off, n);
		if (!err)
			err = flush(w, false);
		off += n;
	}
	return err;
}

static int serve(struct worker *w, const struct bwe_job_req *req)
{
	struct answer a = { .job = req->job };
	struct fetch f = { .req = req };
	int done = 0, err = 0;
	size_t i;

	a.r.format = (__u32)req->parse.format;
	switch (req->kind) {
	case BWE_JOB_FETCH:
		if (req->parse.format == BWE_FMT_TAXII) { /* every page of a collection */
			done = taxii_poll(w, &a, req);
			break;
		}
		do_fetch(w, &f, &a);
		if (a.r.status || (a.r.flags & BWE_WIRE_NOT_MODIFIED))
			break;
		if (req->parse.format ==
		    BWE_FMT_CROWDSEC) { /* no body back: a pull is no version */
			done = cs_parse_and_put(w, &a, req, f.body ? f.body : "", f.len);
			break;
		}
		done = parse_and_put(w, &a, req, f.body ? f.body : "", f.len);
		if (done == 1) {
			err = put_body(w, req->job, f.body, f.len);
			a.end.body = f.len;
		}
		break;
	case BWE_JOB_PARSE:
		if (req->parse.format == BWE_FMT_CROWDSEC)
			done = cs_parse_and_put(w, &a, req, req->body, req->body_len);
		else
			done = parse_and_put(w, &a, req, req->body, req->body_len);
		break;
	case BWE_JOB_RESOLVE: {
		struct bwe_addr addrs[BWE_WIRE_ADDRS_MAX];

		/* caps: RES_OPTIONS or resolv.conf may ask for less, not for more */
		if (_res.retrans > DNS_TIMEOUT_S)
			_res.retrans = DNS_TIMEOUT_S;
		if (_res.retry > DNS_TRIES)
			_res.retry = DNS_TRIES;
		err = bwe_wire_put_frame(&w->out, BWE_WIRE_RES_RESULT, req->job, &a.r, sizeof(a.r));
		done = 1;
		for (i = 0; !err && i < req->n_names; i++) {
			struct bwe_job_answer ans;

			resolve_one(req->names[i], &ans, addrs);
			err = bwe_wire_put_answer(&w->out, req->job, &ans);
			if (!err)
				err = flush(w, false);
		}
		a.end.answers = req->n_names;
		break;
	}
	}
	free(f.body);
	if (done < 0)
		return done;
	if (err)
		return err;
	if (!done)
		err = bwe_wire_put_frame(&w->out, BWE_WIRE_RES_RESULT, req->job, &a.r, sizeof(a.r));
	if (!err)
		err = bwe_wire_put_frame(&w->out, BWE_WIRE_END, req->job, &a.end, sizeof(a.end));
	return err ? err : flush(w, true);
}

int bwe_feedwork_exit_code(int err)
{
	if (!err)
		return 0;
	return err == -ENOMEM ? BWE_SANDBOX_EXIT_NOMEM : 1;
}

int bwe_feedwork_main(int fd, const struct bwe_feedwork_opts *o)
{
	struct worker w = { .fd = fd, .user_agent = "bwenforce" };
	struct bwe_wire_dec *dec = NULL;
	char *buf = NULL;
	int err;

	if (o && o->user_agent)
		w.user_agent = o->user_agent;
	signal(SIGPIPE, SIG_IGN);
	/*
	 * Large buffers (bodies, record arrays) as their own mappings, grown
	 * by mremap: with the default dynamic threshold a freed 16 MiB body
	 * moves the next ones onto the heap, where growing one holds the old
	 * and the new copy at once and needs twice its size under the
	 * memory ceiling.
	 */
	mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD);
	if (curl_global_init(CURL_GLOBAL_DEFAULT))
		return -ENOMEM;
	res_init();
	err = bwe_wire_dec_new(BWE_WIRE_TO_CHILD, &dec);
	if (err)
		goto out;
	buf = malloc(READ_CHUNK);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	err = bwe_sandbox_enter(&bwe_feedwork_seccomp);
	if (err)
		goto out;
	for (;;) {
		ssize_t n = read(fd, buf, READ_CHUNK);
		size_t off = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			break;
		}
		if (!n) {
			err = bwe_wire_dec_idle(dec) ? 0 : -EPIPE;
			break;
		}
		while (off < (size_t)n) {
			size_t used;
			int r = bwe_wire_dec_feed(dec, buf + off, (size_t)n - off, &used);

			off += used;
			if (r == -ENOMEM) {
				fprintf(stderr, "feed worker: out of memory receiving a request "
						"(feed_worker_memory)\n");
				err = r;
				goto out;
			}
			if (r < 0) {
				fprintf(stderr, "feed worker: bad request: %s\n",
					bwe_wire_dec_error(dec));
				err = r;
				goto out;
			}
			if (r == 1) {
				err = serve(&w, bwe_wire_dec_request(dec));
				if (err)
					goto out;
			}
		}
	}
out:
	bwe_wire_buf_free(&w.out);
	bwe_wire_dec_free(dec);
	free(buf);
	return err;
}
