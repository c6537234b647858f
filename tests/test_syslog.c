// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_syslog.c - events for SIEMs: the formatters (lib/syslogfmt.c:
 * RFC 5424 and CEF, their escaping, truncation, severity, every event
 * type the daemon writes), the events.syslog keys of the configuration,
 * and the sender (ctl/bwctld/slog.c) against real receivers this test
 * opens on loopback: UDP datagrams, TCP with octet counting, a unix
 * datagram socket, a TCP receiver that stalls (the sender never blocks,
 * drops and counts, then delivers whole frames), one that goes away (the
 * sender reconnects after its back-off), and the event log (events.c)
 * sending every line it writes and reporting what was lost.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <cmocka.h>

#include "test_helpers.h"

#include "bwe_util.h"
#include "config.h"
#include "events.h"
#include "slog.h"
#include "syslogfmt.h"

#define MSG_MAX	 8192
#define RECV_MS	 2000 /* a frame must arrive within this */
#define FLOOD	 5000 /* events sent at a stalled receiver */
#define SMALL_Q	 64   /* its queue */
/* slowest slog_event() call we accept, ms: it never waits (a blocking send
 * would hang here); the margin is for a loaded machine */
#define EVENT_MS 250

static __u64 fake_ms = 1000000;

static __u64 fake_clock(void)
{
	return fake_ms;
}

static __u64 now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000 + (__u64)ts.tv_nsec / 1000;
}

/* ---- events like the daemon's ------------------------------------------------------- */

static struct json_object *hit_event(void)
{
	struct json_object *ev = ev_new("blocklist-hit", "alert");

	ev_str(ev, "event.type", "denied");
	ev_str(ev, "event.reason", "BLOCK");
	ev_str(ev, "source.ip", "198.18.0.10");
	ev_str(ev, "destination.ip", "203.0.113.66");
	ev_str(ev, "host.ip", "198.18.0.10");
	ev_str(ev, "network.direction", "outbound");
	ev_str(ev, "threat.indicator.ip", "203.0.113.66");
	ev_str(ev, "threat.feed.name", "c2");
	ev_str(ev, "threat.indicator.reference", "indicator--0f9a7c3e-5b7d-4c1e-9b8e-2a6c1d3e4f50");
	ev_str(ev, "rule.name", "blocklist:c2");
	return ev;
}

static struct json_object *change_event(const char *action, enum st_kind kind, const char *p,
					enum actor_kind who, const char *name, const char *reason)
{
	struct st_entry e = { .kind = kind, .pfx = pfx(p), .since = 1764800000 };
	struct actor a;

	actor_set(&a, who, name, who == ACTOR_OPERATOR ? "bwctl quarantine" : NULL);
	snprintf(e.reason, sizeof(e.reason), "%s", reason);
	e.actor = a;
	return ev_state_change(action, &e, &a);
}

/* Every event type bwctld writes, with its syslog and CEF severity. */
struct typed {
	const char *action;
	int sev, cef;
};

static struct json_object *event_of(const char *action)
{
	struct json_object *ev;

	if (!strcmp(action, "blocklist-hit"))
		return hit_event();
	if (!strcmp(action, "quarantine"))
		return change_event(action, ST_QUARANTINE, "198.18.0.10", ACTOR_OPERATOR, "root",
				    "proxyware");
	if (!strcmp(action, "release"))
		return change_event(action, ST_QUARANTINE, "198.18.0.10", ACTOR_EXPIRY, NULL, "");
	if (!strcmp(action, "block"))
		return change_event(action, ST_BLOCK, "203.0.113.0/24", ACTOR_API, "soar", "c2");
	if (!strcmp(action, "throttle")) {
		ev = change_event(action, ST_THROTTLE, "2001:db8:1::10", ACTOR_RULE, "upload",
				  "automatic: spike");
		ev_str(ev, "event.kind", "alert"); /* a rule's action carries its decision */
		ev_str(ev, "bwenforce.response", "throttle");
		return ev;
	}
	ev = ev_new(action, !strcmp(action, "detection-alert") || !strcmp(action, "feed-stale") ||
					    !strcmp(action, "detection-table-full")
				    ? "alert"
				    : "event");
	ev_str(ev, "message", "something happened");
	if (!strcmp(action, "quarantine-drop")) {
		ev_str(ev, "source.ip", "2001:db8:1::10");
		ev_str(ev, "destination.ip", "2001:db8:3::10");
		ev_str(ev, "network.direction", "outbound");
	}
	return ev;
}

