#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# tests/traffic/run.sh - the detection evaluation (make detect-eval): the
# scenario matrix -- every hijacking model mixed into a population of normal
# hosts, one run per seed (tests/traffic/run_one.sh) -- then the report,
# docs/detection.md (tests/traffic/evaluate.py).
#
#   run.sh [--quick]
#
#   --quick   one seed, two models, six normal hosts: checks the harness's
#             plumbing (evaluate.py --check) and writes the report to the run
#             directory only, not to docs/.
# Environment: SEEDS (default "1 2 3 4 5 6"; quick "1"), OUT (the report,
# default docs/detection.md), DETECT_EVAL_DIR (run directories; default a
# new directory under /tmp, removed at the end unless KEEP=1).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TRAFFIC=$ROOT/tests/traffic
QUICK=
[ "${1:-}" = --quick ] && QUICK=--quick
if [ -n "$QUICK" ]; then SEEDS=${SEEDS:-1}; else SEEDS=${SEEDS:-1 2 3 4 5 6}; fi
OUT=${OUT:-$ROOT/docs/detection.md}
[ "$(id -u)" -eq 0 ] || { echo "run.sh: must run as root (namespaces, XDP)" >&2; exit 1; }
RUNS=${DETECT_EVAL_DIR:-$(mktemp -d /tmp/bwe-deteval.XXXXXX)}
mkdir -p "$RUNS"
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$RUNS"' EXIT

start=$(date +%s)
cat >"$RUNS/meta.json.in" <<EOM
{"started": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
 "commit": "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)",
 "dirty": $([ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ] && echo true || echo false),
 "command": "make detect-eval${QUICK:+ QUICK=1} (seeds $SEEDS)",
 "cpus": $(nproc), "kernel": "$(uname -r)",
 "load_before": "$(uptime | sed 's/.*load average: //')",
EOM
rc=0
dirs=()
for s in $SEEDS; do
	d=$RUNS/seed-$s
	echo "detect-eval: seed $s ($(date -u +%H:%M:%S), load $(uptime | sed 's/.*load average: //'))"
	if ! "$TRAFFIC/run_one.sh" "$s" "$d" $QUICK >"$RUNS/seed-$s.log" 2>&1; then
		echo "detect-eval: seed $s FAILED:"; tail -20 "$RUNS/seed-$s.log"
		rc=1
		continue
	fi
	dirs+=("$d")
	python3 "$TRAFFIC/evaluate.py" --check "$d" | sed 's/^/  /'
	[ "${PIPESTATUS[0]}" -eq 0 ] || { echo "detect-eval: seed $s: the harness's own checks failed"; rc=1; }
done
[ ${#dirs[@]} -gt 0 ] || { echo "detect-eval: no run completed"; exit 1; }
end=$(date +%s)
{
	cat "$RUNS/meta.json.in"
	echo " \"finished\": \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\", \"wall_s\": $((end - start)),"
	echo " \"load_after\": \"$(uptime | sed 's/.*load average: //')\"}"
} >"$RUNS/meta.json"
if [ -n "$QUICK" ]; then
	python3 "$TRAFFIC/evaluate.py" --out "$RUNS/detection.md" --meta "$RUNS/meta.json" "${dirs[@]}" || rc=1
	sed -n '/^## Goals/,/^## The normal mix/p' "$RUNS/detection.md"
else
	python3 "$TRAFFIC/evaluate.py" --out "$OUT" --meta "$RUNS/meta.json" "${dirs[@]}" || rc=1
	echo "detect-eval: wrote $OUT ($(( (end - start) / 60 )) min $(( (end - start) % 60 )) s)"
	sed -n '/^## Goals/,/^## Hijacking models/p' "$OUT"
fi
exit $rc
