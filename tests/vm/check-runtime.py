#!/usr/bin/env python3
"""check-runtime.py - check the guest output of tests/vm/runtime.sh.

Reads the "@@@NP out|err|rc NAME" sections on standard input, prints
"ok - ..." / "not ok - ..." per check, "# measure ..." lines with the cost
of one observe and the migration throughput of numaplace and numactl's
migratepages, and "N passed, N failed".  Exit 0 when all passed.

The guest: 4 nodes of 2 CPUs (node n has CPUs 2n, 2n+1), 320 MiB each.
Expectations come from what the test did and from the raw numa_maps, not
from numaplace's own output alone.
"""
import argparse
import json
import re
import statistics
import sys

passed = failed = 0


def check(cond, what, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print(f"ok - {what}")
    else:
        failed += 1
        print(f"not ok - {what}" + (f": {detail}" if detail else ""))


def sections(text):
    out, err, rc = {}, {}, {}
    cur, buf = None, []
    for line in text.splitlines():
        m = re.match(r"^@@@NP (out|err|rc) (\S+)(?: (\d+))?$", line)
        if m:
            if cur:
                (out if cur[0] == "out" else err)[cur[1]] = "\n".join(buf)
            kind, name = m.group(1), m.group(2)
            if kind == "rc":
                rc[name] = int(m.group(3))
                cur = None
            else:
                cur, buf = (kind, name), []
        elif cur:
            buf.append(line)
    return out, err, rc


def js(out, name):
    try:
        return json.loads(out.get(name, "").strip().splitlines()[0])
    except (ValueError, IndexError):
        return None


def anon_mb(obs, node):
    kb = (obs or {}).get("memory_kb", {}).get(str(node), {})
    return kb.get("anon", 0) / 1024.0


def maps_mb(text, node):
    """Anonymous MiB on NODE from raw numa_maps text (independent of numaplace)."""
    total = 0
    for line in (text or "").splitlines():
        if "anon=" not in line or "file=" in line:
            continue
        page = re.search(r"kernelpagesize_kB=(\d+)", line)
        n = re.search(rf"\bN{node}=(\d+)", line)
        if n:
            total += int(n.group(1)) * (int(page.group(1)) if page else 4)
    return total / 1024.0


def node_cpus(node):
    return f"{2 * node}-{2 * node + 1}"


def log(out, name, summary=False):
    """The balancer's JSON log: its actions, or (SUMMARY) its last, summary record."""
    entries = []
    for line in out.get(name, "").splitlines():
        try:
            entries.append(json.loads(line))
        except ValueError:
            pass
    if summary:
        return entries[-1] if entries and entries[-1].get("action") == "summary" else None
    return [e for e in entries if e.get("action") != "summary"]


def elapsed(out, name):
    m = re.search(r"elapsed_ns (\d+) rc (\d+)", out.get(name, ""))
    return (int(m.group(1)) / 1e9, int(m.group(2))) if m else (None, None)


def placement(out, err, rc):
    o1 = js(out, "w1-observe")
    check(o1 is not None, "observe --format json parses")
    check(anon_mb(o1, 1) >= 45 and maps_mb(out.get("w1-maps"), 1) >= 45,
          "a process placed on node 1 has its 48 MiB there (numaplace and raw numa_maps)",
          f"numaplace {anon_mb(o1, 1):.1f}, numa_maps {maps_mb(out.get('w1-maps'), 1):.1f}")
    check(o1 and all(k in o1 for k in ("pid", "threads", "memory_mb", "policy")) and
          all(k in t for t in o1["threads"] for k in ("tid", "cpu", "node", "allowed_cpus")),
          "the JSON has pid, threads (tid, cpu, node, allowed_cpus), memory_mb, policy")
    check(o1 and len(o1["threads"]) == 3 and all(t["allowed_cpus"] == node_cpus(1) for t in o1["threads"]),
          "its 3 threads may run only on node 1's CPUs")
    a2, o2 = js(out, "w1-apply2"), js(out, "w1-observe2")
    check(rc.get("w1-apply2") == 0 and a2 and a2["moved_kb"] >= 45 * 1024,
          "apply --nodes 2 --migrate reports the memory moved", out.get("w1-apply2", "")[:200])
    check(anon_mb(o2, 2) >= 45 and anon_mb(o2, 1) < 1 and maps_mb(out.get("w1-maps2"), 2) >= 45,
          "after apply to node 2 the pages are on node 2",
          f"node2 {anon_mb(o2, 2):.1f} node1 {anon_mb(o2, 1):.1f}")
    check(o2 and all(t["allowed_cpus"] == node_cpus(2) and t["node"] == 2 for t in o2["threads"]),
          "and its threads run on node 2's CPUs only")
    a0, o0 = js(out, "w1-apply0"), js(out, "w1-observe0")
    check(a0 and anon_mb(o0, 0) >= 45, "rate-limited apply moves it to node 0")
    if a0 and a0["seconds"] > 0:
        rate = a0["moved_kb"] / 1024.0 / a0["seconds"]
        check(rate <= 40 * 1.1, f"--rate 40 is kept: {rate:.1f} MB/s over {a0['seconds']:.2f} s")
    od = js(out, "after-noperm")
    check(rc.get("w1-dry") == 0 and "would:" in out.get("w1-dry", "") and od and
          anon_mb(od, 0) >= 45 and all(t["allowed_cpus"] == node_cpus(0) for t in od["threads"]),
          "a dry run says what it would do and changes nothing")


def bad_input(out, err, rc):
    def one_line(name):
        lines = err.get(name, "").strip().splitlines()
        return len(lines) >= 1 and lines[0].startswith("numaplace: ") and len(lines) <= 2

    check(rc.get("bad-pid") == 2 and one_line("bad-pid"), "no such pid: exit 2, one line",
          err.get("bad-pid", ""))
    check(rc.get("bad-node") == 2 and one_line("bad-node"), "no such node: exit 2, one line")
    check(rc.get("noperm") == 2 and one_line("noperm"), "no permission: exit 2, one line",
          f"rc {rc.get('noperm')} {err.get('noperm', '')}")
    oa = js(out, "after-noperm")
    check(oa and anon_mb(oa, 0) >= 45 and all(t["allowed_cpus"] == node_cpus(0) for t in oa["threads"]),
          "and nothing was changed")


def balance(out, err, rc):
    before, after = js(out, "w5-before"), js(out, "w5-after")
    check(before and any(t["node"] == 3 for t in before["threads"]),
          "threads forced onto node 3 before balancing")
    entries = log(out, "w5-balance")
    kinds = [e["action"] for e in entries if e["done"]]
    check(rc.get("w5-balance") == 0 and "rescue-pin" in kinds and "restore-soft" in kinds,
          "balance --once rescue-pins and then restores", str(kinds))
    check(all(e["reason"] for e in entries), "every action has a reason")
    # What the balancer did, not where the scheduler put the thread after
    # restore-soft widened its affinity (it may move it anywhere then):
    # each thread was pinned from node 3 to node 1, and when its soft
    # affinity came back the balancer had seen it on node 1.
    tids = [t["tid"] for t in (before or {}).get("threads", [])]
    did = {tid: [(e["action"], e["from_node"], e["to_node"]) for e in entries
                 if e["vcpu"] == tid and e["done"]] for tid in tids}
    check(tids and all(a[:2] == [("rescue-pin", 3, 1), ("restore-soft", 1, -1)]
                       for a in did.values()),
          "balance --once pinned every thread from node 3 to node 1 and saw it "
          "there when it restored its soft affinity", str(did))
    check(after and all(t["allowed_cpus"] == "0-7" for t in after["threads"]),
          "and the kernel affinity is wide again (soft affinity)")
    pids = out.get("w5-pids", "").split()
    other = js(out, "w5b-after")
    check(len(pids) == 2 and not [e for e in entries if e["guest"] == f"pid:{pids[1]}"]
          and other and all(t["allowed_cpus"] == "6-7" for t in other["threads"]),
          "balance --pid leaves the guest it was not given alone",
          str([(t["tid"], t["allowed_cpus"]) for t in (other or {}).get("threads", [])]))
    s = log(out, "w5-balance", summary=True)
    check(s and len(pids) == 2 and s["target"] == f"pid:{pids[0]}" and s["guests"] == 1
          and s["actions"] == len([e for e in entries if e["action"] != "skip"]),
          "the JSON log ends with a summary of that one guest", str(s))


def fallback(out, err, rc, dist):
    row = dist[1]
    nearest = min((d, n) for n, d in enumerate(row) if n != 1)[1]
    hog, w6, w7 = js(out, "hog-observe"), js(out, "w6-observe"), js(out, "w7-observe")
    check(hog and anon_mb(hog, 1) > 150, f"node 1 filled ({anon_mb(hog, 1):.0f} MiB bound there)")
    away = {n: anon_mb(w6, n) for n in range(4)}
    total = sum(away.values())
    check(w6 and total > 40 and away[nearest] >= 0.6 * total,
          f"with node 1 full, memory fell back to node {nearest}, the nearest by the matrix",
          str(away))
    check(nearest != 2 and w6 and w6["advice"]["fallback"][0] == nearest,
          "numaplace's fallback order starts with that node", str(w6 and w6["advice"]))
    check(w6 and any(f["kind"] == "memory-away" for f in w6["findings"]),
          "the diagnosis reports the memory away from node 1")
    entries = log(out, "w6-balance")
    follow = [e for e in entries if e["action"] == "follow-memory" and e["done"]]
    check(follow and follow[0]["to_node"] == nearest,
          "balance makes the soft affinity follow the memory", str([e["action"] for e in entries]))
    pref = js(out, "w6-pref")
    check(pref and pref["nodes"] == [nearest], "the recorded preference is now that node")
    entries = log(out, "w7-balance")
    home = [e for e in entries if e["action"] == "migrate-home" and e["done"]]
    check(home and home[0]["to_node"] == 1, "once node 1 has room, memory is moved home",
          str([(e["action"], e["reason"]) for e in entries]))
    w72 = js(out, "w7-observe2")
    check(w7 and anon_mb(w7, 1) < 0.5 * 48 and anon_mb(w72, 1) >= 40,
          f"and is on node 1 ({anon_mb(w7, 1):.0f} -> {anon_mb(w72, 1):.0f} MiB)")


def measure(out, err, rc):
    runs = [elapsed(out, f"cost-run-{i}")[0] for i in range(1, 4)]
    runs = [r for r in runs if r]
    watch = elapsed(out, "cost-watch")[0]
    o = js(out, "w1-observe")
    if runs:
        print(f"# measure observe: one whole `numaplace observe` run (process start, hwloc "
              f"topology, observe, JSON) median {statistics.median(runs) * 1000:.1f} ms "
              f"(TCG guest, {len(o['threads']) if o else '?'} threads, 48 MiB)")
    if watch:
        print(f"# measure observe: one refresh of --watch (50 in one run, 10 ms sleep each "
              f"subtracted) {(watch - 0.5) / 50 * 1000:.2f} ms")
    check(bool(runs) and watch, "observe cost measured")
    np_rates, mp_rates = [], []
    for i in range(1, 4):
        t, r = elapsed(out, f"mig-np-{i}")
        moved = maps_mb(out.get(f"mig-np-maps-{i}"), 1)
        if t and r == 0 and moved > 90:
            np_rates.append(moved / t)
        t, r = elapsed(out, f"mig-mp-{i}")
        back = maps_mb(out.get(f"mig-mp-maps-{i}"), 0)
        if t and r == 0 and back > 90:
            mp_rates.append(back / t)
    check(len(np_rates) == 3 and len(mp_rates) == 3,
          "96 MiB moved 3 times each way by numaplace and by migratepages",
          f"{np_rates} {mp_rates}")
    if np_rates and mp_rates:
        a, b = statistics.median(np_rates), statistics.median(mp_rates)
        inner = [js(out, f"mig-np-{i}") for i in range(1, 4)]
        inner = [x["moved_kb"] / 1024 / x["seconds"] for x in inner
                 if x and x.get("seconds")]
        print(f"# measure migration: numaplace apply --migrate {a:.1f} MB/s, migratepages "
              f"{b:.1f} MB/s (whole commands, median of 3, 96 MiB, TCG guest): ratio "
              f"{a / b:.2f}" + (f"; numaplace's own migration time alone "
                                f"{statistics.median(inner):.1f} MB/s" if inner else ""))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--distances", required=True)
    args = ap.parse_args()
    vals = [int(x) for x in re.split(r"[,\s]+", args.distances.strip()) if x]
    dist = [vals[i * 4:(i + 1) * 4] for i in range(4)]
    out, err, rc = sections(sys.stdin.read())
    placement(out, err, rc)
    bad_input(out, err, rc)
    balance(out, err, rc)
    fallback(out, err, rc, dist)
    measure(out, err, rc)
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
