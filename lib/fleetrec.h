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
 *   scope/req/ID          a fleet-wide bwctl scope asked by one site (on a
 *                         short lease); ID 16 lowercase hex digits
 *   scope/ans/ID/SITE     SITE's answer to it (bounded, on a short lease)
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
enum bwe_frec_key_type {
	BWE_FREC_KEY_ENTRY = 1,
	BWE_FREC_KEY_SITE,
	BWE_FREC_KEY_SCOPE_REQ, /* scope/req/ID */
	BWE_FREC_KEY_SCOPE_ANS, /* scope/ans/ID/SITE: site filled */
};

#define BWE_FREC_SCOPE_ID_LEN	  17		 /* 16 lowercase hex digits and NUL */
#define BWE_FREC_SCOPE_PEERS_MAX  64		 /* peers a request carries (the target's) */
#define BWE_FREC_SCOPE_HOSTS_MAX  32		 /* hosts in one site's answer */
#define BWE_FREC_SCOPE_HPEERS_MAX 4		 /* peers in common listed per host */
#define BWE_FREC_SCOPE_SINCE_MAX  (30 * 86400LL) /* seconds: as bwctl scope's window */
#define BWE_FREC_SCOPE_WAIT_MAX	  60		 /* seconds from asking to the deadline */

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

/*
 * A fleet-wide scope question: the target, the window, and the target's
 * listed peers as the asking site knows them (a host lives at one site:
 * the others find their hosts that contacted the same peers); none for an
 * external address (the others find their hosts that contacted it).
 */
struct bwe_frec_scope_req {
	char id[BWE_FREC_SCOPE_ID_LEN];
	char site[BWE_FREC_SITE_MAX]; /* the asking site */
	struct bwe_addr target;
	__s64 since_s;	/* 1..BWE_FREC_SCOPE_SINCE_MAX */
	__s64 deadline; /* epoch seconds: an answer after it is not waited for */
	struct bwe_addr peers[BWE_FREC_SCOPE_PEERS_MAX];
	size_t npeers;
};

struct bwe_frec_scope_peer {
	struct bwe_addr peer;
	char feed[BWE_FREC_FEED_MAX];
	__s64 last_seen; /* epoch seconds */
	__u64 contacts;
};

/* One host of a site's answer. */
struct bwe_frec_scope_host {
	struct bwe_addr host;
	__u64 peers_in_common; /* all of them; peers[] lists the first npeers */
	struct bwe_frec_scope_peer peers[BWE_FREC_SCOPE_HPEERS_MAX];
	size_t npeers;
	__s64 first_seen, last_seen;	   /* epoch seconds */
	char contained[BWE_FREC_KIND_MAX]; /* "", "quarantine" or "throttle" at that site */
};

/* A site's answer to scope/req/ID; hosts ranked, the first first. */
struct bwe_frec_scope_ans {
	char id[BWE_FREC_SCOPE_ID_LEN];
	char site[BWE_FREC_SITE_MAX]; /* the answering site: the key's SITE */
	struct bwe_addr target;
	__s64 generated;     /* epoch seconds */
	bool window_covered; /* its index reaches back over the whole window */
	__u64 more;	     /* hosts beyond hosts[] (the bounds) */
	struct bwe_frec_scope_host hosts[BWE_FREC_SCOPE_HOSTS_MAX];
	size_t nhosts;
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

/* "scope/req/ID" (site NULL) or "scope/ans/ID/SITE" into buf; -EINVAL, -ENAMETOOLONG. */
int bwe_frec_scope_key(const char *id, const char *site, char *buf, size_t len);
/* A new query ID (16 lowercase hex digits from getrandom); 0 or -errno. */
int bwe_frec_scope_id(char id[BWE_FREC_SCOPE_ID_LEN]);
char *bwe_frec_scope_req_encode(const struct bwe_frec_scope_req *q);
/* The value of scope/req/ID: 0, or -EINVAL naming the bad field (the id must be the key's). */
int bwe_frec_scope_req_parse(const char *key, const void *val, size_t len,
			     struct bwe_frec_scope_req *q, char *err, size_t errlen);
/*
 * The answer as JSON text of at most max bytes (malloc'd): the last hosts
 * are left out until it fits, and counted in a->more (a is changed so).
 * NULL out of memory.
 */
char *bwe_frec_scope_ans_encode(struct bwe_frec_scope_ans *a, size_t max);
/*
 * The value of scope/ans/ID/SITE: 0, or -EINVAL with the reason naming the
 * field ("hosts[2].peers[0].peer: not an address"); id and site must be
 * the key's.
 */
int bwe_frec_scope_ans_parse(const char *key, const void *val, size_t len,
			     struct bwe_frec_scope_ans *a, char *err, size_t errlen);

char *bwe_frec_site_encode(const struct bwe_frec_site *s);
/* The value of sites/NAME: 0 or -EINVAL (the site field must be NAME). */
int bwe_frec_site_parse(const char *name, const void *val, size_t len, struct bwe_frec_site *s,
			char *err, size_t errlen);

#endif /* BWE_FLEETREC_H */
