#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# e2e_flowtable.sh - the XDP fast path through the nftables flowtable
# (interfaces[].fast_forward: flowtable) with real traffic through the
# gateway testbed, bwctld on lan0 and wan0.
#
# This machine's kernel has no nf_flow_table: here the suite checks that
# bwctld refuses the mode (bwctld -n, at start, and on a reload that asks
# for it, keeping the running configuration), then boots Debian 12's 6.12 kernel
# (tests/lib_guest.sh), whose nf_flow_table has bpf_xdp_flow_lookup, and
# runs itself there (--guest), where each of its tests is one of this
# suite's. In the guest, a NAT gateway (testbed --nat4: IPv4 masqueraded on
# wan0, IPv6 routed) with a flowtable on lan0 and wan0 and `flow add` for
# TCP and UDP in its forward chain:
#   - the mode in bwctl status; the first packets of a connection go to the
#     stack (counter "no_flow") until nftables offloads it;
#   - a TCP upload (IPv4, masqueraded: the original direction, translated
#     in XDP) and a TCP download (the replies: translated back, judged in
#     XDP as the LAN host's inbound traffic) through the fast path; the
#     internet host sees the gateway's WAN address, the receivers' stacks
#     take every segment (checksums updated right), the LAN host's received
#     packets are accounted;
#   - IPv6, routed, through the flowtable too;
#   - a UDP stream from the internet host to a LAN host: replies arrive
#     fast-forwarded with TTL 63 and no checksum error at the receiver;
#     once the host is quarantined, they are dropped in XDP (inbound
#     quarantine drops grow, nothing is deferred to the LAN egress) and the
#     host receives none; released, they flow again.
#
# Needs root, ip, nft, iperf3, jq, python3, qemu and the kernels
# scripts/setup-deps.sh fetched, and build/tools/xdp_foreign.bpf.o.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
t_require_root
# shellcheck source=tests/lib_bwe.sh
. "$(dirname "$0")/lib_bwe.sh"
# shellcheck source=tests/lib_guest.sh
. "$(dirname "$0")/lib_guest.sh"
IPERF_PORT=5311
IPERF_SECS=1
STREAM_PORT=47300
FT_KERNEL=6.12 # the guest kernel: the first fetched version that starts so

# ---- in the guest --------------------------------------------------------------

udp_in_csum_errors() { # NSFUNC: the namespace's UDP InCsumErrors
	"$1" awk '/^Udp:/ { if (!h) { for (i = 1; i <= NF; i++) c[$i] = i; h = 1 } else print $c["InCsumErrors"] }' /proc/net/snmp
}
stat_of() { # DIRECTION REASON: packets of bwctl stats (DIRECTION: inbound, outbound)
	bwctl --json stats | jq -r --arg d "$1" --arg r "$2" '.directions[$d][$r].packets'
}
rx_packets() { # HOST
	bwctl --json top --once -n 100 | jq -r --arg h "$1" '[.[] | select(.host == $h) | .rx_packets] | first // 0'
}

g_test_mode() {
	assert_eq "$(bwctl --json status | jq -r '.flowtable')" true "the data plane's flowtable path"
	assert_eq "$(bwctl --json status | jq -r '.interfaces[] | select(.name == "wan0") | .fast_forward')" \
		flowtable "wan0's mode in status"
	wait_for 100 xmit_is lan0 true || t_fail "lan0 cannot take XDP frames"
	wait_for 100 xmit_is wan0 true || t_fail "wan0 cannot take XDP frames"
}

