// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* proto.c - see proto.h. */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "bwe_util.h"
#include "proto.h"
#include "resolve.h"

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

/* ---- the incremental frame decoder ---------------------------------------- */

void bwe_proto_dec_init(struct bwe_proto_dec *d, size_t max)
{
	memset(d, 0, sizeof(*d));
	d->max = max;
}

void bwe_proto_dec_free(struct bwe_proto_dec *d)
{
	free(d->buf);
	d->buf = NULL;
}

size_t bwe_proto_dec_want(const struct bwe_proto_dec *d)
{
	if (d->got < BWE_PROTO_HDR_LEN)
		return BWE_PROTO_HDR_LEN - d->got;
	if (d->len > d->max)
		return 0;
	return BWE_PROTO_HDR_LEN + d->len - d->got;
}

int bwe_proto_dec_feed(struct bwe_proto_dec *d, const void *data, size_t len, size_t *used)
{
	const __u8 *p = data;
	size_t take;

	*used = 0;
	if (d->got < BWE_PROTO_HDR_LEN) {
		take = BWE_PROTO_HDR_LEN - d->got;
		if (take > len)
			take = len;
		memcpy(d->hdr + d->got, p, take);
		d->got += take;
		*used += take;
		p += take;
		len -= take;
		if (d->got < BWE_PROTO_HDR_LEN)
			return 0;
		d->len = ((size_t)d->hdr[0] << 24) | ((size_t)d->hdr[1] << 16) |
			 ((size_t)d->hdr[2] << 8) | d->hdr[3];
		if (d->len > d->max)
			return -EMSGSIZE;
		d->buf = malloc(d->len + 1);
		if (!d->buf)
			return -ENOMEM;
		d->buf[d->len] = '\0';
	}
	if (d->len > d->max)
		return -EMSGSIZE;
	if (!d->buf)
		return -ENOMEM;
	take = bwe_proto_dec_want(d);
	if (take > len)
		take = len;
	memcpy(d->buf + (d->got - BWE_PROTO_HDR_LEN), p, take);
	d->got += take;
	*used += take;
	return bwe_proto_dec_want(d) ? 0 : 1;
}

/* One JSON object filling exactly len bytes without a NUL, or NULL. */
static struct json_object *parse_object(const char *buf, size_t len)
{
	struct json_tokener *tok;
	struct json_object *obj;

	if (len > INT32_MAX || memchr(buf, '\0', len))
		return NULL;
	tok = json_tokener_new();
	if (!tok)
		return NULL;
	obj = json_tokener_parse_ex(tok, buf, (int)len);
	if (!obj || json_tokener_get_error(tok) != json_tokener_success ||
	    tok->char_offset != (int)len || !json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		obj = NULL;
	}
	json_tokener_free(tok);
	return obj;
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

/* One whole frame into d (initialised by the caller): 1, or -errno. */
static int recv_frame(int fd, int timeout_ms, struct bwe_proto_dec *d)
{
	char chunk[16384];
	int r = 0;

	while (!r) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		size_t want = bwe_proto_dec_want(d), used;
		ssize_t n;
		int pr = poll(&pfd, 1, timeout_ms);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0) {
			r = pr ? -errno : -ETIMEDOUT;
			break;
		}
		n = recv(fd, chunk, want < sizeof(chunk) ? want : sizeof(chunk), 0);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			r = -errno;
			break;
		}
		if (!n) {
			r = -ECONNRESET;
			break;
		}
		r = bwe_proto_dec_feed(d, chunk, (size_t)n, &used);
	}
	return r;
}

int bwe_proto_recv(int fd, size_t max, int timeout_ms, struct json_object **out)
{
	struct bwe_proto_dec d;
	int r;

	*out = NULL;
	bwe_proto_dec_init(&d, max);
	r = recv_frame(fd, timeout_ms, &d);
	if (r == 1) {
		*out = parse_object(d.buf, d.len);
		r = *out ? 0 : -EBADMSG;
	}
	bwe_proto_dec_free(&d);
	return r;
}

