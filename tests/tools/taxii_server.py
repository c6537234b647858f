#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""taxii_server.py PORT DIR USER PASSWORD_FILE TOKEN_FILE - a small TAXII 2.1
server on 127.0.0.1 for the e2e tests (test use only; standard library only).

  GET /taxii2/                          discovery
  GET /api1/                            the API root
  GET /api1/collections/                the collections (one per DIR/*.json)
  GET /api1/collections/ID/objects/     the collection's objects, as an envelope

A collection is DIR/ID.json, a JSON list of {"date_added": RFC 3339, "object":
{STIX object}}, read at every request (the test edits it between polls).
The objects endpoint follows TAXII 2.1 section 5.4: filters added_after (date_added
strictly later) and match[type]; pages of at most DIR/page_size objects (default 2)
sorted by date_added, "more" and an opaque "next"; X-TAXII-Date-Added-First and
-Last headers. Two collections are hostile servers: "loop" answers more: true
with the same next forever, "endless" with a new next every time.

Every request needs Accept: application/taxii+json;version=2.1 (else 406) and
HTTP basic USER with the password in PASSWORD_FILE, or Authorization: Bearer
with the token in TOKEN_FILE (both read per request; else 401 with a TAXII error
message). Each request is logged to DIR/requests.log as a JSON line: path,
added_after, next, match_type, auth (basic, bearer, none, bad), status.
"""
import base64
import http.server
import json
import os
import secrets
import sys
import urllib.parse

MEDIA = "application/taxii+json;version=2.1"


class Handler(http.server.BaseHTTPRequestHandler):
    cfg = {}
    tokens = {}  # next token -> (collection, offset, added_after, match_type)

    def log_req(self, rec):
        with open(os.path.join(self.cfg["dir"], "requests.log"), "a") as f:
            f.write(json.dumps(rec) + "\n")

    def answer(self, status, obj, headers=None):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", MEDIA)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def error(self, status, title):
        self.answer(status, {"title": title, "http_status": str(status)})

    def auth(self):
        c = self.cfg
        got = self.headers.get("Authorization", "")
        with open(c["password_file"]) as f:
            password = f.read().strip()
        with open(c["token_file"]) as f:
            token = f.read().strip()
        basic = "Basic " + base64.b64encode(f"{c['user']}:{password}".encode()).decode()
        if got == basic:
            return "basic"
        if got == "Bearer " + token:
            return "bearer"
        return "none" if not got else "bad"

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(url.query)
        rec = {"path": url.path,
               "added_after": q.get("added_after", [None])[0],
               "next": q.get("next", [None])[0],
               "match_type": q.get("match[type]", [None])[0],
               "accept": self.headers.get("Accept", "")}
        rec["auth"] = self.auth()
        if MEDIA not in rec["accept"].replace(" ", ""):
            rec["status"] = 406
            self.log_req(rec)
            return self.error(406, "Not Acceptable")
        if rec["auth"] not in ("basic", "bearer"):
            rec["status"] = 401
            self.log_req(rec)
            return self.error(401, "Unauthorized")
        parts = [p for p in url.path.split("/") if p]
        rec["status"] = 200
        if parts == ["taxii2"]:
            self.log_req(rec)
            return self.answer(200, {"title": "bwenforce test", "api_roots": ["/api1/"]})
        if parts == ["api1"]:
            self.log_req(rec)
            return self.answer(200, {"title": "api1", "versions": [MEDIA],
                                     "max_content_length": 10485760})
        if parts == ["api1", "collections"]:
            ids = sorted(n[:-5] for n in os.listdir(self.cfg["dir"]) if n.endswith(".json"))
            self.log_req(rec)
            return self.answer(200, {"collections": [
                {"id": i, "title": i, "can_read": True, "can_write": False,
                 "media_types": [MEDIA]} for i in ids]})
        if len(parts) == 5 and parts[:2] == ["api1", "collections"] and parts[3:] == ["objects"] \
                or len(parts) == 4 and parts[:2] == ["api1", "collections"] and parts[3] == "objects":
            return self.objects(parts[2], rec)
        rec["status"] = 404
        self.log_req(rec)
        return self.error(404, "Not Found")

    def objects(self, cid, rec):
        if cid == "loop":
            self.log_req(rec)
            return self.answer(200, {"more": True, "next": "again", "objects": []})
        if cid == "endless":
            self.log_req(rec)
            return self.answer(200, {"more": True, "next": secrets.token_hex(8), "objects": []})
        path = os.path.join(self.cfg["dir"], cid + ".json")
        if not os.path.exists(path):
            rec["status"] = 404
            self.log_req(rec)
            return self.error(404, "Collection Not Found")
        with open(path) as f:
            entries = json.load(f)
        try:
            with open(os.path.join(self.cfg["dir"], "page_size")) as f:
                size = int(f.read())
        except OSError:
            size = 2
        offset, added_after, mtype = 0, rec["added_after"], rec["match_type"]
        if rec["next"] is not None:
            if rec["next"] not in self.tokens:
                rec["status"] = 400
                self.log_req(rec)
                return self.error(400, "Unknown next")
            cid0, offset, added_after, mtype = self.tokens.pop(rec["next"])
            if cid0 != cid:
                rec["status"] = 400
                self.log_req(rec)
                return self.error(400, "next of another collection")
        # RFC 3339 UTC with the same precision compares as text
        sel = sorted((e for e in entries
                      if (added_after is None or e["date_added"] > added_after)
                      and (mtype is None or e["object"].get("type") == mtype)),
                     key=lambda e: e["date_added"])
        page = sel[offset:offset + size]
        more = offset + size < len(sel)
        env = {"more": more, "objects": [e["object"] for e in page]}
        if more:
            tok = secrets.token_urlsafe(12) + "/+="
            self.tokens[tok] = (cid, offset + size, added_after, mtype)
            env["next"] = tok
        headers = {}
        if page:
            headers["X-TAXII-Date-Added-First"] = page[0]["date_added"]
            headers["X-TAXII-Date-Added-Last"] = page[-1]["date_added"]
        rec["objects"] = len(page)
        self.log_req(rec)
        return self.answer(200, env, headers)

    def log_message(self, fmt, *args):  # quiet
        pass


def main():
    port, d, user, password_file, token_file = sys.argv[1:6]
    Handler.cfg = {"dir": d, "user": user, "password_file": password_file,
                   "token_file": token_file}
    http.server.ThreadingHTTPServer(("127.0.0.1", int(port)), Handler).serve_forever()


if __name__ == "__main__":
    main()
