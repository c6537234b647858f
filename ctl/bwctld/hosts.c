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
#include <bpf/bpf.h>

#include "addrmap.h"
#include "hosts.h"
#include "log.h"

#define SAMPLE_BATCH 4096 /* hosts per batch lookup */

struct hosts {
	const struct bwe_dp *dp;
	struct host_sample *v; /* last sample */
	size_t n;
	struct bwe_amap idx; /* addr -> index into v */
	struct timespec sampled_at;
};

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
	free(h->v);
	bwe_amap_free(&h->idx);
	free(h);
}

size_t hosts_count(const struct hosts *h)
{
	return h->n;
}

const struct host_sample *hosts_at(const struct hosts *h, size_t i)
{
	return i < h->n ? &h->v[i] : NULL;
}

static double ts_diff(const struct timespec *a, const struct timespec *b)
{
	return (double)(a->tv_sec - b->tv_sec) + (double)(a->tv_nsec - b->tv_nsec) / 1e9;
}

int hosts_sample(struct hosts *hs)
{
	int fd = bwe_dp_map_fd(hs->dp, BWE_MAP_HOSTS), ncpu = hs->dp->ncpus;
	struct bwe_addr *keys = NULL;
	struct bwe_host_stats *vals = NULL;
	struct host_sample *out = NULL;
	struct bwe_amap idx;
	struct timespec now;
	size_t n = 0, cap = 0, i;
	__u32 in_batch = 0, out_batch = 0;
	bool first = true, done = false;
	double dt;
	int err = 0;

	bwe_amap_init(&idx);
	keys = calloc(SAMPLE_BATCH, sizeof(*keys));
	vals = calloc((size_t)SAMPLE_BATCH * ncpu, sizeof(*vals));
	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	while (!done) {
		__u32 count = SAMPLE_BATCH;
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
		if (n + count > cap) {
			struct host_sample *t;

			cap = (n + count) * 2;
			t = reallocarray(out, cap, sizeof(*t));
			if (!t) {
				err = -ENOMEM;
				goto out;
			}
			out = t;
		}
		for (i = 0; i < count; i++) {
			struct host_sample *h = &out[n++];
			int c;

			memset(h, 0, sizeof(*h));
			h->addr = keys[i];
			h->st.hll_epoch = vals[i * ncpu].hll_epoch;
			for (c = 0; c < ncpu; c++)
				bwe_host_stats_merge(&h->st, &vals[i * ncpu + c]);
		}
	}

	dt = ts_diff(&now, &hs->sampled_at);
	err = bwe_amap_reserve(&idx, n);
	for (i = 0; i < n && !err; i++) {
		const struct host_sample *prev = hosts_get(hs, &out[i].addr);

		if (prev && dt > 0) {
			if (out[i].st.tx_bytes >= prev->st.tx_bytes)
				out[i].tx_bps =
					(double)(out[i].st.tx_bytes - prev->st.tx_bytes) / dt;
			if (out[i].st.rx_bytes >= prev->st.rx_bytes)
				out[i].rx_bps =
					(double)(out[i].st.rx_bytes - prev->st.rx_bytes) / dt;
		}
		err = bwe_amap_set(&idx, &out[i].addr, (__u32)i);
	}
	if (err)
		goto out;
	free(hs->v);
	bwe_amap_free(&hs->idx);
	hs->v = out;
	hs->n = n;
	hs->idx = idx;
	hs->sampled_at = now;
	out = NULL;
	bwe_amap_init(&idx);
out:
	if (err)
		log_warnx("host sample: %s", strerror(-err));
	bwe_amap_free(&idx);
	free(out);
	free(keys);
	free(vals);
	return err;
}

const struct host_sample *hosts_get(const struct hosts *hs, const struct bwe_addr *a)
{
	__u32 *i = bwe_amap_get(&hs->idx, a);

	return i ? &hs->v[*i] : NULL;
}
