/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * export.h - what is enforced now, with provenance, in formats other tools
 * read (layer 5: reads the stores, changes nothing): an EDL for firewalls
 * (plain), a Zeek intel file, a STIX 2.1 bundle, bwenforce's own JSON.
 *
 * An export is a cursor: export_next() appends the next records to a
 * buffer, whole records only, so the caller sends a large set (a million
 * feed entries) in chunks without ever holding all of it, and the loop
 * is free between two chunks. The cursor holds no pointer into a feed's
 * entries between calls: it remembers the last prefix written and finds
 * its place again (feed vectors are sorted by prefix), so a feed that is
 * swapped between two chunks is read on from the same place in its new
 * version - every prefix at most once, in order. Operator entries (manual
 * blocks, quarantines, throttles) are copied when the export starts.
 *
 * Sets:
 *   blocks      the blocklist that drops: manual blocks and the entries of
 *               drop feeds, merged by prefix, each with every source that
 *               lists it (monitor feeds are left out: they drop nothing);
 *   quarantine  quarantined and throttled hosts, actor and reason (STIX:
 *               only those a detection rule contained, with its evidence);
 *   feeds       every feed's entries (monitor feeds too), feed by feed.
 * Entries past their valid_until or expiry are left out.
 */
#ifndef BWCTLD_EXPORT_H
#define BWCTLD_EXPORT_H

#include <stddef.h>
#include <time.h>

#include "feedstore.h"
#include "proto.h"
#include "store.h"

#define EXPORT_ERR_LEN 256

/* A growing byte buffer the export appends to. */
struct export_buf {
	char *p;
	size_t len, cap;
};
void export_buf_free(struct export_buf *b);
/* Append n bytes: 0 or -ENOMEM. */
int export_buf_put(struct export_buf *b, const void *p, size_t n);

struct export_deps {
	const struct st_store *st;
	const struct fstore *store;
	const char *gateway; /* the gateway's name (STIX identity, Zeek source); NULL: hostname */
};

struct export;

/*
 * A new cursor over set in format; feed names one feed (set feeds only;
 * NULL: all). now is the wall clock the export is "as of". -EINVAL with
 * err for an unknown feed, -ENOMEM.
 */
int export_new(struct export **out, const struct export_deps *d, enum bwe_export_format fmt,
	       enum bwe_export_set set, const char *feed, time_t now, char *err, size_t errlen);
void export_free(struct export *x); /* NULL-safe */
/*
 * Append whole records (the header first, the trailer last) until b holds
 * at least target bytes or the export is complete. Returns 1 when there
 * is more to come, 0 when complete (b may hold the last bytes), -ENOMEM.
 * One record is at most a few KiB, so b stays under target + 16 KiB.
 */
int export_next(struct export *x, struct export_buf *b, size_t target);
/* Records written so far (an address with three sources is one). */
size_t export_entries(const struct export *x);

#endif /* BWCTLD_EXPORT_H */
