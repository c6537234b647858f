#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# e2e_traffic.sh - the enforcer with real traffic through the gateway testbed
# (scripts/testbed.sh), bwctld running in the gateway on lan0 and wan0.
#
# Every traffic test runs once per XDP mode (native, then generic: the
# daemon is restarted with the interfaces' mode changed in its config) and,
# where it applies, once per address family:
#   - ping, TCP (HTTP), UDP and iperf3 flow both ways;
#   - per-host byte and packet counts equal what a quiet host sent, to the byte;
#   - a blocked address is dropped in both directions, other traffic flows;
#   - quarantine leaves exempt servers reachable, release and TTL end it;
#   - a throttled host gets 10 Mbit/s within THROTTLE_TOL_PCT up and down,
#     and full speed back after unthrottle;
#   - crafted frames (802.1Q, QinQ, IPv6 extension headers, fragments,
#     truncated headers) written with tests/tools/inject land on the verdict
#     and anomaly counters they must;
#   - a foreign XDP program on wan0 is neither replaced nor disturbed, and a
#     second XDP program beside ours needs libxdp's dispatcher (freplace):
#     probed first, skipped with the reason where the kernel refuses it.
#
# Needs root, the testbed tools (ip, ping, curl, python3, iperf3, ss, jq,
# bpftool) and the test tools in build/tools (inject, freplace_probe,
# xdp_foreign.bpf.o, built by make). Everything lives in namespaces, a bpffs
# and a directory of this run, removed on exit. About 2 minutes on 2 cores.
#
# Environment: E2E_MODES (default "native generic"); E2E_ONLY, a regex: run
# only the tests whose name matches; THROTTLE_BURST, the burst given to
# bwctl throttle ("default" leaves it to the daemon); T_TIMEOUT and
# T_VERBOSE (tests/lib.sh).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
t_require_root

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BWCTLD=$ROOT/build/bwctld
BWCTL_BIN=$ROOT/build/bwctl
TOOLS=$ROOT/build/tools
INJECT=$TOOLS/inject
FREPLACE_PROBE=$TOOLS/freplace_probe
FOREIGN_OBJ=$TOOLS/xdp_foreign.bpf.o
FOREIGN_PROG=xdp_foreign	# its function name: what bwctld must name
T_TIMEOUT=${T_TIMEOUT:-60}
MODES=${E2E_MODES:-native generic}

HTTP_PORT=8080
UDP_PORT=9000
IPERF_PORT=5201		# 5201.. one per iperf3 test, so no server waits on another
BLOB_BYTES=65536	# the file served over HTTP

# Per-host accounting: a quiet address per mode and family, ping and UDP sizes.
ACCT_V4_BASE=198.18.0.	# .21 native, .22 generic
ACCT_V6_BASE=2001:db8:1::
ACCT_PINGS=20		# echo requests (and replies)
ACCT_PING_SIZE=1000	# ICMP payload bytes (ping -s)
ACCT_UDP=10		# datagrams (and echoes)
ACCT_UDP_SIZE=512	# UDP payload bytes
ETH_HLEN=14 IPV4_HLEN=20 IPV6_HLEN=40 ICMP_HLEN=8 UDP_HLEN=8

# Throttle: 10 Mbit/s, measured as iperf3 goodput over 5 s after 1 s omitted.
# The bucket counts whole frames: 10 Mbit/s of 1514-byte frames carrying
# 1448 bytes of TCP payload (IPv4, timestamps on) is 9.56 Mbit/s of goodput,
# and 1428 bytes (IPv6) 9.43 Mbit/s. The goodput is therefore turned back
# into the frame rate the bucket enforces (THROTTLE_FRAME, THROTTLE_MSS_V4/6,
# from the testbed's 1500-byte MTU) before it is compared with the rate.
# A token bucket polices, it does not queue: once the bucket is empty a whole
# TCP flight is dropped, and if nothing of it gets through only the
# retransmission timer (200 ms at least on Linux) brings the sender back.
# The bucket must therefore hold more than one RTO's worth of the rate, or
# the link idles in every RTO: with a burst of rate / 10 (125000 B here) TCP
# got about 4.7 Mbit/s; from 256 KiB (0.21 s) on it gets the rate. The
# daemon's default is therefore a quarter second of the rate (312500 B here),
# which this test measures; THROTTLE_BURST=SIZE tries another.
THROTTLE_RATE=10mbit
THROTTLE_BPS=10000000
THROTTLE_TOL_PCT=15
THROTTLE_BURST=${THROTTLE_BURST:-default}
THROTTLE_SECS=5
THROTTLE_FRAME=1514 THROTTLE_MSS_V4=1448 THROTTLE_MSS_V6=1428
FULL_SPEED_MIN_BPS=100000000	# "much higher" than 10 Mbit/s: 10x at least

# Crafted frames: a quarantined address that no host uses.
QHOST_V4=198.18.0.23
QHOST_V6=2001:db8:1::23
INJECT_COUNT=3

for tool in ip ping curl python3 iperf3 ss jq bpftool timeout setsid sha256sum; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		t_begin "tools"
		t_skip "$tool not installed (scripts/setup-deps.sh)"
		t_summary
		exit 0
	fi
done
for f in "$BWCTLD" "$BWCTL_BIN" "$INJECT" "$FREPLACE_PROBE" "$FOREIGN_OBJ"; do
	if [ ! -e "$f" ]; then
		t_begin "build"
		t_fail "$f missing: run make (the test tools are built into build/tools)"
		t_summary
		exit 1
	fi
done

# ------------------------------------------------------------------ testbed

. "$ROOT/tests/lib_bwe.sh"
bwe_testbed_up trf
DLOG=$DIR/bwctld.log
NOTES=$DIR/notes	# figures a test reports, printed under its result line
sw() { ip netns exec "$BWE_NS_SW" "$@"; }

xdp_off() { # IFACE: whatever is attached, in either mode
	gw ip link set dev "$1" xdpgeneric off 2>/dev/null
	gw ip link set dev "$1" xdpdrv off 2>/dev/null
	return 0
}
t_atexit 'stop_daemon TERM; xdp_off lan0; xdp_off wan0'

