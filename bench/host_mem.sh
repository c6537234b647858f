#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# bench/host_mem.sh [--rounds N] [--hosts N] [BWCTLD...] - what the tracked
# hosts cost bwctld in memory, per host, builds interleaved in one run.
#
# On a gateway testbed of its own (scripts/testbed.sh --routed, run id
# hm<PID>) with a private bpffs, each round starts every given bwctld in turn
# (default: build/bwctld; A B A B ... with two or more) without feeds,
# policy interval 10 s, and reads its memory twice: idle (2 s after both
# interfaces are attached) and with N hosts (default 65,536) that
# build/bench/hosts_fill writes into the pinned bwe_hosts map and advances
# every second, after 25 s (two detector intervals: every host met and
# evaluated twice). Per build and round it prints one line:
#
#   BIN ROUND TRACKED DET_HOSTS RSS_IDLE RSS_HOSTS HWM HEAP_IDLE HEAP_HOSTS ANON_HOSTS BIGGEST
#
# (KiB; TRACKED = bwe_hosts entries, DET_HOSTS = detector states;
# HEAP = Rss of [heap], ANON = Rss of the other anonymous mappings, BIGGEST
# = Rss of the largest of them), then per build the median of
# (RSS_HOSTS - RSS_IDLE) / TRACKED in bytes per host. Exit 0 when every
# round measured, 1 otherwise, 2 on a usage error; nothing is left behind.

set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
HOSTS_FILL=$ROOT/build/bench/hosts_fill
BWCTL_BIN=$ROOT/build/bwctl
ROUNDS=3 NHOSTS=65536
BINS=()
while [ $# -gt 0 ]; do
	case $1 in
	--rounds) ROUNDS=$2; shift 2 ;;
	--hosts) NHOSTS=$2; shift 2 ;;
	-h | --help) sed -n '3,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "usage: host_mem.sh [--rounds N] [--hosts N] [BWCTLD...]" >&2; exit 2 ;;
	*) BINS+=("$1"); shift ;;
	esac
