#!/usr/bin/env bash
# tests/cli/quality.sh - the quality benchmark's harness works: bench/quality
# --quick on every family (4 workloads each) with numaplace, Nova's real
# code, the baselines and the optimum, without giving the solver the
# placers' results (--no-hint), so that "no placer beats a proven optimum"
# is a real check of the model; --check re-derives small optima by an
# independent search; bench/plot draws the result.  Asserts nothing about
# who wins (that is measured, docs/results.md), only that every answer of
# numaplace and of the baselines passed the validator and that the numbers
# hang together; np-moves (which may move guests) is left out of the
# checks against the optimum without moves.  Skips (77) without
# python3-nova or glpsol.
. "$(dirname "$0")/lib.sh"
/usr/bin/python3 -c 'import nova' 2>/dev/null || { echo "skip: no python3-nova"; exit 77; }
command -v glpsol >/dev/null || { echo "skip: no glpsol (glpk-utils)"; exit 77; }
: "${NP_BUILD:?NP_BUILD must name the build}"

if /usr/bin/python3 "$NP_SRC/bench/quality" --quick --no-hint --check --build "$NP_BUILD" \
     --json "$TMP/q.json" --md "$TMP/q.md" >"$TMP/out" 2>"$TMP/err"; then
  ok "bench/quality --quick runs"
else
  not_ok "bench/quality --quick: $(tail -c 600 "$TMP/err")"; finish
fi

check() { # check WHAT PYTHON-EXPRESSION over the JSON document d
  if python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
S = d["summary"]; Q = [r for rows in d["sequences"].values() for r in rows]
sys.exit(0 if eval(sys.argv[2]) else 1)' "$TMP/q.json" "$2"; then ok "$1"; else not_ok "$1"; fi
}
check "at least eight families" 'len(S) >= 8 and all(s["sequences"] == 4 for s in S)'
check "every placer on every family (np-flavors: the family's catalogue)" 'all(len(s["placers"]) == 10 and "np-flavors" in s["placers"] for s in S)'
check "numaplace and the baselines: every plan valid" \
  'all(s["placers"][p]["invalid"] == 0 for s in S for p in s["placers"] if not p.startswith("nova"))'
# np-moves may move guests: the optimum without moves does not bound it.
check "no placer beats a proven optimum" \
  'all(v["admitted"] <= r["opt"] for r in Q if r["proven"] for p, v in r["placers"].items() if not v["invalid"] and p != "np-moves")'
check "no placer beats the solver's bound" \
  'all(v["admitted"] <= r["bound"] for r in Q for p, v in r["placers"].items() if not v["invalid"] and p != "np-moves")'
check "only np-moves moves guests, and it did somewhere" \
  'all(s["placers"][p]["moves_per_admitted"] == 0 for s in S for p in s["placers"] if p != "np-moves") and sum(s["placers"]["np-moves"]["moves_per_admitted"] for s in S) > 0'
check "most optima proven" 'sum(r["proven"] for r in Q) >= 0.8 * len(Q)'
check "times per decision measured" \
  'all(s["placers"][p]["us_median"] > 0 for s in S for p in s["placers"])'
check "churn has departures and multi-cell guests are scored" \
  'any(s["family"] == "churn" for s in S) and sum(s["placers"]["np-spread"]["multi"] for s in S) > 0'
grep -q "all agree" "$TMP/q.md" && ok "optima re-derived by the independent search" || not_ok "--check"

if python3 "$NP_SRC/bench/plot" "$TMP/q.json" "$TMP/plots" && [ "$(ls "$TMP/plots"/*.svg | wc -l)" -eq 4 ]; then
  ok "bench/plot draws four SVGs"
  if command -v xmllint >/dev/null; then
    xmllint --noout "$TMP/plots"/*.svg 2>/dev/null && ok "SVGs are well-formed" || not_ok "SVG XML"
  fi
else not_ok "bench/plot"; fi
# --moves: np-moves of a run against numaplace spread, one bar each per family.
if python3 "$NP_SRC/bench/plot" "$TMP/q.json" "$TMP/plots" --moves "$TMP/q.json" &&
   [ "$(ls "$TMP/plots"/*.svg | wc -l)" -eq 5 ] &&
   [ "$(grep -c '<rect x=.*np, at most 1 move per arrival: ' "$TMP/plots/quality-moves.svg")" -eq \
     "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["summary"]))' "$TMP/q.json")" ]; then
  ok "bench/plot --moves draws np-moves per family"
else not_ok "bench/plot --moves"; fi
finish
