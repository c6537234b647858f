/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * store.h - operator state: quarantines, throttles, manual blocks,
 * exemptions and allow entries (layer 1: a store without side effects).
 *
 * The store is a table in memory and its JSON form; it never touches a
 * file, a map or the event log. Changes reach it only through the
 * transaction (ops.h), which snapshots it first and restores the snapshot
 * when a later step fails.
 */
#ifndef BWCTLD_STORE_H
#define BWCTLD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include <json-c/json.h>

#include "actor.h"
#include "addr.h"

#define ST_REASON_MAX 256 /* bytes of a reason, NUL included */

enum st_kind {
	ST_QUARANTINE = 0,
	ST_THROTTLE,
	ST_BLOCK,
	ST_EXEMPT,
	ST_ALLOW,
	ST_KINDS,
};

/* How an address of a host contained by identity became part of it. */
enum st_learnt {
	ST_LEARNT_GIVEN = 0, /* named by whoever asked (an address, or the MAC's neighbours then) */
	ST_LEARNT_NEIGHBOUR, /* a neighbour entry of the host's MAC appeared later */
	ST_LEARNT_TRAFFIC,   /* a frame from the host's MAC carried it (BWE_EV_MAC_ADDR) */
	ST_LEARNT_KINDS,
};

/*
 * One entry. Address entries (the table of st_at) hold a prefix; an entry
 * of a host contained by identity also holds that host's MAC address
 * (has_mac) and how the address was learnt. Host records (the table of
 * st_host_at) hold the MAC address of a quarantined or throttled host,
 * with the same reason, actor, times and rate as its addresses; their
 * pfx is unused (zero).
 */
struct st_entry {
	enum st_kind kind;
	struct bwe_prefix pfx;	   /* host bits clear */
	bool has_mac;		   /* keyed by the MAC address below, not by the prefix */
	__u8 mac[BWE_MAC_LEN];	   /* the host's MAC address when has_mac */
	enum st_learnt learnt;	   /* address entries of a host: how the address came */
	bool prefix64;		   /* host records: an IPv6 address stands for its /64 */
	bool capped;		   /* host records: learning hit its bound (one event said so) */
	bool local;		   /* never shared with the fleet (--local) */
	char site[ACTOR_NAME_MAX]; /* the fleet site the entry came from; "" no fleet */
	char reason[ST_REASON_MAX];
	struct actor actor;
	time_t since;	/* wall clock, seconds */
	time_t expires; /* wall clock, seconds; 0: never */
	__u64 rate;	/* throttle: bytes/s */
	__u64 burst;	/* throttle: bytes */
};

struct st_store;

struct st_store *st_new(void);
void st_free(struct st_store *s); /* NULL-safe */

/* "quarantine", "throttle", "block", "exempt", "allow"; "?" outside the enum. */
const char *st_kind_name(enum st_kind k);
/* -1 for an unknown name. */
int st_kind_from_name(const char *name);

size_t st_count(const struct st_store *s);
/* Entries in no particular order; valid until the next change. */
const struct st_entry *st_at(const struct st_store *s, size_t i);
const struct st_entry *st_find(const struct st_store *s, enum st_kind k,
			       const struct bwe_prefix *p);
/* The longest entry of kind k that contains a. */
const struct st_entry *st_match(const struct st_store *s, enum st_kind k, const struct bwe_addr *a);
/* Does an entry of kind k contain p or lie inside it? */
bool st_overlaps(const struct st_store *s, enum st_kind k, const struct bwe_prefix *p);
/* Insert, or replace the entry of the same kind and prefix. */
int st_put(struct st_store *s, const struct st_entry *e);
/* -ENOENT when there is none. */
int st_del(struct st_store *s, enum st_kind k, const struct bwe_prefix *p);

/*
 * Host records: one per (kind, MAC address), for quarantines and
 * throttles keyed by identity. The address entries of such a host carry
 * the same MAC address (has_mac) in the table above.
 */
size_t st_host_count(const struct st_store *s);
const struct st_entry *st_host_at(const struct st_store *s, size_t i);
const struct st_entry *st_host_find(const struct st_store *s, enum st_kind k,
				    const __u8 mac[BWE_MAC_LEN]);
/* Insert or replace (kind and MAC address); has_mac must be set. */
int st_host_put(struct st_store *s, const struct st_entry *h);
/* -ENOENT when there is none. */
int st_host_del(struct st_store *s, enum st_kind k, const __u8 mac[BWE_MAC_LEN]);
/* Address entries of kind k that belong to the host mac; learnt: only those not given. */
size_t st_mac_entries(const struct st_store *s, enum st_kind k, const __u8 mac[BWE_MAC_LEN],
		      bool learnt);
/*
 * Hosts contained with kind k: each host record once (whatever its
 * addresses), and each entry keyed by address (a host or a prefix).
 */
size_t st_contained(const struct st_store *s, enum st_kind k);
/* "given", "neighbour", "traffic"; "?" outside the enum. -1 for an unknown name. */
const char *st_learnt_name(enum st_learnt l);
int st_learnt_from_name(const char *name);

/* A deep copy, for a transaction to go back to. */
struct st_store *st_clone(const struct st_store *s);
/* Make s hold what copy holds; copy is consumed. */
void st_restore(struct st_store *s, struct st_store *copy);

/*
 * The entry as bwctl shows it (RFC 3339 times, "actor" text and "by" object,
 * "keyed_by" "mac" or "address"; for a host's address also "mac" and
 * "learnt_from"; "site", the fleet site it came from (null without a
 * fleet), and "local"). A host record shows "host": null and its "mac".
 */
struct json_object *st_entry_json(const struct st_entry *e);
/*
 * The same, and for an entry of a host contained by identity (an address
 * entry with has_mac, or a host record) "addresses": every address entry of
 * that host, [{"address", "learnt_from", "since"}].
 */
struct json_object *st_entry_json_host(const struct st_store *s, const struct st_entry *e);
/* The whole table in its file form (epoch seconds, typed actors). */
struct json_object *st_to_json(const struct st_store *s);
/*
 * Replace the table with the file form in root. Malformed entries are
 * skipped and counted in *skipped; -EINVAL when root is not a state
 * document at all (nothing changes then).
 */
int st_from_json(struct st_store *s, struct json_object *root, size_t *skipped);

#endif /* BWCTLD_STORE_H */
