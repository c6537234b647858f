/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * actor.h - who asked for a change, as a typed value (layer 0).
 *
 * Every state entry and every event carries one. The kind decides what the
 * other fields mean; nothing is ever decided by looking at the text form,
 * which exists for people (the "actor" string of bwctl --json and the
 * event log's user.name).
 */
#ifndef BWCTLD_ACTOR_H
#define BWCTLD_ACTOR_H

#include <stddef.h>
#include <linux/types.h>
#include <json-c/json.h>

#define ACTOR_NAME_MAX	 64  /* bytes of a user, rule, feed, token or site name */
#define ACTOR_DETAIL_MAX 128 /* bytes of an operator's command line */
#define ACTOR_TEXT_MAX	 (ACTOR_NAME_MAX + ACTOR_DETAIL_MAX + 48)

enum actor_kind {
	ACTOR_SYSTEM = 0, /* the daemon itself (start-up, reload) */
	ACTOR_OPERATOR,	  /* a control-socket peer: uid, pid, user, command */
	ACTOR_RULE,	  /* a detection rule: name */
	ACTOR_EXPIRY,	  /* a TTL ran out */
	ACTOR_FEED,	  /* a threat-intel feed: name */
	ACTOR_API,	  /* an HTTP API client: token name */
	ACTOR_FLEET,	  /* another gateway of the fleet: site name */
	ACTOR_KINDS,
};

struct actor {
	enum actor_kind kind;
	__u32 uid;		       /* OPERATOR */
	__s32 pid;		       /* OPERATOR */
	char name[ACTOR_NAME_MAX];     /* user (OPERATOR), rule, feed, token or site */
	char detail[ACTOR_DETAIL_MAX]; /* OPERATOR: the command as the client told it;
					* FLEET: who asked at that site, as text */
};

/* "operator", "rule", "expiry", ... ; "?" outside the enum. */
const char *actor_kind_name(enum actor_kind k);
/* Fill a by kind; name/detail may be NULL. Over-long text is cut. */
void actor_set(struct actor *a, enum actor_kind k, const char *name, const char *detail);
/*
 * The text form: "uid=0(root) pid=42: bwctl quarantine ...", "rule:NAME",
 * "ttl", "feed:NAME", "api:TOKEN", "fleet:SITE" (with " (WHO)" when detail
 * holds who asked at that site), "bwctld".
 */
void actor_fmt(const struct actor *a, char *buf, size_t len);
/* {"kind": ..., "uid", "pid", "user", "command" | "rule" | "feed" | "token" | "site" [, "by"]} */
struct json_object *actor_json(const struct actor *a);
/*
 * Read actor_json()'s form back. A string (state files written before
 * actors were typed) is read once, here, into its kind. -EINVAL when o is
 * neither.
 */
int actor_from_json(struct json_object *o, struct actor *a);

#endif /* BWCTLD_ACTOR_H */
