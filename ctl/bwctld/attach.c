// SPDX-License-Identifier: GPL-2.0-only
/*
 * attach.c - see attach.h.
 *
 * What libxdp 1.3.1 does with a program that is already loaded (checked on
 * this project's kernels and in libxdp.c):
 *  - xdp_program__from_fd() of our loaded XDP program: libxdp links it into
 *    its dispatcher with bpf_link_create(), which the kernel refuses for an
 *    XDP-type program (EINVAL); libxdp reads that as "kernel doesn't support
 *    re-attaching freplace programs" and attaches the program alone. So it
 *    never reaches the dispatcher, and fails with EBUSY where a dispatcher
 *    already runs.
 *  - xdp_program__from_bpf_obj() of the loaded skeleton object: libxdp calls
 *    bpf_program__set_attach_target() on it, which libbpf refuses on a loaded
 *    object (EINVAL), and the attach fails outright on a kernel where the
 *    dispatcher works.
 *  - Only an object that libxdp loads itself becomes a dispatcher component
 *    (type EXT). Hence the twin: a second, unloaded copy of the enforcer
 *    object whose maps are the loaded program's maps (bpf_map__reuse_fd), so
 *    that every map the daemon writes is the one the data path reads.
 *  - Where freplace is refused (EPERM), libxdp prints "Compatibility check
 *    for dispatcher program failed: Operation not permitted" and "Falling
 *    back to loading single prog without dispatcher"; without a bpffs it
 *    prints "No bpffs found at /sys/fs/bpf" and "Can't use dispatcher
 *    without a working bpffs". We probe for both first, attach prog_fd itself
 *    in that case (no second verification of the program), and say why in
 *    the note.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/vfs.h>
#include <net/if_arp.h>
#include <linux/genetlink.h>
#include <linux/magic.h>
#include <linux/netlink.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bwe_util.h"
#include "attach.h"
#include "bwe_abi.h"
#include "log.h"
/* The generated skeleton casts away const; that is bpftool's code, not ours. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wcast-qual"
#include "bwe.skel.h"
#pragma GCC diagnostic pop

#define DISPATCHER_OBJ	"xdp-dispatcher.o"	 /* installed with libxdp */
#define PROBE_PROG	"xdp_pass"		 /* an XDP function with BTF in it */
#define DISPATCHER_PROG "xdp_dispatcher"	 /* the dispatcher's program name */
#define SKIP_ENVVAR	"LIBXDP_SKIP_DISPATCHER" /* libxdp's; "1" skips it */
#define BPFFS_DEFAULT	"/sys/fs/bpf"		 /* libxdp's default bpffs */
#define USED_MAPS_MAX	64			 /* kernel MAX_USED_MAPS per program */
#define DETACH_ROUNDS	8			 /* bound on "ours found again" */
#define LIB_MSG_MAX	512			 /* one libbpf/libxdp message */
#define KERNEL_MSG	"Kernel error message: " /* libbpf's extack line */

/* What is attached to an interface, as far as we care. */
struct xdp_state {
	int mode;	 /* XDP_MODE_*, 0: nothing (offload ignored) */
	bool dispatcher; /* a libxdp dispatcher, else one program alone */
	__u32 ours_id;	 /* our program (alone or a component), 0 none */
	__u32 other_id;	 /* alone: the foreign program */
	char other[BPF_OBJ_NAME_LEN];
};

/*
 * The maps the daemon writes and the data path reads (pinned under these
 * names). An attached program that does not use these very maps would
 * enforce nothing the daemon writes; program-private maps (bwe_scratch)
 * differ between any two loads and do not count.
 */
#define SHARED_MAP_NAME(field, pin) pin,
static const char *const shared_maps[] = { BWE_PINNED_MAPS(SHARED_MAP_NAME) };
#undef SHARED_MAP_NAME
#define SHARED_MAPS (ARRAY_SIZE(shared_maps))

/* A program's identity: its instructions and its shared maps (ids sorted). */
struct prog_ident {
	__u8 tag[BPF_TAG_SIZE];
	__u32 nmaps;
	__u32 maps[USED_MAPS_MAX];
};

static int libxdp_verbose;
static char kernel_msg[BWE_IFACE_NOTE_MAX]; /* last extack seen from libbpf */

enum { KERNEL_UNKNOWN, KERNEL_FREPLACE_OK, KERNEL_FREPLACE_NO };
static int kernel_freplace = KERNEL_UNKNOWN; /* probed once per process */
static char kernel_freplace_why[BWE_IFACE_NOTE_MAX];

