/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hosts.h - the per-host accounting sample (layer 2: reads the kernel's
 * host records with batch lookups — the IPv4 host slots of bwe_hslots, then
 * bwe_hosts, bwe_abi.h — merges the per-CPU copies and derives rates from
 * the previous sample). Nothing here writes a map.
 *
 * A sample is not kept: each batch of merged records goes to the caller as
 * it is read (bwctl top, the detector), and only what the next sample's
 * rates need stays, each host's byte counters (a 24-byte record and its
 * index entry, updated in place). One host's full record is read from the
 * map when asked for (hosts_get(): bwctl lookup and report).
 */
#ifndef BWCTLD_HOSTS_H
#define BWCTLD_HOSTS_H

#include <stdbool.h>
#include <stddef.h>

#include "addr.h"
#include "bwe_abi.h"
#include "dataplane.h"

struct host_sample {
	struct bwe_addr addr;
	struct bwe_host_stats st; /* merged over CPUs */
	double tx_bps, rx_bps;	  /* bytes/s since the previous sample */
};

struct hosts;

/* One batch of a sample, as read: n hosts, each once in the whole sample. */
typedef void (*hosts_batch_fn)(void *ctx, const struct host_sample *v, size_t n);

int hosts_new(struct hosts **out, const struct bwe_dp *dp);
void hosts_free(struct hosts *h); /* NULL-safe */
/*
 * Take a new sample, handing each batch to visit (NULL: none) as it is
 * read. On error the hosts read so far count as sampled (and were handed
 * on), the others keep their place until a whole sample misses them.
 */
int hosts_sample(struct hosts *h, hosts_batch_fn visit, void *ctx);
/* Whether the last sample held a. */
bool hosts_has(const struct hosts *h, const struct bwe_addr *a);
/* Whether the data plane tracks a now (a map lookup). */
bool hosts_tracked(const struct hosts *h, const struct bwe_addr *a);
/*
 * a's record as the map holds it now, merged, its rates since the last
 * sample (0 when that did not hold it): 0, -ENOENT (not tracked) or
 * -ENOMEM.
 */
int hosts_get(const struct hosts *h, const struct bwe_addr *a, struct host_sample *out);
/* Hosts in the last sample, and of them those whose record is a host slot. */
size_t hosts_count(const struct hosts *h);
size_t hosts_in_slots(const struct hosts *h);

#endif /* BWCTLD_HOSTS_H */
