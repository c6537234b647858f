#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# e2e_forward.sh - the XDP fast path (interfaces[].fast_forward: fib) with
# real traffic through the gateway testbed, bwctld on lan0 and wan0.
#
# Routed gateway (both families forwarded in XDP):
#   - before the peers can take redirected frames (a veth needs an XDP
#     program on its peer), the daemon says so (xdp_xmit false) and the
#     traffic still flows through the stack (counter "egress"); once they
#     can, the daemon notices within seconds and the traffic goes fast;
#   - ping both families and a TCP transfer (iperf3) both ways through the
#     fast path: "forwarded" grows by at least what was sent, the stack
#     hands over nothing in between, and the receivers' stacks accept every
#     segment (TCP completes: IPv4 header and TCP checksums valid);
#   - TTL: the echo reply comes back with 63 (decremented once, by the
#     gateway's fast path); ping -t 1 gets "time to live exceeded" from the
#     gateway (counter "ttl");
#   - no neighbour: after the gateway's neighbour cache is flushed, the
#     first packet goes to the stack (counter "no_neigh"), which resolves it;
#   - MTU: with wan0's MTU lowered to 1280, a 1400-byte ping with DF gets
#     "frag needed" (IPv4) / "packet too big" (IPv6) from the gateway
#     (counter "mtu");
#   - a quarantined host and a blocklisted peer are still dropped;
#     per-host accounting counts fast-forwarded packets;
#   - the counters of bwctl status are in the Prometheus metrics too;
#   - a restarted daemon steers the devmap of the program it finds attached,
#     and keeps the interfaces' fast-path counters;
#   - fast_forward off (the default) forwards nothing in XDP.
# NAT gateway (testbed --nat4: IPv4 masqueraded on wan0, IPv6 routed):
#   - IPv4 falls back to the stack (counter "nat") and is translated: the
#     internet host sees the gateway's WAN address; IPv6 is fast-forwarded;
#     the LAN host's inbound IPv4 is still judged at the LAN egress (TC).
# Router on a stick (testbed --stick --routed, one interface lan0): both
# families hairpinned in XDP (in and out by lan0), TTL 63, quarantine kept.
#
# Every test runs once per XDP mode of lan0 and wan0 (E2E_MODES, default
# "native generic").
#
# Needs root, ip, ping, iperf3, jq, nc, tcpdump, curl, python3, and
# build/tools/xdp_foreign.bpf.o (a counting XDP_PASS program, attached to
# the peers of lan0 and wan0).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
t_require_root

# shellcheck source=tests/lib_bwe.sh
. "$(dirname "$0")/lib_bwe.sh"
T_TIMEOUT=${T_TIMEOUT:-90}
PINGS=20
IPERF_PORT=5301
HTTP_PORT=9464 # in the gateway namespace's own loopback
MODES=${E2E_MODES:-native generic}
IPERF_SECS=2
WAN_MTU_LOW=1280
BIG_PING=1400 # ICMP payload: larger than WAN_MTU_LOW on the wire

# ---- helpers ---------------------------------------------------------------

tx_packets() { # HOST: the host's outbound packets in bwctl top
	bwctl --json top --once -n 100 | jq -r --arg h "$1" '[.[] | select(.host == $h) | .tx_packets] | first // 0'
}

# ---- routed gateway ------------------------------------------------------------

t_test_egress_gate() {
	assert_eq "$(bwctl --json status | jq -r '.interfaces[] | select(.name == "lan0") | .fast_forward')" fib "mode in status"
	assert_eq "$(xmit_of lan0)" false "lan0 can transmit before its peer has XDP"
	local e0 f0 e1
	e0=$(ffc wan0 egress) f0=$(ffc wan0 forwarded)
	assert_ok net ping -c 3 -i 0.2 -W 2 -q "$BWE_LAN_V4"
	e1=$(ffc wan0 egress)
	assert_ok ge "$((e1 - e0))" 3 "wan0 echo requests handed to the stack (egress)"
	assert_eq "$(ffc wan0 forwarded)" "$f0" "forwarded while the egress cannot take it"
	assert_ok peers_xdp on
	wait_for 100 xmit_is lan0 true || t_fail "the daemon did not notice lan0's peer can take XDP frames"
	wait_for 100 xmit_is wan0 true || t_fail "nor wan0's"
}

