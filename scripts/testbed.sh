#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# testbed.sh - build the gateway test topologies in network namespaces.
#
#   testbed.sh up [--nat|--nat4|--nat6|--routed] [--stick] [--guest]
#                 [--wan-bridge] [RUN_ID]
#                                build it; prints RUN_ID=<id> and BWE_ENV=<file>
#       --nat      (default) the gateway masquerades the LAN behind its WAN
#                  addresses, IPv4 (table ip nat) and IPv6 (NAT66, table ip6 nat),
#                  with one port forward: WAN TCP/UDP 8080 -> 198.18.0.10:8080 and
#                  [2001:db8:1::10]:8080
#       --nat4     IPv4 masqueraded, IPv6 routed;  --nat6  the other way round
#       --routed   no translation: the internet host routes to the LAN prefixes
#       --stick    router on a stick: one gateway interface, lan0, carries LAN
#                  and WAN (untagged, one bridge: this kernel has no 802.1Q)
#       --guest    a second LAN (guest, 198.18.1.0/24, 2001:db8:4::/64) on lan1;
#                  with NAT a second port forward: WAN TCP/UDP 8082 -> the guest
#                  host 198.18.1.10:8082 and [2001:db8:4::10]:8082
#       --wan-bridge  wan0 is the port of a bridge br-wan in the gateway that
#                  holds the WAN addresses, routes and NAT: the kernel
#                  translates on a device stacked on the one bwctld attaches
#                  to, as on ppp0 over a PPPoE NIC or eth0.20 over a stick's NIC
#   testbed.sh down   [RUN_ID]   remove it (idempotent, works after a crash)
#   testbed.sh down   --all      remove every $BWE_PREFIX-* namespace of any run
#   testbed.sh status [RUN_ID]   show the topology, namespaces, links, addresses,
#                                routes and NAT rules (without an id: list runs)
#
# RUN_ID defaults to $BWE_RUN, and for `up` to the PID of this script.
# It may hold letters, digits and '_' (no '-', so names stay parseable).
#
# Topology (every name carries the run id, nothing touches the root namespace;
# each veth is created directly inside its namespaces).  Inline (the default):
#
#   bwe-<id>-lan   eth0 198.18.0.10/24 2001:db8:1::10/64 ─┐
#   bwe-<id>-lan2  eth0 198.18.0.11/24 2001:db8:1::11/64 ─┤ p-lan, p-lan2
#                                                         │
#   bwe-<id>-sw    br-lan (bridge, no IP, no IPv6)  ───────┤ p-gw
#                                                         │
#   bwe-<id>-gw    lan0 198.18.0.1/24  2001:db8:1::1/64  ─┘   ip_forward=1
#                  wan0 198.51.100.1/24 2001:db8:2::1/64 ─┐   (v4 and v6)
#                 [lan1 198.18.1.1/24 2001:db8:4::1/64 ─┐ │   --guest]
#                                                       │ │
#  [bwe-<id>-guest eth0 198.18.1.10/24 2001:db8:4::10/64┘ │   --guest]
#                                                         │
#   bwe-<id>-net   eth0 198.51.100.2/24 2001:db8:2::2/64 ─┘
#                  + 203.0.113.{10,66,80,5,53}/24, 2001:db8:3::{10,66,80,5,53}/64
#                    normal site, C2, proxyware relay, mgmt/EDR, DNS
#
# --stick: no wan0.  The gateway's one interface lan0 holds both subnets'
# gateway addresses (198.18.0.1, 2001:db8:1::1, 198.51.100.1, 2001:db8:2::1)
# and the internet host's eth0 is a port of the same bridge (p-net), so every
# forwarded packet enters and leaves by lan0.  ICMP redirects are off (the
# gateway sends none, the hosts accept none), or the hosts would be told to
# bypass it.  A real stick separates LAN and WAN with 802.1Q tags; this
# kernel has no CONFIG_VLAN_8021Q, so tagged sticks are covered by crafted
# frames (tests/tools/inject) only.
#
# NAT (--nat, --nat4, --nat6): in the gateway, `table ip nat` / `table ip6
# nat` with a postrouting chain `oifname "wan0" masquerade` (on a stick:
# `oifname "lan0"`, LAN sources to non-LAN destinations, snat to the WAN
# address; with --wan-bridge `oifname "br-wan"`) and a prerouting chain with
# the port forward.  The internet host then has no route to a translated
# family's LAN prefixes, as on the real internet: it sees the gateway's WAN
# address as the source and reaches a LAN host only through the forwarded
# port.  Routed families keep today's routes.
#
# lan0, lan1 and wan0 are veths, so native XDP can be attached to each for
# receive.  Offloads are left at their defaults (there is no ethtool here):
# the veth driver itself clears GSO on the peer while an XDP program without
# frags support is attached, so XDP on receive sees ordinary frames.  XDP_TX
# or XDP_REDIRECT out of lan0/wan0 would only be received by the peer (p-gw in
# the switch, eth0 in net) if that peer has an XDP program or GRO enabled.
#
# IPv6 DAD is off (accept_dad=0 and nodad), so v6 works at once.  rp_filter is
# 0 in the gateway.  No namespace has a route out of the machine: the LAN hosts'
# default route points at the gateway, which only knows the test prefixes.
#
# `up` writes $BWE_STATE_DIR/<id>.env (default /run/bwenforce-testbed) with
# every name and address as shell variables; tests do `. "$BWE_ENV"`.  What
# tells a test the topology: BWE_TOPOLOGY (nat, nat4, nat6, routed),
# BWE_NAT4 and BWE_NAT6 (1 translated, 0 routed), BWE_LAYOUT (inline, stick),
# BWE_GUEST (0, 1), BWE_GW_IFS (the gateway's interfaces), BWE_FWD_PORT,
# BWE_FWD_V4, BWE_FWD_V6 (the port forward, live for a translated family),
# and with --guest BWE_FWD_GUEST_PORT, BWE_FWD_GUEST_V4, BWE_FWD_GUEST_V6;
# BWE_GW_NAT_IF (the device with the WAN addresses and the NAT rules: wan0,
# lan0 on a stick, br-wan with --wan-bridge) and BWE_WAN_BRIDGE (0, 1).
#
# Environment: BWE_RUN (run id), BWE_PREFIX (default bwe),
#              BWE_STATE_DIR (default /run/bwenforce-testbed).

