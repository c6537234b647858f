// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * config.c - bwenforce.yaml loader; contract in config.h, the file format
 * in docs/man/bwenforce.yaml.5.
 *
 * Three passes over one in-memory copy of the file:
 *
 *  1. libyaml events (scan_*): syntax, exactly one document, a mapping at
 *     the top, no duplicate keys, and a table "key path -> line" used by
 *     every later message. libcyaml does print line numbers in its
 *     backtraces, but they are those of the enclosing node's start, not of
 *     the culprit (an unknown key on line 3 inside a sequence entry that
 *     starts on line 2 is reported at line 2; a duplicate key at its first
 *     occurrence), and a libyaml syntax error comes without a line at all.
 *  2. libcyaml against the schema (schema_*, cy_*): node kinds and unknown
 *     keys. Its log output is captured, never printed: the first error and
 *     its backtrace are rebuilt into a key path. Every scalar is loaded as
 *     a string, because libcyaml's own conversions are too lenient for an
 *     enforcer's configuration (its bool reads "maybe" as true, its
 *     integers take "0x10").
 *  3. Conversion and limits (conv_*, load_*) with the project's strict
 *     parsers from addr.h and units.h.
 *
 * Every check stops at the first error: one precise line beats a cascade.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cyaml/cyaml.h>
#include <yaml.h>

#include "config.h"

#define ARRAY_SIZE(x)	(sizeof(x) / sizeof((x)[0]))

#define KEYPATH_MAX	256	/* bytes of "feeds[12].min_prefix_v4" and NUL */
#define CY_LINE_MAX	512	/* bytes of one libcyaml log line */
#define CY_FRAMES_MAX	16	/* backtrace frames kept */
#define CY_NAME_MAX	64	/* bytes of a schema key; "%63[" in cy_report() */
#define LINEMAP_MIN_CAP	64	/* slots; a power of two */
#define SUGGEST_DIST	2	/* edits for a "did you mean" */
#define SUGGEST_LEN_MAX	64	/* longer unknown keys get no suggestion */
#define DECIMAL_BASE	10ULL
#define PORT_MIN	1
#define PORT_MAX	65535
#define U64_BITS	64
#define V4_PLEN_MAX	32
#define V6_PLEN_MAX	128
#define FNV64_OFFSET	0xcbf29ce484222325ULL
#define FNV64_PRIME	0x100000001b3ULL

static const char *const mode_names[] = {
	[BWE_MODE_AUTO] = "auto",
	[BWE_MODE_NATIVE] = "native",
	[BWE_MODE_GENERIC] = "generic",
};

static const char *const action_names[] = {
	[BWE_ACT_DROP] = "drop",
	[BWE_ACT_MONITOR] = "monitor",
};

/* Feed formats the fetcher understands; "auto" guesses from the content. */
static const char *const feed_formats[] = {
	"auto", "plain", "netset", "spamhaus", "spamhaus-json", "feodo-csv",
	"stix", "freeform", "domains",
};

/* RFC 1918 and RFC 4193 unique local addresses. */
static const char *const internal_default[] = {
	"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7",
};

/* Destination ports that do not count as "non-standard" traffic. */
static const __u16 std_ports_default[] = {
	20, 21, 22, 25, 53, 80, 110, 123, 143, 443, 465, 587, 853, 993, 995,
};

const char *bwe_attach_mode_name(enum bwe_attach_mode m)
{
	return (unsigned int)m < ARRAY_SIZE(mode_names) ? mode_names[m] : "?";
}

const char *bwe_feed_action_name(enum bwe_feed_action a)
{
	return (unsigned int)a < ARRAY_SIZE(action_names) ? action_names[a] : "?";
}

/* ---- the raw document, as libcyaml loads it ----------------------------- */

/* Every scalar is a string (NULL when the key is absent); see the top. */
struct raw_iface {
	char *name;
	char *mode;
};

struct raw_feed {
	char *name, *source, *format, *refresh, *action;
	char *min_prefix_v4, *min_prefix_v6, *max_shrink, *max_reject;
	char *may_be_empty, *stale_after, *max_bytes, *timeout;
};

struct raw_maps {
	char *blocklist_hosts, *blocklist_v6_prefixes, *netclass, *throttle, *hosts;
};

struct raw_paths {
	char *pin_dir, *state_dir, *socket, *event_log;
};

/* policy */
struct raw_spike {
	char *window, *z, *min_rate, *sustain, *min_sd_share, *min_sd_rate;
};

struct raw_blocklist {
	char *min_hits, *window;
};

struct raw_nonstd {
	char *share, *min_bytes, *window;
};

struct raw_upload {
	char *ratio, *min_bytes, *window;
};

struct raw_fanout {
	char *peers, *ports, *window;
};

struct raw_new_host {
	char *bytes, *window;
};

struct raw_signals {
	struct raw_spike *spike;
	struct raw_blocklist *blocklist;
	struct raw_nonstd *nonstd_ports;
	struct raw_upload *upload_ratio;
	struct raw_fanout *fanout;
	struct raw_new_host *new_host;
};

struct raw_rule {
	char *name;
	char **signals;
	unsigned int signals_count;
	char *min_signals, *action, *rate, *ttl, *cooldown, *repeat_window;
	char **escalation;
	unsigned int escalation_count;
};

struct raw_policy {
	char *monitor_only, *interval, *learning_period, *hour_of_week;
	char **windows;
	unsigned int windows_count;
	char **never_quarantine;
	unsigned int never_quarantine_count;
	char *max_quarantines_per_hour;
	struct raw_signals *signals;
	struct raw_rule *rules;
	unsigned int rules_count;
};

struct raw_cfg {
	struct raw_iface *interfaces;
	unsigned int interfaces_count;
	char **internal_networks;
	unsigned int internal_networks_count;
	char **exempt;
	unsigned int exempt_count;
	char **allowlist;
	unsigned int allowlist_count;
	char **standard_ports;
	unsigned int standard_ports_count;
	struct raw_maps *maps;
	struct raw_paths *paths;
	char *control_group;
	char *monitor_only, *event_dedup, *max_ttl, *default_burst;
	struct raw_feed *feeds;
	unsigned int feeds_count;
	struct raw_policy *policy;
};

#define OPT		(CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL)
/*
 * An empty value, "~" or "null" loads as NULL: "exempt:" means none,
 * "maps:" with every entry commented out means every default.
 */
#define OPT_NULL	(CYAML_FLAG_POINTER_NULL_STR | CYAML_FLAG_OPTIONAL)
#define STR(key, type, member) \
	CYAML_FIELD_STRING_PTR(key, OPT, type, member, 0, CYAML_UNLIMITED)

static const cyaml_schema_value_t schema_string = {
	CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 0, CYAML_UNLIMITED),
};

static const cyaml_schema_field_t schema_iface_fields[] = {
	STR("name", struct raw_iface, name),
	STR("mode", struct raw_iface, mode),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t schema_iface = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct raw_iface, schema_iface_fields),
};

static const cyaml_schema_field_t schema_feed_fields[] = {
	STR("name", struct raw_feed, name),
	STR("source", struct raw_feed, source),
	STR("format", struct raw_feed, format),
	STR("refresh", struct raw_feed, refresh),
	STR("action", struct raw_feed, action),
	STR("min_prefix_v4", struct raw_feed, min_prefix_v4),
	STR("min_prefix_v6", struct raw_feed, min_prefix_v6),
	STR("max_shrink", struct raw_feed, max_shrink),
	STR("max_reject", struct raw_feed, max_reject),
	STR("may_be_empty", struct raw_feed, may_be_empty),
	STR("stale_after", struct raw_feed, stale_after),
	STR("max_bytes", struct raw_feed, max_bytes),
	STR("timeout", struct raw_feed, timeout),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t schema_feed = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct raw_feed, schema_feed_fields),
};