t_test_ping() {
	local fam=$1 dst=$2 f0 l0 f1 l1 out
	f0=$(ffc lan0 forwarded) l0=$(ffc wan0 forwarded)
	out=$(lan ping -"$fam" -c "$PINGS" -i 0.05 -W 2 "$dst") || { echo "$out"; t_fail "ping -$fam $dst"; }
	f1=$(ffc lan0 forwarded) l1=$(ffc wan0 forwarded)
	assert_ok ge "$((f1 - f0))" "$PINGS" "requests forwarded in XDP on lan0"
	assert_ok ge "$((l1 - l0))" "$PINGS" "replies forwarded in XDP on wan0"
	# each interface counts in an entry of its own: lan0's holds no reply
	assert_ok ge "$((2 * PINGS - 1))" "$((f1 - f0))" "frames counted on lan0 (requests only)"
	# the replies crossed the gateway once: 64 - 1 (IPv4 ttl=, IPv6 ttl= in ping's words)
	assert_eq "$(echo "$out" | grep -c 'ttl=63')" "$PINGS" "replies with TTL 63"
}

t_test_tcp() {
	local fam=$1 dst=$2 port=$3 f0 l0 s0 f1 l1 s1 res
	net iperf3 -s -1 -p "$port" -B "$dst" >/dev/null 2>&1 &
	sleep 0.5
	f0=$(ffc lan0 forwarded) l0=$(ffc wan0 forwarded)
	s0=$(( $(ffc lan0 no_neigh) + $(ffc lan0 egress) + $(ffc wan0 no_neigh) + $(ffc wan0 egress) ))
	res=$(lan iperf3 -"$fam" -c "$dst" -p "$port" -t "$IPERF_SECS" -J ${4:+"$4"}) || t_fail "iperf3 -$fam failed"
	f1=$(ffc lan0 forwarded) l1=$(ffc wan0 forwarded)
	s1=$(( $(ffc lan0 no_neigh) + $(ffc lan0 egress) + $(ffc wan0 no_neigh) + $(ffc wan0 egress) ))
	# every segment the receiver's stack took passed its checksum checks
	assert_ok ge "$(echo "$res" | jq -r '.end.sum_received.bytes')" 1000000 "bytes received"
	assert_ok ge "$((f1 - f0))" 1000 "lan0 packets forwarded in XDP"
	assert_ok ge "$((l1 - l0))" 1000 "wan0 packets forwarded in XDP"
	assert_eq "$s1" "$s0" "packets the fast path had to hand over"
}

t_test_metrics() {
	local scrape m s
	assert_ok lan ping -c 3 -i 0.1 -W 2 -q "$BWE_NET_V4"
	scrape=$(gw curl -sS -m 5 "http://127.0.0.1:$HTTP_PORT/metrics") || t_fail "no scrape"
	m=$(echo "$scrape" | awk '$1 == "bwenforce_fast_forward_packets_total{interface=\"lan0\",result=\"forwarded\"}" { print $2 }')
	s=$(ffc lan0 forwarded)
	assert_eq "$m" "$s" "forwarded on lan0, metrics vs bwctl status"
	echo "$scrape" | grep -q 'bwenforce_fast_forward_bytes_total{interface="wan0",result="mtu"}' ||
		t_fail "no bytes series for wan0"
	if command -v promtool >/dev/null 2>&1; then
		echo "$scrape" | assert_ok promtool check metrics
	fi
}

t_test_accounting() {
	local t0 t1
	t0=$(tx_packets "$BWE_LAN_V4")
	assert_ok lan ping -c 10 -i 0.05 -W 2 -q "$BWE_NET_V4"
	sleep 1.5 # the daemon samples the accounting once a second
	t1=$(tx_packets "$BWE_LAN_V4")
	assert_ok ge "$((t1 - t0))" 10 "the host's outbound packets"
}

t_test_ttl() {
	local out t0 t1
	t0=$(ffc lan0 ttl)
	out=$(lan ping -c 1 -t 1 -W 2 "$BWE_NET_V4" 2>&1)
	echo "$out" | grep -q "From $BWE_GW_LAN_V4.*Time to live exceeded" ||
		{ echo "$out"; t_fail "no time exceeded from the gateway"; }
	out=$(lan ping -6 -c 1 -t 1 -W 2 "$BWE_NET_V6" 2>&1)
	echo "$out" | grep -qi "From $BWE_GW_LAN_V6.*Time exceeded" ||
		{ echo "$out"; t_fail "no IPv6 time exceeded from the gateway"; }
	t1=$(ffc lan0 ttl)
	assert_eq "$((t1 - t0))" 2 "handed to the stack for TTL"
}

