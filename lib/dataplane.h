/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * dataplane.h - load the enforcer object and reach its maps (user space).
 *
 * The daemon, the tests and the benchmarks open the data plane through this
 * one door: bwe_dp_open() loads build/bwe.bpf.o through its skeleton, sizes
 * the maps, and (with a pin_dir) reuses or pins every map named in
 * bwe_abi.h, so a restarted daemon finds every entry and counter. Attaching
 * to interfaces is the daemon's business (ctl/bwctld/attach.c), not this
 * file's. Functions return 0 or -errno.
 *
 * Pinned maps carry the BWE_ABI_VERSION of the build that created them
 * (map bwe_abi); bwe_dp_open() refuses maps of another version with -EPROTO
 * and logs why and what to do, before it reuses any of them.
 *
 * The object carries the flowtable fast path (fast_forward: flowtable,
 * xdp/forward.bpf.h) only where the kernel has its kfunc when it is loaded
 * (bwe_dp.flowtable); where that path does not load, the object loads
 * without it, with a warning: enforcement never waits for the fast path.
 */
#ifndef BWE_DATAPLANE_H
#define BWE_DATAPLANE_H

#include <stdbool.h>
#include <stddef.h>
#include "bwe_abi.h"

/* The flowtable's kfunc (Linux 6.10) and the module whose BTF has it. */
#define BWE_FT_KFUNC  "bpf_xdp_flow_lookup"
#define BWE_FT_MODULE "nf_flow_table"

struct bwe_bpf;

struct bwe_dp_opts {
	const char *pin_dir; /* NULL: private maps, nothing pinned (tests) */
	__u32 bl_host_max;   /* ceiling of exact hosts, both tables (0: ABI default) */
	__u32 bl_net6_max;
	__u32 netclass_max;
	__u32 throttle_max;
	/* host records in all (maps.hosts; 0: BWE_HOSTS_MAX), and how many of
	 * them the caller would like as IPv4 host slots (256 per internal /24;
	 * 0: none). The slots take at most three quarters of the records,
	 * whole blocks; bwe_hosts the rest. Maps pinned by an earlier run keep
	 * their number of slots. */
	__u32 hosts_max;
	__u32 hslots;
	/* try the object with the flowtable path even where the kernel's BTF
	 * lacks the kfunc (tests: the fall-back load) */
	bool flowtable_try;
};

struct bwe_hslots;
struct bwe_dp_load;

struct bwe_dp {
	struct bwe_bpf *skel;
	struct bwe_bpf *tc; /* the TC egress program's load, NULL until asked (bwe_dp_tc_prog_fd()) */
	struct bwe_bpf *xdp; /* the XDP program's load, on skel's maps; NULL until bwe_dp_wait() */
	struct bwe_dp_load *load;    /* the XDP program's load in progress (bwe_dp_open_async()) */
	__u32 bl_host_max;	     /* ceiling of exact blocklist hosts, both families */
	struct bwe_tbl24_val *tbl24; /* mmap of bwe_bl_tbl24, BWE_TBL24_ENTRIES */
	__u64 *h24;		     /* mmap of bwe_bl_h24, BWE_BL_H24_WORDS */
	__u64 *h6;		     /* mmap of bwe_bl_h6, BWE_BL_H6_WORDS */
	__u64 *n6;		     /* mmap of bwe_bl_n6, BWE_BL_N6_WORDS */
	__u64 *bl4_key;		     /* mmap of bwe_bl4_key's word */
	size_t tbl24_len;	     /* bytes mapped */
	struct bwe_nc16_val *nc16;   /* mmap of bwe_nc16, BWE_NC16_ENTRIES */
	__u64 *nc6;		     /* mmap of bwe_nc6, BWE_NC6_WORDS */
	__u64 *nc4;		     /* mmap of bwe_nc4, BWE_NC4_WORDS */
	int ncpus;		     /* possible CPUs: per-CPU value count */
	bool reused;		     /* the pinned maps existed before this open */
	struct bwe_hslots *hsl;	     /* the IPv4 host slots' assignment (hslots.h) */
	__u32 tick_ns;		     /* the tick clock's scale (bwe_config), 0: unknown */
	bool flowtable;		     /* loaded with the flowtable fast path (BWE_FT_KFUNC) */
	bool flowtable_failed;	     /* the object with it did not load: loaded without */
	__u64 tick_off;
};