int bwe_proto_recv_frame(int fd, size_t max, int timeout_ms, char **buf, size_t *len)
{
	struct bwe_proto_dec d;
	int r;

	*buf = NULL;
	*len = 0;
	bwe_proto_dec_init(&d, max);
	r = recv_frame(fd, timeout_ms, &d);
	if (r == 1) {
		*buf = d.buf;
		*len = d.len;
		d.buf = NULL;
		r = 0;
	}
	bwe_proto_dec_free(&d);
	return r;
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

/* ---- requests ------------------------------------------------------------------ */

static const struct {
	const char *name;
	enum bwe_role role;
	const char *key; /* change commands: the list of prefixes */
	bool add;	 /* change commands: ttl, rate, burst, force */
} cmds[BWE_CMDS] = {
	[BWE_CMD_STATUS] = { "status", BWE_ROLE_READ, NULL, false },
	[BWE_CMD_STATS] = { "stats", BWE_ROLE_READ, NULL, false },
	[BWE_CMD_LIST] = { "list", BWE_ROLE_READ, NULL, false },
	[BWE_CMD_TOP] = { "top", BWE_ROLE_READ, NULL, false },
	[BWE_CMD_LOOKUP] = { "lookup", BWE_ROLE_READ, NULL, false },
	[BWE_CMD_REPORT] = { "report", BWE_ROLE_READ, NULL, false },
	[BWE_CMD_FEEDS] = { "feeds", BWE_ROLE_READ, NULL, false },
	[BWE_CMD_EXPORT] = { "export", BWE_ROLE_READ, NULL, false },
	[BWE_CMD_FLEET_STATUS] = { "fleet_status", BWE_ROLE_READ, NULL, false },
	[BWE_CMD_SCOPE] = { "scope", BWE_ROLE_READ, NULL, false },
	[BWE_CMD_QUARANTINE] = { "quarantine", BWE_ROLE_ADMIN, "hosts", true },
	[BWE_CMD_RELEASE] = { "release", BWE_ROLE_ADMIN, "hosts", false },
	[BWE_CMD_THROTTLE] = { "throttle", BWE_ROLE_ADMIN, "hosts", true },
	[BWE_CMD_UNTHROTTLE] = { "unthrottle", BWE_ROLE_ADMIN, "hosts", false },
	[BWE_CMD_BLOCK] = { "block", BWE_ROLE_ADMIN, "cidrs", true },
	[BWE_CMD_UNBLOCK] = { "unblock", BWE_ROLE_ADMIN, "cidrs", false },
	[BWE_CMD_EXEMPT] = { "exempt", BWE_ROLE_ADMIN, "cidrs", true },
	[BWE_CMD_UNEXEMPT] = { "unexempt", BWE_ROLE_ADMIN, "cidrs", false },
	[BWE_CMD_ALLOW] = { "allow", BWE_ROLE_ADMIN, "cidrs", true },
	[BWE_CMD_UNALLOW] = { "unallow", BWE_ROLE_ADMIN, "cidrs", false },
	[BWE_CMD_ATTACH] = { "attach", BWE_ROLE_ADMIN, NULL, false },
	[BWE_CMD_DETACH] = { "detach", BWE_ROLE_ADMIN, NULL, false },
	[BWE_CMD_FEEDS_REFRESH] = { "feeds_refresh", BWE_ROLE_ADMIN, NULL, false },
	[BWE_CMD_TOKEN_ADD] = { "token_add", BWE_ROLE_ADMIN, NULL, false },
	[BWE_CMD_TOKEN_LIST] = { "token_list", BWE_ROLE_ADMIN, NULL, false },
	[BWE_CMD_TOKEN_REVOKE] = { "token_revoke", BWE_ROLE_ADMIN, NULL, false },
};

static const char *const scope_names[BWE_SCOPES] = { "read", "contain", "block", "admin" };

const char *bwe_scope_name(unsigned int i)
{
	return i < BWE_SCOPES ? scope_names[i] : "?";
}

__u32 bwe_scope_bit(const char *name)
{
	unsigned int i;

	for (i = 0; name && i < BWE_SCOPES; i++)
		if (!strcmp(name, scope_names[i]))
			return 1u << i;
	return 0;
}

struct json_object *bwe_scopes_json(__u32 mask)
{
	struct json_object *a = json_object_new_array();
	unsigned int i;

	for (i = 0; i < BWE_SCOPES; i++)
		if (mask & (1u << i))
			json_object_array_add(a, json_object_new_string(scope_names[i]));
	return a;
}

bool bwe_token_name_ok(const char *s)
{
	size_t i;

	for (i = 0; s && s[i]; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '.' || s[i] == '-'))
			return false;
	return s && i >= 1 && i <= BWE_TOKEN_NAME_MAX;
}

