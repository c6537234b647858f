#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# testbed.sh - build the inline-gateway test topology in network namespaces.
#
#   testbed.sh up     [RUN_ID]   build it; prints RUN_ID=<id> and BWE_ENV=<file>
#   testbed.sh down   [RUN_ID]   remove it (idempotent, works after a crash)
#   testbed.sh down   --all      remove every $BWE_PREFIX-* namespace of any run
#   testbed.sh status [RUN_ID]   show namespaces, links, addresses and routes
#                                (without an id: list the runs that exist)
#
# RUN_ID defaults to $BWE_RUN, and for `up` to the PID of this script.
# It may hold letters, digits and '_' (no '-', so names stay parseable).
#
# Topology (every name carries the run id, nothing touches the root namespace;
# each veth is created directly inside its namespaces):
#
#   bwe-<id>-lan   eth0 198.18.0.10/24 2001:db8:1::10/64 ─┐
#   bwe-<id>-lan2  eth0 198.18.0.11/24 2001:db8:1::11/64 ─┤ p-lan, p-lan2
#                                                         │
#   bwe-<id>-sw    br-lan (bridge, no IP, no IPv6)  ───────┤ p-gw
#                                                         │
#   bwe-<id>-gw    lan0 198.18.0.1/24  2001:db8:1::1/64  ─┘   ip_forward=1
#                  wan0 198.51.100.1/24 2001:db8:2::1/64 ─┐   (v4 and v6)
#                                                         │
#   bwe-<id>-net   eth0 198.51.100.2/24 2001:db8:2::2/64 ─┘
#                  + 203.0.113.{10,66,80,5,53}/24, 2001:db8:3::{10,66,80,5,53}/64
#                    normal site, C2, proxyware relay, mgmt/EDR, DNS
#
# lan0 and wan0 are veths, so native XDP can be attached to both for receive.
# Offloads are left at their defaults (there is no ethtool here): the veth
# driver itself clears GSO on the peer while an XDP program without frags
# support is attached, so XDP on receive sees ordinary frames.  XDP_TX or
# XDP_REDIRECT out of lan0/wan0 would only be received by the peer (p-gw in the
# switch, eth0 in net) if that peer has an XDP program or GRO enabled.
#
# IPv6 DAD is off (accept_dad=0 and nodad), so v6 works at once.  rp_filter is
# 0 in the gateway.  No namespace has a route out of the machine: the LAN hosts'
# default route points at the gateway, which only knows the test prefixes.
#
# `up` writes $BWE_STATE_DIR/<id>.env (default /run/bwenforce-testbed) with
# every name and address as shell variables; tests do `. "$BWE_ENV"`.
#
# Environment: BWE_RUN (run id), BWE_PREFIX (default bwe),
#              BWE_STATE_DIR (default /run/bwenforce-testbed).

set -u

PREFIX=${BWE_PREFIX:-bwe}
STATE_DIR=${BWE_STATE_DIR:-/run/bwenforce-testbed}
ROLES="lan lan2 gw net sw"
PROG=testbed.sh

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

# Fixed, locally administered MACs so tests can craft frames without asking.
GW_LAN_MAC=02:b3:00:00:00:01
LAN_MAC=02:b3:00:00:00:10
LAN2_MAC=02:b3:00:00:00:11
GW_WAN_MAC=02:b3:00:00:01:01
NET_MAC=02:b3:00:00:01:02

