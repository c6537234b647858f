#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# e2e_hostile.sh - packets from hostile senders, on the gateway testbed with
# bwctld (fast policy: 1 s interval). Frames are crafted with
# build/tools/inject (AF_PACKET raw socket) from the internet namespace onto
# wan0, where the enforcer runs natively:
#   1. a spray of 200,000 inbound frames to distinct addresses of an internal
#      IPv6 /64 and IPv4 /16: no host entries, no detector state, the
#      aggregate counts them; the real hosts keep their counters and their
#      baselines; bwctld grows by less than 16 MiB;
#   2. spoofed inbound frames from a listed (C2) address to a host that also
#      fires another signal: no quarantine, the report shows the inbound hits
#      apart; the host's own contact with the listed address then fires the
#      blocklist signal and the corroboration rule quarantines it.
. "$(dirname "$0")/lib.sh"
t_require_root
. "$(dirname "$0")/lib_bwe.sh"
T_TIMEOUT=${T_TIMEOUT:-120}
INJECT=$ROOT/build/tools/inject
[ -x "$INJECT" ] || { t_begin "tools"; t_fail "$INJECT missing: run make"; t_summary; exit 1; }
bwe_testbed_up hst

SPRAY_V4=198.18.0.0/16	 # internal (the LAN /24 and the rest of its /16)
SPRAY_V6=$BWE_LAN_NET_V6 # 2001:db8:1::/64
SPRAY_V4_N=65536	 # every address of the /16 once
SPRAY_V6_N=134464	 # 200,000 frames in all
RSS_MAX_KB=16384	 # 16 MiB
mkdir -p "$DIR/feeds"
printf '%s\n%s\n' "$BWE_C2_V4" "$BWE_C2_V6" >"$DIR/feeds/c2.txt"

BWE_LAN_NET_V4=$SPRAY_V4 write_config "feeds:
  - { name: c2, source: $DIR/feeds/c2.txt, format: plain }
policy:
  interval: 1s
  learning_period: 2s
  windows: [ 10s, 30s ]
  signals:
    spike: { window: 10s }
    blocklist: { min_hits: 1, window: 1m }
    nonstd_ports: { share: 0.5, min_bytes: 20k, window: 30s }
  rules:
    - { name: odd-ports-alert, signals: [ nonstd_ports ], min_signals: 1, action: alert, cooldown: 1m }
    - { name: corroborated-quarantine, signals: [ nonstd_ports, blocklist ], min_signals: 2, action: quarantine, ttl: 1m, cooldown: 5s }"
assert_ok "$BWCTLD" -n -c "$CFG" >/dev/null || { t_begin config; t_fail "bwctld -n: $("$BWCTLD" -n -c "$CFG" 2>&1)"; }
if ! start_daemon; then t_begin "daemon"; t_fail "bwctld did not start"; t_summary; exit 1; fi

# Normal traffic from the two real hosts while the test runs (bounded).
noise() { # NS-FUNC SRC SECONDS
	"$1" ping -q -i 0.2 -s 200 -w "$3" -I "$2" "$BWE_SITE_V4" >/dev/null 2>&1
}
noise lan "$BWE_LAN_V4" 110 & NOISE1=$!
noise lan2 "$BWE_LAN2_V4" 110 & NOISE2=$!
t_atexit "kill $NOISE1 $NOISE2 2>/dev/null; true"

NOTES=$DIR/notes.txt
note() { echo "$*" >>"$NOTES"; echo "$*"; }
WAIT_STEP=0.5
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$(bwctl --json status | jq -r .pid)/status"; }
untracked() { bwctl --json stats | jq -r '.anomalies.inbound_untracked.packets'; }
# On a NAT gateway the WAN's XDP program judges nothing inbound but listed
# sources: the rest is deferred to the LAN egress (deferred, lib_bwe.sh),
# which a spray never reaches.
blocked() { bwctl --json stats | jq -r '.reasons.block.packets'; }
host_json() { # ADDR: the host's row of top, or nothing
	bwctl --json top --once -n 65536 | jq -c --arg h "$1" '.[] | select(.host == $h)'
}
learned() { bwctl --json report "$1" | jq -r '.questions."1_outbound_increase".baseline_learned_s // 0'; }
spray() { # SRC PREFIX COUNT SEED
	net "$INJECT" -i eth0 --dmac "$BWE_GW_WAN_MAC" --smac "$BWE_NET_MAC" --src "$1" \
		--spray-dst "$2" --count "$3" --seed "$4" --proto udp --sport 40000 --dport 443 \
		--payload 18
}

