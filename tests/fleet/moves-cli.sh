#!/usr/bin/env bash
# tests/fleet/moves-cli.sh KIND - `numaplace schedule --allow-moves N` on a
# real store (KIND sqlite: a file; postgresql: a server this script
# starts).  The host is the simulator's make-room case filled by schedule
# (A and B on node 0, C and E on node 1); D fits only after E's 2 GiB move.
# Without --allow-moves nothing fits; the dry run claims nothing; the plan
# lists the same moves as `place --allow-moves` on a state file holding the
# same claims, and `apply --dry-run --plan` takes it; `fleet check` passes;
# the budgets are honoured (a move search out of time says so) and go
# only with --allow-moves.
. "$(dirname "$0")/lib.sh"
kind=$1
fleet_store "$kind"
H=$NP_SRC/tests/data/json/make-room-2n.json
st=$TMP/room.state
f() { echo "vcpus=$1,ram=$2,hw:cpu_policy=dedicated"; }
json_ok() {
  if python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($1) else 1)" \
      "$TMP/out" 2>/dev/null; then ok "$2"; else not_ok "$2: ($1) is false"; fi
}
snapshot() { "$NUMAPLACE" fleet show --store "$STORE" --format json >"$TMP/$1" 2>&1; }

run fleet add --store "$STORE" --name h1 --host "$H"; expect_rc 0 "add the host"
for g in "A 4 8192 pack" "B 2 4096 pack" "C 4 8192 spread" "E 2 2048 spread"; do
  set -- $g
  run schedule --store "$STORE" --id "$1" --flavor "$(f "$2" "$3")" --strategy "$4" --no-demand; expect_rc 0 "schedule $1"
  run claim --state "$st" --id "$1" --host "$H" --flavor "$(f "$2" "$3")" --strategy "$4" --no-demand; expect_rc 0 "claim $1 in a state file too"
done
D=(--store "$STORE" --id D --flavor "$(f 4 8192)" --no-demand)

snapshot before.json
run schedule "${D[@]}"; expect_rc 1 "D fits nowhere as it is"
run schedule "${D[@]}" --allow-moves 1 --dry-run --format json; expect_rc 0 "a dry run finds room"
json_ok "d['dry_run'] and [m['guest'] for m in d['plan']['moves']] == ['E']" "... moving E"
run schedule "${D[@]}" --move-budget 5; expect_rc 2 "--move-budget without --allow-moves"
expect_err "go with --allow-moves" "says so"
run schedule "${D[@]}" --allow-moves 1 --move-time-budget 0.001; expect_rc 1 "a move search out of time places nothing"
run schedule "${D[@]}" --allow-moves 17; expect_rc 2 "--allow-moves over 16"
snapshot after.json
cmp -s "$TMP/before.json" "$TMP/after.json" && ok "nothing claimed so far" || not_ok "the store changed"

run schedule "${D[@]}" --allow-moves 1; expect_rc 0 "D placed with one move"
expect_out "^'D' -> h1" "on h1"
expect_out "move first: guest 'E' cell 0 from node 1 to node 0 \(2 GiB to migrate\)" "the move, as place prints it"
expect_out "moves: 1, 2 GiB to migrate in all \(the cheapest, proven\)" "proven cheapest"
run fleet check --store "$STORE"; expect_rc 0 "fleet check passes after the move"
run fleet show --store "$STORE"
expect_out "^  E: node 0:" "the store has E on node 0"; expect_out "^  D: node 1:" "and D on node 1"
run schedule "${D[@]}" --allow-moves 1 --format json; expect_rc 0 "D again"
json_ok "d['existing'] and d['host'] == 'h1'" "is its placement"
python3 -c "import json,sys; json.dump(json.load(open(sys.argv[1]))['plan'], open(sys.argv[2], 'w'))" \
  "$TMP/out" "$TMP/plan.json"
run place --state "$st" --host "$H" --flavor "$(f 4 8192)" --allow-moves 1 --no-demand --format json
expect_rc 0 "place --allow-moves on the same claims"
if python3 -c "
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
sys.exit(0 if a['moves'] == b['moves'] and a['cells'] == b['cells'] else 1)" "$TMP/out" "$TMP/plan.json"; then
  ok "schedule's plan lists exactly the moves place lists"
else
  not_ok "schedule and place disagree: $(head -c 300 "$TMP/plan.json")"
fi
if have runtime; then
  sleep 60 & new=$!
  sleep 60 & moved=$!
  run apply --dry-run --host "$H" --plan "$TMP/plan.json" --pid "$new" --state "$st" \
    --move-guest "E=pid:$moved" --rate 200
  expect_rc 0 "apply --dry-run takes schedule's plan"
  expect_out "move 1 of 1: guest 'E' cell 0 from node 1 to node 0 \(2048 MiB\)" "the move first"
  kill "$new" "$moved" 2>/dev/null
fi
finish
