/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * resolve.h - address arguments and host name text, for bwctl, the daemon
 * and the tests. Nothing here resolves a MAC address or a host name: the
 * daemon does (its neighbour view, ctl/bwctld/neighwatch.h; its hosts file,
 * bwe_hosts_file_lookup() below; DNS from its sandboxed feed worker), so
 * that the answer does not depend on where a client runs.
 *
 * bwe_resolve_host() takes an address or CIDR (bwe_prefix_parse() grammar,
 * addr.h). Host bits set under the mask are refused, naming the network
 * that was probably meant; a /0 of either family is refused unless
 * BWE_RES_ZERO_OK. Without BWE_RES_CIDR_OK only hosts (no "/len", or /32
 * and /128) pass. A MAC address is refused as "a MAC address, not ...".
 *
 * Host names are RFC 1123 host names (bwe_looks_like_hostname): labels of
 * letters, digits and '-', 1..63 bytes, no '-' at either end, 253 bytes in
 * all, an optional final '.', and a last label that is not all digits
 * (RFC 3696). Text that looks like a broken address (bwe_looks_like_address)
 * is never a name.
 *
 * The human reason written to why (always NUL terminated when whylen > 0)
 * quotes the argument and reads after "bwctl: <command>: ", e.g.
 *   "198.18.0.300" is not an IPv4/IPv6 address or CIDR
 */
#ifndef BWE_RESOLVE_H
#define BWE_RESOLVE_H

#include <stddef.h>

#include "addr.h"

enum bwe_resolve_flag {
	BWE_RES_CIDR_OK = 1 << 0, /* accept networks, not only hosts */
	BWE_RES_ZERO_OK = 1 << 2, /* accept 0.0.0.0/0 and ::/0 */
};

#define BWE_HOSTNAME_MAX 253 /* bytes of a host name, final '.' excluded */
#define BWE_LABEL_MAX	 63  /* bytes of one label */

/*
 * An address or CIDR argument as a prefix. Returns the count (1) with *out
 * malloc'ed (the caller frees it), or with *out NULL: -EINVAL not an
 * address or CIDR (or one this call may not take: a CIDR without
 * BWE_RES_CIDR_OK, host bits set, a /0), -ENOMEM.
 */
int bwe_resolve_host(const char *arg, unsigned int flags, struct bwe_prefix **out, char *why,
		     size_t whylen);

#define BWE_HOSTS_FILE	   "/etc/hosts"
#define BWE_HOSTS_FILE_MAX (1024 * 1024) /* bytes of a hosts file read at most */

/*
 * The addresses a hosts(5) file gives name (compared without case, a final
 * '.' ignored): up to max of them into out, IPv4 before IPv6, in file
 * order. Returns the count (0: not listed), or -errno when the file cannot
 * be read (-ENOENT: none; -EFBIG: over BWE_HOSTS_FILE_MAX). A local file
 * read: the daemon looks names up here before it asks a name server.
 */
int bwe_hosts_file_lookup(const char *path, const char *name, struct bwe_addr *out, size_t max);

/* True when s is an RFC 1123 host name as described above. */
bool bwe_looks_like_hostname(const char *s);
/*
 * True when s is text a person meant as an address, not a name: a ':' or
 * a '/', the shape of a MAC address, only digits and dots, or a dotted
 * quad with one bad part ("10.0.0.x1"). Such text never goes to a resolver.
 */
bool bwe_looks_like_address(const char *s);

#endif /* BWE_RESOLVE_H */