static const cyaml_schema_field_t schema_maps_fields[] = {
	STR("blocklist_hosts", struct raw_maps, blocklist_hosts),
	STR("blocklist_v6_prefixes", struct raw_maps, blocklist_v6_prefixes),
	STR("netclass", struct raw_maps, netclass),
	STR("throttle", struct raw_maps, throttle),
	STR("hosts", struct raw_maps, hosts),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t schema_paths_fields[] = {
	STR("pin_dir", struct raw_paths, pin_dir),
	STR("state_dir", struct raw_paths, state_dir),
	STR("socket", struct raw_paths, socket),
	STR("event_log", struct raw_paths, event_log),
	CYAML_FIELD_END
};

/* ---- policy schema ---- */

static const cyaml_schema_field_t schema_spike_fields[] = {
	STR("window", struct raw_spike, window),
	STR("z", struct raw_spike, z),
	STR("min_rate", struct raw_spike, min_rate),
	STR("sustain", struct raw_spike, sustain),
	STR("min_sd_share", struct raw_spike, min_sd_share),
	STR("min_sd_rate", struct raw_spike, min_sd_rate),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t schema_blocklist_fields[] = {
	STR("min_hits", struct raw_blocklist, min_hits),
	STR("window", struct raw_blocklist, window),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t schema_nonstd_fields[] = {
	STR("share", struct raw_nonstd, share),
	STR("min_bytes", struct raw_nonstd, min_bytes),
	STR("window", struct raw_nonstd, window),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t schema_upload_fields[] = {
	STR("ratio", struct raw_upload, ratio),
	STR("min_bytes", struct raw_upload, min_bytes),
	STR("window", struct raw_upload, window),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t schema_fanout_fields[] = {
	STR("peers", struct raw_fanout, peers),
	STR("ports", struct raw_fanout, ports),
	STR("window", struct raw_fanout, window),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t schema_new_host_fields[] = {
	STR("bytes", struct raw_new_host, bytes),
	STR("window", struct raw_new_host, window),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t schema_signals_fields[] = {
	CYAML_FIELD_MAPPING_PTR("spike", OPT_NULL, struct raw_signals, spike,
				schema_spike_fields),
	CYAML_FIELD_MAPPING_PTR("blocklist", OPT_NULL, struct raw_signals, blocklist,
				schema_blocklist_fields),
	CYAML_FIELD_MAPPING_PTR("nonstd_ports", OPT_NULL, struct raw_signals, nonstd_ports,
				schema_nonstd_fields),
	CYAML_FIELD_MAPPING_PTR("upload_ratio", OPT_NULL, struct raw_signals, upload_ratio,
				schema_upload_fields),
	CYAML_FIELD_MAPPING_PTR("fanout", OPT_NULL, struct raw_signals, fanout,
				schema_fanout_fields),
	CYAML_FIELD_MAPPING_PTR("new_host", OPT_NULL, struct raw_signals, new_host,
				schema_new_host_fields),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t schema_rule_fields[] = {
	STR("name", struct raw_rule, name),
	CYAML_FIELD_SEQUENCE("signals", OPT, struct raw_rule, signals, &schema_string,
			     0, CYAML_UNLIMITED),
	STR("min_signals", struct raw_rule, min_signals),
	STR("action", struct raw_rule, action),
	STR("rate", struct raw_rule, rate),
	STR("ttl", struct raw_rule, ttl),
	STR("cooldown", struct raw_rule, cooldown),
	STR("repeat_window", struct raw_rule, repeat_window),
	CYAML_FIELD_SEQUENCE("escalation", OPT, struct raw_rule, escalation, &schema_string,
			     0, CYAML_UNLIMITED),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t schema_rule = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct raw_rule, schema_rule_fields),
};

static const cyaml_schema_field_t schema_policy_fields[] = {
	STR("monitor_only", struct raw_policy, monitor_only),
	STR("interval", struct raw_policy, interval),
	STR("learning_period", struct raw_policy, learning_period),
	STR("hour_of_week", struct raw_policy, hour_of_week),
	CYAML_FIELD_SEQUENCE("windows", OPT, struct raw_policy, windows, &schema_string,
			     0, CYAML_UNLIMITED),
	CYAML_FIELD_SEQUENCE("never_quarantine", OPT_NULL, struct raw_policy,
			     never_quarantine, &schema_string, 0, CYAML_UNLIMITED),
	STR("max_quarantines_per_hour", struct raw_policy, max_quarantines_per_hour),
	CYAML_FIELD_MAPPING_PTR("signals", OPT_NULL, struct raw_policy, signals,
				schema_signals_fields),
	CYAML_FIELD_SEQUENCE("rules", OPT_NULL, struct raw_policy, rules, &schema_rule,
			     0, CYAML_UNLIMITED),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t schema_top_fields[] = {
	CYAML_FIELD_SEQUENCE("interfaces", OPT, struct raw_cfg, interfaces,
			     &schema_iface, 0, CYAML_UNLIMITED),
	CYAML_FIELD_SEQUENCE("internal_networks", OPT, struct raw_cfg,
			     internal_networks, &schema_string, 0, CYAML_UNLIMITED),
	CYAML_FIELD_SEQUENCE("exempt", OPT_NULL, struct raw_cfg, exempt,
			     &schema_string, 0, CYAML_UNLIMITED),
	CYAML_FIELD_SEQUENCE("allowlist", OPT_NULL, struct raw_cfg, allowlist,
			     &schema_string, 0, CYAML_UNLIMITED),
	CYAML_FIELD_SEQUENCE("standard_ports", OPT, struct raw_cfg, standard_ports,
			     &schema_string, 0, CYAML_UNLIMITED),
	CYAML_FIELD_MAPPING_PTR("maps", OPT_NULL, struct raw_cfg, maps, schema_maps_fields),
	CYAML_FIELD_MAPPING_PTR("paths", OPT_NULL, struct raw_cfg, paths, schema_paths_fields),
	CYAML_FIELD_STRING_PTR("control_group", OPT_NULL, struct raw_cfg,
			       control_group, 0, CYAML_UNLIMITED),
	STR("monitor_only", struct raw_cfg, monitor_only),
	STR("event_dedup", struct raw_cfg, event_dedup),
	STR("max_ttl", struct raw_cfg, max_ttl),
	STR("default_burst", struct raw_cfg, default_burst),
	CYAML_FIELD_SEQUENCE("feeds", OPT_NULL, struct raw_cfg, feeds,
			     &schema_feed, 0, CYAML_UNLIMITED),
	CYAML_FIELD_MAPPING_PTR("policy", OPT_NULL, struct raw_cfg, policy,
				schema_policy_fields),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t schema_top = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct raw_cfg, schema_top_fields),
};

/* ---- key path -> line ---------------------------------------------------- */

/* Open addressing, FNV-1a; a file may hold thousands of list entries. */
struct lm_ent {
	char *path;		/* NULL: free slot */
	unsigned int line;	/* 1-based */
};

struct linemap {
	struct lm_ent *v;
	size_t n, cap;		/* cap: 0 or a power of two */
};

static __u64 fnv1a(const char *s)
{
	__u64 h = FNV64_OFFSET;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * FNV64_PRIME;
	return h;
}

static struct lm_ent *lm_slot(const struct linemap *m, const char *path)
{
	size_t i = (size_t)fnv1a(path) & (m->cap - 1);

	while (m->v[i].path && strcmp(m->v[i].path, path) != 0)
		i = (i + 1) & (m->cap - 1);
	return &m->v[i];
}

static const struct lm_ent *lm_find(const struct linemap *m, const char *path)
{
	const struct lm_ent *e;

	if (!m->cap)
		return NULL;
	e = lm_slot(m, path);
	return e->path ? e : NULL;
}

static int lm_grow(struct linemap *m)
{
	struct linemap bigger = { .cap = m->cap ? m->cap * 2 : LINEMAP_MIN_CAP };
	size_t i;

	bigger.v = calloc(bigger.cap, sizeof(*bigger.v));
	if (!bigger.v)
		return -ENOMEM;
	for (i = 0; i < m->cap; i++)
		if (m->v[i].path)
			*lm_slot(&bigger, m->v[i].path) = m->v[i];
	bigger.n = m->n;
	free(m->v);
	*m = bigger;
	return 0;
}

/* The caller has checked that path is not in the map yet. */
static int lm_add(struct linemap *m, const char *path, unsigned int line)
{
	struct lm_ent *e;
	int err;

	if ((m->n + 1) * 2 > m->cap) {	/* keep the load at most one half */
		err = lm_grow(m);
		if (err)
			return err;
	}
	e = lm_slot(m, path);
	e->path = strdup(path);
	if (!e->path)
		return -ENOMEM;
	e->line = line;
	m->n++;
	return 0;
}

static void lm_free(struct linemap *m)
{
	size_t i;

	for (i = 0; i < m->cap; i++)
		free(m->v[i].path);
	free(m->v);
	memset(m, 0, sizeof(*m));
}

/* ---- error reporting ---------------------------------------------------- */

/* One frame of libcyaml's backtrace. */
struct cy_frame {
	bool is_field;			/* "in mapping field 'x'" else "in sequence entry 'n'" */
	char name[CY_NAME_MAX];		/* is_field */
	unsigned int entry;		/* !is_field: 1-based, 0 = the sequence itself */
	unsigned int line;		/* libcyaml's line, 1-based */
};

struct cfg_ctx {
	const char *file;
	char *err;
	size_t errlen;
	struct linemap lm;
	/* libcyaml's first error and its backtrace, innermost frame first */
	char cy_msg[CY_LINE_MAX];
	bool cy_in_backtrace;
	struct cy_frame frames[CY_FRAMES_MAX];
	unsigned int n_frames;
};

/* "FILE:LINE: PATH: message"; no ":LINE" when line is 0, no "PATH: " when empty. */
static int __attribute__((format(printf, 4, 0)))
cfg_verr(struct cfg_ctx *c, unsigned int line, const char *path,
	 const char *fmt, va_list ap)
{
	char msg[CY_LINE_MAX];
	char where[sizeof(msg)] = "";

	if (!c->err || !c->errlen)
		return -EINVAL;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (line)
		snprintf(where, sizeof(where), ":%u", line);
	snprintf(c->err, c->errlen, "%s%s: %s%s%s", c->file, where,
		 path ? path : "", path && *path ? ": " : "", msg);
	return -EINVAL;
}

static int __attribute__((format(printf, 4, 5)))
cfg_err(struct cfg_ctx *c, unsigned int line, const char *path, const char *fmt, ...)
{
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = cfg_verr(c, line, path, fmt, ap);
	va_end(ap);
	return err;
}

/*
 * Line of path, or of its closest ancestor in the file ("feeds[2].name"
 * missing: the line of "feeds[2]"); 0 when none is written (defaults).
 */
static unsigned int line_of(const struct cfg_ctx *c, const char *path)
{
	char buf[KEYPATH_MAX];
	const struct lm_ent *e;
	char *cut;

	snprintf(buf, sizeof(buf), "%s", path);
	for (;;) {
		e = lm_find(&c->lm, buf);
		if (e)
			return e->line;
		cut = strrchr(buf, '.');
		if (!cut || (strrchr(buf, '[') && strrchr(buf, '[') > cut))
			cut = strrchr(buf, '[');
		if (!cut)
			return 0;
		*cut = '\0';
	}
}

/* An error about the value at path, at its line. */
static int __attribute__((format(printf, 3, 4)))
err_at(struct cfg_ctx *c, const char *path, const char *fmt, ...)
{
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = cfg_verr(c, line_of(c, path), path, fmt, ap);
	va_end(ap);
	return err;
}

static bool present(const struct cfg_ctx *c, const char *path)
{
	return lm_find(&c->lm, path) != NULL;
}

/* Key paths longer than KEYPATH_MAX are cut: they only name things. */
static const char *__attribute__((format(printf, 2, 3)))
path_fmt(char buf[KEYPATH_MAX], const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, KEYPATH_MAX, fmt, ap);
	va_end(ap);
	return buf;
}

/* "parent.key", or "key" at the top level. */
static const char *path_key(char buf[KEYPATH_MAX], const char *parent, const char *key)
{
	return path_fmt(buf, "%s%s%s", parent, *parent ? "." : "", key);
}

/* "parent[i]", i 0-based. */
static const char *path_idx(char buf[KEYPATH_MAX], const char *parent, size_t i)
{
	return path_fmt(buf, "%s[%zu]", parent, i);
}

/* ---- pass 1: libyaml events --------------------------------------------- */

struct scan {
	struct cfg_ctx *c;
	yaml_parser_t parser;
	const unsigned char *buf;
	size_t len;
};

static unsigned int ev_line(const yaml_event_t *ev)
{
	return (unsigned int)ev->start_mark.line + 1;
}

static const char *ev_kind(yaml_event_type_t t)
{
	switch (t) {
	case YAML_SCALAR_EVENT:
		return "a scalar value";
	case YAML_SEQUENCE_START_EVENT:
		return "a sequence";
	case YAML_MAPPING_START_EVENT:
		return "a mapping";
	case YAML_ALIAS_EVENT:
		return "an alias";
	default:
		return "something else";
	}
}

static int scan_syntax_error(struct scan *s)
{
	const yaml_parser_t *p = &s->parser;
	unsigned int line = (unsigned int)p->problem_mark.line + 1;
	size_t i;

	if (p->error == YAML_MEMORY_ERROR) {
		cfg_err(s->c, 0, NULL, "out of memory");
		return -ENOMEM;
	}
	/*
	 * The scanner notices a missing ':' or quote only at the next token,
	 * often on a later line; the token it was scanning is the culprit.
	 */
	if (p->error == YAML_SCANNER_ERROR && p->context)
		line = (unsigned int)p->context_mark.line + 1;
	if (p->error == YAML_READER_ERROR) {	/* encoding: only an offset is known */
		line = 1;
		for (i = 0; i < p->problem_offset && i < s->len; i++)
			line += s->buf[i] == '\n';
	}
	if (p->context && p->context_mark.line + 1 == line)
		return cfg_err(s->c, line, NULL, "YAML syntax error: %s (%s)",
			       p->problem ? p->problem : "?", p->context);
	if (p->context)
		return cfg_err(s->c, line, NULL, "YAML syntax error: %s (%s started on line %zu)",
			       p->problem ? p->problem : "?", p->context,
			       p->context_mark.line + 1);
	return cfg_err(s->c, line, NULL, "YAML syntax error: %s",
		       p->problem ? p->problem : "?");
}

static int scan_next(struct scan *s, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&s->parser, ev))
		return scan_syntax_error(s);
	return 0;
}

static int scan_node(struct scan *s, const yaml_event_t *ev, const char *path,
		     unsigned int depth);

static int scan_sequence(struct scan *s, const char *path, unsigned int depth)
{
	char child[KEYPATH_MAX];
	yaml_event_t ev;
	size_t i;
	int err;

	for (i = 0;; i++) {
		err = scan_next(s, &ev);
		if (err)
			return err;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			return 0;
		}
		path_idx(child, path, i);
		err = lm_add(&s->c->lm, child, ev_line(&ev));
		if (!err)
			err = scan_node(s, &ev, child, depth + 1);
		yaml_event_delete(&ev);
		if (err)
			return err;
	}
}

static int scan_mapping(struct scan *s, const char *path, unsigned int depth)
{
	char child[KEYPATH_MAX];
	const struct lm_ent *seen;
	yaml_event_t key, val;
	int err;

	for (;;) {
		err = scan_next(s, &key);
		if (err)
			return err;
		if (key.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&key);
			return 0;
		}
		if (key.type != YAML_SCALAR_EVENT) {
			err = cfg_err(s->c, ev_line(&key), path,
				      "a key must be a plain name, not %s", ev_kind(key.type));
			yaml_event_delete(&key);
			return err;
		}
		path_key(child, path, (const char *)key.data.scalar.value);
		seen = lm_find(&s->c->lm, child);
		if (seen)
			err = cfg_err(s->c, ev_line(&key), path,
				      "duplicate key \"%s\" (first on line %u)",
				      (const char *)key.data.scalar.value, seen->line);
		else
			err = lm_add(&s->c->lm, child, ev_line(&key));
		yaml_event_delete(&key);
		if (err)
			return err;

		err = scan_next(s, &val);
		if (err)
			return err;
		err = scan_node(s, &val, child, depth + 1);
		yaml_event_delete(&val);
		if (err)
			return err;
	}
}

static int scan_node(struct scan *s, const yaml_event_t *ev, const char *path,
		     unsigned int depth)
{
	if ((ev->type == YAML_SEQUENCE_START_EVENT || ev->type == YAML_MAPPING_START_EVENT) &&
	    depth > BWE_CFG_DEPTH_MAX)
		return cfg_err(s->c, ev_line(ev), path, "nested deeper than %d levels",
			       BWE_CFG_DEPTH_MAX);
	/*
	 * libcyaml would replay the anchored events: nested aliases grow a
	 * small file without bound ("billion laughs"), and a value reached
	 * through an alias has no line of its own. Write values out instead.
	 */
	if (ev->type == YAML_ALIAS_EVENT)
		return cfg_err(s->c, ev_line(ev), path,
			       "YAML aliases (*%s) are not supported: write the value out",
			       (const char *)ev->data.alias.anchor);
	if (ev->type == YAML_SEQUENCE_START_EVENT)
		return scan_sequence(s, path, depth);
	if (ev->type == YAML_MAPPING_START_EVENT)
		return scan_mapping(s, path, depth);
	return 0;
}

/* A document that is only "---", "~" or "null": no settings at all. */
static bool is_null_root(const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;

	return ev->type == YAML_SCALAR_EVENT && ev->data.scalar.plain_implicit &&
	       (!*v || !strcmp(v, "~") || !strcmp(v, "null"));
}

/* Expect ev (already fetched) to be of type t; anything else is odd YAML. */
static int scan_expect(struct scan *s, yaml_event_t *ev, yaml_event_type_t t)
{
	int err = scan_next(s, ev);

	if (err)
		return err;
	if (ev->type == t)
		return 0;
	if (t == YAML_STREAM_END_EVENT && ev->type == YAML_DOCUMENT_START_EVENT)
		err = cfg_err(s->c, ev_line(ev), NULL,
			      "a second YAML document: the file must hold exactly one");
	else
		err = cfg_err(s->c, ev_line(ev), NULL, "unexpected YAML event %d", ev->type);
	yaml_event_delete(ev);
	return err;
}

/*
 * Pass 1. Returns 0 with *empty set when the file holds no document or an
 * empty one, 0 for a mapping whose key paths are now in c->lm, or an error.
 */
static int scan_file(struct cfg_ctx *c, const unsigned char *buf, size_t len, bool *empty)
{
	struct scan s = { .c = c, .buf = buf, .len = len };
	yaml_event_t ev;
	int err;

	*empty = false;
	if (!yaml_parser_initialize(&s.parser)) {
		cfg_err(c, 0, NULL, "out of memory");
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&s.parser, buf, len);

	err = scan_expect(&s, &ev, YAML_STREAM_START_EVENT);
	if (err)
		goto cleanup;
	yaml_event_delete(&ev);
	err = scan_next(&s, &ev);
	if (err)
		goto cleanup;
	if (ev.type == YAML_STREAM_END_EVENT) {
		*empty = true;
		yaml_event_delete(&ev);
		goto cleanup;
	}
	yaml_event_delete(&ev);		/* DOCUMENT_START */

	err = scan_next(&s, &ev);
	if (err)
		goto cleanup;
	if (is_null_root(&ev)) {
		*empty = true;
	} else if (ev.type != YAML_MAPPING_START_EVENT) {
		err = cfg_err(c, ev_line(&ev), NULL,
			      "the top level must be a mapping of keys, not %s",
			      ev_kind(ev.type));
	} else {
		err = scan_mapping(&s, "", 1);
	}
	yaml_event_delete(&ev);
	if (err)
		goto cleanup;

	err = scan_expect(&s, &ev, YAML_DOCUMENT_END_EVENT);
	if (err)
		goto cleanup;
	yaml_event_delete(&ev);
	err = scan_expect(&s, &ev, YAML_STREAM_END_EVENT);
	if (err)
		goto cleanup;
	yaml_event_delete(&ev);
cleanup:
	yaml_parser_delete(&s.parser);
	return err;
}

/* ---- pass 2: libcyaml ----------------------------------------------------- */

/*
 * libcyaml logs an error as "Load: <what>", then "Load: Backtrace:" and one
 * line per frame, innermost first:
 *   "  in mapping field 'interfaces' (line: 2, column: 3)"
 *   "  in sequence entry '1' (line: 2, column: 5)"   (1-based entry)
 *   "  in mapping (line: 2, column: 11)"
 * Keep the first message and its frames.
 */
static void __attribute__((format(printf, 3, 0)))
cy_log(cyaml_log_t level, void *ctx, const char *fmt, va_list ap)
{
	static const char load[] = "Load: ";
	static const char field[] = "  in mapping field '";
	struct cfg_ctx *c = ctx;
	char line[CY_LINE_MAX];
	struct cy_frame *f;
	const char *end;
	size_t n;

	if (level < CYAML_LOG_ERROR)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n && line[n - 1] == '\n')
		line[--n] = '\0';

	if (!strcmp(line, "Load: Backtrace:")) {
		c->cy_in_backtrace = true;
		return;
	}
	if (!c->cy_in_backtrace) {
		if (!c->cy_msg[0] && !strncmp(line, load, sizeof(load) - 1))
			snprintf(c->cy_msg, sizeof(c->cy_msg), "%s", line + sizeof(load) - 1);
		return;
	}
	if (c->n_frames >= CY_FRAMES_MAX)
		return;
	f = &c->frames[c->n_frames];
	memset(f, 0, sizeof(*f));
	if (!strncmp(line, field, sizeof(field) - 1)) {
		end = strstr(line, "' (line: ");
		if (!end)
			return;
		f->is_field = true;
		snprintf(f->name, sizeof(f->name), "%.*s",
			 (int)(end - line - (sizeof(field) - 1)), line + sizeof(field) - 1);
		sscanf(end, "' (line: %u", &f->line);
		c->n_frames++;
	} else if (sscanf(line, "  in sequence entry '%u' (line: %u", &f->entry, &f->line) == 2) {
		c->n_frames++;
	}
}

/* The key path of libcyaml's error, outermost frame first. */
static const char *cy_path(const struct cfg_ctx *c, char buf[KEYPATH_MAX])
{
	char tmp[KEYPATH_MAX];
	unsigned int i;

	buf[0] = '\0';
	for (i = c->n_frames; i-- > 0;) {
		const struct cy_frame *f = &c->frames[i];

		snprintf(tmp, sizeof(tmp), "%s", buf);
		if (f->is_field)
			path_key(buf, tmp, f->name);
		else if (f->entry)
			path_idx(buf, tmp, f->entry - 1);
	}
	return buf;
}

/* The mapping schema the innermost frame points into, for suggestions. */
static const cyaml_schema_field_t *cy_fields(const struct cfg_ctx *c)
{
	const cyaml_schema_value_t *v = &schema_top;
	const cyaml_schema_field_t *fl;
	unsigned int i;

	for (i = c->n_frames; i-- > 0;) {
		const struct cy_frame *f = &c->frames[i];

		if (f->is_field) {
			if (v->type != CYAML_MAPPING)
				return NULL;
			for (fl = v->mapping.fields; fl->key; fl++)
				if (!strcmp(fl->key, f->name))
					break;
			if (!fl->key)
				return NULL;
			v = &fl->value;
		} else if (f->entry) {
			if (v->type != CYAML_SEQUENCE)
				return NULL;
			v = v->sequence.entry;
		}
	}
	return v->type == CYAML_MAPPING ? v->mapping.fields : NULL;
}

/* Levenshtein distance, for "did you mean"; both strings short. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t row[SUGGEST_LEN_MAX + 1];

	if (la > SUGGEST_LEN_MAX || lb > SUGGEST_LEN_MAX)
		return SIZE_MAX;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

static const char *cy_suggest(const struct cfg_ctx *c, const char *key)
{
	const cyaml_schema_field_t *fl = cy_fields(c);
	const char *best = NULL;
	size_t best_d = SUGGEST_DIST + 1, d;

	for (; fl && fl->key; fl++) {
		d = edit_distance(key, fl->key);
		if (d < best_d) {
			best_d = d;
			best = fl->key;
		}
	}
	return best;
}

static const char *cy_kind(const char *cyaml_name)
{
	if (!strncmp(cyaml_name, "MAPPING", strlen("MAPPING")))
		return "a mapping";
	if (!strncmp(cyaml_name, "SEQUENCE", strlen("SEQUENCE")))
		return "a sequence";
	if (!strncmp(cyaml_name, "SCALAR", strlen("SCALAR")) ||
	    !strcmp(cyaml_name, "STRING"))
		return "a scalar value";
	if (!strncmp(cyaml_name, "ALIAS", strlen("ALIAS")))
		return "an alias";
	return cyaml_name;
}

/* Turn libcyaml's captured error into the err line. */
static int cy_report(struct cfg_ctx *c, cyaml_err_t e)
{
	static const char unexpected[] = "Unexpected key: ";
	char path[KEYPATH_MAX], child[KEYPATH_MAX];
	char want[CY_NAME_MAX], got[CY_NAME_MAX];
	unsigned int line;
	const char *key, *hint;

	if (e == CYAML_ERR_OOM) {
		cfg_err(c, 0, NULL, "out of memory");
		return -ENOMEM;
	}
	cy_path(c, path);
	line = line_of(c, path);
	if (!line && c->n_frames)
		line = c->frames[0].line;

	if (!strncmp(c->cy_msg, unexpected, sizeof(unexpected) - 1)) {
		key = c->cy_msg + sizeof(unexpected) - 1;
		path_key(child, path, key);
		if (present(c, child))
			line = line_of(c, child);
		hint = cy_suggest(c, key);
		if (hint)
			return cfg_err(c, line, path, "unknown key \"%s\" (did you mean \"%s\"?)",
				       key, hint);
		return cfg_err(c, line, path, "unknown key \"%s\"", key);
	}
	_Static_assert(CY_NAME_MAX == 64, "sscanf field widths");
	if (sscanf(c->cy_msg, "Expecting %63[A-Z_], got event: %63[A-Z_]", want, got) == 2)
		return cfg_err(c, line, path, "expected %s, found %s", cy_kind(want), cy_kind(got));
	if (c->cy_msg[0])
		return cfg_err(c, line, path, "%s", c->cy_msg);
	return cfg_err(c, line, path, "%s", cyaml_strerror(e));
}

/* ---- pass 3: conversion ------------------------------------------------- */

/* v (written as s) against min..max; the bounds as the user writes them. */
static int check_range(struct cfg_ctx *c, const char *path, const char *s, bool too_big,
		       __u64 v, __u64 min, __u64 max, const char *lo, const char *hi)
{
	if (!too_big && v < min)
		return err_at(c, path, "%s is below the minimum of %s", s, lo);
	if (too_big || v > max)
		return err_at(c, path, "%s is above the maximum of %s", s, hi);
	return 0;
}

/* Decimal digits only: no sign, no "0x", no exponent. */
static int conv_uint(struct cfg_ctx *c, const char *path, const char *s,
		     __u64 min, __u64 max, __u64 *out)
{
	char lo[BWE_DURATION_STRLEN], hi[BWE_DURATION_STRLEN];
	bool too_big = false;
	const char *p;
	__u64 v = 0;
	int err;

	if (!*s)
		return err_at(c, path, "a whole number is required");
	for (p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return err_at(c, path, "\"%s\" is not a whole number", s);
		if (__builtin_mul_overflow(v, DECIMAL_BASE, &v) ||
		    __builtin_add_overflow(v, (__u64)(*p - '0'), &v))
			too_big = true;
	}
	snprintf(lo, sizeof(lo), "%llu", (unsigned long long)min);
	snprintf(hi, sizeof(hi), "%llu", (unsigned long long)max);
	err = check_range(c, path, s, too_big, v, min, max, lo, hi);
	if (!err)
		*out = v;
	return err;
}

static int conv_u32(struct cfg_ctx *c, const char *path, const char *s,
		    __u32 min, __u32 max, __u32 *out)
{
	__u64 v;
	int err = conv_uint(c, path, s, min, max, &v);

	if (!err)
		*out = (__u32)v;
	return err;
}

/* YAML 1.2 core schema booleans. */
static int conv_bool(struct cfg_ctx *c, const char *path, const char *s, int *out)
{
	static const char *const yes[] = { "true", "True", "TRUE" };
	static const char *const no[] = { "false", "False", "FALSE" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(yes); i++) {
		if (!strcmp(s, yes[i])) {
			*out = 1;
			return 0;
		}
		if (!strcmp(s, no[i])) {
			*out = 0;
			return 0;
		}
	}
	return err_at(c, path, "\"%s\" is not true or false", s);
}

/* A share 0..1 written as a plain decimal ("0.5", "1", ".25"). */
static int conv_share(struct cfg_ctx *c, const char *path, const char *s, double *out)
{
	char *end;
	double v;

	if (!*s || strspn(s, "0123456789.") != strlen(s))
		return err_at(c, path, "\"%s\" is not a number (a share from 0 to 1)", s);
	errno = 0;
	v = strtod(s, &end);
	if (*end || errno || !isfinite(v))
		return err_at(c, path, "\"%s\" is not a number (a share from 0 to 1)", s);
	if (v > 1.0)
		return err_at(c, path, "%s is outside 0..1 (a share: 0.5 is half)", s);
	*out = v;
	return 0;
}

static int conv_duration(struct cfg_ctx *c, const char *path, const char *s,
			 __u64 min, __u64 max, __u64 *out)
{
	char lo[BWE_DURATION_STRLEN], hi[BWE_DURATION_STRLEN];
	__u64 v = 0;
	int r = bwe_duration_parse(s, &v);

	if (r == -EINVAL)
		return err_at(c, path,
			      "\"%s\" is not a duration (a whole number and s, m, h or d: \"30s\", \"15m\", \"2h\", \"7d\")",
			      s);
	bwe_duration_fmt(min, lo, sizeof(lo));
	bwe_duration_fmt(max, hi, sizeof(hi));
	r = check_range(c, path, s, r != 0, v, min, max, lo, hi);
	if (!r)
		*out = v;
	return r;
}

static int conv_size(struct cfg_ctx *c, const char *path, const char *s,
		     __u64 min, __u64 max, __u64 *out)
{
	char lo[BWE_DURATION_STRLEN + sizeof(" bytes")], hi[sizeof(lo)];
	__u64 v = 0;
	int r = bwe_size_parse(s, &v);

	if (r == -EINVAL)
		return err_at(c, path,
			      "\"%s\" is not a size (bytes, or with k, M, G, T: \"1500\", \"64k\", \"256M\")",
			      s);
	snprintf(lo, sizeof(lo), "%llu bytes", (unsigned long long)min);
	snprintf(hi, sizeof(hi), "%llu bytes", (unsigned long long)max);
	r = check_range(c, path, s, r != 0, v, min, max, lo, hi);
	if (!r)
		*out = v;
	return r;
}

static int conv_enum(struct cfg_ctx *c, const char *path, const char *s,
		     const char *const *names, size_t n, unsigned int *out)
{
	char list[CY_LINE_MAX] = "";
	size_t i, used = 0;

	for (i = 0; i < n; i++) {
		if (!strcmp(s, names[i])) {
			*out = (unsigned int)i;
			return 0;
		}
	}
	for (i = 0; i < n && used < sizeof(list); i++)
		used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s",
					 i ? ", " : "", names[i]);
	return err_at(c, path, "\"%s\" is not one of %s", s, list);
}

