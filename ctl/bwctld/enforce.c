// SPDX-License-Identifier: GPL-2.0-only
/*
 * enforce.c - make the maps match the configuration and the state table.
 * Everything the data plane enforces for operators is derived here, so a
 * restart (or SIGHUP) re-derives the same maps from the same inputs.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <bpf/bpf.h>

#include "bwctld.h"
#include "log.h"

static int add_list(struct bwe_ncset *s, const struct bwe_cfg_prefixes *l, __u32 flag)
{
	size_t i;
	int err;

	for (i = 0; i < l->n; i++) {
		err = bwe_ncset_add(s, &l->v[i], flag);
		if (err)
			return err;
	}
	return 0;
}

/*
 * The gateway's own addresses are never blocked or quarantined (a feed that
 * lists the WAN prefix must not cut the LAN off from its gateway): they join
 * the network classes as allowlisted hosts. Loopback and link-local
 * addresses never cross the program and are left out.
 */
static int add_gateway_addrs(struct bwe_ncset *s)
{
	struct ifaddrs *ifa, *p;
	int err = 0;

	if (getifaddrs(&ifa))
		return -errno;
	for (p = ifa; p && !err; p = p->ifa_next) {
		struct bwe_prefix x = { .plen = BWE_ADDR_BITS };

		if (!p->ifa_addr || (p->ifa_flags & IFF_LOOPBACK))
			continue;
		if (p->ifa_addr->sa_family == AF_INET) {
			bwe_addr_from_v4(((struct sockaddr_in *)(void *)p->ifa_addr)->sin_addr.s_addr, &x.addr);
		} else if (p->ifa_addr->sa_family == AF_INET6) {
			const struct in6_addr *a6 = &((struct sockaddr_in6 *)(void *)p->ifa_addr)->sin6_addr;

			if (IN6_IS_ADDR_LINKLOCAL(a6))
				continue;
			memcpy(x.addr.a, a6, sizeof(x.addr.a));
		} else {
			continue;
		}
		err = bwe_ncset_add(s, &x, BWE_NC_ALLOW);
	}
	freeifaddrs(ifa);
	return err;
}

int enforce_netclass(struct daemon *d)
{
	static const __u32 kind_flag[ST_KINDS] = {
		[ST_QUARANTINE] = BWE_NC_QUARANTINE,
		[ST_THROTTLE] = BWE_NC_THROTTLE,
		[ST_EXEMPT] = BWE_NC_EXEMPT,
		[ST_ALLOW] = BWE_NC_ALLOW,
	};
	struct bwe_ncset s;
	size_t i;
	int err;

	bwe_ncset_init(&s);
	err = add_list(&s, &d->cfg->internal, BWE_NC_INTERNAL);
	err = err ?: add_list(&s, &d->cfg->exempt, BWE_NC_EXEMPT);
	err = err ?: add_list(&s, &d->cfg->allowlist, BWE_NC_ALLOW);
	err = err ?: add_gateway_addrs(&s);
	for (i = 0; i < d->state.n && !err; i++) {
		const struct st_entry *e = &d->state.v[i];

		if (kind_flag[e->kind])
			err = bwe_ncset_add(&s, &e->pfx, kind_flag[e->kind]);
	}
	err = err ?: bwe_dp_netclass_apply(d->dp, &s);
	if (err) {
		log_warnx("cannot write network classes: %s", strerror(-err));
		bwe_ncset_free(&s);
		return err;
	}
	bwe_ncset_free(&d->nc);
	d->nc = s;
	return 0;
}

int enforce_config(struct daemon *d)
{
	struct bwe_config c;
	int err;

	err = bwe_dp_config_get(d->dp, &c);
	if (err)
		return err;
	c.flags = d->cfg->monitor_only ? c.flags | BWE_CFG_DRYRUN : c.flags & ~BWE_CFG_DRYRUN;
	c.event_dedup_ns = d->cfg->event_dedup_s * 1000000000ULL;
	err = bwe_dp_config_set(d->dp, &c);
	err = err ?: bwe_dp_std_ports_set(d->dp, d->cfg->std_ports, d->cfg->n_std_ports);
	if (err)
		log_warnx("cannot write runtime configuration: %s", strerror(-err));
	return err;
}

