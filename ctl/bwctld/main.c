// SPDX-License-Identifier: GPL-2.0-only
/*
 * bwctld - the bwenforce control daemon: owns the XDP data plane and its
 * state. main.c is the top layer (docs/architecture.md, "Layers"): it
 * builds every module from the ones below it, runs the one epoll loop and
 * turns signals into reloads and exits. It holds the handles; no module
 * reaches into another's fields.
 *
 * Lifecycle: SIGTERM/SIGINT exit and leave the data plane enforcing
 * (program attached, maps pinned); SIGHUP reloads the configuration (a bad
 * file is refused and the running one kept); `bwctl detach` removes the
 * program.
 *
 * Under systemd (Type=notify: NOTIFY_SOCKET set) it says READY=1 once the
 * interfaces are attached and the feeds' start-up versions enforced, then
 * STATUS=, RELOADING=1 and STOPPING=1, and sends the watchdog's keep-alives
 * from the loop (notify.h). Without it, nothing of that is sent.
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/timerfd.h>
#include <bpf/libbpf.h>

#include "api.h"
#include "caps.h"
#include "control.h"
#include "feedwork.h"
#include "fleetwork.h"
#include "detector.h"
#include "scope.h"
#include "enforce.h"
#include "events.h"
#include "feeds.h"
#include "feedstore.h"
#include "fleet.h"
#include "hosts.h"
#include "hostsweep.h"
#include "http.h"
#include "ifaces.h"
#include "log.h"
#include "neighwatch.h"
#include "netclass.h"
#include "notify.h"
#include "ops.h"
#include "ringbuf.h"
#include "store.h"
#include "tokens.h"
#include "util.h"

#define EPOLL_EVENTS 16
#define TICK_MS	     1000
/* seconds READY=1 waits for the feeds' start-up jobs (a slow download) */
#define READY_WAIT_S 20

/* epoll data.u32 of each source; the control's clients are SRC_CTL_CLIENT + i */
enum ev_src {
	SRC_CTL = 1,
	SRC_RB,
	SRC_SIG,
	SRC_TIMER,
	SRC_LINK,
	SRC_FEED_INO,
	SRC_FEED_JOB,
	SRC_WATCHDOG,
	SRC_SYSLOG,    /* events.syslog's socket (events.h) */
	SRC_NEIGH,     /* the neighbour view (neighwatch.h) */
	SRC_FLEET,     /* the fleet worker (fleet.h) */
	SRC_DP_READY,  /* the XDP program's load ended (wait_program(), start-up only) */
	SRC_HTTP = 64, /* .. SRC_HTTP + BWE_CFG_HTTP_LISTEN_MAX - 1: the HTTP listeners */
	SRC_CTL_CLIENT = 1024,
};

struct daemon {
	const char *config_path;
	struct bwe_cfgfile *cfg;
	bool foreground;
	int verbose;
	time_t started;

	struct bwe_dp *dp;
	struct st_store *st;
	struct fstore *store;
	struct enforcer *enf;
	struct evlog *log;
	struct ops *ops;
	struct hosts *hosts;
	struct hostsweep *sweep; /* forgets idle host records (maps.host_idle) */
	struct detector *detector;
	struct scope *scope; /* bwctl scope's index */
	struct feeds *feeds;
	struct fleet *fleet; /* the fleet on etcd (does nothing without one) */
	struct ringbuf *rb;
	struct ifaces *ifaces;
	struct control *ctl;
	struct tokens *tokens; /* the HTTP API's tokens (bwctl token ...) */
	struct api *api;       /* the /v1/ routes (api.h) */
	struct http *http;
	struct bwe_neighwatch *nw; /* the neighbour view (identity); NULL: none */
	/* the API under /v1/ and its tokens (api.c); NULL: 404, no metrics_auth */
	http_handler_fn http_handler;
	http_auth_fn http_auth;
	void *http_ctx;

	int epfd, sigfd, timerfd;
	bool quit;

