// SPDX-License-Identifier: GPL-2.0-only
/*
 * bwe.bpf.c - the bwenforce data plane: parse -> classify -> decide ->
 * account, in one judge() for two hooks. bwe_xdp runs on every attached
 * interface; the same object serves an inline two-port gateway and a
 * one-port router-on-a-stick, because direction comes from addresses
 * (bwe_netclass), with two exceptions: a frame from a contained host's MAC
 * (bwe_macs) is that host's outbound traffic whatever its source address,
 * and inbound traffic through an interface that translates its family
 * (bwe_ifaces) is left to bwe_tc_egress, the TC egress program of the LAN
 * side, which judges it once the kernel has reversed the translation.
 *
 * Decision order (docs/architecture.md): allow -> quarantine (exempt peers
 * pass) -> exempt -> blocklist (drop or monitor) -> throttle -> pass.
 * Monitor-only mode (BWE_CFG_DRYRUN) turns every would-drop into a counted
 * pass. A passed IP packet arriving on an interface with fast_forward on
 * is forwarded in XDP when it can be (forward.bpf.h), else left to the
 * stack; either way it was judged and counted first, once. Malformed L2/L3 headers are dropped (BWE_R_MALFORMED): the kernel
 * stack would discard them anyway, and a frame we cannot read could hide a
 * quarantined or blocked address.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <xdp/xdp_helpers.h>
#include "bwe_abi.h"
#include "parse.bpf.h"
#include "maps.bpf.h"
#include "blocklist.bpf.h"
#include "forward.bpf.h"
#include "bwe_rules.h"

#define BWE_RUN_PRIO  10  /* early in a libxdp dispatcher chain: drops first */
#define BWE_EV_RB_HDR 8	  /* ring buffer record header, bytes */
#define BWE_TC_PULL   256 /* bytes pulled into the linear part when headers are not */

char LICENSE[] SEC("license") = "GPL";

/* Run configuration for libxdp's dispatcher: continue the chain on XDP_PASS. */
struct {
	__uint(priority, BWE_RUN_PRIO);
	__uint(XDP_PASS, 1);
} XDP_RUN_CONFIG(bwe_xdp);

/*
 * The tick clock (bwe_abi.h, bwe_config): jiffies, which the verifier
 * inlines as a load, on CLOCK_MONOTONIC's scale; the helper, three nested
 * calls, only until the daemon measured the scale (docs/architecture.md,
 * "Clocks").
 */
static __always_inline __u64 tick_now(const struct bwe_config *cfg)
{
	__u32 tick = cfg->tick_ns;

	return tick ? bwe_tick_ns(bpf_jiffies64(), tick, cfg->tick_off) : bpf_ktime_get_coarse_ns();
}

/* Count packets under a reason or anomaly slot and a direction (enum bwe_stat_dir). */
static __always_inline void count_n(__u32 slot, __u32 dir, __u32 pkts, __u64 len)
{
	__u32 idx = bwe_stat_index(slot, dir);
	struct bwe_counter *c = bpf_map_lookup_elem(&bwe_stats, &idx);

	if (c) {
		c->packets += pkts;
		c->bytes += len;
	}
}

static __always_inline void count(__u32 slot, __u32 dir, __u64 len)
{
	count_n(slot, dir, 1, len);
}

static __always_inline __u32 netclass_of(const struct bwe_addr *a)
{
	struct bwe_lpm_key key = { .prefixlen = 128, .addr = *a };
	struct bwe_netclass *nc = bpf_map_lookup_elem(&bwe_netclass, &key);

	return nc ? nc->flags : 0;
}

/* An address's network class, and where its host record is (host_stats()). */
struct bwe_class {
	__u32 flags; /* enum bwe_netclass_flag */
	__u32 row;   /* IPv4: its /16's bwe_nc16 row (host slots), 0: none */
};

#define BWE_NO_SLOT 0xffffffffu

/*
 * An internal address's host record: its host slot's when its /24 holds a
 * block (bwe_abi.h: two array reads that stay in cache, then the record, no
 * hash walk), else its bwe_hosts entry (NULL: none). *slot: the slot, or
 * BWE_NO_SLOT for bwe_hosts. Callers keep no record pointer across the
 * pipeline: the verifier follows each map a pointer may come from apart,
 * and a class carrying one through judge() multiplied its work.
 */
static __always_inline struct bwe_host_stats *record_of(const struct bwe_addr *a, __u32 row,
							__u32 *slot)
{
	struct bwe_hslot24_val *e;
	struct bwe_host_stats *hs;
	__u32 i;

	*slot = BWE_NO_SLOT;
	if (row) {
		i = bwe_hslot24_index(row, a);
		e = bpf_map_lookup_elem(&bwe_hslot24, &i);
		if (e && e->block) {
			*slot = bwe_hslot_index(e->block, a);
			hs = bpf_map_lookup_elem(&bwe_hslots, slot);
			/* Keeps clang from merging the two lookups into one
			 * call of either map, which the verifier cannot inline
			 * (a helper call, then an indirect one). */
			asm volatile("" : "+r"(hs));
			return hs;
		}
	}
	return bpf_map_lookup_elem(&bwe_hosts, a);
}

/*
 * Whether IPv4(-mapped) address a lies outside every class prefix longer
 * than /16: its /24's and its own bwe_nc4 bits both clear (bwe_abi.h). A
 * set bit may be a collision: the caller asks on.
 */
static __always_inline int nc4_clear(const struct bwe_addr *a)
{
	__u32 v4 = bpf_ntohl(a->w[3]);
	__u32 h24 = bwe_nc4_hash(v4 & 0xffffff00u, 24), h32 = bwe_nc4_hash(v4, 32);
	__u32 w24 = bwe_hbits_word(h24, BWE_NC4_WORDS), w32 = bwe_hbits_word(h32, BWE_NC4_WORDS);
	__u64 *b24 = bpf_map_lookup_elem(&bwe_nc4, &w24);
	__u64 *b32;

	if (!b24 || (*(volatile __u64 *)b24 & bwe_hbits_bit(h24)))
		return 0;
	b32 = bpf_map_lookup_elem(&bwe_nc4, &w32);
	return b32 && !(*(volatile __u64 *)b32 & bwe_hbits_bit(h32));
}