static const struct typed types[] = {
	{ "blocklist-hit", 4, 7 },
	{ "quarantine-drop", 6, 3 },
	{ "detection-alert", 4, 7 },
	{ "detection-table-full", 4, 7 },
	{ "quarantine", 5, 5 },
	{ "release", 5, 5 },
	{ "block", 5, 5 },
	{ "throttle", 4, 7 },
	{ "feed-updated", 6, 3 },
	{ "feed-error", 4, 6 },
	{ "feed-stale", 4, 7 },
	{ "feed-overlap", 6, 3 },
	{ "feed-address-rejected", 6, 3 },
	{ "indicator-expired", 6, 3 },
	{ "events-suppressed", 4, 6 },
	{ "syslog-dropped", 4, 6 },
	{ "interface-attached", 6, 3 },
	{ "token-add", 6, 3 },
};

/* ---- parsers of what a receiver gets --------------------------------------------------- */

struct r5424 {
	int pri;
	char ts[64], host[256], app[64], procid[32], msgid[64], sd[512];
	const char *msg;
};

/* An RFC 5424 message by the RFC's ABNF (the parts this sender writes). */
static bool parse_5424(const char *m, struct r5424 *r)
{
	int n = 0;
	const char *p;
	size_t sdlen;

	memset(r, 0, sizeof(*r));
	if (sscanf(m, "<%d>1 %63s %255s %63s %31s %63s %n", &r->pri, r->ts, r->host, r->app,
		   r->procid, r->msgid, &n) != 6 ||
	    !n)
		return false;
	p = m + n;
	if (*p == '-') {
		strcpy(r->sd, "-");
		p++;
	} else {
		/* SD-ELEMENTs: '[' ... ']' with \" \\ \] escapes inside values */
		const char *s = p;

		while (*p == '[') {
			for (p++; *p && *p != ']'; p++)
				if (*p == '\\' && p[1])
					p++;
			if (*p != ']')
				return false;
			p++;
		}
		sdlen = (size_t)(p - s);
		if (!sdlen || sdlen >= sizeof(r->sd))
			return false;
		memcpy(r->sd, s, sdlen);
	}
	if (*p != ' ')
		return false;
	r->msg = p + 1;
	return r->pri >= 0 && r->pri < 192;
}

struct cef {
	char f[7][1024];
	char key[40][32], val[40][1024];
	int n;
};

/* A CEF record: 7 header fields split at '|' not escaped, then key=value pairs. */
static bool parse_cef(const char *m, struct cef *c)
{
	const char *p = m;
	int i;

	memset(c, 0, sizeof(*c));
	if (strncmp(p, "CEF:", 4))
		return false;
	p += 4;
	for (i = 0; i < 7; i++) {
		size_t o = 0;

		for (; *p && *p != '|'; p++) {
			if (*p == '\\' && (p[1] == '|' || p[1] == '\\'))
				p++;
			else if (*p == '\\')
				return false; /* a lone backslash in a header */
			c->f[i][o++] = *p;
		}
		if (*p != '|')
			return false;
		p++;
	}
	while (*p && c->n < 40) {
		const char *eq = strchr(p, '=');
		size_t o = 0;

		if (!eq || (size_t)(eq - p) >= sizeof(c->key[0]))
			return false;
		memcpy(c->key[c->n], p, (size_t)(eq - p));
		for (p = eq + 1; *p; p++) {
			if (*p == '\\') {
				p++;
				if (*p == 'n')
					c->val[c->n][o++] = '\n';
				else if (*p == 'r')
					c->val[c->n][o++] = '\r';
				else if (*p == '\\' || *p == '=')
					c->val[c->n][o++] = *p;
				else
					return false;
				continue;
			}
			if (*p == '=')
				return false; /* an unescaped '=' in a value */
			if (*p == ' ') {
				/* a space before the next "key=" ends the value */
				const char *k = p + 1;

				while ((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') ||
				       (*k >= '0' && *k <= '9'))
					k++;
				if (k > p + 1 && *k == '=')
					break;
			}
			c->val[c->n][o++] = *p;
		}
		c->n++;
		if (*p == ' ')
			p++;
	}
	return true;
}

static const char *cef_get(const struct cef *c, const char *key)
{
	for (int i = 0; i < c->n; i++)
		if (!strcmp(c->key[i], key))
			return c->val[i];
	return NULL;
}

static bool utf8_whole(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		size_t need = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : 4;

		if (i + need > n)
			return false;
		for (size_t k = 1; k < need; k++)
			if (((unsigned char)s[i + k] & 0xc0) != 0x80)
				return false;
		i += need;
	}
	return true;
}

static size_t fmt(enum bwe_slog_format f, struct json_object *ev, size_t max, char *buf, size_t cap,
		  bool *cut)
{
	struct bwe_slog_opts o = { .format = f,
				   .facility = BWE_SLOG_FAC_DAEMON,
				   .hostname = "gw 1",
				   .app_name = "bwenforce",
				   .version = "0.1.0",
				   .pid = 42,
				   .seq = 7,
				   .max = max };

	return bwe_slog_format(&o, ev, buf, cap, cut);
}