t_test_spray() {
	sleep 6 # baselines learn; the detector holds the two real hosts
	local h1 h2 l1 l2 rss0 rss1 u0 u1 maps0 maps1 det out
	h1=$(host_json "$BWE_LAN_V4"); h2=$(host_json "$BWE_LAN2_V4")
	{ [ -n "$h1" ] && [ -n "$h2" ]; } || t_fail "real hosts not tracked before the spray"
	l1=$(learned "$BWE_LAN_V4"); l2=$(learned "$BWE_LAN2_V4")
	awk -v a="$l1" 'BEGIN { exit !(a >= 3) }' || t_fail "no baseline before the spray: $l1 s"
	maps0=$(bwctl --json status | jq '.maps[] | select(.name == "bwe_hosts") | .entries')
	rss0=$(rss_kb); u0=$(untracked); d0=$(deferred); b0=$(blocked)

	out=$(spray "$BWE_C2_V4" "$SPRAY_V4" "$SPRAY_V4_N" 1) || t_fail "inject v4: $out"
	out=$(spray 2001:db8:3::77 "$SPRAY_V6" "$SPRAY_V6_N" 2) || t_fail "inject v6: $out"
	sleep 4 # the daemon samples and the detector runs a few times
	u1=$(untracked); rss1=$(rss_kb); d1=$(deferred); b1=$(blocked)
	maps1=$(bwctl --json status | jq '.maps[] | select(.name == "bwe_hosts") | .entries')
	det=$(bwctl --json status | jq -c .detector)
	note "spray ($BWE_TOPOLOGY): $((u1 - u0)) frames counted untracked, $((d1 - d0)) deferred" \
		"to the LAN egress, $((b1 - b0)) dropped as listed (of $((SPRAY_V4_N + SPRAY_V6_N)) sent);" \
		"bwe_hosts $maps0 -> $maps1 entries; detector $det; bwctld VmRSS $rss0 -> $rss1 kB"
	if is_nat 4 && is_nat 6; then
		# the v4 frames come from a listed address: dropped at the WAN; the v6
		# ones are deferred and the kernel has nowhere to send most of them
		[ "$((d1 - d0 + b1 - b0))" -ge 190000 ] ||
			t_fail "only $((d1 - d0 + b1 - b0)) of 200000 frames reached the enforcer"
	else
		# (the v4 frames come from a listed address: dropped, and still counted)
		[ "$((u1 - u0))" -ge 190000 ] || t_fail "only $((u1 - u0)) of 200000 frames reached the enforcer"
	fi
	[ "$maps1" -le "$((maps0 + 2))" ] || t_fail "bwe_hosts grew from $maps0 to $maps1 entries"
	[ "$(jq .hosts <<<"$det")" -le 4 ] || t_fail "detector holds state for sprayed addresses: $det"
	[ "$((rss1 - rss0))" -lt "$RSS_MAX_KB" ] || t_fail "bwctld grew by $((rss1 - rss0)) kB"
	assert_eq "$(bwctl --json status | jq -r '.untracked_inbound.packets')" "$u1" "status aggregate"
	if ! is_nat 4; then
		bwctl --json top --once -n 10 | jq -e --argjson n "$u1" \
			'.[-1] | .aggregate == "inbound_untracked" and .rx_packets == $n' >/dev/null ||
			t_fail "top has no aggregate row: $(bwctl --json top --once -n 10)"
	fi

	# the real hosts kept their counters (no eviction) and their baselines
	local n1 n2
	n1=$(host_json "$BWE_LAN_V4"); n2=$(host_json "$BWE_LAN2_V4")
	[ "$(jq .tx_packets <<<"$n1")" -gt "$(jq .tx_packets <<<"$h1")" ] ||
		t_fail "lan host counters went back: $h1 -> $n1"
	[ "$(jq .tx_packets <<<"$n2")" -gt "$(jq .tx_packets <<<"$h2")" ] ||
		t_fail "lan2 host counters went back: $h2 -> $n2"
	awk -v a="$(learned "$BWE_LAN_V4")" -v b="$l1" 'BEGIN { exit !(a > b) }' ||
		t_fail "lan host baseline restarted: $l1 -> $(learned "$BWE_LAN_V4") s"
	awk -v a="$(learned "$BWE_LAN2_V4")" -v b="$l2" 'BEGIN { exit !(a > b) }' ||
		t_fail "lan2 host baseline restarted: $l2 -> $(learned "$BWE_LAN2_V4") s"
	# an address of the spray is not a host
	[ -z "$(bwctl --json lookup 198.18.77.77 | jq -r '.tx_bytes // empty')" ] ||
		t_fail "a sprayed address has accounting: $(bwctl --json lookup 198.18.77.77)"
}
t_run "a spray of 200,000 inbound frames creates no host state" t_test_spray

