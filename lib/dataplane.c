// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* dataplane.c - see dataplane.h. */
#include <errno.h>
#include <pthread.h>
#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <bpf/btf.h>

#include "bwe_util.h"
#include "bwe_rules.h"
#include "bl4tab.h"
#include "bwe_bl4.h"
#include "dataplane.h"
#include "detect.h" /* bwe_hh_merge() */
#include "hslots.h"
#include "addr.h"
#include "log.h"
#include "sandbox.h" /* bwe_sandbox_now_ms() */
/* The generated skeleton casts away const; that is bpftool's code, not ours. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wcast-qual"
#include "bwe.skel.h"
#pragma GCC diagnostic pop

struct dp_map {
	const char *name;
	size_t off; /* offsetof the map pointer in skel->maps */
};

#define DP_MAP(field, pin) { pin, offsetof(struct bwe_bpf, maps.field) },
/* Every map another process may open (bwe_abi.h); bwe_scratch is private. */
static const struct dp_map dp_maps[] = { BWE_PINNED_MAPS(DP_MAP) };
#define DP_NMAPS   (ARRAY_SIZE(dp_maps))
#define NC16_BYTES ((size_t)BWE_NC16_ENTRIES * sizeof(struct bwe_nc16_val))
#define H24_BYTES  ((size_t)BWE_BL_H24_WORDS * sizeof(__u64))
#define H6_BYTES   ((size_t)BWE_BL_H6_WORDS * sizeof(__u64))
#define NC6_BYTES  ((size_t)BWE_NC6_WORDS * sizeof(__u64))
#define N6_BYTES   ((size_t)BWE_BL_N6_WORDS * sizeof(__u64))
#define NC4_BYTES  ((size_t)BWE_NC4_WORDS * sizeof(__u64))

static struct bpf_map *dp_map(const struct bwe_dp *dp, size_t i)
{
	return *(struct bpf_map **)((char *)dp->skel + dp_maps[i].off);
}

int bwe_dp_map_fd(const struct bwe_dp *dp, const char *name)
{
	size_t i;

	for (i = 0; i < DP_NMAPS; i++)
		if (!strcmp(dp_maps[i].name, name))
			return bpf_map__fd(dp_map(dp, i));
	return -ENOENT;
}

int bwe_map_max_entries(int fd, size_t *out)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	*out = info.max_entries;
	return 0;
}

static int set_max(struct bpf_map *map, __u32 n)
{
	return n ? bpf_map__set_max_entries(map, n) : 0;
}

static int pin_path(char *path, size_t len, const char *pin_dir, const char *name)
{
	return snprintf(path, len, "%s/%s", pin_dir, name) >= (int)len ? -ENAMETOOLONG : 0;
}

#define HOSTS_HASH_MIN	1024u /* bwe_hosts entries at least: IPv6 hosts need room */
/* slot maps without a block (an array holds at least one entry): less than a
 * block, so that pinned they read back as none */
#define HSLOTS_NONE	64u
#define TICK_MEASURE_MS 200 /* tick_measure() gives up after this */
#define TICK_SPAN	6   /* ticks read whole by tick_measure() (the first is partial) */
#define TICK_SNAP_PCT	2   /* bwe_dp_tick_snap(): how close to a kernel's tick */

/*
 * Size the host records (bwe_dp_opts.hosts_max, .hslots): IPv4 host slots
 * in whole blocks, at most three quarters of the records, or as many as a
 * pinned bwe_hslots holds (a restart keeps its hosts' slots); bwe_hosts
 * the rest. *blocks: blocks to hand out.
 */
static int hosts_size(struct bwe_dp *dp, const struct bwe_dp_opts *opts, __u32 *blocks)
{
	__u32 total = opts->hosts_max ? opts->hosts_max : BWE_HOSTS_MAX, slots, cap;
	char path[PATH_MAX];
	size_t pinned = 0;
	int fd, err;

	cap = total > HOSTS_HASH_MIN ? total - total / 4 : 0;
	if (total - cap < HOSTS_HASH_MIN)
		cap = total > HOSTS_HASH_MIN ? total - HOSTS_HASH_MIN : 0;
	slots = opts->hslots < cap ? opts->hslots : cap;
	slots -= slots % BWE_HSLOT_BLOCK;
	*blocks = slots / BWE_HSLOT_BLOCK;
	if (opts->pin_dir && !pin_path(path, sizeof(path), opts->pin_dir, BWE_MAP_HSLOTS) &&
	    (fd = bpf_obj_get(path)) >= 0) {
		err = bwe_map_max_entries(fd, &pinned);
		close(fd);
		if (err)
			return err;
		slots = (__u32)pinned;
		*blocks = slots / BWE_HSLOT_BLOCK;
	}
	if (*blocks * BWE_HSLOT_BLOCK >= total)
		return -EINVAL; /* pinned slots that leave bwe_hosts no room */
	if (!slots)
		slots = HSLOTS_NONE;
	err = set_max(dp->skel->maps.bwe_hosts, total - (*blocks * BWE_HSLOT_BLOCK));
	err = err ?: set_max(dp->skel->maps.bwe_hslots, slots);
	if ((__u64)slots * (__u64)dp->ncpus > UINT32_MAX)
		return -E2BIG;
	err = err ?: set_max(dp->skel->maps.bwe_hslot_drop, slots * (__u32)dp->ncpus);
	dp->skel->rodata->bwe_hslot_slots = slots;
	err = err ?: set_max(dp->skel->maps.bwe_hslot24, slots);
	err = err ?: set_max(dp->skel->maps.bwe_hslot_sent, slots / 64);
	return err;
}

/* Whether any map of the list is pinned under pin_dir. */
static bool any_pinned(const char *pin_dir)
{
	char path[PATH_MAX];
	size_t i;

	for (i = 0; i < DP_NMAPS; i++)
		if (!pin_path(path, sizeof(path), pin_dir, dp_maps[i].name) && !access(path, F_OK))
			return true;
	return false;
}

