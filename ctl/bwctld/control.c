// SPDX-License-Identifier: GPL-2.0-only
/*
 * control.c - the control socket: peer credentials, request parsing, and the
 * commands that change state. Every request is validated whole before
 * anything changes, so bad input changes nothing; every change is written
 * to the state file before it is acknowledged; every request is logged
 * with its actor.
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

#include "bwctld.h"
#include "log.h"
#include "proto.h"

#define CTL_BACKLOG     16
#define CTL_RECV_MS     2000	/* a client must send its request within this */
#define CTL_ITEMS_MAX   4096	/* hosts or CIDRs in one request */
#define CTL_GROUPS_MAX  256
#define TOP_DEFAULT     20
#define TOP_MAX         100000

struct request {
	struct daemon *d;
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

int control_open(struct daemon *d)
{
	const char *path = d->cfg->paths.socket;
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
	if (d->cfg->control_group) {
		struct group *g = getgrnam(d->cfg->control_group);

		if (!g || chown(path, 0, g->gr_gid))
			log_warnx("control_group %s: no such group; socket is root-only",
				  d->cfg->control_group);
		chmod(path, g ? 0660 : 0600);
	} else {
		chmod(path, 0600);
	}
	d->ctlfd = fd;
	return 0;
}

void control_close(struct daemon *d)
{
	if (d->ctlfd >= 0) {
		close(d->ctlfd);
		unlink(d->cfg->paths.socket);
	}
	d->ctlfd = -1;
}

static bool peer_allowed(struct daemon *d, const struct ucred *cr, char *why, size_t len)
{
	struct passwd *pw;
	struct group *g;
	gid_t groups[CTL_GROUPS_MAX];
	int ng = CTL_GROUPS_MAX, i;

	if (cr->uid == 0)
		return true;
	g = d->cfg->control_group ? getgrnam(d->cfg->control_group) : NULL;
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

	if (!json_object_object_get_ex(r->req, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* Reason: optional string of at most BWCTLD_REASON_MAX - 1 bytes without control chars. */
static struct json_object *arg_reason(struct request *r, char *out)
{
	struct json_object *v;
	const char *s;
	size_t i;

	out[0] = '\0';
	if (!json_object_object_get_ex(r->req, "reason", &v) || json_object_is_type(v, json_type_null))
		return NULL;
	if (!json_object_is_type(v, json_type_string))
		return bad("%s: reason must be a string", r->cmd);
	s = json_object_get_string(v);
	if (strlen(s) >= BWCTLD_REASON_MAX)
		return bad("%s: reason is %zu bytes; at most %d allowed", r->cmd, strlen(s),
			   BWCTLD_REASON_MAX - 1);
	for (i = 0; s[i]; i++)
		if ((unsigned char)s[i] < 0x20)
			return bad("%s: reason contains a control character", r->cmd);
	strcpy(out, s);
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
static struct json_object *arg_prefixes(struct request *r, const char *key,
					struct bwe_prefix **out, size_t *n)
{
	struct json_object *arr;
	size_t i, len;

	*out = NULL;
	*n = 0;
	if (!json_object_object_get_ex(r->req, key, &arr) || !json_object_is_type(arr, json_type_array))
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
		const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
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
				e = bad("%s: refusing %s: a /0 covers every address", r->cmd, shown);
			else if (s && !bwe_prefix_parse(s, &(*out)[i], BWE_PFX_HOSTBITS))
				e = bad("%s: \"%s\" has host bits set under its mask", r->cmd, shown);
			else
				e = bad("%s: \"%s\" is not an IPv4/IPv6 address or CIDR", r->cmd, shown);
			free(*out);
			*out = NULL;
			return e;
		}
	}
	*n = len;
	return NULL;
}

static bool list_covers(const struct bwe_cfg_prefixes *l, const struct bwe_prefix *p)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (bwe_prefix_covers(&l->v[i], p))
			return true;
	return false;
}

static bool list_overlaps(const struct bwe_cfg_prefixes *l, const struct bwe_prefix *p)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (bwe_prefix_covers(&l->v[i], p) || bwe_prefix_covers(p, &l->v[i]))
			return true;
	return false;
}

static bool state_overlaps(struct daemon *d, enum st_kind k, const struct bwe_prefix *p)
{
	size_t i;

	for (i = 0; i < d->state.n; i++) {
		const struct st_entry *e = &d->state.v[i];

		if (e->kind == k && (bwe_prefix_covers(&e->pfx, p) || bwe_prefix_covers(p, &e->pfx)))
			return true;
	}
	return false;
}

static bool gateway_inside(const struct bwe_prefix *p)
{
	return p->plen == BWE_ADDR_BITS && is_gateway_addr(&p->addr);
}

/* ---- state-changing commands ---------------------------------------------- */

/*
 * Validate, record, persist, enforce, report. kinds that live in the
 * network classes are enforced by one netclass rebuild after all entries.
 */
static struct json_object *commit(struct request *r, struct st_entry *ents, size_t n, bool add)
{
	struct daemon *d = r->d;
	struct st_table saved = d->state;
	struct json_object *changed = json_object_new_array(), *res;
	size_t i;
	int err = 0;

