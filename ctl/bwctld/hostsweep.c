// SPDX-License-Identifier: GPL-2.0-only
/* hostsweep.c - forget idle host records; contract in hostsweep.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hostsweep.h"
#include "log.h"
#include "units.h"

#define NSEC_PER_S  1000000000ULL
#define SWEEP_LOG_S 600 /* seconds between info lines (a debug line each sample) */

struct hostsweep {
	struct bwe_dp *dp;
	struct bwe_addr *idle; /* HOSTSWEEP_MAX: the idle hosts of this sample */
	size_t n;
	bool more;		     /* idle hosts beyond HOSTSWEEP_MAX this sample */
	__u64 idle_ns;		     /* this sample's timeout; 0: off */
	__u64 now_ns;		     /* CLOCK_MONOTONIC at its start */
	__u64 idle_s;		     /* the timeout as configured, for the log */
	struct bwe_dp_forgotten all; /* since start */
	/* what the next info line sums up, since the last one */
	struct bwe_dp_forgotten logged;
	size_t errors;
	int last_err;
	time_t log_at; /* monotonic second of the last info line; 0: none yet */
};

int hostsweep_new(struct hostsweep **out, struct bwe_dp *dp)
{
	struct hostsweep *sw = calloc(1, sizeof(*sw));

	if (!sw)
		return -ENOMEM;
	sw->idle = calloc(HOSTSWEEP_MAX, sizeof(*sw->idle));
	if (!sw->idle) {
		free(sw);
		return -ENOMEM;
	}
	sw->dp = dp;
	*out = sw;
	return 0;
}

void hostsweep_free(struct hostsweep *sw)
{
	if (!sw)
		return;
	free(sw->idle);
	free(sw);
}

void hostsweep_begin(struct hostsweep *sw, __u64 idle_s)
{
	struct timespec now;

	if (!sw)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	sw->now_ns = (__u64)now.tv_sec * NSEC_PER_S + (__u64)now.tv_nsec;
	sw->idle_s = idle_s;
	sw->idle_ns = idle_s * NSEC_PER_S;
	sw->n = 0;
	sw->more = false;
}

void hostsweep_note(struct hostsweep *sw, const struct host_sample *v, size_t n)
{
	size_t i;

	if (!sw || !sw->idle_ns)
		return;
	for (i = 0; i < n; i++) {
		if (!bwe_dp_host_idle(&v[i].st, sw->now_ns, sw->idle_ns))
			continue;
		if (sw->n == HOSTSWEEP_MAX) {
			sw->more = true;
			return;
		}
		sw->idle[sw->n++] = v[i].addr;
	}
}

/* At most one info line per SWEEP_LOG_S: what was forgotten since the last one. */
static void sweep_log(struct hostsweep *sw, const struct bwe_dp_forgotten *now_f)
{
	char idle[BWE_DURATION_STRLEN];
	struct timespec mono;

	log_debug("host records: forgot %zu idle host(s) (%zu host slots, %zu bwe_hosts)%s",
		  now_f->slots + now_f->hashed, now_f->slots, now_f->hashed,
		  sw->more ? ", more at the next sample" : "");
	clock_gettime(CLOCK_MONOTONIC, &mono);
	if (sw->log_at && mono.tv_sec - sw->log_at < SWEEP_LOG_S)
		return;
	if (!sw->logged.slots && !sw->logged.hashed && !sw->errors)
		return;
	bwe_duration_fmt(sw->idle_s, idle, sizeof(idle));
	if (sw->logged.slots || sw->logged.hashed)
		log_info("host records: forgot %zu host(s) idle for %s (%zu host slots, %zu "
			 "bwe_hosts entries) since %s",
			 sw->logged.slots + sw->logged.hashed, idle, sw->logged.slots,
			 sw->logged.hashed, sw->log_at ? "the last report" : "start");
	if (sw->errors)
		log_warnx("host records: %zu sweep(s) of idle hosts failed, the last: %s",
			  sw->errors, strerror(-sw->last_err));
	memset(&sw->logged, 0, sizeof(sw->logged));
	sw->errors = 0;
	sw->log_at = mono.tv_sec ? mono.tv_sec : 1;
}

void hostsweep_end(struct hostsweep *sw)
{
	struct bwe_dp_forgotten f = { 0 };
	int err;

	if (!sw || !sw->n)
		return;
	err = bwe_dp_hosts_forget(sw->dp, sw->idle, sw->n, &f);
	if (err) {
		sw->errors++;
		sw->last_err = err;
	}
	sw->all.slots += f.slots;
	sw->all.hashed += f.hashed;
	sw->logged.slots += f.slots;
	sw->logged.hashed += f.hashed;
	sweep_log(sw, &f);
	sw->n = 0;
}

void hostsweep_counts(const struct hostsweep *sw, struct hostsweep_counts *out)
{
	out->slots = sw ? sw->all.slots : 0;
	out->hashed = sw ? sw->all.hashed : 0;
}
