#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# e2e_feeds.sh - threat-intel feeds on the gateway testbed: a feed file that
# changes blocks a new address within 2 s with no gap for entries that stay;
# an HTTP feed that turns into an HTML page or an empty body keeps its last
# good version; firehol_level1 (which lists 198.18.0.0/15) leaves the LAN
# working; domains resolve and their addresses are blocked.
. "$(dirname "$0")/lib.sh"
t_require_root
. "$(dirname "$0")/lib_bwe.sh"
T_TIMEOUT=${T_TIMEOUT:-60}
bwe_testbed_up feeds
net ip addr add 203.0.113.81/24 dev eth0 2>/dev/null

FEED=$DIR/feeds/c2.txt
WWW=$DIR/www
mkdir -p "$DIR/feeds" "$WWW"
printf '# test C2 list\n%s\n%s\n' "$BWE_C2_V4" "$BWE_C2_V6" >"$FEED"
printf '%s\n198.19.7.0/24\n' "$BWE_SITE_V6" >"$WWW/list.txt"
cp "$ROOT/tests/data/feeds/firehol_level1.netset" "$DIR/feeds/firehol_level1.netset"
HTTP_PORT=18080
gw ip link set lo up
setsid ip netns exec "$BWE_NS_GW" python3 -m http.server --bind 127.0.0.1 "$HTTP_PORT" \
	--directory "$WWW" >/dev/null 2>&1 &
HTTP_PID=$!
t_atexit "kill $HTTP_PID 2>/dev/null; true"

# a DNS server on the internet side answers for the domain feed
printf '{"ttl": 2, "names": {"relay.proxyware.example": ["%s"]}}\n' "$BWE_RELAY_V4" >"$DIR/zone.json"
setsid ip netns exec "$BWE_NS_NET" python3 "$ROOT/tests/tools/dns_stub.py" "$BWE_DNS_V4" "$DIR/zone.json" \
	>/dev/null 2>"$DIR/dns.log" &
DNS_PID=$!
t_atexit "kill $DNS_PID 2>/dev/null; true"
mkdir -p "/etc/netns/$BWE_NS_GW"
t_atexit "rm -rf /etc/netns/$BWE_NS_GW"
echo "nameserver $BWE_DNS_V4" >"/etc/netns/$BWE_NS_GW/resolv.conf"
printf '# proxyware relays\nrelay.proxyware.example\n' >"$DIR/feeds/domains.txt"