/* The stamp of a pinned bwe_abi map; its shape is checked before it is read. */
static int stamp_read(const char *path, struct bwe_abi_stamp *stamp)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info), zero = 0;
	int fd, err = 0;

	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		err = -errno;
	else if (info.type != BPF_MAP_TYPE_ARRAY || info.key_size != sizeof(zero) ||
		 info.value_size != sizeof(*stamp))
		err = -EPROTO;
	else if (bpf_map_lookup_elem(fd, &zero, stamp))
		err = -errno;
	close(fd);
	return err;
}

int bwe_dp_abi_check(const char *pin_dir, char *msg, size_t len)
{
	struct bwe_abi_stamp stamp = { 0 };
	char path[PATH_MAX];
	int err;

	err = pin_path(path, sizeof(path), pin_dir, BWE_MAP_ABI);
	if (err)
		return err;
	err = stamp_read(path, &stamp);
	if (err == -ENOENT && !any_pinned(pin_dir))
		return 0; /* nothing pinned: this open creates them */
	if (err == -EPROTO) {
		snprintf(msg, len,
			 "%s is not an ABI stamp (an array of one struct "
			 "bwe_abi_stamp): remove %s, or run 'bwctl detach' with the daemon that "
			 "pinned it, and start again",
			 path, pin_dir);
		return err;
	}
	if (err && err != -ENOENT)
		return err;
	if (!stamp.version) /* no stamp pinned, or its creator died before writing it */
		stamp.version = BWE_ABI_VERSION_UNSTAMPED;
	if (stamp.version == BWE_ABI_VERSION)
		return 0;
	snprintf(msg, len,
		 "the maps pinned under %s are of ABI version %u, this build "
		 "speaks version %u: run 'bwctl detach' with the daemon that pinned them, "
		 "or remove %s, and start again (operator state comes back from the state file)",
		 pin_dir, stamp.version, BWE_ABI_VERSION, pin_dir);
	return -EPROTO;
}

/* Stamp freshly created maps with this build's version and freeze the stamp. */
static int abi_stamp(const struct bwe_dp *dp)
{
	int fd = bpf_map__fd(dp->skel->maps.bwe_abi);
	struct bwe_abi_stamp stamp = { 0 };
	__u32 zero = 0;

	if (bpf_map_lookup_elem(fd, &zero, &stamp))
		return -errno;
	if (stamp.version == BWE_ABI_VERSION)
		return 0; /* reused, stamped and frozen by its creator */
	if (stamp.version)
		return -EPROTO; /* another version pinned them after our check */
	stamp.version = BWE_ABI_VERSION;
	if (bpf_map_update_elem(fd, &zero, &stamp, BPF_ANY) || bpf_map_freeze(fd))
		return -errno;
	return 0;
}

/*
 * The devmap's pin, reused by hand: libbpf compares a pin's flags with the
 * definition, and the kernel gives every devmap BPF_F_RDONLY_PROG, which
 * the definition cannot ask for (creation refuses it). Shape checked here
 * instead. *reused: a pin was there and map now stands for it.
 */
static int devmap_reuse(struct bpf_map *map, const char *path, bool *reused)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	int fd, err = 0;

	*reused = false;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		err = -errno;
	else if (info.type != bpf_map__type(map) || info.key_size != bpf_map__key_size(map) ||
		 info.value_size != bpf_map__value_size(map) ||
		 info.max_entries != bpf_map__max_entries(map))
		err = -EPROTO;
	else
		err = bpf_map__reuse_fd(map, fd);
	close(fd);
	*reused = !err;
	return err;
}

__u32 bwe_dp_bl_key_size(enum bwe_bl_fam fam)
{
	return fam == BWE_BL_V4 ? sizeof(bwe_bl_key4) : sizeof(struct bwe_addr);
}

static int bl_outer_fd(const struct bwe_dp *dp, enum bwe_bl_fam fam)
{
	return bpf_map__fd(fam == BWE_BL_V4 ? dp->skel->maps.bwe_bl_host4
					    : dp->skel->maps.bwe_bl_host6);
}

int bwe_dp_bl_table_new(enum bwe_bl_fam fam, __u32 size, __u64 seed, __u32 tag)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BWE_BL_HOST_FLAGS);
	int fd;

	if (fam == BWE_BL_V4)
		return bwe_bl4_create(size, seed, tag);
	fd = bpf_map_create(BPF_MAP_TYPE_HASH, "bwe_bl_tab6", bwe_dp_bl_key_size(fam),
			    sizeof(struct bwe_bl_val), size, &opts);
	return fd < 0 ? -errno : fd;
}

int bwe_dp_bl_table_get(const struct bwe_dp *dp, enum bwe_bl_fam fam)
{
	__u32 slot = BWE_BL_HOST_SLOT, id;
	int fd;

	if (bpf_map_lookup_elem(bl_outer_fd(dp, fam), &slot, &id))
		return -errno;
	fd = bpf_map_get_fd_by_id(id);
	return fd < 0 ? -errno : fd;
}

/*
 * bwe_bl4_key's word for IPv4 table fd, stored after the table is in the
 * slot: a lookup that reads the word of the table before finds the tag of
 * this one in its bucket, and reads the header (bwe_abi.h).
 */
static void bl4_key_write(const struct bwe_dp *dp, int fd)
{
	struct bwe_bl4 t;
	__u64 k = bwe_bl4_open(&t, fd) ? 0 : bwe_bl4_key_of(&t);

	__atomic_store_n(dp->bl4_key, k, __ATOMIC_RELEASE); /* one aligned store */
	bwe_bl4_close(&t);
}

int bwe_dp_bl_table_set(const struct bwe_dp *dp, enum bwe_bl_fam fam, int fd)
{
	__u32 slot = BWE_BL_HOST_SLOT;

	if (bpf_map_update_elem(bl_outer_fd(dp, fam), &slot, &fd, BPF_ANY))
		return -errno;
	if (fam == BWE_BL_V4)
		bl4_key_write(dp, fd);
	return 0;
}

