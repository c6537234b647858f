#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# tests/traffic/run_one.sh - one run of the detection evaluation: a NAT
# gateway testbed (scripts/testbed.sh) with bwctld on a time-compressed
# policy, one namespace per LAN host of the plan (198.18.0.20 upwards, each
# with its own MAC), the plan's internet addresses on the internet host, and
# tests/traffic/gen.py driving the plan through the gateway. Leaves in OUTDIR:
# plan.json, policy.yaml, bwenforce.yaml, events.json (the daemon's event
# log), gen.json (what the generator sent, the hijack starts), top.json
# (bwctl top at the end), bwctld.log. Everything else is removed on exit.
#
#   run_one.sh SEED OUTDIR [--quick]
#
# Environment: POLICY_FILE (default policies/bwenforce.yaml: its policy
# section, compressed by plan.py's K).
. "$(dirname "$0")/../lib.sh"
t_require_root
. "$(dirname "$0")/../lib_bwe.sh"
TRAFFIC=$ROOT/tests/traffic

SEED=$1 OUT=$2
QUICK=${3:-}
[ -n "$SEED" ] && [ -n "$OUT" ] || { echo "usage: run_one.sh SEED OUTDIR [--quick]" >&2; exit 2; }
mkdir -p "$OUT"
POLICY_FILE=${POLICY_FILE:-$ROOT/policies/bwenforce.yaml}

python3 "$TRAFFIC/plan.py" plan "$SEED" $QUICK >"$OUT/plan.json" || exit 1
K=$(jq -r .k "$OUT/plan.json")

bwe_testbed_up de
HPFX="$BWE_PREFIX-$BWE_RUN-"

# ---- LAN hosts: a namespace each, a port of the testbed's LAN switch
hosts_down() {
	local ns
	for ns in $(ip netns list | awk '{print $1}' | grep "^${HPFX}h[0-9]*$"); do
		# shellcheck disable=SC2046
		kill $(ip netns pids "$ns") 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	true
}
t_atexit hosts_down
i=0
while read -r name ip; do
	ns=$HPFX$name
	ip netns add "$ns" || exit 1
	ip -n "$BWE_NS_SW" link add "p-$name" type veth peer name eth0 netns "$ns" || exit 1
	ip -n "$BWE_NS_SW" link set "p-$name" master br-lan up
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	ip -n "$ns" link set eth0 address "$(printf '02:b3:00:00:10:%02x' "$i")"
	ip -n "$ns" addr add "$ip/24" dev eth0
	ip -n "$ns" link set lo up
	ip -n "$ns" link set eth0 up
	ip -n "$ns" route add default via "$BWE_GW_LAN_V4" dev eth0 || exit 1
	i=$((i + 1))
done < <(jq -r '.hosts[] | "\(.name) \(.ip)"' "$OUT/plan.json")

# ---- the internet: every pool address on the internet host; every TCP
# port to the generator's one listener, every UDP port to its reflector;
# flood targets dropped before conntrack (a sink).
python3 -c "import sys; sys.path.insert(0, '$TRAFFIC'); import plan; print('\n'.join(plan.POOL))" |
	sed "s|^\(.*\)$|addr add \1/32 dev eth0|" | ip -n "$BWE_NS_NET" -batch - || exit 1
FLOOD=$(jq -r '.roles.flood | join(", ")' "$OUT/plan.json")
net nft -f - <<EOF || exit 1
table ip deteval_nat {
	chain pre {
		type nat hook prerouting priority -100;
		ip saddr $BWE_GW_WAN_V4 tcp dport != 9998 redirect to :9998
		ip saddr $BWE_GW_WAN_V4 udp dport != 9997 redirect to :9997
	}
}
table ip deteval_raw {
	chain pre {
		type filter hook prerouting priority -300;
		ip daddr { $FLOOD } drop
	}
}
EOF

# ---- the daemon, on the compressed policy
NQ=$(jq -r '[.hosts[] | select(.never_quarantine) | .ip + "/32"] | join(", ")' "$OUT/plan.json")
# As an organisation would configure them: the allowed peer-to-peer clients
# are never quarantined; the scheduled backups are expected activity (when
# the policy has policy.expected).
EXPECTED=$(python3 "$TRAFFIC/plan.py" expected "$OUT/plan.json") || exit 1
python3 "$TRAFFIC/plan.py" policy "$POLICY_FILE" "$K" max_quarantines_per_hour=1000 \
	"never_quarantine=[ $NQ ]" "expected=$EXPECTED" >"$OUT/policy.yaml" || exit 1
# The organisation's proxyware feed (when the daemon knows "signal: proxyware")
FEEDS=
if grep -q '^    proxyware:' "$OUT/policy.yaml"; then
	mkdir -p "$DIR/feeds"
	jq -r '.roles.proxyware_feed[]' "$OUT/plan.json" >"$DIR/feeds/proxyware.txt"
	cp "$DIR/feeds/proxyware.txt" "$OUT/proxyware.txt"
	FEEDS="feeds:
  - { name: proxyware, source: $DIR/feeds/proxyware.txt, format: plain, action: monitor, signal: proxyware }"
fi
cat >"$CFG" <<EOC
interfaces:
  - { name: lan0, mode: native }
  - { name: wan0, mode: native, nat: $(wan_nat) }
internal_networks: [ $BWE_LAN_NET_V4, $BWE_LAN_NET_V6 ]
exempt: [ $BWE_MGMT_V4/32, $BWE_DNS_V4/32 ]
paths:
  pin_dir: $DIR/bpf/bwe
  state_dir: $DIR/state
  socket: $SOCK
  event_log: $LOG
event_dedup: 1s
event_limits: { rate: 100000, burst: 100000, summary: 60s }
$FEEDS
$(cat "$OUT/policy.yaml")
EOC
cp "$CFG" "$OUT/bwenforce.yaml"
"$BWCTLD" -n -c "$CFG" >"$OUT/check.txt" 2>&1 || { cat "$OUT/check.txt"; exit 1; }
start_daemon || exit 1
save() {
	cp "$LOG" "$OUT/events.json" 2>/dev/null
	cp "$DIR/bwctld.log" "$OUT/bwctld.log" 2>/dev/null
	true
}
t_atexit save

# ---- the traffic
python3 "$TRAFFIC/gen.py" "$OUT/plan.json" "$HPFX" "$BWE_NS_NET" "$OUT/gen.json" \
	>"$OUT/gen.log" 2>&1 &
GEN=$!
t_atexit "kill $GEN 2>/dev/null; true"
END=$(jq -r '.timeline.end / .k | ceil' "$OUT/plan.json")
# bwctl top while the hijacking runs (the harness's own check that the
# generator's traffic reaches the gateway and is counted)
sleep $((END * 9 / 10))
bwctl --json top --once -n 100 >"$OUT/top.json" 2>"$OUT/top.err"
bwctl --json list throttle >"$OUT/throttle.json" 2>/dev/null
bwctl --json list quarantine >"$OUT/quarantine.json" 2>/dev/null
wait $GEN
rc=$?
uptime >"$OUT/uptime.txt"
save
exit $rc
