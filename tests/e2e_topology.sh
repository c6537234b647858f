#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# e2e_topology.sh - the gateway topologies of scripts/testbed.sh, with real
# traffic, and bwctld on each where it enforces:
#   - the testbeds themselves (no XDP): the NAT default (the internet sees the
#     gateway's WAN address, the port forward reaches the LAN host, no route
#     into the LAN), --nat4 (v6 routed), NAT on a stick next to a guest LAN
#     (LAN to LAN untranslated), NAT on a bridge stacked on wan0;
#   - (a) router on a stick (--stick), routed and NAT (nat: both on the one
#     interface lan0): each LAN host's traffic accounted to the byte, a
#     blocked address dropped both ways (inbound: a connection from it,
#     through the port forward where the gateway translates);
#   - (c) PPPoE frames (v4, v6, 802.1Q, QinQ, compressed protocol field,
#     LCP, IPV6CP, discovery, truncated) written onto the stick with
#     tests/tools/inject land on the verdict counters they must, and on the
#     host's bytes;
#   - (b) two LAN interfaces (--guest), routed and NAT: staff 198.18.0.0/24
#     on lan0 and guest 198.18.1.0/24 on lan1, both internal: both accounted
#     and enforced, staff <-> guest is transit (counted, never dropped, no
#     host accounted), a quarantined guest host is cut off both ways while
#     the staff LAN is not.
#
# Needs root, ip, ping, curl, python3, socat, jq, timeout, setsid, nft, and
# build/bwctld, build/bwctl, build/tools/inject (make). Everything lives in
# namespaces, a bpffs and a directory of this run, removed on exit. About 45 s
# on 2 cores.
#
# Environment: E2E_ONLY, a regex: run only the tests whose name matches;
# T_TIMEOUT and T_VERBOSE (tests/lib.sh).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
t_require_root

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TESTBED=$ROOT/scripts/testbed.sh
INJECT=$ROOT/build/tools/inject
T_TIMEOUT=${T_TIMEOUT:-40}

HTTP_PORT=8081		# the internet host's HTTP server (8080 is the port forward)
PINGS=10		# echo requests per accounting test
PING_SIZE=1000		# ICMP payload bytes (ping -s)
ETH_HLEN=14 IPV4_HLEN=20 IPV6_HLEN=40 ICMP_HLEN=8
INJECT_COUNT=3		# crafted frames per row
QHOST_V4=198.18.0.23	# quarantined, never used by a host: crafted frames only
QHOST_V6=2001:db8:1::23
PPPOE_SID=42

for tool in ip ping curl python3 socat jq timeout setsid nft; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		t_begin "tools"
		t_skip "$tool not installed (scripts/setup-deps.sh)"
		t_summary
		exit 0
	fi
done
for f in "$ROOT/build/bwctld" "$ROOT/build/bwctl" "$INJECT"; do
	if [ ! -x "$f" ]; then
		t_begin "build"
		t_fail "$f missing: run make"
		t_summary
		exit 1
	fi
done

# shellcheck source=tests/lib_bwe.sh
. "$ROOT/tests/lib_bwe.sh"

run() { # NAME FUNC [ARGS]: t_run unless E2E_ONLY leaves it out
	[ -z "${E2E_ONLY:-}" ] || [[ "$1" =~ $E2E_ONLY ]] || return 0
	t_run "$@"
	return 0
}
# Whether any of the test names (one a line) is to run: a section builds its
# testbed and starts bwctld only then.
section_on() { # NAMES
	local n
	[ -n "${E2E_ONLY:-}" ] || return 0
	while IFS= read -r n; do
		[[ "$n" =~ $E2E_ONLY ]] && return 0
	done <<<"$1"
	return 1
}

# ------------------------------------------------------------------ helpers

uhost() { case $1 in *:*) echo "[$1]" ;; *) echo "$1" ;; esac; }
sw() { ip netns exec "$BWE_NS_SW" "$@"; }
guest() { ip netns exec "$BWE_NS_GUEST" "$@"; }

# Up a testbed inside a test (removed when the test ends); sources its env.
tb_up() { # OPTIONS... (the run id is added)
	local id="tp$$_$RANDOM"
	t_atexit "$TESTBED" down "$id"
	assert_ok "$TESTBED" up "$@" "$id"
	# shellcheck disable=SC1090
	. "/run/bwenforce-testbed/$id.env"
}

# A dual-stack HTTP server on every address of the internet host; its log
# names each client address.
http_server() { # LOGFILE
	local d i
	d=$(t_tmpdir)
	echo ok >"$d/ok"
	net timeout 30 python3 -u -m http.server "$HTTP_PORT" --bind :: --directory "$d" \
		</dev/null >"$1" 2>&1 &
	for i in $(seq 50); do
		net curl -s --max-time 1 -o /dev/null "http://127.0.0.1:$HTTP_PORT/ok" && return 0
		sleep 0.1
	done
	t_fail "http server did not start: $(cat "$1")"
}

# The internet host's HTTP server saw a request from ADDR.
http_seen_from() { # LOGFILE NSFUNC URL-HOST ADDR
	local body
	body=$("$2" curl -sS --max-time 5 "http://$(uhost "$3"):$HTTP_PORT/ok" 2>&1)
	assert_eq "$body" ok "body from $3"
	# v4 clients show up v4-mapped on the dual-stack socket
	assert_ok grep -Eq "^(::ffff:)?${4//./\\.} .*GET /ok" "$1"
}

