#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# e2e_api.sh - API tokens and the HTTP API (/v1/) of bwctld on the gateway
# testbed: bwctl token add/list/revoke on the control socket, then, with the
# HTTP listener, curl over TLS (a throwaway CA made here with openssl):
# every route, 401 without a token, 403 without the scope, problem bodies
# for bad input that changes nothing, idempotent repeats, 1,000 requests
# from 20 concurrent clients with no change lost or doubled, a quarantine
# that really cuts the host off, and oversized bodies refused (413).
#
# The HTTP part needs the listener (ctl/bwctld/http.c and the `http:`
# section); where `bwctld -n` refuses that section it is reported skipped.
. "$(dirname "$0")/lib.sh"
t_require_root

. "$(dirname "$0")/lib_bwe.sh"
T_TIMEOUT=${T_TIMEOUT:-120}
bwe_testbed_up api
# a name only the gateway's hosts file knows (ip netns exec bind-mounts
# /etc/netns/NS/hosts over /etc/hosts for the daemon)
HOSTS_NAME=lan2-$RUN.test
mkdir -p "/etc/netns/$BWE_NS_GW"
t_atexit "rm -rf /etc/netns/$BWE_NS_GW"
printf '127.0.0.1 localhost\n%s %s\n' "$BWE_LAN2_V4" "$HOSTS_NAME" >"/etc/netns/$BWE_NS_GW/hosts"
PORT=9779
BASE=https://127.0.0.1:$PORT
TOKFILE=$DIR/state/tokens.json

# nogroup is the read-only role: nobody reaches the socket, as a reader
RO="control_readonly_group: nogroup"
write_config "$RO"
t_begin "bwctld starts"
if start_daemon; then t_pass; else t_fail "daemon did not start"; t_summary; exit 1; fi

# ---- tokens on the control socket ---------------------------------------------------

t_test_token_add_list_revoke() {
	local out tok list
	out=$(bwctl token add soar --scopes contain,read) || { t_fail "token add: $out"; return 1; }
	tok=$(grep -o 'bwe_[A-Za-z0-9_-]*' <<<"$out" | head -1)
	assert_eq "${#tok}" 47 "token length (bwe_ + 43 base64url characters of 32 bytes)"
	assert_ok grep -q "not shown again" <<<"$out"
	# the daemon keeps a salted hash, never the token, in a 0600 file
	assert_eq "$(stat -c %a "$TOKFILE")" 600 "mode of tokens.json"
	assert_fail grep -q "${tok#bwe_}" "$TOKFILE"
	assert_eq "$(jq -r '.tokens[0].name' "$TOKFILE")" soar "stored name"
	assert_eq "$(jq -r '.tokens[0].sha256 | length' "$TOKFILE")" 64 "stored hash"
	list=$(bwctl --json token list)
	assert_eq "$(jq -r '.[0].name + " " + (.[0].scopes | join(","))' <<<"$list")" \
		"soar read,contain" "list"
	assert_fail grep -q "${tok#bwe_}" <<<"$list"
	assert_eq "$(jq -r '.[0].last_used' <<<"$list")" null "never used"
	assert_ok grep -q "soar" <<<"$(bwctl token list)"
	# --json add gives the token once, as data
	assert_eq "$(bwctl --json token add grafana --scopes read | jq -r '.token | startswith("bwe_")')" true
	assert_ok bwctl token revoke grafana
	assert_eq "$(bwctl --json token list | jq length)" 1 "tokens after revoke"
	# the audit trail: who made and revoked which token, never the token
	assert_eq "$(grep '"action":"token-add"' "$LOG" | grep -c '"name":"grafana"')" 1 "token-add event"
	assert_eq "$(grep '"action":"token-revoke"' "$LOG" | grep -c '"name":"grafana"')" 1 "token-revoke event"
	assert_fail grep -q "${tok#bwe_}" "$LOG"
}
t_run "bwctl token add prints a token once; the daemon keeps only a salted hash" \
	t_test_token_add_list_revoke

t_test_token_bad_input() {
	local before; before=$(sha256sum <"$TOKFILE")
	local bad
	for bad in "add 'bad name' --scopes read" "add x --scopes read,root" "add x --scopes read,read" \
		"add x" "add soar --scopes read" "add abcdefghijklmnopqrstuvwxyz0123456 --scopes read" \
		"revoke nosuch" "add x --scopes ''" "list extra"; do
		eval "bwctl token $bad" >/dev/null 2>&1
		assert_eq "$?" 2 "exit status of bwctl token $bad"
	done
	assert_ok grep -q "unknown scope \"root\"" <<<"$(bwctl token add x --scopes read,root 2>&1)"
	assert_ok grep -q "exists" <<<"$(bwctl token add soar --scopes read 2>&1)"
	assert_eq "$(sha256sum <"$TOKFILE")" "$before" "tokens.json unchanged"
}
t_run "bad token input is refused with a reason and changes nothing" t_test_token_bad_input