/*
 * What the operator says of an address, in the fewest lookups: an IPv4
 * address's /16 in bwe_nc16 answers alone unless some longer prefix inside
 * it has other flags (MIXED, e.g. a quarantined host in the LAN); then the
 * /16's own class (kept beside MIXED) still answers for an address that no
 * longer prefix touches (nc4_clear()); else,
 * where some of the /16 is internal (BWE_NC16_HOSTS), the address's own
 * host record answers while its cached class is of the current generation
 * gen, and only else the trie, whose answer refreshes
 * the record. gen must be read before any of these lookups: a class read
 * after a later change is then stored under the older generation, which
 * the daemon's bump has already made stale. IPv6: an address whose /48 no
 * class prefix touches (bwe_nc6) has none; else the trie.
 */
static __always_inline void class_of(const struct bwe_addr *a, __u32 gen, struct bwe_class *c)
{
	struct bwe_host_stats *hs = NULL;
	__u32 slot;

	c->row = 0;
	if (bwe_addr_holds_v4(a)) {
		__u32 idx = bwe_nc16_index(a);
		struct bwe_nc16_val *v = bpf_map_lookup_elem(&bwe_nc16, &idx);

		__u32 f16 = 0;

		if (v) {
			c->row = v->row;
			f16 = *(volatile __u32 *)&v->flags;
		}
		if (v && !(f16 & BWE_NC16_MIXED)) {
			c->flags = f16;
			return;
		}
		/* The slot read again after the bits, and unchanged: else a
		 * packet that read the slot before a change and the bits after
		 * the change made them exact could take the old /16's class for
		 * an address the old and new sets both put in a longer prefix
		 * (bwe_dp_netclass_apply() writes the slots between widening the
		 * bits and making them exact). The record or the trie answer then. */
		if (v && nc4_clear(a) && *(volatile __u32 *)&v->flags == f16) {
			c->flags = f16 & ~(BWE_NC16_MIXED | BWE_NC16_HOSTS);
			return;
		}
		/* a peer's /16 with no internal address: it has no record to ask */
		if (!v || (v->flags & BWE_NC16_HOSTS))
			hs = record_of(a, c->row, &slot);
		if (hs && bwe_nc_cached(hs->nc_gen, gen)) {
			c->flags = hs->nc_flags;
			return;
		}
	} else {
		__u32 h = bwe_nc6_hash(a), w = bwe_hbits_word(h, BWE_NC6_WORDS);
		__u64 *bits = bpf_map_lookup_elem(&bwe_nc6, &w);

		if (bits && !(*bits & bwe_hbits_bit(h))) {
			c->flags = 0; /* no class prefix touches its /48 */
			return;
		}
	}
	c->flags = netclass_of(a);
	if (hs) {
		hs->nc_flags = c->flags;
		hs->nc_gen = gen;
	}
}

/*
 * Token bucket: returns 1 when the frame fits, 0 when it is over the rate.
 * now is read before the lock (no helper calls under it); bwe_bucket_take()
 * treats a now older than the bucket's last refill as no time passed.
 */
static __always_inline int bucket_take(struct bwe_throttle *t, int out, __u64 len, __u64 now)
{
	struct bwe_bucket *b = out ? &t->tx : &t->rx;
	int ok;

	bpf_spin_lock(&t->lock);
	ok = bwe_bucket_take(b, t->rate_bps, t->burst, len, now);
	bpf_spin_unlock(&t->lock);
	return ok;
}

static __always_inline int port_is_standard(__be16 port)
{
	__u32 p = bpf_ntohs(port);
	__u32 word = p >> 6;
	__u64 *bits = bpf_map_lookup_elem(&bwe_std_ports, &word);

	return bits && (*bits & (1ULL << (p & 63)));
}

/*
 * Whether a slot's host has sent (bwe_hslot_sent), on any CPU, asked by a
 * CPU whose copy hs of the record has no first_seen_ns yet; out: it is
 * sending now, so it has. When it has, this copy takes its first-seen time
 * now and is the host's from then on (host_stats() looks no further).
 *
 * The daemon's idle sweep (bwe_dp_hosts_forget()) clears the bit with an
 * atomic AND and then zeroes the record on every CPU. Had this CPU only
 * read the bit, set, and then stored first_seen_ns, the sweep's clear and
 * zeroing could fall between the two: the copy would keep first_seen_ns
 * with the bit clear, a host the daemon never reads again (its sample
 * reads the slots whose bit is set) and that this CPU alone goes on
 * counting. So the store comes first and the bit is asked (or set) after
 * it with a fetching atomic, which is fully ordered: either the sweep's
 * clear comes after it, and so does its zeroing, which takes the store
 * away; or before it, and the program sees the bit clear: an outbound
 * packet sets it again (a host again, as a new one), an inbound one takes
 * its store back. A plain read first spares an inbound packet to a slot
 * that never sent (a spray) the atomic on a shared line.
 */
static __always_inline int slot_join(__u32 slot, int out, struct bwe_host_stats *hs, __u64 now)
{
	__u32 w = bwe_hslot_sent_word(slot);
	__u64 bit = bwe_hslot_sent_bit(slot), *p = bpf_map_lookup_elem(&bwe_hslot_sent, &w), old;

	if (!p || (!out && !(*p & bit)))
		return 0;
	hs->first_seen_ns = now;
	old = __sync_fetch_and_or(p, out ? bit : 0);
	if (out || (old & bit))
		return 1;
	hs->first_seen_ns = 0;
	return 0;
}

/*
 * The host's accounting entry hs, as record_of() found it in slot. Only an outbound packet
 * creates one: inbound packets to an address that
 * never sent find none (counted in the aggregate BWE_A_INBOUND_UNTRACKED by
 * the caller), so spoofed or sprayed frames cannot fill bwe_hosts and evict
 * the hosts that really talk. A new entry starts with the host's class
 * hc of generation gen cached. A slot is always there: it becomes the
 * host's entry by the same rule (slot_join()), and this CPU's copy takes
 * its first-seen time from the first packet it accounts.
 */
static __always_inline struct bwe_host_stats *host_stats(const struct bwe_addr *host, int out,
							 __u64 now, const struct bwe_class *hc,
							 __u32 gen, struct bwe_host_stats *hs,
							 __u32 slot)
{
	__u32 zero = 0;

	if (slot != BWE_NO_SLOT) {
		if (!hs || hs->first_seen_ns)
			return hs;
		return slot_join(slot, out, hs, now) ? hs : NULL;
	}
	if (hs || !out)
		return hs;
	hs = bpf_map_lookup_elem(&bwe_scratch, &zero);
	if (!hs)
		return NULL;
	__builtin_memset(hs, 0, sizeof(*hs));
	hs->first_seen_ns = now;
	hs->nc_gen = gen;
	hs->nc_flags = hc->flags;
	bpf_map_update_elem(&bwe_hosts, host, hs, BPF_NOEXIST);
	return bpf_map_lookup_elem(&bwe_hosts, host);
}