# One TCP connection and one UDP datagram from the internet host to the
# gateway's WAN address, port BWE_FWD_PORT: both reach the LAN host.
port_forward_ok() { # 4|6
	local f=$1 wan fwd d lpid i
	eval "wan=\$BWE_GW_WAN_V$f fwd=\$BWE_FWD_V$f"
	d=$(t_tmpdir)
	lan timeout 5 socat -u "TCP$f-LISTEN:$BWE_FWD_PORT,bind=$(uhost "$fwd"),reuseaddr" \
		"OPEN:$d/tcp,creat,trunc" &
	lpid=$!
	for i in $(seq 30); do
		lan ss -Hltn "sport = :$BWE_FWD_PORT" | grep -q . && break
		sleep 0.1
	done
	assert_ok net timeout 5 socat -u "SYSTEM:echo tcp-$f" "TCP$f:$(uhost "$wan"):$BWE_FWD_PORT"
	wait "$lpid"
	assert_eq "$(cat "$d/tcp" 2>/dev/null)" "tcp-$f" "TCP through the v$f port forward"

	ip netns exec "$BWE_NS_LAN" timeout 5 socat -u "UDP$f-RECV:$BWE_FWD_PORT,bind=$(uhost "$fwd")" \
		"OPEN:$d/udp,creat,append" &
	lpid=$!
	for i in $(seq 30); do
		lan ss -Hlun "sport = :$BWE_FWD_PORT" | grep -q . && break
		sleep 0.1
	done
	for i in $(seq 20); do
		net socat -u "SYSTEM:echo udp-$f" "UDP$f-SENDTO:$(uhost "$wan"):$BWE_FWD_PORT"
		grep -q "udp-$f" "$d/udp" 2>/dev/null && break
		sleep 0.1
	done
	kill "$lpid" 2>/dev/null
	wait "$lpid" 2>/dev/null
	assert_ok grep -q "udp-$f" "$d/udp"
}

# ping NSFUNC [-I SRC] DST: one echo within a second (reach/unreach of lib_bwe
# take no source).
reach_from() { # NSFUNC SRC DST
	"$1" ping -c1 -W1 -q -I "$2" "$3" >/dev/null 2>&1
}

# bwctld on the current testbed's gateway with IFACES (NAME or NAME:NAT,
# NAT as interfaces[].nat says it) and internal NETS.
topo_daemon() { # "IFACES" "NETS, comma separated"
	local i
	{
		echo "interfaces:"
		for i in $1; do
			case $i in
			*:*) echo "  - { name: ${i%%:*}, mode: native, nat: ${i#*:} }" ;;
			*) echo "  - { name: $i, mode: native }" ;;
			esac
		done
		cat <<EOC
internal_networks: [ $2 ]
exempt: [ $BWE_MGMT_V4/32, $BWE_DNS_V4/32, $BWE_MGMT_V6/128, $BWE_DNS_V6/128 ]
paths:
  pin_dir: $DIR/bpf/bwe
  state_dir: $DIR/state
  socket: $SOCK
  event_log: $LOG
event_dedup: 5s
EOC
	} >"$CFG"
	start_daemon ""
}

stats() { bwctl --json stats; }
# Packets of a counter between two stats: PATH is a jq path such as
# .reasons.block or .directions.inbound.pass.
dpk() { # BEFORE AFTER PATH
	jq -n --argjson a "$1" --argjson b "$2" "(\$b$3.packets // 0) - (\$a$3.packets // 0)"
}
dby() { # BEFORE AFTER PATH
	jq -n --argjson a "$1" --argjson b "$2" "(\$b$3.bytes // 0) - (\$a$3.bytes // 0)"
}
DROP_COUNTERS="block quarantine throttle malformed"

# A quiet address on a LAN host: nothing but the test's pings comes from it.
# IPv6: static neighbours both ways, so no NS is sent from it (that would be
# a correctly counted packet the test did not send).
quiet_addr() { # NSFUNC HOST_MAC GW_IF GW_MAC GW_ADDR ADDR
	local ns=$1 mac=$2 gif=$3 gmac=$4 gaddr=$5 a=$6
	case $a in
	*:*)
		assert_ok "$ns" ip addr add "$a/64" dev eth0 nodad
		t_atexit "$ns ip addr del $a/64 dev eth0 2>/dev/null"
		assert_ok "$ns" ip -6 neigh replace "$gaddr" lladdr "$gmac" dev eth0 nud permanent
		t_atexit "$ns ip -6 neigh del $gaddr dev eth0 2>/dev/null"
		assert_ok gw ip -6 neigh replace "$a" lladdr "$mac" dev "$gif" nud permanent
		t_atexit "gw ip -6 neigh del $a dev $gif 2>/dev/null"
		;;
	*)
		assert_ok "$ns" ip addr add "$a/24" dev eth0
		t_atexit "$ns ip addr del $a/24 dev eth0 2>/dev/null"
		;;
	esac
}

# PINGS echoes of PING_SIZE bytes from ADDR to DST, then ADDR's accounting
# is exactly those frames both ways.
acct_exact() { # NSFUNC ADDR DST
	local ns=$1 a=$2 dst=$3 frame look host
	case $a in
	*:*) frame=$((ETH_HLEN + IPV6_HLEN + ICMP_HLEN + PING_SIZE)) ;;
	*) frame=$((ETH_HLEN + IPV4_HLEN + ICMP_HLEN + PING_SIZE)) ;;
	esac
	assert_eq "$(bwctl --json top --once -n 65536 | jq --arg h "$a" '[.[] | select(.host == $h)] | length')" \
		0 "$a known before it sent anything"
	assert_ok "$ns" ping -n -q -c "$PINGS" -i 0.01 -W 1 -s "$PING_SIZE" -I "$a" "$dst"
	host=$(bwctl --json top --once -n 65536 | jq -c --arg h "$a" '.[] | select(.host == $h)')
	[ -n "$host" ] || t_fail "$a not in bwctl top"
	assert_eq "$(jq .tx_packets <<<"$host")" "$PINGS" "$a tx_packets"
	assert_eq "$(jq .rx_packets <<<"$host")" "$PINGS" "$a rx_packets"
	assert_eq "$(jq .tx_bytes <<<"$host")" $((PINGS * frame)) "$a tx_bytes"
	assert_eq "$(jq .rx_bytes <<<"$host")" $((PINGS * frame)) "$a rx_bytes"
	assert_eq "$(jq .drop_packets <<<"$host")" 0 "$a drop_packets"
	# top sampled the map just now: lookup gives the same figures
	look=$(bwctl --json lookup "$a")
	assert_eq "$(jq .tx_bytes <<<"$look")" $((PINGS * frame)) "$a lookup tx_bytes"
	echo "$a: $PINGS x $frame B each way, counted exactly"
}

