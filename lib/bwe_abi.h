/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * bwe_abi.h - the one ABI shared by the XDP program (xdp/), the daemon and
 * the command (ctl/), lib/ and the tests.
 *
 * Contract: every key, value, constant, flag and pinned-map name that crosses
 * the kernel/user boundary is defined here and nowhere else. Only fixed-width
 * <linux/types.h> types, explicit padding, byte order stated per field, and a
 * static size assertion on every struct. Safe to include from BPF C (clang
 * -target bpf) and from user space (gnu11); it pulls in nothing else.
 *
 * Addresses: IPv4 and IPv6 share one representation, a 16-byte IPv6 address
 * in network byte order, IPv4 as IPv4-mapped (::ffff:a.b.c.d). One key shape
 * therefore serves both families in every map, and an IPv4 prefix /n is an
 * LPM prefix of length 96 + n.
 */
#ifndef BWE_ABI_H
#define BWE_ABI_H

#include <linux/types.h>
#include <linux/bpf.h> /* struct bpf_spin_lock */

/*
 * The version of everything below. Bump it on any change a running program
 * and a newer daemon (or the reverse) would disagree on: a key, value, flag,
 * reason number or map meaning. lib/dataplane.c stamps it into the map
 * BWE_MAP_ABI when it creates the maps, and refuses pinned maps that carry
 * another one (-EPROTO).
 */
#define BWE_ABI_VERSION		  22
/* Pins made before the stamp existed carry none; they were of this version. */
#define BWE_ABI_VERSION_UNSTAMPED 1

/* ---- pinned map names (file names under the daemon's pin_dir) ---------- */
#define BWE_MAP_NETCLASS   "bwe_netclass"
#define BWE_MAP_NC16	   "bwe_nc16"
#define BWE_MAP_NC6	   "bwe_nc6"
#define BWE_MAP_NC4	   "bwe_nc4"
#define BWE_MAP_BL_HOST4   "bwe_bl_host4"
#define BWE_MAP_BL_HOST6   "bwe_bl_host6"
#define BWE_MAP_BL_TBL24   "bwe_bl_tbl24"
#define BWE_MAP_BL_H24	   "bwe_bl_h24"
#define BWE_MAP_BL_H6	   "bwe_bl_h6"
#define BWE_MAP_BL4_KEY	   "bwe_bl4_key"
#define BWE_MAP_BL_NET6	   "bwe_bl_net6"
#define BWE_MAP_BL_N6	   "bwe_bl_n6"
#define BWE_MAP_THROTTLE   "bwe_throttle"
#define BWE_MAP_HOSTS	   "bwe_hosts"
#define BWE_MAP_HSLOTS	   "bwe_hslots"
#define BWE_MAP_HSLOT24	   "bwe_hslot24"
#define BWE_MAP_HSLOT_SENT "bwe_hslot_sent"
#define BWE_MAP_HSLOT_DROP "bwe_hslot_drop"
#define BWE_MAP_STATS	   "bwe_stats"
#define BWE_MAP_CONFIG	   "bwe_config"
#define BWE_MAP_PORTS	   "bwe_std_ports"
#define BWE_MAP_EVENTS	   "bwe_events"
#define BWE_MAP_EVDEDUP	   "bwe_ev_dedup"
#define BWE_MAP_ABI	   "bwe_abi"
#define BWE_MAP_MACS	   "bwe_macs"
#define BWE_MAP_IFACES	   "bwe_ifaces"
#define BWE_MAP_FWD_DEV	   "bwe_fwd_dev"
#define BWE_MAP_FWD_STATS  "bwe_fwd_stats"

/*
 * Every pinned map, listed once: X(field, pin) with field the map's name in
 * xdp/maps.bpf.h (skel->maps.field) and pin its BWE_MAP_* file name.
 * Pinning, unpinning and finding a map by name loop over this list; a map
 * missing from it is private to one load (bwe_scratch).
 */
#define BWE_PINNED_MAPS(X) \
	X(bwe_netclass, BWE_MAP_NETCLASS) \
	X(bwe_nc16, BWE_MAP_NC16) \
	X(bwe_nc6, BWE_MAP_NC6) \
	X(bwe_nc4, BWE_MAP_NC4) \
	X(bwe_bl_host4, BWE_MAP_BL_HOST4) \
	X(bwe_bl_host6, BWE_MAP_BL_HOST6) \
	X(bwe_bl_tbl24, BWE_MAP_BL_TBL24) \
	X(bwe_bl_h24, BWE_MAP_BL_H24) \
	X(bwe_bl_h6, BWE_MAP_BL_H6) \
	X(bwe_bl4_key, BWE_MAP_BL4_KEY) \
	X(bwe_bl_net6, BWE_MAP_BL_NET6) \
	X(bwe_bl_n6, BWE_MAP_BL_N6) \
	X(bwe_throttle, BWE_MAP_THROTTLE) \
	X(bwe_hosts, BWE_MAP_HOSTS) \
	X(bwe_hslots, BWE_MAP_HSLOTS) \
	X(bwe_hslot24, BWE_MAP_HSLOT24) \
	X(bwe_hslot_sent, BWE_MAP_HSLOT_SENT) \
	X(bwe_hslot_drop, BWE_MAP_HSLOT_DROP) \
	X(bwe_stats, BWE_MAP_STATS) \
	X(bwe_config, BWE_MAP_CONFIG) \
	X(bwe_std_ports, BWE_MAP_PORTS) \
	X(bwe_events, BWE_MAP_EVENTS) \
	X(bwe_ev_dedup, BWE_MAP_EVDEDUP) \
	X(bwe_abi, BWE_MAP_ABI) \
	X(bwe_macs, BWE_MAP_MACS) \
	X(bwe_ifaces, BWE_MAP_IFACES) \
	X(bwe_fwd_dev, BWE_MAP_FWD_DEV) \
	X(bwe_fwd_stats, BWE_MAP_FWD_STATS)