#define BWE_DP_MSG_MAX 512 /* bytes of a bwe_dp_abi_check() message */

int bwe_dp_open(struct bwe_dp **out, const struct bwe_dp_opts *opts);
/*
 * bwe_dp_open() in two halves: the maps, pinned and ready for writing, on
 * return; the XDP program (the kernel's verifier, most of an open's time)
 * loaded meanwhile by a thread of its own, which touches nothing of *out
 * but the program's own objects (made before it starts). bwe_dp_ready_fd() becomes readable when
 * the load has ended; bwe_dp_wait() waits for it and says how it went. Until
 * then the maps may be written, but nothing may ask for the program
 * (bwe_dp_prog_fd() answers -EAGAIN, bwe_dp_tc_prog_fd()); dp->flowtable
 * is what was asked for until the wait, and the load's answer after it
 * (only bwe_dp_wait() writes it, on the caller's thread).
 */
int bwe_dp_open_async(struct bwe_dp **out, const struct bwe_dp_opts *opts);
/* An eventfd readable once the XDP program's load has ended; -1 when none is in progress. */
int bwe_dp_ready_fd(const struct bwe_dp *dp);
/* Wait for the XDP program's load (at once when it is done): 0 or its -errno. */
int bwe_dp_wait(struct bwe_dp *dp);
/*
 * Whether the kernel has the flowtable's kfunc (BWE_FT_KFUNC,
 * xdp/forward.bpf.h) now: Linux 6.10 or later, with nf_flow_table built in
 * or loaded. Read from the kernel's BTF, where libbpf resolves it (about
 * 15 ms); bwe_dp_open() loads the flowtable path where it says so.
 */
bool bwe_dp_flowtable_kfunc(void);
/*
 * Whether the maps pinned under pin_dir (if any) are of this build's ABI:
 * 0 when they are or nothing is pinned; -EPROTO with a sentence naming both
 * versions and the remedy in msg when they are not; -errno otherwise.
 */
int bwe_dp_abi_check(const char *pin_dir, char *msg, size_t len);
void bwe_dp_close(struct bwe_dp *dp);
int bwe_dp_prog_fd(const struct bwe_dp *dp);
/*
 * The TC egress program (bwe_tc_egress): attached where an interface
 * translates. Loaded on the first call (a second copy of the object on this
 * load's maps), so a gateway that never asks does not wait for its
 * verifier; -errno when it cannot be loaded.
 */
int bwe_dp_tc_prog_fd(struct bwe_dp *dp);
/*
 * The kernel tick (TICK_NSEC of HZ 100, 250, 300 or 1000) within 2 % of
 * est_ns, a tick measured on the coarse clock; 0 when none is.
 */
__u32 bwe_dp_tick_snap(__u64 est_ns);
/* File descriptor of the map whose pin name is one of BWE_MAP_*; -ENOENT. */
int bwe_dp_map_fd(const struct bwe_dp *dp, const char *name);
/* Entries map fd can hold (its max_entries) in *out: 0 or -errno. */
int bwe_map_max_entries(int fd, size_t *out);
/*
 * The exact-host tables of the blocklist (bwe_abi.h): the current one of a
 * family sits in the one slot of bwe_bl_host4 / bwe_bl_host6. A table
 * outlives the daemon while its slot holds it (the outer map is pinned), so
 * a restart finds it there. bwe_dp_open() puts an empty table of the
 * smallest size (BWE_BL4_SLOTS_MIN, BWE_BL_HOST_MIN) in an empty slot.
 */
