// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * render.c - text renderers of bwctld's results; shapes in render.h.
 */
#include <stdio.h>
#include <string.h>

#include "bwe_util.h"
#include "addr.h"
#include "output.h"
#include "render.h"

#define CELL_LEN   512 /* one table cell */
#define SUB_INDENT 2   /* extra fields under a summary line */

/*
 * "host" or "cidr" of an entry; an entry may also be a bare string. A
 * host known by its MAC address alone ("host": null) is its "mac".
 */
static const char *entry_key(struct json_object *e)
{
	const char *k;

	if (json_object_is_type(e, json_type_string))
		return json_object_get_string(e);
	k = out_get_str(e, "host");
	k = k ? k : out_get_str(e, "cidr");
	return k ? k : out_get_str(e, "mac");
}

/* A host known by its MAC address: "host" is there, and null. */
static bool host_record(struct json_object *e)
{
	struct json_object *h;

	return json_object_is_type(e, json_type_object) &&
	       json_object_object_get_ex(e, "host", &h) && !h;
}

/* Print o's members other than skip[] as generic text at indent. */
static void generic_rest(FILE *f, struct json_object *o, int indent, const char *const *skip,
			 size_t nskip)
{
	struct json_object *rest = json_object_new_object();

	if (!rest || !json_object_is_type(o, json_type_object)) {
		json_object_put(rest);
		return;
	}
	json_object_object_foreach(o, k, v) {
		size_t i;

		for (i = 0; i < nskip; i++)
			if (!strcmp(k, skip[i]))
				break;
		if (i == nskip)
			json_object_object_add(rest, k, json_object_get(v));
	}
	if (json_object_object_length(rest))
		out_generic(f, rest, indent);
	json_object_put(rest);
}

/* ---- changed ---------------------------------------------------------------- */

/*
 * The daemon acted on what was asked: the entry is the prefix asked for or
 * lies inside it (releasing a network may end several host entries).
 */
static bool acted_on(const char *asked, struct json_object *e)
{
	struct bwe_prefix pa, pe;
	const unsigned int fl = BWE_PFX_HOSTBITS | BWE_PFX_ZERO;
	const char *entry = entry_key(e), *mac = out_get_str(e, "mac");
	__u8 m[BWE_MAC_LEN];

	if (!asked || !entry)
		return false;
	if (!bwe_mac_parse(asked, m)) /* a host given by MAC address: any of its entries */
		return mac && !strcmp(asked, mac);
	if (bwe_prefix_parse(asked, &pa, fl)) /* a host name: the daemon says which addresses */
		return true;
	if (bwe_prefix_parse(entry, &pe, fl))
		return !strcmp(asked, entry);
	return bwe_prefix_covers(&pa, &pe);
}

static void changed_line(FILE *f, struct json_object *e, const struct render_changed *r)
{
	char num[OUT_NUM_LEN];
	const char *expires;
	__u64 v;

	fprintf(f, "%s ", r->verb);
	if (host_record(e))
		fputs("MAC address ", f);
	out_puts(f, entry_key(e));
	if (out_get_str(e, "mac") && !host_record(e)) {
		fputs(" (by MAC address ", f);
		out_puts(f, out_get_str(e, "mac"));
		fputc(')', f);
	}
	if (r->after)
		fputs(r->after, f);
	if (r->show_rate && out_get_u64(e, "rate", &v)) {
		out_fmt_rate_exact(v, num, sizeof(num));
		fprintf(f, " to %s", num);
		if (out_get_u64(e, "burst", &v)) {
			out_fmt_size(v, num, sizeof(num));
			fprintf(f, ", burst %s", num);
		}
	}
	if (r->show_expiry && json_object_is_type(e, json_type_object)) {
		expires = out_get_str(e, "expires");
		if (expires) {
			fputs(" (expires ", f);
			out_puts(f, expires);
			fputc(')', f);
		} else {
			fputs(" (no expiry)", f);
		}
	}
	fputc('\n', f);
}