/* ---- default map sizes (overridable by the daemon before load) --------- */
#define BWE_NETCLASS_MAX  16384	       /* internal/exempt/allow/quarantine/throttle prefixes */
#define BWE_BL_HOST_MAX	  1310720      /* ceiling of exact blocklist hosts, v4 + v6 */
#define BWE_BL_NET6_MAX	  262144       /* IPv6 blocklist prefixes shorter than /128 */
#define BWE_THROTTLE_MAX  65536	       /* throttled internal hosts */
#define BWE_HOSTS_MAX	  65536	       /* tracked internal hosts: slots + LRU (maps.hosts) */
#define BWE_EVDEDUP_MAX	  65536	       /* event deduplication slots (LRU) */
#define BWE_EVENTS_BYTES  (256 * 1024) /* ring buffer size, power of two */
#define BWE_MACS_MAX	  4096	       /* quarantined/throttled host identities (MACs) */
#define BWE_IFACES_MAX	  4096	       /* attached interfaces (BWE_CFG_IFACES_MAX) */
#define BWE_FWD_STATS_MAX 64	       /* interfaces with fast_forward on (bwe_fwd_stats) */

/* ---- addresses ---------------------------------------------------------- */
struct bwe_addr {
	union {
		__u8 a[16];  /* IPv6 or IPv4-mapped IPv6, network byte order */
		__be32 w[4]; /* the same, as words (w[3] = IPv4 address) */
	};
};
_Static_assert(sizeof(struct bwe_addr) == 16, "bwe_addr size");

/* Key of every LPM trie (netclass, bl_net6). */
struct bwe_lpm_key {
	__u32 prefixlen;      /* host byte order, 0..128 (IPv4: 96 + n) */
	struct bwe_addr addr; /* network byte order, bits past prefixlen zero */
};
_Static_assert(sizeof(struct bwe_lpm_key) == 20, "bwe_lpm_key size");

/* ---- network classes (map bwe_netclass, LPM trie) ----------------------- */
/*
 * One longest-prefix-match lookup per address answers every operator
 * question about it. The daemon stores, for every prefix it inserts, the
 * union of the flags of all configured prefixes that contain it, so the
 * longest match alone is complete (lib/netclass.c computes that closure).
 */
enum bwe_netclass_flag {
	BWE_NC_INTERNAL = 1 << 0, /* inside: our hosts */
	BWE_NC_EXEMPT =
		1 << 1, /* mgmt/EDR, DNS, DHCP: reachable in quarantine, never blocked/throttled */
	BWE_NC_ALLOW = 1 << 2,	    /* never blocked, never quarantined, never throttled */
	BWE_NC_QUARANTINE = 1 << 3, /* internal host isolated except for exempt peers */
	BWE_NC_THROTTLE = 1 << 4,   /* internal host has a token bucket in bwe_throttle */
};

struct bwe_netclass {
	__u32 flags; /* enum bwe_netclass_flag, host byte order */
	__u32 pad;
};
_Static_assert(sizeof(struct bwe_netclass) == 8, "bwe_netclass size");

/*
 * The IPv4 classes without a trie walk (map bwe_nc16, mmapable ARRAY
 * indexed by the /16, bwe_nc16_index()): for each /16 the class of the
 * longest prefix of at most /16 that covers it, with BWE_NC16_MIXED beside
 * it when some longer prefix inside the /16 has other flags. The daemon
 * derives it from the same closed set it writes to bwe_netclass, in the
 * same transaction (lib/netclass.c), so it is never a second source of
 * truth. In a MIXED /16 an address whose two bwe_nc4 bits are clear (ABI
 * 20: in no longer prefix) still takes the /16's class; one with a bit set
 * asks the host's own record (its cached class, valid while
 * bwe_config.nc_gen has not moved) where some of the /16 is internal
 * (BWE_NC16_HOSTS: only internal hosts have records), then the trie.
 */
#define BWE_NC16_ENTRIES (1u << 16)
#define BWE_NC16_MIXED	 (1u << 31) /* ask bwe_nc4, the host record's cache, then bwe_netclass */
#define BWE_NC16_HOSTS	 (1u << 30) /* with MIXED: some address inside is internal */

struct bwe_nc16_val {
	__u32 flags; /* enum bwe_netclass_flag of the /16, with BWE_NC16_MIXED (| HOSTS) */
	__u32 row;   /* the /16's row of bwe_hslot24, 1-based; 0: none (no slots) */
};
_Static_assert(sizeof(struct bwe_nc16_val) == 8, "bwe_nc16_val size");

/*
 * The IPv6 addresses no class prefix touches, without a trie walk (map
 * bwe_nc6, mmapable ARRAY of u64 words, ABI 14): one bit per hash of a
 * /48 (bwe_nc6_hash(), bwe_hbits_word(), bwe_rules.h), set where some class
 * prefix overlaps that /48: a /48 or longer prefix sets its /48's bit, a
 * /32../47 every /48 inside it (at most 65,536), anything shorter every bit
 * (all IPv6 addresses ask the trie then). An IPv6 address whose bit is
 * clear has no class; one whose bit is set asks bwe_netclass. Derived by
 * the daemon from the same closed set as bwe_nc16, in the same transaction
 * (lib/netclass.c), and kept a superset of the trie's /48s throughout it.
 */
#define BWE_NC6_BITS  (1u << 20)
#define BWE_NC6_WORDS (BWE_NC6_BITS / 64u)
#define BWE_NC6_PLEN  48 /* the granularity */
#define BWE_NC6_SPAN  32 /* shorter prefixes set every bit */

/*
 * The IPv4 addresses of a MIXED /16 that no longer prefix touches, without
 * the host record or the trie (map bwe_nc4, mmapable ARRAY of u64 words,
 * ABI 20): one bit per hash of a /24 (bwe_nc4_hash() of the /24, length
 * 24), set for every /24 inside a class prefix of /17 to /24, and one per
 * hash of an address (length 32), set for every address inside a prefix
 * of /25 to /32: at most 128 bits a prefix. An address of a MIXED /16
 * whose two bits are both clear lies in no prefix longer than /16, so its
 * class is the /16's own (bwe_nc16_val.flags without MIXED and HOSTS); a
 * set bit sends it on as before, so a collision costs a lookup, never a
 * class. Derived with bwe_nc6 from the same closed set, in the same
 * transaction (lib/netclass.c), and kept a superset throughout it.
 */
#define BWE_NC4_BITS  (1u << 19)
#define BWE_NC4_WORDS (BWE_NC4_BITS / 64u)

