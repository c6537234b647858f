// SPDX-License-Identifier: GPL-2.0-only
/*
 * bwctld - the bwenforce control daemon: owns the XDP data plane and its
 * state. main.c holds startup, the event loop, signals and interfaces; each
 * subsystem has a file of its own (see bwctld.h).
 *
 * Lifecycle: SIGTERM/SIGINT exit and leave the data plane enforcing
 * (program attached, maps pinned); SIGHUP reloads the configuration (a bad
 * file is refused and the running one kept); `bwctl detach` removes the
 * program.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <linux/magic.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/timerfd.h>
#include <bpf/libbpf.h>

#include "bwctld.h"
#include "linkwatch.h"
#include "log.h"

#define EPOLL_EVENTS 16

enum ev_src { SRC_CTL = 1, SRC_RB, SRC_SIG, SRC_TIMER, SRC_LINK, SRC_FEED_INO, SRC_FEED_JOB };

static void usage(FILE *f)
{
	fprintf(f, "usage: bwctld [-fnv] [-c FILE]\n"
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

struct bwe_iface *iface_find(struct daemon *d, const char *name)
{
	size_t i;

	for (i = 0; i < d->n_ifaces; i++)
		if (!strcmp(d->ifaces[i].name, name))
			return &d->ifaces[i];
	return NULL;
}

static void iface_try(struct daemon *d, struct bwe_iface *ifc)
{
	int err = bwe_attach(ifc, bwe_dp_prog_fd(d->dp));
	struct json_object *ev;

	if (err) {
		log_warnx("%s: not attached: %s%s%s", ifc->name, strerror(-err),
			  ifc->note[0] ? ": " : "", ifc->note);
		return;
	}
	log_info("%s: attached (%s%s), program id %u%s%s", ifc->name,
		 ifc->mode == XDP_MODE_NATIVE ? "native" : "generic",
		 ifc->multiprog ? ", dispatcher" : "", ifc->prog_id,
		 ifc->note[0] ? "; " : "", ifc->note);
	ev = events_new("interface-attached", "event");
	json_object_object_add(ev, "observer", json_object_new_object());
	json_object_object_add(json_object_object_get(ev, "observer"), "ingress",
			       json_object_new_object());
	json_object_object_add(json_object_object_get(json_object_object_get(ev, "observer"), "ingress"),
			       "interface", json_object_new_object());
	json_object_object_add(json_object_object_get(json_object_object_get(json_object_object_get(
				       ev, "observer"), "ingress"), "interface"),
			       "name", json_object_new_string(ifc->name));
	events_emit(d, ev);
}

void iface_link_cb(const char *name, int ifindex, bool present, void *ctx)
{
	struct daemon *d = ctx;
	struct bwe_iface *ifc = iface_find(d, name);

	enforce_netclass(d);	/* the gateway's own addresses may have changed */
	if (!ifc)
		return;
	if (!present) {
		if (ifc->ifindex == ifindex || !ifindex) {
			log_info("%s: interface disappeared; will attach when it returns", name);
			ifc->ifindex = 0;
			ifc->prog_id = 0;
			ifc->mode = 0;
			snprintf(ifc->note, sizeof(ifc->note), "interface does not exist");
		}
		return;
	}
	if (ifc->prog_id && ifc->ifindex == ifindex)
		return;
	if (!strncmp(ifc->note, "detached by", 11))
		return;		/* an operator detached it: stay away */
	iface_try(d, ifc);
}

int ifaces_setup(struct daemon *d)
{
	size_t i;

	d->ifaces = calloc(d->cfg->n_ifaces, sizeof(*d->ifaces));
	if (!d->ifaces)
		return -ENOMEM;
	d->n_ifaces = d->cfg->n_ifaces;
	for (i = 0; i < d->n_ifaces; i++) {
		snprintf(d->ifaces[i].name, sizeof(d->ifaces[i].name), "%s", d->cfg->ifaces[i].name);
		d->ifaces[i].want = d->cfg->ifaces[i].mode;
		iface_try(d, &d->ifaces[i]);
	}
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
		log_warnx("pin_dir %s is not on a bpf filesystem (mount -t bpf bpf /sys/fs/bpf)", dir);
		return -EINVAL;
	}
	return 0;
}

