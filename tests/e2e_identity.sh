#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# e2e_identity.sh - containment keyed on the host, not on one address
# (issue #12), on the routed gateway testbed with real traffic: a LAN host
# quarantined by address, by MAC address and by name is cut off in both
# directions also from addresses it takes afterwards (IPv4 and IPv6), which
# the daemon learns and bwctl list/report show; exempt peers stay
# reachable; release restores every address; a router's MAC address is
# refused unless --force; bad MAC addresses change nothing; --prefix64
# contains the host's /64. On a routed testbed inbound traffic reaches
# every LAN address directly, so "both directions" is seen on the wire for
# each; behind NAT (the default) only the port forward leads in, and it is
# checked through that (make test runs the suite on both).
. "$(dirname "$0")/lib.sh"
t_require_root

. "$(dirname "$0")/lib_bwe.sh"
T_TIMEOUT=${T_TIMEOUT:-60}
bwe_testbed_up ident

NEW_V4=198.18.0.50        # an address the LAN host takes after its quarantine
NEW_V6=2001:db8:1::50
ROUTER_MAC=02:b3:00:00:0e:01 # a router on the LAN: many addresses behind one MAC
UDP_PORT=47001
HOSTS_NAME=lan2-$RUN.test    # in the gateway namespace's hosts file
DNS_NAME=lan-$RUN.example    # only the DNS server knows it

# names: a hosts file and a resolver of the gateway namespace's own
# (ip netns exec bind-mounts /etc/netns/NS/*), a DNS stub on the internet side
mkdir -p "/etc/netns/$BWE_NS_GW"
t_atexit "rm -rf /etc/netns/$BWE_NS_GW"
printf '127.0.0.1 localhost\n%s %s\n' "$BWE_LAN2_V4" "$HOSTS_NAME" >"/etc/netns/$BWE_NS_GW/hosts"
echo "nameserver $BWE_DNS_V4" >"/etc/netns/$BWE_NS_GW/resolv.conf"
SILENT_NAME=silent-$RUN.example # the DNS server never answers for it
printf '{"ttl": 5, "names": {"%s": ["%s", "%s"]}, "drop": ["%s"]}\n' "$DNS_NAME" "$BWE_LAN_V4" \
	"$BWE_LAN_V6" "$SILENT_NAME" >"$DIR/zone.json"
setsid ip netns exec "$BWE_NS_NET" python3 "$ROOT/tests/tools/dns_stub.py" "$BWE_DNS_V4" \
	"$DIR/zone.json" >"$DIR/dns.queries" 2>"$DIR/dns.log" &
DNS_PID=$!
t_atexit "kill $DNS_PID 2>/dev/null; true"

# One-way UDP: does a datagram from NSFUNC-from reach ADDR in NSFUNC-to?
cat >"$DIR/udp1.py" <<'EOP'
import socket, sys, time
mode, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
if mode == "recv":
    s.bind((addr, port)); s.settimeout(float(sys.argv[4]))
    try:
        s.recvfrom(2048); print("got")
    except socket.timeout:
        print("none")
else:
    if len(sys.argv) > 5:
        s.bind((sys.argv[5], 0))  # a source that is not exempt (mgmt, DNS)
    for _ in range(int(sys.argv[4])):
        s.sendto(b"x" * 64, (addr, port)); time.sleep(0.05)