/* An empty table in every empty slot (freshly created maps): never a slot without one. */
static int bl_tables_init(const struct bwe_dp *dp)
{
	int fam, fd, err = 0;

	for (fam = 0; fam < BWE_BL_FAMS && !err; fam++) {
		fd = bwe_dp_bl_table_get(dp, fam);
		if (fd == -ENOENT) {
			fd = bwe_dp_bl_table_new(fam,
						 fam == BWE_BL_V4 ? BWE_BL4_SLOTS_MIN
								  : BWE_BL_HOST_MIN,
						 0, bwe_bl4_tag_next(0));
			err = fd < 0 ? fd : bwe_dp_bl_table_set(dp, fam, fd);
		} else if (fd >= 0 && fam == BWE_BL_V4) {
			bl4_key_write(dp, fd); /* a reused table: its word again */
		}
		if (fd < 0)
			err = err ?: fd;
		else
			close(fd);
	}
	return err;
}

/* len bytes of mmapable map m, shared, in *out (NULL on failure); 0 or -errno. */
static int map_mmap(struct bpf_map *m, size_t len, void **out)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, bpf_map__fd(m), 0);

	*out = p == MAP_FAILED ? NULL : p;
	return *out ? 0 : -errno;
}

/* Every write carries this load's tick clock scale (tick_measure()). */
static int config_write(const struct bwe_dp *dp, const struct bwe_config *cfg)
{
	struct bwe_config c = *cfg;
	__u32 zero = 0;

	c.tick_ns = dp->tick_ns;
	c.tick_off = dp->tick_off;
	if (bpf_map_update_elem(bpf_map__fd(dp->skel->maps.bwe_config), &zero, &c, BPF_ANY))
		return -errno;
	return 0;
}

/* The kernel's TICK_NSEC for HZ hz. */
static __u32 tick_of_hz(__u32 hz)
{
	return (__u32)((BWE_NSEC_PER_SEC + hz / 2) / hz);
}

__u32 bwe_dp_tick_snap(__u64 est_ns)
{
	static const __u32 hz[] = { 100, 250, 300, 1000 }; /* x86's CONFIG_HZ choices */
	size_t i;

	for (i = 0; i < ARRAY_SIZE(hz); i++) {
		__u64 t = tick_of_hz(hz[i]), d = est_ns > t ? est_ns - t : t - est_ns;

		if (d * 100 <= t * TICK_SNAP_PCT)
			return (__u32)t;
	}
	return 0;
}

/*
 * The tick clock's scale (bwe_abi.h, bwe_config). Program bwe_clock reads
 * jiffies, the coarse clock and jiffies again (a pair a tick fell between
 * is not used), over whole ticks:
 *  - tick_ns: how far the coarse clock moved from one whole tick to the
 *    next, the first two in a row that were both read (a process preempted
 *    for a tick misses it), which must come within TICK_SNAP_PCT of the tick
 *    of an HZ the kernel offers (bwe_dp_tick_snap());
 *  - tick_off: the coarse clock moves a little after jiffies at each tick
 *    (the kernel updates jiffies first), so one pair can be off by most of
 *    a tick; the latest coarse reading relative to its jiffies decides
 *    (bwe_tick_off(), which keeps the clock a tick early, never ahead of
 *    CLOCK_MONOTONIC).
 * A failed measurement leaves tick_ns 0: the programs then call the coarse
 * clock's helper, as correct and slower, and the log says why.
 */
static void tick_measure(struct bwe_dp *dp)
{
	struct bwe_clock_pair c;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = &c, .data_size_in = sizeof(c), .data_out = &c,
		    .data_size_out = sizeof(c));
	int fd = bpf_program__fd(dp->skel->progs.bwe_clock);
	__u64 first = 0, k, off, best = 0, until = bwe_sandbox_now_ms() + TICK_MEASURE_MS;
	/* the latest coarse reading of jiffies first + k, 0: none */
	__u64 top[TICK_SPAN + 1] = { 0 };
	const char *why = NULL;
	bool have = false;
	__u32 tick = 0;

	/* until jiffies first + TICK_SPAN: first+1 .. first+TICK_SPAN-1 were read whole */
	for (k = 0; !why && !(top[0] && k >= TICK_SPAN);) {
		memset(&c, 0, sizeof(c));
		if (bpf_prog_test_run_opts(fd, &o))
			why = strerror(errno);
		else if (o.retval != XDP_PASS)
			why = "the clock program failed";
		else if (bwe_sandbox_now_ms() > until)
			why = "jiffies did not advance";
		if (why || c.jiffies != c.jiffies_after)
			continue;
		if (!top[0])
			first = c.jiffies;
		k = c.jiffies - first;
		if (k <= TICK_SPAN && c.coarse_ns > top[k])
			top[k] = c.coarse_ns;
	}
	if (!why) {
		/* the coarse clock's step over one whole tick: two in a row that were read */
		for (k = 1; k < TICK_SPAN && !tick; k++)
			if (top[k] && top[k + 1] > top[k])
				tick = bwe_dp_tick_snap(top[k + 1] - top[k]);
		if (!tick)
			why = "the coarse clock's step in a tick is no kernel's tick";
	}
	for (k = 0; !why && k <= TICK_SPAN; k++) {
		if (!top[k])
			continue;
		off = bwe_tick_off(first + k, top[k], tick);
		if (!have || (__s64)(off - best) > 0)
			best = off;
		have = true;
	}
	if (why) {
		log_warnx("dataplane: the tick clock could not be measured (%s); the programs "
			  "read the coarse clock's helper instead",
			  why);
		return;
	}
	dp->tick_ns = tick;
	dp->tick_off = best;
}

