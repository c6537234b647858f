#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# e2e_testbed.sh - the gateway testbed itself (scripts/testbed.sh), no XDP,
# on its routed topology (`up --routed`; the NAT default, the stick and the
# guest LAN are checked by tests/e2e_topology.sh): v4/v6 reachability LAN ->
# internet and internet -> LAN through the gateway, TCP (HTTP) through it
# without NAT, no route out of the machine, and a clean `down`.  Runs as root
# in its own namespaces (bwe-e2e<pid>-*), < 10 s.

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
. "$HERE/lib.sh"

TESTBED="$ROOT/scripts/testbed.sh"
T_TIMEOUT=${T_TIMEOUT:-20}
HTTP_PORT=8080
TCP_PORT=9000

t_require_root
for tool in ip ping curl python3 socat timeout; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		t_begin "tools"
		t_skip "$tool not installed (scripts/setup-deps.sh)"
		t_summary
		exit 0
	fi
done

# The host namespace must look the same after the suite.
HOST_LINKS_BEFORE=$(ip -br link show | awk '{print $1}' | sort | tr '\n' ' ')
HOST_FWD_BEFORE=$(cat /proc/sys/net/ipv4/ip_forward)

# A fresh run id.  It carries our PID, so a namespace already named after it
# can only be left over from a crashed run: remove it first.
RUN="e2e$$"
"$TESTBED" down "$RUN" >/dev/null 2>&1
t_atexit "$TESTBED" down "$RUN"

t_begin "testbed up"
if UP_OUT=$("$TESTBED" up --routed "$RUN" 2>&1); then
	t_pass
else
	t_fail "scripts/testbed.sh up --routed $RUN failed:
$UP_OUT"
	t_summary
	exit 1
fi

t_begin "up prints the run id and state file"
assert_eq "$(printf '%s\n' "$UP_OUT" | grep '^RUN_ID=')" "RUN_ID=$RUN" "RUN_ID line" &&
	assert_ok test -r "/run/bwenforce-testbed/$RUN.env" &&
	t_pass

# shellcheck disable=SC1090
. "/run/bwenforce-testbed/$RUN.env"

t_begin "state file names every namespace and address"
missing=""
for v in BWE_RUN BWE_NS_LAN BWE_NS_LAN2 BWE_NS_GW BWE_NS_NET BWE_NS_SW \
	BWE_GW_LAN_IF BWE_GW_WAN_IF BWE_GW_LAN_IFINDEX BWE_GW_WAN_IFINDEX \
	BWE_LAN_V4 BWE_LAN_V6 BWE_LAN2_V4 BWE_LAN2_V6 BWE_SITE_V4 BWE_SITE_V6 \
	BWE_C2_V4 BWE_C2_V6 BWE_RELAY_V4 BWE_RELAY_V6 BWE_MGMT_V4 BWE_MGMT_V6 \
	BWE_DNS_V4 BWE_DNS_V6 BWE_GW_LAN_MAC BWE_LAN_MAC; do
	[ -n "${!v:-}" ] || missing="$missing $v"
done
assert_eq "$missing" "" "unset variables" &&
	assert_eq "$BWE_NS_GW" "bwe-$RUN-gw" "gateway namespace" &&
	assert_ok ip -n "$BWE_NS_GW" link show dev lan0 type veth &&
	assert_ok ip -n "$BWE_NS_GW" link show dev wan0 type veth &&
	t_pass

# ---------------------------------------------------------------- ping

# ping NS ADDR: two echo replies within 4 s.
ping_from() {
	ip netns exec "$1" ping -n -q -c 2 -i 0.2 -w 4 "$2"
}

t_ping() { # NS ADDR
	assert_ok ping_from "$1" "$2"
}

t_run "v4 ping lan -> normal site" t_ping "$BWE_NS_LAN" "$BWE_SITE_V4"
t_run "v6 ping lan -> normal site" t_ping "$BWE_NS_LAN" "$BWE_SITE_V6"
t_run "v4 ping lan -> mgmt server" t_ping "$BWE_NS_LAN" "$BWE_MGMT_V4"
t_run "v6 ping lan -> mgmt server" t_ping "$BWE_NS_LAN" "$BWE_MGMT_V6"
t_run "v4 ping lan2 -> normal site" t_ping "$BWE_NS_LAN2" "$BWE_SITE_V4"
t_run "v6 ping lan2 -> normal site" t_ping "$BWE_NS_LAN2" "$BWE_SITE_V6"
t_run "v4 ping net -> lan (inbound)" t_ping "$BWE_NS_NET" "$BWE_LAN_V4"
t_run "v6 ping net -> lan (inbound)" t_ping "$BWE_NS_NET" "$BWE_LAN_V6"
t_run "v4 ping net -> lan2 (inbound)" t_ping "$BWE_NS_NET" "$BWE_LAN2_V4"
t_run "v6 ping net -> lan2 (inbound)" t_ping "$BWE_NS_NET" "$BWE_LAN2_V6"
t_run "v4 ping lan -> lan2 (same subnet)" t_ping "$BWE_NS_LAN" "$BWE_LAN2_V4"

test_forwarded() {
	# Routed through the gateway: TTL/hop limit arrives decremented once.
	local out
	out=$(ip netns exec "$BWE_NS_LAN" ping -n -c 1 -w 4 "$BWE_C2_V4" 2>&1)
	assert_ok grep -q 'ttl=63' <<<"$out"
	out=$(ip netns exec "$BWE_NS_LAN" ping -n -c 1 -w 4 "$BWE_C2_V6" 2>&1)
	assert_ok grep -q 'ttl=63' <<<"$out"
}
t_run "traffic is routed by the gateway (ttl 63)" test_forwarded