__attribute__((format(printf, 3, 4))) static void fmt_to(char *buf, size_t len, const char *fmt,
							 ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

/* Append "; text" (or just text) to buf, truncating quietly. */
__attribute__((format(printf, 3, 4))) static void fmt_append(char *buf, size_t len, const char *fmt,
							     ...)
{
	size_t used = strnlen(buf, len);
	va_list ap;

	if (used && used + 2 < len) {
		memcpy(buf + used, "; ", 3);
		used += 2;
	}
	if (used + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 1, 0))) static void vlog_lib(const char *fmt, va_list ap)
{
	char buf[LIB_MSG_MAX];
	size_t n;
	const char *km;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	km = strstr(buf, KERNEL_MSG);
	if (km)
		fmt_to(kernel_msg, sizeof(kernel_msg), "%s", km + strlen(KERNEL_MSG));
	log_debug("%s", buf);
}

__attribute__((format(printf, 2, 0))) static int libxdp_print(enum libxdp_print_level level,
							      const char *fmt, va_list ap)
{
	if (level == LIBXDP_DEBUG && libxdp_verbose < 2)
		return 0;
	vlog_lib(fmt, ap);
	return 0;
}

void bwe_attach_silence_libxdp(int verbose)
{
	libxdp_verbose = verbose;
	libxdp_set_print(libxdp_print);
}

/*
 * While we attach, libxdp's probing makes libbpf warn about refused loads
 * ("permission error ... try raising 'ulimit -l'?"), which misleads. Those
 * go to debug for the duration; the outcome is reported through the note.
 */
__attribute__((format(printf, 2, 0))) static int libbpf_print_quiet(enum libbpf_print_level level,
								    const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && libxdp_verbose < 2)
		return 0;
	vlog_lib(fmt, ap);
	return 0;
}

static libbpf_print_fn_t quiet_begin(void)
{
	kernel_msg[0] = '\0';
	return libbpf_set_print(libbpf_print_quiet);
}

static void quiet_end(libbpf_print_fn_t old)
{
	libbpf_set_print(old);
}

const char *bwe_xdp_mode_name(int mode)
{
	switch (mode) {
	case XDP_MODE_NATIVE:
		return "native";
	case XDP_MODE_SKB:
		return "generic";
	case XDP_MODE_HW:
		return "offload";
	default:
		return "none";
	}
}

static bool is_ours(const struct xdp_program *p)
{
	const char *name = xdp_program__name(p);

	return name && !strcmp(name, BWE_PROG_NAME);
}

static int xdp_state_read(int ifindex, struct xdp_state *st)
{
	struct xdp_multiprog *mp;
	struct xdp_program *p = NULL, *main_prog;
	long err;

	memset(st, 0, sizeof(*st));
	mp = xdp_multiprog__get_from_ifindex(ifindex);
	err = libxdp_get_error(mp);
	if (err == -ENOENT)
		return 0; /* nothing attached */
	if (err)
		return (int)err;
	main_prog = xdp_multiprog__main_prog(mp);
	if (!main_prog)
		goto out; /* only an offloaded program: not in our way */
	st->mode = xdp_multiprog__attach_mode(mp);
	st->dispatcher = !xdp_multiprog__is_legacy(mp);
	if (st->dispatcher) {
		while ((p = xdp_multiprog__next_prog(p, mp)))
			if (is_ours(p)) {
				st->ours_id = xdp_program__id(p);
				break;
			}
	} else if (is_ours(main_prog)) {
		st->ours_id = xdp_program__id(main_prog);
	} else {
		st->other_id = xdp_program__id(main_prog);
		fmt_to(st->other, sizeof(st->other), "%s", xdp_program__name(main_prog) ?: "?");
	}
out:
	xdp_multiprog__close(mp);
	return 0;
}

/* Resolve the interface and read what is attached; fills ifc's kernel fields. */
static int iface_refresh(struct bwe_iface *ifc, struct xdp_state *st)
{
	int err;

	memset(st, 0, sizeof(*st));
	ifc->ifindex = (int)if_nametoindex(ifc->name);
	ifc->mode = 0;
	ifc->prog_id = 0;
	ifc->multiprog = false;
	if (!ifc->ifindex) {
		fmt_to(ifc->note, sizeof(ifc->note), "interface does not exist");
		return -ENODEV;
	}
	err = xdp_state_read(ifc->ifindex, st);
	if (err) {
		fmt_to(ifc->note, sizeof(ifc->note), "cannot read its XDP state: %s",
		       strerror(-err));
		return err;
	}
	if (st->ours_id) {
		ifc->mode = st->mode;
		ifc->prog_id = st->ours_id;
		ifc->multiprog = st->dispatcher;
	}
	return 0;
}