/* ---- formatters ------------------------------------------------------------------------ */

static void test_rfc5424(void **state)
{
	struct json_object *ev = hit_event(), *back;
	char buf[MSG_MAX + 1];
	struct r5424 r;
	bool cut;
	size_t n = fmt(BWE_SLOG_RFC5424, ev, MSG_MAX, buf, sizeof(buf), &cut);

	(void)state;
	assert_int_equal(n, strlen(buf));
	assert_false(cut);
	assert_true(parse_5424(buf, &r));
	assert_int_equal(r.pri, 3 * 8 + 4); /* daemon.warning */
	assert_string_equal(r.ts, json_object_get_string(json_object_object_get(ev, "@timestamp")));
	assert_string_equal(r.host, "gw_1"); /* no blank in a HOSTNAME */
	assert_string_equal(r.app, "bwenforce");
	assert_string_equal(r.procid, "42");
	assert_string_equal(r.msgid, "blocklist-hit");
	assert_string_equal(
		r.sd, "[origin software=\"bwenforce\" swVersion=\"0.1.0\"][meta sequenceId=\"7\"]");
	/* MSG is the event, whole */
	back = json_tokener_parse(r.msg);
	assert_non_null(back);
	assert_true(json_object_equal(back, ev));
	json_object_put(back);
	json_object_put(ev);
}

static void test_escapes(void **state)
{
	char out[128];

	(void)state;
	bwe_slog_sd_escape("a\"b\\c]d", out, sizeof(out));
	assert_string_equal(out, "a\\\"b\\\\c\\]d");
	bwe_slog_cef_header_escape("a|b\\c\nd=e", out, sizeof(out));
	assert_string_equal(out, "a\\|b\\\\c d=e");
	bwe_slog_cef_ext_escape("a=b\\c\nd\re|f", out, sizeof(out));
	assert_string_equal(out, "a\\=b\\\\c\\nd\\re|f");
	/* a cut never leaves half a pair or half a character */
	bwe_slog_cef_ext_escape("ab=", out, 4);
	assert_string_equal(out, "ab");
	bwe_slog_cef_ext_escape("a\xc3\xa9", out, 3);
	assert_string_equal(out, "a");
}

static void test_cef(void **state)
{
	struct json_object *ev = hit_event();
	char buf[MSG_MAX + 1];
	struct r5424 r;
	struct cef c;
	bool cut;

	(void)state;
	ev_str(ev, "event.reason", "evil|name\\with=odd\nbytes");
	fmt(BWE_SLOG_CEF, ev, MSG_MAX, buf, sizeof(buf), &cut);
	assert_true(parse_5424(buf, &r));
	assert_string_equal(r.sd, "-");
	assert_true(parse_cef(r.msg, &c));
	assert_string_equal(c.f[0], "0");
	assert_string_equal(c.f[1], "bwenforce");
	assert_string_equal(c.f[2], "bwenforce");
	assert_string_equal(c.f[3], "0.1.0");
	assert_string_equal(c.f[4], "blocklist-hit");
	assert_string_equal(c.f[5], "evil|name\\with=odd bytes"); /* header: newline as space */
	assert_string_equal(c.f[6], "7");
	assert_string_equal(cef_get(&c, "src"), "198.18.0.10");
	assert_string_equal(cef_get(&c, "dst"), "203.0.113.66");
	assert_string_equal(cef_get(&c, "act"), "denied");
	assert_string_equal(cef_get(&c, "deviceDirection"), "1");
	assert_string_equal(cef_get(&c, "msg"), "evil|name\\with=odd\nbytes");
	assert_string_equal(cef_get(&c, "cs1"), "blocklist:c2");
	assert_string_equal(cef_get(&c, "cs1Label"), "rule");
	assert_string_equal(cef_get(&c, "cs2"), "c2");
	assert_string_equal(cef_get(&c, "cs3"), "indicator--0f9a7c3e-5b7d-4c1e-9b8e-2a6c1d3e4f50");
	assert_string_equal(cef_get(&c, "cs5"), "198.18.0.10");
	assert_string_equal(cef_get(&c, "dvchost"), "gw 1");
	assert_non_null(cef_get(&c, "rt"));
	assert_true(strtoll(cef_get(&c, "rt"), NULL, 10) > 1700000000000LL);
	json_object_put(ev);
}

