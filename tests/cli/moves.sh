#!/usr/bin/env bash
# tests/cli/moves.sh - making room: `place --allow-moves N` proposes the
# cheapest moves of claimed guests' cells after which a guest fits and
# lists them; --keep protects a claim; `claim --allow-moves` records the
# moved claims with the new one; `apply --plan` carries the moves out
# first (dry run here: the real migration is the runtime suite's).
# The host is the simulator's make-room (tests/data/json/make-room-2n.json).
. "$(dirname "$0")/lib.sh"

H="$NP_SRC/tests/data/json/make-room-2n.json"
st="$TMP/state.json"
f() { echo "vcpus=$1,ram=$2,hw:cpu_policy=dedicated"; }

# Node 0: A (4 CPUs, 8 GiB) and B (2, 4 GiB); node 1: C (4, 8 GiB) and E (2, 2 GiB).
# Arranged by strategy alone: without --no-demand, room for more guests
# like A and B (the demand, placement.md 4 term 6) would put B on node 1.
run claim --state "$st" --id A --host "$H" --flavor "$(f 4 8192)" --strategy pack --no-demand; expect_rc 0 "claim A"
run claim --state "$st" --id B --host "$H" --flavor "$(f 2 4096)" --strategy pack --no-demand; expect_rc 0 "claim B"
run claim --state "$st" --id C --host "$H" --flavor "$(f 4 8192)" --no-demand; expect_rc 0 "claim C"
run claim --state "$st" --id E --host "$H" --flavor "$(f 2 2048)" --no-demand; expect_rc 0 "claim E"
run state show --state "$st" --host "$H"
expect_out "^  A +node 0:" "A on node 0"; expect_out "^  B +node 0:" "B on node 0"
expect_out "^  C +node 1:" "C on node 1"; expect_out "^  E +node 1:" "E on node 1"
cp "$st" "$TMP/before.json"
D=(--state "$st" --host "$H" --flavor "$(f 4 8192)")

# D (4 CPUs, 8 GiB) fits nowhere as it is.
run place "${D[@]}";               expect_rc 1 "D does not fit without moves"
run place "${D[@]}" --allow-moves 0; expect_rc 1 "nor with --allow-moves 0"

# One move: E's 2 GiB to node 0 is cheaper than B's 4 GiB.
run place "${D[@]}" --allow-moves 1; expect_rc 0 "D fits with one move"
expect_out "-> node 1" "D goes to node 1"
expect_out "move first: guest 'E' cell 0 from node 1 to node 0 \(2 GiB to migrate\)" "the move, sized in GiB"
expect_out "moves: 1, 2 GiB to migrate in all \(the cheapest, proven\)" "the total, proven cheapest"
run place "${D[@]}" --allow-moves 1 --format json; expect_rc 0 "json plan"
json_ok "d['fits'] and d['moves_exact'] and [(m['guest'], m['from'], m['to'], m['memory_mb']) for m in d['moves']] == [('E', 1, 0, 2048)]" "the plan lists E's move"
cp "$TMP/out" "$TMP/plan.json"
if cmp -s "$st" "$TMP/before.json"; then ok "place changes no state"; else not_ok "place changes no state"; fi

# --keep E: B's 4 GiB moves instead; keeping both, nothing helps.
run place "${D[@]}" --allow-moves 1 --keep E --format json; expect_rc 0 "with --keep E"
json_ok "[(m['guest'], m['from'], m['to'], m['memory_mb']) for m in d['moves']] == [('B', 0, 1, 4096)] and d['cells'][0]['node'] == 0" "B moves to node 1 and D takes node 0"
run place "${D[@]}" --allow-moves 1 --keep E --keep B; expect_rc 1 "keeping E and B: no move helps"

# Formats that configure a tool cannot say that others move first.
run place "${D[@]}" --allow-moves 1 --format libvirt; expect_rc 0 "libvirt format"
expect_err "move" "a note says the moves are not in it"

# Usage.
run place --host "$H" --flavor "$(f 4 8192)" --allow-moves 1; expect_rc 2 "--allow-moves needs --state"
expect_one_line_err "--allow-moves without --state"
run place "${D[@]}" --keep E;       expect_rc 2 "--keep without --allow-moves"
run place "${D[@]}" --allow-moves 1 --keep nobody; expect_rc 2 "--keep of no claim"
expect_err "--keep nobody: no such claim" "names it"
run place "${D[@]}" --allow-moves -1; expect_rc 2 "a negative --allow-moves"
run place --help;                   expect_rc 0 "place --help"; expect_out "--allow-moves N" "documents --allow-moves"

# claim --allow-moves: D and E's new plan in one commit.
run claim "${D[@]}" --id D --allow-moves 1; expect_rc 0 "claim D with a move"
run state show --state "$st" --host "$H"; expect_rc 0 "state show"
expect_out "^  E +node 0:" "E recorded on node 0"; expect_out "^  D +node 1:" "D on node 1"
expect_out "5 claims" "five claims"
run claim "${D[@]}" --id D --allow-moves 1; expect_rc 0 "claiming D again"; expect_err "already claimed" "is idempotent"

# apply --plan: the moves first (dry run), each moved guest reached by --move-guest.
if have runtime; then
  sleep infinity & new=$!  # both alive until killed below or by the exit trap
  sleep infinity & moved=$!
  trap 'kill $new $moved 2>/dev/null; rm -rf "$TMP"' EXIT
  run apply --dry-run --host "$H" --plan "$TMP/plan.json" --pid "$new" --state "$TMP/before.json" \
    --move-guest "E=pid:$moved" --rate 200
  expect_rc 0 "apply --dry-run of a plan with a move"
  expect_out "move 1 of 1: guest 'E' cell 0 from node 1 to node 0 \(2048 MiB\)" "the move first"
  expect_out "thread $moved .*-> 0-7" "E's thread onto node 0's CPUs"
  expect_out "memory: move what is on node 1 to node 0" "E's memory follows"
  expect_out "thread $new .*-> 8-15" "then the new guest on node 1"
  run apply --dry-run --host "$H" --plan "$TMP/plan.json" --pid "$new" --state "$TMP/before.json"
  expect_rc 2 "a moved guest with no --move-guest"; expect_err "--move-guest 'E=pid:N'" "says how"
  run apply --dry-run --host "$H" --plan "$TMP/plan.json" --pid "$new"
  expect_rc 2 "a plan with moves needs --state"
  run apply --dry-run --host "$H" --plan "$TMP/plan.json" --pid "$new" --state "$TMP/before.json" \
    --move-guest "E=pid:zero"
  expect_rc 2 "a bad --move-guest"
  # A pid in a loose spelling is refused too (it went through strtol).
  for p in " $moved" "+ $moved" "$moved " "0x10"; do
    run apply --dry-run --host "$H" --plan "$TMP/plan.json" --pid "$new" --state "$TMP/before.json" \
      --move-guest "E=pid:$p"
    expect_rc 2 "--move-guest 'E=pid:$p'"; expect_err "expected ID=pid:N" "says what it takes"
  done
  kill "$new" "$moved" 2>/dev/null
fi
finish
