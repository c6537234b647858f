// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * map_scale.c - map-scaling benchmark (BENCHMARKS.md tier 2, cache-cold,
 * random keys): what one blocklist decision costs with the enforcer's
 * layout, against one plain LPM trie and one plain hash holding the same
 * entries, at N = 1k, 10k, 100k, 1M and for the real feeds, in one run.
 *
 * For each entry set: load the enforcer (bwe_dp_open, private maps) and fill
 * it through lib/blocklist.c exactly as the daemon does; load
 * build/bench/lookup.bpf.o reusing the enforcer's three blocklist maps; fill
 * the comparison trie, hash and key pool with the same entries; then run the
 * four programs interleaved (base ours lpm hash, base ours lpm hash, ...)
 * for each key mode, in rounds. Cost per lookup = (program run - the
 * baseline run just before it) / iterations; a round's value is the median
 * of its runs, and the table shows the median over the rounds and their
 * min-max spread.
 *
 * Run as root from the repository root (feeds default to ../shared/feeds).
 * Exit status: 0 when every entry set that exists was measured, 1 when a
 * measurement could not be made, 2 on a usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/utsname.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "addr.h"
#include "blocklist.h"
#include "dataplane.h"
#include "map_scale.h"
#include "bench_common.h"
/* The generated skeleton casts away const; that is bpftool's code, not ours. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wcast-qual"
#include "lookup.skel.h"
#pragma GCC diagnostic pop

#define ROUNDS_FULL	5
#define ROUNDS_QUICK	3
#define ROUNDS_MAX	101
#define RUNS_MAX	1024	   /* bpf_loop runs per program per round */
#define ITERS_FULL	(1u << 20) /* lookups per cell per round */
#define ITERS_QUICK	(1u << 18)
#define MIX_NET_PERCENT 10     /* "mix": share of /16../24 networks */
#define SPIN_BATCH	100000 /* warm-up additions between clock reads */
#define TEST_PKT_LEN	64     /* XDP test frame: any bytes, >= ETH_HLEN */
#define RATIO_MIN_NS	0.5    /* below this a hash cost is noise: no ratio */
#define DEFAULT_SEED	0x5eed2026u
#define WARMUP_S	5.0 /* busy CPU before the first measurement */
#define DEFAULT_FEEDS	"../shared/feeds"
#define LINE_MAX_LEN	512
#define CACHE_INDEX_MAX 16

static const size_t sizes_full[] = { 1000, 10000, 100000, 1000000 };
static const size_t sizes_quick[] = { 1000, 10000, 100000 };
static const char *const feeds[] = { "firehol_level3.netset", "firehol_level1.netset" };
/* Synthetic entry sets: name, percent of entries that are networks. */
static const struct {
	const char *name;
	unsigned int net_percent;
} synth[] = {
	{ "hosts", 0 },
	{ "mix", MIX_NET_PERCENT },
};

/* Programs in the order a round runs them. */
enum variant {
	V_BASE = 0,
	V_OURS,
	V_LPM,
	V_HASH,
	V_MAX,
};

static const char *const key_names[BENCH_KEYS_MAX] = {
	[BENCH_KEYS_POOL] = "entries",
	[BENCH_KEYS_ANY] = "any v4",
};

struct opts {
	const size_t *sizes;
	size_t nsizes;
	unsigned int rounds;
	__u32 iters; /* multiple of BENCH_LOOP_ITERS */
	const char *feed_dir;
	__u32 seed;
	bool verbose;
};

/* An entry set, prefixes masked. */
struct entries {
	char name[64];
	struct bwe_prefix *p;
	size_t n, cap;
	size_t refused;	 /* rejected by bwe_bl_set (IPv4 broader than /8) */
	size_t unparsed; /* feed lines bwe_prefix_parse refused */
	size_t hosts;	 /* IPv4 /32 and IPv6 /128 entries */
};