int bwe_iface_probe(struct bwe_iface *ifc)
{
	libbpf_print_fn_t old = quiet_begin();
	struct xdp_state st;
	int err;

	err = iface_refresh(ifc, &st);
	quiet_end(old);
	return err;
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

static bool is_shared_map(__u32 id)
{
	struct bpf_map_info mi;
	__u32 len = sizeof(mi);
	size_t i;
	int fd;

	fd = bpf_map_get_fd_by_id(id);
	if (fd < 0)
		return false;
	memset(&mi, 0, sizeof(mi));
	if (bpf_obj_get_info_by_fd(fd, &mi, &len))
		mi.name[0] = '\0';
	close(fd);
	for (i = 0; i < SHARED_MAPS; i++)
		if (!strncmp(mi.name, shared_maps[i], sizeof(mi.name) - 1))
			return true;
	return false;
}

static int prog_ident_get(int fd, struct prog_ident *pi)
{
	__u32 ids[USED_MAPS_MAX], len = sizeof(struct bpf_prog_info), i;
	struct bpf_prog_info info;

	memset(&info, 0, sizeof(info));
	memset(pi, 0, sizeof(*pi));
	info.nr_map_ids = USED_MAPS_MAX;
	info.map_ids = (__u64)(unsigned long)ids;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (info.nr_map_ids > USED_MAPS_MAX)
		return -E2BIG;
	memcpy(pi->tag, info.tag, sizeof(pi->tag));
	for (i = 0; i < info.nr_map_ids; i++)
		if (is_shared_map(ids[i]))
			pi->maps[pi->nmaps++] = ids[i];
	qsort(pi->maps, pi->nmaps, sizeof(pi->maps[0]), cmp_u32);
	return 0;
}

/* Is program `id` the very program prog_fd is: same code, same maps? */
static bool same_program(int prog_fd, __u32 id)
{
	struct prog_ident a, b;
	int fd, err;

	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return false;
	err = prog_ident_get(prog_fd, &a);
	err = err ?: prog_ident_get(fd, &b);
	close(fd);
	return !err && a.nmaps == b.nmaps && !memcmp(a.tag, b.tag, sizeof(a.tag)) &&
	       !memcmp(a.maps, b.maps, a.nmaps * sizeof(a.maps[0]));
}

/*
 * Does the kernel's name for a map (BPF_OBJ_NAME_LEN - 1 characters at most)
 * belong to the object's map `name`? libbpf names internal maps (".rodata",
 * ".bss") after a prefix of the object name, so those match by suffix.
 */
static bool kname_matches(const char *kname, const char *name)
{
	size_t kl = strlen(kname), nl = strlen(name);

	if (name[0] == '.')
		return kl >= nl && !strcmp(kname + kl - nl, name);
	return !strncmp(kname, name, BPF_OBJ_NAME_LEN - 1) &&
	       kl == (nl < BPF_OBJ_NAME_LEN - 1 ? nl : BPF_OBJ_NAME_LEN - 1);
}

/* Point the twin's `map` at the map of ids with its name: 1 done, 0 prog_fd does
 * not use such a map, -errno. */
static int twin_map_reuse(struct bpf_map *map, const __u32 *ids, __u32 n)
{
	struct bpf_map_info mi;
	__u32 i, len;
	int fd, err;

	for (i = 0; i < n; i++) {
		fd = bpf_map_get_fd_by_id(ids[i]);
		if (fd < 0)
			return -errno;
		memset(&mi, 0, sizeof(mi));
		len = sizeof(mi);
		if (bpf_obj_get_info_by_fd(fd, &mi, &len)) {
			err = -errno;
			close(fd);
			return err;
		}
		if (!kname_matches(mi.name, bpf_map__name(map))) {
			close(fd);
			continue;
		}
		if (mi.type != bpf_map__type(map) || mi.key_size != bpf_map__key_size(map) ||
		    mi.value_size != bpf_map__value_size(map))
			err = -EINVAL; /* prog_fd is not from this object */
		else
			err = bpf_map__reuse_fd(map, fd) ?: 1;
		close(fd);
		return err;
	}
	return 0;
}

/*
 * An unloaded copy of the enforcer object that shares every map prog_fd
 * uses, for libxdp to load as a dispatcher component. Fails (-ENOENT) unless
 * each of those maps found its twin: a program reading a private copy of a
 * map would enforce nothing the daemon writes.
 */
static int twin_open(int prog_fd, struct bwe_bpf **out)
{
	__u32 ids[USED_MAPS_MAX], shared = 0;
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	struct bwe_bpf *twin;
	struct bpf_map *map;
	int err;

	memset(&info, 0, sizeof(info));
	info.nr_map_ids = USED_MAPS_MAX;
	info.map_ids = (__u64)(unsigned long)ids;
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return -errno;
	if (info.nr_map_ids > USED_MAPS_MAX)
		return -E2BIG;
	twin = bwe_bpf__open();
	if (!twin)
		return -errno;
	bpf_object__for_each_map(map, twin->obj) {
		err = twin_map_reuse(map, ids, info.nr_map_ids);
		if (err < 0)
			goto cleanup;
		shared += err;
	}
	if (shared != info.nr_map_ids) {
		err = -ENOENT;
		goto cleanup;
	}
	*out = twin;
	return 0;

cleanup:
	bwe_bpf__destroy(twin);
	return err;
}

/* Keep only `name` of obj's programs for loading; NULL when absent. */
static struct bpf_program *only_prog(struct bpf_object *obj, const char *name)
{
	struct bpf_program *p, *found = NULL;

	bpf_object__for_each_program(p, obj) {
		bool it = !strcmp(bpf_program__name(p), name);

		bpf_program__set_autoload(p, it);
		if (it)
			found = p;
	}
	return found;
}

/*
 * Can this kernel load and attach an extension (freplace) program? Tried the
 * way libxdp's own check does, on xdp_pass from libxdp's dispatcher object.
 */
static int freplace_probe(char *why, size_t len)
{
	DECLARE_LIBXDP_OPTS(xdp_program_opts, opts, .find_filename = DISPATCHER_OBJ,
			    .prog_name = PROBE_PROG);
	struct xdp_program *tgt, *ext = NULL;
	struct bpf_program *tp, *ep;
	struct bpf_link *link = NULL;
	int err;

	tgt = xdp_program__create(&opts);
	err = (int)libxdp_get_error(tgt);
	if (!err) {
		ext = xdp_program__create(&opts);
		err = (int)libxdp_get_error(ext);
		if (err)
			ext = NULL;
	} else {
		tgt = NULL;
	}
	if (err) {
		fmt_to(why, len, "libxdp's %s not found: %s", DISPATCHER_OBJ, strerror(-err));
		goto cleanup;
	}
	tp = only_prog(xdp_program__bpf_obj(tgt), PROBE_PROG);
	ep = only_prog(xdp_program__bpf_obj(ext), PROBE_PROG);
	if (!tp || !ep) {
		err = -ENOENT;
		fmt_to(why, len, "no %s in libxdp's %s", PROBE_PROG, DISPATCHER_OBJ);
		goto cleanup;
	}
	err = bpf_object__load(xdp_program__bpf_obj(tgt));
	if (err) {
		fmt_to(why, len, "cannot load an XDP program: %s", strerror(-err));
		goto cleanup;
	}
	bpf_program__set_type(ep, BPF_PROG_TYPE_EXT);
	bpf_program__set_expected_attach_type(ep, 0);
	err = bpf_program__set_attach_target(ep, bpf_program__fd(tp), PROBE_PROG);
	err = err ?: bpf_object__load(xdp_program__bpf_obj(ext));
	if (err) {
		fmt_to(why, len, "freplace (EXT programs) refused: %s", strerror(-err));
		goto cleanup;
	}
	link = bpf_program__attach_freplace(ep, bpf_program__fd(tp), PROBE_PROG);
	err = (int)libbpf_get_error(link);
	if (err) {
		link = NULL;
		fmt_to(why, len, "freplace attach refused: %s", strerror(-err));
	}
cleanup:
	bpf_link__destroy(link);
	xdp_program__close(ext);
	xdp_program__close(tgt);
	return err;
}

/* Can libxdp's dispatcher be used right now? If not, why says what stops it. */
static bool dispatcher_usable(char *why, size_t len)
{
	const char *env = secure_getenv(SKIP_ENVVAR), *dir;
	struct statfs sfs;

	if (env && !strcmp(env, "1")) {
		fmt_to(why, len, "dispatcher skipped: %s=1", SKIP_ENVVAR);
		return false;
	}
	if (kernel_freplace == KERNEL_UNKNOWN) {
		kernel_freplace = freplace_probe(kernel_freplace_why, sizeof(kernel_freplace_why))
					  ? KERNEL_FREPLACE_NO
					  : KERNEL_FREPLACE_OK;
		if (kernel_freplace == KERNEL_FREPLACE_NO)
			log_info("libxdp dispatcher unavailable on this kernel (%s): "
				 "the enforcer will be attached alone",
				 kernel_freplace_why);
	}
	if (kernel_freplace == KERNEL_FREPLACE_NO) {
		fmt_to(why, len, "dispatcher unavailable on this kernel: %s", kernel_freplace_why);
		return false;
	}
	env = secure_getenv(XDP_BPFFS_MOUNT_ENVVAR);
	if (env && !strcmp(env, "1"))
		return true; /* libxdp mounts one itself */
	dir = secure_getenv(XDP_BPFFS_ENVVAR) ?: BPFFS_DEFAULT;
	if (statfs(dir, &sfs) || sfs.f_type != BPF_FS_MAGIC) {
		fmt_to(why, len, "dispatcher unavailable: no bpffs at %s", dir);
		return false;
	}
	return true;
}

/*
 * One attach through libxdp in one mode: the twin when the dispatcher can be
 * used (libxdp loads it as a component), else prog_fd itself, alone.
 */
static int attach_mode(int ifindex, int prog_fd, enum xdp_attach_mode mode, bool twin_wanted,
		       char *note, size_t len)
{
	struct bwe_bpf *twin = NULL;
	struct xdp_program *prog;
	int err;

	if (twin_wanted) {
		err = twin_open(prog_fd, &twin);
		if (err)
			fmt_append(note, len, "no twin for the dispatcher (%s)", strerror(-err));
	}
	prog = twin ? xdp_program__from_bpf_obj(twin->obj, NULL) : xdp_program__from_fd(prog_fd);
	err = (int)libxdp_get_error(prog);
	if (!err) {
		kernel_msg[0] = '\0';
		err = xdp_program__attach(prog, ifindex, mode, 0);
		xdp_program__close(prog);
	}
	bwe_bpf__destroy(twin);
	if (err && twin && err != -EBUSY && err != -EEXIST) {
		/* The dispatcher failed in a way libxdp did not fall back from. */
		fmt_append(note, len, "dispatcher attach failed (%s)", strerror(-err));
		return attach_mode(ifindex, prog_fd, mode, false, note, len);
	}
	return err;
}

static bool mode_satisfies(enum bwe_attach_mode want, int mode)
{
	switch (want) {
	case BWE_MODE_NATIVE:
		return mode == XDP_MODE_NATIVE;
	case BWE_MODE_GENERIC:
		return mode == XDP_MODE_SKB;
	default:
		return mode == XDP_MODE_NATIVE || mode == XDP_MODE_SKB;
	}
}

/* Modes to try, in order; a dispatcher already there fixes the mode. */
static int modes_to_try(enum bwe_attach_mode want, int fixed, enum xdp_attach_mode *out)
{
	static const enum xdp_attach_mode all[] = { XDP_MODE_NATIVE, XDP_MODE_SKB };
	size_t i;
	int n = 0;

	for (i = 0; i < ARRAY_SIZE(all); i++)
		if (mode_satisfies(want, all[i]) && (!fixed || fixed == (int)all[i]))
			out[n++] = all[i];
	return n;
}

/* Detach every program of ours from ifindex, and nothing else. */
static int detach_ours(int ifindex)
{
	struct xdp_multiprog *mp;
	struct xdp_program *p;
	int round, err;
	long e;

	for (round = 0; round < DETACH_ROUNDS; round++) {
		mp = xdp_multiprog__get_from_ifindex(ifindex);
		e = libxdp_get_error(mp);
		if (e == -ENOENT)
			return 0;
		if (e)
			return (int)e;
		p = xdp_multiprog__main_prog(mp);
		if (p && !xdp_multiprog__is_legacy(mp)) {
			p = NULL;
			while ((p = xdp_multiprog__next_prog(p, mp)) && !is_ours(p))
				;
		} else if (p && !is_ours(p)) {
			p = NULL;
		}
		err = p ? xdp_program__detach(p, ifindex, xdp_multiprog__attach_mode(mp), 0) : 0;
		xdp_multiprog__close(mp);
		if (!p || err)
			return err;
	}
	return -EBUSY;
}

/* The note of an interface where our program runs alone. */
static void note_alone(struct bwe_iface *ifc, bool adopted)
{
	char why[BWE_IFACE_NOTE_MAX];

	if (dispatcher_usable(why, sizeof(why)))
		fmt_append(ifc->note, sizeof(ifc->note), "%s",
			   adopted ? "attached alone by an earlier run (legacy)"
				   : "libxdp did not use its dispatcher; attached alone (legacy)");
	else
		fmt_append(ifc->note, sizeof(ifc->note), "%s; attached alone (legacy)", why);
}

/*
 * The link-layer type of an interface (ARPHRD_*), or -errno. The program
 * reads an Ethernet header first: on an L3 device (WireGuard, GRE, tun,
 * PPP) it would take the IP header for one.
 */
static int link_type(const char *name)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr))
		err = -errno;
	close(fd);
	return err ? err : ifr.ifr_hwaddr.sa_family;
}

