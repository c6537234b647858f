// SPDX-License-Identifier: GPL-2.0-only
/*
 * control.c - the control socket (layer 6): peer credentials, request
 * parsing, and the dispatch of commands. Arguments are checked for their
 * shape here; every change then goes through the one transaction (ops.h),
 * which applies the same guards to every actor, so bad input changes
 * nothing; every request is logged with its actor.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "control.h"
#include "log.h"
#include "proto.h"
#include "util.h"

#define CTL_BACKLOG    16
#define CTL_RECV_MS    2000	     /* a client must send its request within this */
#define CTL_ITEMS_MAX  OPS_ITEMS_MAX /* hosts or CIDRs in one request */
#define CTL_GROUPS_MAX 256
#define TOP_DEFAULT    20
#define TOP_MAX	       100000

struct control {
	struct control_deps d;
	int fd;
};

struct request {
	struct control *c;
	struct json_object *req;
	struct actor who;
	const char *cmd;
};

static struct json_object *bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static struct json_object *bad(const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return bwe_proto_err(BWE_ST_BADINPUT, "%s", msg);
}

int control_open(struct control **out, const struct control_deps *deps)
{
	const struct bwe_cfgfile *cfg = *deps->q.cfg;
	const char *path = cfg->paths.socket;
	struct control *c;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char dir[sizeof(sun.sun_path)];
	char *slash;
	int fd, err;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		log_warnx("socket path %s is too long", path);
		return -ENAMETOOLONG;
	}
	strcpy(sun.sun_path, path);
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) && errno != EEXIST)
			log_warn("mkdir %s", dir);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* A socket left by a killed daemon is stale: only one daemon may listen. */
	if (!access(path, F_OK)) {
		int probe = bwe_proto_connect(path);

		if (probe >= 0) {
			close(probe);
			close(fd);
			log_warnx("another bwctld is listening on %s", path);
			return -EADDRINUSE;
		}
		unlink(path);
	}
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) || listen(fd, CTL_BACKLOG)) {
		err = -errno;
		log_warn("control socket %s", path);
		close(fd);
		return err;
	}
	if (cfg->control_group) {
		struct group *g = getgrnam(cfg->control_group);

		if (!g || chown(path, 0, g->gr_gid))
			log_warnx("control_group %s: no such group; socket is root-only",
				  cfg->control_group);
		chmod(path, g ? 0660 : 0600);
	} else {
		chmod(path, 0600);
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		unlink(path);
		return -ENOMEM;
	}
	c->d = *deps;
	c->fd = fd;
	*out = c;
	return 0;
}

void control_close(struct control *c)
{
	if (!c)
		return;
	close(c->fd);
	unlink((*c->d.q.cfg)->paths.socket);
	free(c);
}

int control_fd(const struct control *c)
{
	return c->fd;
}

static bool peer_allowed(struct control *c, const struct ucred *cr, char *why, size_t len)
{
	const struct bwe_cfgfile *cfg = *c->d.q.cfg;
	struct passwd *pw;
	struct group *g;
	gid_t groups[CTL_GROUPS_MAX];
	int ng = CTL_GROUPS_MAX, i;

	if (cr->uid == 0)
		return true;
	g = cfg->control_group ? getgrnam(cfg->control_group) : NULL;
	if (g) {
		if (cr->gid == g->gr_gid)
			return true;
		pw = getpwuid(cr->uid);
		if (pw && getgrouplist(pw->pw_name, pw->pw_gid, groups, &ng) >= 0)
			for (i = 0; i < ng; i++)
				if (groups[i] == g->gr_gid)
					return true;
	}
	snprintf(why, len, "permission denied: uid %u is not root%s%s", (unsigned)cr->uid,
		 g ? " and not in group " : "", g ? g->gr_name : "");
	return false;
}

/* ---- argument helpers ---------------------------------------------------- */

