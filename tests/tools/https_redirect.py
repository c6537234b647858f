#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""https_redirect.py - a TLS server for the feed tests (e2e_feedsec.sh).

    https_redirect.py ADDR PORT CERT KEY DIR HTTP_URL

Serves the files of DIR over https on ADDR:PORT with CERT/KEY, except
/redirect-http, which answers "302 Found" with Location: HTTP_URL (a plain
http URL: the downgrade an on-path attacker would try), and
/redirect-https/NAME, which redirects to /NAME on this same server.
"""
import http.server
import ssl
import sys


def main():
    addr, port, cert, key, root, http_url = sys.argv[1:7]

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=root, **kw)

        def log_message(self, *a):
            pass

        def do_GET(self):
            if self.path == "/redirect-http":
                self.send_response(302)
                self.send_header("Location", http_url)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if self.path.startswith("/redirect-https/"):
                self.send_response(302)
                self.send_header("Location", "/" + self.path[len("/redirect-https/"):])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            super().do_GET()

    srv = http.server.HTTPServer((addr, int(port)), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