/* ---- blocklist ---------------------------------------------------------- */
/*
 * Layout, chosen for a per-packet cost near one hash lookup at any size
 * (docs/architecture.md, "Blocklist layout"):
 *   bwe_bl_host4 - ARRAY_OF_MAPS of one slot holding the current dense table
 *                  of exact IPv4 hosts (/32, and /25../31 expanded to their
 *                  hosts by the daemon): an mmapable ARRAY of 64-byte buckets
 *                  (struct bwe_bl4_bucket below, rules in bwe_bl4.h);
 *   bwe_bl_host6 - ARRAY_OF_MAPS of one slot holding the current HASH of
 *                  exact IPv6 hosts (/128, 16-byte keys);
 *   bwe_bl_tbl24 - mmapable ARRAY, a DIR-24 table: one byte "ref" for each
 *                  IPv4 /24, painted with the longest covering prefix /8../24;
 *   bwe_bl_net6  - LPM trie, IPv6 prefixes shorter than /128.
 * A "ref" byte names the feed an entry came from and its action.
 */
#define BWE_REF_NONE	  0x00
#define BWE_REF_MONITOR	  0x80 /* action monitor: count and pass */
#define BWE_REF_FEED_MASK 0x7f /* feed id 1..127 */
#define BWE_FEED_MANUAL	  1    /* bwctl block */
#define BWE_FEED_FIRST	  2    /* first id handed to a configured feed */
#define BWE_FEED_MAX	  127

static inline __u8 bwe_ref(__u8 feed_id, int monitor)
{
	return (__u8)((feed_id & BWE_REF_FEED_MASK) | (monitor ? BWE_REF_MONITOR : 0));
}

struct bwe_bl_val {
	__u8 ref; /* BWE_REF_* encoded feed id and action */
	__u8 pad[3];
};
_Static_assert(sizeof(struct bwe_bl_val) == 4, "bwe_bl_val size");

/*
 * The exact-host tables (inner maps of bwe_bl_host4/6). Each is sized by the
 * daemon to the hosts it holds plus headroom, between its minimum and what
 * the ceiling (maps.blocklist_hosts) needs, and replaced by a bigger (or much
 * smaller) one, filled beforehand, with one update of the outer slot: the
 * program sees the old table or the new one, never none.
 */
#define BWE_BL_HOST_SLOT 0  /* the one slot of bwe_bl_host4/6 */
typedef __be32 bwe_bl_key4; /* an IPv4 host as the daemon queues it: network byte order */

/*
 * IPv6: a kernel HASH, not preallocated (memory follows the entries,
 * headroom costs only buckets), struct bwe_addr -> struct bwe_bl_val.
 */
#define BWE_BL_HOST_MIN	  4096 /* max_entries of the smallest IPv6 table */
#define BWE_BL_HOST_FLAGS BPF_F_NO_PREALLOC

/*
 * IPv4: a dense table, an ARRAY of 64-byte elements written by the daemon
 * through mmap. Element BWE_BL4_HDR_IDX is the table's header (struct
 * bwe_bl4_hdr: its bucket mask and hash seed, so that a new seed or size is
 * a new table, swapped in whole); bucket b (0..mask) is element 1 + b, one
 * cache line of BWE_BL4_WAYS slots. A slot is one __u64, stored and loaded
 * whole, so a reader never sees half of an entry:
 *   bits  0..31  the address, its four bytes as the packet carries them
 *                (network byte order) loaded into a __u32;
 *   bits 32..39  the entry's ref (BWE_REF_*); 0: the slot is empty (so every
 *                address, 0.0.0.0 included, can be listed);
 *   bits 40..47  in slot 0 only, the bucket's spill count: how many entries
 *                whose home is this bucket or one before it lie further on
 *                (at most BWE_BL4_WAYS x (BWE_BL4_PROBE_MAX - 1) = 120); a
 *                lookup goes on to the next bucket only when it is not 0,
 *                at most BWE_BL4_PROBE_MAX buckets in all;
 *   bits 48..63  in slot 0 only, the table's tag (its header's, 1..65535),
 *                written when the table is made and never changed;
 *                zero in the other slots (and bits 40..47 too).
 * The home bucket is bwe_bl4_home() (bwe_bl4.h), keyed by the header's seed
 * (below 2^32).
 * The table describes itself (seed, size, tag, entries, spill counts):
 * whoever opens it again, a restarted daemon included, needs nothing else.
 * BPF_F_INNER_MAP lets the tables differ in size behind one outer map.
 *
 * bwe_bl4_key (mmapable ARRAY of one __u64) holds the current table's seed,
 * size and tag in one word (bwe_bl4_key_word() in bwe_bl4.h), so that a lookup
 * reads the home bucket without the header: a lookup in an inner map is a
 * helper call, a lookup in this one a load. The daemon stores the word
 * (one aligned store) after it swaps a new table in. A lookup whose word
 * and table differ (read on either side of a swap) finds another tag in the
 * home bucket's slot 0, and reads the header instead, as does one whose
 * word is 0 (no tag).
 */
#define BWE_BL4_WAYS	    8	       /* slots per bucket: 8 x 8 bytes, one cache line */
#define BWE_BL4_PROBE_MAX   16	       /* buckets one lookup visits at most */
#define BWE_BL4_HDR_IDX	    0	       /* element of the header; bucket b is element 1 + b */
#define BWE_BL4_MAGIC	    0x62346c62 /* "bl4b" */
#define BWE_BL4_SLOTS_MIN   4096       /* slots of the smallest table (512 buckets) */
#define BWE_BL4_FLAGS	    (BPF_F_MMAPABLE | BPF_F_INNER_MAP)
#define BWE_BL4_REF_SHIFT   32
#define BWE_BL4_SPILL_SHIFT 40
#define BWE_BL4_SPILL_ONE   (1ULL << BWE_BL4_SPILL_SHIFT)
#define BWE_BL4_SPILL_MASK  (0xffULL << BWE_BL4_SPILL_SHIFT)
#define BWE_BL4_TAG_SHIFT   48
#define BWE_BL4_TAG_MASK    (0xffffULL << BWE_BL4_TAG_SHIFT)
#define BWE_BL4_TAG_MAX	    0xffff

struct bwe_bl4_bucket {
	__u64 slot[BWE_BL4_WAYS]; /* entries as described above */
};
_Static_assert(sizeof(struct bwe_bl4_bucket) == 64, "bwe_bl4_bucket size");