/* bwe_hslots' entries, bwe_hslot_drop's stride between CPUs (set before load) */
const volatile __u32 bwe_hslot_slots = 0;

/*
 * An outbound blocklist drop of a slot's host, counted in its bwe_hslot_drop
 * entry alone, so that the frame does not load the record's first line
 * (the drop fields), cold for one of many hosts (bwe_abi.h;
 * docs/benchmarks.md, "A dense table of the slot hosts' drops"): 1. 0
 * while the slot's bit is clear: the record and its join (host_stats())
 * take the frame then, as any other, and make the slot a host. The record
 * is still read for the event's copies (unless this CPU found the ring
 * full in this tick), and for the class cache in a MIXED /16 (class_of()). The bit's word is shared
 * and read-mostly, the entry 24 bytes in this CPU's own run of them:
 * 32,768 hosts' entries are 768 KiB a CPU where their records' lines are
 * 2 MiB. The daemon's sweep clears
 * the bit before it zeroes the entry (lib/hslots.c, bwe_hslots_forget()).
 */
static __always_inline int slot_drop(__u32 slot, __u64 len, __u32 pkts, __u64 now)
{
	__u32 w = bwe_hslot_sent_word(slot), i;
	__u64 *sent = bpf_map_lookup_elem(&bwe_hslot_sent, &w);
	struct bwe_hslot_drop *d;

	if (!sent || !(*sent & bwe_hslot_sent_bit(slot)))
		return 0;
	i = bwe_hslot_drop_index(bpf_get_smp_processor_id(), slot, bwe_hslot_slots);
	d = bpf_map_lookup_elem(&bwe_hslot_drop, &i);
	if (!d)
		return 0;
	d->last_ns = now;
	d->bytes += len;
	d->packets += pkts;
	return 1;
}

/* The host's bwe_ev_seen slot of (tag, peer), or NULL. */
static __always_inline struct bwe_ev_seen *seen_find(struct bwe_host_stats *hs, __u32 tag,
						     const struct bwe_addr *peer)
{
	__u32 i;

	for (i = 0; i < BWE_EV_SEEN_SLOTS; i++) {
		struct bwe_ev_seen *e = &hs->ev_seen[i];

		if (e->type_dir == tag && e->peer.w[0] == peer->w[0] &&
		    e->peer.w[1] == peer->w[1] && e->peer.w[2] == peer->w[2] &&
		    e->peer.w[3] == peer->w[3])
			return e;
	}
	return NULL;
}

/* Does the host's copy say (tag, peer) was reported within the window at now? */
static __always_inline int seen_recent(struct bwe_host_stats *hs, __u32 tag,
				       const struct bwe_addr *peer, __u64 now, __u64 dedup_ns)
{
	struct bwe_ev_seen *e = seen_find(hs, tag, peer);

	return e && now - e->ts_ns < dedup_ns;
}

/* Remember bwe_ev_dedup's time of (tag, peer): in its slot, else the oldest. */
static __always_inline void seen_store(struct bwe_host_stats *hs, __u32 tag,
				       const struct bwe_addr *peer, __u64 ts)
{
	struct bwe_ev_seen *e = seen_find(hs, tag, peer);
	__u32 i;

	if (!e) {
		e = &hs->ev_seen[0];
		for (i = 1; i < BWE_EV_SEEN_SLOTS; i++)
			if (hs->ev_seen[i].ts_ns < e->ts_ns)
				e = &hs->ev_seen[i];
		e->type_dir = tag;
		e->peer = *peer;
	}
	e->ts_ns = ts;
}

/*
 * An inbound packet from a listed peer: does it answer the host's own
 * contact with that peer? Only blocklisted inbound packets of tracked hosts
 * come here (no cost on the common path): the host's own copy of its
 * outbound hit's time when that answers, else one lookup in the dedup map
 * (the copy is never newer than the map's, so it only errs towards asking).
 */
static __always_inline int hit_answers(struct bwe_host_stats *hs, const struct bwe_addr *host,
				       const struct bwe_addr *peer, __u64 now, __u64 dedup_ns)
{
	struct bwe_dedup_key key = { .type = BWE_EV_BLOCK_HIT,
				     .dir = BWE_DIR_OUT,
				     .host = *host,
				     .peer = *peer };
	struct bwe_ev_seen *e = seen_find(hs, bwe_ev_seen_key(BWE_EV_BLOCK_HIT, BWE_DIR_OUT), peer);
	__u64 *last;

	if (e && bwe_hit_answers(e->ts_ns, now, dedup_ns))
		return 1;
	last = bpf_map_lookup_elem(&bwe_ev_dedup, &key);
	return bwe_hit_answers(last ? *last : 0, now, dedup_ns);
}

/* The most bwe_events may hold for one more event to fit. */
#define RING_ONE_MORE (BWE_EVENTS_BYTES - sizeof(struct bwe_event) - BWE_EV_RB_HDR)

/* This CPU's tick at which it found bwe_events full (ring_room()), or NULL. */
static __always_inline __u64 *ring_full_tick(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&bwe_ev_full, &zero);
}

/* Did this CPU find the ring full at tick now? A per-CPU lookup: a load
 * where the verifier inlines it (6.18 here), else a helper call. */
static __always_inline int ring_known_full(__u64 now)
{
	__u64 *full = ring_full_tick();

	return full && *full == now;
}

/*
 * What identifies an event for deduplication besides its type and host
 * (bwe_dedup_key): a blocklist hit's direction and peer; nothing for a
 * quarantine drop (once per host, whatever the peer); a MAC event's MAC,
 * which emit_event() adds.
 */
static __always_inline __u32 dedup_dir(__u32 type, __u32 dir)
{
	return type == BWE_EV_BLOCK_HIT ? dir : 0;
}

static __always_inline int dedup_has_peer(__u32 type)
{
	return type == BWE_EV_BLOCK_HIT;
}

/*
 * Was the event of type (a blocklist hit of peer in direction dir, or a
 * quarantine drop) reported within the window at now, as the host's copy
 * says? Then emit_event() would drop it, and the frame need not build it
 * nor ask the ring for room. Not asked (0) when this CPU found the ring
 * full in this tick: the copy is another line of a record that may be
 * cold, and the event is counted lost without it, as before.
 */
static __always_inline int reported_recently(struct bwe_host_stats *hs, __u32 type, __u32 dir,
					     const struct bwe_addr *peer, __u64 now, __u64 dedup_ns)
{
	struct bwe_addr none = {};

	if (ring_known_full(now))
		return 0;
	return seen_recent(hs, bwe_ev_seen_key(type, dedup_dir(type, dir)),
			   dedup_has_peer(type) ? peer : &none, now, dedup_ns);
}