	/* systemd (notify.h): READY=1 once, then STATUS= when it changes */
	int wdogfd;	  /* WATCHDOG=1 every half WATCHDOG_USEC; -1: none */
	bool ready;	  /* READY=1 sent */
	time_t ready_by;  /* monotonic seconds: READY=1 even if feeds still load */
	time_t status_at; /* monotonic second of the last STATUS= check */
	char status[NOTIFY_STATUS_MAX];
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bwctld [-fnv] [-c FILE]\n"
		"  -c FILE  configuration file (default %s)\n"
		"  -f       stay in the foreground, log to stderr\n"
		"  -n       check the configuration, print \"configuration OK\" or the error\n"
		"  -v       verbose (debug) logging\n",
		BWE_CFG_PATH_DEFAULT);
}

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* libbpf's messages are demoted one level: warnings become debug. */
	if (level == LIBBPF_DEBUG || !log_getverbose())
		return 0;
	vlog(LOG_DEBUG, fmt, ap);
	return 0;
}

static int check_bpffs(const char *dir)
{
	struct statfs fs;
	int err;

	if (mkdir(dir, 0700) && errno != EEXIST) {
		err = -errno;
		log_warn("pin_dir %s", dir);
		return err;
	}
	if (statfs(dir, &fs)) {
		err = -errno;
		log_warn("pin_dir %s", dir);
		return err;
	}
	if (fs.f_type != BPF_FS_MAGIC) {
		log_warnx("pin_dir %s is not on a bpf filesystem (mount -t bpf bpf /sys/fs/bpf)",
			  dir);
		return -EINVAL;
	}
	return 0;
}

/*
 * The capabilities bwctld needs (docs/deployment.md, "Capabilities"); the
 * systemd unit grants exactly these. Checked at start-up so that a missing
 * one is named, not met later as an EPERM deep inside libbpf or libxdp.
 */
static void check_caps(const struct bwe_cfgfile *cfg)
{
	bool groups = cfg->control_group || cfg->control_readonly_group;
	const struct caps_need need[] = {
		{ .cap = CAP_SYS_ADMIN,
		  .name = "CAP_SYS_ADMIN",
		  .why = "load and pin the XDP program and its maps; libxdp looks programs and BTF up "
			 "by id, which only CAP_SYS_ADMIN may" },
		{ .cap = CAP_NET_ADMIN,
		  .name = "CAP_NET_ADMIN",
		  .why = "attach the XDP program to interfaces" },
		{ .cap = CAP_SETUID,
		  .name = "CAP_SETUID",
		  .why = "start the feed worker as sandbox_user" },
		{ .cap = CAP_SETGID,
		  .name = "CAP_SETGID",
		  .why = "start the feed worker with sandbox_user's group" },
		{ .cap = CAP_SETPCAP,
		  .name = "CAP_SETPCAP",
		  .why = "empty the feed worker's capability bounding set" },
		{ .cap = CAP_CHOWN,
		  .name = "CAP_CHOWN",
		  .why = "give the control socket to control_group",
		  .when = &groups },
	};
	char buf[1024];
	int n = caps_missing(need, sizeof(need) / sizeof(need[0]), buf, sizeof(buf));

	if (n < 0)
		fatalx("cannot read the capability set: %s", strerror(-n));
	if (n)
		fatalx("missing capabilit%s: %s (bwctld(8), CAPABILITIES)", n > 1 ? "ies" : "y",
		       buf);
}

/* One warning per feed fetched without TLS (insecure: true). */
/* A secret file that is not root's alone (bwe_config_check_secrets). */
static void warn_secret(const char *feed, const char *key, const char *path, const char *problem,
			void *ctx)
{
	if (!problem)
		return;
	if (*(const bool *)ctx)
		fprintf(stderr, "warning: %s%s%s%s %s: %s\n", feed ? "feed " : "", feed ? feed : "",
			feed ? ": " : "", key, path, problem);
	else
		log_warnx("%s%s%s%s %s: %s", feed ? "feed " : "", feed ? feed : "",
			  feed ? ": " : "", key, path, problem);
}

static void warn_insecure(const struct bwe_cfgfile *cfg, bool to_stderr)
{
	static const char what[] = "is plain http (insecure: true): anybody on the path can "
				   "change its entries";
	size_t i;

	for (i = 0; i < cfg->n_feeds; i++) {
		if (!cfg->feeds[i].insecure)
			continue;
		if (to_stderr)
			fprintf(stderr, "warning: feed %s: %s %s\n", cfg->feeds[i].name,
				cfg->feeds[i].source, what);
		else
			log_warnx("feed %s: %s %s", cfg->feeds[i].name, cfg->feeds[i].source, what);
	}
	bwe_config_check_secrets(cfg, warn_secret, &to_stderr);
	/* the fleet's CA and certificate are not secrets, but without them it never attaches */
	for (i = 0; cfg->fleet.name && i < 2; i++) {
		const char *path = i ? cfg->fleet.tls_cert : cfg->fleet.tls_ca;

		if (!path || !access(path, R_OK))
			continue;
		if (to_stderr)
			fprintf(stderr, "warning: fleet.tls.%s %s: cannot read it: %s\n",
				i ? "cert" : "ca", path, strerror(errno));
		else
			log_warnx("fleet.tls.%s %s: cannot read it: %s", i ? "cert" : "ca", path,
				  strerror(errno));
	}
}

