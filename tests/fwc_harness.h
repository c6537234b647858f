/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fwc_harness.h - the feed worker client (lib/fwclient.h) driven as bwctld
 * drives it, for the cmocka runners that test it: start a real sandboxed
 * worker (build/tools/feedworker), run turns of an epoll loop, keep the
 * results. Include after <cmocka.h>.
 */
#ifndef BWE_FWC_HARNESS_H
#define BWE_FWC_HARNESS_H

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>

#include "bwe_util.h"
#include "fwclient.h"
#include "sandbox.h"
#include "wire.h"

#define WORKER	    "build/tools/feedworker"
#define RESULTS_MAX 16

struct harness {
	struct bwe_fwc *c;
	int ep;
	struct bwe_job_result res[RESULTS_MAX];
	size_t n;
	char worker[PATH_MAX];
};

static inline void on_done(struct bwe_job_result *res, void *job_ctx, void *cb_ctx)
{
	struct harness *h = cb_ctx;

	(void)job_ctx;
	if (h->n < RESULTS_MAX) {
		h->res[h->n++] = *res; /* ownership moves to the harness */
		memset(res, 0, sizeof(*res));
	}
}

/* grace_s: the parent's grace beyond a job's allowance (0: the default). */
static inline void h_start(struct harness *h, char *const *argv, unsigned int grace_s)
{
	struct bwe_fwc_conf conf = {
		.sandbox = { .path = h->worker,
			     .argv = argv,
			     .user = "nobody",
			     .backoff_min_ms = 200,
			     .backoff_max_ms = 2000 },
		.done = on_done,
		.cb_ctx = h,
		.grace_s = grace_s,
	};

	assert_non_null(realpath(WORKER, h->worker));
	h->ep = epoll_create1(EPOLL_CLOEXEC);
	assert_true(h->ep >= 0);
	assert_int_equal(bwe_fwc_new(&conf, &h->c), 0);
}

static inline void h_stop(struct harness *h)
{
	size_t i;

	bwe_fwc_free(h->c);
	close(h->ep);
	for (i = 0; i < h->n; i++)
		bwe_job_result_free(&h->res[i]);
	memset(h, 0, sizeof(*h));
}

/* One turn of an event loop as the daemon would run it. */
static inline void h_turn(struct harness *h, int max_ms)
{
	epoll_data_t data = { .u64 = 1 };
	struct epoll_event ev[4];
	__u64 now = bwe_sandbox_now_ms(), wake = bwe_fwc_next_wakeup(h->c);
	int i, n, t = max_ms;

	assert_int_equal(bwe_fwc_epoll_sync(h->c, h->ep, data), 0);
	if (wake && wake < now + (__u64)t)
		t = wake > now ? (int)(wake - now) : 0;
	n = epoll_wait(h->ep, ev, ARRAY_SIZE(ev), t);
	for (i = 0; i < n; i++) {
		if (ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			bwe_fwc_on_readable(h->c);
		if (ev[i].events & EPOLLOUT)
			bwe_fwc_on_writable(h->c);
	}
	bwe_fwc_tick(h->c);
}

#endif /* BWE_FWC_HARNESS_H */
