// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * config.c - bwenforce.yaml loader; contract in config.h, the file format
 * in docs/man/bwenforce.yaml.5.
 *
 * Every key is one row of a table (struct row, the tables under "the
 * format" below): its name, its kind of YAML node, the converter that reads
 * it with the project's strict parsers (addr.h, units.h), where it goes in
 * the result (offsetof), its limits, its default and whether it is
 * required. A mapping or a sequence of mappings points at a table of its
 * own. Relations between keys (a rule's TTL against max_ttl, the spike
 * window against policy.windows, ...) are checks attached to a row or a
 * table. "Did you mean" and bwe_config_keys() read the same tables.
 *
 * Three passes over one in-memory copy of the file:
 *
 *  1. libyaml events into a small tree (build_*): syntax, exactly one
 *     document, a mapping at the top, no duplicate keys, no aliases, and
 *     the line each key (or sequence entry) is written on.
 *  2. The tree against the tables (shape_*): unknown keys and node kinds,
 *     in file order.
 *  3. The tables over the tree (walk_*): conversion, limits, defaults and
 *     checks, in table order.
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
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "blocklist.h"
#include "bwe_util.h"
#include "config.h"
#include "crowdsec.h"
#include "misp.h"
#include "syslogfmt.h"
#include "taxii.h"

#define FMT_CROWDSEC	"crowdsec-lapi" /* the format whose keys check_feed_auth judges */
#define KEYPATH_MAX	256		/* bytes of "feeds[12].min_prefix_v4" and NUL */
#define MSG_MAX		512		/* bytes of one message */
#define KEYSET_MIN_CAP	16		/* slots; a power of two */
#define NODE_MIN_CAP	4		/* children of a node */
#define SUGGEST_DIST	2		/* edits for a "did you mean" */
#define SUGGEST_LEN_MAX 64		/* longer unknown keys get no suggestion */
#define DECIMAL_BASE	10ULL
#define PORT_MAX	65535
#define MS_PER_S	1000ULL /* beacon.burst_ms against min_period */
#define V4_PLEN_MAX	32
#define V6_PLEN_MAX	128
#define FNV64_OFFSET	0xcbf29ce484222325ULL
#define FNV64_PRIME	0x100000001b3ULL
#define NO_COUNT	SIZE_MAX /* struct row.n_off: the list keeps no count */
#define XSTR(x)		STR_(x)
#define STR_(x)		#x

/* Characters of feed, rule and group names (a group's first: no '-'); of user names. */
#define NAME_FIRST "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_."
#define NAME_CHARS NAME_FIRST "-"
#define USER_FIRST "abcdefghijklmnopqrstuvwxyz_"
#define USER_CHARS USER_FIRST "0123456789-"

_Static_assert(sizeof(enum bwe_attach_mode) == sizeof(int) && sizeof(enum bwe_nat) == sizeof(int) &&
		       sizeof(enum bwe_fast_forward) == sizeof(int) &&
		       sizeof(enum bwe_feed_action) == sizeof(int) &&
		       sizeof(enum bwe_feed_signal) == sizeof(int) &&
		       sizeof(enum bwe_response) == sizeof(int),
	       "enums are stored as int");

static const char *const mode_names[] = {
	[BWE_MODE_AUTO] = "auto",
	[BWE_MODE_NATIVE] = "native",
	[BWE_MODE_GENERIC] = "generic",
};

static const char *const nat_names[] = {
	[BWE_NAT_NONE] = "none",
	[BWE_NAT_IPV4] = "ipv4",
	[BWE_NAT_IPV6] = "ipv6",
	[BWE_NAT_BOTH] = "both",
};

static const char *const ff_names[] = {
	[BWE_FF_OFF] = "off",
	[BWE_FF_FIB] = "fib",
	[BWE_FF_FLOWTABLE] = "flowtable",
};

static const char *const action_names[] = {
	[BWE_ACT_DROP] = "drop",
	[BWE_ACT_MONITOR] = "monitor",
};

const char *bwe_attach_mode_name(enum bwe_attach_mode m)
{
	return (unsigned int)m < ARRAY_SIZE(mode_names) ? mode_names[m] : "?";
}

const char *bwe_nat_name(enum bwe_nat n)
{
	return (unsigned int)n < ARRAY_SIZE(nat_names) ? nat_names[n] : "?";
}

const char *bwe_fast_forward_name(enum bwe_fast_forward f)
{
	return (unsigned int)f < ARRAY_SIZE(ff_names) ? ff_names[f] : "?";
}

const char *bwe_feed_action_name(enum bwe_feed_action a)
{
	return (unsigned int)a < ARRAY_SIZE(action_names) ? action_names[a] : "?";
}

static const char *const feed_signal_names[] = {
	[BWE_FSIG_BLOCKLIST] = "blocklist",
	[BWE_FSIG_PROXYWARE] = "proxyware",
};

const char *bwe_feed_signal_name(enum bwe_feed_signal sig)
{
	return (unsigned int)sig < ARRAY_SIZE(feed_signal_names) ? feed_signal_names[sig] : "?";
}

enum bwe_feed_signal bwe_cfg_feed_signal(const struct bwe_cfgfile *cfg, const char *feed)
{
	size_t i;

	for (i = 0; cfg && feed && i < cfg->n_feeds; i++)
		if (!strcmp(cfg->feeds[i].name, feed))
			return cfg->feeds[i].signal;
	return BWE_FSIG_BLOCKLIST;
}

/* ---- the document as a tree ------------------------------------------------ */

enum node_kind { N_SCALAR, N_SEQ, N_MAP };

struct node {
	char *key;	   /* an entry of a mapping: its key; else NULL */
	char *text;	   /* N_SCALAR: the value */
	struct node *kids; /* N_SEQ: the entries; N_MAP: the values, with .key */
	size_t n, cap;
	unsigned int line; /* 1-based: of the key, or of the sequence entry */
	enum node_kind kind;
	bool null; /* "", "~" or "null": "none" where allowed */
};

static void node_free(struct node *n)
{
	size_t i;

	for (i = 0; i < n->n; i++)
		node_free(&n->kids[i]);
	free(n->kids);
	free(n->key);
	free(n->text);
}

/* A new zeroed child; valid until the next child of the same parent. */
static struct node *node_add(struct node *parent)
{
	struct node *v;

	if (parent->n == parent->cap) {
		size_t cap = parent->cap ? parent->cap * 2 : NODE_MIN_CAP;

		v = reallocarray(parent->kids, cap, sizeof(*v));
		if (!v)
			return NULL;
		parent->kids = v;
		parent->cap = cap;
	}
	v = &parent->kids[parent->n++];
	memset(v, 0, sizeof(*v));
	return v;
}

/* The entry key of a mapping; NULL when map is NULL or lacks it. */
static const struct node *node_find(const struct node *map, const char *key)
{
	size_t i;

	for (i = 0; map && i < map->n; i++)
		if (!strcmp(map->kids[i].key, key))
			return &map->kids[i];
	return NULL;
}

/* ---- errors ---------------------------------------------------------------- */

struct cfg_ctx {
	const char *file;
	char *err;
	size_t errlen;
	struct bwe_cfgfile *cfg; /* being filled: checks read other keys */
};

/* Where a value is: its key path and line (0: none, e.g. a default). */
struct where {
	const char *path;
	unsigned int line;
};

/* "FILE:LINE: PATH: message"; no ":LINE" when line is 0, no "PATH: " when empty. */
static int __attribute__((format(printf, 4, 0)))
cfg_verr(struct cfg_ctx *c, unsigned int line, const char *path, const char *fmt, va_list ap)
{
	char msg[MSG_MAX];
	char where[sizeof(msg)] = "";

	if (!c->err || !c->errlen)
		return -EINVAL;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (line)
		snprintf(where, sizeof(where), ":%u", line);
	snprintf(c->err, c->errlen, "%s%s: %s%s%s", c->file, where, path ? path : "",
		 path && *path ? ": " : "", msg);
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

static int __attribute__((format(printf, 3, 4)))
err_at(struct cfg_ctx *c, const struct where *at, const char *fmt, ...)
{
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = cfg_verr(c, at->line, at->path, fmt, ap);
	va_end(ap);
	return err;
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

static const char *kind_name(enum node_kind k)
{
	static const char *const names[] = {
		[N_SCALAR] = "a scalar value",
		[N_SEQ] = "a sequence",
		[N_MAP] = "a mapping",
	};

	return names[k];
}

/* ---- pass 1: libyaml events into a tree -------------------------------------- */

static __u64 fnv1a(const char *s)
{
	__u64 h = FNV64_OFFSET;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * FNV64_PRIME;
	return h;
}

/*
 * The keys of one mapping being built, to find a repeat without a quadratic
 * search (a file may hold a mapping of thousands of unknown keys). Open
 * addressing; a slot holds an index into map->kids plus one, 0 when free.
 */
struct keyset {
	size_t *slot;
	size_t n, cap; /* cap: 0 or a power of two */
};

static size_t *ks_slot(size_t *slot, size_t cap, const struct node *map, const char *key)
{
	size_t i = (size_t)fnv1a(key) & (cap - 1);

	while (slot[i] && strcmp(map->kids[slot[i] - 1].key, key))
		i = (i + 1) & (cap - 1);
	return &slot[i];
}

/* 0 when map->kids[idx] is new, else 1 + the index of its first occurrence. */
static ssize_t ks_add(struct keyset *ks, const struct node *map, size_t idx)
{
	size_t *s, i;

	if ((ks->n + 1) * 2 > ks->cap) { /* keep the load at most one half */
		size_t cap = ks->cap ? ks->cap * 2 : KEYSET_MIN_CAP;
		size_t *v = calloc(cap, sizeof(*v));

		if (!v)
			return -ENOMEM;
		for (i = 0; i < ks->cap; i++)
			if (ks->slot[i])
				*ks_slot(v, cap, map, map->kids[ks->slot[i] - 1].key) = ks->slot[i];
		free(ks->slot);
		ks->slot = v;
		ks->cap = cap;
	}
	s = ks_slot(ks->slot, ks->cap, map, map->kids[idx].key);
	if (*s)
		return (ssize_t)*s;
	*s = idx + 1;
	ks->n++;
	return 0;
}

struct build {
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
		return kind_name(N_SCALAR);
	case YAML_SEQUENCE_START_EVENT:
		return kind_name(N_SEQ);
	case YAML_MAPPING_START_EVENT:
		return kind_name(N_MAP);
	case YAML_ALIAS_EVENT:
		return "an alias";
	default:
		return "something else";
	}
}

static int build_syntax_error(struct build *b)
{
	const yaml_parser_t *p = &b->parser;
	unsigned int line = (unsigned int)p->problem_mark.line + 1;
	size_t i;

	if (p->error == YAML_MEMORY_ERROR)
		return -ENOMEM;
	/*
	 * The scanner notices a missing ':' or quote only at the next token,
	 * often on a later line; the token it was scanning is the culprit.
	 */
	if (p->error == YAML_SCANNER_ERROR && p->context)
		line = (unsigned int)p->context_mark.line + 1;
	if (p->error == YAML_READER_ERROR) { /* encoding: only an offset is known */
		line = 1;
		for (i = 0; i < p->problem_offset && i < b->len; i++)
			line += b->buf[i] == '\n';
	}
	if (p->context && p->context_mark.line + 1 == line)
		return cfg_err(b->c, line, NULL, "YAML syntax error: %s (%s)",
			       p->problem ? p->problem : "?", p->context);
	if (p->context)
		return cfg_err(b->c, line, NULL, "YAML syntax error: %s (%s started on line %zu)",
			       p->problem ? p->problem : "?", p->context, p->context_mark.line + 1);
	return cfg_err(b->c, line, NULL, "YAML syntax error: %s", p->problem ? p->problem : "?");
}

static int build_next(struct build *b, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&b->parser, ev))
		return build_syntax_error(b);
	return 0;
}

static int build_node(struct build *b, const yaml_event_t *ev, struct node *n, const char *path,
		      unsigned int depth);

static int build_sequence(struct build *b, struct node *seq, const char *path, unsigned int depth)
{
	char child[KEYPATH_MAX];
	struct node *item;
	yaml_event_t ev;
	int err;

	for (;;) {
		err = build_next(b, &ev);
		if (err)
			return err;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			return 0;
		}
		path_idx(child, path, seq->n);
		item = node_add(seq);
		err = -ENOMEM;
		if (item) {
			item->line = ev_line(&ev);
			err = build_node(b, &ev, item, child, depth + 1);
		}
		yaml_event_delete(&ev);
		if (err)
			return err;
	}
}

static int build_entry(struct build *b, struct keyset *ks, struct node *map, const char *path,
		       const yaml_event_t *key, unsigned int depth)
{
	char child[KEYPATH_MAX];
	struct node *e;
	yaml_event_t val;
	ssize_t seen;
	int err;

	if (key->type != YAML_SCALAR_EVENT)
		return cfg_err(b->c, ev_line(key), path, "a key must be a plain name, not %s",
			       ev_kind(key->type));
	e = node_add(map);
	if (!e)
		return -ENOMEM;
	e->line = ev_line(key);
	e->key = strdup((const char *)key->data.scalar.value);
	if (!e->key)
		return -ENOMEM;
	seen = ks_add(ks, map, map->n - 1);
	if (seen < 0)
		return (int)seen;
	if (seen)
		return cfg_err(b->c, e->line, path, "duplicate key \"%s\" (first on line %u)",
			       e->key, map->kids[seen - 1].line);
	path_key(child, path, e->key);
	err = build_next(b, &val);
	if (err)
		return err;
	err = build_node(b, &val, &map->kids[map->n - 1], child, depth + 1);
	yaml_event_delete(&val);
	return err;
}

static int build_mapping(struct build *b, struct node *map, const char *path, unsigned int depth)
{
	struct keyset ks = { 0 };
	yaml_event_t key;
	int err;

	for (;;) {
		err = build_next(b, &key);
		if (err)
			break;
		if (key.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&key);
			break;
		}
		err = build_entry(b, &ks, map, path, &key, depth);
		yaml_event_delete(&key);
		if (err)
			break;
	}
	free(ks.slot);
	return err;
}

/*
 * "", "~" or "null" (YAML 1.2 core schema); quoted too unless plain_only,
 * as earlier versions read them: control_group: "" means none.
 */
static bool is_null(const yaml_event_t *ev, bool plain_only)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };
	const char *v = (const char *)ev->data.scalar.value;
	size_t i;

	if (plain_only && !ev->data.scalar.plain_implicit)
		return false;
	for (i = 0; i < ARRAY_SIZE(nulls); i++)
		if (!strcmp(v, nulls[i]))
			return true;
	return false;
}

static int build_node(struct build *b, const yaml_event_t *ev, struct node *n, const char *path,
		      unsigned int depth)
{
	if ((ev->type == YAML_SEQUENCE_START_EVENT || ev->type == YAML_MAPPING_START_EVENT) &&
	    depth > BWE_CFG_DEPTH_MAX)
		return cfg_err(b->c, ev_line(ev), path, "nested deeper than %d levels",
			       BWE_CFG_DEPTH_MAX);
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		n->kind = N_SCALAR;
		n->null = is_null(ev, false);
		n->text = strdup((const char *)ev->data.scalar.value);
		return n->text ? 0 : -ENOMEM;
	case YAML_SEQUENCE_START_EVENT:
		n->kind = N_SEQ;
		return build_sequence(b, n, path, depth);
	case YAML_MAPPING_START_EVENT:
		n->kind = N_MAP;
		return build_mapping(b, n, path, depth);
	default:
		/*
		 * Replayed anchors grow a small file without bound ("billion
		 * laughs"), and a value reached through an alias has no line of
		 * its own. Write values out instead.
		 */
		return cfg_err(b->c, ev_line(ev), path,
			       "YAML aliases (*%s) are not supported: write the value out",
			       ev->type == YAML_ALIAS_EVENT ? (const char *)ev->data.alias.anchor
							    : "?");
	}
}