bool bwe_dp_flowtable_kfunc(void)
{
	struct btf *vmlinux = btf__load_vmlinux_btf(), *mod;
	bool yes;

	if (!vmlinux)
		return false;
	yes = btf__find_by_name_kind(vmlinux, BWE_FT_KFUNC, BTF_KIND_FUNC) > 0;
	if (!yes) {
		mod = btf__load_module_btf(BWE_FT_MODULE, vmlinux);
		yes = mod && btf__find_by_name_kind(mod, BWE_FT_KFUNC, BTF_KIND_FUNC) > 0;
		btf__free(mod);
	}
	btf__free(vmlinux);
	return yes;
}

/*
 * Open the object and size and pin its maps as opts say, ready to load; ft:
 * with the flowtable's path (bwe_ft_kfunc). *blocks: the host slots' blocks;
 * *dev_reused: the devmap was the pinned one.
 */
static int dp_prepare(struct bwe_dp *dp, const struct bwe_dp_opts *opts, bool ft, __u32 *blocks,
		      bool *dev_reused)
{
	char path[PATH_MAX];
	size_t i;
	int err;

	*dev_reused = false;
	dp->reused = false;
	dp->skel = bwe_bpf__open();
	if (!dp->skel)
		return -errno;
	dp->skel->rodata->bwe_ft_kfunc = ft;
	/* the maps and the clock's program: the others load on these maps */
	bpf_program__set_autoload(dp->skel->progs.bwe_xdp, false);	 /* load_xdp() */
	bpf_program__set_autoload(dp->skel->progs.bwe_tc_egress, false); /* bwe_dp_tc_prog_fd() */
	err = set_max(dp->skel->maps.bwe_bl_net6, opts->bl_net6_max);
	err = err ?: set_max(dp->skel->maps.bwe_netclass, opts->netclass_max);
	err = err ?: set_max(dp->skel->maps.bwe_throttle, opts->throttle_max);
	err = err ?: hosts_size(dp, opts, blocks);
	for (i = 0; !err && opts->pin_dir && i < DP_NMAPS; i++) {
		err = pin_path(path, sizeof(path), opts->pin_dir, dp_maps[i].name);
		if (!err && !strcmp(dp_maps[i].name, BWE_MAP_FWD_DEV)) {
			err = devmap_reuse(dp_map(dp, i), path, dev_reused);
			continue;
		}
		err = err ?: bpf_map__set_pin_path(dp_map(dp, i), path);
		if (!err && !strcmp(dp_maps[i].name, BWE_MAP_BL_HOST4) && !access(path, F_OK))
			dp->reused = true;
	}
	return err;
}

/* The XDP program's load (bwe_dp_open_async()): its thread and its outcome. */
struct bwe_dp_load {
	pthread_t thread;
	int efd;		 /* eventfd, written once the load has ended */
	int err;		 /* the load's outcome (read after the join) */
	bool ft;		 /* with the flowtable fast path */
	bool ft_failed;		 /* tried with it, loaded without */
	struct bwe_bpf *obj;	 /* the program's object, dp->xdp after the join */
	struct bwe_bpf *without; /* ft: the same without the flowtable's path, else NULL */
};

/*
 * A second copy of the object whose maps are maps's (every one, so that the
 * program reads and writes what the daemon does; its own internal maps hold
 * nothing but constants), with only program prog to load and ft for the
 * flowtable's path. 0 or -errno, *out NULL on failure.
 */
static int obj_on_maps(const struct bwe_bpf *maps, const struct bpf_program *prog_of_maps, bool ft,
		       struct bwe_bpf **out)
{
	struct bwe_bpf *o = bwe_bpf__open();
	const char *want = bpf_program__name(prog_of_maps);
	struct bpf_program *p;
	struct bpf_map *m, *ours;
	int err = 0;

	*out = NULL;
	if (!o)
		return -errno;
	o->rodata->bwe_ft_kfunc = ft;
	o->rodata->bwe_hslot_slots = maps->rodata->bwe_hslot_slots;
	bpf_object__for_each_program(p, o->obj)
		bpf_program__set_autoload(p, !strcmp(bpf_program__name(p), want));
	bpf_object__for_each_map(m, o->obj) {
		if (bpf_map__is_internal(m))
			continue;
		ours = bpf_object__find_map_by_name(maps->obj, bpf_map__name(m));
		err = ours ? bpf_map__reuse_fd(m, bpf_map__fd(ours)) : -ENOENT;
		if (err)
			break;
	}
	if (err) {
		bwe_bpf__destroy(o);
		return err;
	}
	*out = o;
	return 0;
}

/*
 * The load thread: the verifier's time is spent here, off the caller's way.
 * It touches its two objects only (made by load_start(), on the caller's
 * thread), never dp.
 */
static void *load_xdp(void *arg)
{
	struct bwe_dp_load *l = arg;
	__u64 one = 1;

	l->err = bwe_bpf__load(l->obj);
	if (l->err && l->ft) {
		/* Enforcement first: the program without the flowtable's path. */
		log_warnx("dataplane: the XDP program with the flowtable fast path (%s) did not "
			  "load: %s; loading it without (fast_forward: flowtable unavailable)",
			  BWE_FT_KFUNC, strerror(-l->err));
		bwe_bpf__destroy(l->obj);
		l->obj = l->without;
		l->without = NULL;
		l->ft = false;
		l->ft_failed = true;
		l->err = bwe_bpf__load(l->obj);
	}
	if (write(l->efd, &one, sizeof(one)) != (ssize_t)sizeof(one))
		log_warn("dataplane: the program's load cannot say it ended");
	return NULL;
}

/* Start the XDP program's load on dp's maps, in a thread. */
static int load_start(struct bwe_dp *dp)
{
	struct bwe_dp_load *l = calloc(1, sizeof(*l));
	int err;

	if (!l)
		return -ENOMEM;
	l->ft = dp->flowtable;
	l->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	err = l->efd < 0 ? -errno : obj_on_maps(dp->skel, dp->skel->progs.bwe_xdp, l->ft, &l->obj);
	if (!err && l->ft)
		err = obj_on_maps(dp->skel, dp->skel->progs.bwe_xdp, false, &l->without);
	err = err ?: -pthread_create(&l->thread, NULL, load_xdp, l);
	if (err) {
		bwe_bpf__destroy(l->obj);
		bwe_bpf__destroy(l->without);
		if (l->efd >= 0)
			close(l->efd);
		free(l);
		return err;
	}
	dp->load = l;
	return 0;
}