# ------------------------------------------------------------------ the testbeds

t_nat_default() {
	local log
	tb_up
	assert_eq "$BWE_TOPOLOGY/$BWE_NAT4/$BWE_NAT6/$BWE_LAYOUT" "nat/1/1/inline" "env topology"
	assert_eq "$BWE_GW_IFS" "lan0 wan0" "gateway interfaces"
	assert_ok gw nft list table ip nat
	assert_ok gw nft list table ip6 nat
	log=$(t_tmpdir)/http.log
	http_server "$log"
	# masqueraded: the internet sees the gateway's WAN address, both families
	http_seen_from "$log" lan "$BWE_SITE_V4" "$BWE_GW_WAN_V4"
	http_seen_from "$log" lan "$BWE_SITE_V6" "$BWE_GW_WAN_V6"
	http_seen_from "$log" lan2 "$BWE_MGMT_V4" "$BWE_GW_WAN_V4"
	assert_fail grep -q "$BWE_LAN_V4 \|$BWE_LAN_V6 " "$log"
	# no route into the LAN: inbound only through the port forward
	assert_fail net ip route get "$BWE_LAN_V4"
	assert_fail net ip -6 route get "$BWE_LAN_V6"
	port_forward_ok 4
	port_forward_ok 6
}

t_nat4() {
	local log
	tb_up --nat4
	assert_eq "$BWE_TOPOLOGY/$BWE_NAT4/$BWE_NAT6" "nat4/1/0" "env topology"
	assert_fail gw nft list table ip6 nat
	log=$(t_tmpdir)/http.log
	http_server "$log"
	http_seen_from "$log" lan "$BWE_SITE_V4" "$BWE_GW_WAN_V4"
	http_seen_from "$log" lan "$BWE_SITE_V6" "$BWE_LAN_V6"
	assert_fail net ip route get "$BWE_LAN_V4"
	assert_ok net ping -c1 -W2 -q "$BWE_LAN_V6"
	port_forward_ok 4
}

t_nat_stick_guest() {
	local log glog
	tb_up --stick --guest
	assert_eq "$BWE_TOPOLOGY/$BWE_LAYOUT/$BWE_GUEST" "nat/stick/1" "env topology"
	assert_eq "$BWE_GW_IFS" "lan0 lan1" "gateway interfaces"
	assert_eq "$BWE_GW_WAN_IF" lan0 "WAN interface of a stick"
	assert_fail gw ip link show dev wan0
	# the internet host hangs off the LAN bridge
	assert_ok sw ip link show dev p-net master br-lan
	log=$(t_tmpdir)/http.log
	http_server "$log"
	http_seen_from "$log" lan "$BWE_SITE_V4" "$BWE_GW_WAN_V4"
	http_seen_from "$log" lan "$BWE_SITE_V6" "$BWE_GW_WAN_V6"
	http_seen_from "$log" guest "$BWE_SITE_V4" "$BWE_GW_WAN_V4"
	http_seen_from "$log" guest "$BWE_SITE_V6" "$BWE_GW_WAN_V6"
	port_forward_ok 4
	port_forward_ok 6
	# staff -> guest goes through the gateway untranslated
	glog=$(t_tmpdir)/guest.log
	guest timeout 20 python3 -u -m http.server "$HTTP_PORT" --bind :: --directory "$(t_tmpdir)" \
		</dev/null >"$glog" 2>&1 &
	assert_ok wait_for 50 lan curl -s --max-time 1 -o /dev/null "http://$BWE_GUEST_V4:$HTTP_PORT/"
	assert_ok grep -q "$BWE_LAN_V4 " "$glog"
	assert_ok lan curl -s --max-time 2 -o /dev/null "http://[$BWE_GUEST_V6]:$HTTP_PORT/"
	assert_ok grep -q "$BWE_LAN_V6 " "$glog"
	# down removes every namespace of the run, the guest's too
	assert_ok "$TESTBED" down "$BWE_RUN"
	assert_eq "$(ip netns list | awk '{print $1}' | grep -c "^bwe-$BWE_RUN-")" 0 "namespaces left"
	assert_fail test -e "$BWE_ENV"
}

# The kernel translates on a bridge stacked on wan0 (as on ppp0 over a PPPoE
# NIC): the testbed for that case, docs/deployment.md "NAT gateway".
t_nat_wan_bridge() {
	local log
	tb_up --wan-bridge
	assert_eq "$BWE_GW_WAN_IF/$BWE_GW_NAT_IF/$BWE_WAN_BRIDGE" "wan0/br-wan/1" "env"
	assert_ok gw ip link show dev wan0 master br-wan
	assert_eq "$(gw ip -o addr show dev br-wan scope global | awk '{print $4}' | sort | tr '\n' ' ')" \
		"$BWE_GW_WAN_V4/24 $BWE_GW_WAN_V6/64 " "addresses on br-wan"
	assert_eq "$(gw ip -o addr show dev wan0 scope global)" "" "global addresses on wan0"
	assert_ok gw sh -c "nft list table ip nat | grep -q 'oifname \"br-wan\" masquerade'"
	log=$(t_tmpdir)/http.log
	http_server "$log"
	http_seen_from "$log" lan "$BWE_SITE_V4" "$BWE_GW_WAN_V4"
	http_seen_from "$log" lan "$BWE_SITE_V6" "$BWE_GW_WAN_V6"
	port_forward_ok 4
}

