/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * proto.h - the control protocol between bwctl (and any script) and bwctld,
 * defined once. Both sides include this file; nothing else defines messages.
 *
 * Transport: AF_UNIX SOCK_STREAM at the configured socket path. A message
 * is a 4-byte big-endian length followed by that many bytes of one JSON
 * object (UTF-8, no NUL). A request is at most BWE_PROTO_REQ_MAX bytes, a
 * reply at most BWE_PROTO_REPLY_MAX. One request, one reply; the client
 * may send further requests on the same connection.
 *
 * Request:  { "cmd": "<name>", "argv": "<the client's command line>", ...args }
 * Reply:    { "ok": true, "result": <value> }
 *        |  { "ok": false, "status": 1|2, "error": "<what was wrong>" }
 * status 2 = bad request or bad input (nothing was changed), 1 = failed.
 * The actor of a request is the peer's credentials (SO_PEERCRED uid/pid)
 * plus "argv" (logged with control characters escaped); the daemon never
 * trusts a client-supplied identity. Its role comes from the credentials
 * too (bwe_cmd_role): read-only commands are status, stats, list, top,
 * lookup, report, scope, feeds, export and fleet_status; every other command (the token commands too,
 * token_list included) needs the admin role. A
 * peer's request and its reply must be done within the daemon's
 * control_timeout, or the connection is closed.
 *
 * Commands and their arguments (all optional unless marked *):
 *   status                                   -> object (see bwctl(8))
 *   stats                                    -> object reason -> {packets, bytes}
 *   quarantine  hosts*[] ttl reason force prefix64 local -> {"changed": [entry...]}
 *   release     hosts*[] reason              -> {"changed": [entry...]}
 *   throttle    hosts*[] rate* burst ttl reason force prefix64 local
 *                                            -> {"changed": [entry...]}
 *   unthrottle  hosts*[] reason              -> {"changed": [entry...]}
 *   block       cidrs*[] ttl reason local    -> {"changed": [entry...]}
 *   unblock     cidrs*[] reason
 *   exempt      cidrs*[] ttl reason local ;  unexempt cidrs*[] reason
 *   allow       cidrs*[] ttl reason local ;  unallow  cidrs*[] reason
 *   fleet_status                             -> object (see bwctl(8), fleet status)
 *   list        kind* ("quarantine"|"throttle"|"blocks"|"exempt"|"allow") -> [entry...]
 *   top         n sort ("tx"|"rx"|"drops"|"rate")  -> [host row...]
 *   lookup      address*                     -> {verdict, reason, entry, feed, ...}
 *   attach      iface* mode ("native"|"generic"|"auto") -> status of the interface
 *   detach      iface (absent: all, and unpin) -> {"detached": [names]}
 *   feeds       -> [feed...]         feeds_refresh  name -> {"refreshed": [names]}
 *   report      host* local                  -> object (see bwctl(8); local: its
 *               other_hosts_same_peers from this site only)
 *   scope       host* since (seconds, 1..BWE_PROTO_SCOPE_SINCE_MAX; default 1 day)
 *               local (true: this site only, the fleet not asked)
 *                                            -> object (see bwctl(8), scope)
 *   token_add   name* scopes*[] -> {name, token, scopes, created}  (the token: once)
 *   token_list  -> [{name, scopes, created, last_used}]  token_revoke name* -> {revoked: [name]}
 *   export      format ("plain"|"zeek-intel"|"stix"|"json", default "plain")
 *               set ("blocks"|"quarantine"|"feeds", default "blocks")
 *               feed (set "feeds" only: one feed's name)  -> a stream, below
 * Types: cidrs are address or CIDR strings; hosts are address or CIDR
 * strings, MAC addresses or RFC 1123 host names as the user wrote them:
 * the daemon resolves them (a MAC address through its own neighbour view,
 * a name through its sandboxed resolver), never the client. ttl, in
 * seconds, is an integer (0 or absent: no expiry); rate and burst are
 * integers in bytes per second and bytes; force, prefix64 and local are
 * true or false (nothing else); local: the entries never leave this site
 * (the fleet).
 * An entry: {"host" or "cidr", "reason", "actor", "since", "expires",
 * "rate", "burst"} with times as RFC 3339 UTC strings, "expires" null when
 * the entry does not expire; quarantine and throttle entries also
 * "keyed_by" ("mac" or "address"), and when keyed by MAC "mac",
 * "learnt_from" ("given", "neighbour", "traffic") and, in list, the host's
 * "addresses" [{"address", "learnt_from", "since"}].
 *
 * Streams (export): an output too large for one reply. The first reply
 * is an ordinary message: an error, or {"ok": true, "result": {"stream":
 * true, "format", "set"}}. After an ok come data frames: the same 4-byte
 * length and 1..BWE_PROTO_CHUNK_MAX bytes of the output as it is (text,
 * not JSON), each ending at a record's end; then a frame of length 0;
 * then one last message, {"ok": true, "result": {"entries": N, "bytes":
 * B}} or an error (status 1) when the output could not be finished (the
 * data before it is then incomplete). The daemon makes the next chunk only
 * when the peer has taken the last one, so a slow reader costs it one
 * chunk of memory; control_timeout counts from the last progress.
 */
#ifndef BWE_PROTO_H
#define BWE_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include <json-c/json.h>

#include "addr.h"

#define BWE_PROTO_REQ_MAX    (64 * 1024)	/* bytes of one request */
#define BWE_PROTO_REPLY_MAX  (64 * 1024 * 1024) /* bytes of one reply */
#define BWE_PROTO_HDR_LEN    4			/* big-endian length prefix */
#define BWE_PROTO_TIMEOUT_MS 10000		/* a client gives up after this */
#define BWE_SOCKET_DEFAULT   "/run/bwenforce/bwctld.sock"
#define BWE_PROTO_ITEMS_MAX  4096   /* hosts or CIDRs in one request */
#define BWE_PROTO_TOP_N	     20	    /* rows of top when "n" is absent */
#define BWE_PROTO_TOP_MAX    100000 /* rows of top at most */
#define BWE_PROTO_IFNAME_MAX 16	    /* IFNAMSIZ: an interface name and its NUL */
/* Bytes of one data frame of a stream (export) at most. */
#define BWE_PROTO_CHUNK_MAX  (1024 * 1024)

enum bwe_proto_status {
	BWE_ST_OK = 0,
	BWE_ST_FAILED = 1,
	BWE_ST_BADINPUT = 2,
};

/*
 * The incremental frame decoder: bytes in any pieces (one at a time, or a
 * whole buffer), a frame out. It never takes a byte past the end of the
 * frame, so what follows stays in the socket. The daemon feeds it from a
 * non-blocking socket; bwe_proto_recv() and the fuzz target use it too.
 */
struct bwe_proto_dec {
	size_t max;		     /* largest payload accepted, bytes */
	size_t got;		     /* bytes taken so far, header included */
	size_t len;		     /* payload length, once the header is complete */
	__u8 hdr[BWE_PROTO_HDR_LEN]; /* the length prefix, big-endian */
	char *buf;		     /* the payload and a NUL, once known */
};

void bwe_proto_dec_init(struct bwe_proto_dec *d, size_t max);
void bwe_proto_dec_free(struct bwe_proto_dec *d); /* then init again to reuse */
/* Bytes still missing from the frame (the header's, then the payload's). */
size_t bwe_proto_dec_want(const struct bwe_proto_dec *d);
/*
 * Take at most len bytes of data; *used says how many were taken. Returns
 * 1 when the frame is complete (its payload in d->buf, NUL-terminated,
 * d->len bytes), 0 when more bytes are needed, -EMSGSIZE as soon as the
 * header announces more than max bytes (before any payload is read), or
 * -ENOMEM. After 1 or an error, further calls return the same.
 */
int bwe_proto_dec_feed(struct bwe_proto_dec *d, const void *data, size_t len, size_t *used);

/*
 * Requests, parsed and checked without the daemon (the daemon calls these
 * and only dispatches; the fuzz target drives them). A command needs a
 * role: read-only commands change nothing.
 */
enum bwe_role { BWE_ROLE_NONE = 0, BWE_ROLE_READ, BWE_ROLE_ADMIN };

#define BWE_PROTO_SCOPE_SINCE_MAX (30 * 86400ULL) /* scope "since", seconds: 30 days */

enum bwe_cmd {
	BWE_CMD_STATUS,
	BWE_CMD_STATS,
	BWE_CMD_LIST,
	BWE_CMD_TOP,
	BWE_CMD_LOOKUP,
	BWE_CMD_REPORT,
	BWE_CMD_FEEDS,
	BWE_CMD_EXPORT,
	BWE_CMD_FLEET_STATUS,
	BWE_CMD_SCOPE,
	/* commands that change state: admin only */
	BWE_CMD_QUARANTINE,
	BWE_CMD_RELEASE,
	BWE_CMD_THROTTLE,
	BWE_CMD_UNTHROTTLE,
	BWE_CMD_BLOCK,
	BWE_CMD_UNBLOCK,
	BWE_CMD_EXEMPT,
	BWE_CMD_UNEXEMPT,
	BWE_CMD_ALLOW,
	BWE_CMD_UNALLOW,
	BWE_CMD_ATTACH,
	BWE_CMD_DETACH,
	BWE_CMD_FEEDS_REFRESH,
	BWE_CMD_TOKEN_ADD,
	BWE_CMD_TOKEN_LIST,
	BWE_CMD_TOKEN_REVOKE,
	BWE_CMDS
};

/* "list" kinds, in the order of the names "quarantine" "throttle" "blocks" "exempt" "allow". */
enum bwe_list_kind {
	BWE_LIST_QUARANTINE,
	BWE_LIST_THROTTLE,
	BWE_LIST_BLOCKS,
	BWE_LIST_EXEMPT,
	BWE_LIST_ALLOW,
};
enum bwe_top_sort { BWE_TOP_TX, BWE_TOP_RX, BWE_TOP_DROPS, BWE_TOP_RATE };
/* export "format", in the order "plain" "zeek-intel" "stix" "json". */
enum bwe_export_format { BWE_EXP_PLAIN, BWE_EXP_ZEEK, BWE_EXP_STIX, BWE_EXP_JSON, BWE_EXP_FORMATS };
/* export "set", in the order "blocks" "quarantine" "feeds". */
enum bwe_export_set { BWE_EXP_BLOCKS, BWE_EXP_QUARANTINE, BWE_EXP_FEEDS, BWE_EXP_SETS };

struct bwe_request {
	enum bwe_cmd cmd;
	struct json_object *obj; /* the request as sent; owned; strings below live in it */
	const char *argv;	 /* the client's command line as it says (not trusted), or NULL */
	/* after bwe_request_args(), what the command takes: */
	struct bwe_prefix *pfx; /* change commands: "hosts" or "cidrs", owned */
	size_t n;
	__u8 (*macs)[BWE_MAC_LEN]; /* host commands: "hosts" given as MAC addresses, owned */
	size_t nmacs;
	char **names; /* host commands: "hosts" given as host names, lower case, no final '.'; owned */
	size_t nnames;
	bool prefix64;		  /* quarantine, throttle: IPv6 addresses stand for their /64 */
	const char *reason;	  /* NULL when absent */
	__u64 ttl_s, rate, burst; /* seconds, bytes/s, bytes; 0 when absent */
	bool force;		  /* true or false, nothing else */
	bool local;		  /* adds: never shared with the fleet; scope: this site only */
	enum bwe_list_kind kind;  /* list */
	__u32 top_n;		  /* top, 0..BWE_PROTO_TOP_MAX */
	enum bwe_top_sort sort;	  /* top */
	struct bwe_addr addr;	  /* lookup "address", report and scope "host" */
	__u64 since_s;		  /* scope: seconds back, 0 when absent */
	const char *iface, *mode; /* attach (iface required by the daemon), detach */
	const char *feed;	  /* feeds_refresh "name", export "feed": NULL = every feed */
	const char *token;	  /* token_add, token_revoke "name" (bwe_token_name_ok) */
	__u32 scopes;		  /* token_add: BWE_SCOPE_* bits, at least one */

	/* export */
	enum bwe_export_format exp_format;
	enum bwe_export_set exp_set;
};

/*
 * API tokens: the grammar shared by bwctl, the control protocol, the
 * daemon's token store and the HTTP API. A name is [A-Za-z0-9_.-]{1,32};
 * a token has scopes from a fixed set. "admin" may do everything.
 */
#define BWE_TOKEN_NAME_MAX 32 /* bytes of a token's name, NUL excluded */
enum bwe_scope {
	BWE_SCOPE_READ = 1 << 0,    /* every GET */
	BWE_SCOPE_CONTAIN = 1 << 1, /* quarantines and throttles */
	BWE_SCOPE_BLOCK = 1 << 2,   /* blocks, exempts and allows */
	BWE_SCOPE_ADMIN = 1 << 3,   /* everything */
};
#define BWE_SCOPES     4
#define BWE_SCOPES_ALL ((1u << BWE_SCOPES) - 1)

bool bwe_token_name_ok(const char *s);
/* "read", "contain", "block", "admin" -> its bit; 0 for anything else. */
__u32 bwe_scope_bit(const char *name);
/* The names of the bits of mask as a JSON array, in the order above. */
struct json_object *bwe_scopes_json(__u32 mask);
/* Name of scope i (0..BWE_SCOPES-1). */
const char *bwe_scope_name(unsigned int i);

const char *bwe_cmd_name(enum bwe_cmd cmd);
enum bwe_role bwe_cmd_role(enum bwe_cmd cmd);
const char *bwe_role_name(enum bwe_role role);	       /* "none", "read-only", "admin" */
const char *bwe_top_sort_name(enum bwe_top_sort sort); /* "tx", "rx", "drops", "rate" */
/* The names above; "?" outside the enum. From a name: -1 for an unknown one. */
const char *bwe_export_format_name(enum bwe_export_format f);
const char *bwe_export_set_name(enum bwe_export_set s);
int bwe_export_format_from(const char *name);
int bwe_export_set_from(const char *name);
/*
 * A request's payload (len bytes, no NUL inside) to a JSON object with a
 * known "cmd". Returns 0 with *r filled (free with bwe_request_free), or
 * -EBADMSG (not one JSON object) or -EINVAL (no or unknown "cmd"), with a
 * message in err. Arguments are not looked at yet: a refusal for the role
 * comes before any complaint about them.
 */
int bwe_request_parse(const char *buf, size_t len, struct bwe_request *r, char *err, size_t errlen);
/*
 * The arguments of r->cmd, typed and checked. Returns 0, or -EINVAL (err
 * says what; no prefixes are left in r) or -ENOMEM.
 */
int bwe_request_args(struct bwe_request *r, char *err, size_t errlen);
void bwe_request_free(struct bwe_request *r); /* NULL-safe; leaves *r zeroed */

/*
 * Copy s into out (outlen > 0) with every control character (below 0x20,
 * and 0x7f) and backslash escaped as \xNN and \\, cut at a character
 * boundary when out is too small. For anything a client sends that lands
 * in a log line.
 */
void bwe_escape_ctl(const char *s, char *out, size_t outlen);

/* Send one JSON object as a message. Returns 0 or -errno. */
int bwe_proto_send(int fd, struct json_object *msg);
/*
 * Receive one message of at most max bytes and parse it. Returns 0,
 * -EMSGSIZE (too long: the connection must be dropped), -EBADMSG (not a
 * JSON object), -ECONNRESET (peer closed), -ETIMEDOUT, or -errno.
 */
int bwe_proto_recv(int fd, size_t max, int timeout_ms, struct json_object **out);

/*
 * Receive one frame of at most max bytes as it is (a stream's data): 0
 * with *buf (malloc'ed, NUL-terminated, free it) and *len, or the errors
 * of bwe_proto_recv() but -EBADMSG.
 */
int bwe_proto_recv_frame(int fd, size_t max, int timeout_ms, char **buf, size_t *len);

/* Client side: connect to the daemon's socket. Returns an fd or -errno. */
int bwe_proto_connect(const char *path);
/*
 * Send a request and wait for its reply. Returns 0 with *reply set, or
 * -errno for transport failures.
 */
int bwe_proto_call(int fd, struct json_object *req, struct json_object **reply);

/* Build replies (daemon side). err_reply formats the error text. */
struct json_object *bwe_proto_ok(struct json_object *result);
struct json_object *bwe_proto_err(int status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif /* BWE_PROTO_H */