/*
 * Room in bwe_events at tick now, while it holds at most limit bytes? A
 * CPU that found the ring full takes it as full until the tick moves on:
 * under a flood of new (host, peer) pairs the daemon is behind anyway, and
 * the query is a helper call a frame where the per-CPU map's lookup is a
 * load on kernels whose verifier inlines it (6.18 here; not measured on
 * 6.1, where it may be a helper call too).
 */
static __always_inline int ring_room(__u64 now, __u64 limit)
{
	__u64 *full = ring_full_tick();
	__u64 held;

	if (full && *full == now)
		return 0;
	held = bpf_ringbuf_query(&bwe_events, BPF_RB_AVAIL_DATA);
	if (held <= limit)
		return 1;
	if (full && held > RING_ONE_MORE)
		*full = now;
	return 0;
}

/*
 * Emit an event unless the same (type, host, peer) was emitted within the
 * window; the caller found room for it (ring_room()), and for a host's
 * event (hs) asked the host's copy first (reported_recently(): a repeated
 * event costs no dedup-map access and never comes here). The map's
 * answer refreshes the copy.
 */
static __always_inline int emit_event(struct bwe_event *ev, __u64 dedup_ns,
				      struct bwe_host_stats *hs)
{
	struct bwe_dedup_key key = { .type = ev->type,
				     /* a spoofed inbound hit never hides an outbound one */
				     .dir = dedup_dir(ev->type, ev->dir),
				     .host = ev->host };
	__u64 *last;
	__u32 tag;

	if (dedup_has_peer(ev->type)) {
		key.peer = ev->peer;
	} else if (ev->type == BWE_EV_MAC_ADDR) {
		__builtin_memcpy(key.peer.a, ev->mac, BWE_MAC_LEN); /* per (address, MAC) */
		hs = NULL;					    /* rare: the map alone */
	}
	/* the caller asked the host's copy (reported_recently()): the map decides */
	tag = bwe_ev_seen_key(key.type, key.dir);
	last = bpf_map_lookup_elem(&bwe_ev_dedup, &key);
	if (last && ev->ts_ns - *last < dedup_ns) {
		if (hs)
			seen_store(hs, tag, &key.peer, *last);
		return 0;
	}
	if (last)
		*last = ev->ts_ns;
	else
		bpf_map_update_elem(&bwe_ev_dedup, &key, &ev->ts_ns, BPF_ANY);
	if (hs)
		seen_store(hs, tag, &key.peer, ev->ts_ns);
	if (bpf_ringbuf_output(&bwe_events, ev, sizeof(*ev), 0))
		count(BWE_A_EVENT_LOST, BWE_SD_NONE, ev->len);
	return 0;
}

/*
 * A new outbound contact for the beacon signal (BWE_EV_CONTACT): a TCP SYN
 * without ACK, or the first packet of a UDP flow, of a (host, peer) pair in
 * the sample. Costs a flag test for TCP, and a lookup per UDP packet of a
 * sampled pair.
 */
static __always_inline int contact_new(const struct bwe_pkt *p, const struct bwe_config *cfg,
				       const struct bwe_addr *host, const struct bwe_addr *peer,
				       __u32 peer_hash, __u64 now)
{
	struct bwe_contact_key key = {};

	if (!(p->flags & BWE_PF_PORTS))
		return 0;
	if (p->proto == IPPROTO_TCP)
		return (p->tcp_flags & (BWE_TCP_SYN | BWE_TCP_ACK)) == BWE_TCP_SYN &&
		       bwe_contact_sampled(host, peer_hash, cfg->contact_salt, cfg->contact_sample);
	if (p->proto != IPPROTO_UDP ||
	    !bwe_contact_sampled(host, peer_hash, cfg->contact_salt, cfg->contact_sample))
		return 0;
	key.host = *host;
	key.peer = *peer;
	key.sport = p->sport;
	key.dport = p->dport;
	if (bpf_map_lookup_elem(&bwe_contacts, &key))
		return 0;
	bpf_map_update_elem(&bwe_contacts, &key, &now, BPF_ANY);
	return 1;
}

/* What bwe_macs says of a MAC (0: nothing, or no entries at all). */
static __always_inline __u32 mac_flags(const struct bwe_config *cfg, const __u8 *mac)
{
	struct bwe_mac_key key = {};
	struct bwe_mac_val *v;

	if (!(cfg->flags & BWE_CFG_MACS))
		return 0;
	__builtin_memcpy(key.mac, mac, BWE_MAC_LEN);
	v = bpf_map_lookup_elem(&bwe_macs, &key);
	return v ? v->flags & (BWE_NC_QUARANTINE | BWE_NC_THROTTLE) : 0;
}

/*
 * A destination no router forwards: IPv6 link-local unicast (fe80::/10)
 * and interface- or link-scope multicast (ff01::/16, ff02::/16), IPv4's
 * local network control block (224.0.0.0/24) and limited broadcast.
 * Neighbour discovery (an advertisement goes from the host's global address
 * to the gateway's link-local one), router solicitations and DHCP go
 * there: traffic on the link, not the host's traffic through the gateway.
 */
static __always_inline int dst_stays_on_link(const struct bwe_addr *a)
{
	__u32 w0 = bpf_ntohl(a->w[0]), v4 = bpf_ntohl(a->w[3]);

	if (!bwe_addr_holds_v4(a))
		return (w0 >> 22) == (0xfe80 >> 6) || (w0 >> 16) == 0xff01 || (w0 >> 16) == 0xff02;
	return (v4 >> 8) == 0xe00000 || v4 == 0xffffffff;
}

/* The BWE_CFG_NAT4/6 or BWE_IF_NAT4/6 bit of a packet's family. */
static __always_inline __u32 nat_bit(const struct bwe_addr *a, __u32 v4, __u32 v6)
{
	return bwe_addr_holds_v4(a) ? v4 : v6;
}

/* The interface a packet arrived on translates its family (bwe_ifaces)? */
static __always_inline int iface_translates(const struct bwe_config *cfg, __u32 ifindex,
					    const struct bwe_addr *a)
{
	struct bwe_iface_val *v;

	if (!(cfg->flags & nat_bit(a, BWE_CFG_NAT4, BWE_CFG_NAT6)) || !ifindex)
		return 0;
	v = bpf_map_lookup_elem(&bwe_ifaces, &ifindex);
	return v && (v->flags & nat_bit(a, BWE_IF_NAT4, BWE_IF_NAT6));
}

