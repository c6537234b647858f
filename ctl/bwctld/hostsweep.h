/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hostsweep.h - the idle sweep of host records (layer 2: an effect on the
 * maps, through bwe_dp_hosts_forget()). The host sample (hosts.c, which
 * writes nothing) already holds each host's last-seen time merged over
 * CPUs: the sweep notes the idle hosts of the batches as the sample hands
 * them on, and forgets them once the sample is read, so it reads no map
 * again. A host is idle once no packet, in or out, has been counted for it
 * for maps.host_idle (bwe_dp_host_idle()). At most HOSTSWEEP_MAX hosts a
 * sample, so that a table going idle at once (a forged spray, a reload of
 * the internal networks) costs several ticks of a few milliseconds, never
 * one long stall of the event loop; the rest wait for the next sample.
 *
 * Forgetting never changes a verdict: quarantine, throttle and blocks live
 * in the network classes, bwe_throttle and the blocklist, not in the
 * records. The detector frees a forgotten host's state as it frees the
 * state of any host that left the sample (keeping those with a history of
 * actions).
 */
#ifndef BWCTLD_HOSTSWEEP_H
#define BWCTLD_HOSTSWEEP_H

#include <stddef.h>
#include <linux/types.h>

#include "dataplane.h"
#include "hosts.h"

#define HOSTSWEEP_MAX 4096U /* hosts forgotten per sample at most */

struct hostsweep;

int hostsweep_new(struct hostsweep **out, struct bwe_dp *dp);
void hostsweep_free(struct hostsweep *sw); /* NULL-safe */
/*
 * One sample: begin (idle_s: maps.host_idle, 0: off; the clock is read
 * here), note each batch as the sample hands it on, end (forget what was
 * noted, count it, log it). Every call is NULL-safe: no sweep.
 */
void hostsweep_begin(struct hostsweep *sw, __u64 idle_s);
void hostsweep_note(struct hostsweep *sw, const struct host_sample *v, size_t n);
void hostsweep_end(struct hostsweep *sw);

/* Hosts forgotten since start: of host slots, of bwe_hosts. */
struct hostsweep_counts {
	__u64 slots, hashed;
};
void hostsweep_counts(const struct hostsweep *sw, struct hostsweep_counts *out);

#endif /* BWCTLD_HOSTSWEEP_H */
