#!/usr/bin/env python3
"""bench/service/profile.py PERF.DATA [CPU_MS_PER_PLACEMENT] - where the
servers' CPU goes under the service benchmark (bench/service/run.sh with
PERF=1, docs/bench/service.md): each sample of `perf script` (dwarf call
graphs) is given to the first part of the request path found walking its
stack from the thread's root, and the table prints each part's share and,
given the servers' CPU ms per placement (run.sh's server_cpu_ms_per_placement),
its ms per placement.  The parts:

  http          libmicrohttpd and its socket calls, outside our handler
  transport     our handler glue (service/http.c, routes.c) outside the rest
  json-parse    the request body read (guest.c: jansson) into a request, freed
  json-build    the answer built and dumped (plan JSON, errors)
  metrics, log  svc_metrics_*, svc_log
  fleet-get     svc_fleet_get/put (the fleet handle's pool and lock)
  refresh-store np_fleet_refresh's store reads (sq_*/pg_* under it)
  refresh-mem   np_fleet_refresh's rebuild of summaries in memory
  engine        np_fleet_schedule's choice of a host (outside refresh/claim),
                and freeing its result
  claim-commit  the claim's transaction: its commit (fsync, WAL, checkpoint)
  claim-other   the rest of the claim (statements, ledger checks)
  release       np_fleet_release (DELETE)
  other         stacks with none of these (kernel scheduling, signals...)

A stack cut short before its root (dwarf call graphs copy 16 KiB of stack)
is given to the innermost of these it shows (claim, release, refresh).
"""
import collections
import subprocess
import sys

COMMIT = ("fdatasync", "fsync", "CommitPhase", "WalFrames", "Checkpoint", "XLogFlush",
          "PQexec", "pqWait", "pqSocket")


def inner(syms):
    """A stack cut short before its root (perf copies 16 KiB of stack: the
    kernel's fdatasync path under a commit often loses the frames above the
    claim): the part from the innermost frames we know."""
    for i, s in enumerate(syms):
        below = syms[i + 1:]
        if s in ("run_batch", "np__group_claim") or s.startswith(("sq_claim", "pg_claim")):
            if any(any(c in r for c in COMMIT) for r in below):
                return "claim-commit"
            return "claim-other"
        if s in ("sq_release", "pg_release", "np_fleet_release"):
            return "release"
        if s in ("reload_stale", "load_ledgers", "load_one", "full_scan", "np__fleet_rebuild",
                 "np__fleet_rebuild_changed"):
            if any(r.startswith(("sq_", "pg_", "sqlite3", "PQ")) for r in below):
                return "refresh-store"
            return "refresh-mem"
    return None


def part(frames):
    """frames: symbol names from the root to the leaf."""
    syms = frames
    for i, s in enumerate(syms):
        below = syms[i + 1:]
        if s.startswith("svc_metrics_"):
            return "metrics"
        if s == "svc_log":
            return "log"
        if s in ("svc_fleet_get", "svc_fleet_put"):
            return "fleet-get"
        if s in ("svc_guest_parse", "svc_guest_free"):
            return "json-parse"
        if s in ("answer_result", "svc_plan_json", "svc_plan_answer", "svc_json_from_writer",
                 "svc_json", "send_resp") or s.startswith(("svc_error", "json_")):
            return "json-build"
        if s == "np_fleet_result_free":
            return "engine"
        if s == "np_fleet_release":
            return "release"
        if s == "np_fleet_schedule":
            for j, b in enumerate(below):
                # refresh(): fleet.c's static refresh since the shared feed;
                # np__fleet_fresh: the walk's re-read of a stale host.
                if b in ("np_fleet_refresh", "refresh", "np__fleet_fresh") or \
                        b.startswith("np__fleet_re"):
                    rest = below[j + 1:]
                    if any(r.startswith(("sq_", "pg_", "sqlite3", "PQ")) for r in rest):
                        return "refresh-store"
                    return "refresh-mem"
                if b.endswith("_claim") or b.startswith("np__fleet_claim"):
                    rest = below[j + 1:]
                    if any(any(c in r for c in COMMIT) for r in rest):
                        return "claim-commit"
                    return "claim-other"
            return "engine"
    truncated = inner(syms)
    if truncated:
        return truncated
    if "handle" in syms or "completed" in syms or "first_call" in syms:
        return "transport"
    if any("microhttpd" in s for s in syms):
        return "http"
    return "other"


def samples(path):
    p = subprocess.Popen(["perf", "script", "-i", path, "-F", "comm,tid,period,ip,sym,dso"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                         errors="replace")
    frames, period = [], 0
    for line in p.stdout:
        if not line.strip():
            if frames or period:
                yield period, frames[::-1]
            frames, period = [], 0
        elif not line.startswith("\t"):
            period = int(line.split()[-1])
        else:
            f = line.split(None, 1)[1] if len(line.split(None, 1)) > 1 else ""
            sym, _, dso = f.rpartition(" (")
            if sym.startswith("[unknown]"):
                sym = dso.rstrip(")\n").rsplit("/", 1)[-1]  # the library, for "http"
            frames.append(sym.split("+")[0].strip())
    if frames:
        yield period, frames[::-1]


def main():
    cost = collections.Counter()
    for period, frames in samples(sys.argv[1]):
        cost[part(frames)] += period
    total = sum(cost.values()) or 1
    ms = float(sys.argv[2]) if len(sys.argv) > 2 else None
    print("| part | share | CPU ms per placement |" if ms else "| part | share |")
    print("|---|---|---|" if ms else "|---|---|")
    for k, v in cost.most_common():
        line = "| %s | %.1f %% |" % (k, 100.0 * v / total)
        if ms:
            line += " %.3f |" % (ms * v / total)
        print(line)


if __name__ == "__main__":
    main()
