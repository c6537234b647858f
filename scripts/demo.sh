#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# demo.sh - bwenforce doing its job on a gateway testbed, narrated.
#
# Builds the testbed of scripts/testbed.sh (LAN hosts, a NAT gateway with lan0
# and wan0 masquerading the LAN, an "internet" with a normal site, a C2 server,
# a proxyware relay, a management/EDR server and a DNS server; DEMO_TOPOLOGY
# takes testbed.sh's options, e.g. --routed), starts bwctld on the gateway with
# policies/demo.yaml.in and the sample feeds in policies/feeds/, and walks
# through the job with real traffic. Every step checks that it behaved as
# narrated; the exit status is non-zero if any did not. Leaves nothing
# behind, unless KEEP=1 (then it prints how to look around and tear down).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUN=demo$$
KEEP=${KEEP:-0}
STEP=0
FAILED=()
PASSED=()

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: needs root (XDP, namespaces): sudo make demo" >&2
	exit 1
fi
if [ -t 1 ]; then B=$'\e[1m'; G=$'\e[32m'; R=$'\e[31m'; D=$'\e[2m'; N=$'\e[0m'; else B= G= R= D= N=; fi

say() { printf '%s\n' "$*"; }
step() { STEP=$((STEP + 1)); CUR="$*"; printf '\n%s== %d. %s%s %s[%ds]%s\n' "$B" "$STEP" "$*" "$N" "$D" "$SECONDS" "$N"; }
run() { printf '%s$ %s%s\n' "$D" "$*" "$N"; "$@"; }
ok() { PASSED+=("$STEP. $*"); printf '%s   ✓ %s%s\n' "$G" "$*" "$N"; }
bad() { FAILED+=("$STEP. $CUR: $*"); printf '%s   ✗ %s%s\n' "$R" "$*" "$N"; }
check() { # MESSAGE CMD...: ok when CMD succeeds
	local msg=$1; shift
	if "$@" >/dev/null 2>&1; then ok "$msg"; else bad "$msg"; fi
}