# ------------------------------------------------------------------ helpers

# URL host part: IPv6 in brackets.
uhost() { case $1 in *:*) echo "[$1]" ;; *) echo "$1" ;; esac; }

reach() { # NSFUNC ADDR [SRC]: one echo within 1 s
	"$1" ping -n -q -c 1 -W 1 ${3:+-I "$3"} "$2" >/dev/null 2>&1
}
unreach() { ! reach "$@"; }

# HTTP GET of the blob; true when its bytes arrived intact.
http_ok() { # NSFUNC DST [SRC]
	local sum
	sum=$("$1" curl -sS -g --max-time 2 ${3:+--interface "$3"} \
		"http://$(uhost "$2"):$HTTP_PORT/blob" 2>/dev/null | sha256sum | cut -d' ' -f1)
	[ "$sum" = "$BLOB_SUM" ]
}
http_fails() { ! http_ok "$@"; }

# UDP: COUNT datagrams of SIZE bytes, each echoed back within TMO seconds.
udp_ok() { # NSFUNC SRC|- DST COUNT SIZE [TMO]
	"$1" timeout 20 python3 "$DIR/udp_echo.py" client "$2" "$3" "$UDP_PORT" "$4" "$5" "${6:-1}" >/dev/null 2>&1
}
udp_fails() { ! udp_ok "$@"; }
# An echo server in NS on ADDR, answering at most COUNT datagrams; it dies
# with the test that started it.
udp_server() { # NSFUNC ADDR COUNT
	"$1" timeout 30 python3 "$DIR/udp_echo.py" server "$2" "$UDP_PORT" "$3" 30 >/dev/null 2>&1 &
	wait_listen "$1" u "$UDP_PORT" "$2"
}

# Wait up to 3 s for a listener on PORT (at ADDR: a server of an earlier
# test may still be dying on the same port at another address).
wait_listen() { # NSFUNC t|u PORT [ADDR]
	local i filter="sport = :$3"
	[ -n "${4:-}" ] && filter="src $(uhost "$4"):$3"
	for i in $(seq 1 30); do
		[ -n "$("$1" ss -Hln"$2" "$filter" 2>/dev/null)" ] && return 0
		sleep 0.1
	done
	echo "nothing listens on ${4:-*}:$3 ($2)"
	return 1
}

# Run every "description|command" at once; print the description of each
# command that failed, return 1 if any did. Expectations go into the command
# (reach / unreach, http_ok / http_fails), so failing probes cost their
# timeout once, not once each.
par() {
	local a pids=() descs=() i rc=0
	for a in "$@"; do
		(eval "${a#*|}") >/dev/null 2>&1 &
		pids+=($!)
		descs+=("${a%%|*}")
	done
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}" || { echo "${descs[$i]}"; rc=1; }
	done
	return $rc
}
assert_par() { # description|command ...
	local bad
	bad=$(par "$@") || t_fail "these went wrong:
$bad"
}

# Verdict and anomaly counters as one object: name -> {packets, bytes}.
counters() { bwctl --json stats | jq -c '.reasons + .anomalies'; }
delta() { # BEFORE AFTER NAME packets|bytes
	jq -n --argjson a "$1" --argjson b "$2" --arg n "$3" --arg f "$4" '$b[$n][$f] - $a[$n][$f]'
}

# A figure for the report, printed under the test's result line.
note() { echo "$*" >>"$NOTES"; echo "$*"; }
run() { # NAME FUNC [ARGS]: t_run, then the notes it left
	[ -z "${E2E_ONLY:-}" ] || [[ "$1" =~ $E2E_ONLY ]] || return 0
	: >"$NOTES"
	# A failed test shows its whole output already.
	t_run "$@" && [ -s "$NOTES" ] && sed 's/^/      /' "$NOTES"
	return 0
}

# ------------------------------------------------------------------ servers

# Shared by many tests, so started here (tests/lib.sh: not inside a t_run).
mkdir -p "$DIR/www"
head -c "$BLOB_BYTES" /dev/urandom >"$DIR/www/blob"
BLOB_SUM=$(sha256sum "$DIR/www/blob" | cut -d' ' -f1)
cat >"$DIR/udp_echo.py" <<'EOP'
# udp_echo.py server ADDR PORT COUNT TIMEOUT
#             client SRC|- DST PORT COUNT SIZE TIMEOUT
# The client sends COUNT datagrams, one at a time, each waiting for its echo;
# exit 0 when every echo came back intact.
import socket, sys
def fam(a):
    return socket.AF_INET6 if ":" in a else socket.AF_INET
if sys.argv[1] == "server":
    addr, port, count, tmo = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
    s = socket.socket(fam(addr), socket.SOCK_DGRAM)
    s.bind((addr, port))
    s.settimeout(tmo)
    for _ in range(count):
        d, a = s.recvfrom(65535)
        s.sendto(d, a)
else:
    src, dst, port, count, size, tmo = sys.argv[2], sys.argv[3], int(sys.argv[4]), \
        int(sys.argv[5]), int(sys.argv[6]), float(sys.argv[7])
    s = socket.socket(fam(dst), socket.SOCK_DGRAM)
    if src != "-":
        s.bind((src, 0))
    s.settimeout(tmo)
    ok = 0
    for i in range(count):
        msg = bytes([i & 0xff]) * size
        s.sendto(msg, (dst, port))
        try:
            d, _ = s.recvfrom(65535)
        except socket.timeout:
            continue
        ok += d == msg
    print(ok)
    sys.exit(0 if ok == count else 1)
EOP
start_http() { # NAMESPACE: a dual-stack HTTP server on every address of it
	# Not through the namespace functions: $! must be the server itself.
	ip netns exec "$1" python3 -m http.server --bind :: --directory "$DIR/www" "$HTTP_PORT" \
		>/dev/null 2>&1 &
	t_atexit "kill $! 2>/dev/null; true"
}
start_http "$BWE_NS_NET"
start_http "$BWE_NS_LAN"
if ! wait_listen net t "$HTTP_PORT" || ! wait_listen lan t "$HTTP_PORT"; then
	t_begin "HTTP servers"; t_fail "python3 -m http.server did not start"; t_summary; exit 1
