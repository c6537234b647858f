#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""plan.py - the traffic models of the detection evaluation and the seeded
plan built from them; and the time-compressed policy (standard library only).

Every model is written in *uncompressed* (policy) units: durations in
seconds of the real world, rates in bits per second, sizes in bytes, counts.
The run compresses time by K (1 real second = K policy seconds):
  - durations are divided by K;
  - rates are unchanged (a rate is a rate: bytes per second of the wire);
  - per-event volumes (an object, a relayed response, a beacon) are divided
    by K, so that the bytes of one policy minute still flow at the same rate;
  - counts (sites contacted per policy minute, pages per minute) are
    unchanged: what happens in one policy minute happens in 1/K real minute.
The policy is compressed the same way (compress_policy): durations / K,
byte volumes over a window / K, rates and counts unchanged.

  plan.py plan SEED [--quick] > plan.json        the traffic plan of one run
  plan.py policy FILE K [KEY=VALUE...]           the compressed policy section;
                                                  KEY=VALUE replaces a key of it
                                                  that the file has (others: ignored)
  plan.py expected PLAN.json                      policy.expected for its backups
  plan.py describe                                the models and parameters (JSON)

The same seed gives the same plan (random.Random(seed) drives every choice;
the generator seeds one more generator per activity from the plan).
"""
import json
import math
import random
import re
import sys

K = 60  # 1 real second = 60 policy seconds (1 real second = 1 policy minute)
MIN = 60.0
HOUR = 3600.0

# The run's timeline, policy seconds. Learning as the shipped policy (1h),
# then a quarter of an hour of normal traffic, then every hijacked host
# starts (staggered over 10 minutes) and the run lasts another ~60 minutes.
TIMELINE = {
    "learning": 3600.0,
    "hijack_start": 4500.0,
    "hijack_stagger": 600.0,
    "end": 8400.0,
}
TIMELINE_QUICK = {
    "learning": 3600.0,
    "hijack_start": 4200.0,
    "hijack_stagger": 120.0,
    "end": 6000.0,
}

# LAN hosts: 198.18.0.20 upwards (the testbed's own two hosts stay idle).
HOST_BASE = 20

# The "internet": addresses in the RFC 5737 ranges that the testbed does not
# use for its own roles (gateway .1, net .2, allowlist .200; site, C2, relay,
# mgmt, DNS in 203.0.113.0/24 below .100).
POOL = ([f"203.0.113.{i}" for i in range(100, 255)] +
        [f"198.51.100.{i}" for i in range(10, 200)] +
        [f"198.51.100.{i}" for i in range(201, 255)])

NORMAL_PROFILES = ["browsing", "streaming", "videocall", "backup", "backup_busy", "update", "p2p"]
HIJACK_MODELS = ["relay443", "relay_nonstd", "flood", "c2beacon", "ramp"]

# What each model is, for the report (uncompressed units).
MODEL_DOC = {
    "browsing": "every host: on/off sessions (on exp. mean 20 min, off exp. mean 15 min); "
                "a page every exp. 15 s when on, 1-6 sites of a Zipf(1.1) pool of 80, "
                "page weight lognormal median 1.5 MB (sigma 1.0, cap 20 MB), requests 2 kB up a page; "
                "TCP 443 (10 % 80)",
    "streaming": "sessions of 20-60 min every 10-40 min, 2-8 Mbit/s down from one of 4 CDN "
                 "addresses, TCP 443",
    "videocall": "calls of 15-60 min every 10-60 min, symmetric UDP 0.8-2.5 Mbit/s each way "
                 "(1100-byte datagrams), to an SFU (port 3478) or 2-6 peers (ports 10000-60000)",
    "backup": "one scheduled upload after the learning period, 10-40 Mbit/s for 10-30 min, "
              "TCP 443 to one of 3 provider addresses; placed off-hours: the host does nothing "
              "else from 10 min before to 10 min after it",
    "backup_busy": "the same backup while the user keeps browsing (a daytime backup)",
    "update": "1-2 downloads of 2-10 min at 20-100 Mbit/s from one of 3 update servers, TCP 80/443",
    "p2p": "an allowed peer-to-peer client, always on: UDP to 20-60 peers at once out of 60, "
           "each on its own port 1024-65535, 10 % of peers replaced a minute, "
           "0.5-4 Mbit/s up and about as much down; the organisation lists the host "
           "in policy.never_quarantine",
    "relay443": "residential-proxy relay: 1-3 long-lived TCP 443 connections to super-proxies; "
                "each policy minute 10-60 requests to sites drawn (Zipf 0.8) from ~300 ordinary "
                "sites on 443 (10 % 80); the response of each site is uploaded to the super-proxy "
                "(25 % of requests are uploads the other way round); 0.5-5 Mbit/s relayed",
    "relay_nonstd": "the same relay with the super-proxies on a non-standard port "
                    "(1080, 3128, 7000, 8000, 8888, 9090)",
    "flood": "botnet flood participation: UDP bursts of 2-10 min every 1-10 min at 2-10 kpps "
             "of 64-512-byte datagrams to one target address (1-3 ports)",
    "c2beacon": "C2 beacon: a new TCP 443 connection to one C2 address every 60-300 s "
                "(jitter 2 %), 200-600 bytes up, 100-2000 bytes down; the C2 is on no feed",
    "ramp": "slow ramp: a 443 relay whose rate grows linearly from 0.1 Mbit/s to 4-10 Mbit/s "
            "over 60-120 min, 20-40 sites a minute",
}


def u(rng, a, b):
    return rng.uniform(a, b)


def sessions(rng, t0, t1, first_max, dur, gap):
    """Alternating on/off periods in [t0, t1): list of [start, end]."""
    out = []
    t = t0 + rng.uniform(0, first_max)
    while t < t1:
        d = rng.uniform(*dur)
        out.append([t, min(t + d, t1)])
        t += d + rng.uniform(*gap)
    return out


def make_plan(seed, quick=False):
    rng = random.Random(seed)
    tl = dict(TIMELINE_QUICK if quick else TIMELINE)
    n_normal = 6 if quick else 21
    models = ["relay443", "flood"] if quick else HIJACK_MODELS
    reps = 1 if quick else 2

    pool = list(POOL)
    rng.shuffle(pool)
    take = lambda n: [pool.pop() for _ in range(n)]  # noqa: E731
    roles = {
        "web": take(80), "cdn": take(4), "video": take(12), "backup": take(3),
        "update": take(3), "p2p": take(60), "superproxy": take(6), "c2": take(4),
        "flood": take(3),
    }
    roles["targets"] = roles["web"] + pool  # relays reach ordinary sites
    end = tl["end"]
    learn = tl["learning"]

    hosts = []

    def new_host(kind, model):
        i = len(hosts)
        h = {"id": i, "name": f"h{i}", "ip": f"198.18.0.{HOST_BASE + i}", "kind": kind,
             "model": model, "activities": []}
        hosts.append(h)
        return h

    def browsing(h):
        h["activities"].append({
            "type": "browsing", "sessions": sessions(rng, 0, end, 600, (5 * MIN, 35 * MIN),
                                                     (2 * MIN, 28 * MIN)),
            "think": 15.0, "page_median": 1.5e6, "page_sigma": 1.0, "page_cap": 20e6,
            "sites_max": 6, "zipf": 1.1, "seed": rng.getrandbits(32)})

    for i in range(n_normal):
        prof = NORMAL_PROFILES[i % len(NORMAL_PROFILES)]
        h = new_host("normal", prof)
        browsing(h)
        a = None
        if prof == "streaming":
            a = {"type": "streaming", "cdn": rng.choice(roles["cdn"]),
                 "sessions": sessions(rng, 0, end, 1800, (20 * MIN, 60 * MIN), (10 * MIN, 40 * MIN)),
                 "rate_bps": u(rng, 2e6, 8e6)}
        elif prof == "videocall":
            sfu = rng.random() < 0.5
            npeers = 1 if sfu else rng.randint(2, 6)
            peers = rng.sample(roles["video"], npeers)
            ports = [3478] if sfu else [rng.randint(10000, 60000) for _ in peers]
            a = {"type": "videocall", "peers": peers, "ports": ports, "size": rng.randint(1100, 1200),
                 "sessions": sessions(rng, 0, end, 3600, (15 * MIN, 60 * MIN), (10 * MIN, 60 * MIN)),
                 "rate_bps": u(rng, 0.8e6, 2.5e6)}
        elif prof in ("backup", "backup_busy"):
            start = u(rng, learn + 300, end - 1800)
            a = {"type": "upload", "peer": rng.choice(roles["backup"]), "port": 443,
                 "sessions": [[start, min(end, start + u(rng, 10 * MIN, 30 * MIN))]],
                 "rate_bps": u(rng, 10e6, 40e6)}
        elif prof == "update":
            n = rng.randint(1, 2)
            ss = sorted(u(rng, learn, end - 600) for _ in range(n))
            a = {"type": "download", "peer": rng.choice(roles["update"]),
                 "port": rng.choice([80, 443]),
                 "sessions": [[s, min(end, s + u(rng, 2 * MIN, 10 * MIN))] for s in ss],
                 "rate_bps": u(rng, 20e6, 100e6)}
        elif prof == "p2p":
            a = {"type": "p2p", "peers": roles["p2p"], "active": rng.randint(20, 60),
                 "churn": 0.1, "sessions": [[0, end]], "rate_bps": u(rng, 0.5e6, 4e6),
                 "down_share": u(rng, 0.7, 1.3), "size": 1200, "seed": rng.getrandbits(32)}
            h["never_quarantine"] = True
        if a and prof == "backup":
            # off-hours: no browsing around the backup
            b0, b1 = a["sessions"][0][0] - 10 * MIN, a["sessions"][0][1] + 10 * MIN
            br = h["activities"][0]
            cut = []
            for x, y in br["sessions"]:
                if y <= b0 or x >= b1:
                    cut.append([x, y])
                else:
                    if x < b0:
                        cut.append([x, b0])
                    if y > b1:
                        cut.append([b1, y])
            br["sessions"] = cut
        if a:
            h["activities"].append(a)

    for model in models:
        for r in range(reps):
            h = new_host("hijack", model)
            browsing(h)
            start = tl["hijack_start"] + u(rng, 0, tl["hijack_stagger"])
            h["hijack_start"] = start
            if model in ("relay443", "relay_nonstd", "ramp"):
                nsp = rng.randint(1, 3)
                a = {"type": "relay", "superproxies": rng.sample(roles["superproxy"], nsp),
                     "sp_port": 443 if model != "relay_nonstd" else
                     rng.choice([1080, 3128, 7000, 8000, 8888, 9090]),
                     "targets": roles["targets"], "zipf": 0.8,
                     "sites_per_min": rng.randint(10, 60) if model != "ramp" else rng.randint(20, 40),
                     "post_share": 0.25, "sessions": [[start, end]], "seed": rng.getrandbits(32)}
                if model == "ramp":
                    a["rate_bps"] = 0.1e6
                    a["ramp_to_bps"] = u(rng, 4e6, 10e6)
                    a["ramp_s"] = u(rng, 60 * MIN, 120 * MIN)
                else:
                    a["rate_bps"] = u(rng, 0.5e6, 5e6)
            elif model == "flood":
                a = {"type": "flood", "peer": rng.choice(roles["flood"]),
                     "ports": rng.sample([53, 80, 123, 443, 1900, 5060, 8080, 27015], rng.randint(1, 3)),
                     "sessions": sessions(rng, start, end, 0, (2 * MIN, 10 * MIN), (1 * MIN, 10 * MIN)),
                     "pps": u(rng, 2000, 10000), "size": rng.randint(64, 512)}
            elif model == "c2beacon":
                a = {"type": "beacon", "peer": rng.choice(roles["c2"]), "port": 443,
                     "period": u(rng, 60, 300), "jitter": 0.02, "up": rng.randint(200, 600),
                     "down": rng.randint(100, 2000), "sessions": [[start, end]],
                     "seed": rng.getrandbits(32)}
            h["activities"].append(a)

    # The proxyware feed an organisation would have: a third of the super-proxies
    # (known from earlier incidents); the other relays use unknown ones.
    roles["proxyware_feed"] = random.Random(seed + 1).sample(roles["superproxy"], 2)
    return {"seed": seed, "quick": quick, "k": K, "timeline": tl, "roles": {
        k: v for k, v in roles.items() if k != "targets"}, "n_targets": len(roles["targets"]),
        "hosts": hosts}


# ---- the compressed policy ------------------------------------------------------

DUR_RE = re.compile(r"(?<![\w.])(\d+)([smhd])(?![\w])")
SIZE_KEYS = re.compile(r"^(\s*-?\s*)?(\w*bytes)\s*:\s*(\d+)([kKMGT]?)\s*$")
UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}
SIZE = {"": 1, "k": 1024, "K": 1024, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def policy_section(text):
    """The top-level `policy:` block of a bwenforce.yaml, comments removed."""
    out, inside = [], False
    for line in text.splitlines():
        if re.match(r"^policy\s*:", line):
            inside = True
            out.append("policy:")
            continue
        if inside and re.match(r"^[A-Za-z_#]", line) and not line.startswith("#"):
            break
        if inside:
            s = re.sub(r"\s+#.*$", "", line) if not line.lstrip().startswith("#") else ""
            if s.strip():
                out.append(s.rstrip())
    return out


def scale_duration(m, k):
    v = int(m.group(1)) * UNIT[m.group(2)]
    return f"{max(1, math.ceil(v / k))}s"


def scale_ms_inline(s, k):
    # "burst_ms: 1000": a duration in milliseconds
    return re.sub(r"(\w*_ms)\s*:\s*(\d+)(?=\s*[,}]|\s*$)",
                  lambda m: f"{m.group(1)}: {max(1, int(m.group(2)) // k)}", s)


def scale_size_inline(s, k):
    # flow maps: "min_bytes: 10M" / "bytes: 100M" inside { }
    def rep(m):
        v = int(m.group(2)) * SIZE[m.group(3)]
        return f"{m.group(1)}: {max(1, v // k)}"
    return re.sub(r"(\w*bytes)\s*:\s*(\d+)([kKMGT]?)(?=\s*[,}]|\s*$)", rep, s)


def compress_policy(text, k, overrides):
    """The policy block with durations / k (at least 1 s), window byte volumes
    (keys ending in "bytes") / k, milliseconds (keys ending in "_ms") / k;
    rates and counts unchanged. overrides:
    {key: value} replacing a scalar key of the policy block (e.g. the
    quarantine budget), recorded by the caller."""
    lines = []
    for s in policy_section(text):
        key = s.strip().split(":", 1)[0]
        if key in overrides and not s.strip().startswith("-"):
            indent = s[:len(s) - len(s.lstrip())]
            lines.append(f"{indent}{key}: {overrides[key]}")
            continue
        s = DUR_RE.sub(lambda m: scale_duration(m, k), s)
        s = scale_size_inline(s, k)
        s = scale_ms_inline(s, k)
        lines.append(s)
    return "\n".join(lines) + "\n"


def expected_yaml(plan):
    """policy.expected as the organisation would write it for the plan's
    scheduled backups: the host, its provider, 443, up to 50 Mbit/s. The
    schedule is wall-clock time, which the run cannot compress: the entries
    hold all day, the most lenient setting."""
    ents = []
    for h in plan["hosts"]:
        for a in h["activities"]:
            if a["type"] == "upload":
                ents.append(f'{{ name: backup-{h["name"]}, hosts: [ {h["ip"]} ], '
                            f'peers: [ {a["peer"]} ], ports: [ {a["port"]} ], '
                            f'schedule: "daily 00:00-23:59", max_rate: 50mbit }}')
    return "[ " + ", ".join(ents) + " ]" if ents else "[]"


def main(argv):
    if len(argv) >= 2 and argv[1] == "plan":
        seed = int(argv[2])
        json.dump(make_plan(seed, quick="--quick" in argv), sys.stdout)
        return 0
    if len(argv) >= 4 and argv[1] == "policy":
        with open(argv[2]) as f:
            text = f.read()
        ov = {}
        for a in argv[4:]:
            kk, v = a.split("=", 1)
            ov[kk] = v
        sys.stdout.write(compress_policy(text, int(argv[3]), ov))
        return 0
    if len(argv) >= 3 and argv[1] == "expected":
        with open(argv[2]) as f:
            print(expected_yaml(json.load(f)))
        return 0
    if len(argv) >= 2 and argv[1] == "describe":
        json.dump({"k": K, "timeline": TIMELINE, "models": MODEL_DOC}, sys.stdout, indent=1)
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
