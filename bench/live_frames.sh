#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# live_frames.sh - real frames into the enforcer (BENCHMARKS.md tier 3).
#
# Builds the testbed and runs build/bench/live_frames in it:
#
#   namespace bwl<pid>-tx              namespace bwl<pid>-rx
#   generator (XDP_TX, live frames)    enforcer / bare XDP_DROP / bare XDP_PASS
#   veth bwl<pid>t  ─────────────────  veth bwl<pid>r  (native XDP, nftables netdev ingress)
#
# Where the kernel refuses live frames, the generator runs attached to
# bwl<pid>b0 (b1 for a second CPU) of a veth pair bwl<pid>a0-b0 (a1-b1) in the
# sender's namespace instead, sending each frame out of bwl<pid>t and around
# the pair again (bench/gen_loop.bpf.h).
#
# The pair has one queue per online CPU: a veth hands a frame to the peer's
# queue of the sending CPU, so generators on two CPUs are received by two
# NAPIs, each on its own CPU (the multi-core rows).
#
# No addresses, no routes, IPv6 off: nothing but the generated frames
# crosses the pair, and passed frames die in the receiver's stack. Frames
# carry test addresses only (198.18.0.0/15). Nothing is pinned (the maps are
# private to the process), so no bpffs is mounted. The nftables script goes
# to a private temporary directory. Everything is removed on exit, also on
# failure or interruption. The whole run is bounded (about 1-2
# minutes with the defaults, hard limit RUN_LIMIT_S).
#
# usage: sudo bench/live_frames.sh [--quick] [--rounds R] [--seconds S] [--entries N] [-v]
# (--quick: 3 rounds of 0.5 s with 100k entries, a smoke run). Goals go to
# $BENCH_GOALS when set (bench/run.sh's protocol).
# Prints one markdown section on stdout; exits non-zero only when it could
# not measure.
set -u

RUN_LIMIT_S=600
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${LIVE_FRAMES_BIN:-$here/build/bench/live_frames}

tag=bwl$$
ns_tx=$tag-tx
ns_rx=$tag-rx
if_tx=${tag}t
if_rx=${tag}r
table=$tag
child=
workdir=

log() { echo "live_frames.sh: $*" >&2; }

cleanup() {
	if [ -n "$child" ] && kill -0 "$child" 2>/dev/null; then
		kill "$child" 2>/dev/null
		wait "$child" 2>/dev/null
	fi
	# Deleting the namespaces removes the veth pair, its XDP programs and
	# the nftables table with them.
	ip netns del "$ns_rx" 2>/dev/null
	ip netns del "$ns_tx" 2>/dev/null
	[ -n "$workdir" ] && rm -rf "$workdir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" -eq 0 ] || { log "needs root"; exit 1; }
for t in ip nft timeout; do
	command -v "$t" >/dev/null 2>&1 || { log "$t not found"; exit 1; }
done
[ -x "$bin" ] || { log "$bin not built (make build/bench/live_frames)"; exit 1; }

queues=$(nproc --all 2>/dev/null || echo 1)
setup() {
	workdir=$(mktemp -d "${TMPDIR:-/tmp}/$tag.XXXXXX") &&
	ip netns add "$ns_tx" &&
	ip netns add "$ns_rx" &&
	ip link add "$if_tx" numtxqueues "$queues" numrxqueues "$queues" netns "$ns_tx" \
		type veth peer name "$if_rx" numtxqueues "$queues" numrxqueues "$queues" \
		netns "$ns_rx" &&
	for i in 0 1; do
		ip link add "${tag}a$i" netns "$ns_tx" type veth peer name "${tag}b$i" \
			netns "$ns_tx" &&
		ip -n "$ns_tx" link set "${tag}a$i" up &&
		ip -n "$ns_tx" link set "${tag}b$i" up || return 1
	done &&
	ip netns exec "$ns_tx" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 &&
	ip netns exec "$ns_rx" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 net.ipv4.ip_forward=0 &&
	ip -n "$ns_tx" link set "$if_tx" up &&
	ip -n "$ns_rx" link set "$if_rx" up
}
if ! setup; then
	log "could not build the testbed"
	exit 1
fi
if [ -n "$(ip -n "$ns_rx" route show)" ]; then
	log "the receiver namespace has routes; refusing to send"
	exit 1
fi

timeout --kill-after=10 "$RUN_LIMIT_S" "$bin" --rx-ns "$ns_rx" --tx-ns "$ns_tx" \
	--rx-if "$if_rx" --tx-if "$if_tx" --nft-table "$table" --workdir "$workdir" \
	--loop "${tag}a0:${tag}b0" --loop "${tag}a1:${tag}b1" "$@" &
child=$!
wait "$child"
rc=$?
child=
exit "$rc"
