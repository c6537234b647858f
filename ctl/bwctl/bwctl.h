/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * bwctl.h - what the files of bwctl share: the invocation context, exit
 * statuses and the command table. Only ctl/bwctl/ includes this file.
 *
 * Roles: main.c parses the global options and dispatches; opts.c parses a
 * command's options and checks its input (nothing is sent until every
 * argument is good); client.c talks to bwctld (lib/proto.h); cmds.c builds
 * each request; render.c turns each result into text; output.c holds the
 * printing helpers (one call serves text and --json); top.c is the live view.
 */
#ifndef BWCTL_H
#define BWCTL_H

#include <stdbool.h>

#include "bwe_version.h"

#define BWCTL_VERSION	 BWE_VERSION
#define BWCTL_SOCKET_ENV "BWCTL_SOCKET" /* overrides the default socket */

enum bwctl_exit {
	BWCTL_EXIT_OK = 0,    /* done */
	BWCTL_EXIT_FAIL = 1,  /* the daemon failed, or cannot be reached */
	BWCTL_EXIT_USAGE = 2, /* bad usage or bad input: nothing was changed */
};

struct bwctl_cmd;

struct bwctl {
	const char *socket_path;
	bool json;		     /* --json: print the daemon's result as is */
	char *argv_line;	     /* the command line, sent as "argv" */
	const struct bwctl_cmd *cmd; /* the command being run */
	int fd;			     /* connection to bwctld, -1 until needed */
};

/* argv[0] is the command's own name; returns an exit status. */
typedef int (*bwctl_run_fn)(struct bwctl *c, int argc, char **argv);

struct bwctl_cmd {
	const char *name;
	bwctl_run_fn run;
	const char *args; /* synopsis after the name */
	const char *help; /* one line for --help */
	const void *desc; /* command-specific description, or NULL */
};

/* The table of commands (cmds.c), ended by a NULL name. */
extern const struct bwctl_cmd bwctl_cmds[];
/* bwctl export (export.c): a stream from the daemon to stdout or a file. */
int bwctl_run_export(struct bwctl *c, int argc, char **argv);

/*
 * Report bad usage of the current command: "bwctl: CMD: message" and its
 * synopsis on stderr. Returns BWCTL_EXIT_USAGE.
 */
int bwctl_usage_error(const struct bwctl *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* "bwctl: CMD: message" on stderr; returns status. */
int bwctl_error(const struct bwctl *c, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The synopsis of one command ("usage: bwctl [OPTIONS] quarantine ..."). */
void bwctl_print_synopsis(const struct bwctl_cmd *cmd, bool to_stderr);

#endif /* BWCTL_H */
