// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* syslogfmt.c - events as RFC 5424 and CEF messages; contract in syslogfmt.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/un.h>

#include "bwe_util.h"
#include "config.h"
#include "syslogfmt.h"

#define CEF_NAME_MAX 512  /* bytes of the CEF Name field */
#define FIELD_MAX    1024 /* bytes of one escaped header field or value we build */

const char *const bwe_slog_facility_names[BWE_SLOG_FACILITIES] = {
	"kern",	  "user",   "mail",	"daemon", "auth",   "syslog", "lpr",	"news",
	"uucp",	  "cron",   "authpriv", "ftp",	  "ntp",    "audit",  "alert",	"clock",
	"local0", "local1", "local2",	"local3", "local4", "local5", "local6", "local7",
};

/*
 * ECS field -> CEF key, in order; a key is written once, from the first
 * field the event has. An IPv6 source or destination goes to c6a2/c6a3.
 */
const struct bwe_slog_cef_key bwe_slog_cef_keys[] = {
	{ "source.ip", "src", NULL },
	{ "destination.ip", "dst", NULL },
	{ "bwenforce.response", "act", NULL },
	{ "event.type", "act", NULL },
	{ "event.kind", "cat", NULL },
	{ "message", "msg", NULL },
	{ "event.reason", "msg", NULL },
	{ "event.reason", "reason", NULL },
	{ "user.name", "suser", NULL },
	{ "rule.name", "cs1", "rule" },
	{ "threat.feed.name", "cs2", "feed" },
	{ "threat.indicator.provider", "cs2", "feed" },
	{ "threat.indicator.reference", "cs3", "indicator" },
	{ "threat.indicator.ip", "cs4", "indicator address" },
	{ "host.ip", "cs5", "host" },
	{ "threat.indicator.description", "cs6", "entry" },
};
const size_t bwe_slog_cef_nkeys = ARRAY_SIZE(bwe_slog_cef_keys);

/* ---- targets and facilities ------------------------------------------------- */