fi

# Does this kernel run extension programs (libxdp's dispatcher needs them)?
FREPLACE_WHY=$("$FREPLACE_PROBE" "$FOREIGN_OBJ" "$FOREIGN_PROG" 2>&1)
FREPLACE_RC=$?

# ================================================================== tests

# ---- the data plane's own state

t_status_dispatcher() {
	local st n
	st=$(bwctl --json status)
	n=$(jq '.interfaces | length' <<<"$st")
	assert_eq "$n" 2 "interfaces"
	if [ "$FREPLACE_RC" = 0 ]; then
		assert_eq "$(jq -c '[.interfaces[].multiprog]' <<<"$st")" "[true,true]" \
			"multiprog where the kernel has freplace"
		return 0
	fi
	assert_eq "$(jq -c '[.interfaces[].multiprog]' <<<"$st")" "[false,false]" "multiprog"
	jq -e '[.interfaces[].note // "" | test("dispatcher") and test("attached alone")] | all' \
		<<<"$st" >/dev/null ||
		t_fail "no note about the dispatcher fallback: $(jq -c '[.interfaces[].note]' <<<"$st")"
	note "note: $(jq -r '.interfaces[0].note' <<<"$st")"
}

t_coexist() { # MODE
	local mode=$1 flag st fid seen0 seen1
	if [ "$FREPLACE_RC" != 0 ]; then
		t_skip "libxdp dispatcher unavailable, a second XDP program cannot run beside ours: $FREPLACE_WHY"
	fi
	# The kernel has freplace: load a foreign program into lan0's dispatcher.
	command -v xdp-loader >/dev/null || t_skip "xdp-loader (xdp-tools) not installed"
	case $mode in native) flag=native ;; *) flag=skb ;; esac
	assert_ok gw env LIBXDP_BPFFS="$DIR/bpf" xdp-loader load -m "$flag" lan0 "$FOREIGN_OBJ"
	fid=$(gw bpftool -j prog show | jq -r --arg p "$FOREIGN_PROG" '[.[] | select(.name == $p) | .id] | last // empty')
	[ -n "$fid" ] || t_fail "$FOREIGN_PROG not loaded"
	t_atexit "gw env LIBXDP_BPFFS=$DIR/bpf xdp-loader unload lan0 -i $fid >/dev/null 2>&1"
	st=$(bwctl --json status)
	assert_eq "$(jq -r '.interfaces[] | select(.name == "lan0") | [.state, .multiprog] | join(" ")' <<<"$st")" \
		"attached true" "lan0: ours attached, in a dispatcher"
	seen0=$(foreign_seen "$fid") || t_fail "cannot read $FOREIGN_PROG's counter"
	assert_ok bwctl block "$BWE_C2_V4"
	t_atexit "bwctl unblock $BWE_C2_V4 >/dev/null 2>&1"
	assert_par "lan->site v4|reach lan $BWE_SITE_V4" "lan->c2 v4 blocked|unreach lan $BWE_C2_V4"
	seen1=$(foreign_seen "$fid")
	[ "$seen1" -gt "$seen0" ] || t_fail "the foreign program saw nothing ($seen0 -> $seen1)"
}

# ---- NAT: where wan0 translates, the TC egress program is on every interface

t_nat_programs() {
	local st want
	st=$(bwctl --json status)
	assert_eq "$(jq -r '.interfaces[] | select(.name == "wan0") | .nat' <<<"$st")" "$(wan_nat)" \
		"wan0's nat"
	if [ "$(wan_nat)" = none ]; then want='[false,false]'; else want='[true,true]'; fi
	assert_eq "$(jq -c '[.interfaces[].tc_egress_prog_id != null]' <<<"$st")" "$want" \
		"TC egress program on lan0, wan0"
	if [ "$(wan_nat)" != none ]; then
		gw tc filter show dev lan0 egress | grep -q "bwe_tc_egress" ||
			t_fail "tc shows no bwe_tc_egress on lan0: $(gw tc filter show dev lan0 egress)"
		note "topology $BWE_TOPOLOGY: wan0 nat $(wan_nat), TC egress program $(jq -r '.interfaces[0].tc_egress_prog_id' <<<"$st")"
	else
		note "topology ${BWE_TOPOLOGY:-routed}: no translation, no TC program"
	fi
}

# ---- allowed traffic

t_flows() { # FAMILY
	local f=$1 lan_a site mgmt
	eval "lan_a=\$BWE_LAN_V$f site=\$BWE_SITE_V$f mgmt=\$BWE_MGMT_V$f"
	local before after
	udp_server net "$site" 100 || t_fail "no UDP server"
	before=$(counters)
	assert_par \
		"ping lan->site|reach lan $site" \
		"ping lan2->site|reach lan2 $site" \
		"ping site->lan (a translating gateway answers itself)|reach net $(from_net "$f") $site" \
		"http lan->site|http_ok lan $site" \
		"http lan2->mgmt|http_ok lan2 $mgmt" \
		"http site->lan|http_ok net $(from_net "$f") $site" \
		"udp lan->site (20 x 512 B echoed)|udp_ok lan - $site 20 512"
	after=$(counters)
	[ "$(delta "$before" "$after" pass packets)" -gt 40 ] ||
		t_fail "pass counter did not grow with the traffic"
	for r in block quarantine throttle malformed aborted; do
		assert_eq "$(delta "$before" "$after" $r packets)" 0 "$r packets during allowed traffic"
	done
	note "pass +$(delta "$before" "$after" pass packets) packets"
}

t_iperf() { # FAMILY PORT
	local f=$1 port=$2 site out bps
	eval "site=\$BWE_SITE_V$f"
	net timeout 20 iperf3 -s -1 -B "$site" -p "$port" >/dev/null 2>&1 &
	wait_listen net t "$port" "$site" || t_fail "iperf3 server did not start"
	out=$(lan timeout 15 iperf3 -c "$site" -p "$port" -t 2 -J 2>&1) ||
		t_fail "iperf3 failed: $(jq -r '.error // empty' <<<"$out" 2>/dev/null || echo "$out")"
	bps=$(jq '.end.sum_received.bits_per_second | floor' <<<"$out")
	note "iperf3 TCP v$f, 2 s: $((bps / 1000000)) Mbit/s, $(jq .end.sum_sent.retransmits <<<"$out") retransmits"
	[ "$bps" -ge "$FULL_SPEED_MIN_BPS" ] || t_fail "only $bps bit/s"
}

