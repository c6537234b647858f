// SPDX-License-Identifier: GPL-2.0-only
/*
 * http.c - the HTTP listener in the daemon's epoll loop; contract in http.h.
 *
 * One libmicrohttpd daemon per listen address, each in "external epoll"
 * mode (MHD_USE_EPOLL without an internal thread): its epoll descriptor
 * sits in the daemon's loop, and MHD_run() does the non-blocking work when
 * it is ready and once a second for the timeouts. So the handlers run on
 * the loop's thread, between two other events, and call the queries and
 * the transaction without a lock; no request can block the loop (every
 * socket is non-blocking, every buffer bounded).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <json-c/json.h>
#include <microhttpd.h>

#include "bwe_util.h"
#include "http.h"
#include "log.h"

#define HTTP_TLS_FILE_MAX (64 * 1024) /* bytes of a PEM certificate chain or key */
#define HTTP_DISCARD_TIMES \
	16		 /* an oversized body: read at most this many
					* times max_body before closing */
#define HTTP_RUN_MAX  32 /* MHD_run() rounds per event while work is due */
#define HTTP_PEER_LEN (INET6_ADDRSTRLEN + 10)
#define PROBLEM_TYPE  "application/problem+json"
#define METRICS_PATH  "/metrics"
#define API_PREFIX    "/v1"

/* Bytes a streamed response (httpmsg.h) is pulled in. */
#define HTTP_STREAM_BLOCK (64 * 1024)

struct listener {
	struct MHD_Daemon *d;
	int fd; /* its epoll descriptor, in the loop's */
	char addr[BWE_CFG_HTTP_LISTEN_LEN + 1];
};

struct http {
	struct http_deps deps;
	struct listener l[BWE_CFG_HTTP_LISTEN_MAX];
	size_t n;
	int epfd;
	__u32 tag;
	/* the bounds of the running set (a reload may change them) */
	unsigned int max_clients;
	size_t max_body;
	size_t clients; /* open connections, all listeners */
	unsigned long long requests, refused;
	struct req *waiting; /* suspended until the handler answers (httpmsg.h) */
	unsigned long long next_id;
};

/* One request from its URI to its completion. */
struct req {
	struct http *h;
	char *uri; /* raw, with the query */
	char *body;
	size_t len;
	size_t discarded; /* bytes of an oversized body read and dropped */
	bool started;
	bool too_large;
	/* an answer that comes later: the connection is suspended until it does */
	struct MHD_Connection *conn;
	struct MHD_Daemon *d;
	unsigned long long id;
	bool answered;
	struct http_response later;
	struct req *next_wait;
};

/* ---- configuration ------------------------------------------------------------- */

/*
 * A TLS file: a regular file of 1 byte to HTTP_TLS_FILE_MAX. Symbolic links
 * are followed (certbot's live/ directory is made of them); O_NONBLOCK so
 * that a FIFO in its place is refused, not waited on.
 */
static int read_file(const char *path, char **out, size_t *len)
{
	struct stat st;
	ssize_t r;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK), err;
	char *b;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		err = -errno;
		close(fd);
		return err;
	}
	if (!S_ISREG(st.st_mode) || st.st_size <= 0 || st.st_size > HTTP_TLS_FILE_MAX) {
		close(fd);
		return S_ISREG(st.st_mode) ? -EFBIG : -EINVAL;
	}
	b = malloc((size_t)st.st_size + 1);
	if (!b) {
		close(fd);
		return -ENOMEM;
	}
	r = read(fd, b, (size_t)st.st_size);
	err = r < 0 ? -errno : 0;
	close(fd);
	if (r != st.st_size) {
		free(b);
		return err ?: -EIO;
	}
	b[r] = '\0';
	*out = b;
	*len = (size_t)r;
	return 0;
}

