// SPDX-License-Identifier: GPL-2.0-only
/*
 * hosts.c - sample per-host accounting with batch map reads (one syscall per
 * batch, not per host), merge the per-CPU copies, and derive rates from the
 * previous sample; contract in hosts.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <bpf/bpf.h>

#include "addrmap.h"
#include "hosts.h"
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
 * What the next sample's rates need of a host: its byte counters (16 bytes,
 * indexed by address). The table is a private anonymous mapping of its
 * own, sized to the map's max_entries (only the pages it fills are
 * touched) and unmapped when the next sample's replaces it: malloc would
 * serve arrays this size from the heap once its dynamic mmap threshold has
 * grown past them, and the heap keeps what the previous one freed.
 */
struct host_bytes {
	__u64 tx_bytes, rx_bytes;
};

struct bytes_buf {
	struct host_bytes *v;
	size_t cap; /* entries mapped */
};

struct hosts {
	const struct bwe_dp *dp;
	struct bytes_buf buf; /* of the last sample */
	size_t n;
	struct bwe_amap idx; /* addr -> index into buf.v */
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

int hosts_new(struct hosts **out, const struct bwe_dp *dp)
{
	struct hosts *h = calloc(1, sizeof(*h));

	if (!h)
		return -ENOMEM;
	h->dp = dp;
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
	return h->n;
}

bool hosts_has(const struct hosts *h, const struct bwe_addr *a)
{
	return bwe_amap_get(&h->idx, a) != NULL;
}

static double ts_diff(const struct timespec *a, const struct timespec *b)
{
	return (double)(a->tv_sec - b->tv_sec) + (double)(a->tv_nsec - b->tv_nsec) / 1e9;
}

/* A host's record from its per-CPU copies, its rates from what the last sample kept. */
static void merge(const struct hosts *hs, const struct bwe_addr *a,
		  const struct bwe_host_stats *cpu, double dt, struct host_sample *h)
{
	const __u32 *i = bwe_amap_get(&hs->idx, a);
	int c;

	memset(h, 0, sizeof(*h));
	h->addr = *a;
	h->st.hll_epoch = cpu[0].hll_epoch;
	for (c = 0; c < hs->dp->ncpus; c++)
		bwe_host_stats_merge(&h->st, &cpu[c]);
	if (i && dt > 0) {
		const struct host_bytes *prev = &hs->buf.v[*i];

		if (h->st.tx_bytes >= prev->tx_bytes)
			h->tx_bps = (double)(h->st.tx_bytes - prev->tx_bytes) / dt;
		if (h->st.rx_bytes >= prev->rx_bytes)
			h->rx_bps = (double)(h->st.rx_bytes - prev->rx_bytes) / dt;
	}
}

int hosts_get(const struct hosts *hs, const struct bwe_addr *a, struct host_sample *out)
{
	int fd = bwe_dp_map_fd(hs->dp, BWE_MAP_HOSTS);
	struct bwe_host_stats *vals = calloc((size_t)hs->dp->ncpus, sizeof(*vals));
	struct timespec now;
	int err = 0;

	if (!vals)
		return -ENOMEM;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (bpf_map_lookup_elem(fd, a, vals))
		err = -ENOENT;
	else
		merge(hs, a, vals, ts_diff(&now, &hs->sampled_at), out);
	free(vals);
	return err;
}

bool hosts_tracked(const struct hosts *hs, const struct bwe_addr *a)
{
	struct host_sample s;

	return !hosts_get(hs, a, &s);
}

int hosts_sample(struct hosts *hs, hosts_batch_fn visit, void *ctx)
{
	int fd = bwe_dp_map_fd(hs->dp, BWE_MAP_HOSTS), ncpu = hs->dp->ncpus;
	size_t batch = SAMPLE_BATCH_BYTES / ((size_t)ncpu * sizeof(struct bwe_host_stats));
	struct bwe_addr *keys = NULL;
	struct bwe_host_stats *vals = NULL;
	struct host_sample *smp = NULL;
	struct bytes_buf out = { 0 };
	struct bwe_amap idx;
	struct timespec now;
	size_t n = 0, i, cap;
	__u32 in_batch = 0, out_batch = 0;
	bool first = true, done = false;
	double dt;
	int err;

	batch = batch < SAMPLE_BATCH_MIN   ? SAMPLE_BATCH_MIN
		: batch > SAMPLE_BATCH_MAX ? SAMPLE_BATCH_MAX
					   : batch;
	bwe_amap_init(&idx);
	keys = calloc(batch, sizeof(*keys));
	vals = calloc(batch * (size_t)ncpu, sizeof(*vals));
	smp = calloc(batch, sizeof(*smp));
	if (bwe_map_max_entries(fd, &cap))
		cap = 0; /* unknown: grown as the batches come */
	err = !keys || !vals || !smp ? -ENOMEM : buf_reserve(&out, cap ?: batch);
	if (!err) /* about as many as last time: grown by doubling when more */
		err = bwe_amap_reserve(&idx, hs->n);
	if (err)
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &now);
	dt = ts_diff(&now, &hs->sampled_at);
	while (!done) {
		__u32 count = (__u32)batch;
		LIBBPF_OPTS(bpf_map_batch_opts, opts);

		if (bpf_map_lookup_batch(fd, first ? NULL : &in_batch, &out_batch, keys, vals,
					 &count, &opts)) {
			if (errno != ENOENT) {
				err = -errno;
				goto out;
			}
			done = true;
		}
		first = false;
		in_batch = out_batch;
		/* more than max_entries only if entries moved while it was read */
		err = buf_reserve(&out, n + count > out.cap ? 2 * (n + count) : 0);
		for (i = 0; i < count && !err; i++) {
			merge(hs, &keys[i], &vals[i * ncpu], dt, &smp[i]);
			out.v[n].tx_bytes = smp[i].st.tx_bytes;
			out.v[n].rx_bytes = smp[i].st.rx_bytes;
			err = bwe_amap_set(&idx, &keys[i], (__u32)n++);
		}
		if (err)
			goto out;
		if (visit && count)
			visit(ctx, smp, count);
	}
	buf_free(&hs->buf);
	bwe_amap_free(&hs->idx);
	hs->buf = out;
	hs->n = n;
	hs->idx = idx;
	hs->sampled_at = now;
	out = (struct bytes_buf){ 0 };
	bwe_amap_init(&idx);
out:
	if (err)
		log_warnx("host sample: %s", strerror(-err));
	bwe_amap_free(&idx);
	buf_free(&out);
	free(keys);
	free(vals);
	free(smp);
	return err;
}