/* Every event type: both formats parse, MSGID and signature are the action, severities. */
static void test_every_event_type(void **state)
{
	char buf[MSG_MAX + 1];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(types); i++) {
		struct json_object *ev = event_of(types[i].action), *back;
		struct r5424 r;
		struct cef c;
		bool cut;

		assert_int_equal(bwe_slog_severity(ev), types[i].sev);
		assert_int_equal(bwe_slog_cef_severity(ev), types[i].cef);
		fmt(BWE_SLOG_RFC5424, ev, MSG_MAX, buf, sizeof(buf), &cut);
		if (!parse_5424(buf, &r))
			fail_msg("%s: not RFC 5424: %s", types[i].action, buf);
		assert_string_equal(r.msgid, types[i].action);
		assert_int_equal(r.pri, 3 * 8 + types[i].sev);
		back = json_tokener_parse(r.msg);
		assert_non_null(back);
		json_object_put(back);
		fmt(BWE_SLOG_CEF, ev, MSG_MAX, buf, sizeof(buf), &cut);
		if (!parse_5424(buf, &r) || !parse_cef(r.msg, &c))
			fail_msg("%s: not CEF: %s", types[i].action, buf);
		assert_string_equal(c.f[4], types[i].action);
		assert_int_equal(atoi(c.f[6]), types[i].cef);
		if (!strcmp(types[i].action, "quarantine")) {
			assert_string_equal(cef_get(&c, "suser"), "root");
			assert_string_equal(cef_get(&c, "cs5"), "198.18.0.10");
			assert_string_equal(cef_get(&c, "msg"), "proxyware");
		}
		if (!strcmp(types[i].action, "block")) {
			assert_string_equal(cef_get(&c, "cs4"), "203.0.113.0/24");
			assert_string_equal(cef_get(&c, "cs2"), "manual");
		}
		if (!strcmp(types[i].action, "quarantine-drop")) {
			/* IPv6: src and dst are IPv4 in CEF */
			assert_null(cef_get(&c, "src"));
			assert_string_equal(cef_get(&c, "c6a2"), "2001:db8:1::10");
			assert_string_equal(cef_get(&c, "c6a3"), "2001:db8:3::10");
			assert_string_equal(cef_get(&c, "c6a2Label"), "source IPv6 address");
		}
		if (!strcmp(types[i].action, "throttle"))
			assert_string_equal(cef_get(&c, "act"), "throttle");
		json_object_put(ev);
	}
}

static void test_truncation(void **state)
{
	struct json_object *ev = hit_event();
	char reason[3000], buf[MSG_MAX + 1];
	size_t i, n, max;
	bool cut;

	(void)state;
	/* 'é' (2 bytes) and backslashes: a cut at any length lands inside one of them */
	for (i = 0; i + 3 < sizeof(reason); i += 3)
		memcpy(reason + i, "\xc3\xa9\\", 3);
	reason[i] = '\0';
	ev_str(ev, "event.reason", reason);
	for (max = BWE_SLOG_MSG_MIN; max < BWE_SLOG_MSG_MIN + 12; max++) {
		n = fmt(BWE_SLOG_RFC5424, ev, max, buf, sizeof(buf), &cut);
		assert_true(cut);
		assert_true(n <= max);
		assert_true(n + 4 > max); /* cut, not dropped */
		assert_true(utf8_whole(buf, n));
		n = fmt(BWE_SLOG_CEF, ev, max, buf, sizeof(buf), &cut);
		assert_true(cut);
		assert_true(n <= max);
		assert_true(utf8_whole(buf, n));
		for (i = 0; i < n && buf[n - 1 - i] == '\\'; i++)
			;
		assert_int_equal(i % 2, 0); /* never half an escape */
	}
	/* the header survives any cut */
	n = fmt(BWE_SLOG_CEF, ev, BWE_SLOG_MSG_MIN, buf, sizeof(buf), &cut);
	assert_non_null(strstr(buf, "CEF:0|bwenforce|bwenforce|0.1.0|blocklist-hit|"));
	json_object_put(ev);
}

static void test_targets(void **state)
{
	static const struct {
		const char *in;
		int transport; /* -1: refused */
		const char *err;
	} rows[] = {
		{ "udp://192.0.2.1:514", BWE_SLOG_UDP, NULL },
		{ "tcp://[2001:db8::1]:6514", BWE_SLOG_TCP, NULL },
		{ "unix:/dev/log", BWE_SLOG_UNIX, NULL },
		{ "udp://siem.example:514", -1, "no host names" },
		{ "tcp://192.0.2.1", -1, "\"IPv4:port\"" },
		{ "tcp://192.0.2.1:0", -1, "port 1..65535" },
		{ "unix:dev/log", -1, "absolute path" },
		{ "syslog://192.0.2.1:514", -1, "is not a syslog target" },
		{ "", -1, "empty" },
	};
	struct bwe_slog_target t;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		int e = bwe_slog_target_parse(rows[i].in, &t, err, sizeof(err));

		if (rows[i].transport < 0) {
			assert_int_equal(e, -EINVAL);
			if (!strstr(err, rows[i].err))
				fail_msg("%s: \"%s\" lacks \"%s\"", rows[i].in, err, rows[i].err);
		} else {
			assert_int_equal(e, 0);
			assert_int_equal(t.transport, rows[i].transport);
		}
	}
	assert_int_equal(bwe_slog_facility_from("local7"), 23);
	assert_int_equal(bwe_slog_facility_from("daemon"), BWE_SLOG_FAC_DAEMON);
	assert_int_equal(bwe_slog_facility_from("local8"), -1);
}