t_test_spoofed_blocklist() {
	local r q
	# another signal: the host uploads to a non-standard TCP port (nonstd_ports fires)
	lan "$INJECT" -i eth0 --dmac "$BWE_GW_LAN_MAC" --smac "$BWE_LAN_MAC" --src "$BWE_LAN_V4" \
		--dst "$BWE_SITE_V4" --proto tcp --sport 40000 --dport 9999 --payload 1000 \
		--count 4000 --interval-us 2000 >/dev/null &
	local up=$!
	wait_for 30 grep -q "\"odd-ports-alert\".*\"ip\":\"$BWE_LAN_V4\"" "$LOG" ||
		wait_for 10 bash -c "grep detection-alert '$LOG' | grep -q '$BWE_LAN_V4'" ||
		t_fail "the nonstd_ports signal did not fire for $BWE_LAN_V4"
	# spoofed: frames "from" the listed C2 address to the host, from the internet side
	# (to the host's address on a routed gateway, to the gateway's behind NAT)
	local b0 b1; b0=$(blocked)
	net "$INJECT" -i eth0 --dmac "$BWE_GW_WAN_MAC" --smac "$BWE_NET_MAC" --src "$BWE_C2_V4" \
		--dst "$(from_net 4)" --proto tcp --sport 443 --dport 40000 --count 50 \
		--interval-us 10000 >/dev/null || t_fail "inject spoofed"
	sleep 5
	listed quarantine "$BWE_LAN_V4" && t_fail "quarantined on spoofed inbound hits"
	grep '"action":"quarantine"' "$LOG" | grep -q "$BWE_LAN_V4" && t_fail "quarantine event"
	r=$(bwctl --json report "$BWE_LAN_V4")
	assert_eq "$(jq -r '.questions."2_malicious_contacts".answer' <<<"$r")" no "report q2 on spoofed hits"
	assert_eq "$(jq -r '.questions."2_malicious_contacts".blocklist_hits' <<<"$r")" 0 "outbound hits"
	if is_nat 4; then
		# dropped at the WAN as listed, whoever they claim to answer
		b1=$(blocked)
		[ "$((b1 - b0))" -ge 50 ] || t_fail "only $((b1 - b0)) of 50 spoofed frames dropped at the WAN"
	else
		[ "$(jq -r '.questions."2_malicious_contacts".inbound_blocklist_hits' <<<"$r")" -ge 50 ] ||
			t_fail "report lacks the inbound hits: $(jq -c '.questions."2_malicious_contacts"' <<<"$r")"
		bwctl report "$BWE_LAN_V4" | grep -q "inbound_blocklist_hits.*5[0-9]" ||
			t_fail "human report lacks the inbound hits: $(bwctl report "$BWE_LAN_V4")"
	fi

	# the host's own contact with the listed address: the signal fires, corroborated
	lan ping -c 2 -W 1 "$BWE_C2_V4" >/dev/null 2>&1
	wait_for 30 listed quarantine "$BWE_LAN_V4" || t_fail "outbound contact did not quarantine"
	q=$(grep '"action":"quarantine"' "$LOG" | grep "$BWE_LAN_V4" | tail -1)
	jq -e '.rule.name == "corroborated-quarantine" and
		([.bwenforce.evidence[].signal] | index("blocklist") != null)' <<<"$q" >/dev/null ||
		t_fail "quarantine event: $q"
	r=$(bwctl --json report "$BWE_LAN_V4")
	assert_eq "$(jq -r '.questions."2_malicious_contacts".answer' <<<"$r")" yes "report q2 on contact"
	kill $up 2>/dev/null; wait $up 2>/dev/null
	true
}
t_run "spoofed blocklist hits never quarantine; the host's own contact does" t_test_spoofed_blocklist

[ -s "$NOTES" ] && sed 's/^/note: /' "$NOTES"
t_summary
