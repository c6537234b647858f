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
 * The effective blocklist is the union of every feed and the manual blocks:
 * for a prefix present in several sources, a drop source beats a monitor
 * source, and among equals the lowest feed id names it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <resolv.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <curl/curl.h>

#include "feed.h"
#include "feeds.h"
#include "log.h"
#include "util.h"

#define FEED_REJECT_EVENTS_MAX 50	/* refused lines reported per load */
#define FEED_BACKOFF_MIN_S     30	/* first retry after a failure */
#define FEED_DNS_TTL_MIN_S     10	/* re-resolve domains at most this often */
#define FEED_DNS_TTL_MAX_S     86400
#define FEED_ERR_MAX           256

struct feed_domain {
	char *name;
	__u32 line;
	time_t expires;		/* re-resolve after */
	struct bwe_addr *addrs;
	size_t naddrs;
};

struct feed {
	struct bwe_cfg_feed *cfg;	/* into the daemon's current configuration */
	__u8 id;
	enum bwe_feed_format fmt;	/* configured or detected; entries live in the fstore */
	struct feed_domain *doms;
	size_t ndoms;
	size_t v4, v6, rejected, skipped;
	time_t last_success, last_attempt, next_refresh, next_expiry, next_dns;
	char last_error[FEED_ERR_MAX];
	int failures;
	bool stale_reported, busy, is_url;
	char etag[256], last_modified[128];
	int wd;				/* inotify watch of the source's directory */
};

enum job_kind { JOB_FETCH = 1, JOB_RESOLVE };

struct job {
	struct job *next;
	enum job_kind kind;
	size_t feed;			/* index into feeds */
	/* fetch */
	char url[1024], etag[256], last_modified[128];
	__u64 max_bytes, timeout_s;
	char *body;
	size_t len, cap;
	long http;
	bool not_modified, too_big;
	char new_etag[256], new_last_modified[128];
	/* resolve */
	struct feed_domain *doms;	/* copies of names; results written here */
	size_t ndoms;
	int err;
	char errmsg[FEED_ERR_MAX];
};

struct feeds {
	const struct bwe_cfgfile *cfg;
	struct fstore *store;
	struct enforcer *enf;
	struct evlog *log;
	time_t started;
	struct feed *v;
	size_t n;
	int ino_fd, ev_fd;
	pthread_t worker;
	bool worker_up, stop;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct job *todo, *done;
	char last_dir[PATH_MAX];
};

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

static void feed_error(struct feeds *fs, struct feed *f, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void feed_error(struct feeds *fs, struct feed *f, const char *fmt, ...)
{
	struct json_object *ev;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(f->last_error, sizeof(f->last_error), fmt, ap);
	va_end(ap);
	log_warnx("feed %s: %s", f->cfg->name, f->last_error);
	ev = feed_event(f, "feed-error", "event");
	json_object_object_add(json_object_object_get(ev, "event"), "reason",
			       json_object_new_string(f->last_error));
	evlog_emit(fs->log, ev);
}

/* ---- applying a version ------------------------------------------------------ */

/* Report feed entries that cover addresses the data plane never blocks. */
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

			for (i = 0; i < v->n; i++) {
				const struct bwe_prefix *e = &v->v[i].pfx;
				struct json_object *ev;
				char a[BWE_PREFIX_STRLEN], b[BWE_PREFIX_STRLEN], msg[256];

				if (!bwe_prefix_covers(e, prot) && !bwe_prefix_covers(prot, e))
					continue;
				bwe_prefix_fmt(e, a, sizeof(a));
				bwe_prefix_fmt(prot, b, sizeof(b));
				snprintf(msg, sizeof(msg), "entry %s (line %u) overlaps %s %s: "
					 "those addresses stay reachable", a, v->v[i].line,
					 names[l], b);
				log_info("feed %s: %s", f->cfg->name, msg);
				if (reported++ >= FEED_REJECT_EVENTS_MAX)
					continue;
				ev = feed_event(f, "feed-overlap", "event");
				json_object_object_add(json_object_object_get(ev, "event"), "reason",
						       json_object_new_string(msg));
				evlog_emit(fs->log, ev);
			}
		}
	}
}

