#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# e2e_export.sh - bwctl export against the built daemon on the testbed:
# every format and set with what the daemon really enforces (feeds, manual
# blocks, quarantines), an EDL file written whole or not at all, bad input
# refused before anything is sent, a reader that stalls or goes away, and
# a 1,000,000-entry feed exported while the daemon keeps answering (the
# figures go to the log: time, bytes, bwctld's and bwctl's peak RSS).
. "$(dirname "$0")/lib.sh"
t_require_root

. "$(dirname "$0")/lib_bwe.sh"
T_TIMEOUT=${T_TIMEOUT:-300} # the 1M-entry test loads and exports a million entries five times
BIG=${BIG:-1000000}
bwe_testbed_up exp

mkdir -p "$DIR/feeds"
printf '# c2 list\n%s\n198.51.100.128/25\n192.0.2.7\n' "$BWE_C2_V4" >"$DIR/feeds/c2.txt"
printf '192.0.2.200\n%s\n' "$BWE_RELAY_V4" >"$DIR/feeds/watch.txt"
write_config "feeds:
  - { name: c2, source: $DIR/feeds/c2.txt, format: plain, refresh: 1h }
  - { name: watch, source: $DIR/feeds/watch.txt, format: plain, action: monitor, refresh: 1h }"
if ! start_daemon; then t_begin "daemon"; t_fail "bwctld did not start"; t_summary; exit 1; fi
wait_for 50 field_is c2 entries 3

t_test_plain() {
	assert_ok bwctl block 192.0.2.7 "$BWE_SITE_V6" --reason "case 12"
	local out
	out=$(bwctl export)
	# merged and ordered: manual and feed sources of 192.0.2.7 are one line;
	# the monitor feed's entries drop nothing and are not in the EDL
	assert_eq "$out" "$(printf '%s\n' 192.0.2.7 198.51.100.128/25 "$BWE_C2_V4" "$BWE_SITE_V6")" "EDL"
	assert_eq "$(bwctl export --format plain --set feeds --feed watch)" \
		"$(printf '%s\n' 192.0.2.200 "$BWE_RELAY_V4")" "monitor feed"
	assert_ok bwctl unblock 192.0.2.7 "$BWE_SITE_V6"
	assert_eq "$(bwctl export | wc -l)" 3 "after unblock"
}
t_run "plain: the enforced blocklist as an EDL, one address or CIDR a line" t_test_plain

t_test_zeek() {
	assert_ok bwctl quarantine "$BWE_LAN_V4" --reason "proxyware"
	local z
	z=$(bwctl export --format zeek-intel)
	assert_eq "$(head -1 <<<"$z")" "$(printf '#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc')" "header"
	# every record: four tab-separated fields, none empty
	assert_eq "$(tail -n +2 <<<"$z" | awk -F'\t' 'NF != 4 || $1 == "" || $4 == "" ' | wc -l)" 0 "malformed lines"
	assert_eq "$(grep -c $'^198.51.100.128/25\tIntel::SUBNET\tbwenforce/c2\t' <<<"$z")" 1 "subnet"
	assert_eq "$(grep -c $'^'"$BWE_C2_V4"$'\tIntel::ADDR\tbwenforce/c2\tblocked by feed c2 line 2$' <<<"$z")" 1 "addr"
	z=$(bwctl export --format zeek-intel --set quarantine)
	# the host is contained by its MAC: each of its addresses is a record
	assert_eq "$(tail -n +2 <<<"$z" | cut -f2-3 | sort -u)" "$(printf 'Intel::ADDR\tbwenforce/quarantine')" "quarantine records"
	assert_eq "$(tail -n +2 <<<"$z" | cut -f1 | grep -cxF "$BWE_LAN_V4")" 1 "the quarantined address"
	assert_ok grep -q "proxyware" <<<"$z"
	assert_ok bwctl release "$BWE_LAN_V4"
}
t_run "zeek-intel: a Zeek intel file of the blocks and the quarantined hosts" t_test_zeek

