#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# e2e_fleet.sh - many gateways, one containment state, on etcd (issue #15).
# A three-member etcd 3.4 cluster in a namespace of its own (TLS with a
# throwaway CA, client certificates; tests/lib_etcd.sh) and two gateway
# testbeds, sites A and B (a third, C, for the failure cases), each with its
# bwctld joined to the fleet over a management link. Both testbeds have the
# same LAN addresses, so a quarantine of 198.18.0.10 at A holds B's
# 198.18.0.10 too: one host on two uplinks (share_addresses).
#
# Checked with real traffic where the issue says "enforced": a quarantine
# at A drops B's LAN host within 1 s and a release at B lets A's flow within
# 1 s; a TTL expires once everywhere; changes keep propagating with the
# etcd leader killed; with all of etcd stopped every site keeps enforcing,
# says it is detached, and a change queued at A reaches B once etcd is
# back; B restarted (SIGTERM and SIGKILL) while A changes things converges
# to A's state; a compaction while B is down makes B re-read and converge;
# malformed entries written straight into etcd are refused by every site
# with an event and change nothing; 1,000 quarantines at A reach B in under
# 5 s; --local entries never leave their site; a site with the wrong CA is
# detached with a clear error and keeps enforcing; etcd user
# authentication through a password file.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
t_require_root
# shellcheck source=tests/lib_bwe.sh
. "$(dirname "$0")/lib_bwe.sh"
# shellcheck source=tests/lib_etcd.sh
. "$(dirname "$0")/lib_etcd.sh"
T_TIMEOUT=${T_TIMEOUT:-120}
export LC_NUMERIC=C

P=$ETCD_PREFIX
INTERNAL_V4=198.18.0.0/16 # the LAN and the 1,000 hosts of the bulk test
HB=2                      # s, each site's heartbeat
PROPAGATE_S=1             # a change at one site enforced at another (the issue)
BULK=1000
BULK_S=5

t_begin "etcd cluster up"
if ! etcd_up; then t_fail "etcd_up failed"; t_summary; exit 1; fi
t_pass

# One testbed per site, its management link, its config; daemons started below.
site_cfg() { # NAME [etcd_fleet_yaml OPTION...]: this site's config (and $SITE_YAML)
	local name=$1 y
	shift
	y=$(etcd_fleet_yaml "site-$name" heartbeat=${HB}s "$@") || return 1
	write_config "$y${SITE_YAML:+
$SITE_YAML}"
	sed -i "s|^internal_networks: .*|internal_networks: [ $INTERNAL_V4, $BWE_LAN_NET_V6 ]|" "$CFG"
}
declare -A MGMT=([a]=198.19.0.11 [b]=198.19.0.12 [c]=198.19.0.13)
for s in a b c; do
	bwe_site_up "$s"
	if ! etcd_link "$BWE_NS_GW" "${MGMT[$s]}"; then
		t_begin "management link of site $s"; t_fail "etcd_link failed"; t_summary; exit 1
	fi
done
site a && site_cfg a
site b && site_cfg b
etcd_other_ca
site c && site_cfg c "ca=$ETCD_PKI/other-ca.pem" # the wrong CA

t_begin "bwctld -n accepts the fleet block"
site a
if out=$(gw "$BWCTLD" -n -c "$CFG" 2>&1); then t_pass; else t_fail "bwctld -n: $out"; fi

# The fleet block is checked like the rest of the file: bwctld -n refuses
# each of these, naming what is wrong.
t_test_config() {
	local out
	site a
	check_bad() { # WHAT SED-EXPRESSION PATTERN
		sed "$2" "$CFG" >"$DIR/bad.yaml"
		if out=$(gw "$BWCTLD" -n -c "$DIR/bad.yaml" 2>&1); then
			t_fail "bwctld -n accepts $1: $(grep -A9 '^fleet:' "$DIR/bad.yaml")"
		fi
		echo "$1: $out"
		grep -qiE "$3" <<<"$out" || t_fail "bwctld -n on $1 does not say what is wrong: $out"
	}
	check_bad "http:// endpoints without insecure" 's|https://|http://|g' 'insecure|http'
	check_bad "a site name with a blank" 's|^  name: .*|  name: site a|' 'name'
	check_bad "a site name of 64 characters" "s|^  name: .*|  name: $(printf 'x%.0s' $(seq 1 64))|" 'name'
	# secrets are warned about, as a feed's key files (the daemon runs without the fleet then)
	sed "s|key: [^ ]*|key: $DIR/nonexistent.pem|" "$CFG" >"$DIR/bad.yaml"
	out=$(gw "$BWCTLD" -n -c "$DIR/bad.yaml" 2>&1)
	echo "a missing key file: $out"
	grep -q "fleet.tls.key $DIR/nonexistent.pem: cannot stat it" <<<"$out" || t_fail "no warning about the missing key file: $out"
	chmod 0644 "$ETCD_PKI/site-a-key.pem"
	out=$(gw "$BWCTLD" -n -c "$CFG" 2>&1)
	chmod 0600 "$ETCD_PKI/site-a-key.pem"
	grep -q "fleet.tls.key $ETCD_PKI/site-a-key.pem: readable by group or others" <<<"$out" ||
		t_fail "no warning about a key file others can read: $out"
	check_bad "a prefix not ending in /" 's|^  prefix: .*|  prefix: /bwenforce|' 'prefix'
	check_bad "no endpoints" 's|^  endpoints: .*|  endpoints: [ ]|' 'endpoint'
}
t_run "bwctld -n refuses a bad fleet block, saying why" t_test_config

t_begin "bwctld starts at sites A and B"
for s in a b; do
	site "$s"
	if ! start_daemon; then t_fail "site $s: bwctld did not start"; t_summary; exit 1; fi
done
t_pass

# ------------------------------------------------------------------ helpers

fstatus() { bwctl --json fleet status; }
fs() { fstatus | jq -r "$1"; } # JQ-EXPR on this site's fleet status
connected() { [ "$(fs .connected)" = true ]; }
detached() { [ "$(fs .connected)" = false ] && [ "$(fs .detached_since)" != null ]; }
# The site sees every site of NAMES alive (heartbeats).
sees_alive() { # SITE-NAME...
	local n st
	st=$(fstatus) || return 1
	for n in "$@"; do
		jq -e --arg n "$n" '.sites[] | select(.name == $n and .alive == true)' <<<"$st" >/dev/null || return 1
	done
}

# Events of this site's log: the line count now, and the lines after N.
ev_mark() { grep -c . "$LOG" 2>/dev/null || echo 0; }
ev_after() { tail -n +$(($1 + 1)) "$LOG" 2>/dev/null; }
ev_count() { # MARK ACTION [JQ-CONDITION]
	ev_after "$1" | jq -c --arg a "$2" "select(.event.action == \$a) ${3:+| select($3)}" 2>/dev/null | grep -c .
}
ev_has() { # EVENT-LINES JQ-CONDITION [JQ-OPTION...]: one of the lines matches
	local lines=$1 cond=$2
	shift 2
	jq -c "$@" "select($cond)" <<<"$lines" 2>/dev/null | grep -q .
}
ev_show() { ev_after "$1" | jq -c '[.event.action, (.host // .bwenforce.entry.cidr // null), .bwenforce.actor.kind, .bwenforce.actor.site, .event.reason]' 2>/dev/null | tail -n "${2:-20}"; }

