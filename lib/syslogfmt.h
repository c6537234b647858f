/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * syslogfmt.h - the daemon's events as syslog messages for a SIEM: the
 * target grammar of events.syslog.target, RFC 5424 messages whose MSG is
 * the event's ECS JSON, and CEF records (ArcSight Common Event Format)
 * inside an RFC 5424 message. Pure functions: no sockets, no logging, no
 * global state. Included by the config loader, the daemon's sender
 * (ctl/bwctld/slog.c) and the tests.
 *
 * RFC 5424 message:
 *   <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD MSG
 *   PRI       facility * 8 + severity (bwe_slog_severity)
 *   TIMESTAMP the event's @timestamp (RFC 3339, UTC, milliseconds)
 *   MSGID     event.action ("blocklist-hit", "quarantine", ...)
 *   SD        rfc5424: [origin software="bwenforce" swVersion="V"]
 *             [meta sequenceId="N"] (both IANA-registered SD-IDs; N counts
 *             the messages made, 1..2147483647, so a gap shows a loss);
 *             cef: "-"
 *   MSG       rfc5424: the event as one line of JSON (MSG-ANY, no BOM, so
 *             a receiver's JSON parser takes it as it is); cef: the CEF
 *             record.
 * CEF record:
 *   CEF:0|bwenforce|bwenforce|VERSION|event.action|NAME|SEVERITY|EXTENSION
 *   header fields escape '\' and '|' with '\' (a newline becomes a space);
 *   extension values escape '\' and '=' with '\', newlines as \n and \r.
 *   The ECS fields and their CEF keys are listed at bwe_slog_cef_keys.
 * Severity (syslog / CEF), from the event:
 *   event.kind "alert" (blocklist-hit, detection-alert, feed-stale,
 *   detection-table-full, a rule's quarantine or throttle)   4 warning / 7
 *   an action ending in "-error" or "-dropped", events-suppressed
 *                                                            4 warning / 6
 *   event.type "denied" (manual blocks) and every other change to operator
 *   state (event.category has "configuration")               5 notice  / 5
 *   everything else (feed-updated, interface-attached, ...)   6 info    / 3
 * A message longer than max is cut at a UTF-8 character boundary (and,
 * in CEF, never inside an escape), and *truncated is set.
 */
#ifndef BWE_SYSLOGFMT_H
#define BWE_SYSLOGFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <linux/types.h>
#include <json-c/json.h>

#define BWE_SLOG_APP_NAME_MAX 48    /* RFC 5424 APP-NAME */
#define BWE_SLOG_HOSTNAME_MAX 255   /* RFC 5424 HOSTNAME */
#define BWE_SLOG_MSGID_MAX    32    /* RFC 5424 MSGID */
#define BWE_SLOG_MSG_MIN      480   /* RFC 5424 6.1: every receiver takes this */
#define BWE_SLOG_MSG_MAX      65000 /* below a UDP datagram's limit */
#define BWE_SLOG_TARGET_MAX   128   /* bytes of a target's text */
#define BWE_SLOG_FACILITIES   24
#define BWE_SLOG_SEQ_MAX      2147483647U /* meta sequenceId wraps to 1 after this */
#define BWE_SLOG_FAC_DAEMON   3		  /* the facility "daemon" */

enum bwe_slog_format { BWE_SLOG_RFC5424 = 0, BWE_SLOG_CEF };
enum bwe_slog_transport { BWE_SLOG_UDP = 0, BWE_SLOG_TCP, BWE_SLOG_UNIX };

struct bwe_slog_target {
	enum bwe_slog_transport transport;
	struct sockaddr_storage sa; /* UDP, TCP: the address; UNIX: sockaddr_un */
	socklen_t len;
};

/*
 * "udp://IPv4:PORT", "udp://[IPv6]:PORT", "tcp://..." (numeric addresses
 * only: no name is resolved in the daemon's loop) or "unix:/ABSOLUTE/PATH"
 * (a datagram socket such as /dev/log). 0, or -EINVAL with err saying why.
 */
int bwe_slog_target_parse(const char *s, struct bwe_slog_target *t, char *err, size_t errlen);

/* "kern" (0) .. "local7" (23); -1 for an unknown name. */
int bwe_slog_facility_from(const char *name);
/* The facility names in order, for the config loader's enum. */
extern const char *const bwe_slog_facility_names[BWE_SLOG_FACILITIES];

/* Syslog severity 0..7 of an event, as the table above. */
int bwe_slog_severity(struct json_object *ev);
/* CEF severity 0..10 of an event, as the table above. */
int bwe_slog_cef_severity(struct json_object *ev);

struct bwe_slog_opts {
	enum bwe_slog_format format;
	unsigned int facility; /* 0..23 */
	const char *hostname;  /* PRINTUSASCII; others become '_' ; NULL or "": "-" */
	const char *app_name;  /* likewise */
	const char *version;   /* swVersion and the CEF device version */
	int pid;	       /* PROCID */
	__u32 seq;	       /* meta sequenceId, 1..BWE_SLOG_SEQ_MAX */
	size_t max;	       /* bytes of the message at most, >= BWE_SLOG_MSG_MIN */
};

/*
 * The message for ev into buf (cap > o->max), NUL-terminated, without any
 * transport framing. Returns its length (<= o->max).
 */
size_t bwe_slog_format(const struct bwe_slog_opts *o, struct json_object *ev, char *buf, size_t cap,
		       bool *truncated);

/* Escapers, exposed for the tests; each writes at most outlen - 1 bytes and a NUL. */
void bwe_slog_sd_escape(const char *s, char *out, size_t outlen);	  /* '"' '\' ']' */
void bwe_slog_cef_header_escape(const char *s, char *out, size_t outlen); /* '\' '|' */
void bwe_slog_cef_ext_escape(const char *s, char *out, size_t outlen);	  /* '\' '=' \n \r */

/* One ECS field and the CEF extension key it goes to. */
struct bwe_slog_cef_key {
	const char *ecs;   /* dotted ECS path in the event */
	const char *cef;   /* CEF key */
	const char *label; /* csN / c6aN: the value of csNLabel, else NULL */
};
extern const struct bwe_slog_cef_key bwe_slog_cef_keys[];
extern const size_t bwe_slog_cef_nkeys;

#endif /* BWE_SYSLOGFMT_H */
