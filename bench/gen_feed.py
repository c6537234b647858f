#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""gen_feed.py - synthetic threat-intel feeds for bench/control.sh.

  gen_feed.py base  --v4 N [--v6 M] [--net-share S] [--seed X] [--include ADDR]... OUT
      A plain feed like the big public lists: N IPv4 lines, of which a share S
      (default 0.05) are /16../24 networks with firehol_level1's length mix and
      the rest distinct random public /32 hosts; then M IPv6 lines (80 % /128
      hosts, 20 % /32../64 prefixes). Every line is distinct. Addresses never
      fall in special-purpose ranges (RFC 1918, 6598, 5737, 2544, loopback,
      link-local, multicast, reserved, 2001:db8::/32 ...), so the list never
      touches the testbed; --include adds given lines (the bench's own targets).
  gen_feed.py v6    --count M [--seed X] OUT
      M IPv6 lines only (same mix as above).
  gen_feed.py delta IN OUT --remove R --add A [--seed X] [--keep ADDR]...
      IN with R random lines removed (never a --keep line and never a comment)
      and A new distinct /32 hosts added: a 1 % change of a big feed.
  gen_feed.py nft   IN OUT [--limit N]
      An `nft -f` script: table netdev t, interval set s (auto-merge) holding
      the first N (default all) IPv4 lines of IN.

Deterministic for a given seed. Writes OUT (not stdout) so that the caller can
rename it into place atomically.
"""
import argparse
import random
import sys

# IPv4 special-purpose ranges (start, end inclusive) never generated.
_V4_EXCLUDE = [
    ("0.0.0.0", 8), ("10.0.0.0", 8), ("100.64.0.0", 10), ("127.0.0.0", 8),
    ("169.254.0.0", 16), ("172.16.0.0", 12), ("192.0.0.0", 24),
    ("192.0.2.0", 24), ("192.88.99.0", 24), ("192.168.0.0", 16),
    ("198.18.0.0", 15), ("198.51.100.0", 24), ("203.0.113.0", 24),
    ("224.0.0.0", 3),
]
# firehol_level1-like length mix of the networks
_NET_LENS = [(24, 50), (23, 10), (22, 15), (21, 8), (20, 7), (19, 4), (18, 2),
             (17, 2), (16, 2)]


def _v4_int(s):
    a, b, c, d = (int(x) for x in s.split("."))
    return (a << 24) | (b << 16) | (c << 8) | d


def _v4_str(n):
    return "%d.%d.%d.%d" % (n >> 24, (n >> 16) & 255, (n >> 8) & 255, n & 255)


_EXCL = []
for _a, _l in _V4_EXCLUDE:
    _s = _v4_int(_a)
    _EXCL.append((_s, _s + (1 << (32 - _l)) - 1))
# first octets wholly inside an excluded range: rejected with one lookup
_BAD_OCTET = [False] * 256
_PART_OCTET = [False] * 256
for _s, _e in _EXCL:
    for _o in range(_s >> 24, (_e >> 24) + 1):
        if _s <= (_o << 24) and _e >= ((_o << 24) | 0xFFFFFF):
            _BAD_OCTET[_o] = True
        else:
            _PART_OCTET[_o] = True


def _v4_ok(lo, hi):
    """True when [lo, hi] touches no excluded range."""
    o = lo >> 24
    if _BAD_OCTET[o] or _BAD_OCTET[hi >> 24]:
        return False
    if not (_PART_OCTET[o] or _PART_OCTET[hi >> 24]):
        return True
    return all(hi < s or lo > e for s, e in _EXCL)


def _pick_len(rng):
    r = rng.randrange(100)
    for plen, w in _NET_LENS:
        if r < w:
            return plen
        r -= w
    return 24


def gen_v4(rng, n, net_share, seen):
    """n distinct IPv4 lines; seen: set of lines already present."""
    out = []
    nnet = int(round(n * net_share))
    while len(out) < nnet:
        plen = _pick_len(rng)
        base = rng.getrandbits(32) & ~((1 << (32 - plen)) - 1) & 0xFFFFFFFF
        if not _v4_ok(base, base + (1 << (32 - plen)) - 1):
            continue
        s = "%s/%d" % (_v4_str(base), plen)
        if s not in seen:
            seen.add(s)
            out.append(s)
    while len(out) < n:
        a = rng.getrandbits(32)
        if not _v4_ok(a, a):
            continue
        s = _v4_str(a)
        if s not in seen:
            seen.add(s)
            out.append(s)
    rng.shuffle(out)
    return out


def gen_v6(rng, n, seen):
    """n distinct IPv6 lines inside 2400::/6-ish global unicast (RIR space),
    never 2001:db8::/32, 2002::/16 or other special space."""
    out = []
    while len(out) < n:
        hi16 = rng.randrange(0x2400, 0x2c00)
        if rng.randrange(100) < 80:
            words = [hi16] + [rng.getrandbits(16) for _ in range(7)]
            s = ":".join("%x" % w for w in words)
        else:
            plen = rng.choice((32, 40, 44, 48, 48, 48, 56, 64))
            bits = (hi16 << 112) | (rng.getrandbits(112))
            bits &= ~((1 << (128 - plen)) - 1)
            words = [(bits >> (112 - 16 * i)) & 0xFFFF for i in range(8)]
            s = ":".join("%x" % w for w in words) + "/%d" % plen
        if s not in seen:
            seen.add(s)
            out.append(s)
    return out


def _write(path, lines, header):
    with open(path, "w") as f:
        f.write("# %s\n" % header)
        f.write("\n".join(lines))
        if lines:
            f.write("\n")


def cmd_base(a):
    rng = random.Random(a.seed)
    seen = set(a.include)
    v4 = gen_v4(rng, a.v4, a.net_share, seen)
    v6 = gen_v6(rng, a.v6, seen)
    lines = list(a.include) + v4 + v6
    _write(a.out, lines, "bwenforce benchmark feed: %d IPv4 (%.0f%% networks), %d IPv6, "
           "%d fixed, seed %d" % (a.v4, a.net_share * 100, a.v6, len(a.include), a.seed))


def cmd_v6(a):
    rng = random.Random(a.seed)
    _write(a.out, gen_v6(rng, a.count, set()), "bwenforce benchmark feed: %d IPv6, seed %d"
           % (a.count, a.seed))


def _read_entries(path):
    with open(path) as f:
        return [ln.strip() for ln in f if ln.strip() and not ln.startswith(("#", ";"))]


def cmd_delta(a):
    rng = random.Random(a.seed)
    lines = _read_entries(a.input)
    keep = set(a.keep)
    cand = [i for i, ln in enumerate(lines) if ln not in keep]
    if a.remove > len(cand):
        sys.exit("gen_feed.py: cannot remove %d of %d lines" % (a.remove, len(cand)))
    gone = set(rng.sample(cand, a.remove))
    seen = set(lines)
    new = gen_v4(rng, a.add, 0.0, seen)
    out = [ln for i, ln in enumerate(lines) if i not in gone] + new
    _write(a.out, out, "bwenforce benchmark feed: delta of %s, -%d +%d, seed %d"
           % (a.input, a.remove, a.add, a.seed))


def cmd_nft(a):
    v4 = [ln for ln in _read_entries(a.input) if ":" not in ln]
    if a.limit:
        v4 = v4[:a.limit]
    with open(a.out, "w") as f:
        f.write("table netdev t {\n\tset s {\n\t\ttype ipv4_addr\n\t\tflags interval\n"
                "\t\tauto-merge\n\t\telements = {\n")
        for i in range(0, len(v4), 16):
            f.write("\t\t\t" + ", ".join(v4[i:i + 16]) + (",\n" if i + 16 < len(v4) else "\n"))
        f.write("\t\t}\n\t}\n}\n")
    print(len(v4))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("base")
    b.add_argument("--v4", type=int, required=True)
    b.add_argument("--v6", type=int, default=0)
    b.add_argument("--net-share", type=float, default=0.05)
    b.add_argument("--seed", type=int, default=1)
    b.add_argument("--include", action="append", default=[])
    b.add_argument("out")
    v = sub.add_parser("v6")
    v.add_argument("--count", type=int, required=True)
    v.add_argument("--seed", type=int, default=2)
    v.add_argument("out")
    d = sub.add_parser("delta")
    d.add_argument("input")
    d.add_argument("out")
    d.add_argument("--remove", type=int, required=True)
    d.add_argument("--add", type=int, required=True)
    d.add_argument("--seed", type=int, default=3)
    d.add_argument("--keep", action="append", default=[])
    n = sub.add_parser("nft")
    n.add_argument("input")
    n.add_argument("out")
    n.add_argument("--limit", type=int, default=0)
    a = p.parse_args()
    {"base": cmd_base, "v6": cmd_v6, "delta": cmd_delta, "nft": cmd_nft}[a.cmd](a)


if __name__ == "__main__":
    main()