t_test_no_neigh() {
	local n0 n1
	gw ip neigh flush dev wan0
	n0=$(ffc lan0 no_neigh)
	assert_ok lan ping -c 3 -i 0.2 -W 2 -q "$BWE_NET_V4"
	n1=$(ffc lan0 no_neigh)
	assert_ok ge "$((n1 - n0))" 1 "handed to the stack for its neighbour"
	assert_ok gw bash -c "ip neigh show $BWE_NET_V4 dev wan0 | grep -q lladdr"
}

t_test_mtu() {
	local m0 m1 out
	gw ip link set dev wan0 mtu "$WAN_MTU_LOW"
	t_atexit "ip -n $BWE_NS_GW link set dev wan0 mtu 1500; ip -n $BWE_NS_LAN route flush cache; true"
	m0=$(ffc lan0 mtu)
	out=$(lan ping -c 1 -M "do" -s "$BIG_PING" -W 2 "$BWE_NET_V4" 2>&1)
	echo "$out" | grep -qiE "From $BWE_GW_LAN_V4.*Frag needed.*mtu = $WAN_MTU_LOW" ||
		{ echo "$out"; t_fail "no fragmentation needed from the gateway"; }
	out=$(lan ping -6 -c 1 -M "do" -s "$BIG_PING" -W 2 "$BWE_NET_V6" 2>&1)
	echo "$out" | grep -qiE "From $BWE_GW_LAN_V6.*Packet too big: mtu=$WAN_MTU_LOW" ||
		{ echo "$out"; t_fail "no packet too big from the gateway"; }
	m1=$(ffc lan0 mtu)
	assert_eq "$((m1 - m0))" 2 "handed to the stack for the MTU"
	# what fits still goes fast
	assert_ok lan ping -c 3 -i 0.2 -M "do" -s 1000 -W 2 -q "$BWE_NET_V4"
}

t_test_enforced() {
	local f0 f1
	assert_ok bwctl block "$BWE_NET_V4/32"
	f0=$(ffc lan0 forwarded)
	assert_fail lan ping -c 3 -i 0.2 -W 1 -q "$BWE_NET_V4"
	assert_ok bwctl unblock "$BWE_NET_V4/32"
	assert_ok bwctl quarantine "$BWE_LAN_V6"
	assert_fail lan ping -6 -c 3 -i 0.2 -W 1 -q "$BWE_NET_V6"
	assert_fail net ping -6 -c 3 -i 0.2 -W 1 -q "$BWE_LAN_V6"
	f1=$(ffc lan0 forwarded)
	assert_eq "$f1" "$f0" "dropped packets forwarded"
	assert_ok bwctl release "$BWE_LAN_V6"
	assert_ok lan ping -6 -c 2 -i 0.2 -W 2 -q "$BWE_NET_V6"
	assert_ok lan ping -c 2 -i 0.2 -W 2 -q "$BWE_NET_V4"
}

t_test_restart() {
	local f0 f1 e0 e1 before
	before=$(ffc lan0 forwarded)
	assert_ok ge "$before" 1 "forwarded before the restart"
	stop_daemon TERM # leaves the program attached, its maps pinned
	start_daemon || t_fail "bwctld did not come back"
	f0=$(ffc lan0 forwarded)
	# lan0 keeps its counter entry (its bwe_ifaces value): nothing zeroed
	assert_ok ge "$f0" "$before" "the fast path's counters kept across the restart"
	assert_ok lan ping -c 5 -i 0.1 -W 2 -q "$BWE_NET_V4"
	f1=$(ffc lan0 forwarded)
	assert_ok ge "$((f1 - f0))" 5 "forwarded in XDP after the restart"
	# the new daemon steers the devmap the attached program uses: wan0 leaves it
	ip -n "$BWE_NS_NET" link set dev eth0 xdpdrv off
	wait_for 100 xmit_is wan0 false || t_fail "the restarted daemon did not notice wan0 cannot transmit"
	e0=$(ffc lan0 egress)
	assert_ok lan ping -c 5 -i 0.1 -W 2 -q "$BWE_NET_V4"
	e1=$(ffc lan0 egress)
	assert_ok ge "$((e1 - e0))" 5 "handed to the stack with wan0 out of the devmap"
	ip -n "$BWE_NS_NET" link set dev eth0 xdpdrv obj "$PASS_OBJ" sec xdp
	wait_for 100 xmit_is wan0 true || t_fail "wan0 did not come back"
}