void render_changed(FILE *f, struct json_object *result, const void *ctx)
{
	const struct render_changed *r = ctx;
	struct json_object *changed = out_get(result, "changed");
	size_t n, nsent;

	if (!json_object_is_type(changed, json_type_array)) {
		out_generic(f, result, 0);
		return;
	}
	n = json_object_array_length(changed);
	for (size_t i = 0; i < n; i++)
		changed_line(f, json_object_array_get_idx(changed, i), r);

	/* what was asked for and not acted on */
	nsent = r->sent ? json_object_array_length(r->sent) : 0;
	for (size_t s = 0; s < nsent; s++) {
		const char *want = json_object_get_string(json_object_array_get_idx(r->sent, s));
		size_t i;

		for (i = 0; i < n; i++)
			if (acted_on(want, json_object_array_get_idx(changed, i)))
				break;
		if (i == n) {
			out_puts(f, want);
			fprintf(f, ": %s\n", r->unchanged);
		}
	}
}

/* ---- list -------------------------------------------------------------------- */

/*
 * Who, for the ACTOR column: the user name. The daemon's actor reads
 * "uid=0(root) pid=4242: bwctl quarantine ..."; the whole text is in
 * --json. An object with "user" or "uid", or any other text, also works.
 */
static void actor_text(struct json_object *a, char *buf, size_t len)
{
	const char *user = out_get_str(a, "user"), *s, *open, *close;
	char name[CELL_LEN], *cut;
	__u64 uid;

	if (json_object_is_type(a, json_type_object)) {
		if (user)
			out_safe(user, buf, len);
		else if (out_get_u64(a, "uid", &uid))
			snprintf(buf, len, "uid %llu", (unsigned long long)uid);
		else
			out_scalar(a, buf, len);
		return;
	}
	out_scalar(a, buf, len);
	if (!json_object_is_type(a, json_type_string))
		return;
	s = json_object_get_string(a);
	open = strchr(s, '(');
	close = open ? strchr(open, ')') : NULL;
	if (!strncmp(s, "uid=", 4) && open && close && close > open + 1 &&
	    strncmp(open, "(?)", 3) && (size_t)(close - open) < sizeof(name)) {
		memcpy(name, open + 1, (size_t)(close - open - 1));
		name[close - open - 1] = '\0';
		out_safe(name, buf, len);
	} else if ((cut = strstr(buf, ": "))) {
		*cut = '\0'; /* the command line is in --json */
	}
}

enum list_col {
	LC_KEY,
	LC_BY,
	LC_MAC,
	LC_LEARNT,
	LC_RATE,
	LC_BURST,
	LC_SITE,
	LC_ACTOR,
	LC_SINCE,
	LC_EXPIRES,
	LC_REASON,
	LC_MAX
};

static const struct list_kind {
	const char *kind;
	const char *key_head;
	bool rate;
	bool hosts; /* BY (mac or address), MAC, LEARNT */
	const char *none;
} list_kinds[] = {
	{ "quarantine", "HOST", false, true, "no quarantined hosts" },
	{ "throttle", "HOST", true, true, "no throttled hosts" },
	{ "blocks", "CIDR", false, false, "no blocks" },
	{ "exempt", "CIDR", false, false, "no exempt networks" },
	{ "allow", "CIDR", false, false, "no allowlist entries" },
};

