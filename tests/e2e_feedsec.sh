#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# e2e_feedsec.sh - feeds as an attack path (issue #11 items 6, 10, 11):
#  - a FIFO at a file feed's path does not stall the daemon, the feed shows
#    why; a symbolic link is refused (follow_symlinks lets one through), and
#    no line of a secret file it points to reaches the events or the logs;
#  - an https feed redirected to plain http fails with a clear error and
#    keeps its last good version; http:// needs insecure: true and bwctld -n
#    warns about it; the worker trusts a test CA through ca_file;
#  - a 16 MiB+ STIX bundle parses with the worker's memory well under the
#    json-c tree figure; a body past feed_worker_memory fails cleanly.
# Servers (python3 http.server, a TLS server with a throwaway CA) run on
# 127.0.0.1 inside the gateway namespace and stop at exit.
. "$(dirname "$0")/lib.sh"
t_require_root
. "$(dirname "$0")/lib_bwe.sh"
T_TIMEOUT=${T_TIMEOUT:-90}
bwe_testbed_up feedsec
gw ip link set lo up

FEEDS=$DIR/feeds
WWW=$DIR/www
mkdir -p "$FEEDS" "$WWW"
# files the unprivileged worker reads (ca_file) sit in a world-readable directory
PUB=$(mktemp -d /tmp/bwe-feedsec.XXXXXX) && chmod 0755 "$PUB"
t_atexit "rm -rf $PUB"

SECRET="SECRET-TOKEN-$$-do-not-log"
printf 'root:$6$saltsalt$%s:19000:0:99999:7:::\napi_key = %s\n' "$SECRET" "$SECRET" >"$DIR/secret.txt"
chmod 0600 "$DIR/secret.txt"
printf '# good list\n%s\n' "$BWE_C2_V4" >"$FEEDS/good.txt"
ln -s "$DIR/secret.txt" "$FEEDS/secret-link.txt"
ln -s "$FEEDS/good.txt" "$FEEDS/good-link.txt"
ln -s "$DIR/secret.txt" "$FEEDS/followed-secret.txt"
mkfifo "$FEEDS/fifo.txt"
# a 16 MiB+ STIX bundle (one /32 indicator an object) and a small plain list
python3 - "$FEEDS/big.json" <<'EOP'
import sys
pad = "padding of a realistic description field, as CTI platforms export them " * 3
out, i, size = [], 0, 0
while size < 16 * 1024 * 1024 + 4096:
    o = ('{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-%012x",'
         '"created":"2026-01-01T00:00:00Z","modified":"2026-01-01T00:00:00Z",'
         '"pattern":"[ipv4-addr:value = \'100.%d.%d.%d\']","pattern_type":"stix",'
         '"valid_from":"2026-01-01T00:00:00Z","description":"%s"}'
         % (i, 64 + (i >> 16), (i >> 8) & 255, i & 255, pad))
    out.append(o)
    size += len(o) + 2
    i += 1
open(sys.argv[1], "w").write('{"type":"bundle","id":"bundle--1","objects":[\n' + ",\n".join(out) + "\n]}\n")

EOP
BIG_N=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['objects']))" "$FEEDS/big.json")
printf '%s\n%s\n' 198.19.9.1 198.19.9.2 >"$FEEDS/huge.txt"

# ---- servers: plain http (the downgrade target) and https with a test CA ----
HTTP_PORT=18081
HTTPS_PORT=18443
printf '%s\n' "$BWE_SITE_V4" >"$WWW/evil.txt"     # what the attacker serves over http
printf '%s\n' "$BWE_SITE_V6" >"$WWW/good.txt"     # what the real https server serves
(
	cd "$PUB" &&
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=bwe feedsec test CA" \
		-keyout ca.key -out ca.pem &&
	openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout srv.key -out srv.csr &&
	printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >srv.ext &&
	openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
		-extfile srv.ext -out srv.pem
) >"$DIR/openssl.log" 2>&1 || { t_begin "test CA"; t_fail "openssl: $(tail -3 "$DIR/openssl.log")"; t_summary; exit 1; }
chmod 0644 "$PUB/ca.pem"
setsid ip netns exec "$BWE_NS_GW" python3 -m http.server --bind 127.0.0.1 "$HTTP_PORT" \
	--directory "$WWW" >/dev/null 2>&1 &
t_atexit "kill $! 2>/dev/null; true"
setsid ip netns exec "$BWE_NS_GW" python3 "$ROOT/tests/tools/https_redirect.py" 127.0.0.1 "$HTTPS_PORT" \
	"$PUB/srv.pem" "$PUB/srv.key" "$WWW" "http://127.0.0.1:$HTTP_PORT/evil.txt" >/dev/null 2>"$DIR/https.log" &
t_atexit "kill $! 2>/dev/null; true"
for _ in $(seq 1 50); do
	gw curl -s --cacert "$PUB/ca.pem" -o /dev/null "https://127.0.0.1:$HTTPS_PORT/good.txt" &&
		gw curl -s -o /dev/null "http://127.0.0.1:$HTTP_PORT/evil.txt" && break
	sleep 0.1