static void reload(struct daemon *d)
{
	struct bwe_cfgfile *nc, *old = d->cfg;
	char err[BWE_CFG_ERR_LEN];
	size_t i;

	if (bwe_config_load(d->config_path, &nc, err, sizeof(err))) {
		log_warnx("reload refused, keeping the running configuration: %s", err);
		return;
	}
	if (strcmp(nc->paths.pin_dir, old->paths.pin_dir) ||
	    strcmp(nc->paths.socket, old->paths.socket) ||
	    strcmp(nc->paths.state_dir, old->paths.state_dir) ||
	    memcmp(&nc->maps, &old->maps, sizeof(nc->maps)))
		log_warnx("reload: paths and map sizes take effect at the next start");
	/* Keep what only a restart may change. */
	{
		char *t;

		t = nc->paths.pin_dir; nc->paths.pin_dir = old->paths.pin_dir; old->paths.pin_dir = t;
		t = nc->paths.socket; nc->paths.socket = old->paths.socket; old->paths.socket = t;
		t = nc->paths.state_dir; nc->paths.state_dir = old->paths.state_dir; old->paths.state_dir = t;
		t = nc->paths.event_log; nc->paths.event_log = old->paths.event_log; old->paths.event_log = t;
		nc->maps = old->maps;
	}
	d->cfg = nc;
	enforce_config(d);
	enforce_netclass(d);
	feeds_reload(d);
	/* Interfaces: detach those no longer configured, attach new ones. */
	for (i = 0; i < d->n_ifaces; i++) {
		bool keep = false;
		size_t j;

		for (j = 0; j < nc->n_ifaces; j++)
			keep |= !strcmp(nc->ifaces[j].name, d->ifaces[i].name);
		if (!keep)
			bwe_detach(&d->ifaces[i]);
	}
	free(d->ifaces);
	d->ifaces = NULL;
	ifaces_setup(d);
	bwe_config_free(old);
	log_info("configuration reloaded from %s", d->config_path);
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
			reload(d);
			break;
		case SIGTERM:
		case SIGINT:
			log_info("signal %d: exiting; the data plane stays attached and enforcing",
				 (int)si.ssi_signo);
			d->quit = true;
			break;
		}
	}
}

static void on_tick(struct daemon *d)
{
	__u64 exp;

	if (read(d->timerfd, &exp, sizeof(exp)) < 0)
		return;
	st_expire(d, time(NULL));
	feeds_tick(d, time(NULL));
	hosts_sample(d);
	detector_tick(d);
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

static int setup_loop(struct daemon *d)
{
	struct itimerspec its = {
		.it_interval = { .tv_sec = BWCTLD_TICK_MS / 1000 },
		.it_value = { .tv_sec = BWCTLD_TICK_MS / 1000 },
	};
	sigset_t mask;
	int err;

	block_signals(&mask);
	d->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	d->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d->sigfd < 0 || d->timerfd < 0 || d->epfd < 0)
		return -errno;
	if (timerfd_settime(d->timerfd, 0, &its, NULL))
		return -errno;
	err = ep_add(d, d->sigfd, SRC_SIG);
	err = err ?: ep_add(d, d->timerfd, SRC_TIMER);
	err = err ?: ep_add(d, d->ctlfd, SRC_CTL);
	err = err ?: ep_add(d, ring_buffer__epoll_fd(d->rb), SRC_RB);
	err = err ?: ep_add(d, bwe_linkwatch_fd(d->lw), SRC_LINK);
	err = err ?: ep_add(d, feeds_fd_worker(d), SRC_FEED_JOB);
	if (!err && feeds_fd_inotify(d) >= 0)
		err = ep_add(d, feeds_fd_inotify(d), SRC_FEED_INO);
	return err;
}

static void run(struct daemon *d)
{
	struct epoll_event evs[EPOLL_EVENTS];

	while (!d->quit) {
		int n = epoll_wait(d->epfd, evs, EPOLL_EVENTS, -1), i;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_warn("epoll_wait");
			break;
		}
		for (i = 0; i < n; i++) {
			switch (evs[i].data.u32) {
			case SRC_CTL:
				control_accept(d);
				break;
			case SRC_RB:
				ring_buffer__consume(d->rb);
				break;
			case SRC_SIG:
				on_signal(d);
				break;
			case SRC_TIMER:
				on_tick(d);
				break;
			case SRC_LINK:
				bwe_linkwatch_process(d->lw);
				break;
			case SRC_FEED_INO:
				feeds_on_inotify(d);
				break;
			case SRC_FEED_JOB:
				feeds_on_worker(d);
				break;
			}
		}
	}
}

