#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# e2e_detect.sh - detection and escalation with real traffic, on a fast
# policy (1 s interval, 12 s learning): a LAN host with a learnt baseline
# starts a sustained upload and then contacts a feed address -> throttled,
# then quarantined (two corroborating signals), with the evidence in the
# event log; management access still works; the quarantine ends with its
# TTL. A host with noisy normal traffic is never acted on; a never_quarantine
# host is only alerted on.
. "$(dirname "$0")/lib.sh"
t_require_root
. "$(dirname "$0")/lib_bwe.sh"
T_TIMEOUT=${T_TIMEOUT:-90}
bwe_testbed_up det

NQ_V4=198.18.0.12	# a second address of lan2, on the never_quarantine list
lan2 ip addr add "$NQ_V4/24" dev eth0
mkdir -p "$DIR/feeds"
printf '%s\n' "$BWE_C2_V4" >"$DIR/feeds/c2.txt"
net iperf3 -s -D -B "$BWE_SITE_V4" -p 5201 --pidfile "$DIR/iperf1.pid" >/dev/null 2>&1
net iperf3 -s -D -B "$BWE_SITE_V4" -p 5202 --pidfile "$DIR/iperf2.pid" >/dev/null 2>&1
t_atexit "kill \$(cat $DIR/iperf1.pid $DIR/iperf2.pid 2>/dev/null) 2>/dev/null; true"

write_config "feeds:
  - { name: c2, source: $DIR/feeds/c2.txt, format: plain }
policy:
  interval: 1s
  learning_period: 12s
  windows: [ 10s, 30s ]
  never_quarantine: [ $NQ_V4/32 ]
  signals:
    spike: { window: 10s, z: 4.0, min_rate: 400kbit, sustain: 3, min_sd_share: 0.2, min_sd_rate: 20kbit }
    blocklist: { min_hits: 1, window: 1m }
  rules:
    - { name: upload-throttle, signals: [ spike ], min_signals: 1, action: throttle, rate: 4mbit, ttl: 1m, cooldown: 5s }
    - { name: corroborated-quarantine, signals: [ spike, blocklist ], min_signals: 2, action: quarantine, ttl: 6s, cooldown: 5s }"
assert_ok "$BWCTLD" -n -c "$CFG" >/dev/null || { t_begin config; t_fail "bwctld -n: $("$BWCTLD" -n -c "$CFG" 2>&1)"; }
if ! start_daemon; then t_begin "daemon"; t_fail "bwctld did not start"; t_summary; exit 1; fi

# Normal background traffic for everybody while the baselines learn.
noise() { # NS-FUNC SRC SECONDS: small pings of varying size, ~10-40 kbit/s
	local end=$(( $(date +%s) + $3 )) s
	while [ "$(date +%s)" -lt "$end" ]; do
		s=$(( 200 + RANDOM % 1000 ))
		"$1" ping -c 4 -i 0.2 -s "$s" -I "$2" -q "$BWE_SITE_V4" >/dev/null 2>&1
	done
}
noise lan "$BWE_LAN_V4" 95 & NOISE1=$!
noise lan2 "$BWE_LAN2_V4" 95 & NOISE2=$!
noise lan2 "$NQ_V4" 95 & NOISE3=$!
t_atexit "kill $NOISE1 $NOISE2 $NOISE3 2>/dev/null; true"
sleep 16

ev_for() { # ACTION HOST: matching lines of the event log
	grep "\"action\":\"$1\"" "$LOG" | grep "\"ip\":\"$2\""
}
WAIT_STEP=0.5
alerted() { ev_for detection-alert "$1" | grep -q .; }