/* Call fn for every host of a (small) prefix. */
static int for_each_host(const struct bwe_prefix *p,
			 int (*fn)(struct daemon *, const struct bwe_addr *, const struct st_entry *),
			 struct daemon *d, const struct st_entry *e)
{
	int bits = BWE_ADDR_BITS - p->plen;
	__u64 n, i;
	int err;

	if (bits > 12)
		return -E2BIG;
	n = 1ULL << bits;
	for (i = 0; i < n; i++) {
		struct bwe_addr a = p->addr;

		a.w[3] = htonl(ntohl(a.w[3]) + (__u32)i);
		err = fn(d, &a, e);
		if (err)
			return err;
	}
	return 0;
}

static int throttle_on(struct daemon *d, const struct bwe_addr *a, const struct st_entry *e)
{
	return bwe_dp_throttle_set(d->dp, a, e->rate, e->burst);
}

static int throttle_off(struct daemon *d, const struct bwe_addr *a, const struct st_entry *e)
{
	int err = bwe_dp_throttle_del(d->dp, a);

	(void)e;
	return err == -ENOENT ? 0 : err;
}

int enforce_entry(struct daemon *d, const struct st_entry *e, bool present)
{
	int err = 0;

	switch (e->kind) {
	case ST_BLOCK:
		/* the state table already says whether the manual entry exists */
		err = bwe_bl_set(&d->bl, &e->pfx, feeds_effective_ref(d, &e->pfx));
		err = err ?: bwe_bl_flush(&d->bl);
		break;
	case ST_THROTTLE:
		err = for_each_host(&e->pfx, present ? throttle_on : throttle_off, d, e);
		break;
	default:
		break;		/* carried by the network classes */
	}
	if (err) {
		char buf[BWE_PREFIX_STRLEN];

		bwe_prefix_fmt(&e->pfx, buf, sizeof(buf));
		log_warnx("cannot %s %s %s: %s", present ? "apply" : "remove",
			  st_kind_name(e->kind), buf, strerror(-err));
	}
	return err;
}

/* Remove throttle buckets that no state entry explains (after a restart). */
static void sweep_throttles(struct daemon *d)
{
	int fd = bwe_dp_map_fd(d->dp, BWE_MAP_THROTTLE);
	struct bwe_addr k, next, *stale = NULL;
	size_t n = 0, i;
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		if (!st_match(d, ST_THROTTLE, &k)) {
			struct bwe_addr *t = reallocarray(stale, n + 1, sizeof(*t));

			if (!t)
				break;
			stale = t;
			stale[n++] = k;
		}
	}
	for (i = 0; i < n; i++)
		bpf_map_delete_elem(fd, &stale[i]);
	free(stale);
}

int enforce_all(struct daemon *d)
{
	size_t i;
	int err;

	err = enforce_config(d);
	err = enforce_netclass(d) ?: err;
	for (i = 0; i < d->state.n; i++)
		err = enforce_entry(d, &d->state.v[i], true) ?: err;
	sweep_throttles(d);
	return err;
}

bool is_gateway_addr(const struct bwe_addr *a)
{
	struct ifaddrs *ifa, *p;
	bool found = false;

	if (getifaddrs(&ifa))
		return false;
	for (p = ifa; p && !found; p = p->ifa_next) {
		struct bwe_addr x;

		if (!p->ifa_addr)
			continue;
		if (p->ifa_addr->sa_family == AF_INET) {
			bwe_addr_from_v4(((struct sockaddr_in *)(void *)p->ifa_addr)->sin_addr.s_addr, &x);
		} else if (p->ifa_addr->sa_family == AF_INET6) {
			memcpy(x.a, &((struct sockaddr_in6 *)(void *)p->ifa_addr)->sin6_addr, sizeof(x.a));
		} else {
			continue;
		}
		found = !memcmp(&x, a, sizeof(x));
	}
	freeifaddrs(ifa);
	return found;
}

const char *feed_name(const struct daemon *d, __u8 ref)
{
	unsigned int id = ref & BWE_REF_FEED_MASK;

	if (id == BWE_FEED_MANUAL)
		return "manual";
	if (!id)
		return NULL;
	return feeds_name_of(d, (__u8)id) ?: "unknown";
}