int http_check(const struct bwe_cfgfile *cfg, bool have_auth, char *err, size_t errlen)
{
	const char *files[] = { cfg->http.tls_cert, cfg->http.tls_key };
	const char *keys[] = { "http.tls.cert", "http.tls.key" };
	size_t i, len;
	char *b;
	int e;

	if (!cfg->http.n_listen)
		return 0;
	if (cfg->http.metrics_auth && !have_auth) {
		snprintf(err, errlen,
			 "%s: http.metrics_auth: metrics_auth needs the API's tokens, and this "
			 "bwctld has no token store",
			 cfg->path);
		return -EINVAL;
	}
	for (i = 0; i < ARRAY_SIZE(files); i++) {
		if (!files[i])
			continue;
		e = read_file(files[i], &b, &len);
		if (e) {
			snprintf(err, errlen, "%s: %s: cannot read %s: %s", cfg->path, keys[i],
				 files[i],
				 e == -EFBIG	? "not a file of 1 byte to 64 KiB"
				 : e == -EINVAL ? "not a regular file"
						: strerror(-e));
			return -EINVAL;
		}
		free(b);
	}
	return 0;
}

/* ---- answers ------------------------------------------------------------------- */

static enum MHD_Result send_buf(struct MHD_Connection *c, unsigned int status, const char *type,
				const char *body, size_t len, bool auth_hdr)
{
	struct MHD_Response *r;
	enum MHD_Result ok;

	r = MHD_create_response_from_buffer(len, (void *)(uintptr_t)body, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	if (type)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (auth_hdr)
		MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					"Bearer realm=\"bwenforce\"");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ok = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ok;
}

/* A stream of the handler's (httpmsg.h): pulled by libmicrohttpd as the socket takes it. */
struct stream {
	long (*next)(void *ctx, char *buf, size_t max);
	void (*done)(void *ctx);
	void *ctx;
};

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream *st = cls;
	long n = st->next(st->ctx, buf, max);

	(void)pos;
	if (n > 0)
		return (ssize_t)n;
	return n == 0 ? MHD_CONTENT_READER_END_OF_STREAM : MHD_CONTENT_READER_END_WITH_ERROR;
}

static void stream_free(void *cls)
{
	struct stream *st = cls;

	st->done(st->ctx);
	free(st);
}

static enum MHD_Result send_stream(struct MHD_Connection *c, const struct http_response *rs)
{
	struct stream *st = malloc(sizeof(*st));
	struct MHD_Response *r;
	enum MHD_Result ok;

	if (!st) {
		rs->done(rs->stream_ctx);
		return MHD_NO;
	}
	*st = (struct stream){ .next = rs->next, .done = rs->done, .ctx = rs->stream_ctx };
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, HTTP_STREAM_BLOCK, stream_read, st,
					      stream_free);
	if (!r) {
		stream_free(st);
		return MHD_NO;
	}
	if (rs->content_type)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, rs->content_type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	ok = MHD_queue_response(c, rs->status, r);
	MHD_destroy_response(r);
	return ok;
}

/* An RFC 9457 problem: type about:blank, title the status's phrase. */
static enum MHD_Result problem(struct http *h, struct MHD_Connection *c, unsigned int status,
			       const char *detail)
{
	struct json_object *o = json_object_new_object();
	enum MHD_Result ok;
	const char *s;

	h->refused++;
	json_object_object_add(o, "type", json_object_new_string("about:blank"));
	json_object_object_add(o, "title",
			       json_object_new_string(MHD_get_reason_phrase_for(status)));
	json_object_object_add(o, "status", json_object_new_int((int)status));
	json_object_object_add(o, "detail", json_object_new_string(detail));
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	ok = send_buf(c, status, PROBLEM_TYPE, s, strlen(s),
		      status == MHD_HTTP_UNAUTHORIZED || status == MHD_HTTP_FORBIDDEN);
	json_object_put(o);
	return ok;
}

static void peer_of(struct MHD_Connection *c, char *buf, size_t len)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	char a[INET6_ADDRSTRLEN] = "?";

	snprintf(buf, len, "?");
	if (!ci || !ci->client_addr)
		return;
	if (ci->client_addr->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)ci->client_addr;

		inet_ntop(AF_INET, &s->sin_addr, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, ntohs(s->sin_port));
	} else if (ci->client_addr->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)ci->client_addr;

		inet_ntop(AF_INET6, &s->sin6_addr, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, ntohs(s->sin6_port));
	}
}

