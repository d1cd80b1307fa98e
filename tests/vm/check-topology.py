#!/usr/bin/python3
"""check-topology.py - compare what `numaplace topology` printed inside a
numa-vm guest with the NUMA shape QEMU was given (tests/vm/topology.sh).

Input (stdin): the guest's stdout, sections written by topology.sh's guest
script:  "@@@NP out NAME" ... "@@@NP err NAME" ... "@@@NP rc NAME N".
Arguments: the shape, as given to run-in-numa-vm.  Prints one TAP-like line
per check ("ok - ..." / "not ok - ..."); the caller counts them.

The expected values come only from the shape (QEMU puts socket i on node i,
C cores per socket, one thread per core), never from the guest's sysfs, so
the checks compare numaplace with the machine definition.
"""
import argparse
import json
import re
import sys


def mem_slack_mb(given):
    """How far below GIVEN MiB a node's MemTotal may be.  The kernel keeps
    ~33 MiB of boot allocations in one node and its page structs (1/64 of
    the memory) in every node: measured 6-7 MiB short on most nodes, and
    35/38/41 MiB on the one node of 128/256/512 MiB holding the rest."""
    return 40 + given // 32


def parse_sections(text):
    """{name: {"out": str, "err": str, "rc": int}} from the marked output."""
    sections, cur, buf = {}, None, []
    for line in text.split("\n"):
        m = re.fullmatch(r"@@@NP (out|err|rc) (\S+)(?: (-?\d+))?\r?", line)
        if not m:
            buf.append(line)
            continue
        if cur:
            sections.setdefault(cur[1], {})[cur[0]] = "\n".join(buf)
        kind, name = m.group(1), m.group(2)
        if kind == "rc":
            sections.setdefault(name, {})["rc"] = int(m.group(3))
            cur = None
        else:
            cur = (kind, name)
        buf = []
    return sections


class Checker:
    def __init__(self, label):
        self.label = label

    def check(self, cond, what, detail=""):
        print(("ok - " if cond else "not ok - ") + self.label + ": " + what)
        if not cond and detail:
            for line in str(detail).splitlines()[:20]:
                print("#   " + line)
        return cond


def expected_shape(a):
    n = a.nodes
    cpu_nodes = n - (1 if a.memory_only_node else 0)
    mem = [int(x) for x in a.mem.split(",")]
    if len(mem) == 1:
        mem *= n
    dist = [int(x) for x in re.split(r"[,\s]+", a.distances.strip()) if x]
    rows = [dist[i * n:(i + 1) * n] for i in range(n)]
    cpus = [list(range(i * a.cpus, (i + 1) * a.cpus)) if i < cpu_nodes else []
            for i in range(n)]
    pages = [int(x) for x in a.hugepages.split(",")] if a.hugepages else None
    return mem, rows, cpus, pages


def check_nodes(c, doc, mem, rows, cpus, pages):
    nodes = doc.get("nodes", [])
    c.check([x.get("id") for x in nodes] == list(range(len(mem))),
            "node ids are 0..%d" % (len(mem) - 1), [x.get("id") for x in nodes])
    got = {x.get("id"): x for x in nodes}
    c.check([got.get(i, {}).get("cpus") for i in range(len(mem))] == cpus,
            "CPUs per node are %s" % cpus,
            [got.get(i, {}).get("cpus") for i in range(len(mem))])
    c.check([got.get(i, {}).get("distances") for i in range(len(mem))] == rows,
            "distance matrix is the one given to QEMU",
            [got.get(i, {}).get("distances") for i in range(len(mem))])
    tot = [got.get(i, {}).get("memory_mb", {}).get("total") for i in range(len(mem))]
    c.check(all(isinstance(t, int) and m - mem_slack_mb(m) <= t <= m
                for t, m in zip(tot, mem)),
            "memory per node %s MiB is at most 40 MiB + 1/32 below %s" % (tot, mem))
    free = [got.get(i, {}).get("memory_mb", {}).get("free") for i in range(len(mem))]
    c.check(all(isinstance(f, int) and isinstance(t, int) and 0 < f <= t
                for f, t in zip(free, tot)),
            "free memory per node is positive and at most the total", free)
    if pages is not None:
        two_mb = [sum(p.get("total", 0) for p in got.get(i, {}).get("hugepages", [])
                      if p.get("size_kb") == 2048) for i in range(len(mem))]
        c.check(two_mb == pages, "2 MiB huge pages per node are %s" % pages, two_mb)