# This site's state as the fleet shares it: one line per entry, whatever the
# kind: kind, address or network, MAC, reason (times and actors are local).
KINDS="quarantine throttle blocks exempt allow"
state() {
	local k
	for k in $KINDS; do
		bwctl --json list "$k" | jq -r '.[] | [.kind, (.host // .cidr), (.mac // "-"), (.reason // "")] | @tsv'
	done | sort -u
}
same_state() { # SITE-A SITE-B: their states are equal
	local x y cur=$SITE_CUR
	site "$1" && x=$(state)
	site "$2" && y=$(state)
	site "$cur"
	[ "$x" = "$y" ]
}
state_diff() { # SITE-A SITE-B
	local cur=$SITE_CUR
	diff <(site "$1" && state) <(site "$2" && state) | head -n 20
	site "$cur"
}
# This site lists HOST or CIDR in KIND (lacks: it answers, without it).
has() { # KIND HOST|CIDR
	bwctl --json list "$1" | jq -e --arg h "$2" 'map(.host // .cidr) | index($h) != null' >/dev/null
}
lacks() { # KIND HOST|CIDR
	local j
	j=$(bwctl --json list "$1") || return 1
	! jq -e --arg h "$2" 'map(.host // .cidr) | index($h) != null' <<<"$j" >/dev/null
}
origin() { # KIND HOST: "site local" of the entry
	bwctl --json list "$1" | jq -r --arg h "$2" \
		'[.[] | select(.host == $h or .cidr == $h)][0] | "\(.site) \(.local)"'
}
etcd_keys() { etcdc get --prefix "${P}entries/" --keys-only | grep .; }
# etcd's record of KIND TARGET ("198.18.0.10_32"): its JSON value
etcd_value() { etcdc get "${P}entries/$1/$2" --print-value-only; }

# ---- pings at 100 Hz with timestamps (ping -D), as bench/control.sh takes them
PING_PID=""
ping_start() { # NSFUNC DST OUT DEADLINE_S
	"$1" stdbuf -oL ping -D -n -i 0.01 -W 1 -w "$4" "$2" >"$3" 2>&1 &
	PING_PID=$!
}
ping_stop() {
	[ -n "$PING_PID" ] || return 0
	kill -TERM "$PING_PID" 2>/dev/null
	wait "$PING_PID" 2>/dev/null
	PING_PID=""
}
replies() { grep -c 'bytes from' "$1" 2>/dev/null; }
last_reply() { awk '/bytes from/ { t = $1 } END { gsub(/[][]/, "", t); print t }' "$1"; }
first_reply_after() { # OUT T0
	awk -v t0="$2" '/bytes from/ { t = $1; gsub(/[][]/, "", t); if (t + 0 > t0 + 0) { print t; exit } }' "$1"
}
wait_replies() { # OUT N TIMEOUT_S
	local end=$((SECONDS + $3))
	while [ "$(replies "$1")" -lt "$2" ]; do
		[ $SECONDS -lt "$end" ] || { echo "waited $3 s for $2 ping replies: $(replies "$1")"; return 1; }
		sleep 0.02
	done
}
# Replies stopped for 0.5 s: dropped. The first request left unanswered
# went out at most 10 ms after the last reply.
wait_dropped() { # OUT TIMEOUT_S
	local end=$((SECONDS + $2)) l
	while :; do
		l=$(last_reply "$1")
		[ -n "$l" ] && awk -v l="$l" -v n="$EPOCHREALTIME" 'BEGIN { exit !(n - l > 0.5) }' && return 0
		[ $SECONDS -lt "$end" ] || { echo "waited $2 s for the pings to be dropped"; return 1; }
		sleep 0.05
	done
}
dt() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }

# ------------------------------------------------------------------ tests

# FLEET_ONLY=WORDS runs only the tests whose name contains it (and the
# first, which every other needs); the others are reported skipped.
fl_run() { # NAME FUNC
	if [ -z "${FLEET_ONLY:-}" ] || [[ "$1" == *"$FLEET_ONLY"* ]] || [ "$2" = t_test_attached ]; then
		t_run "$@"
	else
		t_begin "$1"
		t_skip "not selected (FLEET_ONLY=$FLEET_ONLY)"
	fi
}

t_test_attached() {
	local s
	for s in a b; do
		site "$s"
		wait_for 150 connected || t_fail "site $s not connected after 15 s: $(fstatus)"
		assert_eq "$(fs .enabled)" true "site $s enabled"
		assert_eq "$(fs .site)" "site-$s" "site $s name"
		assert_eq "$(fs .detached_since)" null "site $s detached_since"
		fs .endpoint | grep -qE "^https://$ETCD_ADDR:(2379|2479|2579)$" || t_fail "site $s endpoint: $(fs .endpoint)"
		wait_for 100 sees_alive site-a site-b ||
			t_fail "site $s does not see both sites alive: $(fstatus); in etcd: $(etcdc get --prefix "${P}sites/")"
	done
	# each site's heartbeat record, with a lease
	for s in a b; do
		etcdc get "${P}sites/site-$s" --print-value-only | jq -e --arg s "site-$s" '.v == 1 and .site == $s and (.time | type) == "number"' >/dev/null ||
			t_fail "heartbeat record of site-$s: $(etcdc get "${P}sites/site-$s" --print-value-only)"
		[ "$(etcdc get "${P}sites/site-$s" -w json | jq -r '.kvs[0].lease // 0')" != 0 ] || t_fail "site-$s heartbeat has no lease"
	done
	# without a fleet block: enabled false, exit 0
	site c
	write_config >/dev/null
	start_daemon || t_fail "site c without a fleet did not start"
	assert_eq "$(bwctl --json fleet status | jq -c .)" '{"enabled":false}' "fleet status without a fleet"
	stop_daemon TERM
}
fl_run "both sites attach to etcd, heartbeat, and see each other; no fleet block: enabled false" t_test_attached

t_test_quarantine_release() {
	local out t0 t1 d n_a n_b
	site b
	n_b=$(ev_mark)
	ping_start lan "$BWE_SITE_V4" "$DIR/ping-q" 15
	wait_replies "$DIR/ping-q" 5 5 || t_fail "B's LAN host gets no replies before the quarantine"
	site a
	n_a=$(ev_mark)
	t0=$EPOCHREALTIME
	assert_ok bwctl quarantine "$BWE_LAN_V4" --reason "fleet e2e"
	site b
	wait_dropped "$DIR/ping-q" 5 || t_fail "B's LAN host not dropped within 5 s of the quarantine at A"
	t1=$(awk -v l="$(last_reply "$DIR/ping-q")" 'BEGIN { printf "%.6f", l + 0.010 }')
	ping_stop
	d=$(dt "$t0" "$t1")
	echo "quarantine at A -> dropped at B: $d s"
	le "$d" "$PROPAGATE_S" || t_fail "dropped at B $d s after the quarantine at A (more than $PROPAGATE_S s)"
	assert_ok unreach lan "$BWE_SITE_V6"
	assert_ok reach lan "$BWE_MGMT_V4"
	assert_ok has quarantine "$BWE_LAN_V4"
	assert_eq "$(origin quarantine "$BWE_LAN_V4")" "site-a false" "B's entry: site local"
	bwctl list quarantine | head -n 1 | grep -qw SITE || t_fail "no SITE column: $(bwctl list quarantine)"
	bwctl list quarantine | grep -F "$BWE_LAN_V4 " | grep -qw "site-a" || t_fail "no site-a in the SITE column: $(bwctl list quarantine)"
	[ "$(ev_count "$n_b" quarantine '.bwenforce.actor.kind == "fleet" and .bwenforce.actor.site == "site-a"')" -ge 1 ] ||
		t_fail "no quarantine event from the fleet (site-a) at B: $(ev_show "$n_b")"
	site a
	assert_eq "$(origin quarantine "$BWE_LAN_V4")" "site-a false" "A's entry: site local"
	assert_ok unreach lan "$BWE_SITE_V4"
	# release at B: A's LAN host flows within 1 s
	ping_start lan "$BWE_SITE_V4" "$DIR/ping-r" 15
	sleep 0.3
	[ "$(replies "$DIR/ping-r")" = 0 ] || t_fail "A's LAN host not contained before the release"
	site b
	t0=$EPOCHREALTIME
	assert_ok bwctl release "$BWE_LAN_V4" --reason "fleet e2e release"
	site a
	wait_replies "$DIR/ping-r" 1 5 || t_fail "A's LAN host still dropped 5 s after the release at B"
	t1=$(first_reply_after "$DIR/ping-r" "$t0")
	ping_stop
	d=$(dt "$t0" "$t1")
	echo "release at B -> flows at A: $d s"
	le "$d" "$PROPAGATE_S" || t_fail "A's traffic flowed $d s after the release at B (more than $PROPAGATE_S s)"
	assert_ok lacks quarantine "$BWE_LAN_V4"
	[ "$(ev_count "$n_a" release '.bwenforce.actor.kind == "fleet" and .bwenforce.actor.site == "site-b"')" -ge 1 ] ||
		t_fail "no release event from the fleet (site-b) at A: $(ev_show "$n_a")"
	site b
	assert_ok reach lan "$BWE_SITE_V4"
	# what etcd holds for it now: a tombstone from site-b
	out=$(etcdc get --prefix "${P}entries/quarantine/" --print-value-only | jq -c 'select(.deleted == true and .site == "site-b")' 2>/dev/null)
	[ -n "$out" ] || t_fail "no tombstone from site-b in etcd: $(etcdc get --prefix "${P}entries/quarantine/" | head -n 4)"
}
fl_run "quarantine at A drops B's host within 1 s; release at B lets A's host flow within 1 s" t_test_quarantine_release