static int attach(struct bwe_iface *ifc, int prog_fd)
{
	enum xdp_attach_mode modes[2];
	char why[BWE_IFACE_NOTE_MAX];
	struct xdp_state st;
	int err, n, i, old_mode = 0, type;
	bool twin;

	ifc->note[0] = '\0';
	if (prog_fd < 0)
		return -EBADF;
	err = iface_refresh(ifc, &st);
	if (err)
		return err;
	type = link_type(ifc->name);
	if (type >= 0 && type != ARPHRD_ETHER) {
		fmt_to(ifc->note, sizeof(ifc->note),
		       "not an Ethernet interface (link type %d): attach to the Ethernet NIC it "
		       "runs over (docs/deployment.md)",
		       type);
		return -EPROTONOSUPPORT;
	}

	if (st.ours_id) {
		if (mode_satisfies(ifc->want, st.mode) && same_program(prog_fd, st.ours_id)) {
			log_info("%s: program %s id %u already attached (%s%s): adopted", ifc->name,
				 BWE_PROG_NAME, st.ours_id, bwe_xdp_mode_name(st.mode),
				 st.dispatcher ? ", dispatcher" : "");
			if (!st.dispatcher)
				note_alone(ifc, true);
			return 0;
		}
		log_info("%s: replacing program %s id %u (%s mode): %s", ifc->name, BWE_PROG_NAME,
			 st.ours_id, bwe_xdp_mode_name(st.mode),
			 mode_satisfies(ifc->want, st.mode) ? "another build or other maps"
							    : "another mode is wanted");
		old_mode = st.mode;
		err = detach_ours(ifc->ifindex);
		if (err) {
			fmt_to(ifc->note, sizeof(ifc->note),
			       "cannot detach our earlier program: %s", strerror(-err));
			iface_refresh(ifc, &st);
			return err;
		}
		err = iface_refresh(ifc, &st);
		if (err)
			return err;
	}
	if (st.mode && !st.dispatcher) {
		if (!strcmp(st.other, DISPATCHER_PROG))
			fmt_to(ifc->note, sizeof(ifc->note),
			       "a libxdp dispatcher (id %u) is attached but its programs cannot be "
			       "read (no bpffs?); not touching it",
			       st.other_id);
		else
			fmt_to(ifc->note, sizeof(ifc->note),
			       "another XDP program is attached: %s (id %u, %s mode); not replacing it",
			       st.other, st.other_id, bwe_xdp_mode_name(st.mode));
		return -EBUSY;
	}
	n = modes_to_try(ifc->want, st.mode, modes);
	if (!n) {
		fmt_to(ifc->note, sizeof(ifc->note),
		       "a libxdp dispatcher runs in %s mode; %s mode wanted",
		       bwe_xdp_mode_name(st.mode), bwe_attach_mode_name(ifc->want));
		return -EEXIST;
	}

	twin = dispatcher_usable(why, sizeof(why));
	for (i = 0; i < n; i++) {
		err = attach_mode(ifc->ifindex, prog_fd, modes[i], twin, ifc->note,
				  sizeof(ifc->note));
		if (!err)
			break;
		/* The kernel's own words when it gave some; the code is returned. */
		fmt_append(ifc->note, sizeof(ifc->note), "%s: %s", bwe_xdp_mode_name(modes[i]),
			   kernel_msg[0] ? kernel_msg : strerror(-err));
		if (err == -EBUSY || err == -EEXIST)
			break; /* something took the interface meanwhile */
	}
	if (err && old_mode) {
		/* Do not leave the interface bare: put ours back as it was. */
		if (!attach_mode(ifc->ifindex, prog_fd, (enum xdp_attach_mode)old_mode, twin,
				 ifc->note, sizeof(ifc->note)))
			fmt_append(ifc->note, sizeof(ifc->note), "kept in %s mode",
				   bwe_xdp_mode_name(old_mode));
	}
	i = iface_refresh(ifc, &st);
	if (!err && i)
		err = i;
	if (!err && !st.ours_id) {
		err = -ENOENT;
		fmt_append(ifc->note, sizeof(ifc->note), "attached, but then not found");
	}
	if (st.ours_id && !st.dispatcher)
		note_alone(ifc, false);
	return err;
}

