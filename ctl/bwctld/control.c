// SPDX-License-Identifier: GPL-2.0-only
/*
 * control.c - the control socket (layer 6): peers, their roles, and the
 * dispatch of their requests.
 *
 * Every client is a small state machine inside the daemon's one epoll
 * loop, on a non-blocking socket: READ (the frame comes in any pieces,
 * through lib/proto.c's incremental decoder) -> the request is parsed and
 * checked (lib/proto.c too), the role checked once, the command run ->
 * WRITE (the reply goes out as the peer takes it) -> closed. A deadline
 * (control_timeout) covers the whole request and reply: a client that
 * sends one byte a second or never reads its reply is cut off by
 * control_tick(), never waited for. At most control_max_clients are
 * served at once; one more gets an error reply and is closed.
 *
 * Arguments are checked for their shape in lib/proto.c; every change then
 * goes through the one transaction (ops.h), which applies the same guards
 * to every actor, so bad input changes nothing; every request is logged
 * with its actor, its client-supplied text escaped.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/posix_acl.h>
#include <linux/posix_acl_xattr.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/xattr.h>

#include "control.h"
#include "export.h"
#include "log.h"
#include "proto.h"
#include "resolve.h"
#include "scope.h"
#include "util.h"

#define CTL_BACKLOG	   64
#define CTL_ACCEPT_BATCH   64	 /* connections taken per readable event */
#define CTL_CHUNK	   65536 /* bytes read or written per call */
#define CTL_GROUPS_MAX	   256	 /* supplementary groups of a peer we look at */
#define CTL_REFUSED_LOG_MS 1000	 /* at most one "too many clients" line per second */
#define CTL_BUSY_MS	   1000	 /* a client over the cap: its request, then "busy" */
#define CTL_UMASK_ROOT	   0177	 /* socket 0600: root only */
#define CTL_UMASK_GROUP	   0117	 /* socket 0660: root and one group */
#define MS_PER_S	   1000ULL
#define NS_PER_MS	   1000000ULL

_Static_assert(BWE_PROTO_ITEMS_MAX <= OPS_ITEMS_MAX, "a request fits one change");

/* Bytes of output made for one chunk of a stream; a record more fits a frame. */
#define CTL_STREAM_TARGET (256 * 1024)
_Static_assert(CTL_STREAM_TARGET + 64 * 1024 <= BWE_PROTO_CHUNK_MAX, "a chunk and its last record");

/* CL_WAIT: the feed worker resolves the request's host names, or the fleet answers scope */
enum cl_state { CL_FREE = 0, CL_READ, CL_WAIT, CL_WRITE };
/* A stream (export): chunks made as the peer takes them, then the end. */
enum cl_stream { CS_NONE = 0, CS_DATA, CS_END };

struct client {
	enum cl_state state;
	int fd;
	struct ucred cr;
	enum bwe_role role; /* BWE_ROLE_NONE: the request is read, then refused */
	bool busy;	    /* over control_max_clients: the request is read, then "busy" */
	char why[160];	    /* why the peer has no role */
	struct bwe_proto_dec dec;
	char *out; /* the reply frame: length prefix and JSON */
	size_t out_len, out_off;
	__u64 deadline_ms;     /* CLOCK_MONOTONIC */
	struct bwe_request q;  /* CL_WAIT: the request, its names being resolved */
	__u32 job;	       /* CL_WAIT: the resolver's job */
	struct scope_wait *sw; /* CL_WAIT: the fleet's answers to scope (job 0 then) */
	struct control *ctl;   /* the resolver's callback finds the control here */
	enum cl_stream stream;
	struct export *exp; /* CS_DATA: the cursor */
	__u64 exp_bytes;    /* output sent so far */
};

struct control {
	struct control_deps d;
	int fd;
	int epfd;
	__u32 tag; /* epoll data of client i: tag + i */
	struct client cl[CONTROL_SLOTS];
	size_t active, busy;		  /* served; over the cap, being told so */
	__u64 refused, refused_logged_ms; /* over the cap, since the last log line */
};

struct request {
	struct control *c;
	struct client *cl;
	struct bwe_request *q;
	struct actor who;
};

static __u64 now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * MS_PER_S + (__u64)ts.tv_nsec / NS_PER_MS;
}

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

/* ---- the socket file --------------------------------------------------------- */

/*
 * Give the read-only group access beside the file's group with a POSIX
 * ACL (user::rw- group::rw- group:RO:rw- mask::rw- other::---), since a
 * file has one group. Written as the kernel's xattr format: no libacl.
 */
static int acl_add_group(const char *path, gid_t gid)
{
	struct {
		struct posix_acl_xattr_header h;
		struct posix_acl_xattr_entry e[5];
	} acl = {
		.h = { .a_version = POSIX_ACL_XATTR_VERSION },
		.e = {
			{ .e_tag = ACL_USER_OBJ, .e_perm = ACL_READ | ACL_WRITE, .e_id = ACL_UNDEFINED_ID },
			{ .e_tag = ACL_GROUP_OBJ, .e_perm = ACL_READ | ACL_WRITE, .e_id = ACL_UNDEFINED_ID },
			{ .e_tag = ACL_GROUP, .e_perm = ACL_READ | ACL_WRITE, .e_id = gid },
			{ .e_tag = ACL_MASK, .e_perm = ACL_READ | ACL_WRITE, .e_id = ACL_UNDEFINED_ID },
			{ .e_tag = ACL_OTHER, .e_perm = 0, .e_id = ACL_UNDEFINED_ID },
		},
	};

	return setxattr(path, "system.posix_acl_access", &acl, sizeof(acl), 0) ? -errno : 0;
}