	/* Work on a copy so a failed save leaves the table as it was. */
	d->state.v = calloc(saved.cap ? saved.cap : 1, sizeof(*saved.v));
	if (!d->state.v) {
		d->state = saved;
		json_object_put(changed);
		return bwe_proto_err(BWE_ST_FAILED, "out of memory");
	}
	memcpy(d->state.v, saved.v, saved.n * sizeof(*saved.v));
	for (i = 0; i < n && !err; i++)
		err = add ? st_put(d, &ents[i]) : st_del(d, ents[i].kind, &ents[i].pfx);
	err = err ?: st_save(d);
	if (err) {
		free(d->state.v);
		d->state = saved;
		json_object_put(changed);
		return bwe_proto_err(BWE_ST_FAILED, "%s: cannot record the change: %s", r->cmd,
				     strerror(-err));
	}
	free(saved.v);

	for (i = 0; i < n; i++)
		enforce_entry(d, &ents[i], add);
	err = enforce_netclass(d);
	for (i = 0; i < n; i++) {
		events_state_change(d, r->cmd, &ents[i], r->who.text);
		json_object_array_add(changed, st_entry_json(&ents[i]));
	}
	res = json_object_new_object();
	json_object_object_add(res, "changed", changed);
	if (err)
		return bwe_proto_err(BWE_ST_FAILED, "%s: recorded, but the maps could not be updated: %s",
				     r->cmd, strerror(-err));
	return bwe_proto_ok(res);
}

static struct json_object *cmd_add(struct request *r, enum st_kind kind, const char *key)
{
	struct daemon *d = r->d;
	struct bwe_prefix *p = NULL;
	struct st_entry *ents = NULL;
	struct json_object *e;
	char reason[BWCTLD_REASON_MAX], buf[BWE_PREFIX_STRLEN];
	__u64 ttl, rate = 0, burst = 0;
	bool force = arg_bool(r, "force"), burst_given = false;
	size_t n = 0, i;
	time_t now = time(NULL);

