# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# tests/lib.sh - the small test harness every tests/*.sh suite sources (bash).
#
#   #!/bin/bash
#   . "$(dirname "$0")/lib.sh"
#   t_require_root
#   test_ping() {
#           assert_ok ip netns exec "$BWE_NS_LAN" ping -c1 -W2 "$BWE_SITE_V4"
#           assert_eq "$(cat "$f")" 3 "counter"
#   }
#   t_run "lan reaches site" test_ping
#   t_summary                  # last line: "N passed, N failed"; rc 1 on failure
#
# Two styles, both counted by t_summary:
#
#  t_run NAME FUNC [ARGS...]  runs FUNC in a subshell, in its own process group,
#      with stdin from /dev/null, killed (TERM, then KILL 2 s later) after
#      $T_TIMEOUT seconds (default 60).  Inside it the first failing assert_*,
#      t_fail or t_skip ends the test at once; returning 0 (or t_pass) passes,
#      returning non-zero fails.  A failure recorded anywhere below it, even in
#      a $(...) or a pipeline, makes the test fail.  Its output is kept and only
#      shown when it fails (T_VERBOSE=1 streams it instead).  Processes it leaves
#      behind in its process group are killed when it ends, and what it
#      registered with t_atexit runs when it ends: start servers shared by
#      several tests at the top level of the suite, not inside a t_run.
#
#  t_begin NAME ... t_pass | t_fail MSG | t_skip REASON   inline, no subshell.
#      Here a failing assert_* records the failure and returns 1 (write
#      `assert_ok ... || return`), a later t_pass of that test is ignored.
#      A test left open by the next t_begin or by t_summary counts as failed.
#
# Helpers:
#   assert_eq A B [MSG]        A and B equal as strings
#   assert_ok CMD...           CMD exits 0       (its output is shown if not)
#   assert_fail CMD...         CMD exits non-zero
#   t_require_root             skip the current test (inside t_run) or the whole
#                              suite (at the top level: summary, exit 0)
#   t_tmpdir [VAR]             new directory, removed when the suite exits; sets
#                              VAR or prints the path (works from $(...))
#   t_bpffs [DIR]              mount a private bpffs on DIR (default: a new dir),
#                              sets T_BPFFS, unmounted when the test (inside
#                              t_run) or the suite ends
#   t_atexit CMD...            push a cleanup; run in reverse order on EXIT, INT
#                              and TERM (of the t_run subshell when called in
#                              one).  Several words are quoted as a command, a
#                              single word is evaluated as shell code.  Do not
#                              call it from $(...): that subshell forgets it.
#
# Environment: T_TIMEOUT (seconds per t_run test, default 60), T_VERBOSE=1.
#
# Executed directly (`bash tests/lib.sh`), this file tests itself.

[ -n "${_T_LIB_LOADED:-}" ] && return 0
_T_LIB_LOADED=1

# T_TIMEOUT is left unset here: a suite's own default, set after sourcing
# this file (T_TIMEOUT=${T_TIMEOUT:-180}), must take effect; t_run uses 60
# when neither the environment nor the suite gave one.
T_VERBOSE=${T_VERBOSE:-0}
T_BPFFS=${T_BPFFS:-}

_T_PASS=0
_T_FAIL=0
_T_SKIP=0
_T_SEQ=0
_T_NAME=""       # current test
_T_OPEN=0        # an inline (t_begin) test is open
_T_IN_RUN=0      # 1 inside a t_run subshell
_T_RESULT=""     # result file of the t_run test we are in
_T_RUN_PID=""    # process group of the t_run test running now
_T_ATEXIT=()

# ------------------------------------------------------------------ cleanup

