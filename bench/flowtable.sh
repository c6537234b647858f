#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# flowtable.sh - fast_forward: flowtable against the kernel's own forwarding
# of the same traffic, on a NAT gateway. This machine's kernel has no
# nf_flow_table: the benchmark runs in Debian 12's 6.12 kernel under qemu's
# software emulation (tests/lib_guest.sh, one CPU), so only ratios within
# the run mean anything, and those of an emulated CPU.
#
# In the guest: the gateway testbed with IPv4 masqueraded on wan0
# (scripts/testbed.sh --nat4), TX checksum offload off on the hosts, a bare
# XDP_PASS on the peers of lan0 and wan0. One UDP flow (iperf3, 64-byte
# payloads, no rate limit) from the LAN host to the internet host for
# SECONDS per row; rows, interleaved in every round:
#   kernel          the stack forwards and translates (a bare XDP_PASS on
#                   lan0 and wan0, as the enforcer's rows have a program)
#   kernel+ft       the same with an nftables flowtable on lan0 and wan0
#                   (`flow add` for TCP and UDP): the kernel's own fast path
#   enforcer, off   bwctld on lan0 and wan0, fast_forward off, the flowtable
#                   in place: judged in XDP, then the kernel's fast path
#   enforcer, ft    fast_forward: flowtable: judged, translated and
#                   forwarded in XDP
# Everything (sender, gateway, receiver) shares the one CPU: the delivered
# packets per second are the whole path's rate, the gateway's share of it
# included. Cells are medians over rounds (min-max); ratios are per round.
#
# usage: sudo bench/flowtable.sh [--quick] [--rounds R] [--seconds S]
# Prints one markdown section on stdout. Exits non-zero when it could not
# measure.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=3
SECS=3
PORT=5401
while [ $# -gt 0 ]; do
	case $1 in
	--quick) ROUNDS=2 SECS=2 ;;
	--rounds) ROUNDS=$2; shift ;;
	--seconds) SECS=$2; shift ;;
	--guest) GUEST=1 ;;
	*) echo "usage: sudo bench/flowtable.sh [--quick] [--rounds R] [--seconds S]" >&2; exit 2 ;;
	esac
	shift
done
[ "$(id -u)" -eq 0 ] || { echo "flowtable.sh: needs root (sudo)" >&2; exit 1; }

# The test harness (cleanup stack, testbed, daemon); its output to stderr.
# shellcheck source=tests/lib.sh
. "$ROOT/tests/lib.sh"
# shellcheck source=tests/lib_bwe.sh
. "$ROOT/tests/lib_bwe.sh"
# shellcheck source=tests/lib_guest.sh
. "$ROOT/tests/lib_guest.sh"

log() { echo "flowtable.sh: $*" >&2; }

# ---- in the guest: one line "BWE-BENCH ROUND ROW PACKETS_PER_S" per sample ----
if [ "${GUEST:-0}" = 1 ]; then
	bwe_testbed_up ftb --nat4 >&2
	txcsum_off lan && txcsum_off net || { log "ioctl failed"; exit 1; }
	peers_xdp on || exit 1
	bare_on() {
		gw ip link set dev lan0 xdpdrv obj "$PASS_OBJ" sec xdp &&
			gw ip link set dev wan0 xdpdrv obj "$PASS_OBJ" sec xdp
	}
	bare_off() { gw ip link set dev lan0 xdpdrv off; gw ip link set dev wan0 xdpdrv off; true; }
	# delivered packets per second of one UDP flow, lan -> net
	sample() {
		local srv=$DIR/srv.json out n lost
		net iperf3 -s -1 -p "$PORT" -B "$BWE_NET_V4" -J >"$srv" 2>&1 &
		sleep 1
		out=$(lan iperf3 -4 -u -b 0 -l 64 -c "$BWE_NET_V4" -p "$PORT" -t "$SECS" -J 2>&1) ||
			{ log "iperf3: $(echo "$out" | tail -2)"; wait; echo 0; return; }
		wait
		n=$(jq -r '.end.sum.packets // 0' "$srv")
		lost=$(jq -r '.end.sum.lost_packets // 0' "$srv")
		awk -v n="$n" -v l="$lost" -v s="$SECS" 'BEGIN { printf "%.0f\n", (n - l) / s }'
	}
	for r in $(seq 1 "$ROUNDS"); do
		ft_off
		bare_on || exit 1
		echo "BWE-BENCH $r kernel $(sample)"
		ft_on
		echo "BWE-BENCH $r kernel_ft $(sample)"
		bare_off
		ff_config off
		start_daemon >&2 || exit 1
		echo "BWE-BENCH $r enforcer_off $(sample)"
		ff_config flowtable
		hup_daemon
		sleep 1
		echo "BWE-BENCH $r enforcer_ft $(sample)"
		echo "BWE-BENCH-FWD $r $(ffc wan0 forwarded) $(ffc lan0 forwarded) $(ffc lan0 no_flow)"
		stop_daemon TERM
		bare_off
	done
	exit 0