/*
 * The socket is created with the mode it keeps (a umask around bind()),
 * so it is never open wider than configured, not even for a moment:
 * 0600 root only; 0660 with the admin group (or, without one, the
 * read-only group) as its group; the read-only group beside the admin
 * group through an ACL.
 */
static int bind_socket(int fd, const struct sockaddr_un *sun, const struct bwe_cfgfile *cfg)
{
	const char *path = sun->sun_path;
	struct group *g;
	gid_t admin = (gid_t)-1, ro = (gid_t)-1, owner;
	mode_t old;
	int err = 0;

	if (cfg->control_group) {
		g = getgrnam(cfg->control_group);
		if (g)
			admin = g->gr_gid;
		else
			log_warnx("control_group %s: no such group; no admin besides root",
				  cfg->control_group);
	}
	if (cfg->control_readonly_group) {
		g = getgrnam(cfg->control_readonly_group);
		if (g)
			ro = g->gr_gid;
		else
			log_warnx("control_readonly_group %s: no such group; no read-only role",
				  cfg->control_readonly_group);
	}
	owner = admin != (gid_t)-1 ? admin : ro;
	old = umask(owner != (gid_t)-1 ? CTL_UMASK_GROUP : CTL_UMASK_ROOT);
	if (bind(fd, (const struct sockaddr *)sun, sizeof(*sun)))
		err = -errno;
	umask(old);
	if (err)
		return err;
	/* 0660 root:root until the chown: wider only for root's own group */
	if (owner != (gid_t)-1 && chown(path, 0, owner)) {
		err = -errno;
		log_warn("control socket %s: chown", path);
		unlink(path);
		return err;
	}
	if (admin != (gid_t)-1 && ro != (gid_t)-1 && ro != admin && (err = acl_add_group(path, ro)))
		log_warnx("control socket %s: cannot add an ACL for control_readonly_group %s (%s); "
			  "its members reach the socket only through control_group",
			  path, cfg->control_readonly_group, strerror(-err));
	return 0;
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
	err = bind_socket(fd, &sun, cfg);
	if (err || listen(fd, CTL_BACKLOG)) {
		err = err ?: -errno;
		log_warnx("control socket %s: %s", path, strerror(-err));
		close(fd);
		return err;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		unlink(path);
		return -ENOMEM;
	}
	c->d = *deps;
	c->fd = fd;
	c->epfd = -1;
	*out = c;
	return 0;
}

static void client_close(struct control *c, struct client *cl)
{
	if (cl->state == CL_FREE)
		return;
	if (cl->state == CL_WAIT && cl->sw)
		scope_cancel(c->d.q.scope, cl->sw);
	else if (cl->state == CL_WAIT)
		feeds_resolve_cancel(c->d.q.feeds, cl->job);
	bwe_request_free(&cl->q);
	if (c->epfd >= 0)
		epoll_ctl(c->epfd, EPOLL_CTL_DEL, cl->fd, NULL);
	close(cl->fd);
	bwe_proto_dec_free(&cl->dec);
	free(cl->out);
	export_free(cl->exp);
	if (cl->busy)
		c->busy--;
	else
		c->active--;
	memset(cl, 0, sizeof(*cl));
}

void control_close(struct control *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < ARRAY_SIZE(c->cl); i++)
		client_close(c, &c->cl[i]);
	close(c->fd);
	unlink((*c->d.q.cfg)->paths.socket);
	free(c);
}

int control_fd(const struct control *c)
{
	return c->fd;
}

void control_loop(struct control *c, int epfd, __u32 tag)
{
	c->epfd = epfd;
	c->tag = tag;
}

size_t control_clients(const struct control *c)
{
	return c->active;
}

/* ---- peers and roles ------------------------------------------------------------ */

static bool in_group(const gid_t *groups, int n, gid_t gid, gid_t primary)
{
	int i;

	if (primary == gid)
		return true;
	for (i = 0; i < n; i++)
		if (groups[i] == gid)
			return true;
	return false;
}

/*
 * The peer's role from its credentials: root and members of control_group
 * are admins, members of control_readonly_group read-only. The groups are
 * the peer process's own (SO_PEERGROUPS), as the kernel checked them when
 * it opened the socket file.
 */
static enum bwe_role peer_role(struct control *c, int fd, const struct ucred *cr, char *why,
			       size_t len)
{
	const struct bwe_cfgfile *cfg = *c->d.q.cfg;
	gid_t groups[CTL_GROUPS_MAX];
	socklen_t glen = sizeof(groups);
	struct group *admin, *ro;
	int n;

	if (cr->uid == 0)
		return BWE_ROLE_ADMIN;
	n = getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &glen) ? 0
								     : (int)(glen / sizeof(gid_t));
	admin = cfg->control_group ? getgrnam(cfg->control_group) : NULL;
	if (admin && in_group(groups, n, admin->gr_gid, cr->gid))
		return BWE_ROLE_ADMIN;
	ro = cfg->control_readonly_group ? getgrnam(cfg->control_readonly_group) : NULL;
	if (ro && in_group(groups, n, ro->gr_gid, cr->gid))
		return BWE_ROLE_READ;
	snprintf(why, len, "permission denied: uid %u is not root%s%s%s%s", (unsigned)cr->uid,
		 cfg->control_group ? " and not in group " : "",
		 cfg->control_group ? cfg->control_group : "",
		 cfg->control_readonly_group ? " nor in group " : "",
		 cfg->control_readonly_group ? cfg->control_readonly_group : "");
	return BWE_ROLE_NONE;
}

/* The peer as a typed actor; argv is what the client says it ran (shown, not trusted). */
static void describe_actor(struct actor *who, const struct ucred *cr, const char *argv)
{
	struct passwd *pw = getpwuid(cr->uid);
	char shown[ACTOR_DETAIL_MAX];

	bwe_escape_ctl(argv ? argv : "", shown, sizeof(shown));
	actor_set(who, ACTOR_OPERATOR, pw ? pw->pw_name : "?", shown);
	who->uid = cr->uid;
	who->pid = cr->pid;
}