/* Expect the next event to be of type t; anything else is odd YAML. */
static int build_expect(struct build *b, yaml_event_type_t t)
{
	yaml_event_t ev;
	int err = build_next(b, &ev);

	if (err)
		return err;
	if (ev.type != t && t == YAML_STREAM_END_EVENT && ev.type == YAML_DOCUMENT_START_EVENT)
		err = cfg_err(b->c, ev_line(&ev), NULL,
			      "a second YAML document: the file must hold exactly one");
	else if (ev.type != t)
		err = cfg_err(b->c, ev_line(&ev), NULL, "unexpected YAML event %d", ev.type);
	yaml_event_delete(&ev);
	return err;
}

/*
 * Pass 1: the mapping at the top into root. A file with no document, or
 * an empty one, leaves root->kind N_SCALAR.
 */
static int build_file(struct cfg_ctx *c, const unsigned char *buf, size_t len, struct node *root)
{
	struct build b = { .c = c, .buf = buf, .len = len };
	yaml_event_t ev;
	int err;

	if (!yaml_parser_initialize(&b.parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&b.parser, buf, len);

	err = build_expect(&b, YAML_STREAM_START_EVENT);
	if (!err)
		err = build_next(&b, &ev);
	if (err)
		goto cleanup;
	if (ev.type == YAML_STREAM_END_EVENT) {
		yaml_event_delete(&ev);
		goto cleanup;
	}
	yaml_event_delete(&ev); /* DOCUMENT_START */

	err = build_next(&b, &ev);
	if (err)
		goto cleanup;
	if (ev.type == YAML_MAPPING_START_EVENT) {
		root->kind = N_MAP;
		err = build_mapping(&b, root, "", 1);
	} else if (ev.type != YAML_SCALAR_EVENT || !is_null(&ev, true)) {
		err = cfg_err(c, ev_line(&ev), NULL,
			      "the top level must be a mapping of keys, not %s", ev_kind(ev.type));
	}
	yaml_event_delete(&ev);
	if (!err)
		err = build_expect(&b, YAML_DOCUMENT_END_EVENT);
	if (!err)
		err = build_expect(&b, YAML_STREAM_END_EVENT);
cleanup:
	yaml_parser_delete(&b.parser);
	return err;
}

/* ---- the tables ------------------------------------------------------------- */

/* One converted value; zeroed before conversion, so it compares with memcmp. */
struct cfg_val {
	__u64 u;
	double d;
	const char *s; /* points into the tree or at a constant */
	struct bwe_prefix p;
};

enum row_kind {
	K_SCALAR, /* one value through conv */
	K_LIST,	  /* a sequence of values, each through conv */
	K_MAP,	  /* a mapping: the rows of sub, on the same struct plus off */
	K_MAPS,	  /* a sequence of mappings: one struct of sub->size each */
};

/* How a converted value is written. */
enum store {
	S_U16,
	S_U32,
	S_U64,
	S_INT, /* bool, enum */
	S_DOUBLE,
	S_STR,	  /* char *, strdup()ed */
	S_CHARS,  /* char[max + 1] */
	S_PREFIX, /* struct bwe_prefix */
	S_BIT,	  /* __u32 |= 1 << u: a list that is a set */
};

enum row_flag {
	F_REQ = 1,    /* absent: "required key missing" */
	F_NULL = 2,   /* "", "~" or "null" means none (empty, all defaults) */
	F_UNIQUE = 4, /* K_LIST: no entry twice; in a K_MAPS table: no two entries alike */
	F_HEAP = 8,   /* K_LIST, K_MAPS: an array allocated at off; else one in place */
};

struct row;
struct table;

/* The mapping being walked. */
struct sect {
	const struct node *map; /* NULL: absent or null */
	const char *path;	/* "" at the top */
	unsigned int line;	/* of map, or of its closest written ancestor */
	void *base;		/* what the rows' offsets count from */
	const char *seq_path;	/* an entry of a sequence of mappings: its path */
	size_t idx;		/* and index; the entries before it precede base */
};

typedef int conv_fn(struct cfg_ctx *c, const struct row *r, const struct where *at, const char *s,
		    struct cfg_val *v);
/* After a row is walked; n is its node, NULL when absent. */
typedef int row_check_fn(struct cfg_ctx *c, const struct row *r, const struct node *n,
			 const struct where *at);
typedef int table_check_fn(struct cfg_ctx *c, const struct sect *s);

struct row {
	const char *key;
	enum row_kind kind;
	conv_fn *conv;	  /* K_SCALAR, K_LIST */
	enum store store; /* K_SCALAR, K_LIST */
	size_t off;	  /* into the section's struct */
	size_t n_off;	  /* K_LIST, K_MAPS: its size_t count, or NO_COUNT */
	__u64 min, max;	  /* conv's limits; of a string: its length */
	bool has_def;	  /* absent: def is stored */
	struct cfg_val def;
	const char *const *def_list; /* K_LIST: absent means these, NULL-terminated */
	const void *arg;	     /* conv's: struct cfg_enum, struct cfg_name */
	const struct table *sub;     /* K_MAP, K_MAPS */
	unsigned int flags;	     /* enum row_flag */
	size_t min_n, max_n;	     /* K_LIST, K_MAPS entries; max_n 0: no limit */
	const char *noun;	     /* an entry, for the counts; "duplicate <noun>" */
	const char *more;	     /* after "at most N <noun>s" */
	const char *dup;	     /* K_LIST F_UNIQUE: a repeat is named by this and its
					 * text; NULL: by its text in quotes */
	row_check_fn *check;
};

struct table {
	const struct row *rows;
	size_t n;
	size_t size;		  /* bytes of one entry, in a K_MAPS row */
	void (*init)(void *base); /* before the rows: defaults that rows lack */
	table_check_fn *check;	  /* after the rows */
};

#define TABLE(r, ...) \
	{ \
		.rows = r, .n = ARRAY_SIZE(r), __VA_ARGS__ \
	}
#define DEF_U(x)    .has_def = true, .def = { .u = (x) }
#define DEF_D(x)    .has_def = true, .def = { .d = (x) }
#define DEF_S(x)    .has_def = true, .def = { .s = (x) }
#define LIM(lo, hi) .min = (lo), .max = (hi)
/* A scalar key: name, converter, store, struct, field, and more. */
#define SCALAR(k, cv, st, type, field, ...) \
	{ \
		.key = k, .kind = K_SCALAR, .conv = cv, .store = st, .off = offsetof(type, field), \
		__VA_ARGS__ \
	}
/* A list of scalars in field, counted in count. */
#define LIST(k, cv, st, type, field, count, ...) \
	{ \
		.key = k, .kind = K_LIST, .conv = cv, .store = st, .off = offsetof(type, field), \
		.n_off = offsetof(type, count), __VA_ARGS__ \
	}
#define MAP(k, tbl, off_, ...) \
	{ \
		.key = k, .kind = K_MAP, .sub = &(tbl), .off = (off_), .flags = F_NULL, \
		__VA_ARGS__ \
	}
#define MAPS(k, tbl, type, field, count, ...) \
	{ \
		.key = k, .kind = K_MAPS, .sub = &(tbl), .off = offsetof(type, field), \
		.n_off = offsetof(type, count), __VA_ARGS__ \
	}

/* ---- converters: text to struct cfg_val, within the row's limits ---------- */

/* An enum's names; the value stored is base + the index. */
struct cfg_enum {
	const char *const *names;
	size_t n;
	unsigned int base;
};

/* A name of chars, first of first (NULL: any of chars), row min..max bytes. */
struct cfg_name {
	const char *what; /* "feed name" */
	const char *chars, *first;
	const char *shown; /* chars as a person reads them */
	const char *note;  /* after shown */
};

/* v (written as s) against min..max; the bounds as the user writes them. */
static int check_range(struct cfg_ctx *c, const struct where *at, const char *s, bool too_big,
		       __u64 v, __u64 min, __u64 max, const char *lo, const char *hi)
{
	if (!too_big && v < min)
		return err_at(c, at, "%s is below the minimum of %s", s, lo);
	if (too_big || v > max)
		return err_at(c, at, "%s is above the maximum of %s", s, hi);
	return 0;
}

/* Decimal digits only: no sign, no "0x", no exponent. */
static int conv_uint(struct cfg_ctx *c, const struct row *r, const struct where *at, const char *s,
		     struct cfg_val *v)
{
	char lo[BWE_DURATION_STRLEN], hi[BWE_DURATION_STRLEN];
	bool too_big = false;
	const char *p;

	if (!*s)
		return err_at(c, at, "a whole number is required");
	for (p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return err_at(c, at, "\"%s\" is not a whole number", s);
		if (__builtin_mul_overflow(v->u, DECIMAL_BASE, &v->u) ||
		    __builtin_add_overflow(v->u, (__u64)(*p - '0'), &v->u))
			too_big = true;
	}
	snprintf(lo, sizeof(lo), "%llu", (unsigned long long)r->min);
	snprintf(hi, sizeof(hi), "%llu", (unsigned long long)r->max);
	return check_range(c, at, s, too_big, v->u, r->min, r->max, lo, hi);
}

/* YAML 1.2 core schema booleans. */
static int conv_bool(struct cfg_ctx *c, const struct row *r, const struct where *at, const char *s,
		     struct cfg_val *v)
{
	static const char *const yes[] = { "true", "True", "TRUE" };
	static const char *const no[] = { "false", "False", "FALSE" };
	size_t i;

	(void)r;
	for (i = 0; i < ARRAY_SIZE(yes); i++) {
		if (!strcmp(s, yes[i]) || !strcmp(s, no[i])) {
			v->u = !strcmp(s, yes[i]);
			return 0;
		}
	}
	return err_at(c, at, "\"%s\" is not true or false", s);
}

/* A plain decimal ("0.5", "1", ".25"): no sign, no exponent; -EINVAL else. */
static int parse_decimal(const char *s, double *out)
{
	char *end;

	if (!*s || strspn(s, "0123456789.") != strlen(s) || strchr(s, '.') != strrchr(s, '.'))
		return -EINVAL;
	errno = 0;
	*out = strtod(s, &end);
	return *end || errno || !isfinite(*out) ? -EINVAL : 0;
}

/* A share 0..1. */
static int conv_share(struct cfg_ctx *c, const struct row *r, const struct where *at, const char *s,
		      struct cfg_val *v)
{
	(void)r;
	if (parse_decimal(s, &v->d))
		return err_at(c, at, "\"%s\" is not a number (a share from 0 to 1)", s);
	if (v->d > 1.0)
		return err_at(c, at, "%s is outside 0..1 (a share: 0.5 is half)", s);
	return 0;
}

/* A decimal above 0 ("4", "4.0", ".5"), at most the row's max. */
static int conv_positive(struct cfg_ctx *c, const struct row *r, const struct where *at,
			 const char *s, struct cfg_val *v)
{
	if (parse_decimal(s, &v->d))
		return err_at(c, at, "\"%s\" is not a number (a decimal such as 4 or 2.5)", s);
	if (!(v->d > 0))
		return err_at(c, at, "%s must be above 0", s);
	if (v->d > (double)r->max)
		return err_at(c, at, "%s is above the maximum of %g", s, (double)r->max);
	return 0;
}

static int duration_in(struct cfg_ctx *c, const struct where *at, const char *s, __u64 min,
		       __u64 max, struct cfg_val *v)
{
	char lo[BWE_DURATION_STRLEN], hi[BWE_DURATION_STRLEN];
	int r = bwe_duration_parse(s, &v->u);

	if (r == -EINVAL)
		return err_at(
			c, at,
			"\"%s\" is not a duration (a whole number and s, m, h or d: \"30s\", \"15m\", \"2h\", \"7d\")",
			s);
	bwe_duration_fmt(min, lo, sizeof(lo));
	bwe_duration_fmt(max, hi, sizeof(hi));
	return check_range(c, at, s, r != 0, v->u, min, max, lo, hi);
}

static int conv_duration(struct cfg_ctx *c, const struct row *r, const struct where *at,
			 const char *s, struct cfg_val *v)
{
	return duration_in(c, at, s, r->min, r->max, v);
}

/* A duration, or "off" (also "0"): 0. */
static int conv_duration_off(struct cfg_ctx *c, const struct row *r, const struct where *at,
			     const char *s, struct cfg_val *v)
{
	if (!strcmp(s, "off") || !strcmp(s, "0")) {
		v->u = 0;
		return 0;
	}
	if (bwe_duration_parse(s, &v->u) == -EINVAL)
		return err_at(
			c, at,
			"\"%s\" is not a duration or off (a whole number and s, m, h or d: \"30m\", \"2h\", \"7d\"; \"off\" or 0: never)",
			s);
	return duration_in(c, at, s, r->min, r->max, v);
}

/* A window of a signal or a baseline: one policy.interval at least. */
static int conv_window(struct cfg_ctx *c, const struct row *r, const struct where *at,
		       const char *s, struct cfg_val *v)
{
	return duration_in(c, at, s, c->cfg->policy.interval_s, r->max, v);
}

static int conv_size(struct cfg_ctx *c, const struct row *r, const struct where *at, const char *s,
		     struct cfg_val *v)
{
	char lo[BWE_DURATION_STRLEN + sizeof(" bytes")], hi[sizeof(lo)];
	int ret = bwe_size_parse(s, &v->u);

	if (ret == -EINVAL)
		return err_at(
			c, at,
			"\"%s\" is not a size (bytes, or with k, M, G, T: \"1500\", \"64k\", \"256M\")",
			s);
	snprintf(lo, sizeof(lo), "%llu bytes", (unsigned long long)r->min);
	snprintf(hi, sizeof(hi), "%llu bytes", (unsigned long long)r->max);
	return check_range(c, at, s, ret != 0, v->u, r->min, r->max, lo, hi);
}

static int conv_rate(struct cfg_ctx *c, const struct row *r, const struct where *at, const char *s,
		     struct cfg_val *v)
{
	char lo[BWE_RATE_STRLEN], hi[BWE_RATE_STRLEN];
	int ret = bwe_rate_parse(s, &v->u);

	(void)r;
	if (ret == -EINVAL)
		return err_at(
			c, at,
			"\"%s\" is not a rate (bits/s with kbit, mbit or gbit, or bytes/s with B/s: \"5mbit\", \"500kbit\", \"2MB/s\")",
			s);
	if (ret) {
		bwe_rate_fmt(BWE_RATE_MIN_BPS, lo, sizeof(lo));
		bwe_rate_fmt(BWE_RATE_MAX_BPS, hi, sizeof(hi));
		return err_at(c, at, "%s is outside %s..%s", s, lo, hi);
	}
	return 0;
}

static int enum_error(struct cfg_ctx *c, const struct where *at, const char *s,
		      const char *const *names, size_t n)
{
	char list[MSG_MAX] = "";
	size_t i, used = 0;

	for (i = 0; i < n && used < sizeof(list); i++)
		used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "",
					 names[i]);
	return err_at(c, at, "\"%s\" is not one of %s", s, list);
}