static int conv_abs_path(struct cfg_ctx *c, const char *path, const char *s,
			 size_t max, char **out)
{
	if (s[0] != '/')
		return err_at(c, path, "must be an absolute path, not \"%s\"", s);
	if (max && strlen(s) > max)
		return err_at(c, path, "longer than %zu bytes", max);
	*out = strdup(s);
	return *out ? 0 : -ENOMEM;
}

/* One prefix: strict, host bits clear, never /0; say which rule failed. */
static int conv_prefix(struct cfg_ctx *c, const char *path, const char *s,
		       struct bwe_prefix *out)
{
	char fixed[BWE_PREFIX_STRLEN];
	struct bwe_prefix p;

	if (!bwe_prefix_parse(s, out, 0))
		return 0;
	if (bwe_prefix_parse(s, &p, BWE_PFX_HOSTBITS | BWE_PFX_ZERO))
		return err_at(c, path, "\"%s\" is not an address or CIDR", s);
	if (!bwe_prefix_family_len(&p))
		return err_at(c, path, "\"%s\" is a /0: it would match every address", s);
	bwe_prefix_fmt(&p, fixed, sizeof(fixed));
	return err_at(c, path, "\"%s\" has host bits set (did you mean %s?)", s, fixed);
}

/* A prefix and its index in the list, sorted to find repeats in n log n. */
struct pfx_pos {
	struct bwe_prefix p;
	size_t i;
};