/* ---- commands ------------------------------------------------------------------------ */

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

/* Values (reason, TTL, rate, burst, and the guards) are the transaction's to judge. */
static struct json_object *cmd_change(struct request *r, enum st_kind kind, enum op_verb verb)
{
	const struct bwe_request *q = r->q;
	struct op_request op = {
		.action = bwe_cmd_name(q->cmd),
		.verb = verb,
		.kind = kind,
		.who = &r->who,
		.pfx = q->pfx,
		.n = q->n,
		.reason = q->reason,
	};

	if (kind == ST_QUARANTINE || kind == ST_THROTTLE) {
		/* hosts: the daemon's neighbour view decides whether one is keyed by MAC */
		op.ident = true;
		op.macs = (const __u8(*)[BWE_MAC_LEN])q->macs;
		op.nmacs = q->nmacs;
		op.prefix64 = q->prefix64;
	}
	if (verb == OP_ADD) {
		op.force = q->force;
		op.local = q->local;
		op.ttl_s = q->ttl_s;
		op.rate = q->rate;
		op.burst = q->burst;
	}
	return apply(r, &op);
}

static struct json_object *cmd_list(struct request *r)
{
	static const enum st_kind kinds[] = {
		[BWE_LIST_QUARANTINE] = ST_QUARANTINE, [BWE_LIST_THROTTLE] = ST_THROTTLE,
		[BWE_LIST_BLOCKS] = ST_BLOCK,	       [BWE_LIST_EXEMPT] = ST_EXEMPT,
		[BWE_LIST_ALLOW] = ST_ALLOW,
	};

	return bwe_proto_ok(query_list(&r->c->d.q, kinds[r->q->kind]));
}

static struct json_object *cmd_iface(struct request *r, bool attach)
{
	struct json_object *res = NULL;
	char err[IFACES_ERR_LEN];
	int e = attach ? ifaces_attach(r->c->d.q.ifaces, r->q->iface, r->q->mode, &r->who, &res,
				       err, sizeof(err))
		       : ifaces_detach(r->c->d.q.ifaces, r->q->iface, &r->who, &res, err,
				       sizeof(err));

	if (e == -EINVAL)
		return bwe_proto_err(BWE_ST_BADINPUT, "%s", err);
	if (e)
		return bwe_proto_err(BWE_ST_FAILED, "%s", err);
	return bwe_proto_ok(res);
}

static struct json_object *cmd_feeds_refresh(struct request *r)
{
	struct json_object *names = json_object_new_array(), *res;
	char shown[80];

	if (feeds_refresh(r->c->d.q.feeds, r->q->feed, names)) {
		json_object_put(names);
		bwe_escape_ctl(r->q->feed ? r->q->feed : "", shown, sizeof(shown));
		return bad("feeds refresh: no feed named \"%s\"", shown);
	}
	log_info("feeds refreshed for uid %u", r->who.uid);
	res = json_object_new_object();
	json_object_object_add(res, "refreshed", names);
	return bwe_proto_ok(res);
}

/* The audit event of a token made or revoked: who, which token, its scopes. */
static void token_event(struct request *r, const char *action, __u32 scopes)
{
	struct json_object *ev, *cat;

	if (!r->c->d.log)
		return;
	ev = ev_new(action, "event");
	if (json_object_object_get_ex(json_object_object_get(ev, "event"), "category", &cat))
		json_object_array_add(cat, json_object_new_string("iam"));
	ev_str(ev, "event.type", action[6] == 'a' ? "creation" : "deletion");
	ev_str(ev, "user.name", r->who.name);
	ev_set(ev, "bwenforce.actor", actor_json(&r->who));
	ev_str(ev, "bwenforce.token.name", r->q->token);
	if (scopes)
		ev_set(ev, "bwenforce.token.scopes", bwe_scopes_json(scopes));
	evlog_emit_audit(r->c->d.log, ev);
}

/* bwctl token add|list|revoke: admin only (proto.c's table); never logs a token. */
static struct json_object *cmd_token(struct request *r)
{
	struct tokens *t = r->c->d.tokens;
	struct json_object *res;
	char text[TOK_TEXT_LEN], err[TOK_ERR_LEN], who[ACTOR_TEXT_MAX];
	time_t now = time(NULL);
	int e;

	if (!t)
		return bwe_proto_err(BWE_ST_FAILED, "this daemon has no token store");
	actor_fmt(&r->who, who, sizeof(who));
	switch (r->q->cmd) {
	case BWE_CMD_TOKEN_LIST:
		return bwe_proto_ok(tok_list_json(t));
	case BWE_CMD_TOKEN_ADD:
		e = tok_add(t, r->q->token, r->q->scopes, now, text, sizeof(text), err,
			    sizeof(err));
		if (e)
			return bwe_proto_err(e == -EINVAL || e == -EEXIST || e == -ENOSPC
						     ? BWE_ST_BADINPUT
						     : BWE_ST_FAILED,
					     "token add: %s", err);
		log_info("API token %s added by %s", r->q->token, who);
		token_event(r, "token-add", r->q->scopes);
		res = json_object_new_object();
		json_object_object_add(res, "name", json_object_new_string(r->q->token));
		json_object_object_add(res, "token", json_object_new_string(text));
		json_object_object_add(res, "scopes", bwe_scopes_json(r->q->scopes));
		json_add_time(res, "created", now);
		memset(text, 0, sizeof(text));
		return bwe_proto_ok(res);
	case BWE_CMD_TOKEN_REVOKE:
		e = tok_revoke(t, r->q->token, err, sizeof(err));
		if (e)
			return bwe_proto_err(e == -ENOENT ? BWE_ST_BADINPUT : BWE_ST_FAILED,
					     "token revoke: %s", err);
		log_info("API token %s revoked by %s", r->q->token, who);
		token_event(r, "token-revoke", 0);
		res = json_object_new_object();
		json_object_object_add(res, "revoked", json_object_new_array());
		json_object_array_add(json_object_object_get(res, "revoked"),
				      json_object_new_string(r->q->token));
		return bwe_proto_ok(res);
	default:
		return bad("unknown command");
	}
}