/* ---- the configuration ------------------------------------------------------------------ */

static char dir[] = "/tmp/bwe-test-syslog.XXXXXX";
static char cfgpath[300], logpath[300];

static int load(const char *yaml, struct bwe_cfgfile **cfg, char *err, size_t len)
{
	FILE *f = fopen(cfgpath, "w");

	assert_non_null(f);
	fprintf(f, "interfaces:\n  - name: lo\n%s", yaml);
	fclose(f);
	return bwe_config_load(cfgpath, cfg, err, len);
}

static void test_config_keys(void **state)
{
	struct bwe_cfgfile *cfg = NULL;
	char err[BWE_CFG_ERR_LEN];

	(void)state;
	assert_int_equal(load("", &cfg, err, sizeof(err)), 0);
	assert_null(cfg->syslog.target); /* off by default */
	bwe_config_free(cfg);
	assert_int_equal(load("events:\n  syslog:\n    target: tcp://127.0.0.1:514\n"
			      "    format: cef\n    facility: local4\n    queue: 100\n",
			      &cfg, err, sizeof(err)),
			 0);
	assert_string_equal(cfg->syslog.target, "tcp://127.0.0.1:514");
	assert_int_equal(cfg->syslog.format, BWE_SLOG_CEF);
	assert_int_equal(cfg->syslog.facility, 20);
	assert_int_equal(cfg->syslog.queue, 100);
	assert_int_equal(cfg->syslog.message_max, BWE_CFG_SLOG_MSG);
	assert_string_equal(cfg->syslog.app_name, "bwenforce");
	bwe_config_free(cfg);
	assert_int_equal(load("events:\n  syslog:\n    format: cef\n", &cfg, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "events.syslog.target: required key missing"));
	assert_int_equal(load("events:\n  syslog:\n    target: udp://siem:514\n", &cfg, err,
			      sizeof(err)),
			 -EINVAL);
	if (!strstr(err, ":5: events.syslog.target: \"udp://siem:514\": after udp://"))
		fail_msg("%s", err);
	assert_int_equal(load("events:\n  syslog:\n    target: unix:/dev/log\n    facility: local9\n",
			      &cfg, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "events.syslog.facility: \"local9\" is not one of kern"));
	assert_int_equal(load("events:\n  syslog:\n    target: unix:/dev/log\n    message_max: 100\n",
			      &cfg, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "below the minimum of 480"));
}

/* ---- real receivers ------------------------------------------------------------------------ */

static int listen_on(int type, struct sockaddr_in *sin)
{
	socklen_t len = sizeof(*sin);
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)sin, sizeof(*sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)sin, &len), 0);
	if (type == SOCK_STREAM)
		assert_int_equal(listen(fd, 4), 0);
	return fd;
}

static struct slog *sender(const char *target, enum bwe_slog_format f, __u32 queue)
{
	struct slog_cfg c = { .format = f,
			      .facility = BWE_SLOG_FAC_DAEMON,
			      .app_name = "bwenforce",
			      .hostname = "gw1",
			      .queue = queue,
			      .message_max = MSG_MAX };
	struct slog *s = NULL;
	char err[256];

	if (bwe_slog_target_parse(target, &c.target, err, sizeof(err)))
		fail_msg("%s: %s", target, err);
	assert_int_equal(slog_new(&s, &c), 0);
	slog_set_clock(s, fake_clock);
	return s;
}

/* The daemon's loop in small: the sender's socket in epoll, its events handed back. */
static void pump(struct slog *s, int epfd, int ms)
{
	struct epoll_event ev[4];
	__u64 end = now_us() + (__u64)ms * 1000;

	do {
		int n, i;

		assert_int_equal(slog_sync(s, epfd, 1), 0);
		n = epoll_wait(epfd, ev, 4, 10);
		for (i = 0; i < n; i++)
			slog_on_ready(s, ev[i].events);
		slog_tick(s);
	} while (now_us() < end);
}

static bool readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

