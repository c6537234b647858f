/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tokens.h - the HTTP API's bearer tokens (layer 1: a store whose only
 * side effect is its own file, state_dir/tokens.json).
 *
 * As CrowdSec's `cscli bouncers add`: a token is made once, shown once to
 * the admin who asked for it, and kept only as a salted SHA-256 hash
 * (GnuTLS), compared in constant time. Each token has a name (the actor of
 * every change made with it) and scopes (proto.h: read, contain, block,
 * admin). The file is written atomically with mode 0600 on every add and
 * revoke; "last used" is kept in memory and written at most once every
 * TOK_LAST_USED_SAVE_S seconds (tok_flush()), so that a busy API client
 * does not mean a file write per request.
 */
#ifndef BWCTLD_TOKENS_H
#define BWCTLD_TOKENS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include <linux/types.h>
#include <json-c/json.h>

#include "proto.h"

#define TOK_MAX		     256 /* tokens in the store */
#define TOK_SECRET_BYTES     32	 /* random bytes in a token (getrandom) */
#define TOK_PREFIX	     "bwe_"
/* "bwe_" and the base64url text of the random bytes, no padding, and a NUL */
#define TOK_TEXT_LEN	     (sizeof(TOK_PREFIX) - 1 + (TOK_SECRET_BYTES * 4 + 2) / 3 + 1)
#define TOK_FILE	     "tokens.json"
#define TOK_FILE_MODE	     0600
#define TOK_LAST_USED_SAVE_S 60
#define TOK_ERR_LEN	     256

struct tokens;

/* Read state_dir/tokens.json (absent: no tokens). -EINVAL: unreadable file. */
int tok_open(struct tokens **out, const char *state_dir);
void tok_free(struct tokens *t); /* NULL-safe; writes a pending "last used" first */

/*
 * Make a token NAME with the scopes (BWE_SCOPE_* bits) and save the store.
 * text (TOK_TEXT_LEN bytes) gets the token, the only time it exists in
 * clear. -EINVAL bad name or scopes, -EEXIST the name is taken, -ENOSPC
 * the store is full, -errno the save failed; err says which, nothing changed.
 */
int tok_add(struct tokens *t, const char *name, __u32 scopes, time_t now, char *text,
	    size_t textlen, char *err, size_t errlen);
/* Forget NAME and save. -ENOENT no such token; -errno the save failed. */
int tok_revoke(struct tokens *t, const char *name, char *err, size_t errlen);
/* [{name, scopes, created, last_used}] - never a token or a hash. */
struct json_object *tok_list_json(const struct tokens *t);
size_t tok_count(const struct tokens *t);

/*
 * Who holds this token? 0 with name (BWE_TOKEN_NAME_MAX + 1 bytes) and
 * *scopes filled and "last used" set to now, or -ENOENT (unknown token,
 * NULL or malformed text).
 */
int tok_check(struct tokens *t, const char *text, time_t now, char *name, __u32 *scopes);
/* Write "last used" when it changed and TOK_LAST_USED_SAVE_S have passed. */
void tok_flush(struct tokens *t, time_t now);

#endif /* BWCTLD_TOKENS_H */