t_test_off() {
	stop_daemon TERM
	ff_config off
	start_daemon || t_fail "bwctld with fast_forward off"
	assert_eq "$(bwctl --json status | jq -r '.interfaces[] | select(.name == "lan0") | .forward')" null "counters with fast_forward off"
	assert_ok lan ping -c 5 -i 0.1 -W 2 -q "$BWE_NET_V4"
	assert_eq "$(lan ping -c 1 -W 2 "$BWE_NET_V4" | grep -c 'ttl=63')" 1 "stack-forwarded TTL"
}

t_test_nat() {
	local n0 f0 n1 f1 r0 r1 seen
	wait_for 100 xmit_is lan0 true || t_fail "lan0 cannot take XDP frames"
	n0=$(ffc lan0 nat) f0=$(ffc lan0 forwarded)
	r0=$(bwctl --json top --once -n 100 | jq -r --arg h "$BWE_LAN_V4" '[.[] | select(.host == $h) | .rx_packets] | first // 0')
	# the internet host sees the gateway's WAN address: translated by the stack
	net timeout 5 nc -l -u -W 1 -p 47100 >"$DIR/nat.seen" 2>&1 &
	sleep 0.3
	# the datagram only once tcpdump says it listens (its filter is set then):
	# a fixed wait missed it on a loaded machine (make test on 2 CPUs)
	net timeout 5 tcpdump -n -c 1 -i eth0 "udp port 47100" >"$DIR/nat.dump" 2>"$DIR/nat.err" &
	wait_for 40 grep -q "listening on" "$DIR/nat.err" ||
		{ cat "$DIR/nat.err"; t_fail "tcpdump did not start listening within 4 s"; }
	lan bash -c "echo hello | nc -u -w 1 $BWE_NET_V4 47100"
	assert_ok lan ping -c 5 -i 0.1 -W 2 -q "$BWE_NET_V4"
	wait
	seen=$(cat "$DIR/nat.dump")
	echo "$seen" | grep -q "$BWE_GW_WAN_V4\.[0-9]* > $BWE_NET_V4.47100" ||
		{ echo "$seen"; t_fail "the datagram was not masqueraded"; }
	n1=$(ffc lan0 nat) f1=$(ffc lan0 forwarded)
	assert_ok ge "$((n1 - n0))" 6 "IPv4 handed to the stack for translation"
	# IPv6 is not translated: fast
	assert_ok lan ping -6 -c 5 -i 0.1 -W 2 -q "$BWE_NET_V6"
	f1=$(ffc lan0 forwarded)
	assert_ok ge "$((f1 - f0))" 5 "IPv6 forwarded in XDP"
	# the replies to the IPv4 pings were judged at the LAN egress (host rx)
	sleep 1.5
	r1=$(bwctl --json top --once -n 100 | jq -r --arg h "$BWE_LAN_V4" '[.[] | select(.host == $h) | .rx_packets] | first // 0')
	assert_ok ge "$((r1 - r0))" 5 "translated replies accounted at the LAN egress"
}

t_test_nat_quarantine() {
	assert_ok bwctl quarantine "$BWE_LAN_V4"
	assert_fail lan ping -c 3 -i 0.2 -W 1 -q "$BWE_NET_V4"
	assert_ok bwctl release "$BWE_LAN_V4"
	assert_ok lan ping -c 2 -i 0.2 -W 2 -q "$BWE_NET_V4"
}

# ---- per mode: the routed gateway, then the NAT gateway ------------------------------