struct bwe_bl4_hdr {
	__u32 magic; /* BWE_BL4_MAGIC once the daemon has written the header */
	__u32 mask;  /* buckets - 1 (buckets: a power of two) */
	__u64 seed;  /* key of bwe_bl4_home(), random per table, below 2^32 */
	__u64 used;  /* slots holding an entry (the daemon's count; never read by BPF) */
	__u32 tag;   /* 1..65535, in every bucket's slot 0 too; the next table's is one more */
	__u32 pad0;
	__u64 pad[4];
};
_Static_assert(sizeof(struct bwe_bl4_hdr) == sizeof(struct bwe_bl4_bucket), "bwe_bl4_hdr size");

#define BWE_TBL24_LANES	  8 /* /24 slots per array element */
#define BWE_TBL24_ENTRIES ((1u << 24) / BWE_TBL24_LANES)
struct bwe_tbl24_val {
	__u8 ref[BWE_TBL24_LANES]; /* ref of /24 number (idx * 8 + lane) */
};
_Static_assert(sizeof(struct bwe_tbl24_val) == 8, "bwe_tbl24_val size");
#define BWE_TBL24_MIN_PLEN 8 /* broader IPv4 prefixes are refused */

/*
 * bwe_bl_h24 (mmapable ARRAY of u64 words): one bit per /24, set where the
 * exact-host table may hold a host of that /24 (rules in bwe_bl4.h). The
 * program reads the exact-host table only for an address whose bit is set:
 * a clean peer usually costs this bit and its DIR-24 byte, two lines that
 * neighbouring /24s share, instead of a hashed bucket of its own. The
 * daemon sets a /24's bit before it writes a host of it (so the bits are
 * always a superset of the table's /24s) and recomputes them exactly when
 * it builds a new table; a deleted host's bit stays until then and costs
 * only the lookup it would have cost anyway.
 */
#define BWE_BL_H24_WORDS ((1u << 24) / 64u)

/*
 * bwe_bl_h6 (mmapable ARRAY of u64 words): the same for the IPv6 exact-host
 * table, a Bloom filter with one hash: bit bwe_hbits_word()/bwe_hbits_bit()
 * (bwe_rules.h) of bwe_bl_h6_hash() of every host the table may hold. An
 * IPv6 peer whose bit is clear skips the table's hash lookup (a call and a
 * jhash of 16 bytes). 2^23 bits (1 MiB): with 200,000 IPv6 hosts a clean
 * peer finds its bit set 2.4 % of the time and pays the lookup then, as
 * every peer did before. Kept by the same rules as bwe_bl_h24.
 */
#define BWE_BL_H6_BITS	(1u << 23)
#define BWE_BL_H6_WORDS (BWE_BL_H6_BITS / 64u)

/*
 * bwe_bl_n6 (mmapable ARRAY of u64 words, ABI 21): the IPv6 addresses no
 * listed prefix (bwe_bl_net6) touches, without the trie: one bit per hash of
 * a /32 (bwe_bl_n6_hash(), bwe_hbits_word(), bwe_rules.h), set where some
 * listed IPv6 prefix overlaps that /32: a /32 or longer prefix sets its
 * /32's bit, a /16../31 every /32 inside it (at most 65,536). An IPv6 peer
 * whose bit is clear has no prefix entry and skips the trie (a call, and a
 * walk of its nodes); a set bit, a collision included, asks the trie as
 * before. 2^16 bits (8 KiB): Spamhaus' DROPv6 of 2025-01-15 (78 prefixes,
 * 28 of them /28../30) sets 263. Prefixes touching more /32s than the
 * filter has bits set every bit (every peer asks the trie). The daemon sets a prefix's bits before it writes the
 * prefix, and recomputes them exactly from its mirror after deleting
 * prefixes (lib/blocklist.c), so they are a superset of the trie's /32s
 * throughout a change.
 */
#define BWE_BL_N6_BITS	(1u << 16)
#define BWE_BL_N6_WORDS (BWE_BL_N6_BITS / 64u)
#define BWE_BL_N6_PLEN	32 /* the granularity */

/* ---- throttle (map bwe_throttle, HASH addr -> bucket) ------------------- */
struct bwe_bucket {
	__u64 tokens;  /* bytes available, host order */
	__u64 last_ns; /* bpf_ktime_get_ns() of last refill */
};

#define BWE_RATE_MAX 12500000000ULL /* bytes/s (100 Gbit/s); keeps refill math in 64 bits */

struct bwe_throttle {
	struct bpf_spin_lock lock; /* taken by the XDP program; user writes use BPF_F_LOCK */
	__u32 pad;
	__u64 rate_bps;	      /* bytes per second, host order */
	__u64 burst;	      /* bucket depth in bytes, host order */
	struct bwe_bucket tx; /* outbound: host is the source */
	struct bwe_bucket rx; /* inbound: host is the destination */
};
_Static_assert(sizeof(struct bwe_throttle) == 56, "bwe_throttle size");

/* ---- per-host accounting (bwe_hslots and bwe_hosts) --------------------- */
/*
 * Two homes for a host's record (struct bwe_host_stats, per CPU), chosen by
 * address alone (docs/architecture.md, "Host records"):
 *   bwe_hslots     - IPv4 hosts of internal /24s that hold a block: a
 *                    PERCPU_ARRAY of blocks of BWE_HSLOT_BLOCK records, one
 *                    per address of the /24, found without a hash walk:
 *                    bwe_nc16[/16].row -> bwe_hslot24[row, third octet] =
 *                    block + 1 -> record bwe_hslot_index(). The daemon
 *                    assigns blocks to internal /24s in address order as
 *                    long as it has blocks (lib/dataplane.c) and zeroes a
 *                    block before it publishes it.
 *   bwe_hosts      - every other host (IPv6, IPv4 beyond the blocks):
 *                    LRU_PERCPU_HASH addr -> record.
 * A slot's record is a host once it has sent: bwe_hslot_sent holds one bit
 * per slot, set by its first outbound packet on any CPU (the records are
 * per CPU, the bit is not). The daemon forgets a host idle for
 * maps.host_idle (bwe_dp_hosts_forget()): it clears the bit with an atomic
 * AND on its mmap of bwe_hslot_sent (BWE_HSLOT_SENT_FLAGS, ABI 11; a map
 * update of the word could undo another slot's bit the program has just
 * set), then zeroes the record and drop entry on every CPU; a bwe_hosts
 * host's entry is deleted.
 *   bwe_hslot_drop - the outbound blocklist drops of a slot's host, per
 *                    CPU: a plain mmapable ARRAY of ncpus x slots entries
 *                    of 24 bytes (ABI 18), CPU c's entry of slot s at
 *                    bwe_hslot_drop_index(c, s, slots) (each CPU's run of
 *                    entries its own: no line shared between CPUs but at
 *                    the runs' ends; no per-CPU pointer array, an eighth
 *                    of a per-CPU map's memory). Once its bit is set, such a drop is
 *                    counted there and not in the record, whose first line
 *                    (the drop fields) the frame then does not load
 *                    (docs/benchmarks.md, "A dense table of the slot
 *                    hosts' drops"). The daemon
 *                    adds it to the record's drop[BWE_HD_BLOCK], bl_hits
 *                    and last_seen_ns (bwe_hslot_drop_merge()).
 */