static void count_families(struct feed *f, const struct fs_vec *v)
{
	size_t i;

	f->v4 = f->v6 = 0;
	for (i = 0; i < v->n; i++) {
		if (bwe_addr_is_v4(&v->v[i].pfx.addr) && v->v[i].pfx.plen >= BWE_V4_MAPPED_PLEN)
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
		if (v->v[i].valid_until && (!t || v->v[i].valid_until < t))
			t = v->v[i].valid_until;
	return t;
}

/*
 * Replace a feed's entries with nv (sorted, unique): additions first, one
 * flush, then removals, another flush. Returns 0 or -errno; fills counts.
 */
static int feed_apply(struct feeds *fs, struct feed *f, struct fs_vec *nv,
		      size_t *added, size_t *removed)
{
	const struct fs_vec *cur = ents_of(fs, f);
	struct fs_vec old;
	struct bwe_prefix *gone = NULL;
	size_t *fresh = NULL, i = 0, j = 0, ngone = 0, nadd = 0;
	time_t now = time(NULL);
	int err = 0;

	/* at most every new entry is an addition */
	fresh = calloc(nv->n ? nv->n : 1, sizeof(*fresh));
	if (!fresh)
		return -ENOMEM;

	/* Carry first_seen over; collect the removed prefixes. */
	while (i < cur->n || j < nv->n) {
		int c = i == cur->n ? 1 : j == nv->n ? -1 : fs_pfx_cmp(&cur->v[i].pfx, &nv->v[j].pfx);

		if (c == 0) {
			nv->v[j].first_seen = cur->v[i].first_seen;
			i++;
			j++;
		} else if (c < 0) {
			struct bwe_prefix *t = reallocarray(gone, ngone + 1, sizeof(*t));

			if (!t) {
				free(gone);
				free(fresh);
				return -ENOMEM;
			}
			gone = t;
			gone[ngone++] = cur->v[i++].pfx;
		} else {
			nv->v[j].first_seen = (__u32)now;
			fresh[nadd++] = j++;
		}
	}
	old = *nv;
	fstore_swap(fs->store, f->id, &old);	/* the store holds nv, old the previous */
	memset(nv, 0, sizeof(*nv));
	cur = ents_of(fs, f);

	/* Additions first (room for them reserved at once) ... */
	err = enf_bl_reserve(fs->enf, nadd);
	for (j = 0; j < nadd && !err; j++)
		err = enf_bl_update(fs->enf, &cur->v[fresh[j]].pfx, f->id);
	err = err ?: enf_bl_flush(fs->enf);
	/* ... then removals: what no other source holds disappears. */
	for (i = 0; i < ngone && !err; i++)
		err = enf_bl_update(fs->enf, &gone[i], 0);
	err = err ?: enf_bl_flush(fs->enf);

	fs_vec_free(&old);
	free(gone);
	free(fresh);
	count_families(f, cur);
	f->next_expiry = next_expiry_of(cur);
	*added = nadd;
	*removed = ngone;
	return err;
}

/* ---- parsing a body -------------------------------------------------------- */

struct parse_ctx {
	struct feeds *fs;
	struct feed *f;
	struct fs_vec v;
	struct feed_domain *doms;
	size_t ndoms;
	size_t reported;
	int err;
};

static int on_ind(const struct bwe_indicator *ind, void *arg)
{
	struct parse_ctx *c = arg;
	struct fs_ent e = { .line = ind->line, .valid_until = (__u32)ind->valid_until };

	if (ind->kind == BWE_IND_DOMAIN) {
		struct feed_domain *t = reallocarray(c->doms, c->ndoms + 1, sizeof(*t));

		if (!t)
			return -ENOMEM;
		c->doms = t;
		memset(&c->doms[c->ndoms], 0, sizeof(c->doms[0]));
		c->doms[c->ndoms].name = strdup(ind->domain);
		c->doms[c->ndoms].line = ind->line;
		if (!c->doms[c->ndoms].name)
			return -ENOMEM;
		c->ndoms++;
		return 0;
	}
	e.pfx = ind->pfx;
	e.ind = fs_vec_str(&c->v, ind->id);
	return fs_vec_push(&c->v, &e);
}

static void on_reject(const struct bwe_feed_reject *rej, void *arg)
{
	struct parse_ctx *c = arg;
	struct json_object *ev, *b;

	if (c->reported++ >= FEED_REJECT_EVENTS_MAX)
		return;
	ev = feed_event(c->f, "feed-line-rejected", "event");
	b = json_object_object_get(json_object_object_get(ev, "bwenforce"), "feed");
	json_object_object_add(b, "line", json_object_new_int64(rej->line));
	json_object_object_add(b, "text", json_object_new_string(rej->excerpt ? rej->excerpt : ""));
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
			struct fs_ent e = { .line = c->doms[i].line };

			e.pfx.addr = c->doms[i].addrs[k];
			e.pfx.plen = BWE_ADDR_BITS;
			e.ind = fs_vec_str(&c->v, c->doms[i].name);
			err = fs_vec_push(&c->v, &e);
			if (err)
				return err;
		}
	}
	return 0;
}

