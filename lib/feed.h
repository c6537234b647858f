/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * feed.h - the one parser of threat-intel feed bodies (FEEDS.md). The daemon
 * hands it a downloaded body; nothing else in the project parses feeds.
 * Included by the daemon, the tests and the fuzz targets; BPF code does not
 * include this file.
 *
 * Contract:
 *  - bwe_feed_parse() reads a whole body held in memory (not NUL-terminated,
 *    may contain NUL bytes) and calls o->on_ind once per indicator, in source
 *    order, and o->on_reject (when set) once per refused line or STIX
 *    indicator or STIX pattern branch. Every pointer handed to a callback is
 *    valid only during that
 *    call. The parser keeps no global state, never logs, never resolves a
 *    name, and allocates nothing per line in the text formats. The JSON
 *    formats allocate json-c objects one at a time, never the whole body
 *    as a tree: Spamhaus JSON one line, STIX one object of the bundle or
 *    array (a small scanner finds them; a first pass parses every object,
 *    so a body that is not JSON anywhere is refused before any callback,
 *    and collects the versions of each id; a second pass delivers). A body
 *    that is one STIX object is one tree. Code: feed.c (entry, detection,
 *    checks), feed_text.c, feed_json.c, feed_stix.c, feed_pattern.c,
 *    feed_zeek.c; internals in
 *    feed_impl.h.
 *  - Text formats: lines end at '\n'; a trailing '\r' is dropped (CRLF); a
 *    UTF-8 BOM at the start of the body is skipped; the last line needs no
 *    newline. Leading and trailing blanks (space, tab, CR, VT, FF) are
 *    ignored, blank lines and comments are not counted anywhere but in
 *    stats.lines. A line longer than BWE_FEED_LINE_MAX bytes, or holding a
 *    NUL byte, is rejected and parsing goes on with the next line.
 *  - An address entry is read with bwe_prefix_parse() (addr.h) and then:
 *      host bits set under the mask (198.51.100.7/24) -> accepted, masked
 *        to the network (198.51.100.0/24): real lists contain them; not
 *        counted apart in the stats;
 *      any /0, and the unspecified host 0.0.0.0 or :: -> rejected
 *        (0.0.0.0/8, a bogon block, is accepted like the others);
 *      an IPv6 prefix that covers all of ::ffff:0:0/96 (e.g. ::/64) ->
 *        rejected: in the mapped key space it would hold every IPv4 host;
 *      broader than min_plen_v4 / min_plen_v6 -> rejected "broader than /N";
 *      loopback, multicast, private, bogon -> accepted (the daemon carves
 *        out internal and exempt networks, the parser does not judge);
 *      ::ffff:a.b.c.d -> the IPv4 address a.b.c.d;
 *      anything else ("evil.example", "1.2.3") -> rejected "not an address"
 *        in address formats: never taken as a host name.
 *    Duplicates and overlapping entries are all delivered.
 *  - Formats (config names in parentheses):
 *      PLAIN (plain, netset): one address or prefix a line (a dotted netmask
 *        is accepted too), '#' and ';' start a comment anywhere on a line;
 *        FireHOL .netset/.ipset files are plain lists.
 *      SPAMHAUS (spamhaus): DROP text; as PLAIN, and a "; SBLnnn" trailer
 *        becomes the indicator id.
 *      SPAMHAUS_JSON (spamhaus-json): one JSON object a line; "cidr" is the
 *        prefix, "sblid" the id; {"type":"metadata",...} lines and ASN-DROP records
 *        ({"asn":N,...} without "cidr") are skipped.
 *        A first non-blank line that is not a JSON object: -EBADMSG.
 *      FEODO_CSV (feodo-csv): '#' banner lines, a header row whose first
 *        field is first_seen_utc (skipped), rows of comma separated fields,
 *        quoted ("...", "" for a quote) or not; the address is field 2.
 *      STIX (stix): a STIX 2.1 or 2.0 bundle; also accepted: a JSON array of STIX
 *        objects, or one STIX object. Only "indicator" objects with
 *        pattern_type "stix" (or no pattern_type: STIX 2.0) count; other
 *        objects, other pattern types, revoked indicators, indicators not yet
 *        valid (valid_from > now) or expired (valid_until <= now), and
 *        indicators superseded by a later "modified" version of the same id
 *        in the body are skipped, and so is an indicator whose pattern
 *        names no address or domain (file hashes, URLs, e-mail, processes,
 *        a port alone). Patterns: the whole STIX grammar, see
 *        feed_pattern.c; a malformed pattern is one refused indicator; in a
 *        valid one every OR branch stands on its own: its values are
 *        delivered, and each bad value or unenforceable address branch is
 *        one refused item (on_reject, stats.rejected) with a reason naming
 *        it. A body that is not JSON, or a top-level value without a
 *        "type": -EBADMSG.
 *      FREEFORM (freeform): as PLAIN, plus ranges "a - b" / "a-b" (split
 *        into the covering CIDRs; refused whole when one of them would be
 *        refused) and "a/255.255.255.0" netmasks.
 *      ZEEK_INTEL (zeek-intel): Zeek Intel framework files: "#fields"
 *        names the tab-separated columns (any order; "#separator \xHH",
 *        "#empty_field", "#unset_field" honoured); Intel::ADDR, ::SUBNET
 *        and ::DOMAIN rows are indicators (meta.source their id), other
 *        Intel:: types skipped; see feed_zeek.c.
 *      DOMAINS (domains): one domain a line, or hosts-file lines
 *        "0.0.0.0 a.example [b.example ...]" (the address is the sink, not
 *        an indicator; hosts-file boilerplate names such as localhost are
 *        skipped). Names follow RFC 1123: at least one dot, at most 253
 *        bytes without the optional trailing dot, labels 1..63 of
 *        [A-Za-z0-9-] not starting or ending with '-', a top-level label
 *        that is not all digits; delivered lower case. A line that is a
 *        bare address or prefix is delivered as a PREFIX indicator (the
 *        list asks for it to be blocked), with the address checks above.
 *      CROWDSEC (crowdsec-lapi): a CrowdSec LAPI decision stream body
 *        (crowdsec.h); read as a feed, its new ban decisions on Ip and Range
 *        are the indicators (id "crowdsec:ID", valid_until now + duration),
 *        deleted ones and other types and scopes are skipped. The daemon
 *        polls it as a bouncer instead (bwe_cs_parse). Never detected.
 *      TAXII (taxii): one TAXII 2.1 envelope (taxii.h); read as a feed, the
 *        live values of its indicators (each pattern read by the STIX
 *        parser) with the STIX id. The daemon polls a collection and keeps
 *        its indicator set instead (bwe_taxii_parse_page). Never detected.
 *      MISP (misp): a MISP attributes/restSearch JSON response (misp.h):
 *        response.Attribute[] of types ip-src, ip-dst, ip-src|port,
 *        ip-dst|port (the address; the port is not enforced) and domain,
 *        with to_ids true; id "misp event E attribute UUID". Never detected.
 *  - BWE_FMT_AUTO: bwe_feed_detect() picks the format; see its comment.
 */
