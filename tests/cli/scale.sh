#!/usr/bin/env bash
# tests/cli/scale.sh - the scale benchmark's harness works: bench/scale on a
# 128-node ring and torus (1, 4 and 8 cells), exact and bounded (a 2 ms
# budget), without the fixture.  Asserts nothing about time (that is
# measured, docs/results.md "Scale"), only that every plan passed the
# validator, that a bounded plan's proven lower bound on max distance is
# never above its max distance nor above what the exact search found when
# it finished, and that the bounded plans state their gap.
. "$(dirname "$0")/lib.sh"
: "${NP_BUILD:?NP_BUILD must name the build}"

if /usr/bin/python3 "$NP_SRC/bench/scale" --build "$NP_BUILD" --nodes 128 --dist ring,mesh \
     --cells 1,4,8 --no-fixture --calls 1 --budget-us 2000 --json "$TMP/s.json" \
     >"$TMP/out" 2>"$TMP/err"; then
  ok "bench/scale runs"
else
  not_ok "bench/scale: $(tail -c 600 "$TMP/err")"; finish
fi

check() { # check WHAT PYTHON-EXPRESSION over the rows R of the JSON document
  if python3 -c 'import json, sys
R = json.load(open(sys.argv[1]))["rows"]
sys.exit(0 if eval(sys.argv[2]) else 1)' "$TMP/s.json" "$2"; then ok "$1"; else not_ok "$1"; fi
}
check "six cases, each exact and bounded" \
  'len(R) == 6 and all(r["exact"] and r["bounded"] for r in R)'
check "every plan fits and is valid" \
  'all(r[m]["fits"] and not r[m]["invalid"] for r in R for m in ("exact", "bounded"))'
check "the proven bound is at most the plan's max distance" \
  'all(r[m]["best_max_distance"] <= r[m]["max_distance"] for r in R for m in ("exact", "bounded"))'
check "the proven bound is at most the optimum the exact search found" \
  'all(r["bounded"]["best_max_distance"] <= r["exact"]["max_distance"] for r in R if r["exact"]["exact"])'
check "a bounded plan is exact or states its gap" \
  'all(r["bounded"]["exact"] or r["bounded"]["gap_term"] != "unknown" for r in R)'
if grep -q '^load average' "$TMP/out" && grep -q '^| ring-128 | 128 | 8 |' "$TMP/out"; then
  ok "the table and the load average are printed"
else
  not_ok "the table: $(head -c 600 "$TMP/out")"
fi
finish