/* v->u: base + the index; v->s: the name. */
static int conv_enum(struct cfg_ctx *c, const struct row *r, const struct where *at, const char *s,
		     struct cfg_val *v)
{
	const struct cfg_enum *e = r->arg;
	size_t i;

	for (i = 0; i < e->n; i++) {
		if (!strcmp(s, e->names[i])) {
			v->u = e->base + i;
			v->s = e->names[i];
			return 0;
		}
	}
	return enum_error(c, at, s, e->names, e->n);
}

/* A signal of detect.h, by its name there. */
static int conv_signal(struct cfg_ctx *c, const struct row *r, const struct where *at,
		       const char *s, struct cfg_val *v)
{
	const char *names[BWE_SIG_MAX];
	unsigned int i;

	(void)r;
	v->u = bwe_signal_from_name(s);
	if (v->u < BWE_SIG_MAX)
		return 0;
	for (i = 0; i < BWE_SIG_MAX; i++)
		names[i] = bwe_signal_name((enum bwe_signal_id)i);
	return enum_error(c, at, s, names, BWE_SIG_MAX);
}

static int conv_name(struct cfg_ctx *c, const struct row *r, const struct where *at, const char *s,
		     struct cfg_val *v)
{
	const struct cfg_name *nm = r->arg;
	size_t n = strlen(s);

	if (n < r->min || n > r->max || strspn(s, nm->chars) != n ||
	    (n && nm->first && !strchr(nm->first, s[0])))
		return err_at(c, at, "\"%s\" is not a %s (%s%llu of %s%s)", s, nm->what,
			      r->min ? "1.." : "up to ", (unsigned long long)r->max, nm->shown,
			      nm->note ? nm->note : "");
	v->s = s;
	return 0;
}

/* Printable ASCII text of row min..max bytes (a CrowdSec origin or scenario part). */
static int conv_text(struct cfg_ctx *c, const struct row *r, const struct where *at, const char *s,
		     struct cfg_val *v)
{
	size_t n = strlen(s);
	const char *p;

	for (p = s; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			return err_at(c, at, "\"%s\" holds a byte that is not printable ASCII", s);
	if (n < r->min || n > r->max)
		return err_at(c, at, "\"%s\" is not %llu..%llu bytes long", s,
			      (unsigned long long)r->min, (unsigned long long)r->max);
	v->s = s;
	return 0;
}

/* A MISP "last" window: digits then d, h, m, s or w (misp.h). */
static int conv_misp_last(struct cfg_ctx *c, const struct row *r, const struct where *at,
			  const char *s, struct cfg_val *v)
{
	(void)r;
	if (bwe_misp_last_check(s))
		return err_at(c, at,
			      "\"%s\" is not a MISP window (digits, then d, h, m, s or w: 30d, "
			      "12h)",
			      s);
	v->s = s;
	return 0;
}

/* An HTTP basic user name: printable, no blank, no ':' (RFC 7617). */
static int conv_basic_user(struct cfg_ctx *c, const struct row *r, const struct where *at,
			   const char *s, struct cfg_val *v)
{
	const char *p;

	for (p = s; *p; p++)
		if (*p <= ' ' || *p > 0x7e || *p == ':')
			return err_at(c, at,
				      "\"%s\" is not an HTTP basic user name (printable ASCII, no "
				      "blank, no ':')",
				      s);
	return conv_text(c, r, at, s, v);
}

/* Like the kernel's dev_valid_name(). */
static int conv_ifname(struct cfg_ctx *c, const struct row *r, const struct where *at,
		       const char *s, struct cfg_val *v)
{
	const char *p;

	if (!*s || strlen(s) > r->max)
		return err_at(c, at, "\"%s\" is not an interface name (1..%llu characters)", s,
			      (unsigned long long)r->max);
	if (!strcmp(s, ".") || !strcmp(s, ".."))
		return err_at(c, at, "\"%s\" is not an interface name", s);
	for (p = s; *p; p++)
		if (*p == '/' || *p == ':' || isspace((unsigned char)*p) ||
		    iscntrl((unsigned char)*p))
			return err_at(c, at,
				      "\"%s\" is not an interface name (no '/', ':' or white space)",
				      s);
	v->s = s;
	return 0;
}

static int conv_abs_path(struct cfg_ctx *c, const struct row *r, const struct where *at,
			 const char *s, struct cfg_val *v)
{
	if (s[0] != '/')
		return err_at(c, at, "must be an absolute path, not \"%s\"", s);
	if (r->max && strlen(s) > r->max)
		return err_at(c, at, "longer than %llu bytes", (unsigned long long)r->max);
	v->s = s;
	return 0;
}

/* Absolute path, or http(s)://host...; no white space or control characters. */
static int conv_source(struct cfg_ctx *c, const struct row *r, const struct where *at,
		       const char *s, struct cfg_val *v)
{
	static const char *const schemes[] = { "http://", "https://" };
	bool ok = s[0] == '/';
	const char *p;
	size_t i, n;

	(void)r;
	for (i = 0; i < ARRAY_SIZE(schemes) && !ok; i++) {
		n = strlen(schemes[i]);
		ok = !strncasecmp(s, schemes[i], n) && s[n] && s[n] != '/';
	}
	for (p = s; ok && *p; p++)
		ok = !isspace((unsigned char)*p) && !iscntrl((unsigned char)*p);
	if (!ok)
		return err_at(c, at, "\"%s\" is not an absolute path or an http:// or https:// URL",
			      s);
	v->s = s;
	return 0;
}

/* One prefix: strict, host bits clear, never /0; say which rule failed. */
static int conv_prefix(struct cfg_ctx *c, const struct row *r, const struct where *at,
		       const char *s, struct cfg_val *v)
{
	char fixed[BWE_PREFIX_STRLEN];
	struct bwe_prefix p;

	(void)r;
	if (!bwe_prefix_parse(s, &v->p, 0))
		return 0;
	if (bwe_prefix_parse(s, &p, BWE_PFX_HOSTBITS | BWE_PFX_ZERO))
		return err_at(c, at, "\"%s\" is not an address or CIDR", s);
	if (!bwe_prefix_family_len(&p))
		return err_at(c, at, "\"%s\" is a /0: it would match every address", s);
	bwe_prefix_fmt(&p, fixed, sizeof(fixed));
	return err_at(c, at, "\"%s\" has host bits set (did you mean %s?)", s, fixed);
}

int bwe_cfg_listen_parse(const char *s, struct sockaddr_storage *sa, unsigned int *len,
			 int *loopback)
{
	char host[BWE_CFG_HTTP_LISTEN_LEN + 1];
	const char *colon, *p;
	unsigned long port = 0;
	size_t hl;

	memset(sa, 0, sizeof(*sa));
	colon = strrchr(s, ':');
	if (!colon || strlen(s) > BWE_CFG_HTTP_LISTEN_LEN || !colon[1])
		return -EINVAL;
	for (p = colon + 1; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		port = port * DECIMAL_BASE + (unsigned long)(*p - '0');
		if (port > PORT_MAX)
			return -EINVAL;
	}
	if (!port)
		return -EINVAL;
	if (s[0] == '[') {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)sa;

		hl = (size_t)(colon - s);
		if (hl < 3 || s[hl - 1] != ']')
			return -EINVAL;
		memcpy(host, s + 1, hl - 2);
		host[hl - 2] = '\0';
		if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1)
			return -EINVAL;
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((__u16)port);
		*len = sizeof(*a6);
		*loopback = IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr);
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)sa;

		hl = (size_t)(colon - s);
		memcpy(host, s, hl);
		host[hl] = '\0';
		if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
			return -EINVAL;
		a4->sin_family = AF_INET;
		a4->sin_port = htons((__u16)port);
		*len = sizeof(*a4);
		*loopback = (ntohl(a4->sin_addr.s_addr) >> 24) == IN_LOOPBACKNET;
	}
	return 0;
}

/* An http.listen entry: a numeric address and a port, no host names. */
static int conv_listen(struct cfg_ctx *c, const struct row *r, const struct where *at,
		       const char *s, struct cfg_val *v)
{
	struct sockaddr_storage sa;
	unsigned int len;
	int lo;

	(void)r;
	if (bwe_cfg_listen_parse(s, &sa, &len, &lo))
		return err_at(c, at,
			      "\"%s\" is not a listen address (\"IPv4:port\" or \"[IPv6]:port\", "
			      "port 1..65535, no host names)",
			      s);
	v->s = s;
	return 0;
}

/* events.syslog.target: udp://, tcp:// (numeric addresses) or unix:/PATH. */
static int conv_slog_target(struct cfg_ctx *c, const struct row *r, const struct where *at,
			    const char *s, struct cfg_val *v)
{
	struct bwe_slog_target t;
	char why[256];

	(void)r;
	if (bwe_slog_target_parse(s, &t, why, sizeof(why)))
		return err_at(c, at, "%s", why);
	v->s = s;
	return 0;
}