#define BWE_HSLOT_BLOCK	     256u		     /* records per block: one /24 */
#define BWE_HSLOT_WORDS	     (BWE_HSLOT_BLOCK / 64u) /* bwe_hslot_sent words per block */
#define BWE_HSLOT_SENT_FLAGS BPF_F_MMAPABLE	     /* bwe_hslot_sent: the daemon's atomic AND */
#define BWE_HSLOT_DROP_FLAGS BPF_F_MMAPABLE	     /* bwe_hslot_drop: read and zeroed by mmap */

/* bwe_hslot24's value (8 bytes: an mmapped array's element stride). */
struct bwe_hslot24_val {
	__u32 block; /* block + 1 serving the /24; 0: none */
	__u32 pad;
};
_Static_assert(sizeof(struct bwe_hslot24_val) == 8, "bwe_hslot24_val size");

/* bwe_hslot_drop's index of CPU cpu's entry of slot (slots: bwe_hslots' entries). */
static inline __u32 bwe_hslot_drop_index(__u32 cpu, __u32 slot, __u32 slots)
{
	return cpu * slots + slot;
}

/* bwe_hslot_drop's value: a slot host's outbound blocklist drops, one CPU's */
struct bwe_hslot_drop {
	__u64 last_ns; /* the tick of the last one (a last-seen time) */
	__u64 bytes;   /* L2 frame bytes */
	__u64 packets;
};
_Static_assert(sizeof(struct bwe_hslot_drop) == 24, "bwe_hslot_drop size");
/*
 * Only a host that has sent gets an entry: an outbound packet creates it,
 * an inbound one only updates an entry that exists. Inbound packets to an
 * internal address without an entry are counted in the aggregate
 * BWE_A_INBOUND_UNTRACKED instead, so that a sender spraying a LAN prefix
 * cannot create entries (and evict real hosts) with packets of its own.
 * Verdicts never depend on an entry.
 */
enum bwe_host_drop {
	BWE_HD_BLOCK = 0, /* first: the record's drop path (struct bwe_host_stats) */
	BWE_HD_QUARANTINE,
	BWE_HD_THROTTLE,
	BWE_HD_MAX,
};

#define BWE_HLL_REGS 32 /* HyperLogLog registers per sketch */
#define BWE_HLL_BITS 5	/* log2(BWE_HLL_REGS) */

/*
 * Heavy hitters of one direction of one host, by bytes: a weighted
 * SpaceSaving summary (Metwally et al. 2005) of BWE_HH_SLOTS peers, updated
 * by bwe_hh_add() (bwe_rules.h) with every passed frame, reset with the
 * fan-out sketches at each hll_epoch. A slot with bytes 0 is empty. For a
 * peer in a slot, bytes - err <= its true bytes <= bytes; a peer in no slot
 * sent at most bwe_hh_floor() (the smallest count when every slot is used,
 * else 0), which is at most total / BWE_HH_SLOTS. Several CPUs' summaries
 * merge into one with the same guarantees (bwe_hh_merge(), lib/dataplane.c).
 */
#define BWE_HH_SLOTS 4
struct bwe_hh {
	__u64 total;		   /* bytes added this epoch */
	__u64 bytes[BWE_HH_SLOTS]; /* count of the slot's peer (an overestimate) */
	__u64 err[BWE_HH_SLOTS];   /* most the count overestimates it by */
	__u32 peer[BWE_HH_SLOTS];  /* bwe_hash_addr() of the peer */
};
_Static_assert(sizeof(struct bwe_hh) == 88, "bwe_hh size");

/*
 * The host's last reported events, one CPU's view (the record is per CPU):
 * for each, the time bwe_ev_dedup last says it was emitted. A copy of that
 * time can only be older than the map's, so while it is within the dedup
 * window the map would suppress the event too: the program then skips the
 * map (no LRU lookup, no update) for a pair it has reported already.
 */
#define BWE_EV_SEEN_SLOTS 2
struct bwe_ev_seen {
	struct bwe_addr peer; /* network order; zero for quarantine drops */
	__u64 ts_ns;	      /* bwe_ev_dedup's time for the event, the tick clock */
	__u32 type_dir;	      /* bwe_ev_seen_key(): type << 8 | dir; 0 = empty slot */
	__u32 pad;
};
_Static_assert(sizeof(struct bwe_ev_seen) == 32, "bwe_ev_seen size");

/* A host's drops of one reason (enum bwe_host_drop), either direction. */
struct bwe_drop_count {
	__u64 bytes; /* L2 frame bytes */
	__u64 packets;
};

/*
 * Ordered by what a frame touches: every frame's fields first, then a
 * blocklist drop's, so that an outbound one's lie in the record's first 40
 * bytes (one cache line, or two where the record straddles one: a per-CPU
 * value is 8-byte aligned), then a passed frame's counters
 * (docs/benchmarks.md, "The drop path's bytes of the record").
 */
