/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fleetrec.h - the records a fleet of gateways shares through etcd
 * (docs/fleet.md): their keys under the fleet's prefix and their JSON
 * values, written and read here only. A value comes from another site,
 * which may be compromised or broken: the parser judges every field and
 * refuses the whole record with a reason naming what was wrong; the
 * daemon's transaction then applies its own guards (internal networks,
 * widths, allowlist) exactly as for bwctl.
 *
 * Keys (relative to the prefix):
 *   entries/KIND/TARGET   KIND quarantine|throttle|block|exempt|allow;
 *                         TARGET a prefix with '/' written '_'
 *                         ("198.18.0.10_32", "2001:db8::_64") or a host by
 *                         MAC address ("mac_02-00-00-00-00-01")
 *   sites/NAME            a site's heartbeat record (on its lease)
 * Values: one JSON object of at most BWE_FLC_VALUE_MAX bytes, "v": 1.
 */
#ifndef BWE_FLEETREC_H
#define BWE_FLEETREC_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "addr.h"

#define BWE_FREC_VERSION     1
#define BWE_FREC_KIND_MAX    16
#define BWE_FREC_SITE_MAX    64	 /* bytes of a site name, NUL included */
#define BWE_FREC_ACTOR_MAX   192 /* bytes of the original actor's text, NUL included */
#define BWE_FREC_REASON_MAX  256 /* = ST_REASON_MAX */
#define BWE_FREC_ADDRS_MAX   64	 /* addresses given for one host */
#define BWE_FREC_FEEDS_MAX   32	 /* feeds in a site record */
#define BWE_FREC_FEED_MAX    64	 /* bytes of a feed name, NUL included */
#define BWE_FREC_VERSION_LEN 17	 /* 16 hex digits and NUL */
#define BWE_FREC_KEY_MAX     128

/* What a key names. */
enum bwe_frec_key_type { BWE_FREC_KEY_ENTRY = 1, BWE_FREC_KEY_SITE };

struct bwe_frec_target {
	bool is_mac;
	struct bwe_prefix pfx; /* !is_mac: host bits clear */
	__u8 mac[BWE_MAC_LEN]; /* is_mac */
};

/* One shared entry, or its removal (deleted). */
struct bwe_frec_entry {
	char kind[BWE_FREC_KIND_MAX]; /* one of the five names */
	struct bwe_frec_target t;
	bool deleted;			  /* a tombstone: removed by action */
	char action[BWE_FREC_KIND_MAX];	  /* "quarantine", "release", ... */
	char site[BWE_FREC_SITE_MAX];	  /* the site that made the change */
	__u64 seq;			  /* that site's change counter */
	char actor[BWE_FREC_ACTOR_MAX];	  /* who asked there, as text */
	char reason[BWE_FREC_REASON_MAX]; /* printable, may be empty */
	__s64 since, expires;		  /* epoch seconds; expires 0: never */
	__u64 rate, burst;		  /* throttle */
	bool prefix64;			  /* a host by MAC: IPv6 addresses stand for /64s */
	struct bwe_addr addrs[BWE_FREC_ADDRS_MAX]; /* a host by MAC: addresses given for it */
	size_t naddrs;
};

struct bwe_frec_feed {
	char name[BWE_FREC_FEED_MAX];
	char version[BWE_FREC_VERSION_LEN]; /* hash of the entries in force, hex; "" none */
	__u64 entries;
	__s64 last_success; /* epoch seconds; 0 never */
};

/* A site's heartbeat record. */
struct bwe_frec_site {
	char site[BWE_FREC_SITE_MAX];
	__s64 time;		/* epoch seconds of the heartbeat */
	__s64 applied_revision; /* the last etcd revision the site applied */
	__u64 queued;		/* its changes waiting to be written */
	struct bwe_frec_feed feeds[BWE_FREC_FEEDS_MAX];
	size_t nfeeds;
};

/* A site name: 1..63 of [A-Za-z0-9._-], not starting with '-'. */
bool bwe_frec_site_ok(const char *s);
/* The index of kind in the five names, -1 when unknown. */
int bwe_frec_kind(const char *kind);
/* The removal action of a kind ("release", "unthrottle", ...); NULL when unknown. */
const char *bwe_frec_del_action(const char *kind);

/* "entries/KIND/TARGET" into buf; -ENAMETOOLONG, -EINVAL (unknown kind). */
int bwe_frec_entry_key(const char *kind, const struct bwe_frec_target *t, char *buf, size_t len);
/*
 * Read a key: BWE_FREC_KEY_ENTRY (kind and t filled), BWE_FREC_KEY_SITE
 * (site filled), or -EINVAL with the reason in err.
 */
int bwe_frec_parse_key(const char *key, char kind[BWE_FREC_KIND_MAX], struct bwe_frec_target *t,
		       char site[BWE_FREC_SITE_MAX], char *err, size_t errlen);

/* The value of e as JSON text (malloc'd); NULL out of memory. */
char *bwe_frec_entry_encode(const struct bwe_frec_entry *e);
/*
 * The value of the entry key names: 0, or -EINVAL with the reason in err
 * (not JSON, a field missing or of the wrong type or range, the kind or
 * target different from the key's, ...).
 */
int bwe_frec_entry_parse(const char *key, const void *val, size_t len, struct bwe_frec_entry *e,
			 char *err, size_t errlen);

char *bwe_frec_site_encode(const struct bwe_frec_site *s);
/* The value of sites/NAME: 0 or -EINVAL (the site field must be NAME). */
int bwe_frec_site_parse(const char *name, const void *val, size_t len, struct bwe_frec_site *s,
			char *err, size_t errlen);

#endif /* BWE_FLEETREC_H */