struct cell {
	double med, lo, hi; /* ns per lookup over the rounds */
};

struct result {
	double base[BENCH_KEYS_MAX];		/* median ns per key draw */
	struct cell net[BENCH_KEYS_MAX][V_MAX]; /* V_BASE unused */
	double hit[BENCH_KEYS_MAX][V_MAX];	/* share of lookups that matched, last run */
};

/* ---- deterministic random numbers --------------------------------------- */

static __u64 rng_next(__u64 *s)
{
	/* splitmix64 */
	__u64 z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* ---- entry sets ---------------------------------------------------------- */

static int entries_add(struct entries *e, const struct bwe_prefix *p)
{
	if (e->n == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 1024;
		struct bwe_prefix *np = reallocarray(e->p, cap, sizeof(*np));

		if (!np)
			return -ENOMEM;
		e->p = np;
		e->cap = cap;
	}
	e->p[e->n] = *p;
	bwe_prefix_mask(&e->p[e->n]);
	if (e->p[e->n].plen == BWE_ADDR_BITS)
		e->hosts++;
	e->n++;
	return 0;
}

static void entries_free(struct entries *e)
{
	free(e->p);
	memset(e, 0, sizeof(*e));
}

static int add_v4(struct entries *e, __u32 host_order, int len)
{
	struct bwe_prefix p = { .plen = (__u8)(BWE_V4_MAPPED_PLEN + len) };

	bwe_addr_from_v4(htonl(host_order), &p.addr);
	return entries_add(e, &p);
}

/* n entries: n - nnet distinct random IPv4 hosts, then nnet distinct networks. */
static int entries_synth(struct entries *e, size_t n, size_t nnet, __u32 seed)
{
	__u32 used[NET_LENS] = { 0 };
	size_t i, l;
	int err;

	for (i = 0; i < n - nnet; i++) {
		err = add_v4(e, bwe_mix32((__u32)i + seed), BWE_V4_BITS);
		if (err)
			return err;
	}
	for (i = 0; i < nnet; i++) {
		unsigned int pick = (unsigned int)(i % 100), acc = 0;
		__u32 num;
		int len;

		for (l = 0; l < NET_LENS - 1 && pick >= acc + net_lens[l].percent; l++)
			acc += net_lens[l].percent;
		len = net_lens[l].len;
		/* the k-th network of a length: an odd multiplier mod 2^len keeps them distinct */
		num = (used[l]++ * 0x9e3779b1u + bwe_mix32(seed + (__u32)len)) & ((1u << len) - 1);
		err = add_v4(e, num << (BWE_V4_BITS - len), len);
		if (err)
			return err;
	}
	return 0;
}

/* A feed file: one prefix or address per line, '#' comments. -ENOENT if absent. */
static int entries_feed(struct entries *e, const char *path)
{
	char line[LINE_MAX_LEN];
	FILE *f = fopen(path, "re");
	int err = 0;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		struct bwe_prefix p;
		char *s = line, *end;

		end = strpbrk(s, "#\r\n");
		if (end)
			*end = '\0';
		s += strspn(s, " \t");
		end = s + strcspn(s, " \t");
		*end = '\0';
		if (!*s)
			continue;
		if (bwe_prefix_parse(s, &p, 0)) {
			e->unparsed++;
			continue;
		}
		err = entries_add(e, &p);
		if (err)
			break;
	}
	fclose(f);
	return err;
}

/* A random address inside p. */
static void random_inside(const struct bwe_prefix *p, __u64 *rng, struct bwe_addr *out)
{
	__u64 r[2] = { rng_next(rng), rng_next(rng) };
	const __u8 *rb = (const __u8 *)r;
	int b;

	for (b = 0; b < (int)sizeof(out->a); b++) {
		int keep = p->plen - b * 8; /* leading bits of this byte kept */
		__u8 mask = keep >= 8 ? 0xff : keep <= 0 ? 0 : (__u8)(0xff << (8 - keep));

		out->a[b] = (__u8)((p->addr.a[b] & mask) | (rb[b] & ~mask));
	}
}

