#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""misp_server.py PORT DIR KEY_FILE - a MISP attributes/restSearch fixture on
127.0.0.1 for the e2e tests (test use only; standard library only).

  POST /attributes/restSearch   Authorization must be the key in KEY_FILE (read
                                per request; else 403 with MISP's error object),
                                Accept and Content-Type application/json (else
                                406 / 415), the body a JSON object (else 400).
                                Answers {"response": {"Attribute": [...]}} with
                                the list in DIR/attributes.json, as it is: the
                                fixture does not filter, so the client's own
                                to_ids and type checks are what the test sees.

Each request is logged to DIR/requests.log as a JSON line: path, method,
auth (ok, bad, none), accept, content_type, body (the parsed JSON), status.
"""
import http.server
import json
import os
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    cfg = {}

    def log_req(self, rec):
        with open(os.path.join(self.cfg["dir"], "requests.log"), "a") as f:
            f.write(json.dumps(rec) + "\n")

    def answer(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.log_req({"path": self.path, "method": "GET", "status": 405})
        self.answer(405, {"name": "Method not allowed", "message": "use POST", "url": self.path})

    def do_POST(self):
        with open(self.cfg["key_file"]) as f:
            key = f.read().strip()
        got = self.headers.get("Authorization")
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length) if 0 < length <= 65536 else b""
        rec = {"path": self.path, "method": "POST",
               "auth": "none" if got is None else "ok" if got == key else "bad",
               "accept": self.headers.get("Accept", ""),
               "content_type": self.headers.get("Content-Type", "")}
        try:
            rec["body"] = json.loads(raw)
        except ValueError:
            rec["body"] = None
        status, obj = 200, None
        if self.path != "/attributes/restSearch":
            status, obj = 404, {"name": "Not Found", "message": "Not Found", "url": self.path}
        elif rec["auth"] != "ok":
            status, obj = 403, {"name": "Authentication failed. Please make sure you pass "
                                "the API key of an API enabled user along in the "
                                "Authorization header.", "message": "Authentication failed.",
                                "url": self.path}
        elif rec["accept"] != "application/json":
            status, obj = 406, {"name": "Not Acceptable", "message": "Not Acceptable",
                                "url": self.path}
        elif rec["content_type"] != "application/json":
            status, obj = 415, {"name": "Unsupported Media Type", "message": "Unsupported",
                                "url": self.path}
        elif not isinstance(rec["body"], dict):
            status, obj = 400, {"name": "Bad Request", "message": "no JSON body",
                                "url": self.path}
        else:
            with open(os.path.join(self.cfg["dir"], "attributes.json")) as f:
                obj = {"response": {"Attribute": json.load(f)}}
        rec["status"] = status
        self.log_req(rec)
        self.answer(status, obj)

    def log_message(self, fmt, *args):  # quiet
        pass


def main():
    port, d, key_file = sys.argv[1:4]
    Handler.cfg = {"dir": d, "key_file": key_file}
    http.server.ThreadingHTTPServer(("127.0.0.1", int(port)), Handler).serve_forever()


if __name__ == "__main__":
    main()
