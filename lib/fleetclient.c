// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fleetclient.c - the parent's side of the fleet worker (fleetclient.h): a
 * FIFO of requests of which a window is in the worker, non-blocking I/O,
 * the decoder that judges every byte and every message against the state
 * of the follow, pings, and the restart of a worker that died, sent
 * garbage or stopped answering.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <json-c/json.h>

#include "fleetclient.h"
#include "fleetwire.h"

#define READ_CHUNK	(64 * 1024) /* bytes per recv() */
#define READS_PER_CALL	16	    /* recvs per on_readable, for fairness */
#define REAP_POLL_MS	10	    /* tick interval while a dead worker is reaped */
#define WINDOW		256	    /* requests in the worker at once */
#define PING_EVERY_MS	5000	    /* a ping this long after the last answer */
#define PING_TIMEOUT_MS 10000	    /* no pong by then: the worker hangs, killed */
#define DEF_TIMEOUT_MS	2000
#define DEF_SITE_TTL_S	15

struct req {
	struct req *next;
	__u32 id;
	bool del;
	char key[BWE_FLC_KEY_MAX + 1];
	__u8 *value;
	size_t len;
	__u64 ttl_s;
	enum bwe_flc_lease lease;
};

struct bwe_flc {
	struct bwe_sandbox *sb;
	struct bwe_flw_dec dec;
	bwe_flc_event_fn on_event;
	void *ctx;
	/* the worker's configuration, kept for restarts */
	char *endpoints[BWE_FLC_ENDPOINTS_MAX];
	size_t nendpoints;
	char *prefix, *site, *ca, *cert, *key, *user, *password;
	unsigned int timeout_ms, site_ttl_s;
	__s64 site_lease; /* the last worker's, for the next one */
	size_t queue_max;
	/* requests: the first nsent are in the worker, in order */
	struct req *head, *tail;
	size_t queued, nsent;
	__u32 next_id;
	/* output: whole frames; the first secret_len bytes held a secret */
	struct bwe_wire_buf out;
	size_t out_off, secret_len;
	/* following */
	bool following;
	__s64 follow_from;    /* what the caller asked */
	__s64 last_delivered; /* last PUT/DEL mod_revision or SNAP_END revision */
	__s64 floor;	      /* an event's mod_revision may not be below it */
	unsigned int acks;    /* follows sent, not yet acknowledged */
	bool in_snap;
	__s64 snap_rev;
	__u64 snap_count;
	/* liveness */
	__u64 ping_seq, ping_sent_ms, last_heard_ms;
	bool ping_out;
	/* the child */
	bool ending;
	bool killed; /* by us, with a reason: it is the whole message */
	__u64 retry_at;
	unsigned int gen;
	bool ep_reg;
	unsigned int ep_gen;
	__u32 ep_events;
	/* status */
	bool connected;
	char endpoint[256];
	__s64 revision;
	__u64 ok, failed;
	char last_error[BWE_FLC_ERR_MAX];
	char buf[READ_CHUNK];
};

/* Copy a text, truncated to fit (the error buffers are all BWE_FLC_ERR_MAX). */
static void text_copy(char *dst, size_t len, const char *src)
{
	size_t n = strnlen(src, len - 1);

	memmove(dst, src, n);
	dst[n] = '\0';
}

static void str_wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

static void req_free(struct req *r)
{
	if (!r)
		return;
	free(r->value);
	free(r);
}

static void emit_state(struct bwe_flc *c)
{
	struct bwe_flc_ev ev = {
		.type = BWE_FLC_EV_STATE,
		.connected = c->connected,
		.endpoint = c->endpoint,
		.revision = c->revision,
		.error = c->last_error,
	};

	c->on_event(&ev, c->ctx);
}

static void complete(struct bwe_flc *c, struct req *r, int status, const char *error, __s64 rev)
{
	struct bwe_flc_ev ev = {
		.type = BWE_FLC_EV_DONE,
		.id = r->id,
		.status = status,
		.error = error ? error : "",
		.revision = rev,
	};

	if (status)
		c->failed++;
	else
		c->ok++;
	c->on_event(&ev, c->ctx);
	req_free(r);
}

/* ---- output ------------------------------------------------------------------------ */

