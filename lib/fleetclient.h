/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fleetclient.h - the parent's side of the fleet worker: bwctld's handle on
 * etcd v3. The worker is a sandboxed child process (sandbox.h,
 * fleetwork.h) that speaks etcd's HTTP/JSON gateway (/v3/kv/put,
 * /v3/kv/range, /v3/kv/deleterange, /v3/watch, /v3/lease/grant,
 * /v3/lease/keepalive, /v3/auth/authenticate) with libcurl; the parent
 * alone touches state, maps and the event log. Docs: docs/fleet.md.
 *
 * Contract:
 *  - Made for one single-threaded epoll loop; not thread-safe. Nothing here
 *    blocks or sleeps except bwe_flc_free() (SIGKILL and reap).
 *  - Keys on this interface are relative to the configured prefix
 *    ("entries/quarantine/198.18.0.10_32"); the worker adds and strips the
 *    prefix and never reads or writes outside it. A key is 1..
 *    BWE_FLC_KEY_MAX bytes of [A-Za-z0-9._:/-]. Values are opaque bytes,
 *    at most BWE_FLC_VALUE_MAX (the parent validates them as untrusted).
 *  - Requests (put, del) are queued and sent in order; each completes
 *    exactly once through conf.on_event with BWE_FLC_EV_DONE (status 0 and
 *    the revision it landed at, or -errno and a reason) unless the client is
 *    freed first. While etcd is unreachable, requests wait in the worker
 *    (and are retried on every endpoint) until they succeed or
 *    BWE_FLC_REQUEST_GIVEUP_S passes; the parent keeps its own queue for
 *    longer outages (it re-submits).
 *  - Following: after bwe_flc_follow(c, from), the worker streams every
 *    change under the prefix in revision order: from == 0, or a revision
 *    etcd has compacted away (watch canceled with compact_revision), first
 *    a snapshot (SNAP_BEGIN, SNAP_KV per key, SNAP_END, all at one
 *    revision R, read in pages) then the watch from R + 1; else the watch
 *    from `from`. After any reconnection (another endpoint, a restarted
 *    worker) the worker resumes from the revision after the last event it
 *    delivered, so nothing is lost or repeated within one worker; a
 *    restarted worker starts over from the parent's last follow (the
 *    client re-sends it with the last revision delivered).
 *  - A snapshot cut short (its worker died, or etcd compacted its revision
 *    away between two pages) starts over: a SNAP_BEGIN while one is open
 *    means "drop the keys of the open one". Pages read on another
 *    endpoint after a failover continue the same snapshot (same revision).
 *  - REFUSED: a key under the prefix that the worker cannot pass on (not
 *    the key charset or too long, or a value over BWE_FLC_VALUE_MAX), seen
 *    in a snapshot or the watch. ev.key is its bytes escaped (printable
 *    ASCII, \xNN for the others, truncated to BWE_FLC_KEY_MAX), ev.error
 *    says why; it is not in SNAP_END's count. The parent logs an event and
 *    applies nothing.
 *  - Writes are at least once: a request whose answer was lost (a member
 *    died after the write) is retried on the next endpoint, so the same
 *    put can land twice (two revisions, the same value).
 *  - STATE events say whether etcd is reachable (connected), through which
 *    endpoint, the cluster's current revision when known, and the last
 *    error ("all endpoints failed: https://198.19.0.1:2379: site lease:
 *    Couldn't connect to server; ..."). They come on changes only: a
 *    connection (or a move to another endpoint), and disconnected once
 *    every endpoint failed and none has answered for 3 s (a leader
 *    election, about 1 s, is not reported).
 *  - The site lease: the worker grants one lease of conf.site_ttl_s at
 *    connection and keeps it alive (every third of its TTL); a put with
 *    BWE_FLC_LEASE_SITE is attached to it, so the key disappears when the
 *    site stops heartbeating. A restarted worker (or one that changed
 *    endpoint) keeps the same lease while it is alive; when it ran out
 *    (etcd unreachable longer than its TTL) a new one is granted and the
 *    keys put on the old one are gone: re-put them after STATE connected.
 *    A put with a ttl_s > 0 gets a lease of its own (an entry's TTL: its
 *    expiry is one DELETE event everywhere).
 *  - The worker dies, sends garbage or stops answering: STATE says
 *    disconnected with the reason ("fleet worker died: killed by signal 31
 *    (seccomp violation)"), requests in flight complete with -ECHILD, and a
 *    new worker starts after the sandbox back-off (1 s doubling to 60 s).
 *  - Event loop: as fwclient.h: watch bwe_flc_fd() for bwe_flc_events(),
 *    call on_readable / on_writable, bwe_flc_tick() by
 *    bwe_flc_next_wakeup(), and bwe_flc_epoll_sync() after each call.
 *  - All functions return 0 or -errno unless stated otherwise.
 */
#ifndef BWE_FLEETCLIENT_H
#define BWE_FLEETCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/types.h>
#include <linux/types.h>

#include "sandbox.h"

#define BWE_FLC_KEY_MAX		 256
#define BWE_FLC_VALUE_MAX	 8192
#define BWE_FLC_ERR_MAX		 512
#define BWE_FLC_ENDPOINTS_MAX	 8
#define BWE_FLC_QUEUE_MAX	 65536 /* requests waiting, default */
#define BWE_FLC_REQUEST_GIVEUP_S 30    /* a request not done by then fails -ETIMEDOUT */

enum bwe_flc_lease {
	BWE_FLC_LEASE_NONE = 0, /* no lease, unless ttl_s > 0 */
	BWE_FLC_LEASE_SITE,	/* the site's heartbeat lease */
};

enum bwe_flc_ev_type {
	BWE_FLC_EV_STATE = 1,
	BWE_FLC_EV_SNAP_BEGIN, /* revision: the snapshot's */
	BWE_FLC_EV_SNAP_KV,    /* key, value, mod_revision */
	BWE_FLC_EV_SNAP_END,   /* revision, count */
	BWE_FLC_EV_PUT,	       /* key, value, mod_revision (from the watch) */
	BWE_FLC_EV_DEL,	       /* key, mod_revision (deleted, or its lease ran out) */
	BWE_FLC_EV_DONE,       /* id, status, error, revision */
	BWE_FLC_EV_COMPACTED,  /* revision: etcd's compact_revision; a snapshot follows */
	BWE_FLC_EV_REFUSED,    /* key (escaped), error, mod_revision: not passed on */
};

struct bwe_flc_ev {
	enum bwe_flc_ev_type type;
	/* STATE */
	bool connected;
	const char *endpoint; /* "" when none */
	/* STATE: the cluster's revision when known (0 unknown); SNAP_*, COMPACTED */
	__s64 revision;
	const char *key; /* SNAP_KV, PUT, DEL: relative to the prefix */
	const __u8 *value;
	size_t value_len;
	__s64 mod_revision; /* SNAP_KV, PUT, DEL */
	__u64 count;	    /* SNAP_END: keys in the snapshot */
	__u32 id;	    /* DONE */
	int status;	    /* DONE: 0 or -errno */
	const char *error;  /* STATE, DONE: "" when none */
};

/*
 * ev and everything it points at are valid during the call only. The
 * callback may call bwe_flc_put, _del, _follow and _status, not _free.
 */
typedef void (*bwe_flc_event_fn)(const struct bwe_flc_ev *ev, void *ctx);

struct bwe_flc_conf {
	/*
	 * The child: for the daemon "/proc/self/exe" with argv
	 * { "bwctld", "--fleet-worker", NULL }; name "fleet worker".
	 */
	struct bwe_sandbox_conf sandbox;
	const char *endpoints[BWE_FLC_ENDPOINTS_MAX]; /* http(s)://host:port */
	size_t nendpoints;
	const char *prefix; /* "/bwenforce/": ends with '/' */
	const char *site;   /* this site's name (User-Agent, logs) */
	/* TLS, read by the parent (the child cannot open root's files): PEM bytes; NULL none */
	const char *ca_pem, *cert_pem, *key_pem;
	/*
	 * etcd's user authentication; NULL none. The client keeps a copy for
	 * restarted workers (wiped by bwe_flc_free) and wipes every frame that
	 * carried it once sent; the caller wipes its own after bwe_flc_new.
	 * key_pem likewise.
	 */
	const char *user, *password;
	unsigned int request_timeout_ms; /* one HTTP request; 0: 2000 */
	unsigned int site_ttl_s;	 /* the site lease; 0: 15 */
	size_t queue_max;		 /* 0: BWE_FLC_QUEUE_MAX */
	bwe_flc_event_fn on_event;	 /* required */
	void *ctx;
};

struct bwe_flc_status {
	pid_t pid; /* 0: no worker right now */
	unsigned int restarts;
	bool connected;
	char endpoint[256];
	__s64 revision;	      /* the cluster's, last known */
	__s64 last_delivered; /* the last watch or snapshot revision delivered */
	size_t queued;	      /* requests not yet done */
	__u64 requests_ok, requests_failed;
	char last_error[BWE_FLC_ERR_MAX];
};

struct bwe_flc;

/* Start the client and its worker. -EINVAL: a bad endpoint, prefix or key material. */
int bwe_flc_new(const struct bwe_flc_conf *conf, struct bwe_flc **out);
void bwe_flc_free(struct bwe_flc *c); /* NULL-safe */

/*
 * Put value under key; ttl_s > 0 attaches a lease of its own of that
 * many seconds. *id (when not NULL) names the request in its DONE event.
 * -EINVAL bad key or value, or ttl_s > 0 with BWE_FLC_LEASE_SITE; -ENOSPC
 * queue full.
 */
int bwe_flc_put(struct bwe_flc *c, const char *key, const void *value, size_t len, __u64 ttl_s,
		enum bwe_flc_lease lease, __u32 *id);
int bwe_flc_del(struct bwe_flc *c, const char *key, __u32 *id);
/* Follow the prefix from revision from (0: a snapshot first). Replaces any earlier follow. */
int bwe_flc_follow(struct bwe_flc *c, __s64 from);

int bwe_flc_fd(const struct bwe_flc *c);
__u32 bwe_flc_events(const struct bwe_flc *c);
int bwe_flc_on_readable(struct bwe_flc *c);
int bwe_flc_on_writable(struct bwe_flc *c);
int bwe_flc_tick(struct bwe_flc *c);
__u64 bwe_flc_next_wakeup(const struct bwe_flc *c);
int bwe_flc_epoll_sync(struct bwe_flc *c, int epfd, epoll_data_t data);
void bwe_flc_status(const struct bwe_flc *c, struct bwe_flc_status *st);

#endif /* BWE_FLEETCLIENT_H */