FEEDS_YAML="feeds:
  - { name: c2, source: $FEED, format: plain, refresh: 1h, max_reject: 0.7 }
  - { name: doms, source: $DIR/feeds/domains.txt, format: domains, refresh: 1h }
  - { name: web, source: http://127.0.0.1:$HTTP_PORT/list.txt, insecure: true, format: plain, refresh: 1h, max_shrink: 0.5 }
  - { name: dead, source: http://127.0.0.1:9/list.txt, insecure: true, format: plain, refresh: 10s, stale_after: 1, timeout: 2s }"
LEVEL1_YAML="
  - { name: level1, source: $DIR/feeds/firehol_level1.netset, format: netset, refresh: 1h }"
write_config "$FEEDS_YAML"
for _ in $(seq 1 30); do gw curl -s -o /dev/null "http://127.0.0.1:$HTTP_PORT/list.txt" && break; sleep 0.1; done
if ! start_daemon; then t_begin "daemon"; t_fail "bwctld did not start"; t_summary; exit 1; fi

feed_field() { bwctl --json feeds | jq -r --arg n "$1" ".[] | select(.name == \$n) | .$2"; }
wait_for() { # TRIES CMD...: poll every 0.1 s
	local n=$1; shift
	for _ in $(seq 1 "$n"); do "$@" && return 0; sleep 0.1; done
	return 1
}
field_is() { [ "$(feed_field "$1" "$2")" = "$3" ]; }
field_is_not() { [ "$(feed_field "$1" "$2")" != "$3" ]; }

t_test_initial() {
	assert_eq "$(feed_field c2 entries)" 2 "c2 entries"
	assert_eq "$(feed_field c2 entries_v4)" 1 "c2 v4"
	assert_eq "$(feed_field c2 entries_v6)" 1 "c2 v6"
	wait_for 50 field_is web entries 2 || t_fail "web feed not loaded"
	assert_ok unreach lan "$BWE_C2_V4"
	assert_ok unreach lan "$BWE_C2_V6"
	assert_ok unreach lan "$BWE_SITE_V6"
	assert_ok reach lan "$BWE_SITE_V4"
	local l; l=$(bwctl --json lookup "$BWE_C2_V4")
	assert_eq "$(jq -r .feed <<<"$l")" c2 "lookup feed"
	assert_eq "$(jq -r .entry <<<"$l")" "$BWE_C2_V4" "lookup entry"
	assert_eq "$(jq -r '.matches[0].line' <<<"$l")" 2 "provenance line"
	jq -e '.matches[0].first_seen | test("^20")' <<<"$l" >/dev/null || t_fail "first_seen"
	jq -e '.[0] | has("name") and has("entries") and has("rejected") and has("last_success") and has("last_error")' \
		<<<"$(bwctl --json feeds)" >/dev/null || t_fail "feeds fields"
}
t_run "feeds load at start and block with provenance" t_test_initial

t_test_file_change() {
	# a probe to an address that stays listed must never get through
	lan ping -i 0.01 -c 400 -W 1 -q "$BWE_C2_V4" >"$DIR/probe.txt" 2>&1 &
	local probe=$!
	local t0 t1
	sleep 0.5
	t0=$(date +%s%N)
	printf '# v2\n%s\n%s\n%s\n' "$BWE_C2_V4" "$BWE_C2_V6" "$BWE_SITE_V4" >"$FEED.tmp" && mv "$FEED.tmp" "$FEED"
	wait_for 40 unreach lan "$BWE_SITE_V4" || t_fail "newly listed address not blocked within 4 s"
	t1=$(date +%s%N)
	echo "feed change -> drop in $(( (t1 - t0) / 1000000 )) ms"
	[ $(( (t1 - t0) / 1000000 )) -le 2000 ] || t_fail "took more than 2 s"
	# and back: the removed address flows again, the kept one never leaked
	printf '# v3\n%s\n%s\n' "$BWE_C2_V4" "$BWE_C2_V6" >"$FEED"
	wait_for 40 reach lan "$BWE_SITE_V4" || t_fail "delisted address still blocked"
	wait "$probe"
	grep -q " 0 received" "$DIR/probe.txt" || t_fail "gap: the staying entry let packets through: $(cat "$DIR/probe.txt")"
}
t_run "a feed file change blocks the new address within 2 s, no gap for the rest" t_test_file_change

t_test_http_guards() {
	assert_eq "$(feed_field web last_error)" null "no error yet"
	# an HTML error page with status 200
	printf '<!DOCTYPE html>\n<html><body><h1>502 Bad Gateway</h1></body></html>\n' >"$WWW/list.txt"
	assert_ok bwctl feeds refresh web
	wait_for 50 field_is_not web last_error null || t_fail "no error shown"
	assert_eq "$(feed_field web entries)" 2 "entries after HTML"
	assert_ok unreach lan "$BWE_SITE_V6"
	# an empty body
	: >"$WWW/list.txt"
	assert_ok bwctl feeds refresh web
	sleep 1
	assert_eq "$(feed_field web entries)" 2 "entries after empty body"
	feed_field web last_error | grep -qi empty || t_fail "empty not reported: $(feed_field web last_error)"
	assert_ok unreach lan "$BWE_SITE_V6"
	# a 404
	rm -f "$WWW/list.txt"
	assert_ok bwctl feeds refresh web
	sleep 1
	feed_field web last_error | grep -q 404 || t_fail "404 not reported: $(feed_field web last_error)"
	assert_eq "$(feed_field web entries)" 2 "entries after 404"
	grep -q '"action":"feed-error"' "$LOG" || t_fail "no feed-error event"
	# a good version again clears the error
	printf '%s\n198.19.7.0/24\n' "$BWE_SITE_V6" >"$WWW/list.txt"
	assert_ok bwctl feeds refresh web
	wait_for 50 field_is web last_error null || t_fail "error not cleared"
}
t_run "an HTTP feed keeps its last good version through HTML, empty and 404" t_test_http_guards

t_test_level1() {
	# added by SIGHUP; it lists 198.18.0.0/15 (our LAN) and also the test
	# nets 198.51.100.0/24 and 203.0.113.0/24 (bogons) of the "internet"
	write_config "$FEEDS_YAML$LEVEL1_YAML"
	hup_daemon
	wait_for 50 field_is level1 state ok || t_fail "level1 not loaded: $(bwctl --json feeds)"
	assert_ok test "$(feed_field level1 entries)" -gt 2000
	assert_ok reach lan "$BWE_GW_LAN_V4"
	assert_ok reach lan "$BWE_LAN2_V4"
	assert_ok reach lan "$BWE_MGMT_V4"       # exempt: the hole is exact
	assert_ok reach lan "$BWE_DNS_V4"
	assert_ok reach lan "$BWE_GW_WAN_V4"     # the gateway's own address, inside a listed /24
	assert_ok unreach lan "$BWE_SITE_V4"     # 203.0.113.0/24 is listed as a bogon
	assert_eq "$(bwctl --json lookup "$BWE_LAN_V4" | jq -r .verdict)" pass "LAN host"
	local l; l=$(bwctl --json lookup 198.19.0.1)
	assert_eq "$(jq -r .verdict <<<"$l")" drop "rest of 198.18.0.0/15"
	assert_eq "$(jq -r .feed <<<"$l")" level1 "its feed"
	assert_eq "$(jq -r .entry <<<"$l")" 198.18.0.0/15 "its entry"
	grep '"action":"feed-overlap"' "$LOG" | grep -q '198.18.0.0/15' || t_fail "overlap not reported"
	# 224.0.0.0/3 is broader than min_prefix_v4 (/8): refused, with its line
	assert_eq "$(feed_field level1 rejected)" 1 "rejected lines"
	grep '"action":"feed-line-rejected"' "$LOG" | grep -q '224.0.0.0/3' || t_fail "224.0.0.0/3 refusal not logged"
	# removed by SIGHUP: its entries go, the others stay
	write_config "$FEEDS_YAML"
	hup_daemon
	wait_for 30 reach lan "$BWE_SITE_V4" || t_fail "level1 entries not withdrawn"
	assert_ok unreach lan "$BWE_C2_V4"
}
t_run "firehol_level1 leaves a 198.18.0.0/15 LAN working and reports the overlap" t_test_level1

t_test_domains() {
	wait_for 50 field_is doms entries 1 || t_fail "domain not resolved: $(bwctl --json feeds | jq -c '.[] | select(.name=="doms")')"
	assert_ok unreach lan "$BWE_RELAY_V4"
	local l; l=$(bwctl --json lookup "$BWE_RELAY_V4")
	assert_eq "$(jq -r .feed <<<"$l")" doms "feed"
	assert_eq "$(jq -r '.matches[0].indicator' <<<"$l")" relay.proxyware.example "provenance: the domain"
	# the answer changes; after its TTL the new address is blocked and the old one freed
	printf '{"ttl": 2, "names": {"relay.proxyware.example": ["203.0.113.81"]}}\n' >"$DIR/zone.json"
	wait_for 300 sh -c "[ \"\$(ip netns exec $BWE_NS_GW $BWCTL_BIN --socket $SOCK --json lookup 203.0.113.81 | jq -r .feed)\" = doms ]" ||
		t_fail "not re-resolved after the TTL"
	assert_ok reach lan "$BWE_RELAY_V4"
}
t_run "domain indicators are resolved, blocked with their provenance, and re-resolved" t_test_domains

t_test_bad_lines() {
	printf '# with junk\n%s\nnot-an-address\n999.1.1.1\n0.0.0.0/0\n%s\n' "$BWE_C2_V4" "$BWE_C2_V6" >"$FEED"
	wait_for 30 field_is c2 rejected 3 || t_fail "rejected lines: $(feed_field c2 rejected)"
	assert_eq "$(feed_field c2 entries)" 2 "entries"
	grep '"action":"feed-line-rejected"' "$LOG" | grep -q '"line":3' || t_fail "rejected line 3 not in the event log"
	grep '"action":"feed-line-rejected"' "$LOG" | grep -q 'not-an-address' || t_fail "excerpt not logged"
	assert_ok unreach lan "$BWE_C2_V4"
	# beyond max_reject (70 %) the whole version is refused and the last good one stays
	printf 'junk1\njunk2\njunk3\njunk4\n%s\n' "$BWE_SITE_V4" >"$FEED"
	wait_for 30 field_is_not c2 last_error null || t_fail "no error for a mostly-junk version"
	assert_eq "$(feed_field c2 entries)" 2 "last good kept"
	assert_ok unreach lan "$BWE_C2_V4"
	assert_ok reach lan "$BWE_SITE_V4"
	printf '%s\n%s\n' "$BWE_C2_V4" "$BWE_C2_V6" >"$FEED"
	wait_for 30 field_is c2 last_error null || t_fail "error not cleared"
}
t_run "refused lines are counted and logged with their line" t_test_bad_lines

worker_pid() { bwctl --json status | jq -r '.feed_worker.pid // empty'; }
proc_field() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
worker_is_new() { local p; p=$(worker_pid); [ -n "$p" ] && [ "$p" != "$1" ]; }

t_test_worker_sandbox() {
	local pid ppid
	pid=$(worker_pid)
	[ -n "$pid" ] || { t_fail "no feed worker in bwctl status"; return; }
	tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "--feed-worker" || t_fail "cmdline"
	assert_eq "$(proc_field "$pid" CapEff)" 0000000000000000 "CapEff"
	assert_eq "$(proc_field "$pid" CapPrm)" 0000000000000000 "CapPrm"
	assert_eq "$(proc_field "$pid" CapBnd)" 0000000000000000 "CapBnd"
	assert_eq "$(proc_field "$pid" NoNewPrivs)" 1 "NoNewPrivs"
	assert_eq "$(proc_field "$pid" Seccomp)" 2 "Seccomp (filter)"
	assert_eq "$(proc_field "$pid" Uid)" "$(id -u nobody)" "runs as nobody"
	# the privileged parent is bwctld; only it holds BPF maps and programs
	ppid=$(proc_field "$pid" PPid)
	assert_eq "$(proc_field "$ppid" Uid)" 0 "parent is root"
	ls -l "/proc/$ppid/fd" | grep -q "bpf-map" || t_fail "parent holds no BPF map"
	if ls -l "/proc/$pid/fd" | grep -q "bpf-map\|bpf-prog"; then
		t_fail "the worker holds BPF descriptors"
	fi
}
t_run "the feed worker runs as nobody, without capabilities, under seccomp" t_test_worker_sandbox

t_test_worker_killed() {
	local pid
	pid=$(worker_pid)
	# a listed address stays dropped the whole time the worker is gone
	lan ping -i 0.01 -c 300 -W 1 -q "$BWE_C2_V4" >"$DIR/probe2.txt" 2>&1 &
	local probe=$!
	sleep 0.3
	kill -9 "$pid"
	assert_eq "$(feed_field c2 entries)" 2 "entries kept after the kill"
	wait_for 100 worker_is_new "$pid" || t_fail "no new feed worker within 10 s"
	jq -e '.feed_worker.restarts >= 1' <<<"$(bwctl --json status)" >/dev/null ||
		t_fail "restarts not counted: $(bwctl --json status | jq -c .feed_worker)"
	# the new worker parses the next version of the feed
	printf '# v4\n%s\n%s\n%s\n' "$BWE_C2_V4" "$BWE_C2_V6" "$BWE_SITE_V4" >"$FEED"
	wait_for 40 unreach lan "$BWE_SITE_V4" || t_fail "the new worker did not parse the change"
	printf '%s\n%s\n' "$BWE_C2_V4" "$BWE_C2_V6" >"$FEED"
	wait_for 40 reach lan "$BWE_SITE_V4" || t_fail "delisted address still blocked"
	wait "$probe"
	grep -q " 0 received" "$DIR/probe2.txt" || t_fail "a listed address got through: $(cat "$DIR/probe2.txt")"
}
t_run "killing the feed worker keeps enforcement; it is restarted and works" t_test_worker_killed

t_test_stale() {
	# a source that never answers: errors, then a stale alert after one refresh period
	wait_for 150 sh -c "grep '\"action\":\"feed-stale\"' '$LOG' | grep -q '\"name\":\"dead\"'" ||
		t_fail "no feed-stale event: $(bwctl --json feeds | jq -c "map(.name)"); $(grep -i "dead\|reload" "$DIR/bwctld.log" | tail -5)"
	assert_eq "$(feed_field dead state)" stale "state"
	feed_field dead last_error | grep -q "download failed" || t_fail "last_error: $(feed_field dead last_error)"
	assert_eq "$(feed_field dead entries)" 0 "entries"
}
t_run "a feed with no success for stale_after periods raises a stale alert" t_test_stale

t_test_restart_last_good() {
	stop_daemon KILL
	rm -f "$WWW/list.txt"           # the web feed is down when the daemon starts
	start_daemon || t_fail "restart"
	assert_eq "$(feed_field web entries)" 2 "web feed restored from its last good copy"
	assert_ok unreach lan "$BWE_SITE_V6"
	printf '%s\n198.19.7.0/24\n' "$BWE_SITE_V6" >"$WWW/list.txt"
}
t_run "after a restart a feed that is down enforces its last good version" t_test_restart_last_good

t_summary
