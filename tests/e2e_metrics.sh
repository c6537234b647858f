#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# e2e_metrics.sh - bwctld's HTTP listener on the gateway testbed: the
# configuration check (non-loopback needs TLS), GET /metrics checked by
# promtool, drop counters that move by exactly the packets and bytes sent,
# a real Prometheus server scraping the daemon and answering PromQL, TLS
# with a certificate made here, slow and idle clients that stall nothing,
# the connection limit and timeout, oversized requests, problem+json
# errors, and the Grafana dashboard's metric names against a real scrape.
# The daemon, curl and Prometheus all run inside the gateway namespace, so
# 127.0.0.1 is the namespace's own loopback (never the machine's: the
# Debian package's own Prometheus on :9090 is neither used nor touched).
. "$(dirname "$0")/lib.sh"
t_require_root

. "$(dirname "$0")/lib_bwe.sh"
T_TIMEOUT=${T_TIMEOUT:-60}
PORT=9779
URL=http://127.0.0.1:$PORT
DASHBOARD=$ROOT/docs/grafana/bwenforce-dashboard.json
for tool in promtool prometheus curl jq openssl; do
	if ! command -v $tool >/dev/null; then
		t_begin "tools"; t_fail "$tool is missing (scripts/setup-deps.sh installs it)"; t_summary; exit 1
	fi
done
bwe_testbed_up met
# what build_info must name: the version and ABI stamp of the sources built
BUILD_VERSION=$(sed -n 's/^#define BWE_VERSION[[:space:]]*"\(.*\)".*/\1/p' "$ROOT/lib/bwe_version.h")
BUILD_ABI=$(sed -n 's/^#define BWE_ABI_VERSION[[:space:]]*\([0-9]*\).*/\1/p' "$ROOT/lib/bwe_abi.h")

printf '# a test feed\n203.0.113.99\n' >"$DIR/feed.txt"
HTTP_YAML="feeds:
  - { name: testfeed, source: $DIR/feed.txt }