g_test_tcp() { # FAMILY DST PORT [-R]
	local fam=$1 dst=$2 port=$3 up=$4 lf0 wf0 n0 r0 res srv lf1 wf1 n1 r1
	net iperf3 -s -1 -p "$port" -B "$dst" -J >"$DIR/srv.$port" 2>&1 &
	sleep 1
	lf0=$(ffc lan0 forwarded) wf0=$(ffc wan0 forwarded) n0=$(ffc lan0 no_flow)
	r0=$(rx_packets "$BWE_LAN_V4")
	res=$(lan iperf3 -"$fam" -c "$dst" -p "$port" -t "$IPERF_SECS" -J ${up:+"$up"}) ||
		{ echo "$res" | tail -5; t_fail "iperf3 -$fam $up failed"; }
	wait
	lf1=$(ffc lan0 forwarded) wf1=$(ffc wan0 forwarded) n1=$(ffc lan0 no_flow)
	bwctl --json status | jq -c '.interfaces[] | {name, forward}'
	bwctl --json stats | jq -c '.anomalies'
	# every segment the receiver's stack took passed its checksum checks
	assert_ok ge "$(echo "$res" | jq -r '.end.sum_received.bytes')" 100000 "bytes received"
	assert_ok ge "$((n1 - n0))" 1 "lan0: the connection's first packets to the stack (no_flow)"
	if [ "$up" = -R ]; then
		assert_ok ge "$((wf1 - wf0))" 100 "wan0: replies forwarded in XDP"
	else
		assert_ok ge "$((lf1 - lf0))" 100 "lan0: packets forwarded in XDP"
		assert_ok ge "$((wf1 - wf0))" 20 "wan0: replies (ACKs) forwarded in XDP"
	fi
	srv=$(jq -r '.start.connected[0].remote_host' "$DIR/srv.$port")
	if [ "$fam" = 4 ]; then
		assert_eq "$srv" "$BWE_GW_WAN_V4" "the internet host's peer (masqueraded)"
		sleep 1.5 # the daemon samples the accounting once a second
		r1=$(rx_packets "$BWE_LAN_V4")
		assert_ok ge "$((r1 - r0))" 50 "the LAN host's received packets (judged in XDP)"
	else
		assert_eq "$srv" "$BWE_LAN_V6" "the internet host's peer (routed)"
	fi
}

# A UDP stream from the internet host to the LAN host's (translated)
# address: the LAN host sends one datagram, the server answers with one
# every 20 ms for SECS seconds. Once the client has 40, it creates READY;
# it counts what arrives until DONE exists ("before": their number and
# TTLs) and what arrives from 0.3 s after that ("after"). Without READY and
# DONE it counts everything as before.
udp_stream() { # SECS [READY DONE]
	net python3 - "$STREAM_PORT" "$1" >"$DIR/stream.srv" 2>&1 <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", int(sys.argv[1])))
_, peer = s.recvfrom(64)
end = time.time() + float(sys.argv[2])
while time.time() < end:
    s.sendto(b"x" * 200, peer)
    time.sleep(0.02)
PY
	sleep 1
	lan python3 - "$BWE_NET_V4" "$STREAM_PORT" "$1" "${2:-}" "${3:-}" <<'PY'
import os, socket, sys, time
dst, port, secs, ready, done = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, 12, 1)  # IP_RECVTTL (<linux/in.h>), not in Python's socket
s.settimeout(0.1)
s.sendto(b"hello", (dst, port))
end = time.time() + secs + 1
before, ttls, after, done_at = 0, set(), 0, None
while time.time() < end:
    if done and done_at is None and os.path.exists(done):
        done_at = time.time()
    try:
        _, anc, _, _ = s.recvmsg(256, 64)
    except socket.timeout:
        continue
    if done_at is None:
        before += 1
        ttls.add(anc[0][2][0] if anc else -1)
        if before == 40 and ready:
            open(ready, "w").close()
    elif time.time() > done_at + 0.3:
        after += 1
print("before", before, " ".join(str(t) for t in sorted(ttls)))
print("after", after)
PY
}
stream_field() { # FILE before|after [FIELD|FIELD-]: FIELD- is FIELD to the line's end
	awk -v k="$2" -v f="${3:-2}" '$1 == k { n = f + 0; last = f ~ /-$/ ? NF : n
		for (i = n; i <= last; i++) printf "%s%s", $i, i < last ? " " : "\n" }' "$1"
}

