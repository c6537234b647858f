#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# e2e_taxii.sh - bwctld as a TAXII 2.1 client and a MISP client, against
# fixture servers the test starts inside the gateway namespace, where bwctld
# runs (tests/tools/taxii_server.py, tests/tools/misp_server.py: Python's
# standard library, on 127.0.0.1). TAXII: a collection polled across three
# pages (more/next), added_after on the next poll, basic and bearer auth, a
# wrong password refused with a clear feed error and the last good set kept,
# a revocation that lifts a block, a valid_until that ends one without a
# poll, a next loop, endless pages and a poll larger than max_bytes refused,
# a restart while the server is down keeping the collection. MISP: the key
# header, the restSearch body, to_ids false not taken, a block enforced, the
# provenance in bwctl lookup. Traffic is LAN-initiated (ping from the LAN
# host to the listed internet addresses).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
t_require_root
# shellcheck source=tests/lib_bwe.sh
. "$(dirname "$0")/lib_bwe.sh"
T_TIMEOUT=${T_TIMEOUT:-90}

for c in python3 jq curl; do
	if ! command -v "$c" >/dev/null 2>&1; then
		t_begin "$c"; t_fail "$c not installed (scripts/setup-deps.sh)"; t_summary; exit 1
	fi
done

bwe_testbed_up tx
gw ip link set lo up
REFRESH=10 # s, the shortest a feed may have; waits are one refresh and a margin
TX_PORT=18490
MISP_PORT=18491
TXD=$DIR/taxii
MD=$DIR/misp
mkdir -p "$TXD" "$MD"
(umask 077
 printf 's3cret-pw\n' >"$DIR/taxii.pw"
 printf 'tok-%s\n' "$$" >"$DIR/taxii.token"
 printf 'misp-key-%s\n' "$$" >"$DIR/misp.key"
 # the servers read copies, so that the test can make bwctld's file wrong alone
 cp "$DIR/taxii.pw" "$TXD/server.pw"; cp "$DIR/taxii.token" "$TXD/server.token"
 cp "$DIR/misp.key" "$MD/server.key")
chmod 0644 "$TXD/server.pw" "$TXD/server.token" "$MD/server.key"

now_ts() { date -u +%Y-%m-%dT%H:%M:%S.%3NZ; }
ts_at() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; } # UNIX-SECONDS
uuid() { python3 -c 'import uuid; print(uuid.uuid4())'; }
ind() { # ID MODIFIED PATTERN [EXTRA-JSON]
	jq -cn --arg id "$1" --arg m "$2" --arg p "$3" --argjson x "${4:-"{}"}" \
		'{type: "indicator", spec_version: "2.1", id: $id, created: "2026-01-01T00:00:00.000Z",
		  modified: $m, name: "test", indicator_types: ["malicious-activity"],
		  pattern: $p, pattern_type: "stix", valid_from: "2026-01-01T00:00:00Z"} + $x'
}
entry() { jq -cn --arg d "$1" --argjson o "$2" '{date_added: $d, object: $o}'; } # DATE OBJECT
v4pat() { echo "[ipv4-addr:value = '$1']"; }
v6pat() { echo "[ipv6-addr:value = '$1']"; }

ID_C2=indicator--$(uuid)
ID_C2_6=indicator--$(uuid)
ID_RELAY=indicator--$(uuid)
ID_NET6=indicator--$(uuid)
ID_RELAY6=indicator--$(uuid)
ID_SITE=indicator--$(uuid)
M0=2026-11-01T10:00:00.000Z