# ---- per-host accounting, to the byte

t_accounting() { # FAMILY INDEX
	local f=$1 idx=$2 addr site gw_a ip_hlen ping_frame udp_frame want top host look
	eval "site=\$BWE_SITE_V$f gw_a=\$BWE_GW_LAN_V$f"
	if [ "$f" = 4 ]; then
		addr=$ACCT_V4_BASE$((21 + idx)) ip_hlen=$IPV4_HLEN
		lan2 ip addr add "$addr/24" dev eth0 || t_fail "address"
		t_atexit "lan2 ip addr del $addr/24 dev eth0 2>/dev/null"
	else
		addr=$ACCT_V6_BASE$((21 + idx)) ip_hlen=$IPV6_HLEN
		lan2 ip addr add "$addr/64" dev eth0 nodad || t_fail "address"
		t_atexit "lan2 ip addr del $addr/64 dev eth0 2>/dev/null"
		# No neighbour discovery with the quiet address as source: a multicast
		# NS from it would be a (correctly counted) frame we did not send.
		lan2 ip -6 neigh replace "$gw_a" lladdr "$BWE_GW_LAN_MAC" dev eth0 nud permanent
		t_atexit "lan2 ip -6 neigh del $gw_a dev eth0 2>/dev/null"
		gw ip -6 neigh replace "$addr" lladdr "$BWE_LAN2_MAC" dev lan0 nud permanent
		t_atexit "gw ip -6 neigh del $addr dev lan0 2>/dev/null"
	fi
	assert_eq "$(bwctl --json top --once -n 65536 | jq --arg h "$addr" '[.[] | select(.host == $h)] | length')" 0 \
		"$addr already known before it sent anything"
	udp_server net "$site" "$ACCT_UDP" || t_fail "no UDP server"

	lan2 ping -n -q -c "$ACCT_PINGS" -i 0.01 -W 1 -s "$ACCT_PING_SIZE" -I "$addr" "$site" >/dev/null ||
		t_fail "ping from $addr lost replies"
	udp_ok lan2 "$addr" "$site" "$ACCT_UDP" "$ACCT_UDP_SIZE" || t_fail "UDP echo from $addr"

	ping_frame=$((ETH_HLEN + ip_hlen + ICMP_HLEN + ACCT_PING_SIZE))
	udp_frame=$((ETH_HLEN + ip_hlen + UDP_HLEN + ACCT_UDP_SIZE))
	want=$((ACCT_PINGS * ping_frame + ACCT_UDP * udp_frame))
	top=$(bwctl --json top --once -n 65536)
	host=$(jq -c --arg h "$addr" '.[] | select(.host == $h)' <<<"$top")
	[ -n "$host" ] || t_fail "$addr not in top: $top"
	assert_eq "$(jq .tx_packets <<<"$host")" $((ACCT_PINGS + ACCT_UDP)) "top tx_packets"
	assert_eq "$(jq .rx_packets <<<"$host")" $((ACCT_PINGS + ACCT_UDP)) "top rx_packets"
	assert_eq "$(jq .tx_bytes <<<"$host")" "$want" "top tx_bytes"
	assert_eq "$(jq .rx_bytes <<<"$host")" "$want" "top rx_bytes"
	assert_eq "$(jq .drop_packets <<<"$host")" 0 "top drop_packets"
	# top sampled the map just now, so lookup's figures are those of this sample.
	look=$(bwctl --json lookup "$addr")
	assert_eq "$(jq .tx_bytes <<<"$look")" "$want" "lookup tx_bytes"
	assert_eq "$(jq .rx_bytes <<<"$look")" "$want" "lookup rx_bytes"
	note "$addr: $ACCT_PINGS x $ping_frame B ping + $ACCT_UDP x $udp_frame B UDP = $want B each way, counted exactly"
}

# ---- block

t_block() { # FAMILY
	local f=$1 lan_a c2 site relay before after l
	eval "lan_a=\$BWE_LAN_V$f c2=\$BWE_C2_V$f site=\$BWE_SITE_V$f relay=\$BWE_RELAY_V$f"
	udp_server net "$c2" 100 || t_fail "no UDP server"
	assert_par "c2 reachable before the block|reach lan $c2" "udp to c2 before the block|udp_ok lan - $c2 1 64"
	before=$(counters)
	assert_ok bwctl block "$c2" --reason "e2e traffic"
	t_atexit "bwctl unblock $c2 >/dev/null 2>&1"
	l=$(bwctl --json lookup "$c2")
	assert_eq "$(jq -r .verdict <<<"$l")" drop "lookup verdict"
	assert_par \
		"ping lan->c2 must fail|unreach lan $c2" \
		"http lan->c2 must fail|http_fails lan $c2" \
		"udp lan->c2 must fail|udp_fails lan - $c2 1 64" \
		"ping c2->lan (or the gateway) must fail|unreach net $(from_net "$f") $c2" \
		"http c2->lan must fail|http_fails net $(from_net "$f") $c2" \
		"ping lan->site|reach lan $site" \
		"http lan->site|http_ok lan $site" \
		"ping lan->relay|reach lan $relay" \
		"http site->lan|http_ok net $(from_net "$f") $site"
	after=$(counters)
	# ping out, ping in, and at least one frame of each of HTTP out/in and UDP
	[ "$(delta "$before" "$after" block packets)" -ge 5 ] ||
		t_fail "block counter +$(delta "$before" "$after" block packets), want >= 5"
	note "block +$(delta "$before" "$after" block packets) packets"
	assert_ok bwctl unblock "$c2"
	assert_par "ping lan->c2 after unblock|reach lan $c2" \
		"http c2->lan after unblock|http_ok net $(from_net "$f") $c2" \
		"udp lan->c2 after unblock|udp_ok lan - $c2 1 64"
}