static void out_reset(struct bwe_flc *c)
{
	bwe_wire_buf_wipe(&c->out);
	c->out_off = 0;
	c->secret_len = 0;
}

static int put_json(struct bwe_flc *c, struct json_object *o)
{
	int err = o ? bwe_flw_put(&c->out, o, BWE_FLW_INIT_MAX) : -ENOMEM;

	json_object_put(o);
	return err;
}

static void jadd_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v ? v : ""));
}

static void jadd_int(struct json_object *o, const char *k, __s64 v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

static int put_init(struct bwe_flc *c)
{
	struct json_object *o = json_object_new_object(), *eps = json_object_new_array();
	size_t i, before = c->out.len;
	int err;

	if (!o || !eps) {
		json_object_put(o);
		json_object_put(eps);
		return -ENOMEM;
	}
	jadd_str(o, "t", "init");
	for (i = 0; i < c->nendpoints; i++)
		json_object_array_add(eps, json_object_new_string(c->endpoints[i]));
	json_object_object_add(o, "endpoints", eps);
	jadd_str(o, "prefix", c->prefix);
	jadd_str(o, "site", c->site);
	jadd_str(o, "ca", c->ca);
	jadd_str(o, "cert", c->cert);
	jadd_str(o, "key", c->key);
	jadd_str(o, "user", c->user);
	jadd_str(o, "password", c->password);
	jadd_int(o, "timeout_ms", c->timeout_ms);
	jadd_int(o, "site_ttl", c->site_ttl_s);
	jadd_int(o, "site_lease", c->site_lease);
	/* json-c keeps copies of the strings and of the text: wipe them before they are freed */
	err = bwe_flw_put(&c->out, o, BWE_FLW_INIT_MAX);
	{
		struct json_object *v;
		size_t tl = 0;
		const char *t = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &tl);

		if (t)
			explicit_bzero((char *)(uintptr_t)t, tl);

		if (json_object_object_get_ex(o, "password", &v) && json_object_get_string_len(v))
			explicit_bzero((char *)(uintptr_t)json_object_get_string(v),
				       (size_t)json_object_get_string_len(v));
		if (json_object_object_get_ex(o, "key", &v) && json_object_get_string_len(v))
			explicit_bzero((char *)(uintptr_t)json_object_get_string(v),
				       (size_t)json_object_get_string_len(v));
	}
	json_object_put(o);
	if (!err)
		c->secret_len = c->out.len > before ? c->out.len : 0;
	return err;
}

static int put_follow(struct bwe_flc *c, __s64 from)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return -ENOMEM;
	jadd_str(o, "t", "follow");
	jadd_int(o, "from", from);
	return put_json(c, o);
}

static int put_ping(struct bwe_flc *c)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return -ENOMEM;
	jadd_str(o, "t", "ping");
	jadd_int(o, "seq", (__s64)c->ping_seq);
	return put_json(c, o);
}

static int put_req(struct bwe_flc *c, const struct req *r)
{
	struct json_object *o = json_object_new_object();
	char *b64;
	int err;

	if (!o)
		return -ENOMEM;
	jadd_str(o, "t", r->del ? "del" : "put");
	jadd_int(o, "id", r->id);
	jadd_str(o, "key", r->key);
	if (!r->del) {
		b64 = malloc(4 * ((r->len + 2) / 3) + 1);
		if (!b64) {
			json_object_put(o);
			return -ENOMEM;
		}
		bwe_flw_b64_encode(r->value, r->len, b64);
		jadd_str(o, "value", b64);
		free(b64);
		jadd_int(o, "ttl", (__s64)r->ttl_s);
		jadd_int(o, "lease", r->lease == BWE_FLC_LEASE_SITE ? 1 : 0);
	}
	err = put_json(c, o);
	return err;
}

static void lose_child(struct bwe_flc *c, const char *why);
static void try_reap(struct bwe_flc *c);

static void write_some(struct bwe_flc *c)
{
	int fd = bwe_sandbox_fd(c->sb);

	while (fd >= 0 && !c->ending && c->out_off < c->out.len) {
		ssize_t n = send(fd, c->out.p + c->out_off, c->out.len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return;
			lose_child(c, NULL); /* EPIPE, ECONNRESET: it died */
			try_reap(c);
			return;
		}
		c->out_off += (size_t)n;
	}
	if (c->out_off && c->out_off == c->out.len) {
		if (c->secret_len) {
			explicit_bzero(c->out.p, c->secret_len);
			c->secret_len = 0;
		}
		c->out.len = 0;
		c->out_off = 0;
	}
}