EOP
# From the internet side the sender is the normal site's address: left to
# source selection it could be the exempt management server's.
udp_arrives() { # NSFUNC-TO ADDR NSFUNC-FROM
	local out src=$BWE_SITE_V4
	case $2 in *:*) src=$BWE_SITE_V6 ;; esac
	[ "$3" = net ] || src=
	"$1" python3 "$DIR/udp1.py" recv "$2" "$UDP_PORT" 2 >"$DIR/udp.out" 2>&1 &
	local rpid=$!
	sleep 0.3
	"$3" python3 "$DIR/udp1.py" send "$2" "$UDP_PORT" 10 $src >/dev/null 2>&1
	wait "$rpid"
	out=$(cat "$DIR/udp.out")
	[ "$out" = got ]
}
udp_lost() { ! udp_arrives "$@"; }
# Can the internet host send to the LAN host's ADDR at all? Routed: every
# address. Behind NAT only the port forward leads in, to BWE_FWD_V4/V6: the
# other addresses have no way in by design, and the routed run of this suite
# checks them; callers skip them with this test, visibly.
in_reachable() { # ADDR
	local f=4 fwd
	case $1 in *:*) f=6 ;; esac
	eval "fwd=\$BWE_FWD_V$f"
	! is_nat "$f" || [ "$1" = "$fwd" ]
}
# Inbound from the internet host to ADDR (in_reachable): straight where the
# family is routed, through the port forward where it is translated.
in_arrives() { # ADDR
	local a=$1 f=4 wan src
	case $a in *:*) f=6 ;; esac
	if ! is_nat "$f"; then udp_arrives lan "$a" net; return; fi
	in_reachable "$a" || { echo "$a cannot be reached from outside behind NAT"; return 1; }
	eval "wan=\$BWE_GW_WAN_V$f src=\$BWE_SITE_V$f"
	lan python3 "$DIR/udp1.py" recv "$a" "$BWE_FWD_PORT" 2 >"$DIR/udp.out" 2>&1 &
	local rpid=$!
	sleep 0.3
	net python3 "$DIR/udp1.py" send "$wan" "$BWE_FWD_PORT" 10 "$src" >/dev/null 2>&1
	wait "$rpid"
	[ "$(cat "$DIR/udp.out")" = got ]
}
in_lost() { # ADDR
	in_reachable "$1" || { echo "$1 cannot be reached from outside behind NAT"; return 1; }
	! in_arrives "$1"
}
# ping from one source address of the LAN host
reach_from() { # NSFUNC SRC DST
	"$1" ping -c1 -W1 -q -I "$2" "$3" >/dev/null 2>&1
}
unreach_from() { ! reach_from "$@"; }
# the entries of bwctl list quarantine as "address learnt_from" lines
q_rows() { bwctl --json list quarantine | jq -r '.[] | "\(.host) \(.keyed_by) \(.mac // "-") \(.learnt_from // "-")"'; }
listed_q() { bwctl --json list quarantine | jq -e --arg h "$1" 'map(.host // .cidr) | index($h) != null' >/dev/null; }
state_json() { cat "$DIR/state/state.json" 2>/dev/null; }
# each test starts from no quarantine, whatever the one before left
clean() {
	local h
	for h in $(bwctl --json list quarantine | jq -r '.[] | .mac // .host' | sort -u); do
		bwctl release "$h" >/dev/null 2>&1
	done
}

write_config "identity: { router_addresses: 8, max_learnt: 16 }"
t_begin "bwctld starts with the identity keys"
if ! start_daemon; then t_fail "daemon did not start"; t_summary; exit 1; fi
t_pass

t_test_baseline() {
	# the gateway learns the LAN hosts' MAC addresses from their traffic
	assert_ok reach lan "$BWE_SITE_V4"
	assert_ok reach lan "$BWE_SITE_V6"
	assert_ok reach lan2 "$BWE_SITE_V4"
	assert_ok reach lan2 "$BWE_SITE_V6"
	assert_ok in_arrives "$BWE_LAN_V4"
	assert_ok gw ip neigh show "$BWE_LAN_V4" dev lan0
	assert_eq "$(gw ip -j neigh show "$BWE_LAN_V4" dev lan0 | jq -r '.[0].lladdr')" "$BWE_LAN_MAC" "neighbour MAC"
}
t_run "traffic flows and the gateway has the hosts' neighbour entries" t_test_baseline

