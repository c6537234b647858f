/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ringbuf.h - the reader of the data plane's event ring buffer (layer 4):
 * each struct bwe_event becomes one event-log line with the indicator's
 * provenance, a blocklist contact is handed to the observers of ops, and
 * an address a contained host's MAC address was seen with (BWE_EV_MAC_ADDR)
 * is handed to ops_learn(), and a new contact of a sampled pair
 * (BWE_EV_CONTACT) to the observers of ops (ops_contact()), without a line.
 */
#ifndef BWCTLD_RINGBUF_H
#define BWCTLD_RINGBUF_H

#include "dataplane.h"
#include "events.h"
#include "feedstore.h"
#include "ops.h"
#include "store.h"

struct ringbuf_deps {
	const struct bwe_dp *dp;
	struct fstore *store;	   /* provenance, hit counts */
	const struct st_store *st; /* manual blocks */
	struct ops *ops;	   /* observers of hits */
	struct evlog *log;
};

struct ringbuf;

int ringbuf_new(struct ringbuf **out, const struct ringbuf_deps *deps);
void ringbuf_free(struct ringbuf *rb);	  /* NULL-safe */
int ringbuf_fd(const struct ringbuf *rb); /* for epoll */
/* Read what is queued; never blocks. */
void ringbuf_consume(struct ringbuf *rb);
/* The name of a verdict reason or anomaly slot ("pass", "block", ...). */
const char *reason_name(unsigned int slot);
/* The name of a counter direction (enum bwe_stat_dir): "none", "outbound", "inbound". */
const char *stat_dir_name(unsigned int dir);

#endif /* BWCTLD_RINGBUF_H */