void render_list(FILE *f, struct json_object *result, const void *ctx)
{
	const struct list_kind *k = &list_kinds[0];
	struct out_col cols[LC_MAX];
	struct out_table *t;
	size_t n, nc = 0;
	bool sites = false; /* a SITE column when an entry has a fleet site or is local */

	for (size_t i = 0; i < ARRAY_SIZE(list_kinds); i++)
		if (ctx && !strcmp(ctx, list_kinds[i].kind))
			k = &list_kinds[i];
	if (!json_object_is_type(result, json_type_array)) {
		out_generic(f, result, 0);
		return;
	}
	n = json_object_array_length(result);
	if (!n) {
		fprintf(f, "%s\n", k->none);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(result, i);

		sites |= out_get_str(e, "site") || json_object_get_boolean(out_get(e, "local"));
	}

	/* the free text goes last, so long reasons do not break the columns */
	cols[nc++] = (struct out_col){ k->key_head, false };
	if (k->hosts) {
		cols[nc++] = (struct out_col){ "BY", false };
		cols[nc++] = (struct out_col){ "MAC", false };
		cols[nc++] = (struct out_col){ "LEARNT", false };
	}
	if (k->rate) {
		cols[nc++] = (struct out_col){ "RATE", true };
		cols[nc++] = (struct out_col){ "BURST", true };
	}
	if (sites)
		cols[nc++] = (struct out_col){ "SITE", false };
	cols[nc++] = (struct out_col){ "ACTOR", false };
	cols[nc++] = (struct out_col){ "SINCE", false };
	cols[nc++] = (struct out_col){ "EXPIRES", false };
	cols[nc++] = (struct out_col){ "REASON", false };
	t = out_table_new(cols, nc);
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(result, i);
		char cell[LC_MAX][CELL_LEN];
		const char *row[LC_MAX];
		const char *s;
		size_t c = 0;
		__u64 v;

		s = out_get_str(e, "host") ? out_get_str(e, "host") : out_get_str(e, "cidr");
		row[c++] = s ? s : OUT_NONE;
		if (k->hosts) {
			s = out_get_str(e, "keyed_by");
			row[c++] = s ? s : "address";
			s = out_get_str(e, "mac");
			row[c++] = s ? s : OUT_NONE;
			s = out_get_str(e, "learnt_from");
			row[c++] = s ? s : OUT_NONE;
		}
		if (k->rate) {
			if (out_get_u64(e, "rate", &v))
				out_fmt_rate_exact(v, cell[LC_RATE], CELL_LEN);
			else
				strcpy(cell[LC_RATE], OUT_NONE);
			row[c++] = cell[LC_RATE];
			if (out_get_u64(e, "burst", &v))
				out_fmt_size(v, cell[LC_BURST], CELL_LEN);
			else
				strcpy(cell[LC_BURST], OUT_NONE);
			row[c++] = cell[LC_BURST];
		}
		if (sites) {
			s = out_get_str(e, "site");
			snprintf(cell[LC_SITE], CELL_LEN, "%s%s", s ? s : "",
				 json_object_get_boolean(out_get(e, "local"))
					 ? (s ? " (local)" : "local")
					 : (s ? "" : OUT_NONE));
			row[c++] = cell[LC_SITE];
		}
		actor_text(out_get(e, "actor"), cell[LC_ACTOR], CELL_LEN);
		row[c++] = cell[LC_ACTOR];
		s = out_get_str(e, "since");
		row[c++] = s ? s : OUT_NONE;
		s = out_get_str(e, "expires");
		row[c++] = s ? s : "never";
		s = out_get_str(e, "reason");
		row[c++] = s && *s ? s : OUT_NONE;
		out_table_add(t, row);
	}
	out_table_print(f, t);
	out_table_free(t);
}

/* ---- stats ------------------------------------------------------------------ */

/* {"packets": n, "bytes": n} */
static bool is_counter(struct json_object *v)
{
	return json_object_is_type(v, json_type_object) &&
	       (out_get(v, "packets") || out_get(v, "bytes"));
}

/* An object whose every member is a counter: name -> counter. */
static bool is_counter_set(struct json_object *o)
{
	if (!json_object_is_type(o, json_type_object) || !json_object_object_length(o))
		return false;
	json_object_object_foreach(o, k, v) {
		(void)k;
		if (!is_counter(v))
			return false;
	}
	return true;
}

/* An object whose every member is a counter set: a split of the totals
 * ({"directions": {"outbound": {...}, ...}}), for --json only. */
static bool is_counter_split(struct json_object *o)
{
	if (!json_object_is_type(o, json_type_object) || !json_object_object_length(o))
		return false;
	json_object_object_foreach(o, k, v) {
		(void)k;
		if (!is_counter_set(v))
			return false;
	}
	return true;
}

