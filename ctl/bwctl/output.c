// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * output.c - bwctl's printing helpers; the contract is in output.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bwe_util.h"
#include "log.h"
#include "units.h"
#include "output.h"

#define COL_GAP		  2    /* spaces between table columns */
#define GEN_INDENT	  2    /* spaces per nesting level of generic text */
#define SCALAR_LEN	  1024 /* bytes of one scalar printed by out_generic */
#define KIBI		  1024ULL
#define KILO		  1000.0
#define ONE_DECIMAL_BELOW 100.0 /* "12.3mbit" but "123mbit" */
#define UTF8_MAX_SEQ	  4
#define REPLACEMENT	  '?'

static bool json_mode;

void out_init(bool json)
{
	json_mode = json;
}

bool out_is_json(void)
{
	return json_mode;
}

/* ---- memory -------------------------------------------------------------- */

void *out_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		fatalx("out of memory");
	return p;
}

void *out_xreallocarray(void *p, size_t n, size_t size)
{
	void *q = reallocarray(p, n ? n : 1, size ? size : 1);

	if (!q)
		fatalx("out of memory");
	return q;
}

char *out_xstrdup(const char *s)
{
	char *d = strdup(s);

	if (!d)
		fatalx("out of memory");
	return d;
}

/* ---- safe strings ---------------------------------------------------------- */

/*
 * Length of the valid UTF-8 sequence at s (1..4), 0 when invalid: overlong
 * forms, surrogates and code points past U+10FFFF are invalid. *cp gets the
 * code point.
 */
static size_t utf8_seq(const unsigned char *s, __u32 *cp)
{
	static const __u32 min_cp[UTF8_MAX_SEQ + 1] = { 0, 0, 0x80, 0x800, 0x10000 };
	size_t n;
	__u32 v;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		v = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		v = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		v = s[0] & 0x07;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0; /* also stops at the NUL */
		v = v << 6 | (s[i] & 0x3f);
	}
	if (v < min_cp[n] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return n;
}

/* C0 and C1 controls and DEL: anything a terminal may act on. */
static bool is_control(__u32 cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp < 0xa0);
}

void out_safe(const char *s, char *buf, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0;

	if (!len)
		return;
	while (*p) {
		__u32 cp;
		size_t n = utf8_seq(p, &cp);

		if (!n || is_control(cp)) {
			if (o + 1 >= len)
				break;
			buf[o++] = REPLACEMENT;
			p += n ? n : 1;
			continue;
		}
		if (o + n >= len)
			break;
		memcpy(buf + o, p, n);
		o += n;
		p += n;
	}
	buf[o] = '\0';
}

void out_puts(FILE *f, const char *s)
{
	char *buf;
	size_t len;

	if (!s) {
		fputs(OUT_NONE, f);
		return;
	}
	len = strlen(s) + 1;
	buf = out_xmalloc(len);
	out_safe(s, buf, len);
	fputs(buf, f);
	free(buf);
}

size_t out_width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

/* ---- fields ---------------------------------------------------------------- */

struct json_object *out_get(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (!o || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v))
		return NULL;
	return v; /* json-c holds a JSON null as NULL */
}

const char *out_get_str(struct json_object *o, const char *key)
{
	struct json_object *v = out_get(o, key);

	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

bool out_get_u64(struct json_object *o, const char *key, __u64 *v)
{
	struct json_object *j = out_get(o, key);
	double d;

	if (json_object_is_type(j, json_type_int)) {
		if (json_object_get_int64(j) < 0)
			return false; /* large unsigned values read as INT64_MAX */
		*v = json_object_get_uint64(j);
		return true;
	}
	if (json_object_is_type(j, json_type_double)) {
		d = json_object_get_double(j);
		if (!(d >= 0) || d >= 0x1p64)
			return false;
		*v = (__u64)d;
		return true;
	}
	return false;
}

void out_scalar(struct json_object *v, char *buf, size_t len)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
		snprintf(buf, len, "%s", OUT_NONE);
		break;
	case json_type_boolean:
		snprintf(buf, len, "%s", json_object_get_boolean(v) ? "yes" : "no");
		break;
	case json_type_string:
		out_safe(json_object_get_string(v), buf, len);
		break;
	default:
		out_safe(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
								   JSON_C_TO_STRING_NOSLASHESCAPE),
			 buf, len);
		break;
	}
}