static const char *arg_str(struct request *r, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(r->req, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* Reason: optional string of at most ST_REASON_MAX - 1 bytes without control chars. */
/* Reason: an optional string; its length and bytes are the transaction's to judge. */
static struct json_object *arg_reason(struct request *r, const char **out)
{
	struct json_object *v;

	*out = NULL;
	if (!json_object_object_get_ex(r->req, "reason", &v) ||
	    json_object_is_type(v, json_type_null))
		return NULL;
	if (!json_object_is_type(v, json_type_string))
		return bad("%s: reason must be a string", r->cmd);
	*out = json_object_get_string(v);
	return NULL;
}

static struct json_object *arg_u64(struct request *r, const char *key, __u64 *out, __u64 max,
				   bool *given)
{
	struct json_object *v;
	__s64 x;

	*out = 0;
	if (given)
		*given = false;
	if (!json_object_object_get_ex(r->req, key, &v) || json_object_is_type(v, json_type_null))
		return NULL;
	if (!json_object_is_type(v, json_type_int))
		return bad("%s: %s must be an integer", r->cmd, key);
	errno = 0;
	x = json_object_get_int64(v);
	if (x < 0 || errno || (__u64)x > max)
		return bad("%s: %s %lld is out of range (0..%llu)", r->cmd, key, (long long)x,
			   (unsigned long long)max);
	*out = (__u64)x;
	if (given)
		*given = true;
	return NULL;
}

static bool arg_bool(struct request *r, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(r->req, key, &v) && json_object_get_boolean(v);
}

/* Parse the "hosts" or "cidrs" array, all or nothing. */
static struct json_object *arg_prefixes(struct request *r, const char *key, struct bwe_prefix **out,
					size_t *n)
{
	struct json_object *arr;
	size_t i, len;

	*out = NULL;
	*n = 0;
	if (!json_object_object_get_ex(r->req, key, &arr) ||
	    !json_object_is_type(arr, json_type_array))
		return bad("%s: \"%s\" must be a list of addresses", r->cmd, key);
	len = json_object_array_length(arr);
	if (!len)
		return bad("%s: no %s given", r->cmd, key);
	if (len > CTL_ITEMS_MAX)
		return bad("%s: %zu %s given; at most %d in one request", r->cmd, len, key,
			   CTL_ITEMS_MAX);
	*out = calloc(len, sizeof(**out));
	if (!*out)
		return bwe_proto_err(BWE_ST_FAILED, "out of memory");
	for (i = 0; i < len; i++) {
		struct json_object *v = json_object_array_get_idx(arr, i);
		const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v)
									 : NULL;
		int err;

		if (!s)
			err = -EINVAL;
		else
			err = bwe_prefix_parse(s, &(*out)[i], 0);
		if (err) {
			struct json_object *e;
			char shown[80];

			snprintf(shown, sizeof(shown), "%s", s ? s : "(not a string)");
			if (s && !bwe_prefix_parse(s, &(*out)[i], BWE_PFX_ZERO))
				e = bad("%s: refusing %s: a /0 covers every address", r->cmd,
					shown);
			else if (s && !bwe_prefix_parse(s, &(*out)[i], BWE_PFX_HOSTBITS))
				e = bad("%s: \"%s\" has host bits set under its mask", r->cmd,
					shown);
			else
				e = bad("%s: \"%s\" is not an IPv4/IPv6 address or CIDR", r->cmd,
					shown);
			free(*out);
			*out = NULL;
			return e;
		}
	}
	*n = len;
	return NULL;
}

/* ---- state-changing commands ---------------------------------------------- */

/* The transaction's answer as a reply: refusals are bad input, the rest failures. */
static struct json_object *apply(struct request *r, const struct op_request *op)
{
	struct json_object *changed = NULL, *res;
	char err[OPS_ERR_LEN];
	int e = ops_apply(r->c->d.ops, op, &changed, err, sizeof(err));

	if (e == -EINVAL || e == -EPERM)
		return bwe_proto_err(BWE_ST_BADINPUT, "%s", err);
	if (e)
		return bwe_proto_err(BWE_ST_FAILED, "%s", err);
	res = json_object_new_object();
	json_object_object_add(res, "changed", changed);
	return bwe_proto_ok(res);
}

/*
 * Arguments are checked for their type here; their values (reason, TTL,
 * rate, burst, and the guards) are checked by the transaction, the same
 * for every actor.
 */
static struct json_object *cmd_change(struct request *r, enum st_kind kind, const char *key,
				      enum op_verb verb)
{
	struct op_request op = { .action = r->cmd, .verb = verb, .kind = kind, .who = &r->who };
	struct bwe_prefix *p = NULL;
	struct json_object *e;

	if ((e = arg_prefixes(r, key, &p, &op.n)) || (e = arg_reason(r, &op.reason)))
		goto out;
	op.pfx = p;
	if (verb == OP_ADD) {
		op.force = arg_bool(r, "force");
		if ((e = arg_u64(r, "ttl", &op.ttl_s, INT64_MAX, NULL)) ||
		    (e = arg_u64(r, "rate", &op.rate, INT64_MAX, NULL)) ||
		    (e = arg_u64(r, "burst", &op.burst, INT64_MAX, NULL)))
			goto out;
	}
	e = apply(r, &op);
out:
	free(p);
	return e;
}

static struct json_object *cmd_list(struct request *r)
{
	static const struct {
		const char *name;
		enum st_kind k;
	} kinds[] = {
		{ "quarantine", ST_QUARANTINE }, { "throttle", ST_THROTTLE },
		{ "blocks", ST_BLOCK },		 { "block", ST_BLOCK },
		{ "exempt", ST_EXEMPT },	 { "allow", ST_ALLOW },
	};
	const char *kind = arg_str(r, "kind");
	struct json_object *arr;
	size_t i, j;

	for (j = 0; kind && j < ARRAY_SIZE(kinds); j++)
		if (!strcmp(kind, kinds[j].name))
			break;
	if (!kind || j == ARRAY_SIZE(kinds))
		return bad("list: kind must be quarantine, throttle, blocks, exempt or allow");
	arr = json_object_new_array();
	for (i = 0; i < st_count(r->c->d.q.st); i++)
		if (st_at(r->c->d.q.st, i)->kind == kinds[j].k)
			json_object_array_add(arr, st_entry_json(st_at(r->c->d.q.st, i)));
	return bwe_proto_ok(arr);
}

static struct json_object *cmd_top(struct request *r)
{
	const char *sort = arg_str(r, "sort");
	struct json_object *e;
	__u64 n;
	bool given;

	if ((e = arg_u64(r, "n", &n, TOP_MAX, &given)))
		return e;
	if (!given)
		n = TOP_DEFAULT;
	if (!sort)
		sort = "tx";
	if (strcmp(sort, "tx") && strcmp(sort, "rx") && strcmp(sort, "drops") &&
	    strcmp(sort, "rate"))
		return bad("top: sort must be tx, rx, drops or rate");
	return bwe_proto_ok(query_top(&r->c->d.q, (int)n, sort));
}

static struct json_object *cmd_lookup(struct request *r)
{
	const char *s = arg_str(r, "address");
	struct bwe_addr a;

	if (!s || bwe_addr_parse(s, &a))
		return bad("lookup: \"%s\" is not an IPv4/IPv6 address", s ? s : "");
	return bwe_proto_ok(query_lookup(&r->c->d.q, &a));
}

static struct json_object *cmd_iface(struct request *r, bool attach)
{
	const char *name = arg_str(r, "iface");
	struct json_object *res = NULL;
	char err[IFACES_ERR_LEN];
	int e = attach ? ifaces_attach(r->c->d.q.ifaces, name, arg_str(r, "mode"), &r->who, &res,
				       err, sizeof(err))
		       : ifaces_detach(r->c->d.q.ifaces, name, &r->who, &res, err, sizeof(err));

	if (e == -EINVAL)
		return bwe_proto_err(BWE_ST_BADINPUT, "%s", err);
	if (e)
		return bwe_proto_err(BWE_ST_FAILED, "%s", err);
	return bwe_proto_ok(res);
}

static struct json_object *cmd_report(struct request *r)
{
	const char *s = arg_str(r, "host");
	struct bwe_addr a;

	if (!s || bwe_addr_parse(s, &a))
		return bad("report: \"%s\" is not an IPv4/IPv6 address", s ? s : "");
	hosts_sample(r->c->d.q.hosts);
	return bwe_proto_ok(detector_report(r->c->d.detector, &a));
}

static struct json_object *cmd_feeds_refresh(struct request *r)
{
	const char *name = arg_str(r, "name");
	struct json_object *names = json_object_new_array(), *res;

	if (feeds_refresh(r->c->d.q.feeds, name, names)) {
		json_object_put(names);
		return bad("feeds refresh: no feed named \"%.64s\"", name);
	}
	log_info("feeds refreshed for uid %u", r->who.uid);
	res = json_object_new_object();
	json_object_object_add(res, "refreshed", names);
	return bwe_proto_ok(res);
}

static struct json_object *dispatch(struct request *r)
{
	static const struct {
		const char *cmd;
		enum st_kind kind;
		const char *key;
		bool add;
	} edits[] = {
		{ "quarantine", ST_QUARANTINE, "hosts", true },
		{ "release", ST_QUARANTINE, "hosts", false },
		{ "throttle", ST_THROTTLE, "hosts", true },
		{ "unthrottle", ST_THROTTLE, "hosts", false },
		{ "block", ST_BLOCK, "cidrs", true },
		{ "unblock", ST_BLOCK, "cidrs", false },
		{ "exempt", ST_EXEMPT, "cidrs", true },
		{ "unexempt", ST_EXEMPT, "cidrs", false },
		{ "allow", ST_ALLOW, "cidrs", true },
		{ "unallow", ST_ALLOW, "cidrs", false },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(edits); i++)
		if (!strcmp(r->cmd, edits[i].cmd))
			return cmd_change(r, edits[i].kind, edits[i].key,
					  edits[i].add ? OP_ADD : OP_DEL);
	if (!strcmp(r->cmd, "status"))
		return bwe_proto_ok(query_status(&r->c->d.q));
	if (!strcmp(r->cmd, "stats")) {
		struct json_object *s = query_stats(&r->c->d.q);

		return s ? bwe_proto_ok(s)
			 : bwe_proto_err(BWE_ST_FAILED, "stats: cannot read counters");
	}
	if (!strcmp(r->cmd, "list"))
		return cmd_list(r);
	if (!strcmp(r->cmd, "top"))
		return cmd_top(r);
	if (!strcmp(r->cmd, "lookup"))
		return cmd_lookup(r);
	if (!strcmp(r->cmd, "attach"))
		return cmd_iface(r, true);
	if (!strcmp(r->cmd, "detach"))
		return cmd_iface(r, false);
	if (!strcmp(r->cmd, "report"))
		return cmd_report(r);
	if (!strcmp(r->cmd, "feeds"))
		return bwe_proto_ok(feeds_list_json(r->c->d.q.feeds));
	if (!strcmp(r->cmd, "feeds_refresh"))
		return cmd_feeds_refresh(r);
	return bad("unknown command \"%.64s\"", r->cmd);
}

/* The peer as a typed actor; argv is what the client says it ran (shown, not trusted). */
static void describe_actor(struct actor *who, const struct ucred *cr, const char *argv)
{
	struct passwd *pw = getpwuid(cr->uid);
	char shown[96];
	size_t i;

	snprintf(shown, sizeof(shown), "%s", argv ? argv : "");
	for (i = 0; shown[i]; i++)
		if ((unsigned char)shown[i] < 0x20)
			shown[i] = '?';
	actor_set(who, ACTOR_OPERATOR, pw ? pw->pw_name : "?", shown);
	who->uid = cr->uid;
	who->pid = cr->pid;
}

void control_accept(struct control *c)
{
	struct request r = { .c = c };
	char text[ACTOR_TEXT_MAX];
	struct json_object *reply = NULL;
	struct ucred cr;
	socklen_t crlen = sizeof(cr);
	char why[160];
	int fd, err;

	fd = accept4(c->fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen)) {
		close(fd);
		return;
	}
	describe_actor(&r.who, &cr, NULL);
	/* Read the request even from a refused peer, so the reply is not lost to a reset. */
	err = bwe_proto_recv(fd, BWE_PROTO_REQ_MAX, CTL_RECV_MS, &r.req);
	if (!err)
		describe_actor(&r.who, &cr, arg_str(&r, "argv"));
	actor_fmt(&r.who, text, sizeof(text));
	if (!peer_allowed(c, &cr, why, sizeof(why))) {
		log_warnx("refused control request from %s: %s", text, why);
		reply = bwe_proto_err(BWE_ST_FAILED, "%s", why);
		goto send;
	}
	if (err) {
		log_warnx("bad control request from %s: %s", text,
			  err == -EMSGSIZE  ? "oversized"
			  : err == -EBADMSG ? "not a JSON object"
					    : strerror(-err));
		if (err == -EMSGSIZE || err == -EBADMSG)
			reply = bwe_proto_err(BWE_ST_BADINPUT, "%s",
					      err == -EMSGSIZE ? "request too large"
							       : "request is not a JSON object");
		goto send;
	}
	r.cmd = arg_str(&r, "cmd");
	if (!r.cmd) {
		reply = bad("request has no \"cmd\"");
		goto send;
	}
	log_info("request %.32s from %s", r.cmd, text);
	reply = dispatch(&r);
send:
	if (reply) {
		bwe_proto_send(fd, reply);
		json_object_put(reply);
	}
	json_object_put(r.req);
	close(fd);
}