static int save_last_good(struct feeds *fs, struct feed *f, const char *body, size_t len)
{
	char path[PATH_MAX];
	int err;

	if (snprintf(path, sizeof(path), "%s/feeds/%s.last", fs->cfg->paths.state_dir,
		     f->cfg->name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	err = mkdir_parent(path);
	return err ?: write_file_atomic(path, body, len, 0640);
}

static void schedule_dns(struct feeds *fs, size_t idx);

/*
 * Parse a new version of a feed and, if it passes the guards, apply it.
 * from_disk: the body is the saved last good version (no guards on shrink).
 */
static int feed_load(struct feeds *fs, size_t idx, const char *body, size_t len, bool from_disk)
{
	struct feed *f = &fs->v[idx];
	struct parse_ctx c = { .fs = fs, .f = f };
	struct bwe_feed_parse_opts o = {
		.min_plen_v4 = (int)f->cfg->min_prefix_v4,
		.min_plen_v6 = (int)f->cfg->min_prefix_v6,
		.now = time(NULL),
		.on_ind = on_ind,
		.on_reject = on_reject,
		.ctx = &c,
	};
	struct bwe_feed_stats st = { 0 };
	struct json_object *ev, *b;
	size_t added = 0, removed = 0, total;
	int err;

	if (bwe_feed_format_parse(f->cfg->format, &o.format))
		o.format = BWE_FMT_AUTO;
	err = bwe_feed_parse(body, len, &o, &st);
	if (err == -EBADMSG) {
		feed_error(fs, f, "the new version is not a feed (HTML page or unparseable); "
			   "keeping the last good version (%zu entries)", ents_of(fs, f)->n);
		goto fail;
	}
	if (err) {
		feed_error(fs, f, "cannot parse (%s); keeping the last good version",
			   err == -EINVAL ? "format not recognised" : strerror(-err));
		goto fail;
	}
	total = st.accepted + st.rejected;
	if (total && (double)st.rejected / (double)total > f->cfg->max_reject) {
		feed_error(fs, f, "%zu of %zu lines refused (more than %.0f%%); keeping the last "
			   "good version", st.rejected, total, f->cfg->max_reject * 100);
		err = -EBADMSG;
		goto fail;
	}
	err = add_resolved(f, &c);
	if (err)
		goto fail;
	fs_vec_sort_unique(&c.v);
	if (!from_disk && !f->cfg->may_be_empty && c.v.n + c.ndoms == 0) {
		feed_error(fs, f, "the new version is empty; keeping the last good version "
			   "(%zu entries; set may_be_empty if the feed can be empty)", ents_of(fs, f)->n);
		err = -ENODATA;
		goto fail;
	}
	if (!from_disk && !f->cfg->may_be_empty && ents_of(fs, f)->n &&
	    (double)(c.v.n + c.ndoms) < (1.0 - f->cfg->max_shrink) * (double)ents_of(fs, f)->n) {
		feed_error(fs, f, "the new version shrank from %zu to %zu entries (more than "
			   "max_shrink %.0f%%); keeping the last good version", ents_of(fs, f)->n,
			   c.v.n + c.ndoms, f->cfg->max_shrink * 100);
		err = -ERANGE;
		goto fail;
	}
	f->fmt = st.format;
	err = feed_apply(fs, f, &c.v, &added, &removed);
	if (err) {
		feed_error(fs, f, "cannot write the blocklist: %s", strerror(-err));
		goto fail;
	}
	domains_free(f->doms, f->ndoms);
	f->doms = c.doms;
	f->ndoms = c.ndoms;
	c.doms = NULL;
	f->rejected = st.rejected;
	f->skipped = st.skipped;
	f->last_success = time(NULL);
	f->last_error[0] = '\0';
	f->failures = 0;
	f->stale_reported = false;
	report_overlaps(fs, f);
	log_info("feed %s: %zu entries (%zu v4, %zu v6, %zu domains), +%zu -%zu, %zu lines refused",
		 f->cfg->name, ents_of(fs, f)->n, f->v4, f->v6, f->ndoms, added, removed, st.rejected);
	ev = feed_event(f, "feed-updated", "event");
	b = json_object_object_get(json_object_object_get(ev, "bwenforce"), "feed");
	json_object_object_add(b, "entries", json_object_new_uint64(ents_of(fs, f)->n));
	json_object_object_add(b, "added", json_object_new_uint64(added));
	json_object_object_add(b, "removed", json_object_new_uint64(removed));
	json_object_object_add(b, "rejected", json_object_new_uint64(st.rejected));
	evlog_emit(fs->log, ev);
	/* the on-disk copy comes after enforcement: it only matters at the next start */
	if (!from_disk)
		save_last_good(fs, f, body, len);
	if (f->ndoms)
		schedule_dns(fs, idx);
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

static void post_job(struct feeds *fs, struct job *j)
{
	pthread_mutex_lock(&fs->mu);
	j->next = fs->todo;
	fs->todo = j;
	pthread_cond_signal(&fs->cv);
	pthread_mutex_unlock(&fs->mu);
}

static void feed_refresh_now(struct feeds *fs, size_t idx)
{
	struct feed *f = &fs->v[idx];
	char *body = NULL;
	size_t len = 0;
	int err;

	f->last_attempt = time(NULL);
	f->next_refresh = f->last_attempt + (time_t)f->cfg->refresh_s;
	if (f->is_url) {
		struct job *j;

		if (f->busy)
			return;
		j = calloc(1, sizeof(*j));
		if (!j)
			return;
		j->kind = JOB_FETCH;
		j->feed = idx;
		snprintf(j->url, sizeof(j->url), "%s", f->cfg->source);
		snprintf(j->etag, sizeof(j->etag), "%s", f->etag);
		snprintf(j->last_modified, sizeof(j->last_modified), "%s", f->last_modified);
		j->max_bytes = f->cfg->max_bytes;
		j->timeout_s = f->cfg->timeout_s;
		f->busy = true;
		post_job(fs, j);
		return;
	}
	err = read_file(f->cfg->source, f->cfg->max_bytes, &body, &len);
	if (err) {
		feed_error(fs, f, "cannot read %s: %s; keeping the last good version",
			   f->cfg->source, strerror(-err));
		f->failures++;
	} else {
		feed_load(fs, idx, body, len, false);
	}
	free(body);
	if (f->failures) {
		time_t backoff = FEED_BACKOFF_MIN_S << (f->failures < 10 ? f->failures - 1 : 9);

		if (backoff < (time_t)f->cfg->refresh_s)
			f->next_refresh = f->last_attempt + backoff;
	}
}

/* ---- the worker: HTTP downloads and DNS ---------------------------------------- */

static size_t curl_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct job *j = arg;
	size_t n = size * nmemb;

	if (j->len + n > j->max_bytes) {
		j->too_big = true;
		return 0;	/* abort */
	}
	if (j->len + n + 1 > j->cap) {
		size_t cap = j->cap ? j->cap * 2 : 65536;
		char *b;

		while (cap < j->len + n + 1)
			cap *= 2;
		b = realloc(j->body, cap);
		if (!b)
			return 0;
		j->body = b;
		j->cap = cap;
	}
	memcpy(j->body + j->len, ptr, n);
	j->len += n;
	j->body[j->len] = '\0';
	return n;
}

static void copy_header_value(const char *line, size_t n, char *out, size_t outlen)
{
	const char *v = memchr(line, ':', n);
	size_t len;

	if (!v)
		return;
	v++;
	while (v < line + n && (*v == ' ' || *v == '\t'))
		v++;
	len = (size_t)(line + n - v);
	while (len && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
		len--;
	if (len >= outlen)
		len = outlen - 1;
	memcpy(out, v, len);
	out[len] = '\0';
}

static size_t curl_header(char *line, size_t size, size_t nmemb, void *arg)
{
	struct job *j = arg;
	size_t n = size * nmemb;

	if (n > 5 && !strncasecmp(line, "ETag:", 5))
		copy_header_value(line, n, j->new_etag, sizeof(j->new_etag));
	else if (n > 14 && !strncasecmp(line, "Last-Modified:", 14))
		copy_header_value(line, n, j->new_last_modified, sizeof(j->new_last_modified));
	return n;
}

static void do_fetch(struct job *j)
{
	struct curl_slist *hdrs = NULL;
	char h[512];
	CURL *c = curl_easy_init();
	CURLcode rc;

	if (!c) {
		j->err = -ENOMEM;
		snprintf(j->errmsg, sizeof(j->errmsg), "libcurl init failed");
		return;
	}
	if (j->etag[0]) {
		snprintf(h, sizeof(h), "If-None-Match: %s", j->etag);
		hdrs = curl_slist_append(hdrs, h);
	}
	if (j->last_modified[0]) {
		snprintf(h, sizeof(h), "If-Modified-Since: %s", j->last_modified);
		hdrs = curl_slist_append(hdrs, h);
	}
	curl_easy_setopt(c, CURLOPT_URL, j->url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, curl_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, j);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, curl_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, j);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)j->timeout_s);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)j->max_bytes);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "bwenforce/" BWCTLD_VERSION);
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &j->http);
	if (j->too_big || rc == CURLE_FILESIZE_EXCEEDED) {
		j->err = -EFBIG;
		snprintf(j->errmsg, sizeof(j->errmsg), "larger than max_bytes (%llu)",
			 (unsigned long long)j->max_bytes);
	} else if (rc != CURLE_OK) {
		j->err = -EIO;
		snprintf(j->errmsg, sizeof(j->errmsg), "%s", curl_easy_strerror(rc));
	} else if (j->http == 304) {
		j->not_modified = true;
	} else if (j->http != 200) {
		j->err = -EIO;
		snprintf(j->errmsg, sizeof(j->errmsg), "HTTP status %ld", j->http);
	}
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
}

