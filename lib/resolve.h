/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * resolve.h - turn a HOST argument of the command line into prefixes.
 * User space only (bwctl and the tests); the daemon never resolves names:
 * it receives the address and CIDR strings this produces.
 *
 * A HOST argument is tried, in this order, as:
 *   1. an address or CIDR (bwe_prefix_parse() grammar, addr.h). Host bits
 *      set under the mask are refused, naming the network that was probably
 *      meant; a /0 of either family is refused unless BWE_RES_ZERO_OK.
 *      Without BWE_RES_CIDR_OK only hosts (no "/len", or /32 and /128) pass.
 *   2. a MAC address (addr.h grammar) -> every IPv4 and IPv6 address the
 *      kernel's neighbour table holds for it (rtnetlink, both families),
 *      skipping FAILED and INCOMPLETE entries and IPv6 link-local addresses
 *      (those never cross a router, so they never meet the enforcer).
 *   3. a host name -> every address getaddrinfo(AF_UNSPEC) returns, but
 *      only when the text is an RFC 1123 host name: labels of letters,
 *      digits and '-', 1..63 bytes, no '-' at either end, 253 bytes in all,
 *      an optional final '.', and a last label that is not all digits
 *      (RFC 3696). A token that looks like a broken address - only digits
 *      and dots, four labels of which three are numbers, a ':' or a '/', or
 *      the shape of a MAC address - never goes to the resolver.
 * Steps 2 and 3 happen only with BWE_RES_NAMES.
 *
 * Results are host prefixes (/128, IPv4 as /32 = 96 + 32) for steps 2 and 3,
 * in a stable order (IPv4 before IPv6, ascending, no duplicates).
 *
 * The human reason written to why (always NUL terminated when whylen > 0)
 * quotes the argument and reads after "bwctl: <command>: ", e.g.
 *   "198.18.0.300" is not an IPv4/IPv6 address, CIDR, MAC address or
 *   resolvable hostname
 */
#ifndef BWE_RESOLVE_H
#define BWE_RESOLVE_H

#include <stddef.h>

#include "addr.h"

enum bwe_resolve_flag {
	BWE_RES_CIDR_OK = 1 << 0, /* accept networks, not only hosts */
	BWE_RES_NAMES = 1 << 1,	  /* MAC and host name lookups allowed */
	BWE_RES_ZERO_OK = 1 << 2, /* accept 0.0.0.0/0 and ::/0 */
};

#define BWE_HOSTNAME_MAX 253 /* bytes of a host name, final '.' excluded */
#define BWE_LABEL_MAX	 63  /* bytes of one label */

/*
 * Resolve a HOST argument to prefixes. Returns the count (>= 1) with *out
 * malloc'ed (the caller frees it), or with *out NULL:
 *   -EINVAL  not an address/CIDR/MAC/name (or one this call may not take:
 *            a CIDR without BWE_RES_CIDR_OK, host bits set, a /0);
 *   -ENOENT  the MAC is not in the neighbour table / the name has no
 *            addresses;
 *   -EAGAIN  the name server did not answer (try again later);
 *   -errno   any other failure (netlink, memory).
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
