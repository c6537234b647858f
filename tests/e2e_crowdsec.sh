#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# e2e_crowdsec.sh - bwctld as a CrowdSec bouncer against a real CrowdSec
# local API (Debian's crowdsec, `crowdsec -no-cs`: the LAPI alone, its own
# config, port and SQLite database in the test's directory, inside the
# gateway namespace where bwctld runs; no hub, no central API). Decisions
# are driven with cscli: one added is enforced on LAN-initiated traffic
# within one refresh, one deleted is lifted, a short --duration ends on
# time, overlapping decisions on one address are counted, the LAPI stopped
# keeps the blocks (fail static) and its restart reconciles, a daemon
# restarted while the LAPI is down restores its decisions; the key file is
# checked by bwctld -n and the key is never shown.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
t_require_root
# shellcheck source=tests/lib_bwe.sh
. "$(dirname "$0")/lib_bwe.sh"
T_TIMEOUT=${T_TIMEOUT:-120}

if ! command -v crowdsec >/dev/null 2>&1 || ! command -v cscli >/dev/null 2>&1; then
	t_begin "crowdsec"
	t_fail "crowdsec/cscli not installed (scripts/setup-deps.sh installs Debian's crowdsec)"
	t_summary
	exit 1
fi

bwe_testbed_up cs
gw ip link set lo up
REFRESH=10 # s, the format's default; every wait below is one refresh and a margin
CS_PORT=18480
CSD=$DIR/crowdsec
CSCFG=$CSD/config.yaml
mkdir -p "$CSD/data" "$CSD/hub"
echo '{}' >"$CSD/hub/.index.json"
cp /etc/crowdsec/profiles.yaml "$CSD/profiles.yaml"
printf 'simulation: off\n' >"$CSD/simulation.yaml"
: >"$CSD/acquis.yaml"
cat >"$CSCFG" <<EOF
common:
  daemonize: false
  log_media: file
  log_dir: $CSD/
  log_level: info
  working_dir: $CSD
config_paths:
  config_dir: $CSD/
  data_dir: $CSD/data/
  simulation_path: $CSD/simulation.yaml
  hub_dir: $CSD/hub/
  index_path: $CSD/hub/.index.json
  notification_dir: $CSD/notifications/
  plugin_dir: /usr/lib/crowdsec/plugins/
crowdsec_service:
  acquisition_path: $CSD/acquis.yaml
cscli:
  output: human
  color: no
db_config:
  log_level: warning
  type: sqlite
  use_wal: false
  db_path: $CSD/data/crowdsec.db
api:
  client:
    credentials_path: $CSD/local_api_credentials.yaml
  server:
    log_level: info
    listen_uri: 127.0.0.1:$CS_PORT
    profiles_path: $CSD/profiles.yaml
    trusted_ips: [ 127.0.0.1 ]
prometheus:
  enabled: false
EOF
cscli_() { gw cscli -c "$CSCFG" "$@" 2>>"$CSD/cscli.log"; }

CS_PID=
lapi_start() {
	setsid ip netns exec "$BWE_NS_GW" crowdsec -c "$CSCFG" -no-cs >>"$CSD/lapi.out" 2>&1 &
	CS_PID=$!
	for _ in $(seq 1 100); do
		gw curl -s -o /dev/null "http://127.0.0.1:$CS_PORT/v1/decisions/stream" && return 0
		sleep 0.1
	done
	echo "the LAPI did not come up:"; tail -5 "$CSD/lapi.out"
	return 1
}
lapi_stop() {
	[ -n "$CS_PID" ] || return 0
	kill "$CS_PID" 2>/dev/null
	for _ in $(seq 1 50); do kill -0 "$CS_PID" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$CS_PID" 2>/dev/null
	CS_PID=
}
t_atexit 'lapi_stop'

# a machine for cscli (writes the database directly), the LAPI, our bouncer
cscli_ machines add -a -f "$CSD/local_api_credentials.yaml" >/dev/null
if ! lapi_start; then t_begin "LAPI"; t_fail "crowdsec -no-cs did not start"; t_summary; exit 1; fi
KEY=$(cscli_ bouncers add "bwe-$$" -o raw)
KEYF=$DIR/crowdsec.key
(umask 077 && printf '%s\n' "$KEY" >"$KEYF")

cs_add() { cscli_ decisions add "$@" | grep -q "successfully added"; }
cs_id() { # VALUE: id of the longest decision on VALUE
	cscli_ decisions list -o json | jq -r --arg v "$1" \
		'[.[]? | .decisions[]? | select(.value == $v)] | max_by(.id) | .id'
}

