/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ifaces.h - the interfaces bwctld enforces on (layer 4): attach at start,
 * on a link that appears or is recreated (linkwatch.h), on SIGHUP and on
 * `bwctl attach`; detach on `bwctl detach`, after which an interface stays
 * alone until an operator attaches it again.
 */
#ifndef BWCTLD_IFACES_H
#define BWCTLD_IFACES_H

#include <stdbool.h>
#include <json-c/json.h>

#include "actor.h"
#include "attach.h"
#include "config.h"
#include "dataplane.h"
#include "enforce.h"
#include "events.h"

#define IFACES_ERR_LEN 512

struct ifaces_deps {
	const struct bwe_cfgfile *cfg;
	struct bwe_dp *dp;
	struct enforcer *enf; /* the gateway's own addresses follow link changes */
	struct evlog *log;
};

struct ifaces;

/* Attach to every configured interface (those missing wait) and watch links. */
int ifaces_new(struct ifaces **out, const struct ifaces_deps *deps);
void ifaces_free(struct ifaces *ifs);	 /* NULL-safe; leaves programs attached */
int ifaces_fd(const struct ifaces *ifs); /* link notifications, for epoll */
void ifaces_on_link(struct ifaces *ifs);
/* Once a second: a look every few seconds at whether the attached interfaces
 * can still transmit redirected XDP frames (a veth's peer may change it). */
void ifaces_tick(struct ifaces *ifs);
/*
 * Whether cfg's interfaces can run on a data plane with (flowtable) or
 * without the flowtable path (struct bwe_dp's flowtable): 0, or -EINVAL
 * with a sentence in err naming the interface (fast_forward: flowtable
 * without the path). At start and before a reload, on the data plane
 * loaded; for bwctld -n, on what this kernel offers.
 */
int ifaces_check(const struct bwe_cfgfile *cfg, bool flowtable, char *err, size_t len);
/* After SIGHUP: detach what is no longer configured, attach what is new. */
void ifaces_reload(struct ifaces *ifs, const struct bwe_cfgfile *cfg);
/* bwctl attach; -EINVAL: bad name or mode (err says). *res: the interface. */
int ifaces_attach(struct ifaces *ifs, const char *name, const char *mode, const struct actor *who,
		  struct json_object **res, char *err, size_t len);
/* bwctl detach: one interface, or every one and the pins (name NULL). */
int ifaces_detach(struct ifaces *ifs, const char *name, const struct actor *who,
		  struct json_object **res, char *err, size_t len);
/* bwctl status: each interface as the kernel has it now. */
struct json_object *ifaces_status_json(struct ifaces *ifs);
size_t ifaces_count(const struct ifaces *ifs);
/* Each interface with fast_forward on and its counters summed over CPUs. */
typedef void ifaces_fwd_fn(const char *name, const struct bwe_fwd_stats *st, void *ctx);
void ifaces_fwd_each(const struct ifaces *ifs, ifaces_fwd_fn *fn, void *ctx);
/* Interfaces with our program attached, as last seen (no probe). */
size_t ifaces_attached(const struct ifaces *ifs);

#endif /* BWCTLD_IFACES_H */