t_test_ttl() {
	local n_a n_b t0 s key ttl=5
	site a; n_a=$(ev_mark)
	site b; n_b=$(ev_mark)
	site a
	t0=$SECONDS
	assert_ok bwctl quarantine "$BWE_LAN2_V4" --ttl ${ttl}s --reason "fleet ttl"
	site b
	wait_for 30 unreach lan2 "$BWE_SITE_V4" || t_fail "B's lan2 host not contained"
	# the entry's key has a lease of its own
	key=$(etcdc get --prefix "${P}entries/quarantine/" -w json |
		jq -r '.kvs[]? | select((.lease // "0") != "0") | .key | @base64d' | head -n 1)
	[ -n "$key" ] || t_fail "no entry with a lease in etcd: $(etcd_keys)"
	# lifted at both sites on time, then once more a margin in which nothing may follow
	for s in b a; do
		site "$s"
		wait_for 150 reach lan2 "$BWE_SITE_V4" || t_fail "site $s: not lifted $((SECONDS - t0)) s after a ${ttl} s TTL"
	done
	echo "lifted everywhere $((SECONDS - t0)) s after the ${ttl} s quarantine"
	sleep $((HB + 2))
	# A host contained by its MAC address is one record per address and one
	# for the MAC: each record the site put in expires once, by one event.
	local q e dup
	for s in a b; do
		site "$s"
		local m; [ "$s" = a ] && m=$n_a || m=$n_b
		q=$(ev_after "$m" | jq -c 'select(.event.action == "quarantine") | .host' | sort -u)
		e=$(ev_after "$m" | jq -c 'select(.event.action == "expire") | .host' | sort)
		dup=$(uniq -d <<<"$e")
		[ -n "$q" ] || t_fail "site $s: no quarantine event"
		[ -z "$dup" ] || t_fail "site $s: expired more than once: $dup ($(ev_show "$m"))"
		assert_eq "$e" "$q" "site $s: what expired and what was quarantined ($(ev_show "$m"))"
		assert_eq "$(ev_count "$m" release)" 0 "site $s: release events"
		assert_ok lacks quarantine "$BWE_LAN2_V4"
	done
	etcdc get "$key" --print-value-only | jq -e '.deleted != true' >/dev/null 2>&1 &&
		t_fail "the expired entry is still in etcd: $(etcdc get "$key")"
	true
}
fl_run "a TTL expires once, everywhere (one expire event per site)" t_test_ttl

t_test_leader() {
	local l r n
	l=$(etcd_leader) || t_fail "no leader"
	# whatever happens below, the next test finds the cluster whole
	t_atexit "etcd_start_all >/dev/null"
	echo "killing the leader, m$l"
	assert_ok etcd_kill "$l"
	site a
	assert_ok bwctl quarantine 198.18.3.1 198.18.3.2 --reason "leader gone"
	site b
	wait_for 100 has quarantine 198.18.3.2 || t_fail "B has not got A's change 10 s after the leader died: $(fstatus)"
	r=$(etcd_leader) || t_fail "no new leader"
	echo "new leader m$r"
	assert_ok bwctl release 198.18.3.1 --reason "leader gone"
	site a
	wait_for 100 lacks quarantine 198.18.3.1 || t_fail "A has not got B's release"
	# the new leader killed too: no quorum until one comes back
	assert_ok etcd_start "$l"
	assert_ok etcd_wait_healthy 30
	n=$(etcd_leader)
	assert_ok etcd_kill "$n"
	assert_ok bwctl quarantine 198.18.3.3 --reason "second leader gone"
	site b
	wait_for 100 has quarantine 198.18.3.3 || t_fail "B has not got A's change after the second leader died"
	assert_ok etcd_start "$n"
	assert_ok etcd_wait_healthy 30
	site a
	assert_ok bwctl release 198.18.3.2 198.18.3.3
	site b
	wait_for 100 lacks quarantine 198.18.3.3 || t_fail "B has not got A's releases"
	wait_for 50 same_state a b || t_fail "A and B differ: $(state_diff a b)"
}
# A TTL is the entry's own lease, and each site holds the expiry time too:
# the entry ends on time at B while its origin A is down, and at both
# sites while etcd is down; once per record either way.
t_test_ttl_down() {
	local n_a n_b t0 s m q e ttl=6
	site a; n_a=$(ev_mark)
	site b; n_b=$(ev_mark)
	# 1. its origin down
	site a
	assert_ok bwctl quarantine 198.18.9.200 --ttl ${ttl}s --reason "ttl, origin down"
	t0=$SECONDS
	site b
	wait_for 30 has quarantine 198.18.9.200 || t_fail "B has not got the entry"
	site a
	stop_daemon TERM
	site b
	wait_for $(((ttl + 5) * 10)) lacks quarantine 198.18.9.200 || t_fail "B still has it $((SECONDS - t0)) s after a ${ttl} s TTL, its origin down"
	echo "origin down: lifted at B after $((SECONDS - t0)) s"
	site a
	start_daemon || t_fail "A did not restart"
	wait_for 150 connected || t_fail "A not attached again: $(fstatus)"
	# what ran out while it was down ends at its first tick
	wait_for 30 lacks quarantine 198.18.9.200 || t_fail "A still has the expired entry 3 s after its restart"
	# 2. etcd down
	assert_ok bwctl quarantine 198.18.9.201 --ttl ${ttl}s --reason "ttl, etcd down"
	t0=$SECONDS
	site b
	wait_for 30 has quarantine 198.18.9.201 || t_fail "B has not got the second entry"
	t_atexit "etcd_start_all >/dev/null"
	assert_ok etcd_stop_all
	for s in b a; do
		site "$s"
		wait_for $(((ttl + 5) * 10)) lacks quarantine 198.18.9.201 || t_fail "site $s still has it $((SECONDS - t0)) s after a ${ttl} s TTL, etcd down"
		echo "etcd down: lifted at site $s after $((SECONDS - t0)) s"
	done
	assert_ok etcd_start_all
	for s in a b; do
		site "$s"
		wait_for 300 connected || t_fail "site $s not attached again: $(fstatus)"
	done
	sleep $((HB + 2))
	for s in a b; do
		site "$s"
		[ "$s" = a ] && m=$n_a || m=$n_b
		e=$(ev_after "$m" | jq -c 'select(.event.action == "expire") | .host' | sort)
		assert_eq "$(uniq -d <<<"$e")" "" "site $s: records expired twice"
		assert_eq "$(grep -c . <<<"$e")" 2 "site $s: expire events ($(ev_show "$m"))"
		assert_ok lacks quarantine 198.18.9.200
		assert_ok lacks quarantine 198.18.9.201
	done
	wait_for 50 same_state a b || t_fail "A and B differ: $(state_diff a b)"
}
fl_run "a TTL ends on time with its origin down, and everywhere with etcd down; once per record" t_test_ttl_down

