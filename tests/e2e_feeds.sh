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
net ip addr add 203.0.113.151/24 dev eth0 2>/dev/null

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

# a slow one: answers under /slow/ take SLOW_S seconds (a download held in flight)
SLOW_PORT=18081
SLOW_S=3
mkdir -p "$WWW/slow"
setsid ip netns exec "$BWE_NS_GW" python3 "$ROOT/tests/tools/slow_http.py" 127.0.0.1 "$SLOW_PORT" \
	"$WWW" "$SLOW_S" >/dev/null 2>&1 &
SLOW_PID=$!
t_atexit "kill $SLOW_PID 2>/dev/null; true"

# a DNS server on the internet side answers for the domain feed
printf '{"ttl": 2, "names": {"relay.proxyware.example": ["%s"]}}\n' "$BWE_RELAY_V4" >"$DIR/zone.json"
setsid ip netns exec "$BWE_NS_NET" python3 "$ROOT/tests/tools/dns_stub.py" "$BWE_DNS_V4" "$DIR/zone.json" \
	>"$DIR/dns.queries" 2>"$DIR/dns.log" &
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
	jq -e '.[0] | has("name") and has("entries") and has("rejected") and has("skipped") and has("last_success") and has("last_error")' \
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
	# beyond max_reject (70 %) and max_reject_floor (20 lines) the whole version is
	# refused and the last good one stays; the event names the first refused lines
	{ for i in $(seq 24); do echo "junk$i"; done; echo "$BWE_SITE_V4"; } >"$FEED"
	wait_for 30 field_is_not c2 last_error null || t_fail "no error for a mostly-junk version"
	assert_eq "$(feed_field c2 entries)" 2 "last good kept"
	assert_ok unreach lan "$BWE_C2_V4"
	assert_ok reach lan "$BWE_SITE_V4"
	feed_field c2 last_error | grep -q "24 of 25 lines refused.*first refused: 1 (not an address), 2 (not an address)" ||
		t_fail "refused lines not named: $(feed_field c2 last_error)"
	local ev
	ev=$(grep '"action":"feed-error"' "$LOG" | jq -c 'select(.bwenforce.feed.name == "c2" and .bwenforce.feed.guard.name == "max_reject")' | tail -1)
	jq -e '.bwenforce.feed.guard.refused_lines | length == 5 and .[0].line == 1 and .[0].reason == "not an address"' <<<"$ev" >/dev/null ||
		t_fail "refused_lines not in the event: $ev"
	# under max_reject_floor a short list loads even with 75 % refused, the refused
	# lines' text unlogged (mostly not a feed)
	printf '%s\nstray-junk1\nstray-junk2\nstray-junk3\n' "$BWE_C2_V4" >"$FEED"
	wait_for 30 field_is c2 entries 1 || t_fail "short list refused: $(feed_field c2 last_error)"
	assert_eq "$(feed_field c2 rejected)" 3 "rejected of the short list"
	assert_eq "$(feed_field c2 last_error)" null "no error for the short list"
	grep '"action":"feed-line-rejected"' "$LOG" | grep -q 'stray-junk' && t_fail "text of a mostly-refused version logged"
	printf '%s\n%s\n' "$BWE_C2_V4" "$BWE_C2_V6" >"$FEED"
	wait_for 30 field_is c2 rejected 0 || t_fail "clean version not taken"
}
t_run "refused lines are counted and logged with their line" t_test_bad_lines

# Feeds added for one test by SIGHUP, removed again at its end.
with_feeds() { # YAML lines (each "  - { ... }")
	write_config "$FEEDS_YAML
$1"
	hup_daemon
}
without_extra_feeds() {
	write_config "$FEEDS_YAML"
	hup_daemon
}
guard_event() { # FEED GUARD: the feed-error event of that guard, compact JSON
	grep '"action":"feed-error"' "$LOG" |
		jq -c --arg n "$1" --arg g "$2" 'select(.bwenforce.feed.name == $n and .bwenforce.feed.guard.name == $g)' |
		tail -1
}

