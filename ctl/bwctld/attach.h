/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * attach.h - put the enforcer on interfaces and take it off again (bwctld).
 *
 * Only the daemon includes this. Everything goes through libxdp, so that on a
 * kernel where libxdp's multi-program dispatcher works, our program runs
 * beside other XDP programs instead of evicting them.
 *
 * Contract:
 *  - "Ours" is any XDP program named BWE_PROG_NAME, attached alone (legacy)
 *    or as a component of a libxdp dispatcher. Nothing else is ever replaced
 *    or detached: a foreign program attached alone makes bwe_attach() fail
 *    with -EBUSY and a note naming it.
 *  - bwe_attach() adopts our program when it is already attached (say by an
 *    earlier daemon run) in a mode that satisfies `want` and it is the same
 *    program as prog_fd: same instructions (tag) and the very maps bwe_abi.h
 *    names (the pinned ones the daemon writes). Our program in another mode,
 *    another build, or one on other maps, is replaced (briefly detached, then
 *    attached anew).
 *  - On a kernel that can run the dispatcher, libxdp must load the program as
 *    an extension (BPF_PROG_TYPE_EXT), which an already loaded XDP program
 *    cannot become. bwe_attach() then loads a twin of prog_fd's object that
 *    shares every one of its maps, and hands that to libxdp. Elsewhere (no
 *    freplace support, no bpffs, LIBXDP_SKIP_DISPATCHER=1) prog_fd itself is
 *    attached alone; multiprog is false and note says why.
 *  - Functions return 0 or -errno and refresh the interface fields from the
 *    kernel: ifindex (0 when the interface does not exist), mode, prog_id,
 *    multiprog. note is rewritten by bwe_attach()/bwe_detach() only.
 *  - Not thread-safe (libxdp and libbpf print hooks are process-wide).
 */
#ifndef BWE_ATTACH_H
#define BWE_ATTACH_H

#include <stdbool.h>
#include <net/if.h>
#include <linux/types.h>
#include <xdp/libxdp.h>

#include "config.h"

#define BWE_PROG_NAME	   "bwe_xdp"	   /* the enforcer's XDP function */
#define BWE_TC_PROG_NAME   "bwe_tc_egress" /* its TC egress function (NAT gateways) */
#define BWE_TC_HANDLE	   0xb3e	   /* our filter's handle on the clsact egress hook */
#define BWE_TC_PRIO	   1		   /* and its priority: first */
#define BWE_IFACE_NOTE_MAX 160

struct bwe_iface {
	char name[IFNAMSIZ];
	int ifindex; /* 0 when the interface does not exist */
	enum bwe_attach_mode want;
	int mode;	/* attached: XDP_MODE_NATIVE / XDP_MODE_SKB, 0 not attached */
	__u32 prog_id;	/* our program's id on it, 0 none */
	bool multiprog; /* through libxdp's dispatcher (false: legacy single program) */
	char note[BWE_IFACE_NOTE_MAX]; /* why not attached, or why legacy */
};

/*
 * Resolve ifindex by name and attach: BWE_MODE_NATIVE / BWE_MODE_GENERIC
 * exactly, BWE_MODE_AUTO native first, then generic. Joins a dispatcher in
 * the mode it runs in. -ENODEV: no such interface; -EBUSY: a foreign program
 * is attached alone; -EEXIST: a dispatcher runs in the other mode than want.
 */
int bwe_attach(struct bwe_iface *ifc, int prog_fd);
/* Remove only our program(s); other programs of a dispatcher stay. 0 when
 * nothing of ours is attached or the interface is gone. */
int bwe_detach(struct bwe_iface *ifc);
/* Refresh ifindex/mode/prog_id/multiprog from the kernel, changing nothing.
 * -ENODEV (and note "interface does not exist") when it is gone. */
int bwe_iface_probe(struct bwe_iface *ifc);
/* Route libxdp's messages to log_debug(); libxdp's own debug chatter only
 * when verbose > 1. Call once, before the first bwe_attach(). */
void bwe_attach_silence_libxdp(int verbose);
/* "native", "generic", "offload" or "none" for an XDP_MODE_* value. */
const char *bwe_xdp_mode_name(int mode);

/*
 * The TC egress program, on interfaces of a gateway where some interface
 * translates (config `nat`). Ours is the filter at BWE_TC_HANDLE /
 * BWE_TC_PRIO on the clsact egress hook whose program is named
 * BWE_TC_PROG_NAME; the clsact qdisc is created when missing and never
 * removed (other filters may live on it).
 *  - bwe_tc_attach(): attach or replace ours; -EBUSY as above.
 *  - bwe_tc_detach(): remove ours; 0 when there is none or a foreign one.
 */
int bwe_tc_attach(int ifindex, int prog_fd, __u32 *prog_id);
int bwe_tc_detach(int ifindex);

/*
 * Whether the interface can transmit frames an XDP program redirects to it
 * (the kernel's XDP feature "ndo_xdp_xmit", netdev generic netlink): 1 yes,
 * 0 no (a redirect to it would be dropped), -errno when the kernel cannot
 * say (-ENOENT: no netdev family, before Linux 6.3). A veth can while its
 * peer has an XDP program or GRO on; the answer may change with the peer.
 */
int bwe_xdp_can_xmit(int ifindex);

#endif /* BWE_ATTACH_H */
