// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fwclient.c - the parent's side of the feed worker (fwclient.h): a FIFO of
 * encoded jobs, one in flight, non-blocking I/O, the decoder that judges
 * every byte the child sends, and the restart of a child that died, sent
 * garbage or hung.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "fwclient.h"

#define READ_CHUNK	  (64 * 1024)	/* bytes per read() */
#define READS_PER_CALL	  16		/* reads per on_readable, for fairness */
#define REAP_POLL_MS	  10		/* tick interval while a dead child is reaped */
#define PARSE_BYTES_PER_S (1024 * 1024) /* deadline of a PARSE: grace + len / this */

struct job {
	struct job *next;
	void *ctx;
	bool cancelled;
	struct bwe_job_req exp;	    /* no pointers: what the decoder expects */
	struct bwe_wire_buf frames; /* the encoded request */
};

struct bwe_fwc {
	struct bwe_sandbox *sb;
	struct bwe_wire_dec *dec;
	bwe_fwc_done_fn done;
	void *cb_ctx;
	unsigned int grace_s;
	size_t queue_max;
	struct job *head, *tail;
	size_t queued;
	struct job *cur; /* in flight */
	size_t cur_off;	 /* bytes of cur->frames written */
	__u64 cur_deadline;
	__u32 next_id;
	bool ending;	  /* socket closed, child not reaped yet */
	__u64 retry_at;	  /* after a failed fork/exec setup */
	unsigned int gen; /* children started */
	/* epoll bookkeeping */
	bool ep_reg;
	unsigned int ep_gen;
	__u32 ep_events;
	/* status */
	__u64 ok, failed;
	char last_error[BWE_FWC_ERR_MAX];
	char buf[READ_CHUNK];
};

static void job_free(struct job *j)
{
	if (!j)
		return;
	if (j->exp.auth != BWE_WIRE_AUTH_NONE)
		bwe_wire_buf_wipe(&j->frames);
	else
		bwe_wire_buf_free(&j->frames);
	free(j);
}

/* Deliver res for job j (already detached) and free both. */
static void complete(struct bwe_fwc *c, struct job *j, struct bwe_job_result *res)
{
	if (res->status)
		c->failed++;
	else
		c->ok++;
	if (!j->cancelled)
		c->done(res, j->ctx, c->cb_ctx);
	bwe_job_result_free(res);
	job_free(j);
}

__attribute__((format(printf, 3, 4))) static void fail_cur(struct bwe_fwc *c, int status,
							   const char *fmt, ...)
{
	struct bwe_job_result res = { 0 };
	struct job *j = c->cur;
	va_list ap;

	if (!j)
		return;
	c->cur = NULL;
	res.job = j->exp.job;
	res.kind = j->exp.kind;
	res.status = status;
	va_start(ap, fmt);
	vsnprintf(res.error, sizeof(res.error), fmt, ap);
	va_end(ap);
	complete(c, j, &res);
}

static int start_child(struct bwe_fwc *c)
{
	int err;

	bwe_wire_dec_free(c->dec);
	c->dec = NULL;
	err = bwe_wire_dec_new(BWE_WIRE_TO_PARENT, &c->dec);
	if (!err)
		err = bwe_sandbox_start(c->sb);
	if (err) {
		snprintf(c->last_error, sizeof(c->last_error), "cannot start the feed worker: %s",
			 strerror(-err));
		c->retry_at = bwe_sandbox_now_ms() + BWE_SANDBOX_BACKOFF_MIN_MS;
		return err;
	}
	c->gen++;
	c->ending = false;
	return 0;
}

static int write_some(struct bwe_fwc *c);

/* The child is gone or must go: why != NULL kills it with that reason. */
static void lose_child(struct bwe_fwc *c, const char *why)
{
	if (why)
		snprintf(c->last_error, sizeof(c->last_error), "%s", why);
	bwe_sandbox_kill(c->sb, why);
	c->ending = true;
}

/* Reap an ended child; fail its job with the reason. */
static void try_reap(struct bwe_fwc *c)
{
	char why[BWE_SANDBOX_WHY_MAX + 8];
	int r;

	if (!c->ending)
		return;
	r = bwe_sandbox_reap(c->sb, why, sizeof(why));
	if (r <= 0)
		return;
	c->ending = false;
	if (c->cur) {
		snprintf(c->last_error, sizeof(c->last_error), "feed worker died: %s", why);
		fail_cur(c, -ECHILD, "feed worker died: %s", why);
	}
}