int bwe_dp_ready_fd(const struct bwe_dp *dp)
{
	return dp->load ? dp->load->efd : -1;
}

int bwe_dp_wait(struct bwe_dp *dp)
{
	struct bwe_dp_load *l = dp->load;
	int err;

	if (!l)
		return dp->xdp ? 0 : -ENOENT;
	pthread_join(l->thread, NULL);
	err = l->err;
	if (!err) {
		dp->xdp = l->obj;
		l->obj = NULL;
	}
	dp->flowtable = l->ft;
	dp->flowtable_failed = l->ft_failed;
	bwe_bpf__destroy(l->obj);
	bwe_bpf__destroy(l->without);
	close(l->efd);
	free(l);
	dp->load = NULL;
	return err;
}

int bwe_dp_open_async(struct bwe_dp **out, const struct bwe_dp_opts *opts)
{
	struct bwe_dp *dp;
	char path[PATH_MAX], msg[BWE_DP_MSG_MAX];
	struct bwe_config cfg = { 0 };
	bool dev_reused = false;
	__u32 blocks = 0;
	int err;

	dp = calloc(1, sizeof(*dp));
	if (!dp)
		return -ENOMEM;
	dp->ncpus = libbpf_num_possible_cpus();
	if (dp->ncpus <= 0) {
		err = dp->ncpus ? dp->ncpus : -EINVAL;
		goto cleanup;
	}
	dp->bl_host_max = opts->bl_host_max ? opts->bl_host_max : BWE_BL_HOST_MAX;
	if (opts->pin_dir) {
		/* Before libbpf reuses a single pin: maps of another ABI are not ours. */
		err = bwe_dp_abi_check(opts->pin_dir, msg, sizeof(msg));
		if (err == -EPROTO)
			log_warnx("%s", msg);
		if (err)
			goto cleanup;
	}
	dp->flowtable = opts->flowtable_try || bwe_dp_flowtable_kfunc();
	err = dp_prepare(dp, opts, dp->flowtable, &blocks, &dev_reused);
	err = err ?: bwe_bpf__load(dp->skel); /* the maps, and the clock's program */
	err = err ?: load_start(dp);	      /* the verifier from here on, beside */
	err = err ?: abi_stamp(dp);
	err = err ?: map_mmap(dp->skel->maps.bwe_bl4_key, sizeof(__u64), (void **)&dp->bl4_key);
	err = err ?: bl_tables_init(dp);
	if (!err && opts->pin_dir && !dev_reused) {
		err = pin_path(path, sizeof(path), opts->pin_dir, BWE_MAP_FWD_DEV);
		if (!err && bpf_obj_pin(bpf_map__fd(dp->skel->maps.bwe_fwd_dev), path))
			err = -errno;
	}
	if (err)
		goto cleanup;

	dp->tbl24_len = (size_t)BWE_TBL24_ENTRIES * sizeof(struct bwe_tbl24_val);
	err = map_mmap(dp->skel->maps.bwe_bl_tbl24, dp->tbl24_len, (void **)&dp->tbl24);
	err = err ?: map_mmap(dp->skel->maps.bwe_bl_h24, H24_BYTES, (void **)&dp->h24);
	err = err ?: map_mmap(dp->skel->maps.bwe_bl_h6, H6_BYTES, (void **)&dp->h6);
	err = err ?: map_mmap(dp->skel->maps.bwe_bl_n6, N6_BYTES, (void **)&dp->n6);
	err = err ?: map_mmap(dp->skel->maps.bwe_nc16, NC16_BYTES, (void **)&dp->nc16);
	err = err ?: map_mmap(dp->skel->maps.bwe_nc6, NC6_BYTES, (void **)&dp->nc6);
	err = err ?: map_mmap(dp->skel->maps.bwe_nc4, NC4_BYTES, (void **)&dp->nc4);
	err = err ?: bwe_hslots_open(&dp->hsl, dp, blocks);
	if (err)
		goto cleanup;

	/* A freshly created config map is all zero; keep a reused one as it
	 * is, but for this load's tick clock scale. */
	tick_measure(dp);
	err = bwe_dp_config_get(dp, &cfg);
	err = err ?: config_write(dp, &cfg);
	if (err)
		goto cleanup;
	*out = dp;
	return 0;

cleanup:
	bwe_dp_close(dp);
	return err;
}

int bwe_dp_open(struct bwe_dp **out, const struct bwe_dp_opts *opts)
{
	int err = bwe_dp_open_async(out, opts);

	if (err)
		return err;
	err = bwe_dp_wait(*out);
	if (err) {
		bwe_dp_close(*out);
		*out = NULL;
	}
	return err;
}

void bwe_dp_close(struct bwe_dp *dp)
{
	if (!dp)
		return;
	bwe_dp_wait(dp); /* a load in progress ends first */
	if (dp->tbl24)
		munmap(dp->tbl24, dp->tbl24_len);
	if (dp->h24)
		munmap(dp->h24, H24_BYTES);
	if (dp->h6)
		munmap(dp->h6, H6_BYTES);
	if (dp->n6)
		munmap(dp->n6, N6_BYTES);
	if (dp->bl4_key)
		munmap(dp->bl4_key, sizeof(__u64));
	bwe_hslots_free(dp->hsl);
	if (dp->nc16)
		munmap(dp->nc16, NC16_BYTES);
	if (dp->nc6)
		munmap(dp->nc6, NC6_BYTES);
	if (dp->nc4)
		munmap(dp->nc4, NC4_BYTES);
	bwe_bpf__destroy(dp->tc);
	bwe_bpf__destroy(dp->xdp);
	bwe_bpf__destroy(dp->skel);
	free(dp);
}

