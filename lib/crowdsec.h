/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * crowdsec.h - bwctld as a CrowdSec bouncer: the parser of the local API's
 * decision stream (GET /v1/decisions/stream, lib/feed_crowdsec.c; it runs
 * in the sandboxed feed worker) and the decision set the parent keeps
 * between polls (lib/csdecisions.c). Included by lib/wire.h, the feed
 * worker, ctl/bwctld/feeds.c, the tests and fuzz/fuzz_crowdsec.c.
 *
 * The stream (CrowdSec LAPI 1.4 and later) is one JSON object
 *   {"new": [DECISION...] | null, "deleted": [DECISION...] | null}
 * and a DECISION is
 *   {"id": 12, "origin": "cscli", "scenario": "crowdsecurity/ssh-bf",
 *    "scope": "Ip", "type": "ban", "value": "192.0.2.7",
 *    "duration": "3h59m58.123s"}
 * ("until", "uuid", "simulated" and other members are ignored). With
 * startup=true "new" holds every active decision (LAPI 1.4 lists one per
 * value: the longest) and the set is replaced; with startup=false both
 * arrays are the changes since the bouncer's previous pull.
 *
 * Contract of the parser (bwe_cs_parse):
 *  - Both "new" and "deleted" must be members of the top-level object (each
 *    null or an array): anything else - not JSON, HTML, another object such
 *    as {"message":"access forbidden"} - is -EBADMSG and no callback runs,
 *    so an error page never empties the set in a startup pull.
 *  - A decision of another type than "ban" or another scope than "Ip" or
 *    "Range" (case-insensitive; Country, AS, Username...) is skipped
 *    (stats.skipped), as is a new decision whose duration is not positive
 *    (expired on the way). A decision without a positive integer id, with a
 *    value that is not an address (Ip) or prefix (Range; host bits are
 *    cleared), an Ip value with a prefix length, a prefix broader than
 *    min_plen_v4/min_plen_v6 (feed.h's rules), or a duration that is not a
 *    Go duration or is longer than BWE_CS_DURATION_MAX_S is rejected
 *    (stats.rejected, on_reject with its position in its array as the line,
 *    1-based, and the value as the excerpt); parsing goes on.
 *  - More than BWE_CS_DECISIONS_MAX decision objects in a body: -E2BIG,
 *    nothing delivered. The body is parsed as one tree of at most
 *    BWE_CS_JSON_DEPTH levels (the stream is three deep); its size is
 *    bounded by the feed's max_bytes.
 *  - stats.lines counts the decision objects of both arrays; accepted the
 *    decisions on_decision took.
 *  - Strings handed to on_decision (origin, scenario) are printable ASCII
 *    ('?' for any other byte), at most BWE_CS_TEXT_MAX - 1 bytes, "" when
 *    absent; valid during the call.
 *
 * Contract of the decision set (struct bwe_cs_set, parent side):
 *  - One entry per decision id. An address is blocked while at least one
 *    decision holding it is live: two decisions on 192.0.2.7, one deleted,
 *    and it stays blocked (reference counting by decision).
 *  - bwe_cs_set_apply() takes one pull, all or nothing: with startup the
 *    set becomes exactly the pull's new decisions (deleted ones ignored),
 *    else new decisions are added (an id already held is replaced) and
 *    deleted ones removed (an unknown id is no change). The filters drop
 *    new decisions before they count. A result holding more than max
 *    decisions is -E2BIG and the set is unchanged. A decision expires at
 *    the pull's time plus its duration.
 *  - LAPI 1.4 reports a deletion only when a value has no decision left, and
 *    names only the decision it deleted last, which may not be the one the
 *    set holds: a deletion that leaves the set still holding the same
 *    prefix sets resync, and the caller pulls with startup=true next.
 *  - Times are unix seconds; nothing here reads the clock.
 */
#ifndef BWE_CROWDSEC_H
#define BWE_CROWDSEC_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "addr.h"
#include "feed.h"

#define BWE_CS_TEXT_MAX	      256		   /* bytes of origin / scenario incl. NUL */
#define BWE_CS_DECISIONS_MAX  (1u << 20)	   /* decision objects in one body */
#define BWE_CS_DURATION_MAX_S (10 * 366 * 86400LL) /* seconds: ten years */
#define BWE_CS_JSON_DEPTH     8			   /* nesting levels of a stream body */
#define BWE_CS_SET_MAX_DEF    100000		   /* decisions kept, default max_decisions */
#define BWE_CS_SET_MAX_MAX    (1u << 22)	   /* max_decisions at most */
#define BWE_CS_REFRESH_S      10		   /* default refresh of a crowdsec-lapi feed, s */
#define BWE_CS_STREAM_PATH    "v1/decisions/stream"
#define BWE_CS_KEY_HEADER     "X-Api-Key"

enum bwe_cs_op { BWE_CS_NEW = 1, BWE_CS_DELETED = 2 };
enum bwe_cs_scope { BWE_CS_SCOPE_IP = 1, BWE_CS_SCOPE_RANGE = 2 };

struct bwe_cs_decision {
	enum bwe_cs_op op;
	enum bwe_cs_scope scope;
	__s64 id;	       /* > 0, the LAPI's decision id */
	struct bwe_prefix pfx; /* host bits clear; Ip: a host (/32 or /128) */
	__s64 duration_s;      /* NEW: 1..BWE_CS_DURATION_MAX_S (rounded up);
				* DELETED: 0 */
	const char *origin;    /* "cscli", "crowdsec", "CAPI", "lists", ... */
	const char *scenario;  /* "crowdsecurity/ssh-bf", "manual 'ban' from ..." */
};

struct bwe_cs_parse_opts {
	int min_plen_v4, min_plen_v6; /* as bwe_feed_parse_opts; 0 = default */
	/* Required. Non-zero return stops parsing and is returned. */
	int (*on_decision)(const struct bwe_cs_decision *d, void *ctx);
	/* Optional. */
	void (*on_reject)(const struct bwe_feed_reject *rej, void *ctx);
	void *ctx;
};

/*
 * Parse one stream body buf[0..len) (not NUL-terminated). st may be NULL.
 * 0; -EBADMSG (not a decision stream); -E2BIG (too many decisions);
 * -EINVAL (bad arguments); -ENOMEM; or on_decision's value.
 */
int bwe_cs_parse(const char *buf, size_t len, const struct bwe_cs_parse_opts *o,
		 struct bwe_feed_stats *st);

/*
 * A Go duration ("3h59m58.123s", "-1.5s", "500ms", "0") in milliseconds,
 * truncated toward zero. -EINVAL: not one; -ERANGE: longer than
 * BWE_CS_DURATION_MAX_S either way.
 */
int bwe_cs_duration_parse(const char *s, size_t n, __s64 *ms);

/* "Ip" / "Range" (case-insensitive) to the scope; -EINVAL for another. */
int bwe_cs_scope_parse(const char *s, enum bwe_cs_scope *out);
const char *bwe_cs_scope_name(enum bwe_cs_scope s);

/* ---- the decision set (parent) --------------------------------------------- */

/* What a feed lets in: NULL/0 lists let everything in. */
struct bwe_cs_filter {
	char *const *scopes; /* "Ip", "Range": case-insensitive */
	size_t n_scopes;
	char *const *origins; /* exact */
	size_t n_origins;
	char *const *scenarios_containing; /* substring, case-insensitive: any */
	size_t n_scenarios_containing;
	char *const *scenarios_not_containing; /* substring: none */
	size_t n_scenarios_not_containing;
};

struct bwe_cs_entry {
	__s64 id;
	struct bwe_prefix pfx;
	enum bwe_cs_scope scope;
	__s64 expires; /* unix seconds */
	char *origin, *scenario;
};

struct bwe_cs_set {
	struct bwe_cs_entry *v; /* sorted by id, unique */
	size_t n, cap;
	size_t max; /* decisions at most; 0 = BWE_CS_SET_MAX_DEF */
};

struct bwe_cs_apply_stats {
	size_t added;	 /* ids not held before */
	size_t replaced; /* ids held before, new expiry or data */
	size_t removed;	 /* deleted ids that were held, or dropped by a startup pull */
	size_t filtered; /* new decisions the filter dropped */
	size_t expired;	 /* new decisions already past their end at now */
	bool resync;	 /* a deletion left its prefix held: pull with startup next */
};

/* True when the filter lets d in. */
bool bwe_cs_filter_match(const struct bwe_cs_filter *f, const struct bwe_cs_decision *d);
/*
 * Apply one pull of n decisions made at now (see the contract). 0,
 * -E2BIG (more than max), -ENOMEM; on error the set is unchanged.
 */
int bwe_cs_set_apply(struct bwe_cs_set *s, const struct bwe_cs_decision *d, size_t n, bool startup,
		     __s64 now, const struct bwe_cs_filter *f, struct bwe_cs_apply_stats *st);
/* Drop the decisions whose end is at or before now; how many went. */
size_t bwe_cs_set_expire(struct bwe_cs_set *s, __s64 now);
/* The earliest end of a decision held, 0 when empty. */
__s64 bwe_cs_set_next_expiry(const struct bwe_cs_set *s);
void bwe_cs_set_free(struct bwe_cs_set *s); /* empties it; NULL-safe */

/* One blocked prefix of the set: the decisions holding it. */
struct bwe_cs_view {
	struct bwe_prefix pfx;
	__s64 expires;			  /* the latest end among them */
	const struct bwe_cs_entry *first; /* the one ending last (then lowest id) */
	size_t count;			  /* decisions holding pfx */
};

/*
 * The prefixes of the live decisions (end after now), sorted by
 * bwe_prefix_cmp, unique. *out is the caller's to free(); its pointers
 * into s are valid until s changes. 0 or -ENOMEM.
 */
int bwe_cs_set_view(const struct bwe_cs_set *s, __s64 now, struct bwe_cs_view **out, size_t *n);

#endif /* BWE_CROWDSEC_H */
