#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# e2e_scope.sh - the analyst's wider view with real traffic, on a fast
# policy (1 s interval, 12 s learning):
#  - a LAN host contacting an address of a proxyware feed (signal:
#    proxyware, action: monitor) raises proxyware, not blocklist, and
#    still reaches it; the report says so;
#  - a host contacting a proxyware endpoint and the C2 at once raises both;
#  - three LAN hosts contact one C2 address, a fourth only a normal site:
#    `bwctl scope` of one lists the other two with the shared peer, never
#    the fourth; scope of the C2 address lists the three; the report's
#    section names them; bad input is refused; a restarted daemon reads
#    the contacts back from the event log;
#  - an expected activity in its window (the host's upload to its listed
#    peer and port) is discounted and shown as such; one outside its
#    window is shown outside; a host uploading above its activity's
#    max_rate is judged on the excess (an alert rule: a throttle would
#    bind to the MAC address the test's hosts share).
. "$(dirname "$0")/lib.sh"
t_require_root
. "$(dirname "$0")/lib_bwe.sh"
T_TIMEOUT=${T_TIMEOUT:-90}
bwe_testbed_up scope

H3=198.18.0.13 # a third host, on lan's link
H4=198.18.0.14 # the fourth, which never contacts the C2
H5=198.18.0.15 # uploads above its expected activity's max_rate
H6=198.18.0.16 # contacts a proxyware endpoint and the C2 at once
lan ip addr add "$H3/24" dev eth0
lan ip addr add "$H6/24" dev eth0
lan2 ip addr add "$H4/24" dev eth0
lan2 ip addr add "$H5/24" dev eth0
mkdir -p "$DIR/feeds"
printf '%s\n' "$BWE_C2_V4" >"$DIR/feeds/c2.txt"
printf '# proxyware endpoints (test)\n%s\n' "$BWE_RELAY_V4" >"$DIR/feeds/pw.txt"
net iperf3 -s -D -B "$BWE_SITE_V4" -p 5202 --pidfile "$DIR/iperf2.pid" >/dev/null 2>&1
net iperf3 -s -D -B "$BWE_SITE_V4" -p 5203 --pidfile "$DIR/iperf3.pid" >/dev/null 2>&1
t_atexit "kill \$(cat $DIR/iperf2.pid $DIR/iperf3.pid 2>/dev/null) 2>/dev/null; true"

# a daily window that is not now: two hours from now, for one hour
OFF=$(( ($(date -u +%-H) + 2) % 24 ))
OFF_END=$(( (OFF + 1) % 24 ))
OFF_WIN=$(printf 'daily %02d:00-%02d:00' "$OFF" "$OFF_END")

write_config "feeds:
  - { name: c2, source: $DIR/feeds/c2.txt, format: plain }
  - { name: pw, source: $DIR/feeds/pw.txt, format: plain, action: monitor, signal: proxyware }