t_atexit() {
	[ $# -gt 0 ] || return 0
	if [ $# -eq 1 ]; then
		_T_ATEXIT+=("$1")
	else
		_T_ATEXIT+=("$(printf '%q ' "$@")")
	fi
}

_t_stop_run() {
	local pid=$_T_RUN_PID i
	[ -n "$pid" ] || return 0
	_T_RUN_PID=""
	kill -TERM -- -"$pid" 2>/dev/null
	for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
		kill -0 -- -"$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL -- -"$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

# Pops and runs the cleanup stack, last pushed first; safe to call twice.
_t_cleanup() {
	local i cmd
	_t_stop_run
	while [ ${#_T_ATEXIT[@]} -gt 0 ]; do
		i=$((${#_T_ATEXIT[@]} - 1))
		cmd=${_T_ATEXIT[$i]}
		unset "_T_ATEXIT[$i]"
		eval "$cmd" || echo "t_atexit: cleanup failed: $cmd" >&2
	done
}

_t_on_exit() {
	local rc=$?
	trap - EXIT INT TERM
	_t_cleanup
	exit $rc
}

_t_on_signal() {
	[ "$_T_IN_RUN" = 1 ] || echo "${0##*/}: interrupted by SIG$1, cleaning up" >&2
	case $1 in
	INT) exit 130 ;;
	*) exit 143 ;;
	esac
}

_t_traps() {
	trap _t_on_exit EXIT
	trap '_t_on_signal INT' INT
	trap '_t_on_signal TERM' TERM
}

T_TMPROOT=$(mktemp -d "${TMPDIR:-/tmp}/bwe-test.XXXXXX") || {
	echo "lib.sh: mktemp failed" >&2
	exit 1
}
_t_rm_tmproot() {
	local m
	# A bpffs left mounted below it must not be walked by rm.
	awk -v r="$T_TMPROOT/" 'index($2, r) == 1 {print $2}' /proc/self/mounts | sort -r |
		while read -r m; do
			umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
		done
	rm -rf --one-file-system "$T_TMPROOT"
}
t_atexit _t_rm_tmproot
_t_traps

# ------------------------------------------------------------------ results

_t_indent() { sed 's/^/    | /'; }

_t_record() { # KIND NAME [MSG] [DURATION]
	local kind=$1 name=$2 msg=${3:-} dur=${4:-}
	case $kind in
	pass)
		_T_PASS=$((_T_PASS + 1))
		echo "PASS  $name${dur:+ ($dur)}"
		;;
	fail)
		_T_FAIL=$((_T_FAIL + 1))
		echo "FAIL  $name${dur:+ ($dur)}"
		[ -n "$msg" ] && printf '%s\n' "$msg" | _t_indent
		;;
	skip)
		_T_SKIP=$((_T_SKIP + 1))
		echo "SKIP  $name${msg:+: $msg}"
		;;
	esac
	return 0
}

# Inside t_run: append to the result file (first failure wins) and end the
# test.  Inline: count it now.
_t_result() { # KIND MSG
	local kind=$1 msg=${2:-}
	if [ "$_T_IN_RUN" = 1 ]; then
		# One record per line: kind, then the message with newlines as \n.
		printf '%s %s\n' "$kind" "$(printf '%s' "$msg" | sed ':a;N;$!ba;s/\\/\\\\/g;s/\n/\\n/g')" >>"$_T_RESULT"
		case $kind in
		fail) exit 1 ;;
		*) exit 0 ;;
		esac
	fi
	if [ "$_T_OPEN" != 1 ]; then
		# Never lose a failure; ignore a second verdict otherwise.
		[ "$kind" = fail ] && _t_record fail "${_T_NAME:-(no test)}" "$msg"
		return 0
	fi
	_T_OPEN=0
	_t_record "$kind" "$_T_NAME" "$msg"
}

_t_close_open() {
	if [ "$_T_OPEN" = 1 ]; then
		_T_OPEN=0
		_t_record fail "$_T_NAME" "ended without t_pass, t_fail or t_skip"
	fi
}

t_begin() {
	if [ "$_T_IN_RUN" = 1 ]; then
		_T_NAME="$_T_NAME/$1"
		return 0
	fi
	_t_close_open
	_T_NAME=$1
	_T_OPEN=1
}

t_pass() { _t_result pass ""; }
t_fail() {
	_t_result fail "${*:-failed}"
	return 1
}
t_skip() { _t_result skip "${*:-skipped}"; }

# ------------------------------------------------------------------ asserts

assert_eq() {
	[ "$1" = "$2" ] && return 0
	t_fail "${3:-assert_eq}: '$1' != '$2'"
}

_t_cmdline() { printf '%q ' "$@"; }

assert_ok() {
	local out rc
	out=$("$@" 2>&1)
	rc=$?
	[ $rc -eq 0 ] && return 0
	t_fail "command failed (exit $rc): $(_t_cmdline "$@")${out:+
$(printf '%s\n' "$out" | tail -n 15)}"
}