/* The address a MAC address given to report or lookup stands for; NULL, or the refusal. */
static struct json_object *mac_address(struct request *r)
{
	char m[BWE_MAC_STRLEN];

	if (!r->q->nmacs || !query_mac_addr(&r->c->d.q, r->q->macs[0], &r->q->addr))
		return NULL;
	bwe_mac_fmt(r->q->macs[0], m, sizeof(m));
	return bad("%s: MAC address %s has no address: it is not contained and the neighbour "
		   "table does not have it",
		   bwe_cmd_name(r->q->cmd), m);
}

static struct json_object *cmd_lookup(struct request *r)
{
	struct json_object *refused = mac_address(r);

	return refused ?: bwe_proto_ok(query_lookup(&r->c->d.q, &r->q->addr));
}

static void set_reply(struct control *c, struct client *cl, struct json_object *reply);
static void client_write(struct control *c, struct client *cl);
static void client_wait(struct control *c, struct client *cl);

/* The fleet's answers came (or the wait is over): the client's reply (scope, report). */
static void on_scoped(void *ctx, struct json_object *answer)
{
	struct client *cl = ctx;

	cl->sw = NULL;
	cl->state = CL_READ;
	set_reply(cl->ctl, cl, bwe_proto_ok(answer));
	client_write(cl->ctl, cl);
}

/*
 * report HOST: an address, or the address of a MAC address (the daemon's
 * view); in a fleet its other_hosts_same_peers section waits for the others.
 */
static struct json_object *cmd_report(struct request *r)
{
	const struct query_deps *q = &r->c->d.q;
	struct json_object *rep, *refused = mac_address(r);

	if (refused)
		return refused;
	rep = detector_report(r->c->d.detector, &r->q->addr);
	query_report_identity(q, rep, &r->q->addr);
	if (q->scope &&
	    !(rep = scope_report_ask(q->scope, &r->q->addr, r->q->local ? SCOPE_LOCAL_ASKED : NULL,
				     time(NULL), rep, on_scoped, r->cl, &r->cl->sw))) {
		client_wait(r->c, r->cl); /* the section waits for the fleet */
		return NULL;
	}
	return bwe_proto_ok(rep);
}

/*
 * scope HOST|ADDRESS: who else contacted its listed peers, or behaves
 * alike; in a fleet the client waits (CL_WAIT) for the other sites.
 */
static struct json_object *cmd_scope(struct request *r)
{
	const struct query_deps *q = &r->c->d.q;
	struct json_object *refused = mac_address(r), *local;

	if (refused)
		return refused;
	if (!q->scope)
		return bwe_proto_err(BWE_ST_FAILED, "scope: not available");
	local = scope_ask(q->scope, &r->q->addr, r->q->since_s ? r->q->since_s : SCOPE_SINCE_S,
			  r->q->local ? SCOPE_LOCAL_ASKED : NULL, time(NULL), on_scoped, r->cl,
			  &r->cl->sw);
	if (!local)
		client_wait(r->c, r->cl);
	return local ? bwe_proto_ok(local) : NULL;
}

/* export: the header of a stream; the client's writes then make the chunks. */
static struct json_object *cmd_export(struct request *r)
{
	const struct query_deps *q = &r->c->d.q;
	struct export_deps xd = { .st = q->st, .store = q->store };
	struct json_object *res;
	char err[EXPORT_ERR_LEN];
	int e = export_new(&r->cl->exp, &xd, r->q->exp_format, r->q->exp_set, r->q->feed,
			   time(NULL), err, sizeof(err));

	if (e == -EINVAL)
		return bad("%s", err);
	if (e)
		return bwe_proto_err(BWE_ST_FAILED, "export: %s", strerror(-e));
	r->cl->stream = CS_DATA;
	res = json_object_new_object();
	json_object_object_add(res, "stream", json_object_new_boolean(1));
	json_object_object_add(res, "format",
			       json_object_new_string(bwe_export_format_name(r->q->exp_format)));
	json_object_object_add(res, "set",
			       json_object_new_string(bwe_export_set_name(r->q->exp_set)));
	return bwe_proto_ok(res);
}

static struct json_object *dispatch(struct request *r)
{
	static const struct {
		enum st_kind kind;
		enum op_verb verb;
	} edits[BWE_CMDS] = {
		[BWE_CMD_QUARANTINE] = { ST_QUARANTINE, OP_ADD },
		[BWE_CMD_RELEASE] = { ST_QUARANTINE, OP_DEL },
		[BWE_CMD_THROTTLE] = { ST_THROTTLE, OP_ADD },
		[BWE_CMD_UNTHROTTLE] = { ST_THROTTLE, OP_DEL },
		[BWE_CMD_BLOCK] = { ST_BLOCK, OP_ADD },
		[BWE_CMD_UNBLOCK] = { ST_BLOCK, OP_DEL },
		[BWE_CMD_EXEMPT] = { ST_EXEMPT, OP_ADD },
		[BWE_CMD_UNEXEMPT] = { ST_EXEMPT, OP_DEL },
		[BWE_CMD_ALLOW] = { ST_ALLOW, OP_ADD },
		[BWE_CMD_UNALLOW] = { ST_ALLOW, OP_DEL },
	};
	const struct query_deps *q = &r->c->d.q;
	struct json_object *s;