/* What the queries (bwctl status, /metrics) read. */
static struct query_deps http_q(struct daemon *d)
{
	return (struct query_deps){ .config_path = d->config_path,
				    .started = d->started,
				    .cfg = (const struct bwe_cfgfile *const *)&d->cfg,
				    .dp = d->dp,
				    .st = d->st,
				    .store = d->store,
				    .enf = d->enf,
				    .hosts = d->hosts,
				    .sweep = d->sweep,
				    .feeds = d->feeds,
				    .ifaces = d->ifaces,
				    .detector = d->detector,
				    .nw = d->nw,
				    .fleet = d->fleet,
				    .scope = d->scope };
}

static void reload(struct daemon *d)
{
	struct bwe_cfgfile *nc, *old = d->cfg;
	char err[BWE_CFG_ERR_LEN];

	if (bwe_config_load(d->config_path, &nc, err, sizeof(err))) {
		log_warnx("reload refused, keeping the running configuration: %s", err);
		return;
	}
	if (ifaces_check(nc, d->dp->flowtable, err, sizeof(err))) {
		log_warnx("reload refused, keeping the running configuration: %s", err);
		bwe_config_free(nc);
		return;
	}
	warn_insecure(nc, false);
	if (strcmp(nc->paths.pin_dir, old->paths.pin_dir) ||
	    strcmp(nc->paths.socket, old->paths.socket) ||
	    strcmp(nc->paths.state_dir, old->paths.state_dir) ||
	    memcmp(&nc->maps, &old->maps, sizeof(nc->maps)))
		log_warnx("reload: paths and map sizes take effect at the next start");
	/* Keep what only a restart may change: the paths and the map sizes. */
	{
		__typeof__(nc->paths) paths = nc->paths;

		nc->paths = old->paths;
		old->paths = paths;
		nc->maps = old->maps;
	}
	d->cfg = nc;
	evlog_set_config(d->log, nc);
	enf_set_config(d->enf, nc);
	ops_set_config(d->ops, nc);
	detector_set_config(d->detector, nc);
	scope_set_config(d->scope, nc);
	feeds_set_config(d->feeds, nc);
	fleet_set_config(d->fleet, nc);
	enf_config(d->enf);
	enf_netclass(d->enf);
	feeds_reload(d->feeds);
	ifaces_reload(d->ifaces, nc);
	http_reload(d->http, &(struct http_deps){ .cfg = (const struct bwe_cfgfile *const *)&d->cfg,
						  .m = { .q = http_q(d), .log = d->log },
						  .ctl = d->ctl,
						  .handler = d->http_handler,
						  .auth = d->http_auth,
						  .ctx = d->http_ctx });
	bwe_config_free(old);
	log_info("configuration reloaded from %s", d->config_path);
}

static time_t mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* "enforcing: 2/2 interfaces attached, 3 feeds, 12 quarantined[; N feed
 * start-up jobs still running]" */
static void status_line(const struct daemon *d, char *buf, size_t len)
{
	/* a host contained by its MAC address counts once */
	size_t quarantined = st_contained(d->st, ST_QUARANTINE),
	       pending = feeds_startup_pending(d->feeds);
	int n;

	n = snprintf(buf, len, "enforcing: %zu/%zu interfaces attached, %zu feeds, %zu quarantined",
		     ifaces_attached(d->ifaces), ifaces_count(d->ifaces), d->cfg->n_feeds,
		     quarantined);
	if (pending && n > 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, "; %zu feed start-up job%s still running",
			 pending, pending == 1 ? "" : "s");
}

/*
 * READY=1 once the interfaces are attached (start() did that) and every
 * feed's start-up version is enforced (the feeds' sweep is done), or after
 * READY_WAIT_S with STATUS= saying what is pending; then STATUS= when it
 * changes, looked at once a second at most (the tick turns the loop every
 * second). Called after every loop iteration: cheap.
 */
