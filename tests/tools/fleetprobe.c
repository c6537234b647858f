// SPDX-License-Identifier: GPL-2.0-only
/*
 * fleetprobe.c - drive the real fleet worker (bwctld --fleet-worker, under
 * lib/sandbox.c: nobody, seccomp) through lib/fleetclient.c, as bwctld
 * would, for tests/e2e_fleetwork.sh. Prints every event as one line on
 * stdout and runs the commands given as arguments, in order:
 *
 *   put KEY VALUE [TTL]   put and wait for its DONE (10 s at most)
 *   put-site KEY VALUE    put on the site lease, wait
 *   del KEY               delete, wait
 *   aput KEY VALUE        put, do not wait
 *   follow FROM           follow from revision FROM (0: a snapshot first)
 *   run MS                run the event loop for MS milliseconds
 *   wait RE TIMEOUT_S     run until an event line matching the extended
 *                         regex RE printed (after the line the last wait
 *                         matched, or the follow), else exit 1
 *   done N TIMEOUT_S      run until N DONE events in all, else exit 1
 *   sh CMD                run CMD with /bin/sh (the loop waits)
 *   kill-worker           SIGKILL the worker
 *   stats                 "stats pid=N rss_kb=N hwm_kb=N queued=N ..."
 *   check-seq PFX N       the keys PFX0..PFX(N-1) came as PUT or KV each
 *                         exactly once, the PUTs in ascending revisions;
 *                         else exit 1
 *   snap-time             "snapshot ms=N": from the last follow to SNAP_END
 *   bulk N PFX            put PFX0..PFX(N-1) (value 64 bytes), wait for every
 *                         DONE; "bulk N ms=T failed=F"
 *   creds                 the worker's Uid, NoNewPrivs, Seccomp, CapEff lines
 *   latency N PFX         N puts one after the other, each timed from the
 *                         submit to its PUT event from the watch (follow
 *                         first); "latency N median_ms=M p99_ms=P max_ms=X"
 *
 * fleetprobe --fake STEP...  a fake worker for tests/test_fleetclient.c,
 *   started by lib/sandbox.c: reads the init frame on BWE_SANDBOX_FD, then
 *   per STEP: "want:TYPE" reads frames until one of that "t", "exit" ends,
 *   "violate" enters the fleet worker's seccomp profile and calls ptrace,
 *   "raw:HEX" writes those bytes, anything else is a JSON text written as
 *   one frame. Then it reads until the parent closes the socket.
 *
 * Options: --worker PATH (bwctld), --endpoints URL[,URL...], --prefix P,
 * --site S, --ca FILE, --cert FILE, --key FILE, --user U,
 * --password-file FILE, --site-ttl S, --timeout-ms N, --data-limit BYTES (the
 * worker's RLIMIT_DATA).
 * Exit status: 0 all commands done, 1 a wait or check failed, 2 usage.
 */
#include <errno.h>
#include <limits.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/ptrace.h>

#include "bwe_util.h"
#include "fleetclient.h"
#include "fleetwire.h"
#include "fleetwork.h"

#define SEEN_MAX 200000

struct seen {
	char *key;
	__s64 mod;
	bool watch; /* a PUT or DEL (else a snapshot's KV, in key order) */
};

static size_t mark; /* wait searches the log from here */

static struct {
	struct bwe_flc *c;
	int ep;
	char last[4096]; /* lines since the last wait, searched by wait */
	char *log;
	size_t loglen, logcap;
	unsigned long dones, failed;
	bool bulk; /* DONE events counted, not printed */
	struct seen *seen;
	size_t nseen;
	__u64 follow_ms, snap_end_ms;
} P;

static void logline(const char *s)
{
	size_t n = strlen(s);

	printf("%s\n", s);
	fflush(stdout);
	if (P.loglen + n + 2 > P.logcap) {
		size_t cap = P.logcap ? P.logcap * 2 : 65536;
		char *np;

		while (cap < P.loglen + n + 2)
			cap *= 2;
		np = realloc(P.log, cap);
		if (!np)
			abort();
		P.log = np;
		P.logcap = cap;
	}
	memcpy(P.log + P.loglen, s, n);
	P.loglen += n;
	P.log[P.loglen++] = '\n';
	P.log[P.loglen] = '\0';
}

