#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# e2e_ctl.sh - bwctld and bwctl on the gateway testbed, with real traffic:
# every command, the maps and the packets they change, kill -9 and restart,
# interface re-attachment, SIGHUP, and bad input that must change nothing.
# Everything lives in namespaces, a bpffs and a directory of this run.
. "$(dirname "$0")/lib.sh"
t_require_root

. "$(dirname "$0")/lib_bwe.sh"
T_TIMEOUT=${T_TIMEOUT:-60}
bwe_testbed_up ctl

BWE_NAME=lan2-$RUN.test
mkdir -p "/etc/netns/$BWE_NS_GW"
t_atexit "rm -rf /etc/netns/$BWE_NS_GW"
printf '127.0.0.1 localhost\n%s %s\n' "$BWE_LAN2_V4" "$BWE_NAME" >"/etc/netns/$BWE_NS_GW/hosts"

write_config
t_begin "bwctld -n accepts the test configuration"
out=$("$BWCTLD" -n -c "$CFG" 2>&1)
assert_eq "$out" "configuration OK" "bwctld -n" && t_pass

t_begin "bwctld starts and attaches to lan0 and wan0"
if start_daemon; then
	st=$(bwctl --json status)
	assert_eq "$(jq -r '[.interfaces[] | select(.state == "attached")] | length' <<<"$st")" 2 \
		"attached interfaces" && \
	assert_ok gw ip link show dev lan0 && \
	assert_eq "$(gw ip -j link show dev lan0 | jq -r '.[0].xdp.prog.id // .[0].xdp.attached[0].prog.id // empty' | head -1 | grep -c .)" 1 "xdp on lan0" && t_pass
else
	t_fail "daemon did not start"; t_summary; exit 1
fi

t_test_traffic_baseline() {
	assert_ok reach lan "$BWE_SITE_V4"
	assert_ok reach lan "$BWE_SITE_V6"
	assert_ok reach lan "$BWE_C2_V4"
}
t_run "traffic flows before any rule" t_test_traffic_baseline

t_test_block() {
	assert_ok bwctl block "$BWE_C2_V4" "$BWE_C2_V6" --reason "test c2"
	assert_ok unreach lan "$BWE_C2_V4"
	assert_ok unreach lan "$BWE_C2_V6"
	assert_ok unreach lan2 "$BWE_C2_V4"
	assert_ok reach lan "$BWE_SITE_V4"
	local l; l=$(bwctl --json lookup "$BWE_C2_V4")
	assert_eq "$(jq -r .verdict <<<"$l")" drop "lookup verdict"
	assert_eq "$(jq -r .feed <<<"$l")" manual "lookup feed"
	assert_eq "$(jq -r .entry <<<"$l")" "$BWE_C2_V4" "lookup entry"
	assert_eq "$(bwctl --json list blocks | jq -r '.[0].reason')" "test c2" "list reason"
	assert_ok bwctl unblock "$BWE_C2_V4" "$BWE_C2_V6"
	assert_ok reach lan "$BWE_C2_V4"
	assert_ok reach lan "$BWE_C2_V6"
	assert_eq "$(bwctl --json list blocks | jq length)" 0 "blocks left"
}
t_run "block and unblock drop and restore traffic in both families" t_test_block

# Behind NAT the internet reaches the gateway's address, not the host's.
t_test_inbound_block() {
	local lan_a; lan_a=$(from_net 4)
	assert_ok bwctl block "$BWE_C2_V4"
	assert_fail ip netns exec "$BWE_NS_NET" ping -c1 -W1 -I "$BWE_C2_V4" "$lan_a"
	assert_ok ip netns exec "$BWE_NS_NET" ping -c1 -W1 -I "$BWE_SITE_V4" "$lan_a"
	assert_ok bwctl unblock "$BWE_C2_V4"
	assert_ok ip netns exec "$BWE_NS_NET" ping -c1 -W1 -I "$BWE_C2_V4" "$lan_a"
}
t_run "a blocked address cannot reach in either" t_test_inbound_block

t_test_quarantine() {
	assert_ok bwctl quarantine "$BWE_LAN_V4" "$BWE_LAN_V6" --reason "proxyware suspected"
	assert_ok unreach lan "$BWE_SITE_V4"
	assert_ok unreach lan "$BWE_SITE_V6"
	assert_ok reach lan "$BWE_MGMT_V4"
	assert_ok reach lan "$BWE_MGMT_V6"
	assert_ok reach lan "$BWE_DNS_V4"
	assert_ok reach lan2 "$BWE_SITE_V4"
	local q; q=$(bwctl --json list quarantine)
	assert_eq "$(jq -r 'map(.host) | sort | join(",")' <<<"$q")" "$BWE_LAN_V4,$BWE_LAN_V6" "list hosts"
	assert_eq "$(jq -r '.[0].reason' <<<"$q")" "proxyware suspected" "reason"
	assert_eq "$(jq -r '.[0].expires' <<<"$q")" null "expires"
	jq -e '.[0].actor | test("uid=0")' <<<"$q" >/dev/null || t_fail "actor: $(jq -r '.[0].actor' <<<"$q")"
	jq -e '.[0].since | test("^[0-9]{4}-")' <<<"$q" >/dev/null || t_fail "since"
	grep -q '"action":"quarantine"' "$LOG" || t_fail "no quarantine event in $LOG"
	grep -q '"technique":{"id":"T1496.002"' "$LOG" || t_fail "no technique id in $LOG"
	assert_ok bwctl release "$BWE_LAN_V4" "$BWE_LAN_V6" --reason "cleaned"
	assert_ok reach lan "$BWE_SITE_V4"
	assert_ok reach lan "$BWE_SITE_V6"
	grep -q '"action":"release"' "$LOG" || t_fail "no release event"
}
t_run "quarantine isolates a host except exempt servers; release restores it" t_test_quarantine

