// SPDX-License-Identifier: GPL-2.0-only
/*
 * linkwatch.c - see linkwatch.h.
 *
 * A notification only says which name or ifindex to look at; what is
 * reported comes from comparing the name's current ifindex with the one last
 * known (a small table of name -> ifindex). That makes stale, reordered or
 * duplicated notifications harmless, and lets a rename report both names.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <netlink/msg.h>
#include <netlink/attr.h>
#include <netlink/cache.h>
#include <netlink/route/link.h>

#include "linkwatch.h"
#include "log.h"
#include "nlsub.h"

#define LINKWATCH_RCVBUF (1 << 20) /* bytes: room for bursts of link events */
#define LINKS_MIN	 16	   /* first table allocation, entries */

struct link_ent {
	char name[IFNAMSIZ];
	int ifindex;
};

struct bwe_linkwatch {
	struct nl_sock *sock; /* RTNLGRP_LINK member, non-blocking */
	bwe_link_cb cb;
	void *ctx;
	struct link_ent *links; /* names present when last looked at */
	size_t n, cap;
	int err; /* first error met inside a libnl callback */
};

static const struct nla_policy link_policy[IFLA_MAX + 1] = {
	[IFLA_IFNAME] = { .type = NLA_STRING, .maxlen = IFNAMSIZ },
};

int bwe_link_ifindex(const char *name)
{
	if (!name || !name[0] || strnlen(name, IFNAMSIZ) >= IFNAMSIZ)
		return 0;
	return (int)if_nametoindex(name);
}

static ssize_t find_name(const struct bwe_linkwatch *lw, const char *name)
{
	size_t i;

	for (i = 0; i < lw->n; i++)
		if (!strcmp(lw->links[i].name, name))
			return (ssize_t)i;
	return -1;
}

static ssize_t find_ifindex(const struct bwe_linkwatch *lw, int ifindex)
{
	size_t i;

	for (i = 0; i < lw->n; i++)
		if (lw->links[i].ifindex == ifindex)
			return (ssize_t)i;
	return -1;
}

/*
 * Bring the table's entry for name to `now` (0: absent) and, when report,
 * tell the callback what changed: the old ifindex gone, the new one present.
 */
static int check_name(struct bwe_linkwatch *lw, const char *name_in, int now, bool report)
{
	char name[IFNAMSIZ];
	ssize_t i;
	int before;

	if (strnlen(name_in, IFNAMSIZ) >= IFNAMSIZ)
		return 0;
	strcpy(name, name_in); /* the table may move under the callbacks */
	i = find_name(lw, name);
	before = i >= 0 ? lw->links[i].ifindex : 0;
	if (now == before)
		return 0;
	if (!now) {
		lw->links[i] = lw->links[--lw->n];
	} else if (i >= 0) {
		lw->links[i].ifindex = now;
	} else {
		if (lw->n == lw->cap) {
			size_t cap = lw->cap ? 2 * lw->cap : LINKS_MIN;
			struct link_ent *v = reallocarray(lw->links, cap, sizeof(*v));

			if (!v)
				return -ENOMEM;
			lw->links = v;
			lw->cap = cap;
		}
		strcpy(lw->links[lw->n].name, name);
		lw->links[lw->n++].ifindex = now;
	}
	if (!report)
		return 0;
	if (before)
		lw->cb(name, before, false, lw->ctx);
	if (now)
		lw->cb(name, now, true, lw->ctx);
	return 0;
}

/* A notification about ifindex, called name (NULL when the message had none). */
static int on_link(struct bwe_linkwatch *lw, const char *name, int ifindex)
{
	char old[IFNAMSIZ] = "";
	ssize_t i = find_ifindex(lw, ifindex);
	int err = 0;

	/* The name this ifindex had before: gone when renamed or deleted. */
	if (i >= 0 && (!name || strcmp(lw->links[i].name, name))) {
		strcpy(old, lw->links[i].name);
		err = check_name(lw, old, bwe_link_ifindex(old), true);
	}
	if (!err && name)
		err = check_name(lw, name, bwe_link_ifindex(name), true);
	return err;
}

