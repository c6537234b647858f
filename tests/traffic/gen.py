#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""gen.py - drive a traffic plan (plan.py) through the testbed gateway with
real packets: every LAN host of the plan is a network namespace of its own;
the "internet" side is one TCP server and one UDP reflector in the testbed's
internet namespace, reached on every address of the plan's pool (its
nftables redirect sends every TCP port to the one listener and every UDP
port to the one reflector; conntrack puts the original address back on the
answers). One process, one event loop, sockets created in their namespace
with setns(2) (ctypes; the standard library only).

  gen.py PLAN.json NS_PREFIX NET_NS OUT.json [--t0 UNIX_TIME]

NS_PREFIX: the hosts' namespaces are NS_PREFIX + host name (e.g. bwe-x-h3).
Runs the plan to its end (timeline.end / k real seconds), then writes OUT.json:
the wall-clock start (t0), every host's hijack start as a Unix time, and
per-host bytes the generator wrote and read.

The tiny protocol of a TCP connection (client to server): "D <n> <rate>\\n"
asks the server to send n bytes paced at rate bytes/s (0: as fast as it
can); "U <n>\\n" is followed by n bytes the server discards. A UDP datagram's
first two bytes (network order) are the size of the answer the reflector
sends back (0: none).
"""
import collections
import ctypes
import heapq
import json
import math
import os
import random
import resource
import selectors
import socket
import struct
import sys
import time

TICK = 0.02                # pacing period, real seconds
TCP_PORT = 9998            # the server's one listener in the net namespace
UDP_PORT = 9997            # the reflector
MAX_QUEUE = 4 << 20        # bytes queued on one connection before requests are dropped
MAX_CONNS_PER_HOST = 160   # keep-alive pool per host (LRU)
ZERO = memoryview(bytes(65536))
CLONE_NEWNET = 0x40000000

libc = ctypes.CDLL(None, use_errno=True)
SELF_NS = os.open("/proc/self/ns/net", os.O_RDONLY)
NS_FD = {}


def in_ns(ns, fn):
    fd = NS_FD.get(ns)
    if fd is None:
        fd = NS_FD[ns] = os.open(f"/run/netns/{ns}", os.O_RDONLY)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, f"setns {ns}: {os.strerror(e)}")
    try:
        return fn()
    finally:
        libc.setns(SELF_NS, CLONE_NEWNET)


class Stats:
    def __init__(self):
        self.tx = 0
        self.rx = 0
        self.dropped = 0       # requests not queued (connection stalled, e.g. quarantined)
        self.conn_fail = 0


class Loop:
    def __init__(self):
        self.sel = selectors.DefaultSelector()
        self.timers = []
        self.seq = 0
        self.paced = set()

    def at(self, t, fn):
        self.seq += 1
        heapq.heappush(self.timers, (t, self.seq, fn))

    def run(self, until):
        next_tick = last_tick = time.monotonic()
        while True:
            now = time.monotonic()
            if now >= until:
                return
            nt = self.timers[0][0] if self.timers else until
            timeout = max(0.0, min(nt, next_tick, until) - now)
            for key, mask in self.sel.select(timeout):
                key.data(mask)
            now = time.monotonic()
            while self.timers and self.timers[0][0] <= now:
                _, _, fn = heapq.heappop(self.timers)
                fn()
            if now >= next_tick:
                dt = min(0.2, now - last_tick)
                last_tick = now
                for c in list(self.paced):
                    c.tick(dt)
                next_tick = now + TICK


class Conn:
    """One TCP connection, either end. Out: a queue of literal bytes and
    counts of zero bytes, written at `rate` (bytes/s, 0 = unpaced)."""

    def __init__(self, loop, sock, stats, server=False, connecting=False):
        self.loop, self.sock, self.stats, self.server = loop, sock, stats, server
        self.outq = collections.deque()
        self.queued = 0
        self.rate = 0.0
        self.tokens = 0.0
        self.alive = True
        self.connecting = connecting
        self.inbuf = bytearray()
        self.need = 0          # server: payload bytes still to discard
        self.mask = 0
        self.last_use = time.monotonic()
        self._set(selectors.EVENT_READ | (selectors.EVENT_WRITE if connecting else 0))

    def _set(self, mask):
        if mask == self.mask or not self.alive:
            return
        if self.mask == 0:
            self.loop.sel.register(self.sock, mask, self.on_event)
        elif mask == 0:
            self.loop.sel.unregister(self.sock)
        else:
            self.loop.sel.modify(self.sock, mask, self.on_event)
        self.mask = mask

    def close(self):
        if not self.alive:
            return
        self._set(0)
        self.alive = False
        self.loop.paced.discard(self)
        try:
            self.sock.close()
        except OSError:
            pass

    def push(self, item, rate=None, bulk=False):
        """Queue a literal (bytes) or a count of payload bytes (int). A
        client's requests are refused past MAX_QUEUE (a stalled connection,
        e.g. a quarantined host); bulk transfers and the server's answers
        are not."""
        if not self.alive:
            return False
        n = len(item) if isinstance(item, (bytes, bytearray)) else item
        if not (bulk or self.server) and self.queued + n > MAX_QUEUE:
            self.stats.dropped += 1
            return False
        if rate is not None:
            self.rate = float(rate)
        self.outq.append(item)
        self.queued += n
        self.last_use = time.monotonic()
        if self.rate > 0:
            self.loop.paced.add(self)
        elif not self.connecting:
            self.flush(1 << 30)
        return True

    def tick(self, dt):
        if self.rate <= 0:
            self.loop.paced.discard(self)
            return
        self.tokens = min(self.tokens + self.rate * dt, max(self.rate * 0.2, 4096))
        if not self.connecting:
            self.flush(int(self.tokens))
        if not self.outq:
            self.loop.paced.discard(self)

    def flush(self, budget):
        while self.outq and budget > 0:
            item = self.outq[0]
            try:
                if isinstance(item, int):
                    n = self.sock.send(ZERO[:min(item, budget, len(ZERO))])
                    if n == item:
                        self.outq.popleft()
                    else:
                        self.outq[0] = item - n
                else:
                    n = self.sock.send(item)
                    if n == len(item):
                        self.outq.popleft()
                    else:
                        self.outq[0] = item[n:]
            except BlockingIOError:
                break
            except OSError:
                self.close()
                return
            self.queued -= n
            self.stats.tx += n
            budget -= n
            if self.rate > 0:
                self.tokens -= n
        want_write = bool(self.outq) and (self.rate <= 0 or self.tokens > 0)
        self._set(selectors.EVENT_READ | (selectors.EVENT_WRITE if want_write else 0))

    def on_event(self, mask):
        if self.connecting and mask & selectors.EVENT_WRITE:
            err = self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                self.stats.conn_fail += 1
                self.close()
                return
            self.connecting = False
            if self.rate > 0:
                self.loop.paced.add(self)
                self._set(selectors.EVENT_READ)
            else:
                self.flush(1 << 30)
            return
        if mask & selectors.EVENT_READ:
            try:
                data = self.sock.recv(262144)
            except BlockingIOError:
                data = None
            except OSError:
                data = b""
            if data == b"":
                self.close()
                return
            if data:
                self.stats.rx += len(data)
                if self.server:
                    self.parse(data)
        if self.alive and mask & selectors.EVENT_WRITE:
            self.flush(int(self.tokens) if self.rate > 0 else 1 << 30)

    def parse(self, data):
        mv = memoryview(data)
        while len(mv):
            if self.need:
                k = min(self.need, len(mv))
                self.need -= k
                mv = mv[k:]
                continue
            i = bytes(mv[:256]).find(b"\n")
            if i < 0:
                self.inbuf += mv
                if len(self.inbuf) > 256:
                    self.close()
                return
            line = bytes(self.inbuf) + bytes(mv[:i])
            self.inbuf.clear()
            mv = mv[i + 1:]
            f = line.split()
            if len(f) >= 2 and f[0] == b"U":
                self.need = int(f[1])
            elif len(f) >= 3 and f[0] == b"D":
                self.push(int(f[1]), rate=float(f[2]))


def tcp_connect(loop, ns, addr, port, stats):
    def mk():
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        return s
    s = in_ns(ns, mk)
    try:
        s.connect((addr, port))
    except BlockingIOError:
        pass
    except OSError:
        stats.conn_fail += 1
        s.close()
        return None
    return Conn(loop, s, stats, connecting=True)


class Udp:
    def __init__(self, loop, ns, addr, port, stats):
        self.stats = stats
        self.sock = in_ns(ns, lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
        self.sock.setblocking(False)
        self.sock.connect((addr, port))
        self.loop = loop
        loop.sel.register(self.sock, selectors.EVENT_READ, self.on_event)
        self.alive = True

    def send(self, size, reply):
        try:
            self.sock.send(struct.pack("!H", reply) + ZERO[:max(0, size - 2)])
            self.stats.tx += size
        except OSError:
            self.stats.dropped += 1

    def on_event(self, mask):
        for _ in range(64):
            try:
                d = self.sock.recv(65536)
            except OSError:
                return
            self.stats.rx += len(d)

    def close(self):
        if self.alive:
            self.alive = False
            self.loop.sel.unregister(self.sock)
            self.sock.close()


# ---- the internet side -------------------------------------------------------------

class Servers:
    def __init__(self, loop, net_ns):
        self.loop = loop
        self.stats = Stats()

        def mk():
            t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            t.bind(("0.0.0.0", TCP_PORT))
            t.listen(4096)
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            u.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
            u.bind(("0.0.0.0", UDP_PORT))
            return t, u
        self.tcp, self.udp = in_ns(net_ns, mk)
        self.tcp.setblocking(False)
        self.udp.setblocking(False)
        loop.sel.register(self.tcp, selectors.EVENT_READ, self.on_accept)
        loop.sel.register(self.udp, selectors.EVENT_READ, self.on_udp)

    def on_accept(self, mask):
        for _ in range(128):
            try:
                s, _ = self.tcp.accept()
            except OSError:
                return
            s.setblocking(False)
            Conn(self.loop, s, self.stats, server=True)

    def on_udp(self, mask):
        for _ in range(256):
            try:
                d, a = self.udp.recvfrom(65536)
            except OSError:
                return
            self.stats.rx += len(d)
            if len(d) >= 2:
                n = struct.unpack("!H", d[:2])[0]
                if n:
                    try:
                        self.udp.sendto(ZERO[:n], a)
                        self.stats.tx += n
                    except OSError:
                        pass


# ---- the LAN hosts and their activities -------------------------------------------------

class Host:
    def __init__(self, loop, spec, ns):
        self.loop, self.spec, self.ns = loop, spec, ns
        self.stats = Stats()
        self.pool = collections.OrderedDict()   # (addr, port) -> Conn, LRU

    def conn(self, addr, port):
        key = (addr, port)
        c = self.pool.get(key)
        if c is not None and c.alive:
            self.pool.move_to_end(key)
            return c
        if c is not None:
            del self.pool[key]
        while len(self.pool) >= MAX_CONNS_PER_HOST:
            _, old = self.pool.popitem(last=False)
            old.close()
        c = tcp_connect(self.loop, self.ns, addr, port, self.stats)
        if c is not None:
            self.pool[key] = c
        return c

    def request(self, addr, port, up, down, rate=0):
        """One request on the keep-alive connection to addr:port: `up` bytes
        uploaded, `down` bytes asked for (paced at rate when given)."""
        c = self.conn(addr, port)
        if c is None:
            return
        if up > 0:
            c.push(b"U %d\n" % up)
            c.push(int(up))
        if down > 0:
            c.push(b"D %d %d\n" % (int(down), int(rate)))


def zipf_cum(n, s):
    w = [1.0 / (i + 1) ** s for i in range(n)]
    cum, t = [], 0.0
    for x in w:
        t += x
        cum.append(t)
    return cum


class Runner:
    def __init__(self, loop, plan, t0_mono):
        self.loop, self.plan, self.k = loop, plan, float(plan["k"])
        self.t0 = t0_mono

    def real(self, policy_s):
        return self.t0 + policy_s / self.k

    def now_policy(self):
        return (time.monotonic() - self.t0) * self.k

    def spawn(self, gen):
        """Drive a generator that yields policy seconds to wait."""
        def step():
            try:
                d = next(gen)
            except StopIteration:
                return
            self.loop.at(time.monotonic() + max(0.0, d) / self.k, step)
        step()

    def start(self, host, act):
        typ = act["type"]
        fn = getattr(self, "act_" + typ)
        for s, e in act["sessions"]:
            self.loop.at(self.real(s), lambda s=s, e=e: self.spawn(fn(host, act, s, e)))

    # Activities: generators yielding policy seconds. Volumes per event / k.

    def act_browsing(self, h, a, s, e):
        rng = random.Random(a["seed"] ^ int(s))
        web = self.plan["roles"]["web"]
        cum = zipf_cum(len(web), a["zipf"])
        mu = math.log(a["page_median"])
        while self.now_policy() < e:
            page = min(a["page_cap"], rng.lognormvariate(mu, a["page_sigma"])) / self.k
            sites = rng.choices(web, cum_weights=cum, k=rng.randint(1, a["sites_max"]))
            share = page / len(sites)
            for site in sites:
                port = 80 if rng.random() < 0.1 else 443
                h.request(site, port, 2000 / self.k / len(sites), share * rng.uniform(0.5, 1.5))
            yield rng.expovariate(1.0 / a["think"])

    def act_streaming(self, h, a, s, e):
        dur = (e - s) / self.k
        h.request(a["cdn"], 443, 300, a["rate_bps"] / 8 * dur, rate=a["rate_bps"] / 8)
        yield e - s
        c = h.pool.pop((a["cdn"], 443), None)
        if c:
            c.close()

    def act_download(self, h, a, s, e):
        dur = (e - s) / self.k
        h.request(a["peer"], a["port"], 300, a["rate_bps"] / 8 * dur, rate=a["rate_bps"] / 8)
        yield e - s
        c = h.pool.pop((a["peer"], a["port"]), None)
        if c:
            c.close()

    def act_upload(self, h, a, s, e):
        dur = (e - s) / self.k
        c = h.conn(a["peer"], a["port"])
        if c:
            n = int(a["rate_bps"] / 8 * dur)
            c.push(b"U %d\n" % n, bulk=True)
            c.push(n, rate=a["rate_bps"] / 8, bulk=True)
        yield e - s
        c = h.pool.pop((a["peer"], a["port"]), None)
        if c:
            c.close()

    def udp_paced(self, socks_sizes, pps, reply, e, rng, churn=None):
        """Send pps datagrams a second (a real rate) spread over socks until
        policy time e. churn(): called every policy minute, may replace socks."""
        acc = 0.0
        last = time.monotonic()
        next_churn = self.now_policy() + 60
        step = TICK * self.k  # policy seconds per pacing tick
        while self.now_policy() < e:
            now = time.monotonic()
            acc += pps * (now - last)
            last = now
            n = int(acc)
            acc -= n
            socks = socks_sizes()
            for i in range(n):
                u, size = socks[(i + rng.randrange(len(socks))) % len(socks)]
                u.send(size, reply(size))
            if churn and self.now_policy() >= next_churn:
                churn()
                next_churn += 60
            yield step

    def act_videocall(self, h, a, s, e):
        rng = random.Random(int(s) ^ h.spec["id"])
        socks = [(Udp(self.loop, h.ns, p, port, h.stats), a["size"])
                 for p, port in zip(a["peers"], a["ports"])]
        pps = a["rate_bps"] / 8 / a["size"]
        yield from self.udp_paced(lambda: socks, pps, lambda sz: sz, e, rng)
        for u, _ in socks:
            u.close()

    def act_p2p(self, h, a, s, e):
        rng = random.Random(a["seed"])
        peers = list(a["peers"])

        def mk(p):
            return (Udp(self.loop, h.ns, p, rng.randint(1024, 65535), h.stats), a["size"])
        active = [mk(p) for p in rng.sample(peers, a["active"])]

        def churn():
            for _ in range(max(1, int(len(active) * a["churn"]))):
                i = rng.randrange(len(active))
                active[i][0].close()
                active[i] = mk(rng.choice(peers))
        pps = a["rate_bps"] / 8 / a["size"]
        reply = min(1400, int(a["size"] * a["down_share"]))
        yield from self.udp_paced(lambda: active, pps, lambda sz: reply, e, rng, churn)
        for u, _ in active:
            u.close()

    def act_flood(self, h, a, s, e):
        rng = random.Random(int(s) ^ h.spec["id"])
        socks = [(Udp(self.loop, h.ns, a["peer"], p, h.stats), a["size"]) for p in a["ports"]]
        yield from self.udp_paced(lambda: socks, a["pps"], lambda sz: 0, e, rng)
        for u, _ in socks:
            u.close()

    def act_beacon(self, h, a, s, e):
        rng = random.Random(a["seed"])
        while self.now_policy() < e:
            c = tcp_connect(self.loop, h.ns, a["peer"], a["port"], h.stats)
            if c:
                up = max(1, int(a["up"] / self.k))
                c.push(b"U %d\n" % up)
                c.push(up)
                c.push(b"D %d 0\n" % max(1, int(a["down"] / self.k)))
                self.loop.at(time.monotonic() + 0.5, c.close)
            yield a["period"] * rng.uniform(1 - a["jitter"], 1 + a["jitter"])

    def act_relay(self, h, a, s, e):
        rng = random.Random(a["seed"])
        targets = self.plan["roles"]["web"] + self.plan.get("extra_targets", [])
        cum = zipf_cum(len(targets), a["zipf"])
        sps = a["superproxies"]
        step = 1.0  # policy seconds between batches
        per_step = a["sites_per_min"] / 60.0 * step
        acc = 0.0
        while True:
            t = self.now_policy()
            if t >= e:
                return
            rate = a["rate_bps"]
            if "ramp_to_bps" in a:
                rate += (a["ramp_to_bps"] - rate) * min(1.0, (t - s) / a["ramp_s"])
            # bytes of this step, real: rate (bytes/s of the wire) * step / k
            step_bytes = rate / 8 * step / self.k
            acc += per_step
            n = int(acc)
            acc -= n
            if n:
                per = step_bytes / n
                for _ in range(n):
                    site = rng.choices(targets, cum_weights=cum)[0]
                    port = 80 if rng.random() < 0.1 else 443
                    sp = rng.choice(sps)
                    req = max(1, int(600 / self.k))
                    if rng.random() < a["post_share"]:
                        h.request(sp, a["sp_port"], req, per)           # the body comes in
                        h.request(site, port, per, req)                 # ... and goes out
                    else:
                        h.request(sp, a["sp_port"], 0, req)             # the request comes in
                        h.request(site, port, req, per)                 # the site answers
                        h.request(sp, a["sp_port"], per, 0)             # relayed upstream
            else:
                # keep the bytes flowing between site contacts
                h.request(rng.choice(sps), a["sp_port"], step_bytes / 2, step_bytes / 2)
            yield step


def main(argv):
    if len(argv) < 5:
        sys.stderr.write(__doc__)
        return 2
    with open(argv[1]) as f:
        plan = json.load(f)
    prefix, net_ns, out = argv[2], argv[3], argv[4]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    # relays reach every address of the pool that has no other role
    used = set(a for v in plan["roles"].values() for a in v)
    import plan as planmod  # noqa: E402 (same directory)
    plan["extra_targets"] = [a for a in planmod.POOL if a not in used]

    loop = Loop()
    servers = Servers(loop, net_ns)
    hosts = [Host(loop, h, prefix + h["name"]) for h in plan["hosts"]]
    t0_wall = time.time()
    t0 = time.monotonic() + 0.2
    runner = Runner(loop, plan, t0)
    for h in hosts:
        for a in h.spec["activities"]:
            runner.start(h, a)
    end = t0 + plan["timeline"]["end"] / plan["k"]
    status = {"t0": t0_wall + 0.2, "k": plan["k"], "seed": plan["seed"], "hosts": {}}

    def report():
        for h in hosts:
            status["hosts"][h.spec["ip"]] = {
                "name": h.spec["name"], "tx": h.stats.tx, "rx": h.stats.rx,
                "dropped": h.stats.dropped, "conn_fail": h.stats.conn_fail}
            if "hijack_start" in h.spec:
                status["hosts"][h.spec["ip"]]["hijack_start"] = \
                    status["t0"] + h.spec["hijack_start"] / plan["k"]
        status["server"] = {"tx": servers.stats.tx, "rx": servers.stats.rx}
        tmp = out + ".tmp"
        with open(tmp, "w") as f:
            json.dump(status, f)
        os.replace(tmp, out)
    report()
    try:
        while time.monotonic() < end:
            loop.run(min(end, time.monotonic() + 5))
            report()
    except KeyboardInterrupt:
        pass
    status["finished"] = time.time()
    report()
    return 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    sys.exit(main(sys.argv))
