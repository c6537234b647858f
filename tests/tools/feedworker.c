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

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--violate"))
		return violate(argv[2]);
	if (argc != 1) {
		fprintf(stderr, "usage: feedworker [--violate ptrace|open-write|execve]\n");
		return 2;
	}
	return bwe_feedwork_main(BWE_SANDBOX_FD, NULL) ? 1 : 0;
}