struct bwe_host_stats {
	__u64 first_seen_ns; /* CLOCK_MONOTONIC at the tick (coarse) */
	__u64 last_seen_ns;
	/* packets to a blocklisted peer (drop or monitor), and inbound ones from
	 * it that answer the host's own contact (bwe_hit_answers()) */
	__u64 bl_hits;
	struct bwe_drop_count drop[BWE_HD_MAX]; /* by reason; BWE_HD_BLOCK first */
	__u64 tx_bytes;				/* L2 frame bytes passed, host is source */
	__u64 tx_packets;
	__u32 hll_epoch; /* bwe_config.hll_epoch the registers belong to */
	/* the host address's network class (enum bwe_netclass_flag) as the
	 * program last read it, valid while nc_gen equals bwe_config.nc_gen
	 * (bwe_nc_cached()); only read where bwe_nc16 says MIXED and a
	 * bwe_nc4 bit of the address is set */
	__u32 nc_gen;
	__u32 nc_flags;
	__u32 pad;
	__u64 rx_bytes; /* L2 frame bytes passed, host is destination */
	__u64 rx_packets;
	__u64 nonstd_tx_bytes; /* outbound bytes to a port outside bwe_std_ports */
	__u64 bl_in_hits;      /* other inbound packets from a blocklisted peer: may be spoofed */
	__u8 hll_dst[BWE_HLL_REGS];  /* distinct outbound peers; merge CPUs by max */
	__u8 hll_port[BWE_HLL_REGS]; /* distinct outbound dst ports; merge by max */
	__u8 hll_src[BWE_HLL_REGS];  /* distinct inbound peers (relay signature); by max */
	struct bwe_hh hh_tx;	     /* heaviest outbound peers by bytes passed */
	struct bwe_hh hh_rx;	     /* heaviest inbound peers by bytes passed */
	struct bwe_ev_seen ev_seen[BWE_EV_SEEN_SLOTS]; /* events reported, this CPU */
};
_Static_assert(sizeof(struct bwe_host_stats) == 472, "bwe_host_stats size");
/* an outbound blocklist drop's fields, in the record's first 40 bytes */
#define BWE_HS_END(f) (__builtin_offsetof(struct bwe_host_stats, f) + 8)
_Static_assert(BWE_HS_END(first_seen_ns) <= 40 && BWE_HS_END(last_seen_ns) <= 40 &&
		       BWE_HS_END(bl_hits) <= 40 && BWE_HS_END(drop[BWE_HD_BLOCK].packets) <= 40,
	       "a blocklist drop's fields in the record's first 40 bytes");
#undef BWE_HS_END

/* ---- global counters (map bwe_stats, PERCPU_ARRAY slot x direction) ---- */
/*
 * Every packet is counted under exactly one verdict reason and one
 * direction (enum bwe_stat_dir). Reasons named *_DRYRUN are would-be drops
 * passed because monitor-only mode is on. The map holds BWE_STATS_ENTRIES
 * counters; bwe_stat_index() (bwe_rules.h) is the one rule that places a
 * (slot, direction) pair in it.
 */
enum bwe_reason {
	BWE_R_PASS = 0,	  /* internal host, no rule matched */
	BWE_R_NON_IP,	  /* ARP, LLDP, ...: passed untouched */
	BWE_R_TRANSIT,	  /* neither or both sides internal: passed */
	BWE_R_ALLOW,	  /* an allowlisted side: passed */
	BWE_R_EXEMPT,	  /* quarantined host with an exempt peer: passed */
	BWE_R_MONITOR,	  /* peer matched a monitor-action entry: passed */
	BWE_R_QUARANTINE, /* dropped: host in quarantine */
	BWE_R_BLOCK,	  /* dropped: peer in the blocklist */
	BWE_R_THROTTLE,	  /* dropped: host over its token bucket */
	BWE_R_QUARANTINE_DRYRUN,
	BWE_R_BLOCK_DRYRUN,
	BWE_R_THROTTLE_DRYRUN,
	BWE_R_MALFORMED, /* Ethernet/VLAN/IP header truncated or invalid: dropped */
	BWE_R_ABORTED,	 /* "cannot happen" (map failure): XDP_ABORTED */
	BWE_R_MAX,
};

/* Anomaly counters: counted in addition to the verdict, in the same map. */
enum bwe_anomaly {
	BWE_A_L4_TRUNCATED = BWE_R_MAX, /* ports unreadable: judged by addresses */
	BWE_A_FRAGMENT,			/* later fragment: judged by addresses */
	BWE_A_EXTHDR_LIMIT,		/* IPv6 chain longer than parsed: judged by addresses */
	/* ring buffer full; an event already reported counts too while this
	 * CPU knows the ring full (the rest of a tick in which it found it so) */
	BWE_A_EVENT_LOST,
	BWE_A_INBOUND_UNTRACKED, /* inbound to an internal address without a bwe_hosts entry */
	/* arrived on an interface that translates its family (bwe_ifaces): judged and
	 * counted under its verdict by the egress program of the LAN interface it
	 * leaves by, once the kernel has reversed the translation */
	BWE_A_NAT_DEFERRED,
	BWE_STATS_MAX,
};

/*
 * Direction of a counted packet, from the addresses (bwe_netclass), never
 * from the interface (a frame of a contained MAC, bwe_macs, is outbound). The values of OUT and IN are those of enum
 * bwe_event_dir. Anomaly slots are always counted under NONE.
 */
enum bwe_stat_dir {
	BWE_SD_NONE = 0, /* no internal side: non-IP, malformed, transit, aborted */
	BWE_SD_OUT = 1,	 /* classified, the internal host is the source */
	BWE_SD_IN = 2,	 /* classified, the internal host is the destination */
	BWE_SD_MAX,
};

#define BWE_STATS_ENTRIES (BWE_STATS_MAX * BWE_SD_MAX) /* max_entries of bwe_stats */

struct bwe_counter {
	__u64 packets;
	__u64 bytes; /* L2 frame bytes */
};
_Static_assert(sizeof(struct bwe_counter) == 16, "bwe_counter size");

/* ---- runtime configuration (map bwe_config, ARRAY of one) --------------- */
enum bwe_config_flag {
	BWE_CFG_DRYRUN = 1 << 0, /* every would-drop becomes a counted pass */
	BWE_CFG_MACS = 1 << 1,	 /* bwe_macs holds entries: look source MACs up */
	BWE_CFG_NAT4 = 1 << 2,	 /* some attached interface translates IPv4 (bwe_ifaces) */
	BWE_CFG_NAT6 = 1 << 3,	 /* some attached interface translates IPv6 (bwe_ifaces) */
	BWE_CFG_FWD = 1 << 4,	 /* some attached interface fast-forwards (bwe_iface_val.fwd) */
	/* policy.peer_sketches is off: the host records' per-peer sketches
	 * (hll_*, hh_*, hll_epoch) are neither updated nor restarted; the
	 * counters, event copies and class cache are kept as always */
	BWE_CFG_NO_SKETCH = 1 << 5,
};

