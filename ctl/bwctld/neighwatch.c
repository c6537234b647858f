// SPDX-License-Identifier: GPL-2.0-only
/*
 * neighwatch.c - see neighwatch.h.
 *
 * The view is a table of (address, interface) -> MAC address, filled by a
 * dump at open and kept current by RTM_NEWNEIGH / RTM_DELNEIGH. A
 * notification is judged on its own content (state, link-layer address),
 * so a duplicate or a state change of a known entry reports nothing. The
 * table is searched linearly: it holds the gateway's LAN neighbours (a few
 * hundred, at most max), and lookups happen on operator commands and on
 * neighbour changes, not per packet.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if_packet.h>
#include <linux/neighbour.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <netlink/msg.h>
#include <netlink/attr.h>
#include <netlink/cache.h>
#include <netlink/route/neighbour.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "log.h"
#include "nlsub.h"
#include "neighwatch.h"

#define NEIGHWATCH_RCVBUF (1 << 20) /* bytes: room for bursts of neighbour events */
#define NEIGH_MIN_CAP	  64	    /* first table allocation, entries */
#define NUD_UNUSABLE	  (NUD_FAILED | NUD_INCOMPLETE)

struct neigh_ent {
	struct bwe_addr addr;
	__u8 mac[BWE_MAC_LEN];
	int ifindex;
};

struct bwe_neighwatch {
	struct nl_sock *sock; /* RTNLGRP_NEIGH member, non-blocking */
	bwe_neigh_cb cb;
	void *ctx;
	struct neigh_ent *v;
	size_t n, cap, max;
	size_t dropped; /* entries not kept: the table was full */
	int err;	/* first error met inside a libnl callback */
};

static const struct nla_policy neigh_policy[NDA_MAX + 1] = {
	[NDA_DST] = { .minlen = 4, .maxlen = 16 },
	[NDA_LLADDR] = { .minlen = 0, .maxlen = 32 },
};

bool bwe_mac_is_group_or_zero(const __u8 mac[BWE_MAC_LEN])
{
	static const __u8 zero[BWE_MAC_LEN];

	return (mac[0] & 0x01) || !memcmp(mac, zero, BWE_MAC_LEN); /* I/G bit: group */
}

bool bwe_mac_is_own(const __u8 mac[BWE_MAC_LEN])
{
	struct ifaddrs *ifa, *i;
	bool own = false;

	if (getifaddrs(&ifa))
		return false;
	for (i = ifa; i && !own; i = i->ifa_next) {
		const struct sockaddr_ll *ll = (const void *)i->ifa_addr;

		own = ll && ll->sll_family == AF_PACKET && ll->sll_halen == BWE_MAC_LEN &&
		      !memcmp(ll->sll_addr, mac, BWE_MAC_LEN);
	}
	freeifaddrs(ifa);
	return own;
}

static bool v6_link_local(const struct bwe_addr *a)
{
	return !bwe_addr_is_v4(a) && a->a[0] == 0xfe && (a->a[1] & 0xc0) == 0x80;
}

/* A neighbour's destination as a bwe_addr; false for anything we do not keep. */
static bool to_addr(int family, const void *bin, size_t len, struct bwe_addr *a)
{
	__u32 v4;

	if (family == AF_INET && len == sizeof(v4)) {
		memcpy(&v4, bin, sizeof(v4));
		bwe_addr_from_v4(v4, a);
		return true;
	}
	if (family == AF_INET6 && len == sizeof(a->a)) {
		memcpy(a->a, bin, sizeof(a->a));
		return !v6_link_local(a);
	}
	return false;
}

static ssize_t find(const struct neigh_ent *v, size_t n, const struct bwe_addr *a, int ifindex)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i].ifindex == ifindex && !memcmp(&v[i].addr, a, sizeof(*a)))
			return (ssize_t)i;
	return -1;
}