# ---- quarantine

t_quarantine() {
	local before after
	before=$(counters)
	assert_ok bwctl quarantine "$BWE_LAN_V4" "$BWE_LAN_V6" --reason "e2e traffic"
	t_atexit "bwctl release $BWE_LAN_V4 $BWE_LAN_V6 >/dev/null 2>&1"
	assert_par \
		"ping lan->site v4 must fail|unreach lan $BWE_SITE_V4" \
		"ping lan->site v6 must fail|unreach lan $BWE_SITE_V6" \
		"http lan->site v4 must fail|http_fails lan $BWE_SITE_V4" \
		"http lan->site v6 must fail|http_fails lan $BWE_SITE_V6" \
		"http site->lan v4 must fail|http_fails net $(from_net 4) $BWE_SITE_V4" \
		"ping lan->mgmt v4 (exempt)|reach lan $BWE_MGMT_V4" \
		"ping lan->mgmt v6 (exempt)|reach lan $BWE_MGMT_V6" \
		"http lan->mgmt v4 (exempt)|http_ok lan $BWE_MGMT_V4" \
		"http lan->mgmt v6 (exempt)|http_ok lan $BWE_MGMT_V6" \
		"http mgmt->lan v4 (exempt)|http_ok net $(from_net 4) $BWE_MGMT_V4" \
		"ping lan->dns v4 (exempt)|reach lan $BWE_DNS_V4" \
		"ping lan2->site v4 (not quarantined)|reach lan2 $BWE_SITE_V4" \
		"http lan2->site v6 (not quarantined)|http_ok lan2 $BWE_SITE_V6"
	after=$(counters)
	[ "$(delta "$before" "$after" quarantine packets)" -ge 5 ] || t_fail "quarantine counter"
	[ "$(delta "$before" "$after" exempt packets)" -ge 6 ] || t_fail "exempt counter"
	assert_ok bwctl release "$BWE_LAN_V4" "$BWE_LAN_V6" --reason "e2e done"
	assert_par \
		"ping lan->site v4 after release|reach lan $BWE_SITE_V4" \
		"http lan->site v6 after release|http_ok lan $BWE_SITE_V6" \
		"http site->lan v4 after release|http_ok net $(from_net 4) $BWE_SITE_V4"
}

t_quarantine_ttl() {
	local i n t0 t1
	assert_ok bwctl quarantine "$BWE_LAN2_V4" "$BWE_LAN2_V6" --ttl 2s
	t_atexit "bwctl release $BWE_LAN2_V4 $BWE_LAN2_V6 >/dev/null 2>&1"
	t0=$(date +%s%N)
	assert_par "lan2->site v4 must fail|unreach lan2 $BWE_SITE_V4" \
		"lan2->site v6 must fail|unreach lan2 $BWE_SITE_V6" \
		"lan2->mgmt v4 (exempt)|reach lan2 $BWE_MGMT_V4"
	for i in $(seq 1 40); do
		n=$(bwctl --json list quarantine | jq length)
		[ "$n" = 0 ] && break
		sleep 0.2
	done
	t1=$(date +%s%N)
	assert_eq "$n" 0 "quarantine entries left 8 s after a 2 s TTL"
	assert_par "lan2->site v4 after expiry|reach lan2 $BWE_SITE_V4" \
		"lan2->site v6 after expiry|reach lan2 $BWE_SITE_V6"
	note "expired after $(((t1 - t0) / 1000000)) ms"
}

# ---- throttle

# throttle_wire GOODPUT MSS: the frame bit rate that carried GOODPUT bit/s of
# TCP payload in segments of MSS bytes, the quantity the bucket meters.
throttle_wire() {
	echo $(($1 * THROTTLE_FRAME / $2))
}

# throttle_note WHAT GOODPUT WIRE
throttle_note() {
	awk -v w="$1" -v b="$2" -v x="$3" -v r="$THROTTLE_BPS" 'BEGIN {
		printf "%s: %.2f Mbit/s TCP goodput, %.2f Mbit/s of frames (%+.1f%% of %g Mbit/s)",
			w, b / 1e6, x / 1e6, (x - r) * 100 / r, r / 1e6 }'
}