/* A fleet endpoint: http(s)://HOST:PORT with HOST a name, IPv4 or [IPv6]; no path or user. */
static int conv_endpoint(struct cfg_ctx *c, const struct row *r, const struct where *at,
			 const char *s, struct cfg_val *v)
{
	const char *host = NULL, *port;
	size_t hlen;

	if (!strncasecmp(s, "https://", strlen("https://")))
		host = s + strlen("https://");
	else if (!strncasecmp(s, "http://", strlen("http://")))
		host = s + strlen("http://");
	port = host ? strrchr(host, ':') : NULL;
	hlen = port ? (size_t)(port - host) : 0;
	if (strlen(s) <= r->max && hlen &&
	    strspn(host, "abcdefghijklmnopqrstuvwxyz"
			 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") == strlen(host) &&
	    (host[0] == '[') == (host[hlen - 1] == ']') && port[1] && strlen(port + 1) <= 5 &&
	    strspn(port + 1, "0123456789") == strlen(port + 1) &&
	    strtoul(port + 1, NULL, 10) >= 1 && strtoul(port + 1, NULL, 10) <= PORT_MAX) {
		v->s = s;
		return 0;
	}
	return err_at(c, at,
		      "\"%s\" is not an etcd endpoint (https://HOST:PORT or http://HOST:PORT, "
		      "no path, at most %llu bytes)",
		      s, (unsigned long long)r->max);
}

/* The fleet's key prefix: /.../, of [A-Za-z0-9._-] between the slashes. */
static int conv_fleet_prefix(struct cfg_ctx *c, const struct row *r, const struct where *at,
			     const char *s, struct cfg_val *v)
{
	size_t n = strlen(s), i;
	bool ok = n >= 2 && n <= r->max && s[0] == '/' && s[n - 1] == '/' && !strstr(s, "//");

	for (i = 0; ok && i < n; i++)
		ok = isalnum((unsigned char)s[i]) || strchr("._-/", s[i]);
	if (!ok)
		return err_at(c, at,
			      "\"%s\" is not a key prefix (starts and ends with '/', A-Z a-z 0-9 "
			      "_ . - between, no \"//\", 2..%llu bytes)",
			      s, (unsigned long long)r->max);
	v->s = s;
	return 0;
}

/* ---- checks between keys ----------------------------------------------------- */

/* A value and its index in a list, sorted to find repeats in n log n. */
struct val_pos {
	struct cfg_val v;
	size_t i;
};

static int val_pos_cmp(const void *a, const void *b)
{
	const struct val_pos *x = a, *y = b;
	int d = memcmp(&x->v, &y->v, sizeof(x->v)); /* zeroed, padding too */

	if (d)
		return d;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* Distinct values among v[0..n); sorts v. */
static size_t val_distinct(struct val_pos *v, size_t n)
{
	size_t k, distinct = n > 0;

	qsort(v, n, sizeof(*v), val_pos_cmp);
	for (k = 1; k < n; k++)
		distinct += memcmp(&v[k].v, &v[k - 1].v, sizeof(v[k].v)) != 0;
	return distinct;
}

/* The first entry (in file order) that repeats an earlier one, or n; sorts v. */
static size_t val_first_repeat(struct val_pos *v, size_t n, size_t *earlier)
{
	size_t k, best = n;

	qsort(v, n, sizeof(*v), val_pos_cmp);
	for (k = 1; k < n; k++) {
		if (!memcmp(&v[k].v, &v[k - 1].v, sizeof(v[k].v)) && v[k].i < best) {
			best = v[k].i;
			*earlier = v[k - 1].i;
		}
	}
	return best;
}

/*
 * maps.netclass: every configured prefix takes one bwe_netclass entry; a
 * prefix in two lists takes one entry with both flags.
 */
static int check_netclass(struct cfg_ctx *c, const struct row *r, const struct node *n,
			  const struct where *at)
{
	const struct bwe_cfgfile *cfg = c->cfg;
	const struct bwe_cfg_prefixes *lists[] = { &cfg->internal, &cfg->exempt, &cfg->allowlist };
	struct val_pos *all;
	size_t total = 0, k, l, distinct;

	(void)r;
	(void)n;
	for (l = 0; l < ARRAY_SIZE(lists); l++)
		total += lists[l]->n;
	if (total <= cfg->maps.netclass)
		return 0;
	all = calloc(total, sizeof(*all));
	if (!all)
		return -ENOMEM;
	for (total = 0, l = 0; l < ARRAY_SIZE(lists); l++)
		for (k = 0; k < lists[l]->n; k++)
			all[total++].v.p = lists[l]->v[k];
	distinct = val_distinct(all, total);
	free(all);
	if (distinct <= cfg->maps.netclass)
		return 0;
	return err_at(
		c, at,
		"%u entries cannot hold the %zu prefixes of internal_networks, exempt and allowlist",
		cfg->maps.netclass, distinct);
}

static int check_burst(struct cfg_ctx *c, const struct row *r, const struct node *n,
		       const struct where *at)
{
	(void)r;
	if (!n || !c->cfg->default_burst || c->cfg->default_burst >= BWE_CFG_BURST_MIN)
		return 0;
	return err_at(c, at,
		      "%s is below one full frame (%llu bytes); 0 picks a burst from the rate",
		      n->text, (unsigned long long)BWE_CFG_BURST_MIN);
}

static int check_learning(struct cfg_ctx *c, const struct row *r, const struct node *n,
			  const struct where *at)
{
	const struct bwe_policy *p = &c->cfg->policy;
	char a[BWE_DURATION_STRLEN], b[BWE_DURATION_STRLEN];

	(void)r;
	(void)n;
	if (p->learning_s >= p->interval_s)
		return 0;
	bwe_duration_fmt(p->learning_s, a, sizeof(a));
	bwe_duration_fmt(p->interval_s, b, sizeof(b));
	return err_at(c, at, "%s is shorter than the interval (%s)", a, b);
}

/* Expected activities are measured by their peers in the heavy-hitter summaries. */
static int check_sketches(struct cfg_ctx *c, const struct row *r, const struct node *n,
			  const struct where *at)
{
	const struct bwe_policy *p = &c->cfg->policy;

	(void)r;
	(void)n;
	if (p->peer_sketches || !p->n_expected)
		return 0;
	return err_at(c, at,
		      "needs policy.peer_sketches: an expected activity's upload is measured in its "
		      "peers' per-peer summaries, which peer_sketches: false turns off");
}

/* Also when only policy.windows changed: the default 5m may be gone. */
static int check_spike_window(struct cfg_ctx *c, const struct row *r, const struct node *n,
			      const struct where *at)
{
	const struct bwe_policy *p = &c->cfg->policy;
	char d[BWE_DURATION_STRLEN], list[MSG_MAX] = "";
	size_t i, used = 0;

	(void)r;
	if (bwe_policy_window_index(p, p->spike.window_s) >= 0)
		return 0;
	for (i = 0; i < p->n_windows && used < sizeof(list); i++) {
		bwe_duration_fmt(p->windows_s[i], d, sizeof(d));
		used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "",
					 d);
	}
	bwe_duration_fmt(p->spike.window_s, d, sizeof(d));
	return err_at(c, at, "%s%s is not one of policy.windows (%s)", d, n ? "" : " (the default)",
		      list);
}

/* A beacon's period range must hold something. */
static int check_beacon_periods(struct cfg_ctx *c, const struct row *r, const struct node *n,
				const struct where *at)
{
	const struct bwe_policy_beacon *b = &c->cfg->policy.beacon;
	char lo[BWE_DURATION_STRLEN], hi[BWE_DURATION_STRLEN];

	(void)r;
	if (b->max_period_s >= b->min_period_s)
		return 0;
	bwe_duration_fmt(b->min_period_s, lo, sizeof(lo));
	bwe_duration_fmt(b->max_period_s, hi, sizeof(hi));
	return err_at(c, at, "%s%s is shorter than min_period (%s)", hi, n ? "" : " (the default)",
		      lo);
}

/*
 * Contacts closer than burst_ms are one: with a burst as long as the
 * shortest period, a chatty client would look periodic at the burst length.
 */
static int check_beacon_burst(struct cfg_ctx *c, const struct row *r, const struct node *n,
			      const struct where *at)
{
	const struct bwe_policy_beacon *b = &c->cfg->policy.beacon;
	char lo[BWE_DURATION_STRLEN];

	(void)r;
	if (b->burst_ms < b->min_period_s * MS_PER_S)
		return 0;
	bwe_duration_fmt(b->min_period_s, lo, sizeof(lo));
	return err_at(c, at, "%llu%s is not shorter than min_period (%s)",
		      (unsigned long long)b->burst_ms, n ? "" : " (the default)", lo);
}

/* No rules written: the default rules, their TTLs cut to max_ttl. */
static int check_rules(struct cfg_ctx *c, const struct row *r, const struct node *n,
		       const struct where *at)
{
	struct bwe_policy *p = &c->cfg->policy;
	__u64 max_ttl = c->cfg->max_ttl_s;
	size_t i, j;

	(void)r;
	(void)at;
	for (i = 0; !n && i < p->n_rules; i++) {
		if (p->rules[i].ttl_s > max_ttl)
			p->rules[i].ttl_s = max_ttl;
		for (j = 0; j < p->rules[i].n_escalation; j++)
			if (p->rules[i].escalation_s[j] > max_ttl)
				p->rules[i].escalation_s[j] = max_ttl;
	}
	return 0;
}

/* fast_forward on at most BWE_FWD_STATS_MAX interfaces: its counters' entries. */
static int check_ifaces(struct cfg_ctx *c, const struct row *r, const struct node *n,
			const struct where *at)
{
	const struct bwe_cfgfile *cfg = c->cfg;
	size_t i, on = 0;

	(void)r;
	(void)n;
	for (i = 0; i < cfg->n_ifaces; i++)
		on += cfg->ifaces[i].fast_forward != BWE_FF_OFF;
	if (on > BWE_FWD_STATS_MAX)
		return err_at(c, at,
			      "fast_forward is on for %zu interfaces; at most %d can forward in "
			      "XDP",
			      on, BWE_FWD_STATS_MAX);
	return 0;
}

/* The path and line of key in section s (its line: s's when absent). */
static const struct node *sect_key(const struct sect *s, const char *key, char buf[KEYPATH_MAX],
				   struct where *at)
{
	const struct node *n = node_find(s->map, key);

	at->path = path_key(buf, s->path, key);
	at->line = n ? n->line : s->line;
	return n;
}

/*
 * Secrets and the CrowdSec keys against the format and the source: one
 * secret at most, on http(s) sources; crowdsec-lapi needs api_key_file and
 * no other secret; its filters and max_decisions belong to it alone; its
 * refresh defaults to BWE_CS_REFRESH_S.
 */
#define FMT_TAXII "taxii" /* the API formats of issue #16, judged here too */
#define FMT_MISP  "misp"

static int check_feed_auth(struct cfg_ctx *c, const struct sect *s, bool url)
{
	static const char *const taxii_only[] = { "collection", "max_indicators" };
	static const char *const cs_only[] = { "max_decisions",
					       "scopes",
					       "origins",
					       "scenarios_containing",
					       "scenarios_not_containing",
					       "api_key_file" };
	struct bwe_cfg_feed *f = s->base;
	bool cs = !strcmp(f->format, FMT_CROWDSEC);
	bool taxii = !strcmp(f->format, FMT_TAXII), misp = !strcmp(f->format, FMT_MISP);
	char path[KEYPATH_MAX];
	struct where at;
	size_t i;

	/* taxii and misp: API sources (issue #16) */
	for (i = 0; !taxii && i < ARRAY_SIZE(taxii_only); i++)
		if (sect_key(s, taxii_only[i], path, &at))
			return err_at(c, &at, "feed \"%s\": applies only to format: %s", f->name,
				      FMT_TAXII);
	if (!misp && sect_key(s, "last", path, &at))
		return err_at(c, &at, "feed \"%s\": applies only to format: %s", f->name, FMT_MISP);
	if ((taxii || misp) && !url) {
		sect_key(s, "source", path, &at);
		return err_at(c, &at,
			      "feed \"%s\": a %s source is the server's http:// or https:// URL",
			      f->name, f->format);
	}
	if (taxii && f->api_key_file) {
		sect_key(s, "api_key_file", path, &at);
		return err_at(c, &at,
			      "feed \"%s\": %s authenticates with auth (basic) or bearer_file",
			      f->name, FMT_TAXII);
	}
	if (misp) {
		if (f->bearer_file || f->auth_user) {
			sect_key(s, f->bearer_file ? "bearer_file" : "auth", path, &at);
			return err_at(c, &at, "feed \"%s\": %s authenticates with api_key_file",
				      f->name, FMT_MISP);
		}
		if (!f->api_key_file) {
			sect_key(s, "api_key_file", path, &at);
			return err_at(c, &at,
				      "feed \"%s\": %s needs api_key_file (the file holding the "
				      "MISP automation key)",
				      f->name, FMT_MISP);
		}
	}

	if (!f->auth_user != !f->auth_password_file) {
		sect_key(s, "auth", path, &at);
		return err_at(c, &at, "feed \"%s\": auth needs both user and password_file",
			      f->name);
	}
	if ((f->bearer_file || f->auth_user) && !url) {
		sect_key(s, f->bearer_file ? "bearer_file" : "auth", path, &at);
		return err_at(c, &at, "feed \"%s\": applies only to http:// and https:// sources",
			      f->name);
	}
	if (f->bearer_file && f->auth_user) {
		sect_key(s, "bearer_file", path, &at);
		return err_at(c, &at, "feed \"%s\": bearer_file and auth exclude each other",
			      f->name);
	}
	if (!cs) {
		for (i = 0; i < ARRAY_SIZE(cs_only); i++)
			if ((!misp || strcmp(cs_only[i], "api_key_file")) &&
			    sect_key(s, cs_only[i], path, &at))
				return err_at(c, &at, "feed \"%s\": applies only to format: %s",
					      f->name, FMT_CROWDSEC);
		return 0;
	}
	if (!url) {
		sect_key(s, "source", path, &at);
		return err_at(c, &at,
			      "feed \"%s\": a %s source is the local API's http:// or https:// "
			      "URL",
			      f->name, FMT_CROWDSEC);
	}
	if (f->bearer_file || f->auth_user) {
		sect_key(s, f->bearer_file ? "bearer_file" : "auth", path, &at);
		return err_at(c, &at, "feed \"%s\": %s authenticates with api_key_file", f->name,
			      FMT_CROWDSEC);
	}
	if (!f->api_key_file) {
		sect_key(s, "api_key_file", path, &at);
		return err_at(c, &at,
			      "feed \"%s\": %s needs api_key_file (the file holding the key of "
			      "cscli bouncers add)",
			      f->name, FMT_CROWDSEC);
	}
	if (!sect_key(s, "refresh", path, &at))
		f->refresh_s = BWE_CS_REFRESH_S;
	return 0;
}

/*
 * A feed's transport keys against its source: http:// only with insecure
 * (an on-path attacker could rewrite the list), insecure and ca_file only
 * where they mean something, follow_symlinks only for files.
 */
static int check_feed(struct cfg_ctx *c, const struct sect *s)
{
	const struct bwe_cfg_feed *f = s->base;
	bool http = !strncasecmp(f->source, "http://", strlen("http://"));
	bool https = !strncasecmp(f->source, "https://", strlen("https://"));
	char path[KEYPATH_MAX];
	struct where at;

	if (!strcmp(f->name, BWE_FEED_NAME_MANUAL)) {
		sect_key(s, "name", path, &at);
		return err_at(c, &at,
			      "\"%s\" is reserved: it names the entries of bwctl block (in lookups, "
			      "events and metrics)",
			      f->name);
	}
	if (http && !f->insecure) {
		sect_key(s, "source", path, &at);
		return err_at(c, &at,
			      "feed \"%s\": \"%s\" is plain http: anybody on the path can change "
			      "its entries; use https:// or set insecure: true on the feed",
			      f->name, f->source);
	}
	if (f->insecure && !http) {
		sect_key(s, "insecure", path, &at);
		return err_at(c, &at, "feed \"%s\": applies only to http:// sources", f->name);
	}
	if (f->ca_file && !https) {
		sect_key(s, "ca_file", path, &at);
		return err_at(c, &at, "feed \"%s\": applies only to https:// sources", f->name);
	}
	if (f->follow_symlinks && (http || https)) {
		sect_key(s, "follow_symlinks", path, &at);
		return err_at(c, &at, "feed \"%s\": applies only to file sources", f->name);
	}
	return check_feed_auth(c, s, http || https);
}

/*
 * http: a listen address other than loopback only with TLS (a token or the
 * metrics would cross the network in clear), cert and key together, and
 * no address twice.
 */
static int check_http(struct cfg_ctx *c, const struct sect *s)
{
	const struct bwe_cfgfile *cfg = c->cfg;
	struct sockaddr_storage sa[BWE_CFG_HTTP_LISTEN_MAX];
	unsigned int len[BWE_CFG_HTTP_LISTEN_MAX];
	char path[KEYPATH_MAX], key[KEYPATH_MAX];
	struct where at;
	size_t i, j;
	int lo;

	if (!cfg->http.tls_cert != !cfg->http.tls_key) {
		sect_key(s, "tls", path, &at);
		return err_at(c, &at, "needs both cert and key");
	}
	for (i = 0; i < cfg->http.n_listen && i < BWE_CFG_HTTP_LISTEN_MAX; i++) {
		sect_key(s, "listen", key, &at);
		at.path = path_idx(path, key, i);
		if (bwe_cfg_listen_parse(cfg->http.listen[i], &sa[i], &len[i], &lo))
			return err_at(c, &at, "\"%s\" is not a listen address",
				      cfg->http.listen[i]);
		if (!lo && !cfg->http.tls_cert)
			return err_at(c, &at,
				      "%s is not a loopback address: it needs TLS "
				      "(http.tls.cert and http.tls.key)",
				      cfg->http.listen[i]);
		for (j = 0; j < i; j++)
			if (len[j] == len[i] && !memcmp(&sa[j], &sa[i], len[i]))
				return err_at(c, &at, "%s is listed twice (also %s[%zu])",
					      cfg->http.listen[i], key, j);
	}
	return 0;
}

/* Escalation steps: within max_ttl, none shorter than the one before. */
static int check_steps(struct cfg_ctx *c, const struct sect *s, const struct node *esc,
		       const struct node *ttl)
{
	const struct bwe_rule *r = s->base;
	char key[KEYPATH_MAX], path[KEYPATH_MAX];
	char a[BWE_DURATION_STRLEN], b[BWE_DURATION_STRLEN];
	__u64 max_ttl = c->cfg->max_ttl_s;
	struct where at = { .path = path };
	size_t i;

	path_key(key, s->path, "escalation");
	bwe_duration_fmt(max_ttl, b, sizeof(b));
	for (i = 0; i < r->n_escalation; i++) {
		path_idx(path, key, i);
		at.line = esc->kids[i].line;
		if (r->escalation_s[i] > max_ttl)
			return err_at(c, &at, "%s is above max_ttl (%s)", esc->kids[i].text, b);
		if (i && r->escalation_s[i] < r->escalation_s[i - 1]) {
			bwe_duration_fmt(r->escalation_s[i - 1], a, sizeof(a));
			return err_at(c, &at, "%s is shorter than the step before (%s)",
				      esc->kids[i].text, a);
		}
	}
	path_idx(path, key, 0);
	at.line = esc->kids[0].line;
	if (ttl && r->escalation_s[0] != r->ttl_s)
		return err_at(c, &at, "%s differs from ttl (%s): the first step is the first TTL",
			      esc->kids[0].text, ttl->text);
	return 0;
}

/* A rule's keys against each other and against max_ttl. */
static int check_rule(struct cfg_ctx *c, const struct sect *s)
{
	struct bwe_rule *r = s->base;
	unsigned int n = (unsigned int)__builtin_popcount(r->signals);
	char path[KEYPATH_MAX], b[BWE_DURATION_STRLEN];
	const struct node *rate, *ttl, *esc;
	struct where at, esc_at;
	int err;

	if (r->min_signals > n) {
		sect_key(s, "min_signals", path, &at);
		return err_at(c, &at, "%u is more than the %u signal%s listed", r->min_signals, n,
			      n == 1 ? "" : "s");
	}
	rate = sect_key(s, "rate", path, &at);
	if (r->action == BWE_RESP_THROTTLE && !rate)
		return err_at(c, &at, "required for a throttle rule");
	if (r->action != BWE_RESP_THROTTLE && rate)
		return err_at(c, &at, "applies only to throttle rules");
	esc = node_find(s->map, "escalation");
	ttl = sect_key(s, "ttl", path, &at);
	if (r->action == BWE_RESP_ALERT && ttl)
		return err_at(c, &at, "applies only to throttle and quarantine rules");
	if (r->action == BWE_RESP_ALERT && esc) {
		esc_at = (struct where){ path_key(path, s->path, "escalation"), esc->line };
		return err_at(c, &esc_at, "applies only to throttle and quarantine rules");
	}
	if (r->action == BWE_RESP_ALERT)
		return 0;
	if (!ttl && !esc)
		return err_at(c, &at, "required for a %s rule (or an escalation list)",
			      bwe_response_name(r->action));
	bwe_duration_fmt(c->cfg->max_ttl_s, b, sizeof(b));
	if (ttl && r->ttl_s > c->cfg->max_ttl_s)
		return err_at(c, &at, "%s is above max_ttl (%s)", ttl->text, b);
	if (!esc)
		return 0;
	err = check_steps(c, s, esc, ttl);
	if (!err)
		r->ttl_s = r->escalation_s[0];
	return err;
}

static void policy_init(void *p)
{
	bwe_policy_default(p);
}

/* A schedule of expect.h, kept as written; the check below compiles it. */
static int conv_schedule(struct cfg_ctx *c, const struct row *r, const struct where *at,
			 const char *s, struct cfg_val *v)
{
	struct bwe_schedule sch;
	char why[BWE_SCHEDULE_ERR_LEN];

	(void)r;
	if (bwe_schedule_parse(s, &sch, why, sizeof(why)))
		return err_at(c, at, "%s", why);
	v->s = s;
	return 0;
}

/*
 * An expected activity: its hosts inside internal_networks, its peers
 * outside them and few enough for the fan-out sketch check (expect.h);
 * the schedule and the sketch compiled once.
 */
static int check_expected(struct cfg_ctx *c, const struct sect *s)
{
	struct bwe_expected *e = s->base;
	const struct bwe_cfg_prefixes *in = &c->cfg->internal;
	char path[KEYPATH_MAX], pf[BWE_PREFIX_STRLEN];
	struct where at;
	size_t i, k;

	for (i = 0; i < e->n_hosts; i++) {
		for (k = 0; k < in->n && !bwe_prefix_covers(&in->v[k], &e->hosts[i]); k++)
			;
		if (k == in->n) {
			sect_key(s, "hosts", path, &at);
			bwe_prefix_fmt(&e->hosts[i], pf, sizeof(pf));
			return err_at(c, &at, "%s is not inside internal_networks", pf);
		}
	}
	for (i = 0; i < e->n_peers; i++) {
		for (k = 0; k < in->n && !bwe_prefix_covers(&in->v[k], &e->peers[i]) &&
			    !bwe_prefix_covers(&e->peers[i], &in->v[k]);
		     k++)
			;
		if (k < in->n) {
			sect_key(s, "peers", path, &at);
			bwe_prefix_fmt(&e->peers[i], pf, sizeof(pf));
			return err_at(c, &at,
				      "%s overlaps internal_networks: peers are the external "
				      "addresses the hosts send to",
				      pf);
		}
	}
	if (bwe_expected_addrs(e->peers, e->n_peers) > BWE_EXPECTED_ADDRS_MAX) {
		sect_key(s, "peers", path, &at);
		return err_at(c, &at,
			      "cover more than %d addresses: list the provider's addresses (the "
			      "fan-out sketch tells them from others only for a few)",
			      BWE_EXPECTED_ADDRS_MAX);
	}
	if (bwe_schedule_parse(e->schedule, &e->sched, NULL, 0))
		return -EINVAL; /* conv_schedule accepted it */
	bwe_expected_sketch(e);
	return 0;
}

/* ---- the format: one row a key ---------------------------------------------- */

/* RFC 1918 and RFC 4193 unique local addresses. */
static const char *const internal_default[] = {
	"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7", NULL,
};

/* Destination ports that do not count as "non-standard" traffic. */
static const char *const std_ports_default[] = {
	"20",  "21",  "22",  "25",  "53",  "80",  "110", "123",
	"143", "443", "465", "587", "853", "993", "995", NULL,
};

/* Feed formats the fetcher understands; "auto" guesses from the content. */
static const char *const feed_formats[] = {
	"auto",	    "plain",   "netset",     "spamhaus",      "spamhaus-json", "feodo-csv", "stix",
	"freeform", "domains", "zeek-intel", "crowdsec-lapi", "taxii",	       "misp",
};
/* The scopes a CrowdSec decision may be blocked on (crowdsec.h). */
static const char *const cs_scope_names[] = { "Ip", "Range" };

static const char *const rule_actions[] = { "alert", "throttle", "quarantine" };

static const char *const slog_formats[] = { "rfc5424", "cef" };
static const struct cfg_enum slog_format_enum = { slog_formats, ARRAY_SIZE(slog_formats), 0 };
static const struct cfg_enum slog_facilities = { bwe_slog_facility_names, BWE_SLOG_FACILITIES, 0 };
static const struct cfg_enum modes = { mode_names, ARRAY_SIZE(mode_names), 0 };
static const struct cfg_enum nats = { nat_names, ARRAY_SIZE(nat_names), 0 };
static const struct cfg_enum ff_modes = { ff_names, ARRAY_SIZE(ff_names), 0 };
static const struct cfg_enum actions = { action_names, ARRAY_SIZE(action_names), 0 };
static const struct cfg_enum feed_signals = { feed_signal_names, ARRAY_SIZE(feed_signal_names), 0 };
static const struct cfg_enum formats = { feed_formats, ARRAY_SIZE(feed_formats), 0 };
static const struct cfg_enum cs_scopes = { cs_scope_names, ARRAY_SIZE(cs_scope_names), 0 };
static const struct cfg_enum responses = {
	rule_actions,
	ARRAY_SIZE(rule_actions),
	BWE_RESP_ALERT,
};

static const struct cfg_name feed_name = { "feed name", NAME_CHARS, NULL, "A-Z a-z 0-9 _ . -",
					   NULL };
/* A TAXII collection id: a UUID in practice; URL-safe characters only. */
static const struct cfg_name collection_name = {
	"TAXII collection id",
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	"0123456789._~-",
	NULL, "A-Z a-z 0-9 . _ ~ -", NULL
};
static const struct cfg_name rule_name = { "rule name", NAME_CHARS, NULL, "A-Z a-z 0-9 _ . -",
					   NULL };
/* As useradd(8) takes them. */
static const struct cfg_name group_name = {
	"group name", NAME_CHARS, NAME_FIRST, "A-Z a-z 0-9 _ . -", ", not starting with -",
};
static const struct cfg_name event_action = {
	"event action",
	"abcdefghijklmnopqrstuvwxyz0123456789-",
	"abcdefghijklmnopqrstuvwxyz",
	"a-z 0-9 -",
	", starting with a-z",
};
static const struct cfg_name user_name = {
	"user name", USER_CHARS, USER_FIRST, "a-z 0-9 _ -", ", starting with a-z or _",
};

#define CFG    struct bwe_cfgfile
#define POLICY struct bwe_policy
#define WINDOW(type, field) \
	SCALAR("window", conv_window, S_U64, type, field, .max = BWE_CFG_WINDOW_MAX_S)

static const struct row iface_rows[] = {
	SCALAR("name", conv_ifname, S_CHARS, struct bwe_cfg_iface, name, .max = BWE_IFNAME_LEN - 1,
	       .flags = F_REQ | F_UNIQUE, .noun = "interface"),
	SCALAR("mode", conv_enum, S_INT, struct bwe_cfg_iface, mode, .arg = &modes,
	       DEF_U(BWE_MODE_AUTO)),
	SCALAR("nat", conv_enum, S_INT, struct bwe_cfg_iface, nat, .arg = &nats,
	       DEF_U(BWE_NAT_NONE)),
	SCALAR("fast_forward", conv_enum, S_INT, struct bwe_cfg_iface, fast_forward,
	       .arg = &ff_modes, DEF_U(BWE_FF_OFF)),
};
static const struct table iface_table = TABLE(iface_rows, .size = sizeof(struct bwe_cfg_iface));

static const struct row maps_rows[] = {
	SCALAR("blocklist_hosts", conv_uint, S_U32, CFG, maps.blocklist_hosts,
	       LIM(BWE_CFG_MAP_MIN, BWE_CFG_MAP_MAX), DEF_U(BWE_BL_HOST_MAX)),
	SCALAR("blocklist_v6_prefixes", conv_uint, S_U32, CFG, maps.blocklist_v6_prefixes,
	       LIM(BWE_CFG_MAP_MIN, BWE_CFG_MAP_MAX), DEF_U(BWE_BL_NET6_MAX)),
	SCALAR("netclass", conv_uint, S_U32, CFG, maps.netclass,
	       LIM(BWE_CFG_NETCLASS_MIN, BWE_CFG_MAP_MAX), DEF_U(BWE_NETCLASS_MAX),
	       .check = check_netclass),
	SCALAR("throttle", conv_uint, S_U32, CFG, maps.throttle,
	       LIM(BWE_CFG_MAP_MIN, BWE_CFG_MAP_MAX), DEF_U(BWE_THROTTLE_MAX)),
	SCALAR("hosts", conv_uint, S_U32, CFG, maps.hosts, LIM(BWE_CFG_MAP_MIN, BWE_CFG_MAP_MAX),
	       DEF_U(BWE_HOSTS_MAX)),
	SCALAR("host_idle", conv_duration_off, S_U64, CFG, host_idle_s,
	       LIM(BWE_CFG_HOST_IDLE_MIN_S, BWE_DURATION_MAX_S), DEF_U(BWE_CFG_HOST_IDLE_S)),
};
static const struct table maps_table = TABLE(maps_rows);

static const struct row paths_rows[] = {
	SCALAR("pin_dir", conv_abs_path, S_STR, CFG, paths.pin_dir, DEF_S(BWE_CFG_PIN_DIR)),
	SCALAR("state_dir", conv_abs_path, S_STR, CFG, paths.state_dir, DEF_S(BWE_CFG_STATE_DIR)),
	SCALAR("socket", conv_abs_path, S_STR, CFG, paths.socket, DEF_S(BWE_CFG_SOCKET),
	       .max = BWE_CFG_SOCKET_PATH_MAX),
	SCALAR("event_log", conv_abs_path, S_STR, CFG, paths.event_log, DEF_S(BWE_CFG_EVENT_LOG)),
};
static const struct table paths_table = TABLE(paths_rows);

#define EVLIMIT struct bwe_cfg_evlimit
static const struct row evlimit_type_rows[] = {
	SCALAR("action", conv_name, S_STR, EVLIMIT, action, .arg = &event_action,
	       LIM(1, BWE_CFG_EV_ACTION_MAX), .flags = F_REQ | F_UNIQUE, .noun = "event action"),
	SCALAR("rate", conv_uint, S_U32, EVLIMIT, rate, LIM(1, BWE_CFG_EV_RATE_MAX),
	       .flags = F_REQ),
	SCALAR("burst", conv_uint, S_U32, EVLIMIT, burst, LIM(1, BWE_CFG_EV_BURST_MAX),
	       DEF_U(BWE_CFG_EV_BURST)),
};
static const struct table evlimit_type_table =
	TABLE(evlimit_type_rows, .size = sizeof(struct bwe_cfg_evlimit));
#undef EVLIMIT

static const struct row evlimit_rows[] = {
	SCALAR("rate", conv_uint, S_U32, CFG, event_limits.rate, LIM(1, BWE_CFG_EV_RATE_MAX),
	       DEF_U(BWE_CFG_EV_RATE)),
	SCALAR("burst", conv_uint, S_U32, CFG, event_limits.burst, LIM(1, BWE_CFG_EV_BURST_MAX),
	       DEF_U(BWE_CFG_EV_BURST)),
	SCALAR("summary", conv_duration, S_U64, CFG, event_limits.summary_s,
	       LIM(1, BWE_CFG_EV_SUMMARY_MAX_S), DEF_U(BWE_CFG_EV_SUMMARY_S)),
	MAPS("types", evlimit_type_table, CFG, event_limits.types, event_limits.n_types,
	     .flags = F_NULL | F_HEAP, .max_n = BWE_CFG_EV_TYPES_MAX, .noun = "event type"),
};
static const struct table evlimit_table = TABLE(evlimit_rows);

#define FEED struct bwe_cfg_feed
/* auth: HTTP basic, the password in a file */
static const struct row feed_auth_rows[] = {
	SCALAR("user", conv_basic_user, S_STR, FEED, auth_user, LIM(1, BWE_FEED_AUTH_USER_MAX)),
	SCALAR("password_file", conv_abs_path, S_STR, FEED, auth_password_file,
	       .max = BWE_FEED_SECRET_PATH_MAX),
};
static const struct table feed_auth_table = TABLE(feed_auth_rows);

static const struct row feed_rows[] = {
	SCALAR("name", conv_name, S_STR, FEED, name, .arg = &feed_name, LIM(1, BWE_FEED_NAME_MAX),
	       .flags = F_REQ | F_UNIQUE, .noun = "feed name"),
	SCALAR("source", conv_source, S_STR, FEED, source, .flags = F_REQ),
	SCALAR("format", conv_enum, S_STR, FEED, format, .arg = &formats, DEF_S("auto")),
	SCALAR("refresh", conv_duration, S_U64, FEED, refresh_s,
	       LIM(BWE_FEED_REFRESH_MIN_S, BWE_DURATION_MAX_S), DEF_U(BWE_FEED_REFRESH_S)),
	SCALAR("action", conv_enum, S_INT, FEED, action, .arg = &actions, DEF_U(BWE_ACT_DROP)),
	SCALAR("signal", conv_enum, S_INT, FEED, signal, .arg = &feed_signals,
	       DEF_U(BWE_FSIG_BLOCKLIST)),
	SCALAR("min_prefix_v4", conv_uint, S_U32, FEED, min_prefix_v4,
	       LIM(BWE_TBL24_MIN_PLEN, V4_PLEN_MAX), DEF_U(BWE_FEED_MIN_PREFIX_V4)),
	SCALAR("min_prefix_v6", conv_uint, S_U32, FEED, min_prefix_v6,
	       LIM(BWE_BL_V6_MIN_PLEN, V6_PLEN_MAX), DEF_U(BWE_FEED_MIN_PREFIX_V6)),
	SCALAR("max_shrink", conv_share, S_DOUBLE, FEED, max_shrink, DEF_D(BWE_FEED_MAX_SHRINK)),
	SCALAR("max_reject", conv_share, S_DOUBLE, FEED, max_reject, DEF_D(BWE_FEED_MAX_REJECT)),
	SCALAR("max_reject_floor", conv_uint, S_U32, FEED, max_reject_floor,
	       LIM(0, BWE_FEED_REJ_FLOOR_MX), DEF_U(BWE_FEED_REJ_FLOOR)),
	SCALAR("may_be_empty", conv_bool, S_INT, FEED, may_be_empty, DEF_U(0)),
	SCALAR("max_growth", conv_positive, S_DOUBLE, FEED, max_growth,
	       .max = BWE_FEED_MAX_GROWTH_MAX, DEF_D(BWE_FEED_MAX_GROWTH)),
	SCALAR("max_coverage_v4", conv_uint, S_U32, FEED, max_coverage_v4, LIM(0, V4_PLEN_MAX),
	       DEF_U(BWE_FEED_MAX_COVERAGE_V4)),
	SCALAR("max_coverage_v6", conv_uint, S_U32, FEED, max_coverage_v6, LIM(0, V6_PLEN_MAX),
	       DEF_U(BWE_FEED_MAX_COVERAGE_V6)),
	SCALAR("max_domain_addrs", conv_uint, S_U32, FEED, max_domain_addrs,
	       LIM(1, BWE_FEED_DOMAIN_ADDRS_MX), DEF_U(BWE_FEED_DOMAIN_ADDRS)),
	SCALAR("stale_after", conv_uint, S_U32, FEED, stale_after, LIM(1, BWE_FEED_STALE_AFTER_MAX),
	       DEF_U(BWE_FEED_STALE_AFTER)),
	SCALAR("max_bytes", conv_size, S_U64, FEED, max_bytes,
	       LIM(BWE_FEED_MAX_BYTES_MIN, BWE_FEED_MAX_BYTES_MAX), DEF_U(BWE_FEED_MAX_BYTES)),
	SCALAR("timeout", conv_duration, S_U64, FEED, timeout_s, LIM(1, BWE_FEED_TIMEOUT_MAX_S),
	       DEF_U(BWE_FEED_TIMEOUT_S)),
	SCALAR("insecure", conv_bool, S_INT, FEED, insecure, DEF_U(0)),
	SCALAR("follow_symlinks", conv_bool, S_INT, FEED, follow_symlinks, DEF_U(0)),
	SCALAR("ca_file", conv_abs_path, S_STR, FEED, ca_file, .max = BWE_FEED_CA_FILE_MAX,
	       .flags = F_NULL),
	SCALAR("api_key_file", conv_abs_path, S_STR, FEED, api_key_file,
	       .max = BWE_FEED_SECRET_PATH_MAX, .flags = F_NULL),
	SCALAR("bearer_file", conv_abs_path, S_STR, FEED, bearer_file,
	       .max = BWE_FEED_SECRET_PATH_MAX, .flags = F_NULL),
	MAP("auth", feed_auth_table, 0),
	SCALAR("max_decisions", conv_uint, S_U32, FEED, max_decisions, LIM(1, BWE_CS_SET_MAX_MAX),
	       DEF_U(BWE_CS_SET_MAX_DEF)),
	SCALAR("collection", conv_name, S_STR, FEED, taxii_collection, .arg = &collection_name,
	       LIM(1, BWE_FEED_COLLECTION_MAX), .flags = F_NULL),
	SCALAR("max_indicators", conv_uint, S_U32, FEED, taxii_max_indicators,
	       LIM(1, BWE_TAXII_SET_MAX_MAX), DEF_U(BWE_TAXII_SET_MAX_DEF)),
	SCALAR("last", conv_misp_last, S_STR, FEED, misp_last, DEF_S(BWE_MISP_LAST_DEF)),
	LIST("scopes", conv_enum, S_STR, FEED, cs_scopes, n_cs_scopes, .arg = &cs_scopes,
	     .flags = F_NULL | F_UNIQUE | F_HEAP),
	LIST("origins", conv_text, S_STR, FEED, cs_origins, n_cs_origins,
	     LIM(1, BWE_CS_TEXT_MAX - 1), .flags = F_NULL | F_UNIQUE | F_HEAP,
	     .max_n = BWE_FEED_CS_FILTER_MAX, .noun = "origin"),
	LIST("scenarios_containing", conv_text, S_STR, FEED, cs_scenarios_containing,
	     n_cs_scenarios_containing, LIM(1, BWE_CS_TEXT_MAX - 1),
	     .flags = F_NULL | F_UNIQUE | F_HEAP, .max_n = BWE_FEED_CS_FILTER_MAX,
	     .noun = "scenario"),
	LIST("scenarios_not_containing", conv_text, S_STR, FEED, cs_scenarios_not_containing,
	     n_cs_scenarios_not_containing, LIM(1, BWE_CS_TEXT_MAX - 1),
	     .flags = F_NULL | F_UNIQUE | F_HEAP, .max_n = BWE_FEED_CS_FILTER_MAX,
	     .noun = "scenario"),
};
static const struct table feed_table =
	TABLE(feed_rows, .size = sizeof(struct bwe_cfg_feed), .check = check_feed);

/* Signals: the fields of struct bwe_policy; defaults from bwe_policy_default(). */
static const struct row spike_rows[] = {
	SCALAR("window", conv_window, S_U64, POLICY, spike.window_s, .max = BWE_CFG_WINDOW_MAX_S,
	       .check = check_spike_window),
	SCALAR("z", conv_positive, S_DOUBLE, POLICY, spike.z, .max = (__u64)BWE_CFG_Z_MAX),
	SCALAR("min_rate", conv_rate, S_U64, POLICY, spike.min_rate),
	SCALAR("sustain", conv_uint, S_U32, POLICY, spike.sustain, LIM(1, BWE_CFG_SUSTAIN_MAX)),
	SCALAR("min_sd_share", conv_share, S_DOUBLE, POLICY, spike.min_sd_share),
	SCALAR("min_sd_rate", conv_rate, S_U64, POLICY, spike.min_sd_rate),
};
static const struct row blocklist_rows[] = {
	SCALAR("min_hits", conv_uint, S_U64, POLICY, blocklist.min_hits, LIM(1, BWE_CFG_HITS_MAX)),
	WINDOW(POLICY, blocklist.window_s),
};
static const struct row nonstd_rows[] = {
	SCALAR("share", conv_share, S_DOUBLE, POLICY, nonstd_ports.share),
	SCALAR("min_bytes", conv_size, S_U64, POLICY, nonstd_ports.min_bytes,
	       .max = BWE_CFG_VOLUME_MAX),
	WINDOW(POLICY, nonstd_ports.window_s),
};
static const struct row upload_rows[] = {
	SCALAR("ratio", conv_positive, S_DOUBLE, POLICY, upload_ratio.ratio,
	       .max = (__u64)BWE_CFG_RATIO_MAX),
	SCALAR("min_bytes", conv_size, S_U64, POLICY, upload_ratio.min_bytes,
	       .max = BWE_CFG_VOLUME_MAX),
	WINDOW(POLICY, upload_ratio.window_s),
};
static const struct row fanout_rows[] = {
	SCALAR("peers", conv_uint, S_U32, POLICY, fanout.peers, LIM(1, BWE_CFG_PEERS_MAX)),
	SCALAR("ports", conv_uint, S_U32, POLICY, fanout.ports, LIM(1, BWE_CFG_PORTS_MAX)),
	WINDOW(POLICY, fanout.window_s),
};
static const struct row new_host_rows[] = {
	SCALAR("bytes", conv_size, S_U64, POLICY, new_host.bytes, LIM(1, BWE_CFG_VOLUME_MAX)),
	WINDOW(POLICY, new_host.window_s),
};
static const struct row relay_rows[] = {
	SCALAR("concentration", conv_share, S_DOUBLE, POLICY, relay.concentration),
	SCALAR("top_peers", conv_uint, S_U32, POLICY, relay.top_peers, LIM(1, BWE_HH_SLOTS - 1)),
	SCALAR("spread_peers", conv_uint, S_U32, POLICY, relay.spread_peers,
	       LIM(1, BWE_CFG_PEERS_MAX)),
	SCALAR("balance", conv_positive, S_DOUBLE, POLICY, relay.balance,
	       .max = (__u64)BWE_CFG_RATIO_MAX),
	SCALAR("overlap", conv_share, S_DOUBLE, POLICY, relay.overlap),
	SCALAR("min_bytes", conv_size, S_U64, POLICY, relay.min_bytes, LIM(1, BWE_CFG_VOLUME_MAX)),
};
static const struct row beacon_rows[] = {
	SCALAR("min_intervals", conv_uint, S_U32, POLICY, beacon.min_intervals,
	       LIM(2, BWE_BEACON_HIST)),
	SCALAR("max_jitter", conv_share, S_DOUBLE, POLICY, beacon.max_jitter),
	SCALAR("min_period", conv_duration, S_U64, POLICY, beacon.min_period_s,
	       LIM(1, BWE_CFG_WINDOW_MAX_S)),
	SCALAR("max_period", conv_duration, S_U64, POLICY, beacon.max_period_s,
	       LIM(1, BWE_CFG_WINDOW_MAX_S), .check = check_beacon_periods),
	SCALAR("burst_ms", conv_uint, S_U64, POLICY, beacon.burst_ms,
	       LIM(0, BWE_CFG_BEACON_BURST_MAX_MS), .check = check_beacon_burst),
	SCALAR("sample", conv_uint, S_U32, POLICY, beacon.sample,
	       LIM(1, BWE_CFG_BEACON_SAMPLE_MAX)),
	LIST("ignore_ports", conv_uint, S_U16, POLICY, beacon.ignore_ports, beacon.n_ignore_ports,
	     LIM(1, PORT_MAX), .flags = F_UNIQUE, .max_n = BWE_BEACON_IGNORE_MAX, .noun = "port",
	     .dup = "port "),
};
static const struct row flood_rows[] = {
	SCALAR("min_pps", conv_uint, S_U32, POLICY, flood.min_pps, LIM(1, BWE_CFG_PPS_MAX)),
	SCALAR("max_size", conv_size, S_U32, POLICY, flood.max_size,
	       LIM(BWE_CFG_FRAME_MIN, BWE_CFG_FRAME_MAX)),
	SCALAR("concentration", conv_share, S_DOUBLE, POLICY, flood.concentration),
	SCALAR("reply", conv_share, S_DOUBLE, POLICY, flood.reply),
};
static const struct table flood_table = TABLE(flood_rows);
static const struct table relay_table = TABLE(relay_rows);
static const struct table beacon_table = TABLE(beacon_rows);
static const struct table spike_table = TABLE(spike_rows);
static const struct table blocklist_table = TABLE(blocklist_rows);
static const struct table nonstd_table = TABLE(nonstd_rows);
static const struct table upload_table = TABLE(upload_rows);
static const struct table fanout_table = TABLE(fanout_rows);
static const struct table new_host_table = TABLE(new_host_rows);
static const struct row proxyware_rows[] = {
	SCALAR("min_hits", conv_uint, S_U64, POLICY, proxyware.min_hits, LIM(1, BWE_CFG_HITS_MAX)),
	WINDOW(POLICY, proxyware.window_s),
};
static const struct table proxyware_table = TABLE(proxyware_rows);

static const struct row signals_rows[] = {
	MAP("spike", spike_table, 0),	      MAP("blocklist", blocklist_table, 0),
	MAP("nonstd_ports", nonstd_table, 0), MAP("upload_ratio", upload_table, 0),
	MAP("fanout", fanout_table, 0),	      MAP("new_host", new_host_table, 0),
	MAP("proxyware", proxyware_table, 0), MAP("relay", relay_table, 0),
	MAP("beacon", beacon_table, 0),	      MAP("flood", flood_table, 0),
};
static const struct table signals_table = TABLE(signals_rows);

#define RULE struct bwe_rule
static const struct row rule_rows[] = {
	SCALAR("name", conv_name, S_CHARS, RULE, name, .arg = &rule_name,
	       LIM(1, BWE_RULE_NAME_MAX - 1), .flags = F_REQ | F_UNIQUE, .noun = "rule name"),
	{ .key = "signals",
	  .kind = K_LIST,
	  .conv = conv_signal,
	  .store = S_BIT,
	  .off = offsetof(RULE, signals),
	  .n_off = NO_COUNT,
	  .flags = F_REQ | F_UNIQUE,
	  .min_n = 1,
	  .noun = "signal" },
	SCALAR("min_signals", conv_uint, S_U32, RULE, min_signals, LIM(1, BWE_SIG_MAX), DEF_U(1)),
	SCALAR("action", conv_enum, S_INT, RULE, action, .arg = &responses, .flags = F_REQ),
	SCALAR("rate", conv_rate, S_U64, RULE, rate),
	SCALAR("ttl", conv_duration, S_U64, RULE, ttl_s, LIM(1, BWE_DURATION_MAX_S)),
	LIST("escalation", conv_duration, S_U64, RULE, escalation_s, n_escalation,
	     LIM(1, BWE_DURATION_MAX_S), .min_n = 1, .max_n = BWE_ESCALATION_MAX, .noun = "step"),
	SCALAR("cooldown", conv_duration, S_U64, RULE, cooldown_s, LIM(1, BWE_CFG_COOLDOWN_MAX_S),
	       DEF_U(BWE_RULE_COOLDOWN_S)),
	SCALAR("repeat_window", conv_duration, S_U64, RULE, repeat_window_s,
	       LIM(1, BWE_DURATION_MAX_S), DEF_U(BWE_RULE_REPEAT_WINDOW_S)),
};
static const struct table rule_table =
	TABLE(rule_rows, .size = sizeof(struct bwe_rule), .check = check_rule);

static const struct cfg_name expected_name = { "expected activity name", NAME_CHARS, NULL,
					       "A-Z a-z 0-9 _ . -", NULL };
#define EXPECTED struct bwe_expected
static const struct row expected_rows[] = {
	SCALAR("name", conv_name, S_CHARS, EXPECTED, name, .arg = &expected_name,
	       LIM(1, BWE_EXPECTED_NAME_MAX - 1), .flags = F_REQ | F_UNIQUE,
	       .noun = "expected activity name"),
	LIST("hosts", conv_prefix, S_PREFIX, EXPECTED, hosts, n_hosts,
	     .flags = F_REQ | F_UNIQUE | F_HEAP, .min_n = 1, .max_n = BWE_EXPECTED_HOSTS_MAX,
	     .noun = "host"),
	LIST("peers", conv_prefix, S_PREFIX, EXPECTED, peers, n_peers,
	     .flags = F_REQ | F_UNIQUE | F_HEAP, .min_n = 1, .max_n = BWE_EXPECTED_PEERS_MAX,
	     .noun = "peer"),
	LIST("ports", conv_uint, S_U16, EXPECTED, ports, n_ports, LIM(1, PORT_MAX),
	     .flags = F_NULL | F_UNIQUE | F_HEAP, .max_n = BWE_EXPECTED_PORTS_MAX, .noun = "port",
	     .dup = "port "),
	SCALAR("schedule", conv_schedule, S_STR, EXPECTED, schedule, .flags = F_REQ),
	SCALAR("max_rate", conv_rate, S_U64, EXPECTED, max_rate, .flags = F_REQ),
};
#undef EXPECTED
static const struct table expected_table =
	TABLE(expected_rows, .size = sizeof(struct bwe_expected), .check = check_expected);

static const struct row policy_rows[] = {
	SCALAR("monitor_only", conv_bool, S_INT, POLICY, monitor_only),
	SCALAR("interval", conv_duration, S_U64, POLICY, interval_s,
	       LIM(1, BWE_CFG_INTERVAL_MAX_S)),
	SCALAR("learning_period", conv_duration, S_U64, POLICY, learning_s,
	       LIM(1, BWE_CFG_LEARNING_MAX_S), .check = check_learning),
	SCALAR("hour_of_week", conv_bool, S_INT, POLICY, hour_of_week),
	SCALAR("peer_sketches", conv_bool, S_INT, POLICY, peer_sketches),
	LIST("windows", conv_window, S_U64, POLICY, windows_s, n_windows,
	     .max = BWE_CFG_WINDOW_MAX_S, .flags = F_UNIQUE, .min_n = 1,
	     .max_n = BWE_POLICY_WINDOWS_MAX, .noun = "window", .dup = ""),
	LIST("never_quarantine", conv_prefix, S_PREFIX, POLICY, never_quarantine.v,
	     never_quarantine.n, .flags = F_NULL | F_UNIQUE | F_HEAP),
	SCALAR("max_quarantines_per_hour", conv_uint, S_U32, POLICY, max_quarantines_per_hour,
	       LIM(0, BWE_QUARANTINES_PER_HOUR_MAX)),
	SCALAR("max_hosts", conv_uint, S_U32, POLICY, max_hosts, LIM(1, BWE_CFG_DET_HOSTS_MAX)),
	MAP("signals", signals_table, 0),
	MAPS("rules", rule_table, POLICY, rules, n_rules, .flags = F_NULL,
	     .max_n = BWE_POLICY_RULES_MAX, .noun = "rule", .check = check_rules),
	MAPS("expected", expected_table, POLICY, expected, n_expected, .flags = F_NULL | F_HEAP,
	     .max_n = BWE_EXPECTED_MAX, .noun = "expected activity", .check = check_sketches),
};
static const struct table policy_table = TABLE(policy_rows, .init = policy_init);

static const struct row tls_rows[] = {
	SCALAR("cert", conv_abs_path, S_STR, CFG, http.tls_cert, .max = BWE_CFG_HTTP_TLS_PATH_MAX),
	SCALAR("key", conv_abs_path, S_STR, CFG, http.tls_key, .max = BWE_CFG_HTTP_TLS_PATH_MAX),
};
static const struct table tls_table = TABLE(tls_rows);

static const struct row http_rows[] = {
	LIST("listen", conv_listen, S_STR, CFG, http.listen, http.n_listen,
	     .flags = F_NULL | F_HEAP, .max_n = BWE_CFG_HTTP_LISTEN_MAX, .noun = "listen address"),
	MAP("tls", tls_table, 0),
	SCALAR("metrics_auth", conv_bool, S_INT, CFG, http.metrics_auth, DEF_U(0)),
	SCALAR("max_clients", conv_uint, S_U32, CFG, http.max_clients,
	       LIM(1, BWE_CFG_HTTP_CLIENTS_MAX), DEF_U(BWE_CFG_HTTP_CLIENTS)),
	SCALAR("max_clients_per_address", conv_uint, S_U32, CFG, http.max_clients_per_address,
	       LIM(1, BWE_CFG_HTTP_CLIENTS_MAX), DEF_U(BWE_CFG_HTTP_PER_ADDR)),
	SCALAR("timeout", conv_duration, S_U64, CFG, http.timeout_s,
	       LIM(1, BWE_CFG_HTTP_TIMEOUT_MAX), DEF_U(BWE_CFG_HTTP_TIMEOUT_S)),
	SCALAR("max_body", conv_size, S_U64, CFG, http.max_body,
	       LIM(BWE_CFG_HTTP_BODY_MIN, BWE_CFG_HTTP_BODY_MAX), DEF_U(BWE_CFG_HTTP_BODY)),
};
static const struct table http_table = TABLE(http_rows, .check = check_http);

static const struct row identity_rows[] = {
	SCALAR("router_addresses", conv_uint, S_U32, CFG, identity.router_addresses,
	       LIM(1, BWE_CFG_ROUTER_ADDRS_MAX), DEF_U(BWE_CFG_ROUTER_ADDRS)),
	SCALAR("max_learnt", conv_uint, S_U32, CFG, identity.max_learnt,
	       LIM(1, BWE_CFG_MAX_LEARNT_MAX), DEF_U(BWE_CFG_MAX_LEARNT)),
};
static const struct table identity_table = TABLE(identity_rows);

/* RFC 5424 APP-NAME and HOSTNAME: printable ASCII without blanks, as names go. */
static const struct cfg_name slog_app = { "syslog APP-NAME", NAME_CHARS, NULL, "A-Z a-z 0-9 _ . -",
					  NULL };
static const struct cfg_name slog_host = { "syslog HOSTNAME", NAME_CHARS, NULL, "A-Z a-z 0-9 _ . -",
					   NULL };

/* events.syslog present: it names where the events go. */
static int check_slog(struct cfg_ctx *c, const struct sect *s)
{
	char path[KEYPATH_MAX];
	struct where at;

	if (s->map && !c->cfg->syslog.target) {
		sect_key(s, "target", path, &at);
		return err_at(c, &at,
			      "required key missing (udp://HOST:PORT, tcp://HOST:PORT or "
			      "unix:/PATH)");
	}
	return 0;
}

static const struct row slog_rows[] = {
	SCALAR("target", conv_slog_target, S_STR, CFG, syslog.target, .flags = F_NULL),
	SCALAR("format", conv_enum, S_INT, CFG, syslog.format, .arg = &slog_format_enum,
	       DEF_U(BWE_SLOG_RFC5424)),
	SCALAR("facility", conv_enum, S_INT, CFG, syslog.facility, .arg = &slog_facilities,
	       DEF_U(BWE_SLOG_FAC_DAEMON)),
	SCALAR("app_name", conv_name, S_STR, CFG, syslog.app_name, .arg = &slog_app,
	       LIM(1, BWE_SLOG_APP_NAME_MAX), DEF_S(BWE_CFG_SLOG_APP_NAME)),
	SCALAR("hostname", conv_name, S_STR, CFG, syslog.hostname, .arg = &slog_host,
	       LIM(1, BWE_SLOG_HOSTNAME_MAX), .flags = F_NULL),
	SCALAR("queue", conv_uint, S_U32, CFG, syslog.queue,
	       LIM(BWE_CFG_SLOG_QUEUE_MIN, BWE_CFG_SLOG_QUEUE_MAX), DEF_U(BWE_CFG_SLOG_QUEUE)),
	SCALAR("message_max", conv_uint, S_U32, CFG, syslog.message_max,
	       LIM(BWE_SLOG_MSG_MIN, BWE_SLOG_MSG_MAX), DEF_U(BWE_CFG_SLOG_MSG)),
};
static const struct table slog_table = TABLE(slog_rows, .check = check_slog);

static const struct cfg_name site_name = { "site name", NAME_CHARS, NAME_FIRST, "A-Z a-z 0-9 _ . -",
					   " (not starting with '-')" };

/* fleet present: a name and endpoints; the transport keys fit the endpoints. */
static int check_fleet(struct cfg_ctx *c, const struct sect *s)
{
	const struct bwe_cfgfile *cfg = c->cfg;
	char path[KEYPATH_MAX];
	struct where at;
	size_t i, plain = 0;

	if (!s->map)
		return 0;
	if (!cfg->fleet.name) {
		sect_key(s, "name", path, &at);
		return err_at(c, &at, "required key missing (this site's name in the fleet)");
	}
	if (!cfg->fleet.n_endpoints) {
		sect_key(s, "endpoints", path, &at);
		return err_at(c, &at, "required key missing (etcd's client URLs)");
	}
	for (i = 0; i < cfg->fleet.n_endpoints; i++)
		plain += !strncasecmp(cfg->fleet.endpoints[i], "http://", strlen("http://"));
	if (plain && !cfg->fleet.insecure) {
		sect_key(s, "endpoints", path, &at);
		return err_at(c, &at,
			      "plain http:// endpoint: anybody on the path could read and change "
			      "the fleet's containment state; use https:// or set insecure: true");
	}
	if (cfg->fleet.insecure && !plain) {
		sect_key(s, "insecure", path, &at);
		return err_at(c, &at, "applies only to http:// endpoints");
	}
	if ((cfg->fleet.tls_ca || cfg->fleet.tls_cert || cfg->fleet.tls_key) &&
	    plain == cfg->fleet.n_endpoints) {
		sect_key(s, "tls", path, &at);
		return err_at(c, &at, "applies only to https:// endpoints");
	}
	if (!cfg->fleet.tls_cert != !cfg->fleet.tls_key) {
		sect_key(s, "tls", path, &at);
		return err_at(c, &at, "needs both cert and key (or neither)");
	}
	if (!cfg->fleet.auth_user != !cfg->fleet.auth_password_file) {
		sect_key(s, "auth", path, &at);
		return err_at(c, &at, "needs both user and password_file");
	}
	return 0;
}

static const struct row fleet_tls_rows[] = {
	SCALAR("ca", conv_abs_path, S_STR, CFG, fleet.tls_ca, .max = BWE_CFG_HTTP_TLS_PATH_MAX),
	SCALAR("cert", conv_abs_path, S_STR, CFG, fleet.tls_cert, .max = BWE_CFG_HTTP_TLS_PATH_MAX),
	SCALAR("key", conv_abs_path, S_STR, CFG, fleet.tls_key, .max = BWE_CFG_HTTP_TLS_PATH_MAX),
};
static const struct table fleet_tls_table = TABLE(fleet_tls_rows);

static const struct row fleet_auth_rows[] = {
	SCALAR("user", conv_basic_user, S_STR, CFG, fleet.auth_user, LIM(1, 128)),
	SCALAR("password_file", conv_abs_path, S_STR, CFG, fleet.auth_password_file,
	       .max = BWE_CFG_HTTP_TLS_PATH_MAX),
};
static const struct table fleet_auth_table = TABLE(fleet_auth_rows);

static const struct row fleet_rows[] = {
	SCALAR("name", conv_name, S_STR, CFG, fleet.name, .arg = &site_name,
	       LIM(1, BWE_CFG_FLEET_NAME_MAX), .flags = F_NULL),
	LIST("endpoints", conv_endpoint, S_STR, CFG, fleet.endpoints, fleet.n_endpoints,
	     LIM(0, BWE_CFG_FLEET_URL_MAX), .flags = F_NULL | F_UNIQUE | F_HEAP,
	     .max_n = BWE_CFG_FLEET_ENDPOINTS_MAX, .noun = "endpoint"),
	SCALAR("prefix", conv_fleet_prefix, S_STR, CFG, fleet.prefix,
	       LIM(2, BWE_CFG_FLEET_PREFIX_MAX), DEF_S(BWE_CFG_FLEET_PREFIX)),
	MAP("tls", fleet_tls_table, 0),
	MAP("auth", fleet_auth_table, 0),
	SCALAR("insecure", conv_bool, S_INT, CFG, fleet.insecure, DEF_U(0)),
	SCALAR("heartbeat", conv_duration, S_U64, CFG, fleet.heartbeat_s,
	       LIM(1, BWE_CFG_FLEET_HEARTBEAT_MAX), DEF_U(BWE_CFG_FLEET_HEARTBEAT_S)),
	SCALAR("request_timeout", conv_duration, S_U64, CFG, fleet.request_timeout_s,
	       LIM(1, BWE_CFG_FLEET_TIMEOUT_MAX), DEF_U(BWE_CFG_FLEET_TIMEOUT_S)),
	SCALAR("share_addresses", conv_bool, S_INT, CFG, fleet.share_addresses, DEF_U(1)),
};
static const struct table fleet_table = TABLE(fleet_rows, .check = check_fleet);

static const struct row events_rows[] = {
	MAP("syslog", slog_table, 0),
};
static const struct table events_table = TABLE(events_rows);

/* In the order of the checks: max_ttl before the policy's rules, ... */
static const struct row top_rows[] = {
	MAPS("interfaces", iface_table, CFG, ifaces, n_ifaces, .flags = F_REQ | F_HEAP, .min_n = 1,
	     .max_n = BWE_CFG_IFACES_MAX, .noun = "interface", .check = check_ifaces),
	LIST("internal_networks", conv_prefix, S_PREFIX, CFG, internal.v, internal.n,
	     .def_list = internal_default, .flags = F_UNIQUE | F_HEAP, .min_n = 1,
	     .noun = "prefix"),
	LIST("exempt", conv_prefix, S_PREFIX, CFG, exempt.v, exempt.n,
	     .flags = F_NULL | F_UNIQUE | F_HEAP),
	LIST("allowlist", conv_prefix, S_PREFIX, CFG, allowlist.v, allowlist.n,
	     .flags = F_NULL | F_UNIQUE | F_HEAP),
	LIST("standard_ports", conv_uint, S_U16, CFG, std_ports, n_std_ports, LIM(1, PORT_MAX),
	     .def_list = std_ports_default, .flags = F_UNIQUE | F_HEAP, .dup = "port "),
	MAP("maps", maps_table, 0),
	MAP("paths", paths_table, 0),
	SCALAR("control_group", conv_name, S_STR, CFG, control_group, .arg = &group_name,
	       .max = BWE_CFG_GROUP_NAME_MAX, .flags = F_NULL),
	SCALAR("control_readonly_group", conv_name, S_STR, CFG, control_readonly_group,
	       .arg = &group_name, .max = BWE_CFG_GROUP_NAME_MAX, .flags = F_NULL),
	SCALAR("control_max_clients", conv_uint, S_U32, CFG, control_max_clients,
	       LIM(1, BWE_CFG_CLIENTS_MAX), DEF_U(BWE_CFG_CLIENTS)),
	SCALAR("control_timeout", conv_duration, S_U64, CFG, control_timeout_s,
	       LIM(1, BWE_CFG_CTL_TIMEOUT_MAX_S), DEF_U(BWE_CFG_CTL_TIMEOUT_S)),
	MAP("event_limits", evlimit_table, 0),
	SCALAR("sandbox_user", conv_name, S_STR, CFG, sandbox_user, .arg = &user_name,
	       LIM(1, BWE_CFG_USER_NAME_MAX), DEF_S(BWE_CFG_SANDBOX_USER)),
	SCALAR("monitor_only", conv_bool, S_INT, CFG, monitor_only, DEF_U(0)),
	SCALAR("event_dedup", conv_duration, S_U64, CFG, event_dedup_s,
	       LIM(1, BWE_CFG_EVENT_DEDUP_MAX_S), DEF_U(BWE_CFG_EVENT_DEDUP_S)),
	SCALAR("max_ttl", conv_duration, S_U64, CFG, max_ttl_s, LIM(1, BWE_DURATION_MAX_S),
	       DEF_U(BWE_CFG_MAX_TTL_S)),
	SCALAR("default_burst", conv_size, S_U64, CFG, default_burst, LIM(0, BWE_CFG_BURST_MAX),
	       DEF_U(0), .check = check_burst),
	SCALAR("feed_worker_memory", conv_size, S_U64, CFG, feed_worker_memory,
	       LIM(BWE_CFG_WORKER_MEM_MIN, BWE_CFG_WORKER_MEM_MAX), DEF_U(BWE_CFG_WORKER_MEM)),
	MAP("identity", identity_table, 0),
	MAPS("feeds", feed_table, CFG, feeds, n_feeds, .flags = F_NULL | F_HEAP,
	     .max_n = BWE_CFG_FEEDS_MAX, .noun = "feed",
	     .more = " (blocklist ids " XSTR(BWE_FEED_FIRST) ".." XSTR(BWE_FEED_MAX) ")"),
	MAP("policy", policy_table, offsetof(CFG, policy)),
	MAP("http", http_table, 0),
	MAP("events", events_table, 0),
	MAP("fleet", fleet_table, 0),
};
static const struct table top_table = TABLE(top_rows);

/* ---- pass 2: the tree against the tables -------------------------------------- */

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

static const struct row *row_find(const struct table *t, const char *key)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (!strcmp(t->rows[i].key, key))
			return &t->rows[i];
	return NULL;
}

