#!/usr/bin/env python3
"""check-agent.py - check the guest output of tests/vm/agent.sh.

Reads the "@@@NP out|err|rc NAME" sections on standard input, prints
"ok - ..." / "not ok - ..." per check and "N passed, N failed".  Exit 0
when all passed.  What GET /v1/placements/vm-a says is compared with the
raw numa_maps read right after each report, and with what the test did
(migratepages to node O, threads moved to node O's CPUs).
"""
import importlib.util
import json
import os
import re
import sys

# The section reader of check-runtime.py, beside this file (one parser for both).
_spec = importlib.util.spec_from_file_location(
    "check_runtime", os.path.join(os.path.dirname(os.path.abspath(__file__)), "check-runtime.py"))
_cr = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_cr)
sections, check = _cr.sections, _cr.check  # check() counts in _cr.passed / _cr.failed


def maps_mb(text):
    """MiB per node id of a numa_maps text, rounded as the agent rounds."""
    kb = {}
    for line in text.splitlines():
        page = 4
        m = re.search(r"kernelpagesize_kB=(\d+)", line)
        if m:
            page = int(m.group(1))
        for n, c in re.findall(r"\bN(\d+)=(\d+)", line):
            kb[n] = kb.get(n, 0) + int(c) * page
    return {n: (v + 512) // 1024 for n, v in kb.items() if (v + 512) // 1024}


def get(out, name):
    try:
        return json.loads(out.get(name, "").strip())
    except ValueError:
        return None


def main():
    out, err, rc = sections(sys.stdin.read())
    check(rc.get("register") == 0, "the agent registered the guest's 4-node host",
          err.get("register", ""))
    try:
        n, o = (int(x) for x in out.get("nodes", "").split())
    except ValueError:
        check(False, "the placement got one node", out.get("post", ""))
        return
    print(f"# plan: node {n}; moved to node {o}")
    for step in ("a1", "a2", "a3"):
        check(rc.get(step) == 0 and "vm-a: reported" in out.get(step, ""),
              f"agent --once ({step}) reported vm-a", out.get(step, "") + err.get(step, ""))
    g1, g2, g3 = get(out, "g1"), get(out, "g2"), get(out, "g3")
    if not (g1 and g2 and g3 and g1.get("observed") and g2.get("observed") and g3.get("observed")):
        check(False, "GET /v1/placements/vm-a answered with observations", str((g1, g2, g3))[:400])
        return
    m1, m2 = maps_mb(out.get("m1", "")), maps_mb(out.get("m2", ""))
    o1, d1 = g1["observed"], g1["drift"]
    print(f"# 1: observed {o1['memory_mb']} vcpus {o1['vcpus']}; numa_maps {m1}; drift {d1}")
    check(o1["memory_mb"] == m1 or all(abs(o1["memory_mb"].get(k, 0) - m1.get(k, 0)) <= 1
                                       for k in set(m1) | set(o1["memory_mb"])),
          "observed memory per node is numa_maps'")
    check(o1["memory_mb"].get(str(n), 0) >= 48, f"the 48 MiB are on the plan's node {n}")
    check(set(o1["vcpus"]) == {str(n)} and sum(o1["vcpus"].values()) == 3,
          f"its 3 threads ran on node {n}", str(o1["vcpus"]))
    check(d1["drifted"] is False and d1["vcpus_outside"] == 0, "no drift", str(d1))
    o2, d2 = g2["observed"], g2["drift"]
    print(f"# 2: observed {o2['memory_mb']}; numa_maps {m2}; drift {d2}")
    check(rc.get("move") == 0, "migratepages ran", err.get("move", ""))
    check(all(abs(o2["memory_mb"].get(k, 0) - m2.get(k, 0)) <= 1
              for k in set(m2) | set(o2["memory_mb"])), "observed again is numa_maps again")
    check(o2["memory_mb"].get(str(o), 0) >= 48, f"the memory is now on node {o}", str(o2))
    check(d2["drifted"] is True and d2["memory_elsewhere_mb"] >= 48
          and d2["memory_elsewhere_mb"] == sum(v for k, v in o2["memory_mb"].items()
                                               if k != str(n)),
          "drift flagged: the moved MiB are memory elsewhere", str(d2))
    check(d2["vcpus_outside"] == 0, "the threads had not moved yet", str(d2))
    o3, d3 = g3["observed"], g3["drift"]
    print(f"# 3: vcpus {o3['vcpus']}; drift {d3}")
    check(o3["vcpus"].get(str(o), 0) >= 1 and d3["vcpus_outside"] >= 1 and d3["drifted"],
          f"threads on node {o}: vCPUs outside flagged", str(d3))
    check(rc.get("loop") == 0 and out.get("loop", "").count("agent: round:") == 3,
          "the loop reported three rounds", out.get("loop", "") + err.get("loop", ""))


if __name__ == "__main__":
    main()
    print(f"{_cr.passed} passed, {_cr.failed} failed")
    sys.exit(1 if _cr.failed else 0)