static int pfx_pos_cmp(const void *a, const void *b)
{
	const struct pfx_pos *x = a, *y = b;
	int d = memcmp(&x->p, &y->p, sizeof(x->p));	/* masked, padding zero */

	if (d)
		return d;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* The first entry (in file order) that repeats an earlier one, or n. */
static size_t pfx_first_repeat(const struct bwe_prefix *v, size_t n, size_t *earlier)
{
	struct pfx_pos *s = calloc(n, sizeof(*s));
	size_t k, best = n;

	if (!s)
		return n;	/* repeats are harmless; only the message is lost */
	for (k = 0; k < n; k++) {
		s[k].p = v[k];
		s[k].i = k;
	}
	qsort(s, n, sizeof(*s), pfx_pos_cmp);
	for (k = 1; k < n; k++) {
		if (!memcmp(&s[k].p, &s[k - 1].p, sizeof(s[k].p)) && s[k].i < best) {
			best = s[k].i;
			*earlier = s[k - 1].i;
		}
	}
	free(s);
	return best;
}

/*
 * Every configured prefix takes one bwe_netclass entry; a prefix in two
 * lists takes one entry with both flags.
 */
static int check_netclass_room(struct cfg_ctx *c, const struct bwe_cfgfile *cfg)
{
	const struct bwe_cfg_prefixes *lists[] = { &cfg->internal, &cfg->exempt, &cfg->allowlist };
	struct pfx_pos *all;
	size_t n = 0, k, l, distinct;

	for (l = 0; l < ARRAY_SIZE(lists); l++)
		n += lists[l]->n;
	if (n <= cfg->maps.netclass)
		return 0;
	all = calloc(n, sizeof(*all));
	if (!all)
		return -ENOMEM;
	for (n = 0, l = 0; l < ARRAY_SIZE(lists); l++)
		for (k = 0; k < lists[l]->n; k++)
			all[n++].p = lists[l]->v[k];
	qsort(all, n, sizeof(*all), pfx_pos_cmp);
	for (distinct = 1, k = 1; k < n; k++)
		distinct += memcmp(&all[k].p, &all[k - 1].p, sizeof(all[k].p)) != 0;
	free(all);
	if (distinct <= cfg->maps.netclass)
		return 0;
	return err_at(c, "maps.netclass",
		      "%u entries cannot hold the %zu prefixes of internal_networks, exempt and allowlist",
		      cfg->maps.netclass, distinct);
}

static int conv_prefixes(struct cfg_ctx *c, const char *key, char *const *raw,
			 unsigned int n_raw, const char *const *defaults,
			 size_t n_defaults, struct bwe_cfg_prefixes *out)
{
	char path[KEYPATH_MAX], other[KEYPATH_MAX];
	bool written = present(c, key);
	const char *const *text = written ? (const char *const *)raw : defaults;
	size_t n = written ? n_raw : n_defaults, i, j = 0;
	int err;

	if (!n)
		return 0;
	out->v = calloc(n, sizeof(*out->v));
	if (!out->v)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		err = conv_prefix(c, path_idx(path, key, i), text[i], &out->v[i]);
		if (err)
			return err;
		out->n++;
	}
	i = pfx_first_repeat(out->v, n, &j);
	if (i < n)
		return err_at(c, path_idx(path, key, i), "\"%s\" is listed twice (also %s)",
			      text[i], path_idx(other, key, j));
	return 0;
}

