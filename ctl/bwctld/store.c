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

struct st_tbl {
	struct st_entry *v;
	size_t n, cap;
};

struct st_store {
	struct st_entry *v; /* address entries */
	size_t n, cap;
	struct st_tbl hosts; /* host records (MAC addresses) */
};

static const char *const learnt_names[ST_LEARNT_KINDS] = {
	[ST_LEARNT_GIVEN] = "given",
	[ST_LEARNT_NEIGHBOUR] = "neighbour",
	[ST_LEARNT_TRAFFIC] = "traffic",
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
	free(s->hosts.v);
	free(s);
}

const char *st_learnt_name(enum st_learnt l)
{
	return (unsigned int)l < ST_LEARNT_KINDS ? learnt_names[l] : "?";
}

int st_learnt_from_name(const char *name)
{
	int l;

	for (l = 0; name && l < ST_LEARNT_KINDS; l++)
		if (!strcmp(name, learnt_names[l]))
			return l;
	return -1;
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

/* Append e to a table of entries. */
static int tbl_add(struct st_entry **v, size_t *n, size_t *cap, const struct st_entry *e)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : STATE_MIN_CAP;
		struct st_entry *nv = reallocarray(*v, c, sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = c;
	}
	(*v)[(*n)++] = *e;
	return 0;
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
	return tbl_add(&s->v, &s->n, &s->cap, e);
}

/* ---- host records ------------------------------------------------------------ */

static struct st_entry *host_find(const struct st_store *s, enum st_kind k,
				  const __u8 mac[BWE_MAC_LEN])
{
	size_t i;

	for (i = 0; i < s->hosts.n; i++)
		if (s->hosts.v[i].kind == k && !memcmp(s->hosts.v[i].mac, mac, BWE_MAC_LEN))
			return &s->hosts.v[i];
	return NULL;
}

size_t st_host_count(const struct st_store *s)
{
	return s->hosts.n;
}

const struct st_entry *st_host_at(const struct st_store *s, size_t i)
{
	return i < s->hosts.n ? &s->hosts.v[i] : NULL;
}

const struct st_entry *st_host_find(const struct st_store *s, enum st_kind k,
				    const __u8 mac[BWE_MAC_LEN])
{
	return host_find(s, k, mac);
}

int st_host_put(struct st_store *s, const struct st_entry *h)
{
	struct st_entry *old;

	if ((h->kind != ST_QUARANTINE && h->kind != ST_THROTTLE) || !h->has_mac)
		return -EINVAL;
	old = host_find(s, h->kind, h->mac);
	if (old) {
		*old = *h;
		return 0;
	}
	return tbl_add(&s->hosts.v, &s->hosts.n, &s->hosts.cap, h);
}

int st_host_del(struct st_store *s, enum st_kind k, const __u8 mac[BWE_MAC_LEN])
{
	struct st_entry *h = host_find(s, k, mac);

	if (!h)
		return -ENOENT;
	*h = s->hosts.v[--s->hosts.n];
	return 0;
}

size_t st_contained(const struct st_store *s, enum st_kind k)
{
	size_t i, n = 0;

	for (i = 0; i < s->n; i++)
		n += s->v[i].kind == k && !s->v[i].has_mac;
	for (i = 0; i < s->hosts.n; i++)
		n += s->hosts.v[i].kind == k;
	return n;
}

size_t st_mac_entries(const struct st_store *s, enum st_kind k, const __u8 mac[BWE_MAC_LEN],
		      bool learnt)
{
	size_t i, n = 0;

	for (i = 0; i < s->n; i++) {
		const struct st_entry *e = &s->v[i];

		n += e->kind == k && e->has_mac && !memcmp(e->mac, mac, BWE_MAC_LEN) &&
		     (!learnt || e->learnt != ST_LEARNT_GIVEN);
	}
	return n;
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
	c->hosts.v = calloc(s->hosts.cap ? s->hosts.cap : 1, sizeof(*c->hosts.v));
	if (!c->v || !c->hosts.v) {
		st_free(c);
		return NULL;
	}
	memcpy(c->v, s->v, s->n * sizeof(*s->v));
	c->n = s->n;
	c->cap = s->cap ? s->cap : 1;
	memcpy(c->hosts.v, s->hosts.v, s->hosts.n * sizeof(*s->hosts.v));
	c->hosts.n = s->hosts.n;
	c->hosts.cap = s->hosts.cap ? s->hosts.cap : 1;
	return c;
}

void st_restore(struct st_store *s, struct st_store *copy)
{
	free(s->v);
	free(s->hosts.v);
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
	if (e->has_mac && !e->pfx.plen) /* a host record (no entry is ever a /0) */
		json_object_object_add(o, "host", NULL);
	else
		json_object_object_add(o, host && e->kind != ST_BLOCK ? "host" : "cidr",
				       json_object_new_string(buf));
	json_object_object_add(o, "reason", json_object_new_string(e->reason));
	json_object_object_add(o, "actor", json_object_new_string(who));
	json_object_object_add(o, "by", actor_json(&e->actor));
	json_add_time(o, "since", e->since);
	json_add_time(o, "expires", e->expires);
	json_object_object_add(o, "site", e->site[0] ? json_object_new_string(e->site) : NULL);
	json_object_object_add(o, "local", json_object_new_boolean(e->local));
	if (e->kind == ST_THROTTLE) {
		json_object_object_add(o, "rate", json_object_new_uint64(e->rate));
		json_object_object_add(o, "burst", json_object_new_uint64(e->burst));
	}
	if (e->kind == ST_QUARANTINE || e->kind == ST_THROTTLE) {
		json_object_object_add(o, "keyed_by",
				       json_object_new_string(e->has_mac ? "mac" : "address"));
		if (e->has_mac) {
			char mac[BWE_MAC_STRLEN];

			bwe_mac_fmt(e->mac, mac, sizeof(mac));
			json_object_object_add(o, "mac", json_object_new_string(mac));
			json_object_object_add(o, "learnt_from",
					       json_object_new_string(st_learnt_name(e->learnt)));
		}
	}
	return o;
}