# c1 (basic auth): four indicators, a yara one and an identity (not asked
# for: match[type]=indicator), in three pages of two
{
	entry 2026-11-01T10:00:00.001Z "$(ind "$ID_C2" "$M0" "$(v4pat "$BWE_C2_V4")")"
	entry 2026-11-01T10:00:00.002Z '{"type":"identity","spec_version":"2.1","id":"identity--f431f809-377b-45e0-aa1c-6a4751cae5ff","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":"test CERT","identity_class":"organization"}'
	entry 2026-11-01T10:00:00.003Z "$(ind "$ID_C2_6" "$M0" "$(v6pat "$BWE_C2_V6")")"
	entry 2026-11-01T10:00:00.004Z "$(ind "$ID_RELAY" "$M0" "[network-traffic:dst_ref.value = '$BWE_RELAY_V4' AND network-traffic:dst_port = 443]")"
	entry 2026-11-01T10:00:00.005Z "$(ind "indicator--$(uuid)" "$M0" 'rule x { condition: true }' '{"pattern_type": "yara"}')"
	entry 2026-11-01T10:00:00.006Z "$(ind "indicator--$(uuid)" "$M0" "$(v4pat 192.0.2.0/24)")"
} | jq -s . >"$TXD/c1.json"
# c2 (bearer): a lasting block and one that ends 30 s after the start
T_END=$(($(date +%s) + 30))
{
	entry 2026-11-01T10:00:00.001Z "$(ind "$ID_RELAY6" "$M0" "$(v6pat "$BWE_RELAY_V6")")"
	entry 2026-11-01T10:00:00.002Z "$(ind "$ID_SITE" "$M0" "$(v4pat "$BWE_SITE_V4")" "{\"valid_until\": \"$(ts_at "$T_END")\"}")"
} | jq -s . >"$TXD/c2.json"
# MISP: an ip-dst|port to block, an ip-src that is not for IDS, a hash, and
# a domain that a DNS server on the internet side resolves (to a documentation
# address outside the testbed: it is checked with bwctl lookup, not traffic)
DOM_ADDR=192.0.2.77
printf '{"ttl": 300, "names": {"c2.botnet.example": ["%s"]}}\n' "$DOM_ADDR" >"$DIR/zone.json"
setsid ip netns exec "$BWE_NS_NET" python3 "$ROOT/tests/tools/dns_stub.py" "$BWE_DNS_V4" "$DIR/zone.json" \
	>"$DIR/dns.queries" 2>"$DIR/dns.log" &
DNS_PID=$!
t_atexit "kill $DNS_PID 2>/dev/null; true"
mkdir -p "/etc/netns/$BWE_NS_GW"
t_atexit "rm -rf /etc/netns/$BWE_NS_GW"
echo "nameserver $BWE_DNS_V4" >"/etc/netns/$BWE_NS_GW/resolv.conf"
MISP_UUID=$(uuid)
jq -n --arg site "$BWE_SITE_V6" --arg net "$BWE_NET_V4" --arg u "$MISP_UUID" '[
  {id: "1", event_id: "42", type: "ip-dst|port", category: "Network activity", to_ids: true,
   uuid: $u, comment: "proxyware relay", value: ($site + "|443")},
  {id: "2", event_id: "42", type: "ip-src", category: "Network activity", to_ids: false,
   uuid: "5f0c7a3e-1b2c-4d5e-8f90-a1b2c3d4e5fa", comment: "scanner", value: $net},
  {id: "3", event_id: "43", type: "sha256", category: "Payload delivery", to_ids: true,
   uuid: "5f0c7a3e-1b2c-4d5e-8f90-a1b2c3d4e5fb", comment: "",
   value: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
  {id: "4", event_id: "43", type: "domain", category: "Network activity", to_ids: true,
   uuid: "5f0c7a3e-1b2c-4d5e-8f90-a1b2c3d4e5fc", comment: "C2", value: "C2.Botnet.example"}]' >"$MD/attributes.json"

SRV_PIDS=()
server_start() { # PORT SCRIPT ARGS...
	local port=$1; shift
	setsid ip netns exec "$BWE_NS_GW" python3 "$@" >>"$DIR/servers.out" 2>&1 &
	SRV_PIDS+=($!)
	for _ in $(seq 1 50); do
		gw bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "server on $port did not come up:"; tail -5 "$DIR/servers.out"
	return 1
}
servers_stop() { local p; for p in "${SRV_PIDS[@]}"; do kill "$p" 2>/dev/null; done; }
t_atexit 'servers_stop'
if ! server_start $TX_PORT "$ROOT/tests/tools/taxii_server.py" $TX_PORT "$TXD" bwe "$TXD/server.pw" "$TXD/server.token" ||
	! server_start $MISP_PORT "$ROOT/tests/tools/misp_server.py" $MISP_PORT "$MD" "$MD/server.key"; then
	t_begin "fixture servers"; t_fail "did not start"; t_summary; exit 1
fi