#ifndef BWE_FEED_H
#define BWE_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "addr.h"

#define BWE_FEED_LINE_MAX      (64 * 1024) /* bytes; longer lines are rejected */
#define BWE_FEED_EXCERPT_MAX   80	   /* bytes of rejected text shown */
#define BWE_FEED_DOMAIN_MAX    253	   /* bytes of a name, no trailing dot */
#define BWE_FEED_LABEL_MAX     63	   /* bytes of one label */
#define BWE_FEED_HTML_WINDOW   512	   /* bytes searched for "<html" */
#define BWE_FEED_DETECT_WINDOW (64 * 1024) /* bytes looked at by detection */
#define BWE_FEED_JSON_DEPTH    64	   /* nesting levels of a JSON body */

enum bwe_feed_format {
	BWE_FMT_AUTO = 0,
	BWE_FMT_PLAIN,	       /* plain IP/CIDR lists and FireHOL .netset/.ipset */
	BWE_FMT_SPAMHAUS,      /* DROP text, ';' comments and '; SBLnnn' trailers */
	BWE_FMT_SPAMHAUS_JSON, /* newline-delimited objects, metadata line */
	BWE_FMT_FEODO_CSV,     /* abuse.ch Feodo Tracker CSV, address in field 2 */
	BWE_FMT_STIX,	       /* STIX 2.0/2.1 bundle */
	BWE_FMT_FREEFORM,      /* ranges "a - b", netmasks, inline comments */
	BWE_FMT_DOMAINS,       /* domain a line, or hosts-file lines */
	BWE_FMT_ZEEK_INTEL,    /* Zeek Intel framework files (#fields ...) */
	BWE_FMT_CROWDSEC,      /* CrowdSec LAPI decision stream (crowdsec.h) */
	BWE_FMT_TAXII,	       /* TAXII 2.1 envelope (taxii.h) */
	BWE_FMT_MISP,	       /* MISP attributes/restSearch response (misp.h) */
	BWE_FMT_COUNT	       /* number of values above, not a format */
};