static const char *const list_kinds[] = {
	[BWE_LIST_QUARANTINE] = "quarantine", [BWE_LIST_THROTTLE] = "throttle",
	[BWE_LIST_BLOCKS] = "blocks",	      [BWE_LIST_EXEMPT] = "exempt",
	[BWE_LIST_ALLOW] = "allow",
};
static const char *const top_sorts[] = {
	[BWE_TOP_TX] = "tx",
	[BWE_TOP_RX] = "rx",
	[BWE_TOP_DROPS] = "drops",
	[BWE_TOP_RATE] = "rate",
};

static const char *const export_formats[] = {
	[BWE_EXP_PLAIN] = "plain",
	[BWE_EXP_ZEEK] = "zeek-intel",
	[BWE_EXP_STIX] = "stix",
	[BWE_EXP_JSON] = "json",
};
static const char *const export_sets[] = {
	[BWE_EXP_BLOCKS] = "blocks",
	[BWE_EXP_QUARANTINE] = "quarantine",
	[BWE_EXP_FEEDS] = "feeds",
};
_Static_assert(ARRAY_SIZE(export_formats) == BWE_EXP_FORMATS, "a name per format");
_Static_assert(ARRAY_SIZE(export_sets) == BWE_EXP_SETS, "a name per set");

const char *bwe_export_format_name(enum bwe_export_format f)
{
	return (unsigned int)f < BWE_EXP_FORMATS ? export_formats[f] : "?";
}

const char *bwe_export_set_name(enum bwe_export_set s)
{
	return (unsigned int)s < BWE_EXP_SETS ? export_sets[s] : "?";
}

static int name_index(const char *const *names, size_t n, const char *name)
{
	size_t i;

	for (i = 0; name && i < n; i++)
		if (!strcmp(names[i], name))
			return (int)i;
	return -1;
}

int bwe_export_format_from(const char *name)
{
	return name_index(export_formats, ARRAY_SIZE(export_formats), name);
}

int bwe_export_set_from(const char *name)
{
	return name_index(export_sets, ARRAY_SIZE(export_sets), name);
}

const char *bwe_cmd_name(enum bwe_cmd cmd)
{
	return (unsigned int)cmd < BWE_CMDS ? cmds[cmd].name : "?";
}

enum bwe_role bwe_cmd_role(enum bwe_cmd cmd)
{
	return (unsigned int)cmd < BWE_CMDS ? cmds[cmd].role : BWE_ROLE_ADMIN;
}

const char *bwe_top_sort_name(enum bwe_top_sort sort)
{
	return (unsigned int)sort < ARRAY_SIZE(top_sorts) ? top_sorts[sort] : "tx";
}

const char *bwe_role_name(enum bwe_role role)
{
	switch (role) {
	case BWE_ROLE_READ:
		return "read-only";
	case BWE_ROLE_ADMIN:
		return "admin";
	default:
		return "none";
	}
}

