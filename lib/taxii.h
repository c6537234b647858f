/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * taxii.h - bwctld as a TAXII 2.1 client: the parser of one page of a
 * collection's objects (GET {api-root}/collections/{id}/objects/, an
 * "envelope"; lib/feed_taxii.c, run in the sandboxed feed worker) and the
 * indicator set the parent keeps between polls (lib/taxiiset.c). Included
 * by lib/wire.h, the feed worker, ctl/bwctld/feeds.c, the tests and
 * fuzz/fuzz_taxii.c.
 *
 * An envelope (TAXII 2.1, section 3.7) is one JSON object
 *   {"more": true, "next": "opaque", "objects": [STIX OBJECT...]}
 * every member optional ({} is an empty page).
 *
 * Contract of the page parser (bwe_taxii_parse_page):
 *  - The body must be a JSON object, "more" absent, null or a boolean,
 *    "next" absent, null or a string of 1..BWE_TAXII_NEXT_MAX - 1 printable
 *    ASCII bytes, "objects" absent, null or an array: anything else (HTML,
 *    a TAXII error message {"title": ...}, wrong types) is -EBADMSG and no
 *    callback runs.
 *  - More than BWE_TAXII_PAGE_OBJECTS_MAX objects: -E2BIG, nothing delivered.
 *  - Objects that are not indicators are skipped (stats.skipped). An
 *    indicator needs an "id" of the form indicator--..., printable, shorter
 *    than BWE_TAXII_ID_MAX, and a "modified" RFC 3339 timestamp; else it is
 *    rejected (on_reject, its 1-based position in the page as the line).
 *  - An indicator with "revoked": true, or whose valid_until is at or
 *    before now, is delivered as one value of kind BWE_TAXII_NONE (a
 *    tombstone: the set drops what it held for the id). Any other
 *    indicator is handed, alone, to the STIX parser (bwe_feed_parse,
 *    BWE_FMT_STIX, the one STIX parser) and each of its values is
 *    delivered with the object's id, modified, valid_from and valid_until;
 *    an indicator valid only from a later time is read as of its
 *    valid_from. Values the STIX parser refuses are rejects (the good
 *    ones of the same pattern are still delivered: the new version); an
 *    indicator with rejects and no value delivers nothing (the version
 *    held stays); one it skips (another pattern_type, no address in it)
 *    is skipped and delivered as a tombstone (the id holds nothing now).
 *  - stats.lines counts the objects of the page; accepted the values
 *    on_obj took (tombstones included).
 *
 * Contract of the set (struct bwe_taxii_set, parent side):
 *  - One entry per STIX id with the version of the latest "modified" seen;
 *    an earlier or equal version of a held id changes nothing. A revoked
 *    version stays as a tombstone so that an older copy cannot come back.
 *  - bwe_taxii_set_apply() takes one poll (the values of all its pages, an
 *    object's values consecutive), all or nothing: -E2BIG when the result
 *    would hold more than max ids, -ENOMEM; the set is then unchanged.
 *  - bwe_taxii_set_view() lists the live values (not revoked, valid_from
 *    at or before now, valid_until after now or none).
 *  - Times are unix seconds; nothing here reads the clock.
 */
#ifndef BWE_TAXII_H
#define BWE_TAXII_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "addr.h"
#include "feed.h"

#define BWE_TAXII_MEDIA_TYPE	   "application/taxii+json;version=2.1"
#define BWE_TAXII_ID_MAX	   128	      /* bytes of a STIX id incl. NUL */
#define BWE_TAXII_NEXT_MAX	   512	      /* bytes of an envelope's "next" incl. NUL */
#define BWE_TAXII_CURSOR_MAX	   64	      /* bytes of an added_after timestamp incl. NUL */
#define BWE_TAXII_PAGE_OBJECTS_MAX 100000     /* objects in one page */
#define BWE_TAXII_PAGES_MAX	   1000	      /* pages of one poll */
#define BWE_TAXII_VALUES_MAX	   (1u << 21) /* values of one poll */
#define BWE_TAXII_SET_MAX_DEF	   100000     /* ids kept, default max_indicators */
#define BWE_TAXII_SET_MAX_MAX	   (1u << 22) /* max_indicators at most */
#define BWE_TAXII_JSON_DEPTH	   BWE_FEED_JSON_DEPTH
#define BWE_TAXII_DATE_HEADER	   "X-TAXII-Date-Added-Last"

enum bwe_taxii_kind {
	BWE_TAXII_NONE = 0, /* revoked or expired: the id holds nothing */
	BWE_TAXII_PREFIX = 1,
	BWE_TAXII_DOMAIN = 2,
};

struct bwe_taxii_time {
	__s64 sec;  /* unix seconds */
	__u32 nsec; /* 0..999999999 */
};

/* One value of one indicator object. */
struct bwe_taxii_val {
	const char *id;			/* "indicator--...", printable */
	struct bwe_taxii_time modified; /* the object's version */
	__s64 valid_from;		/* unix seconds, 0 none */
	__s64 valid_until;		/* unix seconds, 0 none */
	bool revoked;			/* "revoked": true (kind NONE) */
	enum bwe_taxii_kind kind;
	struct bwe_prefix pfx; /* PREFIX: host bits clear */
	const char *domain;    /* DOMAIN: lower case, RFC 1123 */
};

struct bwe_taxii_page {
	bool more;		       /* "more": true */
	char next[BWE_TAXII_NEXT_MAX]; /* "" when absent */
};

struct bwe_taxii_parse_opts {
	int min_plen_v4, min_plen_v6; /* as bwe_feed_parse_opts; 0 = default */
	__s64 now;		      /* unix seconds; 0 = time(NULL) */
	/* Required. Non-zero return stops parsing and is returned. */
	int (*on_val)(const struct bwe_taxii_val *v, void *ctx);
	/* Optional. */
	void (*on_reject)(const struct bwe_feed_reject *rej, void *ctx);
	void *ctx;
};

/*
 * Parse one envelope buf[0..len) (not NUL-terminated). page and st may be
 * NULL. 0; -EBADMSG (not an envelope); -E2BIG (too many objects); -EINVAL
 * (bad arguments); -ENOMEM; or on_val's value.
 */
int bwe_taxii_parse_page(const char *buf, size_t len, const struct bwe_taxii_parse_opts *o,
			 struct bwe_taxii_page *page, struct bwe_feed_stats *st);

/* RFC 3339 "2026-01-01T00:00:00.000Z" (offsets too). 0 or -EINVAL. */
int bwe_taxii_time_parse(const char *s, size_t n, struct bwe_taxii_time *out);
int bwe_taxii_time_cmp(const struct bwe_taxii_time *a, const struct bwe_taxii_time *b);

/*
 * The URL of a poll: source (the api-root with collection, else the
 * collection's objects URL; no query) + "collections/ID/objects/" +
 * "?match[type]=indicator" + "&added_after=T" when T is not empty (both
 * percent-encoded). 0, -EINVAL (no source, or one with a query), -ENAMETOOLONG.
 */
int bwe_taxii_objects_url(const char *source, const char *collection, const char *added_after,
			  char *out, size_t cap);
/* base + "&next=" (or "?next=") + next percent-encoded. 0 or -ENAMETOOLONG. */
int bwe_taxii_next_url(const char *base, const char *next, char *out, size_t cap);

/* ---- the indicator set (parent) ---------------------------------------------- */

struct bwe_taxii_ent {
	char *id;
	struct bwe_taxii_time modified;
	__s64 valid_from, valid_until; /* 0 none */
	bool revoked;
	struct bwe_prefix *pfx; /* the values: prefixes */
	size_t n_pfx;
	char **domains; /* and domain names */
	size_t n_domains;
};

struct bwe_taxii_set {
	struct bwe_taxii_ent *v; /* sorted by id, unique */
	size_t n, cap;
	size_t max; /* ids at most; 0 = BWE_TAXII_SET_MAX_DEF */
};

struct bwe_taxii_apply_stats {
	size_t added;	 /* ids not held before */
	size_t replaced; /* ids held, a later version */
	size_t revoked;	 /* of those: the later version is revoked or expired */
	size_t stale;	 /* versions not later than the one held: ignored */
};

int bwe_taxii_set_apply(struct bwe_taxii_set *s, const struct bwe_taxii_val *v, size_t n,
			struct bwe_taxii_apply_stats *st);
/* The entry of id, NULL when not held. */
const struct bwe_taxii_ent *bwe_taxii_set_find(const struct bwe_taxii_set *s, const char *id);
/* Ids whose values are live at now (tombstones and expired ones are not). */
size_t bwe_taxii_set_live(const struct bwe_taxii_set *s, __s64 now);
/* Drop entries expired at now (their tombstones are kept: nothing else needs them
 * but a re-sent older copy is then refused too). How many changed. */
size_t bwe_taxii_set_expire(struct bwe_taxii_set *s, __s64 now);
/* The earliest future valid_from or valid_until after now, 0 none. */
__s64 bwe_taxii_set_next_change(const struct bwe_taxii_set *s, __s64 now);
void bwe_taxii_set_free(struct bwe_taxii_set *s); /* empties it; NULL-safe */

/* True when e's values are enforced at now. */
bool bwe_taxii_ent_live(const struct bwe_taxii_ent *e, __s64 now);

#endif /* BWE_TAXII_H */