/* "Bearer TOKEN" (scheme case-insensitive), or NULL. */
static const char *bearer_of(struct MHD_Connection *c)
{
	const char *a =
		MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	static const char scheme[] = "Bearer ";

	if (!a || strncasecmp(a, scheme, sizeof(scheme) - 1))
		return NULL;
	a += sizeof(scheme) - 1;
	while (*a == ' ')
		a++;
	return *a ? a : NULL;
}

static enum MHD_Result metrics(struct http *h, struct MHD_Connection *c, const char *method)
{
	const struct bwe_cfgfile *cfg = *h->deps.cfg;
	struct metrics_extra x = { .http_clients = h->clients,
				   .http_requests = h->requests,
				   .http_refused = h->refused };
	enum MHD_Result ok;
	size_t len;
	char *text;

	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return problem(h, c, MHD_HTTP_METHOD_NOT_ALLOWED, "/metrics answers GET and HEAD");
	if (cfg->http.metrics_auth) {
		const char *tok = bearer_of(c);
		int a = h->deps.auth ? h->deps.auth(h->deps.ctx, tok, "read")
				     : MHD_HTTP_UNAUTHORIZED;

		if (a == MHD_HTTP_FORBIDDEN)
			return problem(h, c, a, "the token lacks the read scope");
		if (a)
			return problem(h, c, MHD_HTTP_UNAUTHORIZED,
				       tok ? "unknown token"
					   : "a bearer token with the read scope "
					     "is required");
	}
	if (h->deps.ctl)
		x.control_clients = control_clients(h->deps.ctl);
	text = metrics_render(&h->deps.m, &x, &len);
	if (!text)
		return problem(h, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	ok = send_buf(c, MHD_HTTP_OK, METRICS_CONTENT_TYPE, text, len, false);
	free(text);
	return ok;
}

/* The handler's response: sent, its body freed (a stream's done() called when it ends). */
static enum MHD_Result send_rs(struct http *h, struct MHD_Connection *c, struct http_response *rs)
{
	enum MHD_Result ok;

	if (!rs->status) {
		free(rs->body);
		if (rs->next)
			rs->done(rs->stream_ctx);
		return problem(h, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "the handler gave no answer");
	}
	if (rs->next && !rs->body)
		return send_stream(c, rs);
	ok = send_buf(c, rs->status, rs->content_type, rs->body ? rs->body : "",
		      rs->body ? rs->len : 0, rs->status == MHD_HTTP_UNAUTHORIZED);
	free(rs->body);
	return ok;
}

/* Take the waiting request of id out of the list; NULL when it is not there (given up). */
static struct req *unwait(struct http *h, unsigned long long id)
{
	struct req **p, *q;

	for (p = &h->waiting; (q = *p); p = &q->next_wait)
		if (q->id == id) {
			*p = q->next_wait;
			return q;
		}
	return NULL;
}

/* httpmsg.h's answer(): the response of a suspended request; it resumes. */
static void answer_later(void *ctx, unsigned long long id, struct http_response *rs)
{
	struct req *q = unwait(ctx, id);

	if (!q) {
		free(rs->body);
		if (rs->next)
			rs->done(rs->stream_ctx);
		return;
	}
	q->later = *rs;
	q->later.later = false;
	q->answered = true;
	MHD_resume_connection(q->conn);
}

/* Before a listener stops: its waiting requests are given up (503), resumed, dropped. */
static void give_up_waiting(struct http *h, const struct MHD_Daemon *d)
{
	struct req **p = &h->waiting, *q;

	while ((q = *p)) {
		if (q->d != d) {
			p = &q->next_wait;
			continue;
		}
		*p = q->next_wait;
		q->later = (struct http_response){ .status = MHD_HTTP_SERVICE_UNAVAILABLE };
		q->answered = true;
		MHD_resume_connection(q->conn);
	}
}

static enum MHD_Result api(struct http *h, struct MHD_Connection *c, struct req *q,
			   const char *path, const char *method)
{
	struct http_response rs = { 0 };
	struct http_request rq = {
		.method = method,
		.path = path,
		.bearer = bearer_of(c),
		.content_type = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
							    MHD_HTTP_HEADER_CONTENT_TYPE),
		.body = q->body,
		.body_len = q->len,
	};
	char peer[HTTP_PEER_LEN], *qm = strchr(q->uri, '?');