static void test_udp_receiver(void **state)
{
	struct sockaddr_in sin;
	int fd = listen_on(SOCK_DGRAM, &sin), i;
	char target[64], buf[MSG_MAX + 1];
	struct slog *s;
	struct slog_stats st;

	(void)state;
	snprintf(target, sizeof(target), "udp://127.0.0.1:%u", ntohs(sin.sin_port));
	s = sender(target, BWE_SLOG_RFC5424, 256);
	for (i = 0; i < (int)ARRAY_SIZE(types); i++) {
		struct json_object *ev = event_of(types[i].action);

		slog_event(s, ev);
		json_object_put(ev);
	}
	for (i = 0; i < (int)ARRAY_SIZE(types); i++) {
		struct r5424 r;
		char want[64];
		ssize_t n;

		assert_true(readable(fd, RECV_MS));
		n = recv(fd, buf, sizeof(buf) - 1, 0);
		assert_true(n > 0);
		buf[n] = '\0';
		assert_true(parse_5424(buf, &r));
		assert_string_equal(r.msgid, types[i].action);
		snprintf(want, sizeof(want), "[meta sequenceId=\"%d\"]", i + 1);
		assert_non_null(strstr(r.sd, want)); /* in order, none lost */
	}
	slog_stats(s, &st);
	assert_int_equal(st.sent, ARRAY_SIZE(types));
	assert_int_equal(st.dropped, 0);
	slog_free(s);
	close(fd);
}

/* IPv6: udp://[::1]:PORT. */
static void test_udp6_receiver(void **state)
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	socklen_t len = sizeof(sin6);
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	char target[64], buf[MSG_MAX + 1];
	struct json_object *ev = hit_event();
	struct slog *s;
	struct r5424 r;
	ssize_t n;

	(void)state;
	assert_true(fd >= 0);
	if (bind(fd, (struct sockaddr *)&sin6, sizeof(sin6))) {
		close(fd);
		json_object_put(ev);
		skip(); /* no ::1 here */
	}
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin6, &len), 0);
	snprintf(target, sizeof(target), "udp://[::1]:%u", ntohs(sin6.sin6_port));
	s = sender(target, BWE_SLOG_RFC5424, 16);
	slog_event(s, ev);
	assert_true(readable(fd, RECV_MS));
	n = recv(fd, buf, sizeof(buf) - 1, 0);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_true(parse_5424(buf, &r));
	assert_string_equal(r.msgid, "blocklist-hit");
	json_object_put(ev);
	slog_free(s);
	close(fd);
}

static void test_unix_receiver(void **state)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	char target[150], buf[MSG_MAX + 1];
	struct json_object *ev = hit_event();
	struct slog *s;
	struct r5424 r;
	struct cef c;
	ssize_t n;

	(void)state;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/log", dir);
	unlink(sun.sun_path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	snprintf(target, sizeof(target), "unix:%s", sun.sun_path);
	s = sender(target, BWE_SLOG_CEF, 16);
	slog_event(s, ev);
	assert_true(readable(fd, RECV_MS));
	n = recv(fd, buf, sizeof(buf) - 1, 0);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_true(parse_5424(buf, &r));
	assert_true(parse_cef(r.msg, &c));
	assert_string_equal(cef_get(&c, "src"), "198.18.0.10");
	json_object_put(ev);
	slog_free(s);
	close(fd);
	unlink(sun.sun_path);
}

/* Read RFC 6587 octet-counted frames from a stream: "LEN SP MSG", checked. */
struct framer {
	char buf[4 * MSG_MAX];
	size_t len;
};

/* The next whole frame into out (NUL-terminated), or false when more bytes are needed. */
static bool next_frame(struct framer *f, char *out)
{
	size_t i, n = 0;

	for (i = 0; i < f->len && f->buf[i] >= '0' && f->buf[i] <= '9'; i++)
		n = n * 10 + (size_t)(f->buf[i] - '0');
	if (i == f->len)
		return false;
	assert_true(i > 0 && f->buf[i] == ' '); /* MSG-LEN SP */
	assert_true(n > 0 && n <= MSG_MAX);
	if (f->len < i + 1 + n)
		return false;
	memcpy(out, f->buf + i + 1, n);
	out[n] = '\0';
	memmove(f->buf, f->buf + i + 1 + n, f->len - i - 1 - n);
	f->len -= i + 1 + n;
	return true;
}

static bool fill(struct framer *f, int fd, int ms)
{
	ssize_t n;

	if (!readable(fd, ms))
		return false;
	n = recv(fd, f->buf + f->len, sizeof(f->buf) - f->len, MSG_DONTWAIT);
	if (n > 0)
		f->len += (size_t)n;
	return n > 0;
}