TX=http://127.0.0.1:$TX_PORT
write_config "feeds:
  - { name: tx-basic, source: $TX/api1/, collection: c1, format: taxii, insecure: true,
      refresh: ${REFRESH}s, auth: { user: bwe, password_file: $DIR/taxii.pw } }
  - { name: tx-bearer, source: $TX/api1/collections/c2/objects/, format: taxii, insecure: true,
      refresh: 1h, bearer_file: $DIR/taxii.token }
  - { name: tx-loop, source: $TX/api1/, collection: loop, format: taxii, insecure: true,
      refresh: 1h, bearer_file: $DIR/taxii.token }
  - { name: tx-endless, source: $TX/api1/, collection: endless, format: taxii, insecure: true,
      refresh: 1h, bearer_file: $DIR/taxii.token }
  - { name: tx-big, source: $TX/api1/, collection: c1, format: taxii, insecure: true,
      refresh: 1h, bearer_file: $DIR/taxii.token, max_bytes: 1k }
  - { name: misp, source: http://127.0.0.1:$MISP_PORT/, format: misp, insecure: true,
      refresh: 1h, api_key_file: $DIR/misp.key, last: 7d }"
if ! start_daemon; then t_begin "daemon"; t_fail "bwctld did not start"; t_summary; exit 1; fi

txlog() { jq -c "$@" "$TXD/requests.log" 2>/dev/null; }

t_test_config() {
	local bad
	assert_ok gw "$BWCTLD" -n -c "$CFG"
	# each key where it belongs, with the reason
	sed 's|collection: c1, format: taxii|collection: c1, format: plain|' "$CFG" >"$DIR/bad.yaml"
	bad=$(gw "$BWCTLD" -n -c "$DIR/bad.yaml" 2>&1)
	grep -q "applies only to format: taxii" <<<"$bad" || t_fail "collection on plain: $bad"
	sed 's|api_key_file: \(.*\), last: 7d|bearer_file: \1|' "$CFG" >"$DIR/bad.yaml"
	bad=$(gw "$BWCTLD" -n -c "$DIR/bad.yaml" 2>&1)
	grep -q "misp authenticates with api_key_file" <<<"$bad" || t_fail "misp with bearer: $bad"
	sed 's|last: 7d|last: 7 days|' "$CFG" >"$DIR/bad.yaml"
	bad=$(gw "$BWCTLD" -n -c "$DIR/bad.yaml" 2>&1)
	grep -q "is not a MISP window" <<<"$bad" || t_fail "bad window: $bad"
}
t_run "bwctld -n: the taxii and misp keys, each where it belongs" t_test_config

t_test_pages() {
	wait_for 100 field_is tx-basic entries 4 ||
		t_fail "entries: $(feed_field tx-basic entries); $(bwctl --json feeds | jq -c '.[0]'); $(tail -5 "$DIR/bwctld.log")"
	assert_ok unreach lan "$BWE_C2_V4"
	assert_ok unreach lan "$BWE_C2_V6"
	assert_ok unreach lan "$BWE_RELAY_V4"
	assert_ok reach lan "$BWE_NET_V6"
	# the first poll: three pages, no added_after, the media type, basic auth
	local first; first=$(txlog 'select(.path == "/api1/collections/c1/objects/" and .auth == "basic")' | head -3)
	assert_eq "$(wc -l <<<"$first")" 3 "pages of the first poll"
	assert_eq "$(jq -r .added_after <<<"$first" | sort -u)" null "added_after of the first poll"
	assert_eq "$(jq -r .match_type <<<"$first" | sort -u)" indicator "match[type]"
	assert_eq "$(jq -r '.next != null' <<<"$first" | tr '\n' ' ')" "false true true " "next of each page"
	jq -r .accept <<<"$first" | grep -qxF "application/taxii+json;version=2.1" ||
		t_fail "Accept: $(jq -r .accept <<<"$first" | head -1)"
	assert_eq "$(feed_field tx-basic indicators)" 5 "ids held (the yara one holds nothing)"
	assert_eq "$(feed_field tx-basic added_after)" 2026-11-01T10:00:00.006Z "cursor"
	local l; l=$(bwctl --json lookup "$BWE_C2_V4")
	assert_eq "$(jq -r .feed <<<"$l")" tx-basic "lookup feed"
	assert_eq "$(jq -r '.matches[0].indicator' <<<"$l")" "$ID_C2" "lookup indicator"
}
t_run "a collection polled across three pages is enforced, with the STIX id as provenance" t_test_pages

