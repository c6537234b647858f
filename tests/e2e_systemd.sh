#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# e2e_systemd.sh - systemd/bwctld.service is proven, not assumed:
#  - systemd-analyze verify accepts it, and its exposure score
#    (systemd-analyze security --offline=yes) is no higher than the level
#    docs/deployment.md documents;
#  - bwctld runs on the testbed with exactly the unit's capabilities (read
#    from the unit, so test and unit cannot drift; uid 0 with
#    SECBIT_NOROOT so root's implicit capabilities hide no missing one):
#    attach, a quarantine that drops a ping, release, a feed loaded and
#    enforced, the feed worker as nobody; without any one of them it stops at
#    once naming the capability;
#  - every system call it makes is allowed by the unit's SystemCallFilter;
#  - sd_notify with a NOTIFY_SOCKET the test owns: READY=1 only once the
#    interfaces are attached and a slow feed is enforced, STATUS= lines,
#    WATCHDOG=1 at half WATCHDOG_USEC, RELOADING=1 then READY=1 on SIGHUP,
#    STOPPING=1 on SIGTERM; READY=1 after a bounded wait when a feed hangs.
. "$(dirname "$0")/lib.sh"
t_require_root

. "$(dirname "$0")/lib_bwe.sh"
T_TIMEOUT=${T_TIMEOUT:-60}
UNIT=$ROOT/systemd/bwctld.service
DOC=$ROOT/docs/deployment.md
RECV=$ROOT/tests/tools/notify_recv.py

# Every value of KEY= in the unit, joined by spaces (KEY may repeat).
unit_values() {
	sed -n "s/^$1=//p" "$UNIT" | tr '\n' ' ' | sed 's/ *$//'
}
# "CAP_A CAP_B" -> "+a,+b" for setpriv
setpriv_caps() {
	local c out=""
	for c in $1; do
		c=${c#CAP_}
		out="$out,+${c,,}"
	done
	echo "${out#,}"
}
# The unit's privileges, for bwctld run by hand: uid 0 without root's
# implicit capabilities, the caps as ambient (what the unit's
# AmbientCapabilities= and SecureBits=noroot give), no_new_privs.
unit_wrapper() { # CAPS
	local c; c=$(setpriv_caps "$1")
	echo "setpriv --reuid=0 --regid=0 --clear-groups --no-new-privs" \
		"--inh-caps=-all${c:+,$c} --ambient-caps=-all${c:+,$c} --bounding-set=-all${c:+,$c}" \
		"--securebits=+noroot,+noroot_locked"
}
# Capability names of a hex mask from /proc/PID/status, sorted.
decode_caps() {
	capsh --decode="$1" | sed 's/.*=//' | tr ',' '\n' | tr 'a-z' 'A-Z' | sort | tr '\n' ' ' | sed 's/ *$//'
}
proc_caps() { # PID FIELD
	decode_caps "$(awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status")"
}
sorted() { tr ' ' '\n' <<<"$1" | grep . | sort | tr '\n' ' ' | sed 's/ *$//'; }

CAPS=$(unit_values CapabilityBoundingSet)

# ---------------------------------------------------------------- the unit

t_tmpdir UDIR
mkdir -p "$UDIR/man/man8" "$UDIR/man/man5"
ln -s "$ROOT/docs/man/bwctld.8" "$UDIR/man/man8/bwctld.8"
ln -s "$ROOT/docs/man/bwenforce.yaml.5" "$UDIR/man/man5/bwenforce.yaml.5"
verify() { # UNITFILE: systemd-analyze verify's complaints (none: empty)
	local d; d=$(mktemp -d "$UDIR/v.XXXXXX")
	sed "s|^ExecStart=@SBINDIR@/bwctld|ExecStart=$BWCTLD|" "$1" >"$d/bwctld.service"
	MANPATH="$UDIR/man" SYSTEMD_LOG_LEVEL=notice systemd-analyze verify "$d/bwctld.service" 2>&1
	echo "rc=$?"
}
t_test_verify() {
	local out
	out=$(verify "$UNIT")
	assert_eq "$out" "rc=0" "systemd-analyze verify (ExecStart: the built binary, man pages: docs/man)"
	# the check can fail: a misspelt directive is reported
	sed 's/^ProtectSystem=/ProtectSytem=/' "$UNIT" >"$UDIR/typo.service"
	out=$(verify "$UDIR/typo.service")
	assert_ok grep -q "Unknown key 'ProtectSytem'" <<<"$out"
}
t_run "systemd-analyze verify accepts the unit" t_test_verify