/* ---- maps ---------------------------------------------------------------- */

/* Batch update where the map type has it, one element at a time otherwise. */
static int map_fill(int fd, const void *keys, size_t ksz, const void *vals, size_t vsz, size_t n)
{
	const char *k = keys, *v = vals;
	__u32 count = (__u32)n;
	size_t i = 0;
	LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = BPF_ANY);

	if (!n)
		return 0;
	if (!bpf_map_update_batch(fd, k, v, &count, &opts))
		return 0;
	if (count <= n)
		i = count; /* the kernel reports how many it wrote before failing */
	for (; i < n; i++)
		if (bpf_map_update_elem(fd, k + i * ksz, v + i * vsz, BPF_ANY))
			return -errno;
	return 0;
}

/* Fill the enforcer through lib/blocklist.c; drop entries it refuses from e. */
static int fill_ours(struct bwe_bl *bl, struct entries *e, __u8 ref)
{
	size_t i, w = 0;
	int err;

	for (i = 0; i < e->n; i++) {
		err = bwe_bl_set(bl, &e->p[i], ref);
		if (err == -ERANGE) { /* broader than /8: never a host */
			e->refused++;
			continue;
		}
		if (err)
			return err;
		e->p[w++] = e->p[i];
	}
	e->n = w;
	return bwe_bl_flush(bl);
}

/* The comparison trie and hash, and the key pool, from the same entries. */
static int fill_plain(struct lookup_bpf *skel, const struct entries *e, __u8 ref, __u32 seed)
{
	struct bwe_lpm_key *lk = calloc(e->n, sizeof(*lk));
	struct bwe_addr *hk = calloc(e->n, sizeof(*hk));
	struct bwe_addr *pool = calloc(e->n, sizeof(*pool));
	struct bwe_bl_val *vals = calloc(e->n, sizeof(*vals));
	__u32 *idx = calloc(e->n, sizeof(*idx));
	__u64 rng = seed;
	size_t i;
	int err = -ENOMEM;

	if (!lk || !hk || !pool || !vals || !idx)
		goto cleanup;
	for (i = 0; i < e->n; i++) {
		lk[i].prefixlen = e->p[i].plen;
		lk[i].addr = e->p[i].addr;
		hk[i] = e->p[i].addr; /* a prefix goes in as its network address */
		vals[i].ref = ref;
		idx[i] = (__u32)i;
		random_inside(&e->p[i], &rng, &pool[i]);
	}
	err = map_fill(bpf_map__fd(skel->maps.bench_lpm), lk, sizeof(*lk), vals, sizeof(*vals),
		       e->n);
	err = err
		      ?: map_fill(bpf_map__fd(skel->maps.bench_hash), hk, sizeof(*hk), vals,
				  sizeof(*vals), e->n);
	err = err
		      ?: map_fill(bpf_map__fd(skel->maps.bench_pool), idx, sizeof(*idx), pool,
				  sizeof(*pool), e->n);
cleanup:
	free(lk);
	free(hk);
	free(pool);
	free(vals);
	free(idx);
	return err;
}

/*
 * Open the benchmark object on top of a loaded enforcer: the enforcer maps it
 * defines (xdp/maps.bpf.h) are the enforcer's, so bench_ours reads the
 * blocklist that lib/blocklist.c filled, and none is created again.
 */