/* Where a judged packet comes from: the hook and what it read of the frame. */
struct bwe_frame {
	__u64 len;	       /* bytes on the wire (all segments of a GSO packet) */
	__u32 pkts;	       /* frames on the wire (GSO segments) */
	__u32 ifindex;	       /* interface it arrived on */
	__u8 mac[BWE_MAC_LEN]; /* the host's MAC: source (XDP) or destination (TC egress) */
};

/* What judge() decided, for bwe_judged(). */
struct bwe_verdict {
	__u64 now;    /* the tick clock (tick_now()) */
	__u32 reason; /* enum bwe_reason, dry run applied */
	__u32 hd;     /* enum bwe_host_drop of a drop, else BWE_HD_MAX */
	__u32 learn;  /* the MAC's flags the source address lacks (BWE_EV_MAC_ADDR) */
	__u8 out;     /* the host is the source */
	__u8 ref;     /* the peer's blocklist ref */
	__u8 tracked; /* rec is the host's record (else a stand-in nobody reads) */
	/* a drop counted in bwe_hslot_drop: rec is for the event's copies
	 * only; without a MAC to report (learn), the copies did not hold the
	 * event and the ring was found with room (judge() asked both) */
	__u8 counted;
};

/*
 * The rest of the judgement, once the verdict v is taken: account the
 * internal host in its record rec (when v->tracked; else the host has
 * none; v->counted: judge() counted the drop already, the record keeps
 * only the event's copies, and unless v->learn it found the event not in
 * them and room for it), emit events, count the verdict. A global function, so the
 * verifier checks it once, whatever map rec came from (a host slot or
 * bwe_hosts, which it would otherwise follow apart through all that
 * follows) and at whichever of judge()'s three call sites. Every argument
 * is memory the caller owns, never NULL (the checks are for the verifier:
 * from kernel 6.8 a caller may pass NULL). Returns the reason.
 */
__noinline int bwe_judged(const struct bwe_pkt *p, const struct bwe_config *cfg,
			  const struct bwe_frame *f, struct bwe_host_stats *rec,
			  const struct bwe_verdict *v)
{
	const struct bwe_addr *host, *peer;
	struct bwe_host_stats *hs;
	__u32 reason, hd, peer_hash = 0, learn, rtype;
	__u64 now;
	__u8 ref;
	int out, contact, report, sketch, drops;

	if (!p || !cfg || !f || !rec || !v)
		return BWE_R_ABORTED;
	out = v->out;
	host = out ? &p->src : &p->dst;
	peer = out ? &p->dst : &p->src;
	hs = v->tracked ? rec : NULL;
	reason = v->reason;
	hd = v->hd;
	learn = v->learn;
	now = v->now;
	ref = v->ref;

	/* Account the internal host: per host once it has sent, else in the aggregate. */
	if (!hs && !out)
		count_n(BWE_A_INBOUND_UNTRACKED, BWE_SD_NONE, f->pkts, f->len);
	if (hs && !v->counted) {
		/* The peer sketches take passed frames only: a drop is evidence
		 * of its own (its counters, bl_hits, events), and skipping them
		 * spares the drop path their cache lines (docs/benchmarks.md,
		 * "Sketches of passed frames only"). */
		drops = bwe_reason_drops(reason);
		sketch = !drops && !(cfg->flags & BWE_CFG_NO_SKETCH);
		if (!drops)
			peer_hash = bwe_hash_addr(peer); /* the sketches' and contact_new()'s */
		hs->last_seen_ns = now;
		if (sketch && hs->hll_epoch != cfg->hll_epoch) {
			/* a new fan-out window: every peer sketch restarts */
			__builtin_memset(hs->hll_dst, 0, sizeof(hs->hll_dst));
			__builtin_memset(hs->hll_port, 0, sizeof(hs->hll_port));
			__builtin_memset(hs->hll_src, 0, sizeof(hs->hll_src));
			__builtin_memset(&hs->hh_tx, 0, sizeof(hs->hh_tx));
			__builtin_memset(&hs->hh_rx, 0, sizeof(hs->hh_rx));
			hs->hll_epoch = cfg->hll_epoch;
		}
		if (ref && (out || hit_answers(hs, host, peer, now, cfg->event_dedup_ns)))
			hs->bl_hits += f->pkts;
		else if (ref)
			hs->bl_in_hits += f->pkts;
		if (drops) {
			/* hd in one register from its check to its use: 6.1's
			 * verifier bounds no copy reloaded from the stack */
			asm volatile("" : "+r"(hd));
			if (hd < BWE_HD_MAX) {
				hs->drop[hd].bytes += f->len;
				hs->drop[hd].packets += f->pkts;
			}
		} else if (out) {
			hs->tx_bytes += f->len;
			hs->tx_packets += f->pkts;
			if ((p->flags & BWE_PF_PORTS) && p->proto == IPPROTO_TCP &&
			    !port_is_standard(p->dport))
				hs->nonstd_tx_bytes += f->len;
			if (sketch)
				bwe_hh_add(&hs->hh_tx, peer_hash, f->len);
		} else {
			hs->rx_bytes += f->len;
			hs->rx_packets += f->pkts;
			if (sketch)
				bwe_hh_add(&hs->hh_rx, peer_hash, f->len);
		}
		/* Fan-out sketches: only where the policy keeps them, since on
		 * real frames they cost more than the rest of the record
		 * (docs/benchmarks.md, "Peer sketches"). */
		if (sketch && out) {
			bwe_hll_add(hs->hll_dst, peer_hash);
			if (p->flags & BWE_PF_PORTS)
				bwe_hll_add(hs->hll_port, bwe_hash_port(bpf_ntohs(p->dport)));
		} else if (sketch) {
			bwe_hll_add(hs->hll_src, peer_hash);
		}
	}
	/* a spray of inbound frames to untracked addresses paid no hash above */
	contact = hs && out && !bwe_reason_drops(reason) && reason != BWE_R_ALLOW &&
		  reason != BWE_R_EXEMPT && cfg->contact_sample &&
		  contact_new(p, cfg, host, peer, peer_hash, now);

	/* Events: blocklist hits and the start of quarantine drops, deduplicated;
	 * none for inbound frames to an untracked address (no per-target events
	 * for a spray: the aggregate counts them). A listed MAC's frame from an
	 * address that lacks the MAC's flags is reported for the daemon to add. */
	report = (hs || out) &&
		 (ref || reason == BWE_R_QUARANTINE || reason == BWE_R_QUARANTINE_DRYRUN);
	rtype = ref ? BWE_EV_BLOCK_HIT : BWE_EV_QUARANTINE_DROP;
	/* Reported within the window, as the host's copy says: nothing to
	 * build, and no need to ask the ring (emit_event() would drop it).
	 * Asked again after judge() for a counted drop (it found the event
	 * not there): skipping it for v->counted made Debian 12's 6.1
	 * verifier refuse the program (tests/e2e_kernels.sh). */
	if (report && hs &&
	    reported_recently(hs, rtype, out ? BWE_DIR_OUT : BWE_DIR_IN, peer, now,
			      cfg->event_dedup_ns))
		report = 0;
	/* No room in the ring: counted lost before anything is built, without
	 * touching the dedup map (a flood of new pairs against a full ring must
	 * not pay an LRU update each) or the host's copy (another cache line of
	 * a record that may be cold). */
	if (report && (!v->counted || learn) && !ring_room(now, RING_ONE_MORE)) {
		count(BWE_A_EVENT_LOST, BWE_SD_NONE, f->len);
		report = 0;
	}
	if (report || learn || contact) { /* the common packet builds no event */
		struct bwe_event ev = {};

		ev.ts_ns = now;
		ev.reason = reason;
		ev.host = *host;
		ev.peer = *peer;
		ev.sport = p->sport;
		ev.dport = p->dport;
		ev.proto = p->proto;
		ev.dir = out ? BWE_DIR_OUT : BWE_DIR_IN;
		ev.ref = ref;
		ev.ifindex = f->ifindex;
		ev.len = f->len;
		__builtin_memcpy(ev.mac, f->mac, BWE_MAC_LEN);
		if (report) {
			ev.type = rtype;
			emit_event(&ev, cfg->event_dedup_ns, hs);
		}
		if (learn && ring_room(now, RING_ONE_MORE)) { /* after the report's */
			ev.type = BWE_EV_MAC_ADDR;
			emit_event(&ev, cfg->event_dedup_ns, hs);
		} else if (learn) {
			count(BWE_A_EVENT_LOST, BWE_SD_NONE, f->len);
		}
		if (contact) {
			/* each one (the beacon signal needs them all), but never into the
			 * ring's last half: a burst of SYNs must not crowd out blocklist
			 * and quarantine events */
			ev.type = BWE_EV_CONTACT;
			if (!ring_room(now, BWE_EVENTS_BYTES / 2) ||
			    bpf_ringbuf_output(&bwe_events, &ev, sizeof(ev), 0))
				count(BWE_A_EVENT_LOST, BWE_SD_NONE, f->len);
		}
	}
	count_n(reason, out ? BWE_SD_OUT : BWE_SD_IN, f->pkts, f->len);
	return reason;
}