http:
  listen: [ \"127.0.0.1:$PORT\", \"[::1]:$PORT\" ]
  max_clients: 8
  max_clients_per_address: 6
  timeout: 3s
  max_body: 4KiB"

# GET PATH [CURL ARGS...]: the body; status in $DIR/status
get() {
	local p=$1; shift
	gw curl -sS -m 5 -o "$DIR/body" -w '%{http_code} %{content_type}' "$@" "$URL$p" >"$DIR/status"
	cat "$DIR/body"
}
scrape() { get /metrics; }
# VALUE METRIC_WITH_LABELS: the sample's value in a scrape on stdin
value() { awk -v m="$1" '$1 == m { print $2; f = 1 } END { if (!f) print "absent" }'; }

t_begin "bwctld -n refuses a listen address other than loopback without TLS, naming it"
write_config "http:
  listen: [ \"127.0.0.1:$PORT\", \"$BWE_GW_LAN_V4:$PORT\" ]"
out=$("$BWCTLD" -n -c "$CFG" 2>&1); rc=$?
[ $rc -ne 0 ] && [[ $out == *"http.listen[1]"*"$BWE_GW_LAN_V4:$PORT is not a loopback address: it needs TLS"* ]] &&
	t_pass || t_fail "rc $rc: $out"

t_begin "bwctld -n refuses a listen address that is not IP:port, and one given twice"
write_config "http: { listen: [ \"localhost:$PORT\" ] }"
out=$("$BWCTLD" -n -c "$CFG" 2>&1); rc=$?
write_config "http: { listen: [ \"127.0.0.1:$PORT\", \"127.0.0.1:$PORT\" ] }"
out2=$("$BWCTLD" -n -c "$CFG" 2>&1); rc2=$?
[ $rc -ne 0 ] && [[ $out == *"\"localhost:$PORT\" is not a listen address"* ]] &&
	[ $rc2 -ne 0 ] && [[ $out2 == *"listed twice"* ]] && t_pass || t_fail "$out / $out2"

t_begin "bwctld -n accepts metrics_auth: the API's tokens are built in"
write_config "http: { listen: [ \"127.0.0.1:$PORT\" ], metrics_auth: true }"
out=$("$BWCTLD" -n -c "$CFG" 2>&1); rc=$?
[ $rc -eq 0 ] && [ "$out" = "configuration OK" ] && t_pass || t_fail "rc $rc: $out"

t_begin "the daemon starts with the listener on 127.0.0.1 and ::1"
write_config "$HTTP_YAML"
if "$BWCTLD" -n -c "$CFG" >/dev/null && start_daemon; then
	t_pass
else
	t_fail "daemon did not start: $(tail -5 "$DIR/bwctld.log")"; t_summary; exit 1
fi

t_test_scrape() {
	local m; m=$(scrape)
	assert_eq "$(cat "$DIR/status")" "200 text/plain; version=0.0.4; charset=utf-8" "status" || return 1
	printf '%s\n' "$m" >"$DIR/scrape.txt"
	assert_ok promtool check metrics <"$DIR/scrape.txt" || return 1
	assert_eq "$(value "bwenforce_build_info{version=\"$BUILD_VERSION\",abi=\"$BUILD_ABI\"}" <<<"$m")" 1 "build_info"
	assert_eq "$(value 'bwenforce_map_capacity{map="bwe_netclass"}' <<<"$m" | grep -c '^[1-9]')" 1 "netclass capacity"
	# IPv6 loopback serves the same
	gw curl -sS -m 5 -g "http://[::1]:$PORT/metrics" | assert_ok grep -q '^bwenforce_build_info'
	# no per-host label anywhere
	assert_fail grep -E '\{[^}]*(host|addr|ip)=' "$DIR/scrape.txt"
}
t_run "GET /metrics: Prometheus text that promtool check metrics accepts, on both addresses" t_test_scrape

t_test_problems() {
	get /nope >/dev/null
	assert_eq "$(cat "$DIR/status")" "404 application/problem+json" "unknown path"
	assert_eq "$(jq -r '[.type, .title, .status] | join(",")' "$DIR/body")" "about:blank,Not Found,404" "problem"
	get /v1/status >/dev/null
	assert_eq "$(cat "$DIR/status")" "401 application/problem+json" "/v1 without a token"
	get /metrics -X DELETE >/dev/null
	assert_eq "$(cat "$DIR/status")" "405 application/problem+json" "DELETE /metrics"
}
t_run "errors are RFC 9457 problem+json" t_test_problems

# The bitmaps' fill follows what the classes and the state put in them:
# bwe_nc4 has a slot per /24 of a class prefix of /17../24 and per address of
# a longer one (the LAN /24, the two exempt IPv4 hosts, the gateway's own
# addresses), bwe_bl_h24 one per /24 with an exact blocklist host (the
# feed's), bwe_bl_h6 one per IPv6 exact host (none yet), bwe_bl_n6 one per
# /32 of an IPv6 prefix (none). A quarantine of a
# LAN host and a block of a host in a new /24 add one each. The release
# takes the class's slot back; an unblocked host's slot stays set until the
# next table build (docs/architecture.md, "Blocklist layout": a superset,
# never a missed host), which is what the gauge is there to show.
fill() { value "bwenforce_filter_slots_set{map=\"$1\"}"; }
# the state the test added taken back, whatever failed (the next test quarantines LAN2 too)
filters_undo() {
	assert_ok bwctl release "$BWE_LAN2_V4" && assert_ok bwctl unblock 198.19.7.7 "$BWE_C2_V6"
}
t_test_filters() {
	local m nc4 nc6
	m=$(scrape)
	nc4=$(fill bwe_nc4 <<<"$m") nc6=$(fill bwe_nc6 <<<"$m")
	[ "$nc4" != absent ] && [ "$nc4" -ge 3 ] || { t_fail "bwe_nc4: $nc4 slots set, want 3 or more"; return 1; }
	[ "$nc6" != absent ] && [ "$nc6" -ge 2 ] || { t_fail "bwe_nc6: $nc6 slots set, want 2 or more"; return 1; }
	assert_eq "$(fill bwe_bl_h24 <<<"$m")" 1 "bwe_bl_h24: the feed's one host" || return 1
	assert_eq "$(fill bwe_bl_h6 <<<"$m")" 0 "bwe_bl_h6: no IPv6 host" || return 1
	assert_eq "$(fill bwe_bl_n6 <<<"$m")" 0 "bwe_bl_n6: no IPv6 prefix" || return 1
	assert_eq "$(value 'bwenforce_filter_slots{map="bwe_bl_n6"}' <<<"$m")" 65536 \
		"bwe_bl_n6: a slot per hashed /32" || return 1
	assert_eq "$(value 'bwenforce_filter_slots{map="bwe_bl_h24"}' <<<"$m")" 16777216 \
		"bwe_bl_h24: a slot per /24" || return 1
	assert_ok bwctl quarantine "$BWE_LAN2_V4" --reason "filter test" || return 1
	if ! assert_ok bwctl block 198.19.7.7 "$BWE_C2_V6" --reason "filter test"; then
		filters_undo
		return 1
	fi
	m=$(scrape)
	if ! assert_eq "$(fill bwe_nc4 <<<"$m")" $((nc4 + 1)) "bwe_nc4 with a quarantined /32" ||
		! assert_eq "$(fill bwe_nc6 <<<"$m")" "$nc6" "bwe_nc6: no IPv6 class changed" ||
		! assert_eq "$(fill bwe_bl_h24 <<<"$m")" 2 "bwe_bl_h24 with a host in another /24" ||
		! assert_eq "$(fill bwe_bl_h6 <<<"$m")" 1 "bwe_bl_h6 with an IPv6 host"; then
		filters_undo
		return 1
	fi
	filters_undo || return 1
	m=$(scrape)
	assert_eq "$(fill bwe_nc4 <<<"$m")" "$nc4" "bwe_nc4 after the release" || return 1
	assert_eq "$(fill bwe_bl_h24 <<<"$m")" 2 "bwe_bl_h24 after the unblock (stale until a build)" || return 1
	assert_eq "$(fill bwe_bl_h6 <<<"$m")" 1 "bwe_bl_h6 after the unblock (stale until a build)"
}
t_run "filter_slots_set: each hashed bitmap's fill follows the classes and the blocklist" t_test_filters

ETH_HLEN=14 IPV4_HLEN=20 ICMP_HLEN=8
PINGS=5 PING_SIZE=300 IN_PINGS=3
PING_FRAME=$((ETH_HLEN + IPV4_HLEN + ICMP_HLEN + PING_SIZE))
DIRECTIONS="outbound inbound none"
# DELTA BEFORE AFTER METRIC: how far a sample moved between two scrapes (files)
delta() { echo $(($(value "$3" <"$2") - $(value "$3" <"$1"))); }
# TOTAL NAME LABELS: the sum of a family's samples over every direction (scrape on stdin)
total() {
	local m; m=$(cat)
	local d v sum=0
	for d in $DIRECTIONS; do
		v=$(value "$1{direction=\"$d\",$2}" <<<"$m")
		[ "$v" = absent ] && { echo absent; return; }
		sum=$((sum + v))
	done
	echo $sum
}
t_test_traffic() {
	local b=$DIR/before.txt a=$DIR/after.txt m r d
	assert_ok bwctl block "$BWE_C2_V4" --reason "metrics test" || return 1
	assert_ok bwctl quarantine "$BWE_LAN2_V4" --reason "metrics test" || return 1
	scrape >"$b"
	assert_eq "$(value bwenforce_quarantined_hosts <"$b")" 1 "quarantined_hosts"
	assert_eq "$(value 'bwenforce_blocklist_entries{feed="manual",family="ipv4"}' <"$b")" 1 "manual v4 blocks"
	# every series of the traffic families carries a direction
	for d in $DIRECTIONS; do
		[ "$(value "bwenforce_packets_total{direction=\"$d\",verdict=\"drop\",reason=\"block\"}" <"$b")" != absent ] ||
			t_fail "no packets_total series for direction $d"
	done
	assert_fail grep -E '^bwenforce_(packets|bytes)_total\{verdict=' "$b"
	# every echo request dies at lan0: no reply
	assert_fail lan ping -n -q -c $PINGS -i 0.2 -W 1 -s $PING_SIZE "$BWE_C2_V4"
	assert_fail lan2 ping -n -q -c $PINGS -i 0.2 -W 1 -s $PING_SIZE -I "$BWE_LAN2_V4" "$BWE_SITE_V4"
	scrape >"$a"
	for r in block quarantine; do
		m="direction=\"outbound\",verdict=\"drop\",reason=\"$r\""
		assert_eq "$(delta "$b" "$a" "bwenforce_packets_total{$m}")" $PINGS "outbound $r packets"
		assert_eq "$(delta "$b" "$a" "bwenforce_bytes_total{$m}")" $((PINGS * PING_FRAME)) "outbound $r bytes"
		for d in inbound none; do
			m="direction=\"$d\",verdict=\"drop\",reason=\"$r\""
			assert_eq "$(delta "$b" "$a" "bwenforce_packets_total{$m}")" 0 "$d $r packets"
		done
	done
	assert_eq "$(($(total bwenforce_packets_total 'verdict="drop",reason="throttle"' <"$a") -
		$(total bwenforce_packets_total 'verdict="drop",reason="throttle"' <"$b")))" 0 "throttle drops"
	assert_eq "$(total bwenforce_packets_total 'verdict="drop",reason="block"' <"$a")" \
		"$(bwctl --json stats | jq .reasons.block.packets)" "the sum over directions is bwctl stats' figure"
	# the other way: the C2 address pings the LAN host; dropped at wan0 as
	# inbound (behind NAT it can only ping the gateway: no internal side)
	local din=inbound
	is_nat 4 && din=none
	scrape >"$b"
	assert_fail net ping -n -q -c $IN_PINGS -i 0.2 -W 1 -s $PING_SIZE -I "$BWE_C2_V4" "$(from_net 4)"
	scrape >"$a"
	m='verdict="drop",reason="block"'
	assert_eq "$(delta "$b" "$a" "bwenforce_packets_total{direction=\"$din\",$m}")" $IN_PINGS "$din block packets"
	assert_eq "$(delta "$b" "$a" "bwenforce_bytes_total{direction=\"$din\",$m}")" $((IN_PINGS * PING_FRAME)) \
		"$din block bytes"
	assert_eq "$(delta "$b" "$a" "bwenforce_packets_total{direction=\"outbound\",$m}")" 0 "outbound block packets"
	assert_eq "$(bwctl --json stats | jq ".directions.$din.block.packets")" \
		"$(value "bwenforce_packets_total{direction=\"$din\",$m}" <"$a")" "bwctl stats --json directions"
}
t_run "drop counters move by exactly the packets and bytes sent, in their direction (block, quarantine)" t_test_traffic

feed_errors() { scrape | value 'bwenforce_feed_errors_total{feed="testfeed"}'; }
t_test_feed_errors() {
	local before
	before=$(feed_errors)
	[[ $before =~ ^[0-9]+$ ]] || { t_fail "no feed_errors_total for testfeed: $before"; return 1; }
	# a version that is all garbage is refused (max_reject) and counted once
	printf 'not an address\nnor this\nnor that\n' >"$DIR/feed.txt"
	wait_for 50 bash -c "[ \"\$(ip netns exec $BWE_NS_GW curl -s $URL/metrics |
		awk '\$1 == \"bwenforce_feed_errors_total{feed=\\\"testfeed\\\"}\" { print \$2 }')\" = $((before + 1)) ]" ||
		t_fail "feed_errors_total did not move from $before to $((before + 1)): $(feed_errors)"
	sleep 1
	assert_eq "$(feed_errors)" $((before + 1)) "feed errors after one bad version"
	assert_eq "$(scrape | value 'bwenforce_blocklist_entries{feed="testfeed",family="ipv4"}')" 1 \
		"the last good version stays in force"
	printf '# a test feed\n203.0.113.99\n' >"$DIR/feed.txt"
}
t_run "feed_errors_total counts a refused feed version once; the last good one stays" t_test_feed_errors