struct bwe_config {
	__u32 flags;	      /* enum bwe_config_flag */
	__u32 hll_epoch;      /* bumped by the daemon to start a new fan-out window */
	__u64 event_dedup_ns; /* same (type, host, peer) event at most once per this */
	/* BWE_EV_CONTACT for the (host, peer) pairs bwe_contact_sampled() picks:
	 * 1 in contact_sample of them (1: all), 0: no contact events */
	__u32 contact_sample;
	__u32 contact_salt; /* mixed into the pair hash of the sample */
	/* generation of the network classes (bwe_netclass, bwe_nc16, bwe_nc6,
	 * bwe_nc4): bumped by
	 * the daemon as the last step of every change to them, never 0 once
	 * classes were written; bwe_dp_config_set() keeps the map's value */
	__u32 nc_gen;
	/* The programs' tick clock (bwe_tick_ns() in bwe_rules.h): CLOCK_MONOTONIC
	 * at the tick's resolution, as bpf_ktime_get_coarse_ns() reads it, but
	 * computed from jiffies, which the verifier inlines as one load where
	 * the helper is three nested calls. tick_ns: nanoseconds per jiffy,
	 * tick_off: CLOCK_MONOTONIC minus jiffies * tick_ns less a tick, modulo
	 * 2^64 (bwe_tick_off()), both measured by lib/dataplane.c when it loads
	 * the programs; tick_ns 0: not measured, the programs call the helper.
	 * bwe_dp_config_set() keeps the map's values. */
	__u32 tick_ns;
	__u64 tick_off;
};
_Static_assert(sizeof(struct bwe_config) == 40, "bwe_config size");

/* The test frame program bwe_clock fills, run by lib/dataplane.c over a few ticks at load. */
struct bwe_clock_pair {
	__u64 jiffies;
	__u64 coarse_ns; /* bpf_ktime_get_coarse_ns() */
	__u64 jiffies_after;
};

/* ---- contacts (map bwe_contacts, LRU_HASH UDP flow -> first seen) ------- */
/*
 * The outbound UDP flows of sampled (host, peer) pairs: a packet of a flow
 * not in the map starts a new one (BWE_EV_CONTACT). Only a lookup per packet
 * of a sampled pair; a write per new flow. Private to one load (not
 * pinned): losing it costs at most one repeated contact a flow.
 */
#define BWE_CONTACTS_MAX 16384
struct bwe_contact_key {
	struct bwe_addr host; /* network order */
	struct bwe_addr peer; /* network order */
	__be16 sport;	      /* network order */
	__be16 dport;	      /* network order */
};
_Static_assert(sizeof(struct bwe_contact_key) == 36, "bwe_contact_key size");
/* value: __u64, the tick clock (bwe_config) at the flow's first packet */

/* ---- ABI stamp (map bwe_abi, ARRAY of one) ------------------------------ */
/*
 * Written once by the process that creates the maps, then frozen; the
 * program never reads it, so it costs no packet anything. Its map type, key,
 * value and name never change, so that every version can read every other
 * version's stamp before it touches the rest.
 */
struct bwe_abi_stamp {
	__u32 version; /* BWE_ABI_VERSION of the creator, host byte order */
};
_Static_assert(sizeof(struct bwe_abi_stamp) == 4, "bwe_abi_stamp size");

/* Standard destination ports (map bwe_std_ports, ARRAY bitmap). */
#define BWE_PORT_WORDS 1024 /* 1024 x 64 bits = every port */
/* value: __u64, bit (port & 63) of word (port >> 6), host byte order */

/* ---- host identity (map bwe_macs, HASH MAC -> what is enforced on it) --- */
/*
 * A quarantined or throttled host is known by its MAC address as well as
 * by its addresses: a frame whose source MAC is listed is judged as coming
 * from a host with these flags whatever its source address, and a source
 * address that does not carry them yet is reported (BWE_EV_MAC_ADDR) so
 * that the daemon adds it. Only LAN hosts have entries (never a router's
 * MAC: the daemon refuses a MAC seen with many addresses).
 */
#define BWE_MAC_LEN 6
struct bwe_mac_key {
	__u8 mac[BWE_MAC_LEN]; /* as on the wire */
	__u16 pad;	       /* zero */
};
_Static_assert(sizeof(struct bwe_mac_key) == 8, "bwe_mac_key size");

struct bwe_mac_val {
	__u32 flags; /* BWE_NC_QUARANTINE and/or BWE_NC_THROTTLE, host byte order */
	__u32 pad;
};
_Static_assert(sizeof(struct bwe_mac_val) == 8, "bwe_mac_val size");

/* ---- interfaces (map bwe_ifaces, HASH ifindex -> role) ------------------ */
/*
 * Every interface the program is attached to, with the families the kernel
 * translates on outbound traffic through it (masquerade, SNAT, NAT66,
 * NPTv6): 0 for an interface that translates nothing. Inbound packets of a
 * translated family arrive addressed to the gateway, so the XDP program
 * cannot know the host: it drops what comes from a blocklisted peer and
 * leaves the rest (BWE_A_NAT_DEFERRED) to the TC egress program of the LAN
 * interfaces, which sees the packet after the translation was reversed.
 * The TC program judges an inbound packet of family F when some interface
 * translates F (BWE_CFG_NAT4/6) unless it arrived on an attached interface
 * that does not (XDP judged it there) or was sent by the gateway itself:
 * the kernel may translate on a device stacked on the attached one (a
 * bridge, VLAN or PPP device over the WAN NIC), whose ifindex is the one
 * the packet carries at egress.
 */
enum bwe_iface_flag {
	BWE_IF_NAT4 = 1 << 0, /* IPv4 is translated on this interface */
	BWE_IF_NAT6 = 1 << 1, /* IPv6 is translated on this interface */
};

struct bwe_iface_val {
	__u32 flags; /* enum bwe_iface_flag, host byte order */
	__u8 fwd;    /* enum bwe_fwd_mode of traffic arriving here */
	__u8 pad;
	__u16 fwd_stats; /* its entry of bwe_fwd_stats (< BWE_FWD_STATS_MAX) while fwd is on */
};
_Static_assert(sizeof(struct bwe_iface_val) == 8, "bwe_iface_val size");