enum bwe_bl_fam { BWE_BL_V4, BWE_BL_V6, BWE_BL_FAMS };
/* Key size of a family's table: 4 (bwe_bl_key4) or 16 (struct bwe_addr). */
__u32 bwe_dp_bl_key_size(enum bwe_bl_fam fam);
/*
 * A new, empty table: IPv4, a dense table of size slots keyed by seed (0: a
 * random one; lib/bl4tab.h) with tag; IPv6, a hash of size max_entries
 * (seed and tag unused). Its fd, or -errno.
 */
int bwe_dp_bl_table_new(enum bwe_bl_fam fam, __u32 size, __u64 seed, __u32 tag);
/* A new fd of the family's current table (the caller closes it); -ENOENT: none. */
int bwe_dp_bl_table_get(const struct bwe_dp *dp, enum bwe_bl_fam fam);
/*
 * Make table fd the family's current one, in one update of the slot; for
 * IPv4, then store its word in bwe_bl4_key (0, and the programs read the
 * header, when fd is no table of this layout).
 */
int bwe_dp_bl_table_set(const struct bwe_dp *dp, enum bwe_bl_fam fam, int fd);

/* Remove every BWE_MAP_* pin under pin_dir (maps live on while in use). */
int bwe_dp_unpin(const char *pin_dir);

int bwe_dp_config_get(const struct bwe_dp *dp, struct bwe_config *cfg);
/* Write the runtime configuration; its nc_gen is ignored, the map's is kept. */
int bwe_dp_config_set(const struct bwe_dp *dp, const struct bwe_config *cfg);
/*
 * The two last steps of a change to the network classes (lib/netclass.c
 * takes them, after writing bwe_netclass): bwe_dp_nc16_write() makes
 * bwe_nc16 equal to t (BWE_NC16_ENTRIES slots), storing only the slots that
 * differ; bwe_dp_nc_gen_bump() then publishes a new class generation
 * (bwe_config.nc_gen, never 0), which makes every class cached in a host
 * record stale.
 */
void bwe_dp_nc16_write(const struct bwe_dp *dp, const struct bwe_nc16_val *t);
/*
 * A bitmap mapped from a map the programs read (bwe_nc6, bwe_nc4, bwe_bl_h24,
 * bwe_bl_h6, bwe_bl_n6) becomes t (words u64 words), or with keep the union of t and
 * what it holds (a superset throughout a change), one aligned store for
 * each word that differs.
 */
void bwe_dp_bits_write(__u64 *bits, const __u64 *t, size_t words, bool keep);
/* The bits set in such a bitmap of `words` words: its fill (a NULL bitmap has none). */
__u64 bwe_dp_bits_count(const __u64 *bits, size_t words);
int bwe_dp_nc_gen_bump(const struct bwe_dp *dp);
/* Replace the standard-port set (host-order ports). */
int bwe_dp_std_ports_set(const struct bwe_dp *dp, const __u16 *ports, size_t n);

/* Global counters summed over CPUs and directions, BWE_STATS_MAX slots. */
int bwe_dp_stats_read(const struct bwe_dp *dp, struct bwe_counter *out);
/* The same per direction (enum bwe_stat_dir): out[slot][dir], summed over CPUs. */
int bwe_dp_stats_read_dir(const struct bwe_dp *dp, struct bwe_counter (*out)[BWE_SD_MAX]);
/*
 * XDP fast-forward (bwe_abi.h, enum bwe_fwd_stat). The counters are entry
 * `stats` (< BWE_FWD_STATS_MAX) of bwe_fwd_stats, which the caller hands to
 * an interface in its bwe_iface_val.fwd_stats: bwe_dp_fwd_stats_zero()
 * zeroes one on every CPU (before it goes to another interface);
 * _read() sums its CPUs (-ENOENT: no such entry). bwe_fwd_stat_name(): the
 * counter's name in `bwctl status` and the metrics ("forwarded",
 * "no_neigh", ...; "?" out of range).
 */