fl_run "kill -9 the etcd leader: changes keep propagating after re-election" t_test_leader

t_test_kinds() {
	local k x y
	site a
	assert_ok bwctl throttle 198.18.9.100 10mbit --burst 64KiB --reason "kinds"
	assert_ok bwctl block 203.0.113.0/28 --ttl 1h --reason "kinds"
	assert_ok bwctl exempt 198.51.100.64/26 --reason "kinds"
	assert_ok bwctl allow 198.51.100.128/25 --reason "kinds"
	site b
	wait_for 50 has allow 198.51.100.128/25 || t_fail "B has not got A's allow: $(state)"
	wait_for 50 same_state a b || t_fail "A and B differ: $(state_diff a b)"
	# the details beyond the state's columns: the rate, the expiry
	for k in throttle blocks; do
		site a; x=$(bwctl --json list "$k" | jq -c 'map({h: (.host // .cidr), rate, burst, expires}) | sort_by(.h)')
		site b; y=$(bwctl --json list "$k" | jq -c 'map({h: (.host // .cidr), rate, burst, expires}) | sort_by(.h)')
		assert_eq "$y" "$x" "$k at B and at A"
	done
	assert_eq "$(origin throttle 198.18.9.100)" "site-a false" "throttle's origin at B"
	assert_ok unreach lan 203.0.113.10 # inside the block (203.0.113.5, in it too, is exempt)
	# removed at B: gone at A
	assert_ok bwctl unthrottle 198.18.9.100
	assert_ok bwctl unblock 203.0.113.0/28
	assert_ok bwctl unexempt 198.51.100.64/26
	assert_ok bwctl unallow 198.51.100.128/25
	site a
	wait_for 50 lacks allow 198.51.100.128/25 || t_fail "A still has the allow B removed"
	wait_for 50 same_state a b || t_fail "A and B differ after B's removals: $(state_diff a b)"
	assert_eq "$(state | grep -c 'kinds')" 0 "entries left at A"
}
fl_run "every kind (throttle with its rate, block with its TTL, exempt, allow) goes both ways" t_test_kinds

# A's change of a host and B's release of it at the same time: etcd's order
# decides, the same at both sites, and both changes are in both event logs
# (applied, or recorded as fleet-superseded where it lost).
t_test_conflict() {
	local r h n_a n_b last win s m ev
	for r in 1 2 3 4; do
		h=198.18.9.$r
		site a
		assert_ok bwctl quarantine "$h" --ttl 1h --reason "base $r"
		site b
		wait_for 50 has quarantine "$h" || t_fail "round $r: B has not got $h"
		n_b=$(ev_mark)
		site a; n_a=$(ev_mark)
		(site a && bwctl quarantine "$h" --ttl 2h --reason "conflict A $r" >/dev/null) &
		(site b && bwctl release "$h" --reason "conflict B $r" >/dev/null) &
		wait
		sleep 1
		wait_for 50 same_state a b || t_fail "round $r: A and B differ: $(state_diff a b)"
		last=$(etcd_value quarantine "${h}_32")
		if jq -e '.deleted == true' <<<"$last" >/dev/null; then win=release; else win=quarantine; fi
		echo "round $r: etcd's last record: $(jq -c '{action, site, reason}' <<<"$last")"
		for s in a b; do
			site "$s"
			[ "$s" = a ] && m=$n_a || m=$n_b
			if [ "$win" = release ]; then
				assert_ok lacks quarantine "$h"
			else
				assert_ok has quarantine "$h"
				assert_eq "$(bwctl --json list quarantine | jq -r --arg h "$h" '.[] | select(.host == $h) | .reason')" "conflict A $r" "round $r, site $s: reason"
			fi
			ev=$(ev_after "$m")
			ev_has "$ev" '.event.action == "quarantine" and .event.reason == $r' --arg r "conflict A $r" ||
				ev_has "$ev" '.event.action == "fleet-superseded" and .bwenforce.fleet.site == "site-a" and .bwenforce.fleet.action == "quarantine"' ||
				t_fail "round $r, site $s: A's quarantine is not in the event log: $(ev_show "$m")"
			ev_has "$ev" '.event.action == "release" and .event.reason == $r' --arg r "conflict B $r" ||
				ev_has "$ev" '.event.action == "fleet-superseded" and .bwenforce.fleet.site == "site-b" and .bwenforce.fleet.action == "release"' ||
				t_fail "round $r, site $s: B's release is not in the event log: $(ev_show "$m")"
		done
		site a
		bwctl release "$h" >/dev/null 2>&1
	done
	site b
	wait_for 50 same_state a b || t_fail "A and B differ at the end: $(state_diff a b)"
}
fl_run "a quarantine at A while B releases: etcd's order wins at both, both changes in both logs" t_test_conflict

t_test_etcd_down() {
	local n_a n_b q
	site a
	assert_ok bwctl quarantine "$BWE_LAN_V4" --reason "before etcd stops"
	site b
	wait_for 50 unreach lan "$BWE_SITE_V4" || t_fail "B not enforcing A's quarantine"
	n_b=$(ev_mark)
	site a; n_a=$(ev_mark)
	t_atexit "etcd_start_all >/dev/null"
	assert_ok etcd_stop_all
	for s in a b; do
		site "$s"
		wait_for 200 detached || t_fail "site $s not detached 20 s after etcd stopped: $(fstatus)"
		# fail static: enforcement unchanged
		assert_ok unreach lan "$BWE_SITE_V4"
		assert_ok reach lan2 "$BWE_SITE_V4"
		fs .detached_since | grep -qE '^20[0-9]{2}-[0-9]{2}-[0-9]{2}T' || t_fail "site $s detached_since: $(fs .detached_since)"
	done
	site a
	[ "$(ev_count "$n_a" fleet-detached)" -ge 1 ] || t_fail "no fleet-detached event at A: $(ev_show "$n_a")"
	site b
	[ "$(ev_count "$n_b" fleet-detached)" -ge 1 ] || t_fail "no fleet-detached event at B: $(ev_show "$n_b")"
	# a change made at A while etcd is down: enforced at A at once, queued
	site a
	assert_ok bwctl quarantine "$BWE_LAN2_V4" --reason "while etcd is down"
	assert_ok unreach lan2 "$BWE_SITE_V4"
	q=$(fs .queued)
	[ "$q" -ge 1 ] 2>/dev/null || t_fail "A's fleet status queued: $q"
	sleep 2
	site b
	assert_ok lacks quarantine "$BWE_LAN2_V4"
	assert_ok reach lan2 "$BWE_SITE_V4"
	# etcd back: attached again, the queued change reaches B
	assert_ok etcd_start_all
	for s in a b; do
		site "$s"
		wait_for 300 connected || t_fail "site $s not attached 30 s after etcd came back: $(fstatus)"
		assert_eq "$(fs .detached_since)" null "site $s detached_since after etcd came back"
	done
	site b
	wait_for 100 has quarantine "$BWE_LAN2_V4" || t_fail "A's queued quarantine did not reach B"
	wait_for 30 unreach lan2 "$BWE_SITE_V4" || t_fail "B does not enforce A's queued quarantine"
	assert_eq "$(origin quarantine "$BWE_LAN2_V4")" "site-a false" "origin of the queued entry at B"
	[ "$(ev_count "$n_b" fleet-attached)" -ge 1 ] || t_fail "no fleet-attached event at B: $(ev_show "$n_b")"
	site a
	wait_for 50 eval '[ "$(fs .queued)" = 0 ]' || t_fail "A still has queued changes: $(fstatus)"
	[ "$(ev_count "$n_a" fleet-attached)" -ge 1 ] || t_fail "no fleet-attached event at A: $(ev_show "$n_a")"
	assert_ok bwctl release "$BWE_LAN_V4" "$BWE_LAN2_V4"
	site b
	wait_for 50 reach lan2 "$BWE_SITE_V4" || t_fail "B still drops lan2 after the release at A"
	wait_for 50 same_state a b || t_fail "A and B differ: $(state_diff a b)"
}
fl_run "all of etcd stopped: every site keeps enforcing, detached; A's change reaches B when etcd is back" t_test_etcd_down