static void dispatch(struct bwe_fwc *c)
{
	struct job *j;

	if (c->cur || !c->head || c->ending || bwe_sandbox_fd(c->sb) < 0)
		return;
	j = c->head;
	c->head = j->next;
	if (!c->head)
		c->tail = NULL;
	c->queued--;
	j->next = NULL;
	if (bwe_wire_dec_expect(c->dec, &j->exp)) {
		/* cannot happen: the decoder is idle between jobs */
		struct bwe_job_result res = { .job = j->exp.job,
					      .kind = j->exp.kind,
					      .status = -EPROTO };

		snprintf(res.error, sizeof(res.error), "feed worker decoder not idle");
		complete(c, j, &res);
		return;
	}
	c->cur = j;
	c->cur_off = 0;
	switch (j->exp.kind) {
	case BWE_JOB_FETCH:
		c->cur_deadline = (__u64)(j->exp.timeout_s + c->grace_s) * 1000;
		break;
	case BWE_JOB_PARSE:
		c->cur_deadline = (__u64)(c->grace_s + j->exp.body_len / PARSE_BYTES_PER_S) * 1000;
		break;
	case BWE_JOB_RESOLVE:
		c->cur_deadline = (__u64)(c->grace_s + j->exp.n_names * BWE_FWC_RESOLVE_S) * 1000;
		break;
	}
	c->cur_deadline += bwe_sandbox_now_ms();
	write_some(c);
}

static int write_some(struct bwe_fwc *c)
{
	int fd = bwe_sandbox_fd(c->sb);

	while (c->cur && fd >= 0 && c->cur_off < c->cur->frames.len) {
		ssize_t n = send(fd, c->cur->frames.p + c->cur_off, c->cur->frames.len - c->cur_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;
			lose_child(c, NULL); /* EPIPE, ECONNRESET: it died */
			try_reap(c);
			return 0;
		}
		c->cur_off += (size_t)n;
	}
	if (c->cur && c->cur_off == c->cur->frames.len && c->cur->frames.cap) {
		bwe_wire_buf_free(&c->cur->frames); /* sent; the memory can go */
		c->cur_off = 0;
	}
	return 0;
}

int bwe_fwc_new(const struct bwe_fwc_conf *conf, struct bwe_fwc **out)
{
	struct bwe_sandbox_conf sc;
	struct bwe_fwc *c;
	int err;

	if (!conf || !conf->done)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	sc = conf->sandbox;
	if (!sc.name)
		sc.name = "feed worker";
	err = bwe_sandbox_new(&sc, &c->sb);
	if (err) {
		free(c);
		return err;
	}
	c->done = conf->done;
	c->cb_ctx = conf->cb_ctx;
	c->grace_s = conf->grace_s ? conf->grace_s : BWE_FWC_GRACE_S;
	c->queue_max = conf->queue_max ? conf->queue_max : BWE_FWC_QUEUE_MAX;
	c->next_id = 1;
	err = start_child(c);
	if (err) {
		bwe_fwc_free(c);
		return err;
	}
	*out = c;
	return 0;
}

void bwe_fwc_free(struct bwe_fwc *c)
{
	struct job *j, *n;

	if (!c)
		return;
	bwe_sandbox_free(c->sb);
	bwe_wire_dec_free(c->dec);
	job_free(c->cur);
	for (j = c->head; j; j = n) {
		n = j->next;
		job_free(j);
	}
	free(c);
}

int bwe_fwc_submit(struct bwe_fwc *c, const struct bwe_job_req *req, void *job_ctx, __u32 *job_id)
{
	struct bwe_job_req r;
	struct job *j;
	int err;

	if (!req)
		return -EINVAL;
	if (c->queued >= c->queue_max)
		return -ENOSPC;
	if (req->kind == BWE_JOB_FETCH &&
	    (!req->url || (strncmp(req->url, "http://", 7) && strncmp(req->url, "https://", 8)) ||
	     !req->max_bytes || req->max_bytes > BWE_WIRE_BODY_MAX || !req->timeout_s))
		return -EINVAL;
	if (req->kind == BWE_JOB_PARSE &&
	    (req->body_len > BWE_WIRE_BODY_MAX || (!req->body && req->body_len)))
		return -EINVAL;
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	r = *req;
	r.job = c->next_id++;
	if (!c->next_id)
		c->next_id = 1; /* 0 is never a job id */
	if (r.kind == BWE_JOB_PARSE && !r.body)
		r.body = "";
	err = bwe_wire_put_request(&j->frames, &r);
	if (err) {
		bwe_wire_buf_wipe(&j->frames);
		free(j);
		return err == -ENAMETOOLONG ? -EINVAL : err;
	}
	j->ctx = job_ctx;
	j->exp = (struct bwe_job_req){
		.kind = r.kind,
		.job = r.job,
		.max_bytes = r.max_bytes,
		.timeout_s = r.timeout_s,
		.body_len = r.body_len,
		.n_names = r.n_names,
		.parse = r.parse, /* the format: crowdsec-lapi answers with decisions */
		.auth = r.auth,	  /* the frames hold a secret: wiped when freed */
	};
	if (c->tail)
		c->tail->next = j;
	else
		c->head = j;
	c->tail = j;
	c->queued++;
	if (job_id)
		*job_id = r.job;
	dispatch(c);
	return 0;
}

int bwe_fwc_cancel(struct bwe_fwc *c, __u32 job_id)
{
	struct job **pp, *j;

	if (c->cur && c->cur->exp.job == job_id && !c->cur->cancelled) {
		c->cur->cancelled = true;
		return 0;
	}
	for (pp = &c->head; (j = *pp); pp = &j->next) {
		if (j->exp.job != job_id)
			continue;
		*pp = j->next;
		if (c->tail == j) {
			struct job *t = c->head;

			while (t && t->next)
				t = t->next;
			c->tail = t;
		}
		c->queued--;
		job_free(j);
		return 0;
	}
	return -ENOENT;
}

