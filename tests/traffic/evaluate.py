#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""evaluate.py - read the runs of the detection evaluation (run_one.sh's
output directories) and write the report (docs/detection.md), every figure
from those runs (standard library only).

  evaluate.py --out FILE --meta META.json RUNDIR...
  evaluate.py --check RUNDIR      the harness's own plumbing: every host's
                                  traffic reached the gateway and was counted
                                  by bwctl top, the event log parses, the
                                  hijacking hosts have a start; exit 1 if not

What counts (per host, events of the daemon's log):
  - a detection: any event a rule made for the host: detection-alert,
    throttle or quarantine with a rule name (actor rule:NAME). The data plane
    events (quarantine-drop, ...) are not detections. A quarantine is logged
    twice, once keyed by the host's MAC and once by its address: both map to
    the host (plan.json gives each host its MAC) and count once.
  - hijacking hosts: detections from the hijack's start on; time = event time
    minus the start, times k (back to uncompressed time).
  - normal hosts: detections after the learning period, per 100 host-hours of
    uncompressed time after it.
"""
import json
import os
import statistics
import sys
from datetime import datetime

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import plan as planmod  # noqa: E402

DETECT_ACTIONS = ("detection-alert", "throttle", "quarantine")
GOAL_MIN = 10.0          # detected within 10 minutes (uncompressed)
GOAL_RATE = 0.95
GOAL_FP_PER_100H = 1.0


def ts(s):
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=__import__("datetime").timezone.utc).timestamp()


def host_mac(i):
    return "02:b3:00:00:10:%02x" % i


def load_run(d):
    with open(os.path.join(d, "plan.json")) as f:
        plan = json.load(f)
    with open(os.path.join(d, "gen.json")) as f:
        gen = json.load(f)
    by_ip = {h["ip"]: h for h in plan["hosts"]}
    by_mac = {host_mac(h["id"]): h for h in plan["hosts"]}
    events, bad = [], 0
    seen = set()
    path = os.path.join(d, "events.json")
    lines = open(path).read().splitlines() if os.path.exists(path) else []
    for line in lines:
        try:
            e = json.loads(line)
        except ValueError:
            bad += 1
            continue
        act = e.get("event", {}).get("action")
        rule = (e.get("rule") or {}).get("name")
        if act not in DETECT_ACTIONS or not rule:
            continue
        h = by_ip.get((e.get("host") or {}).get("ip")) or by_mac.get((e.get("host") or {}).get("mac"))
        if h is None:
            continue
        t = ts(e["@timestamp"])
        key = (h["ip"], act, rule, round(t, 1))
        if key in seen:
            continue
        seen.add(key)
        b = e.get("bwenforce") or {}
        events.append({"host": h["ip"], "action": act, "rule": rule, "t": t,
                       "signals": sorted({x["signal"] for x in b.get("evidence", [])}),
                       "guards": b.get("guards", []), "wanted": b.get("wanted")})
    events.sort(key=lambda x: x["t"])
    top = {}
    try:
        with open(os.path.join(d, "top.json")) as f:
            for r in json.load(f):
                if r.get("host"):
                    top[r["host"]] = r
    except (OSError, ValueError):
        pass
    up = ""
    try:
        up = open(os.path.join(d, "uptime.txt")).read().strip()
    except OSError:
        pass
    return {"dir": d, "plan": plan, "gen": gen, "events": events, "bad_lines": bad,
            "n_lines": len(lines), "top": top, "uptime": up}


def pmin(run, dt_real):
    return dt_real * run["plan"]["k"] / 60.0


def params(h):
    """The hijacking activity's drawn parameters, short."""
    for a in h["activities"]:
        t = a["type"]
        if t == "relay":
            r = f"{a['rate_bps'] / 1e6:.1f}"
            if "ramp_to_bps" in a:
                r += f"→{a['ramp_to_bps'] / 1e6:.1f} Mbit/s in {a['ramp_s'] / 60:.0f} min"
            else:
                r += " Mbit/s"
            return (f"{r}, {a['sites_per_min']} sites/min, {len(a['superproxies'])} super-prox"
                    f"{'y' if len(a['superproxies']) == 1 else 'ies'} on {a['sp_port']}")
        if t == "flood":
            return (f"{a['pps'] / 1000:.1f} kpps × {a['size']} B "
                    f"({a['pps'] * a['size'] * 8 / 1e6:.1f} Mbit/s), ports {','.join(map(str, a['ports']))}")
        if t == "beacon":
            return f"every {a['period']:.0f} s, {a['up']} B up / {a['down']} B down"
    return ""


def hijack_results(run):
    out = []
    k = run["plan"]["k"]
    end_wall = run["gen"]["t0"] + run["plan"]["timeline"]["end"] / k
    for h in run["plan"]["hosts"]:
        if h["kind"] != "hijack":
            continue
        start = run["gen"]["hosts"][h["ip"]]["hijack_start"]
        evs = [e for e in run["events"] if e["host"] == h["ip"]]
        after = [e for e in evs if e["t"] >= start]
        first = {a: next((pmin(run, e["t"] - start) for e in after if e["action"] == a), None)
                 for a in DETECT_ACTIONS}
        anyt = min([v for v in first.values() if v is not None], default=None)
        qs = [e for e in after if e["action"] == "quarantine"]
        out.append({
            "seed": run["plan"]["seed"], "host": h["ip"], "model": h["model"],
            "params": params(h), "first_any": anyt, "first_alert": first["detection-alert"],
            "first_throttle": first["throttle"], "first_quarantine": first["quarantine"],
            "quarantines": len(qs),
            "quarantines_corroborated": sum(1 for e in qs if len(e["signals"]) >= 2),
            "signals": sorted({s for e in after for s in e["signals"]}),
            "before": len([e for e in evs if e["t"] < start]),
            "observed_min": pmin(run, end_wall - start),
        })
    return out


def normal_results(run):
    out = []
    k = run["plan"]["k"]
    tl = run["plan"]["timeline"]
    learn_end = run["gen"]["t0"] + tl["learning"] / k
    hours = (tl["end"] - tl["learning"]) / 3600.0
    for h in run["plan"]["hosts"]:
        if h["kind"] != "normal":
            continue
        evs = [e for e in run["events"] if e["host"] == h["ip"]]
        after = [e for e in evs if e["t"] >= learn_end]
        out.append({
            "seed": run["plan"]["seed"], "host": h["ip"], "profile": h["model"], "hours": hours,
            "detections": len(after),
            "alerts": sum(1 for e in after if e["action"] == "detection-alert"),
            "throttles": sum(1 for e in after if e["action"] == "throttle"),
            "quarantines": sum(1 for e in after if e["action"] == "quarantine"),
            "wanted_quarantine": sum(1 for e in after if e["wanted"] == "quarantine"),
            "during_learning": len(evs) - len(after),
            "signals": sorted({s for e in after for s in e["signals"]}),
            "rules": sorted({e["rule"] for e in after}),
        })
    return out


def check(run):
    """The harness's own plumbing. Returns a list of problems."""
    probs = []
    if run["n_lines"] == 0:
        probs.append("the event log is empty")
    if run["bad_lines"]:
        probs.append(f"{run['bad_lines']} event lines do not parse")
    for h in run["plan"]["hosts"]:
        g = run["gen"]["hosts"].get(h["ip"])
        if not g or g["tx"] <= 0 or g["rx"] <= 0:
            probs.append(f"{h['name']} ({h['ip']}): the generator moved no traffic ({g})")
            continue
        t = run["top"].get(h["ip"])
        if not t or t.get("tx_bytes", 0) <= 0:
            probs.append(f"{h['name']} ({h['ip']}): not counted by bwctl top")
        if h["kind"] == "hijack" and "hijack_start" not in g:
            probs.append(f"{h['name']}: no hijack start")
    if not run["gen"].get("finished"):
        probs.append("the generator did not finish its plan")
    return probs


def fmt(v, nd=0):
    if v is None:
        return "—"
    return f"{v:.{nd}f}"


def med_worst(vals, n):
    got = [v for v in vals if v is not None]
    if not got:
        return f"never (0 of {n})"
    s = f"{statistics.median(got):.0f} / {max(got):.0f}"
    if len(got) < n:
        s += f" ({len(got)} of {n})"
    return s


def report(runs, meta, out):
    hij = [r for run in runs for r in hijack_results(run)]
    nor = [r for run in runs for r in normal_results(run)]
    plan0 = runs[0]["plan"]
    k = plan0["k"]
    tl = plan0["timeline"]
    models = [m for m in planmod.HIJACK_MODELS if any(r["model"] == m for r in hij)]
    L = []
    w = L.append
    w("# Detection measured against modelled traffic")
    w("")
    w("Written by `make detect-eval` (tests/traffic/run.sh); every figure below comes "
      "from the run that wrote this page. Do not edit by hand: run it again.")
    w("")
    w(f"- run: {meta['started']} to {meta['finished']} ({meta['wall_s'] / 60:.1f} min wall clock), "
      f"commit `{meta['commit']}`{' (with uncommitted changes)' if meta.get('dirty') else ''}, "
      f"`{meta['command']}`")
    w(f"- machine: {meta['cpus']} CPUs, kernel {meta['kernel']}; load (`uptime`) before: "
      f"`{meta['load_before']}`, after: `{meta['load_after']}` — the machine is shared, so "
      "timings under contention can differ from a quiet one")
    w(f"- seeds: {', '.join(str(r['plan']['seed']) for r in runs)}; population per run: "
      f"{sum(1 for h in plan0['hosts'] if h['kind'] == 'normal')} normal hosts and "
      f"{sum(1 for h in plan0['hosts'] if h['kind'] == 'hijack')} hijacked hosts")
    w("")
    w("## Goals (issue 17) and what this run measured")
    w("")
    w("| goal | measured | met |")
    w("|---|---|---|")
    for m in models:
        rs = [r for r in hij if r["model"] == m]
        ok = sum(1 for r in rs if r["first_any"] is not None and r["first_any"] <= GOAL_MIN)
        rate = ok / len(rs)
        w(f"| `{m}` detected in ≥ 95 % of runs within 10 min | {ok} of {len(rs)} "
          f"({100 * rate:.0f} %) | {'yes' if rate >= GOAL_RATE else '**no**'} |")
    qs = sum(r["quarantines"] for r in hij)
    qc = sum(r["quarantines_corroborated"] for r in hij)
    w(f"| hijacked hosts quarantined only with two corroborating signals | {qc} of {qs} "
      f"quarantines had ≥ 2 signals | {'yes' if qc == qs else '**no**'} |")
    hours = sum(r["hours"] for r in nor)
    det = sum(r["detections"] for r in nor)
    q = sum(r["quarantines"] for r in nor)
    rate100 = 100.0 * det / hours if hours else float("nan")
    w(f"| normal mix: 0 automatic quarantines | {q} in {hours:.0f} host-hours | "
      f"{'yes' if q == 0 else '**no**'} |")
    w(f"| normal mix: ≤ 1 alert per 100 host-hours | {det} detections in {hours:.0f} host-hours "
      f"= {rate100:.1f} per 100 host-hours | {'yes' if rate100 <= GOAL_FP_PER_100H else '**no**'} |")
    w("")
    w("A *detection* is any event a rule made for the host: `detection-alert`, or a `throttle` "
      "or `quarantine` with a rule as its actor (each is an alert with evidence). Times are "
      f"uncompressed minutes (real seconds × {k} / 60) from the start of the hijacking; the "
      f"detector samples every {1 * k / 60:.0f} policy minute(s), so times are multiples of that.")
    w("")
    w("## Hijacking models")
    w("")
    w("| model | runs | detected ≤ 10 min | first detection, min (median / worst) | "
      "first throttle, min | first quarantine, min | quarantines (≥ 2 signals) | signals seen |")
    w("|---|---|---|---|---|---|---|---|")
    for m in models:
        rs = [r for r in hij if r["model"] == m]
        n = len(rs)
        ok = sum(1 for r in rs if r["first_any"] is not None and r["first_any"] <= GOAL_MIN)
        sig = sorted({s for r in rs for s in r["signals"]})
        w(f"| `{m}` | {n} | {ok} ({100 * ok / n:.0f} %) | {med_worst([r['first_any'] for r in rs], n)} | "
          f"{med_worst([r['first_throttle'] for r in rs], n)} | "
          f"{med_worst([r['first_quarantine'] for r in rs], n)} | "
          f"{sum(r['quarantines'] for r in rs)} ({sum(r['quarantines_corroborated'] for r in rs)}) | "
          f"{', '.join(sig) if sig else 'none'} |")
    obs = [r["observed_min"] for r in hij]
    w("")
    w(f"Each hijacked host was observed for {min(obs):.0f}–{max(obs):.0f} min after its start; "
      "\"never\" means no detection in that time. \"(n of N)\": only n of the N runs reached that "
      "step; median and worst are over those n.")
    w("")
    w("Per run:")
    w("")
    w("| seed | host | model | parameters | first detection | throttle | quarantine | signals | "
      "detections before the start |")
    w("|---|---|---|---|---|---|---|---|---|")
    for r in sorted(hij, key=lambda r: (planmod.HIJACK_MODELS.index(r["model"]), r["seed"], r["host"])):
        w(f"| {r['seed']} | {r['host']} | `{r['model']}` | {r['params']} | {fmt(r['first_any'])} | "
          f"{fmt(r['first_throttle'])} | {fmt(r['first_quarantine'])} | "
          f"{', '.join(r['signals']) or '—'} | {r['before']} |")
    w("")
    w("## The normal mix")
    w("")
    w("Detections on normal hosts after the learning period (events during it are only alerts, "
      "by the learning guard, and are listed apart).")
    w("")
    w("| profile | hosts × runs | host-hours | detections | per 100 host-hours | alerts | "
      "throttles | quarantines | wanted a quarantine | rules | signals | during learning |")
    w("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for p in planmod.NORMAL_PROFILES + ["all"]:
        rs = [r for r in nor if p in ("all", r["profile"])]
        if not rs:
            continue
        hh = sum(r["hours"] for r in rs)
        d = sum(r["detections"] for r in rs)
        w(f"| {'**all**' if p == 'all' else '`' + p + '`'} | {len(rs)} | {hh:.0f} | {d} | "
          f"{100 * d / hh:.1f} | {sum(r['alerts'] for r in rs)} | {sum(r['throttles'] for r in rs)} | "
          f"{sum(r['quarantines'] for r in rs)} | {sum(r['wanted_quarantine'] for r in rs)} | "
          f"{', '.join(sorted({x for r in rs for x in r['rules']})) or '—'} | "
          f"{', '.join(sorted({x for r in rs for x in r['signals']})) or '—'} | "
          f"{sum(r['during_learning'] for r in rs)} |")
    w("")
    w("Every normal host browses; the profile names the one heavier activity it adds. The mix is "
      "busier than a real day (every backup host runs its backup, every update host its "
      "updates, inside the measured window), so its rate per host-hour is an upper bound for "
      "such a population; the per-profile rows show what each activity costs.")
    w("")
    w("## Signals in the evidence")
    w("")
    w("Hosts whose detections carried the signal as evidence (a signal that fired without "
      "any rule matching leaves no event and is not counted here).")
    w("")
    w("| signal | hijacked hosts (model: hosts) | normal hosts after learning (profile: hosts) |")
    w("|---|---|---|")
    sigs = sorted({x for r in hij + nor for x in r["signals"]})
    for sg in sigs:
        hm = ", ".join(f"{m} {sum(1 for r in hij if r['model'] == m and sg in r['signals'])}/"
                       f"{sum(1 for r in hij if r['model'] == m)}" for m in models
                       if any(r["model"] == m and sg in r["signals"] for r in hij))
        nm = ", ".join(f"{p} {sum(1 for r in nor if r['profile'] == p and sg in r['signals'])}/"
                       f"{sum(1 for r in nor if r['profile'] == p)}" for p in planmod.NORMAL_PROFILES
                       if any(r["profile"] == p and sg in r["signals"] for r in nor))
        w(f"| `{sg}` | {hm or '—'} | {nm or '—'} |")
    w("")
    w("## How it was measured")
    w("")
    w(f"- **Testbed**: `scripts/testbed.sh` (NAT gateway, XDP native on `lan0` and `wan0`, bwctld "
      f"as in production) plus one network namespace per LAN host (its own MAC, 198.18.0.20 "
      f"upwards, on the testbed's LAN switch) and {len(planmod.POOL)} internet addresses "
      "(203.0.113.100–254, 198.51.100.10–254 but .200) on the internet host. "
      "`tests/traffic/gen.py` drives every host with real TCP and UDP through the gateway: one "
      "process, sockets made in each namespace with setns(2); on the internet side one TCP "
      "server and one UDP reflector answer on every address and port (an nftables redirect), "
      "and the flood targets drop what they get.")
    w(f"- **Time compression**: 1 real second = {k} policy seconds. Durations of the models and "
      f"of the policy are divided by {k}; rates are unchanged; byte volumes over a window and "
      f"per event (an object, a relayed response, a beacon) are divided by {k}; counts "
      "(distinct sites per minute, peers per window) are unchanged. The policy's `interval` "
      f"(10 s) cannot go below 1 s, so the detector samples once a policy minute instead of "
      "every 10 s (and `spike.sustain: 3` means 3 minutes); every policy duration under a "
      f"minute becomes 1 s = {k} policy seconds, so the beacon model's periods start at 60 s. "
      "TCP/IP headers are not compressed: "
      "small compressed requests carry relatively more header bytes than real ones.")
    w(f"- **Timeline** (policy time): learning period {tl['learning'] / 60:.0f} min; hijacking "
      f"starts at {tl['hijack_start'] / 60:.0f} min plus a per-host stagger of up to "
      f"{tl['hijack_stagger'] / 60:.0f} min; the run ends at {tl['end'] / 60:.0f} min "
      f"({tl['end'] / k:.0f} s real per seed). Normal hosts count from the end of learning "
      f"({(tl['end'] - tl['learning']) / 3600:.2f} host-hours each per run).")
    w("- **Population**: normal hosts take the profiles in turn; every hijacked host also "
      "browses. Several hijacked hosts share one run (detection is per host; the shared "
      "quarantine budget is lifted, below).")
    w("- **Seeds** drive every choice: `tests/traffic/plan.py plan SEED` prints the plan "
      "(addresses, schedules, rates); the generator seeds each activity from it.")
    w("")
    w("| model | behaviour (uncompressed) |")
    w("|---|---|")
    for m in planmod.NORMAL_PROFILES + planmod.HIJACK_MODELS:
        w(f"| `{m}` | {planmod.MODEL_DOC[m]} |")
    w("")
    w("**Policy**: the `policy` section of `policies/bwenforce.yaml`, compressed by "
      "`tests/traffic/plan.py policy` (durations / k, at least 1 s; keys ending in `bytes` / k). "
      "Changed on purpose: `max_quarantines_per_hour: 1000` (the budget counts real hours, 60 "
      "compressed ones, and the hijacked hosts of all models share one run), "
      "`never_quarantine` lists the allowed peer-to-peer hosts and, where the policy has "
      "`expected`, the scheduled backups are listed there (host, provider, 443, up to 50 Mbit/s; "
      "all day, since a wall-clock schedule cannot be compressed) — both as an organisation would; "
      "durations in milliseconds (keys ending in `_ms`) are divided by k as well; "
      "`event_dedup: 1s` and raised `event_limits` (so that no detection is merged or "
      "suppressed in the log). Where the daemon has the `proxyware` signal, a feed "
      "(`signal: proxyware`, `action: monitor`) lists 2 of the 6 super-proxy addresses, as "
      "an organisation's own intelligence would know some: relays through the others are "
      "found by behaviour only. No blocklist feed: no C2 or flood target is listed. As run:")
    w("")
    w("```yaml")
    with open(os.path.join(runs[0]["dir"], "policy.yaml")) as f:
        L.extend(f.read().rstrip().splitlines())
    w("```")
    w("")
    w("Load during each run (`uptime` at its end): " +
      "; ".join(f"seed {r['plan']['seed']}: `{r['uptime'].split('load average:')[-1].strip()}`"
                for r in runs))
    w("")
    w("Reproduce: `sudo make detect-eval` (about 20 minutes on 2 cores; `QUICK=1` for a "
      "one-seed, two-model smoke run that only checks the harness and writes nothing to docs/). "
      "`SEEDS=\"1 2 3\"` chooses the seeds.")
    with open(out, "w") as f:
        f.write("\n".join(L) + "\n")


def main(argv):
    if len(argv) == 3 and argv[1] == "--check":
        run = load_run(argv[2])
        probs = check(run)
        hij = hijack_results(run)
        for r in hij:
            print(f"{r['model']} {r['host']}: first detection {fmt(r['first_any'])} min, "
                  f"signals {','.join(r['signals']) or '-'}")
        for p in probs:
            print("PROBLEM:", p)
        print(f"{len(run['events'])} detections parsed from {run['n_lines']} event lines, "
              f"{len(run['top'])} hosts in bwctl top")
        return 1 if probs else 0
    out = meta = None
    dirs = []
    i = 1
    while i < len(argv):
        if argv[i] == "--out":
            out = argv[i + 1]
            i += 2
        elif argv[i] == "--meta":
            meta = argv[i + 1]
            i += 2
        else:
            dirs.append(argv[i])
            i += 1
    if not out or not meta or not dirs:
        sys.stderr.write(__doc__)
        return 2
    with open(meta) as f:
        m = json.load(f)
    runs = [load_run(d) for d in dirs]
    report(runs, m, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