t_test_quarantine_by_address() {
	clean
	local r
	assert_ok bwctl quarantine "$BWE_LAN_V4" --reason "identity e2e"
	r=$(bwctl --json list quarantine)
	assert_eq "$(jq -r --arg h "$BWE_LAN_V4" '.[] | select(.host == $h) | .keyed_by' <<<"$r")" mac "keyed_by"
	assert_eq "$(jq -r --arg h "$BWE_LAN_V4" '.[] | select(.host == $h) | .mac' <<<"$r")" "$BWE_LAN_MAC" "mac"
	# its IPv6 address is the same host: contained too
	assert_ok listed_q "$BWE_LAN_V6"
	assert_eq "$(jq -r --arg h "$BWE_LAN_V4" '.[] | select(.host == $h) | .addresses | length' <<<"$r")" 2 "addresses"
	bwctl list quarantine | grep -qE "^$BWE_LAN_V4 +mac +$BWE_LAN_MAC +given" ||
		t_fail "bwctl list: $(bwctl list quarantine)"
	assert_ok unreach lan "$BWE_SITE_V4"
	assert_ok unreach lan "$BWE_SITE_V6"
	assert_ok in_lost "$BWE_LAN_V4"
	assert_ok reach lan "$BWE_MGMT_V4"
	assert_ok reach lan "$BWE_MGMT_V6"
	assert_ok reach lan2 "$BWE_SITE_V4"
	grep -q '"action":"quarantine".*"host":{"mac":"'"$BWE_LAN_MAC"'"' "$LOG" || t_fail "no event for the host record"
	# lookup by MAC: the daemon picks the host's address
	r=$(bwctl --json lookup "$BWE_LAN_MAC")
	assert_eq "$(jq -r '"\(.address) \(.reason)"' <<<"$r")" "$BWE_LAN_V4 quarantine" "lookup by MAC"
	r=$(bwctl --json status)
	assert_eq "$(jq -r '.identity.hosts' <<<"$r")" 1 "status: host records"
	assert_eq "$(jq -r '.maps[] | select(.name == "bwe_macs") | .entries' <<<"$r")" 1 "status: bwe_macs"
	assert_eq "$(bpftool -j map dump pinned "$DIR/bpf/bwe/bwe_macs" | jq length)" 1 "bwe_macs in the kernel"
}
t_run "an address with a neighbour entry is quarantined by its MAC, with its other addresses" t_test_quarantine_by_address

t_test_new_addresses() {
	local r
	lan ip addr add "$NEW_V4/24" dev "$BWE_LAN_IF"
	lan ip -6 addr add "$NEW_V6/64" dev "$BWE_LAN_IF" nodad
	# outbound from the new addresses: dropped by MAC at once, and learnt
	assert_ok unreach_from lan "$NEW_V4" "$BWE_SITE_V4"
	assert_ok unreach_from lan "$NEW_V6" "$BWE_SITE_V6"
	wait_for 50 listed_q "$NEW_V4" || t_fail "$NEW_V4 not learnt: $(q_rows)"
	wait_for 50 listed_q "$NEW_V6" || t_fail "$NEW_V6 not learnt: $(q_rows)"
	r=$(bwctl --json list quarantine)
	for a in "$NEW_V4" "$NEW_V6"; do
		case "$(jq -r --arg h "$a" '.[] | select(.host == $h) | .learnt_from' <<<"$r")" in
		traffic|neighbour) ;;
		*) t_fail "$a: learnt_from is not traffic or neighbour: $(q_rows)" ;;
		esac
		assert_eq "$(jq -r --arg h "$a" '.[] | select(.host == $h) | .mac' <<<"$r")" "$BWE_LAN_MAC" "$a mac"
	done
	# inbound to the new addresses: cut at the gateway now that they are known
	assert_eq "$(bwctl --json lookup "$NEW_V4" | jq -r .reason)" quarantine "$NEW_V4 class"
	assert_eq "$(bwctl --json lookup "$NEW_V6" | jq -r .reason)" quarantine "$NEW_V6 class"
	! in_reachable "$NEW_V4" || assert_ok in_lost "$NEW_V4"
	! in_reachable "$NEW_V6" || assert_ok in_lost "$NEW_V6"
	assert_ok unreach_from net "$BWE_SITE_V4" "$NEW_V4"
	assert_ok unreach_from net "$BWE_SITE_V6" "$NEW_V6"
	# the management server still answers (IPv6: see the next test)
	assert_ok reach_from lan "$NEW_V4" "$BWE_MGMT_V4"
	# report: the host's every address and how it came
	r=$(bwctl --json report "$BWE_LAN_MAC")
	assert_eq "$(jq -r '.containment.quarantine.keyed_by' <<<"$r")" mac "report keyed_by"
	assert_eq "$(jq -r --arg h "$NEW_V4" '.containment.quarantine.addresses[] | select(.address == $h) | .learnt_from' <<<"$r" | grep -cE '^(traffic|neighbour)$')" 1 "report learnt $NEW_V4"
	assert_eq "$(jq -r '.containment.quarantine.addresses | length' <<<"$r")" 4 "report addresses"
	grep -q '"action":"quarantine-learn"' "$LOG" || t_fail "no quarantine-learn event"
}
t_run "a quarantined host takes a new IPv4 and IPv6 address: learnt, cut off both ways, management still reachable" t_test_new_addresses