PROM_PORT=19090
t_test_prometheus() {
	local want q r
	assert_ok promtool check config "$DIR/prometheus.yml" || return 1
	want=$(scrape | total bwenforce_packets_total 'verdict="drop",reason="block"')
	[ "$want" -ge $PINGS ] || { t_fail "no block drops to look for ($want)"; return 1; }
	q='sum(bwenforce_packets_total{job="bwenforce",verdict="drop",reason="block"})'
	for _ in $(seq 1 150); do
		r=$(gw curl -sS -m 2 "http://127.0.0.1:$PROM_PORT/api/v1/query" --data-urlencode "query=$q" 2>/dev/null |
			jq -r '.data.result[0].value[1] // empty' 2>/dev/null)
		[ "$r" = "$want" ] && break
		sleep 0.1
	done
	assert_eq "$r" "$want" "PromQL $q"
	r=$(gw curl -sS -m 2 "http://127.0.0.1:$PROM_PORT/api/v1/query" --data-urlencode 'query=up{job="bwenforce"}' |
		jq -r '.data.result[0].value[1]')
	assert_eq "$r" 1 "up"
}
# Prometheus in the gateway namespace, its own directory and port; stopped at exit.
mkdir -p "$DIR/prom"
if gw ss -ltnH "sport = :$PROM_PORT" | grep -q .; then
	t_begin "prometheus port"; t_fail "port $PROM_PORT in use in the namespace"