/* Hand requests to the worker up to the window. */
static void dispatch(struct bwe_flc *c)
{
	struct req *r;
	size_t i;

	if (c->ending || bwe_sandbox_fd(c->sb) < 0)
		return;
	for (r = c->head, i = 0; r && i < c->nsent; i++)
		r = r->next;
	for (; r && c->nsent < WINDOW; r = r->next) {
		if (put_req(c, r))
			break; /* out of memory: the next call tries again */
		c->nsent++;
	}
	write_some(c);
}

/* ---- the child ------------------------------------------------------------------------ */

static int start_child(struct bwe_flc *c)
{
	__u64 now = bwe_sandbox_now_ms();
	int err;

	bwe_flw_dec_free(&c->dec);
	c->dec.max = BWE_FLW_FRAME_MAX;
	out_reset(c);
	c->in_snap = false;
	c->acks = 0;
	c->ping_out = false;
	c->last_heard_ms = now;
	err = bwe_sandbox_start(c->sb);
	if (!err)
		err = put_init(c);
	if (!err && c->following) {
		err = put_follow(c, c->last_delivered ? c->last_delivered + 1 : c->follow_from);
		c->acks = 1;
	}
	if (err) {
		snprintf(c->last_error, sizeof(c->last_error), "cannot start the fleet worker: %s",
			 strerror(-err));
		if (bwe_sandbox_running(c->sb)) {
			lose_child(c, c->last_error);
			return err;
		}
		c->retry_at = now + BWE_SANDBOX_BACKOFF_MIN_MS;
		return err;
	}
	c->gen++;
	c->ending = false;
	dispatch(c);
	return 0;
}

/* The worker is gone or must go: why != NULL kills it with that reason. */
static void lose_child(struct bwe_flc *c, const char *why)
{
	if (why)
		text_copy(c->last_error, sizeof(c->last_error), why);
	c->killed = why != NULL;
	bwe_sandbox_kill(c->sb, why);
	c->ending = true;
	out_reset(c);
}

/* Reap an ended worker: its requests fail with -ECHILD, STATE says why. */
static void try_reap(struct bwe_flc *c)
{
	char why[BWE_SANDBOX_WHY_MAX + 8], msg[BWE_FLC_ERR_MAX];
	struct req *sent = NULL, **pp = &sent, *r;
	int rc;

	if (!c->ending)
		return;
	rc = bwe_sandbox_reap(c->sb, why, sizeof(why));
	if (rc <= 0)
		return;
	c->ending = false;
	if (c->killed)
		snprintf(msg, sizeof(msg), "%s", why);
	else
		snprintf(msg, sizeof(msg), "fleet worker died: %s", why);
	c->killed = false;
	text_copy(c->last_error, sizeof(c->last_error), msg);
	/* detach the requests the worker held: callbacks may submit again */
	while (c->nsent) {
		r = c->head;
		c->head = r->next;
		if (!c->head)
			c->tail = NULL;
		c->queued--;
		c->nsent--;
		r->next = NULL;
		*pp = r;
		pp = &r->next;
	}
	c->connected = false;
	c->endpoint[0] = '\0';
	c->in_snap = false;
	emit_state(c);
	while ((r = sent)) {
		sent = r->next;
		complete(c, r, -ECHILD, msg, 0);
	}
}

/* ---- input ----------------------------------------------------------------------------- */

__attribute__((format(printf, 2, 3))) static int garbage(struct bwe_flc *c, const char *fmt, ...)
{
	char msg[BWE_FLC_ERR_MAX];
	va_list ap;
	int n;

	n = snprintf(msg, sizeof(msg),
		     "fleet worker sent garbage: frame %llu: ", (unsigned long long)c->dec.frames);
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	lose_child(c, msg);
	try_reap(c);
	return -EPROTO;
}

