// SPDX-License-Identifier: GPL-2.0-only
/*
 * hosts.c - sample per-host accounting with batch map reads (one syscall per
 * batch, not per host), merge the per-CPU copies, and derive rates from the
 * previous sample; contract in hosts.h.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <bpf/bpf.h>

#include "addr.h"
#include "addrmap.h"
#include "hosts.h"
#include "bwe_rules.h"
#include "hslots.h"
#include "log.h"

/*
 * The per-CPU records of one batch lookup: at most this many bytes (1 MiB:
 * 1,110 hosts on 2 CPUs; on 64 CPUs 34 hosts would do, so at least
 * SAMPLE_BATCH_MIN), never the whole table's.
 */
#define SAMPLE_BATCH_BYTES (1U << 20)
#define SAMPLE_BATCH_MIN   64U
#define SAMPLE_BATCH_MAX   4096U

/*
 * What the next sample's rates need of a host: its byte counters, in a
 * record indexed by address (24 bytes, and the index's slot). The records
 * and the index are updated in place, sample after sample: a host the
 * sample did not hold loses its record, which the next new host takes.
 * Nothing of their size is freed and allocated again every second (the
 * heap would keep what it freed: 3 MiB of index with 65,536 hosts). The
 * records are a private anonymous mapping sized to the map's max_entries
 * (only the pages used are touched), grown when entries move while read.
 */
#define NO_RECORD UINT32_MAX

struct host_bytes {
	__u64 tx_bytes, rx_bytes;
	__u32 sample;	 /* the last sample that held the host; 0: a free record */
	__u32 next_free; /* of a free record: the next one, or NO_RECORD */
};

struct bytes_buf {
	struct host_bytes *v;
	size_t cap; /* entries mapped */
};

struct hosts {
	const struct bwe_dp *dp;
	struct bytes_buf buf; /* the records; the index's values point into it */
	size_t used;	      /* records handed out, free ones included */
	__u32 free_head;      /* the first free record, or NO_RECORD */
	__u32 sample;	      /* number of the last sample, 0 before the first */
	size_t in_slots;      /* hosts of the last sample in a host slot */
	struct bwe_amap idx;  /* addr -> record */
	struct timespec sampled_at;
};

static void buf_free(struct bytes_buf *b)
{
	if (b->v)
		munmap(b->v, b->cap * sizeof(*b->v));
	b->v = NULL;
	b->cap = 0;
}