/*
 * The one judgement of a classified packet, for both hooks: decide, account
 * the internal host, emit events, count the verdict. out: the host is the
 * source. hf/pf: the host's and the peer's network classes (the host's with
 * its MAC's flags added); learn: the MAC's flags its source address lacks
 * (BWE_EV_MAC_ADDR); hc: the host address's class_of() under generation
 * gen. Returns the reason (enum bwe_reason).
 */
static __always_inline __u32 judge(const struct bwe_pkt *p, const struct bwe_config *cfg,
				   const struct bwe_frame *f, int out, __u32 hf, __u32 pf,
				   __u32 learn, const struct bwe_class *hc, __u32 gen)
{
	const struct bwe_addr *host = out ? &p->src : &p->dst;
	const struct bwe_addr *peer = out ? &p->dst : &p->src;
	struct bwe_verdict v = { .out = out, .learn = learn };
	struct bwe_host_stats *hs;
	__u32 reason, hd = BWE_HD_MAX, zero = 0, slot;
	/* Event times, last-seen, deduplication windows and contacts need no
	 * more than the tick (CLOCK_MONOTONIC_COARSE, 1/HZ), which costs a load
	 * where a TSC read costs ~10 % of a frame on a VM (docs/benchmarks.md);
	 * the token bucket alone reads the fine clock, only for throttled hosts. */
	__u64 now = tick_now(cfg);
	__u8 ref = 0;

	/* Decide. */
	if ((hf | pf) & BWE_NC_ALLOW) {
		reason = BWE_R_ALLOW;
	} else if (hf & BWE_NC_QUARANTINE) {
		reason = (pf & BWE_NC_EXEMPT) ? BWE_R_EXEMPT : BWE_R_QUARANTINE;
		hd = BWE_HD_QUARANTINE;
	} else if (pf & BWE_NC_EXEMPT) {
		reason = BWE_R_EXEMPT;
	} else {
		reason = BWE_R_PASS;
		ref = blocklist_ref(peer);
		if (ref & BWE_REF_MONITOR) {
			reason = BWE_R_MONITOR;
		} else if (ref) {
			reason = BWE_R_BLOCK;
			hd = BWE_HD_BLOCK;
		}
		if (reason != BWE_R_BLOCK && (hf & BWE_NC_THROTTLE)) {
			struct bwe_throttle *t = bpf_map_lookup_elem(&bwe_throttle, host);

			if (t && !bucket_take(t, out, f->len, bpf_ktime_get_ns())) {
				reason = BWE_R_THROTTLE;
				hd = BWE_HD_THROTTLE;
			}
		}
	}
	if (cfg->flags & BWE_CFG_DRYRUN)
		reason = bwe_reason_dryrun(reason);

	v.reason = reason;
	v.hd = hd;
	v.ref = ref;
	v.now = now;
	/* The host's record, of either home (bwe_abi.h), or a stand-in when it
	 * has none: the rest is verified once for all, in bwe_judged(). A slot
	 * host's outbound blocklist drop is counted apart (slot_drop()); its
	 * record is then only for the event's copies, asked here (v.counted
	 * without learn says they did not hold the event and the ring had room). */
	hs = record_of(host, hc->row, &slot);
	if (hs && slot != BWE_NO_SLOT && out && reason == BWE_R_BLOCK &&
	    slot_drop(slot, f->len, f->pkts, now)) {
		/* Its event is all that is left. Already reported within the
		 * window (the host's copy says so, as emit_event() would find),
		 * or no room for it: unless there is a MAC to report, count
		 * the verdict (and a lost event), as bwe_judged() would,
		 * without the call, the ring's query or the event's build (a
		 * flood of drops). A ring this CPU found full this tick is
		 * asked first: the host's copy is another line of a record
		 * that may be cold. */
		if (!learn && reported_recently(hs, BWE_EV_BLOCK_HIT, BWE_DIR_OUT, peer, now,
						cfg->event_dedup_ns)) {
			count_n(reason, BWE_SD_OUT, f->pkts, f->len);
			return reason;
		}
		if (!learn && !ring_room(now, RING_ONE_MORE)) {
			count(BWE_A_EVENT_LOST, BWE_SD_NONE, f->len);
			count_n(reason, BWE_SD_OUT, f->pkts, f->len);
			return reason;
		}
		v.counted = 1;
	} else {
		hs = host_stats(host, out, now, hc, gen, hs, slot);
	}
	v.tracked = !!hs;
	if (!hs)
		hs = bpf_map_lookup_elem(&bwe_scratch, &zero);
	if (!hs) {
		count(BWE_R_ABORTED, BWE_SD_NONE, f->len);
		return BWE_R_ABORTED;
	}
	return bwe_judged(p, cfg, f, hs, &v);
}

