// SPDX-License-Identifier: GPL-2.0-only
/*
 * state.c - operator state (quarantines, throttles, manual blocks,
 * exemptions, allow entries): the table, its file and its expiry.
 *
 * The file is JSON, written whole to a temporary file, fsync'ed, renamed
 * over the old one and the directory fsync'ed, before the change is
 * acknowledged: a kill -9 at any moment leaves either the old or the new
 * state, never a torn one.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "bwctld.h"
#include "log.h"

#define STATE_VERSION 1
#define STATE_MIN_CAP 16

static const char *const kind_names[ST_KINDS] = {
	[ST_QUARANTINE] = "quarantine",
	[ST_THROTTLE] = "throttle",
	[ST_BLOCK] = "block",
	[ST_EXEMPT] = "exempt",
	[ST_ALLOW] = "allow",
};

const char *st_kind_name(enum st_kind k)
{
	return k < ST_KINDS ? kind_names[k] : "?";
}

static int kind_from_name(const char *s)
{
	int k;

	for (k = 0; k < ST_KINDS; k++)
		if (!strcmp(s, kind_names[k]))
			return k;
	return -1;
}

void fmt_time(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static bool same_prefix(const struct bwe_prefix *a, const struct bwe_prefix *b)
{
	return a->plen == b->plen && !memcmp(&a->addr, &b->addr, sizeof(a->addr));
}

struct st_entry *st_find(struct daemon *d, enum st_kind k, const struct bwe_prefix *p)
{
	size_t i;

	for (i = 0; i < d->state.n; i++)
		if (d->state.v[i].kind == k && same_prefix(&d->state.v[i].pfx, p))
			return &d->state.v[i];
	return NULL;
}

struct st_entry *st_match(struct daemon *d, enum st_kind k, const struct bwe_addr *a)
{
	struct st_entry *best = NULL;
	size_t i;

	for (i = 0; i < d->state.n; i++) {
		struct st_entry *e = &d->state.v[i];

		if (e->kind == k && bwe_prefix_contains(&e->pfx, a) &&
		    (!best || e->pfx.plen > best->pfx.plen))
			best = e;
	}
	return best;
}

int st_put(struct daemon *d, const struct st_entry *e)
{
	struct st_entry *old = st_find(d, e->kind, &e->pfx);

	if (old) {
		*old = *e;
		return 0;
	}
	if (d->state.n == d->state.cap) {
		size_t cap = d->state.cap ? d->state.cap * 2 : STATE_MIN_CAP;
		struct st_entry *v = reallocarray(d->state.v, cap, sizeof(*v));

		if (!v)
			return -ENOMEM;
		d->state.v = v;
		d->state.cap = cap;
	}
	d->state.v[d->state.n++] = *e;
	return 0;
}

int st_del(struct daemon *d, enum st_kind k, const struct bwe_prefix *p)
{
	struct st_entry *e = st_find(d, k, p);

	if (!e)
		return -ENOENT;
	*e = d->state.v[--d->state.n];
	return 0;
}

struct json_object *st_entry_json(const struct st_entry *e)
{
	struct json_object *o = json_object_new_object();
	char buf[BWE_PREFIX_STRLEN], t[32];
	bool host = e->pfx.plen == BWE_ADDR_BITS;

	bwe_prefix_fmt(&e->pfx, buf, sizeof(buf));
	json_object_object_add(o, "kind", json_object_new_string(st_kind_name(e->kind)));
	json_object_object_add(o, host && e->kind != ST_BLOCK ? "host" : "cidr",
			       json_object_new_string(buf));
	json_object_object_add(o, "reason", json_object_new_string(e->reason));
	json_object_object_add(o, "actor", json_object_new_string(e->actor));
	fmt_time(e->since, t, sizeof(t));
	json_object_object_add(o, "since", json_object_new_string(t));
	if (e->expires) {
		fmt_time(e->expires, t, sizeof(t));
		json_object_object_add(o, "expires", json_object_new_string(t));
	} else {
		json_object_object_add(o, "expires", NULL);
	}
	if (e->kind == ST_THROTTLE) {
		json_object_object_add(o, "rate", json_object_new_uint64(e->rate));
		json_object_object_add(o, "burst", json_object_new_uint64(e->burst));
	}
	return o;
}

/* The file form keeps raw epoch seconds, so nothing is lost to formatting. */
static struct json_object *entry_to_file(const struct st_entry *e)
{
	struct json_object *o = json_object_new_object();
	char buf[BWE_PREFIX_STRLEN];

	bwe_prefix_fmt(&e->pfx, buf, sizeof(buf));
	json_object_object_add(o, "kind", json_object_new_string(st_kind_name(e->kind)));
	json_object_object_add(o, "prefix", json_object_new_string(buf));
	json_object_object_add(o, "reason", json_object_new_string(e->reason));
	json_object_object_add(o, "actor", json_object_new_string(e->actor));
	json_object_object_add(o, "since", json_object_new_int64(e->since));
	json_object_object_add(o, "expires", json_object_new_int64(e->expires));
	json_object_object_add(o, "rate", json_object_new_uint64(e->rate));
	json_object_object_add(o, "burst", json_object_new_uint64(e->burst));
	return o;
}

