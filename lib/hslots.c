// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* hslots.c - the IPv4 host slots' assignment; contract in hslots.h. */
#include <errno.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <bpf/bpf.h>

#include "addr.h"
#include "bwe_rules.h"
#include "dataplane.h"
#include "hslots.h"

#define NO_SEQ 0u /* a block or row never given up */

struct bwe_hslots {
	const struct bwe_dp *dp;
	__u32 blocks;			 /* blocks to hand out (rows: as many) */
	__u32 used;			 /* blocks serving a /24 */
	struct bwe_hslot24_val *hslot24; /* mmap of bwe_hslot24: blocks * 256 entries */
	size_t hslot24_len;		 /* bytes mapped */
	__u64 *sent;			 /* mmap of bwe_hslot_sent: a bit per slot */
	size_t sent_len;		 /* bytes mapped */
	__u32 sent_words;		 /* its entries */
	struct bwe_hslot_drop *drops;	 /* mmap of bwe_hslot_drop: ncpus runs of slots */
	size_t drops_len;		 /* bytes mapped */
	__u32 slots;			 /* slots (bwe_hslots' entries): a run's length */
	void *zeros;			 /* one record on every CPU, all zero (forget) */
	__u32 *net;			 /* block -> its /24 + 1; 0: free */
	__u32 *block_freed;		 /* block -> the change that freed it (NO_SEQ: never) */
	__u8 *dirty;			 /* block -> may hold records (else all zero, as created) */
	__u32 *row_net;			 /* row - 1 -> its /16 + 1; 0: free */
	__u32 *row_freed;		 /* row - 1 -> the change that freed it */
	__u32 *row_blocks;		 /* row - 1 -> blocks in it */
	__u32 row16[BWE_NC16_ENTRIES];	 /* /16 -> its row (1-based), 0: none */
	__u32 seq;			 /* changes made, this process */
};

static int hslots_fd(const struct bwe_hslots *h)
{
	return bwe_dp_map_fd(h->dp, BWE_MAP_HSLOTS);
}

__u32 bwe_hslots_blocks(const struct bwe_hslots *h)
{
	return h->blocks;
}

__u32 bwe_hslots_used(const struct bwe_hslots *h)
{
	return h->used;
}

bool bwe_hslots_block_net(const struct bwe_hslots *h, __u32 b, __u32 *net24)
{
	if (b >= h->blocks || !h->net[b])
		return false;
	*net24 = h->net[b] - 1;
	return true;
}

bool bwe_hslots_slot(const struct bwe_hslots *h, __u32 a, __u32 *slot)
{
	__u32 row = h->row16[a >> 16], e;

	if (!row)
		return false;
	e = h->hslot24[(row - 1) * 256u + ((a >> 8) & 0xff)].block;
	if (!e || e > h->blocks)
		return false;
	*slot = (e - 1) * BWE_HSLOT_BLOCK + (a & 0xff);
	return true;
}

void bwe_hslots_drops(const struct bwe_hslots *h, __u32 slot, struct bwe_hslot_drop *out)
{
	int c;

	for (c = 0; c < h->dp->ncpus; c++)
		out[c] = h->drops[bwe_hslot_drop_index((__u32)c, slot, h->slots)];
}

/* Zero the drop entries of slots first .. first + n - 1 on every CPU. */
static void drops_zero(const struct bwe_hslots *h, __u32 first, __u32 n)
{
	int c;

	for (c = 0; c < h->dp->ncpus; c++)
		memset(&h->drops[bwe_hslot_drop_index((__u32)c, first, h->slots)], 0,
		       n * sizeof(*h->drops));
}

void bwe_hslots_free(struct bwe_hslots *h)
{
	if (!h)
		return;
	if (h->hslot24)
		munmap(h->hslot24, h->hslot24_len);
	if (h->sent)
		munmap(h->sent, h->sent_len);
	if (h->drops)
		munmap(h->drops, h->drops_len);
	free(h->zeros);
	free(h->net);
	free(h->block_freed);
	free(h->dirty);
	free(h->row_net);
	free(h->row_freed);
	free(h->row_blocks);
	free(h);
}

/*
 * Read the assignment back from the maps: each /16's row (bwe_nc16) and
 * each row's entries. What does not add up (a row or block out of range,
 * or named twice: maps another build left) is dropped from the maps.
 */