/* Column head for a group: "reasons" -> "REASON", "anomalies" -> "ANOMALY". */
static void group_head(const char *group, char *buf, size_t len)
{
	size_t n;

	out_safe(group, buf, len);
	n = strlen(buf);
	if (n > 3 && !strcmp(buf + n - 3, "ies"))
		strcpy(buf + n - 3, "y");
	else if (n > 1 && buf[n - 1] == 's')
		buf[n - 1] = '\0';
	for (char *p = buf; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
}

static void counter_table(FILE *f, struct json_object *set, const char *head)
{
	const struct out_col cols[] = {
		{ head, false },
		{ "PACKETS", true },
		{ "BYTES", true },
	};
	struct out_table *t = out_table_new(cols, ARRAY_SIZE(cols));

	json_object_object_foreach(set, k, v) {
		char pk[OUT_NUM_LEN] = OUT_NONE, by[OUT_NUM_LEN] = OUT_NONE;
		const char *row[ARRAY_SIZE(cols)] = { k, pk, by };
		__u64 x;

		if (out_get_u64(v, "packets", &x))
			snprintf(pk, sizeof(pk), "%llu", (unsigned long long)x);
		if (out_get_u64(v, "bytes", &x))
			out_fmt_bytes(x, by, sizeof(by));
		out_table_add(t, row);
	}
	out_table_print(f, t);
	out_table_free(t);
}

/*
 * Either name -> counter, or groups of them ({"reasons": {...},
 * "anomalies": {...}}): one table per group, separated by a blank line.
 * Splits of the totals (the per-direction counters) are left to --json.
 */
void render_stats(FILE *f, struct json_object *result, const void *ctx)
{
	bool first = true;

	(void)ctx;
	if (is_counter_set(result)) {
		counter_table(f, result, "REASON");
		return;
	}
	if (!json_object_is_type(result, json_type_object)) {
		out_generic(f, result, 0);
		return;
	}
	json_object_object_foreach(result, k, v) {
		(void)k;
		if (!is_counter_set(v) && !is_counter_split(v)) {
			out_generic(f, result, 0);
			return;
		}
	}
	json_object_object_foreach(result, group, set) {
		char head[OUT_NUM_LEN];

		if (!is_counter_set(set))
			continue;
		group_head(group, head, sizeof(head));
		if (!first)
			fputc('\n', f);
		counter_table(f, set, head);
		first = false;
	}
	if (first)
		fputs("no counters\n", f);
}

/* ---- lookup ------------------------------------------------------------------ */

/* The indicator of the match that decides (its feed and entry), NULL for none. */
static const char *lookup_indicator(struct json_object *result, const char *feed, const char *entry)
{
	struct json_object *m = out_get(result, "matches");
	size_t i, n = json_object_is_type(m, json_type_array) ? json_object_array_length(m) : 0;

	for (i = 0; entry && i < n; i++) {
		struct json_object *e = json_object_array_get_idx(m, i);
		const char *mf = out_get_str(e, "feed"), *me = out_get_str(e, "entry");

		if (mf && me && !strcmp(mf, feed) && !strcmp(me, entry))
			return out_get_str(e, "indicator");
	}
	return NULL;
}

void render_lookup(FILE *f, struct json_object *result, const void *ctx)
{
	static const char *const shown[] = { "address", "verdict", "reason", "entry", "feed" };
	const char *addr = out_get_str(result, "address");
	const char *verdict = out_get_str(result, "verdict");
	const char *s;

	if (!verdict) {
		out_generic(f, result, 0);
		return;
	}
	/* 203.0.113.66: drop (blocklist) entry 203.0.113.0/24 from feed spamhaus_drop */
	out_puts(f, addr ? addr : ctx);
	fputs(": ", f);
	out_puts(f, verdict);
	if ((s = out_get_str(result, "reason"))) {
		fputs(" (", f);
		out_puts(f, s);
		fputc(')', f);
	}
	if ((s = out_get_str(result, "entry"))) {
		fputs(" entry ", f);
		out_puts(f, s);
	}
	if ((s = out_get_str(result, "feed"))) {
		const char *ind = lookup_indicator(result, s, out_get_str(result, "entry"));

		fputs(" from feed ", f);
		out_puts(f, s);
		if (ind) { /* the provenance: "SBL123", "crowdsec decision 12 (origin ...)" */
			fputs(": ", f);
			out_puts(f, ind);
		}
	}
	fputc('\n', f);
	generic_rest(f, result, SUB_INDENT, shown, ARRAY_SIZE(shown));
}

/* ---- attach, detach, feeds refresh ----------------------------------------------- */

void render_attach(FILE *f, struct json_object *result, const void *ctx)
{
	static const char *const shown[] = { "iface", "name" };
	const char *name = out_get_str(result, "iface");

	if (!name)
		name = out_get_str(result, "name");
	fputs("attached ", f);
	out_puts(f, name ? name : ctx);
	fputc('\n', f);
	generic_rest(f, result, SUB_INDENT, shown, ARRAY_SIZE(shown));
}

void render_names(FILE *f, struct json_object *result, const void *ctx)
{
	const struct render_names *r = ctx;
	struct json_object *a = out_get(result, r->key);
	size_t n;

	if (!json_object_is_type(a, json_type_array)) {
		out_generic(f, result, 0);
		return;
	}
	n = json_object_array_length(a);
	if (!n)
		fprintf(f, "%s\n", r->none);
	for (size_t i = 0; i < n; i++) {
		char buf[CELL_LEN];

		out_scalar(json_object_array_get_idx(a, i), buf, sizeof(buf));
		fprintf(f, "%s %s\n", r->verb, buf);
	}
}

/* ---- fleet status ----------------------------------------------------------------- */

void render_fleet(FILE *f, struct json_object *result, const void *ctx)
{
	static const struct out_col cols[] = {
		{ "SITE", false }, { "ALIVE", false }, { "HEARTBEAT", false }, { "AGE", true },
		{ "LAG", true },   { "QUEUED", true }, { "FEEDS", false },
	};
	struct json_object *sites = out_get(result, "sites"), *v;
	struct out_table *t;
	char buf[CELL_LEN];
	__u64 n;
	size_t i;

	(void)ctx;
	if (!json_object_get_boolean(out_get(result, "enabled"))) {
		fprintf(f, "no fleet (the configuration has no fleet block)\n");
		return;
	}
	out_safe(out_get_str(result, "site") ?: "?", buf, sizeof(buf));
	fprintf(f, "site:       %s\n", buf);
	if (json_object_get_boolean(out_get(result, "connected"))) {
		out_safe(out_get_str(result, "endpoint") ?: "?", buf, sizeof(buf));
		fprintf(f, "etcd:       attached through %s\n", buf);
	} else {
		out_safe(out_get_str(result, "detached_since") ?: "?", buf, sizeof(buf));
		fprintf(f, "etcd:       DETACHED since %s (enforcing the local state)\n", buf);
		if (out_get_str(result, "last_error")) {
			out_safe(out_get_str(result, "last_error"), buf, sizeof(buf));
			fprintf(f, "last error: %s\n", buf);
		}
	}
	if (out_get_u64(result, "revision", &n))
		fprintf(f, "revision:   %llu", (unsigned long long)n);
	if (out_get_u64(result, "lag", &n))
		fprintf(f, " (lag %llu)", (unsigned long long)n);
	if (out_get_u64(result, "queued", &n))
		fprintf(f, ", %llu change%s to write", (unsigned long long)n, n == 1 ? "" : "s");
	if (out_get_u64(result, "refused", &n))
		fprintf(f, ", %llu refused\n", (unsigned long long)n);
	v = out_get(result, "feeds_divergent");
	for (i = 0; v && i < json_object_array_length(v); i++) {
		out_safe(json_object_get_string(json_object_array_get_idx(v, i)), buf, sizeof(buf));
		fprintf(f, "divergent:  feed %s has different versions at different sites\n", buf);
	}
	v = out_get(result, "feeds_stale");
	for (i = 0; v && i < json_object_array_length(v); i++) {
		struct json_object *x = json_object_array_get_idx(v, i);
		char site[CELL_LEN];

		out_safe(out_get_str(x, "site") ?: "?", site, sizeof(site));
		out_safe(out_get_str(x, "name") ?: "?", buf, sizeof(buf));
		fprintf(f, "stale:      feed %s at %s (no update for a day)\n", buf, site);
	}
	if (!sites || !json_object_array_length(sites)) {
		fprintf(f, "no site has sent a heartbeat yet\n");
		return;
	}
	t = out_table_new(cols, ARRAY_SIZE(cols));
	for (i = 0; i < json_object_array_length(sites); i++) {
		struct json_object *s = json_object_array_get_idx(sites, i), *feeds;
		char cell[ARRAY_SIZE(cols)][CELL_LEN];
		const char *row[ARRAY_SIZE(cols)];
		size_t k, off = 0;

		out_safe(out_get_str(s, "name") ?: "?", cell[0], CELL_LEN);
		snprintf(cell[1], CELL_LEN, "%s",
			 json_object_get_boolean(out_get(s, "alive")) ? "yes" : "NO");
		out_safe(out_get_str(s, "last_heartbeat") ?: OUT_NONE, cell[2], CELL_LEN);
		snprintf(cell[3], CELL_LEN, "%llus",
			 (unsigned long long)(out_get_u64(s, "age_s", &n) ? n : 0));
		snprintf(cell[4], CELL_LEN, "%llu",
			 (unsigned long long)(out_get_u64(s, "lag", &n) ? n : 0));
		snprintf(cell[5], CELL_LEN, "%llu",
			 (unsigned long long)(out_get_u64(s, "queued", &n) ? n : 0));
		cell[6][0] = '\0';
		feeds = out_get(s, "feeds");
		for (k = 0; feeds && k < json_object_array_length(feeds) && off < CELL_LEN; k++) {
			struct json_object *x = json_object_array_get_idx(feeds, k);
			const char *ver = out_get_str(x, "version");
			char name[CELL_LEN];

			out_safe(out_get_str(x, "name") ?: "?", name, sizeof(name));
			off += (size_t)snprintf(cell[6] + off, CELL_LEN - off, "%s%s:%.8s",
						k ? " " : "", name, ver ? ver : "-");
		}
		for (k = 0; k < ARRAY_SIZE(cols); k++)
			row[k] = cell[k];
		out_table_add(t, row);
	}
	out_table_print(f, t);
	out_table_free(t);
}

/* "203.0.113.66 (c2), 198.51.100.7 (pw, proxyware)": peers with feed and signal. */
static void scope_peers(struct json_object *arr, char *buf, size_t len)
{
	size_t i, n = json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
	size_t used = 0;

	buf[0] = '\0';
	for (i = 0; i < n && used < len; i++) {
		struct json_object *p = json_object_array_get_idx(arr, i);
		const char *sig = out_get_str(p, "signal");
		__u64 k = 0;

		out_get_u64(p, "contacts", &k);
		used += (size_t)snprintf(buf + used, len - used, "%s%s (%s%s%s, %llu)",
					 i ? ", " : "", out_get_str(p, "peer") ?: OUT_NONE,
					 out_get_str(p, "feed") ?: OUT_NONE,
					 sig && strcmp(sig, "blocklist") ? ", " : "",
					 sig && strcmp(sig, "blocklist") ? sig : "",
					 (unsigned long long)k);
	}
}

/* "blocklist, spike" from an array of names. */
static void scope_names(struct json_object *a, struct json_object *b, char *buf, size_t len)
{
	struct json_object *arrs[2] = { a, b };
	size_t used = 0, j, i;

	buf[0] = '\0';
	for (j = 0; j < 2; j++) {
		size_t n = json_object_is_type(arrs[j], json_type_array)
				   ? json_object_array_length(arrs[j])
				   : 0;

		for (i = 0; i < n && used < len; i++)
			used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? ", " : "",
						 json_object_get_string(
							 json_object_array_get_idx(arrs[j], i)));
	}
}