# IPv6 management access of a host contained by MAC needs neighbour
# discovery: the gateway solicits from its link-local address and the host
# answers to fe80::/10, a frame that stays on the link and is not the host's
# outbound traffic (xdp/bwe.bpf.c, dst_stays_on_link).
t_test_new_v6_management() {
	assert_ok wait_for 30 reach_from lan "$NEW_V6" "$BWE_MGMT_V6"
	gw ip -6 neigh show "$NEW_V6" dev lan0 | grep -q lladdr ||
		t_fail "the gateway has no neighbour entry for $NEW_V6: $(gw ip -6 neigh show dev lan0)"
}
t_run "a quarantined host reaches the management server over IPv6 from its new address" t_test_new_v6_management

t_test_restart_keeps_host() {
	stop_daemon TERM
	start_daemon || { t_fail "restart"; return; }
	assert_ok listed_q "$NEW_V4"
	assert_eq "$(jq -r '.hosts[0].mac' <<<"$(state_json)")" "$BWE_LAN_MAC" "state.json hosts"
	assert_ok unreach lan "$BWE_SITE_V4"
	assert_ok unreach_from lan "$NEW_V6" "$BWE_SITE_V6"
}
t_run "the host record and its learnt addresses survive a restart" t_test_restart_keeps_host

t_test_release() {
	assert_ok bwctl release "$NEW_V6" --reason "cleared"
	assert_eq "$(bwctl --json list quarantine | jq length)" 0 "entries left"
	assert_eq "$(jq -r '.hosts | length' <<<"$(state_json)")" 0 "host records left"
	assert_ok reach lan "$BWE_SITE_V4"
	assert_ok reach lan "$BWE_SITE_V6"
	assert_ok reach_from lan "$NEW_V4" "$BWE_SITE_V4"
	assert_ok reach_from lan "$NEW_V6" "$BWE_SITE_V6"
	! in_reachable "$NEW_V4" || assert_ok in_arrives "$NEW_V4"
	! in_reachable "$NEW_V6" || assert_ok in_arrives "$NEW_V6"
	assert_ok in_arrives "$BWE_LAN_V4"
	lan ip addr del "$NEW_V4/24" dev "$BWE_LAN_IF"
	lan ip -6 addr del "$NEW_V6/64" dev "$BWE_LAN_IF"
}
t_run "release of one address releases the host: every address reachable again" t_test_release

t_test_by_mac() {
	clean
	assert_ok bwctl quarantine "$BWE_LAN2_MAC"
	assert_ok unreach lan2 "$BWE_SITE_V4"
	assert_ok unreach lan2 "$BWE_SITE_V6"
	assert_ok reach lan2 "$BWE_MGMT_V4"
	assert_ok reach lan "$BWE_SITE_V4"
	assert_ok listed_q "$BWE_LAN2_V4"
	assert_eq "$(bwctl --json list quarantine | jq -r '[.[] | .mac] | unique | join(",")')" "$BWE_LAN2_MAC" "mac"
	bwctl quarantine "$BWE_LAN2_MAC" 2>&1 | grep -q "^quarantined $BWE_LAN2_V4 (by MAC address $BWE_LAN2_MAC)" ||
		t_fail "bwctl quarantine MAC: $(bwctl quarantine "$BWE_LAN2_MAC" 2>&1)"
	assert_ok bwctl release "$BWE_LAN2_MAC"
	assert_ok reach lan2 "$BWE_SITE_V4"
	assert_eq "$(bwctl --json list quarantine | jq length)" 0 "entries left"
}
t_run "quarantine by a MAC address given directly, release by it" t_test_by_mac