test_no_way_out() {
	local ns
	# No packet is sent: the routing table alone must refuse.
	for ns in "$BWE_NS_GW" "$BWE_NS_NET" "$BWE_NS_SW"; do
		assert_fail ip -n "$ns" route get 192.0.2.1
		assert_fail ip -n "$ns" -6 route get 2001:4860::1
	done
	assert_eq "$(ip netns exec "$BWE_NS_GW" cat /proc/sys/net/ipv4/ip_forward)" 1 "gw ip_forward"
	assert_eq "$(ip netns exec "$BWE_NS_GW" cat /proc/sys/net/ipv6/conf/all/forwarding)" 1 "gw v6 forwarding"
}
t_run "no route out of the testbed" test_no_way_out

# ---------------------------------------------------------------- TCP

WWW=$(t_tmpdir)
TOKEN="bwe-token-$RUN-$RANDOM"
echo "$TOKEN" >"$WWW/token"
HTTP_LOG="$WWW.http.log"

# One HTTP server on every address of the internet host, dual stack.
ip netns exec "$BWE_NS_NET" timeout 120 python3 -u -m http.server "$HTTP_PORT" \
	--bind :: --directory "$WWW" </dev/null >"$HTTP_LOG" 2>&1 &
HTTP_PID=$!
t_atexit "kill $HTTP_PID 2>/dev/null; wait $HTTP_PID 2>/dev/null; true"

t_begin "http server starts in net namespace"
for i in $(seq 50); do
	ip netns exec "$BWE_NS_NET" curl -s --max-time 1 -o /dev/null \
		"http://127.0.0.1:$HTTP_PORT/token" && break
	sleep 0.1
done
if ip netns exec "$BWE_NS_NET" curl -s --max-time 1 -o /dev/null "http://127.0.0.1:$HTTP_PORT/token"; then
	t_pass
else
	t_fail "python3 http.server did not come up:
$(cat "$HTTP_LOG")"
fi

t_http() { # NS URL CLIENT_ADDR
	local body
	body=$(ip netns exec "$1" curl -sS --max-time 5 "$2" 2>&1)
	assert_eq "$body" "$TOKEN" "body of $2"
	# The server saw the LAN address itself: routed, not NATed.
	# (v4 clients show up v4-mapped on the dual-stack socket.)
	assert_ok grep -Eq "^(::ffff:)?${3//./\\.} .*GET /token" "$HTTP_LOG"
}

t_run "v4 TCP (http) lan -> normal site" \
	t_http "$BWE_NS_LAN" "http://$BWE_SITE_V4:$HTTP_PORT/token" "$BWE_LAN_V4"
t_run "v6 TCP (http) lan -> normal site" \
	t_http "$BWE_NS_LAN" "http://[$BWE_SITE_V6]:$HTTP_PORT/token" "$BWE_LAN_V6"
t_run "v4 TCP (http) lan2 -> mgmt server" \
	t_http "$BWE_NS_LAN2" "http://$BWE_MGMT_V4:$HTTP_PORT/token" "$BWE_LAN2_V4"
t_run "v6 TCP (http) lan2 -> mgmt server" \
	t_http "$BWE_NS_LAN2" "http://[$BWE_MGMT_V6]:$HTTP_PORT/token" "$BWE_LAN2_V6"

t_tcp_inbound() { # 4|6 LISTEN_ADDR SRC_ADDR (v6 in brackets)
	local fam=$1 d got lpid i
	d=$(t_tmpdir)
	# One connection, bounded: the listener gives up after 5 s.
	ip netns exec "$BWE_NS_LAN" timeout 5 socat -u \
		"TCP$fam-LISTEN:$TCP_PORT,bind=$2,reuseaddr" "OPEN:$d/got,creat,trunc" &
	lpid=$!
	for i in $(seq 30); do
		ip netns exec "$BWE_NS_LAN" ss -Hltn "sport = :$TCP_PORT" | grep -q . && break
		sleep 0.1
	done
	assert_ok ip netns exec "$BWE_NS_NET" timeout 5 socat -u \
		"SYSTEM:echo hello-$RUN" "TCP$fam:$2:$TCP_PORT,bind=$3"
	wait "$lpid"
	got=$(cat "$d/got" 2>/dev/null)
	assert_eq "$got" "hello-$RUN" "data received on the LAN host"
}
t_run "v4 TCP net -> lan (inbound)" t_tcp_inbound 4 "$BWE_LAN_V4" "$BWE_C2_V4"
t_run "v6 TCP net -> lan (inbound)" t_tcp_inbound 6 "[$BWE_LAN_V6]" "[$BWE_C2_V6]"

# ---------------------------------------------------------------- down

kill "$HTTP_PID" 2>/dev/null
wait "$HTTP_PID" 2>/dev/null

test_down() {
	local left
	assert_ok "$TESTBED" down "$RUN"
	left=$(ip netns list | awk '{print $1}' | grep "^bwe-$RUN-")
	assert_eq "$left" "" "namespaces left after down"
	assert_fail test -e "/run/bwenforce-testbed/$RUN.env"
	assert_ok "$TESTBED" down "$RUN"  # idempotent
	assert_fail "$TESTBED" status "$RUN"
}
t_run "down removes every namespace of the run" test_down

t_begin "host namespace untouched"
assert_eq "$(ip -br link show | awk '{print $1}' | sort | tr '\n' ' ')" "$HOST_LINKS_BEFORE" "host links" &&
	assert_eq "$(cat /proc/sys/net/ipv4/ip_forward)" "$HOST_FWD_BEFORE" "host ip_forward" &&
	t_pass

t_summary