t_throttle() { # FAMILY PORT
	local f=$1 port=$2 host site out bps wire mss full lo hi burst_opt=()
	eval "host=\$BWE_LAN_V$f site=\$BWE_SITE_V$f mss=\$THROTTLE_MSS_V$f"
	[ "$THROTTLE_BURST" = default ] || burst_opt=(--burst "$THROTTLE_BURST")
	assert_ok bwctl throttle "$host" "$THROTTLE_RATE" "${burst_opt[@]}"
	t_atexit "bwctl unthrottle $host >/dev/null 2>&1"
	note "$(bwctl list throttle | grep -F "$host" | head -1)"

	net timeout 30 iperf3 -s -1 -B "$site" -p "$port" >/dev/null 2>&1 &
	wait_listen net t "$port" "$site" || t_fail "iperf3 server did not start"
	out=$(lan timeout 25 iperf3 -c "$site" -p "$port" -t "$THROTTLE_SECS" -O 1 -J 2>&1) ||
		t_fail "iperf3 failed: $(jq -r '.error // empty' <<<"$out" 2>/dev/null || echo "$out")"
	bps=$(jq '.end.sum_received.bits_per_second | floor' <<<"$out")
	wire=$(throttle_wire "$bps" "$mss")
	note "$(throttle_note "throttled v$f" "$bps" "$wire")," \
		"$(jq .end.sum_sent.retransmits <<<"$out") retransmits; goodput per second:" \
		"$(jq -r '[.intervals[].sum.bits_per_second / 1e5 | floor / 10] | join(" ")' <<<"$out")" \
		"(the first one omitted from the figure)"
	lo=$((THROTTLE_BPS * (100 - THROTTLE_TOL_PCT) / 100))
	hi=$((THROTTLE_BPS * (100 + THROTTLE_TOL_PCT) / 100))
	if [ "$wire" -lt "$lo" ] || [ "$wire" -gt "$hi" ]; then
		t_fail "frame rate $wire bit/s (goodput $bps) outside $lo..$hi"
	fi
	[ "$(bwctl --json stats | jq .reasons.throttle.packets)" -gt 0 ] || t_fail "no throttle drops counted"

	# The other way (iperf3 -R: the site sends): the receive bucket, which on a
	# translating gateway is spent by the TC egress program of lan0.
	net timeout 30 iperf3 -s -1 -B "$site" -p $((port + 1)) >/dev/null 2>&1 &
	wait_listen net t $((port + 1)) "$site" || t_fail "iperf3 server did not start"
	out=$(lan timeout 25 iperf3 -c "$site" -p $((port + 1)) -R -t "$THROTTLE_SECS" -O 1 -J 2>&1) ||
		t_fail "iperf3 -R failed: $(jq -r '.error // empty' <<<"$out" 2>/dev/null || echo "$out")"
	bps=$(jq '.end.sum_received.bits_per_second | floor' <<<"$out")
	wire=$(throttle_wire "$bps" "$mss")
	note "$(throttle_note "throttled v$f download" "$bps" "$wire")"
	if [ "$wire" -lt "$lo" ] || [ "$wire" -gt "$hi" ]; then
		t_fail "download frame rate $wire bit/s (goodput $bps) outside $lo..$hi"
	fi

	assert_ok bwctl unthrottle "$host"
	net timeout 20 iperf3 -s -1 -B "$site" -p $((port + 2)) >/dev/null 2>&1 &
	wait_listen net t $((port + 2)) "$site" || t_fail "iperf3 server did not start"
	out=$(lan timeout 15 iperf3 -c "$site" -p $((port + 2)) -t 2 -J 2>&1) || t_fail "iperf3 failed"
	full=$(jq '.end.sum_received.bits_per_second | floor' <<<"$out")
	note "unthrottled v$f: $((full / 1000000)) Mbit/s"
	[ "$full" -ge "$FULL_SPEED_MIN_BPS" ] || t_fail "unthrottled only $full bit/s"
}

# ---- crafted frames

# Where a frame is written:
#   sw  - on p-gw, the switch port wired to lan0: the frame reaches the XDP
#         program byte for byte, VLAN tags in band;
#   lan - by the LAN host on its eth0, through the bridge, as a LAN host would:
#         the bridge takes the outer VLAN tag into skb metadata (it stays out
#         of band through the veth), and its br_netfilter hook drops frames
#         with broken IP headers before they reach the gateway.
# Counters: NAME for a delta of INJECT_COUNT packets (and, from sw, that many
# frames' bytes); every drop/anomaly counter not named must stay unchanged.
DROP_COUNTERS="block quarantine throttle malformed aborted fragment l4_truncated exthdr_limit"
L4="--proto udp --dport 53 --sport 40000 --payload 32"

t_crafted() { # WHERE "COUNTERS" INJECT-ARGS...
	local where=$1 want=$2 out len before after c d n i
	shift 2
	assert_ok bwctl block "$BWE_C2_V4" "$BWE_C2_V6"
	t_atexit "bwctl unblock $BWE_C2_V4 $BWE_C2_V6 >/dev/null 2>&1"
	assert_ok bwctl quarantine "$QHOST_V4" "$QHOST_V6"
	t_atexit "bwctl release $QHOST_V4 $QHOST_V6 >/dev/null 2>&1"
	before=$(counters)
	case $where in
	sw) out=$(sw "$INJECT" -i p-gw --dmac "$BWE_GW_LAN_MAC" --smac "$BWE_LAN_MAC" \
		--count "$INJECT_COUNT" "$@" 2>&1) ;;
	lan) out=$(lan "$INJECT" -i eth0 --dmac "$BWE_GW_LAN_MAC" --smac "$BWE_LAN_MAC" \
		--count "$INJECT_COUNT" "$@" 2>&1) ;;
	esac || t_fail "inject: $out"
	len=$(sed -n 's/^sent [0-9]* frames of \([0-9]*\) bytes$/\1/p' <<<"$out")
	[ -n "$len" ] || t_fail "inject said: $out"
	# The verdict is counted before the frame goes on; give the last a moment.
	for i in 1 2 3 4 5; do
		after=$(counters)
		n=0
		for c in $want; do
			[ "$(delta "$before" "$after" "$c" packets)" -ge "$INJECT_COUNT" ] && n=$((n + 1))
		done
		[ "$n" = "$(wc -w <<<"$want")" ] && break
		sleep 0.1
	done
	for c in $want; do
		d=$(delta "$before" "$after" "$c" packets)
		if [ "$c" = pass ]; then
			[ "$d" -ge "$INJECT_COUNT" ] || t_fail "pass +$d packets, want >= $INJECT_COUNT"
			continue
		fi
		assert_eq "$d" "$INJECT_COUNT" "$c packets"
		if [ "$where" = sw ]; then
			assert_eq "$(delta "$before" "$after" "$c" bytes)" $((INJECT_COUNT * len)) "$c bytes"
		fi
	done
	for c in $DROP_COUNTERS; do
		case " $want " in *" $c "*) continue ;; esac
		assert_eq "$(delta "$before" "$after" "$c" packets)" 0 "$c packets (not expected)"
	done
	note "$INJECT_COUNT x $len B ($where): $(for c in $want; do
		printf '%s +%s/%sB ' "$c" "$(delta "$before" "$after" "$c" packets)" \
			"$(delta "$before" "$after" "$c" bytes)"; done)"
}