run_mode() { # MODE
	MODE=$1
	local m=" [$MODE]" id=${1:0:1}
	bwe_testbed_up "fwd$id" --routed
	if ! { txcsum_off lan && txcsum_off net; }; then
		t_begin "tx checksum offload off$m"; t_fail "ioctl failed"
	fi
	ff_config fib
	t_begin "bwctld starts with fast_forward: fib$m"
	if start_daemon; then t_pass; else t_fail "bwctld did not start"; fi
	t_run "an egress that cannot take redirected frames gets the stack's traffic, until it can$m" t_test_egress_gate
	t_run "IPv4 ping through the fast path, TTL decremented$m" t_test_ping 4 "$BWE_NET_V4"
	t_run "IPv6 ping through the fast path, hop limit decremented$m" t_test_ping 6 "$BWE_NET_V6"
	t_run "TCP upload (IPv4) through the fast path$m" t_test_tcp 4 "$BWE_NET_V4" "$IPERF_PORT" ""
	t_run "TCP download (IPv6) through the fast path$m" t_test_tcp 6 "$BWE_NET_V6" "$((IPERF_PORT + 1))" -R
	t_run "fast-forwarded packets are accounted per host$m" t_test_accounting
	t_run "the fast path's counters in the metrics$m" t_test_metrics
	t_run "TTL 1: the stack answers time exceeded$m" t_test_ttl
	t_run "no neighbour: the stack resolves it$m" t_test_no_neigh
	t_run "over the egress MTU: the stack sends frag needed / packet too big$m" t_test_mtu
	t_run "a blocklisted peer and a quarantined host are still dropped$m" t_test_enforced
	t_run "a restarted daemon steers the attached program's devmap, keeps the counters$m" t_test_restart
	t_run "fast_forward off: the stack forwards, nothing counted$m" t_test_off
	stop_daemon TERM
	peers_xdp off
	"$ROOT/scripts/testbed.sh" down "$RUN" >/dev/null 2>&1

	bwe_testbed_up "fwdnat$id" --nat4
	if ! { txcsum_off lan && txcsum_off net; }; then
		t_begin "tx checksum offload off (NAT)$m"; t_fail "ioctl failed"
	fi
	peers_xdp on
	ff_config fib
	t_begin "bwctld starts on the NAT gateway with fast_forward: fib$m"
	if start_daemon; then t_pass; else t_fail "bwctld did not start"; fi
	t_run "NAT: translated IPv4 goes to the stack, IPv6 fast, replies judged at the LAN egress$m" t_test_nat
	t_run "NAT: a quarantined host is still cut off$m" t_test_nat_quarantine
	stop_daemon TERM
	peers_xdp off
	"$ROOT/scripts/testbed.sh" down "$RUN" >/dev/null 2>&1

	# router on a stick: one interface, every forwarded packet leaves where it came in
	bwe_testbed_up "fwdstick$id" --stick --routed
	if ! { txcsum_off lan && txcsum_off net; }; then
		t_begin "tx checksum offload off (stick)$m"; t_fail "ioctl failed"
	fi
	ip -n "$BWE_NS_SW" link set dev p-gw xdpdrv obj "$PASS_OBJ" sec xdp
	ff_config fib
	sed -i '/name: wan0/d' "$CFG"
	t_begin "bwctld starts on a router on a stick with fast_forward: fib$m"
	if start_daemon && wait_for 100 xmit_is lan0 true; then t_pass; else t_fail "bwctld did not start"; fi
	t_run "router on a stick: hairpinned in XDP, enforcement kept$m" t_test_stick
	stop_daemon TERM
	ip -n "$BWE_NS_SW" link set dev p-gw xdpdrv off
	"$ROOT/scripts/testbed.sh" down "$RUN" >/dev/null 2>&1
}

t_test_stick() {
	local f0 f1 out
	f0=$(ffc lan0 forwarded)
	out=$(lan ping -c "$PINGS" -i 0.05 -W 2 "$BWE_NET_V4") || { echo "$out"; t_fail "ping"; }
	assert_eq "$(echo "$out" | grep -c 'ttl=63')" "$PINGS" "replies with TTL 63"
	assert_ok lan ping -6 -c 5 -i 0.1 -W 2 -q "$BWE_NET_V6"
	f1=$(ffc lan0 forwarded)
	# requests and replies both enter and leave by lan0
	assert_ok ge "$((f1 - f0))" "$((2 * PINGS + 10))" "hairpinned in XDP on lan0"
	assert_ok bwctl quarantine "$BWE_LAN_V4"
	assert_fail lan ping -c 3 -i 0.2 -W 1 -q "$BWE_NET_V4"
	assert_ok bwctl release "$BWE_LAN_V4"
}

[ -f "$PASS_OBJ" ] || { t_begin "build"; t_fail "$PASS_OBJ not built (make)"; t_summary; exit 1; }
for mode in $MODES; do
	run_mode "$mode"
done
t_summary
