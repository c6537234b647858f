// SPDX-License-Identifier: GPL-2.0-only
/*
 * lookup.bpf.c - programs of the map-scaling benchmark (BENCHMARKS.md
 * tier 2), run only through bpf_prog_test_run_opts, never attached, and one
 * of the real-frames benchmark (tier 3), which attaches it.
 *
 * Each tier 2 program is one bpf_loop over BENCH_LOOP_ITERS random keys:
 *   bench_base  the key draw alone (the baseline subtracted from the others);
 *   bench_lpm   one lookup in a plain LPM trie holding every entry;
 *   bench_hash  one lookup in a plain hash holding every entry as an exact key;
 *   bench_ours  the enforcer's blocklist decision (blocklist_ref below)
 *               against the enforcer's own maps.
 * The tier 3 program:
 *   bench_decide the enforcer's parser and blocklist decision for a frame's
 *               destination, and nothing else: XDP_DROP when it is listed,
 *               else XDP_PASS (the floor of the enforcer's drop path).
 * The enforcer's maps come from xdp/maps.bpf.h, so their definitions are the
 * enforcer's by construction; user space (map_scale.c, live_frames.c) hands
 * this object the file descriptors of a loaded enforcer (bench_share_maps(),
 * bpf_map__reuse_fd) filled through lib/blocklist.c.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "bwe_abi.h"
#include "parse.bpf.h" /* bwe_parse(), bwe_addr_set_v4() */
#include "maps.bpf.h"
#include "blocklist.bpf.h" /* the enforcer's decision, not a copy */
#include "map_scale.h"

#define LOOKUP_PLEN 128 /* an LPM lookup key is a whole address */

char LICENSE[] SEC("license") = "GPL";

/* Set before load. */
const volatile __u32 bench_iters = BENCH_LOOP_ITERS;
const volatile __u32 bench_pool_n = 1; /* addresses in bench_pool, >= 1 */

/* Set by user space between runs, and the last run's results. */
__u32 bench_keys; /* enum bench_keys */
__u64 bench_hits; /* lookups that found an entry */
__u64 bench_done; /* iterations bpf_loop ran */

/* Key pool: one address per entry (a host, or an address inside a prefix). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* sized by user space */
	__type(key, __u32);
	__type(value, struct bwe_addr);
} bench_pool SEC(".maps");

/* The comparison trie: every entry, keyed like the enforcer's tries. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1); /* sized by user space */
	__type(key, struct bwe_lpm_key);
	__type(value, struct bwe_bl_val);
} bench_lpm SEC(".maps");

/* The comparison hash: every entry's address as an exact key (right for /32s only). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1); /* sized by user space */
	__type(key, struct bwe_addr);
	__type(value, struct bwe_bl_val);
} bench_hash SEC(".maps");

struct bench_loop {
	__u32 keys; /* enum bench_keys, read once per run */
	__u32 pad;
	__u64 hits;
};

/* One random key; 0, or -1 when the pool lookup fails (cannot happen). */
static __always_inline int draw_key(const struct bench_loop *c, struct bwe_addr *k)
{
	__u32 r = bpf_get_prandom_u32();
	struct bwe_addr *p;
	__u32 i;

	if (c->keys == BENCH_KEYS_ANY) {
		bwe_addr_set_v4(k, r);
		return 0;
	}
	/* r * n / 2^32: uniform in [0, n) without a division */
	i = (__u32)(((__u64)r * bench_pool_n) >> 32);
	p = bpf_map_lookup_elem(&bench_pool, &i);
	if (!p)
		return -1;
	*k = *p;
	return 0;
}

static long loop_base(__u32 i, void *data)
{
	struct bench_loop *c = data;
	struct bwe_addr k;

	if (draw_key(c, &k))
		return 1;
	c->hits += k.w[3] & 1; /* use the key, or the compiler drops the draw */
	return 0;
}

static long loop_lpm(__u32 i, void *data)
{
	struct bench_loop *c = data;
	struct bwe_lpm_key key = { .prefixlen = LOOKUP_PLEN };

	if (draw_key(c, &key.addr))
		return 1;
	c->hits += bpf_map_lookup_elem(&bench_lpm, &key) != NULL;
	return 0;
}

static long loop_hash(__u32 i, void *data)
{
	struct bench_loop *c = data;
	struct bwe_addr k;

	if (draw_key(c, &k))
		return 1;
	c->hits += bpf_map_lookup_elem(&bench_hash, &k) != NULL;
	return 0;
}

static long loop_ours(__u32 i, void *data)
{
	struct bench_loop *c = data;
	struct bwe_addr k;

	if (draw_key(c, &k))
		return 1;
	c->hits += blocklist_ref(&k) != BWE_REF_NONE;
	return 0;
}

static __always_inline int finish(long done, const struct bench_loop *c)
{
	bench_done = done < 0 ? 0 : (__u64)done;
	bench_hits = c->hits;
	return XDP_PASS;
}

SEC("xdp")
int bench_base(struct xdp_md *ctx)
{
	struct bench_loop c = { .keys = bench_keys };

	return finish(bpf_loop(bench_iters, loop_base, &c, 0), &c);
}

SEC("xdp")
int bench_lpm_lookup(struct xdp_md *ctx)
{
	struct bench_loop c = { .keys = bench_keys };

	return finish(bpf_loop(bench_iters, loop_lpm, &c, 0), &c);
}

SEC("xdp")
int bench_hash_lookup(struct xdp_md *ctx)
{
	struct bench_loop c = { .keys = bench_keys };

	return finish(bpf_loop(bench_iters, loop_hash, &c, 0), &c);
}

SEC("xdp")
int bench_ours(struct xdp_md *ctx)
{
	struct bench_loop c = { .keys = bench_keys };

	return finish(bpf_loop(bench_iters, loop_ours, &c, 0), &c);
}

SEC("xdp")
int bench_decide(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct bwe_pkt p = {};

	if (bwe_parse(data, data_end, &p) != BWE_P_IP)
		return XDP_PASS;
	return blocklist_ref(&p.dst) == BWE_REF_NONE ? XDP_PASS : XDP_DROP;
}
