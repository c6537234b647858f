# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# bench/lib_stats.sh - the figures' statistics, one definition for the
# benchmark scripts that print medians (bench/control.sh, bench/flowtable.sh):
#   stats VALUES...            # "median min max" of the values ("nan nan nan": none)
#   fmt_stats FMT VALUES...    # "median (min–max)", each number with the printf FMT

stats() {
	[ $# -gt 0 ] || { echo "nan nan nan"; return 0; }
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
	m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
	print m, v[1], v[NR] }'
}

fmt_stats() { # FMT VALUES...
	local f=$1
	shift
	stats "$@" | awk -v f="$f" '
		function g(v,  s) { s = sprintf(f, v); if (s ~ /^-0(\.0+)?( |$)/) s = substr(s, 2); return s }
		{ printf "%s (%s–%s)", g($1), g($2), g($3) }'
}