static int unknown_key(struct cfg_ctx *c, const struct table *t, const struct node *e,
		       const char *path)
{
	const char *best = NULL;
	size_t best_d = SUGGEST_DIST + 1, d, i;

	for (i = 0; i < t->n; i++) {
		d = edit_distance(e->key, t->rows[i].key);
		if (d < best_d) {
			best_d = d;
			best = t->rows[i].key;
		}
	}
	if (best)
		return cfg_err(c, e->line, path, "unknown key \"%s\" (did you mean \"%s\"?)",
			       e->key, best);
	return cfg_err(c, e->line, path, "unknown key \"%s\"", e->key);
}

static int shape_map(struct cfg_ctx *c, const struct table *t, const struct node *map,
		     const char *path);

static int shape_kind(struct cfg_ctx *c, const struct node *n, enum node_kind want,
		      const char *path)
{
	if (n->kind == want)
		return 0;
	return cfg_err(c, n->line, path, "expected %s, found %s", kind_name(want),
		       kind_name(n->kind));
}

static int shape_value(struct cfg_ctx *c, const struct row *r, const struct node *n,
		       const char *path)
{
	char item[KEYPATH_MAX];
	size_t i;
	int err;

	if (n->null && (r->flags & F_NULL))
		return 0;
	switch (r->kind) {
	case K_SCALAR:
		return shape_kind(c, n, N_SCALAR, path);
	case K_MAP:
		err = shape_kind(c, n, N_MAP, path);
		return err ? err : shape_map(c, r->sub, n, path);
	default:
		break;
	}
	err = shape_kind(c, n, N_SEQ, path);
	for (i = 0; !err && i < n->n; i++) {
		path_idx(item, path, i);
		if (r->kind == K_LIST)
			err = shape_kind(c, &n->kids[i], N_SCALAR, item);
		else
			err = shape_kind(c, &n->kids[i], N_MAP, item)
				      ?: shape_map(c, r->sub, &n->kids[i], item);
	}
	return err;
}

