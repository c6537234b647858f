/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * bwctld.h - the daemon's shared context. Only ctl/bwctld/ includes this.
 *
 * One thread, one epoll loop (main.c): the control socket (control.c), the
 * ring buffer and the event log (events.c), a one-second tick for expiry and
 * sampling (state.c, hosts.c), signals, and link changes (linkwatch.c).
 * Every change to operator state goes through state.c, which writes the
 * state file before the change is acknowledged, then enforce.c, which makes
 * the maps match.
 */
#ifndef BWCTLD_H
#define BWCTLD_H

#include <stdbool.h>
#include <stddef.h>
#include <limits.h>
#include <time.h>
#include <sys/types.h>
#include <json-c/json.h>

#include "addr.h"
#include "addrmap.h"
#include "blocklist.h"
#include "config.h"
#include "dataplane.h"
#include "netclass.h"
#include "attach.h"

#define BWCTLD_VERSION     "0.1"
#define BWCTLD_REASON_MAX  256	/* bytes of a reason text */
#define BWCTLD_ACTOR_MAX   192
#define BWCTLD_TICK_MS     1000
#define BWCTLD_THROTTLE_HOSTS_MAX 4096	/* hosts one throttle CIDR may expand to */

enum st_kind {
	ST_QUARANTINE = 0,
	ST_THROTTLE,
	ST_BLOCK,
	ST_EXEMPT,
	ST_ALLOW,
	ST_KINDS,
};

struct st_entry {
	enum st_kind kind;
	struct bwe_prefix pfx;
	char reason[BWCTLD_REASON_MAX];
	char actor[BWCTLD_ACTOR_MAX];
	time_t since;		/* wall clock, seconds */
	time_t expires;		/* 0: never */
	__u64 rate;		/* throttle: bytes/s */
	__u64 burst;		/* throttle: bytes */
};

struct st_table {
	struct st_entry *v;
	size_t n, cap;
};

/* Who asked: a socket peer or an automatic rule. */
struct actor {
	uid_t uid;
	pid_t pid;
	char text[BWCTLD_ACTOR_MAX];	/* "uid=0(root) pid=42: bwctl quarantine ..." */
	char user[64];
};

/* A sampled host, for rates (top) and detection. */
struct host_sample {
	struct bwe_addr addr;
	struct bwe_host_stats st;	/* merged over CPUs */
	double tx_bps, rx_bps;		/* bytes/s over the last sample interval */
};

struct daemon {
	const char *config_path;
	struct bwe_cfgfile *cfg;
	bool foreground;
	int verbose;
	time_t started;

	struct bwe_dp *dp;
	struct bwe_bl bl;
	struct bwe_ncset nc;		/* closed set currently in bwe_netclass */
	struct bwe_iface *ifaces;
	size_t n_ifaces;

	struct st_table state;
	char state_file[PATH_MAX - 8];	/* leaves room for ".tmp" */

	int epfd, sigfd, timerfd, ctlfd;
	struct ring_buffer *rb;
	struct bwe_linkwatch *lw;
	int evfd;			/* event_log, O_APPEND */

	struct host_sample *hosts;	/* last sample */
	size_t n_hosts;
	struct bwe_amap host_idx;	/* addr -> index into hosts */
	struct timespec sampled_at;

	struct feeds *feeds;		/* feeds.c */
	struct detector *detector;	/* detector.c */

	bool quit;
};

/* state.c */
const char *st_kind_name(enum st_kind k);
int st_load(struct daemon *d);
int st_save(struct daemon *d);
struct st_entry *st_find(struct daemon *d, enum st_kind k, const struct bwe_prefix *p);
/* Longest entry of kind k containing a. */
struct st_entry *st_match(struct daemon *d, enum st_kind k, const struct bwe_addr *a);
int st_put(struct daemon *d, const struct st_entry *e);	/* insert or replace */
int st_del(struct daemon *d, enum st_kind k, const struct bwe_prefix *p);
void st_expire(struct daemon *d, time_t now);
struct json_object *st_entry_json(const struct st_entry *e);

/* enforce.c */
int enforce_netclass(struct daemon *d);
int enforce_config(struct daemon *d);
int enforce_entry(struct daemon *d, const struct st_entry *e, bool present);
int enforce_all(struct daemon *d);
bool is_gateway_addr(const struct bwe_addr *a);
const char *feed_name(const struct daemon *d, __u8 ref);

/* events.c */
int events_open(struct daemon *d);
void events_close(struct daemon *d);
/* One ECS JSON line to event_log and syslog; takes ownership of ev. */
void events_emit(struct daemon *d, struct json_object *ev);
struct json_object *events_new(const char *action, const char *kind);
void events_state_change(struct daemon *d, const char *action, const struct st_entry *e,
			 const char *by);
int events_ringbuf_cb(void *ctx, void *data, size_t len);

/* feeds.c */
int feeds_init(struct daemon *d);
void feeds_fini(struct daemon *d);
void feeds_reload(struct daemon *d);
int feeds_fd_inotify(const struct daemon *d);
int feeds_fd_worker(const struct daemon *d);
void feeds_on_inotify(struct daemon *d);
void feeds_on_worker(struct daemon *d);
void feeds_tick(struct daemon *d, time_t now);
__u8 feeds_effective_ref(struct daemon *d, const struct bwe_prefix *p);
const char *feeds_name_of(const struct daemon *d, __u8 id);
void feeds_hit(struct daemon *d, __u8 ref);
int feeds_refresh(struct daemon *d, const char *name, struct json_object *names);
struct json_object *feeds_list_json(struct daemon *d);
struct json_object *feeds_lookup_json(struct daemon *d, const struct bwe_addr *a);

/* detector.c */
int detector_init(struct daemon *d);
void detector_fini(struct daemon *d);
void detector_tick(struct daemon *d);
void detector_note_hit(struct daemon *d, const struct bwe_addr *host, const struct bwe_addr *peer,
		       __u8 ref, const char *entry, const char *indicator);
void detector_note_action(struct daemon *d, const char *action, const struct st_entry *e);
struct json_object *detector_report(struct daemon *d, const struct bwe_addr *a);

/* hosts.c */
int hosts_sample(struct daemon *d);
const struct host_sample *hosts_get(const struct daemon *d, const struct bwe_addr *a);

/* control.c */
int control_open(struct daemon *d);
void control_close(struct daemon *d);
void control_accept(struct daemon *d);

/* query.c */
struct json_object *query_status(struct daemon *d);
struct json_object *query_stats(struct daemon *d);
struct json_object *query_top(struct daemon *d, int n, const char *sort);
struct json_object *query_lookup(struct daemon *d, const struct bwe_addr *a);
const char *reason_name(unsigned int slot);

/* iface handling in main.c */
int ifaces_setup(struct daemon *d);
void iface_link_cb(const char *name, int ifindex, bool present, void *ctx);
struct bwe_iface *iface_find(struct daemon *d, const char *name);

/* time helpers */
void fmt_time(time_t t, char *buf, size_t len);	/* RFC 3339 UTC */

#endif /* BWCTLD_H */
