// SPDX-License-Identifier: GPL-2.0-only
/*
 * ops.c - the one transaction for every change; contract in ops.h.
 *
 * The order of a change and what undoes each step:
 *   1. validate every entry (the guards below, the same for every actor);
 *   2. apply to the store, after a snapshot of it;
 *   3. save the state file (util.c: temporary file, fsync, rename) -- on
 *      failure the snapshot comes back and nothing else happened;
 *   4. enforce (maps) -- on failure the snapshot comes back, is saved
 *      again and re-enforced, so disk and kernel hold the old state;
 *   5. log one event per entry; 6. notify the observers.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blocklist.h"
#include "log.h"
#include "ops.h"
#include "util.h"

#define STATE_FILE_MODE 0640

struct op_change {
	enum op_verb verb;
	struct st_entry e; /* ADD: the new entry; DEL: the one removed */
};

struct ops {
	const struct bwe_cfgfile *cfg;
	struct st_store *st;
	struct enforcer *enf;
	struct evlog *log;
	char state_file[PATH_MAX];
	struct ops_observer obs[OPS_OBSERVERS_MAX];
	size_t nobs;
};

int ops_new(struct ops **out, const struct bwe_cfgfile *cfg, struct st_store *st,
	    struct enforcer *enf, struct evlog *log)
{
	struct ops *o = calloc(1, sizeof(*o));

	if (!o)
		return -ENOMEM;
	o->cfg = cfg;
	o->st = st;
	o->enf = enf;
	o->log = log;
	if (snprintf(o->state_file, sizeof(o->state_file), "%s/state.json", cfg->paths.state_dir) >=
	    (int)sizeof(o->state_file) - 8) {
		free(o);
		return -ENAMETOOLONG;
	}
	*out = o;
	return 0;
}

void ops_free(struct ops *o)
{
	free(o);
}

void ops_set_config(struct ops *o, const struct bwe_cfgfile *cfg)
{
	o->cfg = cfg; /* state_dir takes effect at the next start */
}

int ops_observe(struct ops *o, const struct ops_observer *obs)
{
	if (o->nobs == OPS_OBSERVERS_MAX)
		return -ENOSPC;
	o->obs[o->nobs++] = *obs;
	return 0;
}

/* ---- the state file ------------------------------------------------------- */

static int save(struct ops *o)
{
	struct json_object *root = st_to_json(o->st);
	const char *s = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY);
	size_t len = strlen(s);
	char *buf = malloc(len + 1);
	int err;

	if (!buf) {
		json_object_put(root);
		return -ENOMEM;
	}
	memcpy(buf, s, len);
	buf[len] = '\n';
	err = write_file_atomic(o->state_file, buf, len + 1, STATE_FILE_MODE);
	free(buf);
	json_object_put(root);
	if (err)
		log_warnx("cannot write state file %s: %s", o->state_file, strerror(-err));
	return err;
}

int ops_load(struct ops *o)
{
	struct json_object *root;
	size_t skipped = 0;
	int err;

	err = mkdir_p(o->cfg->paths.state_dir);
	if (err) {
		log_warnx("state_dir %s: %s", o->cfg->paths.state_dir, strerror(-err));
		return err;
	}
	if (access(o->state_file, F_OK))
		return 0; /* first start */
	root = json_object_from_file(o->state_file);
	err = root ? st_from_json(o->st, root, &skipped) : -EINVAL;
	json_object_put(root);
	if (err) {
		log_warnx("state file %s is unreadable (%s); refusing to start over it "
			  "(move it away to start empty)",
			  o->state_file, strerror(-err));
		return err;
	}
	if (skipped)
		log_warnx("state file %s: %zu malformed entries skipped", o->state_file, skipped);
	log_info("restored %zu state entries from %s", st_count(o->st), o->state_file);
	return 0;
}

/* ---- guards ------------------------------------------------------------------ */