/* Judge m against the state; deliver it. */
static int handle(struct bwe_flc *c, const struct bwe_flw_msg *m)
{
	struct bwe_flc_ev ev = { 0 };
	bool stale = c->acks > 0; /* an event of a follow that was replaced */
	struct req **pp, *r;
	size_t i;

	c->last_heard_ms = bwe_sandbox_now_ms();
	switch (m->type) {
	case BWE_FLW_STATE:
		if (m->connected && !m->endpoint[0])
			return garbage(c, "state: connected without an endpoint");
		c->connected = m->connected;
		snprintf(c->endpoint, sizeof(c->endpoint), "%s", m->endpoint);
		if (m->rev)
			c->revision = m->rev;
		if (m->error[0] || !m->connected)
			text_copy(c->last_error, sizeof(c->last_error), m->error);
		ev.type = BWE_FLC_EV_STATE;
		ev.connected = m->connected;
		ev.endpoint = m->endpoint;
		ev.revision = m->rev;
		ev.error = m->error;
		c->on_event(&ev, c->ctx);
		return 0;
	case BWE_FLW_REV:
		c->revision = m->rev;
		return 0;
	case BWE_FLW_LEASE:
		c->site_lease = m->lease;
		return 0;
	case BWE_FLW_PONG:
		if (!c->ping_out || m->seq != c->ping_seq)
			return garbage(c, "pong %llu: no such ping outstanding",
				       (unsigned long long)m->seq);
		c->ping_out = false;
		return 0;
	case BWE_FLW_FOLLOWING:
		if (!c->acks)
			return garbage(c, "following: no follow outstanding");
		c->acks--;
		if (!c->acks)
			c->floor = m->rev;
		return 0;
	case BWE_FLW_DONE:
		for (pp = &c->head, i = 0; (r = *pp) && i < c->nsent; pp = &r->next, i++)
			if (r->id == m->id)
				break;
		if (!r || i >= c->nsent)
			return garbage(c, "done: request %u is not outstanding", m->id);
		if (!m->status && !m->rev)
			return garbage(c, "done: request %u succeeded without a revision", m->id);
		if (m->status && !m->error[0])
			return garbage(c, "done: request %u failed without a reason", m->id);
		*pp = r->next;
		if (c->tail == r) {
			struct req *t = c->head;

			while (t && t->next)
				t = t->next;
			c->tail = t;
		}
		c->queued--;
		c->nsent--;
		if (m->rev > c->revision)
			c->revision = m->rev;
		complete(c, r, m->status, m->error, m->rev);
		dispatch(c);
		return 0;
	default:
		break;
	}
	/* the follow's events */
	if (!c->following)
		return garbage(c, "an event without a follow");
	switch (m->type) {
	case BWE_FLW_SNAP_BEGIN:
		if (stale)
			return 0;
		/* a snapshot that was cut short starts over: the caller drops what came */
		c->in_snap = true;
		c->snap_rev = m->rev;
		c->snap_count = 0;
		ev.type = BWE_FLC_EV_SNAP_BEGIN;
		ev.revision = m->rev;
		break;
	case BWE_FLW_KV:
		if (stale)
			return 0;
		if (!c->in_snap)
			return garbage(c, "kv outside a snapshot");
		if (m->mod > c->snap_rev)
			return garbage(c, "kv %s: mod_revision %lld after the snapshot's %lld",
				       m->key, (long long)m->mod, (long long)c->snap_rev);
		c->snap_count++;
		ev.type = BWE_FLC_EV_SNAP_KV;
		ev.key = m->key;
		ev.value = m->value;
		ev.value_len = m->value_len;
		ev.mod_revision = m->mod;
		break;
	case BWE_FLW_SNAP_END:
		if (stale)
			return 0;
		if (!c->in_snap || m->rev != c->snap_rev || m->count != c->snap_count)
			return garbage(c,
				       "snap_end: revision %lld count %llu does not close the "
				       "snapshot (%s, revision %lld, %llu keys)",
				       (long long)m->rev, (unsigned long long)m->count,
				       c->in_snap ? "open" : "none", (long long)c->snap_rev,
				       (unsigned long long)c->snap_count);
		c->in_snap = false;
		c->last_delivered = m->rev;
		c->floor = m->rev + 1;
		ev.type = BWE_FLC_EV_SNAP_END;
		ev.revision = m->rev;
		ev.count = m->count;
		break;
	case BWE_FLW_PUT:
	case BWE_FLW_DEL:
		if (stale)
			return 0;
		if (c->in_snap)
			return garbage(c, "a watch event inside a snapshot");
		if (m->mod < c->floor)
			return garbage(c, "%s %s: mod_revision %lld before %lld (out of order)",
				       m->type == BWE_FLW_PUT ? "put" : "del", m->key,
				       (long long)m->mod, (long long)c->floor);
		c->floor = m->mod;
		c->last_delivered = m->mod;
		if (m->mod > c->revision)
			c->revision = m->mod;
		ev.type = m->type == BWE_FLW_PUT ? BWE_FLC_EV_PUT : BWE_FLC_EV_DEL;
		ev.key = m->key;
		ev.value = m->type == BWE_FLW_PUT ? m->value : NULL;
		ev.value_len = m->type == BWE_FLW_PUT ? m->value_len : 0;
		ev.mod_revision = m->mod;
		break;
	case BWE_FLW_COMPACTED:
		if (stale)
			return 0;
		if (c->in_snap)
			return garbage(c, "compacted inside a snapshot");
		ev.type = BWE_FLC_EV_COMPACTED;
		ev.revision = m->rev;
		break;
	case BWE_FLW_REFUSED:
		if (stale)
			return 0;
		ev.type = BWE_FLC_EV_REFUSED;
		ev.key = m->key;
		ev.error = m->error;
		ev.mod_revision = m->mod;
		break;
	default:
		return garbage(c, "message type %d unexpected", (int)m->type);
	}
	c->on_event(&ev, c->ctx);
	return 0;
}

