// SPDX-License-Identifier: GPL-2.0-only
/* slog.c - the syslog output for SIEMs; contract in slog.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "bwe_version.h"
#include "log.h"
#include "slog.h"

#define SLOG_LEN_PREFIX 16  /* "65000 " and room: RFC 6587 octet counting */
#define SLOG_SINK	512 /* bytes read and dropped at once from a TCP receiver */

enum slog_state { SL_DOWN = 0, SL_CONNECTING, SL_UP };

struct slog_msg {
	char *p; /* the frame: for TCP with its length prefix */
	size_t len;
};

struct slog {
	struct slog_cfg cfg;
	char *app_name, *hostname;
	struct bwe_slog_opts fmt;
	char *scratch; /* one formatted message */
	struct slog_msg *q;
	size_t head, n, off; /* off: bytes of the head already sent (TCP) */
	enum slog_state state;
	int fd;
	__u64 retry_at_ms, backoff_ms;
	slog_clock_fn *clock;
	/* epoll: what is registered */
	int reg_fd, reg_epfd;
	__u32 reg_events;
	struct slog_stats st;
	__u64 dropped_reported;
};

static __u64 mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000 + (__u64)ts.tv_nsec / 1000000;
}

static void set_error(struct slog *s, const char *what, int err)
{
	snprintf(s->st.last_error, sizeof(s->st.last_error), "%s: %s", what, strerror(err));
}

/* Close the socket and try again after the back-off. */
static void down(struct slog *s, const char *what, int err)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->reg_fd = -1; /* closing it took it out of the epoll set */
	if (s->state == SL_UP || what)
		log_warnx("syslog output: %s: %s; trying again in %llu s", what ? what : "closed",
			  strerror(err), (unsigned long long)s->backoff_ms / 1000);
	if (what)
		set_error(s, what, err);
	s->state = SL_DOWN;
	s->off = 0; /* a half-sent frame goes again whole */
	s->retry_at_ms = s->clock() + s->backoff_ms;
	s->backoff_ms = s->backoff_ms * 2 > SLOG_BACKOFF_MAX_MS ? SLOG_BACKOFF_MAX_MS
								: s->backoff_ms * 2;
}

static void connect_now(struct slog *s)
{
	const struct bwe_slog_target *t = &s->cfg.target;
	int type = t->transport == BWE_SLOG_TCP ? SOCK_STREAM : SOCK_DGRAM;
	int fd = socket(t->sa.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		down(s, "socket", errno);
		return;
	}
	s->fd = fd;
	if (!connect(fd, (const struct sockaddr *)&t->sa, t->len)) {
		s->state = SL_UP;
		s->st.connects++;
		s->backoff_ms = SLOG_BACKOFF_MIN_MS;
		return;
	}
	if (errno == EINPROGRESS) {
		s->state = SL_CONNECTING;
		return;
	}
	down(s, "connect", errno);
}

int slog_new(struct slog **out, const struct slog_cfg *cfg)
{
	struct slog *s;
	char host[BWE_SLOG_HOSTNAME_MAX + 1] = "";

	if (!cfg->queue || cfg->message_max < BWE_SLOG_MSG_MIN)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->cfg = *cfg;
	s->cfg.app_name = s->cfg.hostname = NULL; /* the configuration's; ours are copies */
	if (!cfg->hostname && gethostname(host, sizeof(host) - 1))
		host[0] = '\0';
	s->hostname = strdup(cfg->hostname ? cfg->hostname : host);
	s->app_name = strdup(cfg->app_name ? cfg->app_name : "bwenforce");
	s->scratch = malloc((size_t)cfg->message_max + 1);
	s->q = calloc(cfg->queue, sizeof(*s->q));
	if (!s->hostname || !s->app_name || !s->scratch || !s->q) {
		slog_free(s);
		return -ENOMEM;
	}
	s->fmt = (struct bwe_slog_opts){ .format = cfg->format,
					 .facility = cfg->facility,
					 .hostname = s->hostname,
					 .app_name = s->app_name,
					 .version = BWE_VERSION,
					 .pid = (int)getpid(),
					 .max = cfg->message_max };
	s->fd = s->reg_fd = s->reg_epfd = -1;
	s->clock = mono_ms;
	s->backoff_ms = SLOG_BACKOFF_MIN_MS;
	connect_now(s);
	*out = s;
	return 0;
}

void slog_free(struct slog *s)
{
	size_t i;

	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	for (i = 0; s->q && i < s->n; i++)
		free(s->q[(s->head + i) % s->cfg.queue].p);
	free(s->q);
	free(s->scratch);
	free(s->hostname);
	free(s->app_name);
	free(s);
}

void slog_set_clock(struct slog *s, slog_clock_fn *clock)
{
	s->clock = clock ? clock : mono_ms;
}

static void pop(struct slog *s)
{
	free(s->q[s->head].p);
	s->q[s->head].p = NULL;
	s->head = (s->head + 1) % s->cfg.queue;
	s->n--;
	s->off = 0;
}

