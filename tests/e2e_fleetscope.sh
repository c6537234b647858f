#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# e2e_fleetscope.sh - bwctl scope across a fleet (issue #17, "Wider scope"):
# a three-member etcd 3.4 cluster (tests/lib_etcd.sh) and three gateway
# testbeds, sites A, B and C, joined to it. Hosts at A and at B contact one
# C2 address (real pings, dropped by a blocklist feed at each gateway);
# site C has never seen it.
#  - `bwctl scope C2` at C lists the hosts of A and of B, each with its
#    site, and says every site answered; the text table shows the SITE;
#  - --local at A gives A's part only and says the fleet was not asked;
#    bwctl report of A's host names B's host in other_hosts_same_peers;
#    GET /v1/scope/C2 at A waits for the fleet too (local=1: A's part);
#  - B killed (its lease still alive): C's answer names B as not answering
#    and still lists A's host (partial); C stopped while an API client
#    waits for B lets the client go and ends cleanly;
#  - a malformed answer written straight into etcd, in the name of a site
#    whose heartbeat the test writes too: refused, named with the field
#    that was wrong, the rest of the answer intact, counted in fleet status
#    and the metrics; one over 8 KiB (the worker does not pass it on)
#    likewise;
#  - 40 questions from one site in a minute: 30 answered, the rest
#    counted refused and logged once, another site's question still
#    answered by all; a question from a site that is not alive refused;
#  - etcd stopped: the answer at A is A's part at once, saying it is
#    detached;
#  - no site turns the scope keys into fleet-entry-refused events.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
t_require_root
# shellcheck source=tests/lib_bwe.sh
. "$(dirname "$0")/lib_bwe.sh"
# shellcheck source=tests/lib_etcd.sh
. "$(dirname "$0")/lib_etcd.sh"
T_TIMEOUT=${T_TIMEOUT:-90}

P=$ETCD_PREFIX
HB=2 # s, each site's heartbeat (a site is alive for 3 heartbeats)
API_PORT=8080 # each gateway's HTTP API, on its own loopback

t_begin "etcd cluster up"
if ! etcd_up; then t_fail "etcd_up failed"; t_summary; exit 1; fi
t_pass

declare -A MGMT=([a]=198.19.0.21 [b]=198.19.0.22 [c]=198.19.0.23)
for s in a b c; do
	bwe_site_up "$s"
	if ! etcd_link "$BWE_NS_GW" "${MGMT[$s]}"; then
		t_begin "management link of site $s"; t_fail "etcd_link failed"; t_summary; exit 1
	fi
	mkdir -p "$DIR/feeds"
	printf '%s\n' "$BWE_C2_V4" >"$DIR/feeds/c2.txt"
	y=$(etcd_fleet_yaml "site-$s" heartbeat=${HB}s) || { t_begin "site $s"; t_fail "fleet yaml"; }
	write_config "feeds:
  - { name: c2, source: $DIR/feeds/c2.txt, format: plain }