	switch (r->q->cmd) {
	case BWE_CMD_QUARANTINE:
	case BWE_CMD_RELEASE:
	case BWE_CMD_THROTTLE:
	case BWE_CMD_UNTHROTTLE:
	case BWE_CMD_BLOCK:
	case BWE_CMD_UNBLOCK:
	case BWE_CMD_EXEMPT:
	case BWE_CMD_UNEXEMPT:
	case BWE_CMD_ALLOW:
	case BWE_CMD_UNALLOW:
		return cmd_change(r, edits[r->q->cmd].kind, edits[r->q->cmd].verb);
	case BWE_CMD_STATUS:
		return bwe_proto_ok(query_status(q));
	case BWE_CMD_STATS:
		s = query_stats(q);
		return s ? bwe_proto_ok(s)
			 : bwe_proto_err(BWE_ST_FAILED, "stats: cannot read counters");
	case BWE_CMD_LIST:
		return cmd_list(r);
	case BWE_CMD_TOP:
		return bwe_proto_ok(query_top(q, (int)r->q->top_n, bwe_top_sort_name(r->q->sort)));
	case BWE_CMD_LOOKUP:
		return cmd_lookup(r);
	case BWE_CMD_REPORT:
		return cmd_report(r);
	case BWE_CMD_SCOPE:
		return cmd_scope(r);
	case BWE_CMD_FEEDS:
		return bwe_proto_ok(feeds_list_json(q->feeds));
	case BWE_CMD_FLEET_STATUS:
		return bwe_proto_ok(fleet_status_json(q->fleet));
	case BWE_CMD_EXPORT:
		return cmd_export(r);
	case BWE_CMD_ATTACH:
	case BWE_CMD_DETACH:
		return cmd_iface(r, r->q->cmd == BWE_CMD_ATTACH);
	case BWE_CMD_FEEDS_REFRESH:
		return cmd_feeds_refresh(r);
	case BWE_CMD_TOKEN_ADD:
	case BWE_CMD_TOKEN_LIST:
	case BWE_CMD_TOKEN_REVOKE:
		return cmd_token(r);
	default:
		return bad("unknown command");
	}
}

