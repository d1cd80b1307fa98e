#!/usr/bin/python3
"""tests/agent/hostile.py - a stand-in service that answers the host agent
with nonsense, to prove the agent (which runs as root) takes every answer
as untrusted input: one line, exit 2, never a crash or a hang.

    hostile.py SOCKET MODE

MODE says what GET /v1/hosts/NAME answers (PUT /v1/hosts/NAME is always
accepted): garbage, huge, notarray, badid, ctrlid, deep, manyids, nul, html500, badnl.
Two modes answer well, to see what the agent asks: whole (12,000
placements: the whole host with a plan each is 6 MB, past the agent's
4 MiB; ?placements=ids their ids only) and old (a service older than
?placements=ids: 400 for it, a small whole host without it), and uuids
(the most placements the agent looks after, 100,000, with ids of 36 bytes:
4.6 MB, past the 4 MiB it reads of other answers).  Each GET's path goes to
standard output.
"""
import http.server, json, os, socketserver, sys

sock, mode = sys.argv[1], sys.argv[2]

BODIES = {
    "garbage": (200, b"{this is not json"),
    "huge": (200, b'{"placements": [' + b'{"id": "x"},' * 600000 + b'{"id": "y"}]}'),
    "notarray": (200, b'{"placements": {"id": "vm-1"}}'),
    "badid": (200, b'{"placements": [{"id": 7}]}'),
    "ctrlid": (200, json.dumps({"placements": [{"id": "vm\n-1"}]}).encode()),
    "deep": (200, b'{"placements": ' + b"[" * 100000 + b"]" * 100000 + b"}"),
    "manyids": (200, json.dumps({"placements": [{"id": "v%d" % i} for i in range(100001)]}).encode()),
    "nul": (200, b'{"placements": [{"id": "vm\\u0000x"}]}'),
    "html500": (500, b"<html>" + b"\x1b[31mred\x07" * 50 + b"</html>"),
    # jansson quotes the bytes near a syntax error: found by fuzz-agent
    "badnl": (200, b'{"placements": "\\u00\n\n\x1b[31m\n\x07\n'),
}


class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def answer(self, status, body):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_PUT(self):
        n = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(n)
        self.answer(200, b'{"name": "h", "generation": 1}')

    def do_GET(self):
        print(self.path, flush=True)
        ids = self.path.endswith("?placements=ids")
        if mode == "whole":
            plan = {"schema": "numaplace.plan/1", "fits": True, "cells": [{"pad": "p" * 400}]}
            ps = [{"id": "vm-%d" % i} if ids else {"id": "vm-%d" % i, "plan": plan}
                  for i in range(12000)]
            self.answer(200, json.dumps({"name": "h1", "placements": ps}).encode())
        elif mode == "uuids":
            ps = [{"id": "%08x-0000-4000-8000-%012x" % (i, i)} for i in range(100000)]
            self.answer(200, json.dumps({"name": "h1", "generation": 1, "placements": ps}).encode())
        elif mode == "old" and ids:
            self.answer(400, b'{"error": {"code": "bad_request", "message": "unknown query '
                             b'parameter \'placements\' (this route takes none)"}}')
        elif mode == "old":
            self.answer(200, b'{"name": "h1", "placements": [{"id": "vm-1", "plan": {}}]}')
        else:
            self.answer(*BODIES[mode])


class S(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def get_request(self):
        req, _ = super().get_request()
        return req, ("local", 0)


if os.path.exists(sock):
    os.unlink(sock)
srv = S(sock, H)
print("ready", flush=True)
srv.serve_forever()