# NAME|WHERE|COUNTERS|INJECT ARGS
CRAFTED_ROWS=$(cat <<EOR
802.1Q frame to a blocked v4 address|sw|block|--src $BWE_LAN_V4 --dst $BWE_C2_V4 $L4 --vlan 10
QinQ (802.1ad + 802.1Q) frame to a blocked v4 address|sw|block|--src $BWE_LAN_V4 --dst $BWE_C2_V4 $L4 --vlan 100,200
QinQ frame to a blocked v6 address|sw|block|--src $BWE_LAN_V6 --dst $BWE_C2_V6 --proto tcp --dport 443 --vlan 100,200
802.1Q frame from a blocked address to a LAN host|sw|block|--src $BWE_C2_V4 --dst $BWE_LAN_V4 $L4 --vlan 10
IPv6 hop-by-hop + routing + dstopts to a blocked address|sw|block|--src $BWE_LAN_V6 --dst $BWE_C2_V6 $L4 --v6ext hop,routing,dstopt
IPv6 hop-by-hop + routing + dstopts + AH in QinQ to a blocked address|sw|block|--src $BWE_LAN_V6 --dst $BWE_C2_V6 $L4 --v6ext hop:24,routing,dstopt:16,ah --vlan 5,6
later IPv4 fragment to a blocked address|sw|block fragment|--src $BWE_LAN_V4 --dst $BWE_C2_V4 --proto udp --payload 64 --frag-offset 185
later IPv6 fragment to a blocked address|sw|block fragment|--src $BWE_LAN_V6 --dst $BWE_C2_V6 --proto udp --payload 64 --frag-offset 185
later IPv6 fragment behind hop-by-hop in 802.1Q to a blocked address|sw|block fragment|--src $BWE_LAN_V6 --dst $BWE_C2_V6 --proto tcp --payload 64 --v6ext hop,frag --frag-offset 9 --mf --vlan 7
first IPv4 fragment (MF, offset 0) to a blocked address|sw|block|--src $BWE_LAN_V4 --dst $BWE_C2_V4 $L4 --mf
truncated IPv4 header|sw|malformed|--src $BWE_LAN_V4 --dst $BWE_SITE_V4 $L4 --truncate 26
truncated IPv6 header|sw|malformed|--src $BWE_LAN_V6 --dst $BWE_SITE_V6 $L4 --truncate 44
truncated 802.1Q tag|sw|malformed|--src $BWE_LAN_V4 --dst $BWE_SITE_V4 $L4 --vlan 10 --truncate 16
truncated IPv4 header inside QinQ|sw|malformed|--src $BWE_LAN_V4 --dst $BWE_C2_V4 $L4 --vlan 10,20 --truncate 32
quarantined host's 802.1Q frame|sw|quarantine|--src $QHOST_V4 --dst $BWE_SITE_V4 $L4 --vlan 10
quarantined host's QinQ IPv6 frame|sw|quarantine|--src $QHOST_V6 --dst $BWE_SITE_V6 $L4 --vlan 10,20
QinQ frame to an allowed site passes|sw|pass|--src $BWE_LAN_V4 --dst $BWE_SITE_V4 $L4 --vlan 10,20
from a LAN host: 802.1Q frame to a blocked address|lan|block|--src $BWE_LAN_V4 --dst $BWE_C2_V4 $L4 --vlan 10
from a LAN host: QinQ frame to a blocked address|lan|block|--src $BWE_LAN_V6 --dst $BWE_C2_V6 $L4 --vlan 10,20
from a LAN host: IPv6 extension headers to a blocked address|lan|block|--src $BWE_LAN_V6 --dst $BWE_C2_V6 $L4 --v6ext hop,routing,dstopt
from a LAN host: later fragment to a blocked address|lan|block fragment|--src $BWE_LAN_V4 --dst $BWE_C2_V4 --proto udp --payload 64 --frag-offset 185
from a LAN host: quarantined host's 802.1Q frame|lan|quarantine|--src $QHOST_V4 --dst $BWE_SITE_V4 $L4 --vlan 10
EOR
)

# ---- a foreign XDP program

# Frames foreign program PROG_ID counted (its map foreign_seen, all CPUs).
foreign_seen() { # PROG_ID
	local map
	map=$(gw bpftool -j prog show id "$1" | jq -r '.map_ids[0] // empty')
	[ -n "$map" ] || { echo "no map for program $1" >&2; return 1; }
	# With BTF a value is a number; without (iproute2's loader drops it) it
	# is an array of hex bytes, least significant first on this host.
	gw bpftool -j map lookup id "$map" key 0 0 0 0 | jq '
		def hex: ltrimstr("0x") | ascii_downcase | explode
			| reduce .[] as $c (0; . * 16 + (if $c >= 97 then $c - 87 else $c - 48 end));
		def num: if type == "array" then (reverse | reduce .[] as $b (0; . * 256 + ($b | hex)))
			else . end;
		[.values[].value | num] | add'
}

# Whatever a foreign test did: wan0 ours again and the daemon running on both.
foreign_restore() {
	local name n
	name=$(gw ip -j link show dev wan0 | jq -r '.[0].xdp.prog.name // empty')
	n=$(bwctl --json status 2>/dev/null | jq '[.interfaces[] | select(.state == "attached")] | length')
	[ "$name" != "$FOREIGN_PROG" ] && [ "$n" = 2 ] && return 0
	stop_daemon TERM
	[ "$name" = "$FOREIGN_PROG" ] && xdp_off wan0
	start_daemon >/dev/null
}

