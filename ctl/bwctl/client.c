// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * client.c - requests to bwctld and their replies; see client.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "proto.h"
#include "output.h"
#include "client.h"

#define ELLIPSIS "..."
#define MS_PER_S 1000

struct json_object *bwctl_request(const struct bwctl *c, const char *cmd)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		fatalx("out of memory");
	json_object_object_add(o, "cmd", json_object_new_string(cmd));
	json_object_object_add(o, "argv", json_object_new_string(c->argv_line));
	return o;
}

char *bwctl_join_argv(int argc, char **argv)
{
	size_t len = strlen(program_invocation_short_name) + 1, o;
	char *line, *safe;

	for (int i = 1; i < argc; i++)
		len += strlen(argv[i]) + 1;
	line = out_xmalloc(len);
	o = (size_t)sprintf(line, "%s", program_invocation_short_name);
	for (int i = 1; i < argc; i++)
		o += (size_t)sprintf(line + o, " %s", argv[i]);
	if (o > BWCTL_ARGV_MAX) {
		/* cut on a character boundary: never inside a UTF-8 sequence */
		o = BWCTL_ARGV_MAX - strlen(ELLIPSIS);
		while (o && ((unsigned char)line[o] & 0xc0) == 0x80)
			o--;
		strcpy(line + o, ELLIPSIS);
	}
	/* JSON wants valid UTF-8; the audit log wants one line */
	safe = out_xmalloc(strlen(line) + 1);
	out_safe(line, safe, strlen(line) + 1);
	free(line);
	return safe;
}

void bwctl_disconnect(struct bwctl *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

static int connect_daemon(struct bwctl *c)
{
	int fd = bwe_proto_connect(c->socket_path);

	if (fd < 0) {
		log_warnx("cannot connect to bwctld at %s: %s%s", c->socket_path, strerror(-fd),
			  fd == -EACCES ? " (root, control_group and control_readonly_group only)"
					: "");
		return BWCTL_EXIT_FAIL;
	}
	c->fd = fd;
	return BWCTL_EXIT_OK;
}

static int transport_error(const struct bwctl *c, int err)
{
	switch (err) {
	case -ETIMEDOUT:
		log_warnx("bwctld at %s did not answer within %d s", c->socket_path,
			  BWE_PROTO_TIMEOUT_MS * 6 / MS_PER_S);
		break;
	case -ECONNRESET:
	case -EPIPE:
		log_warnx("bwctld at %s closed the connection without a reply", c->socket_path);
		break;
	case -EBADMSG:
		log_warnx("malformed reply from bwctld at %s", c->socket_path);
		break;
	case -EMSGSIZE:
		log_warnx("reply from bwctld at %s is too large", c->socket_path);
		break;
	default:
		log_warnx("talking to bwctld at %s: %s", c->socket_path, strerror(-err));
		break;
	}
	return BWCTL_EXIT_FAIL;
}

/* An error reply: print it, return its status (1 unless it says 2). */
static int reply_error(const struct bwctl *c, struct json_object *reply)
{
	const char *msg = out_get_str(reply, "error");
	__u64 st = BWE_ST_FAILED;
	char *safe;

	if (!out_get_u64(reply, "status", &st) || st != BWE_ST_BADINPUT)
		st = BWE_ST_FAILED;
	if (!msg || !*msg) {
		log_warnx("bwctld at %s failed without saying why", c->socket_path);
		return (int)st;
	}
	safe = out_xmalloc(strlen(msg) + 1);
	out_safe(msg, safe, strlen(msg) + 1);
	log_warnx("%s", safe);
	free(safe);
	return (int)st;
}

int bwctl_call(struct bwctl *c, struct json_object *req, struct json_object **result)
{
	struct json_object *reply = NULL, *ok, *res;
	size_t len;
	int err;

	*result = NULL;
	len = strlen(json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN));
	if (len > BWE_PROTO_REQ_MAX) {
		json_object_put(req);
		return bwctl_error(
			c, BWCTL_EXIT_USAGE,
			"request too large (%zu bytes, the limit is %d): give fewer arguments at a time",
			len, BWE_PROTO_REQ_MAX);
	}
	if (c->fd < 0 && (err = connect_daemon(c))) {
		json_object_put(req);
		return err;
	}
	err = bwe_proto_call(c->fd, req, &reply);
	json_object_put(req);
	if (err) {
		bwctl_disconnect(c);
		return transport_error(c, err);
	}

	ok = out_get(reply, "ok");
	if (!json_object_is_type(ok, json_type_boolean)) {
		json_object_put(reply);
		bwctl_disconnect(c);
		return transport_error(c, -EBADMSG);
	}
	if (!json_object_get_boolean(ok)) {
		err = reply_error(c, reply);
		json_object_put(reply);
		return err;
	}
	if (json_object_object_get_ex(reply, "result", &res))
		*result = json_object_get(res); /* NULL for a JSON null */
	else
		*result = json_object_new_object();
	json_object_put(reply);
	return BWCTL_EXIT_OK;
}