run "NAT testbed (default): masquerade v4 and v6, port forward, no route in" t_nat_default
run "--nat4 testbed: v4 translated, v6 routed" t_nat4
run "NAT on a stick with a guest LAN: translated to the WAN address, LAN to LAN not" \
	t_nat_stick_guest
run "NAT on a bridge over wan0 (--wan-bridge): addresses and translation on br-wan" \
	t_nat_wan_bridge

# ------------------------------------------------------------------ with bwctld

# Sections (a) and (b) run on a routed testbed and on a NAT one (masquerade
# and NAT66, the translating interface declared with nat: both): inbound
# traffic to a LAN host then goes through the port forward, and bwctld's TC
# egress program judges it on the LAN side.
TOPO=routed	# the section's translation: routed or nat

# One TCP connection from the internet host, bound to SRC, to the LAN host
# HOST (in namespace NS) on PORT: directly where the family is routed,
# through the gateway's port forward where it is translated. 0 when the data
# arrived.
inbound_ok() { # NS FAMILY SRC HOST PORT
	local ns=$1 f=$2 src=$3 host=$4 port=$5 dst d lpid i
	if is_nat "$f"; then eval "dst=\$BWE_GW_WAN_V$f"; else dst=$host; fi
	t_tmpdir d
	# the listener of an earlier call may still be going away
	for i in $(seq 30); do
		ip netns exec "$ns" ss -Hltn "sport = :$port" | grep -q . || break
		sleep 0.1
	done
	# started straight (ip execs timeout): killing $! ends the listener
	ip netns exec "$ns" timeout 5 socat -u "TCP$f-LISTEN:$port,bind=$(uhost "$host"),reuseaddr" \
		"OPEN:$d/got,creat,trunc" </dev/null >/dev/null 2>&1 &
	lpid=$!
	for i in $(seq 30); do
		ip netns exec "$ns" ss -Hltn "sport = :$port" | grep -q . && break
		sleep 0.1
	done
	net timeout 4 socat -u "SYSTEM:echo in-$f" \
		"TCP$f:$(uhost "$dst"):$port,bind=$(uhost "$src"),connect-timeout=2" </dev/null >/dev/null 2>&1
	kill "$lpid" 2>/dev/null
	wait "$lpid" 2>/dev/null
	[ "$(cat "$d/got" 2>/dev/null)" = "in-$f" ]
}

# The same, tried up to three times: for connections that must get through
# on a loaded machine (one that must not is tried once; a drop is certain).
inbound_gets_through() { # NS FAMILY SRC HOST PORT
	inbound_ok "$@" || inbound_ok "$@" || inbound_ok "$@"
}

# ---- (a) router on a stick

t_stick_attached() {
	local st want=none
	[ "$TOPO" = nat ] && want=both
	st=$(bwctl --json status)
	assert_eq "$(jq -c '[.interfaces[] | .name]' <<<"$st")" '["lan0"]' "interfaces"
	assert_eq "$(jq -r '.interfaces[0].state' <<<"$st")" attached "lan0 state"
	assert_eq "$(jq -r '.interfaces[0].nat // "none"' <<<"$st")" "$want" "lan0 nat"
	if [ "$TOPO" = nat ]; then
		[ "$(jq -r '.interfaces[0].tc_egress_prog_id // 0' <<<"$st")" -gt 0 ] ||
			t_fail "no TC egress program on lan0: $st"
	fi
	assert_fail gw ip link show dev wan0
}

t_stick_accounting() {
	quiet_addr lan "$BWE_LAN_MAC" lan0 "$BWE_GW_LAN_MAC" "$BWE_GW_LAN_V6" 198.18.0.41
	quiet_addr lan "$BWE_LAN_MAC" lan0 "$BWE_GW_LAN_MAC" "$BWE_GW_LAN_V6" 2001:db8:1::41
	quiet_addr lan2 "$BWE_LAN2_MAC" lan0 "$BWE_GW_LAN_MAC" "$BWE_GW_LAN_V6" 198.18.0.42
	acct_exact lan 198.18.0.41 "$BWE_SITE_V4"
	acct_exact lan 2001:db8:1::41 "$BWE_SITE_V6"
	acct_exact lan2 198.18.0.42 "$BWE_RELAY_V4"
}

t_stick_block() {
	local before after f c2 lan_a site
	before=$(stats)
	assert_ok bwctl block "$BWE_C2_V4" "$BWE_C2_V6"
	t_atexit "bwctl unblock $BWE_C2_V4 $BWE_C2_V6 >/dev/null 2>&1"
	for f in 4 6; do
		eval "c2=\$BWE_C2_V$f lan_a=\$BWE_LAN_V$f site=\$BWE_SITE_V$f"
		assert_fail reach lan "$c2"
		inbound_ok "$BWE_NS_LAN" "$f" "$c2" "$lan_a" "$BWE_FWD_PORT" && t_fail "v$f: $c2 reached $lan_a"
		assert_ok wait_for 5 reach lan "$site"
		inbound_gets_through "$BWE_NS_LAN" "$f" "$site" "$lan_a" "$BWE_FWD_PORT" || t_fail "v$f: $site did not reach $lan_a"
	done
	after=$(stats)
	[ "$(dpk "$before" "$after" .directions.outbound.block)" -ge 2 ] || t_fail "no outbound block drops"
	# routed: judged inbound; translated: dropped at XDP before any LAN host is known
	[ "$(dpk "$before" "$after" .reasons.block)" -ge 4 ] || t_fail "no inbound block drops"
	[ "$TOPO" = nat ] || [ "$(dpk "$before" "$after" .directions.inbound.block)" -ge 2 ] ||
		t_fail "no inbound block drops counted inbound"
	assert_ok bwctl unblock "$BWE_C2_V4" "$BWE_C2_V6"
	assert_ok wait_for 20 reach lan "$BWE_C2_V4"
	assert_ok wait_for 5 reach lan "$BWE_C2_V6"
}