int bwe_attach(struct bwe_iface *ifc, int prog_fd)
{
	libbpf_print_fn_t old = quiet_begin();
	int err = attach(ifc, prog_fd);

	quiet_end(old);
	return err;
}

int bwe_detach(struct bwe_iface *ifc)
{
	libbpf_print_fn_t old = quiet_begin();
	struct xdp_state st;
	int err;

	ifc->note[0] = '\0';
	err = iface_refresh(ifc, &st);
	if (err == -ENODEV) {
		err = 0; /* gone, and our program with it */
		goto out;
	}
	if (err || !st.ours_id)
		goto out;
	err = detach_ours(ifc->ifindex);
	if (err)
		fmt_to(ifc->note, sizeof(ifc->note), "detach failed: %s", strerror(-err));
	if (iface_refresh(ifc, &st) == 0 && !err && st.ours_id) {
		err = -EBUSY;
		fmt_to(ifc->note, sizeof(ifc->note), "our program id %u is still attached",
		       st.ours_id);
	}
out:
	quiet_end(old);
	return err;
}

/* ---- TC egress (NAT gateways) -------------------------------------------- */

static void tc_hook(struct bpf_tc_hook *h, int ifindex)
{
	memset(h, 0, sizeof(*h));
	h->sz = sizeof(*h);
	h->ifindex = ifindex;
	h->attach_point = BPF_TC_EGRESS;
}

