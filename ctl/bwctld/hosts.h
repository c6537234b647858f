/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hosts.h - the per-host accounting sample (layer 2: reads the kernel's
 * bwe_hosts map with batch lookups, merges the per-CPU copies and derives
 * rates from the previous sample). bwctl top, lookup, report and the
 * detector read the sample; nothing here writes a map.
 */
#ifndef BWCTLD_HOSTS_H
#define BWCTLD_HOSTS_H

#include <stddef.h>

#include "addr.h"
#include "bwe_abi.h"
#include "dataplane.h"

struct host_sample {
	struct bwe_addr addr;
	struct bwe_host_stats st; /* merged over CPUs */
	double tx_bps, rx_bps;	  /* bytes/s over the last sample interval */
};

struct hosts;

int hosts_new(struct hosts **out, const struct bwe_dp *dp);
void hosts_free(struct hosts *h); /* NULL-safe */
/* Take a new sample; on error the previous one stays. */
int hosts_sample(struct hosts *h);
const struct host_sample *hosts_get(const struct hosts *h, const struct bwe_addr *a);
size_t hosts_count(const struct hosts *h);
const struct host_sample *hosts_at(const struct hosts *h, size_t i);

#endif /* BWCTLD_HOSTS_H */