# A big text feed (past the 64 KiB every partial parse reads whole): a change
# is parsed in part (lines_parsed in the event) and gives the entries and
# lines a whole parse gives, computed here from the file itself.
big_feed() { # OUT SEED EDIT(0|1): 40,000 plain lines; EDIT removes 30, adds 2, changes 1
	python3 - "$@" <<'EOP'
import random, sys
out, seed, edit = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
r = random.Random(seed)
lines = ["# big test list"]
seen = set()
while len(lines) < 40000:
    a = "%d.%d.%d.%d" % (r.randint(11, 99), r.randint(0, 255), r.randint(0, 255), r.randint(1, 254))
    if a not in seen:
        seen.add(a)
        lines.append(a)
lines[25000] = "203.0.113.150"
if edit:
    del lines[1000:1030]
    lines.insert(5000, "203.0.113.151")
    lines.insert(39000, "# a comment")
    lines[30000] = "11.0.0.1"
open(out, "w").write("\n".join(lines) + "\n")
EOP
}
# line (1-based) of ADDR in FILE
line_of() { grep -n -x -F "$2" "$1" | head -1 | cut -d: -f1; }

t_test_big_delta() {
	local f=$DIR/feeds/big.txt n0
	big_feed "$f" 7 0
	with_feeds "  - { name: big, source: $f, format: plain, refresh: 1h }"
	wait_for 100 field_is big entries 39999 || t_fail "big feed not loaded: $(feed_field big entries)"
	assert_eq "$(bwctl --json lookup 203.0.113.150 | jq -r '.matches[0].line')" "$(line_of "$f" 203.0.113.150)" "line before"
	n0=$(grep -c '"feed-updated"' "$LOG")
	big_feed "$f.tmp" 7 1
	mv "$f.tmp" "$f"
	wait_for 100 sh -c "[ \$(grep -c '\"feed-updated\"' '$LOG') -gt $n0 ]" || t_fail "no update"
	local ev; ev=$(grep '"feed-updated"' "$LOG" | jq -c 'select(.bwenforce.feed.name == "big")' | tail -1)
	assert_eq "$(jq -r .bwenforce.feed.entries <<<"$ev")" 39970 "entries after the change"
	assert_eq "$(jq -r .bwenforce.feed.added <<<"$ev")" 2 "added"
	assert_eq "$(jq -r .bwenforce.feed.removed <<<"$ev")" 31 "removed"
	# parsed in part: the changed lines and the first 64 KiB, not all 39,972 lines
	assert_ok test "$(jq -r .bwenforce.feed.lines_parsed <<<"$ev")" -lt 10000
	# the provenance a whole parse gives: lines shifted by the removal and the insertions
	local a
	for a in 203.0.113.150 203.0.113.151 11.0.0.1 "$(sed -n 39500p "$f")"; do
		assert_eq "$(bwctl --json lookup "$a" | jq -r '.matches[0].line')" "$(line_of "$f" "$a")" "line of $a"
	done
	assert_ok unreach lan 203.0.113.151
	# The text diffed against is the saved copy, taken only while it is this
	# version: changed behind the daemon's back (same length, one byte), the
	# next change is parsed whole, with the same result.
	local last=$DIR/state/feeds/big.last
	assert_ok cmp -s "$f" "$last"
	printf 'B' | dd of="$last" bs=1 seek=2 conv=notrunc status=none
	if cmp -s "$f" "$last"; then t_fail "the saved copy was not changed"; fi
	n0=$(grep -c '"feed-updated"' "$LOG")
	sed '39500d' "$f" >"$f.tmp"
	local gone; gone=$(sed -n 39500p "$f")
	mv "$f.tmp" "$f"
	wait_for 100 sh -c "[ \$(grep -c '\"feed-updated\"' '$LOG') -gt $n0 ]" || t_fail "no update"
	ev=$(grep '"feed-updated"' "$LOG" | jq -c 'select(.bwenforce.feed.name == "big")' | tail -1)
	assert_eq "$(jq -r .bwenforce.feed.entries <<<"$ev")" 39969 "entries after the whole parse"
	assert_eq "$(jq -r .bwenforce.feed.removed <<<"$ev")" 1 "removed"
	assert_eq "$(jq -r .bwenforce.feed.lines_parsed <<<"$ev")" "$(wc -l <"$f")" "parsed whole"
	assert_eq "$(bwctl --json lookup "$gone" | jq -r '.matches | length')" 0 "$gone gone"
	assert_ok cmp -s "$f" "$last"
	without_extra_feeds
}
t_run "a big text feed's change is parsed in part, with the lines a whole parse gives (whole when the saved copy changed)" t_test_big_delta

