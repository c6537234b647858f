#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# bench/host_mem.sh [--rounds N] [--hosts N] [BWCTLD...] - what the tracked
# hosts cost bwctld in memory, per host, builds interleaved in one run.
#
# On a gateway testbed of its own (scripts/testbed.sh --routed, run id
# hm<PID>) with a private bpffs, each round starts every given bwctld in turn
# (default: build/bwctld; A B A B ... with two or more) without feeds,
# policy interval 10 s, and reads its memory twice: idle (2 s after it
# answers bwctl status) and with N hosts (default 65,536) that
# build/bench/hosts_fill writes where the data plane keeps them (198.18.0.0/16:
# host slots for the first 192 /24s, the pinned bwe_hosts map for the rest) and advances
# every second, after 25 s (two detector intervals: every host met and
# evaluated twice). Per build and round it prints one line:
#
#   BIN ROUND TRACKED DET_HOSTS RSS_IDLE RSS_HOSTS HWM HEAP_IDLE HEAP_HOSTS ANON_HOSTS BIGGEST CPU
#
# (KiB; TRACKED = hosts in slots and bwe_hosts, DET_HOSTS = detector states;
# HEAP = Rss of [heap], ANON = Rss of the other anonymous mappings, BIGGEST
# = Rss of the largest of them; CPU = bwctld's share of one core, %, over the
# last 20 s with the hosts: two detector runs and 20 samples), then per build the median of
# (RSS_HOSTS - RSS_IDLE) / TRACKED in bytes per host. Exit 0 when every
# round measured, 1 otherwise, 2 on a usage error; nothing is left behind.

set -u
ROUNDS=3 NHOSTS=65536
BINS=()
while [ $# -gt 0 ]; do
	case $1 in
	--rounds) ROUNDS=$2; shift 2 ;;
	--hosts) NHOSTS=$2; shift 2 ;;
	-h | --help) sed -n '3,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "usage: host_mem.sh [--rounds N] [--hosts N] [BWCTLD...]" >&2; exit 2 ;;
	*) BINS+=("$1"); shift ;;
	esac
done
log() { echo "host_mem.sh: $*" >&2; }
die() { log "$*"; exit 1; }
[ "$(id -u)" -eq 0 ] || die "must run as root"

# The test harness: cleanup stack, the testbed, start_daemon/stop_daemon.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../tests/lib.sh"
# shellcheck source=tests/lib_bwe.sh
. "$(dirname "$0")/../tests/lib_bwe.sh"
HOSTS_FILL=$ROOT/build/bench/hosts_fill
[ ${#BINS[@]} -gt 0 ] || BINS=("$BWCTLD")
for f in "${BINS[@]}" "$BWCTL_BIN" "$HOSTS_FILL"; do
	[ -x "$f" ] || die "$f missing: run make and make build/bench/hosts_fill"
done
FILL_PID=""
stop_fill() {
	[ -n "$FILL_PID" ] || return 0
	[ "$(cat "/proc/$FILL_PID/comm" 2>/dev/null)" = hosts_fill ] && kill -TERM "$FILL_PID" 2>/dev/null
	wait "$FILL_PID" 2>/dev/null
	FILL_PID=""
}
bwe_testbed_up hm --routed
t_atexit stop_fill

kib() { awk -v k="$2" '$1 == k ":" { print $2 }' "/proc/$1/status"; }
# Rss of [heap]; of the other anonymous mappings; of the largest of those
smaps_sum() {
	awk '
		/^[0-9a-f]+-[0-9a-f]+ / { name = $6; anon = (NF < 6 || name == "[heap]"); heap = (name == "[heap]"); next }
		/^Rss:/ { if (heap) h += $2; else if (anon) { a += $2; if ($2 > big) big = $2 } }
		END { printf "%d %d %d", h, a, big }' "/proc/$1/smaps"
}
# bwctld's own pid: start_daemon's is the `ip netns exec` that exec'd it
bwctld_pid() { daemon_pid; }
ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; } # utime+stime

FAILED=0
declare -A PER_HOST
for r in $(seq 1 "$ROUNDS"); do
	for b in "${!BINS[@]}"; do
		BWCTLD=${BINS[$b]}
		rm -rf "$DIR/bpf/bwe" "$DIR/state"
		# hosts_fill's hosts (198.18.0.0/16) are internal: the detector meets them
		INTERNAL="198.18.0.0/15, $BWE_LAN_NET_V6" write_config "policy: { interval: 10s }"
		log "round $r/$ROUNDS: $BWCTLD"
		if ! start_daemon >&2; then
			FAILED=1
			continue
		fi
		sleep 2
		pid=$(bwctld_pid)
		idle=$(kib "$pid" VmRSS)
		read -r hi _ _ <<<"$(smaps_sum "$pid")"
		"$HOSTS_FILL" "$DIR/bpf/bwe" --count "$NHOSTS" --first 198.18.0.0 --seconds 40 \
			>"$DIR/fill.out" 2>&1 &
		FILL_PID=$!
		sleep 5
		t0=$(ticks "$pid") s0=$EPOCHREALTIME
		sleep 20
		cpu=$(awk -v a="$t0" -v b="$(ticks "$pid")" -v s="$s0" -v e="$EPOCHREALTIME" -v hz="$(getconf CLK_TCK)" \
			'BEGIN { printf "%.2f", (b - a) / hz / (e - s) * 100 }')
		tracked=$(awk '$1 == "hosts_in_map" { print $2 }' "$DIR/fill.out")
		det=$(bwctl --json status | jq '.detector.hosts')
		rss=$(kib "$pid" VmRSS)
		hwm=$(kib "$pid" VmHWM)
		read -r hh aa big <<<"$(smaps_sum "$pid")"
		stop_fill
		stop_daemon TERM
		for i in lan0 wan0; do gw ip link set dev $i xdp off 2>/dev/null; done
		if [ -z "$tracked" ] || [ "$tracked" -le 0 ]; then
			log "hosts_fill: $(tail -2 "$DIR/fill.out")"
			FAILED=1
			continue
		fi
		echo "$BWCTLD $r $tracked $det $idle $rss $hwm $hi $hh $aa $big $cpu"
		PER_HOST[$b]+="$(awk -v a="$idle" -v b="$rss" -v n="$tracked" 'BEGIN { printf "%.0f", (b - a) * 1024 / n }') "
	done
done
for b in "${!BINS[@]}"; do
	# shellcheck disable=SC2086
	echo "${BINS[$b]} bytes/host: $(printf '%s\n' ${PER_HOST[$b]:-} | sort -n | tr '\n' ' ')(median $(printf '%s\n' ${PER_HOST[$b]:-} | sort -n | awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : "nan" }'))"
done
exit $FAILED
