#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""dns_stub.py ADDR ZONE.json - a tiny authoritative DNS responder for tests.

Answers A and AAAA queries from ZONE.json, re-read at every query:
  {"ttl": 5, "names": {"relay.proxyware.example": ["203.0.113.80", "2001:db8:3::80"]},
   "ttls": {"long.example": 3600}, "drop": ["blackhole.example"]}
"ttls" overrides the TTL per name; names in "drop" get no answer at all (a
server that never answers). Unknown names get NXDOMAIN. Every query is
printed to stdout as "query NAME TYPE". UDP only, one packet at a time,
test use only.
"""
import ipaddress
import json
import socket
import struct
import sys

A, AAAA = 1, 28


def parse_name(buf, off):
    labels = []
    while buf[off]:
        n = buf[off]
        labels.append(buf[off + 1:off + 1 + n].decode("ascii", "replace").lower())
        off += n + 1
    return ".".join(labels), off + 1


def answer(query, zone):
    qid, flags, qd = struct.unpack(">HHH", query[:6])
    name, off = parse_name(query, 12)
    qtype, qclass = struct.unpack(">HH", query[off:off + 4])
    question = query[12:off + 4]
    names = zone.get("names", {})
    rcode = 0 if name in names else 3
    rrs = b""
    count = 0
    for a in names.get(name, []):
        ip = ipaddress.ip_address(a)
        t = A if ip.version == 4 else AAAA
        if t != qtype:
            continue
        ttl = int(zone.get("ttls", {}).get(name, zone.get("ttl", 5)))
        rrs += b"\xc0\x0c" + struct.pack(">HHIH", t, 1, ttl, len(ip.packed)) + ip.packed
        count += 1
    hdr = struct.pack(">HHHHHH", qid, 0x8400 | rcode, 1, count, 0, 0)
    return hdr + question + rrs


def query_of(query):
    name, off = parse_name(query, 12)
    (qtype,) = struct.unpack(">H", query[off:off + 2])
    return name, qtype


def main():
    addr, zonefile = sys.argv[1], sys.argv[2]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, 53))
    while True:
        q, peer = s.recvfrom(512)
        try:
            with open(zonefile) as f:
                zone = json.load(f)
            name, qtype = query_of(q)
            print("query", name, {A: "A", AAAA: "AAAA"}.get(qtype, qtype), flush=True)
            if name in zone.get("drop", []):
                continue
            s.sendto(answer(q, zone), peer)
        except Exception as e:  # a malformed query: ignore it
            print("dns_stub:", e, file=sys.stderr)


if __name__ == "__main__":
    main()
