#!/usr/bin/env bash
# bench/service/ir.sh BUILD [HOSTS] [OPS] - instructions a placement of
# `numaplace serve`, counted by valgrind's callgrind (docs/bench/service.md,
# "np-cpu5"): deterministic where CPU time on this shared VM moves +-10 %
# from run to run, and the VM has no hardware counters.  One replica runs
# under `valgrind --tool=callgrind` (STORE=sqlite, the default, or
# STORE=postgresql: PostgreSQL from tests/lib/pg.sh, not under valgrind),
# HOSTS hosts (default 200) are in the store (`fleet add`), callgrind's counters are
# zeroed and CLIENTS (default 2) clients of BUILD/bench/service-loadgen run
# OPS placements each (default 200; --seed 1, a third released again), and
# the counters are dumped.  Prints the instructions (Ir) a placement (all
# the server's threads over the POSTs), in all and by part (inclusive
# counts from callgrind_annotate: a part includes what it calls, so the
# parts overlap: the rebuild is inside the refresh, malloc inside most),
# as a table and, last, one JSON line.  KEEP=1 keeps the folder
# ($TMPDIR/np-ir-*: callgrind.out, for callgrind_annotate).
# valgrind runs the server ~50x slower: the defaults take ~2 min.
# The total repeated within 0.2 % on a quiet machine, but moves +-5 % on a
# loaded one: the refresh (the 30 s full scan, change scans) and the
# claim's batch (claims per group commit) depend on timing.  The line
# "without the refresh and the claim's batch" repeats within ~1 %.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:?usage: bench/service/ir.sh BUILD [HOSTS] [OPS]}
hosts=${2:-200} ops=${3:-200}
case $build in /*) ;; *) build=$PWD/$build ;; esac
np=$build/cli/numaplace client=$build/bench/service-loadgen
[ -x "$client" ] || { echo "bench/service/ir.sh: no $client: ninja -C $build" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "bench/service/ir.sh: needs valgrind" >&2; exit 2; }
OUT=$(mktemp -d "${TMPDIR:-/tmp}/np-ir-XXXXXX")
. tests/lib/pg.sh
. bench/jobs.sh
. bench/service/hosts.sh
srv=
cleanup() {
  trap '' INT TERM
  jobs_kill; stop_tree $srv; pg_stop
  if [ "${KEEP:-0}" = 1 ]; then echo "# kept: $OUT" >&2; else rm -rf "$OUT"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

case ${STORE:-sqlite} in
  sqlite) store=sqlite:$OUT/ir.db ;;
  postgresql) pg_start; store=$(pg_createdb ir) ;;
  *) echo "bench/service/ir.sh: STORE is sqlite or postgresql" >&2; exit 2 ;;
esac
printf 'service-bench-token-0123456789\n' >"$OUT/token"; chmod 600 "$OUT/token"
host_json >"$OUT/host.json"

# The hosts go in with the CLI (`fleet add`, the library's np_fleet_add_host
# as PUT /v1/hosts calls it) before the server starts: registering them over
# HTTP under valgrind took minutes on a loaded machine (the topology's JSON).
for i in $(seq 0 $((hosts - 1))); do
  "$np" fleet add --store "$store" --name "$(printf 'host-%04d' "$i")" --host "$OUT/host.json" >/dev/null
done

# One replica under callgrind; its threads' counts summed (callgrind's
# default), the counters driven from here with callgrind_control.
valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind.out" \
  "$np" serve --store "$store" --listen 127.0.0.1:0 --token-file "$OUT/token" \
  --log /dev/null --threads 4 --timeout 120 2>"$OUT/serve.err" &
srv=$!
for _ in $(seq 1 1200); do grep -qs "serving on" "$OUT/serve.err" && break; sleep 0.1; done
addr=$(grep -o 'serving on [^ ]*' "$OUT/serve.err" | sed 's/serving on //')
[ -n "$addr" ] || { cat "$OUT/serve.err" >&2; exit 1; }
callgrind_control --zero "$srv" >/dev/null
mkdir -p "$OUT/logs"
job "$client" "$addr" --clients "${CLIENTS:-2}" --ops "$ops" --seed 1 --logdir "$OUT/logs" \
  --token-file "$OUT/token" --stats "$OUT/stats.json" >&2
callgrind_control --dump=load "$srv" >/dev/null
dump=$(ls "$OUT"/callgrind.out.* | head -n1)
callgrind_annotate --inclusive=yes --threshold=100 "$dump" >"$OUT/inclusive.txt"
callgrind_annotate --threshold=100 "$dump" >"$OUT/self.txt"

python3 - "$OUT/stats.json" "$OUT/inclusive.txt" "$OUT/self.txt" "${STORE:-sqlite}" <<'PY'
import json, re, sys
d = json.load(open(sys.argv[1]))
posts = sum(d["counts"].get(k, 0) for k in ("placed", "existing", "nofit"))

def counts(path):
    """callgrind_annotate's lines "N (P%)  FILE:FUNCTION [OBJECT]": Ir by
    function name (summed over objects: static functions of one name)."""
    out, total = {}, 0
    for line in open(path):
        m = re.match(r"\s*([\d,]+) \([\d. %]+\)\s+\S*?:(\S+)", line)
        if m:
            out[m.group(2)] = out.get(m.group(2), 0) + int(m.group(1).replace(",", ""))
        m = re.match(r"\s*([\d,]+) \([\d. %]+\)\s+PROGRAM TOTALS", line)
        if m:
            total = int(m.group(1).replace(",", ""))
    return out, total

inc, total = counts(sys.argv[2])
own, _ = counts(sys.argv[3])
g = lambda *names: sum(inc.get(n, 0) for n in names)
# The parts of docs/bench/service.md's np-cpu3 table, inclusive.
parts = [
    ("the request handler (service/http.c handle)", g("handle")),
    ("libmicrohttpd and sockets outside the handler", total - g("handle")),
    ("the body read (svc_guest_parse: jansson, Nova request)", g("svc_guest_parse")),
    ("the engine (np_place)", g("np_place")),
    ("the refresh (fleet.c refresh: change scan, reads, rebuilds)", g("refresh")),
    ("snapshots rebuilt (np__fleet_rebuild, _changed)", g("np__fleet_rebuild", "np__fleet_rebuild_changed")),
    ("summaries (np__summarize)", g("np__summarize")),
    ("the claim's batch (run_batch)", g("run_batch")),
    ("the release (np_fleet_release)", g("np_fleet_release")),
    ("the answer's JSON (svc_plan_answer)", g("svc_plan_answer")),
    ("plans written as JSON (np_plan_write: the store's copy, the answer)", g("np_plan_write")),
    ("malloc, free, calloc, realloc", g("malloc", "free", "calloc", "realloc", "cfree")),
    ("memset (self)", sum(v for k, v in own.items() if k.startswith("__memset") or k == "memset")),
    ("vfprintf and friends (self)", sum(v for k, v in own.items() if "printf" in k)),
]
print("# %s, %d POSTs (%s); Ir a placement, inclusive" % (sys.argv[4], posts, d["counts"]))
print("| part | Ir a placement | share |")
print("|---|---|---|")
print("| all the server's threads | %d | 100 %% |" % (total / max(1, posts)))
# The refresh (periodic full scans, change scans) and the claim's batch
# (claims per group commit) depend on timing: under valgrind on a loaded
# machine they move the total by +-5 %; the rest repeats within ~1 %.
steady = total - g("refresh") - g("run_batch")
print("| without the refresh and the claim's batch (timing-driven) | %d | %.1f %% |" %
      (steady / max(1, posts), 100.0 * steady / max(1, total)))
for name, v in parts:
    print("| %s | %d | %.1f %% |" % (name, v / max(1, posts), 100.0 * v / max(1, total)))
# (callgrind_annotate lists the threads' roots, active at the dump, as self too.)
top = sorted(((k, v) for k, v in own.items() if k not in ("clone", "start_thread")),
             key=lambda kv: -kv[1])[:15]
print("# top functions (self): " + ", ".join("%s %.1f%%" % (k, 100.0 * v / max(1, total)) for k, v in top))
print(json.dumps({"store": sys.argv[4], "posts": posts, "ir_per_placement": round(total / max(1, posts)),
                  "ir_per_placement_steady": round(steady / max(1, posts)),
                  "parts": {n: round(v / max(1, posts)) for n, v in parts}}))
PY