t_test_quarantine_events() {
	assert_ok bwctl quarantine "$BWE_LAN2_V4"
	reach lan2 "$BWE_SITE_V4"
	sleep 0.5
	grep '"action":"quarantine-drop"' "$LOG" | grep -q "\"$BWE_LAN2_V4\"" || t_fail "no quarantine-drop event"
	assert_ok bwctl release "$BWE_LAN2_V4"
}
t_run "a quarantine drop becomes an ECS event" t_test_quarantine_events

t_test_ttl() {
	assert_ok bwctl quarantine "$BWE_LAN2_V4" --ttl 2s
	assert_ok unreach lan2 "$BWE_SITE_V4"
	local i
	for i in $(seq 1 40); do
		[ "$(bwctl --json list quarantine | jq length)" = 0 ] && break
		sleep 0.25
	done
	assert_eq "$(bwctl --json list quarantine | jq length)" 0 "entry expired"
	assert_ok reach lan2 "$BWE_SITE_V4"
	grep '"action":"expire"' "$LOG" | grep -q "$BWE_LAN2_V4" || t_fail "no expire event"
}
t_run "a quarantine with a TTL ends by itself, as an event" t_test_ttl

t_test_refusals() {
	assert_fail bwctl quarantine 198.51.100.200
	assert_fail bwctl quarantine "$BWE_SITE_V4"            # not internal
	assert_fail bwctl quarantine "$BWE_GW_LAN_V4"          # the gateway itself
	assert_ok bwctl quarantine "$BWE_GW_LAN_V4" --force
	assert_ok bwctl release "$BWE_GW_LAN_V4"
	assert_fail bwctl block "$BWE_LAN_V4"                  # internal
	assert_fail bwctl block "$BWE_MGMT_V4"                 # exempt
}
t_run "quarantine and block refuse what they must not touch" t_test_refusals

t_test_throttle() {
	assert_ok bwctl throttle "$BWE_LAN_V4" 10mbit --burst 64k
	local t; t=$(bwctl --json list throttle)
	assert_eq "$(jq -r '.[0].rate' <<<"$t")" 1250000 "rate in bytes/s"
	assert_eq "$(jq -r '.[0].burst' <<<"$t")" 65536 "burst"
	# one bucket per address of the host (its MAC's other addresses too: e2e_identity)
	assert_eq "$(bpftool -j map dump pinned "$DIR/bpf/bwe/bwe_throttle" | jq length)" \
		"$(jq length <<<"$t")" "buckets in the map"
	assert_eq "$(bwctl --json lookup "$BWE_LAN_V4" | jq -r .verdict)" throttle "lookup"
	assert_ok reach lan "$BWE_SITE_V4"
	assert_ok bwctl unthrottle "$BWE_LAN_V4"
	assert_eq "$(bpftool -j map dump pinned "$DIR/bpf/bwe/bwe_throttle" | jq length)" 0 "bucket removed"
}
t_run "throttle sets a token bucket, unthrottle removes it" t_test_throttle

t_test_exempt_allow() {
	assert_ok bwctl exempt "$BWE_SITE_V4"
	assert_ok bwctl quarantine "$BWE_LAN_V4"
	assert_ok reach lan "$BWE_SITE_V4"
	assert_ok unreach lan "$BWE_C2_V4"
	assert_ok bwctl unexempt "$BWE_SITE_V4"
	assert_ok unreach lan "$BWE_SITE_V4"
	assert_ok bwctl release "$BWE_LAN_V4"
	assert_ok bwctl block "$BWE_RELAY_V4"
	assert_ok bwctl allow "$BWE_RELAY_V4"
	assert_ok reach lan "$BWE_RELAY_V4"
	assert_eq "$(bwctl --json lookup "$BWE_RELAY_V4" | jq -r .reason)" allow "allow wins"
	assert_ok bwctl unallow "$BWE_RELAY_V4"
	assert_ok unreach lan "$BWE_RELAY_V4"
	assert_ok bwctl unblock "$BWE_RELAY_V4"
}
t_run "exempt and allow entries open exactly what they name" t_test_exempt_allow

