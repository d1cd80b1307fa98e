#!/usr/bin/env python3
"""tests/service/client.py - HTTP clients of `numaplace serve` for the tests
and the benchmark (bench/service): real sockets, the standard library only.

  client.py load ADDRS --clients 16 --ops N --logdir D [--seed S] [--release 33]
                 [--token-file F] [--stats FILE] [--host-prefix P]
      N placements per client (ids c<k>-<i>), a third of them released
      again, each client on its own connection, spread over ADDRS (a comma
      list of unix:PATH or HOST:PORT: the replicas).  A request cut by a
      dead replica goes to the next one, the same request again (a
      placement is idempotent per id, a release of a gone id is a 404), so
      every outcome is known; a 503 (Retry-After) is asked again too.  Logs D/client-K.log: "+ID" placed, "?ID"
      release asked, "-ID" released (tests/fleet/lib.sh reads them).
      --stats FILE: JSON of counts and latencies (p50, p99) per request kind.
  client.py slow ADDR [--token-file F] [--seconds S]
      sends a request one byte a second; exit 0 when the server closes the
      connection within S seconds (default 20) without a success answer.
  client.py trickle ADDR BODYFILE [--token-file F] [--seconds S]
      PUTs a host body slowly over S seconds (after the server's
      "100 Continue": --ready F is created then) and prints the status.
  client.py hostile ADDR CASE... [--token-file F] [--wait S]
      sends each odd or hostile request (hostile_cases() below, by name)
      on its own connection and prints "STATUS KIND END" (after "CASE "
      when more than one is asked): STATUS 000 when nothing
      came back, KIND json:CODE (a JSON error), json, html, text or empty,
      END closed (the server closed within --wait seconds, default 6) or
      open.
"""
import argparse
import http.client
import json
import os
import random
import socket
import sys
import threading
import time

FLAVORS = [
    {"vcpus": 2, "memory_mb": 2048},
    {"vcpus": 4, "memory_mb": 8192, "extra_specs": {"hw:cpu_policy": "dedicated"}},
    {"vcpus": 8, "memory_mb": 16384,
     "extra_specs": {"hw:numa_nodes": "2", "hw:cpu_policy": "dedicated"}},
    {"vcpus": 4, "memory_mb": 4096, "extra_specs": {"hw:numa_nodes": "2"}},
    {"vcpus": 2, "memory_mb": 1024, "extra_specs": {"hw:mem_page_size": "2048"}},
    {"vcpus": 16, "memory_mb": 32768, "extra_specs": {"hw:cpu_policy": "dedicated"}},
    {"vcpus": 4, "memory_mb": 8192,
     "extra_specs": {"hw:cpu_policy": "dedicated", "hw:cpu_thread_policy": "isolate"}},
]


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


def connect(addr, timeout=30):
    if addr.startswith("unix:"):
        return UnixConnection(addr[5:], timeout)
    host, port = addr.rsplit(":", 1)
    return http.client.HTTPConnection(host.strip("[]"), int(port), timeout=timeout)


def token(path):
    if not path:
        return {}
    with open(path) as f:
        return {"Authorization": "Bearer " + f.read().strip()}


class Client:
    """One client: a connection to one replica at a time, moving on when it dies."""

    def __init__(self, addrs, headers, k):
        self.addrs, self.headers, self.k = addrs, headers, k
        self.at = k % len(addrs)
        self.conn = None
        self.failovers = 0
        self.unavailable = 0

    def request(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        hdrs = dict(self.headers)
        if data is not None:
            hdrs["Content-Type"] = "application/json"
        for attempt in range(400):
            try:
                if self.conn is None:
                    self.conn = connect(self.addrs[self.at])
                t0 = time.perf_counter()
                self.conn.request(method, path, body=data, headers=hdrs)
                r = self.conn.getresponse()
                raw = r.read()
                dt = time.perf_counter() - t0
                if r.status == 503 and attempt < 399:
                    # Retry-After: the store was away or other replicas kept
                    # winning the claim; the same request again is safe.
                    self.unavailable += 1
                    time.sleep(0.05)
                    continue
                return r.status, (json.loads(raw) if raw else None), dt, attempt > 0
            except (OSError, http.client.HTTPException):
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
                self.failovers += 1
                self.at = (self.at + 1) % len(self.addrs)
                time.sleep(0.05)
        raise RuntimeError("no replica answers")


def pct(xs, p):
    if not xs:
        return None
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100.0 * len(xs)))]