/* Room for want entries, keeping those there. 0 or -ENOMEM. */
static int buf_reserve(struct bytes_buf *b, size_t want)
{
	void *p;

	if (want <= b->cap)
		return 0;
	p = b->v ? mremap(b->v, b->cap * sizeof(*b->v), want * sizeof(*b->v), MREMAP_MAYMOVE)
		 : mmap(NULL, want * sizeof(*b->v), PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -ENOMEM;
	b->v = p;
	b->cap = want;
	return 0;
}

/* A record for a new host: a freed one, else the next; NO_RECORD without memory. */
static __u32 record_take(struct hosts *hs)
{
	__u32 r = hs->free_head;

	if (r != NO_RECORD) {
		hs->free_head = hs->buf.v[r].next_free;
		return r;
	}
	if (hs->used >= NO_RECORD ||
	    buf_reserve(&hs->buf, hs->used < hs->buf.cap ? 0 : 2 * hs->used + 1))
		return NO_RECORD;
	return (__u32)hs->used++;
}

static void record_free(struct hosts *hs, __u32 r)
{
	hs->buf.v[r].sample = 0;
	hs->buf.v[r].next_free = hs->free_head;
	hs->free_head = r;
}

int hosts_new(struct hosts **out, const struct bwe_dp *dp)
{
	struct hosts *h = calloc(1, sizeof(*h));

	if (!h)
		return -ENOMEM;
	h->dp = dp;
	h->free_head = NO_RECORD;
	bwe_amap_init(&h->idx);
	*out = h;
	return 0;
}

void hosts_free(struct hosts *h)
{
	if (!h)
		return;
	buf_free(&h->buf);
	bwe_amap_free(&h->idx);
	free(h);
}

size_t hosts_count(const struct hosts *h)
{
	return h->idx.n;
}

size_t hosts_in_slots(const struct hosts *h)
{
	return h->in_slots;
}

bool hosts_has(const struct hosts *h, const struct bwe_addr *a)
{
	return bwe_amap_get(&h->idx, a) != NULL;
}

static double ts_diff(const struct timespec *a, const struct timespec *b)
{
	return (double)(a->tv_sec - b->tv_sec) + (double)(a->tv_nsec - b->tv_nsec) / 1e9;
}

/*
 * A host's record from its per-CPU copies (and a slot host's drop entries,
 * NULL: none); its rates over dt seconds from prev, its counters in the
 * last sample (NULL: none).
 */
static void merge(const struct bwe_addr *a, const struct bwe_host_stats *cpu,
		  const struct bwe_hslot_drop *drops, int ncpu, const struct host_bytes *prev,
		  double dt, struct host_sample *h)
{
	memset(h, 0, sizeof(*h));
	h->addr = *a;
	bwe_dp_host_merge(&h->st, cpu, drops, ncpu);
	if (prev && dt > 0) {
		if (h->st.tx_bytes >= prev->tx_bytes)
			h->tx_bps = (double)(h->st.tx_bytes - prev->tx_bytes) / dt;
		if (h->st.rx_bytes >= prev->rx_bytes)
			h->rx_bps = (double)(h->st.rx_bytes - prev->rx_bytes) / dt;
	}
}

/* The host's counters in the last sample, or NULL. */
static const struct host_bytes *last_bytes(const struct hosts *hs, const struct bwe_addr *a)
{
	const __u32 *r = bwe_amap_get(&hs->idx, a);

	return r && hs->buf.v[*r].sample == hs->sample ? &hs->buf.v[*r] : NULL;
}

int hosts_get(const struct hosts *hs, const struct bwe_addr *a, struct host_sample *out)
{
	struct bwe_host_stats st;
	struct timespec now;
	int err;

	clock_gettime(CLOCK_MONOTONIC, &now);
	err = bwe_dp_host_read(hs->dp, a, &st);
	if (err)
		return err;
	merge(a, &st, NULL, 1, last_bytes(hs, a), ts_diff(&now, &hs->sampled_at), out);
	return 0;
}

bool hosts_tracked(const struct hosts *hs, const struct bwe_addr *a)
{
	struct host_sample s;

	return !hosts_get(hs, a, &s);
}

/*
 * One host of the sample numbered cur: its rates from its record, which it
 * then updates; drops: a slot host's bwe_hslot_drop entries (NULL: none).
 */
static int sample_one(struct hosts *hs, const struct bwe_addr *a, const struct bwe_host_stats *cpu,
		      const struct bwe_hslot_drop *drops, double dt, __u32 cur,
		      struct host_sample *out)
{
	bool created;
	__u32 *slot = bwe_amap_upsert(&hs->idx, a, &created), r;
	struct host_bytes *b;

	if (!slot)
		return -ENOMEM;
	if (created) {
		r = record_take(hs);
		if (r == NO_RECORD) {
			bwe_amap_del(&hs->idx, a);
			return -ENOMEM;
		}
		*slot = r;
	}
	b = &hs->buf.v[*slot];
	merge(a, cpu, drops, hs->dp->ncpus, !created && b->sample == hs->sample ? b : NULL, dt,
	      out);
	b->tx_bytes = out->st.tx_bytes;
	b->rx_bytes = out->st.rx_bytes;
	b->sample = cur;
	return 0;
}

/* Forget the hosts the sample numbered cur did not hold. */
static int sweep(struct hosts *hs, __u32 cur)
{
	struct bwe_addr *gone = NULL;
	struct bwe_amap_slot *sl;
	size_t it = 0, n = 0, cap = 0, i;

	while ((sl = bwe_amap_next(&hs->idx, &it))) {
		if (hs->buf.v[sl->val].sample == cur)
			continue;
		if (n == cap) {
			struct bwe_addr *p = reallocarray(gone, cap = 2 * cap + 64, sizeof(*p));

			if (!p) {
				free(gone);
				return -ENOMEM;
			}
			gone = p;
		}
		gone[n++] = sl->key;
	}
	for (i = 0; i < n; i++) {
		record_free(hs, *bwe_amap_get(&hs->idx, &gone[i]));
		bwe_amap_del(&hs->idx, &gone[i]);
	}
	free(gone);
	return 0;
}

/* Whether a has a host slot (then bwe_hosts holds no current record of it). */
static bool slotted(const struct hosts *hs, const struct bwe_addr *a)
{
	__u32 slot;

	return hs->dp->hsl && bwe_addr_is_v4(a) &&
	       bwe_hslots_slot(hs->dp->hsl, ntohl(bwe_addr_v4(a)), &slot);
}

/*
 * Read n entries of the array map fd from key first on (contiguous, n at
 * most the buffers' room): keys[] and vals[] as bpf_map_lookup_batch()
 * fills them. 0 or -errno.
 */
static int array_read(int fd, __u32 first, __u32 n, __u32 *keys, void *vals)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 prev = first - 1, out, count = n;

	if (bpf_map_lookup_batch(fd, first ? &prev : NULL, &out, keys, vals, &count, &opts) &&
	    errno != ENOENT)
		return -errno;
	return count == n ? 0 : -EIO;
}

/*
 * The hosts of the IPv4 host slots (bwe_abi.h): of each block serving a
 * /24, the slots whose host has sent, read a chunk at a time (at most
 * batch records into vals, a syscall each; each host's drop entries into
 * drops, ncpus of them, from the daemon's mapping) and handed on as a
 * batch.
 */
