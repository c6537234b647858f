/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * feedstore.h - what each threat-intel feed lists, with provenance
 * (layer 1: a store without side effects).
 *
 * A feed's entries are a vector sorted by prefix, unique (the first source
 * line wins). The store answers the two questions the rest of the daemon
 * asks: which feeds list an address and where (a typed match, never text),
 * and what blocklist ref a prefix gets from every source together. It does
 * not fetch, parse, log or write maps: feeds.c does.
 */
#ifndef BWCTLD_FEEDSTORE_H
#define BWCTLD_FEEDSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <linux/types.h>

#include "addr.h"

#define FS_NO_IND    UINT32_MAX	 /* an entry without an indicator id / domain */
#define FS_SEEN_XTRA 0xf0000000u /* fs_ent.seen from here: its fs_xtra's index + this */
#define FS_MATCH_MAX 64		 /* matches fstore_match() reports at most */

/*
 * One entry as stored: 28 bytes, a million of them per big feed, so the
 * fields most entries lack live apart. An entry of a plain list has a
 * prefix, a line and the time it was first listed; only an entry with an
 * indicator id or domain, an end of validity, or a first_seen outside
 * 0..FS_SEEN_XTRA - 1 (1970 to 2097-08-05) has a struct fs_xtra in its
 * vector, and then that holds all three; its seen field says where.
 * Nothing is rounded: read them with fs_ent_first_seen(),
 * fs_ent_valid_until() and fs_vec_ind(); write them with fs_vec_add() and
 * fs_ent_set_first_seen().
 */
struct fs_ent {
	struct bwe_prefix pfx; /* host bits clear */
	__u32 line;	       /* source line, 0 unknown */
	__u32 seen;	       /* below FS_SEEN_XTRA: first_seen, unix seconds; from it:
				* FS_SEEN_XTRA + the index of its struct fs_xtra in the vector's x */
};
_Static_assert(sizeof(struct fs_ent) == 28, "fs_ent is 28 bytes");

/* Whether e's fields are in a struct fs_xtra. */
static inline bool fs_ent_has_xtra(const struct fs_ent *e)
{
	return e->seen >= FS_SEEN_XTRA;
}

/* The rare fields of an entry, full width (64-bit times: past 2106). */
struct fs_xtra {
	__s64 first_seen;  /* unix seconds this feed first listed it */
	__s64 valid_until; /* unix seconds, 0 = none */
	__u32 ind;	   /* offset of the indicator id or domain in str, FS_NO_IND */
	__u32 pad;
};

/* An entry at full width: what fs_vec_add() takes. */
struct fs_rec {
	struct bwe_prefix pfx; /* host bits clear */
	__u32 line;	       /* source line, 0 unknown */
	const char *ind;       /* indicator id or domain (copied), NULL none */
	time_t first_seen;     /* unix seconds this feed first listed it, 0 unknown */
	time_t valid_until;    /* unix seconds, 0 = none */
};

struct fs_vec {
	struct fs_ent *v;
	size_t n, cap;
	struct fs_xtra *x; /* the rare fields of the entries that have them */
	size_t xn, xcap;
	char *str; /* string table of indicator ids and domains */
	size_t slen, scap;
};

/* Append r. -ENOMEM leaves v as it was. */
int fs_vec_add(struct fs_vec *v, const struct fs_rec *r);
/* Append entry e of vector src (its rare fields copied). */
int fs_vec_copy(struct fs_vec *v, const struct fs_vec *src, const struct fs_ent *e);
/* The indicator of e, NULL for none. */
const char *fs_vec_ind(const struct fs_vec *v, const struct fs_ent *e);
time_t fs_ent_first_seen(const struct fs_vec *v, const struct fs_ent *e);
time_t fs_ent_valid_until(const struct fs_vec *v, const struct fs_ent *e);
/* Set the first_seen of e, an entry of v or one about to be added to it
 * (fs_vec_copy of an entry of v). -ENOMEM leaves e as it was. */
int fs_ent_set_first_seen(struct fs_vec *v, struct fs_ent *e, time_t t);
void fs_vec_free(struct fs_vec *v);
/* Sort by prefix and drop repeats, keeping the lowest line; -ENOMEM leaves v as it was. */
int fs_vec_sort_unique(struct fs_vec *v);
const struct fs_ent *fs_vec_find(const struct fs_vec *v, const struct bwe_prefix *p);
/* Index of the first entry not before p (v->n when every entry is). */
size_t fs_vec_lower_bound(const struct fs_vec *v, const struct bwe_prefix *p);