static int consume(struct bwe_flc *c, const char *p, size_t n)
{
	unsigned int gen = c->gen;

	while (n && !c->ending && gen == c->gen) {
		struct bwe_flw_msg m;
		char why[BWE_FLC_ERR_MAX];
		size_t used;
		int r = bwe_flw_dec_feed(&c->dec, p, n, &used);

		p += used;
		n -= used;
		if (r == -EMSGSIZE)
			return garbage(c, "a frame length of 0 or over %d bytes",
				       BWE_FLW_FRAME_MAX);
		if (r < 0)
			return garbage(c, "%s", strerror(-r));
		if (r == 0)
			continue;
		if (bwe_flw_parse(c->dec.frame, c->dec.len, &m, why, sizeof(why)))
			return garbage(c, "%s", why);
		if (handle(c, &m))
			return -EPROTO;
	}
	return 0;
}

/* ---- the interface ----------------------------------------------------------------------- */

static char *dup_opt(const char *s, size_t max, int *err)
{
	char *d;

	if (!s || !*s)
		return NULL;
	if (strnlen(s, max + 1) > max) {
		*err = -EINVAL;
		return NULL;
	}
	d = strdup(s);
	if (!d)
		*err = -ENOMEM;
	return d;
}

static bool pem_ok(const char *s)
{
	return !s ||
	       (strstr(s, "-----BEGIN ") && strnlen(s, BWE_FLW_PEM_MAX + 1) <= BWE_FLW_PEM_MAX);
}