# blocked before bwctld starts: the startup pull must find it
cs_add -i "$BWE_C2_V4" -d 1h --reason "test c2"
write_config "feeds:
  - { name: cs, source: http://127.0.0.1:$CS_PORT/, insecure: true, format: crowdsec-lapi,
      api_key_file: $KEYF, scopes: [ Ip, Range ] }"
if ! start_daemon; then t_begin "daemon"; t_fail "bwctld did not start"; t_summary; exit 1; fi

t_test_key_file() {
	chmod 0644 "$KEYF"
	gw "$BWCTLD" -n -c "$CFG" >"$DIR/n.out" 2>&1
	grep -q "warning: feed cs: api_key_file $KEYF: readable by group or others" "$DIR/n.out" ||
		t_fail "bwctld -n said: $(cat "$DIR/n.out")"
	chmod 0600 "$KEYF"
	gw "$BWCTLD" -n -c "$CFG" >"$DIR/n.out" 2>&1
	assert_fail grep -q "api_key_file" "$DIR/n.out"
	assert_ok grep -qx "configuration OK" "$DIR/n.out"
	# a key in the YAML itself is no key: the loader does not know it
	sed 's|api_key_file: .*|api_key: secret }|' "$CFG" >"$DIR/bad.yaml"
	assert_fail gw "$BWCTLD" -n -c "$DIR/bad.yaml"
}
t_run "bwctld -n warns about a key file others can read" t_test_key_file

t_test_startup() {
	wait_for 50 field_is cs decisions 1 ||
		t_fail "decisions: $(feed_field cs decisions); $(bwctl --json feeds | jq -c '.[0]'); $(tail -5 "$DIR/bwctld.log")"
	assert_ok unreach lan "$BWE_C2_V4"
	assert_ok reach lan "$BWE_SITE_V4"
	local l id; l=$(bwctl --json lookup "$BWE_C2_V4")
	id=$(cs_id "$BWE_C2_V4")
	assert_eq "$(jq -r .feed <<<"$l")" cs "lookup feed"
	jq -r '.matches[0].indicator' <<<"$l" |
		grep -q "^crowdsec decision $id (origin cscli, scenario test c2, scope Ip)" ||
		t_fail "provenance: $(jq -c '.matches' <<<"$l")"
	jq -e '.matches[0].expires | test("^20")' <<<"$l" >/dev/null || t_fail "no expiry"
	bwctl lookup "$BWE_C2_V4" | head -1 |
		grep -qF "from feed cs: crowdsec decision $id (origin cscli, scenario test c2, scope Ip)" ||
		t_fail "bwctl lookup text: $(bwctl lookup "$BWE_C2_V4" | head -1)"
}
t_run "the startup pull blocks what the LAPI holds, with the decision as provenance" t_test_startup

t_test_add_delete() {
	local t0 t1
	t0=$(date +%s)
	cs_add -i "$BWE_RELAY_V4" -d 1h
	wait_for $(((REFRESH + 3) * 10)) unreach lan "$BWE_RELAY_V4" || t_fail "not blocked within a refresh"
	t1=$(date +%s)
	echo "decision added -> blocked in $((t1 - t0)) s"
	cs_add -r "$BWE_SITE_V6/128" -d 1h
	wait_for $(((REFRESH + 3) * 10)) unreach lan "$BWE_SITE_V6" || t_fail "Range decision not blocked"
	cscli_ decisions delete -i "$BWE_RELAY_V4" >/dev/null
	wait_for $(((REFRESH + 3) * 10)) reach lan "$BWE_RELAY_V4" || t_fail "deleted decision not lifted"
	cscli_ decisions delete -r "$BWE_SITE_V6/128" >/dev/null
	wait_for $(((REFRESH + 3) * 10)) reach lan "$BWE_SITE_V6" || t_fail "deleted Range not lifted"
	assert_ok unreach lan "$BWE_C2_V4"
	grep -q '"action":"feed-updated"' "$LOG" || t_fail "no feed-updated event"
}
t_run "a decision added is enforced within one refresh, deleted is lifted" t_test_add_delete

t_test_overlap() {
	cs_add -i "$BWE_SITE_V4" -d 30m
	wait_for $(((REFRESH + 3) * 10)) unreach lan "$BWE_SITE_V4" || t_fail "not blocked"
	cs_add -i "$BWE_SITE_V4" -d 2h
	local long; long=$(cs_id "$BWE_SITE_V4")
	sleep $((REFRESH + 2))
	# the longer one goes, the 30 min one still holds the address
	cscli_ decisions delete --id "$long" >/dev/null
	sleep $((REFRESH + 2))
	assert_ok unreach lan "$BWE_SITE_V4"
	# the last one goes: lifted (a deletion naming another id than the one
	# held makes bwctld pull the whole set: LAPI 1.4 names one per value)
	cscli_ decisions delete -i "$BWE_SITE_V4" >/dev/null
	wait_for $(((2 * REFRESH + 3) * 10)) reach lan "$BWE_SITE_V4" || t_fail "not lifted after the last decision"
}
t_run "overlapping decisions on one address: blocked until the last one goes" t_test_overlap