exposure() { # UNITFILE -> "2.7" (analysed as installed: @SBINDIR@ is /usr/sbin)
	local d; d=$(mktemp -d -p "$UDIR")
	sed 's|@SBINDIR@|/usr/sbin|g' "$1" >"$d/bwctld.service"
	systemd-analyze security --offline=yes "$d/bwctld.service" 2>/dev/null |
		sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p'
}
t_test_exposure() {
	local doc got bare
	doc=$(sed -n 's/.*exposure level is \*\*\([0-9.]*\)\*\*.*/\1/p' "$DOC" | head -1)
	[ -n "$doc" ] || t_fail "docs/deployment.md documents no 'exposure level is **N.N**'"
	got=$(exposure "$UNIT")
	[ -n "$got" ] || t_fail "systemd-analyze security printed no exposure level"
	echo "exposure: $got (documented: $doc)"
	assert_ok awk -v g="$got" -v d="$doc" 'BEGIN { exit !(g <= d) }'
	# the check can fail: the same unit without its capability limits scores worse
	grep -v '^CapabilityBoundingSet=\|^AmbientCapabilities=\|^SecureBits=' "$UNIT" >"$UDIR/bare.service"
	bare=$(exposure "$UDIR/bare.service")
	assert_ok awk -v g="$bare" -v d="$doc" 'BEGIN { exit !(g > d) }'
}
t_run "the exposure score is no higher than docs/deployment.md says" t_test_exposure

t_test_caps_consistent() {
	[ -n "$CAPS" ] || t_fail "no CapabilityBoundingSet= in the unit"
	assert_eq "$(sorted "$(unit_values AmbientCapabilities)")" "$(sorted "$CAPS")" \
		"AmbientCapabilities= and CapabilityBoundingSet="
	assert_eq "$(unit_values SecureBits)" "noroot noroot-locked" "SecureBits="
	assert_eq "$(unit_values NoNewPrivileges)" "yes" "NoNewPrivileges="
}
t_run "the unit grants its capabilities as ambient, with noroot" t_test_caps_consistent

# ---------------------------------------------------------------- on the testbed

bwe_testbed_up sysd
mkdir -p "$DIR/feeds" "$DIR/www/slow"
echo "$BWE_C2_V4" >"$DIR/feeds/c2.txt"
echo "$BWE_RELAY_V4" >"$DIR/www/slow/relay.txt"
gw ip link set lo up
SLOW_PORT=18091
SLOW_S=3
setsid ip netns exec "$BWE_NS_GW" python3 "$ROOT/tests/tools/slow_http.py" 127.0.0.1 "$SLOW_PORT" \
	"$DIR/www" "$SLOW_S" >/dev/null 2>&1 &
t_atexit "kill $! 2>/dev/null; true"
HANG_PORT=18092
setsid ip netns exec "$BWE_NS_GW" python3 "$ROOT/tests/tools/slow_http.py" 127.0.0.1 "$HANG_PORT" \
	"$DIR/www" 50 >/dev/null 2>&1 &
t_atexit "kill $! 2>/dev/null; true"

FEED_LOCAL="  - { name: c2, source: $DIR/feeds/c2.txt, format: plain, refresh: 1h }"
# the groups make bwctld chown its socket and add an ACL: CAP_CHOWN and the
# ACL are exercised too
write_config "control_group: adm
control_readonly_group: daemon
feeds:
$FEED_LOCAL"

# Each test starts from nothing: no program attached, no pins, no state.
reset_dataplane() {
	gw ip link set dev lan0 xdp off 2>/dev/null
	gw ip link set dev wan0 xdp off 2>/dev/null
	rm -rf "$DIR/bpf/bwe" "$DIR/bpf/xdp" "$DIR/state"
}
# bwctld runs under strace here: stop bwctld itself (strace detaches on TERM).
stop_traced() { # PID
	kill -TERM "$1" 2>/dev/null
	wait_for 50 eval "! kill -0 $1 2>/dev/null"
	stop_daemon TERM
}

# A daemon that exits at once: its status and its stderr.
run_briefly() { # WRAPPER
	LIBXDP_BPFFS="$DIR/bpf" timeout 10 ip netns exec "$BWE_NS_GW" $1 "$BWCTLD" -f -c "$CFG" 2>&1
	echo "rc=$?"
}