g_test_udp_quarantine() {
	local out=$DIR/stream.out wf0 wf1 wq wf2 q0 q1 d0 d1 c0 c1
	rm -f "$DIR/ready" "$DIR/done"
	c0=$(udp_in_csum_errors lan)
	wf0=$(ffc wan0 forwarded)
	udp_stream 6 "$DIR/ready" "$DIR/done" >"$out" &
	wait_for 150 test -e "$DIR/ready" || { cat "$DIR/stream.srv"; t_fail "the stream did not start"; }
	wf1=$(ffc wan0 forwarded)
	assert_ok bwctl quarantine "$BWE_LAN_V4"
	touch "$DIR/done"
	wq=$(ffc wan0 forwarded) q0=$(stat_of inbound quarantine) d0=$(deferred)
	wait
	wf2=$(ffc wan0 forwarded) q1=$(stat_of inbound quarantine) d1=$(deferred)
	c1=$(udp_in_csum_errors lan)
	cat "$out"
	assert_ok ge "$(stream_field "$out" before)" 40 "datagrams received before the quarantine"
	assert_eq "$(stream_field "$out" before 3-)" 63 "their TTLs (one forwarding hop, every one)"
	assert_ok ge "$((wf1 - wf0))" 20 "wan0: the stream forwarded in XDP"
	assert_eq "$c1" "$c0" "UDP checksum errors at the LAN host"
	assert_eq "$(stream_field "$out" after)" 0 "datagrams received once quarantined"
	# the stream went on: dropped in XDP, not handed to the stack for the LAN egress
	assert_ok ge "$((q1 - q0))" 50 "inbound quarantine drops"
	assert_eq "$d1" "$d0" "replies deferred to the LAN egress"
	assert_ok ge 2 "$((wf2 - wq))" "wan0: forwarded once quarantined (in flight at most)"
	assert_ok bwctl release "$BWE_LAN_V4"
	udp_stream 2 >"$out"
	assert_ok ge "$(stream_field "$out" before)" 20 "datagrams after the release"
}

guest_main() {
	MODE=native
	bwe_testbed_up ft --nat4
	if ! { txcsum_off lan && txcsum_off net; }; then
		t_begin "tx checksum offload off"; t_fail "ioctl failed"
	fi
	t_begin "the gateway offloads TCP and UDP to an nftables flowtable on lan0 and wan0"
	if ft_on && peers_xdp on; then t_pass; else t_fail "nft or XDP on the peers failed"; fi
	ff_config flowtable
	t_begin "bwctld starts with fast_forward: flowtable"
	if start_daemon && ! grep -q "flowtable fast path.*did not load" "$DIR/bwctld.log"; then
		t_pass
	else
		tail -20 "$DIR/bwctld.log"
		t_fail "bwctld did not start with the flowtable path"
	fi
	t_run "the mode in bwctl status, both egresses take XDP frames" g_test_mode
	t_run "TCP upload (IPv4, masqueraded) translated and forwarded in XDP" \
		g_test_tcp 4 "$BWE_NET_V4" "$IPERF_PORT" ""
	t_run "TCP download (IPv4): replies translated back, judged and forwarded in XDP" \
		g_test_tcp 4 "$BWE_NET_V4" "$((IPERF_PORT + 1))" -R
	t_run "TCP download (IPv6, routed) through the flowtable" \
		g_test_tcp 6 "$BWE_NET_V6" "$((IPERF_PORT + 2))" -R
	t_run "UDP replies fast (TTL 63, checksums right), dropped in XDP once the host is quarantined" \
		g_test_udp_quarantine
	stop_daemon TERM
}

if [ "${1:-}" = --guest ]; then
	T_TIMEOUT=${T_TIMEOUT:-120}
	WAIT_STEP=0.2
	guest_main
	t_summary
	exit
fi

# ---- on this machine -------------------------------------------------------------

T_TIMEOUT=${T_TIMEOUT:-60}