t_test_escalation() {
	# 1. a sustained upload far above the learnt baseline -> throttled by rule
	lan iperf3 -c "$BWE_SITE_V4" -B "$BWE_LAN_V4" -t 40 -b 30M >/dev/null 2>&1 &
	local up=$!
	wait_for 30 listed throttle "$BWE_LAN_V4" || t_fail "not throttled by the spike rule"
	local t; t=$(bwctl --json list throttle | jq -r --arg h "$BWE_LAN_V4" '.[] | select(.host == $h)')
	assert_eq "$(jq -r .actor <<<"$t")" "rule:upload-throttle" "actor"
	assert_eq "$(jq -r .rate <<<"$t")" 500000 "rate 4mbit"
	ev_for throttle "$BWE_LAN_V4" | grep -q '"signal":"spike"' || t_fail "throttle event lacks spike evidence"
	# 2. it also contacts a feed address -> two signals -> quarantined
	lan ping -c 2 -W 1 "$BWE_C2_V4" >/dev/null 2>&1
	wait_for 30 listed quarantine "$BWE_LAN_V4" || t_fail "not quarantined on corroboration"
	local q; q=$(ev_for quarantine "$BWE_LAN_V4" | tail -1)
	jq -e '.rule.name == "corroborated-quarantine"' <<<"$q" >/dev/null || t_fail "rule name: $q"
	jq -e '[.bwenforce.evidence[].signal] | (index("spike") != null and index("blocklist") != null)' \
		<<<"$q" >/dev/null || t_fail "evidence: $q"
	jq -e '.threat.technique.id == "T1496.002"' <<<"$q" >/dev/null || t_fail "technique"
	# 3. management access still works, the rest does not
	assert_ok reach lan "$BWE_MGMT_V4"
	assert_ok unreach lan "$BWE_RELAY_V4"
	# the report answers the runbook questions from data
	local r; r=$(bwctl --json report "$BWE_LAN_V4")
	assert_eq "$(jq -r '.questions."2_malicious_contacts".answer' <<<"$r")" yes "report q2"
	assert_eq "$(jq -r '.questions."2_malicious_contacts".indicators[0].feed' <<<"$r")" c2 "report feed"
	assert_eq "$(jq -r '.questions."4_unauthorized_processes".answer' <<<"$r")" "needs endpoint data" "q4"
	assert_eq "$(jq -r '.containment.quarantine.actor' <<<"$r")" "rule:corroborated-quarantine" "containment"
	assert_eq "$(jq -r '.recommendation.escalate' <<<"$r")" true "escalate"
	kill $up 2>/dev/null; wait $up 2>/dev/null
	# 4. released when the TTL ends
	wait_for 30 not_listed quarantine "$BWE_LAN_V4" || t_fail "quarantine did not expire"
	ev_for expire "$BWE_LAN_V4" | grep -q quarantine || t_fail "no expire event"
	assert_ok reach lan "$BWE_RELAY_V4"
}
t_run "upload spike throttles, a feed contact on top quarantines, the TTL releases" t_test_escalation

t_test_noisy_host() {
	[ -z "$(ev_for throttle "$BWE_LAN2_V4"; ev_for quarantine "$BWE_LAN2_V4"; ev_for detection-alert "$BWE_LAN2_V4")" ] ||
		t_fail "the noisy normal host was acted on"
	assert_eq "$(bwctl --json report "$BWE_LAN2_V4" | jq -r .recommendation.escalate)" false "report"
}
t_run "a host with noisy normal traffic is never acted on" t_test_noisy_host

t_test_never_quarantine() {
	lan2 iperf3 -c "$BWE_SITE_V4" -p 5202 -B "$NQ_V4" -t 12 -b 30M >"$DIR/nq-iperf.txt" 2>&1 &
	local up=$!
	sleep 6
	lan2 ping -c 2 -W 1 -I "$NQ_V4" "$BWE_C2_V4" >/dev/null 2>&1
	wait_for 20 alerted "$NQ_V4" ||
		t_fail "no alert for the never_quarantine host: $(tail -3 "$DIR/nq-iperf.txt"); $(grep -c . "$LOG") events"
	wait $up 2>/dev/null
	listed quarantine "$NQ_V4" && t_fail "never_quarantine host was quarantined"
	listed throttle "$NQ_V4" && t_fail "never_quarantine host was throttled"
	ev_for detection-alert "$NQ_V4" | tail -1 | jq -e '.bwenforce.guards | index("never_quarantine") != null' \
		>/dev/null || t_fail "alert does not name the guard"
}
t_run "a never_quarantine host is only alerted on" t_test_never_quarantine

t_summary
