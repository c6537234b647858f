/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * feedwork.h - the feed worker: the child process that downloads, resolves
 * and parses untrusted threat-intel feeds for bwctld. Called only from the
 * child's entry point (bwctld --feed-worker, the tests' helper tool); the
 * parent side is fwclient.h.
 *
 * Contract:
 *  - bwe_feedwork_main() runs in a process that sandbox.h already made
 *    unprivileged (nobody, no capabilities, no_new_privs). It initialises
 *    libcurl and the resolver, then enters bwe_feedwork_seccomp, then
 *    serves requests from fd (wire.h framing, blocking I/O) one at a time,
 *    in order, until the parent closes the socket.
 *  - FETCH: https:// (and its redirects: https only, at most
 *    BWE_FEEDWORK_MAX_REDIRS; another scheme fails with -EPROTO "refused a
 *    redirect away from https"); http:// and redirects to it only with
 *    req->insecure; req->ca_file replaces the system CAs (the worker
 *    opens it, so sandbox_user must read it). If-None-Match / If-Modified-Since from the
 *    request, the body capped at max_bytes (-EFBIG), the whole transfer
 *    bounded by timeout_s, CURLOPT_NOSIGNAL. HTTP 304 answers
 *    not_modified; another status than 200 is -EIO "HTTP status N". A 200
 *    body is parsed and sent back too (the parent keeps it as last good).
 *  - A FETCH with a secret (wire.h, enum bwe_wire_auth) sends it as the
 *    named header (CrowdSec's X-Api-Key), HTTP basic or a bearer token,
 *    follows no redirect (a 3xx fails: "a redirect, not followed with
 *    credentials"), and reports 401/403 as -EACCES "the credentials were
 *    refused". The secret is never in an error text.
 *  - Format crowdsec-lapi (FETCH or PARSE): the body is a LAPI decision
 *    stream (crowdsec.h, bwe_cs_parse); the answer is DECISIONS records in
 *    stream order and the rejects, no indicators, and a FETCH sends no
 *    body back (a pull is no version to keep).
 *  - FETCH with method POST sends the request's body as application/json
 *    (MISP's restSearch); format misp asks Accept: application/json, format
 *    taxii Accept: application/taxii+json;version=2.1.
 *  - FETCH of format taxii is a whole collection poll: the URL, then the
 *    envelope's "next" pages while "more" is true (at most
 *    BWE_TAXII_PAGES_MAX, max_bytes over all pages, timeout_s for the whole
 *    poll, a "next" sent twice fails it as a loop); every page is parsed by
 *    bwe_taxii_parse_page() and the values of all pages go back as taxii
 *    records with X-TAXII-Date-Added-Last of the last page that sent one as
 *    the result's cursor, or the poll fails whole. No body goes back.
 *  - PARSE: the body the parent sent (it reads local files itself: the
 *    child cannot open root's files).
 *  - Parsing is bwe_feed_parse() (feed.h). Address indicators are sent
 *    sorted by bwe_prefix_cmp and unique, the first line winning;
 *    domain indicators go back as domain records in source order (the
 *    parent decides when to resolve); at most BWE_WIRE_REJECTS_MAX reject
 *    records, the stats count all. A reject carries its excerpt only when
 *    bwe_feed_detect() recognises the body as a feed (the garbage guard):
 *    the text of a file that is not a feed never leaves the worker. A parse error is the job's status with
 *    the parser's reason, and no records.
 *  - RESOLVE: res_query A and AAAA per name; ttl is the smallest answer
 *    TTL, 0 when nothing resolved (the parent clamps); at most
 *    BWE_WIRE_ADDRS_MAX addresses, IPv4 mapped, duplicates dropped.
 *  - Returns 0 when the parent closed the socket, -EBADMSG on a malformed
 *    request, -ENOMEM when a request's body did not fit under the memory
 *    limit, another -errno when the socket or the sandbox failed. The
 *    caller turns that into the exit status (bwe_feedwork_exit_code).
 *  - Memory: the sandbox sets RLIMIT_DATA (feed_worker_memory). A body, a
 *    parse or a download that needs more fails the job with -ENOMEM and
 *    "out of memory" and the worker serves the next job; only a request
 *    body that cannot even be received ends the worker (exit code
 *    BWE_SANDBOX_EXIT_NOMEM). A FETCH body is held once (sent back in
 *    pieces), a PARSE body once at its announced length; JSON bodies are
 *    parsed one object (STIX) or line (Spamhaus) at a time.
 */
#ifndef BWE_FEEDWORK_H
#define BWE_FEEDWORK_H

#include "sandbox.h"

#define BWE_FEEDWORK_MAX_REDIRS	       5
#define BWE_FEEDWORK_CONNECT_TIMEOUT_S 10

struct bwe_feedwork_opts {
	const char *user_agent; /* NULL: "bwenforce" */
};

/* The syscalls fetching, resolving and parsing need; nothing else. */
extern const struct bwe_seccomp_profile bwe_feedwork_seccomp;
/*
 * Its table of names (NULL-terminated): what a libcurl worker needs. The
 * fleet worker (fleetwork.h) uses the same table.
 */
extern const char *const bwe_feedwork_allow[];

int bwe_feedwork_main(int fd, const struct bwe_feedwork_opts *o);
/* The worker's exit status for bwe_feedwork_main's value: 0, 1, or
 * BWE_SANDBOX_EXIT_NOMEM (out of memory under feed_worker_memory). */
int bwe_feedwork_exit_code(int err);

#endif /* BWE_FEEDWORK_H */