static int sample_slots(struct hosts *hs, hosts_batch_fn visit, void *ctx, double dt, __u32 cur,
			size_t batch, struct bwe_host_stats *vals, struct bwe_hslot_drop *drops,
			struct host_sample *smp)
{
	const struct bwe_hslots *hsl = hs->dp->hsl;
	int fd = bwe_dp_map_fd(hs->dp, BWE_MAP_HSLOTS), ncpu = hs->dp->ncpus;
	int sfd = bwe_dp_map_fd(hs->dp, BWE_MAP_HSLOT_SENT);
	__u32 b, net, i, j, chunk = batch < BWE_HSLOT_BLOCK ? (__u32)batch : BWE_HSLOT_BLOCK;
	__u32 keys[BWE_HSLOT_BLOCK];
	__u64 sent[BWE_HSLOT_WORDS];
	struct bwe_addr a;
	size_t n;
	int err = 0;

	for (b = 0; hsl && b < bwe_hslots_blocks(hsl) && !err; b++) {
		if (!bwe_hslots_block_net(hsl, b, &net))
			continue;
		err = array_read(sfd, b * BWE_HSLOT_WORDS, BWE_HSLOT_WORDS, keys, sent);
		if (err)
			break;
		if (!(sent[0] | sent[1] | sent[2] | sent[3]))
			continue;
		for (i = 0; i < BWE_HSLOT_BLOCK && !err; i += chunk) {
			err = array_read(fd, b * BWE_HSLOT_BLOCK + i, chunk, keys, vals);
			for (j = 0, n = 0; j < chunk && !err; j++) {
				__u32 o = i + j;

				if (!(sent[bwe_hslot_sent_word(o)] & bwe_hslot_sent_bit(o)))
					continue;
				bwe_addr_from_v4(htonl((net << 8) | o), &a);
				bwe_hslots_drops(hsl, b * BWE_HSLOT_BLOCK + o, drops);
				err = sample_one(hs, &a, &vals[(size_t)j * ncpu], drops, dt, cur,
						 &smp[n++]);
				hs->in_slots += !err;
			}
			if (!err && visit && n)
				visit(ctx, smp, n);
		}
	}
	return err;
}

int hosts_sample(struct hosts *hs, hosts_batch_fn visit, void *ctx)
{
	int fd = bwe_dp_map_fd(hs->dp, BWE_MAP_HOSTS), ncpu = hs->dp->ncpus;
	size_t batch = SAMPLE_BATCH_BYTES / ((size_t)ncpu * sizeof(struct bwe_host_stats));
	__u32 cur = hs->sample + 1 ?: 1, in_batch = 0, out_batch = 0;
	struct bwe_addr *keys = NULL;
	struct bwe_host_stats *vals = NULL;
	struct bwe_hslot_drop *drops = NULL;
	struct host_sample *smp = NULL;
	struct timespec now;
	bool first = true, done = false;
	size_t i, n, cap;
	double dt;
	int err;

	batch = batch < SAMPLE_BATCH_MIN   ? SAMPLE_BATCH_MIN
		: batch > SAMPLE_BATCH_MAX ? SAMPLE_BATCH_MAX
					   : batch;
	keys = calloc(batch, sizeof(*keys));
	vals = calloc(batch * (size_t)ncpu, sizeof(*vals));
	drops = calloc((size_t)ncpu, sizeof(*drops));
	smp = calloc(batch, sizeof(*smp));
	if (bwe_map_max_entries(fd, &cap))
		cap = batch; /* unknown: grown as the hosts come */
	err = !keys || !vals || !drops || !smp ? -ENOMEM : buf_reserve(&hs->buf, cap);
	if (err)
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &now);
	dt = ts_diff(&now, &hs->sampled_at);
	hs->in_slots = 0;
	err = sample_slots(hs, visit, ctx, dt, cur, batch, vals, drops, smp);
	while (!done && !err) {
		__u32 count = (__u32)batch;
		LIBBPF_OPTS(bpf_map_batch_opts, opts);

		if (bpf_map_lookup_batch(fd, first ? NULL : &in_batch, &out_batch, keys, vals,
					 &count, &opts)) {
			if (errno != ENOENT) {
				err = -errno;
				break;
			}
			done = true;
		}
		first = false;
		in_batch = out_batch;
		for (i = 0, n = 0; i < count && !err; i++)
			if (!slotted(hs, &keys[i])) /* left over: its slot holds it now */
				err = sample_one(hs, &keys[i], &vals[i * ncpu], NULL, dt, cur,
						 &smp[n++]);
		if (err)
			break;
		if (visit && n)
			visit(ctx, smp, n);
	}
	/* the hosts read so far count as sampled; the others are forgotten only after a
	 * whole sample */
	hs->sample = cur;
	hs->sampled_at = now;
	if (!err)
		err = sweep(hs, cur);
out:
	if (err)
		log_warnx("host sample: %s", strerror(-err));
	free(keys);
	free(vals);
	free(drops);
	free(smp);
	return err;
}