t_test_bearer() {
	wait_for 50 field_is tx-bearer entries 2 || t_fail "entries: $(feed_field tx-bearer entries)"
	assert_ok unreach lan "$BWE_RELAY_V6"
	txlog 'select(.path == "/api1/collections/c2/objects/")' | grep -q '"auth": *"bearer"' ||
		t_fail "no bearer request: $(tail -3 "$TXD/requests.log")"
}
t_run "bearer auth" t_test_bearer

t_test_hostile() {
	wait_for 50 field_is_not tx-loop last_error null || t_fail "no error for the loop"
	feed_field tx-loop last_error | grep -q "a next it sent before (a loop)" ||
		t_fail "loop error: $(feed_field tx-loop last_error)"
	# the server was asked twice, not forever
	assert_eq "$(txlog 'select(.path == "/api1/collections/loop/objects/")' | wc -l)" 2 "loop requests"
	wait_for 50 field_is_not tx-big last_error null || t_fail "no error for max_bytes"
	feed_field tx-big last_error | grep -q "exceed max_bytes (1024)" ||
		t_fail "max_bytes error: $(feed_field tx-big last_error)"
	assert_eq "$(feed_field tx-big entries)" 0 "entries of the refused poll"
	# a new next every time: the poll ends after 1000 pages
	wait_for 300 field_is_not tx-endless last_error null || t_fail "no error for endless pages"
	feed_field tx-endless last_error | grep -q "more than 1000 pages in one poll" ||
		t_fail "pages error: $(feed_field tx-endless last_error)"
	assert_eq "$(txlog 'select(.path == "/api1/collections/endless/objects/")' | wc -l)" 1000 "endless requests"
}
t_run "a next loop, endless pages and a poll over max_bytes are refused" t_test_hostile

t_test_misp() {
	wait_for 50 field_is misp entries 2 || t_fail "entries: $(feed_field misp entries); $(feed_field misp last_error)"
	assert_eq "$(feed_field misp domains)" 1 "domains"
	# the domain took the resolution path: its address is blocked, named by the domain
	bwctl lookup "$DOM_ADDR" | head -1 | grep -qF "from feed misp: c2.botnet.example" ||
		t_fail "domain lookup: $(bwctl lookup "$DOM_ADDR" | head -2)"
	assert_ok unreach lan "$BWE_SITE_V6"
	assert_ok reach lan "$BWE_NET_V4" # to_ids false
	local r; r=$(jq -c 'select(.status == 200)' "$MD/requests.log" | head -1)
	assert_eq "$(jq -r .auth <<<"$r")" ok "Authorization: the key"
	assert_eq "$(jq -r .method <<<"$r")" POST "method"
	assert_eq "$(jq -r .path <<<"$r")" /attributes/restSearch "path"
	assert_eq "$(jq -c .body <<<"$r")" \
		'{"returnFormat":"json","type":["ip-src","ip-dst","ip-src|port","ip-dst|port","domain"],"to_ids":true,"last":"7d"}' "body"
	assert_eq "$(feed_field misp rejected)" 0 "rejected"
	bwctl lookup "$BWE_SITE_V6" | head -1 |
		grep -qF "from feed misp: misp event 42 attribute $MISP_UUID (proxyware relay)" ||
		t_fail "lookup: $(bwctl lookup "$BWE_SITE_V6" | head -2)"
}
t_run "MISP: the key header, the search, to_ids false not taken, a block enforced" t_test_misp

t_test_expiry() {
	local t1
	assert_ok unreach lan "$BWE_SITE_V4"
	wait_for 400 reach lan "$BWE_SITE_V4" || t_fail "not lifted at valid_until"
	t1=$(date +%s)
	echo "valid_until $(ts_at "$T_END"), lifted at $(ts_at "$t1")"
	if [ "$t1" -lt "$T_END" ] || [ "$t1" -gt $((T_END + 3)) ]; then
		t_fail "lifted at $t1, valid_until $T_END"
	fi
	# refresh 1h: the only poll of tx-bearer was the first
	assert_eq "$(txlog 'select(.path == "/api1/collections/c2/objects/")' | wc -l)" 1 "polls of c2"
	assert_ok unreach lan "$BWE_RELAY_V6"
	grep -q '"action":"indicator-expired"\|"action":"feed-updated"' "$LOG" || t_fail "no event"
}
t_run "valid_until ends a block without waiting for a poll" t_test_expiry

