/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * wire.h - the binary framing between bwctld and its feed worker (the
 * unprivileged child that fetches, resolves and parses untrusted feeds;
 * feedwork.h). Included by lib/feedwork.c (child side), lib/fwclient.c
 * (parent side) and the tests; nothing else should need it: the daemon
 * talks to the worker through fwclient.h, which re-exports the typed
 * request and result structs below.
 *
 * Contract:
 *  - A frame is a struct bwe_wire_hdr followed by hdr.len payload bytes,
 *    hdr.len <= BWE_WIRE_PAYLOAD_MAX. Both ends are the same binary on the
 *    same machine, so every integer is in HOST byte order; only the
 *    addresses inside struct bwe_prefix / struct bwe_addr are in network
 *    order (addr.h). The stream is a SOCK_STREAM socketpair: frames may
 *    arrive split or merged, the decoder reassembles them.
 *  - A job travels as: one FIRST frame (a request: FETCH, PARSE, RESOLVE;
 *    a response: RESULT), any number of DATA frames (body chunks, record
 *    batches), then one END frame whose counts must equal what the DATA
 *    frames carried (truncation is detected). Every frame of a job carries
 *    the job id in its header. The parent has at most one job in flight;
 *    the child answers jobs in order.
 *  - Strings in fixed-size fields are NUL-terminated inside the field;
 *    strings in records carry their length including the NUL. Text that a
 *    human reads (errors, reasons, excerpts, ETag, Last-Modified, URLs,
 *    ids) may not hold control bytes (< 0x20, 0x7f); domain names hold
 *    only [a-z0-9.-].
 *  - The decoder (bwe_wire_dec) is incremental and never blocks: hand it
 *    bytes as they arrive. It validates EVERYTHING (magic/version, type
 *    known and allowed in the direction and in the job's state, exact
 *    sizes, string bounds, prefixes: plen 1..128, host bits and padding
 *    clear, an IPv4-mapped address only with plen >= 96 and no prefix
 *    covering all of ::ffff:0:0/96, indicators strictly ascending (sorted,
 *    unique), rejects at most BWE_WIRE_REJECTS_MAX, CrowdSec decisions
 *    (positive id, known operation and scope, a host for scope Ip, a
 *    duration of 1 s..BWE_CS_DURATION_MAX_S for a new one and none for a
 *    deletion) only in jobs of format crowdsec-lapi, which carry no
 *    indicators or domains, counts equal END, job
 *    id equal the expected one, total bytes within the job's limit) and on
 *    the first violation returns -EBADMSG with a precise message such as
 *    "frame 12: indicator 3: prefix length 200 > 128". After an error the
 *    decoder is dead: the stream cannot be resynchronised, so the caller
 *    kills the peer.
 *  - A FETCH may carry a secret (enum bwe_wire_auth): an API key header,
 *    HTTP basic or a bearer token, checked by the encoder and the child's
 *    decoder alike (no control byte, a header name of [A-Za-z0-9-], no ':'
 *    in a basic user); error texts name the field, never its bytes. The
 *    child's decoder keeps no copy of it in its frame buffer and wipes its
 *    own when the next job starts; the parent wipes the encoded request
 *    (bwe_wire_buf_wipe, fwclient.c).
 *  - All functions return 0 or -errno unless stated otherwise.
 */
#ifndef BWE_WIRE_H
#define BWE_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "addr.h"
#include "crowdsec.h"
#include "feed.h"
#include "taxii.h"

#define BWE_WIRE_MAGIC	     0x42574601u  /* "BWF" and version 1 */
#define BWE_WIRE_PAYLOAD_MAX (256 * 1024) /* bytes of one frame's payload */
#define BWE_WIRE_CHUNK	     (64 * 1024)  /* bytes of body per DATA frame */
#define BWE_WIRE_URL_MAX     1024	  /* bytes incl. NUL */
#define BWE_WIRE_ETAG_MAX    256	  /* bytes incl. NUL */
#define BWE_WIRE_LASTMOD_MAX 128	  /* bytes incl. NUL */
#define BWE_WIRE_PATH_MAX    1024	  /* bytes of a file path incl. NUL */
#define BWE_WIRE_ERR_MAX     256	  /* bytes incl. NUL */
#define BWE_WIRE_ID_MAX \
	256						 /* bytes of an indicator id incl. NUL;
						 * the child truncates longer ids */
#define BWE_WIRE_NAME_MAX      (BWE_FEED_DOMAIN_MAX + 1) /* incl. NUL */
#define BWE_WIRE_REASON_MAX    256			 /* bytes incl. NUL */
#define BWE_WIRE_EXCERPT_MAX   (BWE_FEED_EXCERPT_MAX + 1)
#define BWE_WIRE_REJECTS_MAX   50	       /* reject records per job */
#define BWE_WIRE_ADDRS_MAX     64	       /* addresses per resolved name */
#define BWE_WIRE_NAMES_MAX     (1u << 20)      /* names per RESOLVE job */
#define BWE_WIRE_BODY_MAX      (1ull << 32)    /* bytes of a body, any job */
#define BWE_WIRE_AUTH_NAME_MAX 256	       /* bytes of a header name or basic user incl. NUL */
#define BWE_WIRE_SECRET_MAX    1024	       /* bytes of a key, password or token incl. NUL */
#define BWE_WIRE_CS_TEXT_MAX   BWE_CS_TEXT_MAX /* bytes of a decision's origin, scenario */
/* A parse result may be larger than its body (a range line yields up to
 * 2 * 128 - 2 prefixes); the decoder allows this factor plus a constant. */
#define BWE_WIRE_EXPAND	       64
#define BWE_WIRE_SLACK	       (1024 * 1024) /* bytes */

/* TAXII and MISP (issue #16) */
#define BWE_WIRE_POST_MAX     (64 * 1024)      /* bytes of a FETCH's POST body */
#define BWE_WIRE_TAXII_ID_MAX BWE_TAXII_ID_MAX /* bytes of a STIX id incl. NUL */

struct bwe_wire_hdr {
	__u32 magic; /* BWE_WIRE_MAGIC */
	__u16 type;  /* enum bwe_wire_type */
	__u16 flags; /* 0; reserved */
	__u32 len;   /* payload bytes following this header */
	__u32 job;   /* job id, never 0 */
};
_Static_assert(sizeof(struct bwe_wire_hdr) == 16, "bwe_wire_hdr size");

enum bwe_wire_type {
	/* parent -> child */
	BWE_WIRE_REQ_FETCH = 0x0101,   /* FIRST: struct bwe_wire_fetch */
	BWE_WIRE_REQ_PARSE = 0x0102,   /* FIRST: struct bwe_wire_parse */
	BWE_WIRE_REQ_RESOLVE = 0x0103, /* FIRST: struct bwe_wire_resolve */
	BWE_WIRE_REQ_BODY = 0x0110,    /* DATA: raw body bytes (PARSE, FETCH POST) */
	BWE_WIRE_REQ_NAMES = 0x0111,   /* DATA: name records (RESOLVE) */
	/* child -> parent */
	BWE_WIRE_RES_RESULT = 0x0201,	 /* FIRST: struct bwe_wire_result */
	BWE_WIRE_RES_INDS = 0x0210,	 /* DATA: indicator records */
	BWE_WIRE_RES_DOMAINS = 0x0211,	 /* DATA: domain records */
	BWE_WIRE_RES_REJECTS = 0x0212,	 /* DATA: reject records */
	BWE_WIRE_RES_BODY = 0x0213,	 /* DATA: raw fetched body bytes */
	BWE_WIRE_RES_ANSWERS = 0x0214,	 /* DATA: resolved-name records */
	BWE_WIRE_RES_DECISIONS = 0x0215, /* DATA: CrowdSec decision records */
	BWE_WIRE_RES_TAXII = 0x0216,	 /* DATA: TAXII indicator value records */
	/* both directions */
	BWE_WIRE_END = 0x0301, /* END: struct bwe_wire_end */
};

/* Parse options as they travel (feed.h's bwe_feed_parse_opts minus callbacks). */
struct bwe_wire_popts {
	__u32 format;	   /* enum bwe_feed_format */
	__u32 min_plen_v4; /* 0..32, 0 = default */
	__u32 min_plen_v6; /* 0..128, 0 = default */
	__u32 pad;	   /* zero */
	__s64 now;	   /* unix seconds, 0 = the child's clock */
};

enum bwe_wire_fetch_flag {
	BWE_WIRE_FETCH_INSECURE = 1, /* plain http allowed (source and redirects) */
};

/*
 * How a FETCH authenticates; the secret comes from a file the parent read
 * (config.h) and is never logged, echoed or sent back. An authenticated
 * FETCH follows no redirect: the credentials go to the configured URL only.
 */
enum bwe_wire_auth {
	BWE_WIRE_AUTH_NONE = 0,
	BWE_WIRE_AUTH_HEADER, /* auth_name: secret (CrowdSec: X-Api-Key) */
	BWE_WIRE_AUTH_BASIC,  /* user auth_name, password secret */
	BWE_WIRE_AUTH_BEARER, /* Authorization: Bearer secret; auth_name "" */
	BWE_WIRE_AUTH_COUNT   /* not a method */
};

struct bwe_wire_fetch {
	struct bwe_wire_popts popts;
	__u64 max_bytes;			  /* body cap, 1..BWE_WIRE_BODY_MAX */
	__u32 timeout_s;			  /* whole transfer, 1..3600 */
	__u32 flags;				  /* enum bwe_wire_fetch_flag; other bits zero */
	char url[BWE_WIRE_URL_MAX];		  /* https://, or http:// with INSECURE */
	char etag[BWE_WIRE_ETAG_MAX];		  /* "" = none */
	char last_modified[BWE_WIRE_LASTMOD_MAX]; /* "" = none */
	char ca_file[BWE_WIRE_PATH_MAX];	  /* "" = system CAs, else absolute */
	__u32 auth;				  /* enum bwe_wire_auth */
	__u32 pad;				  /* zero */
	char auth_name[BWE_WIRE_AUTH_NAME_MAX];	  /* HEADER: [A-Za-z0-9-]; BASIC: no ':' */
	char secret[BWE_WIRE_SECRET_MAX];	  /* NONE: ""; else 1.. bytes, no control */
	__u32 method;				  /* enum bwe_wire_method */
	__u32 pad2;				  /* zero */
	__u64 body_len; /* POST: 1..BWE_WIRE_POST_MAX bytes of REQ_BODY follow
			 * (sent as application/json); GET: 0 */
};

/* The HTTP method of a FETCH (MISP's restSearch is a POST). */
enum bwe_wire_method {
	BWE_WIRE_GET = 0,
	BWE_WIRE_POST = 1,
};

struct bwe_wire_parse {
	struct bwe_wire_popts popts;
	__u64 body_len; /* bytes in the REQ_BODY frames that follow */
};

struct bwe_wire_resolve {
	__u32 n_names; /* REQ_NAMES records that follow */
	__u32 pad;
};

enum bwe_wire_result_flag {
	BWE_WIRE_NOT_MODIFIED = 1, /* FETCH: HTTP 304, no body, nothing parsed */
};

struct bwe_wire_result {
	__s32 status;				  /* 0 or -errno */
	__u32 http_status;			  /* FETCH: last HTTP status, 0 none */
	__u32 flags;				  /* enum bwe_wire_result_flag */
	__u32 format;				  /* enum bwe_feed_format used */
	__u64 lines, accepted, rejected, skipped; /* struct bwe_feed_stats */
	char etag[BWE_WIRE_ETAG_MAX];		  /* new ETag, "" none */
	char last_modified[BWE_WIRE_LASTMOD_MAX]; /* new Last-Modified */
	char error[BWE_WIRE_ERR_MAX];		  /* "" when status == 0 */
	char cursor[BWE_TAXII_CURSOR_MAX];	  /* taxii: the collection's last
						   * date_added, "" unknown */
};

/* Record heads; each is followed by the strings it announces. */
struct bwe_wire_ind {	       /* RES_INDS; then id_len bytes of id */
	struct bwe_prefix pfx; /* host bits clear, network order */
	__u32 line;
	__s64 valid_until; /* unix seconds, 0 none */
	__u16 id_len;	   /* 0 = no id, else bytes incl. NUL */
	__u16 pad[3];
};
_Static_assert(sizeof(struct bwe_wire_ind) == 40, "bwe_wire_ind size");

struct bwe_wire_domain { /* RES_DOMAINS; then name_len bytes */
	__u32 line;
	__u16 name_len; /* incl. NUL */
	__u16 pad;
};

struct bwe_wire_reject { /* RES_REJECTS; then reason, then excerpt */
	__u32 line;
	__u16 reason_len;  /* incl. NUL */
	__u16 excerpt_len; /* incl. NUL */
};

struct bwe_wire_answer { /* RES_ANSWERS; then name, then n_addrs bwe_addr */
	__u32 ttl;	 /* seconds, smallest of the answers */
	__u16 name_len;	 /* incl. NUL */
	__u16 n_addrs;	 /* 0..BWE_WIRE_ADDRS_MAX; 0 = did not resolve */
};

struct bwe_wire_name {	/* REQ_NAMES; then name_len bytes */
	__u16 name_len; /* incl. NUL */
	__u16 pad;
};

/*
 * RES_DECISIONS (FETCH and PARSE jobs of format crowdsec-lapi only, which
 * carry no indicator or domain records); then origin_len bytes of origin,
 * then scenario_len bytes of scenario.
 */
struct bwe_wire_decision {
	__s64 id;	       /* > 0 */
	__s64 duration_s;      /* NEW: 1..BWE_CS_DURATION_MAX_S; DELETED: 0 */
	struct bwe_prefix pfx; /* host bits clear; scope Ip: a host */
	__u8 op;	       /* enum bwe_cs_op */
	__u8 scope;	       /* enum bwe_cs_scope */
	__u16 origin_len;      /* incl. NUL, 1..BWE_WIRE_CS_TEXT_MAX */
	__u16 scenario_len;    /* incl. NUL, 1..BWE_WIRE_CS_TEXT_MAX */
	__u16 pad[3];
};
_Static_assert(sizeof(struct bwe_wire_decision) == 48, "bwe_wire_decision size");

/*
 * RES_TAXII (FETCH jobs of format taxii only, which carry no indicator or
 * domain records): one value of one indicator object, the values of an
 * object consecutive; then id_len bytes of the STIX id, then name_len
 * bytes of the domain (kind DOMAIN only).
 */
struct bwe_wire_taxii {
	__s64 modified;	       /* unix seconds */
	__s64 valid_from;      /* unix seconds, 0 none */
	__s64 valid_until;     /* unix seconds, 0 none */
	struct bwe_prefix pfx; /* PREFIX: host bits clear; else all zero */
	__u32 modified_ns;     /* 0..999999999 */
	__u8 kind;	       /* enum bwe_taxii_kind */
	__u8 revoked;	       /* 0 or 1 (kind NONE) */
	__u16 id_len;	       /* incl. NUL, 2..BWE_WIRE_TAXII_ID_MAX */
	__u16 name_len;	       /* DOMAIN: incl. NUL; else 0 */
	__u16 pad;
};
_Static_assert(sizeof(struct bwe_wire_taxii) == 56, "bwe_wire_taxii size");

struct bwe_wire_end {
	__u64 taxii;			       /* RES_TAXII records sent */
	__u64 decisions;		       /* RES_DECISIONS records sent */
	__u64 inds, domains, rejects, answers; /* records sent */
	__u64 names;			       /* REQ_NAMES records sent */
	__u64 body;			       /* bytes of body sent (either direction) */
};

/* ---- typed jobs: what the parent asks and what it gets back --------------- */

enum bwe_job_kind {
	BWE_JOB_FETCH = 1, /* download url, parse it, return the body too */
	BWE_JOB_PARSE,	   /* parse body bytes the parent read itself */
	BWE_JOB_RESOLVE,   /* A and AAAA of each name */
};

struct bwe_job_parse_opts {
	enum bwe_feed_format format;  /* AUTO: detect */
	int min_plen_v4, min_plen_v6; /* as bwe_feed_parse_opts, 0 = default */
	__s64 now;		      /* 0 = the child's clock */
};

/*
 * A request. The parent fills it for fwclient.h's submit (which copies it);
 * the child's decoder hands one out with pointers into decoder storage.
 */
struct bwe_job_req {
	enum bwe_job_kind kind;
	__u32 job;			 /* set by the sender (fwclient) */
	struct bwe_job_parse_opts parse; /* FETCH, PARSE */
	const char *url;		 /* FETCH: https://, http:// only with insecure */
	bool insecure;			 /* FETCH: plain http allowed, also in redirects */
	const char *ca_file;		 /* FETCH: NULL or "" = system CAs */
	const char *etag;		 /* FETCH: NULL or "" = none */
	const char *last_modified;	 /* FETCH: NULL or "" = none */
	__u64 max_bytes;		 /* FETCH: body cap */
	__u32 timeout_s;		 /* FETCH: whole transfer */
	enum bwe_wire_auth auth;	 /* FETCH: how it authenticates */
	const char *auth_name;		 /* FETCH: header name (HEADER), user (BASIC) */
	const char *secret;		 /* FETCH: the key, password or token */
	enum bwe_wire_method method;	 /* FETCH: GET, or POST with body */
	const char *body;		 /* PARSE: body_len bytes, may hold NULs;
					  * FETCH POST: the JSON request body */
	size_t body_len;
	const char *const *names; /* RESOLVE: n_names domain names */
	size_t n_names;
};

struct bwe_job_ind {
	struct bwe_prefix pfx; /* host bits clear */
	__u32 line;	       /* 1-based source line, 0 unknown */
	__s64 valid_until;     /* unix seconds, 0 none */
	const char *id;	       /* STIX/SBL id or NULL */
};

struct bwe_job_domain {
	const char *name; /* lower case, RFC 1123 */
	__u32 line;
};

struct bwe_job_reject {
	__u32 line;
	const char *reason;
	const char *excerpt; /* printable ASCII */
};

struct bwe_job_answer {
	const char *name;
	__u32 ttl;		      /* seconds */
	const struct bwe_addr *addrs; /* n_addrs, IPv4 mapped */
	size_t n_addrs;		      /* 0: did not resolve */
};

struct bwe_arena; /* string storage of a result */

/*
 * A job's validated result. Every pointer stays valid until
 * bwe_job_result_free(). On status != 0 the arrays may be empty.
 */
struct bwe_job_result {
	__u32 job;
	enum bwe_job_kind kind;
	int status;		      /* 0 or -errno */
	char error[BWE_WIRE_ERR_MAX]; /* "" when status == 0 */
	unsigned int http_status;     /* FETCH: 0 when no HTTP answer */
	bool not_modified;	      /* FETCH: 304, body and arrays empty */
	char etag[BWE_WIRE_ETAG_MAX]; /* FETCH: new validators */
	char last_modified[BWE_WIRE_LASTMOD_MAX];
	struct bwe_feed_stats stats; /* FETCH, PARSE; stats.format detected */
	struct bwe_job_ind *inds;    /* sorted by prefix, unique */
	size_t n_inds;
	struct bwe_job_domain *domains; /* source order */
	size_t n_domains;
	struct bwe_job_reject *rejects; /* at most BWE_WIRE_REJECTS_MAX */
	size_t n_rejects;
	char *body; /* FETCH: the downloaded body (NUL after
					 * body_len), NULL when empty */
	size_t body_len;
	struct bwe_job_answer *answers; /* RESOLVE: one per name asked */
	size_t n_answers;
	struct bwe_cs_decision *decisions; /* crowdsec-lapi: in stream order */
	size_t n_decisions;
	struct bwe_taxii_val *taxii; /* taxii: the poll's values, in page order */
	size_t n_taxii;
	char cursor[BWE_TAXII_CURSOR_MAX]; /* taxii: last date_added, "" unknown */
	struct bwe_arena *arena;	   /* private */
};

/* Frees what r owns and zeroes it; r itself is the caller's. NULL-safe. */
void bwe_job_result_free(struct bwe_job_result *r);

/* ---- encoding ---------------------------------------------------------------- */

/* A growable output buffer of whole frames. Zero-initialise it. */
struct bwe_wire_buf {
	char *p;
	size_t len, cap;
	size_t open; /* offset+1 of the batch frame being filled, 0 none */
};

void bwe_wire_buf_free(struct bwe_wire_buf *b);
/* Zero the bytes b holds (a secret went through it), then free it. */
void bwe_wire_buf_wipe(struct bwe_wire_buf *b);
/* Drop the first n bytes (they were written); closes any open batch. */
void bwe_wire_buf_consume(struct bwe_wire_buf *b, size_t n);

/* Append one whole frame. */
int bwe_wire_put_frame(struct bwe_wire_buf *b, enum bwe_wire_type type, __u32 job,
		       const void *payload, size_t len);
/* Append raw bytes as DATA frames of type (REQ_BODY, RES_BODY), chunked. */
int bwe_wire_put_bytes(struct bwe_wire_buf *b, enum bwe_wire_type type, __u32 job, const void *p,
		       size_t len);
/*
 * Record appenders: records of the same type go into one batch frame until
 * it would exceed BWE_WIRE_PAYLOAD_MAX. Strings are copied; an indicator id
 * longer than BWE_WIRE_ID_MAX - 1 bytes is cut there. -EINVAL for strings
 * that cannot be sent (name too long, too many addresses).
 */
int bwe_wire_put_ind(struct bwe_wire_buf *b, __u32 job, const struct bwe_job_ind *ind);
int bwe_wire_put_domain(struct bwe_wire_buf *b, __u32 job, const char *name, __u32 line);
int bwe_wire_put_reject(struct bwe_wire_buf *b, __u32 job, __u32 line, const char *reason,
			const char *excerpt);
int bwe_wire_put_answer(struct bwe_wire_buf *b, __u32 job, const struct bwe_job_answer *a);
int bwe_wire_put_name(struct bwe_wire_buf *b, __u32 job, const char *name);
int bwe_wire_put_decision(struct bwe_wire_buf *b, __u32 job, const struct bwe_cs_decision *d);
/* -EINVAL: an id or name that cannot be sent (too long, empty). */
int bwe_wire_put_taxii(struct bwe_wire_buf *b, __u32 job, const struct bwe_taxii_val *v);

/*
 * A whole request (FIRST, DATA, END frames), job id req->job (non-zero).
 * -EINVAL: an auth that cannot be sent (unknown method, a name or secret
 * too long or missing). The caller wipes b (bwe_wire_buf_wipe) when the
 * request carried a secret.
 */
int bwe_wire_put_request(struct bwe_wire_buf *b, const struct bwe_job_req *req);

/* ---- decoding ---------------------------------------------------------------- */

enum bwe_wire_dir {
	BWE_WIRE_TO_CHILD = 1, /* requests: the child decodes */
	BWE_WIRE_TO_PARENT,    /* responses: the parent decodes */
};

struct bwe_wire_dec;

int bwe_wire_dec_new(enum bwe_wire_dir dir, struct bwe_wire_dec **out);
void bwe_wire_dec_free(struct bwe_wire_dec *d);

/*
 * Parent side: the job whose response comes next. Bytes that arrive with
 * no job expected are garbage. The limit of all payload bytes of the
 * response is derived from the request (FETCH: max_bytes, PARSE:
 * body_len, times BWE_WIRE_EXPAND plus BWE_WIRE_SLACK; RESOLVE: per name);
 * a RESOLVE response may answer at most req->n_names names.
 */
int bwe_wire_dec_expect(struct bwe_wire_dec *d, const struct bwe_job_req *req);

/*
 * Feed len bytes. Consumes bytes until a job is complete or buf is used
 * up; *used says how many were taken. Returns 1 when a job is complete
 * (fetch it with bwe_wire_dec_take_* and call again with the rest), 0 when
 * more bytes are needed, -EBADMSG (message in bwe_wire_dec_error) on
 * garbage, -ENOMEM.
 */
int bwe_wire_dec_feed(struct bwe_wire_dec *d, const void *buf, size_t len, size_t *used);
/* Parent: move the completed result out (the caller frees it). */
int bwe_wire_dec_take_result(struct bwe_wire_dec *d, struct bwe_job_result *out);
/* Child: the completed request; valid until the next feed or free. */
const struct bwe_job_req *bwe_wire_dec_request(const struct bwe_wire_dec *d);
/* The first error, "" if none. */
const char *bwe_wire_dec_error(const struct bwe_wire_dec *d);
/* True between frames of no job: nothing half-received. */
bool bwe_wire_dec_idle(const struct bwe_wire_dec *d);

#endif /* BWE_WIRE_H */