def load_client(args, addrs, headers, k, out, lock):
    rnd = random.Random(args.seed * 1000 + k)
    c = Client(addrs, headers, k)
    live, lat = [], {"post": [], "delete": []}
    counts = {"placed": 0, "existing": 0, "nofit": 0, "released": 0, "errors": 0}
    errors = []
    with open(os.path.join(args.logdir, "client-%d.log" % k), "w", buffering=1) as log:
        for i in range(args.ops):
            pid = "%sc%d-%d" % (args.id_prefix, k, i)
            body = {"id": pid, "flavor": rnd.choice(FLAVORS)}
            st, d, dt, retried = c.request("POST", "/v1/placements", body)
            lat["post"].append(dt)
            if st in (200, 201):
                log.write("+%s\n" % pid)
                live.append(pid)
                counts["placed" if st == 201 else "existing"] += 1
                if st == 200 and not retried:
                    errors.append("%s: 200 for a new id" % pid)
            elif st == 409 and d and d["error"]["code"] == "no_valid_host":
                counts["nofit"] += 1
            else:
                errors.append("%s: POST %d %s" % (pid, st, json.dumps(d)[:200]))
            if live and rnd.randrange(100) < args.release:
                j = rnd.randrange(len(live))
                gone = live.pop(j)
                log.write("?%s\n" % gone)
                st, d, dt, retried = c.request("DELETE", "/v1/placements/" + gone)
                lat["delete"].append(dt)
                if st == 204 or (st == 404 and retried):
                    log.write("-%s\n" % gone)
                    counts["released"] += 1
                else:
                    errors.append("%s: DELETE %d %s" % (gone, st, json.dumps(d)[:200]))
    counts["errors"] = len(errors)
    with lock:
        out["lat"]["post"] += lat["post"]
        out["lat"]["delete"] += lat["delete"]
        for key, v in counts.items():
            out["counts"][key] = out["counts"].get(key, 0) + v
        out["errors"] += errors
        out["failovers"] += c.failovers
        out["unavailable"] += c.unavailable