static void test_tcp_receiver(void **state)
{
	struct sockaddr_in sin;
	int lfd = listen_on(SOCK_STREAM, &sin), cfd, epfd = epoll_create1(EPOLL_CLOEXEC), got = 0;
	static struct framer f;
	char target[64], msg[MSG_MAX + 1];
	struct slog *s;
	size_t i;

	(void)state;
	f.len = 0;
	snprintf(target, sizeof(target), "tcp://127.0.0.1:%u", ntohs(sin.sin_port));
	s = sender(target, BWE_SLOG_CEF, 256);
	for (i = 0; i < ARRAY_SIZE(types); i++) {
		struct json_object *ev = event_of(types[i].action);

		slog_event(s, ev); /* queued while the connection is made */
		json_object_put(ev);
	}
	assert_true(readable(lfd, RECV_MS));
	cfd = accept(lfd, NULL, NULL);
	assert_true(cfd >= 0);
	pump(s, epfd, 50);
	while (got < (int)ARRAY_SIZE(types) && fill(&f, cfd, RECV_MS)) {
		while (next_frame(&f, msg)) {
			struct r5424 r;
			struct cef c;

			assert_true(parse_5424(msg, &r));
			assert_true(parse_cef(r.msg, &c));
			assert_string_equal(c.f[4], types[got].action);
			got++;
		}
	}
	assert_int_equal(got, ARRAY_SIZE(types));
	slog_free(s);
	close(cfd);
	close(lfd);
	close(epfd);
}

