/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * api.h - the HTTP API under /v1/ for SOAR playbooks and automation
 * (layer 6: a source of change beside the control socket). The listener
 * (http.c) knows nothing of the routes; it hands each request to
 * api_handle() through httpmsg.h, and main.c joins the two.
 *
 * Every request carries "Authorization: Bearer TOKEN" (tokens.h); the
 * token's name is the actor (ACTOR_API) of every change, which goes through
 * the one transaction (ops.h) with the same guards as bwctl. JSON in and
 * out; errors are application/problem+json (RFC 9457). The routes are one
 * table in api.c (api_route()), described in docs/api/openapi.yaml, which a
 * test compares with the table both ways.
 *
 * Not thread-safe: call api_handle() and api_authorize() from the thread
 * that runs the daemon's loop (they read and change the same state as the
 * control socket). They never block: host names are not resolved (the
 * daemon does no DNS in its loop); MAC addresses are looked up in the
 * kernel's neighbour table (a netlink dump, no network).
 */
#ifndef BWCTLD_API_H
#define BWCTLD_API_H

#include <stddef.h>

#include "detector.h"
#include "httpmsg.h"
#include "ops.h"
#include "query.h"
#include "tokens.h"

#define API_BODY_MAX (16 * 1024) /* bytes of a request body; more: 413 */

struct api_deps {
	struct query_deps q;
	struct ops *ops;
	struct detector *detector;
	struct tokens *tokens;
};

struct api;

int api_new(struct api **out, const struct api_deps *deps);
void api_free(struct api *a); /* NULL-safe */

/* http_handler_fn: answer one request under /v1/ (ctx: struct api *). */
void api_handle(void *ctx, const struct http_request *rq, struct http_response *rs);
/* http_auth_fn: 0, 401 (no or unknown token) or 403 (token without scope). */
int api_authorize(void *ctx, const char *bearer, const char *scope);

/* The route table: i < api_route_count(); pattern as in the OpenAPI file. */
size_t api_route_count(void);
void api_route(size_t i, const char **method, const char **pattern, const char **scope);

#endif /* BWCTLD_API_H */