http: { listen: [ \"127.0.0.1:$API_PORT\" ] }
$y"
	if ! start_daemon; then t_begin "site $s"; t_fail "bwctld did not start"; t_summary; exit 1; fi
done

fs() { bwctl --json fleet status | jq -r "$1"; }
detached() { [ "$(fs .connected)" = false ]; }
sees_alive() { # SITE-NAME...: this site sees them alive
	local n st
	st=$(bwctl --json fleet status) || return 1
	for n in "$@"; do
		jq -e --arg n "$n" '.sites[] | select(.name == $n and .alive == true)' <<<"$st" >/dev/null ||
			return 1
	done
}
hosts_of() { # JSON: "SITE HOST" per line, sorted
	jq -r '.hosts[] | "\(.site) \(.host)"' <<<"$1" | sort
}
c2_indexed() { # HOST: this site's own index has HOST's contact with the C2
	bwctl --json scope "$BWE_C2_V4" --local | jq -e --arg h "$1" '[.hosts[].host] | index($h) != null' \
		>/dev/null
}

t_test_attach() {
	local s
	for s in a b c; do
		site "$s"
		wait_for 60 sees_alive site-a site-b site-c ||
			t_fail "site $s does not see every site alive: $(bwctl --json fleet status | jq -c '[.connected, .last_error, [.sites[] | [.name, .alive]]]')"
		wait_for 50 field_is c2 entries 1 || t_fail "site $s: the c2 feed did not load"
	done
}
t_run "three sites attached, each sees the others alive" t_test_attach

# A's LAN host and B's second LAN host contact the C2 (dropped at each gateway).
t_test_contacts() {
	site a
	lan ping -c 2 -W 1 -q "$BWE_C2_V4" >/dev/null 2>&1
	wait_for 40 c2_indexed "$BWE_LAN_V4" || t_fail "site a did not index its host's contact"
	site b
	lan2 ping -c 2 -W 1 -q "$BWE_C2_V4" >/dev/null 2>&1
	wait_for 40 c2_indexed "$BWE_LAN2_V4" || t_fail "site b did not index its host's contact"
}
t_run "hosts at A and B contact the C2" t_test_contacts

# The median and the largest of 11 runs of bwctl scope ADDR, --local and
# fleet-wide interleaved (wall clock of the whole command, ms).
timed_medians() { # ADDR
	local i t0 l=() w=()
	for i in $(seq 1 11); do
		t0=$(date +%s%N); bwctl --json scope "$1" --local >/dev/null
		l+=($((($(date +%s%N) - t0) / 1000)))
		t0=$(date +%s%N); bwctl --json scope "$1" >/dev/null
		w+=($((($(date +%s%N) - t0) / 1000)))
	done
	med() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { printf "median %.1f ms, max %.1f ms", v[int((NR + 1) / 2)] / 1000, v[NR] / 1000 }'; }
	echo "bwctl scope --local: $(med "${l[@]}"); fleet-wide (3 sites): $(med "${w[@]}")"
}

t_test_fleet_scope() {
	local s txt
	site c
	s=$(bwctl --json scope "$BWE_C2_V4") || { t_fail "bwctl scope at c: $s"; return; }
	# a figure, not a check: bwctl scope with and without the fleet, interleaved, in ms
	timed_medians "$BWE_C2_V4"
	assert_eq "$(hosts_of "$s" | tr '\n' ' ')" "site-a $BWE_LAN_V4 site-b $BWE_LAN2_V4 " \
		"C's answer: $(jq -c '[.hosts, .coverage.fleet]' <<<"$s")"
	assert_eq "$(jq -r .kind <<<"$s")" address "kind"
	jq -e '.coverage.fleet.asked and (.coverage.fleet.partial | not) and
		.coverage.fleet.sites_asked == 2 and ([.coverage.fleet.answered[].site] | sort) ==
		["site-a", "site-b"] and (.coverage.fleet.not_answered | length) == 0 and
		.coverage.site == "the fleet"' <<<"$s" >/dev/null ||
		t_fail "coverage: $(jq -c .coverage <<<"$s")"
	jq -e --arg c "$BWE_C2_V4" '[.hosts[] | .peers_in_common[0].peer == $c and
		.peers_in_common[0].feed == "c2" and .rank >= 1] | all' <<<"$s" >/dev/null ||
		t_fail "the peer in common: $(jq -c .hosts <<<"$s")"
	txt=$(bwctl scope "$BWE_C2_V4")
	echo "$txt"
	if ! grep -qE "^ *[0-9]+ +site-a +$BWE_LAN_V4 " <<<"$txt" ||
		! grep -qE "^ *[0-9]+ +site-b +$BWE_LAN2_V4 " <<<"$txt"; then
		t_fail "the text table does not show each host's site"
	fi
	grep -q "covers: the fleet (site-c, site-[ab], site-[ab])" <<<"$txt" || t_fail "text coverage: $txt"
	# --local at A: A's part only, the fleet not asked
	site a
	s=$(bwctl --json scope "$BWE_C2_V4" --local)
	assert_eq "$(jq -r '[.hosts[].host] | join(" ")' <<<"$s")" "$BWE_LAN_V4" "A's local part"
	jq -e '(.coverage.fleet.asked | not) and .coverage.fleet.reason == "local only, as asked" and
		.coverage.site == "this site"' <<<"$s" >/dev/null ||
		t_fail "--local coverage: $(jq -c .coverage <<<"$s")"
	bwctl scope "$BWE_C2_V4" --local | grep -q "covers: this site only (local only, as asked)" ||
		t_fail "--local text: $(bwctl scope "$BWE_C2_V4" --local)"
	# the same question at A without --local: its own host and B's
	s=$(bwctl --json scope "$BWE_C2_V4")
	assert_eq "$(hosts_of "$s" | tr '\n' ' ')" "site-a $BWE_LAN_V4 site-b $BWE_LAN2_V4 " "A's fleet answer"
	# bwctl report at A: its other_hosts_same_peers has B's host (the same C2), --local not
	s=$(bwctl --json report "$BWE_LAN_V4")
	assert_eq "$(jq -r '.other_hosts_same_peers.hosts[] | "\(.site) \(.host)"' <<<"$s" | tr '\n' ' ')" \
		"site-b $BWE_LAN2_V4 " "A's report: $(jq -c .other_hosts_same_peers <<<"$s")"
	s=$(bwctl --json report "$BWE_LAN_V4" --local)
	jq -e '(.other_hosts_same_peers.hosts | length) == 0 and
		.other_hosts_same_peers.coverage.fleet.reason == "local only, as asked"' <<<"$s" \
		>/dev/null || t_fail "report --local: $(jq -c .other_hosts_same_peers <<<"$s")"
	# the HTTP API at A: the client waits for the fleet too; local=1 A's part
	local tok
	tok=$(bwctl --json token add soar --scopes read | jq -r .token)
	api() { gw curl -sS -m 8 -H "Authorization: Bearer $tok" "http://127.0.0.1:$API_PORT$1"; }
	s=$(api "/v1/scope/$BWE_C2_V4")
	assert_eq "$(hosts_of "$s" | tr '\n' ' ')" "site-a $BWE_LAN_V4 site-b $BWE_LAN2_V4 " \
		"the API's answer: $s"
	jq -e '.coverage.fleet.asked and (.coverage.fleet.partial | not)' <<<"$s" >/dev/null ||
		t_fail "API coverage: $(jq -c .coverage <<<"$s")"
	s=$(api "/v1/scope/$BWE_C2_V4?local=1")
	assert_eq "$(jq -r '[.hosts[].host] | join(" ")' <<<"$s")" "$BWE_LAN_V4" "the API's local part: $s"
	# the API's report: its section is A's part, and says so
	s=$(api "/v1/hosts/$BWE_LAN_V4/report")
	jq -e '.other_hosts_same_peers.coverage.fleet.reason | test("GET /v1/scope/HOST asks the fleet")' \
		<<<"$s" >/dev/null || t_fail "API report section: $(jq -c .other_hosts_same_peers <<<"$s")"
}
t_run "bwctl scope C2 at C lists the hosts of A and B with their site; --local at A" t_test_fleet_scope

# A heartbeat record for a site that does not exist: alive for the sites.
fake_site() { # NAME
	local lease now
	now=$(date +%s)
	lease=$(etcdc lease grant 30 | awk '{ print $2 }') || return 1
	etcdc put --lease="$lease" "${P}sites/$1" "{\"v\":1,\"site\":\"$1\",\"time\":$now}" >/dev/null
}
# Wait for a scope question to appear in etcd; print its ID.
question_id() {
	local i k
	for i in $(seq 1 60); do
		k=$(etcdc get --prefix "${P}scope/req/" --keys-only 2>/dev/null | grep . | tail -n 1)
		[ -n "$k" ] && { echo "${k##*/}"; return 0; }
		sleep 0.05
	done
	return 1
}

t_test_malformed() {
	local s id out refused0
	site c
	refused0=$(fs .scope_refused)
	# the earlier questions' keys are gone with their leases (30 s) or ignored: take a fresh one
	etcdc del --prefix "${P}scope/" >/dev/null
	if ! fake_site site-x || ! fake_site site-y; then
		t_fail "cannot write the fake sites' heartbeats"
		return
	fi
	wait_for 20 sees_alive site-x site-y || { t_fail "c does not see site-x and site-y"; return; }
	bwctl --json scope "$BWE_C2_V4" >"$DIR/scope-x.json" 2>&1 &
	local pid=$!
	id=$(question_id) || { t_fail "no question in etcd"; wait $pid; return; }
	# an answer for site-x whose first host is not an address
	out=$(etcdc put "${P}scope/ans/$id/site-x" "{\"v\":1,\"id\":\"$id\",\"site\":\"site-x\",\"target\":\"$BWE_C2_V4\",\"generated\":1,\"more\":0,\"hosts\":[{\"host\":\"pwned\",\"peers_in_common\":1,\"peers\":[],\"first_seen\":1,\"last_seen\":1}]}" 2>&1) ||
		t_fail "etcdctl put: $out"
	# and one for site-y over the 8 KiB a value may have (the worker does not pass it on)
	out=$(etcdc put "${P}scope/ans/$id/site-y" "{\"v\":1,\"pad\":\"$(head -c 9000 /dev/zero | tr '\0' x)\"}" 2>&1) ||
		t_fail "etcdctl put: $out"
	wait $pid
	s=$(cat "$DIR/scope-x.json")
	assert_eq "$(hosts_of "$s" | tr '\n' ' ')" "site-a $BWE_LAN_V4 site-b $BWE_LAN2_V4 " \
		"the rest of the answer: $(jq -c .hosts <<<"$s")"
	jq -e '.coverage.fleet.partial and ([.coverage.fleet.not_answered[] | select(.site == "site-x") |
		.reason | test("hosts\\[0\\]: \"host\" is not an address")] | length) == 1' <<<"$s" \
		>/dev/null || t_fail "site-x not named as refused: $(jq -c .coverage.fleet <<<"$s")"
	jq -e '[.coverage.fleet.not_answered[] | select(.site == "site-y") | .reason |
		test("value over 8192 bytes")] | length == 1' <<<"$s" >/dev/null ||
		t_fail "site-y not named as refused: $(jq -c .coverage.fleet <<<"$s")"
	[ "$(fs .scope_refused)" -gt "$refused0" ] || t_fail "fleet status scope_refused did not grow"
	gw curl -s -m 5 "http://127.0.0.1:$API_PORT/metrics" |
		grep -qE "^bwenforce_fleet_scope_refused_total [1-9]" ||
		t_fail "metrics: $(gw curl -s -m 5 "http://127.0.0.1:$API_PORT/metrics" | grep scope_refused)"
	grep -qF "fleet: scope: refused scope/ans/$id/site-x: hosts[0]: \"host\" is not an address" \
		"$DIR/bwctld.log" || t_fail "no log line: $(grep 'scope:' "$DIR/bwctld.log" | tail -3)"
	etcdc del "${P}sites/site-x" >/dev/null
	etcdc del "${P}sites/site-y" >/dev/null
}
t_run "a malformed answer written into etcd: refused and named, the rest intact" t_test_malformed