/* "covers: the fleet (3 sites answered: a, b, c); not answered: d (no answer within 3 s)" */
static void scope_coverage(FILE *f, struct json_object *cov)
{
	struct json_object *fl = out_get(cov, "fleet"), *ans = out_get(fl, "answered"),
			   *miss = out_get(fl, "not_answered");
	size_t i, n;

	fputs("covers: ", f);
	out_puts(f, out_get_str(cov, "site"));
	if (json_object_get_boolean(out_get(fl, "asked"))) {
		n = json_object_is_type(ans, json_type_array) ? json_object_array_length(ans) : 0;
		fputs(" (", f);
		out_puts(f, out_get_str(fl, "site"));
		for (i = 0; i < n; i++) {
			fputs(", ", f);
			out_puts(f, out_get_str(json_object_array_get_idx(ans, i), "site"));
		}
		fputc(')', f);
		n = json_object_is_type(miss, json_type_array) ? json_object_array_length(miss) : 0;
		for (i = 0; i < n; i++) {
			struct json_object *m = json_object_array_get_idx(miss, i);

			fputs(i ? "; " : "; PARTIAL: not answered: ", f);
			out_puts(f, out_get_str(m, "site"));
			fputs(" (", f);
			out_puts(f, out_get_str(m, "reason"));
			fputc(')', f);
		}
	} else if (fl) {
		fputs(" only (", f);
		out_puts(f, out_get_str(fl, "reason"));
		fputc(')', f);
	}
	fputs("; contacts indexed here since ", f);
	out_puts(f, out_get_str(cov, "complete_since"));
	if (!json_object_get_boolean(out_get(cov, "window_covered")))
		fputs(" (the window reaches further back than the index)", f);
	fputc('\n', f);
}

