// SPDX-License-Identifier: GPL-2.0-only
/*
 * feedworker.c - the feed worker's entry point for the tests, standing in
 * for "bwctld --feed-worker": started by lib/sandbox.c (already
 * unprivileged), it serves jobs on BWE_SANDBOX_FD.
 *
 *   feedworker                  serve (bwe_feedwork_main)
 *   feedworker --violate WHAT   enter the feed worker's seccomp profile,
 *                               then break it: WHAT = ptrace | open-write |
 *                               execve; must die of SIGSYS
 *   feedworker --garbage        answer the first request with an indicator
 *                               of prefix length 200 (the parent must refuse)
 *
 * Exit status: 0 the parent closed the socket, 1 the worker failed, 2 bad
 * usage, 3 a violation was NOT stopped.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ptrace.h>

#include "feedwork.h"
#include "wire.h"

static int violate(const char *what)
{
	char *const argv[] = { (char *)"true", NULL };
	int err = bwe_sandbox_enter(&bwe_feedwork_seccomp);

	if (err) {
		fprintf(stderr, "feedworker: seccomp: %s\n", strerror(-err));
		return 1;
	}
	if (!strcmp(what, "ptrace"))
		ptrace(PTRACE_TRACEME, 0, NULL, NULL);
	else if (!strcmp(what, "open-write"))
		open("/tmp/feedworker-must-not-exist", O_WRONLY | O_CREAT, 0600);
	else if (!strcmp(what, "execve"))
		execv("/bin/true", argv);
	else
		return 2;
	return 3;
}

static int garbage(void)
{
	struct bwe_wire_result r = { .accepted = 1 };
	struct bwe_job_ind ind = { .line = 1 };
	struct bwe_wire_buf b = { 0 };
	struct bwe_wire_hdr h;
	ssize_t n;

	n = read(BWE_SANDBOX_FD, &h, sizeof(h));
	if (n != (ssize_t)sizeof(h))
		return 1;
	ind.pfx.plen = 200;
	if (bwe_wire_put_frame(&b, BWE_WIRE_RES_RESULT, h.job, &r, sizeof(r)) ||
	    bwe_wire_put_ind(&b, h.job, &ind) ||
	    write(BWE_SANDBOX_FD, b.p, b.len) != (ssize_t)b.len)
		return 1;
	bwe_wire_buf_free(&b);
	pause(); /* the parent kills it */
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--violate"))
		return violate(argv[2]);
	if (argc == 2 && !strcmp(argv[1], "--garbage"))
		return garbage();
	if (argc != 1) {
		fprintf(stderr,
			"usage: feedworker [--violate ptrace|open-write|execve | --garbage]\n");
		return 2;
	}
	return bwe_feedwork_exit_code(bwe_feedwork_main(BWE_SANDBOX_FD, NULL));
}