t_test_stix_json() {
	local s j re='^[a-z0-9-]+--[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'
	s=$(bwctl export --format stix)
	assert_eq "$(jq -r .type <<<"$s")" bundle "bundle"
	assert_eq "$(jq --arg re "$re" '[.objects[] | select((.id | test($re)) | not)] | length' <<<"$s")" 0 "ids"
	assert_eq "$(jq '[.objects[] | select(.spec_version != "2.1")] | length' <<<"$s")" 0 "spec_version"
	assert_eq "$(jq -r '[.objects[] | select(.type == "indicator") | .pattern] | sort | join(",")' <<<"$s")" \
		"[ipv4-addr:value = '192.0.2.7'],[ipv4-addr:value = '198.51.100.128/25'],[ipv4-addr:value = '$BWE_C2_V4']" "patterns"
	# the bundle is a feed bwctld itself reads: same entries, none refused
	printf '%s\n' "$s" >"$DIR/feeds/back.json"
	assert_ok bwctl export --format json --set feeds -o "$DIR/feeds.json"
	j=$(cat "$DIR/feeds.json")
	assert_eq "$(jq -r .count <<<"$j")" 5 "json count"
	assert_eq "$(jq -r '[.entries[] | select(.feed == "watch") | .action] | unique | join(",")' <<<"$j")" monitor "json action"
	assert_eq "$(jq -r '.entries[] | select(.cidr == "'"$BWE_C2_V4"'") | .line' <<<"$j")" 2 "json line"
	assert_fail compgen -G "$DIR/feeds.json.tmp*"
}
t_run "stix and json: a valid bundle of indicators, bwenforce's own JSON" t_test_stix_json

t_test_stix_readback() {
	# what bwctld wrote, loaded again as feeds: the STIX bundle and the Zeek intel file
	bwctl export --format zeek-intel -o "$DIR/feeds/back.intel" || { t_fail "export"; return 1; }
	write_config "feeds:
  - { name: c2, source: $DIR/feeds/c2.txt, format: plain, refresh: 1h }
  - { name: watch, source: $DIR/feeds/watch.txt, format: plain, action: monitor, refresh: 1h }
  - { name: back, source: $DIR/feeds/back.json, format: stix, refresh: 1h }
  - { name: zback, source: $DIR/feeds/back.intel, refresh: 1h }"
	hup_daemon
	wait_for 50 field_is back entries 3
	assert_eq "$(feed_field back rejected)" 0 "refused indicators"
	wait_for 50 field_is zback entries 3
	assert_eq "$(feed_field zback rejected)" 0 "refused Zeek lines"
	assert_eq "$(feed_field zback format)" zeek-intel "detected format"
}
t_run "the exported STIX bundle and Zeek intel file read back as feeds" t_test_stix_readback

t_test_bad_input() {
	local err
	err=$(bwctl export --format csv 2>&1); assert_eq $? 2 "status"
	assert_ok grep -q 'plain, zeek-intel, stix or json' <<<"$err"
	err=$(bwctl export --feed c2 2>&1); assert_eq $? 2 "feed without set"
	err=$(bwctl export --set feeds --feed nope 2>&1); assert_eq $? 2 "unknown feed"
	assert_ok grep -q 'no feed named "nope"' <<<"$err"
	err=$(bwctl export --set feeds --feed nope -o "$DIR/x.txt" 2>&1); assert_eq $? 2 "unknown feed, -o"
	assert_fail test -e "$DIR/x.txt"
	err=$(bwctl export surplus 2>&1); assert_eq $? 2 "argument"
}
t_run "bad input is refused with a reason, nothing written" t_test_bad_input

# The daemon answers status within LIMIT_MS while an export runs.
status_ms() {
	local t0 t1
	t0=$(_t_now_us)
	bwctl status >/dev/null || return 1
	t1=$(_t_now_us)
	echo $(((t1 - t0) / 1000))
}

