#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# bench/fleet.sh [--quick] - fleet figures (benchmark tier 5, issue #15),
# printed as a markdown section on stdout; progress goes to stderr.
#
# A three-member etcd 3.4 cluster (TLS, client certificates; its own
# namespace, data on a tmpfs: tests/lib_etcd.sh) and gateway testbeds with
# one bwctld each joined to the fleet (tests/lib_bwe.sh's sites), all on
# this machine:
#
#   propagation      100 changes at site A (50 quarantines of a LAN address,
#                    each followed by its release), one at a time: from just
#                    before the `bwctl` call at A to the change's event in
#                    B's event log (its @timestamp, ms), median, p90, p99, max.
#                    Also the time the bwctl call at A took.
#   bulk             10,000 quarantines made at A (40 calls of 250
#                    addresses): first call -> all 10,000 listed at B.
#   new site         a third daemon C with an empty state directory joins
#                    the prefix now holding those 10,000 entries: its start
#                    -> attached (fleet status connected), and its start ->
#                    all 10,000 in its `bwctl list quarantine`.
#
# --quick: 20 changes, 1,000 entries (a smoke run).
# Goals are also written as GOAL<TAB>figure<TAB>measured<TAB>goal<TAB>result
# lines to the file $BENCH_GOALS when set (bench/run.sh collects them).
# Exit 0 when every figure was measured (met or not), 1 when one could not
# be, 2 on a usage error. Nothing is left behind (trap on EXIT/INT/TERM).

set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PROG=fleet.sh

QUICK=0
for a in "$@"; do
	case $a in
	--quick) QUICK=1 ;;
	-h | --help) sed -n '3,28p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "usage: $PROG [--quick]" >&2; exit 2 ;;
	esac
done
if [ "$QUICK" = 1 ]; then
	CHANGES=20 ENTRIES=1000
else
	CHANGES=100 ENTRIES=10000
fi
BATCH=250
HB=2	# s, each site's heartbeat
export LC_NUMERIC=C

log() { echo "$PROG: $*" >&2; }
die() { log "$*"; exit 1; }
[ "$(id -u)" -eq 0 ] || die "must run as root"
for f in "$ROOT/build/bwctld" "$ROOT/build/bwctl"; do
	[ -x "$f" ] || die "$f missing: run make first"
done
for t in jq etcd etcdctl openssl; do
	command -v $t >/dev/null 2>&1 || die "$t not found (scripts/setup-deps.sh)"
done

# The test harness: cleanup stack, testbeds, sites, etcd. Its output goes
# to stderr: stdout is the markdown.
# shellcheck source=tests/lib.sh
. "$ROOT/tests/lib.sh"
# shellcheck source=tests/lib_bwe.sh
. "$ROOT/tests/lib_bwe.sh"
# shellcheck source=tests/lib_etcd.sh
. "$ROOT/tests/lib_etcd.sh"

UNMEASURED=()
unmeasured() { UNMEASURED+=("$1"); log "NOT MEASURED: $1"; }

now() { echo "$EPOCHREALTIME"; }
calc() { awk "BEGIN { printf \"%s\", $1 }"; }
fmt_int() { echo "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; }
# P-th percentile (nearest rank) of the arguments
pct() { # P VALUES...
	local p=$1
	shift
	printf '%s\n' "$@" | sort -g | awk -v p="$p" '{ v[NR] = $1 } END {
		if (NR == 0) { print "nan"; exit }
		r = int(p / 100 * NR); if (r < p / 100 * NR) r++; if (r < 1) r = 1
		print v[r] }'
}

# Epoch seconds of B's event ACTION for HOST (the first one after line MARK).
ev_time() { # LOG MARK ACTION HOST
	tail -n +$(($2 + 1)) "$1" 2>/dev/null | grep -F "\"$4\"" |
		jq -r --arg a "$3" --arg h "$4" 'select(.event.action == $a and .host.ip == $h)
			| .["@timestamp"] | ((.[0:19] + "Z" | fromdateiso8601) + (.[20:23] | tonumber) / 1000)' 2>/dev/null |
		head -n 1
}
wait_ev_time() { # LOG MARK ACTION HOST TIMEOUT_S
	local end=$((SECONDS + $5)) t
	while :; do
		t=$(ev_time "$1" "$2" "$3" "$4")
		[ -n "$t" ] && { echo "$t"; return 0; }
		[ $SECONDS -lt "$end" ] || return 1
		sleep 0.02
	done
}
connected() { [ "$(bwctl --json fleet status | jq -r .connected)" = true ]; }
count_q() { bwctl --json list quarantine | jq --arg p "$1" '[.[] | select(.host | startswith($p))] | length'; }