/* Unknown keys and node kinds, in file order. */
static int shape_map(struct cfg_ctx *c, const struct table *t, const struct node *map,
		     const char *path)
{
	char child[KEYPATH_MAX];
	const struct row *r;
	size_t i;
	int err;

	for (i = 0; i < map->n; i++) {
		r = row_find(t, map->kids[i].key);
		if (!r)
			return unknown_key(c, t, &map->kids[i], path);
		err = shape_value(c, r, &map->kids[i], path_key(child, path, r->key));
		if (err)
			return err;
	}
	return 0;
}

/* ---- pass 3: the tables over the tree ----------------------------------------- */

/* Bytes of one stored value, for lists; S_BIT: 0, every entry in one word. */
static size_t store_size(const struct row *r)
{
	static const size_t sizes[] = {
		[S_U16] = sizeof(__u16),
		[S_U32] = sizeof(__u32),
		[S_U64] = sizeof(__u64),
		[S_INT] = sizeof(int),
		[S_DOUBLE] = sizeof(double),
		[S_STR] = sizeof(char *),
		[S_PREFIX] = sizeof(struct bwe_prefix),
		[S_BIT] = 0,
	};

	return r->store == S_CHARS ? r->max + 1 : sizes[r->store];
}

static int store(const struct row *r, const struct cfg_val *v, void *dst)
{
	switch (r->store) {
	case S_U16:
		*(__u16 *)dst = (__u16)v->u;
		break;
	case S_U32:
		*(__u32 *)dst = (__u32)v->u;
		break;
	case S_U64:
		*(__u64 *)dst = v->u;
		break;
	case S_INT:
		*(int *)dst = (int)v->u;
		break;
	case S_DOUBLE:
		*(double *)dst = v->d;
		break;
	case S_STR:
		*(char **)dst = strdup(v->s);
		return *(char **)dst ? 0 : -ENOMEM;
	case S_CHARS:
		snprintf(dst, r->max + 1, "%s", v->s);
		break;
	case S_PREFIX:
		*(struct bwe_prefix *)dst = v->p;
		break;
	case S_BIT:
		*(__u32 *)dst |= 1U << v->u;
		break;
	}
	return 0;
}