set -u

PREFIX=${BWE_PREFIX:-bwe}
STATE_DIR=${BWE_STATE_DIR:-/run/bwenforce-testbed}
# Every role a run may have (down removes whichever exist); guest: --guest.
ROLES="lan lan2 gw net sw guest"
PROG=testbed.sh

# The topology `up` builds (set by its options).
NAT4=1 NAT6=1 STICK=0 GUEST=0 WANBR=0

# Addresses (documentation/benchmark ranges only, see docs TESTBED.md).
GW_LAN_V4=198.18.0.1      GW_LAN_V6=2001:db8:1::1
LAN_V4=198.18.0.10        LAN_V6=2001:db8:1::10
LAN2_V4=198.18.0.11       LAN2_V6=2001:db8:1::11
GW_WAN_V4=198.51.100.1    GW_WAN_V6=2001:db8:2::1
NET_V4=198.51.100.2       NET_V6=2001:db8:2::2
SITE_V4=203.0.113.10      SITE_V6=2001:db8:3::10
C2_V4=203.0.113.66        C2_V6=2001:db8:3::66
RELAY_V4=203.0.113.80     RELAY_V6=2001:db8:3::80
MGMT_V4=203.0.113.5       MGMT_V6=2001:db8:3::5
DNS_V4=203.0.113.53       DNS_V6=2001:db8:3::53
GW_GUEST_V4=198.18.1.1    GW_GUEST_V6=2001:db8:4::1
GUEST_V4=198.18.1.10      GUEST_V6=2001:db8:4::10
LAN_NET_V4=198.18.0.0/24  LAN_NET_V6=2001:db8:1::/64
GUEST_NET_V4=198.18.1.0/24 GUEST_NET_V6=2001:db8:4::/64

# The port forward on a NAT gateway: WAN address, FWD_PORT (TCP and UDP) ->
# the first LAN host, same port.
FWD_PORT=8080
FWD_V4=$LAN_V4            FWD_V6=$LAN_V6
# ... and with --guest FWD_GUEST_PORT to the guest host.
FWD_GUEST_PORT=8082
FWD_GUEST_V4=$GUEST_V4    FWD_GUEST_V6=$GUEST_V6

# Fixed, locally administered MACs so tests can craft frames without asking.
GW_LAN_MAC=02:b3:00:00:00:01
LAN_MAC=02:b3:00:00:00:10
LAN2_MAC=02:b3:00:00:00:11
GW_WAN_MAC=02:b3:00:00:01:01
NET_MAC=02:b3:00:00:01:02
GW_GUEST_MAC=02:b3:00:00:02:01
GUEST_MAC=02:b3:00:00:02:10