static int refuse(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int refuse(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
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

static bool gateway_inside(const struct bwe_prefix *p)
{
	return p->plen == BWE_ADDR_BITS && is_gateway_addr(&p->addr);
}

/* Only people (and their fleet peers) may override a guard; rules never. */
static bool may_force(const struct actor *who)
{
	return who->kind == ACTOR_OPERATOR || who->kind == ACTOR_API || who->kind == ACTOR_FLEET;
}

static int check_request(const struct ops *o, const struct op_request *r, char *err, size_t len)
{
	size_t i;

	if (!r->n)
		return refuse(err, len, "%s: nothing given", r->action);
	if (r->n > OPS_ITEMS_MAX)
		return refuse(err, len, "%s: %zu entries given; at most %d in one change",
			      r->action, r->n, OPS_ITEMS_MAX);
	if ((unsigned int)r->kind >= ST_KINDS)
		return refuse(err, len, "%s: unknown kind", r->action);
	if (r->reason) {
		if (strlen(r->reason) >= ST_REASON_MAX)
			return refuse(err, len, "%s: reason is %zu bytes; at most %d allowed",
				      r->action, strlen(r->reason), ST_REASON_MAX - 1);
		for (i = 0; r->reason[i]; i++)
			if ((unsigned char)r->reason[i] < 0x20)
				return refuse(err, len, "%s: reason contains a control character",
					      r->action);
	}
	if (r->verb == OP_DEL)
		return 0;
	if (r->ttl_s > o->cfg->max_ttl_s)
		return refuse(err, len, "%s: ttl %llu is out of range (0..%llu)", r->action,
			      (unsigned long long)r->ttl_s, (unsigned long long)o->cfg->max_ttl_s);
	if (r->kind == ST_THROTTLE && (!r->rate || r->rate > BWE_RATE_MAX))
		return refuse(err, len, "throttle: a rate is required (bytes per second, 1..%llu)",
			      (unsigned long long)BWE_RATE_MAX);
	if (r->kind == ST_THROTTLE && r->burst > UINT32_MAX)
		return refuse(err, len, "%s: burst %llu is out of range (0..%u)", r->action,
			      (unsigned long long)r->burst, UINT32_MAX);
	return 0;
}

/* The guards of one prefix to add, the same for every actor. */
static int check_add(const struct ops *o, const struct op_request *r, const struct bwe_prefix *x,
		     char *err, size_t len)
{
	const struct bwe_cfgfile *cfg = o->cfg;
	bool force = r->force && may_force(r->who);
	char buf[BWE_PREFIX_STRLEN];
	int flen = bwe_prefix_family_len(x);
	bool v4 = bwe_addr_is_v4(&x->addr) && x->plen >= BWE_V4_MAPPED_PLEN;
	const char *what = r->kind == ST_QUARANTINE ? "quarantined" : "throttled";
	const struct st_entry *cur = st_find(o->st, r->kind, x);

	bwe_prefix_fmt(x, buf, sizeof(buf));
	if (cur && cur->actor.kind != ACTOR_RULE && r->who->kind == ACTOR_RULE) {
		snprintf(err, len, "%s: %s is held by %s's %s entry; a rule never replaces it",
			 r->action, buf, actor_kind_name(cur->actor.kind), st_kind_name(r->kind));
		return -EPERM;
	}
	switch (r->kind) {
	case ST_QUARANTINE:
	case ST_THROTTLE:
		if (!list_covers(&cfg->internal, x))
			return refuse(err, len,
				      "%s: %s is not inside internal_networks: only "
				      "internal hosts can be %s",
				      r->action, buf, what);
		if (!force &&
		    (list_overlaps(&cfg->allowlist, x) || st_overlaps(o->st, ST_ALLOW, x)))
			return refuse(err, len, "%s: %s is allowlisted; use --force to override",
				      r->action, buf);
		if (!force && (list_overlaps(&cfg->exempt, x) || st_overlaps(o->st, ST_EXEMPT, x)))
			return refuse(err, len,
				      "%s: %s is exempt (management, DNS, DHCP); use "
				      "--force to override",
				      r->action, buf);
		if (!force && gateway_inside(x))
			return refuse(err, len,
				      "%s: %s is an address of this gateway; use --force "
				      "to override",
				      r->action, buf);
		if (r->kind == ST_THROTTLE && BWE_ADDR_BITS - x->plen > ENF_THROTTLE_HOST_BITS)
			return refuse(err, len,
				      "throttle: %s spans more than %d hosts; throttle "
				      "hosts or smaller networks",
				      buf, 1 << ENF_THROTTLE_HOST_BITS);
		break;
	case ST_BLOCK:
		if (flen < (v4 ? BWE_BL_V4_MIN_PLEN : BWE_BL_V6_MIN_PLEN))
			return refuse(err, len, "block: %s is broader than /%d; refusing", buf,
				      v4 ? BWE_BL_V4_MIN_PLEN : BWE_BL_V6_MIN_PLEN);
		if (list_covers(&cfg->internal, x))
			return refuse(err, len,
				      "block: %s is inside internal_networks: "
				      "quarantine internal hosts instead",
				      buf);
		if (list_covers(&cfg->allowlist, x) || list_covers(&cfg->exempt, x))
			return refuse(err, len,
				      "block: %s is allowlisted or exempt and would "
				      "never be blocked",
				      buf);
		if (!force && gateway_inside(x))
			return refuse(err, len, "block: %s is an address of this gateway", buf);
		break;
	case ST_ALLOW:
	case ST_EXEMPT:
		/* the same width limit as block: allow 0.0.0.0/1 128.0.0.0/1 would end enforcement */
		if (flen < (v4 ? OPS_OPEN_V4_MIN_PLEN : OPS_OPEN_V6_MIN_PLEN))
			return refuse(err, len, "%s: %s is broader than /%d; refusing", r->action,
				      buf, v4 ? OPS_OPEN_V4_MIN_PLEN : OPS_OPEN_V6_MIN_PLEN);
		break;
	default:
		break;
	}
	return 0;
}

/* Turn a request into the entries it changes, or refuse it whole. */
static int plan(const struct ops *o, const struct op_request *r, struct op_change *ch, char *err,
		size_t len)
{
	time_t now = time(NULL);
	size_t i, j;
	int e;

	for (i = 0; i < r->n; i++) {
		const struct st_entry *cur = st_find(o->st, r->kind, &r->pfx[i]);
		struct st_entry *x = &ch[i].e;
		char buf[BWE_PREFIX_STRLEN];

		for (j = 0; j < i; j++)
			if (!bwe_prefix_cmp(&r->pfx[j], &r->pfx[i])) {
				bwe_prefix_fmt(&r->pfx[i], buf, sizeof(buf));
				return refuse(err, len, "%s: %s is given twice", r->action, buf);
			}
		ch[i].verb = r->verb;
		if (r->verb == OP_DEL) {
			if (!cur) {
				bwe_prefix_fmt(&r->pfx[i], buf, sizeof(buf));
				snprintf(err, len, "%s: %s has no %s entry", r->action, buf,
					 st_kind_name(r->kind));
				return -ENOENT;
			}
			*x = *cur;
			if (r->reason && r->reason[0])
				snprintf(x->reason, sizeof(x->reason), "%s", r->reason);
			continue;
		}
		e = check_add(o, r, &r->pfx[i], err, len);
		if (e)
			return e;
		memset(x, 0, sizeof(*x));
		x->kind = r->kind;
		x->pfx = r->pfx[i];
		snprintf(x->reason, sizeof(x->reason), "%s", r->reason ? r->reason : "");
		x->actor = *r->who;
		x->since = cur ? cur->since : now; /* containment began then */
		x->expires = r->ttl_s ? now + (time_t)r->ttl_s : 0;
		if (r->kind == ST_THROTTLE) {
			x->rate = r->rate;
			x->burst = r->burst ? r->burst : bwe_default_burst(o->cfg, r->rate);
		}
	}
	return 0;
}

/* ---- the transaction ------------------------------------------------------- */

static int enforce_changes(struct ops *o, const struct op_change *ch, size_t n)
{
	size_t i;
	int err = 0;

	for (i = 0; i < n && !err; i++)
		err = enf_entry(o->enf, &ch[i].e, ch[i].verb == OP_ADD);
	return err ?: enf_netclass(o->enf);
}

/* Make the maps match the store again for the entries ch touched. */
static void reenforce(struct ops *o, const struct op_change *ch, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const struct st_entry *now = st_find(o->st, ch[i].e.kind, &ch[i].e.pfx);

		enf_entry(o->enf, now ? now : &ch[i].e, now != NULL);
	}
	enf_netclass(o->enf);
}

static int commit(struct ops *o, const char *action, const struct actor *who,
		  const struct op_change *ch, size_t n, struct json_object *annotate, char *errbuf,
		  size_t errlen)
{
	struct st_store *snap = st_clone(o->st);
	size_t i, k;
	int err = 0;

	if (!snap) {
		snprintf(errbuf, errlen, "%s: out of memory", action);
		return -ENOMEM;
	}
	for (i = 0; i < n && !err; i++)
		err = ch[i].verb == OP_ADD ? st_put(o->st, &ch[i].e)
					   : st_del(o->st, ch[i].e.kind, &ch[i].e.pfx);
	err = err ?: save(o);
	if (err) {
		st_restore(o->st, snap);
		snprintf(errbuf, errlen, "%s: cannot record the change: %s; nothing changed",
			 action, strerror(-err));
		return err;
	}
	err = enforce_changes(o, ch, n);
	if (err) {
		st_restore(o->st, snap);
		save(o);
		reenforce(o, ch, n);
		snprintf(errbuf, errlen,
			 "%s: the maps could not be updated (%s); the change "
			 "was rolled back",
			 action, strerror(-err));
		return err;
	}
	st_free(snap);
	for (i = 0; i < n; i++) {
		struct json_object *ev = ev_state_change(action, &ch[i].e, who);

		ev_merge(ev, annotate);
		evlog_emit_audit(o->log, ev); /* never rate-limited */
		for (k = 0; k < o->nobs; k++)
			if (o->obs[k].changed)
				o->obs[k].changed(o->obs[k].ctx, action, ch[i].verb, &ch[i].e, who);
	}
	return 0;
}

int ops_apply(struct ops *o, const struct op_request *r, struct json_object **changed, char *err,
	      size_t errlen)
{
	struct op_change *ch;
	size_t i;
	int e;

	err[0] = '\0';
	e = check_request(o, r, err, errlen);
	if (e)
		return e;
	ch = calloc(r->n, sizeof(*ch));
	if (!ch) {
		snprintf(err, errlen, "%s: out of memory", r->action);
		return -ENOMEM;
	}
	e = plan(o, r, ch, err, errlen);
	e = e ?: commit(o, r->action, r->who, ch, r->n, r->annotate, err, errlen);
	if (!e && changed) {
		*changed = json_object_new_array();
		for (i = 0; i < r->n; i++)
			json_object_array_add(*changed, st_entry_json(&ch[i].e));
	}
	if (e) {
		char who[ACTOR_TEXT_MAX];

		actor_fmt(r->who, who, sizeof(who));
		log_info("refused for %s: %s", who, err);
	}
	free(ch);
	return e;
}

int ops_expire(struct ops *o, time_t now)
{
	struct op_change *ch = NULL;
	struct actor ttl;
	size_t i, n = 0;
	char err[OPS_ERR_LEN];
	int e;

	for (i = 0; i < st_count(o->st); i++) {
		const struct st_entry *x = st_at(o->st, i);

		if (x->expires && x->expires <= now)
			n++;
	}
	if (!n)
		return 0;
	ch = calloc(n, sizeof(*ch));
	if (!ch)
		return -ENOMEM;
	for (i = 0, n = 0; i < st_count(o->st); i++) {
		const struct st_entry *x = st_at(o->st, i);

		if (x->expires && x->expires <= now) {
			ch[n].verb = OP_DEL;
			ch[n++].e = *x;
		}
	}
	actor_set(&ttl, ACTOR_EXPIRY, NULL, NULL);
	e = commit(o, "expire", &ttl, ch, n, NULL, err, sizeof(err));
	if (e)
		log_warnx("%s; will try again", err);
	free(ch);
	return e;
}

void ops_hit(struct ops *o, const struct ops_hit *h)
{
	size_t k;

	for (k = 0; k < o->nobs; k++)
		if (o->obs[k].hit)
			o->obs[k].hit(o->obs[k].ctx, h);
}