usage() {
	sed -n '4,13p' "$0" | sed 's/^# \{0,1\}//' >&2
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

write_env() {
	local f tmp
	f=$(env_file)
	tmp="$f.tmp.$$"
	x mkdir -p "$STATE_DIR"
	{
		echo "# bwenforce testbed, run $RUN (written by scripts/testbed.sh up)"
		echo "BWE_RUN='$RUN'"
		echo "BWE_ENV='$f'"
		echo "BWE_PREFIX='$PREFIX'"
		echo "# namespaces"
		echo "BWE_NS_LAN='$(ns_of lan)'"
		echo "BWE_NS_LAN2='$(ns_of lan2)'"
		echo "BWE_NS_GW='$(ns_of gw)'"
		echo "BWE_NS_NET='$(ns_of net)'"
		echo "BWE_NS_SW='$(ns_of sw)'"
		echo "BWE_NS_ALL='$(ns_of lan) $(ns_of lan2) $(ns_of gw) $(ns_of net) $(ns_of sw)'"
		echo "# interfaces (name inside its namespace, ifindex, MAC)"
		echo "BWE_GW_LAN_IF='lan0'"
		echo "BWE_GW_WAN_IF='wan0'"
		echo "BWE_LAN_IF='eth0'"
		echo "BWE_LAN2_IF='eth0'"
		echo "BWE_NET_IF='eth0'"
		echo "BWE_SW_BRIDGE='br-lan'"
		echo "BWE_SW_PORTS='p-gw p-lan p-lan2'"
		echo "BWE_GW_LAN_IFINDEX='$(ifindex "$(ns_of gw)" lan0)'"
		echo "BWE_GW_WAN_IFINDEX='$(ifindex "$(ns_of gw)" wan0)'"
		echo "BWE_LAN_IFINDEX='$(ifindex "$(ns_of lan)" eth0)'"
		echo "BWE_LAN2_IFINDEX='$(ifindex "$(ns_of lan2)" eth0)'"
		echo "BWE_NET_IFINDEX='$(ifindex "$(ns_of net)" eth0)'"
		echo "BWE_GW_LAN_MAC='$GW_LAN_MAC'"
		echo "BWE_GW_WAN_MAC='$GW_WAN_MAC'"
		echo "BWE_LAN_MAC='$LAN_MAC'"
		echo "BWE_LAN2_MAC='$LAN2_MAC'"
		echo "BWE_NET_MAC='$NET_MAC'"
		echo "# prefixes"
		echo "BWE_LAN_NET_V4='198.18.0.0/24'"
		echo "BWE_LAN_NET_V6='2001:db8:1::/64'"
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
	} >"$tmp" || up_fail "cannot write $tmp"
	x mv -f "$tmp" "$f"
}

# ping once, retrying for up to 3 s (the first echo may wait for ARP/ND).
ping_ok() { ip netns exec "$1" ping -q -n -c 1 -i 0.2 -w 3 "$2" >/dev/null 2>&1; }

verify() {
	local h ns a tmp bad
	tmp=$(mktemp) || up_fail "mktemp failed"
	# All pings at once: a broken testbed fails in ~3 s, not 3 s per address.
	for h in lan lan2; do
		ns=$(ns_of $h)
		for a in $GW_LAN_V4 $GW_LAN_V6 \
			$NET_V4 $SITE_V4 $C2_V4 $RELAY_V4 $MGMT_V4 $DNS_V4 \
			$NET_V6 $SITE_V6 $C2_V6 $RELAY_V6 $MGMT_V6 $DNS_V6; do
			{ ping_ok "$ns" "$a" || echo "  $ns -> $a" >>"$tmp"; } &
		done
	done
	for a in $LAN_V4 $LAN_V6 $LAN2_V4 $LAN2_V6; do
		{ ping_ok "$(ns_of net)" "$a" || echo "  $(ns_of net) -> $a" >>"$tmp"; } &
	done
	wait
	bad=$(sort "$tmp")
	rm -f "$tmp"
	[ -z "$bad" ] || up_fail "connectivity check failed (ping):
$bad"
}

do_up() {
	local r ns GW SW LAN LAN2 NET a

	for r in $ROLES; do
		ns_exists "$(ns_of "$r")" &&
			die "up: namespace $(ns_of "$r") exists already (run '$0 down $RUN' first)"
	done
	[ -e "$(env_file)" ] && log "up: replacing stale $(env_file)"

	UP_CLEAN=1
	trap 'up_fail "interrupted"' INT TERM HUP

	GW=$(ns_of gw) SW=$(ns_of sw) LAN=$(ns_of lan) LAN2=$(ns_of lan2) NET=$(ns_of net)

	for r in $ROLES; do
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

	# LAN switch.
	x ip -n "$SW" link add name br-lan type bridge stp_state 0 forward_delay 0 mcast_snooping 0
	x ip -n "$SW" link set br-lan up

	# veths, each created straight inside its two namespaces.
	x ip -n "$GW" link add name lan0 address $GW_LAN_MAC type veth peer name p-gw netns "$SW"
	x ip -n "$LAN" link add name eth0 address $LAN_MAC type veth peer name p-lan netns "$SW"
	x ip -n "$LAN2" link add name eth0 address $LAN2_MAC type veth peer name p-lan2 netns "$SW"
	x ip -n "$GW" link add name wan0 address $GW_WAN_MAC type veth \
		peer name eth0 address $NET_MAC netns "$NET"

	for r in p-gw p-lan p-lan2; do
		x ip -n "$SW" link set "$r" master br-lan
		x ip -n "$SW" link set "$r" up
	done

	x ip -n "$GW" addr add $GW_LAN_V4/24 dev lan0
	x ip -n "$GW" addr add $GW_LAN_V6/64 dev lan0 nodad
	x ip -n "$GW" addr add $GW_WAN_V4/24 dev wan0
	x ip -n "$GW" addr add $GW_WAN_V6/64 dev wan0 nodad
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

	x ip -n "$GW" link set lan0 up
	x ip -n "$GW" link set wan0 up
	x ip -n "$LAN" link set eth0 up
	x ip -n "$LAN2" link set eth0 up
	x ip -n "$NET" link set eth0 up
	nsysctl "$GW" net.ipv4.conf.lan0.rp_filter=0
	nsysctl "$GW" net.ipv4.conf.wan0.rp_filter=0

	# Routes: only test prefixes; the LAN hosts' default is the gateway.
	for ns in "$LAN" "$LAN2"; do
		x ip -n "$ns" route add default via $GW_LAN_V4 dev eth0
		x ip -n "$ns" -6 route add default via $GW_LAN_V6 dev eth0
	done
	x ip -n "$GW" route add 203.0.113.0/24 via $NET_V4 dev wan0
	x ip -n "$GW" -6 route add 2001:db8:3::/64 via $NET_V6 dev wan0
	x ip -n "$NET" route add 198.18.0.0/24 via $GW_WAN_V4 dev eth0
	x ip -n "$NET" -6 route add 2001:db8:1::/64 via $GW_WAN_V6 dev eth0

	write_env
	verify

	trap - INT TERM HUP
	echo "RUN_ID=$RUN"
	echo "BWE_ENV=$(env_file)"
}

# ---------------------------------------------------------------- status
do_status() {
	local list ns
	list=$(run_namespaces)
	if [ -z "$list" ]; then
		log "status: no namespace of run $RUN exists"
		return 1
	fi
	echo "run $RUN (state file: $(env_file)$([ -e "$(env_file)" ] || echo ', missing'))"
	for ns in $list; do
		echo "== $ns"
		ip -n "$ns" -br link show | sed 's/^/  link  /'
		ip -n "$ns" -br addr show | awk '$3 != "" {print}' | sed 's/^/  addr  /'
		ip -n "$ns" route show | sed 's/^/  route /'
		ip -n "$ns" -6 route show 2>/dev/null | grep -v '^fe80::\|^multicast\|^ff00::' |
			sed 's/^/  route /'
		echo "  pids  $(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')"
	done
	for ns in $ROLES; do
		ns_exists "$(ns_of "$ns")" || echo "== $(ns_of "$ns") (missing)"
	done
	return 0
}

do_list_runs() {
	local runs
	runs=$(ip netns list 2>/dev/null | awk '{print $1}' |
		sed -n "s/^$PREFIX-\([A-Za-z0-9_]*\)-\(lan\|lan2\|gw\|net\|sw\)\$/\1/p" | sort -u)
	if [ -z "$runs" ]; then
		echo "no testbed runs"
	else
		echo "testbed runs: $(echo "$runs" | tr '\n' ' ')"
	fi
}

# ---------------------------------------------------------------- main
[ $# -ge 1 ] || usage
cmd=$1
shift
[ $# -le 1 ] || usage

case $cmd in
up)
	need_root
	RUN=${1:-${BWE_RUN:-$$}}
	check_id "$RUN"
	do_up
	;;
down)
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
