/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * enforce.h - make the maps match the configuration, the operator state
 * and the feeds (layer 2: the effects on the kernel).
 *
 * Everything the data plane enforces is derived here from the stores, so
 * a restart or a SIGHUP re-derives the same maps from the same inputs. The
 * enforcer reads the stores; it never changes them.
 */
#ifndef BWCTLD_ENFORCE_H
#define BWCTLD_ENFORCE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include <linux/types.h>

#include "addr.h"
#include "blocklist.h"
#include "config.h"
#include "dataplane.h"
#include "feedstore.h"
#include "store.h"

#define ENF_THROTTLE_HOST_BITS 12 /* a throttle prefix spans at most 2^12 hosts */

struct enforcer;

int enf_new(struct enforcer **out, struct bwe_dp *dp, const struct bwe_cfgfile *cfg,
	    const struct st_store *st, const struct fstore *fs);
void enf_free(struct enforcer *enf); /* NULL-safe */
/* After a reload: the configuration the next derivations use. */
void enf_set_config(struct enforcer *enf, const struct bwe_cfgfile *cfg);

/* Rebuild bwe_netclass (and bwe_nc16, derived from it in the same apply) from the
 * configuration, the state and the gateway's addresses. */
int enf_netclass(struct enforcer *enf);
/*
 * bwe_macs from the host records of the state store (each MAC address with
 * the flags of its quarantine and throttle), entries no record explains
 * removed, and BWE_CFG_MACS set while the map holds any.
 */
int enf_macs(struct enforcer *enf);
size_t enf_macs_count(const struct enforcer *enf);
/* Monitor-only flag, event dedup window, standard ports. */
int enf_config(struct enforcer *enf);
/* The maps of one state entry (throttle buckets, manual block refs). */
int enf_entry(struct enforcer *enf, const struct st_entry *e, bool present);
/* Everything, and drop throttle buckets no entry explains. */
int enf_all(struct enforcer *enf);
/* Class flags (BWE_NC_*) of an address as the program sees them now. */
__u32 enf_classes(const struct enforcer *enf, const struct bwe_addr *a);
size_t enf_netclass_count(const struct enforcer *enf);

/*
 * Every entry of v re-derived (v's feed is gone from the store: what no
 * other source holds leaves the maps), then flushed; the first error.
 */
int enf_bl_withdraw(struct enforcer *enf, const struct fs_vec *v);
/* Room in the mirror for the hosts a bwe_bl_room() counted. */
int enf_bl_reserve(struct enforcer *enf, const struct bwe_bl_room *room);
/* What enf_bl_install() did or why it did not. */
struct enf_bl_change {
	size_t added, removed;	 /* prefixes of the feed, new and gone */
	struct bwe_bl_room room; /* what the additions need and the room left */
	int rollback_err;	 /* 0, or why the maps could not be rolled back */
};

/*
 * Install nv (sorted, unique) as feed id's entries in store and make the
 * blocklist match, all or nothing. New entries get first_seen = now, kept
 * ones keep theirs. Order: room for the additions is checked (-ENOSPC, or
 * -ERANGE for an entry broader than the blocklist takes; the store and the
 * maps untouched), the store swapped, additions written and
 * flushed, then removals. When a map write fails mid-way the previous
 * entries are swapped back and every prefix touched is re-derived from
 * them (additions first, so that room exists for the removals' return):
 * the maps hold the previous version again and the error is returned.
 * On success *nv holds the previous entries (the caller frees them); on
 * failure it holds the refused ones. The feed store is changed only
 * through this one swap; it is the same store enf_new() was given.
 */
int enf_bl_install(struct enforcer *enf, struct fstore *store, __u8 id, struct fs_vec *nv,
		   time_t now, struct enf_bl_change *out);
/*
 * The same with the difference already known (fs_vec_merge): add and gone
 * are the prefixes new to feed id and gone from it, nv's first_seen set.
 */
int enf_bl_install_diff(struct enforcer *enf, struct fstore *store, __u8 id, struct fs_vec *nv,
			const struct bwe_prefix *add, size_t nadd, const struct bwe_prefix *gone,
			size_t ngone, struct enf_bl_change *out);
/* Remove kernel entries that no source explains (after a restart). */
int enf_bl_sweep(struct enforcer *enf);
/* The ref the program would find for a. */
__u8 enf_bl_kernel_ref(const struct enforcer *enf, const struct bwe_addr *a);
void enf_bl_counts(const struct enforcer *enf, size_t *hosts, size_t *v4pfx, size_t *v6pfx);
/*
 * A family's exact-host table (bwe_bl_host4/6): the hosts it holds, its
 * current max_entries, and the ceiling of exact hosts of both families
 * (maps.blocklist_hosts) the tables grow to.
 */
void enf_bl_table(const struct enforcer *enf, int v6, size_t *hosts, size_t *max, size_t *ceiling);

#endif /* BWCTLD_ENFORCE_H */
