/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * httpmsg.h - one HTTP request and its response as the daemon's HTTP
 * listener (http.c) hands them to a handler (the API, api.c), and the two
 * callbacks between them. Header only: the listener knows nothing of the
 * API's routes and the API nothing of libmicrohttpd; main.c joins them.
 */
#ifndef BWCTLD_HTTPMSG_H
#define BWCTLD_HTTPMSG_H

#include <stdbool.h>
#include <stddef.h>

struct http_response;

struct http_request {
	const char *method; /* "GET", "PUT", "DELETE", "POST", ... */
	const char *path;   /* decoded path, without the query: "/v1/quarantines/198.18.0.10" */
	const char *query;  /* raw query string after '?', or NULL */
	const char *bearer; /* the token of "Authorization: Bearer TOKEN", or NULL */
	const char *content_type; /* request Content-Type, or NULL */
	const char *body;	  /* request body (not NUL-terminated), or NULL */
	size_t body_len;
	const char *peer; /* "198.51.100.7:41234" or "[::1]:5000", for logs and events */
	/*
	 * To answer later (the handler waits for something the loop brings,
	 * never blocking it): set rs->later and call answer(answer_ctx,
	 * answer_id, &rs) once, from the loop's thread; the listener takes
	 * rs's body or stream. The client waits meanwhile. An answer to a
	 * request the listener gave up (its listener stopped by a reload) is
	 * dropped and freed; after http_close() answer is never called (the
	 * handler's owner cancels its waits). NULL: this listener cannot wait.
	 */
	void (*answer)(void *answer_ctx, unsigned long long answer_id, struct http_response *rs);
	void *answer_ctx;
	unsigned long long answer_id;
};

struct http_response {
	unsigned int status;	  /* 200, 201, 204, 400, 401, ... */
	const char *content_type; /* static string, e.g. "application/json" */
	char *body; /* malloc()ed by the handler, free()d by the listener; may be NULL */
	size_t len;
	/*
	 * Or, with body NULL, a stream the listener pulls as the client takes
	 * it (chunked, on the loop's thread): next() writes 1..max bytes to buf
	 * and returns how many, 0 at the end, -1 on a failure (the connection
	 * is cut: the client sees an incomplete transfer); done() when the
	 * response is over or abandoned (also when it is never sent).
	 */
	long (*next)(void *ctx, char *buf, size_t max);
	void (*done)(void *ctx);
	void *stream_ctx;
	bool later; /* the answer comes later, through rq->answer (status for the log) */
};

/* Answer one request under /v1/ (fills *rs; never blocks). */
typedef void (*http_handler_fn)(void *ctx, const struct http_request *rq, struct http_response *rs);
/* Is bearer a valid token with this scope ("read", ...)? 0 yes, 401 no or
 * unknown token, 403 a token without the scope. */
typedef int (*http_auth_fn)(void *ctx, const char *bearer, const char *scope);

#endif /* BWCTLD_HTTPMSG_H */
