#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# run-tests.sh UNIT_BIN... -- SUITE.sh[@TOPOLOGY]...
# Runs every cmocka binary, then every shell suite; each prints its own
# closing line (cmocka's summary, "N passed, N failed"). Exits 1 when any
# runner failed, and says which. SUITE.sh@routed runs the suite again on
# another testbed topology: BWE_TESTBED_OPTS=--routed (tests/lib_bwe.sh);
# a suite alone runs on the testbed's default, a NAT gateway.
# A+B+... runs those suites at the same time (each uses one CPU the others
# leave idle: the emulated guests of tests/lib_guest.sh), each output kept
# apart and printed whole, in order, when all have ended.
set -u

failed=()
unit=()
suites=()
seen_sep=0
for a in "$@"; do
	if [ "$a" = "--" ]; then seen_sep=1; continue; fi
	if [ $seen_sep -eq 0 ]; then unit+=("$a"); else suites+=("$a"); fi
done

if [ "$(id -u)" -ne 0 ]; then
	echo "make test: needs root (BPF programs, namespaces): sudo make test" >&2
	exit 1
fi

# Test filter: T=name runs only runners whose path contains it.
match() { [ -z "${T:-}" ] || [[ "$1" == *"$T"* ]]; }

for t in "${unit[@]}"; do
	match "$t" || continue
	echo "=== $t"
	if ! "$t"; then failed+=("$t"); fi
done
# One suite: its heading, then the suite; non-zero when it failed.
suite() { # SUITE[@TOPOLOGY]
	local topo=
	case $1 in *@*) topo=${1#*@} ;; esac
	if [ -n "$topo" ]; then
		echo "=== ${1%@*} (testbed: $topo)"
		BWE_TESTBED_OPTS="--$topo" bash "${1%@*}"
	else
		echo "=== $1"
		bash "$1"
	fi
}

# Suites side by side; each one's output in a file until all have ended.
together() { # SUITE...
	local dir s i=0 pids=()
	dir=$(mktemp -d "${TMPDIR:-/tmp}/bwe-runtests.XXXXXX") || return 1
	for s in "$@"; do
		suite "$s" >"$dir/$i.out" 2>&1 &
		pids+=($!)
		i=$((i + 1))
	done
	i=0
	for s in "$@"; do
		wait "${pids[$i]}" || failed+=("$s")
		i=$((i + 1))
	done
	i=0
	for s in "$@"; do
		cat "$dir/$i.out"
		i=$((i + 1))
	done
	rm -rf "$dir"
}

for s in "${suites[@]}"; do
	match "$s" || continue
	case $s in
	*+*)
		IFS=+ read -r -a group <<<"$s"
		together "${group[@]}"
		;;
	*) suite "$s" || failed+=("$s") ;;
	esac
done

echo
if [ ${#failed[@]} -gt 0 ]; then
	echo "make test: FAILED: ${failed[*]}"
	exit 1
fi
echo "make test: all runners passed"
