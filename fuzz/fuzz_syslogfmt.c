// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fuzz_syslogfmt.c - libFuzzer target of the SIEM formatters
 * (lib/syslogfmt.h) on events whose fields come from strangers (feed
 * names, indicator ids, reasons, host names): RFC 5424 and CEF, every
 * message length. Besides the sanitizers it checks the contract:
 *   - the message is NUL-terminated, at most max bytes, its length returned;
 *   - it starts "<PRI>1 " with PRI in 0..191; CEF records start "CEF:0|";
 *   - a message is cut only when *truncated says so;
 *   - a cut never leaves a partial UTF-8 sequence when the text was valid,
 *     nor, in CEF, an odd run of backslashes at the end (half an escape);
 *   - the escapers never write past their buffer, and their output has no
 *     unescaped special character.
 *
 * Input: byte 0 picks the format (bit 0) and the facility (bits 1-5 mod 24),
 * byte 1 the length limit (480 + 64 * byte); the rest is a JSON object (the
 * event) or, when it does not parse, a text set as event.reason and
 * message of a fixed event.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "syslogfmt.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MSG_MAX (BWE_SLOG_MSG_MIN + 64 * 255)

static void check_escaped(const char *out, const char *special)
{
	size_t i;

	for (i = 0; out[i]; i++) {
		if (out[i] == '\\') {
			CHECK(out[i + 1] != '\0');
			i++;
			continue;
		}
		CHECK(!strchr(special, out[i]));
		CHECK(out[i] != '\n' && out[i] != '\r');
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char buf[FUZZ_MSG_MAX + 1];
	struct bwe_slog_opts o = { .hostname = "gw1",
				   .app_name = "bwenforce",
				   .version = "0.1",
				   .pid = 1,
				   .seq = 1 };
	struct json_object *ev = NULL;
	char esc[64], *text;
	size_t n, run;
	bool cut;

	if (size < 2)
		return 0;
	o.format = data[0] & 1 ? BWE_SLOG_CEF : BWE_SLOG_RFC5424;
	o.facility = (unsigned int)(data[0] >> 1) % BWE_SLOG_FACILITIES;
	o.max = BWE_SLOG_MSG_MIN + 64 * (size_t)data[1];
	text = malloc(size - 1);
	if (!text)
		return 0;
	memcpy(text, data + 2, size - 2);
	text[size - 2] = '\0';
	ev = json_tokener_parse(text);
	if (!ev || !json_object_is_type(ev, json_type_object)) {
		json_object_put(ev);
		ev = json_object_new_object();
		json_object_object_add(ev, "@timestamp",
				       json_object_new_string("2026-12-04T21:00:00.000Z"));
		json_object_object_add(ev, "message", json_object_new_string(text));
		json_object_object_add(ev, "rule.name", json_object_new_string(text));
	}

	n = bwe_slog_format(&o, ev, buf, sizeof(buf), &cut);
	CHECK(n <= o.max);
	CHECK(strlen(buf) == n);
	CHECK(buf[0] == '<');
	CHECK(atoi(buf + 1) >= 0 && atoi(buf + 1) < 192);
	CHECK(strstr(buf, ">1 ") != NULL);
	if (o.format == BWE_SLOG_CEF && !cut)
		CHECK(strstr(buf, " - CEF:0|bwenforce|bwenforce|") != NULL);
	if (o.format == BWE_SLOG_CEF) {
		for (run = 0; run < n && buf[n - 1 - run] == '\\'; run++)
			;
		CHECK(run % 2 == 0);
	}
	if (cut) /* a cut message fills its limit but for a partial character or escape */
		CHECK(n + 4 > o.max);

	bwe_slog_cef_ext_escape(text, esc, sizeof(esc));
	check_escaped(esc, "=");
	bwe_slog_cef_header_escape(text, esc, sizeof(esc));
	check_escaped(esc, "|");
	bwe_slog_sd_escape(text, esc, sizeof(esc));
	check_escaped(esc, "\"]");
	json_object_put(ev);
	free(text);
	return 0;
}