# ---- PPPoE crafted frames, written on p-gw (the bridge port wired to lan0):
# they reach the program byte for byte.

# NAME|COUNTERS|DIRECTION|INJECT ARGS: each named counter moves by
# INJECT_COUNT frames (and their bytes), the first one under DIRECTION;
# every drop counter not named stays still.
L4="--proto udp --sport 40000 --dport 53 --payload 32"
pppoe_rows() { # after the testbed's env is read: the addresses are expanded here
	cat <<EOR
PPPoE IPv4 to a blocked address|block|outbound|--src $BWE_LAN_V4 --dst $BWE_C2_V4 $L4 --pppoe $PPPOE_SID
PPPoE IPv6 from a blocked address|block|inbound|--src $BWE_C2_V6 --dst $BWE_LAN_V6 $L4 --pppoe $PPPOE_SID
PPPoE IPv4 in 802.1Q to a blocked address|block|outbound|--src $BWE_LAN_V4 --dst $BWE_C2_V4 --proto tcp --dport 443 --vlan 10 --pppoe $PPPOE_SID
PPPoE IPv6 in QinQ, one-byte PPP protocol, to a blocked address|block|outbound|--src $BWE_LAN_V6 --dst $BWE_C2_V6 $L4 --vlan 100,200 --pppoe $PPPOE_SID --ppp-pfc
PPPoE later IPv4 fragment to a blocked address|block fragment|outbound|--src $BWE_LAN_V4 --dst $BWE_C2_V4 --proto udp --payload 64 --frag-offset 185 --pppoe $PPPOE_SID
PPPoE IPv4 of a quarantined host|quarantine|outbound|--src $QHOST_V4 --dst $BWE_SITE_V4 $L4 --pppoe $PPPOE_SID
PPPoE IPv6 to a quarantined host, 802.1Q|quarantine|inbound|--src $BWE_SITE_V6 --dst $QHOST_V6 $L4 --vlan 7 --pppoe $PPPOE_SID
PPPoE IPv4 to a normal site passes|pass|outbound|--src $BWE_LAN_V4 --dst $BWE_SITE_V4 $L4 --pppoe $PPPOE_SID
PPPoE LCP is not IP|non_ip|none|--pppoe $PPPOE_SID --ppp-proto c021 --payload 14
PPPoE IPV6CP in 802.1Q is not IP|non_ip|none|--pppoe $PPPOE_SID --ppp-proto 8057 --payload 14 --vlan 10
PPPoE discovery (PADI) is not IP|non_ip|none|--ethertype 8863 --payload 24
PPPoE session header cut short|malformed|none|--src $BWE_LAN_V4 --dst $BWE_C2_V4 $L4 --pppoe $PPPOE_SID --truncate 18
PPPoE PPP protocol cut short, 802.1Q|malformed|none|--src $BWE_LAN_V6 --dst $BWE_C2_V6 $L4 --vlan 10 --pppoe $PPPOE_SID --truncate 25
PPPoE IPv4 header cut short|malformed|none|--src $BWE_LAN_V4 --dst $BWE_C2_V4 $L4 --pppoe $PPPOE_SID --truncate 40
EOR
}

t_pppoe() { # COUNTERS DIRECTION INJECT-ARGS...
	local want=$1 dir=$2 out len before after c d i n first
	shift 2
	assert_ok bwctl block "$BWE_C2_V4" "$BWE_C2_V6"
	t_atexit "bwctl unblock $BWE_C2_V4 $BWE_C2_V6 >/dev/null 2>&1"
	assert_ok bwctl quarantine "$QHOST_V4" "$QHOST_V6"
	t_atexit "bwctl release $QHOST_V4 $QHOST_V6 >/dev/null 2>&1"
	before=$(stats)
	out=$(sw "$INJECT" -i p-gw --dmac "$BWE_GW_LAN_MAC" --smac "$BWE_LAN_MAC" \
		--count "$INJECT_COUNT" "$@" 2>&1) || t_fail "inject: $out"
	len=$(sed -n 's/^sent [0-9]* frames of \([0-9]*\) bytes$/\1/p' <<<"$out")
	[ -n "$len" ] || t_fail "inject said: $out"
	# the verdict is counted before the frame goes on: give the last a moment
	for i in $(seq 10); do
		after=$(stats)
		n=0
		for c in $want; do
			d=$(jq -n --argjson a "$before" --argjson b "$after" --arg c "$c" \
				'($b.reasons + $b.anomalies)[$c].packets - ($a.reasons + $a.anomalies)[$c].packets')
			[ "$d" -ge "$INJECT_COUNT" ] && n=$((n + 1))
		done
		[ "$n" = "$(wc -w <<<"$want")" ] && break
		sleep 0.1
	done
	first=${want%% *}
	for c in $want; do
		d=$(jq -rn --argjson a "$before" --argjson b "$after" --arg c "$c" \
			'($b.reasons + $b.anomalies)[$c] as $y | ($a.reasons + $a.anomalies)[$c] as $x
			 | "\($y.packets - $x.packets) \($y.bytes - $x.bytes)"')
		case $c in
		pass | non_ip) # other traffic may pass too: at least ours
			[ "${d% *}" -ge "$INJECT_COUNT" ] || t_fail "$c +${d% *} packets, want >= $INJECT_COUNT" ;;
		*)
			assert_eq "$d" "$INJECT_COUNT $((INJECT_COUNT * len))" "$c packets and bytes" ;;
		esac
	done
	d=$(dpk "$before" "$after" ".directions.$dir.$first")
	[ "$d" -ge "$INJECT_COUNT" ] || t_fail "$first under $dir: +$d packets"
	for c in $DROP_COUNTERS; do
		case " $want " in *" $c "*) continue ;; esac
		assert_eq "$(dpk "$before" "$after" ".reasons.$c")" 0 "$c packets (not expected)"
	done
	echo "$INJECT_COUNT x $len B: $want ($dir)"
}