	if ((e = arg_prefixes(r, key, &p, &n)) || (e = arg_reason(r, reason)) ||
	    (e = arg_u64(r, "ttl", &ttl, d->cfg->max_ttl_s, NULL)))
		goto out;
	if (kind == ST_THROTTLE) {
		bool given;

		if ((e = arg_u64(r, "rate", &rate, BWE_RATE_MAX, &given)))
			goto out;
		if (!given || !rate) {
			e = bad("throttle: a rate is required (bytes per second, 1..%llu)",
				(unsigned long long)BWE_RATE_MAX);
			goto out;
		}
		if ((e = arg_u64(r, "burst", &burst, UINT32_MAX, &burst_given)))
			goto out;
		if (!burst_given || !burst) {
			burst = bwe_default_burst(d->cfg, rate);
		}
	}
	ents = calloc(n, sizeof(*ents));
	if (!ents) {
		e = bwe_proto_err(BWE_ST_FAILED, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		struct bwe_prefix *x = &p[i];
		int flen = bwe_prefix_family_len(x);
		bool v4 = bwe_addr_is_v4(&x->addr) && x->plen >= BWE_V4_MAPPED_PLEN;

		bwe_prefix_fmt(x, buf, sizeof(buf));
		switch (kind) {
		case ST_QUARANTINE:
		case ST_THROTTLE:
			if (!list_covers(&d->cfg->internal, x)) {
				e = bad("%s: %s is not inside internal_networks: only internal hosts "
					"can be %s", r->cmd, buf,
					kind == ST_QUARANTINE ? "quarantined" : "throttled");
				goto out;
			}
			if (!force && (list_overlaps(&d->cfg->allowlist, x) ||
				       state_overlaps(d, ST_ALLOW, x))) {
				e = bad("%s: %s is allowlisted; use --force to override", r->cmd, buf);
				goto out;
			}
			if (!force && gateway_inside(x)) {
				e = bad("%s: %s is an address of this gateway; use --force to override",
					r->cmd, buf);
				goto out;
			}
			if (kind == ST_THROTTLE && BWE_ADDR_BITS - x->plen > 12) {
				e = bad("throttle: %s spans more than %d hosts; throttle hosts or "
					"smaller networks", buf, BWCTLD_THROTTLE_HOSTS_MAX);
				goto out;
			}
			break;
		case ST_BLOCK:
			if (flen < (v4 ? BWE_BL_V4_MIN_PLEN : BWE_BL_V6_MIN_PLEN)) {
				e = bad("block: %s is broader than /%d; refusing", buf,
					v4 ? BWE_BL_V4_MIN_PLEN : BWE_BL_V6_MIN_PLEN);
				goto out;
			}
			if (list_covers(&d->cfg->internal, x)) {
				e = bad("block: %s is inside internal_networks: quarantine internal "
					"hosts instead", buf);
				goto out;
			}
			if (list_covers(&d->cfg->allowlist, x) || list_covers(&d->cfg->exempt, x)) {
				e = bad("block: %s is allowlisted or exempt and would never be blocked",
					buf);
				goto out;
			}
			if (!force && gateway_inside(x)) {
				e = bad("block: %s is an address of this gateway", buf);
				goto out;
			}
			break;
		default:
			break;
		}
		ents[i].kind = kind;
		ents[i].pfx = *x;
		snprintf(ents[i].reason, sizeof(ents[i].reason), "%s", reason);
		snprintf(ents[i].actor, sizeof(ents[i].actor), "%s", r->who.text);
		ents[i].since = now;
		ents[i].expires = ttl ? now + (time_t)ttl : 0;
		ents[i].rate = rate;
		ents[i].burst = burst;
	}
	e = commit(r, ents, n, true);
out:
	free(ents);
	free(p);
	return e;
}

static struct json_object *cmd_del(struct request *r, enum st_kind kind, const char *key)
{
	struct daemon *d = r->d;
	struct bwe_prefix *p = NULL;
	struct st_entry *ents = NULL;
	struct json_object *e;
	char reason[BWCTLD_REASON_MAX], buf[BWE_PREFIX_STRLEN];
	size_t n = 0, i;

	if ((e = arg_prefixes(r, key, &p, &n)) || (e = arg_reason(r, reason)))
		goto out;
	ents = calloc(n, sizeof(*ents));
	if (!ents) {
		e = bwe_proto_err(BWE_ST_FAILED, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		struct st_entry *cur = st_find(d, kind, &p[i]);

		if (!cur) {
			bwe_prefix_fmt(&p[i], buf, sizeof(buf));
			e = bwe_proto_err(BWE_ST_FAILED, "%s: %s has no %s entry", r->cmd, buf,
					  st_kind_name(kind));
			goto out;
		}
		ents[i] = *cur;
		if (reason[0])
			snprintf(ents[i].reason, sizeof(ents[i].reason), "%s", reason);
	}
	e = commit(r, ents, n, false);
out:
	free(ents);
	free(p);
	return e;
}

static struct json_object *cmd_list(struct request *r)
{
	static const struct { const char *name; enum st_kind k; } kinds[] = {
		{ "quarantine", ST_QUARANTINE }, { "throttle", ST_THROTTLE },
		{ "blocks", ST_BLOCK }, { "block", ST_BLOCK },
		{ "exempt", ST_EXEMPT }, { "allow", ST_ALLOW },
	};
	const char *kind = arg_str(r, "kind");
	struct json_object *arr;
	size_t i, j;

	for (j = 0; kind && j < sizeof(kinds) / sizeof(kinds[0]); j++)
		if (!strcmp(kind, kinds[j].name))
			break;
	if (!kind || j == sizeof(kinds) / sizeof(kinds[0]))
		return bad("list: kind must be quarantine, throttle, blocks, exempt or allow");
	arr = json_object_new_array();
	for (i = 0; i < r->d->state.n; i++)
		if (r->d->state.v[i].kind == kinds[j].k)
			json_object_array_add(arr, st_entry_json(&r->d->state.v[i]));
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
	if (strcmp(sort, "tx") && strcmp(sort, "rx") && strcmp(sort, "drops") && strcmp(sort, "rate"))
		return bad("top: sort must be tx, rx, drops or rate");
	return bwe_proto_ok(query_top(r->d, (int)n, sort));
}

static struct json_object *cmd_lookup(struct request *r)
{
	const char *s = arg_str(r, "address");
	struct bwe_addr a;

