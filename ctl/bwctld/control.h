/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * control.h - the control socket (layer 6): bwctl's requests, from peers
 * checked by their credentials and given a role (root and control_group:
 * admin; control_readonly_group: read-only), become typed actors and go
 * to the transaction (changes), the queries, the detector's report, the
 * feeds and the interfaces. One request per connection. Clients are
 * non-blocking state machines in the daemon's epoll loop: none can hold
 * the loop, each has control_timeout for its request and reply, and at
 * most control_max_clients are served at once (a few more are told "busy").
 */
#ifndef BWCTLD_CONTROL_H
#define BWCTLD_CONTROL_H

#include "detector.h"
#include "ops.h"
#include "query.h"
#include "tokens.h"

struct control_deps {
	struct query_deps q;
	struct ops *ops;
	struct detector *detector;
	struct tokens *tokens; /* the API's tokens (bwctl token ...) */
	struct evlog *log;     /* audit events of token changes; NULL: none */
};

struct control;

/* Clients over control_max_clients that may still send a request to hear "busy". */
#define CONTROL_OVERFLOW 16
/* Client slots: epoll data tag .. tag + CONTROL_SLOTS - 1 are the control's. */
#define CONTROL_SLOTS	 (BWE_CFG_CLIENTS_MAX + CONTROL_OVERFLOW)

/* Listen on paths.socket (refused when another daemon listens there). */
int control_open(struct control **out, const struct control_deps *deps);
void control_close(struct control *c); /* NULL-safe; removes the socket */
int control_fd(const struct control *c);
/*
 * The loop's epoll instance: client i is registered with data.u32 = tag + i
 * (i < CONTROL_SLOTS); call before the first control_accept().
 */
void control_loop(struct control *c, int epfd, __u32 tag);
/* The listening socket was readable: take the waiting connections. */
void control_accept(struct control *c);
/* A client's socket had events (data as registered). */
void control_on_client(struct control *c, __u32 data, __u32 events);
/* Once a second: close the clients past their deadline (logged). */
void control_tick(struct control *c);
size_t control_clients(const struct control *c); /* being served now */

#endif /* BWCTLD_CONTROL_H */