static int open_bench(struct lookup_bpf **out, const struct bwe_dp *dp, size_t n, __u32 loop_iters)
{
	struct lookup_bpf *skel = lookup_bpf__open();
	int err;

	if (!skel)
		return -errno;
	skel->rodata->bench_iters = loop_iters;
	skel->rodata->bench_pool_n = (__u32)n;
	err = bpf_map__set_max_entries(skel->maps.bench_pool, (__u32)n);
	err = err ?: bpf_map__set_max_entries(skel->maps.bench_lpm, (__u32)n);
	err = err ?: bpf_map__set_max_entries(skel->maps.bench_hash, (__u32)n);
	err = err ?: bench_share_maps(skel->obj, dp);
	if (err)
		goto cleanup;
	err = lookup_bpf__load(skel);
	if (err)
		goto cleanup;
	*out = skel;
	return 0;
cleanup:
	lookup_bpf__destroy(skel);
	return err;
}

/* ---- measuring ----------------------------------------------------------- */

/* One program run (one bpf_loop): ns per iteration and the share of hits. */
static int run_prog(struct lookup_bpf *skel, const struct bpf_program *prog, enum bench_keys keys,
		    double *ns, double *hit)
{
	__u8 pkt[TEST_PKT_LEN] = { 0 }, out[TEST_PKT_LEN];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = sizeof(pkt),
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1, );

	skel->bss->bench_keys = keys;
	if (bpf_prog_test_run_opts(bpf_program__fd(prog), &opts))
		return -errno;
	if (opts.retval != XDP_PASS || skel->bss->bench_done != BENCH_LOOP_ITERS)
		return -EIO; /* the loop stopped early: a pool lookup failed */
	*ns = (double)opts.duration / BENCH_LOOP_ITERS;
	*hit = (double)skel->bss->bench_hits / BENCH_LOOP_ITERS;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static struct cell summarise(double *v, unsigned int n)
{
	struct cell c;

	qsort(v, n, sizeof(*v), cmp_double);
	c.lo = v[0];
	c.hi = v[n - 1];
	c.med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	return c;
}

/*
 * Each round runs every program once per key mode (base ours lpm hash, base
 * ours lpm hash, ...), iters / BENCH_LOOP_ITERS times, one bpf_loop a run:
 * a burst of noise then hits a program and its baseline alike. A round's value is the median
 * of its runs' differences to the baseline run just before.
 */
static int measure(struct lookup_bpf *skel, const struct opts *o, struct result *res)
{
	const struct bpf_program *progs[V_MAX] = {
		[V_BASE] = skel->progs.bench_base,
		[V_OURS] = skel->progs.bench_ours,
		[V_LPM] = skel->progs.bench_lpm_lookup,
		[V_HASH] = skel->progs.bench_hash_lookup,
	};
	static double t[BENCH_KEYS_MAX][V_MAX][RUNS_MAX];
	static double round_val[BENCH_KEYS_MAX][V_MAX][ROUNDS_MAX];
	__u32 runs = o->iters / BENCH_LOOP_ITERS, m;
	unsigned int r, k, v;
	double ns;
	int err;

	/* A warm-up run of each program: first-touch page faults, JIT icache. */
	for (v = 0; v < V_MAX; v++) {
		err = run_prog(skel, progs[v], BENCH_KEYS_POOL, &ns, &res->hit[0][v]);
		if (err)
			return err;
	}
	for (r = 0; r < o->rounds; r++) {
		for (m = 0; m < runs; m++)
			for (k = 0; k < BENCH_KEYS_MAX; k++)
				for (v = 0; v < V_MAX; v++) {
					err = run_prog(skel, progs[v], k, &t[k][v][m],
						       &res->hit[k][v]);
					if (err)
						return err;
				}
		for (k = 0; k < BENCH_KEYS_MAX; k++) {
			for (v = V_BASE + 1; v < V_MAX; v++) {
				for (m = 0; m < runs; m++)
					t[k][v][m] -= t[k][V_BASE][m];
				round_val[k][v][r] = summarise(t[k][v], runs).med;
			}
			round_val[k][V_BASE][r] = summarise(t[k][V_BASE], runs).med;
		}
	}
	for (k = 0; k < BENCH_KEYS_MAX; k++) {
		for (v = V_BASE + 1; v < V_MAX; v++)
			res->net[k][v] = summarise(round_val[k][v], o->rounds);
		res->base[k] = summarise(round_val[k][V_BASE], o->rounds).med;
	}
	return 0;
}

