// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * expect.c - expected activity: schedules and the fan-out sketch an
 * activity's peers and ports would leave; the contract in expect.h, the
 * keys in bwenforce.yaml(5).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bwe_rules.h"
#include "bwe_util.h"
#include "expect.h"
#include "units.h"

#define DAYS_PER_WEEK	7
#define MINS_PER_HOUR	60
#define MINS_PER_DAY	(24 * MINS_PER_HOUR)
#define EPOCH_WEEKDAY	3 /* 1970-01-01 was a Thursday; Monday = 0 */
#define DAY_NAME_LEN	3
#define WINDOW_TEXT_MAX 64 /* bytes of one window as written */

static const char *const day_names[DAYS_PER_WEEK] = { "Mon", "Tue", "Wed", "Thu",
						      "Fri", "Sat", "Sun" };

static int __attribute__((format(printf, 3, 4)))
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int day_of(const char *s, size_t len)
{
	int d;

	for (d = 0; d < DAYS_PER_WEEK; d++)
		if (len == DAY_NAME_LEN && !strncasecmp(s, day_names[d], DAY_NAME_LEN))
			return d;
	return -1;
}

/* "HH:MM", 00:00..24:00; minutes of the day, or -1. */
static int time_of(const char *s, size_t len)
{
	int h, m;

	if (len != 5 || s[2] != ':')
		return -1;
	if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' || s[3] < '0' || s[3] > '5' ||
	    s[4] < '0' || s[4] > '9')
		return -1;
	h = (s[0] - '0') * 10 + (s[1] - '0');
	m = (s[3] - '0') * 10 + (s[4] - '0');
	if (h > 24 || (h == 24 && m))
		return -1;
	return h * MINS_PER_HOUR + m;
}

static void set_minutes(struct bwe_schedule *out, unsigned int from, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		unsigned int m = (from + i) % BWE_SCHEDULE_MINUTES;

		out->bits[m / 64] |= 1ULL << (m % 64);
	}
}

/* One window "DAYS HH:MM-HH:MM", w of len bytes, trimmed. */
static int parse_window(const char *w, size_t len, struct bwe_schedule *out, char *err,
			size_t errlen)
{
	char text[WINDOW_TEXT_MAX];
	const char *sp = memchr(w, ' ', len), *days, *dash;
	size_t dlen;
	int d0, d1, t0, t1, d, span;

	snprintf(text, sizeof(text), "%.*s", (int)len, w);
	if (!sp)
		return fail(err, errlen,
			    "\"%s\": a window is DAYS HH:MM-HH:MM, e.g. \"Sun 01:00-04:00\"", text);
	days = w;
	dlen = (size_t)(sp - w);
	while (sp < w + len && *sp == ' ')
		sp++;
	if (dlen == 5 && !strncasecmp(days, "daily", 5)) {
		d0 = 0;
		d1 = DAYS_PER_WEEK - 1;
	} else {
		dash = memchr(days, '-', dlen);
		d0 = day_of(days, dash ? (size_t)(dash - days) : dlen);
		d1 = dash ? day_of(dash + 1, dlen - (size_t)(dash - days) - 1) : d0;
		if (d0 < 0 || d1 < 0)
			return fail(err, errlen,
				    "\"%s\": days are Mon Tue Wed Thu Fri Sat Sun, a range such "
				    "as Mon-Fri, or daily",
				    text);
	}
	dash = memchr(sp, '-', (size_t)(w + len - sp));
	t0 = dash ? time_of(sp, (size_t)(dash - sp)) : -1;
	t1 = dash ? time_of(dash + 1, (size_t)(w + len - dash - 1)) : -1;
	if (t0 < 0 || t1 < 0 || t0 == MINS_PER_DAY)
		return fail(err, errlen,
			    "\"%s\": times are HH:MM-HH:MM from 00:00 to 24:00 (UTC), e.g. "
			    "01:00-04:00",
			    text);
	span = t1 > t0 ? t1 - t0 : MINS_PER_DAY - t0 + t1; /* past midnight */
	for (d = d0;; d = (d + 1) % DAYS_PER_WEEK) {
		set_minutes(out, (unsigned int)(d * MINS_PER_DAY + t0), (unsigned int)span);
		if (d == d1)
			break;
	}
	return 0;
}

int bwe_schedule_parse(const char *s, struct bwe_schedule *out, char *err, size_t errlen)
{
	struct bwe_schedule sch;
	const char *p;
	int e;

	if (err && errlen)
		err[0] = '\0';
	if (!s || !out)
		return fail(err, errlen, "no schedule");
	if (strlen(s) >= BWE_SCHEDULE_TEXT_MAX)
		return fail(err, errlen, "longer than %d bytes", BWE_SCHEDULE_TEXT_MAX - 1);
	memset(&sch, 0, sizeof(sch));
	p = s;
	for (;;) {
		const char *end = strchr(p, ','), *stop;

		stop = end ? end : p + strlen(p);
		while (p < stop && *p == ' ')
			p++;
		while (stop > p && stop[-1] == ' ')
			stop--;
		if (stop == p)
			return fail(err, errlen,
				    "an empty window (windows are separated by \",\")");
		if ((size_t)(stop - p) >= WINDOW_TEXT_MAX)
			return fail(err, errlen, "a window longer than %d bytes",
				    WINDOW_TEXT_MAX - 1);
		e = parse_window(p, (size_t)(stop - p), &sch, err, errlen);
		if (e)
			return e;
		if (!end)
			break;
		p = end + 1;
	}
	*out = sch;
	return 0;
}

