#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# e2e_kernels.sh - the data plane on Debian 12's own kernels. This machine's
# kernel is not the one a Debian 12 gateway runs: the verifier of another
# kernel may refuse what this one takes. Each kernel scripts/setup-deps.sh
# fetched (the stock 6.1 and the newest 6.12 of bookworm, in
# /opt/bwenforce-tools/kernels) is booted under qemu (software emulation,
# one CPU, no network), with this machine's root as a read-only 9p file
# system and tmpfs on /tmp and /run, and runs the data plane's program tests
# there (test_xdp, test_forward, test_encap): the object loads under that
# kernel's verifier (on 6.12, whose nf_flow_table has bpf_xdp_flow_lookup,
# with the flowtable fast path), every verdict of the XDP and TC programs
# holds, and the fast path forwards as on this kernel. The guests are tests/lib_guest.sh's.
# About 15-30 s a kernel.

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
. "$HERE/lib.sh"
. "$HERE/lib_guest.sh"
t_require_root
T_TIMEOUT=${T_TIMEOUT:-300}
BINS="test_xdp test_forward test_encap"

t_tmpdir WORK

t_kernel() { # KDIR
	local want out=$WORK/console.$$ b rc bad=""
	want=$(basename "$1")
	guest_run "$1" "cd $ROOT && export BWE_TEST_GUEST=1 && for b in $BINS; do build/tests/\$b; echo BWE-GUEST-RC \$b \$?; done" \
		"$out" || t_fail "qemu: exit $? (limit ${GUEST_LIMIT_S} s)"
	grep -q "^BWE-GUEST-KERNEL=$want\$" "$out" ||
		{ tail -20 "$out" | _t_indent; t_fail "the guest did not run kernel $want"; }
	echo "kernel $want: $(grep -E '^\[  (PASSED|FAILED)  \] [0-9]' "$out" | tr '\n' ' ')"
	for b in $BINS; do
		rc=$(sed -n "s/^BWE-GUEST-RC $b //p" "$out")
		[ "$rc" = 0 ] || bad="$bad $b (exit '${rc:-none}')"
	done
	[ "$(grep -cE '^\[  PASSED  \] [1-9][0-9]* test' "$out")" = "$(wc -w <<<"$BINS")" ] ||
		bad="$bad (not every runner passed tests)"
	# the object has the flowtable's path exactly where the kernel has its
	# kfunc (6.10 and later, nf_flow_table loaded: the guest loads it);
	# test_forward says which it found
	local ft="absent: the flowtable path is left out"
	[ "$(printf '%s\n' 6.10 "${want%%-*}" | sort -V | head -n 1)" = 6.10 ] &&
		ft="present: the flowtable path loads"
	grep -q "bpf_xdp_flow_lookup $ft" "$out" || bad="$bad (not: bpf_xdp_flow_lookup $ft)"
	if [ -n "$bad" ] || grep -qE '^\[  (FAILED|ERROR)' "$out"; then
		grep -E 'FAILED|ERROR|libbpf|bwe_dp_open|^[0-9]+: |not allowed|invalid|BWE-GUEST-INSMOD|did not load|flowtable path' "$out" |
			tail -30 | _t_indent
		t_fail "under kernel $want:${bad:- a test failed}"
	fi
}

t_fetched() {
	guest_ready || t_fail "not ready"
	for b in $BINS; do
		[ -x "$ROOT/build/tests/$b" ] || t_fail "build/tests/$b is not built (make tests)"
	done
}
t_run "Debian 12's kernels are fetched, qemu and the test runners are there" t_fetched

while read -r ver; do
	t_run "Debian 12 kernel $ver: bwe.bpf.o loads; test_xdp, test_forward, test_encap pass" \
		t_kernel "$GUEST_KERNELS_DIR/$ver"
done < <(guest_kernels)

t_summary