/*
 * The next version from the current one and a partial re-parse (a feed
 * whose changed lines alone were parsed again, linediff.h): cur's entries
 * whose line old_to_new maps (old_to_new[line - 1], 0 for a line gone or
 * parsed again; n_old lines) with their lines renumbered, merged with rd
 * (sorted, unique, lines already in the new numbering). One pass, no sort.
 * first_seen: an entry whose prefix cur held keeps it, a new one gets now.
 * *add and *gone list the prefixes new to the feed and gone from it
 * (malloc'ed). -EEXIST: an entry of rd has the prefix of a kept entry, or
 * cur holds an entry of line 0 or past n_old: the version has a prefix on
 * two lines (or lines not known), which only a whole parse orders right.
 */
int fs_vec_merge(const struct fs_vec *cur, const __u32 *old_to_new, size_t n_old,
		 const struct fs_vec *rd, time_t now, struct fs_vec *out, struct bwe_prefix **add,
		 size_t *nadd, struct bwe_prefix **gone, size_t *ngone);

/* How many addresses a vector's entries cover, overlaps counted once. */
struct fs_coverage {
	unsigned __int128 v4; /* IPv4 addresses (entries in ::ffff:0:0/96) */
	unsigned __int128 v6; /* IPv6 addresses (the others) */
};
/* v sorted (fs_vec_sort_unique). */
void fs_vec_coverage(const struct fs_vec *v, struct fs_coverage *out);
/* The addresses p covers, added to c (an upper bound of a union's coverage). */
void fs_coverage_add(struct fs_coverage *c, const struct bwe_prefix *p);

/* One feed entry that contains an address: the provenance. */
struct fs_match {
	__u8 feed_id;
	const char *feed;   /* name; valid until the store changes */
	const char *source; /* path or URL */
	bool monitor;
	struct bwe_prefix pfx;
	__u32 line;
	const char *indicator;		/* NULL: none */
	time_t first_seen, valid_until; /* 0: unknown / none */
};

struct fstore;

struct fstore *fstore_new(void);
void fstore_free(struct fstore *fs); /* NULL-safe */

/* Register feed id (BWE_FEED_FIRST..BWE_FEED_MAX) or update its name,
 * source and action; its entries stay. Strings are copied. */
int fstore_define(struct fstore *fs, __u8 id, const char *name, const char *source, bool monitor);
/* Forget feed id; its entries move to *old (caller frees with fs_vec_free). */
void fstore_drop(struct fstore *fs, __u8 id, struct fs_vec *old);
/* Swap feed id's entries with *v (sorted, unique); *v then holds the old ones. */
void fstore_swap(struct fstore *fs, __u8 id, struct fs_vec *v);
/* Feed id's entries; NULL for an unknown id. */
const struct fs_vec *fstore_entries(const struct fstore *fs, __u8 id);

/* Feed id's name, source and action (strings valid until the store
 * changes); false for an id no feed has. Any pointer may be NULL. */
bool fstore_feed_info(const struct fstore *fs, __u8 id, const char **name, const char **source,
		      bool *monitor);
/* "manual" for BWE_FEED_MANUAL, the feed's name, "unknown", or NULL for no feed. */
const char *fstore_ref_name(const struct fstore *fs, __u8 ref);
/*
 * The blocklist ref of p from every source: manual_drop (a manual block
 * holds p), the feeds that list p; self_id names a feed known to list p and
 * absent_id one known not to (0: none), so that their vectors are not
 * searched (a binary search of a million entries is a microsecond of cache
 * misses: the removals of a delta name the feed they left). A drop source
 * beats a monitor source; among equals the lowest id names it.
 */
__u8 fstore_effective_ref(const struct fstore *fs, const struct bwe_prefix *p, bool manual_drop,
			  __u8 self_id, __u8 absent_id);
/* Every feed entry containing a, longest first per feed, feeds by id;
 * returns how many were written to out (at most max). */
size_t fstore_match(const struct fstore *fs, const struct bwe_addr *a, struct fs_match *out,
		    size_t max);
/* Count a blocklist hit for the feed of ref. */
void fstore_hit(struct fstore *fs, __u8 ref);
__u64 fstore_hits(const struct fstore *fs, __u8 id);

#endif /* BWCTLD_FEEDSTORE_H */