t_test_added_after() {
	local d; d=$(now_ts)
	# a new indicator, and RELAY's later version, revoked
	jq --argjson a "$(entry "$d" "$(ind "$ID_NET6" "$M0" "$(v6pat "$BWE_NET_V6")")")" \
		--argjson r "$(entry "$d" "$(ind "$ID_RELAY" 2026-11-02T10:00:00.000Z "$(v4pat "$BWE_RELAY_V4")" '{"revoked": true}')")" \
		'. + [$a, $r]' "$TXD/c1.json" >"$TXD/c1.new" && mv "$TXD/c1.new" "$TXD/c1.json"
	wait_for $(((REFRESH + 3) * 10)) unreach lan "$BWE_NET_V6" || t_fail "new indicator not blocked"
	wait_for 30 reach lan "$BWE_RELAY_V4" || t_fail "revoked indicator still blocked"
	assert_ok unreach lan "$BWE_C2_V4"
	# polls after the first ask for what was added after the first's last object
	txlog 'select(.path == "/api1/collections/c1/objects/" and .next == null)' | sed -n '2,$p' |
		jq -r .added_after | sort -u | grep -qx 2026-11-01T10:00:00.006Z ||
		t_fail "added_after: $(txlog 'select(.path == "/api1/collections/c1/objects/")' | tail -3)"
	wait_for 30 field_is tx-basic added_after "$d" || t_fail "cursor: $(feed_field tx-basic added_after)"
	assert_eq "$(feed_field tx-basic entries)" 4 "entries (C2 v4 and v6, 192.0.2.0/24, NET v6)"
	assert_eq "$(feed_field tx-basic indicators_live)" 4 "live ids"
}
t_run "added_after: a new indicator is blocked, a revocation lifts a block on traffic" t_test_added_after

t_test_wrong_password() {
	printf 'wrong\n' >"$DIR/taxii.pw"
	wait_for $(((REFRESH + 3) * 10)) field_is_not tx-basic last_error null || t_fail "no error"
	feed_field tx-basic last_error | grep -q "TAXII poll failed: page 1: HTTP status 401: the credentials were refused" ||
		t_fail "error: $(feed_field tx-basic last_error)"
	feed_field tx-basic last_error | grep -q "stay in force (fail static)" || t_fail "not fail static"
	assert_eq "$(feed_field tx-basic fail_static)" true "fail_static"
	assert_eq "$(feed_field tx-basic entries)" 4 "entries kept"
	assert_ok unreach lan "$BWE_C2_V4"
	assert_ok unreach lan "$BWE_NET_V6"
	grep -q '"action":"feed-error"' "$LOG" || t_fail "no feed-error event"
	txlog 'select(.auth == "bad")' | grep -q . || t_fail "the server saw no bad password"
	# the right one again: the next poll succeeds
	cp "$TXD/server.pw" "$DIR/taxii.pw"
	wait_for $(((REFRESH + 3) * 10)) field_is tx-basic last_error null || t_fail "not recovered"
	assert_ok unreach lan "$BWE_C2_V4"
}
t_run "a wrong password is refused with a clear error; the last good set stays" t_test_wrong_password

t_test_restart_server_down() {
	kill "${SRV_PIDS[0]}"
	stop_daemon TERM
	start_daemon || t_fail "bwctld did not restart"
	# the saved collection is enforced before, and without, a poll
	wait_for 50 field_is tx-basic entries 4 || t_fail "entries: $(feed_field tx-basic entries)"
	assert_ok unreach lan "$BWE_C2_V4"
	assert_ok unreach lan "$BWE_NET_V6"
	assert_ok reach lan "$BWE_RELAY_V4" # revoked: not in the saved set
	wait_for 50 field_is_not tx-basic last_error null || t_fail "no poll error"
	feed_field tx-basic last_error | grep -q "TAXII poll failed" ||
		t_fail "error: $(feed_field tx-basic last_error)"
	assert_ok unreach lan "$BWE_C2_V4"
}
t_run "a restart of bwctld while the TAXII server is down keeps the collection" t_test_restart_server_down

t_test_secrets_never_shown() {
	assert_fail grep -rqF "s3cret-pw" "$LOG" "$DIR/bwctld.log" "$DIR/state"
	assert_fail grep -rqF "misp-key-$$" "$LOG" "$DIR/bwctld.log" "$DIR/state"
	bwctl --json feeds | grep -qF "tok-$$" && t_fail "token in bwctl feeds --json"
	true
}
t_run "no secret in a log, event, state file or output" t_test_secrets_never_shown

t_summary