static void note(const char *key, __s64 mod, bool watch)
{
	if (P.nseen >= SEEN_MAX)
		return;
	P.seen[P.nseen].key = strdup(key);
	P.seen[P.nseen].mod = mod;
	P.seen[P.nseen].watch = watch;
	P.nseen++;
}

static void on_event(const struct bwe_flc_ev *ev, void *ctx)
{
	char line[BWE_FLC_VALUE_MAX * 4 + 1024], val[BWE_FLC_VALUE_MAX * 4 + 1];

	(void)ctx;
	val[0] = '\0';
	if (ev->value)
		bwe_flw_escape(ev->value, ev->value_len, val, sizeof(val));
	switch (ev->type) {
	case BWE_FLC_EV_STATE:
		snprintf(line, sizeof(line), "STATE connected=%d endpoint=%s rev=%lld error=%s",
			 ev->connected, ev->endpoint, (long long)ev->revision, ev->error);
		break;
	case BWE_FLC_EV_SNAP_BEGIN:
		snprintf(line, sizeof(line), "SNAP_BEGIN rev=%lld", (long long)ev->revision);
		break;
	case BWE_FLC_EV_SNAP_KV:
		note(ev->key, ev->mod_revision, false);
		if (P.nseen > 20 && !strncmp(ev->key, "bulk/", 5))
			return; /* the 10,000-key snapshot: not every line */
		snprintf(line, sizeof(line), "KV key=%s value=%s mod=%lld", ev->key, val,
			 (long long)ev->mod_revision);
		break;
	case BWE_FLC_EV_SNAP_END:
		P.snap_end_ms = bwe_sandbox_now_ms();
		snprintf(line, sizeof(line), "SNAP_END rev=%lld count=%llu",
			 (long long)ev->revision, (unsigned long long)ev->count);
		break;
	case BWE_FLC_EV_PUT:
		note(ev->key, ev->mod_revision, true);
		snprintf(line, sizeof(line), "PUT key=%s value=%s mod=%lld", ev->key, val,
			 (long long)ev->mod_revision);
		break;
	case BWE_FLC_EV_DEL:
		note(ev->key, ev->mod_revision, true);
		snprintf(line, sizeof(line), "DEL key=%s mod=%lld", ev->key,
			 (long long)ev->mod_revision);
		break;
	case BWE_FLC_EV_DONE:
		P.dones++;
		P.failed += ev->status != 0;
		if (P.bulk && !ev->status)
			return;
		snprintf(line, sizeof(line), "DONE id=%u status=%d rev=%lld error=%s", ev->id,
			 ev->status, (long long)ev->revision, ev->error);
		break;
	case BWE_FLC_EV_COMPACTED:
		snprintf(line, sizeof(line), "COMPACTED rev=%lld", (long long)ev->revision);
		break;
	case BWE_FLC_EV_REFUSED:
		snprintf(line, sizeof(line), "REFUSED key=%s mod=%lld error=%s", ev->key,
			 (long long)ev->mod_revision, ev->error);
		break;
	default:
		snprintf(line, sizeof(line), "UNKNOWN type=%d", (int)ev->type);
		break;
	}
	logline(line);
}