/* Resolve A and AAAA with res_query, keeping the smallest answer TTL. */
static void resolve_one(struct feed_domain *dom)
{
	static const int types[] = { ns_t_a, ns_t_aaaa };
	unsigned char ans[4096];
	__u32 ttl = FEED_DNS_TTL_MAX_S;
	size_t t;

	free(dom->addrs);
	dom->addrs = NULL;
	dom->naddrs = 0;
	for (t = 0; t < 2; t++) {
		ns_msg msg;
		int len = res_query(dom->name, ns_c_in, types[t], ans, sizeof(ans)), i, n;

		if (len < 0 || ns_initparse(ans, len, &msg))
			continue;
		n = ns_msg_count(msg, ns_s_an);
		for (i = 0; i < n; i++) {
			ns_rr rr;
			struct bwe_addr a;
			struct bwe_addr *v;

			if (ns_parserr(&msg, ns_s_an, i, &rr) || (int)ns_rr_type(rr) != types[t])
				continue;
			if (types[t] == ns_t_a && ns_rr_rdlen(rr) == 4) {
				__u32 v4;

				memcpy(&v4, ns_rr_rdata(rr), 4);
				bwe_addr_from_v4(v4, &a);
			} else if (types[t] == ns_t_aaaa && ns_rr_rdlen(rr) == 16) {
				memcpy(a.a, ns_rr_rdata(rr), 16);
			} else {
				continue;
			}
			if (ns_rr_ttl(rr) < ttl)
				ttl = ns_rr_ttl(rr);
			v = reallocarray(dom->addrs, dom->naddrs + 1, sizeof(*v));
			if (!v)
				return;
			dom->addrs = v;
			dom->addrs[dom->naddrs++] = a;
		}
	}
	if (ttl < FEED_DNS_TTL_MIN_S)
		ttl = FEED_DNS_TTL_MIN_S;
	dom->expires = time(NULL) + (time_t)ttl;
}

