/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * render.h - the text form of each result bwctld returns (--json prints the
 * result itself). Each renderer is an out_text_fn (output.h) and falls back
 * to generic "key: value" text when a result does not have the expected
 * shape, so a daemon that adds fields never breaks the command.
 *
 * Result fields each renderer reads (see bwctl(8), RESULTS):
 *   changed   {"changed": [entry...]}; entry "host" or "cidr", "expires"
 *             (RFC 3339 or null), "rate" (bytes/s), "burst" (bytes)
 *   list      [entry...]; entry "host" or "cidr", "reason", "actor",
 *             "since", "expires", throttle also "rate", "burst"
 *   stats     {reason: {"packets", "bytes"}}
 *   lookup    {"address", "verdict", "reason", "entry", "feed", ...}
 *   attach    {"iface", ...}
 *   names     {"detached": [name...]} or {"refreshed": [name...]}
 */
#ifndef BWCTL_RENDER_H
#define BWCTL_RENDER_H

#include <stdbool.h>
#include <stdio.h>
#include <json-c/json.h>

/* What a change command did: "quarantined 198.18.0.10 (expires ...)". */
struct render_changed {
	const char *verb;	  /* "quarantined" */
	const char *after;	  /* after the address: " from the allowlist" */
	const char *unchanged;	  /* "already quarantined" */
	bool show_rate;		  /* throttle: " to 10mbit, burst 64KiB" */
	bool show_expiry;	  /* commands that take --ttl */
	struct json_object *sent; /* the hosts/cidrs asked for */
};
void render_changed(FILE *f, struct json_object *result, const void *ctx);

/* ctx: the list kind as sent ("quarantine", "throttle", "blocks", ...). */
void render_list(FILE *f, struct json_object *result, const void *ctx);
void render_stats(FILE *f, struct json_object *result, const void *ctx);
/* bwctl fleet status: this site's link to etcd, then one row per site. */
void render_fleet(FILE *f, struct json_object *result, const void *ctx);
/* ctx: the address asked about. */
void render_lookup(FILE *f, struct json_object *result, const void *ctx);
/* bwctl scope: the target's listed peers and signals, then one row per host. */
void render_scope(FILE *f, struct json_object *result, const void *ctx);
/* ctx: the interface asked for. */
void render_attach(FILE *f, struct json_object *result, const void *ctx);

/* A list of names under key: "detached lan0" per name. */
struct render_names {
	const char *key;  /* "detached" */
	const char *verb; /* "detached" */
	const char *none; /* "no interface was attached" */
};
void render_names(FILE *f, struct json_object *result, const void *ctx);

#endif /* BWCTL_RENDER_H */
