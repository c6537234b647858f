/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * output.h - bwctl's printing helpers (after iproute2's json_print: a
 * command makes one print call and the mode decides what comes out).
 *
 *   out_result()  --json: the daemon's "result" exactly as received (pretty
 *                 on a terminal, one line otherwise); text: the command's
 *                 renderer. No command tests the mode itself.
 *   tables        aligned columns for people (out_table_*).
 *   generic text  any JSON value as "key: value" lines, nested values
 *                 indented, array items as "- " (out_generic()).
 *   values        field access that tolerates absent or null fields, and
 *                 human units.
 *
 * Every string that came from the daemon goes through out_safe(): control
 * characters and invalid UTF-8 print as '?', so a "reason" typed by one
 * user cannot drive another user's terminal.
 */
#ifndef BWCTL_OUTPUT_H
#define BWCTL_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>
#include <json-c/json.h>

#define OUT_NUM_LEN 32	/* a formatted number with its unit */
#define OUT_NONE    "-" /* a value that is absent or null */

/* Called once by main(). */
void out_init(bool json);
bool out_is_json(void);

typedef void (*out_text_fn)(FILE *f, struct json_object *result, const void *ctx);

/* The one print call of a command (see above); prints to stdout. */
void out_result(struct json_object *result, out_text_fn text, const void *ctx);
/* A renderer for results of no known shape: out_generic() at indent 0. */
void out_text_generic(FILE *f, struct json_object *result, const void *ctx);

/* Any JSON value as indented "key: value" text. */
void out_generic(FILE *f, struct json_object *v, int indent);

/* ---- strings ---------------------------------------------------------- */

/* Copy s into buf (always terminated), unsafe characters as '?'. */
void out_safe(const char *s, char *buf, size_t len);
/* fputs() of out_safe(s); NULL prints OUT_NONE. */
void out_puts(FILE *f, const char *s);
/* Characters (code points) of a UTF-8 string: its width on a terminal. */
size_t out_width(const char *s);

/* ---- fields ------------------------------------------------------------ */

/* The member key of o if it exists and is not null; else NULL. */
struct json_object *out_get(struct json_object *o, const char *key);
/* The string member key of o, or NULL when absent, null or not a string. */
const char *out_get_str(struct json_object *o, const char *key);
/* A non-negative number member (integer or whole double); false if none. */
bool out_get_u64(struct json_object *o, const char *key, __u64 *v);
/* Any scalar as text: strings as is, null as OUT_NONE, bools yes/no. */
void out_scalar(struct json_object *v, char *buf, size_t len);

/* ---- human units ------------------------------------------------------- */

/* Bytes, binary multiples, three significant digits: "512B", "1.5KiB". */
void out_fmt_bytes(__u64 bytes, char *buf, size_t len);
/* Bytes in the largest binary unit that divides exactly: "64KiB", "1500B". */
void out_fmt_size(__u64 bytes, char *buf, size_t len);
/* Bytes per second as bits per second, decimal as tc: "12.3mbit". */
void out_fmt_bitrate(__u64 bytes_per_sec, char *buf, size_t len);
/* Bytes per second, exact, in the form bwe_rate_parse() reads: "10mbit". */
void out_fmt_rate_exact(__u64 bytes_per_sec, char *buf, size_t len);

/* ---- tables ------------------------------------------------------------ */

struct out_col {
	const char *head;
	bool right; /* right-aligned (numbers) */
};

struct out_table;

struct out_table *out_table_new(const struct out_col *cols, size_t ncols);
/* Add one row of ncols cells (copied and made safe; NULL is OUT_NONE). */
void out_table_add(struct out_table *t, const char *const *cells);
size_t out_table_rows(const struct out_table *t);
/* Print the header and rows; the last column is never padded. */
void out_table_print(FILE *f, const struct out_table *t);
void out_table_free(struct out_table *t);

/* Memory: print "out of memory" and exit 1 rather than return NULL. */
void *out_xmalloc(size_t n);
void *out_xreallocarray(void *p, size_t n, size_t size);
char *out_xstrdup(const char *s);

#endif /* BWCTL_OUTPUT_H */