static void *worker_main(void *arg)
{
	struct feeds *fs = arg;
	__u64 one = 1;

	res_init();
	for (;;) {
		struct job *j;
		size_t i;

		pthread_mutex_lock(&fs->mu);
		while (!fs->todo && !fs->stop)
			pthread_cond_wait(&fs->cv, &fs->mu);
		if (fs->stop) {
			pthread_mutex_unlock(&fs->mu);
			return NULL;
		}
		j = fs->todo;
		fs->todo = j->next;
		pthread_mutex_unlock(&fs->mu);

		if (j->kind == JOB_FETCH)
			do_fetch(j);
		else
			for (i = 0; i < j->ndoms; i++)
				resolve_one(&j->doms[i]);

		pthread_mutex_lock(&fs->mu);
		j->next = fs->done;
		fs->done = j;
		pthread_mutex_unlock(&fs->mu);
		if (write(fs->ev_fd, &one, sizeof(one)) < 0)
			log_warn("feeds worker: eventfd");
	}
}

static void schedule_dns(struct feeds *fs, size_t idx)
{
	struct feed *f = &fs->v[idx];
	struct job *j;
	size_t i;

	if (f->busy || !f->ndoms)
		return;
	j = calloc(1, sizeof(*j));
	if (!j)
		return;
	j->kind = JOB_RESOLVE;
	j->feed = idx;
	j->doms = calloc(f->ndoms, sizeof(*j->doms));
	if (!j->doms) {
		free(j);
		return;
	}
	for (i = 0; i < f->ndoms; i++) {
		j->doms[i].name = strdup(f->doms[i].name);
		j->doms[i].line = f->doms[i].line;
	}
	j->ndoms = f->ndoms;
	f->busy = true;
	f->next_dns = 0;
	post_job(fs, j);
}

