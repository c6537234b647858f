// SPDX-License-Identifier: GPL-2.0-only
/*
 * feeds.c - threat-intel feeds (layer 4, a source of change): fetch (local files and http(s) through
 * libcurl in a worker thread), parse (lib/feed.c, the one parser per
 * format), guard, and apply the difference to the blocklist, with the
 * provenance of every entry.
 *
 * Safety rules (docs/operations.md, "Feeds"):
 *   - the last good version stays in force when a new one fails to
 *     download, is an HTML page, has too many refused lines, or shrinks by
 *     more than max_shrink (unless may_be_empty); it is kept on disk too;
 *   - additions are applied and flushed before removals, so an indicator in
 *     both versions is never missing for a moment;
 *   - internal, exempt, allowlisted and gateway addresses are never looked
 *     up in the blocklist (bwe_netclass decides first), so a feed entry that
 *     covers them leaves exactly them reachable; the overlap is reported.
 *
 * A crowdsec-lapi feed is a CrowdSec bouncer (docs/operations.md,
 * "CrowdSec"): it pulls the LAPI's decision stream, keeps the decisions
 * (lib/crowdsec.h) and installs their prefixes through the same path and
 * guards; a failed pull keeps them in force until their own end.
 *
 * The effective blocklist is the union of every feed and the manual blocks:
 * for a prefix present in several sources, a drop source beats a monitor
 * source, and among equals the lowest feed id names it.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <unistd.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include "crowdsec.h"
#include "feed.h"
#include "feeds.h"
#include "fwclient.h"
#include "linediff.h"
#include "log.h"
#include "misp.h"
#include "saver.h"
#include "taxii.h"
#include "util.h"

#define FEED_REJECT_EVENTS_MAX 50 /* overlap events per load (the worker caps refused lines) */
#define FEED_REFUSED_SHOWN     5  /* refused lines named when max_reject refuses a version */
#define FEED_BACKOFF_MIN_S     30 /* first retry after a failure */
#define FEED_DNS_TTL_MIN_S     10 /* re-resolve domains at most this often */
#define FEED_DNS_TTL_MAX_S     86400
#define FEED_ERR_MAX	       256
#define FEED_DELTA_MAX_SHARE   4    /* re-parse at most 1/4 of the lines, else the whole body */
#define FEED_HANDOVER_MS       1000 /* at most this long to write the first job at start-up */

_Static_assert(BWE_FEED_DOMAIN_ADDRS_MX == BWE_WIRE_ADDRS_MAX,
	       "max_domain_addrs' maximum is what the worker sends per name");

struct feed_domain {
	char *name;
	__u32 line;
	time_t expires; /* re-resolve after */
	struct bwe_addr *addrs;
	size_t naddrs;
};

/*
 * What is known of the last version of a text feed, so that the next one
 * is diffed line by line and only its changed lines are parsed again
 * (linediff.h, feed_take_delta). Its text is the saved last good copy on
 * disk, taken back only while its length and digest are these; where its
 * lines start is kept (4 bytes a line: indexing the copy again cost a delta
 * of a million lines 6 ms). Kept only
 * for a version in which every prefix comes from one line and every
 * refused line is known, the cases where the partial parse gives exactly
 * what a whole parse gives.
 */
struct feed_text {
	size_t len;
	__u64 digest;		  /* bwe_lines_digest() of the version */
	struct bwe_lines lines;	  /* where its lines start */
	__u32 gen;		  /* the feed's incarnation it was read for */
	enum bwe_feed_format fmt; /* the format the worker used */
	__u32 *rejected;	  /* the lines the parser refused, ascending */
	size_t n_rejected;
	struct fs_coverage cov; /* what the version covers, or more (an upper bound) */
};

struct feed {
	struct bwe_cfg_feed *cfg; /* into the daemon's current configuration */
	__u8 id;
	enum bwe_feed_format fmt; /* configured or detected; entries live in the fstore */
	struct feed_domain *doms;
	size_t ndoms;
	size_t v4, v6, rejected, skipped;
	time_t last_success, last_attempt, next_refresh, next_expiry, next_dns;
	char last_error[FEED_ERR_MAX];
	int failures;
	__u64 errors; /* feed-error events since start (metrics) */
	bool stale_reported, busy, dns_busy, again, is_url;
	char etag[BWE_WIRE_ETAG_MAX], last_modified[BWE_WIRE_LASTMOD_MAX];
	int wd;	   /* inotify watch of the source's directory */
	__u32 gen; /* tells a feed from an earlier one of the same id */
	/* crowdsec-lapi: the decisions held, and whether the next pull must be
	 * a startup pull (first one, or the state may be lost) */
	struct bwe_cs_set cs;
	bool cs_startup;
	/* taxii: the collection's indicators, and added_after of the next poll */
	struct bwe_taxii_set taxii;
	char taxii_cursor[BWE_TAXII_CURSOR_MAX];
	struct feed_text *text; /* NULL: the next version is parsed whole */
};

/*
 * What the parent remembers of a job it gave the feed worker. A job names
 * its feed by id and generation, never by array index: a reload reorders
 * and removes feeds while jobs are in flight. The generation changes when
 * a feed is created and when the settings a job was made with (source,
 * format, minimum prefix lengths) change, so a result made for an earlier
 * configuration is dropped, never applied to the feed as it is now.
 */
struct job {
	__u8 feed_id;			  /* the feed (ids survive a reload; indexes do not) */
	__u32 gen;			  /* and which incarnation of that id */
	char name[BWE_FEED_NAME_MAX + 1]; /* for the log when it is dropped */
	bool from_disk;			  /* the saved last good version */
	bool initial;			  /* counted in feeds.initial_pending */
	char *body;			  /* PARSE: what was read, saved as last good */
	size_t len;
	/* a RESOLVE job for another module (feeds_resolve): no feed, a callback */
	feeds_resolved_fn resolved;
	void *rctx;
	__u32 rjob;	    /* its id, for feeds_resolve_cancel */
	struct job *next;   /* feeds.resolving */
	bool cs_startup;    /* crowdsec-lapi: a startup pull */
	time_t cs_saved_at; /* crowdsec-lapi saved set: when it was saved */
	/* a partial PARSE (feed_text): the changed lines alone were sent */
	bool delta;
	char *full; /* the whole body read, parsed whole if the partial parse cannot stand */
	size_t full_len;
	struct bwe_lines lines;	    /* of full */
	struct bwe_lines_diff diff; /* against the feed's text */
};

struct feeds {
	const struct bwe_cfgfile *cfg;
	struct fstore *store;
	struct enforcer *enf;
	struct evlog *log;
	time_t started;
	struct feed *v;
	size_t n;
	int ino_fd;
	struct bwe_fwc *fwc;	/* the sandboxed feed worker */
	size_t initial_pending; /* start-up jobs before the blocklist sweep */
	__u32 next_gen;
	bool swept;
	struct job *resolving; /* feeds_resolve() jobs in the worker's hands */
	struct saver *saver;   /* last good copies, written off the loop */
};

/* A CrowdSec LAPI bouncer feed (crowdsec-lapi): pulls, a decision set. */
static bool is_cs(const struct feed *f)
{
	enum bwe_feed_format fmt;

	return !bwe_feed_format_parse(f->cfg->format, &fmt) && fmt == BWE_FMT_CROWDSEC;
}

static void text_free(struct feed_text *t);

static const struct fs_vec *ents_of(const struct feeds *fs, const struct feed *f)
{
	static const struct fs_vec none;
	const struct fs_vec *v = fstore_entries(fs->store, f->id);

	return v ? v : &none;
}

/* ---- events ---------------------------------------------------------------- */

static struct json_object *feed_event(const struct feed *f, const char *action, const char *kind)
{
	struct json_object *ev = ev_new(action, kind), *b = json_object_new_object();

	json_object_object_add(b, "name", json_object_new_string(f->cfg->name));
	json_object_object_add(b, "source", json_object_new_string(f->cfg->source));
	json_object_object_add(b, "format", json_object_new_string(bwe_feed_format_name(f->fmt)));
	json_object_object_add(ev, "bwenforce", json_object_new_object());
	json_object_object_add(json_object_object_get(ev, "bwenforce"), "feed", b);
	return ev;
}

/* Which guard refused a version, with its figures (units in docs). */
struct feed_guard {
	const char *name;	   /* the config key: "max_shrink", "max_coverage_v4", ... */
	double value;		   /* what the version has */
	double limit;		   /* what the guard allows */
	struct json_object *lines; /* max_reject: the first refused lines, or NULL */
};

static void feed_verror(struct feeds *fs, struct feed *f, const struct feed_guard *g,
			const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));
static void feed_verror(struct feeds *fs, struct feed *f, const struct feed_guard *g,
			const char *fmt, va_list ap)
{
	struct json_object *ev, *o;

	vsnprintf(f->last_error, sizeof(f->last_error), fmt, ap);
	f->errors++;
	log_warnx("feed %s: %s", f->cfg->name, f->last_error);
	ev = feed_event(f, "feed-error", "event");
	json_object_object_add(json_object_object_get(ev, "event"), "reason",
			       json_object_new_string(f->last_error));
	if (g) {
		o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(g->name));
		json_object_object_add(o, "value", json_object_new_double(g->value));
		json_object_object_add(o, "limit", json_object_new_double(g->limit));
		if (g->lines)
			json_object_object_add(o, "refused_lines", json_object_get(g->lines));
		json_object_object_add(json_object_object_get(json_object_object_get(ev,
										     "bwenforce"),
							      "feed"),
				       "guard", o);
	}
	evlog_emit(fs->log, ev);
}