t_test_token_admin_only() {
	local out
	run_as_reader() { gw setpriv --reuid=65534 --regid=65534 --clear-groups "$BWCTL_BIN" \
		--socket "$SOCK" "$@"; }
	assert_ok run_as_reader status # the reader reaches the daemon ...
	out=$(run_as_reader token list 2>&1)
	assert_eq "$?" 1 "exit status"
	assert_ok grep -q "needs the admin role" <<<"$out" # ... but not its tokens
	out=$(run_as_reader token add mine --scopes admin 2>&1)
	assert_ok grep -q "needs the admin role" <<<"$out"
	assert_eq "$(bwctl --json token list | jq 'map(.name) | index("mine")')" null "no token made"
}
t_run "token commands are refused to a peer that is not an admin" t_test_token_admin_only

# ---- the HTTP API -------------------------------------------------------------------

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=bwe-test-ca" \
	-keyout "$DIR/ca.key" -out "$DIR/ca.pem" >/dev/null 2>&1
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$DIR/srv.key" \
	-out "$DIR/srv.csr" >/dev/null 2>&1
printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$DIR/srv.ext"
openssl x509 -req -in "$DIR/srv.csr" -CA "$DIR/ca.pem" -CAkey "$DIR/ca.key" -CAcreateserial \
	-days 2 -extfile "$DIR/srv.ext" -out "$DIR/srv.pem" >/dev/null 2>&1