/*
 * A reply through a translating interface, with its translation reversed
 * (by the kernel: bwe_tc_egress; by the flowtable's entry: flow_reply()),
 * judged with the host as its destination; f->mac: the host's MAC (the
 * frame's destination). BWE_R_TRANSIT, not judged nor counted, when it has
 * no internal destination or comes from inside.
 */
static __always_inline __u32 judge_reply(const struct bwe_pkt *p, const struct bwe_config *cfg,
					 const struct bwe_frame *f)
{
	struct bwe_class sc, dc;
	__u32 gen = *(volatile __u32 *)&cfg->nc_gen; /* before the classes: class_of() */

	class_of(&p->src, gen, &sc);
	class_of(&p->dst, gen, &dc);
	if ((sc.flags & BWE_NC_INTERNAL) || !(dc.flags & BWE_NC_INTERNAL))
		return BWE_R_TRANSIT;
	return judge(p, cfg, f, 0, dc.flags | mac_flags(cfg, f->mac), sc.flags, 0, &dc, gen);
}

/*
 * A reply arriving on a translating interface that forwards through the
 * flowtable: when the flowtable has its connection, it is judged here as it
 * will leave (judge_reply(): the entry names the internal host; f->mac
 * becomes the host's) and, when passed, forwarded in XDP; XDP_DROP when the
 * verdict drops it. -1 when it is left to the stack (and to bwe_tc_egress):
 * no usable entry, no internal destination once translated, or not a
 * flowtable interface. p: the packet as it came, then as it leaves.
 */
static __always_inline int flow_reply(struct xdp_md *ctx, const struct bwe_config *cfg,
				      struct bwe_pkt *p, struct bwe_frame *f)
{
	struct bwe_fwd_plan *pl;
	__u32 reason, zero = 0;

	if (fwd_plan(ctx, cfg->flags, BWE_FWD_REPLY))
		return -1;
	pl = bpf_map_lookup_elem(&bwe_fwd_plan, &zero);
	if (!pl)
		return -1; /* cannot happen: an array's only entry */
	p->src = pl->src;
	p->dst = pl->dst;
	if (p->flags & BWE_PF_PORTS) {
		p->sport = pl->sport;
		p->dport = pl->dport;
	}
	__builtin_memcpy(f->mac, pl->fib.dmac, BWE_MAC_LEN);
	reason = judge_reply(p, cfg, f);
	if (reason == BWE_R_TRANSIT) {
		fwd_count(fwd_stats_at(pl->stats), BWE_FWD_S_NAT, f->len);
		return -1;
	}
	return bwe_reason_drops(reason) ? XDP_DROP : fwd_commit(ctx);
}

/*
 * What becomes of a judged IP packet that the verdict passes: the stack's,
 * or the fast path's where some interface forwards in XDP (forward.bpf.h);
 * with BWE_CFG_FWD clear, one flag test and XDP_PASS as before.
 */
static __always_inline int passed(struct xdp_md *ctx, const struct bwe_config *cfg)
{
	return (cfg->flags & BWE_CFG_FWD) ? bwe_forward(ctx, cfg->flags) : XDP_PASS;
}

SEC("xdp")
int bwe_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct bwe_frame f = { .len = data_end - data, .pkts = 1, .ifindex = ctx->ingress_ifindex };
	struct bwe_pkt p = {};
	struct bwe_class sc, dc;
	struct bwe_config *cfg;
	__u32 zero = 0, sf, df, macf, reason, gen;
	int rc, out;
	__u8 ref;

	rc = bwe_parse(data, data_end, &p);
	if (rc == BWE_P_NON_IP) {
		count(BWE_R_NON_IP, BWE_SD_NONE, f.len);
		return XDP_PASS;
	}
	if (rc != BWE_P_IP || data + ETH_HLEN > data_end) {
		count(BWE_R_MALFORMED, BWE_SD_NONE, f.len);
		return XDP_DROP;
	}
	if (p.flags & BWE_PF_FRAGMENT)
		count(BWE_A_FRAGMENT, BWE_SD_NONE, f.len);
	if (p.flags & BWE_PF_L4_TRUNC)
		count(BWE_A_L4_TRUNCATED, BWE_SD_NONE, f.len);
	if (p.flags & BWE_PF_EXT_LIMIT)
		count(BWE_A_EXTHDR_LIMIT, BWE_SD_NONE, f.len);

	cfg = bpf_map_lookup_elem(&bwe_config, &zero);
	if (!cfg) {
		count(BWE_R_ABORTED, BWE_SD_NONE, f.len);
		return XDP_ABORTED;
	}
	__builtin_memcpy(f.mac, ((struct ethhdr *)data)->h_source, BWE_MAC_LEN);
	macf = mac_flags(cfg, f.mac);

	/* Classify by address: outbound when the source is inside. What stays
	 * on the link (neighbour discovery, DHCP) is transit: never forwarded,
	 * it keeps a contained host resolvable and its management reachable.
	 * A frame from a listed MAC is its host's whatever source address it
	 * carries, unless it goes to an internal address (LAN to LAN: transit). */
	if (dst_stays_on_link(&p.dst)) {
		count(BWE_R_TRANSIT, BWE_SD_NONE, f.len);
		return XDP_PASS;
	}
	gen = *(volatile __u32 *)&cfg->nc_gen; /* before the classes: class_of() */
	class_of(&p.src, gen, &sc);
	class_of(&p.dst, gen, &dc);
	sf = sc.flags;
	df = dc.flags;
	if (macf && !(df & BWE_NC_INTERNAL)) {
		out = 1;
	} else if (!(sf & BWE_NC_INTERNAL) == !(df & BWE_NC_INTERNAL)) {
		/* Transit. What comes from or goes to a listed peer and has no
		 * internal side (the gateway's own addresses) is dropped too. */
		ref = 0;
		if (!(sf & BWE_NC_INTERNAL)) { /* neither side internal */
			if (!(sf & (BWE_NC_ALLOW | BWE_NC_EXEMPT)))
				ref = blocklist_ref(&p.src);
			if ((!ref || (ref & BWE_REF_MONITOR)) &&
			    !(df & (BWE_NC_ALLOW | BWE_NC_EXEMPT)))
				ref = blocklist_ref(&p.dst);
		}
		if (ref && !(ref & BWE_REF_MONITOR)) {
			reason = BWE_R_BLOCK;
			if (cfg->flags & BWE_CFG_DRYRUN)
				reason = bwe_reason_dryrun(reason);
			count(reason, BWE_SD_NONE, f.len);
			return bwe_reason_drops(reason) ? XDP_DROP : passed(ctx, cfg);
		}
		if (!(sf & BWE_NC_INTERNAL) && iface_translates(cfg, f.ifindex, &p.src))
			goto deferred;
		count(BWE_R_TRANSIT, BWE_SD_NONE, f.len);
		return passed(ctx, cfg);
	} else {
		out = !!(sf & BWE_NC_INTERNAL);
		/* Inbound through a translating interface: judged at the LAN
		 * egress, where the host is known; only listed peers stop here. */
		if (!out && iface_translates(cfg, f.ifindex, &p.src)) {
			ref = (sf & (BWE_NC_ALLOW | BWE_NC_EXEMPT)) || (df & BWE_NC_ALLOW)
				      ? 0
				      : blocklist_ref(&p.src);
			if (ref && !(ref & BWE_REF_MONITOR)) {
				reason = BWE_R_BLOCK;
				if (cfg->flags & BWE_CFG_DRYRUN)
					reason = bwe_reason_dryrun(reason);
				count(reason, BWE_SD_IN, f.len);
				return bwe_reason_drops(reason) ? XDP_DROP : XDP_PASS;
			}
			goto deferred;
		}
	}

	if (out)
		reason = judge(&p, cfg, &f, 1, sf | macf, df, macf & ~sf, &sc, gen);
	else
		reason = judge(&p, cfg, &f, 0, df, sf, 0, &dc, gen);
	return bwe_reason_drops(reason) ? XDP_DROP : passed(ctx, cfg);