fi

# ---- on this machine ----
why=$(guest_ready) || { log "$why"; exit 1; }
kdir=""
while read -r ver; do
	case $ver in 6.12.*) kdir=$GUEST_KERNELS_DIR/$ver ;; esac
done < <(guest_kernels)
[ -n "$kdir" ] || { log "no 6.12 kernel in $GUEST_KERNELS_DIR (scripts/setup-deps.sh)"; exit 1; }
[ -f "$PASS_OBJ" ] || { log "$PASS_OBJ not built (make)"; exit 1; }
t_tmpdir WORK
GUEST_LIMIT_S=$((300 + ROUNDS * (4 * (SECS + 15) + 60)))
log "booting $(basename "$kdir") under qemu: $ROUNDS rounds of ${SECS} s a row"
guest_run "$kdir" "export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin; cd $ROOT && bash bench/flowtable.sh --guest --rounds $ROUNDS --seconds $SECS" \
	"$WORK/console" || { tail -20 "$WORK/console" >&2; log "qemu failed"; exit 1; }
grep -q '^BWE-BENCH ' "$WORK/console" || { tail -30 "$WORK/console" >&2; log "no samples"; exit 1; }
grep '^BWE-BENCH' "$WORK/console" >&2 # the samples, for the record

# shellcheck source=bench/lib_stats.sh
. "$ROOT/bench/lib_stats.sh" # fmt_stats: median (min–max)
mmm() { fmt_stats %.0f "$@"; }
col() { awk -v k="$1" '$1 == "BWE-BENCH" && $3 == k { print $4 }' "$WORK/console"; }
ratio() { # A B: per round A/B
	join <(awk -v k="$1" '$1 == "BWE-BENCH" && $3 == k { print $2, $4 }' "$WORK/console" | sort) \
		<(awk -v k="$2" '$1 == "BWE-BENCH" && $3 == k { print $2, $4 }' "$WORK/console" | sort) |
		awk '$3 > 0 { printf "%.2f\n", $2 / $3 }'
}
fmtr() { fmt_stats %.2f× $(ratio "$1" "$2"); }
# shellcheck disable=SC2046  # one value a word
{
	echo "### The flowtable fast path, emulated (bench/flowtable.sh)"
	echo
	echo "Debian 12's $(basename "$kdir") under qemu (TCG, one CPU); $ROUNDS rounds of ${SECS} s a row; one UDP flow of 64-byte payloads, LAN host -> internet host, masqueraded (IPv4)."
	echo
	echo "| row | delivered packets/s |"
	echo "|---|---|"
	echo "| kernel: stack forwarding and NAT | $(mmm $(col kernel)) |"
	echo "| kernel with an nftables flowtable | $(mmm $(col kernel_ft)) |"
	echo "| enforcer, fast_forward off, flowtable in nftables | $(mmm $(col enforcer_off)) |"
	echo "| enforcer, fast_forward: flowtable | $(mmm $(col enforcer_ft)) |"
	echo
	echo "- the kernel's flowtable vs its plain forwarding: $(fmtr kernel_ft kernel)"
	echo "- the enforcer with fast_forward off (flowtable in nftables) vs the kernel with the flowtable: $(fmtr enforcer_off kernel_ft)"
	echo "- **fast_forward: flowtable vs the kernel's plain forwarding: $(fmtr enforcer_ft kernel)**"
	echo "- fast_forward: flowtable vs the kernel with its flowtable: $(fmtr enforcer_ft kernel_ft)"
	echo "- fast_forward: flowtable vs the enforcer with fast_forward off (what the XDP fast path saves where the enforcer runs): $(fmtr enforcer_ft enforcer_off)"
	echo "- forwarded in XDP in the enforcer's rows (wan0, lan0; lan0 to the stack as no_flow), per round: $(awk '$1 == "BWE-BENCH-FWD" { printf "%s%s/%s/%s", sep, $3, $4, $5; sep = "; " }' "$WORK/console")"
}