static void cleanup(struct daemon *d)
{
	control_close(d);
	bwe_linkwatch_close(d->lw);
	ring_buffer__free(d->rb);
	detector_fini(d);
	feeds_fini(d);
	events_close(d);
	bwe_bl_free(&d->bl);
	bwe_ncset_free(&d->nc);
	/* Closing the object leaves attached programs and pinned maps in place. */
	bwe_dp_close(d->dp);
	free(d->ifaces);
	free(d->state.v);
	free(d->hosts);
	bwe_amap_free(&d->host_idx);
	bwe_config_free(d->cfg);
	if (d->epfd >= 0)
		close(d->epfd);
}

int main(int argc, char **argv)
{
	struct daemon d = { .config_path = BWE_CFG_PATH_DEFAULT, .epfd = -1, .sigfd = -1,
			    .timerfd = -1, .ctlfd = -1, .evfd = -1 };
	struct bwe_dp_opts opts = { 0 };
	char err[BWE_CFG_ERR_LEN];
	sigset_t sigs;
	bool check = false;
	int c, rc = 1, e;

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
	if (check) {
		printf("configuration OK\n");
		bwe_config_free(d.cfg);
		return 0;
	}
	log_init(d.foreground, d.verbose, "bwctld");
	openlog("bwctld", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	libbpf_set_print(libbpf_log);
	bwe_attach_silence_libxdp(d.verbose);
	if (geteuid() != 0)
		fatalx("must run as root (BPF, XDP)");
	if (!d.foreground && daemon(0, 0))
		fatal("daemon");
	d.started = time(NULL);
	block_signals(&sigs);

	if (check_bpffs(d.cfg->paths.pin_dir))
		goto out;
	opts.pin_dir = d.cfg->paths.pin_dir;
	opts.bl_host_max = d.cfg->maps.blocklist_hosts;
	opts.bl_net6_max = d.cfg->maps.blocklist_v6_prefixes;
	opts.netclass_max = d.cfg->maps.netclass;
	opts.throttle_max = d.cfg->maps.throttle;
	opts.hosts_max = d.cfg->maps.hosts;
	e = bwe_dp_open(&d.dp, &opts);
	if (e) {
		log_warnx("cannot load the data plane: %s%s", strerror(-e),
			  e == -EINVAL ? " (pinned maps of another size or layout? "
					 "bwctl detach, or remove pin_dir)" : "");
		goto out;
	}
	if ((e = bwe_bl_init(&d.bl, d.dp)) || (e = st_load(&d)) || (e = events_open(&d))) {
		log_warnx("startup failed: %s", strerror(-e));
		goto out;
	}
	enforce_all(&d);
	if ((e = detector_init(&d)) || (e = feeds_init(&d))) {
		log_warnx("feeds: %s", strerror(-e));
		goto out;
	}
	/* Only now is the mirror complete: drop what a previous run left behind. */
	e = bwe_bl_sweep(&d.bl);
	if (e)
		log_warnx("blocklist sweep: %s", strerror(-e));
	d.rb = ring_buffer__new(bwe_dp_map_fd(d.dp, BWE_MAP_EVENTS), events_ringbuf_cb, &d, NULL);
	if (!d.rb) {
		log_warn("ring buffer");
		goto out;
	}
	if ((e = bwe_linkwatch_open(&d.lw, iface_link_cb, &d))) {
		log_warnx("link watch: %s", strerror(-e));
		goto out;
	}
	if ((e = control_open(&d)))
		goto out;
	if ((e = ifaces_setup(&d)) || (e = setup_loop(&d))) {
		log_warnx("startup failed: %s", strerror(-e));
		goto out;
	}
	hosts_sample(&d);
	log_info("bwctld %s started: %zu interface(s), %zu state entries, socket %s",
		 BWCTLD_VERSION, d.n_ifaces, d.state.n, d.cfg->paths.socket);
	run(&d);
	rc = 0;
out:
	cleanup(&d);
	return rc;
}