static void feed_error(struct feeds *fs, struct feed *f, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void feed_error(struct feeds *fs, struct feed *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	feed_verror(fs, f, NULL, fmt, ap);
	va_end(ap);
}

static void feed_refused_guard(struct feeds *fs, struct feed *f, const struct feed_guard *g,
			       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void feed_refused_guard(struct feeds *fs, struct feed *f, const struct feed_guard *g,
			       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	feed_verror(fs, f, g, fmt, ap);
	va_end(ap);
}

/* A version refused by a guard: the reason, and the guard's name and figures in the event. */
static void feed_refused(struct feeds *fs, struct feed *f, const char *guard, double value,
			 double limit, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static void feed_refused(struct feeds *fs, struct feed *f, const char *guard, double value,
			 double limit, const char *fmt, ...)
{
	struct feed_guard g = { .name = guard, .value = value, .limit = limit };
	va_list ap;

	va_start(ap, fmt);
	feed_verror(fs, f, &g, fmt, ap);
	va_end(ap);
}

/*
 * The max_reject guard refused a version: say which lines were refused,
 * the first FEED_REFUSED_SHOWN of them with their line numbers and
 * reasons, in the message and in the event (guard.refused_lines). Never
 * their text: a body that is mostly not a feed may be anything.
 */
static void reject_refused(struct feeds *fs, struct feed *f, const struct bwe_job_result *res)
{
	const struct bwe_feed_stats *st = &res->stats;
	size_t total = st->accepted + st->rejected, n = res->n_rejects, off = 0;
	struct feed_guard g = {
		.name = "max_reject",
		.value = (double)st->rejected / (double)total,
		.limit = f->cfg->max_reject,
		.lines = json_object_new_array(),
	};
	char which[FEED_ERR_MAX] = "";

	if (n > FEED_REFUSED_SHOWN)
		n = FEED_REFUSED_SHOWN;
	for (size_t i = 0; i < n; i++) {
		const struct bwe_job_reject *rej = &res->rejects[i];
		struct json_object *o = json_object_new_object();
		int w;

		json_object_object_add(o, "line", json_object_new_int64(rej->line));
		json_object_object_add(o, "reason", json_object_new_string(rej->reason));
		json_object_array_add(g.lines, o);
		w = snprintf(which + off, sizeof(which) - off, "%s%u (%s)", i ? ", " : "",
			     rej->line, rej->reason);
		if (w > 0)
			off = off + (size_t)w < sizeof(which) ? off + (size_t)w : sizeof(which) - 1;
	}
	feed_refused_guard(fs, f, &g,
			   "%zu of %zu lines refused (max_reject %.0f%%, max_reject_floor %u); "
			   "keeping the last good version; first refused: %s",
			   st->rejected, total, f->cfg->max_reject * 100, f->cfg->max_reject_floor,
			   which);
	json_object_put(g.lines);
}

/*
 * One coverage guard: a version may cover at most as many addresses of a
 * family as one prefix of length plen (max_coverage_vN) holds; 0 switches
 * it off. 0, or -E2BIG with the refusal said.
 */
static int coverage_guard(struct feeds *fs, struct feed *f, const char *key, const char *family,
			  int bits, __u32 plen, unsigned __int128 have)
{
	unsigned __int128 limit;

	if (!plen)
		return 0;
	limit = (unsigned __int128)1 << (bits - (int)plen);
	if (have <= limit)
		return 0;
	feed_refused(fs, f, key, (double)have, (double)limit,
		     "the new version covers %.6g %s addresses (as many as %.2f /%u prefixes), "
		     "more than %s %u allows; keeping the last good version",
		     (double)have, family, (double)have / (double)limit, plen, key, plen);
	return -E2BIG;
}

/* Both coverage guards over a version's entries (resolved addresses included). */
static int check_coverage(struct feeds *fs, struct feed *f, const struct fs_vec *v)
{
	struct fs_coverage cov;

	fs_vec_coverage(v, &cov);
	return coverage_guard(fs, f, "max_coverage_v4", "IPv4", BWE_V4_BITS,
			      f->cfg->max_coverage_v4, cov.v4)
		       ?: coverage_guard(fs, f, "max_coverage_v6", "IPv6", BWE_ADDR_BITS,
					 f->cfg->max_coverage_v6, cov.v6);
}

/* ---- applying a version ------------------------------------------------------ */

/* One overlap of entry i of f with a protected prefix: logged, an event while *reported allows. */
static void report_overlap(struct feeds *fs, struct feed *f, const struct fs_ent *e,
			   const char *list, const struct bwe_prefix *prot, size_t *reported)
{
	struct json_object *ev;
	char a[BWE_PREFIX_STRLEN], b[BWE_PREFIX_STRLEN], msg[256];

	bwe_prefix_fmt(&e->pfx, a, sizeof(a));
	bwe_prefix_fmt(prot, b, sizeof(b));
	snprintf(msg, sizeof(msg),
		 "entry %s (line %u) overlaps %s %s: "
		 "those addresses stay reachable",
		 a, e->line, list, b);
	log_info("feed %s: %s", f->cfg->name, msg);
	if ((*reported)++ >= FEED_REJECT_EVENTS_MAX)
		return;
	ev = feed_event(f, "feed-overlap", "event");
	json_object_object_add(json_object_object_get(ev, "event"), "reason",
			       json_object_new_string(msg));
	evlog_emit(fs->log, ev);
}

/*
 * Report feed entries that cover addresses the data plane never blocks, in
 * the order of the entries for each protected prefix: those that contain
 * it (one lookup per shorter length), then it and those inside it (a run
 * of the sorted entries from where it would stand). A few lookups per
 * protected prefix, not a pass over a million entries.
 */
static void report_overlaps(struct feeds *fs, struct feed *f)
{
	const struct bwe_cfg_prefixes *lists[] = { &fs->cfg->internal, &fs->cfg->exempt,
						   &fs->cfg->allowlist };
	static const char *const names[] = { "internal_networks", "exempt", "allowlist" };
	const struct fs_vec *v = ents_of(fs, f);
	size_t i, l, k, reported = 0;

	for (l = 0; l < ARRAY_SIZE(lists); l++) {
		for (k = 0; k < lists[l]->n; k++) {
			const struct bwe_prefix *prot = &lists[l]->v[k];
			int plen;

			for (plen = 1; plen < prot->plen; plen++) {
				struct bwe_prefix c = { .addr = prot->addr, .plen = (__u8)plen };
				const struct fs_ent *e;

				bwe_prefix_mask(&c);
				e = fs_vec_find(v, &c);
				if (e)
					report_overlap(fs, f, e, names[l], prot, &reported);
			}
			for (i = fs_vec_lower_bound(v, prot);
			     i < v->n && bwe_prefix_covers(prot, &v->v[i].pfx); i++)
				report_overlap(fs, f, &v->v[i], names[l], prot, &reported);
		}
	}
}

static bool is_v4_entry(const struct bwe_prefix *p)
{
	return bwe_addr_is_v4(&p->addr) && p->plen >= BWE_V4_MAPPED_PLEN;
}

static void count_families(struct feed *f, const struct fs_vec *v)
{
	size_t i;

	f->v4 = f->v6 = 0;
	for (i = 0; i < v->n; i++) {
		if (is_v4_entry(&v->v[i].pfx))
			f->v4++;
		else
			f->v6++;
	}
}

static time_t next_expiry_of(const struct fs_vec *v)
{
	time_t t = 0;
	size_t i;

	for (i = 0; i < v->n; i++)
		if (fs_ent_valid_until(v, &v->v[i]) && (!t || fs_ent_valid_until(v, &v->v[i]) < t))
			t = fs_ent_valid_until(v, &v->v[i]);
	return t;
}

/*
 * Replace a feed's entries with nv (sorted, unique), all or nothing
 * (enf_bl_install: room checked, additions, flush, removals, flush, rolled
 * back on a failure). nv is consumed. Returns 0 or -errno; fills *chg.
 */
static int feed_apply(struct feeds *fs, struct feed *f, struct fs_vec *nv,
		      struct enf_bl_change *chg)
{
	int err;

	/* the entries no longer follow the text kept for a diff (feed_take keeps it again) */
	text_free(f->text);
	f->text = NULL;
	err = enf_bl_install(fs->enf, fs->store, f->id, nv, time(NULL), chg);
	fs_vec_free(nv); /* the previous version on success, the refused one else */
	if (chg->rollback_err)
		log_warnx("feed %s: cannot restore the blocklist after a failed write: %s",
			  f->cfg->name, strerror(-chg->rollback_err));
	if (err)
		return err;
	count_families(f, ents_of(fs, f));
	f->next_expiry = next_expiry_of(ents_of(fs, f));
	return 0;
}

/* Why feed_apply() refused or failed, in the feed's last_error and an event. */
static void apply_error(struct feeds *fs, struct feed *f, int err, const struct enf_bl_change *chg)
{
	bool v6 = chg->room.v6pfx > chg->room.v6pfx_free;

	if (err == -ENOSPC)
		feed_refused(fs, f, v6 ? "maps.blocklist_v6_prefixes" : "maps.blocklist_hosts",
			     (double)(v6 ? chg->room.v6pfx : chg->room.hosts),
			     (double)(v6 ? chg->room.v6pfx_free : chg->room.hosts_free),
			     "the new version does not fit in the blocklist maps: it needs %zu "
			     "more host entries (%zu free) and %zu more IPv6 prefixes (%zu "
			     "free); keeping the last good version",
			     chg->room.hosts, chg->room.hosts_free, chg->room.v6pfx,
			     chg->room.v6pfx_free);
	else if (err == -ERANGE)
		feed_error(fs, f,
			   "an entry is broader than the blocklist takes (IPv4 /%d, IPv6 /%d); "
			   "nothing was written; keeping the last good version",
			   BWE_BL_V4_MIN_PLEN, BWE_BL_V6_MIN_PLEN);
	else
		feed_error(fs, f,
			   "cannot write the blocklist: %s; %s; keeping the last good version "
			   "and retrying later",
			   strerror(-err),
			   chg->rollback_err ? "the maps could NOT be rolled back"
					     : "the maps were rolled back");
}

/* ---- parsing a body -------------------------------------------------------- */

struct parse_ctx {
	struct feeds *fs;
	struct feed *f;
	struct fs_vec v;
	struct feed_domain *doms;
	size_t ndoms;
};

/*
 * A line the worker refused: one event, with its line and reason, and its
 * text when with_text (the version's refused share is within max_reject).
 */
static void report_reject(struct parse_ctx *c, const struct bwe_job_reject *rej, bool with_text)
{
	struct json_object *ev, *b;

	ev = feed_event(c->f, "feed-line-rejected", "event");
	b = json_object_object_get(json_object_object_get(ev, "bwenforce"), "feed");
	json_object_object_add(b, "line", json_object_new_int64(rej->line));
	if (with_text)
		json_object_object_add(b, "text",
				       json_object_new_string(rej->excerpt ? rej->excerpt : ""));
	json_object_object_add(json_object_object_get(ev, "event"), "reason",
			       json_object_new_string(rej->reason));
	json_object_object_add(ev, "file", json_object_new_object());
	json_object_object_add(json_object_object_get(ev, "file"), "path",
			       json_object_new_string(c->f->cfg->source));
	evlog_emit(c->fs->log, ev);
}

static void domains_free(struct feed_domain *d, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(d[i].name);
		free(d[i].addrs);
	}
	free(d);
}

/* Addresses already resolved for the domains still listed join the entries. */
static int add_resolved(struct feed *f, struct parse_ctx *c)
{
	size_t i, j, k;
	int err;

	for (i = 0; i < c->ndoms; i++) {
		for (j = 0; j < f->ndoms; j++) {
			if (strcmp(f->doms[j].name, c->doms[i].name))
				continue;
			c->doms[i].expires = f->doms[j].expires;
			c->doms[i].addrs = f->doms[j].addrs;
			c->doms[i].naddrs = f->doms[j].naddrs;
			f->doms[j].addrs = NULL;
			f->doms[j].naddrs = 0;
			break;
		}
		for (k = 0; k < c->doms[i].naddrs; k++) {
			struct fs_rec e = { .line = c->doms[i].line, .ind = c->doms[i].name };

			e.pfx.addr = c->doms[i].addrs[k];
			e.pfx.plen = BWE_ADDR_BITS;
			err = fs_vec_add(&c->v, &e);
			if (err)
				return err;
		}
	}
	return 0;
}

/* Where feed f's last good version is saved. */
static int last_good_path(const struct feeds *fs, const struct feed *f, char *path, size_t size)
{
	if (snprintf(path, size, "%s/feeds/%s.last", fs->cfg->paths.state_dir, f->cfg->name) >=
	    (int)size)
		return -ENAMETOOLONG;
	return 0;
}

/*
 * Save body as feed f's last good version: by the writer thread (saver.h),
 * so that a big feed's copy does not hold the loop; here without one, or
 * when no copy of body could be made (after what the thread has queued,
 * an older version of this feed perhaps, so that this one lands last).
 */
static int save_last_good(struct feeds *fs, struct feed *f, const char *body, size_t len)
{
	char path[PATH_MAX];
	int err = last_good_path(fs, f, path, sizeof(path));

	if (!err && fs->saver) {
		err = saver_put(fs->saver, path, body, len, 0640);
		if (err != -ENOMEM)
			return err;
		saver_flush(fs->saver);
		err = 0;
	}
	err = err ?: mkdir_parent(path);
	return err ?: write_file_atomic(path, body, len, 0640);
}

static void schedule_dns(struct feeds *fs, struct feed *f);

/* The earliest re-resolution a feed's domains need, 0 for none; a due one counts as now. */
static time_t next_dns_of(const struct feed *f)
{
	time_t t = 0;
	size_t i;

	for (i = 0; i < f->ndoms; i++)
		if (!t || f->doms[i].expires < t)
			t = f->doms[i].expires ? f->doms[i].expires : 1;
	return t;
}

/* Indicators and domains of a worker's result, as the feed's new entries. */
static int take_result(struct parse_ctx *c, const struct bwe_job_result *res)
{
	size_t i;
	int err = 0;

	if (res->n_inds > c->v.cap) { /* one allocation, not a million pushes' doublings */
		struct fs_ent *v = reallocarray(c->v.v, res->n_inds, sizeof(*v));

		if (!v)
			return -ENOMEM;
		c->v.v = v;
		c->v.cap = res->n_inds;
	}
	for (i = 0; i < res->n_inds && !err; i++)
		err = fs_vec_add(&c->v,
				 &(struct fs_rec){ .pfx = res->inds[i].pfx,
						   .line = res->inds[i].line,
						   .ind = res->inds[i].id,
						   .valid_until = res->inds[i].valid_until });
	if (res->n_domains) {
		c->doms = calloc(res->n_domains, sizeof(*c->doms));
		if (!c->doms)
			return -ENOMEM;
	}
	for (i = 0; i < res->n_domains && !err; i++) {
		c->doms[i].name = strdup(res->domains[i].name);
		c->doms[i].line = res->domains[i].line;
		c->ndoms++;
		if (!c->doms[i].name)
			err = -ENOMEM;
	}
	return err;
}

/*
 * A version is in force: the feed's figures, the overlaps, the log line and
 * the feed-updated event, then the copy on disk (after enforcement: it only
 * matters at the next start) and the domains' resolution.
 */
static void feed_took(struct feeds *fs, struct feed *f, const struct bwe_feed_stats *st,
		      const struct enf_bl_change *chg, size_t parsed, const char *body, size_t len,
		      bool from_disk)
{
	struct json_object *ev, *b;

	f->fmt = st->format;
	f->rejected = st->rejected;
	f->skipped = st->skipped;
	f->last_success = time(NULL);
	f->last_error[0] = '\0';
	f->failures = 0;
	f->stale_reported = false;
	report_overlaps(fs, f);
	log_info("feed %s: %zu entries (%zu v4, %zu v6, %zu domains), +%zu -%zu, %zu lines refused, "
		 "%zu skipped",
		 f->cfg->name, ents_of(fs, f)->n, f->v4, f->v6, f->ndoms, chg->added, chg->removed,
		 st->rejected, st->skipped);
	ev = feed_event(f, "feed-updated", "event");
	b = json_object_object_get(json_object_object_get(ev, "bwenforce"), "feed");
	json_object_object_add(b, "entries", json_object_new_uint64(ents_of(fs, f)->n));
	json_object_object_add(b, "added", json_object_new_uint64(chg->added));
	json_object_object_add(b, "removed", json_object_new_uint64(chg->removed));
	json_object_object_add(b, "rejected", json_object_new_uint64(st->rejected));
	json_object_object_add(b, "skipped", json_object_new_uint64(st->skipped));
	/* the lines the worker parsed: all of them, or the changed ones (feed_take_delta) */
	json_object_object_add(b, "lines_parsed", json_object_new_uint64(parsed));
	evlog_emit(fs->log, ev);
	if (!from_disk && body)
		save_last_good(fs, f, body, len);
	if (f->ndoms)
		schedule_dns(fs, f);
}

/*
 * A parsed version of a feed (the worker's result) passes the guards and
 * is applied, or is refused and the last good version stays.
 * from_disk: the body is the saved last good version (no guards on shrink).
 */
static int feed_take(struct feeds *fs, struct feed *f, const struct bwe_job_result *res,
		     const char *body, size_t len, bool from_disk)
{
	struct parse_ctx c = { .fs = fs, .f = f };
	const struct bwe_feed_stats *st = &res->stats;
	struct enf_bl_change chg;
	size_t total, old_n;
	bool share_ok;
	int err;

	err = take_result(&c, res);
	if (err) {
		feed_error(fs, f,
			   "cannot take the parsed version: %s; keeping the last good "
			   "version",
			   strerror(-err));
		goto fail;
	}
	/* refused when more than max_reject of it and at least max_reject_floor lines are */
	if (bwe_feed_reject_guard(st, f->cfg->max_reject, f->cfg->max_reject_floor)) {
		reject_refused(fs, f, res);
		err = -EBADMSG;
		goto fail;
	}
	/*
	 * Only a version that passed the reject guard shows its refused lines
	 * (at most BWE_WIRE_REJECTS_MAX), and their text only when the refused
	 * share is within max_reject: the text of a file that is mostly not a
	 * feed is never logged, even a short one the floor let through.
	 */
	total = st->accepted + st->rejected;
	share_ok = !total || (double)st->rejected / (double)total <= f->cfg->max_reject;
	for (size_t i = 0; i < res->n_rejects; i++)
		report_reject(&c, &res->rejects[i], share_ok);
	err = add_resolved(f, &c);
	if (err)
		goto fail;
	err = fs_vec_sort_unique(&c.v);
	if (err) {
		feed_error(fs, f, "cannot sort the new version: %s; keeping the last good version",
			   strerror(-err));
		goto fail;
	}
	if (!from_disk && !f->cfg->may_be_empty && c.v.n + c.ndoms == 0) {
		feed_error(fs, f,
			   "the new version is empty; keeping the last good version "
			   "(%zu entries; set may_be_empty if the feed can be empty)",
			   ents_of(fs, f)->n);
		err = -ENODATA;
		goto fail;
	}
	if (!from_disk && !f->cfg->may_be_empty && ents_of(fs, f)->n &&
	    (double)(c.v.n + c.ndoms) < (1.0 - f->cfg->max_shrink) * (double)ents_of(fs, f)->n) {
		feed_refused(fs, f, "max_shrink", (double)(c.v.n + c.ndoms),
			     (1.0 - f->cfg->max_shrink) * (double)ents_of(fs, f)->n,
			     "the new version shrank from %zu to %zu entries (more than "
			     "max_shrink %.0f%%); keeping the last good version",
			     ents_of(fs, f)->n, c.v.n + c.ndoms, f->cfg->max_shrink * 100);
		err = -ERANGE;
		goto fail;
	}
	/* growth: what a compromised publisher adds at once is bounded too */
	old_n = ents_of(fs, f)->n + f->ndoms;
	if (!from_disk && old_n &&
	    (double)(c.v.n + c.ndoms) > (1.0 + f->cfg->max_growth) * (double)old_n) {
		feed_refused(fs, f, "max_growth", (double)(c.v.n + c.ndoms),
			     (1.0 + f->cfg->max_growth) * (double)old_n,
			     "the new version grew from %zu to %zu entries (more than "
			     "max_growth %.0f%%); keeping the last good version",
			     old_n, c.v.n + c.ndoms, f->cfg->max_growth * 100);
		err = -ERANGE;
		goto fail;
	}
	/* coverage: also for the saved copy, the configuration may have changed */
	err = check_coverage(fs, f, &c.v);
	if (err)
		goto fail;
	err = feed_apply(fs, f, &c.v, &chg);
	if (err) {
		apply_error(fs, f, err, &chg);
		goto fail;
	}
	domains_free(f->doms, f->ndoms);
	f->doms = c.doms;
	f->ndoms = c.ndoms;
	c.doms = NULL;
	feed_took(fs, f, st, &chg, st->lines, body, len, from_disk);
	return 0;
fail:
	fs_vec_free(&c.v);
	domains_free(c.doms, c.ndoms);
	f->failures++;
	return err;
}

/* ---- reading sources ----------------------------------------------------------- */

static bool is_url(const char *s)
{
	return !strncmp(s, "http://", 7) || !strncmp(s, "https://", 8);
}

static struct feed *feed_of(struct feeds *fs, const struct job *j)
{
	size_t i;

	for (i = 0; i < fs->n; i++)
		if (fs->v[i].id == j->feed_id && fs->v[i].gen == j->gen)
			return &fs->v[i];
	return NULL;
}

static void job_free(struct job *j)
{
	if (!j)
		return;
	free(j->body);
	free(j->full);
	bwe_lines_free(&j->lines);
	bwe_lines_diff_free(&j->diff);
	free(j);
}

static void text_free(struct feed_text *t)
{
	if (!t)
		return;
	bwe_lines_free(&t->lines);
	free(t->rejected);
	free(t);
}

/* The formats whose lines are parsed one by one, each on its own (feed.h). */
static bool fmt_line_by_line(enum bwe_feed_format fmt)
{
	return fmt == BWE_FMT_PLAIN || fmt == BWE_FMT_SPAMHAUS || fmt == BWE_FMT_FREEFORM;
}

static void parse_opts(const struct feed *f, struct bwe_job_parse_opts *o)
{
	if (bwe_feed_format_parse(f->cfg->format, &o->format))
		o->format = BWE_FMT_AUTO;
	o->min_plen_v4 = (int)f->cfg->min_prefix_v4;
	o->min_plen_v6 = (int)f->cfg->min_prefix_v6;
	o->now = time(NULL);
}

/* Hand a job to the worker; on failure the job is freed and the reason said. */
static int submit(struct feeds *fs, struct feed *f, const struct bwe_job_req *req, struct job *j)
{
	int err = bwe_fwc_submit(fs->fwc, req, j, NULL);

	if (err) {
		feed_error(fs, f,
			   "cannot hand the job to the feed worker: %s; keeping the last "
			   "good version",
			   strerror(-err));
		if (j->initial)
			fs->initial_pending--;
		job_free(j);
	}
	return err;
}

/*
 * Name job j for feed f (its id, incarnation and name), and count it in
 * initial_pending when it is part of the start-up sweep: every job the
 * worker runs for a feed starts here.
 */
static void job_for(struct feeds *fs, struct job *j, const struct feed *f, bool initial)
{
	j->feed_id = f->id;
	j->gen = f->gen;
	snprintf(j->name, sizeof(j->name), "%s", f->cfg->name);
	j->initial = initial;
	if (initial)
		fs->initial_pending++;
}

/* Parse bytes the parent read (a local file, the saved last good version). */
static int submit_parse(struct feeds *fs, struct feed *f, char *body, size_t len, bool from_disk,
			bool initial)
{
	struct job *j = calloc(1, sizeof(*j));
	struct bwe_job_req req = { .kind = BWE_JOB_PARSE, .body = body, .body_len = len };

	if (!j) {
		free(body);
		return -ENOMEM;
	}
	job_for(fs, j, f, initial);
	j->from_disk = from_disk;
	j->body = body;
	j->len = len;
	parse_opts(f, &req.parse);
	f->busy |= !from_disk;
	return submit(fs, f, &req, j);
}

/* ---- a changed text feed: only its changed lines parsed again ------------------- */

/*
 * After a version parsed whole from bytes the parent read: keep its text
 * for the next diff when a partial parse of it would give exactly what a
 * whole parse gives: a format parsed line by line, every accepted
 * indicator a prefix of its own (none on two lines, no domains), every
 * refused line known (at most BWE_WIRE_REJECTS_MAX).
 */
static void text_keep(struct feeds *fs, struct feed *f, struct job *j,
		      const struct bwe_job_result *res)
{
	struct feed_text *t;

	text_free(f->text);
	f->text = NULL;
	if (f->is_url || !j->body || !fmt_line_by_line(res->stats.format) || res->n_domains ||
	    f->ndoms || res->stats.accepted != res->n_inds ||
	    res->n_rejects != res->stats.rejected || ents_of(fs, f)->n != res->n_inds)
		return;
	t = calloc(1, sizeof(*t));
	if (!t)
		return;
	t->rejected = calloc(res->n_rejects ? res->n_rejects : 1, sizeof(*t->rejected));
	if (!t->rejected || bwe_lines_index(j->body, j->len, &t->lines)) {
		text_free(t);
		return;
	}
	for (size_t i = 0; i < res->n_rejects; i++)
		t->rejected[t->n_rejected++] = res->rejects[i].line;
	t->len = j->len;
	t->digest = bwe_lines_digest(j->body, j->len);
	t->gen = f->gen;
	t->fmt = res->stats.format;
	fs_vec_coverage(ents_of(fs, f), &t->cov);
	f->text = t;
}

/*
 * The text of the version t describes, read back from its saved copy
 * (t->lines index it). -ESTALE: the copy is not that version (not written,
 * or replaced since).
 */
static int last_text(const struct feeds *fs, const struct feed *f, const struct feed_text *t,
		     char **body)
{
	char path[PATH_MAX];
	size_t len = 0;
	int err = last_good_path(fs, f, path, sizeof(path));

	*body = NULL;
	err = err ?: read_file(path, t->len, 0, body, &len);
	if (!err && (len != t->len || bwe_lines_digest(*body, len) != t->digest))
		err = -ESTALE;
	if (err) {
		free(*body);
		*body = NULL;
	}
	return err;
}

/*
 * A local file changed and the last version's text is at hand: send only
 * the changed lines to the worker (the sparse body, linediff.h). 0: the job
 * is submitted and body is its (or freed with its reason said); -errno: the
 * caller parses body whole.
 */
static int submit_delta(struct feeds *fs, struct feed *f, char *body, size_t len, bool initial)
{
	const struct feed_text *t = f->text;
	struct bwe_job_req req = { .kind = BWE_JOB_PARSE };
	struct job *j;
	char *sparse = NULL, *old = NULL;
	size_t slen = 0;
	int err;

	if (!t || t->gen != f->gen)
		return -ENOENT;
	err = last_text(fs, f, t, &old);
	if (err) {
		log_debug("feed %s: the saved last version cannot be diffed against (%s); parsing "
			  "the new one whole",
			  f->cfg->name, strerror(-err));
		return err;
	}
	j = calloc(1, sizeof(*j));
	err = j ? bwe_lines_index(body, len, &j->lines) : -ENOMEM;
	err = err ?: bwe_lines_diff(old, &t->lines, body, &j->lines, &j->diff);
	free(old);
	if (!err && j->diff.n_reread * FEED_DELTA_MAX_SHARE > j->lines.n)
		err = -E2BIG; /* most of it changed: parse it whole */
	err = err ?: bwe_lines_sparse(body, &j->lines, &j->diff, &sparse, &slen);
	if (err) {
		job_free(j);
		return err;
	}
	log_debug("feed %s: %zu of %zu lines changed or in the detection window, %zu gone; "
		  "parsing those",
		  f->cfg->name, j->diff.n_reread, j->lines.n, j->diff.n_gone);
	job_for(fs, j, f, initial);
	j->delta = true;
	j->full = body;
	j->full_len = len;
	req.body = sparse;
	req.body_len = slen;
	parse_opts(f, &req.parse);
	f->busy = true;
	if (submit(fs, f, &req, j))
		f->busy = false;
	free(sparse);
	return 0;
}

/* Whether a coverage is past either of the feed's max_coverage limits (0: off). */
static bool over_coverage(const struct feed *f, const struct fs_coverage *c)
{
	return (f->cfg->max_coverage_v4 &&
		c->v4 > (unsigned __int128)1 << (BWE_V4_BITS - (int)f->cfg->max_coverage_v4)) ||
	       (f->cfg->max_coverage_v6 &&
		c->v6 > (unsigned __int128)1 << (BWE_ADDR_BITS - (int)f->cfg->max_coverage_v6));
}

/* Old line number -> its number in j->full, 0 when it is gone or parsed again. */
static __u32 kept_line(const struct job *j, __u32 line)
{
	return line && line <= j->diff.n_old ? j->diff.old_to_new[line - 1] : 0;
}

/*
 * The worker's parse of the changed lines of j->full, merged with the
 * entries of the lines that did not change (fs_vec_merge): the version a
 * whole parse of j->full gives, installed with the difference already
 * known. -EAGAIN when the partial parse cannot stand for a whole one (a
 * prefix on two lines, a format that changed, more refused lines than the
 * worker reports) or a guard would refuse the version: the caller then
 * parses j->full whole, which gives the same refusal its full reasons.
 * Other errors: the maps could not be written (said, as for a whole parse).
 */
static int feed_take_delta(struct feeds *fs, struct feed *f, struct job *j,
			   const struct bwe_job_result *res)
{
	struct feed_text *t = f->text;
	struct parse_ctx c = { .fs = fs, .f = f };
	const struct fs_vec *cur = ents_of(fs, f);
	struct bwe_feed_stats st = res->stats;
	struct bwe_prefix *add = NULL, *gone = NULL;
	size_t nadd = 0, ngone = 0, kept_rej = 0, i, k, n, total;
	struct enf_bl_change chg;
	struct fs_coverage cov;
	struct fs_vec nv = { 0 };
	__u32 *rej = NULL;
	bool share_ok, rd_expires = false;
	int err;

	if (!t || t->gen != f->gen || res->status || res->stats.format != t->fmt ||
	    res->n_domains || f->ndoms || res->stats.accepted != res->n_inds ||
	    res->n_rejects != res->stats.rejected)
		return -EAGAIN;
	err = take_result(&c, res);
	/* the merge needs them sorted and unique: the worker's word is not
	 * taken for it (one pass when they are) */
	err = err ?: fs_vec_sort_unique(&c.v);
	for (i = 0; i < c.v.n; i++)
		rd_expires |= fs_ent_valid_until(&c.v, &c.v.v[i]) != 0;
	err = err
		      ?: fs_vec_merge(cur, j->diff.old_to_new, j->diff.n_old, &c.v, time(NULL), &nv,
				      &add, &nadd, &gone, &ngone);
	fs_vec_free(&c.v);
	domains_free(c.doms, c.ndoms);
	if (err)
		return -EAGAIN;
	/* the figures of the whole version: every entry one accepted line */
	for (i = 0; i < t->n_rejected; i++)
		kept_rej += kept_line(j, t->rejected[i]) != 0;
	st.accepted = nv.n;
	st.rejected = kept_rej + res->stats.rejected;
	/*
	 * Coverage: what the last version covered plus every addition is an
	 * upper bound; only when that bound is past a limit is the exact union
	 * counted (a pass over the version).
	 */
	cov = t->cov;
	for (i = 0; i < nadd; i++)
		fs_coverage_add(&cov, &add[i]);
	if (over_coverage(f, &cov))
		fs_vec_coverage(&nv, &cov);
	if (bwe_feed_reject_guard(&st, f->cfg->max_reject, f->cfg->max_reject_floor) ||
	    (!f->cfg->may_be_empty && !nv.n) ||
	    (!f->cfg->may_be_empty && cur->n &&
	     (double)nv.n < (1.0 - f->cfg->max_shrink) * (double)cur->n) ||
	    (cur->n && (double)nv.n > (1.0 + f->cfg->max_growth) * (double)cur->n) ||
	    over_coverage(f, &cov)) {
		err = -EAGAIN;
		goto out;
	}
	/* the refused lines: those kept, renumbered, and the new ones (both ascending) */
	rej = calloc(kept_rej + res->n_rejects + 1, sizeof(*rej));
	if (!rej) {
		err = -EAGAIN;
		goto out;
	}
	total = st.accepted + st.rejected;
	share_ok = !total || (double)st.rejected / (double)total <= f->cfg->max_reject;
	for (i = 0; i < res->n_rejects; i++)
		report_reject(&c, &res->rejects[i], share_ok);
	err = enf_bl_install_diff(fs->enf, fs->store, f->id, &nv, add, nadd, gone, ngone, &chg);
	if (chg.rollback_err)
		log_warnx("feed %s: cannot restore the blocklist after a failed write: %s",
			  f->cfg->name, strerror(-chg.rollback_err));
	if (err) {
		apply_error(fs, f, err, &chg);
		f->failures++;
		goto out;
	}
	/* the families and the next expiry follow from the difference */
	for (i = 0; i < nadd; i++)
		*(is_v4_entry(&add[i]) ? &f->v4 : &f->v6) += 1;
	for (i = 0; i < ngone; i++)
		*(is_v4_entry(&gone[i]) ? &f->v4 : &f->v6) -= 1;
	if (f->next_expiry || rd_expires)
		f->next_expiry = next_expiry_of(ents_of(fs, f));
	for (i = k = n = 0; i < t->n_rejected || k < res->n_rejects;) {
		__u32 o = 0;

		if (i < t->n_rejected) {
			o = kept_line(j, t->rejected[i]);
			if (!o) {
				i++;
				continue;
			}
		}
		if (k == res->n_rejects || (o && o < res->rejects[k].line)) {
			rej[n++] = o;
			i++;
		} else {
			rej[n++] = res->rejects[k++].line;
		}
	}
	st.lines = j->lines.n;
	feed_took(fs, f, &st, &chg, j->diff.n_reread, j->full, j->full_len, false);
	/* this version's text is the one the next is diffed against */
	t->cov = cov;
	free(t->rejected);
	t->rejected = rej;
	t->n_rejected = n;
	rej = NULL;
	t->len = j->full_len;
	t->digest = bwe_lines_digest(j->full, j->full_len);
	bwe_lines_free(&t->lines);
	t->lines = j->lines;
	memset(&j->lines, 0, sizeof(j->lines));
out:
	fs_vec_free(&nv); /* the previous version on success, the refused one else */
	free(add);
	free(gone);
	free(rej);
	return err;
}

static void retry_later(struct feed *f)
{
	time_t backoff;

	if (!f->failures)
		return;
	backoff = FEED_BACKOFF_MIN_S << (f->failures < 10 ? f->failures - 1 : 9);
	if (backoff < (time_t)f->cfg->refresh_s)
		f->next_refresh = f->last_attempt + backoff;
}

static void cs_pull(struct feeds *fs, struct feed *f, bool initial);
static bool is_fmt(const struct feed *f, enum bwe_feed_format want);
static void taxii_poll(struct feeds *fs, struct feed *f, bool initial);
static int misp_request(struct feeds *fs, struct feed *f, struct bwe_job_req *req, char *url,
			char *body, size_t cap);
static int feed_auth(struct feeds *fs, struct feed *f, struct bwe_job_req *req, char *secret,
		     size_t cap);

static void feed_refresh(struct feeds *fs, struct feed *f, bool initial)
{
	char *body = NULL;
	size_t len = 0;
	int err;

	if (f->busy) {
		f->again = true; /* after the version being parsed */
		return;
	}
	f->last_attempt = time(NULL);
	f->next_refresh = f->last_attempt + (time_t)f->cfg->refresh_s;
	if (is_cs(f)) {
		cs_pull(fs, f, initial);
		return;
	}
	if (is_fmt(f, BWE_FMT_TAXII)) {
		taxii_poll(fs, f, initial);
		return;
	}
	if (f->is_url) {
		struct job *j = calloc(1, sizeof(*j));
		struct bwe_job_req req = {
			.kind = BWE_JOB_FETCH,
			.url = f->cfg->source,
			.etag = f->etag,
			.last_modified = f->last_modified,
			.max_bytes = f->cfg->max_bytes,
			.timeout_s = (__u32)f->cfg->timeout_s,
			.insecure = f->cfg->insecure,
			.ca_file = f->cfg->ca_file,
		};

		char secret[BWE_WIRE_SECRET_MAX], post[BWE_MISP_BODY_MAX], murl[BWE_WIRE_URL_MAX];

		if (!j)
			return;
		if ((is_fmt(f, BWE_FMT_MISP) &&
		     misp_request(fs, f, &req, murl, post, sizeof(post))) ||
		    feed_auth(fs, f, &req, secret, sizeof(secret))) {
			free(j);
			f->failures++;
			retry_later(f);
			return;
		}
		job_for(fs, j, f, initial);
		parse_opts(f, &req.parse);
		f->busy = true;
		submit(fs, f, &req, j);
		explicit_bzero(secret, sizeof(secret));
		return;
	}
	err = read_file(f->cfg->source, f->cfg->max_bytes,
			f->cfg->follow_symlinks ? READ_FOLLOW : 0, &body, &len);
	if (err) {
		feed_error(fs, f, "cannot read %s: %s; keeping the last good version",
			   f->cfg->source,
			   err == -ELOOP
				   ? "a symbolic link (set follow_symlinks: true to follow it)"
			   : err == -EINVAL
				   ? "not a regular file (a FIFO, socket, device or directory)"
				   : strerror(-err));
		f->failures++;
		retry_later(f);
		return;
	}
	if (submit_delta(fs, f, body, len, initial))
		submit_parse(fs, f, body, len, false, initial);
}

static void feed_refresh_now(struct feeds *fs, size_t idx)
{
	feed_refresh(fs, &fs->v[idx], false);
}

/*
 * Ask the worker for the addresses of the feed's domains that are due
 * (never resolved, or past their own TTL); the others keep theirs. Then
 * next_dns is the earliest expiry of the rest.
 */
static void schedule_dns(struct feeds *fs, struct feed *f)
{
	struct bwe_job_req req = { .kind = BWE_JOB_RESOLVE };
	time_t now = time(NULL);
	const char **names;
	struct job *j;
	size_t i, n = 0;

	if (f->dns_busy || !f->ndoms)
		return;
	names = calloc(f->ndoms, sizeof(*names));
	j = calloc(1, sizeof(*j));
	if (!names || !j) {
		free(names);
		free(j);
		return;
	}
	for (i = 0; i < f->ndoms; i++)
		if (f->doms[i].expires <= now)
			names[n++] = f->doms[i].name;
	f->next_dns = next_dns_of(f);
	if (!n) {
		free(names);
		free(j);
		return;
	}
	req.names = names;
	req.n_names = n;
	job_for(fs, j, f, false);
	f->dns_busy = true;
	if (submit(fs, f, &req, j)) {
		f->dns_busy = false;
		f->next_dns = now + FEED_BACKOFF_MIN_S;
	}
	free(names);
}

/*
 * Addresses of local significance a resolved domain never puts in the
 * blocklist (RFC 6890 and its IPv6 counterparts): a listed domain that
 * resolves to 0.0.0.0, loopback, a private, shared, link-local, multicast
 * or reserved address is a sinkhole or an attack on this network, not a
 * remote server. Documentation and benchmarking ranges are not here.
 */
static const char *const local_ranges[] = {
	"0.0.0.0/8",	 "10.0.0.0/8",	 "100.64.0.0/10",  "127.0.0.0/8", "169.254.0.0/16",
	"172.16.0.0/12", "192.0.0.0/24", "192.168.0.0/16", "224.0.0.0/4", "240.0.0.0/4",
	"::/128",	 "::1/128",	 "fe80::/10",	   "fc00::/7",	  "ff00::/8",
};

/*
 * The one entry check of an address a domain resolved to: NULL when it may
 * be blocked, else why not. Internal, exempt, allowlisted and the
 * gateway's own addresses come from the network classes the data plane
 * uses (enforce.h), so the check and the data plane agree.
 */
static const char *resolved_addr_check(const struct feeds *fs, const struct bwe_addr *a)
{
	__u32 cls = enf_classes(fs->enf, a);
	size_t i;

	for (i = 0; i < ARRAY_SIZE(local_ranges); i++) {
		struct bwe_prefix p;

		if (!bwe_prefix_parse(local_ranges[i], &p, 0) && bwe_prefix_contains(&p, a))
			return "an address of local significance (loopback, private, link-local, "
			       "multicast, reserved or unspecified)";
	}
	if (cls & BWE_NC_INTERNAL)
		return "inside internal_networks";
	if (cls & BWE_NC_EXEMPT)
		return "exempt";
	if (cls & BWE_NC_ALLOW)
		return "allowlisted or an address of this gateway";
	return NULL;
}

/* A resolved address the check refused: logged, and an event (at most *budget). */
static void report_addr_reject(struct feeds *fs, struct feed *f, const struct feed_domain *d,
			       const struct bwe_addr *a, const char *why, size_t *budget)
{
	struct json_object *ev, *b;
	char buf[BWE_PREFIX_STRLEN];
	struct bwe_prefix p = { .addr = *a, .plen = BWE_ADDR_BITS };

	bwe_prefix_fmt(&p, buf, sizeof(buf));
	log_info("feed %s: domain %s (line %u) resolved to %s: not blocked: %s", f->cfg->name,
		 d->name, d->line, buf, why);
	if (!*budget)
		return;
	(*budget)--;
	ev = feed_event(f, "feed-address-rejected", "event");
	b = json_object_object_get(json_object_object_get(ev, "bwenforce"), "feed");
	json_object_object_add(b, "line", json_object_new_int64(d->line));
	json_object_object_add(b, "domain", json_object_new_string(d->name));
	json_object_object_add(b, "address", json_object_new_string(buf));
	json_object_object_add(json_object_object_get(ev, "event"), "reason",
			       json_object_new_string(why));
	evlog_emit(fs->log, ev);
}

/*
 * One domain's answer: the addresses that pass resolved_addr_check, at most
 * max_domain_addrs of them, replace what it resolved to before; it is
 * resolved again after its own TTL (clamped).
 */
static int take_answer(struct feeds *fs, struct feed *f, struct feed_domain *d,
		       const struct bwe_job_answer *a, time_t now, size_t *budget)
{
	__u32 ttl = a->n_addrs ? a->ttl : FEED_DNS_TTL_MAX_S;
	struct bwe_addr *v = NULL;
	size_t k, n = 0, over = 0;

	if (a->n_addrs) {
		v = calloc(a->n_addrs, sizeof(*v));
		if (!v)
			return -ENOMEM;
	}
	for (k = 0; k < a->n_addrs; k++) {
		const char *why = resolved_addr_check(fs, &a->addrs[k]);

		if (why)
			report_addr_reject(fs, f, d, &a->addrs[k], why, budget);
		else if (n < f->cfg->max_domain_addrs)
			v[n++] = a->addrs[k];
		else
			over++;
	}
	if (over)
		log_info("feed %s: domain %s resolved to %zu more addresses than max_domain_addrs "
			 "(%u); those are not blocked",
			 f->cfg->name, d->name, over, f->cfg->max_domain_addrs);
	ttl = ttl < FEED_DNS_TTL_MIN_S	 ? FEED_DNS_TTL_MIN_S
	      : ttl > FEED_DNS_TTL_MAX_S ? FEED_DNS_TTL_MAX_S
					 : ttl;
	free(d->addrs);
	d->addrs = v;
	d->naddrs = n;
	d->expires = now + (time_t)ttl;
	return 0;
}

/* Resolved addresses replace the domain part of the feed's entries. */
static void dns_done(struct feeds *fs, struct feed *f, const struct bwe_job_result *res)
{
	struct fs_vec nv = { 0 };
	time_t now = time(NULL);
	struct enf_bl_change chg;
	size_t i, k, budget = FEED_REJECT_EVENTS_MAX;
	int err = 0;

	/* only the domains that were due were asked; the others keep their addresses */
	for (i = 0; i < f->ndoms && !err; i++)
		for (k = 0; k < res->n_answers; k++)
			if (!strcmp(f->doms[i].name, res->answers[k].name)) {
				err = take_answer(fs, f, &f->doms[i], &res->answers[k], now,
						  &budget);
				break;
			}
	/* rebuild: the address indicators, then every resolved address */
	for (i = 0; i < ents_of(fs, f)->n && !err; i++) {
		const struct fs_ent *e = &ents_of(fs, f)->v[i];
		const char *s = fs_vec_ind(ents_of(fs, f), e);
		bool from_domain = false;

		for (k = 0; s && k < f->ndoms && !from_domain; k++)
			from_domain = !strcmp(s, f->doms[k].name);
		if (from_domain)
			continue;
		err = fs_vec_copy(&nv, ents_of(fs, f), e);
	}
	f->next_dns = next_dns_of(f);
	for (i = 0; i < f->ndoms && !err; i++) {
		for (k = 0; k < f->doms[i].naddrs && !err; k++) {
			struct fs_rec e = { .line = f->doms[i].line, .ind = f->doms[i].name };

			e.pfx.addr = f->doms[i].addrs[k];
			e.pfx.plen = BWE_ADDR_BITS;
			err = fs_vec_add(&nv, &e);
		}
	}
	if (err) {
		fs_vec_free(&nv);
		return;
	}
	if (fs_vec_sort_unique(&nv) || check_coverage(fs, f, &nv)) {
		fs_vec_free(&nv);
		return;
	}
	err = feed_apply(fs, f, &nv, &chg);
	if (err)
		apply_error(fs, f, err, &chg);
	else if (chg.added || chg.removed)
		log_info("feed %s: domains resolved: +%zu -%zu addresses", f->cfg->name, chg.added,
			 chg.removed);
}

static const char *job_kind_name(enum bwe_job_kind k)
{
	return k == BWE_JOB_FETCH ? "download" : k == BWE_JOB_PARSE ? "parse" : "resolve";
}

/* The worker cannot have made it: it died, hung or sent garbage. */
static bool worker_fault(int status)
{
	return status == -ECHILD || status == -ETIMEDOUT || status == -EPROTO;
}

/* Once every feed's start-up version is in, the kernel's blocklist holds
 * exactly what the sources say: drop what a previous run left behind. */
static void maybe_sweep(struct feeds *fs)
{
	int err;

	if (fs->swept || fs->initial_pending)
		return;
	fs->swept = true;
	err = enf_bl_sweep(fs->enf);
	if (err)
		log_warnx("blocklist sweep: %s", strerror(-err));
}

/* Take a feeds_resolve() job off the list of those in the worker's hands. */
static void resolving_unlink(struct feeds *fs, struct job *j)
{
	struct job **p;

	for (p = &fs->resolving; *p; p = &(*p)->next)
		if (*p == j) {
			*p = j->next;
			return;
		}
}

int feeds_resolve(struct feeds *fs, const char *const *names, size_t n, feeds_resolved_fn cb,
		  void *ctx, __u32 *job)
{
	struct bwe_job_req req = { .kind = BWE_JOB_RESOLVE, .names = names, .n_names = n };
	struct job *j;
	int err;

	if (!n || !cb)
		return -EINVAL;
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->resolved = cb;
	j->rctx = ctx;
	snprintf(j->name, sizeof(j->name), "(host names)");
	err = bwe_fwc_submit(fs->fwc, &req, j, &j->rjob);
	if (err) {
		free(j);
		return err;
	}
	j->next = fs->resolving;
	fs->resolving = j;
	*job = j->rjob;
	return 0;
}

void feeds_resolve_cancel(struct feeds *fs, __u32 job)
{
	struct job *j;

	for (j = fs->resolving; j && j->rjob != job; j = j->next)
		;
	if (!j)
		return;
	bwe_fwc_cancel(fs->fwc, job);
	resolving_unlink(fs, j);
	free(j);
}

/* ---- crowdsec-lapi: bwctld as a CrowdSec bouncer ------------------------------- */

#define CS_SECRET_MAX	  (BWE_WIRE_SECRET_MAX - 1) /* bytes of a key file's key */
#define CS_PROVENANCE_MAX 512			    /* bytes of an entry's indicator text */

/*
 * A secret file's content without surrounding blanks and newline, into
 * out (cap bytes); the buffer read is wiped. -ENODATA: empty; -EFBIG:
 * longer than cap - 1; -EINVAL: a control byte inside; read_file's errors.
 */
static int read_secret(const char *path, char *out, size_t cap)
{
	char *buf = NULL, *p;
	size_t len = 0, n;
	int err = read_file(path, cap + 64, READ_FOLLOW, &buf, &len);

	if (err)
		return err;
	p = buf;
	n = len;
	while (n && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++, n--;
	while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\n' || p[n - 1] == '\r'))
		n--;
	err = !n ? -ENODATA : n >= cap ? -EFBIG : 0;
	for (size_t i = 0; !err && i < n; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			err = -EINVAL;
	if (!err) {
		memcpy(out, p, n);
		out[n] = '\0';
	}
	explicit_bzero(buf, len);
	free(buf);
	return err;
}

static const char *secret_error(int err)
{
	return err == -ENODATA	? "it is empty"
	       : err == -EFBIG	? "longer than a key may be"
	       : err == -EINVAL ? "it holds a control byte or is not a regular file"
				: strerror(-err);
}

/*
 * The secret a feed's request carries (api_key_file, bearer_file,
 * auth.password_file) into req and secret; 0 when it needs none. On a
 * failure the reason is the feed's error.
 */
static int feed_auth(struct feeds *fs, struct feed *f, struct bwe_job_req *req, char *secret,
		     size_t cap)
{
	const struct bwe_cfg_feed *c = f->cfg;
	const char *path = c->api_key_file  ? c->api_key_file
			   : c->bearer_file ? c->bearer_file
					    : c->auth_password_file;
	const char *key = c->api_key_file  ? "api_key_file"
			  : c->bearer_file ? "bearer_file"
					   : "auth.password_file";
	int err;

	if (!path)
		return 0;
	err = read_secret(path, secret, cap);
	if (err) {
		feed_error(fs, f, "cannot read %s %s: %s; keeping the last good version", key, path,
			   secret_error(err));
		return err;
	}
	req->secret = secret;
	req->auth = c->api_key_file  ? BWE_WIRE_AUTH_HEADER
		    : c->bearer_file ? BWE_WIRE_AUTH_BEARER
				     : BWE_WIRE_AUTH_BASIC;
	req->auth_name = c->api_key_file  ? (is_fmt(f, BWE_FMT_MISP) ? BWE_MISP_KEY_HEADER
								     : BWE_CS_KEY_HEADER)
			 : c->bearer_file ? ""
					  : c->auth_user;
	return 0;
}

static void cs_filter(const struct bwe_cfg_feed *c, struct bwe_cs_filter *flt)
{
	*flt = (struct bwe_cs_filter){
		.scopes = c->cs_scopes,
		.n_scopes = c->n_cs_scopes,
		.origins = c->cs_origins,
		.n_origins = c->n_cs_origins,
		.scenarios_containing = c->cs_scenarios_containing,
		.n_scenarios_containing = c->n_cs_scenarios_containing,
		.scenarios_not_containing = c->cs_scenarios_not_containing,
		.n_scenarios_not_containing = c->n_cs_scenarios_not_containing,
	};
}

/* The set's live decisions as the feed's entries: one per prefix, its provenance. */
static int cs_entries(const struct feed *f, time_t now, struct fs_vec *nv)
{
	struct bwe_cs_view *v = NULL;
	size_t n = 0, i;
	int err = bwe_cs_set_view(&f->cs, now, &v, &n);

	for (i = 0; !err && i < n; i++) {
		const struct bwe_cs_entry *d = v[i].first;
		struct fs_rec e = { .pfx = v[i].pfx, .valid_until = v[i].expires };
		char ind[CS_PROVENANCE_MAX], more[64] = "";

		if (v[i].count > 1)
			snprintf(more, sizeof(more), "; %zu more decision%s", v[i].count - 1,
				 v[i].count > 2 ? "s" : "");
		snprintf(ind, sizeof(ind),
			 "crowdsec decision %lld (origin %s, scenario %s, scope %s%s)",
			 (long long)d->id, d->origin, d->scenario, bwe_cs_scope_name(d->scope),
			 more);
		e.ind = ind;
		err = fs_vec_add(nv, &e);
	}
	free(v);
	return err;
}

/* Make the blocklist hold the set (the feed install path and its guards). */
static int cs_install(struct feeds *fs, struct feed *f, time_t now, struct enf_bl_change *chg)
{
	struct fs_vec nv = { 0 };
	int err = cs_entries(f, now, &nv);

	memset(chg, 0, sizeof(*chg));
	if (err) {
		fs_vec_free(&nv);
		feed_error(fs, f, "cannot build the blocklist of the decisions: %s",
			   strerror(-err));
		return err;
	}
	err = fs_vec_sort_unique(&nv) ?: check_coverage(fs, f, &nv);
	if (err) {
		fs_vec_free(&nv);
		return err;
	}
	err = feed_apply(fs, f, &nv, chg);
	if (err)
		apply_error(fs, f, err, chg);
	return err;
}

/*
 * Append "&name=v1,v2" to url (at *len) with each value percent-encoded
 * (RFC 3986 unreserved characters kept), as the CrowdSec bouncers send
 * their filters; nothing for an empty list. -ENAMETOOLONG past the end.
 */
static int cs_query_list(char *url, size_t cap, size_t *len, const char *name, char *const *v,
			 size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i, o = *len;
	int w;

	if (!n)
		return 0;
	w = snprintf(url + o, cap - o, "&%s=", name);
	if (w < 0 || (size_t)w >= cap - o)
		return -ENAMETOOLONG;
	o += (size_t)w;
	for (i = 0; i < n; i++) {
		const unsigned char *c;

		if (i) {
			if (o + 1 >= cap)
				return -ENAMETOOLONG;
			url[o++] = ',';
		}
		for (c = (const unsigned char *)v[i]; *c; c++) {
			if (isalnum(*c) || *c == '-' || *c == '.' || *c == '_' || *c == '~') {
				if (o + 1 >= cap)
					return -ENAMETOOLONG;
				url[o++] = (char)*c;
			} else {
				if (o + 3 >= cap)
					return -ENAMETOOLONG;
				url[o++] = '%';
				url[o++] = hex[*c >> 4];
				url[o++] = hex[*c & 15];
			}
		}
	}
	url[o] = '\0';
	*len = o;
	return 0;
}

/* Pull the decision stream: startup when the state is not known to be whole. */
static void cs_pull(struct feeds *fs, struct feed *f, bool initial)
{
	char url[BWE_WIRE_URL_MAX], secret[BWE_WIRE_SECRET_MAX];
	size_t sl = strlen(f->cfg->source);
	struct bwe_job_req req = {
		.kind = BWE_JOB_FETCH,
		.url = url,
		.max_bytes = f->cfg->max_bytes,
		.timeout_s = (__u32)f->cfg->timeout_s,
		.insecure = f->cfg->insecure,
		.ca_file = f->cfg->ca_file,
	};
	struct job *j;

	int w = snprintf(url, sizeof(url), "%s%s%s?startup=%s", f->cfg->source,
			 sl && f->cfg->source[sl - 1] == '/' ? "" : "/", BWE_CS_STREAM_PATH,
			 f->cs_startup ? "true" : "false");
	size_t ul = w > 0 ? (size_t)w : 0;
	const struct bwe_cfg_feed *c = f->cfg;

	/* The filters go to the LAPI as the bouncers send them (it then sends
	 * less); the decision set applies them again to what comes back. */
	if (w < 0 || ul >= sizeof(url) ||
	    cs_query_list(url, sizeof(url), &ul, "scopes", c->cs_scopes, c->n_cs_scopes) ||
	    cs_query_list(url, sizeof(url), &ul, "origins", c->cs_origins, c->n_cs_origins) ||
	    cs_query_list(url, sizeof(url), &ul, "scenarios_containing", c->cs_scenarios_containing,
			  c->n_cs_scenarios_containing) ||
	    cs_query_list(url, sizeof(url), &ul, "scenarios_not_containing",
			  c->cs_scenarios_not_containing, c->n_cs_scenarios_not_containing)) {
		feed_error(fs, f, "the source URL is too long");
		f->failures++;
		return;
	}
	if (feed_auth(fs, f, &req, secret, sizeof(secret))) {
		f->failures++;
		return;
	}
	j = calloc(1, sizeof(*j));
	if (!j) {
		explicit_bzero(secret, sizeof(secret));
		return;
	}
	job_for(fs, j, f, initial);
	j->cs_startup = f->cs_startup;
	parse_opts(f, &req.parse);
	f->busy = true;
	if (submit(fs, f, &req, j))
		f->busy = false;
	explicit_bzero(secret, sizeof(secret));
}

/*
 * The set on disk, as a startup stream of what is left of each decision at
 * the time of writing (the file's mtime): a restart while the LAPI is down
 * keeps the decisions in force until their own end (load_last_good).
 */
static void cs_save(struct feeds *fs, struct feed *f)
{
	struct json_object *top = json_object_new_object(), *arr = json_object_new_array();
	char pfx[BWE_PREFIX_STRLEN], dur[32];
	time_t now = time(NULL);
	const char *text;
	int err;

	for (size_t i = 0; i < f->cs.n; i++) {
		const struct bwe_cs_entry *e = &f->cs.v[i];
		struct json_object *o;

		if (e->expires <= now)
			continue;
		o = json_object_new_object();
		bwe_prefix_fmt(&e->pfx, pfx, sizeof(pfx));
		snprintf(dur, sizeof(dur), "%llds", (long long)(e->expires - now));
		json_object_object_add(o, "id", json_object_new_int64(e->id));
		json_object_object_add(o, "origin", json_object_new_string(e->origin));
		json_object_object_add(o, "scenario", json_object_new_string(e->scenario));
		json_object_object_add(o, "scope",
				       json_object_new_string(bwe_cs_scope_name(e->scope)));
		json_object_object_add(o, "type", json_object_new_string("ban"));
		json_object_object_add(o, "value", json_object_new_string(pfx));
		json_object_object_add(o, "duration", json_object_new_string(dur));
		json_object_array_add(arr, o);
	}
	json_object_object_add(top, "new", arr);
	json_object_object_add(top, "deleted", NULL);
	text = json_object_to_json_string_ext(top, JSON_C_TO_STRING_PLAIN);
	err = save_last_good(fs, f, text, strlen(text));
	if (err)
		log_warnx("feed %s: cannot save the decisions: %s", f->cfg->name, strerror(-err));
	json_object_put(top);
}

/*
 * A pull's end: the set takes it, or the decisions held stay (fail static).
 * True when the set must be pulled whole at once (a deletion left a prefix
 * held); a refused or failed pull waits for the next refresh instead.
 */
static bool cs_done(struct feeds *fs, struct feed *f, const struct job *j,
		    const struct bwe_job_result *res)
{
	struct bwe_cs_apply_stats ast;
	struct bwe_cs_filter flt;
	struct enf_bl_change chg;
	time_t now = j->cs_saved_at ? j->cs_saved_at : time(NULL);
	struct parse_ctx rc = { .fs = fs, .f = f };
	struct json_object *ev, *b;
	int err;

	if (res->status && j->cs_saved_at) {
		log_warnx("feed %s: cannot restore the saved decisions: %s", f->cfg->name,
			  res->error);
		return false;
	}
	if (res->status) {
		feed_error(fs, f,
			   "CrowdSec LAPI pull failed: %s; the %zu decisions held stay in force "
			   "until their own expiry (fail static)",
			   res->error, f->cs.n);
		f->failures++;
		f->cs_startup = true; /* what the LAPI sent meanwhile may be lost */
		return false;
	}
	for (size_t i = 0; i < res->n_rejects; i++)
		report_reject(&rc, &res->rejects[i], true); /* a decision's value */
	cs_filter(f->cfg, &flt);
	f->cs.max = f->cfg->max_decisions;
	err = bwe_cs_set_apply(&f->cs, res->decisions, res->n_decisions, j->cs_startup, now, &flt,
			       &ast);
	if (err == -E2BIG) {
		feed_refused(fs, f, "max_decisions", (double)res->n_decisions + (double)f->cs.n,
			     (double)f->cfg->max_decisions,
			     "the pull would hold more than max_decisions (%u) decisions; the %zu "
			     "held stay in force",
			     f->cfg->max_decisions, f->cs.n);
		f->failures++;
		f->cs_startup = true;
		return false;
	}
	if (err) {
		feed_error(fs, f, "cannot take the pull: %s; the decisions held stay in force",
			   strerror(-err));
		f->failures++;
		f->cs_startup = true;
		return false;
	}
	bwe_cs_set_expire(&f->cs, time(NULL));
	if (j->cs_saved_at) { /* the saved set: the pull queued after it decides */
		struct enf_bl_change c2;

		if (!cs_install(fs, f, time(NULL), &c2))
			log_info("feed %s: %zu saved decisions restored", f->cfg->name, f->cs.n);
		return false;
	}
	f->cs_startup = ast.resync;
	f->rejected = res->stats.rejected;
	f->skipped = res->stats.skipped + ast.filtered + ast.expired;
	f->last_success = time(NULL);
	f->last_error[0] = '\0';
	f->failures = 0;
	f->stale_reported = false;
	if (cs_install(fs, f, time(NULL), &chg)) {
		f->cs_startup = true; /* the maps lag the set: pull it whole again */
		return false;
	}
	if (chg.added || chg.removed || ast.added || ast.removed || ast.replaced || j->cs_startup) {
		if (chg.added || chg.removed)
			report_overlaps(fs, f);
		log_info("feed %s: %s pull: %zu decisions (+%zu -%zu ~%zu, %zu filtered, %zu "
			 "refused), %zu entries (+%zu -%zu)",
			 f->cfg->name,
			 j->cs_saved_at	 ? "saved"
			 : j->cs_startup ? "startup"
					 : "delta",
			 f->cs.n, ast.added, ast.removed, ast.replaced, ast.filtered,
			 (size_t)res->stats.rejected, ents_of(fs, f)->n, chg.added, chg.removed);
		ev = feed_event(f, "feed-updated", "event");
		b = json_object_object_get(json_object_object_get(ev, "bwenforce"), "feed");
		json_object_object_add(b, "entries", json_object_new_uint64(ents_of(fs, f)->n));
		json_object_object_add(b, "added", json_object_new_uint64(chg.added));
		json_object_object_add(b, "removed", json_object_new_uint64(chg.removed));
		json_object_object_add(b, "rejected", json_object_new_uint64(res->stats.rejected));
		json_object_object_add(b, "decisions", json_object_new_uint64(f->cs.n));
		json_object_object_add(b, "startup", json_object_new_boolean(j->cs_startup));
		evlog_emit(fs->log, ev);
		if (!j->cs_saved_at)
			cs_save(fs, f);
	}
	return ast.resync;
}

/* ---- taxii: a TAXII 2.1 collection, polled; misp: a restSearch POST ------------ */

static bool is_fmt(const struct feed *f, enum bwe_feed_format want)
{
	enum bwe_feed_format fmt;

	return !bwe_feed_format_parse(f->cfg->format, &fmt) && fmt == want;
}

/*
 * The POST a misp feed's FETCH carries (misp.h) to {source}attributes/restSearch,
 * url BWE_WIRE_URL_MAX bytes; 0, or the reason is the feed's error.
 */
static int misp_request(struct feeds *fs, struct feed *f, struct bwe_job_req *req, char *url,
			char *body, size_t cap)
{
	size_t sl = strlen(f->cfg->source);
	int n = bwe_misp_request_body(f->cfg->misp_last, body, cap);

	if (snprintf(url, BWE_WIRE_URL_MAX, "%s%s%s", f->cfg->source,
		     sl && f->cfg->source[sl - 1] == '/' ? "" : "/",
		     BWE_MISP_SEARCH_PATH) >= BWE_WIRE_URL_MAX) {
		feed_error(fs, f, "the source URL is too long");
		return -ENAMETOOLONG;
	}
	req->url = url;
	if (n <= 0) {
		feed_error(fs, f, "cannot build the restSearch request (last: %s)",
			   f->cfg->misp_last);
		return -EINVAL;
	}
	req->method = BWE_WIRE_POST;
	req->body = body;
	req->body_len = (size_t)n;
	return 0;
}

/*
 * Poll the collection: every object added after the cursor (the first
 * poll after a start or a change of settings: all of it), all pages in one
 * job of the feed worker.
 */
static void taxii_poll(struct feeds *fs, struct feed *f, bool initial)
{
	char url[BWE_WIRE_URL_MAX], secret[BWE_WIRE_SECRET_MAX];
	struct bwe_job_req req = {
		.kind = BWE_JOB_FETCH,
		.url = url,
		.max_bytes = f->cfg->max_bytes,
		.timeout_s = (__u32)f->cfg->timeout_s,
		.insecure = f->cfg->insecure,
		.ca_file = f->cfg->ca_file,
	};
	struct job *j;

	if (bwe_taxii_objects_url(f->cfg->source, f->cfg->taxii_collection, f->taxii_cursor, url,
				  sizeof(url))) {
		feed_error(fs, f, "the collection's URL is too long or has a query");
		f->failures++;
		return;
	}
	if (feed_auth(fs, f, &req, secret, sizeof(secret))) {
		f->failures++;
		retry_later(f);
		return;
	}
	j = calloc(1, sizeof(*j));
	if (!j) {
		explicit_bzero(secret, sizeof(secret));
		return;
	}
	job_for(fs, j, f, initial);
	parse_opts(f, &req.parse);
	f->busy = true;
	if (submit(fs, f, &req, j))
		f->busy = false;
	explicit_bzero(secret, sizeof(secret));
}

/*
 * The live values of the set as a parsed version of the feed: feed_take
 * applies it like any other (domains resolved, coverage guard, events).
 * The set is the collection, so the guards against a new version that
 * shrinks or is empty do not apply: revocations empty it legitimately.
 */
static int taxii_install(struct feeds *fs, struct feed *f, time_t now)
{
	struct bwe_job_result syn = { .stats = { .format = BWE_FMT_TAXII } };
	size_t np = 0, nd = 0, i, k;
	int err;

	for (i = 0; i < f->taxii.n; i++)
		if (bwe_taxii_ent_live(&f->taxii.v[i], now)) {
			np += f->taxii.v[i].n_pfx;
			nd += f->taxii.v[i].n_domains;
		}
	syn.inds = calloc(np ? np : 1, sizeof(*syn.inds));
	syn.domains = calloc(nd ? nd : 1, sizeof(*syn.domains));
	if (!syn.inds || !syn.domains) {
		free(syn.inds);
		free(syn.domains);
		return -ENOMEM;
	}
	for (i = 0; i < f->taxii.n; i++) {
		const struct bwe_taxii_ent *e = &f->taxii.v[i];

		if (!bwe_taxii_ent_live(e, now))
			continue;
		for (k = 0; k < e->n_pfx; k++)
			syn.inds[syn.n_inds++] =
				(struct bwe_job_ind){ .pfx = e->pfx[k],
						      .valid_until = e->valid_until,
						      .id = e->id };
		for (k = 0; k < e->n_domains; k++)
			syn.domains[syn.n_domains++] =
				(struct bwe_job_domain){ .name = e->domains[k] };
	}
	/* rejects were reported with the poll; the set holds only what passed */
	syn.stats.accepted = syn.n_inds + syn.n_domains;
	err = feed_take(fs, f, &syn, NULL, 0, true);
	free(syn.inds);
	free(syn.domains);
	/* valid_from and valid_until of the set, not only the entries' ends */
	f->next_expiry = (time_t)bwe_taxii_set_next_change(&f->taxii, now);
	return err;
}

/* RFC 3339 with nanoseconds, UTC. */
static void taxii_time_fmt(const struct bwe_taxii_time *t, char *out, size_t cap)
{
	time_t s = (time_t)t->sec;
	struct tm tm;
	char base[32];

	gmtime_r(&s, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, cap, "%s.%09uZ", base, t->nsec);
}

/*
 * The live indicators as a TAXII envelope (state_dir/feeds/NAME.last): a
 * restart while the server is down enforces them (load_last_good, read as
 * format taxii) until the first poll, which takes the whole collection.
 */
static void taxii_save(struct feeds *fs, struct feed *f)
{
	struct json_object *top = json_object_new_object(), *arr = json_object_new_array();
	char ts[64], pat[BWE_PREFIX_STRLEN + BWE_FEED_DOMAIN_MAX + 32];
	time_t now = time(NULL);
	const char *text;
	int err;

	for (size_t i = 0; i < f->taxii.n; i++) {
		const struct bwe_taxii_ent *e = &f->taxii.v[i];
		struct json_object *o;
		struct printbuf *pb;

		if (!bwe_taxii_ent_live(e, now) && !(e->valid_from > now && !e->revoked))
			continue;
		if (!e->n_pfx && !e->n_domains)
			continue;
		pb = printbuf_new();
		for (size_t k = 0; pb && k < e->n_pfx + e->n_domains; k++) {
			char p[BWE_PREFIX_STRLEN];

			if (k < e->n_pfx) {
				bwe_prefix_fmt(&e->pfx[k], p, sizeof(p));
				snprintf(pat, sizeof(pat), "%s[%s:value = '%s']", k ? " OR " : "",
					 bwe_addr_is_v4(&e->pfx[k].addr) ? "ipv4-addr"
									 : "ipv6-addr",
					 p);
			} else {
				snprintf(pat, sizeof(pat), "%s[domain-name:value = '%s']",
					 k ? " OR " : "", e->domains[k - e->n_pfx]);
			}
			printbuf_memappend(pb, pat, (int)strlen(pat));
		}
		if (!pb)
			continue;
		o = json_object_new_object();
		taxii_time_fmt(&e->modified, ts, sizeof(ts));
		json_object_object_add(o, "type", json_object_new_string("indicator"));
		json_object_object_add(o, "spec_version", json_object_new_string("2.1"));
		json_object_object_add(o, "id", json_object_new_string(e->id));
		json_object_object_add(o, "created", json_object_new_string(ts));
		json_object_object_add(o, "modified", json_object_new_string(ts));
		json_object_object_add(o, "pattern",
				       json_object_new_string_len(pb->buf, printbuf_length(pb)));
		json_object_object_add(o, "pattern_type", json_object_new_string("stix"));
		if (e->valid_from) {
			taxii_time_fmt(&(struct bwe_taxii_time){ .sec = e->valid_from }, ts,
				       sizeof(ts));
			json_object_object_add(o, "valid_from", json_object_new_string(ts));
		}
		if (e->valid_until) {
			taxii_time_fmt(&(struct bwe_taxii_time){ .sec = e->valid_until }, ts,
				       sizeof(ts));
			json_object_object_add(o, "valid_until", json_object_new_string(ts));
		}
		printbuf_free(pb);
		json_object_array_add(arr, o);
	}
	json_object_object_add(top, "more", json_object_new_boolean(0));
	json_object_object_add(top, "objects", arr);
	text = json_object_to_json_string_ext(top, JSON_C_TO_STRING_PLAIN);
	err = save_last_good(fs, f, text, strlen(text));
	if (err)
		log_warnx("feed %s: cannot save the indicators: %s", f->cfg->name, strerror(-err));
	json_object_put(top);
}

static void taxii_done(struct feeds *fs, struct feed *f, const struct bwe_job_result *res)
{
	struct bwe_taxii_apply_stats ast;
	struct parse_ctx rc = { .fs = fs, .f = f };
	int err;

	if (res->status) {
		feed_error(fs, f,
			   "TAXII poll failed: %s; the %zu indicators held stay in force (fail "
			   "static)",
			   res->error, bwe_taxii_set_live(&f->taxii, time(NULL)));
		f->failures++;
		return;
	}
	for (size_t i = 0; i < res->n_rejects; i++)
		report_reject(&rc, &res->rejects[i], true); /* an object the worker parsed */
	f->taxii.max = f->cfg->taxii_max_indicators;
	err = bwe_taxii_set_apply(&f->taxii, res->taxii, res->n_taxii, &ast);
	if (err == -E2BIG) {
		feed_refused(fs, f, "max_indicators", (double)f->taxii.n + (double)res->n_taxii,
			     (double)f->cfg->taxii_max_indicators,
			     "the poll would hold more than max_indicators (%u) indicators; the "
			     "%zu held stay in force",
			     f->cfg->taxii_max_indicators, f->taxii.n);
		f->failures++;
		return;
	}
	if (err) {
		feed_error(fs, f, "cannot take the poll: %s; the indicators held stay in force",
			   strerror(-err));
		f->failures++;
		return;
	}
	if (!ast.added && !ast.replaced && !f->last_error[0] && f->last_success) {
		/* nothing new, and the maps hold the set: no new version, no event */
		f->last_success = time(NULL);
		f->failures = 0;
		f->stale_reported = false;
	} else if (taxii_install(fs, f, time(NULL))) {
		return; /* the set is ahead of the maps: the cursor stays, the next poll retries */
	}
	if (res->cursor[0])
		snprintf(f->taxii_cursor, sizeof(f->taxii_cursor), "%s", res->cursor);
	if (res->n_taxii)
		taxii_save(fs, f);
	f->rejected = res->stats.rejected;
	f->skipped = res->stats.skipped + ast.stale;
	if (ast.added || ast.replaced || res->stats.rejected)
		log_info("feed %s: TAXII poll: %zu values, %zu ids held (+%zu ~%zu, %zu revoked or "
			 "expired, %zu stale), next added_after %s",
			 f->cfg->name, res->n_taxii, f->taxii.n, ast.added, ast.replaced,
			 ast.revoked, ast.stale, f->taxii_cursor[0] ? f->taxii_cursor : "(none)");
}

/* A valid_from or valid_until of the set was reached: enforce the set as it is now. */
static void taxii_tick(struct feeds *fs, struct feed *f, time_t now)
{
	bwe_taxii_set_expire(&f->taxii, now);
	if (taxii_install(fs, f, now))
		f->next_expiry = now + FEED_BACKOFF_MIN_S; /* not every tick */
}

/* A job's end (fwclient.h): the feed takes the result or keeps its last good version. */
static void job_done(struct bwe_job_result *res, void *job_ctx, void *cb_ctx)
{
	struct feeds *fs = cb_ctx;
	struct job *j = job_ctx;
	struct feed *f;

	if (j->resolved) { /* feeds_resolve(): its caller's */
		resolving_unlink(fs, j);
		j->resolved(j->rctx, res->status, res->error, res->answers, res->n_answers);
		free(j);
		return;
	}
	f = feed_of(fs, j);

	if (j->initial && fs->initial_pending)
		fs->initial_pending--;
	if (!f) {
		/* removed, or its settings changed, by a reload meanwhile */
		log_info("feed %s: dropped the result of a %s job made for an earlier "
			 "configuration",
			 j->name, job_kind_name(res->kind));
		goto out;
	}
	if (res->kind == BWE_JOB_RESOLVE) {
		f->dns_busy = false;
		if (res->status) {
			log_warnx("feed %s: cannot resolve its domains: %s", f->cfg->name,
				  res->error);
			f->next_dns = time(NULL) + FEED_BACKOFF_MIN_S;
		} else
			dns_done(fs, f, res);
		goto out;
	}
	if (!j->from_disk)
		f->busy = false;
	if (is_cs(f)) {
		if (cs_done(fs, f, j, res))
			f->again = true; /* a deletion left a prefix held: resync at once */
		goto again;
	}
	if (is_fmt(f, BWE_FMT_TAXII) && !j->from_disk) {
		taxii_done(fs, f, res);
		goto again;
	}
	if (j->delta) {
		int derr = feed_take_delta(fs, f, j, res);

		if (derr == -EAGAIN) {
			/* the whole body, parsed as any other version */
			log_debug("feed %s: parsing the whole version", f->cfg->name);
			submit_parse(fs, f, j->full, j->full_len, false, j->initial);
			j->full = NULL;
		} else if (derr) {
			retry_later(f);
		}
		goto again;
	}
	if (worker_fault(res->status)) {
		feed_error(fs, f, "%s; keeping the last good version", res->error);
		f->failures++;
	} else if (res->status == -EBADMSG) {
		feed_error(fs, f,
			   "the new version is not a feed (HTML page or unparseable); "
			   "keeping the last good version (%zu entries)",
			   ents_of(fs, f)->n);
		f->failures++;
	} else if (res->status == -EINVAL) {
		feed_error(fs, f,
			   "cannot parse (format not recognised); keeping the last good "
			   "version");
		f->failures++;
	} else if (res->status) {
		feed_error(fs, f, "%s failed: %s; keeping the last good version",
			   res->kind == BWE_JOB_FETCH ? "download" : "parse", res->error);
		f->failures++;
	} else if (res->not_modified) {
		f->last_success = time(NULL);
		f->last_error[0] = '\0';
		f->failures = 0;
		f->stale_reported = false;
	} else if (!feed_take(fs, f, res, res->kind == BWE_JOB_FETCH ? res->body : j->body,
			      res->kind == BWE_JOB_FETCH ? res->body_len : j->len, j->from_disk)) {
		if (j->from_disk)
			log_info("feed %s: last good version restored", f->cfg->name);
		if (res->kind == BWE_JOB_PARSE)
			text_keep(fs, f, j, res);
		if (res->kind == BWE_JOB_FETCH) {
			snprintf(f->etag, sizeof(f->etag), "%s", res->etag);
			snprintf(f->last_modified, sizeof(f->last_modified), "%s",
				 res->last_modified);
		}
	}
	retry_later(f);
again:
	if (!f->busy && f->again) {
		f->again = false;
		feed_refresh(fs, f, false);
	}
out:
	job_free(j);
	maybe_sweep(fs);
	/*
	 * A version's parse, diff and install leave free memory behind in the
	 * heap that malloc keeps (a 1M-entry feed: 26 MiB of 223 MiB RSS,
	 * measured with bench/control.sh): hand it back. One pass over the
	 * heap per job, a few a minute.
	 */
	malloc_trim(0);
}

void feeds_on_worker(struct feeds *fs, __u32 events)
{
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		bwe_fwc_on_readable(fs->fwc);
	if (events & EPOLLOUT)
		bwe_fwc_on_writable(fs->fwc);
}

int feeds_worker_sync(struct feeds *fs, int epfd, __u32 data)
{
	epoll_data_t d = { .u32 = data };

	return bwe_fwc_epoll_sync(fs->fwc, epfd, d);
}

struct json_object *feeds_worker_json(const struct feeds *fs)
{
	struct json_object *o = json_object_new_object();
	struct bwe_fwc_status st;

	bwe_fwc_status(fs->fwc, &st);
	json_object_object_add(o, "pid", st.pid > 0 ? json_object_new_int(st.pid) : NULL);
	json_object_object_add(o, "restarts", json_object_new_uint64(st.restarts));
	json_object_object_add(o, "queued", json_object_new_uint64(st.queued));
	json_object_object_add(o, "busy", json_object_new_boolean(st.busy));
	json_object_object_add(o, "jobs_ok", json_object_new_uint64(st.jobs_ok));
	json_object_object_add(o, "jobs_failed", json_object_new_uint64(st.jobs_failed));
	json_object_object_add(o, "last_error",
			       st.last_error[0] ? json_object_new_string(st.last_error) : NULL);
	return o;
}

/* ---- inotify: a local file that changes is re-read at once ---------------------- */

static void watch_source(struct feeds *fs, struct feed *f)
{
	char dir[PATH_MAX], *slash;

	f->wd = -1;
	if (f->is_url || fs->ino_fd < 0)
		return;
	snprintf(dir, sizeof(dir), "%s", f->cfg->source);
	slash = strrchr(dir, '/');
	if (!slash)
		return;
	*slash = '\0';
	f->wd = inotify_add_watch(fs->ino_fd, dir[0] ? dir : "/",
				  IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE);
	if (f->wd < 0)
		log_warn("feed %s: cannot watch %s", f->cfg->name, dir);
}

void feeds_on_inotify(struct feeds *fs)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t len;

	while ((len = read(fs->ino_fd, buf, sizeof(buf))) > 0) {
		char *p = buf;

		while (p < buf + len) {
			struct inotify_event *ev = (struct inotify_event *)(void *)p;
			size_t i;

			for (i = 0; ev->len && i < fs->n; i++) {
				struct feed *f = &fs->v[i];
				const char *base = strrchr(f->cfg->source, '/');

				if (f->wd == ev->wd && base && !strcmp(base + 1, ev->name)) {
					log_debug("feed %s: %s changed", f->cfg->name,
						  f->cfg->source);
					feed_refresh_now(fs, i);
				}
			}
			p += sizeof(*ev) + ev->len;
		}
	}
}

/* ---- lifecycle ------------------------------------------------------------------- */

/* The saved decision set (cs_save) as a PARSE job, applied at its mtime. */
static void cs_load_saved(struct feeds *fs, struct feed *f, const char *path, char *body,
			  size_t len)
{
	struct bwe_job_req req = { .kind = BWE_JOB_PARSE, .body = body, .body_len = len };
	struct job *j = calloc(1, sizeof(*j));
	struct stat st;

	if (!j || stat(path, &st) || st.st_mtime <= 0) {
		free(j);
		free(body);
		return;
	}
	job_for(fs, j, f, true);
	j->from_disk = true;
	j->cs_startup = true;
	j->cs_saved_at = st.st_mtime;
	j->body = body;
	j->len = len;
	parse_opts(f, &req.parse);
	submit(fs, f, &req, j);
}

static void load_last_good(struct feeds *fs, struct feed *f)
{
	char path[PATH_MAX], *body = NULL;
	size_t len = 0;

	if (last_good_path(fs, f, path, sizeof(path)) ||
	    read_file(path, f->cfg->max_bytes, 0, &body, &len))
		return;
	if (is_cs(f)) {
		cs_load_saved(fs, f, path, body, len);
		return;
	}
	submit_parse(fs, f, body, len, true, true);
}

/*
 * The job in flight (the first version of the first feed) written to the
 * worker now, not from the event loop: the worker parses it while the
 * daemon loads the data plane. Bounded: a worker that stops reading (it
 * died, or hit its memory ceiling) is left to the loop's restart.
 */
static void hand_over(struct feeds *fs)
{
	struct pollfd p = { .fd = bwe_fwc_fd(fs->fwc), .events = POLLOUT };
	__u64 end = bwe_sandbox_now_ms() + FEED_HANDOVER_MS, now;

	while (p.fd >= 0 && (bwe_fwc_events(fs->fwc) & EPOLLOUT)) {
		now = bwe_sandbox_now_ms();
		if (now >= end || poll(&p, 1, (int)(end - now)) <= 0 ||
		    (p.revents & (POLLERR | POLLHUP)))
			return;
		bwe_fwc_on_writable(fs->fwc);
		p.fd = bwe_fwc_fd(fs->fwc);
	}
}

int feeds_new(struct feeds **out, const struct feeds_deps *deps)
{
	char *const argv[] = { "bwctld", FEEDS_WORKER_ARG, NULL };
	struct bwe_fwc_conf conf = {
		.sandbox = { .name = "feed worker",
			     .path = "/proc/self/exe",
			     .argv = argv,
			     .user = deps->cfg->sandbox_user,
			     .data_limit = deps->cfg->feed_worker_memory },
		.done = job_done,
	};
	struct feeds *fs = calloc(1, sizeof(*fs));
	size_t i;
	int err;

	if (!fs)
		return -ENOMEM;
	fs->cfg = deps->cfg;
	fs->store = deps->store;
	fs->log = deps->log;
	fs->started = time(NULL);
	*out = fs;
	fs->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	err = saver_new(&fs->saver, SAVER_MAX_BYTES);
	if (err) /* not fatal: the copies are written on the loop, as before */
		log_warnx("cannot start the thread that saves feeds' last good versions: %s; "
			  "saving them on the event loop",
			  strerror(-err));
	conf.cb_ctx = fs;
	err = bwe_fwc_new(&conf, &fs->fwc);
	if (err) {
		log_warnx("cannot start the feed worker as user %s: %s", fs->cfg->sandbox_user,
			  strerror(-err));
		return err;
	}
	fs->v = calloc(fs->cfg->n_feeds ? fs->cfg->n_feeds : 1, sizeof(*fs->v));
	if (!fs->v)
		return -ENOMEM;
	fs->n = fs->cfg->n_feeds;
	for (i = 0; i < fs->n; i++) {
		struct feed *f = &fs->v[i];

		f->cfg = &fs->cfg->feeds[i];
		f->id = (__u8)(BWE_FEED_FIRST + i);
		f->gen = ++fs->next_gen;
		f->is_url = is_url(f->cfg->source);
		f->wd = -1;
		f->cs_startup = true; /* a bouncer's first pull after a start */
		err = fstore_define(fs->store, f->id, f->cfg->name, f->cfg->source,
				    f->cfg->action == BWE_ACT_MONITOR);
		if (err)
			return err;
		if (bwe_feed_format_parse(f->cfg->format, &f->fmt))
			f->fmt = BWE_FMT_AUTO;
		watch_source(fs, f);
		/* The saved last good version goes first, whatever the network says. */
		load_last_good(fs, f);
		/* Then the source itself: local files are read here, URLs fetched. */
		feed_refresh(fs, f, true);
	}
	hand_over(fs);
	return 0;
}

void feeds_bind(struct feeds *fs, struct enforcer *enf)
{
	fs->enf = enf;
	maybe_sweep(fs);
}

size_t feeds_startup_pending(const struct feeds *fs)
{
	return fs->swept ? 0 : fs->initial_pending ? fs->initial_pending : 1;
}

void feeds_free(struct feeds *fs)
{
	size_t i;

	if (!fs)
		return;
	saver_free(fs->saver); /* the copies queued are written first */
	bwe_fwc_free(fs->fwc); /* kills the worker; jobs in flight end unreported */
	while (fs->resolving) {
		struct job *j = fs->resolving;

		fs->resolving = j->next;
		free(j);
	}
	for (i = 0; i < fs->n; i++) {
		text_free(fs->v[i].text);
		domains_free(fs->v[i].doms, fs->v[i].ndoms);
		bwe_cs_set_free(&fs->v[i].cs);
		bwe_taxii_set_free(&fs->v[i].taxii);
	}
	free(fs->v);
	if (fs->ino_fd >= 0)
		close(fs->ino_fd);
	free(fs);
}

void feeds_set_config(struct feeds *fs, const struct bwe_cfgfile *cfg)
{
	fs->cfg = cfg;
}

int feeds_fd_inotify(const struct feeds *fs)
{
	return fs->ino_fd;
}

/* Expire indicators past their valid_until, schedule refreshes, note stale feeds. */
void feeds_tick(struct feeds *fs, time_t now)
{
	size_t i;

	bwe_fwc_tick(fs->fwc);
	for (i = 0; fs && i < fs->n; i++) {
		struct feed *f = &fs->v[i];

		/* crowdsec-lapi: a decision ended under a longer one on its prefix goes too */
		if (f->cs.n)
			bwe_cs_set_expire(&f->cs, now);
		if (f->next_expiry && f->next_expiry <= now && is_fmt(f, BWE_FMT_TAXII)) {
			taxii_tick(fs, f, now);
		} else if (f->next_expiry && f->next_expiry <= now) {
			struct fs_vec nv = { 0 };
			struct enf_bl_change chg;
			const struct fs_vec *cur = ents_of(fs, f);
			size_t k, n0 = cur->n;
			int err = 0;

			for (k = 0; k < cur->n && !err; k++) {
				time_t until = fs_ent_valid_until(cur, &cur->v[k]);

				if (!until || until > now)
					err = fs_vec_copy(&nv, cur, &cur->v[k]);
			}
			if (err) { /* nothing applied: a short copy would drop live entries */
				fs_vec_free(&nv);
				log_warnx("feed %s: expiring indicators: %s", f->cfg->name,
					  strerror(-err));
				f->next_expiry = now + FEED_BACKOFF_MIN_S;
			} else if ((err = feed_apply(fs, f, &nv, &chg))) {
				apply_error(fs, f, err, &chg);
				f->next_expiry = now + FEED_BACKOFF_MIN_S; /* not every tick */
			} else {
				struct json_object *ev =
					feed_event(f, "indicator-expired", "event");

				json_object_object_add(
					json_object_object_get(json_object_object_get(ev,
										      "bwenforce"),
							       "feed"),
					"expired", json_object_new_uint64(n0 - ents_of(fs, f)->n));
				evlog_emit(fs->log, ev);
			}
		}
		if (now >= f->next_refresh)
			feed_refresh_now(fs, i);
		if (f->next_dns && now >= f->next_dns)
			schedule_dns(fs, f);
		if (!f->stale_reported && f->last_attempt &&
		    now - (f->last_success ? f->last_success : fs->started) >
			    (time_t)(f->cfg->refresh_s * f->cfg->stale_after)) {
			struct json_object *ev = feed_event(f, "feed-stale", "alert");

			f->stale_reported = true;
			log_warnx("feed %s: stale: no successful refresh for %u refresh periods",
				  f->cfg->name, f->cfg->stale_after);
			json_object_object_add(json_object_object_get(ev, "event"), "reason",
					       json_object_new_string(f->last_error));
			evlog_emit(fs->log, ev);
		}
	}
}

int feeds_refresh(struct feeds *fs, const char *name, struct json_object *names)
{
	size_t i;
	bool found = false;

	for (i = 0; i < fs->n; i++) {
		if (name && strcmp(name, fs->v[i].cfg->name))
			continue;
		found = true;
		fs->v[i].failures = 0;
		feed_refresh_now(fs, i);
		json_object_array_add(names, json_object_new_string(fs->v[i].cfg->name));
	}
	return found || !name ? 0 : -ENOENT;
}

struct json_object *feeds_list_json(const struct feeds *fs)
{
	struct json_object *arr = json_object_new_array();
	time_t now = time(NULL);
	size_t i;

	for (i = 0; fs && i < fs->n; i++) {
		struct feed *f = &fs->v[i];
		struct json_object *o = json_object_new_object();
		const char *state = f->stale_reported  ? "stale"
				    : f->last_error[0] ? "error"
				    : !f->last_success ? "never"
						       : "ok";

		json_object_object_add(o, "name", json_object_new_string(f->cfg->name));
		json_object_object_add(o, "id", json_object_new_int(f->id));
		json_object_object_add(o, "source", json_object_new_string(f->cfg->source));
		json_object_object_add(o, "format",
				       json_object_new_string(bwe_feed_format_name(f->fmt)));
		json_object_object_add(o, "action",
				       json_object_new_string(f->cfg->action == BWE_ACT_MONITOR
								      ? "monitor"
								      : "drop"));
		json_object_object_add(o, "signal",
				       json_object_new_string(
					       bwe_feed_signal_name(f->cfg->signal)));
		json_object_object_add(o, "state", json_object_new_string(state));
		json_object_object_add(o, "entries", json_object_new_uint64(ents_of(fs, f)->n));
		json_object_object_add(o, "entries_v4", json_object_new_uint64(f->v4));
		json_object_object_add(o, "entries_v6", json_object_new_uint64(f->v6));
		json_object_object_add(o, "domains", json_object_new_uint64(f->ndoms));
		json_object_object_add(o, "rejected", json_object_new_uint64(f->rejected));
		json_object_object_add(o, "skipped", json_object_new_uint64(f->skipped));
		if (is_cs(f)) {
			/* decisions held; fail_static: the LAPI fails and they stay in force */
			json_object_object_add(o, "decisions", json_object_new_uint64(f->cs.n));
			json_object_object_add(o, "fail_static",
					       json_object_new_boolean(f->last_error[0] &&
								       f->cs.n));
		}
		if (is_fmt(f, BWE_FMT_TAXII)) {
			/* ids held (tombstones too), the live ones, the next poll's added_after */
			json_object_object_add(o, "indicators", json_object_new_uint64(f->taxii.n));
			json_object_object_add(o, "indicators_live",
					       json_object_new_uint64(
						       bwe_taxii_set_live(&f->taxii, now)));
			json_object_object_add(o, "added_after",
					       f->taxii_cursor[0]
						       ? json_object_new_string(f->taxii_cursor)
						       : NULL);
			json_object_object_add(o, "fail_static",
					       json_object_new_boolean(
						       f->last_error[0] &&
						       bwe_taxii_set_live(&f->taxii, now)));
		}
		json_add_time(o, "last_success", f->last_success);
		json_add_time(o, "last_attempt", f->last_attempt);
		json_object_object_add(o, "last_error",
				       f->last_error[0] ? json_object_new_string(f->last_error)
							: NULL);
		json_add_time(o, "next_refresh", f->next_refresh > now ? f->next_refresh : now);
		json_object_object_add(o, "hits",
				       json_object_new_uint64(fstore_hits(fs->store, f->id)));
		json_object_array_add(arr, o);
	}
	return arr;
}

size_t feeds_count(const struct feeds *fs)
{
	return fs ? fs->n : 0;
}

void feeds_stat(const struct feeds *fs, size_t i, struct feed_stat *out)
{
	const struct feed *f = &fs->v[i];

	out->name = f->cfg->name;
	out->v4 = f->v4;
	out->v6 = f->v6;
	out->last_success = f->last_success;
	out->errors = f->errors;
	out->hits = fstore_hits(fs->store, f->id);
}

void feeds_worker_stat(const struct feeds *fs, __u64 *restarts, __u64 *jobs_ok, __u64 *jobs_failed)
{
	struct bwe_fwc_status st;

	bwe_fwc_status(fs->fwc, &st);
	*restarts = st.restarts;
	*jobs_ok = st.jobs_ok;
	*jobs_failed = st.jobs_failed;
}

/* Whether a job made with feed settings a is still right for b. */
static bool job_settings_differ(const struct bwe_cfg_feed *a, const struct bwe_cfg_feed *b)
{
	return strcmp(a->source, b->source) || strcmp(a->format, b->format) ||
	       a->min_prefix_v4 != b->min_prefix_v4 || a->min_prefix_v6 != b->min_prefix_v6 ||
	       a->max_bytes != b->max_bytes ||
	       strcmp(a->taxii_collection ? a->taxii_collection : "",
		      b->taxii_collection ? b->taxii_collection : "");
}

/*
 * After SIGHUP: fs->cfg is the new configuration, the old one still alive.
 * Feeds that remain (by name) keep their id and entries; new feeds load
 * first; then the entries of feeds that were removed go.
 */
void feeds_reload(struct feeds *fs)
{
	struct feed *nv, *old = fs->v;
	size_t oldn = fs->n, i, k;
	bool *kept, used[BWE_FEED_MAX + 1] = { false };
	struct fs_vec *gone;

	nv = calloc(fs->cfg->n_feeds ? fs->cfg->n_feeds : 1, sizeof(*nv));
	kept = calloc(oldn ? oldn : 1, sizeof(*kept));
	gone = calloc(oldn ? oldn : 1, sizeof(*gone));
	if (!nv || !kept || !gone) {
		free(nv);
		free(kept);
		free(gone);
		log_warnx("feeds: out of memory on reload; keeping the feeds as they were");
		return;
	}
	for (i = 0; i < fs->cfg->n_feeds; i++) {
		for (k = 0; k < oldn; k++) {
			if (kept[k] || strcmp(old[k].cfg->name, fs->cfg->feeds[i].name))
				continue;
			nv[i] = old[k];
			kept[k] = true;
			used[nv[i].id] = true;
			break;
		}
	}
	/* Removed feeds leave the store first (their ids may be reused); the
	 * kernel keeps their entries until the feeds that remain have loaded. */
	for (k = 0; k < oldn; k++)
		if (!kept[k])
			fstore_drop(fs->store, old[k].id, &gone[k]);
	for (i = 0; i < fs->cfg->n_feeds; i++) {
		struct feed *f = &nv[i];
		bool fresh = !f->cfg;
		bool moved = !fresh && strcmp(f->cfg->source, fs->cfg->feeds[i].source);

		if (!fresh && job_settings_differ(f->cfg, &fs->cfg->feeds[i])) {
			/* jobs in flight were made for the old settings: theirs is stale */
			f->gen = ++fs->next_gen;
			f->busy = f->dns_busy = f->again = false;
			f->etag[0] = f->last_modified[0] = '\0';
			f->next_refresh = 0;
			f->cs_startup = true; /* another LAPI, or another format */
			bwe_cs_set_free(&f->cs);
			f->taxii_cursor[0] = '\0'; /* another collection: poll it whole */
			bwe_taxii_set_free(&f->taxii);
			log_info("feed %s: its source or parse settings changed; jobs in flight "
				 "will be dropped",
				 f->cfg->name);
		}
		f->cfg = &fs->cfg->feeds[i];
		if (fresh) {
			__u8 id = BWE_FEED_FIRST;

			while (used[id])
				id++;
			used[id] = true;
			f->id = id;
			f->gen = ++fs->next_gen;
			f->cs_startup = true;
		}
		f->is_url = is_url(f->cfg->source);
		if (is_cs(f) && !fresh) {
			/* filters or max_decisions may have changed: the whole set again */
			f->cs_startup = true;
			f->next_refresh = 0;
		}
		if (fstore_define(fs->store, f->id, f->cfg->name, f->cfg->source,
				  f->cfg->action == BWE_ACT_MONITOR))
			log_warnx("feed %s: out of memory", f->cfg->name);
		if (fresh || moved) {
			/* a moved source gets a new watch; the old one is left to expire with the directory */
			watch_source(fs, f);
			f->next_refresh = 0;
		}
	}
	fs->v = nv;
	fs->n = fs->cfg->n_feeds;
	for (i = 0; i < fs->n; i++)
		if (!fs->v[i].last_attempt || !fs->v[i].next_refresh)
			feed_refresh_now(fs, i);
	for (k = 0; k < oldn; k++) {
		if (kept[k])
			continue;
		if (enf_bl_withdraw(fs->enf, &gone[k]))
			log_warnx("a feed was removed from the configuration: its entries could "
				  "not all be withdrawn");
		log_info("a feed was removed from the configuration: %zu entries withdrawn",
			 gone[k].n);
		/* a directory has one watch, maybe shared with a remaining feed */
		for (i = 0; i < fs->n && old[k].wd >= 0; i++)
			if (fs->v[i].wd == old[k].wd)
				old[k].wd = -1;
		if (old[k].wd >= 0)
			inotify_rm_watch(fs->ino_fd, old[k].wd);
		fs_vec_free(&gone[k]);
		text_free(old[k].text);
		domains_free(old[k].doms, old[k].ndoms);
		bwe_cs_set_free(&old[k].cs);
		bwe_taxii_set_free(&old[k].taxii);
	}
	free(old);
	free(kept);
	free(gone);
}