/* ---- the one print call ----------------------------------------------------- */

void out_result(struct json_object *result, out_text_fn text, const void *ctx)
{
	if (json_mode) {
		int flags = JSON_C_TO_STRING_NOSLASHESCAPE |
			    (isatty(STDOUT_FILENO)
				     ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED
				     : JSON_C_TO_STRING_PLAIN);

		/* a NULL result is JSON null */
		printf("%s\n", json_object_to_json_string_ext(result, flags));
	} else {
		(text ? text : out_text_generic)(stdout, result, ctx);
	}
	fflush(stdout);
}

void out_text_generic(FILE *f, struct json_object *result, const void *ctx)
{
	(void)ctx;
	out_generic(f, result, 0);
}

/* ---- generic text -------------------------------------------------------------- */

static bool is_container(struct json_object *v)
{
	return json_object_is_type(v, json_type_object) || json_object_is_type(v, json_type_array);
}

static bool container_empty(struct json_object *v)
{
	if (json_object_is_type(v, json_type_object))
		return json_object_object_length(v) == 0;
	return json_object_array_length(v) == 0;
}

/* An array holding only scalars prints on one line, comma separated. */
static bool flat_array(struct json_object *v)
{
	size_t n = json_object_array_length(v);

	for (size_t i = 0; i < n; i++)
		if (is_container(json_object_array_get_idx(v, i)))
			return false;
	return true;
}

/*
 * Start a line at indent; a pending "- " (the first line of an array item)
 * takes the place of the last two spaces.
 */
static void gen_indent(FILE *f, int indent, bool *dash)
{
	if (*dash) {
		fprintf(f, "%*s- ", indent - GEN_INDENT, "");
		*dash = false;
	} else {
		fprintf(f, "%*s", indent, "");
	}
}

static void gen_flat(FILE *f, struct json_object *v)
{
	char buf[SCALAR_LEN];

	if (json_object_is_type(v, json_type_array)) {
		size_t n = json_object_array_length(v);

		for (size_t i = 0; i < n; i++) {
			out_scalar(json_object_array_get_idx(v, i), buf, sizeof(buf));
			fprintf(f, "%s%s", i ? ", " : "", buf);
		}
		if (!n)
			fputs(OUT_NONE, f);
		return;
	}
	if (is_container(v) || /* an empty object */
	    (json_object_is_type(v, json_type_string) && !*json_object_get_string(v))) {
		fputs(OUT_NONE, f);
		return;
	}
	out_scalar(v, buf, sizeof(buf));
	fputs(buf, f);
}

static void gen_value(FILE *f, struct json_object *v, int indent, bool *dash);

static void gen_object(FILE *f, struct json_object *o, int indent, bool *dash)
{
	char key[SCALAR_LEN];

	json_object_object_foreach(o, k, v) {
		out_safe(k, key, sizeof(key));
		gen_indent(f, indent, dash);
		if (is_container(v) && !container_empty(v) &&
		    !(json_object_is_type(v, json_type_array) && flat_array(v))) {
			fprintf(f, "%s:\n", key);
			gen_value(f, v, indent + GEN_INDENT, dash);
		} else {
			fprintf(f, "%s: ", key);
			gen_flat(f, v);
			fputc('\n', f);
		}
	}
}

static void gen_value(FILE *f, struct json_object *v, int indent, bool *dash)
{
	if (json_object_is_type(v, json_type_object) && !container_empty(v)) {
		gen_object(f, v, indent, dash);
	} else if (json_object_is_type(v, json_type_array) && !container_empty(v)) {
		size_t n = json_object_array_length(v);

		for (size_t i = 0; i < n; i++) {
			*dash = true;
			gen_value(f, json_object_array_get_idx(v, i), indent + GEN_INDENT, dash);
		}
	} else if (is_container(v)) {
		gen_indent(f, indent, dash);
		fputs("(none)\n", f);
	} else {
		gen_indent(f, indent, dash);
		gen_flat(f, v);
		fputc('\n', f);
	}
}

void out_generic(FILE *f, struct json_object *v, int indent)
{
	bool dash = false;

	gen_value(f, v, indent, &dash);
}

/* ---- human units ------------------------------------------------------------------ */