t_test_by_name() {
	local out rc
	clean
	# the hosts file of the daemon's namespace
	assert_ok bwctl quarantine "$HOSTS_NAME"
	assert_ok listed_q "$BWE_LAN2_V4"
	assert_ok unreach lan2 "$BWE_SITE_V4"
	assert_ok bwctl release "$HOSTS_NAME"
	assert_ok reach lan2 "$BWE_SITE_V4"
	# a name only DNS knows: the feed worker resolves it, the client waits
	assert_ok bwctl quarantine "$DNS_NAME"
	assert_ok listed_q "$BWE_LAN_V4"
	assert_ok listed_q "$BWE_LAN_V6"
	grep -q "query $DNS_NAME" "$DIR/dns.queries" || t_fail "the DNS server was not asked"
	assert_eq "$(bwctl --json report "$DNS_NAME" | jq -r .host)" "$BWE_LAN_V4" "report by name"
	assert_ok unreach lan "$BWE_SITE_V4"
	assert_ok bwctl release "$DNS_NAME"
	assert_ok reach lan "$BWE_SITE_V4"
	# a name nobody knows: a clear error, bad input, nothing changed
	out=$(bwctl quarantine "nosuch-$RUN.example" 2>&1); rc=$?
	assert_eq "$rc" 2 "exit status for an unknown name"
	grep -q "does not resolve" <<<"$out" || t_fail "no reason: $out"
	assert_eq "$(bwctl --json list quarantine | jq length)" 0 "entries left"
}
t_run "quarantine by host name: hosts file and DNS, resolved by the daemon" t_test_by_name

t_test_name_never_answered() {
	local t0 t1
	clean
	# a client that gives up while its name is being resolved: the job is dropped
	gw timeout 1 "$BWCTL_BIN" --socket "$SOCK" quarantine "$SILENT_NAME" >/dev/null 2>&1
	t0=$(date +%s%N)
	assert_ok bwctl status                      # the loop never waited
	assert_ok bwctl quarantine "$HOSTS_NAME"    # and answers at once meanwhile
	t1=$(date +%s%N)
	[ $(( (t1 - t0) / 1000000 )) -lt 1000 ] || t_fail "the daemon took $(( (t1 - t0) / 1000000 )) ms"
	assert_ok bwctl release "$HOSTS_NAME"
	sleep 6 # the worker's lookup times out: no reply goes to a closed client
	assert_ok bwctl status
	assert_eq "$(bwctl --json list quarantine | jq length)" 0 "entries"
	grep -q "query $SILENT_NAME" "$DIR/dns.queries" || t_fail "the DNS server was not asked"
}
t_run "a name the DNS server never answers holds nothing: the loop serves others, the job is dropped" t_test_name_never_answered

t_test_router_mac() {
	clean
	local i out rc before
	for i in $(seq 200 208); do # nine addresses behind one MAC: a router
		gw ip neigh replace "198.18.0.$i" lladdr "$ROUTER_MAC" dev lan0 nud permanent
	done
	before=$(state_json)
	out=$(bwctl quarantine "$ROUTER_MAC" 2>&1); rc=$?
	assert_eq "$rc" 2 "exit status"
	grep -q "$ROUTER_MAC has 9 internal addresses" <<<"$out" || t_fail "message: $out"
	grep -q -- "--force" <<<"$out" || t_fail "no --force hint: $out"
	assert_eq "$(state_json)" "$before" "state changed"
	# an address behind the router: quarantined by address alone
	assert_ok bwctl quarantine 198.18.0.201
	assert_eq "$(bwctl --json list quarantine | jq -r '.[] | select(.host == "198.18.0.201") | .keyed_by')" address "keyed_by"
	bwctl list quarantine | grep -qE '^198.18.0.201 +address' ||
		t_fail "bwctl list: $(bwctl list quarantine)"
	assert_ok bwctl release 198.18.0.201
	# the operator insists
	assert_ok bwctl quarantine "$ROUTER_MAC" --force
	assert_eq "$(bwctl --json list quarantine | jq length)" 9 "router's addresses"
	assert_ok bwctl release "$ROUTER_MAC"
	assert_eq "$(bwctl --json list quarantine | jq length)" 0 "entries left"
	for i in $(seq 200 208); do gw ip neigh del "198.18.0.$i" dev lan0; done
}
t_run "a MAC address with many internal addresses (a router's) is refused unless --force" t_test_router_mac