static int table_put(struct bwe_neighwatch *nw, const struct neigh_ent *e, bool *reported)
{
	ssize_t i = find(nw->v, nw->n, &e->addr, e->ifindex);

	*reported = false;
	if (i >= 0) {
		if (!memcmp(nw->v[i].mac, e->mac, BWE_MAC_LEN))
			return 0;
		nw->v[i] = *e;
		*reported = true;
		return 0;
	}
	if (nw->n == nw->max) {
		nw->dropped++;
		return 0;
	}
	if (nw->n == nw->cap) {
		size_t cap = nw->cap ? 2 * nw->cap : NEIGH_MIN_CAP;
		struct neigh_ent *v;

		if (cap > nw->max)
			cap = nw->max;
		v = reallocarray(nw->v, cap, sizeof(*v));
		if (!v)
			return -ENOMEM;
		nw->v = v;
		nw->cap = cap;
	}
	nw->v[nw->n++] = *e;
	*reported = true;
	return 0;
}

static void table_del(struct bwe_neighwatch *nw, const struct bwe_addr *a, int ifindex)
{
	ssize_t i = find(nw->v, nw->n, a, ifindex);

	if (i >= 0)
		nw->v[i] = nw->v[--nw->n];
}

/* One neighbour as the kernel says it is now: kept (and maybe reported) or dropped. */
static int on_neigh(struct bwe_neighwatch *nw, bool present, int family, int ifindex,
		    unsigned int state, const void *dst, size_t dlen, const void *ll, size_t llen,
		    bool report)
{
	struct neigh_ent e = { .ifindex = ifindex };
	bool news = false;
	int err;

	if (!to_addr(family, dst, dlen, &e.addr))
		return 0;
	if (!present || (state & NUD_UNUSABLE) || !ll || llen != BWE_MAC_LEN ||
	    bwe_mac_is_group_or_zero(ll)) {
		table_del(nw, &e.addr, ifindex);
		return 0;
	}
	memcpy(e.mac, ll, BWE_MAC_LEN);
	err = table_put(nw, &e, &news);
	if (!err && news && report)
		nw->cb(&e.addr, e.mac, ifindex, nw->ctx);
	return err;
}

static int on_msg(struct nl_msg *msg, void *arg)
{
	struct bwe_neighwatch *nw = arg;
	struct nlmsghdr *h = nlmsg_hdr(msg);
	struct nlattr *tb[NDA_MAX + 1];
	struct ndmsg *nd;
	int err;

	if (h->nlmsg_type != RTM_NEWNEIGH && h->nlmsg_type != RTM_DELNEIGH)
		return NL_SKIP;
	if (nlmsg_parse(h, sizeof(*nd), tb, NDA_MAX, neigh_policy) < 0 || !tb[NDA_DST])
		return NL_SKIP;
	nd = nlmsg_data(h);
	err = on_neigh(nw, h->nlmsg_type == RTM_NEWNEIGH, nd->ndm_family, nd->ndm_ifindex,
		       nd->ndm_state, nla_data(tb[NDA_DST]), (size_t)nla_len(tb[NDA_DST]),
		       tb[NDA_LLADDR] ? nla_data(tb[NDA_LLADDR]) : NULL,
		       tb[NDA_LLADDR] ? (size_t)nla_len(tb[NDA_LLADDR]) : 0, true);
	if (err && !nw->err)
		nw->err = err;
	return NL_OK;
}

/*
 * Replace the table with a fresh dump; report=true tells the callback of
 * every pair the old table did not have.
 */