static void notify_progress(struct daemon *d)
{
	char st[NOTIFY_STATUS_MAX];

	if (!notify_enabled())
		return;
	if (!d->ready) {
		if (feeds_startup_pending(d->feeds) && mono_s() < d->ready_by)
			return;
		status_line(d, d->status, sizeof(d->status));
		notify_ready(d->status);
		d->ready = true;
		if (feeds_startup_pending(d->feeds))
			log_warnx("ready after %d s with %zu feed start-up job(s) still "
				  "running",
				  READY_WAIT_S, feeds_startup_pending(d->feeds));
		return;
	}
	if (mono_s() == d->status_at)
		return;
	d->status_at = mono_s();
	status_line(d, st, sizeof(st));
	if (strcmp(st, d->status)) {
		memcpy(d->status, st, sizeof(st));
		notify_status(st);
	}
}

static void on_watchdog(struct daemon *d)
{
	__u64 exp;

	if (read(d->wdogfd, &exp, sizeof(exp)) > 0)
		notify_watchdog();
}

static int ep_add(struct daemon *d, int fd, enum ev_src src)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = src };

	return epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

static void on_signal(struct daemon *d)
{
	struct signalfd_siginfo si;

	while (read(d->sigfd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGHUP:
			notify_reloading();
			/* logrotate moved the event log away: a new file at the same path */
			evlog_reopen(d->log);
			reload(d);
			if (d->ready) {
				status_line(d, d->status, sizeof(d->status));
				notify_ready(d->status);
			}
			break;
		case SIGTERM:
		case SIGINT:
			log_info("signal %d: exiting; the data plane stays attached and enforcing",
				 (int)si.ssi_signo);
			notify_stopping();
			d->quit = true;
			break;
		}
	}
}

/*
 * Before the detector evaluates a batch of the sample: the hit events of
 * what it counted, which say whose feeds the hits were (detector.h).
 */
static void drain_hits(void *ctx)
{
	struct daemon *d = ctx;

	if (d->rb)
		ringbuf_consume(d->rb);
}

static void on_tick(struct daemon *d)
{
	__u64 exp;

	if (read(d->timerfd, &exp, sizeof(exp)) < 0)
		return;
	control_tick(d->ctl);
	http_run(d->http);
	evlog_tick(d->log);
	ops_expire(d->ops, time(NULL));
	feeds_tick(d->feeds, time(NULL));
	fleet_tick(d->fleet, time(NULL));
	/* the host sample, evaluated batch by batch when the policy interval is due */
	detector_tick(d->detector);
	ringbuf_consume(d->rb);
	ifaces_tick(d->ifaces);
}