	if (!h->deps.handler)
		return problem(h, c, MHD_HTTP_NOT_FOUND, "this bwctld serves no API");
	peer_of(c, peer, sizeof(peer));
	rq.peer = peer;
	rq.query = qm ? qm + 1 : NULL;
	rq.answer = answer_later;
	rq.answer_ctx = h;
	rq.answer_id = ++h->next_id;
	h->deps.handler(h->deps.ctx, &rq, &rs);
	if (rs.later) { /* the client waits, off the loop: answer_later() resumes it */
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_DAEMON);

		q->conn = c;
		q->d = ci ? ci->daemon : NULL;
		q->id = rq.answer_id;
		q->next_wait = h->waiting;
		h->waiting = q;
		MHD_suspend_connection(c);
		return MHD_YES;
	}
	return send_rs(h, c, &rs);
}

/* 413, naming the cap. */
static enum MHD_Result too_large(struct http *h, struct MHD_Connection *c)
{
	char detail[96];

	snprintf(detail, sizeof(detail), "a request body may have at most %zu bytes", h->max_body);
	return problem(h, c, MHD_HTTP_CONTENT_TOO_LARGE, detail);
}

/* Did the client send "Expect: 100-continue", holding its body back? */
static bool expects_continue(struct MHD_Connection *c)
{
	const char *e = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT);

	return e && !strcasecmp(e, "100-continue");
}

/* Is path "/v1" or under "/v1/"? */
static bool is_api(const char *path)
{
	size_t n = strlen(API_PREFIX);

	return !strncmp(path, API_PREFIX, n) && (path[n] == '\0' || path[n] == '/');
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_size, void **con_cls)
{
	struct http *h = cls;
	struct req *q = *con_cls;

	(void)version;
	if (!q)
		return MHD_NO; /* the URI callback failed to allocate */
	if (q->answered) {     /* resumed: the answer came (answer_later()) */
		q->answered = false;
		return send_rs(h, c, &q->later);
	}
	if (!q->started) {
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_CONTENT_LENGTH);
		unsigned long long len;

		q->started = true;
		h->requests++;
		len = cl ? strtoull(cl, NULL, 10) : 0;
		if (len > h->max_body) {
			/*
			 * Answered at once only when the client has not sent
			 * the body yet (it waits for "100 Continue") or the body
			 * is beyond what is drained anyway: closing a connection
			 * with unread data resets it, and the client may lose
			 * the answer. Else it is read and dropped, then answered.
			 */
			if (expects_continue(c) || len > HTTP_DISCARD_TIMES * h->max_body)
				return too_large(h, c);
			q->too_large = true;
		}
		return MHD_YES;
	}
	if (*upload_size) {
		size_t n = *upload_size;

		*upload_size = 0;
		if (q->too_large || q->len + n > h->max_body) {
			/* chunked, no length: read and drop, within bounds */
			q->too_large = true;
			q->discarded += n;
			free(q->body);
			q->body = NULL;
			q->len = 0;
			return q->discarded > HTTP_DISCARD_TIMES * h->max_body ? MHD_NO : MHD_YES;
		}
		{
			char *b = realloc(q->body, q->len + n);

			if (!b)
				return MHD_NO;
			memcpy(b + q->len, upload_data, n);
			q->body = b;
			q->len += n;
		}
		return MHD_YES;
	}
	if (q->too_large)
		return too_large(h, c);
	if (!strcmp(url, METRICS_PATH))
		return metrics(h, c, method);
	if (is_api(url))
		return api(h, c, q, url, method);
	return problem(h, c, MHD_HTTP_NOT_FOUND, "no such resource (/metrics, /v1/...)");
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct req *q = calloc(1, sizeof(*q));

	(void)c;
	if (!q)
		return NULL;
	q->h = cls;
	q->uri = strdup(uri);
	if (!q->uri) {
		free(q);
		return NULL;
	}
	return q;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct req *q = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (!q)
		return;
	free(q->uri);
	free(q->body);
	free(q);
	*con_cls = NULL;
}