static void turn(int max_ms)
{
	epoll_data_t data = { .u64 = 1 };
	struct epoll_event ev[4];
	__u64 now = bwe_sandbox_now_ms(), wake = bwe_flc_next_wakeup(P.c);
	int i, n, t = max_ms;

	if (bwe_flc_epoll_sync(P.c, P.ep, data))
		abort();
	if (wake && wake < now + (__u64)t)
		t = wake > now ? (int)(wake - now) : 0;
	n = epoll_wait(P.ep, ev, ARRAY_SIZE(ev), t);
	for (i = 0; i < n; i++) {
		if (ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			bwe_flc_on_readable(P.c);
		if (ev[i].events & EPOLLOUT)
			bwe_flc_on_writable(P.c);
	}
	bwe_flc_tick(P.c);
	bwe_flc_epoll_sync(P.c, P.ep, data);
}

static void run_ms(__u64 ms)
{
	__u64 end = bwe_sandbox_now_ms() + ms;

	while (bwe_sandbox_now_ms() < end)
		turn((int)(end - bwe_sandbox_now_ms()) + 1);
}

/* The first line at or after from that matches re (a substring when !re); its end, or NULL. */
static const char *find_line(size_t from, const char *what, const regex_t *re)
{
	const char *p = P.log ? P.log + from : NULL;
	char line[BWE_FLC_VALUE_MAX * 4 + 1024];

	while (p && *p) {
		const char *eol = strchr(p, '\n');
		size_t n = eol ? (size_t)(eol - p) : strlen(p);

		if (n >= sizeof(line))
			n = sizeof(line) - 1;
		memcpy(line, p, n);
		line[n] = '\0';
		if (re ? !regexec(re, line, 0, NULL, 0) : strstr(line, what) != NULL)
			return eol ? eol + 1 : p + n;
		p = eol ? eol + 1 : NULL;
	}
	return NULL;
}

/*
 * Run until a line matches what (an extended regex when regex, else a
 * substring). advance: the next wait searches after that line (a DONE wait
 * searches the whole log and does not move on).
 */
static int wait_for(const char *what, double timeout_s, bool advance, bool regex)
{
	__u64 end = bwe_sandbox_now_ms() + (__u64)(timeout_s * 1000);
	regex_t re;

	if (regex && regcomp(&re, what, REG_EXTENDED | REG_NOSUB)) {
		printf("FAILED: bad regex \"%s\"\n", what);
		return 1;
	}
	for (;;) {
		const char *hit = find_line(advance ? mark : 0, what, regex ? &re : NULL);

		if (hit) {
			if (advance)
				mark = (size_t)(hit - P.log);
			if (regex)
				regfree(&re);
			return 0;
		}
		if (bwe_sandbox_now_ms() >= end)
			break;
		turn(50);
	}
	if (regex)
		regfree(&re);
	printf("FAILED: no \"%s\" within %.1f s\n", what, timeout_s);
	return 1;
}

static int wait_dones(unsigned long n, double timeout_s)
{
	__u64 end = bwe_sandbox_now_ms() + (__u64)(timeout_s * 1000);

	while (P.dones < n) {
		if (bwe_sandbox_now_ms() >= end) {
			printf("FAILED: %lu DONE events of %lu within %.1f s\n", P.dones, n,
			       timeout_s);
			return 1;
		}
		turn(50);
	}
	return 0;
}

static int check_seq(const char *pfx, unsigned long n)
{
	size_t plen = strlen(pfx), i;
	unsigned long *count = calloc(n, sizeof(*count)), k, bad = 0;
	__s64 last = 0;

	for (i = 0; i < P.nseen; i++) {
		char *end;

		if (strncmp(P.seen[i].key, pfx, plen))
			continue;
		k = strtoul(P.seen[i].key + plen, &end, 10);
		if (*end || k >= n) {
			printf("check-seq: unexpected key %s\n", P.seen[i].key);
			bad++;
			continue;
		}
		count[k]++;
		if (!P.seen[i].watch)
			continue; /* a snapshot comes in key order */
		if (P.seen[i].mod <= last) {
			printf("check-seq: %s at revision %lld after %lld\n", P.seen[i].key,
			       (long long)P.seen[i].mod, (long long)last);
			bad++;
		}
		last = P.seen[i].mod;
	}
	for (k = 0; k < n; k++)
		if (count[k] != 1) {
			printf("check-seq: %s%lu seen %lu times\n", pfx, k, count[k]);
			bad++;
		}
	free(count);
	printf("seq %s %lu: %s\n", pfx, n, bad ? "FAILED" : "ok");
	return bad ? 1 : 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static long rss_kb(pid_t pid, const char *field)
{
	char path[64], line[256];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, strlen(field)))
			v = strtol(line + strlen(field), NULL, 10);
	fclose(f);
	return v;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0, n;

	if (!f) {
		fprintf(stderr, "fleetprobe: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	buf = calloc(1, 1 << 20);
	n = fread(buf, 1, (1 << 20) - 1, f);
	len = n;
	buf[len] = '\0';
	fclose(f);
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = '\0';
	return buf;
}

static int submit_wait(int err, const __u32 *idp)
{
	__u32 id = *idp;

	char what[64];

	if (err) {
		printf("submit: %s\n", strerror(-err));
		return 1;
	}
	snprintf(what, sizeof(what), "DONE id=%u ", id);
	return wait_for(what, 40, false, false);
}

/* Read frames until one whose "t" is want (NULL: any). 0, or -1 at EOF. */
static int fake_read(struct bwe_flw_dec *d, const char *want)
{
	static char buf[4096];
	static size_t off, len;
	char t[64];

	for (;;) {
		size_t used;
		int r;

		if (off == len) {
			ssize_t n = read(BWE_SANDBOX_FD, buf, sizeof(buf));

			if (n <= 0)
				return -1;
			off = 0;
			len = (size_t)n;
		}
		r = bwe_flw_dec_feed(d, buf + off, len - off, &used);
		off += used;
		if (r < 0)
			return -1;
		if (r == 1 && sscanf(d->frame, "{\"t\":\"%63[a-z_]\"", t) == 1 &&
		    (!want || !strcmp(t, want)))
			return 0;
	}
}

static int fake(int argc, char **argv)
{
	struct bwe_flw_dec d = { .max = BWE_FLW_INIT_MAX };
	int i;

	if (fake_read(&d, "init"))
		return 1;
	for (i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (!strncmp(a, "want:", 5)) {
			if (fake_read(&d, a + 5))
				return 1;
		} else if (!strcmp(a, "exit")) {
			return 0;
		} else if (!strcmp(a, "violate")) {
			/* the fleet worker's profile, then a syscall outside it */
			if (bwe_sandbox_enter(&bwe_fleetwork_seccomp))
				return 1;
			ptrace(PTRACE_TRACEME, 0, NULL, NULL);
			return 3; /* not stopped */
		} else if (!strncmp(a, "raw:", 4)) {
			unsigned char b[256];
			size_t n = 0;
			unsigned int x;

			for (a += 4; n < sizeof(b) && sscanf(a, "%2x", &x) == 1; a += 2)
				b[n++] = (unsigned char)x;
			if (write(BWE_SANDBOX_FD, b, n) != (ssize_t)n)
				return 1;
		} else {
			size_t len = strlen(a);
			unsigned char h[4] = { (unsigned char)(len >> 24),
					       (unsigned char)(len >> 16),
					       (unsigned char)(len >> 8), (unsigned char)len };

			if (write(BWE_SANDBOX_FD, h, 4) != 4 ||
			    write(BWE_SANDBOX_FD, a, len) != (ssize_t)len)
				return 1;
		}
	}
	while (!fake_read(&d, NULL))
		;
	return 0;
}

int main(int argc, char **argv)
{
	char *worker_argv[] = { (char *)"bwctld", (char *)BWE_FLEETWORK_ARG, NULL };
	struct bwe_flc_conf conf = {
		.sandbox = { .name = "fleet worker",
			     .argv = worker_argv,
			     .user = "nobody",
			     .backoff_min_ms = 200,
			     .backoff_max_ms = 2000 },
		.prefix = "/bwe-test/",
		.site = "probe",
		.on_event = on_event,
	};
	char worker[PATH_MAX], *eps = NULL, *pw = NULL;
	int i, rc = 0;

	if (argc >= 2 && !strcmp(argv[1], "--fake"))
		return fake(argc - 2, argv + 2);
	setvbuf(stdout, NULL, _IOLBF, 0);
	P.seen = calloc(SEEN_MAX, sizeof(*P.seen));
	for (i = 1; i < argc && !strncmp(argv[i], "--", 2); i += 2) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			return 2;
		if (!strcmp(o, "--worker")) {
			if (!realpath(v, worker))
				return 2;
			conf.sandbox.path = worker;
		} else if (!strcmp(o, "--endpoints")) {
			char *s, *save = NULL;

			eps = strdup(v);
			for (s = strtok_r(eps, ",", &save);
			     s && conf.nendpoints < BWE_FLC_ENDPOINTS_MAX;
			     s = strtok_r(NULL, ",", &save))
				conf.endpoints[conf.nendpoints++] = s;
		} else if (!strcmp(o, "--prefix")) {
			conf.prefix = v;
		} else if (!strcmp(o, "--site")) {
			conf.site = v;
		} else if (!strcmp(o, "--ca")) {
			conf.ca_pem = slurp(v);
		} else if (!strcmp(o, "--cert")) {
			conf.cert_pem = slurp(v);
		} else if (!strcmp(o, "--key")) {
			conf.key_pem = slurp(v);
		} else if (!strcmp(o, "--user")) {
			conf.user = v;
		} else if (!strcmp(o, "--password-file")) {
			conf.password = pw = slurp(v);
		} else if (!strcmp(o, "--site-ttl")) {
			conf.site_ttl_s = (unsigned int)atoi(v);
		} else if (!strcmp(o, "--data-limit")) {
			conf.sandbox.data_limit = strtoull(v, NULL, 10);
		} else if (!strcmp(o, "--timeout-ms")) {
			conf.request_timeout_ms = (unsigned int)atoi(v);
		} else {
			fprintf(stderr, "fleetprobe: unknown option %s\n", o);
			return 2;
		}
	}
	if (!conf.sandbox.path) {
		fprintf(stderr, "fleetprobe: --worker is required\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	P.ep = epoll_create1(EPOLL_CLOEXEC);
	rc = bwe_flc_new(&conf, &P.c);
	if (pw)
		explicit_bzero(pw, strlen(pw));
	if (rc) {
		printf("bwe_flc_new: %s\n", strerror(-rc));
		return 1;
	}
	rc = 0;
	for (; i < argc && !rc; i++) {
		const char *cmd = argv[i];
		__u32 id = 0;

#define ARG(k) \
	(i + (k) < argc ? argv[i + (k)] : (printf("%s: missing argument\n", cmd), exit(2), ""))
		if (!strcmp(cmd, "put")) {
			const char *k = ARG(1), *v = ARG(2);
			__u64 ttl = 0;

			i += 2;
			if (i + 1 < argc && argv[i + 1][0] >= '0' && argv[i + 1][0] <= '9')
				ttl = strtoull(argv[++i], NULL, 10);
			rc = submit_wait(bwe_flc_put(P.c, k, v, strlen(v), ttl, BWE_FLC_LEASE_NONE,
						     &id),
					 &id);
		} else if (!strcmp(cmd, "put-site")) {
			const char *k = ARG(1), *v = ARG(2);

			i += 2;
			rc = submit_wait(bwe_flc_put(P.c, k, v, strlen(v), 0, BWE_FLC_LEASE_SITE,
						     &id),
					 &id);
		} else if (!strcmp(cmd, "aput")) {
			const char *k = ARG(1), *v = ARG(2);
			int err;

			i += 2;
			err = bwe_flc_put(P.c, k, v, strlen(v), 0, BWE_FLC_LEASE_NONE, &id);
			printf("aput %s: id=%u err=%d\n", k, id, err);
			rc = err ? 1 : 0;
		} else if (!strcmp(cmd, "del")) {
			const char *k = ARG(1);

			i += 1;
			rc = submit_wait(bwe_flc_del(P.c, k, &id), &id);
		} else if (!strcmp(cmd, "follow")) {
			__s64 from = strtoll(ARG(1), NULL, 10);

			i += 1;
			mark = P.loglen;
			P.follow_ms = bwe_sandbox_now_ms();
			rc = bwe_flc_follow(P.c, from) ? 1 : 0;
		} else if (!strcmp(cmd, "run")) {
			run_ms(strtoull(ARG(1), NULL, 10));
			i += 1;
		} else if (!strcmp(cmd, "wait")) {
			const char *what = ARG(1);

			rc = wait_for(what, atof(ARG(2)), true, true);
			i += 2;
		} else if (!strcmp(cmd, "done")) {
			rc = wait_dones(strtoul(ARG(1), NULL, 10), atof(ARG(2)));
			i += 2;
		} else if (!strcmp(cmd, "sh")) {
			int st = system(ARG(1));

			printf("sh: exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
			i += 1;
		} else if (!strcmp(cmd, "kill-worker")) {
			struct bwe_flc_status st;

			bwe_flc_status(P.c, &st);
			if (st.pid > 0)
				kill(st.pid, SIGKILL);
			printf("killed worker %d\n", (int)st.pid);
		} else if (!strcmp(cmd, "stats")) {
			struct bwe_flc_status st;

			bwe_flc_status(P.c, &st);
			printf("stats pid=%d rss_kb=%ld hwm_kb=%ld connected=%d endpoint=%s "
			       "revision=%lld last_delivered=%lld queued=%zu ok=%llu failed=%llu "
			       "restarts=%u last_error=%s\n",
			       (int)st.pid, rss_kb(st.pid, "VmRSS:"), rss_kb(st.pid, "VmHWM:"),
			       st.connected, st.endpoint, (long long)st.revision,
			       (long long)st.last_delivered, st.queued,
			       (unsigned long long)st.requests_ok,
			       (unsigned long long)st.requests_failed, st.restarts, st.last_error);
		} else if (!strcmp(cmd, "check-seq")) {
			rc = check_seq(ARG(1), strtoul(ARG(2), NULL, 10));
			i += 2;
		} else if (!strcmp(cmd, "snap-time")) {
			printf("snapshot ms=%llu\n",
			       (unsigned long long)(P.snap_end_ms ? P.snap_end_ms - P.follow_ms
								  : 0));
		} else if (!strcmp(cmd, "bulk")) {
			unsigned long n = strtoul(ARG(1), NULL, 10), k, before = P.dones;
			unsigned long failed0 = P.failed;
			const char *pfx = ARG(2);
			char key[BWE_FLC_KEY_MAX], val[65];
			__u64 t0 = bwe_sandbox_now_ms();

			i += 2;
			memset(val, 'v', 64);
			val[64] = '\0';
			P.bulk = true;
			for (k = 0; k < n && !rc; k++) {
				snprintf(key, sizeof(key), "%s%lu", pfx, k);
				rc = bwe_flc_put(P.c, key, val, 64, 0, BWE_FLC_LEASE_NONE, NULL)
					     ? 1
					     : 0;
			}
			if (!rc)
				rc = wait_dones(before + n, 120);
			P.bulk = false;
			printf("bulk %lu ms=%llu failed=%lu\n", n,
			       (unsigned long long)(bwe_sandbox_now_ms() - t0), P.failed - failed0);
		} else if (!strcmp(cmd, "latency")) {
			unsigned long n = strtoul(ARG(1), NULL, 10), k;
			const char *pfx = ARG(2);
			double *ms = calloc(n ? n : 1, sizeof(*ms));
			char key[BWE_FLC_KEY_MAX], what[BWE_FLC_KEY_MAX + 32];

			i += 2;
			for (k = 0; k < n && !rc; k++) {
				__u64 t0;

				snprintf(key, sizeof(key), "%s%lu", pfx, k);
				snprintf(what, sizeof(what), "^PUT key=%s value=", key);
				t0 = bwe_sandbox_now_ms();
				rc = bwe_flc_put(P.c, key, "q", 1, 0, BWE_FLC_LEASE_NONE, NULL) ? 1
												: 0;
				if (!rc)
					rc = wait_for(what, 10, true, true);
				ms[k] = (double)(bwe_sandbox_now_ms() - t0);
			}
			if (!rc && n) {
				qsort(ms, n, sizeof(*ms), cmp_double);
				printf("latency %lu median_ms=%.0f p99_ms=%.0f max_ms=%.0f\n", n,
				       ms[n / 2], ms[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1],
				       ms[n - 1]);
			}
			free(ms);
		} else if (!strcmp(cmd, "creds")) {
			struct bwe_flc_status st;
			char path[64], line[256];
			FILE *f;

			bwe_flc_status(P.c, &st);
			snprintf(path, sizeof(path), "/proc/%d/status", (int)st.pid);
			f = fopen(path, "r");
			while (f && fgets(line, sizeof(line), f))
				if (!strncmp(line, "Uid:", 4) ||
				    !strncmp(line, "NoNewPrivs:", 11) ||
				    !strncmp(line, "Seccomp:", 8) || !strncmp(line, "CapEff:", 7) ||
				    !strncmp(line, "VmData:", 7))
					printf("creds %s", line);
			if (f)
				fclose(f);
		} else {
			printf("fleetprobe: unknown command %s\n", cmd);
			rc = 2;
		}
	}
	bwe_flc_free(P.c);
	return rc;
}
