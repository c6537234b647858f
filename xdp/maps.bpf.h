/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * maps.bpf.h - every map of the enforcer, defined once (BPF only).
 *
 * Names match the BWE_MAP_* pin names of bwe_abi.h (every map but
 * bwe_scratch, bwe_fwd_plan, bwe_contacts and bwe_ev_full is in its
 * BWE_PINNED_MAPS list); sizes are the ABI defaults, which the daemon may
 * change with bpf_map__set_max_entries() before load. Operator state
 * (netclass, blocklist, throttle, config, ports) lives in maps traffic
 * cannot evict; only per-host accounting and event deduplication are LRU.
 */
#ifndef BWE_MAPS_BPF_H
#define BWE_MAPS_BPF_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "bwe_abi.h"

/* address -> what the operator says about it (closure of all covering prefixes) */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, BWE_NETCLASS_MAX);
	__type(key, struct bwe_lpm_key);
	__type(value, struct bwe_netclass);
} bwe_netclass SEC(".maps");

/* IPv4 /16 -> its class, and MIXED: ask bwe_nc4, then the record and the trie (bwe_abi.h, mmap) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, BWE_NC16_ENTRIES);
	__type(key, __u32);
	__type(value, struct bwe_nc16_val);
} bwe_nc16 SEC(".maps");

/* IPv6 /48s that some class prefix touches, hashed (bwe_abi.h, written by mmap) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, BWE_NC6_WORDS);
	__type(key, __u32);
	__type(value, __u64);
} bwe_nc6 SEC(".maps");

/* IPv4 /24s and addresses that some prefix longer than /16 touches, hashed (bwe_abi.h, mmap) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, BWE_NC4_WORDS);
	__type(key, __u32);
	__type(value, __u64);
} bwe_nc4 SEC(".maps");

/*
 * Exact blocklisted hosts: the one slot (BWE_BL_HOST_SLOT) of bwe_bl_host4 /
 * bwe_bl_host6 holds the family's current table. The daemon creates the
 * tables (lib/dataplane.c, sizes in bwe_abi.h); these definitions give their
 * shape, by size: clang emits the types of a definition nested in another
 * as forward declarations, which libbpf cannot size.
 */
struct bwe_bl_tab4 { /* the dense table: header, then 64-byte buckets */
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BWE_BL4_FLAGS);
	__uint(max_entries, 1 + BWE_BL4_SLOTS_MIN / BWE_BL4_WAYS);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct bwe_bl4_bucket));
};

struct bwe_bl_tab6 {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BWE_BL_HOST_FLAGS);
	__uint(max_entries, BWE_BL_HOST_MIN);
	__uint(key_size, sizeof(struct bwe_addr));
	__uint(value_size, sizeof(struct bwe_bl_val));
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct bwe_bl_tab4);
} bwe_bl_host4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct bwe_bl_tab6);
} bwe_bl_host6 SEC(".maps");

/* IPv4 /8../24 blocklist prefixes, one ref byte per /24 (DIR-24) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, BWE_TBL24_ENTRIES);
	__type(key, __u32);
	__type(value, struct bwe_tbl24_val);
} bwe_bl_tbl24 SEC(".maps");

/* one bit per /24 that may hold an exact host entry (bwe_abi.h) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, BWE_BL_H24_WORDS);
	__type(key, __u32);
	__type(value, __u64);
} bwe_bl_h24 SEC(".maps");

/* the current IPv4 exact-host table's seed, size and tag in one word (bwe_abi.h) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} bwe_bl4_key SEC(".maps");

/* a Bloom filter of the IPv6 exact hosts, one bit per hash (bwe_abi.h) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, BWE_BL_H6_WORDS);
	__type(key, __u32);
	__type(value, __u64);
} bwe_bl_h6 SEC(".maps");

/* the /32s some IPv6 blocklist prefix touches, one bit per hash (bwe_abi.h) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, BWE_BL_N6_WORDS);
	__type(key, __u32);
	__type(value, __u64);
} bwe_bl_n6 SEC(".maps");

/* IPv6 blocklist prefixes shorter than /128 */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, BWE_BL_NET6_MAX);
	__type(key, struct bwe_lpm_key);
	__type(value, struct bwe_bl_val);
} bwe_bl_net6 SEC(".maps");

/*
 * internal host -> token buckets. Not preallocated: only throttled hosts
 * have one (the daemon adds them), and only a host whose class says
 * throttled looks here, so the common packet never does; memory follows
 * the throttled hosts instead of maps.throttle's ceiling.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, BWE_THROTTLE_MAX);
	__type(key, struct bwe_addr);
	__type(value, struct bwe_throttle);
} bwe_throttle SEC(".maps");

/* IPv4 hosts of internal /24s with a block: slot -> per-CPU accounting
 * (bwe_abi.h, "per-host accounting"); sized by the daemon, a block each */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BWE_HSLOT_BLOCK);
	__type(key, __u32);
	__type(value, struct bwe_host_stats);
} bwe_hslots SEC(".maps");