deferred:
	/* bwe_ft_kfunc first: without the kfunc, the verifier skips this path */
	if (bwe_ft_kfunc && (cfg->flags & BWE_CFG_FWD)) {
		rc = flow_reply(ctx, cfg, &p, &f);
		if (rc >= 0)
			return rc;
	}
	count(BWE_A_NAT_DEFERRED, BWE_SD_NONE, f.len);
	return XDP_PASS;
}

/*
 * TC egress of the LAN interfaces, attached only where an interface
 * translates (BWE_CFG_NAT4/6): the inbound half of the pipeline for packets
 * of a translated family that did not arrive on an attached interface that
 * leaves it untranslated (so XDP did not judge them), after the kernel
 * reversed the translation (docs/architecture.md, "NAT gateways"). The
 * arriving device may be the translating one or a device stacked on it
 * (bridge, VLAN, PPP), which is why only the attached interfaces that do
 * not translate are named. Everything else leaves untouched.
 */
SEC("tc")
int bwe_tc_egress(struct __sk_buff *skb)
{
	void *data, *data_end;
	struct bwe_frame f = { .ifindex = skb->ingress_ifindex };
	struct bwe_pkt p = {};
	struct bwe_iface_val *iv;
	struct bwe_config *cfg;
	__u32 zero = 0, reason;
	int rc;

	cfg = bpf_map_lookup_elem(&bwe_config, &zero);
	if (!cfg || !(cfg->flags & (BWE_CFG_NAT4 | BWE_CFG_NAT6)) || !f.ifindex)
		return TC_ACT_OK; /* nothing translated, or the gateway's own packet */
	iv = bpf_map_lookup_elem(&bwe_ifaces, &f.ifindex);
	if (iv && !iv->flags)
		return TC_ACT_OK; /* arrived where XDP judged it (a LAN host's way out) */

	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	rc = bwe_parse(data, data_end, &p);
	if (rc == BWE_P_MALFORMED && skb->len > data_end - data) {
		/* headers beyond the linear part: pull them in and read again */
		if (bpf_skb_pull_data(skb, skb->len < BWE_TC_PULL ? skb->len : BWE_TC_PULL))
			return TC_ACT_OK;
		data = (void *)(long)skb->data;
		data_end = (void *)(long)skb->data_end;
		__builtin_memset(&p, 0, sizeof(p));
		rc = bwe_parse(data, data_end, &p);
	}
	if (rc != BWE_P_IP || data + ETH_HLEN > data_end)
		return TC_ACT_OK; /* the kernel judged it sound enough to forward */
	if (!(cfg->flags & nat_bit(&p.src, BWE_CFG_NAT4, BWE_CFG_NAT6)))
		return TC_ACT_OK; /* its family is translated nowhere: XDP judged it */
	if (iv && !(iv->flags & nat_bit(&p.src, BWE_IF_NAT4, BWE_IF_NAT6)))
		return TC_ACT_OK; /* arrived where XDP judged it: family not translated there */
	/* Wire bytes: qdisc_pkt_len_init() counted every segment's headers. */
	f.pkts = skb->gso_segs > 1 ? skb->gso_segs : 1;
	f.len = skb->wire_len ? skb->wire_len : skb->len;
	__builtin_memcpy(f.mac, ((struct ethhdr *)data)->h_dest, BWE_MAC_LEN);
	reason = judge_reply(&p, cfg, &f);
	return bwe_reason_drops(reason) ? TC_ACT_SHOT : TC_ACT_OK;
}

/*
 * The tick clock's scale, for lib/dataplane.c, which runs this on a test
 * frame that carries the answer back (struct bwe_clock_pair): jiffies and
 * the coarse clock read together (jiffies twice: a tick between them spoils
 * the pair). Never attached. (Not the kernel's CONFIG_HZ through a libbpf
 * kconfig extern: libbpf would read /proc/config.gz, which the unit's
 * ProcSubset=pid hides.)
 */
SEC("xdp")
int bwe_clock(struct xdp_md *ctx)
{
	struct bwe_clock_pair *c = (void *)(long)ctx->data;

	if ((void *)(c + 1) > (void *)(long)ctx->data_end)
		return XDP_ABORTED;
	c->jiffies = bpf_jiffies64();
	c->coarse_ns = bpf_ktime_get_coarse_ns();
	c->jiffies_after = bpf_jiffies64();
	return XDP_PASS;
}
