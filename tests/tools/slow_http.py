#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""slow_http.py ADDR PORT DIR DELAY_S - a static HTTP server for tests whose
answers under /slow/ wait DELAY_S seconds before the file is read and sent.

It holds a feed download in flight for as long as a test needs (a reload
during a download). Threaded, so other paths answer at once. Test use only.
"""
import functools
import http.server
import sys
import time


class Handler(http.server.SimpleHTTPRequestHandler):
    delay = 0.0

    def do_GET(self):
        if self.path.startswith("/slow/"):
            time.sleep(self.delay)
        super().do_GET()

    def log_message(self, fmt, *args):  # quiet
        pass


def main():
    addr, port, root, delay = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
    Handler.delay = delay
    handler = functools.partial(Handler, directory=root)
    http.server.ThreadingHTTPServer((addr, port), handler).serve_forever()


if __name__ == "__main__":
    main()