int bwe_dp_prog_fd(const struct bwe_dp *dp)
{
	return dp->xdp ? bpf_program__fd(dp->xdp->progs.bwe_xdp) : -EAGAIN;
}

/*
 * The TC egress program is loaded only where some interface translates,
 * the first time it is asked for: its verification takes as long as the
 * XDP program's (docs/benchmarks.md, "The tick clock, a
 * merged lookup, and loading only what runs"), which a
 * routed gateway's start would otherwise wait for. Like the XDP program, it
 * is loaded from a copy of the object on this open's maps (obj_on_maps()).
 */
int bwe_dp_tc_prog_fd(struct bwe_dp *dp)
{
	struct bwe_bpf *tc;
	int err;

	if (dp->tc)
		return bpf_program__fd(dp->tc->progs.bwe_tc_egress);
	err = obj_on_maps(dp->skel, dp->skel->progs.bwe_tc_egress, false,
			  &tc); /* XDP's path only */
	err = err ?: bwe_bpf__load(tc);
	if (err) {
		bwe_bpf__destroy(tc);
		return err;
	}
	dp->tc = tc;
	return bpf_program__fd(tc->progs.bwe_tc_egress);
}

int bwe_dp_unpin(const char *pin_dir)
{
	char path[PATH_MAX];
	int err = 0;
	size_t i;

	for (i = 0; i < DP_NMAPS; i++) {
		if (pin_path(path, sizeof(path), pin_dir, dp_maps[i].name))
			return -ENAMETOOLONG;
		if (unlink(path) && errno != ENOENT && !err)
			err = -errno;
	}
	return err;
}

int bwe_dp_config_get(const struct bwe_dp *dp, struct bwe_config *cfg)
{
	__u32 zero = 0;

	if (bpf_map_lookup_elem(bpf_map__fd(dp->skel->maps.bwe_config), &zero, cfg))
		return -errno;
	return 0;
}

/*
 * The class generation is the network classes' (bwe_dp_nc_gen_bump()): a
 * caller's copy may predate the last change, and writing it back would
 * make classes cached under that older generation current again.
 */
int bwe_dp_config_set(const struct bwe_dp *dp, const struct bwe_config *cfg)
{
	struct bwe_config c;
	int err = bwe_dp_config_get(dp, &c);
	__u32 gen = c.nc_gen;

	if (err)
		return err;
	c = *cfg;
	c.nc_gen = gen;
	return config_write(dp, &c);
}

void bwe_dp_nc16_write(const struct bwe_dp *dp, const struct bwe_nc16_val *t)
{
	volatile __u32 *slot;
	size_t i;

	for (i = 0; i < BWE_NC16_ENTRIES; i++) {
		slot = &dp->nc16[i].flags;
		if (*slot != t[i].flags)
			*slot = t[i].flags; /* one aligned store: the program sees old or new */
		slot = &dp->nc16[i].row;
		if (*slot != t[i].row)
			*slot = t[i].row; /* the same: a row's entries are written already */
	}
}

void bwe_dp_bits_write(__u64 *bits, const __u64 *t, size_t words, bool keep)
{
	size_t i;
	__u64 v;

	for (i = 0; i < words; i++) {
		v = keep ? t[i] | __atomic_load_n(&bits[i], __ATOMIC_RELAXED) : t[i];
		if (__atomic_load_n(&bits[i], __ATOMIC_RELAXED) != v)
			__atomic_store_n(&bits[i], v, __ATOMIC_RELEASE); /* one aligned store */
	}
}

__u64 bwe_dp_bits_count(const __u64 *bits, size_t words)
{
	__u64 n = 0;
	size_t i;

	for (i = 0; bits && i < words; i++)
		n += (__u64)__builtin_popcountll(__atomic_load_n(&bits[i], __ATOMIC_RELAXED));
	return n;
}

int bwe_dp_nc_gen_bump(const struct bwe_dp *dp)
{
	struct bwe_config c;
	int err = bwe_dp_config_get(dp, &c);

	if (err)
		return err;
	c.nc_gen++;
	if (!c.nc_gen) /* 0 is never current (bwe_nc_cached()) */
		c.nc_gen = 1;
	return config_write(dp, &c);
}

int bwe_dp_std_ports_set(const struct bwe_dp *dp, const __u16 *ports, size_t n)
{
	int fd = bpf_map__fd(dp->skel->maps.bwe_std_ports);
	__u64 words[BWE_PORT_WORDS] = { 0 };
	__u32 i;

	for (i = 0; i < n; i++)
		words[ports[i] >> 6] |= 1ULL << (ports[i] & 63);
	/* Words that gain bits are written before words that lose them. */
	for (i = 0; i < BWE_PORT_WORDS; i++)
		if (bpf_map_update_elem(fd, &i, &words[i], BPF_ANY))
			return -errno;
	return 0;
}