# Fail static across a restart: B killed and started again while etcd is
# down enforces what it held (A's entries too) and still has its own queued
# change, which reaches A once etcd is back.
t_test_queued_restart() {
	site a
	assert_ok bwctl quarantine "$BWE_LAN_V4" --reason "before the outage"
	site b
	wait_for 50 has quarantine "$BWE_LAN_V4" || t_fail "B has not got A's quarantine"
	t_atexit "etcd_start_all >/dev/null"
	assert_ok etcd_stop_all
	wait_for 200 detached || t_fail "B not detached: $(fstatus)"
	assert_ok bwctl quarantine 198.18.9.77 --reason "queued at B"
	[ "$(fs .queued)" -ge 1 ] 2>/dev/null || t_fail "B's queue: $(fs .queued)"
	stop_daemon KILL
	start_daemon || t_fail "B did not start with etcd down"
	assert_ok unreach lan "$BWE_SITE_V4"
	assert_ok has quarantine "$BWE_LAN_V4"
	assert_ok has quarantine 198.18.9.77
	assert_ok detached
	[ "$(fs .queued)" -ge 1 ] 2>/dev/null || t_fail "B's queue after its restart: $(fstatus)"
	assert_ok etcd_start_all
	wait_for 300 connected || t_fail "B not attached again: $(fstatus)"
	site a
	wait_for 100 has quarantine 198.18.9.77 || t_fail "B's queued change did not reach A"
	assert_eq "$(origin quarantine 198.18.9.77)" "site-b false" "origin at A"
	site b
	wait_for 50 eval '[ "$(fs .queued)" = 0 ]' || t_fail "B still has queued changes: $(fstatus)"
	site a
	assert_ok bwctl release "$BWE_LAN_V4" 198.18.9.77
	site b
	wait_for 50 reach lan "$BWE_SITE_V4" || t_fail "B still drops its LAN host after A's release"
	wait_for 50 same_state a b || t_fail "A and B differ: $(state_diff a b)"
}
fl_run "B killed and restarted while etcd is down: enforces what it held, its queued change reaches A later" t_test_queued_restart

# A partition of one site, packets to etcd silently dropped (no refusal to
# notice): B says it is detached in bounded time, keeps enforcing, and once
# the path is back takes A's change made meanwhile and writes its own.
t_test_partition() {
	local t0
	site a
	assert_ok bwctl quarantine "$BWE_LAN2_V4" --reason "before the partition"
	site b
	wait_for 50 has quarantine "$BWE_LAN2_V4" || t_fail "B has not got A's quarantine"
	printf 'table inet bwe_partition {\n chain out {\n  type filter hook output priority 0; policy accept;\n  ip daddr %s drop\n }\n}\n' \
		"$ETCD_ADDR" | gw nft -f - || t_fail "nft"
	t_atexit "ip netns exec $BWE_NS_GW nft delete table inet bwe_partition 2>/dev/null; true"
	t0=$SECONDS
	site a
	assert_ok bwctl quarantine 198.18.9.88 --reason "during B's partition"
	site b
	wait_for 300 detached || t_fail "B not detached 30 s into its partition: $(fstatus)"
	echo "B detached $((SECONDS - t0)) s into its partition: $(fs .last_error)"
	assert_ok unreach lan2 "$BWE_SITE_V4"
	assert_ok bwctl quarantine 198.18.9.89 --reason "queued during the partition"
	site a
	wait_for $(((3 * HB + 5) * 10)) eval '! sees_alive site-b' || t_fail "A still sees site-b alive: $(fstatus)"
	site b
	gw nft delete table inet bwe_partition || t_fail "nft delete"
	t0=$SECONDS
	wait_for 300 connected || t_fail "B not attached 30 s after the partition ended: $(fstatus)"
	wait_for 100 has quarantine 198.18.9.88 || t_fail "B has not got A's change from the partition"
	echo "B attached and caught up $((SECONDS - t0)) s after the partition ended"
	site a
	wait_for 100 has quarantine 198.18.9.89 || t_fail "B's queued change did not reach A"
	assert_ok bwctl release "$BWE_LAN2_V4" 198.18.9.88 198.18.9.89
	site b
	wait_for 50 same_state a b || t_fail "A and B differ: $(state_diff a b)"
}
fl_run "one site partitioned (packets dropped): detached in bounded time, enforcing, caught up after" t_test_partition

# The fleet block taken out by a reload (SIGHUP) and put back: off means
# off (enabled false, nothing followed), back on means caught up.
t_test_reload() {
	site b
	cp "$CFG" "$DIR/fleet.yaml"
	write_config
	sed -i "s|^internal_networks: .*|internal_networks: [ $INTERNAL_V4, $BWE_LAN_NET_V6 ]|" "$CFG"
	hup_daemon
	wait_for 50 eval '[ "$(fs .enabled)" = false ]' || t_fail "B's fleet still on after the reload: $(fstatus)"
	assert_eq "$(fstatus | jq -c .)" '{"enabled":false}' "B's fleet status"
	site a
	assert_ok bwctl quarantine 198.18.9.150 --reason "while B's fleet is off"
	wait_for $(((3 * HB + 5) * 10)) eval '! sees_alive site-b' || t_fail "A still sees site-b alive with its fleet off: $(fstatus)"
	site b
	assert_ok lacks quarantine 198.18.9.150
	cp "$DIR/fleet.yaml" "$CFG"
	hup_daemon
	wait_for 150 connected || t_fail "B not attached after the fleet came back: $(fstatus)"
	wait_for 100 has quarantine 198.18.9.150 || t_fail "B has not caught up after the fleet came back"
	site a
	assert_ok bwctl release 198.18.9.150
	wait_for 100 sees_alive site-b || t_fail "A does not see site-b again: $(fstatus)"
	site b
	wait_for 50 same_state a b || t_fail "A and B differ: $(state_diff a b)"
}
fl_run "the fleet block taken out by a reload and put back: off, then caught up" t_test_reload

# A change through A's HTTP API goes to the fleet like one by bwctl (the
# listener's certificate: the etcd members', which names 127.0.0.1).
t_test_api() {
	local tok code
	site a
	stop_daemon TERM
	SITE_YAML="http: { listen: [ \"127.0.0.1:9779\" ], tls: { cert: $ETCD_PKI/member.pem, key: $ETCD_PKI/member-key.pem } }" site_cfg a
	start_daemon || t_fail "A did not start with the HTTP listener"
	t_atexit "site a && stop_daemon TERM && site_cfg a && start_daemon >/dev/null && wait_for 150 connected"
	tok=$(bwctl --json token add fleet-soar --scopes contain,read | jq -r .token)
	[ -n "$tok" ] && [ "$tok" != null ] || t_fail "no token"
	code=$(gw curl -s -o "$DIR/body" -w '%{http_code}' --cacert "$ETCD_PKI/ca.pem" -X PUT \
		-H "Authorization: Bearer $tok" -H "Content-Type: application/json" \
		--data-binary '{"reason":"fleet via api","ttl":"1h"}' "https://127.0.0.1:9779/v1/quarantines/198.18.9.160")
	assert_eq "$code" 201 "PUT at A's API ($(cat "$DIR/body"))"
	site b
	wait_for 50 has quarantine 198.18.9.160 || t_fail "the API's quarantine at A did not reach B"
	assert_eq "$(bwctl --json list quarantine | jq -r '.[] | select(.host == "198.18.9.160") | .reason')" "fleet via api" "reason at B"
	site a
	code=$(gw curl -s -o "$DIR/body" -w '%{http_code}' --cacert "$ETCD_PKI/ca.pem" -X DELETE \
		-H "Authorization: Bearer $tok" "https://127.0.0.1:9779/v1/quarantines/198.18.9.160")
	assert_eq "$code" 204 "DELETE at A's API ($(cat "$DIR/body"))"
	site b
	wait_for 50 lacks quarantine 198.18.9.160 || t_fail "the API's release at A did not reach B"
}
fl_run "a quarantine and its release through A's HTTP API reach B" t_test_api