int bwe_flc_new(const struct bwe_flc_conf *conf, struct bwe_flc **out)
{
	struct bwe_sandbox_conf sc;
	struct bwe_flc *c;
	size_t i;
	int err = 0;

	if (!conf || !conf->on_event || !conf->nendpoints ||
	    conf->nendpoints > BWE_FLC_ENDPOINTS_MAX || !bwe_flw_prefix_ok(conf->prefix) ||
	    !conf->site || !*conf->site || !bwe_flw_text_ok(conf->site, BWE_FLW_SITE_MAX) ||
	    !pem_ok(conf->ca_pem) || !pem_ok(conf->cert_pem) || !pem_ok(conf->key_pem) ||
	    !conf->cert_pem != !conf->key_pem || !conf->user != !conf->password ||
	    (conf->user && !bwe_flw_text_ok(conf->user, BWE_FLW_SECRET_MAX)) ||
	    (conf->password &&
	     strnlen(conf->password, BWE_FLW_SECRET_MAX + 1) > BWE_FLW_SECRET_MAX))
		return -EINVAL;
	for (i = 0; i < conf->nendpoints; i++)
		if (!bwe_flw_endpoint_ok(conf->endpoints[i]))
			return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	for (i = 0; i < conf->nendpoints && !err; i++)
		c->endpoints[c->nendpoints++] =
			dup_opt(conf->endpoints[i], BWE_FLW_ENDPOINT_MAX, &err);
	c->prefix = dup_opt(conf->prefix, BWE_FLW_PREFIX_MAX, &err);
	c->site = dup_opt(conf->site, BWE_FLW_SITE_MAX, &err);
	c->ca = dup_opt(conf->ca_pem, BWE_FLW_PEM_MAX, &err);
	c->cert = dup_opt(conf->cert_pem, BWE_FLW_PEM_MAX, &err);
	c->key = dup_opt(conf->key_pem, BWE_FLW_PEM_MAX, &err);
	c->user = dup_opt(conf->user, BWE_FLW_SECRET_MAX, &err);
	c->password = dup_opt(conf->password, BWE_FLW_SECRET_MAX, &err);
	c->on_event = conf->on_event;
	c->ctx = conf->ctx;
	c->timeout_ms = conf->request_timeout_ms ? conf->request_timeout_ms : DEF_TIMEOUT_MS;
	c->site_ttl_s = conf->site_ttl_s ? conf->site_ttl_s : DEF_SITE_TTL_S;
	c->queue_max = conf->queue_max ? conf->queue_max : BWE_FLC_QUEUE_MAX;
	c->next_id = 1;
	c->dec.max = BWE_FLW_FRAME_MAX;
	if (err)
		goto fail;
	sc = conf->sandbox;
	if (!sc.name)
		sc.name = "fleet worker";
	err = bwe_sandbox_new(&sc, &c->sb);
	if (err)
		goto fail;
	err = start_child(c);
	if (err)
		goto fail;
	*out = c;
	return 0;
fail:
	bwe_flc_free(c);
	return err;
}

void bwe_flc_free(struct bwe_flc *c)
{
	struct req *r, *n;
	size_t i;

	if (!c)
		return;
	bwe_sandbox_free(c->sb);
	bwe_flw_dec_free(&c->dec);
	out_reset(c);
	for (r = c->head; r; r = n) {
		n = r->next;
		req_free(r);
	}
	for (i = 0; i < c->nendpoints; i++)
		free(c->endpoints[i]);
	free(c->prefix);
	free(c->site);
	free(c->ca);
	free(c->cert);
	str_wipe_free(c->key);
	free(c->user);
	str_wipe_free(c->password);
	free(c);
}

static int enqueue(struct bwe_flc *c, struct req *r, __u32 *id)
{
	r->id = c->next_id++;
	if (!c->next_id)
		c->next_id = 1; /* 0 is never a request id */
	if (c->tail)
		c->tail->next = r;
	else
		c->head = r;
	c->tail = r;
	c->queued++;
	if (id)
		*id = r->id;
	dispatch(c);
	return 0;
}

int bwe_flc_put(struct bwe_flc *c, const char *key, const void *value, size_t len, __u64 ttl_s,
		enum bwe_flc_lease lease, __u32 *id)
{
	struct req *r;
	size_t klen = key ? strnlen(key, BWE_FLC_KEY_MAX + 1) : 0;

	if (!bwe_flw_key_ok(key, klen) || len > BWE_FLC_VALUE_MAX || (len && !value) ||
	    ttl_s > BWE_FLW_TTL_MAX ||
	    (lease != BWE_FLC_LEASE_NONE && lease != BWE_FLC_LEASE_SITE) ||
	    (ttl_s && lease == BWE_FLC_LEASE_SITE))
		return -EINVAL;
	if (c->queued >= c->queue_max)
		return -ENOSPC;
	r = calloc(1, sizeof(*r));
	if (!r || !(r->value = malloc(len ? len : 1))) {
		free(r);
		return -ENOMEM;
	}
	memcpy(r->key, key, klen + 1);
	if (len)
		memcpy(r->value, value, len);
	r->len = len;
	r->ttl_s = ttl_s;
	r->lease = lease;
	return enqueue(c, r, id);
}