static void tc_opts(struct bpf_tc_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->sz = sizeof(*o);
	o->handle = BWE_TC_HANDLE;
	o->priority = BWE_TC_PRIO;
}

/* Name of the program with this id into name; -errno when it is gone. */
static int prog_name_of(__u32 id, char *name, size_t len)
{
	struct bpf_prog_info info = { 0 };
	__u32 ilen = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id), err;

	if (fd < 0)
		return -errno;
	err = bpf_obj_get_info_by_fd(fd, &info, &ilen) ? -errno : 0;
	close(fd);
	if (!err)
		snprintf(name, len, "%s", info.name);
	return err;
}

/* *prog_id of our TC filter on ifindex, 0 none; -EBUSY: a foreign one holds our handle. */
static int bwe_tc_query(int ifindex, __u32 *prog_id)
{
	struct bpf_tc_hook h;
	struct bpf_tc_opts o;
	char name[BPF_OBJ_NAME_LEN];
	int err;

	*prog_id = 0;
	tc_hook(&h, ifindex);
	tc_opts(&o);
	err = bpf_tc_query(&h, &o);
	if (err == -ENOENT || err == -EINVAL)
		return 0; /* no clsact qdisc, or nothing at our handle */
	if (err)
		return err;
	err = prog_name_of(o.prog_id, name, sizeof(name));
	if (err)
		return err;
	if (strcmp(name, BWE_TC_PROG_NAME))
		return -EBUSY;
	*prog_id = o.prog_id;
	return 0;
}