static int entry_from_file(struct json_object *o, struct st_entry *e)
{
	struct json_object *v;
	int k;

	memset(e, 0, sizeof(*e));
	if (!json_object_object_get_ex(o, "kind", &v) ||
	    (k = kind_from_name(json_object_get_string(v))) < 0)
		return -EINVAL;
	e->kind = (enum st_kind)k;
	if (!json_object_object_get_ex(o, "prefix", &v) ||
	    bwe_prefix_parse(json_object_get_string(v), &e->pfx, 0))
		return -EINVAL;
	if (json_object_object_get_ex(o, "reason", &v))
		snprintf(e->reason, sizeof(e->reason), "%s", json_object_get_string(v));
	if (json_object_object_get_ex(o, "actor", &v))
		snprintf(e->actor, sizeof(e->actor), "%s", json_object_get_string(v));
	if (json_object_object_get_ex(o, "since", &v))
		e->since = json_object_get_int64(v);
	if (json_object_object_get_ex(o, "expires", &v))
		e->expires = json_object_get_int64(v);
	if (json_object_object_get_ex(o, "rate", &v))
		e->rate = json_object_get_uint64(v);
	if (json_object_object_get_ex(o, "burst", &v))
		e->burst = json_object_get_uint64(v);
	return 0;
}

static int mkdir_p(const char *dir)
{
	char tmp[PATH_MAX];
	char *p;

	if (snprintf(tmp, sizeof(tmp), "%s", dir) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	for (p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0750) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0750) && errno != EEXIST)
		return -errno;
	return 0;
}

int st_save(struct daemon *d)
{
	struct json_object *root = json_object_new_object(), *arr = json_object_new_array();
	char tmp[PATH_MAX];
	const char *s;
	size_t i, len;
	int fd, dfd, err = 0;

	json_object_object_add(root, "version", json_object_new_int(STATE_VERSION));
	for (i = 0; i < d->state.n; i++)
		json_object_array_add(arr, entry_to_file(&d->state.v[i]));
	json_object_object_add(root, "entries", arr);
	s = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY);
	len = strlen(s);

	snprintf(tmp, sizeof(tmp), "%s.tmp", d->state_file);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	if (write(fd, s, len) != (ssize_t)len || write(fd, "\n", 1) != 1 || fsync(fd)) {
		err = errno ? -errno : -EIO;
		close(fd);
		unlink(tmp);
		goto out;
	}
	close(fd);
	if (rename(tmp, d->state_file)) {
		err = -errno;
		unlink(tmp);
		goto out;
	}
	dfd = open(d->cfg->paths.state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
out:
	json_object_put(root);
	if (err)
		log_warnx("cannot write state file %s: %s", d->state_file, strerror(-err));
	return err;
}

int st_load(struct daemon *d)
{
	struct json_object *root, *arr;
	size_t i, n;
	int err;

	err = mkdir_p(d->cfg->paths.state_dir);
	if (err) {
		log_warnx("state_dir %s: %s", d->cfg->paths.state_dir, strerror(-err));
		return err;
	}
	snprintf(d->state_file, sizeof(d->state_file), "%s/state.json", d->cfg->paths.state_dir);
	if (access(d->state_file, F_OK))
		return 0;	/* first start */
	root = json_object_from_file(d->state_file);
	if (!root || !json_object_object_get_ex(root, "entries", &arr) ||
	    !json_object_is_type(arr, json_type_array)) {
		log_warnx("state file %s is unreadable; refusing to start over it "
			  "(move it away to start empty)", d->state_file);
		json_object_put(root);
		return -EINVAL;
	}
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++) {
		struct st_entry e;

		if (entry_from_file(json_object_array_get_idx(arr, i), &e)) {
			log_warnx("state file %s: entry %zu is malformed, skipped", d->state_file, i);
			continue;
		}
		err = st_put(d, &e);
		if (err)
			break;
	}
	json_object_put(root);
	log_info("restored %zu state entries from %s", d->state.n, d->state_file);
	return err;
}

void st_expire(struct daemon *d, time_t now)
{
	bool changed = false;
	size_t i = 0;

	while (i < d->state.n) {
		struct st_entry e = d->state.v[i];

		if (!e.expires || e.expires > now) {
			i++;
			continue;
		}
		d->state.v[i] = d->state.v[--d->state.n];
		changed = true;
		enforce_entry(d, &e, false);
		events_state_change(d, "expire", &e, "ttl");
	}
	if (changed) {
		enforce_netclass(d);
		st_save(d);
	}
}