void out_fmt_bytes(__u64 bytes, char *buf, size_t len)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	double d = (double)bytes;
	size_t i = 0;

	if (bytes < KIBI) {
		snprintf(buf, len, "%lluB", (unsigned long long)bytes);
		return;
	}
	d /= KIBI;
	while (d >= KIBI && i + 1 < ARRAY_SIZE(units)) {
		d /= KIBI;
		i++;
	}
	snprintf(buf, len, d < ONE_DECIMAL_BELOW ? "%.1f%s" : "%.0f%s", d, units[i]);
}

void out_fmt_size(__u64 bytes, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	size_t i = 0;

	while (bytes && bytes % KIBI == 0 && i + 1 < ARRAY_SIZE(units)) {
		bytes /= KIBI;
		i++;
	}
	snprintf(buf, len, "%llu%s", (unsigned long long)bytes, units[i]);
}

void out_fmt_bitrate(__u64 bytes_per_sec, char *buf, size_t len)
{
	static const char *const units[] = { "kbit", "mbit", "gbit", "tbit" };
	double bits = (double)bytes_per_sec * (double)BWE_BITS_PER_BYTE;
	size_t i = 0;

	if (bits < KILO) {
		snprintf(buf, len, "%.0fbit", bits);
		return;
	}
	bits /= KILO;
	while (bits >= KILO && i + 1 < ARRAY_SIZE(units)) {
		bits /= KILO;
		i++;
	}
	snprintf(buf, len, bits < ONE_DECIMAL_BELOW ? "%.1f%s" : "%.0f%s", bits, units[i]);
}

void out_fmt_rate_exact(__u64 bytes_per_sec, char *buf, size_t len)
{
	if (bwe_rate_fmt(bytes_per_sec, buf, len))
		snprintf(buf, len, "%lluB/s", (unsigned long long)bytes_per_sec);
}

/* ---- tables ------------------------------------------------------------------------ */

struct out_table {
	const struct out_col *cols;
	size_t ncols, nrows, cap;
	char **cells; /* nrows * ncols, row major */
};

struct out_table *out_table_new(const struct out_col *cols, size_t ncols)
{
	struct out_table *t = out_xmalloc(sizeof(*t));

	*t = (struct out_table){ .cols = cols, .ncols = ncols };
	return t;
}

void out_table_add(struct out_table *t, const char *const *cells)
{
	if (t->nrows == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->cells = out_xreallocarray(t->cells, t->cap * t->ncols, sizeof(char *));
	}
	for (size_t i = 0; i < t->ncols; i++) {
		const char *s = cells[i] ? cells[i] : OUT_NONE;
		size_t len = strlen(s) + 1;
		char *d = out_xmalloc(len);

		out_safe(s, d, len);
		t->cells[t->nrows * t->ncols + i] = d;
	}
	t->nrows++;
}

size_t out_table_rows(const struct out_table *t)
{
	return t->nrows;
}

static void table_line(FILE *f, const struct out_table *t, const size_t *w,
		       const char *const *cells)
{
	for (size_t i = 0; i < t->ncols; i++) {
		size_t pad = w[i] - out_width(cells[i]);
		bool last = i + 1 == t->ncols;

		if (t->cols[i].right)
			fprintf(f, "%*s%s", (int)pad, "", cells[i]);
		else
			fprintf(f, "%s%*s", cells[i], last ? 0 : (int)pad, "");
		if (!last)
			fprintf(f, "%*s", COL_GAP, "");
	}
	fputc('\n', f);
}

void out_table_print(FILE *f, const struct out_table *t)
{
	size_t *w = out_xmalloc(t->ncols * sizeof(*w));
	const char **head = out_xmalloc(t->ncols * sizeof(*head));

	for (size_t i = 0; i < t->ncols; i++) {
		head[i] = t->cols[i].head;
		w[i] = out_width(head[i]);
		for (size_t r = 0; r < t->nrows; r++) {
			size_t cw = out_width(t->cells[r * t->ncols + i]);

			if (cw > w[i])
				w[i] = cw;
		}
	}
	table_line(f, t, w, head);
	for (size_t r = 0; r < t->nrows; r++)
		table_line(f, t, w, (const char *const *)&t->cells[r * t->ncols]);
	free(head);
	free(w);
}

void out_table_free(struct out_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}
