#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# run-tests.sh UNIT_BIN... -- SUITE.sh...
# Runs every cmocka binary, then every shell suite; each prints its own
# closing line (cmocka's summary, "N passed, N failed"). Exits 1 when any
# runner failed, and says which.
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

# The workplace's reference data (real feeds): ../shared beside the
# repository, wherever the clone lives; BWE_SHARED overrides.
if [ -z "${BWE_SHARED:-}" ]; then
	for d in ../shared "$(dirname "$(pwd)")/shared" /work/shared; do
		if [ -d "$d/feeds" ]; then export BWE_SHARED; BWE_SHARED=$(cd "$d" && pwd); break; fi
	done
fi
[ -n "${BWE_SHARED:-}" ] || echo "run-tests: no ../shared/feeds: tests that load real feeds will fail (set BWE_SHARED)" >&2

# Test filter: T=name runs only runners whose path contains it.
match() { [ -z "${T:-}" ] || [[ "$1" == *"$T"* ]]; }

for t in "${unit[@]}"; do
	match "$t" || continue
	echo "=== $t"
	if ! "$t"; then failed+=("$t"); fi
done
for s in "${suites[@]}"; do
	match "$s" || continue
	echo "=== $s"
	if ! bash "$s"; then failed+=("$s"); fi
done

echo
if [ ${#failed[@]} -gt 0 ]; then
	echo "make test: FAILED: ${failed[*]}"
	exit 1
fi
echo "make test: all runners passed"