cleanup() {
	if [ "$KEEP" = 1 ]; then
		say ""
		say "KEEP=1: the testbed stays. Look around with:"
		say "  ip netns exec $BWE_NS_GW $ROOT/build/bwctl --socket $DIR/bwctld.sock status"
		say "  ip netns exec $BWE_NS_LAN curl http://203.0.113.10:8080/"
		say "and tear it down with:"
		say "  kill \$(cat $DIR/bwctld.pid); $ROOT/scripts/testbed.sh down $RUN; umount $DIR/bpf; rm -rf $DIR"
		return
	fi
	[ -f "$DIR/bwctld.pid" ] && kill "$(cat "$DIR/bwctld.pid")" 2>/dev/null
	sleep 0.3
	for p in $(cat "$DIR"/*.srv.pid 2>/dev/null); do kill "$p" 2>/dev/null; done
	"$ROOT/scripts/testbed.sh" down "$RUN" >/dev/null 2>&1
	umount "$DIR/bpf" 2>/dev/null
	rm -rf "$DIR"
}

DIR=/run/bwenforce-demo/$RUN
mkdir -p "$DIR/bpf"
trap cleanup EXIT
trap 'exit 130' INT TERM

printf '%sbwenforce demo%s: containing bandwidth hijacking (MITRE ATT&CK T1496.002) inline on a gateway\n' "$B" "$N"
step "Build a gateway testbed in network namespaces"
# shellcheck disable=SC2086  # options are words on purpose
if ! "$ROOT/scripts/testbed.sh" up ${DEMO_TOPOLOGY:-} "$RUN" >/dev/null; then
	bad "testbed did not come up"; exit 1
fi
. "/run/bwenforce-testbed/$RUN.env"
mount -t bpf bpf "$DIR/bpf"
say "   LAN:      lan host $BWE_LAN_V4 / $BWE_LAN_V6, lan2 $BWE_LAN2_V4"
case "${BWE_NAT4:-0}${BWE_NAT6:-0}" in
11) WAN_NAT=both ;; 10) WAN_NAT=ipv4 ;; 01) WAN_NAT=ipv6 ;; *) WAN_NAT=none ;;
esac
if [ "$WAN_NAT" = none ]; then
	say "   gateway:  lan0 $BWE_GW_LAN_V4, wan0 $BWE_GW_WAN_V4 (routing, bwenforce on both NICs)"
else
	say "   gateway:  lan0 $BWE_GW_LAN_V4, wan0 $BWE_GW_WAN_V4 (NAT: the LAN leaves as $BWE_GW_WAN_V4;"
	say "             bwenforce on both NICs, and at the LAN's egress for what NAT hides at the WAN)"
fi
say "   internet: normal site $BWE_SITE_V4, C2 server $BWE_C2_V4, proxyware relay $BWE_RELAY_V4,"
say "             EDR/management $BWE_MGMT_V4, DNS $BWE_DNS_V4"
ok "testbed $RUN is up"

gw() { ip netns exec "$BWE_NS_GW" "$@"; }
lan() { ip netns exec "$BWE_NS_LAN" "$@"; }
net() { ip netns exec "$BWE_NS_NET" "$@"; }
bwctl() { gw "$ROOT/build/bwctl" --socket "$DIR/bwctld.sock" "$@"; }
web() { lan curl -s -o /dev/null --max-time 2 "http://$1:8080/"; }
nweb() { ! web "$1"; }
for a in "$BWE_SITE_V4" "$BWE_MGMT_V4" "$BWE_C2_V4" "$BWE_RELAY_V4"; do
	setsid ip netns exec "$BWE_NS_NET" python3 -m http.server --bind "$a" 8080 --directory "$DIR" \
		>/dev/null 2>&1 &
	echo $! >"$DIR/http-$a.srv.pid"
done
net iperf3 -s -D -B "$BWE_RELAY_V4" --pidfile "$DIR/iperf.srv.pid" >/dev/null 2>&1
sleep 0.5

step "Start bwctld on the gateway with the shipped demo configuration and sample feeds"
sed "s#@RUN_DIR@#$DIR#g; s#@FEEDS@#$ROOT/policies/feeds#g; s#@WAN_NAT@#$WAN_NAT#g" \
	"$ROOT/policies/demo.yaml.in" >"$DIR/bwenforce.yaml"
run "$ROOT/build/bwctld" -n -c "$DIR/bwenforce.yaml"
setsid bash -c "echo \$\$ >'$DIR/bwctld.pid'; exec ip netns exec '$BWE_NS_GW' '$ROOT/build/bwctld' -f -c '$DIR/bwenforce.yaml' 2>'$DIR/bwctld.log'" &
for _ in $(seq 1 100); do bwctl status >/dev/null 2>&1 && break; sleep 0.1; done
run bwctl feeds
check "bwctld runs; feeds loaded (STIX bundle and a Spamhaus DROP list)" \
	sh -c "[ \"\$(ip netns exec $BWE_NS_GW $ROOT/build/bwctl --socket $DIR/bwctld.sock --json feeds | jq '[.[] | select(.state == \"ok\")] | length')\" = 2 ]"

step "A LAN host browses the normal site"
run lan curl -s -o /dev/null -w '   HTTP %{http_code} from %{remote_ip}\n' --max-time 2 "http://$BWE_SITE_V4:8080/"
check "normal traffic flows through the enforcer" web "$BWE_SITE_V4"
if [ "$WAN_NAT" != none ]; then
	say "   the site saw the gateway's address; bwenforce still counts the download for the LAN host:"
	run bwctl top --once -n 3
	check "the host's received bytes are counted behind NAT" \
		sh -c "ip netns exec $BWE_NS_GW $ROOT/build/bwctl --socket $DIR/bwctld.sock --json top --once | jq -e --arg h $BWE_LAN_V4 '.[] | select(.host == \$h) | .rx_bytes > 0'"
fi

step "It tries to reach a botnet C2 server listed in the STIX feed"
run lan curl -s -o /dev/null --max-time 2 "http://$BWE_C2_V4:8080/" || say "   (connection failed, as it should)"
check "the C2 address is dropped at the gateway's NIC" nweb "$BWE_C2_V4"
run bwctl lookup "$BWE_C2_V4"
check "lookup names the feed and the STIX indicator" \
	sh -c "ip netns exec $BWE_NS_GW $ROOT/build/bwctl --socket $DIR/bwctld.sock --json lookup $BWE_C2_V4 | jq -e '.feed == \"demo-stix\" and (.matches[0].indicator | startswith(\"indicator--\"))'"
sleep 0.5
say "   the event log has it, in ECS for the SIEM:"
grep '"blocklist-hit"' "$DIR/events.json" | tail -1 | jq -c '{"@timestamp", action: .event.action, host: .host.ip, indicator: .threat.indicator.ip, feed: .threat.indicator.provider, technique: .threat.technique.id}'
check "a blocklist-hit event was logged" grep -q '"blocklist-hit"' "$DIR/events.json"

step "An analyst quarantines the host: it keeps only its EDR/management access"
run bwctl quarantine "$BWE_LAN_V4" --reason "demo: C2 contact" --ttl 1h
check "the normal site is cut off" nweb "$BWE_SITE_V4"
check "the EDR/management server still answers" web "$BWE_MGMT_V4"
check "the other LAN host is untouched" ip netns exec "$BWE_NS_LAN2" curl -s -o /dev/null --max-time 2 "http://$BWE_SITE_V4:8080/"

step "bwctl top and bwctl report show the accounting and the evidence"
run bwctl top --once -n 5
run bwctl report "$BWE_LAN_V4"
check "report: question 2 (malicious contacts) answered yes from data" \
	sh -c "ip netns exec $BWE_NS_GW $ROOT/build/bwctl --socket $DIR/bwctld.sock --json report $BWE_LAN_V4 | jq -e '.questions.\"2_malicious_contacts\".answer == \"yes\"'"

step "Release restores the host"
run bwctl release "$BWE_LAN_V4" --reason "demo: reimaged"
check "the normal site answers again" web "$BWE_SITE_V4"

lan2() { ip netns exec "$BWE_NS_LAN2" "$@"; }
step "bwctld learns each host's normal traffic (seconds here; an hour by default)"
end=$(( SECONDS + 12 ))
while [ "$SECONDS" -lt "$end" ]; do lan2 ping -c 5 -i 0.2 -s 400 -q "$BWE_SITE_V4" >/dev/null 2>&1; done
ok "baseline of $BWE_LAN2_V4 learnt: a few kbit/s of normal traffic"

step "The other LAN host starts a heavy upload to a proxyware relay: the policy throttles it"
run lan2 iperf3 -c "$BWE_RELAY_V4" -t 16 -b 40M -i 4 -f m &
IPERF=$!
throttled=0
for _ in $(seq 1 40); do
	if bwctl --json list throttle | jq -e --arg h "$BWE_LAN2_V4" 'map(select(.host == $h)) | length == 1' >/dev/null 2>&1; then
		throttled=1; break
	fi
	sleep 0.5
done
if [ $throttled = 1 ]; then ok "throttled automatically by rule upload-throttle"; else bad "no automatic throttle"; fi
run bwctl list throttle
grep '"action":"throttle"' "$DIR/events.json" | tail -1 | jq -c '{action: .event.action, host: .host.ip, rule: .rule.name, evidence: .bwenforce.evidence}'
wait $IPERF 2>/dev/null
say "   (iperf3 above: the upload falls to about 5 Mbit/s once the rule fires)"

step "The analyst lifts the throttle"
run bwctl unthrottle "$BWE_LAN2_V4"
check "no throttle left" sh -c "[ \"\$(ip netns exec $BWE_NS_GW $ROOT/build/bwctl --socket $DIR/bwctld.sock --json list throttle | jq length)\" = 0 ]"
check "the host works normally" lan2 curl -s -o /dev/null --max-time 2 "http://$BWE_SITE_V4:8080/"

printf '\n%sSummary%s\n' "$B" "$N"
for p in "${PASSED[@]}"; do say "  ${G}✓${N} $p"; done
for f in "${FAILED[@]}"; do say "  ${R}✗${N} $f"; done
say "  events: $(wc -l <"$DIR/events.json") JSON lines in the event log"
if [ ${#FAILED[@]} -gt 0 ]; then
	say "${R}demo: ${#FAILED[@]} step(s) did not behave as narrated${N}"
	exit 1
fi
say "${G}demo: every step behaved as narrated${N}"