assert_fail() {
	local out rc
	out=$("$@" 2>&1)
	rc=$?
	[ $rc -ne 0 ] && return 0
	t_fail "command succeeded but should fail: $(_t_cmdline "$@")${out:+
$(printf '%s\n' "$out" | tail -n 15)}"
}

# ------------------------------------------------------------------ helpers

t_require_root() {
	[ "$(id -u)" -eq 0 ] && return 0
	if [ "$_T_IN_RUN" = 1 ] || [ "$_T_OPEN" = 1 ]; then
		t_skip "requires root"
		return 1
	fi
	_t_record skip "${0##*/}" "requires root"
	t_summary
	exit 0
}

t_tmpdir() {
	local _t_dir # a name no caller passes as VAR
	_t_dir=$(mktemp -d "$T_TMPROOT/tmp.XXXXXX") || return 1
	if [ $# -ge 1 ]; then
		printf -v "$1" '%s' "$_t_dir"
	else
		echo "$_t_dir"
	fi
}

t_bpffs() {
	local dir=${1:-}
	if [ -z "$dir" ]; then
		dir=$(mktemp -d "$T_TMPROOT/bpffs.XXXXXX") || return 1
	else
		mkdir -p "$dir" || return 1
	fi
	if ! mount -t bpf bpf "$dir"; then
		t_fail "cannot mount bpffs on $dir"
		return 1
	fi
	t_atexit "umount $(printf '%q' "$dir") 2>/dev/null || umount -l $(printf '%q' "$dir")"
	T_BPFFS=$dir
}

# ------------------------------------------------------------------ t_run

_t_child() { # RESULTFILE NAME FUNC [ARGS...]
	_T_RESULT=$1
	_T_NAME=$2
	shift 2
	_T_IN_RUN=1
	_T_OPEN=0
	_T_RUN_PID=""
	_T_ATEXIT=()
	_t_traps
	set +m
	"$@"
	local rc=$?
	[ $rc -eq 0 ] && t_pass
	exit $rc
}

_t_now_us() { echo "${EPOCHREALTIME/[.,]/}"; }

t_run() {
	local name=$1 func=$2 base rf tof log pid wd rc t0 t1 ms dur kind msg had_m=0
	shift 2
	if [ "$_T_IN_RUN" = 1 ]; then
		t_fail "t_run '$name' nested inside a t_run test"
		return 1
	fi
	_t_close_open
	_T_NAME=$name
	_T_SEQ=$((_T_SEQ + 1))
	base="$T_TMPROOT/run.$_T_SEQ"
	rf="$base.result" tof="$base.timeout" log="$base.log"
	: >"$rf"
	t0=$(_t_now_us)

	case $- in *m*) had_m=1 ;; esac
	set -m # each background job gets its own process group
	if [ "$T_VERBOSE" = 1 ]; then
		(_t_child "$rf" "$name" "$func" "$@") </dev/null &
	else
		(_t_child "$rf" "$name" "$func" "$@") </dev/null >"$log" 2>&1 &
	fi
	pid=$!
	_T_RUN_PID=$pid
	(
		trap - EXIT INT TERM
		sleep "${T_TIMEOUT:-60}"
		: >"$tof"
		kill -TERM -- -"$pid" 2>/dev/null
		sleep 2
		kill -KILL -- -"$pid" 2>/dev/null
	) </dev/null >/dev/null 2>&1 &
	wd=$!
	[ $had_m = 1 ] || set +m

	wait "$pid"
	rc=$?
	_T_RUN_PID=""
	kill -TERM -- -"$wd" 2>/dev/null
	wait "$wd" 2>/dev/null
	kill -KILL -- -"$pid" 2>/dev/null # whatever the test left running
	t1=$(_t_now_us)
	ms=$(((t1 - t0) / 1000))
	dur=$(printf '%d.%03ds' $((ms / 1000)) $((ms % 1000)))

	kind="" msg=""
	if grep -q '^fail' "$rf"; then
		kind=fail
		msg=$(grep -m1 '^fail' "$rf" | cut -d' ' -f2-)
	elif grep -q '^skip' "$rf"; then
		kind=skip
		msg=$(grep -m1 '^skip' "$rf" | cut -d' ' -f2-)
	elif grep -q '^pass' "$rf"; then
		kind=pass
	elif [ -e "$tof" ]; then
		kind=fail msg="timed out after ${T_TIMEOUT:-60}s"
	elif [ $rc -eq 0 ]; then
		kind=pass
	else
		kind=fail msg="exit status $rc"
	fi
	msg=$(printf '%b' "$msg")
	if [ "$kind" = fail ] && [ "$T_VERBOSE" != 1 ] && [ -s "$log" ]; then
		msg="$msg
--- output ---
$(tail -n 40 "$log")"
	fi
	_t_record "$kind" "$name" "$msg" "$dur"
	[ "$kind" != fail ]
}