/* Send what the socket takes, at most SLOG_FLUSH_BATCH messages. */
static void flush(struct slog *s)
{
	bool stream = s->cfg.target.transport == BWE_SLOG_TCP;
	size_t batch = 0;

	while (s->state == SL_UP && s->n && batch < SLOG_FLUSH_BATCH) {
		struct slog_msg *m = &s->q[s->head];
		ssize_t w =
			send(s->fd, m->p + s->off, m->len - s->off, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == ENOBUFS))
			return; /* EPOLLOUT brings us back */
		if (w < 0 && !stream && errno == ECONNREFUSED &&
		    s->cfg.target.transport == BWE_SLOG_UDP) {
			/* an ICMP error of an earlier datagram: this one was not sent; once more */
			w = send(s->fd, m->p, m->len, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (w < 0) {
				set_error(s, "send", errno);
				s->st.dropped++;
				pop(s);
				batch++;
				continue;
			}
		}
		if (w < 0) {
			down(s, "send", errno);
			return;
		}
		s->off += (size_t)w;
		if (s->off == m->len) {
			s->st.sent++;
			pop(s);
			batch++;
		}
	}
}

void slog_event(struct slog *s, struct json_object *ev)
{
	bool stream = s->cfg.target.transport == BWE_SLOG_TCP, cut = false;
	struct slog_msg *m;
	size_t len;
	int pre = 0;

	if (!s || !ev)
		return;
	s->fmt.seq = s->fmt.seq >= BWE_SLOG_SEQ_MAX ? 1 : s->fmt.seq + 1;
	if (s->n == s->cfg.queue) {
		s->st.dropped++;
		return;
	}
	len = bwe_slog_format(&s->fmt, ev, s->scratch, (size_t)s->cfg.message_max + 1, &cut);
	s->st.truncated += cut;
	m = &s->q[(s->head + s->n) % s->cfg.queue];
	m->p = malloc(len + SLOG_LEN_PREFIX);
	if (!m->p) {
		s->st.dropped++;
		return;
	}
	if (stream)
		pre = snprintf(m->p, SLOG_LEN_PREFIX, "%zu ", len);
	memcpy(m->p + pre, s->scratch, len);
	m->len = (size_t)pre + len;
	s->n++;
	flush(s);
}

void slog_on_ready(struct slog *s, __u32 events)
{
	char sink[SLOG_SINK];
	int err = 0;
	socklen_t elen = sizeof(err);

	if (!s || s->fd < 0)
		return;
	if (s->state == SL_CONNECTING) {
		if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &elen) || err) {
			down(s, "connect", err ? err : errno);
			return;
		}
		s->state = SL_UP;
		s->st.connects++;
		s->backoff_ms = SLOG_BACKOFF_MIN_MS;
		log_info("syslog output: connected");
	}
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
		/* a receiver says nothing; data is dropped, the end of the stream noticed */
		ssize_t r = recv(s->fd, sink, sizeof(sink), MSG_DONTWAIT);

		int e = r < 0 ? errno : 0;
		bool hard = r < 0 && e != EAGAIN && e != EINTR;

		if (s->cfg.target.transport == BWE_SLOG_UDP && hard) {
			set_error(s, "receiver", e); /* ICMP: fire and forget goes on */
		} else if ((s->cfg.target.transport == BWE_SLOG_TCP && r == 0) || hard) {
			down(s, "receiver", r == 0 ? ECONNRESET : e);
			return;
		}
	}
	flush(s);
}

void slog_tick(struct slog *s)
{
	if (s && s->state == SL_DOWN && s->clock() >= s->retry_at_ms) {
		connect_now(s);
		flush(s);
	}
}

int slog_sync(struct slog *s, int epfd, __u32 data)
{
	struct epoll_event ev = { .data.u32 = data };
	__u32 want;

	if (!s)
		return 0;
	if (s->fd < 0) {
		s->reg_fd = -1;
		return 0;
	}
	want = EPOLLIN | EPOLLRDHUP;
	if (s->state == SL_CONNECTING || (s->state == SL_UP && s->n))
		want |= EPOLLOUT;
	if (s->reg_fd == s->fd && s->reg_epfd == epfd && s->reg_events == want)
		return 0;
	ev.events = want;
	if (s->reg_fd == s->fd && s->reg_epfd == epfd) {
		if (epoll_ctl(epfd, EPOLL_CTL_MOD, s->fd, &ev))
			return -errno;
	} else if (epoll_ctl(epfd, EPOLL_CTL_ADD, s->fd, &ev)) {
		return -errno;
	}
	s->reg_fd = s->fd;
	s->reg_epfd = epfd;
	s->reg_events = want;
	return 0;
}

__u64 slog_take_dropped(struct slog *s)
{
	__u64 d;

	if (!s)
		return 0;
	d = s->st.dropped - s->dropped_reported;
	s->dropped_reported = s->st.dropped;
	return d;
}

void slog_stats(const struct slog *s, struct slog_stats *out)
{
	*out = s->st;
	out->queued = s->n;
	out->up = s->state == SL_UP;
}
