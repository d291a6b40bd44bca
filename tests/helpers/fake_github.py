#!/usr/bin/env python3
"""A stand-in for the GitHub REST API, for tests/sync.rs. Loopback only.

It answers the endpoints `spx sync` uses (secrets public key, list, PUT, DELETE; Actions
variables; commit comments) for any owner/repo, at repository and environment scope. Every PUT
is opened with PyNaCl's SealedBox and the plaintext kept, which proves the client sealed it for
this key. Control endpoints for the test:

  GET  /_state                 JSON: secrets (name -> plaintext), variables, log of requests,
                               comments
  POST /_secret {"scope": "owner/repo", "name": "X", "value": "v"}   a secret set by hand
  POST /_fail  {"method": "PUT", "path_contains": "/secrets/", "status": 502, "times": 1,
                "headers": {...}}  fail matching requests that many times

Tokens: "test-token" may do everything; "readonly-token" gets 403 (with
X-Accepted-GitHub-Permissions) on writes; anything else gets 401.

Prints "PORT <n>" on stdout once listening on 127.0.0.1:0.
"""

import base64
import json
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse, unquote

from nacl.public import PrivateKey, SealedBox

KEY = PrivateKey.generate()
KEY_ID = "568250167242549743"
LOCK = threading.Lock()
STATE = {
    # scope -> {name: plaintext}
    "secrets": {},
    # scope -> {name: value}
    "variables": {},
    "log": [],
    "comments": [],
    "failures": [],
}

SCOPE = r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/(?P<scope>actions|environments/(?P<env>[^/]+))"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def reply(self, status, body=None, headers=None):
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, str(v))
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        return json.loads(raw) if raw else {}

    def handle_any(self, method):
        url = urlparse(self.path)
        path = url.path
        if path == "/_state" and method == "GET":
            with LOCK:
                return self.reply(200, {k: v for k, v in STATE.items() if k != "failures"})
        if path == "/_secret" and method == "POST":
            b = self.body()
            with LOCK:
                STATE["secrets"].setdefault(b["scope"], {})[b["name"]] = b["value"]
            return self.reply(204)
        if path == "/_fail" and method == "POST":
            with LOCK:
                STATE["failures"].append(self.body())
            return self.reply(204)

        body = self.body() if method in ("PUT", "POST", "PATCH") else {}
        with LOCK:
            STATE["log"].append({"method": method, "path": path})
            for f in STATE["failures"]:
                if f.get("times", 0) > 0 and f.get("method", method) == method and f.get(
                    "path_contains", ""
                ) in path:
                    f["times"] -= 1
                    return self.reply(f["status"], {"message": "injected failure"}, f.get("headers"))

        auth = self.headers.get("Authorization", "")
        if self.headers.get("X-GitHub-Api-Version") != "2022-11-28":
            return self.reply(400, {"message": "missing X-GitHub-Api-Version"})
        if auth not in ("Bearer test-token", "Bearer readonly-token"):
            return self.reply(401, {"message": "Bad credentials"})
        readonly = auth == "Bearer readonly-token"

        m = re.fullmatch(r"/repos/([^/]+)/([^/]+)/commits/([0-9a-f]+)/comments", path)
        if m and method == "POST":
            if readonly:
                return self.reply(403, {"message": "Resource not accessible by personal access token"},
                                  {"X-Accepted-GitHub-Permissions": "contents=write"})
            with LOCK:
                STATE["comments"].append({"repo": f"{m[1]}/{m[2]}", "sha": m[3], "body": body.get("body")})
            return self.reply(201, {"id": 1})

        m = re.fullmatch(SCOPE + r"/(?P<rest>.*)", path)
        if not m:
            return self.reply(404, {"message": "Not Found"})
        scope = f"{m['owner']}/{m['repo']}" + (f"@{unquote(m['env'])}" if m["env"] else "")
        rest = m["rest"]
        with LOCK:
            secrets = STATE["secrets"].setdefault(scope, {})
            variables = STATE["variables"].setdefault(scope, {})

        if rest == "secrets/public-key" and method == "GET":
            return self.reply(200, {"key_id": KEY_ID, "key": base64.b64encode(bytes(KEY.public_key)).decode()})
        if rest == "secrets" and method == "GET":
            names = sorted(secrets)
            return self.reply(200, {"total_count": len(names),
                                    "secrets": [{"name": n, "created_at": "2026-01-01T00:00:00Z",
                                                 "updated_at": "2026-01-01T00:00:00Z"} for n in names]})
        sm = re.fullmatch(r"secrets/([^/]+)", rest)
        if sm:
            name = unquote(sm[1]).upper()
            if method == "PUT":
                if readonly:
                    return self.reply(403, {"message": "Resource not accessible by personal access token"},
                                      {"X-Accepted-GitHub-Permissions": "secrets=write"})
                if body.get("key_id") != KEY_ID:
                    return self.reply(422, {"message": "Bad key_id"})
                plain = SealedBox(KEY).decrypt(base64.b64decode(body["encrypted_value"]))
                with LOCK:
                    existed = name in secrets
                    secrets[name] = plain.decode()
                return self.reply(204 if existed else 201)
            if method == "DELETE":
                if readonly:
                    return self.reply(403, {"message": "Resource not accessible"},
                                      {"X-Accepted-GitHub-Permissions": "secrets=write"})
                with LOCK:
                    if name not in secrets:
                        return self.reply(404, {"message": "Not Found"})
                    del secrets[name]
                return self.reply(204)
        if rest == "variables" and method == "POST":
            if readonly:
                return self.reply(403, {"message": "Resource not accessible"},
                                  {"X-Accepted-GitHub-Permissions": "variables=write"})
            with LOCK:
                if body["name"] in variables:
                    return self.reply(409, {"message": "Already exists"})
                variables[body["name"]] = body["value"]
            return self.reply(201)
        vm = re.fullmatch(r"variables/([^/]+)", rest)
        if vm:
            name = unquote(vm[1])
            if method == "GET":
                with LOCK:
                    if name not in variables:
                        return self.reply(404, {"message": "Not Found"})
                    return self.reply(200, {"name": name, "value": variables[name]})
            if method == "PATCH":
                if readonly:
                    return self.reply(403, {"message": "Resource not accessible"},
                                      {"X-Accepted-GitHub-Permissions": "variables=write"})
                with LOCK:
                    if name not in variables:
                        return self.reply(404, {"message": "Not Found"})
                    variables[name] = body["value"]
                return self.reply(204)
        return self.reply(404, {"message": "Not Found"})

    def do_GET(self):
        self.handle_any("GET")

    def do_PUT(self):
        self.handle_any("PUT")

    def do_POST(self):
        self.handle_any("POST")

    def do_PATCH(self):
        self.handle_any("PATCH")

    def do_DELETE(self):
        self.handle_any("DELETE")


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(f"PORT {server.server_address[1]}", flush=True)
    # Exit when the test closes our stdin (so no server outlives its test).
    threading.Thread(target=lambda: (sys.stdin.read(), server.shutdown()), daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
