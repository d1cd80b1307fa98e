#!/usr/bin/env python3
"""tests/service/openapi.py SPEC ADDR HOSTFILE [--token-file F] - drive a live
`numaplace serve` through every route of docs/api/openapi.yaml, the good
answers and the errors, and check each answer against the file: its status
is listed for that route and method, its body has the listed type, and
every object carries its schema's required keys with the right types
(recursively, $ref followed; enum and nullable respected; oneOf: exactly
one alternative; additionalProperties false: no other key).  Every
method of every path in the file must be exercised.  Prints TAP-like lines
and exits 1 on any mismatch."""
import json
import re
import sys

import yaml

sys.path.insert(0, __import__("os").path.dirname(__file__))
from client import connect, raw_socket, read_all, token  # noqa: E402

TYPES = {"object": dict, "array": list, "string": str, "boolean": bool,
         "integer": int, "number": (int, float)}


def resolve(spec, node):
    while isinstance(node, dict) and "$ref" in node:
        path = node["$ref"].lstrip("#/").split("/")
        node = spec
        for p in path:
            node = node[p]
    return node


def one_of(spec, alts, value, where, errs):
    """VALUE matches exactly one schema of ALTS (oneOf); else why not."""
    whys = []
    for alt in alts:
        e = []
        check(spec, alt, value, where, e)
        whys.append(e)
    fits = sum(1 for e in whys if not e)
    if fits == 0:
        errs.append("%s: matches no oneOf alternative (%s)"
                    % (where, " | ".join("; ".join(e)[:200] for e in whys)))
    elif fits > 1:
        errs.append("%s: matches %d oneOf alternatives, not one" % (where, fits))


def check(spec, schema, value, where, errs):
    schema = resolve(spec, schema)
    if "oneOf" in schema:
        one_of(spec, schema["oneOf"], value, where, errs)
        return
    if value is None:
        if not schema.get("nullable"):
            errs.append("%s: null" % where)
        return
    t = schema.get("type")
    if t:
        ok = isinstance(value, TYPES[t]) and not (t in ("integer", "number") and isinstance(value, bool))
        if not ok:
            errs.append("%s: want %s, got %r" % (where, t, value)[:200])
            return
    if "enum" in schema and value not in schema["enum"]:
        errs.append("%s: %r not in %s" % (where, value, schema["enum"]))
    if isinstance(value, dict):
        for k in schema.get("required", []):
            if k not in value:
                errs.append("%s: lacks required key '%s'" % (where, k))
        for k, sub in schema.get("properties", {}).items():
            if k in value:
                check(spec, sub, value[k], "%s.%s" % (where, k), errs)
        extra = schema.get("additionalProperties")
        if extra is False:
            for k in value:
                if k not in schema.get("properties", {}):
                    errs.append("%s: key '%s' not in the schema" % (where, k))
        if isinstance(extra, dict):
            for k, v in value.items():
                check(spec, extra, v, "%s.%s" % (where, k), errs)
    if isinstance(value, list) and "items" in schema:
        for i, v in enumerate(value):
            check(spec, schema["items"], v, "%s[%d]" % (where, i), errs)


def template_of(spec, path):
    for tpl in spec["paths"]:
        rx = "^" + re.sub(r"\{[^}]+\}", "[^/]+", tpl) + "$"
        if re.match(rx, path.split("?")[0]):
            return tpl
    return None