t_test_unit_caps() {
	local pid st w rw
	reset_dataplane
	# the unit's file system: all read-only but its directories (the
	# state, socket and log directories and ReadWritePaths=, made first as
	# systemd and ExecStartPre= do); the event log in a directory of its own
	sed -i "s|^  event_log: .*|  event_log: $DIR/log/events.json|" "$CFG"
	mkdir -p "$DIR/state" "$DIR/log" "$DIR/bpf/bwe" "$DIR/bpf/xdp"
	rw="$DIR/state:$SOCKDIR:$DIR/log:$DIR/bpf/bwe:$DIR/bpf/xdp"
	start_daemon strace -f -qq -o "$DIR/strace.txt" unshare -m --propagation private \
		"$ROOT/tests/tools/protect_system.sh" "$rw" $(unit_wrapper "$CAPS") ||
		t_fail "bwctld did not start with the unit's capabilities and file system"
	assert_fail grep -q "protect_system: cannot" "$DIR/bwctld.log"
	# the programs' tick clock is measured without the kernel's configuration
	assert_fail grep -q "tick clock could not be measured" "$DIR/bwctld.log"
	pid=$(pgrep -n -f "^$BWCTLD -f -c $CFG")
	[ -n "$pid" ] || t_fail "no bwctld process"
	assert_eq "$(proc_caps "$pid" CapEff)" "$(sorted "$CAPS")" "the daemon's effective set"
	assert_eq "$(proc_caps "$pid" CapBnd)" "$(sorted "$CAPS")" "the daemon's bounding set"
	assert_eq "$(awk '$1 == "NoNewPrivs:" {print $2}' "/proc/$pid/status")" 1 "no_new_privs"
	# and it really sees the file system read-only outside those directories
	assert_ok nsenter -t "$pid" -m sh -c "! touch $DIR/probe 2>/dev/null && ! touch /var/tmp/bwe-probe.$$ 2>/dev/null"
	st=$(bwctl --json status)
	assert_eq "$(jq -r '[.interfaces[] | select(.state == "attached")] | length' <<<"$st")" 2 \
		"attached interfaces"
	assert_eq "$(stat -c %G "$SOCK")" adm "control socket group (chown)"
	# a read-only peer (the ACL's group) reads and may not change anything
	assert_ok gw setpriv --reuid=65534 --regid=65534 --groups="$(getent group daemon | cut -d: -f3)" \
		"$BWCTL_BIN" --socket "$SOCK" status
	assert_fail gw setpriv --reuid=65534 --regid=65534 --groups="$(getent group daemon | cut -d: -f3)" \
		"$BWCTL_BIN" --socket "$SOCK" quarantine "$BWE_LAN2_V4"
	assert_fail gw setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$BWCTL_BIN" --socket "$SOCK" status
	# the feed worker: nobody, no capabilities at all, its own seccomp filter
	wait_for 30 field_is c2 state ok || t_fail "feed c2: $(bwctl --json feeds)"
	w=$(bwctl --json status | jq -r .feed_worker.pid)
	[ "$w" != null ] && [ -d "/proc/$w" ] || t_fail "no feed worker (pid $w)"
	assert_eq "$(ps -o user= -p "$w")" nobody "feed worker user"
	assert_eq "$(awk '$1 == "CapEff:" || $1 == "CapPrm:" || $1 == "CapBnd:" {print $2}' "/proc/$w/status" | sort -u)" \
		0000000000000000 "feed worker capabilities"
	assert_eq "$(awk '$1 == "Seccomp:" {print $2}' "/proc/$w/status")" 2 "feed worker seccomp"
	# the feed's entry is enforced, a quarantine drops a ping, release restores it
	assert_ok reach lan "$BWE_SITE_V4"
	assert_ok unreach lan "$BWE_C2_V4"
	assert_ok bwctl quarantine "$BWE_LAN_V4" --reason "unit caps"
	assert_ok unreach lan "$BWE_SITE_V4"
	assert_ok reach lan "$BWE_MGMT_V4"
	assert_ok bwctl release "$BWE_LAN_V4"
	assert_ok reach lan "$BWE_SITE_V4"
	assert_ok grep -q '"action":"quarantine"' "$DIR/log/events.json"
	assert_ok test -s "$DIR/state/state.json"
	kill -HUP "$pid"
	sleep 0.5
	assert_eq "$(bwctl --json status | jq -r '[.interfaces[] | select(.state == "attached")] | length')" 2 \
		"attached after SIGHUP"
	stop_traced "$pid"
}
t_run "bwctld enforces with exactly the unit's capabilities and file system view" t_test_unit_caps