/* A receiver that takes the connection and never reads: nothing waits, the loss is counted. */
static void test_stalled_receiver(void **state)
{
	struct sockaddr_in sin;
	int lfd = listen_on(SOCK_STREAM, &sin), cfd, epfd = epoll_create1(EPOLL_CLOEXEC), i;
	static struct framer f;
	char target[64], msg[MSG_MAX + 1], pad[4000];
	struct json_object *ev = hit_event(), *back;
	struct slog_stats st;
	__u64 t0, worst = 0, seen_seq = 0;
	struct slog *s;
	size_t got = 0;

	(void)state;
	f.len = 0;
	memset(pad, 'x', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	ev_str(ev, "message", pad); /* about 4.6 KB a message: 23 MB, more than both buffers */
	snprintf(target, sizeof(target), "tcp://127.0.0.1:%u", ntohs(sin.sin_port));
	s = sender(target, BWE_SLOG_RFC5424, SMALL_Q);
	assert_true(readable(lfd, RECV_MS));
	cfd = accept(lfd, NULL, NULL);
	assert_true(cfd >= 0);
	pump(s, epfd, 20); /* connected */
	for (i = 0; i < FLOOD; i++) {
		__u64 t = now_us();

		slog_event(s, ev);
		t = now_us() - t;
		if (t > worst)
			worst = t;
		if (i % 100 == 0)
			pump(s, epfd, 0);
	}
	slog_stats(s, &st);
	print_message("stalled receiver: %d events, slowest slog_event %llu us, %llu sent, "
		      "%llu dropped, %zu queued\n",
		      FLOOD, (unsigned long long)worst, (unsigned long long)st.sent,
		      (unsigned long long)st.dropped, st.queued);
	assert_true(worst < EVENT_MS * 1000ULL);
	assert_true(st.dropped > 0);
	assert_true(st.queued <= SMALL_Q);
	assert_int_equal(st.sent + st.dropped + st.queued + (st.queued ? 0 : 0), FLOOD);
	assert_int_equal(slog_take_dropped(s), st.dropped);
	assert_int_equal(slog_take_dropped(s), 0);
	/* the receiver wakes up: whole frames, in order, the queue drains */
	t0 = now_us();
	while (now_us() - t0 < 5000000ULL) {
		pump(s, epfd, 0);
		if (!fill(&f, cfd, 20)) {
			slog_stats(s, &st);
			if (!st.queued && !f.len)
				break;
			continue;
		}
		while (next_frame(&f, msg)) {
			struct r5424 r;
			const char *q;
			__u64 seq;

			assert_true(parse_5424(msg, &r));
			q = strstr(r.sd, "sequenceId=\"");
			assert_non_null(q);
			seq = strtoull(q + 12, NULL, 10);
			assert_true(seq > seen_seq);
			seen_seq = seq;
			back = json_tokener_parse(r.msg); /* whole JSON: no frame was cut */
			assert_non_null(back);
			json_object_put(back);
			got++;
		}
	}
	slog_stats(s, &st);
	print_message("after: %zu frames read, %llu sent, %zu queued, %zu bytes unframed, %s\n",
		      got, (unsigned long long)st.sent, st.queued, f.len, st.last_error);
	assert_int_equal(st.queued, 0);
	assert_int_equal(got, st.sent);
	json_object_put(ev);
	slog_free(s);
	close(cfd);
	close(lfd);
	close(epfd);
}

/* The receiver closes: the sender notices, waits its back-off, connects again. */
static void test_reconnect(void **state)
{
	struct sockaddr_in sin;
	int lfd = listen_on(SOCK_STREAM, &sin), cfd, epfd = epoll_create1(EPOLL_CLOEXEC);
	static struct framer f;
	char target[64], msg[MSG_MAX + 1];
	struct json_object *ev = hit_event();
	struct slog_stats st;
	struct slog *s;

	(void)state;
	f.len = 0;
	snprintf(target, sizeof(target), "tcp://127.0.0.1:%u", ntohs(sin.sin_port));
	s = sender(target, BWE_SLOG_RFC5424, 64);
	assert_true(readable(lfd, RECV_MS));
	cfd = accept(lfd, NULL, NULL);
	pump(s, epfd, 20);
	slog_event(s, ev);
	assert_true(fill(&f, cfd, RECV_MS));
	assert_true(next_frame(&f, msg));
	close(cfd); /* the receiver goes */
	pump(s, epfd, 50);
	slog_stats(s, &st);
	assert_false(st.up);
	assert_non_null(strstr(st.last_error, "receiver"));
	slog_event(s, ev); /* held while it is down */
	slog_stats(s, &st);
	assert_int_equal(st.queued, 1);
	pump(s, epfd, 20);
	assert_false(readable(lfd, 100)); /* not before the back-off */
	fake_ms += SLOG_BACKOFF_MIN_MS;
	pump(s, epfd, 20);
	assert_true(readable(lfd, RECV_MS));
	cfd = accept(lfd, NULL, NULL);
	assert_true(cfd >= 0);
	f.len = 0;
	pump(s, epfd, 50);
	assert_true(fill(&f, cfd, RECV_MS));
	assert_true(next_frame(&f, msg));
	assert_non_null(strstr(msg, "[meta sequenceId=\"2\"]"));
	slog_stats(s, &st);
	assert_int_equal(st.connects, 2);
	assert_int_equal(st.queued, 0);
	json_object_put(ev);
	slog_free(s);
	close(cfd);
	close(lfd);
	close(epfd);
}

/* ---- the event log sends what it writes ----------------------------------------------------- */

static void test_evlog_sends(void **state)
{
	struct sockaddr_in sin;
	int fd = listen_on(SOCK_DGRAM, &sin), tfd;
	struct sockaddr_in tin;
	struct bwe_cfgfile *cfg = NULL, *cfg2 = NULL;
	struct evlog *log = NULL;
	char yaml[512], err[BWE_CFG_ERR_LEN], buf[MSG_MAX + 1], *text;
	struct slog_stats st;
	ssize_t n;
	int i;

	(void)state;
	snprintf(yaml, sizeof(yaml), "events:\n  syslog:\n    target: udp://127.0.0.1:%u\n",
		 ntohs(sin.sin_port));
	assert_int_equal(load(yaml, &cfg, err, sizeof(err)), 0);
	unlink(logpath);
	assert_int_equal(evlog_open(&log, logpath), 0);
	evlog_set_config(log, cfg);
	assert_true(evlog_out_stats(log, &st));
	evlog_emit(log, hit_event());
	assert_true(readable(fd, RECV_MS));
	n = recv(fd, buf, sizeof(buf) - 1, 0);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_non_null(strstr(buf, " blocklist-hit [origin"));
	text = slurp(logpath);
	assert_non_null(strstr(text, "\"action\":\"blocklist-hit\""));
	free(text);

	/* a TCP receiver that never accepts: the queue fills, the loss becomes an event */
	tfd = listen_on(SOCK_STREAM, &tin);
	snprintf(yaml, sizeof(yaml),
		 "events:\n  syslog:\n    target: tcp://127.0.0.1:%u\n    queue: 16\n"
		 "    message_max: 65000\n",
		 ntohs(tin.sin_port));
	assert_int_equal(load(yaml, &cfg2, err, sizeof(err)), 0);
	evlog_set_config(log, cfg2); /* another target: another output */
	for (i = 0; i < 4000; i++)
		evlog_emit_audit(log, hit_event());
	assert_true(evlog_out_stats(log, &st));
	assert_true(st.dropped > 0);
	evlog_tick(log);
	text = slurp(logpath);
	assert_non_null(strstr(text, "\"action\":\"syslog-dropped\""));
	assert_non_null(strstr(text, "syslog messages dropped in the last"));
	free(text);
	evlog_close(log);
	bwe_config_free(cfg);
	bwe_config_free(cfg2);
	close(fd);
	close(tfd);
}

static int setup(void **state)
{
	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(cfgpath, sizeof(cfgpath), "%s/bwenforce.yaml", dir);
	snprintf(logpath, sizeof(logpath), "%s/events.json", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[400];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) ? -1 : 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc5424),	      cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_cef),	      cmocka_unit_test(test_every_event_type),
		cmocka_unit_test(test_truncation),    cmocka_unit_test(test_targets),
		cmocka_unit_test(test_config_keys),   cmocka_unit_test(test_udp_receiver),
		cmocka_unit_test(test_udp6_receiver), cmocka_unit_test(test_unix_receiver),
		cmocka_unit_test(test_tcp_receiver),  cmocka_unit_test(test_stalled_receiver),
		cmocka_unit_test(test_reconnect),     cmocka_unit_test(test_evlog_sends),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