/* (row of a /16, third octet) -> block + 1 of the /24, 0: none (written by mmap) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, BWE_HSLOT_BLOCK);
	__type(key, __u32);
	__type(value, struct bwe_hslot24_val);
} bwe_hslot24 SEC(".maps");

/* slot / 64 -> bit (slot % 64) set once the slot's host has sent, on any CPU;
 * cleared by the daemon's idle sweep, an atomic AND on its mmap */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BWE_HSLOT_SENT_FLAGS);
	__uint(max_entries, BWE_HSLOT_WORDS);
	__type(key, __u32);
	__type(value, __u64);
} bwe_hslot_sent SEC(".maps");

/* (CPU, slot) -> the slot host's outbound blocklist drops on that CPU
 * (bwe_abi.h); sized by the daemon to ncpus x the slots */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BWE_HSLOT_DROP_FLAGS);
	__uint(max_entries, BWE_HSLOT_BLOCK);
	__type(key, __u32);
	__type(value, struct bwe_hslot_drop);
} bwe_hslot_drop SEC(".maps");

/* every other internal host -> per-CPU accounting; the least recently seen goes first */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, BWE_HOSTS_MAX);
	__type(key, struct bwe_addr);
	__type(value, struct bwe_host_stats);
} bwe_hosts SEC(".maps");

/* (verdict reason or anomaly, direction) -> per-CPU packets/bytes; bwe_stat_index() */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BWE_STATS_ENTRIES);
	__type(key, __u32);
	__type(value, struct bwe_counter);
} bwe_stats SEC(".maps");

/* runtime switches, slot 0 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bwe_config);
} bwe_config SEC(".maps");

/* standard destination ports, a 65536-bit bitmap */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BWE_PORT_WORDS);
	__type(key, __u32);
	__type(value, __u64);
} bwe_std_ports SEC(".maps");

/* events to the daemon */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, BWE_EVENTS_BYTES);
} bwe_events SEC(".maps");

/* (type, host, peer) -> time the last event was emitted */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BWE_EVDEDUP_MAX);
	__type(key, struct bwe_dedup_key);
	__type(value, __u64);
} bwe_ev_dedup SEC(".maps");

/* BWE_ABI_VERSION of the build that created these maps (slot 0), never read here */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_RDONLY_PROG);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bwe_abi_stamp);
} bwe_abi SEC(".maps");

/* quarantined/throttled host identity: source MAC -> flags (BWE_CFG_MACS) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BWE_MACS_MAX);
	__type(key, struct bwe_mac_key);
	__type(value, struct bwe_mac_val);
} bwe_macs SEC(".maps");

/* attached ifindex -> what the kernel translates on it (BWE_CFG_NAT4/6) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BWE_IFACES_MAX);
	__type(key, __u32);
	__type(value, struct bwe_iface_val);
} bwe_ifaces SEC(".maps");

/* egress ifindex -> ifindex: where fast-forwarded frames may be redirected
 * (daemon). Pinned and reused by lib/dataplane.c itself, not by libbpf: the
 * kernel adds BPF_F_RDONLY_PROG to a devmap, which it refuses at creation,
 * so libbpf's check of a pin against this definition always fails. */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, BWE_IFACES_MAX);
	__type(key, __u32);
	__type(value, __u32);
} bwe_fwd_dev SEC(".maps");

/* bwe_iface_val.fwd_stats -> per-CPU fast-forward counters of the interface
 * the daemon gave that entry (bwe_abi.h) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BWE_FWD_STATS_MAX);
	__type(key, __u32);
	__type(value, struct bwe_fwd_stats);
} bwe_fwd_stats SEC(".maps");
/* UDP flows of the contact sample -> first packet (BWE_EV_CONTACT), private */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BWE_CONTACTS_MAX);
	__type(key, struct bwe_contact_key);
	__type(value, __u64);
} bwe_contacts SEC(".maps");

/*
 * What the fast path's first half found for a frame it can forward, for the
 * second (xdp/forward.bpf.h, plan_frame() and commit_frame()): the FIB's
 * answer and the packet's addresses and ports as it will leave. The map
 * holds it between fwd_plan() and fwd_commit() while a reply is judged
 * (private, per CPU: off the 512-byte stack).
 */
struct bwe_fwd_plan {
	struct bpf_fib_lookup fib; /* egress ifindex, smac, dmac */
	struct bwe_addr src, dst;  /* as it leaves (translated), network order */
	__be16 sport, dport;	   /* as it leaves; TCP or UDP with nat only */
	__u64 len;		   /* frame bytes */
	__u8 v6;		   /* IPv6, else IPv4 */
	__u8 nat;		   /* the flowtable translates addresses or ports */
	__u16 stats;		   /* the ingress's entry of bwe_fwd_stats */
	__u8 pad[4];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bwe_fwd_plan);
} bwe_fwd_plan SEC(".maps");

/* zeroed template for a new host, kept off the 512-byte stack */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bwe_host_stats);
} bwe_scratch SEC(".maps");

/* the tick (tick_now()) at which this CPU last found bwe_events full: ring_room() */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} bwe_ev_full SEC(".maps");

#endif /* BWE_MAPS_BPF_H */