# What the daemon above did, against the unit's SystemCallFilter= lines.
t_test_syscalls() {
	[ -s "$DIR/strace.txt" ] || t_skip "no trace (the test above failed)"
	local line allow="" deny="" g used bad
	expand() { # @group or name -> names
		case $1 in
		@*) systemd-analyze syscall-filter "$1" 2>/dev/null |
			awk 'NR > 1 && $1 !~ /^#/ && $1 != "" {print $1}' |
			while read -r n; do expand "$n"; done ;;
		*) echo "$1" ;;
		esac
	}
	while read -r line; do
		if [ "${line#\~}" != "$line" ]; then
			for g in ${line#\~}; do deny="$deny $(expand "$g" | tr '\n' ' ')"; done
		else
			for g in $line; do allow="$allow $(expand "$g" | tr '\n' ' ')"; done
		fi
	done < <(sed -n 's/^SystemCallFilter=//p' "$UNIT")
	# bwctld's own process and its worker: from its execve on (setpriv's part
	# stands for what systemd does before it)
	awk -v b="execve(\"$BWCTLD\"" 'index($0, b) {on = 1} on' "$DIR/strace.txt" >"$DIR/strace.own"
	used=$(awk '$2 ~ /^[a-z_0-9]+\(/ {sub(/\(.*/, "", $2); print $2}' "$DIR/strace.own" | sort -u)
	bad=""
	for g in $used; do
		grep -qxF "$g" <(tr ' ' '\n' <<<"$allow") && ! grep -qxF "$g" <(tr ' ' '\n' <<<"$deny") ||
			bad="$bad $g"
	done
	echo "system calls used: $(wc -w <<<"$used")"
	assert_eq "${bad# }" "" "system calls the unit's SystemCallFilter= would refuse"
	# ProcSubset=pid: only the process's own /proc files are read
	bad=$(grep -o 'open[a-z]*([^"]*"/proc/[^"]*"[^=]*= [0-9]' "$DIR/strace.own" |
		grep -o '"/proc/[^"]*"' | grep -v '^"/proc/\(self\|thread-self\|[0-9]*\)/' | sort -u)
	assert_eq "$bad" "" "/proc files outside ProcSubset=pid"
}
t_run "every system call made is allowed by the unit's SystemCallFilter" t_test_syscalls

t_test_missing_cap() {
	local c less out
	reset_dataplane
	for c in $CAPS; do
		less=$(sed "s/\b$c\b//" <<<"$CAPS")
		out=$(run_briefly "$(unit_wrapper "$less")")
		assert_ok grep -q "missing capability: $c (" <<<"$out"
		assert_fail grep -qx "rc=0" <<<"$out"
		assert_eq "$(gw ip -j link show dev lan0 | jq -r '.[0].xdp // empty')" "" "XDP left on lan0 without $c"
	done
}
t_run "without any one of the unit's capabilities bwctld stops and names it" t_test_missing_cap

# ---------------------------------------------------------------- sd_notify

NLOG=$DIR/notify.log
start_receiver() { # MAX_S [-- CMD...]
	rm -f "$NLOG" "$NLOG.ready"
	setsid python3 "$RECV" "$DIR/notify.sock" "$NLOG" "$@" </dev/null >/dev/null 2>&1 &
	RECV_PID=$!
	t_atexit "kill $RECV_PID 2>/dev/null; true"
	wait_for 50 test -S "$DIR/notify.sock" || t_fail "notify receiver did not start"
}
# Seconds (monotonic) of the first message matching REGEX after line AFTER.
msg_time() { # REGEX [AFTER_LINE]
	awk -v re="$1" -v a="${2:-0}" 'NR > a && $2 ~ re {print $1; exit}' "$NLOG"
}
msg_line() { # REGEX [AFTER_LINE]
	awk -v re="$1" -v a="${2:-0}" 'NR > a && $2 ~ re {print NR; exit}' "$NLOG"
}

