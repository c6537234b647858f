// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * wire.c - encoder and validating, incremental decoder of the feed worker
 * framing (wire.h). Which frame may come when is one table (frame_types);
 * every check that fails names the frame number and the field.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "wire.h"

#define ARENA_BLOCK	(64 * 1024) /* bytes per arena block */
#define ALIGN8(n)	(((n) + 7) & ~(size_t)7)
#define HTTP_STATUS_MAX 999
#define TIMEOUT_MAX_S	3600
#define ERRNO_MAX	4095
#define TAXII_NS_MAX	999999999u /* nanoseconds of a modified time */

/* ---- the frame table ------------------------------------------------------- */

enum role { FIRST = 1, DATA, END };

struct frame_type {
	__u16 type;
	const char *name;
	enum bwe_wire_dir dir; /* 0: both */
	enum role role;
	size_t size;		/* exact payload size; 0: variable, > 0 */
	enum bwe_job_kind kind; /* FIRST: the job it opens; DATA: 0 any
					 * FETCH/PARSE result, else only this */
	bool parse_result;	/* DATA to parent: FETCH or PARSE jobs */
};

static const struct frame_type frame_types[] = {
	{ BWE_WIRE_REQ_FETCH, "FETCH", BWE_WIRE_TO_CHILD, FIRST, sizeof(struct bwe_wire_fetch),
	  BWE_JOB_FETCH, false },
	{ BWE_WIRE_REQ_PARSE, "PARSE", BWE_WIRE_TO_CHILD, FIRST, sizeof(struct bwe_wire_parse),
	  BWE_JOB_PARSE, false },
	{ BWE_WIRE_REQ_RESOLVE, "RESOLVE", BWE_WIRE_TO_CHILD, FIRST,
	  sizeof(struct bwe_wire_resolve), BWE_JOB_RESOLVE, false },
	/* PARSE, and FETCH with a POST body (on_frame refuses it in RESOLVE) */
	{ BWE_WIRE_REQ_BODY, "BODY", BWE_WIRE_TO_CHILD, DATA, 0, 0, false },
	{ BWE_WIRE_REQ_NAMES, "NAMES", BWE_WIRE_TO_CHILD, DATA, 0, BWE_JOB_RESOLVE, false },
	{ BWE_WIRE_RES_RESULT, "RESULT", BWE_WIRE_TO_PARENT, FIRST, sizeof(struct bwe_wire_result),
	  0, false },
	{ BWE_WIRE_RES_INDS, "INDICATORS", BWE_WIRE_TO_PARENT, DATA, 0, 0, true },
	{ BWE_WIRE_RES_DOMAINS, "DOMAINS", BWE_WIRE_TO_PARENT, DATA, 0, 0, true },
	{ BWE_WIRE_RES_REJECTS, "REJECTS", BWE_WIRE_TO_PARENT, DATA, 0, 0, true },
	{ BWE_WIRE_RES_BODY, "BODY", BWE_WIRE_TO_PARENT, DATA, 0, BWE_JOB_FETCH, false },
	{ BWE_WIRE_RES_ANSWERS, "ANSWERS", BWE_WIRE_TO_PARENT, DATA, 0, BWE_JOB_RESOLVE, false },
	{ BWE_WIRE_RES_DECISIONS, "DECISIONS", BWE_WIRE_TO_PARENT, DATA, 0, 0, true },
	{ BWE_WIRE_RES_TAXII, "TAXII", BWE_WIRE_TO_PARENT, DATA, 0, BWE_JOB_FETCH, true },
	{ BWE_WIRE_END, "END", 0, END, sizeof(struct bwe_wire_end), 0, false },
};

static const struct frame_type *frame_type_of(__u16 type)
{
	size_t i;

	for (i = 0; i < sizeof(frame_types) / sizeof(frame_types[0]); i++)
		if (frame_types[i].type == type)
			return &frame_types[i];
	return NULL;
}

static const char *kind_name(enum bwe_job_kind k)
{
	switch (k) {
	case BWE_JOB_FETCH:
		return "FETCH";
	case BWE_JOB_PARSE:
		return "PARSE";
	case BWE_JOB_RESOLVE:
		return "RESOLVE";
	}
	return "?";
}

/* ---- arena: strings and address lists that never move -------------------- */

struct arena_blk {
	struct arena_blk *next;
	size_t used, size;
	_Alignas(8) char data[];
};

struct bwe_arena {
	struct arena_blk *head;
};

static void *arena_alloc(struct bwe_arena **ap, size_t n)
{
	struct bwe_arena *a = *ap;
	struct arena_blk *b;

	if (!a) {
		a = calloc(1, sizeof(*a));
		if (!a)
			return NULL;
		*ap = a;
	}
	n = ALIGN8(n ? n : 1);
	b = a->head;
	if (!b || b->size - b->used < n) {
		size_t size = n > ARENA_BLOCK ? n : ARENA_BLOCK;

		b = malloc(sizeof(*b) + size);
		if (!b)
			return NULL;
		b->used = 0;
		b->size = size;
		b->next = a->head;
		a->head = b;
	}
	b->used += n;
	return b->data + b->used - n;
}

static void arena_free(struct bwe_arena *a)
{
	struct arena_blk *b, *n;

	if (!a)
		return;
	for (b = a->head; b; b = n) {
		n = b->next;
		free(b);
	}
	free(a);
}

static char *arena_strndup(struct bwe_arena **ap, const char *s, size_t len)
{
	char *p = arena_alloc(ap, len + 1);

	if (p) {
		memcpy(p, s, len);
		p[len] = '\0';
	}
	return p;
}

void bwe_job_result_free(struct bwe_job_result *r)
{
	if (!r)
		return;
	free(r->inds);
	free(r->domains);
	free(r->rejects);
	free(r->body);
	free(r->answers);
	free(r->decisions);
	free(r->taxii);
	arena_free(r->arena);
	memset(r, 0, sizeof(*r));
}

/* ---- encoding ---------------------------------------------------------------- */

