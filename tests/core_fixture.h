/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * core_fixture.h - the daemon core that several cmocka runners test
 * against, built as bwctld builds it: a configuration, an unpinned data
 * plane, the state and feed stores, the enforcer, the event log, the one
 * transaction (loaded from the state file) and the host table, every rule
 * already in the kernel maps.
 *
 * It lives in a mount namespace of the runner's own: a fresh directory in
 * /tmp holds the configuration and the event log, and a 1 MiB tmpfs is the
 * state directory (a runner may remount it read-only to make a save fail).
 * The runner writes the configuration's body; the fixture adds the paths:
 * section pointing into its directory. Include after <cmocka.h> and
 * "test_helpers.h".
 */
#ifndef BWE_CORE_FIXTURE_H
#define BWE_CORE_FIXTURE_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <bpf/bpf.h>

#include "config.h"
#include "dataplane.h"
#include "enforce.h"
#include "events.h"
#include "feedstore.h"
#include "hosts.h"
#include "ops.h"
#include "store.h"

#define CORE_DIR_LEN	 64 /* /tmp/bwe-<runner>.XXXXXX */
#define CORE_PATH_LEN	 256
#define CORE_STATEDIR_FS "size=1m" /* tmpfs options of the state directory */

struct core {
	char dir[CORE_DIR_LEN];	       /* the runner's directory, removed by core_down */
	char statedir[CORE_PATH_LEN];  /* <dir>/state, a tmpfs */
	char statefile[CORE_PATH_LEN]; /* <dir>/state/state.json, what ops saves */
	char cfgpath[CORE_PATH_LEN];   /* <dir>/bwenforce.yaml */
	char evpath[CORE_PATH_LEN];    /* <dir>/events.json */
	struct bwe_cfgfile *cfg;
	struct bwe_dp *dp;
	struct st_store *st;
	struct fstore *fst;
	struct enforcer *enf;
	struct evlog *evl;
	struct ops *ops;
	struct hosts *hosts;
};

/* Writes the runner's configuration body (a printf format) and the paths:
 * section into c->cfgpath. */
static inline int core_write_config(const struct core *c, const char *fmt, va_list ap)
{
	FILE *f = fopen(c->cfgpath, "w");
	int err;

	if (!f)
		return -1;
	vfprintf(f, fmt, ap);
	fprintf(f,
		"paths:\n  state_dir: %s\n  event_log: %s\n  pin_dir: %s/pins\n"
		"  socket: %s/sock\n",
		c->statedir, c->evpath, c->dir, c->dir);
	err = ferror(f);
	return fclose(f) || err ? -1 : 0;
}

/*
 * Builds the core for runner (its name, for messages and the directory):
 * a private mount namespace (plus the namespaces in ns_extra, e.g.
 * CLONE_NEWNET), the directory, the configuration from yaml_fmt (a printf
 * format without a paths: section), and the objects in the order bwctld
 * makes them. Returns 0, or -1 after saying why on stderr, for a cmocka
 * group setup. Undo with core_down().
 */
static inline int core_up(struct core *c, const char *runner, int ns_extra,
			  const struct bwe_dp_opts *opts, const char *yaml_fmt, ...)
	__attribute__((format(printf, 5, 6)));

static inline int core_up(struct core *c, const char *runner, int ns_extra,
			  const struct bwe_dp_opts *opts, const char *yaml_fmt, ...)
{
	char err[BWE_CFG_ERR_LEN];
	va_list ap;
	int rc;

	*c = (struct core){ 0 };
	if (private_namespace(runner, ns_extra))
		return -1;
	snprintf(c->dir, sizeof(c->dir), "/tmp/bwe-%s.XXXXXX", runner);
	if (!mkdtemp(c->dir)) {
		fprintf(stderr, "%s: mkdtemp: %s\n", runner, strerror(errno));
		return -1;
	}
	snprintf(c->statedir, sizeof(c->statedir), "%s/state", c->dir);
	snprintf(c->statefile, sizeof(c->statefile), "%s/state/state.json", c->dir);
	snprintf(c->cfgpath, sizeof(c->cfgpath), "%s/bwenforce.yaml", c->dir);
	snprintf(c->evpath, sizeof(c->evpath), "%s/events.json", c->dir);
	if (mkdir(c->statedir, 0750) || mount("tmpfs", c->statedir, "tmpfs", 0, CORE_STATEDIR_FS)) {
		fprintf(stderr, "%s: tmpfs on %s: %s\n", runner, c->statedir, strerror(errno));
		return -1;
	}
	va_start(ap, yaml_fmt);
	rc = core_write_config(c, yaml_fmt, ap);
	va_end(ap);
	if (rc) {
		fprintf(stderr, "%s: cannot write %s\n", runner, c->cfgpath);
		return -1;
	}
	if (bwe_config_load(c->cfgpath, &c->cfg, err, sizeof(err))) {
		fprintf(stderr, "config: %s\n", err);
		return -1;
	}
	if (bwe_dp_open(&c->dp, opts)) {
		fprintf(stderr, "bwe_dp_open failed (are you root?)\n");
		return -1;
	}
	c->st = st_new();
	c->fst = fstore_new();
	if (!c->st || !c->fst || enf_new(&c->enf, c->dp, c->cfg, c->st, c->fst) ||
	    evlog_open(&c->evl, c->evpath) || ops_new(&c->ops, c->cfg, c->st, c->enf, c->evl) ||
	    ops_load(c->ops) || hosts_new(&c->hosts, c->dp))
		return -1;
	evlog_set_config(c->evl, c->cfg);
	return enf_all(c->enf) ? -1 : 0;
}

/* Frees the core in reverse order, unmounts the state directory and
 * removes the runner's directory. Returns 0 or -1, for a cmocka group
 * teardown. */
/* The network classes (BWE_NC_*) the kernel's map holds for one address. */
static inline __u32 core_classes(const struct core *c, const char *a)
{
	struct bwe_lpm_key k = { .prefixlen = BWE_ADDR_BITS };
	struct bwe_netclass v = { 0 };
	struct bwe_addr x = addr(a);

	memcpy(&k.addr, &x, sizeof(k.addr));
	if (bpf_map_lookup_elem(bwe_dp_map_fd(c->dp, BWE_MAP_NETCLASS), &k, &v))
		return 0;
	return v.flags;
}

static inline int core_down(struct core *c)
{
	char cmd[CORE_DIR_LEN + 16];

	hosts_free(c->hosts);
	ops_free(c->ops);
	evlog_close(c->evl);
	enf_free(c->enf);
	fstore_free(c->fst);
	st_free(c->st);
	bwe_dp_close(c->dp);
	bwe_config_free(c->cfg);
	umount(c->statedir);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", c->dir);
	return system(cmd) ? -1 : 0;
}

#endif /* BWE_CORE_FIXTURE_H */