# ------------------------------------------------------------------ setup
RUN_DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
log "etcd cluster up"
etcd_up >&2 || die "etcd_up failed"
declare -A MGMT=([a]=198.19.0.11 [b]=198.19.0.12 [c]=198.19.0.13)
for s in a b c; do
	log "testbed of site $s"
	bwe_site_up "$s" >&2
	etcd_link "$BWE_NS_GW" "${MGMT[$s]}" >&2 || die "etcd_link of site $s failed"
	write_config "$(etcd_fleet_yaml "site-$s" "heartbeat=${HB}s")"
	sed -i "s|^internal_networks: .*|internal_networks: [ 198.18.0.0/16, $BWE_LAN_NET_V6 ]|" "$CFG"
done
for s in a b; do
	site "$s"
	start_daemon >&2 || die "bwctld of site $s did not start: $(tail -n 5 "$DIR/bwctld.log")"
done
for s in a b; do
	site "$s"
	wait_for 300 connected || die "site $s not connected to etcd after 30 s: $(bwctl --json fleet status)"
done

# ------------------------------------------------------------------ 1. propagation
L_PROP=() L_ACK=()
site b
LOG_B=$LOG
MARK=$(grep -c . "$LOG_B")
site a
for i in $(seq 1 $((CHANGES / 2))); do
	h=198.18.20.$i
	for act in quarantine release; do
		t0=$(now)
		if ! bwctl "$act" "$h" --reason "bench" >/dev/null 2>&1; then
			unmeasured "bwctl $act $h at A failed"
			continue
		fi
		t1=$(now)
		if tb=$(wait_ev_time "$LOG_B" "$MARK" "$act" "$h" 10); then
			L_PROP+=("$(calc "($tb - $t0) * 1000")")
			L_ACK+=("$(calc "($t1 - $t0) * 1000")")
		else
			unmeasured "change $act $h: no event at B within 10 s"
		fi
	done
	[ $((i % 10)) = 0 ] && log "propagation: $((2 * i))/$CHANGES changes"
done