t_test_top_stats() {
	lan ping -c 5 -i 0.2 -q "$BWE_SITE_V4" >/dev/null
	local top; top=$(bwctl --json top --once -n 10)
	local tx; tx=$(jq -r --arg h "$BWE_LAN_V4" '.[] | select(.host == $h) | .tx_packets' <<<"$top")
	[ -n "$tx" ] && [ "$tx" -ge 5 ] || t_fail "top: lan host tx_packets '$tx' < 5: $top"
	jq -e '.[0] | has("tx_bytes") and has("rx_bytes") and has("drop_bytes") and has("tx_bps")' \
		<<<"$top" >/dev/null || t_fail "top fields"
	local s; s=$(bwctl --json stats)
	[ "$(jq -r .reasons.pass.packets <<<"$s")" -gt 0 ] || t_fail "stats pass"
	[ "$(jq -r .reasons.quarantine.packets <<<"$s")" -gt 0 ] || t_fail "stats quarantine"
}
t_run "top and stats show accounting" t_test_top_stats

t_test_mac_and_name() {
	# the gateway's neighbour table knows lan2 after traffic; its MAC names all its IPs
	reach lan2 "$BWE_SITE_V4"; reach lan2 "$BWE_SITE_V6"
	gw ping -c1 -W1 "$BWE_LAN2_V6" >/dev/null 2>&1
	assert_ok bwctl quarantine "$BWE_LAN2_MAC" --reason "by mac"
	local hosts; hosts=$(bwctl --json list quarantine | jq -r 'map(.host) | sort | join(",")')
	assert_eq "$hosts" "$(printf '%s\n' "$BWE_LAN2_V4" "$BWE_LAN2_V6" | sort | paste -sd,)" "hosts of the MAC"
	assert_ok unreach lan2 "$BWE_SITE_V4"
	assert_ok bwctl release "$BWE_LAN2_MAC"
	assert_eq "$(bwctl --json list quarantine | jq length)" 0 "released by MAC"
	# a MAC the neighbour table lacks: contained by the MAC alone (no address yet)
	assert_ok bwctl quarantine 02:00:00:00:99:99
	assert_eq "$(bwctl --json list quarantine | jq -r '.[] | "\(.host) \(.mac)"')" "null 02:00:00:00:99:99" "MAC alone"
	assert_ok bwctl release 02:00:00:00:99:99
	assert_eq "$(bwctl quarantine ff:ff:ff:ff:ff:ff >/dev/null 2>&1; echo $?)" 2 "broadcast MAC"
	# a hostname resolves to all its addresses (the namespace's own /etc/hosts)
	assert_ok bwctl quarantine "$BWE_NAME" --ttl 1h
	assert_eq "$(bwctl --json list quarantine | jq -r '.[0].host')" "$BWE_LAN2_V4" "host by name"
	assert_ok bwctl release "$BWE_NAME"
}
t_run "quarantine and release by MAC address and by hostname" t_test_mac_and_name

t_test_attach_modes() {
	assert_ok bwctl detach lan0
	assert_fail gw sh -c 'ip link show dev lan0 | grep -q xdp'
	assert_eq "$(bwctl --json status | jq -r '.interfaces[] | select(.name=="lan0") | .state')" detached "state"
	assert_ok bwctl attach lan0 --mode generic
	assert_eq "$(bwctl --json status | jq -r '.interfaces[] | select(.name=="lan0") | .attached_mode')" generic "mode"
	assert_ok gw sh -c 'ip link show dev lan0 | grep -q xdpgeneric'
	assert_ok bwctl block "$BWE_C2_V4"
	assert_ok unreach lan "$BWE_C2_V4"
	assert_ok bwctl unblock "$BWE_C2_V4"
	assert_ok bwctl attach lan0 --mode native
	assert_eq "$(bwctl --json status | jq -r '.interfaces[] | select(.name=="lan0") | .attached_mode')" native "mode back"
	assert_eq "$(bwctl attach nosuch0 >/dev/null 2>&1; echo $?)" 1 "missing interface"
}
t_run "detach and attach an interface, in generic and native mode" t_test_attach_modes

# ---- bad input: nothing may change -----------------------------------------
snapshot() { bwctl --json list quarantine; bwctl --json list blocks; bwctl --json list throttle; \
	bwctl --json list exempt; bwctl --json list allow; cat "$DIR/state/state.json" 2>/dev/null; }

t_test_bad_input() {
	assert_ok bwctl quarantine "$BWE_LAN2_V4" --reason keep
	local before after rc
	before=$(snapshot)
	local cmd
	while IFS= read -r cmd; do
		[ -n "$cmd" ] || continue
		eval "bwctl $cmd" >/dev/null 2>&1
		rc=$?
		[ $rc -eq 2 ] || t_fail "bwctl $cmd: exit $rc, want 2"
	done <<'EOC'
quarantine 198.18.0.300
quarantine not_a_host!
quarantine 0.0.0.0/0
block 0.0.0.0/0
block ::/0
block 10.0.0.0/4
allow 0.0.0.0/1 128.0.0.0/1
allow ::/1
exempt 0.0.0.0/1
exempt 2000::/3
quarantine 198.18.0.12 --ttl 99999d
quarantine 198.18.0.12 --ttl -5s
quarantine 198.18.0.12 --reason "$(head -c 2000 /dev/zero | tr '\0' x)"
quarantine 198.18.0.12 --bogus-flag
throttle 198.18.0.12 fastest
throttle 198.18.0.12 0kbit
throttle 198.18.0.12 10mbit --burst lots
list everything
top --sort sideways --once
lookup 1.2.3.4.5
frobnicate
attach ""
EOC
	after=$(snapshot)
	assert_eq "$after" "$before" "state after bad input"
	assert_ok bwctl release "$BWE_LAN2_V4"
}
t_run "bad input is refused with exit 2 and changes nothing" t_test_bad_input

