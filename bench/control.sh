#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# bench/control.sh [--quick] - control-plane figures (benchmark tier 4),
# printed as a markdown section on stdout; progress goes to stderr.
#
# Everything runs on a gateway testbed of its own (scripts/testbed.sh, run id
# ctl<PID>), with a private bpffs, in one run, so every figure has its
# baselines from the same run:
#
#   feed load        bwctld started with a synthetic feed of 1,000,000 IPv4
#                    lines (95 % random public /32s, 5 % /16../24 networks) and
#                    10,000 IPv6 lines (bench/gen_feed.py): daemon start ->
#                    "feed-updated" event (entries/s, end to end: parse, sort,
#                    map writes), daemon start -> enforcing (interface attached;
#                    a LAN host pinging a listed address at 100 Hz sees its last
#                    reply). Baselines interleaved with it: the same daemon
#                    started without the feed, and `nft -f` loading the same
#                    IPv4 entries into an interval set (netdev table, a
#                    namespace of its own). 3 rounds, clean pin dir each time.
#   delta            1 % of the lines changed (-5,000 +5,000), file renamed
#                    into place: mv -> feed-updated event. 5 rounds.
#   file -> drop     one new address appended (tmp + mv) while a LAN host pings
#                    it at 100 Hz: mv -> first unanswered request, with the 1M-line feed and
#                    with a 1,000-line feed. 5 rounds each.
#   command -> drop  a LAN host pings at 100 Hz; `bwctl quarantine` it:
#                    just before the command -> first unanswered request. 10 rounds.
#   memory           with 1M IPv4 + 200k IPv6 entries and 65,536 tracked hosts:
#                    VmRSS of bwctld, memlock of every map of the XDP program
#                    (bpftool).
#   detector CPU     65,536 active hosts (198.18.0.0/16) written by
#                    build/bench/hosts_fill where the data plane keeps them
#                    (counters advanced every second): maps.hosts is left at
#                    its default 65,536, of which the daemon makes 49,152 host
#                    slots for the first internal /24s (198.18.0.0-
#                    198.18.191.255) and leaves 16,384 to bwe_hosts, which the
#                    other 16,384 (198.18.192.0/18) fill; policy interval 10 s:
#                    bwctld utime+stime over 60 s, as a share of one core,
#                    against the same daemon idle (30 s).
#
# --quick: 100k-line feed, fewer rounds, shorter CPU windows (a smoke run).
# --feeds: only the feed figures (load, delta, file -> drop; no nft, no
#   command, memory or CPU rows): what a change to the feed path is judged by.
# BWCTLD_BASE=PATH: also measure that bwctld (another build, e.g. before a
#   change) in the same run: a load round of it before each load round, and
#   after the delta rounds the same deltas (same files, same order) on it,
#   started afresh with the same feed. Rows "(BWCTLD_BASE)" and the ratios.
# Goals are also written as GOAL<TAB>figure<TAB>measured<TAB>goal<TAB>result
# lines to the file $BENCH_GOALS when set (bench/run.sh collects them).
# Exit 0 when every figure was measured (met or not), 1 when one could not
# be, 2 on a usage error. Nothing is left behind (trap on EXIT/INT/TERM).

set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BWCTLD=$ROOT/build/bwctld
BWCTL_BIN=$ROOT/build/bwctl
HOSTS_FILL=$ROOT/build/bench/hosts_fill
GEN=$ROOT/bench/gen_feed.py
PY=$(command -v /usr/bin/python3 || command -v python3)
PROG=control.sh

QUICK=0 FEEDS_ONLY=0
BASE=${BWCTLD_BASE:-}
for a in "$@"; do
	case $a in
	--quick) QUICK=1 ;;
	--feeds) FEEDS_ONLY=1 ;;
	-h | --help) sed -n '3,51p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "usage: $PROG [--quick] [--feeds]" >&2; exit 2 ;;
	esac
done

if [ "$QUICK" = 1 ]; then
	FEED_V4=100000 FEED_V6=1000 DELTA=500 V6_MORE=19000
	LOAD_ROUNDS=3 DELTA_ROUNDS=3 FILE_ROUNDS=3 QUAR_ROUNDS=5
	CPU_IDLE_S=10 CPU_S=20
else
	FEED_V4=1000000 FEED_V6=10000 DELTA=5000 V6_MORE=190000
	LOAD_ROUNDS=3 DELTA_ROUNDS=5 FILE_ROUNDS=5 QUAR_ROUNDS=10
	CPU_IDLE_S=30 CPU_S=60
fi
SMALL_LINES=1000
NHOSTS=65536
FILL_FIRST=198.18.0.0	# NHOSTS from here: the slotted /24s, then bwe_hosts (see above)
NFT_LIMIT_S=180		# slower than this: load 100k and extrapolate

log() { echo "$PROG: $*" >&2; }
die() { log "$*"; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root"
for f in "$BWCTLD" "$BWCTL_BIN"; do
	[ -x "$f" ] || die "$f missing: run make first"
done
for t in jq nft bpftool ping stdbuf awk; do
	command -v $t >/dev/null 2>&1 || die "$t not found"
done
[ -n "$PY" ] || die "python3 not found"

# ------------------------------------------------------------------ cleanup
RUN=ctl$$
NFT_NS=bwe-ctl$$-nft
W=$(mktemp -d /tmp/bwe-bench-ctl.XXXXXX) || die "mktemp failed"
chmod 0755 "$W"
DPID="" PING_PID="" FILL_PID=""
TB_UP=0 BPFFS=""

stop_daemon() {
	[ -n "$DPID" ] || return 0
	kill -TERM "$DPID" 2>/dev/null
	local i
	for i in $(seq 1 100); do
		kill -0 "$DPID" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL "$DPID" 2>/dev/null
	wait "$DPID" 2>/dev/null
	DPID=""
}
detach_xdp() {
	local i
	for i in lan0 wan0; do
		ip -n "$BWE_NS_GW" link set dev $i xdp off 2>/dev/null
	done
}
cleanup() {
	local p
	trap - EXIT INT TERM
	# only our own children, and only while they are what we started
	for p in $PING_PID $FILL_PID; do
		case $(cat "/proc/$p/comm" 2>/dev/null) in
		ping | hosts_fill) kill -TERM "$p" 2>/dev/null ;;
		esac
	done
	stop_daemon
	if [ "$TB_UP" = 1 ]; then
		detach_xdp
		"$ROOT/scripts/testbed.sh" down "$RUN" >/dev/null 2>&1
	fi
	[ -e "/run/netns/$NFT_NS" ] && ip netns del "$NFT_NS" 2>/dev/null
	if [ -n "$BPFFS" ]; then
		umount "$BPFFS" 2>/dev/null || umount -l "$BPFFS" 2>/dev/null
	fi
	rm -rf --one-file-system "$W"
}
trap 'exit 130' INT
trap 'exit 143' TERM
trap cleanup EXIT