# PPPoE frames of a quiet host are its bytes, PPPoE header included.
t_pppoe_accounting() {
	local a=198.18.0.46 out len look
	# shellcheck disable=SC2086
	out=$(sw "$INJECT" -i p-gw --dmac "$BWE_GW_LAN_MAC" --smac "$BWE_LAN_MAC" --count "$INJECT_COUNT" \
		--src "$a" --dst "$BWE_SITE_V4" $L4 --vlan 10 --pppoe "$PPPOE_SID" 2>&1) ||
		t_fail "inject: $out"
	len=$(sed -n 's/^sent [0-9]* frames of \([0-9]*\) bytes$/\1/p' <<<"$out")
	[ -n "$len" ] || t_fail "inject said: $out"
	for _ in $(seq 20); do
		look=$(bwctl --json top --once -n 65536 | jq -c --arg h "$a" '.[] | select(.host == $h)')
		[ -n "$look" ] && [ "$(jq .tx_packets <<<"$look")" = "$INJECT_COUNT" ] && break
		sleep 0.1
	done
	[ -n "$look" ] || t_fail "$a not in bwctl top"
	assert_eq "$(jq .tx_packets <<<"$look")" "$INJECT_COUNT" "tx_packets"
	assert_eq "$(jq .tx_bytes <<<"$look")" $((INJECT_COUNT * len)) "tx_bytes"
	assert_eq "$(jq .rx_packets <<<"$look")" 0 "rx_packets"
	echo "$a: $INJECT_COUNT PPPoE frames of $len B = $((INJECT_COUNT * len)) B"
}

for TOPO in routed nat; do
	STICK_NAMES="stick, $TOPO: bwctld attached to the one interface lan0
stick, $TOPO: LAN hosts accounted per host, to the byte (v4, v6, two hosts)
stick, $TOPO: a blocked address is dropped both ways, v4 and v6, and lifted"
	PPPOE_NAMES=""
	if [ "$TOPO" = routed ]; then
		PPPOE_NAMES="$(pppoe_rows | sed -n 's/^\([^|]*\)|.*/stick, routed: \1/p')
stick, routed: PPPoE frames of a host are its bytes, headers included"
	fi
	section_on "$STICK_NAMES"$'\n'"$PPPOE_NAMES" || continue
	bwe_testbed_up "tops$TOPO" --stick "--$TOPO"
	if ! topo_daemon "lan0:$([ "$TOPO" = nat ] && echo both || echo none)" \
		"$BWE_LAN_NET_V4, $BWE_LAN_NET_V6"; then
		t_begin "stick, $TOPO: bwctld starts on lan0"
		t_fail "bwctld did not start"
		continue
	fi
	run "$(sed -n 1p <<<"$STICK_NAMES")" t_stick_attached
	run "$(sed -n 2p <<<"$STICK_NAMES")" t_stick_accounting
	run "$(sed -n 3p <<<"$STICK_NAMES")" t_stick_block
	if [ "$TOPO" = routed ]; then
		# (c) PPPoE: one topology is enough, the frames never leave lan0
		while IFS='|' read -r name counters dir args; do
			[ -n "$name" ] || continue
			# shellcheck disable=SC2086
			run "stick, routed: $name" t_pppoe "$counters" "$dir" $args
		done < <(pppoe_rows)
		run "stick, routed: PPPoE frames of a host are its bytes, headers included" \
			t_pppoe_accounting
	fi
	stop_daemon TERM
	"$TESTBED" down "$RUN" >/dev/null 2>&1
done

# ---- NAT on a device stacked on the attached NIC (a bridge over wan0)

# bwctld attaches to wan0 (nat: both); the kernel translates on br-wan, so
# replies reach the TC egress program carrying br-wan's ifindex.
t_bridge_accounting() {
	quiet_addr lan "$BWE_LAN_MAC" lan0 "$BWE_GW_LAN_MAC" "$BWE_GW_LAN_V6" 198.18.0.44
	quiet_addr lan "$BWE_LAN_MAC" lan0 "$BWE_GW_LAN_MAC" "$BWE_GW_LAN_V6" 2001:db8:1::44
	acct_exact lan 198.18.0.44 "$BWE_SITE_V4"
	acct_exact lan 2001:db8:1::44 "$BWE_SITE_V6"
}

