# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# tests/lib_etcd.sh - a three-member etcd 3.4 cluster for the fleet's tests
# (Debian's etcd-server and etcd-client), in a network namespace of its own.
# Source after tests/lib.sh (and tests/lib_bwe.sh when gateways join it):
#
#   etcd_up                       PKI, namespace, tmpfs, three members; waits
#                                 until healthy
#   etcd_down                     stop the members, remove everything (also
#                                 on exit, failure or not)
#   etcdc ARGS...                 etcdctl as the cluster's admin (client
#                                 certificate CN=root; root once auth is on):
#                                 etcdc get --prefix /bwenforce/ --keys-only
#   etcd_link GW_NS ADDR          a management link from a gateway namespace
#                                 (mgmt0, ADDR/24) into the etcd namespace's
#                                 bridge, so a bwctld there reaches etcd
#   etcd_leader                   index (1..3) of the current leader
#   etcd_kill N [SIG]             kill member N (default SIGKILL), wait until gone
#   etcd_start N                  start member N again on its data
#   etcd_stop_all / etcd_start_all   every member down / up again, same data
#   etcd_wait_healthy [SECONDS]   every member answers and there is a leader
#   etcd_revision                 the cluster's current revision
#   etcd_compact                  compact at the current revision (physical)
#   etcd_site_pki NAME            client certificate and key for a site:
#                                 $ETCD_PKI/NAME.pem, NAME-key.pem (mode 0600)
#   etcd_other_ca                 a second, unrelated CA: $ETCD_PKI/other-ca.pem
#   etcd_auth_enable SITE...      users root and one per site (a role with
#                                 readwrite on $ETCD_PREFIX only), passwords in
#                                 $ETCD_PKI/SITE.pw (0600), auth enabled
#   etcd_fleet_yaml SITE [auth|ca=FILE|...]...
#                                 the bwenforce.yaml fleet: block for a site
#
# Addresses (inside 198.18.0.0/15, unused by scripts/testbed.sh, which
# takes 198.18.0.0/24 and 198.18.1.0/24): the members listen on
# $ETCD_ADDR (198.19.0.1), client ports 2379 2479 2579, peer ports one
# above each; gateways get 198.19.0.11, .12, .13 ... by etcd_link.
# TLS: a throwaway CA made with openssl in the test's directory; the
# members' certificate has serverAuth and clientAuth (etcd's HTTP/JSON
# gateway dials the member's own gRPC port with it), IP SANs 198.19.0.1 and
# 127.0.0.1. Data directories on a 1 GiB tmpfs (about 123 MB per member).
#
# Every wait is bounded and says what it waited for when it gives up.
# Executed directly (`bash tests/lib_etcd.sh`), this file tests itself.

[ -n "${_T_LIB_ETCD_LOADED:-}" ] && return 0
_T_LIB_ETCD_LOADED=1

ETCD_ADDR=198.19.0.1
ETCD_NET_BITS=24
ETCD_CLIENT_PORTS=(2379 2479 2579)
ETCD_PREFIX=${ETCD_PREFIX:-/bwenforce/}
ETCD_TMPFS_SIZE=${ETCD_TMPFS_SIZE:-1g}
ETCD_NS=""
ETCD_DIR=""
ETCD_PKI=""
ETCD_SCHEME=https
ETCD_ENDPOINTS=""	# comma-separated, for etcdctl