/* Resolved addresses replace the domain part of the feed's entries. */
static void dns_done(struct feeds *fs, struct feed *f, struct job *j)
{
	struct fs_vec nv = { 0 };
	size_t i, k, added, removed;
	int err = 0;

	for (i = 0; i < f->ndoms; i++) {
		for (k = 0; k < j->ndoms; k++) {
			if (strcmp(f->doms[i].name, j->doms[k].name))
				continue;
			free(f->doms[i].addrs);
			f->doms[i].addrs = j->doms[k].addrs;
			f->doms[i].naddrs = j->doms[k].naddrs;
			f->doms[i].expires = j->doms[k].expires;
			j->doms[k].addrs = NULL;
			break;
		}
	}
	/* rebuild: the address indicators, then every resolved address */
	for (i = 0; i < ents_of(fs, f)->n && !err; i++) {
		struct fs_ent e = ents_of(fs, f)->v[i];
		const char *s = fs_vec_ind(ents_of(fs, f), &e);
		bool from_domain = false;

		for (k = 0; s && k < f->ndoms && !from_domain; k++)
			from_domain = !strcmp(s, f->doms[k].name);
		if (from_domain)
			continue;
		e.ind = fs_vec_str(&nv, s);
		err = fs_vec_push(&nv, &e);
	}
	f->next_dns = 0;
	for (i = 0; i < f->ndoms && !err; i++) {
		if (!f->next_dns || f->doms[i].expires < f->next_dns)
			f->next_dns = f->doms[i].expires;
		for (k = 0; k < f->doms[i].naddrs && !err; k++) {
			struct fs_ent e = { .line = f->doms[i].line };

			e.pfx.addr = f->doms[i].addrs[k];
			e.pfx.plen = BWE_ADDR_BITS;
			e.ind = fs_vec_str(&nv, f->doms[i].name);
			err = fs_vec_push(&nv, &e);
		}
	}
	if (err) {
		fs_vec_free(&nv);
		return;
	}
	fs_vec_sort_unique(&nv);
	if (feed_apply(fs, f, &nv, &added, &removed))
		feed_error(fs, f, "cannot write resolved addresses");
	else if (added || removed)
		log_info("feed %s: domains resolved: +%zu -%zu addresses", f->cfg->name, added, removed);
	fs_vec_free(&nv);
}

