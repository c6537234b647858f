/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * http.h - the daemon's one HTTP listener (layer 7): libmicrohttpd inside
 * the daemon's epoll loop, no threads. GET /metrics answers the Prometheus
 * exposition (metrics.h); every request under /v1/ becomes a struct
 * http_request for the handler main.c gives it (httpmsg.h; none: 404).
 * Everything else, and every refusal of the listener itself, is an
 * application/problem+json body (RFC 9457).
 *
 * Bounds (configuration "http", bwenforce.yaml(5)): http.max_clients
 * connections over all listen addresses (more are refused at accept), of
 * them http.max_clients_per_address from one client address on one listen
 * address (a slow or hostile peer cannot take every slot),
 * http.timeout seconds of idleness closes a connection, a request body
 * above http.max_body is answered 413, request line and headers share
 * HTTP_CONN_MEMORY bytes per connection (more: 431 or 414). A listen
 * address other than loopback needs TLS (http.tls; GnuTLS in
 * libmicrohttpd); the configuration check refuses it otherwise.
 */
#ifndef BWCTLD_HTTP_H
#define BWCTLD_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "config.h"
#include "control.h"
#include "httpmsg.h"
#include "metrics.h"

/* Bytes of a connection's buffer: request line, headers and body chunks. */
#define HTTP_CONN_MEMORY (32U * 1024)

struct http_deps {
	const struct bwe_cfgfile *const *cfg; /* the current configuration */
	struct metrics_deps m;		      /* what /metrics reads */
	const struct control *ctl;	      /* its clients, for the metrics; NULL: none */
	http_handler_fn handler;	      /* /v1/...; NULL: 404 */
	http_auth_fn auth;		      /* tokens; NULL: metrics_auth refused */
	void *ctx;			      /* of handler and auth */
};

struct http;

/*
 * What only the listener can check in a valid configuration: metrics_auth
 * without a token store, a TLS file that cannot be read. 0, or -EINVAL with
 * one line in err. Called by bwctld -n and before http_open().
 */
int http_check(const struct bwe_cfgfile *cfg, bool have_auth, char *err, size_t errlen);
/*
 * Listen on every http.listen address (none: nothing listens until a
 * reload adds some). On error nothing listens and the reason was logged.
 */
int http_open(struct http **out, const struct http_deps *deps);
void http_close(struct http *h); /* NULL-safe */
/*
 * The loop's epoll instance: listener i is registered with data.u32 =
 * tag + i (i < BWE_CFG_HTTP_LISTEN_MAX); call once after http_open().
 */
void http_loop(struct http *h, int epfd, __u32 tag);
/* A listener's descriptor was ready (data as registered). */
void http_on_event(struct http *h, __u32 data);
/*
 * Once a second (timeouts of idle connections), and whenever http_busy():
 * libmicrohttpd's connections are edge-triggered, and a connection with
 * data read but not yet handled (it reads a long header in pieces) gives
 * no new event. The loop then waits 0 ms instead of blocking.
 */
void http_run(struct http *h);
bool http_busy(const struct http *h);
/*
 * After SIGHUP (cfg is the new configuration): listen addresses, TLS files
 * and limits again. When the new set cannot start, the running one stays
 * and -errno is returned (logged).
 */
int http_reload(struct http *h, const struct http_deps *deps);

#endif /* BWCTLD_HTTP_H */