t_test_big() {
	local n t0 t1 ms hwm0 hwm1 worst=0 x bytes
	# BIG addresses in 20.0.0.0/8 upwards, one a line
	awk -v n="$BIG" 'BEGIN { for (i = 0; i < n; i++) printf "%d.%d.%d.%d\n", 20 + int(i / 16777216), int(i / 65536) % 256, int(i / 256) % 256, i % 256 }' >"$DIR/feeds/big.txt"
	write_config "feeds:
  - { name: c2, source: $DIR/feeds/c2.txt, format: plain, refresh: 1h }
  - { name: big, source: $DIR/feeds/big.txt, format: plain, refresh: 1h, max_growth: 1000000 }
http: { listen: [ \"127.0.0.1:9779\" ] }"
	hup_daemon
	WAIT_STEP=0.5 wait_for 240 field_is big entries "$BIG" || { t_fail "big feed not loaded: $(feed_field big last_error)"; return 1; }
	# the peak from here on: clear_refs 5 resets VmHWM to the current RSS
	echo 5 >"/proc/$(daemon_pid)/clear_refs"
	hwm0=$(awk '/VmHWM/ { print $2 }' "/proc/$(daemon_pid)/status")
	t0=$(_t_now_us)
	/usr/bin/time -f '%M' -o "$DIR/bwctl.rss" "$BWCTL_BIN" --socket "$SOCK" export >"$DIR/big.out" &
	x=$!
	for _ in $(seq 1 20); do
		kill -0 $x 2>/dev/null || break
		ms=$(status_ms) || { t_fail "status failed during the export"; return 1; }
		[ "$ms" -gt "$worst" ] && worst=$ms
		sleep 0.05
	done
	wait $x || { t_fail "export failed"; return 1; }
	t1=$(_t_now_us)
	n=$(wc -l <"$DIR/big.out")
	bytes=$(stat -c %s "$DIR/big.out")
	hwm1=$(awk '/VmHWM/ { print $2 }' "/proc/$(daemon_pid)/status")
	echo "export plain of $n entries: $(((t1 - t0) / 1000)) ms, $bytes bytes; bwctld VmHWM $hwm0 -> $hwm1 kB; bwctl max RSS $(cat "$DIR/bwctl.rss") kB; slowest status during it $worst ms" | tee -a "$DIR/figures"
	assert_eq "$n" $((BIG + 3)) "lines"
	# the daemon's peak grew by less than 32 MiB: nothing like the whole output (about 14 MB here) twice
	assert_ok test $((hwm1 - hwm0)) -lt 32768
	assert_ok test "$worst" -lt 1000
	for f in json stix zeek-intel; do
		echo 5 >"/proc/$(daemon_pid)/clear_refs"
		hwm0=$(awk '/VmHWM/ { print $2 }' "/proc/$(daemon_pid)/status")
		worst=0
		t0=$(_t_now_us)
		"$BWCTL_BIN" --socket "$SOCK" export --format $f >"$DIR/big.$f" &
		x=$!
		while kill -0 $x 2>/dev/null; do
			ms=$(status_ms) || { t_fail "status failed during the export"; return 1; }
			[ "$ms" -gt "$worst" ] && worst=$ms
			sleep 0.1
		done
		wait $x || { t_fail "export $f"; return 1; }
		t1=$(_t_now_us)
		hwm1=$(awk '/VmHWM/ { print $2 }' "/proc/$(daemon_pid)/status")
		echo "export $f: $(((t1 - t0) / 1000)) ms, $(stat -c %s "$DIR/big.$f") bytes; bwctld VmHWM $hwm0 -> $hwm1 kB; slowest status during it $worst ms" | tee -a "$DIR/figures"
		assert_ok test $((hwm1 - hwm0)) -lt 32768
		assert_ok test "$worst" -lt 1000
	done
	assert_eq "$(jq '.objects | length' "$DIR/big.stix")" $((BIG + 3 + 1)) "stix objects"
	# the HTTP API streams the same bytes (chunked, pulled by libmicrohttpd in the loop)
	local token
	token=$(bwctl --json token add exporter --scopes read | jq -r .token)
	t0=$(_t_now_us)
	gw curl -sS --fail -H "Authorization: Bearer $token" -D "$DIR/api.headers" \
		-o "$DIR/api.zeek" "http://127.0.0.1:9779/v1/export?format=zeek-intel" || { t_fail "curl export"; return 1; }
	t1=$(_t_now_us)
	echo "GET /v1/export?format=zeek-intel: $(((t1 - t0) / 1000)) ms, $(stat -c %s "$DIR/api.zeek") bytes" | tee -a "$DIR/figures"
	assert_ok grep -qi '^transfer-encoding: chunked' "$DIR/api.headers"
	assert_ok cmp -s "$DIR/api.zeek" "$DIR/big.zeek-intel"
	assert_eq "$(gw curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "http://127.0.0.1:9779/v1/export?set=everything")" 400 "bad set"
	assert_eq "$(jq '.count' "$DIR/big.json")" $((BIG + 3)) "json count"
	cp "$DIR/figures" "${EXPORT_FIGURES:-/dev/null}" 2>/dev/null || true
}
t_run "a 1,000,000-entry feed streams out while the daemon keeps answering" t_test_big

t_test_stalled_reader() {
	local ms worst=0
	# a reader that takes nothing for 3 s, and one that leaves after 64 KiB
	(bwctl export --format json | (sleep 3; cat >/dev/null)) &
	local slow=$!
	bwctl export | head -c 65536 >/dev/null
	for _ in $(seq 1 10); do
		ms=$(status_ms) || { t_fail "status failed beside a stalled reader"; return 1; }
		[ "$ms" -gt "$worst" ] && worst=$ms
		sleep 0.1
	done
	wait $slow
	assert_ok test "$worst" -lt 1000
	# and it still exports whole afterwards
	assert_eq "$(bwctl export | wc -l)" $((BIG + 3)) "lines after"
}
t_run "a stalled or vanished reader never holds the daemon" t_test_stalled_reader

# ---- events.syslog: the daemon's events at a real receiver ---------------------------------

# A receiver in the gateway's namespace: udp or tcp (RFC 6587 octet counting)
# frames, one a line, to a file; or "stall": accept and never read.
cat >"$DIR/receiver.py" <<'EOPY'
import re, socket, sys, time
mode, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
if mode == "udp":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", port))
    with open(out, "ab", buffering=0) as f:
        while True:
            f.write(s.recv(65536) + b"\n")
l = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", port))
l.listen(4)
c, _ = l.accept()
if mode == "stall":
    time.sleep(3600)
buf = b""
with open(out, "ab", buffering=0) as f:
    while True:
        d = c.recv(65536)
        if not d:
            break
        buf += d
        while True:
            m = re.match(rb"([1-9][0-9]*) ", buf)
            if not m:
                if len(buf) > 12:
                    f.write(b"BAD FRAMING\n")
                    sys.exit(1)
                break
            n, start = int(m.group(1)), m.end()
            if len(buf) < start + n:
                break
            f.write(buf[start:start + n] + b"\n")
            buf = buf[start + n:]
EOPY

receiver() { # MODE PORT OUT: in the background, killed at exit
	gw python3 "$DIR/receiver.py" "$@" &
	local pid=$!
	t_atexit "kill $pid 2>/dev/null"
	sleep 0.5
}

syslog_config() { # TARGET FORMAT [MORE YAML]
	write_config "feeds:
  - { name: c2, source: $DIR/feeds/c2.txt, format: plain, refresh: 1h }
http: { listen: [ \"127.0.0.1:9779\" ] }
events:
  syslog:
    target: $1
    format: $2
    hostname: gw-test
${3:-}"
	hup_daemon
}

gw ip link set lo up

t_test_syslog_tcp() {
	receiver tcp 55514 "$DIR/tcp.frames"
	syslog_config tcp://127.0.0.1:55514 rfc5424
	assert_ok bwctl block 192.0.2.99 --reason "syslog test"
	wait_for 50 grep -q ' block \[origin' "$DIR/tcp.frames" || { t_fail "no block event at the receiver"; return 1; }
	local line msg
	line=$(grep -m1 ' block \[origin' "$DIR/tcp.frames")
	# <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD MSG
	assert_ok grep -Eq '^<29>1 [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z gw-test bwenforce [0-9]+ block \[origin software="bwenforce" swVersion="[^"]+"\]\[meta sequenceId="[0-9]+"\] \{' <<<"$line"
	msg=${line#*\] \{}
	msg="{$msg"
	assert_eq "$(jq -r '.event.action + " " + .threat.indicator.ip + " " + .event.reason' <<<"$msg")" "block 192.0.2.99 syslog test" "MSG"
	assert_eq "$(grep -vc '^<[0-9]*>1 ' "$DIR/tcp.frames")" 0 "frames that do not parse"
	assert_ok bwctl unblock 192.0.2.99
}
t_run "events.syslog over TCP: RFC 5424 frames, octet-counted, at a real receiver" t_test_syslog_tcp

t_test_syslog_udp_cef() {
	receiver udp 55515 "$DIR/udp.frames"
	syslog_config udp://127.0.0.1:55515 cef
	assert_ok bwctl quarantine "$BWE_LAN_V4" --reason "cef|test=1"
	wait_for 50 grep -q 'CEF:0|bwenforce|bwenforce|[^|]*|quarantine|' "$DIR/udp.frames" || { t_fail "no CEF quarantine event"; return 1; }
	local line
	# (the host is contained by its MAC: one event for each of its addresses)
	line=$(grep '|quarantine|' "$DIR/udp.frames" | grep -m1 " cs5=$BWE_LAN_V4 ")
	assert_ok grep -qF '|cef\|test=1|5|' <<<"$line"
	assert_ok grep -qF ' msg=cef|test\=1 ' <<<"$line"
	assert_ok grep -q " cs5=$BWE_LAN_V4 cs5Label=host" <<<"$line"
	assert_ok grep -q " suser=root " <<<"$line"
	assert_ok bwctl release "$BWE_LAN_V4"
}
t_run "events.syslog over UDP as CEF: escaped header and extension" t_test_syslog_udp_cef

t_test_syslog_stalled() {
	local ms worst=0 i hosts base stalled
	# 4096 blocks a request: each one an audit event of about 1.5 KB
	hosts=$(awk 'BEGIN { for (i = 0; i < 4096; i++) printf "100.70.%d.%d ", int(i / 256), i % 256 }')
	pairs() { # N: block and unblock the 4096, N times; the ms they took
		local t0
		t0=$(_t_now_us)
		for _ in $(seq 1 "$1"); do
			# shellcheck disable=SC2086
			bwctl block $hosts >/dev/null && bwctl unblock $hosts >/dev/null || return 1
		done
		echo $((($(_t_now_us) - t0) / 1000))
	}
	# without a syslog output, then with one whose receiver takes nothing
	write_config "feeds:
  - { name: c2, source: $DIR/feeds/c2.txt, format: plain, refresh: 1h }"
	hup_daemon
	base=$(pairs 2) || { t_fail "block without syslog"; return 1; }
	receiver stall 55516 /dev/null
	syslog_config tcp://127.0.0.1:55516 rfc5424 "    queue: 64"
	stalled=$(pairs 2) || { t_fail "block with a stalled receiver"; return 1; }
	for i in 1 2 3; do
		ms=$(status_ms) || { t_fail "status failed"; return 1; }
		[ "$ms" -gt "$worst" ] && worst=$ms
	done
	echo "2 x (block + unblock) of 4096 (16384 events): $base ms without syslog, $stalled ms with a stalled TCP receiver; status after it $worst ms" | tee -a "$DIR/figures"
	# the stalled receiver costs the daemon nothing it waits for (a blocking send
	# would hang the block request until bwctl gives up); the margin is for noise
	assert_ok test "$stalled" -lt $((base * 2 + 2000))
	assert_ok test "$worst" -lt 1000
	wait_for 30 grep -q '"action":"syslog-dropped"' "$LOG" || { t_fail "no syslog-dropped event"; return 1; }
	grep -m1 '"action":"syslog-dropped"' "$LOG" | jq -r .message | tee -a "$DIR/figures"
	# and the metrics say so
	local m
	m=$(gw curl -sS http://127.0.0.1:9779/metrics)
	assert_ok grep -Eq '^bwenforce_syslog_messages_total\{result="dropped"\} [1-9][0-9]*$' <<<"$m"
	assert_ok grep -q '^bwenforce_syslog_queue_messages 64$' <<<"$m"
	assert_ok grep -q '^bwenforce_syslog_up 1$' <<<"$m"
	cp "$DIR/figures" "${EXPORT_FIGURES:-/dev/null}" 2>/dev/null || true
}
t_run "a stalled syslog receiver never blocks the daemon; losses are counted" t_test_syslog_stalled

t_summary