t_test_restart_b() {
	local pid kids k
	site a
	(
		for i in $(seq 1 40); do
			bwctl quarantine "198.18.4.$i" --reason "churn $i" >/dev/null
			[ $((i % 4)) = 0 ] && bwctl release "198.18.4.$((i - 2))" >/dev/null
			sleep 0.1
		done
	) &
	local churn=$!
	site b
	sleep 0.5
	stop_daemon TERM
	sleep 0.5
	start_daemon || t_fail "B did not restart after SIGTERM"
	sleep 0.5
	pid=$(daemon_pid)
	kids=$(pgrep -P "$pid" | tr '\n' ' ')
	echo "B: bwctld $pid, children: $kids"
	stop_daemon KILL
	# its children (the fleet worker) must not outlive it: they would keep its lease alive
	for k in $kids; do
		wait_for 50 eval "! kill -0 $k 2>/dev/null" || t_fail "child $k of the killed bwctld still runs: $(cat /proc/$k/cmdline | tr '\0' ' ')"
	done
	sleep 0.5
	start_daemon || t_fail "B did not restart after SIGKILL"
	wait "$churn"
	site a
	assert_eq "$(bwctl --json list quarantine | jq '[.[] | select(.host | startswith("198.18.4."))] | length')" 30 "A's entries after the churn"
	wait_for 150 same_state a b || t_fail "B has not converged to A's state 15 s after the churn: $(state_diff a b)"
	site b
	assert_eq "$(origin quarantine 198.18.4.40)" "site-a false" "origin at B"
	site a
	local churned
	mapfile -t churned < <(bwctl --json list quarantine | jq -r '.[] | .host | select(startswith("198.18.4."))')
	assert_ok bwctl release "${churned[@]}"
	wait_for 100 same_state a b || t_fail "B has not got A's releases: $(state_diff a b)"
}
fl_run "B restarted (SIGTERM, then SIGKILL) while A changes things: B converges to A's state" t_test_restart_b

t_test_compaction() {
	local n_b rev
	site a
	assert_ok bwctl quarantine 198.18.5.100 198.18.5.101 --reason "before B stops"
	site b
	wait_for 50 has quarantine 198.18.5.101 || t_fail "B has not got 198.18.5.101"
	stop_daemon TERM
	site a
	assert_ok bwctl release 198.18.5.100 --reason "while B is down"
	assert_ok bwctl quarantine 198.18.5.1 198.18.5.2 198.18.5.3 --reason "while B is down"
	assert_ok bwctl block 203.0.113.66 --reason "while B is down"
	# B's heartbeat lease (3 heartbeats) runs out: A sees it gone
	wait_for $(((3 * HB + 3) * 10)) eval '! sees_alive site-b' || t_fail "A still sees site-b alive $((3 * HB + 3)) s after it stopped: $(fstatus)"
	fstatus | jq -c '.sites'
	rev=$(etcd_compact) || t_fail "compaction failed"
	echo "compacted at revision $rev"
	site b
	n_b=$(ev_mark)
	start_daemon || t_fail "B did not restart"
	wait_for 150 same_state a b || t_fail "B has not converged after the compaction: $(state_diff a b)"
	assert_ok lacks quarantine 198.18.5.100
	assert_ok has blocks 203.0.113.66
	site a
	wait_for 100 sees_alive site-b || t_fail "A does not see site-b alive again: $(fstatus)"
	site b
	wait_for 30 unreach lan 203.0.113.66 || t_fail "B does not drop the block made while it was down"
	[ "$(ev_count "$n_b" fleet-resync)" -ge 1 ] || t_fail "no fleet-resync event at B: $(ev_show "$n_b")"
	ev_after "$n_b" | jq -c 'select(.event.action == "fleet-resync")' | head -n 2
	site a
	assert_ok bwctl release 198.18.5.1 198.18.5.2 198.18.5.3 198.18.5.101
	assert_ok bwctl unblock 203.0.113.66
	wait_for 100 same_state a b || t_fail "B has not got A's releases: $(state_diff a b)"
}
fl_run "a compaction while B is down: B re-reads (fleet-resync) and converges" t_test_compaction

# A record as a site writes it (TEMPLATE: a real value read from etcd),
# changed by a jq update: the bad entries below differ from a good one
# only in what each is about.
entry_json() { # TEMPLATE JQ-UPDATE
	jq -c --argjson now "$(date +%s)" ". + {site: \"site-x\", seq: 1, actor: \"mallory\",
		reason: \"malformed test\", since: \$now, expires: 0} | $2" <<<"$1"
}

