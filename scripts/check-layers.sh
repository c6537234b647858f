#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# check-layers.sh [BUILD_DIR] - the daemon's layers depend one way, and lib/
# does not include from ctl/.
#
# ctl/bwctld/LAYERS gives every source file of the daemon a layer number, one
# row a file, '#' starts a comment:
#
#	<layer> <file.c>
#
# For each row the script reads BUILD_DIR/ctl/bwctld/<file>.o (default
# BUILD_DIR: build; make check-layers builds the objects first) with nm, and
# every symbol the object uses but does not define that another daemon object
# defines must come from a file of a strictly lower layer. A use that goes up
# or sideways is printed as
#
#	ctl/bwctld/X.c (layer 4) calls Y() from ctl/bwctld/Z.c (layer 5)
#
# ("uses Y from" for a data symbol). A .c file with no row, a row naming a
# missing file, a malformed or duplicate row and a missing object also fail.
# Then every #include line of lib/*.c and lib/*.h is checked: lib/ is shared
# by the daemon, the CLI and the tests and must not include from ctl/.
#
# Ends with "N passed, N failed" over the files checked (daemon sources and
# lib/ files); exit 1 when anything failed, 2 on a usage error.
set -u
cd "$(dirname "$0")/.." || exit 2

if [ $# -gt 1 ] || [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then
	echo "usage: $0 [BUILD_DIR]   (default: build; run make first)" >&2
	exit 2
fi
BUILD=${1:-build}
SRC=ctl/bwctld
TABLE=$SRC/LAYERS
NM=${NM:-nm}

pass=0
fail=0
declare -A layer=()	# file.c -> layer number
declare -A bad=()	# file.c -> 1 when it already failed
declare -A def=()	# symbol -> file.c defining it
declare -A kind=()	# symbol -> nm type letter of the definition

problem() {	# FILE MESSAGE: a failure that belongs to one file
	echo "$2"
	bad[$1]=1
}

# ---- the table ---------------------------------------------------------------
table_ok=1
if [ ! -f "$TABLE" ]; then
	echo "$TABLE: missing (one row per $SRC/*.c: <layer number> <file.c>)"
	table_ok=0
else
	n=0
	while IFS= read -r line || [ -n "$line" ]; do
		n=$((n + 1))
		line=${line%%#*}
		read -r num f extra <<<"$line"
		[ -z "${num:-}" ] && continue
		f=${f#"$SRC"/}
		if [ -n "$extra" ] || ! [[ $num =~ ^[0-9]+$ ]] || [[ $f != *.c ]] || [[ $f == */* ]]; then
			echo "$TABLE:$n: not '<layer number> <file.c>': $line"
			fail=$((fail + 1))
			continue
		fi
		if [ -n "${layer[$f]:-}" ]; then
			echo "$TABLE:$n: second row for $f"
			fail=$((fail + 1))
			continue
		fi
		if [ ! -f "$SRC/$f" ]; then
			echo "$TABLE:$n: $SRC/$f does not exist"
			fail=$((fail + 1))
			continue
		fi
		layer[$f]=$((10#$num))
	done <"$TABLE"
fi

# ---- every source has a row and an object ------------------------------------
srcs=()
for path in "$SRC"/*.c; do
	[ -e "$path" ] || continue
	f=${path##*/}
	srcs+=("$f")
	if [ -z "${layer[$f]:-}" ]; then
		[ $table_ok -eq 1 ] && problem "$f" "$SRC/$f: no row in $TABLE"
		bad[$f]=1
		continue
	fi
	if [ ! -f "$BUILD/$SRC/${f%.c}.o" ]; then
		problem "$f" "$SRC/$f: no object $BUILD/$SRC/${f%.c}.o (run make first)"
		continue
	fi
	while read -r sym type _; do
		if [ -n "${def[$sym]:-}" ]; then
			echo "$SRC/$f and $SRC/${def[$sym]} both define $sym"
			bad[$f]=1
			continue
		fi
		def[$sym]=$f
		kind[$sym]=$type
	done < <("$NM" -P -g --defined-only "$BUILD/$SRC/${f%.c}.o")
done

# ---- uses go down ------------------------------------------------------------
for f in "${srcs[@]}"; do
	if [ -z "${layer[$f]:-}" ] || [ ! -f "$BUILD/$SRC/${f%.c}.o" ]; then
		continue
	fi
	while read -r sym _; do
		z=${def[$sym]:-}
		if [ -z "$z" ] || [ "$z" = "$f" ] || [ "${layer[$z]}" -lt "${layer[$f]}" ]; then
			continue
		fi
		case ${kind[$sym]} in
		T | t | W | w | i)
			use="calls $sym()" ;;
		*)
			use="uses $sym" ;;
		esac
		problem "$f" "$SRC/$f (layer ${layer[$f]}) $use from $SRC/$z (layer ${layer[$z]})"
	done < <("$NM" -P -u "$BUILD/$SRC/${f%.c}.o" | LC_ALL=C sort -u)
	[ -n "${bad[$f]:-}" ] || pass=$((pass + 1))
done
for f in "${srcs[@]}"; do
	[ -n "${bad[$f]:-}" ] && fail=$((fail + 1))
done

# ---- lib/ includes nothing from ctl/ -----------------------------------------
declare -A ctl_hdr=() lib_hdr=()
while IFS= read -r h; do ctl_hdr[${h##*/}]=$h; done < <(find ctl -name '*.h')
for h in lib/*.h; do lib_hdr[${h##*/}]=1; done
for path in lib/*.c lib/*.h; do
	[ -e "$path" ] || continue
	ok=1
	while IFS=: read -r n text; do
		inc=$(sed -E 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]([^">]*)[">].*/\1/' <<<"$text")
		name=${inc##*/}
		if [[ /$inc == */ctl/* ]]; then
			echo "$path:$n: includes $inc (lib/ must not include from ctl/)"
			ok=0
		elif [[ $text == *'"'* ]] && [ -n "${ctl_hdr[$name]:-}" ] && [ -z "${lib_hdr[$name]:-}" ]; then
			echo "$path:$n: includes \"$inc\", which is ${ctl_hdr[$name]} (lib/ must not include from ctl/)"
			ok=0
		fi
	done < <(grep -nE '^[[:space:]]*#[[:space:]]*include' "$path")
	if [ $ok -eq 1 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ $table_ok -eq 1 ]