/* At accept: refused (closed at once) when max_clients connections are open. */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t len)
{
	struct http *h = cls;

	(void)addr;
	(void)len;
	if (h->clients < h->max_clients)
		return MHD_YES;
	h->refused++;
	return MHD_NO;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct http *h = cls;

	(void)c;
	(void)socket_context;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED)
		h->clients++;
	else if (h->clients)
		h->clients--;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	log_debug("http: %s", msg);
}

/* ---- listeners ----------------------------------------------------------------- */

static void close_set(struct http *h, struct listener *l, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (h->epfd >= 0 && l[i].fd >= 0)
			epoll_ctl(h->epfd, EPOLL_CTL_DEL, l[i].fd, NULL);
		if (l[i].d) {
			give_up_waiting(h, l[i].d); /* stopping with one suspended is not allowed */
			MHD_stop_daemon(l[i].d);
		}
		l[i].d = NULL;
		l[i].fd = -1;
	}
}

static int start_one(struct http *h, const struct bwe_cfgfile *cfg, const char *addr,
		     const char *cert, const char *key, struct listener *l)
{
	struct sockaddr_storage sa;
	unsigned int salen, flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
	const union MHD_DaemonInfo *di;
	int lo;

	l->fd = -1;
	snprintf(l->addr, sizeof(l->addr), "%s", addr);
	if (bwe_cfg_listen_parse(addr, &sa, &salen, &lo))
		return -EINVAL;
	if (sa.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (cert)
		flags |= MHD_USE_TLS;
	/*
	 * libmicrohttpd's own limit is one above ours: at its limit it stops
	 * calling accept() and a client waits in the kernel's backlog; below
	 * it on_accept() refuses, and the client learns at once.
	 */
	l->d = MHD_start_daemon(flags, 0, on_accept, h, on_request, h, MHD_OPTION_EXTERNAL_LOGGER,
				mhd_log, h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
				MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned int)1,
				MHD_OPTION_CONNECTION_LIMIT,
				(unsigned int)cfg->http.max_clients + 1,
				MHD_OPTION_PER_IP_CONNECTION_LIMIT,
				(unsigned int)cfg->http.max_clients_per_address,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)cfg->http.timeout_s,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONN_MEMORY,
				MHD_OPTION_URI_LOG_CALLBACK, on_uri, h, MHD_OPTION_NOTIFY_COMPLETED,
				on_completed, h, MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
				MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
				cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, cert,
				MHD_OPTION_HTTPS_MEM_KEY, key, MHD_OPTION_END);
	if (!l->d)
		return -EADDRNOTAVAIL;
	di = MHD_get_daemon_info(l->d, MHD_DAEMON_INFO_EPOLL_FD);
	if (!di) {
		MHD_stop_daemon(l->d);
		l->d = NULL;
		return -ENOTSUP;
	}
	l->fd = di->epoll_fd;
	return 0;
}

/* Start every listener of cfg into l; all or none. */
static int start_set(struct http *h, const struct bwe_cfgfile *cfg, struct listener *l, size_t *n)
{
	char *cert = NULL, *key = NULL;
	size_t i, len;
	int e = 0;

	*n = 0;
	if (cfg->http.tls_cert && ((e = read_file(cfg->http.tls_cert, &cert, &len)) ||
				   (e = read_file(cfg->http.tls_key, &key, &len)))) {
		log_warnx("http: cannot read %s: %s", cert ? cfg->http.tls_key : cfg->http.tls_cert,
			  strerror(-e));
		goto out;
	}
	for (i = 0; i < cfg->http.n_listen; i++) {
		e = start_one(h, cfg, cfg->http.listen[i], cert, key, &l[i]);
		if (e) {
			log_warnx("http: cannot listen on %s%s (address in use or not local%s)",
				  cfg->http.listen[i], cert ? " with TLS" : "",
				  cert ? ", or a bad certificate or key" : "");
			close_set(h, l, i);
			goto out;
		}
	}
	*n = cfg->http.n_listen;
out:
	if (key) {
		explicit_bzero(key, strlen(key));
		free(key);
	}
	free(cert);
	return e;
}