int bwe_fwc_fd(const struct bwe_fwc *c)
{
	return bwe_sandbox_fd(c->sb);
}

__u32 bwe_fwc_events(const struct bwe_fwc *c)
{
	if (bwe_sandbox_fd(c->sb) < 0)
		return 0;
	return EPOLLIN | (c->cur && c->cur_off < c->cur->frames.len ? EPOLLOUT : 0);
}

int bwe_fwc_on_writable(struct bwe_fwc *c)
{
	return write_some(c);
}

/* Feed n bytes to the decoder; deliver completed jobs. */
static void consume(struct bwe_fwc *c, const char *p, size_t n)
{
	while (n) {
		size_t used;
		int r = bwe_wire_dec_feed(c->dec, p, n, &used);

		p += used;
		n -= used;
		if (r < 0) {
			char why[BWE_FWC_ERR_MAX];

			snprintf(why, sizeof(why), "feed worker sent garbage: %s",
				 bwe_wire_dec_error(c->dec));
			lose_child(c, why);
			fail_cur(c, -EPROTO, "%s", why);
			return;
		}
		if (r == 1) {
			struct bwe_job_result res;
			struct job *j = c->cur;

			if (!j || bwe_wire_dec_take_result(c->dec, &res))
				return; /* cannot happen: the decoder expected j */
			c->cur = NULL;
			complete(c, j, &res);
			dispatch(c);
		}
	}
}

int bwe_fwc_on_readable(struct bwe_fwc *c)
{
	int i;

	for (i = 0; i < READS_PER_CALL && !c->ending; i++) {
		int fd = bwe_sandbox_fd(c->sb);
		ssize_t n;

		if (fd < 0)
			break;
		n = recv(fd, c->buf, sizeof(c->buf), MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			/* EOF or reset: the child ended (reap tells how) */
			lose_child(c, NULL);
			try_reap(c);
			break;
		}
		consume(c, c->buf, (size_t)n);
	}
	return 0;
}

int bwe_fwc_tick(struct bwe_fwc *c)
{
	__u64 now = bwe_sandbox_now_ms();
	int err = 0;

	if (c->cur && !c->ending && bwe_sandbox_running(c->sb) && now >= c->cur_deadline) {
		char why[BWE_FWC_ERR_MAX];

		snprintf(why, sizeof(why), "feed worker did not answer job %u in time; killed",
			 c->cur->exp.job);
		lose_child(c, why);
		fail_cur(c, -ETIMEDOUT, "%s", why);
	}
	if (!c->ending && bwe_sandbox_running(c->sb) && bwe_sandbox_fd(c->sb) < 0)
		c->ending = true; /* killed elsewhere */
	try_reap(c);
	if (!bwe_sandbox_running(c->sb) && now >= bwe_sandbox_restart_at(c->sb) &&
	    now >= c->retry_at)
		err = start_child(c);
	dispatch(c);
	return err;
}

__u64 bwe_fwc_next_wakeup(const struct bwe_fwc *c)
{
	__u64 t;

	if (c->ending)
		return bwe_sandbox_now_ms() + REAP_POLL_MS;
	if (!bwe_sandbox_running(c->sb)) {
		t = bwe_sandbox_restart_at(c->sb);
		return t > c->retry_at ? t : c->retry_at ? c->retry_at : 1;
	}
	return c->cur ? c->cur_deadline : 0;
}

int bwe_fwc_epoll_sync(struct bwe_fwc *c, int epfd, epoll_data_t data)
{
	struct epoll_event ev = { .data = data };
	int fd = bwe_sandbox_fd(c->sb);

	/* closing the old socket removed it from every epoll set */
	if (c->ep_reg && (fd < 0 || c->ep_gen != c->gen))
		c->ep_reg = false;
	if (fd < 0)
		return 0;
	ev.events = bwe_fwc_events(c);
	if (!c->ep_reg) {
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) &&
		    (errno != EEXIST || epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev)))
			return -errno;
		c->ep_reg = true;
		c->ep_gen = c->gen;
	} else if (ev.events != c->ep_events) {
		if (epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev))
			return -errno;
	}
	c->ep_events = ev.events;
	return 0;
}

void bwe_fwc_status(const struct bwe_fwc *c, struct bwe_fwc_status *st)
{
	memset(st, 0, sizeof(*st));
	st->pid = bwe_sandbox_fd(c->sb) >= 0 ? bwe_sandbox_pid(c->sb) : 0;
	st->restarts = bwe_sandbox_restarts(c->sb);
	st->restart_at_ms = st->pid ? 0 : bwe_sandbox_restart_at(c->sb);
	st->queued = c->queued;
	st->busy = c->cur != NULL;
	st->jobs_ok = c->ok;
	st->jobs_failed = c->failed;
	snprintf(st->last_error, sizeof(st->last_error), "%s", c->last_error);
}
