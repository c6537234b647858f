/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fwclient.h - the parent's side of the feed worker: bwctld hands it FETCH,
 * PARSE and RESOLVE jobs and gets typed, validated results back. The
 * worker is a child process (sandbox.h, feedwork.h) that holds no
 * privilege; only the parent touches BPF maps, state and the event log.
 * Included by the daemon's feed subsystem and the tests.
 *
 * Contract:
 *  - Made for one single-threaded epoll loop; not thread-safe. Nothing
 *    here blocks or sleeps except bwe_fwc_free() (SIGKILL and reap).
 *  - A request that carries a secret (wire.h) is wiped from memory when
 *    its job ends; the caller wipes its own copy after submit.
 *  - bwe_fwc_submit() copies the request (encodes it at once) and queues
 *    it; jobs go to the child one at a time, in submission order. Each
 *    submitted job completes exactly once through conf.done - with the
 *    child's validated result, or with an error result - unless it was
 *    cancelled first (bwe_fwc_cancel) or the client is freed (then no
 *    callback runs).
 *  - Error results: status -ECHILD "feed worker died: killed by signal 31
 *    (seccomp violation)", -EPROTO "feed worker sent garbage: frame 12:
 *    indicator 3: prefix length 200 > 128", -ETIMEDOUT "feed worker did
 *    not answer within N s" (the child is killed), or the child's own
 *    status and text ("HTTP status 404", "cannot parse: ..."). After a
 *    death, garbage or time-out the child is restarted once its back-off
 *    allows (sandbox.h: 1 s doubling to 60 s by default); jobs still
 *    queued go to the new child. The caller keeps its last good entries
 *    in force: nothing here touches them.
 *  - A result passed to conf.done is valid during the call. To keep it,
 *    copy the struct and zero *res: ownership of its arrays moves to the
 *    caller, who then frees it with bwe_job_result_free().
 *  - conf.done may call submit and cancel.
 *  - Event loop: watch bwe_fwc_fd() for bwe_fwc_events() (EPOLLIN, plus
 *    EPOLLOUT while a request is only partly written); call
 *    bwe_fwc_on_readable / bwe_fwc_on_writable when it fires, and
 *    bwe_fwc_tick() no later than bwe_fwc_next_wakeup(). The fd changes
 *    when the child is restarted, and a new fd may reuse the old number:
 *    bwe_fwc_epoll_sync() does the epoll_ctl bookkeeping; call it after
 *    every bwe_fwc_* call of an iteration (it is cheap).
 *  - All functions return 0 or -errno unless stated otherwise.
 */
#ifndef BWE_FWCLIENT_H
#define BWE_FWCLIENT_H

#include <stdbool.h>
#include <sys/epoll.h>
#include <sys/types.h>
#include <linux/types.h>

#include "sandbox.h"
#include "wire.h"

#define BWE_FWC_QUEUE_MAX 1024 /* jobs waiting, default */
#define BWE_FWC_GRACE_S \
	60		     /* seconds a job may take beyond its own
					 * timeout before the child is killed */
#define BWE_FWC_RESOLVE_S 10 /* seconds allowed per name resolved */
#define BWE_FWC_ERR_MAX	  (BWE_WIRE_ERR_MAX + 64)

/*
 * A job's end. res->job is the id submit returned; res->status 0 or
 * -errno, res->error the text. job_ctx is what submit was given.
 */
typedef void (*bwe_fwc_done_fn)(struct bwe_job_result *res, void *job_ctx, void *cb_ctx);

struct bwe_fwc_conf {
	/*
	 * The child: path and argv of a program that calls
	 * bwe_feedwork_main(BWE_SANDBOX_FD, ...) - for the daemon
	 * "/proc/self/exe" with argv { "bwctld", "--feed-worker", NULL }.
	 * name defaults to "feed worker".
	 */
	struct bwe_sandbox_conf sandbox;
	bwe_fwc_done_fn done; /* required */
	void *cb_ctx;
	unsigned int grace_s; /* 0: BWE_FWC_GRACE_S */
	size_t queue_max;     /* 0: BWE_FWC_QUEUE_MAX */
};

struct bwe_fwc_status {
	pid_t pid;			  /* 0: no child right now */
	unsigned int restarts;		  /* children started after the first */
	__u64 restart_at_ms;		  /* monotonic; when pid == 0 */
	size_t queued;			  /* jobs not yet sent */
	bool busy;			  /* a job is in flight */
	__u64 jobs_ok, jobs_failed;	  /* completed, status 0 / not 0 */
	char last_error[BWE_FWC_ERR_MAX]; /* last death, garbage or
						 * time-out; "" none */
};

struct bwe_fwc;

/* Start the client and its first child. -ENOENT: the user does not exist. */
int bwe_fwc_new(const struct bwe_fwc_conf *conf, struct bwe_fwc **out);
/* Kill and reap the child, drop every job without callbacks. NULL-safe. */
void bwe_fwc_free(struct bwe_fwc *c);

/*
 * Queue a job (req->job is ignored: the id is assigned and returned in
 * *job_id when job_id is not NULL). -EINVAL: a request that cannot be
 * encoded (url not http(s), names too long, ...); -ENOSPC: queue full.
 */
int bwe_fwc_submit(struct bwe_fwc *c, const struct bwe_job_req *req, void *job_ctx, __u32 *job_id);
/*
 * Forget a job: queued, it is dropped; in flight, its result is read and
 * thrown away. No callback runs for it. -ENOENT: unknown or finished.
 */
int bwe_fwc_cancel(struct bwe_fwc *c, __u32 job_id);

/* The socket to watch, -1 while no child runs. */
int bwe_fwc_fd(const struct bwe_fwc *c);
/* EPOLLIN, | EPOLLOUT while output is queued; 0 while no child runs. */
__u32 bwe_fwc_events(const struct bwe_fwc *c);
int bwe_fwc_on_readable(struct bwe_fwc *c);
int bwe_fwc_on_writable(struct bwe_fwc *c);
/*
 * Reap an ended child, fail its job, restart when the back-off allows,
 * kill a child whose job ran past its deadline, send the next job.
 */
int bwe_fwc_tick(struct bwe_fwc *c);
/* Monotonic ms (bwe_sandbox_now_ms) by which tick must run; 0: no need. */
__u64 bwe_fwc_next_wakeup(const struct bwe_fwc *c);
/*
 * Register, modify or (after a restart) re-register the socket in epfd
 * with data; a no-op when nothing changed.
 */
int bwe_fwc_epoll_sync(struct bwe_fwc *c, int epfd, epoll_data_t data);

void bwe_fwc_status(const struct bwe_fwc *c, struct bwe_fwc_status *st);

#endif /* BWE_FWCLIENT_H */