done
[ ${#BINS[@]} -gt 0 ] || BINS=("$ROOT/build/bwctld")
log() { echo "host_mem.sh: $*" >&2; }
die() { log "$*"; exit 1; }
[ "$(id -u)" -eq 0 ] || die "must run as root"
for f in "${BINS[@]}" "$BWCTL_BIN" "$HOSTS_FILL"; do
	[ -x "$f" ] || die "$f missing: run make and make build/bench/hosts_fill"
done

RUN=hm$$
W=$(mktemp -d /tmp/bwe-bench-hm.XXXXXX) || die "mktemp failed"
DPID="" FILL_PID="" TB_UP=0 BPFFS=""
stop_daemon() {
	[ -n "$DPID" ] || return 0
	kill -TERM "$DPID" 2>/dev/null
	for _ in $(seq 1 100); do
		kill -0 "$DPID" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL "$DPID" 2>/dev/null
	wait "$DPID" 2>/dev/null
	DPID=""
}
stop_fill() {
	[ -n "$FILL_PID" ] || return 0
	[ "$(cat "/proc/$FILL_PID/comm" 2>/dev/null)" = hosts_fill ] && kill -TERM "$FILL_PID" 2>/dev/null
	wait "$FILL_PID" 2>/dev/null
	FILL_PID=""
}
detach_xdp() {
	local i
	for i in lan0 wan0; do
		ip -n "$BWE_NS_GW" link set dev $i xdp off 2>/dev/null
	done
}
cleanup() {
	trap - EXIT INT TERM
	stop_fill
	stop_daemon
	if [ "$TB_UP" = 1 ]; then
		detach_xdp
		"$ROOT/scripts/testbed.sh" down "$RUN" >/dev/null 2>&1
	fi
	if [ -n "$BPFFS" ]; then
		umount "$BPFFS" 2>/dev/null || umount -l "$BPFFS" 2>/dev/null
	fi
	rm -rf --one-file-system "$W"
}
trap 'exit 130' INT
trap 'exit 143' TERM
trap cleanup EXIT

"$ROOT/scripts/testbed.sh" up --routed "$RUN" >/dev/null || die "scripts/testbed.sh up failed"
TB_UP=1
# shellcheck disable=SC1090
. "/run/bwenforce-testbed/$RUN.env"
BPFFS=$W/bpf
mkdir -p "$BPFFS" && mount -t bpf bpf "$BPFFS" || { BPFFS=""; die "cannot mount a bpffs"; }
SOCK=$W/bwctld.sock

kib() { awk -v k="$2" '$1 == k ":" { print $2 }' "/proc/$1/status"; }
# Rss of [heap]; of the other anonymous mappings; of the largest of those
smaps_sum() {
	awk '
		/^[0-9a-f]+-[0-9a-f]+ / { name = $6; anon = (NF < 6 || name == "[heap]"); heap = (name == "[heap]"); next }
		/^Rss:/ { if (heap) h += $2; else if (anon) { a += $2; if ($2 > big) big = $2 } }
		END { printf "%d %d %d", h, a, big }' "/proc/$1/smaps"
}
wait_attached() { # EVENTS
	local end=$((SECONDS + 60))
	local n
	while n=$(grep -c -F '"interface-attached"' "$1" 2>/dev/null); [ "${n:-0}" -lt 2 ]; do
		[ $SECONDS -lt $end ] || return 1
		kill -0 "$DPID" 2>/dev/null || return 1
		sleep 0.1
	done
}

FAILED=0
declare -A PER_HOST
for r in $(seq 1 "$ROUNDS"); do
	for b in "${!BINS[@]}"; do
		BIN=${BINS[$b]}
		P=$BPFFS/r$r-$b S=$W/state-$r-$b E=$W/events-$r-$b.json
		cat >"$W/c.yaml" <<EOC
interfaces:
  - { name: lan0, mode: native }
  - { name: wan0, mode: native }
internal_networks: [ 198.18.0.0/15, $BWE_LAN_NET_V6 ]
exempt: [ $BWE_MGMT_V4/32, $BWE_DNS_V4/32 ]
paths:
  pin_dir: $P
  state_dir: $S
  socket: $SOCK
  event_log: $E
policy:
  interval: 10s
EOC
		log "round $r/$ROUNDS: $BIN"
		ip netns exec "$BWE_NS_GW" "$BIN" -f -c "$W/c.yaml" 2>>"$W/bwctld.log" &
		DPID=$!
		if ! wait_attached "$E"; then
			log "not attached: $(tail -3 "$W/bwctld.log")"
			FAILED=1
			stop_daemon
			continue
		fi
		sleep 2
		idle=$(kib "$DPID" VmRSS)
		read -r hi _ _ <<<"$(smaps_sum "$DPID")"
		"$HOSTS_FILL" "$P" --count "$NHOSTS" --seconds 40 >"$W/fill.out" 2>&1 &
		FILL_PID=$!
		sleep 25
		tracked=$(awk '$1 == "hosts_in_map" { print $2 }' "$W/fill.out")
		det=$("$BWCTL_BIN" --socket "$SOCK" --json status | jq '.detector.hosts')
		rss=$(kib "$DPID" VmRSS)
		hwm=$(kib "$DPID" VmHWM)
		read -r hh aa big <<<"$(smaps_sum "$DPID")"
		stop_fill
		stop_daemon
		detach_xdp
		rm -rf "$P" "$S"
		if [ -z "$tracked" ] || [ "$tracked" -le 0 ]; then
			log "hosts_fill: $(tail -2 "$W/fill.out")"
			FAILED=1
			continue
		fi
		echo "$BIN $r $tracked $det $idle $rss $hwm $hi $hh $aa $big"
		PER_HOST[$b]+="$(awk -v a="$idle" -v b="$rss" -v n="$tracked" 'BEGIN { printf "%.0f", (b - a) * 1024 / n }') "
	done
done
for b in "${!BINS[@]}"; do
	# shellcheck disable=SC2086
	echo "${BINS[$b]} bytes/host: $(printf '%s\n' ${PER_HOST[$b]:-} | sort -n | tr '\n' ' ')(median $(printf '%s\n' ${PER_HOST[$b]:-} | sort -n | awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : "nan" }'))"
done
exit $FAILED