t_test_stix_2108() {
	# valid until 2108: past 2^32 seconds; cut to 32 bits it was 1971 and expired at once
	cat >"$DIR/feeds/stix.json" <<EOS
{"type":"bundle","id":"bundle--44af6c39-c09b-49c5-9de2-394224b04982","objects":[
 {"type":"indicator","spec_version":"2.1","id":"indicator--33fe3b22-0201-47cf-85d0-97c02164528d",
  "created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z",
  "pattern":"[ipv4-addr:value = '203.0.113.120']","pattern_type":"stix",
  "valid_from":"2026-01-01T00:00:00Z","valid_until":"2108-01-05T00:00:00Z"}]}
EOS
	with_feeds "  - { name: stix, source: $DIR/feeds/stix.json, format: stix, refresh: 1h }"
	wait_for 50 field_is stix entries 1 || t_fail "stix feed not loaded: $(bwctl --json feeds | jq -c '.[] | select(.name=="stix")')"
	sleep 2.5 # two ticks: an indicator taken as expired goes at the first
	assert_eq "$(feed_field stix entries)" 1 "entries after two ticks"
	local l; l=$(bwctl --json lookup 203.0.113.120)
	assert_eq "$(jq -r .verdict <<<"$l")" drop "verdict"
	assert_eq "$(jq -r .feed <<<"$l")" stix "feed"
	assert_eq "$(jq -r '.matches[0].expires' <<<"$l")" 2108-01-05T00:00:00Z "expires"
	if grep '"action":"indicator-expired"' "$LOG" | grep -q '"name":"stix"'; then
		t_fail "the 2108 indicator was expired"
	fi
	without_extra_feeds
}
t_run "a STIX indicator valid until 2108 stays (64-bit times)" t_test_stix_2108

t_test_zeek_and_stix20() {
	# a Zeek intel file and a published STIX 2.0 bundle (alphabetical keys), both format auto
	printf '#separator \\x09\n#fields\tindicator\tindicator_type\tmeta.source\n203.0.113.140\tIntel::ADDR\tzeek-test\n198.51.100.128/25\tIntel::SUBNET\tzeek-test\nhttp://x.example/\tIntel::URL\tzeek-test\n' >"$DIR/feeds/c2.intel"
	cp "$ROOT/tests/data/feeds/real/stix20_unit42_brute-ratel.json" "$DIR/feeds/stix20.json"
	with_feeds "  - { name: zeek, source: $DIR/feeds/c2.intel, format: auto, refresh: 1h }
  - { name: stix20, source: $DIR/feeds/stix20.json, format: auto, refresh: 1h }"
	wait_for 50 field_is zeek entries 2 || t_fail "zeek feed not loaded: $(bwctl --json feeds | jq -c '.[] | select(.name=="zeek")')"
	assert_eq "$(feed_field zeek format)" zeek-intel "zeek detected"
	assert_eq "$(feed_field zeek skipped)" 1 "zeek skipped (Intel::URL)"
	assert_eq "$(feed_field zeek rejected)" 0 "zeek rejected"
	local l; l=$(bwctl --json lookup 203.0.113.140)
	assert_eq "$(jq -r .feed <<<"$l")" zeek "lookup feed"
	assert_eq "$(jq -r '.matches[0].indicator' <<<"$l")" zeek-test "provenance: meta.source"
	wait_for 50 field_is stix20 entries 43 || t_fail "STIX 2.0 bundle not loaded: $(bwctl --json feeds | jq -c '.[] | select(.name=="stix20")')"
	assert_eq "$(feed_field stix20 format)" stix "STIX 2.0 detected"
	assert_eq "$(feed_field stix20 domains)" 1 "stix20 domains"
	assert_eq "$(feed_field stix20 skipped)" 255 "stix20 skipped (hashes, x509, ...)"
	assert_eq "$(feed_field stix20 rejected)" 0 "stix20 rejected"
	assert_eq "$(feed_field stix20 last_error)" null "stix20 error"
	bwctl feeds | grep -q "skipped: 255" || t_fail "human view without skipped: $(bwctl feeds | head -30)"
	without_extra_feeds
}
t_run "Zeek intel files and STIX 2.0 bundles load by auto, what is not an address skipped" t_test_zeek_and_stix20