# A flood of questions (a hostile or broken site): each site answers at most
# 30 questions a minute from any one site (FLEET_SCOPE_RATE) and counts the
# rest as refused; another site's questions are still answered. Questions in
# the name of a site that is not alive are refused.
t_test_question_flood() {
	local i id now refused0 refused answered n=40 s
	site c
	etcdc del --prefix "${P}scope/" >/dev/null
	# not across a minute's boundary: the bound is per calendar minute
	while [ "$(date +%-S)" -gt 45 ]; do sleep 1; done
	# site-z's heartbeat, kept fresh while the questions go in
	fake_site site-z || { t_fail "cannot write site-z's heartbeat"; return; }
	(for _ in $(seq 1 60); do sleep 1; fake_site site-z || exit; done) &
	local beat=$!
	wait_for 20 sees_alive site-z || { t_fail "c does not see site-z"; kill $beat; return; }
	refused0=$(fs .scope_refused)
	now=$(date +%s)
	for i in $(seq 1 $n); do
		id=$(printf 'f100d%011x' "$i")
		etcdc put "${P}scope/req/$id" "{\"v\":1,\"id\":\"$id\",\"site\":\"site-z\",\"target\":\"$BWE_C2_V4\",\"since_s\":3600,\"deadline\":$((now + 30)),\"peers\":[]}" >/dev/null ||
			{ t_fail "etcdctl put of question $i"; kill $beat; return; }
	done
	flood_done() {
		answered=$(etcdc get --prefix "${P}scope/ans/f100d" --keys-only | grep -c '/site-c$')
		refused=$(($(fs .scope_refused) - refused0))
		[ $((answered + refused)) -ge $n ]
	}
	wait_for 100 flood_done || true
	echo "site c: $answered of $n questions from site-z answered, $refused refused"
	assert_eq "$answered $refused" "30 $((n - 30))" "answered and refused of $n questions"
	grep -q "fleet: scope: more than 30 questions from site-z in this minute" "$DIR/bwctld.log" ||
		t_fail "no log line for the flood"
	[ "$(grep -c 'more than 30 questions from site-z' "$DIR/bwctld.log")" -le 1 ] ||
		t_fail "the flood is logged per question, not once a minute"
	# a question from a site with no heartbeat: refused, not answered
	id=f100d00000000dea
	etcdc put "${P}scope/req/$id" "{\"v\":1,\"id\":\"$id\",\"site\":\"site-gone\",\"target\":\"$BWE_C2_V4\",\"since_s\":3600,\"deadline\":$((now + 30)),\"peers\":[]}" >/dev/null
	wait_for 50 grep -qF "refused scope/req/$id: the asking site is not alive" "$DIR/bwctld.log" ||
		t_fail "a dead site's question: $(grep 'scope:' "$DIR/bwctld.log" | tail -2)"
	[ -z "$(etcdc get --prefix "${P}scope/ans/$id/" --keys-only)" ] ||
		t_fail "a dead site's question was answered"
	kill $beat 2>/dev/null
	wait $beat 2>/dev/null
	etcdc del "${P}sites/site-z" >/dev/null
	# site-z used up its minute at B and C too: A's own question still gets their answers
	site a
	gone() { ! sees_alive "$1"; }
	wait_for 20 gone site-z || t_fail "a still sees site-z alive"
	s=$(bwctl --json scope "$BWE_C2_V4")
	jq -e '(.coverage.fleet.partial | not) and .coverage.fleet.sites_asked == 2' <<<"$s" \
		>/dev/null || t_fail "after the flood, A's question: $(jq -c .coverage.fleet <<<"$s")"
	etcdc del --prefix "${P}scope/" >/dev/null
}
t_run "a flood of questions from one site: 30 answered a minute, the rest refused, others served" \
	t_test_question_flood