void feeds_on_worker(struct feeds *fs)
{
	struct job *list, *j;
	__u64 n;

	if (read(fs->ev_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return;
	pthread_mutex_lock(&fs->mu);
	list = fs->done;
	fs->done = NULL;
	pthread_mutex_unlock(&fs->mu);
	while ((j = list)) {
		struct feed *f = j->feed < fs->n ? &fs->v[j->feed] : NULL;

		list = j->next;
		if (f) {
			f->busy = false;
			if (j->kind == JOB_RESOLVE) {
				dns_done(fs, f, j);
			} else if (j->err) {
				feed_error(fs, f, "download failed: %s; keeping the last good version",
					   j->errmsg);
				f->failures++;
			} else if (j->not_modified) {
				f->last_success = time(NULL);
				f->last_error[0] = '\0';
				f->failures = 0;
				f->stale_reported = false;
			} else if (!feed_load(fs, j->feed, j->body ? j->body : "", j->len, false)) {
				snprintf(f->etag, sizeof(f->etag), "%s", j->new_etag);
				snprintf(f->last_modified, sizeof(f->last_modified), "%s",
					 j->new_last_modified);
			}
			if (j->kind == JOB_FETCH && f->failures) {
				time_t backoff = FEED_BACKOFF_MIN_S <<
						 (f->failures < 10 ? f->failures - 1 : 9);

				if (backoff < (time_t)f->cfg->refresh_s)
					f->next_refresh = time(NULL) + backoff;
			}
		}
		if (j->doms)
			domains_free(j->doms, j->ndoms);
		free(j->body);
		free(j);
	}
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
					log_debug("feed %s: %s changed", f->cfg->name, f->cfg->source);
					feed_refresh_now(fs, i);
				}
			}
			p += sizeof(*ev) + ev->len;
		}
	}
}

/* ---- lifecycle ------------------------------------------------------------------- */

static void load_last_good(struct feeds *fs, size_t idx)
{
	struct feed *f = &fs->v[idx];
	char path[PATH_MAX], *body = NULL;
	size_t len = 0;

	snprintf(path, sizeof(path), "%s/feeds/%s.last", fs->cfg->paths.state_dir, f->cfg->name);
	if (read_file(path, f->cfg->max_bytes, &body, &len))
		return;
	if (!feed_load(fs, idx, body, len, true))
		log_info("feed %s: last good version restored from %s", f->cfg->name, path);
	free(body);
}

int feeds_new(struct feeds **out, const struct feeds_deps *deps)
{
	struct feeds *fs = calloc(1, sizeof(*fs));
	size_t i;
	int err;

	if (!fs)
		return -ENOMEM;
	fs->cfg = deps->cfg;
	fs->store = deps->store;
	fs->enf = deps->enf;
	fs->log = deps->log;
	fs->started = time(NULL);
	fs->ev_fd = -1;
	*out = fs;
	fs->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	fs->ev_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (fs->ev_fd < 0)
		return -errno;
	pthread_mutex_init(&fs->mu, NULL);
	pthread_cond_init(&fs->cv, NULL);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (pthread_create(&fs->worker, NULL, worker_main, fs))
		return -EAGAIN;
	fs->worker_up = true;
	fs->v = calloc(fs->cfg->n_feeds ? fs->cfg->n_feeds : 1, sizeof(*fs->v));
	if (!fs->v)
		return -ENOMEM;
	fs->n = fs->cfg->n_feeds;
	for (i = 0; i < fs->n; i++) {
		struct feed *f = &fs->v[i];

		f->cfg = &fs->cfg->feeds[i];
		f->id = (__u8)(BWE_FEED_FIRST + i);
		f->is_url = is_url(f->cfg->source);
		f->wd = -1;
		err = fstore_define(fs->store, f->id, f->cfg->name, f->cfg->source,
				    f->cfg->action == BWE_ACT_MONITOR);
		if (err)
			return err;
		if (bwe_feed_format_parse(f->cfg->format, &f->fmt))
			f->fmt = BWE_FMT_AUTO;
		watch_source(fs, f);
		/* The saved last good version enforces at once, whatever the network says. */
		load_last_good(fs, i);
		/* Local files are read now; URLs are fetched by the worker. */
		feed_refresh_now(fs, i);
	}
	return 0;
}