t_test_coverage_guards() {
	printf '203.0.113.130\n' >"$DIR/feeds/cover.txt"
	printf '203.0.113.131\n203.0.113.132\n' >"$DIR/feeds/grow.txt"
	with_feeds "  - { name: cover, source: $DIR/feeds/cover.txt, format: plain, refresh: 1h, max_growth: 1000 }
  - { name: grow, source: $DIR/feeds/grow.txt, format: plain, refresh: 1h }"
	wait_for 50 field_is cover entries 1 || t_fail "cover not loaded"
	wait_for 50 field_is grow entries 2 || t_fail "grow not loaded"
	# a compromised feed: 1.0.0.0/8 ... 223.0.0.0/8, all unicast IPv4
	seq 1 223 | sed 's|$|.0.0.0/8|' >"$DIR/feeds/cover.tmp" && mv "$DIR/feeds/cover.tmp" "$DIR/feeds/cover.txt"
	wait_for 50 field_is_not cover last_error null || t_fail "no error for a feed covering all of IPv4"
	assert_eq "$(feed_field cover entries)" 1 "last good kept"
	assert_eq "$(bwctl --json lookup 8.8.8.8 | jq -r .verdict)" pass "8.8.8.8 not blocked"
	assert_eq "$(bwctl --json lookup 203.0.113.130 | jq -r .feed)" cover "the last good entry stays"
	local ev; ev=$(guard_event cover max_coverage_v4)
	[ -n "$ev" ] || t_fail "no feed-error event naming max_coverage_v4: $(grep feed-error "$LOG" | tail -2)"
	assert_eq "$(jq -r '.bwenforce.feed.guard.value' <<<"$ev")" 3741319168 "covered addresses (223 /8)"
	assert_eq "$(jq -r '.bwenforce.feed.guard.limit' <<<"$ev")" 268435456 "limit (a /4)"
	# growth: 2 entries to 7 with max_growth 1 (at most double) is refused
	printf '203.0.113.%s\n' 131 132 133 134 135 136 137 >"$DIR/feeds/grow.tmp" && mv "$DIR/feeds/grow.tmp" "$DIR/feeds/grow.txt"
	wait_for 50 field_is_not grow last_error null || t_fail "no error for a version 3.5 times larger"
	assert_eq "$(feed_field grow entries)" 2 "last good kept"
	assert_eq "$(bwctl --json lookup 203.0.113.137 | jq -r .verdict)" pass "new entry not applied"
	ev=$(guard_event grow max_growth)
	[ -n "$ev" ] || t_fail "no feed-error event naming max_growth"
	assert_eq "$(jq -r '.bwenforce.feed.guard.value' <<<"$ev")" 7 "entries of the refused version"
	# within the guards: 2 to 4 entries
	printf '203.0.113.%s\n' 131 132 133 134 >"$DIR/feeds/grow.tmp" && mv "$DIR/feeds/grow.tmp" "$DIR/feeds/grow.txt"
	wait_for 50 field_is grow entries 4 || t_fail "a version that doubles is accepted"
	without_extra_feeds
}
t_run "coverage and growth guards refuse a version, keep the last good, and say why" t_test_coverage_guards