done

FEEDS_YAML="feeds:
  - { name: good, source: $FEEDS/good.txt, format: plain, refresh: 1h }
  - { name: fifo, source: $FEEDS/fifo.txt, format: plain, refresh: 1h }
  - { name: link, source: $FEEDS/secret-link.txt, format: plain, refresh: 1h }
  - { name: linkok, source: $FEEDS/good-link.txt, format: plain, refresh: 1h, follow_symlinks: true }
  - { name: followed, source: $FEEDS/followed-secret.txt, format: plain, refresh: 1h, follow_symlinks: true }
  - { name: tls, source: https://127.0.0.1:$HTTPS_PORT/good.txt, ca_file: $PUB/ca.pem, format: plain, refresh: 1h }
  - { name: tlsredir, source: https://127.0.0.1:$HTTPS_PORT/redirect-https/good.txt, ca_file: $PUB/ca.pem, format: plain, refresh: 1h }
  - { name: downgrade, source: https://127.0.0.1:$HTTPS_PORT/redirect-http, ca_file: $PUB/ca.pem, format: plain, refresh: 1h, may_be_empty: true }
  - { name: nocafile, source: https://127.0.0.1:$HTTPS_PORT/good.txt, format: plain, refresh: 1h }
  - { name: plainhttp, source: http://127.0.0.1:$HTTP_PORT/evil.txt, insecure: true, format: plain, refresh: 1h, action: monitor }
  - { name: big, source: $FEEDS/big.json, format: stix, refresh: 1h }
  - { name: huge, source: $FEEDS/huge.txt, format: plain, refresh: 1h }
feed_worker_memory: 64M"
write_config "$FEEDS_YAML"
T0=$(date +%s%N)
if ! start_daemon; then t_begin "daemon"; t_fail "bwctld did not start (a FIFO feed blocks it?)"; t_summary; exit 1; fi
T1=$(date +%s%N)
echo "daemon up in $(( (T1 - T0) / 1000000 )) ms with a FIFO feed configured"

no_secret_logged() {
	if grep -rq -- "$SECRET" "$LOG" "$DIR/bwctld.log" 2>/dev/null; then
		t_fail "the secret leaked: $(grep -rh -- "$SECRET" "$LOG" "$DIR/bwctld.log" | head -3)"
	fi
	if journalctl --since "@$((T0 / 1000000000 - 1))" -t bwctld 2>/dev/null | grep -q -- "$SECRET"; then
		t_fail "the secret reached syslog"
	fi
}

t_test_fifo() {
	local a b
	wait_for 50 field_is_not fifo last_error null || t_fail "no error for the FIFO feed"
	feed_field fifo last_error | grep -q "not a regular file" ||
		t_fail "last_error: $(feed_field fifo last_error)"
	assert_eq "$(feed_field fifo entries)" 0 "fifo entries"
	# the daemon answers at once, also after a refresh of the FIFO feed
	assert_ok bwctl feeds refresh fifo
	a=$(date +%s%N)
	assert_ok bwctl status
	b=$(date +%s%N)
	[ $(( (b - a) / 1000000 )) -lt 1000 ] || t_fail "status took $(( (b - a) / 1000000 )) ms"
	assert_eq "$(feed_field good entries)" 1 "the other feeds load"
}
t_run "a FIFO at a feed path does not stall the daemon; the feed says why" t_test_fifo

t_test_symlinks() {
	wait_for 50 field_is_not link last_error null || t_fail "no error for the link"
	feed_field link last_error | grep -q "symbolic link" ||
		t_fail "last_error: $(feed_field link last_error)"
	assert_eq "$(feed_field link entries)" 0 "link entries"
	# follow_symlinks: a link to a good feed loads
	wait_for 50 field_is linkok entries 1 || t_fail "linkok: $(bwctl --json feeds | jq -c '.[] | select(.name=="linkok")')"
	# followed to a secret file: refused as a whole, lines counted, text never logged
	wait_for 50 field_is_not followed last_error null || t_fail "no error for the followed secret"
	assert_eq "$(feed_field followed entries)" 0 "followed entries"
	feed_field followed last_error | grep -q "2 of 2 lines refused" ||
		t_fail "followed: $(feed_field followed last_error)"
	no_secret_logged
	if grep '"action":"feed-line-rejected"' "$LOG" | grep -q '"name":"followed"'; then
		t_fail "line events for a refused non-feed: $(grep '"name":"followed"' "$LOG" | head -2)"
	fi
}
t_run "symbolic links are refused unless follow_symlinks; a secret never reaches the logs" t_test_symlinks

t_test_tls() {
	wait_for 100 field_is tls entries 1 || t_fail "tls feed (ca_file): $(feed_field tls last_error)"
	wait_for 50 field_is tlsredir entries 1 || t_fail "https->https redirect: $(feed_field tlsredir last_error)"
	assert_eq "$(bwctl --json lookup "$BWE_SITE_V6" | jq -r .feed)" tls "entry from the https feed"
	# without ca_file the system CAs do not know the test CA
	wait_for 50 field_is_not nocafile last_error null || t_fail "no error without ca_file"
	feed_field nocafile last_error | grep -qi "certificate" ||
		t_fail "nocafile: $(feed_field nocafile last_error)"
	# https -> http: refused, nothing of the http body taken
	wait_for 50 field_is_not downgrade last_error null || t_fail "the downgrade was not refused"
	feed_field downgrade last_error | grep -q "refused a redirect away from https" ||
		t_fail "downgrade: $(feed_field downgrade last_error)"
	assert_eq "$(feed_field downgrade entries)" 0 "downgrade entries"
	# http:// with insecure: true works, and loads as configured
	wait_for 50 field_is plainhttp entries 1 || t_fail "insecure http feed: $(feed_field plainhttp last_error)"
}
t_run "https feeds: a test CA via ca_file; a redirect to http fails clearly" t_test_tls

t_test_config_rule() {
	local out
	out=$("$BWCTLD" -n -c "$CFG" 2>&1) || t_fail "-n refused the config: $out"
	grep -q "warning: feed plainhttp: http://127.0.0.1:$HTTP_PORT/evil.txt is plain http" <<<"$out" ||
		t_fail "-n did not warn: $out"
	[ "$(grep -c '^warning: ' <<<"$out")" = 1 ] || t_fail "one warning per insecure feed: $out"
	sed 's/, insecure: true//' "$CFG" >"$DIR/noinsecure.yaml"
	out=$("$BWCTLD" -n -c "$DIR/noinsecure.yaml" 2>&1) && t_fail "http without insecure accepted"
	grep -q 'feed "plainhttp": "http://127.0.0.1:'"$HTTP_PORT"'/evil.txt" is plain http' <<<"$out" ||
		t_fail "error: $out"
	grep -q "feed plainhttp: .* is plain http" "$DIR/bwctld.log" || t_fail "start did not log the warning"
}
t_run "http:// needs insecure: true and bwctld -n warns about it" t_test_config_rule

worker_pid() { bwctl --json status | jq -r '.feed_worker.pid // empty'; }
vm_kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

t_test_large_stix() {
	local pid peak bytes
	wait_for 300 field_is big entries "$BIG_N" ||
		t_fail "big STIX: $(bwctl --json feeds | jq -c '.[] | select(.name=="big")')"
	pid=$(worker_pid)
	[ -n "$pid" ] || { t_fail "no worker pid"; return; }
	peak=$(vm_kib "$pid" VmHWM)
	bytes=$(stat -c %s "$FEEDS/big.json")
	echo "STIX bundle $((bytes / 1048576)) MiB, $BIG_N indicators: worker peak RSS $((peak / 1024)) MiB under feed_worker_memory 64M"
	# json-c's whole tree alone was ~6.7 x the body; now the body plus one object
	[ $((peak * 1024)) -lt $((bytes * 5 / 2)) ] || t_fail "worker peak ${peak} kB for ${bytes} bytes"
	assert_eq "$(grep 'Max data size' "/proc/$pid/limits" | awk '{ print $4 }')" $((64 * 1048576)) "RLIMIT_DATA"
}
t_run "a 16 MiB STIX bundle parses in the worker well under the json-c figure" t_test_large_stix

t_test_ceiling() {
	local pid n=0 a b
	wait_for 50 field_is huge entries 2 || t_fail "huge: first version"
	pid=$(worker_pid)
	# 40 MiB of addresses: ~3.5 million entries cannot be held in 64 MiB
	python3 -c "
import sys
with open(sys.argv[1] + '.tmp', 'w') as f:
    f.write(''.join('10.%d.%d.%d\n' % ((i >> 16) & 255, (i >> 8) & 255, i & 255) for i in range(3500000)))
" "$FEEDS/huge.txt" && mv "$FEEDS/huge.txt.tmp" "$FEEDS/huge.txt"
	wait_for 300 sh -c "grep '\"action\":\"feed-error\"' '$LOG' | grep '\"name\":\"huge\"' | grep -q 'out of memory'" ||
		t_fail "no feed-error event naming out of memory: $(feed_field huge last_error)"
	feed_field huge last_error | grep -q "feed_worker_memory" || t_fail "last_error: $(feed_field huge last_error)"
	assert_eq "$(feed_field huge entries)" 2 "the last good version stays"
	assert_eq "$(worker_pid)" "$pid" "the worker answered and lives on"
	a=$(date +%s%N); assert_ok bwctl status; b=$(date +%s%N)
	[ $(( (b - a) / 1000000 )) -lt 1000 ] || t_fail "status took $(( (b - a) / 1000000 )) ms"
	assert_eq "$(feed_field big entries)" "$BIG_N" "other feeds untouched"
}
t_run "a body past feed_worker_memory fails cleanly and keeps the last good version" t_test_ceiling

t_summary
