#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""notify_recv.py SOCKET LOG MAX_S [-- CMD...] - the supervisor's end of
sd_notify(3) for tests: binds an AF_UNIX datagram socket at SOCKET (what
NOTIFY_SOCKET names) and appends every message received to LOG, one line
each: "<CLOCK_MONOTONIC seconds> <message, newlines as |>".

When the first READY=1 arrives, CMD (if given) runs at once and its output
goes to LOG.ready: the test sees the daemon's state at the moment it said
it was ready. Exits after MAX_S seconds (bounded) or on SIGTERM. Test use only.
"""
import os
import signal
import socket
import subprocess
import sys
import time


def main():
    path, log, max_s = sys.argv[1], sys.argv[2], float(sys.argv[3])
    cmd = sys.argv[5:] if len(sys.argv) > 4 and sys.argv[4] == "--" else []
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if os.path.exists(path):
        os.unlink(path)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    os.chmod(path, 0o600)
    end = time.monotonic() + max_s
    ready_seen = False
    with open(log, "a", buffering=1) as out:
        out.write("%.3f %s\n" % (time.monotonic(), "RECEIVER=1"))
        while time.monotonic() < end:
            s.settimeout(max(0.05, end - time.monotonic()))
            try:
                msg = s.recv(4096).decode("utf-8", "replace")
            except socket.timeout:
                break
            now = time.monotonic()
            if cmd and not ready_seen and "READY=1" in msg.split("\n"):
                ready_seen = True
                with open(log + ".ready", "w") as r:
                    subprocess.run(cmd, stdout=r, stderr=subprocess.STDOUT, timeout=10)
            out.write("%.3f %s\n" % (now, msg.replace("\n", "|")))


if __name__ == "__main__":
    main()