t_test_malformed() {
	local s st_a st_b n_a n_b r_a r_b k tpl m r ev why
	local -a keys vals
	# the template: an allow entry as site A writes it
	site a
	assert_ok bwctl allow 198.51.100.99/32 --reason template
	wait_for 50 eval 'tpl=$(etcd_value allow 198.51.100.99_32) && [ -n "$tpl" ]' || t_fail "A's allow entry is not in etcd: $(etcd_keys)"
	echo "template: $tpl"
	assert_ok bwctl unallow 198.51.100.99/32
	site b
	wait_for 50 lacks allow 198.51.100.99 || t_fail "B still has the template entry"
	site a; st_a=$(state); n_a=$(ev_mark); r_a=$(fs .refused)
	site b; st_b=$(state); n_b=$(ev_mark); r_b=$(fs .refused)
	keys=(allow/0.0.0.0_1 quarantine/198.18.6.1_32 block/203.0.113.99_32
		allow/198.51.100.77_32 frobnicate/198.18.6.2_32 quarantine/not-an-address
		exempt/0.0.0.0_0 throttle/198.18.6.4_32 block/203.0.113.98_32
		"block/$(printf 'x%.0s' $(seq 1 300))")
	vals=("$(entry_json "$tpl" '.prefix = "0.0.0.0/1"')" # allow half of IPv4
		"$(entry_json "$tpl" '.kind = "block" | .action = "block" | .prefix = "198.18.6.1/32"')" # kind is not the key's
		'{"v":1,"kind":"block","prefix":"203.0.113.99/32",' # not JSON
		"$(entry_json "$tpl" '.prefix = "198.51.100.78/32"')" # prefix is not the key's
		"$(entry_json "$tpl" '.kind = "frobnicate" | .action = "frobnicate" | .prefix = "198.18.6.2/32"')" # no such kind
		"$(entry_json "$tpl" '.kind = "quarantine" | .action = "quarantine" | .prefix = "198.18.6.3/32"')" # key no target
		"$(entry_json "$tpl" '.kind = "exempt" | .action = "exempt" | .prefix = "0.0.0.0/0"')" # exempt everything
		"$(entry_json "$tpl" '.kind = "throttle" | .action = "throttle" | .prefix = "198.18.6.4/32" | .rate = 0 | .burst = 0')" # no rate
		"$(entry_json "$tpl" ".kind = \"block\" | .action = \"block\" | .prefix = \"203.0.113.98/32\" | .reason = \"$(printf 'r%.0s' $(seq 1 10000))\"")" # 10 kB value
		"$(entry_json "$tpl" '.kind = "block" | .action = "block" | .prefix = "203.0.113.97/32"')") # a key of 310 bytes
	for k in "${!keys[@]}"; do
		assert_ok etcdc put "${P}entries/${keys[$k]}" "${vals[$k]}"
	done
	for s in a b; do
		site "$s"
		[ "$s" = a ] && m=$n_a || m=$n_b
		wait_for 100 eval '[ "$(ev_count "$m" fleet-entry-refused)" -ge ${#keys[@]} ]' ||
			t_fail "site $s: $(ev_count "$m" fleet-entry-refused) fleet-entry-refused events for ${#keys[@]} bad entries: $(ev_show "$m")"
		sleep 1
		assert_eq "$(ev_count "$m" fleet-entry-refused)" "${#keys[@]}" "site $s: one fleet-entry-refused per bad entry"
		for k in "${keys[@]}"; do
			# (a key too long for the worker is named by its first bytes)
			ev=$(ev_after "$m" | jq -c --arg k "entries/$k" --arg p "$P" \
				'select(.event.action == "fleet-entry-refused" and
					((.bwenforce.fleet.key // "") | ltrimstr($p) | .[0:60]) == $k[0:60])')
			why=$(jq -r '.event.reason // ""' <<<"$ev" | head -n 1)
			echo "site $s: $k: $why"
			[ "$(grep -c . <<<"$ev")" = 1 ] || t_fail "site $s: $(grep -c . <<<"$ev") refusals of $k: $(ev_show "$m")"
			[ -n "$why" ] || t_fail "site $s: $k refused without a reason"
			# refused for what is wrong with it, not for what the template lacks
			grep -qi "missing" <<<"$why" && t_fail "site $s: $k refused for a missing field: $why"
		done
		# nothing else happened
		assert_eq "$(ev_after "$m" | jq -r '.event.action' | grep -cvx 'fleet-entry-refused')" 0 \
			"site $s: other events ($(ev_show "$m"))"
		[ "$s" = a ] && assert_eq "$(state)" "$st_a" "site a: state"
		[ "$s" = b ] && assert_eq "$(state)" "$st_b" "site b: state"
		[ "$s" = a ] && r=$r_a || r=$r_b
		[ "$(fs .refused)" -ge $((r + ${#keys[@]})) ] || t_fail "site $s: fleet status refused $(fs .refused), was $r"
		assert_ok reach lan "$BWE_SITE_V4"
		assert_ok lacks allow 0.0.0.0/1
		assert_ok lacks exempt 0.0.0.0/0
	done
	# removing them changes nothing either
	for k in "${keys[@]}"; do etcdc del "${P}entries/$k" >/dev/null; done
	sleep 1
	site a; assert_eq "$(state)" "$st_a" "site a: state after the bad keys went"
	site b; assert_eq "$(state)" "$st_b" "site b: state after the bad keys went"
	# Another site's hosts outside our internal networks are not refused
	# (they are valid where they were made) but contain nothing here:
	# neither a quarantine of an external address nor a host by MAC address
	# given external addresses.
	n_b=$(ev_mark)
	local na
	# shellcheck disable=SC2034  # read by the wait_for eval below
	na=$(fs .not_applicable)
	assert_ok etcdc put "${P}entries/quarantine/203.0.113.10_32" \
		"$(entry_json "$tpl" '.kind = "quarantine" | .action = "quarantine" | .prefix = "203.0.113.10/32"')"
	assert_ok etcdc put "${P}entries/quarantine/mac_02-b3-00-00-00-99" \
		"$(entry_json "$tpl" 'del(.prefix) | .kind = "quarantine" | .action = "quarantine" | .mac = "02:b3:00:00:00:99" | .prefix64 = false | .addresses = ["203.0.113.10", "2001:db8:3::10"]')"
	wait_for 50 eval '[ "$(fs .not_applicable)" -gt "$na" ]' || t_fail "site b: not_applicable still $(fs .not_applicable): $(ev_show "$n_b")"
	sleep 1
	echo "site b after the external entries: $(ev_show "$n_b")"
	assert_ok lacks quarantine 203.0.113.10
	assert_ok lacks quarantine 2001:db8:3::10
	assert_ok reach lan 203.0.113.10
	assert_ok reach lan 2001:db8:3::10
	assert_eq "$(ev_count "$n_b" quarantine '.host.ip == "203.0.113.10" or .host.ip == "2001:db8:3::10"')" 0 "site b: events for the external addresses"
	etcdc del "${P}entries/quarantine/203.0.113.10_32" >/dev/null
	etcdc del "${P}entries/quarantine/mac_02-b3-00-00-00-99" >/dev/null
	wait_for 50 lacks quarantine 02:b3:00:00:00:99 || t_fail "the MAC entry deleted in etcd is still listed at B"
	site a
	wait_for 50 same_state a b || t_fail "A and B differ after the external entries went: $(state_diff a b)"
}
fl_run "malformed entries put straight into etcd: every site refuses them with an event, nothing changes" t_test_malformed

t_test_bulk() {
	local hosts=() i j t0 t1 n d
	for i in 10 11 12 13; do
		for j in $(seq 1 250); do hosts+=("198.18.$i.$j"); done
	done
	bulk_at_b() { bwctl --json list quarantine | jq '[.[] | select(.host | test("^198\\.18\\.1[0-3]\\."))] | length'; }
	site b
	assert_eq "$(bulk_at_b)" 0 "bulk hosts at B before"
	site a
	t0=$EPOCHREALTIME
	for i in 0 250 500 750; do
		bwctl quarantine "${hosts[@]:$i:250}" --reason bulk >/dev/null || t_fail "bwctl quarantine of a batch at A failed"
	done
	t1=$EPOCHREALTIME
	echo "A: $BULK quarantines in $(dt "$t0" "$t1") s"
	site b
	n=0
	while :; do
		n=$(bulk_at_b)
		[ "$n" = "$BULK" ] && break
		awk -v a="$t0" -v n="$EPOCHREALTIME" 'BEGIN { exit !(n - a > 30) }' &&
			t_fail "B has $n of $BULK after 30 s"
		sleep 0.05
	done
	d=$(dt "$t0" "$EPOCHREALTIME")
	echo "$BULK quarantines at A -> all at B: $d s"
	le "$d" "$BULK_S" || t_fail "$BULK quarantines reached B in $d s (more than $BULK_S s)"
	site a
	t0=$EPOCHREALTIME
	for i in 0 250 500 750; do
		bwctl release "${hosts[@]:$i:250}" >/dev/null || t_fail "bwctl release of a batch at A failed"
	done
	site b
	wait_for 300 eval '[ "$(bulk_at_b)" = 0 ]' || t_fail "B still has $(bulk_at_b) of the bulk hosts 30 s after their release"
	echo "$BULK releases at A -> none left at B: $(dt "$t0" "$EPOCHREALTIME") s"
}
fl_run "1,000 quarantines made at A appear at B in under 5 s" t_test_bulk

t_test_local() {
	local n
	site a
	assert_ok bwctl quarantine 198.18.7.1 --local --reason "local only"
	assert_ok bwctl block 203.0.113.80 --local
	assert_eq "$(origin quarantine 198.18.7.1)" "site-a true" "A's local entry"
	# a later shared change has reached B: the local one, made before it, would have too
	assert_ok bwctl quarantine 198.18.7.2 --reason "shared"
	site b
	wait_for 50 has quarantine 198.18.7.2 || t_fail "the shared marker did not reach B"
	sleep 1
	assert_ok lacks quarantine 198.18.7.1
	assert_ok lacks blocks 203.0.113.80
	assert_ok reach lan 203.0.113.80
	etcd_keys | grep -q '198\.18\.7\.1_\|203\.0\.113\.80_' && t_fail "a local entry is in etcd: $(etcd_keys | grep '198\.18\.7\.1_\|203\.0\.113\.80_')"
	site a
	assert_ok unreach lan 203.0.113.80
	# releasing a local entry does not go to etcd either
	assert_ok bwctl release 198.18.7.1
	assert_ok bwctl unblock 203.0.113.80
	assert_ok bwctl release 198.18.7.2
	site b
	wait_for 50 lacks quarantine 198.18.7.2 || t_fail "the marker's release did not reach B"
	n=$(etcd_keys | grep -c '198\.18\.7\.1_\|203\.0\.113\.80_')
	assert_eq "$n" 0 "keys of local entries in etcd after their release"
}
fl_run "--local entries never reach etcd or B" t_test_local

# Feeds are not shared, their status is: each site's heartbeat carries its
# feeds' versions, and every site's fleet status names a feed whose
# versions differ between live sites.
feed_versions() { # the version of feed "shared" at each site, as this site sees them
	fstatus | jq -r '[.sites[] | {n: .name, v: ([.feeds[]? | select(.name == "shared") | .version][0] // "-")}] | sort_by(.n) | map("\(.n)=\(.v)") | join(" ")'
}
divergent() { fstatus | jq -e '.feeds_divergent | index("shared") != null' >/dev/null; }
t_test_feeds() {
	local s v
	for s in a b; do
		site "$s"
		printf '203.0.113.66\n203.0.113.80\n' >"$DIR/shared.txt"
		SITE_YAML="feeds:
  - { name: shared, source: $DIR/shared.txt, format: plain, refresh: 1d }" site_cfg "$s"
		hup_daemon
	done
	# only the live sites count: C, down, may have left its last record
	site a
	wait_for $(((2 * HB + 5) * 10)) eval 'v=$(feed_versions); [[ "$v" =~ site-a=[0-9a-f]{16}\ site-b=[0-9a-f]{16} ]] && [ "${v#* site-b=}" = "$(sed "s/^site-a=\([^ ]*\) .*/\1/" <<<"$v")" ]' ||
		t_fail "the feed's versions at A: $(feed_versions): $(fstatus | jq -c .sites)"
	echo "same feed: $(feed_versions)"
	assert_ok eval '! divergent'
	fstatus | jq -c '.sites[] | {name, feeds}'
	site b
	assert_ok unreach lan 203.0.113.66
	# B's copy of the feed changes: divergent, at A and at B
	printf '203.0.113.66\n' >"$DIR/shared.tmp" && mv -f "$DIR/shared.tmp" "$DIR/shared.txt"
	wait_for 50 reach lan 203.0.113.80 || t_fail "B's feed did not change"
	for s in a b; do
		site "$s"
		wait_for $(((2 * HB + 5) * 10)) divergent || t_fail "site $s does not call the feed divergent: $(fstatus | jq -c '{sites, feeds_divergent}')"
	done
	echo "divergent: $(feed_versions)"
	# the same again: no longer divergent
	site b
	printf '203.0.113.66\n203.0.113.80\n' >"$DIR/shared.tmp" && mv -f "$DIR/shared.tmp" "$DIR/shared.txt"
	site a
	wait_for $(((2 * HB + 5) * 10)) eval '! divergent' || t_fail "A still calls the feed divergent: $(fstatus | jq -c '{sites, feeds_divergent}')"
	assert_eq "$(fs '.feeds_stale | length')" 0 "stale feeds"
	for s in a b; do
		site "$s"
		site_cfg "$s"
		hup_daemon
	done
}
fl_run "feeds are not shared, their versions are: a site with another version makes the feed divergent" t_test_feeds

t_test_wrong_ca() {
	local st
	site c
	site_cfg c "ca=$ETCD_PKI/other-ca.pem"
	start_daemon || t_fail "site c (wrong CA) did not start"
	wait_for 150 detached || t_fail "site c not detached: $(fstatus)"
	wait_for 150 eval '[ "$(fs .last_error)" != null ]' || t_fail "site c says no error 15 s after its start: $(fstatus)"
	st=$(fs .last_error)
	echo "site c: $st"
	grep -qiE 'certificate|verif|unknown ca|issuer|ssl|tls' <<<"$st" ||
		t_fail "no clear error (certificate, verify, ...) in site c's fleet status: $(fstatus)"
	# it enforces what it is told all the same
	assert_ok bwctl quarantine "$BWE_LAN_V4" --reason "wrong CA"
	assert_ok unreach lan "$BWE_SITE_V4"
	[ "$(fs .queued)" -ge 1 ] 2>/dev/null || t_fail "site c queued: $(fs .queued)"
	sleep 1
	site a
	assert_ok lacks quarantine "$BWE_LAN_V4"
	sees_alive site-c && t_fail "site a sees site-c alive: $(fstatus)"
	site c
	assert_ok bwctl release "$BWE_LAN_V4"
	stop_daemon TERM
}

fl_run "a site with the wrong CA is detached with a clear error and keeps enforcing" t_test_wrong_ca

t_test_auth() {
	local s
	assert_ok etcd_auth_enable site-a site-b site-c
	# the sites on certificates alone are no users now; with their passwords they are
	for s in a b; do
		site "$s"
		stop_daemon TERM
		site_cfg "$s" auth
		start_daemon || t_fail "site $s did not start with auth"
		wait_for 150 connected || t_fail "site $s not connected with user and password: $(fstatus)"
	done
	site a
	assert_ok bwctl quarantine 198.18.8.1 --reason "with auth"
	site b
	wait_for 50 has quarantine 198.18.8.1 || t_fail "A's change (with auth) did not reach B: $(fstatus)"
	assert_ok bwctl release 198.18.8.1
	site a
	wait_for 50 lacks quarantine 198.18.8.1 || t_fail "B's release (with auth) did not reach A"
	# a wrong password: detached, saying why
	site c
	site_cfg c auth
	printf 'not-the-password\n' >"$ETCD_PKI/wrong.pw" && chmod 0600 "$ETCD_PKI/wrong.pw"
	sed -i "s|password_file: [^ ]*|password_file: $ETCD_PKI/wrong.pw|" "$CFG"
	start_daemon || t_fail "site c did not start"
	wait_for 150 detached || t_fail "site c (wrong password) not detached: $(fstatus)"
	wait_for 150 eval '[ "$(fs .last_error)" != null ]' || t_fail "site c says no error 15 s after its start: $(fstatus)"
	fs .last_error | grep -qiE 'auth|password|user' || t_fail "no clear error in site c's fleet status: $(fstatus)"
	fstatus
	stop_daemon TERM
}
fl_run "etcd users: each site with its password_file; a wrong password is detached" t_test_auth

# A site whose role may only read the entries (and write its heartbeat):
# its own changes hold there, etcd refuses them (fleet-write-refused, they
# reach no other site), and it follows the others' all the same.
t_test_readonly() {
	local n_c
	assert_ok etcdc role revoke-permission site-c --prefix=true "$P"
	assert_ok etcdc role grant-permission site-c --prefix=true read "$P"
	assert_ok etcdc role grant-permission site-c readwrite "${P}sites/site-c"
	site c
	site_cfg c auth
	n_c=$(ev_mark)
	start_daemon || t_fail "site c did not start"
	wait_for 150 connected || t_fail "site c (read-only) not connected: $(fstatus)"
	assert_ok bwctl quarantine "$BWE_LAN_V4" --reason "read-only site"
	assert_ok unreach lan "$BWE_SITE_V4"
	wait_for 100 eval '[ "$(ev_count "$n_c" fleet-write-refused)" -ge 1 ]' ||
		t_fail "no fleet-write-refused event at site c: $(ev_show "$n_c"); $(fstatus)"
	ev_after "$n_c" | jq -c 'select(.event.action == "fleet-write-refused") | .event.reason' | head -n 2
	assert_ok has quarantine "$BWE_LAN_V4"
	wait_for 50 eval '[ "$(fs .queued)" = 0 ]' || t_fail "site c keeps the refused write queued: $(fstatus)"
	assert_ok connected
	site a
	sleep 1
	assert_ok lacks quarantine "$BWE_LAN_V4"
	wait_for 100 sees_alive site-c || t_fail "A does not see site-c's heartbeat: $(fstatus)"
	# it follows A's changes
	assert_ok bwctl quarantine 198.18.8.2 --reason "to the read-only site"
	site c
	wait_for 50 has quarantine 198.18.8.2 || t_fail "the read-only site has not got A's change"
	site a
	assert_ok bwctl release 198.18.8.2
	site c
	wait_for 50 lacks quarantine 198.18.8.2 || t_fail "the read-only site has not got A's release"
	stop_daemon TERM
}
fl_run "a site whose etcd role only reads: its changes hold there (fleet-write-refused), it follows the others" t_test_readonly

t_summary