t_test_socket_garbage() {
	python3 - "$SOCK" <<'EOP' || t_fail "raw socket client failed"
import json, socket, struct, sys
path = sys.argv[1]
def call(payload, hdr=None):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(path)
    s.sendall(struct.pack(">I", len(payload) if hdr is None else hdr) + payload)
    h = s.recv(4)
    if len(h) < 4:
        return None
    n = struct.unpack(">I", h)[0]
    buf = b""
    while len(buf) < n:
        c = s.recv(n - len(buf))
        if not c: break
        buf += c
    return json.loads(buf)
r = call(b"this is not json")
assert r and not r["ok"] and r["status"] == 2, r
r = call(b"{}", hdr=100 * 1024 * 1024)
assert r and not r["ok"] and r["status"] == 2, r
r = call(b'{"cmd": 42}')
assert r and not r["ok"], r
r = call(json.dumps({"cmd": "quarantine", "hosts": "198.18.0.12"}).encode())
assert r and not r["ok"] and r["status"] == 2, r
r = call(json.dumps({"cmd": "quarantine", "hosts": [1, 2]}).encode())
assert r and not r["ok"] and r["status"] == 2, r
r = call(json.dumps({"cmd": "status"}).encode())
assert r and r["ok"], r
EOP
	assert_ok bwctl status
}
t_run "malformed and oversized requests get an error, never a crash" t_test_socket_garbage

