#!/usr/bin/env python3
"""bench/fleet-moves.py - `numaplace schedule` with and without --allow-moves
on a small fleet filled by `numaplace gen` (docs/results.md, "Making room",
the fleet).

    bench/fleet-moves.py NUMAPLACE [--families F,F] [--seeds N] [--hosts H]
                         [--moves 0,1,3] [--json FILE]

For each family and seed: a SQLite fleet of H hosts of the family's shape
(gen's host), the family's guests (gen, seed S, 40 per host) scheduled one
by one with `numaplace schedule --allow-moves M` until the first guest no
host takes.  Reports per family and M: guests admitted before that first
refusal (mean over the seeds), moves and GiB migrated per admitted guest,
and the scheduler's CPU time per decision (user + system of the schedule
processes, from getrusage, so other load on the machine counts less than in
wall time).  Every store passes `fleet check` at the end (else the run
fails).  synchronous=normal: commit durability is not what is measured.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile


def topology(host):
    """numaplace.topology/1 from gen's Nova-case host (cells, distances)."""
    nodes, cpus = [], []
    for i, c in enumerate(host["cells"]):
        nodes.append({"id": c["id"], "cpus": c["cpus"],
                      "memory_mb": {"total": c["memory_mb"]},
                      "distances": host["distances"][i]})
        cpus += [{"id": x, "node": c["id"], "core": x, "socket": c.get("socket", 0)}
                 for x in c["cpus"]]
    return {"schema": "numaplace.topology/1", "distances_source": "firmware",
            "nodes": nodes, "cpus": cpus}


def flavor(req):
    specs = ",".join("%s=%s" % kv for kv in sorted(req.get("extra_specs", {}).items()))
    return "vcpus=%d,ram=%d%s" % (req["vcpus"], req["memory_mb"], "," + specs if specs else "")


def cpu_children():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def play(np, tmp, family, seed, hosts, moves):
    out = subprocess.run([np, "gen", family, "--seed", str(seed), "--guests", str(40 * hosts)],
                         check=True, capture_output=True, text=True).stdout
    case = json.loads(out.splitlines()[0])
    topo = os.path.join(tmp, "host.json")
    with open(topo, "w") as f:
        json.dump(topology(case["host"]), f)
    db = os.path.join(tmp, "f-%s-%d-%d.db" % (family, seed, moves))
    store = "sqlite:%s?synchronous=normal" % db
    for h in range(hosts):
        subprocess.run([np, "fleet", "add", "--store", store, "--name", "h%02d" % h, "--host",
                        topo, "--cpu-ratio", str(case["cpu_allocation_ratio"])],
                       check=True, capture_output=True)
    admitted = nmoves = mb = 0
    cpu0 = cpu_children()
    for i, req in enumerate(case["requests"]):
        r = subprocess.run([np, "schedule", "--store", store, "--id", "g%d" % i, "--flavor",
                            flavor(req), "--allow-moves", str(moves), "--seed", "7",
                            "--format", "json"], capture_output=True, text=True)
        if r.returncode == 1:
            break
        if r.returncode != 0:
            sys.exit("schedule failed: %s" % r.stderr.strip())
        plan = json.loads(r.stdout)["plan"]
        admitted += 1
        nmoves += len(plan.get("moves", []))
        mb += sum(m["memory_mb"] for m in plan.get("moves", []))
    cpu = cpu_children() - cpu0
    chk = subprocess.run([np, "fleet", "check", "--store", store], capture_output=True, text=True)
    if chk.returncode != 0:
        sys.exit("fleet check failed: %s" % chk.stderr.strip())
    os.unlink(db)
    return admitted, nmoves, mb, cpu / (admitted + 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("numaplace")
    ap.add_argument("--families", default="dedicated,uneven,mem-bound,shared")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--hosts", type=int, default=4)
    ap.add_argument("--moves", default="0,1,3")
    ap.add_argument("--json")
    a = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="np-fleet-moves-") as tmp:
        for fam in a.families.split(","):
            for m in (int(x) for x in a.moves.split(",")):
                res = [play(a.numaplace, tmp, fam, 100000 + s, a.hosts, m)
                       for s in range(1, a.seeds + 1)]
                adm = sum(r[0] for r in res)
                row = {"family": fam, "moves_allowed": m, "hosts": a.hosts, "seeds": a.seeds,
                       "admitted_mean": adm / len(res),
                       "moves_per_guest": sum(r[1] for r in res) / max(adm, 1),
                       "gib_per_guest": sum(r[2] for r in res) / 1024 / max(adm, 1),
                       "cpu_ms_per_decision": 1000 * sum(r[3] for r in res) / len(res)}
                rows.append(row)
                print(json.dumps(row), file=sys.stderr, flush=True)
    print("| family | --allow-moves | admitted (mean of %d seeds, %d hosts) | moves / GiB per "
          "guest | CPU ms per decision |" % (a.seeds, a.hosts))
    print("| --- | --- | --- | --- | --- |")
    for r in rows:
        print("| %s | %d | %.2f | %.3f / %.3f | %.1f |" % (
            r["family"], r["moves_allowed"], r["admitted_mean"], r["moves_per_guest"],
            r["gib_per_guest"], r["cpu_ms_per_decision"]))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"load_average": open("/proc/loadavg").read().split()[:3], "rows": rows},
                      f, indent=1)


if __name__ == "__main__":
    main()