int bwe_tc_attach(int ifindex, int prog_fd, __u32 *prog_id)
{
	struct bpf_tc_hook h;
	struct bpf_tc_opts o;
	__u32 cur;
	int err;

	err = bwe_tc_query(ifindex, &cur);
	if (err)
		return err; /* -EBUSY: a foreign filter holds our handle */
	tc_hook(&h, ifindex);
	err = bpf_tc_hook_create(&h);
	if (err && err != -EEXIST)
		return err;
	tc_opts(&o);
	o.prog_fd = prog_fd;
	o.flags = BPF_TC_F_REPLACE;
	err = bpf_tc_attach(&h, &o);
	if (err)
		return err;
	*prog_id = o.prog_id;
	return 0;
}

int bwe_tc_detach(int ifindex)
{
	struct bpf_tc_hook h;
	struct bpf_tc_opts o;
	__u32 cur;
	int err;

	err = bwe_tc_query(ifindex, &cur);
	if (err || !cur)
		return err == -EBUSY || err == -ENODEV ? 0 : err;
	tc_hook(&h, ifindex);
	tc_opts(&o);
	err = bpf_tc_detach(&h, &o);
	return err == -ENOENT ? 0 : err;
}

/*
 * ---- can an interface transmit redirected XDP frames? ----------------------
 * The kernel's netdev generic-netlink family (Linux 6.3+) reports each
 * device's XDP features; a redirect into a device without "ndo_xdp_xmit"
 * is dropped by the kernel, not handed to the stack. Its UAPI header
 * (linux/netdev.h) is newer than Debian 12's, hence the numbers here,
 * from include/uapi/linux/netdev.h.
 */