feed_of() { bwctl --json lookup "$1" | jq -r '.feed // "none"'; }

t_test_reload_reorders_during_download() {
	printf '203.0.113.141\n' >"$WWW/slow/a.txt"
	printf '203.0.113.142\n' >"$WWW/b.txt"
	local A B
	A="  - { name: fa, source: http://127.0.0.1:$SLOW_PORT/slow/a.txt, insecure: true, format: plain, refresh: 1h, max_growth: 10 }"
	B="  - { name: fb, source: http://127.0.0.1:$SLOW_PORT/b.txt, insecure: true, format: plain, refresh: 1h, max_growth: 10 }"
	with_feeds "$A
$B"
	wait_for 100 field_is fa entries 1 || t_fail "fa not loaded"
	wait_for 50 field_is fb entries 1 || t_fail "fb not loaded"
	# new versions; fa's download is held for SLOW_S seconds, and the feeds swap places meanwhile
	printf '203.0.113.141\n203.0.113.143\n' >"$WWW/slow/a.txt"
	printf '203.0.113.142\n203.0.113.144\n' >"$WWW/b.txt"
	assert_ok bwctl feeds refresh fa
	sleep 0.3
	with_feeds "$B
$A"
	assert_ok bwctl feeds refresh fb
	wait_for 100 field_is fa entries 2 || t_fail "fa's new version not applied: $(bwctl --json feeds | jq -c '.[] | select(.name=="fa")')"
	wait_for 50 field_is fb entries 2 || t_fail "fb's new version not applied"
	assert_eq "$(feed_of 203.0.113.143)" fa "fa's entry is fa's"
	assert_eq "$(feed_of 203.0.113.144)" fb "fb's entry is fb's"
	assert_eq "$(feed_of 203.0.113.141)" fa "fa kept its old entry"
	assert_eq "$(feed_of 203.0.113.142)" fb "fb kept its old entry"
	grep -q 203.0.113.143 "$DIR/state/feeds/fa.last" || t_fail "fa's last good copy is not fa's body"
	grep -q 203.0.113.144 "$DIR/state/feeds/fb.last" || t_fail "fb's last good copy is not fb's body"
	# neither is left busy: one more version of each is taken
	printf '203.0.113.141\n203.0.113.143\n203.0.113.145\n' >"$WWW/slow/a.txt"
	printf '203.0.113.142\n203.0.113.144\n203.0.113.146\n' >"$WWW/b.txt"
	assert_ok bwctl feeds refresh
	wait_for 100 field_is fa entries 3 || t_fail "fa stays busy"
	wait_for 50 field_is fb entries 3 || t_fail "fb stays busy"
	without_extra_feeds
}
t_run "feeds reordered by SIGHUP during a download each keep their own entries" t_test_reload_reorders_during_download