/* Blocked before any thread starts, so only the signalfd ever sees them. */
static void block_signals(sigset_t *mask)
{
	sigemptyset(mask);
	sigaddset(mask, SIGTERM);
	sigaddset(mask, SIGINT);
	sigaddset(mask, SIGHUP);
	sigprocmask(SIG_BLOCK, mask, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* WatchdogSec=: a timer of the loop itself, so a stuck loop stops the keep-alives. */
static int setup_watchdog(struct daemon *d)
{
	struct itimerspec its = { 0 };
	__u64 us;
	int err = notify_watchdog_period(&us);

	if (err) {
		log_warnx("WATCHDOG_USEC: %s; no watchdog keep-alives", strerror(-err));
		return 0;
	}
	if (!us || !notify_enabled())
		return 0;
	its.it_interval.tv_sec = (time_t)(us / 1000000);
	its.it_interval.tv_nsec = (long)(us % 1000000) * 1000;
	its.it_value = its.it_interval;
	d->wdogfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (d->wdogfd < 0 || timerfd_settime(d->wdogfd, 0, &its, NULL))
		return -errno;
	log_info("watchdog: keep-alive every %llu ms", (unsigned long long)us / 1000);
	notify_watchdog();
	return ep_add(d, d->wdogfd, SRC_WATCHDOG);
}

static int setup_loop(struct daemon *d)
{
	struct itimerspec its = {
		.it_interval = { .tv_sec = TICK_MS / 1000 },
		.it_value = { .tv_sec = TICK_MS / 1000 },
	};
	sigset_t mask;
	int err;

	block_signals(&mask);
	d->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	d->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (d->epfd < 0) /* wait_program() may have made it */
		d->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d->sigfd < 0 || d->timerfd < 0 || d->epfd < 0)
		return -errno;
	if (timerfd_settime(d->timerfd, 0, &its, NULL))
		return -errno;
	err = ep_add(d, d->sigfd, SRC_SIG);
	err = err ?: ep_add(d, d->timerfd, SRC_TIMER);
	err = err ?: ep_add(d, control_fd(d->ctl), SRC_CTL);
	control_loop(d->ctl, d->epfd, SRC_CTL_CLIENT);
	err = err ?: ep_add(d, ringbuf_fd(d->rb), SRC_RB);
	err = err ?: ep_add(d, ifaces_fd(d->ifaces), SRC_LINK);
	if (!err && d->nw)
		err = ep_add(d, bwe_neighwatch_fd(d->nw), SRC_NEIGH);
	err = err ?: feeds_worker_sync(d->feeds, d->epfd, SRC_FEED_JOB);
	err = err ?: fleet_epoll_sync(d->fleet, d->epfd, (epoll_data_t){ .u32 = SRC_FLEET });
	http_loop(d->http, d->epfd, SRC_HTTP);
	if (!err && feeds_fd_inotify(d->feeds) >= 0)
		err = ep_add(d, feeds_fd_inotify(d->feeds), SRC_FEED_INO);
	return err ?: setup_watchdog(d);
}

static void run(struct daemon *d)
{
	struct epoll_event evs[EPOLL_EVENTS];

	while (!d->quit) {
		/* an HTTP connection with work due gives no event: poll, run it */
		int n = epoll_wait(d->epfd, evs, EPOLL_EVENTS, http_busy(d->http) ? 0 : -1), i;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_warn("epoll_wait");
			break;
		}
		for (i = 0; i < n; i++) {
			if (evs[i].data.u32 >= SRC_CTL_CLIENT) {
				control_on_client(d->ctl, evs[i].data.u32, evs[i].events);
				continue;
			}
			if (evs[i].data.u32 >= SRC_HTTP &&
			    evs[i].data.u32 < SRC_HTTP + BWE_CFG_HTTP_LISTEN_MAX) {
				http_on_event(d->http, evs[i].data.u32);
				continue;
			}
			switch (evs[i].data.u32) {
			case SRC_CTL:
				control_accept(d->ctl);
				break;
			case SRC_RB:
				ringbuf_consume(d->rb);
				break;
			case SRC_SIG:
				on_signal(d);
				break;
			case SRC_TIMER:
				on_tick(d);
				break;
			case SRC_LINK:
				ifaces_on_link(d->ifaces);
				break;
			case SRC_FEED_INO:
				feeds_on_inotify(d->feeds);
				break;
			case SRC_FEED_JOB:
				feeds_on_worker(d->feeds, evs[i].events);
				break;
			case SRC_WATCHDOG:
				on_watchdog(d);
				break;
			case SRC_NEIGH:
				bwe_neighwatch_process(d->nw);
				break;
			case SRC_FLEET:
				fleet_on_io(d->fleet, evs[i].events);
				break;
			case SRC_SYSLOG:
				evlog_out_ready(d->log, evs[i].events);
				break;
			}
		}
		if (!n)
			http_run(d->http);
		/* the feed worker's socket is another one after a restart */
		feeds_worker_sync(d->feeds, d->epfd, SRC_FEED_JOB);
		/* the fleet worker's too; and what the fleet learnt is saved once per round */
		if (fleet_epoll_sync(d->fleet, d->epfd, (epoll_data_t){ .u32 = SRC_FLEET }))
			log_warn("epoll: the fleet worker");
		fleet_flush(d->fleet);
		/* and the syslog output's after a reconnect, with EPOLLOUT while it has a queue */
		if (evlog_out_sync(d->log, d->epfd, SRC_SYSLOG))
			log_warn("epoll: the syslog output");
		notify_progress(d);
	}
}

static void cleanup(struct daemon *d)
{
	http_close(d->http);
	api_free(d->api);
	control_close(d->ctl);
	tok_free(d->tokens);
	ifaces_free(d->ifaces);
	bwe_neighwatch_close(d->nw);
	ringbuf_free(d->rb);
	fleet_free(d->fleet);
	feeds_free(d->feeds);
	scope_free(d->scope);
	detector_free(d->detector);
	hostsweep_free(d->sweep);
	hosts_free(d->hosts);
	ops_free(d->ops);
	evlog_close(d->log);
	enf_free(d->enf);
	fstore_free(d->store);
	st_free(d->st);
	/* Closing the object leaves attached programs and pinned maps in place. */
	bwe_dp_close(d->dp);
	bwe_config_free(d->cfg);
	if (d->epfd >= 0)
		close(d->epfd);
	if (d->wdogfd >= 0)
		close(d->wdogfd);
}