_etcd_peer_port() { echo $((ETCD_CLIENT_PORTS[$1 - 1] + 1)); }
_etcd_client_url() { echo "$ETCD_SCHEME://$ETCD_ADDR:${ETCD_CLIENT_PORTS[$1 - 1]}"; }
_etcd_peer_url() { echo "$ETCD_SCHEME://$ETCD_ADDR:$(_etcd_peer_port "$1")"; }
_etcd_pidf() { echo "$ETCD_DIR/m$1.pid"; }
_etcd_pid() { cat "$(_etcd_pidf "$1")" 2>/dev/null; }
etcd_ns() { ip netns exec "$ETCD_NS" "$@"; }
# A process that has ended is not alive, also while it waits as a zombie to
# be reaped: a member restarted inside a t_run test is reparented to PID 1
# when the test ends, and this machine's PID 1 reaps late.
_etcd_alive() { # PID
	local st
	[ -n "$1" ] && st=$(awk '{ sub(/^.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null) &&
		[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# ------------------------------------------------------------------ PKI

# openssl extension sections of every certificate we make
_etcd_ext() {
	cat <<EOF
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[member]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = IP:$ETCD_ADDR, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
}

_etcd_ossl() { # ARGS...: openssl, its output kept for a failure
	local out
	out=$(openssl "$@" 2>&1) || { echo "openssl $1 failed: $out" >&2; return 1; }
}

# A CA: $ETCD_PKI/NAME.pem, NAME-key.pem
_etcd_ca() { # NAME CN
	_etcd_ossl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$ETCD_PKI/$1-key.pem" -out "$ETCD_PKI/$1.pem" -days 2 -subj "/CN=$2" \
		-config "$ETCD_PKI/ext.cnf" -extensions ca
}

# A certificate signed by the test CA: $ETCD_PKI/NAME.pem, NAME-key.pem
_etcd_cert() { # NAME SUBJECT SECTION
	local p=$ETCD_PKI
	_etcd_ossl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$p/$1-key.pem" -out "$p/$1.csr" -subj "$2" -config "$p/ext.cnf" &&
		_etcd_ossl x509 -req -in "$p/$1.csr" -CA "$p/ca.pem" -CAkey "$p/ca-key.pem" \
			-set_serial "0x$(openssl rand -hex 8)" -days 2 -out "$p/$1.pem" \
			-extfile "$p/ext.cnf" -extensions "$3" &&
		chmod 0600 "$p/$1-key.pem" && rm -f "$p/$1.csr"
}

# A site's certificate has no CommonName: with user authentication on,
# etcd 3.4's HTTP/JSON gateway answers 400 "CommonName of client sending a
# request against gateway will be ignored and not used as expected" to a
# client certificate that has one (the user comes from the token instead).
etcd_site_pki() { # NAME
	[ -s "$ETCD_PKI/$1.pem" ] || _etcd_cert "$1" "/O=bwenforce test/OU=$1" client
}

etcd_other_ca() {
	[ -s "$ETCD_PKI/other-ca.pem" ] || _etcd_ca other-ca "bwe-test other CA $$"
}

_etcd_pki() {
	{ _etcd_ext; printf '[req]\ndistinguished_name = dn\n[dn]\n'; } >"$ETCD_PKI/ext.cnf"
	_etcd_ca ca "bwe-test etcd CA $$" &&
		_etcd_cert member "/CN=etcd member" member &&
		_etcd_cert root /CN=root client
}

# ------------------------------------------------------------------ members

_etcd_start() { # N
	local n=$1 i cluster="" tls
	for i in 1 2 3; do cluster="$cluster${cluster:+,}m$i=$(_etcd_peer_url "$i")"; done
	tls=(--cert-file "$ETCD_PKI/member.pem" --key-file "$ETCD_PKI/member-key.pem"
			--client-cert-auth --trusted-ca-file "$ETCD_PKI/ca.pem"
			--peer-cert-file "$ETCD_PKI/member.pem" --peer-key-file "$ETCD_PKI/member-key.pem"
			--peer-client-cert-auth --peer-trusted-ca-file "$ETCD_PKI/ca.pem")
	rm -f "$(_etcd_pidf "$n")"
	# its own session: the end of a t_run test (which kills the test's
	# process group) never kills a member the test restarted
	setsid bash -c 'echo $$ >"$0"; exec "$@"' "$(_etcd_pidf "$n")" \
		ip netns exec "$ETCD_NS" etcd --name "m$n" --data-dir "$ETCD_DIR/data/m$n" \
		--listen-client-urls "$(_etcd_client_url "$n")" \
		--advertise-client-urls "$(_etcd_client_url "$n")" \
		--listen-peer-urls "$(_etcd_peer_url "$n")" \
		--initial-advertise-peer-urls "$(_etcd_peer_url "$n")" \
		--initial-cluster "$cluster" --initial-cluster-state new \
		--initial-cluster-token "bwe-test-$$" "${tls[@]}" \
		</dev/null >>"$ETCD_DIR/m$n.log" 2>&1 &
	disown
	for i in $(seq 1 50); do
		[ -s "$(_etcd_pidf "$n")" ] && return 0
		sleep 0.02
	done
	echo "etcd member m$n: no pid after 1 s" >&2
	return 1
}

etcd_start() { # N: start member N again (on its data), wait until it answers
	local n=$1
	_etcd_alive "$(_etcd_pid "$n")" && return 0
	_etcd_start "$n" || return 1
	_etcd_wait_member "$n" 30
}

etcd_kill() { # N [SIGNAL [GRACE_S]]: after GRACE_S (default 5) SIGKILL
	local n=$1 sig=${2:-KILL} grace=${3:-5} pid
	pid=$(_etcd_pid "$n")
	[ -n "$pid" ] || return 0
	kill -"$sig" "$pid" 2>/dev/null
	for _ in $(seq 1 $((grace * 20))); do
		_etcd_alive "$pid" || { rm -f "$(_etcd_pidf "$n")"; return 0; }
		sleep 0.05
	done
	[ "$sig" = KILL ] || { kill -KILL "$pid" 2>/dev/null; sleep 0.2; }
	_etcd_alive "$pid" && { echo "etcd member m$n (pid $pid) did not end" >&2; return 1; }
	rm -f "$(_etcd_pidf "$n")"
}

etcd_stop_all() {
	local n rc=0
	for n in 1 2 3; do
		kill -TERM "$(_etcd_pid "$n")" 2>/dev/null
	done
	# the leader, left alone, takes many seconds to give up its peers
	for n in 1 2 3; do etcd_kill "$n" TERM 2 || rc=1; done
	return $rc
}

etcd_start_all() {
	local n
	for n in 1 2 3; do
		_etcd_alive "$(_etcd_pid "$n")" && continue
		_etcd_start "$n" || return 1
	done
	etcd_wait_healthy 30
}

# ------------------------------------------------------------------ etcdctl

_etcdctl() { # ENDPOINTS ARGS...
	local eps=$1
	shift
	local tls=(--cacert "$ETCD_PKI/ca.pem" --cert "$ETCD_PKI/root.pem" --key "$ETCD_PKI/root-key.pem")
	ip netns exec "$ETCD_NS" etcdctl --endpoints "$eps" "${tls[@]}" \
		--dial-timeout 2s --command-timeout "${ETCDC_TIMEOUT:-5s}" "$@"
}

etcdc() { _etcdctl "$ETCD_ENDPOINTS" "$@"; }

_etcd_wait_member() { # N SECONDS
	local end=$((SECONDS + $2))
	until ETCDC_TIMEOUT=2s _etcdctl "$(_etcd_client_url "$1")" endpoint health >/dev/null 2>&1; do
		if [ $SECONDS -ge "$end" ]; then
			echo "etcd member m$1 not healthy after $2 s: $(tail -n 3 "$ETCD_DIR/m$1.log")" >&2
			return 1
		fi
		_etcd_alive "$(_etcd_pid "$1")" ||
			{ echo "etcd member m$1 died: $(tail -n 5 "$ETCD_DIR/m$1.log")" >&2; return 1; }
		sleep 0.2
	done
}

# "endpoint, id, version, db size, is leader, is learner, term, index, applied, errors"
_etcd_status() { ETCDC_TIMEOUT=2s etcdc endpoint status -w simple 2>/dev/null; }

etcd_leader() {
	local ep n
	ep=$(_etcd_status | awk -F', ' '$5 == "true" { print $1; exit }')
	[ -n "$ep" ] || return 1
	for n in 1 2 3; do
		[ "$ep" = "$(_etcd_client_url "$n")" ] && { echo "$n"; return 0; }
	done
	return 1
}

etcd_wait_healthy() { # [SECONDS]: every running member healthy, and a leader
	local s=${1:-30} end n
	end=$((SECONDS + s))
	for n in 1 2 3; do
		[ -n "$(_etcd_pid "$n")" ] || continue
		_etcd_wait_member "$n" $((end - SECONDS > 0 ? end - SECONDS : 1)) || return 1
	done
	until etcd_leader >/dev/null; do
		[ $SECONDS -lt "$end" ] || { echo "etcd: no leader after $s s" >&2; return 1; }
		sleep 0.2
	done
}

etcd_revision() {
	etcdc get / --limit 1 -w json | jq -er '.header.revision'
}

etcd_compact() {
	local rev
	rev=$(etcd_revision) || { echo "etcd_compact: no revision" >&2; return 1; }
	etcdc compact "$rev" --physical >/dev/null || return 1
	echo "$rev"
}

# ------------------------------------------------------------------ auth

etcd_auth_enable() { # SITE...
	local s pw
	pw=$(openssl rand -hex 16)
	(umask 077 && printf '%s\n' "$pw" >"$ETCD_PKI/root.pw")
	etcdc user add "root:$pw" >/dev/null || return 1
	etcdc role add root >/dev/null 2>&1
	etcdc user grant-role root root >/dev/null || return 1
	for s in "$@"; do
		pw=$(openssl rand -hex 16)
		(umask 077 && printf '%s\n' "$pw" >"$ETCD_PKI/$s.pw")
		etcdc user add "$s:$pw" >/dev/null &&
			etcdc role add "$s" >/dev/null &&
			etcdc role grant-permission "$s" --prefix=true readwrite "$ETCD_PREFIX" >/dev/null &&
			etcdc user grant-role "$s" "$s" >/dev/null || return 1
	done
	etcdc auth enable >/dev/null
}

# ------------------------------------------------------------------ gateways

# The gateway's side is mgmt0 with ADDR/24; the etcd side a port of br-mgmt
# named after ADDR's last byte. Removed with either namespace.
etcd_link() { # GW_NS ADDR
	local gwns=$1 addr=$2 port="m-${2##*.}"
	ip -n "$gwns" link add name mgmt0 type veth peer name "$port" netns "$ETCD_NS" &&
		ip -n "$ETCD_NS" link set "$port" master br-mgmt &&
		ip -n "$ETCD_NS" link set "$port" up &&
		ip -n "$gwns" addr add "$addr/$ETCD_NET_BITS" dev mgmt0 &&
		ip -n "$gwns" link set mgmt0 up &&
		ip -n "$gwns" link set lo up || return 1
	local i
	for i in $(seq 1 30); do
		ip netns exec "$gwns" ping -c1 -W1 -q "$ETCD_ADDR" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "etcd_link: $gwns ($addr) does not reach $ETCD_ADDR" >&2
	return 1
}

# OPTIONS: auth (user SITE, password_file $ETCD_PKI/SITE.pw), ca=FILE
# (another CA file), heartbeat=DUR,
# prefix=P, share=false, endpoints=URL,URL
etcd_fleet_yaml() { # SITE [OPTION...]
	local site=$1 o auth=0 ca=$ETCD_PKI/ca.pem hb=2s prefix=$ETCD_PREFIX share=true eps="" n
	shift
	for o in "$@"; do
		case $o in
		auth) auth=1 ;;
		ca=*) ca=${o#ca=} ;;
		heartbeat=*) hb=${o#heartbeat=} ;;
		prefix=*) prefix=${o#prefix=} ;;
		share=*) share=${o#share=} ;;
		endpoints=*) eps=${o#endpoints=}; eps=${eps//,/, } ;;
		*) echo "etcd_fleet_yaml: unknown option $o" >&2; return 1 ;;
		esac
	done
	if [ -z "$eps" ]; then
		for n in 1 2 3; do eps="$eps${eps:+, }$(_etcd_client_url "$n")"; done
	fi
	echo "fleet:"
	echo "  name: $site"
	echo "  endpoints: [ $eps ]"
	echo "  prefix: $prefix"
	etcd_site_pki "$site" || return 1
	echo "  tls: { ca: $ca, cert: $ETCD_PKI/$site.pem, key: $ETCD_PKI/$site-key.pem }"
	[ "$auth" = 0 ] || echo "  auth: { user: $site, password_file: $ETCD_PKI/$site.pw }"
	echo "  heartbeat: $hb"
	echo "  share_addresses: $share"
}

# ------------------------------------------------------------------ up/down

etcd_up() {
	local n eps="" t
	for t in etcd etcdctl openssl jq; do
		command -v "$t" >/dev/null 2>&1 ||
			{ echo "etcd_up: $t not found (scripts/setup-deps.sh installs etcd-server, etcd-client)" >&2; return 1; }
	done
	ETCD_NS="bwe-etcd$$-etcd"
	t_tmpdir ETCD_DIR || return 1
	ETCD_PKI=$ETCD_DIR/pki
	mkdir -p "$ETCD_PKI" "$ETCD_DIR/data" && chmod 0700 "$ETCD_PKI" || return 1
	t_atexit etcd_down
	mount -t tmpfs -o "size=$ETCD_TMPFS_SIZE,mode=0700" bwe-etcd "$ETCD_DIR/data" ||
		{ echo "etcd_up: cannot mount a tmpfs on $ETCD_DIR/data" >&2; return 1; }
	_etcd_pki || return 1
	ip netns add "$ETCD_NS" || return 1
	ip -n "$ETCD_NS" link set lo up &&
		ip -n "$ETCD_NS" link add name br-mgmt type bridge stp_state 0 forward_delay 0 &&
		ip -n "$ETCD_NS" addr add "$ETCD_ADDR/$ETCD_NET_BITS" dev br-mgmt &&
		ip -n "$ETCD_NS" link set br-mgmt up || return 1
	for n in 1 2 3; do eps="$eps${eps:+,}$(_etcd_client_url "$n")"; done
	ETCD_ENDPOINTS=$eps
	for n in 1 2 3; do _etcd_start "$n" || return 1; done
	etcd_wait_healthy 30
}

etcd_down() {
	local n pids
	[ -n "$ETCD_DIR" ] || return 0
	for n in 1 2 3; do
		[ -s "$(_etcd_pidf "$n")" ] && etcd_kill "$n" TERM
	done
	if [ -n "$ETCD_NS" ] && [ -e "/run/netns/$ETCD_NS" ]; then
		pids=$(ip netns pids "$ETCD_NS" 2>/dev/null)
		# shellcheck disable=SC2086
		[ -z "$pids" ] || { kill -KILL $pids 2>/dev/null; sleep 0.2; }
		ip netns del "$ETCD_NS" 2>/dev/null
	fi
	if grep -q " $ETCD_DIR/data " /proc/self/mounts; then
		umount "$ETCD_DIR/data" 2>/dev/null || umount -l "$ETCD_DIR/data"
	fi
	return 0
}

# ------------------------------------------------------------------ self-test

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	# shellcheck source=tests/lib.sh
	. "$(dirname "$0")/lib.sh"
	t_require_root
	T_TIMEOUT=${T_TIMEOUT:-90}
	t_begin "etcd cluster up (TLS, three members)"
	if ! etcd_up; then t_fail "etcd_up failed"; t_summary; exit 1; fi
	t_pass

	_t_etcd_kv() {
		assert_ok etcdc put /bwenforce/selftest/a 1
		assert_eq "$(etcdc get /bwenforce/selftest/a --print-value-only)" 1 "value read back"
		assert_eq "$(etcdc get --prefix /bwenforce/ --keys-only | grep -c .)" 1 "keys under the prefix"
		# certificates: the member's for server and client, a site's for client only
		openssl x509 -in "$ETCD_PKI/member.pem" -noout -text | grep -q "TLS Web Server Authentication, TLS Web Client Authentication" ||
			t_fail "member certificate lacks serverAuth+clientAuth"
		etcd_site_pki site-x
		assert_ok openssl verify -CAfile "$ETCD_PKI/ca.pem" "$ETCD_PKI/site-x.pem"
		assert_eq "$(stat -c %a "$ETCD_PKI/site-x-key.pem")" 600 "key mode"
		# no client certificate: refused
		assert_fail etcd_ns etcdctl --endpoints "$ETCD_ENDPOINTS" --cacert "$ETCD_PKI/ca.pem" \
			--dial-timeout 1s --command-timeout 2s get /bwenforce/selftest/a
		# the HTTP/JSON gateway with a site's certificate (what bwctld's worker speaks)
		local out
		out=$(etcd_ns curl -sS --max-time 3 --cacert "$ETCD_PKI/ca.pem" --cert "$ETCD_PKI/site-x.pem" \
			--key "$ETCD_PKI/site-x-key.pem" -X POST -d "{\"key\":\"$(printf /bwenforce/selftest/a | base64)\"}" \
			"https://$ETCD_ADDR:2479/v3/kv/range")
		assert_eq "$(jq -r '.kvs[0].value' <<<"$out" | base64 -d)" 1 "gateway range: $out"
	}
	t_run "put/get through etcdctl and the HTTP/JSON gateway, with client certificates" _t_etcd_kv

	_t_etcd_leader() {
		local l l2 r
		l=$(etcd_leader) || t_fail "no leader"
		echo "leader m$l"
		assert_ok etcd_kill "$l"
		r=$(etcd_leader)
		for _ in $(seq 1 50); do r=$(etcd_leader) && [ "$r" != "$l" ] && break; sleep 0.1; done
		[ -n "$r" ] && [ "$r" != "$l" ] || t_fail "no new leader within 5 s of killing m$l"
		assert_ok etcdc put /bwenforce/selftest/b 2
		assert_ok etcd_start "$l"
		assert_ok etcd_wait_healthy 30
		l2=$(etcd_leader) || t_fail "no leader after the restart"
		assert_eq "$(ETCDC_TIMEOUT=2s _etcdctl "$(_etcd_client_url "$l")" get /bwenforce/selftest/b --print-value-only)" 2 "the restarted member caught up"
		: "$l2"
	}
	t_run "kill -9 the leader: a new one is elected, the member comes back" _t_etcd_leader

	_t_etcd_stop_all() {
		assert_ok etcd_stop_all
		ETCDC_TIMEOUT=1s assert_fail etcdc get /bwenforce/selftest/a
		assert_ok etcd_start_all
		assert_eq "$(etcdc get /bwenforce/selftest/a --print-value-only)" 1 "data kept"
	}
	t_run "stop all, start all: same data" _t_etcd_stop_all

	_t_etcd_compact() {
		local r
		assert_ok etcdc put /bwenforce/selftest/a 3
		r=$(etcd_compact) || t_fail "compaction"
		assert_fail etcdc get /bwenforce/selftest/a --rev $((r - 1))
		assert_eq "$(etcdc get /bwenforce/selftest/a --print-value-only)" 3 "latest value"
	}
	t_run "compaction at the current revision" _t_etcd_compact

	_t_etcd_link() {
		local ns="bwe-etcd$$-gwx"
		ip netns add "$ns" || t_fail "netns add"
		t_atexit "ip netns del $ns"
		assert_ok etcd_link "$ns" 198.19.0.99
		etcd_site_pki site-y
		out=$(ip netns exec "$ns" curl -sS --max-time 3 --cacert "$ETCD_PKI/ca.pem" --cert "$ETCD_PKI/site-y.pem" \
			--key "$ETCD_PKI/site-y-key.pem" -X POST -d '{}' "https://$ETCD_ADDR:2579/v3/maintenance/status")
		jq -e '.version' <<<"$out" >/dev/null || t_fail "status from the gateway namespace: $out"
	}
	t_run "a gateway namespace reaches the cluster over its management link" _t_etcd_link

	_t_etcd_auth() {
		local out tok
		etcd_site_pki site-z
		local c=(--cacert "$ETCD_PKI/ca.pem" --cert "$ETCD_PKI/site-z.pem" --key "$ETCD_PKI/site-z-key.pem")
		assert_ok etcd_auth_enable site-z
		assert_eq "$(stat -c %a "$ETCD_PKI/site-z.pw")" 600 "password file mode"
		# the site's user may write under the prefix, not beside it
		tok=$(etcd_ns curl -sS --max-time 3 "${c[@]}" -X POST \
			-d "{\"name\":\"site-z\",\"password\":\"$(cat "$ETCD_PKI/site-z.pw")\"}" \
			"https://$ETCD_ADDR:2379/v3/auth/authenticate" | jq -r .token)
		[ -n "$tok" ] && [ "$tok" != null ] || t_fail "no token for site-z"
		out=$(etcd_ns curl -sS --max-time 3 "${c[@]}" -H "Authorization: $tok" -X POST \
			-d "{\"key\":\"$(printf /bwenforce/z | base64)\",\"value\":\"$(printf 1 | base64)\"}" \
			"https://$ETCD_ADDR:2379/v3/kv/put")
		jq -e '.header.revision' <<<"$out" >/dev/null || t_fail "put under the prefix: $out"
		out=$(etcd_ns curl -sS --max-time 3 "${c[@]}" -H "Authorization: $tok" -X POST \
			-d "{\"key\":\"$(printf /elsewhere | base64)\",\"value\":\"$(printf 1 | base64)\"}" \
			"https://$ETCD_ADDR:2379/v3/kv/put")
		grep -q "permission denied" <<<"$out" || t_fail "put outside the prefix: $out"
		# without a token the certificate alone is no user through the gateway
		out=$(etcd_ns curl -sS --max-time 3 "${c[@]}" -X POST \
			-d "{\"key\":\"$(printf /bwenforce/z | base64)\",\"value\":\"$(printf 2 | base64)\"}" \
			"https://$ETCD_ADDR:2379/v3/kv/put")
		echo "no token: $out"
		jq -e '.header.revision' <<<"$out" >/dev/null && t_fail "a put without a token was accepted: $out"
		# the admin (certificate CN=root) still works
		assert_ok etcdc get /bwenforce/z
	}
	t_run "etcd users: a site's role is limited to the prefix" _t_etcd_auth

	t_begin "etcd_down removes the namespace and the tmpfs"
	etcd_down
	if [ -e "/run/netns/$ETCD_NS" ] || grep -q " $ETCD_DIR/data " /proc/self/mounts; then
		t_fail "left behind"
	else
		t_pass
	fi
	t_summary
fi
