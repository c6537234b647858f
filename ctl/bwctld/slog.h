/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * slog.h - the syslog output for SIEMs (layer 0: knows nothing of the
 * daemon): events formatted by lib/syslogfmt.c into a bounded queue, sent
 * over a non-blocking socket (UDP, TCP with RFC 6587 octet counting, or a
 * unix datagram socket) from the daemon's epoll loop.
 *
 * Never blocks: slog_event() formats, queues and sends what the socket
 * takes at once; the rest goes when the socket is writable again
 * (slog_on_ready). A full queue drops the new message and counts it;
 * the caller reports the count (slog_take_dropped). A TCP connection that
 * fails or is closed by the peer is made again after a back-off of 1 s,
 * doubling to 60 s (slog_tick); the queue waits for it, and a message half
 * sent on the old connection goes again whole.
 */
#ifndef BWCTLD_SLOG_H
#define BWCTLD_SLOG_H

#include <stdbool.h>
#include <linux/types.h>
#include <json-c/json.h>

#include "syslogfmt.h"

#define SLOG_BACKOFF_MIN_MS 1000ULL  /* the first reconnect waits this */
#define SLOG_BACKOFF_MAX_MS 60000ULL /* and doubles up to this */
#define SLOG_FLUSH_BATCH    1024     /* messages sent per call at most: the loop stays free */
#define SLOG_ERR_LEN	    160

struct slog_cfg {
	struct bwe_slog_target target;
	enum bwe_slog_format format;
	unsigned int facility;
	const char *app_name;
	const char *hostname; /* NULL: the host's name */
	__u32 queue;	      /* messages */
	__u32 message_max;    /* bytes */
};

struct slog_stats {
	__u64 sent;	 /* messages the socket took whole */
	__u64 dropped;	 /* messages lost: queue full, or a datagram refused */
	__u64 truncated; /* messages cut at message_max */
	__u64 connects;	 /* connections made (TCP, unix) */
	size_t queued;	 /* messages waiting now */
	bool up;	 /* a socket is ready to take messages */
	char last_error[SLOG_ERR_LEN];
};

struct slog;

/* A new output (strings are copied); it connects at once. -ENOMEM, -EINVAL. */
int slog_new(struct slog **out, const struct slog_cfg *cfg);
void slog_free(struct slog *s); /* NULL-safe */
/* The event as a message, queued and sent as far as the socket takes it. */
void slog_event(struct slog *s, struct json_object *ev);
/*
 * Keep the socket's registration in epfd current (it changes with every
 * connection; EPOLLOUT only while something waits): call after each loop
 * iteration. 0 or -errno.
 */
int slog_sync(struct slog *s, int epfd, __u32 data);
/* The socket had events (as registered by slog_sync). */
void slog_on_ready(struct slog *s, __u32 events);
/* Once a second: a reconnect whose back-off has run out. */
void slog_tick(struct slog *s);
/* Messages dropped since the last call (for an event saying so). */
__u64 slog_take_dropped(struct slog *s);
void slog_stats(const struct slog *s, struct slog_stats *out);
/* The back-off's clock, CLOCK_MONOTONIC in ms; tests set their own (NULL: the real one). */
typedef __u64 slog_clock_fn(void);
void slog_set_clock(struct slog *s, slog_clock_fn *clock);

#endif /* BWCTLD_SLOG_H */