static void read_back(struct bwe_hslots *h)
{
	__u32 i, o, row, e;

	for (i = 0; i < BWE_NC16_ENTRIES; i++) {
		row = h->dp->nc16[i].row;
		if (!row)
			continue;
		if (row > h->blocks || h->row_net[row - 1]) {
			h->dp->nc16[i].row = 0;
			continue;
		}
		h->row_net[row - 1] = i + 1;
		h->row16[i] = row;
	}
	for (row = 1; row <= h->blocks; row++) {
		for (o = 0; o < 256; o++) {
			__u32 *ent = &h->hslot24[(row - 1) * 256u + o].block;

			e = *ent;
			if (!e)
				continue;
			if (!h->row_net[row - 1] || e > h->blocks || h->net[e - 1]) {
				*ent = 0;
				continue;
			}
			h->net[e - 1] = (((h->row_net[row - 1] - 1) << 8) | o) + 1;
			h->row_blocks[row - 1]++;
			h->used++;
		}
	}
}

int bwe_hslots_open(struct bwe_hslots **out, const struct bwe_dp *dp, __u32 blocks)
{
	int fd = bwe_dp_map_fd(dp, BWE_MAP_HSLOT24), sfd = bwe_dp_map_fd(dp, BWE_MAP_HSLOT_SENT);
	int dfd = bwe_dp_map_fd(dp, BWE_MAP_HSLOT_DROP);
	struct bwe_hslots *h;
	size_t max, words, drops;
	int err;

	if (fd < 0)
		return fd;
	if (sfd < 0)
		return sfd;
	if (dfd < 0)
		return dfd;
	err = bwe_map_max_entries(fd, &max);
	err = err ?: bwe_map_max_entries(sfd, &words);
	err = err ?: bwe_map_max_entries(dfd, &drops);
	if (err)
		return err;
	if (blocks > max / 256u)
		return -EINVAL; /* the maps are smaller than asked */
	if (drops != max * (size_t)dp->ncpus)
		return -EINVAL; /* a run of drop entries per CPU, as long as the slots */
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->dp = dp;
	h->blocks = blocks;
	h->hslot24_len = max * sizeof(*h->hslot24);
	h->hslot24 = mmap(NULL, h->hslot24_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	h->sent_words = (__u32)words;
	h->sent_len = words * sizeof(*h->sent);
	h->sent = mmap(NULL, h->sent_len, PROT_READ | PROT_WRITE, MAP_SHARED, sfd, 0);
	h->slots = (__u32)max;
	h->drops_len = drops * sizeof(*h->drops);
	h->drops = mmap(NULL, h->drops_len, PROT_READ | PROT_WRITE, MAP_SHARED, dfd, 0);
	h->zeros = calloc((size_t)dp->ncpus, sizeof(struct bwe_host_stats));
	h->net = calloc(blocks + 1, sizeof(*h->net));
	h->block_freed = calloc(blocks + 1, sizeof(*h->block_freed));
	h->dirty = malloc(blocks + 1);
	h->row_net = calloc(blocks + 1, sizeof(*h->row_net));
	h->row_freed = calloc(blocks + 1, sizeof(*h->row_freed));
	h->row_blocks = calloc(blocks + 1, sizeof(*h->row_blocks));
	if (h->hslot24 == MAP_FAILED || h->sent == MAP_FAILED || h->drops == MAP_FAILED) {
		err = -errno;
		if (h->hslot24 == MAP_FAILED)
			h->hslot24 = NULL;
		if (h->sent == MAP_FAILED)
			h->sent = NULL;
		if (h->drops == MAP_FAILED)
			h->drops = NULL;
	} else if (!h->zeros || !h->net || !h->block_freed || !h->dirty || !h->row_net ||
		   !h->row_freed || !h->row_blocks) {
		err = -ENOMEM;
	}
	if (err) {
		bwe_hslots_free(h);
		return err;
	}
	h->seq = NO_SEQ;
	/* maps just created are all zero; pinned ones may hold an earlier run's records */
	memset(h->dirty, dp->reused, blocks + 1);
	read_back(h);
	*out = h;
	return 0;
}

/* Whether /24 x is in one of the n sorted runs of want. */
static bool wanted(const struct bwe_range24 *want, size_t n, __u32 x)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (x < want[mid].lo)
			hi = mid;
		else if (x > want[mid].hi)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

/*
 * Ready block b for /24 x before it is published: every record and
 * bwe_hslot_drop entry zeroed on every CPU and its sent bit clear, except
 * that a host bwe_hosts already tracks (before this /24 had a block: an
 * earlier configuration, or room that ran out) brings its record along,
 * sent bit set (sent[]: those hosts, whose bwe_hosts entries block_moved()
 * removes once the block is published); its drops are in the record. A
 * block as the map was created, with nothing to bring, is left as it is:
 * zero already. zeros: ncpus * BWE_HSLOT_BLOCK records, all zero, and left
 * so.
 */
static int block_init(const struct bwe_hslots *h, __u32 b, __u32 x, void *zeros, __u32 *keys,
		      __u64 sent[BWE_HSLOT_WORDS], bool hash_empty)
{
	int fd = hslots_fd(h), sfd = bwe_dp_map_fd(h->dp, BWE_MAP_HSLOT_SENT);
	int hfd = bwe_dp_map_fd(h->dp, BWE_MAP_HOSTS), err = 0;
	size_t rec = (size_t)h->dp->ncpus * sizeof(struct bwe_host_stats);
	__u32 i, count = BWE_HSLOT_BLOCK;
	struct bwe_addr a;

	if (h->dirty[b]) /* no host brings drop entries: its drops are in its record */
		drops_zero(h, b * BWE_HSLOT_BLOCK, BWE_HSLOT_BLOCK);
	memset(sent, 0, BWE_HSLOT_WORDS * sizeof(*sent));
	for (i = 0; i < BWE_HSLOT_BLOCK && !hash_empty; i++) {
		bwe_addr_from_v4(htonl((x << 8) | i), &a);
		if (!bpf_map_lookup_elem(hfd, &a, (char *)zeros + i * rec))
			sent[bwe_hslot_sent_word(i)] |= bwe_hslot_sent_bit(i);
	}
	if (!h->dirty[b] && !(sent[0] | sent[1] | sent[2] | sent[3]))
		return 0; /* as created: all zero, nothing to bring */
	for (i = 0; i < BWE_HSLOT_BLOCK; i++)
		keys[i] = b * BWE_HSLOT_BLOCK + i;
	if (bpf_map_update_batch(fd, keys, zeros, &count, NULL))
		err = -errno;
	for (i = 0; i < BWE_HSLOT_WORDS && !err; i++) {
		__u32 w = b * BWE_HSLOT_WORDS + i;

		if (bpf_map_update_elem(sfd, &w, &sent[i], BPF_ANY))
			err = -errno;
	}
	for (i = 0; i < BWE_HSLOT_BLOCK; i++)
		if (sent[bwe_hslot_sent_word(i)] & bwe_hslot_sent_bit(i))
			memset((char *)zeros + i * rec, 0, rec);
	return err;
}

/* The bwe_hosts entries of /24 x's hosts that block_init() brought along go. */
static void block_moved(const struct bwe_hslots *h, __u32 x, const __u64 sent[BWE_HSLOT_WORDS])
{
	int hfd = bwe_dp_map_fd(h->dp, BWE_MAP_HOSTS);
	struct bwe_addr a;
	__u32 i;

	for (i = 0; i < BWE_HSLOT_BLOCK; i++) {
		if (!(sent[bwe_hslot_sent_word(i)] & bwe_hslot_sent_bit(i)))
			continue;
		bwe_addr_from_v4(htonl((x << 8) | i), &a);
		bpf_map_delete_elem(hfd, &a);
	}
}

/* Give up block b: its /24's entry goes first, then the block is free after this change. */
static void block_drop(struct bwe_hslots *h, __u32 b)
{
	__u32 x = h->net[b] - 1, row = h->row16[x >> 8];

	if (row) {
		h->hslot24[(row - 1) * 256u + (x & 0xff)].block = 0;
		h->row_blocks[row - 1]--;
	}
	h->net[b] = 0;
	h->block_freed[b] = h->seq;
	h->dirty[b] = 1;
	h->used--;
}

/* A block or row to hand out: free, and not given up in this change. UINT32_MAX: none. */
static __u32 take(const __u32 *owner, const __u32 *freed, __u32 n, __u32 seq, __u32 *cursor)
{
	for (; *cursor < n; (*cursor)++)
		if (!owner[*cursor] && freed[*cursor] != seq)
			return (*cursor)++;
	return UINT32_MAX;
}

int bwe_hslots_assign(struct bwe_hslots *h, const struct bwe_range24 *want, size_t n,
		      struct bwe_nc16_val *t16)
{
	__u32 b, r, x, bcur = 0, rcur = 0, *keys = NULL;
	__u64 sent[BWE_HSLOT_WORDS];
	struct bwe_addr k;
	void *zeros = NULL;
	bool hash_empty;
	size_t i;
	int err = 0;

	h->seq = h->seq + 1 ?: 1;
	/* an empty bwe_hosts has no record to bring along: no lookups */
	hash_empty = bpf_map_get_next_key(bwe_dp_map_fd(h->dp, BWE_MAP_HOSTS), NULL, &k) &&
		     errno == ENOENT;
	/* Blocks whose /24 is no longer internal: unpublished, their rows too when empty. */
	for (b = 0; b < h->blocks; b++)
		if (h->net[b] && !wanted(want, n, h->net[b] - 1))
			block_drop(h, b);
	/* New /24s, in address order, while blocks last. */
	for (i = 0; i < n && !err; i++) {
		for (x = want[i].lo; x <= want[i].hi && !err; x++) {
			__u32 *ent, row = h->row16[x >> 8];

			if (h->used >= h->blocks)
				goto rows;
			if (row && h->hslot24[(row - 1) * 256u + (x & 0xff)].block)
				continue; /* served already */
			b = take(h->net, h->block_freed, h->blocks, h->seq, &bcur);
			if (b == UINT32_MAX)
				goto rows; /* the rest were given up just now */
			if (!row) {
				r = take(h->row_net, h->row_freed, h->blocks, h->seq, &rcur);
				if (r == UINT32_MAX)
					goto rows;
				h->row_net[r] = (x >> 8) + 1;
				row = h->row16[x >> 8] = r + 1;
			}
			if (!zeros) {
				zeros = calloc((size_t)h->dp->ncpus * BWE_HSLOT_BLOCK,
					       sizeof(struct bwe_host_stats));
				keys = calloc(BWE_HSLOT_BLOCK, sizeof(*keys));
				if (!zeros || !keys) {
					err = -ENOMEM;
					break;
				}
			}
			err = block_init(h, b, x, zeros, keys, sent, hash_empty);
			if (err)
				break;
			ent = &h->hslot24[(row - 1) * 256u + (x & 0xff)].block;
			h->net[b] = x + 1;
			h->row_blocks[row - 1]++;
			h->used++;
			__atomic_store_n(ent, b + 1, __ATOMIC_RELEASE); /* published */
			block_moved(h, x, sent);
		}
	}
rows:
	/* Rows left without a block: free after this change, entries all zero. */
	for (r = 0; r < h->blocks; r++) {
		if (!h->row_net[r] || h->row_blocks[r])
			continue;
		h->row16[h->row_net[r] - 1] = 0;
		h->row_net[r] = 0;
		h->row_freed[r] = h->seq;
	}
	for (i = 0; i < BWE_NC16_ENTRIES; i++)
		t16[i].row = h->row16[i];
	free(zeros);
	free(keys);
	return err;
}

/*
 * The order against the program (xdp/bwe.bpf.c, slot_join() and
 * slot_drop()): the bit is cleared first, then the drop entry and the
 * record zeroed. A packet of the host on another
 * CPU meanwhile either finds its CPU's copy with a first-seen time and
 * counts into it (its bytes are zeroed with the rest, or land after the
 * zeroing: a few stale bytes in a record whose first_seen_ns is 0, which
 * the host's next outbound packet makes a host again, bit and all), or
 * finds no first-seen time and asks the bit after storing one (fully
 * ordered): clear, an inbound packet takes its store back and an outbound
 * one sets the bit again. Zeroing first and clearing after would let a
 * packet between the two store a first-seen time under a bit still set,
 * then lose the bit: a record the program fills and the daemon never
 * reads again. The AND is atomic on the word the program ORs other slots'
 * bits into: a map update of the word read a moment before could undo a
 * bit set since, and leave that host invisible the same way. A drop
 * counted in the drop entry alone needs the bit set when the program
 * reads it: one that read it just before the clear may land after the
 * zeroing (a load, an add and a store: that CPU's old counts come back,
 * as they can in a record), and with the bit clear the host's next frame
 * goes through the record and its join.
 */
int bwe_hslots_forget(const struct bwe_hslots *h, __u32 slot)
{
	__u32 w = bwe_hslot_sent_word(slot);
	__u64 bit = bwe_hslot_sent_bit(slot);

	if (w >= h->sent_words || slot / BWE_HSLOT_BLOCK >= h->blocks)
		return -EINVAL;
	if (!(__atomic_fetch_and(&h->sent[w], ~bit, __ATOMIC_SEQ_CST) & bit))
		return 0; /* not a host (forgotten already, or never sent) */
	drops_zero(h, slot, 1);
	if (bpf_map_update_elem(hslots_fd(h), &slot, h->zeros, BPF_ANY)) {
		int err = -errno;

		/* a record left with its first-seen times must stay visible */
		__atomic_fetch_or(&h->sent[w], bit, __ATOMIC_SEQ_CST);
		return err;
	}
	return 1;
}
