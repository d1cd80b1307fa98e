#!/usr/bin/env bash
# tests/cli/gap-report.sh - bench/gap-report, where a placer falls short of
# the optimum: the per-family table docs/results.md prints (twelfth
# session) comes out of the repo's JSON as written there; and on three
# workloads of bench/objective-tune's own cache the optimum it solves is
# at least what the placer admitted on each, the workloads it counts
# short add up to three, and a second report reads the kept optima
# (same output, none solved again).  Skips (77) without python3-nova or
# glpsol.
. "$(dirname "$0")/lib.sh"
/usr/bin/python3 -c 'import nova' 2>/dev/null || { echo "skip: no python3-nova"; exit 77; }
command -v glpsol >/dev/null || { echo "skip: no glpsol (glpk-utils)"; exit 77; }
: "${NP_BUILD:?NP_BUILD must name the build}"
G="$NP_SRC/bench/gap-report"

# The command of docs/results.md, as written there (from the repo's top).
if out=$(cd "$NP_SRC" && /usr/bin/python3 bench/gap-report \
           --summary docs/results/quality-heldout.summary.json \
           --key runs.heldout.result --variant 2 docs/results/lookahead-rolldepth.json); then
  ok "--summary runs"
else not_ok "--summary"; finish; fi
grep -qF '| **all** | 1500 | 18917 | 17726 | 93.70 | 1191 |' <<<"$out" &&
  ok "the held-out total docs/results.md prints" || not_ok "held-out total: $(tail -1 <<<"$out")"
grep -qF '| churn | 100 | 1973 | 1563 | 79.2 | 410 |' <<<"$out" &&
  [ "$(sed -n 3p <<<"$out" | cut -d'|' -f2)" = " churn " ] &&
  ok "churn first, 410 guests short" || not_ok "churn row: $(sed -n 3p <<<"$out")"

if /usr/bin/python3 "$NP_SRC/bench/objective-tune" --build "$NP_BUILD" --seeds tune --seqs 3 \
     --families large2 --cache "$TMP/cache" --json "$TMP/run.json" "" >"$TMP/tune.out" 2>"$TMP/err"
then ok "objective-tune on three workloads"
else not_ok "objective-tune: $(tail -c 400 "$TMP/err")"; finish; fi
report() {
  /usr/bin/python3 "$G" --cache "$TMP/cache" --seeds tune --seqs 3 --family large2 \
    --opt "$TMP/opt.json" "$TMP/run.json"
}
if out=$(report 2>"$TMP/err"); then ok "the per-workload report runs"
else not_ok "report: $(tail -c 400 "$TMP/err")"; finish; fi
if python3 -c 'import json, sys
opt = json.load(open(sys.argv[1]))
got = json.load(open(sys.argv[2]))["families"]["large2"]["variants"][0]
sys.exit(0 if len(opt) == 3 and all(o["opt"] >= g for o, g in zip(opt, got)) else 1)' \
  "$TMP/opt.json" "$TMP/run.json"; then
  ok "every optimum at least what the placer admitted"
else not_ok "optima: $(cat "$TMP/opt.json")"; fi
short=$(sed -n 's/^workloads short by 0, 1, 2, ... guests: //p' <<<"$out")
n=0
for x in $(tr ',' '\n' <<<"$short" | cut -d: -f2); do n=$((n + x)); done
[ -n "$short" ] && [ "$n" -eq 3 ] &&
  ok "the workloads counted short add up to three" || not_ok "short: '$short'"
touch -d '1 hour ago' "$TMP/opt.json"
if [ "$(report 2>/dev/null)" = "$out" ] && [ "$(find "$TMP/opt.json" -mmin +30)" ]; then
  ok "a second report reads the kept optima"
else not_ok "second report"; fi
finish