t_bridge_quarantine() {
	local before after
	inbound_gets_through "$BWE_NS_LAN" 4 "$BWE_SITE_V4" "$BWE_LAN_V4" "$BWE_FWD_PORT" ||
		t_fail "$BWE_SITE_V4 did not reach $BWE_LAN_V4 before the quarantine"
	before=$(stats)
	assert_ok bwctl quarantine "$BWE_LAN_V4" "$BWE_LAN_V6"
	t_atexit "bwctl release $BWE_LAN_V4 $BWE_LAN_V6 >/dev/null 2>&1"
	inbound_ok "$BWE_NS_LAN" 4 "$BWE_SITE_V4" "$BWE_LAN_V4" "$BWE_FWD_PORT" &&
		t_fail "v4: the port forward reached a quarantined host"
	inbound_ok "$BWE_NS_LAN" 6 "$BWE_SITE_V6" "$BWE_LAN_V6" "$BWE_FWD_PORT" &&
		t_fail "v6: the port forward reached a quarantined host"
	after=$(stats)
	[ "$(dpk "$before" "$after" .directions.inbound.quarantine)" -ge 2 ] ||
		t_fail "no inbound quarantine drops at the LAN egress"
	assert_ok bwctl release "$BWE_LAN_V4" "$BWE_LAN_V6"
	inbound_gets_through "$BWE_NS_LAN" 4 "$BWE_SITE_V4" "$BWE_LAN_V4" "$BWE_FWD_PORT" ||
		t_fail "released: $BWE_SITE_V4 did not reach $BWE_LAN_V4"
}

# A layer-3 device (tun, WireGuard, GRE, PPP) has no Ethernet header for the
# program to read: bwctld refuses it and says where to attach instead.
t_l3_refused() {
	local st
	st=$(bwctl --json status)
	assert_eq "$(jq -r '.interfaces[] | select(.name == "tun0") | .state' <<<"$st")" detached \
		"tun0 state"
	jq -e '.interfaces[] | select(.name == "tun0") | .note | test("not an Ethernet interface")' \
		<<<"$st" >/dev/null || t_fail "no note on tun0: $(jq -c '.interfaces' <<<"$st")"
	assert_eq "$(gw ip -j link show dev tun0 | jq -r '.[0].xdp.prog.id // empty')" "" "XDP on tun0"
	assert_eq "$(jq -r '[.interfaces[] | select(.state == "attached")] | length' <<<"$st")" 2 \
		"lan0 and wan0 attached all the same"
}

BRIDGE_NAMES="NAT on br-wan over wan0: replies of both families accounted to the host, to the byte
NAT on br-wan over wan0: a quarantined host's port forward is cut, release restores it
a layer-3 interface (tun) is refused with a note, the others attach"
if section_on "$BRIDGE_NAMES"; then
	bwe_testbed_up "topb" --wan-bridge
	gw ip tuntap add dev tun0 mode tun
	if topo_daemon "lan0 wan0:both tun0" "$BWE_LAN_NET_V4, $BWE_LAN_NET_V6"; then
		run "$(sed -n 1p <<<"$BRIDGE_NAMES")" t_bridge_accounting
		run "$(sed -n 2p <<<"$BRIDGE_NAMES")" t_bridge_quarantine
		run "$(sed -n 3p <<<"$BRIDGE_NAMES")" t_l3_refused
	else
		t_begin "NAT on br-wan: bwctld starts on lan0 and wan0"
		t_fail "bwctld did not start"
	fi
	stop_daemon TERM
	"$TESTBED" down "$RUN" >/dev/null 2>&1
fi

# ---- (b) two LAN interfaces

t_two_accounting() {
	assert_eq "$(bwctl --json status | jq -c '[.interfaces[] | select(.state == "attached") | .name] | sort')" \
		'["lan0","lan1","wan0"]' "attached interfaces"
	quiet_addr lan "$BWE_LAN_MAC" lan0 "$BWE_GW_LAN_MAC" "$BWE_GW_LAN_V6" 198.18.0.43
	quiet_addr guest "$BWE_GUEST_MAC" lan1 "$BWE_GW_GUEST_MAC" "$BWE_GW_GUEST_V6" 198.18.1.43
	quiet_addr guest "$BWE_GUEST_MAC" lan1 "$BWE_GW_GUEST_MAC" "$BWE_GW_GUEST_V6" 2001:db8:4::43
	acct_exact lan 198.18.0.43 "$BWE_SITE_V4"
	acct_exact guest 198.18.1.43 "$BWE_SITE_V4"
	acct_exact guest 2001:db8:4::43 "$BWE_SITE_V6"
}

t_two_block() {
	local f c2 site before after
	before=$(stats)
	assert_ok bwctl block "$BWE_C2_V4" "$BWE_C2_V6"
	t_atexit "bwctl unblock $BWE_C2_V4 $BWE_C2_V6 >/dev/null 2>&1"
	for f in 4 6; do
		eval "c2=\$BWE_C2_V$f site=\$BWE_SITE_V$f"
		assert_fail reach lan "$c2"
		assert_fail reach guest "$c2"
		inbound_ok "$BWE_NS_GUEST" "$f" "$c2" "$(eval echo "\$BWE_GUEST_V$f")" "$BWE_FWD_GUEST_PORT" &&
			t_fail "v$f: $c2 reached the guest host"
		inbound_ok "$BWE_NS_LAN" "$f" "$c2" "$(eval echo "\$BWE_LAN_V$f")" "$BWE_FWD_PORT" &&
			t_fail "v$f: $c2 reached the staff host"
		assert_ok wait_for 5 reach lan "$site"
		assert_ok wait_for 5 reach guest "$site"
	done
	after=$(stats)
	[ "$(dpk "$before" "$after" .directions.outbound.block)" -ge 4 ] || t_fail "outbound block drops"
	[ "$(dpk "$before" "$after" .reasons.block)" -ge 8 ] || t_fail "inbound block drops"
	[ "$TOPO" = nat ] || [ "$(dpk "$before" "$after" .directions.inbound.block)" -ge 4 ] ||
		t_fail "inbound block drops counted inbound"
}

