#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# format-check.sh [FILE...] - check C sources and headers against .clang-format
# without changing them. Default: every *.c and *.h under lib/ ctl/ tests/
# xdp/ bench/ fuzz/ (run from the repository root; make format-check does).
# Prints each file that clang-format would change, with its first difference,
# and ends with "N passed, N failed" (files formatted / not). Exit 1 when any
# file differs, 2 when clang-format cannot run. CLANG_FORMAT picks the binary.
set -u
cd "$(dirname "$0")/.." || exit 2

CLANG_FORMAT=${CLANG_FORMAT:-clang-format}
DIRS="lib ctl tests xdp bench fuzz"

if ! command -v "$CLANG_FORMAT" >/dev/null 2>&1; then
	echo "format-check: $CLANG_FORMAT not found (scripts/setup-deps.sh installs clang-format)" >&2
	exit 2
fi
if [ ! -f .clang-format ]; then
	echo "format-check: no .clang-format at the repository root" >&2
	exit 2
fi

if [ $# -gt 0 ]; then
	files=("$@")
else
	# shellcheck disable=SC2086
	mapfile -t files < <(find $DIRS -type f \( -name '*.c' -o -name '*.h' \) | LC_ALL=C sort)
fi

pass=0
fail=0
for f in "${files[@]}"; do
	if out=$("$CLANG_FORMAT" --style=file --dry-run -Werror "$f" 2>&1); then
		pass=$((pass + 1))
		continue
	fi
	if ! grep -q 'error: code should be clang-formatted' <<<"$out"; then
		# not a formatting difference: a bad .clang-format, an unreadable file
		echo "format-check: $f: $out" >&2
		exit 2
	fi
	fail=$((fail + 1))
	n=$(grep -c 'error: code should be clang-formatted' <<<"$out")
	first=$(grep -m1 'error: code should be clang-formatted' <<<"$out" | cut -d: -f2)
	echo "differs: $f ($n places, first at line $first)"
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
