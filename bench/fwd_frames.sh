#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# fwd_frames.sh - the forwarding tier: a gateway namespace forwarding
# generated frames to a receiver namespace, with the kernel alone, through
# the enforcer (fast_forward off) and through its XDP fast path (fib).
#
#   bwf<pid>-gen              bwf<pid>-gw (ip_forward=1)                bwf<pid>-rx
#   bwf<pid>a ──────────── bwf<pid>b 198.18.0.1/16 | bwf<pid>c 198.51.100.1/24 ──── bwf<pid>d
#   generator (XDP_TX)        route 203.0.113.0/24 via 198.51.100.2 (permanent neighbour)   counting sink
#                                                                      (XDP, then tc with GRO on,
#                                                                       then none: bwf<pid>d down)
#
# Where the kernel refuses live frames, the generator runs attached to
# bwf<pid>m of a veth pair bwf<pid>l-m in the generator's namespace instead,
# sending each frame out of bwf<pid>a and around the pair again
# (bench/gen_loop.bpf.h).
#
# IPv6 off, rp_filter off, no route out of the namespaces; frames carry test
# addresses only (198.18.0.0/22 -> 203.0.113.0/24). Nothing is pinned (the
# maps are private to the process). Everything is removed on exit, also on
# failure or interruption; the run is bounded (RUN_LIMIT_S).
#
# usage: sudo bench/fwd_frames.sh [--quick] [--rounds R] [--seconds S] [-v]
# Prints one markdown section on stdout; goals go to $BENCH_GOALS when set
# (bench/run.sh's protocol). Exits non-zero only when it could not measure.
set -u

RUN_LIMIT_S=300
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${FWD_FRAMES_BIN:-$here/build/bench/fwd_frames}

tag=bwf$$
ns_gen=$tag-gen ns_gw=$tag-gw ns_rx=$tag-rx
if_gen=${tag}a if_gi=${tag}b if_go=${tag}c if_gr=${tag}d
child=

log() { echo "fwd_frames.sh: $*" >&2; }

cleanup() {
	if [ -n "$child" ] && kill -0 "$child" 2>/dev/null; then
		kill "$child" 2>/dev/null
		wait "$child" 2>/dev/null
	fi
	# the veths and their XDP programs go with the namespaces
	ip netns del "$ns_rx" 2>/dev/null
	ip netns del "$ns_gw" 2>/dev/null
	ip netns del "$ns_gen" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" -eq 0 ] || { log "needs root"; exit 1; }
for t in ip timeout; do
	command -v "$t" >/dev/null 2>&1 || { log "$t not found"; exit 1; }
done
[ -x "$bin" ] || { log "$bin not built (make build/bench/fwd_frames)"; exit 1; }

v6off() { ip netns exec "$1" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1; }
setup() {
	ip netns add "$ns_gen" && ip netns add "$ns_gw" && ip netns add "$ns_rx" &&
	v6off "$ns_gen" && v6off "$ns_gw" && v6off "$ns_rx" &&
	ip link add "$if_gen" netns "$ns_gen" type veth peer name "$if_gi" netns "$ns_gw" &&
	ip link add "$if_go" netns "$ns_gw" type veth peer name "$if_gr" netns "$ns_rx" &&
	ip link add "${tag}l" netns "$ns_gen" type veth peer name "${tag}m" netns "$ns_gen" &&
	ip netns exec "$ns_gw" sysctl -q -w net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0 &&
	ip -n "$ns_gw" addr add 198.18.0.1/16 dev "$if_gi" &&
	ip -n "$ns_gw" addr add 198.51.100.1/24 dev "$if_go" &&
	ip -n "$ns_rx" addr add 198.51.100.2/24 dev "$if_gr" &&
	for n in "$ns_gen:$if_gen" "$ns_gen:${tag}l" "$ns_gen:${tag}m" "$ns_gw:$if_gi" \
		"$ns_gw:$if_go" "$ns_rx:$if_gr"; do
		ip -n "${n%%:*}" link set "${n#*:}" up || return 1
	done &&
	ip netns exec "$ns_gw" sysctl -q -w "net.ipv4.conf.$if_gi.rp_filter=0" &&
	ip -n "$ns_gw" route add 203.0.113.0/24 via 198.51.100.2 dev "$if_go" &&
	ip -n "$ns_gw" neigh replace 198.51.100.2 dev "$if_go" nud permanent \
		lladdr "$(ip -n "$ns_rx" -br link show "$if_gr" | awk '{ print $3 }')"
}
if ! setup; then
	log "could not build the testbed"
	exit 1
fi
if [ -n "$(ip -n "$ns_gen" route show)" ]; then
	log "the generator namespace has routes; refusing to send"
	exit 1
fi

timeout --kill-after=10 "$RUN_LIMIT_S" "$bin" --gen-ns "$ns_gen" --gw-ns "$ns_gw" \
	--rx-ns "$ns_rx" --gen-if "$if_gen" --gi "$if_gi" --go "$if_go" --gr "$if_gr" \
	--loop "${tag}l:${tag}m" "$@" &
child=$!
wait "$child"
rc=$?
child=
exit "$rc"