chmod 0600 "$DIR/srv.key"
write_config "$RO
http: { listen: [ \"127.0.0.1:$PORT\" ], tls: { cert: $DIR/srv.pem, key: $DIR/srv.key } }"

t_begin "bwctld has an HTTP listener"
if ! out=$("$BWCTLD" -n -c "$CFG" 2>&1); then
	t_skip "bwctld -n refuses the http: section ($(head -1 <<<"$out")): no HTTP listener in this build"
	t_summary
	exit $?
fi
stop_daemon TERM
if ! start_daemon; then t_fail "daemon did not start with the http: section"; t_summary; exit 1; fi
t_pass

ADMIN=$(bwctl --json token add soc-admin --scopes admin | jq -r .token)
READ=$(bwctl --json token add dashboards --scopes read | jq -r .token)
bwctl token revoke soar >/dev/null 2>&1 # made by the token tests above: its text is gone
CONTAIN=$(bwctl --json token add soar --scopes contain,read | jq -r .token)
BLOCK=$(bwctl --json token add ti --scopes block | jq -r .token)

# api METHOD PATH TOKEN [BODY|@FILE]: the answer's body to $DIR/body, its status on stdout
api() {
	local args=(-s -o "$DIR/body" -w '%{http_code}' --cacert "$DIR/ca.pem" -X "$1")
	[ -n "${3:-}" ] && args+=(-H "Authorization: Bearer $3")
	# no "Expect: 100-continue" (curl adds it above its own threshold): the body is sent
	[ -n "${4:-}" ] && args+=(-H "Content-Type: application/json" -H "Expect:" --data-binary "$4")
	gw curl "${args[@]}" "$BASE$2"
}
problem_is() { # STATUS TEXT: the last body is a problem naming TEXT
	jq -e --argjson s "$1" --arg t "$2" \
		'.status == $s and (.type | length > 0) and (.title | length > 0) and (.detail | contains($t))' \
		"$DIR/body" >/dev/null || { echo "body: $(cat "$DIR/body")"; return 1; }
}
state_sum() { cat "$DIR/state/state.json" 2>/dev/null | sha256sum; wc -l <"$LOG"; }

t_test_auth() {
	local s0; s0=$(state_sum)
	assert_eq "$(api GET /v1/status "")" 401 "no token"
	assert_ok problem_is 401 "Bearer"
	assert_eq "$(api GET /v1/status bwe_not-a-token)" 401 "unknown token"
	assert_eq "$(api PUT /v1/quarantines/$BWE_LAN_V4 "$READ" '{}')" 403 "read token PUT"
	assert_ok problem_is 403 "contain scope"
	assert_eq "$(api PUT /v1/blocks/$BWE_C2_V4 "$CONTAIN")" 403 "contain token PUT block"
	assert_eq "$(api GET /v1/status "$BLOCK")" 403 "block token without read"
	assert_eq "$(api POST /v1/feeds/none/refresh "$READ")" 403 "refresh needs admin"
	assert_eq "$(state_sum)" "$s0" "state and event log unchanged"
	# TLS is verified: a client without our CA refuses the server
	assert_fail gw curl -s -o /dev/null "$BASE/v1/status"
}
t_run "401 without a token, 403 without the scope, over verified TLS" t_test_auth

t_test_quarantine() {
	assert_ok reach lan "$BWE_SITE_V4"
	assert_eq "$(api PUT /v1/quarantines/$BWE_LAN_V4 "$CONTAIN" \
		'{"reason":"SOAR case 7","ttl":"1h","ticket":"INC-7"}')" 201 "PUT"
	assert_eq "$(jq -r '.entries[0].actor' "$DIR/body")" "api:soar" "actor"
	# the address names the host by its MAC (neighbour table): the host record
	# and each of its addresses are entries, one event each (e2e_identity)
	local changes addrs
	changes=$(jq '.entries | length' "$DIR/body")
	addrs=$(jq '[.entries[] | select(.host != null)] | length' "$DIR/body")
	assert_ok unreach lan "$BWE_SITE_V4"
	assert_ok reach lan "$BWE_MGMT_V4"
	assert_eq "$(bwctl --json list quarantine | jq -r '.[0].actor')" "api:soar" "bwctl list"
	assert_eq "$(grep -c '"token":"soar"' "$LOG")" "$changes" "events with the token (one change)"
	assert_ok grep -q 'INC-7' "$LOG"
	assert_ok jq -e '.[] | select(.name == "soar") | .last_used | startswith("20")' \
		<<<"$(bwctl --json token list)"
	local lines; lines=$(wc -l <"$LOG")
	assert_eq "$(api PUT /v1/quarantines/$BWE_LAN_V4 "$CONTAIN" \
		'{"reason":"SOAR case 7","ttl":3600}')" 200 "repeat PUT"
	assert_eq "$(jq -r .changed "$DIR/body")" false "repeat changed nothing"
	assert_eq "$(wc -l <"$LOG")" "$lines" "no event for the repeat"
	assert_eq "$(api GET /v1/quarantines/$BWE_LAN_V4 "$READ")" 200 "GET one"
	assert_eq "$(jq -r '.entries[0].reason' "$DIR/body")" "SOAR case 7"
	assert_eq "$(api GET /v1/quarantines "$READ")" 200 "GET all"
	assert_eq "$(jq length "$DIR/body")" "$addrs"
	assert_eq "$(api DELETE /v1/quarantines/$BWE_LAN_V4 "$CONTAIN")" 204 "DELETE"
	assert_ok reach lan "$BWE_SITE_V4"
	assert_eq "$(api DELETE /v1/quarantines/$BWE_LAN_V4 "$CONTAIN")" 204 "DELETE again"
	assert_eq "$(api GET /v1/quarantines/$BWE_LAN_V4 "$READ")" 404 "GET after DELETE"
	# a MAC address: its addresses in the gateway's neighbour table
	assert_ok reach lan "$BWE_GW_LAN_V4"
	assert_eq "$(api PUT /v1/quarantines/$BWE_LAN_MAC "$CONTAIN")" 201 "PUT by MAC"
	assert_ok jq -e --arg h "$BWE_LAN_V4" '.entries | map(.host) | index($h) != null' "$DIR/body"
	assert_eq "$(api DELETE /v1/quarantines/$BWE_LAN_MAC "$CONTAIN")" 204 "DELETE by MAC"
	assert_eq "$(bwctl --json list quarantine | jq length)" 0 "nothing left"
	# a name of the daemon's hosts file: resolved by the daemon, not the client
	assert_eq "$(api PUT /v1/quarantines/$HOSTS_NAME "$CONTAIN")" 201 "PUT by name"
	assert_ok jq -e --arg h "$BWE_LAN2_V4" '.entries | map(.host) | index($h) != null' "$DIR/body"
	assert_ok unreach lan2 "$BWE_SITE_V4"
	assert_eq "$(api DELETE /v1/quarantines/$HOSTS_NAME "$CONTAIN")" 204 "DELETE by name"
	assert_ok reach lan2 "$BWE_SITE_V4"
	assert_eq "$(bwctl --json list quarantine | jq length)" 0 "nothing left"
}
t_run "a quarantine over HTTP cuts the host off, idempotently, with the token as actor" \
	t_test_quarantine

t_test_other_resources() {
	assert_eq "$(api PUT /v1/throttles/$BWE_LAN_V4 "$CONTAIN" '{"rate":"10mbit"}')" 201 throttle
	assert_eq "$(jq -r '.entries[0].rate' "$DIR/body")" 1250000 rate
	assert_eq "$(api GET /v1/throttles "$READ")" 200
	assert_eq "$(api DELETE /v1/throttles/$BWE_LAN_V4 "$CONTAIN")" 204
	assert_eq "$(api PUT /v1/blocks/203.0.113.0%2F24 "$BLOCK" '{"reason":"c2 net"}')" 201 block
	assert_ok unreach lan "$BWE_C2_V4"
	assert_eq "$(api GET /v1/blocks/203.0.113.0%2F24 "$ADMIN")" 200
	assert_eq "$(api DELETE /v1/blocks/203.0.113.0%2F24 "$BLOCK")" 204
	assert_ok reach lan "$BWE_C2_V4"
	assert_eq "$(api PUT /v1/exempts/$BWE_SITE_V4 "$BLOCK")" 201 exempt
	assert_eq "$(api GET /v1/exempts "$ADMIN")" 200
	assert_eq "$(api DELETE /v1/exempts/$BWE_SITE_V4 "$BLOCK")" 204
	assert_eq "$(api PUT /v1/allows/$BWE_SITE_V4 "$BLOCK" '{"ttl":600}')" 201 allow
	assert_eq "$(api GET /v1/allows "$ADMIN")" 200
	assert_eq "$(api DELETE /v1/allows/$BWE_SITE_V4 "$BLOCK")" 204
	assert_eq "$(api GET /v1/status "$READ")" 200 status
	assert_ok jq -e '.interfaces | length == 2' "$DIR/body"
	assert_eq "$(api GET '/v1/hosts?top=5&sort=tx' "$READ")" 200 hosts
	assert_ok jq -e 'type == "array"' "$DIR/body"
	assert_eq "$(api GET /v1/hosts/$BWE_LAN_V4/report "$READ")" 200 report
	assert_ok jq -e '.other_hosts_same_peers.hosts | type == "array"' "$DIR/body"
	assert_eq "$(api GET "/v1/scope/$BWE_LAN_V4?since=1h" "$READ")" 200 scope
	assert_ok jq -e '.kind == "host" and .window_s == 3600 and .coverage.site == "this site"' "$DIR/body"
	assert_eq "$(api GET "/v1/scope/$BWE_LAN_V4?since=90d" "$READ")" 400 "scope since 90d"
	assert_eq "$(api GET /v1/lookup/$BWE_C2_V4 "$READ")" 200 lookup
	assert_ok jq -e '.verdict' "$DIR/body"
	assert_eq "$(api GET /v1/feeds "$READ")" 200 feeds
	assert_eq "$(api POST /v1/feeds/nosuch/refresh "$ADMIN")" 404 "refresh of no feed"
	assert_ok problem_is 404 nosuch
}
t_run "every other route over TLS" t_test_other_resources

t_test_bad_input() {
	local s0; s0=$(state_sum)
	{ printf '{"reason":"x"'; head -c 200000 /dev/zero | tr '\0' ' '; echo '}'; } >"$DIR/big.json"
	assert_eq "$(api PUT /v1/quarantines/$BWE_LAN_V4 "$ADMIN" '{"reason":')" 400 "broken JSON"
	assert_ok problem_is 400 "JSON"
	assert_eq "$(api PUT /v1/quarantines/$BWE_LAN_V4 "$ADMIN" '{"tll":60}')" 400 "unknown field"
	assert_ok problem_is 400 tll
	assert_eq "$(api PUT /v1/quarantines/$BWE_SITE_V4 "$ADMIN")" 422 "external host"
	assert_ok problem_is 422 internal_networks
	assert_eq "$(api PUT /v1/quarantines/laptop.example.org "$ADMIN")" 422 "host name"
	assert_ok problem_is 422 "does not ask a name server"
	assert_eq "$(api PUT /v1/blocks/0.0.0.0%2F1 "$ADMIN")" 422 "too broad"
	assert_eq "$(api PUT /v1/throttles/$BWE_LAN_V4 "$ADMIN" '{}')" 400 "throttle without rate"
	assert_eq "$(api PATCH /v1/quarantines/$BWE_LAN_V4 "$ADMIN")" 405 PATCH
	assert_eq "$(api GET /v1/nothing "$ADMIN")" 404 "no route"
	# drained, then answered: the status arrives whole, and the connection
	# is kept (a second request on it makes no new connection)
	assert_eq "$(api PUT /v1/quarantines/$BWE_LAN_V4 "$ADMIN" "@$DIR/big.json")" 413 "large body"
	assert_ok problem_is 413 "at most"
	assert_eq "$(gw curl -s -o /dev/null -w '%{http_code}/%{num_connects} ' \
		--cacert "$DIR/ca.pem" -H "Authorization: Bearer $ADMIN" -H "Expect:" \
		-H "Content-Type: application/json" --data-binary "@$DIR/big.json" -X PUT \
		"$BASE/v1/quarantines/$BWE_LAN_V4" --next -s -o /dev/null --cacert "$DIR/ca.pem" \
		-H "Authorization: Bearer $ADMIN" -w '%{http_code}/%{num_connects}' \
		"$BASE/v1/status")" "413/1 200/0" "large body drained, connection kept"
	# a client waiting for "100 Continue" is answered before it sends the body
	assert_eq "$(gw curl -s -o "$DIR/body" -w '%{http_code} %{size_upload}' --cacert "$DIR/ca.pem" \
		-X PUT -H "Authorization: Bearer $ADMIN" -H "Content-Type: application/json" \
		-H "Expect: 100-continue" --expect100-timeout 10 --data-binary "@$DIR/big.json" \
		"$BASE/v1/quarantines/$BWE_LAN_V4")" "413 0" "large body, Expect: 100-continue"
	assert_ok problem_is 413 "at most"
	assert_eq "$(state_sum)" "$s0" "state and event log unchanged"
}
t_run "bad input: a problem body, and nothing changed" t_test_bad_input

# 20 clients x 50 requests, each client on hosts of its own, keep-alive:
# PUT h(j) for j < 25, then DELETE h(j) for odd j and PUT h(j) again for even j.
t_test_concurrent() {
	local c j k m h lines0 pids=()
	lines0=$(wc -l <"$LOG")
	for c in $(seq 0 19); do
		{
			for j in $(seq 0 49); do
				if [ "$j" -lt 25 ]; then
					k=$j m=PUT
				else
					k=$((j - 25)) m=$([ $(((j - 25) % 2)) -eq 1 ] && echo DELETE || echo PUT)
				fi
				h="2001:db8:1::$((1000 + c)):$((100 + k))"
				printf 'url = "%s/v1/quarantines/%s"\nrequest = "%s"\n' "$BASE" "$h" "$m"
				printf 'header = "Authorization: Bearer %s"\noutput = "/dev/null"\n' "$CONTAIN"
				printf 'write-out = "%%{http_code}\\n"\ncacert = "%s"\nsilent\n' "$DIR/ca.pem"
				[ "$j" -lt 49 ] && echo next
			done
		} >"$DIR/client$c.cfg"
	done
	for c in $(seq 0 19); do
		gw curl -K "$DIR/client$c.cfg" >"$DIR/client$c.out" 2>&1 &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p"; done
	cat "$DIR"/client*.out >"$DIR/codes"
	assert_eq "$(wc -l <"$DIR/codes")" 1000 "answers"
	assert_eq "$(grep -c '^201$' "$DIR/codes")" 500 "created"
	assert_eq "$(grep -c '^204$' "$DIR/codes")" 240 "deleted"
	assert_eq "$(grep -c '^200$' "$DIR/codes")" 260 "repeats"
	local want got
	want=$(for c in $(seq 0 19); do for j in $(seq 0 2 24); do echo "2001:db8:1::$((1000 + c)):$((100 + j))"; done; done | sort)
	got=$(bwctl --json list quarantine | jq -r '.[] | select(.actor == "api:soar") | .host' | sort)
	assert_eq "$(wc -l <<<"$got")" 260 "entries left"
	assert_eq "$got" "$want" "exactly the even hosts"
	assert_eq "$(tail -n +$((lines0 + 1)) "$LOG" | grep '"token":"soar"' | grep -c '"action":"quarantine"')" 500 "quarantine events"
	assert_eq "$(tail -n +$((lines0 + 1)) "$LOG" | grep '"token":"soar"' | grep -c '"action":"release"')" 240 "release events"
}
t_run "1,000 requests from 20 concurrent clients: no change lost or doubled" t_test_concurrent

t_summary