t_foreign() { # MODE
	local mode=$1 flag st w fid fid_after seen0 seen1
	case $mode in native) flag=xdpdrv ;; *) flag=xdpgeneric ;; esac
	t_atexit foreign_restore
	stop_daemon TERM			# the data plane stays attached
	xdp_off wan0				# take ours off wan0 ...
	assert_ok gw ip link set dev wan0 "$flag" obj "$FOREIGN_OBJ" sec xdp	# ... and put theirs on
	fid=$(gw ip -j link show dev wan0 | jq -r '.[0].xdp.prog.id // empty')
	[ -n "$fid" ] || t_fail "foreign program not attached"
	start_daemon || t_fail "bwctld did not start next to a foreign program"

	st=$(bwctl --json status)
	w=$(jq -c '.interfaces[] | select(.name == "wan0")' <<<"$st")
	assert_eq "$(jq -r .state <<<"$w")" detached "wan0 state"
	jq -e --arg p "$FOREIGN_PROG" '.note // "" | contains($p)' <<<"$w" >/dev/null ||
		t_fail "wan0 note does not name $FOREIGN_PROG: $(jq -r .note <<<"$w")"
	assert_eq "$(jq -r '.interfaces[] | select(.name == "lan0") | .state' <<<"$st")" attached "lan0 state"
	note "wan0: $(jq -r .note <<<"$w")"
	grep -q "$FOREIGN_PROG" "$DLOG" || t_fail "the daemon's log does not name $FOREIGN_PROG"

	# An explicit attach is refused too, and changes nothing.
	assert_fail bwctl attach wan0 --mode "$mode"
	sleep 0.5	# time for anything that would retry on a link event
	fid_after=$(gw ip -j link show dev wan0 | jq -r '.[0].xdp.prog.id // empty')
	assert_eq "$fid_after" "$fid" "program on wan0"
	assert_eq "$(gw ip -j link show dev wan0 | jq -r '.[0].xdp.prog.name // empty')" "$FOREIGN_PROG" \
		"program name on wan0"
	# ... and still passes traffic, with ours enforcing on lan0.
	assert_ok bwctl block "$BWE_C2_V4"
	t_atexit "bwctl unblock $BWE_C2_V4 >/dev/null 2>&1"
	seen0=$(foreign_seen "$fid") || t_fail "cannot read $FOREIGN_PROG's counter"
	assert_par "lan->site through the foreign program|reach lan $BWE_SITE_V4" \
		"lan->c2 still blocked on lan0|unreach lan $BWE_C2_V4"
	seen1=$(foreign_seen "$fid")
	[ "$seen1" -gt "$seen0" ] || t_fail "the foreign program saw nothing ($seen0 -> $seen1)"
	note "$FOREIGN_PROG (id $fid) kept running: $seen0 -> $seen1 frames"
	assert_ok bwctl unblock "$BWE_C2_V4"

	# Taken off again, wan0 is ours after a restart.
	stop_daemon TERM
	xdp_off wan0
	start_daemon || t_fail "restart"
	assert_eq "$(bwctl --json status | jq -r '[.interfaces[] | select(.state == "attached")] | length')" 2 \
		"attached after the foreign program left"
}

# ================================================================== run

mode_index=0
for MODE in $MODES; do
	t_begin "bwctld attaches lan0 and wan0 in $MODE mode"
	stop_daemon TERM
	MODE=$MODE write_config
	if ! start_daemon; then
		t_fail "bwctld did not start in $MODE mode: $(tail -5 "$DLOG")"
		continue
	fi
	st=$(bwctl --json status)
	assert_eq "$(jq -c '[.interfaces[] | [.name, .state, .attached_mode]]' <<<"$st")" \
		"[[\"lan0\",\"attached\",\"$MODE\"],[\"wan0\",\"attached\",\"$MODE\"]]" "interfaces" &&
		assert_eq "$(gw ip -d -j link show dev lan0 | jq -r '.[0].xdp.mode')" \
			"$([ "$MODE" = native ] && echo 1 || echo 2)" "kernel XDP mode of lan0 (1 drv, 2 generic)" &&
		t_pass

	run "status: no dispatcher here, multiprog false and a note saying why [$MODE]" t_status_dispatcher
	run "a second XDP program runs beside ours (libxdp dispatcher) [$MODE]" t_coexist "$MODE"
	run "TC egress programs exactly where wan0 translates [$MODE]" t_nat_programs
	for f in 4 6; do
		run "ping, HTTP and UDP flow both ways, v$f [$MODE]" t_flows $f
	done
	for f in 4 6; do
		run "iperf3 TCP flows, v$f [$MODE]" t_iperf $f $((IPERF_PORT + mode_index * 10 + f))
	done
	for f in 4 6; do
		run "per-host bytes and packets are exact, v$f [$MODE]" t_accounting $f $mode_index
	done
	for f in 4 6; do
		run "a blocked address is dropped both ways, other traffic flows, v$f [$MODE]" t_block $f
	done
	run "quarantine: exempt servers reachable, the rest not; release [$MODE]" t_quarantine
	run "quarantine with a TTL ends by itself [$MODE]" t_quarantine_ttl
	for f in 4 6; do
		run "throttle $THROTTLE_RATE: within ${THROTTLE_TOL_PCT}%, unthrottle restores, v$f [$MODE]" \
			t_throttle $f $((IPERF_PORT + 100 + mode_index * 10 + f * 3))
	done
	while IFS='|' read -r name where want args; do
		[ -n "$name" ] || continue
		# shellcheck disable=SC2086  # args are words on purpose
		run "crafted: $name [$MODE]" t_crafted "$where" "$want" $args
	done <<<"$CRAFTED_ROWS"
	run "a foreign XDP program on wan0 is not replaced [$MODE]" t_foreign "$MODE"
	mode_index=$((mode_index + 1))
done

# ---- the end: nothing of ours may stay behind

t_begin "bwctl detach removes our programs"
if bwctl detach >/dev/null; then
	left=$(for i in lan0 wan0; do gw ip -j link show dev "$i" | jq -r '.[0].xdp.prog.id // empty'; done)
	tcleft=$(for i in lan0 wan0; do gw tc filter show dev "$i" egress 2>/dev/null | grep bwe_tc_egress; done)
	if [ -n "$left" ]; then t_fail "XDP still attached: $left"
	elif [ -n "$tcleft" ]; then t_fail "TC egress program still attached: $tcleft"
	else t_pass; fi
	# bwctl(8): "detach ... from all and unpin the maps"; reported, not failed here.
	[ -e "$DIR/bpf/bwe/bwe_stats" ] && echo "      note: maps still pinned under $DIR/bpf/bwe after bwctl detach"
else
	t_fail "bwctl detach failed"
fi
stop_daemon TERM

t_begin "teardown leaves no namespace and no XDP in the root namespace"
"$ROOT/scripts/testbed.sh" down "$RUN" >/dev/null 2>&1
left=$(ip netns list | awk '{print $1}' | grep -- "-$RUN-")
xdp_root=$(ip -j link show | jq -r '.[] | select(.xdp != null) | .ifname')
if [ -n "$left" ]; then t_fail "namespaces left: $left"
elif [ -n "$xdp_root" ]; then t_fail "XDP on root-namespace interfaces: $xdp_root"
else t_pass; fi

t_summary