static int on_msg(struct nl_msg *msg, void *arg)
{
	struct bwe_linkwatch *lw = arg;
	struct nlmsghdr *h = nlmsg_hdr(msg);
	struct nlattr *tb[IFLA_MAX + 1];
	struct ifinfomsg *ifi;
	int err;

	if (h->nlmsg_type != RTM_NEWLINK && h->nlmsg_type != RTM_DELLINK)
		return NL_SKIP;
	if (nlmsg_parse(h, sizeof(*ifi), tb, IFLA_MAX, link_policy) < 0)
		return NL_SKIP;
	ifi = nlmsg_data(h);
	err = on_link(lw, tb[IFLA_IFNAME] ? nla_get_string(tb[IFLA_IFNAME]) : NULL, ifi->ifi_index);
	if (err && !lw->err)
		lw->err = err;
	return NL_OK;
}

/*
 * Compare the table with a fresh dump of every link: names known but gone,
 * names new or with another ifindex. report=false only learns.
 */
static int resync(struct bwe_linkwatch *lw, bool report)
{
	struct link_ent *now = NULL;
	struct nl_cache *cache = NULL;
	struct nl_object *o;
	struct nl_sock *s;
	size_t n = 0, i, j;
	int err;

	s = nl_socket_alloc();
	if (!s)
		return -ENOMEM;
	err = bwe_nl_errno(nl_connect(s, NETLINK_ROUTE));
	err = err ?: bwe_nl_errno(rtnl_link_alloc_cache(s, AF_UNSPEC, &cache));
	if (err)
		goto cleanup;
	now = calloc((size_t)nl_cache_nitems(cache) + 1, sizeof(*now));
	if (!now) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_link *l = (struct rtnl_link *)o;
		const char *name = rtnl_link_get_name(l);

		if (!name || strnlen(name, IFNAMSIZ) >= IFNAMSIZ)
			continue;
		strcpy(now[n].name, name);
		now[n++].ifindex = rtnl_link_get_ifindex(l);
	}
	/* Known names the dump lacks are gone (walk backwards: entries move). */
	for (i = lw->n; i-- > 0 && !err;) {
		for (j = 0; j < n && strcmp(now[j].name, lw->links[i].name); j++)
			;
		if (j == n)
			err = check_name(lw, lw->links[i].name, 0, report);
	}
	for (j = 0; j < n && !err; j++)
		err = check_name(lw, now[j].name, now[j].ifindex, report);
cleanup:
	free(now);
	nl_cache_free(cache);
	nl_socket_free(s);
	return err;
}

int bwe_linkwatch_open(struct bwe_linkwatch **out, bwe_link_cb cb, void *ctx)
{
	struct bwe_linkwatch *lw;
	int err;

	if (!cb)
		return -EINVAL;
	lw = calloc(1, sizeof(*lw));
	if (!lw)
		return -ENOMEM;
	lw->cb = cb;
	lw->ctx = ctx;
	err = bwe_nlsub_open(&lw->sock, RTNLGRP_LINK, LINKWATCH_RCVBUF, on_msg, lw);
	if (err)
		goto cleanup;
	/* Subscribed first: what changes during the dump is still queued. */
	err = resync(lw, false);
	if (err)
		goto cleanup;
	*out = lw;
	return 0;

cleanup:
	bwe_linkwatch_close(lw);
	return err;
}

int bwe_linkwatch_fd(const struct bwe_linkwatch *lw)
{
	return nl_socket_get_fd(lw->sock);
}

/* bwe_nlsub_process()'s resync: the whole table again, reporting what changed. */
static int resync_all(void *arg)
{
	return resync(arg, true);
}

int bwe_linkwatch_process(struct bwe_linkwatch *lw)
{
	lw->err = 0;
	return bwe_nlsub_process(lw->sock, &lw->err, resync_all, lw, "link watch");
}

void bwe_linkwatch_close(struct bwe_linkwatch *lw)
{
	if (!lw)
		return;
	nl_socket_free(lw->sock);
	free(lw->links);
	free(lw);
}