static int open_dataplane(struct daemon *d)
{
	struct bwe_dp_opts opts = {
		.pin_dir = d->cfg->paths.pin_dir,
		.bl_host_max = d->cfg->maps.blocklist_hosts,
		.bl_net6_max = d->cfg->maps.blocklist_v6_prefixes,
		.netclass_max = d->cfg->maps.netclass,
		.throttle_max = d->cfg->maps.throttle,
		.hosts_max = d->cfg->maps.hosts,
		.hslots = bwe_hslots_wanted(d->cfg->internal.v, d->cfg->internal.n),
	};
	int e = check_bpffs(d->cfg->paths.pin_dir);

	if (e)
		return e;
	e = bwe_dp_open_async(&d->dp, &opts); /* the program: wait_program() */
	if (e == -EPROTO)
		log_warnx("cannot load the data plane: the maps pinned in %s are of another "
			  "ABI version (see above)",
			  opts.pin_dir);
	else if (e)
		log_warnx("cannot load the data plane: %s%s", strerror(-e),
			  e == -EINVAL ? " (pinned maps of another size or layout? "
					 "bwctl detach, or remove pin_dir)"
				       : "");
	return e;
}

/*
 * Until the kernel has verified the XDP program (bwe_dp_open_async()), take
 * what the feed worker hands over: a start-up version parsed by then is
 * applied to the maps on this CPU while the verifier runs on another,
 * instead of after it (docs/benchmarks.md, "The verifier beside the rest of
 * start-up"). Only the worker and the load's end are watched, in the
 * loop's own epoll set, which setup_loop() fills after.
 */