/* Addresses join the request's (host prefixes, no duplicates); -ENOMEM or -E2BIG. */
static int add_addrs(struct bwe_request *q, const struct bwe_addr *a, size_t n)
{
	struct bwe_prefix *v;
	size_t i, j;

	if (q->n + n > BWE_PROTO_ITEMS_MAX)
		return -E2BIG;
	v = reallocarray(q->pfx, q->n + n ? q->n + n : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	q->pfx = v;
	for (i = 0; i < n; i++) {
		struct bwe_prefix p = { .addr = a[i], .plen = BWE_ADDR_BITS };

		for (j = 0; j < q->n && bwe_prefix_cmp(&q->pfx[j], &p); j++)
			;
		if (j == q->n)
			q->pfx[q->n++] = p;
	}
	if ((q->cmd == BWE_CMD_REPORT || q->cmd == BWE_CMD_LOOKUP || q->cmd == BWE_CMD_SCOPE) &&
	    q->n) /* its first address */
		q->addr = q->pfx[0].addr;
	return 0;
}

static struct json_object *add_failed(const struct bwe_request *q, int e)
{
	if (e == -E2BIG)
		return bad("%s: the names resolve to more than %d addresses in all",
			   bwe_cmd_name(q->cmd), BWE_PROTO_ITEMS_MAX);
	return bwe_proto_err(BWE_ST_FAILED, "out of memory");
}

/* The names' answers join the request's addresses; NULL, or the refusal. */
static struct json_object *take_answers(struct bwe_request *q, const struct bwe_job_answer *ans,
					size_t n)
{
	size_t i, k;
	char shown[80];
	int e;

	for (i = 0; i < q->nnames; i++) {
		const struct bwe_job_answer *a = NULL;

		for (k = 0; k < n && !a; k++)
			if (!strcasecmp(ans[k].name, q->names[i]))
				a = &ans[k];
		bwe_escape_ctl(q->names[i], shown, sizeof(shown));
		if (!a || !a->n_addrs)
			return bad("%s: \"%s\" does not resolve (not in %s, no A or AAAA record)",
				   bwe_cmd_name(q->cmd), shown, BWE_HOSTS_FILE);
		if ((e = add_addrs(q, a->addrs, a->n_addrs)))
			return add_failed(q, e);
	}
	return NULL;
}

/* The feed worker answered (or failed): the request goes on, and its reply out. */
static void on_resolved(void *ctx, int status, const char *error,
			const struct bwe_job_answer *answers, size_t n)
{
	struct client *cl = ctx;
	struct control *c = cl->ctl;
	struct request r = { .c = c, .cl = cl, .q = &cl->q };
	struct json_object *reply;

	cl->state = CL_READ; /* the job is over: nothing to cancel */
	describe_actor(&r.who, &cl->cr, cl->q.argv);
	if (status)
		reply = bwe_proto_err(BWE_ST_FAILED, "%s: cannot resolve host names: %s",
				      bwe_cmd_name(cl->q.cmd),
				      error[0] ? error : strerror(-status));
	else
		reply = take_answers(&cl->q, answers, n) ?: dispatch(&r);
	bwe_request_free(&cl->q);
	if (!reply)
		return; /* scope: waits for the fleet */
	set_reply(c, cl, reply);
	client_write(c, cl);
}

/* The client waits: its socket is only watched for a hang-up. */
static void client_wait(struct control *c, struct client *cl)
{
	struct epoll_event ev = { .events = 0, .data.u32 = c->tag + (__u32)(cl - c->cl) };

	cl->state = CL_WAIT;
	if (c->epfd >= 0)
		epoll_ctl(c->epfd, EPOLL_CTL_MOD, cl->fd, &ev);
}

/*
 * Resolve the request's host names: those in the hosts file at once, the
 * others by the feed worker while the client waits (CL_WAIT; its socket is
 * then only watched for a hang-up). NULL (go on, or wait: see cl->state),
 * or the reply.
 */
static struct json_object *resolve_names(struct control *c, struct client *cl,
					 struct bwe_request *q)
{
	size_t i, k = 0;
	int e;

	/* hosts(5) first, as the C library's "files" source: a local read */
	for (i = 0; i < q->nnames; i++) {
		struct bwe_addr a[BWE_WIRE_ADDRS_MAX];
		int n = bwe_hosts_file_lookup(BWE_HOSTS_FILE, q->names[i], a, ARRAY_SIZE(a));

		if (n <= 0) {
			q->names[k++] = q->names[i];
			continue;
		}
		free(q->names[i]);
		if ((e = add_addrs(q, a, (size_t)n))) {
			for (i++; i < q->nnames; i++)
				q->names[k++] = q->names[i];
			q->nnames = k;
			return add_failed(q, e);
		}
	}
	q->nnames = k;
	if (!k)
		return NULL; /* every name was in the file: go on at once */
	e = feeds_resolve(c->d.q.feeds, (const char *const *)q->names, q->nnames, on_resolved, cl,
			  &cl->job);
	if (e)
		return bwe_proto_err(e == -EINVAL ? BWE_ST_BADINPUT : BWE_ST_FAILED,
				     "%s: cannot resolve host names: %s", bwe_cmd_name(q->cmd),
				     strerror(-e));
	cl->q = *q;
	memset(q, 0, sizeof(*q));
	client_wait(c, cl);
	return NULL;
}

/* A complete frame from a client: its reply, or NULL while its names are resolved. */
static struct json_object *handle(struct control *c, struct client *cl)
{
	struct bwe_request q;
	struct request r = { .c = c, .cl = cl, .q = &q };
	char text[ACTOR_TEXT_MAX], err[512];
	struct json_object *reply;
	int e;

	if (cl->busy)
		return bwe_proto_err(BWE_ST_FAILED,
				     "bwctld is busy: %u control clients already connected; try again",
				     (*c->d.q.cfg)->control_max_clients);
	describe_actor(&r.who, &cl->cr, NULL);
	actor_fmt(&r.who, text, sizeof(text));
	/* A peer without a role gets no further than the framing. */
	if (cl->role == BWE_ROLE_NONE) {
		log_warnx("refused control request from %s: %s", text, cl->why);
		return bwe_proto_err(BWE_ST_FAILED, "%s", cl->why);
	}
	e = bwe_request_parse(cl->dec.buf, cl->dec.len, &q, err, sizeof(err));
	if (e) {
		log_warnx("bad control request from %s: %s", text, err);
		return bad("%s", err);
	}
	describe_actor(&r.who, &cl->cr, q.argv);
	actor_fmt(&r.who, text, sizeof(text));
	/* The one role check: before any argument is looked at. */
	if (bwe_cmd_role(q.cmd) > cl->role) {
		log_warnx("refused control request %s from %s: %s role", bwe_cmd_name(q.cmd), text,
			  bwe_role_name(cl->role));
		reply = bwe_proto_err(BWE_ST_FAILED,
				      "permission denied: '%s' needs the %s role; uid %u is %s",
				      bwe_cmd_name(q.cmd), bwe_role_name(bwe_cmd_role(q.cmd)),
				      (unsigned)cl->cr.uid, bwe_role_name(cl->role));
		goto out;
	}
	if (bwe_request_args(&q, err, sizeof(err))) {
		reply = bad("%s", err);
		goto out;
	}
	log_info("request %s from %s", bwe_cmd_name(q.cmd), text);
	if (q.nnames && ((reply = resolve_names(c, cl, &q)) || cl->state == CL_WAIT))
		goto out;
	reply = dispatch(&r); /* NULL: scope waits for the fleet */
out:
	bwe_request_free(&q);
	return reply;
}

/* ---- the clients' state machine -------------------------------------------------- */

/* Frame the reply; from now on the client is only written to. */
static void set_reply(struct control *c, struct client *cl, struct json_object *reply)
{
	const char *s = json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PLAIN);
	size_t len = strlen(s);
	struct epoll_event ev = { .events = EPOLLOUT, .data.u32 = c->tag + (__u32)(cl - c->cl) };

	if (len > BWE_PROTO_REPLY_MAX) {
		json_object_put(reply);
		reply = bwe_proto_err(BWE_ST_FAILED, "reply too large (%zu bytes)", len);
		s = json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PLAIN);
		len = strlen(s);
	}
	cl->out = malloc(BWE_PROTO_HDR_LEN + len);
	if (cl->out) {
		cl->out[0] = (char)(len >> 24);
		cl->out[1] = (char)(len >> 16);
		cl->out[2] = (char)(len >> 8);
		cl->out[3] = (char)len;
		memcpy(cl->out + BWE_PROTO_HDR_LEN, s, len);
		cl->out_len = BWE_PROTO_HDR_LEN + len;
	}
	json_object_put(reply);
	cl->state = CL_WRITE;
	if (c->epfd >= 0)
		epoll_ctl(c->epfd, EPOLL_CTL_MOD, cl->fd, &ev);
}

static void frame_len(char *at, size_t len)
{
	at[0] = (char)(len >> 24);
	at[1] = (char)(len >> 16);
	at[2] = (char)(len >> 8);
	at[3] = (char)len;
}