#define NETDEV_FAMILY		 "netdev"
#define NETDEV_CMD_DEV_GET_	 1	  /* NETDEV_CMD_DEV_GET */
#define NETDEV_A_DEV_IFINDEX_	 1	  /* u32 */
#define NETDEV_A_DEV_XDP_FEAT_	 3	  /* NETDEV_A_DEV_XDP_FEATURES, u64 */
#define NETDEV_XDP_ACT_NDO_XMIT_ (1 << 2) /* NETDEV_XDP_ACT_NDO_XMIT */
#define GENL_BUF		 4096	  /* bytes: one small request or answer */

struct genl_req {
	struct nlmsghdr n;
	struct genlmsghdr g;
	char attrs[64];
};

static void nla_put(struct genl_req *r, __u16 type, const void *data, size_t len)
{
	struct nlattr *a = (struct nlattr *)((char *)r + NLMSG_ALIGN(r->n.nlmsg_len));

	a->nla_type = type;
	a->nla_len = (__u16)(NLA_HDRLEN + len);
	memcpy((char *)a + NLA_HDRLEN, data, len);
	r->n.nlmsg_len = NLMSG_ALIGN(r->n.nlmsg_len) + NLA_ALIGN(a->nla_len);
}

/* Send r, read the one answer into buf; 0, or -errno (the kernel's too). */
static int genl_call(int fd, struct genl_req *r, char *buf, size_t len, struct nlmsghdr **out)
{
	struct nlmsghdr *h;
	ssize_t n;

	if (send(fd, r, r->n.nlmsg_len, 0) < 0)
		return -errno;
	n = recv(fd, buf, len, 0);
	if (n < 0)
		return -errno;
	h = (struct nlmsghdr *)buf;
	if (!NLMSG_OK(h, (size_t)n))
		return -EPROTO;
	if (h->nlmsg_type == NLMSG_ERROR) {
		struct nlmsgerr *e = NLMSG_DATA(h);

		return e->error ? e->error : -EPROTO;
	}
	*out = h;
	return 0;
}

/* The attribute `type` of a generic netlink message, NULL when absent. */
static struct nlattr *genl_attr(struct nlmsghdr *h, __u16 type)
{
	int left = (int)h->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);
	struct nlattr *a = (struct nlattr *)((char *)NLMSG_DATA(h) + GENL_HDRLEN);

	while (left >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN && a->nla_len <= left) {
		if ((a->nla_type & NLA_TYPE_MASK) == type)
			return a;
		left -= NLA_ALIGN(a->nla_len);
		a = (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len));
	}
	return NULL;
}

int bwe_xdp_can_xmit(int ifindex)
{
	struct genl_req r;
	struct nlmsghdr *h;
	struct nlattr *a;
	char *buf = malloc(GENL_BUF);
	__u32 idx = (__u32)ifindex;
	__u16 family;
	__u64 feat;
	int fd, err;

	if (!buf)
		return -ENOMEM;
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (fd < 0) {
		err = -errno;
		goto cleanup;
	}
	memset(&r, 0, sizeof(r));
	r.n.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	r.n.nlmsg_type = GENL_ID_CTRL;
	r.n.nlmsg_flags = NLM_F_REQUEST;
	r.g.cmd = CTRL_CMD_GETFAMILY;
	r.g.version = 1;
	nla_put(&r, CTRL_ATTR_FAMILY_NAME, NETDEV_FAMILY, sizeof(NETDEV_FAMILY));
	err = genl_call(fd, &r, buf, GENL_BUF, &h);
	if (err)
		goto cleanup; /* -ENOENT: a kernel before 6.3 */
	a = genl_attr(h, CTRL_ATTR_FAMILY_ID);
	if (!a || a->nla_len < NLA_HDRLEN + sizeof(family)) {
		err = -EPROTO;
		goto cleanup;
	}
	memcpy(&family, (char *)a + NLA_HDRLEN, sizeof(family));

	memset(&r, 0, sizeof(r));
	r.n.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	r.n.nlmsg_type = family;
	r.n.nlmsg_flags = NLM_F_REQUEST;
	r.g.cmd = NETDEV_CMD_DEV_GET_;
	r.g.version = 1;
	nla_put(&r, NETDEV_A_DEV_IFINDEX_, &idx, sizeof(idx));
	err = genl_call(fd, &r, buf, GENL_BUF, &h);
	if (err)
		goto cleanup;
	a = genl_attr(h, NETDEV_A_DEV_XDP_FEAT_);
	if (!a || a->nla_len < NLA_HDRLEN + sizeof(feat)) {
		err = -EPROTO;
		goto cleanup;
	}
	memcpy(&feat, (char *)a + NLA_HDRLEN, sizeof(feat));
	err = !!(feat & NETDEV_XDP_ACT_NDO_XMIT_);

cleanup:
	if (fd >= 0)
		close(fd);
	free(buf);
	return err;
}