int bwe_dp_fwd_stats_zero(const struct bwe_dp *dp, __u32 stats);
int bwe_dp_fwd_stats_read(const struct bwe_dp *dp, __u32 stats, struct bwe_fwd_stats *out);
/* Let the fast path redirect to ifindex (on), or no longer (0 when absent). */
int bwe_dp_fwd_dev_set(const struct bwe_dp *dp, __u32 ifindex, bool on);
/* Remove every bwe_fwd_dev entry whose ifindex is not in dev[] (what an
 * earlier run or a removed interface left); the others stay as they are. */
int bwe_dp_fwd_prune(const struct bwe_dp *dp, const __u32 *dev, size_t ndev);
const char *bwe_fwd_stat_name(unsigned int stat);

/*
 * Whether a host's record, merged over CPUs (last_seen_ns the latest of
 * any CPU, bpf_ktime_get_coarse_ns(): CLOCK_MONOTONIC at the tick), is
 * idle at now_ns (CLOCK_MONOTONIC) for idle_ns: no packet counted for
 * longer than that. idle_ns 0: never (the sweep is off). A record without
 * a last-seen time (zeroed under a packet that set the bit again) is idle.
 */
bool bwe_dp_host_idle(const struct bwe_host_stats *merged, __u64 now_ns, __u64 idle_ns);
/* What bwe_dp_hosts_forget() forgot: host slots, and bwe_hosts entries. */
struct bwe_dp_forgotten {
	size_t slots, hashed;
};
/*
 * Forget the n hosts of a, which the caller found idle (the daemon's
 * sweep, maps.host_idle): a host slot's sent bit is cleared and its record
 * zeroed on every CPU (bwe_hslots_forget()), a bwe_hosts entry deleted. A
 * host that sends again is a host again, from zero. Then, when any was
 * forgotten, the class generation moves (bwe_dp_nc_gen_bump()): a packet
 * racing the zeroing or the delete may have written half of a class it
 * cached into the record (or, for bwe_hosts, into an element the LRU
 * hands to another address), and that copy must not pass for current.
 * Hosts that are no longer there (evicted, forgotten already) are skipped.
 * *out: counts (added to). 0, or the first -errno (the rest still done).
 */
int bwe_dp_hosts_forget(const struct bwe_dp *dp, const struct bwe_addr *a, size_t n,
			struct bwe_dp_forgotten *out);
/* Whether slot's host has sent (bwe_hslot_sent): 1, 0, or -errno. */
int bwe_dp_hslot_sent(const struct bwe_dp *dp, __u32 slot);
/*
 * One host's accounting merged over CPUs, from its slot or bwe_hosts;
 * -ENOENT when not tracked (a slot's host that never sent is not).
 */
int bwe_dp_host_read(const struct bwe_dp *dp, const struct bwe_addr *host,
		     struct bwe_host_stats *out);
/* Merge one CPU's copy into acc: sums, min first_seen, max last_seen, max registers. */
void bwe_host_stats_merge(struct bwe_host_stats *acc, const struct bwe_host_stats *cpu);
/*
 * Merge one CPU's bwe_hslot_drop entry of a slot host into acc: outbound
 * blocklist drops, which the program counts there instead of the record
 * (bwe_abi.h), add to drop[BWE_HD_BLOCK] and bl_hits as they would have
 * in the record; their time to last_seen_ns.
 */
void bwe_hslot_drop_merge(struct bwe_host_stats *acc, const struct bwe_hslot_drop *cpu);
/*
 * A host's view *out from its ncpus per-CPU records (and a slot host's drop
 * entries, NULL: none), each merged as above; the fan-out epoch starts at
 * the first CPU's.
 */
void bwe_dp_host_merge(struct bwe_host_stats *out, const struct bwe_host_stats *percpu,
		       const struct bwe_hslot_drop *drops, int ncpus);

/* Token bucket for an internal host, bytes/s and bytes; starts full. */
int bwe_dp_throttle_set(const struct bwe_dp *dp, const struct bwe_addr *host, __u64 rate_bps,
			__u64 burst);
int bwe_dp_throttle_del(const struct bwe_dp *dp, const struct bwe_addr *host);

#endif /* BWE_DATAPLANE_H */