/* Load, fill, measure, unload one entry set. */
static int run_set(const struct opts *o, struct entries *e, struct result *res)
{
	const __u8 ref = bwe_ref(BWE_FEED_FIRST, 0); /* a drop entry of one feed */
	struct bwe_dp_opts dpo = { 0 };
	struct lookup_bpf *skel = NULL;
	struct bwe_dp *dp = NULL;
	struct bwe_bl bl = { 0 };
	bool bl_ok = false;
	int err;

	err = bwe_dp_open(&dp, &dpo);
	if (err) {
		fprintf(stderr, "map_scale: loading the enforcer: %s\n", errstr(err));
		goto cleanup;
	}
	err = bwe_bl_init(&bl, dp);
	if (err)
		goto cleanup;
	bl_ok = true;
	err = fill_ours(&bl, e, ref);
	if (err) {
		fprintf(stderr, "map_scale: %s: filling the blocklist: %s\n", e->name, errstr(err));
		goto cleanup;
	}
	if (!e->n) {
		fprintf(stderr, "map_scale: %s: no entries\n", e->name);
		err = -ENODATA;
		goto cleanup;
	}
	err = open_bench(&skel, dp, e->n, BENCH_LOOP_ITERS);
	if (err) {
		fprintf(stderr, "map_scale: loading lookup.bpf.o: %s\n", errstr(err));
		goto cleanup;
	}
	err = fill_plain(skel, e, ref, o->seed);
	if (err) {
		fprintf(stderr, "map_scale: %s: filling trie/hash/pool: %s\n", e->name,
			errstr(err));
		goto cleanup;
	}
	err = measure(skel, o, res);
	if (err)
		fprintf(stderr, "map_scale: %s: bpf_prog_test_run: %s\n", e->name, errstr(err));
cleanup:
	lookup_bpf__destroy(skel);
	if (bl_ok)
		bwe_bl_free(&bl);
	bwe_dp_close(dp);
	return err;
}

/* ---- report -------------------------------------------------------------- */

static void read_first_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");

	snprintf(buf, len, "?");
	if (!f)
		return;
	if (fgets(buf, (int)len, f))
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

static void cpu_model(char *buf, size_t len)
{
	static const char key[] = "model name";
	char line[LINE_MAX_LEN];
	FILE *f = fopen("/proc/cpuinfo", "re");

	snprintf(buf, len, "?");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (!strncmp(line, key, sizeof(key) - 1) && colon) {
			colon++;
			colon += strspn(colon, " \t");
			colon[strcspn(colon, "\n")] = '\0';
			snprintf(buf, len, "%s", colon);
			break;
		}
	}
	fclose(f);
}

/* "L1d 32K, L1i 32K, L2 512K, L3 32768K" from CPU 0's cache directories. */
static void cache_sizes(char *buf, size_t len)
{
	size_t used = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < CACHE_INDEX_MAX; i++) {
		char path[128], level[16], type[32], size[32];
		const char *t;

		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu0/cache/index%d/level", i);
		if (access(path, R_OK))
			break;
		read_first_line(path, level, sizeof(level));
		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu0/cache/index%d/type", i);
		read_first_line(path, type, sizeof(type));
		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
		read_first_line(path, size, sizeof(size));
		t = !strcmp(type, "Data") ? "d" : !strcmp(type, "Instruction") ? "i" : "";
		used += (size_t)snprintf(buf + used, len > used ? len - used : 0, "%sL%s%s %s",
					 i ? ", " : "", level, t, size);
		if (used >= len)
			break;
	}
	if (!buf[0])
		snprintf(buf, len, "?");
}

