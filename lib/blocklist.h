/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * blocklist.h - the user-space side of the blocklist maps.
 *
 * Callers state the effective blocklist one prefix at a time ("this prefix
 * now has ref R", R = 0 removes it); this file decides where it goes:
 *   IPv4 /8../24   painted into the DIR-24 table (bwe_bl_tbl24, written
 *                  through mmap), longest prefix winning per /24;
 *   IPv4 /25../31  expanded to hosts in bwe_bl_host (an explicit /32 keeps
 *                  its own ref; removing the prefix restores what is left);
 *   IPv4 /32, IPv6 /128   bwe_bl_host;
 *   IPv6 /16../127 bwe_bl_net6 (LPM trie).
 * "bwe_bl_host" is the family's exact-host table: IPv4 hosts in bwe_bl_host4's
 * current table (the dense table of lib/bl4tab.h, written through an mmap
 * of it under that file's contract), IPv6 hosts in bwe_bl_host6's (a hash
 * of 16-byte keys, written with the kernel's batch operations). Host
 * changes are queued and written in bwe_bl_flush(); table paints are
 * visible at once. To never open a gap, apply additions, flush, then
 * removals, flush (feeds do this).
 *
 * Table size: a flush that would overfill a family's table (or, IPv4, that
 * meets an address it cannot place within BWE_BL4_PROBE_MAX buckets)
 * builds a new one of bwe_bl_table_size() entries, copies the old table
 * into it, applies the queued changes there and swaps it in with one update
 * of the slot (bwe_dp_bl_table_set): the program sees the old contents or
 * the new ones, never a table without a listed host. The old table is freed
 * after. An IPv4 build that cannot place an address tries a new random
 * seed, then a table twice the size, a bounded number of times
 * (BWE_BL4_BUILD_TRIES), and fails with -E2BIG, logged, the old table left
 * in place, rather than drop an entry. The ceiling on hosts
 * (bwe_dp_opts.bl_host_max) is bwe_bl_room()'s. A flush after which a
 * table a quarter of the size would do (at most about a fifth used)
 * replaces the table by that smaller one the same way.
 *
 * Memory is proportional to use: the mirror (struct bwe_bl) is hash maps
 * sized to what they hold. Functions return 0 or -errno.
 */
#ifndef BWE_BLOCKLIST_H
#define BWE_BLOCKLIST_H

#include <stddef.h>
#include "addr.h"
#include "addrmap.h"
#include "bl4tab.h"
#include "dataplane.h"

#define BWE_BL_V4_MIN_PLEN  BWE_TBL24_MIN_PLEN /* IPv4 prefixes broader are refused */
#define BWE_BL_V6_MIN_PLEN  16		       /* IPv6 prefixes broader are refused */
#define BWE_BL_V4_LONG_MIN  25		       /* first IPv4 length expanded to hosts */
#define BWE_BL4_BUILD_SEEDS 3		       /* IPv4 builds: seeds tried per size */
#define BWE_BL4_BUILD_TRIES 9		       /* IPv4 builds: tries in all (seeds x 3 sizes) */

struct bwe_bl_pending {
	__u8 *keys; /* table keys (bwe_dp_bl_key_size() bytes each) */
	struct bwe_bl_val *vals;
	size_t n, cap;
};

/* One family's exact-host table. */
struct bwe_bl_table {
	int fd;		   /* the current table (bwe_dp_bl_table_get()) */
	size_t max;	   /* hosts it takes: IPv6 its max_entries, IPv4 bwe_bl4_limit() */
	size_t n;	   /* hosts of the family in the mirror */
	size_t builds;	   /* tables built and swapped in since init */
	size_t reseeds;	   /* IPv4: builds that retried with another seed or size */
	struct bwe_bl4 v4; /* IPv4: the dense table's state (mapped only while written) */
	struct bwe_bl_pending upd, del;
};

/*
 * The mirror of what the maps hold, by structure (a million IPv4 hosts,
 * 200,000 IPv6 ones and 50,000 IPv4 networks take about 30 MiB):
 *   hosts4  IPv4 host (network order) -> explicit ref | covering /25../31's ref << 8,
 *           8 bytes a slot;
 *   hosts6  IPv6 host -> explicit ref, 24 bytes a slot;
 *   net4    IPv4 /8../31 (bwe_amap4_pfx(network, len)) -> ref. Who owns a /24
 *           slot of the DIR-24 table is derived from it (the longest prefix
 *           of net4 covering the slot), not kept per slot;
 *   net6    IPv6 /16../127 -> ref, per length (the trie's mirror).
 */
struct bwe_bl {
	const struct bwe_dp *dp;
	int net6_fd;
	struct bwe_bl_table tab[BWE_BL_FAMS];
	struct bwe_amap4 hosts4;
	struct bwe_amap hosts6;
	struct bwe_amap4 net4;
	size_t net4_n[BWE_V4_BITS]; /* [L]: prefixes of net4 of length L */
	struct bwe_amap net6[129];  /* [L]: /L network -> ref (mirror of the trie) */
	size_t n_v4pfx, n_v6pfx;    /* prefixes held in table / trie */
	size_t host_max, net6_max;  /* ceiling of exact hosts; max_entries of bwe_bl_net6 */
	bool n6_stale;	 /* a prefix left the trie: bwe_bl_n6 is a superset until the flush */
	bool n6_full;	 /* bwe_bl_n6 all set: its prefixes touch more /32s than it has bits */
	bool n6_unswept; /* reused maps before bwe_bl_sweep(): bwe_bl_n6 only grows */
	__u64 n6_spans;	 /* /32s of prefixes shorter than /32 marked since it was made exact */
	__u64 bl4_seed;	 /* tests only: not 0, every new IPv4 table takes this seed */
};

/*
 * What a set of additions needs in the two maps that have a size (the DIR-24
 * table has a slot for every /24): new host keys (/32, /128 and every host
 * of a /25../31 that the host map does not hold yet) and new IPv6 prefixes
 * (/16../127), against the room left (max_entries minus what the mirror
 * holds). A host count above the room may be a lower bound: counting stops
 * there.
 */
struct bwe_bl_room {
	size_t hosts, hosts_free;
	size_t hosts4; /* of hosts, the IPv4 ones */
	size_t v6pfx, v6pfx_free;
};

int bwe_bl_init(struct bwe_bl *bl, const struct bwe_dp *dp);
void bwe_bl_free(struct bwe_bl *bl);
/* Set (ref != 0) or remove (ref == 0) one prefix. -ERANGE: broader than allowed. */
int bwe_bl_set(struct bwe_bl *bl, const struct bwe_prefix *p, __u8 ref);
/* A loop of bwe_bl_set() over many prefixes asks for p some iterations
 * ahead: an IPv4 host's mirror slot starts loading into the cache. */
void bwe_bl_prefetch(const struct bwe_bl *bl, const struct bwe_prefix *p);
#define BWE_BL_AHEAD 8 /* how far ahead such a loop asks (docs/benchmarks.md) */
/*
 * Whether add[0..n) fits beside what the maps hold: 0, or -ENOSPC with the
 * figures in *room (filled in both cases); -ERANGE for a prefix
 * bwe_bl_set() would refuse. Removals are not counted: they come after the
 * additions, so the additions must fit first.
 */
int bwe_bl_room(const struct bwe_bl *bl, const struct bwe_prefix *add, size_t n,
		struct bwe_bl_room *room);
/* Make room in the mirror for the hosts room counted (a million-entry load: one allocation). */
int bwe_bl_reserve(struct bwe_bl *bl, const struct bwe_bl_room *room);
/* Exact hosts the mirror holds, both families. */
size_t bwe_bl_hosts(const struct bwe_bl *bl);
/* Write queued host changes with batch operations (a new table if needed). */
int bwe_bl_flush(struct bwe_bl *bl);
/*
 * The hosts a table of family f built for hosts takes (its max): room for a
 * quarter more. IPv6: max_entries, a power of two (the kernel's bucket
 * count), at least BWE_BL_HOST_MIN. IPv4: bwe_bl4_limit() of a power of two
 * of slots, at least BWE_BL4_SLOTS_MIN (a table is at most 5/8 full).
 */
size_t bwe_bl_table_size(enum bwe_bl_fam f, size_t hosts);
/* Remove from the kernel maps everything this mirror does not hold (after a restart; nothing to do on freshly created maps). */
int bwe_bl_sweep(struct bwe_bl *bl);
/* The kernel's answer for one address, read from the maps as the program would. */
__u8 bwe_bl_kernel_ref(const struct bwe_bl *bl, const struct bwe_addr *a);

#endif /* BWE_BLOCKLIST_H */
