// SPDX-License-Identifier: GPL-2.0-only
/* store.c - the operator state table; contract in store.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "util.h"

#define STATE_VERSION 2 /* 1: actors were strings */
#define STATE_MIN_CAP 16

struct st_store {
	struct st_entry *v;
	size_t n, cap;
};

static const char *const kind_names[ST_KINDS] = {
	[ST_QUARANTINE] = "quarantine", [ST_THROTTLE] = "throttle", [ST_BLOCK] = "block",
	[ST_EXEMPT] = "exempt",		[ST_ALLOW] = "allow",
};

struct st_store *st_new(void)
{
	return calloc(1, sizeof(struct st_store));
}

void st_free(struct st_store *s)
{
	if (!s)
		return;
	free(s->v);
	free(s);
}

const char *st_kind_name(enum st_kind k)
{
	return (unsigned int)k < ST_KINDS ? kind_names[k] : "?";
}

int st_kind_from_name(const char *name)
{
	int k;

	for (k = 0; name && k < ST_KINDS; k++)
		if (!strcmp(name, kind_names[k]))
			return k;
	return -1;
}

size_t st_count(const struct st_store *s)
{
	return s->n;
}

const struct st_entry *st_at(const struct st_store *s, size_t i)
{
	return i < s->n ? &s->v[i] : NULL;
}

static struct st_entry *find(const struct st_store *s, enum st_kind k, const struct bwe_prefix *p)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->v[i].kind == k && !bwe_prefix_cmp(&s->v[i].pfx, p))
			return &s->v[i];
	return NULL;
}

const struct st_entry *st_find(const struct st_store *s, enum st_kind k, const struct bwe_prefix *p)
{
	return find(s, k, p);
}

const struct st_entry *st_match(const struct st_store *s, enum st_kind k, const struct bwe_addr *a)
{
	const struct st_entry *best = NULL;
	size_t i;

	for (i = 0; i < s->n; i++) {
		const struct st_entry *e = &s->v[i];

		if (e->kind == k && bwe_prefix_contains(&e->pfx, a) &&
		    (!best || e->pfx.plen > best->pfx.plen))
			best = e;
	}
	return best;
}

bool st_overlaps(const struct st_store *s, enum st_kind k, const struct bwe_prefix *p)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		const struct st_entry *e = &s->v[i];

		if (e->kind == k &&
		    (bwe_prefix_covers(&e->pfx, p) || bwe_prefix_covers(p, &e->pfx)))
			return true;
	}
	return false;
}

int st_put(struct st_store *s, const struct st_entry *e)
{
	struct st_entry *old = find(s, e->kind, &e->pfx);

	if ((unsigned int)e->kind >= ST_KINDS)
		return -EINVAL;
	if (old) {
		*old = *e;
		return 0;
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : STATE_MIN_CAP;
		struct st_entry *v = reallocarray(s->v, cap, sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = *e;
	return 0;
}

int st_del(struct st_store *s, enum st_kind k, const struct bwe_prefix *p)
{
	struct st_entry *e = find(s, k, p);

	if (!e)
		return -ENOENT;
	*e = s->v[--s->n];
	return 0;
}

struct st_store *st_clone(const struct st_store *s)
{
	struct st_store *c = st_new();

	if (!c)
		return NULL;
	c->v = calloc(s->cap ? s->cap : 1, sizeof(*c->v));
	if (!c->v) {
		free(c);
		return NULL;
	}
	memcpy(c->v, s->v, s->n * sizeof(*s->v));
	c->n = s->n;
	c->cap = s->cap ? s->cap : 1;
	return c;
}

void st_restore(struct st_store *s, struct st_store *copy)
{
	free(s->v);
	*s = *copy;
	free(copy);
}

struct json_object *st_entry_json(const struct st_entry *e)
{
	struct json_object *o = json_object_new_object();
	char buf[BWE_PREFIX_STRLEN], who[ACTOR_TEXT_MAX];
	bool host = e->pfx.plen == BWE_ADDR_BITS;

	bwe_prefix_fmt(&e->pfx, buf, sizeof(buf));
	actor_fmt(&e->actor, who, sizeof(who));
	json_object_object_add(o, "kind", json_object_new_string(st_kind_name(e->kind)));
	json_object_object_add(o, host && e->kind != ST_BLOCK ? "host" : "cidr",
			       json_object_new_string(buf));
	json_object_object_add(o, "reason", json_object_new_string(e->reason));
	json_object_object_add(o, "actor", json_object_new_string(who));
	json_object_object_add(o, "by", actor_json(&e->actor));
	json_add_time(o, "since", e->since);
	json_add_time(o, "expires", e->expires);
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
	json_object_object_add(o, "actor", actor_json(&e->actor));
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
	    (k = st_kind_from_name(json_object_get_string(v))) < 0)
		return -EINVAL;
	e->kind = (enum st_kind)k;
	if (!json_object_object_get_ex(o, "prefix", &v) ||
	    bwe_prefix_parse(json_object_get_string(v), &e->pfx, 0))
		return -EINVAL;
	if (json_object_object_get_ex(o, "reason", &v))
		snprintf(e->reason, sizeof(e->reason), "%s", json_object_get_string(v));
	if (json_object_object_get_ex(o, "actor", &v) && actor_from_json(v, &e->actor))
		return -EINVAL;
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

struct json_object *st_to_json(const struct st_store *s)
{
	struct json_object *root = json_object_new_object(), *arr = json_object_new_array();
	size_t i;

	json_object_object_add(root, "version", json_object_new_int(STATE_VERSION));
	for (i = 0; i < s->n; i++)
		json_object_array_add(arr, entry_to_file(&s->v[i]));
	json_object_object_add(root, "entries", arr);
	return root;
}

int st_from_json(struct st_store *s, struct json_object *root, size_t *skipped)
{
	struct st_store *t;
	struct json_object *arr;
	size_t i, n;
	int err = 0;

	*skipped = 0;
	if (!json_object_object_get_ex(root, "entries", &arr) ||
	    !json_object_is_type(arr, json_type_array))
		return -EINVAL;
	t = st_new();
	if (!t)
		return -ENOMEM;
	n = json_object_array_length(arr);
	for (i = 0; i < n && !err; i++) {
		struct st_entry e;

		if (entry_from_file(json_object_array_get_idx(arr, i), &e)) {
			(*skipped)++;
			continue;
		}
		err = st_put(t, &e);
	}
	if (err) {
		st_free(t);
		return err;
	}
	st_restore(s, t);
	return 0;
}
