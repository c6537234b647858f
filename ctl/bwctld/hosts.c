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
 * A sample is a private anonymous mapping of its own, sized to the map's
 * max_entries (only the pages it fills are touched) and unmapped when the
 * next one replaces it: malloc would serve arrays this size from the heap
 * once its dynamic mmap threshold has grown past them, and the heap keeps
 * what the previous sample and its growth steps freed (measured: 36 MiB
 * with 65,536 hosts, docs/benchmarks.md).
 */
struct sample_buf {
	struct host_sample *v;
	size_t cap; /* entries mapped */
};

struct hosts {
	const struct bwe_dp *dp;
	struct sample_buf buf; /* last sample */
	size_t n;
	struct bwe_amap idx; /* addr -> index into buf.v */
	struct timespec sampled_at;
};

static void buf_free(struct sample_buf *b)
{
	if (b->v)
		munmap(b->v, b->cap * sizeof(*b->v));
	b->v = NULL;
	b->cap = 0;
}

/* Room for want entries, keeping those there. 0 or -ENOMEM. */
static int buf_reserve(struct sample_buf *b, size_t want)
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

const struct host_sample *hosts_at(const struct hosts *h, size_t i)
{
	return i < h->n ? &h->buf.v[i] : NULL;
}

static double ts_diff(const struct timespec *a, const struct timespec *b)
{
	return (double)(a->tv_sec - b->tv_sec) + (double)(a->tv_nsec - b->tv_nsec) / 1e9;
}

int hosts_sample(struct hosts *hs)
{
	int fd = bwe_dp_map_fd(hs->dp, BWE_MAP_HOSTS), ncpu = hs->dp->ncpus;
	size_t batch = SAMPLE_BATCH_BYTES / ((size_t)ncpu * sizeof(struct bwe_host_stats));
	struct bwe_addr *keys = NULL;
	struct bwe_host_stats *vals = NULL;
	struct sample_buf out = { 0 };
	struct host_sample *v;
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
	if (bwe_map_max_entries(fd, &cap))
		cap = 0; /* unknown: grown as the batches come */
	err = !keys || !vals ? -ENOMEM : buf_reserve(&out, cap ?: batch);
	if (err)
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &now);
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
		if (err)
			goto out;
		for (i = 0; i < count; i++) {
			struct host_sample *h = &out.v[n++];
			int c;

			memset(h, 0, sizeof(*h));
			h->addr = keys[i];
			h->st.hll_epoch = vals[i * ncpu].hll_epoch;
			for (c = 0; c < ncpu; c++)
				bwe_host_stats_merge(&h->st, &vals[i * ncpu + c]);
		}
	}

	dt = ts_diff(&now, &hs->sampled_at);
	v = out.v;
	err = bwe_amap_reserve(&idx, n);
	for (i = 0; i < n && !err; i++) {
		const struct host_sample *prev = hosts_get(hs, &v[i].addr);

		if (prev && dt > 0) {
			if (v[i].st.tx_bytes >= prev->st.tx_bytes)
				v[i].tx_bps = (double)(v[i].st.tx_bytes - prev->st.tx_bytes) / dt;
			if (v[i].st.rx_bytes >= prev->st.rx_bytes)
				v[i].rx_bps = (double)(v[i].st.rx_bytes - prev->st.rx_bytes) / dt;
		}
		err = bwe_amap_set(&idx, &v[i].addr, (__u32)i);
	}
	if (err)
		goto out;
	buf_free(&hs->buf);
	bwe_amap_free(&hs->idx);
	hs->buf = out;
	hs->n = n;
	hs->idx = idx;
	hs->sampled_at = now;
	out = (struct sample_buf){ 0 };
	bwe_amap_init(&idx);
out:
	if (err)
		log_warnx("host sample: %s", strerror(-err));
	bwe_amap_free(&idx);
	buf_free(&out);
	free(keys);
	free(vals);
	return err;
}

const struct host_sample *hosts_get(const struct hosts *hs, const struct bwe_addr *a)
{
	__u32 *i = bwe_amap_get(&hs->idx, a);

	return i ? &hs->buf.v[*i] : NULL;
}