static int conv_ports(struct cfg_ctx *c, const struct raw_cfg *r, struct bwe_cfgfile *cfg)
{
	static const char key[] = "standard_ports";
	char path[KEYPATH_MAX], other[KEYPATH_MAX];
	bool written = present(c, key);
	size_t n = written ? r->standard_ports_count : ARRAY_SIZE(std_ports_default);
	__u64 seen[(PORT_MAX + 1) / U64_BITS] = { 0 };	/* bit per port */
	size_t i, j;
	__u64 v;
	int err;

	if (!n)
		return 0;
	cfg->std_ports = calloc(n, sizeof(*cfg->std_ports));
	if (!cfg->std_ports)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if (!written) {
			cfg->std_ports[cfg->n_std_ports++] = std_ports_default[i];
			continue;
		}
		path_idx(path, key, i);
		err = conv_uint(c, path, r->standard_ports[i], PORT_MIN, PORT_MAX, &v);
		if (err)
			return err;
		if (seen[v / U64_BITS] & (1ULL << (v % U64_BITS))) {
			for (j = 0; cfg->std_ports[j] != v; j++)
				;
			return err_at(c, path, "port %llu is listed twice (also %s)",
				      (unsigned long long)v, path_idx(other, key, j));
		}
		seen[v / U64_BITS] |= 1ULL << (v % U64_BITS);
		cfg->std_ports[cfg->n_std_ports++] = (__u16)v;
	}
	return 0;
}

/* Like the kernel's dev_valid_name(). */
static int conv_ifname(struct cfg_ctx *c, const char *path, const char *s,
		       char out[BWE_IFNAME_LEN])
{
	const char *p;

	if (!*s || strlen(s) >= BWE_IFNAME_LEN)
		return err_at(c, path, "\"%s\" is not an interface name (1..%d characters)",
			      s, BWE_IFNAME_LEN - 1);
	if (!strcmp(s, ".") || !strcmp(s, ".."))
		return err_at(c, path, "\"%s\" is not an interface name", s);
	for (p = s; *p; p++)
		if (*p == '/' || *p == ':' || isspace((unsigned char)*p) ||
		    iscntrl((unsigned char)*p))
			return err_at(c, path,
				      "\"%s\" is not an interface name (no '/', ':' or white space)",
				      s);
	snprintf(out, BWE_IFNAME_LEN, "%s", s);
	return 0;
}

static int load_ifaces(struct cfg_ctx *c, const struct raw_cfg *r, struct bwe_cfgfile *cfg)
{
	char ipath[KEYPATH_MAX], path[KEYPATH_MAX], other[KEYPATH_MAX];
	unsigned int mode;
	size_t i, j;
	int err;

	if (!present(c, "interfaces"))
		return cfg_err(c, 0, "interfaces", "required key missing");
	if (!r->interfaces_count)
		return err_at(c, "interfaces", "at least one interface is required");
	if (r->interfaces_count > BWE_CFG_IFACES_MAX)
		return err_at(c, path_idx(ipath, "interfaces", BWE_CFG_IFACES_MAX),
			      "at most %d interfaces", BWE_CFG_IFACES_MAX);
	cfg->ifaces = calloc(r->interfaces_count, sizeof(*cfg->ifaces));
	if (!cfg->ifaces)
		return -ENOMEM;
	for (i = 0; i < r->interfaces_count; i++) {
		const struct raw_iface *ri = &r->interfaces[i];
		struct bwe_cfg_iface *ci = &cfg->ifaces[i];

		path_idx(ipath, "interfaces", i);
		path_key(path, ipath, "name");
		if (!ri->name)
			return err_at(c, path, "required key missing");
		err = conv_ifname(c, path, ri->name, ci->name);
		if (err)
			return err;
		for (j = 0; j < i; j++)
			if (!strcmp(cfg->ifaces[j].name, ci->name))
				return err_at(c, path, "duplicate interface \"%s\" (also %s)",
					      ci->name, path_idx(other, "interfaces", j));
		ci->mode = BWE_MODE_AUTO;
		if (ri->mode) {
			err = conv_enum(c, path_key(path, ipath, "mode"), ri->mode,
					mode_names, ARRAY_SIZE(mode_names), &mode);
			if (err)
				return err;
			ci->mode = (enum bwe_attach_mode)mode;
		}
		cfg->n_ifaces++;
	}
	return 0;
}

static int load_maps(struct cfg_ctx *c, const struct raw_maps *m, struct bwe_cfgfile *cfg)
{
	const struct {
		const char *key;
		const char *raw;
		__u32 *out;
		__u32 min;
	} rows[] = {
		{ "blocklist_hosts", m ? m->blocklist_hosts : NULL,
		  &cfg->maps.blocklist_hosts, BWE_CFG_MAP_MIN },
		{ "blocklist_v6_prefixes", m ? m->blocklist_v6_prefixes : NULL,
		  &cfg->maps.blocklist_v6_prefixes, BWE_CFG_MAP_MIN },
		{ "netclass", m ? m->netclass : NULL, &cfg->maps.netclass, BWE_CFG_NETCLASS_MIN },
		{ "throttle", m ? m->throttle : NULL, &cfg->maps.throttle, BWE_CFG_MAP_MIN },
		{ "hosts", m ? m->hosts : NULL, &cfg->maps.hosts, BWE_CFG_MAP_MIN },
	};
	char path[KEYPATH_MAX];
	size_t i;
	int err;

	cfg->maps.blocklist_hosts = BWE_BL_HOST_MAX;
	cfg->maps.blocklist_v6_prefixes = BWE_BL_NET6_MAX;
	cfg->maps.netclass = BWE_NETCLASS_MAX;
	cfg->maps.throttle = BWE_THROTTLE_MAX;
	cfg->maps.hosts = BWE_HOSTS_MAX;
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		if (!rows[i].raw)
			continue;
		err = conv_u32(c, path_key(path, "maps", rows[i].key), rows[i].raw,
			       rows[i].min, BWE_CFG_MAP_MAX, rows[i].out);
		if (err)
			return err;
	}
	return 0;
}

static int load_paths(struct cfg_ctx *c, const struct raw_paths *p, struct bwe_cfgfile *cfg)
{
	const struct {
		const char *key;
		const char *raw;
		const char *def;
		size_t max;
		char **out;
	} rows[] = {
		{ "pin_dir", p ? p->pin_dir : NULL, BWE_CFG_PIN_DIR, 0, &cfg->paths.pin_dir },
		{ "state_dir", p ? p->state_dir : NULL, BWE_CFG_STATE_DIR, 0,
		  &cfg->paths.state_dir },
		{ "socket", p ? p->socket : NULL, BWE_CFG_SOCKET, BWE_CFG_SOCKET_PATH_MAX,
		  &cfg->paths.socket },
		{ "event_log", p ? p->event_log : NULL, BWE_CFG_EVENT_LOG, 0,
		  &cfg->paths.event_log },
	};
	char path[KEYPATH_MAX];
	size_t i;
	int err;

	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		err = conv_abs_path(c, path_key(path, "paths", rows[i].key),
				    rows[i].raw ? rows[i].raw : rows[i].def, rows[i].max,
				    rows[i].out);
		if (err)
			return err;
	}
	return 0;
}

/* Group names as useradd(8) takes them: [A-Za-z0-9_.-], not starting with '-'. */
static int load_group(struct cfg_ctx *c, const char *s, struct bwe_cfgfile *cfg)
{
	static const char key[] = "control_group";

	if (!s)
		return 0;
	if (strlen(s) > BWE_CFG_GROUP_NAME_MAX || s[0] == '-' ||
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") !=
	    strlen(s))
		return err_at(c, key,
			      "\"%s\" is not a group name (up to %d of A-Z a-z 0-9 _ . -, not starting with -)",
			      s, BWE_CFG_GROUP_NAME_MAX);
	cfg->control_group = strdup(s);
	return cfg->control_group ? 0 : -ENOMEM;
}

static int load_globals(struct cfg_ctx *c, const struct raw_cfg *r, struct bwe_cfgfile *cfg)
{
	int err = 0;

	cfg->event_dedup_s = BWE_CFG_EVENT_DEDUP_S;
	cfg->max_ttl_s = BWE_CFG_MAX_TTL_S;
	cfg->default_burst = 0;
	if (r->monitor_only)
		err = conv_bool(c, "monitor_only", r->monitor_only, &cfg->monitor_only);
	if (!err && r->event_dedup)
		err = conv_duration(c, "event_dedup", r->event_dedup, 1,
				    BWE_CFG_EVENT_DEDUP_MAX_S, &cfg->event_dedup_s);
	if (!err && r->max_ttl)
		err = conv_duration(c, "max_ttl", r->max_ttl, 1, BWE_DURATION_MAX_S,
				    &cfg->max_ttl_s);
	if (!err && r->default_burst) {
		err = conv_size(c, "default_burst", r->default_burst, 0, BWE_CFG_BURST_MAX,
				&cfg->default_burst);
		if (!err && cfg->default_burst && cfg->default_burst < BWE_CFG_BURST_MIN)
			err = err_at(c, "default_burst",
				     "%s is below one full frame (%llu bytes); 0 picks a burst from the rate",
				     r->default_burst, (unsigned long long)BWE_CFG_BURST_MIN);
	}
	return err;
}

