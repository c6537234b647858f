#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# e2e_relaybeacon.sh - the relay and beacon signals with real traffic, on a
# fast policy (1 s interval, 20 s sketch window, beacons every 2 s):
#  - a relaying LAN host (lan, $BWE_LAN_V4) keeps a connection open to one
#    "super-proxy" on the internet side, fetches from 40 site addresses and
#    hands every byte to the super-proxy: relay, concentrated outbound;
#  - a beaconing host (lan2, $BWE_LAN2_V4) opens a new connection to one
#    peer every 2 s: beacon, with that peer in the evidence;
#  - a flooding host (a second address of lan) sends 4 kpps of 200-byte
#    UDP datagrams to one target that never answers: flood;
#  - a normal host (a second address of lan2) browses the same 40 sites at
#    random moments and raises none.
# Each raises the alert of the behaviour-alert rule with its evidence,
# and `bwctl report` shows the signal in its signals section.
. "$(dirname "$0")/lib.sh"
t_require_root
. "$(dirname "$0")/lib_bwe.sh"
T_TIMEOUT=${T_TIMEOUT:-120}
bwe_testbed_up rb

SITES=40
SITE0=100                 # sites 203.0.113.100 .. .139
SUPER_V4=198.51.100.50    # the super-proxy
BEACON_V4=203.0.113.90    # the beacon's peer (no feed lists it)
NORMAL_V4=198.18.0.13     # the normal host, a second address of lan2
FLOOD_V4=198.18.0.14      # the flooding host, a second address of lan
TARGET_V4=203.0.113.91    # the flood's target (nothing answers)
INJECT=$ROOT/build/tools/inject
RUN_S=70                  # every traffic loop stops by itself after this
NORMAL_S=45               # seconds of browsing before the normal host is judged

net_if=eth0
for i in $(seq 0 $((SITES - 1))); do
	net ip addr add "203.0.113.$((SITE0 + i))/24" dev $net_if
done
net ip addr add "$SUPER_V4/24" dev $net_if
net ip addr add "$BEACON_V4/24" dev $net_if
lan2 ip addr add "$NORMAL_V4/24" dev eth0
lan ip addr add "$FLOOD_V4/24" dev eth0

# the sites: 64 KiB to whoever connects; the super-proxy: a request line
# every 0.5 s down the relay's connection, and a sink for what comes back;
# the beacon's peer: one line
net socat TCP-LISTEN:8080,fork,reuseaddr SYSTEM:'head -c 65536 /dev/zero' >/dev/null 2>&1 &
SITE_PID=$!
net socat TCP-LISTEN:9000,bind=$SUPER_V4,fork,reuseaddr \
	SYSTEM:'(while sleep 0.5; do echo GET; done) & cat >/dev/null; kill $!' >/dev/null 2>&1 &
SUPER_PID=$!
net socat TCP-LISTEN:8443,bind=$BEACON_V4,fork,reuseaddr SYSTEM:'echo ok' >/dev/null 2>&1 &
C2_PID=$!
t_atexit "kill $SITE_PID $SUPER_PID $C2_PID 2>/dev/null; true"

write_config "policy:
  interval: 1s
  learning_period: 5s
  windows: [ 10s ]
  signals:
    spike: { window: 10s }
    fanout: { peers: 200, ports: 100, window: 20s }
    relay: { concentration: 0.6, top_peers: 3, spread_peers: 10, balance: 2.0, overlap: 0.5, min_bytes: 1M }
    beacon: { min_intervals: 8, max_jitter: 0.1, min_period: 1s, max_period: 1m, burst_ms: 300, sample: 1 }
  rules:
    - { name: behaviour-alert, signals: [ relay, beacon, flood ], min_signals: 1, action: alert, cooldown: 1m }"
assert_ok "$BWCTLD" -n -c "$CFG" >/dev/null || { t_begin config; t_fail "bwctld -n: $("$BWCTLD" -n -c "$CFG" 2>&1)"; }
if ! start_daemon; then t_begin "daemon"; t_fail "bwctld did not start"; t_summary; exit 1; fi

# The relay: one connection to the super-proxy (fd 3), each site's bytes
# written down it, about 10 fetches a second.
relay() {
	lan bash -c '
		exec 3<>/dev/tcp/'"$SUPER_V4"'/9000 || exit 1
		end=$((SECONDS + '"$RUN_S"'))
		while [ $SECONDS -lt $end ]; do
			site=203.0.113.$(('"$SITE0"' + RANDOM % '"$SITES"'))
			socat -u TCP:$site:8080,connect-timeout=1 - >&3 2>/dev/null
			sleep 0.1
		done' >/dev/null 2>&1
}
# The beacon: a new connection to one peer every 2 s.
beacon() {
	local end=$(( $(date +%s) + RUN_S ))
	while [ "$(date +%s)" -lt "$end" ]; do
		lan2 socat -u TCP:$BEACON_V4:8443,bind=$BWE_LAN2_V4,connect-timeout=1 - \
			>/dev/null 2>&1
		sleep 2
	done
}
# Browsing: the same sites at random moments, nothing handed on.
browse() {
	local end=$(( $(date +%s) + RUN_S ))
	while [ "$(date +%s)" -lt "$end" ]; do
		lan2 socat -u TCP:203.0.113.$((SITE0 + RANDOM % SITES)):8080,bind=$NORMAL_V4,connect-timeout=1 - \
			>/dev/null 2>&1
		sleep "0.$((RANDOM % 10))$((RANDOM % 10))"
		[ $((RANDOM % 4)) -eq 0 ] && sleep $((RANDOM % 3))
	done
}
# The flood: crafted frames straight onto the LAN, 4 kpps for at most 20 s.
flood() {
	lan "$INJECT" -i eth0 --dmac "$BWE_GW_LAN_MAC" --smac "$BWE_LAN_MAC" --src "$FLOOD_V4" \
		--dst "$TARGET_V4" --proto udp --sport 40000 --dport 27015 --payload 150 \
		--count 80000 --interval-us 250 >/dev/null 2>&1
}
START=$(date +%s)
relay & RELAY_PID=$!
beacon & BEACON_PID=$!
browse & BROWSE_PID=$!
flood & FLOOD_PID=$!
t_atexit "kill $RELAY_PID $BEACON_PID $BROWSE_PID $FLOOD_PID 2>/dev/null; true"