policy:
  interval: 1s
  learning_period: 12s
  windows: [ 10s, 30s ]
  signals:
    spike: { window: 10s, z: 4.0, min_rate: 400kbit, sustain: 3, min_sd_share: 0.2, min_sd_rate: 20kbit }
    blocklist: { min_hits: 1, window: 1m }
    proxyware: { min_hits: 1, window: 1m }
  rules:
    - { name: upload-alert, signals: [ spike ], action: alert, cooldown: 5s }
    - { name: blocklist-alert, signals: [ blocklist ], action: alert }
    - { name: proxyware-alert, signals: [ proxyware ], action: alert }
  expected:
    - { name: site-backup, hosts: [ $BWE_LAN2_V4 ], peers: [ $BWE_SITE_V4 ], ports: [ 5202 ],
        schedule: \"daily 00:00-24:00\", max_rate: 100mbit }
    - { name: nightly-sync, hosts: [ $BWE_LAN2_V4 ], peers: [ $BWE_SITE_V4 ],
        schedule: \"$OFF_WIN\", max_rate: 10mbit }
    - { name: small-backup, hosts: [ $H5 ], peers: [ $BWE_SITE_V4 ], ports: [ 5203 ],
        schedule: \"daily 00:00-24:00\", max_rate: 1mbit }"
assert_ok "$BWCTLD" -n -c "$CFG" >/dev/null || { t_begin config; t_fail "bwctld -n: $("$BWCTLD" -n -c "$CFG" 2>&1)"; }
if ! start_daemon; then t_begin "daemon"; t_fail "bwctld did not start"; t_summary; exit 1; fi
wait_for 50 field_is pw entries 1 || { t_begin feeds; t_fail "the proxyware feed did not load"; }
wait_for 50 field_is c2 entries 1 || { t_begin feeds; t_fail "the c2 feed did not load"; }
field_is pw signal proxyware && field_is c2 signal blocklist || { t_begin feeds; t_fail "bwctl feeds: signal"; }

# small normal traffic for the hosts whose baselines matter, to the site only
noise() { # NS-FUNC SRC SECONDS
	local end=$(( $(date +%s) + $3 ))
	while [ "$(date +%s)" -lt "$end" ]; do
		"$1" ping -c 4 -i 0.2 -s $(( 200 + RANDOM % 800 )) -I "$2" -q "$BWE_SITE_V4" >/dev/null 2>&1
	done
}
noise lan "$BWE_LAN_V4" 80 & N0=$!
noise lan2 "$BWE_LAN2_V4" 80 & N1=$!
noise lan2 "$H5" 80 & N2=$!
t_atexit "kill $N0 $N1 $N2 2>/dev/null; true"
sleep 3 # every host known to the detector before it does anything of note

ev_for() { # ACTION HOST: matching lines of the event log
	grep "\"action\":\"$1\"" "$LOG" | grep "\"ip\":\"$2\""
}
rule_alert() { # RULE HOST
	ev_for detection-alert "$2" | grep -q "\"name\":\"$1\""
}
WAIT_STEP=0.5

t_test_proxyware() {
	assert_ok lan ping -c 3 -i 0.3 -W 1 -q "$BWE_RELAY_V4" # monitor: it passes
	wait_for 20 rule_alert proxyware-alert "$BWE_LAN_V4" || t_fail "no proxyware alert"
	ev_for detection-alert "$BWE_LAN_V4" | grep '"proxyware-alert"' | tail -1 |
		jq -e --arg r "$BWE_RELAY_V4" '[.bwenforce.evidence[].signal] == ["proxyware"] and
			.bwenforce.contacts[0].peer == $r and .bwenforce.contacts[0].feed == "pw" and
			.bwenforce.contacts[0].signal == "proxyware" and .bwenforce.contacts[0].entry == $r' \
			>/dev/null ||
		t_fail "evidence: $(ev_for detection-alert "$BWE_LAN_V4" | tail -1)"
	sleep 2
	rule_alert blocklist-alert "$BWE_LAN_V4" && t_fail "a proxyware contact raised blocklist"
	ev_for blocklist-hit "$BWE_LAN_V4" | tail -1 | jq -e '.threat.feed.name == "pw"' >/dev/null ||
		t_fail "the hit event lacks the feed's provenance"
	local r; r=$(bwctl --json report "$BWE_LAN_V4")
	assert_eq "$(jq -r '.questions."2_malicious_contacts".answer' <<<"$r")" no "q2: not a malicious contact"
	assert_eq "$(jq -r '.questions."2_malicious_contacts".indicators[0].signal' <<<"$r")" proxyware "hit signal"
	assert_eq "$(jq -r '.questions."3_botnet_or_proxyjacking".proxyware_contact' <<<"$r")" true "q3"
	assert_eq "$(jq -r '.questions."3_botnet_or_proxyjacking".answer' <<<"$r")" yes "q3 answer"
}
t_run "a proxyware feed's address raises proxyware, not blocklist" t_test_proxyware

t_test_both() {
	lan ping -c 2 -W 1 -q -I "$H6" "$BWE_SITE_V4" >/dev/null 2>&1
	sleep 2 # known to the detector before its contacts
	lan ping -c 4 -i 0.3 -W 1 -q -I "$H6" "$BWE_RELAY_V4" >/dev/null 2>&1 &
	lan ping -c 4 -i 0.3 -W 1 -q -I "$H6" "$BWE_C2_V4" >/dev/null 2>&1
	wait
	wait_for 20 rule_alert blocklist-alert "$H6" || t_fail "the C2 contact raised no blocklist alert"
	wait_for 20 rule_alert proxyware-alert "$H6" || t_fail "the proxyware contact raised no alert"
	# each alert names the contacts behind its own signal
	ev_for detection-alert "$H6" | grep '"blocklist-alert"' | tail -1 |
		jq -e --arg c "$BWE_C2_V4" '[.bwenforce.contacts[].peer] == [$c]' >/dev/null ||
		t_fail "blocklist alert's contacts: $(ev_for detection-alert "$H6" | tail -2)"
}
t_run "a proxyware and a C2 contact together raise both signals" t_test_both


t_test_expected() {
	sleep 4 # baselines of the noise learnt (learning_period 12s from start)
	lan2 iperf3 -c "$BWE_SITE_V4" -p 5202 -B "$BWE_LAN2_V4" -t 12 -b 20M >"$DIR/exp-iperf.txt" 2>&1 &
	local up=$!
	h5_up() { lan2 iperf3 -c "$BWE_SITE_V4" -p 5203 -B "$H5" -t 20 -b 20M >"$DIR/exp5-iperf.txt" 2>&1; }
	h5_up & local up5=$!
	sleep 8
	local r; r=$(bwctl --json report "$BWE_LAN2_V4")
	assert_eq "$(jq -r '.expected_activity[] | select(.name == "site-backup") | .in_window' <<<"$r")" true "in window"
	assert_eq "$(jq -r '.expected_activity[] | select(.name == "site-backup") | .discounted' <<<"$r")" true \
		"discounted: $(jq -c .expected_activity <<<"$r")"
	assert_eq "$(jq -r '.expected_activity[] | select(.name == "nightly-sync") | .in_window' <<<"$r")" false "outside"
	jq -e '.questions."1_outbound_increase".expected_bps > 100000' <<<"$r" >/dev/null ||
		t_fail "discount: $(jq -c '.questions."1_outbound_increase"' <<<"$r")"
	wait_for 30 rule_alert upload-alert "$H5" || t_fail "$H5 above its max_rate raised no spike"
	ev_for detection-alert "$H5" | grep '"upload-alert"' | tail -1 |
		jq -e '.bwenforce.expected[0].name == "small-backup" and .bwenforce.expected[0].in_window' \
		>/dev/null || t_fail "the alert does not name the activity: $(ev_for detection-alert "$H5" | tail -1)"
	wait $up 2>/dev/null
	rule_alert upload-alert "$BWE_LAN2_V4" &&
		t_fail "the expected activity spiked: $(ev_for detection-alert "$BWE_LAN2_V4" | head -1)"
	kill $up5 2>/dev/null; wait $up5 2>/dev/null
	true
}
t_run "expected activity: discounted in its window, the excess over max_rate is not" t_test_expected

t_test_scope() {
	lan ping -c 2 -W 1 -q "$BWE_C2_V4" >/dev/null 2>&1
	lan2 ping -c 2 -W 1 -q "$BWE_C2_V4" >/dev/null 2>&1
	lan ping -c 2 -W 1 -q -I "$H3" "$BWE_C2_V4" >/dev/null 2>&1
	lan2 ping -c 2 -W 1 -q -I "$H4" "$BWE_SITE_V4" >/dev/null 2>&1
	wait_for 20 rule_alert blocklist-alert "$H3" || t_fail "no blocklist alert for $H3"
	local s; s=$(bwctl --json scope "$BWE_LAN_V4")
	assert_eq "$(jq -r .kind <<<"$s")" host "kind"
	# the other two, and $H6 (which contacted the C2 too), never $H4
	assert_eq "$(jq -r '[.hosts[].host] | sort | join(" ")' <<<"$s")" "$BWE_LAN2_V4 $H3 $H6" "hosts: $s"
	jq -e --arg c "$BWE_C2_V4" '[.hosts[] | any(.peers_in_common[]; .peer == $c)] | all' <<<"$s" \
		>/dev/null || t_fail "shared peer: $s"
	# $H6 shares both of its listed peers (the proxyware relay too): first
	jq -e --arg h "$H6" '.hosts[0].host == $h and .hosts[0].rank == 1 and
		(.hosts[0].peers_in_common | length) == 2 and
		(.hosts[0].signals_in_common | index("blocklist") != null) and
		(.hosts[1].peers_in_common | length) == 1' <<<"$s" >/dev/null || t_fail "ranking: $s"
	jq -e --arg c "$BWE_C2_V4" '[.peers[].peer] | index($c) != null' <<<"$s" >/dev/null ||
		t_fail "the host's own listed peers: $s"
	# the text table says the same
	local txt; txt=$(bwctl scope "$BWE_LAN_V4")
	grep -q "$H3" <<<"$txt" && grep -q "$BWE_C2_V4 (c2" <<<"$txt" || t_fail "text: $txt"
	grep -q "$H4" <<<"$txt" && t_fail "text lists $H4: $txt"
	# the C2 address: the three hosts that contacted it
	s=$(bwctl --json scope "$BWE_C2_V4" --since 10m)
	assert_eq "$(jq -r .kind <<<"$s")" address "address kind"
	assert_eq "$(jq -r '[.hosts[].host] | sort | join(" ")' <<<"$s")" "$BWE_LAN_V4 $BWE_LAN2_V4 $H3 $H6" \
		"C2's hosts"
	assert_eq "$(jq -r .window_s <<<"$s")" 600 "--since"
	# the report's section
	local r; r=$(bwctl --json report "$BWE_LAN2_V4")
	assert_eq "$(jq -r '[.other_hosts_same_peers.hosts[].host] | sort | join(" ")' <<<"$r")" \
		"$BWE_LAN_V4 $H3 $H6" "report section"
	# bad input: a clear error, nothing else
	assert_fail bwctl scope "$BWE_LAN_V4" --since 0
	bwctl scope "$BWE_LAN_V4" --since 45d 2>&1 | grep -q -- "--since" || t_fail "no message for --since 45d"
	assert_fail bwctl scope "not an address!"
	assert_fail bwctl scope
	# a restarted daemon reads the contacts back from the event log
	stop_daemon TERM
	start_daemon || { t_fail "bwctld did not restart"; return; }
	s=$(bwctl --json scope "$BWE_C2_V4")
	assert_eq "$(jq -r '[.hosts[].host] | sort | join(" ")' <<<"$s")" \
		"$BWE_LAN_V4 $BWE_LAN2_V4 $H3 $H6" "C2's hosts after a restart"
	jq -e '.coverage.from_event_log >= 4' <<<"$s" >/dev/null || t_fail "coverage: $(jq -c .coverage <<<"$s")"
}
t_run "bwctl scope: three hosts contact one C2, a fourth does not" t_test_scope

t_summary