/* Absolute path, or http(s)://host...; no white space or control characters. */
static int conv_source(struct cfg_ctx *c, const char *path, const char *s, char **out)
{
	static const char *const schemes[] = { "http://", "https://" };
	bool ok = s[0] == '/';
	const char *p;
	size_t i, n;

	for (i = 0; i < ARRAY_SIZE(schemes) && !ok; i++) {
		n = strlen(schemes[i]);
		ok = !strncasecmp(s, schemes[i], n) && s[n] && s[n] != '/';
	}
	for (p = s; ok && *p; p++)
		ok = !isspace((unsigned char)*p) && !iscntrl((unsigned char)*p);
	if (!ok)
		return err_at(c, path,
			      "\"%s\" is not an absolute path or an http:// or https:// URL", s);
	*out = strdup(s);
	return *out ? 0 : -ENOMEM;
}

static int conv_feed_name(struct cfg_ctx *c, const char *path, const char *s, char **out)
{
	static const char chars[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-";
	size_t n = strlen(s);

	if (!n || n > BWE_FEED_NAME_MAX || strspn(s, chars) != n)
		return err_at(c, path,
			      "\"%s\" is not a feed name (1..%d of A-Z a-z 0-9 _ . -)",
			      s, BWE_FEED_NAME_MAX);
	*out = strdup(s);
	return *out ? 0 : -ENOMEM;
}

static int load_feed(struct cfg_ctx *c, const char *fpath, const struct raw_feed *rf,
		     struct bwe_cfg_feed *f)
{
	char path[KEYPATH_MAX];
	unsigned int v;
	int err = 0;

	f->refresh_s = BWE_FEED_REFRESH_S;
	f->action = BWE_ACT_DROP;
	f->min_prefix_v4 = BWE_FEED_MIN_PREFIX_V4;
	f->min_prefix_v6 = BWE_FEED_MIN_PREFIX_V6;
	f->max_shrink = BWE_FEED_MAX_SHRINK;
	f->max_reject = BWE_FEED_MAX_REJECT;
	f->may_be_empty = 0;
	f->stale_after = BWE_FEED_STALE_AFTER;
	f->max_bytes = BWE_FEED_MAX_BYTES;
	f->timeout_s = BWE_FEED_TIMEOUT_S;

	path_key(path, fpath, "name");
	if (!rf->name)
		return err_at(c, path, "required key missing");
	err = conv_feed_name(c, path, rf->name, &f->name);
	if (err)
		return err;
	path_key(path, fpath, "source");
	if (!rf->source)
		return err_at(c, path, "required key missing");
	err = conv_source(c, path, rf->source, &f->source);
	if (err)
		return err;
	if (rf->format) {
		err = conv_enum(c, path_key(path, fpath, "format"), rf->format, feed_formats,
				ARRAY_SIZE(feed_formats), &v);
		if (err)
			return err;
	}
	f->format = strdup(rf->format ? rf->format : feed_formats[0]);
	if (!f->format)
		return -ENOMEM;
	if (rf->refresh)
		err = conv_duration(c, path_key(path, fpath, "refresh"), rf->refresh,
				    BWE_FEED_REFRESH_MIN_S, BWE_DURATION_MAX_S, &f->refresh_s);
	if (!err && rf->action) {
		err = conv_enum(c, path_key(path, fpath, "action"), rf->action, action_names,
				ARRAY_SIZE(action_names), &v);
		if (!err)
			f->action = (enum bwe_feed_action)v;
	}
	if (!err && rf->min_prefix_v4)
		err = conv_u32(c, path_key(path, fpath, "min_prefix_v4"), rf->min_prefix_v4,
			       BWE_TBL24_MIN_PLEN, V4_PLEN_MAX, &f->min_prefix_v4);
	if (!err && rf->min_prefix_v6)
		err = conv_u32(c, path_key(path, fpath, "min_prefix_v6"), rf->min_prefix_v6,
			       1, V6_PLEN_MAX, &f->min_prefix_v6);
	if (!err && rf->max_shrink)
		err = conv_share(c, path_key(path, fpath, "max_shrink"), rf->max_shrink,
				 &f->max_shrink);
	if (!err && rf->max_reject)
		err = conv_share(c, path_key(path, fpath, "max_reject"), rf->max_reject,
				 &f->max_reject);
	if (!err && rf->may_be_empty)
		err = conv_bool(c, path_key(path, fpath, "may_be_empty"), rf->may_be_empty,
				&f->may_be_empty);
	if (!err && rf->stale_after)
		err = conv_u32(c, path_key(path, fpath, "stale_after"), rf->stale_after,
			       1, BWE_FEED_STALE_AFTER_MAX, &f->stale_after);
	if (!err && rf->max_bytes)
		err = conv_size(c, path_key(path, fpath, "max_bytes"), rf->max_bytes,
				BWE_FEED_MAX_BYTES_MIN, BWE_FEED_MAX_BYTES_MAX, &f->max_bytes);
	if (!err && rf->timeout)
		err = conv_duration(c, path_key(path, fpath, "timeout"), rf->timeout,
				    1, BWE_FEED_TIMEOUT_MAX_S, &f->timeout_s);
	return err;
}

static int load_feeds(struct cfg_ctx *c, const struct raw_cfg *r, struct bwe_cfgfile *cfg)
{
	char fpath[KEYPATH_MAX], path[KEYPATH_MAX], other[KEYPATH_MAX];
	size_t i, j;
	int err;

	if (!r->feeds_count)
		return 0;
	if (r->feeds_count > BWE_CFG_FEEDS_MAX)
		return err_at(c, path_idx(path, "feeds", BWE_CFG_FEEDS_MAX),
			      "at most %d feeds (blocklist ids %d..%d)",
			      BWE_CFG_FEEDS_MAX, BWE_FEED_FIRST, BWE_FEED_MAX);
	cfg->feeds = calloc(r->feeds_count, sizeof(*cfg->feeds));
	if (!cfg->feeds)
		return -ENOMEM;
	for (i = 0; i < r->feeds_count; i++) {
		path_idx(fpath, "feeds", i);
		cfg->n_feeds++;		/* counted before filled: freed on error */
		err = load_feed(c, fpath, &r->feeds[i], &cfg->feeds[i]);
		if (err)
			return err;
		for (j = 0; j < i; j++)
			if (!strcmp(cfg->feeds[j].name, cfg->feeds[i].name))
				return err_at(c, path_key(path, fpath, "name"),
					      "duplicate feed name \"%s\" (also %s)",
					      cfg->feeds[i].name, path_idx(other, "feeds", j));
	}
	return 0;
}

/* ---- policy ----------------------------------------------------------------- */

/* A decimal above 0 ("4", "4.0", ".5"), at most max; no sign, no exponent. */
static int conv_positive(struct cfg_ctx *c, const char *path, const char *s, double max,
			 double *out)
{
	char *end;
	double v;

	if (!*s || strspn(s, "0123456789.") != strlen(s) || strchr(s, '.') != strrchr(s, '.'))
		return err_at(c, path, "\"%s\" is not a number (a decimal such as 4 or 2.5)", s);
	errno = 0;
	v = strtod(s, &end);
	if (*end || errno || !isfinite(v))
		return err_at(c, path, "\"%s\" is not a number (a decimal such as 4 or 2.5)", s);
	if (!(v > 0))
		return err_at(c, path, "%s must be above 0", s);
	if (v > max)
		return err_at(c, path, "%s is above the maximum of %g", s, max);
	*out = v;
	return 0;
}

static int conv_rate(struct cfg_ctx *c, const char *path, const char *s, __u64 *out)
{
	char lo[BWE_RATE_STRLEN], hi[BWE_RATE_STRLEN];
	__u64 v = 0;
	int r = bwe_rate_parse(s, &v);

	if (r == -EINVAL)
		return err_at(c, path,
			      "\"%s\" is not a rate (bits/s with kbit, mbit or gbit, or bytes/s with B/s: \"5mbit\", \"500kbit\", \"2MB/s\")",
			      s);
	if (r) {
		bwe_rate_fmt(BWE_RATE_MIN_BPS, lo, sizeof(lo));
		bwe_rate_fmt(BWE_RATE_MAX_BPS, hi, sizeof(hi));
		return err_at(c, path, "%s is outside %s..%s", s, lo, hi);
	}
	*out = v;
	return 0;
}

/* A window of a signal or a baseline: one interval at least. */
static int conv_window(struct cfg_ctx *c, const char *path, const char *s,
		       const struct bwe_policy *p, __u64 *out)
{
	return conv_duration(c, path, s, p->interval_s, BWE_CFG_WINDOW_MAX_S, out);
}

/* "1m, 5m, 15m" */
static const char *fmt_windows(const struct bwe_policy *p, char *buf, size_t len)
{
	char d[BWE_DURATION_STRLEN];
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < p->n_windows && used < len; i++) {
		bwe_duration_fmt(p->windows_s[i], d, sizeof(d));
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "", d);
	}
	return buf;
}

static int load_windows(struct cfg_ctx *c, const struct raw_policy *rp, struct bwe_policy *p)
{
	static const char key[] = "policy.windows";
	char path[KEYPATH_MAX], other[KEYPATH_MAX];
	size_t i, j;
	int err;

	if (!present(c, key))
		return 0;
	if (!rp->windows_count)
		return err_at(c, key, "at least one window is required");
	if (rp->windows_count > BWE_POLICY_WINDOWS_MAX)
		return err_at(c, path_idx(path, key, BWE_POLICY_WINDOWS_MAX),
			      "at most %d windows", BWE_POLICY_WINDOWS_MAX);
	p->n_windows = 0;
	for (i = 0; i < rp->windows_count; i++) {
		err = conv_window(c, path_idx(path, key, i), rp->windows[i], p, &p->windows_s[i]);
		if (err)
			return err;
		for (j = 0; j < i; j++)
			if (p->windows_s[j] == p->windows_s[i])
				return err_at(c, path, "%s is listed twice (also %s)",
					      rp->windows[i], path_idx(other, key, j));
		p->n_windows++;
	}
	return 0;
}