t_test_site_down() {
	local s
	site b
	stop_daemon KILL # its lease lives on for 3 heartbeats: still counted alive
	site c
	sees_alive site-b || echo "(site-b already gone from c's view)"
	s=$(bwctl --json scope "$BWE_C2_V4")
	if jq -e '[.coverage.fleet.not_answered[].site] | index("site-b") != null' <<<"$s" >/dev/null; then
		jq -e '.coverage.fleet.partial and .coverage.site == "the fleet, in part"' <<<"$s" \
			>/dev/null || t_fail "not said partial: $(jq -c .coverage <<<"$s")"
		jq -r '.coverage.fleet.not_answered[] | select(.site == "site-b") | .reason' <<<"$s" |
			grep -q "no answer within 3 s" || t_fail "reason: $(jq -c .coverage.fleet <<<"$s")"
	else
		t_fail "site-b is not named as not answering: $(jq -c .coverage.fleet <<<"$s")"
	fi
	assert_eq "$(hosts_of "$s" | tr '\n' ' ')" "site-a $BWE_LAN_V4 " "A still answers"
	bwctl scope "$BWE_C2_V4" | grep -q "PARTIAL: not answered: site-b (no answer within 3 s)" ||
		t_fail "text: $(bwctl scope "$BWE_C2_V4")"
	# C stopped while an API client waits for B: the client is let go, C ends cleanly
	local tok pid t0
	tok=$(bwctl --json token add waiter --scopes read | jq -r .token)
	gw curl -s -m 8 -o "$DIR/waiting.json" -w '%{http_code}' -H "Authorization: Bearer $tok" \
		"http://127.0.0.1:$API_PORT/v1/scope/$BWE_C2_V4" >"$DIR/waiting.code" 2>&1 &
	pid=$!
	sleep 1
	t0=$SECONDS
	stop_daemon TERM
	wait $pid
	[ $((SECONDS - t0)) -lt 5 ] || t_fail "the waiting client was held $((SECONDS - t0)) s"
	echo "waiting API client at stop: HTTP $(cat "$DIR/waiting.code")"
	grep -iE "panic|assert|suspended" "$DIR/bwctld.log" && t_fail "libmicrohttpd complained at stop"
	grep -q "exiting" "$DIR/bwctld.log" || t_fail "C did not end cleanly: $(tail -3 "$DIR/bwctld.log")"
	start_daemon || t_fail "site c did not restart"
	site b
	start_daemon || t_fail "site b did not restart"
}
t_run "site B down: named as not answering, A's part still there" t_test_site_down