t_test_refused() {
	local msg="fast_forward flowtable needs the kernel function bpf_xdp_flow_lookup" out
	local end="; or use fib or off\$" # the whole sentence, not cut off
	ff_config flowtable
	# bwctld -n asks the kernel as a start does
	if out=$("$BWCTLD" -n -c "$CFG" 2>&1); then
		t_fail "bwctld -n accepted fast_forward: flowtable on a kernel without the kfunc: $out"
	fi
	grep -q "^interfaces\[0\] (lan0): $msg.*$end" <<<"$out" ||
		t_fail "bwctld -n: no error naming the interface and the kfunc: $out"
	if start_daemon; then
		t_fail "bwctld started with fast_forward: flowtable on a kernel without the kfunc"
	fi
	grep -q "startup failed: interfaces\[0\] (lan0): $msg.*$end" "$DIR/bwctld.log" ||
		{ tail -5 "$DIR/bwctld.log"; t_fail "no error naming the interface and the kfunc"; }
	# a running daemon keeps its configuration
	ff_config fib
	start_daemon || t_fail "bwctld with fast_forward: fib"
	assert_eq "$(bwctl --json status | jq -r '.flowtable')" false "the data plane's flowtable path"
	ff_config flowtable
	hup_daemon
	wait_for 50 grep -q "reload refused, keeping the running configuration: interfaces\[0\] (lan0): $msg" \
		"$DIR/bwctld.log" || { tail -5 "$DIR/bwctld.log"; t_fail "the reload was not refused"; }
	assert_eq "$(bwctl --json status | jq -r '.interfaces[] | select(.name == "lan0") | .fast_forward')" \
		fib "lan0's mode after the refused reload"
	stop_daemon TERM
}

# Whether this kernel has the kfunc is the data plane's to say (status.flowtable).
bwe_testbed_up ftr --routed
ff_config fib
if start_daemon && [ "$(bwctl --json status | jq -r '.flowtable')" = true ]; then
	stop_daemon TERM
	t_begin "bwctld refuses fast_forward: flowtable without bpf_xdp_flow_lookup"
	t_skip "this kernel has bpf_xdp_flow_lookup"
else
	stop_daemon TERM
	t_run "bwctld refuses fast_forward: flowtable without bpf_xdp_flow_lookup (-n, start and reload)" \
		t_test_refused
fi
"$ROOT/scripts/testbed.sh" down "$RUN" >/dev/null 2>&1

kdir=""
while read -r ver; do
	case $ver in "$FT_KERNEL".*) kdir=$GUEST_KERNELS_DIR/$ver && break ;; esac
done < <(guest_kernels)
t_begin "Debian 12's $FT_KERNEL kernel, qemu and the tools are there"
if ! why=$(guest_ready); then
	t_fail "$why"
elif [ -z "$kdir" ]; then
	t_fail "no $FT_KERNEL kernel in $GUEST_KERNELS_DIR (scripts/setup-deps.sh)"
elif [ ! -f "$PASS_OBJ" ]; then
	t_fail "$PASS_OBJ not built (make)"
else
	t_pass
	[ -n "${DIR:-}" ] || t_tmpdir DIR
	GUEST_LIMIT_S=600 # boot, testbed, two verifications under emulation: about 100 s
	t_begin "the $FT_KERNEL guest ran this suite"
	guest_run "$kdir" "export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin; cd $ROOT && bash tests/e2e_flowtable.sh --guest; echo BWE-GUEST-RC \$?" \
		"$DIR/guest.console"
	rc=$?
	if [ "$rc" != 0 ] || ! grep -q '^BWE-GUEST-RC ' "$DIR/guest.console"; then
		tail -30 "$DIR/guest.console" | _t_indent
		t_fail "qemu: exit $rc (limit ${GUEST_LIMIT_S} s), or the suite did not end"
	else
		t_pass
	fi
	# Each result of the guest's run becomes one of ours (a failure with its lines).
	awk '/^(PASS|FAIL|SKIP)  / { if (name) print kind "\t" name "\t" msg; kind = $1; name = substr($0, 7); msg = ""; next }
	     /^    \| / && name { msg = msg substr($0, 7) "\\n"; next }
	     /^[0-9]+ passed, [0-9]+ failed/ { if (name) print kind "\t" name "\t" msg; name = "" }
	     END { if (name) print kind "\t" name "\t" msg }' "$DIR/guest.console" >"$DIR/guest.results"
	while IFS=$'\t' read -r kind name msg; do
		name=${name% (*s)}
		t_begin "$FT_KERNEL guest: $name"
		case $kind in
		PASS) t_pass ;;
		SKIP) t_skip "${name#*: }" ;;
		*) t_fail "$(printf '%b' "$msg" | tail -20)" ;;
		esac
	done <"$DIR/guest.results"
	[ -s "$DIR/guest.results" ] || { t_begin "the guest's results"; t_fail "none on its console"; }
fi
t_summary