static int load_spike(struct cfg_ctx *c, const struct raw_spike *r, struct bwe_policy *p)
{
	static const char base[] = "policy.signals.spike";
	struct bwe_policy_spike *o = &p->spike;
	char path[KEYPATH_MAX], list[CY_LINE_MAX], d[BWE_DURATION_STRLEN];
	int err = 0;

	if (r && r->window)
		err = conv_window(c, path_key(path, base, "window"), r->window, p, &o->window_s);
	if (!err && r && r->z)
		err = conv_positive(c, path_key(path, base, "z"), r->z, BWE_CFG_Z_MAX, &o->z);
	if (!err && r && r->min_rate)
		err = conv_rate(c, path_key(path, base, "min_rate"), r->min_rate, &o->min_rate);
	if (!err && r && r->sustain)
		err = conv_u32(c, path_key(path, base, "sustain"), r->sustain, 1,
			       BWE_CFG_SUSTAIN_MAX, &o->sustain);
	if (!err && r && r->min_sd_share)
		err = conv_share(c, path_key(path, base, "min_sd_share"), r->min_sd_share,
				 &o->min_sd_share);
	if (!err && r && r->min_sd_rate)
		err = conv_rate(c, path_key(path, base, "min_sd_rate"), r->min_sd_rate,
				&o->min_sd_rate);
	if (err || bwe_policy_window_index(p, o->window_s) >= 0)
		return err;
	/* also when only policy.windows changed: the default 5m may be gone */
	bwe_duration_fmt(o->window_s, d, sizeof(d));
	return err_at(c, path_key(path, base, "window"),
		      "%s%s is not one of policy.windows (%s)", d,
		      r && r->window ? "" : " (the default)", fmt_windows(p, list, sizeof(list)));
}

static int load_signals(struct cfg_ctx *c, const struct raw_signals *rs, struct bwe_policy *p)
{
	static const char base[] = "policy.signals";
	const struct raw_blocklist *bl = rs ? rs->blocklist : NULL;
	const struct raw_nonstd *ns = rs ? rs->nonstd_ports : NULL;
	const struct raw_upload *up = rs ? rs->upload_ratio : NULL;
	const struct raw_fanout *fo = rs ? rs->fanout : NULL;
	const struct raw_new_host *nh = rs ? rs->new_host : NULL;
	char sig[KEYPATH_MAX], path[KEYPATH_MAX];
	int err;

	err = load_spike(c, rs ? rs->spike : NULL, p);

	path_key(sig, base, "blocklist");
	if (!err && bl && bl->min_hits)
		err = conv_uint(c, path_key(path, sig, "min_hits"), bl->min_hits, 1,
				BWE_CFG_HITS_MAX, &p->blocklist.min_hits);
	if (!err && bl && bl->window)
		err = conv_window(c, path_key(path, sig, "window"), bl->window, p,
				  &p->blocklist.window_s);

	path_key(sig, base, "nonstd_ports");
	if (!err && ns && ns->share)
		err = conv_share(c, path_key(path, sig, "share"), ns->share, &p->nonstd_ports.share);
	if (!err && ns && ns->min_bytes)
		err = conv_size(c, path_key(path, sig, "min_bytes"), ns->min_bytes, 0,
				BWE_CFG_VOLUME_MAX, &p->nonstd_ports.min_bytes);
	if (!err && ns && ns->window)
		err = conv_window(c, path_key(path, sig, "window"), ns->window, p,
				  &p->nonstd_ports.window_s);

	path_key(sig, base, "upload_ratio");
	if (!err && up && up->ratio)
		err = conv_positive(c, path_key(path, sig, "ratio"), up->ratio, BWE_CFG_RATIO_MAX,
				    &p->upload_ratio.ratio);
	if (!err && up && up->min_bytes)
		err = conv_size(c, path_key(path, sig, "min_bytes"), up->min_bytes, 0,
				BWE_CFG_VOLUME_MAX, &p->upload_ratio.min_bytes);
	if (!err && up && up->window)
		err = conv_window(c, path_key(path, sig, "window"), up->window, p,
				  &p->upload_ratio.window_s);

	path_key(sig, base, "fanout");
	if (!err && fo && fo->peers)
		err = conv_u32(c, path_key(path, sig, "peers"), fo->peers, 1, BWE_CFG_PEERS_MAX,
			       &p->fanout.peers);
	if (!err && fo && fo->ports)
		err = conv_u32(c, path_key(path, sig, "ports"), fo->ports, 1, BWE_CFG_PORTS_MAX,
			       &p->fanout.ports);
	if (!err && fo && fo->window)
		err = conv_window(c, path_key(path, sig, "window"), fo->window, p,
				  &p->fanout.window_s);

	path_key(sig, base, "new_host");
	if (!err && nh && nh->bytes)
		err = conv_size(c, path_key(path, sig, "bytes"), nh->bytes, 1, BWE_CFG_VOLUME_MAX,
				&p->new_host.bytes);
	if (!err && nh && nh->window)
		err = conv_window(c, path_key(path, sig, "window"), nh->window, p,
				  &p->new_host.window_s);
	return err;
}