# ------------------------------------------------------------------ 2. bulk, 3. new site
BULK_S="" NEW_ATT="" NEW_ALL="" NEW_RSS=""
hosts=()
for i in $(seq 32 255); do
	for j in $(seq 1 250); do
		hosts+=("198.18.$i.$j")
		[ ${#hosts[@]} -ge "$ENTRIES" ] && break 2
	done
done
log "bulk: $ENTRIES quarantines at A"
etcd_count() { etcdc get --prefix "${ETCD_PREFIX}entries/quarantine/" --keys-only --limit 1 -w json | jq -r '.count // 0'; }
K0=$(etcd_count)
site a
t0=$(now)
ok=1
for ((i = 0; i < ENTRIES; i += BATCH)); do
	bwctl quarantine "${hosts[@]:$i:$BATCH}" --reason bulk >/dev/null 2>&1 || { ok=0; break; }
done
T_CALLS=$(calc "$(now) - $t0")
site b
if [ "$ok" = 0 ]; then
	unmeasured "bwctl quarantine of a batch at A failed"
else
	end=$((SECONDS + 300)) ETCD_S=""
	while [ "$(count_q 198.18.)" -lt "$ENTRIES" ] && [ $SECONDS -lt $end ]; do
		[ -z "$ETCD_S" ] && [ "$(etcd_count)" -ge $((K0 + ENTRIES)) ] && ETCD_S=$(calc "$(now) - $t0")
		sleep 0.2
	done
	[ -n "$ETCD_S" ] || { [ "$(etcd_count)" -ge $((K0 + ENTRIES)) ] && ETCD_S=$(calc "$(now) - $t0"); }
	n=$(count_q 198.18.)
	if [ "$n" -ge "$ENTRIES" ]; then
		BULK_S=$(calc "$(now) - $t0")
	else
		unmeasured "B has $n of $ENTRIES after 300 s"
	fi
fi
# keys under the prefix: the live entries and the releases' tombstones
KEYS=$(etcdc get --prefix "${ETCD_PREFIX}entries/" --keys-only | grep -c .)
LIVE=$(etcdc get --prefix "${ETCD_PREFIX}entries/" --print-value-only | jq -s 'map(select(.deleted != true)) | length')
log "etcd holds $KEYS keys ($LIVE live entries); starting site c"
site c
t0=$(now)
start_daemon >&2 || die "bwctld of site c did not start: $(tail -n 5 "$DIR/bwctld.log")"
end=$((SECONDS + 300))
while [ $SECONDS -lt $end ]; do
	[ -z "$NEW_ATT" ] && connected && NEW_ATT=$(calc "$(now) - $t0")
	if [ -n "$NEW_ATT" ] && [ "$(count_q 198.18.)" -ge "$ENTRIES" ]; then
		NEW_ALL=$(calc "$(now) - $t0")
		break
	fi
	sleep 0.2
done
[ -n "$NEW_ATT" ] || unmeasured "site c not connected after 300 s"
[ -n "$NEW_ALL" ] || unmeasured "site c has $(count_q 198.18.) of $ENTRIES after 300 s"
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$(daemon_pid)/status" 2>/dev/null; }
NEW_RSS=$(rss)
site a; RSS_A=$(rss)
site b; RSS_B=$(rss)

# ------------------------------------------------------------------ report
goal() { # FIGURE MEASURED GOAL RESULT
	GOAL_ROWS+="| $1 | $2 | $3 | $4 |"$'\n'
	[ -n "${BENCH_GOALS:-}" ] && printf 'GOAL\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$BENCH_GOALS"
	return 0
}
met() { awk -v v="$1" -v g="$2" 'BEGIN { print (v <= g) ? "met" : "not met" }'; }
row() { echo "| $1 | $2 | $3 | $4 |"; }
GOAL_ROWS=""

echo "## Fleet (tier 5)"
echo
echo "One run of \`bench/fleet.sh$([ "$QUICK" = 1 ] && echo " --quick")\`, $RUN_DATE, kernel $(uname -r), $(nproc) CPUs,"
echo "load average $LOAD0 at the start and $(cut -d' ' -f1-3 /proc/loadavg) at the end."
echo "etcd $(etcd --version | awk '/^etcd Version/ { print $3 }'), three members on one address of a namespace"
echo "of their own, TLS with client certificates, data on a tmpfs; each site a gateway testbed"
echo "with its bwctld (heartbeat ${HB} s) reaching etcd over a veth. Everything shares the"
echo "machine's $(nproc) CPUs: etcd's three members, the daemons and the tools measuring them."
echo "Times from the shell's clock (\`EPOCHREALTIME\`) to B's event timestamps (ms)."
echo
echo "| figure | measured | n | goal |"
echo "|---|---|---:|---|"
if [ ${#L_PROP[@]} -gt 0 ]; then
	med=$(pct 50 "${L_PROP[@]}") p99=$(pct 99 "${L_PROP[@]}")
	row "propagation A → B: \`bwctl\` at A → the change's event at B (quarantine and release)" \
		"median **$(printf '%.0f' "$med") ms**, p90 $(printf '%.0f' "$(pct 90 "${L_PROP[@]}")") ms, p99 **$(printf '%.0f' "$p99") ms**, max $(printf '%.0f' "$(pct 100 "${L_PROP[@]}")") ms" \
		"${#L_PROP[@]}" "p99 ≤ 1,000 ms"
	row "of which the \`bwctl\` call at A (local transaction, written to etcd asynchronously)" \
		"median $(printf '%.1f' "$(pct 50 "${L_ACK[@]}")") ms, p99 $(printf '%.1f' "$(pct 99 "${L_ACK[@]}")") ms" "${#L_ACK[@]}" "—"
	goal "fleet propagation A → B, p99 over ${#L_PROP[@]} changes (median $(printf '%.0f' "$med") ms)" \
		"$(printf '%.0f ms' "$p99")" "≤ 1,000 ms" "$(met "$p99" 1000)"
fi
if [ -n "$BULK_S" ]; then
	row "$(fmt_int "$ENTRIES") quarantines at A ($((ENTRIES / BATCH)) calls of $BATCH) → all listed at B" \
		"**$(printf '%.2f' "$BULK_S") s** ($(printf '%.0f' "$(calc "$ENTRIES / $BULK_S")") entries/s; the calls at A took $(printf '%.2f' "$T_CALLS") s, all in etcd after $([ -n "$ETCD_S" ] && printf "%.2f s" "$ETCD_S" || echo "(not seen)"))" 1 "—"
fi
if [ -n "$NEW_ALL" ]; then
	row "a new site (empty state) joins a prefix of $(fmt_int "$LIVE") entries ($(fmt_int "$KEYS") keys with the tombstones of releases): start → all listed" \
		"**$(printf '%.2f' "$NEW_ALL") s** (start → attached $(printf '%.2f' "$NEW_ATT") s)" 1 "—"
	row "bwctld's VmRSS then: A (made them), B (followed the watch), C (read the snapshot)" \
		"$(fmt_int "${RSS_A:-0}") KiB, $(fmt_int "${RSS_B:-0}") KiB, $(fmt_int "${NEW_RSS:-0}") KiB" 1 "—"
fi
echo
if [ ${#UNMEASURED[@]} -gt 0 ]; then
	echo "**Not measured:**"
	echo
	for u in "${UNMEASURED[@]}"; do echo "- $u"; done
	echo
	exit 1
fi
exit 0
