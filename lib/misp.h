/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * misp.h - bwctld as a MISP client: the request it POSTs to
 * {base}/attributes/restSearch and what the response holds. The response
 * is parsed by the one feed parser (feed.h, BWE_FMT_MISP,
 * lib/feed_misp.c) in the sandboxed feed worker. Included by the daemon,
 * the tests and the feed parser.
 *
 * The response (MISP 2.4) is one JSON object
 *   {"response": {"Attribute": [ATTRIBUTE...]}}
 * and an ATTRIBUTE
 *   {"id": "7", "event_id": "42", "uuid": "5f0c...", "type": "ip-dst",
 *    "value": "198.51.100.7", "to_ids": true, "comment": "C2", ...}
 * Contract of the parser:
 *  - "response" must be an object whose "Attribute" is an array or null
 *    (empty): anything else (HTML, {"name": "Authentication failed", ...},
 *    wrong types) is -EBADMSG and no callback runs. More than
 *    BWE_MISP_ATTRIBUTES_MAX attributes: -E2BIG.
 *  - An attribute of another type, or whose to_ids is not true (true, 1 or
 *    "1"), is skipped. ip-src/ip-dst values are addresses or prefixes;
 *    ip-src|port/ip-dst|port values are "address|port" (the address is
 *    blocked whole, the port 0..65535 is checked and dropped); domain
 *    values are RFC 1123 names (feed.h's rules) and take the domain
 *    resolution path. A value that fails, or an attribute without a value,
 *    uuid or event_id, is rejected with its 1-based position as the line.
 *  - Each indicator's id is "misp event E attribute UUID" (E the event id,
 *    digits), with " (COMMENT)" appended when the attribute has a comment,
 *    printable ASCII, cut at BWE_MISP_ID_MAX - 1 bytes.
 */
#ifndef BWE_MISP_H
#define BWE_MISP_H

#include <stddef.h>

#define BWE_MISP_SEARCH_PATH	"attributes/restSearch"
#define BWE_MISP_KEY_HEADER	"Authorization"
#define BWE_MISP_ATTRIBUTES_MAX (1u << 22) /* attributes in one response */
#define BWE_MISP_ID_MAX		200	   /* bytes of an indicator id incl. NUL */
#define BWE_MISP_JSON_DEPTH	16	   /* nesting levels of a response */
#define BWE_MISP_LAST_MAX	16	   /* bytes of a "last" window incl. NUL */
#define BWE_MISP_LAST_DEF	"30d"	   /* default window */
#define BWE_MISP_BODY_MAX	512	   /* bytes of the request body incl. NUL */

/*
 * The restSearch request body for the window last ("30d", "12h", "90m":
 * digits then one of d h m s w): out (cap bytes, NUL-terminated). Its
 * length, or -EINVAL (not a window), -ENOSPC.
 */
int bwe_misp_request_body(const char *last, char *out, size_t cap);
/* 0 when s is a window bwe_misp_request_body takes, else -EINVAL. */
int bwe_misp_last_check(const char *s);

#endif /* BWE_MISP_H */