t_test_notify() {
	local t_first t_ready st n_hup l
	write_config "feeds:
$FEED_LOCAL
  - { name: relay, source: http://127.0.0.1:$SLOW_PORT/slow/relay.txt, insecure: true, format: plain, refresh: 1h, timeout: 20s }"
	reset_dataplane
	start_receiver 40 -- ip netns exec "$BWE_NS_GW" sh -c \
		"$BWCTL_BIN --socket $SOCK --json lookup $BWE_RELAY_V4; $BWCTL_BIN --socket $SOCK --json status"
	export NOTIFY_SOCKET=$DIR/notify.sock WATCHDOG_USEC=1000000
	start_daemon || t_fail "bwctld did not start"
	unset NOTIFY_SOCKET WATCHDOG_USEC
	wait_for 100 grep -q "READY=1" "$NLOG" || t_fail "no READY=1: $(cat "$NLOG")"
	# READY=1 came after the slow download: the feed was enforced by then
	t_first=$(msg_time "WATCHDOG=1")
	t_ready=$(msg_time "READY=1")
	echo "first keep-alive at $t_first, READY=1 at $t_ready (feed served after ${SLOW_S}s)"
	assert_ok awk -v a="$t_first" -v b="$t_ready" -v s="$SLOW_S" 'BEGIN { exit !(b - a >= s - 0.5) }'
	wait_for 50 test -s "$NLOG.ready" || t_fail "the READY hook wrote nothing"
	st=$(sed -n '/^{/,$p' "$NLOG.ready")
	assert_eq "$(jq -rs '.[0].verdict' <<<"$st")" drop "verdict for the slow feed's address at READY=1"
	assert_eq "$(jq -rs '[.[1].interfaces[] | select(.state == "attached")] | length' <<<"$st")" 2 \
		"interfaces attached at READY=1"
	assert_ok grep -q "READY=1|STATUS=enforcing: 2/2 interfaces attached, 2 feeds, 0 quarantined$" "$NLOG"
	# STATUS= follows the state
	assert_ok bwctl quarantine "$BWE_LAN_V4" --reason notify
	wait_for 30 grep -q "STATUS=enforcing: 2/2 interfaces attached, 2 feeds, 1 quarantined" "$NLOG" ||
		t_fail "no STATUS= with the quarantine: $(tail -3 "$NLOG")"
	assert_ok bwctl release "$BWE_LAN_V4"
	# keep-alives every 0.5 s (half of WATCHDOG_USEC=1 s), from the loop
	sleep 2.5
	assert_ok awk -v t="$t_ready" '$2 == "WATCHDOG=1" && $1 > t { if (p) { s += $1 - p; n++ } p = $1 }
		END { printf "keep-alives: %d intervals, mean %.3f s\n", n, s / n; exit !(n >= 4 && s / n > 0.4 && s / n < 0.6) }' "$NLOG"
	# SIGHUP: RELOADING=1, then READY=1 again
	n_hup=$(wc -l <"$NLOG")
	kill -HUP "$(daemon_pid)"
	ready_after() { [ -n "$(msg_line '^READY=1' "$1")" ]; }
	wait_for 30 ready_after "$n_hup" || t_fail "no READY=1 after SIGHUP: $(tail -5 "$NLOG")"
	l=$(msg_line '^RELOADING=1' "$n_hup")
	[ -n "$l" ] || t_fail "no RELOADING=1 on SIGHUP"
	assert_ok grep -q "^[0-9.]* RELOADING=1|MONOTONIC_USEC=[0-9]*|STATUS=reloading$" "$NLOG"
	assert_ok test "$l" -lt "$(msg_line '^READY=1' "$n_hup")"
	# SIGTERM: STOPPING=1
	stop_daemon TERM
	assert_ok grep -q "STOPPING=1|STATUS=stopping" "$NLOG"
}
t_run "sd_notify: READY=1 after attach and feeds, STATUS=, WATCHDOG=1, reload, stop" t_test_notify

t_test_notify_pending() {
	local t_first t_ready
	write_config "feeds:
  - { name: hang, source: http://127.0.0.1:$HANG_PORT/slow/relay.txt, insecure: true, format: plain, refresh: 1h, timeout: 60s }"
	reset_dataplane
	start_receiver 40
	export NOTIFY_SOCKET=$DIR/notify.sock
	start_daemon || t_fail "bwctld did not start"
	unset NOTIFY_SOCKET
	wait_for 300 grep -q "READY=1" "$NLOG" || t_fail "no READY=1 within 30 s"
	assert_ok grep -q "READY=1|STATUS=enforcing: 2/2 interfaces attached, 1 feeds, 0 quarantined; 1 feed start-up job still running$" "$NLOG"
	t_first=$(msg_time "RECEIVER=1")
	t_ready=$(msg_time "READY=1")
	echo "READY=1 $(awk -v a="$t_first" -v b="$t_ready" 'BEGIN {print b - a}') s after start"
	assert_ok awk -v a="$t_first" -v b="$t_ready" 'BEGIN { exit !(b - a >= 19 && b - a < 26) }'
	# no WATCHDOG_USEC: no keep-alives
	assert_fail grep -q "WATCHDOG=1" "$NLOG"
	stop_daemon TERM
}
t_run "sd_notify: READY=1 after a bounded wait when a feed hangs, saying so" t_test_notify_pending

t_summary
