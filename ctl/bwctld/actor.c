// SPDX-License-Identifier: GPL-2.0-only
/* actor.c - typed actors; contract in actor.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actor.h"

static const char *const kind_names[ACTOR_KINDS] = {
	[ACTOR_SYSTEM] = "system", [ACTOR_OPERATOR] = "operator", [ACTOR_RULE] = "rule",
	[ACTOR_EXPIRY] = "expiry", [ACTOR_FEED] = "feed",	  [ACTOR_API] = "api",
	[ACTOR_FLEET] = "fleet",
};

/* The JSON key that names the actor, by kind. */
static const char *const name_keys[ACTOR_KINDS] = {
	[ACTOR_OPERATOR] = "user", [ACTOR_RULE] = "rule",  [ACTOR_FEED] = "feed",
	[ACTOR_API] = "token",	   [ACTOR_FLEET] = "site",
};

const char *actor_kind_name(enum actor_kind k)
{
	return (unsigned int)k < ACTOR_KINDS ? kind_names[k] : "?";
}

static int kind_from_name(const char *s)
{
	int k;

	for (k = 0; s && k < ACTOR_KINDS; k++)
		if (!strcmp(s, kind_names[k]))
			return k;
	return -1;
}

void actor_set(struct actor *a, enum actor_kind k, const char *name, const char *detail)
{
	memset(a, 0, sizeof(*a));
	a->kind = k;
	snprintf(a->name, sizeof(a->name), "%s", name ? name : "");
	snprintf(a->detail, sizeof(a->detail), "%s", detail ? detail : "");
}

void actor_fmt(const struct actor *a, char *buf, size_t len)
{
	switch (a->kind) {
	case ACTOR_OPERATOR:
		snprintf(buf, len, "uid=%u(%s) pid=%d%s%s", a->uid, a->name[0] ? a->name : "?",
			 a->pid, a->detail[0] ? ": " : "", a->detail);
		break;
	case ACTOR_EXPIRY:
		snprintf(buf, len, "ttl");
		break;
	case ACTOR_SYSTEM: /* "bwctld", or "bwctld:learned (traffic)" */
		snprintf(buf, len, "bwctld%s%s%s%s%s", a->name[0] ? ":" : "", a->name,
			 a->detail[0] ? " (" : "", a->detail, a->detail[0] ? ")" : "");
		break;
	case ACTOR_FLEET: /* "fleet:SITE", or "fleet:SITE (who asked there)" */
		snprintf(buf, len, "fleet:%s%s%s%s", a->name, a->detail[0] ? " (" : "", a->detail,
			 a->detail[0] ? ")" : "");
		break;
	default:
		snprintf(buf, len, "%s:%s", actor_kind_name(a->kind), a->name);
		break;
	}
}

struct json_object *actor_json(const struct actor *a)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "kind", json_object_new_string(actor_kind_name(a->kind)));
	if (a->kind == ACTOR_OPERATOR) {
		json_object_object_add(o, "uid", json_object_new_int64(a->uid));
		json_object_object_add(o, "pid", json_object_new_int(a->pid));
		json_object_object_add(o, "command", json_object_new_string(a->detail));
	}
	if ((unsigned int)a->kind < ACTOR_KINDS && name_keys[a->kind])
		json_object_object_add(o, name_keys[a->kind], json_object_new_string(a->name));
	if (a->kind == ACTOR_FLEET && a->detail[0]) /* who asked at that site */
		json_object_object_add(o, "by", json_object_new_string(a->detail));
	if (a->kind == ACTOR_SYSTEM && a->name[0]) { /* what the daemon did on its own */
		json_object_object_add(o, "name", json_object_new_string(a->name));
		json_object_object_add(o, "source", json_object_new_string(a->detail));
	}
	return o;
}

/* "uid=0(root) pid=42: bwctl ..." or "rule:NAME": the form before actors were typed. */
static void actor_from_text(const char *s, struct actor *a)
{
	unsigned int uid;
	int pid, n = 0;
	char user[ACTOR_NAME_MAX];

	if (!strncmp(s, "rule:", 5)) {
		actor_set(a, ACTOR_RULE, s + 5, NULL);
		return;
	}
	if (sscanf(s, "uid=%u(%63[^)]) pid=%d%n", &uid, user, &pid, &n) == 3) {
		const char *rest = s + n;

		actor_set(a, ACTOR_OPERATOR, user, !strncmp(rest, ": ", 2) ? rest + 2 : NULL);
		a->uid = uid;
		a->pid = pid;
		return;
	}
	actor_set(a, !strcmp(s, "ttl") ? ACTOR_EXPIRY : ACTOR_SYSTEM, NULL, NULL);
}

int actor_from_json(struct json_object *o, struct actor *a)
{
	struct json_object *v;
	int k;

	if (json_object_is_type(o, json_type_string)) {
		actor_from_text(json_object_get_string(o), a);
		return 0;
	}
	if (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "kind", &v) ||
	    (k = kind_from_name(json_object_get_string(v))) < 0)
		return -EINVAL;
	actor_set(a, (enum actor_kind)k, NULL, NULL);
	if (name_keys[k] && json_object_object_get_ex(o, name_keys[k], &v))
		snprintf(a->name, sizeof(a->name), "%s", json_object_get_string(v));
	if (k == ACTOR_FLEET && json_object_object_get_ex(o, "by", &v))
		snprintf(a->detail, sizeof(a->detail), "%s", json_object_get_string(v));
	if (json_object_object_get_ex(o, "command", &v))
		snprintf(a->detail, sizeof(a->detail), "%s", json_object_get_string(v));
	if (k == ACTOR_SYSTEM && json_object_object_get_ex(o, "name", &v))
		snprintf(a->name, sizeof(a->name), "%s", json_object_get_string(v));
	if (k == ACTOR_SYSTEM && json_object_object_get_ex(o, "source", &v))
		snprintf(a->detail, sizeof(a->detail), "%s", json_object_get_string(v));
	if (json_object_object_get_ex(o, "uid", &v))
		a->uid = (__u32)json_object_get_int64(v);
	if (json_object_object_get_ex(o, "pid", &v))
		a->pid = json_object_get_int(v);
	return 0;
}