class Checker:
    def __init__(self, spec, addr, headers):
        self.spec, self.addr, self.headers = spec, addr, headers
        self.failed = self.passed = 0
        self.seen = set()

    def req(self, method, path, body=None, want=None, raw=None, ctype="application/json"):
        conn = connect(self.addr)
        hdrs = dict(self.headers)
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        if data is not None:
            hdrs["Content-Type"] = ctype
        try:
            conn.request(method, path, body=data, headers=hdrs)
        except (BrokenPipeError, ConnectionResetError):
            pass  # answered (413) before the whole body was sent: read the answer
        r = conn.getresponse()
        text = r.read()
        conn.close()
        tpl = template_of(self.spec, path)
        what = "%s %s -> %d" % (method, path, r.status)
        errs = []
        op = self.spec["paths"].get(tpl, {}).get(method.lower()) if tpl else None
        if op is None:
            errs.append("not in the file")
        else:
            self.seen.add((tpl, method.lower()))
            resp = op["responses"].get(str(r.status))
            if resp is None:
                errs.append("status %d not listed (listed: %s)" % (r.status, sorted(op["responses"])))
            else:
                resp = resolve(self.spec, resp)
                content = resp.get("content")
                if not content:
                    if text:
                        errs.append("a body where the file has none")
                elif "application/json" in content:
                    if not r.getheader("Content-Type", "").startswith("application/json"):
                        errs.append("Content-Type %s" % r.getheader("Content-Type"))
                    try:
                        check(self.spec, content["application/json"]["schema"],
                              json.loads(text), "body", errs)
                    except ValueError as e:
                        errs.append("not JSON: %s" % e)
                elif "text/plain" in content:
                    if not r.getheader("Content-Type", "").startswith("text/plain"):
                        errs.append("Content-Type %s" % r.getheader("Content-Type"))
        if want is not None and r.status != want:
            errs.append("want %d" % want)
        if errs:
            self.failed += 1
            print("not ok - %s: %s" % (what, "; ".join(errs)[:600]))
        else:
            self.passed += 1
            print("ok - %s matches the file" % what)
        return r.status, (json.loads(text) if text and text[:1] in b"{[" else None)


def raw_request(addr, headers, line, framing, body):
    """LINE's request with the headers FRAMING says as they are (http.client
    would not send two Content-Length headers): its status and JSON body."""
    s = raw_socket(addr)
    auth = "".join("%s: %s\r\n" % kv for kv in headers.items())
    s.sendall(("%s HTTP/1.1\r\nHost: x\r\n%sContent-Type: application/json\r\n%s"
               "Connection: close\r\n\r\n" % (line, auth, framing)).encode() + body)
    got, _ = read_all(s, 30)
    s.close()
    head, _, text = got.partition(b"\r\n\r\n")
    m = re.match(rb"HTTP/1\.[01] (\d+)", head)
    try:
        return (int(m.group(1)) if m else None), json.loads(text)
    except ValueError:
        return (int(m.group(1)) if m else None), None


def host_schemas(c, full, ids):
    """The GET host answer's oneOf tells the two answers apart: FULL is a
    Host and IDS a HostIds (each one alone), and neither with a key of the
    other's added or its own taken away."""
    schema = c.spec["paths"]["/v1/hosts/{name}"]["get"]["responses"]["200"]
    schema = schema["content"]["application/json"]["schema"]
    comps = c.spec["components"]["schemas"]
    cases = [("the full answer is a Host", comps["Host"], full, True),
             ("the ids answer is a HostIds", comps["HostIds"], ids, True),
             ("the ids answer is no Host", comps["Host"], ids, False),
             ("the full answer is no HostIds", comps["HostIds"], full, False)]
    if isinstance(full, dict) and isinstance(ids, dict):
        cases += [("an ids answer with nodes matches neither", schema,
                   dict(ids, nodes=full.get("nodes")), False),
                  ("a full answer without topology matches neither", schema,
                   {k: v for k, v in full.items() if k != "topology"}, False),
                  ("an ids answer with a plan matches neither", schema,
                   dict(ids, placements=[dict(p, plan={}) for p in ids["placements"]]),
                   not ids["placements"])]
    for what, sch, value, want in cases:
        errs = []
        check(c.spec, sch, value, "body", errs)
        if (not errs) == want and isinstance(value, dict):
            c.passed += 1
            print("ok - %s" % what)
        else:
            c.failed += 1
            print("not ok - %s: %s" % (what, "; ".join(errs)[:300] or "it matched"))