static void fmt_count(size_t n, char *buf, size_t len)
{
	if (n >= 1000000 && n % 1000000 == 0)
		snprintf(buf, len, "%zuM", n / 1000000);
	else if (n >= 1000 && n % 1000 == 0)
		snprintf(buf, len, "%zuk", n / 1000);
	else
		snprintf(buf, len, "%zu", n);
}

static void fmt_cell(const struct cell *c, char *buf, size_t len)
{
	snprintf(buf, len, "%.1f (%.1f–%.1f)", c->med, c->lo, c->hi);
}

static void fmt_ratio(double num, double den, char *buf, size_t len)
{
	if (den < RATIO_MIN_NS)
		snprintf(buf, len, "—");
	else
		snprintf(buf, len, "%.2f", num / den);
}

static void print_machine(const struct opts *o, int cpu)
{
	struct utsname u;
	char model[128], caches[256], jit[16], clk[64];

	if (uname(&u))
		snprintf(u.release, sizeof(u.release), "?");
	cpu_model(model, sizeof(model));
	cache_sizes(caches, sizeof(caches));
	read_first_line("/proc/sys/net/core/bpf_jit_enable", jit, sizeof(jit));
	read_first_line("/sys/devices/system/clocksource/clocksource0/current_clocksource", clk,
			sizeof(clk));

	printf("## Blocklist map scaling (BENCHMARKS.md tier 2)\n\n");
	printf("| machine | |\n|---|---|\n");
	printf("| kernel | %s |\n", u.release);
	printf("| CPU | %s (%ld online) |\n", model, sysconf(_SC_NPROCESSORS_ONLN));
	printf("| caches | %s |\n", caches);
	printf("| bpf_jit_enable | %s |\n", jit);
	printf("| clocksource | %s |\n", clk);
	printf("| run | %u rounds of %u interleaved runs (base, ours, LPM, hash; each key mode) "
	       "of a %u-lookup bpf_loop: %u lookups per cell per round; pinned to CPU %d |\n",
	       o->rounds, o->iters / BENCH_LOOP_ITERS, BENCH_LOOP_ITERS, o->iters, cpu);
	printf("| exact-host tables | sized by lib/blocklist.c to each entry set's hosts "
	       "(bwe_bl_table_size(), as deployed) |\n\n");
	printf("| entries | N | keys | draw ns | ours ns | LPM trie ns | hash ns | ours/hash "
	       "| LPM/hash | hits ours/LPM/hash %% |\n");
	printf("|---|---:|---|---:|---:|---:|---:|---:|---:|---|\n");
	fflush(stdout);
}

static void print_rows(const struct entries *e, const struct result *res)
{
	char n[32], ours[64], lpm[64], hash[64], r1[16], r2[16];
	unsigned int k;

	fmt_count(e->n, n, sizeof(n));
	for (k = 0; k < BENCH_KEYS_MAX; k++) {
		const struct cell *c = res->net[k];

		fmt_cell(&c[V_OURS], ours, sizeof(ours));
		fmt_cell(&c[V_LPM], lpm, sizeof(lpm));
		fmt_cell(&c[V_HASH], hash, sizeof(hash));
		fmt_ratio(c[V_OURS].med, c[V_HASH].med, r1, sizeof(r1));
		fmt_ratio(c[V_LPM].med, c[V_HASH].med, r2, sizeof(r2));
		printf("| %s | %s | %s | %.1f | %s | %s | %s | %s | %s | %.0f/%.0f/%.0f |\n",
		       e->name, n, key_names[k], res->base[k], ours, lpm, hash, r1, r2,
		       100 * res->hit[k][V_OURS], 100 * res->hit[k][V_LPM],
		       100 * res->hit[k][V_HASH]);
	}
	fflush(stdout);
}