ev_for() { # ACTION HOST: matching lines of the event log
	grep "\"action\":\"$1\"" "$LOG" | grep "\"ip\":\"$2\""
}
WAIT_STEP=1
alert_with() { # HOST SIGNAL: a detection alert with that signal's evidence
	ev_for detection-alert "$1" | grep -q "\"signal\":\"$2\""
}

t_test_relay() {
	wait_for 60 alert_with "$BWE_LAN_V4" relay || t_fail "no relay alert for the relaying host"
	local a r; a=$(ev_for detection-alert "$BWE_LAN_V4" | grep '"signal":"relay"' | head -1)
	jq -e '.rule.name == "behaviour-alert"' <<<"$a" >/dev/null || t_fail "rule: $a"
	jq -e '.bwenforce.relay.concentrated_direction == "outbound"' <<<"$a" >/dev/null ||
		t_fail "direction: $a"
	jq -e '.bwenforce.relay.concentration >= 0.6 and .bwenforce.relay.spread_peers >= 10' \
		<<<"$a" >/dev/null || t_fail "relay detail: $a"
	r=$(bwctl --json report "$BWE_LAN_V4")
	jq -e '.signals.relay.unit == "share" and .signals.relay.threshold == 0.6' <<<"$r" >/dev/null ||
		t_fail "report signals: $(jq -c .signals.relay <<<"$r")"
	assert_eq "$(jq -r '.questions."3_botnet_or_proxyjacking".relay' <<<"$r")" true "report q3 relay"
}
t_run "a relaying host raises relay, concentrated outbound" t_test_relay

t_test_beacon() {
	wait_for 60 alert_with "$BWE_LAN2_V4" beacon || t_fail "no beacon alert for the beaconing host"
	local a; a=$(ev_for detection-alert "$BWE_LAN2_V4" | grep '"signal":"beacon"' | head -1)
	jq -e --arg p "$BEACON_V4" '.bwenforce.beacon.peer == $p and .bwenforce.beacon.port == 8443' \
		<<<"$a" >/dev/null || t_fail "beacon peer: $a"
	jq -e '.bwenforce.beacon.period_s > 1.5 and .bwenforce.beacon.period_s < 3.5' \
		<<<"$a" >/dev/null || t_fail "beacon period: $a"
	bwctl --json report "$BWE_LAN2_V4" | jq -e '.signals.beacon_detail.peer' >/dev/null ||
		t_fail "report lacks the beacon detail"
	ev_for detection-alert "$BWE_LAN2_V4" | grep -q '"signal":"relay"' &&
		t_fail "the beaconing host raised relay"
	true
}
t_run "a beaconing host raises beacon, with its peer and period" t_test_beacon

t_test_flood() {
	wait_for 40 alert_with "$FLOOD_V4" flood || t_fail "no flood alert for the flooding host"
	local a; a=$(ev_for detection-alert "$FLOOD_V4" | grep '"signal":"flood"' | head -1)
	jq -e '.rule.name == "behaviour-alert"' <<<"$a" >/dev/null || t_fail "rule: $a"
	jq -e '[.bwenforce.evidence[] | select(.signal == "flood")][0] |
		.value >= 1000 and .threshold == 1000 and .unit == "pps"' <<<"$a" >/dev/null ||
		t_fail "flood evidence: $a"
	jq -e '[.bwenforce.shapes[] | select(.shape == "botnet") | .reasons[] |
		select(startswith("flooding"))] | length == 1' <<<"$a" >/dev/null ||
		t_fail "botnet shape lacks the flooding reason: $a"
	local h
	for h in "$BWE_LAN_V4" "$BWE_LAN2_V4"; do
		ev_for detection-alert "$h" | grep -q '"signal":"flood"' && t_fail "$h raised flood"
	done
	true
}
t_run "a flooding host raises flood; the relay and the beacon do not" t_test_flood

t_test_normal() {
	# at least NORMAL_S of browsing (the relay and the beacon took less)
	while [ $(( $(date +%s) - START )) -lt "$NORMAL_S" ]; do sleep 1; done
	local n; n=$(bwctl --json report "$NORMAL_V4")
	jq -e '.signals != null and .traffic.rx_bytes > 1000000' <<<"$n" >/dev/null ||
		t_fail "the normal host was not evaluated or did not browse: $(jq -c .traffic <<<"$n")"
	[ -z "$(ev_for detection-alert "$NORMAL_V4")" ] ||
		t_fail "the normal host raised: $(ev_for detection-alert "$NORMAL_V4" | head -1)"
	ev_for detection-alert "$BWE_LAN_V4" | grep -q '"signal":"beacon"' &&
		t_fail "the relaying host raised beacon"
	true
}
t_run "a browsing host raises none" t_test_normal

t_summary