/* A string a row stored, for comparing entries. */
static const char *stored_str(const struct row *r, const void *src)
{
	return r->store == S_STR ? *(char *const *)src : src;
}

static int walk_table(struct cfg_ctx *c, const struct table *t, const struct sect *s);

/* An entry of a sequence of mappings against the ones before it: row r must differ. */
static int unique_row(struct cfg_ctx *c, const struct table *t, const struct row *r,
		      const struct sect *s, const struct where *at)
{
	const char *mine = stored_str(r, (const char *)s->base + r->off), *entry;
	char other[KEYPATH_MAX];
	size_t j;

	for (j = 0; j < s->idx; j++) {
		entry = (const char *)s->base - (s->idx - j) * t->size;
		if (!strcmp(mine, stored_str(r, entry + r->off)))
			return err_at(c, at, "duplicate %s \"%s\" (also %s)", r->noun, mine,
				      path_idx(other, s->seq_path, j));
	}
	return 0;
}

/* The entries of a list, converted, then checked for repeats, then stored. */
static int walk_list(struct cfg_ctx *c, const struct row *r, const struct where *at,
		     const struct node *seq, char *arr, size_t count)
{
	char path[KEYPATH_MAX], other[KEYPATH_MAX];
	struct where item = { .path = path, .line = at->line };
	size_t size = store_size(r), i, n_ok, j = 0;
	struct val_pos *v;
	int err = 0;

	v = calloc(count, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (n_ok = 0; n_ok < count; n_ok++) {
		path_idx(path, at->path, n_ok);
		item.line = seq ? seq->kids[n_ok].line : at->line;
		v[n_ok].i = n_ok;
		err = r->conv(c, r, &item, seq ? seq->kids[n_ok].text : r->def_list[n_ok],
			      &v[n_ok].v);
		if (err)
			break;
	}
	for (i = 0; !err && i < count; i++)
		err = store(r, &v[i].v, arr + i * size);
	/* a repeat before the first bad entry is the first error in the file */
	i = (r->flags & F_UNIQUE) && err != -ENOMEM ? val_first_repeat(v, n_ok, &j) : n_ok;
	if (i < n_ok) {
		path_idx(path, at->path, i);
		item.line = seq ? seq->kids[i].line : at->line;
		err = err_at(c, &item, "%s%s%s%s is listed twice (also %s)", r->dup ? r->dup : "",
			     r->dup ? "" : "\"", seq ? seq->kids[i].text : r->def_list[i],
			     r->dup ? "" : "\"", path_idx(other, at->path, j));
	}
	free(v);
	return err;
}

/* A K_LIST or K_MAPS row: n its node (NULL: absent), written at base. */
static int walk_seq(struct cfg_ctx *c, const struct row *r, const struct node *n,
		    const struct where *at, char *base)
{
	size_t size = r->kind == K_MAPS ? r->sub->size : store_size(r);
	char path[KEYPATH_MAX];
	struct where item;
	size_t count = 0, i;
	char *arr;
	int err = 0;

	if (!n && (r->flags & F_REQ))
		return err_at(c, at, "required key missing");
	if (!n && !r->def_list)
		return 0;
	if (n)
		count = n->kind == N_SEQ ? n->n : 0; /* else null: none */
	else
		while (r->def_list[count])
			count++;
	if (n && count < r->min_n)
		return err_at(c, at, "at least one %s is required", r->noun);
	if (n && r->max_n && count > r->max_n) {
		item = (struct where){ path_idx(path, at->path, r->max_n), n->kids[r->max_n].line };
		return err_at(c, &item, "at most %zu %ss%s", r->max_n, r->noun,
			      r->more ? r->more : "");
	}
	if (r->n_off != NO_COUNT)
		*(size_t *)(base + r->n_off) = 0;
	if (!count)
		return 0;
	arr = base + r->off;
	if (r->flags & F_HEAP) {
		arr = calloc(count, size ? size : 1);
		if (!arr)
			return -ENOMEM;
		*(void **)(base + r->off) = arr;
	}
	if (r->kind == K_LIST) {
		err = walk_list(c, r, at, n, arr, count);
		if (!err && r->n_off != NO_COUNT)
			*(size_t *)(base + r->n_off) = count;
		return err;
	}
	for (i = 0; !err && i < count; i++) {
		const struct sect entry = {
			.map = &n->kids[i],
			.path = path_idx(path, at->path, i),
			.line = n->kids[i].line,
			.base = arr + i * size,
			.seq_path = at->path,
			.idx = i,
		};

		*(size_t *)(base + r->n_off) = i + 1; /* counted before filled: freed on error */
		memset(entry.base, 0, size);
		err = walk_table(c, r->sub, &entry);
	}
	return err;
}

/* One row over the section s; its node n (NULL: absent). */
static int walk_row(struct cfg_ctx *c, const struct row *r, const struct node *n,
		    const struct where *at, char *base)
{
	struct cfg_val v = { 0 };
	bool none = !n || (n->null && (r->flags & F_NULL));
	int err;

	const struct sect sub = {
		.map = none ? NULL : n,
		.path = at->path,
		.line = at->line,
		.base = base + r->off,
	};

	switch (r->kind) {
	case K_MAP:
		return walk_table(c, r->sub, &sub);
	case K_LIST:
	case K_MAPS:
		return walk_seq(c, r, n, at, base);
	default:
		break;
	}
	if (none && (r->flags & F_REQ))
		return err_at(c, at, "required key missing");
	if (none)
		return r->has_def ? store(r, &r->def, base + r->off) : 0;
	err = r->conv(c, r, at, n->text, &v);
	return err ? err : store(r, &v, base + r->off);
}

/* The rows of t over the mapping s->map (NULL: absent, every default). */
static int walk_table(struct cfg_ctx *c, const struct table *t, const struct sect *s)
{
	char child[KEYPATH_MAX];
	const struct node *n;
	struct where at;
	size_t i;
	int err;

	if (t->init)
		t->init(s->base);
	for (i = 0; i < t->n; i++) {
		const struct row *r = &t->rows[i];

		n = sect_key(s, r->key, child, &at);
		err = walk_row(c, r, n, &at, s->base);
		if (!err && s->seq_path && r->kind == K_SCALAR && (r->flags & F_UNIQUE))
			err = unique_row(c, t, r, s, &at);
		if (!err && r->check)
			err = r->check(c, r, n, &at);
		if (err)
			return err;
	}
	return t->check ? t->check(c, s) : 0;
}

/* ---- the keys, for the man page's test ---------------------------------------- */

static int keys_of(const struct table *t, const char *parent,
		   int (*cb)(const char *path, void *ctx), void *ctx)
{
	char path[KEYPATH_MAX], sub[KEYPATH_MAX];
	size_t i;
	int err;

	for (i = 0; i < t->n; i++) {
		const struct row *r = &t->rows[i];

		err = cb(path_key(path, parent, r->key), ctx);
		if (!err && r->sub)
			err = keys_of(r->sub,
				      r->kind == K_MAPS ? path_fmt(sub, "%s[]", path) : path, cb,
				      ctx);
		if (err)
			return err;
	}
	return 0;
}

int bwe_config_keys(int (*cb)(const char *path, void *ctx), void *ctx)
{
	return keys_of(&top_table, "", cb, ctx);
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
	buf = malloc(BWE_CFG_FILE_MAX + 1); /* one more: detects a larger file */
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

static void free_strs(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* NULL when path is a regular file of root's that only its owner may read. */
static const char *secret_problem(const char *path, char *buf, size_t len)
{
	struct stat st;

	if (stat(path, &st)) {
		snprintf(buf, len, "cannot stat it: %s", strerror(errno));
		return buf;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(buf, len, "not a regular file");
		return buf;
	}
	if (st.st_uid != 0) {
		snprintf(buf, len, "owned by uid %u, not root", (unsigned int)st.st_uid);
		return buf;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		snprintf(buf, len, "readable by group or others (mode %04o; chmod 600 it)",
			 (unsigned int)(st.st_mode & 07777));
		return buf;
	}
	return NULL;
}

size_t bwe_config_check_secrets(const struct bwe_cfgfile *cfg,
				void (*cb)(const char *feed, const char *key, const char *path,
					   const char *problem, void *ctx),
				void *ctx)
{
	size_t i, k, bad = 0;
	char buf[256];

	for (i = 0; i < cfg->n_feeds; i++) {
		const struct bwe_cfg_feed *f = &cfg->feeds[i];
		const struct {
			const char *key, *path;
		} files[] = {
			{ "api_key_file", f->api_key_file },
			{ "bearer_file", f->bearer_file },
			{ "auth.password_file", f->auth_password_file },
		};

		for (k = 0; k < ARRAY_SIZE(files); k++) {
			const char *why;

			if (!files[k].path)
				continue;
			why = secret_problem(files[k].path, buf, sizeof(buf));
			bad += why != NULL;
			cb(f->name, files[k].key, files[k].path, why, ctx);
		}
	}
	for (k = 0; cfg->fleet.name && k < 2; k++) {
		const char *file = k ? cfg->fleet.tls_key : cfg->fleet.auth_password_file;
		const char *why;

		if (!file)
			continue;
		why = secret_problem(file, buf, sizeof(buf));
		bad += why != NULL;
		cb(NULL, k ? "fleet.tls.key" : "fleet.auth.password_file", file, why, ctx);
	}
	return bad;
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
	free(cfg->control_readonly_group);
	for (i = 0; i < cfg->event_limits.n_types; i++)
		free(cfg->event_limits.types[i].action);
	free(cfg->event_limits.types);
	free(cfg->sandbox_user);
	for (i = 0; i < cfg->http.n_listen; i++)
		free(cfg->http.listen[i]);
	free(cfg->http.listen);
	free(cfg->http.tls_cert);
	free(cfg->http.tls_key);
	for (i = 0; i < cfg->n_feeds; i++) {
		free(cfg->feeds[i].name);
		free(cfg->feeds[i].source);
		free(cfg->feeds[i].format);
		free(cfg->feeds[i].ca_file);
		free(cfg->feeds[i].api_key_file);
		free(cfg->feeds[i].bearer_file);
		free(cfg->feeds[i].auth_user);
		free(cfg->feeds[i].auth_password_file);
		free(cfg->feeds[i].taxii_collection);
		free(cfg->feeds[i].misp_last);
		free_strs(cfg->feeds[i].cs_scopes, cfg->feeds[i].n_cs_scopes);
		free_strs(cfg->feeds[i].cs_origins, cfg->feeds[i].n_cs_origins);
		free_strs(cfg->feeds[i].cs_scenarios_containing,
			  cfg->feeds[i].n_cs_scenarios_containing);
		free_strs(cfg->feeds[i].cs_scenarios_not_containing,
			  cfg->feeds[i].n_cs_scenarios_not_containing);
	}
	free(cfg->feeds);
	free(cfg->policy.never_quarantine.v);
	for (i = 0; i < cfg->policy.n_expected; i++) {
		free(cfg->policy.expected[i].hosts);
		free(cfg->policy.expected[i].peers);
		free(cfg->policy.expected[i].ports);
		free(cfg->policy.expected[i].schedule);
	}
	free(cfg->policy.expected);
	free(cfg->syslog.target);
	free(cfg->syslog.app_name);
	free(cfg->syslog.hostname);
	free(cfg->fleet.name);
	for (i = 0; i < cfg->fleet.n_endpoints; i++)
		free(cfg->fleet.endpoints[i]);
	free(cfg->fleet.endpoints);
	free(cfg->fleet.prefix);
	free(cfg->fleet.tls_ca);
	free(cfg->fleet.tls_cert);
	free(cfg->fleet.tls_key);
	free(cfg->fleet.auth_user);
	free(cfg->fleet.auth_password_file);
	free(cfg);
}

int bwe_config_load(const char *path, struct bwe_cfgfile **out, char *err, size_t errlen)
{
	struct cfg_ctx c = { .file = path, .err = err, .errlen = errlen };
	struct node root = { .kind = N_SCALAR };
	struct sect top = { .map = &root, .path = "" };
	unsigned char *buf = NULL;
	size_t len = 0;
	int ret;

	if (err && errlen)
		err[0] = '\0';
	if (!path || !out) {
		if (err && errlen)
			snprintf(err, errlen, "bwe_config_load: no file given");
		return -EINVAL;
	}
	ret = read_file(&c, &buf, &len);
	if (!ret)
		ret = build_file(&c, buf, len, &root);
	if (ret)
		goto cleanup;
	if (root.kind != N_MAP) {
		ret = cfg_err(&c, 0, "interfaces",
			      "required key missing (the file has no settings)");
		goto cleanup;
	}
	ret = shape_map(&c, &top_table, &root, "");
	if (ret)
		goto cleanup;
	c.cfg = calloc(1, sizeof(*c.cfg));
	if (!c.cfg) {
		ret = -ENOMEM;
		goto cleanup;
	}
	c.cfg->path = strdup(path);
	top.base = c.cfg;
	ret = c.cfg->path ? walk_table(&c, &top_table, &top) : -ENOMEM;
	if (ret)
		goto cleanup;
	*out = c.cfg;
	c.cfg = NULL;
cleanup:
	if (ret == -ENOMEM && err && errlen && !err[0])
		cfg_err(&c, 0, NULL, "out of memory");
	bwe_config_free(c.cfg);
	node_free(&root);
	free(buf);
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
