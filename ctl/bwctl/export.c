// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * export.c - bwctl export: what bwctld enforces now, for other tools.
 *
 *   bwctl export [--format plain|zeek-intel|stix|json] [--set blocks|quarantine|feeds]
 *                [--feed NAME] [-o FILE]
 *
 * The daemon answers with a stream (lib/proto.h, "Streams"): its data
 * frames go to stdout as they come, or to FILE through a temporary file
 * renamed over it only when the daemon said the output is complete, so a
 * web server that serves FILE as an EDL never serves half a list.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto.h"
#include "client.h"
#include "output.h"
#include "bwctl.h"

#define EXPORT_WAIT_MS (BWE_PROTO_TIMEOUT_MS * 6) /* for each frame of the stream */

enum { VAL_FORMAT = 256, VAL_SET, VAL_FEED, VAL_HELP };

/* Write all of buf to f; 0 or -errno. */
static int put_all(FILE *f, const char *buf, size_t len)
{
	if (len && fwrite(buf, 1, len, f) != len)
		return -(errno ?: EIO);
	return 0;
}

/* Receive the data frames after the stream's header, then its last message. */
static int receive(struct bwctl *c, FILE *f, const char *where, __u64 *entries, __u64 *bytes)
{
	struct json_object *end = NULL, *ok, *res;
	char *buf;
	size_t len;
	int err;

	for (;;) {
		err = bwe_proto_recv_frame(c->fd, BWE_PROTO_CHUNK_MAX, EXPORT_WAIT_MS, &buf, &len);
		if (err)
			return bwctl_error(c, BWCTL_EXIT_FAIL,
					   "the stream from bwctld broke off: %s", strerror(-err));
		if (!len) {
			free(buf);
			break;
		}
		err = put_all(f, buf, len);
		free(buf);
		if (err)
			return bwctl_error(c, BWCTL_EXIT_FAIL, "writing %s: %s", where,
					   strerror(-err));
	}
	err = bwe_proto_recv(c->fd, BWE_PROTO_REPLY_MAX, EXPORT_WAIT_MS, &end);
	if (err)
		return bwctl_error(c, BWCTL_EXIT_FAIL, "no end of the stream from bwctld: %s",
				   strerror(-err));
	ok = out_get(end, "ok");
	if (!json_object_is_type(ok, json_type_boolean) || !json_object_get_boolean(ok)) {
		const char *msg = out_get_str(end, "error");
		char shown[512];

		out_safe(msg ? msg : "failed without saying why", shown, sizeof(shown));
		json_object_put(end);
		return bwctl_error(c, BWCTL_EXIT_FAIL, "incomplete: %s", shown);
	}
	res = out_get(end, "result");
	if (!out_get_u64(res, "entries", entries) || !out_get_u64(res, "bytes", bytes)) {
		json_object_put(end);
		return bwctl_error(c, BWCTL_EXIT_FAIL, "malformed end of the stream from bwctld");
	}
	json_object_put(end);
	return BWCTL_EXIT_OK;
}

int bwctl_run_export(struct bwctl *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, VAL_FORMAT },
		{ "set", required_argument, NULL, VAL_SET },
		{ "feed", required_argument, NULL, VAL_FEED },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, VAL_HELP },
		{ NULL, 0, NULL, 0 },
	};
	const char *format = "plain", *set = "blocks", *feed = NULL, *path = NULL;
	struct json_object *req, *result;
	char *tmp = NULL, shown[80];
	__u64 entries = 0, bytes = 0;
	FILE *f = stdout;
	int opt, st;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+o:h", longopts, NULL)) != -1) {
		switch (opt) {
		case VAL_FORMAT:
			format = optarg;
			break;
		case VAL_SET:
			set = optarg;
			break;
		case VAL_FEED:
			feed = optarg;
			break;
		case 'o':
			path = optarg;
			break;
		case 'h':
		case VAL_HELP:
			bwctl_print_synopsis(c->cmd, false);
			return BWCTL_EXIT_OK;
		default:
			out_safe(argv[optind - 1], shown, sizeof(shown));
			return bwctl_usage_error(c, "unknown option or missing value: %s", shown);
		}
	}
	if (optind < argc) {
		out_safe(argv[optind], shown, sizeof(shown));
		return bwctl_usage_error(c, "unexpected argument \"%s\"", shown);
	}
	if (bwe_export_format_from(format) < 0) {
		out_safe(format, shown, sizeof(shown));
		return bwctl_usage_error(c, "--format \"%s\": plain, zeek-intel, stix or json",
					 shown);
	}
	if (bwe_export_set_from(set) < 0) {
		out_safe(set, shown, sizeof(shown));
		return bwctl_usage_error(c, "--set \"%s\": blocks, quarantine or feeds", shown);
	}
	if (feed && strcmp(set, "feeds"))
		return bwctl_usage_error(c, "--feed goes with --set feeds");
	if (path && !*path)
		return bwctl_usage_error(c, "-o needs a file name");

	req = bwctl_request(c, "export");
	json_object_object_add(req, "format", json_object_new_string(format));
	json_object_object_add(req, "set", json_object_new_string(set));
	if (feed)
		json_object_object_add(req, "feed", json_object_new_string(feed));
	if ((st = bwctl_call(c, req, &result)))
		return st;
	if (!json_object_get_boolean(out_get(result, "stream"))) {
		json_object_put(result);
		return bwctl_error(c, BWCTL_EXIT_FAIL, "bwctld did not answer with a stream");
	}
	json_object_put(result);
	if (path) {
		tmp = out_xmalloc(strlen(path) + 16);
		sprintf(tmp, "%s.tmp.%d", path, (int)getpid());
		f = fopen(tmp, "wx");
		if (!f) {
			st = bwctl_error(c, BWCTL_EXIT_FAIL, "%s: %s", tmp, strerror(errno));
			free(tmp);
			return st;
		}
	}
	st = receive(c, f, path ? tmp : "standard output", &entries, &bytes);
	if (fflush(f) && !st)
		st = bwctl_error(c, BWCTL_EXIT_FAIL, "writing %s: %s",
				 path ? tmp : "standard output", strerror(errno));
	if (path) {
		if (fclose(f) && !st)
			st = bwctl_error(c, BWCTL_EXIT_FAIL, "%s: %s", tmp, strerror(errno));
		if (!st && rename(tmp, path))
			st = bwctl_error(c, BWCTL_EXIT_FAIL, "rename %s to %s: %s", tmp, path,
					 strerror(errno));
		if (st)
			unlink(tmp);
		else
			fprintf(stderr, "bwctl: export: %llu entries, %llu bytes written to %s\n",
				(unsigned long long)entries, (unsigned long long)bytes, path);
		free(tmp);
	}
	bwctl_disconnect(c);
	return st;
}