struct json_object *st_entry_json_host(const struct st_store *s, const struct st_entry *e)
{
	struct json_object *o = st_entry_json(e), *arr;
	const struct st_entry *h;
	size_t i;

	if (!e->has_mac)
		return o;
	h = host_find(s, e->kind, e->mac);
	if (h)
		json_object_object_add(o, "prefix64", json_object_new_boolean(h->prefix64));
	arr = json_object_new_array();
	for (i = 0; i < s->n; i++) {
		const struct st_entry *x = &s->v[i];
		struct json_object *a;
		char buf[BWE_PREFIX_STRLEN];

		if (x->kind != e->kind || !x->has_mac || memcmp(x->mac, e->mac, BWE_MAC_LEN))
			continue;
		a = json_object_new_object();
		bwe_prefix_fmt(&x->pfx, buf, sizeof(buf));
		json_object_object_add(a, "address", json_object_new_string(buf));
		json_object_object_add(a, "learnt_from",
				       json_object_new_string(st_learnt_name(x->learnt)));
		json_add_time(a, "since", x->since);
		json_object_array_add(arr, a);
	}
	json_object_object_add(o, "addresses", arr);
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
	if (e->local)
		json_object_object_add(o, "local", json_object_new_boolean(1));
	if (e->site[0])
		json_object_object_add(o, "site", json_object_new_string(e->site));
	if (e->has_mac) {
		char mac[BWE_MAC_STRLEN];

		bwe_mac_fmt(e->mac, mac, sizeof(mac));
		json_object_object_add(o, "mac", json_object_new_string(mac));
		json_object_object_add(o, "learnt_from",
				       json_object_new_string(st_learnt_name(e->learnt)));
		json_object_object_add(o, "prefix64", json_object_new_boolean(e->prefix64));
		json_object_object_add(o, "capped", json_object_new_boolean(e->capped));
	}
	return o;
}

/* host: a host record (a MAC address, no prefix). */
static int entry_from_file(struct json_object *o, struct st_entry *e, bool host)
{
	struct json_object *v;
	int k;

	memset(e, 0, sizeof(*e));
	if (!json_object_object_get_ex(o, "kind", &v) ||
	    (k = st_kind_from_name(json_object_get_string(v))) < 0)
		return -EINVAL;
	e->kind = (enum st_kind)k;
	if (json_object_object_get_ex(o, "mac", &v)) {
		if (bwe_mac_parse(json_object_get_string(v), e->mac) ||
		    (k = st_learnt_from_name(
			     json_object_get_string(json_object_object_get(o, "learnt_from")))) < 0)
			return -EINVAL;
		e->has_mac = true;
		e->learnt = (enum st_learnt)k;
		e->prefix64 = json_object_get_boolean(json_object_object_get(o, "prefix64"));
		e->capped = json_object_get_boolean(json_object_object_get(o, "capped"));
	}
	if (host && (!e->has_mac || (e->kind != ST_QUARANTINE && e->kind != ST_THROTTLE)))
		return -EINVAL;
	if (!host && (!json_object_object_get_ex(o, "prefix", &v) ||
		      bwe_prefix_parse(json_object_get_string(v), &e->pfx, 0)))
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
	e->local = json_object_get_boolean(json_object_object_get(o, "local"));
	if (json_object_object_get_ex(o, "site", &v))
		snprintf(e->site, sizeof(e->site), "%s", json_object_get_string(v));
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
	arr = json_object_new_array();
	for (i = 0; i < s->hosts.n; i++) {
		struct json_object *h = entry_to_file(&s->hosts.v[i]);

		json_object_object_del(h, "prefix");
		json_object_array_add(arr, h);
	}
	json_object_object_add(root, "hosts", arr);
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

		if (entry_from_file(json_object_array_get_idx(arr, i), &e, false)) {
			(*skipped)++;
			continue;
		}
		err = st_put(t, &e);
	}
	/* host records (since issue #12): absent in older files */
	if (json_object_object_get_ex(root, "hosts", &arr) &&
	    json_object_is_type(arr, json_type_array)) {
		n = json_object_array_length(arr);
		for (i = 0; i < n && !err; i++) {
			struct st_entry e;

			if (entry_from_file(json_object_array_get_idx(arr, i), &e, true)) {
				(*skipped)++;
				continue;
			}
			err = st_host_put(t, &e);
		}
	}
	if (err) {
		st_free(t);
		return err;
	}
	st_restore(s, t);
	return 0;
}