t_test_unprivileged() {
	local before; before=$(snapshot)
	chmod 0666 "$SOCK"
	local out rc
	out=$(ip netns exec "$BWE_NS_GW" setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$BWCTL_BIN" --socket "$SOCK" quarantine "$BWE_LAN2_V4" 2>&1)
	rc=$?
	chmod 0600 "$SOCK"
	[ $rc -ne 0 ] || t_fail "unprivileged quarantine succeeded"
	grep -q "permission denied" <<<"$out" || t_fail "no permission error: $out"
	assert_eq "$(snapshot)" "$before" "state after refused peer"
	grep -q "refused control request from uid=65534" "$DIR/bwctld.log" || t_fail "refusal not logged"
}
t_run "a socket peer without rights is refused and logged" t_test_unprivileged

# ---- the control socket under hostile clients (issue #11: 13, 14) -----------
# A raw client of the protocol, for what bwctl would never send.
cat >"$SOCKDIR/ctlclient.py" <<'EOP'
import json, socket, struct, sys, time
path = sys.argv[1]
def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(30)
    s.connect(path)
    return s
def frame(obj):
    b = json.dumps(obj).encode()
    return struct.pack(">I", len(b)) + b
def recv_reply(s):
    h = b""
    while len(h) < 4:
        c = s.recv(4 - len(h))
        if not c: return None
        h += c
    n = struct.unpack(">I", h)[0]
    buf = bytearray()
    while len(buf) < n:
        c = s.recv(min(1 << 20, n - len(buf)))
        if not c: return None
        buf += c
    return json.loads(buf), n
def call(obj):
    s = conn(); s.sendall(frame(obj)); r = recv_reply(s); s.close(); return r
cmd = sys.argv[2]
if cmd == "call":            # call JSON: print the reply
    r = call(json.loads(sys.argv[3]))
    print(json.dumps(r[0]))
elif cmd == "fill":          # fill N: N blocks of v6 hosts with long reasons
    n, reason = int(sys.argv[3]), "r" * 200
    for start in range(0, n, 2000):
        cidrs = ["2001:db8:ffff::%x:%x" % (i >> 16, i & 0xffff) for i in range(start, min(n, start + 2000))]
        r = call({"cmd": "block", "cidrs": cidrs, "reason": reason})[0]
        assert r["ok"], r
    r, size = call({"cmd": "list", "kind": "blocks"})
    print(size)
elif cmd == "stall":         # stall SECONDS CUT: the two bad clients, then how they ended
    secs = float(sys.argv[3])
    a = conn(); a.sendall(frame({"cmd": "list", "kind": "blocks"}))  # never reads
    b = conn(); req = frame({"cmd": "status"}); b.setblocking(False)
    worst, n, t0, sent = 0.0, 0, time.time(), 0
    while time.time() - t0 < secs:
        if sent < len(req) - 1 and time.time() - t0 >= sent:   # one byte a second
            b.send(req[sent:sent + 1]); sent += 1
        t = time.time()
        r = call({"cmd": "status"})
        worst = max(worst, time.time() - t); n += 1
        assert r and r[0]["ok"], r
        time.sleep(0.2)
    print("worst_ms=%d calls=%d" % (worst * 1000, n))
    # both are cut off by the deadline (argv[4] s after they came): A's reply
    # ends early, B hears nothing
    time.sleep(max(0, t0 + float(sys.argv[4]) - time.time()))
    a.settimeout(15); b.setblocking(True); b.settimeout(15)
    got = 0
    try:
        while True:
            c = a.recv(1 << 20)
            if not c: break
            got += len(c)
    except OSError:
        pass
    print("a_got=%d" % got)
    try:
        print("b_got=%d" % len(b.recv(100)))
    except OSError as e:
        print("b_err=%s" % e)
elif cmd == "crowd":         # crowd N [HOLD]: N idle clients, one more with a request; hold HOLD s
    idle = [conn() for _ in range(int(sys.argv[3]))]
    time.sleep(0.3)
    s = conn()
    try:
        s.sendall(frame({"cmd": "status"}))
        r = recv_reply(s)
        print(json.dumps(r[0]) if r else "closed", flush=True)
    except OSError as e:
        print("error %s" % e, flush=True)
    time.sleep(float(sys.argv[4]) if len(sys.argv) > 4 else 0)
    for c in idle: c.close()
EOP
ctlpy() { gw python3 "$SOCKDIR/ctlclient.py" "$SOCK" "$@"; }

t_test_stalled_clients() {
	write_config "control_timeout: 6s"
	hup_daemon
	local size; size=$(ctlpy fill 4000)
	[ -n "$size" ] && [ "$size" -ge $((1024 * 1024)) ] || t_fail "list reply is only '$size' bytes"
	assert_ok bwctl quarantine "$BWE_LAN2_V4" --ttl 2s
	local out t0=$SECONDS
	ctlpy stall 4 8 >"$DIR/stall.out" 2>&1 &
	local spid=$!
	# the TTL runs out on time while both clients hang on
	local i gone=0
	for i in $(seq 1 16); do
		sleep 0.25
		[ "$(bwctl --json list quarantine | jq length)" = 0 ] && { gone=1; break; }
	done
	[ $gone = 1 ] || t_fail "TTL of 2 s did not expire within 4 s while clients stalled"
	[ $((SECONDS - t0)) -le 5 ] || t_fail "expiry took $((SECONDS - t0)) s"
	wait $spid
	out=$(cat "$DIR/stall.out")
	local worst; worst=$(sed -n 's/^worst_ms=\([0-9]*\).*/\1/p' <<<"$out")
	[ -n "$worst" ] && [ "$worst" -lt 100 ] || t_fail "status answered in ${worst:-?} ms (want < 100): $out"
	local got; got=$(sed -n 's/^a_got=//p' <<<"$out")
	[ -n "$got" ] && [ "$got" -lt "$size" ] || t_fail "the non-reading client was not cut off: $out"
	grep -q '^b_got=0\|^b_err' <<<"$out" || t_fail "the slow client was answered: $out"
	grep -q "reply not taken within 6 s" "$DIR/bwctld.log" || t_fail "no log of the reader cut off"
	grep -q "no complete request within 6 s" "$DIR/bwctld.log" || t_fail "no log of the slow sender cut off"
	echo "status worst $worst ms; list reply $size bytes; reader took $got bytes before the cut" >&2
	assert_ok bwctl status
	# the 4000 blocks go again
	gw python3 - "$SOCK" <<'EOP' || t_fail "unblock of the fill failed"
import json, socket, struct, sys
for start in range(0, 4000, 2000):
    cidrs = ["2001:db8:ffff::%x:%x" % (i >> 16, i & 0xffff) for i in range(start, start + 2000)]
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
    b = json.dumps({"cmd": "unblock", "cidrs": cidrs}).encode()
    s.sendall(struct.pack(">I", len(b)) + b)
    n = struct.unpack(">I", s.recv(4))[0]; buf = b""
    while len(buf) < n: buf += s.recv(n - len(buf))
    assert json.loads(buf)["ok"]
EOP
	assert_eq "$(bwctl --json list blocks | jq length)" 0 "blocks left"
	write_config
	hup_daemon
}
t_run "a client sending 1 byte/s and one never reading 1 MB stall nothing: status < 100 ms, TTL on time" t_test_stalled_clients

t_test_client_cap() {
	write_config "control_max_clients: 4"
	hup_daemon
	# the crowd is uid 65534 (no role): the cap holds for everyone but admins
	chmod 0666 "$SOCK"
	gw setpriv --reuid=65534 --regid=65534 --clear-groups \
		/usr/bin/python3 "$SOCKDIR/ctlclient.py" "$SOCK" crowd 4 3 >"$DIR/crowd.out" 2>&1 &
	local cpid=$! out i
	for i in $(seq 1 30); do [ -s "$DIR/crowd.out" ] && break; sleep 0.1; done
	# root (admin) is served while the crowd holds every slot
	bwctl status >/dev/null 2>&1 || t_fail "root was not served over the cap"
	wait $cpid
	chmod 0600 "$SOCK"
	out=$(cat "$DIR/crowd.out")
	grep -q '"ok": false' <<<"$out" && grep -q "busy: 4 control clients already connected" <<<"$out" || \
		t_fail "the client over the cap got: $out"
	grep -q "client(s) refused: 4 already connected" "$DIR/bwctld.log" || t_fail "refusal not logged"
	out=$(ctlpy crowd 3)
	grep -q '"ok": true' <<<"$out" || t_fail "a client under the cap got: $out"
	assert_ok bwctl status
	write_config
	hup_daemon
}
t_run "over control_max_clients a client gets a clear error, logged; root is still served" t_test_client_cap

t_test_hostile_arguments() {
	local out before; before=$(snapshot)
	# force must be a boolean: "yes" would have forced a quarantine of the gateway
	out=$(ctlpy call "{\"cmd\":\"quarantine\",\"hosts\":[\"$BWE_GW_LAN_V4\"],\"force\":\"yes\"}")
	grep -q "force must be true or false" <<<"$out" || t_fail "force \"yes\": $out"
	out=$(ctlpy call "{\"cmd\":\"quarantine\",\"hosts\":[\"$BWE_GW_LAN_V4\"],\"force\":1}")
	grep -q "force must be true or false" <<<"$out" || t_fail "force 1: $out"
	assert_eq "$(snapshot)" "$before" "state after bad force"
	# what the client says it ran is logged with control characters escaped
	out=$(ctlpy call "{\"cmd\":\"quarantine\",\"hosts\":[\"$BWE_LAN2_V4\"],\"argv\":\"bwctl \\u001b[2J\\nFAKE request status from uid=0\"}")
	grep -q '"ok": true' <<<"$out" || t_fail "quarantine with odd argv: $out"
	grep '"action":"quarantine"' "$LOG" | grep -F "$BWE_LAN2_V4" | grep -qF 'bwctl \\x1b[2J\\x0aFAKE' || \
		t_fail "argv not escaped in the event: $(grep -F "$BWE_LAN2_V4" "$LOG" | tail -1)"
	grep -q 'FAKE request' "$DIR/bwctld.log" && ! grep -q '^FAKE request' "$DIR/bwctld.log" || \
		t_fail "a forged log line in bwctld.log"
	! grep -q $'\x1b' "$DIR/bwctld.log" "$LOG" || t_fail "raw escape character logged"
	assert_ok bwctl release "$BWE_LAN2_V4"
}
t_run "force only true/false; client text escaped in the logs" t_test_hostile_arguments

t_test_event_flood() {
	write_config "event_limits:
  rate: 1
  burst: 10
  summary: 2s"
	hup_daemon
	assert_ok bwctl block 203.0.113.0/24 --reason flood-test
	local n0; n0=$(wc -l <"$LOG")
	# 250 distinct blocked peers: 250 blocklist hits (the kernel dedups per host and peer)
	lan python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(1, 251):
    s.sendto(b"x", ("203.0.113.%d" % i, 9))
'
	local i hits sup
	for i in $(seq 1 30); do
		sleep 0.25
		grep -q '"action":"events-suppressed"' <(tail -n +$((n0 + 1)) "$LOG") && break
	done
	hits=$(tail -n +$((n0 + 1)) "$LOG" | grep -c '"event":{"action":"blocklist-hit"')
	sup=$(tail -n +$((n0 + 1)) "$LOG" | grep '"event":{"action":"events-suppressed"' | head -1)
	[ "$hits" -ge 5 ] && [ "$hits" -le 20 ] || t_fail "$hits blocklist-hit events written, want 10 and a few"
	[ -n "$sup" ] || t_fail "no events-suppressed summary"
	local cnt; cnt=$(jq -r '.bwenforce.suppressed.count' <<<"$sup")
	[ "$(jq -r '.bwenforce.suppressed.action' <<<"$sup")" = blocklist-hit ] || t_fail "summary: $sup"
	[ "$((cnt + hits))" -ge 200 ] || t_fail "written $hits + suppressed $cnt < 200 hits: $sup"
	grep -q "events of type blocklist-hit suppressed in the last" "$DIR/bwctld.log" || t_fail "summary not in bwctld's log"
	# the operator's own changes are never held back, even now
	assert_ok bwctl unblock 203.0.113.0/24
	tail -n 3 "$LOG" | grep -q '"action":"unblock"' || t_fail "unblock event missing"
	echo "flood: $hits written, summary: $(jq -r .message <<<"$sup")" >&2
	write_config
	hup_daemon
}
t_run "an event flood is rate-limited per type and summarised; state changes are not" t_test_event_flood

t_test_event_log_reopen() {
	mv "$LOG" "$LOG.1"
	hup_daemon
	assert_ok bwctl quarantine "$BWE_LAN2_V4" --reason after-rotation
	assert_ok bwctl release "$BWE_LAN2_V4"
	[ -f "$LOG" ] || t_fail "no new event log after SIGHUP"
	grep -q 'after-rotation' "$LOG" || t_fail "new events not in the new file"
	! grep -q 'after-rotation' "$LOG.1" || t_fail "new events went to the rotated file"
	grep -q "event log $LOG reopened" "$DIR/bwctld.log" || t_fail "reopen not logged"
}
t_run "SIGHUP reopens the event log: after a rename new events land in a new file" t_test_event_log_reopen

# ---- restart, kill -9, interfaces, reload: top level (the daemon outlives tests)
t_begin "kill -9: enforcement continues; restart restores state and counters"
bwctl quarantine "$BWE_LAN_V4" --reason "survives" >/dev/null
bwctl block "$BWE_C2_V4" >/dev/null
reach lan "$BWE_SITE_V4"
before_q=$(bwctl --json stats | jq .reasons.quarantine.packets)
stop_daemon KILL
if reach lan "$BWE_SITE_V4" || ! reach lan2 "$BWE_SITE_V4" || reach lan2 "$BWE_C2_V4"; then
	t_fail "enforcement changed while the daemon was dead"
elif ! start_daemon; then
	t_fail "restart failed"
else
	after_q=$(bwctl --json stats | jq .reasons.quarantine.packets)
	q=$(bwctl --json list quarantine | jq -r '.[0].reason')
	if [ "$q" != survives ]; then t_fail "quarantine lost: $q"
	elif [ "$(bwctl --json list blocks | jq length)" != 1 ]; then t_fail "block lost"
	elif [ "$after_q" -le "$before_q" ]; then t_fail "counters reset: $before_q -> $after_q"
	elif reach lan "$BWE_SITE_V4" || reach lan2 "$BWE_C2_V4"; then t_fail "not enforced after restart"
	else t_pass; fi
fi
bwctl release "$BWE_LAN_V4" >/dev/null 2>&1
bwctl unblock "$BWE_C2_V4" >/dev/null 2>&1

t_begin "an interface deleted and recreated is re-attached"
gw ip link del lan0
sleep 0.3
[ "$(bwctl --json status | jq -r '.interfaces[] | select(.name=="lan0") | .state')" = missing ] || \
	t_fail "lan0 not reported missing"
ip link add lan0 netns "$BWE_NS_GW" address "$BWE_GW_LAN_MAC" type veth peer name p-gw netns "$BWE_NS_SW"
ip -n "$BWE_NS_SW" link set p-gw master br-lan up
gw ip addr add "$BWE_GW_LAN_V4/24" dev lan0
gw ip addr add "$BWE_GW_LAN_V6/64" dev lan0 nodad
gw ip link set lan0 up
ok=0
for _ in $(seq 1 30); do
	[ "$(bwctl --json status | jq -r '.interfaces[] | select(.name=="lan0") | .state')" = attached ] && { ok=1; break; }
	sleep 0.1
done
if [ $ok = 1 ] && gw ip link show dev lan0 | grep -q xdp; then
	bwctl block "$BWE_C2_V4" >/dev/null
	sleep 1
	if ! reach lan "$BWE_SITE_V4"; then t_fail "no traffic through the recreated lan0"
	elif reach lan "$BWE_C2_V4"; then t_fail "re-attached program does not enforce"
	else t_pass; fi
	bwctl unblock "$BWE_C2_V4" >/dev/null
else
	t_fail "lan0 not re-attached"
fi

t_begin "SIGHUP: a bad file is refused, a good one applied"
cp "$CFG" "$DIR/good.yaml"
echo "internal_networks: [ 198.18.0.0/33 ]" >>"$CFG"
hup_daemon
if ! bwctl status >/dev/null; then t_fail "daemon died on a bad reload"
elif ! grep -q "reload refused" "$DIR/bwctld.log"; then t_fail "bad reload not reported"
else
	write_config "monitor_only: true"
	hup_daemon
	bwctl block "$BWE_C2_V4" >/dev/null
	if [ "$(bwctl --json status | jq -r .monitor_only)" != true ]; then t_fail "reload not applied"
	elif ! reach lan "$BWE_C2_V4"; then t_fail "monitor_only did not pass the would-drop"
	else t_pass; fi
	bwctl unblock "$BWE_C2_V4" >/dev/null
	write_config
	hup_daemon
fi

# ---- roles and the socket's mode (issue #11: 14) ------------------------------
# Two throw-away groups; the peers are uid 65534 with one of them as a
# supplementary group (SO_PEERGROUPS), or none.
RO_GROUP=bwe-ro-$$ ADM_GROUP=bwe-adm-$$
groupadd "$RO_GROUP" && groupadd "$ADM_GROUP"
t_atexit "groupdel $RO_GROUP 2>/dev/null; groupdel $ADM_GROUP 2>/dev/null; true"
RO_GID=$(getent group "$RO_GROUP" | cut -d: -f3)
ADM_GID=$(getent group "$ADM_GROUP" | cut -d: -f3)
as_peer() { # GID|none BWCTL-ARGS...
	local g=$1; shift
	gw setpriv --reuid=65534 --regid=65534 \
		$([ "$g" = none ] && echo --clear-groups || echo --groups="$g") \
		"$BWCTL_BIN" --socket "$SOCK" "$@"
}
stop_daemon_traced() { # bwctld is strace's child: end it, strace follows
	local spid; spid=$(daemon_pid)
	[ -n "$spid" ] || return 0
	kill -TERM $(pgrep -P "$spid") 2>/dev/null
	for _ in $(seq 1 50); do kill -0 "$spid" 2>/dev/null || break; sleep 0.1; done
	rm -f "$PIDF"
}

t_begin "roles: control_readonly_group reads, control_group changes, anyone else is refused"
stop_daemon TERM
write_config "control_group: $ADM_GROUP
control_readonly_group: $RO_GROUP"
# bwctld under strace, to see how the socket file gets its mode
if ! start_daemon strace -f -qq -o "$DIR/strace.out" \
	-e trace=umask,bind,chmod,fchmod,fchmodat,chown,fchownat,setxattr >/dev/null; then
	t_fail "bwctld did not start under strace: $(tail -5 "$DIR/bwctld.log")"
else
	before=$(snapshot)
	ro_ok=1
	for c in status stats "list quarantine" "top --once" "lookup $BWE_C2_V4" feeds "report $BWE_LAN_V4"; do
		# shellcheck disable=SC2086
		as_peer "$RO_GID" $c >/dev/null 2>&1 || { ro_ok=0; t_fail "read-only peer: bwctl $c refused"; }
	done
	out=$(as_peer "$RO_GID" quarantine "$BWE_LAN2_V4" 2>&1); rc=$?
	if [ $ro_ok = 1 ] && [ $rc -ne 1 ]; then t_fail "read-only quarantine: exit $rc: $out"
	elif ! grep -qF "permission denied: 'quarantine' needs the admin role; uid 65534 is read-only" <<<"$out"; then
		t_fail "read-only quarantine: $out"
	elif ! as_peer "$RO_GID" allow 0.0.0.0/1 128.0.0.0/1 2>&1 | grep -qF "'allow' needs the admin role"; then
		t_fail "read-only peer could ask for allow 0.0.0.0/1"
	elif ! as_peer "$RO_GID" detach 2>&1 | grep -qF "'detach' needs the admin role"; then
		t_fail "read-only peer could ask for detach"
	elif [ "$(snapshot)" != "$before" ]; then t_fail "state changed by a read-only peer"
	elif ! gw ip link show dev wan0 | grep -q xdp; then t_fail "detached by a read-only peer"
	elif ! grep -q "refused control request quarantine from uid=65534" "$DIR/bwctld.log"; then
		t_fail "role refusal not logged"
	elif ! as_peer "$ADM_GID" quarantine "$BWE_LAN2_V4" >/dev/null 2>&1 || \
		! as_peer "$ADM_GID" release "$BWE_LAN2_V4" >/dev/null 2>&1; then
		t_fail "admin peer refused"
	elif as_peer none status >/dev/null 2>&1; then t_fail "a peer in neither group was served"
	elif [ "$(stat -c '%a %G' "$SOCK")" != "660 $ADM_GROUP" ]; then
		t_fail "socket mode: $(stat -c '%a %G' "$SOCK")"
	elif ! python3 -c 'import os,sys; os.getxattr(sys.argv[1], "system.posix_acl_access")' "$SOCK"; then
		t_fail "no ACL for the read-only group on the socket"
	else
		# the mode comes from a umask around bind(); nothing chmods the socket after it
		tr=$(grep -E 'umask|bind\(|chmod|chown|setxattr' "$DIR/strace.out" | grep -v 'AF_NETLINK\|AF_INET')
		if ! grep -A1 'umask(0117)' <<<"$tr" | grep -qF "bind(" ; then t_fail "no umask(0117) right before bind: $tr"
		elif grep -A100 "bind(.*$SOCK" <<<"$tr" | grep -E "chmod.*($SOCK|\")" | grep -qF "$SOCK"; then
			t_fail "socket chmod'ed after bind: $tr"
		else t_pass; fi
	fi
fi
stop_daemon_traced
write_config
start_daemon || { t_fail "restart after the role test"; t_summary; exit 1; }

t_begin "SIGTERM leaves the data plane enforcing; bwctl detach removes it"
bwctl block "$BWE_C2_V4" >/dev/null
stop_daemon TERM
if ! gw ip link show dev wan0 | grep -q xdp; then t_fail "program gone after SIGTERM"
elif [ ! -e "$DIR/bpf/bwe/bwe_bl_host4" ]; then t_fail "maps not pinned"
elif reach lan "$BWE_C2_V4"; then t_fail "not enforcing after SIGTERM"
elif ! start_daemon; then t_fail "restart"
elif ! bwctl detach >/dev/null; then t_fail "detach"
elif gw ip link show dev wan0 | grep -q xdp || gw ip link show dev lan0 | grep -q xdp; then t_fail "xdp still attached"
elif ! reach lan "$BWE_C2_V4"; then t_fail "still dropping after detach"
elif [ -e "$DIR/bpf/bwe/bwe_bl_host4" ]; then t_fail "maps still pinned after detach of all"
else t_pass; fi

t_summary