/*
 * Config names: "auto", "plain", "netset" (= plain), "spamhaus",
 * "spamhaus-json", "feodo-csv", "stix", "freeform", "domains",
 * "zeek-intel", "crowdsec-lapi", "taxii", "misp". Exact,
 * case-sensitive match; 0 or -EINVAL (NULL or unknown name).
 */
int bwe_feed_format_parse(const char *name, enum bwe_feed_format *out);
/* The config name ("plain" for PLAIN); "?" for a value outside the enum. */
const char *bwe_feed_format_name(enum bwe_feed_format f);

/*
 * Guess the format from the first BWE_FEED_DETECT_WINDOW bytes, in this
 * order (the first that matches wins):
 *   STIX           first non-blank byte '{' or '[' and "spec_version", a
 *                  "type" of "bundle" or "indicator", or an "id" of
 *                  "bundle--..." or "indicator--..." present (STIX 2.0
 *                  has no spec_version; keys in alphabetical order put a
 *                  bundle's "type" after its objects);
 *   SPAMHAUS_JSON  a line starting with '{' that holds "cidr";
 *   ZEEK_INTEL     a "#fields" line naming indicator_type;
 *   FEODO_CSV      a first_seen_utc header, or a row of at least three
 *                  commas whose field 2 is an address;
 *   SPAMHAUS       a "; Spamhaus" comment or a "; SBL" trailer;
 *   DOMAINS        more of the data lines are names (or hosts-file lines)
 *                  than addresses;
 *   FREEFORM       a range or a netmask on a data line;
 *   PLAIN          an address on a data line, or comments and no data
 *                  (an empty FireHOL set).
 * AUTO when undecidable: an empty or blank body, HTML, JSON that is
 * neither STIX nor Spamhaus, or data lines that are all garbage.
 */
enum bwe_feed_format bwe_feed_detect(const char *buf, size_t len);

enum bwe_ind_kind { BWE_IND_PREFIX = 1, BWE_IND_DOMAIN };

struct bwe_indicator {
	enum bwe_ind_kind kind;
	struct bwe_prefix pfx; /* PREFIX: host bits clear (a range yields one
				 * indicator per covering CIDR) */
	const char *domain;    /* DOMAIN: lower-case, no trailing dot,
				 * NUL-terminated; valid only during the callback */
	__u32 line;	       /* 1-based line of the source text (STIX: line
				 * where the indicator object starts, 0 if unknown) */
	const char *id;	       /* STIX indicator id ("indicator--..."), SBL id,
				 * or NULL; valid during the callback */
	__s64 valid_until;     /* unix seconds, 0 = none (STIX valid_until) */
};