static void register_set(struct http *h)
{
	size_t i;

	for (i = 0; h->epfd >= 0 && i < h->n; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = h->tag + (__u32)i };

		if (epoll_ctl(h->epfd, EPOLL_CTL_ADD, h->l[i].fd, &ev))
			log_warn("http: epoll_ctl %s", h->l[i].addr);
	}
}

int http_open(struct http **out, const struct http_deps *deps)
{
	const struct bwe_cfgfile *cfg = *deps->cfg;
	struct http *h = calloc(1, sizeof(*h));
	char err[BWE_CFG_ERR_LEN];
	int e;

	if (!h)
		return -ENOMEM;
	h->deps = *deps;
	h->epfd = -1;
	h->max_clients = cfg->http.max_clients;
	h->max_body = cfg->http.max_body;
	e = http_check(cfg, deps->auth != NULL, err, sizeof(err));
	if (e) {
		log_warnx("%s", err);
		free(h);
		return e;
	}
	e = start_set(h, cfg, h->l, &h->n);
	if (e) {
		free(h);
		return e;
	}
	for (size_t i = 0; i < h->n; i++)
		log_info("http: listening on %s%s", h->l[i].addr,
			 cfg->http.tls_cert ? " (TLS)" : "");
	*out = h;
	return 0;
}

void http_close(struct http *h)
{
	if (!h)
		return;
	close_set(h, h->l, h->n);
	free(h);
}

void http_loop(struct http *h, int epfd, __u32 tag)
{
	h->epfd = epfd;
	h->tag = tag;
	register_set(h);
}

/* Is work due now (data read but not yet parsed, a reply to send)? */
static bool due(const struct listener *l)
{
	MHD_UNSIGNED_LONG_LONG t;

	return MHD_get_timeout(l->d, &t) == MHD_YES && t == 0;
}

/* Run a listener until nothing is due now (bounded: the loop has other work). */
static void run_one(struct listener *l)
{
	int i;

	for (i = 0; i < HTTP_RUN_MAX; i++) {
		MHD_run(l->d);
		if (!due(l))
			break;
	}
}

bool http_busy(const struct http *h)
{
	size_t i;

	for (i = 0; h && i < h->n; i++)
		if (due(&h->l[i]))
			return true;
	return false;
}

void http_on_event(struct http *h, __u32 data)
{
	__u32 i = data - h->tag;

	if (i < h->n && h->l[i].d)
		run_one(&h->l[i]);
}

void http_run(struct http *h)
{
	size_t i;

	for (i = 0; h && i < h->n; i++)
		run_one(&h->l[i]);
}

int http_reload(struct http *h, const struct http_deps *deps)
{
	const struct bwe_cfgfile *cfg = *deps->cfg;
	struct listener nl[BWE_CFG_HTTP_LISTEN_MAX];
	unsigned int old_clients = h->max_clients;
	size_t old_body = h->max_body, nn, i;
	char err[BWE_CFG_ERR_LEN];
	int e;

	e = http_check(cfg, deps->auth != NULL, err, sizeof(err));
	if (e) {
		log_warnx("http: reload refused, keeping the running listeners: %s", err);
		return e;
	}
	/* the new set binds beside the old one (SO_REUSEPORT), then takes over */
	h->max_clients = cfg->http.max_clients;
	h->max_body = cfg->http.max_body;
	e = start_set(h, cfg, nl, &nn);
	if (e) {
		h->max_clients = old_clients;
		h->max_body = old_body;
		log_warnx("http: reload: keeping the running listeners");
		return e;
	}
	close_set(h, h->l, h->n);
	memcpy(h->l, nl, sizeof(nl));
	h->n = nn;
	h->deps = *deps;
	register_set(h);
	for (i = 0; i < h->n; i++)
		log_info("http: listening on %s%s", h->l[i].addr,
			 cfg->http.tls_cert ? " (TLS)" : "");
	return 0;
}