def cmd_load(args):
    addrs = args.addrs.split(",")
    headers = token(args.token_file)
    out = {"lat": {"post": [], "delete": []}, "counts": {}, "errors": [], "failovers": 0,
           "unavailable": 0}
    lock = threading.Lock()
    threads = [threading.Thread(target=load_client, args=(args, addrs, headers, k, out, lock))
               for k in range(1, args.clients + 1)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    posts = len(out["lat"]["post"])
    stats = {
        "clients": args.clients, "wall_s": round(wall, 3),
        "requests": posts + len(out["lat"]["delete"]),
        "placements_per_s": round(posts / wall, 1) if wall else None,
        "requests_per_s": round((posts + len(out["lat"]["delete"])) / wall, 1) if wall else None,
        "post_p50_ms": round(pct(out["lat"]["post"], 50) * 1e3, 3) if posts else None,
        "post_p99_ms": round(pct(out["lat"]["post"], 99) * 1e3, 3) if posts else None,
        "delete_p50_ms": round(pct(out["lat"]["delete"], 50) * 1e3, 3) if out["lat"]["delete"] else None,
        "delete_p99_ms": round(pct(out["lat"]["delete"], 99) * 1e3, 3) if out["lat"]["delete"] else None,
        "counts": out["counts"], "failovers": out["failovers"],
        "unavailable_retried": out["unavailable"], "errors": out["errors"][:20],
    }
    if args.stats:
        with open(args.stats, "w") as f:
            json.dump(stats, f, indent=1)
    print("# %d POST + %d DELETE in %.2f s (%.0f placements/s), POST p50 %s ms p99 %s ms; "
          "%s; %d failovers, %d 503s retried" % (
              posts, len(out["lat"]["delete"]), wall, stats["placements_per_s"] or 0,
              stats["post_p50_ms"], stats["post_p99_ms"], json.dumps(out["counts"]),
              out["failovers"], out["unavailable"]))
    for e in out["errors"][:10]:
        print("# error: " + e)
    return 1 if out["errors"] else 0


def raw_socket(addr):
    if addr.startswith("unix:"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(addr[5:])
    else:
        host, port = addr.rsplit(":", 1)
        s = socket.create_connection((host.strip("[]"), int(port)))
    return s


def read_all(s, wait):
    """What S sends until it closes, or until WAIT seconds without a byte:
    the bytes and "closed" or "open"."""
    s.settimeout(wait)
    got, end = b"", "closed"
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
    except socket.timeout:
        end = "open"
    except OSError:
        pass  # a reset after the answer: closed
    return got, end


def auth_line(path):
    h = token(path)
    return ("Authorization: %s\r\n" % h["Authorization"]) if h else ""


def cmd_slow(args):
    s = raw_socket(args.addr)
    req = ("GET /v1/health HTTP/1.1\r\nHost: x\r\n%sX-Slow: %s\r\n\r\n"
           % (auth_line(args.token_file), "a" * 200)).encode()
    t0 = time.time()
    s.settimeout(1.5)
    got = b""
    for b in req:
        try:
            s.sendall(bytes([b]))
        except OSError:
            break
        try:
            chunk = s.recv(4096)
            if not chunk:
                break
            got += chunk
        except socket.timeout:
            pass
        except OSError:
            break
        if time.time() - t0 > args.seconds:
            print("still open after %d s" % args.seconds)
            return 1
    took = time.time() - t0
    print("closed after %.1f s; answer: %r" % (took, got[:80]))
    return 0 if b" 200 " not in got[:20] and took < args.seconds else 1


def cmd_trickle(args):
    body = open(args.body, "rb").read()
    s = raw_socket(args.addr)
    head = ("PUT /v1/hosts/%s HTTP/1.1\r\nHost: x\r\n%sContent-Type: application/json\r\n"
            "Content-Length: %d\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n"
            % (args.name, auth_line(args.token_file), len(body))).encode()
    s.sendall(head)
    # The server's "100 Continue" is the event that says it has read the
    # headers and is handling this request (not just a connection waiting
    # in the listen queue): only then is the request "in flight".
    s.settimeout(60)
    interim = b""
    while b"\r\n\r\n" not in interim:
        chunk = s.recv(1)
        if not chunk:
            print("closed before 100 Continue: %r" % interim[:80])
            return 1
        interim += chunk
    if not interim.startswith(b"HTTP/1.1 100"):
        print("expected 100 Continue, got %r" % interim[:80])
        return 1
    if args.ready:
        open(args.ready, "w").close()
    pieces = 10
    step = (len(body) + pieces - 1) // pieces
    for i in range(0, len(body), step):
        s.sendall(body[i:i + step])
        time.sleep(args.seconds / pieces)
    s.settimeout(30)
    got = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        got += chunk
    print(got.split(b"\r\n", 1)[0].decode(errors="replace"))
    return 0


def hostile_cases(auth):
    """Name -> the request's bytes.  Each asks the server to close after."""
    h = "Host: x\r\n%sConnection: close\r\n" % auth
    post = "POST /v1/placements HTTP/1.1\r\n" + h
    js = "Content-Type: application/json\r\n"
    chunked = js + "Transfer-Encoding: chunked\r\n\r\n"
    big = "a" * 200000
    body200k = "Content-Length: 200000\r\n\r\n{%s}" % (" " * 199998)
    return {k: v.encode() for k, v in {
        # Answered by the server, with a JSON error.
        "query-long": "DELETE /v1/hosts/nope?force=%s HTTP/1.1\r\n%s\r\n" % ("a" * 20000, h),
        "url-long": "GET /v1/hosts/%s HTTP/1.1\r\n%s\r\n" % ("a" * 20000, h),
        "url-headers": "GET /v1/hosts/%s HTTP/1.1\r\n%sX-Pad: %s\r\n\r\n"
                       % ("a" * 10000, h, "b" * 10000),
        "field-space": "GET /v1/health HTTP/1.1\r\n%sContent-Length : 2\r\n\r\n{}" % h,
        "te-gzip": post + js + "Transfer-Encoding: gzip\r\n\r\n{}",
        "te-gzip-chunked": post + js + "Transfer-Encoding: gzip, chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
        "chunked-text": post + "Content-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
                        "2\r\n{}\r\n0\r\n\r\n",
        "chunked-over": post + chunked + ("8000\r\n" + " " * 0x8000 + "\r\n") * 4 + "0\r\n\r\n",
        "form": post + "Content-Type: application/x-www-form-urlencoded\r\n"
                "Content-Length: 2\r\n\r\n{}",
        "json-jsonx": post + "Content-Type: application/jsonx\r\nContent-Length: 2\r\n\r\n{}",
        "json-charset": post + "Content-Type: application/json ; charset=utf-8\r\n"
                        "Content-Length: 2\r\n\r\n{}",
        "no-type": post + "Content-Length: 2\r\n\r\n{}",
        "expect-large": post + js + "Expect: 100-continue\r\nContent-Length: 100000\r\n\r\n",
        "http10": "GET /v1/health HTTP/1.0\r\n%s\r\n" % auth,
        "no-host": "GET /v1/health HTTP/1.1\r\n%sConnection: close\r\n\r\n" % auth,
        "host-twice": "GET /v1/health HTTP/1.1\r\nHost: y\r\n%s\r\n" % h,
        # libmicrohttpd serves HTTP/1.2-1.9 as 1.1: the same Host rule.
        "no-host-19": "GET /v1/health HTTP/1.9\r\n%sConnection: close\r\n\r\n" % auth,
        "no-host-12": "GET /v1/health HTTP/1.2\r\n%sConnection: close\r\n\r\n" % auth,
        "host-15": "GET /v1/health HTTP/1.5\r\n%s\r\n" % h,
        "method-unknown": "FOO /v1/health HTTP/1.1\r\n%s\r\n" % h,
        # Refused on their headers while the body is still coming (sent
        # staged: hostile_one): read and thrown away first, or the client's
        # send fails on a closed connection before it reads the answer.
        "body-401": "POST /v1/placements HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer wrong\r\n"
                    "Connection: close\r\n" + js + body200k,
        "body-404": "POST /v1/nothere HTTP/1.1\r\n" + h + js + body200k,
        "body-405": "PUT /v1/health HTTP/1.1\r\n" + h + js + body200k,
        "body-query": "POST /v1/placements?x=1 HTTP/1.1\r\n" + h + js + body200k,
        # Refused by libmicrohttpd before any code of the server runs.
        "headers-huge": "GET /v1/health HTTP/1.1\r\n%sX-Big: %s\r\n\r\n" % (h, big),
        "fields-many": "GET /v1/health HTTP/1.1\r\n%s%s\r\n"
                       % (h, "".join("X-%d: y\r\n" % i for i in range(5000))),
        "url-huge": "GET /v1/hosts/%s HTTP/1.1\r\n%s\r\n" % (big, h),
        "trailer-huge": post + chunked + "2\r\n{}\r\n0\r\nX-T: %s\r\n\r\n" % big,
        "no-version": "GET /v1/health\r\n%s\r\n" % h,
        "field-no-colon": "GET /v1/health HTTP/1.1\r\n%sNoColon\r\n\r\n" % h,
        "version-bad": "GET /v1/health HTTP/9.9\r\n%s\r\n" % h,
        "chunk-bad": post + chunked + "ZZZ\r\n{}\r\n0\r\n\r\n",
        "chunk-huge": post + chunked + "FFFFFFFFFFFFFFFFFF\r\n{}\r\n0\r\n\r\n",
        "length-huge": post + js + "Content-Length: 99999999999999999999999\r\n\r\n",
        "length-bad": post + js + "Content-Length: 12abc\r\n\r\n",
        "garbage": "GARBAGE\r\n\r\n",
        "binary": "\x00\x01\x02\x7f\r\n\r\n",
    }.items()}


def answer_kind(head, body):
    """What an answer's body is: json:CODE, json, html, text or empty."""
    if not body:
        return "empty"
    if b"content-type: application/json" in head.lower():
        try:
            d = json.loads(body)
        except ValueError:
            return "text"
        e = d.get("error") if isinstance(d, dict) else None
        if isinstance(e, dict) and isinstance(e.get("message"), str) and e["message"]:
            return "json:%s" % e.get("code")
        return "json"
    return "html" if body.lstrip().lower().startswith(b"<html") else "text"


def hostile_one(args, req, staged=False):
    """Send REQ on its own connection: "STATUS KIND END".  STAGED: its
    headers and 64 KiB of body first, the rest 0.3 s later, as a client
    that sends its whole body before it reads (curl -d) meets a server
    that answered on the headers: a failed send is status 000."""
    s = raw_socket(args.addr)
    try:
        if staged:
            cut = req.index(b"\r\n\r\n") + 4 + 65536
            s.sendall(req[:cut])
            time.sleep(0.3)
            req = req[cut:]
        s.sendall(req)
    except OSError as e:
        if staged:
            s.close()
            return "000 send-failed (%s)" % e.strerror
        pass  # answered and closed before all of it was read: read the answer
    got, end = read_all(s, args.wait)
    s.close()
    head, _, body = got.partition(b"\r\n\r\n")
    # Only the first answer counts (libmicrohttpd 0.9.75 writes some of
    # its own twice); its body is Content-Length bytes.
    m = [l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
    if m:
        body = body[:int(m[0].split(b":", 1)[1])]
    status = head.split(b" ")[1].decode() if head.startswith(b"HTTP/") else "000"
    return "%s %s %s" % (status, answer_kind(head, body), end)


def cmd_hostile(args):
    cases = hostile_cases(auth_line(args.token_file))
    for name in args.case:
        line = hostile_one(args, cases[name], staged=name.startswith("body-"))
        print("%s %s" % (name, line) if len(args.case) > 1 else line, flush=True)
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("load")
    p.add_argument("addrs")
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--ops", type=int, default=100)
    p.add_argument("--logdir", default=".")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--release", type=int, default=33)
    p.add_argument("--token-file")
    p.add_argument("--stats")
    p.add_argument("--id-prefix", default="")
    p = sub.add_parser("slow")
    p.add_argument("addr")
    p.add_argument("--token-file")
    p.add_argument("--seconds", type=int, default=20)
    p = sub.add_parser("trickle")
    p.add_argument("addr")
    p.add_argument("body")
    p.add_argument("--name", default="trickled")
    p.add_argument("--token-file")
    p.add_argument("--seconds", type=float, default=2)
    p.add_argument("--ready", help="a file made once the headers are sent")
    p = sub.add_parser("hostile")
    p.add_argument("addr")
    p.add_argument("case", nargs="+")
    p.add_argument("--token-file")
    p.add_argument("--wait", type=float, default=6)
    args = ap.parse_args()
    return {"load": cmd_load, "slow": cmd_slow, "trickle": cmd_trickle,
            "hostile": cmd_hostile}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