# staff <-> guest: each echo and reply is seen once, on the interface it
# arrives by, and counted transit; no host is accounted for it, nothing is
# dropped.
t_two_transit() {
	local before after a=198.18.0.44 g=198.18.1.44 top n c
	quiet_addr lan "$BWE_LAN_MAC" lan0 "$BWE_GW_LAN_MAC" "$BWE_GW_LAN_V6" "$a"
	quiet_addr guest "$BWE_GUEST_MAC" lan1 "$BWE_GW_GUEST_MAC" "$BWE_GW_GUEST_V6" "$g"
	# ARP first, outside the count
	assert_ok wait_for 5 reach_from lan "$a" "$g"
	before=$(stats)
	assert_ok lan ping -n -q -c "$PINGS" -i 0.01 -W 1 -s "$PING_SIZE" -I "$a" "$g"
	after=$(stats)
	# at least: the hosts' link-local IPv6 (MLD, RS) is transit too
	n=$(dpk "$before" "$after" .reasons.transit)
	[ "$n" -ge $((2 * PINGS)) ] || t_fail "transit +$n packets, want >= $((2 * PINGS))"
	n=$(dby "$before" "$after" .reasons.transit)
	[ "$n" -ge $((2 * PINGS * (ETH_HLEN + IPV4_HLEN + ICMP_HLEN + PING_SIZE))) ] ||
		t_fail "transit +$n bytes"
	for c in $DROP_COUNTERS; do
		assert_eq "$(dpk "$before" "$after" ".reasons.$c")" 0 "$c packets"
	done
	top=$(bwctl --json top --once -n 65536)
	assert_eq "$(jq --arg a "$a" --arg g "$g" '[.[] | select(.host == $a or .host == $g)] | length' <<<"$top")" \
		0 "hosts accounted for transit"
	assert_ok wait_for 5 reach lan "$BWE_GUEST_V6"
	assert_ok wait_for 5 reach guest "$BWE_LAN_V6"
}

t_two_quarantine() {
	local f site mgmt g l before after
	assert_ok bwctl quarantine "$BWE_GUEST_V4" "$BWE_GUEST_V6"
	t_atexit "bwctl release $BWE_GUEST_V4 $BWE_GUEST_V6 >/dev/null 2>&1"
	before=$(stats)
	for f in 4 6; do
		eval "site=\$BWE_SITE_V$f mgmt=\$BWE_MGMT_V$f g=\$BWE_GUEST_V$f l=\$BWE_LAN_V$f"
		assert_fail reach_from guest "$g" "$site"
		inbound_ok "$BWE_NS_GUEST" "$f" "$site" "$g" "$BWE_FWD_GUEST_PORT" &&
			t_fail "v$f: $site reached the quarantined $g"
		assert_ok wait_for 5 reach_from guest "$g" "$mgmt"	# exempt: the EDR server
		assert_ok wait_for 5 reach_from lan "$l" "$site"	# the staff LAN is untouched
		assert_ok wait_for 5 reach lan2 "$site"
		inbound_gets_through "$BWE_NS_LAN" "$f" "$site" "$l" "$BWE_FWD_PORT" || t_fail "v$f: $site did not reach $l"
		assert_ok wait_for 5 reach_from lan "$l" "$g"	# staff <-> guest is transit: never dropped
	done
	after=$(stats)
	[ "$(dpk "$before" "$after" .directions.outbound.quarantine)" -ge 2 ] || t_fail "outbound quarantine drops"
	[ "$(dpk "$before" "$after" .directions.inbound.quarantine)" -ge 2 ] || t_fail "inbound quarantine drops"
	assert_ok bwctl release "$BWE_GUEST_V4" "$BWE_GUEST_V6"
	assert_ok wait_for 5 reach_from guest "$BWE_GUEST_V4" "$BWE_SITE_V4"
	assert_ok wait_for 5 reach_from guest "$BWE_GUEST_V6" "$BWE_SITE_V6"
	inbound_gets_through "$BWE_NS_GUEST" 4 "$BWE_SITE_V4" "$BWE_GUEST_V4" "$BWE_FWD_GUEST_PORT" ||
		t_fail "released: $BWE_SITE_V4 did not reach $BWE_GUEST_V4"
}

for TOPO in routed nat; do
	TWO_NAMES="two LANs, $TOPO: staff and guest hosts accounted, to the byte
two LANs, $TOPO: a blocked address is dropped for both LANs, both ways
two LANs, $TOPO: staff <-> guest is transit, never dropped, no host accounted
two LANs, $TOPO: a quarantined guest host is cut off, the staff LAN is not"
	section_on "$TWO_NAMES" || continue
	bwe_testbed_up "topg$TOPO" --guest "--$TOPO"
	if ! topo_daemon "lan0 wan0:$([ "$TOPO" = nat ] && echo both || echo none) lan1" \
		"$BWE_LAN_NET_V4, $BWE_LAN_NET_V6, $BWE_GUEST_NET_V4, $BWE_GUEST_NET_V6"; then
		t_begin "two LANs, $TOPO: bwctld starts on lan0, wan0, lan1"
		t_fail "bwctld did not start"
		continue
	fi
	run "$(sed -n 1p <<<"$TWO_NAMES")" t_two_accounting
	run "$(sed -n 2p <<<"$TWO_NAMES")" t_two_block
	run "$(sed -n 3p <<<"$TWO_NAMES")" t_two_transit
	run "$(sed -n 4p <<<"$TWO_NAMES")" t_two_quarantine
	stop_daemon TERM
	"$TESTBED" down "$RUN" >/dev/null 2>&1
done

t_summary