void bwe_wire_buf_free(struct bwe_wire_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

void bwe_wire_buf_wipe(struct bwe_wire_buf *b)
{
	if (b->p)
		explicit_bzero(b->p, b->cap);
	bwe_wire_buf_free(b);
}

void bwe_wire_buf_consume(struct bwe_wire_buf *b, size_t n)
{
	if (n > b->len)
		n = b->len;
	memmove(b->p, b->p + n, b->len - n);
	b->len -= n;
	b->open = 0;
}

static int buf_reserve(struct bwe_wire_buf *b, size_t n)
{
	size_t cap;
	char *p;

	if (b->len + n <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 4096;
	while (cap < b->len + n)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p)
		return -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

static void buf_add(struct bwe_wire_buf *b, const void *p, size_t n)
{
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

int bwe_wire_put_frame(struct bwe_wire_buf *b, enum bwe_wire_type type, __u32 job,
		       const void *payload, size_t len)
{
	struct bwe_wire_hdr h = { .magic = BWE_WIRE_MAGIC,
				  .type = (__u16)type,
				  .len = (__u32)len,
				  .job = job };
	int err;

	if (len > BWE_WIRE_PAYLOAD_MAX || !job)
		return -EINVAL;
	err = buf_reserve(b, sizeof(h) + len);
	if (err)
		return err;
	b->open = 0;
	buf_add(b, &h, sizeof(h));
	buf_add(b, payload, len);
	return 0;
}

int bwe_wire_put_bytes(struct bwe_wire_buf *b, enum bwe_wire_type type, __u32 job, const void *p,
		       size_t len)
{
	const char *c = p;
	int err;

	while (len) {
		size_t n = len > BWE_WIRE_CHUNK ? BWE_WIRE_CHUNK : len;

		err = bwe_wire_put_frame(b, type, job, c, n);
		if (err)
			return err;
		c += n;
		len -= n;
	}
	return 0;
}

/*
 * Append one record of up to three parts to the open batch of type, or
 * open a new batch frame.
 */
static int put_rec(struct bwe_wire_buf *b, enum bwe_wire_type type, __u32 job, const void *p1,
		   size_t n1, const void *p2, size_t n2, const void *p3, size_t n3)
{
	size_t n = n1 + n2 + n3;
	struct bwe_wire_hdr h;
	int err;

	if (!job || n > BWE_WIRE_PAYLOAD_MAX)
		return -EINVAL;
	err = buf_reserve(b, sizeof(h) + n);
	if (err)
		return err;
	if (b->open) {
		memcpy(&h, b->p + b->open - 1, sizeof(h));
		if (h.type != type || h.job != job || h.len + n > BWE_WIRE_PAYLOAD_MAX)
			b->open = 0;
	}
	if (!b->open) {
		h = (struct bwe_wire_hdr){ .magic = BWE_WIRE_MAGIC,
					   .type = (__u16)type,
					   .job = job };
		b->open = b->len + 1;
		buf_add(b, &h, sizeof(h));
	}
	buf_add(b, p1, n1);
	buf_add(b, p2, n2);
	buf_add(b, p3, n3);
	h.len += (__u32)n;
	memcpy(b->p + b->open - 1, &h, sizeof(h));
	return 0;
}

int bwe_wire_put_ind(struct bwe_wire_buf *b, __u32 job, const struct bwe_job_ind *ind)
{
	struct bwe_wire_ind r = { .pfx = ind->pfx,
				  .line = ind->line,
				  .valid_until = ind->valid_until };
	char id[BWE_WIRE_ID_MAX];

	memset(r.pfx.pad, 0, sizeof(r.pfx.pad));
	if (ind->id) {
		size_t len = strnlen(ind->id, sizeof(id) - 1);

		memcpy(id, ind->id, len);
		id[len] = '\0';
		r.id_len = (__u16)(len + 1);
	}
	return put_rec(b, BWE_WIRE_RES_INDS, job, &r, sizeof(r), id, r.id_len, NULL, 0);
}

int bwe_wire_put_domain(struct bwe_wire_buf *b, __u32 job, const char *name, __u32 line)
{
	struct bwe_wire_domain r = { .line = line };
	size_t len = strlen(name) + 1;

	if (len > BWE_WIRE_NAME_MAX)
		return -EINVAL;
	r.name_len = (__u16)len;
	return put_rec(b, BWE_WIRE_RES_DOMAINS, job, &r, sizeof(r), name, len, NULL, 0);
}

int bwe_wire_put_reject(struct bwe_wire_buf *b, __u32 job, __u32 line, const char *reason,
			const char *excerpt)
{
	struct bwe_wire_reject r = { .line = line };
	char rs[BWE_WIRE_REASON_MAX], ex[BWE_WIRE_EXCERPT_MAX];

	snprintf(rs, sizeof(rs), "%s", reason ? reason : "");
	snprintf(ex, sizeof(ex), "%s", excerpt ? excerpt : "");
	r.reason_len = (__u16)(strlen(rs) + 1);
	r.excerpt_len = (__u16)(strlen(ex) + 1);
	return put_rec(b, BWE_WIRE_RES_REJECTS, job, &r, sizeof(r), rs, r.reason_len, ex,
		       r.excerpt_len);
}

int bwe_wire_put_answer(struct bwe_wire_buf *b, __u32 job, const struct bwe_job_answer *a)
{
	struct bwe_wire_answer r = { .ttl = a->ttl };
	size_t len = strlen(a->name) + 1;

	if (len > BWE_WIRE_NAME_MAX || a->n_addrs > BWE_WIRE_ADDRS_MAX)
		return -EINVAL;
	r.name_len = (__u16)len;
	r.n_addrs = (__u16)a->n_addrs;
	return put_rec(b, BWE_WIRE_RES_ANSWERS, job, &r, sizeof(r), a->name, len, a->addrs,
		       a->n_addrs * sizeof(struct bwe_addr));
}

int bwe_wire_put_name(struct bwe_wire_buf *b, __u32 job, const char *name)
{
	struct bwe_wire_name r = { 0 };
	size_t len = strlen(name) + 1;

	if (len > BWE_WIRE_NAME_MAX)
		return -EINVAL;
	r.name_len = (__u16)len;
	return put_rec(b, BWE_WIRE_REQ_NAMES, job, &r, sizeof(r), name, len, NULL, 0);
}

int bwe_wire_put_decision(struct bwe_wire_buf *b, __u32 job, const struct bwe_cs_decision *d)
{
	struct bwe_wire_decision r = { .id = d->id,
				       .duration_s = d->duration_s,
				       .pfx = d->pfx,
				       .op = (__u8)d->op,
				       .scope = (__u8)d->scope };
	char origin[BWE_WIRE_CS_TEXT_MAX], scenario[BWE_WIRE_CS_TEXT_MAX];

	memset(r.pfx.pad, 0, sizeof(r.pfx.pad));
	snprintf(origin, sizeof(origin), "%s", d->origin ? d->origin : "");
	snprintf(scenario, sizeof(scenario), "%s", d->scenario ? d->scenario : "");
	r.origin_len = (__u16)(strlen(origin) + 1);
	r.scenario_len = (__u16)(strlen(scenario) + 1);
	return put_rec(b, BWE_WIRE_RES_DECISIONS, job, &r, sizeof(r), origin, r.origin_len,
		       scenario, r.scenario_len);
}

int bwe_wire_put_taxii(struct bwe_wire_buf *b, __u32 job, const struct bwe_taxii_val *v)
{
	struct bwe_wire_taxii r = { .modified = v->modified.sec,
				    .modified_ns = v->modified.nsec,
				    .valid_from = v->valid_from,
				    .valid_until = v->valid_until,
				    .kind = (__u8)v->kind,
				    .revoked = v->revoked };
	size_t il = v->id ? strlen(v->id) : 0, nl = 0;

	if (!il || il >= BWE_WIRE_TAXII_ID_MAX)
		return -EINVAL;
	if (v->kind == BWE_TAXII_PREFIX) {
		r.pfx = v->pfx;
		memset(r.pfx.pad, 0, sizeof(r.pfx.pad));
	} else if (v->kind == BWE_TAXII_DOMAIN) {
		nl = v->domain ? strlen(v->domain) : 0;
		if (!nl || nl >= BWE_WIRE_NAME_MAX)
			return -EINVAL;
		r.name_len = (__u16)(nl + 1);
	}
	r.id_len = (__u16)(il + 1);
	return put_rec(b, BWE_WIRE_RES_TAXII, job, &r, sizeof(r), v->id, r.id_len,
		       nl ? v->domain : NULL, r.name_len);
}

static bool is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/*
 * NULL when (auth, name, secret) can travel, else what is wrong: the one
 * rule of both the encoder and the child's decoder. The secret is never
 * quoted in the reason.
 */
static const char *auth_problem(__u32 auth, const char *name, const char *secret)
{
	const char *p;

	if (auth >= BWE_WIRE_AUTH_COUNT)
		return "unknown auth method";
	if (auth == BWE_WIRE_AUTH_NONE)
		return name[0] || secret[0] ? "auth name or secret without an auth method" : NULL;
	if (!secret[0])
		return "auth method without a secret";
	for (p = secret; *p; p++)
		if (is_ctl((unsigned char)*p))
			return "secret holds a control byte";
	switch (auth) {
	case BWE_WIRE_AUTH_HEADER:
		if (!name[0])
			return "header auth without a header name";
		for (p = name; *p; p++)
			if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			      (*p >= '0' && *p <= '9') || *p == '-'))
				return "header name holds a byte outside A-Z a-z 0-9 -";
		return NULL;
	case BWE_WIRE_AUTH_BASIC:
		if (!name[0])
			return "basic auth without a user";
		for (p = name; *p; p++)
			if (*p == ':' || is_ctl((unsigned char)*p))
				return "basic auth user holds ':' or a control byte";
		return NULL;
	default: /* BEARER */
		return name[0] ? "bearer auth with a name" : NULL;
	}
}

static int copy_field(char *dst, size_t size, const char *src)
{
	size_t len = src ? strlen(src) : 0;

	if (len >= size)
		return -ENAMETOOLONG;
	memcpy(dst, src ? src : "", len);
	return 0;
}

static void popts_to_wire(const struct bwe_job_parse_opts *o, struct bwe_wire_popts *w)
{
	w->format = (__u32)o->format;
	w->min_plen_v4 = (__u32)o->min_plen_v4;
	w->min_plen_v6 = (__u32)o->min_plen_v6;
	w->now = o->now;
}

int bwe_wire_put_request(struct bwe_wire_buf *b, const struct bwe_job_req *req)
{
	struct bwe_wire_end end = { 0 };
	size_t start = b->len, i;
	int err = -EINVAL;

	if (!req->job)
		return -EINVAL;
	switch (req->kind) {
	case BWE_JOB_FETCH: {
		struct bwe_wire_fetch *f = calloc(1, sizeof(*f));

		if (!f)
			return -ENOMEM;
		popts_to_wire(&req->parse, &f->popts);
		f->max_bytes = req->max_bytes;
		f->timeout_s = req->timeout_s;
		f->flags = req->insecure ? BWE_WIRE_FETCH_INSECURE : 0;
		f->auth = (__u32)req->auth;
		f->method = (__u32)req->method;
		f->body_len = req->method == BWE_WIRE_POST ? req->body_len : 0;
		if (req->method != BWE_WIRE_GET &&
		    (req->method != BWE_WIRE_POST || !req->body || !req->body_len ||
		     req->body_len > BWE_WIRE_POST_MAX)) {
			free(f);
			return -EINVAL;
		}
		err = copy_field(f->url, sizeof(f->url), req->url);
		if (!err)
			err = copy_field(f->auth_name, sizeof(f->auth_name), req->auth_name);
		if (!err)
			err = copy_field(f->secret, sizeof(f->secret), req->secret);
		if (!err && auth_problem(f->auth, f->auth_name, f->secret))
			err = -EINVAL;
		if (!err)
			err = copy_field(f->ca_file, sizeof(f->ca_file), req->ca_file);
		if (!err)
			err = copy_field(f->etag, sizeof(f->etag), req->etag);
		if (!err)
			err = copy_field(f->last_modified, sizeof(f->last_modified),
					 req->last_modified);
		if (!err)
			err = bwe_wire_put_frame(b, BWE_WIRE_REQ_FETCH, req->job, f, sizeof(*f));
		if (!err && f->body_len)
			err = bwe_wire_put_bytes(b, BWE_WIRE_REQ_BODY, req->job, req->body,
						 req->body_len);
		end.body = f->body_len;
		explicit_bzero(f, sizeof(*f));
		free(f);
		break;
	}
	case BWE_JOB_PARSE: {
		struct bwe_wire_parse p = { .body_len = req->body_len };

		popts_to_wire(&req->parse, &p.popts);
		err = bwe_wire_put_frame(b, BWE_WIRE_REQ_PARSE, req->job, &p, sizeof(p));
		if (!err)
			err = bwe_wire_put_bytes(b, BWE_WIRE_REQ_BODY, req->job, req->body,
						 req->body_len);
		end.body = req->body_len;
		break;
	}
	case BWE_JOB_RESOLVE: {
		struct bwe_wire_resolve r = { .n_names = (__u32)req->n_names };

		if (req->n_names > BWE_WIRE_NAMES_MAX)
			break;
		err = bwe_wire_put_frame(b, BWE_WIRE_REQ_RESOLVE, req->job, &r, sizeof(r));
		for (i = 0; !err && i < req->n_names; i++)
			err = bwe_wire_put_name(b, req->job, req->names[i]);
		end.names = req->n_names;
		break;
	}
	}
	if (!err)
		err = bwe_wire_put_frame(b, BWE_WIRE_END, req->job, &end, sizeof(end));
	if (err) {
		b->len = start;
		b->open = 0;
	}
	return err;
}

/* ---- decoding ---------------------------------------------------------------- */

enum dec_state { ST_IDLE, ST_JOB, ST_DONE, ST_DEAD };

struct bwe_wire_dec {
	enum bwe_wire_dir dir;
	enum dec_state st;
	char err[BWE_WIRE_ERR_MAX];
	__u64 frame; /* frames started, 1-based in messages */
	struct bwe_wire_hdr hdr;
	size_t hdr_got;
	char *pl; /* BWE_WIRE_PAYLOAD_MAX bytes */
	size_t pl_got;
	/* the job being received */
	__u32 job;
	enum bwe_job_kind kind;
	__u64 bytes, limit; /* frame bytes so far and allowed */
	struct bwe_wire_end seen;
	/* parent: what comes next */
	bool expecting;
	__u32 exp_job;
	enum bwe_job_kind exp_kind;
	__u64 exp_limit;
	size_t exp_names;
	enum bwe_feed_format exp_format, fmt; /* crowdsec-lapi: decisions, no indicators */
	/* parent: the result being built */
	struct bwe_job_result res;
	size_t cap_inds, cap_domains, cap_answers, cap_body, cap_decisions, cap_taxii;
	bool not_modified;
	/* child: the request being built */
	struct bwe_job_req req;
	char url[BWE_WIRE_URL_MAX], etag[BWE_WIRE_ETAG_MAX], lastmod[BWE_WIRE_LASTMOD_MAX];
	char ca_file[BWE_WIRE_PATH_MAX];
	char auth_name[BWE_WIRE_AUTH_NAME_MAX], secret[BWE_WIRE_SECRET_MAX]; /* wiped */
	char *body;
	size_t body_cap;
	__u64 body_expect, names_expect;
	const char **names;
	size_t cap_names;
	struct bwe_arena *arena;
};

__attribute__((format(printf, 2, 3))) static int fail(struct bwe_wire_dec *d, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(d->err, sizeof(d->err), "frame %llu: ", (unsigned long long)d->frame);
	va_start(ap, fmt);
	vsnprintf(d->err + n, sizeof(d->err) - (size_t)n, fmt, ap);
	va_end(ap);
	d->st = ST_DEAD;
	return -EBADMSG;
}

int bwe_wire_dec_new(enum bwe_wire_dir dir, struct bwe_wire_dec **out)
{
	struct bwe_wire_dec *d;

	if (dir != BWE_WIRE_TO_CHILD && dir != BWE_WIRE_TO_PARENT)
		return -EINVAL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->pl = malloc(BWE_WIRE_PAYLOAD_MAX);
	if (!d->pl) {
		free(d);
		return -ENOMEM;
	}
	d->dir = dir;
	*out = d;
	return 0;
}

static void reset_job(struct bwe_wire_dec *d)
{
	bwe_job_result_free(&d->res);
	d->cap_inds = d->cap_domains = d->cap_answers = d->cap_body = d->cap_decisions = 0;
	d->cap_taxii = 0;
	explicit_bzero(d->secret, sizeof(d->secret));
	d->not_modified = false;
	free(d->body);
	d->body = NULL;
	d->body_cap = 0;
	free(d->names);
	d->names = NULL;
	d->cap_names = 0;
	arena_free(d->arena);
	d->arena = NULL;
	memset(&d->req, 0, sizeof(d->req));
	memset(&d->seen, 0, sizeof(d->seen));
	d->job = 0;
	d->bytes = d->limit = 0;
	d->body_expect = d->names_expect = 0;
}

void bwe_wire_dec_free(struct bwe_wire_dec *d)
{
	if (!d)
		return;
	reset_job(d);
	free(d->pl);
	free(d);
}

const char *bwe_wire_dec_error(const struct bwe_wire_dec *d)
{
	return d->err;
}

bool bwe_wire_dec_idle(const struct bwe_wire_dec *d)
{
	return d->st == ST_IDLE && !d->hdr_got;
}

static __u64 sat_add(__u64 a, __u64 b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

static __u64 sat_mul(__u64 a, __u64 b)
{
	return b && a > UINT64_MAX / b ? UINT64_MAX : a * b;
}

int bwe_wire_dec_expect(struct bwe_wire_dec *d, const struct bwe_job_req *req)
{
	__u64 per_name = sizeof(struct bwe_wire_hdr) + sizeof(struct bwe_wire_answer) +
			 BWE_WIRE_NAME_MAX + BWE_WIRE_ADDRS_MAX * sizeof(struct bwe_addr);

	if (d->dir != BWE_WIRE_TO_PARENT || d->st == ST_DEAD || !req->job)
		return -EINVAL;
	if (d->expecting || d->st == ST_JOB)
		return -EBUSY;
	d->expecting = true;
	d->exp_job = req->job;
	d->exp_kind = req->kind;
	d->exp_names = req->n_names;
	d->exp_format = req->kind == BWE_JOB_RESOLVE ? BWE_FMT_AUTO : req->parse.format;
	switch (req->kind) {
	case BWE_JOB_FETCH:
		d->exp_limit =
			sat_add(sat_mul(req->max_bytes, 1 + BWE_WIRE_EXPAND), BWE_WIRE_SLACK);
		break;
	case BWE_JOB_PARSE:
		d->exp_limit = sat_add(sat_mul(req->body_len, BWE_WIRE_EXPAND), BWE_WIRE_SLACK);
		break;
	case BWE_JOB_RESOLVE:
		d->exp_limit = sat_add(sat_mul(req->n_names, per_name), BWE_WIRE_SLACK);
		break;
	default:
		d->expecting = false;
		return -EINVAL;
	}
	return 0;
}

/* ---- field checks ---------------------------------------------------------- */

/* A NUL-terminated string inside a fixed field of size bytes. */
static int check_field(struct bwe_wire_dec *d, const char *what, const char *f, size_t size)
{
	const char *nul = memchr(f, '\0', size);
	const char *p;

	if (!nul)
		return fail(d, "%s not NUL-terminated within %zu bytes", what, size);
	for (p = f; p < nul; p++)
		if (is_ctl((unsigned char)*p))
			return fail(d, "%s holds control byte 0x%02x at offset %zu", what,
				    (unsigned char)*p, (size_t)(p - f));
	return 0;
}

enum str_kind { STR_TEXT, STR_NAME };

/*
 * A string of len bytes (incl. NUL) at *cur; max: bytes allowed incl. NUL.
 * On success *out points at it (inside the payload) and the cursor moves.
 */
static int take_str(struct bwe_wire_dec *d, const char *what, size_t idx, const char **cur,
		    const char *end, size_t len, size_t max, enum str_kind kind, const char **out)
{
	const char *s = *cur, *p;

	if (!len)
		return fail(d, "%s %zu: string length 0 (must count the NUL)", what, idx);
	if (len > max)
		return fail(d, "%s %zu: string length %zu > %zu", what, idx, len, max);
	if ((size_t)(end - s) < len)
		return fail(d, "%s %zu: string of %zu bytes runs past the frame end", what, idx,
			    len);
	if (s[len - 1] != '\0')
		return fail(d, "%s %zu: string not NUL-terminated", what, idx);
	for (p = s; p < s + len - 1; p++) {
		unsigned char c = (unsigned char)*p;

		if (!c)
			return fail(d, "%s %zu: NUL inside the string at offset %zu", what, idx,
				    (size_t)(p - s));
		if (is_ctl(c))
			return fail(d, "%s %zu: control byte 0x%02x in the string", what, idx, c);
		if (kind == STR_NAME &&
		    !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-'))
			return fail(d, "%s %zu: byte 0x%02x not allowed in a domain name", what,
				    idx, c);
	}
	if (kind == STR_NAME && len < 2)
		return fail(d, "%s %zu: empty domain name", what, idx);
	*out = s;
	*cur = s + len;
	return 0;
}

static int check_prefix(struct bwe_wire_dec *d, size_t idx, const struct bwe_prefix *p)
{
	static const struct bwe_prefix mapped = { .addr.a = { [10] = 0xff, [11] = 0xff },
						  .plen = BWE_V4_MAPPED_PLEN };
	struct bwe_prefix m = *p;

	if (p->plen > BWE_ADDR_BITS)
		return fail(d, "indicator %zu: prefix length %u > %u", idx, p->plen, BWE_ADDR_BITS);
	if (!p->plen)
		return fail(d, "indicator %zu: prefix length 0", idx);
	if (p->pad[0] || p->pad[1] || p->pad[2])
		return fail(d, "indicator %zu: prefix padding not zero", idx);
	bwe_prefix_mask(&m);
	if (memcmp(&m.addr, &p->addr, sizeof(m.addr)))
		return fail(d, "indicator %zu: host bits set past /%u", idx, p->plen);
	if (bwe_addr_is_v4(&p->addr) && p->plen < BWE_V4_MAPPED_PLEN)
		return fail(d, "indicator %zu: IPv4-mapped address with prefix length %u < %u", idx,
			    p->plen, BWE_V4_MAPPED_PLEN);
	if (p->plen < BWE_V4_MAPPED_PLEN && bwe_prefix_covers(p, &mapped))
		return fail(d, "indicator %zu: prefix /%u covers all of ::ffff:0:0/96", idx,
			    p->plen);
	return 0;
}

static int grow(void **v, size_t *cap, size_t need, size_t size)
{
	size_t cap2;
	void *n;

	if (need <= *cap)
		return 0;
	cap2 = *cap ? *cap * 2 : 256;
	while (cap2 < need)
		cap2 *= 2;
	n = reallocarray(*v, cap2, size);
	if (!n)
		return -ENOMEM;
	*v = n;
	*cap = cap2;
	return 0;
}

/* ---- frame handlers -------------------------------------------------------- */

static int on_first_child(struct bwe_wire_dec *d, const char *pl)
{
	struct bwe_wire_popts po;

	switch (d->hdr.type) {
	case BWE_WIRE_REQ_FETCH: {
		const struct bwe_wire_fetch *f = (const void *)pl;

		if (check_field(d, "url", f->url, sizeof(f->url)) ||
		    check_field(d, "etag", f->etag, sizeof(f->etag)) ||
		    check_field(d, "last_modified", f->last_modified, sizeof(f->last_modified)) ||
		    check_field(d, "ca_file", f->ca_file, sizeof(f->ca_file)) ||
		    check_field(d, "auth_name", f->auth_name, sizeof(f->auth_name)) ||
		    check_field(d, "secret", f->secret, sizeof(f->secret)))
			return -EBADMSG;
		if (f->pad || f->pad2)
			return fail(d, "fetch padding not zero");
		if (f->method == BWE_WIRE_GET && f->body_len)
			return fail(d, "a GET with a body of %llu bytes",
				    (unsigned long long)f->body_len);
		if (f->method == BWE_WIRE_POST && (!f->body_len || f->body_len > BWE_WIRE_POST_MAX))
			return fail(d, "POST body length %llu outside 1..%u",
				    (unsigned long long)f->body_len, BWE_WIRE_POST_MAX);
		if (f->method != BWE_WIRE_GET && f->method != BWE_WIRE_POST)
			return fail(d, "method %u unknown", f->method);
		if (auth_problem(f->auth, f->auth_name, f->secret))
			return fail(d, "auth %u: %s", f->auth,
				    auth_problem(f->auth, f->auth_name, f->secret));
		if (f->flags & ~(__u32)BWE_WIRE_FETCH_INSECURE)
			return fail(d, "unknown fetch flags 0x%x", f->flags);
		if (!strncasecmp(f->url, "http://", 7) && !(f->flags & BWE_WIRE_FETCH_INSECURE))
			return fail(d, "url is plain http:// without the insecure flag");
		if (strncasecmp(f->url, "http://", 7) && strncasecmp(f->url, "https://", 8))
			return fail(d, "url is not http:// or https://");
		if (f->ca_file[0] && f->ca_file[0] != '/')
			return fail(d, "ca_file is not an absolute path");
		if (!f->max_bytes || f->max_bytes > BWE_WIRE_BODY_MAX)
			return fail(d, "max_bytes %llu outside 1..%llu",
				    (unsigned long long)f->max_bytes, BWE_WIRE_BODY_MAX);
		if (!f->timeout_s || f->timeout_s > TIMEOUT_MAX_S)
			return fail(d, "timeout %u s outside 1..%u", f->timeout_s, TIMEOUT_MAX_S);
		memcpy(d->url, f->url, sizeof(d->url));
		memcpy(d->etag, f->etag, sizeof(d->etag));
		memcpy(d->lastmod, f->last_modified, sizeof(d->lastmod));
		memcpy(d->ca_file, f->ca_file, sizeof(d->ca_file));
		memcpy(d->auth_name, f->auth_name, sizeof(d->auth_name));
		memcpy(d->secret, f->secret, sizeof(d->secret));
		d->req.auth = (enum bwe_wire_auth)f->auth;
		d->req.auth_name = d->auth_name;
		d->req.secret = d->secret;
		/* the frame buffer keeps no copy of the secret */
		explicit_bzero(d->pl + offsetof(struct bwe_wire_fetch, secret), sizeof(f->secret));
		d->req.insecure = f->flags & BWE_WIRE_FETCH_INSECURE;
		d->req.ca_file = d->ca_file;
		d->req.url = d->url;
		d->req.etag = d->etag;
		d->req.last_modified = d->lastmod;
		d->req.max_bytes = f->max_bytes;
		d->req.timeout_s = f->timeout_s;
		d->req.method = (enum bwe_wire_method)f->method;
		d->body_expect = f->body_len;
		po = f->popts;
		break;
	}
	case BWE_WIRE_REQ_PARSE: {
		const struct bwe_wire_parse *p = (const void *)pl;

		if (p->body_len > BWE_WIRE_BODY_MAX)
			return fail(d, "body length %llu > %llu", (unsigned long long)p->body_len,
				    BWE_WIRE_BODY_MAX);
		d->body_expect = p->body_len;
		po = p->popts;
		break;
	}
	default: {
		const struct bwe_wire_resolve *r = (const void *)pl;

		if (r->n_names > BWE_WIRE_NAMES_MAX || r->pad)
			return fail(d, "%u names (at most %u)", r->n_names, BWE_WIRE_NAMES_MAX);
		d->names_expect = r->n_names;
		return 0;
	}
	}
	if (po.format >= BWE_FMT_COUNT || po.min_plen_v4 > BWE_V4_BITS ||
	    po.min_plen_v6 > BWE_ADDR_BITS || po.pad)
		return fail(d, "parse options out of range (format %u, /%u, /%u)", po.format,
			    po.min_plen_v4, po.min_plen_v6);
	d->req.parse.format = (enum bwe_feed_format)po.format;
	d->req.parse.min_plen_v4 = (int)po.min_plen_v4;
	d->req.parse.min_plen_v6 = (int)po.min_plen_v6;
	d->req.parse.now = po.now;
	return 0;
}

static int on_result(struct bwe_wire_dec *d, const char *pl)
{
	const struct bwe_wire_result *r = (const void *)pl;
	struct bwe_job_result *res = &d->res;

	if (check_field(d, "etag", r->etag, sizeof(r->etag)) ||
	    check_field(d, "cursor", r->cursor, sizeof(r->cursor)) ||
	    check_field(d, "last_modified", r->last_modified, sizeof(r->last_modified)) ||
	    check_field(d, "error", r->error, sizeof(r->error)))
		return -EBADMSG;
	if (r->status > 0 || r->status < -ERRNO_MAX)
		return fail(d, "status %d is not 0 or -errno", r->status);
	if (r->http_status > HTTP_STATUS_MAX)
		return fail(d, "HTTP status %u > %u", r->http_status, HTTP_STATUS_MAX);
	if (r->format >= BWE_FMT_COUNT)
		return fail(d, "format %u unknown", r->format);
	if (r->flags & ~(__u32)BWE_WIRE_NOT_MODIFIED)
		return fail(d, "unknown result flags 0x%x", r->flags);
	if ((r->flags & BWE_WIRE_NOT_MODIFIED) && d->kind != BWE_JOB_FETCH)
		return fail(d, "not-modified on a %s job", kind_name(d->kind));
	if (r->status && !r->error[0])
		return fail(d, "status %d without error text", r->status);
	res->job = d->job;
	res->kind = d->kind;
	res->status = r->status;
	memcpy(res->error, r->error, sizeof(res->error));
	res->http_status = r->http_status;
	res->not_modified = r->flags & BWE_WIRE_NOT_MODIFIED;
	memcpy(res->etag, r->etag, sizeof(res->etag));
	memcpy(res->last_modified, r->last_modified, sizeof(res->last_modified));
	if (r->cursor[0] && d->fmt != BWE_FMT_TAXII)
		return fail(d, "a cursor in a job not of format taxii");
	memcpy(res->cursor, r->cursor, sizeof(res->cursor));
	res->stats.format = (enum bwe_feed_format)r->format;
	res->stats.lines = r->lines;
	res->stats.accepted = r->accepted;
	res->stats.rejected = r->rejected;
	res->stats.skipped = r->skipped;
	return 0;
}

static int on_inds(struct bwe_wire_dec *d, const char *p, const char *end)
{
	struct bwe_job_result *res = &d->res;

	while (p < end) {
		size_t idx = res->n_inds + 1;
		struct bwe_wire_ind r;
		struct bwe_job_ind *o;
		const char *id = NULL;

		if ((size_t)(end - p) < sizeof(r))
			return fail(d, "indicator %zu: record cut (%zu of %zu bytes)", idx,
				    (size_t)(end - p), sizeof(r));
		memcpy(&r, p, sizeof(r));
		p += sizeof(r);
		if (check_prefix(d, idx, &r.pfx))
			return -EBADMSG;
		if (r.pad[0] || r.pad[1] || r.pad[2])
			return fail(d, "indicator %zu: padding not zero", idx);
		if (r.valid_until < 0)
			return fail(d, "indicator %zu: valid_until %lld < 0", idx,
				    (long long)r.valid_until);
		if (r.id_len && take_str(d, "indicator", idx, &p, end, r.id_len, BWE_WIRE_ID_MAX,
					 STR_TEXT, &id))
			return -EBADMSG;
		if (res->n_inds && bwe_prefix_cmp(&res->inds[res->n_inds - 1].pfx, &r.pfx) >= 0)
			return fail(d,
				    "indicator %zu: not after indicator %zu (unsorted or "
				    "duplicate)",
				    idx, idx - 1);
		if (grow((void **)&res->inds, &d->cap_inds, res->n_inds + 1, sizeof(*o)))
			return -ENOMEM;
		o = &res->inds[res->n_inds++];
		o->pfx = r.pfx;
		o->line = r.line;
		o->valid_until = r.valid_until;
		o->id = NULL;
		if (id && !(o->id = arena_strndup(&res->arena, id, r.id_len - 1)))
			return -ENOMEM;
	}
	d->seen.inds = res->n_inds;
	return 0;
}

static int on_domains(struct bwe_wire_dec *d, const char *p, const char *end)
{
	struct bwe_job_result *res = &d->res;

	while (p < end) {
		size_t idx = res->n_domains + 1;
		struct bwe_wire_domain r;
		struct bwe_job_domain *o;
		const char *name;

		if ((size_t)(end - p) < sizeof(r))
			return fail(d, "domain %zu: record cut", idx);
		memcpy(&r, p, sizeof(r));
		p += sizeof(r);
		if (r.pad)
			return fail(d, "domain %zu: padding not zero", idx);
		if (take_str(d, "domain", idx, &p, end, r.name_len, BWE_WIRE_NAME_MAX, STR_NAME,
			     &name))
			return -EBADMSG;
		if (grow((void **)&res->domains, &d->cap_domains, res->n_domains + 1, sizeof(*o)))
			return -ENOMEM;
		o = &res->domains[res->n_domains++];
		o->line = r.line;
		if (!(o->name = arena_strndup(&res->arena, name, r.name_len - 1)))
			return -ENOMEM;
	}
	d->seen.domains = res->n_domains;
	return 0;
}

static int on_rejects(struct bwe_wire_dec *d, const char *p, const char *end)
{
	struct bwe_job_result *res = &d->res;

	while (p < end) {
		size_t idx = res->n_rejects + 1;
		struct bwe_wire_reject r;
		struct bwe_job_reject *o;
		const char *reason, *excerpt;

		if (idx > BWE_WIRE_REJECTS_MAX)
			return fail(d, "reject %zu: more than %u reject records", idx,
				    BWE_WIRE_REJECTS_MAX);
		if ((size_t)(end - p) < sizeof(r))
			return fail(d, "reject %zu: record cut", idx);
		memcpy(&r, p, sizeof(r));
		p += sizeof(r);
		if (take_str(d, "reject", idx, &p, end, r.reason_len, BWE_WIRE_REASON_MAX, STR_TEXT,
			     &reason) ||
		    take_str(d, "reject", idx, &p, end, r.excerpt_len, BWE_WIRE_EXCERPT_MAX,
			     STR_TEXT, &excerpt))
			return -EBADMSG;
		if (!res->rejects) {
			res->rejects = calloc(BWE_WIRE_REJECTS_MAX, sizeof(*o));
			if (!res->rejects)
				return -ENOMEM;
		}
		o = &res->rejects[res->n_rejects++];
		o->line = r.line;
		o->reason = arena_strndup(&res->arena, reason, r.reason_len - 1);
		o->excerpt = arena_strndup(&res->arena, excerpt, r.excerpt_len - 1);
		if (!o->reason || !o->excerpt)
			return -ENOMEM;
	}
	d->seen.rejects = res->n_rejects;
	return 0;
}

static int on_answers(struct bwe_wire_dec *d, const char *p, const char *end)
{
	struct bwe_job_result *res = &d->res;

	while (p < end) {
		size_t idx = res->n_answers + 1, alen;
		struct bwe_wire_answer r;
		struct bwe_job_answer *o;
		struct bwe_addr *addrs;
		const char *name;

		if (idx > d->exp_names)
			return fail(d, "answer %zu: more answers than the %zu names asked", idx,
				    d->exp_names);
		if ((size_t)(end - p) < sizeof(r))
			return fail(d, "answer %zu: record cut", idx);
		memcpy(&r, p, sizeof(r));
		p += sizeof(r);
		if (r.n_addrs > BWE_WIRE_ADDRS_MAX)
			return fail(d, "answer %zu: %u addresses > %u", idx, r.n_addrs,
				    BWE_WIRE_ADDRS_MAX);
		if (take_str(d, "answer", idx, &p, end, r.name_len, BWE_WIRE_NAME_MAX, STR_NAME,
			     &name))
			return -EBADMSG;
		alen = (size_t)r.n_addrs * sizeof(struct bwe_addr);
		if ((size_t)(end - p) < alen)
			return fail(d, "answer %zu: addresses run past the frame end", idx);
		if (grow((void **)&res->answers, &d->cap_answers, res->n_answers + 1, sizeof(*o)))
			return -ENOMEM;
		o = &res->answers[res->n_answers++];
		o->ttl = r.ttl;
		o->n_addrs = r.n_addrs;
		o->name = arena_strndup(&res->arena, name, r.name_len - 1);
		addrs = arena_alloc(&res->arena, alen);
		if (!o->name || !addrs)
			return -ENOMEM;
		memcpy(addrs, p, alen);
		o->addrs = addrs;
		p += alen;
	}
	d->seen.answers = res->n_answers;
	return 0;
}

static int on_decisions(struct bwe_wire_dec *d, const char *p, const char *end)
{
	struct bwe_job_result *res = &d->res;

	while (p < end) {
		size_t idx = res->n_decisions + 1;
		struct bwe_wire_decision r;
		struct bwe_cs_decision *o;
		const char *origin, *scenario;

		if ((size_t)(end - p) < sizeof(r))
			return fail(d, "decision %zu: record cut (%zu of %zu bytes)", idx,
				    (size_t)(end - p), sizeof(r));
		memcpy(&r, p, sizeof(r));
		p += sizeof(r);
		if (check_prefix(d, idx, &r.pfx))
			return -EBADMSG;
		if (r.pad[0] || r.pad[1] || r.pad[2])
			return fail(d, "decision %zu: padding not zero", idx);
		if (r.id <= 0)
			return fail(d, "decision %zu: id %lld is not positive", idx,
				    (long long)r.id);
		if (r.op != BWE_CS_NEW && r.op != BWE_CS_DELETED)
			return fail(d, "decision %zu: operation %u unknown", idx, r.op);
		if (r.scope != BWE_CS_SCOPE_IP && r.scope != BWE_CS_SCOPE_RANGE)
			return fail(d, "decision %zu: scope %u unknown", idx, r.scope);
		if (r.scope == BWE_CS_SCOPE_IP && r.pfx.plen != BWE_ADDR_BITS)
			return fail(d, "decision %zu: scope Ip with prefix length %u", idx,
				    r.pfx.plen);
		if (r.op == BWE_CS_NEW &&
		    (r.duration_s < 1 || r.duration_s > BWE_CS_DURATION_MAX_S))
			return fail(d, "decision %zu: duration %lld s outside 1..%lld", idx,
				    (long long)r.duration_s, (long long)BWE_CS_DURATION_MAX_S);
		if (r.op == BWE_CS_DELETED && r.duration_s)
			return fail(d, "decision %zu: a deleted decision with a duration", idx);
		if (take_str(d, "decision", idx, &p, end, r.origin_len, BWE_WIRE_CS_TEXT_MAX,
			     STR_TEXT, &origin) ||
		    take_str(d, "decision", idx, &p, end, r.scenario_len, BWE_WIRE_CS_TEXT_MAX,
			     STR_TEXT, &scenario))
			return -EBADMSG;
		if (grow((void **)&res->decisions, &d->cap_decisions, res->n_decisions + 1,
			 sizeof(*o)))
			return -ENOMEM;
		o = &res->decisions[res->n_decisions++];
		o->op = (enum bwe_cs_op)r.op;
		o->scope = (enum bwe_cs_scope)r.scope;
		o->id = r.id;
		o->pfx = r.pfx;
		o->duration_s = r.duration_s;
		o->origin = arena_strndup(&res->arena, origin, r.origin_len - 1);
		o->scenario = arena_strndup(&res->arena, scenario, r.scenario_len - 1);
		if (!o->origin || !o->scenario)
			return -ENOMEM;
	}
	d->seen.decisions = res->n_decisions;
	return 0;
}

static int on_taxii(struct bwe_wire_dec *d, const char *p, const char *end)
{
	static const struct bwe_prefix zero;
	struct bwe_job_result *res = &d->res;

	while (p < end) {
		size_t idx = res->n_taxii + 1;
		struct bwe_wire_taxii r;
		struct bwe_taxii_val *o;
		const char *id, *name = NULL;

		if ((size_t)(end - p) < sizeof(r))
			return fail(d, "taxii value %zu: record cut (%zu of %zu bytes)", idx,
				    (size_t)(end - p), sizeof(r));
		memcpy(&r, p, sizeof(r));
		p += sizeof(r);
		if (r.pad)
			return fail(d, "taxii value %zu: padding not zero", idx);
		if (r.kind > BWE_TAXII_DOMAIN)
			return fail(d, "taxii value %zu: kind %u unknown", idx, r.kind);
		if (r.revoked > 1 || (r.revoked && r.kind != BWE_TAXII_NONE))
			return fail(d, "taxii value %zu: revoked %u with kind %u", idx, r.revoked,
				    r.kind);
		if (r.modified_ns > TAXII_NS_MAX)
			return fail(d, "taxii value %zu: %u ns", idx, r.modified_ns);
		if (r.valid_from < 0 || r.valid_until < 0)
			return fail(d, "taxii value %zu: negative validity", idx);
		if (r.kind == BWE_TAXII_PREFIX && check_prefix(d, idx, &r.pfx))
			return -EBADMSG;
		if (r.kind != BWE_TAXII_PREFIX && memcmp(&r.pfx, &zero, sizeof(zero)))
			return fail(d, "taxii value %zu: a prefix with kind %u", idx, r.kind);
		if ((r.kind == BWE_TAXII_DOMAIN) != (r.name_len != 0))
			return fail(d, "taxii value %zu: name length %u with kind %u", idx,
				    r.name_len, r.kind);
		if (take_str(d, "taxii value", idx, &p, end, r.id_len, BWE_WIRE_TAXII_ID_MAX,
			     STR_TEXT, &id) ||
		    (r.name_len && take_str(d, "taxii value", idx, &p, end, r.name_len,
					    BWE_WIRE_NAME_MAX, STR_NAME, &name)))
			return -EBADMSG;
		if (r.id_len < 2)
			return fail(d, "taxii value %zu: empty id", idx);
		if (grow((void **)&res->taxii, &d->cap_taxii, res->n_taxii + 1, sizeof(*o)))
			return -ENOMEM;
		o = &res->taxii[res->n_taxii++];
		memset(o, 0, sizeof(*o));
		o->modified.sec = r.modified;
		o->modified.nsec = r.modified_ns;
		o->valid_from = r.valid_from;
		o->valid_until = r.valid_until;
		o->revoked = r.revoked;
		o->kind = (enum bwe_taxii_kind)r.kind;
		o->pfx = r.pfx;
		o->id = arena_strndup(&res->arena, id, r.id_len - 1);
		if (!o->id)
			return -ENOMEM;
		if (name && !(o->domain = arena_strndup(&res->arena, name, r.name_len - 1)))
			return -ENOMEM;
	}
	d->seen.taxii = res->n_taxii;
	return 0;
}

static int on_names(struct bwe_wire_dec *d, const char *p, const char *end)
{
	while (p < end) {
		size_t idx = d->req.n_names + 1;
		struct bwe_wire_name r;
		const char *name;
		char *copy;

		if (idx > d->names_expect)
			return fail(d, "name %zu: more names than the %llu announced", idx,
				    (unsigned long long)d->names_expect);
		if ((size_t)(end - p) < sizeof(r))
			return fail(d, "name %zu: record cut", idx);
		memcpy(&r, p, sizeof(r));
		p += sizeof(r);
		if (take_str(d, "name", idx, &p, end, r.name_len, BWE_WIRE_NAME_MAX, STR_NAME,
			     &name))
			return -EBADMSG;
		if (grow((void **)&d->names, &d->cap_names, idx, sizeof(*d->names)))
			return -ENOMEM;
		copy = arena_strndup(&d->arena, name, r.name_len - 1);
		if (!copy)
			return -ENOMEM;
		d->names[d->req.n_names++] = copy;
	}
	d->req.names = d->names;
	d->seen.names = d->req.n_names;
	return 0;
}

/* Body bytes of either direction; limit: bytes the job may carry. */
static int on_body(struct bwe_wire_dec *d, const char *p, size_t n, __u64 limit)
{
	char **buf = d->dir == BWE_WIRE_TO_PARENT ? &d->res.body : &d->body;
	size_t *cap = d->dir == BWE_WIRE_TO_PARENT ? &d->cap_body : &d->body_cap;

	if (d->seen.body + n > limit)
		return fail(d, "body exceeds %llu bytes", (unsigned long long)limit);
	if (d->seen.body + n + 1 > *cap) {
		size_t c = *cap ? *cap : BWE_WIRE_CHUNK;
		char *nb;

		while (c < d->seen.body + n + 1)
			c *= 2;
		/* never more than the job may carry; grown with what arrived, so
		 * an announced length alone reserves nothing (fuzz_wire) */
		if (c > limit + 1)
			c = (size_t)limit + 1;
		nb = realloc(*buf, c);
		if (!nb)
			return -ENOMEM;
		*buf = nb;
		*cap = c;
	}
	memcpy(*buf + d->seen.body, p, n);
	d->seen.body += n;
	(*buf)[d->seen.body] = '\0';
	return 0;
}

static int on_end(struct bwe_wire_dec *d, const char *pl)
{
	struct bwe_wire_end e;
	struct bwe_job_result *res = &d->res;

	memcpy(&e, pl, sizeof(e));
#define CHECK_COUNT(field, what) \
	do { \
		if (e.field != d->seen.field) \
			return fail(d, "END says %llu %s, %llu received", \
				    (unsigned long long)e.field, what, \
				    (unsigned long long)d->seen.field); \
	} while (0)
	CHECK_COUNT(taxii, "taxii values");
	CHECK_COUNT(decisions, "decisions");
	CHECK_COUNT(inds, "indicators");
	CHECK_COUNT(domains, "domains");
	CHECK_COUNT(rejects, "rejects");
	CHECK_COUNT(answers, "answers");
	CHECK_COUNT(names, "names");
	CHECK_COUNT(body, "body bytes");
#undef CHECK_COUNT
	if (d->dir == BWE_WIRE_TO_CHILD) {
		if (d->seen.body != d->body_expect)
			return fail(d, "%s announced %llu body bytes, %llu received",
				    kind_name(d->kind), (unsigned long long)d->body_expect,
				    (unsigned long long)d->seen.body);
		if (d->seen.names != d->names_expect)
			return fail(d, "RESOLVE announced %llu names, %llu received",
				    (unsigned long long)d->names_expect,
				    (unsigned long long)d->seen.names);
		d->req.kind = d->kind;
		d->req.job = d->job;
		d->req.body = d->body ? d->body : "";
		d->req.body_len = d->seen.body;
		return 0;
	}
	if (res->not_modified && (e.inds || e.domains || e.body))
		return fail(d, "not-modified result carries data");
	if (res->n_inds + res->n_domains + res->n_decisions + res->n_taxii > res->stats.accepted)
		return fail(d,
			    "%zu indicators, %zu domains, %zu decisions and %zu taxii values "
			    "but %zu accepted",
			    res->n_inds, res->n_domains, res->n_decisions, res->n_taxii,
			    res->stats.accepted);
	if (res->n_rejects > res->stats.rejected)
		return fail(d, "%zu reject records but %zu rejected", res->n_rejects,
			    res->stats.rejected);
	res->body_len = d->seen.body;
	return 0;
}

static int on_frame(struct bwe_wire_dec *d)
{
	const struct frame_type *ft = frame_type_of(d->hdr.type);
	const char *pl = d->pl, *end = d->pl + d->hdr.len;
	bool parent = d->dir == BWE_WIRE_TO_PARENT;

	/* header checks were done in dec_feed; here: state and contents */
	if (ft->role == FIRST) {
		d->kind = parent ? d->exp_kind : ft->kind;
		d->fmt = parent ? d->exp_format : BWE_FMT_AUTO;
		if (parent)
			d->expecting = false;
		return parent ? on_result(d, pl) : on_first_child(d, pl);
	}
	if (ft->role == END) {
		int err = on_end(d, pl);

		if (!err)
			d->st = ST_DONE;
		return err;
	}
	if (!d->hdr.len)
		return fail(d, "empty %s frame", ft->name);
	if (ft->parse_result && d->kind == BWE_JOB_RESOLVE)
		return fail(d, "%s frame in a RESOLVE job", ft->name);
	if (ft->kind && ft->kind != d->kind)
		return fail(d, "%s frame in a %s job", ft->name, kind_name(d->kind));
	/* a crowdsec-lapi job answers with decisions, every other with indicators */
	if (parent && ft->parse_result && ft->type != BWE_WIRE_RES_REJECTS &&
	    (d->hdr.type == BWE_WIRE_RES_DECISIONS) != (d->fmt == BWE_FMT_CROWDSEC))
		return fail(d, "%s frame in a job %s crowdsec-lapi", ft->name,
			    d->fmt == BWE_FMT_CROWDSEC ? "of format" : "not of format");
	/* a taxii FETCH answers with taxii values only (a taxii PARSE reads a feed) */
	if (parent && ft->parse_result && ft->type != BWE_WIRE_RES_REJECTS &&
	    (d->hdr.type == BWE_WIRE_RES_TAXII) !=
		    (d->fmt == BWE_FMT_TAXII && d->kind == BWE_JOB_FETCH))
		return fail(d, "%s frame in a %s job %s taxii", ft->name, kind_name(d->kind),
			    d->fmt == BWE_FMT_TAXII ? "of format" : "not of format");
	if (d->hdr.type == BWE_WIRE_REQ_BODY && d->kind == BWE_JOB_RESOLVE)
		return fail(d, "BODY frame in a RESOLVE job");
	switch (d->hdr.type) {
	case BWE_WIRE_RES_INDS:
		return on_inds(d, pl, end);
	case BWE_WIRE_RES_DOMAINS:
		return on_domains(d, pl, end);
	case BWE_WIRE_RES_REJECTS:
		return on_rejects(d, pl, end);
	case BWE_WIRE_RES_ANSWERS:
		return on_answers(d, pl, end);
	case BWE_WIRE_RES_DECISIONS:
		return on_decisions(d, pl, end);
	case BWE_WIRE_RES_TAXII:
		return on_taxii(d, pl, end);
	case BWE_WIRE_REQ_NAMES:
		return on_names(d, pl, end);
	case BWE_WIRE_RES_BODY:
		return on_body(d, pl, d->hdr.len, d->limit);
	case BWE_WIRE_REQ_BODY:
		return on_body(d, pl, d->hdr.len, d->body_expect);
	}
	return fail(d, "type 0x%04x has no handler", d->hdr.type);
}

/* The header is complete: everything that can be judged before the payload. */
static int on_header(struct bwe_wire_dec *d)
{
	const struct bwe_wire_hdr *h = &d->hdr;
	const struct frame_type *ft;
	bool parent = d->dir == BWE_WIRE_TO_PARENT;

	if (h->magic != BWE_WIRE_MAGIC)
		return fail(d, "bad magic 0x%08x (expected 0x%08x)", h->magic, BWE_WIRE_MAGIC);
	ft = frame_type_of(h->type);
	if (!ft)
		return fail(d, "unknown frame type 0x%04x", h->type);
	if (ft->dir && ft->dir != d->dir)
		return fail(d, "%s frame in the wrong direction", ft->name);
	if (h->flags)
		return fail(d, "flags 0x%04x not zero", h->flags);
	if (h->len > BWE_WIRE_PAYLOAD_MAX)
		return fail(d, "payload length %u > %u", h->len, BWE_WIRE_PAYLOAD_MAX);
	if (ft->size && h->len != ft->size)
		return fail(d, "%s payload length %u, must be %zu", ft->name, h->len, ft->size);
	if (!h->job)
		return fail(d, "job id 0");
	if (ft->role == FIRST) {
		if (d->st == ST_JOB)
			return fail(d, "%s while job %u is still open", ft->name, d->job);
		if (parent && !d->expecting)
			return fail(d, "%s for job %u but no job is pending", ft->name, h->job);
		if (parent && h->job != d->exp_job)
			return fail(d, "%s for job %u, expected job %u", ft->name, h->job,
				    d->exp_job);
		d->st = ST_JOB;
		d->job = h->job;
		d->bytes = 0;
		d->limit = parent ? d->exp_limit : UINT64_MAX;
	} else {
		if (d->st != ST_JOB)
			return fail(d, "%s frame outside a job", ft->name);
		if (h->job != d->job)
			return fail(d, "%s frame for job %u inside job %u", ft->name, h->job,
				    d->job);
	}
	d->bytes += sizeof(*h) + h->len;
	if (d->bytes > d->limit)
		return fail(d, "job %u sent %llu bytes, more than its limit %llu", d->job,
			    (unsigned long long)d->bytes, (unsigned long long)d->limit);
	return 0;
}

int bwe_wire_dec_feed(struct bwe_wire_dec *d, const void *buf, size_t len, size_t *used)
{
	const char *p = buf;
	size_t off = 0;
	int err = 0;

	*used = 0;
	if (d->st == ST_DEAD)
		return -EBADMSG;
	if (d->st == ST_DONE) {
		reset_job(d);
		d->st = ST_IDLE;
	}
	while (off < len) {
		if (d->hdr_got < sizeof(d->hdr)) {
			size_t n = sizeof(d->hdr) - d->hdr_got;

			if (n > len - off)
				n = len - off;
			if (!d->hdr_got)
				d->frame++;
			memcpy((char *)&d->hdr + d->hdr_got, p + off, n);
			d->hdr_got += n;
			off += n;
			if (d->hdr_got < sizeof(d->hdr))
				break;
			err = on_header(d);
			if (err)
				break;
			d->pl_got = 0;
		}
		if (d->pl_got < d->hdr.len) {
			size_t n = d->hdr.len - d->pl_got;

			if (n > len - off)
				n = len - off;
			memcpy(d->pl + d->pl_got, p + off, n);
			d->pl_got += n;
			off += n;
			if (d->pl_got < d->hdr.len)
				break;
		}
		d->hdr_got = 0;
		err = on_frame(d);
		if (err || d->st == ST_DONE)
			break;
	}
	*used = off;
	if (err) {
		if (err != -EBADMSG) {
			snprintf(d->err, sizeof(d->err), "frame %llu: %s",
				 (unsigned long long)d->frame, strerror(-err));
			d->st = ST_DEAD;
		}
		return err;
	}
	return d->st == ST_DONE ? 1 : 0;
}

int bwe_wire_dec_take_result(struct bwe_wire_dec *d, struct bwe_job_result *out)
{
	if (d->dir != BWE_WIRE_TO_PARENT || d->st != ST_DONE)
		return -EINVAL;
	*out = d->res;
	memset(&d->res, 0, sizeof(d->res));
	reset_job(d);
	d->st = ST_IDLE;
	return 0;
}

const struct bwe_job_req *bwe_wire_dec_request(const struct bwe_wire_dec *d)
{
	return d->dir == BWE_WIRE_TO_CHILD && d->st == ST_DONE ? &d->req : NULL;
}