t_test_bad_macs() {
	clean
	local m out rc before
	before=$(state_json)
	for m in ff:ff:ff:ff:ff:ff 00:00:00:00:00:00 01:00:5e:00:00:01 33:33:00:00:00:01; do
		out=$(bwctl quarantine "$m" 2>&1); rc=$?
		assert_eq "$rc" 2 "$m exit status"
		grep -qE "$m is (the zero|the broadcast|a multicast) MAC address" <<<"$out" || t_fail "$m: $out"
	done
	out=$(bwctl quarantine 02:b3:00:00:00 2>&1); rc=$?
	assert_eq "$rc" 2 "short MAC exit status"
	grep -q 'not an IPv4/IPv6 address, CIDR, MAC address or host name' <<<"$out" || t_fail "short MAC: $out"
	# the gateway's own LAN MAC, and the exempt management host's address
	out=$(bwctl quarantine "$BWE_GW_LAN_MAC" 2>&1); rc=$?
	assert_eq "$rc" 2 "own MAC exit status"
	grep -q "MAC address of this gateway" <<<"$out" || t_fail "own MAC: $out"
	# the upstream router on the WAN side: its neighbour entry is not internal
	assert_ok reach lan "$BWE_SITE_V4"
	if gw ip neigh show dev wan0 | grep -qi "$BWE_NET_MAC"; then
		out=$(bwctl quarantine "$BWE_NET_MAC" 2>&1); rc=$?
		assert_eq "$rc" 2 "upstream MAC exit status"
		grep -q "outside internal_networks" <<<"$out" || t_fail "upstream MAC: $out"
	else
		t_fail "the gateway has no neighbour entry for the upstream $BWE_NET_MAC"
	fi
	assert_eq "$(state_json)" "$before" "state changed"
	assert_eq "$(bwctl --json list quarantine | jq length)" 0 "entries"
	assert_ok reach lan "$BWE_SITE_V4"
}
t_run "bad, broadcast, multicast and own MAC addresses are refused and change nothing" t_test_bad_macs

t_test_prefix64() {
	clean
	local priv=2001:db8:1::7e57
	# released, the host answers neighbour discovery again: its IPv6 address is known
	assert_ok reach lan "$BWE_SITE_V6"
	wait_for 30 bash -c "ip netns exec $BWE_NS_GW ip -6 neigh show $BWE_LAN_V6 dev lan0 | grep -q lladdr" ||
		t_fail "the gateway has no neighbour entry for $BWE_LAN_V6"
	assert_ok bwctl quarantine --prefix64 "$BWE_LAN_MAC"
	assert_ok listed_q 2001:db8:1::/64
	assert_ok listed_q "$BWE_LAN_V4"
	assert_fail listed_q "$BWE_LAN_V6"
	# anything of that /64 is cut off inbound, even an address not seen yet
	lan ip -6 addr add "$priv/64" dev "$BWE_LAN_IF" nodad
	! in_reachable "$priv" || assert_ok in_lost "$priv"
	assert_ok unreach_from lan "$priv" "$BWE_SITE_V6"
	# ... and nothing new is learnt for it: the /64 covers it
	sleep 0.5
	assert_eq "$(bwctl --json list quarantine | jq -r --arg h "$priv" 'map(.host // .cidr) | index($h)')" null "privacy address learnt"
	assert_ok bwctl release "$BWE_LAN_V4"
	assert_eq "$(bwctl --json list quarantine | jq length)" 0 "entries left"
	! in_reachable "$priv" || assert_ok in_arrives "$priv"
	lan ip -6 addr del "$priv/64" dev "$BWE_LAN_IF"
}
t_run "--prefix64 quarantines the host's whole /64" t_test_prefix64

t_summary