static int wait_program(struct daemon *d)
{
	struct epoll_event evs[EPOLL_EVENTS];
	int efd = bwe_dp_ready_fd(d->dp), e = 0, n, i;
	size_t pending = feeds_startup_pending(d->feeds);
	__u64 t0 = bwe_sandbox_now_ms();
	bool ready = false;

	if (efd >= 0 && d->epfd < 0 && (d->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		e = -errno;
	if (efd >= 0 && !e)
		e = ep_add(d, efd, SRC_DP_READY);
	while (efd >= 0 && !e && !ready) {
		e = feeds_worker_sync(d->feeds, d->epfd, SRC_FEED_JOB);
		n = e ? 0 : epoll_wait(d->epfd, evs, EPOLL_EVENTS, -1);
		if (n < 0 && errno != EINTR)
			e = -errno;
		for (i = 0; i < n; i++) {
			if (evs[i].data.u32 == SRC_DP_READY)
				ready = true;
			else if (evs[i].data.u32 == SRC_FEED_JOB)
				feeds_on_worker(d->feeds, evs[i].events);
		}
	}
	if (efd >= 0 && d->epfd >= 0)
		epoll_ctl(d->epfd, EPOLL_CTL_DEL, efd, NULL);
	if (pending > feeds_startup_pending(d->feeds))
		log_info("startup: %zu of %zu feeds' start-up versions applied while the kernel "
			 "verified the XDP program (%llu ms)",
			 pending - feeds_startup_pending(d->feeds), pending,
			 (unsigned long long)(bwe_sandbox_now_ms() - t0));
	if (e)
		log_warnx("startup: waiting for the XDP program's load: %s", strerror(-e));
	n = bwe_dp_wait(d->dp);
	if (n)
		log_warnx("cannot load the data plane's XDP program: %s", strerror(-n));
	return n ?: e;
}

/* A neighbour seen with a MAC address: a contained host's new address is learnt. */
static void on_neigh(const struct bwe_addr *a, const __u8 mac[BWE_MAC_LEN], int ifindex, void *ctx)
{
	struct daemon *d = ctx;

	(void)ifindex;
	ops_learn(d->ops, mac, a, ST_LEARNT_NEIGHBOUR);
}

/* Every module, each from the ones below it (docs/architecture.md). */
static int start(struct daemon *d)
{
	struct detector_deps dd;
	struct feeds_deps fd;
	struct ringbuf_deps rd;
	struct ifaces_deps id;
	struct control_deps cd;
	struct api_deps ad;
	struct http_deps hd;
	char err[IFACES_ERR_LEN];
	int e;

	d->st = st_new();
	d->store = fstore_new();
	if (!d->st || !d->store)
		return -ENOMEM;
	if ((e = evlog_open(&d->log, d->cfg->paths.event_log))) {
		log_warnx("startup failed: %s", strerror(-e));
		return e;
	}
	evlog_set_config(d->log, d->cfg);
	/*
	 * The feed worker before the data plane: it reads and parses the
	 * feeds while the kernel verifies the programs (a million-line feed
	 * takes about as long as that), and the loop takes its results.
	 */
	fd = (struct feeds_deps){ .cfg = d->cfg, .store = d->store, .log = d->log };
	if ((e = feeds_new(&d->feeds, &fd))) {
		log_warnx("startup failed: feeds: %s", strerror(-e));
		return e;
	}
	e = open_dataplane(d);
	if (e)
		return e;
	/* what the configuration asks of the kernel, before anything is written;
	 * again after the program's load, which may have fallen back */
	if (ifaces_check(d->cfg, d->dp->flowtable, err, sizeof(err))) {
		log_warnx("startup failed: %s", err);
		return -EINVAL;
	}
	if ((e = enf_new(&d->enf, d->dp, d->cfg, d->st, d->store)) ||
	    (e = ops_new(&d->ops, d->cfg, d->st, d->enf, d->log)) || (e = ops_load(d->ops)) ||
	    (e = hosts_new(&d->hosts, d->dp)) || (e = hostsweep_new(&d->sweep, d->dp))) {
		log_warnx("startup failed: %s", strerror(-e));
		return e;
	}
	enf_all(d->enf);
	dd = (struct detector_deps){ .cfg = d->cfg,
				     .dp = d->dp,
				     .hosts = d->hosts,
				     .sweep = d->sweep,
				     .st = d->st,
				     .enf = d->enf,
				     .ops = d->ops,
				     .log = d->log,
				     .drain = drain_hits,
				     .drain_ctx = d };
	feeds_bind(d->feeds, d->enf);
	if ((e = detector_new(&d->detector, &dd)) ||
	    (e = scope_new(&d->scope, &(struct scope_deps){ .cfg = d->cfg,
							    .ops = d->ops,
							    .detector = d->detector,
							    .enf = d->enf,
							    .st = d->st }))) {
		log_warnx("startup failed: detection: %s", strerror(-e));
		return e;
	}
	/* bwctl scope reaches back past this start as far as the event log does */
	if ((e = scope_seed(d->scope, d->cfg->paths.event_log, time(NULL))))
		log_warnx("scope: cannot read back %s: %s", d->cfg->paths.event_log, strerror(-e));
	e = fleet_new(&d->fleet, &(struct fleet_deps){ .cfg = d->cfg,
						       .ops = d->ops,
						       .st = d->st,
						       .log = d->log,
						       .feeds = d->feeds,
						       .store = d->store });
	if (e) {
		log_warnx("startup failed: fleet: %s", strerror(-e));
		return e;
	}
	scope_set_fleet(d->scope, d->fleet); /* asks the other sites, answers theirs */
	rd = (struct ringbuf_deps){ .dp = d->dp,
				    .store = d->store,
				    .st = d->st,
				    .ops = d->ops,
				    .log = d->log };
	id = (struct ifaces_deps){ .cfg = d->cfg, .dp = d->dp, .enf = d->enf, .log = d->log };
	if ((e = ringbuf_new(&d->rb, &rd))) {
		log_warnx("ring buffer: %s", strerror(-e));
		return e;
	}
	if ((e = wait_program(d)))
		return e;
	if (ifaces_check(d->cfg, d->dp->flowtable, err, sizeof(err))) {
		log_warnx("startup failed: %s", err);
		return -EINVAL;
	}
	if ((e = ifaces_new(&d->ifaces, &id)))
		return e;
	/* without a neighbour view, hosts are contained by address only */
	if ((e = bwe_neighwatch_open(&d->nw, 0, on_neigh, d)))
		log_warnx("neighbour table: %s; hosts are contained by address only", strerror(-e));
	ops_set_neighbours(d->ops, d->nw);
	cd = (struct control_deps){
		.q = http_q(d),
		.ops = d->ops,
		.detector = d->detector,
	};
	/* The HTTP API: its tokens, shared with the control socket's token commands. */
	if ((e = tok_open(&d->tokens, d->cfg->paths.state_dir)))
		return e;
	cd.tokens = d->tokens;
	cd.log = d->log;
	ad = (struct api_deps){ .q = cd.q,
				.ops = d->ops,
				.detector = d->detector,
				.tokens = d->tokens };
	if ((e = api_new(&d->api, &ad)))
		return e;
	/* the listener hands /v1/ to the API and asks it about metrics_auth tokens */
	d->http_handler = api_handle;
	d->http_auth = api_authorize;
	d->http_ctx = d->api;
	if ((e = control_open(&d->ctl, &cd)))
		return e;
	hd = (struct http_deps){ .cfg = (const struct bwe_cfgfile *const *)&d->cfg,
				 .m = { .q = http_q(d), .log = d->log },
				 .ctl = d->ctl,
				 .handler = d->http_handler,
				 .auth = d->http_auth,
				 .ctx = d->http_ctx };
	if ((e = http_open(&d->http, &hd)))
		return e;
	if ((e = setup_loop(d))) {
		log_warnx("startup failed: %s", strerror(-e));
		return e;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct daemon d = { .config_path = BWE_CFG_PATH_DEFAULT,
			    .epfd = -1,
			    .sigfd = -1,
			    .timerfd = -1,
			    .wdogfd = -1 };
	char err[BWE_CFG_ERR_LEN];
	sigset_t sigs;
	bool check = false;
	int c, rc = 1;

	/* The sandboxed feed worker: sandbox.h made it unprivileged already. */
	if (argc == 2 && !strcmp(argv[1], FEEDS_WORKER_ARG)) {
		struct bwe_feedwork_opts fo = { .user_agent = "bwenforce/" BWCTLD_VERSION };

		return bwe_feedwork_exit_code(bwe_feedwork_main(BWE_SANDBOX_FD, &fo));
	}
	/* The sandboxed fleet worker (etcd), likewise. */
	if (argc == 2 && !strcmp(argv[1], BWE_FLEETWORK_ARG))
		return bwe_fleetwork_main(BWE_SANDBOX_FD) ? 1 : 0;
	/*
	 * One malloc arena for the daemon's two threads. The program's load
	 * runs in a thread beside the feeds' start (lib/dataplane.c); in an
	 * arena of its own, the 12 MiB it used for a while stayed resident
	 * after the thread ended, because malloc_trim() returns the top of
	 * the main arena only (docs/benchmarks.md, "The daemon's resident
	 * memory").
	 */
	mallopt(M_ARENA_MAX, 1);
	while ((c = getopt(argc, argv, "c:fnvh")) != -1) {
		switch (c) {
		case 'c':
			d.config_path = optarg;
			break;
		case 'f':
			d.foreground = true;
			break;
		case 'n':
			check = true;
			break;
		case 'v':
			d.verbose++;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "bwctld: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (bwe_config_load(d.config_path, &d.cfg, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (check && (http_check(d.cfg, true /* the API has tokens */, err, sizeof(err)) ||
		      ifaces_check(d.cfg, bwe_dp_flowtable_kfunc(), err, sizeof(err)))) {
		fprintf(stderr, "%s\n", err);
		bwe_config_free(d.cfg);
		return 1;
	}
	if (check) {
		warn_insecure(d.cfg, true);
		printf("configuration OK\n");
		bwe_config_free(d.cfg);
		return 0;
	}
	log_init(d.foreground, d.verbose, "bwctld");
	openlog("bwctld", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	warn_insecure(d.cfg, false);
	libbpf_set_print(libbpf_log);
	bwe_attach_silence_libxdp(d.verbose);
	if (geteuid() != 0)
		fatalx("must run as root (BPF, XDP)");
	check_caps(d.cfg);
	if (!d.foreground && daemon(0, 0))
		fatal("daemon");
	d.started = time(NULL);
	block_signals(&sigs);
	if (!start(&d)) {
		hosts_sample(d.hosts, NULL, NULL);
		log_info("bwctld %s started: %zu interface(s), %zu state entries, socket %s",
			 BWCTLD_VERSION, ifaces_count(d.ifaces), st_count(d.st),
			 d.cfg->paths.socket);
		d.ready_by = mono_s() + READY_WAIT_S;
		notify_progress(&d);
		run(&d);
		rc = 0;
	}
	cleanup(&d);
	return rc;
}
