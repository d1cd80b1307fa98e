#!/usr/bin/python3
"""bench/service/placement-anchor.py DIR HOSTS [RUNS] - OpenStack Placement 8.0 (Debian
python3-placement), in-process on SQLite as ../shared/research/placement.md
runs it, over the same fleet as bench/service/run.sh: HOSTS hosts, each a
root provider (trait COMPUTE_NODE) with 8 NUMA children (HW_NUMA_ROOT, VCPU 16
at allocation ratio 4.0, MEMORY_MB 65536).  The first host is made through
the API; the others are copies of its rows with new ids, uuids and names
(27 API calls a host would take minutes).  Measures GET
/allocation_candidates for a one-node and a two-node request (limit 1000)
and the allocation PUT (a claim on one NUMA child), and prints one JSON line.
"""
import json
import sqlite3
import statistics
import sys
import time
import uuid

from oslo_config import cfg
from placement import conf as pconf
from placement import deploy
import webob

MV = "placement 1.39"


def app_for(db):
    conf = cfg.ConfigOpts()
    pconf.register_opts(conf)
    conf.set_override("connection", "sqlite:///" + db, group="placement_database")
    conf.set_override("sync_on_startup", True, group="placement_database")
    conf.set_override("auth_strategy", "noauth2", group="api")
    conf([], default_config_files=[])
    return deploy.loadapp(conf)


def call(app, method, path, body=None):
    r = webob.Request.blank(path, method=method)
    r.headers["X-Auth-Token"] = "admin"
    r.headers["OpenStack-API-Version"] = MV
    if body is not None:
        r.body = json.dumps(body).encode()
        r.content_type = "application/json"
    resp = r.get_response(app)
    if resp.status_int >= 400:
        raise RuntimeError("%s %s: %d %s" % (method, path, resp.status_int, resp.body[:300]))
    return json.loads(resp.body) if resp.body else None


def first_host(app):
    root = str(uuid.uuid4())
    call(app, "POST", "/resource_providers", {"name": "host-0", "uuid": root})
    g = call(app, "GET", "/resource_providers/%s/traits" % root)["resource_provider_generation"]
    call(app, "PUT", "/resource_providers/%s/traits" % root,
         {"traits": ["COMPUTE_NODE"], "resource_provider_generation": g})
    for n in range(8):
        u = str(uuid.uuid4())
        call(app, "POST", "/resource_providers",
             {"name": "host-0-numa-%d" % n, "uuid": u, "parent_provider_uuid": root})
        call(app, "PUT", "/resource_providers/%s/inventories" % u, {
            "resource_provider_generation": 0,
            "inventories": {"VCPU": {"total": 16, "allocation_ratio": 4.0},
                            "MEMORY_MB": {"total": 65536}}})
        call(app, "PUT", "/resource_providers/%s/traits" % u,
             {"traits": ["HW_NUMA_ROOT"], "resource_provider_generation": 1})


def copy_hosts(db, n):
    c = sqlite3.connect(db)
    rps = c.execute("SELECT id, name, parent_provider_id FROM resource_providers ORDER BY id").fetchall()
    inv = c.execute("SELECT resource_provider_id, resource_class_id, total, reserved, min_unit, "
                    "max_unit, step_size, allocation_ratio FROM inventories").fetchall()
    tr = c.execute("SELECT trait_id, resource_provider_id FROM resource_provider_traits").fetchall()
    next_id = max(r[0] for r in rps) + 1
    for h in range(1, n):
        idmap = {}
        for rid, name, parent in rps:
            idmap[rid] = next_id
            next_id += 1
        root = idmap[rps[0][0]]
        for rid, name, parent in rps:
            c.execute("INSERT INTO resource_providers (id, uuid, name, generation, root_provider_id, "
                      "parent_provider_id) VALUES (?, ?, ?, 1, ?, ?)",
                      (idmap[rid], str(uuid.uuid4()), name.replace("host-0", "host-%d" % h, 1), root,
                       idmap[parent] if parent else None))
        c.executemany("INSERT INTO inventories (resource_provider_id, resource_class_id, total, "
                      "reserved, min_unit, max_unit, step_size, allocation_ratio) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                      [(idmap[i[0]],) + tuple(i[1:]) for i in inv])
        c.executemany("INSERT INTO resource_provider_traits (trait_id, resource_provider_id) "
                      "VALUES (?, ?)", [(t[0], idmap[t[1]]) for t in tr])
    c.commit()
    c.close()


def timed(fn, runs):
    ts = []
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t0)
    return ts, out


def main():
    d, hosts = sys.argv[1], int(sys.argv[2])
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    db = d + "/placement.db"
    app = app_for(db)
    first_host(app)
    copy_hosts(db, hosts)
    one = "/allocation_candidates?resources1=VCPU:4,MEMORY_MB:8192&limit=1000"
    two = ("/allocation_candidates?resources_N1=VCPU:2,MEMORY_MB:4096&resources_N2=VCPU:2,"
           "MEMORY_MB:4096&required_CN=COMPUTE_NODE&same_subtree=_CN,_N1,_N2"
           "&group_policy=isolate&limit=1000")
    t1, c1 = timed(lambda: call(app, "GET", one), runs)
    t2, c2 = timed(lambda: call(app, "GET", two), max(2, runs // 2))
    # Claims: one NUMA child of a candidate each, as a scheduler would after choosing.
    children = [rp for ar in c1["allocation_requests"]
                for rp in ar["allocations"]][:50]
    claims = []
    for i, rp in enumerate(children):
        body = {"allocations": {rp: {"resources": {"VCPU": 4, "MEMORY_MB": 8192}}},
                "consumer_generation": None, "project_id": str(uuid.uuid4()),
                "user_id": str(uuid.uuid4()), "consumer_type": "INSTANCE"}
        t0 = time.perf_counter()
        call(app, "PUT", "/allocations/%s" % uuid.uuid4(), body)
        claims.append(time.perf_counter() - t0)
    claims.sort()
    print(json.dumps({
        "anchor": "placement-8.0", "hosts": hosts,
        "candidates_one_node_ms": round(statistics.median(t1) * 1e3, 1),
        "candidates_one_node_count": len(c1["allocation_requests"]),
        "candidates_two_node_ms": round(statistics.median(t2) * 1e3, 1),
        "candidates_two_node_count": len(c2["allocation_requests"]),
        "claims": len(claims), "claims_per_s": round(len(claims) / sum(claims), 1),
        "claim_p50_ms": round(claims[len(claims) // 2] * 1e3, 2),
        "claim_p99_ms": round(claims[min(len(claims) - 1, int(0.99 * len(claims)))] * 1e3, 2),
    }))


if __name__ == "__main__":
    main()