# ------------------------------------------------------------------ summary

t_summary() {
	_t_close_open
	[ "$_T_SKIP" -gt 0 ] && echo "$_T_SKIP skipped"
	echo "$_T_PASS passed, $_T_FAIL failed"
	[ "$_T_FAIL" -eq 0 ]
}

# ------------------------------------------------------------------ self-test

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	_t_selftest_suite() {
		cat <<'EOF'
. "$LIB"
T_TIMEOUT=1
ok_fn() { assert_eq 1 1 && assert_ok true && assert_fail false; }
fail_fn() { assert_eq "$(echo a)" b "letters"; echo "not reached"; }
sub_fail_fn() { x=$(assert_ok false); return 0; }
skip_fn() { t_skip "no reason"; }
hang_fn() { sleep 30; }
rc_fn() { return 3; }
order_fn() { t_atexit "echo first >>$OUT"; t_atexit echo second; t_atexit "echo second >>$OUT"; }
t_run ok ok_fn
t_run fail fail_fn
t_run subfail sub_fail_fn
t_run skip skip_fn
t_run hang hang_fn
t_run rc rc_fn
t_run order order_fn
t_begin inline; t_pass
t_begin inline-fail; assert_eq 1 2 || true; t_pass
t_begin open
t_summary
EOF
	}
	_t_selftest() {
		local out rc d
		t_tmpdir d
		[ -d "$d" ] || t_fail "t_tmpdir VAR did not set VAR"
		_t_selftest_suite >"$d/suite.sh"
		out=$(LIB="${BASH_SOURCE[0]}" OUT="$d/order" bash "$d/suite.sh" 2>&1)
		rc=$?
		printf '%s\n' "$out" >"$d/out"
		assert_eq "$rc" 1 "suite exit status"
		assert_eq "$(tail -n 1 "$d/out")" "3 passed, 6 failed" "final line"
		assert_eq "$(tail -n 2 "$d/out" | head -n 1)" "1 skipped" "skip line"
		assert_ok grep -q "^FAIL  fail " "$d/out"
		assert_ok grep -q "letters: 'a' != 'b'" "$d/out"
		assert_fail grep -q "not reached" "$d/out"
		assert_ok grep -q "^FAIL  subfail " "$d/out"
		assert_ok grep -q "timed out after 1s" "$d/out"
		assert_ok grep -q "exit status 3" "$d/out"
		assert_ok grep -q "^PASS  inline$" "$d/out"
		assert_ok grep -q "^FAIL  inline-fail$" "$d/out"
		assert_ok grep -q "^FAIL  open$" "$d/out"
		assert_eq "$(tr '\n' ' ' <"$d/order")" "second first " "atexit order"
	}
	_t_selftest_bpffs_mount() {
		[ "$(id -u)" -eq 0 ] || t_skip "requires root"
		t_bpffs "$T_TMPROOT/bpffs-selftest"
		assert_eq "$T_BPFFS" "$T_TMPROOT/bpffs-selftest" "T_BPFFS"
		assert_eq "$(stat -f -c %T "$T_BPFFS")" bpf_fs "filesystem type"
	}
	_t_selftest_bpffs_gone() {
		[ "$(id -u)" -eq 0 ] || t_skip "requires root"
		assert_fail grep -q " $T_TMPROOT/bpffs-selftest " /proc/self/mounts
	}
	t_run "lib.sh self-test" _t_selftest
	t_run "t_bpffs mounts a bpffs" _t_selftest_bpffs_mount
	t_run "t_bpffs unmounts when the test ends" _t_selftest_bpffs_gone
	t_summary
fi