	if (!s || bwe_addr_parse(s, &a))
		return bad("lookup: \"%s\" is not an IPv4/IPv6 address", s ? s : "");
	return bwe_proto_ok(query_lookup(r->d, &a));
}

static struct json_object *iface_json(const struct bwe_iface *ifc)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(ifc->name));
	json_object_object_add(o, "ifindex", json_object_new_int(ifc->ifindex));
	json_object_object_add(o, "prog_id", json_object_new_uint64(ifc->prog_id));
	json_object_object_add(o, "attached_mode", json_object_new_string(
		ifc->mode == XDP_MODE_NATIVE ? "native" : ifc->mode == XDP_MODE_SKB ? "generic" : "none"));
	json_object_object_add(o, "multiprog", json_object_new_boolean(ifc->multiprog));
	json_object_object_add(o, "note", json_object_new_string(ifc->note));
	return o;
}

static struct json_object *cmd_attach(struct request *r)
{
	struct daemon *d = r->d;
	const char *name = arg_str(r, "iface"), *mode = arg_str(r, "mode");
	enum bwe_attach_mode m = BWE_MODE_AUTO;
	struct bwe_iface *ifc;
	int err;

	if (!name || !name[0] || strlen(name) >= sizeof(ifc->name) || strchr(name, '/'))
		return bad("attach: \"%s\" is not an interface name", name ? name : "");
	if (mode && !strcmp(mode, "native"))
		m = BWE_MODE_NATIVE;
	else if (mode && !strcmp(mode, "generic"))
		m = BWE_MODE_GENERIC;
	else if (mode && strcmp(mode, "auto"))
		return bad("attach: mode must be native, generic or auto");
	ifc = iface_find(d, name);
	if (!ifc) {
		struct bwe_iface *v = reallocarray(d->ifaces, d->n_ifaces + 1, sizeof(*v));

		if (!v)
			return bwe_proto_err(BWE_ST_FAILED, "out of memory");
		d->ifaces = v;
		ifc = &d->ifaces[d->n_ifaces++];
		memset(ifc, 0, sizeof(*ifc));
		snprintf(ifc->name, sizeof(ifc->name), "%s", name);
	}
	ifc->want = m;
	err = bwe_attach(ifc, bwe_dp_prog_fd(d->dp));
	if (err)
		return bwe_proto_err(BWE_ST_FAILED, "attach %s: %s%s%s", name, strerror(-err),
				     ifc->note[0] ? ": " : "", ifc->note);
	log_info("attached to %s (%s) for %s", name, bwe_attach_mode_name(m), r->who.text);
	return bwe_proto_ok(iface_json(ifc));
}

static struct json_object *cmd_detach(struct request *r)
{
	struct daemon *d = r->d;
	const char *name = arg_str(r, "iface");
	struct json_object *res = json_object_new_object(), *arr = json_object_new_array();
	size_t i;
	int err = 0;

	if (name && !iface_find(d, name)) {
		json_object_put(res);
		json_object_put(arr);
		return bad("detach: %s is not an interface of this daemon", name);
	}
	for (i = 0; i < d->n_ifaces; i++) {
		struct bwe_iface *ifc = &d->ifaces[i];

		if (name && strcmp(ifc->name, name))
			continue;
		err = bwe_detach(ifc) ?: err;
		ifc->want = BWE_MODE_AUTO;
		snprintf(ifc->note, sizeof(ifc->note), "detached by uid %u", (unsigned)r->who.uid);
		json_object_array_add(arr, json_object_new_string(ifc->name));
		log_info("detached from %s for %s", ifc->name, r->who.text);
	}
	json_object_object_add(res, "detached", arr);
	if (!name) {
		/* all of it: the pins go too (the daemon's own references keep the maps alive) */
		err = bwe_dp_unpin(d->cfg->paths.pin_dir) ?: err;
		json_object_object_add(res, "unpinned", json_object_new_string(d->cfg->paths.pin_dir));
		log_info("maps unpinned from %s for %s", d->cfg->paths.pin_dir, r->who.text);
	}
	if (err) {
		json_object_put(res);
		return bwe_proto_err(BWE_ST_FAILED, "detach: %s", strerror(-err));
	}
	return bwe_proto_ok(res);
}

static struct json_object *cmd_report(struct request *r)
{
	const char *s = arg_str(r, "host");
	struct bwe_addr a;

