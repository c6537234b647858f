#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# e2e_detect_eval.sh - the detection evaluation harness checks itself
# (make detect-eval QUICK=1 in one run, about two minutes): one seed, a
# relay and a flood among six normal hosts. The generator's traffic from
# every host reaches the gateway and is counted by bwctl top; the event log
# parses and the detections are attributed to their hosts; the plan is the
# same for the same seed. The figures themselves are make detect-eval's
# business (docs/detection.md), not a pass/fail here.
. "$(dirname "$0")/lib.sh"
t_require_root
T_TIMEOUT=200 # the quick run takes about 110 s
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TRAFFIC=$ROOT/tests/traffic
t_tmpdir D

t_test_plan() {
	python3 "$TRAFFIC/plan.py" plan 7 >"$D/p1.json" || t_fail "plan.py plan"
	python3 "$TRAFFIC/plan.py" plan 7 >"$D/p2.json"
	python3 "$TRAFFIC/plan.py" plan 8 >"$D/p3.json"
	cmp -s "$D/p1.json" "$D/p2.json" || t_fail "the same seed gave two plans"
	cmp -s "$D/p1.json" "$D/p3.json" && t_fail "two seeds gave the same plan"
	# the compressed policy: durations / 60, window volumes / 60, rates kept
	python3 "$TRAFFIC/plan.py" policy "$ROOT/policies/bwenforce.yaml" 60 max_quarantines_per_hour=1000 \
		>"$D/pol.yaml" || t_fail "plan.py policy"
	grep -q '^  interval: 1s$' "$D/pol.yaml" || t_fail "interval: $(grep interval "$D/pol.yaml")"
	grep -q '^  learning_period: 60s$' "$D/pol.yaml" || t_fail "learning_period"
	grep -q 'min_rate: 1mbit' "$D/pol.yaml" || t_fail "a rate was scaled"
	grep -q 'nonstd_ports: { share: 0.5, min_bytes: 174762, window: 15s }' "$D/pol.yaml" || t_fail "nonstd_ports"
	grep -q '^  max_quarantines_per_hour: 1000$' "$D/pol.yaml" || t_fail "override"
}
t_run "a seed gives one plan; the policy compresses durations and volumes, not rates" t_test_plan

t_test_quick() {
	"$TRAFFIC/run_one.sh" 1 "$D/run" --quick >"$D/run.log" 2>&1 || t_fail "run_one.sh: $(tail -5 "$D/run.log")"
	local out; out=$(python3 "$TRAFFIC/evaluate.py" --check "$D/run") ||
		t_fail "plumbing: $out"
	# every planned host moved traffic and bwctl top counted it
	assert_eq "$(jq '.hosts | length' "$D/run/plan.json")" 8 "hosts planned"
	assert_eq "$(jq '[.[] | select(.host | startswith("198.18.0.")) | select(.tx_bytes > 0)] | length' \
		"$D/run/top.json")" 8 "hosts counted by bwctl top"
	# the detections parsed are attributed to planned hosts with evidence
	local n; n=$(jq -s '[.[] | select(.event.action == "throttle" or .event.action == "quarantine"
		or .event.action == "detection-alert") | select(.rule.name != null)] | length' "$D/run/events.json")
	[ "${n:-0}" -gt 0 ] || t_fail "no detection in the event log: $(wc -l <"$D/run/events.json") lines"
	grep -q '[0-9]* detections parsed' <<<"$out" || t_fail "$out"
	# the report renders from the run
	echo '{"started":"s","finished":"f","wall_s":1,"commit":"c","command":"t","cpus":2,"kernel":"k","load_before":"b","load_after":"a"}' >"$D/meta.json"
	python3 "$TRAFFIC/evaluate.py" --out "$D/d.md" --meta "$D/meta.json" "$D/run" || t_fail "evaluate.py"
	grep -q '^| `relay443` | 1 |' "$D/d.md" || t_fail "report: $(head -30 "$D/d.md")"
}
t_run "a one-seed matrix runs; generator traffic is counted by the gateway; events are parsed" t_test_quick

t_summary