static int req_err(char *err, size_t len, int e, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int req_err(char *err, size_t len, int e, const char *fmt, ...)
{
	va_list ap;

	if (len) {
		va_start(ap, fmt);
		vsnprintf(err, len, fmt, ap);
		va_end(ap);
	}
	return e;
}

/* The string value of key, or NULL when absent, null or of another type. */
static const char *get_str(const struct bwe_request *r, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(r->obj, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

int bwe_request_parse(const char *buf, size_t len, struct bwe_request *r, char *err, size_t errlen)
{
	struct json_object *v;
	char shown[80];
	size_t i;

	memset(r, 0, sizeof(*r));
	r->obj = parse_object(buf, len);
	if (!r->obj)
		return req_err(err, errlen, -EBADMSG, "request is not a JSON object");
	r->argv = get_str(r, "argv");
	if (!json_object_object_get_ex(r->obj, "cmd", &v) ||
	    !json_object_is_type(v, json_type_string)) {
		bwe_request_free(r);
		return req_err(err, errlen, -EINVAL, "request has no \"cmd\"");
	}
	for (i = 0; i < BWE_CMDS; i++)
		if (!strcmp(json_object_get_string(v), cmds[i].name))
			break;
	if (i == BWE_CMDS) {
		bwe_escape_ctl(json_object_get_string(v), shown, sizeof(shown));
		bwe_request_free(r);
		return req_err(err, errlen, -EINVAL, "unknown command \"%s\"", shown);
	}
	r->cmd = (enum bwe_cmd)i;
	return 0;
}

void bwe_request_free(struct bwe_request *r)
{
	if (!r)
		return;
	json_object_put(r->obj);
	free(r->pfx);
	free(r->macs);
	for (size_t i = 0; r->names && i < r->nnames; i++)
		free(r->names[i]);
	free(r->names);
	memset(r, 0, sizeof(*r));
}

/* An optional string argument; present but not a string (nor null) is an error. */
static int arg_str(struct bwe_request *r, const char *key, const char **out, char *err, size_t len)
{
	struct json_object *v;

	*out = NULL;
	if (!json_object_object_get_ex(r->obj, key, &v) || json_object_is_type(v, json_type_null))
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return req_err(err, len, -EINVAL, "%s: %s must be a string", cmds[r->cmd].name,
			       key);
	*out = json_object_get_string(v);
	return 0;
}

static int arg_u64(struct bwe_request *r, const char *key, __u64 *out, __u64 max, bool *given,
		   char *err, size_t len)
{
	struct json_object *v;
	__s64 x;

	*out = 0;
	if (given)
		*given = false;
	if (!json_object_object_get_ex(r->obj, key, &v) || json_object_is_type(v, json_type_null))
		return 0;
	if (!json_object_is_type(v, json_type_int))
		return req_err(err, len, -EINVAL, "%s: %s must be an integer", cmds[r->cmd].name,
			       key);
	errno = 0;
	x = json_object_get_int64(v);
	/* json-c clamps what does not fit an int64 and says so in errno */
	if (x < 0 || errno || (__u64)x > max)
		return req_err(err, len, -EINVAL, "%s: %s %lld is out of range (0..%llu)",
			       cmds[r->cmd].name, key, (long long)x, (unsigned long long)max);
	*out = (__u64)x;
	if (given)
		*given = true;
	return 0;
}

/* Absent or null: false. Otherwise exactly true or false. */
static int arg_bool(struct bwe_request *r, const char *key, bool *out, char *err, size_t len)
{
	struct json_object *v;

	*out = false;
	if (!json_object_object_get_ex(r->obj, key, &v) || json_object_is_type(v, json_type_null))
		return 0;
	if (!json_object_is_type(v, json_type_boolean))
		return req_err(err, len, -EINVAL, "%s: %s must be true or false", cmds[r->cmd].name,
			       key);
	*out = json_object_get_boolean(v);
	return 0;
}

/* One of names (n of them), required. */
static int arg_enum(struct bwe_request *r, const char *key, const char *const *names, size_t n,
		    const char *def, size_t *out, char *err, size_t len)
{
	const char *s;
	size_t i;
	int e = arg_str(r, key, &s, err, len);

	if (e)
		return e;
	if (!s)
		s = def;
	for (i = 0; s && i < n; i++)
		if (!strcmp(s, names[i]))
			break;
	if (!s || i == n) {
		char all[128] = "";

		for (i = 0; i < n; i++)
			snprintf(all + strlen(all), sizeof(all) - strlen(all), "%s%s",
				 i ? (i + 1 == n ? " or " : ", ") : "", names[i]);
		return req_err(err, len, -EINVAL, "%s: %s must be %s", cmds[r->cmd].name, key, all);
	}
	*out = i;
	return 0;
}

/* A host name as the resolver takes it: lower case, no final '.'. NULL: no memory. */
static char *name_dup(const char *s)
{
	char *lc = strdup(s);
	size_t k;

	if (!lc)
		return NULL;
	for (k = 0; lc[k]; k++) /* names are case-blind */
		lc[k] = (char)(lc[k] >= 'A' && lc[k] <= 'Z' ? lc[k] - 'A' + 'a' : lc[k]);
	if (k > 1 && lc[k - 1] == '.')
		lc[k - 1] = '\0';
	return lc;
}

/* report "host", lookup "address": an address, or a MAC address or host name the daemon resolves. */
static int arg_host(struct bwe_request *r, const char *key, char *err, size_t len)
{
	const char *s;
	char shown[80];
	int e = arg_str(r, key, &s, err, len);

	if (e)
		return e;
	if (s && !bwe_addr_parse(s, &r->addr))
		return 0;
	r->macs = calloc(1, sizeof(*r->macs));
	r->names = calloc(1, sizeof(*r->names));
	if (!r->macs || !r->names)
		return req_err(err, len, -ENOMEM, "out of memory");
	if (s && !bwe_mac_parse(s, r->macs[0])) {
		r->nmacs = 1;
		return 0;
	}
	if (s && !bwe_looks_like_address(s) && bwe_looks_like_hostname(s)) {
		r->names[0] = name_dup(s);
		if (!r->names[0])
			return req_err(err, len, -ENOMEM, "out of memory");
		r->nnames = 1;
		return 0;
	}
	bwe_escape_ctl(s ? s : "", shown, sizeof(shown));
	return req_err(err, len, -EINVAL,
		       "%s: \"%s\" is not an IPv4/IPv6 address, MAC address or host name",
		       cmds[r->cmd].name, shown);
}

/* Clear what arg_prefixes left half-typed. */
static void drop_items(struct bwe_request *r)
{
	free(r->pfx);
	free(r->macs);
	for (size_t i = 0; r->names && i < r->nnames; i++)
		free(r->names[i]);
	free(r->names);
	r->pfx = NULL;
	r->macs = NULL;
	r->names = NULL;
	r->n = r->nmacs = r->nnames = 0;
}

/*
 * The "hosts" or "cidrs" list, all or nothing. "hosts" items may also be
 * MAC addresses and host names (the daemon resolves them).
 */
static int arg_prefixes(struct bwe_request *r, const char *key, char *err, size_t len)
{
	const char *name = cmds[r->cmd].name;
	bool hosts = !strcmp(key, "hosts");
	struct json_object *arr;
	size_t i, n;

	if (!json_object_object_get_ex(r->obj, key, &arr) ||
	    !json_object_is_type(arr, json_type_array))
		return req_err(err, len, -EINVAL, "%s: \"%s\" must be a list of addresses", name,
			       key);
	n = json_object_array_length(arr);
	if (!n)
		return req_err(err, len, -EINVAL, "%s: no %s given", name, key);
	if (n > BWE_PROTO_ITEMS_MAX)
		return req_err(err, len, -EINVAL, "%s: %zu %s given; at most %d in one request",
			       name, n, key, BWE_PROTO_ITEMS_MAX);
	r->pfx = calloc(n, sizeof(*r->pfx));
	if (hosts) {
		r->macs = calloc(n, sizeof(*r->macs));
		r->names = calloc(n, sizeof(*r->names));
	}
	if (!r->pfx || (hosts && (!r->macs || !r->names))) {
		drop_items(r);
		return req_err(err, len, -ENOMEM, "out of memory");
	}
	for (i = 0; i < n; i++) {
		struct json_object *v = json_object_array_get_idx(arr, i);
		const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v)
									 : NULL;
		struct bwe_prefix p;
		char shown[80];

		if (s && !bwe_prefix_parse(s, &r->pfx[r->n], 0)) {
			r->n++;
			continue;
		}
		if (hosts && s && !bwe_mac_parse(s, r->macs[r->nmacs])) {
			r->nmacs++;
			continue;
		}
		if (hosts && s && !bwe_looks_like_address(s) && bwe_looks_like_hostname(s)) {
			char *lc = name_dup(s);

			if (!lc) {
				drop_items(r);
				return req_err(err, len, -ENOMEM, "out of memory");
			}
			r->names[r->nnames++] = lc;
			continue;
		}
		bwe_escape_ctl(s ? s : "(not a string)", shown, sizeof(shown));
		drop_items(r);
		if (s && !bwe_prefix_parse(s, &p, BWE_PFX_ZERO))
			return req_err(err, len, -EINVAL,
				       "%s: refusing %s: a /0 covers every address", name, shown);
		if (s && !bwe_prefix_parse(s, &p, BWE_PFX_HOSTBITS))
			return req_err(err, len, -EINVAL,
				       "%s: \"%s\" has host bits set under its mask", name, shown);
		return req_err(err, len, -EINVAL,
			       hosts ? "%s: \"%s\" is not an IPv4/IPv6 address, CIDR, MAC address "
				       "or host name"
				     : "%s: \"%s\" is not an IPv4/IPv6 address or CIDR",
			       name, shown);
	}
	return 0;
}

/* An interface name as the kernel takes it (dev_valid_name): 1..15 bytes, no '/', ':', blank. */
static int arg_ifname(struct bwe_request *r, char *err, size_t len)
{
	const char *s = r->iface;
	char shown[80];
	size_t i;

	if (!s)
		return 0;
	for (i = 0; s[i]; i++)
		if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f || s[i] == '/' || s[i] == ':')
			break;
	if (i && !s[i] && i < BWE_PROTO_IFNAME_MAX && strcmp(s, ".") && strcmp(s, ".."))
		return 0;
	bwe_escape_ctl(s, shown, sizeof(shown));
	return req_err(err, len, -EINVAL, "%s: \"%s\" is not an interface name", cmds[r->cmd].name,
		       shown);
}

/* token_add, token_revoke: "name", required, [A-Za-z0-9_.-]{1,32}. */
static int arg_token_name(struct bwe_request *r, char *err, size_t len)
{
	char shown[80];
	int e = arg_str(r, "name", &r->token, err, len);

	if (e)
		return e;
	if (bwe_token_name_ok(r->token))
		return 0;
	bwe_escape_ctl(r->token ? r->token : "", shown, sizeof(shown));
	return req_err(err, len, -EINVAL,
		       "%s: token name \"%s\" must be 1..%d of A-Z a-z 0-9 _ . -",
		       cmds[r->cmd].name, shown, BWE_TOKEN_NAME_MAX);
}

/* token_add: "scopes", a non-empty list of scope names, each at most once. */
static int arg_scopes(struct bwe_request *r, char *err, size_t len)
{
	struct json_object *arr;
	char shown[80];
	size_t i, n;

	if (!json_object_object_get_ex(r->obj, "scopes", &arr) ||
	    !json_object_is_type(arr, json_type_array) || !(n = json_object_array_length(arr)))
		return req_err(err, len, -EINVAL,
			       "%s: \"scopes\" must be a list of read, contain, block, admin",
			       cmds[r->cmd].name);
	for (i = 0; i < n; i++) {
		struct json_object *v = json_object_array_get_idx(arr, i);
		const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v)
									 : NULL;
		__u32 bit = bwe_scope_bit(s);

		if (!bit || (r->scopes & bit)) {
			bwe_escape_ctl(s ? s : "(not a string)", shown, sizeof(shown));
			r->scopes = 0;
			return req_err(err, len, -EINVAL,
				       bit ? "%s: scope \"%s\" is given twice"
					   : "%s: unknown scope \"%s\" (read, contain, block or admin)",
				       cmds[r->cmd].name, shown);
		}
		r->scopes |= bit;
	}
	return 0;
}