unsigned int bwe_minute_of_week(__s64 unix_time)
{
	const __s64 week = (__s64)BWE_SECS_PER_DAY * DAYS_PER_WEEK;
	__s64 s = unix_time % week;

	if (s < 0)
		s += week;
	s += EPOCH_WEEKDAY * (__s64)BWE_SECS_PER_DAY;
	return (unsigned int)((s / (__s64)BWE_SECS_PER_MIN) % BWE_SCHEDULE_MINUTES);
}

bool bwe_schedule_active(const struct bwe_schedule *s, __s64 unix_time)
{
	unsigned int m = bwe_minute_of_week(unix_time);

	return s && (s->bits[m / 64] >> (m % 64)) & 1;
}

size_t bwe_expected_addrs(const struct bwe_prefix *v, size_t n)
{
	size_t i, total = 0;

	for (i = 0; i < n; i++) {
		unsigned int host_bits =
			BWE_ADDR_BITS - (v[i].plen > BWE_ADDR_BITS ? BWE_ADDR_BITS : v[i].plen);

		if (host_bits >= 20)
			return BWE_EXPECTED_ADDRS_MAX + 1;
		total += (size_t)1 << host_bits;
		if (total > BWE_EXPECTED_ADDRS_MAX)
			return BWE_EXPECTED_ADDRS_MAX + 1;
	}
	return total;
}

static int hash_cmp(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

void bwe_expected_sketch(struct bwe_expected *e)
{
	size_t i, k;

	memset(e->sketch_dst, 0, sizeof(e->sketch_dst));
	memset(e->sketch_port, 0, sizeof(e->sketch_port));
	e->n_peer_hash = 0;
	if (bwe_expected_addrs(e->peers, e->n_peers) > BWE_EXPECTED_ADDRS_MAX)
		return; /* refused by the config; an empty sketch discounts nothing */
	for (i = 0; i < e->n_peers; i++) {
		size_t n = (size_t)1 << (BWE_ADDR_BITS - e->peers[i].plen);

		for (k = 0; k < n; k++) {
			struct bwe_addr a = e->peers[i].addr;

			/* host bits are clear and k < 2^10: the low bytes take k */
			a.a[15] |= (__u8)(k & 0xff);
			a.a[14] |= (__u8)(k >> 8);
			bwe_hll_add(e->sketch_dst, bwe_hash_addr(&a));
			e->peer_hash[e->n_peer_hash++] = bwe_hash_addr(&a);
		}
	}
	qsort(e->peer_hash, e->n_peer_hash, sizeof(e->peer_hash[0]), hash_cmp);
	for (i = 0; i < e->n_ports; i++)
		bwe_hll_add(e->sketch_port, bwe_hash_port(e->ports[i]));
}

bool bwe_sketch_within(const __u8 have[BWE_HLL_REGS], const __u8 bound[BWE_HLL_REGS])
{
	unsigned int i;

	for (i = 0; i < BWE_HLL_REGS; i++)
		if (have[i] > bound[i])
			return false;
	return true;
}

bool bwe_expected_has_peer(const struct bwe_expected *e, __u32 peer_hash)
{
	return bsearch(&peer_hash, e->peer_hash, e->n_peer_hash, sizeof(e->peer_hash[0]),
		       hash_cmp) != NULL;
}

static bool seen_has(const struct bwe_expected_seen *seen, __u32 peer)
{
	unsigned int i;

	for (i = 0; i < seen->n_peers; i++)
		if (seen->peers[i] == peer)
			return true;
	return false;
}

/* The slots of one summary whose peer is e's and not counted yet. */
static void measure_side(const struct bwe_expected *e, const struct bwe_hh *hh, bool count,
			 struct bwe_expected_seen *seen)
{
	unsigned int i;

	for (i = 0; i < BWE_HH_SLOTS; i++) {
		if (!hh->bytes[i] || seen_has(seen, hh->peer[i]) ||
		    !bwe_expected_has_peer(e, hh->peer[i]))
			continue;
		if (count)
			seen->tx_lo += hh->bytes[i] - hh->err[i];
		seen->peers[seen->n_peers++] = hh->peer[i];
	}
}

void bwe_expected_measure(const struct bwe_expected *e, const struct bwe_hh *tx,
			  const struct bwe_hh *rx, struct bwe_expected_seen *seen)
{
	measure_side(e, tx, true, seen);
	/* a peer first found in hh_rx is not counted in tx_lo: hh_tx lacks it */
	measure_side(e, rx, false, seen);
}

bool bwe_expected_has_host(const struct bwe_expected *e, const struct bwe_addr *a)
{
	size_t i;

	for (i = 0; i < e->n_hosts; i++)
		if (bwe_prefix_contains(&e->hosts[i], a))
			return true;
	return false;
}