	if (!s || bwe_addr_parse(s, &a))
		return bad("report: \"%s\" is not an IPv4/IPv6 address", s ? s : "");
	hosts_sample(r->d);
	return bwe_proto_ok(detector_report(r->d, &a));
}

static struct json_object *cmd_feeds_refresh(struct request *r)
{
	const char *name = arg_str(r, "name");
	struct json_object *names = json_object_new_array(), *res;

	if (feeds_refresh(r->d, name, names)) {
		json_object_put(names);
		return bad("feeds refresh: no feed named \"%.64s\"", name);
	}
	log_info("feeds refreshed for %s", r->who.text);
	res = json_object_new_object();
	json_object_object_add(res, "refreshed", names);
	return bwe_proto_ok(res);
}

static struct json_object *dispatch(struct request *r)
{
	static const struct { const char *cmd; enum st_kind kind; const char *key; bool add; } edits[] = {
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

	for (i = 0; i < sizeof(edits) / sizeof(edits[0]); i++)
		if (!strcmp(r->cmd, edits[i].cmd))
			return edits[i].add ? cmd_add(r, edits[i].kind, edits[i].key)
					    : cmd_del(r, edits[i].kind, edits[i].key);
	if (!strcmp(r->cmd, "status"))
		return bwe_proto_ok(query_status(r->d));
	if (!strcmp(r->cmd, "stats")) {
		struct json_object *s = query_stats(r->d);

		return s ? bwe_proto_ok(s) : bwe_proto_err(BWE_ST_FAILED, "stats: cannot read counters");
	}
	if (!strcmp(r->cmd, "list"))
		return cmd_list(r);
	if (!strcmp(r->cmd, "top"))
		return cmd_top(r);
	if (!strcmp(r->cmd, "lookup"))
		return cmd_lookup(r);
	if (!strcmp(r->cmd, "attach"))
		return cmd_attach(r);
	if (!strcmp(r->cmd, "detach"))
		return cmd_detach(r);
	if (!strcmp(r->cmd, "report"))
		return cmd_report(r);
	if (!strcmp(r->cmd, "feeds"))
		return bwe_proto_ok(feeds_list_json(r->d));
	if (!strcmp(r->cmd, "feeds_refresh"))
		return cmd_feeds_refresh(r);
	return bad("unknown command \"%.64s\"", r->cmd);
}

static void describe_actor(struct actor *who, const struct ucred *cr, const char *argv)
{
	struct passwd *pw = getpwuid(cr->uid);
	char shown[96];

	who->uid = cr->uid;
	who->pid = cr->pid;
	snprintf(who->user, sizeof(who->user), "%s", pw ? pw->pw_name : "?");
	snprintf(shown, sizeof(shown), "%s", argv ? argv : "");
	snprintf(who->text, sizeof(who->text), "uid=%u(%s) pid=%d%s%s", (unsigned)cr->uid,
		 who->user, (int)cr->pid, shown[0] ? ": " : "", shown);
}

void control_accept(struct daemon *d)
{
	struct request r = { .d = d };
	struct json_object *reply = NULL;
	struct ucred cr;
	socklen_t crlen = sizeof(cr);
	char why[160];
	int fd, err;

	fd = accept4(d->ctlfd, NULL, NULL, SOCK_CLOEXEC);
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
	if (!peer_allowed(d, &cr, why, sizeof(why))) {
		log_warnx("refused control request from %s: %s", r.who.text, why);
		reply = bwe_proto_err(BWE_ST_FAILED, "%s", why);
		goto send;
	}
	if (err) {
		log_warnx("bad control request from %s: %s", r.who.text,
			  err == -EMSGSIZE ? "oversized" : err == -EBADMSG ? "not a JSON object" :
			  strerror(-err));
		if (err == -EMSGSIZE || err == -EBADMSG)
			reply = bwe_proto_err(BWE_ST_BADINPUT, "%s",
					      err == -EMSGSIZE ? "request too large" :
					      "request is not a JSON object");
		goto send;
	}
	r.cmd = arg_str(&r, "cmd");
	if (!r.cmd) {
		reply = bad("request has no \"cmd\"");
		goto send;
	}
	log_info("request %.32s from %s", r.cmd, r.who.text);
	reply = dispatch(&r);
send:
	if (reply) {
		bwe_proto_send(fd, reply);
		json_object_put(reply);
	}
	json_object_put(r.req);
	close(fd);
}