static int terr(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int terr(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (len) {
		va_start(ap, fmt);
		vsnprintf(err, len, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

int bwe_slog_target_parse(const char *s, struct bwe_slog_target *t, char *err, size_t errlen)
{
	static const struct {
		const char *scheme;
		enum bwe_slog_transport tr;
	} schemes[] = { { "udp://", BWE_SLOG_UDP }, { "tcp://", BWE_SLOG_TCP } };
	unsigned int len;
	size_t i;
	int lo;

	memset(t, 0, sizeof(*t));
	if (!s || !*s)
		return terr(err, errlen, "an empty target");
	if (strlen(s) > BWE_SLOG_TARGET_MAX)
		return terr(err, errlen, "longer than %d bytes", BWE_SLOG_TARGET_MAX);
	if (!strncmp(s, "unix:", 5)) {
		struct sockaddr_un *sun = (struct sockaddr_un *)&t->sa;
		const char *p = s + 5;

		if (p[0] != '/')
			return terr(err, errlen,
				    "\"%s\": unix: needs an absolute path (unix:/dev/log)", s);
		if (strlen(p) >= sizeof(sun->sun_path))
			return terr(err, errlen, "\"%s\": the path is longer than %zu bytes", s,
				    sizeof(sun->sun_path) - 1);
		sun->sun_family = AF_UNIX;
		strcpy(sun->sun_path, p);
		t->len = (socklen_t)sizeof(*sun);
		t->transport = BWE_SLOG_UNIX;
		return 0;
	}
	for (i = 0; i < ARRAY_SIZE(schemes); i++) {
		size_t n = strlen(schemes[i].scheme);

		if (strncmp(s, schemes[i].scheme, n))
			continue;
		if (bwe_cfg_listen_parse(s + n, &t->sa, &len, &lo))
			return terr(err, errlen,
				    "\"%s\": after %s comes \"IPv4:port\" or \"[IPv6]:port\" "
				    "(port 1..65535, no host names)",
				    s, schemes[i].scheme);
		t->len = (socklen_t)len;
		t->transport = schemes[i].tr;
		return 0;
	}
	return terr(err, errlen,
		    "\"%s\" is not a syslog target (udp://HOST:PORT, tcp://HOST:PORT or unix:/PATH)",
		    s);
}

int bwe_slog_facility_from(const char *name)
{
	int i;

	for (i = 0; name && i < BWE_SLOG_FACILITIES; i++)
		if (!strcmp(name, bwe_slog_facility_names[i]))
			return i;
	return -1;
}

/* ---- reading the event ------------------------------------------------------ */

/* The value at a dotted path, NULL when absent. */
static struct json_object *get(struct json_object *o, const char *path)
{
	char key[64];
	const char *dot;

	while (o && (dot = strchr(path, '.'))) {
		size_t n = (size_t)(dot - path);

		if (n >= sizeof(key))
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		if (!json_object_object_get_ex(o, key, &o))
			return NULL;
		path = dot + 1;
	}
	return o && json_object_object_get_ex(o, path, &o) ? o : NULL;
}

/* A scalar at path as text (numbers too); NULL when absent or not a scalar. */
static const char *get_str(struct json_object *ev, const char *path)
{
	struct json_object *v = get(ev, path);

	if (!v || json_object_is_type(v, json_type_object) ||
	    json_object_is_type(v, json_type_array) || json_object_is_type(v, json_type_null))
		return NULL;
	return json_object_get_string(v);
}

static bool has_category(struct json_object *ev, const char *cat)
{
	struct json_object *a = get(ev, "event.category");
	size_t i;

	for (i = 0; a && json_object_is_type(a, json_type_array) && i < json_object_array_length(a);
	     i++)
		if (!strcmp(json_object_get_string(json_object_array_get_idx(a, i)) ?: "", cat))
			return true;
	return false;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

enum sev_class { SEV_ALERT, SEV_TROUBLE, SEV_CHANGE, SEV_INFO };

static enum sev_class sev_class(struct json_object *ev)
{
	const char *kind = get_str(ev, "event.kind") ?: "",
		   *action = get_str(ev, "event.action") ?: "",
		   *type = get_str(ev, "event.type") ?: "";

	if (!strcmp(kind, "alert"))
		return SEV_ALERT;
	if (ends_with(action, "-error") || ends_with(action, "-dropped") ||
	    !strcmp(action, "events-suppressed"))
		return SEV_TROUBLE;
	if (!strcmp(type, "denied") || has_category(ev, "configuration"))
		return SEV_CHANGE;
	return SEV_INFO;
}

int bwe_slog_severity(struct json_object *ev)
{
	static const int
		sev[] = { [SEV_ALERT] = 4, [SEV_TROUBLE] = 4, [SEV_CHANGE] = 5, [SEV_INFO] = 6 };

	return sev[sev_class(ev)];
}

int bwe_slog_cef_severity(struct json_object *ev)
{
	static const int
		sev[] = { [SEV_ALERT] = 7, [SEV_TROUBLE] = 6, [SEV_CHANGE] = 5, [SEV_INFO] = 3 };

	return sev[sev_class(ev)];
}

/* ---- escaping ------------------------------------------------------------------ */

/* Append c (n bytes) at out[*o] if it fits before outlen - 1; false when not. */
static bool emit(char *out, size_t outlen, size_t *o, const char *c, size_t n)
{
	if (*o + n >= outlen)
		return false;
	memcpy(out + *o, c, n);
	*o += n;
	return true;
}

/* Never end inside a UTF-8 sequence: drop a cut-off lead and continuation bytes. */
static size_t utf8_cut(const char *s, size_t n)
{
	size_t k = n, need;

	while (k && ((unsigned char)s[k - 1] & 0xc0) == 0x80)
		k--;
	if (!k)
		return n;
	need = ((unsigned char)s[k - 1] & 0xe0) == 0xc0	  ? 2
	       : ((unsigned char)s[k - 1] & 0xf0) == 0xe0 ? 3
	       : ((unsigned char)s[k - 1] & 0xf8) == 0xf0 ? 4
							  : 1;
	return need > 1 && n - (k - 1) < need ? k - 1 : n;
}

/* Copy s escaping the bytes in special with '\', newlines as esc_nl (or ' '). */
static void escape(const char *s, char *out, size_t outlen, const char *special, bool esc_nl)
{
	size_t o = 0;

	if (!outlen)
		return;
	for (; s && *s; s++) {
		char pair[2] = { '\\', *s };
		bool ok;

		if (*s == '\n' || *s == '\r') {
			pair[1] = *s == '\n' ? 'n' : 'r';
			ok = esc_nl ? emit(out, outlen, &o, pair, 2)
				    : emit(out, outlen, &o, " ", 1);
		} else if (strchr(special, *s)) {
			ok = emit(out, outlen, &o, pair, 2);
		} else {
			ok = emit(out, outlen, &o, s, 1);
		}
		if (!ok)
			break;
	}
	o = utf8_cut(out, o);
	out[o] = '\0';
}

void bwe_slog_sd_escape(const char *s, char *out, size_t outlen)
{
	escape(s, out, outlen, "\"\\]", false);
}

void bwe_slog_cef_header_escape(const char *s, char *out, size_t outlen)
{
	escape(s, out, outlen, "\\|", false);
}

void bwe_slog_cef_ext_escape(const char *s, char *out, size_t outlen)
{
	escape(s, out, outlen, "\\=", true);
}

/* PRINTUSASCII (33..126) of at most max bytes; others become '_'; "-" when empty. */
static void header_field(const char *s, size_t max, char *out, size_t outlen)
{
	size_t o = 0;

	for (; s && *s && o < max && o + 1 < outlen; s++)
		out[o++] = *s > 32 && *s < 127 ? *s : '_';
	if (!o && outlen > 1)
		out[o++] = '-';
	out[o] = '\0';
}

/* ---- the messages ------------------------------------------------------------ */

struct sbuf {
	char *p;
	size_t len, cap; /* cap: bytes we may use, the NUL excluded */
	bool full;
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->full || b->len + n > b->cap) {
		if (!b->full && b->len < b->cap) { /* what fits, at a character boundary */
			size_t k = utf8_cut(s, b->cap - b->len);

			memcpy(b->p + b->len, s, k);
			b->len += k;
		}
		b->full = true;
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void sb_str(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	char tmp[FIELD_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		sb_add(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* The @timestamp as it is when it is RFC 3339 UTC, else now. */
static void timestamp(struct json_object *ev, char *buf, size_t len)
{
	const char *t = get_str(ev, "@timestamp");
	struct timespec ts;
	struct tm tm;
	char sec[32];

	if (t && strlen(t) < len && strlen(t) >= 20 && t[strlen(t) - 1] == 'Z' && t[10] == 'T') {
		header_field(t, len - 1, buf, len);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(sec, sizeof(sec), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03ldZ", sec, ts.tv_nsec / 1000000);
}

/* @timestamp in milliseconds since the epoch, for CEF's rt; 0 when unreadable. */
static long long epoch_ms(struct json_object *ev)
{
	const char *t = get_str(ev, "@timestamp");
	struct tm tm = { 0 };
	const char *rest;
	long long ms = 0;

	if (!t || !(rest = strptime(t, "%Y-%m-%dT%H:%M:%S", &tm)))
		return 0;
	if (*rest == '.') {
		int digits = 0;

		for (rest++; *rest >= '0' && *rest <= '9'; rest++)
			if (digits++ < 3)
				ms = ms * 10 + (*rest - '0');
		for (; digits < 3; digits++)
			ms *= 10;
	}
	return (long long)timegm(&tm) * 1000 + ms;
}

static void header(const struct bwe_slog_opts *o, struct json_object *ev, struct sbuf *b)
{
	char ts[48], host[BWE_SLOG_HOSTNAME_MAX + 1], app[BWE_SLOG_APP_NAME_MAX + 1],
		msgid[BWE_SLOG_MSGID_MAX + 1];

	timestamp(ev, ts, sizeof(ts));
	header_field(o->hostname, BWE_SLOG_HOSTNAME_MAX, host, sizeof(host));
	header_field(o->app_name, BWE_SLOG_APP_NAME_MAX, app, sizeof(app));
	header_field(get_str(ev, "event.action"), BWE_SLOG_MSGID_MAX, msgid, sizeof(msgid));
	sb_printf(b, "<%u>1 %s %s %s %d %s ", o->facility * 8 + (unsigned int)bwe_slog_severity(ev),
		  ts, host, app, o->pid, msgid);
}

static void rfc5424(const struct bwe_slog_opts *o, struct json_object *ev, struct sbuf *b)
{
	char ver[64];

	header(o, ev, b);
	bwe_slog_sd_escape(o->version ?: "", ver, sizeof(ver));
	sb_printf(b, "[origin software=\"bwenforce\" swVersion=\"%s\"][meta sequenceId=\"%u\"] ",
		  ver, o->seq);
	sb_str(b, json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN |
							     JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* One extension pair; the value escaped. Cut short: never inside an escape. */
static void ext(struct sbuf *b, bool *first, const char *key, const char *val)
{
	char esc[FIELD_MAX];

	bwe_slog_cef_ext_escape(val, esc, sizeof(esc));
	sb_printf(b, "%s%s=", *first ? "" : " ", key);
	sb_str(b, esc);
	*first = false;
}

static void cef(const struct bwe_slog_opts *o, struct json_object *ev, struct sbuf *b)
{
	const char *done[ARRAY_SIZE(bwe_slog_cef_keys)];
	char ver[64], cls[FIELD_MAX], name[CEF_NAME_MAX + 1], label[16], num[32];
	const char *dir = get_str(ev, "network.direction");
	bool first = true;
	size_t i, k, ndone = 0;
	long long rt = epoch_ms(ev);

	header(o, ev, b);
	sb_str(b, "- ");
	bwe_slog_cef_header_escape(o->version ?: "", ver, sizeof(ver));
	bwe_slog_cef_header_escape(get_str(ev, "event.action") ?: "event", cls, sizeof(cls));
	bwe_slog_cef_header_escape(get_str(ev, "message")
					   ?: get_str(ev, "event.reason")
						      ?: get_str(ev, "event.action") ?: "event",
				   name, sizeof(name));
	sb_printf(b, "CEF:0|bwenforce|bwenforce|%s|%s|", ver, cls);
	sb_str(b, name);
	sb_printf(b, "|%d|", bwe_slog_cef_severity(ev));
	if (rt) {
		snprintf(num, sizeof(num), "%lld", rt);
		ext(b, &first, "rt", num);
	}
	if (o->hostname && *o->hostname)
		ext(b, &first, "dvchost", o->hostname);
	if (dir && (!strcmp(dir, "inbound") || !strcmp(dir, "outbound")))
		ext(b, &first, "deviceDirection", !strcmp(dir, "outbound") ? "1" : "0");
	for (i = 0; i < bwe_slog_cef_nkeys; i++) {
		const struct bwe_slog_cef_key *key = &bwe_slog_cef_keys[i];
		const char *v = get_str(ev, key->ecs), *cefkey = key->cef, *lab = key->label;

		for (k = 0; k < ndone && strcmp(done[k], cefkey); k++)
			;
		if (!v || k < ndone)
			continue;
		done[ndone++] = cefkey;
		/* src and dst are IPv4 in CEF; an IPv6 address has keys of its own */
		if (strchr(v, ':') && !strcmp(cefkey, "src"))
			cefkey = "c6a2", lab = "source IPv6 address";
		else if (strchr(v, ':') && !strcmp(cefkey, "dst"))
			cefkey = "c6a3", lab = "destination IPv6 address";
		ext(b, &first, cefkey, v);
		if (lab) {
			snprintf(label, sizeof(label), "%sLabel", cefkey);
			ext(b, &first, label, lab);
		}
	}
}

size_t bwe_slog_format(const struct bwe_slog_opts *o, struct json_object *ev, char *buf, size_t cap,
		       bool *truncated)
{
	struct sbuf b = { .p = buf, .cap = o->max < cap ? o->max : cap - 1 };

	if (o->format == BWE_SLOG_CEF)
		cef(o, ev, &b);
	else
		rfc5424(o, ev, &b);
	if (b.full && o->format == BWE_SLOG_CEF) {
		/* a cut after an odd run of backslashes would leave half an escape */
		size_t run = 0;

		while (run < b.len && buf[b.len - 1 - run] == '\\')
			run++;
		if (run % 2)
			b.len--;
	}
	buf[b.len] = '\0';
	*truncated = b.full;
	return b.len;
}