int bwe_dp_stats_read_dir(const struct bwe_dp *dp, struct bwe_counter (*out)[BWE_SD_MAX])
{
	int fd = bpf_map__fd(dp->skel->maps.bwe_stats);
	struct bwe_counter *percpu;
	__u32 slot, dir, idx;
	int c;

	percpu = calloc(dp->ncpus, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	for (slot = 0; slot < BWE_STATS_MAX; slot++) {
		for (dir = 0; dir < BWE_SD_MAX; dir++) {
			struct bwe_counter *o = &out[slot][dir];

			idx = bwe_stat_index(slot, dir);
			if (bpf_map_lookup_elem(fd, &idx, percpu)) {
				int err = -errno;

				free(percpu);
				return err;
			}
			o->packets = o->bytes = 0;
			for (c = 0; c < dp->ncpus; c++) {
				o->packets += percpu[c].packets;
				o->bytes += percpu[c].bytes;
			}
		}
	}
	free(percpu);
	return 0;
}

static const char *const fwd_stat_names[BWE_FWD_MAX] = {
	[BWE_FWD_FAST] = "forwarded",	   [BWE_FWD_S_ENCAP] = "encap",
	[BWE_FWD_S_OPTIONS] = "options",   [BWE_FWD_S_FRAGMENT] = "fragment",
	[BWE_FWD_S_TTL] = "ttl",	   [BWE_FWD_S_NAT] = "nat",
	[BWE_FWD_S_LOCAL] = "local",	   [BWE_FWD_S_NO_ROUTE] = "no_route",
	[BWE_FWD_S_NO_NEIGH] = "no_neigh", [BWE_FWD_S_MTU] = "mtu",
	[BWE_FWD_S_EGRESS] = "egress",	   [BWE_FWD_S_HEADER] = "header",
	[BWE_FWD_S_NO_FLOW] = "no_flow",
};

const char *bwe_fwd_stat_name(unsigned int stat)
{
	return stat < BWE_FWD_MAX && fwd_stat_names[stat] ? fwd_stat_names[stat] : "?";
}

int bwe_dp_fwd_stats_zero(const struct bwe_dp *dp, __u32 stats)
{
	int fd = bpf_map__fd(dp->skel->maps.bwe_fwd_stats);
	struct bwe_fwd_stats *zero;
	int err = 0;

	if (stats >= BWE_FWD_STATS_MAX)
		return -ENOENT;
	zero = calloc(dp->ncpus, sizeof(*zero));
	if (!zero)
		return -ENOMEM;
	if (bpf_map_update_elem(fd, &stats, zero, BPF_ANY))
		err = -errno;
	free(zero);
	return err;
}

int bwe_dp_fwd_dev_set(const struct bwe_dp *dp, __u32 ifindex, bool on)
{
	int fd = bpf_map__fd(dp->skel->maps.bwe_fwd_dev);

	if (on)
		return bpf_map_update_elem(fd, &ifindex, &ifindex, BPF_ANY) ? -errno : 0;
	return bpf_map_delete_elem(fd, &ifindex) && errno != ENOENT ? -errno : 0;
}

static bool u32_in(__u32 k, const __u32 *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i] == k)
			return true;
	return false;
}

/* Delete the keys of a map keyed by ifindex that are not in keep[]. */
static int prune_ifindex_map(int fd, const __u32 *keep, size_t n)
{
	__u32 key, next, stale[BWE_IFACES_MAX];
	size_t i, n_stale = 0;
	int err;

	for (err = bpf_map_get_next_key(fd, NULL, &key); !err;
	     err = bpf_map_get_next_key(fd, &key, &next), key = next)
		if (!u32_in(key, keep, n) && n_stale < BWE_IFACES_MAX)
			stale[n_stale++] = key;
	for (i = 0; i < n_stale; i++)
		if (bpf_map_delete_elem(fd, &stale[i]) && errno != ENOENT)
			return -errno;
	return 0;
}

int bwe_dp_fwd_prune(const struct bwe_dp *dp, const __u32 *dev, size_t ndev)
{
	return prune_ifindex_map(bpf_map__fd(dp->skel->maps.bwe_fwd_dev), dev, ndev);
}

int bwe_dp_fwd_stats_read(const struct bwe_dp *dp, __u32 stats, struct bwe_fwd_stats *out)
{
	int fd = bpf_map__fd(dp->skel->maps.bwe_fwd_stats);
	struct bwe_fwd_stats *percpu;
	int c, k, err = 0;

	memset(out, 0, sizeof(*out));
	if (stats >= BWE_FWD_STATS_MAX)
		return -ENOENT;
	percpu = calloc(dp->ncpus, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &stats, percpu)) {
		err = -errno;
	} else {
		for (c = 0; c < dp->ncpus; c++)
			for (k = 0; k < BWE_FWD_MAX; k++) {
				out->c[k].packets += percpu[c].c[k].packets;
				out->c[k].bytes += percpu[c].c[k].bytes;
			}
	}
	free(percpu);
	return err;
}

int bwe_dp_stats_read(const struct bwe_dp *dp, struct bwe_counter *out)
{
	struct bwe_counter d[BWE_STATS_MAX][BWE_SD_MAX];
	__u32 slot, dir;
	int err = bwe_dp_stats_read_dir(dp, d);

	if (err)
		return err;
	for (slot = 0; slot < BWE_STATS_MAX; slot++) {
		out[slot].packets = out[slot].bytes = 0;
		for (dir = 0; dir < BWE_SD_MAX; dir++) {
			out[slot].packets += d[slot][dir].packets;
			out[slot].bytes += d[slot][dir].bytes;
		}
	}
	return 0;
}

void bwe_hslot_drop_merge(struct bwe_host_stats *acc, const struct bwe_hslot_drop *cpu)
{
	acc->drop[BWE_HD_BLOCK].bytes += cpu->bytes;
	acc->drop[BWE_HD_BLOCK].packets += cpu->packets;
	acc->bl_hits += cpu->packets;
	if (cpu->last_ns > acc->last_seen_ns)
		acc->last_seen_ns = cpu->last_ns;
}

void bwe_dp_host_merge(struct bwe_host_stats *out, const struct bwe_host_stats *percpu,
		       const struct bwe_hslot_drop *drops, int ncpus)
{
	int c;

	memset(out, 0, sizeof(*out));
	out->hll_epoch = percpu[0].hll_epoch;
	for (c = 0; c < ncpus; c++) {
		bwe_host_stats_merge(out, &percpu[c]);
		if (drops)
			bwe_hslot_drop_merge(out, &drops[c]);
	}
}