usage() {
	sed -n '4,/^# It may hold/p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

log() { echo "$PROG: $*" >&2; }
die() { log "$*"; exit 1; }

need_root() {
	[ "$(id -u)" -eq 0 ] || die "must run as root"
}

check_id() {
	case $1 in
	'' | *[!A-Za-z0-9_]*) die "invalid run id '$1' (letters, digits, '_')" ;;
	esac
	[ ${#1} -le 32 ] || die "run id '$1' longer than 32 characters"
}

ns_of() { echo "$PREFIX-$RUN-$1"; }

ns_exists() { [ -e "/run/netns/$1" ]; }

# All namespaces of one run that exist right now.
run_namespaces() {
	local r
	for r in $ROLES; do
		ns_exists "$(ns_of "$r")" && ns_of "$r"
	done
	return 0
}

# Stop whatever still runs inside a namespace (servers a test forgot, a
# crashed daemon): otherwise the namespace, its veths and any XDP program
# would live on unnamed after `ip netns del`.
kill_ns_pids() {
	local ns=$1 pids _
	pids=$(ip netns pids "$ns" 2>/dev/null) || return 0
	[ -n "$pids" ] || return 0
	# shellcheck disable=SC2086
	kill -TERM $pids 2>/dev/null
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		pids=$(ip netns pids "$ns" 2>/dev/null)
		[ -n "$pids" ] || return 0
		sleep 0.1
	done
	# shellcheck disable=SC2086
	kill -KILL $pids 2>/dev/null
	return 0
}

del_ns() {
	local ns=$1
	ns_exists "$ns" || return 0
	kill_ns_pids "$ns"
	ip netns del "$ns" 2>/dev/null || {
		# A half-created entry (e.g. crash during `ip netns add`).
		umount "/run/netns/$ns" 2>/dev/null
		rm -f "/run/netns/$ns"
	}
	ns_exists "$ns" && { log "could not remove namespace $ns"; return 1; }
	return 0
}

env_file() { echo "$STATE_DIR/$RUN.env"; }

# ---------------------------------------------------------------- down
do_down() {
	local rc=0 r
	for r in $ROLES; do
		del_ns "$(ns_of "$r")" || rc=1
	done
	rm -f "$(env_file)"
	rmdir "$STATE_DIR" 2>/dev/null
	return $rc
}

do_down_all() {
	local rc=0 ns f
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
		case $ns in
		"$PREFIX"-*) del_ns "$ns" || rc=1 ;;
		esac
	done
	# State files of this prefix (also stale ones whose namespaces are gone).
	for f in "$STATE_DIR"/*.env; do
		[ -f "$f" ] && grep -qx "BWE_PREFIX='$PREFIX'" "$f" && rm -f "$f"
	done
	rmdir "$STATE_DIR" 2>/dev/null
	return $rc
}

# ---------------------------------------------------------------- up
UP_CLEAN=0

up_fail() {
	log "up: $*"
	if [ "$UP_CLEAN" = 1 ]; then
		log "up: removing the partial testbed of run $RUN"
		do_down
	fi
	exit 1
}

# Run a command, abort `up` (with cleanup) and show its error if it fails.
x() {
	local out
	out=$("$@" 2>&1) || up_fail "command failed: $*${out:+
$out}"
}

nsysctl() { x ip netns exec "$1" sysctl -qw "$2"; }

ifindex() {
	ip -n "$1" -o link show dev "$2" 2>/dev/null | awk -F': ' '{print $1; exit}'
}

# The topology's words, for the env file and status.
topology_name() {
	if [ "$NAT4" = 1 ] && [ "$NAT6" = 1 ]; then
		echo nat
	elif [ "$NAT4" = 1 ]; then
		echo nat4
	elif [ "$NAT6" = 1 ]; then
		echo nat6
	else
		echo routed
	fi
}
layout_name() { [ "$STICK" = 1 ] && echo stick || echo inline; }

# The gateway's WAN-side interface, and all of its interfaces.
wan_if() { [ "$STICK" = 1 ] && echo lan0 || echo wan0; }
# The device that holds the WAN addresses, routes and NAT rules: the WAN
# interface, or with --wan-bridge the bridge stacked on it.
wan_l3_if() {
	if [ "$WANBR" = 1 ]; then echo br-wan; else wan_if; fi
}
gw_ifs() {
	local ifs=lan0
	[ "$STICK" = 1 ] || ifs="$ifs wan0"
	[ "$GUEST" = 1 ] && ifs="$ifs lan1"
	echo "$ifs"
}
# The roles this topology has.
topo_roles() {
	local r="lan lan2 gw net sw"
	[ "$GUEST" = 1 ] && r="$r guest"
	echo "$r"
}

write_env() {
	local f tmp r all="" wan wan_mac sw_ports
	f=$(env_file)
	tmp="$f.tmp.$$"
	wan=$(wan_if)
	wan_mac=$GW_WAN_MAC
	sw_ports="p-gw p-lan p-lan2"
	if [ "$STICK" = 1 ]; then
		wan_mac=$GW_LAN_MAC
		sw_ports="$sw_ports p-net"
	fi
	for r in $(topo_roles); do all="$all${all:+ }$(ns_of "$r")"; done
	x mkdir -p "$STATE_DIR"
	{
		echo "# bwenforce testbed, run $RUN (written by scripts/testbed.sh up)"
		echo "BWE_RUN='$RUN'"
		echo "BWE_ENV='$f'"
		echo "BWE_PREFIX='$PREFIX'"
		echo "# topology: translation (nat, nat4, nat6, routed), layout (inline, stick)"
		echo "BWE_TOPOLOGY='$(topology_name)'"
		echo "BWE_NAT4='$NAT4'"
		echo "BWE_NAT6='$NAT6'"
		echo "BWE_LAYOUT='$(layout_name)'"
		echo "BWE_GUEST='$GUEST'"
		echo "BWE_GW_IFS='$(gw_ifs)'"
		echo "# port forward (TCP and UDP) of a translated family: WAN address:PORT -> FWD:PORT"
		echo "BWE_FWD_PORT='$FWD_PORT'"
		echo "BWE_FWD_V4='$FWD_V4'"
		echo "BWE_FWD_V6='$FWD_V6'"
		echo "# namespaces"
		echo "BWE_NS_LAN='$(ns_of lan)'"
		echo "BWE_NS_LAN2='$(ns_of lan2)'"
		echo "BWE_NS_GW='$(ns_of gw)'"
		echo "BWE_NS_NET='$(ns_of net)'"
		echo "BWE_NS_SW='$(ns_of sw)'"
		echo "BWE_NS_ALL='$all'"
		echo "# interfaces (name inside its namespace, ifindex, MAC); on a stick the"
		echo "# WAN interface is lan0 itself"
		echo "BWE_GW_LAN_IF='lan0'"
		echo "BWE_GW_WAN_IF='$wan'"
		echo "# the device with the WAN addresses, where the kernel translates (--wan-bridge: br-wan)"
		echo "BWE_GW_NAT_IF='$(wan_l3_if)'"
		echo "BWE_WAN_BRIDGE='$WANBR'"
		echo "BWE_LAN_IF='eth0'"
		echo "BWE_LAN2_IF='eth0'"
		echo "BWE_NET_IF='eth0'"
		echo "BWE_SW_BRIDGE='br-lan'"
		echo "BWE_SW_PORTS='$sw_ports'"
		echo "BWE_GW_LAN_IFINDEX='$(ifindex "$(ns_of gw)" lan0)'"
		echo "BWE_GW_WAN_IFINDEX='$(ifindex "$(ns_of gw)" "$wan")'"
		echo "BWE_LAN_IFINDEX='$(ifindex "$(ns_of lan)" eth0)'"
		echo "BWE_LAN2_IFINDEX='$(ifindex "$(ns_of lan2)" eth0)'"
		echo "BWE_NET_IFINDEX='$(ifindex "$(ns_of net)" eth0)'"
		echo "BWE_GW_LAN_MAC='$GW_LAN_MAC'"
		echo "BWE_GW_WAN_MAC='$wan_mac'"
		echo "BWE_LAN_MAC='$LAN_MAC'"
		echo "BWE_LAN2_MAC='$LAN2_MAC'"
		echo "BWE_NET_MAC='$NET_MAC'"
		echo "# prefixes"
		echo "BWE_LAN_NET_V4='$LAN_NET_V4'"
		echo "BWE_LAN_NET_V6='$LAN_NET_V6'"
		echo "BWE_WAN_NET_V4='198.51.100.0/24'"
		echo "BWE_WAN_NET_V6='2001:db8:2::/64'"
		echo "BWE_INET_NET_V4='203.0.113.0/24'"
		echo "BWE_INET_NET_V6='2001:db8:3::/64'"
		echo "# addresses"
		echo "BWE_GW_LAN_V4='$GW_LAN_V4'"
		echo "BWE_GW_LAN_V6='$GW_LAN_V6'"
		echo "BWE_GW_WAN_V4='$GW_WAN_V4'"
		echo "BWE_GW_WAN_V6='$GW_WAN_V6'"
		echo "BWE_LAN_V4='$LAN_V4'"
		echo "BWE_LAN_V6='$LAN_V6'"
		echo "BWE_LAN2_V4='$LAN2_V4'"
		echo "BWE_LAN2_V6='$LAN2_V6'"
		echo "BWE_NET_V4='$NET_V4'"
		echo "BWE_NET_V6='$NET_V6'"
		echo "BWE_SITE_V4='$SITE_V4'"
		echo "BWE_SITE_V6='$SITE_V6'"
		echo "BWE_C2_V4='$C2_V4'"
		echo "BWE_C2_V6='$C2_V6'"
		echo "BWE_RELAY_V4='$RELAY_V4'"
		echo "BWE_RELAY_V6='$RELAY_V6'"
		echo "BWE_MGMT_V4='$MGMT_V4'"
		echo "BWE_MGMT_V6='$MGMT_V6'"
		echo "BWE_DNS_V4='$DNS_V4'"
		echo "BWE_DNS_V6='$DNS_V6'"
		echo "# every address of the internet namespace"
		echo "BWE_INET_ALL_V4='$NET_V4 $SITE_V4 $C2_V4 $RELAY_V4 $MGMT_V4 $DNS_V4'"
		echo "BWE_INET_ALL_V6='$NET_V6 $SITE_V6 $C2_V6 $RELAY_V6 $MGMT_V6 $DNS_V6'"
		if [ "$GUEST" = 1 ]; then
			echo "# the guest LAN (--guest), on the gateway's lan1"
			echo "BWE_NS_GUEST='$(ns_of guest)'"
			echo "BWE_GW_GUEST_IF='lan1'"
			echo "BWE_GUEST_IF='eth0'"
			echo "BWE_GW_GUEST_IFINDEX='$(ifindex "$(ns_of gw)" lan1)'"
			echo "BWE_GUEST_IFINDEX='$(ifindex "$(ns_of guest)" eth0)'"
			echo "BWE_GW_GUEST_MAC='$GW_GUEST_MAC'"
			echo "BWE_GUEST_MAC='$GUEST_MAC'"
			echo "BWE_GUEST_NET_V4='$GUEST_NET_V4'"
			echo "BWE_GUEST_NET_V6='$GUEST_NET_V6'"
			echo "BWE_GW_GUEST_V4='$GW_GUEST_V4'"
			echo "BWE_GW_GUEST_V6='$GW_GUEST_V6'"
			echo "BWE_GUEST_V4='$GUEST_V4'"
			echo "BWE_GUEST_V6='$GUEST_V6'"
			echo "BWE_FWD_GUEST_PORT='$FWD_GUEST_PORT'"
			echo "BWE_FWD_GUEST_V4='$FWD_GUEST_V4'"
			echo "BWE_FWD_GUEST_V6='$FWD_GUEST_V6'"
		fi
	} >"$tmp" || up_fail "cannot write $tmp"
	x mv -f "$tmp" "$f"
}

# ping once, retrying for up to 3 s (the first echo may wait for ARP/ND).
ping_ok() { ip netns exec "$1" ping -q -n -c 1 -i 0.2 -w 3 "$2" >/dev/null 2>&1; }

# Pings every pair the topology promises, all at once: a broken testbed fails
# in ~3 s, not 3 s per address.  Into the LAN from the internet only for a
# routed family (a translated one has no route there).
verify() {
	local h ns a tmp bad in4="" in6="" lans="lan lan2"
	tmp=$(mktemp) || up_fail "mktemp failed"
	[ "$GUEST" = 1 ] && lans="$lans guest"
	for h in $lans; do
		ns=$(ns_of "$h")
		for a in $NET_V4 $SITE_V4 $C2_V4 $RELAY_V4 $MGMT_V4 $DNS_V4 \
			$NET_V6 $SITE_V6 $C2_V6 $RELAY_V6 $MGMT_V6 $DNS_V6; do
			{ ping_ok "$ns" "$a" || echo "  $ns -> $a" >>"$tmp"; } &
		done
	done
	for a in $GW_LAN_V4 $GW_LAN_V6; do
		for h in lan lan2; do
			{ ping_ok "$(ns_of $h)" "$a" || echo "  $(ns_of $h) -> $a" >>"$tmp"; } &
		done
	done
	[ "$NAT4" = 1 ] || in4="$LAN_V4 $LAN2_V4"
	[ "$NAT6" = 1 ] || in6="$LAN_V6 $LAN2_V6"
	if [ "$GUEST" = 1 ]; then
		[ "$NAT4" = 1 ] || in4="$in4 $GUEST_V4"
		[ "$NAT6" = 1 ] || in6="$in6 $GUEST_V6"
		# the two LANs reach each other through the gateway, untranslated
		for a in $GW_GUEST_V4 $GW_GUEST_V6 $LAN_V4 $LAN_V6; do
			{ ping_ok "$(ns_of guest)" "$a" || echo "  $(ns_of guest) -> $a" >>"$tmp"; } &
		done
		for a in $GUEST_V4 $GUEST_V6; do
			{ ping_ok "$(ns_of lan)" "$a" || echo "  $(ns_of lan) -> $a" >>"$tmp"; } &
		done
	fi
	for a in $in4 $in6; do
		{ ping_ok "$(ns_of net)" "$a" || echo "  $(ns_of net) -> $a" >>"$tmp"; } &
	done
	wait
	bad=$(sort "$tmp")
	rm -f "$tmp"
	[ -z "$bad" ] || up_fail "connectivity check failed (ping):
$bad"
}

# The gateway's NAT rules (nftables), for the families translated.  Inline:
# masquerade whatever leaves by wan0.  Stick: LAN and WAN share lan0, so only
# LAN sources going to non-LAN destinations, translated to the WAN address
# (masquerade would pick by route; snat says which).  The port forward:
# WAN address, FWD_PORT, TCP and UDP, to the first LAN host; with the guest
# LAN FWD_GUEST_PORT to the guest host.
nat_rules() {
	local fam wan lans4=$LAN_NET_V4 lans6=$LAN_NET_V6 post
	wan=$(wan_l3_if)
	if [ "$GUEST" = 1 ]; then
		lans4="$lans4, $GUEST_NET_V4"
		lans6="$lans6, $GUEST_NET_V6"
	fi
	for fam in 4 6; do
		local tbl ipk wan_a fwd lans gfwd=""
		if [ "$fam" = 4 ]; then
			[ "$NAT4" = 1 ] || continue
			tbl=ip ipk=ip wan_a=$GW_WAN_V4 fwd=$FWD_V4 lans=$lans4
			[ "$GUEST" = 1 ] && gfwd=$FWD_GUEST_V4
		else
			[ "$NAT6" = 1 ] || continue
			tbl=ip6 ipk=ip6 wan_a=$GW_WAN_V6 fwd="[$FWD_V6]" lans=$lans6
			[ "$GUEST" = 1 ] && gfwd="[$FWD_GUEST_V6]"
		fi
		[ -z "$gfwd" ] || gfwd="iifname \"$wan\" $ipk daddr $wan_a meta l4proto { tcp, udp } th dport $FWD_GUEST_PORT dnat to $gfwd:$FWD_GUEST_PORT"
		if [ "$STICK" = 1 ]; then
			post="oifname \"$wan\" $ipk saddr { $lans } $ipk daddr != { $lans } snat to $wan_a"
		else
			post="oifname \"$wan\" masquerade"
		fi
		cat <<EOR
table $tbl nat {
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		iifname "$wan" $ipk daddr $wan_a meta l4proto { tcp, udp } th dport $FWD_PORT dnat to $fwd:$FWD_PORT
		$gfwd
	}
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		$post
	}
}
EOR
	done
}

do_up() {
	local r ns GW SW LAN LAN2 NET GUEST_NS a rules out

	for r in $ROLES; do
		ns_exists "$(ns_of "$r")" &&
			die "up: namespace $(ns_of "$r") exists already (run '$0 down $RUN' first)"
	done
	if [ "$NAT4" = 1 ] || [ "$NAT6" = 1 ]; then
		command -v nft >/dev/null 2>&1 ||
			die "up: nft not found (Debian package nftables; --routed needs none)"
	fi
	[ -e "$(env_file)" ] && log "up: replacing stale $(env_file)"

	UP_CLEAN=1
	trap 'up_fail "interrupted"' INT TERM HUP

	GW=$(ns_of gw) SW=$(ns_of sw) LAN=$(ns_of lan) LAN2=$(ns_of lan2) NET=$(ns_of net)
	GUEST_NS=$(ns_of guest)

	for r in $(topo_roles); do
		ns=$(ns_of "$r")
		x ip netns add "$ns"
		x ip -n "$ns" link set lo up
		# Before any interface exists, so every new one inherits it.
		nsysctl "$ns" net.ipv6.conf.all.accept_dad=0
		nsysctl "$ns" net.ipv6.conf.default.accept_dad=0
		nsysctl "$ns" net.ipv6.conf.default.accept_ra=0
	done
	# The switch is a pure L2 box: no IPv6 on the bridge or its ports.
	nsysctl "$SW" net.ipv6.conf.default.disable_ipv6=1
	nsysctl "$SW" net.ipv6.conf.all.disable_ipv6=1
	# The gateway routes, v4 and v6, inside its own namespace only.
	nsysctl "$GW" net.ipv4.ip_forward=1
	nsysctl "$GW" net.ipv6.conf.all.forwarding=1
	nsysctl "$GW" net.ipv4.conf.all.rp_filter=0
	nsysctl "$GW" net.ipv4.conf.default.rp_filter=0
	if [ "$STICK" = 1 ]; then
		# Forwarding out of the interface a packet came in by is the normal
		# case on a stick: no redirects sent, none accepted by the hosts
		# (they would go round the gateway on the shared segment).
		nsysctl "$GW" net.ipv4.conf.all.send_redirects=0
		nsysctl "$GW" net.ipv4.conf.default.send_redirects=0
		for ns in "$LAN" "$LAN2" "$NET"; do
			nsysctl "$ns" net.ipv4.conf.all.accept_redirects=0
			nsysctl "$ns" net.ipv4.conf.default.accept_redirects=0
			nsysctl "$ns" net.ipv6.conf.all.accept_redirects=0
			nsysctl "$ns" net.ipv6.conf.default.accept_redirects=0
		done
	fi

	# LAN switch.
	x ip -n "$SW" link add name br-lan type bridge stp_state 0 forward_delay 0 mcast_snooping 0
	x ip -n "$SW" link set br-lan up

	# veths, each created straight inside its two namespaces.
	x ip -n "$GW" link add name lan0 address $GW_LAN_MAC type veth peer name p-gw netns "$SW"
	x ip -n "$LAN" link add name eth0 address $LAN_MAC type veth peer name p-lan netns "$SW"
	x ip -n "$LAN2" link add name eth0 address $LAN2_MAC type veth peer name p-lan2 netns "$SW"
	if [ "$STICK" = 1 ]; then
		x ip -n "$NET" link add name eth0 address $NET_MAC type veth peer name p-net netns "$SW"
	else
		x ip -n "$GW" link add name wan0 address $GW_WAN_MAC type veth \
			peer name eth0 address $NET_MAC netns "$NET"
	fi
	if [ "$GUEST" = 1 ]; then
		x ip -n "$GW" link add name lan1 address $GW_GUEST_MAC type veth \
			peer name eth0 address $GUEST_MAC netns "$GUEST_NS"
	fi

	for r in p-gw p-lan p-lan2 $([ "$STICK" = 1 ] && echo p-net); do
		x ip -n "$SW" link set "$r" master br-lan
		x ip -n "$SW" link set "$r" up
	done

	x ip -n "$GW" addr add $GW_LAN_V4/24 dev lan0
	x ip -n "$GW" addr add $GW_LAN_V6/64 dev lan0 nodad
	if [ "$WANBR" = 1 ]; then
		x ip -n "$GW" link add name br-wan address $GW_WAN_MAC type bridge stp_state 0 \
			forward_delay 0 mcast_snooping 0
		x ip -n "$GW" link set wan0 master br-wan
		x ip -n "$GW" link set br-wan up
		nsysctl "$GW" net.ipv4.conf.br-wan.rp_filter=0
	fi
	x ip -n "$GW" addr add $GW_WAN_V4/24 dev "$(wan_l3_if)"
	x ip -n "$GW" addr add $GW_WAN_V6/64 dev "$(wan_l3_if)" nodad
	x ip -n "$LAN" addr add $LAN_V4/24 dev eth0
	x ip -n "$LAN" addr add $LAN_V6/64 dev eth0 nodad
	x ip -n "$LAN2" addr add $LAN2_V4/24 dev eth0
	x ip -n "$LAN2" addr add $LAN2_V6/64 dev eth0 nodad
	x ip -n "$NET" addr add $NET_V4/24 dev eth0
	x ip -n "$NET" addr add $NET_V6/64 dev eth0 nodad
	for a in $SITE_V4 $C2_V4 $RELAY_V4 $MGMT_V4 $DNS_V4; do
		x ip -n "$NET" addr add "$a/24" dev eth0
	done
	for a in $SITE_V6 $C2_V6 $RELAY_V6 $MGMT_V6 $DNS_V6; do
		x ip -n "$NET" addr add "$a/64" dev eth0 nodad
	done
	if [ "$GUEST" = 1 ]; then
		x ip -n "$GW" addr add $GW_GUEST_V4/24 dev lan1
		x ip -n "$GW" addr add $GW_GUEST_V6/64 dev lan1 nodad
		x ip -n "$GUEST_NS" addr add $GUEST_V4/24 dev eth0
		x ip -n "$GUEST_NS" addr add $GUEST_V6/64 dev eth0 nodad
	fi

	for r in $(gw_ifs); do
		x ip -n "$GW" link set "$r" up
		nsysctl "$GW" "net.ipv4.conf.$r.rp_filter=0"
	done
	x ip -n "$LAN" link set eth0 up
	x ip -n "$LAN2" link set eth0 up
	x ip -n "$NET" link set eth0 up
	[ "$GUEST" = 1 ] && x ip -n "$GUEST_NS" link set eth0 up
	if [ "$STICK" = 1 ]; then
		x ip -n "$SW" link set p-net up
		nsysctl "$GW" net.ipv4.conf.lan0.send_redirects=0
	fi

	# Routes: only test prefixes; the LAN hosts' default is the gateway.
	for ns in "$LAN" "$LAN2"; do
		x ip -n "$ns" route add default via $GW_LAN_V4 dev eth0
		x ip -n "$ns" -6 route add default via $GW_LAN_V6 dev eth0
	done
	if [ "$GUEST" = 1 ]; then
		x ip -n "$GUEST_NS" route add default via $GW_GUEST_V4 dev eth0
		x ip -n "$GUEST_NS" -6 route add default via $GW_GUEST_V6 dev eth0
	fi
	x ip -n "$GW" route add 203.0.113.0/24 via $NET_V4 dev "$(wan_l3_if)"
	x ip -n "$GW" -6 route add 2001:db8:3::/64 via $NET_V6 dev "$(wan_l3_if)"
	# The internet knows a LAN prefix only when its family is routed.
	if [ "$NAT4" != 1 ]; then
		x ip -n "$NET" route add $LAN_NET_V4 via $GW_WAN_V4 dev eth0
		[ "$GUEST" = 1 ] && x ip -n "$NET" route add $GUEST_NET_V4 via $GW_WAN_V4 dev eth0
	fi
	if [ "$NAT6" != 1 ]; then
		x ip -n "$NET" -6 route add $LAN_NET_V6 via $GW_WAN_V6 dev eth0
		[ "$GUEST" = 1 ] && x ip -n "$NET" -6 route add $GUEST_NET_V6 via $GW_WAN_V6 dev eth0
	fi

	rules=$(nat_rules)
	if [ -n "$rules" ]; then
		out=$(printf '%s\n' "$rules" | ip netns exec "$GW" nft -f - 2>&1) ||
			up_fail "nft refused the NAT rules:
$out
$rules"
	fi

	write_env
	verify

	trap - INT TERM HUP
	echo "RUN_ID=$RUN"
	echo "BWE_ENV=$(env_file)"
}

# ---------------------------------------------------------------- status
do_status() {
	local list ns roles="lan lan2 gw net sw" topo="" gw
	list=$(run_namespaces)
	if [ -z "$list" ]; then
		log "status: no namespace of run $RUN exists"
		return 1
	fi
	echo "run $RUN (state file: $(env_file)$([ -e "$(env_file)" ] || echo ', missing'))"
	if [ -r "$(env_file)" ]; then
		# The topology up wrote, read without sourcing the file.
		topo=$(sed -n "s/^BWE_TOPOLOGY='\(.*\)'\$/\1/p" "$(env_file)")
		topo="$topo${topo:+, }$(sed -n "s/^BWE_LAYOUT='\(.*\)'\$/\1/p" "$(env_file)")"
		topo="$topo, gateway interfaces: $(sed -n "s/^BWE_GW_IFS='\(.*\)'\$/\1/p" "$(env_file)")"
		topo="$topo, WAN addresses on $(sed -n "s/^BWE_GW_NAT_IF='\(.*\)'\$/\1/p" "$(env_file)")"
		grep -qx "BWE_GUEST='1'" "$(env_file)" && roles="$roles guest"
		echo "topology: $topo"
		if grep -qx "BWE_GUEST='1'" "$(env_file)"; then
			echo "guest LAN: $GUEST_NET_V4 $GUEST_NET_V6 on lan1"
		fi
		if grep -q "^BWE_NAT[46]='1'" "$(env_file)"; then
			echo "port forward: WAN TCP/UDP $FWD_PORT -> $FWD_V4, [$FWD_V6] (translated families)"
			grep -qx "BWE_GUEST='1'" "$(env_file)" &&
				echo "port forward: WAN TCP/UDP $FWD_GUEST_PORT -> $FWD_GUEST_V4, [$FWD_GUEST_V6]"
		fi
	fi
	for ns in $list; do
		echo "== $ns"
		ip -n "$ns" -br link show | sed 's/^/  link  /'
		ip -n "$ns" -br addr show | awk '$3 != "" {print}' | sed 's/^/  addr  /'
		ip -n "$ns" route show | sed 's/^/  route /'
		ip -n "$ns" -6 route show 2>/dev/null | grep -v '^fe80::\|^multicast\|^ff00::' |
			sed 's/^/  route /'
		echo "  pids  $(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')"
	done
	gw=$(ns_of gw)
	if ns_exists "$gw" && command -v nft >/dev/null 2>&1; then
		ip netns exec "$gw" nft list ruleset 2>/dev/null | grep -q . &&
			ip netns exec "$gw" nft list ruleset 2>/dev/null | sed "s/^/  nft   /" |
			sed "1i == $gw nftables"
	fi
	for ns in $roles; do
		ns_exists "$(ns_of "$ns")" || echo "== $(ns_of "$ns") (missing)"
	done
	return 0
}

do_list_runs() {
	local runs
	runs=$(ip netns list 2>/dev/null | awk '{print $1}' |
		sed -n "s/^$PREFIX-\([A-Za-z0-9_]*\)-\(lan\|lan2\|gw\|net\|sw\|guest\)\$/\1/p" | sort -u)
	if [ -z "$runs" ]; then
		echo "no testbed runs"
	else
		echo "testbed runs: $(echo "$runs" | tr '\n' ' ')"
	fi
}

# `up` options: one translation at most, --stick, --guest, then the run id.
parse_up() {
	local nat=""
	while [ $# -gt 0 ]; do
		case $1 in
		--nat | --nat4 | --nat6 | --routed)
			[ -z "$nat" ] || [ "$nat" = "$1" ] ||
				die "up: $nat and $1 exclude each other (one of --nat, --nat4, --nat6, --routed)"
			nat=$1
			;;
		--stick) STICK=1 ;;
		--guest) GUEST=1 ;;
		--wan-bridge) WANBR=1 ;;
		-h | --help) usage ;;
		-*) log "up: unknown option '$1'"; usage ;;
		*)
			[ -z "${RUN:-}" ] || { log "up: more than one run id ('$RUN', '$1')"; usage; }
			RUN=$1
			;;
		esac
		shift
	done
	case ${nat:---nat} in
	--nat) NAT4=1 NAT6=1 ;;
	--nat4) NAT4=1 NAT6=0 ;;
	--nat6) NAT4=0 NAT6=1 ;;
	--routed) NAT4=0 NAT6=0 ;;
	esac
	RUN=${RUN:-${BWE_RUN:-$$}}
	[ "$WANBR" = 0 ] || [ "$STICK" = 0 ] || die "up: --wan-bridge needs a wan0 (not with --stick)"
}

# ---------------------------------------------------------------- main
[ $# -ge 1 ] || usage
cmd=$1
shift

case $cmd in
up)
	need_root
	RUN=""
	parse_up "$@"
	check_id "$RUN"
	do_up
	;;
down)
	[ $# -le 1 ] || usage
	need_root
	if [ "${1:-}" = --all ]; then
		do_down_all
		exit
	fi
	RUN=${1:-${BWE_RUN:-}}
	[ -n "$RUN" ] || die "down: which run? give RUN_ID, set BWE_RUN, or use --all"
	check_id "$RUN"
	do_down
	;;
status)
	[ $# -le 1 ] || usage
	need_root
	RUN=${1:-${BWE_RUN:-}}
	if [ -z "$RUN" ]; then
		do_list_runs
		exit 0
	fi
	check_id "$RUN"
	do_status
	;;
-h | --help | help) usage ;;
*) usage ;;
esac