int bwe_flc_del(struct bwe_flc *c, const char *key, __u32 *id)
{
	size_t klen = key ? strnlen(key, BWE_FLC_KEY_MAX + 1) : 0;
	struct req *r;

	if (!bwe_flw_key_ok(key, klen))
		return -EINVAL;
	if (c->queued >= c->queue_max)
		return -ENOSPC;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	memcpy(r->key, key, klen + 1);
	r->del = true;
	return enqueue(c, r, id);
}

int bwe_flc_follow(struct bwe_flc *c, __s64 from)
{
	int err;

	if (from < 0 || from > BWE_FLW_REV_MAX)
		return -EINVAL;
	c->following = true;
	c->follow_from = from;
	c->last_delivered = 0;
	c->floor = 0;
	c->in_snap = false;
	if (c->ending || bwe_sandbox_fd(c->sb) < 0)
		return 0; /* the next worker gets it */
	err = put_follow(c, from);
	if (err)
		return err;
	c->acks++;
	write_some(c);
	return 0;
}

int bwe_flc_fd(const struct bwe_flc *c)
{
	return c->ending ? -1 : bwe_sandbox_fd(c->sb);
}

__u32 bwe_flc_events(const struct bwe_flc *c)
{
	if (bwe_flc_fd(c) < 0)
		return 0;
	return EPOLLIN | (c->out_off < c->out.len ? EPOLLOUT : 0);
}

int bwe_flc_on_writable(struct bwe_flc *c)
{
	write_some(c);
	return 0;
}

int bwe_flc_on_readable(struct bwe_flc *c)
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
			/* EOF or reset: the worker ended (reap tells how) */
			lose_child(c, NULL);
			try_reap(c);
			break;
		}
		consume(c, c->buf, (size_t)n);
	}
	return 0;
}

int bwe_flc_tick(struct bwe_flc *c)
{
	__u64 now = bwe_sandbox_now_ms();
	int err = 0;

	if (!c->ending && bwe_sandbox_fd(c->sb) >= 0) {
		if (c->ping_out && now >= c->ping_sent_ms + PING_TIMEOUT_MS) {
			char why[BWE_FLC_ERR_MAX];

			snprintf(why, sizeof(why),
				 "fleet worker did not answer a ping within %d s; killed",
				 PING_TIMEOUT_MS / 1000);
			lose_child(c, why);
		} else if (!c->ping_out && now >= c->last_heard_ms + PING_EVERY_MS) {
			c->ping_seq++;
			if (!put_ping(c)) {
				c->ping_out = true;
				c->ping_sent_ms = now;
				write_some(c);
			}
		}
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

__u64 bwe_flc_next_wakeup(const struct bwe_flc *c)
{
	__u64 t;

	if (c->ending)
		return bwe_sandbox_now_ms() + REAP_POLL_MS;
	if (!bwe_sandbox_running(c->sb)) {
		t = bwe_sandbox_restart_at(c->sb);
		return t > c->retry_at ? t : c->retry_at ? c->retry_at : 1;
	}
	return c->ping_out ? c->ping_sent_ms + PING_TIMEOUT_MS : c->last_heard_ms + PING_EVERY_MS;
}

int bwe_flc_epoll_sync(struct bwe_flc *c, int epfd, epoll_data_t data)
{
	struct epoll_event ev = { .data = data };
	int fd = bwe_flc_fd(c);

	/* closing the old socket removed it from every epoll set */
	if (c->ep_reg && (fd < 0 || c->ep_gen != c->gen))
		c->ep_reg = false;
	if (fd < 0)
		return 0;
	ev.events = bwe_flc_events(c);
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

void bwe_flc_status(const struct bwe_flc *c, struct bwe_flc_status *st)
{
	memset(st, 0, sizeof(*st));
	st->pid = bwe_flc_fd(c) >= 0 ? bwe_sandbox_pid(c->sb) : 0;
	st->restarts = bwe_sandbox_restarts(c->sb);
	st->connected = c->connected;
	snprintf(st->endpoint, sizeof(st->endpoint), "%s", c->endpoint);
	st->revision = c->revision;
	st->last_delivered = c->last_delivered;
	st->queued = c->queued;
	st->requests_ok = c->ok;
	st->requests_failed = c->failed;
	snprintf(st->last_error, sizeof(st->last_error), "%s", c->last_error);
}