fi
cat >"$DIR/prometheus.yml" <<EOP
global: { scrape_interval: 1s, evaluation_interval: 1s }
scrape_configs:
  - job_name: bwenforce
    static_configs: [ { targets: [ "127.0.0.1:$PORT" ] } ]
EOP

setsid ip netns exec "$BWE_NS_GW" prometheus --config.file="$DIR/prometheus.yml" \
	--storage.tsdb.path="$DIR/prom" --web.listen-address="127.0.0.1:$PROM_PORT" \
	>"$DIR/prometheus.log" 2>&1 &
PROM_PID=$!
t_atexit "kill $PROM_PID 2>/dev/null; sleep 0.3; kill -9 $PROM_PID 2>/dev/null; true"
t_run "a real Prometheus server scrapes the daemon and PromQL returns the drops" t_test_prometheus

# Every metric the dashboard's PromQL names is in a real scrape, and every
# query (Grafana's variables given values) is valid PromQL to the real server.
t_test_dashboard() {
	local names n e r bad=0
	jq empty "$DASHBOARD" || { t_fail "$DASHBOARD is not JSON"; return 1; }
	scrape >"$DIR/dash-scrape.txt"
	names=$(jq -r '.. | objects | (.expr?, .definition?) // empty' "$DASHBOARD" |
		grep -o 'bwenforce_[a-z_]*' | sort -u)
	[ "$(wc -l <<<"$names")" -ge 20 ] || t_fail "only $(wc -l <<<"$names") metric names in the dashboard"
	for n in $names; do
		grep -q "^# TYPE $n " "$DIR/dash-scrape.txt" || { t_fail "dashboard metric $n is not in a scrape"; bad=1; }
	done
	# the test feed gives the feed families samples
	[ "$(value 'bwenforce_feed_last_success_timestamp_seconds{feed="testfeed"}' <"$DIR/dash-scrape.txt")" -gt 0 ] ||
		t_fail "testfeed has no last success"
	assert_eq "$(value 'bwenforce_blocklist_entries{feed="testfeed",family="ipv4"}' <"$DIR/dash-scrape.txt")" 1 "testfeed entries"
	while IFS= read -r e; do
		e=${e//\$__rate_interval/1m}; e=${e//\$__range/1h}; e=${e//\$instance/.*}
		r=$(gw curl -sS -m 3 "http://127.0.0.1:$PROM_PORT/api/v1/query" --data-urlencode "query=$e" | jq -r .status)
		[ "$r" = success ] || { t_fail "PromQL refused by Prometheus: $e"; bad=1; }
	done < <(jq -r '.. | objects | .expr? // empty' "$DASHBOARD")
	echo "$(wc -l <<<"$names") metric names, all in the scrape; every query valid"
	# its keep-alive connection would count against max_clients below
	kill "$PROM_PID"
	return $bad
}
t_run "the Grafana dashboard's metrics exist in a real scrape and its PromQL is valid" t_test_dashboard

# IDLE CLIENT: connects and sends nothing; prints the seconds until the
# daemon closed it. TRICKLE: one byte of a request line a second.
idle_client() { # OUT_FILE [ADDRESS]
	gw timeout 20 bash -c "exec 3<>/dev/tcp/${2:-127.0.0.1}/$PORT || exit 1; s=\$EPOCHREALTIME; cat <&3 >/dev/null; echo \$EPOCHREALTIME \$s" >"$1" 2>&1 &
}
trickle_client() {
	gw timeout 8 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT || exit 1; for c in G E T ' ' / m; do printf %s \"\$c\" >&3 || exit 0; sleep 1; done" >/dev/null 2>&1 &
}
# Wait until the clients of an earlier test are gone (timeout: 3s): the
# scrape asking is the only connection.
alone() { [ "$(gw curl -s -m 1 "$URL/metrics" | value bwenforce_http_clients)" = 1 ]; }
wait_alone() { wait_for 150 alone || t_fail "the earlier test's clients did not go"; }
# Wait until N connections are open (the daemon's own gauge, over a scrape).
clients_at_least() { [ "$(scrape | value bwenforce_http_clients)" -ge "$1" ]; }

t_test_slow_clients() {
	local t0 t1 ms i
	for i in 1 2 3 4; do idle_client "$DIR/idle.$i"; done
	trickle_client
	wait_for 30 clients_at_least 6 || { t_fail "the slow clients never connected"; return 1; }
	t0=$EPOCHREALTIME
	assert_ok bwctl status
	t1=$EPOCHREALTIME
	ms=$(( (${t1/./} - ${t0/./}) / 1000 ))
	[ "$ms" -lt 1000 ] || t_fail "bwctl status took $ms ms beside 5 slow HTTP clients"
	t=$(gw curl -sS -m 5 -o /dev/null -w '%{time_total}' "$URL/metrics")
	awk -v t="$t" 'BEGIN { exit !(t < 1.0) }' || t_fail "GET /metrics took $t s beside 5 slow clients"
	# and the loop does not spin for them: CPU time over 2 s with them open
	local pid c0 c1
	pid=$(daemon_pid)
	c0=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
	sleep 2
	c1=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
	[ $((c1 - c0)) -lt 20 ] || t_fail "bwctld used $((c1 - c0)) ticks of CPU in 2 s beside slow clients"
	echo "bwctl status ${ms} ms, /metrics ${t} s with 5 slow clients open; bwctld CPU $((c1 - c0)) ticks in 2 s"
}
t_run "idle and one-byte-a-second clients stall neither bwctl status nor another scrape" t_test_slow_clients

t_test_limit_timeout() {
	local i rc secs t0 t1
	# the slow clients of the previous test are gone (timeout: 3s; the trickle ends after 6 s)
	wait_alone || return 1
	# four from 127.0.0.1 and four from ::1: under max_clients_per_address (6)
	for i in 1 2 3 4; do idle_client "$DIR/lim.$i"; done
	for i in 5 6 7; do idle_client "$DIR/lim.$i" ::1; done
	wait_for 30 clients_at_least 8 || { t_fail "the idle clients never connected"; return 1; }
	idle_client "$DIR/lim.8" ::1
	sleep 0.5
	# max_clients: 8 over both addresses; the ninth is closed at accept, at once
	t0=$EPOCHREALTIME
	gw curl -sS -m 3 -o /dev/null -g "http://[::1]:$PORT/metrics" 2>/dev/null; rc=$?
	t1=$EPOCHREALTIME
	[ $rc -ne 0 ] || t_fail "a ninth connection was served (max_clients: 8)"
	[ $(( (${t1/./} - ${t0/./}) / 1000 )) -lt 1000 ] || t_fail "the ninth waited instead of being refused"
	# timeout: 3s of idleness closes them; then a scrape works again
	wait_for 60 bash -c "ip netns exec $BWE_NS_GW curl -sf -m 1 -o /dev/null $URL/metrics" ||
		t_fail "no scrape served after the idle clients' timeout"
	sleep 1
	for i in 1 2 3 4 5 6 7 8; do
		read -r t1 t0 <"$DIR/lim.$i" || { t_fail "idle client $i: no result"; continue; }
		secs=$(awk -v a="$t1" -v b="$t0" 'BEGIN { printf "%.1f", a - b }')
		awk -v s="$secs" 'BEGIN { exit !(s >= 2.5 && s <= 5.5) }' ||
			t_fail "idle client $i closed after $secs s, not after timeout: 3s"
	done
	echo "ninth connection refused (curl exit $rc); idle clients closed after $secs s (timeout: 3s)"
}
t_run "max_clients refuses the connection over the limit; idle ones close after timeout" t_test_limit_timeout

t_test_per_address() {
	local i rc t0 t1
	wait_alone || return 1
	for i in 1 2 3 4 5; do idle_client "$DIR/per.$i"; done
	wait_for 30 clients_at_least 6 || { t_fail "the idle clients never connected"; return 1; }
	idle_client "$DIR/per.6"
	sleep 0.5
	# a seventh from 127.0.0.1 is closed at accept; ::1 is another address
	t0=$EPOCHREALTIME
	gw curl -sS -m 3 -o /dev/null "$URL/metrics" 2>/dev/null; rc=$?
	t1=$EPOCHREALTIME
	[ $rc -ne 0 ] || t_fail "a seventh connection from 127.0.0.1 was served (max_clients_per_address: 6)"
	[ $(( (${t1/./} - ${t0/./}) / 1000 )) -lt 1000 ] || t_fail "the seventh waited instead of being refused"
	assert_ok gw curl -sf -m 3 -g -o /dev/null "http://[::1]:$PORT/metrics"
}
t_run "max_clients_per_address: one address cannot take every slot" t_test_per_address

t_test_oversized() {
	wait_alone || return 1
	head -c 5000 /dev/zero | tr '\0' x >"$DIR/big"
	get /v1/quarantines/198.18.0.10 -X PUT -H 'Content-Type: application/json' --data-binary @"$DIR/big" >/dev/null
	assert_eq "$(cat "$DIR/status")" "413 application/problem+json" "Content-Length over max_body"
	assert_eq "$(jq -r .detail "$DIR/body")" "a request body may have at most 4096 bytes" "detail"
	get /v1/quarantines/198.18.0.10 -X PUT -H 'Transfer-Encoding: chunked' --data-binary @"$DIR/big" >/dev/null
	assert_eq "$(cat "$DIR/status")" "413 application/problem+json" "a chunked body over max_body"
	head -c 40000 /dev/zero | tr '\0' y >"$DIR/hdr"
	get /metrics -H "X-Big: $(cat "$DIR/hdr")" >/dev/null
	[[ $(cut -d' ' -f1 "$DIR/status") =~ ^(413|414|431)$ ]] || t_fail "a 40 KB header: $(cat "$DIR/status")"
	get /metrics >/dev/null
	assert_eq "$(cut -d' ' -f1 "$DIR/status")" 200 "served after the refusals"
	assert_ok bwctl status
}
t_run "oversized bodies (413) and headers are refused; the daemon serves on" t_test_oversized

# A throwaway CA and a server certificate for the loopback and LAN addresses.
make_certs() {
	local d=$DIR/tls
	mkdir -p "$d" && cd "$d" || return 1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key \
		-out ca.pem -days 2 -subj /CN=bwe-test-ca 2>/dev/null &&
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout srv.key \
		-out srv.csr -subj /CN=bwctld 2>/dev/null &&
	printf 'subjectAltName=IP:127.0.0.1,IP:::1,IP:%s\nextendedKeyUsage=serverAuth\n' \
		"$BWE_GW_LAN_V4" >ext.cnf &&
	openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem \
		-days 2 -extfile ext.cnf 2>/dev/null
	chmod 0600 srv.key
	cd - >/dev/null
}

t_test_tls() {
	local d=$DIR/tls out rc
	make_certs || { t_fail "openssl could not make the certificates"; return 1; }
	write_config "http:
  listen: [ \"127.0.0.1:$PORT\", \"$BWE_GW_LAN_V4:$PORT\" ]
  tls: { cert: $d/srv.pem, key: $d/missing.key }"
	out=$("$BWCTLD" -n -c "$CFG" 2>&1); rc=$?
	[ $rc -ne 0 ] && [[ $out == *"http.tls.key: cannot read $d/missing.key"* ]] || t_fail "a missing key: rc $rc: $out"
	write_config "http:
  listen: [ \"127.0.0.1:$PORT\", \"$BWE_GW_LAN_V4:$PORT\" ]
  tls: { cert: $d/live.pem, key: $d/srv.key }"
	ln -s srv.pem "$d/live.pem" # as certbot's live/ directory does
	assert_eq "$("$BWCTLD" -n -c "$CFG" 2>&1)" "configuration OK" "bwctld -n with TLS" || return 1
	hup_daemon
	wait_for 50 gw curl -sf -m 1 -o /dev/null --cacert "$d/ca.pem" "https://127.0.0.1:$PORT/metrics" ||
		{ t_fail "no TLS listener after SIGHUP: $(tail -3 "$DIR/bwctld.log")"; return 1; }
	# a client on the LAN, over TLS, verified against the test CA
	lan curl -sS -m 5 --cacert "$d/ca.pem" -o "$DIR/tls-scrape.txt" -w '%{http_code}' \
		"https://$BWE_GW_LAN_V4:$PORT/metrics" >"$DIR/status"
	assert_eq "$(cat "$DIR/status")" 200 "GET https://$BWE_GW_LAN_V4:$PORT/metrics from the LAN"
	assert_ok promtool check metrics <"$DIR/tls-scrape.txt"
	# no certificate check without the CA; no plain HTTP on the TLS port; [::1] gone
	gw curl -sS -m 3 -o /dev/null "https://127.0.0.1:$PORT/metrics" 2>/dev/null; rc=$?
	assert_eq "$rc" 60 "curl without the CA (certificate not trusted)"
	out=$(gw curl -s -m 3 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/metrics")
	[ "$out" != 200 ] || t_fail "plain HTTP answered on the TLS listener"
	assert_fail gw curl -sf -m 2 -g -o /dev/null "http://[::1]:$PORT/metrics"
}
t_run "TLS after SIGHUP: a LAN client verifies the certificate; no plain HTTP; bad key refused" t_test_tls

t_test_metrics_auth() {
	local rd ct hdr
	rd=$(bwctl --json token add scraper --scopes read | jq -r .token)
	ct=$(bwctl --json token add soar --scopes contain | jq -r .token)
	[[ $rd == bwe_* && $ct == bwe_* ]] || { t_fail "token add: '$rd' '$ct'"; return 1; }
	write_config "$HTTP_YAML
  metrics_auth: true"
	hup_daemon
	wait_for 50 eval '[ "$(gw curl -s -m 1 -o /dev/null -w "%{http_code}" "$URL/metrics")" = 401 ]' ||
		{ t_fail "metrics_auth not in force after SIGHUP: $(tail -3 "$DIR/bwctld.log")"; return 1; }
	hdr=$(gw curl -sS -m 5 -D - -o /dev/null "$URL/metrics" | tr -d '\r')
	assert_ok grep -qi '^WWW-Authenticate: Bearer' <<<"$hdr"
	get /metrics -H "Authorization: Bearer $ct" >/dev/null
	assert_eq "$(cat "$DIR/status")" "403 application/problem+json" "a token without the read scope"
	get /metrics -H "Authorization: Bearer ${rd}x" >/dev/null
	assert_eq "$(cut -d' ' -f1 "$DIR/status")" 401 "a wrong token"
	get /metrics -H "Authorization: Bearer $rd" | promtool check metrics ||
		t_fail "the read token's scrape is not valid Prometheus text"
	assert_eq "$(cut -d' ' -f1 "$DIR/status")" 200 "a read token"
}
t_run "metrics_auth: 401 without a token, 403 without the read scope, 200 with it" t_test_metrics_auth

t_summary
