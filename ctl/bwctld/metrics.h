/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * metrics.h - the daemon's figures in the Prometheus text exposition format
 * 0.0.4 (layer 5: reads every module below, changes nothing). Names follow
 * the Prometheus conventions: counters end in _total, base units (_bytes,
 * _seconds), HELP and TYPE for every family, labels of low cardinality
 * only (reason, feed, map, rule: bounded by the ABI and the configuration;
 * never a host). Per-host figures belong to bwctl top/report and the API.
 * The list with meanings is in docs/operations.md, "Metrics".
 */
#ifndef BWCTLD_METRICS_H
#define BWCTLD_METRICS_H

#include <stddef.h>

#include "events.h"
#include "query.h"

/* The exposition's Content-Type. */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct metrics_deps {
	struct query_deps q;	 /* the modules query.c reads */
	const struct evlog *log; /* events suppressed */
};

/* Figures of the layers above this one, handed in by the caller. */
struct metrics_extra {
	size_t control_clients;		  /* bwctl clients being served */
	size_t http_clients;		  /* HTTP connections open */
	unsigned long long http_requests; /* HTTP requests answered since start */
	unsigned long long http_refused;  /* of them answered 4xx/5xx by the listener */
};

/* The whole exposition, malloc()ed, *len bytes (NUL-terminated too); NULL: -ENOMEM. */
char *metrics_render(const struct metrics_deps *d, const struct metrics_extra *x, size_t *len);

#endif /* BWCTLD_METRICS_H */