/* A whole message (length prefix and JSON) at the end of b; takes msg. */
static int put_msg(struct export_buf *b, struct json_object *msg)
{
	const char *s = json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN);
	size_t len = strlen(s);
	char hdr[BWE_PROTO_HDR_LEN];
	int e;

	frame_len(hdr, len);
	e = export_buf_put(b, hdr, sizeof(hdr)) ?: export_buf_put(b, s, len);
	json_object_put(msg);
	return e;
}

/*
 * The next piece of a stream as the client's output: a data frame of
 * whole records, and after the last one the empty frame and the closing
 * message (entries and bytes, or the error that cut the output short).
 */
static void stream_fill(struct client *cl)
{
	static const char zero[BWE_PROTO_HDR_LEN];
	struct export_buf b = { 0 };
	struct json_object *res, *end;
	int more = -ENOMEM;

	free(cl->out);
	cl->out = NULL;
	cl->out_len = cl->out_off = 0;
	if (!export_buf_put(&b, zero, sizeof(zero)))
		more = export_next(cl->exp, &b, BWE_PROTO_HDR_LEN + CTL_STREAM_TARGET);
	if (more >= 0 && b.len > BWE_PROTO_HDR_LEN) {
		frame_len(b.p, b.len - BWE_PROTO_HDR_LEN);
		cl->exp_bytes += b.len - BWE_PROTO_HDR_LEN;
	} else {
		b.len = 0; /* nothing (or a failure): no data frame */
	}
	if (more > 0) {
		cl->out = b.p;
		cl->out_len = b.len;
		return;
	}
	if (more == 0) {
		res = json_object_new_object();
		json_object_object_add(res, "entries",
				       json_object_new_uint64(export_entries(cl->exp)));
		json_object_object_add(res, "bytes", json_object_new_uint64(cl->exp_bytes));
		end = bwe_proto_ok(res);
		log_info("export to uid %u pid %d: %zu entries, %llu bytes", (unsigned)cl->cr.uid,
			 cl->cr.pid, export_entries(cl->exp), (unsigned long long)cl->exp_bytes);
	} else {
		end = bwe_proto_err(BWE_ST_FAILED, "export cut short: %s", strerror(-more));
		log_warnx("export to uid %u pid %d cut short: %s", (unsigned)cl->cr.uid, cl->cr.pid,
			  strerror(-more));
	}
	if (export_buf_put(&b, zero, sizeof(zero)) || put_msg(&b, end)) {
		export_buf_free(&b); /* the peer sees the connection close early */
	} else {
		cl->out = b.p;
		cl->out_len = b.len;
	}
	export_free(cl->exp);
	cl->exp = NULL;
	cl->stream = CS_END;
}

/*
 * Write what the peer takes; close when all is out or the peer is gone.
 * A stream makes one chunk per call: the socket stays registered for
 * EPOLLOUT (level-triggered), so the loop serves everything else between
 * two chunks, and a peer that takes nothing costs no work.
 */
static void client_write(struct control *c, struct client *cl)
{
	bool filled = false;

	for (;;) {
		while (cl->out && cl->out_off < cl->out_len) {
			size_t n = cl->out_len - cl->out_off;
			ssize_t w = send(cl->fd, cl->out + cl->out_off,
					 n < CTL_CHUNK ? n : CTL_CHUNK,
					 MSG_NOSIGNAL | MSG_DONTWAIT);

			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0 && errno == EAGAIN)
				return; /* EPOLLOUT brings us back */
			if (w < 0)
				goto done;
			cl->out_off += (size_t)w;
			if (cl->stream) /* progress: the deadline counts from here */
				cl->deadline_ms =
					now_ms() + (*c->d.q.cfg)->control_timeout_s * MS_PER_S;
		}
		if (cl->stream != CS_DATA || !cl->exp)
			break;
		if (filled)
			return; /* the next chunk on the next EPOLLOUT */
		stream_fill(cl);
		filled = true;
	}
done:
	client_close(c, cl);
}

static void client_read(struct control *c, struct client *cl)
{
	char chunk[CTL_CHUNK];
	int r = 0;

	while (!r) {
		size_t want = bwe_proto_dec_want(&cl->dec), used;
		ssize_t n = recv(cl->fd, chunk, want < sizeof(chunk) ? want : sizeof(chunk),
				 MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) { /* gone before a whole request: nobody to answer */
			client_close(c, cl);
			return;
		}
		r = bwe_proto_dec_feed(&cl->dec, chunk, (size_t)n, &used);
	}
	if (r == -EMSGSIZE && (cl->busy || cl->role == BWE_ROLE_NONE)) {
		set_reply(c, cl, handle(c, cl)); /* the refusal, not the size */
	} else if (r == -EMSGSIZE) {
		log_warnx("control request from uid %u pid %d: %zu bytes announced, at most %d",
			  (unsigned)cl->cr.uid, cl->cr.pid, cl->dec.len, BWE_PROTO_REQ_MAX);
		set_reply(c, cl, bwe_proto_err(BWE_ST_BADINPUT, "request too large"));
	} else if (r < 0) {
		set_reply(c, cl, bwe_proto_err(BWE_ST_FAILED, "%s", strerror(-r)));
	} else {
		struct json_object *reply = handle(c, cl);

		if (!reply)
			return; /* CL_WAIT: on_resolved() answers */
		set_reply(c, cl, reply);
	}
	client_write(c, cl);
}

void control_on_client(struct control *c, __u32 data, __u32 events)
{
	struct client *cl;

	if (data < c->tag || data - c->tag >= ARRAY_SIZE(c->cl))
		return;
	cl = &c->cl[data - c->tag];
	/* errors and hang-ups show in the next recv() or send(), or here while waiting */
	if (cl->state == CL_WAIT && (events & (EPOLLHUP | EPOLLERR)))
		client_close(c, cl);
	else if (cl->state == CL_READ)
		client_read(c, cl);
	else if (cl->state == CL_WRITE)
		client_write(c, cl);
}

