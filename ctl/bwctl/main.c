// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bwctl - the command analysts and scripts use to talk to bwctld.
 *
 *   bwctl [--json] [--socket PATH] COMMAND [ARGS]
 *
 * main() takes the global options (before the command), picks the command
 * from bwctl_cmds[] (cmds.c) and returns its exit status: 0 done, 1 failed,
 * 2 bad usage or bad input. The manual is bwctl(8).
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bwe_abi.h"
#include "log.h"
#include "proto.h"
#include "client.h"
#include "output.h"
#include "bwctl.h"

#define GLOBAL_SYNOPSIS "bwctl [--json] [--socket PATH]"
#define MSG_LEN		1024

/* ---- messages ------------------------------------------------------------- */

void bwctl_print_synopsis(const struct bwctl_cmd *cmd, bool to_stderr)
{
	FILE *f = to_stderr ? stderr : stdout;

	fprintf(f, "usage: " GLOBAL_SYNOPSIS " %s%s%s\n", cmd->name, *cmd->args ? " " : "",
		cmd->args);
	if (!to_stderr)
		fprintf(f, "%s. See bwctl(8).\n", cmd->help);
}

__attribute__((format(printf, 2, 0))) static void vsay(const struct bwctl *c, const char *fmt,
						       va_list ap)
{
	char msg[MSG_LEN];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (c && c->cmd)
		log_warnx("%s: %s", c->cmd->name, msg);
	else
		log_warnx("%s", msg);
}

int bwctl_error(const struct bwctl *c, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(c, fmt, ap);
	va_end(ap);
	return status;
}

int bwctl_usage_error(const struct bwctl *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(c, fmt, ap);
	va_end(ap);
	if (c && c->cmd)
		bwctl_print_synopsis(c->cmd, true);
	else
		fputs("usage: " GLOBAL_SYNOPSIS
		      " COMMAND [ARGS]; bwctl --help lists the commands\n",
		      stderr);
	return BWCTL_EXIT_USAGE;
}

static void help(void)
{
	printf("usage: " GLOBAL_SYNOPSIS " COMMAND [ARGS]\n\n"
	       "Control bwctld, the inline enforcer against bandwidth hijacking.\n\n"
	       "Commands:\n");
	for (const struct bwctl_cmd *cmd = bwctl_cmds; cmd->name; cmd++)
		printf("  %s%s%s\n      %s\n", cmd->name, *cmd->args ? " " : "", cmd->args,
		       cmd->help);
	printf("\nOptions (before the command):\n"
	       "  -j, --json         print the daemon's result as JSON, unchanged\n"
	       "  -s, --socket PATH  control socket (default $%s, else %s)\n"
	       "  -h, --help         this help; COMMAND -h shows one command\n"
	       "  -V, --version      the version\n\n"
	       "HOST: an IPv4/IPv6 address or CIDR, a MAC address or a host name; bwctld\n"
	       "resolves MACs (its neighbour table) and names (hosts file, then DNS).\n"
	       "quarantine and throttle contain the host by its MAC where the neighbour\n"
	       "table has it (list: BY mac), with every address it has or takes later;\n"
	       "a MAC with more than identity.router_addresses addresses (a router's)\n"
	       "needs --force. quarantine --prefix64: the /64 of each IPv6 address;\n"
	       "release of any address releases the host. CIDR: an address or\n"
	       "network. DUR: 90s, 15m, 12h, 7d (at most 365d). RATE: 10mbit, 500kbit,\n"
	       "2MB/s (bits as tc; B/s for bytes). SIZE: 1500, 64KiB, 1M. allow and\n"
	       "exempt take networks no broader than IPv4 /8 or IPv6 /16. With a fleet\n"
	       "(bwenforce.yaml fleet:) every change reaches the other sites; --local keeps\n"
	       "an entry at this site alone. scope and report ask every site (3 s at most);\n"
	       "--local there answers from this site alone.\n\n"
	       "Roles: root and control_group may run every command; control_readonly_group\n"
	       "may run status, stats, list, top, lookup, report, scope, feeds, export and\n"
	       "fleet status.\n\n"
	       "Exit status: 0 done, 1 failed, 2 bad usage or bad input. See bwctl(8).\n",
	       BWCTL_SOCKET_ENV, BWE_SOCKET_DEFAULT);
}

static const struct bwctl_cmd *find_cmd(const char *name)
{
	for (const struct bwctl_cmd *cmd = bwctl_cmds; cmd->name; cmd++)
		if (!strcmp(cmd->name, name))
			return cmd;
	return NULL;
}

/* ---- main ----------------------------------------------------------------- */

enum { G_JSON = 'j', G_SOCKET = 's', G_HELP = 'h', G_VERSION = 'V' };

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, G_JSON },
		{ "socket", required_argument, NULL, G_SOCKET },
		{ "help", no_argument, NULL, G_HELP },
		{ "version", no_argument, NULL, G_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	struct bwctl c = { .fd = -1 };
	const char *env = getenv(BWCTL_SOCKET_ENV);
	char safe[MSG_LEN];
	int ch, st;

	log_init(1, 0, "bwctl");
	c.socket_path = env && *env ? env : BWE_SOCKET_DEFAULT;
	opterr = 0;
	/* '+': stop at the command; its own options are its own */
	while ((ch = getopt_long(argc, argv, "+:js:hV", longopts, NULL)) != -1) {
		switch (ch) {
		case G_JSON:
			c.json = true;
			break;
		case G_SOCKET:
			if (!*optarg)
				return bwctl_usage_error(NULL, "--socket needs a path");
			c.socket_path = optarg;
			break;
		case G_HELP:
			help();
			return BWCTL_EXIT_OK;
		case G_VERSION:
			printf("bwctl %s (ABI %d)\n", BWCTL_VERSION, BWE_ABI_VERSION);
			return BWCTL_EXIT_OK;
		case ':':
			return bwctl_usage_error(NULL, "option %s needs a value", argv[optind - 1]);
		default:
			out_safe(argv[optind - 1], safe, sizeof(safe));
			if (optopt && optopt != '?')
				return bwctl_usage_error(NULL, "unknown option \"-%c\"", optopt);
			return bwctl_usage_error(NULL, "unknown option \"%s\"", safe);
		}
	}
	out_init(c.json);
	if (optind >= argc)
		return bwctl_usage_error(NULL, "no command given");
	if (!strcmp(argv[optind], "help")) {
		help();
		return BWCTL_EXIT_OK;
	}
	c.cmd = find_cmd(argv[optind]);
	if (!c.cmd) {
		out_safe(argv[optind], safe, sizeof(safe));
		return bwctl_usage_error(NULL, "unknown command \"%s\"", safe);
	}
	c.argv_line = bwctl_join_argv(argc, argv);
	st = c.cmd->run(&c, argc - optind, argv + optind);
	bwctl_disconnect(&c);
	free(c.argv_line);
	return st;
}