t_test_expiry() {
	local t0 t1
	cs_add -i "$BWE_RELAY_V4" -d 15s
	t0=$(date +%s)
	wait_for $(((REFRESH + 3) * 10)) unreach lan "$BWE_RELAY_V4" || t_fail "short decision not blocked"
	wait_for 300 reach lan "$BWE_RELAY_V4" || t_fail "not lifted at its end"
	t1=$(date +%s)
	echo "15 s decision lifted after $((t1 - t0)) s"
	if [ $((t1 - t0)) -lt 13 ] || [ $((t1 - t0)) -gt 18 ]; then t_fail "lifted after $((t1 - t0)) s, not ~15"; fi
	grep -q '"action":"indicator-expired"' "$LOG" || t_fail "no indicator-expired event"
}
t_run "a short --duration ends on time, without waiting for a pull" t_test_expiry

t_test_lapi_down() {
	lapi_stop
	wait_for $(((REFRESH + 3) * 10)) field_is cs fail_static true || t_fail "feed not fail static"
	feed_field cs last_error | grep -q "fail static" || t_fail "error: $(feed_field cs last_error)"
	sleep "$REFRESH"
	assert_ok unreach lan "$BWE_C2_V4"
	assert_eq "$(feed_field cs decisions)" 1 "decisions kept"
	grep -q '"action":"feed-error"' "$LOG" || t_fail "no feed-error event"
	# back, with one decision gone and one new meanwhile: the startup pull reconciles
	lapi_start || t_fail "LAPI restart"
	cscli_ decisions delete -i "$BWE_C2_V4" >/dev/null
	cs_add -i "$BWE_SITE_V4" -d 1h
	wait_for $(((REFRESH + 3) * 10)) unreach lan "$BWE_SITE_V4" || t_fail "new decision not blocked"
	wait_for 30 reach lan "$BWE_C2_V4" || t_fail "deleted decision still blocked"
	assert_eq "$(feed_field cs fail_static)" false "fail_static after the restart"
	assert_eq "$(feed_field cs last_error)" null "last_error after the restart"
}
t_run "the LAPI down keeps the blocks (fail static); its restart reconciles" t_test_lapi_down

t_test_daemon_restart() {
	lapi_stop
	stop_daemon TERM
	start_daemon || t_fail "bwctld did not restart"
	sleep 2
	assert_ok unreach lan "$BWE_SITE_V4"
	assert_eq "$(feed_field cs decisions)" 1 "saved decisions restored"
	lapi_start || t_fail "LAPI restart"
}
t_run "a restart of bwctld while the LAPI is down keeps its decisions" t_test_daemon_restart

t_test_reload_filter() {
	local cfg0; cfg0=$(cat "$CFG")
	# only decisions of origin crowdsec: every cscli decision is lifted at once
	write_config "feeds:
  - { name: cs, source: http://127.0.0.1:$CS_PORT/, insecure: true, format: crowdsec-lapi,
      api_key_file: $KEYF, origins: [ crowdsec ] }"
	hup_daemon
	wait_for 50 reach lan "$BWE_SITE_V4" || t_fail "filtered decision still blocked after reload"
	assert_eq "$(feed_field cs decisions)" 0 "decisions after the filter"
	# the filter went to the LAPI as the bouncers send it (its access log)
	grep -rq "decisions/stream?startup=[a-z]*&origins=crowdsec" "$CSD"/*.log ||
		t_fail "no filtered pull in the LAPI's log: $(grep -rh 'decisions/stream' "$CSD"/*.log | tail -2)"
	printf '%s\n' "$cfg0" >"$CFG"
	hup_daemon
	wait_for 50 unreach lan "$BWE_SITE_V4" || t_fail "not blocked again after the filter went"
}
t_run "a reload that changes the filters pulls the whole set again" t_test_reload_filter

t_test_key_never_shown() {
	assert_fail grep -rqF "$KEY" "$LOG" "$DIR/bwctld.log" "$DIR/state"
	bwctl --json feeds | grep -qF "$KEY" && t_fail "key in bwctl feeds --json"
	bwctl --json status | grep -qF "$KEY" && t_fail "key in bwctl status"
	true
}
t_run "the key is in no log, event, state file or output" t_test_key_never_shown

t_summary