static int conv_rule_name(struct cfg_ctx *c, const char *path, const char *s, char *out)
{
	static const char chars[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-";
	size_t n = strlen(s);

	if (!n || n >= BWE_RULE_NAME_MAX || strspn(s, chars) != n)
		return err_at(c, path, "\"%s\" is not a rule name (1..%d of A-Z a-z 0-9 _ . -)",
			      s, BWE_RULE_NAME_MAX - 1);
	snprintf(out, BWE_RULE_NAME_MAX, "%s", s);
	return 0;
}

static int load_rule_signals(struct cfg_ctx *c, const char *rpath, const struct raw_rule *rr,
			     struct bwe_rule *r)
{
	const char *names[BWE_SIG_MAX];
	char key[KEYPATH_MAX], path[KEYPATH_MAX], other[KEYPATH_MAX];
	unsigned int v, i, j;
	int err;

	for (i = 0; i < BWE_SIG_MAX; i++)
		names[i] = bwe_signal_name((enum bwe_signal_id)i);
	path_key(key, rpath, "signals");
	if (!present(c, key))
		return err_at(c, key, "required key missing");
	if (!rr->signals_count)
		return err_at(c, key, "at least one signal is required");
	for (i = 0; i < rr->signals_count; i++) {
		err = conv_enum(c, path_idx(path, key, i), rr->signals[i], names, BWE_SIG_MAX, &v);
		if (err)
			return err;
		if (r->signals & (1U << v)) {
			for (j = 0; strcmp(rr->signals[j], rr->signals[i]); j++)
				;
			return err_at(c, path, "\"%s\" is listed twice (also %s)", rr->signals[i],
				      path_idx(other, key, j));
		}
		r->signals |= 1U << v;
	}
	return 0;
}

static int load_rule_ttls(struct cfg_ctx *c, const char *rpath, const struct raw_rule *rr,
			  __u64 max_ttl, struct bwe_rule *r)
{
	char key[KEYPATH_MAX], path[KEYPATH_MAX], a[BWE_DURATION_STRLEN], b[BWE_DURATION_STRLEN];
	bool esc;
	size_t i;
	int err;

	path_key(key, rpath, "escalation");
	esc = present(c, key);
	if (r->action == BWE_RESP_ALERT) {
		if (rr->ttl)
			return err_at(c, path_key(path, rpath, "ttl"),
				      "applies only to throttle and quarantine rules");
		if (esc)
			return err_at(c, key, "applies only to throttle and quarantine rules");
		return 0;
	}
	if (!rr->ttl && !esc)
		return err_at(c, path_key(path, rpath, "ttl"),
			      "required for a %s rule (or an escalation list)",
			      bwe_response_name(r->action));
	bwe_duration_fmt(max_ttl, b, sizeof(b));
	if (rr->ttl) {
		err = conv_duration(c, path_key(path, rpath, "ttl"), rr->ttl, 1,
				    BWE_DURATION_MAX_S, &r->ttl_s);
		if (err)
			return err;
		if (r->ttl_s > max_ttl)
			return err_at(c, path, "%s is above max_ttl (%s)", rr->ttl, b);
	}
	if (!esc)
		return 0;
	if (!rr->escalation_count)
		return err_at(c, key, "at least one step is required");
	if (rr->escalation_count > BWE_ESCALATION_MAX)
		return err_at(c, path_idx(path, key, BWE_ESCALATION_MAX), "at most %d steps",
			      BWE_ESCALATION_MAX);
	for (i = 0; i < rr->escalation_count; i++) {
		__u64 *v = &r->escalation_s[i];

		err = conv_duration(c, path_idx(path, key, i), rr->escalation[i], 1,
				    BWE_DURATION_MAX_S, v);
		if (err)
			return err;
		if (*v > max_ttl)
			return err_at(c, path, "%s is above max_ttl (%s)", rr->escalation[i], b);
		if (i && *v < v[-1]) {
			bwe_duration_fmt(v[-1], a, sizeof(a));
			return err_at(c, path, "%s is shorter than the step before (%s)",
				      rr->escalation[i], a);
		}
		r->n_escalation++;
	}
	if (rr->ttl && r->escalation_s[0] != r->ttl_s)
		return err_at(c, path_idx(path, key, 0),
			      "%s differs from ttl (%s): the first step is the first TTL",
			      rr->escalation[0], rr->ttl);
	r->ttl_s = r->escalation_s[0];
	return 0;
}

static int load_rule(struct cfg_ctx *c, const char *rpath, const struct raw_rule *rr,
		     __u64 max_ttl, struct bwe_rule *r)
{
	static const char *const actions[] = { "alert", "throttle", "quarantine" };
	char path[KEYPATH_MAX];
	unsigned int v, n = 0, i;
	int err;

	memset(r, 0, sizeof(*r));
	r->min_signals = 1;
	r->cooldown_s = BWE_RULE_COOLDOWN_S;
	r->repeat_window_s = BWE_RULE_REPEAT_WINDOW_S;

	path_key(path, rpath, "name");
	if (!rr->name)
		return err_at(c, path, "required key missing");
	err = conv_rule_name(c, path, rr->name, r->name);
	if (!err)
		err = load_rule_signals(c, rpath, rr, r);
	if (err)
		return err;
	for (i = 0; i < BWE_SIG_MAX; i++)
		n += !!(r->signals & (1U << i));
	if (rr->min_signals) {
		err = conv_u32(c, path_key(path, rpath, "min_signals"), rr->min_signals, 1,
			       BWE_SIG_MAX, &r->min_signals);
		if (err)
			return err;
		if (r->min_signals > n)
			return err_at(c, path, "%u is more than the %u signal%s listed",
				      r->min_signals, n, n == 1 ? "" : "s");
	}
	path_key(path, rpath, "action");
	if (!rr->action)
		return err_at(c, path, "required key missing");
	err = conv_enum(c, path, rr->action, actions, ARRAY_SIZE(actions), &v);
	if (err)
		return err;
	r->action = (enum bwe_response)(BWE_RESP_ALERT + v);

	path_key(path, rpath, "rate");
	if (r->action == BWE_RESP_THROTTLE && !rr->rate)
		return err_at(c, path, "required for a throttle rule");
	if (r->action != BWE_RESP_THROTTLE && rr->rate)
		return err_at(c, path, "applies only to throttle rules");
	if (rr->rate) {
		err = conv_rate(c, path, rr->rate, &r->rate);
		if (err)
			return err;
	}
	err = load_rule_ttls(c, rpath, rr, max_ttl, r);
	if (!err && rr->cooldown)
		err = conv_duration(c, path_key(path, rpath, "cooldown"), rr->cooldown, 1,
				    BWE_CFG_COOLDOWN_MAX_S, &r->cooldown_s);
	if (!err && rr->repeat_window)
		err = conv_duration(c, path_key(path, rpath, "repeat_window"), rr->repeat_window,
				    1, BWE_DURATION_MAX_S, &r->repeat_window_s);
	return err;
}

static int load_rules(struct cfg_ctx *c, const struct raw_policy *rp, __u64 max_ttl,
		      struct bwe_policy *p)
{
	static const char key[] = "policy.rules";
	char rpath[KEYPATH_MAX], path[KEYPATH_MAX], other[KEYPATH_MAX];
	size_t i, j;
	int err;

	if (!rp || !present(c, key)) {
		/* the default rules, their TTLs cut to max_ttl */
		for (i = 0; i < p->n_rules; i++) {
			if (p->rules[i].ttl_s > max_ttl)
				p->rules[i].ttl_s = max_ttl;
			for (j = 0; j < p->rules[i].n_escalation; j++)
				if (p->rules[i].escalation_s[j] > max_ttl)
					p->rules[i].escalation_s[j] = max_ttl;
		}
		return 0;
	}
	p->n_rules = 0;
	if (rp->rules_count > BWE_POLICY_RULES_MAX)
		return err_at(c, path_idx(path, key, BWE_POLICY_RULES_MAX), "at most %d rules",
			      BWE_POLICY_RULES_MAX);
	for (i = 0; i < rp->rules_count; i++) {
		path_idx(rpath, key, i);
		err = load_rule(c, rpath, &rp->rules[i], max_ttl, &p->rules[i]);
		if (err)
			return err;
		for (j = 0; j < i; j++)
			if (!strcmp(p->rules[j].name, p->rules[i].name))
				return err_at(c, path_key(path, rpath, "name"),
					      "duplicate rule name \"%s\" (also %s)",
					      p->rules[i].name, path_idx(other, key, j));
		p->n_rules++;
	}
	return 0;
}

static int load_policy(struct cfg_ctx *c, const struct raw_policy *rp, struct bwe_cfgfile *cfg)
{
	struct bwe_policy *p = &cfg->policy;
	struct bwe_cfg_prefixes never = { 0 };
	char a[BWE_DURATION_STRLEN], b[BWE_DURATION_STRLEN];
	int err = 0;

	bwe_policy_default(p);
	if (!rp)
		return load_rules(c, NULL, cfg->max_ttl_s, p);
	if (rp->monitor_only)
		err = conv_bool(c, "policy.monitor_only", rp->monitor_only, &p->monitor_only);
	if (!err && rp->interval)
		err = conv_duration(c, "policy.interval", rp->interval, 1, BWE_CFG_INTERVAL_MAX_S,
				    &p->interval_s);
	if (!err && rp->learning_period)
		err = conv_duration(c, "policy.learning_period", rp->learning_period, 1,
				    BWE_CFG_LEARNING_MAX_S, &p->learning_s);
	if (!err && p->learning_s < p->interval_s) {
		bwe_duration_fmt(p->learning_s, a, sizeof(a));
		bwe_duration_fmt(p->interval_s, b, sizeof(b));
		err = err_at(c, "policy.learning_period", "%s is shorter than the interval (%s)",
			     a, b);
	}
	if (!err && rp->hour_of_week)
		err = conv_bool(c, "policy.hour_of_week", rp->hour_of_week, &p->hour_of_week);
	if (!err)
		err = load_windows(c, rp, p);
	if (!err) {
		err = conv_prefixes(c, "policy.never_quarantine", rp->never_quarantine,
				    rp->never_quarantine_count, NULL, 0, &never);
		p->never_quarantine.v = never.v;	/* freed with cfg, also on error */
		p->never_quarantine.n = never.n;
	}
	if (!err && rp->max_quarantines_per_hour)
		err = conv_u32(c, "policy.max_quarantines_per_hour", rp->max_quarantines_per_hour,
			       0, BWE_QUARANTINES_PER_HOUR_MAX, &p->max_quarantines_per_hour);
	if (!err)
		err = load_signals(c, rp->signals, p);
	if (!err)
		err = load_rules(c, rp, cfg->max_ttl_s, p);
	return err;
}

static int load_all(struct cfg_ctx *c, const struct raw_cfg *r, struct bwe_cfgfile *cfg)
{
	int err;

	err = load_ifaces(c, r, cfg);
	if (!err && present(c, "internal_networks") && !r->internal_networks_count)
		err = err_at(c, "internal_networks", "at least one prefix is required");
	if (!err)
		err = conv_prefixes(c, "internal_networks", r->internal_networks,
				    r->internal_networks_count, internal_default,
				    ARRAY_SIZE(internal_default), &cfg->internal);
	if (!err)
		err = conv_prefixes(c, "exempt", r->exempt, r->exempt_count, NULL, 0,
				    &cfg->exempt);
	if (!err)
		err = conv_prefixes(c, "allowlist", r->allowlist, r->allowlist_count,
				    NULL, 0, &cfg->allowlist);
	if (!err)
		err = conv_ports(c, r, cfg);
	if (!err)
		err = load_maps(c, r->maps, cfg);
	if (!err)
		err = check_netclass_room(c, cfg);
	if (!err)
		err = load_paths(c, r->paths, cfg);
	if (!err)
		err = load_group(c, r->control_group, cfg);
	if (!err)
		err = load_globals(c, r, cfg);
	if (!err)
		err = load_feeds(c, r, cfg);
	if (!err)
		err = load_policy(c, r->policy, cfg);
	return err;
}

/* ---- file and entry points ---------------------------------------------- */

static int read_file(struct cfg_ctx *c, unsigned char **out, size_t *len)
{
	unsigned char *buf = NULL;
	size_t n = 0;
	struct stat st;
	ssize_t got;
	int fd, err = 0;

	fd = open(c->file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		cfg_err(c, 0, NULL, "cannot open: %s", strerror(-err));
		return err;
	}
	if (fstat(fd, &st) < 0) {
		err = -errno;
		cfg_err(c, 0, NULL, "cannot stat: %s", strerror(-err));
		goto cleanup;
	}
	if (S_ISDIR(st.st_mode)) {
		err = -EISDIR;
		cfg_err(c, 0, NULL, "is a directory");
		goto cleanup;
	}
	buf = malloc(BWE_CFG_FILE_MAX + 1);	/* one more: detects a larger file */
	if (!buf) {
		err = -ENOMEM;
		goto cleanup;
	}
	while (n <= BWE_CFG_FILE_MAX) {
		got = read(fd, buf + n, BWE_CFG_FILE_MAX + 1 - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			err = -errno;
			cfg_err(c, 0, NULL, "cannot read: %s", strerror(-err));
			goto cleanup;
		}
		if (!got)
			break;
		n += (size_t)got;
	}
	if (n > BWE_CFG_FILE_MAX) {
		err = -EFBIG;
		cfg_err(c, 0, NULL, "larger than %d bytes", BWE_CFG_FILE_MAX);
		goto cleanup;
	}
	*out = buf;
	*len = n;
	buf = NULL;
cleanup:
	free(buf);
	close(fd);
	return err;
}

void bwe_config_free(struct bwe_cfgfile *cfg)
{
	size_t i;

	if (!cfg)
		return;
	free(cfg->path);
	free(cfg->ifaces);
	free(cfg->internal.v);
	free(cfg->exempt.v);
	free(cfg->allowlist.v);
	free(cfg->std_ports);
	free(cfg->paths.pin_dir);
	free(cfg->paths.state_dir);
	free(cfg->paths.socket);
	free(cfg->paths.event_log);
	free(cfg->control_group);
	for (i = 0; i < cfg->n_feeds; i++) {
		free(cfg->feeds[i].name);
		free(cfg->feeds[i].source);
		free(cfg->feeds[i].format);
	}
	free(cfg->feeds);
	free(cfg->policy.never_quarantine.v);
	free(cfg);
}

int bwe_config_load(const char *path, struct bwe_cfgfile **out, char *err, size_t errlen)
{
	struct cfg_ctx c = { .file = path, .err = err, .errlen = errlen };
	const cyaml_config_t cy_cfg = {
		.log_fn = cy_log,
		.log_ctx = &c,
		.mem_fn = cyaml_mem,
		.log_level = CYAML_LOG_ERROR,
		.flags = CYAML_CFG_DEFAULT,	/* unknown keys are errors */
	};
	static const struct raw_cfg raw_empty;
	struct bwe_cfgfile *cfg = NULL;
	struct raw_cfg *raw = NULL;
	unsigned char *buf = NULL;
	cyaml_err_t cy;
	size_t len = 0;
	bool empty;
	int ret;

	if (err && errlen)
		err[0] = '\0';
	if (!path || !out) {
		if (err && errlen)
			snprintf(err, errlen, "bwe_config_load: no file given");
		return -EINVAL;
	}
	ret = read_file(&c, &buf, &len);
	if (ret)
		goto cleanup;
	ret = scan_file(&c, buf, len, &empty);
	if (ret)
		goto cleanup;
	if (empty) {
		ret = cfg_err(&c, 0, "interfaces", "required key missing (the file has no settings)");
		goto cleanup;
	}
	cy = cyaml_load_data(buf, len, &cy_cfg, &schema_top, (cyaml_data_t **)&raw, NULL);
	if (cy != CYAML_OK) {
		ret = cy_report(&c, cy);
		goto cleanup;
	}

	cfg = calloc(1, sizeof(*cfg));
	if (!cfg) {
		ret = -ENOMEM;
		goto cleanup;
	}
	cfg->path = strdup(path);
	if (!cfg->path) {
		ret = -ENOMEM;
		goto cleanup;
	}
	/* A mapping with no known key ("{}") loads as NULL. */
	ret = load_all(&c, raw ? raw : &raw_empty, cfg);
	if (ret)
		goto cleanup;
	*out = cfg;
	cfg = NULL;
cleanup:
	if (ret == -ENOMEM && err && errlen && !err[0])
		cfg_err(&c, 0, NULL, "out of memory");
	bwe_config_free(cfg);
	if (raw)
		cyaml_free(&cy_cfg, &schema_top, raw, 0);
	free(buf);
	lm_free(&c.lm);
	return ret;
}

__u64 bwe_default_burst(const struct bwe_cfgfile *cfg, __u64 rate)
{
	__u64 b;

	if (cfg->default_burst)
		return cfg->default_burst;
	b = rate / BWE_CFG_BURST_AUTO_DIV;
	return b < BWE_CFG_BURST_AUTO_MIN ? BWE_CFG_BURST_AUTO_MIN : b;
}