void render_scope(FILE *f, struct json_object *result, const void *ctx)
{
	static const struct out_col cols[] = { { "RANK", true },
					       { "SITE", false },
					       { "HOST", false },
					       { "CONTAINED", false },
					       { "LAST SEEN", false },
					       { "SIGNALS IN COMMON", false },
					       { "PEERS IN COMMON (FEED, CONTACTS)", false } };
	struct json_object *hosts = out_get(result, "hosts"), *cov = out_get(result, "coverage");
	char peers[1024], names[256], rank[OUT_NUM_LEN];
	const char *target = out_get_str(result, "target");
	struct out_table *t;
	size_t i, n;
	__u64 more = 0;

	if (!target || !json_object_is_type(hosts, json_type_array)) {
		out_generic(f, result, 0);
		return;
	}
	(void)ctx;
	fputs("scope of ", f);
	out_puts(f, target);
	fprintf(f, " (%s) since ", out_get_str(result, "kind") ?: OUT_NONE);
	out_puts(f, out_get_str(result, "since"));
	fputc('\n', f);
	scope_peers(out_get(result, "peers"), peers, sizeof(peers));
	if (peers[0]) {
		fputs("its listed peers: ", f);
		out_puts(f, peers);
		fputc('\n', f);
	}
	scope_names(out_get(result, "signals"), out_get(result, "shapes"), names, sizeof(names));
	if (names[0]) {
		fputs("its signals and shapes: ", f);
		out_puts(f, names);
		fputc('\n', f);
	}
	n = json_object_array_length(hosts);
	if (!n) {
		fputs("no other host contacted these peers or showed these signals\n", f);
	} else {
		t = out_table_new(cols, ARRAY_SIZE(cols));
		for (i = 0; i < n; i++) {
			struct json_object *h = json_object_array_get_idx(hosts, i);
			__u64 r = 0;
			const char *cells[ARRAY_SIZE(cols)];

			out_get_u64(h, "rank", &r);
			snprintf(rank, sizeof(rank), "%llu", (unsigned long long)r);
			scope_peers(out_get(h, "peers_in_common"), peers, sizeof(peers));
			scope_names(out_get(h, "signals_in_common"), out_get(h, "shapes_in_common"),
				    names, sizeof(names));
			cells[0] = rank;
			cells[1] = out_get_str(h, "site") ?: "here";
			cells[2] = out_get_str(h, "host");
			cells[3] = out_get_str(h, "contained");
			cells[4] = out_get_str(h, "last_seen");
			cells[5] = names[0] ? names : NULL;
			cells[6] = peers[0] ? peers : NULL;
			out_table_add(t, cells);
		}
		out_table_print(f, t);
		out_table_free(t);
	}
	if (out_get_u64(result, "more", &more) && more)
		fprintf(f, "... and %llu more (see --json)\n", (unsigned long long)more);
	if (cov)
		scope_coverage(f, cov);
}
