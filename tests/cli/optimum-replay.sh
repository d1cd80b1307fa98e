#!/usr/bin/env bash
# tests/cli/optimum-replay.sh - the optimum of bench/quality is the optimum
# of the game the placers play, on two hand-made churn workloads whose
# optima are known: a host of two 4-CPU nodes, five dedicated one-cell
# guests of 2, 2, 2, 4 and 2 CPUs.  In A guest 1 leaves before guest 3
# (4 CPUs: a whole node) arrives: the optimum puts guests 0 and 2 on one
# node and 1 on the other, which 1's leaving empties for 3; guest 4 finds
# no room (10 CPUs present on 8), so 4.  In B guest 1 leaves just after 3
# arrives: 6 CPUs on two 4-CPU nodes leave no whole node, so 3.  A model
# that freed a guest's room at the wrong event, or counted capacity
# otherwise than the play, gets another number.  bench/optimum-replay
# then plays the solver's assignments through np-bench play, and np-bench
# play itself must refuse an assignment that over-fills a node (the
# replay's answers name nodes only).  Skips (77) without python3-nova or
# glpsol.
. "$(dirname "$0")/lib.sh"
/usr/bin/python3 -c 'import nova' 2>/dev/null || { echo "skip: no python3-nova"; exit 77; }
command -v glpsol >/dev/null || { echo "skip: no glpsol (glpk-utils)"; exit 77; }
: "${NP_BUILD:?NP_BUILD must name the build}"

host='{"cells": [{"id": 0, "cpus": [0, 1, 2, 3], "memory_mb": 8192, "socket": 0},
  {"id": 1, "cpus": [4, 5, 6, 7], "memory_mb": 8192, "socket": 0}],
  "distances": [[10, 20], [20, 10]]}'
g() { echo "{\"vcpus\": $1, \"memory_mb\": $(($1 * 1024)), \"extra_specs\":
  {\"hw:cpu_policy\": \"dedicated\", \"hw:numa_nodes\": \"1\"}}"; }
reqs="[$(g 2), $(g 2), $(g 2), $(g 4), $(g 2)]"
case_of() { # the events
  echo "{\"host\": $host, \"cpu_allocation_ratio\": 16.0, \"ram_allocation_ratio\": 1.0,
  \"requests\": $reqs, \"events\": $1}" | python3 -c 'import json, sys; print(json.dumps(json.load(sys.stdin)))'
}
A='[{"arrive": 0}, {"arrive": 1}, {"arrive": 2}, {"depart": 1}, {"arrive": 3}, {"arrive": 4}]'
B='[{"arrive": 0}, {"arrive": 1}, {"arrive": 2}, {"arrive": 3}, {"depart": 1}, {"arrive": 4}]'
{ case_of "$A"; case_of "$B"; } >"$TMP/cases.jsonl"

if /usr/bin/python3 "$NP_SRC/bench/optimum-replay" --build "$NP_BUILD" \
     --workloads "$TMP/cases.jsonl" --json "$TMP/r.json" >"$TMP/out" 2>"$TMP/err"; then
  ok "the optimum's assignments carried out by the play"
else
  not_ok "optimum-replay: $(cat "$TMP/out") $(tail -c 400 "$TMP/err")"; finish
fi
if python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
sys.exit(0 if [(x["opt"], x["proven"], x["replayed"]) for x in r] == [(4, True, 4), (3, True, 3)]
         else 1)' "$TMP/r.json"; then
  ok "optima 4 (leaving before the whole-node guest) and 3 (leaving after it), proven"
else not_ok "optima: $(cat "$TMP/r.json")"; fi
grep -qF '2 workloads replayed, 2 carried out in full, 0 not; optimum 7 guests (2 proven), the play carried out 7' \
  "$TMP/out" && ok "the summary line" || not_ok "summary: $(cat "$TMP/out")"

# Node-only answers through np-bench play: the optimum's assignment of A
# (0, 2 on node 0; 1, then 3 on node 1) is carried out; the same with 2 on
# node 1 leaves 2 CPUs there for guest 3 (4): refused after three guests.
cell() { echo "{\"host_cell\": $1}"; }
answers() { # the nodes of guests 0..3
  local d="" n
  for n in "$@"; do d="$d{\"fits\": true, \"us\": 0, \"cells\": [$(cell "$n")]}, "; done
  d="[$d{\"fits\": false, \"us\": 0}]"
  echo "{\"spread\": $d, \"pack\": $d}"
}
head -1 "$TMP/cases.jsonl" >"$TMP/a.jsonl"
play() { # admitted by the replayed answers on A
  "$NP_BUILD/bench/np-bench" play "$TMP/a.jsonl" --nova "$TMP/ans.jsonl" --only nova-spread |
    python3 -c 'import json, sys; v = json.load(sys.stdin)["placers"]["nova-spread"]
print(v["admitted"], v["refused"], v["invalid"] or "-")'
}
answers 0 1 0 1 >"$TMP/ans.jsonl"
[ "$(play)" = "4 True -" ] && ok "np-bench play carries out node-only answers" ||
  not_ok "good answers: $(play)"
answers 0 1 1 1 >"$TMP/ans.jsonl"
[ "$(play)" = "3 True -" ] && ok "and refuses one that over-fills a node" ||
  not_ok "over-full answers: $(play)"
finish
