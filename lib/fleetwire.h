/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fleetwire.h - the framing between bwctld and its fleet worker
 * (fleetclient.h, fleetwork.h). Included by those two and the tests.
 *
 * A frame is a 4-byte big-endian length N, then N bytes of one JSON object
 * (json-c) whose "t" names the message. Toward the parent a frame is at
 * most BWE_FLW_FRAME_MAX bytes; toward the child BWE_FLW_INIT_MAX (the
 * init message carries the TLS material). Byte strings (values) are
 * base64; revisions and ids are JSON integers.
 *
 * Parent -> child:
 *   init    endpoints[], prefix, site, ca, cert, key, user, password (the
 *           last five "" when none), timeout_ms, site_ttl, site_lease (0
 *           none: the lease a worker before this one granted)
 *   put     id, key, value, ttl, lease (0 none, 1 the site's)
 *   del     id, key
 *   follow  from
 *   ping    seq
 * Child -> parent (bwe_flw_parse, which judges every field):
 *   state   connected, endpoint, rev, error
 *   rev     rev                       (the cluster's; no callback)
 *   snap_begin rev | kv key value mod | snap_end rev count
 *   put     key value mod | del key mod
 *   done    id status error rev
 *   compacted rev
 *   refused key error mod             (key: escaped, printable ASCII)
 *   pong    seq
 *   lease   id                        (the site lease granted: a restarted
 *                                      worker gets it in init and keeps it)
 *   following rev                     (a follow is in force: the events
 *                                      before it belong to an older one)
 * Every field listed is required and no other is allowed. Keys: 1..
 * BWE_FLC_KEY_MAX bytes of [A-Za-z0-9._:/-]; values at most
 * BWE_FLC_VALUE_MAX bytes once decoded; revisions 1..BWE_FLW_REV_MAX (a
 * state or done revision may be 0: unknown); status 0 or -1..-4095; texts
 * printable ASCII without control bytes, bounded.
 */
#ifndef BWE_FLEETWIRE_H
#define BWE_FLEETWIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "fleetclient.h"
#include "wire.h" /* struct bwe_wire_buf */

#define BWE_FLW_FRAME_MAX    (64 * 1024)  /* bytes of a frame to the parent */
#define BWE_FLW_INIT_MAX     (256 * 1024) /* bytes of a frame to the child */
#define BWE_FLW_HDR	     4		  /* the length prefix */
#define BWE_FLW_REV_MAX	     ((__s64)1 << 62)
#define BWE_FLW_ENDPOINT_MAX 255 /* bytes of an endpoint URL */
#define BWE_FLW_PREFIX_MAX   128 /* bytes of the key prefix */
#define BWE_FLW_SITE_MAX     64	 /* bytes of the site name */
#define BWE_FLW_PEM_MAX	     (64 * 1024)
#define BWE_FLW_SECRET_MAX   256		  /* bytes of a user name or password */
#define BWE_FLW_TTL_MAX	     (10LL * 365 * 86400) /* seconds of a lease */

enum bwe_flw_type {
	BWE_FLW_STATE = 1,
	BWE_FLW_REV,
	BWE_FLW_SNAP_BEGIN,
	BWE_FLW_KV,
	BWE_FLW_SNAP_END,
	BWE_FLW_PUT,
	BWE_FLW_DEL,
	BWE_FLW_DONE,
	BWE_FLW_COMPACTED,
	BWE_FLW_REFUSED,
	BWE_FLW_PONG,
	BWE_FLW_FOLLOWING,
	BWE_FLW_LEASE,
};

/* A message from the child, validated. */
struct bwe_flw_msg {
	enum bwe_flw_type type;
	bool connected;
	char endpoint[BWE_FLW_ENDPOINT_MAX + 1];
	char key[BWE_FLC_KEY_MAX + 1]; /* refused: the escaped key */
	__u8 value[BWE_FLC_VALUE_MAX];
	size_t value_len;
	__s64 rev, mod, lease;
	__u64 count, seq;
	__u32 id;
	int status;
	char error[BWE_FLC_ERR_MAX];
};

/* Frame reassembly: zero-initialise, set max. */
struct bwe_flw_dec {
	size_t max; /* largest frame accepted */
	__u8 hdr[BWE_FLW_HDR];
	size_t hdr_have;
	char *frame; /* max + 1 bytes, allocated on first use */
	size_t len, have;
	__u64 frames; /* complete frames so far */
};

/*
 * Feed n bytes. Returns 1 when a frame is complete (d->frame, d->len,
 * NUL-terminated; *used says how much of p went in), 0 when all of p was
 * taken, -EMSGSIZE for a length of 0 or over max, -ENOMEM.
 */
int bwe_flw_dec_feed(struct bwe_flw_dec *d, const void *p, size_t n, size_t *used);
/* True between frames. */
bool bwe_flw_dec_idle(const struct bwe_flw_dec *d);
void bwe_flw_dec_free(struct bwe_flw_dec *d);

/* Judge one frame from the child. -EBADMSG with why. */
int bwe_flw_parse(const char *frame, size_t len, struct bwe_flw_msg *m, char *why, size_t whylen);

/* Append o as one frame (max bytes of JSON at most: -EMSGSIZE). */
struct json_object;
int bwe_flw_put(struct bwe_wire_buf *b, struct json_object *o, size_t max);

/* 1..BWE_FLC_KEY_MAX bytes of [A-Za-z0-9._:/-]. */
bool bwe_flw_key_ok(const char *k, size_t len);
/* A prefix: 1..BWE_FLW_PREFIX_MAX bytes of the key charset, ending with '/'. */
bool bwe_flw_prefix_ok(const char *p);
/* http(s)://host[:port] with an optional '/', printable, bounded. */
bool bwe_flw_endpoint_ok(const char *e);
/* Printable ASCII, no control bytes, at most max bytes. */
bool bwe_flw_text_ok(const char *s, size_t max);

/* base64 (RFC 4648, padded). encode: out has 4 * ((n + 2) / 3) + 1 bytes. */
void bwe_flw_b64_encode(const void *in, size_t n, char *out);
/* -EINVAL bad input, -E2BIG more than max bytes; else the length. */
long bwe_flw_b64_decode(const char *in, size_t n, void *out, size_t max);

/* Escape bytes for a log line: printable ASCII as is, others as \xNN. */
void bwe_flw_escape(const void *in, size_t n, char *out, size_t outlen);

#endif /* BWE_FLEETWIRE_H */
