#!/usr/bin/env bash
# tests/cli/budgets.sh - the searches' budgets are the caller's: --max-steps
# and --time-budget (the engine, docs/policies/placement.md 9) on place
# and claim, --move-budget and --move-time-budget (the moves search, 14).
# Over a budget the answer is the best so far and says so: exact false with
# a proven gap, or moves "not proven" / "the search budget ran out".  No
# timing is asserted: a step budget of 1 and a time budget of 1 us on an
# 8-node host with an 8-cell guest run out on any machine.
. "$(dirname "$0")/lib.sh"
H=$NP_SRC/tests/data/json/64amd64-4s2n4ca2co.json
R=$NP_SRC/tests/data/json/make-room-2n.json
G=(--host "$H" --flavor 'vcpus=16,ram=16384,hw:numa_nodes=8' --format json)
# Cut short, the plan states its gap: 0 with gap_term "none" when the
# bound proves the answer optimal anyway (the max-distance bound of
# placement.md 9 often does here), else > 0 in a named term.
exact() {
  json_ok "d['fits'] and d['score']['exact'] == $1 and ($1 or (d['score']['gap'] > 0) == (d['score']['gap_term'] != 'none'))" "$2"
}

run place "${G[@]}"; expect_rc 0 "8 cells on 8 nodes"; exact True "no budget: exact"
run place "${G[@]}" --max-steps 1; expect_rc 0 "a step budget of 1: still a plan"
exact False "exact false, with the gap it may have"
run place "${G[@]}" --max-steps 100000; expect_rc 0 "a budget it does not reach"; exact True "exact"
run place "${G[@]}" --time-budget 0.001; expect_rc 0 "a time budget of 1 us: still a plan"
exact False "exact false"
run place --host "$H" --flavor "vcpus=16,ram=16384,hw:numa_nodes=8" --max-steps 1 --verbose; expect_rc 0 "text with --verbose"
expect_out "search: bounded \(budget ran out\), (at most [0-9]+ above the optimum|proven optimal on every term)" "the text says the search was cut short, and by how much at most"
run claim --state "$TMP/s.json" --id big "${G[@]}" --max-steps 1; expect_rc 0 "claim takes the budget"
exact False "the claimed plan says exact false"
run place "${G[@]}" --time-budget 0; expect_rc 2 "a time budget of 0"
run place "${G[@]}" --max-steps 0; expect_rc 2 "a step budget of 0"

# The moves search: D fits after E's move (tests/cli/moves.sh's claims).
st=$TMP/room.json
f() { echo "vcpus=$1,ram=$2,hw:cpu_policy=dedicated"; }
for g in "A 4 8192 pack" "B 2 4096 pack" "C 4 8192 spread" "E 2 2048 spread"; do
  set -- $g
  run claim --state "$st" --id "$1" --host "$R" --flavor "$(f "$2" "$3")" --strategy "$4" --no-demand
  expect_rc 0 "claim $1"
done
D=(--state "$st" --host "$R" --flavor "$(f 4 8192)" --allow-moves 2 --no-demand)
run place "${D[@]}" --format json; expect_rc 0 "D with moves"
json_ok "d['moves_exact'] and [m['guest'] for m in d['moves']] == ['E']" "E moves, proven cheapest"
run place "${D[@]}" --move-time-budget 0.001; expect_rc 1 "a moves search out of time finds nothing"
expect_out "the search budget ran out" "and says why"
run place "${D[@]}" --move-budget 1 --format json; expect_rc 0 "a budget of one set: E's move is the first"
run place --state "$st" --host "$R" --flavor "$(f 4 8192)" --move-time-budget 5
expect_rc 2 "--move-time-budget without --allow-moves"; expect_err "go with --allow-moves" "says so"
finish
