// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* proto.c - see proto.h. */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "proto.h"

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				struct pollfd pfd = { .fd = fd, .events = POLLOUT };

				if (poll(&pfd, 1, BWE_PROTO_TIMEOUT_MS) <= 0)
					return -ETIMEDOUT;
				continue;
			}
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int read_all(int fd, void *buf, size_t len, int timeout_ms)
{
	char *p = buf;

	while (len) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;
		int r = poll(&pfd, 1, timeout_ms);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (!r)
			return -ETIMEDOUT;
		n = recv(fd, p, len, 0);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		if (!n)
			return -ECONNRESET;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int bwe_proto_send(int fd, struct json_object *msg)
{
	const char *s = json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN);
	size_t len = strlen(s);
	__u32 hdr;
	int err;

	if (len > BWE_PROTO_REPLY_MAX)
		return -EMSGSIZE;
	hdr = htonl((__u32)len);
	err = write_all(fd, &hdr, sizeof(hdr));
	return err ?: write_all(fd, s, len);
}

int bwe_proto_recv(int fd, size_t max, int timeout_ms, struct json_object **out)
{
	struct json_tokener *tok;
	struct json_object *obj;
	__u32 hdr;
	size_t len;
	char *buf;
	int err;

	*out = NULL;
	err = read_all(fd, &hdr, sizeof(hdr), timeout_ms);
	if (err)
		return err;
	len = ntohl(hdr);
	if (len > max)
		return -EMSGSIZE;
	buf = malloc(len + 1);
	if (!buf)
		return -ENOMEM;
	err = read_all(fd, buf, len, timeout_ms);
	if (err) {
		free(buf);
		return err;
	}
	buf[len] = '\0';
	if (strlen(buf) != len) { /* a NUL inside the message */
		free(buf);
		return -EBADMSG;
	}
	tok = json_tokener_new();
	if (!tok) {
		free(buf);
		return -ENOMEM;
	}
	obj = json_tokener_parse_ex(tok, buf, (int)len);
	if (!obj || json_tokener_get_error(tok) != json_tokener_success ||
	    tok->char_offset != (int)len || !json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		obj = NULL;
	}
	json_tokener_free(tok);
	free(buf);
	if (!obj)
		return -EBADMSG;
	*out = obj;
	return 0;
}

int bwe_proto_connect(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, err;

	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int bwe_proto_call(int fd, struct json_object *req, struct json_object **reply)
{
	int err = bwe_proto_send(fd, req);

	if (err)
		return err;
	return bwe_proto_recv(fd, BWE_PROTO_REPLY_MAX, BWE_PROTO_TIMEOUT_MS * 6, reply);
}

struct json_object *bwe_proto_ok(struct json_object *result)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_object_object_add(o, "result", result ? result : json_object_new_object());
	return o;
}

struct json_object *bwe_proto_err(int status, const char *fmt, ...)
{
	struct json_object *o = json_object_new_object();
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_object_add(o, "ok", json_object_new_boolean(0));
	json_object_object_add(o, "status", json_object_new_int(status));
	json_object_object_add(o, "error", json_object_new_string(msg));
	return o;
}