static void print_notes(const struct entries *fe, size_t nfe, double secs)
{
	size_t i;

	printf("\nns per lookup = (program run - the key-draw baseline run just before it) / "
	       "lookups; a round's value is the median of its runs; the table gives the median "
	       "of the rounds and their (min–max); ratios are of medians. "
	       "\"draw ns\" is the baseline itself: one bpf_get_prandom_u32() and, "
	       "for \"entries\" keys, one random read of the key pool.\n");
	printf("- keys \"entries\": one address per entry (a /32 itself, a random address "
	       "inside a network), drawn at random; \"any v4\": a uniformly random IPv4 "
	       "address.\n");
	printf("- hosts: N distinct random IPv4 /32s. mix: 90 %% random /32s, 10 %% distinct "
	       "/16../24 networks, lengths as in firehol_level1 (/16 8 %%, /17 1 %%, /18 2 %%, "
	       "/19 4 %%, /20 5 %%, /21 7 %%, /22 35 %%, /23 11 %%, /24 27 %%).\n");
	printf("- ours: the enforcer's maps (bwe_bl_host4's dense table of 8-byte (address, ref) "
	       "slots in 64-byte buckets, bwe_bl_host6's hash of 16-byte keys, "
	       "bwe_bl_tbl24 DIR-24, "
	       "bwe_bl_net6 trie) filled by lib/blocklist.c; LPM trie: one "
	       "BPF_MAP_TYPE_LPM_TRIE of all N entries (max_entries N); hash: one "
	       "BPF_MAP_TYPE_HASH (max_entries N) with every entry's address as an exact "
	       "16-byte key: a cost reference, correct only for /32 entries (a network is "
	       "found only at its network address).\n");
	for (i = 0; i < nfe; i++)
		printf("- %s: %zu entries used, %zu of them /32s (only those a plain hash "
		       "answers right); %zu refused by the enforcer (broader than /8, "
		       "left out of all three), %zu unparsable lines.\n",
		       fe[i].name, fe[i].n, fe[i].hosts, fe[i].refused, fe[i].unparsed);
	printf("- run time %.0f s.\n", secs);
}

/* ---- main ---------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: map_scale [--quick] [--rounds R] [--iters K] [--feeds DIR]\n"
		"                 [--seed S] [-v]\n"
		"  --quick      N = 1k, 10k, 100k only, %u rounds, %u lookups per cell\n"
		"  --rounds R   interleaved rounds (default %u)\n"
		"  --iters K    lookups per cell per round, rounded up to a multiple of %u (default %u)\n"
		"  --feeds DIR  directory of the firehol netsets (default %s)\n"
		"  --seed S     seed of the entry sets and key pools\n"
		"  -v           libbpf info and debug output\n",
		ROUNDS_QUICK, ITERS_QUICK, ROUNDS_FULL, BENCH_LOOP_ITERS, ITERS_FULL,
		DEFAULT_FEEDS);
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 0);
	if (errno || end == s || *end || *out > max || *s == '-')
		return -EINVAL;
	return 0;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "iters", required_argument, NULL, 'i' },
		{ "feeds", required_argument, NULL, 'f' },
		{ "seed", required_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long v, rounds = 0, iters = 0;
	bool quick = false;
	int c;

	while ((c = getopt_long(argc, argv, "vh", lo, NULL)) != -1) {
		switch (c) {
		case 'q':
			quick = true;
			break;
		case 'r':
			if (parse_uint(optarg, ROUNDS_MAX, &rounds) || !rounds)
				return -EINVAL;
			break;
		case 'i':
			if (parse_uint(optarg, (unsigned long)RUNS_MAX * BENCH_LOOP_ITERS,
				       &iters) ||
			    !iters)
				return -EINVAL;
			break;
		case 'f':
			o->feed_dir = optarg;
			break;
		case 's':
			if (parse_uint(optarg, UINT32_MAX, &v))
				return -EINVAL;
			o->seed = (__u32)v;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -EINVAL;
		}
	}
	if (optind != argc)
		return -EINVAL;
	o->sizes = quick ? sizes_quick : sizes_full;
	o->nsizes = quick ? sizeof(sizes_quick) / sizeof(sizes_quick[0])
			  : sizeof(sizes_full) / sizeof(sizes_full[0]);
	o->rounds = (unsigned int)(rounds ? rounds : quick ? ROUNDS_QUICK : ROUNDS_FULL);
	if (!iters)
		iters = quick ? ITERS_QUICK : ITERS_FULL;
	o->iters = (__u32)((iters + BENCH_LOOP_ITERS - 1) / BENCH_LOOP_ITERS * BENCH_LOOP_ITERS);
	return 0;
}

/* Stay on one CPU: every run then sees the same caches and timer. */
static int pin_cpu(void)
{
	int cpu = sched_getcpu();
	cpu_set_t set;

	if (cpu < 0)
		return -1;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -1 : cpu;
}