t_test_reload_moves_source_during_download() {
	printf '203.0.113.151\n' >"$WWW/slow/c.txt"
	printf '203.0.113.152\n' >"$WWW/c2.txt"
	with_feeds "  - { name: fc, source: http://127.0.0.1:$SLOW_PORT/slow/c.txt, insecure: true, format: plain, refresh: 1h, max_growth: 10 }"
	wait_for 100 field_is fc entries 1 || t_fail "fc not loaded"
	local mark; mark=$(wc -l <"$LOG")
	# the old source's next version (3 entries) is in flight when the source moves
	printf '203.0.113.151\n203.0.113.153\n203.0.113.154\n' >"$WWW/slow/c.txt"
	assert_ok bwctl feeds refresh fc
	sleep 0.3
	with_feeds "  - { name: fc, source: http://127.0.0.1:$SLOW_PORT/c2.txt, insecure: true, format: plain, refresh: 1h, max_growth: 10 }"
	wait_for 50 sh -c "[ \"\$(ip netns exec $BWE_NS_GW $BWCTL_BIN --socket $SOCK --json lookup 203.0.113.152 | jq -r .feed)\" = fc ]" ||
		t_fail "the new source not applied"
	sleep "$SLOW_S" # the old download ends meanwhile: its body must be dropped
	assert_eq "$(feed_field fc entries)" 1 "entries: the new source's"
	assert_eq "$(feed_of 203.0.113.153)" none "the old source's late body was applied"
	if tail -n +"$((mark + 1))" "$LOG" | grep '"action":"feed-updated"' |
		jq -c 'select(.bwenforce.feed.name == "fc" and .bwenforce.feed.entries == 3)' | grep -q .; then
		t_fail "a version of the old source was applied after the reload"
	fi
	grep -q "fc: dropped the result of a download job" "$DIR/bwctld.log" || t_fail "the stale job was not logged"
	grep -q 203.0.113.152 "$DIR/state/feeds/fc.last" || t_fail "last good copy"
	if grep -q 203.0.113.153 "$DIR/state/feeds/fc.last"; then t_fail "the old body saved as last good"; fi
	without_extra_feeds
}
t_run "a source changed by SIGHUP during a download drops the old body" t_test_reload_moves_source_during_download

zone() { # JSON of the names beside the relay's, then ttls and drop
	printf '{"ttl": 2, "names": {"relay.proxyware.example": ["203.0.113.81"]%s}, "ttls": {%s}, "drop": [%s]}\n' \
		"${1:+, $1}" "${2:-}" "${3:-}" >"$DIR/zone.json"
}
a_queries() { grep -c "^query $1 A$" "$DIR/dns.queries"; }
addr_rejected() { # DOMAIN ADDRESS: a feed-address-rejected event for them
	grep '"action":"feed-address-rejected"' "$LOG" |
		jq -c --arg d "$1" --arg a "$2" 'select(.bwenforce.feed.domain == $d and .bwenforce.feed.address == $a)' | grep -q .
}

t_test_domain_entry_checks() {
	local many="" i
	for i in $(seq 160 179); do many="$many${many:+, }\"203.0.113.$i\""; done
	zone "\"sinkhole.example\": [\"0.0.0.0\", \"127.0.0.1\", \"10.1.2.3\", \"169.254.1.1\", \"224.0.0.1\", \"fe80::1\"],
		\"lan.example\": [\"$BWE_LAN_V4\"], \"mgmt.example\": [\"$BWE_MGMT_V4\"],
		\"gw.example\": [\"$BWE_GW_WAN_V4\"], \"many.example\": [$many], \"ok.example\": [\"203.0.113.90\"]"
	printf '%s\n' sinkhole.example lan.example mgmt.example gw.example many.example ok.example >"$DIR/feeds/dchk.txt"
	with_feeds "  - { name: dchk, source: $DIR/feeds/dchk.txt, format: domains, refresh: 1h }"
	# ok.example and the first 16 of many.example (max_domain_addrs), nothing else
	wait_for 80 field_is dchk entries 17 || t_fail "entries: $(feed_field dchk entries), want 17"
	assert_eq "$(feed_of 203.0.113.90)" dchk "a public address is blocked"
	assert_eq "$(feed_of 203.0.113.175)" dchk "the 16th address of many.example"
	assert_eq "$(feed_of 203.0.113.176)" none "the 17th is past max_domain_addrs"
	local a
	for a in 0.0.0.0 127.0.0.1 10.1.2.3 169.254.1.1 224.0.0.1 fe80::1; do
		addr_rejected sinkhole.example "$a" ||
			t_fail "no feed-address-rejected for $a: $(grep feed-address-rejected "$LOG" | tail -3; grep -i "dchk" "$DIR/bwctld.log" | tail -5)"
		assert_eq "$(bwctl --json lookup "$a" | jq -r '.matches | length')" 0 "$a in no feed"
	done
	addr_rejected lan.example "$BWE_LAN_V4" || t_fail "internal address not refused"
	addr_rejected mgmt.example "$BWE_MGMT_V4" || t_fail "exempt address not refused"
	addr_rejected gw.example "$BWE_GW_WAN_V4" || t_fail "gateway address not refused"
	assert_eq "$(bwctl --json lookup "$BWE_GW_WAN_V4" | jq -r '.matches | length')" 0 "gateway address in no feed"
	assert_ok reach lan "$BWE_GW_WAN_V4"
	without_extra_feeds
}
t_run "addresses resolved from domains meet the entry checks and a per-domain cap" t_test_domain_entry_checks