def check_cpus(c, doc, cpus):
    want = [(cpu, node, node, k) for node, ids in enumerate(cpus)
            for k, cpu in enumerate(ids)]
    got = [(x.get("id"), x.get("node"), x.get("socket"), x.get("core"))
           for x in doc.get("cpus", [])]
    c.check(got == want, "every CPU has its node, socket = node, core = "
            "index in socket", got)
    c.check(all(x.get("online") is True and x.get("siblings") == [x.get("id")]
                for x in doc.get("cpus", [])),
            "every CPU is online and its own only SMT sibling",
            doc.get("cpus"))


def check_devices(c, doc, dev):
    devs = doc.get("devices", [])
    root = [d for d in devs if d.get("address", "").startswith("0000:00:")]
    c.check(root and all(d.get("node") is None for d in root),
            "devices on the root complex (0000:00:*) have no node", root)
    if not dev:
        return
    addr, vendor, device, cls, node = dev.split(",")
    want = {"address": addr, "vendor": vendor, "device": device, "class": cls,
            "node": int(node)}
    got = [d for d in devs if d.get("address") == addr]
    c.check(got == [want], "device %s is on node %s" % (addr, node), devs)


def check_json(parent, sec, a, shape, what, source):
    """All checks of one JSON run; SOURCE tags their lines."""
    c = Checker("%s (%s)" % (parent.label, source))
    c.check(sec.get("rc") == 0, what + " exits 0", sec)
    try:
        doc = json.loads(sec.get("out", ""))
    except ValueError as e:
        c.check(False, what + " prints valid JSON", "%s\n%s" % (e, sec.get("out", "")))
        return
    c.check(isinstance(doc, dict) and doc.get("schema") == "numaplace.topology/1",
            what + " prints a numaplace.topology/1 document", sec.get("out"))
    if not isinstance(doc, dict):
        return
    c.check(doc.get("distances_source") == "firmware",
            what + ": distances_source is firmware", doc.get("distances_source"))
    mem, rows, cpus, pages = shape
    check_nodes(c, doc, mem, rows, cpus, pages)
    check_cpus(c, doc, cpus)
    check_devices(c, doc, a.device)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--label", required=True)
    p.add_argument("--nodes", type=int, required=True)
    p.add_argument("--cpus", type=int, required=True)
    p.add_argument("--mem", required=True)
    p.add_argument("--distances", required=True)
    p.add_argument("--memory-only-node", action="store_true")
    p.add_argument("--hugepages", default="")
    p.add_argument("--device", default="")
    p.add_argument("--shared-lib", action="store_true",
                   help="the tool links libnumaplace.so.0, copied to /np/lib")
    a = p.parse_args()
    c = Checker(a.label)
    sections = parse_sections(sys.stdin.read())
    shape = expected_shape(a)

    ldso = sections.get("ldso", {})
    if a.shared_lib:
        c.check(re.search(r"libnumaplace\.so\.0 => /np/lib/libnumaplace\.so\.0",
                          ldso.get("out", "")) is not None,
                "libnumaplace.so.0 from the build dir is the one loaded", ldso)
    check_json(c, sections.get("json", {}), a, shape, "topology --format json",
               "local")
    check_json(c, sections.get("sysfs", {}), a, shape,
               "topology --sysfs / --format json", "sysfs /")
    text = sections.get("text", {})
    ncpus = sum(len(x) for x in shape[2])
    c.check(text.get("rc") == 0 and text.get("err", "").strip() == ""
            and re.search(r"\b%d nodes\b" % a.nodes, text.get("out", ""))
            and re.search(r"\b%d CPUs\b" % ncpus, text.get("out", "")),
            "topology (text) exits 0 and counts %d nodes, %d CPUs" % (a.nodes, ncpus),
            text)
    bad = sections.get("bad", {})
    err = bad.get("err", "").strip()
    c.check(bad.get("rc") == 2 and bad.get("out", "").strip() == ""
            and len(err.splitlines()) == 1 and err.startswith("numaplace: ")
            and "/nonexistent" in err,
            "topology --sysfs /nonexistent exits 2 with one message naming it", bad)


if __name__ == "__main__":
    main()