/* ---- XDP fast-forward (maps bwe_fwd_dev, bwe_fwd_stats) ---------------- */
/*
 * An interface whose bwe_iface_val.fwd is not BWE_FWD_OFF forwards, in XDP,
 * the IP packets arriving on it that the verdict passes (xdp/forward.bpf.h):
 * bpf_fib_lookup() with the ingress ifindex (after the flowtable's
 * translation with BWE_FWD_FLOWTABLE), then bpf_redirect_map() into
 * bwe_fwd_dev (DEVMAP_HASH ifindex -> ifindex), which the daemon fills with
 * the attached interfaces that can transmit redirected frames. What the fast path cannot handle goes
 * to the kernel's stack unchanged, counted under one reason below. The
 * counters are kept per ingress interface in bwe_fwd_stats (PERCPU_ARRAY of
 * BWE_FWD_STATS_MAX struct bwe_fwd_stats), at the entry the daemon gives
 * the interface in its bwe_iface_val.fwd_stats: an array lookup a frame,
 * not a hash's. The daemon hands the entries out and zeroes one when it
 * hands it to another interface.
 */
enum bwe_fwd_mode {
	BWE_FWD_OFF = 0, /* everything the verdict passes goes to the stack */
	BWE_FWD_FIB = 1, /* bpf_fib_lookup + devmap; netfilter is bypassed */
	/* connections nftables offloaded to a flowtable (bpf_xdp_flow_lookup),
	 * translated as their entry says, then as BWE_FWD_FIB */
	BWE_FWD_FLOWTABLE = 2,
};

enum bwe_fwd_stat {
	BWE_FWD_FAST = 0,   /* forwarded in XDP (redirected) */
	BWE_FWD_S_ENCAP,    /* to the stack: VLAN-tagged or PPPoE frame */
	BWE_FWD_S_OPTIONS,  /* IPv4 options or an IPv6 extension header */
	BWE_FWD_S_FRAGMENT, /* a fragment (first or later) */
	BWE_FWD_S_TTL,	    /* TTL / hop limit <= 1: the stack sends time exceeded */
	BWE_FWD_S_NAT,	    /* ingress or egress translates its family */
	BWE_FWD_S_LOCAL, /* not forwarded: to the gateway, broadcast, multicast, forwarding off */
	BWE_FWD_S_NO_ROUTE, /* no route, unreachable, prohibit, blackhole */
	BWE_FWD_S_NO_NEIGH, /* next hop's MAC unknown: the stack resolves it */
	BWE_FWD_S_MTU,	    /* larger than the egress MTU: the stack fragments or sends the error */
	BWE_FWD_S_EGRESS,   /* egress not in bwe_fwd_dev (not attached, no XDP transmit) */
	/* what the stack refuses to forward: a wrong IPv4 header checksum, an IP
	 * length longer than the frame or shorter than the header, a source it
	 * never forwards (IPv4 0/8, 127/8, class D/E; IPv6 unspecified, loopback,
	 * multicast, link-local) */
	BWE_FWD_S_HEADER,
	/* flowtable mode: no entry the fast path can use (a connection nftables
	 * has not offloaded yet, not TCP or UDP, a TCP FIN or RST, an entry
	 * transmitted other than through a neighbour) */
	BWE_FWD_S_NO_FLOW,
	BWE_FWD_MAX,
};

struct bwe_fwd_stats {
	struct bwe_counter c[BWE_FWD_MAX]; /* by enum bwe_fwd_stat; bytes are L2 frame bytes */
};
_Static_assert(sizeof(struct bwe_fwd_stats) == 16 * BWE_FWD_MAX, "bwe_fwd_stats size");

/* ---- events (map bwe_events, RINGBUF) ----------------------------------- */
enum bwe_event_type {
	/* An internal host met a blocklist entry (drop or monitor). Both event
	 * types for inbound packets only when the host has a bwe_hosts entry:
	 * a spray of spoofed frames gets no event per address it targets. */
	BWE_EV_BLOCK_HIT = 1,
	BWE_EV_QUARANTINE_DROP, /* first drop of a quarantined host in a dedup window */
	/* A frame from a MAC of bwe_macs with a source address that lacks the
	 * MAC's flags: host is that address, mac the MAC, reason the verdict.
	 * Deduplicated per (host, MAC address) like the others. */
	BWE_EV_MAC_ADDR,
	/* A new outbound contact of a sampled (host, peer) pair, for the beacon
	 * signal: a TCP SYN without ACK, or the first packet of a UDP flow
	 * (bwe_contacts). Never deduplicated; only for passed packets (not
	 * exempt, allowlisted or dropped); never into the last half of the
	 * ring (counted as BWE_A_EVENT_LOST), which stays for the others. */
	BWE_EV_CONTACT,
};

enum bwe_event_dir {
	BWE_DIR_OUT = 1, /* host is the source */
	BWE_DIR_IN = 2,	 /* host is the destination */
};
_Static_assert((int)BWE_DIR_OUT == (int)BWE_SD_OUT && (int)BWE_DIR_IN == (int)BWE_SD_IN,
	       "one direction numbering");

struct bwe_event {
	__u64 ts_ns;	      /* the tick clock (bwe_config): CLOCK_MONOTONIC at the tick */
	__u32 type;	      /* enum bwe_event_type */
	__u32 reason;	      /* enum bwe_reason of the packet */
	struct bwe_addr host; /* internal host, network order */
	struct bwe_addr peer; /* external peer, network order */
	__u16 sport;	      /* network order, 0 when not read */
	__u16 dport;	      /* network order, 0 when not read */
	__u8 proto;	      /* IPPROTO_* */
	__u8 dir;	      /* enum bwe_event_dir */
	__u8 ref;	      /* BWE_REF_* of the blocklist entry, 0 otherwise */
	__u8 pad;
	__u32 ifindex;	       /* ingress interface (TC egress: the interface it arrived on) */
	__u32 len;	       /* frame bytes */
	__u8 mac[BWE_MAC_LEN]; /* source MAC of the frame (destination MAC at TC egress) */
	__u16 pad2;
};
_Static_assert(sizeof(struct bwe_event) == 72, "bwe_event size");

struct bwe_dedup_key {
	__u32 type; /* enum bwe_event_type */
	__u32 dir;  /* enum bwe_event_dir for blocklist hits, 0 for quarantine events */
	struct bwe_addr host;
	struct bwe_addr peer; /* zero for quarantine events; MAC_ADDR: the MAC in a[0..5] */
};
_Static_assert(sizeof(struct bwe_dedup_key) == 40, "bwe_dedup_key size");

#endif /* BWE_ABI_H */
