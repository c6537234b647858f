// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_feeddns.c - the feed worker's RESOLVE against a DNS server that
 * never answers: the worker (build/tools/feedworker under lib/sandbox.c)
 * gives up on each name within its own bound (lib/feedwork.c: 2 tries of
 * 2 s, no AAAA query after a timed-out A query), so the parent
 * (lib/fwclient.c, BWE_FWC_RESOLVE_S per name plus the grace) never takes
 * it for hung and kills it; and freeing the client ends a worker that is
 * waiting on such a server at once.
 *
 * Needs root: it makes a network and a mount namespace of its own, where
 * 127.0.0.1:53 is a UDP socket that reads and never replies and
 * /etc/resolv.conf names it. Run from the repository root.
 */
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "fwclient.h"
#include "sandbox.h"
#include "wire.h"
#include "fwc_harness.h"

#define GRACE_S	    1 /* the parent's grace beyond BWE_FWC_RESOLVE_S per name */
#define SILENT_NAME "silent.example"
#define NAMES	    2

static char resolv[] = "/tmp/bwe-test-feeddns.XXXXXX";
static int silent_fd = -1;

/* Run the loop as the daemon does until the job ended or max_ms passed. */
static char *const worker_argv[] = { (char *)"feedworker", NULL };

static void h_run(struct harness *h, __u64 max_ms)
{
	__u64 end = bwe_sandbox_now_ms() + max_ms;

	while (!h->n && bwe_sandbox_now_ms() < end)
		h_turn(h, 100);
}

static int lo_up(void)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		err = -errno;
	ifr.ifr_flags |= IFF_UP;
	if (!err && ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		err = -errno;
	close(fd);
	return err;
}

static int setup(void **state)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(53),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	FILE *f;
	int fd;

	(void)state;
	if (unshare(CLONE_NEWNET | CLONE_NEWNS) ||
	    mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) || lo_up()) {
		fprintf(stderr, "test_feeddns: needs root for namespaces: %s\n", strerror(errno));
		return -1;
	}
	/* the server that never answers: a bound socket nobody reads from */
	silent_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (silent_fd < 0 || bind(silent_fd, (struct sockaddr *)&a, sizeof(a)))
		return -1;
	fd = mkstemp(resolv);
	if (fd < 0)
		return -1;
	f = fdopen(fd, "w");
	if (!f)
		return -1;
	fprintf(f, "nameserver 127.0.0.1\n");
	fclose(f);
	if (chmod(resolv, 0644) || mount(resolv, "/etc/resolv.conf", NULL, MS_BIND, NULL))
		return -1;
	unsetenv("RES_OPTIONS"); /* the worker's own bound, not the environment's */
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	umount("/etc/resolv.conf");
	unlink(resolv);
	if (silent_fd >= 0)
		close(silent_fd);
	return 0;
}

/*
 * Two names: the parent allows GRACE_S + 2 * BWE_FWC_RESOLVE_S = 21 s.
 * glibc's default (5 s, 2 tries, A then AAAA) needs 40 s and gets the
 * worker killed as hung; the worker's bound answers in about 8 s.
 */
static void test_silent_server_does_not_get_the_worker_killed(void **state)
{
	static const char *const names[NAMES] = { SILENT_NAME, "also-" SILENT_NAME };
	struct bwe_job_req req = { .kind = BWE_JOB_RESOLVE, .names = names, .n_names = NAMES };
	struct harness h = { 0 };
	struct bwe_fwc_status st;
	__u64 t0, ms;

	(void)state;
	h_start(&h, worker_argv, GRACE_S);
	t0 = bwe_sandbox_now_ms();
	assert_int_equal(bwe_fwc_submit(h.c, &req, NULL, NULL), 0);
	h_run(&h, (GRACE_S + NAMES * BWE_FWC_RESOLVE_S + 5) * 1000ULL);
	ms = bwe_sandbox_now_ms() - t0;
	printf("RESOLVE of %d names on a silent server: %llu ms\n", NAMES, (unsigned long long)ms);
	assert_int_equal(h.n, 1);
	if (h.res[0].status)
		fail_msg("the job failed after %llu ms: %d %s", (unsigned long long)ms,
			 h.res[0].status, h.res[0].error);
	assert_int_equal(h.res[0].n_answers, NAMES);
	assert_int_equal(h.res[0].answers[0].n_addrs, 0);
	bwe_fwc_status(h.c, &st);
	assert_int_equal(st.restarts, 0);
	assert_true(ms < (GRACE_S + NAMES * BWE_FWC_RESOLVE_S) * 1000ULL);
	bwe_job_result_free(&h.res[0]);
	bwe_fwc_free(h.c);
	close(h.ep);
}

/* Freeing the client (bwctld's shutdown) while the worker waits: at once. */
static void test_free_while_resolving_is_prompt(void **state)
{
	static const char *const names[] = { SILENT_NAME };
	struct bwe_job_req req = { .kind = BWE_JOB_RESOLVE, .names = names, .n_names = 1 };
	struct harness h = { 0 };
	__u64 t0, ms;

	(void)state;
	h_start(&h, worker_argv, GRACE_S);
	assert_int_equal(bwe_fwc_submit(h.c, &req, NULL, NULL), 0);
	h_run(&h, 1000); /* the request is sent; the worker waits for an answer */
	assert_int_equal(h.n, 0);
	t0 = bwe_sandbox_now_ms();
	bwe_fwc_free(h.c);
	ms = bwe_sandbox_now_ms() - t0;
	printf("bwe_fwc_free while resolving: %llu ms\n", (unsigned long long)ms);
	assert_true(ms < 1000);
	close(h.ep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_silent_server_does_not_get_the_worker_killed),
		cmocka_unit_test(test_free_while_resolving_is_prompt),
	};

	return cmocka_run_group_tests_name("feeddns", tests, setup, teardown);
}