/*
 * Keep the CPU busy before measuring: on these VMs an idle vCPU runs the
 * first seconds of work ~20 % slower (seen as a slower key-draw baseline
 * and outliers in the first entry set), whatever the program.
 */
static void warm_up_cpu(double secs)
{
	volatile __u64 sink = 0;
	double end = now_s() + secs;

	while (now_s() < end)
		for (int i = 0; i < SPIN_BATCH; i++)
			sink += (__u64)i;
}

int main(int argc, char **argv)
{
	struct opts o = { .feed_dir = DEFAULT_FEEDS, .seed = DEFAULT_SEED };
	struct entries fe[sizeof(feeds) / sizeof(feeds[0])];
	size_t nfe = 0, i, m;
	int failed = 0, cpu, err;
	double t0 = now_s();

	memset(fe, 0, sizeof(fe));
	if (parse_opts(argc, argv, &o)) {
		usage(stderr);
		return 2;
	}
	verbose = o.verbose;
	libbpf_set_print(libbpf_print);
	if (geteuid() != 0) {
		fprintf(stderr, "map_scale: needs root (loads BPF programs)\n");
		return 1;
	}
	cpu = pin_cpu();
	warm_up_cpu(WARMUP_S);
	print_machine(&o, cpu);

	/* Synthetic sets: hosts only, then the 90/10 mix; smallest first. */
	for (m = 0; m < sizeof(synth) / sizeof(synth[0]); m++) {
		for (i = 0; i < o.nsizes; i++) {
			struct entries e = { 0 };
			struct result res = { 0 };
			size_t nnet = o.sizes[i] * synth[m].net_percent / 100;

			snprintf(e.name, sizeof(e.name), "%s", synth[m].name);
			fprintf(stderr, "map_scale: %s N=%zu ...\n", e.name, o.sizes[i]);
			err = entries_synth(&e, o.sizes[i], nnet, o.seed + (__u32)m);
			err = err ?: run_set(&o, &e, &res);
			if (err)
				failed = 1;
			else
				print_rows(&e, &res);
			entries_free(&e);
		}
	}

	/* The real lists. */
	for (i = 0; i < sizeof(feeds) / sizeof(feeds[0]); i++) {
		struct entries *e = &fe[nfe];
		struct result res = { 0 };
		char path[4096];

		snprintf(path, sizeof(path), "%s/%s", o.feed_dir, feeds[i]);
		snprintf(e->name, sizeof(e->name), "%.*s", (int)strcspn(feeds[i], "."), feeds[i]);
		err = entries_feed(e, path);
		if (err == -ENOENT) {
			fprintf(stderr, "map_scale: %s: not found, skipped\n", path);
			entries_free(e);
			continue;
		}
		fprintf(stderr, "map_scale: %s ...\n", e->name);
		err = err ?: run_set(&o, e, &res);
		if (err) {
			failed = 1;
			entries_free(e);
			continue;
		}
		print_rows(e, &res);
		nfe++;
	}
	print_notes(fe, nfe, now_s() - t0);
	for (i = 0; i < nfe; i++)
		entries_free(&fe[i]);
	return failed;
}