static int resync(struct bwe_neighwatch *nw, bool report)
{
	struct neigh_ent *old = nw->v;
	size_t nold = nw->n, i;
	struct nl_cache *cache = NULL;
	struct nl_object *o;
	struct nl_sock *s;
	int err;

	s = nl_socket_alloc();
	if (!s)
		return -ENOMEM;
	err = bwe_nl_errno(nl_connect(s, NETLINK_ROUTE));
	err = err ?: bwe_nl_errno(rtnl_neigh_alloc_cache(s, &cache));
	if (err)
		goto cleanup;
	nw->v = NULL;
	nw->n = nw->cap = 0;
	for (o = nl_cache_get_first(cache); o && !err; o = nl_cache_get_next(o)) {
		struct rtnl_neigh *n = (struct rtnl_neigh *)o;
		struct nl_addr *dst = rtnl_neigh_get_dst(n), *ll = rtnl_neigh_get_lladdr(n);
		int state = rtnl_neigh_get_state(n);

		if (!dst)
			continue;
		err = on_neigh(nw, true, nl_addr_get_family(dst), rtnl_neigh_get_ifindex(n),
			       state < 0 ? 0 : (unsigned int)state, nl_addr_get_binary_addr(dst),
			       nl_addr_get_len(dst), ll ? nl_addr_get_binary_addr(ll) : NULL,
			       ll ? nl_addr_get_len(ll) : 0, false);
	}
	if (err) { /* keep what we had */
		free(nw->v);
		nw->v = old;
		nw->n = nw->cap = nold;
		old = NULL;
		goto cleanup;
	}
	for (i = 0; report && i < nw->n; i++) {
		ssize_t k = find(old, nold, &nw->v[i].addr, nw->v[i].ifindex);

		if (k < 0 || memcmp(old[k].mac, nw->v[i].mac, BWE_MAC_LEN))
			nw->cb(&nw->v[i].addr, nw->v[i].mac, nw->v[i].ifindex, nw->ctx);
	}
cleanup:
	free(old);
	nl_cache_free(cache);
	nl_socket_free(s);
	return err;
}

int bwe_neighwatch_open(struct bwe_neighwatch **out, size_t max, bwe_neigh_cb cb, void *ctx)
{
	struct bwe_neighwatch *nw;
	int err;

	if (!cb)
		return -EINVAL;
	nw = calloc(1, sizeof(*nw));
	if (!nw)
		return -ENOMEM;
	nw->cb = cb;
	nw->ctx = ctx;
	nw->max = max ? max : BWE_NEIGH_MAX_DEFAULT;
	err = bwe_nlsub_open(&nw->sock, RTNLGRP_NEIGH, NEIGHWATCH_RCVBUF, on_msg, nw);
	if (err)
		goto cleanup;
	/* Subscribed first: what changes during the dump is still queued. */
	err = resync(nw, false);
	if (err)
		goto cleanup;
	*out = nw;
	return 0;

cleanup:
	bwe_neighwatch_close(nw);
	return err;
}

int bwe_neighwatch_fd(const struct bwe_neighwatch *nw)
{
	return nl_socket_get_fd(nw->sock);
}

/* bwe_nlsub_process()'s resync: the whole table again, reporting what changed. */
static int resync_all(void *arg)
{
	return resync(arg, true);
}

int bwe_neighwatch_process(struct bwe_neighwatch *nw)
{
	nw->err = 0;
	return bwe_nlsub_process(nw->sock, &nw->err, resync_all, nw, "neighbour watch");
}

void bwe_neighwatch_close(struct bwe_neighwatch *nw)
{
	if (!nw)
		return;
	nl_socket_free(nw->sock);
	free(nw->v);
	free(nw);
}

int bwe_neigh_mac_of(const struct bwe_neighwatch *nw, const struct bwe_addr *a,
		     __u8 mac[BWE_MAC_LEN])
{
	size_t i;

	for (i = 0; nw && i < nw->n; i++)
		if (!memcmp(&nw->v[i].addr, a, sizeof(*a))) {
			memcpy(mac, nw->v[i].mac, BWE_MAC_LEN);
			return 0;
		}
	return -ENOENT;
}

size_t bwe_neigh_addrs_of(const struct bwe_neighwatch *nw, const __u8 mac[BWE_MAC_LEN],
			  struct bwe_addr *out, size_t max)
{
	size_t i, j, n = 0;

	for (i = 0; nw && i < nw->n; i++) {
		if (memcmp(nw->v[i].mac, mac, BWE_MAC_LEN))
			continue;
		/* one address on two interfaces is one address */
		for (j = 0; j < i; j++)
			if (!memcmp(nw->v[j].mac, mac, BWE_MAC_LEN) &&
			    !memcmp(&nw->v[j].addr, &nw->v[i].addr, sizeof(nw->v[i].addr)))
				break;
		if (j < i)
			continue;
		if (n < max)
			out[n] = nw->v[i].addr;
		n++;
	}
	return n;
}

size_t bwe_neigh_count(const struct bwe_neighwatch *nw)
{
	return nw ? nw->n : 0;
}

size_t bwe_neigh_dropped(const struct bwe_neighwatch *nw)
{
	return nw ? nw->dropped : 0;
}