t_test_domain_own_ttl() {
	# short.example's TTL is 2 s (clamped to 10 s), long.example's an hour
	zone '"short.example": ["203.0.113.95"], "long.example": ["203.0.113.96"]' '"long.example": 3600'
	printf 'short.example\nlong.example\n' >"$DIR/feeds/ttl.txt"
	local s0 l0
	s0=$(a_queries short.example) l0=$(a_queries long.example)
	with_feeds "  - { name: ttl, source: $DIR/feeds/ttl.txt, format: domains, refresh: 1h }"
	wait_for 80 field_is ttl entries 2 || t_fail "domains not resolved"
	# two re-resolutions of short.example, about 20 s
	wait_for 300 sh -c "[ \$(grep -c '^query short.example A\$' '$DIR/dns.queries') -ge $((s0 + 3)) ]" ||
		t_fail "short.example not re-resolved after its TTL: $(a_queries short.example) queries"
	assert_eq "$(( $(a_queries long.example) - l0 ))" 1 "long.example resolved once (its TTL is an hour)"
	assert_eq "$(feed_of 203.0.113.96)" ttl "long.example's address stays blocked"
	without_extra_feeds
}
T_TIMEOUT=90 t_run "each domain is re-resolved on its own TTL" t_test_domain_own_ttl


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

running() { # PID: alive and not a zombie
	[ -e "/proc/$1" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

t_test_shutdown_while_resolving() {
	zone '' '' '"blackhole.example"'
	printf 'blackhole.example\n' >"$DIR/feeds/bh.txt"
	with_feeds "  - { name: bh, source: $DIR/feeds/bh.txt, format: domains, refresh: 1h }"
	local q0; q0=$(a_queries blackhole.example)
	wait_for 50 sh -c "[ \$(grep -c '^query blackhole.example A\$' '$DIR/dns.queries') -gt $q0 ]" ||
		t_fail "the worker never asked for blackhole.example"
	sleep 0.5 # the worker waits for an answer that never comes
	local pid t0 t1 ms
	pid=$(daemon_pid)
	write_config "$FEEDS_YAML"
	t0=$(date +%s%N)
	kill -TERM "$pid"
	# a zombie has exited: whoever is its parent now (init) reaps it in its own time
	for _ in $(seq 1 100); do running "$pid" || break; sleep 0.02; done
	t1=$(date +%s%N)
	ms=$(( (t1 - t0) / 1000000 ))
	echo "bwctld exited $ms ms after SIGTERM while resolving"
	running "$pid" && t_fail "bwctld still runs 2 s after SIGTERM"
	[ "$ms" -le 1000 ] || t_fail "bwctld took $ms ms to exit"
	rm -f "$PIDF"
	start_daemon || t_fail "restart"
	wait_for 50 field_is c2 entries 2 || t_fail "c2 after the restart"
}
t_run "bwctld exits within 1 s while the worker waits on a DNS server that never answers" t_test_shutdown_while_resolving

t_summary
