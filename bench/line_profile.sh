#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# line_profile.sh - where the enforcer's time goes, by source line: one row
# of tier 1 (`prog_cost --profile ROW`: that frame, cache-hot, for 10 s)
# sampled with perf's cpu-clock on every CPU, each sample inside the
# program's JIT image charged to the source line whose code holds it
# (bench/prog_lines.c: the program's jited line info). Needs no PMU, which
# these VMs lack. A sample often lands just after the instruction that
# stalled (skid), and work the CPU overlaps with a stall shows where it
# waits, not what it costs: read the lines in groups, and prove a saving
# with prog_cost's figures, never with this.
#
# usage: sudo bench/line_profile.sh [--row N] [--prog NAME] [--top K]
#   --row N      prog_cost's row, 0-based in its table's order (default 6: the clean IPv4 packet)
#   --prog NAME  the program to map (default bwe_xdp; bwe_tc_egress for the TC rows)
#   --top K      source lines to print (default 40)
# PROG_COST_BIN and PROG_LINES_BIN name other builds. Prints a markdown
# table on stdout. Attaches nothing and sends nothing: prog_cost runs the
# program on test frames. Exits non-zero when it could not profile.
set -u

here=$(cd "$(dirname "$0")/.." && pwd)
cost=${PROG_COST_BIN:-$here/build/bench/prog_cost}
lines=${PROG_LINES_BIN:-$here/build/bench/prog_lines}
row=6 prog=bwe_xdp top=40 child= work=

log() { echo "line_profile.sh: $*" >&2; }
die() {
	log "$*"
	exit 1
}
usage() {
	sed -n '14,18p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}
uint() { case $2 in '' | *[!0-9]*) die "$1 wants a number, got '$2'" ;; esac; }

while [ $# -gt 0 ]; do
	case $1 in
	--row) [ $# -ge 2 ] || usage; uint --row "$2"; row=$2; shift 2 ;;
	--prog) [ $# -ge 2 ] || usage; prog=$2; shift 2 ;;
	--top) [ $# -ge 2 ] || usage; uint --top "$2"; top=$2; shift 2 ;;
	*) usage ;;
	esac
done

cleanup() {
	if [ -n "$child" ] && kill -0 "$child" 2>/dev/null; then
		kill "$child" 2>/dev/null
		wait "$child" 2>/dev/null
	fi
	[ -n "$work" ] && rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" -eq 0 ] || die "needs root"
command -v perf >/dev/null 2>&1 || die "perf not found (Debian: linux-perf)"
PY=$(command -v python3) || die "python3 not found"
[ -x "$cost" ] || die "$cost not built (make build/bench/prog_cost)"
[ -x "$lines" ] || die "$lines not built (make build/bench/prog_lines)"
work=$(mktemp -d /tmp/bwe-lineprof.XXXXXX) || die "mktemp failed"

"$cost" --quick --profile "$row" >"$work/cost.out" 2>"$work/cost.err" &
child=$!
# the row runs once setup (entries, loads) is done: wait for the program
for _ in $(seq 1 100); do
	"$lines" --name "$prog" >"$work/lines" 2>/dev/null && break
	kill -0 "$child" 2>/dev/null || die "prog_cost ended: $(tail -n 3 "$work/cost.err")"
	sleep 0.1
done
[ -s "$work/lines" ] || die "no loaded program named $prog with line info"
sleep 1 # past the loads, into the row
perf record -q -e cpu-clock -a -o "$work/perf.data" -- sleep 5 >/dev/null 2>&1 ||
	die "perf record failed"
wait "$child" || die "prog_cost --profile $row failed: $(tail -n 3 "$work/cost.err")"
child=
perf script -i "$work/perf.data" -F ip,sym 2>/dev/null >"$work/samples" ||
	die "perf script failed"

"$PY" - "$work/lines" "$work/samples" "$top" "$row" "$prog" <<'EOF'
import bisect, collections, sys

lines_path, samples_path, top, row, prog = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
lines = []
for l in open(lines_path):
    parts = l.rstrip("\n").split(" ", 2)
    lines.append((int(parts[0], 16), parts[1], parts[2].strip() if len(parts) > 2 else ""))
lines.sort()
addrs = [a for a, _, _ in lines]
by_line, others = collections.Counter(), collections.Counter()
busy = inprog = 0
for l in open(samples_path):
    p = l.split()
    if len(p) < 2 or p[1] in ("pv_native_safe_halt", "default_idle", "native_safe_halt"):
        continue  # an idle CPU
    busy += 1
    ip = int(p[0], 16)
    i = bisect.bisect_right(addrs, ip) - 1
    if p[1].startswith("bpf_prog_") and i >= 0 and ip - addrs[i] < 4096:
        inprog += 1
        by_line[(lines[i][1], lines[i][2])] += 1
    else:
        others[p[1]] += 1
if not busy or not inprog:
    sys.exit("line_profile.sh: no samples inside %s (busy samples: %d)" % (prog, busy))
print("`bench/line_profile.sh --row %s`: %d busy samples, %.1f %% of them inside %s's JIT image." %
      (row, busy, 100.0 * inprog / busy, prog))
print()
print("| samples | % of busy | line | source |")
print("|---:|---:|---|---|")
for (loc, src), n in by_line.most_common(top):
    print("| %d | %.1f | %s | `%s` |" % (n, 100.0 * n / busy, loc, src[:90].replace("|", "\\|")))
print()
print("Outside the program: " + ", ".join("%s %.1f %%" % (s, 100.0 * n / busy) for s, n in others.most_common(8)))
EOF