def main():
    spec = yaml.safe_load(open(sys.argv[1]))
    addr, hostfile = sys.argv[2], sys.argv[3]
    tf = sys.argv[5] if len(sys.argv) > 5 and sys.argv[4] == "--token-file" else None
    c = Checker(spec, addr, token(tf))
    topo = json.load(open(hostfile))
    flavor = {"vcpus": 4, "memory_mb": 4096, "extra_specs": {"hw:numa_nodes": "2"}}
    c.req("GET", "/v1/health", want=200)
    c.req("PUT", "/v1/hosts/oa-1", topo, want=201)
    c.req("PUT", "/v1/hosts/oa-1", topo, want=200)
    c.req("PUT", "/v1/hosts/oa-2?cpu_ratio=4", topo, want=201)
    c.req("PUT", "/v1/hosts/oa-3?cpu_ratio=-1", topo, want=400)
    for bad in ("%204", "0x10", "4%20", "inf", "1e400"):  # only a plain decimal, in range
        c.req("PUT", "/v1/hosts/oa-3?cpu_ratio=" + bad, topo, want=400)
        c.req("PUT", "/v1/hosts/oa-3?ram_ratio=" + bad, topo, want=400)
    c.req("PUT", "/v1/hosts/oa-3", raw=b"{", want=400)
    c.req("PUT", "/v1/hosts/oa-3", raw=b"x" * 2000000, want=413)
    c.req("PUT", "/v1/hosts/oa-3", topo, ctype="text/plain", want=415)
    c.req("GET", "/v1/hosts", want=200)
    c.req("GET", "/v1/hosts/oa-1", want=200)
    c.req("GET", "/v1/hosts/none", want=404)
    st, d = c.req("POST", "/v1/placements", {"id": "oa-vm", "flavor": flavor,
                                             "image": {"properties": {}}}, want=201)
    c.req("POST", "/v1/placements", {"id": "oa-vm", "flavor": flavor, "image": {"properties": {}}},
          want=200)
    c.req("POST", "/v1/placements", {"id": "oa-vm", "flavor": {"vcpus": 1, "memory_mb": 64}},
          want=409)
    c.req("POST", "/v1/placements", {"id": "oa-big", "flavor": {"vcpus": 1, "memory_mb": 1 << 30}},
          want=409)
    c.req("POST", "/v1/placements", {"id": "oa-x", "host": "none", "flavor": flavor}, want=404)
    c.req("POST", "/v1/placements", {"id": "oa-x", "flavor": {"vcpus": "1"}}, want=400)
    st, e = c.req("POST", "/v1/placements", {"id": "oa-x", "hots": "h1", "flavor": flavor}, want=400)
    if e and "'hots'" not in e["error"]["message"]:
        c.failed += 1
        print("not ok - an unknown key is named: %s" % e)
    c.req("POST", "/v1/placements", {"id": "oa-x", "flavor": flavor, "allow_moves": 99}, want=400)
    c.req("POST", "/v1/placements", raw=b"[]", want=400)
    c.req("GET", "/v1/placements/oa-vm", want=200)
    obs = {"host": d["host"], "at": 1733400000, "source": "process", "pid": 4242,
           "memory_mb": {"0": 4096}, "vcpus": {"0": 4}}
    c.req("PUT", "/v1/placements/oa-vm/observed", obs, want=204)
    c.req("PUT", "/v1/placements/oa-vm/observed", dict(obs, memory_mb={"x": 1}), want=400)
    c.req("PUT", "/v1/placements/none/observed", obs, want=404)
    c.req("PUT", "/v1/placements/oa-vm/observed", dict(obs, host="elsewhere"), want=409)
    st, g = c.req("GET", "/v1/placements/oa-vm", want=200)
    if g and g["observed"] != obs:
        c.failed += 1
        print("not ok - GET shows the observation as sent: %s" % g["observed"])
    st, fit = c.req("POST", "/v1/fit", {"flavor": flavor, "hosts": ["oa-1", "none"]}, want=200)
    c.req("POST", "/v1/fit", {"flavor": flavor, "image": {"properties": {}}}, want=200)
    c.req("POST", "/v1/fit", {"flavor": flavor, "hosts": "oa-1"}, want=400)
    c.req("POST", "/v1/fit", {"flavor": flavor, "host": ["oa-1"]}, want=400)
    c.req("POST", "/v1/fit", {"flavor": {"vcpus": 3, "memory_mb": 4096,
                                         "extra_specs": {"hw:numa_nodes": "2"}}}, want=400)
    nic = {"name": "nic", "vendor_id": "8086", "product_id": "1520"}
    pci = dict(flavor, extra_specs=dict(flavor["extra_specs"], **{"pci_passthrough:alias": "nic:1"}))
    c.req("POST", "/v1/fit", {"flavor": pci, "pci_aliases": [nic]}, want=200)
    c.req("POST", "/v1/fit", {"flavor": pci}, want=400)
    c.req("POST", "/v1/fit", {"flavor": pci, "pci_aliases": [dict(nic, vendor_id="80")]},
          want=400)
    # pending copies of the guest (a multi-create's instances already chosen)
    st, fit = c.req("POST", "/v1/fit", {"flavor": flavor, "hosts": ["oa-1"],
                                        "pending": {"oa-1": 0}}, want=200)
    st, fit = c.req("POST", "/v1/fit", {"flavor": flavor, "hosts": ["oa-1", "oa-1"],
                                        "pending": {"oa-1": 1024}}, want=200)
    ans = (fit or {}).get("hosts", {}).get("oa-1", {})
    if ans.get("fits") is False and "pending copies" in ans.get("reason", ""):
        c.passed += 1
        print("ok - 1024 pending copies do not fit, and the answer says so")
    else:
        c.failed += 1
        print("not ok - 1024 pending copies: %s" % ans)
    for bad in ({"pending": {"oa-1": 1}}, {"hosts": ["oa-1"], "pending": {"oa-2": 1}},
                {"hosts": ["oa-1", "oa-1"], "pending": {"oa-1": 1, "x": 1}},
                {"hosts": ["oa-1"], "pending": {"oa-1": -1}},
                {"hosts": ["oa-1"], "pending": {"oa-1": "1"}},
                {"hosts": ["oa-1"], "pending": {"oa-1": 1025}},
                {"hosts": ["oa-1"], "pending": [1]}):
        c.req("POST", "/v1/fit", dict(bad, flavor=flavor), want=400)
    # What a client sent, quoted in a message (a newline, a key cut inside a
    # UTF-8 character by the message's %.64s): still a JSON error of one line.
    for bad in ({"flavor": flavor, "bogus\nkey": 1},
                {"flavor": flavor, "a" + "\u00e9" * 40: 1},
                {"flavor": flavor, "hosts": ["oa-1"], "pending": {"a" + "\u00e9" * 40: 1}}):
        st, e = c.req("POST", "/v1/fit", bad, want=400)
        msg = ((e or {}).get("error") or {}).get("message")
        if isinstance(msg, str) and msg and "\n" not in msg:
            c.passed += 1
            print("ok - a hostile key is quoted on one line: %s" % msg[:60].encode("unicode_escape").decode())
        else:
            c.failed += 1
            print("not ok - a hostile key: the answer is %r" % (e,))
    # The query: only the parameters a route lists, each once; a NUL byte in
    # a body; a body whose length two headers tell (request smuggling).
    c.req("GET", "/v1/health?verbose=1", want=400)
    c.req("PUT", "/v1/hosts/oa-3?cpu_raito=4", topo, want=400)
    c.req("DELETE", "/v1/hosts/oa-3?force=true&force=false", want=400)
    c.req("GET", "/v1/placements/oa-vm?x", want=400)
    # An unknown key, member or parameter: the message names it and what is
    # taken (the three checks share one helper, service/keys.c).
    for method, path, body, want_msg in (
            ("POST", "/v1/fit", {"flavor": flavor, "hots": []},
             "unknown key 'hots' (flavor, image, hosts, pci_aliases, pending)"),
            ("PUT", "/v1/placements/oa-vm/observed", dict(obs, hots="x"),
             "unknown member 'hots' (host, at, source, pid, domain, memory_mb, vcpus)"),
            ("PUT", "/v1/hosts/oa-3?cpu_raito=4", topo,
             "unknown query parameter 'cpu_raito' (this route takes: cpu_ratio ram_ratio)"),
            ("GET", "/v1/health?verbose=1", None,
             "unknown query parameter 'verbose' (this route takes none)")):
        st, e = c.req(method, path, body, want=400)
        msg = ((e or {}).get("error") or {}).get("message")
        if msg == want_msg:
            c.passed += 1
            print("ok - %s %s: %s" % (method, path.split("?")[0], msg))
        else:
            c.failed += 1
            print("not ok - %s %s: %r, want %r" % (method, path, msg, want_msg))
    st, e = c.req("POST", "/v1/placements", raw=b'{"id": "oa-nul"\x00, "flavor": {}}', want=400)
    msg = ((e or {}).get("error") or {}).get("message", "")
    if "NUL" in msg:
        c.passed += 1
        print("ok - a NUL byte in a body is named: %s" % msg)
    else:
        c.failed += 1
        print("not ok - a NUL byte in a body: %r" % (e,))
    for framing in ("Content-Length: 2\r\nContent-Length: 40\r\n",
                    "Content-Length: 2\r\nTransfer-Encoding: chunked\r\n"):
        st, e = raw_request(addr, c.headers, "POST /v1/placements", framing, b"{}")
        msg = ((e or {}).get("error") or {}).get("message", "")
        if st == 400 and "ambiguous" in msg:
            c.passed += 1
            print("ok - %s: 400, %s" % (framing.replace("\r\n", "; ").strip(), msg))
        else:
            c.failed += 1
            print("not ok - %s: %s %r" % (framing.replace("\r\n", "; ").strip(), st, e))
    c.req("POST", "/v1/fit", raw=b"x" * 2000000, want=413)
    c.req("POST", "/v1/fit", {"flavor": flavor}, ctype="text/plain", want=415)
    c.req("GET", "/v1/placements/none", want=404)
    _, full = c.req("GET", "/v1/hosts/%s" % d["host"], want=200)
    _, ids = c.req("GET", "/v1/hosts/%s?placements=ids" % d["host"], want=200)
    host_schemas(c, full, ids)
    c.req("DELETE", "/v1/hosts/%s" % d["host"], want=409)
    c.req("DELETE", "/v1/hosts/%s?force=perhaps" % d["host"], want=400)
    c.req("DELETE", "/v1/placements/oa-vm", want=204)
    c.req("DELETE", "/v1/placements/oa-vm", want=404)
    c.req("POST", "/v1/placements", {"id": "oa-vm2", "flavor": flavor}, want=201)
    c.req("DELETE", "/v1/hosts/oa-1?force=true", want=204)
    c.req("DELETE", "/v1/hosts/oa-2?force=true", want=204)
    c.req("DELETE", "/v1/hosts/oa-1", want=404)
    c.req("GET", "/v1/metrics", want=200)
    if c.headers:
        saved, c.headers = c.headers, {}
        c.req("GET", "/v1/health", want=401)
        c.req("GET", "/v1/hosts", want=401)
        c.headers = saved
    missing = [(p, m) for p, ops in spec["paths"].items() for m in ops
               if m in ("get", "put", "post", "delete") and (p, m) not in c.seen]
    if missing:
        c.failed += 1
        print("not ok - not exercised: %s" % missing)
    else:
        c.passed += 1
        print("ok - every method of every path in the file was exercised")
    print("%d passed, %d failed" % (c.passed, c.failed))
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