/* Clients over the cap are logged at most once a second, with their count. */
static void note_refused(struct control *c, __u32 cap)
{
	__u64 now = now_ms();

	c->refused++;
	if (now - c->refused_logged_ms >= CTL_REFUSED_LOG_MS) {
		log_warnx("control socket: %llu client(s) refused: %u already connected "
			  "(control_max_clients)",
			  (unsigned long long)c->refused, cap);
		c->refused = 0;
		c->refused_logged_ms = now;
	}
}

/*
 * Over the cap and no room to read the request either: a short error,
 * written only if it fits at once, and closed.
 */
static void refuse_now(struct control *c, int fd, __u32 cap)
{
	struct json_object *reply =
		bwe_proto_err(BWE_ST_FAILED,
			      "bwctld is busy: %u control clients already connected; try again",
			      cap);
	const char *s = json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PLAIN);
	__u32 len = (__u32)strlen(s);
	char frame[BWE_PROTO_HDR_LEN + 256], sink[CTL_CHUNK];

	(void)!recv(fd, sink, sizeof(sink), MSG_DONTWAIT);
	if (len + BWE_PROTO_HDR_LEN <= sizeof(frame)) {
		frame[0] = (char)(len >> 24);
		frame[1] = (char)(len >> 16);
		frame[2] = (char)(len >> 8);
		frame[3] = (char)len;
		memcpy(frame + BWE_PROTO_HDR_LEN, s, len);
		(void)!send(fd, frame, BWE_PROTO_HDR_LEN + len, MSG_NOSIGNAL | MSG_DONTWAIT);
	}
	json_object_put(reply);
	close(fd);
	note_refused(c, cap);
}

void control_accept(struct control *c)
{
	const struct bwe_cfgfile *cfg = *c->d.q.cfg;
	__u32 cap = cfg->control_max_clients;
	int i;

	if (cap > BWE_CFG_CLIENTS_MAX)
		cap = BWE_CFG_CLIENTS_MAX;
	for (i = 0; i < CTL_ACCEPT_BATCH; i++) {
		struct epoll_event ev = { .events = EPOLLIN };
		struct client *cl = NULL;
		socklen_t crlen = sizeof(struct ucred);
		struct ucred cr;
		enum bwe_role role;
		char why[sizeof(cl->why)] = "";
		bool over;
		size_t k;
		int fd = accept4(c->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd < 0)
			return;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen)) {
			close(fd);
			continue;
		}
		role = peer_role(c, fd, &cr, why, sizeof(why));
		/*
		 * The cap holds for everyone but admins, so that read-only
		 * peers cannot lock root out. Over it, a few more are let in
		 * to send their request and hear "busy" (closing at once would
		 * lose the reply to their failed send()); beyond those, or with
		 * no slot left, the error is tried once and they are closed.
		 */
		over = c->active >= cap && role != BWE_ROLE_ADMIN;
		for (k = 0; k < ARRAY_SIZE(c->cl) && !cl; k++)
			if (c->cl[k].state == CL_FREE)
				cl = &c->cl[k];
		if (!cl || (over && c->busy >= CONTROL_OVERFLOW)) {
			refuse_now(c, fd, cap);
			continue;
		}
		cl->fd = fd;
		cl->cr = cr;
		cl->ctl = c;
		cl->state = CL_READ;
		bwe_proto_dec_init(&cl->dec, BWE_PROTO_REQ_MAX);
		if (over) {
			cl->busy = true;
			cl->deadline_ms = now_ms() + CTL_BUSY_MS;
			c->busy++;
			note_refused(c, cap);
		} else {
			cl->role = role;
			memcpy(cl->why, why, sizeof(why));
			cl->deadline_ms = now_ms() + cfg->control_timeout_s * MS_PER_S;
			c->active++;
		}
		ev.data.u32 = c->tag + (__u32)(cl - c->cl);
		if (c->epfd < 0 || epoll_ctl(c->epfd, EPOLL_CTL_ADD, fd, &ev)) {
			log_warn("control socket: epoll");
			client_close(c, cl);
			continue;
		}
		client_read(c, cl); /* the request may be there already */
	}
}

void control_tick(struct control *c)
{
	__u64 now = now_ms();
	size_t i;

	for (i = 0; i < ARRAY_SIZE(c->cl); i++) {
		struct client *cl = &c->cl[i];

		if (cl->state == CL_FREE || now < cl->deadline_ms)
			continue;
		if (cl->busy) { /* counted when it came */
			client_close(c, cl);
			continue;
		}
		if (cl->state == CL_WAIT)
			log_warnx("control client uid %u pid %d: %s within %llu s; closed",
				  (unsigned)cl->cr.uid, cl->cr.pid,
				  cl->sw ? "the fleet's scope answers did not come"
					 : "its host names were not resolved",
				  (unsigned long long)(*c->d.q.cfg)->control_timeout_s);
		else if (cl->state == CL_READ)
			log_warnx("control client uid %u pid %d: no complete request within %llu s "
				  "(%zu bytes came); closed",
				  (unsigned)cl->cr.uid, cl->cr.pid,
				  (unsigned long long)(*c->d.q.cfg)->control_timeout_s,
				  cl->dec.got);
		else
			log_warnx("control client uid %u pid %d: reply not taken within %llu s "
				  "(%zu of %zu bytes); closed",
				  (unsigned)cl->cr.uid, cl->cr.pid,
				  (unsigned long long)(*c->d.q.cfg)->control_timeout_s, cl->out_off,
				  cl->out_len);
		client_close(c, cl);
	}
}