void bwe_host_stats_merge(struct bwe_host_stats *acc, const struct bwe_host_stats *cpu)
{
	int i;

	acc->tx_bytes += cpu->tx_bytes;
	acc->tx_packets += cpu->tx_packets;
	acc->rx_bytes += cpu->rx_bytes;
	acc->rx_packets += cpu->rx_packets;
	for (i = 0; i < BWE_HD_MAX; i++) {
		acc->drop[i].bytes += cpu->drop[i].bytes;
		acc->drop[i].packets += cpu->drop[i].packets;
	}
	acc->nonstd_tx_bytes += cpu->nonstd_tx_bytes;
	acc->bl_hits += cpu->bl_hits;
	acc->bl_in_hits += cpu->bl_in_hits;
	if (cpu->first_seen_ns && (!acc->first_seen_ns || cpu->first_seen_ns < acc->first_seen_ns))
		acc->first_seen_ns = cpu->first_seen_ns;
	if (cpu->last_seen_ns > acc->last_seen_ns)
		acc->last_seen_ns = cpu->last_seen_ns;
	/* Registers of an older fan-out window do not count. */
	if (cpu->hll_epoch > acc->hll_epoch) {
		acc->hll_epoch = cpu->hll_epoch;
		memcpy(acc->hll_dst, cpu->hll_dst, sizeof(acc->hll_dst));
		memcpy(acc->hll_port, cpu->hll_port, sizeof(acc->hll_port));
		memcpy(acc->hll_src, cpu->hll_src, sizeof(acc->hll_src));
		acc->hh_tx = cpu->hh_tx;
		acc->hh_rx = cpu->hh_rx;
		return;
	}
	if (cpu->hll_epoch < acc->hll_epoch)
		return;
	for (i = 0; i < BWE_HLL_REGS; i++) {
		if (cpu->hll_dst[i] > acc->hll_dst[i])
			acc->hll_dst[i] = cpu->hll_dst[i];
		if (cpu->hll_port[i] > acc->hll_port[i])
			acc->hll_port[i] = cpu->hll_port[i];
		if (cpu->hll_src[i] > acc->hll_src[i])
			acc->hll_src[i] = cpu->hll_src[i];
	}
	bwe_hh_merge(&acc->hh_tx, &cpu->hh_tx);
	bwe_hh_merge(&acc->hh_rx, &cpu->hh_rx);
}

int bwe_dp_hslot_sent(const struct bwe_dp *dp, __u32 slot)
{
	__u32 w = bwe_hslot_sent_word(slot);
	__u64 bits;

	if (bpf_map_lookup_elem(bpf_map__fd(dp->skel->maps.bwe_hslot_sent), &w, &bits))
		return -errno;
	return !!(bits & bwe_hslot_sent_bit(slot));
}

bool bwe_dp_host_idle(const struct bwe_host_stats *merged, __u64 now_ns, __u64 idle_ns)
{
	/* the coarse clock lags the fine one: a last_seen_ns after now_ns is now */
	return idle_ns && merged->last_seen_ns <= now_ns && now_ns - merged->last_seen_ns > idle_ns;
}

int bwe_dp_hosts_forget(const struct bwe_dp *dp, const struct bwe_addr *a, size_t n,
			struct bwe_dp_forgotten *out)
{
	int hfd = bpf_map__fd(dp->skel->maps.bwe_hosts), err = 0, r;
	size_t i, before = out->slots + out->hashed;
	__u32 slot;

	for (i = 0; i < n; i++) {
		if (bwe_addr_is_v4(&a[i]) && dp->hsl &&
		    bwe_hslots_slot(dp->hsl, ntohl(bwe_addr_v4(&a[i])), &slot)) {
			r = bwe_hslots_forget(dp->hsl, slot);
			if (r > 0)
				out->slots++;
		} else {
			r = bpf_map_delete_elem(hfd, &a[i]) ? -errno : 0;
			if (!r)
				out->hashed++;
			else if (r == -ENOENT)
				r = 0; /* evicted meanwhile */
		}
		if (r < 0 && !err)
			err = r;
	}
	if (out->slots + out->hashed > before) {
		r = bwe_dp_nc_gen_bump(dp);
		err = err ?: r;
	}
	return err;
}

int bwe_dp_host_read(const struct bwe_dp *dp, const struct bwe_addr *host,
		     struct bwe_host_stats *out)
{
	struct bwe_hslot_drop *drops = NULL;
	struct bwe_host_stats *percpu;
	int err = 0;
	__u32 slot;

	percpu = calloc(dp->ncpus, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	if (bwe_addr_is_v4(host) && bwe_hslots_slot(dp->hsl, ntohl(bwe_addr_v4(host)), &slot)) {
		err = bwe_dp_hslot_sent(dp, slot);
		if (err <= 0) {
			err = err ?: -ENOENT;
			goto out;
		}
		err = 0;
		drops = calloc(dp->ncpus, sizeof(*drops));
		if (!drops) {
			err = -ENOMEM;
			goto out;
		}
		if (bpf_map_lookup_elem(bpf_map__fd(dp->skel->maps.bwe_hslots), &slot, percpu)) {
			err = -errno;
			goto out;
		}
		bwe_hslots_drops(dp->hsl, slot, drops);
	} else if (bpf_map_lookup_elem(bpf_map__fd(dp->skel->maps.bwe_hosts), host, percpu)) {
		err = -errno;
		goto out;
	}
	bwe_dp_host_merge(out, percpu, drops, dp->ncpus);
out:
	free(percpu);
	free(drops);
	return err;
}

int bwe_dp_throttle_set(const struct bwe_dp *dp, const struct bwe_addr *host, __u64 rate_bps,
			__u64 burst)
{
	struct bwe_throttle t = {
		.rate_bps = rate_bps,
		.burst = burst,
		.tx = { .tokens = burst },
		.rx = { .tokens = burst },
	};

	if (!rate_bps || !burst)
		return -EINVAL;
	if (rate_bps > BWE_RATE_MAX)
		return -ERANGE;
	if (bpf_map_update_elem(bpf_map__fd(dp->skel->maps.bwe_throttle), host, &t, BPF_F_LOCK))
		return -errno;
	return 0;
}

int bwe_dp_throttle_del(const struct bwe_dp *dp, const struct bwe_addr *host)
{
	if (bpf_map_delete_elem(bpf_map__fd(dp->skel->maps.bwe_throttle), host))
		return -errno;
	return 0;
}