t_test_detached() {
	local s t0
	etcd_stop_all || t_fail "etcd did not stop"
	site a
	wait_for 100 detached || t_fail "site a did not detach"
	t0=$(date +%s%N)
	s=$(bwctl --json scope "$BWE_C2_V4")
	echo "detached: answered in $((($(date +%s%N) - t0) / 1000000)) ms"
	assert_eq "$(jq -r '[.hosts[].host] | join(" ")' <<<"$s")" "$BWE_LAN_V4" "A's part while detached"
	jq -e '(.coverage.fleet.asked | not) and
		.coverage.fleet.reason == "the fleet was not asked: detached from etcd"' <<<"$s" \
		>/dev/null || t_fail "detached coverage: $(jq -c .coverage <<<"$s")"
	etcd_start_all || t_fail "etcd did not come back"
	wait_for 150 sees_alive site-a site-b site-c || t_fail "site a did not attach again"
}
t_run "detached from etcd: this site's part at once, saying so" t_test_detached

t_test_no_noise() {
	local s n
	for s in a b c; do
		site "$s"
		n=$(grep -c '"action":"fleet-entry-refused"' "$LOG" 2>/dev/null)
		assert_eq "${n:-0}" 0 "site $s: fleet-entry-refused events: $(grep fleet-entry-refused "$LOG" | head -3)"
	done
}
t_run "scope keys never become fleet-entry-refused events" t_test_no_noise

t_summary