void feeds_free(struct feeds *fs)
{
	size_t i;

	if (!fs)
		return;
	if (fs->worker_up) {
		pthread_mutex_lock(&fs->mu);
		fs->stop = true;
		pthread_cond_signal(&fs->cv);
		pthread_mutex_unlock(&fs->mu);
		pthread_join(fs->worker, NULL);
	}
	while (fs->todo) {
		struct job *j = fs->todo;

		fs->todo = j->next;
		free(j->body);
		free(j);
	}
	while (fs->done) {
		struct job *j = fs->done;

		fs->done = j->next;
		if (j->doms)
			domains_free(j->doms, j->ndoms);
		free(j->body);
		free(j);
	}
	for (i = 0; i < fs->n; i++)
		domains_free(fs->v[i].doms, fs->v[i].ndoms);
	free(fs->v);
	if (fs->ino_fd >= 0)
		close(fs->ino_fd);
	if (fs->ev_fd >= 0)
		close(fs->ev_fd);
	curl_global_cleanup();
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

int feeds_fd_worker(const struct feeds *fs)
{
	return fs->ev_fd;
}

/* Expire indicators past their valid_until, schedule refreshes, note stale feeds. */
void feeds_tick(struct feeds *fs, time_t now)
{
	size_t i;

	for (i = 0; fs && i < fs->n; i++) {
		struct feed *f = &fs->v[i];

		if (f->next_expiry && f->next_expiry <= now) {
			struct fs_vec nv = { 0 };
			size_t k, a, r, n0 = ents_of(fs, f)->n;

			for (k = 0; k < ents_of(fs, f)->n; k++) {
				struct fs_ent e = ents_of(fs, f)->v[k];

				if (e.valid_until && e.valid_until <= now)
					continue;
				e.ind = fs_vec_str(&nv, fs_vec_ind(ents_of(fs, f), &e));
				fs_vec_push(&nv, &e);
			}
			if (!feed_apply(fs, f, &nv, &a, &r)) {
				struct json_object *ev = feed_event(f, "indicator-expired", "event");

				json_object_object_add(json_object_object_get(json_object_object_get(
							       ev, "bwenforce"), "feed"),
						       "expired", json_object_new_uint64(n0 - ents_of(fs, f)->n));
				evlog_emit(fs->log, ev);
			}
			fs_vec_free(&nv);
		}
		if (now >= f->next_refresh)
			feed_refresh_now(fs, i);
		if (f->next_dns && now >= f->next_dns)
			schedule_dns(fs, i);
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
		const char *state = f->stale_reported ? "stale" : f->last_error[0] ? "error" :
				    !f->last_success ? "never" : "ok";

		json_object_object_add(o, "name", json_object_new_string(f->cfg->name));
		json_object_object_add(o, "id", json_object_new_int(f->id));
		json_object_object_add(o, "source", json_object_new_string(f->cfg->source));
		json_object_object_add(o, "format", json_object_new_string(bwe_feed_format_name(f->fmt)));
		json_object_object_add(o, "action", json_object_new_string(
			f->cfg->action == BWE_ACT_MONITOR ? "monitor" : "drop"));
		json_object_object_add(o, "state", json_object_new_string(state));
		json_object_object_add(o, "entries", json_object_new_uint64(ents_of(fs, f)->n));
		json_object_object_add(o, "entries_v4", json_object_new_uint64(f->v4));
		json_object_object_add(o, "entries_v6", json_object_new_uint64(f->v6));
		json_object_object_add(o, "domains", json_object_new_uint64(f->ndoms));
		json_object_object_add(o, "rejected", json_object_new_uint64(f->rejected));
		json_add_time(o, "last_success", f->last_success);
		json_add_time(o, "last_attempt", f->last_attempt);
		json_object_object_add(o, "last_error", f->last_error[0] ?
				       json_object_new_string(f->last_error) : NULL);
		json_add_time(o, "next_refresh", f->next_refresh > now ? f->next_refresh : now);
		json_object_object_add(o, "hits", json_object_new_uint64(fstore_hits(fs->store, f->id)));
		json_object_array_add(arr, o);
	}
	return arr;
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

		f->cfg = &fs->cfg->feeds[i];
		if (fresh) {
			__u8 id = BWE_FEED_FIRST;

			while (used[id])
				id++;
			used[id] = true;
			f->id = id;
		}
		f->is_url = is_url(f->cfg->source);
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
		for (i = 0; i < gone[k].n; i++)
			enf_bl_update(fs->enf, &gone[k].v[i].pfx, 0);
		enf_bl_flush(fs->enf);
		log_info("a feed was removed from the configuration: %zu entries withdrawn",
			 gone[k].n);
		/* a directory has one watch, maybe shared with a remaining feed */
		for (i = 0; i < fs->n && old[k].wd >= 0; i++)
			if (fs->v[i].wd == old[k].wd)
				old[k].wd = -1;
		if (old[k].wd >= 0)
			inotify_rm_watch(fs->ino_fd, old[k].wd);
		fs_vec_free(&gone[k]);
		domains_free(old[k].doms, old[k].ndoms);
	}
	free(old);
	free(kept);
	free(gone);
}
