#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# run-tests.sh UNIT_BIN... -- SUITE.sh[@TOPOLOGY]...
# Runs every cmocka binary, then every shell suite; each prints its own
# closing line (cmocka's summary, "N passed, N failed"). Exits 1 when any
# runner failed, and says which. SUITE.sh@routed runs the suite again on
# another testbed topology: BWE_TESTBED_OPTS=--routed (tests/lib_bwe.sh);
# a suite alone runs on the testbed's default, a NAT gateway.
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
for s in "${suites[@]}"; do
	match "$s" || continue
	topo=
	case $s in *@*) topo=${s#*@} ;; esac
	if [ -n "$topo" ]; then
		echo "=== ${s%@*} (testbed: $topo)"
		if ! BWE_TESTBED_OPTS="--$topo" bash "${s%@*}"; then failed+=("$s"); fi
	else
		echo "=== $s"
		if ! bash "$s"; then failed+=("$s"); fi
	fi
done

echo
if [ ${#failed[@]} -gt 0 ]; then
	echo "make test: FAILED: ${failed[*]}"
	exit 1
fi
echo "make test: all runners passed"