# ------------------------------------------------------------------ helpers
now() { echo "$EPOCHREALTIME"; }
# seconds (float) b - a, as milliseconds with one decimal
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) * 1000 }'; }
# shellcheck source=bench/lib_stats.sh
. "$ROOT/bench/lib_stats.sh" # stats, fmt_stats
med() { stats "$@" | awk '{ print $1 }'; }
calc() { awk "BEGIN { printf \"%s\", $1 }"; }
fmt_int() { echo "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; }
export LC_NUMERIC=C

UNMEASURED=()
unmeasured() { UNMEASURED+=("$1"); log "NOT MEASURED: $1"; }

bwctl() { "$BWCTL_BIN" --socket "$SOCK" "$@"; }

# Epoch seconds of each event ACTION [of feed NAME] in LOG, in order.
ev_times() { # LOG ACTION [FEED]
	[ -s "$1" ] || return 0
	jq -r --arg a "$2" --arg f "${3:-}" '
		select(.event.action == $a and ($f == "" or .bwenforce.feed.name == $f))
		| .["@timestamp"]
		| ((.[0:19] + "Z" | fromdateiso8601) + (.[20:23] | tonumber) / 1000)
		| "\(.)"' "$1" 2>/dev/null
}
ev_count() { # LOG ACTION [FEED]
	[ -s "$1" ] || { echo 0; return; }
	if [ -n "${3:-}" ]; then
		grep -F "\"$2\"" "$1" | grep -c -F "\"name\":\"$3\""
	else
		grep -c -F "\"$2\"" "$1"
	fi
}
# Wait until LOG holds at least N events ACTION [of FEED]; bounded.
wait_ev() { # LOG ACTION FEED N TIMEOUT_S
	local end=$((SECONDS + $5))
	while [ "$(ev_count "$1" "$2" "$3")" -lt "$4" ]; do
		[ $SECONDS -lt $end ] || return 1
		[ -n "$DPID" ] && ! kill -0 "$DPID" 2>/dev/null && return 1
		sleep 0.05
	done
}
# N-th (1-based) event time
ev_nth() { ev_times "$1" "$2" "${3:-}" | sed -n "${4}p"; }

# ---- pings at 100 Hz with timestamps (ping -D) from a namespace
ping_start() { # NS DST OUT DEADLINE_S
	ip netns exec "$1" stdbuf -oL ping -D -n -i 0.01 -W 1 -w "$4" "$2" >"$3" 2>&1 &
	PING_PID=$!
}
ping_stop() {
	[ -n "$PING_PID" ] || return 0
	kill -TERM "$PING_PID" 2>/dev/null
	wait "$PING_PID" 2>/dev/null
	PING_PID=""
}
replies() { # OUT -> echo replies so far (0 before ping has written any)
	local n
	n=$(grep -c 'bytes from' "$1" 2>/dev/null)
	echo "${n:-0}"
}
last_reply() { # OUT -> epoch seconds of the last echo reply
	awk '/bytes from/ { t = $1 } END { gsub(/[][]/, "", t); print t }' "$1"
}
# The first request left unanswered was sent one interval (10 ms) after the
# last answered one, i.e. at most 10 ms after its reply (RTT ~0.1 ms): the
# drop began between the last reply and this time. Epoch seconds.
first_lost() { awk -v t="$(last_reply "$1")" 'BEGIN { printf "%.6f", t + 0.010 }'; }
# Wait until N replies have come back; bounded.
wait_replies() { # OUT N TIMEOUT_S
	local end=$((SECONDS + $3))
	while [ "$(replies "$1")" -lt "$2" ]; do
		[ $SECONDS -lt $end ] || return 1
		sleep 0.02
	done
}
# Wait until the replies have stopped for 0.5 s (dropped); bounded.
wait_dropped() { # OUT TIMEOUT_S
	local end=$((SECONDS + $2)) l
	while :; do
		l=$(last_reply "$1")
		[ -n "$l" ] && awk -v l="$l" -v n="$EPOCHREALTIME" 'BEGIN { exit !(n - l > 0.5) }' && return 0
		[ $SECONDS -lt $end ] || return 1
		sleep 0.05
	done
}

proc_ticks() { # PID -> utime+stime in clock ticks
	awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}
vmrss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
rssanon_kib() { awk '/^RssAnon:/ { print $2 }' "/proc/$1/status"; }
# Resident pages of the BPF maps PID has mapped: kernel memory, which the map
# memory row counts too.
maprss_kib() {
	awk '/^[0-9a-f]+-[0-9a-f]+ / { m = ($6 == "anon_inode:bpf-map") }
	     m && /^Rss:/ { s += $2 } END { print s + 0 }' "/proc/$1/smaps"
}

possible_cpus() { # count of /sys/devices/system/cpu/possible ("0-1,4")
	tr ',' '\n' </sys/devices/system/cpu/possible | awk -F- '{ n += (NF == 2 ? $2 - $1 + 1 : 1) } END { print n }'
}

# ------------------------------------------------------------------ testbed
T_RUN0=$SECONDS
RUN_DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
log "testbed up (run $RUN)"
"$ROOT/scripts/testbed.sh" up --routed "$RUN" >/dev/null || die "scripts/testbed.sh up failed"
TB_UP=1
# shellcheck disable=SC1090
. "/run/bwenforce-testbed/$RUN.env"
BPFFS=$W/bpf
if ! { mkdir -p "$BPFFS" && mount -t bpf bpf "$BPFFS"; }; then
	BPFFS=""
	die "cannot mount a bpffs on $W/bpf"
fi
SOCK=$W/bwctld.sock
mkdir -p "$W/feeds"
# Addresses the feed-change rounds add, on the "internet" host (RFC 5737).
for i in $(seq 1 "$FILE_ROUNDS"); do
	ip -n "$BWE_NS_NET" addr add "203.0.113.$((100 + i))/24" dev eth0
	ip -n "$BWE_NS_NET" addr add "203.0.113.$((120 + i))/24" dev eth0
done

# ------------------------------------------------------------------ feeds
BIG=$W/feeds/big.txt SMALL=$W/feeds/small.txt V6=$W/feeds/v6.txt
log "generating the feeds ($FEED_V4 IPv4 + $FEED_V6 IPv6 lines)"
"$PY" "$GEN" base --v4 "$FEED_V4" --v6 "$FEED_V6" --seed 1 --include "$BWE_C2_V4" "$BIG" ||
	die "gen_feed.py failed"
"$PY" "$GEN" base --v4 "$SMALL_LINES" --seed 7 "$SMALL" || die "gen_feed.py failed"
echo "2001:db8:ffff::1" >"$V6"	# one line until the memory step grows it
BIG_LINES=$(grep -cv '^#' "$BIG")
"$PY" "$GEN" nft "$BIG" "$W/nft-full.nft" >"$W/nft-full.n" || die "gen_feed.py nft failed"
"$PY" "$GEN" nft "$BIG" "$W/nft-100k.nft" --limit 100000 >/dev/null || die "gen_feed.py nft failed"
NFT_N=$(cat "$W/nft-full.n")

write_config() { # FILE PIN STATE LOG WITH_FEEDS(0|1)
	{
		cat <<EOC
interfaces:
  - { name: lan0, mode: native }
  - { name: wan0, mode: native }
internal_networks: [ 198.18.0.0/15, $BWE_LAN_NET_V6 ]
exempt: [ $BWE_MGMT_V4/32, $BWE_DNS_V4/32, $BWE_MGMT_V6/128 ]
paths:
  pin_dir: $2
  state_dir: $3
  socket: $SOCK
  event_log: $4
event_dedup: 5s
policy:
  interval: 10s
EOC
		if [ "$5" = 1 ]; then
			# v6 grows from 1 line to V6_MORE in step 5 (the memory figure): past max_growth's default
			cat <<EOC
feeds:
  - { name: big, source: $BIG, format: plain, refresh: 1d }
  - { name: small, source: $SMALL, format: plain, refresh: 1d }
  - { name: v6, source: $V6, format: plain, refresh: 1d, max_growth: 1000000 }
EOC
		fi
	} >"$1"
}

# Start bwctld (or BIN) in the gateway namespace; T_START = just before exec.
start_daemon() { # CFG [BIN]
	T_START=$(now)
	ip netns exec "$BWE_NS_GW" "${2:-$BWCTLD}" -f -c "$1" 2>>"$W/bwctld.log" &
	DPID=$!
}
# Stop it and remove everything it left: XDP, pins, state.
reset_daemon() { # PIN STATE
	stop_daemon
	detach_xdp
	rm -rf "$1" "$2"
}

# ------------------------------------------------------------------ 1. load
L_FEED=() L_ATT=() L_GAP=() L_PING=() L_BASE=() L_NFT=() L_ENTRIES="" L_FEED_B=() L_DELTA_B=()
NFT_NOTE=""
nft_load() { # FILE -> seconds on stdout, or nothing on failure/timeout
	local t0 t1 rc
	ip netns add "$NFT_NS" || return 1
	t0=$(now)
	timeout "$NFT_LIMIT_S" ip netns exec "$NFT_NS" nft -f "$1" >"$W/nft.err" 2>&1
	rc=$?
	t1=$(now)
	# Free the set before the next measurement, not in the background of it.
	ip netns exec "$NFT_NS" nft delete table netdev t >/dev/null 2>&1
	ip netns del "$NFT_NS"
	sleep 1
	[ $rc -eq 0 ] || { log "nft -f $1: exit $rc: $(head -c 300 "$W/nft.err")"; return 1; }
	calc "$t1 - $t0"
}

NFT_100K="" NFT_FULL_OK=0
[ "$FEEDS_ONLY" = 1 ] || {
	log "nft probe: 100,000 elements"
	NFT_100K=$(nft_load "$W/nft-100k.nft")
	NFT_FULL_OK=1
}
if [ "$FEEDS_ONLY" = 1 ]; then
	:
elif [ -z "$NFT_100K" ]; then
	NFT_FULL_OK=0
	unmeasured "nft -f of 100k elements failed"
elif awk -v t="$NFT_100K" -v n="$NFT_N" -v l="$NFT_LIMIT_S" 'BEGIN { exit !(t * n / 100000 > l) }'; then
	NFT_FULL_OK=0
	NFT_NOTE="extrapolated ×$(calc "$NFT_N / 100000") from 100k elements (${NFT_100K} s): the full load would exceed ${NFT_LIMIT_S} s"
fi

for r in $(seq 1 "$LOAD_ROUNDS"); do
	# (a) nft -f, the same IPv4 entries into an interval set
	if [ "$NFT_FULL_OK" = 1 ]; then
		log "round $r/$LOAD_ROUNDS: nft -f ($NFT_N elements)"
		t=$(nft_load "$W/nft-full.nft")
		if [ -n "$t" ]; then
			L_NFT+=("$t")
		else
			NFT_FULL_OK=0
			NFT_NOTE="the full load failed or exceeded ${NFT_LIMIT_S} s; extrapolated ×$(calc "$NFT_N / 100000") from 100k elements (${NFT_100K} s)"
		fi
	fi
	# (b) baseline: the daemon without feeds
	log "round $r/$LOAD_ROUNDS: bwctld without feeds"
	P=$BPFFS/b$r S=$W/state-b$r E=$W/events-b$r.json
	write_config "$W/base.yaml" "$P" "$S" "$E" 0
	start_daemon "$W/base.yaml"
	if wait_ev "$E" interface-attached "" 2 60; then
		L_BASE+=("$(calc "$(ev_nth "$E" interface-attached "" 2) - $T_START")")
	else
		unmeasured "bwctld without feeds did not attach (round $r): $(tail -3 "$W/bwctld.log")"
	fi
	reset_daemon "$P" "$S"
	# (b') the other build with the feed (BWCTLD_BASE)
	if [ -n "$BASE" ]; then
		log "round $r/$LOAD_ROUNDS: $BASE with the $BIG_LINES-line feed"
		P=$BPFFS/o$r S=$W/state-o$r E=$W/events-o$r.json
		write_config "$W/feed-o.yaml" "$P" "$S" "$E" 1
		start_daemon "$W/feed-o.yaml" "$BASE"
		if wait_ev "$E" feed-updated big 1 280; then
			L_FEED_B+=("$(calc "$(ev_nth "$E" feed-updated big 1) - $T_START")")
		else
			unmeasured "BWCTLD_BASE: the feed did not load (round $r): $(tail -3 "$W/bwctld.log")"
		fi
		reset_daemon "$P" "$S"
	fi
	# (c) the daemon with the feed; a LAN host pings the listed C2 at 100 Hz
	log "round $r/$LOAD_ROUNDS: bwctld with the $BIG_LINES-line feed"
	P=$BPFFS/f$r S=$W/state-f$r E=$W/events-f$r.json
	write_config "$W/feed.yaml" "$P" "$S" "$E" 1
	ping_start "$BWE_NS_LAN" "$BWE_C2_V4" "$W/ping-load$r" 300
	wait_replies "$W/ping-load$r" 5 5 || unmeasured "no ping reply from $BWE_C2_V4 before the load"
	start_daemon "$W/feed.yaml"
	if wait_ev "$E" feed-updated big 1 280 && wait_ev "$E" interface-attached "" 2 60; then
		L_FEED+=("$(calc "$(ev_nth "$E" feed-updated big 1) - $T_START")")
		L_ATT+=("$(calc "$(ev_nth "$E" interface-attached "" 2) - $T_START")")
		L_GAP+=("$(calc "$(ev_nth "$E" interface-attached "" 2) - $(ev_nth "$E" feed-updated big 1)")")
		if wait_dropped "$W/ping-load$r" 10; then
			L_PING+=("$(calc "$(first_lost "$W/ping-load$r") - $T_START")")
		else
			unmeasured "pings to the listed $BWE_C2_V4 were not dropped (round $r)"
		fi
		L_ENTRIES=$(jq -r 'select(.event.action == "feed-updated" and .bwenforce.feed.name == "big")
			| .bwenforce.feed.entries' "$E" | head -1)
	else
		unmeasured "the feed did not load (round $r): $(tail -3 "$W/bwctld.log")"
	fi
	ping_stop
	[ "$r" -lt "$LOAD_ROUNDS" ] && reset_daemon "$P" "$S"
done
PIN=$P EV=$E
[ -n "$DPID" ] || die "no daemon left running: $(tail -5 "$W/bwctld.log")"

# ------------------------------------------------------------------ 2. delta
cp "$BIG" "$W/big.before-delta" # BWCTLD_BASE takes the same deltas from here
L_DELTA=() DELTA_NOTE=""
for r in $(seq 1 "$DELTA_ROUNDS"); do
	log "delta $r/$DELTA_ROUNDS: -$DELTA +$DELTA"
	"$PY" "$GEN" delta "$BIG" "$BIG.tmp" --remove "$DELTA" --add "$DELTA" --seed $((100 + r)) \
		--keep "$BWE_C2_V4" || die "gen_feed.py delta failed"
	n0=$(ev_count "$EV" feed-updated big)
	t0=$(now)
	mv -f "$BIG.tmp" "$BIG"
	if wait_ev "$EV" feed-updated big $((n0 + 1)) 120; then
		L_DELTA+=("$(ms "$t0" "$(ev_nth "$EV" feed-updated big $((n0 + 1)))")")
		DELTA_NOTE=$(jq -r 'select(.event.action == "feed-updated" and .bwenforce.feed.name == "big")
			| "+\(.bwenforce.feed.added) -\(.bwenforce.feed.removed) of \(.bwenforce.feed.entries)"' \
			"$EV" | tail -1)
	else
		unmeasured "delta round $r: no feed-updated event"
	fi
done

# ------------------------------------------------------------------ 3. file change -> drop
file_to_drop() { # FEED_NAME FILE ADDR -> appends to L_FILE
	local name=$1 file=$2 addr=$3 n0 t0 out=$W/ping-file-$3
	cp "$file" "$file.tmp" && echo "$addr" >>"$file.tmp"
	ping_start "$BWE_NS_LAN" "$addr" "$out" 60
	if ! wait_replies "$out" 5 5; then
		ping_stop
		unmeasured "file->drop $name: no reply from $addr before the change"
		return 1
	fi
	n0=$(ev_count "$EV" feed-updated "$name")
	t0=$(now)
	mv -f "$file.tmp" "$file"
	if wait_ev "$EV" feed-updated "$name" $((n0 + 1)) 120 && wait_dropped "$out" 10; then
		L_FILE+=("$(ms "$t0" "$(first_lost "$out")")")
		L_FILE_EV+=("$(ms "$t0" "$(ev_nth "$EV" feed-updated "$name" $((n0 + 1)))")")
	else
		unmeasured "file->drop $name: $addr not dropped"
	fi
	ping_stop
}
L_FILE=() L_FILE_EV=()
for r in $(seq 1 "$FILE_ROUNDS"); do
	log "file change -> drop $r/$FILE_ROUNDS (big feed)"
	file_to_drop big "$BIG" "203.0.113.$((100 + r))"
done
L_FILE_BIG=("${L_FILE[@]}") L_FILE_BIG_EV=("${L_FILE_EV[@]}")
L_FILE=() L_FILE_EV=()
for r in $(seq 1 "$FILE_ROUNDS"); do
	log "file change -> drop $r/$FILE_ROUNDS (small feed)"
	file_to_drop small "$SMALL" "203.0.113.$((120 + r))"
done
L_FILE_SMALL=("${L_FILE[@]}") L_FILE_SMALL_EV=("${L_FILE_EV[@]}")

# ------------------------------------------------------------------ 4. command -> drop
L_QUAR=() L_QUAR_ACK=()
[ "$FEEDS_ONLY" = 1 ] && QUAR_ROUNDS=0
for r in $(seq 1 "$QUAR_ROUNDS"); do
	log "bwctl quarantine -> drop $r/$QUAR_ROUNDS"
	out=$W/ping-quar$r
	ping_start "$BWE_NS_LAN" "$BWE_SITE_V4" "$out" 30
	if ! wait_replies "$out" 5 5; then
		ping_stop
		unmeasured "quarantine round $r: no reply before the command"
		continue
	fi
	t0=$(now)
	bwctl quarantine "$BWE_LAN_V4" --ttl 1h --reason "bench" >/dev/null 2>"$W/bwctl.err"
	rc=$?
	t1=$(now)
	if [ $rc -eq 0 ] && wait_dropped "$out" 10; then
		L_QUAR+=("$(ms "$t0" "$(first_lost "$out")")")
		L_QUAR_ACK+=("$(ms "$t0" "$t1")")
	else
		unmeasured "quarantine round $r: exit $rc, or not dropped: $(head -c 200 "$W/bwctl.err")"
	fi
	ping_stop
	bwctl release "$BWE_LAN_V4" --reason "bench" >/dev/null 2>&1
done

# ------------------------------------------------------------------ 5. memory, detector CPU
FILL_SLOTS="" FILL_MAP="" KEPT_SLOTS="" HOSTS_MAX=""
CPU_IDLE="" CPU_HOSTS="" TRACKED="" HOSTS_NOTE="" RSS_FEEDS="" RSS_HOSTS="" HWM="" MAPS_TSV="" MAP_BYTES=0
ANON_HOSTS="" MAPRSS_HOSTS="" HOSTS_OK=0
if [ "$FEEDS_ONLY" = 0 ]; then
log "IPv6 feed: $V6_MORE lines"
"$PY" "$GEN" v6 --count "$V6_MORE" --seed 2 "$V6.tmp" || die "gen_feed.py v6 failed"
n0=$(ev_count "$EV" feed-updated v6)
mv -f "$V6.tmp" "$V6"
wait_ev "$EV" feed-updated v6 $((n0 + 1)) 120 || unmeasured "the IPv6 feed did not load"
FEEDS_JSON=$(bwctl --json feeds)
N_V4=$(jq '[.. | objects | select(has("entries_v4")) | .entries_v4] | add' <<<"$FEEDS_JSON")
N_V6=$(jq '[.. | objects | select(has("entries_v6")) | .entries_v6] | add' <<<"$FEEDS_JSON")
sleep 2
RSS_FEEDS=$(vmrss_kib "$DPID")

CPU_IDLE="" CPU_HOSTS="" TRACKED="" HOSTS_NOTE=""
TCK=$(getconf CLK_TCK)
log "detector CPU: idle daemon, ${CPU_IDLE_S} s"
a=$(proc_ticks "$DPID") t0=$(now)
sleep "$CPU_IDLE_S"
b=$(proc_ticks "$DPID") t1=$(now)
CPU_IDLE=$(calc "($b - $a) / $TCK / ($t1 - $t0) * 100")

if [ -x "$HOSTS_FILL" ]; then
	log "detector CPU: $NHOSTS active hosts, warm-up 12 s, then ${CPU_S} s"
	"$HOSTS_FILL" "$PIN" --count "$NHOSTS" --first "$FILL_FIRST" --seconds $((CPU_S + 20)) >"$W/hosts_fill.out" 2>&1 &
	FILL_PID=$!
	sleep 12	# one policy interval: the detector has met every host
	a=$(proc_ticks "$DPID") t0=$(now)
	sleep "$CPU_S"
	b=$(proc_ticks "$DPID") t1=$(now)
	if kill -0 "$FILL_PID" 2>/dev/null; then
		HOSTS_OK=1
		CPU_HOSTS=$(calc "($b - $a) / $TCK / ($t1 - $t0) * 100")
		# both homes of a host record: the host slots and bwe_hosts
		TRACKED=$(bwctl --json status |
			jq '[.maps[] | select(.name == "bwe_hosts" or .name == "bwe_hslots") | .entries] | add')
		HOSTS_NOTE=$(awk '$1 == "hosts_in_map" { print $2 }' "$W/hosts_fill.out")
		fill_out() { awk -v k="$1" '$1 == k { print $2 }' "$W/hosts_fill.out"; }
		FILL_SLOTS=$(fill_out hosts_to_slots) FILL_MAP=$(fill_out hosts_to_map)
		KEPT_SLOTS=$(fill_out hosts_in_slots)
		HOSTS_MAX=$(bwctl --json status | jq '.maps[] | select(.name == "bwe_hosts") | .max_entries')
	else
		unmeasured "hosts_fill ended early: $(tail -3 "$W/hosts_fill.out")"
	fi
	RSS_HOSTS=$(vmrss_kib "$DPID")
	ANON_HOSTS=$(rssanon_kib "$DPID") MAPRSS_HOSTS=$(maprss_kib "$DPID")
	HWM=$(awk '/^VmHWM:/ { print $2 }' "/proc/$DPID/status")
	kill -TERM "$FILL_PID" 2>/dev/null
	wait "$FILL_PID" 2>/dev/null
	FILL_PID=""
else
	unmeasured "detector CPU and memory with $NHOSTS hosts: $HOSTS_FILL missing (make build/bench/hosts_fill)"
	RSS_HOSTS="" HWM=""
fi

# Map memory: every map of the attached program, as the kernel accounts it.
PROG_ID=$(bwctl --json status | jq '[.interfaces[].prog_id] | map(select(. > 0)) | .[0] // empty')
MAPS_TSV=""
if [ -n "$PROG_ID" ]; then
	for id in $(bpftool -j prog show id "$PROG_ID" | jq -r '.map_ids[]'); do
		MAPS_TSV+=$(bpftool -j map show id "$id" |
			jq -r '[.name, .type, .max_entries, .bytes_memlock] | @tsv')$'\n'
		# a map of maps (the exact-host tables): the table in its slot 0 counts too
		[ "$(bpftool -j map show id "$id" | jq -r .type)" = array_of_maps ] || continue
		inner=$(bpftool -j map lookup id "$id" key 0 0 0 0 2>/dev/null |
			jq -r '.value | map(ltrimstr("0x")) | reverse | join("")')
		[ -n "$inner" ] || continue
		MAPS_TSV+=$(bpftool -j map show id "$((16#$inner))" |
			jq -r '[.name, .type, .max_entries, .bytes_memlock] | @tsv')$'\n'
	done
fi
MAP_BYTES=$(printf '%s' "$MAPS_TSV" | awk -F'\t' '{ s += $4 } END { print s + 0 }')
[ "$MAP_BYTES" -gt 0 ] || unmeasured "map memory: no maps found for program ${PROG_ID:-?}"
fi

stop_daemon

# ------------------------------------------------------------------ 6. the same deltas on BWCTLD_BASE
if [ -n "$BASE" ]; then
	detach_xdp
	cp "$W/big.before-delta" "$BIG"
	P=$BPFFS/od S=$W/state-od E=$W/events-od.json
	write_config "$W/feed-od.yaml" "$P" "$S" "$E" 1
	log "BWCTLD_BASE: $BASE with the feed, then the same $DELTA_ROUNDS deltas"
	start_daemon "$W/feed-od.yaml" "$BASE"
	if wait_ev "$E" feed-updated big 1 280; then
		for r in $(seq 1 "$DELTA_ROUNDS"); do
			"$PY" "$GEN" delta "$BIG" "$BIG.tmp" --remove "$DELTA" --add "$DELTA" --seed $((100 + r)) \
				--keep "$BWE_C2_V4" || die "gen_feed.py delta failed"
			n0=$(ev_count "$E" feed-updated big)
			t0=$(now)
			mv -f "$BIG.tmp" "$BIG"
			if wait_ev "$E" feed-updated big $((n0 + 1)) 120; then
				L_DELTA_B+=("$(ms "$t0" "$(ev_nth "$E" feed-updated big $((n0 + 1)))")")
			else
				unmeasured "BWCTLD_BASE delta round $r: no feed-updated event"
			fi
		done
	else
		unmeasured "BWCTLD_BASE: the feed did not load for the deltas"
	fi
	reset_daemon "$P" "$S"
fi

# ------------------------------------------------------------------ report
GOAL_ROWS=""
goal() { # FIGURE MEASURED GOAL RESULT
	GOAL_ROWS+="| $1 | $2 | $3 | $4 |"$'\n'
	[ -n "${BENCH_GOALS:-}" ] && printf 'GOAL\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$BENCH_GOALS"
	return 0
}
met() { awk -v v="$1" -v g="$2" 'BEGIN { print (v <= g) ? "met" : "not met" }'; }
na() { [ $# -gt 0 ] && [ -n "$1" ]; }

ENTRIES=${L_ENTRIES:-$BIG_LINES}
row() { echo "| $1 | $2 | $3 | $4 | $5 |"; }

{
echo "## Control plane (tier 4)"
echo
echo "One run of \`bench/control.sh$([ "$QUICK" = 1 ] && echo " --quick")\`, $RUN_DATE, kernel $(uname -r), $(nproc) CPUs,"
echo "load average $LOAD0 at the start and $(cut -d' ' -f1-3 /proc/loadavg) at the end (other work on the machine shows there)."
echo "bwctld on the namespace gateway testbed (native XDP on the veths \`lan0\`, \`wan0\`),"
echo "private bpffs, a clean pin and state directory for every start. The feed is"
echo "synthetic (\`bench/gen_feed.py\`, seed 1): $(fmt_int "$FEED_V4") IPv4 lines (95 % distinct random public"
echo "/32s, 5 % /16–/24 networks with firehol_level1's length mix) and $(fmt_int "$FEED_V6") IPv6 lines"
echo "(80 % /128), plain format; $(fmt_int "$ENTRIES") entries. Times are medians with min–max over the"
echo "rounds given; event times come from the daemon's event log (ms resolution),"
echo "packet times from \`ping -D -i 0.01\` run by a LAN host through the gateway: a request"
echo "every 10 ms, so \"first dropped packet\" is the send time of the first request left"
echo "unanswered, taken as the last reply + 10 ms: an upper bound, at most 10 ms late"
echo "(ping's own timer can slip on a busy VM, so a round can come out a few ms low, even"
echo "below zero)."
echo
echo "| figure | measured: median (min–max) | rounds | goal | result |"
echo "|---|---|---:|---|---|"
if na "${L_FEED[@]}"; then
	eps=$(calc "$ENTRIES / $(med "${L_FEED[@]}")")
	res=$(awk -v e="$eps" 'BEGIN { print (e >= 1000000) ? "met" : "not met" }')
	row "feed load, daemon start → \`feed-updated\` ($(fmt_int "$ENTRIES") entries, parse + apply, end to end)" \
		"$(fmt_stats "%.2f s" "${L_FEED[@]}"); **$(printf '%.0f' "$eps") entries/s**" "${#L_FEED[@]}" "≥ 1,000,000 entries/s" "$res"
	goal "feed load, end to end ($(fmt_int "$ENTRIES") entries, daemon start included)" "$(printf '%.0f entries/s' "$eps")" "≥ 1,000,000 entries/s" "$res"
	row "daemon start → enforcing (both interfaces attached, after the feed)" \
		"$(fmt_stats "%.2f s" "${L_ATT[@]}")" "${#L_ATT[@]}" "—" "—"
	row "of which \`feed-updated\` → attached (other feeds, sweep of stale entries, socket, attach)" \
		"$(fmt_stats "%.2f s" "${L_GAP[@]}")" "${#L_GAP[@]}" "—" "—"
	if na "${L_PING[@]}"; then
		res=$(met "$(med "${L_PING[@]}")" 2)
		row "daemon start → first dropped packet to a listed address (pinged at 100 Hz)" \
			"$(fmt_stats "%.2f s" "${L_PING[@]}")" "${#L_PING[@]}" "≤ 2 s" "$res"
		goal "1M-entry feed enforced after daemon start" "$(printf '%.2f s' "$(med "${L_PING[@]}")")" "≤ 2 s" "$res"
	fi
fi
if na "${L_BASE[@]}"; then
	row "baseline: daemon start → enforcing, no feed" "$(fmt_stats "%.2f s" "${L_BASE[@]}")" "${#L_BASE[@]}" "—" "—"
	na "${L_ATT[@]}" && row "the feed's share of start-up (difference of medians)" \
		"$(calc "$(med "${L_ATT[@]}") - $(med "${L_BASE[@]}")" | awk '{ printf "%.2f s", $1 }')" "" "—" "—"
fi
if na "${L_NFT[@]}"; then
	row "\`nft -f\`: the same $(fmt_int "$NFT_N") IPv4 entries into an interval set" \
		"$(fmt_stats "%.2f s" "${L_NFT[@]}"); $(printf '%.0f' "$(calc "$NFT_N / $(med "${L_NFT[@]}")")") elements/s" \
		"${#L_NFT[@]}" "—" "—"
	na "${L_FEED[@]}" && row "nft -f time / bwctld feed load time" \
		"$(calc "$(med "${L_NFT[@]}") / $(med "${L_FEED[@]}")" | awk '{ printf "%.2f×", $1 }')" "" "—" "—"
elif [ -n "$NFT_100K" ]; then
	row "\`nft -f\`: $(fmt_int "$NFT_N") IPv4 entries, extrapolated" \
		"$(calc "$NFT_100K * $NFT_N / 100000" | awk '{ printf "%.0f s", $1 }') ($NFT_NOTE)" "1" "—" "—"
fi
[ -n "$NFT_100K" ] && row "\`nft -f\`: first 100,000 of them (probe)" "$(printf '%.2f s' "$NFT_100K")" 1 "—" "—"
if na "${L_DELTA[@]}"; then
	res=$(met "$(med "${L_DELTA[@]}")" 100)
	row "1 % delta (−$(fmt_int "$DELTA") +$(fmt_int "$DELTA") lines): \`mv\` → \`feed-updated\` (re-parse + difference)" \
		"$(fmt_stats "%.0f ms" "${L_DELTA[@]}") (last: $DELTA_NOTE)" "${#L_DELTA[@]}" "≤ 100 ms" "$res"
	goal "1 % delta applied" "$(printf '%.0f ms' "$(med "${L_DELTA[@]}")")" "≤ 100 ms" "$res"
fi
if [ -n "$BASE" ] && na "${L_FEED_B[@]}" && na "${L_FEED[@]}"; then
	row "the same, \`BWCTLD_BASE\` ($(basename "$(dirname "$(dirname "$BASE")")")), interleaved with it" \
		"$(fmt_stats "%.2f s" "${L_FEED_B[@]}"); $(printf '%.0f' "$(calc "$ENTRIES / $(med "${L_FEED_B[@]}")")") entries/s" \
		"${#L_FEED_B[@]}" "—" "—"
	row "feed load time, \`BWCTLD_BASE\` / this build" \
		"$(calc "$(med "${L_FEED_B[@]}") / $(med "${L_FEED[@]}")" | awk '{ printf "%.2f×", $1 }')" "" "—" "—"
fi
if [ -n "$BASE" ] && na "${L_DELTA_B[@]}" && na "${L_DELTA[@]}"; then
	row "the same deltas, \`BWCTLD_BASE\`, after this build's (same files, same order)" \
		"$(fmt_stats "%.0f ms" "${L_DELTA_B[@]}")" "${#L_DELTA_B[@]}" "—" "—"
	row "delta time, \`BWCTLD_BASE\` / this build" \
		"$(calc "$(med "${L_DELTA_B[@]}") / $(med "${L_DELTA[@]}")" | awk '{ printf "%.2f×", $1 }')" "" "—" "—"
fi
if na "${L_FILE_BIG[@]}"; then
	v=$(med "${L_FILE_BIG[@]}")
	res=$(met "$v" 1000)
	row "feed file change → first dropped packet, $(fmt_int "$ENTRIES")-entry feed" \
		"$(fmt_stats "%.0f ms" "${L_FILE_BIG[@]}") (event: $(fmt_stats "%.0f ms" "${L_FILE_BIG_EV[@]}"))" \
		"${#L_FILE_BIG[@]}" "≤ 1 s" "$res"
	goal "feed file change → first drop ($(fmt_int "$ENTRIES")-entry feed)" "$(printf '%.0f ms' "$v")" "≤ 1 s" "$res"
else
	goal "feed file change → first drop" "not measured" "≤ 1 s" "not measured"
fi
if na "${L_FILE_SMALL[@]}"; then
	row "feed file change → first dropped packet, $(fmt_int "$SMALL_LINES")-entry feed (the big one stays loaded)" \
		"$(fmt_stats "%.0f ms" "${L_FILE_SMALL[@]}") (event: $(fmt_stats "%.0f ms" "${L_FILE_SMALL_EV[@]}"))" \
		"${#L_FILE_SMALL[@]}" "—" "—"
fi
if na "${L_QUAR[@]}"; then
	v=$(med "${L_QUAR[@]}")
	res=$(met "$v" 50)
	row "\`bwctl quarantine\` → first dropped packet" \
		"$(fmt_stats "%.1f ms" "${L_QUAR[@]}") (command acknowledged: $(fmt_stats "%.1f ms" "${L_QUAR_ACK[@]}"))" \
		"${#L_QUAR[@]}" "≤ 50 ms" "$res"
	goal "bwctl quarantine → first drop" "$(printf '%.1f ms' "$v")" "≤ 50 ms" "$res"
else
	goal "bwctl quarantine → first drop" "not measured" "≤ 50 ms" "not measured"
fi
if [ -z "${RSS_HOSTS:-}" ] && [ -n "${RSS_FEEDS:-}" ]; then
	row "bwctld VmRSS, $(fmt_int "${N_V4:-0}") IPv4 + $(fmt_int "${N_V6:-0}") IPv6 entries (no synthetic hosts)" \
		"$(awk -v k="$RSS_FEEDS" 'BEGIN { printf "%.1f MiB", k / 1024 }')" 1 "—" "—"
fi
if [ -n "${RSS_HOSTS:-}" ]; then
	row "bwctld VmRSS, $(fmt_int "${N_V4:-0}") IPv4 + $(fmt_int "${N_V6:-0}") IPv6 entries, $(fmt_int "${TRACKED:-0}") tracked hosts" \
		"$(awk -v k="$RSS_HOSTS" 'BEGIN { printf "%.1f MiB", k / 1024 }') (peak VmHWM $(awk -v k="$HWM" 'BEGIN { printf "%.1f MiB", k / 1024 }'); without the hosts $(awk -v k="$RSS_FEEDS" 'BEGIN { printf "%.1f MiB", k / 1024 }'); of it RssAnon, the daemon's own memory, $(awk -v k="${ANON_HOSTS:-0}" 'BEGIN { printf "%.1f MiB", k / 1024 }'), and the BPF maps it has mapped, kernel memory the map memory row counts too, $(awk -v k="${MAPRSS_HOSTS:-0}" 'BEGIN { printf "%.1f MiB", k / 1024 }'))" \
		1 "≤ 160 MiB" "$([ "$HOSTS_OK" = 1 ] && met "$(awk -v k="$RSS_HOSTS" 'BEGIN { printf "%.1f", k / 1024 }')" 160 || echo "not measured (hosts_fill ended early)")"
fi
if [ -n "${RSS_HOSTS:-}" ] && [ "$HOSTS_OK" = 1 ]; then
	goal "daemon RSS ($(fmt_int "${N_V4:-0}") IPv4 + $(fmt_int "${N_V6:-0}") IPv6 entries, $(fmt_int "${TRACKED:-0}") hosts)" \
		"$(awk -v k="$RSS_HOSTS" 'BEGIN { printf "%.1f MiB", k / 1024 }')" "≤ 160 MiB" \
		"$(met "$(awk -v k="$RSS_HOSTS" 'BEGIN { printf "%.1f", k / 1024 }')" 160)"
else
	goal "daemon RSS" "not measured" "≤ 160 MiB" "not measured"
fi
if [ "$MAP_BYTES" -gt 0 ]; then
	mib=$(awk -v b="$MAP_BYTES" 'BEGIN { printf "%.1f", b / 1048576 }')
	res=$(met "$mib" 128)
	row "map memory (memlock of every map of the XDP program), same state" "$mib MiB" 1 "≤ 128 MiB" "$res"
	goal "map memory ($(fmt_int "${N_V4:-0}") IPv4 + $(fmt_int "${N_V6:-0}") IPv6 entries, $(fmt_int "${TRACKED:-0}") hosts)" "$mib MiB" "≤ 128 MiB" "$res"
else
	goal "map memory" "not measured" "≤ 128 MiB" "not measured"
fi
if [ -n "$CPU_HOSTS" ]; then
	row "bwctld CPU, $(fmt_int "${TRACKED:-0}") active hosts (sampled every 1 s, detector every 10 s), share of one core over ${CPU_S} s" \
		"$(printf '%.2f %%' "$CPU_HOSTS") (idle baseline $(printf '%.2f %%' "$CPU_IDLE") over ${CPU_IDLE_S} s)" 1 "—" "—"
fi
echo
if [ -n "$MAPS_TSV" ]; then
	echo "Map memory by map (\`bpftool map show\` memlock; hash and per-CPU maps are preallocated"
	echo "but for the IPv6 exact-host table bwe_bl_tab6 (the table in bwe_bl_host6's slot, sized"
	echo "to its hosts, not preallocated), LPM tries grow with their entries; bwe_bl_tab4, in"
	echo "bwe_bl_host4's slot, is the dense IPv4 table: an array of 64-byte buckets sized to its hosts):"
	echo
	echo "| map | type | max_entries | memlock MiB |"
	echo "|---|---|---:|---:|"
	printf '%s' "$MAPS_TSV" | sort -t$'\t' -k4,4nr |
		awk -F'\t' '$1 != "" { printf "| %s | %s | %d | %.2f |\n", $1, $2, $3, $4 / 1048576 }'
	echo
fi
echo "- Feed load: the feed worker parses the file (a text body of 4 MiB or more in two"
echo "  halves by two threads), sorts and de-duplicates it; the daemon writes the blocklist"
echo "  maps (IPv4 hosts in the dense table through mmap, IPv6 hosts in a hash, DIR-24 table"
echo "  for IPv4 networks, LPM trie for IPv6 networks)."
echo "- A changed text file is diffed line by line against the last version's body; only the"
echo "  changed lines (and the first 64 KiB) are parsed again, merged with the entries of the"
echo "  unchanged lines and applied as a difference (additions, then removals): delta and"
echo "  file-change times include reading and diffing the whole file, not parsing it"
echo "  (docs/architecture.md, \"How a version is installed\")."
if [ -n "$HOSTS_NOTE" ]; then
	echo "- Hosts: \`build/bench/hosts_fill\` wrote $(fmt_int "$NHOSTS") internal hosts from $FILL_FIRST where the data"
	echo "  plane keeps them: $(fmt_int "${FILL_SLOTS:-0}") into host slots (\`bwe_hslots\`, the internal /24s that hold a"
	echo "  block, sent bit set) and $(fmt_int "${FILL_MAP:-0}") into the pinned LRU map \`bwe_hosts\` ($(fmt_int "${HOSTS_MAX:-0}") entries:"
	echo "  \`maps.hosts\` at its default 65,536 less the slots); $(fmt_int "$HOSTS_NOTE") hosts were kept"
	echo "  ($(fmt_int "${KEPT_SLOTS:-0}") in slots, $(fmt_int "$((HOSTS_NOTE - ${KEPT_SLOTS:-0}))") in \`bwe_hosts\`); their counters advanced every second."
fi
[ -n "$NFT_NOTE" ] && echo "- nft: $NFT_NOTE."
echo "- Per-CPU maps (\`bwe_hslots\`, \`bwe_hosts\`, \`bwe_stats\`) and \`bwe_hslot_drop\` (a run per CPU) take their value once per possible CPU:"
echo "  $(possible_cpus) here; their memlock grows in proportion on bigger machines."
echo "- Run time $(((SECONDS - T_RUN0) / 60)) min $(((SECONDS - T_RUN0) % 60)) s."
if [ ${#UNMEASURED[@]} -gt 0 ]; then
	echo
	echo "**Not measured:**"
	for u in "${UNMEASURED[@]}"; do echo "- $u"; done
fi
}

[ ${#UNMEASURED[@]} -eq 0 ] || exit 1
exit 0
