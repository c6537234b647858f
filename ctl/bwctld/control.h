/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * control.h - the control socket (layer 6): bwctl's requests, from peers
 * checked by their credentials, become typed actors and go to the
 * transaction (changes), the queries, the detector's report, the feeds and
 * the interfaces. One request per connection; a client that stalls is cut
 * off after CTL_RECV_MS.
 */
#ifndef BWCTLD_CONTROL_H
#define BWCTLD_CONTROL_H

#include "detector.h"
#include "ops.h"
#include "query.h"

struct control_deps {
	struct query_deps q;
	struct ops *ops;
	struct detector *detector;
};

struct control;

/* Listen on paths.socket (refused when another daemon listens there). */
int control_open(struct control **out, const struct control_deps *deps);
void control_close(struct control *c); /* NULL-safe; removes the socket */
int control_fd(const struct control *c);
/* Serve one connection (the listening socket was readable). */
void control_accept(struct control *c);

#endif /* BWCTLD_CONTROL_H */