static int request_args(struct bwe_request *r, char *err, size_t len);

int bwe_request_args(struct bwe_request *r, char *err, size_t len)
{
	int e = request_args(r, err, len);

	if (e) /* nothing half-typed stays */
		drop_items(r);
	return e;
}

static int request_args(struct bwe_request *r, char *err, size_t len)
{
	size_t k = 0;
	__u64 n;
	bool given;
	int e = 0;

	if ((unsigned int)r->cmd >= BWE_CMDS || !r->obj)
		return req_err(err, len, -EINVAL, "no request");
	if (cmds[r->cmd].key) {
		if ((e = arg_prefixes(r, cmds[r->cmd].key, err, len)) ||
		    (e = arg_str(r, "reason", &r->reason, err, len)))
			return e;
		if (!cmds[r->cmd].add)
			return 0;
		if ((e = arg_bool(r, "force", &r->force, err, len)) ||
		    (e = arg_bool(r, "local", &r->local, err, len)) ||
		    (!strcmp(cmds[r->cmd].key, "hosts") &&
		     (e = arg_bool(r, "prefix64", &r->prefix64, err, len))) ||
		    (e = arg_u64(r, "ttl", &r->ttl_s, INT64_MAX, NULL, err, len)) ||
		    (e = arg_u64(r, "rate", &r->rate, INT64_MAX, NULL, err, len)) ||
		    (e = arg_u64(r, "burst", &r->burst, INT64_MAX, NULL, err, len)))
			return e;
		return 0;
	}
	switch (r->cmd) {
	case BWE_CMD_LIST:
		/* "block" is what older clients sent */
		if (!strcmp(get_str(r, "kind") ?: "", "block")) {
			r->kind = BWE_LIST_BLOCKS;
			return 0;
		}
		e = arg_enum(r, "kind", list_kinds, ARRAY_SIZE(list_kinds), NULL, &k, err, len);
		r->kind = (enum bwe_list_kind)k;
		return e;
	case BWE_CMD_TOP:
		if ((e = arg_u64(r, "n", &n, BWE_PROTO_TOP_MAX, &given, err, len)))
			return e;
		r->top_n = given ? (__u32)n : BWE_PROTO_TOP_N;
		e = arg_enum(r, "sort", top_sorts, ARRAY_SIZE(top_sorts), "tx", &k, err, len);
		r->sort = (enum bwe_top_sort)k;
		return e;
	case BWE_CMD_LOOKUP:
		return arg_host(r, "address", err, len);
	case BWE_CMD_REPORT:
		if ((e = arg_bool(r, "local", &r->local, err, len)))
			return e;
		return arg_host(r, "host", err, len);
	case BWE_CMD_SCOPE:
		if ((e = arg_u64(r, "since", &r->since_s, BWE_PROTO_SCOPE_SINCE_MAX, &given, err,
				 len)))
			return e;
		if (given && !r->since_s)
			return req_err(err, len, -EINVAL, "scope: since must be 1..%llu seconds",
				       BWE_PROTO_SCOPE_SINCE_MAX);
		if ((e = arg_bool(r, "local", &r->local, err, len)))
			return e;
		return arg_host(r, "host", err, len);
	case BWE_CMD_ATTACH:
	case BWE_CMD_DETACH:
		if ((e = arg_str(r, "iface", &r->iface, err, len)) ||
		    (e = arg_str(r, "mode", &r->mode, err, len)))
			return e;
		return arg_ifname(r, err, len);
	case BWE_CMD_FEEDS_REFRESH:
		return arg_str(r, "name", &r->feed, err, len);
	case BWE_CMD_TOKEN_ADD:
		if ((e = arg_token_name(r, err, len)))
			return e;
		return arg_scopes(r, err, len);
	case BWE_CMD_TOKEN_REVOKE:
		return arg_token_name(r, err, len);
	case BWE_CMD_EXPORT:
		if ((e = arg_enum(r, "format", export_formats, ARRAY_SIZE(export_formats), "plain",
				  &k, err, len)))
			return e;
		r->exp_format = (enum bwe_export_format)k;
		if ((e = arg_enum(r, "set", export_sets, ARRAY_SIZE(export_sets), "blocks", &k, err,
				  len)))
			return e;
		r->exp_set = (enum bwe_export_set)k;
		if ((e = arg_str(r, "feed", &r->feed, err, len)))
			return e;
		if (r->feed && r->exp_set != BWE_EXP_FEEDS)
			return req_err(err, len, -EINVAL,
				       "\"feed\" goes with the set \"feeds\" only");
		return 0;
	default:
		return 0;
	}
}

void bwe_escape_ctl(const char *s, char *out, size_t outlen)
{
	size_t o = 0;

	if (!outlen)
		return;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[5];
		size_t n;

		if (c < 0x20 || c == 0x7f)
			n = (size_t)snprintf(esc, sizeof(esc), "\\x%02x", c);
		else if (c == '\\')
			n = (size_t)snprintf(esc, sizeof(esc), "\\\\");
		else
			esc[0] = (char)c, n = 1;
		if (o + n >= outlen)
			break;
		memcpy(out + o, esc, n);
		o += n;
	}
	/* never end inside a UTF-8 sequence */
	if (*s)
		while (o && ((unsigned char)out[o - 1] & 0xc0) == 0x80)
			o--;
	if (*s && o && ((unsigned char)out[o - 1] & 0xc0) == 0xc0)
		o--;
	out[o] = '\0';
}
