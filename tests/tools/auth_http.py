#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""auth_http.py PORT KEY USER PASSWORD TOKEN STREAM_FILE - an HTTP server on
127.0.0.1 that checks the credentials a feed request carries (test use only).

  /v1/decisions/stream  a CrowdSec LAPI: X-Api-Key must be KEY (else 403
                        {"message":"access forbidden"}); answers STREAM_FILE
  /basic                HTTP basic USER:PASSWORD (else 401); a one-line list
  /bearer               Authorization: Bearer TOKEN (else 401); a one-line list
  /moved                302 to /v1/decisions/stream (credentials must not follow)
"""
import base64
import http.server
import sys

LIST = b"192.0.2.1\n"


class Handler(http.server.BaseHTTPRequestHandler):
    cfg = {}

    def answer(self, status, body, ctype="text/plain"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        c = self.cfg
        path = self.path.split("?")[0]
        auth = self.headers.get("Authorization", "")
        if path == "/v1/decisions/stream":
            if self.headers.get("X-Api-Key") != c["key"]:
                self.answer(403, b'{"message":"access forbidden"}', "application/json")
            else:
                with open(c["stream"], "rb") as f:
                    self.answer(200, f.read(), "application/json")
        elif path == "/basic":
            want = "Basic " + base64.b64encode(f"{c['user']}:{c['password']}".encode()).decode()
            self.answer(200 if auth == want else 401, LIST if auth == want else b"no\n")
        elif path == "/bearer":
            ok = auth == "Bearer " + c["token"]
            self.answer(200 if ok else 401, LIST if ok else b"no\n")
        elif path == "/moved":
            self.send_response(302)
            self.send_header("Location", "/v1/decisions/stream?startup=true")
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self.answer(404, b"not found\n")

    def log_message(self, fmt, *args):  # quiet
        pass


def main():
    port, key, user, password, token, stream = sys.argv[1:7]
    Handler.cfg = {"key": key, "user": user, "password": password, "token": token,
                   "stream": stream}
    http.server.HTTPServer(("127.0.0.1", int(port)), Handler).serve_forever()


if __name__ == "__main__":
    main()