struct bwe_feed_reject {
	__u32 line;	     /* 1-based; STIX: as bwe_indicator.line */
	const char *reason;  /* short text, no trailing newline */
	const char *excerpt; /* at most BWE_FEED_EXCERPT_MAX bytes of the
				 * offending text, printable ASCII ('?' for any
				 * other byte), NUL-terminated */
};

struct bwe_feed_parse_opts {
	enum bwe_feed_format format; /* AUTO: detect */
	/*
	 * Prefixes broader than these family lengths are rejected lines;
	 * 0 => the config defaults BWE_FEED_MIN_PREFIX_V4 (8) and
	 * BWE_FEED_MIN_PREFIX_V6 (19); allowed 0..32 and 0..128, else -EINVAL.
	 */
	int min_plen_v4, min_plen_v6;
	/* unix seconds for STIX validity; 0 => time(NULL) */
	__s64 now;
	/*
	 * 0: buf is a whole body. Else buf is the rest of a body whose first
	 * first_line lines (ending with a newline) were parsed apart, in a
	 * format parsed line by line (PLAIN, SPAMHAUS, FREEFORM; anything else:
	 * -EINVAL): lines are numbered from first_line + 1, and neither a BOM,
	 * nor the HTML check, nor detection applies (the body's start has had
	 * them). stats count this part only. The feed worker parses a big
	 * body in two parts at once this way.
	 */
	__u32 first_line;
	/* Required. Non-zero return stops parsing and is returned. */
	int (*on_ind)(const struct bwe_indicator *ind, void *ctx);
	/* Optional. */
	void (*on_reject)(const struct bwe_feed_reject *rej, void *ctx);
	void *ctx;
};

struct bwe_feed_stats {
	enum bwe_feed_format format; /* the format used (AUTO: detected) */
	size_t lines;		     /* lines of the body (a last line without
				 * newline counts; an empty body has none) */
	size_t accepted;	     /* indicators on_ind took (returned 0) */
	size_t rejected;	     /* refused lines (STIX: malformed indicators, and
				 * bad values or unenforceable address
				 * branches of valid patterns) */
	size_t skipped;		     /* well-formed non-indicators: Spamhaus
				 * metadata, CSV header, hosts-file boilerplate,
				 * STIX non-indicator objects, other pattern
				 * types, patterns naming no address, revoked,
				 * not yet valid, expired, superseded.
				 * Comments and blanks: not counted */
};

/*
 * Parse buf[0..len) and deliver indicators. st may be NULL; it is zeroed
 * first and filled as far as parsing went. Returns:
 *   0          done (an empty or blank body: 0 with accepted == 0);
 *   -EBADMSG   the body is an HTML page (starts with "<!DOCTYPE html" or
 *              "<html" after optional blanks and BOM, or holds "<html" in
 *              its first BWE_FEED_HTML_WINDOW bytes; case-insensitive), or a
 *              JSON format body is not parseable at all; no callback ran;
 *   -EINVAL    bad arguments (o or o->on_ind NULL, buf NULL with len > 0,
 *              unknown format, min_plen out of range), or AUTO could not
 *              detect a format;
 *   -ENOMEM    (JSON formats) out of memory;
 *   other      the first non-zero value returned by on_ind.
 */
int bwe_feed_parse(const char *buf, size_t len, const struct bwe_feed_parse_opts *o,
		   struct bwe_feed_stats *st);

/*
 * The reject guard of a parsed version (config keys max_reject and
 * max_reject_floor): true when it must be refused, i.e. more than
 * max_share of its items (accepted + rejected) were refused AND at least
 * floor of them, or none was accepted (a body of nothing but refused
 * lines is no feed, however short). A short list with one bad line still
 * loads; floor 0 or 1 is the share alone. Skipped items count on neither
 * side.
 */
bool bwe_feed_reject_guard(const struct bwe_feed_stats *st, double max_share, size_t floor);

#endif /* BWE_FEED_H */
